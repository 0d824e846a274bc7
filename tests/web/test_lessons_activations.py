"""Lesson ``activations``: σ and σ' of the six activations against PyTorch autograd (float64) and
against central finite differences; the sigmoid's peak σ'(0) = 1/4; the challenge's flags; refusals."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from deltaflow.nn.activations import get_activation
from deltaflow.web.lessons.activations import NAMES, ActivationsRequest, run


def lesson(**fields) -> dict:
    return run(ActivationsRequest.model_validate(fields))


def torch_function(torch, name):
    F = torch.nn.functional
    return {
        "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
        "elu": lambda z: F.elu(z, alpha=1.0), "gelu": lambda z: F.gelu(z, approximate="none"),
    }[name]


@pytest.mark.parametrize("name", NAMES)
def test_samples_match_torch_autograd(torch, name):
    result = lesson(activation=name, z_min=-10.0, z_max=10.0, n=801)
    z = np.linspace(-10.0, 10.0, 801)
    np.testing.assert_array_equal(result["z"], z)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    a = torch_function(torch, name)(zt)
    a.backward(torch.ones_like(a))
    np.testing.assert_allclose(result["f"], a.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result["df"], zt.grad.numpy(), rtol=1e-12, atol=1e-12)
    k = int(np.argmax(zt.grad.numpy()))
    assert result["df_max"] == pytest.approx(float(zt.grad[k]), rel=1e-12)
    assert result["z_at_df_max"] == z[k]


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_differences(name):
    result = lesson(activation=name, z_min=-5.0, z_max=5.0, n=201)
    z, h = np.array(result["z"]), 1e-5
    f = get_activation(name).f
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    smooth = np.abs(z) > 2 * h  # ReLU and LeakyReLU have a kink at z = 0: no derivative there to compare
    assert smooth.sum() == 200
    np.testing.assert_allclose(np.array(result["df"])[smooth], numeric[smooth], rtol=1e-8, atol=1e-9)
    np.testing.assert_array_equal(result["f"], f(z))


def test_point_is_the_engines_reading_at_that_z(torch):
    for name in NAMES:
        for z in (-3.7, -0.25, 0.0, 1.3, 9.5):
            p = lesson(activation=name, z=z)["point"]
            zt = torch.tensor([z], dtype=torch.float64, requires_grad=True)
            a = torch_function(torch, name)(zt)
            a.backward(torch.ones_like(a))
            assert p["z"] == z
            assert p["f"] == pytest.approx(a.item(), rel=1e-12, abs=1e-15)
            assert p["df"] == pytest.approx(zt.grad.item(), rel=1e-12, abs=1e-15)
    assert lesson()["point"] is None


def test_sigmoid_derivative_never_exceeds_a_quarter_and_reaches_it_at_zero():
    for z_min, z_max, n in ((-6.0, 6.0, 241), (-10.0, 10.0, 801), (-1.0, 3.0, 5)):
        result = lesson(activation="sigmoid", z_min=z_min, z_max=z_max, n=n)
        assert 0.0 in result["z"]
        assert max(result["df"]) <= 0.25 and result["df_max"] == 0.25 and result["z_at_df_max"] == 0.0
    assert lesson(activation="sigmoid", z_min=1.0, z_max=6.0)["df_max"] < 0.25 * (1 - 1e-3)  # 0 not sampled
    peak = lesson(activation="sigmoid", z=0.0)["point"]
    assert (peak["f"], peak["df"]) == (0.5, 0.25)
    assert lesson()["sup_derivative"] == 0.25


def test_near_max_flag_is_sigma_prime_at_least_0_2499():
    # σ'(z) = 0.2499 where σ(z) = ½(1 + √(1 − 4·0.2499)) : z = ln(σ / (1 − σ)) ≈ 0.04
    s = 0.5 * (1 + np.sqrt(1 - 4 * 0.2499))
    edge = float(np.log(s / (1 - s)))
    assert lesson(z=0.01)["point"]["near_max"] is True
    assert lesson(z=-0.9 * edge)["point"]["near_max"] is True
    assert lesson(z=1.1 * edge)["point"]["near_max"] is False
    assert lesson(z=-2.0)["point"]["near_max"] is False
    assert lesson(activation="tanh", z=0.5)["point"]["near_max"] is False  # tanh' peaks at 1


def test_dead_flag_is_a_zero_derivative():
    for z in (-7.5, -0.01, 0.0):
        p = lesson(activation="relu", z=z)["point"]
        assert p["dead"] is True and p["df"] == 0.0 and p["f"] == 0.0
    assert lesson(activation="relu", z=0.01)["point"]["dead"] is False
    # the neighbours keep a gradient on z < 0
    assert lesson(activation="leaky_relu", z=-7.5)["point"]["df"] == pytest.approx(0.01, rel=1e-15)
    assert lesson(activation="leaky_relu", z=-7.5)["point"]["dead"] is False
    assert lesson(activation="elu", z=-7.5)["point"]["dead"] is False
    assert lesson(activation="sigmoid", z=-10.0)["point"]["dead"] is False


@pytest.mark.parametrize("fields, message", [
    (dict(n=802), "less than or equal to 801"),
    (dict(n=1), "greater than or equal to 2"),
    (dict(z_max=10.5), "less than or equal to 10"),
    (dict(z_min=-11.0), "greater than or equal to -10"),
    (dict(z=12.0), "less than or equal to 10"),
    (dict(z_min=2.0, z_max=2.0), "must be less than z_max"),
    (dict(z_min=3.0, z_max=-3.0), "must be less than z_max"),
    (dict(activation="step"), "activation"),
    (dict(activation="swish"), "activation"),
    (dict(n="5"), "valid integer"),
    (dict(z="0.5"), "valid number"),
    (dict(n=5.0), "valid integer"),
    (dict(z=float("nan")), "finite number"),
    (dict(extra=1), "Extra inputs"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        ActivationsRequest.model_validate(fields)


def test_largest_request_is_finite_everywhere():
    for name in NAMES:
        result = lesson(activation=name, z_min=-10.0, z_max=10.0, n=801, z=-10.0)
        assert len(result["f"]) == len(result["df"]) == 801
        assert all(v is not None for v in result["f"] + result["df"])
