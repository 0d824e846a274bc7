"""The simulator's binary frames (server → client): their layout, ``encode_frame`` and
``decode_frame``. The page's decoder (``static/js/socket.js``) mirrors it; the JSON messages
are in ``protocol``.

Binary frames (server → client), little-endian
----------------------------------------------
Every section starts on a 4-byte boundary, so a JS decoder can take ``Float32Array``
views of the buffer directly. Header, 48 bytes (``HEADER`` struct ``<4sHHIIIHhfIHHHHHHI``)::

    offset type     field
     0     char[4]  magic b"DFLF"
     4     uint16   version (FRAME_VERSION = 3)
     6     uint16   flags: RUNNING 1, PAUSED_BY_ALARM 2 (a NaN stopped training), DONE 4
                    (epochs/steps reached), HAS_STATS 8 (a step has run), MAPS 16 (2-D
                    heatmaps follow), CURVES 32 (1-D curves follow), HAS_TEST 64, EDITED 128
                    (data or weights edited: fit(config) no longer reproduces the session),
                    REPLAY 256 (a frame of the session's history, sent in answer to ``replay``:
                    outside the flow control, the client never acks it and it uses no
                    credit), SLOWED 512 (the simulator runs one step per frame, a few frames a
                    second, because the gradients grow fast: ``ticks.grew``), AT_PAUSE 1024
                    (paused right after the ``config`` message's ``pause_at`` step, a preset's moment),
                    PREDICTIONS 2048 (the predictions section follows)
     8     uint32   frame id (1, 2, 3, … per session; ``ack`` names it; a REPLAY frame keeps
                    the id it was first sent with)
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
    units    uint8[U]          U = Σ n_out of the unit layers, one byte per unit, layer by
                               layer: bit value 1 (UNIT_SATURATED) the unit is saturated,
                               σ′(z_ij) < SATURATION·max σ′ on every example i of the last
                               step's batch; 2 (UNIT_DEAD) it is dead, z_ij ≤ 0 on every
                               example (the units ``saturated_pct`` and ``dead_pct`` count).
                               0 before the first step. Then zero padding to a multiple of 4.
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
    predictions  if PREDICTIONS (a classification set, any number of inputs): uint32 T (test
             examples), uint32 R (training examples), uint16 B (bytes per class index: 1 for
             K ≤ 255 classes, else 2), uint16 0; then T predicted classes of the test examples
             in ``state.data.test`` order, then R of the training examples in
             ``state.data.train`` order, uint8 (B = 1) or uint16 (B = 2): argmax of the class
             probabilities of an eval-mode forward of the frame's network (``Task.predict``);
             then zero padding to a multiple of 4. The page counts the confusion matrix from them.

The frame ends there: its length is exactly the sum of these sections.

Alarms (computed on the server each frame, from the stats)
----------------------------------------------------------
vanishing: ‖∂L/∂W^(1)‖ < VANISHING_RATIO (1e−4) · ‖∂L/∂W^(L)‖ (layer 0 named).
exploding: some ‖∂L/∂W^(l)‖ > EXPLODING_NORM (1e3), or ‖∂L/∂W^(1)‖ > EXPLODING_RATIO (1e4) ·
‖∂L/∂W^(L)‖ (the layer of the largest norm named). A norm over EXPLODING_NORM is exploding even
when the first layer's is tiny beside the last's: a blow-up saturates or kills units on its way,
so the vanishing rule would otherwise fire first.
nan: a loss, gradient or weight became non-finite; training pauses (PAUSED_BY_ALARM), the
weights go back to the start of that epoch (as ``fit`` does) and the layer where it began
is named; the alarm stays until ``reset``, ``config`` or ``regenerate``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from deltaflow.diagnostics.probes import DEAD, SATURATED, STATS

FRAME_VERSION = 3
MAGIC = b"DFLF"
HEADER = struct.Struct("<4sHHIIIHhfIHHHHHHI")
assert HEADER.size == 48

# frame flags
(RUNNING, PAUSED_BY_ALARM, DONE, HAS_STATS, MAPS, CURVES, HAS_TEST, EDITED, REPLAY, SLOWED, AT_PAUSE,
 PREDICTIONS) = (1 << i for i in range(12))
FLAGS = {
    "RUNNING": RUNNING, "PAUSED_BY_ALARM": PAUSED_BY_ALARM, "DONE": DONE, "HAS_STATS": HAS_STATS,
    "MAPS": MAPS, "CURVES": CURVES, "HAS_TEST": HAS_TEST, "EDITED": EDITED, "REPLAY": REPLAY, "SLOWED": SLOWED,
    "AT_PAUSE": AT_PAUSE, "PREDICTIONS": PREDICTIONS,
}
PREDICTION_HEAD = struct.Struct("<IIHH")  # T, R, B, 0 of the predictions section
FLAGS_OFFSET = 6  # of the uint16 flags in the header (``as_replay`` patches it)
# the bits of a unit's byte in the units section (the probe's own marks)
UNIT_SATURATED, UNIT_DEAD = SATURATED, DEAD
UNIT_MARKS = {"saturated": UNIT_SATURATED, "dead": UNIT_DEAD}
# alarm codes
ALARM_NONE, ALARM_VANISHING, ALARM_EXPLODING, ALARM_NAN = 0, 1, 2, 3
ALARMS = ("none", "vanishing", "exploding", "nan")
VANISHING_RATIO = 1e-4
EXPLODING_NORM = 1e3
EXPLODING_RATIO = 1e4

METRICS = ("train_loss", "test_loss", "train_metric", "test_metric", "grad_norm")
MAX_LOSS_POINTS = 1024


@dataclass
class Frame:
    """One training update, as ``encode_frame`` writes it (see the module docstring).

    shapes : [(n_out, n_in)] per unit layer. loss_points : (P, 2). metrics : (N,).
    stats : (S, L). params : [(W, b, dW, db)] per unit layer (b, db may be None).
    units : [uint8 (n_out,)] per unit layer (UNIT_SATURATED | UNIT_DEAD bits), or None (all 0).
    maps : (M, G·G) floats to quantise (MAPS) or (M, G) curves (CURVES), or None.
    predictions : (test (T,), train (R,)) class indices in [0, K) (PREDICTIONS), or None.
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
    units: list | None = None
    maps: np.ndarray | None = None
    grid: int = 0
    n_outputs: int = 0
    handled: int = 0
    predictions: tuple | None = None
    n_classes: int = 0  # K of the predictions: B = 1 byte a class index for K ≤ 255, else 2


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
    flags = f.flags & ~(MAPS | CURVES | PREDICTIONS)
    if f.predictions is not None:
        flags |= PREDICTIONS
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
    U = sum(n_out for n_out, _ in f.shapes)
    units = bytes(U) if f.units is None else b"".join(np.asarray(m, dtype=np.uint8).tobytes() for m in f.units)
    if len(units) != U:
        raise ValueError(f"units has {len(units)} bytes, expected one per unit ({U})")
    parts += [units, bytes(-U % 4)]
    if flags & MAPS:
        ranges, q = quantize(np.asarray(maps).reshape(M, G * G))
        body = q.tobytes()
        parts += [_f32(ranges), body, bytes(-len(body) % 4)]
    elif flags & CURVES:
        parts.append(_f32(maps))
    if flags & PREDICTIONS:
        parts += encode_predictions(*f.predictions, f.n_classes)
    return b"".join(parts)


def encode_predictions(test: np.ndarray, train: np.ndarray, n_classes: int) -> list[bytes]:
    """The predictions section (layout in the module docstring) of class indices in [0, K)."""
    dtype = "<u1" if n_classes <= 255 else "<u2"
    body = np.concatenate([np.ravel(test), np.ravel(train)]).astype(dtype).tobytes()
    return [PREDICTION_HEAD.pack(np.size(test), np.size(train), np.dtype(dtype).itemsize, 0), body,
            bytes(-len(body) % 4)]


def decode_frame(buf: bytes) -> dict:
    """Read a frame back: the header fields, and the sections as float32 arrays (maps
    dequantised to float32 (M, G, G); ``units`` a uint8 (n_out,) per unit layer). Raises
    ``ValueError`` for a malformed frame."""
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
        out["units"] = [take(np.uint8, n_out) for n_out, _ in out["shapes"]]
        pos += -pos % 4
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
        out["predictions"] = out["train_predictions"] = None
        if flags & PREDICTIONS:
            T, R, B, _ = PREDICTION_HEAD.unpack_from(buf, pos)
            pos += PREDICTION_HEAD.size
            if B not in (1, 2):
                raise ValueError(f"predictions of {B} bytes each")
            dtype = "<u1" if B == 1 else "<u2"
            out["predictions"], out["train_predictions"] = take(dtype, T), take(dtype, R)
            pos += -pos % 4
    except ValueError as exc:
        raise ValueError(f"frame is truncated: {exc}") from None
    if pos != len(buf):
        raise ValueError(f"frame has {len(buf) - pos} bytes after its last section")
    return out


def as_replay(frame: bytes) -> bytes:
    """A copy of an encoded frame with the REPLAY flag set (the rest byte for byte)."""
    out = bytearray(frame)
    (flags,) = struct.unpack_from("<H", out, FLAGS_OFFSET)
    struct.pack_into("<H", out, FLAGS_OFFSET, flags | REPLAY)
    return bytes(out)


def frame_constants() -> dict:
    """The frame constants, for ``hello``."""
    return {
        "magic": MAGIC.decode(), "version": FRAME_VERSION, "header_bytes": HEADER.size, "flags": FLAGS,
        "alarms": list(ALARMS), "stats": list(STATS), "metrics": list(METRICS), "unit_marks": UNIT_MARKS,
        "max_loss_points": MAX_LOSS_POINTS, "vanishing_ratio": VANISHING_RATIO,
        "exploding_norm": EXPLODING_NORM, "exploding_ratio": EXPLODING_RATIO,
    }
