"""The Checkpoint callback writes loadable model files at the right epochs."""

import numpy as np
import pytest

from deltaflow.training.checkpoint import Checkpoint
from deltaflow.training.config import RunConfig
from deltaflow.training.io import load_model
from deltaflow.training.trainer import fit

CONFIG = RunConfig.from_dict({"data": {"name": "circle", "n_samples": 120}, "model": {"hidden": [4]}, "epochs": 6})


def test_every_k_epochs_and_the_file_holds_the_last_save(tmp_path):
    cb = Checkpoint(tmp_path / "ckpt.npz", every=2)
    result = fit(CONFIG, callbacks=[cb])
    assert cb.saved == [2, 4, 6]
    model = load_model(tmp_path / "ckpt.npz")
    assert model.meta["epoch"] == 6
    X = result.dataset.X_test
    np.testing.assert_array_equal(model.net.forward(X, False), result.net.forward(X, False))


def test_monitor_keeps_the_best_epoch(tmp_path):
    cb = Checkpoint(tmp_path / "best.npz", monitor="test_loss")
    result = fit(CONFIG, callbacks=[cb])
    losses = result.history["test_loss"]
    best_epoch = int(np.argmin(losses)) + 1
    assert cb.saved[-1] == best_epoch
    # every save improved on the one before it
    assert all(losses[b - 1] < losses[a - 1] for a, b in zip(cb.saved, cb.saved[1:]))
    meta = load_model(tmp_path / "best.npz").meta
    assert meta["epoch"] == best_epoch and meta["test_loss"] == pytest.approx(min(losses), rel=0, abs=0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="every must be at least 1"):
        Checkpoint("x.npz", every=0)
    with pytest.raises(ValueError, match="monitor 'nope' is not in the history"):
        fit(CONFIG, callbacks=[Checkpoint("unused.npz", monitor="nope")])
