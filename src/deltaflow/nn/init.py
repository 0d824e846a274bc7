"""Weight initialisers. Each takes ``(shape, rng, dtype)`` with ``shape = (n_out, n_in)``,
so ``fan_in = n_in`` and ``fan_out = n_out``, and returns a new array of that dtype.

==================  =========================================================
name                distribution of W
==================  =========================================================
zeros               W = 0
normal              W ~ N(0, std²), std = 0.01 (the "naive small" start)
uniform             W ~ U(−a, a), a = 0.05
xavier_uniform      W ~ U(−a, a), a = √(6 / (fan_in + fan_out))   (Glorot)
xavier_normal       W ~ N(0, 2 / (fan_in + fan_out))
he_uniform          W ~ U(−a, a), a = √(6 / fan_in)                (Kaiming, ReLU gain √2)
he_normal           W ~ N(0, 2 / fan_in)
lecun_normal        W ~ N(0, 1 / fan_in)
torch               W, b ~ U(−1/√fan_in, 1/√fan_in)  (PyTorch ``nn.Linear`` default)
==================  =========================================================

Biases start at zero for every scheme except ``torch``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def _uniform(shape, rng: np.random.Generator, dtype, a: float) -> np.ndarray:
    # Generator.uniform has no dtype argument; scale U[0, 1) drawn in the target dtype instead.
    u = rng.random(shape, dtype=dtype)
    u *= 2.0 * a
    u -= a
    return u


def _normal(shape, rng: np.random.Generator, dtype, std: float) -> np.ndarray:
    w = rng.standard_normal(shape, dtype=dtype)
    w *= std
    return w


def zeros(shape, rng, dtype) -> np.ndarray:
    """W = 0 (every unit identical: the symmetry that random starts break)."""
    return np.zeros(shape, dtype=dtype)


def normal(shape, rng, dtype, std: float = 0.01) -> np.ndarray:
    """W ~ N(0, std²)."""
    return _normal(shape, rng, dtype, std)


def uniform(shape, rng, dtype, a: float = 0.05) -> np.ndarray:
    """W ~ U(−a, a)."""
    return _uniform(shape, rng, dtype, a)


def xavier_uniform(shape, rng, dtype) -> np.ndarray:
    """W ~ U(−a, a), a = √(6 / (fan_in + fan_out)): keeps Var(z) ≈ Var(a) for tanh and sigmoid."""
    fan_out, fan_in = shape
    return _uniform(shape, rng, dtype, math.sqrt(6.0 / (fan_in + fan_out)))


def xavier_normal(shape, rng, dtype) -> np.ndarray:
    """W ~ N(0, 2 / (fan_in + fan_out))."""
    fan_out, fan_in = shape
    return _normal(shape, rng, dtype, math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(shape, rng, dtype) -> np.ndarray:
    """W ~ U(−a, a), a = √(6 / fan_in): Var(W) = 2 / fan_in, compensating ReLU's halving."""
    return _uniform(shape, rng, dtype, math.sqrt(6.0 / shape[1]))


def he_normal(shape, rng, dtype) -> np.ndarray:
    """W ~ N(0, 2 / fan_in)."""
    return _normal(shape, rng, dtype, math.sqrt(2.0 / shape[1]))


def lecun_normal(shape, rng, dtype) -> np.ndarray:
    """W ~ N(0, 1 / fan_in)."""
    return _normal(shape, rng, dtype, math.sqrt(1.0 / shape[1]))


def torch(shape, rng, dtype) -> np.ndarray:
    """W ~ U(−1/√fan_in, 1/√fan_in): PyTorch's ``kaiming_uniform_(a=√5)`` for ``nn.Linear``."""
    return _uniform(shape, rng, dtype, 1.0 / math.sqrt(shape[1]))


INITIALIZERS: dict[str, Callable] = {
    f.__name__: f
    for f in (zeros, normal, uniform, xavier_uniform, xavier_normal, he_uniform, he_normal, lecun_normal, torch)
}


def get(name) -> Callable:
    """The initialiser called ``name`` (a callable is returned as it is)."""
    if callable(name):
        return name
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initialiser {name!r}; choose one of {', '.join(INITIALIZERS)}")
    return INITIALIZERS[name]


def initialize(init, shape: tuple[int, int], rng: np.random.Generator, dtype, bias: bool):
    """``(W, b)`` for a Dense layer of ``shape = (n_out, n_in)``; ``b`` is None without bias.

    The generator draws W first, then b (for ``torch``), so a seed fixes both.
    """
    fn = get(init)
    W = fn(shape, rng, dtype)
    if W.shape != shape or W.dtype != dtype:
        raise ValueError(f"initialiser {init!r} returned {W.shape} {W.dtype}, expected {shape} {np.dtype(dtype).name}")
    if not bias:
        return W, None
    if fn is torch:
        return W, _uniform((shape[0],), rng, dtype, 1.0 / math.sqrt(shape[1]))
    return W, np.zeros(shape[0], dtype=dtype)
