"""Lesson ``linear``: the collapsed layer against NumPy's products and PyTorch, the deep linear
network stuck on XOR against a line's best, and the non-linear ones separating it."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from deltaflow.data import load_dataset
from deltaflow.experiments import collapse
from deltaflow.web.lessons.linear import LinearRequest, run


def lesson(**fields) -> dict:
    return run(LinearRequest.model_validate(fields))


@pytest.mark.parametrize("depth,width", [(2, 3), (3, 2), (4, 4), (2, 1)])
def test_the_collapsed_layer_is_the_product_of_the_layers(depth, width):
    r = lesson(part="collapse", depth=depth, width=width, seed=5, x=[2.5, -1.25])
    Ws = [np.array(layer["W"]) for layer in r["layers"]]
    bs = [np.array(layer["b"]) for layer in r["layers"]]
    assert len(Ws) == depth and Ws[0].shape == (width, 2) and Ws[-1].shape == (2, width)
    W, b = Ws[0], bs[0]
    for Wl, bl in zip(Ws[1:], bs[1:]):
        W, b = Wl @ W, Wl @ b + bl
    np.testing.assert_allclose(r["W"], W, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r["b"], b, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r["W21"], Ws[1] @ Ws[0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(r["b21"], Ws[1] @ bs[0] + bs[1], rtol=0, atol=1e-15)
    x = np.array([2.5, -1.25])
    a = x
    for Wl, bl in zip(Ws, bs):
        a = Wl @ a + bl
    np.testing.assert_allclose(r["deep"], a, rtol=0, atol=1e-14)
    np.testing.assert_allclose(r["one"], W @ x + b, rtol=0, atol=1e-14)
    assert r["gap"] <= 1e-12 and r["same"]


def test_the_two_layer_network_agrees_with_torch(torch):
    r = lesson(part="collapse", seed=2, x=[0.75, 3.0])
    (l1, l2) = r["layers"]
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 2)).double()
    with torch.no_grad():
        for m, layer in zip(model, (l1, l2)):
            m.weight.copy_(torch.tensor(layer["W"], dtype=torch.float64))  # a list of floats is float32 by default
            m.bias.copy_(torch.tensor(layer["b"], dtype=torch.float64))
        z = model(torch.tensor([[0.75, 3.0]], dtype=torch.float64))[0].numpy()
    np.testing.assert_allclose(r["deep"], z, rtol=0, atol=1e-14)
    np.testing.assert_allclose(r["one"], z, rtol=0, atol=1e-14)


def best_line_accuracy(X, y) -> float:
    """The best test accuracy any line w·x + b = 0 reaches on (X, y), searched over directions
    and every threshold between projected points: an upper bound for a linear network."""
    best = 0.0
    for angle in np.linspace(0, np.pi, 721):
        s = X @ np.array([np.cos(angle), np.sin(angle)])
        for t in np.concatenate([[-np.inf], np.sort(s)]):
            above = s > t
            best = max(best, np.mean(above == y), np.mean(above != y))
    return float(best)


@pytest.mark.parametrize("dataset", ["xor", "circle"])
def test_the_deep_linear_network_draws_one_line_and_tanh_and_relu_bend_it(dataset):
    linear = lesson(part="train", dataset=dataset, activation="identity")
    data = load_dataset(dataset, n_samples=collapse.N_SAMPLES, seed=0, dtype="float64")
    assert linear["test_accuracy"] <= best_line_accuracy(data.X_test, data.y_test) + 1e-12
    assert linear["stuck"] and not linear["separates"]
    assert linear["gap"] <= 1e-12 and linear["same_class_everywhere"]
    assert linear["chance"] == max(np.mean(data.y_test), 1 - np.mean(data.y_test))
    for act in ("tanh", "relu"):
        bent = lesson(part="train", dataset=dataset, activation=act)
        assert bent["separates"] and not bent["stuck"] and bent["gap"] is None
        assert bent["loss"][-1] < 0.25 * bent["loss"][0]


def test_the_trained_network_is_the_experiments():
    r = lesson(part="train", dataset="xor", activation="tanh", steps=50, seed=3)
    data = load_dataset("xor", n_samples=collapse.N_SAMPLES, seed=3, dtype="float64")
    net = collapse.build("tanh", 3)
    losses = collapse.train(net, data.X_train, data.y_train, 50)
    np.testing.assert_allclose(r["loss"], losses, rtol=1e-13)
    assert r["test_accuracy"] == np.mean(net.forward(data.X_test, False).argmax(axis=1) == data.y_test)
    p = np.array(r["p"])
    assert p.shape == (30, 30) and np.all((p >= 0) & (p <= 1))


@pytest.mark.parametrize("fields", [
    {"part": "collapse", "depth": 5}, {"part": "collapse", "width": 0}, {"part": "collapse", "x": [1.0, 200.0]}, {"part": "collapse", "x": [1.0]},
    {"part": "collapse", "steps": 10}, {"part": "train", "depth": 3}, {"part": "train", "steps": 601},
    {"part": "train", "activation": "sigmoid"}, {"part": "train", "dataset": "spiral"},
    {"part": "collapse", "seed": "1"}, {"part": "collapse", "extra": 1}, {"part": "nothing"},
])
def test_bad_requests_are_refused(fields):
    with pytest.raises(ValidationError):
        LinearRequest.model_validate(fields)
