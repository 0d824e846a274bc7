"""Lesson ``universal``: the units add up to the fit, the errors are the engine's, deep against wide."""

from __future__ import annotations

import time

import numpy as np
import pytest
from pydantic import ValidationError


from deltaflow.experiments import uat
from deltaflow.web.lessons.universal import UniversalRequest, run


def lesson(**fields) -> dict:
    return run(UniversalRequest.model_validate(fields))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_units_add_up_to_the_fit_and_match_its_weights(activation):
    result = lesson(part="width", units=5, activation=activation, function="abs", steps=200)
    net = uat.fit_width("abs", 5, 200, 0, activation)[0]
    W, b = net.layers[0].W.value[:, 0], net.layers[0].b.value
    v, c = net.layers[2].W.value[0], net.layers[2].b.value[0]
    u = np.asarray(result["x"]) / 3.0
    sigma = np.tanh if activation == "tanh" else (lambda z: 1.0 / (1.0 + np.exp(-z)))
    by_hand = v[:, None] * sigma(W[:, None] * u[None, :] + b[:, None])  # (H, points), NumPy by hand
    np.testing.assert_allclose(result["terms"], by_hand, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.sum(result["terms"], axis=0) + result["bias"], result["fit"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result["target"], np.abs(result["x"]), rtol=0, atol=0)
    grid = np.linspace(-3, 3, 2001)
    by_hand_grid = (v[:, None] * sigma(W[:, None] * grid[None, :] / 3 + b[:, None])).sum(axis=0) + c
    assert result["rmse"] == pytest.approx(np.sqrt(np.mean((by_hand_grid - np.abs(grid)) ** 2)), rel=1e-9)
    assert result["params"] == 3 * 5 + 1


def test_just_enough_units_is_decided_by_both_fits():
    r4, r3 = lesson(part="width", units=4), lesson(part="width", units=3)
    assert r4["rmse_smaller"] == pytest.approx(r3["rmse"], rel=1e-12)
    assert r4["just_enough"] == (r4["rmse"] < 0.05 <= r3["rmse"])
    assert r4["just_enough"] is True  # sin: 4 tanh units reach RMSE < 0.05, 3 do not (seed 0, 800 steps)
    one = lesson(part="width", units=1)
    assert one["rmse_smaller"] is None and one["just_enough"] is False
    assert lesson(part="width", units=1, threshold=0.5)["just_enough"] is True


def test_deep_and_wide_have_about_the_same_parameters_and_the_engines_errors():
    result = lesson(part="depth", layers=2, width=8, steps=100, teeth=3)
    deep, wide = result["nets"]["deep"], result["nets"]["wide"]
    assert deep["sizes"] == [1, 8, 8, 1] and deep["params"] == 2 * 8 + 8 * 8 + 8 + 8 + 1
    assert abs(wide["params"] - deep["params"]) <= 3 and wide["sizes"][1] == round((deep["params"] - 1) / 3)
    for name, sizes in (("deep", deep["sizes"]), ("wide", wide["sizes"])):
        net, rmse, max_error = uat.fit_sawtooth(sizes, 100, 0, teeth=3)
        assert result["nets"][name]["rmse"] == pytest.approx(rmse, rel=1e-12)
        np.testing.assert_allclose(result["nets"][name]["fit"], net.forward(np.asarray(result["x"])[:, None] / 3,
                                                                              False)[:, 0], rtol=1e-12)


def test_at_the_default_budget_deep_beats_wide_on_four_teeth():
    result = lesson(part="depth")
    deep, wide = result["nets"]["deep"], result["nets"]["wide"]
    assert (deep["sizes"], wide["sizes"], result["teeth"], result["steps"]) == ([1, 16, 16, 16, 1], [1, 197, 1], 4, 400)
    assert deep["rmse"] < 0.85 * wide["rmse"]
    np.testing.assert_allclose(result["target"], uat.sawtooth(np.asarray(result["x"]), 4), rtol=0, atol=1e-15)


@pytest.mark.parametrize("fields, message", [
    (dict(part="width", units=33), "less than or equal to 32"),
    (dict(part="width", steps=1001), "less than or equal to 1000"),
    (dict(part="depth", steps=401), "at most 400"),
    (dict(part="depth", units=4), "takes no units"),
    (dict(part="width", layers=2), "takes no layers"),
    (dict(part="depth", teeth=9), "less than or equal to 8"),
    (dict(part="width", function="cos"), "function"),
    (dict(part="width", threshold=0.0), "greater than 0"),
    (dict(part="width", units=4.0), "valid integer"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        UniversalRequest.model_validate(fields)


def test_largest_requests_stay_under_a_second():
    for fields in (dict(part="width", units=32, steps=1000), dict(part="depth", layers=4, width=16, steps=400)):
        start = time.perf_counter()
        lesson(**fields)
        assert time.perf_counter() - start < 0.9
