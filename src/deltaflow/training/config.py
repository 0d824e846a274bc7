"""``RunConfig``: one typed description of a training run, shared by every face.

The CLI reads it from a JSON file or flags, the simulator edits and exports it, and
``train.fit`` executes it: the same config and seed give the same numbers everywhere.
Unknown keys and out-of-range values are rejected with a message naming the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deltaflow.data import DATASETS, Dataset, load_dataset
from deltaflow.data.features import check_feature_names
from deltaflow.nn import init as initializers
from deltaflow.nn.activations import get_activation
from deltaflow.nn.losses import LOSSES
from deltaflow.nn.network import NORMS, Sequential, mlp
from deltaflow.optim.optimizers import OPTIMIZERS, Optimizer, get_optimizer
from deltaflow.optim.schedules import SCHEDULES, LRSchedule, get_schedule

MAX_WIDTH = 4096
MAX_LAYERS = 64
ARRAY = "array"  # data.name of a run whose Dataset is passed in (``fit(config, dataset)``), e.g. by sklearn


_RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class _Strict(BaseModel):
    # NaN and ±inf are refused as "not a finite number" (compared with a bound, NaN would
    # be reported as out of range)
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class DataConfig(_Strict):
    """Which data set, how much of it, and how it is split (see ``deltaflow.data.load_dataset``)."""

    name: str = "spiral"
    n_samples: int | None = Field(None, gt=0, le=200_000)
    noise: float | None = Field(None, ge=0.0)  # at most the set's ``max_noise`` (checked below)
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0)
    features: list[str] | None = None
    path: str | None = None
    target: str | None = None
    classes: int = Field(3, ge=2, le=32)
    task: Literal["classification", "regression"] | None = None
    teeth: int = Field(4, ge=1, le=64)
    standardize: bool = True

    @model_validator(mode="after")
    def _noise_in_range(self):
        info = DATASETS.get(self.name)
        limit = info.max_noise if info is not None else None
        if self.noise is not None and limit is not None and self.noise > limit:
            what = "the std added to y" if info.kind == "function" else "the fraction of its perturbation"
            raise ValueError(f"noise {self.noise:g} is over {self.name!r}'s limit of {limit:g} ({what})")
        return self

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in DATASETS and v != ARRAY:
            raise ValueError(f"unknown data set {v!r}; choose one of {', '.join(DATASETS)}")
        return v

    @field_validator("features")
    @classmethod
    def _features(cls, v):
        return v if v is None else check_feature_names(v)

    def load(self, *, seed: int = 0, dtype="float32") -> Dataset:
        """The data set this describes, generated and split with ``seed`` (``load_dataset``)."""
        if self.name == ARRAY:
            raise ValueError(f"data.name {ARRAY!r} means the data are passed in: fit(config, dataset)")
        return load_dataset(**self.model_dump(), seed=seed, dtype=dtype)


class ModelConfig(_Strict):
    """Hidden layer widths and what goes between them; the output layer follows from the task."""

    hidden: list[int] = Field(default_factory=lambda: [8, 8], max_length=MAX_LAYERS)
    activation: str | list[str] = "tanh"
    norm: Literal[NORMS] = "none"  # mlp's norm choices
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    init: str = "auto"

    @field_validator("hidden")
    @classmethod
    def _widths(cls, v: list[int]) -> list[int]:
        for w in v:
            if not 1 <= w <= MAX_WIDTH:
                raise ValueError(f"each hidden width must be between 1 and {MAX_WIDTH}, got {w}")
        return v

    @field_validator("activation")
    @classmethod
    def _activation(cls, v):
        for name in [v] if isinstance(v, str) else v:
            if get_activation(name).name == "step":
                raise ValueError("step has no gradient to backpropagate; train it with deltaflow.Perceptron")
        return v

    @field_validator("init")
    @classmethod
    def _init(cls, v: str) -> str:
        if v != "auto":
            initializers.get(v)
        return v

    def build(self, n_in: int, n_out: int, *, dtype="float32", rng=None) -> Sequential:
        """The network this describes: ``mlp([n_in, *hidden, n_out])`` returning logits
        (x : (batch, n_in) -> z : (batch, n_out)); ``rng`` draws the initial weights."""
        return mlp([n_in, *self.hidden, n_out], activation=self.activation,
                   norm=self.norm, init=self.init, dropout=self.dropout,
                   dtype=dtype, rng=rng)

    @model_validator(mode="after")
    def _one_activation_per_layer(self):
        if isinstance(self.activation, list) and len(self.activation) != len(self.hidden):
            raise ValueError(
                f"activation lists {len(self.activation)} names for {len(self.hidden)} hidden layers; "
                "give one per hidden layer or a single name"
            )
        return self


class OptimizerConfig(_Strict):
    """Optimiser and its settings; None means the optimiser's own (PyTorch's) default."""

    name: Literal[tuple(OPTIMIZERS)] = "adam"
    lr: float = Field(0.01, gt=0.0, le=100.0)
    momentum: float | None = Field(None, ge=0.0, lt=1.0)
    betas: tuple[float, float] | None = None
    eps: float | None = Field(None, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)

    @field_validator("betas")
    @classmethod
    def _betas(cls, v):
        if v is not None and not all(0.0 <= b < 1.0 for b in v):
            raise ValueError(f"betas must lie in [0, 1), got {v}")
        return v

    @model_validator(mode="after")
    def _settings_apply(self):
        if self.momentum is not None and self.name in ("adam", "adamw", "adagrad"):
            raise ValueError(f"momentum does not apply to {self.name}")
        if self.betas is not None and self.name not in ("adam", "adamw"):
            raise ValueError(f"betas applies to adam and adamw, not {self.name}")
        if self.eps is not None and self.name in ("sgd", "momentum", "nesterov"):
            raise ValueError(f"eps does not apply to {self.name}")
        return self

    def build(self, params, pack: bool = False) -> Optimizer:
        """The optimiser this describes over ``params`` (a list of ``Param``); ``pack`` lets it
        lay the small params out back to back (see ``optim._layout``)."""
        return get_optimizer(self.name, params, lr=self.lr, pack=pack, **self.kwargs())

    def kwargs(self) -> dict:
        """The settings given, for ``get_optimizer`` (None ones take the optimiser's default)."""
        kw = {"weight_decay": self.weight_decay}
        if self.momentum is not None:
            kw["momentum"] = self.momentum
        if self.betas is not None:
            kw["betas"] = tuple(self.betas)
        if self.eps is not None:
            kw["eps"] = self.eps
        return kw


class ScheduleConfig(_Strict):
    """Learning-rate schedule, stepped once per epoch (``cosine`` runs over all epochs)."""

    name: Literal[("none", *SCHEDULES)] = "none"
    step_size: int = Field(10, ge=1)
    gamma: float = Field(0.5, gt=0.0, le=1.0)
    eta_min: float = Field(0.0, ge=0.0)
    warmup_steps: int = Field(5, ge=1)

    def build(self, optimizer: Optimizer, *, epochs: int) -> LRSchedule | None:
        """The schedule driving ``optimizer.lr``, stepped once per epoch (``cosine`` over
        ``epochs``); None for ``name="none"``."""
        if self.name == "none":
            return None
        kwargs = {
            "step": {"step_size": self.step_size, "gamma": self.gamma},
            "exponential": {"gamma": self.gamma},
            "cosine": {"T_max": epochs, "eta_min": self.eta_min},
            "warmup": {"warmup_steps": self.warmup_steps},
        }[self.name]
        return get_schedule(self.name, optimizer, **kwargs)


class RunConfig(_Strict):
    """Everything that defines a run. ``loss=None`` picks it from the task: cross-entropy
    (softmax) for classification, mean squared error for regression."""

    name: str | None = None
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    loss: Literal[tuple(LOSSES)] | None = None
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    batch_size: int = Field(16, ge=1, le=65_536)
    epochs: int = Field(100, ge=1, le=1_000_000)
    steps: int | None = Field(None, ge=1, le=100_000_000)
    clip_norm: float | None = Field(None, gt=0.0)
    clip_value: float | None = Field(None, gt=0.0)
    l1: float = Field(0.0, ge=0.0)
    l2: float = Field(0.0, ge=0.0)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    dtype: Literal["float32", "float64"] = "float32"
    # record gradient-flow statistics (deltaflow.diagnostics.probes) every k-th step; None records none
    probe_every: int | None = Field(None, ge=1, le=1_000_000)

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        # the run's folder under runs/: one path component, never "..", a hidden name or a path
        if v is not None and not _RUN_NAME.fullmatch(v):
            raise ValueError(f"{v!r} is not a run name: use 1 to 64 letters, digits, '_', '.' or '-', "
                             "starting with a letter or digit")
        return v

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        """Parse and validate JSON; any problem is a ``ValueError`` naming the field."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            raise ValueError(describe_error(exc)) from None

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ValueError(describe_error(exc)) from None


def describe_error(exc: ValidationError) -> str:
    """One line per problem: ``field.path: message`` (the first three)."""
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err["loc"]) or "config"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def load_config(path) -> RunConfig:
    """Read a RunConfig from a JSON file; a missing or invalid file is a ``ValueError``."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"config file {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"config file {p} is not valid JSON: {exc}") from None
    try:
        return RunConfig.from_json(text)
    except ValueError as exc:
        raise ValueError(f"config file {p}: {exc}") from None
