"""``fit(config)``: the mini-batch gradient-descent loop that executes a ``RunConfig``.

One optimiser step on a mini-batch B (the seed's SGD, generalised by the optimiser)::

    g = (1/|B|) Σ_{i∈B} ∂L_i/∂w + l2·W + l1·sign(W)
    [clip g]  then  w ← optimizer.step(w, g)

The penalty (l2/2)·‖W‖² + l1·‖W‖₁ applies to weight matrices only (not biases, γ or β)
and is not included in the reported loss.

After each epoch the whole training and test parts are evaluated (eval mode) and one row
is added to the history. A non-finite loss, gradient, weight or BatchNorm statistic stops
training, naming the step and the first layer that went non-finite; the network is put
back to the end of the last completed epoch (the last good weights, which the history's
last row measured). Ctrl-C stops the same way, keeping the completed epochs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from deltaflow.data import Dataset, iterate_minibatches
from deltaflow.diagnostics.probes import GradientProbe
from deltaflow.nn.network import Sequential
from deltaflow.nn.norm import BatchNorm
from deltaflow.optim.clip import clip_grad_norm, clip_grad_value, global_norm
from deltaflow.training.config import RunConfig
from deltaflow.training.task import Task


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
    probe: GradientProbe | None = None

    @property
    def metric_name(self) -> str:
        return self.task.metric_name

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
    down) is NaN or infinite on this batch, or the loss when it alone overflows a finite
    output; "" if nothing is."""
    return locate_nonfinite(net, X, target, loss)[1]


def locate_nonfinite(net: Sequential, X: np.ndarray, target, loss, training: bool = True) -> tuple[int | None, str]:
    """``first_nonfinite_layer`` with the index in ``net.layers`` of the layer it names
    (None for the loss or nothing): ``(index, description)``. ``training=False`` follows
    the evaluation instead of a training step: the forward pass in eval mode and the loss."""
    a = X
    for i, layer in enumerate(net.layers):
        with np.errstate(all="ignore"):
            a = layer.forward(a, training)
        if not np.isfinite(a).all():
            return i, f"layer {i} {layer!r} (forward)"
    with np.errstate(all="ignore"):
        value = loss.forward(a, target)
        g = loss.backward()
    if not math.isfinite(value):
        return None, f"the loss {type(loss).__name__} (the network's output is finite)"
    if not training:
        return None, ""
    for i in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[i]
        with np.errstate(all="ignore"):
            g = layer.backward(g)
        if not np.isfinite(g).all() or any(not np.isfinite(p.grad).all() for p in layer.parameters()):
            return i, f"layer {i} {layer!r} (backward)"
    return None, ""


class Trainer:
    """Holds a run's network, optimiser, schedule and generators; ``run()`` trains it.

    ``run()`` calls ``run_epoch()`` until the epochs or steps are done or something stops
    it; ``stop_reason`` and ``message`` say why the last epoch ended as it did. A data set
    without a test part (``X_test`` None or empty) is allowed: the history then has no
    ``test_*`` columns.

    Randomness comes from ``config.seed`` alone: the data (``load_dataset(seed=...)``) and
    two independent streams spawned from it for initialisation (dropout masks included)
    and shuffling.
    """

    def __init__(self, config: RunConfig, dataset: Dataset | None = None, callbacks=()):
        self.config = config
        self.dataset = dataset if dataset is not None else config.data.load(seed=config.seed, dtype=config.dtype)
        if self.dataset.X_train.dtype != np.dtype(config.dtype):
            raise ValueError(f"dataset dtype {self.dataset.X_train.dtype} does not match config dtype {config.dtype}")
        self.task = Task.for_dataset(self.dataset, config.loss)
        init_seq, shuffle_seq = np.random.SeedSequence(config.seed).spawn(2)
        self.net = config.model.build(self.dataset.X_train.shape[1], self.task.n_out, dtype=config.dtype,
                                      rng=np.random.default_rng(init_seq))
        self.shuffle_rng = np.random.default_rng(shuffle_seq)
        self.params = self.net.parameters()
        self.weights = [p for name, p in self.net.named_parameters() if name.endswith("W")]
        self._buffers = [buf for _, buf in self.net.named_buffers()]  # updated in place, never replaced
        # BatchNorm's batch statistics need two rows: a one-row remainder batch sits out the epoch
        self._min_batch = 2 if any(isinstance(m, BatchNorm) for m in self.net.modules()) else 1
        # pack: nothing holds a p.value or p.grad yet, so the small params may be laid out
        # back to back; the gradient norm is then one dot product per flat array
        self.optimizer = config.optimizer.build(self.params, pack=True)
        self._grads = self.optimizer.grads()
        self.schedule = config.schedule.build(self.optimizer, epochs=config.epochs)
        self.callbacks = list(callbacks)
        # first among the callbacks, so later ones see this step's record
        self.probe = None if config.probe_every is None else GradientProbe(self.net, config.probe_every)
        if self.probe is not None:
            self.callbacks.insert(0, self.probe)
        m = self.task.metric_name
        X_test = self.dataset.X_test
        self.has_test = X_test is not None and len(X_test) > 0
        columns = ["epoch", "train_loss", "test_loss", f"train_{m}", f"test_{m}", "lr", "grad_norm"]
        self.history: dict[str, list] = {k: [] for k in columns if self.has_test or not k.startswith("test_")}
        self.step = 0
        self.epoch = 0
        # ‖g‖ of the last train_step, before clipping: the simulator watches it for fast growth
        self.last_grad_norm = math.nan
        self.stop_reason, self.message = "completed", ""
        # after a divergence: the index in net.layers of the first non-finite layer (None: the loss)
        self.nonfinite_layer: int | None = None
        self._y_train = self.task.targets(self.dataset.y_train)
        self._y_test = self.task.targets(self.dataset.y_test) if self.has_test else None

    def __setstate__(self, state: dict) -> None:
        # the optimiser lays its flat arrays out again after pickle or deepcopy (they come
        # back as copies), so the gradients the norm reads are looked up again too
        self.__dict__.update(state)
        self._grads = self.optimizer.grads()

    @property
    def metric_name(self) -> str:
        return self.task.metric_name

    def train_step(self, X: np.ndarray, target) -> tuple[float, float]:
        """One forward, backward and update on a mini-batch; returns (loss, gradient norm).

        The update is skipped when the loss or gradient is not finite (the caller stops).
        """
        c, loss = self.config, self.task.loss
        with np.errstate(over="ignore", invalid="ignore"):
            value = loss.forward(self.net.forward(X, True), target)
            # no gradient for the input: nothing uses it, and it costs as much as ∂L/∂W⁽¹⁾
            self.net.backward(loss.backward(), input_grad=False)
        if c.l1 or c.l2:
            for W in self.weights:
                if c.l2:
                    W.grad += c.l2 * W.value
                if c.l1:
                    W.grad += c.l1 * np.sign(W.value)
        if c.clip_value is not None:
            clip_grad_value(self.params, c.clip_value)
        norm = clip_grad_norm(self.params, c.clip_norm) if c.clip_norm is not None else global_norm(self._grads)
        if math.isfinite(value) and math.isfinite(norm):
            self.optimizer.step()
        self.step += 1
        self.last_grad_norm = norm
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
        epochs = self.planned_epochs
        self.stop_reason, self.message = "completed", ""
        try:
            while self.epoch < epochs and self.step < total_steps:
                self.run_epoch(max_steps=total_steps)
                if self.stop_reason != "completed":
                    break
        except KeyboardInterrupt:
            self.stop_reason, self.message = "interrupted", f"interrupted after {self.epoch} epochs"
        for cb in self.callbacks:
            if hasattr(cb, "on_end"):
                cb.on_end(self)
        return FitResult(self.net, self.history, c, d, self.task, self.stop_reason, self.message, self.step,
                         probe=self.probe)

    @property
    def planned_epochs(self) -> int:
        """``config.epochs``, or with ``config.steps`` the epochs that many steps take."""
        c = self.config
        if c.steps is None:
            return c.epochs
        n, B = len(self.dataset.X_train), c.batch_size
        per_epoch = n // B + (1 if n % B >= self._min_batch else 0)
        return math.ceil(c.steps / per_epoch)

    def run_epoch(self, X: np.ndarray | None = None, y: np.ndarray | None = None, max_steps=math.inf) -> dict | None:
        """One epoch: shuffled mini-batches through ``train_step``, one history row, one
        schedule step, then the callbacks' ``on_epoch``. Returns the row, or None if the
        epoch diverged.

        X, y : the rows to train on, y as labels or values like ``dataset.y_train``
            (default: the data set's training part); the row's train_* columns are
            measured on these rows.
        max_steps : end the epoch early once ``self.step`` reaches it (the row is recorded).

        Afterwards ``stop_reason`` is "completed", "early_stopping" (a callback's
        ``on_epoch`` returned True) or "diverged": a loss, gradient, weight or buffer became
        NaN or infinite; no row is recorded and ``message`` names the step and the first
        non-finite layer. After a divergence, and before a KeyboardInterrupt raised during
        the batches propagates, the weights and buffers of the epoch's start are put back,
        so the network is the one the history's last row measured.
        """
        steps = self.epoch_steps(X, y, max_steps)
        while True:
            try:
                next(steps)
            except StopIteration as end:
                return end.value

    def epoch_steps(self, X: np.ndarray | None = None, y: np.ndarray | None = None, max_steps=math.inf):
        """``run_epoch`` one step at a time, for a caller that pauses mid-epoch (the simulator).

        A generator: each ``next()`` runs exactly one ``train_step``. It yields that step's
        loss, except after the epoch's last step, where it records the epoch (row, schedule,
        ``on_epoch``) and stops; ``StopIteration.value`` is then ``run_epoch``'s return value
        (the row, or None if the step diverged). Driven to the end it is ``run_epoch``, number
        for number: the shuffle is drawn at the first ``next()``, as ``run_epoch`` draws it.
        """
        if X is None:
            X, y, target = self.dataset.X_train, self.dataset.y_train, self._y_train
        else:
            target = self.task.targets(y)
        self.stop_reason, self.message = "completed", ""
        snapshot = self.net.state_dict()
        lr, norms = self.optimizer.lr, []
        batches = iterate_minibatches(X, target, self.config.batch_size, self.shuffle_rng, min_batch=self._min_batch)
        try:
            # one batch ahead, so the epoch's last step records the row before control returns
            batch = next(batches, None)
            while batch is not None:
                Xb, yb = batch
                value, norm = self.train_step(Xb, yb)
                if not (math.isfinite(value) and math.isfinite(norm) and self._state_is_finite()):
                    self.stop_reason = "diverged"
                    self.message = self._roll_back_diverged(value, norm, Xb, yb, snapshot)
                    return None
                norms.append(norm)
                for cb in self.callbacks:
                    cb.on_step(self, self.step, value)
                batch = None if self.step >= max_steps else next(batches, None)
                if batch is not None:
                    yield value
        except KeyboardInterrupt:
            # an unfinished epoch has no history row, so its updates are undone too
            self.net.load_state_dict(snapshot)
            raise
        row = self._measure(X, y, target, lr, float(np.mean(norms)) if norms else math.nan)
        bad = [k for k in ("train_loss", "test_loss") if k in row and not math.isfinite(row[k])]
        if bad:
            # every step was finite, yet the network the epoch ends with is not: keep the one before it
            self.stop_reason = "diverged"
            self.message = self._roll_back_evaluated(bad[0], row[bad[0]], X, target, snapshot)
            return None
        self._append(row)
        if self.schedule is not None:
            self.schedule.step()
        # a list, not a generator: every callback sees the epoch, even after one asks to stop
        if any([cb.on_epoch(self, self.epoch, row) for cb in self.callbacks]):
            self.stop_reason = "early_stopping"
        return row

    def _state_is_finite(self) -> bool:
        """Whether every weight and buffer is finite: an update can overflow a weight, and a
        BatchNorm running variance can overflow while the (batch-statistics) loss stays finite."""
        return self.optimizer.params_finite() and all(np.isfinite(buf).all() for buf in self._buffers)

    def _roll_back_diverged(self, value: float, norm: float, X, target, snapshot: dict) -> str:
        """Name the step and the first non-finite layer, then put back the weights and
        buffers of the epoch's start: those of the history's last row, finite because every
        step is checked. (The current weights produced the non-finite numbers, and the failed
        step's forward pass has moved BatchNorm's running statistics.)"""
        bad_state = [k for k, v in self.net.state_dict().items() if not np.isfinite(v).all()]
        self.nonfinite_layer, where = locate_nonfinite(self.net, X, target, self.task.loss)
        if not where and bad_state:
            index, _, name = bad_state[0].partition(".")
            self.nonfinite_layer = int(index)
            where = f"layer {index} {self.net.layers[int(index)]!r} ({name})"
        self.net.load_state_dict(snapshot)
        if not math.isfinite(value):
            what = f"the loss became {value}"
        elif not math.isfinite(norm):
            what = f"the gradient norm became {norm}"
        else:
            what = f"{bad_state[0]} became non-finite"
        message = f"training stopped at step {self.step} (epoch {self.epoch + 1}): {what}"
        return message + (f"; first non-finite: {where}" if where else "")

    def _roll_back_evaluated(self, column: str, value: float, X, target, snapshot: dict) -> str:
        """After an epoch whose every step was finite but whose evaluation (``column`` of its
        row, measured on the trained rows ``X`` or the test part) is not: name the first
        non-finite layer of that evaluation, then put back the weights and buffers of the
        epoch's start, those of the history's last row."""
        if column.startswith("test"):
            X, target = self.dataset.X_test, self._y_test
        self.nonfinite_layer, where = locate_nonfinite(self.net, X, target, self.task.loss, training=False)
        self.net.load_state_dict(snapshot)
        message = (f"training stopped at the end of epoch {self.epoch + 1} (step {self.step}): "
                   f"its {column.replace('_', ' ')} became {value}")
        return message + (f"; first non-finite: {where}" if where else "")

    def _measure(self, X: np.ndarray, y: np.ndarray, target, lr: float, norm: float) -> dict:
        """The epoch's row: the trained rows (and the test part, if any) evaluated."""
        d, m = self.dataset, self.task.metric_name
        row = {"epoch": self.epoch + 1}
        row["train_loss"], row[f"train_{m}"] = self.evaluate(X, y, target)
        if self.has_test:
            row["test_loss"], row[f"test_{m}"] = self.evaluate(d.X_test, d.y_test, self._y_test)
        row.update(lr=lr, grad_norm=norm)
        return row

    def _append(self, row: dict) -> None:
        """Count the epoch and append its row to the history."""
        self.epoch += 1
        for k in self.history:
            self.history[k].append(row[k])


def fit(config: RunConfig, dataset: Dataset | None = None, callbacks=()) -> FitResult:
    """Train the run ``config`` describes and return a ``FitResult``."""
    return Trainer(config, dataset, callbacks).run()
