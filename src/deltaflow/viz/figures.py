"""The figures of a run, drawn from its saved model, its data and its history.

``runs/<name>/figures/``: ``history.png`` once an epoch has completed (a run that
diverges or is interrupted in its first epoch has none); ``decision_boundary.png`` for a
classifier on two raw inputs; ``fit.png`` for a regression on one input;
``confusion.png`` for any classifier (test part); ``gradient_flow.png`` when the run was
probed (``RunConfig.probe_every``).
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

import numpy as np

from deltaflow import metrics
from deltaflow.viz import plots
from deltaflow.viz.boundary import plot_decision_boundary
from deltaflow.viz.flow_plot import plot_gradient_flow

FIGURES = ("history.png", "decision_boundary.png", "fit.png", "confusion.png", "gradient_flow.png")


class _NonFinite(ValueError):
    """The model's output is NaN or infinite on the points a figure needs."""


def _finite(f):
    """``f`` checked: a non-finite output raises ``_NonFinite`` so that figure is skipped."""

    def checked(x):
        with np.errstate(over="ignore", invalid="ignore"):
            y = f(x)
        if not np.isfinite(y).all():
            raise _NonFinite
        return y

    return checked


def run_figures(run_dir, predictor, dataset, history: dict, probes: dict | None = None) -> list[Path]:
    """Write the run's figures under ``run_dir/figures`` and return their paths.

    predictor : ``runs.Predictor`` (raw input rows → predictions); dataset : the run's
    ``Dataset``, whose raw inputs (before features and standardisation) are plotted.
    A figure whose predictions are not finite is left out: the weights a diverged run
    keeps are finite, yet they can overflow on the points of a figure's grid.
    probes : ``runs.read_probes`` of the run's probes.npz, if it has one.
    """
    fig_dir = Path(run_dir) / "figures"
    d = dataset
    fig_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    if history.get("epoch"):
        paths.append(plots.plot_history(history, fig_dir / "history.png", title=d.name))
    Xtr, Xte = d.X_train_raw, d.X_test_raw
    proba, predict = _finite(predictor.predict_proba), _finite(lambda x: np.ravel(predictor.predict(x)))
    if d.task == "classification":
        if Xtr.shape[1] == 2:
            with suppress(_NonFinite):
                paths.append(plot_decision_boundary(
                    proba, Xtr, d.y_train, fig_dir / "decision_boundary.png",
                    X_test=Xte, y_test=d.y_test, title=d.name))
        with suppress(_NonFinite):
            cm = metrics.confusion_matrix(d.y_test, proba(Xte).argmax(axis=1), n_classes=d.n_classes)
            labels = [str(v) for v in d.class_labels] if d.class_labels else None
            paths.append(plots.plot_confusion(cm, fig_dir / "confusion.png", labels=labels, title=f"{d.name} (test)"))
    elif Xtr.shape[1] == 1 and d.y_train.shape[1] == 1:
        with suppress(_NonFinite):
            paths.append(plots.plot_regression_1d(
                predict, Xtr, d.y_train, fig_dir / "fit.png", X_test=Xte, y_test=d.y_test, title=d.name))
    if probes is not None:
        paths.append(plot_gradient_flow(probes, probes["names"], fig_dir / "gradient_flow.png", title=d.name))
    # redrawn in place (`deltaflow plot`), a figure now left out must not stay from the last drawing
    for name in FIGURES:
        stale = fig_dir / name
        if stale not in paths:
            stale.unlink(missing_ok=True)
    return paths

