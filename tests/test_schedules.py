"""Learning-rate schedules: parity with torch.optim.lr_scheduler, closed forms, state, validation."""

import json
import re

import numpy as np
import pytest

from deltaflow.nn.layers import Param
from deltaflow.optim.optimizers import SGD
from deltaflow.optim.schedules import (
    SCHEDULES,
    CosineAnnealingLR,
    ExponentialLR,
    LinearWarmup,
    StepLR,
    get_schedule,
)
from torch_helpers import to_numpy

STEPS = 40
CASES = [
    (StepLR, {"step_size": 7, "gamma": 0.5}, "StepLR", {"step_size": 7, "gamma": 0.5}),
    (StepLR, {"step_size": 3}, "StepLR", {"step_size": 3}),
    (StepLR, {"step_size": 1, "gamma": 1.5}, "StepLR", {"step_size": 1, "gamma": 1.5}),
    (ExponentialLR, {"gamma": 0.9}, "ExponentialLR", {"gamma": 0.9}),
    (ExponentialLR, {"gamma": 1.05}, "ExponentialLR", {"gamma": 1.05}),
    (CosineAnnealingLR, {"T_max": 10, "eta_min": 1e-3}, "CosineAnnealingLR", {"T_max": 10, "eta_min": 1e-3}),
    (CosineAnnealingLR, {"T_max": 15}, "CosineAnnealingLR", {"T_max": 15}),
    (CosineAnnealingLR, {"T_max": 40, "eta_min": 0.02}, "CosineAnnealingLR", {"T_max": 40, "eta_min": 0.02}),
    (LinearWarmup, {"warmup_steps": 10}, "LinearLR", {"start_factor": 1 / 3, "end_factor": 1.0, "total_iters": 10}),
    (LinearWarmup, {"warmup_steps": 25, "start_factor": 0.1}, "LinearLR", {"start_factor": 0.1, "total_iters": 25}),
    (LinearWarmup, {"warmup_steps": 1, "start_factor": 1.0}, "LinearLR", {"start_factor": 1.0, "total_iters": 1}),
]
IDS = [f"{c.__name__}-{kw}" for c, kw, _, _ in CASES]


def sgd(lr=0.1):
    return SGD([Param(np.zeros(3), "w")], lr=lr)


def our_lrs(cls, kwargs, lr=0.1, steps=STEPS):
    opt = sgd(lr)
    schedule = cls(opt, **kwargs)
    lrs = [opt.lr]
    for _ in range(steps):
        assert schedule.step() == opt.lr
        lrs.append(opt.lr)
    return lrs


def torch_lrs(torch, name, kwargs, lr=0.1, steps=STEPS):
    opt = torch.optim.SGD([torch.zeros(3, requires_grad=True)], lr=lr)
    schedule = getattr(torch.optim.lr_scheduler, name)(opt, **kwargs)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()  # no grads: a no-op, but torch warns if the schedule steps first
        schedule.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


@pytest.mark.torch
@pytest.mark.parametrize(("cls", "kwargs", "torch_name", "torch_kwargs"), CASES, ids=IDS)
def test_lr_sequence_matches_torch(torch, cls, kwargs, torch_name, torch_kwargs):
    ours = our_lrs(cls, kwargs)
    theirs = torch_lrs(torch, torch_name, torch_kwargs)
    # torch updates most of these recursively (lr ← lr · ratio); the closed form differs from it
    # only by accumulated float64 rounding
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    assert len(set(ours)) > 1 or cls is LinearWarmup


@pytest.mark.torch
def test_schedule_drives_sgd_like_torch(torch):
    """A full run: SGD + StepLR against torch's, parameters to float64 round-off."""
    rng = np.random.default_rng(3)
    x0, target = rng.normal(size=4), rng.normal(size=4)
    p = Param(x0.copy(), "w")
    opt = SGD([p], lr=0.3, momentum=0.9)
    schedule = StepLR(opt, step_size=5, gamma=0.5)
    tp = torch.tensor(x0.copy(), requires_grad=True)
    topt = torch.optim.SGD([tp], lr=0.3, momentum=0.9, foreach=False)
    tschedule = torch.optim.lr_scheduler.StepLR(topt, step_size=5, gamma=0.5)
    for _ in range(30):
        p.grad[...] = p.value - target
        tp.grad = tp.detach() - torch.from_numpy(target)
        opt.step()
        topt.step()
        schedule.step()
        tschedule.step()
    np.testing.assert_allclose(p.value, to_numpy(tp), rtol=1e-12, atol=1e-15)


def test_closed_forms_by_hand():
    assert our_lrs(StepLR, {"step_size": 3}, lr=1.0, steps=7) == pytest.approx(
        [1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01], rel=1e-15
    )
    assert our_lrs(ExponentialLR, {"gamma": 0.5}, lr=2.0, steps=3) == [2.0, 1.0, 0.5, 0.25]
    cosine = our_lrs(CosineAnnealingLR, {"T_max": 4, "eta_min": 0.1}, lr=1.1, steps=8)
    # η_min + (η₀ − η_min)(1 + cos(πt/4))/2 at t = 0, 2, 4, 8: η₀, the midpoint, η_min, η₀ again
    assert cosine[0] == 1.1 and cosine[2] == pytest.approx(0.6, rel=1e-15)
    assert cosine[4] == pytest.approx(0.1, rel=1e-15) and cosine[8] == pytest.approx(1.1, rel=1e-15)
    assert our_lrs(LinearWarmup, {"warmup_steps": 4, "start_factor": 0.2}, lr=1.0, steps=6) == pytest.approx(
        [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0], rel=1e-15
    )


def test_construction_sets_step_zero_and_get_lr():
    opt = sgd(0.6)
    schedule = LinearWarmup(opt, warmup_steps=3)
    assert schedule.base_lr == 0.6 and schedule.last_step == 0
    assert opt.lr == pytest.approx(0.2, rel=1e-15) == schedule.get_lr()
    schedule.step()
    schedule.step()
    assert schedule.last_step == 2 and schedule.get_lr() == opt.lr == pytest.approx(0.6 * 7 / 9, rel=1e-15)
    assert type(opt.lr) is float


@pytest.mark.parametrize(("cls", "kwargs", "_", "__"), CASES, ids=IDS)
def test_state_dict_round_trip(cls, kwargs, _, __):
    opt = sgd(0.1)
    schedule = cls(opt, **kwargs)
    for _ in range(12):
        schedule.step()
    saved = json.loads(json.dumps(schedule.state_dict()))  # JSON scalars only
    rest = [schedule.step() for _ in range(10)]

    fresh_opt = sgd(5.0)  # a different lr: loading restores base_lr and sets the optimizer's lr
    fresh = cls(fresh_opt, **kwargs)
    fresh.load_state_dict(saved)
    assert fresh.last_step == 12 and fresh_opt.lr == saved_lr(cls, kwargs, 12)
    assert [fresh.step() for _ in range(10)] == rest


def saved_lr(cls, kwargs, t):
    return our_lrs(cls, kwargs, steps=t)[-1]


def test_load_state_dict_checks():
    schedule = StepLR(sgd(), step_size=2)
    good = schedule.state_dict()
    with pytest.raises(ValueError, match="'ExponentialLR'"):
        schedule.load_state_dict(ExponentialLR(sgd(), gamma=0.9).state_dict())
    for key, bad in [("step_size", 0), ("gamma", -1.0), ("last_step", -2), ("base_lr", -0.5)]:
        with pytest.raises(ValueError, match=rf"{key}.*(: |got ){bad}( |$)"):
            schedule.load_state_dict(good | {key: bad})
    with pytest.raises(ValueError, match="gamma"):
        schedule.load_state_dict({k: v for k, v in good.items() if k != "gamma"})
    assert schedule.step_size == 2 and schedule.last_step == 0  # nothing changed


@pytest.mark.parametrize(
    ("cls", "kwargs", "value"),
    [
        (StepLR, {"step_size": 0}, "0"),
        (StepLR, {"step_size": -3}, "-3"),
        (StepLR, {"step_size": 2.5}, "2.5"),
        (StepLR, {"step_size": True}, "True"),
        (StepLR, {"step_size": 2, "gamma": 0.0}, "0.0"),
        (StepLR, {"step_size": 2, "gamma": -0.1}, "-0.1"),
        (ExponentialLR, {"gamma": 0}, "0"),
        (ExponentialLR, {"gamma": float("nan")}, "nan"),
        (ExponentialLR, {"gamma": float("inf")}, "inf"),
        (CosineAnnealingLR, {"T_max": 0}, "0"),
        (CosineAnnealingLR, {"T_max": 10, "eta_min": -1e-3}, "-0.001"),
        (LinearWarmup, {"warmup_steps": 0}, "0"),
        (LinearWarmup, {"warmup_steps": 5, "start_factor": 0.0}, "0.0"),
        (LinearWarmup, {"warmup_steps": 5, "start_factor": 1.5}, "1.5"),
    ],
)
def test_bad_values_name_the_value(cls, kwargs, value):
    opt = sgd(0.1)
    with pytest.raises(ValueError, match=rf"(: |got ){re.escape(value)}( |$)"):
        cls(opt, **kwargs)
    assert opt.lr == 0.1  # a refused schedule leaves the optimizer alone


def test_get_schedule():
    assert set(SCHEDULES) == {"step", "exponential", "cosine", "warmup"}
    for name, kwargs, cls in [
        ("step", {"step_size": 2}, StepLR),
        ("exponential", {"gamma": 0.9}, ExponentialLR),
        ("cosine", {"T_max": 5}, CosineAnnealingLR),
        ("Warmup", {"warmup_steps": 5}, LinearWarmup),
    ]:
        assert type(get_schedule(name, sgd(), **kwargs)) is cls
    with pytest.raises(ValueError, match="step, exponential, cosine, warmup"):
        get_schedule("onecycle", sgd())
    with pytest.raises(ValueError, match="T_max"):
        get_schedule("step", sgd(), step_size=2, T_max=3)
    with pytest.raises(ValueError, match="step_size"):
        get_schedule("step", sgd())
    with pytest.raises(ValueError, match="-2"):
        get_schedule("cosine", sgd(), T_max=-2)


def test_needs_an_optimizer():
    with pytest.raises(ValueError, match="lr"):
        StepLR(object(), step_size=2)
