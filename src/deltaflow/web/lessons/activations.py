"""Lesson ``activations``: an activation σ and its derivative σ' sampled on an interval, and read at one z.

The six activations of the engine (``deltaflow.nn.activations``), with their default parameters::

    sigmoid     σ(z) = 1 / (1 + e^(−z))                σ'(z) = σ(z)(1 − σ(z))  ≤ 1/4, = 1/4 at z = 0
    tanh        tanh(z)                                 tanh'(z) = 1 − tanh²(z)
    relu        max(0, z)                               1 if z > 0 else 0
    leaky_relu  z if z > 0 else 0.01 z                  1 if z > 0 else 0.01
    elu         z if z > 0 else e^z − 1                 1 if z > 0 else e^z
    gelu        z Φ(z)                                  Φ(z) + z φ(z)

Samples: z = linspace(z_min, z_max, n) as one batch of shape (n, 1). The activation layer's
``forward(z)`` gives a = σ(z) : (n, 1); its ``backward(1)`` with an upstream gradient of ones,
dL/dz = 1 ⊙ σ'(z), gives σ'(z) : (n, 1), so every derivative shown is the one backpropagation
multiplies by (the second factor of δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ'(z⁽ˡ⁾)). ``df_max`` is the
largest σ' over the samples and ``z_at_df_max`` its z.

The point (optional): the same forward and backward on z : (1, 1), with two flags, the chapter's
challenge: ``near_max`` = σ'(z) ≥ sup σ' − ``NEAR_MAX_GAP`` (for the sigmoid σ'(z) ≥ 0.2499), and
``dead`` = σ'(z) = 0 exactly (ReLU for z ≤ 0: such an input passes no gradient back).
Cost: the largest request (801 samples) takes well under a millisecond of arithmetic.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from deltaflow.experiments.base import to_json_ready
from deltaflow.nn.activations import get_activation
from deltaflow.web.lessons.base import LessonRequest

NAMES = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu")
Z_LIMIT = 10.0  # |z| ≤ 10: every activation's σ and σ' stay finite and readable there
MAX_SAMPLES = 801
NEAR_MAX_GAP = 1e-4  # σ'(z) within this of sup σ' counts as the peak (0.2499 for the sigmoid)


class ActivationsRequest(LessonRequest):
    """The activation, the interval [z_min, z_max] with n samples, and optionally one z to read."""

    activation: Literal["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"] = "sigmoid"
    z_min: float = Field(-6.0, ge=-Z_LIMIT, le=Z_LIMIT)
    z_max: float = Field(6.0, ge=-Z_LIMIT, le=Z_LIMIT)
    n: int = Field(241, ge=2, le=MAX_SAMPLES)
    z: float | None = Field(None, ge=-Z_LIMIT, le=Z_LIMIT)

    @model_validator(mode="after")
    def _interval(self):
        if not self.z_min < self.z_max:
            raise ValueError(f"z_min ({self.z_min}) must be less than z_max ({self.z_max})")
        return self


def evaluate(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(σ(z), σ'(z)) for z : (batch, 1) float64, by the engine's layer: forward, then backward of ones."""
    layer = get_activation(name)
    a = layer.forward(z, training=False)
    dz = layer.backward(np.ones_like(z))
    return a, dz


def point(name: str, z: float, sup: float) -> dict:
    """σ(z), σ'(z) at one z, and the challenge's flags (see the module docstring)."""
    a, dz = evaluate(name, np.array([[z]], dtype=np.float64))
    f, df = float(a[0, 0]), float(dz[0, 0])
    return {"z": z, "f": f, "df": df, "near_max": bool(df >= sup - NEAR_MAX_GAP), "dead": bool(df == 0.0)}


def run(req: ActivationsRequest) -> dict:
    """The samples, their largest σ', and the point's reading, JSON-ready."""
    layer = get_activation(req.activation)
    z = np.linspace(req.z_min, req.z_max, req.n, dtype=np.float64)[:, None]
    a, dz = evaluate(req.activation, z)
    k = int(np.argmax(dz[:, 0]))
    sup = float(layer.max_derivative)
    return to_json_ready({
        "activation": req.activation, "z_min": req.z_min, "z_max": req.z_max, "n": req.n,
        "z": z[:, 0], "f": a[:, 0], "df": dz[:, 0],
        "df_max": float(dz[k, 0]), "z_at_df_max": float(z[k, 0]),
        "sup_derivative": sup, "near_max_gap": NEAR_MAX_GAP, "derivative_text": layer.derivative_text,
        "point": None if req.z is None else point(req.activation, req.z, sup),
    })
