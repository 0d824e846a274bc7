"""Figures: each writes a valid PNG of the promised size, and rejects bad input."""

import struct

import matplotlib.image
import numpy as np
import pytest

from deltaflow.metrics import confusion_matrix
from deltaflow.nn.losses import softmax
from deltaflow.viz import canvas, plots
from deltaflow.viz.boundary import BOUNDARY_SIZE, decision_grid, plot_decision_boundary, probability_map
from deltaflow.viz.plots import plot_confusion, plot_history, plot_regression_1d

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def assert_png(path, size_inches):
    assert path.is_file() and path.stat().st_size > 1000
    expected = tuple(round(s * canvas.DPI) for s in size_inches)
    assert png_size(path) == expected
    pixels = matplotlib.image.imread(path)  # decodes the whole file: a truncated PNG fails here
    assert pixels.shape[:2] == expected[::-1]
    assert pixels[..., :3].std() > 0.01  # not a blank canvas


def step_proba(points):
    """p(class 1) = 0.95 where x₁ > 0, else 0.05."""
    p1 = np.where(points[:, 0] > 0, 0.95, 0.05)
    return np.stack([1 - p1, p1], axis=1)


def linear_softmax(W):
    return lambda points: softmax(points @ W.T)


@pytest.fixture
def blobs3(rng):
    centres = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    y = rng.integers(0, 3, 90)
    return centres[y] + rng.normal(scale=0.6, size=(90, 2)), y


# --- history ---------------------------------------------------------------------------


def classification_history(n=12):
    e = np.arange(1, n + 1)
    return {
        "epoch": list(e),
        "train_loss": list(1.0 / e),
        "test_loss": list(1.2 / e),
        "train_accuracy": list(1 - 0.5 / e),
        "test_accuracy": list(1 - 0.6 / e),
        "lr": [0.1] * n,
        "grad_norm": list(2.0 / e),
    }


def test_plot_history_classification(tmp_path):
    out = plot_history(classification_history(), tmp_path / "runs" / "a" / "figures" / "history.png")
    assert out == tmp_path / "runs" / "a" / "figures" / "history.png"
    assert_png(out, plots.HISTORY_SIZE)


def test_plot_history_regression_with_gaps_and_negative_r2(tmp_path):
    history = {
        "epoch": [0, 1, 2, 3],
        "train_loss": [4.0, 2.0, 1.0, 0.5],
        "test_loss": [None, 2.5, None, 0.7],
        "train_r2": [-3.0, 0.2, 0.6, 0.8],
        "test_r2": [None, 0.1, None, 0.75],
    }
    assert_png(plot_history(history, str(tmp_path / "h.png"), title="regression"), plots.HISTORY_SIZE)


def test_plot_history_train_only_and_nonpositive_loss(tmp_path):
    history = {"epoch": [1, 2, 3], "train_loss": [0.5, 0.0, -0.1], "train_accuracy": [0.3, 0.5, 0.9]}
    assert_png(plot_history(history, tmp_path / "h.png"), plots.HISTORY_SIZE)


def test_plot_history_rejects_bad_history(tmp_path):
    with pytest.raises(ValueError, match="train_accuracy or train_r2"):
        plot_history({"epoch": [1], "train_loss": [1.0]}, tmp_path / "h.png")
    with pytest.raises(ValueError, match="epoch"):
        plot_history({"train_loss": [1.0], "train_r2": [0.0]}, tmp_path / "h.png")
    bad = classification_history()
    bad["test_loss"] = bad["test_loss"][:-1]
    with pytest.raises(ValueError, match="test_loss"):
        plot_history(bad, tmp_path / "h.png")
    with pytest.raises(ValueError, match="empty"):
        plot_history({"epoch": [], "train_loss": [], "train_r2": []}, tmp_path / "h.png")
    with pytest.raises(ValueError, match="dict"):
        plot_history([1, 2, 3], tmp_path / "h.png")
    assert not (tmp_path / "h.png").exists()


# --- decision boundary -----------------------------------------------------------------


def test_decision_grid_reflects_the_classifier():
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [0.5, -0.5]])
    xx, yy, proba = decision_grid(step_proba, X, grid=50)
    assert xx.shape == yy.shape == (50, 50) and proba.shape == (50, 50, 2)
    # Limits: the data's range [−1, 1] plus 10 % of it on each side.
    np.testing.assert_allclose([xx.min(), xx.max(), yy.min(), yy.max()], [-1.2, 1.2, -1.2, 1.2])
    predicted = proba.argmax(axis=-1)
    assert (predicted[:, :25] == 0).all() and (predicted[:, 25:] == 1).all()
    assert (predicted == (xx > 0)).all()


def test_decision_grid_keeps_the_dtype_and_accepts_a_probability_column():
    seen = []

    def sigmoid_model(points):
        seen.append(points.dtype)
        return 1 / (1 + np.exp(-points[:, :1]))  # (m, 1): p(class 1)

    X = np.array([[-2.0, 0.0], [3.0, 1.0]], dtype=np.float32)
    xx, _, proba = decision_grid(sigmoid_model, X, grid=8)
    assert seen == [np.float32] and xx.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0, rtol=1e-6)


def test_decision_grid_rejects_bad_input():
    good = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"\(n, 2\).*\(4, 3\)"):
        decision_grid(step_proba, np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(n, 2\).*\(4,\)"):
        decision_grid(step_proba, np.zeros(4))
    with pytest.raises(ValueError, match="grid"):
        decision_grid(step_proba, good, grid=1)
    with pytest.raises(ValueError, match="logits"):
        decision_grid(lambda p: p * 10.0, good, grid=4)
    with pytest.raises(ValueError, match=r"returned shape \(3, 2\)"):
        decision_grid(lambda p: np.full((3, 2), 0.5), good, grid=4)
    with pytest.raises(ValueError, match="finite"):
        decision_grid(step_proba, np.array([[0.0, np.nan]]))


def test_plot_decision_boundary_png_colours_follow_the_classifier(tmp_path, rng):
    X = rng.uniform(-1, 1, size=(80, 2))
    y = (X[:, 0] > 0).astype(int)
    path = plot_decision_boundary(step_proba, X, y, tmp_path / "b.png", grid=60)
    assert_png(path, BOUNDARY_SIZE)
    rgb = matplotlib.image.imread(path)[..., :3]
    h, w = rgb.shape[:2]
    band = rgb[int(0.4 * h) : int(0.6 * h)]
    left, right = band[:, int(0.25 * w) : int(0.4 * w)], band[:, int(0.7 * w) : int(0.85 * w)]
    red_minus_blue = lambda region: float((region[..., 0] - region[..., 2]).mean())  # noqa: E731
    assert red_minus_blue(left) < -0.2  # class 0: blue
    assert red_minus_blue(right) > 0.2  # class 1: red


def test_plot_decision_boundary_three_classes_with_test_set(tmp_path, blobs3):
    X, y = blobs3
    W = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    path = plot_decision_boundary(
        linear_softmax(W), X[:60], y[:60], tmp_path / "deep" / "b3.png", X[60:], y[60:], grid=80, title="blobs"
    )
    assert_png(path, BOUNDARY_SIZE)


def test_plot_decision_boundary_rejects_bad_input(tmp_path, blobs3):
    X, y = blobs3
    W = np.eye(3, 2)
    f, out = linear_softmax(W), tmp_path / "b.png"
    with pytest.raises(ValueError, match=r"\(90, 3\)"):
        plot_decision_boundary(f, np.zeros((90, 3)), y, out)
    with pytest.raises(ValueError, match=r"y shape \(89,\)"):
        plot_decision_boundary(f, X, y[:-1], out)
    with pytest.raises(ValueError, match="both X_test and y_test"):
        plot_decision_boundary(f, X, y, out, X_test=X)
    with pytest.raises(ValueError, match="out of range"):
        plot_decision_boundary(step_proba, X, y, out, grid=10)  # 3 labels, 2 classes
    with pytest.raises(ValueError, match="X_test"):
        plot_decision_boundary(f, X, y, out, X_test=np.zeros((5, 1)), y_test=np.zeros(5, dtype=int))
    assert not out.exists()


# --- regression ------------------------------------------------------------------------


def test_plot_regression_1d(tmp_path, rng):
    x = rng.uniform(-3, 3, size=(50, 1))
    t = np.sin(x) + rng.normal(scale=0.1, size=x.shape)
    path = plot_regression_1d(np.sin, x[:40], t[:40], tmp_path / "r.png", x[40:], t[40:, 0])
    assert_png(path, plots.REGRESSION_SIZE)
    flat = plot_regression_1d(lambda g: np.sin(g[:, 0]), x[:, 0], t[:, 0], tmp_path / "r1.png", title="sin")
    assert_png(flat, plots.REGRESSION_SIZE)


def test_plot_regression_1d_rejects_bad_input(tmp_path):
    x, t = np.linspace(0, 1, 10), np.zeros(10)
    with pytest.raises(ValueError, match=r"\(10, 2\)"):
        plot_regression_1d(np.sin, np.zeros((10, 2)), t, tmp_path / "r.png")
    with pytest.raises(ValueError, match=r"y shape \(9,\)"):
        plot_regression_1d(np.sin, x, t[:-1], tmp_path / "r.png")
    with pytest.raises(ValueError, match=r"predict returned shape \(400, 2\)"):
        plot_regression_1d(lambda g: np.hstack([g, g]), x, t, tmp_path / "r.png")


# --- confusion matrix ------------------------------------------------------------------


@pytest.mark.parametrize("K", [2, 3])
def test_plot_confusion(tmp_path, rng, K):
    y = rng.integers(0, K, 100)
    cm = confusion_matrix(y, np.where(rng.random(100) < 0.7, y, rng.integers(0, K, 100)), n_classes=K)
    assert_png(plot_confusion(cm, tmp_path / f"cm{K}.png"), plots.confusion_size(K))
    names = ["setosa", "versicolor", "virginica"][:K]
    normalised = cm / cm.sum(axis=1, keepdims=True)
    assert_png(plot_confusion(normalised, tmp_path / "n.png", labels=names), plots.confusion_size(K))


def test_plot_confusion_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        plot_confusion(np.zeros((2, 3), dtype=int), tmp_path / "c.png")
    with pytest.raises(ValueError, match="2 labels"):
        plot_confusion(np.eye(3, dtype=int), tmp_path / "c.png", labels=["a", "b"])
    with pytest.raises(ValueError, match="non-negative"):
        plot_confusion(-np.eye(2), tmp_path / "c.png")


# --- the shared canvas -----------------------------------------------------------------


def test_floats_and_positive_turn_json_gaps_into_nan():
    np.testing.assert_array_equal(canvas.floats([1, None, 2.5]), [1.0, np.nan, 2.5])
    grid = canvas.floats([[None, 1.0], [2, None]])
    assert grid.dtype == np.float64 and grid.shape == (2, 2)
    np.testing.assert_array_equal(np.isnan(grid), [[True, False], [False, True]])
    np.testing.assert_array_equal(canvas.floats(v for v in (3, None)), [3.0, np.nan])
    np.testing.assert_array_equal(canvas.positive([2.0, 0.0, -1.0, None, np.inf, 1e-300]),
                                  [2.0, np.nan, np.nan, np.nan, np.nan, 1e-300])


def test_limits_add_the_margin_or_one_around_a_single_value():
    assert canvas.limits(np.array([0.0, 10.0])) == pytest.approx((-1.0, 11.0))
    assert canvas.limits(np.array([3.0, 3.0])) == (2.0, 4.0)


def test_labelled_sets_checks_each_set_and_asks_for_both_test_arrays():
    seen = []

    def pair(X, y, suffix):
        seen.append(suffix)
        return np.asarray(X), np.asarray(y)

    sets = canvas.labelled_sets("f", pair, [1], [0], [2], [1])
    assert [(s[2], s[3]) for s in sets] == [("o", "train"), ("^", "test")] and seen == ["", "_test"]
    assert len(canvas.labelled_sets("f", pair, [1], [0])) == 1
    with pytest.raises(ValueError, match="f: pass both X_test and y_test"):
        canvas.labelled_sets("f", pair, [1], [0], y_test=[1])


def test_save_writes_the_figure_at_dpi_and_creates_folders(tmp_path):
    fig = canvas.new_figure((3.0, 2.0))
    ax = fig.subplots()
    ax.plot([0, 1], [1, 0], label="a line")
    canvas.tidy([ax], legend=8)
    assert ax.get_legend() is not None
    assert_png(canvas.save(fig, tmp_path / "a" / "b.png"), (3.0, 2.0))


def test_probability_map_draws_the_half_contour_only_where_p_crosses_it():
    xs, ys = np.linspace(-1, 1, 5), np.linspace(0, 1, 4)
    crossing = np.tile(np.linspace(0.1, 0.9, 5), (4, 1))
    for p, contours in ((crossing, 1), (np.full((4, 5), 0.8), 0)):
        ax = canvas.new_figure((3.0, 3.0)).subplots()
        probability_map(ax, xs, ys, p)
        assert len(ax.images) == 1 and ax.images[0].get_extent() == [-1.0, 1.0, 0.0, 1.0]
        assert len(ax.collections) == contours
