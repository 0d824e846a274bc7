"""Parameters and the layers that hold them: ``Param``, ``Layer``, ``Dense``, ``Dropout``.

Every layer follows the engine contract: ``forward(x, training)`` keeps what its backward
needs; ``backward(dy, input_grad=True)`` fills ``p.grad`` of its parameters and returns the
gradient for the layer below. Arrays are batch-first: ``x`` has shape (batch, n_in).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from deltaflow._checks import as_dtype, check_input, integer, make_rng
from deltaflow._kernels import add_bias, column_sum
from deltaflow.nn import init as initializers


class Param:
    """A trainable array and its gradient.

    ``value`` and ``grad`` have the same shape and dtype; ``backward`` overwrites ``grad``
    (gradients are set, not accumulated). ``name`` is the notation's name ("W", "b", "gamma").
    """

    __slots__ = ("value", "grad", "name")

    def __init__(self, value: np.ndarray, name: str):
        self.value = value
        self.grad = np.zeros_like(value)
        self.name = name

    def __repr__(self) -> str:
        return f"Param({self.name}, shape={self.value.shape}, dtype={self.value.dtype.name})"


# spec "type" → the Layer class that rebuilds it (each class with a ``spec_type`` adds itself)
LAYER_TYPES: dict[str, type[Layer]] = {}


def from_spec(spec: dict) -> Layer:
    """A new layer from ``layer.spec()`` (weights start at zero; load them after)."""
    cls = LAYER_TYPES.get(spec.get("type")) if isinstance(spec, dict) else None
    if cls is None:
        raise ValueError(f"unknown layer spec {spec!r}")
    return cls.from_spec(spec)


class Layer:
    """Base class: a differentiable map of a batch, with optional parameters and buffers.

    Each layer describes itself: ``spec()`` is the JSON-able description a model file
    stores (weights excluded) and ``from_spec`` rebuilds it; ``role`` says what it is to
    the probes: "affine" (W·a + b), "norm" (a normalisation), "activation" (σ), or None.
    """

    training = True
    role: str | None = None
    spec_type: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "spec_type" in cls.__dict__:
            LAYER_TYPES[cls.spec_type] = cls

    def spec(self) -> dict:
        """A JSON-able description of this layer, enough to rebuild it (weights excluded)."""
        raise ValueError(f"cannot save layer {self!r}: no file format for {type(self).__name__}")

    @classmethod
    def from_spec(cls, spec: dict) -> Layer:
        """The layer that ``spec`` (from ``spec()``) describes, its weights at zero."""
        raise ValueError(f"unknown layer spec {spec!r}")

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        """y = f(x) for a batch x : (batch, n_in) -> (batch, n_out); keeps what backward needs.

        ``training=False`` selects inference behaviour (running statistics, no dropout).
        """
        raise NotImplementedError

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Given dy = ∂L/∂y : (batch, n_out), set ∂L/∂θ in ``p.grad`` for this layer's
        parameters and return ∂L/∂x : (batch, n_in). Raises before any forward.

        ``input_grad=False`` says the caller will not use ∂L/∂x (the first layer of a
        network in a training step): a layer whose ∂L/∂x is a product of its own (``Dense``)
        skips it and returns None; a layer that computes ∂L/∂x on the way to its parameters'
        gradients, or has none, ignores the flag and returns ∂L/∂x as usual.
        """
        raise NotImplementedError

    def parameters(self) -> list[Param]:
        """This layer's own Params, in a fixed order."""
        return []

    def children(self) -> list[Layer]:
        """Layers nested inside this one (containers override this)."""
        return []

    def named_parameters(self) -> Iterator[tuple[str, Param]]:
        """(qualified name, Param) pairs; containers prefix their children's names."""
        for p in self.parameters():
            yield p.name, p

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """(name, array) pairs of non-trainable state saved with the model (running statistics)."""
        return iter(())

    def n_out(self, n_in: int) -> int:
        """Width of the output for an input of width ``n_in`` (shape-preserving by default)."""
        return n_in

    def _need_cache(self, cached) -> None:
        if cached is None:
            raise ValueError(f"{self!r}: backward() called before forward()")


class Dense(Layer):
    """Affine map ``z = W·a + b``, computed for a batch as ``Z = A @ W.T + b``.

    Parameters
    ----------
    n_in, n_out : widths; ``W`` has shape (n_out, n_in) and ``b`` shape (n_out,).
    init : initialiser name or callable ``(shape, rng, dtype) -> array`` for ``W``
        (see ``deltaflow.nn.init``); ``b`` starts at zero except for ``init="torch"``.
    bias : whether to learn ``b``.
    dtype : float32 (default) or float64.
    rng : ``np.random.Generator`` or int seed for the initialiser.

    Backward, for ``delta = dL/dZ`` of shape (batch, n_out)::

        dL/dW = deltaᵀ · A      (n_out, n_in)
        dL/db = Σ_batch delta   (n_out,)
        dL/dA = delta · W       (batch, n_in)
    """

    role = "affine"
    spec_type = "Dense"
    # how many probes want δ kept: while positive, backward keeps a reference to its
    # ``dy`` = δ = ∂L/∂Z in ``_delta`` (a probe reads it after the step; no copy is made)
    keep_delta = 0

    def __init__(self, n_in: int, n_out: int, init="torch", bias: bool = True, dtype=np.float32, rng=None):
        self.n_in = integer(n_in, "Dense n_in")
        self.out_features = integer(n_out, "Dense n_out")
        self.dtype = as_dtype(dtype)
        gen = make_rng(rng)
        W, b = initializers.initialize(init, (self.out_features, self.n_in), gen, self.dtype, bias)
        self.W = Param(W, "W")
        self.b = Param(b, "b") if bias else None
        self._a = None

    def __repr__(self) -> str:
        return f"Dense({self.n_in}→{self.out_features})"

    def n_out(self, n_in: int) -> int:
        return self.out_features

    def spec(self) -> dict:
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.out_features, "bias": self.b is not None,
                "dtype": self.dtype.name}

    @classmethod
    def from_spec(cls, spec: dict) -> Dense:
        return cls(spec["n_in"], spec["n_out"], init="zeros", bias=spec["bias"], dtype=spec["dtype"])

    def parameters(self) -> list[Param]:
        return [self.W] if self.b is None else [self.W, self.b]

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        check_input(x, self, self.n_in, self.dtype)
        self._a = x
        # W.T is a view (Fortran order): BLAS reads it transposed, nothing is copied
        z = x @ self.W.value.T
        if self.b is not None:
            add_bias(z, self.b.value)
        return z

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Fill ∂L/∂W and ∂L/∂b from ``dy = delta`` : (batch, n_out) and return ∂L/∂A.

        ``input_grad=False`` skips ∂L/∂A = delta · W (and returns None): the first layer of a
        network needs no gradient for its input, and that product costs as much as ∂L/∂W.
        """
        a = self._a
        if a is None:
            self._need_cache(a)
        delta = check_input(dy, self, self.out_features, self.dtype, "backward")
        if self.keep_delta:
            self._delta = delta
        np.matmul(delta.T, a, out=self.W.grad)  # W.grad = deltaᵀ · A, straight into the gradient
        if self.b is not None:
            column_sum(delta, out=self.b.grad)
        # (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾, the first factor of δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ'(z⁽ˡ⁾), for each example
        return delta @ self.W.value if input_grad else None


class Dropout(Layer):
    """Inverted dropout: in training ``y = x ⊙ m / (1 − p)`` with ``m_ij ~ Bernoulli(1 − p)``;
    in eval mode ``y = x``. Backward multiplies by the same mask: ``dx = dy ⊙ m / (1 − p)``.

    ``rng`` (Generator or seed) draws the masks, so a seeded run repeats exactly.
    """

    spec_type = "Dropout"

    def __init__(self, p: float = 0.5, rng=None):
        self.p = self.checked_p(p)
        self.rng = make_rng(rng)
        self._mask = None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"

    @staticmethod
    def checked_p(p) -> float:
        """``p`` as a float if it is a probability, else ``ValueError``."""
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"Dropout p must be in [0, 1], got {p!r}")
        return float(p)

    def spec(self) -> dict:
        return {"type": "Dropout", "p": self.p}

    @classmethod
    def from_spec(cls, spec: dict) -> Dropout:
        return cls(spec["p"])

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        check_input(x, self, None, None)
        if not training or self.p == 0.0:
            self._mask = 1.0
            return x
        keep = 1.0 - self.p
        # p = 1 drops everything; the scale 1/(1-p) would divide by zero
        scale = 0.0 if keep == 0.0 else 1.0 / keep
        self._mask = (self.rng.random(x.shape, dtype=x.dtype) < keep) * x.dtype.type(scale)
        return x * self._mask

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray:
        self._need_cache(self._mask)
        return dy * self._mask
