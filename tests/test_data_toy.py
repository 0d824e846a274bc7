"""Toy 2-D generators, 1-D functions, features and the bundled real sets."""

import numpy as np
import pytest

from deltaflow import data
from deltaflow.data import toy

CLASSIFIERS = {"circle": data.circle, "xor": data.xor, "gauss": data.gauss, "spiral": data.spiral, "moons": data.moons}
REGRESSORS = {"plane": data.plane, "multi_gauss": data.multi_gauss}
FUNCTIONS = {"sin": data.sin, "abs": data.abs, "step": data.step, "sawtooth": data.sawtooth}


def gen(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("noise", [0.0, 0.3, 1.0])
def test_classifier_shapes_labels_and_box(name, noise):
    X, y = CLASSIFIERS[name](301, noise, gen())
    assert X.shape == (301, 2) and X.dtype == np.float64
    assert y.shape == (301,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}
    assert np.abs(X).max() <= toy.BOX


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_classes_roughly_balanced(name):
    _, y = CLASSIFIERS[name](1000, 0.1, gen(3))
    assert 0.4 < y.mean() < 0.6


@pytest.mark.parametrize("name", ["circle", "gauss", "spiral", "moons"])
def test_classes_exactly_balanced_by_construction_without_noise(name):
    _, y = CLASSIFIERS[name](501, 0.0, gen())
    assert np.bincount(y).tolist() in ([250, 251], [251, 250])


@pytest.mark.parametrize("fn", [*CLASSIFIERS.values(), *REGRESSORS.values()])
def test_generators_are_deterministic_and_seed_sensitive(fn):
    X1, y1 = fn(200, 0.2, gen(7))
    X2, y2 = fn(200, 0.2, gen(7))
    X3, _ = fn(200, 0.2, gen(8))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_classifier_rows_are_shuffled():
    # A prefix of the data must hold both classes, so rows are not grouped by class.
    for fn in CLASSIFIERS.values():
        _, y = fn(400, 0.0, gen())
        assert set(y[:20]) == {0, 1}


def test_circle_without_noise_labels_disc_and_ring():
    X, y = data.circle(1000, 0.0, gen())
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r[y == 1] <= 2.5)
    assert np.all((r[y == 0] >= 3.5) & (r[y == 0] <= 5.0))


def test_xor_without_noise_is_sign_of_product_with_padding():
    X, y = data.xor(1000, 0.0, gen())
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(np.int64))
    assert np.abs(X).min() >= 0.3 and np.abs(X).max() <= 5.3


def test_noise_flips_labels_near_the_boundary():
    X, y = data.xor(2000, 0.5, gen())
    clean = (X[:, 0] * X[:, 1] >= 0).astype(np.int64)
    assert 0.02 < np.mean(y != clean) < 0.4


def test_gauss_blob_centres_and_variance():
    X, y = data.gauss(4000, 0.0, gen())
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [2, 2], atol=0.05)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-2, -2], atol=0.05)
    np.testing.assert_allclose(X[y == 1].var(axis=0), [0.5, 0.5], rtol=0.1)


def test_spiral_without_noise_lies_on_two_arms():
    X, y = data.spiral(400, 0.0, gen())
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() < 5.0
    # Each arm is the other rotated by π: the point set of arm 1 is −(arm 0).
    a0 = X[y == 0][np.argsort(r[y == 0])]
    a1 = X[y == 1][np.argsort(r[y == 1])]
    np.testing.assert_allclose(a1, -a0, atol=1e-12)


def test_spiral_noise_is_bounded_by_its_fraction():
    X0, _ = data.spiral(300, 0.0, gen(1))
    Xn, _ = data.spiral(300, 0.1, gen(1))
    r0, rn = np.sort(np.hypot(*X0.T)), np.sort(np.hypot(*Xn.T))
    assert np.abs(rn - r0).max() <= 0.1 * np.sqrt(2) + 1e-12


@pytest.mark.parametrize("k", [2, 3, 5])
def test_spiral_k_classes(k):
    X, y = data.spiral_k(301, 0.1, gen(), classes=k)
    assert X.shape == (301, 2) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == k and counts.max() - counts.min() <= 1
    assert np.abs(X).max() <= toy.BOX


def test_spiral_k_two_matches_spiral():
    np.testing.assert_array_equal(data.spiral_k(100, 0.2, gen(), classes=2)[0], data.spiral(100, 0.2, gen())[0])


def test_spiral_k_rejects_one_class():
    with pytest.raises(ValueError, match="classes must be an integer >= 2"):
        data.spiral_k(100, 0.1, gen(), classes=1)


def test_moons_without_noise_fit_the_scaled_half_circles():
    X, y = data.moons(500, 0.0, gen())
    outer = X[y == 0] / 3 + [0.5, 0.25]
    np.testing.assert_allclose(np.hypot(*outer.T), 1.0, atol=1e-12)
    inner = X[y == 1] / 3 + [0.5, 0.25] - [1.0, 0.5]
    np.testing.assert_allclose(np.hypot(*inner.T), 1.0, atol=1e-12)


@pytest.mark.parametrize("name", REGRESSORS)
def test_regressor_shapes(name):
    X, y = REGRESSORS[name](250, 0.2, gen())
    assert X.shape == (250, 2) and X.dtype == np.float64
    assert y.shape == (250,) and y.dtype == np.float64
    assert np.abs(X).max() <= toy.BOX


def test_plane_formula():
    X, y = data.plane(100, 0.0, gen())
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 10, rtol=0, atol=1e-15)


def test_multi_gauss_formula_at_the_bumps():
    X, y = data.multi_gauss(3000, 0.0, gen())
    assert -1.1 < y.min() < -0.9 and 0.9 < y.max() < 1.1
    for cx, cy, s in toy.BUMPS:
        near = np.hypot(X[:, 0] - cx, X[:, 1] - cy) < 0.3
        assert np.all(np.sign(y[near]) == s)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "a", None, True])
def test_noise_outside_unit_interval_is_refused(bad):
    with pytest.raises(ValueError, match="noise must be"):
        data.circle(10, bad, gen())


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_n_samples_must_be_positive_int(bad):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        data.xor(bad, 0.0, gen())


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_shapes_and_range(name):
    X, y = FUNCTIONS[name](120, 0.0, gen(), low=-2.0, high=4.0)
    assert X.shape == (120, 1) and X.dtype == np.float64
    assert y.shape == (120,) and y.dtype == np.float64
    assert X.min() >= -2.0 and X.max() < 4.0


def test_function_formulas():
    x, y = data.sin(50, 0.0, gen())
    np.testing.assert_array_equal(y, np.sin(x[:, 0]))
    x, y = data.abs(50, 0.0, gen())
    np.testing.assert_array_equal(y, np.abs(x[:, 0]))
    x, y = data.step(50, 0.0, gen())
    np.testing.assert_array_equal(y, (x[:, 0] >= 0).astype(float))


def test_sawtooth_has_teeth_ramps():
    X, y = data.sawtooth(2000, 0.0, gen(), teeth=5)
    assert y.min() >= 0 and y.max() < 1
    order = np.argsort(X[:, 0])
    drops = np.sum(np.diff(y[order]) < -0.5)
    assert drops == 4


def test_function_noise_is_gaussian_std():
    x, y = data.sin(20000, 0.3, gen())
    assert abs(np.std(y - np.sin(x[:, 0])) - 0.3) < 0.01


def test_function_argument_checks():
    for bad in (-1.0, 2.5):
        with pytest.raises(ValueError, match=r"noise must be a number in \[0, 2\] \(the std added to y\)"):
            data.sin(10, bad, gen())
    with pytest.raises(ValueError, match="need finite low < high"):
        data.abs(10, 0.0, gen(), low=1.0, high=1.0)
    with pytest.raises(ValueError, match="teeth must be a positive integer"):
        data.sawtooth(10, 0.0, gen(), teeth=0)


def test_make_features_columns_in_given_order():
    X = np.array([[1.0, 2.0], [-0.5, 3.0]])
    F = data.make_features(X, ["x1x2", "x2^2", "sin_x1", "x1", "x2", "x1^2", "sin_x2"])
    np.testing.assert_array_equal(F[:, 0], X[:, 0] * X[:, 1])
    np.testing.assert_array_equal(F[:, 1], X[:, 1] ** 2)
    np.testing.assert_array_equal(F[:, 2], np.sin(X[:, 0]))
    np.testing.assert_array_equal(F[:, 3], X[:, 0])
    np.testing.assert_array_equal(F[:, 4], X[:, 1])
    np.testing.assert_array_equal(F[:, 5], X[:, 0] ** 2)
    np.testing.assert_array_equal(F[:, 6], np.sin(X[:, 1]))
    assert data.FEATURES == ("x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2")


def test_make_features_keeps_float32():
    X = np.ones((3, 2), np.float32)
    assert data.make_features(X, ["x1^2", "sin_x2"]).dtype == np.float32


def test_make_features_errors():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"unknown feature 'x3'; valid features: x1, x2, x1\^2"):
        data.make_features(X, ["x1", "x3"])
    with pytest.raises(ValueError, match="features is empty"):
        data.make_features(X, [])
    with pytest.raises(ValueError, match="more than once"):
        data.make_features(X, ["x1", "x1"])
    with pytest.raises(ValueError, match="list of names"):
        data.make_features(X, "x1")
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        data.make_features(np.zeros((3, 3)), ["x1"])


@pytest.mark.parametrize(
    ("loader", "shape", "k"),
    [
        (data.digits, (1797, 64), 10),
        (data.iris, (150, 4), 3),
        (data.wine, (178, 13), 3),
        (data.breast_cancer, (569, 30), 2),
    ],
)
def test_real_sets_sizes(loader, shape, k):
    X, y = loader()
    assert X.shape == shape and X.dtype == np.float64
    assert y.shape == (shape[0],) and y.dtype == np.int64
    assert np.array_equal(np.unique(y), np.arange(k))


def test_describe_real_names():
    d = data.describe_real("iris")
    assert d.class_names == ["setosa", "versicolor", "virginica"]
    assert len(d.feature_names) == 4 and d.target_name == "species"
    with pytest.raises(ValueError, match="unknown real data set 'mnist'"):
        data.describe_real("mnist")
