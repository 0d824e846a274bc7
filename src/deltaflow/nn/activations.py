"""Activation functions as layers: ``a = σ(z)`` element-wise, and ``derivative(z) = σ'(z)``.

Backward is the element-wise factor of the δ recursion, ``dL/dz = dL/da ⊙ σ'(z)``, written
from what forward saved (``a`` where σ' is a function of ``a``, as scikit-learn does), so
backward never recomputes the forward pass. Shapes: ``z`` and ``a`` are (batch, n).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from deltaflow import _kernels
from deltaflow._checks import check_input
from deltaflow.nn.layers import Layer


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^(−z)), evaluated without overflow for any finite z (keeps dtype)."""
    return special.expit(z)


class Activation(Layer):
    """Base for activations: parameter-free, shape-preserving layers.

    Each activation describes itself, so that nothing else keeps a list of them:

    - ``name``: its name in configs, model files and the page;
    - ``max_derivative``: sup_z σ'(z) (sigmoid 1/4, so Π σ' ≤ 4⁻ᴸ through L layers);
    - ``saturates``: σ'(z) → 0 as |z| → ∞ (sigmoid, tanh): a unit can be saturated;
    - ``can_die``: σ'(z) is 0 or nearly 0 on all of z ≤ 0 (the ReLU family): a unit whose
      z ≤ 0 for every example passes no gradient back;
    - ``default_init``: the initialiser ``mlp(init="auto")`` gives the Dense layer before it
      (He for the ReLU family, Xavier for the rest);
    - ``derivative_text``: σ'(z) as an equation, for ``explain`` and the page.
    """

    role = "activation"
    spec_type = "activation"
    name = "activation"
    max_derivative = 1.0
    saturates = False
    can_die = False
    default_init = "xavier_uniform"
    derivative_text = "σ'(z)"

    def __repr__(self) -> str:
        return type(self).__name__ + "()"

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.f(z)

    def f(self, z: np.ndarray) -> np.ndarray:
        """σ(z), element-wise, same shape and dtype as ``z``."""
        raise NotImplementedError

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """σ'(z), element-wise, same shape and dtype as ``z``."""
        raise NotImplementedError

    def spec(self) -> dict:
        """A JSON-able description that ``ACTIVATIONS[spec["name"]](**rest)`` rebuilds."""
        return {"type": "activation", "name": self.name, **self._spec_args()}

    @classmethod
    def from_spec(cls, spec: dict) -> Activation:
        if spec.get("name") not in ACTIVATIONS:
            raise ValueError(f"unknown layer spec {spec!r}")
        return ACTIVATIONS[spec["name"]](**{k: v for k, v in spec.items() if k not in ("type", "name")})

    def _spec_args(self) -> dict:
        return {}

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        check_input(x, self, None, None)
        self._z = x
        self._a = self.f(x)
        return self._a

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray:
        """dL/dz = dy ⊙ σ'(z) : (batch, n), from what forward saved; ``input_grad`` is
        ignored (dL/dz is all this layer computes)."""
        self._need_cache(getattr(self, "_a", None))
        # ⊙ σ'(z⁽ˡ⁾), the second factor of δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ'(z⁽ˡ⁾)
        return dy * self._local_grad()

    def _local_grad(self) -> np.ndarray:
        """σ'(z) from the cached forward values."""
        return self.derivative(self._z)


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)), range (0, 1); σ'(z) = σ(z)(1 − σ(z)) ≤ 1/4, equal at z = 0."""

    name = "sigmoid"
    max_derivative = 0.25
    saturates = True
    derivative_text = "σ'(z) = σ(z)(1 − σ(z))"

    def f(self, z):
        return sigmoid(z)

    def derivative(self, z):
        s = sigmoid(z)
        return s * (1.0 - s)

    def _local_grad(self):
        return self._a * (1.0 - self._a)


class Tanh(Activation):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), range (−1, 1); tanh'(z) = 1 − tanh²(z)."""

    name = "tanh"
    saturates = True
    derivative_text = "σ'(z) = 1 − tanh²(z)"

    def f(self, z):
        return np.tanh(z)

    def derivative(self, z):
        t = np.tanh(z)
        return 1.0 - t * t

    def _local_grad(self):
        return 1.0 - self._a * self._a


class ReLU(Activation):
    """ReLU(z) = max(0, z); ReLU'(z) = 1 for z > 0 and 0 otherwise (0 at z = 0, as PyTorch)."""

    name = "relu"
    can_die = True
    default_init = "he_normal"
    derivative_text = "σ'(z) = 1 if z > 0 else 0"

    def f(self, z):
        return _kernels.relu(z)

    def derivative(self, z):
        return (z > 0).astype(z.dtype)

    def backward(self, dy, input_grad=True):
        a = getattr(self, "_a", None)
        if a is None:
            self._need_cache(a)
        # dy ⊙ ReLU'(z): dy where a > 0 (⇔ z > 0), else 0
        return _kernels.relu_backward(dy, a)


class LeakyReLU(Activation):
    """LeakyReLU(z) = z for z > 0, ``negative_slope``·z otherwise; derivative 1 or the slope."""

    name = "leaky_relu"
    can_die = True
    default_init = "he_normal"

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = float(negative_slope)

    def __repr__(self):
        return f"LeakyReLU({self.negative_slope})"

    def _spec_args(self):
        return {"negative_slope": self.negative_slope}

    @property
    def max_derivative(self):
        return max(1.0, abs(self.negative_slope))

    @property
    def derivative_text(self):
        return f"σ'(z) = 1 if z > 0 else {self.negative_slope:g}"

    def f(self, z):
        return np.where(z > 0, z, z * self.negative_slope)

    def derivative(self, z):
        return np.where(z > 0, 1.0, self.negative_slope).astype(z.dtype)


class ELU(Activation):
    """ELU(z) = z for z > 0, α(e^z − 1) otherwise; derivative 1 for z > 0, α·e^z = a + α otherwise."""

    name = "elu"
    can_die = True
    default_init = "he_normal"

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def __repr__(self):
        return f"ELU({self.alpha})"

    def _spec_args(self):
        return {"alpha": self.alpha}

    @property
    def max_derivative(self):
        return max(1.0, self.alpha)

    @property
    def derivative_text(self):
        return f"σ'(z) = 1 if z > 0 else {self.alpha:g}·e^z"

    def f(self, z):
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0.0)))

    def derivative(self, z):
        return np.where(z > 0, 1.0, self.alpha * np.exp(np.minimum(z, 0.0))).astype(z.dtype)

    def _local_grad(self):
        return np.where(self._z > 0, 1.0, self._a + self.alpha).astype(self._a.dtype)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Activation):
    """GELU(z) = z·Φ(z), Φ the standard normal CDF; GELU'(z) = Φ(z) + z·φ(z).

    ``approximate="tanh"``: GELU(z) ≈ ½z(1 + tanh(u)), u = √(2/π)(z + 0.044715 z³), with
    derivative ½(1 + tanh u) + ½z(1 − tanh² u)·√(2/π)(1 + 3·0.044715 z²). Both match PyTorch.
    The tanh form is evaluated as ½(1 + tanh u) = σ(2u) and ½(1 − tanh² u) = 2σ(2u)σ(−2u):
    in float32, 1 − tanh² u loses every digit once tanh u rounds to ±(1 − ulp).
    """

    name = "gelu"
    default_init = "he_normal"

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def __repr__(self):
        return f"GELU(approximate={self.approximate!r})"

    def _spec_args(self):
        return {"approximate": self.approximate}

    @property
    def max_derivative(self):
        if self.approximate == "tanh":
            return 1.1289930686587717  # its peak, at z ≈ 1.41850, found numerically
        # Φ(z) + z·φ(z) peaks at z = √2 (its derivative φ(z)(2 − z²) vanishes there): Φ(√2) + e⁻¹/√π
        return 0.5 * (1.0 + math.erf(1.0)) + math.exp(-1.0) / math.sqrt(math.pi)

    @property
    def derivative_text(self):
        if self.approximate == "tanh":
            return "σ'(z) = d/dz ½z(1 + tanh(√(2/π)(z + 0.044715z³)))"
        return "σ'(z) = Φ(z) + z·φ(z)"

    def f(self, z):
        if self.approximate == "tanh":
            return z * sigmoid(2.0 * _SQRT_2_OVER_PI * (z + 0.044715 * z**3))
        return 0.5 * z * (1.0 + special.erf(z * _INV_SQRT_2))

    def derivative(self, z):
        if self.approximate == "tanh":
            u2 = 2.0 * _SQRT_2_OVER_PI * (z + 0.044715 * z**3)
            s = sigmoid(u2)
            return s + z * s * sigmoid(-u2) * (2.0 * _SQRT_2_OVER_PI) * (1.0 + 3 * 0.044715 * z * z)
        cdf = 0.5 * (1.0 + special.erf(z * _INV_SQRT_2))
        pdf = _INV_SQRT_2PI * np.exp(-0.5 * z * z)
        return cdf + z * pdf


class Identity(Activation):
    """Identity (the "linear" activation): a = z, σ'(z) = 1."""

    name = "identity"
    derivative_text = "σ'(z) = 1"

    def f(self, z):
        return z

    def derivative(self, z):
        return np.ones_like(z)

    def backward(self, dy, input_grad=True):
        self._need_cache(getattr(self, "_a", None))
        return dy


class Step(Activation):
    """Heaviside step of the perceptron: a = 1 if z > 0 else 0.

    σ'(z) is 0 wherever it exists, so no gradient reaches the layers below:
    backpropagating through Step raises instead of silently returning zeros.
    """

    name = "step"
    max_derivative = 0.0
    derivative_text = "σ'(z) = 0 (undefined at z = 0)"

    def f(self, z):
        return (z > 0).astype(z.dtype)

    def derivative(self, z):
        return np.zeros_like(z)

    def backward(self, dy, input_grad=True):
        raise ValueError(
            "Step has no useful gradient (0 almost everywhere, undefined at 0): "
            "train it with the perceptron rule, or use Sigmoid for backpropagation"
        )


ACTIVATIONS: dict[str, type[Activation]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "gelu": GELU,
    "identity": Identity,
    "linear": Identity,
    "step": Step,
}


def get_activation(name) -> Activation:
    """A new activation layer from its name (``"gelu_tanh"`` is GELU with the tanh form)."""
    if isinstance(name, Activation):
        return name
    if name == "gelu_tanh":
        return GELU(approximate="tanh")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}, gelu_tanh")
    return ACTIVATIONS[name]()
