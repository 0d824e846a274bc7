"""training.task.Task: what the network's output means, and InputTransform, raw rows → network input."""

import numpy as np
import pytest

from deltaflow.data import InputTransform, load_dataset, make_features
from deltaflow.nn.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy, sigmoid, softmax
from deltaflow.training.config import RunConfig
from deltaflow.training.task import Task


def test_default_losses_and_output_widths():
    assert Task("classification", n_classes=3).loss_name == "cross_entropy"
    assert isinstance(Task("classification", n_classes=3).loss, SoftmaxCrossEntropy)
    assert Task("regression", n_targets=2).loss_name == "mse" and Task("regression", n_targets=2).n_out == 2
    assert Task("classification", "bce", n_classes=2).n_out == 1
    assert isinstance(Task("classification", "bce", n_classes=2).loss, BinaryCrossEntropy)
    assert Task("classification", "mse", n_classes=4).n_out == 4
    assert isinstance(Task("classification", "mse", n_classes=4).loss, MeanSquaredError)


def test_disallowed_losses_raise_naming_the_data():
    with pytest.raises(ValueError, match="loss 'bce' needs class labels; plane is a regression task"):
        Task("regression", "bce", data_name="plane")
    with pytest.raises(ValueError, match="loss 'bce' needs 2 classes, iris has 3"):
        Task("classification", "bce", n_classes=3, data_name="iris")
    with pytest.raises(ValueError, match="unknown loss 'nll'"):
        Task("classification", "nll", n_classes=3)
    with pytest.raises(ValueError, match="task must be one of"):
        Task("ranking")


def test_targets_probabilities_and_predictions():
    y = np.array([0, 1, 1])
    out = np.array([[0.5, -1.0], [2.0, 3.0], [-1.0, 0.0]])
    ce, bce = Task("classification", n_classes=2, dtype="float64"), Task("classification", "bce", n_classes=2)
    mse = Task("classification", "mse", n_classes=2, dtype="float64")
    assert ce.targets(y) is y
    np.testing.assert_array_equal(bce.targets(y), np.array([[0.0], [1.0], [1.0]], np.float32))
    np.testing.assert_array_equal(mse.targets(y), np.eye(2)[y])
    np.testing.assert_array_equal(ce.proba(out), softmax(out))
    p = sigmoid(out[:, :1])
    np.testing.assert_array_equal(bce.proba(out[:, :1]), np.hstack([1 - p, p]))
    assert mse.proba(out) is out
    np.testing.assert_array_equal(ce.predict(out), [0, 1, 1])
    assert ce.metric(out, y) == 1.0 and ce.metric_name == "accuracy"
    np.testing.assert_allclose(np.exp(ce.log_proba(out)), ce.proba(out), rtol=1e-12)
    np.testing.assert_allclose(np.exp(bce.log_proba(out[:, :1])), bce.proba(out[:, :1]), rtol=1e-12)
    with pytest.raises(ValueError, match="log probabilities need logits"):
        mse.log_proba(out)
    reg = Task("regression", dtype="float64")
    assert reg.metric_name == "r2" and reg.predict(out) is out and reg.metric(out[:, :1], out[:, :1]) == 1.0


def test_the_config_builds_what_it_describes():
    c = RunConfig.from_dict({"model": {"hidden": [5], "activation": "relu"}, "optimizer": {"name": "sgd", "lr": 0.5},
                             "schedule": {"name": "step", "step_size": 3}})
    net = c.model.build(2, 3, dtype="float64", rng=np.random.default_rng(0))
    assert repr(net) == "Sequential(Dense(2→5), ReLU(), Dense(5→3))" and net.dtype == np.float64
    opt = c.optimizer.build(net.parameters())
    assert type(opt).__name__ == "SGD" and opt.lr == 0.5
    assert type(c.schedule.build(opt, epochs=10)).__name__ == "StepLR"
    assert RunConfig().schedule.build(opt, epochs=10) is None
    d = c.data.load(seed=4, dtype="float64")
    ref = load_dataset("spiral", seed=4, dtype="float64")
    np.testing.assert_array_equal(d.X_train, ref.X_train)
    with pytest.raises(ValueError, match="data are passed in"):
        RunConfig.from_dict({"data": {"name": "array"}}).data.load()


def test_input_transform_round_trips_through_meta():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)) * [1.0, 10.0] + 3.0
    t = InputTransform(["x1", "x1^2", "x1x2"], "float32").fit(X)
    Z = t(X)
    assert Z.dtype == np.float32 and Z.shape == (50, 3) and t.n_raw == 2
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-5)
    F = make_features(X, ["x1", "x1^2", "x1x2"]).astype(np.float32)
    np.testing.assert_array_equal(Z, (F - t.scaler.mean) / t.scaler.scale)
    meta, arrays = t.to_meta()
    assert meta == {"input_features": ["x1", "x1^2", "x1x2"]}
    np.testing.assert_array_equal(InputTransform.from_meta(meta, arrays, "float32")(X), Z)
    plain = InputTransform(None, "float64", standardize=False).fit(X)
    assert plain.scaler is None and plain.n_raw is None and plain.to_meta() == ({"input_features": None}, {})
    np.testing.assert_array_equal(plain(X), X)


def test_load_dataset_parts_are_the_transform_of_the_raw_rows():
    d = load_dataset("circle", n_samples=120, seed=2, features=["x1^2", "x2^2"])
    t = InputTransform(["x1^2", "x2^2"], "float32").fit(d.X_train_raw)
    np.testing.assert_array_equal(d.X_train, t(d.X_train_raw))
    np.testing.assert_array_equal(d.X_test, t(d.X_test_raw))
