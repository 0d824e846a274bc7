"""gradcheck itself: it passes correct gradients, catches wrong ones, and leaves no trace."""

import numpy as np
import pytest

import deltaflow as df

F64 = np.float64


class _ForgetsBiasGrad(df.Dense):
    def backward(self, dy, input_grad=True):
        dx = super().backward(dy, input_grad)
        self.b.grad[...] = 0.0
        return dx


class _WrongInputGrad(df.Dense):
    def backward(self, dy, input_grad=True):
        return 2.0 * super().backward(dy, input_grad)


class _SigmoidWithTanhDerivative(df.Sigmoid):
    def derivative(self, z):
        return 1.0 - np.tanh(z) ** 2

    def _local_grad(self):
        return self.derivative(self._z)


def _net(rng, first=df.Dense, act=df.Tanh):
    return df.Sequential([first(3, 4, init="torch", dtype=F64, rng=rng), act(), df.Dense(4, 2, init="torch", dtype=F64, rng=rng)])


def test_correct_network_passes_with_tight_error():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    worst, errors = df.gradcheck(_net(rng), df.SoftmaxCrossEntropy(), X, y, return_errors=True)
    assert worst < 1e-8
    assert set(errors) == {"0.W", "0.b", "2.W", "2.b", "input"}
    assert worst == max(errors.values())


@pytest.mark.parametrize(
    "first, act, culprit",
    [(_ForgetsBiasGrad, df.Tanh, "0.b"), (_WrongInputGrad, df.Tanh, "input"), (df.Dense, _SigmoidWithTanhDerivative, "0.W")],
)
def test_wrong_gradients_are_caught(first, act, culprit):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    worst, errors = df.gradcheck(_net(rng, first, act), df.SoftmaxCrossEntropy(), X, y, return_errors=True)
    assert worst > 1e-2
    assert errors[culprit] > 1e-2


def test_matches_a_hand_computed_gradient():
    # L = mean((w·x + b − y)²) over one example and one output: dL/dw = 2(w·x + b − y)·x
    d = df.Dense(2, 1, init="zeros", dtype=F64)
    d.W.value[...] = [[0.5, -1.0]]
    d.b.value[...] = [0.25]
    X, y = np.array([[2.0, 3.0]]), np.array([[1.0]])
    loss = df.MeanSquaredError()
    loss.forward(d.forward(X), y)
    d.backward(loss.backward())
    r = 0.5 * 2 - 3 + 0.25 - 1.0
    np.testing.assert_allclose(d.W.grad, [[2 * r * 2, 2 * r * 3]], rtol=1e-15)
    np.testing.assert_allclose(d.b.grad, [2 * r], rtol=1e-15)
    assert df.gradcheck(d, loss, X, y) < 1e-8


def test_leaves_parameters_input_and_buffers_unchanged():
    rng = np.random.default_rng(2)
    net = df.mlp([3, 4, 2], norm="batch", init="torch", dtype=F64, rng=rng)
    X = rng.standard_normal((6, 3))
    X0 = X.copy()
    before = net.state_dict()
    df.gradcheck(net, df.SoftmaxCrossEntropy(), X, rng.integers(0, 2, 6))
    np.testing.assert_array_equal(X, X0)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_bare_batchnorm_buffers_are_restored():
    # the docstring promises restored running statistics, for a bare layer too
    rng = np.random.default_rng(3)
    bn = df.BatchNorm(3, dtype=F64)
    df.gradcheck(bn, df.MeanSquaredError(), rng.standard_normal((5, 3)), rng.standard_normal((5, 3)))
    np.testing.assert_array_equal(bn.running_mean, np.zeros(3))
    np.testing.assert_array_equal(bn.running_var, np.ones(3))


def test_dropout_masks_replayed_inside_a_bare_residual():
    rng = np.random.default_rng(4)
    block = df.Sequential([df.Dense(4, 4, init="torch", dtype=F64, rng=rng), df.Tanh(), df.Dropout(0.5, rng=5)])
    res = df.Residual(block, pre_norm=False)
    X = rng.standard_normal((5, 4))
    assert df.gradcheck(res, df.MeanSquaredError(), X, rng.standard_normal((5, 4))) < 1e-6
    # and inside a Sequential, which walks nested layers
    assert df.gradcheck(df.Sequential([res]), df.MeanSquaredError(), X, rng.standard_normal((5, 4))) < 1e-6


def test_requires_float64():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError, match="float64"):
        df.gradcheck(df.mlp([3, 2], dtype=np.float32, rng=0), df.MeanSquaredError(),
                     rng.standard_normal((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="float64"):
        df.gradcheck(df.mlp([3, 2], dtype=F64, rng=0), df.MeanSquaredError(),
                     rng.standard_normal((2, 3)).astype(np.float32), np.zeros((2, 2)))


def test_zero_gradients_give_zero_error():
    # a ReLU layer that is dead for every input: both gradients are exactly 0
    d = df.Dense(2, 2, init="zeros", dtype=F64)
    d.b.value[...] = -5.0
    net = df.Sequential([d, df.ReLU()])
    worst, errors = df.gradcheck(net, df.MeanSquaredError(), np.ones((3, 2)) * 0.1, np.ones((3, 2)), return_errors=True)
    assert errors["0.W"] == 0.0 and errors["0.b"] == 0.0 and worst == 0.0
