"""Networks: ``Sequential``, the pre-LN ``Residual`` block, the ``mlp()`` builder and
``collapse_linear()``.

A forward pass runs ``a^(0) = x`` through the layers (``z^(l) = W^(l)·a^(l−1) + b^(l)``,
``a^(l) = σ(z^(l))``); the backward pass runs the δ recursion through them in reverse::

    δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l))

where ``Dense.backward`` supplies the ``(W^(l+1))ᵀ δ^(l+1)`` factor and the activation's
backward the ``⊙ σ'(z^(l))`` factor.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import numpy as np

from deltaflow._checks import as_dtype, check_finite, check_input, integer, make_rng
from deltaflow.nn.activations import Activation, Identity, get_activation
from deltaflow.nn.layers import Dense, Dropout, Layer, Param, from_spec
from deltaflow.nn.norm import BatchNorm, LayerNorm


def walk(layer: Layer) -> Iterator[Layer]:
    """The layer and every layer nested inside it, depth first."""
    yield layer
    for child in layer.children():
        yield from walk(child)


class Sequential(Layer):
    """Layers applied in order: ``forward`` left to right, ``backward`` right to left.

    ``forward(x, training=None)``: x of shape (batch, n_in); ``training=None`` uses the mode
    set by ``train()`` (the default) or ``eval()``. Inputs are checked once here: width,
    dtype, and that every value is finite.
    """

    spec_type = "Sequential"

    def __init__(self, layers: Sequence[Layer]):
        layers = list(layers)
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"Sequential: item {i} is {type(layer).__name__}, not a Layer")
        self.layers = layers
        dtypes = {layer.dtype for layer in self.modules() if getattr(layer, "dtype", None) is not None}
        if len(dtypes) > 1:
            raise ValueError(f"Sequential: layers mix dtypes {sorted(d.name for d in dtypes)}")
        self.dtype = dtypes.pop() if dtypes else None
        self.n_in = next((layer.n_in for layer in self.modules() if hasattr(layer, "n_in")), None)
        self.training = True

    def __repr__(self) -> str:
        return f"Sequential({', '.join(map(repr, self.layers))})"

    def spec(self) -> dict:
        return {"type": "Sequential", "layers": [layer.spec() for layer in self.layers]}

    @classmethod
    def from_spec(cls, spec: dict) -> Sequential:
        return cls([from_spec(s) for s in spec["layers"]])

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def children(self) -> list[Layer]:
        return self.layers

    def modules(self) -> Iterator[Layer]:
        """Every layer inside this network, depth first (containers included)."""
        for layer in self.layers:
            yield from walk(layer)

    def n_out(self, n_in: int) -> int:
        for layer in self.layers:
            n_in = layer.n_out(n_in)
        return n_in

    def parameters(self) -> list[Param]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> Iterator[tuple[str, Param]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"{i}.{name}", p

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for i, layer in enumerate(self.layers):
            for name, buf in layer.named_buffers():
                yield f"{i}.{name}", buf

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad.fill(0)

    def train(self) -> Sequential:
        self.training = True
        return self

    def eval(self) -> Sequential:
        self.training = False
        return self

    def forward(self, x: np.ndarray, training: bool | None = None) -> np.ndarray:
        if training is None:
            training = self.training
        check_input(x, "network input", self.n_in, self.dtype)
        check_finite(x, "network input")
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    __call__ = forward

    def backward(self, grad: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Run the δ recursion from ``grad = dL/d(output)``; returns dL/dx, fills every p.grad.

        δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ ⊙ σ'(z⁽ˡ⁾) is computed in two steps, layer by layer:
        ``Dense.backward`` returns the (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ factor and ``Activation.backward``
        multiplies it by σ'(z⁽ˡ⁾).

        ``input_grad=False``: the caller does not need dL/dx (a training step never does, as
        PyTorch skips it for an input that does not require grad); the first layer is told
        so (a ``Dense`` layer then skips that product), and None is returned.
        """
        for layer in reversed(self.layers[1:]):
            grad = layer.backward(grad)
        grad = self.layers[0].backward(grad, input_grad=input_grad)
        return grad if input_grad else None

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed ``"<layer>.<name>"`` (e.g. ``"0.W"``)."""
        state = {name: p.value.copy() for name, p in self.named_parameters()}
        state.update((name, buf.copy()) for name, buf in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy values into the existing arrays (optimisers keep their references).

        Keys, shapes and dtypes must match exactly; nothing is loaded unless all do.
        """
        targets = {name: p.value for name, p in self.named_parameters()}
        targets.update(self.named_buffers())
        missing, unexpected = targets.keys() - state.keys(), state.keys() - targets.keys()
        if missing or unexpected:
            raise ValueError(f"state dict mismatch: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
        for name, dst in targets.items():
            src = np.asarray(state[name])
            if src.shape != dst.shape or src.dtype != dst.dtype:
                raise ValueError(
                    f"state dict entry {name!r}: expected {dst.shape} {dst.dtype}, got {src.shape} {src.dtype}"
                )
        for name, dst in targets.items():
            np.copyto(dst, state[name])

    def summary(self) -> str:
        """A table of layers, output shapes and parameter counts."""
        rows = [("#", "layer", "output", "params")]
        width = self.n_in
        for i, layer in enumerate(self.layers):
            width = layer.n_out(width) if width is not None else None
            count = sum(p.value.size for p in layer.parameters())
            rows.append((str(i), repr(layer), f"(batch, {width})", f"{count:,}"))
        total = sum(p.value.size for p in self.parameters())
        dtype = self.dtype.name if self.dtype is not None else "-"
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = ["  ".join(cell.ljust(w) if c < 3 else cell.rjust(w) for c, (cell, w) in enumerate(zip(r, widths)))
                 for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append(f"total parameters: {total:,} ({dtype})")
        return "\n".join(lines)


class Residual(Layer):
    """Residual block ``y = x + f(LayerNorm(x))`` (pre-LN), or ``y = x + f(x)`` without it.

    ``block`` maps (batch, n) to (batch, n). Backward adds the skip path to the block's::

        dL/dx = dL/dy + LN'ᵀ (f'ᵀ dL/dy)
    """

    spec_type = "Residual"

    def __init__(self, block: Layer, pre_norm: bool = True, n: int | None = None, dtype=None):
        if not isinstance(block, Layer):
            raise ValueError(f"Residual block must be a Layer, got {type(block).__name__}")
        self.block = block
        n = n if n is not None else getattr(block, "n_in", None)
        if n is None:
            raise ValueError("Residual: cannot infer the width from the block; pass n=")
        self.n_in = integer(n, "Residual n")
        if block.n_out(self.n_in) != self.n_in:
            raise ValueError(f"Residual: block maps width {self.n_in} to {block.n_out(self.n_in)}; it must keep it")
        self.dtype = as_dtype(dtype if dtype is not None else getattr(block, "dtype", np.float32))
        self.norm = LayerNorm(self.n_in, dtype=self.dtype) if pre_norm else None
        self.pre_norm = pre_norm

    def __repr__(self) -> str:
        return f"Residual({self.block!r}, pre_norm={self.pre_norm})"

    def spec(self) -> dict:
        return {"type": "Residual", "pre_norm": self.pre_norm, "n": self.n_in, "dtype": self.dtype.name,
                "block": self.block.spec()}

    @classmethod
    def from_spec(cls, spec: dict) -> Residual:
        return cls(from_spec(spec["block"]), pre_norm=spec["pre_norm"], n=spec["n"], dtype=spec["dtype"])

    def children(self) -> list[Layer]:
        return [self.norm, self.block] if self.norm is not None else [self.block]

    def parameters(self) -> list[Param]:
        return [p for c in self.children() for p in c.parameters()]

    def named_parameters(self) -> Iterator[tuple[str, Param]]:
        if self.norm is not None:
            for name, p in self.norm.named_parameters():
                yield f"norm.{name}", p
        for name, p in self.block.named_parameters():
            yield f"block.{name}", p

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for name, buf in self.block.named_buffers():
            yield f"block.{name}", buf

    def forward(self, x: np.ndarray, training: bool = True) -> np.ndarray:
        check_input(x, self, self.n_in, self.dtype)
        h = self.norm.forward(x, training) if self.norm is not None else x
        return x + self.block.forward(h, training)

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray:
        dh = self.block.backward(dy)
        if self.norm is not None:
            dh = self.norm.backward(dh)
        return dy + dh


# what mlp(norm=...) puts between a hidden Dense and its activation ("none" or None: nothing)
NORMS = ("none", "batch", "layer", "residual")


def mlp(
    sizes: Sequence[int],
    activation="relu",
    output=None,
    norm: str | None = None,
    init="auto",
    dropout: float = 0.0,
    dtype=np.float32,
    rng=None,
) -> Sequential:
    """A multilayer perceptron ``sizes = [n_0, n_1, ..., n_L]`` (input width first).

    Each hidden layer l is ``Dense(n_{l−1}, n_l)`` → [norm] → σ_l → [Dropout]; the last
    layer is ``Dense(n_{L−1}, n_L)`` followed by ``output`` (an activation name) if given,
    else it returns logits. ``activation`` is one name or one per hidden layer.
    ``norm``: None, ``"batch"`` (hidden Dense layers then have no bias), ``"layer"``, or ``"residual"`` (hidden layers of equal width
    become pre-LN ``Residual(Dense → σ)`` blocks). ``init="auto"``: He (normal) for the ReLU
    family, Xavier (uniform) for sigmoid, tanh and the output layer.
    """
    sizes = [integer(s, f"mlp size {i}") for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"mlp needs at least an input and an output size, got {sizes}")
    hidden = len(sizes) - 2
    acts = [activation] * hidden if isinstance(activation, (str, Activation)) else list(activation)
    if len(acts) != hidden:
        raise ValueError(f"mlp: {len(acts)} activations given for {hidden} hidden layers")
    if norm is not None and norm not in NORMS:
        raise ValueError(f"mlp norm must be None, 'batch', 'layer' or 'residual', got {norm!r}")
    Dropout.checked_p(dropout)
    dtype = as_dtype(dtype)
    gen = make_rng(rng)

    def dense(n_in, n_out, act: Activation | None, bias=True):
        scheme = init
        if init == "auto":
            scheme = act.default_init if act is not None else "xavier_uniform"
        return Dense(n_in, n_out, init=scheme, bias=bias, dtype=dtype, rng=gen)

    layers: list[Layer] = []
    for l in range(hidden):
        n_in, n_out = sizes[l], sizes[l + 1]
        # each layer needs its own instance: an activation caches its forward values
        act = copy.deepcopy(get_activation(acts[l]))
        if norm == "residual" and n_in == n_out:
            layers.append(Residual(Sequential([dense(n_in, n_out, act), act]), pre_norm=True))
        else:
            # BatchNorm subtracts the batch mean, so a bias before it would have zero gradient
            layers.append(dense(n_in, n_out, act, bias=norm != "batch"))
            if norm == "batch":
                layers.append(BatchNorm(n_out, dtype=dtype))
            elif norm == "layer":
                layers.append(LayerNorm(n_out, dtype=dtype))
            layers.append(act)
        if dropout:
            layers.append(Dropout(dropout, rng=gen))
    layers.append(dense(sizes[-2], sizes[-1], None))
    if output is not None:
        layers.append(get_activation(output))
    return Sequential(layers)


def collapse_linear(net: Sequential) -> Dense:
    """The single Dense layer equal to a stack of Dense and Identity layers.

    Composing z₂ = W₂(W₁x + b₁) + b₂ gives W = W₂W₁ and b = W₂b₁ + b₂; by induction a
    stack of any depth is one affine map. Any other layer is non-linear and raises.
    """
    layers = net.layers if isinstance(net, Sequential) else [net]
    W, b = None, None
    for i, layer in enumerate(layers):
        if isinstance(layer, Identity):
            continue
        if not isinstance(layer, Dense):
            raise ValueError(f"collapse_linear: layer {i} ({layer!r}) is not linear; only Dense and Identity collapse")
        Wl = layer.W.value
        bl = layer.b.value if layer.b is not None else np.zeros(Wl.shape[0], dtype=Wl.dtype)
        W, b = (Wl, bl.copy()) if W is None else (Wl @ W, Wl @ b + bl)
    if W is None:
        raise ValueError("collapse_linear: the network has no Dense layer")
    out = Dense(W.shape[1], W.shape[0], init="zeros", dtype=W.dtype)
    out.W.value[...] = W
    out.b.value[...] = b
    return out


__all__ = ["Sequential", "Residual", "mlp", "collapse_linear", "NORMS"]
