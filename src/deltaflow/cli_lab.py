"""The commands that look inside the mathematics rather than train a run: ``explain`` (one
example, every number), ``experiment`` (one classic result) and ``report`` (all of them
on one HTML page). ``cli`` registers them on its app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from deltaflow.cli_options import (BarProgress, UsageError, console, csv_list, load_predictor, numbers, out,
                                   progress_bars)

__all__ = ["explain", "experiment", "report"]


def _explain_fresh(layers: str, activation: str, loss: str, x: list[float], y: str, classes: int, seed: int, dtype: str):
    """A new network [len(x), *layers, n_L] and the target for ``explain``: a class label
    for cross_entropy (n_L = classes), a 0/1 number for bce (n_L = 1, logits), a target row
    for mse (n_L = its length, sigmoid output as in the classic derivation)."""
    from deltaflow.nn.losses import get_loss
    from deltaflow.nn.network import mlp

    hidden = csv_list(layers, int, "layers")
    lossf = get_loss(loss)
    if loss == "cross_entropy":
        try:
            target = int(y)
        except ValueError:
            raise UsageError(f"--y must be a class label 0..{classes - 1} for cross_entropy, got {y!r}") from None
        n_out, output = classes, None
    else:
        target = np.asarray(numbers(y, "y"), dtype=dtype)
        n_out, output = (1, None) if loss == "bce" else (target.size, "sigmoid")
    net = mlp([len(x), *hidden, n_out], activation, output=output, dtype=dtype, rng=np.random.default_rng(seed))
    return net, lossf, target


def _explain_model(path: Path, x: list[float], y: str):
    """A saved model, its loss, the example through its input pipeline and y as its target."""
    pred = load_predictor(path)
    xs = pred.prepare(np.asarray([x], dtype=np.float64).reshape(1, -1))[0]
    if pred.task.loss_name == "cross_entropy":
        labels = [str(c) for c in pred.class_labels]
        if y not in labels:
            raise UsageError(f"--y must be one of the model's classes {', '.join(labels)}, got {y!r}")
        return pred.net, pred.task.loss, xs, labels.index(y)
    return pred.net, pred.task.loss, xs, np.asarray(numbers(y, "y"), dtype=pred.dtype)


def explain(
    x: str = typer.Option("1,0", help="The example's inputs, comma-separated."),
    y: str = typer.Option("1", help="Its target: a class label, or comma-separated values."),
    model: Optional[Path] = typer.Option(None, help="A model file (runs/<name>/model.npz); default: a new small network."),
    layers: str = typer.Option("2", help="Hidden widths of the new network."),
    activation: str = typer.Option("sigmoid", help="Hidden activation of the new network."),
    loss: str = typer.Option("mse", help="Loss of the new network: mse, bce or cross_entropy."),
    classes: int = typer.Option(2, help="Classes of the new network with cross_entropy."),
    lr: Optional[float] = typer.Option(None, help="Also show one gradient-descent step with this η."),
    seed: int = typer.Option(0, help="Initialisation seed of the new network."),
    dtype: str = typer.Option("float64", help="float64 (default here, for exact numbers) or float32."),
    as_json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
):
    """One example's forward and backward pass, every number with its equation."""
    import json

    from deltaflow._checks import as_dtype
    from deltaflow.diagnostics.explain import explain as explain_example

    values = numbers(x, "x")
    if model is not None:
        net, lossf, xs, target = _explain_model(model, values, y)
    else:
        net, lossf, target = _explain_fresh(layers, activation, loss, values, y, classes, seed, as_dtype(dtype))
        xs = np.asarray(values, dtype=net.dtype)
    e = explain_example(net, lossf, xs, target, lr=lr)
    out.print(json.dumps(e.to_dict(), indent=1) if as_json else e.format(), highlight=False, markup=False)


def experiment(
    name: str = typer.Argument(..., help="xor, collapse, uat, vanishing, exploding, cost, optimizers, batchnorm or losses."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for result.json and the figure (default experiments/NAME)."),
    quick: bool = typer.Option(False, help="Reduced grid (seconds instead of minutes)."),
    seed: int = typer.Option(0, help="Random seed."),
):
    """Reproduce one classic result: its numbers as JSON and its figure as PNG."""
    from deltaflow import experiments

    exp = experiments.get(name)
    folder = out_dir if out_dir is not None else Path("experiments") / name
    with progress_bars() as progress:
        result, json_path, png = experiments.run_experiment(exp, folder, quick=quick, seed=seed,
                                                            progress=BarProgress(progress, name))
    out.print(f"[bold]{result['title']}[/]")
    for line in result["findings"]:
        out.print(f"  • {line}", highlight=False)
    console.print(f"wrote {json_path} and {png}")


def report(
    out_dir: Path = typer.Option(Path("experiments"), "--out", help="Folder for the experiments and report.html."),
    only: Optional[str] = typer.Option(None, help="Comma-separated experiment names (default: all)."),
    quick: bool = typer.Option(False, help="Reduced grids."),
    seed: int = typer.Option(0, help="Random seed."),
):
    """Run every experiment and write one self-contained HTML page (figures inlined)."""
    from deltaflow import experiments
    from deltaflow.report import build_report

    names = csv_list(only, what="only") if only else list(experiments.NAMES)
    with progress_bars() as progress:
        bar = {}

        def start(name):
            if bar:
                progress.update(bar["task"].task_id, visible=False)
            bar["task"] = BarProgress(progress, name)

        path = build_report(out_dir, names, quick=quick, seed=seed, on_start=start,
                            progress=lambda done, total: bar["task"](done, total))
    console.print(f"report written to {path}")
