"""Measuring backpropagation: ``probes`` (per-layer gradient-flow statistics while training)
and ``explain`` (one example's forward and backward pass with every number)."""
