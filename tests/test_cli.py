"""The ``deltaflow`` command, run in-process: files it writes, numbers it prints, and its errors."""

import csv
import io
import json

import numpy as np
import pytest

from deltaflow import cli
from deltaflow.training.config import load_config
from deltaflow.data import DATASETS, load_dataset
from deltaflow.training.io import load_model
from deltaflow.training.runs import Predictor, read_history
from deltaflow.training.trainer import fit

QUICK = ["--samples", "80", "--epochs", "3", "--layers", "6", "--no-figures"]


def run(argv, capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``deltaflow argv``."""
    with pytest.raises(SystemExit) as exc:
        cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return exc.value.code, captured.out, captured.err


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def spiral_run(tmp_path_factory):
    """One small spiral run (figures included), trained once for the tests that read it."""
    root = tmp_path_factory.mktemp("spiral")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        with pytest.raises(SystemExit) as exc:
            cli.main(["train", "--dataset", "spiral", "--samples", "100", "--noise", "0.1", "--epochs", "4",
                      "--layers", "8", "--name", "s", "--seed", "3"])
    assert exc.value.code == 0
    return root / "runs" / "s"


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- train ---------------------------------------------------------------------------


def test_train_writes_the_run(spiral_run):
    assert sorted(p.name for p in spiral_run.iterdir()) == ["config.json", "figures", "history.csv", "model.npz"]
    assert sorted(p.name for p in (spiral_run / "figures").iterdir()) == [
        "confusion.png", "decision_boundary.png", "history.png"]
    with (spiral_run / "history.csv").open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr", "grad_norm"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]


def test_train_regression_writes_r2_and_fit_figure(in_tmp, capsys):
    code, _, err = run(["train", "--dataset", "sin", "--samples", "60", "--epochs", "2", "--name", "r"], capsys)
    assert code == 0 and "run written to runs/r/" in err
    assert list(read_history(in_tmp / "runs/r/history.csv"))[3:5] == ["train_r2", "test_r2"]
    assert sorted(p.name for p in (in_tmp / "runs/r/figures").iterdir()) == ["fit.png", "history.png"]


def test_train_from_config_reproduces_fit_exactly(in_tmp, capsys):
    cfg = {"name": "c", "data": {"name": "moons", "n_samples": 120}, "model": {"hidden": [8, 8], "norm": "batch",
           "dropout": 0.1}, "optimizer": {"name": "adam", "lr": 0.02}, "schedule": {"name": "cosine"},
           "epochs": 5, "batch_size": 16, "seed": 7}
    (in_tmp / "c.json").write_text(json.dumps(cfg))
    code, _, _ = run(["train", "--config", "c.json", "--no-figures"], capsys)
    assert code == 0
    expected = fit(load_config(in_tmp / "c.json")).history
    written = read_history(in_tmp / "runs/c/history.csv")
    assert list(written) == list(expected)
    for key in expected:  # bit for bit: history.csv holds repr(float)
        assert [float(v).hex() for v in written[key]] == [float(v).hex() for v in expected[key]], key


def test_flags_override_the_config(in_tmp, capsys):
    (in_tmp / "c.json").write_text(json.dumps({"name": "c", "data": {"name": "spiral", "noise": 0.2},
                                               "model": {"hidden": [5, 5]}, "optimizer": {"lr": 0.03},
                                               "epochs": 9}))
    code, _, _ = run(["train", "-c", "c.json", "--lr", "0.5", "--epochs", "2", "--activation", "relu,tanh",
                      "--no-figures"], capsys)
    assert code == 0
    written = load_config(in_tmp / "runs/c/config.json")
    assert (written.optimizer.lr, written.epochs, written.model.activation) == (0.5, 2, ["relu", "tanh"])
    assert (written.model.hidden, written.data.noise) == ([5, 5], 0.2)  # not overridden: kept
    assert len(read_history(in_tmp / "runs/c/history.csv")["epoch"]) == 2


def test_dataset_flag_drops_the_other_sets_settings(in_tmp, capsys):
    (in_tmp / "c.json").write_text(json.dumps({"data": {"name": "spiral", "noise": 0.2, "n_samples": 50}}))
    code, _, _ = run(["train", "-c", "c.json", "--dataset", "iris", "--epochs", "1", "--name", "i",
                      "--no-figures"], capsys)
    assert code == 0  # iris is a fixed set: it refuses noise and n_samples, so they are not carried over
    data = load_config(in_tmp / "runs/i/config.json").data
    assert (data.name, data.noise, data.n_samples) == ("iris", None, None)


def test_divergence_is_reported_and_written(in_tmp, capsys):
    code, _, err = run(["train", "--dataset", "spiral", "--samples", "100", "--layers", "32,32,32,32",
                        "--activation", "relu", "--optimizer", "sgd", "--lr", "100", "--epochs", "5",
                        "--name", "d"], capsys)
    assert code == 3  # diverged (see cli's docstring); the run is written and the message says what happened
    assert "training stopped at step 4 (epoch 1): the loss became nan; first non-finite: layer 2 Dense" in err
    m = load_model(in_tmp / "runs/d/model.npz")
    assert m.meta["stop_reason"] == "diverged"
    assert all(np.isfinite(v).all() for v in m.net.state_dict().values())


def test_ctrl_c_keeps_the_completed_epochs(in_tmp, capsys, monkeypatch):
    batches = 64 // 16  # 80 samples, 20 % held out, batch 16

    def interrupt(self, trainer, step, loss):
        if step == 2 * batches + 2:  # during the third epoch
            raise KeyboardInterrupt

    monkeypatch.setattr(cli._ProgressCallback, "on_step", interrupt)
    code, _, err = run(["train", "--dataset", "spiral", *QUICK[:2], "--epochs", "5", "--batch-size", "16",
                        "--name", "k"], capsys)
    assert code == 130 and "interrupted after 2 epochs" in err
    history = read_history(in_tmp / "runs/k/history.csv")
    assert history["epoch"] == [1, 2]
    # the saved weights are those at the end of epoch 2: they give its test loss exactly
    pred = Predictor(load_model(in_tmp / "runs/k/model.npz"))
    d = load_dataset("spiral", n_samples=80)
    assert pred.evaluate(d.X_test_raw, d.y_test)[0] == history["test_loss"][-1]
    assert (in_tmp / "runs/k/figures/history.png").is_file()


def test_ctrl_c_in_on_epoch_keeps_weights_matching_history(in_tmp, capsys, monkeypatch):
    def interrupt(self, trainer, epoch, row):
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli._ProgressCallback, "on_epoch", interrupt)
    run(["train", "--dataset", "spiral", *QUICK[:2], "--epochs", "5", "--name", "k"], capsys)
    history = read_history(in_tmp / "runs/k/history.csv")
    d = load_dataset("spiral", n_samples=80)
    pred = Predictor(load_model(in_tmp / "runs/k/model.npz"))
    assert pred.evaluate(d.X_test_raw, d.y_test)[0] == history["test_loss"][-1]


# --- evaluate and predict -----------------------------------------------------------------


def _printed(out: str, key: str) -> str:
    words = out.split()
    return words[words.index(key) + 1]


def test_evaluate_matches_the_last_history_row(spiral_run, capsys):
    code, out, _ = run(["evaluate", spiral_run / "model.npz"], capsys)
    history = read_history(spiral_run / "history.csv")
    assert code == 0 and out.startswith("spiral test part (20 rows): ")
    assert _printed(out, "loss") == f"{history['test_loss'][-1]:.6f}"
    assert _printed(out, "accuracy") == f"{history['test_accuracy'][-1]:.4f}"


def test_evaluate_on_another_dataset(spiral_run, capsys):
    code, out, _ = run(["evaluate", spiral_run / "model.npz", "--dataset", "circle", "--seed", "1"], capsys)
    d = load_dataset("circle", seed=1)
    loss, acc = Predictor(load_model(spiral_run / "model.npz")).evaluate(d.X_test_raw, d.y_test)
    assert code == 0 and out.startswith("circle test part (100 rows)")
    assert (_printed(out, "loss"), _printed(out, "accuracy")) == (f"{loss:.6f}", f"{acc:.4f}")


def _labelled_csv(path, n=90):
    """Three blobs labelled 3, 5 and 7, columns a, b, label; returns (X, y) as the file holds them."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2)) + np.repeat([[0, 0], [4, 0], [0, 4]], n // 3, axis=0)
    y = np.repeat([3, 5, 7], n // 3)
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,label", comments="", fmt="%.6f")
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return table[:, :2], table[:, 2]


def test_csv_model_with_original_labels(in_tmp, capsys):
    X, y = _labelled_csv(in_tmp / "blobs.csv")
    code, _, _ = run(["train", "--csv", "blobs.csv", "--target", "label", "--epochs", "20", "--name", "b"], capsys)
    assert code == 0
    model = in_tmp / "runs/b/model.npz"
    pred = Predictor(load_model(model))

    code, out, _ = run(["evaluate", model, "--csv", "blobs.csv", "--target", "label"], capsys)
    loss, acc = pred.evaluate(X, y)
    assert code == 0 and acc > 0.9
    assert (_printed(out, "loss"), _printed(out, "accuracy")) == (f"{loss:.6f}", f"{acc:.4f}")

    # the training file itself: its label column is ignored, the inputs are found by name
    code, out, _ = run(["predict", model, "blobs.csv"], capsys)
    rows = _csv_rows(out)
    assert code == 0 and rows[0] == ["prediction", "p_3", "p_5", "p_7"]
    assert [int(r[0]) for r in rows[1:]] == pred.predict(X).tolist()
    proba = np.array([[np.float32(v) for v in r[1:]] for r in rows[1:]])
    assert np.array_equal(proba, pred.predict_proba(X))  # written in full: read back exactly


def test_predict_toy_model_with_derived_features(in_tmp, capsys):
    code, _, _ = run(["train", "--dataset", "circle", "--features", "x1,x2,x1^2,x2^2,x1x2", *QUICK, "--name", "f"],
                     capsys)
    assert code == 0
    X = np.array([[0.0, 0.0], [5.0, -4.5], [-1.25, 2.5]])
    np.savetxt(in_tmp / "points.csv", X, delimiter=",", header="u,v", comments="")
    code, out, _ = run(["predict", "runs/f/model.npz", "points.csv", "-o", "out.csv"], capsys)
    assert code == 0 and out == ""
    rows = _csv_rows((in_tmp / "out.csv").read_text())
    pred = Predictor(load_model(in_tmp / "runs/f/model.npz"))
    assert pred.net.n_in == 5 and len(rows) == 4
    assert [int(r[0]) for r in rows[1:]] == pred.predict(X).tolist()
    assert np.array_equal(np.array([[np.float32(v) for v in r[1:]] for r in rows[1:]]), pred.predict_proba(X))
    assert [p.name for p in in_tmp.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_predict_regression_values(in_tmp, capsys):
    run(["train", "--dataset", "sin", *QUICK, "--name", "r"], capsys)
    X = np.linspace(-3, 3, 7)[:, None]
    np.savetxt(in_tmp / "x.csv", X, delimiter=",", header="x", comments="")
    code, out, _ = run(["predict", "runs/r/model.npz", "x.csv"], capsys)
    rows = _csv_rows(out)
    assert code == 0 and rows[0] == ["prediction"]
    expected = Predictor(load_model(in_tmp / "runs/r/model.npz")).predict(X)
    assert np.array_equal(np.array([np.float32(r[0]) for r in rows[1:]]), expected)


# --- datasets, plot, help ------------------------------------------------------------------


def test_datasets_lists_every_name(capsys, monkeypatch):
    monkeypatch.setattr(cli.out, "width", 200)  # no truncated cells
    code, out, _ = run(["datasets"], capsys)
    first_cells = {line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")}
    assert code == 0 and first_cells == set(DATASETS)


def test_plot_recreates_the_figures(spiral_run, capsys):
    figures = spiral_run / "figures"
    for p in figures.iterdir():
        p.unlink()
    code, out, _ = run(["plot", spiral_run], capsys)
    names = ["history.png", "decision_boundary.png", "confusion.png"]
    assert code == 0 and out.split() == [str(figures / n) for n in names]
    assert all((figures / n).stat().st_size > 1000 for n in names)


@pytest.mark.parametrize(
    "command, mentions",
    [
        ([], ["train", "evaluate", "predict", "datasets", "plot"]),
        (["train"], ["--config", "--dataset", "--layers", "--activation", "--optimizer", "--lr", "--epochs",
                     "--batch-size", "--seed", "--features"]),
        (["evaluate"], ["{model}", "--dataset", "--csv", "--target", "--seed"]),
        (["predict"], ["{model}", "{input_csv}", "--output"]),
        (["datasets"], ["List the data sets"]),
        (["plot"], ["{run_dir}"]),
    ],
)
def test_help_on_every_command(command, mentions, capsys):
    code, out, err = run([*command, "--help"], capsys)
    assert code == 0 and err == ""
    for word in mentions:
        assert word in out


def test_no_arguments_prints_help_once(capsys):
    code, out, err = run([], capsys)
    assert code == 2 and (out + err).count("Usage:") == 1


# --- bad input: status 2, one line, no traceback -----------------------------------------------


def _bad_files(d):
    (d / "bad.json").write_text("{not json")
    (d / "unknown.json").write_text('{"epochs": 3, "colour": "red"}')
    (d / "corrupt.npz").write_bytes(b"PK\x03\x04" + bytes(200))
    (d / "three.csv").write_text("a,b,c\n1,2,3\n")
    (d / "text.csv").write_text("a,b\n1,2\n3,x\n")
    (d / "notarun").mkdir()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--dataset", "nope"], "unknown data set 'nope'; choose one of circle"),
        (["train", "--layers", "8,x"], "--layers must be a comma-separated list, got '8,x'"),
        (["train", "--layers", "8,,8"], "--layers has an empty item in '8,,8'; separate the values by single commas"),
        (["train", "--layers", "8,8,"], "--layers has an empty item in '8,8,'"),
        (["train", "--lr", "-0.1"], "optimizer.lr: Input should be greater than 0"),
        (["train", "--lr", "nan"], "optimizer.lr: Input should be a finite number"),
        (["train", "--name", "../evil"], "name: '../evil' is not a run name: use 1 to 64 letters, digits"),
        (["train", "--optimizer", "adamx"], "optimizer.name: Input should be 'sgd', 'momentum'"),
        (["train", "--activation", "swish"], "model.activation: unknown activation 'swish'"),
        (["train", "--config", "missing.json"], "config file missing.json does not exist"),
        (["train", "--config", "bad.json"], "config file bad.json is not valid JSON"),
        (["train", "--config", "unknown.json"], "config file unknown.json: colour: Extra inputs are not permitted"),
        (["train", "--frobnicate"], "No such option: --frobnicate"),
        (["train", "--epochs", "many"], "Invalid value for '--epochs'"),
        (["evaluate", "missing.npz"], "model file missing.npz does not exist"),
        (["evaluate", "corrupt.npz"], "corrupt.npz is not a deltaflow model file"),
        (["predict", "{model}", "three.csv"], "three.csv has 3 columns, the model expects 2 (x1, x2)"),
        (["predict", "{model}", "text.csv"], "text.csv line 3, column 'b': 'x' is not a number"),
        (["predict", "{model}", "missing.csv"], "missing.csv: no such file"),
        (["evaluate", "{model}", "--target", "y"], "--target applies to --csv only"),
        (["plot", "notarun"], "notarun is not a run folder: config.json is missing"),
        (["fly"], "No such command 'fly'"),
    ],
)
def test_bad_input_is_one_line_and_status_2(argv, message, in_tmp, spiral_run, capfd):
    _bad_files(in_tmp)
    argv = [a.replace("{model}", str(spiral_run / "model.npz")) for a in argv]
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    captured = capfd.readouterr()
    assert exc.value.code == 2
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not (in_tmp / "runs").exists()  # nothing half-written


# --- model files saved without a run (save_model(path, net)) ------------------------------


@pytest.fixture
def bare_models(in_tmp):
    """Models saved with the public save_model and nothing else: 3 outputs and 1 output."""
    from deltaflow.nn.network import mlp
    from deltaflow.training.io import save_model

    save_model(in_tmp / "k3.npz", mlp([2, 4, 3], rng=0))
    save_model(in_tmp / "r1.npz", mlp([2, 4, 1], rng=0))
    (in_tmp / "in.csv").write_text("x1,x2\n1,2\n0.5,-1\n")
    (in_tmp / "labelled.csv").write_text("x1,x2,label\n1,2,0\n0.5,-1,2\n")
    return in_tmp


def test_bare_model_predicts_evaluates_and_explains(bare_models, capsys):
    pred = Predictor(load_model(bare_models / "k3.npz"))
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    code, out, err = run(["predict", "k3.npz", "in.csv"], capsys)
    rows = _csv_rows(out)
    assert code == 0, err
    assert rows[0] == ["prediction", "p_0", "p_1", "p_2"] and [int(r[0]) for r in rows[1:]] == pred.predict(X).tolist()
    code, out, err = run(["evaluate", "k3.npz", "--csv", "labelled.csv"], capsys)
    loss, acc = pred.evaluate(X, [0, 2])
    assert code == 0, err
    assert (_printed(out, "loss"), _printed(out, "accuracy")) == (f"{loss:.6f}", f"{acc:.4f}")
    code, out, err = run(["explain", "--model", "k3.npz", "--x", "1,2", "--y", "2"], capsys)
    assert code == 0 and "δ^(1)" in out, err
    code, out, err = run(["predict", "r1.npz", "in.csv"], capsys)
    assert code == 0 and _csv_rows(out)[0] == ["prediction"], err
    code, out, err = run(["explain", "--model", "r1.npz", "--x", "1,2", "--y", "0.5"], capsys)
    assert code == 0 and "δ^(1)" in out, err


def test_evaluate_csv_without_its_target_counts_the_file_columns(bare_models, capfd):
    with pytest.raises(SystemExit) as exc:
        cli.main(["evaluate", "k3.npz", "--csv", "in.csv"])
    err = capfd.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert ("in.csv has 2 columns: the target 'x2' and 1 input column; the model expects 2 input columns and a "
            "target (is the target column missing? name it with --target)") in err


def test_evaluate_csv_finds_the_trained_target_by_name(in_tmp, capsys):
    X, y = _labelled_csv(in_tmp / "blobs.csv")
    run(["train", "--csv", "blobs.csv", "--target", "label", "--epochs", "3", "--name", "b", "--no-figures"], capsys)
    lines = ["label,a,b"] + [f"{int(t)},{float(u)!r},{float(v)!r}" for t, (u, v) in zip(y, X)]
    (in_tmp / "first.csv").write_text("\n".join(lines) + "\n")  # the target first: not the last column
    code, out, err = run(["evaluate", "runs/b/model.npz", "--csv", "first.csv"], capsys)
    loss, acc = Predictor(load_model(in_tmp / "runs/b/model.npz")).evaluate(X, y)
    assert code == 0, err
    assert (_printed(out, "loss"), _printed(out, "accuracy")) == (f"{loss:.6f}", f"{acc:.4f}")


@pytest.mark.parametrize("meta, message", [
    ({"task": "classification", "loss": "cross_entropy", "class_labels": [1, 2]},
     "the network outputs 3 values, but a classification over 2 classes"),
    ({"task": "sorting"}, "metadata 'task' must be 'classification' or 'regression', got 'sorting'"),
    ({"n_classes": [3]}, "metadata 'n_classes' must be an integer ≥ 2, got [3]"),
])
@pytest.mark.parametrize("command", ["predict", "evaluate", "explain"])
def test_malformed_metadata_is_one_line_in_every_command(in_tmp, capfd, meta, message, command):
    from deltaflow.nn.network import mlp
    from deltaflow.training.io import save_model

    save_model(in_tmp / "m.npz", mlp([2, 4, 3], rng=0), meta=meta)
    (in_tmp / "in.csv").write_text("x1,x2,y\n1,2,0\n")
    argv = {"predict": ["predict", "m.npz", "in.csv"], "evaluate": ["evaluate", "m.npz", "--csv", "in.csv"],
            "explain": ["explain", "--model", "m.npz", "--x", "1,2", "--y", "0"]}[command]
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    err = capfd.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and err.startswith("error: m.npz: ")
    assert message in err


def test_one_column_is_singular(in_tmp, spiral_run, capfd):
    (in_tmp / "one.csv").write_text("a\n1\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["predict", str(spiral_run / "model.npz"), "one.csv"])
    assert exc.value.code == 2
    assert "one.csv has 1 column, the model expects 2 (x1, x2)" in capfd.readouterr().err


def test_predict_refuses_a_value_beyond_float32(in_tmp, spiral_run, capfd):
    (in_tmp / "big.csv").write_text("x1,x2\n1,2\n3,4e38\n")
    with pytest.raises(SystemExit) as exc:
        cli.main(["predict", str(spiral_run / "model.npz"), "big.csv"])
    err = capfd.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "big.csv line 3, column 'x2': '4e38' is beyond the range of float32" in err
