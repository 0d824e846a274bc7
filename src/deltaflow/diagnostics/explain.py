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

import copy
import math

import numpy as np

from deltaflow.diagnostics.explanation import Explanation, LayerStep, quantity
from deltaflow.nn.activations import Activation, Identity
from deltaflow.nn.layers import Dense, Layer
from deltaflow.nn.losses import BinaryCrossEntropy, Loss, MeanSquaredError, SoftmaxCrossEntropy
from deltaflow.nn.network import Sequential

__all__ = ["explain", "Explanation", "LayerStep"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ------------------------------------------------------------------ the network as unit layers


def _flatten(net) -> list[Layer]:
    if isinstance(net, Sequential):
        return [leaf for layer in net.layers for leaf in _flatten(layer)]
    return [net]


def _unit_layers(net) -> list[tuple[Dense, Activation | None]]:
    """Pairs (Dense, σ or None), or ValueError naming the first layer that does not fit."""
    units: list[tuple[Dense, Activation | None]] = []
    for i, layer in enumerate(_flatten(net)):
        if isinstance(layer, Dense):
            units.append((layer, None))
        elif isinstance(layer, Activation):
            _check_activation(i, layer, units)
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


def _check_activation(i: int, act: Activation, units: list) -> None:
    if act.name == "step":
        raise ValueError(
            f"explain: layer {i} is Step, which has no gradient to backpropagate; use Sigmoid, or the perceptron rule"
        )
    if not units:
        raise ValueError(f"explain: layer {i} ({act!r}) comes before any Dense layer")
    if units[-1][1] is not None:
        raise ValueError(
            f"explain: layer {i} ({act!r}) is a second activation after one Dense layer; "
            "explain supports Dense layers each followed by at most one activation"
        )


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
    if getattr(loss, "output_function", None) == "softmax":
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
    return row, "y (target)"


# ------------------------------------------------------------------ the loss at the output


def _bce_text(k: int, src: str, loss: BinaryCrossEntropy) -> tuple[str, str, str]:
    L = (f"L = −(1/{k}) Σ_j [y_j · log(ŷ_j) + (1 − y_j) · log(1 − ŷ_j)]" if k > 1
         else "L = −[y · log(ŷ) + (1 − y) · log(1 − ŷ)]")
    if loss.from_logits:
        return f"ŷ = σ({src})", L, "ŷ − y" if k == 1 else f"(ŷ − y)/{k}"
    return f"ŷ = {src}", L, "(ŷ − y) / (ŷ ⊙ (1 − ŷ))" + ("" if k == 1 else f"/{k}")


# (ŷ's equation, L's equation, ∂L/∂o's equation) for k outputs o, o named src
_EQUATIONS = {
    SoftmaxCrossEntropy: lambda k, src, loss: (f"ŷ = softmax({src})", "L = −Σ_k y_k · log(ŷ_k)", "ŷ − y"),
    BinaryCrossEntropy: _bce_text,
    MeanSquaredError: lambda k, src, loss: (
        f"ŷ = {src}", f"L = (1/{k}) · Σ_i (y_i − ŷ_i)²" if k > 1 else "L = (y − ŷ)²",
        "2(ŷ − y)" + ("" if k == 1 else f"/{k}")),
}


def _loss_head(loss: Loss, o: np.ndarray, y: np.ndarray, src: str) -> dict:
    """The loss on the network's output ``o : (k,)`` (z^(L) or a^(L), named ``src``) and the
    target ``y : (k,)``, as a batch of one through the loss's own forward and backward.

    Returns {"y_hat": ŷ, "L": L, "dL_do": ∂L/∂o, and "y_hat_eq", "L_eq", "dL_do_eq"}.
    """
    text = _EQUATIONS.get(type(loss))
    if text is None:
        raise ValueError(
            f"explain: unsupported loss {loss!r}; use SoftmaxCrossEntropy, BinaryCrossEntropy or MeanSquaredError"
        )
    probe = copy.copy(loss)  # the copy's forward caches its own numbers: the caller's loss is left as it was
    try:
        value = probe.forward(o[None], y[None])
    except ValueError as exc:
        raise ValueError(f"explain: {exc}") from None
    y_hat_eq, L_eq, dL_do_eq = text(o.shape[0], src, loss)
    return {"y_hat": probe.y_hat[0], "L": value, "dL_do": probe.backward()[0],
            "y_hat_eq": y_hat_eq, "L_eq": L_eq, "dL_do_eq": dL_do_eq}


def _implied_sigma(loss: Loss, z: np.ndarray, y_hat: np.ndarray, L: int) -> tuple[str, dict, dict]:
    """For a last Dense layer without an activation: (name, a^(L) quantity, σ'(z^(L))
    quantity), σ being the output function the loss applies (for softmax, its Jacobian)."""
    a_symbol, d_symbol = f"a^({L})", f"σ'(z^({L}))"
    name = loss.output_function
    if name == "softmax":
        jac = np.diag(y_hat) - np.outer(y_hat, y_hat)
        return (name,
                quantity(a_symbol, y_hat, f"a^({L}) = ŷ = softmax(z^({L}))", "output function of the loss"),
                quantity(d_symbol, jac, f"∂ŷ/∂z^({L}) = diag(ŷ) − ŷ·ŷᵀ", "the softmax Jacobian"))
    if name == "sigmoid":
        return (name,
                quantity(a_symbol, y_hat, f"a^({L}) = ŷ = σ(z^({L}))", "σ = sigmoid, output function of the loss"),
                quantity(d_symbol, y_hat * (1.0 - y_hat), f"σ'(z^({L})) = ŷ ⊙ (1 − ŷ)"))
    return (name,
            quantity(a_symbol, y_hat, f"a^({L}) = ŷ = z^({L})", "identity output"),
            quantity(d_symbol, np.ones_like(z), f"σ'(z^({L})) = 1"))


# ------------------------------------------------------------------ the passes


def _check_lr(lr) -> float | None:
    if lr is None:
        return None
    is_number = isinstance(lr, (int, float, np.floating, np.integer)) and not isinstance(lr, bool)
    if not (is_number and math.isfinite(lr) and lr > 0):
        raise ValueError(f"explain: lr must be a positive finite number, got {lr!r}")
    return float(lr)


def _forward_step(l: int, dense: Dense, act: Activation | None, a: np.ndarray, a_eq: tuple[str, str],
                  last: bool) -> tuple[LayerStep, np.ndarray]:
    """Unit layer l on a^(l−1): z^(l) = W^(l)·a^(l−1) + b^(l), and unless the loss supplies
    the last layer's output function, a^(l) = σ(z^(l)) and σ'(z^(l)). Returns (step, a^(l))."""
    W = dense.W.value
    if W.shape[1] != a.shape[0]:
        raise ValueError(f"explain: layer {l} ({dense!r}) expects {W.shape[1]} inputs, gets {a.shape[0]}")
    q = {"a_prev": quantity(f"a^({l - 1})", a, *a_eq), "W": quantity(f"W^({l})", W.copy(), f"W^({l})")}
    z, z_equation = W @ a, f"z^({l}) = W^({l})·a^({l - 1})"
    if dense.b is not None:
        q["b"] = quantity(f"b^({l})", dense.b.value.copy(), f"b^({l})")
        z, z_equation = z + dense.b.value, z_equation + f" + b^({l})"
    q["z"] = quantity(f"z^({l})", z, z_equation)
    if last and act is None:
        return LayerStep(l=l, activation="", quantities=q), z  # σ filled in once ŷ is known
    sigma = act if act is not None else Identity()
    a = sigma.f(z)
    q["a"] = quantity(f"a^({l})", a, f"a^({l}) = σ(z^({l}))",
                      "no activation: σ = identity" if act is None else f"σ = {sigma.name}")
    q["dsigma"] = quantity(f"σ'(z^({l}))", sigma.derivative(z), f"σ'(z^({l}))", sigma.derivative_text)
    return LayerStep(l=l, activation=sigma.name, quantities=q), a


def _output(loss: Loss, units, steps: list[LayerStep], o: np.ndarray, target: tuple) -> tuple[dict, np.ndarray, str]:
    """The loss record and δ^(L): (output quantities, δ^(L), its equation)."""
    L, dtype, (y, y_equation) = len(units), o.dtype, target
    implied = units[-1][1] is None
    head = _loss_head(loss, o, y, f"z^({L})" if implied else f"a^({L})")
    output = {
        "y": quantity("y", y, y_equation),
        "y_hat": quantity("ŷ", head["y_hat"], head["y_hat_eq"]),
        "loss": quantity("L", np.asarray(head["L"], dtype=dtype), head["L_eq"]),
    }
    last = steps[-1]
    if implied:
        last.activation, last.quantities["a"], last.quantities["dsigma"] = _implied_sigma(loss, o, head["y_hat"], L)
        # the output function is folded into the loss: δ^(L) = ∂L/∂z^(L) directly
        return output, head["dL_do"], f"δ^({L}) = {head['dL_do_eq']}"
    output["dL_da"] = quantity(f"∂L/∂a^({L})", head["dL_do"], f"∂L/∂a^({L}) = {head['dL_do_eq']}")
    return output, head["dL_do"] * last["dsigma"]["value"], f"δ^({L}) = ∂L/∂a^({L}) ⊙ σ'(z^({L}))"


def _backward_step(step: LayerStep, dense: Dense, delta: np.ndarray, delta_eq: str, lr: float | None) -> None:
    """δ^(l) and the gradients of unit layer l (and the update with ``lr``) into ``step``."""
    l, q = step.l, step.quantities
    q["delta"] = quantity(f"δ^({l})", delta, delta_eq)
    dW = np.outer(delta, step["a_prev"]["value"])
    q["dW"] = quantity(f"∂L/∂W^({l})", dW, f"∂L/∂W^({l}) = δ^({l})·(a^({l - 1}))ᵀ")
    if dense.b is not None:
        q["db"] = quantity(f"∂L/∂b^({l})", delta.copy(), f"∂L/∂b^({l}) = δ^({l})")
    if lr is not None:
        q["W_new"] = quantity(f"W^({l})", dense.W.value - lr * dW, f"W^({l}) ← W^({l}) − η·∂L/∂W^({l})")
        if dense.b is not None:
            q["b_new"] = quantity(f"b^({l})", dense.b.value - lr * delta, f"b^({l}) ← b^({l}) − η·∂L/∂b^({l})")


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
    lr = _check_lr(lr)
    a = _as_example(x, W1.shape[1], W1.dtype)
    target = _as_target(y, loss, units[-1][0].W.value.shape[0], W1.dtype)
    steps, a_eq = [], ("a^(0) = x", "the input")
    for l, (dense, act) in enumerate(units, start=1):
        step, a = _forward_step(l, dense, act, a, a_eq, last=l == len(units))
        steps.append(step)
        a_eq = (f"a^({l}) = σ(z^({l}))", step["a"]["note"] if "a" in step else "")
    output, delta, delta_eq = _output(loss, units, steps, a, target)
    output["delta"] = quantity(f"δ^({len(units)})", delta, delta_eq)
    for l in range(len(units), 0, -1):
        if l < len(units):
            delta = (units[l][0].W.value.T @ delta) * steps[l - 1]["dsigma"]["value"]
            delta_eq = f"δ^({l}) = (W^({l + 1}))ᵀ·δ^({l + 1}) ⊙ σ'(z^({l}))"
        _backward_step(steps[l - 1], units[l - 1][0], delta, delta_eq, lr)
    output["dL_dx"] = quantity("∂L/∂a^(0)", W1.T @ delta, "∂L/∂a^(0) = (W^(1))ᵀ·δ^(1)")
    return Explanation(layers=steps, output=output, loss_value=float(output["loss"]["value"]),
                       loss=repr(loss), network=repr(net), dtype=W1.dtype.name, lr=lr)
