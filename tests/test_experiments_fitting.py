"""The uat and cost experiments: measured results on reduced grids (quick=True), fixed seeds.

No assertion here is on a timing: timings belong to benchmarks.
"""

import json

import numpy as np
import pytest

from deltaflow.experiments import get, run_experiment
from deltaflow.experiments import cost, uat
from deltaflow.nn.network import mlp

from experiment_checks import reloaded


@pytest.fixture(scope="module")
def uat_result():
    return uat.run(quick=True, seed=0)


@pytest.fixture(scope="module")
def cost_result():
    return cost.run(quick=True, seed=0)


# --- uat ---------------------------------------------------------------------------


def test_uat_sin_error_falls_with_width(uat_result):
    sin = uat_result["width_runs"]["sin"]
    rmse = [r["rmse"] for r in sin["rows"]]
    assert sin["slope"] < -0.5
    assert rmse[-1] < rmse[0] / 4  # width 16 against width 1
    assert sin["slope"] == pytest.approx(uat.loglog_slope(uat_result["widths"], rmse))


def test_uat_slope_is_least_squares_on_logs():
    widths = [1, 2, 4, 8]
    errors = [3.0 * w**-1.5 for w in widths]
    assert uat.loglog_slope(widths, errors) == pytest.approx(-1.5, abs=1e-12)


def test_uat_unit_contributions_add_up_to_the_network():
    net = mlp([1, 7, 1], activation="tanh", dtype=np.float64, rng=3)
    u = np.linspace(-1, 1, 50)[:, None]
    terms, c = uat.unit_contributions(net, u)
    assert terms.shape == (50, 7)
    np.testing.assert_allclose(terms.sum(axis=1) + c, net.forward(u, False)[:, 0], rtol=1e-12, atol=1e-12)


def test_uat_recorded_contributions_add_up_to_the_recorded_fit(uat_result):
    for c in uat_result["contributions"].values():
        units = np.asarray(c["units"])
        assert units.shape == (uat.CONTRIBUTION_WIDTH, len(c["x"]))
        np.testing.assert_allclose(units.sum(axis=0) + c["bias"], c["output"], rtol=1e-12, atol=1e-12)


def test_uat_deep_and_wide_share_the_parameter_budget(uat_result):
    nets = uat_result["depth"]["nets"]
    deep, wide = nets["deep"], nets["wide"]
    # 1-16-16-16-1: (16 + 16) + 2·(256 + 16) + (16 + 1); 1-h-1: 3h + 1
    assert deep["params"] == 32 + 2 * 272 + 17 == 593
    assert wide["params"] == 3 * wide["sizes"][1] + 1
    assert abs(deep["params"] - wide["params"]) <= 1
    assert uat.param_count(mlp(deep["sizes"], rng=0)) == deep["params"]


def test_uat_figure_from_json(uat_result, tmp_path):
    png = uat.figure(reloaded(uat_result), tmp_path / "uat.png")
    assert png.stat().st_size > 10_000


# --- cost --------------------------------------------------------------------------


def test_cost_dense_flops_exact():
    assert cost.dense_flops(32, 100, 50) == (2 * 32 * 100 * 50, 4 * 32 * 100 * 50)
    f = cost.network_flops([10, 20, 5], 4)
    forward = 2 * 4 * (10 * 20 + 20 * 5)
    assert f == {"forward": forward, "backward": 2 * forward, "backward_no_input_grad": 2 * forward - 2 * 4 * 10 * 20}


def test_cost_result_structure(cost_result):
    r = cost_result
    assert {"name", "title", "quick", "seed", "findings", "tables", "dense", "network"} <= r.keys()
    assert r["name"] == "cost" and r["quick"] is True
    assert len(r["dense"]) == 3 * 2 and len(r["network"]) == 1
    for row in r["dense"]:
        n, b = row["n"], row["batch"]
        assert row["forward_flops"] == 2 * b * n * n
        assert row["flop_ratio"] == 2.0 and row["flop_step_ratio"] == 3.0
        assert row["forward_s"] > 0 and row["backward_s"] > 0
        assert row["time_ratio"] == pytest.approx(row["backward_s"] / row["forward_s"])
    net = r["network"][0]
    assert net["forward_flops"] == cost.network_flops(net["sizes"], net["batch"])["forward"]
    for table in r["tables"]:
        assert all(len(row) == len(table["columns"]) for row in table["rows"])


def test_cost_median_time_counts_calls():
    calls = []
    t = cost.median_time(lambda: calls.append(1), repeats=5, calls=7)
    assert len(calls) == 35 and t >= 0


def test_cost_through_run_experiment(tmp_path):
    seen = []
    result, json_path, png = run_experiment(get("cost"), tmp_path / "cost", quick=True, seed=1,
                                            progress=lambda done, total: seen.append((done, total)))
    assert seen[-1][0] == seen[-1][1] == len(result["dense"]) + len(result["network"])
    loaded = json.loads(json_path.read_text())
    assert loaded["seed"] == 1 and loaded["dense"][0]["flop_ratio"] == 2.0
    assert png.stat().st_size > 10_000
    assert cost.figure(loaded, tmp_path / "again.png").stat().st_size > 10_000
