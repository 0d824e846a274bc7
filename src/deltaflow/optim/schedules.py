"""Learning-rate schedules: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``LinearWarmup``.

A schedule reads ``η₀ = optimizer.lr`` when it is built, sets ``optimizer.lr = η(0)``, and
each ``step()`` advances ``t`` by one and sets ``optimizer.lr = η(t)``. Whether a step is an
epoch or an iteration is the caller's choice. ``η(t)`` is computed in closed form from
``η₀`` and ``t`` (never by multiplying the previous rate), so a schedule restored from
``state_dict`` continues exactly; the values agree with ``torch.optim.lr_scheduler``.
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from deltaflow._checks import integer, real


class LRSchedule:
    """Base class. Subclasses give ``_check(**hyper) -> dict`` (validated hyperparameters)
    and ``lr_at(t)``, the closed form η(t)."""

    def __init__(self, optimizer, **hyper):
        if not hasattr(optimizer, "lr"):
            raise ValueError(f"{type(self).__name__} needs an optimizer with an lr, got {type(optimizer).__name__}")
        self._hyper = tuple(hyper)
        self.__dict__.update(self._check(**hyper))
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_step = 0
        optimizer.lr = self.get_lr()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._hyper)
        return f"{type(self).__name__}({args}, last_step={self.last_step})"

    @staticmethod
    def _check(**hyper) -> dict:
        raise NotImplementedError

    def lr_at(self, t: int) -> float:
        """η(t), the learning rate after ``t`` steps."""
        raise NotImplementedError

    def get_lr(self) -> float:
        """The learning rate at the current step, η(last_step)."""
        return self.lr_at(self.last_step)

    def step(self) -> float:
        """Advance one step, set ``optimizer.lr`` to η(t) and return it."""
        self.last_step += 1
        self.optimizer.lr = self.get_lr()
        return self.optimizer.lr

    def state_dict(self) -> dict:
        """JSON scalars: ``{"schedule": name, "base_lr": η₀, "last_step": t, <hyperparameters>}``."""
        return {"schedule": type(self).__name__, "base_lr": self.base_lr, "last_step": self.last_step,
                **{k: getattr(self, k) for k in self._hyper}}

    def load_state_dict(self, d: dict) -> None:
        """Restore a saved schedule (checked first) and set ``optimizer.lr`` to its η(t)."""
        name = type(self).__name__
        if d.get("schedule") != name:
            raise ValueError(f"state dict is for schedule {d.get('schedule')!r}, not {name}")
        missing = [k for k in ("base_lr", "last_step", *self._hyper) if k not in d]
        if missing:
            raise ValueError(f"{name} state dict lacks {missing}")
        hyper = self._check(**{k: d[k] for k in self._hyper})
        base_lr = real(d["base_lr"], f"{name} base_lr")
        last_step = d["last_step"]
        if isinstance(last_step, bool) or not isinstance(last_step, (int, np.integer)) or last_step < 0:
            raise ValueError(f"{name} last_step must be a non-negative integer, got {last_step!r}")
        self.__dict__.update(hyper)
        self.base_lr, self.last_step = base_lr, int(last_step)
        self.optimizer.lr = self.get_lr()


class StepLR(LRSchedule):
    """Decay by ``gamma`` every ``step_size`` steps: η(t) = η₀ · γ^⌊t / step_size⌋."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    @staticmethod
    def _check(step_size, gamma):
        return {"step_size": integer(step_size, "StepLR step_size"),
                "gamma": real(gamma, "StepLR gamma", low_open=True)}

    def lr_at(self, t):
        return self.base_lr * self.gamma ** (t // self.step_size)


class ExponentialLR(LRSchedule):
    """Decay by ``gamma`` every step: η(t) = η₀ · γᵗ."""

    def __init__(self, optimizer, gamma: float):
        super().__init__(optimizer, gamma=gamma)

    @staticmethod
    def _check(gamma):
        return {"gamma": real(gamma, "ExponentialLR gamma", low_open=True)}

    def lr_at(self, t):
        return self.base_lr * self.gamma**t


class CosineAnnealingLR(LRSchedule):
    """Half a cosine from η₀ down to ``eta_min`` over ``T_max`` steps (SGDR without restarts)::

        η(t) = η_min + (η₀ − η_min) · (1 + cos(π t / T_max)) / 2

    Past ``T_max`` the cosine continues, climbing back to η₀ at 2·T_max, as PyTorch's does.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):
        super().__init__(optimizer, T_max=T_max, eta_min=eta_min)

    @staticmethod
    def _check(T_max, eta_min):
        return {"T_max": integer(T_max, "CosineAnnealingLR T_max"),
                "eta_min": real(eta_min, "CosineAnnealingLR eta_min")}

    def lr_at(self, t):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LinearWarmup(LRSchedule):
    """Ramp linearly from ``start_factor``·η₀ to η₀ over ``warmup_steps`` steps, then hold::

        η(t) = η₀ · (f + (1 − f) · min(t, warmup_steps) / warmup_steps)

    (PyTorch's ``LinearLR(start_factor=f, end_factor=1, total_iters=warmup_steps)``.)
    """

    def __init__(self, optimizer, warmup_steps: int, start_factor: float = 1.0 / 3):
        super().__init__(optimizer, warmup_steps=warmup_steps, start_factor=start_factor)

    @staticmethod
    def _check(warmup_steps, start_factor):
        # f = 0 would make η(0) = 0, a step that does nothing; PyTorch refuses it too
        return {"warmup_steps": integer(warmup_steps, "LinearWarmup warmup_steps"),
                "start_factor": real(start_factor, "LinearWarmup start_factor", low_open=True, high=1.0)}

    def lr_at(self, t):
        f = self.start_factor
        return self.base_lr * (f + (1.0 - f) * min(t, self.warmup_steps) / self.warmup_steps)


SCHEDULES = {"step": StepLR, "exponential": ExponentialLR, "cosine": CosineAnnealingLR, "warmup": LinearWarmup}


def get_schedule(name: str, optimizer, **kwargs) -> LRSchedule:
    """The schedule called ``name`` (a key of ``SCHEDULES``) driving ``optimizer.lr``.
    Unknown names, missing or unknown keyword arguments raise ``ValueError``."""
    key = name.lower() if isinstance(name, str) else name
    if key not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    cls = SCHEDULES[key]
    params = {k: p for k, p in inspect.signature(cls).parameters.items() if k != "optimizer"}
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise ValueError(f"{key}: unknown argument(s) {unknown}; accepted: {', '.join(params)}")
    missing = [k for k, p in params.items() if p.default is inspect.Parameter.empty and k not in kwargs]
    if missing:
        raise ValueError(f"{key} schedule needs {', '.join(missing)}")
    return cls(optimizer, **kwargs)
