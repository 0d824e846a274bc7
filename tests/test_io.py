"""Model files: bit-exact round trips, atomic writes, no pickle, and one clear error per bad file."""

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from deltaflow.nn.activations import ELU, GELU, LeakyReLU
from deltaflow.training.config import RunConfig
from deltaflow.training.io import FORMAT, HEADER, VERSION, load_model, save_model
from deltaflow.training.runs import Predictor
from deltaflow.nn.layers import Dense, Layer
from deltaflow.nn.network import Sequential, mlp

X = np.random.default_rng(0).normal(size=(16, 3))

ARCHITECTURES = {
    "tanh": dict(activation="tanh"),
    "sigmoid": dict(activation="sigmoid"),
    "relu": dict(activation="relu"),
    "leaky_relu": dict(activation=LeakyReLU(0.2)),
    "elu": dict(activation=ELU(0.7)),
    "gelu": dict(activation="gelu"),
    "gelu_tanh": dict(activation="gelu_tanh"),
    "identity": dict(activation="identity"),
    "per_layer": dict(activation=["tanh", "relu"]),
    "batch": dict(activation="relu", norm="batch"),
    "layer": dict(activation="tanh", norm="layer"),
    "residual": dict(activation="relu", norm="residual"),
    "dropout": dict(activation="relu", dropout=0.3),
}


def _trained(kwargs, dtype, steps=3):
    """An mlp 3-6-6-2 whose weights and BatchNorm buffers have moved away from their initial values."""
    net = mlp([3, 6, 6, 2], dtype=dtype, rng=1, **kwargs)
    x = X.astype(dtype)
    for _ in range(steps):
        net.forward(x, training=True)  # moves BatchNorm's running statistics
    for p in net.parameters():
        p.value += np.asarray(0.01, dtype) * np.arange(p.value.size, dtype=dtype).reshape(p.value.shape)
    return net.eval()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_round_trip_predicts_bit_for_bit(tmp_path, arch, dtype):
    net = _trained(ARCHITECTURES[arch], dtype)
    path = save_model(tmp_path / "m.npz", net)
    loaded = load_model(path)
    assert repr(loaded.net) == repr(net)
    state, back = net.state_dict(), loaded.net.state_dict()
    assert state.keys() == back.keys()
    for name in state:
        assert back[name].dtype == state[name].dtype
        assert np.array_equal(back[name], state[name]), name
    x = X.astype(dtype)
    assert np.array_equal(loaded.net.forward(x, training=False), net.forward(x, training=False))


def test_batchnorm_running_statistics_are_saved(tmp_path):
    net = _trained(ARCHITECTURES["batch"], "float64")
    bn = next(layer for layer in net.layers if type(layer).__name__ == "BatchNorm")
    buffers = dict(bn.named_buffers())
    assert buffers and all(not np.all(v == v.flat[0]) for v in buffers.values())  # moved from 0 and 1
    loaded = load_model(save_model(tmp_path / "m.npz", net))
    bn2 = next(layer for layer in loaded.net.layers if type(layer).__name__ == "BatchNorm")
    for name, value in bn2.named_buffers():
        assert np.array_equal(value, buffers[name])


def test_activation_settings_survive(tmp_path):
    net = Sequential([Dense(2, 2, rng=0), LeakyReLU(0.3), Dense(2, 2, rng=0), ELU(0.4), GELU("tanh")])
    layers = load_model(save_model(tmp_path / "m.npz", net)).net.layers
    assert (layers[1].negative_slope, layers[3].alpha, layers[4].approximate) == (0.3, 0.4, "tanh")


def test_config_meta_and_arrays_round_trip(tmp_path):
    cfg = RunConfig.from_dict({"name": "r", "model": {"hidden": [4]}, "optimizer": {"lr": 0.125}})
    mean = np.array([1.5, -2.0], dtype=np.float32)
    path = save_model(tmp_path / "m.npz", mlp([2, 4, 2], rng=0), cfg, {"task": "classification"}, {"mean": mean})
    m = load_model(path)
    assert RunConfig.from_dict(m.config) == cfg
    assert m.meta == {"task": "classification"}
    assert m.arrays["mean"].dtype == np.float32 and np.array_equal(m.arrays["mean"], mean)


def test_no_pickle_anywhere(tmp_path):
    net = mlp([2, 3, 2], rng=0)
    with pytest.raises(ValueError, match="dtype object, which cannot be saved without pickle"):
        save_model(tmp_path / "m.npz", net, arrays={"labels": np.array(["a", 1], dtype=object)})
    assert not list(tmp_path.iterdir())
    path = save_model(tmp_path / "m.npz", net)
    with np.load(path, allow_pickle=False) as data:  # every member loads without pickle
        assert all(data[k].dtype != object for k in data.files)


def test_object_array_in_file_is_refused(tmp_path):
    path = save_model(tmp_path / "m.npz", mlp([2, 3, 2], rng=0))
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["0.W"] = np.array([object()], dtype=object)  # what a pickling writer would store
    np.savez(tmp_path / "evil.npz", **arrays)
    with pytest.raises(ValueError, match="not a readable deltaflow model file.*allow_pickle=False"):
        load_model(tmp_path / "evil.npz")


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = mlp([2, 3, 2], rng=0)
    save_model(path, old)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail)
    with pytest.raises(OSError, match="disk full"):
        save_model(path, mlp([2, 3, 2], rng=1))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left
    monkeypatch.undo()
    assert np.array_equal(load_model(path).net.forward(X[:, :2].astype(np.float32)), old.forward(
        X[:, :2].astype(np.float32), training=False))


def test_save_layer_without_format_is_refused(tmp_path):
    class Unknown(Layer):
        pass

    with pytest.raises(ValueError, match="no file format for Unknown"):
        save_model(tmp_path / "m.npz", Sequential([Dense(2, 2, rng=0), Unknown()]))
    assert not list(tmp_path.iterdir())


# --- bad files ------------------------------------------------------------------------


@pytest.fixture
def model_path(tmp_path) -> Path:
    return save_model(tmp_path / "good.npz", mlp([2, 4, 2], norm="batch", rng=0))


def _rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy the arrays of ``src`` to ``dst`` after ``edit(arrays)`` changed them."""
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    edit(arrays)
    np.savez(dst, **arrays)
    return dst


def _header(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data[HEADER]))


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match=r"model file .*nope\.npz does not exist"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(ValueError, match="is not a file"):
        load_model(tmp_path)


def test_random_bytes(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    with pytest.raises(ValueError, match=r"junk\.npz is not a deltaflow model file \(not an \.npz archive"):
        load_model(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file(tmp_path, model_path, fraction):
    data = model_path.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError, match=r"cut\.npz is not a deltaflow model file \(not an \.npz archive"):
        load_model(path)


def test_npy_file_is_not_a_model(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(ValueError, match="not an .npz archive"):
        load_model(tmp_path / "a.npy")


def test_npz_without_header(tmp_path, model_path):
    path = _rewrite(model_path, tmp_path / "bare.npz", lambda a: a.pop(HEADER))
    with pytest.raises(ValueError, match=r"bare\.npz is not a deltaflow model file \(no __deltaflow__ header\)"):
        load_model(path)


@pytest.mark.parametrize(
    "change, shown",
    [({"version": VERSION + 1}, f"'{FORMAT}' version {VERSION + 1}"), ({"format": "other"}, "'other' version 1")],
)
def test_other_format_or_version(tmp_path, model_path, change, shown):
    header = {**_header(model_path), **change}
    path = _rewrite(model_path, tmp_path / "v.npz", lambda a: a.update({HEADER: np.array(json.dumps(header))}))
    with pytest.raises(ValueError, match=f"unsupported model format {shown}"):
        load_model(path)


@pytest.mark.parametrize(
    "header, message",
    [
        (np.array("{not json"), "the model header is not valid JSON"),
        (np.array("[1, 2]"), "the model header is not a JSON object"),
        (np.arange(3), "the model header is int64 of shape"),
    ],
)
def test_malformed_header(tmp_path, model_path, header, message):
    path = _rewrite(model_path, tmp_path / "h.npz", lambda a: a.update({HEADER: header}))
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_architecture_that_is_not_a_spec(tmp_path, model_path):
    header = {**_header(model_path), "architecture": {"type": "Sequential", "layers": ["Dense"]}}
    path = _rewrite(model_path, tmp_path / "a.npz", lambda a: a.update({HEADER: np.array(json.dumps(header))}))
    with pytest.raises(ValueError, match="weights do not match the saved architecture"):
        load_model(path)


def test_weight_of_the_wrong_shape(tmp_path, model_path):
    path = _rewrite(model_path, tmp_path / "s.npz", lambda a: a.update({"0.W": np.zeros((5, 2), np.float32)}))
    with pytest.raises(ValueError, match=r"weights do not match the saved architecture \(state dict entry '0.W': "
                                         r"expected \(4, 2\) float32, got \(5, 2\) float32\)"):
        load_model(path)


def test_weight_of_the_wrong_dtype(tmp_path, model_path):
    path = _rewrite(model_path, tmp_path / "d.npz", lambda a: a.update({"0.W": a["0.W"].astype(np.float64)}))
    with pytest.raises(ValueError, match="expected \\(4, 2\\) float32, got \\(4, 2\\) float64"):
        load_model(path)


def test_missing_and_unexpected_weights(tmp_path, model_path):
    def edit(a):
        a["9.W"] = a.pop("0.W")

    path = _rewrite(model_path, tmp_path / "k.npz", edit)
    with pytest.raises(ValueError, match=r"missing \['0.W'\], unexpected \['9.W'\]"):
        load_model(path)


def test_zip_of_other_files(tmp_path):
    path = tmp_path / "z.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match=r"z\.npz is not a deltaflow model file \(no __deltaflow__ header\)"):
        load_model(path)


# the header the code before layers described themselves wrote for this network, literally
_OLD_ARCHITECTURE = {"type": "Sequential", "layers": [
    {"type": "Dense", "n_in": 3, "n_out": 4, "bias": False, "dtype": "float64"},
    {"type": "BatchNorm", "n": 4, "eps": 1e-05, "momentum": 0.1, "dtype": "float64"},
    {"type": "activation", "name": "leaky_relu", "negative_slope": 0.01},
    {"type": "Residual", "pre_norm": True, "n": 4, "dtype": "float64", "block": {"type": "Sequential", "layers": [
        {"type": "Dense", "n_in": 4, "n_out": 4, "bias": True, "dtype": "float64"},
        {"type": "activation", "name": "gelu", "approximate": "tanh"}]}},
    {"type": "Dropout", "p": 0.25},
    {"type": "LayerNorm", "n": 4, "eps": 1e-05, "dtype": "float64"},
    {"type": "activation", "name": "elu", "alpha": 1.0},
    {"type": "Dense", "n_in": 4, "n_out": 2, "bias": True, "dtype": "float64"},
    {"type": "activation", "name": "sigmoid"}]}


def _every_layer_net():
    import deltaflow as df

    F = np.float64
    block = df.Sequential([df.Dense(4, 4, dtype=F, rng=1), df.GELU(approximate="tanh")])
    return df.Sequential([
        df.Dense(3, 4, bias=False, dtype=F, rng=0), df.BatchNorm(4, dtype=F), df.LeakyReLU(),
        df.Residual(block), df.Dropout(0.25), df.LayerNorm(4, dtype=F), df.ELU(),
        df.Dense(4, 2, dtype=F, rng=2), df.Sigmoid()])


def test_layer_specs_write_the_old_header_exactly(tmp_path):
    path = save_model(tmp_path / "m.npz", _every_layer_net())
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(str(data["__deltaflow__"]))
    assert json.dumps(header["architecture"]) == json.dumps(_OLD_ARCHITECTURE)  # keys and their order


def test_a_file_with_the_old_header_loads(tmp_path):
    net = _every_layer_net()
    header = {"format": "deltaflow-model", "version": 1, "architecture": _OLD_ARCHITECTURE, "config": None, "meta": {}}
    path = tmp_path / "old.npz"
    np.savez(path, **net.state_dict(), __deltaflow__=np.array(json.dumps(header)))
    loaded = load_model(path).net
    assert repr(loaded) == repr(net)
    for (name, a), (_, b) in zip(loaded.state_dict().items(), net.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    X = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(loaded.forward(X, training=False), net.eval().forward(X, training=False))


def test_every_bit_flip_is_one_short_line(tmp_path, model_path):
    """A corrupt file's message quotes at most a short piece of it (a flipped name length
    once printed 19,000 characters of raw bytes)."""
    data = model_path.read_bytes()
    path = tmp_path / "flip.npz"
    for pos in range(len(data)):
        flipped = bytearray(data)
        flipped[pos] ^= 0x10
        path.write_bytes(bytes(flipped))
        try:
            load_model(path)
        except ValueError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 300, (pos, str(exc)[:300])


# --- what a model file's output means (Predictor) ---------------------------------------


def test_bare_model_of_width_k_is_k_class_softmax(tmp_path):
    net = mlp([2, 4, 3], rng=0)
    pred = Predictor(load_model(save_model(tmp_path / "m.npz", net)))
    assert (pred.task.kind, pred.task.loss_name, pred.class_labels) == ("classification", "cross_entropy", [0, 1, 2])
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    p = pred.predict_proba(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    assert list(pred.predict(x)) == list(p.argmax(axis=1))
    loss, acc = pred.evaluate(x, [0, 2])
    assert np.isfinite(loss) and acc in (0.0, 0.5, 1.0)


def test_bare_model_of_width_1_is_regression(tmp_path):
    net = mlp([2, 4, 1], rng=0)
    pred = Predictor(load_model(save_model(tmp_path / "m.npz", net)))
    assert (pred.task.kind, pred.task.loss_name, pred.class_labels) == ("regression", "mse", [])
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    np.testing.assert_array_equal(pred.predict(x), net.forward(x, training=False)[:, 0])


def test_model_with_config_but_no_meta_follows_the_config(tmp_path):
    """The simulator saves its config and no task: a bce spiral model is a 2-class model, not regression."""
    cfg = RunConfig.from_dict({"loss": "bce", "data": {"name": "spiral"}})
    pred = Predictor(load_model(save_model(tmp_path / "m.npz", mlp([2, 4, 1], rng=0), cfg, meta={"step": 3})))
    assert (pred.task.kind, pred.task.loss_name, pred.class_labels) == ("classification", "bce", [0, 1])
    assert pred.predict_proba(np.zeros((1, 2))).shape == (1, 2)


@pytest.mark.parametrize("meta, message", [
    ({"task": "clustering"}, "metadata 'task' must be 'classification' or 'regression', got 'clustering'"),
    ({"task": 5}, "metadata 'task' must be 'classification' or 'regression', got 5"),
    ({"loss": "hinge"}, "metadata 'loss' must be one of cross_entropy"),
    ({"loss": ["mse"]}, "metadata 'loss' must be one of"),
    ({"task": "regression", "loss": "cross_entropy"}, "loss 'cross_entropy' needs class labels"),
    ({"class_labels": [3, 5], "n_classes": 3}, "metadata 'class_labels' has 2 labels for 3 classes"),
    ({"class_labels": [3, 5]}, "the network outputs 3 values, but a classification over 2 classes"),
    ({"class_labels": "abc"}, "metadata 'class_labels' must be a list of numbers, got 'abc'"),
    ({"class_labels": [1, 1, 2]}, "metadata 'class_labels' repeats a label"),
    ({"n_classes": "3"}, "metadata 'n_classes' must be an integer ≥ 2, got '3'"),
    ({"n_classes": 4}, "the network outputs 3 values, but a classification over 4 classes"),
    ({"feature_names": 7}, "metadata 'feature_names' must be a list of strings, got 7"),
    ({"input_features": ["x9"]}, "metadata 'input_features': unknown feature 'x9'"),
    ({"input_features": ["x1", "x2", "x1x2"]}, "input_features make 3 inputs, the network takes 2"),
    ({"target_name": [1]}, "metadata 'target_name' must be a string"),
])
def test_malformed_metadata_is_a_clear_value_error(tmp_path, meta, message):
    path = save_model(tmp_path / "m.npz", mlp([2, 4, 3], rng=0), meta=meta)
    with pytest.raises(ValueError) as info:
        Predictor(load_model(path))
    assert message in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("arrays, message", [
    ({"scaler_mean": np.zeros(3), "scaler_scale": np.ones(3)}, "scaler_mean has shape (3,), the network takes 2"),
    ({"scaler_mean": np.zeros(2), "scaler_scale": np.ones((2, 1))}, "scaler_scale has shape (2, 1)"),
    ({"scaler_mean": np.array([0.0, np.nan]), "scaler_scale": np.ones(2)}, "scaler_mean holds NaN or Inf"),
    ({"scaler_mean": np.zeros(2), "scaler_scale": np.array([1.0, np.inf])}, "scaler_scale holds NaN or Inf"),
    ({"scaler_mean": np.zeros(2), "scaler_scale": np.array([1.0, 0.0])}, "scaler_scale must be > 0"),
    ({"scaler_mean": np.zeros(2)}, "needs both scaler_mean and scaler_scale"),
])
def test_bad_standardiser_is_refused(tmp_path, arrays, message):
    path = save_model(tmp_path / "m.npz", mlp([2, 4, 3], rng=0), arrays=arrays)
    with pytest.raises(ValueError, match=re.escape(message)):
        Predictor(load_model(path))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_refused(tmp_path, bad):
    net = mlp([2, 4, 3], rng=0)
    net.parameters()[2].value[1] = bad
    path = save_model(tmp_path / "m.npz", net)
    with pytest.raises(ValueError, match=r"m\.npz: weight '2\.W' holds NaN or Inf"):
        load_model(path)
