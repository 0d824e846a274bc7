"""Losses as means over the batch, and the stable softmax family.

Each loss: ``forward(pred, target) -> float`` and ``backward() -> dL/dpred`` for that mean.

- ``SoftmaxCrossEntropy``: L = −(1/B) Σ_i Σ_k y_ik · log softmax(z_i)_k, gradient (softmax(z)·Σ_k y_k − y)/B, (p − y)/B for rows that sum to 1.
- ``BinaryCrossEntropy``: L = −mean[y·log ŷ + (1 − y)·log(1 − ŷ)], ŷ = σ(z) from logits.
- ``MeanSquaredError``:   L = mean[(ŷ − y)²], gradient 2(ŷ − y)/n.

"mean" is over every element, as PyTorch's ``reduction="mean"``; for one output per
example that is the batch mean.
"""

from __future__ import annotations

import numpy as np

from deltaflow._checks import FLOAT_DTYPES, check_finite
from deltaflow.nn.activations import sigmoid

__all__ = ["softmax", "log_softmax", "sigmoid", "SoftmaxCrossEntropy", "BinaryCrossEntropy", "MeanSquaredError"]


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z)_k = z_k − m − log Σ_j e^(z_j − m), m = max_j z_j (row-wise, never overflows).

    z : (batch, C) -> (batch, C)
    """
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    """softmax(z)_k = e^(z_k − m) / Σ_j e^(z_j − m): positive, rows sum to 1.

    z : (batch, C) -> (batch, C)
    """
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _check_pred(pred, who: str) -> np.ndarray:
    if not isinstance(pred, np.ndarray) or pred.ndim != 2:
        shape = getattr(pred, "shape", type(pred).__name__)
        raise ValueError(f"{who}: predictions must have shape (batch, outputs), got {shape}")
    if pred.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{who}: predictions must be float32 or float64, got {pred.dtype}")
    return pred


def _check_same(pred: np.ndarray, target, who: str) -> np.ndarray:
    """A float target of exactly pred's shape and dtype (no broadcasting, no casting)."""
    target = np.asarray(target)
    if target.shape != pred.shape:
        raise ValueError(f"{who}: target shape {target.shape} does not match prediction shape {pred.shape}")
    if target.dtype != pred.dtype:
        raise ValueError(
            f"{who}: target dtype {target.dtype} does not match prediction dtype {pred.dtype} "
            f"(convert with y.astype(np.{pred.dtype.name}))"
        )
    check_finite(target, f"{who} target")
    return target


class Loss:
    """Base: ``forward`` caches what ``backward`` needs.

    ``output_function`` names the function ŷ = f(pred) the loss applies to its prediction
    before comparing it with the target ("softmax", "sigmoid" or "identity"), and
    ``output(pred)`` computes it: pred (B, k) -> ŷ (B, k).
    """

    output_function = "identity"

    def output(self, pred: np.ndarray) -> np.ndarray:
        return pred

    @property
    def y_hat(self) -> np.ndarray:
        """ŷ of the last ``forward`` (B, k): the output function applied to its prediction."""
        self._need_cache(self._pred)
        return self.output(self._pred)

    def __repr__(self) -> str:
        return type(self).__name__ + "()"

    def __call__(self, pred, target) -> float:
        return self.forward(pred, target)

    def _need_cache(self, cached) -> None:
        if cached is None:
            raise ValueError(f"{self!r}: backward() called before forward()")


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by cross-entropy, fused: L = −(1/B) Σ_i Σ_k y_ik (z_ik − logsumexp(z_i)).

    pred : (B, C) logits z.
    target : (B,) integer class labels in [0, C), or (B, C) one-hot or probability rows
        of pred's dtype.
    backward() -> (B, C): (softmax(z)·Σ_k y_k − y) / B, where y is the one-hot or probability
        target: ∂L/∂z_ik = (1/B)(p_ik Σ_k y_ik − y_ik). A one-hot or normalised row has
        Σ_k y_k = 1 and the familiar (p − y)/B; a row that sums to s weights the softmax by s.
    """

    output_function = "softmax"

    def __init__(self):
        self._p = None

    def output(self, pred: np.ndarray) -> np.ndarray:
        return softmax(pred)

    @property
    def y_hat(self) -> np.ndarray:
        self._need_cache(self._p)
        return self._p  # exp(log softmax(z)), the very ŷ that backward's ŷ − y uses

    def forward(self, pred, target) -> float:
        z = _check_pred(pred, "SoftmaxCrossEntropy")
        B, C = z.shape
        target = np.asarray(target)
        logp = log_softmax(z)
        if target.ndim == 1 and target.dtype.kind in "iu":
            if target.shape[0] != B:
                raise ValueError(f"SoftmaxCrossEntropy: {target.shape[0]} labels for a batch of {B}")
            if B and (target.min() < 0 or target.max() >= C):
                bad = target[(target < 0) | (target >= C)][0]
                raise ValueError(f"SoftmaxCrossEntropy: label {bad} out of range [0, {C})")
            self._labels, self._y = target, None
            loss = -logp[np.arange(B), target].sum() / B
        elif target.ndim == 1:
            raise ValueError(f"SoftmaxCrossEntropy: class labels must be integers, got dtype {target.dtype}")
        else:
            y = _check_same(z, target, "SoftmaxCrossEntropy")
            if (y < 0).any():
                raise ValueError("SoftmaxCrossEntropy: target probabilities must be non-negative")
            self._labels, self._y = None, y
            loss = -(y * logp).sum() / B
        self._p = np.exp(logp)
        return float(loss)

    def backward(self) -> np.ndarray:
        self._need_cache(self._p)
        g = self._p.copy()
        B = g.shape[0]
        if self._labels is not None:
            g[np.arange(B), self._labels] -= 1.0
        else:
            # Σ_k y_k = 1 for a one-hot row, and then p·1 is p exactly
            g *= self._y.sum(axis=1, keepdims=True)
            g -= self._y
        g /= B
        return g


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy, L = −mean[y·log ŷ + (1 − y)·log(1 − ŷ)].

    ``from_logits=True`` (default): pred is z and ŷ = σ(z); the loss is computed as
    max(z, 0) − z·y + log(1 + e^(−|z|)), finite for any z, and its gradient is (σ(z) − y)/n.
    ``from_logits=False``: pred is ŷ ∈ [0, 1]; logs are clamped at −100 as PyTorch's BCELoss.

    pred, target : (B, k), same shape and dtype; targets in [0, 1]. n = B·k.
    """

    def __init__(self, from_logits: bool = True):
        self.from_logits = bool(from_logits)
        self._pred = None

    def __repr__(self) -> str:
        return f"BinaryCrossEntropy(from_logits={self.from_logits})"

    @property
    def output_function(self) -> str:
        return "sigmoid" if self.from_logits else "identity"

    def output(self, pred: np.ndarray) -> np.ndarray:
        return sigmoid(pred) if self.from_logits else pred

    def forward(self, pred, target) -> float:
        pred = _check_pred(pred, "BinaryCrossEntropy")
        y = _check_same(pred, target, "BinaryCrossEntropy")
        if ((y < 0) | (y > 1)).any():
            raise ValueError("BinaryCrossEntropy: targets must lie in [0, 1]")
        self._pred, self._y = pred, y
        if self.from_logits:
            z = pred
            terms = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
        else:
            if ((pred < 0) | (pred > 1)).any():
                raise ValueError("BinaryCrossEntropy(from_logits=False): predictions must lie in [0, 1]")
            with np.errstate(divide="ignore"):  # log(0) = −inf is clamped to −100 on the next line
                log_p, log_q = np.log(pred), np.log1p(-pred)
            terms = -(y * np.maximum(log_p, -100.0) + (1.0 - y) * np.maximum(log_q, -100.0))
        return float(terms.mean())

    def backward(self) -> np.ndarray:
        self._need_cache(self._pred)
        p, y, n = self._pred, self._y, self._pred.size
        if self.from_logits:
            return (sigmoid(p) - y) / n
        # PyTorch's BCELoss gradient: (ŷ − y) / max(ŷ(1 − ŷ), 1e-12), its 1e-12 being a
        # float32 constant even for float64 tensors
        return (p - y) / np.maximum(p * (1.0 - p), float(np.float32(1e-12))) / n


class MeanSquaredError(Loss):
    """L = (1/n) Σ (ŷ − y)² over all n = B·k elements; gradient 2(ŷ − y)/n.

    pred, target : (B, k), same shape and dtype.
    """

    def __init__(self):
        self._pred = self._r = None

    def forward(self, pred, target) -> float:
        pred = _check_pred(pred, "MeanSquaredError")
        y = _check_same(pred, target, "MeanSquaredError")
        self._pred, self._r = pred, pred - y
        return float(np.mean(self._r * self._r))

    def backward(self) -> np.ndarray:
        self._need_cache(self._r)
        return self._r * (2.0 / self._r.size)


LOSSES = {
    "cross_entropy": SoftmaxCrossEntropy,
    "bce": BinaryCrossEntropy,
    "mse": MeanSquaredError,
}


def get_loss(name) -> Loss:
    """A new loss from its name: ``cross_entropy``, ``bce`` or ``mse``."""
    if isinstance(name, Loss):
        return name
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return LOSSES[name]()
