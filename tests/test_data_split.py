"""train_test_split, Standardizer and iterate_minibatches."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltaflow.data import Standardizer, iterate_minibatches, train_test_split


def gen(seed=0):
    return np.random.default_rng(seed)


def test_split_sizes_and_partition():
    X = np.arange(100.0)[:, None]
    y = np.arange(100) % 2
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, 0.25, gen())
    assert len(X_tr) == 75 and len(X_te) == 25
    assert sorted(np.concatenate([X_tr[:, 0], X_te[:, 0]]).tolist()) == list(range(100))
    np.testing.assert_array_equal(y_tr, X_tr[:, 0].astype(int) % 2)  # rows stay paired with labels


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    f=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_partitions_rows_and_keeps_proportions(counts, f, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.arange(len(y), dtype=float)[:, None]
    try:
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, f, gen(seed))
    except ValueError as exc:  # only when no class has two rows
        assert max(counts) == 1
        return
    assert sorted(np.concatenate([X_tr[:, 0], X_te[:, 0]]).tolist()) == list(range(len(y)))
    n_te = np.bincount(y_te, minlength=len(counts))
    for c, n_c in enumerate(counts):
        if n_c >= 2:
            assert n_te[c] >= 1 and n_te[c] <= n_c - 1
            assert abs(n_te[c] - n_c * f) < 1 + 1e-9 or n_te[c] in (1, n_c - 1)
        else:
            assert n_te[c] == 0


def test_split_is_seeded():
    X, y = np.arange(50.0)[:, None], np.arange(50) % 3
    a = train_test_split(X, y, 0.2, gen(1))
    b = train_test_split(X, y, 0.2, gen(1))
    c = train_test_split(X, y, 0.2, gen(2))
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


def test_stratification_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [600, 300, 100])
    X = np.arange(1000.0)[:, None]
    _, _, y_tr, y_te = train_test_split(X, y, 0.2, gen())
    assert np.bincount(y_te).tolist() == [120, 60, 20]
    assert np.bincount(y_tr).tolist() == [480, 240, 80]


def test_stratification_puts_every_class_with_two_rows_in_both_parts():
    y = np.array([0] * 40 + [1] * 2 + [2] * 3 + [3])
    X = np.arange(len(y), dtype=float)[:, None]
    _, _, y_tr, y_te = train_test_split(X, y, 0.1, gen())
    assert set(y_te) == {0, 1, 2}
    assert set(y_tr) == {0, 1, 2, 3}


def test_unstratified_and_regression_splits():
    X = np.arange(40.0)[:, None]
    _, X_te, _, y_te = train_test_split(X, X[:, 0] * 2, 0.3, gen())
    assert len(X_te) == 12 and y_te.dtype == np.float64
    _, X_te, _, _ = train_test_split(X, np.arange(40) % 2, 0.3, gen(), stratify=False)
    assert len(X_te) == 12


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, "0.2", True])
def test_test_fraction_must_be_in_open_unit_interval(bad):
    with pytest.raises(ValueError, match="test_fraction must be"):
        train_test_split(np.zeros((10, 1)), np.zeros(10, int), bad, gen())


def test_split_errors():
    with pytest.raises(ValueError, match="X has 5 rows but y has 4"):
        train_test_split(np.zeros((5, 1)), np.zeros(4), 0.2, gen())
    with pytest.raises(ValueError, match="at least 2 rows"):
        train_test_split(np.zeros((1, 1)), np.zeros(1), 0.2, gen())
    with pytest.raises(ValueError, match="every class has a single row"):
        train_test_split(np.zeros((2, 1)), np.array([0, 1]), 0.2, gen())


def test_standardizer_uses_training_statistics():
    X = gen().normal(3.0, 2.0, (200, 3))
    X_tr, X_te = X[:150], X[150:]
    s = Standardizer().fit(X_tr)
    Z_tr, Z_te = s.transform(X_tr), s.transform(X_te)
    np.testing.assert_allclose(Z_tr.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z_tr.std(axis=0), 1, rtol=1e-12)
    np.testing.assert_allclose(s.mean, X_tr.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(s.scale, X_tr.std(axis=0), rtol=1e-14)
    assert np.all(np.abs(Z_te.mean(axis=0)) > 1e-6)  # the test part is not centred on itself
    np.testing.assert_allclose(s.inverse_transform(Z_te), X_te, rtol=1e-12)


def test_standardizer_constant_column_is_left_unscaled():
    X = np.column_stack([np.full(10, 0.1), np.arange(10.0), np.zeros(10)])
    s = Standardizer().fit(X)
    assert s.scale[0] == 1.0 and s.scale[2] == 1.0
    Z = s.transform(X)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(Z[:, 0], 0, atol=1e-15)


def test_standardizer_preserves_dtype():
    X32 = gen().normal(size=(20, 2)).astype(np.float32)
    s = Standardizer().fit(X32)
    assert s.mean.dtype == np.float32 and s.scale.dtype == np.float32
    assert s.transform(X32).dtype == np.float32
    assert s.transform(X32.astype(np.float64)).dtype == np.float64
    assert s.inverse_transform(X32).dtype == np.float32


def test_standardizer_errors():
    with pytest.raises(ValueError, match="before fit"):
        Standardizer().transform(np.zeros((2, 2)))
    s = Standardizer().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="fitted on 2 columns"):
        s.transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"shape \(n, d\)"):
        s.transform(np.zeros(3))


@pytest.mark.parametrize(("n", "batch"), [(10, 3), (10, 5), (10, 10), (10, 64), (1, 1)])
def test_minibatches_cover_every_row_once(n, batch):
    X = np.arange(n, dtype=float)[:, None]
    y = np.arange(n)
    batches = list(iterate_minibatches(X, y, batch, gen()))
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(n))
    assert [len(yb) for _, yb in batches[:-1]] == [batch] * (len(batches) - 1)
    assert len(batches[-1][1]) >= 1 and len(batches[-1][1]) <= batch
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)


def test_minibatches_shuffle_with_rng_permutation():
    X, y = np.arange(20.0)[:, None], np.arange(20)
    order = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 6, gen(4))])
    np.testing.assert_array_equal(order, gen(4).permutation(20))


def test_minibatches_without_shuffle_are_ordered_views():
    X, y = np.arange(7.0)[:, None], np.arange(7)
    batches = list(iterate_minibatches(X, y, 3, None, shuffle=False))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert all(np.shares_memory(Xb, X) for Xb, _ in batches)


@pytest.mark.parametrize("bad", [0, -1, 2.0, None, True])
def test_minibatch_size_must_be_positive_int(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        iterate_minibatches(np.zeros((4, 1)), np.zeros(4), bad, gen())


def test_minibatch_errors():
    with pytest.raises(ValueError, match="needs rng"):
        iterate_minibatches(np.zeros((4, 1)), np.zeros(4), 2, None)
    with pytest.raises(ValueError, match="X has 4 rows but y has 3"):
        iterate_minibatches(np.zeros((4, 1)), np.zeros(3), 2, gen())


def test_min_batch_skips_a_small_remainder_only():
    X, y = np.arange(21, dtype=np.float64).reshape(7, 3), np.arange(7)
    sizes = [len(b) for _, b in iterate_minibatches(X, y, 3, np.random.default_rng(0), min_batch=2)]
    assert sizes == [3, 3]  # the lone seventh row sits out
    sizes = [len(b) for _, b in iterate_minibatches(X, y, 5, np.random.default_rng(0), min_batch=2)]
    assert sizes == [5, 2]
    with pytest.raises(ValueError, match="min_batch must be a positive integer"):
        iterate_minibatches(X, y, 3, np.random.default_rng(0), min_batch=0)
