"""Lesson ``batchnorm``: the high-rate runs and the batch/running statistics against PyTorch (float64)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pydantic import ValidationError


from deltaflow.data import iterate_minibatches, load_dataset
from deltaflow.experiments import batchnorm as experiment
from deltaflow.nn.network import mlp
from deltaflow.web.lessons.batchnorm import TRAINED_ACCURACY, BatchnormRequest, run
from lesson_torch import to_torch


def lesson(**fields) -> dict:
    return run(BatchnormRequest.model_validate(fields))


@pytest.mark.parametrize("norm", [None, "batch"])
def test_first_steps_match_torch_sgd_on_the_same_batches(torch, norm):
    result = lesson(part="rate", lr=1.0, epochs=1)
    data = load_dataset(experiment.DATASET, seed=0)
    net = mlp([64, *experiment.HIDDEN, 10], activation="relu", norm=norm, rng=np.random.default_rng([0, 0]))
    model = to_torch(torch, net)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    batches = iterate_minibatches(data.X_train, data.y_train, experiment.BATCH, rng=np.random.default_rng([0, 1]),
                                  min_batch=2)
    expected = []
    for _, (xb, yb) in zip(range(6), batches):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(torch.tensor(xb, dtype=torch.float64)),
                                                 torch.tensor(yb, dtype=torch.long))
        loss.backward()
        opt.step()
        expected.append(loss.item())
    got = result["runs"]["batchnorm" if norm else "plain"]["step_loss"][:6]
    np.testing.assert_allclose(got, expected, rtol=2e-4)  # the lesson trains in float32


def test_a_rate_where_only_batchnorm_trains():
    low = lesson(part="rate", lr=0.1, epochs=3)
    assert low["runs"]["plain"]["trains"] and low["runs"]["batchnorm"]["trains"] and not low["only_batchnorm"]
    high = lesson(part="rate", lr=3.0, epochs=3)
    assert high["runs"]["plain"]["diverged_at"] is not None and not high["runs"]["plain"]["trains"]
    assert high["runs"]["batchnorm"]["test_accuracy"][-1] >= TRAINED_ACCURACY
    assert high["only_batchnorm"] is True


def test_statistics_match_torch_batchnorm1d(torch):
    fields = dict(part="statistics", passes=7, batch=5, mean=[3.0, -1.0, 0.5], std=[2.0, 0.5, 1.0], seed=4)
    result = lesson(**fields)
    rng = np.random.default_rng(4)
    mean, std = np.array(fields["mean"]), np.array(fields["std"])
    bn = torch.nn.BatchNorm1d(3, momentum=0.1, eps=1e-5).double()
    for _ in range(7):
        bn.train()(torch.tensor(mean + std * rng.standard_normal((5, 3))))
    x = mean + std * rng.standard_normal((5, 3))
    np.testing.assert_allclose(result["x"], x, rtol=0, atol=0)
    np.testing.assert_allclose(result["running_mean"], bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(result["running_var"], bn.running_var.numpy(), rtol=1e-12)
    eval_out = bn.eval()(torch.tensor(x)).detach().numpy()
    train_out = bn.train()(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(result["eval_out"], eval_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result["train_out"], train_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result["batch_mean"], x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(result["batch_var"], x.var(axis=0), rtol=1e-12)
    assert len(result["history"]["running_mean"]) == 8


def test_running_statistics_approach_the_population_with_passes():
    fresh = lesson(part="statistics", passes=0)
    assert fresh["running_mean"] == [0.0, 0.0] and fresh["running_var"] == [1.0, 1.0]
    late = lesson(part="statistics", passes=200, batch=32)
    np.testing.assert_allclose(late["running_mean"], [3.0, -1.0], atol=0.2)
    np.testing.assert_allclose(late["running_var"], [4.0, 0.25], rtol=0.25)
    assert late["gap"] < fresh["gap"]


@pytest.mark.parametrize("fields, message", [
    (dict(part="rate", epochs=7), "less than or equal to 6"),
    (dict(part="rate", lr=0), "greater than 0"),
    (dict(part="rate", passes=3), "takes no passes"),
    (dict(part="statistics", lr=1.0), "takes no lr"),
    (dict(part="statistics", mean=[1.0, 2.0], std=[1.0]), "mean has 2 values"),
    (dict(part="statistics", mean=[0.0] * 5, std=[1.0] * 5), "at most 4"),
    (dict(part="statistics", mean=[0.0], std=[-1.0]), "std in"),
    (dict(part="statistics", batch=1), "greater than or equal to 2"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        BatchnormRequest.model_validate(fields)


def test_largest_requests_stay_well_under_a_second():
    for fields in (dict(part="rate", lr=0.05, epochs=6), dict(part="statistics", passes=200, batch=32,
                                                                mean=[0.0] * 4, std=[1.0] * 4)):
        lesson(**fields)
        start = time.perf_counter()
        lesson(**fields)
        assert time.perf_counter() - start < 0.6
