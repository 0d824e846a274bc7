"""Vanishing gradients: how the first layer's gradient shrinks with depth, and what stops it.

Backpropagation gives ∂L/∂W^(l) = δ^(l) (a^(l−1))ᵀ with δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l)),
so between the output layer L and the first hidden layer the signal is multiplied by
every layer's σ'(z) and Wᵀ. For sigmoid σ' ≤ 1/4, and the seed's bound for the σ'
factors of a network with L hidden layers is 0.25ᴸ. This experiment measures, on a grid

    depth ∈ {2, 5, 10, 20, 30} hidden layers × σ ∈ {sigmoid, tanh, relu}
    × init ∈ {naive N(0, 0.01²), Xavier normal, He normal} × norm ∈ {none, batch, residual pre-LN},

the ratio r = ‖∂L/∂W^(1)‖ / ‖∂L/∂W^(L)‖ (first hidden Dense over the output Dense,
Frobenius norms, one full batch, float64 because r reaches 1e-50) at initialisation
and after ``STEPS`` Adam steps, and the probe's Π_l mean σ'(z^(l)) against 0.25ᴸ.

Design
------
Width n = 32 throughout; data: the 2-D ``circle`` set (256 points, train part, standardised)
and softmax cross-entropy on two logits. The 2-D points enter the network through a
fixed isometric embedding u = √(n/2)·Q x, Q : (n, 2) with orthonormal columns (drawn once
from the seed), so that every Dense layer has fan-in n. Why: ‖∂L/∂W^(1)‖ carries the
factor ‖x‖ and ‖∂L/∂W^(L)‖ the factor ‖a^(L−1)‖; He initialisation keeps the per-unit
mean square of a^(l) equal to that of the input, so with a 2-feature input
‖a^(L−1)‖/‖x‖ ≈ √(n/2) = 4 at *any* depth, and r would measure the input width as much as
the depth. ``input_width`` in the result measures this: ReLU with He with the raw 2-D
input against the embedded one. The embedding keeps the data set's geometry
(distances scale by √(n/2), the per-feature mean square stays 1).

Every configuration of one depth starts from the same random numbers (common random
numbers): the naive, Xavier and He weights are one draw scaled three ways, so
differences between cells are the scheme's, not the draw's. (With ReLU and zero biases
the network is positively homogeneous: scaling layer l's weights by c_l scales every
∂L/∂W^(m), m ≠ l, by c_l, so r scales by c_L/c_1 while ∂L/∂ŷ stays the same, which holds
while the logits ŷ are near 0: the naive and Xavier ReLU ratios at initialisation
differ by exactly √(64/34).) Training is full batch,
Adam (η = 0.01), ``STEPS`` = 60 steps (20 with ``quick``; 100 steps made the full grid
of 135 runs take 100 s on a shared core, 60 keep it near a minute).

``quick=True``: depths {5, 20}, activations {sigmoid, relu}, all three inits, norms
{none, batch}: 24 runs that contain the cases the tests check.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deltaflow.data import load_dataset
from deltaflow.experiments.base import Experiment, Ticker, backprop
from deltaflow.nn.activations import Sigmoid
from deltaflow.nn.losses import SoftmaxCrossEntropy
from deltaflow.nn.network import mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.viz.canvas import new_figure, positive, save
from deltaflow.diagnostics.probes import GradientProbe

NAME = "vanishing"
TITLE = "Vanishing gradients: first-layer over output-layer gradient norm against depth"

WIDTH = 32
N_SAMPLES = 256
DEPTHS = (2, 5, 10, 20, 30)
ACTIVATIONS = ("sigmoid", "tanh", "relu")
# the experiment's names for the schemes of deltaflow.nn.init
INITS = {"naive": "normal", "xavier": "xavier_normal", "he": "he_normal"}
NORMS = ("none", "batch", "residual")
STEPS = 60
LR = 0.01
QUICK = {"depths": (5, 20), "activations": ("sigmoid", "relu"), "inits": tuple(INITS), "norms": ("none", "batch"),
         "steps": 20}
SIGMOID_MAX_DERIVATIVE = Sigmoid.max_derivative  # σ'(0) = σ(0)(1 − σ(0)) = 1/4, the largest value of σ'


def embed(X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """u = √(n/2)·Q x for each row: X : (N, 2) → (N, n), Q : (n, 2) with QᵀQ = I.

    Distances are multiplied by √(n/2) and nothing else changes, so the per-feature mean
    square of standardised X (1) is kept: Σ_j u_j² / n = ‖x‖² / 2.
    """
    Q, _ = np.linalg.qr(rng.standard_normal((n, X.shape[1])))
    return (X @ Q.T) * math.sqrt(n / X.shape[1])


def build(n_in: int, depth: int, activation: str, init: str, norm: str, seed: int, dtype=np.float64):
    """mlp([n_in, WIDTH × depth, 2]); the generator depends on (seed, depth) only (common random numbers)."""
    rng = np.random.default_rng([seed, depth])
    return mlp([n_in] + [WIDTH] * depth + [2], activation, norm=None if norm == "none" else norm,
               init=INITS[init], dtype=dtype, rng=rng)


def measure(net, probe: GradientProbe, X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """One full-batch forward and backward (training mode); returns (loss, probe statistics)."""
    value = backprop(net, SoftmaxCrossEntropy(), X, y)
    return value, probe.measure()


def ratio(stats: dict) -> float:
    """r = ‖∂L/∂W^(1)‖ / ‖∂L/∂W^(L)‖ from a probe record (first unit over the output unit).

    NaN when both norms are 0: a network whose ReLUs all died passes no gradient at all.
    """
    first, last = float(stats["grad_W_norm"][0]), float(stats["grad_W_norm"][-1])
    if last == 0.0:
        return math.nan if first == 0.0 else math.inf
    return first / last


def run_one(X, y, depth, activation, init, norm, seed, steps) -> dict:
    """Measure one grid cell at initialisation, train it ``steps`` Adam steps, measure again."""
    net = build(X.shape[1], depth, activation, init, norm, seed)
    probe = GradientProbe(net, every=1)
    with np.errstate(over="ignore", under="ignore"):
        loss0, s0 = measure(net, probe, X, y)
        row = {
            "depth": depth, "activation": activation, "init": init, "norm": norm,
            "loss_init": loss0, "ratio_init": ratio(s0),
            "grad_first_init": float(s0["grad_W_norm"][0]), "grad_last_init": float(s0["grad_W_norm"][-1]),
            "delta_ratio_init": float(10.0 ** s0["attenuation"][0]),  # ‖δ^(1)‖ / ‖δ^(L)‖
            "sigma_prime_product": float(s0["sigma_prime_product"][0]),
            "sigma_prime_bound": SIGMOID_MAX_DERIVATIVE ** depth if activation == "sigmoid" else None,
        }
        opt = get_optimizer("adam", net.parameters(), lr=LR)
        loss_t, s_t = loss0, s0
        for _ in range(steps):
            opt.step()  # the gradient of the last measurement is the step's gradient
            loss_t, s_t = measure(net, probe, X, y)
            if not math.isfinite(loss_t):
                break
    row.update(loss_trained=loss_t, ratio_trained=ratio(s_t),
               grad_first_trained=float(s_t["grad_W_norm"][0]), grad_last_trained=float(s_t["grad_W_norm"][-1]))
    return row


def input_width_study(X2, X_emb, y, depths, seed) -> dict:
    """ReLU + He at initialisation, raw 2-D input against the width-n embedding."""
    out = {"depths": list(depths), "raw": [], "embedded": [], "expected_raw_factor": math.sqrt(X2.shape[1] / WIDTH)}
    for depth in depths:
        for key, X in (("raw", X2), ("embedded", X_emb)):
            net = build(X.shape[1], depth, "relu", "he", "none", seed)
            out[key].append(ratio(measure(net, GradientProbe(net, every=1), X, y)[1]))
    return out


def _find(runs, **keys) -> dict | None:
    return next((r for r in runs if all(r[k] == v for k, v in keys.items())), None)


def _grid_table(runs, depths, key, title) -> dict:
    rows = []
    for act in ACTIVATIONS:
        for norm in NORMS:
            for init in INITS:
                cells = [_find(runs, depth=d, activation=act, init=init, norm=norm) for d in depths]
                if any(c is not None for c in cells):
                    rows.append([act, init, norm] + [None if c is None else c[key] for c in cells])
    return {"title": title, "columns": ["activation", "init", "norm"] + [f"L = {d}" for d in depths], "rows": rows}


def _sigma_table(runs, depths) -> dict:
    rows = []
    for norm in NORMS:
        for init in INITS:
            cells = [_find(runs, depth=d, activation="sigmoid", init=init, norm=norm) for d in depths]
            if any(c is not None for c in cells):
                rows.append([init, norm] + [None if c is None else c["sigma_prime_product"] for c in cells])
    rows.append(["bound 0.25ᴸ", ""] + [SIGMOID_MAX_DERIVATIVE ** d for d in depths])
    return {"title": "sigmoid: measured Π mean σ'(z^(l)) over the hidden layers, against 0.25ᴸ",
            "columns": ["init", "norm"] + [f"L = {d}" for d in depths], "rows": rows}


def _findings(runs, width_study) -> list[str]:
    out = []
    for act, init, norm in (("sigmoid", "naive", "none"), ("sigmoid", "xavier", "none"), ("sigmoid", "naive", "batch"),
                            ("sigmoid", "xavier", "batch"), ("relu", "he", "none"), ("tanh", "xavier", "none"),
                            ("sigmoid", "naive", "residual")):
        for depth in (20,):
            r = _find(runs, depth=depth, activation=act, init=init, norm=norm)
            if r is not None:
                out.append(f"{act}, depth {depth}, {init} init, norm {norm}: ‖∂L/∂W⁽¹⁾‖/‖∂L/∂W⁽ᴸ⁾‖ = "
                           f"{r['ratio_init']:.2e} at initialisation, {r['ratio_trained']:.2e} after training")
    dead = [r for r in runs if r["grad_first_trained"] == 0.0 and r["grad_last_trained"] == 0.0]
    for r in dead:
        out.append(f"{r['activation']}, depth {r['depth']}, {r['init']} init, norm {r['norm']}: after training every "
                   f"weight gradient is exactly 0 (loss {r['loss_trained']:.4f}): the network died, so r is undefined")
    sig = [r for r in runs if r["activation"] == "sigmoid"]
    if sig:
        worst = max(r["sigma_prime_product"] / r["sigma_prime_bound"] for r in sig)
        verdict = "≤" if worst <= 1.0 else "NOT ≤"
        out.append(f"sigmoid, all {len(sig)} runs: measured Π mean σ' {verdict} 0.25ᴸ; "
                   f"the largest product / bound is {worst:.4f}")
        for r in sig:
            if r["depth"] == 20 and r["init"] == "naive" and r["norm"] == "none":
                per_layer = r["sigma_prime_product"] ** (1 / r["depth"])
                out.append(f"sigmoid, depth 20, naive init: Π mean σ' = {r['sigma_prime_product']:.2e} "
                           f"(per-layer geometric mean {per_layer:.4f}; the seed's typical 0.2²⁰ = {0.2 ** 20:.2e}); "
                           f"the gradient ratio {r['ratio_init']:.2e} is far smaller: the small weights ‖W‖ "
                           f"shrink δ at every layer too")
    i20 = width_study["depths"].index(20) if 20 in width_study["depths"] else -1
    out.append(f"relu + He, depth {width_study['depths'][i20]}, at initialisation: r = {width_study['raw'][i20]:.3f} "
               f"with the raw 2-D input, {width_study['embedded'][i20]:.3f} with the width-{WIDTH} embedding; "
               f"√(2/{WIDTH}) = {width_study['expected_raw_factor']:.3f} is the input-width factor")
    return out


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    """The grid (see the module docstring); returns the JSON-ready result."""
    grid = QUICK if quick else {"depths": DEPTHS, "activations": ACTIVATIONS, "inits": tuple(INITS),
                                "norms": NORMS, "steps": STEPS}
    data = load_dataset("circle", n_samples=N_SAMPLES, seed=seed, dtype="float64")
    X2, y = data.X_train, data.y_train
    X = embed(X2, WIDTH, np.random.default_rng([seed, 0]))
    cells = [(d, a, i, n) for d in grid["depths"] for a in grid["activations"] for i in grid["inits"]
             for n in grid["norms"]]
    ticker = Ticker(progress, len(cells) + 1)
    runs = []
    for depth, act, init, norm in cells:
        runs.append(run_one(X, y, depth, act, init, norm, seed, grid["steps"]))
        ticker.tick()
    width_study = input_width_study(X2, X, y, grid["depths"], seed)
    ticker.tick()
    depths = list(grid["depths"])
    return {
        "name": NAME, "title": TITLE, "quick": bool(quick), "seed": int(seed),
        "width": WIDTH, "steps": grid["steps"], "lr": LR, "data": "circle", "n_train": int(len(y)),
        "depths": depths, "activations": list(grid["activations"]), "inits": list(grid["inits"]),
        "norms": list(grid["norms"]),
        "runs": runs, "input_width": width_study,
        "findings": _findings(runs, width_study),
        "tables": [
            _grid_table(runs, depths, "ratio_init", "‖∂L/∂W⁽¹⁾‖ / ‖∂L/∂W⁽ᴸ⁾‖ at initialisation"),
            _grid_table(runs, depths, "ratio_trained", f"‖∂L/∂W⁽¹⁾‖ / ‖∂L/∂W⁽ᴸ⁾‖ after {grid['steps']} Adam steps"),
            _sigma_table(runs, depths),
        ],
    }


# --- figure ----------------------------------------------------------------------------

INIT_COLOURS = {"naive": "tab:red", "xavier": "tab:blue", "he": "tab:green"}
NORM_STYLES = {"none": "-", "batch": "--", "residual": ":"}


def figure(result: dict, path) -> Path:
    """Small multiples of r against depth (rows: norm, columns: activation; colour: init;
    solid at initialisation, dashed after training), then Π σ' against 0.25ᴸ and the input-width check."""
    runs, depths = result["runs"], result["depths"]
    acts, norms = result["activations"], result["norms"]
    fig = new_figure((4.0 * (len(acts) + 1), 3.2 * max(len(norms), 2)))
    gs = fig.add_gridspec(max(len(norms), 2), len(acts) + 1)
    first = None
    for i, norm in enumerate(norms):
        for j, act in enumerate(acts):
            ax = fig.add_subplot(gs[i, j], sharey=first)
            if first is None:
                first = ax
            for init in result["inits"]:
                cells = [_find(runs, depth=d, activation=act, init=init, norm=norm) for d in depths]
                for key, style, label in (("ratio_init", "-o", f"{init}, init"),
                                          ("ratio_trained", "--x", f"{init}, trained")):
                    y = positive([None if c is None else c[key] for c in cells])
                    ax.plot(depths, y, style, color=INIT_COLOURS[init], markersize=4, label=label)
            ax.axhline(1.0, color="0.5", linewidth=0.8)
            ax.set_yscale("log")
            ax.set_title(f"{act}, norm: {norm}", fontsize="medium")
            ax.set_xlabel("hidden layers L")
            if j == 0:
                ax.set_ylabel("‖∂L/∂W⁽¹⁾‖ / ‖∂L/∂W⁽ᴸ⁾‖")
            ax.grid(alpha=0.3)
    first.legend(fontsize="x-small", ncol=2)
    _sigma_panel(fig.add_subplot(gs[0, -1]), result)
    _width_panel(fig.add_subplot(gs[1, -1]), result["input_width"])
    fig.suptitle(result["title"] + f" (width {result['width']}, {result['steps']} Adam steps)")
    return save(fig, path)


def _sigma_panel(ax, result) -> None:
    depths = np.asarray(result["depths"], dtype=np.float64)
    for norm in result["norms"]:
        for init in result["inits"]:
            cells = [_find(result["runs"], depth=int(d), activation="sigmoid", init=init, norm=norm) for d in depths]
            if all(c is None for c in cells):
                continue
            y = positive([None if c is None else c["sigma_prime_product"] for c in cells])
            ax.plot(depths, y, NORM_STYLES[norm], color=INIT_COLOURS[init], marker="o", markersize=3,
                    label=f"{init}, {norm}")
    ax.plot(depths, SIGMOID_MAX_DERIVATIVE ** depths, "k-", linewidth=2, label="bound 0.25ᴸ")
    ax.plot(depths, 0.2 ** depths, "k:", label="0.2ᴸ")
    ax.set_yscale("log")
    ax.set(xlabel="hidden layers L", ylabel="Π mean σ'(z⁽ˡ⁾)", title="sigmoid: measured σ' product")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2, loc="lower left")


def _width_panel(ax, study) -> None:
    ax.plot(study["depths"], positive(study["raw"]), "-o", label="raw 2-D input")
    ax.plot(study["depths"], positive(study["embedded"]), "-s", label="embedded (fan-in = width)")
    ax.axhline(study["expected_raw_factor"], color="0.5", linestyle="--", label="√(2 / width)")
    ax.axhline(1.0, color="0.5", linewidth=0.8)
    ax.set_yscale("log")
    ax.set(xlabel="hidden layers L", ylabel="ratio at initialisation", title="relu + He: input width")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")


EXPERIMENT = Experiment(NAME, TITLE, run, figure)
