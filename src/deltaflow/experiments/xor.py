"""XOR: what one threshold unit cannot learn and one hidden layer can.

Part 1, the perceptron ŷ = step(w·x + b) with Rosenblatt's rule w ← w + η(y − ŷ)x,
b ← b + η(y − ŷ) (η = 1, w = 0, b = 0, examples in a fixed order), on the four points
x ∈ {0, 1}² labelled by AND, OR and XOR, for up to ``EPOCHS`` epochs. AND and OR are
linearly separable, so the convergence theorem promises an epoch with no mistake; XOR
is not (w·x + b > 0 at (0,1) and (1,0) and ≤ 0 at (0,0) and (1,1) would need
w₁ + w₂ + 2b > 0 and ≤ 0 at once), so every epoch has a mistake.

Part 2, MLPs 2-2-1 and 2-4-1 on XOR: tanh hidden units, one logit ŷ with p = σ(ŷ) and
binary cross-entropy, Xavier-uniform initialisation, plain full-batch gradient
descent (η = 0.5) for ``STEPS`` = 2000 steps, float64, over ``N_SEEDS`` = 20 seeds
(seed + 0 … 19). A run *solves* XOR when all four points fall on the right side of
p = 0.5. The 2-2-1 network has no spare unit, and some starts end on a plateau where
one hidden unit does the work of both (measured: see ``findings``).

``quick=True``: 4 seeds and 1000 steps. The full run takes about 10 s.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from deltaflow.experiments.base import Experiment, Ticker, full_batch
from deltaflow.nn.losses import BinaryCrossEntropy
from deltaflow.nn.network import mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.nn.perceptron import Perceptron
from deltaflow.viz.boundary import probability_map
from deltaflow.viz.canvas import floats, new_figure, save, tidy

NAME = "xor"
TITLE = "XOR: the perceptron fails, a hidden layer succeeds"

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1]), "XOR": np.array([0, 1, 1, 0])}
EPOCHS = 20
HIDDEN = (2, 4)
LR = 0.5
STEPS = 2000
N_SEEDS = 20
QUICK = {"steps": 1000, "n_seeds": 4}
GRID = 61  # points per axis of the decision-boundary lattice
LIMITS = (-0.5, 1.5)


def perceptron_runs() -> dict:
    """Each gate: mistakes per epoch, whether an epoch had none, and the final (w, b)."""
    out = {}
    for gate, y in TARGETS.items():
        p = Perceptron(2, lr=1.0)
        fit = p.fit(X, y, epochs=EPOCHS)
        out[gate] = {"mistakes": fit.mistakes, "converged": fit.converged, "w": p.w.copy(), "b": p.b,
                     "final_predictions": p.predict(X)}
    return out


def grid_points() -> tuple[np.ndarray, np.ndarray]:
    """The GRID × GRID lattice over LIMITS²: axis (GRID,) and points (GRID², 2), x₁ fastest."""
    axis = np.linspace(*LIMITS, GRID)
    xx, yy = np.meshgrid(axis, axis)
    return axis, np.column_stack([xx.ravel(), yy.ravel()])


def train_mlp(hidden: int, seed: int, steps: int) -> tuple[object, list[float]]:
    """2-hidden-1 tanh network, BCE on the logit, full-batch gradient descent; returns (net, loss per step)."""
    net = mlp([2, hidden, 1], "tanh", dtype=np.float64, rng=np.random.default_rng(seed))
    loss = BinaryCrossEntropy()
    y = TARGETS["XOR"].astype(np.float64)[:, None]
    history = full_batch(net, loss, get_optimizer("sgd", net.parameters(), lr=LR), X, y, steps)
    history.append(loss.forward(net.forward(X, False), y))
    return net, history


def p_class1(net, points: np.ndarray) -> np.ndarray:
    """p(y = 1 | x) = σ(ŷ(x)), computed stably from the logit: (n, 2) → (n,)."""
    z = net.forward(points, False)[:, 0]
    return np.exp(-np.logaddexp(0.0, -z))


def mlp_runs(seed: int, steps: int, n_seeds: int, points: np.ndarray, ticker: Ticker) -> dict:
    """Every architecture over ``n_seeds`` seeds: solved flags, final losses, and the first
    solved and first unsolved run's probability grid (for the figure)."""
    out = {}
    y = TARGETS["XOR"]
    for hidden in HIDDEN:
        runs = {"seeds": [], "solved": [], "final_loss": [], "final_p": [], "loss_curve": None, "grid": {}}
        for k in range(n_seeds):
            s = seed + k
            net, history = train_mlp(hidden, s, steps)
            p = p_class1(net, X)
            solved = bool(np.array_equal(p > 0.5, y == 1))
            runs["seeds"].append(s)
            runs["final_p"].append(p)
            runs["solved"].append(solved)
            runs["final_loss"].append(history[-1])
            if k == 0:
                runs["loss_curve"] = history[::10]
            key = "solved" if solved else "stuck"
            if key not in runs["grid"]:
                runs["grid"][key] = {"seed": s, "p": p_class1(net, points).reshape(GRID, GRID)}
            ticker.tick()
        out[f"2-{hidden}-1"] = runs
    return out


def _findings(perc: dict, nets: dict, steps: int) -> list[str]:
    out = []
    for gate, r in perc.items():
        m = r["mistakes"]
        if r["converged"]:
            out.append(f"perceptron on {gate}: zero mistakes in epoch {len(m)} (mistakes per epoch {m})")
        else:
            out.append(f"perceptron on {gate}: never zero in {len(m)} epochs; mistakes per epoch between "
                       f"{min(m)} and {max(m)}, last {m[-1]}")
    for arch, r in nets.items():
        solved = [L for L, ok in zip(r["final_loss"], r["solved"]) if ok]
        stuck = [L for L, ok in zip(r["final_loss"], r["solved"]) if not ok]
        text = (f"{arch} MLP on XOR, {steps} gradient-descent steps: "
                f"{sum(r['solved'])} of {len(r['solved'])} seeds solve it")
        if solved:
            text += f" (final loss of solved runs ≤ {max(solved):.3g})"
        if stuck:
            text += f"; the others stop at loss {min(stuck):.3g} to {max(stuck):.3g} (ln 2 / 2 = {math.log(2) / 2:.3f})"
            k = r["solved"].index(False)
            p = ", ".join(f"{v:.3f}" for v in r["final_p"][k])
            text += f", e.g. seed {r['seeds'][k]} ends with p(1) = {p} at (0,0), (0,1), (1,0), (1,1)"
        out.append(text)
    return out


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    """Perceptron on the three gates, then both MLPs over several seeds."""
    steps, n_seeds = (QUICK["steps"], QUICK["n_seeds"]) if quick else (STEPS, N_SEEDS)
    axis, points = grid_points()
    ticker = Ticker(progress, 1 + n_seeds * len(HIDDEN))
    perc = perceptron_runs()
    xor_p = (points @ perc["XOR"]["w"] + perc["XOR"]["b"] > 0).astype(np.float64)
    ticker.tick()
    nets = mlp_runs(seed, steps, n_seeds, points, ticker)
    rows = [[f"perceptron {g}", int(r["converged"]), 1, len(r["mistakes"]), r["mistakes"][-1]] for g, r in perc.items()]
    rows += [[f"MLP {arch}", sum(r["solved"]), len(r["solved"]), steps, None] for arch, r in nets.items()]
    return {
        "name": NAME, "title": TITLE, "quick": bool(quick), "seed": int(seed),
        "X": X, "targets": TARGETS, "steps": steps, "lr": LR, "epochs": EPOCHS,
        "perceptron": perc, "mlp": nets,
        "grid_axis": axis, "perceptron_xor_grid": xor_p.reshape(GRID, GRID),
        "findings": _findings(perc, nets, steps),
        "tables": [{"title": "what learns each gate",
                    "columns": ["model", "runs reaching zero mistakes", "runs", "epochs or steps",
                                "mistakes in the last epoch"],
                    "rows": rows}],
    }


# --- figure ----------------------------------------------------------------------------

GATE_COLOURS = {"AND": "tab:blue", "OR": "tab:green", "XOR": "tab:red"}


def _boundary(ax, axis, p, title, X, y) -> None:
    """p(class 1) on the lattice with the p = 0.5 contour and the four points."""
    probability_map(ax, axis, axis, floats(p), aspect="equal")
    lo, hi = axis[0], axis[-1]
    colours = np.where(np.asarray(y) == 1, "tab:red", "tab:blue")
    ax.scatter(X[:, 0], X[:, 1], c=colours, s=90, edgecolors="k", linewidths=1.0, zorder=3)
    ax.set(xlim=(lo, hi), ylim=(lo, hi), xlabel="x₁", ylabel="x₂", title=title)


def figure(result: dict, path) -> Path:
    """Perceptron mistakes per epoch, then the decision boundaries: perceptron on XOR,
    2-2-1 (a solved and, if any, a stuck run) and 2-4-1."""
    X_ = floats(result["X"])
    y = result["targets"]["XOR"]
    axis = floats(result["grid_axis"])
    panels = [("perceptron on XOR", result["perceptron_xor_grid"])]
    for arch, r in result["mlp"].items():
        n_ok, n = sum(r["solved"]), len(r["solved"])
        for key in ("solved", "stuck"):
            if key in r["grid"]:
                g = r["grid"][key]
                panels.append((f"MLP {arch}, seed {g['seed']}: {key}\n({n_ok} of {n} seeds solve XOR)", g["p"]))
    fig = new_figure((4.2 * (len(panels) + 1), 4.4))
    axes = fig.subplots(1, len(panels) + 1)
    ax = axes[0]
    for gate, r in result["perceptron"].items():
        m = r["mistakes"]
        ax.plot(range(1, len(m) + 1), m, "o-", color=GATE_COLOURS.get(gate), label=gate)
    ax.set(xlabel="epoch", ylabel="mistakes in the epoch", title="perceptron: mistakes per epoch",
           ylim=(-0.2, len(y) + 0.2))
    tidy([ax], legend="medium")
    for ax, (title, p) in zip(axes[1:], panels):
        _boundary(ax, axis, p, title, X_, y)
    fig.suptitle(result["title"])
    return save(fig, path)


EXPERIMENT = Experiment(NAME, TITLE, run, figure)
