"""Parity of the NumPy engine with PyTorch (CPU): networks, activations, losses, dropout.

Every deltaflow network built by ``mlp()`` is translated into the equivalent torch module
by copying every weight (``Dense.W`` is exactly ``nn.Linear.weight``; γ, β are the weight
and bias of ``nn.LayerNorm`` / ``nn.BatchNorm1d``), then the forward output, the loss, every
parameter gradient (paired by order: W before b, γ before β, layer order) and the input
gradient are compared.

Tolerances (``assert_close``): float64 ``rtol=1e-10``, float32 ``rtol=1e-5``; the absolute
tolerance is 1e-12 (float64) or 1e-6 (float32) times ``max(1, max |expected|)``, because an
entry near zero is a sum of terms of the array's own size and carries their rounding error.

Torch comes only from the ``torch`` fixture (``conftest.py``). The BatchNorm running
statistics and eval mode are in ``test_torch_parity_norm.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import deltaflow as df
from torch_helpers import ATOL, RTOL, assert_close, torch_dtype
from deltaflow.nn.activations import get_activation

pytestmark = pytest.mark.torch

DTYPES = [np.float64, np.float32]

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "identity"]
NORMS = [None, "batch", "layer", "residual"]
# ce_weights: non-negative target rows that do not sum to 1 (∂L/∂z = (p·Σy − y)/B)
LOSSES = ["ce_labels", "ce_probs", "ce_weights", "bce_logits", "bce_probs", "mse"]

# Over/underflow-free is the claim; underflow of e^(−2000) to 0 is the intended result of
# the max shift, so only overflow, division by zero and invalid operations raise.
STRICT_FP = dict(over="raise", divide="raise", invalid="raise")


def to_torch(torch, layer):
    """The torch module computing the same function as ``layer``, with copied parameters and buffers.

    Hyperparameters (eps, momentum, slopes) are torch's defaults, not read from ``layer``: what
    ``mlp()`` builds must then agree with torch's defaults to pass.
    """
    nn = torch.nn
    tensor = torch.from_numpy

    def copy(dst, src):
        with torch.no_grad():
            dst.copy_(tensor(np.ascontiguousarray(src)))

    if isinstance(layer, df.Sequential):
        return nn.Sequential(*(to_torch(torch, child) for child in layer.layers))
    if isinstance(layer, df.Residual):
        return _torch_residual(torch, layer)
    if isinstance(layer, df.Dense):
        lin = nn.Linear(layer.n_in, layer.out_features, bias=layer.b is not None, dtype=torch_dtype(torch, layer.dtype))
        copy(lin.weight, layer.W.value)
        if layer.b is not None:
            copy(lin.bias, layer.b.value)
        return lin
    if isinstance(layer, df.BatchNorm):
        bn = nn.BatchNorm1d(layer.n, dtype=torch_dtype(torch, layer.dtype))
        copy(bn.weight, layer.gamma.value)
        copy(bn.bias, layer.beta.value)
        copy(bn.running_mean, layer.running_mean)
        copy(bn.running_var, layer.running_var)
        return bn
    if isinstance(layer, df.LayerNorm):
        ln = nn.LayerNorm(layer.n, dtype=torch_dtype(torch, layer.dtype))
        copy(ln.weight, layer.gamma.value)
        copy(ln.bias, layer.beta.value)
        return ln
    if isinstance(layer, df.GELU):
        return nn.GELU(approximate=layer.approximate)
    simple = {df.Sigmoid: nn.Sigmoid, df.Tanh: nn.Tanh, df.ReLU: nn.ReLU, df.LeakyReLU: nn.LeakyReLU,
              df.ELU: nn.ELU, df.Identity: nn.Identity}
    if type(layer) in simple:
        return simple[type(layer)]()
    raise TypeError(f"no torch translation for {layer!r}")


def _torch_residual(torch, layer):
    class Residual(torch.nn.Module):
        """x + block(LayerNorm(x)): norm registered first, so parameters() lists γ, β before the block's."""

        def __init__(self, norm, block):
            super().__init__()
            self.norm = norm
            self.block = block

        def forward(self, x):
            return x + self.block(self.norm(x))

    norm = to_torch(torch, layer.norm) if layer.norm is not None else torch.nn.Identity()
    return Residual(norm, to_torch(torch, layer.block))


def randomise_affine(net, rng) -> None:
    """γ, β away from their (1, 0) start, so that their gradients and roles are actually tested."""
    for m in net.modules():
        if isinstance(m, (df.BatchNorm, df.LayerNorm)):
            m.gamma.value[...] = rng.uniform(0.5, 1.5, m.n)
            m.beta.value[...] = rng.normal(0.0, 0.3, m.n)


def make_loss_case(torch, kind: str, batch: int, dtype, rng):
    """(output activation, n_out, deltaflow loss, target, torch loss function, torch target)."""
    F = torch.nn.functional
    if kind == "ce_labels":
        y = rng.integers(0, 3, batch)
        return None, 3, df.SoftmaxCrossEntropy(), y, F.cross_entropy, torch.from_numpy(y)
    if kind == "ce_probs":
        y = rng.dirichlet(np.ones(3), batch).astype(dtype)
        return None, 3, df.SoftmaxCrossEntropy(), y, F.cross_entropy, torch.from_numpy(y)
    if kind == "ce_weights":
        y = rng.uniform(0.0, 1.0, (batch, 3)).astype(dtype)
        return None, 3, df.SoftmaxCrossEntropy(), y, F.cross_entropy, torch.from_numpy(y)
    y = rng.uniform(0.0, 1.0, (batch, 2)).astype(dtype)
    if kind == "bce_logits":
        return None, 2, df.BinaryCrossEntropy(), y, F.binary_cross_entropy_with_logits, torch.from_numpy(y)
    if kind == "bce_probs":
        return "sigmoid", 2, df.BinaryCrossEntropy(from_logits=False), y, F.binary_cross_entropy, torch.from_numpy(y)
    if kind == "mse":
        y = rng.normal(0.0, 1.0, (batch, 2)).astype(dtype)
        return None, 2, df.MeanSquaredError(), y, F.mse_loss, torch.from_numpy(y)
    raise ValueError(kind)


def compare_step(torch, net, tnet, x, loss, y, torch_loss, ty, what: str) -> None:
    """One forward and backward in both engines (in their current modes); compare everything."""
    out = net.forward(x)
    value = loss.forward(out, y)
    dx = net.backward(loss.backward())

    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    tnet.zero_grad()
    tout = tnet(xt)
    tvalue = torch_loss(tout, ty)
    tvalue.backward()

    assert_close(out, tout, f"{what}: output")
    assert math.isfinite(value)
    np.testing.assert_allclose(value, tvalue.item(), rtol=RTOL[x.dtype], atol=ATOL[x.dtype], err_msg=f"{what}: loss")
    params, tparams = net.parameters(), list(tnet.parameters())
    assert [p.value.shape for p in params] == [tuple(t.shape) for t in tparams], f"{what}: parameter order"
    for i, (p, t) in enumerate(zip(params, tparams)):
        assert_close(p.value, t, f"{what}: parameter {i} ({p.name}) value")
        assert_close(p.grad, t.grad, f"{what}: gradient of parameter {i} ({p.name})")
    assert_close(dx, xt.grad, f"{what}: input gradient")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("loss_kind", LOSSES)
@pytest.mark.parametrize("norm", NORMS, ids=lambda n: f"norm={n}")
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_mlp_forward_backward_matches_torch(torch, activation, norm, loss_kind, dtype):
    # a stable seed per case: the cases do not depend on each other or on the run order
    seed = [ACTIVATIONS.index(activation), NORMS.index(norm), LOSSES.index(loss_kind), DTYPES.index(dtype)]
    rng = np.random.default_rng(seed)
    batch = 16
    output, n_out, loss, y, torch_loss, ty = make_loss_case(torch, loss_kind, batch, dtype, rng)
    # 5 → 8 is a plain hidden layer; 8 → 8 twice become pre-LN Residual blocks with norm="residual".
    # init="torch" draws non-zero biases, so no ReLU-family pre-activation sits exactly at 0.
    net = df.mlp([5, 8, 8, 8, n_out], activation=activation, output=output, norm=norm,
                 init="torch", dtype=dtype, rng=rng)
    if norm == "residual":
        assert sum(isinstance(layer, df.Residual) for layer in net.layers) == 2
    randomise_affine(net, rng)
    tnet = to_torch(torch, net).train()
    x = rng.normal(0.0, 1.0, (batch, 5)).astype(dtype)
    compare_step(torch, net, tnet, x, loss, y, torch_loss, ty, f"{activation}/{norm}/{loss_kind}")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_and_derivative_match_torch(torch, activation, dtype):
    """σ(z), the layer's backward and ``derivative(z)`` against torch autograd, zero included
    (the conventions at 0: ReLU' = 0, LeakyReLU' = slope, ELU' = α, as torch)."""
    rng = np.random.default_rng(ACTIVATIONS.index(activation))
    z = np.concatenate([np.linspace(-8.0, 8.0, 161), rng.normal(0.0, 3.0, 49)]).reshape(-1, 7).astype(dtype)
    dy = rng.normal(0.0, 1.0, z.shape).astype(dtype)
    act = get_activation(activation)
    tact = to_torch(torch, act)

    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    at = tact(zt)
    (dzt,) = torch.autograd.grad(at, zt, torch.from_numpy(dy), retain_graph=True)
    (slope,) = torch.autograd.grad(at, zt, torch.ones_like(at))

    assert_close(act.forward(z), at, "σ(z)")
    assert_close(act.backward(dy), dzt, "dL/dz = dL/da ⊙ σ'(z)")
    assert_close(act.derivative(z), slope, "σ'(z)")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch_functional(torch, approximate, dtype):
    """Both GELU forms and their gradients against ``torch.nn.functional.gelu``, across the
    whole range (including the minimum of GELU near z ≈ −0.75 where GELU' = 0)."""
    z = np.concatenate([np.linspace(-12.0, 12.0, 241), np.linspace(-0.8, -0.7, 21), [0.0, 1e-8, -1e-8]])
    z = z.reshape(-1, 1).astype(dtype)
    gelu = df.GELU(approximate=approximate)
    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    at = torch.nn.functional.gelu(zt, approximate=approximate)
    (slope,) = torch.autograd.grad(at.sum(), zt)

    assert_close(gelu.forward(z), at, "GELU(z)")
    assert_close(gelu.backward(np.ones_like(z)), slope, "GELU backward")
    assert_close(gelu.derivative(z), slope, "GELU'(z)")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_dropout_is_inverted_dropout_with_its_mask(torch, p, dtype):
    """Training: y = x ⊙ m/(1 − p) and dx = dy ⊙ m/(1 − p) with deltaflow's own mask m (torch
    cannot share our generator, so the formula is applied in torch to that mask); eval: identity."""
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 2.0, (64, 9)) * rng.choice([-1.0, 1.0], (64, 9))
    x = x.astype(dtype)  # no zero entries: the kept entries are exactly the non-zero outputs
    dy = rng.normal(0.0, 1.0, x.shape).astype(dtype)
    drop = df.Dropout(p, rng=3)

    y = drop.forward(x, training=True)
    dx = drop.backward(dy)
    m = y != 0
    # the kept fraction is 1 − p (576 draws: standard error ≤ 0.021)
    assert abs(m.mean() - (1.0 - p)) < 0.1
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    mt = torch.from_numpy(m)
    if p < 1.0:
        yt = xt * mt / (1.0 - p)
    else:
        yt = xt * 0.0  # torch's dropout with p = 1 zeroes everything
    yt.backward(torch.from_numpy(dy))
    assert_close(y, yt, "dropout output")
    assert_close(dx, xt.grad, "dropout input gradient")
    if p in (0.0, 1.0):
        # the only deterministic cases of torch's own dropout
        assert_close(y, torch.nn.functional.dropout(torch.from_numpy(x), p=p, training=True), "vs F.dropout")

    y_eval = drop.forward(x, training=False)
    assert_close(y_eval, torch.nn.functional.dropout(torch.from_numpy(x), p=p, training=False), "eval output")
    np.testing.assert_array_equal(drop.backward(dy), dy)


EXTREME_LOGITS = np.array([
    [1000.0, -1000.0, 0.0],
    [-1000.0, -1000.0, -1000.0],
    [1000.0, 1000.0, -1000.0],
    [-1000.0, 999.0, 1000.0],
    [0.5, -0.25, 2.0],
])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_softmax_and_log_softmax_at_extreme_logits(torch, dtype):
    z = EXTREME_LOGITS.astype(dtype)
    zt = torch.from_numpy(z.copy())
    with np.errstate(**STRICT_FP):
        p, logp = df.softmax(z), df.log_softmax(z)
    assert np.isfinite(logp).all()
    assert_close(p, torch.softmax(zt, dim=1), "softmax")
    assert_close(logp, torch.log_softmax(zt, dim=1), "log_softmax")


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_sigmoid_at_extreme_inputs(torch, dtype):
    z = np.array([[-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0]], dtype=dtype)
    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    at = torch.sigmoid(zt)
    at.sum().backward()
    layer = df.Sigmoid()
    with np.errstate(**STRICT_FP):
        a = df.sigmoid(z)
        a_layer = layer.forward(z)
        dz = layer.backward(np.ones_like(z))
    assert_close(a, at, "σ(z)")
    assert_close(a_layer, at, "Sigmoid layer")
    assert_close(dz, zt.grad, "σ'(z)")


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("target", ["labels", "probs"])
def test_softmax_cross_entropy_at_extreme_logits(torch, target, dtype):
    z = EXTREME_LOGITS.astype(dtype)
    if target == "labels":
        y = np.array([1, 0, 2, 0, 2])  # includes the hardest case: the label on the −1000 logit
        ty = torch.from_numpy(y)
    else:
        y = np.array([[0.0, 1.0, 0.0], [0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.6, 0.0, 0.4], [0.3, 0.3, 0.4]], dtype=dtype)
        ty = torch.from_numpy(y)
    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    tloss = torch.nn.functional.cross_entropy(zt, ty)
    tloss.backward()
    loss = df.SoftmaxCrossEntropy()
    with np.errstate(**STRICT_FP):
        value = loss.forward(z, y)
        grad = loss.backward()
    assert math.isfinite(value) and np.isfinite(grad).all()
    np.testing.assert_allclose(value, tloss.item(), rtol=RTOL[z.dtype], atol=0, err_msg="loss")
    assert_close(grad, zt.grad, "dL/dz")


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_bce_from_logits_at_extreme_logits(torch, dtype):
    z = np.array([[1000.0, -1000.0, 1000.0], [-1000.0, 40.0, -40.0], [0.0, 3.0, -3.0]], dtype=dtype)
    y = np.array([[1.0, 0.0, 0.0], [1.0, 0.3, 0.7], [0.5, 1.0, 0.0]], dtype=dtype)
    zt = torch.from_numpy(z.copy()).requires_grad_(True)
    tloss = torch.nn.BCEWithLogitsLoss()(zt, torch.from_numpy(y))
    tloss.backward()
    loss = df.BinaryCrossEntropy()
    with np.errstate(**STRICT_FP):
        value = loss.forward(z, y)
        grad = loss.backward()
    assert math.isfinite(value) and np.isfinite(grad).all()
    np.testing.assert_allclose(value, tloss.item(), rtol=RTOL[z.dtype], atol=0, err_msg="loss")
    assert_close(grad, zt.grad, "dL/dz")


SATURATED_P = [[0.0, 1.0, 0.0, 1.0], [0.25, 1e-30, 1.0 - 1e-7, 0.5]]
SATURATED_Y = [[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.4]]


def _bce_on_probabilities(torch, dtype):
    p, y = np.array(SATURATED_P, dtype=dtype), np.array(SATURATED_Y, dtype=dtype)
    pt = torch.from_numpy(p.copy()).requires_grad_(True)
    tloss = torch.nn.BCELoss()(pt, torch.from_numpy(y))
    tloss.backward()
    return p, y, tloss, pt.grad


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_bce_on_saturated_probabilities_is_finite_without_warnings(torch, dtype):
    """ŷ exactly 0 or 1 (a float32 sigmoid saturates for z ≳ 17): the logs clamp at −100 as
    BCELoss, the loss is finite and equal to torch's, and no divide-by-zero is raised on the way."""
    p, y, tloss, _ = _bce_on_probabilities(torch, dtype)
    loss = df.BinaryCrossEntropy(from_logits=False)
    with np.errstate(**STRICT_FP):
        value = loss.forward(p, y)
    assert math.isfinite(value)
    np.testing.assert_allclose(value, tloss.item(), rtol=RTOL[p.dtype], atol=0, err_msg="loss")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_bce_on_saturated_probabilities_gradient_matches_bceloss(torch, dtype):
    """dL/dŷ = (ŷ − y) / max(ŷ(1 − ŷ), ε) / n with BCELoss's clamp ε, at and away from saturation."""
    p, y, _, tgrad = _bce_on_probabilities(torch, dtype)
    loss = df.BinaryCrossEntropy(from_logits=False)
    with np.errstate(divide="ignore"):  # the forward's log(0) is the other test's business
        loss.forward(p, y)
    grad = loss.backward()
    assert np.isfinite(grad).all()
    assert_close(grad, tgrad, "dL/dŷ")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("fan_in", [1, 3, 16, 100])
def test_torch_init_has_nn_linear_bounds(torch, fan_in, dtype):
    """``init="torch"`` draws W and b from U(−k, k), k = 1/√fan_in, the bounds of
    ``nn.Linear.reset_parameters`` (kaiming_uniform_ with a = √5, and its bias rule).
    Samples differ by construction, so bounds and moments are compared, not values."""
    n_out = 20000
    # the bound as torch derives it: gain(leaky_relu, √5)·√(3/fan_in), and 1/√fan_in for b
    k_weight = torch.nn.init.calculate_gain("leaky_relu", math.sqrt(5)) * math.sqrt(3.0 / fan_in)
    k_bias = 1.0 / math.sqrt(fan_in)
    assert k_weight == pytest.approx(k_bias, rel=1e-12)

    with torch.random.fork_rng():
        torch.manual_seed(fan_in)
        lin = torch.nn.Linear(fan_in, n_out, dtype=torch_dtype(torch, dtype))
    dense = df.Dense(fan_in, n_out, init="torch", dtype=dtype, rng=fan_in)
    assert dense.W.value.dtype == dense.b.value.dtype == dtype

    for name, ours, theirs, k in [("W", dense.W.value, lin.weight, k_weight), ("b", dense.b.value, lin.bias, k_bias)]:
        theirs = theirs.detach().numpy()
        for sample, who in [(ours, "deltaflow"), (theirs, "torch")]:
            n = sample.size
            assert np.abs(sample).max() <= k, f"{who} {name} exceeds the bound {k}"
            # P(max |w| < k(1 − 1e-3)) = (1 − 1e-3)^n ≤ e^−20 for n ≥ 20000
            assert np.abs(sample).max() >= k * (1.0 - 1e-3), f"{who} {name} does not reach the bound {k}"
            # U(−k, k): mean 0 (standard error k/√(3n)), variance k²/3 (relative s.e. √(4/(5n)) ≤ 0.7 %)
            assert abs(float(sample.mean())) < 6.0 * k / math.sqrt(3.0 * n), f"{who} {name} mean"
            assert float(sample.var()) == pytest.approx(k * k / 3.0, rel=0.04), f"{who} {name} variance"
        assert ours.min() == pytest.approx(theirs.min(), abs=2e-3 * k)
        assert ours.max() == pytest.approx(theirs.max(), abs=2e-3 * k)
