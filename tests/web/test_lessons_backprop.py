"""Lesson ``backprop``: every z, a, δ and gradient against PyTorch autograd and a NumPy recursion
written out here (float64), the finite-difference check, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from deltaflow.training.config import RunConfig
from deltaflow.training.trainer import Trainer
from deltaflow.nn.losses import SoftmaxCrossEntropy
from deltaflow.web.lessons.backprop import BackpropRequest, finite_differences, run
from lesson_torch import to_torch

CASES = [dict(), dict(dataset="circle", index=17, activation="sigmoid", width=4, depth=1, seed=3),
         dict(dataset="moons", index=399, activation="relu", width=2, depth=3, seed=5),
         dict(dataset="gauss", index=123, activation="tanh", width=1, depth=2, seed=11)]
DEFAULTS = dict(dataset="xor", index=0, activation="tanh", width=3, depth=2, seed=0)


def lesson(**fields) -> dict:
    return run(BackpropRequest.model_validate(fields))


def simulator_run(case: dict):
    """The simulator's network and example for the case, built here from a RunConfig of our own."""
    c = {**DEFAULTS, **case}
    config = RunConfig.from_dict({"data": {"name": c["dataset"]}, "model": {"hidden": [c["width"]] * c["depth"],
                                  "activation": c["activation"]}, "seed": c["seed"], "dtype": "float64"})
    trainer = Trainer(config)
    return trainer.net, trainer.dataset.X_train[c["index"]], int(trainer.dataset.y_train[c["index"]])


def numpy_recursion(net, x, label, activation):
    """Forward, softmax + CE and the δ recursion by hand: per layer l = 1 … L (z, a, σ'(z), δ, dW, db)."""
    f = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0)}[activation]
    df = {"tanh": lambda z: 1 - np.tanh(z) ** 2, "sigmoid": lambda z: f(z) * (1 - f(z)),
          "relu": lambda z: (z > 0).astype(float)}[activation]
    Ws = [layer.W.value for layer in net.layers if hasattr(layer, "W")]
    bs = [layer.b.value for layer in net.layers if hasattr(layer, "W")]
    a, zs, As = x, [], [x]
    for l, (W, b) in enumerate(zip(Ws, bs), start=1):
        z = W @ a + b
        a = f(z) if l < len(Ws) else np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        zs.append(z)
        As.append(a)
    y = np.eye(len(a))[label]
    deltas = [None] * len(Ws)
    deltas[-1] = a - y
    for l in range(len(Ws) - 2, -1, -1):
        deltas[l] = Ws[l + 1].T @ deltas[l + 1] * df(zs[l])
    loss = -np.log(a[label])
    return loss, [dict(z=zs[l], a=As[l + 1], dsigma=df(zs[l]), delta=deltas[l], dW=np.outer(deltas[l], As[l]),
                       db=deltas[l]) for l in range(len(Ws))]


def close(a, b):
    np.testing.assert_allclose(np.asarray(a, dtype=float), b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES)
def test_every_delta_and_gradient_matches_torch_autograd(torch, case):
    result = lesson(**case)
    net, x, label = simulator_run(case)
    model = to_torch(torch, net)
    zs, h = [], torch.tensor(x)[None]
    for m in model:
        h = m(h)
        if isinstance(m, torch.nn.Linear):
            h.retain_grad()
            zs.append(h)
    loss = torch.nn.functional.cross_entropy(h, torch.tensor([label]))
    loss.backward()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    assert [layer["l"] for layer in result["layers"]] == list(range(len(linears), 0, -1))  # output first
    assert result["loss"] == pytest.approx(loss.item(), rel=1e-12)
    close(result["x"], x)
    assert result["label"] == label
    for layer in result["layers"]:
        l = layer["l"]
        close(layer["z"], zs[l - 1].detach().numpy()[0])
        close(layer["delta"], zs[l - 1].grad.numpy()[0])
        close(layer["dW"], linears[l - 1].weight.grad.numpy())
        close(layer["db"], linears[l - 1].bias.grad.numpy())
        close(layer["W"], linears[l - 1].weight.detach().numpy())
    close(result["y_hat"], torch.softmax(h, 1).detach().numpy()[0])


@pytest.mark.parametrize("case", CASES)
def test_the_recursion_matches_numpy_by_hand(case):
    result = lesson(**case)
    net, x, label = simulator_run(case)
    loss, expected = numpy_recursion(net, x, label, {**DEFAULTS, **case}["activation"])
    assert result["loss"] == pytest.approx(loss, rel=1e-12)
    assert result["steps"] == len(expected) == {**DEFAULTS, **case}["depth"] + 1 and result["complete"] is True
    for layer in result["layers"]:
        want = expected[layer["l"] - 1]
        for key in ("z", "a", "delta", "dW", "db"):
            close(layer[key], want[key])
        if layer["l"] < len(expected):
            close(layer["dsigma"], want["dsigma"])
            close(layer["a_prev"], expected[layer["l"] - 2]["a"] if layer["l"] > 1 else x)
    p = np.asarray(result["y_hat"])
    close(result["layers"][0]["dsigma"], np.diag(p) - np.outer(p, p))  # softmax's Jacobian at the output
    close(result["y"], np.eye(2)[label])
    assert result["delta_norm_first"] == pytest.approx(np.linalg.norm(expected[0]["delta"]), rel=1e-12)


def test_finite_differences_agree_with_backprop_for_every_weight():
    result = lesson(check=True)
    assert result["fd_agrees"] is True and result["fd_h"] == 1e-6
    assert 0 < result["fd_max_diff"] <= 1e-6
    net, x, label = simulator_run({})
    _, expected = numpy_recursion(net, x, label, "tanh")
    worst = 0.0
    for layer in result["layers"]:
        want = expected[layer["l"] - 1]
        assert np.shape(layer["fd_dW"]) == want["dW"].shape
        diff = max(np.abs(np.asarray(layer["fd_dW"]) - want["dW"]).max(), np.abs(np.asarray(layer["fd_db"]) - want["db"]).max())
        assert diff < 1e-8  # O(h²) truncation plus rounding ε·L/h
        assert layer["fd_max_diff"] == pytest.approx(max(np.abs(np.asarray(layer["dW"]) - layer["fd_dW"]).max(),
                                                         np.abs(np.asarray(layer["db"]) - layer["fd_db"]).max()), abs=0)
        worst = max(worst, layer["fd_max_diff"])
    assert result["fd_max_diff"] == worst
    assert "fd_agrees" not in lesson()


def test_the_check_puts_every_weight_back_exactly():
    net, x, label = simulator_run({})
    before = {k: v.copy() for k, v in net.state_dict().items()}
    finite_differences(net, SoftmaxCrossEntropy(), x, label)
    after = net.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_finite_differences_disagree_at_a_relu_kink():
    """All of layer 1's ReLUs are off, so layer 2's z = b = 0 sits on the kink: the engine's
    σ'(0) = 0, while (L(h) − L(−h))/2h sees half the slope."""
    result = lesson(dataset="moons", index=399, activation="relu", width=4, depth=3, seed=0, check=True)
    assert all(z == 0 for z in result["layers"][-2]["z"])
    assert result["fd_max_diff"] > 0.1 and result["fd_agrees"] is False
    assert result["complete"] is True  # the recursion itself is finite, only not the true derivative there


def test_the_config_opens_the_same_network_in_the_simulator():
    result = lesson(dataset="circle", activation="sigmoid", width=2, depth=3, seed=7)
    config = RunConfig.from_dict(result["config"])
    assert config.data.name == "circle" and config.model.hidden == [2, 2, 2] and config.seed == 7
    assert config.model.activation == "sigmoid" and result["sizes"] == [2, 2, 2, 2, 2]
    net = Trainer(config).net
    Ws = [layer.W.value for layer in net.layers if hasattr(layer, "W")]
    for layer in result["layers"]:
        assert layer["W"] == Ws[layer["l"] - 1].tolist()


@pytest.mark.parametrize("fields, message", [
    (dict(width=5), "less than or equal to 4"),
    (dict(width=0), "greater than or equal to 1"),
    (dict(depth=4), "less than or equal to 3"),
    (dict(index=400), "less than or equal to 399"),
    (dict(index=-1), "greater than or equal to 0"),
    (dict(index="3"), "valid integer"),
    (dict(index=2.0), "valid integer"),
    (dict(check="yes"), "valid boolean"),
    (dict(dataset="spiral"), "dataset"),
    (dict(activation="step"), "activation"),
    (dict(seed=2**31), "less than or equal to"),
    (dict(hidden=[3]), "Extra inputs"),
])
def test_schema_refuses(fields, message):
    with pytest.raises(ValidationError, match=message):
        BackpropRequest.model_validate(fields)
