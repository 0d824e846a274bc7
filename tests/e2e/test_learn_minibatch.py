"""Chapter "minibatch" as a learner does it: pick batch sizes, train, read each curve's noise
against the engine's runs, measure the gradient noise against σ²(N − B)/(B(N − 1)) computed here."""

from __future__ import annotations

import numpy as np
import pytest

from deltaflow.web.lessons.minibatch import gradient, setup
from deltaflow.web.lessons.minibatch import MinibatchRequest, train


def value(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).get_attribute("data-value"))


def test_minibatch_challenge(open_page, output_dir):
    page = open_page("#learn=minibatch")
    page.get_by_test_id("chapter-minibatch").wait_for(state="visible")
    page.get_by_test_id("minibatch-size-16").click()  # off: 1 and 256 stay
    page.get_by_test_id("minibatch-size-8").click()
    page.get_by_test_id("minibatch-size-64").click()
    page.get_by_test_id("minibatch-train").click()
    page.get_by_test_id("minibatch-noise-64").wait_for()
    engine = train(MinibatchRequest.model_validate({"part": "train", "batch_sizes": [1, 8, 64, 256], "epochs": 2}))
    shown = [value(page, f"minibatch-noise-{B}") for B in (1, 8, 64, 256)]
    np.testing.assert_allclose(shown, [r["noise"] for r in engine["runs"]], rtol=1e-12, atol=1e-15)
    assert shown[0] > shown[1] > shown[2] > shown[3]
    assert page.get_by_test_id("challenge-minibatch-part-0").get_attribute("data-met") == "true"

    page.get_by_test_id("minibatch-measure").click()
    page.get_by_test_id("minibatch-predicted-64").wait_for()
    X, y, net = setup(0)
    each = np.stack([gradient(net, X[i:i + 1], y[i:i + 1]) for i in range(len(y))])
    sigma2, N = np.mean(np.sum((each - each.mean(axis=0)) ** 2, axis=1)), len(y)
    for B in (1, 4, 16, 64):
        predicted = sigma2 / B * (N - B) / (N - 1)
        assert value(page, f"minibatch-predicted-{B}") == pytest.approx(predicted, rel=1e-12)
        assert value(page, f"minibatch-measured-{B}") == pytest.approx(predicted, rel=0.15)
    page.get_by_test_id("challenge-done-minibatch").wait_for(state="visible")
    assert page.get_by_test_id("chapter-link-minibatch").get_attribute("data-done") == "true"
    assert "at B = 1" in page.get_by_test_id("summary-minibatch").text_content()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=str(output_dir / "learn-minibatch-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(output_dir / "learn-minibatch-phone.png"), full_page=True)
    page.get_by_test_id("open-sim-minibatch").click()
    page.wait_for_function("() => window.deltaflow.app.state.config.data.name === 'moons'"
                           " && window.deltaflow.app.state.config.batch_size === 1")
