"""Softmax + cross-entropy against mean squared error on softmax outputs.

One network, digits → Dense(64→32) → tanh → Dense(32→10) → logits z, from the same seed
and on the same mini-batches (B = 32, plain SGD, η = 0.1), is trained with either loss
on ŷ = softmax(z) and the one-hot target y (K = 10 classes)::

    cross-entropy  L = −Σ_k y_k log ŷ_k              ∂L/∂z = ŷ − y
    MSE            L = (1/K) Σ_k (ŷ_k − y_k)²         ∂L/∂z = J_softmaxᵀ · 2(ŷ − y)/K,
                   J_softmaxᵀ g = ŷ ⊙ (g − ⟨g, ŷ⟩)

(each a mean over the batch; the engine's ``SoftmaxCrossEntropy`` and ``MeanSquaredError``
compute them, the latter on ŷ, followed by the softmax Jacobian product). Plain SGD, because
an adaptive optimiser would rescale away the size of the gradient, which is the point.

Then the gradient at a confidently wrong output: logits z = (0, …, 0, m, 0, …) with the
margin m on a wrong class and the true class 0. Cross-entropy's ‖∂L/∂z‖ tends to √2 as
ŷ_wrong → 1; MSE's carries the factor ŷ(1 − ŷ) of the saturated softmax and shrinks like
e^(−m).

Full: 20 epochs (45 steps each, 900 in all) and margins 0 … 12 (about 5 s). ``quick``: 4 epochs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deltaflow.data import iterate_minibatches, load_dataset
from deltaflow.experiments.base import Experiment, Ticker
from deltaflow.nn.losses import MeanSquaredError, SoftmaxCrossEntropy, softmax
from deltaflow.metrics import accuracy
from deltaflow.nn.network import mlp
from deltaflow.optim.optimizers import get_optimizer
from deltaflow.viz.canvas import floats, new_figure, save, tidy

__all__ = ["EXPERIMENT", "run", "figure", "cross_entropy_grad", "mse_softmax_grad", "softmax_backward"]

DATASET = "digits"
HIDDEN = [32]
LR = 0.1
BATCH = 32
MARGINS = np.arange(0.0, 12.01, 1.0)
LOSS_NAMES = {"cross_entropy": "softmax + cross-entropy", "mse": "MSE on softmax outputs"}


def softmax_backward(p: np.ndarray, dp: np.ndarray) -> np.ndarray:
    """∂L/∂z from ∂L/∂ŷ through ŷ = softmax(z): J_softmaxᵀ dp = ŷ ⊙ (dp − Σ_k dp_k ŷ_k).

    p, dp : (B, K) -> (B, K). (J = diag(ŷ) − ŷŷᵀ is symmetric.)
    """
    return p * (dp - (dp * p).sum(axis=1, keepdims=True))


def cross_entropy_grad(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """(L, ∂L/∂z) of softmax cross-entropy, the batch mean: ∂L/∂z = (softmax(z) − y)/B."""
    loss = SoftmaxCrossEntropy()
    value = loss.forward(z, labels)
    return value, loss.backward()


def mse_softmax_grad(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """(L, ∂L/∂z) of L = mean over B·K of (softmax(z) − one_hot(y))², through the softmax."""
    p = softmax(z)
    Y = np.eye(z.shape[1], dtype=z.dtype)[labels]
    loss = MeanSquaredError()
    value = loss.forward(p, Y)
    return value, softmax_backward(p, loss.backward())


GRADS = {"cross_entropy": cross_entropy_grad, "mse": mse_softmax_grad}


def train(data, loss_name: str, epochs: int, seed: int) -> dict:
    """SGD with one of the two losses; per-step loss, per-epoch loss and accuracies."""
    net = mlp([data.n_features, *HIDDEN, data.n_classes], activation="tanh", rng=np.random.default_rng([seed, 0]))
    opt = get_optimizer("sgd", net.parameters(), lr=LR)
    grad = GRADS[loss_name]
    order = np.random.default_rng([seed, 1])
    out = {"loss": loss_name, "step_loss": [], "epoch": [], "train_loss": [], "train_accuracy": [], "test_accuracy": []}
    for epoch in range(1, epochs + 1):
        for xb, yb in iterate_minibatches(data.X_train, data.y_train, BATCH, rng=order):
            value, dz = grad(net.forward(xb), yb)
            out["step_loss"].append(value)
            net.backward(dz)
            opt.step()
        z_train = net.forward(data.X_train, False)
        out["epoch"].append(epoch)
        out["train_loss"].append(grad(z_train, data.y_train)[0])
        out["train_accuracy"].append(accuracy(data.y_train, z_train.argmax(axis=1)))
        out["test_accuracy"].append(accuracy(data.y_test, net.forward(data.X_test, False).argmax(axis=1)))
    return out


def wrong_output_gradients(margins=MARGINS, classes: int = 10) -> dict:
    """‖∂L/∂z‖ for one example whose logits put margin m on class 1 while the label is 0.

    Returns {"margin": (M,), "p_true": (M,), "cross_entropy": (M,), "mse": (M,)}, float64.
    """
    out = {"margin": np.asarray(margins, float), "p_true": [], "cross_entropy": [], "mse": []}
    label = np.array([0])
    for m in out["margin"]:
        z = np.zeros((1, classes))
        z[0, 1] = m
        out["p_true"].append(softmax(z)[0, 0])
        for name, grad in GRADS.items():
            out[name].append(float(np.linalg.norm(grad(z, label)[1])))
    return {k: np.asarray(v) for k, v in out.items()}


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    epochs = 4 if quick else 20
    data = load_dataset(DATASET, seed=seed)
    runs, ticker = {}, Ticker(progress, len(GRADS) + 1)
    for name in GRADS:
        runs[name] = train(data, name, epochs, seed)
        ticker.tick()
    grads = wrong_output_gradients()
    ticker.tick()
    return _report(quick, seed, epochs, runs, grads)


def _report(quick, seed, epochs, runs, grads) -> dict:
    ce, mse = runs["cross_entropy"], runs["mse"]
    first = {n: next((e for e, a in zip(r["epoch"], r["test_accuracy"]) if a >= 0.9), None) for n, r in runs.items()}
    m_hi = float(grads["margin"][-1])
    findings = [
        f"{DATASET}, SGD η = {LR:g}, {epochs} epochs: test accuracy {ce['test_accuracy'][-1]:.3f} with cross-entropy, "
        f"{mse['test_accuracy'][-1]:.3f} with MSE on softmax outputs (first epoch at ≥ 0.9: "
        f"{first['cross_entropy']} and {first['mse']})",
        f"confidently wrong output (margin {m_hi:g}, p(true) = {grads['p_true'][-1]:.1e}): ‖∂L/∂z‖ = "
        f"{grads['cross_entropy'][-1]:.3f} for cross-entropy, {grads['mse'][-1]:.2e} for MSE "
        f"(ratio {grads['cross_entropy'][-1] / grads['mse'][-1]:.0f})",
        f"at margin 0 (undecided): {grads['cross_entropy'][0]:.3f} against {grads['mse'][0]:.3f}",
    ]
    curve_table = {
        "title": "per epoch: training loss (each its own) and test accuracy",
        "columns": ["epoch", "CE train loss", "CE test acc", "MSE train loss", "MSE test acc"],
        "rows": [[e, a, b, c, d] for e, a, b, c, d in
                 zip(ce["epoch"], ce["train_loss"], ce["test_accuracy"], mse["train_loss"], mse["test_accuracy"])],
    }
    grad_table = {
        "title": "‖∂L/∂z‖ at logits with margin m on a wrong class (10 classes)",
        "columns": ["margin m", "p(true class)", "cross-entropy", "MSE on softmax"],
        "rows": [list(r) for r in zip(grads["margin"], grads["p_true"], grads["cross_entropy"], grads["mse"])],
    }
    return {"name": "losses", "title": EXPERIMENT.title, "quick": quick, "seed": seed, "dataset": DATASET,
            "hidden": HIDDEN, "lr": LR, "optimizer": "sgd", "epochs": epochs, "mse_outputs": "softmax",
            "findings": findings, "tables": [curve_table, grad_table], "runs": runs, "wrong_output": grads}



def figure(result: dict, path) -> Path:
    """Left: loss per step. Middle: test accuracy per epoch. Right: ‖∂L/∂z‖ against the margin."""
    fig = new_figure((16.0, 4.6))
    ax_loss, ax_acc, ax_grad = fig.subplots(1, 3)
    for name, r in result["runs"].items():
        label = LOSS_NAMES.get(name, name)
        ax_loss.semilogy(floats(r["step_loss"]), linewidth=0.7, label=label)
        ax_acc.plot(r["epoch"], floats(r["test_accuracy"]), marker="o", markersize=3, label=label)
    ax_loss.set(xlabel="step", ylabel="mini-batch loss (each its own)", title=f"SGD η = {result['lr']:g}, {result['dataset']}")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy", title="accuracy")
    ax_acc.set_ylim(0, 1.02)
    g = result["wrong_output"]
    for name in ("cross_entropy", "mse"):
        ax_grad.semilogy(floats(g["margin"]), floats(g[name]), marker="o", markersize=3, label=LOSS_NAMES[name])
    ax_grad.set(xlabel="margin m of the wrong class's logit", ylabel="‖∂L/∂z‖",
                title="gradient at a confidently wrong output")
    tidy((ax_loss, ax_acc, ax_grad), legend=8)
    return save(fig, path)


EXPERIMENT = Experiment("losses", "Cross-entropy against mean squared error", run, figure)
