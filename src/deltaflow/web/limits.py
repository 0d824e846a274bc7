"""The simulator's limits (``Limits``, sent to the page in ``hello``) and the checks of a run
against them, made before anything is built.

Each check raises ``ValueError`` with one line naming the field, the value and the limit,
which the session sends back as an ``error``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from deltaflow.data import DATASETS
from deltaflow.training.config import RunConfig

# the kinds of data set the simulator draws: 2-D points, 1-D functions, and the bundled real
# sets, drawn on the PCA plane of their inputs (``projection``)
DRAWABLE = ("toy", "function", "real")


@dataclass
class Limits:
    """Every limit the server enforces; sent to the page in ``hello``.

    ``idle_timeout_s``, ``max_sessions`` and the costs are the ones tests shrink (``create_app(limits=...)``).
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
    max_features: int = 128  # input columns of a data set (an upload's, digits' 64)
    max_points_added: int = 1_000
    max_step: int = 10_000  # n of one ``step`` message
    max_steps_per_frame: int = 10_000
    max_message_bytes: int = 1_200_000  # one client message (an upload is the largest)
    window: int = 4  # unacknowledged frames in flight
    max_fps: float = 30.0
    idle_timeout_s: float = 900.0
    tick_budget_s: float = 0.05  # a training tick yields after this, whatever n or steps_per_frame ask
    # a session's replay history (``replay.History``): at most this many frames and bytes, thinned to stay within
    replay_frames: int = 600
    replay_bytes: int = 16 * 2**20
    # a run's cost (``admission.Cost``: multiply-adds of one step and one frame) against the server's
    # budget: every session may always use ``base_cost`` (the default and every preset fit), and the
    # sessions together ``cost_budget`` (the heaviest run the limits allow, ≈ 2·10⁹, fits beside light ones)
    base_cost: int = 10_000_000
    cost_budget: int = 2_500_000_000

    def to_dict(self) -> dict:
        return asdict(self)


def check_config(config: RunConfig, limits: Limits, uploaded: bool = False) -> None:
    """Refuse what the simulator cannot draw or what would be too big for a live page."""
    d, m = config.data, config.model
    if d.name == "csv":
        if not uploaded:
            raise ValueError("data.name: 'csv' data come from an upload (upload_csv); the server reads no paths")
    elif DATASETS[d.name].kind not in DRAWABLE:
        raise ValueError(f"data.name: {d.name!r} is not a data set the simulator can draw; train it with `deltaflow train`")
    if d.n_samples is not None and d.n_samples > limits.max_samples:
        raise ValueError(f"data.n_samples: {d.n_samples:,} is over the simulator's limit of {limits.max_samples:,}")
    if len(m.hidden) > limits.max_hidden_layers:
        raise ValueError(f"model.hidden: {len(m.hidden)} hidden layers is over the limit of {limits.max_hidden_layers}")
    for w in m.hidden:
        if w > limits.max_width:
            raise ValueError(f"model.hidden: {w} neurons in a layer is over the limit of {limits.max_width}")
    if config.batch_size > limits.max_batch_size:
        raise ValueError(f"batch_size: {config.batch_size} is over the limit of {limits.max_batch_size}")
    if config.steps is None and config.epochs > limits.max_epochs:
        raise ValueError(f"epochs: {config.epochs:,} is over the simulator's limit of {limits.max_epochs:,} "
                         "(the history keeps a row per epoch); train longer runs with `deltaflow train`")


def check_steps(trainer, limits: Limits) -> None:
    """``config.steps`` take no more epochs of the data set than ``limits.max_epochs``."""
    steps, epochs = trainer.config.steps, trainer.planned_epochs
    if steps is not None and epochs > limits.max_epochs:
        raise ValueError(f"steps: {steps:,} steps take {epochs:,} epochs of this data set, over the simulator's "
                         f"limit of {limits.max_epochs:,} (the history keeps a row per epoch); "
                         "train longer runs with `deltaflow train`")


def output_maps(dataset) -> int:
    """K_out, the output's maps (or curves): K for K > 2 classes, else 1 (two classes draw
    p(class 1), a regression its value)."""
    return dataset.n_classes if dataset.task == "classification" and dataset.n_classes > 2 else 1


def map_count(trainer) -> int:
    """M, the maps of a frame: the output's (``output_maps``) and one per hidden unit."""
    return output_maps(trainer.dataset) + sum(trainer.config.model.hidden)


def check_grid(grid: int, n_maps: int, dims: int, limits: Limits) -> None:
    """G is 0 (no maps) or within [min_grid, max_grid], and one frame's maps fit max_map_bytes."""
    if grid == 0:
        return
    if not limits.min_grid <= grid <= limits.max_grid:
        raise ValueError(f"grid: {grid} is outside [{limits.min_grid}, {limits.max_grid}] (or 0 for no maps)")
    per_map = grid * grid if dims == 2 else 4 * grid  # uint8 cells, or float32 curve points
    size = n_maps * per_map
    if size > limits.max_map_bytes:
        fit = int((limits.max_map_bytes / n_maps) ** 0.5) if dims == 2 else limits.max_map_bytes // (4 * n_maps)
        raise ValueError(f"grid: {grid} makes {n_maps} maps of {size:,} bytes a frame, over the limit of "
                         f"{limits.max_map_bytes:,}; use a grid of at most {fit} (or 0 for no maps)")
