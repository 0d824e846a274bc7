"""Rosenblatt's perceptron (1958): a step unit and its error-correcting learning rule.

Prediction: ``ŷ = 1 if w·x + b > 0 else 0``. Learning, one example at a time::

    w ← w + η (y − ŷ) x,    b ← b + η (y − ŷ)

so weights move toward misclassified positives and away from misclassified negatives.
The perceptron convergence theorem: on linearly separable data this reaches zero mistakes
in finitely many updates; on XOR (not separable) it never does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deltaflow._checks import as_dtype, check_finite, check_input, integer, make_rng


@dataclass
class PerceptronResult:
    """``mistakes[e]``: misclassified examples during epoch e; ``converged``: an epoch had none."""

    mistakes: list[int]
    converged: bool


class Perceptron:
    """A single threshold unit. w : (n,) of ``dtype``, b : float; X : (N, n), y : (N,) in {0, 1}."""

    def __init__(self, n_in: int, lr: float = 1.0, dtype=np.float64):
        self.n_in = integer(n_in, "Perceptron n_in")
        if not lr > 0:
            raise ValueError(f"Perceptron lr must be positive, got {lr!r}")
        self.lr = float(lr)
        self.w = np.zeros(self.n_in, dtype=as_dtype(dtype))
        self.b = 0.0

    def _check(self, X):
        check_input(X, "Perceptron", self.n_in, self.w.dtype)
        check_finite(X, "Perceptron")

    def predict(self, X: np.ndarray) -> np.ndarray:
        """ŷ = step(X·w + b) ∈ {0, 1}, shape (N,)."""
        self._check(X)
        return (X @ self.w + self.b > 0).astype(np.int64)

    def fit(self, X: np.ndarray, y, epochs: int = 100, shuffle: bool = False, rng=None) -> PerceptronResult:
        """Apply the rule example by example; stop after the first epoch with no mistake."""
        self._check(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],) or not np.isin(y, (0, 1)).all():
            raise ValueError(f"Perceptron targets must be 0 or 1 with shape ({X.shape[0]},), got {y.shape}")
        epochs = integer(epochs, "epochs")
        gen = make_rng(rng)
        mistakes: list[int] = []
        for _ in range(epochs):
            order = gen.permutation(len(y)) if shuffle else range(len(y))
            count = 0
            for i in order:
                y_hat = 1 if X[i] @ self.w + self.b > 0 else 0
                err = int(y[i]) - y_hat
                if err:
                    self.w += (self.lr * err) * X[i]
                    self.b += self.lr * err
                    count += 1
            mistakes.append(count)
            if count == 0:
                return PerceptronResult(mistakes, True)
        return PerceptronResult(mistakes, False)
