"""The ``deltaflow`` command: train, evaluate, predict, datasets, plot, explain, experiment, report.

Every command has ``--help``. Bad input exits with status 2 and one line on stderr,
``error: ...``, saying what is wrong (no traceback); a run, a model file or a data file
is never left half-written by a failure.

Exit status of ``train`` (``EXIT_STATUS``): 0 when the run completed (also by early
stopping); 3 when training diverged (the run keeps the last finite weights and the
message, printed in yellow, names the step and the first non-finite layer); 130 when
Ctrl-C stopped it (the completed epochs are still written); 2 for bad input. A run that
diverged or was interrupted never replaces a completed one of the same name: it is
written beside it, as ``runs/<name>.<diverged|interrupted>-<time>/``, and the last line
says where.

The run commands live here; ``cli_lab`` holds explain, experiment and report, and
``cli_options`` what all of them share (consoles, list options, the config from flags).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from deltaflow.cli_lab import experiment, explain, report
from deltaflow.cli_options import UsageError, build_config, console, csv_list, load_predictor, out

# train's exit status by FitResult.stop_reason; 2 (bad input) is main's
EXIT_STATUS = {"completed": 0, "early_stopping": 0, "diverged": 3, "interrupted": 130}

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Neural networks and backpropagation, exactly.")


class _ProgressCallback:
    """A rich progress bar over epochs showing the latest losses and accuracy."""

    def __init__(self, progress: Progress, task_id, metric: str):
        self.progress, self.task_id, self.metric = progress, task_id, metric

    def on_step(self, trainer, step, loss):
        pass

    def on_epoch(self, trainer, epoch, row):
        m = self.metric
        self.progress.update(
            self.task_id, advance=1,
            status=f"loss {row['train_loss']:.4f} / {row['test_loss']:.4f}  "
                   f"{m} {row['train_' + m]:.3f} / {row['test_' + m]:.3f}",
        )


@app.command()
def train(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="RunConfig JSON file; flags override it."),
    dataset: Optional[str] = typer.Option(None, help="Data set name (see `deltaflow datasets`)."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Train on this CSV or NPZ file."),
    target: Optional[str] = typer.Option(None, help="Target column of --csv (default: the last)."),
    samples: Optional[int] = typer.Option(None, help="Number of generated samples."),
    noise: Optional[float] = typer.Option(None, help="Noise level of generated data."),
    classes: Optional[int] = typer.Option(None, help="Classes of the K-class spiral."),
    features: Optional[str] = typer.Option(None, help="Input features, e.g. x1,x2,x1^2,x2^2,x1x2,sin_x1,sin_x2."),
    test_fraction: Optional[float] = typer.Option(None, help="Fraction held out for testing."),
    layers: Optional[str] = typer.Option(None, help="Hidden layer widths, e.g. 8,8."),
    activation: Optional[str] = typer.Option(None, help="Activation, or one per hidden layer (tanh,relu)."),
    norm: Optional[str] = typer.Option(None, help="none, batch, layer or residual."),
    dropout: Optional[float] = typer.Option(None, help="Dropout probability."),
    init: Optional[str] = typer.Option(None, help="Initialiser (auto, xavier_uniform, he_normal, torch, ...)."),
    loss: Optional[str] = typer.Option(None, help="cross_entropy, bce or mse (default: from the task)."),
    optimizer: Optional[str] = typer.Option(None, help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw."),
    lr: Optional[float] = typer.Option(None, help="Learning rate η."),
    momentum: Optional[float] = typer.Option(None, help="Momentum (SGD, RMSprop)."),
    weight_decay: Optional[float] = typer.Option(None, help="Optimiser weight decay."),
    schedule: Optional[str] = typer.Option(None, help="none, step, exponential, cosine or warmup."),
    epochs: Optional[int] = typer.Option(None, help="Epochs."),
    steps: Optional[int] = typer.Option(None, help="Stop after this many optimiser steps."),
    batch_size: Optional[int] = typer.Option(None, help="Mini-batch size B."),
    clip_norm: Optional[float] = typer.Option(None, help="Clip the global gradient norm to this value."),
    l1: Optional[float] = typer.Option(None, help="L1 penalty on weights."),
    l2: Optional[float] = typer.Option(None, help="L2 penalty on weights."),
    seed: Optional[int] = typer.Option(None, help="Random seed (data, initialisation, shuffling)."),
    dtype: Optional[str] = typer.Option(None, help="float32 (default) or float64."),
    probe_every: Optional[int] = typer.Option(None, help="Record gradient flow every k-th step (probes.npz and a figure)."),
    name: Optional[str] = typer.Option(None, help="Run name (folder under --runs)."),
    runs: Path = typer.Option(Path("runs"), help="Folder that holds runs."),
    figures: bool = typer.Option(True, help="Write figures."),
):
    """Train a network and write runs/<name>/ (config, history, model, figures)."""
    from deltaflow.training.runs import save_run
    from deltaflow.training.trainer import Trainer

    cfg = _train_config(config, dataset, csv_path, features, layers, activation, {
        "data.target": target, "data.n_samples": samples, "data.noise": noise, "data.classes": classes,
        "data.test_fraction": test_fraction, "model.norm": norm, "model.dropout": dropout, "model.init": init,
        "loss": loss, "optimizer.name": optimizer, "optimizer.lr": lr, "optimizer.momentum": momentum,
        "optimizer.weight_decay": weight_decay, "schedule.name": schedule, "epochs": epochs, "steps": steps,
        "batch_size": batch_size, "clip_norm": clip_norm, "l1": l1, "l2": l2, "seed": seed, "dtype": dtype,
        "probe_every": probe_every, "name": name,
    })
    trainer = Trainer(cfg)
    _announce(trainer, cfg)
    result = _train_with_bar(trainer)
    run_dir = save_run(result, runs, figures=figures)
    _print_outcome(result, run_dir, figures)
    raise SystemExit(EXIT_STATUS[result.stop_reason])


def _train_config(config: Optional[Path], dataset, csv_path, features, layers, activation, fields: dict):
    """``train``'s RunConfig: the file's (or the defaults) with ``fields`` and the flags that
    need parsing applied (--csv names the data set "csv"; --activation one or one per layer)."""
    acts = csv_list(activation, what="activation")
    return build_config(config, {
        "data.name": "csv" if csv_path is not None else dataset, "data.path": str(csv_path) if csv_path else None,
        "data.features": csv_list(features, what="features"), "model.hidden": csv_list(layers, int, "layers"),
        "model.activation": acts[0] if acts and len(acts) == 1 else acts, **fields,
    })


def _announce(trainer, cfg) -> None:
    """The data, the loss, the optimiser and the network, before the first step."""
    d = trainer.dataset
    console.print(f"[bold]{d.name}[/]: {len(d.X_train)} train / {len(d.X_test)} test, "
                  f"{d.n_features} features, {d.task}; loss {trainer.task.loss_name}, "
                  f"optimizer {cfg.optimizer.name}")
    console.print(trainer.net.summary(), highlight=False)


def _train_with_bar(trainer):
    """``trainer.run()`` under a bar over the planned epochs; returns its result."""
    with Progress(TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TextColumn("{task.fields[status]}"),
                  TimeElapsedColumn(), console=console) as progress:
        task_id = progress.add_task("train", total=trainer.planned_epochs, status="")
        trainer.callbacks.append(_ProgressCallback(progress, task_id, trainer.metric_name))
        return trainer.run()


def _print_outcome(result, run_dir: Path, figures: bool) -> None:
    """The final test numbers, why training stopped (a divergence in yellow) and where the run is."""
    m = result.metric_name
    if result.history["epoch"]:
        console.print(f"test loss {result.final('test_loss'):.4f}, test {m} {result.final('test_' + m):.4f} "
                      f"after {result.history['epoch'][-1]} epochs ({result.stop_reason})")
    if result.message:
        console.print(f"[yellow]{result.message}[/]", highlight=False)
    console.print(f"run written to {run_dir}/" + (f" (figures in {run_dir}/figures/)" if figures else ""))
    name = result.config.name
    if name and run_dir.name != name:
        console.print(f"[yellow]{run_dir.parent / name}/ already holds a run: kept as it was, since this one "
                      f"did not complete ({result.stop_reason})[/]", highlight=False)


@app.command()
def evaluate(
    model: Path = typer.Argument(..., help="A model.npz file."),
    dataset: Optional[str] = typer.Option(None, help="Data set (default: the one the model was trained on)."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Evaluate on this CSV file (all rows)."),
    target: Optional[str] = typer.Option(None, help="Target column of --csv."),
    seed: Optional[int] = typer.Option(None, help="Seed for generating the data set (default: the run's)."),
):
    """Loss and accuracy (or R²) of a saved model on a data set's test part, or on a CSV.

    The loss is the one the model was trained with, so the run's own test part gives the
    last test_loss and test accuracy of its history.
    """
    from deltaflow.training.config import DataConfig, RunConfig

    if csv_path is not None and (dataset is not None or seed is not None):
        raise UsageError("give either --csv or --dataset/--seed, not both")
    if target is not None and csv_path is None:
        raise UsageError("--target applies to --csv only")
    pred = load_predictor(model)
    if csv_path is not None:
        X, y, where = _read_labelled(csv_path, target, pred)
    else:
        if pred.model.config is None and dataset is None:
            raise UsageError(f"{model} holds no run config: name the data with --dataset or --csv")
        cfg = RunConfig.from_dict(pred.model.config) if pred.model.config else RunConfig()
        if dataset is not None and dataset != cfg.data.name:
            # another data set: its own defaults, keeping only how the run split its data
            cfg = cfg.model_copy(update={"data": DataConfig(
                name=dataset, test_fraction=cfg.data.test_fraction, classes=cfg.data.classes)})
        if seed is not None:
            cfg = cfg.model_copy(update={"seed": seed})
        c = RunConfig.from_dict(cfg.model_dump())
        d = c.data.load(seed=c.seed, dtype=c.dtype)
        # the raw rows go through the model's own features and standardisation
        X = d.X_test_raw
        y = np.asarray(d.class_labels)[d.y_test] if d.task == "classification" else d.y_test
        where = f"{d.name} test part ({len(y)} rows)"
    if X.shape[1] != pred.n_inputs:
        raise UsageError(f"the model expects {_columns(pred.n_inputs, 'input')}, {where} has {X.shape[1]}")
    loss_value, score = pred.evaluate(X, y)
    out.print(f"{where}: loss {loss_value:.6f} ({pred.task.loss_name})  {pred.task.metric_name} {score:.4f}",
              highlight=False)


def _columns(n: int, what: str = "") -> str:
    """``"1 column"``, ``"2 input columns"``."""
    return f"{n} {what + ' ' if what else ''}column{'' if n == 1 else 's'}"


def _read_labelled(path: Path, target: Optional[str], pred):
    """(X, y, where) of ``evaluate --csv``: the target is --target, else the column the model
    was trained to predict when the file has it, else the last column."""
    from deltaflow.data import read_table

    names = read_table(path, None, require_target=False, dtype=pred.dtype).feature_names
    trained = pred.meta.get("target_name")
    if target is None and trained in names:
        target = trained
    X, y, _, target = read_table(path, target, dtype=pred.dtype)
    if X.shape[1] != pred.n_inputs:
        hint = " (is the target column missing? name it with --target)" if len(names) == pred.n_inputs else ""
        raise UsageError(f"{path} has {_columns(len(names))}: the target {target!r} and {_columns(X.shape[1], 'input')}; "
                         f"the model expects {_columns(pred.n_inputs, 'input')} and a target{hint}")
    return X, y, str(path)


@app.command()
def predict(
    model: Path = typer.Argument(..., help="A model.npz file."),
    input_csv: Path = typer.Argument(..., help="CSV with a header and one row per example."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write predictions here (default: stdout)."),
):
    """Predict every row of a CSV: the class (and its probabilities) or the value.

    The CSV holds the raw inputs (for a toy set trained with derived features, just x1
    and x2). Its columns are taken by name when it has every input the model was trained
    on (so extra columns, such as the target, are ignored), else all of them in order.
    Numbers are written in full (the shortest text that reads back to the same value).
    """
    pred = load_predictor(model)
    X = _read_inputs(input_csv, pred)
    if pred.task.kind == "regression":
        values = pred.predict(X).reshape(len(X), -1)
        header = ["prediction"] if values.shape[1] == 1 else [f"prediction_{k}" for k in range(values.shape[1])]
        rows = [[str(v) for v in row] for row in values]
    else:
        labels = pred.class_labels
        proba = pred.predict_proba(X)
        header = ["prediction", *[f"p_{v}" for v in labels]]
        rows = [[str(labels[i]), *[str(p) for p in row]] for i, row in zip(proba.argmax(axis=1), proba)]
    if output is None:
        _write_csv(sys.stdout, header, rows)
        return
    from deltaflow.training.io import atomic_file

    with atomic_file(output) as f:
        _write_csv(f, header, rows)
    console.print(f"{len(rows)} predictions written to {output}")


def _write_csv(f, header: list[str], rows: list[list[str]]) -> None:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)


def _read_inputs(path: Path, pred) -> np.ndarray:
    """The raw input rows of a CSV: the model's named input columns if all are there, else every column."""
    from deltaflow.data import load_table

    X, _, names = load_table(path, None, require_target=False, dtype=pred.dtype)
    wanted = pred.input_names
    if all(n in names for n in wanted):
        X = X[:, [names.index(n) for n in wanted]]
    if X.shape[1] != pred.n_inputs:
        raise UsageError(
            f"{path} has {_columns(X.shape[1])}, the model expects {pred.n_inputs} ({', '.join(wanted)})"
        )
    return X


@app.command()
def datasets():
    """List the data sets."""
    from deltaflow.data import DATASETS

    table = Table("name", "task", "kind", "description")
    for name, info in DATASETS.items():
        table.add_row(name, info["task"], info["kind"], info["description"])
    out.print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback by default: only this machine; "
                             "127.0.0.1, localhost or ::1). Any other address prints a warning and asks for the "
                             "access token printed in the URL."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
    open_browser: bool = typer.Option(False, "--open", help="Open the page in the default browser."),
):
    """Start the live simulator and print its address."""
    import errno
    import os
    import socket

    from deltaflow.web.guard import netloc
    from deltaflow.web.server import serve as run_server

    host = host.strip("[]")  # "[::1]" as a URL writes it
    # uvicorn reports a taken port as a log line and exit status 3: say it here, as bad input
    ipv6 = {"family": socket.AF_INET6} if ":" in host else {}  # create_server binds IPv4 unless told
    try:
        with socket.create_server((host, port), **ipv6):
            pass
    except OSError as exc:
        hint = "; choose another --port (make run: PORT=8001 make run)" if exc.errno == errno.EADDRINUSE else ""
        reason = os.strerror(exc.errno) if isinstance(exc.errno, int) and exc.errno > 0 else (exc.strerror or str(exc))
        raise UsageError(f"cannot listen on {netloc(host, port)}: {reason}{hint}") from None
    run_server(host=host, port=port, open_browser=open_browser)


@app.command()
def plot(run_dir: Path = typer.Argument(..., help="A run folder (runs/<name>).")):
    """Redraw a run's figures from its config, history and model."""
    from deltaflow.viz.figures import run_figures
    from deltaflow.training.io import load_model
    from deltaflow.training.runs import PROBES, Predictor, load_run_config, read_history, read_probes

    for f in ("config.json", "history.csv", "model.npz"):
        if not (run_dir / f).is_file():
            raise UsageError(f"{run_dir} is not a run folder: {f} is missing")
    cfg = load_run_config(run_dir)
    probes = run_dir / PROBES
    paths = run_figures(run_dir, Predictor(load_model(run_dir / "model.npz")), cfg.data.load(seed=cfg.seed, dtype=cfg.dtype),
                        read_history(run_dir / "history.csv"), read_probes(probes) if probes.exists() else None)
    for p in paths:
        out.print(str(p))


for command in (explain, experiment, report):
    app.command()(command)


def main(argv=None) -> None:
    """Entry point: run the app, turning bad input into one line and exit status 2 (and
    Ctrl-C outside training into 130; ``train`` sets its own, see ``EXIT_STATUS``)."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
    from typer.exceptions import Abort

    try:
        code = app(args=argv, standalone_mode=False)
    except NoArgsIsHelpError as exc:
        # rich help is printed while the exception is made; plain help is its message
        if exc.format_message():
            print(exc.format_message(), file=sys.stderr)
        raise SystemExit(2) from None
    except ClickException as exc:
        print(f"error: {exc.format_message()}", file=sys.stderr)
        raise SystemExit(2) from None
    except (Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
