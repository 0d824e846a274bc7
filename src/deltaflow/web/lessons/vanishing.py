"""Lesson ``vanishing``: per-layer gradient norms through depth, then exploding gradients and clipping.

Part ``"gradients"``. Backpropagation multiplies the error signal by every layer's Wᵀ and σ'(z)::

    δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l)),      ∂L/∂W^(l) = δ^(l) (a^(l−1))ᵀ

One full-batch forward and backward pass (float64, training mode) of
``experiments.vanishing.build``'s network, width 32 and ``depth`` hidden layers, on the
``circle`` set embedded to width 32 (the experiment's ``embed``: every Dense has fan-in 32),
measured by ``GradientProbe``. Per unit layer l = 1 … depth + 1: ‖∂L/∂W^(l)‖, ‖δ^(l)‖ and
mean σ'(z^(l)); the ratio r = ‖∂L/∂W^(1)‖ / ‖∂L/∂W^(L)‖ and ``within_100x`` = (0.01 ≤ r ≤ 100),
the chapter's challenge.

Part ``"clipping"``. ``experiments.exploding``'s 12-layer ReLU net of width 32 with every
W ~ N(0, scale²): full-batch SGD (η = ``lr``) for ``steps`` steps from the same weights, once
plain and once with ``clip_grad_norm(max_norm)`` (g ← g · min(1, max_norm/‖g‖)). Per step:
‖∇L‖ before clipping, the applied norm, the loss; a run stops at its first non-finite value
(``diverged_at``). ``clipping_saves`` (the challenge) = the plain run diverged, the clipped one
stayed finite, and it went on training: its final training accuracy ≥ ``TRAINS_ON_ACCURACY``
(a threshold that is too large lets the first steps kill the ReLUs: accuracy stays at chance).
Cost: the largest request (30 layers, or 2 × 150 steps) takes well under 0.1 s.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from deltaflow.data import load_dataset
from deltaflow.diagnostics.probes import GradientProbe
from deltaflow.experiments import exploding, vanishing
from deltaflow.experiments.base import to_json_ready
from deltaflow.web.lessons.base import LessonRequest

GRADIENT_FIELDS = {"activation", "init", "norm", "depth"}
CLIPPING_FIELDS = {"scale", "max_norm", "lr", "steps"}
WITHIN = 100.0  # the challenge: the first layer's gradient within this factor of the last layer's
TRAINS_ON_ACCURACY = 0.7  # the circle set's classes are balanced: chance is 0.5


class VanishingRequest(LessonRequest):
    """``part`` picks the computation; each part takes only its own fields (defaults otherwise)."""

    part: Literal["gradients", "clipping"]
    seed: int = Field(0, ge=0, le=2**31 - 1)
    activation: Literal["sigmoid", "tanh", "relu"] = "sigmoid"
    init: Literal["naive", "xavier", "he"] = "xavier"
    norm: Literal["none", "batch"] = "none"
    depth: int = Field(20, ge=1, le=30)
    scale: float = Field(1.0, ge=0.01, le=3.0)
    max_norm: float = Field(1.0, gt=0.0, le=1e6)
    lr: float = Field(0.1, gt=0.0, le=1.0)
    steps: int = Field(100, ge=1, le=150)

    PART_FIELDS = {"gradients": GRADIENT_FIELDS, "clipping": CLIPPING_FIELDS}


def _circle(seed: int):
    data = load_dataset("circle", n_samples=vanishing.N_SAMPLES, seed=seed, dtype="float64")
    return data.X_train, data.y_train


def gradients(req: VanishingRequest) -> dict:
    """Per-layer norms of one backward pass at initialisation (see the module docstring)."""
    X2, y = _circle(req.seed)
    X = vanishing.embed(X2, vanishing.WIDTH, np.random.default_rng([req.seed, 0]))
    net = vanishing.build(X.shape[1], req.depth, req.activation, req.init, req.norm, req.seed)
    with np.errstate(over="ignore", under="ignore"), GradientProbe(net, every=1) as probe:
        loss, stats = vanishing.measure(net, probe, X, y)
    r = vanishing.ratio(stats)
    return {
        "part": "gradients", "activation": req.activation, "init": req.init, "norm": req.norm, "depth": req.depth,
        "width": vanishing.WIDTH, "n_train": int(len(y)), "loss": loss, "layers": list(probe.names),
        "grad_W_norm": stats["grad_W_norm"], "delta_norm": stats["delta_norm"],
        "sigma_prime_mean": stats["sigma_prime_mean"], "ratio": r,
        "within_100x": bool(math.isfinite(r) and 1.0 / WITHIN <= r <= WITHIN),
        "sigma_prime_bound": vanishing.SIGMOID_MAX_DERIVATIVE ** req.depth if req.activation == "sigmoid" else None,
    }


def clipping(req: VanishingRequest) -> dict:
    """The same initial weights trained plain and clipped (see the module docstring)."""
    X, y = _circle(req.seed)
    runs = {}
    for name, clip in (("plain", False), ("clipped", True)):
        net = exploding.build(req.seed, std=req.scale)
        runs[name] = exploding.train(net, X, y, req.steps, clip, lr=req.lr, max_norm=req.max_norm)
    plain, clipped = runs["plain"], runs["clipped"]
    return {
        "part": "clipping", "scale": req.scale, "max_norm": req.max_norm, "lr": req.lr, "steps": req.steps,
        "depth": exploding.DEPTH, "width": exploding.WIDTH, "runs": runs,
        "largest_applied": max(clipped["applied_norm"]),
        "trains_on_accuracy": TRAINS_ON_ACCURACY,
        "clipping_saves": plain["diverged_at"] is not None and clipped["diverged_at"] is None
        and clipped["accuracy"] is not None and clipped["accuracy"] >= TRAINS_ON_ACCURACY,
    }


def run(req: VanishingRequest) -> dict:
    """The part's result, JSON-ready (NaN and ±inf as None)."""
    return to_json_ready(gradients(req) if req.part == "gradients" else clipping(req))
