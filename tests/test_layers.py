"""Param, Dense and Dropout: the affine map, its three gradients, inverted dropout."""

import numpy as np
import pytest

import deltaflow as df

F64 = np.float64


# ----------------------------------------------------------------- Param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_param_holds_value_zero_grad_and_name(dtype):
    v = np.arange(6, dtype=dtype).reshape(2, 3)
    p = df.Param(v, "W")
    assert p.value is v and p.name == "W"
    assert p.grad.shape == v.shape and p.grad.dtype == dtype and not p.grad.any()
    assert "W" in repr(p) and "(2, 3)" in repr(p) and dtype().dtype.name in repr(p)
    with pytest.raises(AttributeError):
        p.other = 1  # __slots__: a typo cannot create a silent new attribute


# ----------------------------------------------------------------- Dense


def test_dense_shapes_layout_and_repr():
    d = df.Dense(3, 5, rng=0)
    assert d.W.value.shape == (5, 3) and d.b.value.shape == (5,)
    assert d.W.value.dtype == np.float32 and d.b.value.dtype == np.float32
    assert [p.name for p in d.parameters()] == ["W", "b"]
    assert d.parameters()[0] is d.W and d.parameters()[1] is d.b
    assert d.n_out(3) == 5 and d.n_in == 3
    assert repr(d) == "Dense(3→5)"
    nb = df.Dense(3, 5, bias=False, rng=0)
    assert nb.b is None and [p.name for p in nb.parameters()] == ["W"]


def test_dense_forward_is_z_equals_W_a_plus_b():
    rng = np.random.default_rng(0)
    d = df.Dense(4, 3, dtype=F64, rng=rng)
    X = rng.standard_normal((6, 4))
    Z = d.forward(X)
    for i in range(6):
        np.testing.assert_allclose(Z[i], d.W.value @ X[i] + d.b.value, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(Z, X @ d.W.value.T + d.b.value, rtol=1e-14)


def test_dense_forward_without_bias():
    rng = np.random.default_rng(1)
    d = df.Dense(4, 3, bias=False, dtype=F64, rng=rng)
    X = rng.standard_normal((2, 4))
    np.testing.assert_allclose(d.forward(X), X @ d.W.value.T, rtol=1e-14)


def test_dense_backward_formulas():
    rng = np.random.default_rng(2)
    d = df.Dense(4, 3, dtype=F64, rng=rng)
    X = rng.standard_normal((5, 4))
    delta = rng.standard_normal((5, 3))
    d.forward(X)
    dX = d.backward(delta)
    # per-example sums of the textbook outer products δ·aᵀ and δ
    dW = sum(np.outer(delta[i], X[i]) for i in range(5))
    db = delta.sum(axis=0)
    np.testing.assert_allclose(d.W.grad, dW, rtol=1e-13)
    np.testing.assert_allclose(d.b.grad, db, rtol=1e-13)
    np.testing.assert_allclose(dX, delta @ d.W.value, rtol=1e-13)
    np.testing.assert_allclose(dX[0], d.W.value.T @ delta[0], rtol=1e-13)


def test_dense_gradients_are_set_not_accumulated():
    rng = np.random.default_rng(3)
    d = df.Dense(2, 2, dtype=F64, rng=rng)
    X, dy = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    d.forward(X)
    d.backward(dy)
    first = (d.W.grad.copy(), d.b.grad.copy())
    d.backward(dy)
    np.testing.assert_array_equal(d.W.grad, first[0])
    np.testing.assert_array_equal(d.b.grad, first[1])
    W_grad_array = d.W.grad
    d.backward(dy)
    assert d.W.grad is W_grad_array  # filled in place: optimisers may hold the reference


def test_dense_backward_uses_the_last_forward():
    rng = np.random.default_rng(4)
    d = df.Dense(2, 3, dtype=F64, rng=rng)
    X1, X2 = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    dy = rng.standard_normal((4, 3))
    d.forward(X1)
    d.forward(X2)
    d.backward(dy)
    np.testing.assert_allclose(d.W.grad, dy.T @ X2, rtol=1e-13)


def test_dense_backward_before_forward_raises():
    with pytest.raises(ValueError, match=r"Dense\(2→3\): backward\(\) called before forward\(\)"):
        df.Dense(2, 3).backward(np.ones((1, 3), np.float32))


@pytest.mark.parametrize("init", ["torch", "xavier_uniform", "he_normal", "lecun_normal"])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_gradcheck(init, bias):
    rng = np.random.default_rng(5)
    d = df.Dense(4, 3, init=init, bias=bias, dtype=F64, rng=rng)
    X = rng.standard_normal((6, 4))
    worst, errors = df.gradcheck(d, df.MeanSquaredError(), X, rng.standard_normal((6, 3)), return_errors=True)
    assert worst < 1e-6
    assert set(errors) == ({"W", "b", "input"} if bias else {"W", "input"})


def test_dense_bias_init():
    assert not df.Dense(5, 7, init="he_normal", rng=0).b.value.any()
    b = df.Dense(5, 7, init="torch", rng=0).b.value
    assert b.any() and np.all(np.abs(b) <= 1 / np.sqrt(5))


def test_dense_seeded_init_is_deterministic():
    a, b, c = (df.Dense(6, 4, rng=s) for s in (7, 7, 8))
    np.testing.assert_array_equal(a.W.value, b.W.value)
    np.testing.assert_array_equal(a.b.value, b.b.value)
    assert not np.array_equal(a.W.value, c.W.value)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    np.testing.assert_array_equal(df.Dense(6, 4, rng=g1).W.value, df.Dense(6, 4, rng=g2).W.value)


def test_dense_callable_init():
    d = df.Dense(2, 3, init=lambda shape, rng, dtype: np.full(shape, 0.5, dtype=dtype))
    np.testing.assert_array_equal(d.W.value, np.full((3, 2), 0.5, np.float32))
    assert not d.b.value.any()


# ----------------------------------------------------------------- Dropout


def test_dropout_eval_and_p0_are_identity():
    x = np.random.default_rng(0).standard_normal((4, 5))
    for layer, training in ((df.Dropout(0.5, rng=0), False), (df.Dropout(0.0, rng=0), True)):
        y = layer.forward(x, training=training)
        np.testing.assert_array_equal(y, x)
        np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


def test_dropout_p1_drops_everything():
    x = np.ones((3, 4))
    layer = df.Dropout(1.0, rng=0)
    with np.errstate(all="raise"):
        y = layer.forward(x)
        g = layer.backward(np.ones_like(x))
    assert not y.any() and not g.any()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_mask_values_and_keep_rate(p):
    n = 200_000
    x = np.ones((n // 100, 100))
    y = df.Dropout(p, rng=1).forward(x)
    scale = 1.0 / (1.0 - p)
    kept = y != 0
    np.testing.assert_allclose(y[kept], scale, rtol=1e-15)
    se = np.sqrt(p * (1 - p) / n)
    assert abs(kept.mean() - (1 - p)) < 5 * se
    # inverted dropout keeps the expectation: E[y] = x
    assert abs(y.mean() - 1.0) < 5 * scale * se


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(2)
    layer = df.Dropout(0.5, rng=3)
    x = rng.standard_normal((6, 7))
    y = layer.forward(x)
    dy = rng.standard_normal((6, 7))
    dx = layer.backward(dy)
    mask = np.where(y != 0, 2.0, 0.0)
    np.testing.assert_array_equal(dx, dy * mask)
    np.testing.assert_array_equal(layer.backward(dy), dx)


def test_dropout_backward_before_forward_raises():
    with pytest.raises(ValueError, match=r"Dropout\(p=0.5\): backward\(\) called before forward\(\)"):
        df.Dropout(0.5).backward(np.ones((2, 2)))


def test_dropout_seeded_masks_repeat():
    x = np.ones((10, 10))
    a, b = df.Dropout(0.3, rng=11), df.Dropout(0.3, rng=11)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    first = a.forward(x)
    assert not np.array_equal(first, a.forward(x))  # a fresh mask per forward


def test_dropout_gradcheck():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 5))
    assert df.gradcheck(df.Dropout(0.4, rng=5), df.MeanSquaredError(), X, rng.standard_normal((6, 5))) < 1e-6
    net = df.Sequential(
        [
            df.Dense(5, 8, init="torch", dtype=F64, rng=rng),
            df.Tanh(),
            df.Dropout(0.3, rng=6),
            df.Dense(8, 3, init="torch", dtype=F64, rng=rng),
        ]
    )
    assert df.gradcheck(net, df.SoftmaxCrossEntropy(), X, rng.integers(0, 3, 6)) < 1e-6


def test_layer_base_defaults():
    layer = df.Layer()
    assert layer.parameters() == [] and layer.children() == [] and list(layer.named_buffers()) == []
    assert layer.n_out(7) == 7
    with pytest.raises(NotImplementedError):
        layer.forward(np.ones((1, 1)))
