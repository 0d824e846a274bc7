"""BatchNorm and LayerNorm: the formulas, running statistics, train/eval, central differences."""

import numpy as np
import pytest

import deltaflow as df

F64 = np.float64


def _random_affine(layer, rng):
    layer.gamma.value[...] = rng.uniform(0.5, 1.5, layer.n)
    layer.beta.value[...] = rng.standard_normal(layer.n)


# ----------------------------------------------------------------- BatchNorm


def test_batchnorm_defaults_and_parameters():
    bn = df.BatchNorm(4)
    assert bn.eps == 1e-5 and bn.momentum == 0.1
    assert [p.name for p in bn.parameters()] == ["gamma", "beta"]
    np.testing.assert_array_equal(bn.gamma.value, np.ones(4))
    np.testing.assert_array_equal(bn.beta.value, np.zeros(4))
    np.testing.assert_array_equal(bn.running_mean, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var, np.ones(4))
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var"]
    assert bn.running_mean.dtype == np.float32


def test_batchnorm_training_forward_formula():
    rng = np.random.default_rng(0)
    bn = df.BatchNorm(3, dtype=F64)
    _random_affine(bn, rng)
    z = rng.standard_normal((8, 3)) * [1.0, 5.0, 0.1] + [2.0, -1.0, 0.0]
    mu = z.sum(axis=0) / 8
    var = ((z - mu) ** 2).sum(axis=0) / 8
    expected = bn.gamma.value * (z - mu) / np.sqrt(var + 1e-5) + bn.beta.value
    np.testing.assert_allclose(bn.forward(z, training=True), expected, rtol=1e-12, atol=1e-14)


def test_batchnorm_running_statistics_follow_pytorch():
    rng = np.random.default_rng(1)
    bn = df.BatchNorm(2, momentum=0.1, dtype=F64)
    rm, rv = np.zeros(2), np.ones(2)
    for B in (5, 9, 2):
        z = rng.standard_normal((B, 2)) * 3 + 1
        bn.forward(z, training=True)
        rm = 0.9 * rm + 0.1 * z.mean(axis=0)
        rv = 0.9 * rv + 0.1 * z.var(axis=0, ddof=1)  # unbiased for the running estimate
        np.testing.assert_allclose(bn.running_mean, rm, rtol=1e-13)
        np.testing.assert_allclose(bn.running_var, rv, rtol=1e-13)


def test_batchnorm_momentum_extremes():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((6, 3))
    frozen = df.BatchNorm(3, momentum=0.0, dtype=F64)
    frozen.forward(z)
    np.testing.assert_array_equal(frozen.running_mean, 0.0)
    np.testing.assert_array_equal(frozen.running_var, 1.0)
    last = df.BatchNorm(3, momentum=1.0, dtype=F64)
    last.forward(rng.standard_normal((6, 3)))
    last.forward(z)
    np.testing.assert_allclose(last.running_mean, z.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(last.running_var, z.var(axis=0, ddof=1), rtol=1e-14)


def test_batchnorm_running_stats_updated_in_place():
    bn = df.BatchNorm(2, dtype=F64)
    rm, rv = bn.running_mean, bn.running_var
    bn.forward(np.array([[1.0, 2.0], [3.0, 5.0]]))
    assert bn.running_mean is rm and bn.running_var is rv


def test_batchnorm_eval_uses_running_stats_and_does_not_update_them():
    rng = np.random.default_rng(3)
    bn = df.BatchNorm(3, dtype=F64)
    _random_affine(bn, rng)
    for _ in range(3):
        bn.forward(rng.standard_normal((10, 3)) * 2 + 0.5)
    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    z = rng.standard_normal((4, 3))
    y = bn.forward(z, training=False)
    np.testing.assert_allclose(y, bn.gamma.value * (z - rm) / np.sqrt(rv + 1e-5) + bn.beta.value, rtol=1e-13)
    np.testing.assert_array_equal(bn.running_mean, rm)
    np.testing.assert_array_equal(bn.running_var, rv)
    # eval mode works per example: a batch of one is fine
    np.testing.assert_allclose(bn.forward(z[:1], training=False), y[:1], rtol=1e-14)


def test_batchnorm_training_output_differs_from_eval():
    rng = np.random.default_rng(4)
    bn = df.BatchNorm(2, dtype=F64)
    z = rng.standard_normal((6, 2)) * 4 + 3
    assert not np.allclose(bn.forward(z, training=True), bn.forward(z, training=False))


def test_batchnorm_gradcheck_training():
    rng = np.random.default_rng(5)
    bn = df.BatchNorm(4, dtype=F64)
    _random_affine(bn, rng)
    X = rng.standard_normal((7, 4)) * 2 + 1
    worst, errors = df.gradcheck(
        df.Sequential([bn]), df.MeanSquaredError(), X, rng.standard_normal((7, 4)), return_errors=True
    )
    assert worst < 1e-6, errors
    assert set(errors) == {"0.gamma", "0.beta", "input"}


def test_batchnorm_gradcheck_inside_network():
    rng = np.random.default_rng(6)
    net = df.mlp([3, 6, 5, 4], activation="tanh", norm="batch", init="torch", dtype=F64, rng=rng)
    for layer in net.modules():
        if isinstance(layer, df.BatchNorm):
            _random_affine(layer, rng)
    X = rng.standard_normal((8, 3))
    assert df.gradcheck(net, df.SoftmaxCrossEntropy(), X, rng.integers(0, 4, 8)) < 1e-6


def _numeric_input_grad(f, x, h=1e-6):
    g = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


def test_batchnorm_eval_backward_is_affine_and_matches_differences():
    rng = np.random.default_rng(7)
    bn = df.BatchNorm(3, dtype=F64)
    _random_affine(bn, rng)
    bn.forward(rng.standard_normal((10, 3)) * 3)
    X = rng.standard_normal((4, 3))
    w = rng.standard_normal((4, 3))
    bn.forward(X, training=False)
    dX = bn.backward(w)
    np.testing.assert_allclose(dX, w * bn.gamma.value / np.sqrt(bn.running_var + 1e-5), rtol=1e-13)
    numeric = _numeric_input_grad(lambda x: float((bn.forward(x, training=False) * w).sum()), X.copy())
    np.testing.assert_allclose(dX, numeric, rtol=1e-7, atol=1e-9)


def test_batchnorm_backward_before_forward_and_repeat():
    bn = df.BatchNorm(2, dtype=F64)
    with pytest.raises(ValueError, match=r"BatchNorm\(2\): backward\(\) called before forward\(\)"):
        bn.backward(np.ones((3, 2)))
    rng = np.random.default_rng(8)
    bn.forward(rng.standard_normal((5, 2)))
    dy = rng.standard_normal((5, 2))
    first = bn.backward(dy).copy()
    np.testing.assert_array_equal(bn.backward(dy), first)


def test_batchnorm_input_gradient_sums_to_zero_per_feature():
    # ẑ is invariant to adding a constant to a feature column, so dL/dz sums to 0 over the batch
    rng = np.random.default_rng(9)
    bn = df.BatchNorm(3, dtype=F64)
    bn.forward(rng.standard_normal((6, 3)))
    dX = bn.backward(rng.standard_normal((6, 3)))
    np.testing.assert_allclose(dX.sum(axis=0), 0.0, atol=1e-13)


# ----------------------------------------------------------------- LayerNorm


def test_layernorm_defaults_and_formula():
    rng = np.random.default_rng(10)
    ln = df.LayerNorm(5, dtype=F64)
    assert ln.eps == 1e-5 and [p.name for p in ln.parameters()] == ["gamma", "beta"]
    assert list(ln.named_buffers()) == []
    _random_affine(ln, rng)
    z = rng.standard_normal((4, 5)) * 3 + 2
    mu = z.mean(axis=1, keepdims=True)
    var = z.var(axis=1, keepdims=True)
    expected = ln.gamma.value * (z - mu) / np.sqrt(var + 1e-5) + ln.beta.value
    np.testing.assert_allclose(ln.forward(z), expected, rtol=1e-12, atol=1e-14)


def test_layernorm_same_in_train_and_eval_and_per_example():
    rng = np.random.default_rng(11)
    ln = df.LayerNorm(4, dtype=F64)
    z = rng.standard_normal((5, 4))
    y = ln.forward(z, training=True)
    np.testing.assert_array_equal(ln.forward(z, training=False), y)
    np.testing.assert_allclose(ln.forward(z[2:3]), y[2:3], rtol=1e-14)
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-14)


def test_layernorm_gradcheck():
    rng = np.random.default_rng(12)
    ln = df.LayerNorm(6, dtype=F64)
    _random_affine(ln, rng)
    X = rng.standard_normal((4, 6)) * 2
    worst, errors = df.gradcheck(ln, df.MeanSquaredError(), X, rng.standard_normal((4, 6)), return_errors=True)
    assert worst < 1e-6, errors
    net = df.mlp([3, 5, 5, 2], activation="gelu", norm="layer", init="torch", dtype=F64, rng=rng)
    assert df.gradcheck(net, df.SoftmaxCrossEntropy(), rng.standard_normal((6, 3)), rng.integers(0, 2, 6)) < 1e-6


def test_layernorm_backward_before_forward_and_row_sums():
    ln = df.LayerNorm(3, dtype=F64)
    with pytest.raises(ValueError, match=r"LayerNorm\(3\): backward\(\) called before forward\(\)"):
        ln.backward(np.ones((2, 3)))
    rng = np.random.default_rng(13)
    ln.forward(rng.standard_normal((4, 3)))
    dX = ln.backward(rng.standard_normal((4, 3)))
    np.testing.assert_allclose(dX.sum(axis=1), 0.0, atol=1e-13)


@pytest.mark.parametrize("cls", [df.BatchNorm, df.LayerNorm])
def test_bad_hyperparameters(cls):
    with pytest.raises(ValueError, match="eps"):
        cls(3, eps=0.0)
    with pytest.raises(ValueError, match="positive integer"):
        cls(0)
    if cls is df.BatchNorm:
        with pytest.raises(ValueError, match="momentum"):
            cls(3, momentum=1.5)
