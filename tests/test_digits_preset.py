"""The simulator's digits preset reaches 0.95 test accuracy within its fixed number of steps,
for seeds 0–4, trained by the engine's own ``Trainer`` (the session's trainer)."""

import numpy as np
import pytest

from deltaflow import metrics
from deltaflow.training.config import RunConfig
from deltaflow.training.trainer import Trainer
from deltaflow.web.presets import DIGITS_CONFIG, DIGITS_STEPS


@pytest.mark.parametrize("seed", range(5))
def test_the_digits_preset_reaches_95_percent_in_its_steps(seed):
    config = RunConfig.from_dict({**DIGITS_CONFIG, "steps": DIGITS_STEPS, "seed": seed})
    trainer = Trainer(config)
    result = trainer.run()
    d = result.dataset
    assert result.stop_reason == "completed" and trainer.step == DIGITS_STEPS
    assert (config.model.hidden, d.n_features, d.n_classes) == ([32], 64, 10)
    # measured again from the trained network's predictions on the 359 test images (a stratified fifth of 1,797)
    predicted = result.task.proba(result.net.forward(d.X_test, False)).argmax(axis=1)
    accuracy = metrics.accuracy(d.y_test, predicted)
    assert len(d.y_test) == 359 and accuracy >= 0.95
    np.testing.assert_allclose(accuracy, result.final("test_accuracy"))
