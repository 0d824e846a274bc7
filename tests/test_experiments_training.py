"""The optimizers, batchnorm and losses experiments: measured results on reduced grids."""

import numpy as np
import pytest

from deltaflow.experiments import batchnorm, losses, optimizers
from deltaflow.nn.gradcheck import relative_error

from experiment_checks import reloaded


@pytest.fixture(scope="module")
def opt_result():
    return optimizers.run(quick=True, seed=0)


@pytest.fixture(scope="module")
def bn_result():
    return batchnorm.run(quick=True, seed=0)


@pytest.fixture(scope="module")
def loss_result():
    return losses.run(quick=True, seed=0)


# --- optimizers --------------------------------------------------------------------


def test_ravine_is_the_stated_quadratic():
    H, w_star, w0 = optimizers.ravine(0.0)
    np.testing.assert_allclose(H, np.diag([1.0, 100.0]))
    r = w0 - w_star
    assert 0.5 * r @ H @ r == pytest.approx(0.5 * (7.0**2 + 100 * 1.2**2))
    Hr, ws_r, w0_r = optimizers.ravine(np.pi / 4)
    np.testing.assert_allclose(np.linalg.eigvalsh(Hr), [1.0, 100.0])
    assert 0.5 * (w0_r - ws_r) @ Hr @ (w0_r - ws_r) == pytest.approx(0.5 * r @ H @ r)


def test_sgd_descend_matches_a_hand_step():
    H, w_star, w0 = optimizers.ravine(0.0)
    losses_, path = optimizers.descend("sgd", 0.01, H, w_star, w0, steps=1)
    np.testing.assert_allclose(path[1], w0 - 0.01 * H @ (w0 - w_star), rtol=1e-15)
    r = path[1] - w_star
    assert losses_[1] == pytest.approx(0.5 * r @ H @ r, rel=1e-15)


def test_momentum_and_adaptive_methods_beat_sgd_in_the_ravine(opt_result):
    steps = opt_result["steps"]
    axis = opt_result["problems"]["axis-aligned"]["runs"]
    rot = opt_result["problems"]["rotated"]["runs"]
    sgd = axis["sgd"]["final_loss"]
    assert steps == 100 and sgd > 1.0  # plain SGD, at its best η, is still far from the minimum
    for name in ("momentum", "nesterov", "rmsprop", "adam", "adamw"):
        assert axis[name]["final_loss"] < sgd / 100, name
    for name in ("momentum", "nesterov", "adam"):
        assert rot[name]["final_loss"] < sgd / 100, name
    # per-coordinate scaling is a cure only when the ravine lies along the axes
    assert rot["rmsprop"]["final_loss"] > 1e3 * axis["rmsprop"]["final_loss"]


def test_rotation_invariant_methods_see_one_problem(opt_result):
    a, r = (opt_result["problems"][k]["runs"] for k in ("axis-aligned", "rotated"))
    for name in ("sgd", "momentum", "nesterov"):
        assert a[name]["lr"] == r[name]["lr"]
        np.testing.assert_allclose(a[name]["losses"], r[name]["losses"], rtol=1e-9)


def test_best_lr_is_the_grid_argmin(opt_result):
    grid = opt_result["lr_grid"]
    for run in opt_result["problems"]["rotated"]["runs"].values():
        finals = np.asarray(run["grid_final_losses"])
        assert run["lr"] == grid[int(np.argmin(finals))]
        assert run["final_loss"] == finals.min()


def test_optimizers_figure_from_json(opt_result, tmp_path):
    assert optimizers.figure(reloaded(opt_result), tmp_path / "o.png").stat().st_size > 10_000


# --- batchnorm ---------------------------------------------------------------------


def test_batchnorm_trains_where_the_plain_network_diverges(bn_result):
    plain, bn = bn_result["runs"]["none"], bn_result["runs"]["batch"]
    assert plain["diverged_at"] is not None  # a non-finite loss at η = 2 without BN
    assert bn["diverged_at"] is None
    assert bn["train_mode_loss"][-1] < 0.05 * bn["step_loss"][0]
    assert bn["test_accuracy"][-1] > 0.9
    # the same batches and initial weights: the first losses agree to float32 rounding
    assert plain["step_loss"][0] == pytest.approx(bn["step_loss"][0], rel=0.5)


def test_running_statistics_approach_batch_statistics(bn_result):
    bn = bn_result["statistics"]
    gaps = np.asarray(bn["gap_mean"])
    assert gaps.shape == (len(bn["step_loss"]), len(batchnorm.HIDDEN))
    np.testing.assert_allclose(gaps[0], 1.0)  # running_mean starts at 0, so the gap is all of μ_B
    summary = bn_result["gap_summary"]
    assert summary["late_mean_gap"] < 0.6 * summary["early_mean_gap"]
    # eval mode (running statistics) gives nearly the train-mode loss of the whole set
    assert summary["eval_train_loss_gap"] < 0.05 * bn["train_mode_loss"][-1]


def test_batchnorm_figure_from_json(bn_result, tmp_path):
    assert batchnorm.figure(reloaded(bn_result), tmp_path / "b.png").stat().st_size > 10_000


# --- losses ------------------------------------------------------------------------


def test_cross_entropy_gradient_stays_large_at_a_confidently_wrong_output(loss_result):
    g = loss_result["wrong_output"]
    ce, mse = np.asarray(g["cross_entropy"]), np.asarray(g["mse"])
    assert (ce > mse).all()
    assert ce[-1] == pytest.approx(np.sqrt(2), rel=1e-4)  # ŷ − y → e_wrong − e_true
    assert mse[-1] < 1e-3 * ce[-1]
    assert mse[-1] < mse[3] / 100  # MSE's gradient shrinks as the softmax saturates


def test_mse_softmax_gradient_against_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3, 4))
    labels = np.array([0, 3, 1])
    _, g = losses.mse_softmax_grad(z, labels)
    h, numeric = 1e-6, np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        numeric[idx] = (losses.mse_softmax_grad(zp, labels)[0] - losses.mse_softmax_grad(zm, labels)[0]) / (2 * h)
    assert relative_error(g, numeric) < 1e-7


def test_cross_entropy_learns_faster_than_mse_with_sgd(loss_result):
    ce, mse = loss_result["runs"]["cross_entropy"], loss_result["runs"]["mse"]
    assert len(ce["step_loss"]) == len(mse["step_loss"]) > 0
    assert len(ce["epoch"]) == len(mse["epoch"]) == loss_result["epochs"]
    assert ce["test_accuracy"][-1] > 0.9
    assert ce["test_accuracy"][-1] > mse["test_accuracy"][-1] + 0.2


def test_losses_figure_from_json(loss_result, tmp_path):
    assert losses.figure(reloaded(loss_result), tmp_path / "l.png").stat().st_size > 10_000
