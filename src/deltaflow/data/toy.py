"""Toy 2-D data sets on the square [−6, 6]², after TensorFlow Playground's ``dataset.ts``.

Every generator is ``fn(n_samples, noise, rng) -> (X, y)`` with ``X : (n_samples, 2)``
float64 and ``noise`` in [0, 1], the fraction of a fixed perturbation that is applied
(Playground's slider, 0–50 %, is this fraction). Classification sets return
``y : (n_samples,)`` int64 labels 0 … K−1; regression sets return ``y : (n_samples,)``
float64. A seeded ``rng`` gives the same arrays every time. Rows come in a random order,
so a prefix of the data holds every class.

Every point lies inside [−6, 6]²: where a Gaussian draw could leave the square
(``gauss``, ``moons``) the offending points are drawn again, which truncates the
Gaussian to the square rather than piling points up on its border.
"""

from __future__ import annotations

import numpy as np

from deltaflow._checks import make_rng, positive_int

BOX = 6.0  # the square [−BOX, BOX]² that holds every point (Playground's ``radius``)
MAX_NOISE = 1.0  # noise is a fraction of the fixed perturbation


def check_noise(noise) -> float:
    """Return ``noise`` as a float if it lies in [0, MAX_NOISE], else raise ``ValueError``."""
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise ValueError(f"noise must be a number in [0, {MAX_NOISE:g}], got {noise!r}")
    if not 0.0 <= float(noise) <= MAX_NOISE:
        raise ValueError(f"noise must be in [0, {MAX_NOISE:g}], got {noise!r}")
    return float(noise)


def _setup(n_samples, noise, rng) -> tuple[int, float, np.random.Generator]:
    return positive_int(n_samples, "n_samples"), check_noise(noise), make_rng(rng)


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


def _redraw_outside(X: np.ndarray, draw, rng: np.random.Generator) -> np.ndarray:
    """Replace every row of ``X`` outside the square with a fresh ``draw(rows, rng)``."""
    outside = np.flatnonzero(np.abs(X).max(axis=1) > BOX)
    while outside.size:
        X[outside] = draw(outside, rng)
        outside = outside[np.abs(X[outside]).max(axis=1) > BOX]
    return X


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    # Playground's convention: x = r·sin(angle), y = r·cos(angle).
    return np.column_stack([r * np.sin(angle), r * np.cos(angle)])


def circle(n_samples: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """A disc inside a ring: class 1 is the disc, class 0 the ring around it.

    Half the points have radius r ~ U(0, 2.5), half r ~ U(3.5, 5), angle ~ U(0, 2π).
    The label is computed at the point moved by ε ~ U(−5, 5)² · noise:
    ``y = 1 if |x + ε| < 2.5 else 0``; the point itself stays where it was drawn, so
    noise flips labels near the boundary rather than moving points.

    Returns ``X : (n_samples, 2)`` float64 and ``y : (n_samples,)`` int64 in {0, 1}.
    """
    n, noise, rng = _setup(n_samples, noise, rng)
    radius = 5.0
    n_in = n // 2
    r = np.concatenate([rng.uniform(0.0, 0.5 * radius, n_in), rng.uniform(0.7 * radius, radius, n - n_in)])
    X = _polar(r, rng.uniform(0.0, 2.0 * np.pi, n))
    eps = rng.uniform(-radius, radius, (n, 2)) * noise
    y = (np.hypot(*(X + eps).T) < 0.5 * radius).astype(np.int64)
    return _shuffled(X, y, rng)


def xor(n_samples: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """The XOR quadrants: class 1 where x1·x2 ≥ 0, class 0 where the signs differ.

    Each coordinate is u ~ U(−5, 5) pushed 0.3 away from zero (``u + 0.3·sign(u)``), so a
    gap separates the quadrants. The label is computed at the point moved by
    ε ~ U(−5, 5)² · noise: ``y = 1 if (x1 + ε1)(x2 + ε2) ≥ 0 else 0``.

    Returns ``X : (n_samples, 2)`` float64 in [−5.3, 5.3]² and ``y : (n_samples,)`` int64.
    """
    n, noise, rng = _setup(n_samples, noise, rng)
    padding = 0.3
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, padding, -padding)
    eps = rng.uniform(-5.0, 5.0, (n, 2)) * noise
    shifted = X + eps
    y = (shifted[:, 0] * shifted[:, 1] >= 0).astype(np.int64)
    return X, y


def gauss(n_samples: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs: class 1 around (2, 2), class 0 around (−2, −2).

    Each blob is N(c, σ² I) with variance σ² = 0.5 + 7·noise (Playground's map from
    noise 0 → 0.5 and 0.5 → 4, extended linearly to noise 1), truncated to [−6, 6]².

    Returns ``X : (n_samples, 2)`` float64 and ``y : (n_samples,)`` int64 in {0, 1}.
    """
    n, noise, rng = _setup(n_samples, noise, rng)
    std = np.sqrt(0.5 + 7.0 * noise)
    n_pos = n // 2
    y = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n - n_pos, np.int64)])
    centre = np.where(y == 1, 2.0, -2.0)[:, None]

    def draw(rows, rng):
        return centre[rows] + std * rng.standard_normal((len(rows), 2))

    X = _redraw_outside(draw(np.arange(n), rng), draw, rng)
    return _shuffled(X, y, rng)


def spiral_k(n_samples: int, noise: float, rng, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """K interleaved spiral arms, one class per arm.

    Arm k holds n_k ≈ n/K points; its i-th point (i = 0 … n_k−1) has
    ``r = 5·i/n_k`` and ``t = 1.75·2π·i/n_k + 2πk/K`` and sits at
    ``(r·sin t, r·cos t) + ε`` with ε ~ U(−1, 1)² · noise, so every point lies in
    [−6, 6]². With K = 2 this is Playground's spiral.

    Returns ``X : (n_samples, 2)`` float64 and ``y : (n_samples,)`` int64 in [0, K).
    """
    n, noise, rng = _setup(n_samples, noise, rng)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"classes must be an integer >= 2, got {classes!r}")
    sizes = np.full(classes, n // classes)
    sizes[: n % classes] += 1
    y = np.repeat(np.arange(classes, dtype=np.int64), sizes)
    n_k = sizes[y].astype(np.float64)
    i = np.concatenate([np.arange(s) for s in sizes]).astype(np.float64)
    r = 5.0 * i / n_k
    t = 1.75 * 2.0 * np.pi * i / n_k + 2.0 * np.pi * y / classes
    X = _polar(r, t) + rng.uniform(-1.0, 1.0, (n, 2)) * noise
    return _shuffled(X, y, rng)


def spiral(n_samples: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms (``spiral_k`` with K = 2): arm 0 starts at angle 0, arm 1 at π.

    Returns ``X : (n_samples, 2)`` float64 and ``y : (n_samples,)`` int64 in {0, 1}.
    """
    return spiral_k(n_samples, noise, rng, classes=2)


def moons(n_samples: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``, scaled by 3 and centred).

    With t ~ U(0, π): class 0 is ``(cos t, sin t)``, class 1 is ``(1 − cos t, 0.5 − sin t)``;
    both are moved by −(0.5, 0.25), scaled by 3 and perturbed by ε ~ N(0, (3·noise)² I),
    truncated to [−6, 6]². Without noise the points lie in [−4.5, 4.5] × [−2.25, 2.25].

    Returns ``X : (n_samples, 2)`` float64 and ``y : (n_samples,)`` int64 in {0, 1}.
    """
    n, noise, rng = _setup(n_samples, noise, rng)
    n_outer = n // 2
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n - n_outer, np.int64)])
    t = rng.uniform(0.0, np.pi, n)
    outer = np.column_stack([np.cos(t), np.sin(t)])
    inner = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    clean = 3.0 * (np.where(y[:, None] == 0, outer, inner) - np.array([0.5, 0.25]))

    def draw(rows, rng):
        return clean[rows] + 3.0 * noise * rng.standard_normal((len(rows), 2))

    X = _redraw_outside(draw(np.arange(n), rng), draw, rng)
    return _shuffled(X, y, rng)


def plane(n_samples: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """A tilted plane: ``y = ((x1 + ε1) + (x2 + ε2)) / 10``.

    x ~ U(−6, 6)², ε ~ U(−6, 6)² · noise, so y ∈ [−1.2, 1.2] without noise.

    Returns ``X : (n_samples, 2)`` float64 and ``y : (n_samples,)`` float64.
    """
    n, noise, rng = _setup(n_samples, noise, rng)
    X = rng.uniform(-BOX, BOX, (n, 2))
    eps = rng.uniform(-BOX, BOX, (n, 2)) * noise
    y = (X + eps).sum(axis=1) / 10.0
    return X, y


# Playground's six bump centres and signs: a 3 × 2 checkerboard of hills and valleys.
BUMPS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0), (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


def multi_gauss(n_samples: int, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """A sum of six Gaussian bumps: ``y = Σ_k s_k · exp(−|x + ε − c_k|² / 2)``.

    Centres c_k at (−4, ±2.5), (0, ±2.5), (4, ±2.5) with signs s_k = ±1 alternating like
    a checkerboard (``BUMPS``); x ~ U(−6, 6)², ε ~ U(−6, 6)² · noise, so y ∈ (−1.1, 1.1).

    Returns ``X : (n_samples, 2)`` float64 and ``y : (n_samples,)`` float64.
    """
    n, noise, rng = _setup(n_samples, noise, rng)
    X = rng.uniform(-BOX, BOX, (n, 2))
    p = X + rng.uniform(-BOX, BOX, (n, 2)) * noise
    y = np.zeros(n)
    for cx, cy, s in BUMPS:
        y += s * np.exp(-((p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2) / 2.0)
    return X, y
