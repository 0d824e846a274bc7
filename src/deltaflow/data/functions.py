"""1-D regression targets: a function of one input, sampled with Gaussian noise on y.

Every function is ``fn(n_samples, noise, rng, low=-3.0, high=3.0) -> (X, y)`` with
x ~ U(low, high), ``X : (n_samples, 1)`` float64 and ``y = f(x) + noise·N(0, 1)``,
``y : (n_samples,)`` float64. Here ``noise`` is the standard deviation added to y
(0 … ``MAX_NOISE``), not a fraction as in the 2-D sets.
"""

from __future__ import annotations

import numpy as np

from deltaflow._checks import make_rng, positive_int

# the std added to y: twice the amplitude of sin, where the curve is already lost in it
MAX_NOISE = 2.0


def _sample(n_samples, noise, rng, low, high, f) -> tuple[np.ndarray, np.ndarray]:
    n = positive_int(n_samples, "n_samples")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)) or not (
            0 <= noise <= MAX_NOISE):
        raise ValueError(f"noise must be a number in [0, {MAX_NOISE:g}] (the std added to y), got {noise!r}")
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"need finite low < high, got low={low!r}, high={high!r}")
    rng = make_rng(rng)
    x = rng.uniform(float(low), float(high), n)
    y = f(x) + float(noise) * rng.standard_normal(n)
    return x[:, None], y


def sin(n_samples: int, noise: float, rng, low: float = -3.0, high: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """y = sin(x) + noise·N(0, 1), x ~ U(low, high). Returns ``X : (n, 1)``, ``y : (n,)``."""
    return _sample(n_samples, noise, rng, low, high, np.sin)


# The public name is the function sampled; inside this module the builtin abs is not used.
def abs(  # noqa: A001
    n_samples: int, noise: float, rng, low: float = -3.0, high: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """y = |x| + noise·N(0, 1), x ~ U(low, high). Returns ``X : (n, 1)``, ``y : (n,)``."""
    return _sample(n_samples, noise, rng, low, high, np.abs)


def step(n_samples: int, noise: float, rng, low: float = -3.0, high: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """y = H(x) + noise·N(0, 1), the Heaviside step H(x) = 1 if x ≥ 0 else 0.

    Returns ``X : (n, 1)``, ``y : (n,)``.
    """
    return _sample(n_samples, noise, rng, low, high, lambda x: (x >= 0).astype(np.float64))


def sawtooth(
    n_samples: int, noise: float, rng, low: float = -3.0, high: float = 3.0, teeth: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """y = frac(teeth·(x − low)/(high − low)) + noise·N(0, 1): ``teeth`` ramps from 0 up to 1.

    ``frac(u) = u − ⌊u⌋``, so on [low, high] the curve climbs from 0 towards 1 and drops
    back to 0 ``teeth − 1`` times. Returns ``X : (n, 1)``, ``y : (n,)``.
    """
    teeth = positive_int(teeth, "teeth")

    def f(x):  # called only after _sample has checked low < high
        u = teeth * (x - low) / (high - low)
        return u - np.floor(u)

    return _sample(n_samples, noise, rng, low, high, f)
