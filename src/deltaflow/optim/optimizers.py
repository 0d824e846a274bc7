"""Optimisers: ``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``.

Each takes the list of ``Param`` from ``Sequential.parameters()`` and, at ``step()``, updates
every ``θ = p.value`` in place from its gradient ``g = p.grad`` (other code holds references
to those arrays). The algorithms, their order of operations and their defaults are
PyTorch's (``torch.optim``, single-tensor path), so a run can be checked against it.

Notation: ``η`` the learning rate ``lr``, ``t`` the step count (1 at the first step),
``λ`` the weight decay. A float32 parameter stays float32: state arrays are
``np.zeros_like(θ)`` and every hyperparameter is applied as a Python float.
"""

from __future__ import annotations

import inspect

import numpy as np

from deltaflow import _kernels
from deltaflow._checks import FLOAT_DTYPES, flag, real
from deltaflow.nn.layers import Param
from deltaflow.optim import _layout, _state


class Optimizer:
    """Base class: holds ``params``, the learning rate ``lr``, the step count ``t`` and,
    for each param, a dict ``state[i]`` of arrays shaped like it.

    Subclasses name their hyperparameters in ``_hyper``, lay out the state in
    ``_new_state`` and update one param's value θ in ``_update(theta, g, state, work)``.
    Small params are updated together as flat groups, large ones in blocks (``_layout``).

    ``pack=True`` lays the small params out back to back first (``_layout.pack``): their
    ``p.value`` and ``p.grad`` become views of one flat array each, with the same numbers,
    and each step updates that storage with nothing gathered or scattered. It replaces those
    arrays, so a reference taken to one before the optimiser is built would no longer see
    the updates: pass it where nothing holds one yet (the Trainer, right after building its
    network). With ``pack=False`` (the default) no array is replaced.
    """

    _hyper: tuple[str, ...] = ("lr",)
    _l2_decay = True  # weight_decay enters as the gradient of (λ/2)‖θ‖²; AdamW decouples it
    weight_decay = 0.0

    def __init__(self, params, lr: float, pack: bool = False):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, Param):
                raise ValueError(f"{type(self).__name__}: params[{i}] is {type(p).__name__}, not a Param")
            if p.value.dtype not in FLOAT_DTYPES:
                raise ValueError(f"{type(self).__name__}: param {i} ({p.name}) is {p.value.dtype}, not float32/64")
            if id(p) in seen:
                # a param listed twice would be stepped twice per step()
                raise ValueError(f"{type(self).__name__}: param {i} ({p.name}) appears more than once")
            seen.add(id(p))
        self.params = params
        self.lr = lr
        self.t = 0
        self._pack = flag(pack, "pack")
        self.state = [self._new_state(p.value) for p in params]
        self._lay_out()

    def _lay_out(self) -> None:
        """Group the small params (packed back to back if ``pack``), over the current state."""
        params = self.params
        groups = _layout.small_groups(params)
        if self._pack:
            for index in groups:
                _layout.pack([params[i] for i in index])
        self._groups = [_layout.Group([params[i] for i in index], [self.state[i] for i in index]) for index in groups]
        grouped = {i for index in groups for i in index}
        self._single = [i for i in range(len(params)) if i not in grouped]
        # one scratch array per param, so a step allocates nothing
        self._work = {i: np.empty_like(params[i].value) for i in self._single}
        self._gbuf = None  # g + λθ, allocated at the first step that needs it

    def __getstate__(self) -> dict:
        # pickle and deepcopy copy each view as an array of its own: the layout's flat arrays
        # would no longer be the params' storage, and steps would update copies nobody reads
        return {k: v for k, v in self.__dict__.items() if k not in ("_groups", "_single", "_work", "_gbuf")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        for p in self.params:
            # a loader may hand back arrays over its own buffer (joblib's, a read-only memory
            # map): the params train on arrays of their own, with the same numbers
            p.value, p.grad = _layout.owned(p.value), _layout.owned(p.grad)
        self._lay_out()  # laid out again over the copies, holding the same numbers

    @property
    def lr(self) -> float:
        """Learning rate η; may be changed between steps (a schedule does) and is used at the next."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = real(value, "learning rate")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in self._hyper)})"

    def _new_state(self, value: np.ndarray) -> dict[str, np.ndarray]:
        return {}

    def _update(self, theta: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray], work: np.ndarray) -> None:
        """Update ``theta`` (a param's value) in place from the gradient ``g``; ``state`` holds
        its state arrays and ``work`` is scratch, all shaped like it. Every operation is
        elementwise, so ``step`` may pass matching slices of them instead of whole arrays."""
        raise NotImplementedError

    def step(self) -> None:
        """Apply one update to every param, in place, from its current ``grad``."""
        for i, p in enumerate(self.params):
            if p.grad.shape != p.value.shape or p.grad.dtype != p.value.dtype:
                raise ValueError(
                    f"param {i} ({p.name}): grad is {p.grad.dtype.name} {p.grad.shape}, "
                    f"value is {p.value.dtype.name} {p.value.shape}"
                )
        self.t += 1
        l2 = self.weight_decay if self._l2_decay else 0.0
        if l2 and self._gbuf is None:
            self._gbuf = {i: np.empty_like(self.params[i].value) for i in self._single}
        for group in self._groups:
            group.gather()
            # g + λθ: the same sum as below (+ commutes exactly)
            self._apply(group.theta, group.l2_grad(l2) if l2 else group.g, group.state, group.work)
            group.scatter()
        for i in self._single:
            p = self.params[i]
            g = p.grad
            if l2:
                # g + λθ, the L2 penalty's gradient, kept apart: p.grad stays what backward computed
                g = np.multiply(p.value, l2, out=self._gbuf[i])
                g += p.grad
            self._apply(p.value, g, self.state[i], self._work[i])

    def _apply(self, theta, g, state, work) -> None:
        """``_update`` on whole arrays, or block by block on a large param (``_layout.apply``)."""
        _layout.apply(self._update, theta, g, state, work)

    def grads(self) -> list[np.ndarray]:
        """Every param's gradient, each entry once, as laid out: one flat array per packed
        group, else each param's ``p.grad``. One norm or finiteness check per array then
        covers a whole group."""
        arrays = [g for group in self._groups for g in group.grads()]
        return arrays + [self.params[i].grad for i in self._single]

    def params_finite(self) -> bool:
        """Whether every param's value is finite, as ``step`` left it: one check per flat group
        of small params (their values as ``step`` wrote them back) instead of one per param.
        Call it right after ``step``; before the first step every value is checked."""
        if self.t == 0:
            return all(np.isfinite(p.value).all() for p in self.params)
        return all(np.isfinite(g.theta).all() for g in self._groups) and all(
            np.isfinite(self.params[i].value).all() for i in self._single)

    def zero_grad(self) -> None:
        """Set every gradient to 0 in place."""
        for p in self.params:
            p.grad.fill(0)

    def state_dict(self) -> dict:
        """A copy of the optimiser's state (``_state.state_dict``): JSON scalars and lists,
        plus one dict of named arrays per param under ``"state"``."""
        return _state.state_dict(self)

    def load_state_dict(self, d: dict) -> None:
        """Restore what ``state_dict`` saved; everything is checked before anything changes
        (``_state.load_state_dict``), a mismatch raises ``ValueError`` naming it."""
        _state.load_state_dict(self, d)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, dampening, Nesterov and L2 decay::

        g ← g + λθ                                       (weight_decay λ)
        b ← g  at t = 1,  else  b ← μ b + (1 − τ) g      (momentum μ, dampening τ)
        g ← g + μ b  if nesterov,  else  g ← b           (only when μ > 0)
        θ ← θ − η g
    """

    _hyper = ("lr", "momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, pack=False):
        self.momentum = real(momentum, "momentum value")
        self.dampening = real(dampening, "dampening value", high=1.0)
        self.weight_decay = real(weight_decay, "weight_decay value")
        self.nesterov = flag(nesterov, "nesterov")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                f"Nesterov momentum requires a momentum and zero dampening, got momentum={momentum}, "
                f"dampening={dampening}"
            )
        super().__init__(params, lr, pack)

    def _new_state(self, value):
        return {"momentum_buffer": np.zeros_like(value)} if self.momentum > 0 else {}

    def _update(self, theta, g, state, work):
        if self.momentum > 0:
            b = state["momentum_buffer"]
            if self.t == 1:
                np.copyto(b, g)  # no dampening on the first step: the buffer starts as g
            else:
                b *= self.momentum
                np.multiply(g, 1.0 - self.dampening, out=work)
                b += work
            if self.nesterov:
                np.multiply(b, self.momentum, out=work)
                work += g
                g = work
            else:
                g = b
        np.multiply(g, self.lr, out=work)
        theta -= work


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step is scaled by its accumulated squared gradients::

        g ← g + λθ
        η_t = η / (1 + (t − 1) · lr_decay)
        s ← s + g²                                (s starts at initial_accumulator_value)
        θ ← θ − η_t · g / (√s + ε)
    """

    _hyper = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, pack=False):
        self.lr_decay = real(lr_decay, "lr_decay value")
        self.weight_decay = real(weight_decay, "weight_decay value")
        self.initial_accumulator_value = real(initial_accumulator_value, "initial_accumulator_value value")
        self.eps = real(eps, "epsilon value")
        super().__init__(params, lr, pack)

    def _new_state(self, value):
        return {"sum": np.full_like(value, self.initial_accumulator_value)}

    def _update(self, theta, g, state, work):
        lr_t = self.lr / (1.0 + (self.t - 1) * self.lr_decay)
        s = state["sum"]
        np.multiply(g, g, out=work)
        s += work
        np.sqrt(s, out=work)
        work += self.eps
        np.divide(g, work, out=work)
        work *= lr_t
        theta -= work


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients::

        g ← g + λθ
        v ← α v + (1 − α) g²
        ḡ ← α ḡ + (1 − α) g ;  v̂ = v − ḡ²          (centered; else v̂ = v)
        b ← μ b + g / (√v̂ + ε) ;  θ ← θ − η b      (momentum μ > 0; b starts at 0)
        θ ← θ − η g / (√v̂ + ε)                     (μ = 0)
    """

    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, pack=False):
        # α > 1 would give (1 − α) < 0 and a negative mean square, so it is refused
        self.alpha = real(alpha, "alpha value", high=1.0)
        self.eps = real(eps, "epsilon value")
        self.weight_decay = real(weight_decay, "weight_decay value")
        self.momentum = real(momentum, "momentum value")
        self.centered = flag(centered, "centered")
        super().__init__(params, lr, pack)

    def _new_state(self, value):
        state = {"square_avg": np.zeros_like(value)}
        if self.momentum > 0:
            state["momentum_buffer"] = np.zeros_like(value)
        if self.centered:
            state["grad_avg"] = np.zeros_like(value)
        return state

    def _update(self, theta, g, state, work):
        v = state["square_avg"]
        v *= self.alpha
        np.multiply(g, 1.0 - self.alpha, out=work)
        work *= g
        v += work
        if self.centered:
            g_avg = state["grad_avg"]
            _kernels.lerp(g_avg, g, 1.0 - self.alpha, work)
            np.multiply(g_avg, g_avg, out=work)
            np.subtract(v, work, out=work)
            np.sqrt(work, out=work)
        else:
            np.sqrt(v, out=work)
        work += self.eps
        np.divide(g, work, out=work)
        if self.momentum > 0:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += work
            np.multiply(b, self.lr, out=work)
        else:
            work *= self.lr
        theta -= work


class Adam(Optimizer):
    """Adam: steps along bias-corrected running moments of the gradient::

        g ← g + λθ                               (L2 penalty; AdamW decouples it)
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²
        v_max ← max(v_max, v) ;  v ← v_max        (amsgrad)
        θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
    """

    _hyper = ("lr", "betas", "eps", "weight_decay", "amsgrad")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, pack=False):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: {betas!r} (must be a pair (beta1, beta2))")
        self.betas = tuple(
            real(b, f"beta parameter at index {i}", high=1.0, high_open=True) for i, b in enumerate(betas)
        )
        self.eps = real(eps, "epsilon value")
        self.weight_decay = real(weight_decay, "weight_decay value")
        self.amsgrad = flag(amsgrad, "amsgrad")
        super().__init__(params, lr, pack)

    def _new_state(self, value):
        state = {"exp_avg": np.zeros_like(value), "exp_avg_sq": np.zeros_like(value)}
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(value)
        return state

    def _apply(self, theta, g, state, work) -> None:
        """One compiled pass over whole arrays where ``_kernels.adam`` has one (it needs no
        blocks: nothing is read twice), else NumPy's passes, block by block on a large param."""
        m, v = state["exp_avg"], state["exp_avg_sq"]
        if not self.amsgrad and _kernels.adam_in_one_pass(theta, g, m, v):
            _kernels.adam(theta, g, m, v, work, *self._scalars(), one_pass=True)
        else:
            super()._apply(theta, g, state, work)

    def _scalars(self) -> tuple[float, float, float, float, float, float]:
        """(decay, β₁, β₂, ε, η/(1 − β₁ᵗ), √(1 − β₂ᵗ)) as Python floats, so float32 stays float32;
        decay = 1 − ηλ for AdamW's decoupled decay, else 1."""
        beta1, beta2 = self.betas
        decay = 1.0 - self.lr * self.weight_decay if not self._l2_decay else 1.0
        return decay, beta1, beta2, self.eps, self.lr / (1.0 - beta1**self.t), (1.0 - beta2**self.t) ** 0.5

    def _update(self, theta, g, state, work):
        _kernels.adam(theta, g, state["exp_avg"], state["exp_avg_sq"], work, *self._scalars(),
                      v_max=state.get("max_exp_avg_sq"))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): the decay shrinks θ directly
    instead of entering the moments::

        θ ← θ (1 − η λ)
        then Adam's update with g = ∇L (no L2 term)
    """

    _l2_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, pack=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, pack)


OPTIMIZERS = {
    "sgd": SGD,
    "momentum": SGD,
    "nesterov": SGD,
    "adagrad": Adagrad,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
}
_PRESETS = {"momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.9, "nesterov": True}}


def get_optimizer(name: str, params, **kwargs) -> Optimizer:
    """The optimiser called ``name`` (a key of ``OPTIMIZERS``) over ``params``.

    ``"momentum"`` is SGD with μ = 0.9 and ``"nesterov"`` SGD with μ = 0.9 and Nesterov,
    unless ``kwargs`` say otherwise. Unknown names and keyword arguments raise ``ValueError``.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[key]
    allowed = [k for k in inspect.signature(cls).parameters if k != "params"]
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"{key}: unknown argument(s) {unknown}; accepted: {', '.join(allowed)}")
    return cls(params, **{**_PRESETS.get(key, {}), **kwargs})
