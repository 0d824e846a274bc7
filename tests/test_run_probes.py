"""A probed run on disk: probes.npz round-trips the probe's records, and the gradient-flow figure."""

import numpy as np
import pytest

from deltaflow.training.config import RunConfig
from deltaflow.viz.flow_plot import plot_gradient_flow
from deltaflow.training.runs import PROBES, read_probes, save_run
from deltaflow.training.trainer import fit

from test_cli import run

BASE = {"data": {"name": "circle", "n_samples": 100}, "model": {"hidden": [5, 4], "activation": "sigmoid"},
        "epochs": 2, "batch_size": 20, "name": "p"}


def test_probes_file_round_trips_and_is_drawn(tmp_path):
    result = fit(RunConfig.from_dict({**BASE, "probe_every": 3}))
    run_dir = save_run(result, tmp_path)
    got = read_probes(run_dir / PROBES)
    want = result.probe.as_arrays()
    assert got["names"] == result.probe.names
    for key, value in want.items():
        np.testing.assert_array_equal(got[key], value, err_msg=key)
    assert (run_dir / "figures" / "gradient_flow.png").read_bytes().startswith(b"\x89PNG")

    # the same run name trained without probes keeps neither the records nor their figure
    save_run(fit(RunConfig.from_dict(BASE)), tmp_path)
    assert not (run_dir / PROBES).exists()
    assert not (run_dir / "figures" / "gradient_flow.png").exists()


def test_cli_probe_every_then_plot_redraws(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(["train", "--dataset", "xor", "--samples", "80", "--epochs", "2", "--probe-every", "2",
                      "--name", "q"], capsys)
    assert code == 0
    figure = tmp_path / "runs" / "q" / "figures" / "gradient_flow.png"
    figure.unlink()
    code, text, _ = run(["plot", "runs/q"], capsys)
    assert code == 0 and "gradient_flow.png" in text and figure.exists()


def test_cli_probe_every_must_be_positive(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["train", "--probe-every", "0"], capsys)
    assert code == 2 and "probe_every" in err and err.count("\n") == 1


def test_corrupt_probes_file_is_a_value_error(tmp_path):
    bad = tmp_path / PROBES
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a readable probes file"):
        read_probes(bad)


def test_flow_plot_checks_shapes(tmp_path):
    arrays = {k: np.zeros((3, 2)) for k in ("grad_W_norm", "attenuation", "update_ratio", "saturated_pct", "dead_pct")}
    arrays["steps"] = np.arange(3)
    with pytest.raises(ValueError, match=r"expected \(3, 3\)"):
        plot_gradient_flow(arrays, ["a", "b", "c"], tmp_path / "f.png")
    with pytest.raises(ValueError, match="recorded no steps"):
        plot_gradient_flow({**arrays, "steps": np.arange(0)}, ["a", "b"], tmp_path / "f.png")
