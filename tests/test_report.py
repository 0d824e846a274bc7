"""The experiment contract (run_experiment, strict JSON) and the self-contained HTML report."""

import base64
import json
import re

import numpy as np
import pytest

from deltaflow import experiments
from deltaflow.experiments.base import (Experiment, Ticker, backprop, full_batch, run_experiment, to_json_ready,
                                       write_json)
from deltaflow.nn.losses import MeanSquaredError
from deltaflow.nn.network import mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.report import build_report
from deltaflow.viz.canvas import new_figure, save


def _figure(result, path):
    fig = new_figure((2, 2))
    fig.add_subplot().plot(result["curve"])
    return save(fig, path)


def _fake(name="fake", **extra):
    def run(quick=False, seed=0, progress=None):
        for i in range(3):
            if progress:
                progress(i + 1, 3)
        return {"name": name, "title": "A <fake> result", "quick": quick, "seed": seed,
                "findings": ["ratio 1e-3 < 2 & falls"], "curve": np.arange(4.0) * seed,
                "tables": [{"title": "t", "columns": ["depth", "ratio"], "rows": [[2, 0.5], [5, None]]}], **extra}
    return Experiment(name, "A fake", run, _figure)


def test_to_json_ready_makes_strict_json():
    data = {"a": np.array([1.0, np.nan, np.inf]), "b": np.float32(0.5), "c": np.int64(3), "d": (np.bool_(True),)}
    assert to_json_ready(data) == {"a": [1.0, None, None], "b": 0.5, "c": 3, "d": [True]}
    json.dumps(to_json_ready(data), allow_nan=False)


def test_run_experiment_writes_json_and_png(tmp_path):
    calls = []
    result, js, png = run_experiment(_fake(), tmp_path / "x", seed=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert json.loads(js.read_text()) == to_json_ready(result)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["fake.png", "result.json"]


def test_ticker_reports_each_unit_done_and_runs_without_a_progress():
    calls = []
    ticker = Ticker(lambda done, total: calls.append((done, total)), 3)
    for _ in range(3):
        ticker.tick()
    assert calls == [(1, 3), (2, 3), (3, 3)] and ticker.done == 3
    silent = Ticker(None, 2, done=1)
    silent.tick()
    assert silent.done == 2


def test_backprop_fills_this_batch_gradient_and_full_batch_steps_on_it(rng):
    X, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    net, loss = mlp([3, 4, 1], "tanh", dtype=np.float64, rng=np.random.default_rng(0)), MeanSquaredError()
    first = backprop(net, loss, X, y)
    grads = [p.grad.copy() for p in net.parameters()]
    assert backprop(net, loss, X, y) == first  # the second pass starts from zeroed gradients
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_array_equal(p.grad, g)
    assert first == pytest.approx(np.mean((net.forward(X, False) - y) ** 2), rel=1e-12)
    history = full_batch(net, loss, get_optimizer("sgd", net.parameters(), lr=0.1), X, y, 3)
    assert history[0] == first and history[2] < history[0]


def test_a_result_missing_findings_is_refused(tmp_path):
    bad = Experiment("bad", "bad", lambda quick, seed, progress: {"name": "bad", "title": "", "tables": []}, _figure)
    with pytest.raises(RuntimeError, match="returned no 'findings'"):
        run_experiment(bad, tmp_path)
    assert not tmp_path.joinpath("result.json").exists()


def test_write_json_replaces_atomically(tmp_path):
    path = write_json({"v": 1}, tmp_path / "r.json")
    with pytest.raises(TypeError):
        write_json({"v": object()}, path)  # not serialisable: the old file stays whole
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_unknown_experiment_names_the_choices():
    with pytest.raises(ValueError, match="unknown experiment 'nope'; choose one of xor, collapse"):
        experiments.get("nope")


def test_report_inlines_every_figure_and_escapes_text(tmp_path, monkeypatch):
    fakes = {"one": _fake("one"), "two": _fake("two")}
    monkeypatch.setattr(experiments, "get", fakes.__getitem__)
    started = []
    page_path = build_report(tmp_path, ["one", "two"], seed=1, on_start=started.append)
    assert started == ["one", "two"]
    page = page_path.read_text()
    for name in ("one", "two"):
        png = (tmp_path / name / f"{name}.png").read_bytes()
        assert f"data:image/png;base64,{base64.b64encode(png).decode()}" in page
        assert f'<section id="{name}">' in page
    assert "A &lt;fake&gt; result" in page and "ratio 1e-3 &lt; 2 &amp; falls" in page
    assert "<td>0.5</td><td>—</td>" not in page and "<td>5</td><td>—</td>" in page
    # nothing is fetched from anywhere: no src/href to another document or host
    assert re.findall(r'(?:src|href)="(?!data:|#)', page) == []
