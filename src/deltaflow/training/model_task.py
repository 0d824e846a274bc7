"""What a loaded model file's output means, read from its metadata and checked.

``save_run`` writes the whole story into ``meta`` (task, loss, n_classes, class_labels,
feature names, the standardiser's arrays); ``save_model(path, net)`` may write none of it,
and a file can be edited by hand. ``read_task`` takes each fact from the first place
that has it:

    task        meta["task"], else config.data.task, else the named data set's task,
                else from the loss (cross_entropy, bce: classification; mse: regression),
                else from the output width n_L: n_L ≥ 2 classification, n_L = 1 regression
    loss        meta["loss"], else config.loss, else the task's default
                (softmax cross-entropy for classification, mean squared error for regression)
    K           meta["n_classes"], else len(meta["class_labels"]), else 2 for bce, else n_L
    labels      meta["class_labels"], else 0 … K−1

and refuses, with a ``ValueError`` that names the field, every value of the wrong type, an
unknown task or loss, labels of the wrong length, or a K that the output width contradicts.
"""

from __future__ import annotations

import math

import numpy as np

from deltaflow.nn.losses import LOSSES
from deltaflow.training.task import DEFAULT_LOSS, Task

__all__ = ["read_task", "check_scaler"]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _from_config(config) -> tuple[str | None, str | None]:
    """(task, loss) a run config's JSON states, each None where it says nothing usable."""
    from deltaflow.data import DATASETS

    cfg = config if isinstance(config, dict) else {}
    data = cfg.get("data") if isinstance(cfg.get("data"), dict) else {}
    task = data.get("task")
    if task is None and isinstance(data.get("name"), str) and data["name"] in DATASETS:
        task = DATASETS[data["name"]].task
    return task, cfg.get("loss")


def _kind(meta: dict, config, n_out: int, where: str) -> tuple[str, str]:
    """(task, loss name) by the rules of the module docstring."""
    config_task, config_loss = _from_config(config)
    loss = meta.get("loss", config_loss)
    if loss is not None and (not isinstance(loss, str) or loss not in LOSSES):
        raise ValueError(f"{where}: metadata 'loss' must be one of {', '.join(LOSSES)}, got {loss!r:.60}")
    task = meta.get("task") or config_task
    if task is None:
        task = "regression" if loss == "mse" or (loss is None and n_out == 1) else "classification"
    if not isinstance(task, str) or task not in DEFAULT_LOSS:
        raise ValueError(f"{where}: metadata 'task' must be 'classification' or 'regression', got {task!r:.60}")
    return task, loss or DEFAULT_LOSS[task]


def _labels(meta: dict, loss: str, n_out: int, where: str) -> list:
    """The class labels (original values) of a classification model."""
    labels = meta.get("class_labels") or None
    if labels is not None and not (isinstance(labels, list) and all(_is_number(v) for v in labels)):
        raise ValueError(f"{where}: metadata 'class_labels' must be a list of numbers, got {labels!r:.60}")
    if labels is not None and len(set(labels)) != len(labels):
        raise ValueError(f"{where}: metadata 'class_labels' repeats a label: {labels!r:.60}")
    k = meta.get("n_classes") or (len(labels) if labels else 2 if loss == "bce" else n_out)
    if not _is_int(k) or k < 2:
        raise ValueError(f"{where}: metadata 'n_classes' must be an integer ≥ 2, got {k!r:.60}")
    if labels is not None and len(labels) != k:
        raise ValueError(f"{where}: metadata 'class_labels' has {len(labels)} labels for {k} classes")
    return labels or list(range(k))


def read_task(meta: dict, config, n_out: int, dtype, where: str = "model file") -> tuple[Task, list]:
    """(the ``Task`` of a model whose output has width ``n_out``, its class labels; [] for regression).

    ``where`` names the file in messages. Raises ``ValueError`` (see the module docstring).
    """
    kind, loss = _kind(meta, config, n_out, where)
    labels = _labels(meta, loss, n_out, where) if kind == "classification" else []
    try:
        task = Task(kind, loss, n_classes=len(labels), n_targets=n_out, dtype=dtype, data_name=f"{where}'s task")
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if task.n_out != n_out:
        raise ValueError(f"{where}: the network outputs {n_out} values, but a {kind} over {len(labels)} classes "
                         f"with loss {loss} needs {task.n_out}")
    return task, labels


def check_scaler(arrays: dict[str, np.ndarray], n_in: int, where: str = "model file") -> None:
    """Refuse a standardiser whose ``scaler_mean`` and ``scaler_scale`` are not both there, 1-D of
    length ``n_in`` (the network's input width), finite, with every scale > 0."""
    mean, scale = arrays.get("scaler_mean"), arrays.get("scaler_scale")
    if (mean is None) != (scale is None):
        raise ValueError(f"{where}: the standardiser needs both scaler_mean and scaler_scale, it has one")
    for name, a in (("scaler_mean", mean), ("scaler_scale", scale)):
        if a is None:
            continue
        if a.shape != (n_in,):
            raise ValueError(f"{where}: {name} has shape {a.shape}, the network takes {n_in} inputs")
        if not np.isfinite(a).all():
            raise ValueError(f"{where}: {name} holds NaN or Inf")
    if scale is not None and not (scale > 0).all():
        raise ValueError(f"{where}: scaler_scale must be > 0, it holds {float(scale.min())}")
