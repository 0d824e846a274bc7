"""The record ``explain`` returns: one example's pass as quantities, each a symbol, a value,
its equation and its shape; as readable text (``format``) or JSON (``to_dict``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Explanation", "LayerStep", "quantity", "json_float"]

_SUMMARY_WIDTH = 8  # arrays with a dimension longer than this are printed as shape and norm


def quantity(symbol: str, value, equation: str, note: str = "") -> dict:
    """One quantity: its symbol, value (ndarray; 0-d for scalars), equation, shape, and a
    note naming what the equation leaves generic (which σ, its derivative's formula)."""
    value = np.asarray(value)
    return {"symbol": symbol, "value": value, "equation": equation, "shape": tuple(value.shape), "note": note}


@dataclass
class LayerStep:
    """Unit layer l: a Dense and the σ after it. ``quantities`` maps a key to a quantity
    dict ``{"symbol", "value", "equation", "shape"}``; ``step["z"]`` reads one.

    Keys, in the order of the maths: ``a_prev`` a^(l−1) (n_{l−1},), ``W`` (n_l, n_{l−1}),
    ``b`` (n_l,) (absent without bias), ``z``, ``a``, ``dsigma`` σ'(z^(l)) (n_l,) (or (C, C)
    for a softmax output), ``delta`` δ^(l), ``dW`` ∂L/∂W^(l), ``db`` ∂L/∂b^(l); with ``lr``:
    ``W_new``, ``b_new``.
    """

    l: int
    activation: str
    quantities: dict[str, dict] = field(default_factory=dict)

    def __getitem__(self, key: str) -> dict:
        return self.quantities[key]

    def __contains__(self, key: str) -> bool:
        return key in self.quantities

    def keys(self):
        return self.quantities.keys()


@dataclass
class Explanation:
    """The whole pass for one example.

    layers : unit layers 1..L (``LayerStep``).
    output : ``y`` (target row, one-hot for a label), ``y_hat`` ŷ, ``loss`` L (0-d),
        ``dL_da`` ∂L/∂a^(L) (only with an explicit output activation), ``delta`` δ^(L),
        ``dL_dx`` ∂L/∂a^(0) = (W^(1))ᵀ·δ^(1).
    loss_value : L as a float. lr : η of the optional update, or None.
    """

    layers: list[LayerStep]
    output: dict[str, dict]
    loss_value: float
    loss: str
    network: str
    dtype: str
    lr: float | None = None

    def to_dict(self) -> dict:
        """A JSON-friendly copy: arrays become nested lists of floats, shapes lists.

        Strict JSON has no NaN or infinity: such entries become ``None``.
        """
        return {
            "network": self.network,
            "loss": self.loss,
            "dtype": self.dtype,
            "lr": self.lr,
            "loss_value": json_float(self.loss_value),
            "layers": [
                {"l": s.l, "activation": s.activation,
                 "quantities": {k: _json_quantity(q) for k, q in s.quantities.items()}}
                for s in self.layers
            ],
            "output": {k: _json_quantity(q) for k, q in self.output.items()},
        }

    def format(self, precision: int = 4) -> str:
        """Readable text: each equation followed by its numbers, forward pass first, then the
        loss, the backward pass from layer L down to 1, and the update if ``lr`` was given.
        Arrays with a dimension longer than 8 are summarised by shape and Frobenius norm."""
        lines = [f"{self.network}, loss {self.loss}, {self.dtype}", "", "Forward pass"]

        def put(q: dict) -> None:
            lines.extend("  " + line for line in _format_quantity(q, precision).splitlines())

        for s in self.layers:
            lines.append(f" layer {s.l} ({s.activation})")
            for key in ("a_prev", "W", "b", "z", "a", "dsigma"):
                # a^(l−1) of a later layer is the a^(l−1) just printed above it
                if key in s and (key != "a_prev" or s.l == 1):
                    put(s[key])
        lines += ["", "Loss"]
        for key in ("y", "y_hat", "loss"):
            put(self.output[key])
        lines += ["", "Backward pass"]
        if "dL_da" in self.output:
            put(self.output["dL_da"])
        for s in reversed(self.layers):
            lines.append(f" layer {s.l}")
            for key in ("delta", "dW", "db"):
                if key in s:
                    put(s[key])
        put(self.output["dL_dx"])
        if self.lr is not None:
            lines += ["", f"Gradient-descent step, η = {self.lr:g}"]
            for s in self.layers:
                lines.append(f" layer {s.l}")
                for key in ("W_new", "b_new"):
                    if key in s:
                        put(s[key])
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def json_float(v: float):
    """v as a float for strict JSON, which has no NaN or infinity: those become None."""
    v = float(v)
    return v if math.isfinite(v) else None


def _json_quantity(q: dict) -> dict:
    value = q["value"]
    if np.isfinite(value).all():
        data = value.tolist()
    else:
        data = np.where(np.isfinite(value), value, None).tolist()
    return {"symbol": q["symbol"], "equation": q["equation"], "note": q["note"], "shape": list(q["shape"]),
            "value": data}


def _format_quantity(q: dict, precision: int) -> str:
    value, eq = q["value"], q["equation"]
    note = f"   ({q['note']})" if q["note"] else ""
    if value.ndim and max(value.shape) > _SUMMARY_WIDTH:
        norm = float(np.linalg.norm(value))
        return f"{eq}: shape {q['shape']}, ‖·‖ = {norm:.{precision}g}{note}"
    text = np.array2string(value, precision=precision, separator=", ", suppress_small=False)
    if value.ndim < 2:
        return f"{eq} = {text}{note}"
    return f"{eq} ={note}\n" + "\n".join("    " + line for line in text.splitlines())
