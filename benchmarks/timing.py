"""Interleaved timing: every framework measured in turn, several rounds, medians.

The machine may be shared, so a slow moment must not fall on one framework only: each
round times every contender once, in a rotated order, and the ratio of two contenders is
taken within each round (paired) before the median over rounds. Each timing starts after
an untimed settling run of the same contender (``settle``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def calibrate(step: Callable[[], None], seconds: float) -> int:
    """How many calls of ``step`` take about ``seconds`` (at least 1), after a warm-up call."""
    step()
    t0 = time.perf_counter()
    step()
    one = time.perf_counter() - t0
    n = 1
    while one * n < seconds / 4 and n < 1 << 20:  # a second look when one call is very short
        n *= 4
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        one = (time.perf_counter() - t0) / n
    return max(1, round(seconds / one))


def rate(step: Callable[[], None], n: int) -> float:
    """Calls per second over ``n`` consecutive calls."""
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return n / (time.perf_counter() - t0)


# OpenBLAS's worker threads spin for 2^28 cycles (about 0.1 s here) after its last call
# before they sleep: a contender timed right after deltaflow or scikit-learn would share a
# core with them, which no user running one library sees
SETTLE_SECONDS = 0.15


def settle(step: Callable[[], None], seconds: float = SETTLE_SECONDS) -> None:
    """Run ``step`` untimed for ``seconds`` (at least once), so that the previous contender's
    spinning threads have gone to sleep and this one's caches and threads are warm."""
    end = time.perf_counter() + seconds
    step()
    while time.perf_counter() < end:
        step()


def interleaved(steps: dict[str, Callable[[], None]], rounds: int, seconds: float) -> dict[str, list[float]]:
    """{name: [steps per second of each round]}; round r starts at contender r mod k."""
    counts = {name: calibrate(step, seconds) for name, step in steps.items()}
    names = list(steps)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            settle(steps[name])
            rates[name].append(rate(steps[name], counts[name]))
    return rates


def paired_ratio(a: list[float], b: list[float]) -> float:
    """Median over rounds of a[r] / b[r]."""
    return float(np.median(np.asarray(a) / np.asarray(b)))
