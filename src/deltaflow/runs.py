"""Runs on disk: ``runs/<name>/`` holds ``config.json``, ``history.csv``, ``model.npz`` and
``figures/*.png``; and ``Predictor``, which turns raw input rows into predictions the way
the run's data pipeline did (derived features, then the training standardisation).
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
from pathlib import Path

import numpy as np

from deltaflow.config import RunConfig
from deltaflow.data import make_features
from deltaflow.io import ModelFile, load_model, save_model
from deltaflow.train import FitResult, output_proba


def run_name(config: RunConfig, root: Path) -> str:
    """The config's name, or ``<dataset>-<timestamp>`` made unique under ``root``."""
    if config.name:
        return config.name
    base = f"{config.data.name}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    name, i = base, 1
    while (root / name).exists():
        i += 1
        name = f"{base}-{i}"
    return name


def model_meta(result: FitResult) -> tuple[dict, dict]:
    """(JSON metadata, arrays) that let a saved model predict from raw input rows."""
    d = result.dataset
    meta = {
        "task": d.task,
        "loss": result.task.loss_name,
        "n_classes": d.n_classes,
        "class_labels": [float(v) if isinstance(v, (float, np.floating)) else int(v) for v in d.class_labels or []],
        "feature_names": list(d.feature_names),
        "input_features": result.config.data.features,
        "target_name": d.target_name,
        "dataset": d.name,
    }
    arrays = {}
    if d.scaler is not None:
        arrays = {"scaler_mean": d.scaler.mean, "scaler_scale": d.scaler.scale}
    return meta, arrays


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_history(history: dict[str, list], path: Path) -> None:
    """One row per epoch, columns in the history's order."""
    keys = list(history)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for row in zip(*(history[k] for k in keys)):
            w.writerow([repr(float(v)) if isinstance(v, float) else v for v in row])
    os.replace(tmp, path)


def read_history(path: Path) -> dict[str, list]:
    """The history written by ``write_history`` (epoch as int, the rest as float)."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path} is empty")
    keys = rows[0]
    cols = {k: [] for k in keys}
    for row in rows[1:]:
        for k, v in zip(keys, row):
            cols[k].append(int(v) if k == "epoch" else float(v))
    return cols


def save_run(result: FitResult, root="runs", figures: bool = True) -> Path:
    """Write the run under ``root/<name>/`` and return that folder."""
    root = Path(root)
    run_dir = root / run_name(result.config, root)
    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_text(run_dir / "config.json", result.config.to_json() + "\n")
    write_history(result.history, run_dir / "history.csv")
    meta, arrays = model_meta(result)
    meta["stop_reason"], meta["message"] = result.stop_reason, result.message
    save_model(run_dir / "model.npz", result.net, result.config, meta, arrays)
    if figures:
        from deltaflow.figures import run_figures  # matplotlib is slow to import: only when drawing

        run_figures(run_dir, Predictor(load_model(run_dir / "model.npz")), result.dataset, result.history)
    return run_dir


class Predictor:
    """Predictions from raw input rows through a saved model's pipeline.

    ``prepare(X)``: derived features (2-D toy sets), then ``(x − mean) / scale`` with the
    training part's statistics; ``output``, ``predict_proba`` and ``predict`` follow.
    """

    def __init__(self, model: ModelFile):
        self.model, self.net, self.meta = model, model.net, model.meta
        self.mean = model.arrays.get("scaler_mean")
        self.scale = model.arrays.get("scaler_scale")
        self.dtype = model.net.dtype

    @property
    def n_inputs(self) -> int:
        feats = self.meta.get("input_features")
        return 2 if feats else self.net.n_in

    def prepare(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"expected input rows of {self.n_inputs} values, got shape {X.shape}")
        if self.meta.get("input_features"):
            X = make_features(X, self.meta["input_features"])
        if self.mean is not None:
            X = (X - self.mean) / self.scale
        return X.astype(self.dtype)

    def output(self, X: np.ndarray) -> np.ndarray:
        return self.net.forward(self.prepare(X), training=False)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return output_proba(self.output(X), self.meta.get("loss"))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (original values) for classification, values for regression."""
        if self.meta.get("task") == "regression":
            out = self.output(X)
            return out[:, 0] if out.shape[1] == 1 else out
        idx = self.predict_proba(X).argmax(axis=1)
        labels = self.meta.get("class_labels")
        return np.asarray(labels)[idx] if labels else idx


def load_run_config(run_dir: Path) -> RunConfig:
    return RunConfig.from_json((Path(run_dir) / "config.json").read_text(encoding="utf-8"))


__all__ = ["save_run", "read_history", "write_history", "Predictor", "load_run_config"]
