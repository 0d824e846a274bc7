"""The engine's one-pass loops, each behind a function named for what it computes:
``add_bias``, ``column_sum``, ``relu``, ``relu_backward``, ``relu_activity`` and ``adam``.
Each runs a loop compiled with Numba where it can, else NumPy's operations, with the same
numbers either way (``tests/test_fast_paths.py``), so callers read like the maths.

Why the loops: NumPy makes Adam's update as a dozen array operations, each a pass over θ,
g, m and v; on a large network that traffic is most of the update's time (mnist: 1.9 ms
of a 4.6 ms step). Likewise ``dy ⊙ (a > 0)`` is three passes (a mask, a cast, a product),
``z += b`` and ``Σ_batch δ`` run NumPy's inner loop once per row (a 128×64 float64 bias
gradient: 12 µs in NumPy, 2 µs here), and counting active units is a mask and two
reductions. The loops do the same operations, in the same order and in the arrays' dtype,
element by element: one pass each, with the numbers of the NumPy operations (ReLU's
backward writes +0 where ``dy ⊙ mask`` gives −0). Numba compiles each on first use (cached
on disk) without fast-math, so nothing is reassociated or fused into an FMA.

NumPy's operations run where Numba cannot be imported, for arrays the loops cannot take
(``fits``), and everywhere when ``ENABLED`` is False.
"""

from __future__ import annotations

import math
import threading

import numpy as np

ENABLED = True
_compiled: dict = {}
_lock = threading.Lock()
# below this many elements NumPy's maximum (its scalar loop) costs less than the call into
# the compiled loop and a fresh output array
_RELU_LOOP_FROM = 1024


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


def _add_bias(z, b):  # pragma: no cover - compiled
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
    """(#{a_ij > 0}, alive : (n,) bool, alive_j ⇔ a_ij > 0 for some i) of a : (batch, n) C-contiguous."""
    seen = np.zeros(a.shape[1], np.bool_)
    total = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            on = a[i, j] > 0
            total += on
            seen[j] |= on
    return total, seen


_SOURCES = {
    "adam": _adam,
    "add_bias": _add_bias,
    "column_sum": _column_sum,
    "relu": _relu,
    "relu_backward": _relu_backward,
    "relu_activity": _relu_activity,
}
_CHARS = ("f", "d")


def add_bias(z: np.ndarray, b: np.ndarray) -> None:
    """z ← z + b in place, b added to every row: z : (batch, n), b : (n,)."""
    loop = _loop("add_bias", z, b)
    if loop is None:
        z += b
    else:
        loop(z, b)


def column_sum(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = Σ_i x[i, :], the sum over the batch, written into ``out`` : (n,) and returned;
    x : (batch, n). The numbers of ``np.add.reduce(x, axis=0)``: rows added in order from +0."""
    loop = _loop("column_sum", x, out)
    if loop is None:
        return np.add.reduce(x, axis=0, out=out)  # np.sum's own reduction, without its wrapper
    loop(x, out)
    return out


def relu(z: np.ndarray) -> np.ndarray:
    """max(z, 0) in a new array, as ``np.maximum(z, 0.0)`` gives it (NaN propagates, −0 → +0)."""
    loop = _loop("relu", z) if z.size >= _RELU_LOOP_FROM else None
    if loop is None:
        return np.maximum(z, 0.0)
    a = np.empty_like(z)
    loop(z.reshape(-1), a.reshape(-1))
    return a


def relu_backward(dy: np.ndarray, a: np.ndarray) -> np.ndarray:
    """dy where a > 0, else 0, in a new array of dy's dtype: ∂L/∂z = ∂L/∂a ⊙ ReLU'(z), as
    a > 0 ⇔ z > 0. A NaN or ±inf in dy gives 0 where a ≤ 0, as PyTorch's threshold_backward."""
    loop = _loop("relu_backward", dy, a) if isinstance(dy, np.ndarray) and dy.shape == a.shape else None
    if loop is not None:
        dz = np.empty_like(dy)
        loop(dy.reshape(-1), a.reshape(-1), dz.reshape(-1))
        return dz
    # a product with the mask, several times faster than np.where; but 0·(NaN or inf) is
    # NaN, so a non-finite dy takes np.where. One dot product dy·dy checks it (finite ⇒ dy
    # finite; an overflow only sends a finite dy the slower way to the same numbers).
    if math.isfinite(np.vdot(dy, dy)):
        return np.multiply(dy, a > 0)
    return np.where(a > 0, dy, 0.0).astype(dy.dtype, copy=False)


def relu_activity(a: np.ndarray) -> tuple[int, np.ndarray]:
    """(n_active, alive) of ReLU outputs a : (batch, n): the number of entries a_ij > 0, and
    alive : (n,) bool, True for the columns j with a_ij > 0 for some example i."""
    loop = _loop("relu_activity", a)
    if loop is None:
        active = a > 0
        return int(np.count_nonzero(active)), active.any(axis=0)
    n_active, alive = loop(a)
    return int(n_active), alive


def lerp(a: np.ndarray, b: np.ndarray, w: float, work: np.ndarray) -> None:
    """``a ← a + w (b − a) = (1 − w) a + w b`` in place, rounded as PyTorch's ``lerp_`` is
    (from ``b`` when w ≥ 0.5) so float64 runs agree with it to the last bits."""
    np.subtract(b, a, out=work)
    if abs(w) < 0.5:
        work *= w
        a += work
    else:
        work *= 1.0 - w
        np.subtract(b, work, out=a)


def adam(theta, g, m, v, work, decay: float, beta1: float, beta2: float, eps: float, step_size: float,
         bias_correction2_sqrt: float, v_max=None, one_pass: bool | None = None) -> None:
    """Adam's update of θ, m and v in place, all arrays of one shape (``work`` is scratch)::

        θ ← θ · decay                  (AdamW's decoupled decay; 1 for Adam)
        m ← β₁ m + (1 − β₁) g           (rounded as torch's lerp_)
        v ← β₂ v + (1 − β₂) g²
        v_max ← max(v_max, v) ; v ← v_max      (amsgrad: ``v_max`` given)
        θ ← θ − (m / (√v / bias_correction2_sqrt + ε)) · step_size

    Every scalar is a Python float, applied in θ's dtype. One compiled pass where the
    arrays allow it and there is no ``v_max``; else NumPy's operations. ``one_pass``: the
    caller's ``adam_in_one_pass`` answer for these arrays, so they are not checked twice.
    """
    if one_pass is None:
        one_pass = v_max is None and adam_in_one_pass(theta, g, m, v)
    loop = _loop("adam") if one_pass else None
    if loop is not None:
        w = 1.0 - beta1
        T = theta.dtype.type  # every scalar in θ's dtype, as NumPy casts a Python float against θ
        loop(theta.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), T(decay),
             T(w if abs(w) < 0.5 else 1.0 - w), abs(w) < 0.5, T(beta2), T(1.0 - beta2),
             T(bias_correction2_sqrt), T(eps), T(step_size))
        return
    if decay != 1.0:
        theta *= decay
    lerp(m, g, 1.0 - beta1, work)
    v *= beta2
    np.multiply(g, 1.0 - beta2, out=work)
    work *= g
    v += work
    if v_max is not None:
        v = np.maximum(v_max, v, out=v_max)
    np.sqrt(v, out=work)
    work /= bias_correction2_sqrt
    work += eps
    np.divide(m, work, out=work)
    work *= step_size
    theta -= work


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


def adam_in_one_pass(theta, g, m, v) -> bool:
    """Whether ``adam`` on these arrays (without amsgrad) runs its compiled pass: Numba
    present, ``ENABLED``, and arrays that ``fits``. Such an update gains nothing from blocks."""
    return _loop("adam", theta, g, m, v) is not None


def _loop(name: str, *arrays: np.ndarray):
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
