"""deltaflow: neural networks and backpropagation computed exactly as the mathematics says.

The engine (layers, losses, optimisers, ...) needs only NumPy and SciPy and is imported
here; ``RunConfig``, ``fit`` and ``load_dataset`` bring in the training stack (pydantic,
scikit-learn's data sets) and are loaded on first use.
"""

from deltaflow.activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Step, Tanh
from deltaflow.clip import clip_grad_norm, clip_grad_value
from deltaflow.gradcheck import gradcheck
from deltaflow.layers import Dense, Dropout, Layer, Param
from deltaflow.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy, log_softmax, sigmoid, softmax
from deltaflow.network import Residual, Sequential, collapse_linear, mlp
from deltaflow.norm import BatchNorm, LayerNorm
from deltaflow.optim import SGD, Adagrad, Adam, AdamW, RMSprop
from deltaflow.perceptron import Perceptron

__version__ = "0.1.0"

_LAZY = {
    "RunConfig": ("deltaflow.config", "RunConfig"),
    "fit": ("deltaflow.train", "fit"),
    "load_dataset": ("deltaflow.data", "load_dataset"),
    "save_model": ("deltaflow.io", "save_model"),
    "load_model": ("deltaflow.io", "load_model"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'deltaflow' has no attribute {name!r}")
