"""The vanishing- and exploding-gradient experiments: the seed's claims, measured (fixed seeds, quick grids)."""

import json
import math

import numpy as np
import pytest

from deltaflow.nn.activations import Sigmoid
from deltaflow.data import load_dataset
from deltaflow.experiments import exploding, get, run_experiment, vanishing
from deltaflow.experiments.base import to_json_ready

from experiment_checks import assert_png


@pytest.fixture(scope="module")
def vanish():
    return vanishing.run(quick=True, seed=0)


@pytest.fixture(scope="module")
def explode():
    return exploding.run(quick=True, seed=0)


def cell(result, **keys):
    found = [r for r in result["runs"] if all(r[k] == v for k, v in keys.items())]
    assert len(found) == 1, keys
    return found[0]


def reload(result):
    return json.loads(json.dumps(to_json_ready(result), allow_nan=False))


# --- vanishing ---------------------------------------------------------------------------


def test_sigmoid_depth_20_naive_init_vanishes(vanish):
    r = cell(vanish, depth=20, activation="sigmoid", init="naive", norm="none")
    assert r["ratio_init"] < 1e-6
    assert r["grad_last_init"] > 0  # a real ratio: the output layer does get a gradient


def test_relu_depth_20_he_init_keeps_the_ratio_near_one(vanish):
    r = cell(vanish, depth=20, activation="relu", init="he", norm="none")
    assert 0.1 <= r["ratio_init"] <= 10


def test_sigmoid_depth_20_batchnorm_keeps_the_gradient(vanish):
    rows = [cell(vanish, depth=20, activation="sigmoid", init=init, norm="batch") for init in vanishing.INITS]
    assert all(r["ratio_init"] > 1e-3 for r in rows)
    plain = cell(vanish, depth=20, activation="sigmoid", init="naive", norm="none")
    assert min(r["ratio_init"] for r in rows) > 1e6 * plain["ratio_init"]


def test_sigmoid_prime_product_is_below_the_quarter_power_bound(vanish):
    sigmoid = [r for r in vanish["runs"] if r["activation"] == "sigmoid"]
    assert len(sigmoid) == 12
    for r in sigmoid:
        assert r["sigma_prime_bound"] == 0.25 ** r["depth"]
        assert 0 < r["sigma_prime_product"] <= r["sigma_prime_bound"]
    # near z = 0 every σ' is close to its maximum: naive init reaches the bound to within 1 %
    naive = cell(vanish, depth=20, activation="sigmoid", init="naive", norm="none")
    assert naive["sigma_prime_product"] > 0.99 * naive["sigma_prime_bound"]


def test_sigma_prime_product_matches_a_direct_computation():
    data = load_dataset("circle", n_samples=64, seed=3, dtype="float64")
    X = vanishing.embed(data.X_train, vanishing.WIDTH, np.random.default_rng(1))
    net = vanishing.build(X.shape[1], 5, "sigmoid", "xavier", "none", seed=3)
    row = vanishing.run_one(X, data.y_train, 5, "sigmoid", "xavier", "none", seed=3, steps=0)
    net.forward(X, True)
    # Π over the hidden layers of mean σ'(z), with σ'(z) = σ(z)(1 − σ(z)) from each layer's cached input
    means = [float(np.mean(Sigmoid().derivative(layer._z))) for layer in net.layers if isinstance(layer, Sigmoid)]
    assert len(means) == 5
    assert row["sigma_prime_product"] == pytest.approx(math.prod(means), rel=1e-12)


def test_embedding_scales_every_distance_by_the_same_factor():
    X = np.random.default_rng(0).standard_normal((10, 2))
    U = vanishing.embed(X, 32, np.random.default_rng(1))
    assert U.shape == (10, 32)
    d2 = np.linalg.norm(X[:, None] - X[None], axis=-1)
    d32 = np.linalg.norm(U[:, None] - U[None], axis=-1)
    np.testing.assert_allclose(d32, 4.0 * d2, rtol=1e-12, atol=1e-12)


def test_vanishing_result_is_json_and_draws_from_the_reloaded_dict(tmp_path, vanish):
    reloaded = reload(vanish)
    assert {"name", "title", "quick", "seed", "findings", "tables"} <= reloaded.keys()
    assert reloaded["quick"] is True and len(reloaded["runs"]) == 24
    png = vanishing.figure(reloaded, tmp_path / "v.png")
    assert_png(png)


# --- exploding ---------------------------------------------------------------------------


def test_without_clipping_the_gradient_explodes(explode):
    plain = explode["runs"]["unclipped"]
    assert plain["grad_norm"][0] > 1e6
    assert plain["diverged_at"] is not None
    assert not math.isfinite(plain["grad_norm"][-1]) or not math.isfinite(plain["loss"][-1])


def test_clipping_keeps_the_exploding_run_finite(explode):
    clipped = explode["runs"]["clipped"]
    assert clipped["diverged_at"] is None and clipped["params_finite"]
    assert len(clipped["loss"]) == exploding.QUICK_STEPS
    assert all(math.isfinite(v) for v in clipped["loss"] + clipped["grad_norm"])
    assert clipped["grad_norm"][0] > 1e6  # the same exploding gradient, tamed
    assert max(clipped["applied_norm"]) <= exploding.MAX_NORM * (1 + 1e-9)
    assert clipped["loss"][-1] < 0.5 * clipped["loss"][0]


def test_delta_grows_by_about_std_sqrt_n_over_2_per_layer(explode):
    assert explode["expected_growth_factor"] == 4.0
    assert 3.0 <= explode["growth_factor"] <= 5.0
    assert explode["per_layer"]["global"] > 1e5 * explode["he_reference"]["global"]


def test_exploding_through_run_experiment(tmp_path):
    result, json_path, png = run_experiment(get("exploding"), tmp_path / "exploding", quick=True, seed=0)
    reloaded = json.loads(json_path.read_text())
    assert reloaded["name"] == "exploding" and reloaded["findings"] == result["findings"]
    assert reloaded["runs"]["unclipped"]["grad_norm"][-1] is None  # inf is written as null
    assert_png(png)
    assert_png(exploding.figure(reloaded, tmp_path / "again.png"))
