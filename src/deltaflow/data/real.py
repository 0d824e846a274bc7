"""Small real data sets bundled with scikit-learn (no network needed).

Each loader returns ``(X, y)``: ``X : (n, d)`` float64 and ``y : (n,)`` int64 class
labels 0 … K−1. ``describe_real(name)`` adds the column names and the class names
(``class_names[k]`` names label k, e.g. 'setosa' for iris' 0).

========================  ======  ====  =========  ===================================
name                      n       d     classes    task
========================  ======  ====  =========  ===================================
digits                    1797    64    10         8×8 handwritten digit images, 0–16
iris                      150     4     3          iris species from flower sizes
wine                      178     13    3          grape cultivar from chemistry
breast_cancer             569     30    2          malignant (0) or benign (1) tumour
========================  ======  ====  =========  ===================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The target column's name in each set (scikit-learn calls them all "target").
TARGET_NAMES = {"digits": "digit", "iris": "species", "wine": "cultivar", "breast_cancer": "diagnosis"}


@dataclass(frozen=True)
class RealData:
    """One bundled set: ``X : (n, d)`` float64, ``y : (n,)`` int64 in [0, K), and its names."""

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    class_names: list[str]


def describe_real(name: str) -> RealData:
    """Load the bundled set ``name`` with its feature names and class names (e.g. 'setosa')."""
    import sklearn.datasets  # noqa: PLC0415 - importing scikit-learn costs a second; only here

    loaders = {
        "digits": sklearn.datasets.load_digits,
        "iris": sklearn.datasets.load_iris,
        "wine": sklearn.datasets.load_wine,
        "breast_cancer": sklearn.datasets.load_breast_cancer,
    }
    if name not in loaders:
        raise ValueError(f"unknown real data set {name!r}; choose one of {', '.join(loaders)}")
    bunch = loaders[name]()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    class_names = [str(v) for v in bunch.target_names]
    return RealData(X, y, [str(f) for f in bunch.feature_names], TARGET_NAMES[name], class_names)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Handwritten digits: ``X : (1797, 64)`` pixel intensities 0–16, ``y : (1797,)`` in 0–9."""
    d = describe_real("digits")
    return d.X, d.y


def iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris: ``X : (150, 4)`` sepal and petal sizes in cm, ``y : (150,)`` species 0–2."""
    d = describe_real("iris")
    return d.X, d.y


def wine() -> tuple[np.ndarray, np.ndarray]:
    """Wine recognition: ``X : (178, 13)`` chemical measurements, ``y : (178,)`` cultivar 0–2."""
    d = describe_real("wine")
    return d.X, d.y


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Wisconsin breast cancer: ``X : (569, 30)`` cell-nucleus features, ``y : (569,)``, 0 malignant, 1 benign."""
    d = describe_real("breast_cancer")
    return d.X, d.y
