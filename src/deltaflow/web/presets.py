"""The simulator's one-click presets: each a full ``RunConfig`` dict and a heatmap grid.

Every preset's config validates as a ``RunConfig`` and stays within ``limits.Limits()``
(``tests/web`` builds each one). ``deltaflow train --config`` runs any of them as well.
"""

from __future__ import annotations

from deltaflow.training.config import RunConfig
from deltaflow.web.building import DEFAULT_CURVE_GRID, DEFAULT_GRID


def _preset(name: str, title: str, description: str, grid: int = DEFAULT_GRID, **config) -> dict:
    return {"name": name, "title": title, "description": description, "grid": grid,
            "config": RunConfig.from_dict(config).model_dump(mode="json")}


_DEEP = [16] * 20  # width 8 leaves 20 ReLU layers with a dead layer at initialisation

PRESETS: list[dict] = [
    _preset(
        "perceptron_xor", "Perceptron on XOR",
        "No hidden layer: one linear boundary cannot separate the XOR quadrants; accuracy stays near 50%.",
        data={"name": "xor"}, model={"hidden": []}, optimizer={"name": "sgd", "lr": 0.1},
        batch_size=10, epochs=200,
    ),
    _preset(
        "xor_hidden", "XOR with one hidden layer",
        "Four tanh units bend the boundary around the quadrants.",
        data={"name": "xor"}, model={"hidden": [4], "activation": "tanh"}, optimizer={"name": "adam", "lr": 0.03},
        batch_size=10, epochs=200,
    ),
    _preset(
        "vanishing_sigmoid", "20 sigmoid layers: vanishing gradients",
        "σ' ≤ 1/4 at every layer: ‖∂L/∂W‖ of the first layer falls below 10⁻⁴ of the last, "
        "and it barely learns.",
        grid=24,
        data={"name": "circle"}, model={"hidden": _DEEP, "activation": "sigmoid"},
        optimizer={"name": "sgd", "lr": 0.1}, batch_size=10, epochs=300,
    ),
    _preset(
        "deep_relu_he", "20 ReLU layers with He initialisation",
        "The same depth with ReLU (σ' = 1 where active) and He's variance-preserving initialisation: "
        "gradients reach the first layer.",
        grid=24,
        data={"name": "circle"}, model={"hidden": _DEEP, "activation": "relu", "init": "he_normal"},
        optimizer={"name": "sgd", "lr": 0.01}, batch_size=10, epochs=300,
    ),
    _preset(
        "deep_sigmoid_batchnorm", "20 sigmoid layers with BatchNorm",
        "BatchNorm keeps each layer's z near zero, where σ' is largest, so the gradient survives the depth.",
        grid=24,
        data={"name": "circle"}, model={"hidden": _DEEP, "activation": "sigmoid", "norm": "batch"},
        optimizer={"name": "sgd", "lr": 0.1}, batch_size=10, epochs=300,
    ),
    _preset(
        "exploding", "Exploding gradients",
        "12 ELU layers and SGD with η = 1: each update multiplies the next gradient until a value "
        "overflows and the NaN alarm stops training.",
        grid=24,
        data={"name": "circle"}, model={"hidden": [8] * 12, "activation": "elu"},
        optimizer={"name": "sgd", "lr": 1.0}, batch_size=10, epochs=300,
    ),
    _preset(
        "exploding_clipped", "Exploding gradients, clipped",
        "The same network and learning rate with the global gradient norm clipped to 1: every step stays bounded.",
        grid=24,
        data={"name": "circle"}, model={"hidden": [8] * 12, "activation": "elu"},
        optimizer={"name": "sgd", "lr": 1.0}, clip_norm=1.0, batch_size=10, epochs=300,
    ),
    _preset(
        "uat_1d", "Universal approximation in 1-D",
        "One hidden layer of 16 tanh units fits sin(x): each unit is a step of the sum that draws the curve.",
        grid=DEFAULT_CURVE_GRID,
        data={"name": "sin"}, model={"hidden": [16], "activation": "tanh"}, optimizer={"name": "adam", "lr": 0.01},
        batch_size=10, epochs=500,
    ),
]
