"""``Checkpoint``: a training callback that saves the model file as training goes.

With ``monitor`` (e.g. ``"test_loss"``) the file is rewritten only when that value
improves, so it always holds the best epoch so far; without it, every ``every`` epochs.
Each save is atomic (``io.save_model``), so an interrupted run leaves a whole file.
"""

from __future__ import annotations

import math
from pathlib import Path

from deltaflow.training.io import save_model
from deltaflow.training.trainer import Callback


class Checkpoint(Callback):
    """Save ``trainer.net`` (with its RunConfig) to ``path`` during ``fit``.

    ``saved`` lists the epochs at which the file was written.
    """

    def __init__(self, path, monitor: str | None = None, every: int = 1):
        if every < 1:
            raise ValueError(f"Checkpoint every must be at least 1, got {every}")
        self.path, self.monitor, self.every = Path(path), monitor, every
        self.sign = 1.0 if monitor is None or "loss" in monitor else -1.0  # losses fall, scores rise
        self.best = math.inf
        self.saved: list[int] = []

    def on_epoch(self, trainer, epoch: int, row: dict) -> bool:
        if self.monitor is None:
            due = epoch % self.every == 0
        else:
            if self.monitor not in row:
                raise ValueError(f"Checkpoint monitor {self.monitor!r} is not in the history {sorted(row)}")
            value = self.sign * row[self.monitor]
            due = value < self.best
            if due:
                self.best = value
        if due:
            save_model(self.path, trainer.net, trainer.config, {"epoch": epoch, **{k: float(v) for k, v in row.items()}})
            self.saved.append(epoch)
        return False
