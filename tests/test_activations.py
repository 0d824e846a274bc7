"""Activations: forward formulas, σ'(z) against central differences, backward from the cache."""

import math

import numpy as np
import pytest
from scipy import special

import deltaflow as df
from deltaflow.nn.activations import ACTIVATIONS, get_activation

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _gelu_tanh(z):
    return 0.5 * z * (1.0 + np.tanh(SQRT_2_OVER_PI * (z + 0.044715 * z**3)))


# name -> (factory, reference forward, has a kink at 0)
CASES = {
    "sigmoid": (df.Sigmoid, lambda z: 1.0 / (1.0 + np.exp(-z)), False),
    "tanh": (df.Tanh, lambda z: (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)), False),
    "relu": (df.ReLU, lambda z: np.where(z > 0, z, 0.0), True),
    "leaky_relu": (df.LeakyReLU, lambda z: np.where(z > 0, z, 0.01 * z), True),
    "leaky_relu_0.2": (lambda: df.LeakyReLU(0.2), lambda z: np.where(z > 0, z, 0.2 * z), True),
    "elu": (df.ELU, lambda z: np.where(z > 0, z, np.exp(z) - 1.0), True),
    "elu_0.5": (lambda: df.ELU(0.5), lambda z: np.where(z > 0, z, 0.5 * (np.exp(z) - 1.0)), True),
    "gelu": (df.GELU, lambda z: z * special.ndtr(z), False),
    "gelu_tanh": (lambda: df.GELU("tanh"), _gelu_tanh, False),
    "identity": (df.Identity, lambda z: z, False),
}
NAMES = list(CASES)


def _grid(kink: bool) -> np.ndarray:
    z = np.linspace(-6.0, 6.0, 2401).reshape(49, 49)
    if kink:
        # central differences straddling the kink at 0 are not derivatives
        z = z[np.abs(z) > 1e-3].reshape(-1, 1)
    return z


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_formula(name):
    make, ref, _ = CASES[name]
    z = np.linspace(-8.0, 8.0, 161).reshape(7, 23)
    np.testing.assert_allclose(make().forward(z), ref(z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_derivative_matches_central_differences(name):
    make, _, kink = CASES[name]
    act = make()
    z = _grid(kink)
    h = 1e-6
    numeric = (act.f(z + h) - act.f(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_backward_is_dy_times_derivative(name):
    make, _, _ = CASES[name]
    rng = np.random.default_rng(1)
    z = rng.standard_normal((6, 5)) * 3
    dy = rng.standard_normal((6, 5))
    act = make()
    act.forward(z)
    np.testing.assert_allclose(act.backward(dy), dy * act.derivative(z), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_alone(name):
    make, _, _ = CASES[name]
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 4))
    y = rng.standard_normal((5, 4))
    assert df.gradcheck(make(), df.MeanSquaredError(), X, y) < 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_gradcheck_between_dense_layers(name):
    make, _, _ = CASES[name]
    rng = np.random.default_rng(3)
    net = df.Sequential(
        [
            df.Dense(3, 6, init="torch", dtype=np.float64, rng=rng),
            make(),
            df.Dense(6, 4, init="torch", dtype=np.float64, rng=rng),
        ]
    )
    X = rng.standard_normal((7, 3))
    y = rng.integers(0, 4, size=7)
    worst, errors = df.gradcheck(net, df.SoftmaxCrossEntropy(), X, y, return_errors=True)
    assert worst < 1e-6, errors


@pytest.mark.parametrize("name", NAMES)
def test_backward_uses_cache_and_repeats(name):
    make, _, _ = CASES[name]
    rng = np.random.default_rng(4)
    act = make()
    with pytest.raises(ValueError, match="backward\\(\\) called before forward\\(\\)"):
        act.backward(np.ones((2, 3)))
    z1, z2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    dy = rng.standard_normal((4, 3))
    act.forward(z1)
    act.forward(z2)
    first = act.backward(dy).copy()
    second = act.backward(dy)
    np.testing.assert_array_equal(first, second)
    # the second forward is the one backward differentiates
    np.testing.assert_allclose(first, dy * act.derivative(z2), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_and_dtypes(name, dtype):
    make, _, _ = CASES[name]
    act = make()
    z = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    for out in (act.forward(z), act.derivative(z), act.backward(np.ones_like(z)), act(z)):
        assert out.shape == z.shape
        assert out.dtype == dtype


def test_derivatives_at_zero_follow_pytorch():
    z = np.zeros((1, 1))
    assert df.ReLU().derivative(z)[0, 0] == 0.0
    assert df.LeakyReLU(0.1).derivative(z)[0, 0] == pytest.approx(0.1)
    assert df.ELU(0.7).derivative(z)[0, 0] == pytest.approx(0.7)
    assert df.GELU().derivative(z)[0, 0] == pytest.approx(0.5)
    assert df.GELU("tanh").derivative(z)[0, 0] == pytest.approx(0.5)
    assert df.Sigmoid().derivative(z)[0, 0] == pytest.approx(0.25)
    assert df.Tanh().derivative(z)[0, 0] == pytest.approx(1.0)
    relu = df.ReLU()
    relu.forward(z)
    assert relu.backward(np.ones((1, 1)))[0, 0] == 0.0


def test_sigmoid_is_stable_for_huge_inputs():
    z = np.array([[-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4]])
    with np.errstate(all="raise"):
        a = df.Sigmoid().forward(z)
        d = df.Sigmoid().derivative(z)
    assert np.all((a >= 0) & (a <= 1))
    assert a[0, 0] == 0.0 and a[0, -1] == 1.0 and a[0, 3] == 0.5
    assert np.all(np.isfinite(d)) and np.all(d >= 0)


def test_ranges():
    z = np.linspace(-20, 20, 401).reshape(1, -1)
    s = df.Sigmoid().forward(z[:, 100:301])
    assert np.all((s > 0) & (s < 1))
    t = df.Tanh().forward(z[:, 150:251])
    assert np.all((t > -1) & (t < 1))
    assert np.all(df.ReLU().forward(z) >= 0)
    assert np.all(df.ELU().forward(z) > -1.0)


def test_elu_backward_from_cached_output_matches_derivative_for_very_negative_z():
    z = np.array([[-50.0, -5.0, -1e-3, 1e-3, 5.0]])
    act = df.ELU(1.3)
    act.forward(z)
    np.testing.assert_allclose(act.backward(np.ones_like(z)), act.derivative(z), rtol=1e-12, atol=1e-15)


def test_step_forward_derivative_and_no_backward():
    step = df.Step()
    z = np.array([[-2.0, 0.0, 1e-9, 3.0]])
    np.testing.assert_array_equal(step.forward(z), [[0.0, 0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(step.derivative(z), np.zeros_like(z))
    with pytest.raises(ValueError, match="Step"):
        step.backward(np.ones_like(z))


def test_get_activation_by_name():
    for name, cls in ACTIVATIONS.items():
        assert type(get_activation(name)) is cls
    assert isinstance(get_activation("linear"), df.Identity)
    g = get_activation("gelu_tanh")
    assert isinstance(g, df.GELU) and g.approximate == "tanh"
    inst = df.Tanh()
    assert get_activation(inst) is inst
    # names give fresh objects: two layers must never share one cache
    assert get_activation("relu") is not get_activation("relu")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        get_activation("swish")
    with pytest.raises(ValueError, match="approximate"):
        df.GELU("erf")


def test_call_is_pure_f():
    act = df.Tanh()
    z = np.array([[0.3, -0.2]])
    np.testing.assert_array_equal(act(z), np.tanh(z))


def _every_activation():
    from deltaflow.nn.activations import ACTIVATIONS, GELU, ELU, LeakyReLU

    return [cls() for cls in ACTIVATIONS.values()] + [GELU(approximate="tanh"), LeakyReLU(0.2), ELU(0.5)]


@pytest.mark.parametrize("act", _every_activation(), ids=repr)
def test_max_derivative_is_the_sup_of_the_derivative(act):
    z = np.linspace(-30.0, 30.0, 600_001)  # steps of 1e-4, through every maximum
    assert float(act.derivative(z).max()) == pytest.approx(act.max_derivative, abs=1e-6)


@pytest.mark.parametrize("act", _every_activation(), ids=repr)
def test_saturates_means_the_derivative_vanishes_at_both_ends(act):
    ends = act.derivative(np.array([-30.0, 30.0]))
    assert act.saturates == bool(np.all(ends < 1e-6 * act.max_derivative) and act.max_derivative > 0)


@pytest.mark.parametrize("act", _every_activation(), ids=repr)
def test_can_die_means_no_gradient_for_very_negative_z(act):
    """The ReLU family: σ'(z) = 1 on all of z > 0, and small (0, a small slope, α·e^z) for z
    very negative, so a unit whose z is negative for every example passes little or nothing."""
    small_below = np.all(act.derivative(np.linspace(-50.0, -10.0, 1001)) <= 0.25)
    one_above = np.all(act.derivative(np.linspace(1e-3, 30.0, 1001)) == 1.0)
    assert act.can_die == bool(small_below and one_above)


@pytest.mark.parametrize("act", _every_activation(), ids=repr)
def test_spec_rebuilds_the_same_activation(act):
    from deltaflow.nn.layers import from_spec

    rebuilt = from_spec(act.spec())
    assert type(rebuilt) is type(act) and rebuilt.spec() == act.spec() and repr(rebuilt) == repr(act)
    z = np.linspace(-5.0, 5.0, 101)
    np.testing.assert_array_equal(rebuilt.f(z), act.f(z))
