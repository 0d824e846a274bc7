"""Experiments that reproduce the classic results, one module per result.

Each module ``deltaflow.experiments.<name>`` defines ``EXPERIMENT``, an ``Experiment``:
``run(quick, seed, progress)`` returns the numbers (JSON-ready) and ``figure(result, path)``
draws them. ``run_experiment`` writes both under a folder; the CLI (``deltaflow
experiment NAME``) and the HTML report (``deltaflow report``) are built on it.
"""

from __future__ import annotations

from importlib import import_module

from deltaflow.experiments.base import Experiment, run_experiment

__all__ = ["NAMES", "Experiment", "get", "run_experiment"]

# in the order the report shows them
NAMES = ("xor", "collapse", "uat", "vanishing", "exploding", "cost", "optimizers", "batchnorm", "losses")


def get(name: str) -> Experiment:
    """The ``Experiment`` called ``name``; an unknown name is a ``ValueError`` listing the known ones."""
    if name not in NAMES:
        raise ValueError(f"unknown experiment {name!r}; choose one of {', '.join(NAMES)}")
    return import_module(f"deltaflow.experiments.{name}").EXPERIMENT
