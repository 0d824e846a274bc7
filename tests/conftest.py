"""Shared test fixtures.

PyTorch parity tests call ``require_torch()``: without torch they are skipped, unless
``DELTAFLOW_REQUIRE_TORCH=1`` (set by CI), in which case a missing torch is a failure.
"""

import os

import numpy as np
import pytest


def require_torch():
    """Import and return torch, or skip (fail when DELTAFLOW_REQUIRE_TORCH=1)."""
    if os.environ.get("DELTAFLOW_REQUIRE_TORCH") == "1":
        import torch  # noqa: PLC0415 - a missing torch must fail loudly in CI

        return torch
    return pytest.importorskip("torch")


@pytest.fixture
def torch():
    t = require_torch()
    t.set_num_threads(1)
    return t


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
