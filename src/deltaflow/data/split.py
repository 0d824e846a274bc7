"""Splitting, standardising and batching: what happens to a data set between loading and training."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from deltaflow._checks import make_rng, positive_int


def _check_fraction(test_fraction) -> float:
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.integer, np.floating)):
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    return float(test_fraction)


def _stratified_test_counts(counts: np.ndarray, f: float) -> np.ndarray:
    """Test rows per class: ``round(n·f)`` in all, shared by largest remainder, then nudged so
    that every class with at least 2 rows has at least one in each part."""
    n_test = min(max(round(counts.sum() * f), 1), counts.sum() - 1)
    exact = counts * f
    take = np.floor(exact).astype(np.int64)
    short = n_test - take.sum()
    if short > 0:
        # Stable sort: ties go to the class listed first, so the split is deterministic.
        take[np.argsort(-(exact - take), kind="stable")[:short]] += 1
    take = np.where(counts >= 2, np.clip(take, 1, counts - 1), 0)
    return take


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float, rng, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows into a training and a test part, ``test_fraction`` of them for testing.

    X : (n, d), y : (n,) or (n, k). With ``stratify`` and integer labels ``y : (n,)``, each
    class is split on its own: class c with n_c rows gives about ``n_c·test_fraction`` to the
    test part (totals rounded by largest remainder), and every class with ≥ 2 rows appears in
    both parts (a class with 1 row stays in training). Float ``y`` (regression) is split
    without strata. Rows within each part come in a random order from ``rng``.

    Returns ``X_train, X_test, y_train, y_test`` (copies).
    Raises ``ValueError`` if test_fraction is not in (0, 1), the lengths differ, or a part
    would be empty.
    """
    f = _check_fraction(test_fraction)
    rng = make_rng(rng)
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}")
    if n < 2:
        raise ValueError(f"need at least 2 rows to split into training and test parts, got {n}")
    if stratify and y.ndim == 1 and y.dtype.kind in "iub":
        classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        take = _stratified_test_counts(counts, f)
        test_parts, train_parts = [], []
        for c in range(len(classes)):
            rows = rng.permutation(np.flatnonzero(inverse == c))
            test_parts.append(rows[: take[c]])
            train_parts.append(rows[take[c] :])
        test_idx = rng.permutation(np.concatenate(test_parts))
        train_idx = rng.permutation(np.concatenate(train_parts))
    else:
        n_test = min(max(round(n * f), 1), n - 1)
        order = rng.permutation(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    if len(test_idx) == 0 or len(train_idx) == 0:
        raise ValueError(f"{n} rows are too few to split with test_fraction={f}: every class has a single row")
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


class Standardizer:
    """Per-column standardisation ``x̂ = (x − μ) / s``, with μ and s from the training rows only.

    ``fit(X)`` sets ``mean = μ`` and ``scale = s`` (the population std, ddof = 0), both
    ``(d,)`` in X's dtype; a constant column gets s = 1 so nothing divides by zero.
    ``transform`` and ``inverse_transform`` return arrays in their input's dtype.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Standardizer:
        """Compute μ and s of ``X : (n, d)`` column by column (in float64, stored in X's dtype)."""
        X = self._as_2d(X, "fit")
        if len(X) == 0:
            raise ValueError("Standardizer.fit: X has no rows")
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
        X64 = X.astype(np.float64)
        mu = X64.mean(axis=0)
        s = X64.std(axis=0)
        # A constant column's std is 0 up to rounding (e.g. 1e-17 for a column of 0.1s).
        tiny = 64 * np.finfo(np.float64).eps * np.maximum(np.abs(mu), 1.0)
        s = np.where(s > tiny, s, 1.0)
        self.mean, self.scale = mu.astype(dtype), s.astype(dtype)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``(X − mean) / scale`` for ``X : (n, d)``; a new array in X's (float) dtype."""
        X = self._fitted(X, "transform")
        return (X - self.mean.astype(X.dtype)) / self.scale.astype(X.dtype)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """``Z · scale + mean`` for ``Z : (n, d)``, undoing ``transform``."""
        Z = self._fitted(Z, "inverse_transform")
        return Z * self.scale.astype(Z.dtype) + self.mean.astype(Z.dtype)

    def _as_2d(self, X, who: str) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"Standardizer.{who}: expected X of shape (n, d), got shape {X.shape}")
        return X

    def _fitted(self, X, who: str) -> np.ndarray:
        if self.mean is None:
            raise ValueError(f"Standardizer.{who} called before fit")
        X = self._as_2d(X, who)
        if X.shape[1] != len(self.mean):
            raise ValueError(f"Standardizer.{who}: fitted on {len(self.mean)} columns, got shape {X.shape}")
        return X if X.dtype.kind == "f" else X.astype(np.float64)

    def __repr__(self) -> str:
        state = "unfitted" if self.mean is None else f"{len(self.mean)} columns, {self.mean.dtype}"
        return f"Standardizer({state})"


def iterate_minibatches(
    X: np.ndarray, y: np.ndarray, batch_size: int, rng=None, shuffle: bool = True, min_batch: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One epoch of mini-batches ``(X_b, y_b)`` that together hold every row exactly once.

    Batches have ``batch_size`` rows except perhaps the last, which holds the remainder;
    a remainder of fewer than ``min_batch`` rows is skipped (BatchNorm needs 2 rows for its
    batch statistics; with shuffling a different row sits out each epoch).
    With ``shuffle`` the order is ``rng.permutation(n)`` and batches are copies; without it
    the rows stay in order and batches are views. ``rng`` is a Generator (or int seed) and
    is required when shuffling.
    """
    # Checked here, not inside the generator, so a bad argument fails at the call.
    batch_size = positive_int(batch_size, "batch_size")
    min_batch = positive_int(min_batch, "min_batch")
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    if not shuffle:
        return _batches(X, y, batch_size, None, min_batch)
    if rng is None:
        raise ValueError("iterate_minibatches: shuffle=True needs rng, a numpy Generator")
    return _batches(X, y, batch_size, make_rng(rng).permutation(len(X)), min_batch)


def _batches(X, y, batch_size: int, order, min_batch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(X), batch_size):
        if len(X) - start < min_batch:
            return
        if order is None:
            yield X[start : start + batch_size], y[start : start + batch_size]
        else:
            rows = order[start : start + batch_size]
            yield X[rows], y[rows]
