"""Lesson ``perceptron``: Rosenblatt's rule on the logic gates AND, OR and XOR, one update at a time.

The unit and its rule (``deltaflow.nn.perceptron.Perceptron``), labels y ∈ {0, 1}::

    ŷ = step(w·x + b) = 1 if w·x + b > 0 else 0
    w ← w + η (y − ŷ) x,    b ← b + η (y − ŷ)

Data: the four corners x ∈ {0, 1}², X : (4, 2) in the order (0,0), (0,1), (1,0), (1,1), with
the gate's truth table as y : (4,) (``experiments.xor``). The weights start at zero
(``init="zeros"``, the engine's own start) or at (w₁, w₂, b) ~ U(−1, 1)³ drawn from
``default_rng([seed, 1])``. An epoch visits the four points in the fixed order, or with
``shuffle`` in the order ``gen.permutation(4)`` of ``gen = default_rng(seed)`` (the draws of
``Perceptron.fit(shuffle=True, rng=seed)``). Every visit is one call of the engine's
``Perceptron.fit`` on that single example for one epoch, so each step of ``history`` is the
engine's own arithmetic; training stops, as ``fit`` does, after the first epoch with no mistake.

Result: ``history[k]`` (k = 0 … 4·epochs_run) the weights after k visits (``history[0]``: the
start) with the point visited, its ŷ before the update and whether it was a mistake;
``mistakes[e]`` per epoch; ``converged`` and ``converged_at`` (1-based epoch with no mistake);
``predictions`` : (4,) of the final weights; ``never_converged``: all ``MAX_EPOCHS`` epochs ran
and every one had a mistake (XOR's fate, the chapter's third challenge). Cost: at most 200
single-example fits, a few milliseconds.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from deltaflow.experiments import xor
from deltaflow.experiments.base import to_json_ready
from deltaflow.nn.perceptron import Perceptron
from deltaflow.web.lessons.base import LessonRequest

MAX_EPOCHS = 50
X = xor.X  # (4, 2): (0,0), (0,1), (1,0), (1,1)


class PerceptronRequest(LessonRequest):
    """One training run of the perceptron on a gate's truth table."""

    gate: Literal["and", "or", "xor"]
    lr: float = Field(1.0, gt=0.0, le=10.0)
    epochs: int = Field(10, ge=1, le=MAX_EPOCHS)
    init: Literal["zeros", "random"] = "zeros"
    shuffle: bool = False
    seed: int = Field(0, ge=0, le=2**31 - 1)


def targets(gate: str) -> np.ndarray:
    """The gate's truth table y : (4,) in {0, 1}, over ``X``'s four points."""
    return xor.TARGETS[gate.upper()]


def start(req: PerceptronRequest) -> Perceptron:
    """The engine's perceptron at its initial weights (see the module docstring)."""
    p = Perceptron(2, lr=req.lr, dtype=np.float64)
    if req.init == "random":
        w1, w2, b = np.random.default_rng([req.seed, 1]).uniform(-1.0, 1.0, 3)
        p.w[:] = (w1, w2)
        p.b = float(b)
    return p


def _state(p: Perceptron) -> dict:
    return {"w": [float(p.w[0]), float(p.w[1])], "b": float(p.b)}


def train(req: PerceptronRequest) -> dict:
    """Visit the points one at a time with the engine's rule; the weights after every visit."""
    y = targets(req.gate)
    p = start(req)
    gen = np.random.default_rng(req.seed)
    history = [{**_state(p), "epoch": 0, "point": None, "y_hat": None, "mistake": False}]
    mistakes: list[int] = []
    for epoch in range(1, req.epochs + 1):
        order = gen.permutation(len(y)) if req.shuffle else range(len(y))
        count = 0
        for i in order:
            i = int(i)
            y_hat = int(p.predict(X[i:i + 1])[0])
            mistake = p.fit(X[i:i + 1], y[i:i + 1], epochs=1).mistakes[0] == 1
            count += mistake
            history.append({**_state(p), "epoch": epoch, "point": i, "y_hat": y_hat, "mistake": bool(mistake)})
        mistakes.append(count)
        if count == 0:
            break
    converged = mistakes[-1] == 0
    return {"p": p, "y": y, "history": history, "mistakes": mistakes, "converged": converged}


def run(req: PerceptronRequest) -> dict:
    """The run's history, mistakes per epoch and verdict, JSON-ready."""
    t = train(req)
    p, mistakes = t["p"], t["mistakes"]
    return to_json_ready({
        "gate": req.gate, "lr": req.lr, "epochs": req.epochs, "init": req.init, "shuffle": req.shuffle,
        "seed": req.seed, "X": X.tolist(), "y": t["y"].tolist(), "history": t["history"],
        "mistakes": mistakes, "epochs_run": len(mistakes), "converged": t["converged"],
        "converged_at": len(mistakes) if t["converged"] else None,
        "final": _state(p), "predictions": p.predict(X).tolist(),
        "never_converged": len(mistakes) == MAX_EPOCHS and min(mistakes) > 0,
        "max_epochs": MAX_EPOCHS,
    })
