"""Optimisers in a ravine: SGD, momentum, Nesterov, RMSprop, Adam and AdamW on one quadratic.

The loss is the ravine

    f(w) = ½ (w − w*)ᵀ H (w − w*),   H = R diag(1, κ) Rᵀ,   ∇f(w) = H (w − w*),   κ = 100,

with R the identity ("axis-aligned": f = ½((w₁ − w₁*)² + κ (w₂ − w₂*)²)) or a rotation by
45° ("rotated"). Both are the same problem in H's eigenbasis: w* = R (2, 2) and
w₀ = w* + R (7, 1.2), so f(w₀) = 96.5 in both and every rotation-invariant method (SGD,
momentum, Nesterov) traces the same losses on the two. The minimum is off the origin so
that AdamW's decay, which pulls θ towards 0, is no shortcut to it. Per-coordinate methods (RMSprop, Adam, AdamW) rescale the axes w₁, w₂: that is the
cure for the axis-aligned ravine and no cure for the rotated one.

Each optimiser is the engine's (``deltaflow.optim.optimizers.get_optimizer``, PyTorch defaults;
momentum and Nesterov μ = 0.9, AdamW λ = 0.01) stepping one ``Param`` w of shape (2,)
whose ``grad`` is set to H (w − w*). Fair learning rates: for each optimiser and problem, η is
the value on the log grid 10^(−3), 10^(−2.75), …, 10^1 with the lowest loss after T
steps (a run that overflows counts as +∞); the chosen η is reported, and marked when it
lies on the grid's edge.

Full: T = 200 steps, 17 learning rates (well under a second). ``quick``: T = 100 steps,
half-decade grid.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deltaflow.experiments.base import Experiment, Ticker
from deltaflow.nn.layers import Param
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.viz.canvas import floats, new_figure, save, tidy

__all__ = ["EXPERIMENT", "run", "figure", "ravine", "descend", "OPTIMIZERS"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
KAPPA = 100.0
OFFSET = (7.0, 1.2)  # w₀ − w* in H's eigenbasis: f(w₀) = ½(7² + κ·1.2²) = 96.5
OPTIMUM = (2.0, 2.0)  # w* in H's eigenbasis
PROBLEMS = {"axis-aligned": 0.0, "rotated": math.pi / 4}  # rotation angle of R


def ravine(angle: float, kappa: float = KAPPA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(H, w*, w₀): H = R diag(1, κ) Rᵀ of shape (2, 2), w* = R (2, 2), w₀ = w* + R (7, 1.2),
    R the rotation by ``angle``."""
    c, s = math.cos(angle), math.sin(angle)
    R = np.array([[c, -s], [s, c]])
    w_star = R @ np.array(OPTIMUM)
    return R @ np.diag([1.0, kappa]) @ R.T, w_star, w_star + R @ np.array(OFFSET)


def descend(name: str, lr: float, H: np.ndarray, w_star: np.ndarray, w0: np.ndarray,
            steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the engine's optimiser ``name`` on f(w) = ½ (w − w*)ᵀH(w − w*) from w₀ for ``steps`` steps.

    Returns (losses, path): losses : (steps + 1,) f before each step and after the last;
    path : (steps + 1, 2) the iterates. A run whose iterate overflows stops there, and the
    rest of both arrays is +∞ (losses) and NaN (path).
    """
    w = Param(np.array(w0, dtype=np.float64), "w")
    opt = get_optimizer(name, [w], lr=lr)
    losses = np.full(steps + 1, np.inf)
    path = np.full((steps + 1, 2), np.nan)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            if not np.isfinite(w.value).all():
                break
            path[t] = w.value
            r = w.value - w_star
            losses[t] = 0.5 * r @ H @ r
            if t == steps:
                break
            w.grad[...] = H @ r
            opt.step()
    losses[~np.isfinite(losses)] = np.inf
    return losses, path


def _best(name: str, H, w_star, w0, steps: int, grid: np.ndarray) -> dict:
    finals = [descend(name, float(lr), H, w_star, w0, steps)[0][-1] for lr in grid]
    i = int(np.argmin(finals))
    losses, path = descend(name, float(grid[i]), H, w_star, w0, steps)
    return {"lr": float(grid[i]), "edge": i in (0, len(grid) - 1), "final_loss": float(losses[-1]),
            "losses": losses, "path": path, "grid_final_losses": finals}


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    """``seed`` is recorded only: the problem and every optimiser here are deterministic."""
    steps = 100 if quick else 200
    grid = 10.0 ** np.arange(-3.0, 1.0001, 0.5 if quick else 0.25)
    ticker = Ticker(progress, len(PROBLEMS) * len(OPTIMIZERS))
    problems = {}
    for label, angle in PROBLEMS.items():
        H, w_star, w0 = ravine(angle)
        runs = {}
        for name in OPTIMIZERS:
            runs[name] = _best(name, H, w_star, w0, steps, grid)
            ticker.tick()
        problems[label] = {"angle": angle, "H": H, "w_star": w_star, "w0": w0, "runs": runs}
    return _report(quick, seed, steps, grid, problems)


def _report(quick, seed, steps, grid, problems) -> dict:
    findings = []
    for label, prob in problems.items():
        runs = prob["runs"]
        sgd = runs["sgd"]["final_loss"]
        order = sorted(OPTIMIZERS, key=lambda n: runs[n]["final_loss"])
        findings.append(
            f"{label} ravine (κ = {KAPPA:g}), loss after {steps} steps at each one's best η: "
            + ", ".join(f"{n} {runs[n]['final_loss']:.2e} (η = {runs[n]['lr']:.3g})" for n in order)
            + f"; plain SGD {sgd:.2e}"
        )
        edge = [n for n in OPTIMIZERS if runs[n]["edge"]]
        if edge:
            findings.append(f"{label}: best η on the grid's edge for {', '.join(edge)} (the grid may cut it short)")
    same = np.allclose(problems["axis-aligned"]["runs"]["sgd"]["losses"], problems["rotated"]["runs"]["sgd"]["losses"],
                       rtol=1e-9, atol=0.0)
    findings.append(f"SGD's losses on the two ravines agree to 1e-9 relative: {bool(same)} (it is rotation-invariant)")
    table = {
        "title": f"loss after {steps} steps, from f(w₀) = 96.5, at each optimiser's best learning rate",
        "columns": ["optimiser", *(f"{p} η" for p in problems), *(f"{p} final loss" for p in problems)],
        "rows": [[n, *(p["runs"][n]["lr"] for p in problems.values()),
                  *(p["runs"][n]["final_loss"] for p in problems.values())] for n in OPTIMIZERS],
    }
    return {"name": "optimizers", "title": EXPERIMENT.title, "quick": quick, "seed": seed,
            "findings": findings, "tables": [table], "kappa": KAPPA, "steps": steps, "lr_grid": grid,
            "optimizers": list(OPTIMIZERS), "problems": problems}


def figure(result: dict, path) -> Path:
    """Top: loss against step (log) per ravine. Bottom: the paths over f's contours."""
    problems = result["problems"]
    fig = new_figure((6.0 * len(problems), 9.0))
    axes = fig.subplots(2, len(problems), squeeze=False)
    for k, (label, prob) in enumerate(problems.items()):
        ax_loss, ax_path = axes[0, k], axes[1, k]
        H, w_star, w0 = floats(prob["H"]), floats(prob["w_star"]), floats(prob["w0"])
        r = 1.2 * np.abs(w0 - w_star).max()
        g1 = np.linspace(w_star[0] - r, w_star[0] + r, 200)
        g2 = np.linspace(w_star[1] - r, w_star[1] + r, 200)
        W1, W2 = np.meshgrid(g1, g2)
        D1, D2 = W1 - w_star[0], W2 - w_star[1]
        F = 0.5 * (H[0, 0] * D1**2 + 2 * H[0, 1] * D1 * D2 + H[1, 1] * D2**2)
        ax_path.contour(W1, W2, np.log10(F + 1e-12), levels=15, colors="0.75", linewidths=0.6)
        for name, run_ in prob["runs"].items():
            losses = floats(run_["losses"])
            losses[~np.isfinite(losses)] = np.nan  # None (overflow) leaves a gap, not a line to zero
            line, = ax_loss.semilogy(np.maximum(losses, 1e-300), label=f"{name} (η = {run_['lr']:.3g})")
            p = floats(run_["path"])
            ax_path.plot(p[:, 0], p[:, 1], color=line.get_color(), linewidth=1.0, marker=".", markersize=2)
        ax_loss.set(xlabel="step t", ylabel="f(w_t)", title=f"{label} ravine, κ = {result['kappa']:g}")
        ax_loss.legend(fontsize=8)
        ax_path.plot(*w0, "ko")
        ax_path.plot(*w_star, "k*", markersize=10)
        ax_path.set(xlim=(g1[0], g1[-1]), ylim=(g2[0], g2[-1]), xlabel="w₁", ylabel="w₂", title="paths over the contours of f")
        ax_path.set_aspect("equal")
        tidy((ax_loss, ax_path))
    return save(fig, path)


EXPERIMENT = Experiment("optimizers", "Optimisers in a ravine", run, figure)
