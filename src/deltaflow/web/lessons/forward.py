"""Lesson ``forward``: one forward pass through a 2-2-1 network, every intermediate shown.

With a⁽⁰⁾ = x, each layer l = 1, 2 computes::

    z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾,      a⁽ˡ⁾ = σ_l(z⁽ˡ⁾)

Shapes: x = a⁽⁰⁾ : (2,), W⁽¹⁾ : (2, 2), b⁽¹⁾ : (2,), z⁽¹⁾, a⁽¹⁾ : (2,); W⁽²⁾ : (1, 2), b⁽²⁾ : (1,),
z⁽²⁾ : (1,), ŷ = a⁽²⁾ : (1,). σ₁ is the request's ``activation`` (sigmoid, tanh or relu); σ₂ is
always the sigmoid, so ŷ ∈ (0, 1) reads as the probability of class 1.

The numbers come from the engine: ``nn.mlp([2, 2, 1], activation, output="sigmoid")`` in float64
(``Dense → σ₁ → Dense → Sigmoid``), its weights either the request's (all of W1, b1, W2, b2,
every value in [−20, 20]) or drawn by the engine's ``"torch"`` initialiser from ``seed``
(W and b ~ U(−1/√n_in, 1/√n_in)), then its layers' ``forward`` in turn, which is what
``Sequential.forward`` does, keeping each layer's output: z⁽¹⁾, a⁽¹⁾, z⁽²⁾, ŷ.

The challenge, for x = (1, 0) only: ``high`` = ŷ > 0.9, ``low`` = ŷ < 0.1 (both False for any
other x). Cost: one 2-2-1 forward pass, well under a millisecond.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from deltaflow.experiments.base import to_json_ready
from deltaflow.nn import Dense, mlp
from deltaflow.web.lessons.base import LessonRequest

BOUND = 20.0  # every input, weight and bias lies in [−BOUND, BOUND]
PROBE = (1.0, 0.0)  # the challenge's input
HIGH, LOW = 0.9, 0.1
WEIGHT_FIELDS = ("W1", "b1", "W2", "b2")

Value = Annotated[float, Field(ge=-BOUND, le=BOUND)]
Pair = Annotated[list[Value], Field(min_length=2, max_length=2)]
One = Annotated[list[Value], Field(min_length=1, max_length=1)]


class ForwardRequest(LessonRequest):
    """The input and either all four weight arrays or a ``seed`` to draw them (not both)."""

    x: Pair = [1.0, 0.0]
    W1: Annotated[list[Pair], Field(min_length=2, max_length=2)] | None = None
    b1: Pair | None = None
    W2: Annotated[list[Pair], Field(min_length=1, max_length=1)] | None = None
    b2: One | None = None
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    activation: Literal["sigmoid", "tanh", "relu"] = "sigmoid"

    @model_validator(mode="after")
    def _weights_or_seed(self):
        given = [f for f in WEIGHT_FIELDS if getattr(self, f) is not None]
        if self.seed is not None and given:
            raise ValueError(f"give a seed or the weights, not both (seed and {', '.join(given)})")
        if self.seed is None and len(given) != len(WEIGHT_FIELDS):
            missing = [f for f in WEIGHT_FIELDS if f not in given]
            raise ValueError(f"give all of W1, b1, W2, b2 or a seed; missing {', '.join(missing)}")
        return self


def build(req: ForwardRequest):
    """The engine's 2-2-1 network (float64): Dense(2→2), σ₁, Dense(2→1), Sigmoid."""
    net = mlp([2, 2, 1], activation=req.activation, output="sigmoid", init="torch", dtype=np.float64,
              rng=req.seed if req.seed is not None else 0)
    if req.seed is None:
        net.load_state_dict({"0.W": np.array(req.W1), "0.b": np.array(req.b1),
                             "2.W": np.array(req.W2), "2.b": np.array(req.b2)})
    return net


def forward(net, x: np.ndarray) -> list[np.ndarray]:
    """Each layer's output for a⁽⁰⁾ = x : (1, 2), in order: [z⁽¹⁾, a⁽¹⁾, z⁽²⁾, ŷ], each (1, n)."""
    outputs, a = [], x
    for layer in net.layers:
        a = layer.forward(a, training=False)
        outputs.append(a)
    return outputs


def run(req: ForwardRequest) -> dict:
    """Every intermediate of the forward pass, and per layer l: W, b, a_in = a⁽ˡ⁻¹⁾, z, a."""
    net = build(req)
    x = np.array([req.x], dtype=np.float64)
    z1, a1, z2, y_hat = (v[0] for v in forward(net, x))
    dense = [layer for layer in net.layers if isinstance(layer, Dense)]
    per_layer = ((dense[0], x[0], z1, a1, req.activation), (dense[1], a1, z2, y_hat, "sigmoid"))
    layers = [{"l": l, "W": d.W.value, "b": d.b.value, "a_in": a_in, "z": z, "a": a, "activation": act}
              for l, (d, a_in, z, a, act) in enumerate(per_layer, start=1)]
    at_probe = tuple(req.x) == PROBE
    return to_json_ready({
        "activation": req.activation, "seed": req.seed, "x": x[0],
        "W1": dense[0].W.value, "b1": dense[0].b.value, "W2": dense[1].W.value, "b2": dense[1].b.value,
        "z1": z1, "a1": a1, "z2": z2, "y_hat": y_hat, "layers": layers, "probe": list(PROBE),
        "challenge": {"high": bool(at_probe and y_hat[0] > HIGH), "low": bool(at_probe and y_hat[0] < LOW)},
    })
