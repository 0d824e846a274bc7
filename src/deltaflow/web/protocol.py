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

Access (``deltaflow.web.guard``)
--------------------------------
Every request and handshake must carry a ``Host`` of the server itself (``127.0.0.1:PORT``,
``localhost:PORT``, ``[::1]:PORT`` or ``<--host>:PORT``; any, when listening on ``0.0.0.0``):
otherwise HTTP 403 with one line of text. A socket's ``Origin``, if it has one (browsers
send it), must be ``http://`` + one of those hosts: otherwise it is closed at once with code
4003 (``close_codes.forbidden``) and a reason. Served beyond loopback (``--host`` other than
127.x, ::1 or localhost), every request also needs the access token ``serve`` prints:
``?token=<token>`` in the URL, or the cookie ``deltaflow-token-<PORT>`` (HttpOnly,
SameSite=Strict) that the first request with the token sets, so the page's files, socket and
downloads carry it; without it, 403 (a socket: closed with 4003).

Client → server (JSON text, one object with a ``type``)
--------------------------------------------------------
A message that is not JSON, not an object, nested deeper than ``MAX_DEPTH`` (32) arrays and
objects, of unknown type, with a missing, extra or wrongly typed field (types are strict:
``"5"`` is not an integer, NaN is not a number), a number the session's dtype cannot hold
(|v| > 3.4028235e38 in float32), or that breaks a limit, gets an ``error`` reply; the session
lives on unchanged (a playing one keeps playing). A binary message gets an ``error``; a text
frame that is not UTF-8 is closed by the server (1007).

``{"type": "config", "config": {...RunConfig...}, "grid": 64, "pause_at": 300}``
    A full ``deltaflow.training.config.RunConfig`` dict (missing keys take RunConfig's defaults) and
    the simulator-only ``grid`` (G of the heatmaps, 0 for none; omitted: keep the current) and
    ``pause_at`` (a step ≥ 1, a preset's key moment: training, played or stepped, pauses right
    after that step, with frame flag ``AT_PAUSE`` until the next ``play`` or ``step``; kept
    through ``reset`` and ``regenerate``; omitted: none).
    Rebuilds data and network from the seed (a playing session goes on playing); replies
    ``state``, then a frame (at step 0 unless playing).
    Data sets the simulator can draw: the 2-D toy sets, the 1-D functions and the bundled real
    sets (iris, wine, breast_cancer, digits: more than two inputs, drawn on their PCA plane,
    ``deltaflow.web.projection``) of ``deltaflow.data.DATASETS``; at most ``limits.max_features``
    input columns; a ``csv`` comes only through ``upload_csv``.
``{"type": "import_config", "text": "<a config.json file's text>", "grid": 64}``
    The same, from JSON text (an uploaded file): errors name the JSON problem or the field.
``{"type": "play"}`` / ``{"type": "pause"}``
    Start or stop the worker. Training stops by itself when the config's ``epochs`` (or
    ``steps``) are done (frame flag ``DONE``); ``play`` then answers with an error until
    the config changes.
``{"type": "step", "n": 1}``
    Train n steps (1 ≤ n ≤ limits.max_step), paused afterwards; then a frame. The steps run
    in the server's training ticks, each at most ``limits.tick_budget_s`` long, between other
    sessions' work; the frame that shows them comes when all n are done. ``pause``, ``reset``
    or a new config cancels the steps not yet run (the frame then shows those that were).
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
    At most ``limits.max_points_added`` per data set. Replies ``state``. Refused for a set
    drawn on its PCA plane (``state.data.projection`` not null): a plane point is no example.
``{"type": "upload_csv", "text": "x1,x2,label\\n...", "name": "points.csv", "target": null}``
    Your own data: a CSV with a header, numeric feature columns and a target column (``target``
    names it; null: the last). Size limits: ``limits.max_upload_bytes``, ``max_upload_rows``,
    ``max_features`` (+ 1 for the target) columns. More than two features are drawn on their PCA plane.
    The config becomes ``data.name = "csv", data.path = name``: ``deltaflow train --config``
    reproduces the run with the file saved under that name beside it. Replies ``state``.
``{"type": "set_weight", "layer": 0, "row": 2, "column": 1, "value": 0.5}``
    Set W^(l)[row, column] of unit layer ``layer`` (0-based); with ``"bias": true`` instead
    of ``column``, b^(l)[row]. Marks the session ``edited``. Replies with a frame.
``{"type": "explain", "split": "train", "index": 3}``
    Replies ``explain`` with ``deltaflow.diagnostics.explain.explain(...).to_dict()`` for that example.
``{"type": "predict", "x": [64 numbers]}``
    The digits data set only: a digit the learner drew, as the set's 64 inputs (its 32×32
    bitmap counted in 4×4 blocks, ``deltaflow.data.digit_image``): exactly ``DIGIT_INPUTS``
    (64) finite numbers in [0, 16]. Replies ``predict``; changes nothing in the session.
``{"type": "replay", "step": 120}``
    Show the session's history at step S (an int 0 … 2³²−1; null: the newest recorded): replies
    ``replay``, then that step's frame as it was sent (the newest recorded at or before S; before
    the oldest, the oldest) with the flag REPLAY set. It changes nothing in the session (training,
    frame ids, credit): a REPLAY frame is never acked and uses no credit. The history (``replay``
    module) keeps the frames a session has sent since its last config, ``reset`` or
    ``regenerate``: at most ``limits.replay_frames`` (600) frames and ``limits.replay_bytes``
    (16 MiB) per session, thinned (every other frame dropped, the newest kept) to stay within
    them, so it covers the whole run; both bounds are in ``hello.limits``. Before any frame:
    an ``error``.
``{"type": "lesson", "chapter": "vanishing", "request": {...}}``
    A Learn-mode chapter's computation (``deltaflow.web.lessons``): ``request`` is validated by
    that chapter's strict schema, whose bounds cap the work (well under a second); replies
    ``lesson``. It changes nothing in the session's run (training, frames, history).

Server → client (JSON text)
----------------------------
Strict JSON: a number that is NaN or ±inf (a diverged loss in ``history``, say) is ``null``.
``hello``   ``{"type", "protocol", "session", "limits", "defaults", "presets", "datasets",
            "features", "activations", "initializers", "norms", "optimizers", "schedules",
            "losses", "close_codes", "frame"}``: sent once, first. ``defaults`` = ``{"config",
            "grid" (G for 2-D maps), "curve_grid" (G for 1-D curves), "speed"}``;
            ``presets`` = list of ``{"name", "title", "description", "config", "grid", "story",
            "pause_at", "moment"}`` (the story's text, key step and sentence: see ``presets``);
            ``datasets`` = the drawable sets, ``{"name", "task", "kind", "description",
            "n_samples", "noise", "max_noise"}``; the name lists are the config's choices as the engine's
            registries hold them (``activations``: the trainable ones, each once);
            ``close_codes`` = ``{"full", "idle", "forbidden"}``, the socket's close codes below;
            ``frame`` repeats ``frames``' constants (magic, flags, alarms, stats, metrics,
            alarm thresholds). The page builds its menus and checks from these.
``state``   the session after a change: ``config`` (normalised RunConfig dict), ``grid``,
            ``speed``, ``running``, ``done``, ``edited``, ``pause_at`` (the config message's, or
            null), ``step``, ``epoch``, ``handled`` (client
            messages other than ``ack`` handled, the one this state answers included: a frame
            whose header ``handled`` is smaller was built before this state and shows an older
            network, so a client drops it), ``history``
            (the newest ``STATE_HISTORY_ROWS`` per-epoch rows as in ``fit``; ``history.json``
            has them all), ``network`` = ``{"n_in", "n_out", "inputs"
            (feature names), "layers": [{"index", "name", "n_in", "n_out", "activation",
            "norm", "bias"}]}`` (one per unit layer, output last; the output's activation is
            the loss's output function: softmax, sigmoid or identity), ``data`` =
            ``{"name", "task", "dims" (2 or 1: of the drawn plane), "n_classes", "class_labels",
            "class_names" (a name per class: iris' 'setosa', else the label as text), "metric",
            "loss", "raw_names" (the plane's axes), "n_inputs" (the network's input columns),
            "projection", "train": {"x": [[x1, x2], …], "y": […]}, "test": {…},
            "added", "images"}`` (x in raw coordinates, y labels or values; ``images``: for
            the digits set ``{"test": [[64 ints 0–16], …]}``, each test example's 8×8 image
            row by row in ``test`` order, else null; for a set of more than two
            inputs x holds plane coordinates and ``projection`` = ``{"kind": "pca", "explained":
            [r1, r2] (variance ratios), "axes": ["PC1 (73%)", "PC2 (23%)"], "plane": "<which
            plane, in words>"}``, else null), ``extent`` =
            ``{"x1": [lo, hi], "x2": [lo, hi]}`` (1-D: x2 is null), ``maps`` =
            ``{"outputs": K_out, "hidden": [n_1, …]}``.
``error``   ``{"type": "error", "message": "<one line naming what is wrong>", "about": "<type>"}``:
            the reply to a refused message (``about`` its type, null if it had none), or
            unprompted, ``about`` null: training failed in the worker (the session pauses), or
            the session is being closed as idle.
``explain`` ``{"type": "explain", "split", "index", "x_raw", "y", "explanation": {...}}``
``lesson``  ``{"type": "lesson", "chapter", "result": {...}}``: the chapter's numbers, computed by
            the engine (the chapter's module documents them).
``predict`` ``{"type": "predict", "probabilities": [ŷ_0, …, ŷ_(K−1)], "predicted": k, "explain":
            {...} | null, "explain_error": null | "<why>"}``: the answer to ``predict``: the
            network's softmax probabilities (eval mode) for the drawn inputs standardised with
            the training part's μ and s, k = argmax, and the forward and backward pass of that
            example with target k (``explain(...).to_dict()``; null, with the reason, for a
            network ``explain`` cannot write out, e.g. with BatchNorm) (``web.digits``).
``replay``  ``{"type": "replay", "step": <the recorded step shown>, "steps": [every recorded step,
            oldest first]}``: the answer to ``replay``, followed by that step's REPLAY frame.
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
closed with code 4000. Close codes: 1013 ``full``, 4000 ``idle``, 4003 ``forbidden`` (a foreign
Origin or a missing token, before any session: see Access). ``config``, ``reset``, ``regenerate`` and ``upload_csv`` keep playing
if the session was playing.

Binary frames (server → client) are described in ``deltaflow.web.frames``.
"""

from __future__ import annotations

import json
import typing
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

PROTOCOL_VERSION = 1
MAX_ACK_CHARS = 100  # an ack is ~30 characters; only texts this short are parsed on the event loop
STATE_HISTORY_ROWS = 1000  # the newest per-epoch rows a ``state`` carries (history.json has them all)
MAX_DEPTH = 32  # JSON arrays and objects inside each other in a message (a RunConfig is 3 deep)
MAX_STEP = 2**32 - 1  # a frame's step is a uint32
DIGIT_INPUTS, DIGIT_MAX = 64, 16  # a drawn digit: 8×8 blocks of 4×4 pixels, 0–16 on in each


class _Message(BaseModel):
    # strict: "5" is not an int and 1.5 not a bool; NaN and ±inf are refused
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ConfigMsg(_Message):
    type: Literal["config"]
    config: dict
    grid: int | None = Field(None, ge=0)
    pause_at: int | None = Field(None, ge=1, le=2**32 - 1)  # a frame's step is a uint32


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


class LessonMsg(_Message):
    type: Literal["lesson"]
    chapter: str = Field(max_length=40)
    request: dict


class PredictMsg(_Message):
    type: Literal["predict"]
    x: list[Annotated[float, Field(ge=0, le=DIGIT_MAX)]] = Field(min_length=DIGIT_INPUTS, max_length=DIGIT_INPUTS)


class ReplayMsg(_Message):
    type: Literal["replay"]
    step: int | None = Field(ge=0, le=MAX_STEP)


MESSAGES = (ConfigMsg, ImportConfigMsg, PlayMsg, PauseMsg, StepMsg, ResetMsg, RegenerateMsg, SpeedMsg,
            AckMsg, AddPointMsg, UploadCsvMsg, SetWeightMsg, ExplainMsg, PredictMsg, ReplayMsg, LessonMsg)
ClientMessage = Annotated[Union[MESSAGES], Field(discriminator="type")]  # noqa: UP007 (a union of a tuple)
_CLIENT = TypeAdapter(ClientMessage)
# each schema's ``type: Literal["..."]`` is its name on the wire
MESSAGE_TYPES = tuple(typing.get_args(m.model_fields["type"].annotation)[0] for m in MESSAGES)


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
    except RecursionError:  # far deeper than MAX_DEPTH: the parser gave up
        raise ProtocolError(f"message is nested deeper than the limit of {MAX_DEPTH} levels") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"message must be a JSON object with a type, got {type(data).__name__}")
    kind = data.get("type")
    if depth(data) > MAX_DEPTH:
        raise ProtocolError(f"message is nested deeper than the limit of {MAX_DEPTH} levels",
                            kind if kind in MESSAGE_TYPES else None)
    if not isinstance(kind, str):
        raise ProtocolError("message has no type")
    if kind not in MESSAGE_TYPES:
        raise ProtocolError(f"unknown message type {kind!r}; known: {', '.join(MESSAGE_TYPES)}", kind)
    try:
        return _CLIENT.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(f"{kind}: {describe(exc)}", kind) from None


def depth(value, limit: int = MAX_DEPTH) -> int:
    """How deep arrays and objects nest in parsed JSON ``value`` (a scalar: 0), counted
    without recursion and only up to ``limit + 1``: beyond the limit the exact depth is moot."""
    deepest, level = 0, [(value, 1)]
    while level:
        item, d = level.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, d)
            if d <= limit:
                level.extend((v, d + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def describe(exc: ValidationError) -> str:
    """``field: message`` for the first problems of a validation error (the union tag dropped)."""
    parts = []
    for err in exc.errors()[:3]:
        loc = [str(p) for p in err["loc"]]
        loc = loc[1:] if loc and loc[0] in MESSAGE_TYPES else loc
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc) or 'message'}: {msg}")
    return "; ".join(parts)
