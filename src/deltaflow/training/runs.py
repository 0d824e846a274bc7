"""Runs on disk: ``runs/<name>/`` holds ``config.json``, ``history.csv``, ``model.npz`` and
``figures/*.png``, written whole (``save_run``: a run that did not complete never replaces
one); and ``Predictor``, which turns raw input rows into predictions the way
the run's data pipeline did (derived features, then the training standardisation).
"""

from __future__ import annotations

import csv
import datetime as _dt
import errno
import itertools
import os
import secrets
import shutil
from pathlib import Path

import numpy as np

from deltaflow.training.config import RunConfig
from deltaflow.data import InputTransform
from deltaflow.training.io import ModelFile, atomic_file, exclusive_beside, load_model, save_model
from deltaflow.training.model_task import check_scaler, read_task
from deltaflow.training.task import Task
from deltaflow.training.trainer import FitResult


def run_name(config: RunConfig) -> str:
    """The config's name, or ``<dataset>-<timestamp>`` for an unnamed run."""
    return config.name or f"{config.data.name}-{_dt.datetime.now():%Y%m%d-%H%M%S}"


def model_meta(result: FitResult) -> tuple[dict, dict]:
    """(JSON metadata, arrays) that let a saved model predict from raw input rows."""
    d = result.dataset
    # a data set passed in as arrays (fit(config, dataset)) is the network's input as it is
    transform = d.transform or InputTransform(result.config.data.features, d.X_train.dtype, standardize=False)
    input_meta, arrays = transform.to_meta()
    meta = {
        "task": d.task,
        "loss": result.task.loss_name,
        "n_classes": d.n_classes,
        "class_labels": [float(v) if isinstance(v, (float, np.floating)) else int(v) for v in d.class_labels or []],
        "feature_names": list(d.feature_names),
        **input_meta,
        "target_name": d.target_name,
        "dataset": d.name,
    }
    return meta, arrays


def write_history(history: dict[str, list], path: Path) -> None:
    """One row per epoch, columns in the history's order.

    Floats are written as ``repr(float(v))``, the shortest text that reads back to the
    same float64, so ``read_history`` returns the history bit for bit.
    """
    keys = list(history)
    with atomic_file(path) as f:
        w = csv.writer(f)
        w.writerow(keys)
        for row in zip(*(history[k] for k in keys)):
            w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else v for v in row])


def read_history(path: Path) -> dict[str, list]:
    """The history written by ``write_history`` (epoch as int, the rest as float)."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"{path} is empty")
    keys = rows[0]
    cols = {k: [] for k in keys}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(keys):
            raise ValueError(f"{path} line {line}: expected {len(keys)} cells, found {len(row)}")
        for k, v in zip(keys, row):
            try:
                cols[k].append(int(v) if k == "epoch" else float(v))
            except ValueError:
                raise ValueError(f"{path} line {line}, column {k!r}: {v!r} is not a number") from None
    return cols


COMPLETE = ("completed", "early_stopping")  # stop reasons of a run that ended as planned


def save_run(result: FitResult, root="runs", figures: bool = True) -> Path:
    """Write the run under ``root/<name>/`` and return its folder.

    Everything is written to a fresh hidden folder beside (``root/.<name>.<random>.tmp``,
    same filesystem), which then takes its place whole, so ``root/<name>/`` is never half
    written and never mixes two runs' files (e.g. a figure an earlier run drew). If
    writing fails the temporary folder is removed and ``root/<name>/`` is as it was.

    A completed run (``stop_reason`` in ``COMPLETE``) replaces ``root/<name>/``. One that
    diverged or was interrupted never replaces anything: it takes ``root/<name>/`` only
    while that name is free, else it is kept beside as
    ``root/<name>.<stop_reason>-<YYYYmmdd-HHMMSS>/``.
    """
    root = Path(root)
    name = run_name(result.config)
    dest = root / name
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"{dest} exists and is not a run folder")
    root.mkdir(parents=True, exist_ok=True)
    # 0o777 & ~umask, as mkdir gives; tempfile.mkdtemp would make it 0o700
    tmp, _ = exclusive_beside(root, f".{name}.", ".tmp", lambda p: os.mkdir(p, 0o777))
    try:
        _write_run(result, tmp, figures)
        if result.config.name is None:  # an unnamed run never replaces one: <dataset>-<time>[-k]
            return _claim(tmp, then=dest)
        if result.stop_reason in COMPLETE:
            _replace_folder(tmp, dest)
            return dest
        stamp = f"{name}.{result.stop_reason}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
        return _claim(tmp, dest, then=root / stamp)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _write_run(result: FitResult, run_dir: Path, figures: bool) -> None:
    """config.json, history.csv, model.npz, probes.npz (if probed) and figures/ in ``run_dir``."""
    with atomic_file(run_dir / "config.json") as f:
        f.write(result.config.to_json() + "\n")
    write_history(result.history, run_dir / "history.csv")
    meta, arrays = model_meta(result)
    meta["stop_reason"], meta["message"] = result.stop_reason, result.message
    save_model(run_dir / "model.npz", result.net, result.config, meta, arrays)
    probes = run_dir / PROBES
    if result.probe is not None and result.probe.steps:
        write_probes(result.probe, probes)
    if figures:
        from deltaflow.viz.figures import run_figures  # matplotlib is slow to import: only when drawing

        run_figures(run_dir, Predictor(load_model(run_dir / "model.npz")), result.dataset, result.history,
                    read_probes(probes) if probes.exists() else None)


_TAKEN = (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR)  # rename(2): the new name holds something


def _replace_folder(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``, moving a folder already there aside and removing it after.

    A folder cannot be renamed over a non-empty one, so it takes two renames; between
    them ``dest`` is absent for an instant, and a crash there leaves both runs whole,
    hidden beside it (``.<name>.*.tmp`` new, ``.<name>.*.old`` old). Another writer of
    the same name may put its run in between: it is moved aside in turn, so the writer
    that renames last wins. If this one fails or is interrupted before its run is in
    place, the folder it moved aside is put back.
    """
    asides = []
    try:
        while True:
            try:
                os.rename(tmp, dest)
                break
            except OSError as exc:
                if exc.errno not in _TAKEN:
                    raise
            # listed before the rename: a Ctrl-C right after it must still find the old run
            asides.append(dest.parent / f".{dest.name}.{secrets.token_hex(6)}.old")
            try:
                os.rename(dest, asides[-1])
            except FileNotFoundError:  # another writer moved it first: try again
                asides.pop()
    except BaseException:
        if asides and asides[-1].exists() and not dest.exists():
            os.rename(asides.pop(), dest)
        raise
    finally:
        for aside in asides:
            shutil.rmtree(aside, ignore_errors=True)


def _claim(tmp: Path, *first: Path, then: Path) -> Path:
    """Rename ``tmp`` to the first free name of ``first``, then ``then``, ``then-2``,
    ``then-3``, … and return it. The rename itself is the test (it fails if the name holds
    a file or a non-empty folder), so two writers never claim one name."""
    numbered = (then.parent / f"{then.name}-{k}" for k in itertools.count(2))
    for candidate in itertools.chain(first, [then], numbered):
        try:
            os.rename(tmp, candidate)
            return candidate
        except OSError as exc:
            if exc.errno not in _TAKEN:
                raise


PROBES = "probes.npz"


def write_probes(probe, path: Path) -> None:
    """A probe's records (``GradientProbe.as_arrays()``) and its unit-layer ``names`` as an .npz."""
    with atomic_file(path, "wb") as f:
        np.savez(f, names=np.asarray(probe.names, dtype=str), **probe.as_arrays())


def read_probes(path: Path) -> dict[str, np.ndarray]:
    """What ``write_probes`` wrote (``names`` as a list of str); never unpickles."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable probes file ({exc})") from None
    arrays["names"] = [str(n) for n in arrays.get("names", [])]
    return arrays


class Predictor:
    """Predictions from raw input rows through a saved model's pipeline.

    ``prepare(X)``: derived features (2-D toy sets), then ``(x − mean) / scale`` with the
    training part's statistics; ``output``, ``predict_proba`` and ``predict`` follow.

    What the output means (``task``, ``class_labels``) is the file's metadata, read and
    checked by ``model_task.read_task``. A model saved without it (``save_model(path, net)``)
    means what its run config says, else what its output width says: n_L ≥ 2 outputs are
    the logits of K = n_L classes 0 … K−1 under softmax cross-entropy, one output is a
    value (regression, mean squared error). Malformed metadata, a standardiser of the
    wrong length, non-finite or with a scale ≤ 0 are a ``ValueError`` naming the file.
    """

    def __init__(self, model: ModelFile):
        self.model, self.net, self.meta = model, model.net, model.meta
        self.dtype = model.net.dtype
        where = str(model.path) if model.path is not None else "model"
        n_in = model.net.n_in
        if n_in is None:
            raise ValueError(f"{where}: the network has no layer that fixes its input width")
        _check_names(self.meta, where)
        check_scaler(model.arrays, n_in, where)
        try:
            self.transform = InputTransform.from_meta(self.meta, model.arrays, self.dtype)
        except ValueError as exc:
            raise ValueError(f"{where}: metadata 'input_features': {exc}") from None
        width = len(self.transform.features) if self.transform.features is not None else n_in
        if width != n_in:
            raise ValueError(f"{where}: input_features make {width} inputs, the network takes {n_in}")
        self.task, self.class_labels = read_task(self.meta, model.config, model.net.n_out(n_in), self.dtype, where)

    @property
    def n_inputs(self) -> int:
        """Values per raw input row: 2 for a toy set with derived features, else the network's input width."""
        return self.transform.n_raw or self.net.n_in

    @property
    def input_names(self) -> list[str]:
        """Names of the raw input columns (x1, x2 before derived features; a file's feature columns)."""
        if self.meta.get("input_features"):
            return ["x1", "x2"]
        names = self.meta.get("feature_names") or []
        return list(names) if len(names) == self.n_inputs else [f"x{k}" for k in range(1, self.n_inputs + 1)]

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """The network's input for raw rows ``X : (n, n_inputs)``.

        The steps and their precision follow ``load_dataset`` exactly (features in
        float64, cast to the model's dtype, then standardise in that dtype), so the raw
        test rows give the very array the model was evaluated on in training.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"expected input rows of {self.n_inputs} values, got shape {X.shape}")
        return self.transform(X)

    def output(self, X: np.ndarray) -> np.ndarray:
        return self.net.forward(self.prepare(X), training=False)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.task.proba(self.output(X))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels (original values) for classification, values for regression."""
        out = self.output(X)
        if self.task.kind == "regression":
            return out[:, 0] if out.shape[1] == 1 else out
        return np.asarray(self.class_labels)[self.task.predict(out)]

    def class_index(self, y) -> np.ndarray:
        """Class indices 0 … K−1 for original labels ``y`` (e.g. 3, 5, 7 → 0, 1, 2)."""
        labels = self.class_labels
        index = {float(v): i for i, v in enumerate(labels)}
        y = np.asarray(y, dtype=np.float64).ravel()
        unknown = [v.item() for v in np.unique(y) if float(v) not in index]
        if unknown:
            raise ValueError(f"labels {unknown[:5]} are not classes the model was trained on ({labels})")
        return np.array([index[float(v)] for v in y], dtype=np.int64)

    def evaluate(self, X: np.ndarray, y) -> tuple[float, float]:
        """(loss, accuracy or R²) on raw rows ``X`` and targets ``y`` (original labels or values).

        The loss is the one the model was trained with (``task.loss_name``), computed as
        ``fit`` computes its history, so a run's test part gives its last ``test_loss``.
        """
        out = self.output(X)
        if self.task.kind == "regression":
            y = np.asarray(y, dtype=self.dtype).reshape(len(out), -1)
        else:
            y = self.class_index(y)
        return self.task.loss.forward(out, self.task.targets(y)), self.task.metric(out, y)


def _check_names(meta: dict, where: str) -> None:
    """Refuse metadata names of the wrong type: feature_names, input_features (lists of
    strings), target_name (a string)."""
    for key in ("feature_names", "input_features"):
        value = meta.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ValueError(f"{where}: metadata {key!r} must be a list of strings, got {value!r:.60}")
    if not isinstance(meta.get("target_name"), (str, type(None))):
        raise ValueError(f"{where}: metadata 'target_name' must be a string, got {meta['target_name']!r:.60}")


def load_run_config(run_dir: Path) -> RunConfig:
    """The RunConfig of a run folder; an invalid ``config.json`` is a ``ValueError`` naming it."""
    path = Path(run_dir) / "config.json"
    try:
        return RunConfig.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None


__all__ = ["save_run", "read_history", "write_history", "Predictor", "load_run_config"]
