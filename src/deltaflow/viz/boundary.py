"""Decision boundaries: a classifier's probabilities over the plane, with the data on top.

``probability_map`` draws p(class 1) on a lattice (the run figure and the xor and
collapse experiments use it); ``plot_decision_boundary`` writes a run's figure.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D

from deltaflow.metrics import check_labels
from deltaflow.viz.canvas import TWO_CLASS_CMAP, labelled_sets, limits, new_figure, save

__all__ = ["BOUNDARY_SIZE", "decision_grid", "class_colours", "probability_map", "plot_decision_boundary"]

BOUNDARY_SIZE = (6.0, 5.5)  # inches


def _points_2d(X, who: str, what: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
        raise ValueError(f"{who}: {what} must have shape (n, 2) with n ≥ 1, got shape {X.shape}")
    if X.dtype.kind not in "iuf" or not np.isfinite(X).all():
        raise ValueError(f"{who}: {what} must hold finite numbers")
    return X if X.dtype.kind == "f" else X.astype(np.float64)


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
    xs = np.linspace(*limits(X[:, 0]), grid, dtype=X.dtype)
    ys = np.linspace(*limits(X[:, 1]), grid, dtype=X.dtype)
    xx, yy = np.meshgrid(xs, ys)
    points = np.column_stack([xx.ravel(), yy.ravel()])
    proba = _as_proba(predict_proba(points), points.shape[0], "decision_grid")
    return xx, yy, proba.reshape(grid, grid, -1)


def class_colours(K: int) -> list[tuple[float, float, float]]:
    """One RGB colour per class; the two-class colours are the ends of the diverging map."""
    import matplotlib  # noqa: PLC0415 - colormap registry only, not pyplot

    if K == 2:
        cmap = matplotlib.colormaps[TWO_CLASS_CMAP]
        return [to_rgb(cmap(0.05)), to_rgb(cmap(0.95))]
    name = "tab10" if K <= 10 else "tab20"
    cmap = matplotlib.colormaps[name] if K <= 20 else matplotlib.colormaps["hsv"].resampled(K + 1)
    return [to_rgb(cmap(k)) for k in range(K)]


def probability_map(ax, xs: np.ndarray, ys: np.ndarray, p: np.ndarray, aspect: str = "auto") -> None:
    """p(class 1) : (len(ys), len(xs)) on the diverging map, with its p = 0.5 contour.

    p in [0, 1] spans the pale middle half of the map, so points drawn on top in its
    dark ends stand out. NaN cells (a gap in JSON) are left blank.
    """
    ax.imshow(p, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), aspect=aspect,
              cmap=TWO_CLASS_CMAP, vmin=-0.5, vmax=1.5)
    if np.nanmin(p) < 0.5 < np.nanmax(p):
        ax.contour(xs, ys, p, levels=[0.5], colors="k", linewidths=1.5)


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


def _classified_sets(who: str, X, y, X_test, y_test) -> list[tuple]:
    """The train (and test) points and labels, checked; the test points in the train dtype."""

    def pair(X, y, suffix):
        X, y = _points_2d(X, who, "X" + suffix), check_labels(y, who, "y" + suffix)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{who}: y{suffix} shape {y.shape} does not match X{suffix} shape {X.shape}")
        return X, y

    sets = labelled_sets(who, pair, X, y, X_test, y_test)
    dtype = sets[0][0].dtype
    return [(pts.astype(dtype), labels, marker, name) for pts, labels, marker, name in sets]


def _draw_points(ax, sets: list[tuple], colours) -> None:
    """Each set's points in its class colours and marker, and a legend of classes and sets."""
    for pts, labels, marker, _ in sets:
        face = np.asarray(colours)[labels]
        ax.scatter(pts[:, 0], pts[:, 1], c=face, marker=marker, s=22, edgecolors="k", linewidths=0.6)
    key = {"linestyle": "", "markeredgecolor": "k"}
    handles = [Line2D([], [], marker="o", color=c, label=f"class {k}", **key) for k, c in enumerate(colours)]
    if len(sets) > 1:
        handles.append(Line2D([], [], marker="^", color="0.7", label="test", **key))
    ax.legend(handles=handles, loc="upper right", framealpha=0.8, fontsize="small")


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
    sets = _classified_sets(who, X, y, X_test, y_test)
    xx, yy, proba = decision_grid(predict_proba, np.vstack([s[0] for s in sets]), grid)
    K = proba.shape[-1]
    top = max(int(s[1].max()) for s in sets)
    if top >= K:
        raise ValueError(f"{who}: label {top} is out of range for predict_proba with {K} classes")
    colours = class_colours(K)

    fig = new_figure(BOUNDARY_SIZE)
    ax = fig.subplots()
    xs, ys = xx[0], yy[:, 0]
    if K == 2:
        probability_map(ax, xs, ys, proba[..., 1])
    else:
        ax.imshow(_shaded_classes(proba, colours), origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]),
                  aspect="auto")
    _draw_points(ax, sets, colours)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set(xlabel="x₁", ylabel="x₂", title=title or "decision boundary")
    return save(fig, path)
