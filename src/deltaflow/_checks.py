"""Input checks shared by the engine: every message names the culprit and what was expected.

Nothing is silently broadcast or cast: a wrong width, rank or dtype raises ``ValueError``.
"""

from __future__ import annotations

import math

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_dtype(dtype) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is float32 or float64, else raise ``ValueError``.

    None means the default, float32 (``np.dtype(None)`` alone would give float64).
    """
    if dtype is None:
        return np.dtype(np.float32)
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {dt.name}")
    return dt


def integer(value, what: str, low: int = 1, high: int | None = None) -> int:
    """``value`` as a Python int if it is an integer (not a bool) in [low, high], else
    ``ValueError`` naming ``what``, the range and the value."""
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if ok and value >= low and (high is None or value <= high):
        return int(value)
    if low == 1 and high is None:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    if high is None:
        raise ValueError(f"{what} must be an integer ≥ {low}, got {value!r}")
    raise ValueError(f"{what} must be an integer in [{low}, {high}], got {value!r}")


def positive_int(value, what: str) -> int:
    """``integer(value, what, low=1)``: a positive Python int, else ``ValueError``."""
    return integer(value, what)


def real(value, what: str, low=0.0, high=math.inf, low_open=False, high_open=False) -> float:
    """``value`` as a Python float (never an ``np.float64``, which would promote float32 arrays)
    if it is finite and within the bounds, else ``ValueError`` naming it."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    x = float(value) if ok else math.nan
    if not (math.isfinite(x) and (low < x if low_open else low <= x) and (x < high if high_open else x <= high)):
        hi = f"{high}{')' if high_open else ']'}" if math.isfinite(high) else "∞)"
        shown = value if ok else repr(value)  # so the string '0.1' does not read as the number 0.1
        raise ValueError(f"Invalid {what}: {shown} (must be a finite number in {'(' if low_open else '['}{low}, {hi})")
    return x


def flag(value, what: str) -> bool:
    """``value`` as a bool if it is one (NumPy's included), else ``ValueError``: 0 and 1 are not flags."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid {what}: {value!r} (must be True or False)")
    return bool(value)


def check_input(x, who, n_in: int | None, dtype: np.dtype | None, what: str = "") -> np.ndarray:
    """Check that ``x`` is an ndarray of shape (batch, n_in) and the expected dtype.

    ``who`` names the layer in the message: a string, or the layer itself, whose repr is
    only formatted when a check fails (this runs on every forward). ``what`` is appended
    (e.g. "backward"). ``n_in=None`` skips the width check; ``dtype=None`` accepts either
    float dtype (but no integers or float16).
    """
    # the common case first, before anything is formatted: this runs on every forward
    if (
        type(x) is np.ndarray
        and x.ndim == 2
        and (n_in is None or x.shape[1] == n_in)
        and (x.dtype == dtype if dtype is not None else x.dtype in FLOAT_DTYPES)
    ):
        return x

    def name() -> str:
        base = who if isinstance(who, str) else repr(who)
        return f"{base} {what}" if what else base

    if not isinstance(x, np.ndarray):
        raise ValueError(f"{name()}: expected a numpy array of shape (batch, {n_in or 'n'}), got {type(x).__name__}")
    if x.ndim != 2 or (n_in is not None and x.shape[1] != n_in):
        raise ValueError(f"{name()}: expected input of shape (batch, {n_in or 'n'}), got shape {x.shape}")
    if dtype is None and x.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name()}: expected float32 or float64 input, got {x.dtype.name}")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(
            f"{name()}: expected {dtype.name} input, got {x.dtype.name} (convert with x.astype(np.{dtype.name}))"
        )
    return x


def check_finite(x: np.ndarray, who: str) -> None:
    """Raise ``ValueError`` if ``x`` holds a NaN or an infinity, naming the first bad row."""
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{who}: input contains NaN or Inf (first at row {bad[0]}, column {bad[1]})")


def make_rng(rng) -> np.random.Generator:
    """A ``np.random.Generator`` from a Generator, an int seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
