"""Lesson ``softmax``: ŷ, cross-entropy and MSE-through-softmax against PyTorch (float64), the
fused gradient ŷ − y exactly, central differences, the sweep against its closed form, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from deltaflow.training.config import RunConfig
from deltaflow.web.lessons.softmax import SWEEP_STEPS, SoftmaxRequest, run
from deltaflow.web.limits import Limits
from deltaflow.web.session import Session

CASES = [([2.0, 1.0, -1.0], 0), ([2.0, 1.0, -1.0], 2), ([0.0, 0.0], 1), ([3.5, -2.0, 0.25, 7.0, -30.0, 30.0], 3),
         ([-4.0, 6.0, 1.0, 0.5], 0), ([30.0, -30.0], 1), ([1e-3, -1e-3, 2e-3], 1)]


def lesson(**fields) -> dict:
    return run(SoftmaxRequest.model_validate(fields))


def by_hand(z: np.ndarray, y: int) -> tuple[np.ndarray, float, float]:
    """NumPy's own softmax, −log ŷ_y and (1/C)‖ŷ − y‖², for the finite differences."""
    logp = z - np.logaddexp.reduce(z)
    p = np.exp(logp)
    onehot = np.eye(len(z))[y]
    return p, -logp[y], float(np.mean((p - onehot) ** 2))


@pytest.mark.parametrize("z, y", CASES)
def test_example_matches_torch_cross_entropy_and_autograd_through_softmax(torch, z, y):
    r = lesson(part="example", logits=z, y=y)
    F = torch.nn.functional
    zt = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    ce = F.cross_entropy(zt, torch.tensor([y]))
    (grad_ce,) = torch.autograd.grad(ce, zt)
    zm = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    p = torch.softmax(zm, dim=1)
    p.retain_grad()
    mse = F.mse_loss(p, F.one_hot(torch.tensor([y]), len(z)).double())
    mse.backward()
    np.testing.assert_allclose(r["p"], p.detach().numpy()[0], rtol=1e-12, atol=1e-300)
    assert r["loss_ce"] == pytest.approx(ce.item(), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(r["grad_ce"], grad_ce.numpy()[0], rtol=1e-12, atol=1e-15)
    assert r["loss_mse"] == pytest.approx(mse.item(), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(r["grad_mse_p"], p.grad.numpy()[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r["grad_mse"], zm.grad.numpy()[0], rtol=1e-12, atol=1e-15)
    assert r["ce_grad_y"] == abs(r["grad_ce"][y]) and r["mse_grad_y"] == abs(r["grad_mse"][y])
    assert r["p_y"] == r["p"][y] and r["predicted"] == int(np.argmax(z))


@pytest.mark.parametrize("z, y", CASES)
def test_cross_entropy_gradient_is_exactly_y_hat_minus_onehot(z, y):
    r = lesson(part="example", logits=z, y=y)
    assert r["onehot"] == [1.0 if k == y else 0.0 for k in range(len(z))]
    assert r["grad_ce"] == [pk - yk for pk, yk in zip(r["p"], r["onehot"])]  # ==, not approx
    assert r["ce_grad_y"] == 1.0 - r["p_y"]
    # both gradients sum to zero: adding a constant to every logit changes no ŷ
    assert abs(sum(r["grad_ce"])) < 1e-15 and abs(sum(r["grad_mse"])) < 1e-15


@pytest.mark.parametrize("z, y", [c for c in CASES if max(map(abs, c[0])) < 30])
def test_gradients_match_central_differences(z, y):
    r = lesson(part="example", logits=z, y=y)
    zz, h = np.array(z), 1e-6
    p, loss_ce, loss_mse = by_hand(zz, y)
    np.testing.assert_allclose(r["p"], p, rtol=1e-13)
    assert r["loss_ce"] == pytest.approx(loss_ce, rel=1e-13, abs=1e-15)
    assert r["loss_mse"] == pytest.approx(loss_mse, rel=1e-13)
    for k in range(len(z)):
        e = np.eye(len(z))[k] * h
        up, down = by_hand(zz + e, y), by_hand(zz - e, y)
        assert r["grad_ce"][k] == pytest.approx((up[1] - down[1]) / (2 * h), abs=1e-8)
        assert r["grad_mse"][k] == pytest.approx((up[2] - down[2]) / (2 * h), abs=1e-9)


def test_sweep_moves_only_z_y_and_hits_each_target_probability():
    z, y = [2.0, 1.5, -1.0, 0.3], 2
    s = lesson(part="sweep", logits=z, y=y)
    assert s["steps"] == list(range(SWEEP_STEPS)) and len(s["p_y"]) == SWEEP_STEPS
    targets = 0.5 * 10.0 ** (-np.arange(SWEEP_STEPS) / 10)
    np.testing.assert_allclose(s["target_p_y"], targets, rtol=1e-15)
    np.testing.assert_allclose(s["p_y"], targets, rtol=1e-12)
    assert s["p_y"][0] == pytest.approx(0.5, rel=1e-12) and s["p_y"][-1] == pytest.approx(1e-4, rel=3e-3)
    for z_y, p in zip(s["z_y"], s["p_y"]):
        moved = np.array(z)
        moved[y] = z_y
        assert by_hand(moved, y)[0][y] == pytest.approx(p, rel=1e-13)
    own = by_hand(np.array(z), y)[0][y]
    assert s["example_p_y"] == pytest.approx(own, rel=1e-13)
    assert s["example_step"] == pytest.approx(10 * np.log10(0.5 / own), rel=1e-12)


@pytest.mark.parametrize("z, y", [([2.0, 1.5, -1.0, 0.3], 2), ([0.0, 0.0], 0), ([1.0, -2.0, 4.0, 0.0, 3.0, -1.0], 5)])
def test_sweep_ce_stays_near_one_while_mse_vanishes(z, y):
    s = lesson(part="sweep", logits=z, y=y)
    p, ce, mse, ratio = (np.array(s[k]) for k in ("p_y", "ce_grad", "mse_grad", "ratio"))
    C = len(z)
    q = np.delete(by_hand(np.array(z), y)[0], y)
    q /= q.sum()  # moving z_y keeps the other classes' ratios
    np.testing.assert_allclose(ce, 1 - p, rtol=1e-12)
    np.testing.assert_allclose(mse, 2 / C * p * (1 - p) ** 2 * (1 + q @ q), rtol=1e-10)
    assert np.all(np.diff(ce) > 0) and ce[-1] > 0.9998  # rises towards 1 as ŷ_y falls
    # ratio = C / (2p(1 − p)(1 + ‖q‖²)): it grows as ŷ_y falls, by about 2500× over the sweep
    assert np.all(np.diff(ratio) > 0)
    assert ratio[-1] / ratio[0] == pytest.approx(p[0] * (1 - p[0]) / (p[-1] * (1 - p[-1])), rel=1e-10)
    # MSE's rises while ŷ_y falls to 1/3, then falls with it: p(1 − p)² peaks at p = 1/3
    below, above = p[:-1] <= 1 / 3, p[1:] >= 1 / 3  # both ends of a step
    assert below.sum() >= 30 and above.sum() >= 1
    assert np.all(np.diff(mse)[below] < 0) and np.all(np.diff(mse)[above] > 0)
    assert mse[-1] < 2 / C * 2e-4 and mse[-1] < 1e-3 * ce[-1]


def test_challenge_flags_are_the_servers():
    wrong = lesson(part="example", logits=[4.0, 0.0, -1.0], y=1)
    assert wrong["p_y"] < 0.05 and wrong["confidently_wrong"] is True
    assert wrong["ratio"] >= 10 and wrong["ce_10x_mse"] is True
    nearly = lesson(part="example", logits=[2.0, 0.0, -1.0], y=1)  # ŷ_y ≈ 0.114
    assert nearly["p_y"] > 0.05 and nearly["confidently_wrong"] is False and nearly["ce_10x_mse"] is False
    # confidently right: CE's gradient is over 10× MSE's, but the example is not wrong
    right = lesson(part="example", logits=[4.0, 0.0, -1.0], y=0)
    assert right["ratio"] > 10 and right["confidently_wrong"] is False and right["ce_10x_mse"] is False
    # the one rounding case: ŷ_y = 1.0 exactly leaves both gradients at the true class 0
    assert lesson(part="example", logits=[30.0, -30.0], y=0)["p_y"] == 1.0


@pytest.mark.parametrize("fields, message", [
    (dict(part="example", logits=[1.0, 2.0, 3.0], y=3), "out of range for 3 logits"),
    (dict(part="example", logits=[1.0, 2.0], y=-1), "greater than or equal to 0"),
    (dict(part="sweep", logits=[0.0] * 7, y=0), "at most 6 items"),
    (dict(part="example", logits=[0.0] * 7, y=6), "less than or equal to 5"),
    (dict(part="example", logits=[1.0], y=0), "at least 2 items"),
    (dict(part="example", logits=[30.5, 0.0], y=0), "less than or equal to 30"),
    (dict(part="sweep", logits=[0.0, -31.0], y=0), "greater than or equal to -30"),
    (dict(part="example", logits=[float("nan"), 0.0], y=0), "finite number"),
    (dict(part="example", logits=["1", 0.0], y=0), "valid number"),
    (dict(part="example", logits=[1.0, 0.0], y=1.0), "valid integer"),
    (dict(part="example", logits=[1.0, 0.0], y=0, extra=1), "Extra inputs"),
    (dict(part="example", logits=[1.0, 0.0]), "Field required"),
    (dict(part="sideways", logits=[1.0, 0.0], y=0), "part"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        SoftmaxRequest.model_validate(fields)


def test_integer_logits_are_numbers_as_json_sends_them():
    assert lesson(part="example", logits=[2, 1, -1], y=0) == lesson(part="example", logits=[2.0, 1.0, -1.0], y=0)


def test_the_session_answers_the_lesson_message():
    s = Session(Limits(), RunConfig.from_dict({"data": {"name": "xor"}, "model": {"hidden": [3]}}))
    request = {"part": "example", "logits": [0.5, -0.5, 3], "y": 1}
    (reply,) = s.handle(json.dumps({"type": "lesson", "chapter": "softmax", "request": request}))
    assert reply["type"] == "lesson" and reply["result"] == json.loads(json.dumps(lesson(**request)))
    (bad,) = s.handle(json.dumps({"type": "lesson", "chapter": "softmax", "request": {**request, "y": 3}}))
    assert bad["type"] == "error" and "softmax" in bad["message"] and "out of range" in bad["message"]
