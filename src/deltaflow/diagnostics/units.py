"""Unit layers: the grouping of a network's layers that the probes and the simulator measure.

Statistics are per *unit layer* l: a ``Dense`` (z^(l) = W^(l) a^(l−1) + b^(l)) together
with the norm layers (BatchNorm, LayerNorm) that follow it and the first activation
after it, before the next Dense. Layers are visited in forward order, descending into
``Sequential`` and ``Residual`` containers, so a pre-LN ``Residual(Dense → σ)`` block
contributes one unit (its Dense and σ; the block's input LayerNorm comes after the
previous unit's activation and is not probed). Dropout is not part of a unit. A unit
with no activation (the output layer returning logits, a deep linear network) is
linear: σ' ≡ 1. The output layer L is the last unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deltaflow.nn.activations import Activation
from deltaflow.nn.layers import Dense, Layer
from deltaflow.nn.network import walk

__all__ = ["Unit", "unit_layers"]


@dataclass
class Unit:
    """One unit layer: ``dense`` → ``norms`` → ``act`` (``act`` None when linear)."""

    index: int
    dense: Dense
    norms: list[Layer] = field(default_factory=list)
    act: Activation | None = None

    @property
    def name(self) -> str:
        return f"{self.index}: {self.dense!r}" + (f" {self.act.name}" if self.act is not None else "")

    @property
    def out_layer(self) -> Layer:
        """The layer whose output is this unit's a^(l)."""
        if self.act is not None:
            return self.act
        return self.norms[-1] if self.norms else self.dense


def unit_layers(net: Layer) -> list[Unit]:
    """Group ``net``'s layers into unit layers (see the module docstring), in forward order."""
    units: list[Unit] = []
    for layer in walk(net):
        if layer.children():
            continue
        current = units[-1] if units else None
        if layer.role == "affine":
            units.append(Unit(len(units), layer))
        elif current is None or current.act is not None:
            continue
        elif layer.role == "norm":
            current.norms.append(layer)
        elif layer.role == "activation":
            current.act = layer
    if not units:
        raise ValueError(f"{net!r} has no Dense layer to probe")
    return units
