"""Exploding gradients, and global-norm clipping as the cure.

The δ recursion δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l)) multiplies the signal by about
g = std·√(n/2) per ReLU layer when W ~ N(0, std²) with fan-in n (Wᵀ scales a vector's
norm by std·√n on average and ReLU passes half the units). He initialisation picks
std = √(2/n) so that g = 1; here std = 1 and n = 32, so g = 4 and ‖δ^(1)‖ is about
4¹¹ ≈ 4e6 times ‖δ^(L)‖. The forward pass grows the same way, ‖a^(l)‖ ∝ gˡ, so every
layer's ∂L/∂W^(l) = δ^(l) (a^(l−1))ᵀ is about g^(L−1) times larger than under He
initialisation: the whole gradient explodes, not only the first layer's.

Two runs from the same weights, full-batch SGD (η = 0.1) on the standardised ``circle``
set (256 points, train part), float64:

* without clipping: θ ← θ − η ∇L;
* with ``clip_grad_norm(max_norm=1)``: ∇L ← ∇L · min(1, max_norm / ‖∇L‖) before the step,
  so no step is longer than η·max_norm.

Per step both record the global gradient norm ‖∇L‖ = √(Σ_p ‖∂L/∂p‖²) before clipping,
the norm of the gradient actually applied, and the loss; a run stops at its first
non-finite loss or gradient. At initialisation a ``GradientProbe`` gives the per-layer
‖δ^(l)‖ (its fitted growth factor per layer, output to input, against g) and
‖∂L/∂W^(l)‖, beside the same network under He initialisation.

``STEPS`` = 300 (60 with ``quick``); a full run takes a few seconds.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np

from deltaflow.nn import init as initializers
from deltaflow.optim.clip import clip_grad_norm, grad_norm
from deltaflow.data import load_dataset
from deltaflow.experiments.base import Experiment, Ticker, backprop
from deltaflow.nn.losses import SoftmaxCrossEntropy
from deltaflow.metrics import accuracy
from deltaflow.nn.network import mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.viz.canvas import floats, new_figure, save, tidy
from deltaflow.diagnostics.probes import GradientProbe

NAME = "exploding"
TITLE = "Exploding gradients: a deep ReLU network with large weights, with and without clipping"

DEPTH = 12
WIDTH = 32
STD = 1.0
LR = 0.1
MAX_NORM = 1.0
N_SAMPLES = 256
STEPS = 300
QUICK_STEPS = 60


def build(seed: int, init=None, std: float = STD):
    """mlp([2, 32 × 12, 2]) with ReLU, float64; every W ~ N(0, std²) unless ``init`` names a scheme."""
    scheme = functools.partial(initializers.normal, std=std) if init is None else init
    return mlp([2] + [WIDTH] * DEPTH + [2], "relu", init=scheme, dtype=np.float64, rng=np.random.default_rng(seed))


def layer_norms(net, X, y) -> dict:
    """Per layer l = 1 … L+1 at the current weights (one full-batch pass): ``delta`` ‖δ^(l)‖,
    ``grad_W`` ‖∂L/∂W^(l)‖; and ``global`` ‖∇L‖ over every parameter."""
    with GradientProbe(net, every=1) as probe:
        backprop(net, SoftmaxCrossEntropy(), X, y)
        s = probe.measure()
    return {"delta": [float(d) for d in s["delta_norm"]], "grad_W": [float(g) for g in s["grad_W_norm"]],
            "global": grad_norm(net.parameters())}


def train(net, X, y, steps: int, clip: bool, lr: float = LR, max_norm: float = MAX_NORM) -> dict:
    """Full-batch SGD (η = ``lr``) for ``steps`` steps; clip the global norm to ``max_norm`` when ``clip``.

    Returns lists per step: ``grad_norm`` (before clipping), ``applied_norm`` (the step's
    gradient), ``loss``; ``diverged_at`` is the first step with a non-finite loss or
    gradient (None if none), and ``accuracy`` the final training accuracy (None if diverged).
    """
    params = net.parameters()
    opt = get_optimizer("sgd", params, lr=lr)
    loss = SoftmaxCrossEntropy()
    out = {"clip": clip, "grad_norm": [], "applied_norm": [], "loss": [], "diverged_at": None}
    # overflow to inf is the phenomenon being measured, not an accident
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps):
            value = backprop(net, loss, X, y)
            norm = clip_grad_norm(params, max_norm) if clip else grad_norm(params)
            out["loss"].append(value)
            out["grad_norm"].append(norm)
            out["applied_norm"].append(grad_norm(params))
            if not (math.isfinite(value) and math.isfinite(norm)):
                out["diverged_at"] = step
                break
            opt.step()
        logits = net.forward(X, False)
    finite = out["diverged_at"] is None and bool(np.isfinite(logits).all())
    out["accuracy"] = accuracy(y, logits.argmax(axis=1)) if finite else None
    out["params_finite"] = all(bool(np.isfinite(p.value).all()) for p in params)
    return out


def growth_factor(delta_norms: list[float]) -> float:
    """The factor by which ‖δ^(l)‖ grows per layer from the output back to the input:
    10^−s, s the least-squares slope of log10 ‖δ^(l)‖ against l over all layers."""
    logs = np.log10(np.asarray(delta_norms))
    slope = np.polyfit(np.arange(logs.size), logs, 1)[0]
    return float(10.0 ** -slope)


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    """Both runs from the same initial weights; returns the JSON-ready result."""
    steps = QUICK_STEPS if quick else STEPS
    data = load_dataset("circle", n_samples=N_SAMPLES, seed=seed, dtype="float64")
    X, y = data.X_train, data.y_train
    per_layer = layer_norms(build(seed), X, y)
    reference = layer_norms(build(seed, "he_normal"), X, y)
    factor = growth_factor(per_layer["delta"])
    expected = STD * math.sqrt(WIDTH / 2)
    ticker = Ticker(progress, 3)
    ticker.tick()
    runs = {}
    for clip in (False, True):
        runs["clipped" if clip else "unclipped"] = train(build(seed), X, y, steps, clip)
        ticker.tick()
    plain, clipped = runs["unclipped"], runs["clipped"]
    findings = [
        f"depth {DEPTH}, width {WIDTH}, W ~ N(0, {STD:g}²), at initialisation: ‖δ⁽¹⁾‖/‖δ⁽ᴸ⁾‖ = "
        f"{per_layer['delta'][0] / per_layer['delta'][-1]:.2e}, ‖δ‖ grows by {factor:.2f} per layer going back "
        f"(predicted std·√(n/2) = {expected:.2f})",
        f"every layer's gradient is large, since a⁽ˡ⁾ grows forward as δ⁽ˡ⁾ grows backward: ‖∂L/∂W⁽ˡ⁾‖ from "
        f"{min(per_layer['grad_W']):.2e} to {max(per_layer['grad_W']):.2e}; global ‖∇L‖ = {per_layer['global']:.2e} "
        f"against {reference['global']:.2e} for the same network under He initialisation",
        f"without clipping: ‖∇L‖ = {plain['grad_norm'][0]:.2e} at step 0, the largest finite norm "
        f"{_max_finite(plain['grad_norm']):.2e}; "
        + (f"the loss or gradient is non-finite from step {plain['diverged_at']}" if plain["diverged_at"] is not None
           else f"still finite after {steps} steps"),
        f"with clip_grad_norm(max_norm={MAX_NORM:g}): every step finite "
        f"({'yes' if clipped['diverged_at'] is None else 'no, diverged at step ' + str(clipped['diverged_at'])}); "
        f"loss {clipped['loss'][0]:.3g} → {clipped['loss'][-1]:.3g}, gradient norm before clipping "
        f"{clipped['grad_norm'][0]:.2e} → {clipped['grad_norm'][-1]:.2e}, largest applied norm "
        f"{max(clipped['applied_norm']):.4f}, training accuracy {_fmt(clipped['accuracy'])}",
    ]
    rows = [[name, r["grad_norm"][0], _max_finite(r["grad_norm"]), r["loss"][0], r["loss"][-1],
             r["diverged_at"], r["accuracy"]] for name, r in runs.items()]
    return {
        "name": NAME, "title": TITLE, "quick": bool(quick), "seed": int(seed),
        "depth": DEPTH, "width": WIDTH, "std": STD, "lr": LR, "max_norm": MAX_NORM, "steps": steps,
        "per_layer": per_layer, "he_reference": reference, "growth_factor": factor,
        "expected_growth_factor": expected,
        "runs": runs,
        "findings": findings,
        "tables": [
            {"title": "SGD with and without global-norm clipping",
             "columns": ["run", "‖∇L‖ at step 0", "largest finite ‖∇L‖", "loss at step 0", "last loss",
                         "non-finite from step", "final accuracy"],
             "rows": rows},
            {"title": "‖∂L/∂W⁽ˡ⁾‖ at initialisation",
             "columns": ["layer l", "‖δ⁽ˡ⁾‖", "‖∂L/∂W⁽ˡ⁾‖", "‖∂L/∂W⁽ˡ⁾‖ under He init"],
             "rows": [[l + 1, d, g, h] for l, (d, g, h)
                      in enumerate(zip(per_layer["delta"], per_layer["grad_W"], reference["grad_W"]))]},
        ],
    }


def _max_finite(values) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return max(finite) if finite else math.nan


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


# --- figure ----------------------------------------------------------------------------

RUN_COLOURS = {"unclipped": "tab:red", "clipped": "tab:blue"}


def figure(result: dict, path) -> Path:
    """Gradient norm per step (log), loss per step (log), and ‖δ⁽ˡ⁾‖, ‖∂L/∂W⁽ˡ⁾‖ per layer at step 0."""
    fig = new_figure((15.0, 4.5))
    ax_g, ax_l, ax_p = fig.subplots(1, 3)
    for name, r in result["runs"].items():
        colour = RUN_COLOURS.get(name, None)
        g, loss = floats(r["grad_norm"]), floats(r["loss"])
        steps = np.arange(g.size)
        ax_g.plot(steps, g, color=colour, label=f"{name}: ‖∇L‖ before clipping")
        if r["clip"]:
            ax_g.plot(steps, floats(r["applied_norm"]), color=colour, linestyle="--", label=f"{name}: applied")
        ax_l.plot(steps, loss, color=colour, label=name)
        if r["diverged_at"] is not None:
            at = r["diverged_at"]
            for ax in (ax_g, ax_l):
                ax.axvline(at, color=colour, linestyle=":", label=f"{name}: non-finite from step {at}"
                           if ax is ax_l else None)
    for ax, what in ((ax_g, "global gradient norm"), (ax_l, "loss")):
        ax.set_yscale("log")
        ax.set(xlabel="step", ylabel=what, title=f"{what} per step")
    ax_g.axhline(result["max_norm"], color="0.5", linewidth=0.8)
    delta = floats(result["per_layer"]["delta"])
    layers = np.arange(1, delta.size + 1)
    ax_p.semilogy(layers, delta, "o-", color="tab:purple", label="‖δ⁽ˡ⁾‖")
    ax_p.semilogy(layers, delta[-1] * result["expected_growth_factor"] ** (layers[-1] - layers), "k--",
                  label=f"‖δ⁽ᴸ⁾‖ × {result['expected_growth_factor']:.1f} per layer")
    ax_p.semilogy(layers, floats(result["per_layer"]["grad_W"]), "s-", color="tab:orange", label="‖∂L/∂W⁽ˡ⁾‖")
    ax_p.semilogy(layers, floats(result["he_reference"]["grad_W"]), "s:", color="0.4",
                  label="‖∂L/∂W⁽ˡ⁾‖, He init")
    ax_p.set(xlabel="layer l (1 = first hidden, last = output)", ylabel="norm", title="at initialisation")
    tidy((ax_g, ax_l, ax_p), legend="small")
    fig.suptitle(f"{result['title']} (depth {result['depth']}, W ~ N(0, {result['std']:g}²), SGD η = {result['lr']:g})")
    return save(fig, path)


EXPERIMENT = Experiment(NAME, TITLE, run, figure)
