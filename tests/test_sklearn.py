"""The scikit-learn estimators: scikit-learn's own estimator checks, the tools that build on
them (Pipeline, GridSearchCV, cross_val_score), accuracy on real data, and the contracts
this package adds (dtype, seeds, labels, partial_fit, the RunConfig behind a fit)."""

import copy
import math
import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from deltaflow.data import Dataset, Standardizer
from deltaflow.nn.losses import MeanSquaredError
from deltaflow.sklearn import DeltaflowClassifier, DeltaflowRegressor
from deltaflow.training.trainer import fit

# Small and quick, yet enough to pass the checks' accuracy bars (blobs > 0.83, R² > 0.5).
FAST = dict(hidden=(8,), lr=0.03, epochs=25, batch_size=32)


@parametrize_with_checks([DeltaflowClassifier(**FAST), DeltaflowRegressor(**FAST)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris_split():
    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def blobs():
    return make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0, class_sep=2.0, random_state=0)


# ---------------------------------------------------------------- accuracy


def test_iris_test_accuracy(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    clf = DeltaflowClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.93


def test_regression_r2():
    X, y = make_regression(n_samples=400, n_features=5, noise=5.0, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    reg = DeltaflowRegressor(random_state=0).fit(X_train, y_train)
    assert reg.score(X_test, y_test) >= 0.9


def test_sin_regression_r2():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(300, 1))
    y = np.sin(X[:, 0]) + 0.05 * rng.standard_normal(300)
    reg = DeltaflowRegressor(hidden=(32, 32), activation="tanh", lr=0.01, epochs=150, random_state=0)
    reg.fit(X[:200], y[:200])
    assert reg.score(X[200:], y[200:]) >= 0.9


def test_bce_binary_classifier(blobs):
    X, y = blobs
    clf = DeltaflowClassifier(loss="bce", hidden=(8,), lr=0.03, epochs=40, random_state=0).fit(X, y)
    assert clf.net_.layers[-1].W.value.shape[0] == 1  # one logit: p(class 1) = σ(z)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-4, atol=1e-6)
    assert clf.score(X, y) > 0.9


# ---------------------------------------------------------------- scikit-learn tools


def test_pipeline_with_standard_scaler(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    pipe = Pipeline([("scale", StandardScaler()), ("net", DeltaflowClassifier(standardize=False, random_state=0))])
    pipe.fit(X_train, y_train)
    assert pipe.score(X_test, y_test) >= 0.9
    np.testing.assert_allclose(pipe.predict_proba(X_test).sum(axis=1), 1.0, rtol=1e-6)


def test_grid_search_over_hidden_and_lr(blobs):
    X, y = blobs
    grid = GridSearchCV(
        DeltaflowClassifier(epochs=10, random_state=0),
        {"hidden": [(4,), (16,)], "lr": [1e-3, 3e-2]},
        cv=3,
    )
    grid.fit(X, y)
    assert set(grid.best_params_) == {"hidden", "lr"}
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.best_params_["lr"] == 3e-2  # 10 epochs at 1e-3 is too few steps to learn this
    assert grid.score(X, y) > 0.85


def test_cross_val_score(blobs):
    X, y = blobs
    scores = cross_val_score(DeltaflowClassifier(hidden=(8,), lr=0.03, epochs=30, random_state=0), X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.8
    r2 = cross_val_score(make_pipeline(DeltaflowRegressor(**FAST, random_state=0)), X, X @ [1.0, -2.0, 0.5, 0.0], cv=3)
    assert r2.mean() > 0.9


# ---------------------------------------------------------------- contracts


def test_params_are_stored_unmodified():
    hidden = [16, 8]
    clf = DeltaflowClassifier(hidden=hidden, lr=0.5, random_state=3, loss="bce")
    assert clf.get_params()["hidden"] is hidden
    assert clf.get_params()["lr"] == 0.5 and clf.get_params()["loss"] == "bce"
    clf.set_params(epochs=7, dtype="float64")
    assert clf.epochs == 7 and clf.dtype == "float64"
    assert set(DeltaflowRegressor().get_params()) == set(clf.get_params()) - {"loss"}


def test_bad_parameters_raise_at_fit_naming_them(blobs):
    X, y = blobs
    for params, word in [
        ({"hidden": (0,)}, "hidden"),
        ({"lr": -1.0}, "lr"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"dtype": "float16"}, "dtype"),
        ({"loss": "hinge"}, "loss"),
        ({"random_state": -1}, "random_state"),
        ({"dropout": 1.0}, "dropout"),
    ]:
        clf = DeltaflowClassifier(**params)  # __init__ never validates (scikit-learn convention)
        with pytest.raises(ValueError, match=word):
            clf.fit(X, y)
    with pytest.raises(ValueError, match="bce"):
        DeltaflowClassifier(loss="bce", epochs=1).fit(X, np.arange(len(y)) % 3)


def test_nan_and_unfitted_raise(blobs):
    X, y = blobs
    clf = DeltaflowClassifier(epochs=1)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_nan)
    with pytest.raises(ValueError, match="class"):
        DeltaflowClassifier(epochs=1).fit(X, np.zeros(len(X)))


def test_dtype_parameter_sets_the_computation_dtype(blobs):
    X, y = blobs
    for name in ("float32", "float64"):
        clf = DeltaflowClassifier(dtype=name, **FAST, random_state=0).fit(X, y)
        assert all(p.value.dtype == np.dtype(name) for p in clf.net_.parameters())
        assert clf.predict_proba(X).dtype == np.dtype(name)
        reg = DeltaflowRegressor(dtype=name, **FAST, random_state=0).fit(X, X[:, 0])
        assert reg.predict(X).dtype == np.dtype(name)


def test_string_labels_and_proba(blobs):
    X, y = blobs
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)
    y3 = names[(y + (X[:, 0] > 1)) % 3]
    clf = DeltaflowClassifier(**FAST, random_state=0).fit(X, y3)
    assert list(clf.classes_) == list(names)
    assert set(clf.predict(X)) <= set(names)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-4, atol=1e-6)


def test_fixed_random_state_is_deterministic_and_none_draws(blobs):
    X, y = blobs
    a = DeltaflowClassifier(**FAST, random_state=7).fit(X, y)
    b = DeltaflowClassifier(**FAST, random_state=7).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_ == b.history_
    c = DeltaflowClassifier(**FAST, random_state=8).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))
    np.random.seed(0)
    s1 = DeltaflowClassifier(**FAST).fit(X, y).config_.seed
    np.random.seed(0)
    s2 = DeltaflowClassifier(**FAST).fit(X, y).config_.seed
    assert s1 == s2  # None draws from NumPy's global state, as scikit-learn does


def test_same_numbers_as_train_fit_on_the_same_config(blobs):
    """One run, every face: the estimator's fit is ``train.fit(config_)`` on its data."""
    X, y = blobs
    clf = DeltaflowClassifier(**FAST, random_state=5).fit(X, y)
    Xs = Standardizer().fit(X.astype(np.float32)).transform(X.astype(np.float32))
    data = Dataset("blobs", "classification", Xs, y, Xs, y, 2, ["a", "b", "c", "d"], "y")
    result = fit(clf.config_, data)
    assert result.history["train_loss"] == clf.history_["train_loss"]
    for p, q in zip(result.net.parameters(), clf.net_.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)


def test_fitted_attributes(blobs):
    X, y = blobs
    clf = DeltaflowClassifier(**FAST, random_state=0).fit(X, y)
    assert clf.n_features_in_ == 4 and clf.n_iter_ == FAST["epochs"] == len(clf.history_["epoch"])
    assert set(clf.history_) == {"epoch", "train_loss", "train_accuracy", "lr", "grad_norm"}
    assert clf.stop_reason_ == "completed" and clf.loss_ == clf.history_["train_loss"][-1]
    assert isinstance(clf.scaler_, Standardizer) and clf.config_.model.hidden == [8]
    assert not hasattr(clf, "feature_names_in_")
    reg = DeltaflowRegressor(**FAST, standardize=False, random_state=0).fit(X, X[:, 0])
    assert reg.scaler_ is None and reg.target_scaler_ is None and "train_r2" in reg.history_


def test_feature_names_from_a_dataframe(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = DeltaflowClassifier(**FAST, random_state=0).fit(df, y)
    assert list(clf.feature_names_in_) == ["a", "b", "c", "d"]
    with pytest.warns(UserWarning, match="feature names"):  # scikit-learn's own warning
        plain = clf.predict(df.to_numpy(np.float32))
    np.testing.assert_array_equal(clf.predict(df), plain)
    assert clf.config_.dtype == "float32"  # the DataFrame's float64 columns were converted


def test_partial_fit_classifier(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="classes"):
        DeltaflowClassifier().partial_fit(X, y)
    once = DeltaflowClassifier(**{**FAST, "epochs": 1}, random_state=2).fit(X, y)
    inc = DeltaflowClassifier(**FAST, random_state=2).partial_fit(X, y, classes=[0, 1])
    # one partial_fit epoch is exactly one epoch of fit
    np.testing.assert_array_equal(once.predict_proba(X), inc.predict_proba(X))
    assert once.history_ == inc.history_
    for _ in range(20):
        inc.partial_fit(X[:60], y[:60])
        inc.partial_fit(X[60:], y[60:])
    assert inc.n_iter_ == 41 and len(inc.history_["train_loss"]) == 41
    assert inc.score(X, y) > 0.85
    with pytest.raises(ValueError, match="classes"):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not in classes_"):
        inc.partial_fit(X[:3], [0, 1, 5])
    with pytest.raises(ValueError, match="features"):
        inc.partial_fit(X[:, :3], y)
    subset = DeltaflowClassifier(**FAST, random_state=0).partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    assert subset.predict_proba(X).shape == (len(X), 3)


def test_partial_fit_regressor():
    X, y = make_regression(n_samples=200, n_features=3, noise=1.0, random_state=1)
    reg = DeltaflowRegressor(hidden=(16,), lr=0.01, random_state=0)
    for _ in range(40):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 40 and reg.score(X, y) > 0.9
    mu = reg.target_scaler_.mean.copy()
    reg.partial_fit(X[:50], y[:50] + 100.0)
    np.testing.assert_array_equal(reg.target_scaler_.mean, mu)  # the first call fixed the scalers


def test_pickle_and_clone_round_trip(blobs):
    X, y = blobs
    clf = DeltaflowClassifier(**FAST, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit(X, y)  # the optimiser's state travels too
    fresh = clone(clf)
    assert not hasattr(fresh, "net_") and fresh.get_params() == clf.get_params()


def _joblib_round_trip(est, tmp_path):
    joblib.dump(est, tmp_path / "est.joblib")
    return joblib.load(tmp_path / "est.joblib")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("how", ["pickle", "deepcopy", "joblib"])
def test_a_copied_estimator_trains_on_as_the_original(blobs, tmp_path, how, optimizer):
    """partial_fit on a pickled, deep-copied or joblib-loaded estimator moves its weights
    exactly as on the original: the optimiser's flat arrays are the copy's own params again."""
    X, y = blobs
    clf = DeltaflowClassifier(**{**FAST, "epochs": 3}, optimizer=optimizer, random_state=0).fit(X, y)
    twin = {"pickle": lambda e: pickle.loads(pickle.dumps(e)), "deepcopy": copy.deepcopy,
            "joblib": lambda e: _joblib_round_trip(e, tmp_path)}[how](clf)
    before = [p.value.copy() for p in twin.net_.parameters()]
    for est in (clf, twin):
        est.partial_fit(X, y)
        est.partial_fit(X[:50], y[:50])
    after = [p.value for p in twin.net_.parameters()]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    for mine, theirs in zip(clf.net_.parameters(), after):
        np.testing.assert_array_equal(mine.value, theirs)
    assert twin.history_ == clf.history_ and twin.n_iter_ == 5


def test_an_epoch_evaluated_non_finite_is_rolled_back():
    """Every step of epoch 1 is finite, but the float32 loss of the network it ends with
    overflows: the warning's promise holds, the weights are those of the last finite row
    (here the initial ones) and predict stays finite."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    reg = DeltaflowRegressor(hidden=(16, 16), activation="tanh", optimizer="sgd", lr=100.0, epochs=20, random_state=0)
    with pytest.warns(RuntimeWarning, match="end of epoch 1.*train loss became inf.*last completed epoch are kept"):
        reg.fit(X, y)
    assert reg.stop_reason_ == "diverged" and reg.history_["train_loss"] == []
    out = reg.net_.forward(reg.scaler_.transform(X.astype(np.float32)), training=False)
    target = reg.target_scaler_.transform(y.astype(np.float32)[:, None])
    assert np.isfinite(reg.net_.layers[0].W.value).all() and math.isfinite(MeanSquaredError().forward(out, target))
    assert np.isfinite(reg.predict(X)).all()


def test_divergence_warns_and_keeps_finite_weights(blobs):
    X, y = blobs
    reg = DeltaflowRegressor(optimizer="sgd", lr=50.0, hidden=(16,), epochs=30, standardize=False, random_state=0)
    with pytest.warns(RuntimeWarning, match="became"):
        reg.fit(X * 1e3, (X[:, 0] * 1e6))
    assert reg.stop_reason_ == "diverged"
    assert all(np.isfinite(p.value).all() for p in reg.net_.parameters())
