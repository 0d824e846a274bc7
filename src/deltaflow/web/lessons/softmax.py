"""Lesson ``softmax``: softmax, cross-entropy and its gradient ŷ − y; cross-entropy against MSE.

One example: logits z : (C,), 2 ≤ C ≤ 6, |z_k| ≤ 30, and its true class y (one-hot y : (C,))::

    ŷ_k = e^{z_k} / Σ_j e^{z_j}                      (deltaflow.nn.softmax, max subtracted)
    L_CE = −Σ_k y_k log ŷ_k = −log ŷ_y,   ∂L_CE/∂z = ŷ − y
    L_MSE = (1/C) Σ_k (ŷ_k − y_k)²,       ∂L_MSE/∂ŷ = 2(ŷ − y)/C        (the engine's mean)
    ∂L_MSE/∂z = Jᵀ ∂L_MSE/∂ŷ,  J = ∂ŷ/∂z = diag(ŷ) − ŷŷᵀ,  so  ∂L_MSE/∂z_k = ŷ_k (g_k − ŷ·g)

L_CE, ŷ and ∂L_CE/∂z are the engine's ``SoftmaxCrossEntropy`` forward and backward on a batch of
one; L_MSE and g = ∂L_MSE/∂ŷ are ``MeanSquaredError``'s forward and backward on that ŷ. The
engine has no softmax layer (its classifiers fuse softmax into the loss), so the product with the
softmax's Jacobian is the one line written here.

Part ``"example"``: all of the above for the request's z and y, the two gradient sizes at the true
class, |∂L_CE/∂z_y| = 1 − ŷ_y and |∂L_MSE/∂z_y|, and their ratio. The challenge's flags:
``confidently_wrong`` = ŷ_y < ``WRONG_BELOW``; ``ce_10x_mse`` = confidently wrong and
|∂L_CE/∂z_y| ≥ ``RATIO`` · |∂L_MSE/∂z_y| there.

Part ``"sweep"``: the request's z with only z_y moved, to z_y = log Σ_{j≠y} e^{z_j} + log(p/(1 − p)),
so that ŷ_y = p for p = 0.5 · 10^(−i/10), i = 0 … ``SWEEP_STEPS`` − 1 (0.5 down to 1.0e−4); at each,
both gradient sizes at the true class as in ``"example"``. The other classes keep their ratios
q_k = ŷ_k/(1 − ŷ_y), and then |∂L_CE/∂z_y| = 1 − p rises towards 1 while
|∂L_MSE/∂z_y| = (2/C) p (1 − p)² (1 + ‖q‖²) peaks at p = 1/3 and falls like p below it:
a confidently wrong output barely moves under MSE. ``example_step`` places the request's own ŷ_y
on the sweep's steps (None when it lies outside them).
Cost: either part of the largest request (6 logits; 38 examples) well under 10 ms.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from deltaflow.experiments.base import to_json_ready
from deltaflow.nn.losses import MeanSquaredError, SoftmaxCrossEntropy
from deltaflow.web.lessons.base import LessonRequest

MAX_CLASSES = 6
MAX_LOGIT = 30.0
WRONG_BELOW = 0.05  # the challenge: ŷ_y under this is a confidently wrong output
RATIO = 10.0  # ... and there cross-entropy's gradient at the true class is this many times MSE's
SWEEP_START = 0.5  # the sweep's ŷ_y: SWEEP_START · 10^(−i/STEPS_PER_DECADE)
STEPS_PER_DECADE = 10
SWEEP_STEPS = 38  # the last: 0.5 · 10^−3.7 ≈ 1.0e−4

Logit = Annotated[float, Field(ge=-MAX_LOGIT, le=MAX_LOGIT)]


class SoftmaxRequest(LessonRequest):
    """The logits z of one example and its true class y; both parts take the same fields."""

    part: Literal["example", "sweep"]
    logits: list[Logit] = Field(min_length=2, max_length=MAX_CLASSES)
    y: int = Field(ge=0, le=MAX_CLASSES - 1)

    @model_validator(mode="after")
    def _class_in_range(self):
        if self.y >= len(self.logits):
            raise ValueError(f"class y = {self.y} is out of range for {len(self.logits)} logits (0 … {len(self.logits) - 1})")
        return self


def losses(z: np.ndarray, y: int) -> dict:
    """Softmax, both losses and their gradients w.r.t. z for one example, by the engine.

    z : (C,) float64 logits, y : the true class. Returns ŷ, the one-hot y, L_CE, ∂L_CE/∂z,
    L_MSE, ∂L_MSE/∂ŷ and ∂L_MSE/∂z, each (C,), and the two gradient sizes at the true class.
    """
    C = z.shape[0]
    onehot = np.zeros((1, C))
    onehot[0, y] = 1.0
    ce = SoftmaxCrossEntropy()
    loss_ce = ce.forward(z[None, :], np.array([y]))
    grad_ce = ce.backward()[0]  # a batch of one: ŷ − y exactly
    y_hat = ce.y_hat  # (1, C), the very ŷ its backward used
    mse = MeanSquaredError()
    loss_mse = mse.forward(y_hat, onehot)
    g = mse.backward()  # ∂L_MSE/∂ŷ : (1, C)
    grad_mse = (y_hat * (g - (g * y_hat).sum(axis=1, keepdims=True)))[0]  # Jᵀg, J = diag(ŷ) − ŷŷᵀ
    return {"p": y_hat[0], "onehot": onehot[0], "loss_ce": loss_ce, "grad_ce": grad_ce,
            "loss_mse": loss_mse, "grad_mse_p": g[0], "grad_mse": grad_mse,
            "ce_grad_y": abs(float(grad_ce[y])), "mse_grad_y": abs(float(grad_mse[y]))}


def _ratio(ce: float, mse: float) -> float:
    """|∂L_CE/∂z_y| / |∂L_MSE/∂z_y|; NaN (None on the wire) when both vanish (ŷ_y rounds to 1)."""
    if mse > 0:
        return ce / mse
    return math.inf if ce > 0 else math.nan


def example(req: SoftmaxRequest) -> dict:
    """Part ``"example"`` (see the module docstring)."""
    z = np.array(req.logits, dtype=np.float64)
    r = losses(z, req.y)
    p_y = float(r["p"][req.y])
    ratio = _ratio(r["ce_grad_y"], r["mse_grad_y"])
    wrong = p_y < WRONG_BELOW
    return {"part": "example", "classes": len(z), "logits": z, "y": req.y, **r, "p_y": p_y,
            "predicted": int(np.argmax(r["p"])), "ratio": ratio,
            "wrong_below": WRONG_BELOW, "ratio_needed": RATIO, "confidently_wrong": wrong,
            "ce_10x_mse": bool(wrong and ratio >= RATIO)}


def sweep(req: SoftmaxRequest) -> dict:
    """Part ``"sweep"`` (see the module docstring)."""
    z = np.array(req.logits, dtype=np.float64)
    others = np.delete(z, req.y)
    log_rest = float(np.logaddexp.reduce(others))  # log Σ_{j≠y} e^{z_j}
    targets = SWEEP_START * 10.0 ** (-np.arange(SWEEP_STEPS) / STEPS_PER_DECADE)
    out = {"z_y": [], "p_y": [], "ce_grad": [], "mse_grad": [], "ratio": []}
    for p in targets:
        moved = z.copy()
        moved[req.y] = log_rest + math.log(p / (1.0 - p))
        r = losses(moved, req.y)
        out["z_y"].append(moved[req.y])
        out["p_y"].append(float(r["p"][req.y]))
        out["ce_grad"].append(r["ce_grad_y"])
        out["mse_grad"].append(r["mse_grad_y"])
        out["ratio"].append(_ratio(r["ce_grad_y"], r["mse_grad_y"]))
    p_own = float(losses(z, req.y)["p"][req.y])
    at = STEPS_PER_DECADE * math.log10(SWEEP_START / p_own)
    return {"part": "sweep", "classes": len(z), "logits": z, "y": req.y, "steps": list(range(SWEEP_STEPS)),
            "target_p_y": targets, **out, "steps_per_decade": STEPS_PER_DECADE, "sweep_start": SWEEP_START,
            "example_p_y": p_own, "example_step": at if 0 <= at <= SWEEP_STEPS - 1 else None}


def run(req: SoftmaxRequest) -> dict:
    """The part's result, JSON-ready (NaN and ±inf as None)."""
    return to_json_ready(example(req) if req.part == "example" else sweep(req))
