"""The engine's fast paths compute the numbers of the straightforward formulas.

The fast paths: ``Dense`` writing ∂L/∂W straight into ``W.grad`` and skipping ∂L/∂X when
asked (``input_grad=False``); the compiled loops of ``fused`` (Adam, the bias and its
gradient, ReLU, the probes' ReLU counts) against NumPy's operations, and ``ReLU.backward``'s
NumPy path as a product with the mask instead of ``np.where``; optimisers updating a large
param block by block, on several threads, and small params together as one flat array.

The contract on memory: arrays a layer or network returns from ``forward`` or
``backward`` belong to the caller (a later call never overwrites them); ``p.value`` and
``p.grad`` are updated in place (their identity never changes); the optimiser's own
arrays (state, scratch) are never handed out.
"""

import numpy as np
import pytest

import deltaflow as df
from deltaflow.optim import _layout
from deltaflow.diagnostics.probes import GradientProbe

F32, F64 = np.float32, np.float64


def _adam_reference(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as the paper writes it (Kingma & Ba, Algorithm 1), with PyTorch's placement of ε."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@pytest.mark.parametrize("n_in, n_out", [(5, 3), (300, 200)])  # the second is updated in blocks, threaded
def test_dense_adam_steps_match_plain_numpy(n_in, n_out):
    rng = np.random.default_rng(0)
    layer = df.Dense(n_in, n_out, dtype=F64, rng=1)
    opt = df.Adam(layer.parameters(), lr=1e-3)
    W, b = layer.W.value.copy(), layer.b.value.copy()
    mW, vW, mb, vb = np.zeros_like(W), np.zeros_like(W), np.zeros_like(b), np.zeros_like(b)
    for t in range(1, 4):
        X = rng.standard_normal((7, n_in))
        delta = rng.standard_normal((7, n_out))
        z = layer.forward(X)
        np.testing.assert_allclose(z, X @ W.T + b, rtol=1e-12, atol=1e-14)
        dX = layer.backward(delta)
        dW = sum(np.outer(delta[i], X[i]) for i in range(7))
        np.testing.assert_allclose(layer.W.grad, dW, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(layer.b.grad, delta.sum(axis=0), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(dX, delta @ W, rtol=1e-12, atol=1e-13)
        opt.step()
        W, mW, vW = _adam_reference(W, dW, mW, vW, t)
        b, mb, vb = _adam_reference(b, delta.sum(axis=0), mb, vb, t)
        np.testing.assert_allclose(layer.W.value, W, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.b.value, b, rtol=1e-12, atol=1e-15)


def test_dense_skips_only_the_input_gradient():
    rng = np.random.default_rng(1)
    a, b = df.Dense(6, 4, dtype=F64, rng=2), df.Dense(6, 4, dtype=F64, rng=2)
    X, delta = rng.standard_normal((5, 6)), rng.standard_normal((5, 4))
    a.forward(X)
    b.forward(X)
    assert a.backward(delta, input_grad=False) is None
    b.backward(delta)
    np.testing.assert_array_equal(a.W.grad, b.W.grad)
    np.testing.assert_array_equal(a.b.grad, b.b.grad)


def test_network_backward_without_input_gradient_fills_the_same_grads():
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((9, 4)), rng.integers(0, 3, 9)
    nets = [df.mlp([4, 8, 8, 3], dtype=F64, rng=3) for _ in range(2)]
    loss = df.SoftmaxCrossEntropy()
    loss.forward(nets[0].forward(X), y)
    assert nets[0].backward(loss.backward(), input_grad=False) is None
    loss.forward(nets[1].forward(X), y)
    assert nets[1].backward(loss.backward()).shape == X.shape
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        np.testing.assert_array_equal(p.grad, q.grad)


def test_probe_still_sees_every_delta_without_the_input_gradient():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((8, 3)).astype(F32), rng.integers(0, 2, 8)
    net = df.mlp([3, 5, 2], rng=4)
    loss = df.SoftmaxCrossEntropy()
    with GradientProbe(net, every=1) as probe:
        loss.forward(net.forward(X), y)
        net.backward(loss.backward(), input_grad=False)
        record = probe.record()
    assert np.all(np.isfinite(record["delta_norm"])) and np.all(record["delta_norm"] > 0)


def test_relu_backward_is_the_masked_gradient():
    rng = np.random.default_rng(4)
    for dtype in (F32, F64):
        relu = df.ReLU()
        z = rng.standard_normal((50, 20)).astype(dtype)
        z[0, :5] = 0.0  # ReLU'(0) = 0, as PyTorch
        a = relu.forward(z)
        dy = rng.standard_normal(z.shape).astype(dtype)
        dz = relu.backward(dy)
        assert dz.dtype == dtype
        np.testing.assert_array_equal(dz, np.where(z > 0, dy, 0.0))
        assert a is relu._a


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_relu_backward_gives_zero_where_inactive_even_for_a_non_finite_gradient(bad):
    relu = df.ReLU()
    relu.forward(np.array([[-1.0, 2.0], [3.0, -4.0]]))
    dz = relu.backward(np.array([[bad, 1.0], [bad, 5.0]]))
    expected = np.array([[0.0, 1.0], [bad, 0.0]])
    np.testing.assert_array_equal(dz, expected)


@pytest.fixture(params=[True, False], ids=["compiled", "numpy"])
def compiled(request, monkeypatch):
    """Run a test with the compiled loops (``fused``), then with NumPy's operations alone."""
    from deltaflow import _kernels as fused

    monkeypatch.setattr(fused, "ENABLED", request.param)
    assert (fused._loop("relu") is not None) == request.param  # Numba is a dependency
    return request.param


def _specials(rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[:5] = [np.nan, np.inf, -np.inf, -0.0, 0.0]
    return x


@pytest.mark.parametrize("dtype", [F32, F64])
def test_relu_forward_is_max_with_zero_bit_for_bit(compiled, dtype):
    rng = np.random.default_rng(7)
    for shape in [(64, 40), (3, 700), (5, 4)]:  # above and below the size where the loop is used
        z = _specials(rng, shape, dtype)
        for x in (z, z.T, z[::2]):  # C order, and orders that only NumPy takes
            a = df.ReLU().forward(x)
            expected = np.maximum(x, 0.0)
            assert a.dtype == dtype and a.shape == x.shape
            np.testing.assert_array_equal(a, expected)
            np.testing.assert_array_equal(np.signbit(a), np.signbit(expected))  # −0 → +0, NaN keeps its sign


@pytest.mark.parametrize("dtype", [F32, F64])
def test_relu_backward_is_dy_where_active_for_any_dy(compiled, dtype):
    rng = np.random.default_rng(8)
    for shape in [(64, 40), (5, 4)]:
        relu = df.ReLU()
        z = _specials(rng, shape, dtype)
        a = relu.forward(z)
        for dy in (_specials(rng, shape, dtype), np.asfortranarray(_specials(rng, shape, dtype))):
            dz = relu.backward(dy)
            assert dz.dtype == dtype
            np.testing.assert_array_equal(dz, np.where(a > 0, dy, 0.0))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_dense_bias_and_its_gradient_are_numpys_sums_bit_for_bit(compiled, dtype):
    rng = np.random.default_rng(9)
    for batch in (1, 3, 1000):  # rows added in order: 1000 would differ from a pairwise sum
        layer = df.Dense(30, 20, dtype=dtype, rng=1)
        layer.b.value[...] = rng.standard_normal(20)
        x = rng.standard_normal((batch, 30)).astype(dtype)
        z = layer.forward(x)
        np.testing.assert_array_equal(z, np.matmul(x, layer.W.value.T) + layer.b.value)
        dy = _specials(rng, (batch, 20), dtype) * dtype(1e3)
        dy[:, 7] = -0.0  # a column of −0 sums to +0: NumPy's reduction starts from +0
        layer.backward(dy)
        expected = np.add.reduce(dy, axis=0)
        np.testing.assert_array_equal(layer.b.grad, expected)
        np.testing.assert_array_equal(np.signbit(layer.b.grad), np.signbit(expected))
    layer.forward(np.zeros((0, 30), dtype))
    empty = layer.backward(np.zeros((0, 20), dtype))
    assert empty.shape == (0, 30) and not layer.b.grad.any()


@pytest.mark.parametrize("dtype", [F32, F64])
def test_training_and_probe_records_are_the_same_with_the_compiled_loops_or_without(monkeypatch, dtype):
    from deltaflow import _kernels as fused

    rng = np.random.default_rng(10)
    X, y = rng.standard_normal((64, 12)).astype(dtype), rng.integers(0, 3, 64)

    def run(enabled):
        monkeypatch.setattr(fused, "ENABLED", enabled)
        net = df.mlp([12, 40, 30, 3], activation="relu", dtype=dtype, rng=2)
        net.layers[0].b.value[:20] = -50.0  # dead units: no example activates them
        loss, opt = df.SoftmaxCrossEntropy(), df.Adam(net.parameters(), lr=0.01)
        with GradientProbe(net, every=2) as probe:
            for _ in range(5):
                loss.forward(net.forward(X), y)
                net.backward(loss.backward())
                opt.step()
                probe.record()
        return net, probe.as_arrays()

    (fast_net, fast), (slow_net, slow) = run(True), run(False)
    assert fast["dead_pct"][-1][0] >= 50.0 and np.all(fast["grad_hist"].sum(axis=2) > 0)
    for k in slow:
        np.testing.assert_array_equal(fast[k], slow[k], err_msg=k)
    for f, s in zip(fast_net.parameters(), slow_net.parameters()):
        np.testing.assert_array_equal(f.value, s.value)


def test_relu_backward_of_a_huge_finite_gradient_is_the_masked_gradient():
    relu = df.ReLU()
    relu.forward(np.array([[-1.0, 2.0], [3.0, -4.0]], dtype=F32))
    dy = np.array([[3e38, -3e38], [1e30, 2.0]], dtype=F32)  # dy·dy overflows float32
    np.testing.assert_array_equal(relu.backward(dy), np.array([[0.0, -3e38], [1e30, 0.0]], dtype=F32))


_ALL_OPTIMIZERS = [
    (df.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (df.SGD, {"lr": 0.1, "momentum": 0.5, "dampening": 0.1}),
    (df.Adagrad, {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01}),
    (df.RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    (df.Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    (df.AdamW, {"lr": 0.01}),
]


def _optimizer(which, params, pack=False):
    cls, kwargs = _ALL_OPTIMIZERS[which]
    return cls(params, pack=pack, **kwargs)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("which", range(6))
def test_blocked_threaded_and_grouped_updates_equal_one_param_at_a_time(monkeypatch, dtype, which):
    rng = np.random.default_rng(5)
    # 300 × 500 float32 is 600 KB: 5 blocks (float64: 10, threaded too); the others are small
    shapes = [(300, 500), (7,), (3, 4), (2, 5)]
    values = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    grads = [[rng.standard_normal(v.shape).astype(dtype) for v in values] for _ in range(3)]

    def run(block_bytes, threaded_blocks, small_bytes=64 * 1024, cores=3):
        monkeypatch.setattr(_layout, "_cores", lambda: cores)  # three shares, whatever the machine
        monkeypatch.setattr(_layout, "_BLOCK_BYTES", block_bytes)
        monkeypatch.setattr(_layout, "_THREADED_BLOCKS", threaded_blocks)
        monkeypatch.setattr(_layout, "_SMALL_BYTES", small_bytes)
        params = [df.Param(v.copy(), "W") for v in values]
        opt = _optimizer(which, params)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad[...] = g
            opt.step()
        return params, opt

    whole, one_by_one = run(1 << 40, 1 << 40, small_bytes=0)
    blocked, _ = run(128 * 1024, 1 << 40)
    pinned, _ = run(64 * 1024, 2, cores=1)  # a process on one core: every block on this thread
    threaded, opt = run(64 * 1024, 2)
    assert len(opt._groups) == 1 and len(opt._groups[0].params) == 3
    for w, b, p, t in zip(whole, blocked, pinned, threaded):
        np.testing.assert_array_equal(b.value, w.value)
        np.testing.assert_array_equal(p.value, w.value)
        np.testing.assert_array_equal(t.value, w.value)
        assert t.value.dtype == dtype
    for state, reference in zip(opt.state, one_by_one.state):
        for k, a in state.items():
            assert a.dtype == dtype and a.shape == reference[k].shape
            np.testing.assert_array_equal(a, reference[k])


def test_update_threads_follow_the_cores_the_process_may_use(monkeypatch):
    calls = []
    real = _layout._workers
    monkeypatch.setattr(_layout, "_workers", lambda cores: calls.append(cores) or real(cores))
    monkeypatch.setattr(_layout, "_THREADED_BLOCKS", 2)
    p = df.Param(np.ones(200_000, F32), "W")  # 800 KB: 7 blocks
    p.grad[...] = 1.0
    opt = df.SGD([p], lr=0.5)
    monkeypatch.setattr(_layout, "_cores", lambda: 1)
    opt.step()
    assert calls == []  # one core: no worker thread is asked
    monkeypatch.setattr(_layout, "_cores", lambda: 2)
    opt.step()
    assert calls == [2] and real(2) is real(2)  # the pool is made once per core count
    np.testing.assert_array_equal(p.value, 0.0)


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (df.Adam, {"lr": 0.01}),
        (df.Adam, {"lr": 0.01, "weight_decay": 0.1, "betas": (0.3, 0.99)}),  # L2; β₁ < 0.5: lerp from g
        (df.AdamW, {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-3}),
        (df.Adam, {"lr": 0.01, "amsgrad": True}),  # not fused: NumPy's path on both sides
    ],
)
def test_fused_adam_equals_the_numpy_operations_bit_for_bit(monkeypatch, dtype, cls, kwargs):
    from deltaflow import _kernels as fused

    assert fused._loop("adam") is not None  # Numba is a dependency: the fused path is the one in use
    rng = np.random.default_rng(21)
    shapes = [(300, 500), (40,), (6, 7)]  # one large param, a group of two small ones
    values = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    grads = [[rng.standard_normal(v.shape).astype(dtype) * 10.0**-k for v in values] for k in range(4)]
    grads[-1][0][0, :3] = [np.nan, np.inf, 0.0]  # non-finite gradients go through the same arithmetic

    def run(enabled):
        monkeypatch.setattr(fused, "ENABLED", enabled)
        params = [df.Param(v.copy(), "W") for v in values]
        opt = cls(params, **kwargs)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad[...] = g
            opt.step()
        return params, opt

    with np.errstate(invalid="ignore"):
        fast, fast_opt = run(True)
        slow, slow_opt = run(False)
    for f, s in zip(fast, slow):
        assert f.value.dtype == dtype
        np.testing.assert_array_equal(f.value, s.value)
    for fs, ss in zip(fast_opt.state, slow_opt.state):
        for k in ss:
            np.testing.assert_array_equal(fs[k], ss[k])


def test_compiled_loops_work_where_no_cache_folder_is_writable(monkeypatch):
    from numba.core import caching

    from deltaflow import _kernels as fused

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])  # as a read-only install finds none
    monkeypatch.setattr(fused, "_compiled", {})
    z, b = np.ones((2, 3), F32), np.arange(3, dtype=F32)
    fused.add_bias(z, b)
    assert fused._compiled["add_bias"] is not None  # compiled, without a cache
    np.testing.assert_array_equal(z, [[1, 2, 3], [1, 2, 3]])


def test_grouped_state_survives_a_state_dict_round_trip():
    rng = np.random.default_rng(12)
    net = df.mlp([3, 4, 2], dtype=F64, rng=13)  # four small params: one group
    params = net.parameters()
    opt = df.Adam(params, lr=0.1)
    for p in params:
        p.grad[...] = rng.standard_normal(p.value.shape)
    opt.step()
    saved = opt.state_dict()
    values = [p.value.copy() for p in params]
    opt.step()
    after = [p.value.copy() for p in params]
    for p, v in zip(params, values):
        p.value[...] = v
    opt.load_state_dict(saved)
    opt.step()
    for p, a in zip(params, after):
        np.testing.assert_array_equal(p.value, a)


def test_update_of_a_non_contiguous_param_lands_in_place(monkeypatch):
    monkeypatch.setattr(_layout, "_BLOCK_BYTES", 64)
    base = np.ones((40, 60))
    p = df.Param(base[:, ::2], "W")  # a strided view: updated as a whole, in place
    p.grad = np.full(p.value.shape, 0.5)
    df.SGD([p], lr=0.1).step()
    np.testing.assert_array_equal(base[:, ::2], 0.95)
    np.testing.assert_array_equal(base[:, 1::2], 1.0)


def test_buffers_follow_the_batch_size():
    rng = np.random.default_rng(6)
    net = df.mlp([4, 6, 3], dtype=F64, rng=7)
    loss = df.SoftmaxCrossEntropy()
    for batch in (5, 2, 5, 1):
        X, y = rng.standard_normal((batch, 4)), rng.integers(0, 3, batch)
        dense0, dense1 = net.layers[0], net.layers[2]
        out = net.forward(X)
        z0 = X @ dense0.W.value.T + dense0.b.value
        h = np.maximum(z0, 0)
        np.testing.assert_allclose(out, h @ dense1.W.value.T + dense1.b.value, rtol=1e-12)
        loss.forward(out, y)
        g = loss.backward()
        dX = net.backward(g)
        dh = (g @ dense1.W.value) * (z0 > 0)
        np.testing.assert_allclose(dense1.W.grad, g.T @ h, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dense0.W.grad, dh.T @ X, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(dX, dh @ dense0.W.value, rtol=1e-12, atol=1e-15)


def test_returned_arrays_are_never_overwritten_by_a_later_step():
    rng = np.random.default_rng(8)
    net = df.mlp([3, 5, 5, 2], rng=9)
    loss = df.SoftmaxCrossEntropy()
    opt = df.Adam(net.parameters(), lr=0.1)
    X1, X2 = rng.standard_normal((4, 3)).astype(F32), rng.standard_normal((4, 3)).astype(F32)
    y = np.array([0, 1, 1, 0])
    out1 = net.forward(X1)
    loss.forward(out1, y)
    g1 = loss.backward()
    dX1 = net.backward(g1)
    kept = [a.copy() for a in (out1, g1, dX1)]
    values = [p.value for p in net.parameters()]
    grads = [p.grad for p in net.parameters()]
    opt.step()
    for _ in range(2):
        loss.forward(net.forward(X2), y)
        net.backward(loss.backward())
        opt.step()
    for a, b in zip((out1, g1, dX1), kept):
        np.testing.assert_array_equal(a, b)
    assert all(p.value is v for p, v in zip(net.parameters(), values))  # updated in place
    assert all(p.grad is g for p, g in zip(net.parameters(), grads))  # filled in place


def test_float32_training_stays_float32():
    rng = np.random.default_rng(10)
    net = df.mlp([4, 300, 3], rng=11)  # 1200 × 300 weights: blocked updates
    loss = df.SoftmaxCrossEntropy()
    opt = df.Adam(net.parameters(), lr=1e-3)
    X, y = rng.standard_normal((16, 4)).astype(F32), rng.integers(0, 3, 16)
    for _ in range(2):
        out = net.forward(X)
        loss.forward(out, y)
        g = loss.backward()
        dX = net.backward(g)
        opt.step()
    assert out.dtype == g.dtype == dX.dtype == F32
    for p in net.parameters():
        assert p.value.dtype == p.grad.dtype == F32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [0, 1, 2])
def test_params_finite_sees_every_param_after_a_step(dtype, bad):
    """The flat-group check finds a non-finite value in any param, grouped (small) or single."""
    rng = np.random.default_rng(0)
    params = [df.Param(rng.standard_normal(s).astype(dtype), "p") for s in [(4, 3), (4,), (300, 300)]]
    opt = df.Adam(params, lr=0.1)
    assert opt.params_finite()
    for p in params:
        p.grad[...] = 1.0
    opt.step()
    assert opt.params_finite()
    params[bad].grad.reshape(-1)[-1] = np.inf  # Adam's update of that entry becomes NaN
    with np.errstate(invalid="ignore"):
        opt.step()
    assert not opt.params_finite()
    assert np.isnan(params[bad].value.reshape(-1)[-1])


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("which", range(6))
def test_packed_params_are_updated_in_place_with_the_same_numbers(dtype, which):
    """``pack=True`` lays the small params out back to back; the optimiser then updates
    that storage itself (nothing gathered or scattered), with the numbers of the unpacked
    update, and an L2 penalty never writes into p.grad."""
    rng = np.random.default_rng(8)
    shapes = [(300, 500), (7,), (3, 4), (2, 5)]  # the first is too large to be grouped
    values = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    grads = [[rng.standard_normal(v.shape).astype(dtype) for v in values] for _ in range(3)]

    def run(pack: bool):
        params = [df.Param(v.copy(), "W") for v in values]
        before = [(p.value, p.grad) for p in params]
        opt = _optimizer(which, params, pack=pack)
        for gs in grads:
            for p, g in zip(params, gs):
                p.grad[...] = g
            opt.step()
            for p, g in zip(params, gs):
                np.testing.assert_array_equal(p.grad, g)
        return params, opt, before

    plain, plain_opt, plain_before = run(False)
    params, opt, before = run(True)
    assert not plain_opt._groups[0].packed
    assert all(p.value is v and p.grad is g for p, (v, g) in zip(plain, plain_before))  # nothing replaced
    (group,) = opt._groups
    assert group.packed and group.theta.size == group.g.size == 7 + 12 + 10
    assert all(p.value.base is group.theta and p.grad.base is group.g for p in params[1:])
    assert params[0].value.base is None and params[0].value is before[0][0]  # the large param keeps its own array
    assert opt.grads()[0] is group.g and opt.grads()[1] is params[0].grad
    for a, b in zip(plain, params):
        assert b.value.dtype == dtype
        np.testing.assert_array_equal(b.value, a.value)


def test_an_optimiser_on_packed_params_in_another_order_gathers_them():
    params = [df.Param(np.full(s, float(i)), "W") for i, s in enumerate([(3,), (2, 2), (5,)])]
    first = df.SGD(params, lr=0.5, pack=True)
    assert first._groups[0].packed
    laid_out = [p.value for p in params]
    opt = df.SGD(params[::-1], lr=0.5, pack=True)  # not the packed order: the group works on copies
    assert not opt._groups[0].packed
    assert all(p.value is v for p, v in zip(params, laid_out))  # pack never moves params laid out already
    for p in params:
        p.grad[...] = 1.0
    opt.step()
    for i, p in enumerate(params):
        np.testing.assert_array_equal(p.value, i - 0.5)


def test_packing_refuses_a_parameter_listed_twice():
    p = df.Param(np.zeros(3), "W")
    with pytest.raises(ValueError, match="more than once"):
        df.SGD([p, p], lr=0.1, pack=True)


def test_trainer_gradient_norm_is_the_norm_of_every_gradient():
    from deltaflow.optim.clip import grad_norm
    from deltaflow.training.config import RunConfig
    from deltaflow.training.trainer import Trainer

    t = Trainer(RunConfig.from_dict({"data": {"name": "circle", "n_samples": 50}, "dtype": "float64",
                                     "model": {"hidden": [300, 4]}}))  # 2→300 and 300→4 packed, 4→2 too
    X, y = t.dataset.X_train[:16], t._y_train[:16]
    _, norm = t.train_step(X, y)
    assert norm == pytest.approx(grad_norm(t.params), rel=1e-13)
    assert any(p.value.base is not None for p in t.params)
