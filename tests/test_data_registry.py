"""DATASETS and load_dataset: every named set, determinism, features, files and argument checks."""

import numpy as np
import pytest

from deltaflow.data import DATASETS, Dataset, Standardizer, load_dataset

GENERATED = [name for name, info in DATASETS.items() if info.kind in ("toy", "function")]
REAL_SIZES = {"digits": (1797, 64, 10), "iris": (150, 4, 3), "wine": (178, 13, 3), "breast_cancer": (569, 30, 2)}


def test_registry_lists_every_set():
    assert list(DATASETS) == [
        "circle", "xor", "gauss", "spiral", "moons", "spiral3", "plane", "multi_gauss",
        "sin", "abs", "step", "sawtooth", "digits", "iris", "wine", "breast_cancer", "csv",
    ]  # fmt: skip
    for info in DATASETS.values():
        assert info.kind in ("toy", "function", "real", "file")
        assert info.task in ("classification", "regression", None)
        assert info.description
        assert info["task"] == info.task and info["kind"] == info.kind  # dict-style access too
    with pytest.raises(KeyError):
        DATASETS["xor"]["colour"]


def check_dataset(d: Dataset, dtype):
    assert d.X_train.dtype == dtype and d.X_test.dtype == dtype
    assert d.X_train.shape[1] == d.X_test.shape[1] == d.n_features == len(d.feature_names)
    assert len(d.y_train) == len(d.X_train) and len(d.y_test) == len(d.X_test)
    if d.task == "classification":
        assert d.y_train.dtype == np.int64 and d.y_train.ndim == 1
        assert d.n_classes == len(d.class_labels) >= 2
        for y in (d.y_train, d.y_test):
            assert y.min() >= 0 and y.max() < d.n_classes
    else:
        assert d.n_classes == 0 and d.class_labels == []
        assert d.y_train.shape == (len(d.X_train), 1) and d.y_train.dtype == dtype
        assert d.y_test.shape == (len(d.X_test), 1) and d.y_test.dtype == dtype


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_generated_sets_shapes_and_dtypes(name, dtype):
    d = load_dataset(name, n_samples=250, noise=0.1, seed=3, dtype=dtype)
    assert d.name == name and d.task == DATASETS[name].task
    assert len(d.X_train) + len(d.X_test) == 250 and len(d.X_test) == 50
    check_dataset(d, dtype)
    assert d.n_features == (1 if DATASETS[name].kind == "function" else 2)


@pytest.mark.parametrize("name", REAL_SIZES)
def test_real_sets(name):
    n, d_in, k = REAL_SIZES[name]
    d = load_dataset(name, seed=0)
    assert len(d.X_train) + len(d.X_test) == n and d.n_features == d_in and d.n_classes == k
    assert d.class_labels == list(range(k))
    check_dataset(d, np.float32)


@pytest.mark.parametrize("name", ["spiral", "plane", "sin", "iris"])
def test_same_seed_same_bits_different_seed_differs(name):
    a, b, c = load_dataset(name, seed=11), load_dataset(name, seed=11), load_dataset(name, seed=12)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()
    assert not np.array_equal(a.X_train, c.X_train)


def test_defaults_come_from_the_registry():
    d = load_dataset("circle")
    assert len(d.X_train) + len(d.X_test) == DATASETS["circle"].n_samples
    assert d.feature_names == ["x1", "x2"] and d.target_name == "label"


def test_standardised_with_training_statistics_only():
    d = load_dataset("gauss", n_samples=400, noise=0.2, seed=1, dtype="float64")
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1, rtol=1e-12)
    assert np.all(d.X_test.mean(axis=0) != 0)
    assert isinstance(d.scaler, Standardizer) and d.scaler.mean.dtype == np.float64


def test_standardize_false_keeps_raw_coordinates():
    d = load_dataset("circle", n_samples=200, seed=1, standardize=False, dtype="float64")
    assert d.scaler is None
    raw = np.concatenate([d.X_train, d.X_test])
    assert np.hypot(*raw.T).max() <= 5.0


def test_scaler_maps_new_points_like_training_points():
    d = load_dataset("xor", n_samples=200, seed=2, dtype="float32")
    grid = np.array([[0.0, 0.0], [6.0, -6.0]], np.float32)
    z = d.scaler.transform(grid)
    assert z.dtype == np.float32
    np.testing.assert_allclose(d.scaler.inverse_transform(z), grid, atol=1e-5)


def test_classification_split_is_stratified():
    d = load_dataset("spiral3", n_samples=600, seed=0, classes=3)
    assert np.bincount(d.y_test).tolist() == [40, 40, 40]
    assert d.n_classes == 3 and d.class_labels == [0, 1, 2]
    assert load_dataset("spiral3", n_samples=300, classes=5).n_classes == 5


def test_features_applied_before_standardising():
    d = load_dataset("circle", n_samples=100, seed=0, features=["x1^2", "x2^2", "x1x2"], standardize=False,
                     dtype="float64")  # fmt: skip
    assert d.feature_names == ["x1^2", "x2^2", "x1x2"] and d.n_features == 3
    assert np.all(d.X_train[:, :2] >= 0)
    ref = load_dataset("circle", n_samples=100, seed=0, standardize=False, dtype="float64")
    np.testing.assert_allclose(d.X_train[:, 2], ref.X_train[:, 0] * ref.X_train[:, 1])


def test_features_rejected_for_other_sets():
    with pytest.raises(ValueError, match="features apply only to the 2-D toy sets"):
        load_dataset("sin", features=["x1"])
    with pytest.raises(ValueError, match="unknown feature 'x9'"):
        load_dataset("xor", features=["x9"])


def test_argument_errors():
    with pytest.raises(ValueError, match="unknown data set 'mnist'; choose one of circle, xor"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        load_dataset("xor", dtype="float16")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        load_dataset("xor", seed=-1)
    with pytest.raises(ValueError, match="'plane' is a regression data set, not classification"):
        load_dataset("plane", task="classification")
    with pytest.raises(ValueError, match="task must be"):
        load_dataset("csv", path="x.csv", task="ranking")
    with pytest.raises(ValueError, match="fixed real data set"):
        load_dataset("iris", n_samples=50)
    with pytest.raises(ValueError, match="needs path="):
        load_dataset("csv")
    with pytest.raises(ValueError, match="path is only used with the data set 'csv'"):
        load_dataset("xor", path="x.csv")
    with pytest.raises(ValueError, match="test_fraction must be in"):
        load_dataset("xor", test_fraction=1.0)


def test_sawtooth_teeth_reach_the_generator():
    a = load_dataset("sawtooth", noise=0.0, teeth=2, standardize=False, dtype="float64")
    b = load_dataset("sawtooth", noise=0.0, teeth=6, standardize=False, dtype="float64")
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.y_train, b.y_train)


def test_csv_classification_maps_labels(tmp_path):
    rows = "\n".join(f"{i},{i % 7 * 0.5},{(3, 5, 7)[i % 3]}" for i in range(60))
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n" + rows + "\n")
    d = load_dataset("csv", path=path, seed=0)
    assert d.task == "classification" and d.n_classes == 3 and d.class_labels == [3, 5, 7]
    assert d.target_name == "label" and d.feature_names == ["a", "b"]
    check_dataset(d, np.float32)
    assert np.bincount(d.y_test).tolist() == [4, 4, 4]


def test_csv_task_detection_and_override(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,y\n" + "\n".join(f"{i},{i * 0.37}" for i in range(30)) + "\n")
    assert load_dataset("csv", path=path).task == "regression"
    path.write_text("x,y\n" + "\n".join(f"{i},{i}" for i in range(30)) + "\n")  # 30 integer values > 20
    d = load_dataset("csv", path=path, dtype="float64")
    assert d.task == "regression" and d.y_train.shape == (24, 1) and d.y_train.dtype == np.float64
    path.write_text("x,y\n" + "\n".join(f"{i},{i % 4}" for i in range(30)) + "\n")
    assert load_dataset("csv", path=path).task == "classification"
    assert load_dataset("csv", path=path, task="regression").task == "regression"


def test_csv_single_class_target(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("x,label\n1,1\n2,1\n3,1\n")
    with pytest.raises(ValueError, match="^target 'label' has only one class$"):
        load_dataset("csv", path=path)


def test_npz_file_through_load_dataset(tmp_path):
    path = tmp_path / "data.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=(40, 3)), y=rng.normal(size=40))
    d = load_dataset("csv", path=path, dtype="float64")
    assert d.task == "regression" and d.n_features == 3 and d.target_name == "y"


def test_sizes_on_a_fixed_set_say_what_to_do():
    """The message names the CLI flags and the remedy, not a Python value ("leave them None")."""
    with pytest.raises(ValueError) as info:
        load_dataset("digits", n_samples=100)
    message = str(info.value)
    assert "--samples" in message and "leave them out" in message and "None" not in message
    assert "'digits', a fixed real data set of 1797 rows" in message
    with pytest.raises(ValueError) as info:
        load_dataset("csv", path="x.csv", noise=0.1)
    assert "--noise" in str(info.value) and "leave them out" in str(info.value) and "None" not in str(info.value)
