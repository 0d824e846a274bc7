"""Admitting a run by its cost against the server's budget, so that no session's config can
take the CPU the others need.

A run's cost is the work a training tick cannot split (its time budget is checked between
steps), one step and one frame, counted in multiply-adds:

    cost = P · (3B + N + G)

P the network's parameters; 3B for a step over a batch of B (the forward pass z = W a, and the
backward pass's δ and ∂L/∂W, P · B each); N the samples a frame evaluates for its losses
(training and test parts); G the points of its maps (G² cells of a 2-D heatmap, G points of a
1-D curve, 0 without maps), one forward pass each.

Every session may always hold ``limits.base_cost`` (the default run and every preset cost
less), so a new session and a return to a preset are never refused; what a run costs above it
comes from a pool the open sessions share, ``cost_budget − max_sessions · base_cost``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from deltaflow.web.limits import Limits


@dataclass(frozen=True)
class Cost:
    """The terms of ``cost = P · (3B + N + G)`` (module docstring)."""

    parameters: int
    batch: int
    samples: int
    grid_points: int

    @property
    def total(self) -> int:
        return self.parameters * (3 * self.batch + self.samples + self.grid_points)

    def __str__(self) -> str:
        return (f"{self.total:,} multiply-adds a step and frame ({self.parameters:,} parameters × "
                f"(3 × batch {self.batch:,} + {self.samples:,} samples + {self.grid_points:,} grid points))")


def cost_of(trainer, dataset, grid: int, dims: int) -> Cost:
    """The cost of training ``trainer`` on ``dataset`` and drawing its maps of G = ``grid``
    (0: none) over ``dims`` raw inputs (2: G² cells, 1: G points)."""
    samples = len(dataset.X_train) + (0 if dataset.X_test is None else len(dataset.X_test))
    return Cost(parameters=sum(p.value.size for p in trainer.params), batch=trainer.config.batch_size,
                samples=samples, grid_points=grid**dims)


class Ledger:
    """The costs of the open sessions' runs, shared by the server's sessions (thread-safe)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self._costs: dict[str, int] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, cost: Cost) -> None:
        """Record ``cost`` as session ``key``'s run (in place of its last), or raise
        ``ValueError`` naming the cost, the budget and what to lower when the pool cannot hold it."""
        base = self.limits.base_cost
        with self._lock:
            others = sum(max(0, c - base) for k, c in self._costs.items() if k != key)
            left = base + self.limits.cost_budget - self.limits.max_sessions * base - others
            if cost.total > max(base, left):
                raise ValueError(
                    f"this run costs {cost}; the server's budget is {self.limits.cost_budget:,} for all sessions, "
                    f"each always having {base:,}, and the other sessions' runs leave {max(base, left):,} for "
                    "this one; lower the batch size, data.n_samples, the grid or the network's size")
            self._costs[key] = cost.total

    def release(self, key: str) -> None:
        with self._lock:
            self._costs.pop(key, None)
