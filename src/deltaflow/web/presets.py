"""The simulator's one-click presets: each a full ``RunConfig`` dict, a heatmap grid and its story.

Every preset's config validates as a ``RunConfig`` and stays within ``limits.Limits()``
(``tests/web`` builds each one). ``deltaflow train --config`` runs any of them as well.

The story: ``story`` says what to watch and why; ``pause_at`` is the step of the key moment
(the page sends it with the config; the session pauses right after it), None for a preset
whose moment is its NaN alarm; ``moment`` is the sentence the page shows there, its fields
filled from the frame it stops on: ``{step}``, ``{test_metric}`` (as the page shows test
accuracy or R²), ``{layers}`` (L, the unit layers), ``{grad_first}`` / ``{grad_last}``
(‖∂L/∂W⁽¹⁾‖, ‖∂L/∂W⁽ᴸ⁾‖), ``{grad_ratio}`` (their quotient), ``{alarm_layer}`` (the NaN
alarm's layer, from 1) and ``{peak_grad_norm}`` (the largest finite ‖g‖ drawn before it).
"""

from __future__ import annotations

from deltaflow.training.config import RunConfig
from deltaflow.web.building import DEFAULT_CURVE_GRID, DEFAULT_GRID


MOMENT_FIELDS = ("step", "test_metric", "layers", "grad_first", "grad_last", "grad_ratio", "alarm_layer",
                 "peak_grad_norm")


def _preset(name: str, title: str, description: str, story: tuple[str, int | None, str], grid: int = DEFAULT_GRID,
            **config) -> dict:
    """``story``: (what to watch and why, ``pause_at``, the ``moment`` sentence)."""
    text, pause_at, moment = story
    return {"name": name, "title": title, "description": description, "grid": grid,
            "story": text, "pause_at": pause_at, "moment": moment,
            "config": RunConfig.from_dict(config).model_dump(mode="json")}


# 64-32-10 ReLU, Adam η = 0.003, batch 32: seeds 0–4 are at ≥ 0.969 test accuracy after 500 steps
# (≥ 0.947 after 200, 0.964 after 300); η = 0.01 gets there in under 100 steps, too fast to watch,
# and η = 0.001 needs about 1,000 (tests/test_digits_preset.py trains it)
DIGITS_STEPS = 500
DIGITS_CONFIG = {
    "data": {"name": "digits"}, "model": {"hidden": [32], "activation": "relu"},
    "optimizer": {"name": "adam", "lr": 0.003}, "batch_size": 32, "epochs": 200,
}

_DEEP = [16] * 20  # width 8 leaves 20 ReLU layers with a dead layer at initialisation

PRESETS: list[dict] = [
    _preset(
        "perceptron_xor", "Perceptron on XOR",
        "No hidden layer: one linear boundary cannot separate the XOR quadrants; accuracy stays near 50%.",
        (
            "Watch the output map and the test accuracy. Without a hidden layer ŷ = σ(w·x + b): the "
            "boundary w·x + b = 0 is one straight line, and XOR puts each class on opposite corners, "
            "so every line leaves half the points on the wrong side and the loss stays near ln 2.",
            2000, "After {step} steps the test accuracy is still {test_metric}: one straight line cannot split XOR."),
        data={"name": "xor"}, model={"hidden": []}, optimizer={"name": "sgd", "lr": 0.1},
        batch_size=10, epochs=200,
    ),
    _preset(
        "xor_hidden", "XOR with one hidden layer",
        "Four tanh units bend the boundary around the quadrants.",
        (
            "Watch the four hidden maps beside the output: each unit a⁽¹⁾ⱼ = tanh(w⁽¹⁾ⱼ·x + b⁽¹⁾ⱼ) "
            "draws one soft line, and the output layer weighs the four into a boundary that bends "
            "around the quadrants, which no single line can.",
            300, "After {step} steps the test accuracy is {test_metric}: four bent lines, added by the output "
                 "layer, split the quadrants."),
        data={"name": "xor"}, model={"hidden": [4], "activation": "tanh"}, optimizer={"name": "adam", "lr": 0.03},
        batch_size=10, epochs=200,
    ),
    _preset(
        "vanishing_sigmoid", "20 sigmoid layers: vanishing gradients",
        "σ' ≤ 1/4 at every layer: ‖∂L/∂W‖ of the first layer falls below 10⁻⁴ of the last, "
        "and it barely learns.",
        (
            "In the gradient view compare the bar of layer 1 with that of layer 21. "
            "δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾), so δ⁽¹⁾ and ∂L/∂W⁽¹⁾ = δ⁽¹⁾(a⁽⁰⁾)ᵀ carry a product of "
            "20 factors σ′(z) ≤ 1/4: (1/4)²⁰ ≈ 10⁻¹². The first layers barely move and the output "
            "map stays flat.",
            300, "After {step} steps layer 1's ‖∂L/∂W‖ = {grad_first} is {grad_ratio} × layer {layers}'s "
                 "({grad_last}), and the test accuracy is {test_metric}: the first layers have not learned."),
        grid=24,
        data={"name": "circle"}, model={"hidden": _DEEP, "activation": "sigmoid"},
        optimizer={"name": "sgd", "lr": 0.1}, batch_size=10, epochs=300,
    ),
    _preset(
        "deep_relu_he", "20 ReLU layers with He initialisation",
        "The same depth with ReLU (σ' = 1 where active) and He's variance-preserving initialisation: "
        "gradients reach the first layer.",
        (
            "Compare the same two bars as in the sigmoid preset. ReLU's σ′(z) is 1 where a unit is "
            "active, and He's initialisation (Var W = 2/n_in) keeps the size of a⁽ˡ⁾ and δ⁽ˡ⁾ from "
            "layer to layer, so the product of 20 factors neither vanishes nor explodes.",
            300, "After {step} steps layer 1's ‖∂L/∂W‖ is {grad_ratio} × layer {layers}'s (about 10⁻¹³ with "
                 "sigmoid), and the test accuracy is {test_metric}."),
        grid=24,
        data={"name": "circle"}, model={"hidden": _DEEP, "activation": "relu", "init": "he_normal"},
        optimizer={"name": "sgd", "lr": 0.01}, batch_size=10, epochs=300,
    ),
    _preset(
        "deep_sigmoid_batchnorm", "20 sigmoid layers with BatchNorm",
        "BatchNorm keeps each layer's z near zero, where σ' is largest, so the gradient survives the depth.",
        (
            "Compare layer 1 with layer 21 once more: the same 20 sigmoid layers, but BatchNorm "
            "rescales each z⁽ˡ⁾ to mean 0 and variance 1 over the batch, where σ′ is near its largest, "
            "and its backward pass divides δ by the batch's spread, making up for the factors σ′ ≤ 1/4.",
            600, "After {step} steps layer 1's ‖∂L/∂W‖ is {grad_ratio} × layer {layers}'s, and the test "
                 "accuracy is {test_metric}: the depth learns."),
        grid=24,
        data={"name": "circle"}, model={"hidden": _DEEP, "activation": "sigmoid", "norm": "batch"},
        optimizer={"name": "sgd", "lr": 0.1}, batch_size=10, epochs=300,
    ),
    _preset(
        "exploding", "Exploding gradients",
        "12 ELU layers and SGD with η = 1: each update multiplies the next gradient until a value "
        "overflows and the NaN alarm stops training.",
        (
            "Watch the bars of ‖∂L/∂W‖ and the loss. With η = 1 one update W ← W − η ∂L/∂W changes "
            "W so much that the next δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾)ᵀδ⁽ˡ⁺¹⁾ ⊙ σ′(z⁽ˡ⁾) is larger still, and ELU "
            "(σ′ = 1 for z > 0) passes the growth down all 12 layers. The simulator slows to one step "
            "a frame as ‖g‖ takes off, and stops at the first non-finite value.",
            None, "At step {step} a value became non-finite, first in layer {alarm_layer}: within a few "
                  "steps ‖g‖ had grown to {peak_grad_norm}."),
        grid=24,
        data={"name": "circle"}, model={"hidden": [8] * 12, "activation": "elu"},
        optimizer={"name": "sgd", "lr": 1.0}, batch_size=10, epochs=300,
    ),
    _preset(
        "exploding_clipped", "Exploding gradients, clipped",
        "The same network and learning rate with the global gradient norm clipped to 1: every step stays bounded.",
        (
            "Watch the same bars and the loss: before each update g ← g · min(1, 1/‖g‖), so no step "
            "moves the weights by more than η · 1, and a large gradient cannot make the next one "
            "larger still.",
            300, "After {step} steps no value has overflowed and the test accuracy is {test_metric}: "
                 "clipping kept every update at most η = 1 long."),
        grid=24,
        data={"name": "circle"}, model={"hidden": [8] * 12, "activation": "elu"},
        optimizer={"name": "sgd", "lr": 1.0}, clip_norm=1.0, batch_size=10, epochs=300,
    ),
    _preset(
        "digits", "Handwritten digits",
        "64-32-10 ReLU on scikit-learn's 8×8 digits: past 95% test accuracy within 500 steps; then draw your own.",
        (
            "Watch the first layer's weights take shape in the Draw a digit tab: unit i computes "
            "z⁽¹⁾ᵢ = w⁽¹⁾ᵢ·x + b⁽¹⁾ᵢ over the 64 pixels, so its row of W⁽¹⁾ drawn as an 8×8 image is the "
            "stroke pattern that switches it on. Then draw a digit and read the ten softmax probabilities.",
            DIGITS_STEPS, "After {step} steps the test accuracy is {test_metric}: draw a digit in the Draw a digit "
                          "tab and see which of the ten outputs it lights up."),
        **DIGITS_CONFIG,
    ),
    _preset(
        "iris", "Iris: four measurements, three species",
        "4-8-3 tanh on Fisher's 150 irises, drawn on the plane of the inputs' first two principal components.",
        (
            "Four inputs have no map of their own: the points and the decision regions are drawn on "
            "the plane of the two directions along which the standardised measurements vary most "
            "(PCA). Watch the Confusion matrix tab: row i counts the test irises of species i by the "
            "species the network predicts, so everything off the diagonal is a mistake.",
            300, "After {step} steps the test accuracy is {test_metric}: the confusion matrix counts each test "
                 "iris by true and predicted species; on the plane setosa stands apart, the other two touch."),
        data={"name": "iris"}, model={"hidden": [8], "activation": "tanh"}, optimizer={"name": "adam", "lr": 0.01},
        batch_size=16, epochs=500,
    ),
    _preset(
        "wine", "Wine: thirteen measurements, three cultivars",
        "13-16-3 tanh on 178 Italian wines; the PCA plane and the confusion matrix show how it separates them.",
        (
            "Thirteen chemical measurements, drawn on their first two principal components. The "
            "cultivars sit in three clouds on that plane, and the network's regions settle around them "
            "within a few epochs; the Confusion matrix tab counts the test wines by true and predicted class.",
            150, "After {step} steps the test accuracy is {test_metric}: the diagonal of the confusion "
                 "matrix holds nearly every test wine."),
        data={"name": "wine"}, model={"hidden": [16], "activation": "tanh"}, optimizer={"name": "adam", "lr": 0.01},
        batch_size=16, epochs=500,
    ),
    _preset(
        "uat_1d", "Universal approximation in 1-D",
        "One hidden layer of 16 tanh units fits sin(x): each unit is a step of the sum that draws the curve.",
        (
            "Watch the 16 hidden curves under the fit: ŷ(x) = Σⱼ vⱼ tanh(wⱼx + bⱼ) + c, each unit a "
            "smooth step at x = −bⱼ/wⱼ; the output layer scales them by vⱼ and adds them into sin(x).",
            300, "After {step} steps R² on the test points is {test_metric}: 16 scaled tanh steps add "
                 "up to sin(x)."),
        grid=DEFAULT_CURVE_GRID,
        data={"name": "sin"}, model={"hidden": [16], "activation": "tanh"}, optimizer={"name": "adam", "lr": 0.01},
        batch_size=10, epochs=500,
    ),
]
