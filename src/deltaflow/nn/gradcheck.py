"""Central finite differences: the check that backpropagation computes the true gradient.

For each scalar θ (every parameter entry, and every input entry)::

    ∂L/∂θ ≈ (L(θ + h) − L(θ − h)) / 2h        (error O(h²))

compared with the backward pass by the normwise relative error
``‖g_backprop − g_numeric‖ / max(‖g_backprop‖ + ‖g_numeric‖, tiny)``.
"""

from __future__ import annotations

import numpy as np

from deltaflow.nn.layers import Layer
from deltaflow.nn.network import walk


def _rng_states(net: Layer) -> list:
    # Dropout draws a fresh mask per forward: replay the same draws for every evaluation
    return [(m, m.rng.bit_generator.state) for m in walk(net) if isinstance(getattr(m, "rng", None), np.random.Generator)]


def relative_error(a: np.ndarray, n: np.ndarray) -> float:
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return float(np.linalg.norm(a - n) / max(denom, np.finfo(np.float64).tiny))


def gradcheck(net: Layer, loss, X: np.ndarray, y, h: float = 1e-6, return_errors: bool = False):
    """Largest relative error between backprop and central differences, over every parameter
    and the input ``X``. The network must be float64 (float32 differences are too coarse).

    net : a Layer or Sequential; loss : a loss object; X : (batch, n_in) float64; y : targets.
    Buffers (BatchNorm running statistics) are restored afterwards.
    With ``return_errors=True`` also returns ``{name: error}`` per parameter and ``"input"``.
    """
    if X.dtype != np.float64 or getattr(net, "dtype", np.float64) not in (None, np.float64):
        raise ValueError("gradcheck needs a float64 network and float64 input")
    buffers = [(buf, buf.copy()) for _, buf in net.named_buffers()]
    rng_states = _rng_states(net)

    def restore_rngs():
        for m, state in rng_states:
            m.rng.bit_generator.state = state

    def objective(x):
        restore_rngs()
        return loss.forward(net.forward(x, True), y)

    objective(X)
    dX = net.backward(loss.backward())
    named = list(net.named_parameters())
    analytic = {name: p.grad.copy() for name, p in named}
    analytic["input"] = dX

    errors = {}
    for name, arr in [*((n, p.value) for n, p in named), ("input", X := X.copy())]:
        numeric = np.empty_like(arr)
        flat, nflat = arr.reshape(-1), numeric.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + h
            up = objective(X)
            flat[i] = old - h
            down = objective(X)
            flat[i] = old
            nflat[i] = (up - down) / (2 * h)
        errors[name] = relative_error(analytic[name], numeric)
    for buf, value in buffers:
        np.copyto(buf, value)
    worst = max(errors.values())
    return (worst, errors) if return_errors else worst
