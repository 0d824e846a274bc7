"""explain(): one example's pass, checked against the engine's own backward and by hand."""

import copy
import subprocess
import sys
import json
import math

import numpy as np
import pytest

import deltaflow as df
from deltaflow.diagnostics.explain import Explanation, explain

F64 = np.float64
TOL = dict(rtol=1e-12, atol=1e-12)
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "identity"]


def _engine(net, loss, x, target):
    """The engine on a batch of one: forward, loss, backward. Returns copies of what it computed."""
    out = net.forward(np.reshape(x, (1, -1)))
    value = loss.forward(out, target)
    dout = loss.backward()
    dx = net.backward(dout)
    dense = [layer for layer in net.modules() if isinstance(layer, df.Dense)]
    return {
        "out": out[0].copy(),
        "loss": value,
        "dout": dout[0].copy(),
        "dx": dx[0].copy(),
        "a_prev": [d._a[0].copy() for d in dense],
        "dW": [d.W.grad.copy() for d in dense],
        "db": [d.b.grad.copy() if d.b is not None else None for d in dense],
    }


def _case(loss_name, k, seed):
    """(loss, y for explain, target batch for the engine)."""
    rng = np.random.default_rng(seed)
    if loss_name == "cross_entropy":
        label = int(rng.integers(k))
        return df.SoftmaxCrossEntropy(), label, np.array([label])
    if loss_name == "bce":
        y = float(rng.integers(2))
        return df.BinaryCrossEntropy(), y, np.array([[y]])
    y = rng.standard_normal(k)
    return df.MeanSquaredError(), y, y[None]


def _assert_matches_engine(net, loss, x, y, target):
    e = explain(net, loss, x, y)
    ref = _engine(copy.deepcopy(net), copy.deepcopy(loss), x, target)
    assert len(e.layers) == len(ref["dW"])
    for step, a_prev, dW, db in zip(e.layers, ref["a_prev"], ref["dW"], ref["db"]):
        np.testing.assert_allclose(step["a_prev"]["value"], a_prev, **TOL)
        np.testing.assert_allclose(step["dW"]["value"], dW, **TOL)
        if db is not None:
            np.testing.assert_allclose(step["db"]["value"], db, **TOL)
            np.testing.assert_allclose(step["delta"]["value"], db, **TOL)  # ∂L/∂b^(l) = δ^(l)
    np.testing.assert_allclose(float(e.output["loss"]["value"]), ref["loss"], **TOL)
    assert e.loss_value == pytest.approx(ref["loss"], rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(e.output["dL_dx"]["value"], ref["dx"], **TOL)
    last = e.layers[-1]
    # the network's output is z^(L) when the loss supplies the output function, a^(L) otherwise
    key = "dL_da" if "dL_da" in e.output else "delta"
    out = last["z"]["value"] if key == "delta" else last["a"]["value"]
    np.testing.assert_allclose(out, ref["out"], **TOL)
    np.testing.assert_allclose(e.output[key]["value"], ref["dout"], **TOL)
    return e


# ----------------------------------------------------------------- equality with the engine


@pytest.mark.parametrize("loss_name", ["cross_entropy", "bce", "mse"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_engine_backward(activation, loss_name):
    k = 1 if loss_name == "bce" else 3
    seed = ACTIVATIONS.index(activation) * 10 + ["cross_entropy", "bce", "mse"].index(loss_name)
    net = df.mlp([4, 5, 6, k], activation=activation, dtype=F64, rng=seed)
    x = np.random.default_rng(seed + 100).standard_normal(4)
    loss, y, target = _case(loss_name, k, seed)
    e = _assert_matches_engine(net, loss, x, y, target)
    assert [s.l for s in e.layers] == [1, 2, 3]
    name = df.nn.activations.get_activation(activation).name
    assert [s.activation for s in e.layers[:2]] == [name, name]
    assert e.layers[-1].activation == {"cross_entropy": "softmax", "bce": "sigmoid", "mse": "identity"}[loss_name]


@pytest.mark.parametrize(
    ("output", "loss"),
    [("sigmoid", df.MeanSquaredError()), ("sigmoid", df.BinaryCrossEntropy(from_logits=False)),
     ("tanh", df.SoftmaxCrossEntropy()), ("identity", df.BinaryCrossEntropy())],
)
def test_explicit_output_activation_matches_engine(output, loss):
    k = 1 if isinstance(loss, df.BinaryCrossEntropy) else 3
    net = df.mlp([3, 4, k], activation="tanh", output=output, dtype=F64, rng=7)
    x = np.array([0.3, -1.2, 0.8])
    if isinstance(loss, df.SoftmaxCrossEntropy):
        y, target = 2, np.array([2])
    else:
        y, target = np.full(k, 0.25), np.full((1, k), 0.25)
    e = _assert_matches_engine(net, loss, x, y, target)
    assert e.layers[-1].activation == output
    assert e.output["delta"]["equation"] == "δ^(2) = ∂L/∂a^(2) ⊙ σ'(z^(2))"
    np.testing.assert_allclose(
        e.output["delta"]["value"], e.output["dL_da"]["value"] * e.layers[-1]["dsigma"]["value"], **TOL
    )


def test_probability_target_deep_net_and_no_bias_match_engine():
    rng = np.random.default_rng(3)
    net = df.Sequential([
        df.Dense(3, 4, dtype=F64, rng=1), df.Sigmoid(),
        df.Sequential([df.Dense(4, 4, bias=False, dtype=F64, rng=2), df.GELU()]),
        df.Dense(4, 5, dtype=F64, rng=3),  # followed directly by a Dense: the identity
        df.Dense(5, 3, dtype=F64, rng=4),
    ])
    p = rng.random(3)
    p /= p.sum()
    e = _assert_matches_engine(net, df.SoftmaxCrossEntropy(), rng.standard_normal((1, 3)), p, p[None])
    assert "b" not in e.layers[1] and "db" not in e.layers[1]
    assert e.layers[1]["z"]["equation"] == "z^(2) = W^(2)·a^(1)"
    assert e.layers[2].activation == "identity"
    np.testing.assert_array_equal(e.layers[2]["a"]["value"], e.layers[2]["z"]["value"])


def test_single_dense_and_float32():
    net = df.Dense(3, 2, dtype=np.float32, rng=0)
    x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    e = explain(net, df.MeanSquaredError(), x, [0.0, 1.0])
    ref = _engine(df.Sequential([copy.deepcopy(net)]), df.MeanSquaredError(), x,
                  np.array([[0.0, 1.0]], dtype=np.float32))
    assert e.dtype == "float32"
    for step in e.layers:
        for q in step.quantities.values():
            assert q["value"].dtype == np.float32, q["symbol"]
    np.testing.assert_allclose(e.layers[0]["dW"]["value"], ref["dW"][0], rtol=1e-6)


# ----------------------------------------------------------------- by hand


def test_hand_worked_2_2_1_sigmoid_mse():
    """Every number of a 2-2-1 sigmoid network with MSE, worked out with scalars."""
    net = df.mlp([2, 2, 1], activation="sigmoid", output="sigmoid", dtype=F64, rng=0)
    net[0].W.value[...] = [[0.15, 0.20], [0.25, 0.30]]
    net[0].b.value[...] = [0.35, 0.35]
    net[2].W.value[...] = [[0.40, 0.45]]
    net[2].b.value[...] = [0.60]
    x1, x2, y = 0.05, 0.10, 0.01
    eta = 0.5
    e = explain(net, df.MeanSquaredError(), [x1, x2], y, lr=eta)

    def s(t):
        return 1.0 / (1.0 + math.exp(-t))

    z11 = 0.15 * x1 + 0.20 * x2 + 0.35
    z12 = 0.25 * x1 + 0.30 * x2 + 0.35
    a11, a12 = s(z11), s(z12)
    z2 = 0.40 * a11 + 0.45 * a12 + 0.60
    yhat = s(z2)
    L = (y - yhat) ** 2
    dL_dyhat = 2 * (yhat - y)
    d2 = dL_dyhat * yhat * (1 - yhat)
    d11 = 0.40 * d2 * a11 * (1 - a11)
    d12 = 0.45 * d2 * a12 * (1 - a12)

    assert (z11, z12) == pytest.approx((0.3775, 0.3925), abs=1e-15)
    assert (a11, a12, yhat) == pytest.approx((0.593269992, 0.596884378, 0.751365070), abs=1e-9)
    l1, l2 = e.layers
    close = dict(rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(l1["z"]["value"], [z11, z12], **close)
    np.testing.assert_allclose(l1["a"]["value"], [a11, a12], **close)
    np.testing.assert_allclose(l1["dsigma"]["value"], [a11 * (1 - a11), a12 * (1 - a12)], **close)
    np.testing.assert_allclose(l2["a_prev"]["value"], [a11, a12], **close)
    np.testing.assert_allclose(l2["z"]["value"], [z2], **close)
    np.testing.assert_allclose(e.output["y_hat"]["value"], [yhat], **close)
    assert e.loss_value == pytest.approx(L, rel=1e-14)
    np.testing.assert_allclose(e.output["dL_da"]["value"], [dL_dyhat], **close)
    np.testing.assert_allclose(l2["delta"]["value"], [d2], **close)
    np.testing.assert_allclose(l2["dW"]["value"], [[d2 * a11, d2 * a12]], **close)
    np.testing.assert_allclose(l2["db"]["value"], [d2], **close)
    np.testing.assert_allclose(l1["delta"]["value"], [d11, d12], **close)
    np.testing.assert_allclose(l1["dW"]["value"], [[d11 * x1, d11 * x2], [d12 * x1, d12 * x2]], **close)
    np.testing.assert_allclose(l1["db"]["value"], [d11, d12], **close)
    np.testing.assert_allclose(
        e.output["dL_dx"]["value"], [0.15 * d11 + 0.25 * d12, 0.20 * d11 + 0.30 * d12], **close
    )
    np.testing.assert_allclose(l2["W_new"]["value"], [[0.40 - eta * d2 * a11, 0.45 - eta * d2 * a12]], **close)
    np.testing.assert_allclose(l2["b_new"]["value"], [0.60 - eta * d2], **close)
    np.testing.assert_allclose(
        l1["W_new"]["value"],
        [[0.15 - eta * d11 * x1, 0.20 - eta * d11 * x2], [0.25 - eta * d12 * x1, 0.30 - eta * d12 * x2]],
        **close,
    )
    assert l1["W_new"]["equation"] == "W^(1) ← W^(1) − η·∂L/∂W^(1)"


def test_gradient_step_equals_sgd():
    net = df.mlp([3, 4, 2], activation="relu", dtype=F64, rng=5)
    x = np.array([0.2, -0.4, 1.0])
    e = explain(net, df.SoftmaxCrossEntropy(), x, 0, lr=0.1)
    other = copy.deepcopy(net)
    _engine(other, df.SoftmaxCrossEntropy(), x, np.array([0]))
    df.SGD(other.parameters(), lr=0.1).step()
    for step, dense in zip(e.layers, [other[0], other[2]]):
        np.testing.assert_allclose(step["W_new"]["value"], dense.W.value, **TOL)
        np.testing.assert_allclose(step["b_new"]["value"], dense.b.value, **TOL)
    assert e.lr == 0.1 and "W_new" not in explain(net, df.SoftmaxCrossEntropy(), x, 0).layers[0]


# ----------------------------------------------------------------- the seed's claims


def test_softmax_cross_entropy_output_delta_is_y_hat_minus_y():
    net = df.mlp([3, 5, 4], activation="tanh", dtype=F64, rng=11)
    e = explain(net, df.SoftmaxCrossEntropy(), np.array([1.0, 0.5, -0.5]), 2)
    y_hat, y = e.output["y_hat"]["value"], e.output["y"]["value"]
    np.testing.assert_array_equal(y, [0, 0, 1, 0])
    np.testing.assert_allclose(y_hat.sum(), 1.0, rtol=1e-15)
    np.testing.assert_array_equal(e.output["delta"]["value"], y_hat - y)
    assert e.output["delta"]["equation"] == "δ^(2) = ŷ − y"
    # the same δ by the chain rule: (∂ŷ/∂z)ᵀ · ∂L/∂ŷ with ∂L/∂ŷ_k = −y_k/ŷ_k
    jacobian = e.layers[-1]["dsigma"]["value"]
    assert jacobian.shape == (4, 4)
    np.testing.assert_allclose(jacobian.T @ (-y / y_hat), y_hat - y, **TOL)
    assert e.loss_value == pytest.approx(-math.log(y_hat[2]), rel=1e-14)


def test_equations_use_the_seed_notation():
    net = df.mlp([2, 3, 3, 2], activation="sigmoid", dtype=F64, rng=1)
    e = explain(net, df.SoftmaxCrossEntropy(), [0.1, 0.2], 1)
    l1, l2, l3 = e.layers
    assert l1["a_prev"]["equation"] == "a^(0) = x"
    assert l2["z"]["equation"] == "z^(2) = W^(2)·a^(1) + b^(2)"
    assert l2["a"]["equation"] == "a^(2) = σ(z^(2))" and l2["a"]["note"] == "σ = sigmoid"
    assert l1["delta"]["equation"] == "δ^(1) = (W^(2))ᵀ·δ^(2) ⊙ σ'(z^(1))"
    assert l2["dW"]["equation"] == "∂L/∂W^(2) = δ^(2)·(a^(1))ᵀ"
    assert l2["db"]["equation"] == "∂L/∂b^(2) = δ^(2)"
    assert l3["a"]["equation"] == "a^(3) = ŷ = softmax(z^(3))"
    assert e.output["loss"]["equation"] == "L = −Σ_k y_k · log(ŷ_k)"
    assert l2["W"]["shape"] == (3, 3) and l1["W"]["shape"] == (3, 2) and l3["dW"]["shape"] == (2, 3)
    for step in e.layers:
        for q in step.quantities.values():
            assert q["shape"] == q["value"].shape


# ----------------------------------------------------------------- the network is left alone


def _snapshot(obj):
    return copy.deepcopy({k: v for k, v in vars(obj).items() if k != "rng"})


def _assert_same(before, after):
    assert before.keys() == after.keys()
    for key in before:
        b, a = before[key], after[key]
        if isinstance(b, np.ndarray):
            np.testing.assert_array_equal(a, b)
        elif hasattr(b, "value") and hasattr(b, "grad"):  # Param
            np.testing.assert_array_equal(a.value, b.value)
            np.testing.assert_array_equal(a.grad, b.grad)
        else:
            assert type(a) is type(b), key


@pytest.mark.parametrize("trained", [False, True])
def test_network_and_loss_unchanged(trained):
    net = df.mlp([3, 4, 4, 3], activation="elu", dtype=F64, rng=2)
    loss = df.SoftmaxCrossEntropy()
    if trained:  # grads and caches from another batch must survive
        batch = np.random.default_rng(0).standard_normal((5, 3))
        loss.forward(net.forward(batch), np.array([0, 1, 2, 1, 0]))
        net.backward(loss.backward())
    layers = list(net.modules())
    grads = [p.grad for p in net.parameters()]
    before = [_snapshot(layer) for layer in layers]
    loss_before = _snapshot(loss)
    explain(net, loss, np.array([0.5, 0.5, -1.0]), 1, lr=0.3)
    for layer, b in zip(layers, before):
        _assert_same(b, _snapshot(layer))
    _assert_same(loss_before, _snapshot(loss))
    assert all(p.grad is g for p, g in zip(net.parameters(), grads))


def test_batchnorm_network_refused_and_running_stats_untouched():
    net = df.mlp([3, 4, 2], norm="batch", dtype=F64, rng=0)
    bn = net[1]
    mean, var = bn.running_mean.copy(), bn.running_var.copy()
    with pytest.raises(ValueError, match=r"layer 1 is BatchNorm\(4\); explain supports networks of Dense"):
        explain(net, df.SoftmaxCrossEntropy(), np.zeros(3), 0)
    np.testing.assert_array_equal(bn.running_mean, mean)
    np.testing.assert_array_equal(bn.running_var, var)


# ----------------------------------------------------------------- to_dict and format


def test_to_dict_is_json_and_round_trips():
    net = df.mlp([3, 4, 2], activation="tanh", dtype=F64, rng=4)
    e = explain(net, df.SoftmaxCrossEntropy(), np.array([0.1, -0.7, 2.0]), 1, lr=0.05)
    assert isinstance(e, Explanation)
    back = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert back["loss"] == "SoftmaxCrossEntropy()" and back["dtype"] == "float64" and back["lr"] == 0.05
    assert back["loss_value"] == e.loss_value
    assert len(back["layers"]) == len(e.layers)
    for step, rec in zip(e.layers, back["layers"]):
        assert rec["l"] == step.l and rec["activation"] == step.activation
        assert rec["quantities"].keys() == step.quantities.keys()
        for key, q in step.quantities.items():
            r = rec["quantities"][key]
            assert r["equation"] == q["equation"] and r["symbol"] == q["symbol"]
            assert tuple(r["shape"]) == q["shape"]
            np.testing.assert_array_equal(np.array(r["value"], dtype=F64), q["value"])  # exact
    for key, q in e.output.items():
        np.testing.assert_array_equal(np.array(back["output"][key]["value"], dtype=F64), q["value"])


def test_to_dict_replaces_non_finite_with_null():
    net = df.mlp([2, 1], dtype=F64, rng=0)
    net[0].W.value[...] = 1e308
    with np.errstate(over="ignore", invalid="ignore"):
        e = explain(net, df.MeanSquaredError(), [1.0, 1.0], 0.0)
    assert not np.isfinite(e.layers[0]["z"]["value"]).all()
    d = json.loads(json.dumps(e.to_dict(), allow_nan=False))
    assert d["layers"][0]["quantities"]["z"]["value"] == [None]


def test_format_shows_equations_and_numbers():
    net = df.mlp([2, 2, 1], activation="sigmoid", output="sigmoid", dtype=F64, rng=0)
    net[0].W.value[...] = [[0.15, 0.20], [0.25, 0.30]]
    net[0].b.value[...] = [0.35, 0.35]
    net[2].W.value[...] = [[0.40, 0.45]]
    net[2].b.value[...] = [0.60]
    text = explain(net, df.MeanSquaredError(), [0.05, 0.10], 0.01, lr=0.5).format(precision=4)
    for line in [
        "z^(1) = W^(1)·a^(0) + b^(1) = [0.3775, 0.3925]",
        "a^(1) = σ(z^(1)) = [0.5933, 0.5969]   (σ = sigmoid)",
        "z^(2) = W^(2)·a^(1) + b^(2) = [1.1059]",
        "δ^(1) = (W^(2))ᵀ·δ^(2) ⊙ σ'(z^(1)) = ",
        "∂L/∂W^(2) = δ^(2)·(a^(1))ᵀ =",
        "L = (y − ŷ)² = 0.5496",
        "W^(2) ← W^(2) − η·∂L/∂W^(2) =",
        "Gradient-descent step, η = 0.5",
    ]:
        assert line in text, line
    assert "[[0.15, 0.2 ]," in text and "[0.25, 0.3 ]]" in text  # a full matrix
    assert text.index("Forward pass") < text.index("Loss") < text.index("Backward pass")
    assert text.index("δ^(2) =") < text.index("δ^(1) =")  # backward runs from L down
    assert "0.55" in explain(net, df.MeanSquaredError(), [0.05, 0.10], 0.01).format(precision=2)
    assert str(explain(net, df.MeanSquaredError(), [0.05, 0.10], 0.01)) == text.split("\n\nGradient")[0]


def test_format_summarises_large_layers():
    net = df.mlp([12, 10, 2], activation="relu", dtype=F64, rng=0)
    e = explain(net, df.SoftmaxCrossEntropy(), np.ones(12), 1)
    text = e.format()
    norm = np.linalg.norm(e.layers[0]["dW"]["value"])
    assert f"∂L/∂W^(1) = δ^(1)·(a^(0))ᵀ: shape (10, 12), ‖·‖ = {norm:.4g}" in text
    assert "b^(2) = [0., 0.]" in text  # small arrays stay in full


# ----------------------------------------------------------------- errors


@pytest.fixture
def small():
    return df.mlp([3, 4, 3], activation="tanh", dtype=F64, rng=0)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros(4), 0, "x has 4 features but the network expects 3"),
        (np.zeros((2, 3)), 0, r"one example of shape \(3,\) or \(1, 3\), got shape \(2, 3\)"),
        (np.zeros(3, dtype=np.float32), 0, "x is float32 but the network is float64"),
        (np.zeros(3, dtype=np.int64), 0, "x must be float32 or float64"),
        (np.array([0.0, np.nan, 0.0]), 0, "x contains NaN or Inf"),
        (np.zeros(3), 3, r"label 3 out of range \[0, 3\)"),
        (np.zeros(3), -1, r"label -1 out of range \[0, 3\)"),
        (np.zeros(3), 1.0, "a class label must be an integer"),
        (np.zeros(3), np.ones(4) / 4, r"target row must have shape \(3,\)"),
        (np.zeros(3), np.array([1.5, -0.5, 0.0]), "non-negative"),
    ],
)
def test_bad_inputs_raise(small, x, y, message):
    with pytest.raises(ValueError, match=message):
        explain(small, df.SoftmaxCrossEntropy(), x, y)


def test_bad_targets_and_lr_raise(small):
    with pytest.raises(ValueError, match=r"target must have shape \(3,\) for 3 outputs"):
        explain(small, df.MeanSquaredError(), np.zeros(3), 0.5)
    net1 = df.mlp([3, 1], dtype=F64, rng=0)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        explain(net1, df.BinaryCrossEntropy(), np.zeros(3), 2.0)
    for lr in (0.0, -1.0, float("nan"), "0.1", True):
        with pytest.raises(ValueError, match="lr must be a positive finite number"):
            explain(small, df.SoftmaxCrossEntropy(), np.zeros(3), 0, lr=lr)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([df.Dense(3, 3, dtype=F64), df.Dropout(0.5), df.Dense(3, 3, dtype=F64)], r"layer 1 is Dropout\(p=0.5\)"),
        ([df.Dense(3, 3, dtype=F64), df.LayerNorm(3, dtype=F64)], r"layer 1 is LayerNorm\(3\)"),
        ([df.Residual(df.Sequential([df.Dense(3, 3, dtype=F64), df.ReLU()]))], "layer 0 is Residual"),
        ([df.Dense(3, 3, dtype=F64), df.Step()], "Step, which has no gradient"),
        ([df.ReLU(), df.Dense(3, 3, dtype=F64)], "comes before any Dense layer"),
        ([df.Dense(3, 3, dtype=F64), df.ReLU(), df.Tanh()], "second activation"),
    ],
)
def test_unsupported_networks_raise(layers, message):
    with pytest.raises(ValueError, match=message):
        explain(df.Sequential(layers), df.SoftmaxCrossEntropy(), np.zeros(3), 0)


def test_unsupported_loss_raises(small):
    class Hinge(df.nn.losses.Loss):
        pass

    with pytest.raises(ValueError, match="unsupported loss Hinge"):
        explain(small, Hinge(), np.zeros(3), np.zeros(3))


def test_explain_imports_only_the_engine():
    """DESIGN.md: explain sits above the engine and below the faces."""
    probe = ("import sys, deltaflow.diagnostics.explain; "
             "print(' '.join(sorted(m for m in sys.modules if m.startswith('deltaflow.'))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    loaded = {m.removeprefix("deltaflow.") for m in out.stdout.split()}
    faces = {m.split(".")[0] for m in loaded} & {"training", "viz", "cli", "sklearn", "web", "report", "experiments"}
    assert {"diagnostics.explain", "nn.layers", "nn.activations", "nn.losses", "nn.network"} <= loaded
    assert not faces, sorted(faces)
