"""Lesson ``linear``: why non-linearity, a deep linear network is one affine layer.

Part ``"collapse"``. Two Dense layers with no activation between them compose to one::

    z⁽²⁾ = W⁽²⁾(W⁽¹⁾x + b⁽¹⁾) + b⁽²⁾ = (W⁽²⁾W⁽¹⁾) x + (W⁽²⁾b⁽¹⁾ + b⁽²⁾)

``deltaflow.nn.collapse_linear`` computes W = W⁽ᴸ⁾···W⁽¹⁾ and b layer by layer. The network
is ``mlp([2, width × (depth − 1), 2], "identity")`` (float64, Xavier, from ``seed``; then every
bias drawn from N(0, 0.5²) by the same generator, so the bias term is not zero): W⁽¹⁾ : (width, 2),
W⁽ˡ⁾ : (width, width), W⁽ᴸ⁾ : (2, width). Result: every layer's W and b, the collapsed W : (2, 2)
and b : (2,), the pairwise products ``W21`` = W⁽²⁾W⁽¹⁾ and ``b21`` = W⁽²⁾b⁽¹⁾ + b⁽²⁾ (the first
composition written out), and for the learner's x : (2,) both outputs and ``gap`` =
max |z_deep − z_one|, float64 rounding (the challenge's first part: gap ≤ 1e-12).

Part ``"train"``. ``experiments.collapse``'s network, Dense 2 → 16 × 3 → 2, trained with
full-batch Adam (η = 0.01) for ``steps`` steps on ``circle`` or ``xor`` (400 points, 20 % test)
with identity, tanh or ReLU between the layers. Result: the loss before each step, train
and test accuracy, chance (the majority class of the test part), p(class 1) on a 30 × 30 grid
over the points, the test points, and for identity the collapsed layer's gap over the test
points and grid and whether it predicts the same class at every one of them. The flags
``stuck`` (identity, test accuracy ≤ chance + 0.1: a line cannot do better) and ``separates``
(test accuracy ≥ 0.9) are the challenge's other parts. Cost: 400 steps take 0.3–0.8 s.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from deltaflow.data import load_dataset
from deltaflow.experiments import collapse
from deltaflow.experiments.base import to_json_ready
from deltaflow.metrics import accuracy
from deltaflow.nn.losses import softmax
from deltaflow.nn.network import collapse_linear, mlp
from deltaflow.web.lessons.base import LessonRequest

COLLAPSE_FIELDS = {"depth", "width", "x"}
TRAIN_FIELDS = {"dataset", "activation", "steps"}
GRID = 30
BIAS_STD = 0.5
EXACT = 1e-12  # float64 rounding of a few products of numbers near 1
STUCK_MARGIN = 0.1  # a linear boundary on XOR or the circle stays within this of chance
SEPARATES = 0.9


class LinearRequest(LessonRequest):
    """``part`` picks the computation; each part takes only its own fields (defaults otherwise)."""

    part: Literal["collapse", "train"]
    seed: int = Field(0, ge=0, le=2**31 - 1)
    depth: int = Field(2, ge=2, le=4)
    width: int = Field(3, ge=1, le=4)
    x: list[float] = Field([1.0, -0.5], min_length=2, max_length=2)  # a JSON array: strict refuses tuples
    dataset: Literal["xor", "circle"] = "xor"
    activation: Literal["identity", "tanh", "relu"] = "identity"
    steps: int = Field(400, ge=1, le=600)

    PART_FIELDS = {"collapse": COLLAPSE_FIELDS, "train": TRAIN_FIELDS}

    @model_validator(mode="after")
    def _checks(self):
        if not all(abs(v) <= 100 for v in self.x):
            raise ValueError("x: each coordinate must be within ±100")
        return self


def collapsed(req: LinearRequest) -> dict:
    """The deep linear network, its single layer, and both on x (see the module docstring)."""
    rng = np.random.default_rng(req.seed)
    net = mlp([2] + [req.width] * (req.depth - 1) + [2], "identity", dtype=np.float64, rng=rng)
    dense = [layer for layer in net.layers if hasattr(layer, "W")]
    for d in dense:  # initialisation's zero biases would hide the bias term W⁽²⁾b⁽¹⁾ + b⁽²⁾
        d.b.value[...] = rng.normal(scale=BIAS_STD, size=d.b.value.shape)
    one = collapse_linear(net)
    x = np.asarray(req.x, dtype=np.float64)[None, :]
    deep, single = net.forward(x, False)[0], one.forward(x)[0]
    W1, b1, W2, b2 = dense[0].W.value, dense[0].b.value, dense[1].W.value, dense[1].b.value
    return {
        "part": "collapse", "depth": req.depth, "width": req.width, "x": list(req.x),
        "layers": [{"W": d.W.value, "b": d.b.value} for d in dense],
        "W21": W2 @ W1, "b21": W2 @ b1 + b2, "W": one.W.value, "b": one.b.value,
        "deep": deep, "one": single, "gap": float(np.abs(deep - single).max()),
        "same": bool(np.abs(deep - single).max() <= EXACT),
    }


def trained(req: LinearRequest) -> dict:
    """The 2 → 16 × 3 → 2 network trained on the set (see the module docstring)."""
    data = load_dataset(req.dataset, n_samples=collapse.N_SAMPLES, seed=req.seed, dtype="float64")
    Xtr, ytr, Xte, yte = data.X_train, data.y_train, data.X_test, data.y_test
    net = collapse.build(req.activation, req.seed)
    losses = collapse.train(net, Xtr, ytr, req.steps)
    lo, hi = np.vstack([Xtr, Xte]).min(axis=0), np.vstack([Xtr, Xte]).max(axis=0)
    pad = collapse.MARGIN * (hi - lo)
    xs, ys = np.linspace(lo[0] - pad[0], hi[0] + pad[0], GRID), np.linspace(lo[1] - pad[1], hi[1] + pad[1], GRID)
    points = np.column_stack([a.ravel() for a in np.meshgrid(xs, ys)])
    test_acc = accuracy(yte, net.forward(Xte, False).argmax(axis=1))
    chance = float(max(np.mean(yte), 1 - np.mean(yte)))
    out = {
        "part": "train", "dataset": req.dataset, "activation": req.activation, "steps": req.steps,
        "loss": losses, "train_accuracy": accuracy(ytr, net.forward(Xtr, False).argmax(axis=1)),
        "test_accuracy": test_acc, "chance": chance, "xs": xs, "ys": ys,
        "p": softmax(net.forward(points, False))[:, 1].reshape(GRID, GRID), "X_test": Xte, "y_test": yte,
        "stuck": req.activation == "identity" and test_acc <= chance + STUCK_MARGIN,
        "separates": test_acc >= SEPARATES, "gap": None, "same_class_everywhere": None,
    }
    if req.activation == "identity":
        check = np.vstack([Xte, points])
        one = collapse_linear(net)
        deep, single = net.forward(check, False), one.forward(check)
        out["gap"] = float(np.abs(deep - single).max())
        out["same_class_everywhere"] = bool(np.array_equal(deep.argmax(axis=1), single.argmax(axis=1)))
    return out


def run(req: LinearRequest) -> dict:
    """The part's result, JSON-ready (NaN and ±inf as None)."""
    return to_json_ready(collapsed(req) if req.part == "collapse" else trained(req))
