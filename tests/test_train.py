"""fit() and Trainer: determinism, the history and what its columns mean, steps, callbacks,
early stopping, divergence, Ctrl-C, the penalties and clipping inside one step, dtypes,
the loss chosen from the task, and a data set without a test part."""

import math
import pickle
import re

import numpy as np
import pytest

from deltaflow.optim.clip import grad_norm
from deltaflow.training.config import RunConfig
from deltaflow.data import Dataset, load_dataset
from deltaflow.training.trainer import Callback, EarlyStopping, Trainer, fit

COLUMNS = ["epoch", "train_loss", "test_loss", "train_accuracy", "test_accuracy", "lr", "grad_norm"]


def config(**changes) -> RunConfig:
    """A small, quick run: 200 spiral points (160 train = 10 batches of 16), 8-8 tanh, Adam."""
    base = {
        "data": {"name": "spiral", "n_samples": 200, "noise": 0.1},
        "model": {"hidden": [8, 8], "activation": "tanh"},
        "optimizer": {"name": "adam", "lr": 0.03},
        "batch_size": 16,
        "epochs": 5,
        "seed": 0,
    }
    for key, value in changes.items():
        if isinstance(value, dict):
            base[key] = {**base.get(key, {}), **value}
        else:
            base[key] = value
    return RunConfig.from_dict(base)


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def all_finite(state: dict) -> bool:
    return all(np.isfinite(v).all() for v in state.values())


# ---------------------------------------------------------------- determinism


def test_same_config_and_seed_give_bit_identical_history_and_weights():
    # dropout and batch norm draw from and keep state too
    c = config(model={"hidden": [8, 8], "norm": "batch", "dropout": 0.1}, schedule={"name": "cosine"})
    a, b = fit(c), fit(c)
    assert a.history == b.history
    assert same_state(a.net.state_dict(), b.net.state_dict())
    other = fit(c.model_copy(update={"seed": 1}))
    assert other.history["train_loss"] != a.history["train_loss"]
    assert not np.array_equal(other.net.layers[0].W.value, a.net.layers[0].W.value)


def test_fit_run_and_run_epoch_are_the_same_loop():
    c = config(schedule={"name": "step", "step_size": 2, "gamma": 0.5})
    a = fit(c)
    b = Trainer(c).run()
    t = Trainer(c)
    rows = [t.run_epoch() for _ in range(c.epochs)]
    for h in (b.history, t.history):
        assert h == a.history
    assert rows[-1] == {k: a.history[k][-1] for k in COLUMNS}
    assert same_state(t.net.state_dict(), a.net.state_dict())
    assert t.epoch == c.epochs and t.step == a.steps == 10 * c.epochs


# ---------------------------------------------------------------- the history


def test_history_columns_one_row_per_epoch():
    c = config(epochs=4)
    r = fit(c)
    assert list(r.history) == COLUMNS
    assert r.history["epoch"] == [1, 2, 3, 4]
    assert all(len(v) == 4 for v in r.history.values())
    assert r.stop_reason == "completed" and r.message == "" and r.steps == 40
    for key in COLUMNS[1:]:
        assert all(isinstance(v, float) and math.isfinite(v) for v in r.history[key]), key
    assert all(0.0 <= v <= 1.0 for v in r.history["train_accuracy"] + r.history["test_accuracy"])
    assert r.history["train_loss"][-1] < r.history["train_loss"][0]


def test_history_rows_measure_the_network_at_the_end_of_each_epoch():
    """train_* and test_* are the whole parts evaluated (eval mode) after the epoch's last step;
    grad_norm is the mean of the epoch's gradient norms (before clipping)."""
    norms, measured = [], []

    class Recorder(Trainer):
        def train_step(self, X, target):
            loss, norm = super().train_step(X, target)
            norms.append(norm)
            return loss, norm

    class Measure(Callback):
        def on_epoch(self, trainer, epoch, row):
            d = trainer.dataset
            train = trainer.evaluate(d.X_train, d.y_train, trainer.task.targets(d.y_train))
            test = trainer.evaluate(d.X_test, d.y_test, trainer.task.targets(d.y_test))
            measured.append((*train, *test))

    c = config(epochs=3, clip_norm=0.5, model={"hidden": [8, 8], "norm": "batch", "dropout": 0.2})
    r = Recorder(c, callbacks=[Measure()]).run()
    h = r.history
    assert measured == list(zip(h["train_loss"], h["train_accuracy"], h["test_loss"], h["test_accuracy"]))
    assert h["grad_norm"] == [float(np.mean(norms[10 * e : 10 * e + 10])) for e in range(3)]
    assert max(norms) > 0.5  # the column holds the norms before clipping


def test_lr_column_follows_the_schedule():
    lr0 = 0.1
    step = fit(config(epochs=7, optimizer={"name": "sgd", "lr": lr0},
                      schedule={"name": "step", "step_size": 3, "gamma": 0.5}))
    # the lr the epoch trained with: η_e = η₀·γ^⌊e/step_size⌋ for e = 0, 1, ...
    assert step.history["lr"] == pytest.approx([lr0 * 0.5 ** (e // 3) for e in range(7)], rel=1e-12)
    cos = fit(config(epochs=6, optimizer={"name": "sgd", "lr": lr0}, schedule={"name": "cosine", "eta_min": 0.01}))
    expected = [0.01 + (lr0 - 0.01) * (1 + math.cos(math.pi * e / 6)) / 2 for e in range(6)]
    assert cos.history["lr"] == pytest.approx(expected, rel=1e-12)
    flat = fit(config(epochs=3))
    assert flat.history["lr"] == [0.03] * 3


# ---------------------------------------------------------------- steps and callbacks


class Counter(Callback):
    def __init__(self):
        self.steps, self.epochs, self.rows = [], [], []

    def on_step(self, trainer, step, loss):
        assert math.isfinite(loss) and step == trainer.step
        self.steps.append(step)

    def on_epoch(self, trainer, epoch, row):
        self.epochs.append(epoch)
        self.rows.append(dict(row))


@pytest.mark.parametrize(("steps", "rows"), [(3, 1), (10, 1), (25, 3), (30, 3)])
def test_steps_stops_after_exactly_n_optimizer_steps(steps, rows):
    counter = Counter()
    trainer = Trainer(config(steps=steps, epochs=1), callbacks=[counter])
    calls = []
    step = trainer.optimizer.step

    def counted_step():
        calls.append(1)
        step()

    trainer.optimizer.step = counted_step
    r = trainer.run()
    assert len(calls) == steps and r.steps == steps and counter.steps == list(range(1, steps + 1))
    assert r.history["epoch"] == list(range(1, rows + 1)) and r.stop_reason == "completed"


def test_callbacks_are_called_once_per_step_and_per_epoch():
    counter = Counter()
    r = fit(config(epochs=4, batch_size=32), callbacks=[counter])  # 160 rows: 5 batches
    assert counter.steps == list(range(1, 21))
    assert counter.epochs == [1, 2, 3, 4]
    assert counter.rows == [{k: r.history[k][i] for k in COLUMNS} for i in range(4)]


def test_every_callback_sees_the_epoch_that_stops_training():
    class Stop(Callback):
        def on_epoch(self, trainer, epoch, row):
            return epoch == 2

    counter = Counter()
    r = fit(config(epochs=10), callbacks=[Stop(), counter])
    assert r.stop_reason == "early_stopping" and r.history["epoch"] == [1, 2]
    assert counter.epochs == [1, 2]


# ---------------------------------------------------------------- early stopping


def overfitting_config():
    """A noisy spiral and a wide network: the test loss turns up after a few epochs."""
    return config(data={"n_samples": 120, "noise": 0.5}, model={"hidden": [32, 32]}, optimizer={"lr": 0.05},
                  epochs=100)


def test_early_stopping_stops_and_restores_the_best_weights():
    es = EarlyStopping(monitor="test_loss", patience=3)
    r = fit(overfitting_config(), callbacks=[es])
    losses = r.history["test_loss"]
    assert r.stop_reason == "early_stopping" and len(losses) < 100
    best = int(np.argmin(losses)) + 1
    assert es.best_epoch == best and len(losses) == best + 3  # 3 epochs without improvement
    assert losses[-1] > losses[best - 1]
    d = r.dataset
    out = r.net.forward(d.X_test, False)
    assert r.task.loss.forward(out, r.task.targets(d.y_test)) == losses[best - 1]


def test_early_stopping_on_accuracy_and_without_restoring():
    es = EarlyStopping(monitor="test_accuracy", patience=2, restore_best=False)
    t = Trainer(overfitting_config(), callbacks=[es])
    r = t.run()
    acc = r.history["test_accuracy"]
    assert r.stop_reason == "early_stopping" and es.best_epoch == int(np.argmax(acc)) + 1
    assert len(acc) == es.best_epoch + 2
    d = r.dataset
    # the weights are the last epoch's, not the best one's
    assert t.evaluate(d.X_test, d.y_test, t.task.targets(d.y_test))[0] == r.history["test_loss"][-1]


def test_early_stopping_rejects_bad_settings():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="'val_loss' is not in the history"):
        fit(config(epochs=2), callbacks=[EarlyStopping(monitor="val_loss")])


# ---------------------------------------------------------------- divergence


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_divergence_stops_naming_the_step_and_layer_and_keeps_finite_weights(norm):
    # SGD with η = 100 on a deep ReLU network: the loss (no norm) or BatchNorm's running
    # variance (batch norm: the loss stays finite on batch statistics) overflows within epoch 1
    c = config(model={"hidden": [32, 32, 32, 32], "activation": "relu", "norm": norm},
               optimizer={"name": "sgd", "lr": 100.0}, epochs=20)
    r = fit(c)
    assert r.stop_reason == "diverged" and r.history["epoch"] == []
    match = re.search(r"training stopped at step (\d+) \(epoch (\d+)\): .*; first non-finite: layer (\d+) (\w+)",
                      r.message)
    assert match, r.message
    assert int(match[1]) == r.steps and int(match[2]) == len(r.history["epoch"]) + 1
    assert match[4] == ("Dense" if norm == "none" else "BatchNorm")
    state = r.net.state_dict()
    assert all_finite(state)
    if norm == "batch":
        assert any("running_var" in k for k in state)
    # it diverged in epoch 1: the network is put back to its initial weights and buffers
    assert same_state(state, Trainer(c).net.state_dict())


def test_divergence_keeps_the_weights_of_the_last_completed_epoch():
    states = []

    class Keep(Callback):
        def on_epoch(self, trainer, epoch, row):
            states.append(trainer.net.state_dict())

    # linear least squares by SGD with η above the stable limit: the loss grows geometrically
    # until the squared error overflows float32, some epochs in
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5], [0.0]])).astype(np.float32)
    data = Dataset("linear", "regression", X, y, X[:16], y[:16], 0, ["a", "b", "c", "d"], "y")
    c = config(data={"name": "array"}, model={"hidden": []}, optimizer={"name": "sgd", "lr": 1.2}, epochs=200)
    r = fit(c, data, callbacks=[Keep()])
    assert r.stop_reason == "diverged"
    completed = len(r.history["epoch"])
    assert completed >= 5 and len(states) == completed
    assert f"(epoch {completed + 1})" in r.message and "first non-finite: the loss MeanSquaredError" in r.message
    assert same_state(r.net.state_dict(), states[-1])
    assert all(math.isfinite(v) for v in r.history["train_loss"])
    out = r.net.forward(X, False)
    assert r.task.loss.forward(out, y) == r.history["train_loss"][-1]


def test_an_epoch_whose_evaluation_is_not_finite_is_rolled_back():
    """Every step trains on ordinary rows, but the test part's float32 squared error
    overflows: the epoch counts as diverged, records no row, and the network is put back
    to the epoch's start (here the initial weights), as after a non-finite step."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X @ np.array([[1.0], [-2.0], [0.5], [0.0]])).astype(np.float32)
    X_far = np.full((8, 4), 1e30, dtype=np.float32)
    data = Dataset("far", "regression", X, y, X_far, y[:8], 0, ["a", "b", "c", "d"], "y")
    c = config(data={"name": "array"}, model={"hidden": []}, optimizer={"name": "sgd", "lr": 0.01}, epochs=5)
    r = fit(c, data)
    assert r.stop_reason == "diverged" and r.history["epoch"] == [] and r.steps > 0
    assert r.message.startswith(f"training stopped at the end of epoch 1 (step {r.steps}): its test loss became inf")
    assert "first non-finite: the loss MeanSquaredError" in r.message
    assert same_state(r.net.state_dict(), Trainer(c, data).net.state_dict())


# ---------------------------------------------------------------- Ctrl-C


class InterruptAt(Callback):
    """Raises KeyboardInterrupt (as Ctrl-C does) at a given step or epoch; keeps each epoch's weights."""

    def __init__(self, step=None, epoch=None):
        self.step, self.epoch, self.states = step, epoch, []

    def on_step(self, trainer, step, loss):
        if step == self.step:
            raise KeyboardInterrupt

    def on_epoch(self, trainer, epoch, row):
        self.states.append(trainer.net.state_dict())
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_ctrl_c_mid_epoch_keeps_the_completed_epochs_and_their_weights():
    c = config(model={"hidden": [8, 8], "norm": "batch", "dropout": 0.1}, epochs=10)
    cb = InterruptAt(step=25)  # in the middle of epoch 3 (10 steps per epoch)
    r = fit(c, callbacks=[cb])
    assert r.stop_reason == "interrupted" and r.message == "interrupted after 2 epochs"
    assert r.history["epoch"] == [1, 2] and all(len(v) == 2 for v in r.history.values())
    assert same_state(r.net.state_dict(), cb.states[-1])  # BatchNorm buffers included
    full = fit(c)
    assert {k: v[:2] for k, v in full.history.items()} == r.history


def test_ctrl_c_between_epochs_keeps_that_epoch():
    cb = InterruptAt(epoch=2)
    r = fit(config(epochs=10), callbacks=[cb])
    assert r.stop_reason == "interrupted" and r.history["epoch"] == [1, 2]
    assert same_state(r.net.state_dict(), cb.states[-1])


def test_run_epoch_passes_ctrl_c_on_after_undoing_the_epoch():
    t = Trainer(config(), callbacks=[InterruptAt(step=4)])
    start = t.net.state_dict()
    with pytest.raises(KeyboardInterrupt):
        t.run_epoch()
    assert same_state(t.net.state_dict(), start) and t.epoch == 0 and t.history["epoch"] == []


# ---------------------------------------------------------------- one step: penalties, clipping


def test_l1_l2_penalties_add_to_the_gradient_of_weights_only():
    l1, l2 = 0.01, 0.1
    plain = config(dtype="float64", model={"hidden": [8, 8], "norm": "batch"}, optimizer={"name": "sgd", "lr": 0.1})
    a = Trainer(plain)
    b = Trainer(plain.model_copy(update={"l1": l1, "l2": l2}))
    X, target = a.dataset.X_train[:16], a._y_train[:16]
    before = {name: p.value.copy() for name, p in b.net.named_parameters()}
    loss_a, _ = a.train_step(X, target)
    loss_b, _ = b.train_step(X, target)
    assert loss_a == loss_b  # the penalty is not part of the reported loss
    names = [name for name, _ in b.net.named_parameters()]
    assert {n.split(".")[1] for n in names} == {"W", "b", "gamma", "beta"}
    for (name, p), q in zip(b.net.named_parameters(), a.net.parameters(), strict=True):
        if name.endswith("W"):
            W = before[name]
            np.testing.assert_allclose(p.grad, q.grad + l2 * W + l1 * np.sign(W), rtol=1e-13, atol=1e-15)
            assert not np.allclose(p.grad, q.grad)
        else:
            np.testing.assert_array_equal(p.grad, q.grad)  # biases, γ and β are not penalised
        np.testing.assert_allclose(p.value, before[name] - 0.1 * p.grad, rtol=1e-13, atol=1e-15)


def test_clip_norm_bounds_the_gradient_the_optimizer_uses():
    c = config(dtype="float64", optimizer={"name": "sgd", "lr": 0.1}, clip_norm=0.05)
    clipped, free = Trainer(c), Trainer(c.model_copy(update={"clip_norm": None}))
    X, target = clipped.dataset.X_train[:16], clipped._y_train[:16]
    before = [p.value.copy() for p in clipped.params]
    _, norm = clipped.train_step(X, target)
    _, free_norm = free.train_step(X, target)
    assert norm == free_norm > 0.05  # the norm returned is the one before clipping
    scale = 0.05 / (norm + 1e-6)  # PyTorch's clip_grad_norm_
    assert grad_norm(clipped.params) == pytest.approx(norm * scale, rel=1e-12)
    assert grad_norm(clipped.params) <= 0.05
    for p, q, w in zip(clipped.params, free.params, before, strict=True):
        np.testing.assert_allclose(p.grad, q.grad * scale, rtol=1e-12)
        np.testing.assert_allclose(p.value, w - 0.1 * p.grad, rtol=1e-13, atol=1e-15)


def test_clip_value_bounds_every_gradient_entry():
    t = Trainer(config(clip_value=1e-3))
    t.train_step(t.dataset.X_train[:16], t._y_train[:16])
    assert max(np.abs(p.grad).max() for p in t.params) == pytest.approx(1e-3)


# ---------------------------------------------------------------- dtypes


def test_float64_config_gives_a_float64_network_and_history():
    r = fit(config(dtype="float64", epochs=2))
    assert all(p.value.dtype == np.float64 for p in r.net.parameters())
    assert r.dataset.X_train.dtype == np.float64
    out = r.net.forward(r.dataset.X_train, False)
    assert out.dtype == np.float64
    assert r.task.loss.forward(out, r.dataset.y_train) == r.history["train_loss"][-1]
    r32 = fit(config(epochs=2))
    assert all(p.value.dtype == np.float32 for p in r32.net.parameters())
    assert r32.history["train_loss"][-1] != r.history["train_loss"][-1]
    for h in (r.history, r32.history):
        assert all(type(v) is float for k in COLUMNS[1:] for v in h[k])


def test_a_dataset_of_another_dtype_is_refused():
    c = config()
    with pytest.raises(ValueError, match="dtype"):
        Trainer(c.model_copy(update={"dtype": "float64"}), c.data.load(seed=c.seed, dtype=c.dtype))


# ---------------------------------------------------------------- losses and tasks


def test_loss_is_chosen_from_the_task():
    t = Trainer(config(data={"name": "spiral3", "n_samples": 150}))
    assert t.task.loss_name == "cross_entropy" and t.net.layers[-1].W.value.shape[0] == 3
    reg = Trainer(config(data={"name": "sin", "n_samples": 50, "noise": 0.0}))
    assert reg.task.loss_name == "mse" and reg.net.layers[-1].W.value.shape[0] == 1
    assert "train_r2" in reg.history and "train_accuracy" not in reg.history


def test_a_loss_that_does_not_fit_the_task_is_refused():
    with pytest.raises(ValueError, match="'bce' needs 2 classes, spiral3 has 3"):
        Trainer(config(data={"name": "spiral3", "n_samples": 150}, loss="bce"))
    with pytest.raises(ValueError, match="'cross_entropy' needs class labels; sin is a regression task"):
        Trainer(config(data={"name": "sin", "n_samples": 50}, loss="cross_entropy"))
    with pytest.raises(ValueError, match="'bce' needs class labels"):
        Trainer(config(data={"name": "sin", "n_samples": 50}, loss="bce"))


@pytest.mark.parametrize(("loss", "n_out"), [("bce", 1), ("mse", 2), ("cross_entropy", 2)])
def test_two_class_losses_train_and_report_accuracy(loss, n_out):
    r = fit(config(data={"name": "moons", "n_samples": 200}, model={"hidden": [16]}, loss=loss, epochs=30))
    assert r.task.loss_name == loss and r.net.layers[-1].W.value.shape[0] == n_out
    assert list(r.history) == COLUMNS
    assert r.final("test_accuracy") >= 0.95 and r.final("train_accuracy") >= 0.95
    proba = r.task.proba(r.net.forward(r.dataset.X_test, False))
    assert proba.shape == (len(r.dataset.X_test), 2)


def test_regression_reports_r2():
    r = fit(config(data={"name": "sin"}, model={"hidden": [16, 16]}, epochs=60))
    assert r.task.loss_name == "mse" and r.metric_name == "r2"
    assert list(r.history) == ["epoch", "train_loss", "test_loss", "train_r2", "test_r2", "lr", "grad_norm"]
    assert r.final("test_r2") >= 0.95
    assert r.history["test_r2"][-1] > r.history["test_r2"][0]


# ---------------------------------------------------------------- a data set without a test part


@pytest.mark.parametrize("empty", [None, "empty"])
def test_a_dataset_without_a_test_part_has_no_test_columns(empty):
    d = load_dataset("moons", n_samples=120, seed=0)
    X_test = None if empty is None else d.X_test[:0]
    y_test = None if empty is None else d.y_test[:0]
    data = Dataset("moons", "classification", d.X_train, d.y_train, X_test, y_test, 2, ["x1", "x2"], "label")
    c = config(data={"name": "array"}, epochs=3)
    r = fit(c, data)
    assert list(r.history) == ["epoch", "train_loss", "train_accuracy", "lr", "grad_norm"]
    # the training numbers are those of the same run with a test part
    with_test = fit(c, Dataset("moons", "classification", d.X_train, d.y_train, d.X_test, d.y_test, 2,
                               ["x1", "x2"], "label"))
    assert {k: v for k, v in with_test.history.items() if not k.startswith("test_")} == r.history
    with pytest.raises(ValueError, match="'test_loss' is not in the history"):
        fit(c, data, callbacks=[EarlyStopping()])
    assert fit(c, data, callbacks=[EarlyStopping("train_loss")]).history["epoch"] == [1, 2, 3]


def test_run_epoch_on_given_rows_measures_them():
    t = Trainer(config())
    d = t.dataset
    X, y = d.X_train[:48], d.y_train[:48]
    row = t.run_epoch(X, y)
    assert t.step == 3 and t.epoch == 1 and row["epoch"] == 1
    assert (row["train_loss"], row["train_accuracy"]) == t.evaluate(X, y, t.task.targets(y))
    assert (row["test_loss"], row["test_accuracy"]) == t.evaluate(d.X_test, d.y_test, t.task.targets(d.y_test))


def test_array_data_must_be_passed_in():
    with pytest.raises(ValueError, match="data are passed in"):
        fit(config(data={"name": "array"}))


def test_batchnorm_with_a_one_row_remainder_trains():
    # 160 training rows with batch 53 leave one row over; BatchNorm cannot normalise it alone
    cfg = RunConfig.from_dict({"data": {"name": "spiral", "n_samples": 200}, "model": {"hidden": [8], "norm": "batch"},
                               "batch_size": 53, "epochs": 2})
    result = fit(cfg)
    assert result.stop_reason == "completed" and result.steps == 2 * 3


def test_a_fit_result_and_a_trainer_survive_pickle():
    """A FitResult pickles as plain data; a pickled Trainer trains on exactly as the original."""
    c = config(epochs=2)
    r = fit(c)
    again = pickle.loads(pickle.dumps(r))
    assert again.history == r.history and same_state(again.net.state_dict(), r.net.state_dict())
    t = Trainer(c)
    t.run_epoch()
    twin = pickle.loads(pickle.dumps(t))
    assert t.run_epoch() == twin.run_epoch()
    assert same_state(t.net.state_dict(), twin.net.state_dict())
