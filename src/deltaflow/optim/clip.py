"""Gradient clipping, called between ``backward()`` and ``optimizer.step()``.

``clip_grad_norm``: one global L2 norm over all gradients, ‖g‖ = √(Σ_p Σ g_p²); if
‖g‖ > max_norm every gradient is scaled by max_norm / (‖g‖ + 1e-6), as PyTorch's
``clip_grad_norm_``. ``clip_grad_value``: each entry clamped to [−clip, clip].
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from deltaflow.nn.layers import Param


def global_norm(arrays: Iterable[np.ndarray]) -> float:
    """√(Σ_a Σ a_ij²) over the arrays, accumulated as a Python float (float64).

    Each array's Σ a² is a BLAS dot product in its own dtype (no copy). Only where a
    float32 sum overflows (|a| ≳ 1e19) or is NaN is it redone in float64, so float32
    arrays never overflow the norm.
    """
    total = 0.0
    with np.errstate(over="ignore"):  # an overflowing float32 sum is expected: it is redone below
        for a in arrays:
            a = a.reshape(-1)
            sq = float(np.dot(a, a))
            if not math.isfinite(sq) and a.dtype != np.float64:
                a64 = a.astype(np.float64)
                sq = float(np.dot(a64, a64))
            total += sq
    return math.sqrt(total)


def grad_norm(params: Iterable[Param]) -> float:
    """‖g‖₂ over every gradient (``global_norm`` of the ``p.grad``)."""
    return global_norm(p.grad for p in params)


def clip_grad_norm(params: Iterable[Param], max_norm: float, error_if_nonfinite: bool = False) -> float:
    """Scale all gradients so that their global L2 norm is at most ``max_norm``; return the
    norm before clipping. A NaN or infinite norm is returned as it is (the gradients are left
    untouched) so the caller sees it; with ``error_if_nonfinite=True`` it raises instead.
    """
    params = list(params)
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    total = grad_norm(params)
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise ValueError(f"gradient norm is {total}: non-finite gradients cannot be clipped")
        return total
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad *= coef
    return total


def clip_grad_value(params: Iterable[Param], clip: float) -> None:
    """Clamp every gradient entry to [−clip, clip] in place."""
    if not clip > 0:
        raise ValueError(f"clip value must be positive, got {clip!r}")
    for p in params:
        np.clip(p.grad, -clip, clip, out=p.grad)
