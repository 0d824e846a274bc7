"""The issue's quality bar, with fixed seeds: spiral, digits, iris and XOR.

Each run's test accuracy is measured again here from the trained network's predictions,
not only read from the history."""

from pathlib import Path

import numpy as np

from deltaflow import metrics
from deltaflow.training.config import RunConfig, load_config
from deltaflow.data import Dataset
from deltaflow.training.trainer import fit

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def test_accuracy(result) -> float:
    d = result.dataset
    predicted = result.task.proba(result.net.forward(d.X_test, False)).argmax(axis=1)
    accuracy = metrics.accuracy(d.y_test, predicted)
    assert accuracy == result.final("test_accuracy")
    return accuracy


test_accuracy.__test__ = False  # a helper, not a test


def test_spiral_two_hidden_layers_of_8_tanh():
    config = load_config(CONFIGS / "spiral.json")  # Adam 0.03, cosine, batch 32, 500 epochs, seed 0
    assert (config.data.name, config.data.noise) == ("spiral", 0.1)
    assert (config.model.hidden, config.model.activation) == ([8, 8], "tanh")
    result = fit(config)
    assert result.dataset.n_classes == 2 and result.stop_reason == "completed"
    assert test_accuracy(result) >= 0.97


def test_digits_one_hidden_layer_of_128():
    config = RunConfig.from_dict({
        "data": {"name": "digits"},
        "model": {"hidden": [128], "activation": "relu"},
        "optimizer": {"name": "adam", "lr": 1e-3},
        "batch_size": 32,
        "epochs": 30,
        "seed": 0,
    })
    result = fit(config)
    assert result.dataset.n_classes == 10
    assert test_accuracy(result) >= 0.97


def test_iris():
    config = RunConfig.from_dict({
        "data": {"name": "iris"},
        "model": {"hidden": [16], "activation": "tanh"},
        "optimizer": {"name": "adam", "lr": 0.01},
        "batch_size": 16,
        "epochs": 100,
        "seed": 0,
    })
    assert test_accuracy(fit(config)) >= 0.93


def test_xor_is_solved_by_a_2_4_1_network():
    """Two inputs, four tanh hidden units and one output unit: p(1) = σ(z), trained with
    binary cross-entropy on the four points, which are the whole problem (no test part)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    data = Dataset("xor4", "classification", X, y, None, None, 2, ["x1", "x2"], "label")
    config = RunConfig.from_dict({
        "data": {"name": "array"},
        "model": {"hidden": [4], "activation": "tanh"},
        "loss": "bce",
        "optimizer": {"name": "adam", "lr": 0.1},
        "batch_size": 4,
        "epochs": 300,
        "seed": 0,
    })
    result = fit(config, data)
    widths = [(layer.W.value.shape[1], layer.W.value.shape[0]) for layer in result.net.layers if hasattr(layer, "W")]
    assert widths == [(2, 4), (4, 1)]
    p = result.task.proba(result.net.forward(X, False))[:, 1]
    np.testing.assert_array_equal(p > 0.5, y == 1)
    assert result.final("train_accuracy") == 1.0
    assert np.all(np.abs(p - y) < 0.1)  # confidently right, not just on the right side
