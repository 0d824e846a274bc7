"""The benchmark configurations of issue 6: layer widths and batch size.

Every configuration trains a ReLU MLP with softmax cross-entropy and Adam on random data
of the right shape (inputs from N(0, 1), labels uniform over the classes): a training
step costs the same whatever the numbers are, so no data set is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Config:
    name: str
    sizes: tuple[int, ...]  # input width, hidden widths..., classes
    batch: int

    @property
    def flops_per_step(self) -> int:
        """6·B·Σ n_in·n_out: forward 2·B·n_in·n_out per Dense, backward twice that (dW and dA)."""
        return 6 * self.batch * sum(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    def data(self, dtype, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """One batch: X : (B, n_in) of ``dtype`` and integer labels y : (B,)."""
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((self.batch, self.sizes[0])).astype(dtype)
        y = rng.integers(0, self.sizes[-1], self.batch)
        return X, y


CONFIGS = (
    Config("tiny", (2, 8, 8, 2), 10),
    Config("digits", (64, 128, 64, 10), 64),
    Config("mnist", (784, 512, 256, 10), 128),
    Config("wide", (784, 2048, 2048, 10), 512),
    Config("deep", (64, *([64] * 32), 10), 128),
)
BY_NAME = {c.name: c for c in CONFIGS}
