"""The XOR and linear-collapse experiments: the classic results, measured (fixed seeds, quick runs)."""

import json

import numpy as np
import pytest

from deltaflow.experiments import collapse, run_experiment, xor
from deltaflow.experiments.base import to_json_ready

from experiment_checks import assert_png


@pytest.fixture(scope="module")
def gates():
    return xor.run(quick=True, seed=0)


@pytest.fixture(scope="module")
def linear():
    return collapse.run(quick=True, seed=0)


# --- xor -----------------------------------------------------------------------------------


def test_perceptron_never_reaches_zero_mistakes_on_xor(gates):
    r = gates["perceptron"]["XOR"]
    assert not r["converged"]
    assert len(r["mistakes"]) == xor.EPOCHS and min(r["mistakes"]) > 0
    assert not np.array_equal(r["final_predictions"], xor.TARGETS["XOR"])


@pytest.mark.parametrize("gate", ["AND", "OR"])
def test_perceptron_learns_and_and_or(gates, gate):
    r = gates["perceptron"][gate]
    assert r["converged"] and r["mistakes"][-1] == 0 and len(r["mistakes"]) < xor.EPOCHS
    np.testing.assert_array_equal(r["final_predictions"], xor.TARGETS[gate])
    # the learned line separates the points: y = step(w·x + b)
    np.testing.assert_array_equal(xor.X @ r["w"] + r["b"] > 0, xor.TARGETS[gate] == 1)


def test_a_2_4_1_network_solves_xor(gates):
    r = gates["mlp"]["2-4-1"]
    assert len(r["solved"]) == xor.QUICK["n_seeds"] and all(r["solved"])
    for p in r["final_p"]:
        np.testing.assert_array_equal(np.asarray(p) > 0.5, xor.TARGETS["XOR"] == 1)
    assert max(r["final_loss"]) < 0.05


def test_2_2_1_outcomes_are_measured_not_assumed(gates):
    r = gates["mlp"]["2-2-1"]
    for ok, p in zip(r["solved"], r["final_p"]):
        assert ok == bool(np.array_equal(np.asarray(p) > 0.5, xor.TARGETS["XOR"] == 1))
    assert f"{sum(r['solved'])} of {len(r['solved'])} seeds" in " ".join(gates["findings"])


def test_xor_result_is_json_and_draws_from_the_reloaded_dict(tmp_path, gates):
    reloaded = json.loads(json.dumps(to_json_ready(gates), allow_nan=False))
    assert {"name", "title", "quick", "seed", "findings", "tables"} <= reloaded.keys()
    assert_png(xor.figure(reloaded, tmp_path / "xor.png"))


# --- collapse ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", collapse.DATASETS)
def test_deep_linear_network_equals_its_collapsed_dense(linear, name):
    lin = linear["datasets"][name]["nets"]["identity"]
    assert lin["gap_init"] < 1e-12 and lin["gap_trained"] < 1e-12
    assert lin["same_class_everywhere"]


@pytest.mark.parametrize("name", collapse.DATASETS)
def test_linear_network_stays_near_chance(linear, name):
    d = linear["datasets"][name]
    assert d["chance"] == pytest.approx(0.5, abs=0.05)
    for split in ("train_accuracy", "test_accuracy"):
        assert abs(d["nets"]["identity"][split] - d["chance"]) <= 0.1


@pytest.mark.parametrize("name", collapse.DATASETS)
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_a_non_linearity_separates(linear, name, act):
    r = linear["datasets"][name]["nets"][act]
    assert r["train_accuracy"] >= 0.95 and r["test_accuracy"] >= 0.95


def test_collapse_through_run_experiment(tmp_path):
    result, json_path, png = run_experiment(collapse.EXPERIMENT, tmp_path / "collapse", quick=True, seed=0)
    reloaded = json.loads(json_path.read_text())
    assert reloaded["findings"] == result["findings"] and reloaded["quick"] is True
    assert_png(png)
    assert_png(collapse.figure(reloaded, tmp_path / "again.png"))
