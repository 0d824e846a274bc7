"""One simulator session per socket: a ``Trainer`` stepped a frame at a time.

The session owns the data (possibly edited), a ``train.Trainer`` (network, optimiser,
schedule, shuffling generator) and a ``GradientProbe``. It is driven from two sides,
always under ``self.lock`` (methods run in worker threads, never on the event loop):

- ``handle(text)`` applies one client message and returns the JSON replies;
- ``train_tick(budget)`` runs one tick of steps while playing, and ``messages_and_frame()``
  takes the JSON the worker queued (an alarm) with the newest state encoded as a binary
  frame (``protocol.encode_frame``).

Training goes through ``Trainer.epoch_steps``, the generator ``fit`` runs on, so a session
that trains whole epochs of an unedited config has ``fit(config)``'s history bit for bit:
frames only read the network (evaluation and heatmaps are eval-mode forwards that draw no
random numbers and leave the caches of the next training step untouched).

The per-step work is the training step and one appended loss point; the probe statistics
are measured once per tick, and evaluation and heatmaps once per sent frame.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import secrets
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from deltaflow.optim.clip import grad_norm
from deltaflow.training.config import RunConfig
from deltaflow.data import DATASETS, Dataset, make_features
from deltaflow.data.toy import BOX
from deltaflow.diagnostics.explain import explain
from deltaflow.diagnostics.explanation import json_float
from deltaflow.nn.losses import sigmoid
from deltaflow.nn.network import walk
from deltaflow.diagnostics.probes import STATS, GradientProbe, first_nonfinite, grid_forward, unit_layers
from deltaflow.training.trainer import Callback, Trainer
from deltaflow.web import protocol as P
from deltaflow.web.limits import check_config, check_grid, check_steps, map_count, output_maps

log = logging.getLogger(__name__)

# G of a 2-D set's heatmaps: 64² cells make a 71 kB frame for the default 2-8-8-2 network,
# built in ~3 ms, so 30 frames a second stay cheap; 1-D curves are floats and take more points
DEFAULT_GRID = 64
DEFAULT_CURVE_GRID = 128
DEFAULT_STEPS_PER_FRAME = 10
# while playing, the whole-set losses and accuracies are measured 10 times a second, not for
# every frame: on the default network they cost a quarter of a frame
METRICS_EVERY_S = 0.1
_OUTPUT_FUNCTION = {"cross_entropy": "softmax", "bce": "sigmoid", "mse": "identity"}


def default_config() -> RunConfig:
    """The simulator's opening run: 2-8-8-2 tanh on the spiral, batch 10."""
    return RunConfig.from_dict({
        "data": {"name": "spiral", "noise": 0.0},
        "model": {"hidden": [8, 8], "activation": "tanh"},
        "optimizer": {"name": "adam", "lr": 0.03},
        "batch_size": 10,
        "epochs": 1000,
    })


class _Losses(Callback):
    """Collects (step, batch loss) per step, thinned so it never holds more than 2·MAX points."""

    def __init__(self):
        self.points: list[tuple[int, float]] = []

    def on_step(self, trainer, step, loss):
        self.points.append((step, loss))
        if len(self.points) > 2 * P.MAX_LOSS_POINTS:
            del self.points[-2::-2]  # every other point counted back from the newest, which is kept

    def take(self) -> np.ndarray:
        pts, self.points = self.points, []
        if len(pts) > P.MAX_LOSS_POINTS:
            stride = math.ceil(len(pts) / P.MAX_LOSS_POINTS)
            pts = pts[::-1][::stride][::-1]  # counted from the newest, which is always kept
        return np.asarray(pts, dtype=np.float64).reshape(-1, 2)


class Session:
    """One run in the simulator (see the module docstring). ``id`` is the download token."""

    def __init__(self, limits: P.Limits, config: RunConfig | None = None):
        self.id = secrets.token_urlsafe(16)
        self.limits = limits
        self.lock = threading.Lock()
        self.last_active = time.monotonic()
        self.running = False
        self.steps_per_frame = DEFAULT_STEPS_PER_FRAME
        self.frame_id = 0  # of the last built frame
        self.acked = 0
        self.handled = 0  # client messages other than acks received, reported in every frame
        self.outbox: list[dict] = []  # JSON the worker wants sent (an alarm)
        self._step_time = 1e-4  # s per step, a running estimate for steps_per_frame 0
        self._upload_dir: tempfile.TemporaryDirectory | None = None
        self._upload_path: Path | None = None
        self.grid = DEFAULT_GRID
        self.probe: GradientProbe | None = None
        self._metrics = None  # (trainer, time, values) of the last whole-set measurement
        self.edited, self.added = False, 0
        self._build(config or default_config(), DEFAULT_GRID)

    # -- building ----------------------------------------------------------------------

    def _build(self, config: RunConfig, grid: int, dataset: Dataset | None = None, keep_edits=False) -> None:
        """Make data, trainer and grid for ``config``; on any error nothing has changed."""
        check_config(config, self.limits, uploaded=self._upload_path is not None)
        train_config = config
        if config.data.name == "csv":
            train_config = config.model_copy(update={"data": config.data.model_copy(
                update={"path": str(self._upload_path)})})
        # the session measures its own statistics; a probe history would grow without end
        train_config = train_config.model_copy(update={"probe_every": None})
        dataset = dataset if dataset is not None else train_config.data.load(seed=train_config.seed, dtype=train_config.dtype)
        dims = dataset.X_train_raw.shape[1]
        if dims not in (1, 2):
            raise ValueError(f"data: the simulator draws 1-D or 2-D data; this set has {dims} input columns")
        losses = _Losses()
        trainer = Trainer(train_config, dataset, callbacks=[losses])
        check_steps(trainer, self.limits)
        n_maps = map_count(trainer)
        check_grid(grid, n_maps, dims, self.limits)
        probe = GradientProbe(trainer.net, every=1)
        # commit: from here on nothing raises
        if self.probe is not None:
            self.probe.detach()
        self.config, self.train_config, self.grid, self.dataset, self.dims = config, train_config, grid, dataset, dims
        self.trainer, self.probe, self.losses = trainer, probe, losses
        self.units = unit_layers(trainer.net)
        self.n_maps = n_maps
        self._epoch = None  # the running epoch's generator (Trainer.epoch_steps)
        self._W_before = [u.dense.W.value.copy() for u in self.units]
        self.stats = None  # (S, L) float32 of the latest tick
        self.grad_norm = math.nan
        self.done = self._finished()
        self.alarm, self.alarm_layer = P.ALARM_NONE, -1
        self.nan_stop = False
        if not keep_edits:
            self.added = 0
        self.edited = self.added > 0  # weight edits end here; added points stay with the data
        self.extent = self._extent()
        self._grid_X = self._grid_inputs()
        self._targets = trainer.task.targets(dataset.y_train), (
            trainer.task.targets(dataset.y_test) if trainer.has_test else None)
        self.dirty = True

    def _extent(self) -> dict:
        """The plotted plane: the toy sets' box [−6, 6]², else the data's range padded by 10%."""
        d = self.dataset
        if self.config.data.name in DATASETS and DATASETS[self.config.data.name].kind == "toy":
            return {"x1": [-BOX, BOX], "x2": [-BOX, BOX]}
        X = np.vstack([d.X_train_raw, d.X_test_raw]) if d.X_test_raw is not None else d.X_train_raw
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = np.maximum(0.1 * (hi - lo), 1e-3)
        ranges = [[float(a), float(b)] for a, b in zip(lo - pad, hi + pad)]
        return {"x1": ranges[0], "x2": ranges[1] if self.dims == 2 else None}

    def _model_input(self, raw: np.ndarray) -> np.ndarray:
        """Raw points (n, dims) → the network's input, as ``load_dataset`` makes it."""
        d = self.dataset
        X = raw
        if self.config.data.name in DATASETS and DATASETS[self.config.data.name].kind == "toy":
            X = make_features(raw, d.feature_names)
        X = X.astype(self.trainer.config.dtype)
        return d.scaler.transform(X) if d.scaler is not None else X

    def _grid_inputs(self) -> np.ndarray | None:
        """The G×G grid (G points for 1-D) of the plane in the network's input space."""
        G = self.grid
        if G == 0:
            return None
        x1 = np.linspace(*self.extent["x1"], G)
        if self.dims == 1:
            return self._model_input(x1[:, None])
        x2 = np.linspace(*self.extent["x2"], G)[::-1]  # row 0 is the top of the plot
        X1, X2 = np.meshgrid(x1, x2)
        return self._model_input(np.column_stack([X1.ravel(), X2.ravel()]))

    def _finished(self) -> bool:
        c, t = self.train_config, self.trainer
        return t.epoch >= t.planned_epochs or (c.steps is not None and t.step >= c.steps)

    # -- messages ----------------------------------------------------------------------

    def handle_ack(self, text) -> list[dict] | None:
        """An ``ack`` applied at once, without the lock (so it never waits for a training tick
        to end): its replies. None for any other message (and any bad one): ``handle`` it.

        It runs on the event loop, so only a text as short as an ack is parsed here; a longer
        one (an upload of up to a megabyte) goes to ``handle`` in a worker thread unread."""
        if len(text) > P.MAX_ACK_CHARS:
            return None
        try:
            msg = P.parse_message(text, self.limits.max_message_bytes)
        except P.ProtocolError:
            return None
        if msg.type != "ack":
            return None
        self.last_active = time.monotonic()
        try:
            self._on_ack(msg)
        except ValueError as exc:
            return [error(_prefixed("ack", str(exc)), "ack")]
        return []

    def handle(self, text) -> list[dict]:
        """Apply one client message; returns the JSON replies (an ``error`` for bad input)."""
        with self.lock:
            self.last_active = time.monotonic()
            about, replies = self._dispatch(text)
            if about != "ack":  # acks answer frames; counting them would make a frame stale on arrival
                self.handled += 1
            for reply in replies:
                if reply["type"] == "state":
                    reply["handled"] = self.handled  # this message included
            return replies

    def _dispatch(self, text) -> tuple[str | None, list[dict]]:
        """(the message's type if it has one, its replies)."""
        about = None
        try:
            msg = P.parse_message(text, self.limits.max_message_bytes)
            about = msg.type
            return about, getattr(self, f"_on_{msg.type}")(msg) or []
        except P.ProtocolError as exc:
            return exc.about, [error(str(exc), exc.about)]
        except ValueError as exc:
            return about, [error(_prefixed(about, str(exc)), about)]
        except Exception as exc:  # a bug must not end the session: say so and pause
            log.exception("session %s: %s failed", self.id[:6], about)
            self.running = False
            return about, [error(f"{about}: internal error ({type(exc).__name__}: {exc}); training paused", about)]

    def _on_config(self, msg) -> list[dict]:
        self._apply(RunConfig.from_dict(msg.config), msg.grid)
        return [self.state()]

    def _on_import_config(self, msg) -> list[dict]:
        self._apply(RunConfig.from_json(msg.text), msg.grid)
        return [self.state()]

    def _apply(self, config: RunConfig, grid: int | None) -> None:
        self._build(config, self.grid if grid is None else grid)
        if config.data.name != "csv":
            self._drop_upload()

    def _on_play(self, msg):
        self._check_can_train()
        self.running = True
        self.dirty = True

    def _on_pause(self, msg):
        self.running = False
        self.dirty = True

    def _on_step(self, msg):
        if msg.n > self.limits.max_step:
            raise ValueError(f"n={msg.n} is over the limit of {self.limits.max_step} steps per message")
        self._check_can_train()
        self.running = False
        self._train(msg.n)

    def _on_reset(self, msg):
        self._build(self.config, self.grid, self.dataset, keep_edits=True)
        return [self.state()]

    def _on_regenerate(self, msg):
        if self.config.data.name == "csv":
            raise ValueError("uploaded data have no other sample; upload another file")
        config = self.config.model_copy(update={"seed": (self.config.seed + 1) % 2**32})
        self._build(config, self.grid)
        return [self.state()]

    def _on_speed(self, msg):
        if msg.steps_per_frame is not None:
            n = msg.steps_per_frame
        else:
            n = max(1, round(msg.examples_per_second / self.config.batch_size / self.limits.max_fps))
        if n > self.limits.max_steps_per_frame:
            raise ValueError(f"{n} steps per frame is over the limit of {self.limits.max_steps_per_frame}")
        self.steps_per_frame = n

    def _on_ack(self, msg):
        if msg.frame > self.frame_id:
            raise ValueError(f"frame {msg.frame} has not been sent (the last is {self.frame_id})")
        self.acked = max(self.acked, msg.frame)

    def _on_add_point(self, msg):
        d, lim = self.dataset, self.limits
        if self.added >= lim.max_points_added:
            raise ValueError(f"already {self.added} points added, the limit is {lim.max_points_added}")
        if (msg.x2 is None) != (self.dims == 1):
            raise ValueError(f"this data set is {self.dims}-D: give x1{' and x2' if self.dims == 2 else ' only'}")
        raw = np.array([[msg.x1] if self.dims == 1 else [msg.x1, msg.x2]], dtype=np.float64)
        if np.abs(raw).max() > 1e3:
            raise ValueError("x1 and x2 must lie within ±1000")
        if d.task == "classification":
            if msg.label is None or msg.label >= d.n_classes:
                raise ValueError(f"label must be a class index in [0, {d.n_classes})")
            y_new = np.array([msg.label], dtype=d.y_train.dtype)
        else:
            if msg.value is None:
                raise ValueError("a regression data set needs value, not label")
            y_new = np.array([[msg.value]], dtype=d.y_train.dtype)
        # new arrays, not in-place growth: the running epoch keeps the rows it shuffled
        self.dataset = dataclasses.replace(
            d, X_train=np.concatenate([d.X_train, self._model_input(raw)]),
            y_train=np.concatenate([d.y_train, y_new]),
            X_train_raw=np.concatenate([d.X_train_raw, raw]))
        self._targets = self.trainer.task.targets(self.dataset.y_train), self._targets[1]
        self.added += 1
        self.edited = self.dirty = True
        return [self.state()]

    def _on_upload_csv(self, msg):
        lim = self.limits
        size = len(msg.text.encode("utf-8"))
        if size > lim.max_upload_bytes:
            raise ValueError(f"the file is {size:,} bytes, over the limit of {lim.max_upload_bytes:,}")
        rows = sum(1 for line in msg.text.splitlines() if line.strip()) - 1
        if rows > lim.max_upload_rows:
            raise ValueError(f"the file has {rows:,} rows, over the limit of {lim.max_upload_rows:,}")
        data = {"name": "csv", "path": msg.name, "target": msg.target, "test_fraction": self.config.data.test_fraction}
        # from a 1-D set's curve of G points to 2-D maps of G² cells: the 2-D default G
        grid = DEFAULT_GRID if self.dims == 1 else self.grid
        old = self._upload_dir, self._upload_path
        folder = tempfile.TemporaryDirectory(prefix="deltaflow-upload-")
        path = Path(folder.name) / msg.name
        try:
            path.write_text(msg.text, encoding="utf-8")
            config = RunConfig.from_dict({**self.config.model_dump(), "data": data})
            self._upload_dir, self._upload_path = folder, path  # _build reads the file from here
            self._build(config, grid)
        except BaseException as exc:  # any failure: the old upload (if any) stays, the new one goes
            self._upload_dir, self._upload_path = old
            folder.cleanup()
            if isinstance(exc, ValueError):
                raise ValueError(str(exc).replace(str(path), msg.name)) from None
            raise
        if old[0] is not None:
            old[0].cleanup()
        return [self.state()]

    def _on_set_weight(self, msg):
        L = len(self.units)
        if msg.layer >= L:
            raise ValueError(f"layer {msg.layer} does not exist; the network has unit layers 0 … {L - 1}")
        dense = self.units[msg.layer].dense
        n_out, n_in = dense.W.value.shape
        if msg.row >= n_out:
            raise ValueError(f"row {msg.row} is out of range [0, {n_out}) for layer {msg.layer}")
        if msg.bias:
            if dense.b is None:
                raise ValueError(f"layer {msg.layer} has no bias (BatchNorm follows it)")
            dense.b.value[msg.row] = msg.value
        else:
            if msg.column >= n_in:
                raise ValueError(f"column {msg.column} is out of range [0, {n_in}) for layer {msg.layer}")
            dense.W.value[msg.row, msg.column] = msg.value
        self.edited = self.dirty = True

    def _on_explain(self, msg):
        d = self.dataset
        train = msg.split == "train"
        X, y, raw = (d.X_train, d.y_train, d.X_train_raw) if train else (d.X_test, d.y_test, d.X_test_raw)
        if msg.index >= len(X):
            raise ValueError(f"index {msg.index} is out of range: the {msg.split} part has {len(X)} examples")
        i = msg.index
        target = self.trainer.task.targets(y[i : i + 1])[0]
        result = explain(self.trainer.net, self.trainer.task.loss, X[i], target).to_dict()
        return [{"type": "explain", "split": msg.split, "index": i, "x_raw": raw[i].tolist(),
                 "y": y[i].tolist(), "explanation": result}]

    def _check_can_train(self) -> None:
        if self.nan_stop:
            raise ValueError("training stopped on a non-finite value; reset or change the config")
        if self.done:
            raise ValueError(f"the run is complete ({self.trainer.epoch} epochs, {self.trainer.step} steps); "
                             "raise epochs in the config or reset")

    # -- training ----------------------------------------------------------------------

    def train_tick(self, budget: float) -> None:
        """One tick of training while playing: ``steps_per_frame`` steps, or (0) as many as
        fit in ``budget`` seconds at the measured speed."""
        with self.lock:
            if not self.running:
                return
            n = self.steps_per_frame or max(1, int(budget / self._step_time))
            t0 = time.perf_counter()
            try:
                done = self._train(n)
            except Exception as exc:  # as in handle: report, pause, keep the session
                log.exception("session %s: training failed", self.id[:6])
                self.running = False
                self.outbox.append(error(f"training failed ({type(exc).__name__}: {exc}); paused"))
                return
            if done:
                self._step_time = 0.8 * self._step_time + 0.2 * (time.perf_counter() - t0) / done

    def _train(self, n: int) -> int:
        """Run up to n steps; stops at the end of the run or on a non-finite value. Returns the
        steps run. The probe statistics of the last step are measured afterwards."""
        t, done = self.trainer, 0
        max_steps = self.train_config.steps if self.train_config.steps is not None else math.inf
        while done < n and not (self.done or self.nan_stop):
            if done == n - 1:
                for buf, u in zip(self._W_before, self.units):
                    np.copyto(buf, u.dense.W.value)  # for the last step's update ratio
            if self._epoch is None:
                self._epoch = t.epoch_steps(self.dataset.X_train, self.dataset.y_train, max_steps=max_steps)
            done += 1
            try:
                next(self._epoch)
                continue
            except StopIteration as end:
                self._epoch = None
                row = end.value
            if row is None:
                self._stop_on_nan()
            elif self._finished():
                self.done, self.running = True, False
        if done:
            self._measure(copied=done == n)
            self.dirty = True
        return done

    def _stop_on_nan(self) -> None:
        t = self.trainer
        self.nan_stop, self.running = True, False
        self.alarm = P.ALARM_NAN
        self.alarm_layer = self._unit_of(t.nonfinite_layer)
        self.outbox.append({"type": "alarm", "alarm": "nan", "layer": self.alarm_layer, "message": t.message})

    def _unit_of(self, index: int | None) -> int:
        """The unit layer holding ``net.layers[index]`` (None: the loss, i.e. the output unit);
        a Dropout between units counts with the unit before it."""
        if index is None:
            return len(self.units) - 1
        layers = self.trainer.net.layers
        owner = 0
        for i, layer in enumerate(layers[: index + 1]):
            inside = {id(part) for part in walk(layer)}
            for u in self.units:
                if any(id(part) in inside for part in (u.dense, *u.norms, u.act) if part is not None):
                    owner = u.index
                    if i == index:
                        return owner
        return owner

    def _measure(self, copied: bool) -> None:
        """The probe statistics of the last step, with its own ‖ΔW‖/‖W‖ (when the copy before
        it was taken) and the alarms they raise."""
        s = self.probe.measure()
        ratio = np.full(len(self.units), np.nan)
        if copied:
            for i, (u, before) in enumerate(zip(self.units, self._W_before)):
                with np.errstate(all="ignore"):
                    base = float(np.linalg.norm(before))
                    ratio[i] = float(np.linalg.norm(u.dense.W.value - before)) / base if base > 0 else np.nan
        s["update_ratio"] = ratio
        self.stats = np.array([s[k] for k in STATS], dtype=np.float32)
        self.grad_norm = grad_norm(self.trainer.params)
        if not self.nan_stop:
            self.alarm, self.alarm_layer = alarm_of(s)

    # -- frames ------------------------------------------------------------------------

    def can_send(self) -> bool:
        return self.dirty and self.frame_id - self.acked < self.limits.window

    def train_tick_and_frame(self, budget: float) -> tuple[list[dict], bytes, float] | None:
        """``train_tick(budget)``, then ``messages_and_frame()`` if a frame may go out
        (``can_send``): (messages, frame, seconds the frame took), else None. One call for
        the worker, so the frame follows the training without a second hand-over."""
        self.train_tick(budget)
        if not self.can_send():  # only the socket's pump builds frames: this stays true
            return None
        t0 = time.perf_counter()
        messages, data = self.messages_and_frame()
        return messages, data, time.perf_counter() - t0

    def messages_and_frame(self) -> tuple[list[dict], bytes]:
        """The JSON the worker queued (an alarm) and the frame that shows it, taken together
        so that the message always goes out before its frame."""
        with self.lock:
            messages, self.outbox = self.outbox, []
            return messages, self._frame()

    def _frame(self) -> bytes:
        """Encode the newest state (under the lock)."""
        t, d = self.trainer, self.dataset
        flags = (P.RUNNING * self.running | P.PAUSED_BY_ALARM * self.nan_stop | P.DONE * self.done
                 | P.HAS_STATS * (self.stats is not None) | P.HAS_TEST * t.has_test | P.EDITED * self.edited)
        train_loss, test_loss, train_metric, test_metric = self._whole_set_metrics()
        self.frame_id += 1
        self.dirty = False
        frame = P.Frame(
            frame_id=self.frame_id, step=t.step, epoch=t.epoch, flags=flags, alarm=self.alarm,
            alarm_layer=self.alarm_layer, lr=float(t.optimizer.lr),
            shapes=[u.dense.W.value.shape for u in self.units],
            loss_points=self.losses.take(),
            metrics=[train_loss, test_loss, train_metric, test_metric, self.grad_norm],
            stats=self.stats,
            params=[(u.dense.W.value, None if u.dense.b is None else u.dense.b.value, u.dense.W.grad,
                     None if u.dense.b is None else u.dense.b.grad) for u in self.units],
            maps=self._maps(), grid=self.grid, n_outputs=output_maps(d), handled=self.handled,
        )
        return P.encode_frame(frame)

    def _whole_set_metrics(self) -> tuple[float, float, float, float]:
        """(train loss, test loss, train metric, test metric) on the whole parts. While playing
        they are measured at most every ``METRICS_EVERY_S`` (a frame reuses the last ones);
        paused, every frame measures the network it shows."""
        t, d, now = self.trainer, self.dataset, time.monotonic()
        cached = self._metrics
        if self.running and cached is not None and cached[0] is t and now - cached[1] < METRICS_EVERY_S:
            return cached[2]
        train_loss, train_metric = t.evaluate(d.X_train, d.y_train, self._targets[0])
        test_loss = test_metric = math.nan
        if t.has_test:
            test_loss, test_metric = t.evaluate(d.X_test, d.y_test, self._targets[1])
        values = (train_loss, test_loss, train_metric, test_metric)
        self._metrics = (t, now, values)
        return values

    def _maps(self) -> np.ndarray | None:
        """Output map(s) then every hidden unit's activation over the grid: (M, G²) or (M, G)."""
        if self._grid_X is None:
            return None
        task = self.trainer.task
        with np.errstate(all="ignore"):
            out, hidden = grid_forward(self.trainer.net, self._grid_X)
            if task.loss_name == "cross_entropy" and out.shape[1] == 2:
                # softmax's p(class 1) of two logits is σ(z₁ − z₀): elementwise, where softmax
                # reduces over rows of two (a third of a frame's time on the default network)
                out = sigmoid(out[:, 1:2] - out[:, 0:1])
            elif task.kind == "classification":
                proba = task.proba(out)
                out = proba[:, 1:2] if proba.shape[1] == 2 else proba
        return np.concatenate([out.T, *[a.T for a in hidden]], axis=0)

    # -- descriptions ------------------------------------------------------------------

    def state(self) -> dict:
        """The ``state`` message (see ``protocol``)."""
        t, d = self.trainer, self.dataset
        return {
            "type": "state",
            "config": self.config.model_dump(mode="json"),
            "grid": self.grid,
            "speed": {"steps_per_frame": self.steps_per_frame},
            "running": self.running, "done": self.done, "edited": self.edited,
            "step": t.step, "epoch": t.epoch, "handled": self.handled,
            "history": {k: [json_float(v) for v in vs[-P.STATE_HISTORY_ROWS:]] for k, vs in t.history.items()},
            "network": self.network(),
            "data": {
                "name": self.config.data.name, "task": d.task, "dims": self.dims, "n_classes": d.n_classes,
                "class_labels": d.class_labels, "metric": t.metric_name, "loss": t.task.loss_name,
                "raw_names": ["x1", "x2"][: self.dims] if self.config.data.name != "csv" else d.feature_names,
                "train": _points(d.X_train_raw, d.y_train), "test": _points(d.X_test_raw, d.y_test),
                "added": self.added,
            },
            "extent": self.extent,
            "maps": {"outputs": output_maps(d), "hidden": [u.dense.W.value.shape[0] for u in self.units[:-1]]},
        }

    def network(self) -> dict:
        layers = []
        for u in self.units:
            n_out, n_in = u.dense.W.value.shape
            act = u.act.name if u.act is not None else None
            if u is self.units[-1] and act is None:
                act = _OUTPUT_FUNCTION[self.trainer.task.loss_name]
            norm = type(u.norms[0]).__name__ if u.norms else None
            layers.append({"index": u.index, "name": u.name, "n_in": n_in, "n_out": n_out,
                           "activation": act or "identity", "norm": norm, "bias": u.dense.b is not None})
        return {"n_in": self.dataset.n_features, "n_out": layers[-1]["n_out"],
                "inputs": self.dataset.feature_names, "layers": layers}

    def history(self) -> dict:
        with self.lock:
            return {k: [json_float(v) for v in vs] for k, vs in self.trainer.history.items()}

    def close(self) -> None:
        with self.lock:
            self.running = False
            self.probe.detach()
            self._drop_upload()

    def _drop_upload(self) -> None:
        if self._upload_dir is not None:
            self._upload_dir.cleanup()
        self._upload_dir = self._upload_path = None


def alarm_of(s: dict) -> tuple[int, int]:
    """(alarm code, unit layer) from one measurement's statistics (rules in ``protocol``)."""
    g = np.asarray(s["grad_W_norm"], dtype=np.float64)
    where = first_nonfinite(s["nonfinite"])
    if where is not None:
        return P.ALARM_NAN, where
    first, last = g[0], g[-1]
    if len(g) > 1 and first < P.VANISHING_RATIO * last:
        return P.ALARM_VANISHING, 0
    if g.max() > P.EXPLODING_NORM or (len(g) > 1 and first > P.EXPLODING_RATIO * last):
        return P.ALARM_EXPLODING, int(np.argmax(g))
    return P.ALARM_NONE, -1


def _prefixed(about: str | None, message: str) -> str:
    """``about: message``, unless the message already starts so (explain's own errors do)."""
    if not about or message.startswith(f"{about}:"):
        return message
    return f"{about}: {message}"


def error(message: str, about: str | None = None) -> dict:
    """An ``error`` message: one line."""
    return {"type": "error", "message": " ".join(str(message).split()), "about": about}


def _points(X_raw: np.ndarray | None, y: np.ndarray | None) -> dict:
    if X_raw is None or len(X_raw) == 0:
        return {"x": [], "y": []}
    return {"x": np.round(X_raw, 6).tolist(), "y": np.asarray(y).ravel().tolist()}
