"""dtypes end to end: float32 stays float32, float64 stays float64, nothing casts silently."""

import numpy as np
import pytest

import deltaflow as df

DTYPES = [np.float32, np.float64]
ACTIVATIONS = [
    df.Sigmoid, df.Tanh, df.ReLU, df.LeakyReLU, df.ELU, df.GELU,
    lambda: df.GELU("tanh"), df.Identity,
    lambda: df.LeakyReLU(np.float64(0.2)), lambda: df.ELU(np.float64(0.5)),
]


def _x(dtype, shape=(6, 4), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _check(arrays, dtype):
    for a in arrays:
        assert a.dtype == dtype, a.dtype


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make", ACTIVATIONS)
def test_activation(dtype, make):
    act = make()
    x = _x(dtype)
    _check([act.forward(x), act.derivative(x), act.backward(_x(dtype, seed=1)), act(x)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dense(dtype):
    d = df.Dense(4, 3, dtype=dtype, rng=0)
    y = d.forward(_x(dtype))
    dx = d.backward(np.ones_like(y))
    _check([d.W.value, d.b.value, d.W.grad, d.b.grad, y, dx], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.5, np.float64(0.3), 1.0])
def test_dropout(dtype, p):
    layer = df.Dropout(p, rng=0)
    for training in (True, False):
        y = layer.forward(_x(dtype), training=training)
        _check([y, layer.backward(np.ones_like(y))], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_norms(dtype):
    bn = df.BatchNorm(4, momentum=np.float64(0.1), eps=np.float64(1e-5), dtype=dtype)
    ln = df.LayerNorm(4, eps=np.float64(1e-5), dtype=dtype)
    for layer in (bn, ln):
        for training in (True, False):
            y = layer.forward(_x(dtype), training=training)
            dx = layer.backward(np.ones_like(y))
            _check([y, dx] + [p.value for p in layer.parameters()] + [p.grad for p in layer.parameters()], dtype)
    _check([bn.running_mean, bn.running_var], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_losses(dtype):
    rng = np.random.default_rng(0)
    z = _x(dtype, (5, 3))
    probs = rng.random((5, 3)).astype(dtype)
    cases = [
        (df.SoftmaxCrossEntropy(), z, rng.integers(0, 3, 5)),
        (df.SoftmaxCrossEntropy(), z, np.eye(3, dtype=dtype)[[0, 1, 2, 1, 0]]),
        (df.SoftmaxCrossEntropy(), z, (probs / probs.sum(axis=1, keepdims=True)).astype(dtype)),
        (df.BinaryCrossEntropy(), z, probs),
        (df.BinaryCrossEntropy(from_logits=False), df.sigmoid(z), probs),
        (df.MeanSquaredError(), z, probs),
    ]
    for loss, pred, target in cases:
        value = loss.forward(pred, target)
        assert isinstance(value, float) and np.isfinite(value)
        _check([loss.backward()], dtype)
    _check([df.softmax(z), df.log_softmax(z), df.sigmoid(z)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm", [None, "batch", "layer", "residual"])
def test_network_training_step(dtype, norm):
    net = df.mlp([4, 5, 5, 3], activation="gelu", norm=norm, dropout=0.1, dtype=dtype, rng=0)
    assert net.dtype == dtype
    loss = df.SoftmaxCrossEntropy()
    out = net.forward(_x(dtype))
    loss.forward(out, np.array([0, 1, 2, 0, 1, 2]))
    dx = net.backward(loss.backward())
    _check([out, dx] + [p.value for p in net.parameters()] + [p.grad for p in net.parameters()], dtype)
    _check([b for _, b in net.named_buffers()] + list(net.state_dict().values()), dtype)
    df.clip_grad_norm(net.parameters(), 1e-3)
    df.clip_grad_value(net.parameters(), 1e-4)
    _check([p.grad for p in net.parameters()], dtype)
    _check([net.eval().forward(_x(dtype))], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_residual_and_collapse(dtype):
    block = df.Sequential([df.Dense(4, 4, dtype=dtype, rng=0), df.Tanh()])
    res = df.Residual(block)
    assert res.norm.gamma.value.dtype == dtype
    y = res.forward(_x(dtype))
    _check([y, res.backward(np.ones_like(y))], dtype)
    one = df.collapse_linear(df.mlp([4, 3, 2], activation="identity", dtype=dtype, rng=0))
    _check([one.W.value, one.b.value], dtype)


def test_float64_input_into_float32_network_raises():
    net = df.mlp([4, 3, 2], dtype=np.float32, rng=0)
    with pytest.raises(ValueError, match=r"expected float32 input, got float64"):
        net.forward(_x(np.float64))
    with pytest.raises(ValueError, match=r"expected float32 input, got float64"):
        net[0].forward(_x(np.float64))
    with pytest.raises(ValueError, match=r"expected float64 input, got float32"):
        df.mlp([4, 2], dtype=np.float64, rng=0).forward(_x(np.float32))
    with pytest.raises(ValueError, match=r"expected float32 input, got float64"):
        df.BatchNorm(4).forward(_x(np.float64))
    with pytest.raises(ValueError, match=r"expected float32 input, got float64"):
        df.LayerNorm(4).forward(_x(np.float64))


def test_default_dtype_is_float32():
    assert df.Dense(2, 2).W.value.dtype == np.float32
    assert df.mlp([2, 3, 1]).dtype == np.float32
    assert df.BatchNorm(2).gamma.value.dtype == np.float32
    assert df.LayerNorm(2).gamma.value.dtype == np.float32


def test_loss_targets_must_match_prediction_dtype():
    z = _x(np.float32, (3, 2))
    with pytest.raises(ValueError, match="target dtype float64 does not match prediction dtype float32"):
        df.MeanSquaredError().forward(z, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="dtype"):
        df.SoftmaxCrossEntropy().forward(z, np.eye(2)[[0, 1, 0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_step(dtype):
    step = df.Step()
    _check([step.forward(_x(dtype)), step.derivative(_x(dtype))], dtype)
