"""Parity with PyTorch (CPU) of the normalisation layers and of gradient-norm clipping.

- ``BatchNorm`` against ``nn.BatchNorm1d``: outputs and gradients at every one of 10
  training steps on different batches (sizes 2 to 29), the running statistics they leave
  (momentum 0.1, eps 1e-5, unbiased running variance), then forward and backward in eval mode.
- ``LayerNorm`` against ``nn.LayerNorm`` on its own, for two values of eps.
- ``clip_grad_norm`` / ``clip_grad_value`` against ``clip_grad_norm_`` / ``clip_grad_value_``.

Tolerances as in ``test_torch_parity_layers.py``: float64 ``rtol=1e-10``, float32
``rtol=1e-5``, absolute 1e-12 / 1e-6 times ``max(1, max |expected|)``. Whole-network
parity (every activation, norm and loss) is in ``test_torch_parity_layers.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import deltaflow as df
from torch_helpers import ATOL, RTOL, assert_close, torch_dtype

pytestmark = pytest.mark.torch

DTYPES = [np.float64, np.float32]
DTYPE_IDS = ["f64", "f32"]


def copy_params(torch, net, tmodule) -> None:
    """Copy deltaflow's parameters into the torch module's, paired by order (W, b; γ, β)."""
    params, tparams = net.parameters(), list(tmodule.parameters())
    assert [p.value.shape for p in params] == [tuple(t.shape) for t in tparams]
    with torch.no_grad():
        for p, t in zip(params, tparams):
            t.copy_(torch.from_numpy(p.value))


def compare_step(torch, net, tmodule, x, labels, what: str) -> None:
    """Forward, cross-entropy and backward in both engines, in their current modes."""
    loss = df.SoftmaxCrossEntropy()
    out = net.forward(x)
    value = loss.forward(out, labels)
    dx = net.backward(loss.backward())

    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    tmodule.zero_grad()
    tout = tmodule(xt)
    tvalue = torch.nn.functional.cross_entropy(tout, torch.from_numpy(labels))
    tvalue.backward()

    assert_close(out, tout, f"{what}: output")
    np.testing.assert_allclose(value, tvalue.item(), rtol=RTOL[x.dtype], atol=ATOL[x.dtype], err_msg=f"{what}: loss")
    for i, (p, t) in enumerate(zip(net.parameters(), tmodule.parameters())):
        assert_close(p.grad, t.grad, f"{what}: gradient of parameter {i} ({p.name})")
    assert_close(dx, xt.grad, f"{what}: input gradient")


def bn_buffers(torch, tmodule):
    """(running_mean, running_var) of every BatchNorm1d, in module order."""
    return [(m.running_mean, m.running_var) for m in tmodule.modules() if isinstance(m, torch.nn.BatchNorm1d)]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_batchnorm_mlp_training_running_stats_and_eval(torch, dtype):
    rng = np.random.default_rng(2024)
    net = df.mlp([4, 6, 5, 3], activation="tanh", norm="batch", init="torch", dtype=dtype, rng=rng)
    bns = [m for m in net.modules() if isinstance(m, df.BatchNorm)]
    for bn in bns:
        bn.gamma.value[...] = rng.uniform(0.5, 1.5, bn.n)
        bn.beta.value[...] = rng.normal(0.0, 0.3, bn.n)
    nn, tdt = torch.nn, torch_dtype(torch, dtype)
    tnet = nn.Sequential(
        nn.Linear(4, 6, bias=False, dtype=tdt), nn.BatchNorm1d(6, eps=1e-5, momentum=0.1, dtype=tdt), nn.Tanh(),
        nn.Linear(6, 5, bias=False, dtype=tdt), nn.BatchNorm1d(5, eps=1e-5, momentum=0.1, dtype=tdt), nn.Tanh(),
        nn.Linear(5, 3, dtype=tdt),
    )
    copy_params(torch, net, tnet)

    net.train()
    tnet.train()
    for step in range(10):
        # different sizes (the unbiased factor B/(B − 1) changes) and shifting distributions
        batch = 2 + 3 * step
        x = rng.normal(0.3 * step - 1.0, 1.0 + 0.2 * step, (batch, 4)).astype(dtype)
        labels = rng.integers(0, 3, batch)
        compare_step(torch, net, tnet, x, labels, f"training step {step}")

    for i, (bn, (tmean, tvar)) in enumerate(zip(bns, bn_buffers(torch, tnet), strict=True)):
        assert_close(bn.running_mean, tmean, f"BatchNorm {i} running_mean")
        assert_close(bn.running_var, tvar, f"BatchNorm {i} running_var")

    # eval: the running statistics normalise, stay fixed, and the layer is affine in backward
    net.eval()
    tnet.eval()
    frozen = [(bn.running_mean.copy(), bn.running_var.copy()) for bn in bns]
    x = rng.normal(0.5, 1.5, (7, 4)).astype(dtype)
    compare_step(torch, net, tnet, x, rng.integers(0, 3, 7), "eval")
    for bn, (mean, var) in zip(bns, frozen):
        np.testing.assert_array_equal(bn.running_mean, mean)
        np.testing.assert_array_equal(bn.running_var, var)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize(("momentum", "eps"), [(0.1, 1e-5), (0.3, 1e-3), (1.0, 1e-5), (0.0, 1e-2)])
def test_batchnorm_layer_honours_momentum_and_eps(torch, momentum, eps, dtype):
    rng = np.random.default_rng(int(momentum * 10) + 1)
    bn = df.BatchNorm(5, eps=eps, momentum=momentum, dtype=dtype)
    bn.gamma.value[...] = rng.uniform(0.5, 1.5, 5)
    bn.beta.value[...] = rng.normal(0.0, 0.3, 5)
    tbn = torch.nn.BatchNorm1d(5, eps=eps, momentum=momentum,
                               dtype=torch_dtype(torch, dtype))
    copy_params(torch, bn, tbn)

    for training in [True, True, True, False]:
        tbn.train(training)
        x = rng.normal(2.0, 3.0, (9, 5)).astype(dtype)
        dy = rng.normal(0.0, 1.0, x.shape).astype(dtype)
        y, dx = bn.forward(x, training), bn.backward(dy)
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        tbn.zero_grad()
        yt = tbn(xt)
        yt.backward(torch.from_numpy(dy))
        mode = "train" if training else "eval"
        assert_close(y, yt, f"{mode}: output")
        assert_close(dx, xt.grad, f"{mode}: input gradient")
        assert_close(bn.gamma.grad, tbn.weight.grad, f"{mode}: dL/dγ")
        assert_close(bn.beta.grad, tbn.bias.grad, f"{mode}: dL/dβ")
        assert_close(bn.running_mean, tbn.running_mean, f"{mode}: running_mean")
        assert_close(bn.running_var, tbn.running_var, f"{mode}: running_var")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_layernorm_layer_matches_torch(torch, eps, dtype):
    rng = np.random.default_rng(11)
    ln = df.LayerNorm(6, eps=eps, dtype=dtype)
    ln.gamma.value[...] = rng.uniform(0.5, 1.5, 6)
    ln.beta.value[...] = rng.normal(0.0, 0.3, 6)
    tln = torch.nn.LayerNorm(6, eps=eps, dtype=torch_dtype(torch, dtype))
    copy_params(torch, ln, tln)
    # rows of very different offsets and spreads, one with σ² ≈ 1e-6 below eps (where eps matters
    # most), centred near 0: a tiny spread around a large mean is ill-conditioned in float32, and
    # there torch itself is ~2e-5 from the exact value (deltaflow ~2e-6)
    x = rng.normal(0.0, 1.0, (8, 6)) * rng.uniform(0.05, 4.0, (8, 1)) + rng.uniform(-3.0, 3.0, (8, 1))
    x[0] = 1e-3 * rng.normal(0.0, 1.0, 6)
    x = x.astype(dtype)
    dy = rng.normal(0.0, 1.0, x.shape).astype(dtype)

    y, dx = ln.forward(x), ln.backward(dy)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    yt = tln(xt)
    yt.backward(torch.from_numpy(dy))
    assert_close(y, yt, "output")
    assert_close(dx, xt.grad, "input gradient")
    assert_close(ln.gamma.grad, tln.weight.grad, "dL/dγ")
    assert_close(ln.beta.grad, tln.bias.grad, "dL/dβ")


def _params_with_grads(torch, dtype, seed):
    """The same parameters and gradients, as deltaflow Params and as torch Parameters."""
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (4,), (2, 4), (2,), (1, 1)]
    params, tparams = [], []
    for i, shape in enumerate(shapes):
        p = df.Param(rng.normal(0.0, 1.0, shape).astype(dtype), f"p{i}")
        p.grad[...] = rng.normal(0.0, 2.0, shape)
        t = torch.nn.Parameter(torch.from_numpy(p.value.copy()))
        t.grad = torch.from_numpy(p.grad.copy())
        params.append(p)
        tparams.append(t)
    return params, tparams


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("ratio", [0.1, 0.5, 1.0, 2.0], ids=["clip-0.1", "clip-0.5", "at-norm", "inactive-2"])
def test_clip_grad_norm_matches_torch(torch, ratio, dtype):
    """max_norm = ratio·‖g‖: clipping active below 1, inactive at 2; at exactly ‖g‖ both scale
    by ‖g‖/(‖g‖ + 1e-6). Returns the norm before clipping."""
    params, tparams = _params_with_grads(torch, dtype, seed=3)
    norm = float(np.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in params)))
    max_norm = ratio * norm

    total = df.clip_grad_norm(params, max_norm)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm)

    assert isinstance(total, float)
    np.testing.assert_allclose(total, ttotal.item(), rtol=RTOL[np.dtype(dtype)], atol=0, err_msg="total norm")
    for p, t in zip(params, tparams):
        assert_close(p.grad, t.grad, f"clipped gradient of {p.name}")
    clipped = np.sqrt(sum(float((p.grad.astype(np.float64) ** 2).sum()) for p in params))
    assert clipped <= max_norm * (1 + RTOL[np.dtype(dtype)]) or ratio > 1.0


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_clip_grad_norm_reports_a_non_finite_norm_like_torch(torch, bad, dtype):
    """The returned norm is inf/NaN as torch's. (The gradients then differ by design: deltaflow
    leaves them untouched, torch multiplies them by max_norm/(inf + 1e-6) = 0.)"""
    params, tparams = _params_with_grads(torch, dtype, seed=4)
    params[1].grad[2] = bad
    tparams[1].grad[2] = bad
    total = df.clip_grad_norm(params, 1.0)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, 1.0)
    np.testing.assert_equal(total, ttotal.item())
    with pytest.raises(ValueError, match="non-finite"):
        df.clip_grad_norm(params, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(tparams, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("clip", [0.05, 1.0, 100.0])
def test_clip_grad_value_matches_torch(torch, clip, dtype):
    params, tparams = _params_with_grads(torch, dtype, seed=5)
    df.clip_grad_value(params, clip)
    torch.nn.utils.clip_grad_value_(tparams, clip)
    for p, t in zip(params, tparams):
        assert_close(p.grad, t.grad, f"clamped gradient of {p.name}")
        assert np.abs(p.grad).max() <= clip
