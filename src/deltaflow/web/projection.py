"""The plane a data set with more than two inputs is drawn on: a 2-D PCA projection.

A decision map over d > 2 inputs cannot be drawn, so the simulator draws it over the plane
through the mean of the network's (standardised) training inputs spanned by their first two
principal components. With X : (n, d) those inputs (float64), μ = mean(X) : (d,) and the
singular value decomposition X − μ = U·S·Vᵀ, V₂ : (d, 2) holds the first two right-singular
vectors (columns), and

    p = (x − μ)·V₂        an input x : (d,) → its plane coordinates p : (2,)
    x = μ + p·V₂ᵀ         a plane point p → the input drawn there (on the plane)

so plane → input → plane is the identity (V₂ᵀV₂ = I), and input → plane → input is the
orthogonal projection of x onto the plane. Each component's sign is fixed so that its entry of
largest magnitude is positive (the first such entry on a tie): the same data give the same
picture whatever the LAPACK build. ``explained[k]`` = S_k² / Σ S², the share of the inputs'
variance along component k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """μ : (d,), V₂ : (d, 2) and the variance ratios explained : (2,), all float64."""

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Projection:
        """The first two principal components of ``X : (n, d)``, d ≥ 2, n ≥ 2 (see the module)."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < 2 or X.shape[0] < 2:
            raise ValueError(f"a PCA plane needs at least 2 rows and 2 columns, got shape {X.shape}")
        mean = X.mean(axis=0)
        _, S, Vt = np.linalg.svd(X - mean, full_matrices=False)
        V2 = Vt[:2].T.copy()
        biggest = np.argmax(np.abs(V2), axis=0)
        V2 *= np.sign(V2[biggest, [0, 1]])  # the largest entry of each component positive
        total = float(np.sum(S**2))
        explained = S[:2] ** 2 / total if total > 0 else np.zeros(2)
        return cls(mean, V2, explained)

    def to_plane(self, X: np.ndarray) -> np.ndarray:
        """Inputs ``X : (n, d)`` → plane coordinates ``(n, 2)`` float64: p = (x − μ)·V₂."""
        return (np.asarray(X, dtype=np.float64) - self.mean) @ self.components

    def to_input(self, P: np.ndarray) -> np.ndarray:
        """Plane points ``P : (n, 2)`` → the inputs ``(n, d)`` float64 drawn there: x = μ + p·V₂ᵀ."""
        return self.mean + np.asarray(P, dtype=np.float64) @ self.components.T

    def axes(self) -> list[str]:
        """The axes' names with the share of variance each explains: ["PC1 (43%)", "PC2 (21%)"]."""
        return [f"PC{k + 1} ({100 * r:.0f}%)" for k, r in enumerate(self.explained)]

    def describe(self) -> dict:
        """``state.data.projection``: {"kind": "pca", "explained": [r1, r2], "axes": [...], "plane": ...}."""
        return {"kind": "pca", "explained": [float(r) for r in self.explained], "axes": self.axes(),
                "plane": "the plane through the mean spanned by the first two principal components"}


def projection_for(dataset) -> Projection | None:
    """The PCA plane of a set with more than two network inputs (fitted on its training
    inputs, as the network sees them), else None: 1-D and 2-D sets are drawn as they are."""
    if dataset.X_train_raw is None or dataset.X_train_raw.shape[1] <= 2:
        return None
    return Projection.fit(dataset.X_train)
