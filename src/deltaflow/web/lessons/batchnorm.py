"""Lesson ``batchnorm``: one learning rate with and without BatchNorm; batch against running statistics.

Part ``"rate"``. ``experiments.batchnorm.train``: a 64-64-64-64-10 ReLU network on the digits
(standardised, float32), softmax cross-entropy, plain SGD at η = ``lr``, mini-batches of 32,
``epochs`` epochs, the same initial weights and batch order with and without BatchNorm
(Dense → BN → ReLU). A run stops at its first non-finite loss. A run ``trains`` when it did
not diverge and its last test accuracy is at least ``TRAINED_ACCURACY``; ``only_batchnorm``
(the challenge) = the BatchNorm run trains and the plain one does not.
Cost: 2 × ``epochs`` ≤ 2 × 6 epochs of 45 steps, about 0.3 s.

Part ``"statistics"``. One ``deltaflow.nn.norm.BatchNorm(features)`` (momentum 0.1, ε = 1e-5,
float64) sees ``passes`` training batches of B rows drawn from N(``mean``_j, ``std``_j²); then
one more batch x : (B, features) goes through it in training mode and in eval mode::

    train:  ẑ = (x − μ_B)/√(σ²_B + ε),   μ_B, σ²_B (biased) of this batch
    eval:   ẑ = (x − running_mean)/√(running_var + ε)
    running ← 0.9 · running + 0.1 · batch statistic (σ²_B unbiased, × B/(B − 1))

Shown: the batch, μ_B and σ²_B, the running statistics the eval pass used (after the
``passes`` batches, before the shown batch updates them), both outputs, and the running
mean and variance after each pass (their history).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from deltaflow.data import load_dataset
from deltaflow.experiments import batchnorm as experiment
from deltaflow.experiments.base import to_json_ready
from deltaflow.nn.norm import BatchNorm
from deltaflow.web.lessons.base import LessonRequest

TRAINED_ACCURACY = 0.9
RATE_FIELDS = {"lr", "epochs"}
STAT_FIELDS = {"passes", "batch", "mean", "std"}
MAX_FEATURES = 4


class BatchnormRequest(LessonRequest):
    """``part`` picks the computation; each part takes only its own fields (defaults otherwise)."""

    part: Literal["rate", "statistics"]
    seed: int = Field(0, ge=0, le=2**31 - 1)
    lr: float = Field(0.1, gt=0.0, le=10.0)
    epochs: int = Field(3, ge=1, le=6)
    passes: int = Field(0, ge=0, le=200)
    batch: int = Field(8, ge=2, le=32)
    mean: list[float] = Field(default_factory=lambda: [3.0, -1.0], min_length=1, max_length=MAX_FEATURES)
    std: list[float] = Field(default_factory=lambda: [2.0, 0.5], min_length=1, max_length=MAX_FEATURES)

    PART_FIELDS = {"rate": RATE_FIELDS, "statistics": STAT_FIELDS}

    @model_validator(mode="after")
    def _checks(self):
        if len(self.mean) != len(self.std):
            raise ValueError(f"mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(abs(m) > 100 for m in self.mean) or any(not 0 < s <= 100 for s in self.std):
            raise ValueError("mean must lie in [-100, 100] and std in (0, 100]")
        return self


def trains(run: dict) -> bool:
    """Did not diverge, and the last epoch's test accuracy ≥ TRAINED_ACCURACY."""
    acc = run["test_accuracy"]
    return run["diverged_at"] is None and bool(acc) and acc[-1] >= TRAINED_ACCURACY


def rate(req: BatchnormRequest) -> dict:
    """Both networks at one η (see the module docstring)."""
    data = load_dataset(experiment.DATASET, seed=req.seed)
    runs = {}
    for name, norm in (("plain", None), ("batchnorm", "batch")):
        r = experiment.train(data, norm, req.lr, req.epochs, req.seed)
        runs[name] = {key: r[key] for key in ("step_loss", "diverged_at", "epoch", "test_accuracy")}
        runs[name]["trains"] = trains(r)
    return {"part": "rate", "lr": req.lr, "epochs": req.epochs, "batch_size": experiment.BATCH,
            "hidden": experiment.HIDDEN, "dataset": experiment.DATASET, "trained_accuracy": TRAINED_ACCURACY,
            "runs": runs, "only_batchnorm": runs["batchnorm"]["trains"] and not runs["plain"]["trains"]}


def statistics(req: BatchnormRequest) -> dict:
    """Training against eval mode on one batch after ``passes`` batches (see the module docstring)."""
    mean, std = np.asarray(req.mean), np.asarray(req.std)
    rng = np.random.default_rng(req.seed)
    bn = BatchNorm(mean.size, dtype=np.float64)
    history = {"running_mean": [bn.running_mean.copy()], "running_var": [bn.running_var.copy()]}
    for _ in range(req.passes):
        bn.forward(mean + std * rng.standard_normal((req.batch, mean.size)), True)
        history["running_mean"].append(bn.running_mean.copy())
        history["running_var"].append(bn.running_var.copy())
    x = mean + std * rng.standard_normal((req.batch, mean.size))
    running_mean, running_var = bn.running_mean.copy(), bn.running_var.copy()
    eval_out = bn.forward(x, False)  # eval first: it leaves the running statistics as they are
    train_out = bn.forward(x, True)
    return {"part": "statistics", "passes": req.passes, "batch": req.batch, "momentum": bn.momentum, "eps": bn.eps,
            "x": x, "batch_mean": x.mean(axis=0), "batch_var": x.var(axis=0),
            "running_mean": running_mean, "running_var": running_var,
            "train_out": train_out, "eval_out": eval_out,
            "gap": float(np.abs(train_out - eval_out).max()), "history": history}


def run(req: BatchnormRequest) -> dict:
    """The part's result, JSON-ready (NaN and ±inf as None)."""
    return to_json_ready(rate(req) if req.part == "rate" else statistics(req))
