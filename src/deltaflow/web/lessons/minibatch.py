"""Lesson ``minibatch``: SGD's mini-batch gradient, a noisy estimate whose noise falls like 1/B.

The whole training set's loss is L = (1/N) Σᵢ Lᵢ and its gradient g = ∇L = (1/N) Σᵢ ∇Lᵢ. SGD
steps along the mean over a mini-batch of B rows drawn without replacement::

    g_B = (1/B) Σ_{i∈batch} ∇Lᵢ,      E[g_B] = g,
    E‖g_B − g‖² = (σ²/B) · (N − B)/(N − 1),      σ² = (1/N) Σᵢ ‖∇Lᵢ − g‖²

(the variance of a sample mean without replacement, summed over the parameters).

The network: ``mlp([2, 16, 2], "tanh")`` (float64, from ``seed``) with softmax cross-entropy on
the ``moons`` set (320 points, its training part N = 256, so every B below divides it).

Part ``"noise"``. At the initial weights: every example's own gradient ∇Lᵢ (one backward
pass each) gives g and σ²; then ``draws`` mini-batches of each size B (``rng.choice`` without
replacement) give the measured mean of ‖g_B − g‖² beside the formula. A mini-batch's gradient
is the mean of its rows' gradients (the gradient of a mean is the mean of the gradients; the
tests check it against the engine's own backward pass of the batch), so the draws reuse ∇Lᵢ.
``follows`` (the challenge) = every measured value within ``AGREES`` of the formula's.

Part ``"train"``. The same initial weights trained by plain SGD (η = ``lr``) for ``epochs``
epochs at each batch size, each from the same shuffling seed: per step, the mini-batch loss
and the examples seen before it (``seen``), and at ``SAMPLED`` evenly spaced steps the whole set's loss at the same
weights (before the step). The loss curve's noise = RMS over those steps of (mini-batch loss −
whole-set loss); it is 0 for B = N. ``quieter`` (the challenge) = at least two batch sizes,
and the noise falls strictly as B grows. Cost: the largest request (B = 1 for 3 epochs,
768 steps, and four more sizes) takes about 0.5 s.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from deltaflow.data import iterate_minibatches, load_dataset
from deltaflow.experiments.base import backprop, to_json_ready
from deltaflow.nn.losses import SoftmaxCrossEntropy
from deltaflow.nn.network import mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.web.lessons.base import LessonRequest

N_SAMPLES = 320
SAMPLED = 128
HIDDEN = 16
AGREES = 0.15  # over 400 draws the measured mean of ‖g_B − g‖² lies within 15% of the formula
ROUNDING = 1e-20  # B = N: g_B = g up to float64 rounding, ‖g_B − g‖² ≈ (1e-16·‖g‖)², not 0
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
NOISE_FIELDS = {"draws"}
TRAIN_FIELDS = {"lr", "epochs"}


class MinibatchRequest(LessonRequest):
    """``part`` picks the computation; each part takes only its own fields (defaults otherwise)."""

    part: Literal["noise", "train"]
    seed: int = Field(0, ge=0, le=2**31 - 1)
    batch_sizes: list[Literal[BATCH_SIZES]] = Field([1, 8, 64], min_length=1, max_length=5)
    draws: int = Field(400, ge=10, le=400)
    lr: float = Field(0.1, gt=0.0, le=2.0)
    epochs: int = Field(2, ge=1, le=3)

    PART_FIELDS = {"noise": NOISE_FIELDS, "train": TRAIN_FIELDS}

    @model_validator(mode="after")
    def _checks(self):
        if len(set(self.batch_sizes)) != len(self.batch_sizes):
            raise ValueError("batch_sizes: each size once")
        return self


def setup(seed: int):
    """The moons training set and the initial network (float64)."""
    data = load_dataset("moons", n_samples=N_SAMPLES, seed=seed, dtype="float64")
    net = mlp([2, HIDDEN, 2], "tanh", dtype=np.float64, rng=np.random.default_rng([seed, 1]))
    return data.X_train, data.y_train, net


def gradient(net, X, y) -> np.ndarray:
    """∇L of the mean loss over the rows (X, y), all parameters flattened in order."""
    backprop(net, SoftmaxCrossEntropy(), X, y)
    return np.concatenate([p.grad.ravel() for p in net.parameters()])


def noise(req: MinibatchRequest) -> dict:
    """Measured E‖g_B − g‖² against σ²(N − B)/(B(N − 1)) (see the module docstring)."""
    X, y, net = setup(req.seed)
    N = len(y)
    each = np.stack([gradient(net, X[i:i + 1], y[i:i + 1]) for i in range(N)])
    g = each.mean(axis=0)
    sigma2 = float(np.mean(np.sum((each - g) ** 2, axis=1)))
    rng = np.random.default_rng([req.seed, 2])
    rows = []
    for B in sorted(req.batch_sizes):
        d = [np.sum((each[rng.choice(N, size=B, replace=False)].mean(axis=0) - g) ** 2) for _ in range(req.draws)]
        predicted = sigma2 / B * (N - B) / (N - 1)
        measured = float(np.mean(d))
        rows.append({"B": B, "measured": measured, "predicted": predicted,
                     "agrees": bool(abs(measured - predicted) <= AGREES * predicted + ROUNDING * sigma2)})
    return {"part": "noise", "n_train": N, "draws": req.draws, "sigma2": sigma2, "grad_norm": float(np.linalg.norm(g)),
            "rows": rows, "follows": len(rows) >= 2 and all(r["agrees"] for r in rows)}


def train_one(req: MinibatchRequest, B: int) -> dict:
    """SGD at batch size B from the seed's initial weights: per-step losses (see the module docstring)."""
    X, y, net = setup(req.seed)
    loss, order = SoftmaxCrossEntropy(), np.random.default_rng([req.seed, 3])
    opt = get_optimizer("sgd", net.parameters(), lr=req.lr)
    steps = req.epochs * len(y) // B
    sampled = set(np.linspace(0, steps - 1, min(SAMPLED, steps)).round().astype(int).tolist())
    batch_loss, at, set_loss = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(req.epochs):
            for xb, yb in iterate_minibatches(X, y, B, rng=order):
                if len(batch_loss) in sampled:
                    at.append(len(batch_loss))
                    set_loss.append(loss.forward(net.forward(X, False), y))
                batch_loss.append(backprop(net, loss, xb, yb))
                opt.step()
    diff = np.asarray(batch_loss)[at] - np.asarray(set_loss)
    return {"B": B, "steps": steps, "seen": [k * B for k in range(steps)], "batch_loss": batch_loss,
            "sampled_steps": at, "set_loss": set_loss, "noise": float(np.sqrt(np.mean(diff**2))),
            "final_set_loss": float(loss.forward(net.forward(X, False), y))}


def train(req: MinibatchRequest) -> dict:
    """Every batch size trained (see the module docstring)."""
    runs = [train_one(req, B) for B in sorted(req.batch_sizes)]
    noises = [r["noise"] for r in runs]
    return {"part": "train", "lr": req.lr, "epochs": req.epochs, "n_train": len(setup(req.seed)[1]), "runs": runs,
            "quieter": len(runs) >= 2 and all(a > b for a, b in zip(noises, noises[1:]))}


def run(req: MinibatchRequest) -> dict:
    """The part's result, JSON-ready (NaN and ±inf as None)."""
    return to_json_ready(noise(req) if req.part == "noise" else train(req))
