"""The client messages a session applies: one function ``on_<type>(session, msg)`` per
message type of ``protocol`` (``HANDLERS``), each returning its JSON replies (or None).

A handler raises ``ValueError`` for what it refuses; ``dispatch`` turns that into an
``error`` reply and leaves the session as it was.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from deltaflow.diagnostics.explain import explain
from deltaflow.experiments.base import to_json_ready
from deltaflow.training.config import RunConfig
from deltaflow.web import frames as F
from deltaflow.web import protocol as P
from deltaflow.web.building import DEFAULT_GRID, model_input
from deltaflow.web.digits import predict
from deltaflow.web.lessons import LESSONS

log = logging.getLogger(__name__)
MAX_COORDINATE = 1e3  # |x1|, |x2| of an added point: far beyond any drawable set's extent


def dispatch(s, text) -> tuple[str | None, list[dict]]:
    """Parse and apply one message to session ``s``: (its type if it has one, its replies)."""
    about = None
    try:
        msg = P.parse_message(text, s.limits.max_message_bytes)
        about = msg.type
        return about, HANDLERS[msg.type](s, msg) or []
    except P.ProtocolError as exc:
        return exc.about, [error(str(exc), exc.about)]
    except ValueError as exc:
        return about, [error(prefixed(about, str(exc)), about)]
    except Exception as exc:  # a bug must not end the session: say so and pause
        log.exception("session %s: %s failed", s.id[:6], about)
        s.running = False
        return about, [error(f"{about}: internal error ({type(exc).__name__}: {exc}); training paused", about)]


def on_config(s, msg) -> list[dict]:
    apply(s, RunConfig.from_dict(msg.config), msg.grid)
    s.pause_at = msg.pause_at  # after the build: a refused config keeps the old moment
    return [s.state()]


def on_import_config(s, msg) -> list[dict]:
    apply(s, RunConfig.from_json(msg.text), msg.grid)
    s.pause_at = None
    return [s.state()]


def apply(s, config: RunConfig, grid: int | None) -> None:
    """Rebuild ``s`` for ``config`` (``grid`` None: keep the current); a config that is not
    the upload's drops the uploaded file."""
    s.build(config, s.grid if grid is None else grid)
    if config.data.name != "csv":
        s.drop_upload()


def on_play(s, msg):
    check_can_train(s)
    s.running, s.pending = True, 0  # playing trains on: the steps of a step are no longer counted
    s.at_pause = False
    s.dirty = True


def on_pause(s, msg):
    s.running, s.pending = False, 0
    s.dirty = True


def on_step(s, msg):
    """The n steps run in the socket's ticks (each time-bounded, ``Session.train_tick``); the
    frame that shows them goes out when all are done."""
    if msg.n > s.limits.max_step:
        raise ValueError(f"n={msg.n} is over the limit of {s.limits.max_step} steps per message")
    check_can_train(s)
    s.running, s.at_pause = False, False
    s.pending += msg.n


def on_reset(s, msg):
    s.build(s.config, s.grid, s.dataset, keep_edits=True)
    return [s.state()]


def on_regenerate(s, msg):
    if s.config.data.name == "csv":
        raise ValueError("uploaded data have no other sample; upload another file")
    s.build(s.config.model_copy(update={"seed": (s.config.seed + 1) % 2**32}), s.grid)
    return [s.state()]


def on_speed(s, msg):
    if msg.steps_per_frame is not None:
        n = msg.steps_per_frame
    else:
        n = max(1, round(msg.examples_per_second / s.config.batch_size / s.limits.max_fps))
    if n > s.limits.max_steps_per_frame:
        raise ValueError(f"{n} steps per frame is over the limit of {s.limits.max_steps_per_frame}")
    s.steps_per_frame = n


def on_ack(s, msg):
    if msg.frame > s.frame_id:
        raise ValueError(f"frame {msg.frame} has not been sent (the last is {s.frame_id})")
    s.acked = max(s.acked, msg.frame)


def on_add_point(s, msg):
    d, lim = s.dataset, s.limits
    if s.projection is not None:
        raise ValueError(f"this data set has {d.n_features} inputs, drawn on its PCA plane; a point of the plane "
                         "is not an example of the data, so points cannot be added here")
    if s.added >= lim.max_points_added:
        raise ValueError(f"already {s.added} points added, the limit is {lim.max_points_added}")
    if (msg.x2 is None) != (s.dims == 1):
        raise ValueError(f"this data set is {s.dims}-D: give x1{' and x2' if s.dims == 2 else ' only'}")
    for field, v in (("x1", msg.x1), ("x2", msg.x2)):
        if v is not None and not abs(v) <= MAX_COORDINATE:
            raise ValueError(f"{field}={v:g} is outside the plane's range ±{MAX_COORDINATE:g}")
    raw = np.array([[msg.x1] if s.dims == 1 else [msg.x1, msg.x2]], dtype=np.float64)
    y_new = _new_target(d, msg)
    # new arrays, not in-place growth: the running epoch keeps the rows it shuffled
    s.dataset = dataclasses.replace(
        d, X_train=np.concatenate([d.X_train, model_input(d, raw)]),
        y_train=np.concatenate([d.y_train, y_new]),
        X_train_raw=np.concatenate([d.X_train_raw, raw]))
    s.targets = s.trainer.task.targets(s.dataset.y_train), s.targets[1]
    s.added += 1
    s.edited = s.dirty = True
    return [s.state()]


def _new_target(d, msg) -> np.ndarray:
    """The added point's label (classification) or value (regression), as ``d.y_train`` holds them."""
    if d.task == "classification":
        if msg.label is None or msg.label >= d.n_classes:
            raise ValueError(f"label must be a class index in [0, {d.n_classes})")
        return np.array([msg.label], dtype=d.y_train.dtype)
    if msg.value is None:
        raise ValueError("a regression data set needs value, not label")
    check_range("value", msg.value, d.y_train.dtype)
    return np.array([[msg.value]], dtype=d.y_train.dtype)


def check_range(field: str, value: float, dtype) -> None:
    """Refuse a value the session's dtype cannot hold (|v| > 3.4028235e38 for float32 would
    become inf in the data and stop every later frame)."""
    limit = float(np.finfo(dtype).max)
    if not abs(value) <= limit:
        raise ValueError(f"{field}: {value:g} is outside the {np.dtype(dtype).name} range ±{limit:g}")


def on_upload_csv(s, msg):
    lim = s.limits
    size = len(msg.text.encode("utf-8"))
    if size > lim.max_upload_bytes:
        raise ValueError(f"the file is {size:,} bytes, over the limit of {lim.max_upload_bytes:,}")
    rows = sum(1 for line in msg.text.splitlines() if line.strip()) - 1
    if rows > lim.max_upload_rows:
        raise ValueError(f"the file has {rows:,} rows, over the limit of {lim.max_upload_rows:,}")
    header = next((line for line in msg.text.splitlines() if line.strip()), "")
    columns = header.count(",") + 1
    if columns > lim.max_features + 1:
        raise ValueError(f"the file has {columns} columns, over the limit of {lim.max_features} features and a target")
    data = {"name": "csv", "path": msg.name, "target": msg.target, "test_fraction": s.config.data.test_fraction}
    # from a 1-D set's curve of G points to 2-D maps of G² cells: the 2-D default G
    grid = DEFAULT_GRID if s.dims == 1 else s.grid
    old = s.upload_dir, s.upload_path
    folder = tempfile.TemporaryDirectory(prefix="deltaflow-upload-")
    path = Path(folder.name) / msg.name
    try:
        path.write_text(msg.text, encoding="utf-8")
        config = RunConfig.from_dict({**s.config.model_dump(), "data": data})
        s.upload_dir, s.upload_path = folder, path  # build reads the file from here
        s.build(config, grid)
    except BaseException as exc:  # any failure: the old upload (if any) stays, the new one goes
        s.upload_dir, s.upload_path = old
        folder.cleanup()
        if isinstance(exc, ValueError):
            raise ValueError(str(exc).replace(str(path), msg.name)) from None
        raise
    if old[0] is not None:
        old[0].cleanup()
    return [s.state()]


def on_set_weight(s, msg):
    L = len(s.units)
    if msg.layer >= L:
        raise ValueError(f"layer {msg.layer} does not exist; the network has unit layers 0 … {L - 1}")
    dense = s.units[msg.layer].dense
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
    s.edited = s.dirty = True


def on_explain(s, msg):
    d = s.dataset
    train = msg.split == "train"
    X, y, raw = (d.X_train, d.y_train, d.X_train_raw) if train else (d.X_test, d.y_test, d.X_test_raw)
    if msg.index >= len(X):
        raise ValueError(f"index {msg.index} is out of range: the {msg.split} part has {len(X)} examples")
    i = msg.index
    target = s.trainer.task.targets(y[i : i + 1])[0]
    result = explain(s.trainer.net, s.trainer.task.loss, X[i], target, lr=plain_sgd_lr(s)).to_dict()
    return [{"type": "explain", "split": msg.split, "index": i, "x_raw": to_json_ready(raw[i]),
             "y": to_json_ready(y[i]), "explanation": result}]


def on_predict(s, msg):
    """A drawn digit's probabilities and its forward and backward pass (``web.digits``)."""
    return [predict(s, msg.x, plain_sgd_lr(s))]


def plain_sgd_lr(s) -> float | None:
    """η when the run's update is W ← W − η·∂L/∂W (SGD without momentum, weight decay, L1/L2 or
    clipping), so the explanation can show that step; None for any other optimiser, whose step
    is not that formula."""
    c = s.train_config
    o = c.optimizer
    plain = o.name == "sgd" and not o.momentum and not o.weight_decay and not c.l1 and not c.l2 \
        and c.clip_norm is None and c.clip_value is None
    return float(s.trainer.optimizer.lr) if plain else None


def on_lesson(s, msg) -> list[dict]:
    """A Learn chapter's computation: the chapter's own schema validates ``msg.request``."""
    if msg.chapter not in LESSONS:
        raise ValueError(f"unknown chapter {msg.chapter!r}; known: {', '.join(LESSONS)}")
    request_model, run = LESSONS[msg.chapter]
    try:
        request = request_model.model_validate(msg.request)
    except ValidationError as exc:
        raise ValueError(f"{msg.chapter}: {P.describe(exc)}") from None
    return [{"type": "lesson", "chapter": msg.chapter, "result": run(request)}]


def on_replay(s, msg) -> list:
    """The recorded frame at or before ``msg.step`` (null: the newest) with the REPLAY flag,
    after the JSON naming its step and every recorded one; the session is left as it was."""
    step, frame = s.replay.at(msg.step)
    return [{"type": "replay", "step": step, "steps": list(s.replay.steps)}, F.as_replay(frame)]


def check_can_train(s) -> None:
    if s.nan_stop:
        raise ValueError("training stopped on a non-finite value; reset or change the config")
    if s.done:
        raise ValueError(f"the run is complete ({s.trainer.epoch} epochs, {s.trainer.step} steps); "
                         "raise epochs in the config or reset")


def prefixed(about: str | None, message: str) -> str:
    """``about: message``, unless the message already starts so (explain's own errors do)."""
    if not about or message.startswith(f"{about}:"):
        return message
    return f"{about}: {message}"


def error(message: str, about: str | None = None) -> dict:
    """An ``error`` message: one line."""
    return {"type": "error", "message": " ".join(str(message).split()), "about": about}


# one handler per message type of the protocol: a type without its ``on_<type>`` fails here, at import
HANDLERS = {kind: globals()[f"on_{kind}"] for kind in P.MESSAGE_TYPES}
