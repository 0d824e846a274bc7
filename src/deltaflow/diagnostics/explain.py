"""One example's forward and backward pass, every number with its equation.

``explain(net, loss, x, y)`` recomputes, for a single example and from the parameters
alone, what the network and the loss compute, in the seed text's notation. For every
unit layer l = 1..L (a ``Dense`` and the activation σ after it)::

    a^(0) = x
    z^(l) = W^(l)·a^(l−1) + b^(l)                      (n_l,)
    a^(l) = σ(z^(l))                                   (n_l,)
    δ^(L) = ∂L/∂z^(L)                                  from the loss (ŷ − y for softmax + CE)
    δ^(l) = (W^(l+1))ᵀ·δ^(l+1) ⊙ σ'(z^(l))             (n_l,)
    ∂L/∂W^(l) = δ^(l)·(a^(l−1))ᵀ                       (n_l, n_{l−1})
    ∂L/∂b^(l) = δ^(l)                                  (n_l,)
    W^(l) ← W^(l) − η·∂L/∂W^(l)                        (only when ``lr=η`` is given)

The δ recursion here is written out from ``W``, ``z`` and each activation's
``derivative(z)``; it never calls a layer's ``forward`` or ``backward``, so the network
(parameters, gradients, cached values, BatchNorm statistics) and the loss are left exactly
as they were. Its numbers equal the engine's own backward pass for a batch of one.

The output of the last unit layer
---------------------------------
When the last ``Dense`` has no activation after it, the network returns logits and the
loss supplies the output function, which ``explain`` shows as that layer's σ:

- ``SoftmaxCrossEntropy``: a^(L) = ŷ = softmax(z^(L)) and δ^(L) = ŷ − y (y one-hot); its
  σ'(z^(L)) entry is the Jacobian ∂ŷ/∂z^(L) = diag(ŷ) − ŷ·ŷᵀ, shape (C, C).
- ``BinaryCrossEntropy(from_logits=True)``: a^(L) = ŷ = σ(z^(L)), δ^(L) = (ŷ − y)/k.
- ``MeanSquaredError``: a^(L) = ŷ = z^(L) (identity), δ^(L) = 2(ŷ − y)/k.
- ``BinaryCrossEntropy(from_logits=False)``: a^(L) = ŷ = z^(L), δ^(L) = (ŷ − y)/(ŷ(1 − ŷ))/k
  (denominator clamped at 1e-12, as the engine and PyTorch do).

(k = n_L: the engine's losses average over every output, as PyTorch's ``mean``.) When an
explicit activation σ_L follows the last ``Dense`` (``mlp(..., output="sigmoid")``), a^(L) =
σ_L(z^(L)) is the network's output, the loss acts on it, and the output record adds
∂L/∂a^(L), with δ^(L) = ∂L/∂a^(L) ⊙ σ_L'(z^(L)).

Supported networks
------------------
A ``Sequential`` (nested ones are flattened) or a single ``Dense``: ``Dense`` layers, each
followed by at most one differentiable activation (a ``Dense`` followed directly by another
is a unit layer with the identity). ``BatchNorm``, ``LayerNorm``, ``Residual``, ``Dropout``
and ``Step`` raise ``ValueError``: their maths is not the plain δ recursion above (batch
statistics couple the examples; dropout draws a random mask; step has no gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from deltaflow.nn.activations import ELU, GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Step, Tanh
from deltaflow.nn.layers import Dense, Layer
from deltaflow.nn.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy, log_softmax, sigmoid
from deltaflow.nn.network import Sequential

__all__ = ["explain", "Explanation", "LayerStep"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_SUMMARY_WIDTH = 8  # arrays with a dimension longer than this are printed as shape and norm


# ------------------------------------------------------------------ records


def _quantity(symbol: str, value, equation: str, note: str = "") -> dict:
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
            "loss_value": _json_float(self.loss_value),
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


def _json_float(v: float):
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


# ------------------------------------------------------------------ the network as unit layers


def _flatten(net) -> list[Layer]:
    if isinstance(net, Sequential):
        return [leaf for layer in net.layers for leaf in _flatten(layer)]
    return [net]


def _unit_layers(net) -> list[tuple[Dense, Activation | None]]:
    """Pairs (Dense, σ or None), or ValueError naming the first layer that does not fit."""
    layers = _flatten(net)
    units: list[tuple[Dense, Activation | None]] = []
    for i, layer in enumerate(layers):
        if isinstance(layer, Dense):
            units.append((layer, None))
        elif isinstance(layer, Step):
            raise ValueError(
                f"explain: layer {i} is Step, which has no gradient to backpropagate; "
                "use Sigmoid, or the perceptron rule"
            )
        elif isinstance(layer, Activation):
            if not units:
                raise ValueError(f"explain: layer {i} ({layer!r}) comes before any Dense layer")
            if units[-1][1] is not None:
                raise ValueError(
                    f"explain: layer {i} ({layer!r}) is a second activation after one Dense layer; "
                    "explain supports Dense layers each followed by at most one activation"
                )
            units[-1] = (units[-1][0], layer)
        else:
            raise ValueError(
                f"explain: layer {i} is {layer!r}; explain supports networks of Dense layers each "
                "followed by at most one activation (BatchNorm, LayerNorm, Residual and Dropout "
                "are not plain δ-recursion steps)"
            )
    if not units:
        raise ValueError("explain: the network has no Dense layer")
    return units


def _derivative_formula(act: Activation) -> str:
    if isinstance(act, Sigmoid):
        return "σ'(z) = σ(z)(1 − σ(z))"
    if isinstance(act, Tanh):
        return "σ'(z) = 1 − tanh²(z)"
    if isinstance(act, ReLU):
        return "σ'(z) = 1 if z > 0 else 0"
    if isinstance(act, LeakyReLU):
        return f"σ'(z) = 1 if z > 0 else {act.negative_slope:g}"
    if isinstance(act, ELU):
        return f"σ'(z) = 1 if z > 0 else {act.alpha:g}·e^z"
    if isinstance(act, GELU):
        if act.approximate == "tanh":
            return "σ'(z) = d/dz ½z(1 + tanh(√(2/π)(z + 0.044715z³)))"
        return "σ'(z) = Φ(z) + z·φ(z)"
    if isinstance(act, Identity):
        return "σ'(z) = 1"
    return f"σ'(z) of {act!r}"


def _activation_name(act: Activation) -> str:
    return act.name if act.name != "activation" else type(act).__name__


# ------------------------------------------------------------------ inputs


def _as_example(x, n_in: int, dtype: np.dtype) -> np.ndarray:
    """x : (n_in,) or (1, n_in) -> (n_in,) in the network's dtype (lists are converted;
    an ndarray of another dtype raises, as the network's own forward does)."""
    if isinstance(x, np.ndarray):
        if x.dtype not in _FLOATS:
            raise ValueError(f"explain: x must be float32 or float64, got {x.dtype.name}")
        if x.dtype != dtype:
            raise ValueError(
                f"explain: x is {x.dtype.name} but the network is {dtype.name} (convert with x.astype(np.{dtype.name}))"
            )
    else:
        try:
            x = np.asarray(x, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"explain: x must be numbers of shape ({n_in},), got {x!r}") from exc
    if x.ndim == 2 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 1:
        raise ValueError(f"explain: x must be one example of shape ({n_in},) or (1, {n_in}), got shape {x.shape}")
    if x.shape[0] != n_in:
        raise ValueError(f"explain: x has {x.shape[0]} features but the network expects {n_in}")
    if not np.isfinite(x).all():
        raise ValueError("explain: x contains NaN or Inf")
    return x.copy()  # the record must not change if the caller's array does


def _as_target(y, loss, k: int, dtype: np.dtype) -> tuple[np.ndarray, str]:
    """y -> (target row (k,), its equation). An int label becomes a one-hot row for
    SoftmaxCrossEntropy; a scalar is a one-element row for the other losses."""
    is_label = isinstance(y, (int, np.integer)) and not isinstance(y, (bool, np.bool_))
    if isinstance(loss, SoftmaxCrossEntropy):
        if is_label:
            if not 0 <= y < k:
                raise ValueError(f"explain: label {y} out of range [0, {k})")
            row = np.zeros(k, dtype=dtype)
            row[int(y)] = 1.0
            return row, f"y = one-hot({int(y)})"
        row = np.asarray(y)
        if row.ndim == 0:
            raise ValueError(f"explain: a class label must be an integer, got {y!r}")
        if row.dtype.kind not in "fiu":
            raise ValueError(f"explain: target must be numeric, got dtype {row.dtype}")
        row = row.astype(dtype).reshape(-1) if row.ndim == 2 and row.shape[0] == 1 else row.astype(dtype)
        if row.shape != (k,):
            raise ValueError(f"explain: target row must have shape ({k},), got {np.shape(y)}")
        if (row < 0).any() or not np.isfinite(row).all():
            raise ValueError("explain: target probabilities must be finite and non-negative")
        return row, "y (target distribution)"
    row = np.asarray(y)
    if row.dtype.kind not in "fiu" and row.dtype.kind != "b":
        raise ValueError(f"explain: target must be numeric, got {y!r}")
    row = row.astype(dtype)
    if row.ndim == 0:
        row = row.reshape(1)
    elif row.ndim == 2 and row.shape[0] == 1:
        row = row[0]
    if row.shape != (k,):
        raise ValueError(f"explain: target must have shape ({k},) for {k} outputs, got {np.shape(y)}")
    if not np.isfinite(row).all():
        raise ValueError("explain: target contains NaN or Inf")
    if isinstance(loss, BinaryCrossEntropy) and ((row < 0) | (row > 1)).any():
        raise ValueError("explain: BinaryCrossEntropy targets must lie in [0, 1]")
    return row, "y (target)"


# ------------------------------------------------------------------ the loss at the output


def _loss_head(loss, o: np.ndarray, y: np.ndarray, L: int, implied: bool):
    """The loss on the network's output o (z^(L) if ``implied``, else a^(L)), for one example.

    Returns (ŷ, ŷ's equation, L, L's equation, ∂L/∂o, its equation). k = n_L outputs.
    """
    k = o.shape[0]
    src = f"z^({L})" if implied else f"a^({L})"
    per_k = "" if k == 1 else f"/{k}"
    if isinstance(loss, SoftmaxCrossEntropy):
        logp = log_softmax(o[None])[0]
        y_hat = np.exp(logp)
        value = -(y * logp).sum()
        return (y_hat, f"ŷ = softmax({src})", value, "L = −Σ_k y_k · log(ŷ_k)", y_hat - y, "ŷ − y")
    if isinstance(loss, BinaryCrossEntropy):
        bce = f"L = −(1/{k}) Σ_j [y_j · log(ŷ_j) + (1 − y_j) · log(1 − ŷ_j)]" if k > 1 else \
            "L = −[y · log(ŷ) + (1 − y) · log(1 − ŷ)]"
        if loss.from_logits:
            y_hat = sigmoid(o)
            value = (np.maximum(o, 0.0) - o * y + np.log1p(np.exp(-np.abs(o)))).mean()
            return (y_hat, f"ŷ = σ({src})", value, bce, (y_hat - y) / k, "ŷ − y" if k == 1 else f"(ŷ − y)/{k}")
        if ((o < 0) | (o > 1)).any():
            raise ValueError("explain: BinaryCrossEntropy(from_logits=False) needs outputs in [0, 1]")
        with np.errstate(divide="ignore"):  # log(0) = −inf is clamped to −100, as the engine does
            log_p, log_q = np.log(o), np.log1p(-o)
        value = -(y * np.maximum(log_p, -100.0) + (1.0 - y) * np.maximum(log_q, -100.0)).mean()
        grad = (o - y) / np.maximum(o * (1.0 - o), float(np.float32(1e-12))) / k
        return (o.copy(), f"ŷ = {src}", value, bce, grad, f"(ŷ − y) / (ŷ ⊙ (1 − ŷ)){per_k}")
    if isinstance(loss, MeanSquaredError):
        r = o - y
        mse = f"L = (1/{k}) · Σ_i (y_i − ŷ_i)²" if k > 1 else "L = (y − ŷ)²"
        return (o.copy(), f"ŷ = {src}", (r * r).mean(), mse, r * (2.0 / k), f"2(ŷ − y){per_k}")
    raise ValueError(
        f"explain: unsupported loss {loss!r}; use SoftmaxCrossEntropy, BinaryCrossEntropy or MeanSquaredError"
    )


def _implied_sigma(loss, z: np.ndarray, y_hat: np.ndarray, L: int) -> tuple[str, dict, dict]:
    """For a last Dense layer without an activation: (name, a^(L) quantity, σ'(z^(L))
    quantity), σ being the output function the loss applies (for softmax, its Jacobian)."""
    a_symbol, d_symbol = f"a^({L})", f"σ'(z^({L}))"
    if isinstance(loss, SoftmaxCrossEntropy):
        jac = np.diag(y_hat) - np.outer(y_hat, y_hat)
        return ("softmax",
                _quantity(a_symbol, y_hat, f"a^({L}) = ŷ = softmax(z^({L}))", "output function of the loss"),
                _quantity(d_symbol, jac, f"∂ŷ/∂z^({L}) = diag(ŷ) − ŷ·ŷᵀ", "the softmax Jacobian"))
    if isinstance(loss, BinaryCrossEntropy) and loss.from_logits:
        return ("sigmoid",
                _quantity(a_symbol, y_hat, f"a^({L}) = ŷ = σ(z^({L}))", "σ = sigmoid, output function of the loss"),
                _quantity(d_symbol, y_hat * (1.0 - y_hat), f"σ'(z^({L})) = ŷ ⊙ (1 − ŷ)"))
    return ("identity",
            _quantity(a_symbol, y_hat, f"a^({L}) = ŷ = z^({L})", "identity output"),
            _quantity(d_symbol, np.ones_like(z), f"σ'(z^({L})) = 1"))


# ------------------------------------------------------------------ explain


def explain(net, loss, x, y, lr: float | None = None) -> Explanation:
    """One example's forward and backward pass as numbers with their equations.

    Parameters
    ----------
    net : a ``Sequential`` of Dense layers each followed by at most one activation (see the
        module docstring), or a single ``Dense``. Left unchanged.
    loss : ``SoftmaxCrossEntropy``, ``BinaryCrossEntropy`` or ``MeanSquaredError``. Left unchanged.
    x : (n_in,) or (1, n_in), the network's dtype (a list is converted to it).
    y : an int label in [0, C) for ``SoftmaxCrossEntropy`` (or a target row (C,)); for the
        other losses a target row (n_L,), or a number when n_L = 1.
    lr : optional learning rate η > 0; adds ``W^(l) ← W^(l) − η·∂L/∂W^(l)`` (and b) per layer.

    Returns
    -------
    ``Explanation`` whose numbers equal ``net.forward(x[None])`` and
    ``net.backward(loss.backward())`` for that one example (``p.grad`` of every W and b).
    """
    units = _unit_layers(net)
    W1 = units[0][0].W.value
    dtype = W1.dtype
    if lr is not None:
        is_number = isinstance(lr, (int, float, np.floating, np.integer)) and not isinstance(lr, bool)
        if not (is_number and math.isfinite(lr) and lr > 0):
            raise ValueError(f"explain: lr must be a positive finite number, got {lr!r}")
        lr = float(lr)
    a = _as_example(x, W1.shape[1], dtype)
    L = len(units)
    k = units[-1][0].W.value.shape[0]
    target, y_equation = _as_target(y, loss, k, dtype)

    steps: list[LayerStep] = []
    a_equation, a_note = "a^(0) = x", "the input"
    zs = []
    for l, (dense, act) in enumerate(units, start=1):
        W = dense.W.value
        if W.shape[1] != a.shape[0]:
            raise ValueError(f"explain: layer {l} ({dense!r}) expects {W.shape[1]} inputs, gets {a.shape[0]}")
        q = {"a_prev": _quantity(f"a^({l - 1})", a, a_equation, a_note),
             "W": _quantity(f"W^({l})", W.copy(), f"W^({l})")}
        z = W @ a
        z_equation = f"z^({l}) = W^({l})·a^({l - 1})"
        if dense.b is not None:
            q["b"] = _quantity(f"b^({l})", dense.b.value.copy(), f"b^({l})")
            z = z + dense.b.value
            z_equation += f" + b^({l})"
        q["z"] = _quantity(f"z^({l})", z, z_equation)
        zs.append(z)
        if l == L and act is None:
            # the loss supplies the output function; filled in below once ŷ is known
            name = None
        else:
            sigma = act if act is not None else Identity()
            name = _activation_name(sigma)
            a = sigma.f(z)
            a_equation = f"a^({l}) = σ(z^({l}))"
            a_note = "no activation: σ = identity" if act is None else f"σ = {name}"
            q["a"] = _quantity(f"a^({l})", a, a_equation, a_note)
            dsigma = sigma.derivative(z)
            q["dsigma"] = _quantity(f"σ'(z^({l}))", dsigma, f"σ'(z^({l}))", _derivative_formula(sigma))
        steps.append(LayerStep(l=l, activation=name or "", quantities=q))

    implied = units[-1][1] is None
    o = zs[-1] if implied else a
    y_hat, y_hat_eq, loss_value, loss_eq, dL_do, dL_do_eq = _loss_head(loss, o, target, L, implied)
    output = {
        "y": _quantity("y", target, y_equation),
        "y_hat": _quantity("ŷ", y_hat, y_hat_eq),
        "loss": _quantity("L", np.asarray(loss_value, dtype=dtype), loss_eq),
    }
    last = steps[-1]
    if implied:
        last.activation, last.quantities["a"], last.quantities["dsigma"] = _implied_sigma(loss, zs[-1], y_hat, L)
        # the output function is folded into the loss: δ^(L) = ∂L/∂z^(L) directly
        delta = dL_do
        delta_eq = f"δ^({L}) = {dL_do_eq}"
    else:
        output["dL_da"] = _quantity(f"∂L/∂a^({L})", dL_do, f"∂L/∂a^({L}) = {dL_do_eq}")
        delta = dL_do * last["dsigma"]["value"]
        delta_eq = f"δ^({L}) = ∂L/∂a^({L}) ⊙ σ'(z^({L}))"
    output["delta"] = _quantity(f"δ^({L})", delta, delta_eq)

    for l in range(L, 0, -1):
        step, (dense, _) = steps[l - 1], units[l - 1]
        if l < L:
            W_next = units[l][0].W.value
            delta = (W_next.T @ delta) * step["dsigma"]["value"]
            delta_eq = f"δ^({l}) = (W^({l + 1}))ᵀ·δ^({l + 1}) ⊙ σ'(z^({l}))"
        step.quantities["delta"] = _quantity(f"δ^({l})", delta, delta_eq)
        dW = np.outer(delta, step["a_prev"]["value"])
        step.quantities["dW"] = _quantity(f"∂L/∂W^({l})", dW, f"∂L/∂W^({l}) = δ^({l})·(a^({l - 1}))ᵀ")
        if dense.b is not None:
            step.quantities["db"] = _quantity(f"∂L/∂b^({l})", delta.copy(), f"∂L/∂b^({l}) = δ^({l})")
        if lr is not None:
            step.quantities["W_new"] = _quantity(
                f"W^({l})", dense.W.value - lr * dW, f"W^({l}) ← W^({l}) − η·∂L/∂W^({l})")
            if dense.b is not None:
                step.quantities["b_new"] = _quantity(
                    f"b^({l})", dense.b.value - lr * delta, f"b^({l}) ← b^({l}) − η·∂L/∂b^({l})")
    output["dL_dx"] = _quantity("∂L/∂a^(0)", units[0][0].W.value.T @ delta, "∂L/∂a^(0) = (W^(1))ᵀ·δ^(1)")

    return Explanation(layers=steps, output=output, loss_value=float(loss_value), loss=repr(loss),
                       network=repr(net), dtype=dtype.name, lr=lr)
