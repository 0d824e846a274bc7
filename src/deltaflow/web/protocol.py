"""The simulator's wire protocol: JSON messages both ways, binary frames server → client.

This module is the one description of the protocol; the page's decoder
(``static/*.js``) mirrors it. Protocol version: ``PROTOCOL_VERSION`` (1).

Endpoints
---------
``GET /``                                 the page (``static/index.html``)
``GET /static/<path>``                    the page's files (HTML, CSS, ES modules)
``WS  /ws``                               one socket = one ``Session``
``GET /api/session/<id>/model.npz``       the session's network (``deltaflow.training.io`` model file)
``GET /api/session/<id>/config.json``     the session's ``RunConfig`` (``deltaflow train --config``)
``GET /api/session/<id>/history.json``    the per-epoch history so far, as ``fit``'s (NaN → null)

``<id>`` is the unguessable token sent in ``hello``; a download works while its socket is open.

Client → server (JSON text, one object with a ``type``)
--------------------------------------------------------
A message that is not JSON, not an object, of unknown type, with a missing, extra or
wrongly typed field (types are strict: ``"5"`` is not an integer, NaN is not a number),
or that breaks a limit, gets an ``error`` reply; the session lives on unchanged.

``{"type": "config", "config": {...RunConfig...}, "grid": 64}``
    A full ``deltaflow.training.config.RunConfig`` dict (missing keys take RunConfig's defaults) and
    the simulator-only ``grid`` (G of the heatmaps, 0 for none; omitted: keep the current).
    Rebuilds data and network from the seed (a playing session goes on playing); replies
    ``state``, then a frame (at step 0 unless playing).
    Data sets the simulator can draw: the 2-D toy sets and the 1-D functions of
    ``deltaflow.data.DATASETS``; a ``csv`` comes only through ``upload_csv``.
``{"type": "import_config", "text": "<a config.json file's text>", "grid": 64}``
    The same, from JSON text (an uploaded file): errors name the JSON problem or the field.
``{"type": "play"}`` / ``{"type": "pause"}``
    Start or stop the worker. Training stops by itself when the config's ``epochs`` (or
    ``steps``) are done (frame flag ``DONE``); ``play`` then answers with an error until
    the config changes.
``{"type": "step", "n": 1}``
    Train n steps now (1 ≤ n ≤ limits.max_step), paused afterwards; then a frame.
``{"type": "reset"}``
    Re-initialise the network (and optimiser, schedule, shuffling) from the seed; keeps
    the data, added points included. Replies ``state``.
``{"type": "regenerate"}``
    A new data sample: seed + 1 (mod 2³²), then as ``config`` (data and network rebuilt,
    so the exported config still reproduces the run). Replies ``state``.
``{"type": "speed", "steps_per_frame": 10}`` or ``{"type": "speed", "examples_per_second": 5000}``
    Training speed, independent of drawing: steps per frame tick (1 … limits.max_steps_per_frame;
    0 = as fast as the CPU allows: each tick trains until the frame is due), or examples per second
    (converted to steps per tick with the batch size and limits.max_fps).
``{"type": "ack", "frame": 17}``
    Credit-based flow control: acknowledges every frame with id ≤ 17. The server keeps at
    most ``limits.window`` unacknowledged frames in flight; without credit it sends
    nothing (training goes on) and sends the newest state when credit returns.
``{"type": "add_point", "x1": 0.5, "x2": -1.0, "label": 1}``
    Add a training point in raw input coordinates (the plotted plane); ``label`` (class
    index) for classification, ``value`` for regression; 1-D data sets omit ``x2``.
    At most ``limits.max_points_added`` per data set. Replies ``state``.
``{"type": "upload_csv", "text": "x1,x2,label\\n...", "name": "points.csv", "target": null}``
    Your own data: a CSV with a header, two feature columns and a target column (``target``
    names it; null: the last). Size limits: ``limits.max_upload_bytes``, ``max_upload_rows``.
    The config becomes ``data.name = "csv", data.path = name``: ``deltaflow train --config``
    reproduces the run with the file saved under that name beside it. Replies ``state``.
``{"type": "set_weight", "layer": 0, "row": 2, "column": 1, "value": 0.5}``
    Set W^(l)[row, column] of unit layer ``layer`` (0-based); with ``"bias": true`` instead
    of ``column``, b^(l)[row]. Marks the session ``edited``. Replies with a frame.
``{"type": "explain", "split": "train", "index": 3}``
    Replies ``explain`` with ``deltaflow.diagnostics.explain.explain(...).to_dict()`` for that example.

Server → client (JSON text)
----------------------------
``hello``   ``{"type", "protocol", "session", "limits", "defaults", "presets", "datasets",
            "features", "activations", "initializers", "optimizers", "schedules", "losses",
            "frame"}``: sent once, first. ``defaults`` = ``{"config", "grid" (G for 2-D
            maps), "curve_grid" (G for 1-D curves), "speed"}``;
            ``presets`` = list of ``{"name", "title", "description", "config", "grid"}``;
            ``frame`` repeats this module's constants (magic, flags, alarms, stats, metrics).
``state``   the session after a change: ``config`` (normalised RunConfig dict), ``grid``,
            ``speed``, ``running``, ``done``, ``edited``, ``step``, ``epoch``, ``handled`` (client
            messages other than ``ack`` handled, the one this state answers included: a frame
            whose header ``handled`` is smaller was built before this state and shows an older
            network, so a client drops it), ``history``
            (the newest ``STATE_HISTORY_ROWS`` per-epoch rows as in ``fit``; ``history.json``
            has them all), ``network`` = ``{"n_in", "n_out", "inputs"
            (feature names), "layers": [{"index", "name", "n_in", "n_out", "activation",
            "norm", "bias"}]}`` (one per unit layer, output last; the output's activation is
            the loss's output function: softmax, sigmoid or identity), ``data`` =
            ``{"name", "task", "dims" (2 or 1), "n_classes", "class_labels", "metric",
            "loss", "raw_names", "train": {"x": [[x1, x2], …], "y": […]}, "test": {…},
            "added"}`` (x in raw coordinates, y labels or values), ``extent`` =
            ``{"x1": [lo, hi], "x2": [lo, hi]}`` (1-D: x2 is null), ``maps`` =
            ``{"outputs": K_out, "hidden": [n_1, …]}``.
``error``   ``{"type": "error", "message": "<one line naming what is wrong>", "about": "<type>"}``:
            the reply to a refused message (``about`` its type, null if it had none), or
            unprompted, ``about`` null: training failed in the worker (the session pauses), or
            the session is being closed as idle.
``explain`` ``{"type": "explain", "split", "index", "x_raw", "y", "explanation": {...}}``
``alarm``   ``{"type": "alarm", "alarm": "nan", "layer": l, "message": "<fit's divergence message>"}``:
            unprompted, once, when training stops on a non-finite value (a loss, gradient or
            weight): ``layer`` is the unit layer (0-based) where it began, ``message`` the
            ``Trainer``'s divergence message (the step, the value, the layer). It is sent before
            the frame that shows it (flag PAUSED_BY_ALARM, alarm 3 with the same layer). The
            vanishing and exploding alarms have no message of their own: they are in every
            frame's header while they hold.
``full``    ``{"type": "full", "message", "max_sessions"}``: the server has its maximum of
            sessions; the socket is then closed (code 1013).
An idle session (no client message for ``limits.idle_timeout_s``) gets an ``error`` and is
closed with code 4000. ``config``, ``reset``, ``regenerate`` and ``upload_csv`` keep playing
if the session was playing.

Binary frames (server → client), little-endian
----------------------------------------------
Every section starts on a 4-byte boundary, so a JS decoder can take ``Float32Array``
views of the buffer directly. Header, 48 bytes (``HEADER`` struct ``<4sHHIIIHhfIHHHHHHI``)::

    offset type     field
     0     char[4]  magic b"DFLF"
     4     uint16   version (FRAME_VERSION = 1)
     6     uint16   flags: RUNNING 1, PAUSED_BY_ALARM 2 (a NaN stopped training), DONE 4
                    (epochs/steps reached), HAS_STATS 8 (a step has run), MAPS 16 (2-D
                    heatmaps follow), CURVES 32 (1-D curves follow), HAS_TEST 64, EDITED 128
                    (data or weights edited: fit(config) no longer reproduces the session)
     8     uint32   frame id (1, 2, 3, … per session; ``ack`` names it)
    12     uint32   step (optimiser steps so far)
    16     uint32   epoch (completed epochs)
    20     uint16   alarm: 0 none, 1 vanishing, 2 exploding, 3 nan
    22     int16    alarm layer: unit layer index (0-based), −1 none
    24     float32  lr (the optimiser's current learning rate)
    28     uint32   P, loss points in this frame
    32     uint16   L, unit layers (output included)
    34     uint16   S, statistics per layer (len(STATS) = 11)
    36     uint16   N, metrics (len(METRICS) = 5)
    38     uint16   G, grid size (0: no maps)
    40     uint16   M, maps (or curves): K_out output maps, then one per hidden unit
    42     uint16   K_out, output maps (1, or K for K > 2 classes)
    44     uint32   handled: client messages other than ``ack`` the session had received
                    when the frame was built (refused ones included), so a client knows
                    which of its messages a frame shows

Then, in this order::

    shapes   uint32[L][2]      (n_out, n_in) of each unit layer's W
    loss     float32[P][2]     (step, batch training loss) of the steps since the last sent
                               frame, oldest first; thinned (every other point dropped,
                               repeatedly) to at most MAX_LOSS_POINTS. Steps are exact up
                               to 2²⁴.
    metrics  float32[N]        METRICS: train_loss, test_loss, train_metric, test_metric
                               (accuracy or R², on the whole part in eval mode; test NaN
                               without a test part), grad_norm (global ‖g‖ of the last step)
    stats    float32[S][L]     probes.STATS, one row per statistic (stat-major), measured on
                               the last step of the frame; update_ratio is that one step's
                               ‖ΔW‖/‖W‖. NaN before the first step.
    params   for each unit layer l: float32 W[n_out·n_in] (row-major, W[i, j] at i·n_in + j),
             b[n_out], dW[n_out·n_in], db[n_out] (∂L/∂W and ∂L/∂b of the last step as the
             optimiser used them; b and db are 0 for a layer without bias)
    maps     if MAPS:   float32[M][2] (min, max) per map, then uint8[M][G·G], then zero
                        padding to a multiple of 4. value = min + q/255·(max − min).
                        Cell (row r, column c) is at r·G + c; x1 = x1_lo + c·(x1_hi −
                        x1_lo)/(G − 1), x2 = x2_hi − r·(x2_hi − x2_lo)/(G − 1): row 0 is the
                        top of the plot, as in an image. Output maps: P(class 1) for two
                        classes (any loss), P(class k) for K > 2, ŷ for regression; hidden
                        maps: each unit's activation a_j^(l)(x), layer by layer.
             if CURVES: float32[M][G], no quantisation: for a 1-D data set, the fitted
                        curve ŷ(x) then each hidden unit's a_j^(l)(x) at x = x_lo + c·(x_hi −
                        x_lo)/(G − 1), c = 0 … G − 1 (extent in ``state``).

The frame ends there: its length is exactly the sum of these sections.

Alarms (computed on the server each frame, from the stats)
----------------------------------------------------------
vanishing: ‖∂L/∂W^(1)‖ < VANISHING_RATIO (1e−4) · ‖∂L/∂W^(L)‖ (layer 0 named).
exploding: some ‖∂L/∂W^(l)‖ > EXPLODING_NORM (1e3), or ‖∂L/∂W^(1)‖ > EXPLODING_RATIO (1e4) ·
‖∂L/∂W^(L)‖ (the layer of the largest norm named).
nan: a loss, gradient or weight became non-finite; training pauses (PAUSED_BY_ALARM), the
weights go back to the start of that epoch (as ``fit`` does) and the layer where it began
is named; the alarm stays until ``reset``, ``config`` or ``regenerate``.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from deltaflow.diagnostics.probes import STATS

PROTOCOL_VERSION = 1
FRAME_VERSION = 1
MAGIC = b"DFLF"
HEADER = struct.Struct("<4sHHIIIHhfIHHHHHHI")
assert HEADER.size == 48

# frame flags
RUNNING, PAUSED_BY_ALARM, DONE, HAS_STATS, MAPS, CURVES, HAS_TEST, EDITED = (1 << i for i in range(8))
FLAGS = {
    "RUNNING": RUNNING, "PAUSED_BY_ALARM": PAUSED_BY_ALARM, "DONE": DONE, "HAS_STATS": HAS_STATS,
    "MAPS": MAPS, "CURVES": CURVES, "HAS_TEST": HAS_TEST, "EDITED": EDITED,
}
# alarm codes
ALARM_NONE, ALARM_VANISHING, ALARM_EXPLODING, ALARM_NAN = 0, 1, 2, 3
ALARMS = ("none", "vanishing", "exploding", "nan")
VANISHING_RATIO = 1e-4
EXPLODING_NORM = 1e3
EXPLODING_RATIO = 1e4

METRICS = ("train_loss", "test_loss", "train_metric", "test_metric", "grad_norm")
MAX_LOSS_POINTS = 1024
MAX_ACK_CHARS = 100  # an ack is ~30 characters; only texts this short are parsed on the event loop
STATE_HISTORY_ROWS = 1000  # the newest per-epoch rows a ``state`` carries (history.json has them all)


@dataclass
class Limits:
    """Every limit the server enforces; sent to the page in ``hello``.

    ``idle_timeout_s`` and ``max_sessions`` are the ones tests shrink (``create_app(limits=...)``).
    """

    max_sessions: int = 8
    max_hidden_layers: int = 32
    max_width: int = 64
    max_batch_size: int = 1024
    max_samples: int = 10_000  # data.n_samples of a generated set
    max_epochs: int = 100_000  # config.epochs: the history gains a row per epoch
    max_grid: int = 128
    min_grid: int = 8  # 0 is allowed too: no maps
    max_map_bytes: int = 4_000_000  # M · G² of one frame's heatmaps
    max_upload_bytes: int = 1_000_000
    max_upload_rows: int = 10_000
    max_points_added: int = 1_000
    max_step: int = 10_000  # n of one ``step`` message
    max_steps_per_frame: int = 10_000
    max_message_bytes: int = 1_200_000  # one client message (an upload is the largest)
    window: int = 4  # unacknowledged frames in flight
    max_fps: float = 30.0
    idle_timeout_s: float = 900.0

    def to_dict(self) -> dict:
        return asdict(self)


# -- client messages ---------------------------------------------------------------------


class _Message(BaseModel):
    # strict: "5" is not an int and 1.5 not a bool; NaN and ±inf are refused
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ConfigMsg(_Message):
    type: Literal["config"]
    config: dict
    grid: int | None = Field(None, ge=0)


class ImportConfigMsg(_Message):
    type: Literal["import_config"]
    text: str
    grid: int | None = Field(None, ge=0)


class PlayMsg(_Message):
    type: Literal["play"]


class PauseMsg(_Message):
    type: Literal["pause"]


class StepMsg(_Message):
    type: Literal["step"]
    n: int = Field(1, ge=1)


class ResetMsg(_Message):
    type: Literal["reset"]


class RegenerateMsg(_Message):
    type: Literal["regenerate"]


class SpeedMsg(_Message):
    type: Literal["speed"]
    steps_per_frame: int | None = Field(None, ge=0)
    examples_per_second: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one(self):
        if (self.steps_per_frame is None) == (self.examples_per_second is None):
            raise ValueError("give exactly one of steps_per_frame and examples_per_second")
        return self


class AckMsg(_Message):
    type: Literal["ack"]
    frame: int = Field(ge=0)


class AddPointMsg(_Message):
    type: Literal["add_point"]
    x1: float
    x2: float | None = None
    label: int | None = Field(None, ge=0)
    value: float | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.label is None) == (self.value is None):
            raise ValueError("give exactly one of label (classification) and value (regression)")
        return self


class UploadCsvMsg(_Message):
    type: Literal["upload_csv"]
    text: str
    name: str = Field("upload.csv", pattern=r"^[A-Za-z0-9][A-Za-z0-9_. -]{0,63}\.csv$")
    target: str | None = None


class SetWeightMsg(_Message):
    type: Literal["set_weight"]
    layer: int = Field(ge=0)
    row: int = Field(ge=0)
    column: int | None = Field(None, ge=0)
    bias: bool = False
    value: float = Field(ge=-1e6, le=1e6)

    @model_validator(mode="after")
    def _one(self):
        if self.bias == (self.column is not None):
            raise ValueError("give a column for a weight, or bias: true for a bias (not both)")
        return self


class ExplainMsg(_Message):
    type: Literal["explain"]
    split: Literal["train", "test"]
    index: int = Field(ge=0)


ClientMessage = Annotated[
    ConfigMsg | ImportConfigMsg | PlayMsg | PauseMsg | StepMsg | ResetMsg | RegenerateMsg | SpeedMsg
    | AckMsg | AddPointMsg | UploadCsvMsg | SetWeightMsg | ExplainMsg,
    Field(discriminator="type"),
]
_CLIENT = TypeAdapter(ClientMessage)
MESSAGE_TYPES = (
    "config", "import_config", "play", "pause", "step", "reset", "regenerate", "speed", "ack",
    "add_point", "upload_csv", "set_weight", "explain",
)


class ProtocolError(ValueError):
    """A client message that cannot be accepted; ``about`` is its type, if it had one."""

    def __init__(self, message: str, about: str | None = None):
        super().__init__(message)
        self.about = about


def parse_message(text: str | bytes, max_bytes: int | None = None):
    """Parse and validate one client message; raises ``ProtocolError`` with one line."""
    if isinstance(text, bytes):
        raise ProtocolError("binary messages are not accepted; send JSON text")
    if max_bytes is not None and len(text) > max_bytes:
        raise ProtocolError(f"message is {len(text):,} characters, over the limit of {max_bytes:,}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"message is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"message must be a JSON object with a type, got {type(data).__name__}")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("message has no type")
    if kind not in MESSAGE_TYPES:
        raise ProtocolError(f"unknown message type {kind!r}; known: {', '.join(MESSAGE_TYPES)}", kind)
    try:
        return _CLIENT.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"{kind}: {describe(exc)}", kind) from None


def describe(exc: ValidationError) -> str:
    """``field: message`` for the first problems of a validation error (the union tag dropped)."""
    parts = []
    for err in exc.errors()[:3]:
        loc = [str(p) for p in err["loc"]]
        loc = loc[1:] if loc and loc[0] in MESSAGE_TYPES else loc
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc) or 'message'}: {msg}")
    return "; ".join(parts)


# -- binary frames -----------------------------------------------------------------------


@dataclass
class Frame:
    """One training update, as ``encode_frame`` writes it (see the module docstring).

    shapes : [(n_out, n_in)] per unit layer. loss_points : (P, 2). metrics : (N,).
    stats : (S, L). params : [(W, b, dW, db)] per unit layer (b, db may be None).
    maps : (M, G·G) floats to quantise (MAPS) or (M, G) curves (CURVES), or None.
    """

    frame_id: int
    step: int
    epoch: int
    flags: int
    alarm: int = ALARM_NONE
    alarm_layer: int = -1
    lr: float = 0.0
    shapes: list = field(default_factory=list)
    loss_points: np.ndarray | None = None
    metrics: np.ndarray | None = None
    stats: np.ndarray | None = None
    params: list = field(default_factory=list)
    maps: np.ndarray | None = None
    grid: int = 0
    n_outputs: int = 0
    handled: int = 0


def _f32(a) -> bytes:
    return np.ascontiguousarray(a, dtype="<f4").tobytes()


def quantize(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) per row : (M, 2) float32 and the rows as uint8 : (M, cells).

    q = round(255·(v − min)/(max − min)); a constant row is all 0; non-finite cells are 0
    and do not count towards min and max.
    """
    v = np.asarray(maps, dtype=np.float32)
    finite = np.isfinite(v)
    if finite.all():  # the common case, without the masking
        lo, hi = v.min(axis=1), v.max(axis=1)
    else:
        lo = np.where(finite, v, np.inf).min(axis=1)
        hi = np.where(finite, v, -np.inf).max(axis=1)
        empty = ~np.isfinite(lo)
        lo[empty], hi[empty] = 0.0, 0.0
        v = np.where(finite, v, lo[:, None])
    span = hi - lo
    scale = np.divide(np.float32(255.0), span, out=np.zeros_like(span), where=span > 0)
    q = np.rint((v - lo[:, None]) * scale[:, None])
    return np.stack([lo, hi], axis=1), np.clip(q, 0, 255, out=q).astype(np.uint8)


def encode_frame(f: Frame) -> bytes:
    """The binary frame of ``f`` (layout in the module docstring)."""
    L = len(f.shapes)
    points = np.zeros((0, 2)) if f.loss_points is None else np.asarray(f.loss_points).reshape(-1, 2)
    metrics = np.full(len(METRICS), np.nan) if f.metrics is None else np.asarray(f.metrics).ravel()
    stats = np.full((len(STATS), L), np.nan) if f.stats is None else np.asarray(f.stats)
    if stats.shape != (len(STATS), L):
        raise ValueError(f"stats has shape {stats.shape}, expected {(len(STATS), L)}")
    flags = f.flags & ~(MAPS | CURVES)
    G, M, maps = f.grid, 0, f.maps
    if maps is not None and G > 0:
        M = len(maps)
        flags |= CURVES if np.asarray(maps).shape[1] == G else MAPS
    else:
        G = 0
    parts = [
        HEADER.pack(MAGIC, FRAME_VERSION, flags, f.frame_id, f.step, f.epoch, f.alarm, f.alarm_layer,
                    f.lr, len(points), L, len(STATS), len(metrics), G, M, f.n_outputs, f.handled),
        np.asarray(f.shapes, dtype="<u4").reshape(L, 2).tobytes(),
        _f32(points),
        _f32(metrics),
        _f32(stats),
    ]
    for (n_out, n_in), (W, b, dW, db) in zip(f.shapes, f.params, strict=True):
        zeros = np.zeros(n_out)
        parts += [_f32(W), _f32(zeros if b is None else b), _f32(dW), _f32(zeros if db is None else db)]
    if flags & MAPS:
        ranges, q = quantize(np.asarray(maps).reshape(M, G * G))
        body = q.tobytes()
        parts += [_f32(ranges), body, bytes(-len(body) % 4)]
    elif flags & CURVES:
        parts.append(_f32(maps))
    return b"".join(parts)


def decode_frame(buf: bytes) -> dict:
    """Read a frame back: the header fields, and the sections as float32 arrays (maps
    dequantised to float32 (M, G, G)). Raises ``ValueError`` for a malformed frame."""
    buf = memoryview(buf)
    if len(buf) < HEADER.size:
        raise ValueError(f"frame is {len(buf)} bytes, shorter than the {HEADER.size}-byte header")
    (magic, version, flags, frame_id, step, epoch, alarm, alarm_layer, lr, P, L, S, N, G, M, K,
     handled) = HEADER.unpack_from(buf, 0)
    if magic != MAGIC or version != FRAME_VERSION:
        raise ValueError(f"not a deltaflow frame (magic {bytes(magic)!r}, version {version})")
    pos = HEADER.size

    def take(dtype, count):
        nonlocal pos
        a = np.frombuffer(buf, dtype=dtype, count=count, offset=pos)
        pos += a.nbytes
        return a

    try:
        shapes = take("<u4", 2 * L).reshape(L, 2)
        out = {
            "frame_id": frame_id, "step": step, "epoch": epoch, "flags": flags, "alarm": alarm,
            "alarm_layer": alarm_layer, "lr": lr, "grid": G, "n_maps": M, "n_outputs": K, "handled": handled,
            "shapes": [tuple(int(v) for v in s) for s in shapes],
            "loss_points": take("<f4", 2 * P).reshape(P, 2),
            "metrics": dict(zip(METRICS, take("<f4", N))),
        }
        stats = take("<f4", S * L).reshape(S, L)
        out["stats"] = {name: stats[i] for i, name in enumerate(STATS[:S])}
        out["params"] = []
        for n_out, n_in in out["shapes"]:
            W, b = take("<f4", n_out * n_in).reshape(n_out, n_in), take("<f4", n_out)
            dW, db = take("<f4", n_out * n_in).reshape(n_out, n_in), take("<f4", n_out)
            out["params"].append({"W": W, "b": b, "dW": dW, "db": db})
        out["maps"] = out["curves"] = None
        if flags & MAPS:
            ranges = take("<f4", 2 * M).reshape(M, 2)
            q = take(np.uint8, M * G * G).reshape(M, G, G)
            pos += -pos % 4
            span = (ranges[:, 1] - ranges[:, 0]) / 255.0
            out["maps"] = (ranges[:, 0, None, None] + q * span[:, None, None]).astype(np.float32)
            out["map_ranges"] = ranges
        elif flags & CURVES:
            out["curves"] = take("<f4", M * G).reshape(M, G)
    except ValueError as exc:
        raise ValueError(f"frame is truncated: {exc}") from None
    if pos != len(buf):
        raise ValueError(f"frame has {len(buf) - pos} bytes after its last section")
    return out


def frame_constants() -> dict:
    """The frame constants, for ``hello``."""
    return {
        "magic": MAGIC.decode(), "version": FRAME_VERSION, "header_bytes": HEADER.size, "flags": FLAGS,
        "alarms": list(ALARMS), "stats": list(STATS), "metrics": list(METRICS),
        "max_loss_points": MAX_LOSS_POINTS, "vanishing_ratio": VANISHING_RATIO,
        "exploding_norm": EXPLODING_NORM, "exploding_ratio": EXPLODING_RATIO,
    }
