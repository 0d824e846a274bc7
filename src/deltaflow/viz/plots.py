"""A run's figures of numbers: loss and score per epoch, the 1-D fit, the confusion matrix.

Each function writes ``path`` (creating the parent folders) at a fixed pixel size
(``figsize × DPI``, see ``canvas``) and returns it as a ``pathlib.Path``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from deltaflow.viz.canvas import floats, labelled_sets, limits, new_figure, save, tidy

__all__ = ["HISTORY_SIZE", "REGRESSION_SIZE", "confusion_size", "plot_history", "plot_regression_1d",
           "plot_confusion"]

HISTORY_SIZE = (10.0, 4.0)  # inches; 1000 × 400 pixels at DPI
REGRESSION_SIZE = (7.0, 4.5)


def confusion_size(n_classes: int) -> tuple[float, float]:
    """Figure size in inches of ``plot_confusion`` for K classes: grows with K, capped."""
    side = min(max(4.0, 1.5 + 0.6 * n_classes), 12.0)
    return (side + 0.8, side)


# --- history ---------------------------------------------------------------------------


def _series(history: Mapping, key: str, n: int | None) -> np.ndarray:
    values = floats(history[key])
    if values.ndim != 1 or (n is not None and values.shape[0] != n):
        raise ValueError(f"plot_history: history[{key!r}] has shape {values.shape}, expected ({n},) like 'epoch'")
    return values


def plot_history(history: Mapping, path, title: str | None = None) -> Path:
    """Loss and score per epoch, train and test, side by side.

    history : dict of equal-length lists: "epoch", "train_loss", and either
        "train_accuracy" or "train_r2"; "test_loss" and "test_accuracy"/"test_r2" are drawn
        when present ("lr", "grad_norm" and other keys are ignored). ``None`` entries are
        gaps. The loss axis is logarithmic when every finite loss is positive.
    """
    if not isinstance(history, Mapping):
        raise ValueError(f"plot_history: history must be a dict of lists, got {type(history).__name__}")
    missing = [k for k in ("epoch", "train_loss") if k not in history]
    metric = "accuracy" if "train_accuracy" in history else "r2" if "train_r2" in history else None
    if missing or metric is None:
        need = missing + ([] if metric else ["train_accuracy or train_r2"])
        raise ValueError(f"plot_history: history lacks {', '.join(need)}; it has {sorted(history)}")
    epoch = _series(history, "epoch", None)
    if epoch.shape[0] == 0:
        raise ValueError("plot_history: history is empty (no epochs)")
    n = epoch.shape[0]
    style = {"marker": "o", "markersize": 3} if n < 30 else {}

    fig = new_figure(HISTORY_SIZE)
    ax_loss, ax_score = fig.subplots(1, 2)
    losses = []
    for split in ("train", "test"):
        if f"{split}_loss" in history:
            loss = _series(history, f"{split}_loss", n)
            losses.append(loss)
            ax_loss.plot(epoch, loss, label=split, **style)
    finite = np.concatenate(losses)
    finite = finite[np.isfinite(finite)]
    if finite.size and (finite > 0).all():
        ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")

    label = "accuracy" if metric == "accuracy" else "R²"
    for split in ("train", "test"):
        if f"{split}_{metric}" in history:
            ax_score.plot(epoch, _series(history, f"{split}_{metric}", n), label=split, **style)
    if metric == "accuracy":
        ax_score.set_ylim(-0.02, 1.02)
    else:
        ax_score.axhline(1.0, color="0.6", linestyle="--", linewidth=0.8)  # a perfect fit
    ax_score.set(xlabel="epoch", ylabel=label, title=label)
    tidy((ax_loss, ax_score), legend="medium")
    if title:
        fig.suptitle(title)
    return save(fig, path)


# --- 1-D regression --------------------------------------------------------------------


def _column(x, who: str, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"{who}: {what} must have shape (n,) or (n, 1) with n ≥ 1, got shape {np.shape(x)}")
    if x.dtype.kind not in "iuf" or not np.isfinite(x).all():
        raise ValueError(f"{who}: {what} must hold finite numbers")
    return x


def plot_regression_1d(predict: Callable, X, y, path, X_test=None, y_test=None, title: str | None = None) -> Path:
    """Data points and the fitted curve ŷ(x) over a dense grid of x.

    predict : (m, 1) → (m,) or (m, 1) predictions, in the coordinates of X.
    X : (n,) or (n, 1), y : (n,) or (n, 1); X_test, y_test likewise (drawn as triangles).
    The curve spans the data's range (train and test) with a 10 % margin, in X's dtype.
    """
    who = "plot_regression_1d"

    def pair(X, y, suffix):
        x, t = _column(X, who, "X" + suffix), _column(y, who, "y" + suffix)
        if x.shape != t.shape:
            raise ValueError(f"{who}: y{suffix} shape {np.shape(y)} does not match X{suffix} shape {np.shape(X)}")
        return x, t

    sets = labelled_sets(who, pair, X, y, X_test, y_test)
    x = sets[0][0]
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    grid = np.linspace(*limits(np.concatenate([s[0] for s in sets])), 400, dtype=dtype)[:, None]
    y_hat = np.asarray(predict(grid))
    if y_hat.shape not in ((400,), (400, 1)):
        raise ValueError(f"{who}: predict returned shape {y_hat.shape} for input (400, 1), expected (400,) or (400, 1)")

    fig = new_figure(REGRESSION_SIZE)
    ax = fig.subplots()
    for xs, ts, marker, label in sets:
        ax.scatter(xs, ts, marker=marker, s=18, alpha=0.7, label=label)
    ax.plot(grid[:, 0], y_hat.reshape(-1), color="k", linewidth=2, label="prediction")
    ax.set(xlabel="x", ylabel="y", title=title or "fit")
    tidy([ax], legend="medium")
    return save(fig, path)


# --- confusion matrix ------------------------------------------------------------------


def plot_confusion(cm, path, labels=None, title: str | None = None) -> Path:
    """The confusion matrix as an annotated heat map: rows true class, columns predicted.

    cm : (K, K) non-negative counts (or row-normalised fractions, shown to 2 decimals),
        e.g. from ``metrics.confusion_matrix``. labels : K class names, default 0 … K−1.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"plot_confusion: cm must be a square (K, K) array, got shape {cm.shape}")
    if cm.dtype.kind not in "iuf" or not np.isfinite(cm).all() or cm.min() < 0:
        raise ValueError("plot_confusion: cm must hold finite non-negative numbers")
    K = cm.shape[0]
    labels = [str(k) for k in range(K)] if labels is None else [str(s) for s in labels]
    if len(labels) != K:
        raise ValueError(f"plot_confusion: {len(labels)} labels given for a {cm.shape} matrix")

    fig = new_figure(confusion_size(K))
    ax = fig.subplots()
    image = ax.imshow(cm, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    if K <= 30:  # beyond that the numbers no longer fit their cells
        dark = cm.max() / 2
        for i, j in np.ndindex(K, K):
            text = f"{cm[i, j]:d}" if cm.dtype.kind in "iu" else f"{cm[i, j]:.2f}"
            colour = "white" if cm[i, j] > dark else "black"
            ax.text(j, i, text, ha="center", va="center", color=colour, fontsize="small")
    ax.set_xticks(range(K), labels, rotation=45 if max(map(len, labels)) > 3 else 0)
    ax.set_yticks(range(K), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    return save(fig, path)
