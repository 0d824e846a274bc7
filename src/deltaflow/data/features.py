"""Input features computed from a 2-D point, as in TensorFlow Playground's feature column.

``make_features(X, ["x1", "x2", "x1x2"])`` turns ``X : (n, 2)`` into ``(n, 3)``; a
network fed x1², x2² can draw a circle with a single layer, one fed x1·x2 the XOR.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")

_FORMULAS = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}


def check_feature_names(names: Sequence[str]) -> list[str]:
    """Return ``names`` as a list if it is a non-empty list of distinct names from ``FEATURES``."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"features must be a list of names from {', '.join(FEATURES)}; got {names!r}")
    names = list(names)
    if not names:
        raise ValueError(f"features is empty; choose at least one of {', '.join(FEATURES)}")
    unknown = [n for n in names if n not in _FORMULAS]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0]!r}; valid features: {', '.join(FEATURES)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"feature {repeated[0]!r} is listed more than once")
    return names


def make_features(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The columns ``names`` (from ``FEATURES``) computed from 2-D points, in the order given.

    x1 = X[:, 0], x2 = X[:, 1]; the features are x1, x2, x1², x2², x1·x2, sin(x1), sin(x2).

    X : (n, 2) float array. Returns ``(n, len(names))`` in X's dtype.
    Raises ``ValueError`` for an empty list, an unknown or repeated name, or X not (n, 2).
    """
    names = check_feature_names(names)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"make_features needs 2-D points, X of shape (n, 2); got shape {X.shape}")
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([_FORMULAS[name](x1, x2) for name in names]).astype(X.dtype, copy=False)
