"""The mathematics: layers, activations, normalisation, losses, networks, initialisers,
the perceptron and finite-difference checks. NumPy and SciPy only.

A network computes ``z⁽ˡ⁾ = W⁽ˡ⁾·a⁽ˡ⁻¹⁾ + b⁽ˡ⁾``, ``a⁽ˡ⁾ = σ(z⁽ˡ⁾)``; its backward pass is the δ
recursion ``δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ'(z⁽ˡ⁾)`` (``network.Sequential.backward``).
"""

from deltaflow.nn.activations import ELU, GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Step, Tanh
from deltaflow.nn.gradcheck import gradcheck
from deltaflow.nn.layers import Dense, Dropout, Layer, Param
from deltaflow.nn.losses import BinaryCrossEntropy, Loss, MeanSquaredError, SoftmaxCrossEntropy, log_softmax, sigmoid, softmax
from deltaflow.nn.network import Residual, Sequential, collapse_linear, mlp
from deltaflow.nn.norm import BatchNorm, LayerNorm
from deltaflow.nn.perceptron import Perceptron

__all__ = [
    "Param", "Layer", "Dense", "Dropout",
    "Activation", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU", "GELU", "Identity", "Step",
    "BatchNorm", "LayerNorm",
    "Loss", "SoftmaxCrossEntropy", "BinaryCrossEntropy", "MeanSquaredError", "softmax", "log_softmax", "sigmoid",
    "Sequential", "Residual", "mlp", "collapse_linear",
    "Perceptron", "gradcheck",
]
