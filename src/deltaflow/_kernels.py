"""One-pass loops compiled with Numba: Adam's update, the bias and its gradient, ReLU, and
the probes' count of active ReLU units.

NumPy makes Adam's update as a dozen array operations, each a pass over θ, g, m and v;
on a large network that traffic is most of the update's time (mnist: 1.9 ms of a 4.6 ms
step). Likewise ``dy ⊙ (a > 0)`` is three passes (a mask, a cast, a product), ``z += b``
and ``Σ_batch δ`` run NumPy's inner loop once per row (a 128×64 float64 bias gradient:
12 µs in NumPy, 2 µs here), and counting active units is a mask and two reductions. The
loops below do the same operations, in the same order and in the arrays' dtype, element
by element: one pass each, with the numbers of the NumPy operations
(``tests/test_fast_paths.py``; ReLU's backward writes +0 where ``dy ⊙ mask`` gives −0).
Numba compiles each on first use (cached on disk) without fast-math, so nothing is
reassociated or fused into an FMA.

``kernel(name)`` returns the compiled function, or None where Numba cannot be imported
(callers then run their NumPy operations). Set ``ENABLED = False`` to force that.
"""

from __future__ import annotations

import threading

import numpy as np

ENABLED = True
_compiled: dict = {}
_lock = threading.Lock()


def _adam(theta, g, m, v, decay, w, w_small, beta2, c2, bc2, eps, step_size):  # pragma: no cover - compiled
    """For each i, in the arrays' dtype (every scalar is passed in it)::

        θ ← θ · decay                               (AdamW's decoupled decay; 1 for Adam)
        m ← m + w (g − m)  if w_small, else  g − w (g − m)           (torch's lerp_)
        v ← v β₂ + (g c₂) g                          (c₂ = 1 − β₂)
        θ ← θ − (m / (√v / bc₂ + ε)) · step_size

    ``w`` is 1 − β₁ when w_small (|1 − β₁| < 0.5), else β₁: either way m ← β₁ m + (1 − β₁) g,
    rounded as torch rounds it. All arrays are 1-D, one length.
    """
    for i in range(theta.size):
        gi, mi = g[i], m[i]
        d = gi - mi
        mi = mi + d * w if w_small else gi - d * w
        m[i] = mi
        vi = v[i] * beta2 + (gi * c2) * gi
        v[i] = vi
        theta[i] = theta[i] * decay - (mi / (np.sqrt(vi) / bc2 + eps)) * step_size


def _bias_add(z, b):  # pragma: no cover - compiled
    """z ← z + b row by row: z : (batch, n) C-contiguous, b : (n,), one dtype."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += b[j]


def _column_sum(x, out):  # pragma: no cover - compiled
    """out = Σ_i x[i, :] as ``np.add.reduce(x, axis=0)`` sums it: from +0, each row added
    in order (so a column of −0 sums to +0). x : (batch, n) C-contiguous, out : (n,), one dtype."""
    for j in range(x.shape[1]):
        out[j] = 0
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[j] += x[i, j]


def _relu(z, out):  # pragma: no cover - compiled
    """out = max(z, 0) as ``np.maximum(z, 0.0)`` gives it: z where z > 0 or z is NaN (NaN
    propagates), else +0 (so −0 becomes +0). z, out : 1-D, one length and dtype."""
    for i in range(z.size):
        zi = z[i]
        if zi > 0 or zi != zi:
            out[i] = zi
        else:
            out[i] = 0


def _relu_backward(dy, a, out):  # pragma: no cover - compiled
    """out = dy where a > 0, else 0 (even where dy is NaN or ±inf, as PyTorch's
    threshold_backward). dy, a, out : 1-D, one length and dtype."""
    for i in range(dy.size):
        if a[i] > 0:
            out[i] = dy[i]
        else:
            out[i] = 0


def _relu_activity(a):  # pragma: no cover - compiled
    """(#{a_ij > 0}, #{columns j with a_ij > 0 for some i}) of a : (batch, n) C-contiguous."""
    seen = np.zeros(a.shape[1], np.bool_)
    total = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            on = a[i, j] > 0
            total += on
            seen[j] |= on
    return total, np.count_nonzero(seen)


_SOURCES = {
    "adam": _adam,
    "bias_add": _bias_add,
    "column_sum": _column_sum,
    "relu": _relu,
    "relu_backward": _relu_backward,
    "relu_activity": _relu_activity,
}
_CHARS = ("f", "d")


def fits(*arrays: np.ndarray) -> bool:
    """Whether the loops can take these arrays: each C-contiguous, float32 or float64, all of
    one dtype (a loop never mixes dtypes; NumPy's operations handle the rest)."""
    # dtype.char ('f' float32, 'd' float64): cheaper than comparing dtype objects, and this
    # runs on every layer's forward and backward
    char = arrays[0].dtype.char
    if char not in _CHARS:
        return False
    for a in arrays:
        if a.dtype.char != char or not a.flags.c_contiguous:
            return False
    return True


def kernel(name: str, *arrays: np.ndarray):
    """The compiled loop ``name`` (a key of ``_SOURCES``) for ``arrays``, or None: Numba
    missing, ``ENABLED`` False, or arrays the loops cannot take (``fits``)."""
    if not ENABLED or (arrays and not fits(*arrays)):
        return None
    try:
        return _compiled[name]
    except KeyError:
        pass
    with _lock:
        if name not in _compiled:
            try:
                import numba
            except ImportError:
                _compiled[name] = None
            else:
                _compiled[name] = _jit(numba, _SOURCES[name])
    return _compiled[name]


def _jit(numba, source):
    """``source`` compiled lazily, its machine code cached on disk where Numba finds a
    writable place (beside this file, or the user's cache folder); where it finds none (a
    read-only install without a home folder) it compiles once per process instead."""
    # error_model="numpy": a division by zero gives inf/NaN as NumPy's does (and lets the
    # loop vectorise) instead of raising
    options = {"nogil": True, "error_model": "numpy"}
    try:
        return numba.njit(cache=True, **options)(source)
    except RuntimeError:  # Numba's "cannot cache function …: no locator available"
        return numba.njit(**options)(source)
