"""The learn-depth lesson tests' independent reference: a deltaflow ``Sequential`` of Dense,
BatchNorm and sigmoid/tanh/ReLU layers copied into a PyTorch ``nn.Sequential`` (float64)."""

from __future__ import annotations

import numpy as np

from deltaflow.nn.activations import ReLU, Sigmoid, Tanh
from deltaflow.nn.layers import Dense
from deltaflow.nn.norm import BatchNorm


def to_torch(torch, net):
    """The same network in torch, every parameter and buffer copied (float64)."""
    acts = {Sigmoid: torch.nn.Sigmoid, Tanh: torch.nn.Tanh, ReLU: torch.nn.ReLU}
    modules = []
    for layer in net.layers:
        if isinstance(layer, Dense):
            m = torch.nn.Linear(layer.n_in, layer.out_features, bias=layer.b is not None).double()
            m.weight.data = torch.tensor(np.asarray(layer.W.value, np.float64))
            if layer.b is not None:
                m.bias.data = torch.tensor(np.asarray(layer.b.value, np.float64))
        elif isinstance(layer, BatchNorm):
            m = torch.nn.BatchNorm1d(layer.n, eps=layer.eps, momentum=layer.momentum).double()
            m.weight.data = torch.tensor(np.asarray(layer.gamma.value, np.float64))
            m.bias.data = torch.tensor(np.asarray(layer.beta.value, np.float64))
            m.running_mean.copy_(torch.tensor(np.asarray(layer.running_mean, np.float64)))
            m.running_var.copy_(torch.tensor(np.asarray(layer.running_var, np.float64)))
        else:
            m = acts[type(layer)]()
        modules.append(m)
    return torch.nn.Sequential(*modules)


def linear_grad_norms(torch, model) -> list[float]:
    """‖∂L/∂W‖ (Frobenius) of every Linear layer, after ``backward``."""
    return [float(m.weight.grad.norm()) for m in model if isinstance(m, torch.nn.Linear)]
