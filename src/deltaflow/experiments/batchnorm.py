"""Batch normalisation at a high learning rate, and its batch against its running statistics.

Two networks, identical but for BatchNorm, train on the digits (8×8 images, 10 classes,
standardised) with softmax cross-entropy and plain SGD at η = 2, from the same seed,
on the same mini-batches (B = 32)::

    without:  Dense(64→64) → ReLU → Dense(64→64) → ReLU → Dense(64→64) → ReLU → Dense(64→10)
    with:     Dense(64→64) → BN → ReLU → … (the Dense layers before BN have no bias)

A run stops at its first non-finite loss (divergence). A third run, with BN at η = 1
(``STATS_LR``), measures the statistics: for every BN layer and step, before
the layer updates its buffers, the gaps between the batch's statistics and the running
ones that eval mode would use::

    gap_μ = ‖μ_B − running_mean‖ / ‖μ_B‖,   gap_σ² = ‖s²_B − running_var‖ / ‖s²_B‖

(s²_B the unbiased batch variance, which ``running_var`` averages). At each epoch's end the
whole training set's loss in train mode (statistics of that set; buffers restored after)
and in eval mode (running statistics) measure what the gap costs.

Full: 30 epochs (1350 steps) at η = 2 and the statistics run, plus final losses at
η ∈ {0.1, 0.3, 1, 2, 3} with and without BN (about 25 s). ``quick``: 6 epochs of the three runs.
Why η = 2 for the comparison: η = 1 is the edge of the plain network's stability, where its
fate depends on float32 summation order (one OpenBLAS build overflows at step 154 of seed 0,
another collapses to chance without overflowing); at η = 2 it overflows within a dozen steps
on every seed tried (0–2) and BN still trains to test accuracy ≥ 0.96.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deltaflow.data import iterate_minibatches, load_dataset
from deltaflow.experiments.base import Experiment, Ticker
from deltaflow.nn.losses import SoftmaxCrossEntropy
from deltaflow.metrics import accuracy
from deltaflow.nn.network import Sequential, mlp
from deltaflow.nn.norm import BatchNorm
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.viz.canvas import floats, new_figure, save, tidy

__all__ = ["EXPERIMENT", "run", "figure", "train"]

DATASET = "digits"
HIDDEN = [64, 64, 64]
LR = 2.0
STATS_LR = 1.0
BATCH = 32
SWEEP = (0.1, 0.3, 1.0, 2.0, 3.0)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.finfo(a.dtype).tiny))


def _forward_watching(net: Sequential, x: np.ndarray) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Training-mode forward, layer by layer, that records (gap_μ, gap_σ²) at each BatchNorm
    before it updates its running statistics. x : (B, n_in) -> (logits (B, K), gaps)."""
    gaps, a = [], x
    for layer in net.layers:
        if isinstance(layer, BatchNorm):
            gaps.append((_relative(a.mean(axis=0), layer.running_mean), _relative(a.var(axis=0, ddof=1), layer.running_var)))
        a = layer.forward(a, True)
    return a, gaps


def _set_losses(net: Sequential, loss, X, y) -> tuple[float, float]:
    """(train-mode, eval-mode) loss on (X, y); train mode's buffer updates are undone."""
    state = net.state_dict()
    train_mode = loss.forward(net.forward(X, True), y)
    net.load_state_dict(state)
    return train_mode, loss.forward(net.forward(X, False), y)


def train(data, norm: str | None, lr: float, epochs: int, seed: int) -> dict:
    """SGD on softmax cross-entropy; returns per-step losses and BN gaps, per-epoch set losses.

    The network's initial weights and the mini-batch order come from ``seed`` alone, so the
    runs with and without BN see the same batches in the same order.
    """
    net = mlp([data.n_features, *HIDDEN, data.n_classes], activation="relu", norm=norm,
              rng=np.random.default_rng([seed, 0]))
    loss = SoftmaxCrossEntropy()
    opt = get_optimizer("sgd", net.parameters(), lr=lr)
    order = np.random.default_rng([seed, 1])
    out = {"norm": norm or "none", "lr": lr, "step_loss": [], "gap_mean": [], "gap_var": [], "diverged_at": None,
           "epoch": [], "train_mode_loss": [], "eval_mode_loss": [], "test_accuracy": []}
    with np.errstate(all="ignore"):  # a diverging run overflows: it is detected below and stopped
        for epoch in range(1, epochs + 1):
            for xb, yb in iterate_minibatches(data.X_train, data.y_train, BATCH, rng=order, min_batch=2):
                z, gaps = _forward_watching(net, xb)
                value = loss.forward(z, yb)
                if not np.isfinite(value):
                    out["diverged_at"] = len(out["step_loss"])
                    return out
                out["step_loss"].append(value)
                if gaps:
                    out["gap_mean"].append([g[0] for g in gaps])
                    out["gap_var"].append([g[1] for g in gaps])
                net.backward(loss.backward())
                opt.step()
            train_mode, eval_mode = _set_losses(net, loss, data.X_train, data.y_train)
            predicted = net.forward(data.X_test, False).argmax(axis=1)
            out["epoch"].append(epoch)
            out["train_mode_loss"].append(train_mode)
            out["eval_mode_loss"].append(eval_mode)
            out["test_accuracy"].append(accuracy(data.y_test, predicted))
    return out


def _final(r: dict) -> float:
    return float(np.mean(r["step_loss"][-20:])) if r["diverged_at"] is None else float("inf")


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    epochs = 6 if quick else 30
    sweep = () if quick else tuple(lr for lr in SWEEP if lr != LR)
    data = load_dataset(DATASET, seed=seed)
    ticker = Ticker(progress, 3 + 2 * len(sweep))
    curves, finals = {}, {}
    for lr in (LR, *sweep):
        for norm in (None, "batch"):
            r = train(data, norm, lr, epochs, seed)
            finals[(lr, r["norm"])] = _final(r)
            if lr == LR:
                curves[r["norm"]] = r
            ticker.tick()
    statistics = train(data, "batch", STATS_LR, epochs, seed)
    ticker.tick()
    return _report(quick, seed, epochs, curves, finals, statistics)


def _report(quick, seed, epochs, curves, finals, stats) -> dict:
    plain, bn = curves["none"], curves["batch"]
    gm = np.asarray(stats["gap_mean"])
    steps_per_epoch = len(stats["step_loss"]) // epochs
    early, late = gm[:10].mean(), gm[-steps_per_epoch:].mean()
    gap_loss = abs(stats["eval_mode_loss"][-1] - stats["train_mode_loss"][-1])
    plain_end = (f"diverged (non-finite loss) at step {plain['diverged_at']}" if plain["diverged_at"] is not None
                 else f"ended at loss {_final(plain):.3g}")
    findings = [
        f"SGD η = {LR:g} on {DATASET}: without BatchNorm {plain_end}; with BatchNorm the loss went from "
        f"{bn['step_loss'][0]:.3g} to {_final(bn):.3g} (mean of the last 20 steps), test accuracy "
        f"{bn['test_accuracy'][-1]:.3f}",
        f"with BatchNorm at η = {STATS_LR:g}: ‖μ_B − running_mean‖/‖μ_B‖, mean over BN layers: {early:.3f} over "
        f"the first 10 steps, {late:.3f} over the last epoch",
        f"whole training set after {epochs} epochs at η = {STATS_LR:g}: train-mode loss "
        f"{stats['train_mode_loss'][-1]:.4f}, eval-mode (running statistics) {stats['eval_mode_loss'][-1]:.4f}, "
        f"difference {gap_loss:.2e}",
    ]
    lrs = sorted({lr for lr, _ in finals})
    table = {
        "title": "mean loss over the last 20 steps (∞: diverged)",
        "columns": ["η", "without BN", "with BN"],
        "rows": [[lr, finals[(lr, "none")], finals[(lr, "batch")]] for lr in lrs],
    }
    if len(lrs) > 1:
        findings.append("final loss by η, without / with BN: " + "; ".join(
            f"{lr:g}: {finals[(lr, 'none')]:.3g} / {finals[(lr, 'batch')]:.3g}" for lr in lrs))
    epochs_table = {
        "title": f"with BatchNorm, η = {STATS_LR:g}: whole-training-set loss per epoch",
        "columns": ["epoch", "train mode", "eval mode", "test accuracy"],
        "rows": [list(row) for row in zip(stats["epoch"], stats["train_mode_loss"], stats["eval_mode_loss"],
                                          stats["test_accuracy"])],
    }
    return {"name": "batchnorm", "title": EXPERIMENT.title, "quick": quick, "seed": seed, "dataset": DATASET,
            "hidden": HIDDEN, "lr": LR, "batch_size": BATCH, "epochs": epochs, "findings": findings,
            "stats_lr": STATS_LR, "tables": [table, epochs_table], "runs": curves, "statistics": stats,
            "gap_summary": {"early_mean_gap": early, "late_mean_gap": late, "eval_train_loss_gap": gap_loss}}


def figure(result: dict, path) -> Path:
    """Left: loss per step with and without BN. Middle: batch-to-running gaps per BN layer.
    Right: whole-set loss per epoch in train and eval mode."""
    fig = new_figure((16.0, 4.6))
    ax_loss, ax_gap, ax_mode = fig.subplots(1, 3)
    for label, r in result["runs"].items():
        losses = floats(r["step_loss"])
        end = f", diverged at step {r['diverged_at']}" if r["diverged_at"] is not None else ""
        ax_loss.semilogy(losses, linewidth=0.8, label=f"{'with' if label == 'batch' else 'without'} BatchNorm{end}")
        if r["diverged_at"] is not None:
            ax_loss.axvline(r["diverged_at"], color="red", linestyle=":", linewidth=1.0)
    ax_loss.set(xlabel="step", ylabel="mini-batch loss", title=f"SGD η = {result['lr']:g}, {result['dataset']}")
    bn = result["statistics"]
    for key, style in (("gap_mean", "-"), ("gap_var", "--")):
        gaps = floats(bn[key])
        symbol = "μ" if key == "gap_mean" else "σ²"
        for layer in range(gaps.shape[1] if gaps.ndim == 2 else 0):
            ax_gap.semilogy(gaps[:, layer], style, linewidth=0.7, label=f"{symbol}, BN layer {layer + 1}")
    ax_gap.set(xlabel="step", ylabel="‖batch − running‖ / ‖batch‖", title=f"batch against running statistics, η = {result['stats_lr']:g}")
    ax_mode.plot(bn["epoch"], bn["train_mode_loss"], marker="o", markersize=3, label="train mode (set statistics)")
    ax_mode.plot(bn["epoch"], bn["eval_mode_loss"], marker="s", markersize=3, label="eval mode (running statistics)")
    ax_mode.set_yscale("log")
    ax_mode.set(xlabel="epoch", ylabel="training-set loss", title="with BatchNorm: train against eval mode")
    tidy((ax_loss, ax_gap, ax_mode), legend=8)
    return save(fig, path)


EXPERIMENT = Experiment("batchnorm", "Batch normalisation at a high learning rate", run, figure)
