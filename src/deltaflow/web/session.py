"""One simulator session per socket: a ``Trainer`` stepped a frame at a time.

The session owns the data (possibly edited), a ``train.Trainer`` (network, optimiser,
schedule, shuffling generator) and a ``GradientProbe``, built by ``building``. It is driven
from two sides, always under ``self.lock`` (methods run in worker threads, never on the
event loop):

- ``handle(text)`` applies one client message (``handlers``) and returns the JSON replies;
- ``train_tick(budget)`` runs one tick of steps while playing or while a ``step`` message's
  steps are pending (``ticks``), at most ``limits.tick_budget_s`` long, and
  ``messages_and_frame()`` takes the JSON the worker queued (an alarm) with the newest state
  encoded as a binary frame (``snapshot``), which its replay history keeps (``replay``).

Two things happen without the lock, from the event loop: ``handle_ack`` applies an ack, and
``interrupt`` (a ``pause``, a ``reset``, the socket closing) stops the running tick before its
next step, so that none of them waits behind training. A run's cost is admitted against the
server's budget (``admission.Ledger``) when it is built.
"""

from __future__ import annotations

import logging
import math
import secrets
import tempfile
import threading
import time
from pathlib import Path

from deltaflow.data import Dataset
from deltaflow.training.config import RunConfig
from deltaflow.web import frames as F
from deltaflow.web import protocol as P
from deltaflow.web import snapshot, ticks
from deltaflow.web.admission import Ledger
from deltaflow.web.building import (DEFAULT_GRID, DEFAULT_STEPS_PER_FRAME, build_run, default_config, grid_inputs,
                                    plot_extent)
from deltaflow.web.handlers import dispatch, error, on_ack, prefixed
from deltaflow.web.limits import Limits
from deltaflow.web.replay import History

log = logging.getLogger(__name__)


class Session:
    """One run in the simulator (see the module docstring). ``id`` is the download token."""

    # the message types that interrupt a running tick before they wait for its lock
    INTERRUPTING = ("pause", "reset")

    def __init__(self, limits: Limits, config: RunConfig | None = None, ledger: Ledger | None = None):
        """``ledger``: the server's, shared by its sessions (default: one of this session's own)."""
        self.id = secrets.token_urlsafe(16)
        self.limits = limits
        self.ledger = ledger or Ledger(limits)
        self.lock = threading.Lock()
        self.last_active = time.monotonic()
        self.running = False
        self.pending = 0  # steps of ``step`` messages not yet run
        self.halted = False  # set by ``interrupt``, cleared when the next message is handled
        self.steps_per_frame = DEFAULT_STEPS_PER_FRAME
        self.frame_id = 0  # of the last built frame
        self.acked = 0
        self.handled = 0  # client messages other than acks received, reported in every frame
        self.outbox: list[dict] = []  # JSON the worker wants sent (an alarm)
        self.step_time = 1e-4  # s per step, a running estimate for steps_per_frame 0
        self.upload_dir: tempfile.TemporaryDirectory | None = None
        self.upload_path: Path | None = None
        self.grid = DEFAULT_GRID
        self.pause_at: int | None = None  # the ``config`` message's step to pause after (a preset's moment)
        self.probe = None
        self.metrics_cache = None  # (trainer, time, values) of the last whole-set measurement
        self.edited, self.added = False, 0
        self.replay = History(limits.replay_frames, limits.replay_bytes)  # the frames sent, for ``replay``
        self.build(config or default_config(), DEFAULT_GRID)

    def build(self, config: RunConfig, grid: int, dataset: Dataset | None = None, keep_edits=False) -> None:
        """Make data, trainer and grid for ``config``; on any error nothing has changed."""
        run = build_run(config, grid, self.limits, self.upload_path, dataset)
        self.ledger.admit(self.id, run.cost)
        # commit: from here on nothing raises
        if self.probe is not None:
            self.probe.detach()
        self.config, self.train_config, self.grid, self.dataset, self.dims, self.projection = (
            run.config, run.train_config, run.grid, run.dataset, run.dims, run.projection)
        self.trainer, self.probe, self.losses, self.units, self.n_maps = (
            run.trainer, run.probe, run.losses, run.units, run.n_maps)
        self.epoch_steps = None  # the running epoch's generator (Trainer.epoch_steps)
        self.pending = 0
        self.stats = None  # (S, L) float32 of the latest tick
        self.grad_norm = math.nan
        self.done = ticks.finished(self)
        self.alarm, self.alarm_layer = F.ALARM_NONE, -1
        self.nan_stop = False
        self.at_pause = False  # paused after step ``pause_at``, until the next play or step
        # slow mode near an alarm (``ticks.grew``): the running level of ‖g‖, calm steps since growth
        self.slowed, self.norm_level, self.calm = False, math.nan, 0
        if not keep_edits:
            self.added = 0
        self.edited = self.added > 0  # weight edits end here; added points stay with the data
        self.extent = plot_extent(config, run.dataset, run.dims, run.projection)
        self.grid_X = grid_inputs(run.dataset, run.dims, run.grid, self.extent, run.projection)
        self.replay.clear()
        task, d = run.trainer.task, run.dataset
        self.targets = task.targets(d.y_train), task.targets(d.y_test) if run.trainer.has_test else None
        self.dirty = True

    # -- messages ----------------------------------------------------------------------

    def handle_ack(self, text) -> list[dict] | None:
        """An ``ack`` applied at once, without the lock (so it never waits for a training tick
        to end): its replies. None for any other message (and any bad one): ``handle`` it; a
        ``pause`` or ``reset`` first ``interrupt``-s the running tick, so its ``handle`` waits
        for one step at most.

        It runs on the event loop, so only a text as short as an ack is parsed here; a longer
        one (an upload of up to a megabyte) goes to ``handle`` in a worker thread unread."""
        if len(text) > P.MAX_ACK_CHARS:
            return None
        try:
            msg = P.parse_message(text, self.limits.max_message_bytes)
        except P.ProtocolError:
            return None
        if msg.type != "ack":
            if msg.type in self.INTERRUPTING:
                self.interrupt()
            return None
        self.last_active = time.monotonic()
        try:
            on_ack(self, msg)
        except ValueError as exc:
            return [error(prefixed("ack", str(exc)), "ack")]
        return []

    def handle(self, text) -> list[dict | bytes]:
        """Apply one client message; returns the JSON replies (an ``error`` for bad input) and
        the binary frame of a ``replay``."""
        with self.lock:
            self.last_active = time.monotonic()
            about, replies = dispatch(self, text)
            self.halted = False  # the message that interrupted the tick is applied
            if about != "ack":  # acks answer frames; counting them would make a frame stale on arrival
                self.handled += 1
            for reply in replies:
                if isinstance(reply, dict) and reply["type"] == "state":
                    reply["handled"] = self.handled  # this message included
            return replies

    # -- training and frames -----------------------------------------------------------

    def interrupt(self) -> None:
        """Stop the running tick before its next step, and run none until the next message is
        handled (the socket closing: none at all). Called without the lock, from the event loop."""
        self.halted = True

    def train_tick(self, budget: float) -> None:
        """One tick of training: the pending steps of ``step`` messages, else while playing
        ``steps_per_frame`` steps (one in slow mode, ``ticks.grew``), or (0) as many as fit in
        ``budget`` seconds; in every case none after ``limits.tick_budget_s`` seconds (the rest
        waits for the next ticks)."""
        with self.lock:
            if self.halted or not (self.running or self.pending):
                return
            n = self.pending or (1 if self.slowed else self.steps_per_frame) or math.inf
            seconds = self.limits.tick_budget_s if n < math.inf else min(budget, self.limits.tick_budget_s)
            t0 = time.perf_counter()
            try:
                done = ticks.train(self, n, t0 + seconds)
            except Exception as exc:  # as in handle: report, pause, keep the session
                log.exception("session %s: training failed", self.id[:6])
                self.running, self.pending = False, 0
                self.outbox.append(error(f"training failed ({type(exc).__name__}: {exc}); paused"))
                return
            if self.pending:
                self.pending = 0 if self.done or self.nan_stop or self.at_pause else self.pending - done
            if done:
                self.step_time = 0.8 * self.step_time + 0.2 * (time.perf_counter() - t0) / done

    def can_send(self) -> bool:
        """A frame may go out: there is news, credit, and no ``step`` half done (its frame shows all n)."""
        return self.dirty and not self.pending and self.frame_id - self.acked < self.limits.window

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
            return messages, snapshot.frame(self)

    # -- descriptions ------------------------------------------------------------------

    def state(self) -> dict:
        """The ``state`` message (see ``protocol``)."""
        return snapshot.state(self)

    def network(self) -> dict:
        return snapshot.network(self)

    def history(self) -> dict:
        with self.lock:
            return snapshot.history(self.trainer)

    def close(self) -> None:
        self.interrupt()
        with self.lock:
            self.running, self.pending = False, 0
            self.probe.detach()
            self.drop_upload()
        self.ledger.release(self.id)

    def drop_upload(self) -> None:
        if self.upload_dir is not None:
            self.upload_dir.cleanup()
        self.upload_dir = self.upload_path = None
