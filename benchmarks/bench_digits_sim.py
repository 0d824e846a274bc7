"""The digits preset on the simulator's server path: how fast it trains and how long it takes
to pass 0.95 test accuracy, frames going out (and acknowledged) as the page receives them.

Starts ``deltaflow serve`` in a child process (``bench_server.start_server``), opens one
socket, sends the ``digits`` preset's config and grid from ``hello``, and plays it for each
speed in ``--speeds`` (steps per frame: 20 is the page's default, 0 as fast as the CPU
allows), from a fresh network each time (``reset``):

    steps/s          steps trained / wall time, from the frames' step counter
    s to 0.95        wall time from ``play`` to the first frame whose test accuracy is ≥ 0.95
                     (the whole-set metrics are measured every 0.1 s while playing), and that
                     frame's step
    s to N steps     wall time to the first frame at or past the preset's N = DIGITS_STEPS
    accuracy         the test accuracy of the paused run at the end (past both marks)

Usage: python benchmarks/bench_digits_sim.py [--speeds 20 0] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_server import Client, start_server  # noqa: E402 (a sibling script, not a package module)

from deltaflow.web.frames import RUNNING  # noqa: E402
from deltaflow.web.presets import DIGITS_STEPS  # noqa: E402

TARGET = 0.95


async def play_once(c: Client, steps_per_frame: int) -> dict:
    """Reset, set the speed, play until a frame shows test accuracy ≥ TARGET and one is at or
    past DIGITS_STEPS; then pause and read the accuracy of the network the run stopped with."""
    await c.send(type="pause")
    await c.send(type="reset")
    await c.send(type="speed", steps_per_frame=steps_per_frame)
    await c.next_frame()
    t0 = time.perf_counter()
    await c.send(type="play")
    reached = at_steps = None
    while reached is None or at_steps is None:
        f, _ = await c.next_frame()
        now = time.perf_counter() - t0
        if reached is None and f["metrics"]["test_metric"] >= TARGET:
            reached = (now, f["step"])
        if at_steps is None and f["step"] >= DIGITS_STEPS:
            at_steps = now
        if f["step"] > 20 * DIGITS_STEPS:
            raise SystemExit(f"no frame showed test accuracy ≥ {TARGET} in {f['step']} steps")
    await c.send(type="pause")
    while (f := (await c.next_frame())[0])["flags"] & RUNNING:  # paused, a frame measures what it shows
        pass
    return {"steps_per_s": f["step"] / (time.perf_counter() - t0), "s_to_target": reached[0],
            "step_at_target": reached[1], "s_to_steps": at_steps, "step": f["step"],
            "test_accuracy": float(f["metrics"]["test_metric"])}


async def measure(url: str, speeds: list[int], repeats: int) -> list[dict]:
    c = await Client.open(url)
    try:
        preset = next(p for p in c.hello["presets"] if p["name"] == "digits")
        await c.configure(preset["config"], preset["grid"])
        rows = []
        for speed in speeds:
            runs = [await play_once(c, speed) for _ in range(repeats)]
            rows.append({"steps_per_frame": speed, "grid": preset["grid"], "runs": runs,
                         **{f"median_{k}": statistics.median(r[k] for r in runs)
                            for k in ("steps_per_s", "s_to_target", "s_to_steps")}})
        return rows
    finally:
        await c.ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeds", type=int, nargs="+", default=[20, 0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server, port = start_server()
    try:
        rows = asyncio.run(measure(f"ws://127.0.0.1:{port}/ws", args.speeds, args.repeats))
    finally:
        server.terminate()
        server.wait(timeout=10)
    for r in rows:
        print(f"steps/frame {r['steps_per_frame']:>2}: {r['median_steps_per_s']:,.0f} steps/s, "
              f"{r['median_s_to_target']:.2f} s to test accuracy ≥ {TARGET} "
              f"(steps {[run['step_at_target'] for run in r['runs']]}), "
              f"{r['median_s_to_steps']:.2f} s to {DIGITS_STEPS} steps "
              f"(then paused at steps {[run['step'] for run in r['runs']]}: test accuracy "
              f"{[round(run['test_accuracy'], 4) for run in r['runs']]})")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
