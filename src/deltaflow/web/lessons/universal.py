"""Lesson ``universal``: a 1-D function as a sum of hidden units; deep against wide.

Part ``"width"``. ``experiments.uat.fit_width``: a 1-H-1 network with σ ∈ {tanh, sigmoid}::

    F(x) = Σ_j v_j σ(w_j u + b_j) + c,   u = x / 3,   x ∈ [−3, 3]

trained by full-batch Adam (η₀ = 0.05, cosine decay, float64, ``steps`` steps) on 256
noise-free samples of ``function`` (``deltaflow.data.functions``: sin, abs, step). Returned on
``POINTS`` points of [−3, 3]: the target, the fit, and each unit's term v_j σ(w_j u + b_j)
(``unit_contributions``: the terms plus c add up to the fit); the RMSE on the experiment's
grid of 2001 points. The same fit with H − 1 units (H ≥ 2) is made too, so the challenge is
the engine's: ``just_enough`` = RMSE(H) < ``threshold`` ≤ RMSE(H − 1): H units are enough and
H − 1 are not (for H = 1: RMSE(1) < threshold).

Part ``"depth"``. ``experiments.uat.fit_sawtooth`` on a sawtooth of ``teeth`` ramps: a deep ReLU
net 1-W-…-W-1 (``layers`` hidden layers of width ``units``) against a 1-h-1 net whose h
(``wide_width_for``) gives about the same parameter count, both trained the same way. The
offline experiment trains 3000 steps on 8 teeth; the lesson's cap of 400 steps (the budget of
one request) is enough for 2-4 teeth, so the default is 4.
Cost: the largest request (H = 32 and 31, 1000 steps; or 288 wide units beside 1-16-16-16-16-1, 400 steps) about 0.4 s.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from deltaflow.experiments import uat
from deltaflow.experiments.base import to_json_ready
from deltaflow.nn.network import mlp
from deltaflow.web.lessons.base import LessonRequest

POINTS = 241  # 30 points a tooth at 8 teeth, so the drawn target keeps its corners
WIDTH_FIELDS = {"function", "activation", "units", "threshold"}
DEPTH_FIELDS = {"layers", "width", "teeth"}
DEFAULT_STEPS = {"width": 800, "depth": 400}


class UniversalRequest(LessonRequest):
    """``part`` picks the computation; each part takes only its own fields (defaults otherwise).
    ``steps`` caps at 1000 for ``width`` and 400 for ``depth`` (the wide net costs most)."""

    part: Literal["width", "depth"]
    seed: int = Field(0, ge=0, le=2**31 - 1)
    function: Literal["sin", "abs", "step"] = "sin"
    activation: Literal["tanh", "sigmoid"] = "tanh"
    units: int = Field(4, ge=1, le=32)
    threshold: float = Field(0.05, gt=0.0, le=1.0)
    layers: int = Field(3, ge=1, le=4)
    width: int = Field(16, ge=2, le=16)
    teeth: int = Field(4, ge=1, le=8)
    steps: int | None = Field(None, ge=1, le=1000)  # None: DEFAULT_STEPS of the part

    PART_FIELDS = {"width": WIDTH_FIELDS, "depth": DEPTH_FIELDS}

    @model_validator(mode="after")
    def _checks(self):
        if self.steps is None:
            self.steps = DEFAULT_STEPS[self.part]
        if self.part == "depth" and self.steps > 400:
            raise ValueError("steps: for part 'depth' at most 400")
        return self


def _x() -> np.ndarray:
    return np.linspace(-uat.HALF_WIDTH, uat.HALF_WIDTH, POINTS)[:, None]


def width(req: UniversalRequest) -> dict:
    """The H-unit fit, its units, and the (H − 1)-unit fit's error (see the module docstring)."""
    x = _x()
    net, mse, rmse, max_error = uat.fit_width(req.function, req.units, req.steps, req.seed, req.activation)
    terms, c = uat.unit_contributions(net, x / uat.HALF_WIDTH)
    smaller = None
    if req.units > 1:
        smaller = uat.fit_width(req.function, req.units - 1, req.steps, req.seed, req.activation)[2]
    reached = rmse < req.threshold
    return {
        "part": "width", "function": req.function, "activation": req.activation, "units": req.units,
        "steps": req.steps, "params": uat.param_count(net), "x": x[:, 0], "target": uat.TARGETS[req.function][1](x[:, 0]),
        "fit": net.forward(x / uat.HALF_WIDTH, False)[:, 0], "terms": terms.T, "bias": c,
        "train_mse": mse, "rmse": rmse, "max_error": max_error, "threshold": req.threshold,
        "rmse_smaller": smaller, "reached": bool(reached),
        "just_enough": bool(reached and (smaller is None or smaller >= req.threshold)),
    }


def depth(req: UniversalRequest) -> dict:
    """Deep narrow against shallow wide at (about) equal parameter count, on the sawtooth."""
    x = _x()
    deep_sizes = [1] + [req.width] * req.layers + [1]
    wide_sizes = [1, uat.wide_width_for(uat.param_count(mlp(deep_sizes, rng=0))), 1]
    nets = {}
    for name, sizes in (("deep", deep_sizes), ("wide", wide_sizes)):
        net, rmse, max_error = uat.fit_sawtooth(sizes, req.steps, req.seed, req.teeth)
        nets[name] = {"sizes": sizes, "params": uat.param_count(net), "rmse": rmse, "max_error": max_error,
                      "fit": net.forward(x / uat.HALF_WIDTH, False)[:, 0]}
    return {"part": "depth", "steps": req.steps, "teeth": req.teeth, "x": x[:, 0], "target": uat.sawtooth(x[:, 0], req.teeth),
            "nets": nets}


def run(req: UniversalRequest) -> dict:
    """The part's result, JSON-ready (NaN and ±inf as None)."""
    return to_json_ready(width(req) if req.part == "width" else depth(req))
