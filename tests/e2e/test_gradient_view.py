"""The per-layer gradient view and the charts: scales that keep their range while training
(widening by whole decades, refitted by "Reset scale"), layer labels 1 … L on every row,
plain words with a formula tooltip on every statistic, and a view that fits its box.

Ranges are read from what the page shows: the bars' scale ends (``grad-scale-lo``/``-hi``,
decades such as "1e-14"), the δ map's legend (``data-decade``) and each chart's y-range
(``data-y-range``, also said in its ``aria-label``).
"""

import math

from deltaflow.web.presets import PRESETS

from e2e_page import wait_config

DEEP = next(p for p in PRESETS if p["name"] == "vanishing_sigmoid")
DEEP_LAYERS = len(DEEP["config"]["model"]["hidden"]) + 1
MIN_DECADES = 4  # gradflow.js: the bars' first range spans at least this many decades

# every change of the bars' scale ends, of the δ map's and of the loss chart's y-range, as shown
WATCH = """() => {
    window.ranges = [];
    const read = () => {
        const q = (s) => document.querySelector(s);
        const d = (s) => q(s) && q(s).dataset.decade;
        window.ranges.push({bars: [q('[data-testid=grad-scale-lo]').textContent, q('[data-testid=grad-scale-hi]').textContent],
            map: [d('[data-testid=delta-scale-lo]'), d('[data-testid=delta-scale-hi]')],
            loss: q('[data-testid=loss-chart] canvas').dataset.yRange,
            g1: q('[data-testid=grad-norm-1]').dataset.value});
    };
    new MutationObserver(read).observe(document.querySelector('[data-testid=grad-bars]'), {subtree: true, childList: true, characterData: true});
}"""


def decade(text: str) -> int:
    """'1e-14' → -14, '1' → 0."""
    return 0 if text == "1" else int(text.removeprefix("1e"))


def open_deep(open_page):
    page = open_page()
    page.get_by_test_id(f"preset-{DEEP['name']}").click()
    wait_config(page, DEEP["config"])
    return page


def train_frames(page, n: int) -> list[dict]:
    """Play until the bars have been redrawn n times more, pause; the ranges seen meanwhile."""
    page.evaluate(WATCH)
    page.get_by_test_id("play").click()
    page.wait_for_function("(n) => window.ranges.length >= n", arg=n, timeout=60_000)
    # a pause message, not the play/pause toggle: the preset may pause itself at its moment meanwhile
    page.evaluate("() => window.deltaflow.send({type: 'pause'})")
    page.wait_for_function("() => !window.deltaflow.app.state.running")
    return page.evaluate("() => window.ranges")


def widen_only(pairs: list[tuple[int, int]]) -> bool:
    return all(lo1 <= lo0 and hi1 >= hi0 for (lo0, hi0), (lo1, hi1) in zip(pairs, pairs[1:]))


def test_the_scales_only_widen_while_a_vanishing_run_trains(open_page):
    page = open_deep(open_page)
    page.get_by_test_id("speed").select_option("5")
    seen = train_frames(page, 40)
    bars = [tuple(decade(t) for t in r["bars"]) for r in seen if r["bars"][0]]
    maps = [tuple(int(v) for v in r["map"]) for r in seen if r["map"][0] is not None]
    losses = [tuple(float(v) for v in r["loss"].split(",")) for r in seen if r["loss"]]
    # the first layer's gradient changed from frame to frame: the scale had something to follow
    assert len({r["g1"] for r in seen}) > 10
    assert len(bars) >= 40 and widen_only(bars), bars
    assert all(hi - lo >= MIN_DECADES for lo, hi in bars)
    assert len(maps) >= 40 and widen_only(maps), maps
    assert len(losses) >= 40 and widen_only(losses), losses
    # the loss chart on a log axis: whole decades, said in its label
    page.get_by_test_id("loss-log").check()
    canvas = page.locator("[data-testid=loss-chart] canvas")
    lo, hi = (float(v) for v in canvas.get_attribute("data-y-range").split(","))
    assert lo == int(lo) and hi == int(hi) and hi > lo
    assert "x: step" in canvas.get_attribute("aria-label") and "y: loss, log scale" in canvas.get_attribute("aria-label")


def shown_gradients(page) -> list[float]:
    return [float(page.get_by_test_id(f"grad-norm-{l}").get_attribute("data-value")) for l in range(1, DEEP_LAYERS + 1)]


def test_reset_scale_fits_the_bars_and_the_map_to_the_current_frame(open_page):
    page = open_deep(open_page)
    page.get_by_test_id("speed").select_option("20")
    train_frames(page, 10)  # the preset pauses itself at its moment, step 300: 15 frames at this speed
    page.get_by_test_id("grad-reset-scale").click()
    g = [v for v in shown_gradients(page) if v > 0 and math.isfinite(v)]
    hi = max(math.ceil(math.log10(max(g))), math.floor(math.log10(min(g))) + 1)
    lo = min(math.floor(math.log10(min(g))), hi - MIN_DECADES)
    assert (decade(page.get_by_test_id("grad-scale-lo").text_content()), decade(page.get_by_test_id("grad-scale-hi").text_content())) == (lo, hi)
    # the map fits the newest ‖δ‖ column: its ends are the decades around the values now shown
    page.get_by_test_id("gf-tab-table").click()
    d = [float(page.get_by_test_id(f"delta-norm-{l}").text_content().replace("−", "-")) for l in range(1, DEEP_LAYERS + 1)]
    d_lo, d_hi = math.floor(math.log10(min(d))), math.ceil(math.log10(max(d)))
    map_lo = int(page.get_by_test_id("delta-scale-lo").get_attribute("data-decade"))
    map_hi = int(page.get_by_test_id("delta-scale-hi").get_attribute("data-decade"))
    # the table shows 3 digits: a value on a decade's edge may round across it
    assert abs(map_hi - max(d_hi, d_lo + 1)) <= 1 and abs(map_lo - min(d_lo, map_hi - 2)) <= 1


EXPECTED_STATS = {"grad_W_norm", "delta_norm", "W_norm", "sigma_prime_mean", "saturated_pct", "dead_pct", "update_ratio", "loss", "accuracy"}


VISIBLE_STATS = """() => [...document.querySelectorAll('[data-stat]')].filter((e) => e.checkVisibility()).map((e) => ({
    key: e.dataset.stat, text: e.textContent.trim(), title: e.title, description: e.getAttribute('aria-description')}))"""


def test_every_statistic_says_what_it_is_and_has_its_formula(open_page):
    page = open_page()
    found = page.evaluate(VISIBLE_STATS)
    page.get_by_test_id("gf-tab-table").click()
    found += page.evaluate(VISIBLE_STATS)
    assert {f["key"] for f in found} >= EXPECTED_STATS
    for f in found:
        assert f["title"] and f["description"] == f["title"], f
        words, formula = f["title"].split(". ", 1)
        assert len(words.split()) >= 6, f  # a sentence, not a symbol
        assert any(c in formula for c in "=‖%Σ"), f  # and a formula
        assert len(f["text"].split()) >= 1 and f["text"] != "", f
    # the table's headers show a symbol and its words
    header = page.locator("[data-testid=grad-stats] thead th[data-stat=update_ratio]").text_content()
    assert header.startswith("update/weight") and "step size" in header


def test_rows_carry_the_layer_numbers_and_fit_a_small_box(open_page):
    page = open_deep(open_page)
    L = DEEP_LAYERS
    bars = page.locator("[data-testid=grad-bars] .gf-bar .gf-label").all_text_contents()
    assert bars == [f"W({l})" for l in range(1, L)] + [f"W({L}) · output"]
    assert page.locator(".gm-rows span").all_text_contents() == [str(l) for l in range(1, L + 1)]
    page.get_by_test_id("gf-tab-table").click()
    rows = page.locator("[data-testid=grad-stats] tbody th").all_text_contents()
    assert [r.split()[0] for r in rows] == [str(l) for l in range(1, L + 1)] and "output" in rows[-1]
    page.get_by_test_id("gf-tab-bars").click()
    for w, h in ((700, 230), (560, 200)):
        # the layout's box for the view: everything stays inside it, the rows get thinner
        page.evaluate("([w, h]) => Object.assign(document.getElementById('gradflow').style, {width: `${w}px`, height: `${h}px`, minHeight: '0', flex: 'none'})", [w, h])
        page.wait_for_function("(h) => Math.abs(document.getElementById('gradflow').getBoundingClientRect().height - h) < 1", arg=h)
        box = page.locator("#gradflow").bounding_box()
        inside = page.evaluate("""(b) => [...document.querySelectorAll('#gradflow .gf-bar, #gradflow canvas, #gradflow .gf-axis, #gradflow .delta-legend')].map((e) => {
            const r = e.getBoundingClientRect();
            return r.left >= b.x - 0.5 && r.top >= b.y - 0.5 && r.right <= b.x + b.width + 0.5 && r.bottom <= b.y + b.height + 0.5;
        })""", box)
        assert inside and all(inside), (w, h, inside)
