"""What a session shows: its newest state as a binary frame, and the ``state`` message.

Frames only read the network: evaluation and heatmaps are eval-mode forwards that draw no
random numbers and leave the caches of the next training step untouched. Evaluation and
heatmaps are computed once per sent frame (the whole-set metrics at most every
``METRICS_EVERY_S`` while playing).
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np

from deltaflow.data import DATASETS, describe_real
from deltaflow.diagnostics.maps import grid_forward
from deltaflow.experiments.base import to_json_ready
from deltaflow.web import frames as F
from deltaflow.web import protocol as P
from deltaflow.web.digits import digit_images
from deltaflow.web.limits import output_maps

# while playing, the whole-set losses and accuracies are measured 10 times a second, not for
# every frame: on the default network they cost a quarter of a frame
METRICS_EVERY_S = 0.1

def frame(s) -> bytes:
    """Session ``s``'s newest state encoded as a frame (under its lock), kept in its replay
    history."""
    t, d = s.trainer, s.dataset
    flags = (F.RUNNING * s.running | F.PAUSED_BY_ALARM * s.nan_stop | F.DONE * s.done
             | F.HAS_STATS * (s.stats is not None) | F.HAS_TEST * t.has_test | F.EDITED * s.edited
             | F.SLOWED * s.slowed | F.AT_PAUSE * s.at_pause)
    train_loss, test_loss, train_metric, test_metric = whole_set_metrics(s)
    s.frame_id += 1
    s.dirty = False
    denses = [u.dense for u in s.units]
    data = F.encode_frame(F.Frame(
        frame_id=s.frame_id, step=t.step, epoch=t.epoch, flags=flags, alarm=s.alarm,
        alarm_layer=s.alarm_layer, lr=float(t.optimizer.lr),
        shapes=[dense.W.value.shape for dense in denses],
        loss_points=s.losses.take(),
        metrics=[train_loss, test_loss, train_metric, test_metric, s.grad_norm],
        stats=s.stats,
        params=[(dense.W.value, None if dense.b is None else dense.b.value, dense.W.grad,
                 None if dense.b is None else dense.b.grad) for dense in denses],
        units=s.probe.unit_marks, maps=maps(s), grid=s.grid, n_outputs=output_maps(d), handled=s.handled,
        predictions=predictions(s), n_classes=d.n_classes,
    ))
    s.replay.add(t.step, data)
    return data


def whole_set_metrics(s) -> tuple[float, float, float, float]:
    """(train loss, test loss, train metric, test metric) on the whole parts. While playing
    they are measured at most every ``METRICS_EVERY_S`` (a frame reuses the last ones);
    paused, every frame measures the network it shows."""
    t, d, now = s.trainer, s.dataset, time.monotonic()
    cached = s.metrics_cache  # (trainer, time, values) of the last measurement
    if s.running and cached is not None and cached[0] is t and now - cached[1] < METRICS_EVERY_S:
        return cached[2]
    train_loss, train_metric = t.evaluate(d.X_train, d.y_train, s.targets[0])
    test_loss = test_metric = math.nan
    if t.has_test:
        test_loss, test_metric = t.evaluate(d.X_test, d.y_test, s.targets[1])
    values = (train_loss, test_loss, train_metric, test_metric)
    s.metrics_cache = (t, now, values)
    return values


def predictions(s) -> tuple[np.ndarray, np.ndarray] | None:
    """A classification set's predicted classes (test (T,), train (R,)), in the state's order:
    ``Task.predict`` of an eval-mode forward of the network (None for regression)."""
    t, d = s.trainer, s.dataset
    if d.task != "classification":
        return None
    with np.errstate(all="ignore"):
        test = t.task.predict(t.net.forward(d.X_test, False)) if len(d.X_test) else np.zeros(0, np.int64)
        return test, t.task.predict(t.net.forward(d.X_train, False))


def maps(s) -> np.ndarray | None:
    """Output map(s) then every hidden unit's activation over the grid: (M, G²) or (M, G)."""
    if s.grid_X is None:
        return None
    task = s.trainer.task
    with np.errstate(all="ignore"):
        out, hidden = grid_forward(s.trainer.net, s.grid_X)
        if task.n_classes == 2:
            out = task.proba_of_class_1(out)
        elif task.kind == "classification":
            out = task.proba(out)
    return np.concatenate([out.T, *[a.T for a in hidden]], axis=0)


def state(s) -> dict:
    """The ``state`` message (see ``protocol``)."""
    t = s.trainer
    return {
        "type": "state",
        "config": s.config.model_dump(mode="json"),
        "grid": s.grid,
        "speed": {"steps_per_frame": s.steps_per_frame},
        "running": s.running, "done": s.done, "edited": s.edited, "pause_at": s.pause_at,
        "step": t.step, "epoch": t.epoch, "handled": s.handled,
        "history": {k: to_json_ready([float(v) for v in vs[-P.STATE_HISTORY_ROWS:]]) for k, vs in t.history.items()},
        "network": network(s),
        "data": data_description(s),
        "extent": to_json_ready(s.extent),
        "maps": {"outputs": output_maps(s.dataset), "hidden": [u.dense.W.value.shape[0] for u in s.units[:-1]]},
    }


def data_description(s) -> dict:
    """The ``state``'s ``data``: the set's task and classes, its points in raw coordinates."""
    t, d, name, proj = s.trainer, s.dataset, s.config.data.name, s.projection
    if proj is not None:  # drawn on the PCA plane: the points' plane coordinates
        names, train, test = proj.axes(), proj.to_plane(d.X_train), proj.to_plane(d.X_test)
    else:
        names = ["x1", "x2"][: s.dims] if name != "csv" else d.feature_names
        train, test = d.X_train_raw, d.X_test_raw
    return {
        "name": name, "task": d.task, "dims": s.dims, "n_classes": d.n_classes,
        "class_labels": d.class_labels, "class_names": class_names(d), "metric": t.metric_name,
        "loss": t.task.loss_name, "raw_names": names, "n_inputs": d.n_features,
        "projection": proj.describe() if proj is not None else None,
        "train": points(train, d.y_train), "test": points(test, d.y_test),
        "added": s.added, "images": digit_images(s),
    }


def class_names(d) -> list[str]:
    """A name per class: a real set's own ('setosa'), else the class's label as text."""
    if d.task != "classification":
        return []
    if d.name in DATASETS and DATASETS[d.name].kind == "real":
        return real_class_names(d.name)
    return [str(v) for v in d.class_labels]


@functools.lru_cache(maxsize=8)
def real_class_names(name: str) -> list[str]:
    """A bundled set's class names (loaded once: reading the set costs milliseconds)."""
    return describe_real(name).class_names


def network(s) -> dict:
    """The ``state``'s ``network``: one entry per unit layer, the output's activation the loss's
    output function."""
    layers = []
    for u in s.units:
        n_out, n_in = u.dense.W.value.shape
        act = u.act.name if u.act is not None else None
        if u is s.units[-1] and act is None:
            act = s.trainer.task.loss.output_function
        norm = type(u.norms[0]).__name__ if u.norms else None
        layers.append({"index": u.index, "name": u.name, "n_in": n_in, "n_out": n_out,
                       "activation": act or "identity", "norm": norm, "bias": u.dense.b is not None})
    return {"n_in": s.dataset.n_features, "n_out": layers[-1]["n_out"],
            "inputs": s.dataset.feature_names, "layers": layers}


def history(trainer) -> dict:
    """The per-epoch history as ``fit`` keeps it, NaN as None (``history.json``)."""
    return {k: to_json_ready([float(v) for v in vs]) for k, vs in trainer.history.items()}


def points(X_raw: np.ndarray | None, y: np.ndarray | None) -> dict:
    """A part's points for ``state``: x in raw coordinates (6 decimals), y labels or values;
    a non-finite number as None (strict JSON has none)."""
    if X_raw is None or len(X_raw) == 0:
        return {"x": [], "y": []}
    return {"x": finite_list(np.round(X_raw, 6)), "y": finite_list(np.asarray(y).ravel())}


def finite_list(a: np.ndarray) -> list:
    """``a.tolist()``, NaN and ±inf as None (walked only when there are some)."""
    return a.tolist() if np.isfinite(a).all() else to_json_ready(a)
