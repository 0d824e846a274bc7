"""The backprop chapter done as a learner: pick an example and a network, press Next through every
layer of the δ recursion, read each δ and ∂L/∂W the page shows against a NumPy recursion computed
here, press the finite-difference check, and open the network in the simulator."""

from __future__ import annotations

import re

import numpy as np
import pytest

from deltaflow.training.config import RunConfig
from deltaflow.training.trainer import Trainer

CASE = dict(dataset="circle", index=7, activation="sigmoid", width=3, depth=2, seed=4)


def engine_example():
    """The simulator's float64 network for CASE, and the example."""
    config = RunConfig.from_dict({"data": {"name": CASE["dataset"]}, "seed": CASE["seed"], "dtype": "float64",
                                  "model": {"hidden": [CASE["width"]] * CASE["depth"], "activation": CASE["activation"]}})
    trainer = Trainer(config)
    return trainer.net, trainer.dataset.X_train[CASE["index"]], int(trainer.dataset.y_train[CASE["index"]])


def recursion(Ws, bs, x, label):
    """Sigmoid hidden layers, softmax + CE: (L, {l: δ⁽ˡ⁾}, {l: ∂L/∂W⁽ˡ⁾}) by hand."""
    a, zs, As = x, [], [x]
    for l, (W, b) in enumerate(zip(Ws, bs), start=1):
        z = W @ a + b
        a = 1 / (1 + np.exp(-z)) if l < len(Ws) else np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        zs.append(z)
        As.append(a)
    delta = a - np.eye(len(a))[label]
    deltas, dWs = {len(Ws): delta}, {len(Ws): np.outer(delta, As[-2])}
    for l in range(len(Ws) - 1, 0, -1):
        s = 1 / (1 + np.exp(-zs[l - 1]))
        delta = Ws[l].T @ delta * s * (1 - s)
        deltas[l], dWs[l] = delta, np.outer(delta, As[l - 1])
    return -np.log(a[label]), deltas, dWs


def finite_differences(Ws, bs, x, label, h=1e-6):
    """{l: central differences of L with respect to every entry of W⁽ˡ⁾}."""
    out = {}
    for l, W in enumerate(Ws, start=1):
        g = np.zeros_like(W)
        for i, j in np.ndindex(W.shape):
            plus, minus = [w.copy() for w in Ws], [w.copy() for w in Ws]
            plus[l - 1][i, j] += h
            minus[l - 1][i, j] -= h
            g[i, j] = (recursion(plus, bs, x, label)[0] - recursion(minus, bs, x, label)[0]) / (2 * h)
        out[l] = g
    return out


def cells(page, testid: str, shape) -> np.ndarray:
    """The full-precision numbers (data-value) of a matrix.js table of ``shape``."""
    return np.array([[float(page.get_by_test_id(f"{testid}-{i}-{j}").get_attribute("data-value"))
                      for j in range(shape[1])] for i in range(shape[0])])


def met(page, part: int) -> str:
    return page.get_by_test_id(f"challenge-backprop-part-{part}").get_attribute("data-met")


def choose_case(page):
    page.get_by_test_id("backprop-loss").wait_for()
    before = page.get_by_test_id("backprop-loss").get_attribute("data-value")
    page.get_by_test_id("backprop-dataset").select_option(CASE["dataset"])
    page.get_by_test_id("backprop-activation").select_option(CASE["activation"])
    for key in ("index", "width", "depth", "seed"):
        page.get_by_test_id(f"backprop-{key}").fill(str(CASE[key]))
    page.get_by_test_id("backprop-run").click()
    page.wait_for_function("(v) => document.querySelector('[data-testid=backprop-loss]').dataset.value !== v", arg=before)


def test_backprop_challenge(open_page, output_dir):
    page = open_page("#learn=backprop")
    page.get_by_test_id("chapter-backprop").wait_for(state="visible")
    choose_case(page)
    net, x, label = engine_example()
    Ws = [layer.W.value for layer in net.layers if hasattr(layer, "W")]
    bs = [layer.b.value for layer in net.layers if hasattr(layer, "W")]
    loss, deltas, dWs = recursion(Ws, bs, x, label)
    L = len(Ws)
    assert float(page.get_by_test_id("backprop-loss").get_attribute("data-value")) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(cells(page, "backprop-x", (2, 1))[:, 0], x, rtol=1e-15)
    step = page.get_by_test_id("backprop-step")
    assert step.get_attribute("data-step") == "0" and step.get_attribute("data-steps") == str(L)
    assert page.get_by_test_id("backprop-prev").is_disabled()

    for k in range(1, L + 1):
        assert met(page, 0) == "false"
        page.get_by_test_id("backprop-next").click()
        l = L - k + 1
        page.get_by_test_id(f"backprop-layer-{l}").wait_for()
        assert step.get_attribute("data-step") == str(k)
        assert page.get_by_test_id(f"backprop-node-{l}-0").get_attribute("data-current") == "true"
        np.testing.assert_allclose(cells(page, f"backprop-delta-{l}", (len(deltas[l]), 1))[:, 0], deltas[l],
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(cells(page, f"backprop-dW-{l}", dWs[l].shape), dWs[l], rtol=1e-12, atol=1e-15)
        if l < L:  # the factors of the recursion are the ones of the layer above
            np.testing.assert_allclose(cells(page, "backprop-Wt", Ws[l].T.shape), Ws[l].T, rtol=0)
            np.testing.assert_allclose(cells(page, "backprop-upstream", (len(deltas[l + 1]), 1))[:, 0], deltas[l + 1],
                                       rtol=1e-12, atol=1e-15)
    assert met(page, 0) == "true" and page.get_by_test_id("backprop-next").is_disabled()
    page.get_by_test_id("backprop-prev").click()
    page.get_by_test_id("backprop-layer-2").wait_for()
    page.get_by_test_id("backprop-next").click()
    page.get_by_test_id("backprop-layer-1").wait_for()

    assert met(page, 1) == "false"
    page.get_by_test_id("backprop-fd-check").click()
    page.get_by_test_id("backprop-fd-diff").wait_for()
    shown = float(page.get_by_test_id("backprop-fd-diff").get_attribute("data-value"))
    fd = finite_differences(Ws, bs, x, label)
    assert shown <= 1e-6
    assert shown <= 2 * max(np.abs(fd[l] - dWs[l]).max() for l in dWs) + 1e-9  # of the size our own check gives
    np.testing.assert_allclose(cells(page, "backprop-fd-dW-1", fd[1].shape), fd[1], atol=1e-8)
    assert met(page, 1) == "true"
    page.get_by_test_id("challenge-done-backprop").wait_for(state="visible")
    assert page.get_by_test_id("chapter-link-backprop").get_attribute("data-done") == "true"
    summary = page.get_by_test_id("summary-backprop").text_content()
    assert f"example {CASE['index']} of circle" in summary
    norm = float(re.search(r"‖δ⁽¹⁾‖ = ([0-9.e−-]+?)\.\s", summary).group(1).replace("−", "-"))
    assert norm == pytest.approx(np.linalg.norm(deltas[1]), rel=1e-3)

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_test_id("challenge-backprop").scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "learn-backprop-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_test_id("backprop-layer-1").scroll_into_view_if_needed()
    page.screenshot(path=str(output_dir / "learn-backprop-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_test_id("open-sim-backprop").click()
    assert page.get_by_test_id("learn-panel").is_hidden()
    page.wait_for_function("() => { const c = window.deltaflow.app.config; return c.data.name === 'circle'"
                           " && c.model.activation === 'sigmoid' && c.model.hidden.join() === '3,3' && c.seed === 4; }")
