"""The simulator page in headless Chromium: frames drawn per second, main-thread long tasks, the
JS heap over time, and how soon the opening run converges.

Starts ``deltaflow serve`` in a child process (as ``bench_server`` does) and opens the page at
1440×900 in Debian's Chromium (``/usr/bin/chromium``) through Playwright. Measured:

    opening run   seconds from pressing play on the default run to a shown test accuracy of
                  at least 90%, at the default speed
    frames/s      frames the page drew (``app.drawn``) per second while playing, median of
                  one-second windows over ``--seconds``, for the default network and each
                  20-layer preset
    long tasks    the share of the measured wall time spent in main-thread tasks over 50 ms
                  (PerformanceObserver ``longtask``)
    heap          ``performance.memory.usedJSHeapSize`` after a forced garbage collection,
                  every minute for ``--minutes`` while the default run plays (first → last, MiB)

Usage: python benchmarks/bench_page.py [--seconds 10] [--minutes 10] [--skip-heap]
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks.bench_server import start_server
from benchmarks.machine import describe

CHROMIUM = "/usr/bin/chromium"
DEEP_PRESETS = ("vanishing_sigmoid", "deep_relu_he", "deep_sigmoid_batchnorm")
TARGET_ACCURACY = 0.90

LONG_TASKS = """() => {
  window.__long = 0;
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__long += e.duration; })
    .observe({ type: "longtask" });
}"""


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(url)
    page.wait_for_function("() => window.deltaflow && window.deltaflow.app.state && window.deltaflow.app.lastId > 0")
    page.evaluate(LONG_TASKS)
    return page


def play(page) -> None:
    if not page.evaluate("() => window.deltaflow.app.state.running"):
        page.get_by_test_id("play").click()
    page.wait_for_function("() => window.deltaflow.app.state.running")


def pause(page) -> None:
    page.evaluate("() => window.deltaflow.send({type: 'pause'})")
    page.wait_for_function("() => !window.deltaflow.app.state.running")


def drawing(page, seconds: float) -> dict:
    """Frames drawn per second (median of 1 s windows, timed by the page's own clock) and the
    long-task share, while playing."""
    page.evaluate("() => { window.__long = 0; }")
    sample = "() => [window.deltaflow.app.drawn, performance.now()]"
    marks = [page.evaluate(sample)]
    for _ in range(round(seconds)):
        page.wait_for_timeout(1000)
        marks.append(page.evaluate(sample))
    rates = [1000 * (n1 - n0) / (t1 - t0) for (n0, t0), (n1, t1) in zip(marks, marks[1:])]
    wall_ms = marks[-1][1] - marks[0][1]
    return {"fps": statistics.median(rates), "long": page.evaluate("() => window.__long") / wall_ms}


def opening_run(page) -> float:
    """Seconds from play to a shown test accuracy ≥ TARGET_ACCURACY (the default run, default speed)."""
    page.get_by_test_id("reset").click()
    page.wait_for_function("() => window.deltaflow.app.lastStep <= 0 && !window.deltaflow.app.state.running")
    t0 = time.perf_counter()
    page.get_by_test_id("play").click()
    page.wait_for_function(
        "(target) => parseFloat(document.querySelector('[data-testid=test-acc]').textContent) >= 100 * target",
        arg=TARGET_ACCURACY, timeout=120_000, polling=50)
    return time.perf_counter() - t0


def heap(page, cdp, minutes: int) -> list[float]:
    """usedJSHeapSize in MiB after a garbage collection, at the start and after each minute."""
    out = []
    for m in range(minutes + 1):
        if m:
            page.wait_for_timeout(60_000)
        cdp.send("HeapProfiler.collectGarbage")
        out.append(page.evaluate("() => performance.memory.usedJSHeapSize") / 2**20)
    return out


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of drawing measured per network")
    ap.add_argument("--minutes", type=int, default=10, help="minutes of the heap measurement")
    ap.add_argument("--skip-heap", action="store_true")
    args = ap.parse_args()
    server, port = start_server()
    url = f"http://127.0.0.1:{port}/"
    machine = describe()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--enable-precise-memory-info"])
            print(f"{machine['cpu']}, {machine['usable_cores']} cores, load {machine['load_average']}; "
                  f"Chromium {browser.version}, Python {machine['python']}, NumPy {machine['numpy']}")
            page = open_page(browser, url)
            print(f"opening run: {opening_run(page):.1f} s to {TARGET_ACCURACY:.0%} test accuracy at the default speed")
            rows = [("default", drawing(page, args.seconds))]
            pause(page)
            for name in DEEP_PRESETS:
                page.get_by_test_id(f"preset-{name}").click()
                page.wait_for_function("(n) => window.deltaflow.app.config.model.hidden.length === 20", arg=name)
                # the same config without the preset's pause at its moment, so it plays for the whole measurement
                page.evaluate("() => window.deltaflow.send({type: 'config', config: window.deltaflow.app.config})")
                page.wait_for_function("() => window.deltaflow.app.state.pause_at === null")
                play(page)
                rows.append((name, drawing(page, args.seconds)))
                pause(page)
            print(f"{'network':<24} {'frames/s':>9} {'long tasks':>11}")
            for name, r in rows:
                print(f"{name:<24} {r['fps']:>9.1f} {r['long']:>10.1%}")
            if not args.skip_heap:
                page.close()
                page = open_page(browser, url)  # the opening run again
                play(page)
                mib = heap(page, page.context.new_cdp_session(page), args.minutes)
                print(f"JS heap over {args.minutes} min of play (MiB, after GC): " + " ".join(f"{v:.1f}" for v in mib))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
