"""Lesson ``forward``: every intermediate of the 2-2-1 forward pass against NumPy written out by
hand and against PyTorch (float64) with the same weights; the refusals; the challenge flags."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from deltaflow.web.lessons.forward import ForwardRequest, run

WEIGHTS = {"W1": [[1.5, -2.0], [0.75, 3.25]], "b1": [0.5, -1.0], "W2": [[2.5, -1.25]], "b2": [0.3]}
HIDDEN = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
}


def lesson(**fields) -> dict:
    # through JSON, as the page sends it and reads it back
    return json.loads(json.dumps(run(ForwardRequest.model_validate(fields))))


def by_hand(x, W1, b1, W2, b2, activation):
    """The forward pass one unit at a time: z_j = Σ_k W_jk a_k + b_j, then a_j = σ(z_j)."""
    z1 = np.array([W1[j][0] * x[0] + W1[j][1] * x[1] + b1[j] for j in range(2)])
    a1 = HIDDEN[activation](z1)
    z2 = np.array([W2[0][0] * a1[0] + W2[0][1] * a1[1] + b2[0]])
    return z1, a1, z2, 1.0 / (1.0 + np.exp(-z2))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("x", [[1.0, 0.0], [-0.4, 2.5], [0.0, 0.0]])
def test_every_intermediate_matches_numpy_by_hand(activation, x):
    result = lesson(x=x, activation=activation, **WEIGHTS)
    z1, a1, z2, y_hat = by_hand(x, **WEIGHTS, activation=activation)
    for name, expected in (("z1", z1), ("a1", a1), ("z2", z2), ("y_hat", y_hat)):
        np.testing.assert_allclose(result[name], expected, rtol=0, atol=1e-12, err_msg=name)
    first, second = result["layers"]
    assert (first["l"], first["activation"], second["l"], second["activation"]) == (1, activation, 2, "sigmoid")
    assert first["W"] == WEIGHTS["W1"] and first["b"] == WEIGHTS["b1"] and first["a_in"] == x
    assert second["W"] == WEIGHTS["W2"] and second["b"] == WEIGHTS["b2"]
    assert second["a_in"] == result["a1"] and first["z"] == result["z1"] and first["a"] == result["a1"]
    assert second["z"] == result["z2"] and second["a"] == result["y_hat"]


def torch_forward(torch, x, W1, b1, W2, b2, activation):
    hidden = {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[activation]
    first, second = torch.nn.Linear(2, 2).double(), torch.nn.Linear(2, 1).double()
    with torch.no_grad():
        first.weight.copy_(torch.tensor(W1, dtype=torch.float64))
        first.bias.copy_(torch.tensor(b1, dtype=torch.float64))
        second.weight.copy_(torch.tensor(W2, dtype=torch.float64))
        second.bias.copy_(torch.tensor(b2, dtype=torch.float64))
        z1 = first(torch.tensor([x], dtype=torch.float64))
        a1 = hidden()(z1)
        z2 = second(a1)
        return [t[0].numpy() for t in (z1, a1, z2, torch.sigmoid(z2))]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("fields", [dict(x=[0.7, -1.3], **WEIGHTS), dict(x=[1.0, 0.0], seed=7),
                                    dict(x=[20.0, -20.0], W1=[[20.0, -20.0], [-20.0, 20.0]], b1=[20.0, -20.0],
                                         W2=[[-20.0, 20.0]], b2=[-20.0])])
def test_every_intermediate_matches_torch(torch, activation, fields):
    result = lesson(activation=activation, **fields)
    weights = {k: result[k] for k in ("W1", "b1", "W2", "b2")}  # a seed's draw, or the request's own
    if "seed" not in fields:
        assert weights == {k: fields[k] for k in weights}
    expected = torch_forward(torch, fields["x"], **weights, activation=activation)
    for name, value in zip(("z1", "a1", "z2", "y_hat"), expected):
        np.testing.assert_allclose(result[name], value, rtol=0, atol=1e-12, err_msg=name)


def test_a_seed_draws_the_engines_torch_initialisation_reproducibly():
    a, b, c = lesson(seed=3), lesson(seed=3), lesson(seed=4)
    assert a == b and a["W1"] != c["W1"] and a["seed"] == 3
    for name, fan_in in (("W1", 2), ("b1", 2), ("W2", 2), ("b2", 2)):
        values = np.ravel(a[name])
        assert np.all(np.abs(values) <= 1 / np.sqrt(fan_in)), name  # U(−1/√n_in, 1/√n_in)
    assert np.array(a["W1"]).shape == (2, 2) and np.array(a["W2"]).shape == (1, 2) and len(a["b2"]) == 1
    assert a["x"] == [1.0, 0.0]  # the challenge's input by default


def test_challenge_flags_are_met_only_at_x_1_0():
    high = dict(W1=[[6.0, 0.0], [-6.0, 0.0]], b1=[0.0, 0.0], W2=[[8.0, -8.0]], b2=[0.0])
    low = dict(high, W2=[[-8.0, 8.0]])
    r = lesson(x=[1.0, 0.0], **high)
    assert r["y_hat"][0] > 0.9 and r["challenge"] == {"high": True, "low": False}
    r = lesson(x=[1.0, 0.0], **low)
    assert r["y_hat"][0] < 0.1 and r["challenge"] == {"high": False, "low": True}
    r = lesson(x=[1.0, 0.0], **dict(high, W2=[[0.5, 0.5]]))  # ŷ ≈ 0.62: neither
    assert 0.1 < r["y_hat"][0] < 0.9 and r["challenge"] == {"high": False, "low": False}
    elsewhere = lesson(x=[2.0, 0.0], **high)  # ŷ > 0.9, but not for the challenge's input
    assert elsewhere["y_hat"][0] > 0.9 and elsewhere["challenge"] == {"high": False, "low": False}


def test_a_saturated_output_stays_finite():
    r = lesson(x=[20.0, 20.0], W1=[[20.0, 20.0], [20.0, 20.0]], b1=[20.0, 20.0], W2=[[-20.0, -20.0]], b2=[-20.0])
    assert r["z2"] == [-60.0] and 0.0 < r["y_hat"][0] == pytest.approx(np.exp(-60.0), rel=1e-12)


@pytest.mark.parametrize("fields, message", [
    (dict(WEIGHTS, W1=[[1.0, 2.0]]), "at least 2 items"),
    (dict(WEIGHTS, W1=[[1.0, 2.0, 3.0], [1.0, 2.0]]), "at most 2 items"),
    (dict(WEIGHTS, W2=[[1.0, 2.0], [3.0, 4.0]]), "at most 1 item"),
    (dict(WEIGHTS, b2=[0.0, 1.0]), "at most 1 item"),
    (dict(WEIGHTS, x=[1.0]), "at least 2 items"),
    (dict(WEIGHTS, b1=[0.0, 20.5]), "less than or equal to 20"),
    (dict(WEIGHTS, W1=[[1.0, -1e39], [0.0, 0.0]]), "greater than or equal to -20"),
    (dict(WEIGHTS, x=[21.0, 0.0]), "less than or equal to 20"),
    (dict(WEIGHTS, x=["1", 0.0]), "valid number"),
    (dict(WEIGHTS, b2=[True]), "valid number"),
    (dict(WEIGHTS, x=[float("nan"), 0.0]), "finite number"),
    (dict(WEIGHTS, activation="gelu"), "activation"),
    (dict(WEIGHTS, extra=1), "Extra inputs"),
    (dict(WEIGHTS, seed=1), "not both"),
    (dict(W1=WEIGHTS["W1"], b1=WEIGHTS["b1"]), "missing W2, b2"),
    ({}, "missing W1, b1, W2, b2"),
    (dict(seed=-1), "greater than or equal to 0"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        ForwardRequest.model_validate(fields)
