"""The softmax chapter, done as a learner would: logits typed in, a class chosen, the example made
confidently wrong; the ŷ, ŷ − y and gradients the page shows checked against NumPy here."""

from __future__ import annotations

import numpy as np
import pytest

from deltaflow.nn.losses import MeanSquaredError, SoftmaxCrossEntropy


def by_hand(z, y):
    """NumPy: ŷ = softmax(z), −log ŷ_y, ŷ − y, and (1/C)‖ŷ − y‖²'s gradient through the softmax."""
    z = np.asarray(z, dtype=np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    onehot = np.eye(len(z))[y]
    g = 2 * (p - onehot) / len(z)
    jacobian = np.diag(p) - np.outer(p, p)
    return p, -np.log(p[y]), p - onehot, jacobian.T @ g


def shown(page, testid: str) -> float:
    return float(page.get_by_test_id(testid).get_attribute("data-value"))


def enter(page, logits, y):
    """Type the logits and pick the class as a learner, press Compute, wait for that example's table."""
    page.get_by_test_id("softmax-classes").select_option(str(len(logits)))
    for k, v in enumerate(logits):
        page.get_by_test_id(f"softmax-z-input-{k}").fill(str(v))
    page.get_by_test_id("softmax-y").select_option(str(y))
    page.get_by_test_id("softmax-compute").click()
    page.wait_for_function("([z, y]) => z.every((v, k) => { const e = document.querySelector(`[data-testid=softmax-z-${k}]`);"
                           " return e && Number(e.dataset.value) === v; })"
                           " && !document.querySelector(`[data-testid=softmax-z-${z.length}]`)"
                           " && document.querySelector(`[data-testid=softmax-y-${y}]`).dataset.value === '1'",
                           arg=[logits, y])


def check_example(page, logits, y):
    p, loss, grad, grad_mse = by_hand(logits, y)
    for k in range(len(logits)):
        assert shown(page, f"softmax-p-{k}") == pytest.approx(p[k], rel=1e-12)
        assert shown(page, f"softmax-bar-{k}") == pytest.approx(p[k], rel=1e-12)
        assert shown(page, f"softmax-grad-{k}") == pytest.approx(grad[k], rel=1e-12, abs=1e-15)
        assert shown(page, f"softmax-mse-grad-{k}") == pytest.approx(grad_mse[k], rel=1e-10, abs=1e-15)
        assert float(page.get_by_test_id(f"softmax-p-{k}").text_content()) == pytest.approx(p[k], rel=6e-4)
    assert shown(page, "softmax-py") == pytest.approx(p[y], rel=1e-12)
    assert shown(page, "softmax-loss-ce") == pytest.approx(loss, rel=1e-12)
    # and the engine's own losses, called here on the same logits
    ce, mse = SoftmaxCrossEntropy(), MeanSquaredError()
    assert shown(page, "softmax-loss-ce") == pytest.approx(ce.forward(np.array([logits], float), np.array([y])), rel=1e-13)
    assert shown(page, "softmax-loss-mse") == pytest.approx(mse.forward(p[None], np.eye(len(logits))[y][None]), rel=1e-12)
    assert shown(page, "softmax-ce-grad-y") == pytest.approx(1 - p[y], rel=1e-12)
    assert shown(page, "softmax-mse-grad-y") == pytest.approx(abs(grad_mse[y]), rel=1e-10)
    return p, grad_mse


def sweep_end(logits, y):
    """The sweep's last step by its closed form: ŷ_y = 0.5 · 10^−3.7, the others in proportion."""
    p = by_hand(logits, y)[0]
    q = np.delete(p, y) / (1 - p[y])
    p_y = 0.5 * 10 ** -3.7
    return 1 - p_y, 2 / len(logits) * p_y * (1 - p_y) ** 2 * (1 + q @ q)


def met(page, part: int) -> str:
    return page.get_by_test_id(f"challenge-softmax-part-{part}").get_attribute("data-met")


def test_softmax_challenge_and_open_in_simulator(open_page, output_dir):
    page = open_page("#learn=softmax")
    page.get_by_test_id("chapter-softmax").wait_for(state="visible")
    page.get_by_test_id("softmax-p-2").wait_for()
    check_example(page, [2, 1, -1], 0)  # the chapter opens at z = (2, 1, −1), y = 0: right, not confident
    assert met(page, 0) == "false" and met(page, 1) == "false"

    enter(page, [1, 0, 0.5, 1], 1)  # wrong (ŷ_1 ≈ 0.12) but not confidently
    p, _ = check_example(page, [1, 0, 0.5, 1], 1)
    assert 0.05 < p[1] < 0.2 and met(page, 0) == "false" and met(page, 1) == "false"

    logits, y = [3, -1, 0.5, 1], 1
    enter(page, logits, y)
    p, grad_mse = check_example(page, logits, y)
    assert p[y] < 0.05 and (1 - p[y]) >= 10 * abs(grad_mse[y])
    page.wait_for_function("() => document.querySelector('[data-testid=challenge-softmax-part-1]').dataset.met === 'true'")
    assert met(page, 0) == "true" and met(page, 1) == "true"
    page.get_by_test_id("challenge-done-softmax").wait_for(state="visible")
    assert page.get_by_test_id("chapter-link-softmax").get_attribute("data-done") == "true"
    summary = page.get_by_test_id("summary-softmax").text_content()
    assert f"ŷ_y = {page.get_by_test_id('softmax-py').text_content()}" in summary
    assert page.get_by_test_id("softmax-mse-grad-y").text_content() in summary

    ce_end, mse_end = sweep_end(logits, y)
    page.wait_for_function("(v) => Math.abs(Number(document.querySelector('[data-testid=softmax-sweep-mse-end]')"
                           "?.dataset.value) / v - 1) < 1e-9", arg=mse_end)
    assert shown(page, "softmax-sweep-ce-end") == pytest.approx(ce_end, rel=1e-12)
    assert shown(page, "softmax-sweep-mse-0") > 1e3 * shown(page, "softmax-sweep-mse-end")
    assert shown(page, "softmax-sweep-ce-0") == pytest.approx(0.5, rel=1e-12)
    canvas = page.locator(".lp-chart canvas")
    assert canvas.get_attribute("data-series") == '["cross-entropy","squared error (MSE)"]'
    assert "log scale" in canvas.get_attribute("aria-label")

    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_test_id("challenge-softmax").scroll_into_view_if_needed()  # the sweep and the met challenge
    page.screenshot(path=str(output_dir / "learn-softmax-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(output_dir / "learn-softmax-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})

    page.get_by_test_id("open-sim-softmax").click()
    assert page.get_by_test_id("learn-panel").is_hidden()
    page.wait_for_function("() => { const c = window.deltaflow.app.config; return c.data.name === 'spiral3'"
                           " && c.data.classes === 4 && c.loss === 'cross_entropy'; }")
