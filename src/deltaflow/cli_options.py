"""What the ``deltaflow`` commands share: the consoles, reading list options, building a
run's config from flags, loading a model file, and the progress bars.

A ``UsageError`` is bad input from the command line: ``cli.main`` prints it as one line,
``error: ...``, and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["UsageError", "console", "out", "csv_list", "numbers", "build_config", "load_predictor",
           "BarProgress", "progress_bars"]

console = Console(stderr=True, soft_wrap=True)  # messages, bars and errors
out = Console(soft_wrap=True)  # the command's result


class UsageError(ValueError):
    """Bad input from the command line (exit status 2)."""


def csv_list(text: Optional[str], cast=str, what="list") -> Optional[list]:
    """``"a, b,c"`` as ``[cast("a"), cast("b"), cast("c")]`` (None stays None); ``what`` names the option."""
    if text is None:
        return None
    items = _items(text, what)
    try:
        return [cast(t) for t in items]
    except ValueError:
        raise UsageError(f"--{what} must be a comma-separated list, got {text!r}") from None


def numbers(text: str, what: str) -> list[float]:
    """``"1,0.5"`` as ``[1.0, 0.5]``; ``what`` names the option in the message."""
    items = _items(text, what)
    try:
        return [float(t) for t in items]
    except ValueError:
        raise UsageError(f"--{what} must be comma-separated numbers, got {text!r}") from None


def _items(text: str, what: str) -> list[str]:
    """The stripped items of ``"a, b,c"``; an empty text is no item, an empty item an error
    (``8,,8`` is a typo, not ``8,8``)."""
    if not text.strip():
        return []
    items = [t.strip() for t in text.split(",")]
    if "" in items:
        raise UsageError(f"--{what} has an empty item in {text!r}; separate the values by single commas")
    return items


# what belongs to one data set and must not carry over when a flag names another
_DATA_SPECIFIC = ("n_samples", "noise", "features", "path", "target")


def build_config(config_file, flags: dict):
    """The config file's RunConfig (or the defaults) with every flag that was given applied.

    flags : {"section.field" or "field": value}; a None value is a flag not given.
    """
    from deltaflow.training.config import RunConfig, load_config

    base = load_config(config_file) if config_file else RunConfig()
    data = base.model_dump()
    new_name = flags.get("data.name")
    if new_name is not None and new_name != base.data.name:
        for key in _DATA_SPECIFIC:
            data["data"][key] = None
    for key, value in flags.items():
        if value is None:
            continue
        section, _, field = key.rpartition(".")
        (data[section] if section else data)[field] = value
    return RunConfig.from_dict(data)


def load_predictor(model: Path):
    """The ``Predictor`` of a model file (raw input rows → predictions)."""
    from deltaflow.training.io import load_model
    from deltaflow.training.runs import Predictor

    return Predictor(load_model(model))


class BarProgress:
    """``progress(done, total)`` for an experiment, drawn as a rich bar."""

    def __init__(self, progress: Progress, description: str):
        self.progress = progress
        self.task_id = progress.add_task(description, total=None)

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task_id, completed=done, total=total)


def progress_bars() -> Progress:
    """The bars of the experiment commands, on stderr: name, done of total, bar, time."""
    return Progress(TextColumn("{task.description}"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
                    console=console)
