"""Runs on disk (history.csv, model.npz, figures) and the Predictor that reads them back."""

import numpy as np
import pytest

from deltaflow.training.config import RunConfig
from deltaflow.viz.figures import run_figures
from deltaflow.training.io import load_model
from deltaflow.training.runs import Predictor, load_run_config, read_history, save_run, write_history
from deltaflow.training.trainer import fit

CLASSIFIER_COLUMNS = ["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr", "grad_norm"]
REGRESSOR_COLUMNS = ["epoch", "train_loss", "test_loss", "train_r2", "test_r2", "lr", "grad_norm"]


def _config(**data) -> RunConfig:
    """A few quick epochs on a small set."""
    extra = data.pop("extra", {})
    return RunConfig.from_dict({"data": data, "model": {"hidden": [6]}, "epochs": 3, "batch_size": 16, **extra})


def _hex(history: dict) -> dict:
    return {k: [float(v).hex() for v in vs] for k, vs in history.items()}


def test_history_csv_round_trips_bit_for_bit(tmp_path):
    result = fit(_config(name="spiral", n_samples=80, noise=0.1, extra={"schedule": {"name": "cosine"}}))
    run = save_run(result, tmp_path, figures=False)
    back = read_history(run / "history.csv")
    assert list(back) == CLASSIFIER_COLUMNS
    assert back["epoch"] == [1, 2, 3]
    assert _hex(back) == _hex(result.history)
    assert len(set(back["lr"])) == 3  # the cosine schedule's lr per epoch is recorded, not a constant


def test_history_of_float32_values_is_exact(tmp_path):
    h = {"epoch": [1], "train_loss": [np.float32(0.1)], "x": [np.float64(1 / 3)]}
    write_history(h, tmp_path / "h.csv")
    back = read_history(tmp_path / "h.csv")
    assert back["train_loss"] == [float(np.float32(0.1))] and back["x"] == [1 / 3]


def test_regression_history_has_r2_columns(tmp_path):
    run = save_run(fit(_config(name="sin", n_samples=60)), tmp_path, figures=False)
    assert list(read_history(run / "history.csv")) == REGRESSOR_COLUMNS


def test_bad_history_names_line_and_column(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,train_loss\n1,0.5\n2,abc\n")
    with pytest.raises(ValueError, match=r"h\.csv line 3, column 'train_loss': 'abc' is not a number"):
        read_history(tmp_path / "h.csv")


def test_run_folder_contents(tmp_path):
    cfg = _config(name="spiral", n_samples=80, noise=0.1, extra={"name": "s"})
    result = fit(cfg)
    run = save_run(result, tmp_path)
    assert run == tmp_path / "s"
    assert load_run_config(run) == cfg
    assert sorted(p.name for p in (run / "figures").iterdir()) == ["confusion.png", "decision_boundary.png",
                                                                   "history.png"]
    m = load_model(run / "model.npz")
    assert RunConfig.from_dict(m.config) == cfg
    assert m.meta["stop_reason"] == "completed" and m.meta["class_labels"] == [0, 1]


@pytest.mark.parametrize(
    "data, figures",
    [
        ({"name": "sin", "n_samples": 60}, ["fit.png", "history.png"]),
        ({"name": "plane", "n_samples": 60}, ["history.png"]),
        ({"name": "iris"}, ["confusion.png", "history.png"]),
    ],
)
def test_figures_follow_the_task(tmp_path, data, figures):
    run = save_run(fit(_config(**data)), tmp_path)
    assert sorted(p.name for p in (run / "figures").iterdir()) == figures


def test_reused_run_name_drops_stale_figures(tmp_path):
    save_run(fit(_config(name="spiral", n_samples=60, extra={"name": "r"})), tmp_path)
    run = save_run(fit(_config(name="sin", n_samples=60, extra={"name": "r"})), tmp_path)
    assert sorted(p.name for p in (run / "figures").iterdir()) == ["fit.png", "history.png"]


def test_unnamed_runs_get_distinct_folders(tmp_path):
    result = fit(_config(name="gauss", n_samples=40, extra={"epochs": 1}))
    a, b = save_run(result, tmp_path, figures=False), save_run(result, tmp_path, figures=False)
    assert a != b and a.name.startswith("gauss-") and b.name.startswith(a.name)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "spiral", "n_samples": 80, "noise": 0.1, "features": ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1"]},
        {"name": "iris"},
        {"name": "sin", "n_samples": 60},
        {"name": "plane", "n_samples": 60, "standardize": False},
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predictor_reproduces_the_training_pipeline_bit_for_bit(tmp_path, data, dtype):
    result = fit(_config(**data, extra={"dtype": dtype}))
    d = result.dataset
    pred = Predictor(load_model(save_run(result, tmp_path, figures=False) / "model.npz"))
    # raw rows → the very array the network saw in training
    assert np.array_equal(pred.prepare(d.X_test_raw), d.X_test)
    assert pred.prepare(d.X_test_raw).dtype == np.dtype(dtype)
    y = np.asarray(d.class_labels)[d.y_test] if d.task == "classification" else d.y_test
    loss, score = pred.evaluate(d.X_test_raw, y)
    assert loss == result.final("test_loss")
    assert score == result.final("test_" + result.metric_name)


def test_predictor_maps_classes_to_original_labels(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2)) + np.repeat([[0, 0], [4, 0], [0, 4]], 30, axis=0)
    y = np.repeat([3, 5, 7], 30)
    path = tmp_path / "t.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,label", comments="", fmt="%.6f")
    result = fit(_config(name="csv", path=str(path), target="label", extra={"epochs": 20}))
    pred = Predictor(load_model(save_run(result, tmp_path, figures=False) / "model.npz"))
    assert pred.meta["class_labels"] == [3, 5, 7] and pred.input_names == ["a", "b"]
    labels = pred.predict(X)
    assert set(labels.tolist()) <= {3, 5, 7}
    assert np.mean(labels == y) > 0.9
    assert np.array_equal(pred.class_index([7, 3, 5]), [2, 0, 1])
    with pytest.raises(ValueError, match=r"labels \[4.0\] are not classes the model was trained on \(\[3, 5, 7\]\)"):
        pred.class_index([3, 4])


def test_predictor_refuses_rows_of_the_wrong_width(tmp_path):
    result = fit(_config(name="spiral", n_samples=60, features=["x1", "x2", "x1x2"]))
    pred = Predictor(load_model(save_run(result, tmp_path, figures=False) / "model.npz"))
    assert pred.n_inputs == 2  # raw points, not the 3 derived features
    with pytest.raises(ValueError, match=r"expected input rows of 2 values, got shape \(4, 3\)"):
        pred.prepare(np.zeros((4, 3)))


def test_run_diverged_in_first_epoch_is_still_written(tmp_path):
    cfg = RunConfig.from_dict({"data": {"name": "spiral", "n_samples": 100}, "model": {"hidden": [32] * 4,
                              "activation": "relu"}, "optimizer": {"name": "sgd", "lr": 100.0}, "epochs": 5})
    result = fit(cfg)
    assert result.stop_reason == "diverged"
    run = save_run(result, tmp_path)
    m = load_model(run / "model.npz")
    assert m.meta["stop_reason"] == "diverged" and m.meta["message"] == result.message
    assert all(np.isfinite(v).all() for v in m.net.state_dict().values())
    # no epoch completed, so no history figure (which kept weights draw the others is train.py's choice)
    names = {p.name for p in (run / "figures").iterdir()}
    assert names <= {"confusion.png", "decision_boundary.png"}
    assert read_history(run / "history.csv") == {k: [] for k in CLASSIFIER_COLUMNS}


def test_figures_that_would_plot_non_finite_predictions_are_left_out(tmp_path):
    result = fit(_config(name="spiral", n_samples=60))
    run = save_run(result, tmp_path)
    model = load_model(run / "model.npz")
    model.net.parameters()[-2].value[:] = np.finfo(np.float32).max  # finite, but its sums overflow float32
    pred = Predictor(model)
    with np.errstate(all="ignore"):
        assert not np.isfinite(pred.output(result.dataset.X_test_raw)).all()
    assert run_figures(run, pred, result.dataset, result.history) == [run / "figures/history.png"]
    assert [p.name for p in (run / "figures").iterdir()] == ["history.png"]  # the earlier ones are removed


def test_invalid_run_config_names_the_file(tmp_path):
    (tmp_path / "config.json").write_text('{"epochs": 0}')
    with pytest.raises(ValueError, match=r"config\.json: epochs: Input should be greater than or equal to 1"):
        load_run_config(tmp_path)
