"""Building a session's run from a config: data, ``Trainer``, probe and the grid of the maps.

``build_run`` checks everything against the ``Limits`` and builds it all before the session
changes anything, so a refused config leaves the session as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deltaflow.data import DATASETS, Dataset
from deltaflow.data.toy import BOX
from deltaflow.diagnostics.probes import GradientProbe
from deltaflow.diagnostics.units import Unit, unit_layers
from deltaflow.training.config import RunConfig
from deltaflow.training.trainer import Callback, Trainer
from deltaflow.web.admission import Cost, cost_of
from deltaflow.web.frames import MAX_LOSS_POINTS
from deltaflow.web.limits import Limits, check_config, check_grid, check_steps, map_count
from deltaflow.web.projection import Projection, projection_for

# G of a 2-D set's heatmaps: 64² cells make a 71 kB frame for the default 2-8-8-2 network,
# built in ~3 ms, so 30 frames a second stay cheap; 1-D curves are floats and take more points
DEFAULT_GRID = 64
DEFAULT_CURVE_GRID = 128
# 20 steps of the default network take ~2–4 ms, beside a ~3 ms frame: 30 frames a second fit
DEFAULT_STEPS_PER_FRAME = 20


def default_config() -> RunConfig:
    """The simulator's opening run: 2-8-8-2 tanh on the noise-free spiral, Adam η = 0.03, batch 20.

    Chosen to converge while a newcomer watches: at the default speed (DEFAULT_STEPS_PER_FRAME
    steps a frame, 30 frames a second) it passes 90% test accuracy within 10 s (6,000 steps;
    seed 0 is at 99% by step 3,000, seeds 1–4 at ≥ 96% by 6,000). Batch 10 needed about twice
    the steps (and some seeds stalled near 75%); more units would cost more maps per frame."""
    return RunConfig.from_dict({
        "data": {"name": "spiral", "noise": 0.0},
        "model": {"hidden": [8, 8], "activation": "tanh"},
        "optimizer": {"name": "adam", "lr": 0.03},
        "batch_size": 20,
        "epochs": 1000,
    })


class Losses(Callback):
    """Collects (step, batch loss) per step, thinned so it never holds more than 2·MAX points."""

    def __init__(self):
        self.points: list[tuple[int, float]] = []

    def on_step(self, trainer, step, loss):
        self.points.append((step, loss))
        if len(self.points) > 2 * MAX_LOSS_POINTS:
            del self.points[-2::-2]  # every other point counted back from the newest, which is kept

    def take(self) -> np.ndarray:
        """The points since the last call, at most MAX_LOSS_POINTS : (P, 2) float64."""
        pts, self.points = self.points, []
        if len(pts) > MAX_LOSS_POINTS:
            stride = math.ceil(len(pts) / MAX_LOSS_POINTS)
            pts = pts[::-1][::stride][::-1]  # counted from the newest, which is always kept
        return np.asarray(pts, dtype=np.float64).reshape(-1, 2)


@dataclass
class Run:
    """What ``build_run`` makes for one config: the session holds these until the next build."""

    config: RunConfig  # as the client gave it (an upload's path is its file name)
    train_config: RunConfig  # as the trainer runs it (an upload's real path, no probe history)
    dataset: Dataset
    dims: int  # dimensions of the drawn plane: 1 or 2 (raw input columns, or a PCA plane's 2)
    projection: Projection | None  # the PCA plane of a set with more than 2 inputs, else None
    trainer: Trainer
    losses: Losses
    probe: GradientProbe
    units: list[Unit]
    n_maps: int
    grid: int
    cost: Cost  # admitted by the session against the server's budget


def build_run(config: RunConfig, grid: int, limits: Limits, upload_path: Path | None,
              dataset: Dataset | None = None) -> Run:
    """Data (``dataset`` if given, else loaded), trainer and probe for ``config``; raises
    ``ValueError`` for anything the limits refuse."""
    check_config(config, limits, uploaded=upload_path is not None)
    train_config = config
    if config.data.name == "csv":
        train_config = config.model_copy(update={"data": config.data.model_copy(
            update={"path": str(upload_path)})})
    # the session measures its own statistics; a probe history would grow without end
    train_config = train_config.model_copy(update={"probe_every": None})
    dataset = dataset if dataset is not None else train_config.data.load(seed=train_config.seed, dtype=train_config.dtype)
    columns = dataset.X_train_raw.shape[1]
    if columns > limits.max_features:
        raise ValueError(f"data: {columns} input columns is over the simulator's limit of {limits.max_features}")
    projection = projection_for(dataset)
    dims = 2 if projection is not None else columns
    losses = Losses()
    trainer = Trainer(train_config, dataset, callbacks=[losses])
    check_steps(trainer, limits)
    n_maps = map_count(trainer)
    check_grid(grid, n_maps, dims, limits)
    return Run(config, train_config, dataset, dims, projection, trainer, losses, GradientProbe(trainer.net, every=1),
               unit_layers(trainer.net), n_maps, grid, cost_of(trainer, dataset, grid, dims))


def is_toy(config: RunConfig) -> bool:
    """A generated 2-D set: drawn on the box [−BOX, BOX]², its features made from (x1, x2)."""
    name = config.data.name
    return name in DATASETS and DATASETS[name].kind == "toy"


def plot_extent(config: RunConfig, dataset: Dataset, dims: int, projection: Projection | None = None) -> dict:
    """The plotted plane: the toy sets' box [−6, 6]², else the data's range padded by 10%
    (with a ``projection``, the range of the points' plane coordinates)."""
    if is_toy(config):
        return {"x1": [-BOX, BOX], "x2": [-BOX, BOX]}
    X = plotted_points(dataset, projection)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.maximum(0.1 * (hi - lo), 1e-3)
    ranges = [[float(a), float(b)] for a, b in zip(lo - pad, hi + pad)]
    return {"x1": ranges[0], "x2": ranges[1] if dims == 2 else None}


def plotted_points(dataset: Dataset, projection: Projection | None = None) -> np.ndarray:
    """Every point (train, then test) as drawn: raw coordinates (n, dims), or with a
    ``projection`` the plane coordinates p = (x − μ)·V₂ of the network's inputs (n, 2)."""
    d = dataset
    if projection is not None:
        X = np.vstack([d.X_train, d.X_test]) if d.X_test is not None else d.X_train
        return projection.to_plane(X)
    return np.vstack([d.X_train_raw, d.X_test_raw]) if d.X_test_raw is not None else d.X_train_raw


def model_input(dataset: Dataset, raw: np.ndarray, projection: Projection | None = None) -> np.ndarray:
    """Points of the drawn plane : (n, dims) → the network's input : (n, n_features): raw points
    by the data set's own ``InputTransform`` (a set passed in as arrays is already the network's
    input); with a ``projection``, plane points p by x = μ + p·V₂ᵀ (already standardised)."""
    if projection is not None:
        return projection.to_input(raw).astype(dataset.X_train.dtype)
    return dataset.transform(raw) if dataset.transform is not None else raw.astype(dataset.X_train.dtype)


def grid_inputs(dataset: Dataset, dims: int, grid: int, extent: dict,
                projection: Projection | None = None) -> np.ndarray | None:
    """The G×G grid (G points for 1-D) of the plane in the network's input space : (G², n_features)."""
    if grid == 0:
        return None
    x1 = np.linspace(*extent["x1"], grid)
    if dims == 1:
        return model_input(dataset, x1[:, None])
    x2 = np.linspace(*extent["x2"], grid)[::-1]  # row 0 is the top of the plot
    X1, X2 = np.meshgrid(x1, x2)
    return model_input(dataset, np.column_stack([X1.ravel(), X2.ravel()]), projection)
