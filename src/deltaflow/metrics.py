"""Scores for a trained network: accuracy, confusion matrix, R², RMSE and log loss.

Each function agrees with ``sklearn.metrics`` to rounding error (the tests check it) and
raises ``ValueError`` naming the shapes when the inputs are empty or do not match.
Class labels are integers 0 … K−1, one per example, shape (n,).
"""

from __future__ import annotations

import numpy as np

__all__ = ["accuracy", "confusion_matrix", "r2_score", "rmse", "log_loss"]


def check_labels(y, who: str, what: str) -> np.ndarray:
    """``y`` as an int64 array of shape (n,), n ≥ 1, of non-negative whole numbers."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] == 0:
        raise ValueError(f"{who}: {what} must be a non-empty array of class labels of shape (n,), got shape {y.shape}")
    if y.dtype.kind == "f":
        if not (np.isfinite(y).all() and (y == np.round(y)).all()):
            raise ValueError(f"{who}: {what} must hold whole-number class labels, got non-integer values")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"{who}: {what} must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"{who}: {what} must hold labels 0 … K−1, got {y.min()}")
    return y


def _label_pair(y_true, y_pred, who: str) -> tuple[np.ndarray, np.ndarray]:
    y_true = check_labels(y_true, who, "y_true")
    y_pred = check_labels(y_pred, who, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{who}: y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}")
    return y_true, y_pred


def _targets(y_true, y_pred, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Real-valued targets of equal shape (n,) or (n, k), n ≥ 1, as 2-D (n, k) arrays."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{who}: y_true shape {y_true.shape} does not match y_pred shape {y_pred.shape}")
    if y_true.ndim not in (1, 2) or y_true.size == 0:
        raise ValueError(f"{who}: expected non-empty arrays of shape (n,) or (n, k), got shape {y_true.shape}")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.dtype.kind not in "iuf":
            raise ValueError(f"{who}: {name} must be numeric, got dtype {y.dtype}")
    if y_true.ndim == 1:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    return y_true, y_pred


def accuracy(y_true, y_pred) -> float:
    """Fraction of correct predictions: acc = (1/n) Σ_i [ŷ_i = y_i].

    y_true, y_pred : (n,) integer class labels.
    """
    y_true, y_pred = _label_pair(y_true, y_pred, "accuracy")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """C_jk = #{i : y_i = j and ŷ_i = k}: rows are the true class, columns the predicted one.

    y_true, y_pred : (n,) integer class labels in 0 … K−1.
    n_classes : K; by default one more than the largest label seen in either array.
    Returns a (K, K) int64 array whose entries sum to n and whose trace counts the hits.
    """
    y_true, y_pred = _label_pair(y_true, y_pred, "confusion_matrix")
    seen = int(max(y_true.max(), y_pred.max())) + 1
    if n_classes is None:
        n_classes = seen
    elif isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes <= 0:
        raise ValueError(f"confusion_matrix: n_classes must be a positive integer, got {n_classes!r}")
    elif seen > n_classes:
        raise ValueError(f"confusion_matrix: label {seen - 1} is out of range for n_classes={n_classes}")
    K = int(n_classes)
    # Each pair (j, k) gets its own bin j·K + k, so one bincount fills the matrix.
    return np.bincount(y_true * K + y_pred, minlength=K * K).reshape(K, K).astype(np.int64)


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination R² = 1 − SS_res / SS_tot, per output, then averaged.

    SS_res = Σ_i (y_i − ŷ_i)²,  SS_tot = Σ_i (y_i − ȳ)²,  for each output column.

    y_true, y_pred : (n,) or (n, k). With k outputs the score is the plain mean of the k
    column scores (scikit-learn's ``multioutput="uniform_average"``). A constant column
    (SS_tot = 0) scores 1.0 if it is predicted exactly and 0.0 otherwise, as scikit-learn
    does with ``force_finite=True``. With fewer than two examples R² is undefined and the
    result is NaN, again as in scikit-learn. R² can be any value ≤ 1; 0 is the score of
    always predicting the mean.
    """
    y_true, y_pred = _targets(y_true, y_pred, "r2_score")
    if y_true.shape[0] < 2:
        return float("nan")
    y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
    ss_res = ((y_true - y_pred) ** 2).sum(axis=0)
    ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    constant = ss_tot == 0
    safe_tot = np.where(constant, 1.0, ss_tot)
    r2 = np.where(constant, np.where(ss_res == 0, 1.0, 0.0), 1.0 - ss_res / safe_tot)
    return float(r2.mean())


def rmse(y_true, y_pred) -> float:
    """Root mean squared error, per output, then averaged: RMSE = √((1/n) Σ_i (y_i − ŷ_i)²).

    y_true, y_pred : (n,) or (n, k). With k outputs it is the mean of the k column RMSEs
    (scikit-learn's ``root_mean_squared_error``); for one output it is √MSE exactly.
    """
    y_true, y_pred = _targets(y_true, y_pred, "rmse")
    y_true, y_pred = y_true.astype(np.float64), y_pred.astype(np.float64)
    return float(np.sqrt(((y_true - y_pred) ** 2).mean(axis=0)).mean())


def log_loss(y_true, proba) -> float:
    """Mean cross-entropy of the true class: L = −(1/n) Σ_i log p_i,y_i.

    y_true : (n,) integer class labels in 0 … K−1.
    proba : (n, K) class probabilities, rows summing to 1 (e.g. ``softmax(net.forward(x))``);
        or (n,) / (n, 1) probabilities of class 1 for a binary problem (a sigmoid output),
        read as rows (1 − p, p).
    Probabilities are clipped to [ε, 1 − ε], ε = ``np.finfo(proba.dtype).eps``, so a
    confident mistake costs −log ε rather than infinity (scikit-learn does the same).
    """
    y = check_labels(y_true, "log_loss", "y_true")
    p = np.asarray(proba)
    if p.dtype.kind != "f":
        raise ValueError(f"log_loss: proba must be a float array, got dtype {p.dtype}")
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        p = p.reshape(-1, 1)
        p = np.concatenate([1 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError(f"log_loss: proba shape {np.shape(proba)} does not match y_true shape {y.shape}")
    K = p.shape[1]
    if y.max() >= K:
        raise ValueError(f"log_loss: label {y.max()} is out of range for proba with {K} columns, shape {p.shape}")
    finfo = np.finfo(p.dtype)
    if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise ValueError("log_loss: proba must hold probabilities in [0, 1] (did you pass logits?)")
    worst = np.abs(p.sum(axis=1) - 1).max()
    if worst > max(1e-6, 1000 * finfo.eps):
        raise ValueError(f"log_loss: rows of proba must sum to 1, one is off by {worst:.3g} (did you pass logits?)")
    eps = finfo.eps
    p_true = np.clip(p[np.arange(y.shape[0]), y], eps, 1 - eps)
    return float(-np.mean(np.log(p_true)))
