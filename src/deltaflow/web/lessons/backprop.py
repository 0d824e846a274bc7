"""Lesson ``backprop``: the δ recursion stepped layer by layer on one training example.

The network is the simulator's for the RunConfig ``config_for(req)``: ``mlp([2, n, …, n, 2])``
with ``depth`` hidden layers of ``width`` units and activation σ, its weights drawn from
``seed`` by ``Trainer`` (float64), and the example is row ``index`` of that run's standardised
training set. ``diagnostics.explain`` computes its pass, in the text's notation (L unit layers,
n_0 = 2 inputs, n_L = C = 2 classes, softmax + cross-entropy)::

    a^(0) = x                                             (2,)
    z^(l) = W^(l)·a^(l−1) + b^(l),  a^(l) = σ(z^(l))      (n_l,),  W^(l) : (n_l, n_{l−1})
    ŷ = softmax(z^(L)),  L = −Σ_k y_k log ŷ_k             y = one-hot(label) : (C,)
    δ^(L) = ∂L/∂z^(L) = ŷ − y                              (C,)
    δ^(l) = (W^(l+1))ᵀ·δ^(l+1) ⊙ σ'(z^(l))                 (n_l,)   l = L−1 … 1
    ∂L/∂W^(l) = δ^(l)·(a^(l−1))ᵀ                           (n_l, n_{l−1})
    ∂L/∂b^(l) = δ^(l)                                      (n_l,)

``layers`` lists the unit layers output first (l = L … 1), each with a^(l−1), W, b, z, a,
σ'(z) (for l = L the softmax Jacobian diag(ŷ) − ŷŷᵀ, (C, C)), δ, ∂L/∂W and ∂L/∂b as nested
lists. ``steps`` = L, the number of recursion steps the page reveals, and ``complete`` says
every one of them has a finite δ, ∂L/∂W and ∂L/∂b (the challenge's first part).

With ``check``: every entry θ of every W^(l) and b^(l) is perturbed by ±h (h = 1e-6, float64)
and the engine's forward pass and loss give the central difference
(L(θ + h) − L(θ − h)) / 2h; ``fd_max_diff`` = max |analytic − FD| over all of them and
``fd_agrees`` = fd_max_diff ≤ 1e-6 (the second part). Cost: at most 4·4 + 4·4·2 + 4·2 + … =
74 parameters, 148 forward passes of one example: a few milliseconds.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field

from deltaflow.diagnostics.explain import explain
from deltaflow.experiments.base import to_json_ready
from deltaflow.nn.layers import Dense
from deltaflow.training.config import RunConfig
from deltaflow.training.trainer import Trainer
from deltaflow.web.lessons.base import LessonRequest
from deltaflow.web.presets import PRESETS

H = 1e-6  # the central differences' step
FD_TOLERANCE = 1e-6  # the challenge: max |analytic − FD| at most this
N_TRAIN = 400  # every offered set has 500 points, 80% of them for training
PRESET = "xor_hidden"  # the simulator preset whose optimiser and batch the opened run keeps


class BackpropRequest(LessonRequest):
    """One example (row ``index`` of the training set) through a 2-``width``×``depth``-2 network."""

    dataset: Literal["xor", "circle", "gauss", "moons"] = "xor"
    index: int = Field(0, ge=0, le=N_TRAIN - 1)
    activation: Literal["tanh", "sigmoid", "relu"] = "tanh"
    width: int = Field(3, ge=1, le=4)
    depth: int = Field(2, ge=1, le=3)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    check: bool = False


def config_for(req: BackpropRequest) -> RunConfig:
    """The simulator's run for this network: the ``xor_hidden`` preset on ``req.dataset`` with
    ``depth`` hidden layers of ``width`` σ units, ``req.seed``, float64."""
    preset = next(p for p in PRESETS if p["name"] == PRESET)["config"]
    return RunConfig.from_dict({**preset, "data": {**preset["data"], "name": req.dataset},
                                "model": {**preset["model"], "hidden": [req.width] * req.depth,
                                          "activation": req.activation},
                                "seed": req.seed, "dtype": "float64"})


def _layer(step) -> dict:
    """Unit layer l's numbers from its ``LayerStep``."""
    keys = ("a_prev", "W", "b", "z", "a", "dsigma", "delta", "dW", "db")
    return {"l": step.l, "activation": step.activation, **{k: step[k]["value"] for k in keys}}


def finite_differences(net, loss, x: np.ndarray, label: int) -> list[dict]:
    """(L(θ + h) − L(θ − h)) / 2h for every entry of every Dense's W and b, in layer order
    (l = 1 … L): [{"dW": (n_l, n_{l−1}), "db": (n_l,)}]. Each θ is restored after its pair."""
    X, y = x[None], np.array([label])

    def L() -> float:
        return loss.forward(net.forward(X, False), y)

    out = []
    for dense in (layer for layer in net.layers if isinstance(layer, Dense)):
        grads = {}
        for key, p in (("dW", dense.W), ("db", dense.b)):
            theta, g = p.value.reshape(-1), np.empty(p.value.size)
            if not np.shares_memory(theta, p.value):
                raise ValueError("backprop: a parameter is not contiguous; its entries cannot be perturbed in place")
            for i in range(theta.size):
                saved = theta[i]
                theta[i] = saved + H
                up = L()
                theta[i] = saved - H
                down = L()
                theta[i] = saved
                g[i] = (up - down) / (2 * H)
            grads[key] = g.reshape(p.value.shape)
        out.append(grads)
    return out


def _check(layers: list[dict], fd: list[dict]) -> dict:
    """The finite differences beside the analytic gradients (``layers`` output first)."""
    worst = 0.0
    for layer in layers:
        g = fd[layer["l"] - 1]
        layer["fd_dW"], layer["fd_db"] = g["dW"], g["db"]
        layer["fd_max_diff"] = float(max(np.abs(layer["dW"] - g["dW"]).max(), np.abs(layer["db"] - g["db"]).max()))
        worst = max(worst, layer["fd_max_diff"])
    return {"fd_h": H, "fd_max_diff": worst, "fd_tolerance": FD_TOLERANCE,
            "fd_agrees": bool(math.isfinite(worst) and worst <= FD_TOLERANCE)}


def backprop(req: BackpropRequest) -> dict:
    """The pass of one example, output layer first (see the module docstring)."""
    config = config_for(req)
    trainer = Trainer(config)
    net, loss, data = trainer.net, trainer.task.loss, trainer.dataset
    if len(data.y_train) != N_TRAIN:
        raise ValueError(f"backprop: {req.dataset} has {len(data.y_train)} training examples, expected {N_TRAIN}")
    x, label = data.X_train[req.index], int(data.y_train[req.index])
    ex = explain(net, loss, x, label)
    layers = [_layer(step) for step in reversed(ex.layers)]
    complete = len(layers) == req.depth + 1 and all(
        np.isfinite(layer[k]).all() for layer in layers for k in ("delta", "dW", "db"))
    result = {
        "dataset": req.dataset, "index": req.index, "activation": req.activation, "width": req.width,
        "depth": req.depth, "seed": req.seed, "sizes": [int(x.size), *config.model.hidden, int(layers[0]["z"].size)],
        "x": x, "label": label, "y": ex.output["y"]["value"], "y_hat": ex.output["y_hat"]["value"],
        "loss": ex.loss_value, "layers": layers, "steps": len(layers), "complete": bool(complete),
        "delta_norm_first": float(np.linalg.norm(layers[-1]["delta"])),
        "config": config.model_dump(mode="json"), "check": req.check,
    }
    if req.check:
        result.update(_check(layers, finite_differences(net, loss, x, label)))
    return result


def run(req: BackpropRequest) -> dict:
    """The recursion (and with ``check`` its finite-difference check), JSON-ready."""
    return to_json_ready(backprop(req))
