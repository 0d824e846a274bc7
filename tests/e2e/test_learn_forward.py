"""The forward chapter, done as a learner would: weights typed into the form, the challenge met,
and every z⁽¹⁾, a⁽¹⁾, z⁽²⁾ and ŷ the page shows checked against NumPy by hand and against the
engine's own 2-2-1 network built here with the same weights."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deltaflow.nn import mlp

HIGH = {"W1": [[6.0, 0.0], [-6.0, 0.0]], "b1": [0.0, 0.0], "W2": [[8.0, -8.0]], "b2": [0.0]}
LOW = {**HIGH, "b2": [-12.0]}
HIDDEN = {"sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


def by_hand(x, W1, b1, W2, b2, activation="sigmoid"):
    """z1, a1, z2, ŷ with NumPy, the sums written out."""
    W1, W2, x = np.array(W1), np.array(W2), np.array(x)
    z1 = W1 @ x + np.array(b1)
    a1 = HIDDEN[activation](z1)
    z2 = W2 @ a1 + np.array(b2)
    return z1, a1, z2, 1.0 / (1.0 + np.exp(-z2))


def engine(x, W1, b1, W2, b2, activation="sigmoid") -> float:
    """ŷ from deltaflow's own network with these weights."""
    net = mlp([2, 2, 1], activation=activation, output="sigmoid", dtype=np.float64, rng=0)
    net.load_state_dict({"0.W": np.array(W1), "0.b": np.array(b1), "2.W": np.array(W2), "2.b": np.array(b2)})
    return float(net.forward(np.array([x]), training=False)[0, 0])


def value(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).get_attribute("data-value"))


def read_form(page) -> dict:
    v = lambda testid: float(page.get_by_test_id(testid).input_value())  # noqa: E731
    return {"x": [v("forward-x-0"), v("forward-x-1")],
            "W1": [[v(f"forward-W1-{i}-{j}") for j in range(2)] for i in range(2)],
            "b1": [v("forward-b1-0"), v("forward-b1-1")],
            "W2": [[v("forward-W2-0-0"), v("forward-W2-0-1")]], "b2": [v("forward-b2-0")]}


def fill(page, **arrays) -> None:
    """Type each given array's numbers into its inputs, as a learner does."""
    for name, a in arrays.items():
        for i, row in enumerate(a):
            for j, w in enumerate(row if isinstance(row, list) else [row]):
                testid = f"forward-{name}-{i}-{j}" if isinstance(row, list) else f"forward-{name}-{i}"
                page.get_by_test_id(testid).fill(f"{w:g}")


def shown_for(page, weights: dict, activation: str = "sigmoid") -> None:
    """Until the page draws the engine's answer for exactly these numbers."""
    expected = json.dumps({**{k: weights[k] for k in ("x", "W1", "b1", "W2", "b2")}, "activation": activation})
    page.wait_for_function("(exp) => { const e = document.querySelector('[data-testid=forward-readout]');"
                           " return e && e.dataset.for && JSON.stringify(JSON.parse(e.dataset.for))"
                           " === JSON.stringify(JSON.parse(exp)); }", arg=expected)


def assert_page_numbers(page, weights: dict, activation: str = "sigmoid") -> float:
    """Every number drawn (matrices, units, edges) against NumPy by hand (1e-12) and the engine."""
    shown_for(page, weights, activation)
    z1, a1, z2, y_hat = by_hand(**weights, activation=activation)
    for j in range(2):
        assert value(page, f"forward-m-z1-{j}-0") == pytest.approx(z1[j], abs=1e-12)
        assert value(page, f"forward-m-a1-{j}-0") == pytest.approx(a1[j], abs=1e-12)
        assert value(page, f"forward-svg-z1-{j}") == value(page, f"forward-m-z1-{j}-0")
        assert value(page, f"forward-svg-a1-{j}") == value(page, f"forward-m-a1-{j}-0")
        assert value(page, f"forward-m-a0-{j}-0") == weights["x"][j]
        assert value(page, f"forward-m-a1-in-{j}-0") == value(page, f"forward-m-a1-{j}-0")  # layer 2's input
        assert value(page, f"forward-edge-W2-0-{j}") == weights["W2"][0][j]
        for k in range(2):
            assert value(page, f"forward-edge-W1-{j}-{k}") == weights["W1"][j][k]
            assert value(page, f"forward-m-W1-{j}-{k}") == weights["W1"][j][k]
    assert value(page, "forward-m-z2-0-0") == pytest.approx(z2[0], abs=1e-12)
    shown = value(page, "forward-yhat")
    assert shown == value(page, "forward-m-yhat-0-0") == value(page, "forward-svg-a2-0")
    assert shown == pytest.approx(y_hat[0], abs=1e-12)
    assert shown == pytest.approx(engine(**weights, activation=activation), abs=1e-12)
    return shown


def met(page, part: int) -> str:
    return page.get_by_test_id(f"challenge-forward-part-{part}").get_attribute("data-met")


def test_forward_challenge(open_page, output_dir):
    page = open_page("#learn=forward")
    page.get_by_test_id("chapter-forward").wait_for(state="visible")
    page.get_by_test_id("forward-yhat").wait_for()
    start = read_form(page)  # the engine's draw from seed 0, rounded to two decimals
    assert start["x"] == [1.0, 0.0] and any(w != 0 for w in start["W1"][0] + start["W1"][1])
    y0 = assert_page_numbers(page, start)
    assert 0.1 < y0 < 0.9 and met(page, 0) == "false" and met(page, 1) == "false"
    assert page.get_by_test_id("forward-net").locator("line").count() == 6

    # another input, and tanh units: still every number by hand
    fill(page, x=[0.5, -2.0])
    assert_page_numbers(page, {**start, "x": [0.5, -2.0]})
    page.get_by_test_id("forward-activation").select_option("tanh")
    assert_page_numbers(page, {**start, "x": [0.5, -2.0]}, "tanh")
    page.get_by_test_id("forward-activation").select_option("sigmoid")

    # beyond ±20 the engine refuses, and says why
    page.get_by_test_id("forward-b2-0").fill("25")
    page.get_by_test_id("error").wait_for(state="visible")
    assert "less than or equal to 20" in page.get_by_test_id("error").text_content()

    # part 0: sure of class 1 at x = (1, 0); ŷ > 0.9 elsewhere does not count
    fill(page, **HIGH)
    assert_page_numbers(page, {**HIGH, "x": [0.5, -2.0]})
    page.get_by_test_id("error").wait_for(state="hidden")  # answered: the refusal is gone
    assert met(page, 0) == "false"
    page.get_by_test_id("forward-x-probe").click()
    high = assert_page_numbers(page, {**HIGH, "x": [1.0, 0.0]})
    assert high > 0.9
    page.wait_for_function("() => document.querySelector('[data-testid=challenge-forward-part-0]').dataset.met === 'true'")
    assert met(page, 1) == "false" and page.get_by_test_id("challenge-done-forward").is_hidden()

    high_text = page.get_by_test_id("forward-yhat").text_content()

    # part 1: the output bias pulls z⁽²⁾ below zero, sure of class 0
    fill(page, b2=LOW["b2"])
    low = assert_page_numbers(page, {**LOW, "x": [1.0, 0.0]})
    low_text = page.get_by_test_id("forward-yhat").text_content()
    assert low < 0.1
    page.get_by_test_id("challenge-done-forward").wait_for(state="visible")
    assert met(page, 0) == "true" and met(page, 1) == "true"
    summary = page.get_by_test_id("summary-forward").text_content()
    assert f"gave ŷ = {high_text} " in summary and f"gave ŷ = {low_text} " in summary
    assert summary.count("W⁽²⁾ = [8, -8]") == 2 and "b⁽²⁾ = 0 gave" in summary and "b⁽²⁾ = -12 gave" in summary
    assert page.get_by_test_id("chapter-link-forward").get_attribute("data-done") == "true"

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_test_id("forward-net-plot").evaluate("e => e.scrollIntoView()")  # the chapter scrolls inside
    page.screenshot(path=str(output_dir / "learn-forward-1440.png"), full_page=True)
    page.get_by_test_id("challenge-forward").evaluate("e => e.scrollIntoView({block: 'end'})")
    page.screenshot(path=str(output_dir / "learn-forward-1440-end.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(output_dir / "learn-forward-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_test_id("open-sim-forward").click()
    assert page.get_by_test_id("learn-panel").is_hidden()
    page.wait_for_function("() => { const c = window.deltaflow.app.config; return c.data.name === 'xor'"
                           " && c.model.hidden.length === 1 && c.model.hidden[0] === 2 && c.model.activation === 'sigmoid'; }")
