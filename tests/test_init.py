"""Initialisers: each distribution's bounds, mean and spread within sampling error.

Tolerances are 5 standard errors computed from the sample size, so a wrong constant
(√6 vs √3, fan_in vs fan_out, std vs variance) fails while a correct one passes.
"""

import math

import numpy as np
import pytest

import deltaflow as df
from deltaflow.nn import init as initializers

SHAPE = (300, 700)  # (n_out, n_in): fan_in = 700, fan_out = 300; 210,000 draws
FAN_OUT, FAN_IN = SHAPE
N = FAN_OUT * FAN_IN
PHI_1 = 0.6826894921370859  # P(|Z| < 1) for a standard normal

UNIFORM = {
    "uniform": 0.05,
    "xavier_uniform": math.sqrt(6.0 / (FAN_IN + FAN_OUT)),
    "he_uniform": math.sqrt(6.0 / FAN_IN),
    "torch": 1.0 / math.sqrt(FAN_IN),
}
NORMAL = {
    "normal": 0.01,
    "xavier_normal": math.sqrt(2.0 / (FAN_IN + FAN_OUT)),
    "he_normal": math.sqrt(2.0 / FAN_IN),
    "lecun_normal": math.sqrt(1.0 / FAN_IN),
}


def _draw(name, seed=0, dtype=np.float64, shape=SHAPE):
    return initializers.get(name)(shape, np.random.default_rng(seed), dtype)


@pytest.mark.parametrize("name", list(UNIFORM))
def test_uniform_family(name):
    a = UNIFORM[name]
    W = _draw(name)
    assert W.shape == SHAPE
    assert W.min() >= -a and W.max() <= a
    # the extremes of N uniform draws come within a(1 − 20/N) of ±a except with prob. e^-10
    assert W.max() > a * (1 - 20 / N) and W.min() < -a * (1 - 20 / N)
    var = a * a / 3
    assert abs(W.mean()) < 5 * math.sqrt(var / N)
    # Var(s²) = (μ₄ − σ⁴)/N with μ₄ = a⁴/5 for U(−a, a)
    assert abs(W.var() - var) < 5 * math.sqrt((a**4 / 5 - var**2) / N)


@pytest.mark.parametrize("name", list(NORMAL))
def test_normal_family(name):
    std = NORMAL[name]
    W = _draw(name)
    assert W.shape == SHAPE
    assert abs(W.mean()) < 5 * std / math.sqrt(N)
    # Var(s²) = 2σ⁴/N for a normal sample
    assert abs(W.var() - std**2) < 5 * math.sqrt(2 / N) * std**2
    # shape of the distribution, not only its spread: 68.3 % within one σ
    inside = np.mean(np.abs(W) < std)
    assert abs(inside - PHI_1) < 5 * math.sqrt(PHI_1 * (1 - PHI_1) / N)


def test_fan_in_is_the_second_axis():
    tall = _draw("he_normal", shape=(4000, 50))
    wide = _draw("he_normal", shape=(50, 4000))
    assert abs(tall.std() - math.sqrt(2 / 50)) < 0.02 * math.sqrt(2 / 50)
    assert abs(wide.std() - math.sqrt(2 / 4000)) < 0.02 * math.sqrt(2 / 4000)


def test_torch_bias_bound():
    n_in, n_out = 9, 20_000
    W, b = initializers.initialize("torch", (n_out, n_in), np.random.default_rng(1), np.float64, bias=True)
    a = 1 / 3
    assert np.all(np.abs(b) <= a) and b.max() > a * (1 - 20 / n_out)
    assert abs(b.var() - a * a / 3) < 5 * math.sqrt((a**4 / 5 - a**4 / 9) / n_out)


@pytest.mark.parametrize("name", [n for n in initializers.INITIALIZERS if n != "torch"])
def test_bias_is_zero_except_for_torch(name):
    W, b = initializers.initialize(name, (5, 4), np.random.default_rng(0), np.float32, bias=True)
    assert b.shape == (5,) and b.dtype == np.float32 and not b.any()
    W, b = initializers.initialize(name, (5, 4), np.random.default_rng(0), np.float32, bias=False)
    assert b is None


def test_zeros():
    W = _draw("zeros", shape=(3, 4))
    assert W.shape == (3, 4) and not W.any()


@pytest.mark.parametrize("name", list(initializers.INITIALIZERS))
def test_seeded_determinism(name):
    a, b = _draw(name, seed=7, shape=(20, 30)), _draw(name, seed=7, shape=(20, 30))
    np.testing.assert_array_equal(a, b)
    if name != "zeros":
        assert not np.array_equal(a, _draw(name, seed=8, shape=(20, 30)))


@pytest.mark.parametrize("name", list(initializers.INITIALIZERS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype(name, dtype):
    W = _draw(name, dtype=dtype, shape=(6, 5))
    assert W.dtype == dtype and W.shape == (6, 5)
    d = df.Dense(5, 6, init=name, dtype=dtype, rng=0)
    assert d.W.value.dtype == dtype and d.b.value.dtype == dtype


def test_float32_statistics():
    a = UNIFORM["xavier_uniform"]
    W = _draw("xavier_uniform", dtype=np.float32)
    assert W.min() >= -a and W.max() <= a
    assert abs(W.astype(np.float64).var() - a * a / 3) < 5 * math.sqrt((a**4 / 5 - a**4 / 9) / N)


def test_get_and_errors():
    assert initializers.get("he_normal") is initializers.he_normal
    fn = lambda shape, rng, dtype: np.zeros(shape, dtype)  # noqa: E731
    assert initializers.get(fn) is fn
    with pytest.raises(ValueError, match="unknown initialiser 'glorot'"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="returned"):
        initializers.initialize(lambda s, r, d: np.zeros((1, 1), d), (2, 3), np.random.default_rng(0), np.float64, True)
    with pytest.raises(ValueError, match="returned"):
        initializers.initialize(lambda s, r, d: np.zeros(s, np.float32), (2, 3), np.random.default_rng(0), np.float64, True)
