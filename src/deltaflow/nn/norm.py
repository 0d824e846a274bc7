"""Normalisation layers with PyTorch's semantics and defaults (eps = 1e-5, momentum = 0.1).

BatchNorm normalises each feature over the batch; LayerNorm normalises each example over
its features. Both then scale and shift: ``y = γ ⊙ ẑ + β``. Shapes: (batch, n) in and out.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from deltaflow._checks import as_dtype, check_input, integer, real
from deltaflow.nn.layers import Layer, Param


def _normalised_backward(dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axis: int) -> np.ndarray:
    """dL/dz for ẑ = (z − μ)/√(σ² + ε) with μ, σ² (biased) taken over ``axis`` of size m:

    dz = (1/σ̂) · (dẑ − mean(dẑ) − ẑ ⊙ mean(dẑ ⊙ ẑ)), means over ``axis``.
    """
    mean_d = dxhat.mean(axis=axis, keepdims=True)
    mean_dx = (dxhat * xhat).mean(axis=axis, keepdims=True)
    return (dxhat - mean_d - xhat * mean_dx) * inv_std


class BatchNorm(Layer):
    """Batch normalisation over the batch axis.

    Training, for a batch z of shape (B, n)::

        μ_B = (1/B) Σ_i z_i,   σ²_B = (1/B) Σ_i (z_i − μ_B)²
        ẑ_i = (z_i − μ_B) / √(σ²_B + ε),   y_i = γ ⊙ ẑ_i + β
        running_mean ← (1 − m)·running_mean + m·μ_B
        running_var  ← (1 − m)·running_var  + m·σ²_B·B/(B − 1)   (unbiased)

    Eval: ẑ = (z − running_mean)/√(running_var + ε). Parameters: γ (ones), β (zeros), in that order.
    """

    role = "norm"
    spec_type = "BatchNorm"

    def __init__(self, n: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float32):
        self.n = integer(n, "BatchNorm n")
        self.eps = real(eps, "BatchNorm eps", low_open=True)
        self.momentum = real(momentum, "BatchNorm momentum", high=1.0)
        self.dtype = as_dtype(dtype)
        self.gamma = Param(np.ones(self.n, dtype=self.dtype), "gamma")
        self.beta = Param(np.zeros(self.n, dtype=self.dtype), "beta")
        self.running_mean = np.zeros(self.n, dtype=self.dtype)
        self.running_var = np.ones(self.n, dtype=self.dtype)
        self._cache = None

    def __repr__(self) -> str:
        return f"BatchNorm({self.n})"

    def spec(self) -> dict:
        return {"type": "BatchNorm", "n": self.n, "eps": self.eps, "momentum": self.momentum, "dtype": self.dtype.name}

    @classmethod
    def from_spec(cls, spec: dict) -> BatchNorm:
        return cls(spec["n"], eps=spec["eps"], momentum=spec["momentum"], dtype=spec["dtype"])

    def parameters(self) -> list[Param]:
        return [self.gamma, self.beta]

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        yield "running_mean", self.running_mean
        yield "running_var", self.running_var

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        check_input(x, self, self.n, self.dtype)
        if training:
            B = x.shape[0]
            if B < 2:
                raise ValueError(f"{self!r}: training needs a batch of at least 2 examples, got {B}")
            mu = x.mean(axis=0)
            xc = x - mu
            var = (xc * xc).mean(axis=0)
            m = self.momentum
            # in place, so references held elsewhere (the state dict's loader) stay valid
            self.running_mean *= 1.0 - m
            self.running_mean += m * mu
            self.running_var *= 1.0 - m
            self.running_var += (m * B / (B - 1)) * var
        else:
            xc = x - self.running_mean
            var = self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = xc * inv_std
        self._cache = (xhat, inv_std, training)
        return xhat * self.gamma.value + self.beta.value

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray:
        self._need_cache(self._cache)
        xhat, inv_std, training = self._cache
        np.sum(dy * xhat, axis=0, out=self.gamma.grad)
        np.sum(dy, axis=0, out=self.beta.grad)
        dxhat = dy * self.gamma.value
        if not training:
            # running statistics are constants: the layer is affine in eval mode
            return dxhat * inv_std
        return _normalised_backward(dxhat, xhat, inv_std, axis=0)


class LayerNorm(Layer):
    """Layer normalisation over the feature axis, per example::

        μ_i = (1/n) Σ_j z_ij,   σ²_i = (1/n) Σ_j (z_ij − μ_i)²
        y_ij = γ_j · (z_ij − μ_i)/√(σ²_i + ε) + β_j

    The same in training and eval. Parameters: γ (ones), β (zeros), in that order.
    """

    role = "norm"
    spec_type = "LayerNorm"

    def __init__(self, n: int, eps: float = 1e-5, dtype=np.float32):
        self.n = integer(n, "LayerNorm n")
        self.eps = real(eps, "LayerNorm eps", low_open=True)
        self.dtype = as_dtype(dtype)
        self.gamma = Param(np.ones(self.n, dtype=self.dtype), "gamma")
        self.beta = Param(np.zeros(self.n, dtype=self.dtype), "beta")
        self._cache = None

    def __repr__(self) -> str:
        return f"LayerNorm({self.n})"

    def spec(self) -> dict:
        return {"type": "LayerNorm", "n": self.n, "eps": self.eps, "dtype": self.dtype.name}

    @classmethod
    def from_spec(cls, spec: dict) -> LayerNorm:
        return cls(spec["n"], eps=spec["eps"], dtype=spec["dtype"])

    def parameters(self) -> list[Param]:
        return [self.gamma, self.beta]

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        check_input(x, self, self.n, self.dtype)
        xc = x - x.mean(axis=1, keepdims=True)
        inv_std = 1.0 / np.sqrt((xc * xc).mean(axis=1, keepdims=True) + self.eps)
        xhat = xc * inv_std
        self._cache = (xhat, inv_std)
        return xhat * self.gamma.value + self.beta.value

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray:
        self._need_cache(self._cache)
        xhat, inv_std = self._cache
        np.sum(dy * xhat, axis=0, out=self.gamma.grad)
        np.sum(dy, axis=0, out=self.beta.grad)
        return _normalised_backward(dy * self.gamma.value, xhat, inv_std, axis=1)
