"""``deltaflow explain``: the printed numbers are explain()'s, for a new network or a saved model."""

import json

import numpy as np
import pytest

from deltaflow.diagnostics.explain import explain
from deltaflow.nn.losses import get_loss
from deltaflow.nn.network import mlp
from deltaflow.training.runs import Predictor
from deltaflow.training.io import load_model

from test_cli import run, spiral_run  # noqa: F401  (spiral_run is a fixture)


def test_default_prints_the_equations_with_numbers(capsys):
    code, text, _ = run(["explain"], capsys)
    assert code == 0
    for line in ("z^(1) = W^(1)·a^(0) + b^(1)", "a^(2) = σ(z^(2))", "δ^(1) = (W^(2))ᵀ·δ^(2) ⊙ σ'(z^(1))",
                 "∂L/∂W^(1) = δ^(1)·(a^(0))ᵀ", "L = (y − ŷ)²"):
        assert line in text


@pytest.mark.parametrize("loss, y, n_out", [("mse", "0.3,0.9", 2), ("bce", "1", 1), ("cross_entropy", "2", 3)])
def test_json_numbers_equal_the_api(capsys, loss, y, n_out):
    argv = ["explain", "--x", "0.5,-1,2", "--y", y, "--layers", "4,3", "--activation", "tanh", "--loss", loss,
            "--classes", "3", "--seed", "7", "--lr", "0.1", "--json"]
    code, text, _ = run(argv, capsys)
    assert code == 0
    got = json.loads(text)
    output = "sigmoid" if loss == "mse" else None
    net = mlp([3, 4, 3, n_out], "tanh", output=output, dtype=np.float64, rng=np.random.default_rng(7))
    target = int(y) if loss == "cross_entropy" else np.array([float(v) for v in y.split(",")])
    want = explain(net, get_loss(loss), np.array([0.5, -1.0, 2.0]), target, lr=0.1).to_dict()
    assert got == want


def test_a_saved_model_is_explained_through_its_input_pipeline(spiral_run, capsys):  # noqa: F811
    code, text, _ = run(["explain", "--model", spiral_run / "model.npz", "--x", "0.2,-0.4", "--y", "1", "--json"],
                        capsys)
    assert code == 0
    pred = Predictor(load_model(spiral_run / "model.npz"))
    x = pred.prepare(np.array([[0.2, -0.4]]))[0]
    assert json.loads(text) == explain(pred.net, get_loss("cross_entropy"), x, 1).to_dict()


@pytest.mark.parametrize("argv, message", [
    (["--x", "1,a"], "--x must be comma-separated numbers"),
    (["--loss", "hinge"], "unknown loss 'hinge'"),
    (["--loss", "cross_entropy", "--y", "yes"], "--y must be a class label 0..1"),
    (["--activation", "swish"], "swish"),
    (["--lr", "-1"], "lr"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, _, err = run(["explain", *argv], capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_a_model_file_class_must_be_one_of_its_labels(spiral_run, capsys):  # noqa: F811
    code, _, err = run(["explain", "--model", spiral_run / "model.npz", "--x", "0,0", "--y", "7"], capsys)
    assert code == 2 and "--y must be one of the model's classes 0, 1" in err
