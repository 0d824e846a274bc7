"""Every bad input raises ValueError with a message naming the culprit and what was expected."""

import numpy as np
import pytest

import deltaflow as df
from deltaflow.nn import init as initializers
from deltaflow.nn.activations import get_activation
from deltaflow.nn.losses import get_loss

F32, F64 = np.float32, np.float64


def _x(shape, dtype=F32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------- shapes and ranks

SHAPED_LAYERS = [
    (lambda: df.Dense(3, 2), r"Dense\(3→2\)"),
    (lambda: df.BatchNorm(3), r"BatchNorm\(3\)"),
    (lambda: df.LayerNorm(3), r"LayerNorm\(3\)"),
    (lambda: df.Residual(df.Sequential([df.Dense(3, 3), df.Tanh()])), r"Residual\("),
    (lambda: df.mlp([3, 4, 2], rng=0), r"network input"),
]


@pytest.mark.parametrize("make, who", SHAPED_LAYERS)
def test_wrong_input_width(make, who):
    with pytest.raises(ValueError, match=who + r".*expected input of shape \(batch, 3\), got shape \(4, 5\)"):
        make().forward(_x((4, 5)))


@pytest.mark.parametrize("make, who", SHAPED_LAYERS)
@pytest.mark.parametrize("shape", [(3,), (2, 3, 1), ()])
def test_wrong_rank(make, who, shape):
    with pytest.raises(ValueError, match=who + r".*expected input of shape \(batch, 3\)"):
        make().forward(_x(shape))


@pytest.mark.parametrize("make, who", SHAPED_LAYERS)
def test_not_an_array(make, who):
    with pytest.raises(ValueError, match=who + r".*expected a numpy array.*got list"):
        make().forward([[0.0, 1.0, 2.0]])


@pytest.mark.parametrize("make", [df.Sigmoid, df.ReLU, df.Identity, lambda: df.Dropout(0.5)])
def test_shape_free_layers_still_need_a_batch(make):
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, n\)"):
        make().forward(np.zeros(3))


def test_dense_backward_wrong_width():
    d = df.Dense(3, 2)
    d.forward(_x((4, 3)))
    with pytest.raises(ValueError, match=r"Dense\(3→2\) backward: expected input of shape \(batch, 2\)"):
        d.backward(_x((4, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_network_input(bad):
    X = _x((4, 3))
    X[2, 1] = bad
    with pytest.raises(ValueError, match=r"network input: input contains NaN or Inf \(first at row 2, column 1\)"):
        df.mlp([3, 2], rng=0).forward(X)


# ----------------------------------------------------------------- dtypes


@pytest.mark.parametrize("make", [lambda: df.Dense(3, 2), lambda: df.BatchNorm(3), lambda: df.LayerNorm(3),
                                  lambda: df.mlp([3, 2], rng=0)])
@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.float64])
def test_wrong_input_dtype(make, dtype):
    with pytest.raises(ValueError, match=r"expected float32 input, got " + np.dtype(dtype).name):
        make().forward(np.ones((2, 3), dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float16, np.int32, "complex128", "nonsense", object])
def test_bad_dtype_argument(dtype):
    for make in (lambda: df.Dense(2, 2, dtype=dtype), lambda: df.BatchNorm(2, dtype=dtype),
                 lambda: df.LayerNorm(2, dtype=dtype), lambda: df.mlp([2, 2], dtype=dtype)):
        with pytest.raises(ValueError, match="dtype must be float32 or float64"):
            make()


def test_dtype_none_means_the_default_float32():
    # as PyTorch's dtype=None (the default dtype), not NumPy's np.dtype(None) = float64
    assert df.Dense(2, 2, dtype=None).W.value.dtype == np.float32
    assert df.mlp([2, 2], dtype=None).dtype == np.float32


def test_dropout_rejects_non_float_input():
    with pytest.raises(ValueError, match="Dropout"):
        df.Dropout(0.5, rng=0).forward(np.ones((2, 3), dtype=np.int64))


@pytest.mark.parametrize("loss", [df.SoftmaxCrossEntropy(), df.BinaryCrossEntropy(), df.MeanSquaredError()])
def test_loss_prediction_dtype(loss):
    target = np.array([0, 1]) if isinstance(loss, df.SoftmaxCrossEntropy) else np.zeros((2, 2), np.int64)
    with pytest.raises(ValueError, match="predictions must be float32 or float64"):
        loss.forward(np.zeros((2, 2), dtype=np.int64), target)


@pytest.mark.parametrize("loss", [df.SoftmaxCrossEntropy(), df.BinaryCrossEntropy(), df.MeanSquaredError()])
def test_loss_rejects_float16_predictions(loss):
    target = np.array([0, 1]) if isinstance(loss, df.SoftmaxCrossEntropy) else np.zeros((2, 2), np.float16)
    with pytest.raises(ValueError, match="float32 or float64"):
        loss.forward(np.zeros((2, 2), dtype=np.float16), target)


# ----------------------------------------------------------------- loss targets


def test_labels_out_of_range():
    z = _x((3, 4), F64)
    with pytest.raises(ValueError, match=r"label 4 out of range \[0, 4\)"):
        df.SoftmaxCrossEntropy().forward(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"label -1 out of range \[0, 4\)"):
        df.SoftmaxCrossEntropy().forward(z, np.array([0, -1, 1]))


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 2.0]), np.array([True, False, True])])
def test_non_integer_labels(labels):
    with pytest.raises(ValueError, match="class labels must be integers"):
        df.SoftmaxCrossEntropy().forward(_x((3, 4), F64), labels)


def test_target_shape_mismatch():
    z = _x((3, 4), F64)
    with pytest.raises(ValueError, match="2 labels for a batch of 3"):
        df.SoftmaxCrossEntropy().forward(z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"target shape \(3, 3\) does not match prediction shape \(3, 4\)"):
        df.SoftmaxCrossEntropy().forward(z, np.eye(3))
    with pytest.raises(ValueError, match=r"target shape \(3, 1\) does not match prediction shape \(3, 4\)"):
        df.SoftmaxCrossEntropy().forward(z, np.array([[0], [1], [2]]))
    for loss in (df.BinaryCrossEntropy(), df.MeanSquaredError()):
        with pytest.raises(ValueError, match=r"target shape \(3,\) does not match prediction shape \(3, 1\)"):
            loss.forward(_x((3, 1), F64), np.zeros(3))  # no silent broadcasting to (3, 3)
        with pytest.raises(ValueError, match=r"target shape \(4, 4\) does not match prediction shape \(3, 4\)"):
            loss.forward(z, np.zeros((4, 4)))


@pytest.mark.parametrize("loss", [df.SoftmaxCrossEntropy(), df.BinaryCrossEntropy(), df.MeanSquaredError()])
def test_prediction_rank(loss):
    with pytest.raises(ValueError, match=r"predictions must have shape \(batch, outputs\), got \(3,\)"):
        loss.forward(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"predictions must have shape \(batch, outputs\), got list"):
        loss.forward([[0.0]], np.zeros((1, 1)))


@pytest.mark.parametrize("loss", [df.SoftmaxCrossEntropy(), df.BinaryCrossEntropy(), df.MeanSquaredError()])
def test_non_finite_targets(loss):
    y = np.full((2, 2), 0.5)
    y[1, 0] = np.nan
    with pytest.raises(ValueError, match="target: input contains NaN or Inf"):
        loss.forward(np.zeros((2, 2)), y)


def test_target_value_ranges():
    with pytest.raises(ValueError, match="non-negative"):
        df.SoftmaxCrossEntropy().forward(np.zeros((1, 2)), np.array([[1.5, -0.5]]))
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        df.BinaryCrossEntropy().forward(np.zeros((1, 2)), np.array([[1.5, 0.0]]))
    with pytest.raises(ValueError, match=r"predictions must lie in \[0, 1\]"):
        df.BinaryCrossEntropy(from_logits=False).forward(np.array([[1.5, 0.5]]), np.array([[1.0, 0.0]]))


# ----------------------------------------------------------------- backward before forward

LAYERS = {
    "Dense": lambda: df.Dense(3, 3),
    "Dropout": lambda: df.Dropout(0.5),
    "Sigmoid": df.Sigmoid, "Tanh": df.Tanh, "ReLU": df.ReLU, "LeakyReLU": df.LeakyReLU,
    "ELU": df.ELU, "GELU": df.GELU, "Identity": df.Identity,
    "BatchNorm": lambda: df.BatchNorm(3), "LayerNorm": lambda: df.LayerNorm(3),
    "Residual": lambda: df.Residual(df.Sequential([df.Dense(3, 3), df.Tanh()])),
    "Sequential": lambda: df.mlp([3, 3, 3], norm="batch", rng=0),
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_backward_before_forward_every_layer(name):
    with pytest.raises(ValueError, match=r"backward\(\) called before forward\(\)"):
        LAYERS[name]().backward(np.ones((2, 3), dtype=F32))


@pytest.mark.parametrize("make", [df.SoftmaxCrossEntropy, df.BinaryCrossEntropy, df.MeanSquaredError])
def test_backward_before_forward_every_loss(make):
    loss = make()
    with pytest.raises(ValueError, match=type(loss).__name__ + r".*backward\(\) called before forward\(\)"):
        loss.backward()


def test_step_backward():
    step = df.Step()
    step.forward(np.ones((1, 2)))
    with pytest.raises(ValueError, match="Step has no useful gradient"):
        step.backward(np.ones((1, 2)))
    net = df.Sequential([df.Dense(2, 1), df.Step()])
    net.forward(np.ones((1, 2), F32))
    with pytest.raises(ValueError, match="Step"):
        net.backward(np.ones((1, 1), F32))


# ----------------------------------------------------------------- names and sizes


def test_unknown_names():
    with pytest.raises(ValueError, match=r"unknown activation 'relu6'.*sigmoid"):
        get_activation("relu6")
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        df.mlp([2, 3, 1], activation="softplus")
    with pytest.raises(ValueError, match="unknown activation"):
        df.mlp([2, 3, 1], output="softmax")
    with pytest.raises(ValueError, match=r"unknown initialiser 'kaiming'.*xavier_uniform"):
        df.Dense(2, 2, init="kaiming")
    with pytest.raises(ValueError, match="unknown initialiser"):
        df.mlp([2, 3, 1], init="glorot")
    with pytest.raises(ValueError, match=r"unknown initialiser"):
        initializers.get("he")
    with pytest.raises(ValueError, match=r"unknown loss 'nll'.*cross_entropy"):
        get_loss("nll")


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3", None])
def test_non_positive_or_non_integer_sizes(bad):
    for make, what in [
        (lambda: df.Dense(bad, 2), "Dense n_in"),
        (lambda: df.Dense(2, bad), "Dense n_out"),
        (lambda: df.BatchNorm(bad), "BatchNorm n"),
        (lambda: df.LayerNorm(bad), "LayerNorm n"),
        (lambda: df.mlp([2, bad, 1]), "mlp size 1"),
        (lambda: df.Perceptron(bad), "Perceptron n_in"),
    ]:
        with pytest.raises(ValueError, match=what + " must be a positive integer"):
            make()


def test_numpy_integer_sizes_are_fine():
    assert df.Dense(np.int64(3), np.int32(2)).W.value.shape == (2, 3)


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), float("inf")])
def test_bad_dropout_p(p):
    with pytest.raises(ValueError, match=r"Dropout p must be in \[0, 1\]"):
        df.Dropout(p)
    with pytest.raises(ValueError, match=r"Dropout p must be in \[0, 1\]"):
        df.mlp([2, 3, 1], dropout=p)


def test_batchnorm_training_batch_of_one():
    with pytest.raises(ValueError, match=r"BatchNorm\(3\): training needs a batch of at least 2 examples, got 1"):
        df.BatchNorm(3).forward(_x((1, 3)))
    net = df.mlp([3, 3, 2], norm="batch", rng=0)
    with pytest.raises(ValueError, match="at least 2 examples"):
        net.forward(_x((1, 3)))
    assert net.eval().forward(_x((1, 3))).shape == (1, 2)


def test_bad_rng():
    with pytest.raises(ValueError, match="rng must be a numpy Generator, an int seed or None, got str"):
        df.Dense(2, 2, rng="seed")
    with pytest.raises(ValueError, match="rng must be"):
        df.Dropout(0.5, rng=np.random.RandomState(0))


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="momentum"):
        df.BatchNorm(3, momentum=float("nan"))
    with pytest.raises(ValueError, match="eps"):
        df.LayerNorm(3, eps=-1e-5)
    with pytest.raises(ValueError, match="mlp norm"):
        df.mlp([2, 3, 1], norm="instance")
