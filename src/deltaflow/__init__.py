"""deltaflow: neural networks and backpropagation computed exactly as the mathematics says."""

from deltaflow.activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Step, Tanh
from deltaflow.clip import clip_grad_norm, clip_grad_value
from deltaflow.gradcheck import gradcheck
from deltaflow.layers import Dense, Dropout, Layer, Param
from deltaflow.losses import BinaryCrossEntropy, MeanSquaredError, SoftmaxCrossEntropy, log_softmax, sigmoid, softmax
from deltaflow.network import Residual, Sequential, collapse_linear, mlp
from deltaflow.norm import BatchNorm, LayerNorm
from deltaflow.perceptron import Perceptron

__version__ = "0.1.0"
