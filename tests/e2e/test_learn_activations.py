"""The activations chapter, done as a learner would: the marker dragged with the mouse to z ≈ 0 on
the sigmoid, then ReLU and a drag to z < 0; every reading the page shows is checked against the
engine's activation layer run here."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from deltaflow.nn.activations import get_activation

Z_MIN, Z_MAX, N = -6.0, 6.0, 241  # the chapter's opening interval and samples


def engine(name: str, z: float) -> tuple[float, float]:
    """(f(z), f'(z)) by the engine's layer: forward, then backward of a gradient of one."""
    layer = get_activation(name)
    a = layer.forward(np.array([[z]]), training=False)
    return float(a[0, 0]), float(layer.backward(np.ones((1, 1)))[0, 0])


def settled(page) -> None:
    """Until every lesson asked has been answered and drawn."""
    page.wait_for_function("() => { const r = document.querySelector('[data-testid=activations-readout]');"
                           " return r && r.dataset.pending === '0' && document.querySelector('[data-testid=activations-z]'); }")


def value(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).get_attribute("data-value"))


def met(page, part: int) -> str:
    return page.get_by_test_id(f"challenge-activations-part-{part}").get_attribute("data-met")


def drag(page, z_from: float, z_to: float) -> None:
    """Press on the chart at z_from and drag the pointer to z_to with the mouse."""
    box = page.get_by_test_id("activations-plot-area").bounding_box()
    x = lambda z: box["x"] + (z - Z_MIN) / (Z_MAX - Z_MIN) * box["width"]
    y = box["y"] + box["height"] / 2
    page.mouse.move(x(z_from), y)
    page.mouse.down()
    page.mouse.move(x(z_to), y, steps=15)
    page.mouse.up()


def shown_reading(page, name: str) -> float:
    """The page's z, and its f(z), f'(z) checked against the engine at that z."""
    settled(page)
    z = value(page, "activations-z")
    assert float(page.get_by_test_id("activations-marker").get_attribute("data-z")) == z
    f, df = engine(name, z)
    assert value(page, "activations-f") == f and value(page, "activations-df") == df
    return z


def check_summary(summary: str, sigmoid_prime_max: float) -> None:
    """The sentence's z's are those of the answers that met the parts (a drag's last or one on the
    way); its values are the engine's at those z (printed to 6 significant digits)."""
    peak = re.search(r"At z = (\S+) the sigmoid gave σ\(z\) = (\S+) and σ′\(z\) = (\S+), and none of its "
                     r"241 samples on \[-6, 6\] had σ′ above (\S+):", summary)
    dead = re.search(r"ReLU at z = (\S+) gave ReLU\(z\) = (\S+) and ReLU′\(z\) = (\S+):", summary)
    assert peak and dead, summary
    z_peak, z_dead = float(peak[1]), float(dead[1])
    assert abs(z_peak) <= 0.04 and -6.0 <= z_dead <= 0.0
    for shown, expected in zip([*peak.groups()[1:], *dead.groups()[1:]],
                               [*engine("sigmoid", z_peak), sigmoid_prime_max, *engine("relu", z_dead)]):
        assert float(shown) == pytest.approx(expected, rel=6e-6, abs=1e-300)
    assert float(peak[3]) >= 0.2499 and float(dead[3]) == 0.0


def test_activations_challenge(open_page, output_dir):
    page = open_page("#learn=activations")
    page.get_by_test_id("chapter-activations").wait_for(state="visible")
    settled(page)
    assert shown_reading(page, "sigmoid") == 2.0  # the marker opens at z = 2
    assert value(page, "activations-df") == pytest.approx(math.exp(-2) / (1 + math.exp(-2)) ** 2, rel=1e-15)
    assert met(page, 0) == "false"
    assert page.get_by_test_id("activations-curve-f").count() == 1 and page.get_by_test_id("activations-curve-df").count() == 1
    assert "σ(z)" in page.get_by_test_id("activations-legend-0").text_content()
    # σ' over the samples: the engine's largest is 1/4, at z = 0
    layer = get_activation("sigmoid")
    layer.forward(np.linspace(Z_MIN, Z_MAX, N)[:, None])
    samples = layer.backward(np.ones((N, 1)))
    assert value(page, "activations-dfmax") == samples.max() == 0.25
    assert "never exceeds ¼" in page.get_by_test_id("activations-readout").text_content()

    drag(page, 2.0, 0.0)
    z0 = shown_reading(page, "sigmoid")
    assert abs(z0) <= 0.04 and value(page, "activations-df") >= 0.2499
    page.wait_for_function("() => document.querySelector('[data-testid=challenge-activations-part-0]').dataset.met === 'true'")
    assert met(page, 1) == "false"

    # a positive z first (typed), so that ReLU' = 1 there: the dead input is found by the drag
    page.get_by_test_id("activations-point").fill("1.5")
    page.get_by_test_id("activations-point").press("Enter")
    page.get_by_test_id("activations-name").select_option("relu")
    page.wait_for_function("() => document.querySelector('[data-testid=activations-legend-0]').textContent.includes('ReLU')")
    assert shown_reading(page, "relu") == 1.5 and value(page, "activations-df") == 1.0 and met(page, 1) == "false"
    drag(page, 1.5, -3.0)
    z = shown_reading(page, "relu")
    assert z < 0 and value(page, "activations-f") == 0.0 and value(page, "activations-df") == 0.0
    page.get_by_test_id("challenge-done-activations").wait_for(state="visible")
    assert met(page, 0) == "true" and met(page, 1) == "true"
    assert page.get_by_test_id("chapter-link-activations").get_attribute("data-done") == "true"
    check_summary(page.get_by_test_id("summary-activations").text_content(), samples.max())
    # the arrow keys move the marker by 0.05
    page.get_by_test_id("activations-chart").press("ArrowRight")
    page.wait_for_function("(z) => Number(document.querySelector('[data-testid=activations-z]').dataset.value) !== z", arg=z)
    assert shown_reading(page, "relu") == pytest.approx(z + 0.05, abs=1e-9)

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_test_id("activations-chart").evaluate("(e) => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(output_dir / "learn-activations-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(output_dir / "learn-activations-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_test_id("open-sim-activations").click()
    assert page.get_by_test_id("learn-panel").is_hidden()
    page.wait_for_function("() => { const c = window.deltaflow.app.config; return c.model.activation === 'relu'"
                           " && c.data.name === 'spiral'; }")
