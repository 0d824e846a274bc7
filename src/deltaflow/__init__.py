"""deltaflow: neural networks and backpropagation computed exactly as the mathematics says.

Main entry points::

    df.mlp([2, 8, 2], activation="tanh")     a network (``Sequential`` of ``Dense`` and activations)
    net.forward(X); net.backward(dL)         z = W·a + b, a = σ(z); the δ recursion fills ∂L/∂θ
    df.SoftmaxCrossEntropy(), df.Adam(...)   losses and optimisers
    df.fit(df.RunConfig(...))                a whole run: data, model, optimiser, history
    df.save_model / df.load_model            ``.npz`` model files (never pickle)
    df.gradcheck(...)                        float64 central differences

The sub-packages show the architecture: ``nn`` (the mathematics), ``optim`` (update rules,
schedules, clipping), ``training`` (config, trainer, runs, model files), ``diagnostics``
(probes, explain), ``viz`` (figures), ``data``, ``experiments`` and ``web`` (the simulator).
The engine (``nn``, ``optim``) needs only NumPy and SciPy and is imported here; ``RunConfig``,
``fit``, ``load_dataset``, ``save_model`` and ``load_model`` bring in the training stack
(pydantic, scikit-learn's data sets) and are loaded on first use.
"""

from deltaflow.nn import (
    ELU, GELU, BatchNorm, BinaryCrossEntropy, Dense, Dropout, Identity, Layer, LayerNorm, LeakyReLU,
    MeanSquaredError, Param, Perceptron, ReLU, Residual, Sequential, Sigmoid, SoftmaxCrossEntropy, Step, Tanh,
    collapse_linear, gradcheck, log_softmax, mlp, sigmoid, softmax,
)
from deltaflow.optim import SGD, Adagrad, Adam, AdamW, RMSprop, clip_grad_norm, clip_grad_value

__version__ = "0.1.0"

_LAZY = {
    "RunConfig": ("deltaflow.training.config", "RunConfig"),
    "fit": ("deltaflow.training.trainer", "fit"),
    "load_dataset": ("deltaflow.data", "load_dataset"),
    "save_model": ("deltaflow.training.io", "save_model"),
    "load_model": ("deltaflow.training.io", "load_model"),
}

__all__ = [
    "Param", "Layer", "Dense", "Dropout",
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Identity", "Step",
    "BatchNorm", "LayerNorm", "Residual", "Sequential", "mlp", "collapse_linear",
    "SoftmaxCrossEntropy", "BinaryCrossEntropy", "MeanSquaredError", "softmax", "log_softmax", "sigmoid",
    "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "clip_grad_norm", "clip_grad_value",
    "Perceptron", "gradcheck",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'deltaflow' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
