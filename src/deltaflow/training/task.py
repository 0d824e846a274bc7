"""What the network's raw output means: the loss it trains with, its targets, its predictions.

A task is classification (K classes, integer labels 0 … K−1) or regression (real values).
The loss name picks the output layer and the meaning of its output z::

    cross_entropy   n_L = K   p = softmax(z)                 target: the labels
    bce             n_L = 1   p(class 1) = σ(z)              target: labels as (n, 1) floats
    mse             n_L = K   p = z (trained on one-hot)     target: one-hot rows (n, K)
    mse (regression) n_L = y's width, ŷ = z                  target: the values

Without a loss name the task picks its default: cross-entropy for classification, the
mean squared error for regression. The metric is accuracy, or R² for regression.
"""

from __future__ import annotations

import numpy as np

from deltaflow import metrics
from deltaflow.nn.losses import LOSSES, log_softmax, sigmoid

__all__ = ["Task", "DEFAULT_LOSS", "ALLOWED_LOSSES"]

DEFAULT_LOSS = {"classification": "cross_entropy", "regression": "mse"}
ALLOWED_LOSSES = {"classification": tuple(LOSSES), "regression": ("mse",)}


class Task:
    """The meaning of a network's output for one kind of task and one loss.

    kind : "classification" or "regression".
    loss_name : a key of ``nn.losses.LOSSES``, or None for the kind's default.
    n_classes : K for classification (0 for regression).
    n_targets : the width of y for regression (ignored for classification).
    dtype : the network's dtype; float targets are made in it.
    data_name : names the data in error messages.
    """

    def __init__(self, kind: str, loss_name: str | None = None, *, n_classes: int = 0, n_targets: int = 1,
                 dtype="float32", data_name: str = "the data"):
        if kind not in DEFAULT_LOSS:
            raise ValueError(f"task must be one of {', '.join(DEFAULT_LOSS)}, got {kind!r}")
        name = loss_name or DEFAULT_LOSS[kind]
        if name not in LOSSES:
            raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
        if kind == "regression" and name not in ALLOWED_LOSSES[kind]:
            raise ValueError(f"loss {name!r} needs class labels; {data_name} is a regression task (use mse)")
        if name == "bce" and n_classes != 2:
            raise ValueError(f"loss 'bce' needs 2 classes, {data_name} has {n_classes} (use cross_entropy)")
        self.kind, self.loss_name, self.n_classes = kind, name, n_classes
        self.dtype = np.dtype(dtype)
        self.loss = LOSSES[name]()
        if kind == "regression":
            self.n_out = n_targets
        else:
            self.n_out = 1 if name == "bce" else n_classes

    @classmethod
    def for_dataset(cls, dataset, loss_name: str | None = None) -> Task:
        """The task of a ``Dataset`` trained with ``loss_name`` (None: the default)."""
        return cls(dataset.task, loss_name, n_classes=dataset.n_classes, n_targets=dataset.y_train.shape[-1]
                   if dataset.task == "regression" else 1, dtype=dataset.X_train.dtype, data_name=dataset.name)

    @property
    def metric_name(self) -> str:
        """The history's metric: ``accuracy`` or ``r2``."""
        return "accuracy" if self.kind == "classification" else "r2"

    def targets(self, y: np.ndarray) -> np.ndarray:
        """The loss's target for labels or values y: labels, (n,1) floats for BCE, one-hot for MSE."""
        if self.kind == "regression" or self.loss_name == "cross_entropy":
            return y
        if self.loss_name == "bce":
            return y.astype(self.dtype).reshape(-1, 1)
        return np.eye(self.n_classes, dtype=self.dtype)[y]

    def proba(self, out: np.ndarray) -> np.ndarray:
        """Class probabilities (n, K) from the raw output ``out : (n, n_L)``: the loss's output
        function ŷ (softmax(z), σ(z), or z itself for MSE on one-hot), as [1 − ŷ, ŷ] for BCE."""
        p = self.loss.output(out)
        return np.hstack([1.0 - p, p]) if self.loss_name == "bce" else p

    def proba_of_class_1(self, out: np.ndarray) -> np.ndarray:
        """p(class 1) : (n, 1) of a two-class task. For cross-entropy, softmax's p(class 1) of
        two logits is σ(z₁ − z₀): elementwise, where softmax reduces over rows of two (the
        simulator draws it over a whole grid for every frame)."""
        if self.n_classes != 2:
            raise ValueError(f"p(class 1) needs 2 classes, this task has {self.n_classes}")
        if self.loss_name == "cross_entropy":
            return sigmoid(out[:, 1:2] - out[:, 0:1])
        return self.proba(out)[:, 1:2]

    def log_proba(self, out: np.ndarray) -> np.ndarray:
        """log p (n, K) computed stably from the logits: log softmax(z), or for BCE
        [log σ(−z), log σ(z)] with log σ(z) = −log(1 + e^(−z))."""
        if self.loss_name == "bce":
            return -np.logaddexp(0, np.hstack([out, -out]))
        if self.loss_name == "cross_entropy":
            return log_softmax(out)
        raise ValueError(f"log probabilities need logits; loss {self.loss_name!r} outputs probabilities")

    def predict(self, out: np.ndarray) -> np.ndarray:
        """Class indices (n,) for classification; for regression the output itself."""
        return out if self.kind == "regression" else self.proba(out).argmax(axis=1)

    def metric(self, out: np.ndarray, y: np.ndarray) -> float:
        """Accuracy for classification (y: labels), R² for regression (y: values)."""
        if self.kind == "regression":
            return metrics.r2_score(y, out)
        return metrics.accuracy(y, self.predict(out))
