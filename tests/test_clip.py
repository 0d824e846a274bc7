"""Gradient clipping: the global norm, the rescaling ∇ → t·∇/‖∇‖, and non-finite norms."""

import math

import numpy as np
import pytest

import deltaflow as df


def _params(*grads):
    out = []
    for i, g in enumerate(grads):
        p = df.Param(np.zeros_like(g), f"p{i}")
        p.grad[...] = g
        out.append(p)
    return out


def test_global_norm_value_over_all_parameters():
    ps = _params(np.array([[3.0, 0.0], [0.0, 0.0]]), np.array([4.0]), np.array([0.0, 12.0]))
    before = [p.grad.copy() for p in ps]
    assert df.clip_grad_norm(ps, max_norm=100.0) == pytest.approx(13.0, rel=1e-15)
    for p, g in zip(ps, before):
        np.testing.assert_array_equal(p.grad, g)  # below the threshold: untouched


def test_scaling_to_max_norm_keeps_direction():
    rng = np.random.default_rng(0)
    ps = _params(rng.standard_normal((4, 3)) * 10, rng.standard_normal(3) * 10)
    before = [p.grad.copy() for p in ps]
    total = math.sqrt(sum(float((g * g).sum()) for g in before))
    returned = df.clip_grad_norm(ps, max_norm=1.5)
    assert returned == pytest.approx(total, rel=1e-14)
    coef = 1.5 / (total + 1e-6)
    for p, g in zip(ps, before):
        np.testing.assert_allclose(p.grad, g * coef, rtol=1e-14)
    after = math.sqrt(sum(float((p.grad**2).sum()) for p in ps))
    assert after == pytest.approx(1.5, rel=1e-6) and after <= 1.5


def test_accepts_any_iterable_once():
    ps = _params(np.array([6.0, 8.0]))
    assert df.clip_grad_norm((p for p in ps), 5.0) == pytest.approx(10.0)
    np.testing.assert_allclose(ps[0].grad, np.array([6.0, 8.0]) * 5.0 / (10.0 + 1e-6))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_norm_is_reported_not_hidden(bad):
    ps = _params(np.array([1.0, bad]), np.array([2.0]))
    before = [p.grad.copy() for p in ps]
    total = df.clip_grad_norm(ps, max_norm=1.0)
    assert not math.isfinite(total)
    if np.isnan(bad):
        assert math.isnan(total)
    else:
        assert total == math.inf
    for p, g in zip(ps, before):
        np.testing.assert_array_equal(p.grad, g)
    with pytest.raises(ValueError, match="non-finite"):
        df.clip_grad_norm(ps, max_norm=1.0, error_if_nonfinite=True)


def test_float32_gradients_keep_dtype_and_do_not_overflow_the_norm():
    g = np.full(100, 1e30, dtype=np.float32)  # Σ g² = 1e62 overflows float32
    ps = _params(g)
    total = df.clip_grad_norm(ps, max_norm=1.0)
    assert total == pytest.approx(1e31, rel=1e-6)
    assert ps[0].grad.dtype == np.float32
    assert np.all(np.isfinite(ps[0].grad))
    np.testing.assert_allclose(ps[0].grad, 0.1, rtol=1e-5)


def test_bad_max_norm():
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="max_norm must be positive"):
            df.clip_grad_norm(_params(np.ones(2)), bad)


def test_clip_grad_value():
    ps = _params(np.array([-3.0, -0.5, 0.0, 0.7, 9.0], dtype=np.float32), np.array([[2.0, -2.0]]))
    arrays = [p.grad for p in ps]
    assert df.clip_grad_value(ps, 1.0) is None
    np.testing.assert_array_equal(ps[0].grad, np.array([-1.0, -0.5, 0.0, 0.7, 1.0], dtype=np.float32))
    np.testing.assert_array_equal(ps[1].grad, [[1.0, -1.0]])
    assert ps[0].grad.dtype == np.float32
    assert all(p.grad is a for p, a in zip(ps, arrays))
    with pytest.raises(ValueError, match="clip value must be positive"):
        df.clip_grad_value(ps, 0.0)


def test_clip_a_real_network_between_backward_and_step():
    rng = np.random.default_rng(1)
    net = df.mlp([3, 5, 2], dtype=np.float64, rng=0)
    loss = df.SoftmaxCrossEntropy()
    loss.forward(net.forward(rng.standard_normal((4, 3)) * 50), rng.integers(0, 2, 4))
    net.backward(loss.backward())
    total = math.sqrt(sum(float((p.grad**2).sum()) for p in net.parameters()))
    assert df.clip_grad_norm(net.parameters(), total / 2) == pytest.approx(total, rel=1e-14)
    after = math.sqrt(sum(float((p.grad**2).sum()) for p in net.parameters()))
    assert after == pytest.approx(total / 2, rel=1e-6)
