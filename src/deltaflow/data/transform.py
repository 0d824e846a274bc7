"""Raw input rows → network input, in one object: derived features, the dtype, standardisation.

    x  ↦  φ(x)            derived features of a 2-D point (``make_features``), in float64
       ↦  cast to dtype   float32 or float64, the network's
       ↦  (φ − μ) / s     with μ and s of the training rows (``Standardizer``), in that dtype

``load_dataset`` fits one on the training part and applies it to both parts; a saved model
stores it (``to_meta``) and ``Predictor`` rebuilds it (``from_meta``), so raw rows give the
very array the network was trained and evaluated on.
"""

from __future__ import annotations

import numpy as np

from deltaflow._checks import as_dtype
from deltaflow.data.features import check_feature_names, make_features
from deltaflow.data.split import Standardizer

__all__ = ["InputTransform"]


class InputTransform:
    """x (n, d_raw) -> network input (n, d).

    features : names from ``FEATURES`` computed from 2-D points (raw rows (n, 2)), or None
        to take the raw columns as they are.
    dtype : the network's dtype. standardize : whether ``fit`` learns μ and s.
    """

    def __init__(self, features=None, dtype="float32", standardize: bool = True):
        self.features = None if features is None else check_feature_names(features)
        self.dtype = as_dtype(dtype)
        self.standardize = bool(standardize)
        self.scaler: Standardizer | None = None

    def __repr__(self) -> str:
        return f"InputTransform(features={self.features}, dtype={self.dtype.name}, standardize={self.standardize})"

    @property
    def n_raw(self) -> int | None:
        """Values per raw row: 2 with derived features, else None (any width)."""
        return 2 if self.features is not None else None

    def fit(self, X_raw: np.ndarray) -> InputTransform:
        """Learn μ and s from the training rows ``X_raw : (n, d_raw)`` (when standardising)."""
        self.scaler = Standardizer().fit(self._features(X_raw)) if self.standardize else None
        return self

    def __call__(self, X_raw: np.ndarray) -> np.ndarray:
        """The network's input for raw rows ``X_raw : (n, d_raw)``: (n, d) in ``dtype``."""
        X = self._features(X_raw)
        return X if self.scaler is None else self.scaler.transform(X)

    def _features(self, X_raw: np.ndarray) -> np.ndarray:
        X = np.asarray(X_raw, dtype=np.float64)
        if self.features is not None:
            X = make_features(X, self.features)
        return X.astype(self.dtype)

    def to_meta(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON metadata, arrays) for a model file: ``input_features``, ``scaler_mean``, ``scaler_scale``."""
        arrays = {} if self.scaler is None else {"scaler_mean": self.scaler.mean, "scaler_scale": self.scaler.scale}
        return {"input_features": self.features}, arrays

    @classmethod
    def from_meta(cls, meta: dict, arrays: dict, dtype) -> InputTransform:
        """The transform ``to_meta`` described (a missing scaler means no standardisation)."""
        mean, scale = arrays.get("scaler_mean"), arrays.get("scaler_scale")
        transform = cls(meta.get("input_features") or None, dtype, standardize=mean is not None)
        if mean is not None:
            transform.scaler = Standardizer()
            transform.scaler.mean, transform.scaler.scale = mean.astype(transform.dtype), scale.astype(transform.dtype)
        return transform
