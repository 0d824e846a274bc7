"""Universal approximation, measured: error against width, and depth against width.

Part 1. One hidden layer of m tanh units fits f on [−3, 3]::

    F(x) = Σ_j v_j σ(w_j u + b_j) + c,   u = x / 3 ∈ [−1, 1],   σ = tanh

for f ∈ {sin, |x|, step} and m ∈ {1, 2, 4, …, 256}. The error is the RMSE of F − f on a
dense grid of 2001 points; its trend is the least-squares slope of log10 RMSE against
log10 m. Each F is also split into its units' contributions v_j σ(w_j u + b_j), which
add up (with c) to the fit.

Part 2. Depth against width on a sawtooth with 8 teeth: a deep narrow ReLU network
1-16-16-16-1 (593 parameters) against a shallow wide 1-197-1 (592 parameters), trained
the same way from three seeds.

Training (every network): full-batch Adam on 256 (part 1) or 512 (part 2) noise-free
samples from ``deltaflow.data.functions``, float64, learning rate η₀ (0.05 in part 1,
0.01 in part 2) on a cosine decay ``η_t = η₀ (1 + cos(π t / T)) / 2``. The error is what gradient training reaches,
not the best the width allows: a least-squares readout would go lower, but only with
readout weights of 10⁴–10⁸ that cancel (the tanh units near their linear range act as a
polynomial basis), which is not the sum of bumps the theorem builds. The first layer's kinks (ReLU) or centres (tanh) start spread uniformly over
the interval (b_j = −w_j c_j, c_j ~ U(−1, 1)), so no unit starts piled up at u = 0.

Full grid: 9 widths × 3 functions × 3000 steps, then 2 networks × 3 seeds × 3000 steps
(about a minute on one core). ``quick``: widths 1 … 16, 800 steps; one seed, 400 steps.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deltaflow.data import functions
from deltaflow.experiments.base import Experiment, Ticker
from deltaflow.nn.layers import Dense
from deltaflow.nn.losses import MeanSquaredError
from deltaflow.nn.network import Sequential, mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.viz.canvas import floats, new_figure, save, tidy

__all__ = ["EXPERIMENT", "run", "figure", "unit_contributions", "param_count", "loglog_slope", "fit_width",
           "fit_sawtooth", "wide_width_for", "sawtooth"]

HALF_WIDTH = 3.0  # the interval [−3, 3] (the data functions' default), fed to the net as u = x / 3
TARGETS = {
    "sin": (functions.sin, np.sin),
    "abs": (functions.abs, np.abs),
    "step": (functions.step, lambda x: (x >= 0).astype(np.float64)),
}
LR = 0.05  # part 1 (one tanh layer)
DEPTH_LR = 0.01  # part 2 (ReLU, deep and wide alike)
CONTRIBUTION_WIDTH = 8  # the moderate width whose units the figure draws one by one
TEETH = 8
DEEP = [1, 16, 16, 16, 1]
GRID_POINTS = 2001
PLOT_POINTS = 600


def param_count(net: Sequential) -> int:
    """Number of trainable scalars: Σ over Dense layers of n_out·n_in + n_out."""
    return sum(p.value.size for p in net.parameters())


def wide_width_for(n_params: int) -> int:
    """Width h of a 1-h-1 network with about ``n_params`` parameters: h·1 + h + h + 1 = 3h + 1."""
    return max(1, round((n_params - 1) / 3))


def loglog_slope(widths, errors) -> float:
    """Least-squares slope of log10(error) against log10(width)."""
    return float(np.polyfit(np.log10(np.asarray(widths, float)), np.log10(np.asarray(errors, float)), 1)[0])


def _spread_first_layer(net: Sequential, rng: np.random.Generator) -> None:
    """b_j = −w_j c_j with c_j ~ U(−1, 1): unit j's kink or centre starts at u = c_j."""
    first = net.layers[0]
    c = rng.uniform(-1.0, 1.0, first.out_features)
    first.b.value[...] = -first.W.value[:, 0] * c


def _hidden(net: Sequential, u: np.ndarray) -> np.ndarray:
    """The last hidden layer's activations, (n, m): every layer but the output Dense."""
    a = u
    for layer in net.layers[:-1]:
        a = layer.forward(a, False)
    return a


def _train(net: Sequential, u: np.ndarray, y: np.ndarray, steps: int, lr: float) -> float:
    """Full-batch Adam on the mean squared error with a cosine learning-rate decay (it ends at
    η = 0, so the last steps settle instead of oscillating). Returns the final training MSE."""
    loss = MeanSquaredError()
    opt = get_optimizer("adam", net.parameters(), lr=lr)
    for t in range(steps):
        opt.lr = lr * 0.5 * (1.0 + math.cos(math.pi * t / steps))
        loss.forward(net.forward(u), y)
        net.backward(loss.backward())
        opt.step()
    return loss.forward(net.forward(u, False), y)


def unit_contributions(net: Sequential, u: np.ndarray) -> tuple[np.ndarray, float]:
    """For a one-hidden-layer net F(u) = Σ_j v_j σ(w_j u + b_j) + c: the terms and c.

    u : (n, 1). Returns ``(terms, c)`` with terms : (n, m), terms[:, j] = v_j σ(w_j u + b_j),
    so that ``terms.sum(axis=1) + c`` equals ``net.forward(u)[:, 0]``.
    """
    if len(net.layers) != 3 or not isinstance(net.layers[0], Dense) or not isinstance(net.layers[2], Dense):
        raise ValueError(f"unit_contributions needs Dense → σ → Dense, got {net!r}")
    h = _hidden(net, u)  # σ(w_j u + b_j), (n, m)
    out = net.layers[2]
    return h * out.W.value[0], float(out.b.value[0])


def _grid() -> np.ndarray:
    return np.linspace(-HALF_WIDTH, HALF_WIDTH, GRID_POINTS)[:, None]


def sawtooth(x: np.ndarray, teeth: int = TEETH) -> np.ndarray:
    """frac(teeth·(x + 3)/6): the target of ``functions.sawtooth`` on [−3, 3], without noise."""
    u = teeth * (x + HALF_WIDTH) / (2 * HALF_WIDTH)
    return u - np.floor(u)


def _errors(net: Sequential, f) -> tuple[float, float]:
    x = _grid()
    r = net.forward(x / HALF_WIDTH, False) - f(x)
    return float(np.sqrt(np.mean(r * r))), float(np.abs(r).max())


def fit_width(name: str, width: int, steps: int, seed: int, activation: str = "tanh"
              ) -> tuple[Sequential, float, float, float]:
    """Train a 1-width-1 net (σ = ``activation``) on ``name``; returns (net, train MSE, grid RMSE, grid max error)."""
    sample, f = TARGETS[name]
    X, y = sample(256, 0.0, np.random.default_rng([seed, 0]))  # the same points for every width
    rng = np.random.default_rng([seed, width])
    net = mlp([1, width, 1], activation=activation, dtype=np.float64, rng=rng)
    _spread_first_layer(net, rng)
    mse = _train(net, X / HALF_WIDTH, y[:, None], steps, LR)
    return (net, mse, *_errors(net, f))


def fit_sawtooth(sizes: list[int], steps: int, seed: int, teeth: int = TEETH) -> tuple[Sequential, float, float]:
    """Train a ReLU net of ``sizes`` on the sawtooth; returns (net, grid RMSE, grid max error)."""
    X, y = functions.sawtooth(512, 0.0, np.random.default_rng([seed, 1]), teeth=teeth)
    rng = np.random.default_rng([seed, 2])
    net = mlp(sizes, activation="relu", dtype=np.float64, rng=rng)
    _spread_first_layer(net, rng)
    _train(net, X / HALF_WIDTH, y[:, None], steps, DEPTH_LR)
    return (net, *_errors(net, lambda x: sawtooth(x, teeth)))


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    widths = [1, 2, 4, 8, 16] if quick else [2**k for k in range(9)]
    steps, deep_steps = (800, 400) if quick else (3000, 3000)
    seeds = [seed] if quick else [seed, seed + 1, seed + 2]
    ticker = Ticker(progress, len(TARGETS) * len(widths) + 2 * len(seeds))
    x_plot = np.linspace(-HALF_WIDTH, HALF_WIDTH, PLOT_POINTS)[:, None]
    width_runs, contributions = {}, {}
    for name, (_, f) in TARGETS.items():
        rows = []
        for m in widths:
            net, mse, rmse, max_err = fit_width(name, m, steps, seed)
            rows.append({"width": m, "params": param_count(net), "train_mse": mse, "rmse": rmse, "max_error": max_err})
            if m == CONTRIBUTION_WIDTH:
                terms, c = unit_contributions(net, x_plot / HALF_WIDTH)
                contributions[name] = {
                    "width": m, "x": x_plot[:, 0], "units": terms.T, "bias": c,
                    "output": net.forward(x_plot / HALF_WIDTH, False)[:, 0], "target": f(x_plot[:, 0]),
                }
            ticker.tick()
        width_runs[name] = {"rows": rows, "slope": loglog_slope(widths, [r["rmse"] for r in rows])}

    deep_params = param_count(mlp(DEEP, dtype=np.float64, rng=0))
    wide = [1, wide_width_for(deep_params), 1]
    depth = {"teeth": TEETH, "steps": deep_steps, "x": x_plot[:, 0], "target": sawtooth(x_plot[:, 0]), "nets": {}}
    for label, sizes in (("deep", DEEP), ("wide", wide)):
        runs = []
        for s in seeds:
            net, rmse, max_err = fit_sawtooth(sizes, deep_steps, s)
            runs.append({"seed": s, "rmse": rmse, "max_error": max_err,
                         "fit": net.forward(x_plot / HALF_WIDTH, False)[:, 0]})
            ticker.tick()
        depth["nets"][label] = {"sizes": sizes, "params": param_count(net), "runs": runs,
                                "mean_rmse": float(np.mean([r["rmse"] for r in runs]))}
    return _report(quick, seed, widths, steps, width_runs, contributions, depth)


def _report(quick, seed, widths, steps, width_runs, contributions, depth) -> dict:
    findings = [
        f"{name}: RMSE {runs['rows'][0]['rmse']:.3g} at width {widths[0]} → {runs['rows'][-1]['rmse']:.3g} at width "
        f"{widths[-1]}; log-log slope {runs['slope']:.2f}"
        for name, runs in width_runs.items()
    ]
    for name, runs in width_runs.items():
        rmse = np.array([r["rmse"] for r in runs["rows"]])
        # the first width within 1.5× of the best error: past it, training (not width) sets the error
        k = int(np.argmax(rmse <= 1.5 * rmse.min()))
        if k < len(widths) - 1:
            findings.append(f"{name}: from width {widths[k]} on the error stays within {rmse[k:].min():.3g}–"
                            f"{rmse[k:].max():.3g}: there the {steps} Adam steps, not the width, limit it")
    d, w = depth["nets"]["deep"], depth["nets"]["wide"]
    wins = sum(a["rmse"] < b["rmse"] for a, b in zip(d["runs"], w["runs"]))
    findings.append(
        f"sawtooth with {depth['teeth']} teeth: deep {'-'.join(map(str, d['sizes']))} ({d['params']} parameters) "
        f"mean RMSE {d['mean_rmse']:.3f}; wide {'-'.join(map(str, w['sizes']))} ({w['params']} parameters) "
        f"mean RMSE {w['mean_rmse']:.3f}; deep lower in {wins} of {len(d['runs'])} seeds"
    )
    width_table = {
        "title": "grid RMSE against hidden width (one tanh layer)",
        "columns": ["width", "params", *(f"{n} RMSE" for n in width_runs)],
        "rows": [[m, width_runs["sin"]["rows"][i]["params"], *(r["rows"][i]["rmse"] for r in width_runs.values())]
                 for i, m in enumerate(widths)],
    }
    slope_table = {"title": "fitted slope of log10 RMSE against log10 width", "columns": ["function", "slope"],
                   "rows": [[n, r["slope"]] for n, r in width_runs.items()]}
    depth_table = {
        "title": f"deep against wide on a sawtooth with {depth['teeth']} teeth (same parameter budget)",
        "columns": ["network", "parameters", "seed", "RMSE", "max error"],
        "rows": [["-".join(map(str, net["sizes"])), net["params"], r["seed"], r["rmse"], r["max_error"]]
                 for net in depth["nets"].values() for r in net["runs"]],
    }
    return {
        "name": "uat", "title": EXPERIMENT.title, "quick": quick, "seed": seed,
        "findings": findings, "tables": [width_table, slope_table, depth_table],
        "widths": widths, "steps": steps, "lr": LR, "depth_lr": DEPTH_LR, "activation": "tanh",
        "width_runs": width_runs, "contributions": contributions, "depth": depth,
    }


def figure(result: dict, path) -> Path:
    """Three panels: RMSE against width (log-log, with slopes); the units of one net adding
    up to its fit; deep against wide fits of the sawtooth."""
    fig = new_figure((16.0, 4.8))
    ax_err, ax_units, ax_saw = fig.subplots(1, 3)
    widths = np.asarray(result["widths"], float)
    for name, runs in result["width_runs"].items():
        slope = runs["slope"]
        label = f"{name} (slope {slope:.2f})" if slope is not None else name
        ax_err.loglog(widths, floats(r["rmse"] for r in runs["rows"]), marker="o", label=label)
    ax_err.set(xlabel="hidden width m", ylabel="RMSE on the grid", title="error against width")
    ax_err.legend()

    name = "sin" if "sin" in result["contributions"] else next(iter(result["contributions"]), None)
    if name is not None:
        c = result["contributions"][name]
        x = floats(c["x"])
        for j, unit in enumerate(c["units"]):
            ax_units.plot(x, floats(unit), linewidth=0.9, alpha=0.8, label="v_j σ(w_j u + b_j)" if j == 0 else None)
        ax_units.plot(x, floats(c["target"]), color="0.3", linestyle="--", linewidth=1.2, label="target")
        ax_units.plot(x, floats(c["output"]), color="black", linewidth=2.0, label=f"sum + c (c = {c['bias']:.2f})")
        ax_units.set(title=f"{name}: {c['width']} tanh units adding up to the fit")
        ax_units.legend(fontsize=8)
    ax_units.set(xlabel="x")

    depth = result["depth"]
    x = floats(depth["x"])
    ax_saw.plot(x, floats(depth["target"]), color="0.3", linewidth=1.0, label="sawtooth")
    for label, net in depth["nets"].items():
        best = min(net["runs"], key=lambda r: np.inf if r["rmse"] is None else r["rmse"])
        ax_saw.plot(x, floats(best["fit"]), linewidth=1.4,
                    label=f"{label} {'-'.join(map(str, net['sizes']))}, {net['params']} params")
    ax_saw.set(xlabel="x", title="deep narrow against shallow wide (best seed each)")
    ax_saw.legend(fontsize=8)
    tidy((ax_err, ax_units, ax_saw))
    return save(fig, path)


EXPERIMENT = Experiment("uat", "Universal approximation: width, and depth against width", run, figure)
