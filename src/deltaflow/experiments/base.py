"""The shape every experiment shares, and writing one to disk.

An experiment's result is a JSON-ready dict with at least::

    {"name": str, "title": str, "quick": bool, "seed": int,
     "findings": [str, ...],      # measured statements, each with its numbers
     "tables": [{"title": str, "columns": [str, ...], "rows": [[...], ...]}, ...],
     ...}                          # plus the experiment's own arrays as lists

``findings`` and ``tables`` are what the HTML report prints beside the figure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deltaflow.training.io import atomic_file

__all__ = ["Experiment", "Progress", "Ticker", "run_experiment", "to_json_ready", "write_json", "write_text",
           "backprop", "full_batch"]

# progress(done, total): called as units of work finish (the CLI draws a bar from it)
Progress = Callable[[int, int], None]


class Ticker:
    """Counts the units of work an experiment finishes, out of ``total``, and reports each
    one as ``progress(done, total)`` (when there is a ``progress`` to report to)."""

    def __init__(self, progress: Progress | None, total: int, done: int = 0):
        self.progress, self.total, self.done = progress, total, done

    def tick(self) -> None:
        """One more unit done."""
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


@dataclass(frozen=True)
class Experiment:
    """``run(quick=False, seed=0, progress=None) -> dict``; ``figure(result, path) -> Path``.

    ``quick=True`` runs a reduced grid (what the tests use); the full grid is for the
    command and the report.
    """

    name: str
    title: str
    run: Callable[..., dict]
    figure: Callable[[dict, Path], Path]


def to_json_ready(value):
    """Arrays and NumPy scalars as plain lists and numbers; NaN and ±inf as None (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): to_json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_json_ready(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def write_text(text: str, path: Path) -> Path:
    """Write ``text`` through a temporary file and a rename, so a failure never leaves half a file."""
    with atomic_file(path) as f:
        f.write(text)
    return Path(path)


def write_json(data: dict, path: Path) -> Path:
    """``data`` as indented strict JSON (see ``to_json_ready``), written atomically."""
    return write_text(json.dumps(to_json_ready(data), indent=1, allow_nan=False), path)


def run_experiment(exp: Experiment, out: Path, quick: bool = False, seed: int = 0,
                   progress: Progress | None = None) -> tuple[dict, Path, Path]:
    """Run ``exp`` and write ``out/result.json`` and ``out/<name>.png``; returns (result, json, png)."""
    result = exp.run(quick=quick, seed=seed, progress=progress)
    for key in ("name", "title", "findings", "tables"):
        if key not in result:
            raise RuntimeError(f"experiment {exp.name} returned no {key!r}")
    out = Path(out)
    json_path = write_json(result, out / "result.json")
    png = exp.figure(result, out / f"{exp.name}.png")
    return result, json_path, png


def backprop(net, loss, X: np.ndarray, y) -> float:
    """One full-batch forward and backward pass in training mode: every ``p.grad`` is
    ∂L/∂p of this batch alone (zeroed first). X : (batch, n_in). Returns L."""
    value = loss.forward(net.forward(X, True), y)
    net.zero_grad()
    net.backward(loss.backward())
    return value


def full_batch(net, loss, opt, X: np.ndarray, y, steps: int) -> list[float]:
    """``steps`` full-batch gradient steps (training mode); returns the loss before each."""
    history = []
    for _ in range(steps):
        history.append(backprop(net, loss, X, y))
        opt.step()
    return history
