"""The named data sets and ``load_dataset``, which turns a name and a seed into a ready ``Dataset``.

``load_dataset(name, seed=s)`` runs: generate (or load) → features (2-D toy sets) →
stratified train/test split → cast X to ``dtype`` → standardise with the training part's
statistics → labels (classification: int64 in [0, K); regression: ``(n, 1)`` in ``dtype``).
Generation and splitting draw from independent streams spawned from
``np.random.SeedSequence(seed)``, so the same seed gives the same arrays bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deltaflow._checks import as_dtype, positive_int
from deltaflow.data import functions, toy
from deltaflow.data.features import check_feature_names
from deltaflow.data.files import read_table
from deltaflow.data.real import describe_real
from deltaflow.data.split import Standardizer, train_test_split
from deltaflow.data.transform import InputTransform

TASKS = ("classification", "regression")
MAX_CLASSES = 20  # an integer-valued file target with at most this many values is a class label


@dataclass(frozen=True)
class DatasetInfo:
    """What ``DATASETS[name]`` says about a set before it is loaded.

    task: "classification", "regression", or None for a file (detected from the target).
    kind: "toy" (2-D points), "function" (1-D), "real" (bundled) or "file".
    n_samples, noise: the defaults ``load_dataset`` uses (a real set's size and 0.0;
    None for a file); ``max_noise`` the largest noise it takes (None: it takes none).
    Fields read as attributes (``info.task``) or as keys (``info["task"]``).
    """

    task: str | None
    kind: str
    description: str
    n_samples: int | None
    noise: float | None

    @property
    def max_noise(self) -> float | None:
        return {"toy": toy.MAX_NOISE, "function": functions.MAX_NOISE}.get(self.kind)

    def __getitem__(self, key: str):
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)


DATASETS: dict[str, DatasetInfo] = {
    "circle": DatasetInfo("classification", "toy", "a disc inside a ring", 500, 0.0),
    "xor": DatasetInfo("classification", "toy", "the XOR quadrants, class = sign of x1·x2", 500, 0.0),
    "gauss": DatasetInfo("classification", "toy", "two Gaussian blobs", 500, 0.0),
    "spiral": DatasetInfo("classification", "toy", "two interleaved spiral arms", 500, 0.0),
    "moons": DatasetInfo("classification", "toy", "two interleaving half circles", 500, 0.1),
    "spiral3": DatasetInfo("classification", "toy", "K interleaved spiral arms (K = classes, default 3)", 600, 0.0),
    "plane": DatasetInfo("regression", "toy", "y = (x1 + x2) / 10", 500, 0.0),
    "multi_gauss": DatasetInfo("regression", "toy", "a sum of six Gaussian bumps", 500, 0.0),
    "sin": DatasetInfo("regression", "function", "y = sin(x) on [-3, 3]", 200, 0.05),
    "abs": DatasetInfo("regression", "function", "y = |x| on [-3, 3]", 200, 0.05),
    "step": DatasetInfo("regression", "function", "y = 1 if x >= 0 else 0, on [-3, 3]", 200, 0.05),
    "sawtooth": DatasetInfo("regression", "function", "y = a sawtooth with `teeth` ramps on [-3, 3]", 200, 0.05),
    "digits": DatasetInfo("classification", "real", "8x8 handwritten digits, 1797 x 64, 10 classes", 1797, 0.0),
    "iris": DatasetInfo("classification", "real", "iris species from 4 flower sizes, 150 x 4, 3 classes", 150, 0.0),
    "wine": DatasetInfo("classification", "real", "wine cultivar from 13 measurements, 178 x 13, 3 classes", 178, 0.0),
    "breast_cancer": DatasetInfo(
        "classification", "real", "malignant or benign tumour, 569 x 30, 2 classes", 569, 0.0
    ),
    "csv": DatasetInfo(None, "file", "your own .csv or .npz file (path=..., target=...)", None, None),
}

_TOY = {
    "circle": toy.circle,
    "xor": toy.xor,
    "gauss": toy.gauss,
    "spiral": toy.spiral,
    "moons": toy.moons,
    "plane": toy.plane,
    "multi_gauss": toy.multi_gauss,
}
_FUNCTIONS = {"sin": functions.sin, "abs": functions.abs, "step": functions.step}


@dataclass
class Dataset:
    """A data set split into training and test parts, ready for a network.

    X_train : (n_train, d), X_test : (n_test, d) in the requested dtype (standardised with
    the training part's statistics when ``scaler`` is not None).
    Classification: y : (n,) int64 in [0, n_classes), and ``class_labels[k]`` is the
    original label of class k: 3, 5, 7 for a file whose target holds those values; 0 … K−1
    for the generated and real sets (``describe_real(name).class_names`` names the latter).
    Regression: y : (n, 1) in X's dtype, n_classes = 0, class_labels = [].
    X_train_raw, X_test_raw : the same rows as given to a model by a user, float64, before
    derived features and standardisation (the 2-D points of a toy set, a file's columns).
    """

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    feature_names: list[str]
    target_name: str
    transform: InputTransform | None = None
    class_labels: list = field(default_factory=list)
    X_train_raw: np.ndarray | None = None
    X_test_raw: np.ndarray | None = None

    @property
    def scaler(self) -> Standardizer | None:
        """μ and s of the standardisation ``transform`` applies (None: not standardised)."""
        return self.transform.scaler if self.transform is not None else None

    @property
    def n_features(self) -> int:
        """d, the number of input columns."""
        return self.X_train.shape[1]

    @property
    def n_train(self) -> int:
        """Rows in the training part."""
        return len(self.X_train)

    @property
    def n_test(self) -> int:
        """Rows in the test part."""
        return len(self.X_test)


_LEAVE_OUT = "leave them out (a config file: set them to null)"


def _names() -> str:
    return ", ".join(DATASETS)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _class_labels(values: np.ndarray) -> list:
    """Original label values as plain Python numbers: ints when they are whole."""
    if np.all(values == np.round(values)):
        return [int(v) for v in values]
    return [float(v) for v in values]


def _file_task(y: np.ndarray, task: str | None) -> str:
    if task is not None:
        return task
    whole = bool(np.all(y == np.round(y)))
    return "classification" if whole and len(np.unique(y)) <= MAX_CLASSES else "regression"


def _generate(name, info, n_samples, noise, features, classes, teeth, rng):
    """The raw rows of a non-file set: ``(X float64 (n, d), y, feature_names, target_name, class_labels)``."""
    if info.kind == "real":
        if n_samples is not None or noise is not None:
            raise ValueError(f"n_samples and noise (--samples, --noise) do not apply to {name!r}, a fixed real "
                             f"data set of {describe_real(name).X.shape[0]} rows: {_LEAVE_OUT}")
        d = describe_real(name)
        # The labels as stored (0 … K−1); their names are in describe_real(name).class_names.
        return d.X, d.y, d.feature_names, d.target_name, list(range(len(d.class_names)))
    n = positive_int(info.n_samples if n_samples is None else n_samples, "n_samples")
    noise = info.noise if noise is None else noise
    if info.kind == "function":
        if name == "sawtooth":
            X, y = functions.sawtooth(n, noise, rng, teeth=teeth)
        else:
            X, y = _FUNCTIONS[name](n, noise, rng)
        return X, y, ["x"], "y", []
    if name == "spiral3":
        X, y = toy.spiral_k(n, noise, rng, classes=classes)
    else:
        X, y = _TOY[name](n, noise, rng)
    # the derived features are made after the split, so the raw points stay at hand
    names = check_feature_names(["x1", "x2"] if features is None else features)
    if info.task == "regression":
        return X, y, names, "y", []
    return X, y, names, "label", list(range(classes if name == "spiral3" else 2))


def _check_args(name: str, task, features, path) -> DatasetInfo:
    """The set's ``DatasetInfo``, after checking that the arguments apply to it."""
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {_names()}")
    info = DATASETS[name]
    if task is not None and task not in TASKS:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if info.kind != "file" and task is not None and task != info.task:
        raise ValueError(f"{name!r} is a {info.task} data set, not {task}")
    if info.kind != "toy" and features is not None:
        raise ValueError(f"features apply only to the 2-D toy sets ({', '.join(_TOY)}, spiral3), not {name!r}")
    if path is not None and info.kind != "file":
        raise ValueError(f"path is only used with the data set 'csv', not {name!r}")
    return info


def _read_file(path, target, task, n_samples, noise, dtype):
    """A file's rows: ``(X, y, feature_names, target_name, class_labels, task)``, labels as 0 … K−1."""
    if path is None:
        raise ValueError("data set 'csv' needs path=, the .csv or .npz file to load")
    if n_samples is not None or noise is not None:
        raise ValueError(f"n_samples and noise (--samples, --noise) do not apply to a file: {_LEAVE_OUT}")
    X, y, feature_names, target_name = read_table(path, target, dtype=dtype)
    set_task = _file_task(y, task)
    class_labels = []
    if set_task == "classification":
        values, y = np.unique(y, return_inverse=True)
        if len(values) < 2:
            raise ValueError(f"target {target_name!r} has only one class")
        class_labels = _class_labels(values)
    return X, y, feature_names, target_name, class_labels, set_task


def load_dataset(
    name: str,
    *,
    n_samples: int | None = None,
    noise: float | None = None,
    test_fraction: float = 0.2,
    seed: int = 0,
    features=None,
    dtype="float32",
    path=None,
    target: str | None = None,
    classes: int = 3,
    task: str | None = None,
    standardize: bool = True,
    teeth: int = 4,
) -> Dataset:
    """Generate or load the data set ``name`` (a key of ``DATASETS``) and split it.

    n_samples, noise: None takes ``DATASETS[name]``'s defaults; real sets refuse them.
    features: names from ``FEATURES`` computed from a toy set's (x1, x2) before
    standardising (None: ["x1", "x2"]); other sets raise ``ValueError``.
    path, target: the file and target column for name "csv" (see ``load_table``).
    task: for a file, None detects it (an integer-valued target with ≤ 20 distinct values
    is a class label, anything else regression); for a named set it must match.
    classes: K for "spiral3". teeth: the ramps of "sawtooth".
    dtype: "float32" or "float64", for X and a regression y.

    Returns a ``Dataset``. Raises ``ValueError`` for an unknown name, dtype or task, a
    classification target with one class, or any bad argument or file.
    """
    info = _check_args(name, task, features, path)
    dt = as_dtype(dtype)
    gen_seq, split_seq = np.random.SeedSequence(_check_seed(seed)).spawn(2)
    gen_rng, split_rng = np.random.default_rng(gen_seq), np.random.default_rng(split_seq)
    if info.kind == "file":
        X, y, feature_names, target_name, class_labels, set_task = _read_file(path, target, task, n_samples, noise, dt)
    else:
        X, y, feature_names, target_name, class_labels = _generate(
            name, info, n_samples, noise, features, classes, teeth, gen_rng
        )
        set_task = info.task
        if set_task == "classification" and len(np.unique(y)) < 2:
            raise ValueError(f"target {target_name!r} has only one class (n_samples={len(y)} is too few?)")
    if set_task == "classification":
        y = y.astype(np.int64)
    X_train_raw, X_test_raw, y_train, y_test = train_test_split(X, y, test_fraction, split_rng)
    transform = InputTransform(feature_names if info.kind == "toy" else None, dt, standardize).fit(X_train_raw)
    X_train, X_test = transform(X_train_raw), transform(X_test_raw)
    if set_task == "regression":
        y_train, y_test = y_train.astype(dt).reshape(-1, 1), y_test.astype(dt).reshape(-1, 1)
    n_classes = len(class_labels) if set_task == "classification" else 0
    return Dataset(name, set_task, X_train, y_train, X_test, y_test, n_classes, list(feature_names), target_name,
                   transform=transform, class_labels=class_labels, X_train_raw=X_train_raw, X_test_raw=X_test_raw)

