"""Linear collapse: without a non-linearity, depth adds nothing.

Two affine layers compose to one: W₂(W₁x + b₁) + b₂ = (W₂W₁)x + (W₂b₁ + b₂), and by
induction a stack of L Dense layers with identity activations is the single layer

    W = W_L ··· W₂ W₁,    b = W_L(··· (W₂b₁ + b₂) ···) + b_L,

which ``collapse_linear`` computes. Such a network's decision boundary is the line
{x : (w₁ − w₀)·x + (b₁ − b₀) = 0}, so it cannot separate the ``circle`` set (a disc inside
a ring) or the XOR quadrants.

The network: Dense 2→16→16→16→2 (``DEPTH`` = 3 hidden layers of ``WIDTH`` = 16), softmax
cross-entropy, full-batch Adam (η = 0.01, ``STEPS`` = 400), float64, trained three ways
per data set: identity activations (the deep linear network), tanh, and ReLU. Measured:

* max |ŷ_deep(x) − ŷ_collapsed(x)| over the test points and a grid, at initialisation
  and after training (float64 rounding only: about 1e-15);
* train and test accuracy of each network (400 points, 20 % held out), against the
  majority-class rate (chance);
* that the trained linear network and its collapsed Dense predict the same class everywhere.

``quick=True``: 150 steps. The full run takes a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deltaflow.data import load_dataset
from deltaflow.experiments.base import Experiment, Ticker, full_batch
from deltaflow.nn.losses import SoftmaxCrossEntropy, softmax
from deltaflow.metrics import accuracy
from deltaflow.nn.network import collapse_linear, mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.viz.boundary import probability_map
from deltaflow.viz.canvas import floats, new_figure, save

NAME = "collapse"
TITLE = "Linear collapse: a deep network without activations is one Dense layer"

DATASETS = ("circle", "xor")
ACTIVATIONS = ("identity", "tanh", "relu")
DEPTH = 3
WIDTH = 16
N_SAMPLES = 400
LR = 0.01
STEPS = 400
QUICK_STEPS = 150
GRID = 60
MARGIN = 0.1


def build(activation: str, seed: int):
    """Dense 2 → WIDTH × DEPTH → 2 with ``activation`` between, float64, Xavier/He by default."""
    return mlp([2] + [WIDTH] * DEPTH + [2], activation, dtype=np.float64, rng=np.random.default_rng(seed))


def train(net, X: np.ndarray, y: np.ndarray, steps: int) -> list[float]:
    """Full-batch Adam on softmax cross-entropy; returns the loss before each step."""
    return full_batch(net, SoftmaxCrossEntropy(), get_optimizer("adam", net.parameters(), lr=LR), X, y, steps)


def lattice(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GRID × GRID points covering X with a MARGIN: axes xs, ys (GRID,) and points (GRID², 2), x₁ fastest."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = MARGIN * (hi - lo)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], GRID)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], GRID)
    xx, yy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([xx.ravel(), yy.ravel()])


def collapse_gap(net, points: np.ndarray) -> float:
    """max |ŷ_deep − ŷ_collapsed| over ``points`` : (n, 2), ŷ the logits."""
    single = collapse_linear(net)
    return float(np.abs(net.forward(points, False) - single.forward(points)).max())


def run_dataset(name: str, seed: int, steps: int) -> dict:
    """Train the three networks on one data set; accuracies, collapse gaps and p(class 1) on a lattice."""
    data = load_dataset(name, n_samples=N_SAMPLES, seed=seed, dtype="float64")
    Xtr, ytr, Xte, yte = data.X_train, data.y_train, data.X_test, data.y_test
    xs, ys, points = lattice(np.vstack([Xtr, Xte]))
    check = np.vstack([Xte, points])
    out = {"xs": xs, "ys": ys, "X_test": Xte, "y_test": yte,
           "chance": float(max(np.mean(yte), 1 - np.mean(yte))), "nets": {}}
    for act in ACTIVATIONS:
        net = build(act, seed)
        row = {}
        if act == "identity":
            row["gap_init"] = collapse_gap(net, check)
        history = train(net, Xtr, ytr, steps)
        row.update(loss_first=history[0], loss_last=history[-1],
                   train_accuracy=accuracy(ytr, net.forward(Xtr, False).argmax(axis=1)),
                   test_accuracy=accuracy(yte, net.forward(Xte, False).argmax(axis=1)),
                   p=softmax(net.forward(points, False))[:, 1].reshape(GRID, GRID))
        if act == "identity":
            single = collapse_linear(net)
            row["gap_trained"] = collapse_gap(net, check)
            row["same_class_everywhere"] = bool(np.array_equal(
                net.forward(check, False).argmax(axis=1), single.forward(check).argmax(axis=1)))
            row["W"], row["b"] = single.W.value.copy(), single.b.value.copy()
        out["nets"][act] = row
    return out


def _findings(sets: dict) -> list[str]:
    out = []
    for name, d in sets.items():
        lin = d["nets"]["identity"]
        out.append(f"{name}: deep linear network against its collapsed Dense, max |Δŷ| = {lin['gap_init']:.1e} "
                   f"at initialisation and {lin['gap_trained']:.1e} after training (float64); same predicted "
                   f"class at every test and grid point: {'yes' if lin['same_class_everywhere'] else 'no'}")
        accs = ", ".join(f"{act} {r['test_accuracy']:.3f}" for act, r in d["nets"].items())
        out.append(f"{name}: test accuracy {accs}; chance (majority class) {d['chance']:.3f}")
    return out


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    """Both data sets, three activations each; returns the JSON-ready result."""
    steps = QUICK_STEPS if quick else STEPS
    sets, ticker = {}, Ticker(progress, len(DATASETS))
    for name in DATASETS:
        sets[name] = run_dataset(name, seed, steps)
        ticker.tick()
    rows = [[name, act, r["train_accuracy"], r["test_accuracy"], d["chance"], r["loss_last"]]
            for name, d in sets.items() for act, r in d["nets"].items()]
    gaps = [[name, d["nets"]["identity"]["gap_init"], d["nets"]["identity"]["gap_trained"]]
            for name, d in sets.items()]
    return {
        "name": NAME, "title": TITLE, "quick": bool(quick), "seed": int(seed),
        "depth": DEPTH, "width": WIDTH, "steps": steps, "lr": LR, "datasets": sets,
        "findings": _findings(sets),
        "tables": [
            {"title": f"accuracy after {steps} Adam steps (Dense 2→{WIDTH}×{DEPTH}→2)",
             "columns": ["data", "activation", "train accuracy", "test accuracy", "chance", "final loss"],
             "rows": rows},
            {"title": "max |ŷ_deep − ŷ_collapsed| over test and grid points (float64)",
             "columns": ["data", "at initialisation", "after training"], "rows": gaps},
        ],
    }


# --- figure ----------------------------------------------------------------------------

LABELS = {"identity": "linear (no activation)", "tanh": "tanh", "relu": "ReLU"}


def figure(result: dict, path) -> Path:
    """Decision boundaries: one row per data set, one column per activation, test points on top."""
    sets = result["datasets"]
    acts = list(next(iter(sets.values()))["nets"])
    fig = new_figure((4.2 * len(acts), 4.0 * len(sets)))
    axes = np.atleast_2d(fig.subplots(len(sets), len(acts)))
    for i, (name, d) in enumerate(sets.items()):
        xs, ys = floats(d["xs"]), floats(d["ys"])
        Xte, yte = floats(d["X_test"]), np.asarray(d["y_test"])
        for j, act in enumerate(acts):
            ax, r = axes[i, j], d["nets"][act]
            probability_map(ax, xs, ys, floats(r["p"]))
            colours = np.where(yte == 1, "tab:red", "tab:blue")
            ax.scatter(Xte[:, 0], Xte[:, 1], c=colours, s=14, edgecolors="k", linewidths=0.4)
            acc = r["test_accuracy"]
            ax.set_title(f"{name}, {LABELS.get(act, act)}: test acc. {'n/a' if acc is None else f'{acc:.3f}'}",
                         fontsize="medium")
            ax.set(xlabel="x₁", ylabel="x₂", xlim=(xs[0], xs[-1]), ylim=(ys[0], ys[-1]))
    fig.suptitle(f"{result['title']} (Dense 2→{result['width']}×{result['depth']}→2, {result['steps']} Adam steps)")
    return save(fig, path)


EXPERIMENT = Experiment(NAME, TITLE, run, figure)
