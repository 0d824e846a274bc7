"""``deltaflow experiment NAME`` and ``deltaflow report``, run on reduced grids."""

import json

from deltaflow.experiments import get

from test_cli import run


def test_experiment_writes_json_and_figure_under_experiments(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, text, err = run(["experiment", "collapse", "--quick", "--seed", "1"], capsys)
    assert code == 0
    folder = tmp_path / "experiments" / "collapse"
    result = json.loads((folder / "result.json").read_text())
    assert result["name"] == "collapse" and result["seed"] == 1 and result["quick"] is True
    assert (folder / "collapse.png").read_bytes().startswith(b"\x89PNG")
    assert all(f in text for f in result["findings"])  # the findings are printed
    assert "wrote experiments/collapse/result.json" in err


def test_experiment_out_folder_and_the_same_numbers_as_the_api(tmp_path, capsys):
    code, _, _ = run(["experiment", "xor", "--quick", "--out", tmp_path / "x"], capsys)
    assert code == 0
    from deltaflow.experiments.base import to_json_ready

    assert json.loads((tmp_path / "x" / "result.json").read_text()) == to_json_ready(get("xor").run(quick=True))


def test_unknown_experiment_exits_2(capsys):
    code, _, err = run(["experiment", "nope"], capsys)
    assert code == 2 and err == ("error: unknown experiment 'nope'; choose one of xor, collapse, uat, vanishing, "
                                 "exploding, cost, optimizers, batchnorm, losses\n")


def test_report_runs_the_chosen_experiments_into_one_page(tmp_path, capsys):
    code, _, err = run(["report", "--quick", "--only", "xor,collapse", "--out", tmp_path], capsys)
    assert code == 0 and f"report written to {tmp_path}/report.html" in err
    page = (tmp_path / "report.html").read_text()
    assert '<section id="xor">' in page and '<section id="collapse">' in page and "data:image/png;base64," in page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["collapse", "report.html", "xor"]


def test_report_with_an_unknown_name_does_no_work(tmp_path, capsys):
    code, _, err = run(["report", "--only", "xor,nope", "--out", tmp_path], capsys)
    assert code == 2 and "unknown experiment 'nope'" in err
    assert list(tmp_path.iterdir()) == []
