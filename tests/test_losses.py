"""Losses: values from their formulas, fused gradients, central differences, stability."""

import numpy as np
import pytest

import deltaflow as df
from deltaflow.nn.losses import get_loss


def _one_hot(labels, C, dtype=np.float64):
    return np.eye(C, dtype=dtype)[labels]


def _probability_rows(rng, B, C):
    p = rng.random((B, C)) + 0.05
    return p / p.sum(axis=1, keepdims=True)


# ----------------------------------------------------------------- softmax family


def test_softmax_rows_are_distributions_and_match_formula():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((6, 5)) * 4
    p = df.softmax(z)
    naive = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(p, naive, rtol=1e-13)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    np.testing.assert_allclose(df.log_softmax(z), np.log(naive), rtol=1e-12, atol=1e-14)


def test_softmax_is_shift_invariant_and_never_overflows():
    z = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0]])
    with np.errstate(all="raise"):
        p = df.softmax(z)
        lp = df.log_softmax(z)
    small = df.softmax(np.array([[0.0, 1.0, -1.0]]))
    np.testing.assert_allclose(p[0], small[0], rtol=1e-14)
    np.testing.assert_allclose(p[1], df.softmax(np.array([[0.0, -1.0, 1.0]]))[0], rtol=1e-14)
    assert np.all(np.isfinite(lp))
    z2 = np.array([[0.0, 2000.0]])
    np.testing.assert_allclose(df.log_softmax(z2), [[-2000.0, 0.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_keeps_dtype(dtype):
    z = np.ones((2, 3), dtype=dtype)
    assert df.softmax(z).dtype == dtype and df.log_softmax(z).dtype == dtype


# ----------------------------------------------------------------- SoftmaxCrossEntropy


def test_cross_entropy_value_int_labels():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((8, 4))
    labels = rng.integers(0, 4, 8)
    loss = df.SoftmaxCrossEntropy()
    value = loss.forward(z, labels)
    assert isinstance(value, float)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert value == pytest.approx(-np.mean(np.log(p[np.arange(8), labels])), rel=1e-13)


def test_cross_entropy_int_and_one_hot_agree():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    a, b = df.SoftmaxCrossEntropy(), df.SoftmaxCrossEntropy()
    assert a.forward(z, labels) == pytest.approx(b.forward(z, _one_hot(labels, 3)), rel=1e-14)
    np.testing.assert_allclose(a.backward(), b.backward(), rtol=1e-14, atol=1e-16)


def test_cross_entropy_gradient_is_softmax_minus_target_over_B():
    rng = np.random.default_rng(3)
    B, C = 6, 5
    z = rng.standard_normal((B, C))
    for target in (rng.integers(0, C, B), _one_hot(rng.integers(0, C, B), C), _probability_rows(rng, B, C)):
        loss = df.SoftmaxCrossEntropy()
        loss.forward(z, target)
        y = _one_hot(target, C) if target.ndim == 1 else target
        np.testing.assert_allclose(loss.backward(), (df.softmax(z) - y) / B, rtol=1e-13, atol=1e-16)


def test_cross_entropy_gradient_for_rows_that_do_not_sum_to_one():
    """∂L/∂z_ik = (p_ik Σ_k y_ik − y_ik)/B: the softmax is weighted by the row's sum
    (an all-zero row contributes nothing), as finite differences of L say."""
    rng = np.random.default_rng(7)
    B, C = 5, 4
    z = rng.standard_normal((B, C))
    y = rng.uniform(0.0, 2.0, (B, C))
    y[2] = 0.0
    loss = df.SoftmaxCrossEntropy()
    loss.forward(z, y)
    g = loss.backward()
    np.testing.assert_allclose(g, (df.softmax(z) * y.sum(axis=1, keepdims=True) - y) / B, rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(g[2], 0.0)
    assert df.gradcheck(df.Identity(), df.SoftmaxCrossEntropy(), z, y) < 1e-7


def test_cross_entropy_probability_targets_value():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((4, 3))
    y = _probability_rows(rng, 4, 3)
    expected = -(y * df.log_softmax(z)).sum() / 4
    assert df.SoftmaxCrossEntropy().forward(z, y) == pytest.approx(expected, rel=1e-13)


def _logit_net(rng, n_in, C):
    return df.Sequential([df.Dense(n_in, C, init="torch", dtype=np.float64, rng=rng)])


@pytest.mark.parametrize("kind", ["int", "one_hot", "probabilities"])
def test_cross_entropy_gradcheck(kind):
    rng = np.random.default_rng(5)
    B, C = 6, 4
    X = rng.standard_normal((B, 3))
    labels = rng.integers(0, C, B)
    target = {"int": labels, "one_hot": _one_hot(labels, C), "probabilities": _probability_rows(rng, B, C)}[kind]
    assert df.gradcheck(df.Identity(), df.SoftmaxCrossEntropy(), rng.standard_normal((B, C)), target) < 1e-6
    assert df.gradcheck(_logit_net(rng, 3, C), df.SoftmaxCrossEntropy(), X, target) < 1e-6


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]])
    loss = df.SoftmaxCrossEntropy()
    with np.errstate(over="raise", invalid="raise"):
        value = loss.forward(z, np.array([0, 0]))
        g = loss.backward()
    assert value == pytest.approx(1e4 / 2)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]], atol=1e-15)


def test_cross_entropy_accepts_unsigned_labels_and_lists():
    z = np.zeros((3, 3))
    expected = np.log(3.0)
    assert df.SoftmaxCrossEntropy().forward(z, np.array([0, 1, 2], dtype=np.uint8)) == pytest.approx(expected)
    assert df.SoftmaxCrossEntropy().forward(z, [0, 1, 2]) == pytest.approx(expected)


# ----------------------------------------------------------------- BinaryCrossEntropy


def _bce(p, y):
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_bce_from_logits_value_and_gradient():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((5, 2)) * 3
    y = rng.integers(0, 2, (5, 2)).astype(np.float64)
    loss = df.BinaryCrossEntropy()
    s = 1.0 / (1.0 + np.exp(-z))
    assert loss.forward(z, y) == pytest.approx(_bce(s, y), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (s - y) / z.size, rtol=1e-12, atol=1e-16)


def test_bce_from_probabilities_value_and_gradient():
    rng = np.random.default_rng(7)
    p = rng.uniform(0.05, 0.95, (6, 1))
    y = rng.random((6, 1))  # soft targets are allowed
    loss = df.BinaryCrossEntropy(from_logits=False)
    assert loss.forward(p, y) == pytest.approx(_bce(p, y), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (p - y) / (p * (1 - p)) / p.size, rtol=1e-12)


def test_bce_logits_and_probabilities_agree():
    rng = np.random.default_rng(8)
    z = rng.standard_normal((4, 3))
    y = rng.random((4, 3))
    a, b = df.BinaryCrossEntropy(True), df.BinaryCrossEntropy(False)
    s = df.sigmoid(z)
    assert a.forward(z, y) == pytest.approx(b.forward(s, y), rel=1e-12)
    # chain rule through σ: dL/dz = dL/dŷ · σ'(z)
    np.testing.assert_allclose(a.backward(), b.backward() * s * (1 - s), rtol=1e-10)


def test_bce_from_logits_is_stable():
    z = np.array([[800.0], [-800.0], [800.0], [-800.0]])
    y = np.array([[1.0], [0.0], [0.0], [1.0]])
    loss = df.BinaryCrossEntropy()
    with np.errstate(over="raise", invalid="raise"):
        value = loss.forward(z, y)
        g = loss.backward()
    assert value == pytest.approx((0 + 0 + 800 + 800) / 4)
    np.testing.assert_allclose(g, [[0.0], [0.0], [0.25], [-0.25]])


def test_bce_from_probabilities_clamps_log_at_minus_100():
    p = np.array([[0.0], [1.0]])
    y = np.array([[1.0], [0.0]])
    with np.errstate(divide="ignore"):
        value = df.BinaryCrossEntropy(from_logits=False).forward(p, y)
    assert value == pytest.approx(100.0)


def test_bce_gradcheck_from_logits():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((6, 3))
    y = rng.random((6, 2))
    assert df.gradcheck(df.Identity(), df.BinaryCrossEntropy(), rng.standard_normal((6, 2)), y) < 1e-6
    assert df.gradcheck(_logit_net(rng, 3, 2), df.BinaryCrossEntropy(), X, y) < 1e-6


def test_bce_gradcheck_from_probabilities():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((6, 3))
    y = rng.integers(0, 2, (6, 1)).astype(np.float64)
    net = df.Sequential([df.Dense(3, 1, init="torch", dtype=np.float64, rng=rng), df.Sigmoid()])
    assert df.gradcheck(net, df.BinaryCrossEntropy(from_logits=False), X, y) < 1e-6
    p = rng.uniform(0.1, 0.9, (5, 2))
    assert df.gradcheck(df.Identity(), df.BinaryCrossEntropy(from_logits=False), p, rng.random((5, 2))) < 1e-6


# ----------------------------------------------------------------- MeanSquaredError


def test_mse_value_and_gradient():
    rng = np.random.default_rng(11)
    pred, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    loss = df.MeanSquaredError()
    assert loss.forward(pred, y) == pytest.approx(np.mean((y - pred) ** 2), rel=1e-14)
    np.testing.assert_allclose(loss.backward(), 2 * (pred - y) / 15, rtol=1e-14)


def test_mse_gradcheck():
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    assert df.gradcheck(_logit_net(rng, 3, 2), df.MeanSquaredError(), X, y) < 1e-6


# ----------------------------------------------------------------- common contract

LOSS_CASES = [
    (df.SoftmaxCrossEntropy, lambda rng: rng.integers(0, 3, 4)),
    (df.SoftmaxCrossEntropy, lambda rng: _probability_rows(rng, 4, 3)),
    (lambda: df.BinaryCrossEntropy(True), lambda rng: rng.random((4, 3))),
    (lambda: df.BinaryCrossEntropy(False), lambda rng: rng.random((4, 3))),
    (df.MeanSquaredError, lambda rng: rng.standard_normal((4, 3))),
]


@pytest.mark.parametrize("make, target", LOSS_CASES)
def test_backward_before_forward_raises_and_backward_repeats(make, target):
    rng = np.random.default_rng(13)
    loss = make()
    with pytest.raises(ValueError, match="backward\\(\\) called before forward\\(\\)"):
        loss.backward()
    pred = rng.uniform(0.1, 0.9, (4, 3))
    y = target(rng)
    value = loss(pred, y)
    assert isinstance(value, float)
    g1 = loss.backward().copy()
    g2 = loss.backward()
    np.testing.assert_array_equal(g1, g2)
    assert g1.shape == pred.shape


def test_get_loss():
    assert isinstance(get_loss("cross_entropy"), df.SoftmaxCrossEntropy)
    assert isinstance(get_loss("bce"), df.BinaryCrossEntropy)
    assert isinstance(get_loss("mse"), df.MeanSquaredError)
    mse = df.MeanSquaredError()
    assert get_loss(mse) is mse
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        get_loss("hinge")
