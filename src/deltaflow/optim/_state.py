"""Saving and restoring an optimiser's state: ``state_dict(opt)`` and ``load_state_dict(opt, d)``,
which ``Optimizer.state_dict`` and ``Optimizer.load_state_dict`` call."""

from __future__ import annotations

import numpy as np


def state_dict(opt) -> dict:
    """A copy of the optimiser's state: JSON scalars and lists, plus one dict of named
    arrays per param under ``"state"``::

        {"optimizer": "Adam", "lr": ..., <hyperparameters>, "step": t,
         "shapes": [[5, 3], [5]], "dtypes": ["float32", ...],
         "state": [{"exp_avg": array, "exp_avg_sq": array}, ...]}
    """
    d = {"optimizer": type(opt).__name__}
    for k in opt._hyper:
        v = getattr(opt, k)
        d[k] = list(v) if isinstance(v, tuple) else v
    d["step"] = opt.t
    d["shapes"] = [list(p.value.shape) for p in opt.params]
    d["dtypes"] = [p.value.dtype.name for p in opt.params]
    d["state"] = [{k: a.copy() for k, a in s.items()} for s in opt.state]
    return d


def load_state_dict(opt, d: dict) -> None:
    """Restore hyperparameters, step count and state saved by ``state_dict``. Everything is
    checked (optimiser type, number of params, shapes, dtypes, state names) before anything
    is changed; a mismatch raises ``ValueError`` naming it."""
    name = type(opt).__name__
    if d.get("optimizer") != name:
        raise ValueError(f"state dict is for optimizer {d.get('optimizer')!r}, not {name}")
    missing = [k for k in (*opt._hyper, "step", "shapes", "dtypes", "state") if k not in d]
    if missing:
        raise ValueError(f"{name} state dict lacks {missing}")
    if not len(d["state"]) == len(d["shapes"]) == len(d["dtypes"]) == len(opt.params):
        raise ValueError(f"state dict has {len(d['state'])} params, this {name} has {len(opt.params)}")
    step = d["step"]
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise ValueError(f"state dict step must be a non-negative integer, got {step!r}")
    for i, (p, shape, dtype) in enumerate(zip(opt.params, d["shapes"], d["dtypes"])):
        if tuple(shape) != p.value.shape or dtype != p.value.dtype.name:
            raise ValueError(
                f"param {i} ({p.name}): saved {dtype} {tuple(shape)}, here {p.value.dtype.name} {p.value.shape}"
            )
    hyper = {k: tuple(d[k]) if isinstance(d[k], list) else d[k] for k in opt._hyper}
    # validates the hyperparameters and lays out the state over the params as they are now
    fresh = type(opt)(opt.params, **hyper)
    for i, (want, got) in enumerate(zip(fresh.state, d["state"])):
        if set(want) != set(got):
            raise ValueError(f"param {i}: saved state {sorted(got)}, {name} expects {sorted(want)}")
        for k, a in want.items():
            src = np.asarray(got[k])
            if src.shape != a.shape or src.dtype != a.dtype:
                raise ValueError(
                    f"param {i} state {k!r}: saved {src.dtype} {src.shape}, expected {a.dtype} {a.shape}"
                )
            np.copyto(a, src)
    for k in opt._hyper:
        setattr(opt, k, getattr(fresh, k))
    # the state and the flat arrays its small params' state views belong to
    opt.state, opt._groups, opt._single, opt._work = fresh.state, fresh._groups, fresh._single, fresh._work
    opt._gbuf = None
    opt.t = int(step)
