"""Sequential, Residual, mlp() and collapse_linear()."""

import numpy as np
import pytest

import deltaflow as df
from deltaflow.nn import init as initializers

F64 = np.float64


def _small_net(dtype=F64, rng=0):
    return df.Sequential(
        [
            df.Dense(3, 4, dtype=dtype, rng=rng),
            df.BatchNorm(4, dtype=dtype),
            df.ReLU(),
            df.Dropout(0.5, rng=1),
            df.Dense(4, 2, dtype=dtype, rng=rng),
        ]
    )


# ----------------------------------------------------------------- Sequential API


def test_parameters_in_layer_order_w_before_b():
    net = _small_net()
    params = net.parameters()
    expected = [net[0].W, net[0].b, net[1].gamma, net[1].beta, net[4].W, net[4].b]
    assert len(params) == len(expected) and all(p is q for p, q in zip(params, expected))
    names = [name for name, _ in net.named_parameters()]
    assert names == ["0.W", "0.b", "1.gamma", "1.beta", "4.W", "4.b"]
    assert [name for name, _ in net.named_buffers()] == ["1.running_mean", "1.running_var"]


def test_container_protocol_and_repr():
    net = _small_net()
    assert len(net) == 5 and isinstance(net[2], df.ReLU)
    assert net.n_in == 3 and net.n_out(3) == 2 and net.dtype == F64
    assert repr(net).startswith("Sequential(Dense(3→4), BatchNorm(4), ReLU()")
    assert list(net.children()) == net.layers
    assert len(list(net.modules())) == 5


def test_zero_grad():
    rng = np.random.default_rng(0)
    net = _small_net()
    out = net.forward(rng.standard_normal((6, 3)))
    net.backward(np.ones_like(out))
    grads = [p.grad for p in net.parameters()]
    assert any(g.any() for g in grads)
    net.zero_grad()
    assert all(not p.grad.any() for p in net.parameters())
    assert all(p.grad is g for p, g in zip(net.parameters(), grads))  # in place


def test_train_eval_modes():
    rng = np.random.default_rng(1)
    net = _small_net()
    assert net.training
    X = rng.standard_normal((8, 3))
    for _ in range(3):
        net.forward(X)
    assert net.eval() is net and not net.training
    stats = net.state_dict()
    a, b = net.forward(X), net.forward(X)
    np.testing.assert_array_equal(a, b)  # no dropout noise, running stats frozen
    np.testing.assert_array_equal(net[1].running_mean, stats["1.running_mean"])
    # an explicit argument overrides the mode
    c = net.forward(X, training=True)
    assert not np.allclose(c, a)
    assert net.train() is net and net.training
    assert not np.array_equal(net.forward(X), net.forward(X))  # fresh dropout masks


def test_backward_returns_input_gradient():
    rng = np.random.default_rng(2)
    net = df.Sequential([df.Dense(3, 2, dtype=F64, rng=0)])
    X = rng.standard_normal((4, 3))
    net.forward(X)
    dy = rng.standard_normal((4, 2))
    np.testing.assert_allclose(net.backward(dy), dy @ net[0].W.value, rtol=1e-14)


# ----------------------------------------------------------------- state dicts


def test_state_dict_is_a_copy_and_round_trips():
    rng = np.random.default_rng(3)
    net = _small_net()
    X = rng.standard_normal((5, 3))
    net.forward(X)
    state = net.state_dict()
    assert set(state) == {"0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var", "4.W", "4.b"}
    state["0.W"][...] = 123.0
    assert not np.any(net[0].W.value == 123.0)

    state = net.state_dict()
    net.eval()
    before = net.forward(X)
    other = _small_net(rng=99)
    W_array = other[0].W.value
    rm_array = other[1].running_mean
    other.load_state_dict(state)
    assert other[0].W.value is W_array and other[1].running_mean is rm_array  # copied in place
    np.testing.assert_array_equal(other.eval().forward(X), before)


def test_load_state_dict_mismatches_raise_and_load_nothing():
    net = _small_net()
    good = _small_net(rng=5).state_dict()
    original = net.state_dict()

    def check(state, pattern):
        with pytest.raises(ValueError, match=pattern):
            net.load_state_dict(state)
        for k, v in net.state_dict().items():
            np.testing.assert_array_equal(v, original[k])

    missing = dict(good)
    del missing["4.b"]
    check(missing, r"missing \['4.b'\]")
    check({**good, "9.W": np.zeros(2)}, r"unexpected \['9.W'\]")
    check({**good, "0.W": np.zeros((3, 4))}, r"'0.W'.*\(4, 3\)")
    check({**good, "4.b": good["4.b"].astype(np.float32)}, r"'4.b'.*float64")
    check({**good, "1.running_var": np.ones(5)}, r"'1.running_var'")


def test_state_dict_of_nested_containers():
    net = df.mlp([4, 4, 4, 2], norm="residual", dtype=F64, rng=0)
    names = set(net.state_dict())
    assert {"0.norm.gamma", "0.norm.beta", "0.block.0.W", "0.block.0.b", "1.block.0.W", "2.W", "2.b"} <= names
    other = df.mlp([4, 4, 4, 2], norm="residual", dtype=F64, rng=1)
    other.load_state_dict(net.state_dict())
    X = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_array_equal(other.forward(X), net.forward(X))


def test_summary():
    net = df.mlp([3, 5, 2], dtype=np.float32, rng=0)
    text = net.summary()
    assert "Dense(3→5)" in text and "Dense(5→2)" in text and "ReLU()" in text
    assert "(batch, 5)" in text and "(batch, 2)" in text
    assert "20" in text and "12" in text
    assert text.splitlines()[-1] == "total parameters: 32 (float32)"


# ----------------------------------------------------------------- mlp()


def _kinds(net):
    return [type(layer).__name__ for layer in net.layers]


def test_mlp_structure_and_param_count():
    net = df.mlp([4, 8, 6, 3], activation="tanh", rng=0)
    assert _kinds(net) == ["Dense", "Tanh", "Dense", "Tanh", "Dense"]
    assert sum(p.value.size for p in net.parameters()) == 4 * 8 + 8 + 8 * 6 + 6 + 6 * 3 + 3
    assert net.dtype == np.float32
    assert _kinds(df.mlp([2, 1], rng=0)) == ["Dense"]
    assert _kinds(df.mlp([2, 3, 1], output="sigmoid", rng=0)) == ["Dense", "ReLU", "Dense", "Sigmoid"]


def test_mlp_per_layer_activations():
    net = df.mlp([2, 3, 3, 3, 1], activation=["sigmoid", "gelu_tanh", "leaky_relu"], rng=0)
    assert _kinds(net) == ["Dense", "Sigmoid", "Dense", "GELU", "Dense", "LeakyReLU", "Dense"]
    assert net[3].approximate == "tanh"
    with pytest.raises(ValueError, match="2 activations given for 3 hidden layers"):
        df.mlp([2, 3, 3, 3, 1], activation=["relu", "relu"])


def test_mlp_activation_objects_are_not_shared_between_layers():
    # one Activation instance for every hidden layer: each layer still needs its own cache
    rng = np.random.default_rng(4)
    net = df.mlp([3, 5, 5, 2], activation=df.Tanh(), init="torch", dtype=F64, rng=rng)
    X = rng.standard_normal((4, 3))
    assert df.gradcheck(net, df.SoftmaxCrossEntropy(), X, rng.integers(0, 2, 4)) < 1e-6


@pytest.mark.parametrize(
    "activation, hidden_scheme",
    [
        ("relu", "he_normal"),
        ("leaky_relu", "he_normal"),
        ("elu", "he_normal"),
        ("gelu", "he_normal"),
        ("gelu_tanh", "he_normal"),
        ("sigmoid", "xavier_uniform"),
        ("tanh", "xavier_uniform"),
        ("identity", "xavier_uniform"),
    ],
)
def test_mlp_auto_init_choices(activation, hidden_scheme):
    net = df.mlp([5, 7, 3], activation=activation, init="auto", dtype=F64, rng=42)
    gen = np.random.default_rng(42)
    W1 = initializers.get(hidden_scheme)((7, 5), gen, F64)
    W2 = initializers.xavier_uniform((3, 7), gen, F64)
    np.testing.assert_array_equal(net[0].W.value, W1)
    np.testing.assert_array_equal(net[2].W.value, W2)
    assert not net[0].b.value.any() and not net[2].b.value.any()


def test_mlp_explicit_init_applies_to_every_layer():
    net = df.mlp([5, 7, 3], init="torch", dtype=F64, rng=3)
    gen = np.random.default_rng(3)
    for layer in (net[0], net[2]):
        W, b = initializers.initialize("torch", (layer.out_features, layer.n_in), gen, F64, bias=True)
        np.testing.assert_array_equal(layer.W.value, W)
        np.testing.assert_array_equal(layer.b.value, b)
        assert b.any() and np.all(np.abs(b) <= 1 / np.sqrt(layer.n_in))


def test_mlp_norm_variants():
    batch = df.mlp([3, 4, 4, 2], norm="batch", rng=0)
    assert _kinds(batch) == ["Dense", "BatchNorm", "ReLU", "Dense", "BatchNorm", "ReLU", "Dense"]
    assert batch[0].b is None and batch[3].b is None and batch[6].b is not None
    layer = df.mlp([3, 4, 2], norm="layer", rng=0)
    assert _kinds(layer) == ["Dense", "LayerNorm", "ReLU", "Dense"]
    assert layer[0].b is not None
    res = df.mlp([3, 4, 4, 4, 2], norm="residual", rng=0)
    assert _kinds(res) == ["Dense", "ReLU", "Residual", "Residual", "Dense"]
    assert res[2].pre_norm and isinstance(res[2].norm, df.LayerNorm)
    for none in (None, "none"):
        assert _kinds(df.mlp([3, 4, 2], norm=none, rng=0)) == ["Dense", "ReLU", "Dense"]
    with pytest.raises(ValueError, match="mlp norm"):
        df.mlp([3, 4, 2], norm="group")


def test_mlp_dropout_and_dtype():
    net = df.mlp([3, 4, 4, 2], dropout=0.2, dtype=F64, rng=0)
    assert _kinds(net) == ["Dense", "ReLU", "Dropout", "Dense", "ReLU", "Dropout", "Dense"]
    assert net[2].p == 0.2
    assert all(p.value.dtype == F64 for p in net.parameters())


def test_mlp_seeded():
    a, b = df.mlp([3, 4, 2], rng=1), df.mlp([3, 4, 2], rng=1)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.value, q.value)


@pytest.mark.parametrize("norm", [None, "layer", "residual"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
def test_mlp_gradcheck(norm, activation):
    rng = np.random.default_rng(5)
    net = df.mlp([3, 4, 4, 3], activation=activation, norm=norm, init="torch", dtype=F64, rng=rng)
    X = rng.standard_normal((5, 3))
    assert df.gradcheck(net, df.SoftmaxCrossEntropy(), X, rng.integers(0, 3, 5)) < 1e-6


# ----------------------------------------------------------------- Residual


def _block(n, rng, act="tanh"):
    return df.Sequential([df.Dense(n, n, init="torch", dtype=F64, rng=rng), {"tanh": df.Tanh, "relu": df.ReLU}[act]()])


def test_residual_forward_formula():
    rng = np.random.default_rng(6)
    block = _block(4, rng)
    X = rng.standard_normal((3, 4))
    pre = df.Residual(block, pre_norm=True)
    ln = df.LayerNorm(4, dtype=F64)
    np.testing.assert_allclose(pre.forward(X), X + np.tanh(ln.forward(X) @ block[0].W.value.T + block[0].b.value),
                               rtol=1e-13)
    post = df.Residual(block, pre_norm=False)
    np.testing.assert_allclose(post.forward(X), X + np.tanh(X @ block[0].W.value.T + block[0].b.value), rtol=1e-13)
    assert post.norm is None and post.n_in == 4 and post.dtype == F64


@pytest.mark.parametrize("pre_norm", [True, False])
@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_residual_gradcheck(pre_norm, act):
    rng = np.random.default_rng(7)
    res = df.Residual(_block(4, rng, act), pre_norm=pre_norm)
    if pre_norm:
        res.norm.gamma.value[...] = rng.uniform(0.5, 1.5, 4)
        res.norm.beta.value[...] = rng.standard_normal(4)
    X = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    worst, errors = df.gradcheck(res, df.SoftmaxCrossEntropy(), X, y, return_errors=True)
    assert worst < 1e-6, errors
    expected = {"block.0.W", "block.0.b", "input"} | ({"norm.gamma", "norm.beta"} if pre_norm else set())
    assert set(errors) == expected
    net = df.Sequential([df.Dense(3, 4, init="torch", dtype=F64, rng=rng), res, df.Dense(4, 2, init="torch", dtype=F64, rng=rng)])
    assert df.gradcheck(net, df.MeanSquaredError(), rng.standard_normal((5, 3)), rng.standard_normal((5, 2))) < 1e-6


def test_residual_rules():
    rng = np.random.default_rng(8)
    with pytest.raises(ValueError, match="must keep it"):
        df.Residual(df.Dense(3, 4, dtype=F64))
    with pytest.raises(ValueError, match="pass n="):
        df.Residual(df.Tanh())
    r = df.Residual(df.Tanh(), n=3, dtype=F64)
    X = rng.standard_normal((2, 3))
    np.testing.assert_allclose(r.forward(X), X + np.tanh(r.norm.forward(X)), rtol=1e-14)
    with pytest.raises(ValueError, match="Residual block must be a Layer"):
        df.Residual("tanh")
    with pytest.raises(ValueError, match="backward\\(\\) called before forward\\(\\)"):
        df.Residual(_block(3, rng)).backward(np.ones((2, 3)))
    names = [n for n, _ in df.Residual(_block(3, rng)).named_parameters()]
    assert names == ["norm.gamma", "norm.beta", "block.0.W", "block.0.b"]


# ----------------------------------------------------------------- collapse_linear


def test_collapse_linear_equals_the_stack():
    rng = np.random.default_rng(9)
    net = df.Sequential(
        [
            df.Dense(4, 6, init="torch", dtype=F64, rng=rng),
            df.Identity(),
            df.Dense(6, 5, init="torch", bias=False, dtype=F64, rng=rng),
            df.Dense(5, 3, init="torch", dtype=F64, rng=rng),
        ]
    )
    one = df.collapse_linear(net)
    assert isinstance(one, df.Dense) and one.W.value.shape == (3, 4) and one.W.value.dtype == F64
    X = rng.standard_normal((7, 4))
    np.testing.assert_allclose(one.forward(X), net.forward(X), rtol=1e-12, atol=1e-14)
    W1, b1, W2, W3, b3 = net[0].W.value, net[0].b.value, net[2].W.value, net[3].W.value, net[3].b.value
    np.testing.assert_allclose(one.W.value, W3 @ W2 @ W1, rtol=1e-13)
    np.testing.assert_allclose(one.b.value, W3 @ (W2 @ b1) + b3, rtol=1e-13)


def test_collapse_linear_single_layer_and_errors():
    d = df.Dense(3, 2, init="torch", rng=0)
    one = df.collapse_linear(d)
    np.testing.assert_array_equal(one.W.value, d.W.value)
    np.testing.assert_array_equal(one.b.value, d.b.value)
    assert one.W.value.dtype == np.float32
    with pytest.raises(ValueError, match=r"layer 1 \(Tanh\(\)\) is not linear"):
        df.collapse_linear(df.Sequential([df.Dense(3, 3, rng=0), df.Tanh()]))
    with pytest.raises(ValueError, match="no Dense layer"):
        df.collapse_linear(df.Sequential([df.Identity()]))


# ----------------------------------------------------------------- construction errors


def test_sequential_construction_errors():
    with pytest.raises(ValueError, match="at least one layer"):
        df.Sequential([])
    with pytest.raises(ValueError, match="item 1 is str"):
        df.Sequential([df.Dense(2, 2), "relu"])
    with pytest.raises(ValueError, match="mix dtypes"):
        df.Sequential([df.Dense(2, 2, dtype=np.float32), df.Dense(2, 2, dtype=F64)])
    with pytest.raises(ValueError, match="mix dtypes"):
        df.Sequential([df.Dense(2, 2, dtype=np.float32), df.Sequential([df.Dense(2, 2, dtype=F64)])])


def test_sequential_nests_a_container_without_a_dtype():
    # an inner Sequential of activations only has no dtype of its own; that is no mix
    net = df.Sequential([df.Dense(2, 3, dtype=F64, rng=0), df.Sequential([df.Tanh()]), df.Dense(3, 1, dtype=F64, rng=0)])
    assert net.dtype == F64
    X = np.random.default_rng(0).standard_normal((4, 2))
    assert df.gradcheck(net, df.MeanSquaredError(), X, np.zeros((4, 1))) < 1e-6


def test_mlp_size_errors():
    with pytest.raises(ValueError, match="mlp size 1 must be a positive integer"):
        df.mlp([2, 0, 1])
    with pytest.raises(ValueError, match="at least an input and an output"):
        df.mlp([3])
