"""What the PyTorch-parity tests share: tolerances per dtype, the dtype map, tensors to
arrays, and the comparison. Torch itself comes from the ``torch`` fixture (``conftest.py``),
which skips or, with DELTAFLOW_REQUIRE_TORCH=1, fails where it is missing."""

from __future__ import annotations

import numpy as np

RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}
ATOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-6}


def torch_dtype(torch, dtype):
    """torch.float32 or torch.float64 for the NumPy dtype ``dtype``."""
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


def to_numpy(t) -> np.ndarray:
    """A tensor's values as a NumPy array (arrays pass through)."""
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def assert_close(actual, expected, what: str = "") -> None:
    """``actual`` (deltaflow, NumPy) equals ``expected`` (torch tensor or array) in its dtype's
    tolerance, the absolute one scaled by the largest |expected| (at least 1)."""
    expected, actual = to_numpy(expected), np.asarray(actual)
    dtype = expected.dtype
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype}, torch has {dtype}"
    scale = max(1.0, float(np.abs(expected).max())) if expected.size else 1.0
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=ATOL[dtype] * scale, err_msg=what)
