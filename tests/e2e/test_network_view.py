"""The network view end to end: it fits its box (the 20-layer presets included), its two tools
(the Neural Network Simulator and the Backpropagation Visualiser) with the fixed gradient
scale and ‖δ⁽ˡ⁾‖ per column, the backward pass animated, unit marks, the keyboard editor of a
neuron's weights, and the hover hook the output view uses."""

import re

import numpy as np
import pytest

from deltaflow.web.presets import PRESETS

from e2e_page import wait_config

SCALE = "10⁻⁸10⁻⁶10⁻⁴10⁻²10⁰10²"  # the backward scale's decades, the same every step


def frame_stat(page, key: str) -> list[float]:
    """A per-layer statistic of the last frame the page drew."""
    return page.evaluate("(k) => window.deltaflow.app.frame.layers.map((u) => u[k])", key)


def step_to(page, n: int) -> None:
    page.get_by_test_id("step").click()
    page.wait_for_function("(n) => window.deltaflow.app.frame && window.deltaflow.app.frame.step === n", arg=n)


def inside(inner: dict, outer: dict) -> bool:
    return (outer["x"] - 0.5 <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and outer["y"] - 0.5 <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)])
def test_the_20_layer_preset_fits_the_network_box(open_page, output_dir, viewport):
    page = open_page()
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    preset = next(p for p in PRESETS if p["name"] == "vanishing_sigmoid")
    page.get_by_test_id("preset-vanishing_sigmoid").click()
    wait_config(page, preset["config"])
    L = len(preset["config"]["model"]["hidden"]) + 1
    page.wait_for_function("(n) => document.querySelectorAll(\"[data-testid^='neuron-']\").length === n",
                           arg=sum(preset["config"]["model"]["hidden"]) + 2)
    box = page.get_by_test_id("network").bounding_box()
    out = page.get_by_test_id("output-col")
    for k in range(2):  # the output column's neurons and its head ("layer L · output")
        assert inside(page.get_by_test_id(f"neuron-{L}-{k}").bounding_box(), box)
    assert inside(out.locator(".col-head").bounding_box(), box)
    assert str(L) in out.locator(".col-head b").text_content()
    # never wider than its box: nothing to scroll sideways
    assert page.evaluate("() => { const n = document.querySelector('[data-testid=network]'); return n.scrollWidth <= n.clientWidth; }")
    page.get_by_test_id("network").screenshot(path=str(output_dir / f"network-20-layers-{viewport[0]}.png"))


def test_backward_mode_keeps_a_fixed_scale_and_shows_each_layers_delta_norm(open_page):
    page = open_page()
    page.get_by_test_id("mode-backward").click()
    assert page.get_by_test_id("mode-backward").get_attribute("aria-pressed") == "true"
    assert page.get_by_test_id("mode-forward").text_content() == "Neural Network Simulator"
    assert page.get_by_test_id("mode-backward").text_content() == "Backpropagation Visualiser"
    scale = page.get_by_test_id("net-scale")
    assert scale.text_content() == SCALE
    L = len(page.evaluate("() => window.deltaflow.app.state.network.layers"))
    for n in range(1, 4):
        step_to(page, n)
        assert scale.text_content() == SCALE  # the same decades after every step, never re-fitted
        shown = [float(page.get_by_test_id(f"column-delta-{c}").get_attribute("data-value")) for c in range(1, L + 1)]
        assert shown == pytest.approx(frame_stat(page, "delta_norm"), rel=1e-7)
        texts = [page.get_by_test_id(f"column-delta-{c}").text_content() for c in range(1, L + 1)]
        for text, v in zip(texts, shown):
            assert abs(float(text.replace("−", "-")) - v) <= 0.051 * v, (text, v)  # two significant digits
    # a step animates δ from the output back to the inputs: a column is lit, then none
    page.get_by_test_id("replay-backward").click()
    page.wait_for_function("() => document.querySelector('.dnorm.lit')")
    page.wait_for_function("() => !document.querySelector('.dnorm.lit')")
    page.get_by_test_id("mode-forward").click()
    assert page.get_by_test_id("net-legend").locator("[data-testid=net-scale]").count() == 0


def test_a_dead_unit_is_marked_on_its_neuron(open_page):
    page = open_page()
    page.get_by_test_id("activation-1").select_option("relu")
    page.wait_for_function("() => window.deltaflow.app.state.network.layers[0].activation === 'relu'")
    page.wait_for_function("() => window.deltaflow.app.frame && window.deltaflow.app.frame.layers[0].W")
    n_in = page.evaluate("() => window.deltaflow.app.frame.layers[0].nIn")
    # z = W·x + b = −5 for every x: the unit's output and gradient are 0 for the whole batch
    for j in range(n_in):
        page.evaluate("(j) => window.deltaflow.send({type: 'set_weight', layer: 0, row: 0, column: j, value: 0})", j)
    page.evaluate("() => window.deltaflow.send({type: 'set_weight', layer: 0, row: 0, bias: true, value: -5})")
    step_to(page, 1)
    if page.evaluate("() => window.deltaflow.app.frame.units === undefined"):
        pytest.skip("the server's frames do not carry per-unit marks (f.units) yet")
    neuron = page.get_by_test_id("neuron-1-0")
    page.wait_for_function("() => document.querySelector('[data-testid=neuron-1-0]').classList.contains('dead')")
    assert "dead" in neuron.get_attribute("aria-label")
    assert "dead" not in page.get_by_test_id("neuron-1-1").get_attribute("class")


def test_marks_from_a_frame_are_drawn_and_read_out(open_page):
    """The marks as the network draws them from a frame's units (bit 1 saturated, bit 2 dead)."""
    page = open_page()
    step_to(page, 1)
    page.evaluate("""() => {
        const f = window.deltaflow.app.frame;
        const units = f.layers.map((u) => new Uint8Array(u.nOut));
        units[0][1] = 2;
        units[1][2] = 1;
        window.deltaflow.network.update({step: f.step, layers: f.layers, heatmaps: {}, units});
    }""")
    dead, sat = page.get_by_test_id("neuron-1-1"), page.get_by_test_id("neuron-2-2")
    assert "dead" in dead.get_attribute("class").split() and "dead" in dead.get_attribute("aria-label")
    assert "sat" in sat.get_attribute("class").split() and "saturated" in sat.get_attribute("aria-label")
    assert "dead" not in page.get_by_test_id("neuron-1-0").get_attribute("class")
    legend = page.get_by_test_id("net-legend").text_content()
    assert "saturated" in legend and "dead" in legend


def test_a_weight_and_a_bias_edited_by_keyboard_only(open_page):
    page = open_page()
    page.get_by_test_id("remove-layer").focus()  # the last control of the network's header
    page.keyboard.press("Tab")  # one tab stop: the network's first neuron
    assert page.evaluate("() => document.activeElement.dataset.testid") == "feature-x1"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "neuron-1-0"
    assert re.match(r"layer 1, neuron 1, tanh, b = ", page.get_by_test_id("neuron-1-0").get_attribute("aria-label"))
    page.keyboard.press("Enter")
    page.get_by_test_id("weight-input-1").wait_for()
    assert page.evaluate("() => document.activeElement.dataset.testid") == "weight-input-0"
    page.keyboard.type("1.5")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.deltaflow.app.frame.layers[0].W[0] === 1.5")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "bias-input"
    page.keyboard.press("Control+A")
    page.keyboard.type("-0.25")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.deltaflow.app.frame.layers[0].b[0] === -0.25")
    W = np.array(page.evaluate("() => Array.from(window.deltaflow.app.frame.layers[0].W)"))
    assert W[1] != 1.5  # W(1)[1, 2] was not set
    page.keyboard.press("Escape")
    assert page.get_by_test_id("net-editor").count() == 0
    assert page.evaluate("() => document.activeElement.dataset.testid") == "neuron-1-0"


def test_hovering_a_neuron_tells_the_page_which(open_page):
    page = open_page()
    page.get_by_test_id("neuron-2-3").hover()
    page.wait_for_function("() => window.deltaflow.app.hover && window.deltaflow.app.hover.c === 2 && window.deltaflow.app.hover.j === 3")
    page.get_by_test_id("step-count").hover()
    page.wait_for_function("() => window.deltaflow.app.hover === null")


CANVAS_PIXEL = """([id, x, y]) => {
    const c = document.querySelector(`[data-testid=${id}]`), r = c.getBoundingClientRect(), k = c.width / r.width;
    return Array.from(c.getContext("2d").getImageData(Math.floor((x - r.left) * k), Math.floor((y - r.top) * k), 1, 1).data);
}"""


def centre(page, testid: str) -> tuple[float, float]:
    b = page.get_by_test_id(testid).bounding_box()
    return b["x"] + b["width"] / 2, b["y"] + b["height"] / 2


def test_backward_mode_tints_each_neuron_by_its_bias_gradient(open_page):
    page = open_page()
    page.get_by_test_id("mode-backward").click()
    step_to(page, 1)
    x, y = centre(page, "neuron-1-0")
    expected = page.evaluate("""async () => {
        const m = await import('/static/js/netedges.js');
        const gb = window.deltaflow.app.frame.layers[0].gb[0];
        return m.BACKWARD_TINTS[m.tintLevel(gb)].match(/\\d+/g).map(Number);
    }""")
    assert page.evaluate(CANVAS_PIXEL, ["map-canvas", x, y]) == [*expected, 255]  # opaque: the scale's own colour


def test_the_maths_panel_can_highlight_a_layer(open_page):
    page = open_page()
    (x, y0), (_, y1) = centre(page, "neuron-2-0"), centre(page, "neuron-2-1")
    y = (y0 + y1) / 2  # in the column's band, between two neurons
    assert page.evaluate(CANVAS_PIXEL, ["pulse-canvas", x, y])[3] == 0
    page.evaluate("() => window.deltaflow.network.highlightLayer(2)")
    assert page.evaluate(CANVAS_PIXEL, ["pulse-canvas", x, y])[3] > 0
    page.evaluate("() => window.deltaflow.network.highlightLayer(null)")
    assert page.evaluate(CANVAS_PIXEL, ["pulse-canvas", x, y])[3] == 0
