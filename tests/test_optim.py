"""Optimisers: parity with torch.optim, hand-worked steps, dtypes, state dicts, validation."""

import inspect
import io
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltaflow.nn.layers import Param
from deltaflow.optim.optimizers import OPTIMIZERS, SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop, get_optimizer
from torch_helpers import to_numpy

CLASSES = {"SGD": SGD, "Adagrad": Adagrad, "RMSprop": RMSprop, "Adam": Adam, "AdamW": AdamW}

# every option of every optimiser, alone and combined; alpha=0.3 and betas=(0.3, 0.5) give lerp
# weights ≥ 0.5, the other rounding branch of torch's lerp_
CONFIGS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.3, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1, "alpha": 0.9}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "betas": (0.3, 0.5), "eps": 1e-6}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.0}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]


def initial_values(dtype):
    rng = np.random.default_rng(0)
    return [rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=(5,)).astype(dtype)]


def gradient(values, t):
    """g(θ, t) = d ⊙ (θ − θ*) + 0.3 sin θ + 0.2 n_t: a fixed quadratic, a nonlinear term and
    step-dependent noise (so gradients change sign), the same function for both libraries."""
    out = []
    for i, v in enumerate(values):
        fixed = np.random.default_rng(100 + i)
        d = fixed.uniform(0.5, 2.0, size=v.shape)
        target = fixed.normal(size=v.shape)
        noise = np.random.default_rng([t, i]).normal(size=v.shape)
        out.append((d * (v - target) + 0.3 * np.sin(v) + 0.2 * noise).astype(v.dtype))
    return out


def run_ours(name, kwargs, dtype, steps, lr_at=None):
    params = [Param(v, n) for v, n in zip(initial_values(dtype), ("W", "b"))]
    opt = CLASSES[name](params, **kwargs)
    path = []
    for t in range(steps):
        if lr_at and t in lr_at:
            opt.lr = lr_at[t]
        for p, g in zip(params, gradient([p.value for p in params], t)):
            p.grad[...] = g
        opt.step()
        path.append([p.value.copy() for p in params])
    return path


def run_torch(torch, name, kwargs, dtype, steps, lr_at=None):
    params = [torch.tensor(v, requires_grad=True) for v in initial_values(dtype)]
    opt = getattr(torch.optim, name)(params, foreach=False, **kwargs)
    path = []
    for t in range(steps):
        if lr_at and t in lr_at:
            for group in opt.param_groups:
                group["lr"] = lr_at[t]
        for p, g in zip(params, gradient([to_numpy(p) for p in params], t)):
            p.grad = torch.from_numpy(g)
        opt.step()
        path.append([to_numpy(p).copy() for p in params])
    return path


def assert_paths_close(ours, theirs, rtol, atol):
    for t, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"step {t + 1}")


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_float64_trajectory_matches_torch(torch, name, kwargs):
    ours = run_ours(name, kwargs, np.float64, 100)
    theirs = run_torch(torch, name, kwargs, np.float64, 100)
    assert_paths_close(ours, theirs, rtol=1e-9, atol=1e-12)
    assert not np.allclose(ours[-1][0], initial_values(np.float64)[0])  # it moved


@pytest.mark.torch
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_float32_trajectory_matches_torch(torch, name, kwargs):
    ours = run_ours(name, kwargs, np.float32, 100)
    theirs = run_torch(torch, name, kwargs, np.float32, 100)
    assert ours[-1][0].dtype == np.float32
    # torch's CPU kernels fuse a + α·b into one rounding (FMA) where NumPy rounds twice, so the
    # paths drift by a few float32 ulps; θ is O(1), so atol = 1e-6 (≈ 8 ulps at 1.0) covers the
    # entries that pass near 0, where a relative measure means nothing
    assert_paths_close(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CLASSES))
def test_lr_changed_mid_run_matches_torch(torch, name):
    kwargs = next(kw for n, kw in CONFIGS if n == name)
    lr_at = {50: kwargs["lr"] / 4, 80: kwargs["lr"] * 2}
    ours = run_ours(name, kwargs, np.float64, 100, lr_at)
    theirs = run_torch(torch, name, kwargs, np.float64, 100, lr_at)
    assert_paths_close(ours, theirs, rtol=1e-9, atol=1e-12)
    assert not np.allclose(ours[-1][0], run_ours(name, kwargs, np.float64, 100)[-1][0])  # the change mattered


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CLASSES))
def test_defaults_are_torchs(torch, name):
    ours = inspect.signature(CLASSES[name]).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    for k, p in ours.items():
        if k not in ("params", "pack"):  # pack: the memory layout of the update, no hyperparameter
            assert p.default == theirs[k].default, k


def test_sgd_two_steps_by_hand():
    p = Param(np.array([1.0, -2.0]), "w")
    opt = SGD([p], lr=0.1, momentum=0.9)
    p.grad[...] = [0.5, 0.25]
    opt.step()  # b = g = (0.5, 0.25);  θ = (1 − 0.05, −2 − 0.025)
    np.testing.assert_allclose(p.value, [0.95, -2.025], rtol=1e-15)
    p.grad[...] = [1.0, -1.0]
    opt.step()  # b = 0.9·(0.5, 0.25) + (1, −1) = (1.45, −0.775);  θ = (0.95 − 0.145, −2.025 + 0.0775)
    np.testing.assert_allclose(opt.state[0]["momentum_buffer"], [1.45, -0.775], rtol=1e-15)
    np.testing.assert_allclose(p.value, [0.805, -1.9475], rtol=1e-15)


def test_adam_two_steps_by_hand():
    p = Param(np.array([1.0]), "w")
    opt = Adam([p], lr=0.1)
    p.grad[...] = 0.5
    opt.step()
    # m = 0.1·0.5 = 0.05, v = 0.001·0.25 = 2.5e-4; m̂ = 0.05/0.1 = 0.5, v̂ = 2.5e-4/0.001 = 0.25
    # θ = 1 − 0.1·0.5/(√0.25 + 1e-8) = 1 − 0.1/(1 + 2e-8) = 0.9 + 1.99999996e-9
    np.testing.assert_allclose(opt.state[0]["exp_avg"], [0.05], rtol=1e-15)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq"], [2.5e-4], rtol=1e-15)
    np.testing.assert_allclose(p.value, [0.90000000199999996], rtol=1e-14)
    p.grad[...] = -1.0
    opt.step()
    # m = 0.9·0.05 − 0.1 = −0.055, v = 0.999·2.5e-4 + 0.001 = 1.24975e-3
    # m̂ = −0.055/(1 − 0.81) = −0.28947368421052…, v̂ = 1.24975e-3/(1 − 0.998001) = 0.62518759379689…
    # θ = 0.90000000199999996 + 0.1·0.28947368421052…/(0.79068805087524… + 1e-8) = 0.93661035424056…
    np.testing.assert_allclose(opt.state[0]["exp_avg"], [-0.055], rtol=1e-14)
    np.testing.assert_allclose(opt.state[0]["exp_avg_sq"], [1.24975e-3], rtol=1e-14)
    m_hat, v_hat = -0.055 / 0.19, 1.24975e-3 / 0.001999
    expected = 0.90000000199999996 - 0.1 * m_hat / (v_hat**0.5 + 1e-8)
    np.testing.assert_allclose(p.value, [expected], rtol=1e-14)
    np.testing.assert_allclose(p.value, [0.93661035424056], rtol=1e-13)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_and_identity_preserved(name, kwargs, dtype):
    params = [Param(v, n) for v, n in zip(initial_values(dtype), ("W", "b"))]
    arrays = [(p.value, p.grad) for p in params]
    opt = CLASSES[name](params, **kwargs)
    for t in range(5):
        for p, g in zip(params, gradient([p.value for p in params], t)):
            p.grad[...] = g
        opt.step()
    for p, (value, grad), state in zip(params, arrays, opt.state):
        assert p.value is value and p.grad is grad  # updated in place
        assert p.value.dtype == dtype and p.grad.dtype == dtype
        for k, a in state.items():
            assert a.dtype == dtype and a.shape == p.value.shape, k


def test_weight_decay_leaves_grad_untouched():
    p = Param(np.ones(3), "w")
    opt = Adam([p], weight_decay=0.5)
    p.grad[...] = [1.0, 2.0, 3.0]
    opt.step()
    np.testing.assert_array_equal(p.grad, [1.0, 2.0, 3.0])


def test_zero_grad_in_place():
    p = Param(np.ones((2, 2), dtype=np.float32), "W")
    grad = p.grad
    grad[...] = 7
    SGD([p]).zero_grad()
    assert p.grad is grad and not grad.any()


def test_lr_zero_does_nothing_and_lr_is_a_python_float():
    p = Param(np.ones(3, dtype=np.float32), "w")
    opt = SGD([p], lr=np.float64(0.5))
    assert type(opt.lr) is float  # an np.float64 would promote float32 arithmetic
    opt.lr = 0
    p.grad[...] = 1
    opt.step()
    np.testing.assert_array_equal(p.value, 1)
    with pytest.raises(ValueError, match="-0.5"):
        opt.lr = -0.5


def _to_files(d):
    """The state dict as a real model file would hold it: an .npz of named arrays + JSON."""
    arrays = {f"state.{i}.{k}": a for i, s in enumerate(d["state"]) for k, a in s.items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    meta = json.dumps({k: v for k, v in d.items() if k != "state"} | {"n_state": len(d["state"])})
    return buf.getvalue(), meta


def _from_files(npz_bytes, meta):
    d = json.loads(meta)
    state = [{} for _ in range(d.pop("n_state"))]
    with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as f:
        for key in f.files:
            _, i, k = key.split(".")
            state[int(i)][k] = f[key]
    return d | {"state": state}


def _train(opt, start, steps):
    for t in range(start, start + steps):
        for p, g in zip(opt.params, gradient([p.value for p in opt.params], t)):
            p.grad[...] = g
        opt.step()


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_dict_round_trip_is_bitwise(name, kwargs, dtype):
    params = [Param(v, n) for v, n in zip(initial_values(dtype), ("W", "b"))]
    opt = CLASSES[name](params, **kwargs)
    _train(opt, 0, 10)
    saved = _from_files(*_to_files(opt.state_dict()))
    snapshot = [p.value.copy() for p in params]
    _train(opt, 10, 10)

    copies = [Param(v.copy(), n) for v, n in zip(snapshot, ("W", "b"))]
    fresh = CLASSES[name](copies)  # default hyperparameters: loading restores the saved ones
    fresh.load_state_dict(saved)
    assert fresh.t == 10 and fresh.lr == kwargs["lr"]
    _train(fresh, 10, 10)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.value, q.value)
    for s, r in zip(opt.state, fresh.state):
        assert s.keys() == r.keys()
        for k in s:
            np.testing.assert_array_equal(s[k], r[k])


def test_state_dict_is_a_copy():
    p = Param(np.ones(3), "w")
    opt = Adam([p])
    p.grad[...] = 1
    opt.step()
    d = opt.state_dict()
    before = d["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(d["state"][0]["exp_avg"], before)
    assert d["step"] == 1


def _adam_state(shape=(5, 3), dtype=np.float64, n=1):
    opt = Adam([Param(np.zeros(shape, dtype), f"p{i}") for i in range(n)])
    return opt.state_dict()


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(optimizer="SGD"), "'SGD'"),
        (lambda d: d["state"].append(d["state"][0]), "2 params"),
        (lambda d: d.update(shapes=[[5, 4]]), r"\(5, 4\)"),
        (lambda d: d.update(dtypes=["float32"]), "float32"),
        (lambda d: d["state"][0].pop("exp_avg"), "exp_avg"),
        (lambda d: d["state"][0].update(exp_avg=np.zeros((5, 3), np.float32)), "float32"),
        (lambda d: d["state"][0].update(exp_avg_sq=np.zeros((3, 5))), r"\(3, 5\)"),
        (lambda d: d.update(lr=-1.0), "-1.0"),
        (lambda d: d.update(step=-3), "-3"),
        (lambda d: d.pop("betas"), "betas"),
    ],
)
def test_load_state_dict_rejects_mismatch(mutate, match):
    d = _adam_state()
    mutate(d)
    p = Param(np.ones((5, 3)), "W")
    opt = Adam([p], lr=0.5)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(d)
    assert opt.lr == 0.5 and opt.t == 0  # nothing changed


@pytest.mark.parametrize(
    ("cls", "kwargs", "value"),
    [
        (SGD, {"lr": -1}, "-1"),
        (SGD, {"lr": float("nan")}, "nan"),
        (SGD, {"lr": float("inf")}, "inf"),
        (SGD, {"lr": "0.1"}, "'0.1'"),
        (SGD, {"momentum": -0.5}, "-0.5"),
        (SGD, {"dampening": 1.5}, "1.5"),
        (SGD, {"weight_decay": -0.01}, "-0.01"),
        (SGD, {"nesterov": "yes"}, "'yes'"),
        (Adagrad, {"lr": -0.1}, "-0.1"),
        (Adagrad, {"lr_decay": -1e-3}, "-0.001"),
        (Adagrad, {"weight_decay": -2}, "-2"),
        (Adagrad, {"initial_accumulator_value": -0.5}, "-0.5"),
        (Adagrad, {"eps": -1e-10}, "-1e-10"),
        (RMSprop, {"alpha": -0.1}, "-0.1"),
        (RMSprop, {"alpha": 1.5}, "1.5"),
        (RMSprop, {"eps": -1.0}, "-1.0"),
        (RMSprop, {"momentum": -0.9}, "-0.9"),
        (RMSprop, {"weight_decay": -0.3}, "-0.3"),
        (RMSprop, {"centered": 1}, "1"),
        (Adam, {"betas": (1.0, 0.999)}, "1.0"),
        (Adam, {"betas": (0.9, -0.2)}, "-0.2"),
        (Adam, {"betas": (0.9,)}, "(0.9,)"),
        (Adam, {"eps": -1e-8}, "-1e-08"),
        (Adam, {"weight_decay": -0.7}, "-0.7"),
        (Adam, {"amsgrad": None}, "None"),
        (AdamW, {"lr": -3}, "-3"),
        (AdamW, {"weight_decay": -0.01}, "-0.01"),
        (AdamW, {"betas": (0.9, 1.2)}, "1.2"),
    ],
)
def test_bad_hyperparameter_names_value(cls, kwargs, value):
    with pytest.raises(ValueError, match=rf": {re.escape(value)} \("):
        cls([Param(np.zeros(2), "w")], **kwargs)


def test_nesterov_needs_momentum_and_no_dampening():
    with pytest.raises(ValueError, match="momentum=0.0"):
        SGD([Param(np.zeros(2), "w")], nesterov=True)
    with pytest.raises(ValueError, match="dampening=0.1"):
        SGD([Param(np.zeros(2), "w")], momentum=0.9, dampening=0.1, nesterov=True)


@pytest.mark.parametrize("cls", list(CLASSES.values()))
def test_bad_params(cls):
    with pytest.raises(ValueError, match="empty"):
        cls([])
    p = Param(np.zeros(2), "w")
    with pytest.raises(ValueError, match="more than once"):
        cls([p, p])
    with pytest.raises(ValueError, match="ndarray"):
        cls([np.zeros(2)])
    with pytest.raises(ValueError, match="int64"):
        cls([Param(np.zeros(2, dtype=np.int64), "n")])


def test_step_rejects_grad_of_wrong_dtype():
    p = Param(np.zeros(2, dtype=np.float32), "w")
    opt = SGD([p])
    p.grad = np.zeros(2)
    with pytest.raises(ValueError, match="float64"):
        opt.step()


def test_get_optimizer():
    params = [Param(np.zeros(2), "w")]
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"}
    plain = get_optimizer("sgd", params)
    assert type(plain) is SGD and plain.momentum == 0
    heavy = get_optimizer("momentum", params, lr=0.2)
    assert heavy.momentum == 0.9 and heavy.lr == 0.2 and not heavy.nesterov
    assert get_optimizer("momentum", params, momentum=0.5).momentum == 0.5
    nag = get_optimizer("nesterov", params)
    assert nag.nesterov and nag.momentum == 0.9
    assert type(get_optimizer("AdamW", params)) is AdamW
    for name, cls in [("adagrad", Adagrad), ("rmsprop", RMSprop), ("adam", Adam)]:
        assert type(get_optimizer(name, params)) is cls
    with pytest.raises(ValueError, match="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw"):
        get_optimizer("lbfgs", params)
    with pytest.raises(ValueError, match="betas"):
        get_optimizer("sgd", params, betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="-1"):
        get_optimizer("adam", params, lr=-1)


shapes = st.lists(st.lists(st.integers(1, 6), min_size=1, max_size=2).map(tuple), min_size=1, max_size=3)


@settings(max_examples=40, deadline=None)
@given(
    shapes=shapes, dtype=st.sampled_from([np.float32, np.float64]), lr=st.floats(0.01, 0.45), seed=st.integers(0, 2**32)
)
def test_sgd_decreases_a_quadratic(shapes, dtype, lr, seed):
    # L = ½ Σ d ⊙ (θ − θ*)² with d ∈ [0.5, 2]: SGD with η < 2/max d contracts every coordinate
    rng = np.random.default_rng(seed)
    params = [Param(rng.normal(size=s).astype(dtype), f"p{i}") for i, s in enumerate(shapes)]
    d = [rng.uniform(0.5, 2.0, size=s).astype(dtype) for s in shapes]
    target = [rng.normal(size=s).astype(dtype) for s in shapes]
    opt = SGD(params, lr=lr)

    def loss():
        total = 0.0
        for p, di, ti in zip(params, d, target):
            total += 0.5 * float(np.sum(di * (p.value.astype(np.float64) - ti) ** 2))
        return total

    before = loss()
    for _ in range(5):
        for p, di, ti in zip(params, d, target):
            np.multiply(di, p.value - ti, out=p.grad)
        opt.step()
    assert loss() < before


@settings(max_examples=40, deadline=None)
@given(
    shapes=shapes,
    dtype=st.sampled_from([np.float32, np.float64]),
    config=st.sampled_from(CONFIGS),
    seed=st.integers(0, 2**32),
)
def test_any_optimizer_keeps_shapes_and_dtypes(shapes, dtype, config, seed):
    rng = np.random.default_rng(seed)
    params = [Param(rng.normal(size=s).astype(dtype), f"p{i}") for i, s in enumerate(shapes)]
    values = [p.value for p in params]
    name, kwargs = config
    opt = CLASSES[name](params, **kwargs)
    for _ in range(3):
        for p in params:
            p.grad[...] = rng.normal(size=p.value.shape)
        opt.step()
    for p, v, s in zip(params, values, shapes):
        assert p.value is v and p.value.shape == s and p.value.dtype == dtype
        assert np.isfinite(p.value).all()
    assert all(a.dtype == dtype for state in opt.state for a in state.values())


def test_base_class_is_abstract():
    opt = Optimizer([Param(np.zeros(1), "w")], lr=0.1)
    with pytest.raises(NotImplementedError):
        opt.step()
