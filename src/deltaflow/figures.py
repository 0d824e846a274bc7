"""The figures of a run, drawn from its saved model, its data and its history.

``runs/<name>/figures/``: ``history.png`` always; ``decision_boundary.png`` for a
classifier on two raw inputs; ``fit.png`` for a regression on one input;
``confusion.png`` for any classifier (test part).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deltaflow import metrics, plots


def run_figures(run_dir, predictor, dataset, history: dict) -> list[Path]:
    """Write the run's figures under ``run_dir/figures`` and return their paths.

    predictor : ``runs.Predictor`` (raw input rows → predictions); dataset : the run's
    ``Dataset``, whose raw inputs (before features and standardisation) are plotted.
    """
    fig_dir = Path(run_dir) / "figures"
    d = dataset
    paths = [plots.plot_history(history, fig_dir / "history.png", title=d.name)]
    Xtr, Xte = d.X_train_raw, d.X_test_raw
    if d.task == "classification":
        if Xtr.shape[1] == 2:
            paths.append(plots.plot_decision_boundary(
                predictor.predict_proba, Xtr, d.y_train, fig_dir / "decision_boundary.png",
                X_test=Xte, y_test=d.y_test, title=d.name))
        predicted = predictor.predict_proba(Xte).argmax(axis=1)
        cm = metrics.confusion_matrix(d.y_test, predicted, n_classes=d.n_classes)
        labels = [str(v) for v in d.class_labels] if d.class_labels else None
        paths.append(plots.plot_confusion(cm, fig_dir / "confusion.png", labels=labels, title=f"{d.name} (test)"))
    elif Xtr.shape[1] == 1 and d.y_train.shape[1] == 1:
        paths.append(plots.plot_regression_1d(
            lambda x: np.ravel(predictor.predict(x)), Xtr, d.y_train, fig_dir / "fit.png",
            X_test=Xte, y_test=d.y_test, title=d.name))
    return paths
