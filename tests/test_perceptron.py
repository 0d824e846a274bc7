"""Rosenblatt's perceptron: the rule, convergence on separable data, and XOR's failure."""

import numpy as np
import pytest

import deltaflow as df

X2 = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
AND, OR, XOR = np.array([0, 0, 0, 1]), np.array([0, 1, 1, 1]), np.array([0, 1, 1, 0])


@pytest.mark.parametrize("y", [AND, OR], ids=["AND", "OR"])
@pytest.mark.parametrize("lr", [1.0, 0.1])
def test_converges_on_and_or(y, lr):
    p = df.Perceptron(2, lr=lr)
    result = p.fit(X2, y, epochs=100)
    assert result.converged and result.mistakes[-1] == 0
    assert all(m > 0 for m in result.mistakes[:-1])
    np.testing.assert_array_equal(p.predict(X2), y)


def test_never_converges_on_xor():
    p = df.Perceptron(2)
    result = p.fit(X2, XOR, epochs=500)
    assert not result.converged
    assert len(result.mistakes) == 500 and min(result.mistakes) >= 1
    assert np.sum(p.predict(X2) != XOR) >= 1
    shuffled = df.Perceptron(2).fit(X2, XOR, epochs=200, shuffle=True, rng=0)
    assert not shuffled.converged and min(shuffled.mistakes) >= 1


def test_one_update_by_hand():
    # w ← w + η(y − ŷ)x, b ← b + η(y − ŷ); from zero, the first positive example is a mistake
    p = df.Perceptron(3, lr=0.5)
    X = np.array([[1.0, -2.0, 3.0]])
    result = p.fit(X, np.array([1]), epochs=1)
    np.testing.assert_allclose(p.w, [0.5, -1.0, 1.5])
    assert p.b == 0.5 and result.mistakes == [1] and not result.converged
    # a misclassified negative moves the weights the other way
    p2 = df.Perceptron(1, lr=1.0)
    p2.w[...] = [1.0]
    p2.fit(np.array([[2.0]]), np.array([0]), epochs=1)
    np.testing.assert_allclose(p2.w, [-1.0])
    assert p2.b == -1.0


def test_predict_is_a_strict_threshold():
    p = df.Perceptron(2)
    p.w[...] = [1.0, -1.0]
    p.b = 0.0
    out = p.predict(np.array([[1.0, 1.0], [2.0, 1.0], [1.0, 2.0]]))
    np.testing.assert_array_equal(out, [0, 1, 0])
    assert out.dtype == np.int64


def test_convergence_theorem_bound_on_separable_data():
    # Novikoff: updates ≤ (R/γ)², R = max‖(x, 1)‖, γ the margin of a unit separator (w*, b*)
    rng = np.random.default_rng(0)
    w_star, b_star = np.array([1.0, -2.0, 0.5]), 0.3
    X = rng.uniform(-1, 1, (400, 3))
    score = X @ w_star + b_star
    keep = np.abs(score) > 0.2
    X, score = X[keep], score[keep]
    y = (score > 0).astype(int)
    unit = np.linalg.norm(np.append(w_star, b_star))
    gamma = np.min(np.abs(score)) / unit
    R = np.max(np.linalg.norm(np.hstack([X, np.ones((len(X), 1))]), axis=1))
    p = df.Perceptron(3)
    result = p.fit(X, y, epochs=10_000)
    assert result.converged
    assert sum(result.mistakes) <= (R / gamma) ** 2
    np.testing.assert_array_equal(p.predict(X), y)


def test_shuffle_is_seeded():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    a, b = df.Perceptron(2), df.Perceptron(2)
    ra = a.fit(X, y, shuffle=True, rng=3)
    rb = b.fit(X, y, shuffle=True, rng=3)
    assert ra == rb
    np.testing.assert_array_equal(a.w, b.w)


def test_dtype_and_bad_inputs():
    p = df.Perceptron(2, dtype=np.float32)
    assert p.w.dtype == np.float32
    with pytest.raises(ValueError, match="float32"):
        p.predict(X2)
    q = df.Perceptron(2)
    with pytest.raises(ValueError, match=r"Perceptron: expected input of shape \(batch, 2\)"):
        q.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN or Inf"):
        q.fit(np.array([[0.0, np.nan]]), [1])
    with pytest.raises(ValueError, match="must be 0 or 1"):
        q.fit(X2, np.array([0, 1, 2, 1]))
    with pytest.raises(ValueError, match="must be 0 or 1"):
        q.fit(X2, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="lr must be positive"):
        df.Perceptron(2, lr=0.0)
    with pytest.raises(ValueError, match="positive integer"):
        df.Perceptron(0)
    with pytest.raises(ValueError, match="epochs"):
        q.fit(X2, AND, epochs=0)
