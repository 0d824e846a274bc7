"""Per-neuron maps over a grid of inputs: each hidden unit's a_j(x) (``neuron_maps``) and
its sensitivity ∂ŷ_k/∂a_j(x) (``sensitivity_maps``), computed by one eval-mode forward (and
one backward) over the whole grid, leaving the network as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from deltaflow.diagnostics.units import unit_layers
from deltaflow.nn.layers import Layer
from deltaflow.nn.network import walk

__all__ = ["neuron_maps", "grid_forward", "sensitivity_maps"]


class _Hooks:
    """Instance-level wrappers of layer methods, removed in reverse order of installation.

    A wrapper is an instance attribute shadowing the class method, so removing it (or
    putting back an earlier instance attribute) restores the original exactly.
    """

    def __init__(self):
        self._installed: list[tuple[Layer, str, bool, object]] = []

    def wrap(self, layer: Layer, method: str, make: Callable) -> None:
        had = method in layer.__dict__
        self._installed.append((layer, method, had, layer.__dict__.get(method)))
        setattr(layer, method, make(getattr(layer, method)))

    def remove(self) -> None:
        for layer, method, had, old in reversed(self._installed):
            if had:
                setattr(layer, method, old)
            else:
                del layer.__dict__[method]
        self._installed.clear()


def _grid_pass(net: Layer, X: np.ndarray, output: int | None) -> tuple[np.ndarray, list, list]:
    """One eval-mode forward over ``X`` (and, if ``output`` is set, one backward from the
    one-hot ∂ŷ_k); returns the network's output, each hidden unit's a^(l) and ∂ŷ_k/∂a^(l).

    The network is left as it was: every layer's caches and every ``p.grad`` are put back.
    """
    hidden = unit_layers(net)[:-1]
    acts: list = [None] * len(hidden)
    grads: list = [None] * len(hidden)
    leaves = [layer for layer in walk(net) if not layer.children()]
    caches = [{k: v for k, v in layer.__dict__.items() if k.startswith("_")} for layer in leaves]
    # only a backward pass writes p.grad
    saved_grads = [(p.grad, p.grad.copy()) for p in net.parameters()] if output is not None else []
    hooks = _Hooks()

    def keep_output(i, forward):
        def hooked(x, training=True):
            acts[i] = forward(x, training)
            return acts[i]

        return hooked

    def keep_grad(i, backward):
        def hooked(dy, *args, **kwargs):
            grads[i] = dy
            return backward(dy, *args, **kwargs)

        return hooked

    try:
        for i, u in enumerate(hidden):
            hooks.wrap(u.out_layer, "forward", lambda f, i=i: keep_output(i, f))
            if output is not None:
                hooks.wrap(u.out_layer, "backward", lambda f, i=i: keep_grad(i, f))
        y = net.forward(X, False)
        if output is not None:
            if not 0 <= output < y.shape[1]:
                raise ValueError(f"sensitivity_maps: output {output} out of range [0, {y.shape[1]})")
            seed = np.zeros_like(y)
            seed[:, output] = 1.0
            net.backward(seed)
    finally:
        hooks.remove()
        for layer, cache in zip(leaves, caches):
            for k in [k for k in layer.__dict__ if k.startswith("_") and k not in cache]:
                del layer.__dict__[k]
            layer.__dict__.update(cache)
        for grad, copy in saved_grads:
            np.copyto(grad, copy)
    return y, acts, grads


def neuron_maps(net: Layer, grid_X: np.ndarray) -> list[np.ndarray]:
    """Each hidden unit's activation a_j^(l)(x) over a grid of inputs (eval mode).

    grid_X : (n_points, n_in) -> one array (n_points, n_l) per hidden unit layer (every
    unit layer but the output one), in forward order. The network's caches and
    gradients are left as they were.
    """
    return _grid_pass(net, grid_X, None)[1]


def grid_forward(net: Layer, grid_X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(net.forward(grid_X, False), neuron_maps(net, grid_X))`` from one forward pass."""
    y, acts, _ = _grid_pass(net, grid_X, None)
    return y, acts


def sensitivity_maps(net: Layer, grid_X: np.ndarray, output: int = 0) -> list[np.ndarray]:
    """∂ŷ_k/∂a_j^(l)(x) over a grid of inputs: where each hidden unit's gradient vanishes.

    One eval-mode forward over ``grid_X`` : (n_points, n_in) and one backward from
    ∂ŷ_k/∂ŷ = e_k (one-hot at ``output`` = k, for every point); in eval mode the points
    are independent, so row x of the backward is the derivative at x alone. Returns one
    array (n_points, n_l) per hidden unit layer, in forward order; ŷ is the network's
    raw output (logits when it ends in a Dense). Caches and ``p.grad`` are left as they were.
    """
    return _grid_pass(net, grid_X, int(output))[2]
