"""Lesson ``vanishing``: per-layer gradient norms and the clipped run against PyTorch (float64)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from pydantic import ValidationError


from deltaflow.data import load_dataset
from deltaflow.experiments import exploding, vanishing
from deltaflow.web.lessons.vanishing import VanishingRequest, run
from lesson_torch import linear_grad_norms, to_torch


def lesson(**fields) -> dict:
    return run(VanishingRequest.model_validate(fields))


def circle():
    data = load_dataset("circle", n_samples=vanishing.N_SAMPLES, seed=0, dtype="float64")
    return data.X_train, data.y_train


@pytest.mark.parametrize("setup", [dict(activation="sigmoid", init="xavier", norm="none"),
                                   dict(activation="relu", init="he", norm="none"),
                                   dict(activation="sigmoid", init="xavier", norm="batch")])
def test_per_layer_gradient_norms_match_torch(torch, setup):
    result = lesson(part="gradients", depth=20, **setup)
    X2, y = circle()
    X = vanishing.embed(X2, vanishing.WIDTH, np.random.default_rng([0, 0]))
    model = to_torch(torch, vanishing.build(X.shape[1], 20, setup["activation"], setup["init"], setup["norm"], 0))
    loss = torch.nn.functional.cross_entropy(model(torch.tensor(X)), torch.tensor(y, dtype=torch.long))
    loss.backward()
    expected = linear_grad_norms(torch, model)
    assert len(result["grad_W_norm"]) == 21
    np.testing.assert_allclose(result["grad_W_norm"], expected, rtol=1e-9)
    assert result["loss"] == pytest.approx(loss.item(), rel=1e-12)
    assert result["ratio"] == pytest.approx(expected[0] / expected[-1], rel=1e-9)
    assert result["within_100x"] == (1e-2 <= expected[0] / expected[-1] <= 1e2)


def test_sigmoid_vanishes_and_relu_he_and_batchnorm_do_not():
    sigmoid = lesson(part="gradients")
    assert sigmoid["ratio"] < 1e-10 and not sigmoid["within_100x"]
    assert lesson(part="gradients", activation="relu", init="he")["within_100x"]
    assert lesson(part="gradients", norm="batch")["within_100x"]
    # mean σ' of a sigmoid layer never exceeds 1/4
    assert max(sigmoid["sigma_prime_mean"][:-1]) <= 0.25


def test_clipped_run_matches_torch_sgd_with_clip_grad_norm(torch):
    result = lesson(part="clipping", scale=1.0, max_norm=1.0, lr=0.1, steps=8)
    X, y = circle()
    model = to_torch(torch, exploding.build(0, std=1.0))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    Xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.long)
    losses, norms = [], []
    for _ in range(8):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
        losses.append(loss.item())
        opt.step()
    clipped = result["runs"]["clipped"]
    np.testing.assert_allclose(clipped["loss"], losses, rtol=1e-8)
    np.testing.assert_allclose(clipped["grad_norm"], norms, rtol=1e-8)


def test_clipping_bounds_every_step_and_stops_the_blow_up():
    result = lesson(part="clipping", scale=1.0, max_norm=0.5, steps=100)
    plain, clipped = result["runs"]["plain"], result["runs"]["clipped"]
    assert plain["diverged_at"] is not None and clipped["diverged_at"] is None
    assert max(clipped["applied_norm"]) <= 0.5 * (1 + 1e-9)
    assert clipped["grad_norm"][0] > 1e6  # the gradient was clipped, not small
    assert clipped["loss"][-1] < clipped["loss"][0] and clipped["accuracy"] > 0.6
    assert result["clipping_saves"] is True
    # too large a threshold: finite, but the first steps leave the network at chance
    loose = lesson(part="clipping", scale=1.0, max_norm=100.0, steps=100)
    assert loose["runs"]["clipped"]["diverged_at"] is None and loose["runs"]["clipped"]["accuracy"] < 0.6
    assert loose["clipping_saves"] is False
    # He-sized weights do not explode: there is nothing for clipping to save
    assert lesson(part="clipping", scale=0.25, steps=50)["clipping_saves"] is False


@pytest.mark.parametrize("fields, message", [
    (dict(part="gradients", depth=31), "less than or equal to 30"),
    (dict(part="gradients", steps=5), "takes no steps"),
    (dict(part="clipping", activation="relu"), "takes no activation"),
    (dict(part="clipping", max_norm=0), "greater than 0"),
    (dict(part="clipping", steps=151), "less than or equal to 150"),
    (dict(part="gradients", depth="5"), "valid integer"),
    (dict(part="gradients", extra=1), "Extra inputs"),
    (dict(part="sideways"), "part"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        VanishingRequest.model_validate(fields)


def test_largest_requests_stay_well_under_a_second():
    for fields in (dict(part="gradients", depth=30, norm="batch"), dict(part="clipping", steps=150, scale=0.3)):
        lesson(**fields)  # warm
        start = time.perf_counter()
        lesson(**fields)
        assert time.perf_counter() - start < 0.5
    assert math.isfinite(lesson(part="gradients", depth=1)["ratio"])
