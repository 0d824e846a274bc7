"""RunConfig: its defaults, the JSON round trip, and that every out-of-range or unknown
value is rejected with a message that names the field (``section.field: why``)."""

import json

import numpy as np
import pytest

from deltaflow.data import DATASETS, load_dataset
from deltaflow.training.config import MAX_LAYERS, MAX_WIDTH, RunConfig, load_config

FULL = {
    "name": "spiral-1.a_b",
    "data": {"name": "spiral", "n_samples": 300, "noise": 0.2, "test_fraction": 0.25,
             "features": ["x1", "x2", "x1x2", "sin_x1"], "standardize": False},
    "model": {"hidden": [16, 8, 4], "activation": ["relu", "tanh", "gelu"], "norm": "batch",
              "dropout": 0.1, "init": "he_normal"},
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "lr": 0.003, "betas": [0.8, 0.99], "eps": 1e-7, "weight_decay": 1e-4},
    "schedule": {"name": "step", "step_size": 3, "gamma": 0.25},
    "batch_size": 8,
    "epochs": 12,
    "steps": 40,
    "clip_norm": 1.5,
    "clip_value": 0.5,
    "l1": 1e-5,
    "l2": 1e-3,
    "seed": 42,
    "dtype": "float64",
}


def test_defaults():
    c = RunConfig()
    assert c.name is None and c.loss is None and c.seed == 0 and c.dtype == "float32"
    assert (c.data.name, c.data.n_samples, c.data.noise, c.data.test_fraction) == ("spiral", None, None, 0.2)
    assert c.data.features is None and c.data.standardize is True
    assert (c.model.hidden, c.model.activation, c.model.norm, c.model.dropout, c.model.init) == (
        [8, 8], "tanh", "none", 0.0, "auto")
    assert (c.optimizer.name, c.optimizer.lr, c.optimizer.weight_decay) == ("adam", 0.01, 0.0)
    assert c.optimizer.momentum is None and c.optimizer.betas is None and c.optimizer.eps is None
    assert c.optimizer.kwargs() == {"weight_decay": 0.0}  # None leaves the optimiser's own defaults
    assert c.schedule.name == "none"
    assert (c.batch_size, c.epochs, c.steps) == (16, 100, None)
    assert (c.clip_norm, c.clip_value, c.l1, c.l2) == (None, None, 0.0, 0.0)


def test_defaults_are_not_shared_between_instances():
    a, b = RunConfig(), RunConfig()
    a.model.hidden.append(3)
    assert b.model.hidden == [8, 8]


def test_json_round_trip():
    c = RunConfig.from_dict(FULL)
    text = c.to_json()
    again = RunConfig.from_json(text)
    assert again == c
    assert again.to_json() == text
    assert json.loads(text)["optimizer"]["betas"] == [0.8, 0.99]
    assert RunConfig.from_dict(json.loads(text)) == c
    assert RunConfig.from_json(RunConfig().to_json()) == RunConfig()


def test_optimizer_kwargs_pass_the_settings_on():
    c = RunConfig.from_dict(FULL)
    assert c.optimizer.kwargs() == {"weight_decay": 1e-4, "betas": (0.8, 0.99), "eps": 1e-7}
    sgd = RunConfig.from_dict({"optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.5}})
    assert sgd.optimizer.kwargs() == {"weight_decay": 0.0, "momentum": 0.5}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": {"hidden": [8, 0]}}, r"^model\.hidden: .*between 1 and"),
        ({"model": {"hidden": [MAX_WIDTH + 1]}}, r"^model\.hidden: .*between 1 and"),
        ({"model": {"hidden": [4] * (MAX_LAYERS + 1)}}, r"^model\.hidden: .*at most 64"),
        ({"model": {"activation": "swish"}}, r"^model\.activation: unknown activation 'swish'"),
        ({"model": {"activation": ["tanh", "swish"]}}, r"^model\.activation: unknown activation 'swish'"),
        ({"model": {"activation": "step"}}, r"^model\.activation: step has no gradient"),
        ({"model": {"activation": ["tanh", "step"]}}, r"^model\.activation: step has no gradient"),
        ({"model": {"activation": ["tanh"]}}, r"^model: activation lists 1 names for 2 hidden layers"),
        ({"model": {"activation": ["tanh"] * 3}}, r"^model: activation lists 3 names for 2 hidden layers"),
        ({"model": {"init": "glorot"}}, r"^model\.init: unknown initialiser 'glorot'"),
        ({"model": {"norm": "group"}}, r"^model\.norm: "),
        ({"model": {"dropout": 1.0}}, r"^model\.dropout: "),
        ({"optimizer": {"name": "lbfgs"}}, r"^optimizer\.name: .*'sgd'"),
        ({"optimizer": {"lr": 0.0}}, r"^optimizer\.lr: .*greater than 0"),
        ({"optimizer": {"lr": -0.1}}, r"^optimizer\.lr: .*greater than 0"),
        ({"optimizer": {"betas": [0.9, 1.0]}}, r"^optimizer\.betas: betas must lie in \[0, 1\)"),
        ({"optimizer": {"betas": [-0.1, 0.999]}}, r"^optimizer\.betas: betas must lie in \[0, 1\)"),
        ({"optimizer": {"betas": [0.9]}}, r"^optimizer\.betas"),
        ({"optimizer": {"name": "adam", "momentum": 0.9}}, r"^optimizer: momentum does not apply to adam"),
        ({"optimizer": {"name": "adagrad", "momentum": 0.9}}, r"^optimizer: momentum does not apply to adagrad"),
        ({"optimizer": {"name": "sgd", "eps": 1e-8}}, r"^optimizer: eps does not apply to sgd"),
        ({"optimizer": {"name": "rmsprop", "betas": [0.9, 0.99]}}, r"^optimizer: betas applies to adam"),
        ({"optimizer": {"name": "sgd", "momentum": 1.0}}, r"^optimizer\.momentum: "),
        ({"optimizer": {"weight_decay": -1e-3}}, r"^optimizer\.weight_decay: "),
        ({"schedule": {"name": "cyclic"}}, r"^schedule\.name: "),
        ({"schedule": {"gamma": 0.0}}, r"^schedule\.gamma: "),
        ({"batch_size": 0}, r"^batch_size: .*greater than or equal to 1"),
        ({"epochs": 0}, r"^epochs: "),
        ({"epochs": 2.5}, r"^epochs: .*integer"),
        ({"steps": 0}, r"^steps: "),
        ({"clip_norm": 0.0}, r"^clip_norm: "),
        ({"l2": -1.0}, r"^l2: "),
        ({"seed": -1}, r"^seed: "),
        ({"dtype": "float16"}, r"^dtype: "),
        ({"loss": "hinge"}, r"^loss: "),
        ({"data": {"test_fraction": 1.0}}, r"^data\.test_fraction: .*less than 1"),
        ({"data": {"test_fraction": 0.0}}, r"^data\.test_fraction: .*greater than 0"),
        ({"data": {"name": "mnist"}}, r"^data\.name: unknown data set 'mnist'"),
        ({"data": {"features": ["x1", "x3"]}}, r"^data\.features: unknown feature 'x3'"),
        ({"data": {"n_samples": 0}}, r"^data\.n_samples: "),
        ({"data": {"noise": -0.1}}, r"^data\.noise: "),
        ({"data": {"noise": 1.5}}, r"^data: noise 1\.5 is over 'spiral''s limit of 1 \(the fraction of its perturbation\)$"),
        ({"data": {"name": "sin", "noise": 2.5}}, r"^data: noise 2\.5 is over 'sin''s limit of 2 \(the std added to y\)$"),
        ({"data": {"classes": 1}}, r"^data\.classes: "),
        ({"lr": 0.1}, r"^lr: Extra inputs are not permitted"),
        ({"data": {"samples": 10}}, r"^data\.samples: Extra inputs"),
        ({"model": {"layers": [8]}}, r"^model\.layers: Extra inputs"),
        ({"optimizer": {"learning_rate": 0.1}}, r"^optimizer\.learning_rate: Extra inputs"),
        ({"schedule": {"T_max": 10}}, r"^schedule\.T_max: Extra inputs"),
        ({"optimizer": {"lr": float("nan")}}, r"^optimizer\.lr: Input should be a finite number$"),
        ({"optimizer": {"lr": float("inf")}}, r"^optimizer\.lr: Input should be a finite number$"),
        ({"data": {"noise": float("nan")}}, r"^data\.noise: Input should be a finite number$"),
        ({"clip_norm": float("-inf")}, r"^clip_norm: Input should be a finite number$"),
        ({"name": "my run"}, r"^name: '.*' is not a run name: use 1 to 64 letters"),
        ({"name": "../escape"}, r"^name: '.*' is not a run name: use 1 to 64 letters"),
        ({"name": ".hidden"}, r"^name: '.*' is not a run name: use 1 to 64 letters"),
        ({"name": ""}, r"^name: '.*' is not a run name: use 1 to 64 letters"),
        ({"name": "a" * 65}, r"^name: '.*' is not a run name: use 1 to 64 letters"),
        ({"name": "runs/x"}, r"^name: '.*' is not a run name: use 1 to 64 letters"),
    ],
)
def test_bad_values_are_rejected_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        RunConfig.from_dict(changes)
    with pytest.raises(ValueError, match=message):
        RunConfig.from_json(json.dumps(changes))


def test_good_edge_values_are_accepted():
    c = RunConfig.from_dict({
        "name": "a", "model": {"hidden": [1, MAX_WIDTH], "activation": ["relu", "identity"]},
        "optimizer": {"name": "sgd", "lr": 100.0, "momentum": 0.0}, "batch_size": 1, "epochs": 1,
        "data": {"test_fraction": 0.5},
    })
    assert c.model.hidden == [1, MAX_WIDTH] and c.optimizer.lr == 100.0
    assert RunConfig.from_dict({"model": {"hidden": []}}).model.hidden == []  # a linear model
    assert RunConfig.from_dict({"optimizer": {"name": "rmsprop", "momentum": 0.9, "eps": 1e-6}})
    assert RunConfig.from_dict({"data": {"name": "array"}}).data.name == "array"  # data passed in


def test_several_problems_are_all_reported():
    with pytest.raises(ValueError) as err:
        RunConfig.from_dict({"batch_size": 0, "epochs": 0, "seed": -1, "l1": -1, "l2": -1})
    text = str(err.value)
    assert text.startswith("batch_size: ") and "; epochs: " in text and "; l1: " in text  # field order
    assert text.endswith("(and 2 more)")


def test_assignment_is_validated_too():
    c = RunConfig()
    with pytest.raises(ValueError, match="batch_size"):
        c.batch_size = 0
    with pytest.raises(ValueError, match="lr"):
        c.optimizer.lr = -1.0
    assert c.batch_size == 16 and c.optimizer.lr == 0.01


def test_from_json_rejects_what_is_not_a_config():
    with pytest.raises(ValueError, match="^config: "):
        RunConfig.from_json("[1, 2]")
    with pytest.raises(ValueError, match="JSON"):
        RunConfig.from_json("{not json")


# ---------------------------------------------------------------- load_config


def test_load_config_reads_a_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(FULL), encoding="utf-8")
    assert load_config(path) == RunConfig.from_dict(FULL)
    assert load_config(str(path)) == RunConfig.from_dict(FULL)


def test_load_config_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"config file .*nope\.json does not exist"):
        load_config(tmp_path / "nope.json")
    with pytest.raises(ValueError, match="does not exist"):
        load_config(tmp_path)  # a folder is not a config file


@pytest.mark.parametrize("content", [b"", b"{", b'{"epochs": 3,}', b"\xff\xfe\x00bad"])
def test_load_config_invalid_json(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"config file .*bad\.json is not valid JSON"):
        load_config(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"optimizer": {"lr": 0}}, r"optimizer\.lr: "),
        ({"epochs": 10, "epoch": 3}, r"epoch: Extra inputs"),
        ({"model": {"activation": "step"}}, r"model\.activation: step"),
        ([1, 2], r"config: "),
    ],
)
def test_load_config_invalid_content(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    with pytest.raises(ValueError, match=r"^config file .*bad\.json: " + message):
        load_config(path)


def test_the_shipped_spiral_config_loads():
    c = load_config("configs/spiral.json")
    assert c.name == "default" and c.data.name == "spiral" and c.model.hidden == [8, 8]
    assert RunConfig.from_json(c.to_json()) == c


@pytest.mark.parametrize("name", [n for n, info in DATASETS.items() if info.max_noise is not None])
def test_a_sets_noise_limit_is_the_one_its_generator_takes(name):
    """The config's limit (which the page's slider shows) is where the generator's own check
    begins to refuse: at the limit a set is made, just above it neither takes it."""
    limit = DATASETS[name].max_noise
    RunConfig.from_dict({"data": {"name": name, "noise": limit, "n_samples": 50}}).data.load(seed=0)
    above = np.nextafter(limit, np.inf)
    with pytest.raises(ValueError, match="noise"):
        RunConfig.from_dict({"data": {"name": name, "noise": above}})
    with pytest.raises(ValueError, match="noise must be"):
        load_dataset(name, n_samples=50, noise=above, seed=0)
