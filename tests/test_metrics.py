"""Metrics: hand-worked examples, agreement with sklearn.metrics, and bad inputs."""

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from deltaflow.nn.losses import softmax
from deltaflow.metrics import accuracy, confusion_matrix, log_loss, r2_score, rmse

# --- hand-worked examples -------------------------------------------------------------


def test_accuracy_by_hand():
    assert accuracy([0, 1, 2, 1], [0, 2, 2, 1]) == 0.75
    assert isinstance(accuracy(np.array([1]), np.array([1])), float)


def test_confusion_matrix_by_hand():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64
    assert cm.sum() == 6 and np.trace(cm) == 4


def test_confusion_matrix_n_classes_pads_unseen_classes():
    cm = confusion_matrix([0, 1], [1, 1], n_classes=4)
    assert cm.shape == (4, 4)
    np.testing.assert_array_equal(cm[:2, :2], [[0, 1], [0, 1]])
    assert cm[2:].sum() == 0 and cm[:, 2:].sum() == 0


def test_r2_by_hand():
    # ȳ = 2, SS_tot = 2, SS_res = 0.25 + 0 + 0.25 = 0.5, R² = 1 − 0.5/2 = 0.75.
    assert r2_score([1.0, 2.0, 3.0], [1.5, 2.0, 2.5]) == pytest.approx(0.75, abs=1e-15)
    assert r2_score([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == 0.0  # predicting the mean
    assert r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0


def test_r2_constant_target_follows_sklearn():
    assert r2_score([3.0, 3.0, 3.0], [3.0, 3.0, 3.0]) == 1.0
    assert r2_score([3.0, 3.0, 3.0], [3.0, 4.0, 3.0]) == 0.0
    y = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    p = np.array([[1.5, 5.0], [2.0, 5.0], [2.5, 6.0]])
    assert r2_score(y, p) == pytest.approx(skm.r2_score(y, p), abs=1e-15)  # (0.75 + 0) / 2


def test_r2_single_example_is_nan_like_sklearn():
    assert np.isnan(r2_score([1.0], [2.0]))


def test_rmse_by_hand():
    assert rmse([0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, -1.0]) == 1.0
    assert rmse([1.0, 2.0], [1.0, 2.0]) == 0.0


def test_log_loss_by_hand():
    proba = np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]])
    expected = -(np.log(0.5) + np.log(0.8) + np.log(0.9)) / 3
    assert log_loss([0, 1, 0], proba) == pytest.approx(expected, rel=1e-15)


def test_log_loss_clips_certain_mistakes_to_minus_log_eps():
    for dtype in (np.float32, np.float64):
        proba = np.array([[1.0, 0.0]], dtype=dtype)
        assert log_loss([1], proba) == pytest.approx(-np.log(np.finfo(dtype).eps), rel=1e-6)


def test_log_loss_binary_column_is_probability_of_class_one():
    p1 = np.array([0.9, 0.3, 0.6])
    y = np.array([1, 0, 1])
    full = np.stack([1 - p1, p1], axis=1)
    assert log_loss(y, p1) == log_loss(y, p1[:, None]) == log_loss(y, full)


# --- agreement with scikit-learn on random data ------------------------------------------


@pytest.mark.parametrize("K", [2, 3, 7])
def test_classification_metrics_match_sklearn(rng, K):
    n = 500
    y_true = rng.integers(0, K, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, K, n))
    assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-12)
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, n_classes=K), skm.confusion_matrix(y_true, y_pred, labels=np.arange(K))
    )
    proba = softmax(rng.normal(scale=3.0, size=(n, K)))
    expected = skm.log_loss(y_true, proba, labels=np.arange(K))
    assert log_loss(y_true, proba) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_log_loss_float32_matches_sklearn(rng):
    y = rng.integers(0, 4, 300)
    proba = softmax(rng.normal(size=(300, 4)).astype(np.float32))
    assert proba.dtype == np.float32
    assert log_loss(y, proba) == pytest.approx(skm.log_loss(y, proba, labels=np.arange(4)), rel=1e-5)


@pytest.mark.parametrize("shape", [(200,), (200, 1), (200, 3)])
def test_regression_metrics_match_sklearn(rng, shape):
    y_true = rng.normal(size=shape)
    y_pred = y_true + rng.normal(scale=0.7, size=shape)
    assert r2_score(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred), abs=1e-12)
    assert rmse(y_true, y_pred) == pytest.approx(skm.root_mean_squared_error(y_true, y_pred), abs=1e-12)


def test_regression_metrics_accept_float32(rng):
    y_true = rng.normal(size=100).astype(np.float32)
    y_pred = (y_true + rng.normal(size=100)).astype(np.float32)
    assert r2_score(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred), abs=1e-6)
    assert rmse(y_true, y_pred) == pytest.approx(skm.root_mean_squared_error(y_true, y_pred), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=40),
)
def test_confusion_matrix_properties(pairs):
    y_true, y_pred = np.array(pairs).T
    cm = confusion_matrix(y_true, y_pred, n_classes=5)
    assert cm.sum() == len(pairs)
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y_true, minlength=5))
    np.testing.assert_array_equal(cm.sum(axis=0), np.bincount(y_pred, minlength=5))
    assert np.trace(cm) / len(pairs) == accuracy(y_true, y_pred)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-1e3, 1e3, allow_subnormal=False), st.floats(-1e3, 1e3, allow_subnormal=False)),
        min_size=2,
        max_size=30,
    )
)
def test_r2_matches_sklearn_including_degenerate_cases(pairs):
    y_true, y_pred = np.array(pairs).T
    assert r2_score(y_true, y_pred) == pytest.approx(skm.r2_score(y_true, y_pred), rel=1e-9, abs=1e-9)


# --- bad inputs --------------------------------------------------------------------------


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"\(4,\).*\(4, 1\)"):
        r2_score(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"\(4, 2\).*\(4, 3\)"):
        rmse(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(4,\)"):
        log_loss([0, 1, 1, 0], np.full((3, 2), 0.5))


@pytest.mark.parametrize(
    "call",
    [
        lambda: accuracy([], []),
        lambda: confusion_matrix([], []),
        lambda: r2_score([], []),
        lambda: rmse(np.zeros((0, 2)), np.zeros((0, 2))),
        lambda: log_loss([], np.zeros((0, 2))),
    ],
)
def test_empty_input_raises(call):
    with pytest.raises(ValueError, match="shape"):
        call()


def test_bad_labels_raise():
    with pytest.raises(ValueError, match="shape"):
        accuracy(np.zeros((3, 1), dtype=int), np.zeros((3, 1), dtype=int))
    with pytest.raises(ValueError, match="whole-number"):
        accuracy([0.5, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="0 … K−1"):
        confusion_matrix([-1, 0], [0, 0])
    with pytest.raises(ValueError, match="out of range"):
        confusion_matrix([0, 3], [0, 1], n_classes=3)
    with pytest.raises(ValueError, match="positive integer"):
        confusion_matrix([0, 1], [0, 1], n_classes=0)
    with pytest.raises(ValueError, match="integer class labels"):
        accuracy(np.array(["a", "b"]), np.array(["a", "b"]))


def test_float_whole_number_labels_are_accepted():
    assert accuracy(np.array([0.0, 1.0, 2.0]), np.array([0, 1, 1])) == pytest.approx(2 / 3)


def test_log_loss_rejects_non_probabilities():
    y = np.array([0, 1])
    with pytest.raises(ValueError, match="logits"):
        log_loss(y, np.array([[2.0, -1.0], [0.3, 0.7]]))
    with pytest.raises(ValueError, match="sum to 1"):
        log_loss(y, np.array([[0.5, 0.6], [0.3, 0.7]]))
    with pytest.raises(ValueError, match="out of range"):
        log_loss(np.array([0, 2]), np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="float"):
        log_loss(y, np.array([[1, 0], [0, 1]]))
