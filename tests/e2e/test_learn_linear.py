"""Chapter "linear" as a learner does it: change the input x, read the two layers and their
product against NumPy's, train the deep linear network on XOR (stuck at chance), then with
tanh (separated), and open the simulator with a non-linear network."""

from __future__ import annotations

import numpy as np
import pytest

from deltaflow.data import load_dataset
from deltaflow.experiments import collapse
from deltaflow.nn import mlp


def cells(page, testid: str, rows: int, cols: int) -> np.ndarray:
    return np.array([[float(page.get_by_test_id(f"{testid}-{i}-{j}").get_attribute("data-value"))
                      for j in range(cols)] for i in range(rows)])


def test_linear_challenge(open_page, output_dir):
    page = open_page("#learn=linear")
    page.get_by_test_id("chapter-linear").wait_for(state="visible")
    page.get_by_test_id("linear-x1").fill("2")
    page.get_by_test_id("linear-x2").fill("-3")
    page.get_by_test_id("linear-compute").click()
    page.wait_for_function("() => document.querySelector('[data-testid=linear-collapse-readout]').textContent.includes('(2, -3)')")
    W1, b1 = cells(page, "linear-W1", 3, 2), cells(page, "linear-b1", 3, 1)[:, 0]
    W2, b2 = cells(page, "linear-W2", 2, 3), cells(page, "linear-b2", 2, 1)[:, 0]
    # the engine's seed-0 network, drawn the same way, is the one shown
    rng = np.random.default_rng(0)
    net = mlp([2, 3, 2], "identity", dtype=np.float64, rng=rng)
    np.testing.assert_array_equal(W1, net.layers[0].W.value)
    np.testing.assert_array_equal(W2, net.layers[-1].W.value)
    np.testing.assert_array_equal(b1, rng.normal(scale=0.5, size=3))  # then the biases, from the same draws
    np.testing.assert_array_equal(b2, rng.normal(scale=0.5, size=2))
    np.testing.assert_allclose(cells(page, "linear-W21", 2, 2), W2 @ W1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(cells(page, "linear-b21", 2, 1)[:, 0], W2 @ b1 + b2, rtol=0, atol=1e-15)
    x = np.array([2.0, -3.0])
    np.testing.assert_allclose(cells(page, "linear-deep", 2, 1)[:, 0], W2 @ (W1 @ x + b1) + b2, rtol=0, atol=1e-14)
    np.testing.assert_allclose(cells(page, "linear-one", 2, 1)[:, 0], (W2 @ W1) @ x + (W2 @ b1 + b2), rtol=0, atol=1e-14)
    assert page.get_by_test_id("challenge-linear-part-0").get_attribute("data-met") == "true"

    data = load_dataset("xor", n_samples=collapse.N_SAMPLES, seed=0, dtype="float64")
    for act, part in (("identity", 1), ("tanh", 2)):
        page.get_by_test_id("linear-activation").select_option(act)
        page.get_by_test_id("linear-train").click()
        page.get_by_test_id(f"challenge-linear-part-{part}").and_(page.locator("[data-met=true]")).wait_for(timeout=30_000)
        net = collapse.build(act, 0)
        collapse.train(net, data.X_train, data.y_train, 400)
        expected = np.mean(net.forward(data.X_test, False).argmax(axis=1) == data.y_test)
        shown = float(page.get_by_test_id("linear-accuracy").get_attribute("data-value"))
        assert shown == pytest.approx(expected, abs=1e-12)
        assert (shown <= 0.6) if act == "identity" else (shown >= 0.9)
    page.get_by_test_id("challenge-done-linear").wait_for(state="visible")
    assert page.get_by_test_id("chapter-link-linear").get_attribute("data-done") == "true"
    assert "reached test accuracy" in page.get_by_test_id("summary-linear").text_content()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(output_dir / "learn-linear-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(output_dir / "learn-linear-phone.png"), full_page=True)
    page.get_by_test_id("open-sim-linear").click()
    page.wait_for_function("() => window.deltaflow.app.state.config.data.name === 'xor'"
                           " && window.deltaflow.app.state.config.model.activation === 'tanh'")
    assert page.get_by_test_id("learn-panel").is_hidden()
