"""What every figure shares: the pixel density, the colour maps, JSON numbers as arrays,
a new figure, its finishing touches and writing it as a PNG.

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas, never through
``pyplot``: no display is needed, the global backend is left alone, and nothing keeps a
figure alive once its file is written. ``save`` writes at a fixed pixel size
(``figsize × DPI``, no tight cropping), atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from deltaflow.training.io import atomic_file

__all__ = ["DPI", "MARGIN", "TWO_CLASS_CMAP", "floats", "positive", "limits", "labelled_sets",
           "new_figure", "tidy", "save"]

DPI = 100
MARGIN = 0.1  # fraction of the data's range added on each side of a plot's limits
TWO_CLASS_CMAP = "RdBu_r"  # p(class 1): blue at 0, white at 0.5, red at 1


def floats(values) -> np.ndarray:
    """Numbers (a list, nested lists or any iterable) as float64; None (how strict JSON
    carries NaN and ±inf) becomes NaN, a gap."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        values = list(values)
    return np.array(values, dtype=np.float64)


def positive(values) -> np.ndarray:
    """``floats(values)`` for a log axis: non-finite and non-positive entries become NaN (gaps)."""
    v = floats(values)
    v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


def limits(x: np.ndarray) -> tuple[float, float]:
    """[min − MARGIN·range, max + MARGIN·range] of ``x``; ±1 around a single value."""
    lo, hi = float(x.min()), float(x.max())
    pad = MARGIN * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def labelled_sets(who: str, pair: Callable, X, y, X_test=None, y_test=None) -> list[tuple]:
    """The points a figure draws: [(X, y, "o", "train")], plus (X_test, y_test, "^", "test").

    ``pair(X, y, suffix)`` checks one set and returns it as arrays; ``suffix`` is "" or
    "_test", for its messages.
    """
    sets = [(*pair(X, y, ""), "o", "train")]
    if (X_test is None) != (y_test is None):
        raise ValueError(f"{who}: pass both X_test and y_test, or neither")
    if X_test is not None:
        sets.append((*pair(X_test, y_test, "_test"), "^", "test"))
    return sets


def new_figure(size: tuple[float, float]) -> Figure:
    """A figure of ``size`` inches (``size × DPI`` pixels) with constrained layout."""
    return Figure(figsize=size, dpi=DPI, layout="constrained")


def tidy(axes: Iterable, legend: float | str | None = None) -> None:
    """A light grid on each axes, and its legend at font size ``legend`` when one is given."""
    for ax in axes:
        ax.grid(alpha=0.3)
        if legend is not None:
            ax.legend(fontsize=legend)


def save(fig: Figure, path) -> Path:
    """Write ``fig`` as a PNG at ``DPI`` to ``path`` (creating the parent folders); returns the path.

    Written like every other file (``training.io.atomic_file``): to a temporary file
    beside ``path``, then renamed over it, so a reader or a crash never meets half a PNG.
    """
    path = Path(path)
    FigureCanvasAgg(fig)
    with atomic_file(path, "wb") as f:
        fig.savefig(f, dpi=DPI, format="png")
    return path
