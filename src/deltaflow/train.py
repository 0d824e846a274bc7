"""``fit(config)``: the mini-batch gradient-descent loop that executes a ``RunConfig``.

One optimiser step on a mini-batch B (the seed's SGD, generalised by the optimiser)::

    g = (1/|B|) Σ_{i∈B} ∂L_i/∂w + l2·W + l1·sign(W)

The penalty (l2/2)·‖W‖² + l1·‖W‖₁ applies to weight matrices only (not biases, γ or β)
and is not included in the reported loss.
    [clip g]  then  w ← optimizer.step(w, g)

After each epoch the whole training and test parts are evaluated (eval mode) and one row
is added to the history. A non-finite loss or gradient stops training, naming the step
and the first layer that went non-finite; the last good weights are kept. Ctrl-C stops
cleanly at the last completed epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from deltaflow import metrics
from deltaflow.clip import clip_grad_norm, clip_grad_value, grad_norm
from deltaflow.config import RunConfig
from deltaflow.data import Dataset, iterate_minibatches, load_dataset
from deltaflow.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy, sigmoid, softmax
from deltaflow.network import Sequential, mlp
from deltaflow.optim import get_optimizer
from deltaflow.schedules import get_schedule


def load_data(config: RunConfig) -> Dataset:
    """The data set a config describes, generated and split with the config's seed."""
    d = config.data
    return load_dataset(
        d.name, n_samples=d.n_samples, noise=d.noise, test_fraction=d.test_fraction, seed=config.seed,
        features=d.features, dtype=config.dtype, path=d.path, target=d.target, classes=d.classes,
        task=d.task, standardize=d.standardize, teeth=d.teeth,
    )


def resolve_loss(config: RunConfig, dataset: Dataset) -> str:
    """The loss name: the config's, or cross-entropy for classification and MSE for regression."""
    name = config.loss or ("cross_entropy" if dataset.task == "classification" else "mse")
    if dataset.task == "regression" and name != "mse":
        raise ValueError(f"loss {name!r} needs class labels; {dataset.name} is a regression task (use mse)")
    if name == "bce" and dataset.n_classes != 2:
        raise ValueError(f"loss 'bce' needs 2 classes, {dataset.name} has {dataset.n_classes} (use cross_entropy)")
    return name


def output_width(loss_name: str, dataset: Dataset) -> int:
    """Output units: one per class (cross-entropy, MSE on one-hot), one for BCE, y's width for regression."""
    if dataset.task == "regression":
        return dataset.y_train.shape[1]
    return 1 if loss_name == "bce" else dataset.n_classes


def build_model(config: RunConfig, n_in: int, n_out: int, rng=None) -> Sequential:
    """The network a config describes: ``mlp([n_in, *hidden, n_out])`` returning logits."""
    m = config.model
    return mlp(
        [n_in, *m.hidden, n_out], activation=m.activation, norm=None if m.norm == "none" else m.norm,
        init=m.init, dropout=m.dropout, dtype=config.dtype, rng=rng,
    )


def output_proba(out: np.ndarray, loss_name: str) -> np.ndarray:
    """Class probabilities (n, K) from a network's raw output: softmax(z) for cross-entropy,
    [1 − σ(z), σ(z)] for BCE, and the output itself for MSE on one-hot targets."""
    if loss_name == "bce":
        p = sigmoid(out)
        return np.hstack([1.0 - p, p])
    return out if loss_name == "mse" else softmax(out)


class Task:
    """What the network's raw output means: the loss to train with, its targets, and predictions."""

    def __init__(self, loss_name: str, dataset: Dataset):
        self.loss_name, self.kind, self.n_classes = loss_name, dataset.task, dataset.n_classes
        self.loss = {"cross_entropy": SoftmaxCrossEntropy, "bce": BinaryCrossEntropy, "mse": MeanSquaredError}[
            loss_name
        ]()
        self.dtype = dataset.X_train.dtype

    def targets(self, y: np.ndarray) -> np.ndarray:
        """The loss's target for labels or values y: labels, (n,1) floats for BCE, one-hot for MSE."""
        if self.kind == "regression" or self.loss_name == "cross_entropy":
            return y
        if self.loss_name == "bce":
            return y.astype(self.dtype).reshape(-1, 1)
        return np.eye(self.n_classes, dtype=self.dtype)[y]

    def proba(self, out: np.ndarray) -> np.ndarray:
        """Class probabilities (n, K) from the raw output."""
        return output_proba(out, self.loss_name)

    def metric(self, out: np.ndarray, y: np.ndarray) -> float:
        """Accuracy for classification, R² for regression."""
        if self.kind == "regression":
            return metrics.r2_score(y, out)
        return metrics.accuracy(y, self.proba(out).argmax(axis=1))


@dataclass
class FitResult:
    """What a run produced: the trained network, its per-epoch history and why it stopped."""

    net: Sequential
    history: dict[str, list]
    config: RunConfig
    dataset: Dataset
    task: Task
    stop_reason: str = "completed"
    message: str = ""
    steps: int = 0
    extras: dict = field(default_factory=dict)

    @property
    def metric_name(self) -> str:
        return "accuracy" if self.dataset.task == "classification" else "r2"

    def final(self, key: str) -> float:
        return self.history[key][-1]


class Callback:
    """Hooks into the loop. ``on_epoch`` may return True to stop training."""

    def on_step(self, trainer: Trainer, step: int, loss: float) -> None:
        pass

    def on_epoch(self, trainer: Trainer, epoch: int, row: dict) -> bool | None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs;
    with ``restore_best`` the best epoch's weights are put back at the end."""

    def __init__(self, monitor: str = "test_loss", patience: int = 10, min_delta: float = 0.0, restore_best=True):
        if patience < 1:
            raise ValueError(f"EarlyStopping patience must be at least 1, got {patience}")
        self.monitor, self.patience, self.min_delta, self.restore_best = monitor, patience, min_delta, restore_best
        self.sign = 1.0 if "loss" in monitor else -1.0  # losses fall, accuracies and R² rise
        self.best, self.best_epoch, self.best_state, self.wait = math.inf, 0, None, 0

    def on_epoch(self, trainer, epoch, row):
        if self.monitor not in row:
            raise ValueError(f"EarlyStopping monitor {self.monitor!r} is not in the history {sorted(row)}")
        value = self.sign * row[self.monitor]
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = trainer.net.state_dict()
            return False
        self.wait += 1
        return self.wait >= self.patience

    def on_end(self, trainer) -> None:
        if self.restore_best and self.best_state is not None:
            trainer.net.load_state_dict(self.best_state)


def first_nonfinite_layer(net: Sequential, X: np.ndarray, target, loss) -> str:
    """Name the first layer whose output (forward) or gradient (backward, from the output
    down) is NaN or infinite on this batch; "" if none is."""
    a = X
    outputs = []
    for i, layer in enumerate(net.layers):
        with np.errstate(all="ignore"):
            a = layer.forward(a, True)
        outputs.append(a)
        if not np.isfinite(a).all():
            return f"layer {i} {layer!r} (forward)"
    with np.errstate(all="ignore"):
        loss.forward(a, target)
        g = loss.backward()
    for i in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[i]
        with np.errstate(all="ignore"):
            g = layer.backward(g)
        if not np.isfinite(g).all() or any(not np.isfinite(p.grad).all() for p in layer.parameters()):
            return f"layer {i} {layer!r} (backward)"
    return ""


class Trainer:
    """Holds a run's network, optimiser, schedule and generators; ``run()`` trains it.

    Randomness comes from ``config.seed`` alone: the data (``load_dataset(seed=...)``) and
    three independent streams spawned from it for initialisation, dropout and shuffling.
    """

    def __init__(self, config: RunConfig, dataset: Dataset | None = None, callbacks=()):
        self.config = config
        self.dataset = dataset if dataset is not None else load_data(config)
        if self.dataset.X_train.dtype != np.dtype(config.dtype):
            raise ValueError(f"dataset dtype {self.dataset.X_train.dtype} does not match config dtype {config.dtype}")
        self.task = Task(resolve_loss(config, self.dataset), self.dataset)
        init_seq, shuffle_seq = np.random.SeedSequence(config.seed).spawn(2)
        n_in = self.dataset.X_train.shape[1]
        self.net = build_model(config, n_in, output_width(self.task.loss_name, self.dataset), np.random.default_rng(init_seq))
        self.shuffle_rng = np.random.default_rng(shuffle_seq)
        self.params = self.net.parameters()
        self.weights = [p for name, p in self.net.named_parameters() if name.endswith("W")]
        opt = config.optimizer
        self.optimizer = get_optimizer(opt.name, self.params, lr=opt.lr, **opt.kwargs())
        sch = config.schedule
        self.schedule = None if sch.name == "none" else get_schedule(sch.name, self.optimizer, **self._schedule_kwargs())
        self.callbacks = list(callbacks)
        self.metric_name = "accuracy" if self.dataset.task == "classification" else "r2"
        self.history: dict[str, list] = {
            k: [] for k in ("epoch", "train_loss", "test_loss", f"train_{self.metric_name}",
                            f"test_{self.metric_name}", "lr", "grad_norm")
        }
        self.step = 0
        self.epoch = 0
        self._y_train = self.task.targets(self.dataset.y_train)
        self._y_test = self.task.targets(self.dataset.y_test)

    def _schedule_kwargs(self) -> dict:
        s, c = self.config.schedule, self.config
        return {
            "step": {"step_size": s.step_size, "gamma": s.gamma},
            "exponential": {"gamma": s.gamma},
            "cosine": {"T_max": c.epochs, "eta_min": s.eta_min},
            "warmup": {"warmup_steps": s.warmup_steps},
        }[s.name]

    def train_step(self, X: np.ndarray, target) -> tuple[float, float]:
        """One forward, backward and update on a mini-batch; returns (loss, gradient norm).

        The update is skipped when the loss or gradient is not finite (the caller stops).
        """
        c, loss = self.config, self.task.loss
        with np.errstate(over="ignore", invalid="ignore"):
            value = loss.forward(self.net.forward(X, True), target)
            self.net.backward(loss.backward())
        for W in self.weights:
            if c.l2:
                W.grad += c.l2 * W.value
            if c.l1:
                W.grad += c.l1 * np.sign(W.value)
        if c.clip_value is not None:
            clip_grad_value(self.params, c.clip_value)
        norm = clip_grad_norm(self.params, c.clip_norm) if c.clip_norm is not None else grad_norm(self.params)
        if math.isfinite(value) and math.isfinite(norm):
            self.optimizer.step()
        self.step += 1
        return value, norm

    def evaluate(self, X: np.ndarray, y: np.ndarray, target) -> tuple[float, float]:
        """(loss, accuracy or R²) on a whole part, in eval mode."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.net.forward(X, False)
            return self.task.loss.forward(out, target), self.task.metric(out, y)

    def run(self) -> FitResult:
        """Train for ``config.epochs`` epochs (or ``config.steps`` steps) and return the result."""
        c, d = self.config, self.dataset
        total_steps = c.steps if c.steps is not None else math.inf
        epochs = c.epochs if c.steps is None else math.ceil(c.steps / math.ceil(len(d.X_train) / c.batch_size))
        reason, message, snapshot = "completed", "", None
        try:
            while self.epoch < epochs and self.step < total_steps:
                snapshot = self.net.state_dict()
                lr = self.optimizer.lr
                norms = []
                for Xb, yb in iterate_minibatches(d.X_train, self._y_train, c.batch_size, self.shuffle_rng):
                    value, norm = self.train_step(Xb, yb)
                    if not (math.isfinite(value) and math.isfinite(norm)):
                        message = self._diverged_message(value, norm, Xb, yb, snapshot)
                        raise _Diverged(message)
                    norms.append(norm)
                    for cb in self.callbacks:
                        cb.on_step(self, self.step, value)
                    if self.step >= total_steps:
                        break
                self.epoch += 1
                row = self._record(lr, float(np.mean(norms)))
                if self.schedule is not None:
                    self.schedule.step()
                if any(cb.on_epoch(self, self.epoch, row) for cb in self.callbacks):
                    reason = "early_stopping"
                    break
        except _Diverged:
            reason = "diverged"
        except KeyboardInterrupt:
            # weights are put back to the end of the last completed epoch, matching the history
            if snapshot is not None:
                self.net.load_state_dict(snapshot)
            reason, message = "interrupted", f"interrupted after {self.epoch} epochs"
        for cb in self.callbacks:
            if hasattr(cb, "on_end"):
                cb.on_end(self)
        return FitResult(self.net, self.history, c, d, self.task, reason, message, self.step)

    def _diverged_message(self, value: float, norm: float, X, target, snapshot: dict) -> str:
        """Name the step and first non-finite layer; keep the last finite weights and buffers."""
        current = self.net.state_dict()
        where = first_nonfinite_layer(self.net, X, target, self.task.loss)
        # the failed step's forward already moved BatchNorm's running statistics
        finite = all(np.isfinite(v).all() for v in current.values())
        self.net.load_state_dict(current if finite else snapshot)
        what, bad = ("loss", value) if not math.isfinite(value) else ("gradient norm", norm)
        message = f"training stopped at step {self.step} (epoch {self.epoch + 1}): the {what} became {bad}"
        return message + (f"; first non-finite: {where}" if where else "")

    def _record(self, lr: float, norm: float) -> dict:
        d, m = self.dataset, self.metric_name
        train_loss, train_metric = self.evaluate(d.X_train, d.y_train, self._y_train)
        test_loss, test_metric = self.evaluate(d.X_test, d.y_test, self._y_test)
        row = {"epoch": self.epoch, "train_loss": train_loss, "test_loss": test_loss, f"train_{m}": train_metric,
               f"test_{m}": test_metric, "lr": lr, "grad_norm": norm}
        for k, v in row.items():
            self.history[k].append(v)
        return row


class _Diverged(Exception):
    pass


def fit(config: RunConfig, dataset: Dataset | None = None, callbacks=()) -> FitResult:
    """Train the run ``config`` describes and return a ``FitResult``."""
    return Trainer(config, dataset, callbacks).run()
