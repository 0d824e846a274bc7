"""Every checkable claim of the seed text (../shared/seed), as an assertion on the engine."""

import math

import numpy as np
import pytest

import deltaflow as df

F64 = np.float64


# ----------------------------------------------------------------- §3 sigmoid

def test_sigmoid_derivative_peaks_at_a_quarter_at_zero():
    s = df.Sigmoid()
    assert s.derivative(np.zeros((1, 1)))[0, 0] == 0.25
    z = np.linspace(-10, 10, 20001)
    z = z[z != 0].reshape(1, -1)
    d = s.derivative(z)
    assert np.all(d < 0.25)
    # σ'(z) = σ(z)(1 − σ(z))
    a = s.forward(z)
    np.testing.assert_allclose(d, a * (1 - a), rtol=1e-14)


def test_sigmoid_derivative_collapses_beyond_three():
    s = df.Sigmoid()
    assert s.derivative(np.array([[3.0]]))[0, 0] < 0.05
    z = np.linspace(3, 30, 500).reshape(1, -1)
    assert np.all(s.derivative(z) < 0.05) and np.all(s.derivative(-z) < 0.05)
    # and it keeps falling with |z|
    assert np.all(np.diff(s.derivative(z)[0]) < 0)
    assert s.derivative(np.array([[10.0]]))[0, 0] < 1e-4


def test_sigmoid_and_tanh_ranges_and_tanh_zero_centred():
    z = np.linspace(-30, 30, 601).reshape(1, -1)
    a = df.Sigmoid().forward(z)
    assert np.all((a >= 0) & (a <= 1)) and np.all(a[:, 250:351] > 0) and np.all(a[:, 250:351] < 1)
    t = df.Tanh().forward(z)
    assert np.all(np.abs(t) <= 1) and np.all(np.abs(t[:, 250:351]) < 1)
    np.testing.assert_array_equal(df.Tanh().forward(-z), -t)
    # tanh is a rescaled sigmoid: tanh(z) = 2σ(2z) − 1
    np.testing.assert_allclose(t, 2 * df.Sigmoid().forward(2 * z) - 1, atol=1e-15)


def test_relu_gradient_is_one_or_zero():
    z = np.array([[-3.0, -1e-8, 1e-8, 2.0]])
    np.testing.assert_array_equal(df.ReLU().derivative(z), [[0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(df.ReLU().forward(z), np.maximum(0, z))


# ----------------------------------------------------------------- §2 softmax, linear stacks

def test_softmax_outputs_positive_and_sum_to_one():
    rng = np.random.default_rng(0)
    for scale in (1.0, 10.0, 300.0):
        p = df.softmax(rng.standard_normal((50, 7)) * scale)
        assert np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert np.all(df.softmax(rng.standard_normal((10, 4)) * 5) > 0)


def test_stacked_linear_layers_equal_one_linear_layer():
    rng = np.random.default_rng(1)
    W1, b1 = rng.standard_normal((5, 3)), rng.standard_normal(5)
    W2, b2 = rng.standard_normal((2, 5)), rng.standard_normal(2)
    x = rng.standard_normal(3)
    np.testing.assert_allclose(W2 @ (W1 @ x + b1) + b2, (W2 @ W1) @ x + (W2 @ b1 + b2), rtol=1e-13)

    net = df.mlp([3, 5, 2], activation="identity", dtype=F64, rng=2)
    net[0].b.value[...] = rng.standard_normal(5)
    one = df.collapse_linear(net)
    np.testing.assert_allclose(one.W.value, net[2].W.value @ net[0].W.value, rtol=1e-14)
    np.testing.assert_allclose(one.b.value, net[2].W.value @ net[0].b.value + net[2].b.value, rtol=1e-14)
    X = rng.standard_normal((8, 3))
    np.testing.assert_allclose(one.forward(X), net.forward(X), rtol=1e-13, atol=1e-14)


def test_a_hundred_layer_linear_network_is_one_linear_layer():
    rng = np.random.default_rng(3)
    net = df.mlp([4] * 101, activation="identity", init="torch", dtype=F64, rng=rng)
    assert sum(isinstance(layer, df.Dense) for layer in net.layers) == 100
    one = df.collapse_linear(net)
    X = rng.standard_normal((6, 4))
    out = net.forward(X)
    np.testing.assert_allclose(one.forward(X), out, rtol=1e-10, atol=1e-12 * np.abs(out).max())


def test_a_non_linear_activation_breaks_the_collapse():
    rng = np.random.default_rng(4)
    net = df.mlp([2, 6, 1], activation="tanh", dtype=F64, rng=5)
    with pytest.raises(ValueError, match="not linear"):
        df.collapse_linear(net)
    x1, x2 = rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    f0 = net.forward(np.zeros((1, 2)))
    assert abs((net.forward(x1 + x2) - net.forward(x1) - net.forward(x2) + f0)[0, 0]) > 1e-6


# ----------------------------------------------------------------- §4 losses

def test_cross_entropy_reduces_to_minus_log_p_correct():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((1, 6))
    c = 4
    y = np.eye(6)[[c]]
    p = df.softmax(z)
    full = -np.sum(y * np.log(p))
    assert full == pytest.approx(-math.log(p[0, c]), rel=1e-14)
    assert df.SoftmaxCrossEntropy().forward(z, np.array([c])) == pytest.approx(-math.log(p[0, c]), rel=1e-13)
    assert df.SoftmaxCrossEntropy().forward(z, y) == pytest.approx(-math.log(p[0, c]), rel=1e-13)


def test_cross_entropy_zero_when_confident_and_unbounded_when_wrong():
    loss = df.SoftmaxCrossEntropy()
    assert loss.forward(np.array([[50.0, 0.0, 0.0]]), np.array([0])) < 1e-20
    values = [loss.forward(np.array([[0.0, gap]]), np.array([0])) for gap in (1.0, 10.0, 100.0, 1000.0)]
    assert np.all(np.diff(values) > 0) and values[-1] == pytest.approx(1000.0)


def test_softmax_cross_entropy_gradient_is_p_minus_y():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((1, 4))
    loss = df.SoftmaxCrossEntropy()
    loss.forward(z, np.array([2]))
    np.testing.assert_allclose(loss.backward(), df.softmax(z) - np.eye(4)[[2]], rtol=1e-14, atol=1e-16)
    # for a batch mean: (ŷ − y) / B
    Z = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 1, 1, 2])
    loss.forward(Z, labels)
    np.testing.assert_allclose(loss.backward(), (df.softmax(Z) - np.eye(4)[labels]) / 5, rtol=1e-14, atol=1e-16)


def test_two_class_cross_entropy_is_binary_cross_entropy():
    rng = np.random.default_rng(7)
    z = rng.standard_normal((6, 1)) * 3
    y = rng.integers(0, 2, 6)
    two_logits = np.hstack([np.zeros_like(z), z])  # softmax([0, z])₁ = σ(z)
    ce = df.SoftmaxCrossEntropy().forward(two_logits, y)
    s = df.sigmoid(z)[:, 0]
    formula = -np.mean(y * np.log(s) + (1 - y) * np.log(1 - s))
    assert ce == pytest.approx(formula, rel=1e-12)
    assert df.BinaryCrossEntropy().forward(z, y[:, None].astype(F64)) == pytest.approx(formula, rel=1e-12)


def test_mse_formula():
    y, yhat = np.array([[1.0], [2.0], [4.0]]), np.array([[1.5], [1.0], [4.0]])
    assert df.MeanSquaredError().forward(yhat, y) == pytest.approx((0.25 + 1.0 + 0.0) / 3, rel=1e-15)


# ----------------------------------------------------------------- §5 backpropagation

def test_delta_recursion_by_hand_for_one_example():
    rng = np.random.default_rng(8)
    net = df.mlp([3, 4, 5, 2], activation="sigmoid", init="torch", dtype=F64, rng=rng)
    x = rng.standard_normal((1, 3))
    label = 1
    loss = df.SoftmaxCrossEntropy()
    loss.forward(net.forward(x), np.array([label]))
    net.backward(loss.backward())

    dense = [net[0], net[2], net[4]]
    a, zs, acts = x[0], [], [x[0]]
    for l, d in enumerate(dense):
        z = d.W.value @ a + d.b.value
        zs.append(z)
        a = 1 / (1 + np.exp(-z)) if l < 2 else z
        acts.append(a)
    delta = df.softmax(zs[2][None])[0] - np.eye(2)[label]  # output: ŷ − y
    deltas = [None, None, delta]
    for l in (1, 0):
        s = 1 / (1 + np.exp(-zs[l]))
        deltas[l] = dense[l + 1].W.value.T @ deltas[l + 1] * (s * (1 - s))
    for l, d in enumerate(dense):
        np.testing.assert_allclose(d.W.grad, np.outer(deltas[l], acts[l]), rtol=1e-12, atol=1e-16)
        np.testing.assert_allclose(d.b.grad, deltas[l], rtol=1e-12, atol=1e-16)


def test_minibatch_gradient_is_the_mean_of_example_gradients():
    rng = np.random.default_rng(9)
    net = df.mlp([3, 6, 3], activation="tanh", init="torch", dtype=F64, rng=rng)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    loss = df.SoftmaxCrossEntropy()

    def grads(Xb, yb):
        loss.forward(net.forward(Xb), yb)
        net.backward(loss.backward())
        return [p.grad.copy() for p in net.parameters()]

    batch = grads(X, y)
    per_example = [grads(X[i : i + 1], y[i : i + 1]) for i in range(5)]
    for j, g in enumerate(batch):
        np.testing.assert_allclose(g, sum(e[j] for e in per_example) / 5, rtol=1e-12, atol=1e-16)


# ----------------------------------------------------------------- §7 vanishing gradients, clipping

def test_product_of_twenty_sigmoid_derivatives():
    rng = np.random.default_rng(10)
    s = df.Sigmoid()
    z = rng.standard_normal((1000, 20)) * 2
    products = np.prod(s.derivative(z), axis=1)
    assert np.all(products <= 0.25**20)
    assert 0.25**20 < 1e-12 and 0.2**20 == pytest.approx(1.048576e-14)


def test_gradient_through_twenty_sigmoid_layers_is_the_product_of_derivatives():
    # a chain of one-unit layers with w = 1, b = 0: d a^(20) / dx = Π σ'(z^(l))
    layers = []
    for _ in range(20):
        d = df.Dense(1, 1, init="zeros", dtype=F64)
        d.W.value[...] = 1.0
        layers += [d, df.Sigmoid()]
    net = df.Sequential(layers)
    x = np.array([[0.3]])
    net.forward(x)
    dx = net.backward(np.ones((1, 1)))[0, 0]
    z, product = 0.3, 1.0
    for _ in range(20):
        a = 1 / (1 + math.exp(-z))
        product *= a * (1 - a)
        z = a
    assert dx == pytest.approx(product, rel=1e-12)
    assert 0 < dx <= 0.25**20


def test_early_layers_of_a_deep_sigmoid_network_receive_vanishing_gradients():
    rng = np.random.default_rng(11)
    net = df.mlp([4] + [8] * 20 + [2], activation="sigmoid", dtype=F64, rng=rng)
    loss = df.SoftmaxCrossEntropy()
    loss.forward(net.forward(rng.standard_normal((16, 4))), rng.integers(0, 2, 16))
    net.backward(loss.backward())
    dense = [layer for layer in net.layers if isinstance(layer, df.Dense)]
    first, last_hidden = np.linalg.norm(dense[0].W.grad), np.linalg.norm(dense[-2].W.grad)
    assert first < 1e-4 * last_hidden


def test_gradient_clipping_rescales_to_the_threshold():
    p = df.Param(np.zeros(3), "W")
    p.grad[...] = [30.0, 40.0, 0.0]
    assert df.clip_grad_norm([p], max_norm=5.0) == 50.0
    np.testing.assert_allclose(p.grad, 5.0 * np.array([30.0, 40.0, 0.0]) / 50.0, rtol=1e-7)


# ----------------------------------------------------------------- §8 normalisation

def test_batchnorm_output_has_zero_mean_and_unit_variance_per_feature():
    rng = np.random.default_rng(12)
    z = rng.standard_normal((64, 5)) * [0.5, 1.0, 3.0, 10.0, 100.0] + [-4.0, 0.0, 2.0, 50.0, 1e3]
    bn = df.BatchNorm(5, dtype=F64)
    out = bn.forward(z, training=True)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-13)
    var = z.var(axis=0)
    np.testing.assert_allclose(out.var(axis=0), var / (var + 1e-5), rtol=1e-12)  # ε keeps it just under 1
    np.testing.assert_allclose(out.var(axis=0), 1.0, rtol=1e-4)


def test_batchnorm_gamma_and_beta_can_undo_the_normalisation():
    rng = np.random.default_rng(13)
    z = rng.standard_normal((32, 3)) * 2 + 5
    bn = df.BatchNorm(3, dtype=F64)
    bn.gamma.value[...] = np.sqrt(z.var(axis=0) + bn.eps)
    bn.beta.value[...] = z.mean(axis=0)
    np.testing.assert_allclose(bn.forward(z), z, rtol=1e-12)


def test_layernorm_normalises_across_features():
    rng = np.random.default_rng(14)
    z = rng.standard_normal((4, 256)) * 7 + 3
    out = df.LayerNorm(256, dtype=F64).forward(z)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-13)
    np.testing.assert_allclose(out.var(axis=1), 1.0, rtol=1e-6)


# ----------------------------------------------------------------- §1 perceptron

def test_perceptron_learns_and_or_but_not_xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    for y in ([0, 0, 0, 1], [0, 1, 1, 1]):
        p = df.Perceptron(2)
        assert p.fit(X, np.array(y), epochs=50).converged
        np.testing.assert_array_equal(p.predict(X), y)
    result = df.Perceptron(2).fit(X, np.array([0, 1, 1, 0]), epochs=1000)
    assert not result.converged and min(result.mistakes) > 0
