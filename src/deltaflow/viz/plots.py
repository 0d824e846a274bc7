"""Matplotlib figures of a run, written as PNG files: history, decision boundary, 1-D fit, confusion.

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas, never through
``pyplot``: no display is needed, the global backend is left alone, and nothing keeps a
figure alive once its file is written. Each function writes ``path`` (creating the
parent folders) at a fixed pixel size (``figsize × DPI``, no tight cropping) and
returns it as a ``pathlib.Path``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from deltaflow.metrics import _labels

__all__ = ["floats", "positive", "plot_history", "decision_grid", "plot_decision_boundary", "plot_regression_1d", "plot_confusion"]

DPI = 100
HISTORY_SIZE = (10.0, 4.0)  # inches; 1000 × 400 pixels at DPI
BOUNDARY_SIZE = (6.0, 5.5)
REGRESSION_SIZE = (7.0, 4.5)
MARGIN = 0.1  # fraction of the data's range added on each side of a plot's limits
TWO_CLASS_CMAP = "RdBu_r"  # p(class 1): blue at 0, white at 0.5, red at 1


def floats(values) -> np.ndarray:
    """1-D numbers as float64; None (how strict JSON carries NaN and ±inf) becomes NaN, a gap."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def positive(values) -> np.ndarray:
    """``floats(values)`` for a log axis: non-finite and non-positive entries become NaN (gaps)."""
    v = floats(values)
    v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


def confusion_size(n_classes: int) -> tuple[float, float]:
    """Figure size in inches of ``plot_confusion`` for K classes: grows with K, capped."""
    side = min(max(4.0, 1.5 + 0.6 * n_classes), 12.0)
    return (side + 0.8, side)


def _save(fig: Figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def _class_colours(K: int) -> list[tuple[float, float, float]]:
    """One RGB colour per class; the two-class colours are the ends of the diverging map."""
    import matplotlib  # noqa: PLC0415 - colormap registry only, not pyplot

    if K == 2:
        cmap = matplotlib.colormaps[TWO_CLASS_CMAP]
        return [to_rgb(cmap(0.05)), to_rgb(cmap(0.95))]
    name = "tab10" if K <= 10 else "tab20"
    cmap = matplotlib.colormaps[name] if K <= 20 else matplotlib.colormaps["hsv"].resampled(K + 1)
    return [to_rgb(cmap(k)) for k in range(K)]


# --- history ---------------------------------------------------------------------------


def _series(history: Mapping, key: str, n: int | None) -> np.ndarray:
    values = np.asarray([np.nan if v is None else v for v in history[key]], dtype=np.float64)
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

    fig = Figure(figsize=HISTORY_SIZE, layout="constrained")
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
    for ax in (ax_loss, ax_score):
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


# --- decision boundary -----------------------------------------------------------------


def _points_2d(X, who: str, what: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(f"{who}: {what} must have shape (n, 2) with n ≥ 1, got shape {X.shape}")
    if X.dtype.kind not in "iuf" or not np.isfinite(X).all():
        raise ValueError(f"{who}: {what} must hold finite numbers")
    return X if X.dtype.kind == "f" else X.astype(np.float64)


def _limits(x: np.ndarray) -> tuple[float, float]:
    lo, hi = float(x.min()), float(x.max())
    pad = MARGIN * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def _as_proba(p, m: int, who: str) -> np.ndarray:
    """Predictions as (m, K) probabilities; a single column is p(class 1) of two classes."""
    p = np.asarray(p)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        p = p.reshape(-1, 1)
        p = np.concatenate([1 - p, p], axis=1)
    if p.ndim != 2 or p.shape[0] != m:
        raise ValueError(f"{who}: predict_proba returned shape {p.shape}, expected ({m}, K)")
    if p.dtype.kind != "f" or not np.isfinite(p).all() or p.min() < 0 or p.max() > 1:
        raise ValueError(f"{who}: predict_proba must return probabilities in [0, 1] (logits? apply softmax)")
    if np.abs(p.sum(axis=1) - 1).max() > 1e-3:
        raise ValueError(f"{who}: predict_proba rows must sum to 1 (logits? apply softmax)")
    return p


def decision_grid(predict_proba: Callable, X, grid: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class probabilities on a grid × grid lattice covering X with a margin.

    X : (n, 2) points that set the limits: each axis spans [min − 10 %, max + 10 %] of
        the data's range. The lattice has X's dtype (float64 for integer X), so a
        float32 model gets float32 input.
    predict_proba : (m, 2) → (m, K) class probabilities (or (m,) / (m, 1): p(class 1)).
    Returns xx, yy : (grid, grid), with xx[i, j] = j-th x₁ and yy[i, j] = i-th x₂
    (``np.meshgrid`` order, rows going up in x₂), and proba : (grid, grid, K).
    """
    X = _points_2d(X, "decision_grid", "X")
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or grid < 2:
        raise ValueError(f"decision_grid: grid must be an integer ≥ 2, got {grid!r}")
    xs = np.linspace(*_limits(X[:, 0]), grid, dtype=X.dtype)
    ys = np.linspace(*_limits(X[:, 1]), grid, dtype=X.dtype)
    xx, yy = np.meshgrid(xs, ys)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    proba = _as_proba(predict_proba(points), points.shape[0], "decision_grid")
    return xx, yy, proba.reshape(grid, grid, -1)


def _shaded_classes(proba: np.ndarray, colours) -> np.ndarray:
    """RGB image: the predicted class's colour, faded towards white where the model is unsure.

    confidence = (p_max − 1/K) / (1 − 1/K) is 0 at a uniform guess and 1 when certain.
    Even a certain region stays paler than the class colour, so its points stand out.
    """
    K = proba.shape[-1]
    confidence = (proba.max(axis=-1) - 1 / K) / (1 - 1 / K)
    base = np.asarray(colours)[proba.argmax(axis=-1)]
    s = (0.1 + 0.5 * confidence)[..., None]
    return s * base + (1 - s) * 1.0


def plot_decision_boundary(
    predict_proba: Callable,
    X,
    y,
    path,
    X_test=None,
    y_test=None,
    grid: int = 200,
    title: str | None = None,
) -> Path:
    """The plane coloured by the classifier, with the data on top.

    predict_proba : (m, 2) → (m, K) class probabilities, in the coordinates of X (the
        caller wraps any standardisation or feature map inside it).
    X : (n, 2), y : (n,) labels 0 … K−1; X_test, y_test likewise (drawn as triangles).
    Two classes: a diverging colour map of p(class 1) and the p = 0.5 contour. More
    classes: the colour of argmax_k p_k, faded towards white as the model is less sure.
    """
    who = "plot_decision_boundary"
    X = _points_2d(X, who, "X")
    y = _labels(y, who, "y")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{who}: y shape {y.shape} does not match X shape {X.shape}")
    sets = [(X, y, "o", "train")]
    if (X_test is None) != (y_test is None):
        raise ValueError(f"{who}: pass both X_test and y_test, or neither")
    if X_test is not None:
        X_test = _points_2d(X_test, who, "X_test").astype(X.dtype)
        y_test = _labels(y_test, who, "y_test")
        if y_test.shape[0] != X_test.shape[0]:
            raise ValueError(f"{who}: y_test shape {y_test.shape} does not match X_test shape {X_test.shape}")
        sets.append((X_test, y_test, "^", "test"))
    xx, yy, proba = decision_grid(predict_proba, np.vstack([s[0] for s in sets]), grid)
    K = proba.shape[-1]
    top = max(int(s[1].max()) for s in sets)
    if top >= K:
        raise ValueError(f"{who}: label {top} is out of range for predict_proba with {K} classes")
    colours = _class_colours(K)

    fig = Figure(figsize=BOUNDARY_SIZE, layout="constrained")
    ax = fig.subplots()
    extent = (xx[0, 0], xx[0, -1], yy[0, 0], yy[-1, 0])
    if K == 2:
        p1 = proba[..., 1]
        # p in [0, 1] spans the pale middle half of the map; the points take its dark ends.
        ax.imshow(p1, origin="lower", extent=extent, aspect="auto", cmap=TWO_CLASS_CMAP, vmin=-0.5, vmax=1.5)
        if p1.min() < 0.5 < p1.max():
            ax.contour(xx, yy, p1, levels=[0.5], colors="k", linewidths=1.5)
    else:
        ax.imshow(_shaded_classes(proba, colours), origin="lower", extent=extent, aspect="auto")
    for pts, labels, marker, _ in sets:
        face = np.asarray(colours)[labels]
        ax.scatter(pts[:, 0], pts[:, 1], c=face, marker=marker, s=22, edgecolors="k", linewidths=0.6)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    key = {"linestyle": "", "markeredgecolor": "k"}
    handles = [Line2D([], [], marker="o", color=c, label=f"class {k}", **key) for k, c in enumerate(colours)]
    if X_test is not None:
        handles.append(Line2D([], [], marker="^", color="0.7", label="test", **key))
    ax.legend(handles=handles, loc="upper right", framealpha=0.8, fontsize="small")
    ax.set(xlabel="x₁", ylabel="x₂", title=title or "decision boundary")
    return _save(fig, path)


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
    x, t = _column(X, who, "X"), _column(y, who, "y")
    if x.shape != t.shape:
        raise ValueError(f"{who}: y shape {np.shape(y)} does not match X shape {np.shape(X)}")
    sets = [(x, t, "o", "train")]
    if (X_test is None) != (y_test is None):
        raise ValueError(f"{who}: pass both X_test and y_test, or neither")
    if X_test is not None:
        xt, tt = _column(X_test, who, "X_test"), _column(y_test, who, "y_test")
        if xt.shape != tt.shape:
            raise ValueError(f"{who}: y_test shape {np.shape(y_test)} does not match X_test shape {np.shape(X_test)}")
        sets.append((xt, tt, "^", "test"))
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    grid = np.linspace(*_limits(np.concatenate([s[0] for s in sets])), 400, dtype=dtype)[:, None]
    y_hat = np.asarray(predict(grid))
    if y_hat.shape not in ((400,), (400, 1)):
        raise ValueError(f"{who}: predict returned shape {y_hat.shape} for input (400, 1), expected (400,) or (400, 1)")

    fig = Figure(figsize=REGRESSION_SIZE, layout="constrained")
    ax = fig.subplots()
    for xs, ts, marker, label in sets:
        ax.scatter(xs, ts, marker=marker, s=18, alpha=0.7, label=label)
    ax.plot(grid[:, 0], y_hat.reshape(-1), color="k", linewidth=2, label="prediction")
    ax.set(xlabel="x", ylabel="y", title=title or "fit")
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, path)


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

    fig = Figure(figsize=confusion_size(K), layout="constrained")
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
    return _save(fig, path)
