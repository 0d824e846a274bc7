"""Lesson ``minibatch``: a batch's gradient is the mean of its rows' (the engine's own backward
pass), its squared error against ∇L follows σ²(N − B)/(B(N − 1)), the SGD runs are the engine's
SGD step by step, and the loss curves get quieter as B grows."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from deltaflow.web.lessons.minibatch import MinibatchRequest, gradient, run, setup


def lesson(**fields) -> dict:
    return run(MinibatchRequest.model_validate(fields))


def test_a_batch_gradient_is_the_mean_of_its_rows_gradients_and_matches_torch(torch):
    X, y, net = setup(0)
    idx = np.array([3, 17, 40, 41, 200])
    each = np.stack([gradient(net, X[i:i + 1], y[i:i + 1]) for i in idx])
    np.testing.assert_allclose(gradient(net, X[idx], y[idx]), each.mean(axis=0), rtol=0, atol=1e-15)
    W1, b1, W2, b2 = (torch.tensor(p.value, dtype=torch.float64, requires_grad=True) for p in net.parameters())
    z = torch.tanh(torch.tensor(X[idx]) @ W1.T + b1) @ W2.T + b2
    torch.nn.functional.cross_entropy(z, torch.tensor(y[idx], dtype=torch.long)).backward()
    expected = np.concatenate([t.grad.numpy().ravel() for t in (W1, b1, W2, b2)])
    np.testing.assert_allclose(gradient(net, X[idx], y[idx]), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_gradient_noise_follows_the_sampling_formula(seed):
    r = lesson(part="noise", seed=seed, batch_sizes=[1, 4, 16, 64, 256])
    X, y, net = setup(seed)
    N = len(y)
    each = np.stack([gradient(net, X[i:i + 1], y[i:i + 1]) for i in range(N)])
    sigma2 = np.mean(np.sum((each - each.mean(axis=0)) ** 2, axis=1))
    assert N == r["n_train"] == 256 and r["sigma2"] == pytest.approx(sigma2, rel=1e-12)
    for row in r["rows"]:
        assert row["predicted"] == pytest.approx(sigma2 / row["B"] * (N - row["B"]) / (N - 1), rel=1e-12)
        assert row["agrees"]
    assert r["rows"][-1]["measured"] < 1e-25  # B = N: the whole set, no noise left
    assert r["follows"]
    measured = [row["measured"] for row in r["rows"][:-1]]
    assert all(a > b for a, b in zip(measured, measured[1:]))


def test_each_run_is_plain_sgd_and_larger_batches_are_quieter():
    r = lesson(part="train", batch_sizes=[1, 8, 64, 256], epochs=2)
    assert r["quieter"] and [run["B"] for run in r["runs"]] == [1, 8, 64, 256]
    full = r["runs"][-1]
    assert full["steps"] == 2 and full["noise"] < 1e-12  # the whole set: batch loss = whole-set loss
    # the B = 8 run again, by hand: w ← w − η·g_B on the same batches from the same weights
    from deltaflow.data import iterate_minibatches
    from deltaflow.experiments.base import backprop
    from deltaflow.nn.losses import SoftmaxCrossEntropy

    X, y, net = setup(0)
    order, losses = np.random.default_rng([0, 3]), []
    for _ in range(2):
        for xb, yb in iterate_minibatches(X, y, 8, rng=order):
            losses.append(backprop(net, SoftmaxCrossEntropy(), xb, yb))
            for p in net.parameters():
                p.value -= 0.1 * p.grad
    np.testing.assert_allclose(r["runs"][1]["batch_loss"], losses, rtol=1e-12)
    one = lesson(part="train", batch_sizes=[16])
    assert not one["quieter"]  # one size compares nothing


@pytest.mark.parametrize("fields", [
    {"part": "noise", "batch_sizes": [3]}, {"part": "noise", "batch_sizes": [1, 1]}, {"part": "noise", "batch_sizes": []},
    {"part": "noise", "batch_sizes": [1, 2, 4, 8, 16, 32]}, {"part": "noise", "draws": 401}, {"part": "noise", "lr": 0.1},
    {"part": "train", "draws": 10}, {"part": "train", "epochs": 4}, {"part": "train", "lr": 0.0},
    {"part": "train", "batch_sizes": ["1"]}, {"part": "train", "extra": 1},
])
def test_bad_requests_are_refused(fields):
    with pytest.raises(ValidationError):
        MinibatchRequest.model_validate(fields)
