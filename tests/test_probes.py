"""Gradient-flow probes: every statistic against a direct computation (fixed seeds)."""

from types import SimpleNamespace

import numpy as np
import pytest

from deltaflow.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from deltaflow.nn.layers import Dense
from deltaflow.nn.losses import SoftmaxCrossEntropy
from deltaflow.nn.network import Sequential, mlp
from deltaflow.optim.optimizers import SGD
from deltaflow.diagnostics.maps import grid_forward, neuron_maps, sensitivity_maps
from deltaflow.diagnostics.probes import DEAD, SATURATED, SATURATION, GradientProbe, first_nonfinite
from deltaflow.diagnostics.units import unit_layers


def data(n=32, n_in=4, n_classes=3, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)).astype(dtype), rng.integers(0, n_classes, n)


def forward_backward(net, X, y, loss=None):
    loss = loss or SoftmaxCrossEntropy()
    value = loss.forward(net.forward(X), y)
    net.backward(loss.backward())
    return value


def manual_deltas(net, X, y):
    """δ^(l) = ∂L/∂Z^(l) of a Dense/activation stack, by the recursion written out in the test."""
    denses = [layer for layer in net.layers if isinstance(layer, Dense)]
    acts = {i: net.layers[i + 1] for i, layer in enumerate(net.layers[:-1]) if not isinstance(net.layers[i + 1], Dense)}
    a, zs = X, []
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            z = a @ layer.W.value.T + layer.b.value
            zs.append(z)
            a = acts[i](z) if i in acts else z
    B = X.shape[0]
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(B), y] -= 1.0
    deltas = [p / B]
    act_list = [net.layers[i + 1] for i, layer in enumerate(net.layers[:-1]) if isinstance(layer, Dense)]
    for l in range(len(denses) - 2, -1, -1):
        deltas.insert(0, (deltas[0] @ denses[l + 1].W.value) * act_list[l].derivative(zs[l]))
    return deltas


def test_norms_match_the_gradients_and_a_manual_backward():
    net = mlp([4, 16, 12, 3], activation="tanh", dtype=np.float64, rng=1)
    X, y = data()
    probe = GradientProbe(net, every=1)
    forward_backward(net, X, y)
    rec = probe.record(0)
    denses = [layer for layer in net.layers if isinstance(layer, Dense)]
    assert probe.names == ["0: Dense(4→16) tanh", "1: Dense(16→12) tanh", "2: Dense(12→3)"]
    np.testing.assert_array_equal(rec["grad_W_norm"], [np.linalg.norm(d.W.grad) for d in denses])
    np.testing.assert_array_equal(rec["grad_b_norm"], [np.linalg.norm(d.b.grad) for d in denses])
    np.testing.assert_array_equal(rec["W_norm"], [np.linalg.norm(d.W.value) for d in denses])
    deltas = manual_deltas(net, X, y)
    np.testing.assert_allclose(rec["delta_norm"], [np.linalg.norm(d) for d in deltas], rtol=1e-12)
    assert rec["attenuation"][-1] == 0.0
    expected = np.log10(np.array([np.linalg.norm(d) for d in deltas]) / np.linalg.norm(deltas[-1]))
    np.testing.assert_allclose(rec["attenuation"], expected, rtol=1e-10, atol=1e-12)
    # σ' means and their product from the output back; the output unit is linear (σ' ≡ 1)
    means = [float(net.layers[i].derivative(net.layers[i]._z).mean()) for i in (1, 3)] + [1.0]
    np.testing.assert_allclose(rec["sigma_prime_mean"], means, rtol=1e-12)
    np.testing.assert_allclose(rec["sigma_prime_product"], [means[0] * means[1], means[1], 1.0], rtol=1e-12)
    # dW = δᵀ a: the probe's δ is the array the Dense layer used
    np.testing.assert_allclose(deltas[0].T @ X, denses[0].W.grad, rtol=1e-12)


def test_latest_and_as_arrays_are_columnar():
    net = mlp([4, 8, 3], activation="relu", dtype=np.float64, rng=0)
    X, y = data()
    probe = GradientProbe(net, every=2)
    assert probe.latest() is None
    opt = SGD(net.parameters(), lr=0.1)
    for t in range(5):
        forward_backward(net, X, y)
        opt.step()
        probe.record(t)
    arrays = probe.as_arrays()
    assert probe.steps == [0, 2, 4]
    assert arrays["grad_W_norm"].shape == (3, 2)
    assert arrays["grad_hist"].shape == (3, 2, 28 + 3)
    assert arrays["bin_edges"].shape == (29,)
    latest = probe.latest()
    assert latest["step"] == 4 and latest["first_nonfinite"] is None
    np.testing.assert_array_equal(latest["delta_norm"], arrays["delta_norm"][-1])


@pytest.mark.parametrize("n, k", [(23, 5), (20, 5), (1, 10), (7, 1)])
def test_every_k_records_ceil_n_over_k(n, k):
    net = mlp([4, 5, 3], rng=0)
    X, y = data(dtype=np.float32)
    probe = GradientProbe(net, every=k)
    forward_backward(net, X, y)
    for t in range(n):
        probe.record(t + 1)
    assert len(probe.steps) == -(-n // k)
    assert probe.steps == list(range(1, n + 1, k))
    assert all(len(v) == len(probe.steps) for v in probe.history.values())


def test_update_ratio_is_one_optimiser_step():
    net = mlp([4, 8, 8, 3], activation="sigmoid", dtype=np.float64, rng=2)
    X, y = data()
    lr = 0.5
    opt = SGD(net.parameters(), lr=lr)
    probe = GradientProbe(net, every=3)
    denses = [layer for layer in net.layers if isinstance(layer, Dense)]
    for t in range(7):
        before = [d.W.value.copy() for d in denses]
        forward_backward(net, X, y)
        opt.step()
        rec = probe.record(t)
        if rec is not None:
            expected = [lr * np.linalg.norm(d.W.grad) / np.linalg.norm(w) for d, w in zip(denses, before)]
            np.testing.assert_allclose(rec["update_ratio"], expected, rtol=1e-9)
    assert len(probe.steps) == 3


def test_vanishing_sigmoid_and_healthy_relu_at_depth_20():
    X, y = data(n=64, n_in=8)
    sizes = [8] + [32] * 19 + [3]
    sig = mlp(sizes, activation="sigmoid", init="normal", dtype=np.float64, rng=0)
    probe = GradientProbe(sig)
    forward_backward(sig, X, y)
    rec = probe.record(0)
    assert rec["attenuation"][0] < -4 < rec["attenuation"][-2]
    assert np.all(np.diff(rec["attenuation"]) > 0)  # the signal shrinks at every layer down
    # the seed's bound: each sigmoid layer contributes a factor σ' ≤ 1/4
    n_sig = np.arange(19, -1, -1)  # sigmoid units from layer l to the output
    assert np.all(rec["sigma_prime_product"] <= 0.25**n_sig * (1 + 1e-12))
    assert rec["sigma_prime_product"][0] > 0.2**19  # naive init keeps z ≈ 0, σ' ≈ 1/4

    relu = mlp(sizes, activation="relu", init="he_normal", dtype=np.float64, rng=0)
    probe = GradientProbe(relu)
    forward_backward(relu, X, y)
    assert np.all(np.abs(probe.record(0)["attenuation"]) < 2)


def test_batchnorm_and_residual_units():
    X, y = data(n=64, n_in=8)
    bn = mlp([8] + [32] * 19 + [3], activation="sigmoid", norm="batch", init="normal", dtype=np.float64, rng=0)
    units = unit_layers(bn)
    assert len(units) == 20 and all(len(u.norms) == 1 for u in units[:-1]) and units[-1].act is None
    probe = GradientProbe(bn)
    forward_backward(bn, X, y)
    rec = probe.record(0)
    assert np.isnan(rec["grad_b_norm"][:-1]).all()  # Dense before BatchNorm has no bias
    assert rec["attenuation"][0] > -3

    res = mlp([8] + [32] * 6 + [3], activation="tanh", norm="residual", dtype=np.float64, rng=0)
    units = unit_layers(res)
    assert len(units) == 7 and all(u.act is not None for u in units[:-1])
    probe = GradientProbe(res)
    forward_backward(res, X, y)
    rec = probe.record(0)
    assert np.isfinite(rec["delta_norm"]).all() and rec["nonfinite"].sum() == 0


def test_dead_relu_units():
    X, y = data(n=32, n_in=4)
    net = Sequential([Dense(4, 16, dtype=np.float64, rng=0), ReLU(), Dense(16, 8, dtype=np.float64, rng=1),
                      ReLU(), Dense(8, 3, dtype=np.float64, rng=2)])
    net.layers[0].b.value[:] = -100.0
    probe = GradientProbe(net)
    forward_backward(net, X, y)
    rec = probe.record(0)
    assert rec["dead_pct"][0] == 100.0
    assert rec["sigma_prime_mean"][0] == 0.0
    assert np.isnan(rec["dead_pct"][2]) and np.isnan(rec["saturated_pct"]).all()
    # the layer above sees only zeros: z = b, dead exactly where b ≤ 0
    z = net.layers[2].b.value
    assert rec["dead_pct"][1] == 100.0 * np.mean(z <= 0)


def test_saturated_tanh_and_sigmoid_units_counted_by_hand():
    X, y = data(n=64, n_in=4)
    net = Sequential([Dense(4, 32, dtype=np.float64, rng=0), Tanh(), Dense(32, 16, dtype=np.float64, rng=1),
                      Sigmoid(), Dense(16, 3, dtype=np.float64, rng=2)])
    net.layers[0].W.value *= 1e4
    net.layers[2].b.value[:8] = 50.0  # half the sigmoid units pinned near σ = 1
    probe = GradientProbe(net)
    forward_backward(net, X, y)
    rec = probe.record(0)
    assert rec["saturated_pct"][0] >= 95.0
    for i, limit in ((1, 0.01), (3, 0.0025)):
        d = net.layers[i].derivative(net.layers[i]._z)
        by_hand = 100.0 * np.mean(np.all(d < limit, axis=0))
        assert rec["saturated_pct"][i // 2] == by_hand
    assert rec["saturated_pct"][1] == 50.0


@pytest.mark.parametrize("kernels", [True, False])
def test_unit_marks_are_the_units_the_percentages_count(kernels, monkeypatch):
    """unit_marks[l][j]: DEAD where z_ij ≤ 0 for every example i (ReLU, LeakyReLU), SATURATED
    where σ'(z_ij) < SATURATION · max σ' for every i (tanh, sigmoid); their shares are the
    layer's dead_pct and saturated_pct. Both the compiled ReLU count and NumPy's."""
    from deltaflow import _kernels
    monkeypatch.setattr(_kernels, "ENABLED", kernels)
    X, y = data(n=64, n_in=4)
    net = Sequential([Dense(4, 16, dtype=np.float64, rng=0), ReLU(), Dense(16, 8, dtype=np.float64, rng=1),
                      LeakyReLU(), Dense(8, 12, dtype=np.float64, rng=2), Tanh(),
                      Dense(12, 10, dtype=np.float64, rng=3), Sigmoid(), Dense(10, 3, dtype=np.float64, rng=4)])
    probe = GradientProbe(net, every=1)
    assert [m.tolist() for m in probe.unit_marks] == [[0] * n for n in (16, 8, 12, 10, 3)]
    net.layers[0].b.value[::3] = -100.0  # units 0, 3, 6, … never fire
    net.layers[2].b.value[:3] = -100.0
    net.layers[4].W.value *= 1e3
    net.layers[6].b.value[5:] = 60.0  # σ pinned near 1
    def check(rec):
        marks = probe.unit_marks
        assert all(m.dtype == np.uint8 for m in marks)
        for i, layer in ((0, 1), (1, 3)):
            by_hand = np.where(np.all(net.layers[layer]._z <= 0, axis=0), DEAD, 0)
            np.testing.assert_array_equal(marks[i], by_hand)
            assert rec["dead_pct"][i] == 100.0 * np.mean(marks[i] == DEAD)
        for i, layer in ((2, 5), (3, 7)):
            act = net.layers[layer]
            by_hand = np.where(np.all(act.derivative(act._z) < SATURATION * act.max_derivative, axis=0), SATURATED, 0)
            np.testing.assert_array_equal(marks[i], by_hand)
            assert rec["saturated_pct"][i] == 100.0 * np.mean(marks[i] == SATURATED)
        assert not marks[4].any()  # the output has no activation
        return marks

    forward_backward(net, X, y)
    marks = check(probe.record(0))
    assert marks[0][::3].tolist() == [DEAD] * 6 and marks[1][:3].tolist() == [DEAD] * 3
    assert marks[3][5:].tolist() == [SATURATED] * 5 and marks[2].any()
    net.layers[0].b.value[:] = 1.0  # the pins undone: the marks follow the next measurement
    net.layers[4].W.value /= 1e3
    net.layers[6].b.value[:] = 0.0
    forward_backward(net, X, y)
    marks = check(probe.record(1))
    assert not marks[0][::3].any() and not marks[3][5:].any() and not marks[2].any()


def test_histogram_counts_every_weight_into_fixed_bins():
    net = mlp([4, 32, 16, 3], activation="tanh", dtype=np.float64, rng=3)
    X, y = data()
    probe = GradientProbe(net)
    forward_backward(net, X, y)
    net.layers[0].W.grad[:2] = 0.0  # log10|0| = −inf: below the first edge
    net.layers[0].W.grad[2, 0] = 1e3  # above the last edge
    hist = probe.record(0)["grad_hist"]
    denses = [layer for layer in net.layers if isinstance(layer, Dense)]
    np.testing.assert_array_equal(hist.sum(axis=1), [d.W.value.size for d in denses])
    edges = probe.bin_edges
    for row, d in zip(hist, denses):
        g = np.abs(d.W.grad.ravel())
        with np.errstate(divide="ignore"):
            lg = np.log10(g)
        inside, _ = np.histogram(lg[(lg >= edges[0]) & (lg < edges[-1])], edges)
        np.testing.assert_array_equal(row[1:-2], inside)
        assert row[0] == np.sum(g < 10.0 ** edges[0]) and row[-2] == np.sum(g >= 10.0 ** edges[-1])
    assert hist[0, 0] >= 8 and hist[0, -2] == 1 and hist[:, -1].sum() == 0


@pytest.mark.parametrize("bad", [0, 2, 3])
def test_first_nonfinite_names_the_layer_with_a_nan_weight(bad):
    net = mlp([4, 8, 8, 8, 3], activation="tanh", dtype=np.float64, rng=0)
    X, _ = data()
    probe = GradientProbe(net)
    net.parameters()[2 * bad].value[1, 1] = np.nan
    with np.errstate(invalid="ignore"):
        out = net.forward(X)
        net.backward(np.ones_like(out) / len(X))
    rec = probe.record(0)
    assert first_nonfinite(rec["nonfinite"]) == bad
    assert probe.latest()["first_nonfinite"] == bad
    assert rec["nonfinite"][bad] == 1 and rec["nonfinite"][:bad].tolist() == [2] * bad
    assert rec["grad_hist"][:, -1].sum() > 0  # NaN gradients counted in their own column


def test_first_nonfinite_in_backward_only():
    assert first_nonfinite(np.array([2, 2, 2, 0])) == 2
    assert first_nonfinite(np.array([2, 1, 1, 2])) == 1
    assert first_nonfinite(np.zeros(3)) is None


def test_probe_observes_and_never_changes_training():
    X, y = data(n=64, dtype=np.float32)

    def train(with_probe):
        net = mlp([4, 16, 16, 3], activation="relu", rng=5)
        opt = SGD(net.parameters(), lr=0.1, momentum=0.9)
        probe = GradientProbe(net, every=2) if with_probe else None
        losses = []
        for t in range(9):
            losses.append(forward_backward(net, X, y))
            opt.step()
            if probe:
                probe.on_step(SimpleNamespace(net=net), t + 1, losses[-1])
        return net, losses, probe

    plain, plain_losses, _ = train(False)
    probed, probed_losses, probe = train(True)
    assert plain_losses == probed_losses
    for p, q in zip(plain.parameters(), probed.parameters()):
        np.testing.assert_array_equal(p.value, q.value)
    assert probe.steps == [1, 3, 5, 7, 9]
    assert probe.on_epoch(None, 0, {}) is None
    with pytest.raises(ValueError, match="not the one"):
        probe.on_step(SimpleNamespace(net=plain), 10, 0.0)


def test_detach_stops_keeping_delta():
    net = mlp([4, 8, 3], rng=0)
    denses = [layer for layer in net.layers if isinstance(layer, Dense)]
    with GradientProbe(net) as probe:
        assert all(d.keep_delta == 1 for d in denses)
        forward_backward(net, *data(dtype=np.float32))
        assert all(d._delta.shape == (d._a.shape[0], d.out_features) for d in denses)
        probe.record()
    for d in denses:
        assert "keep_delta" not in d.__dict__ and "_delta" not in d.__dict__
    forward_backward(net, *data(dtype=np.float32))
    assert all("_delta" not in d.__dict__ for d in denses)  # an unprobed network keeps no δ
    # two probes, detached in creation order: the other keeps working
    first = GradientProbe(net)
    second = GradientProbe(net)
    first.detach()
    first.detach()  # a second detach changes nothing
    assert all(d.keep_delta == 1 for d in denses)
    forward_backward(net, *data(dtype=np.float32))
    assert second.record() is not None
    second.detach()
    assert all("keep_delta" not in d.__dict__ and "_delta" not in d.__dict__ for d in denses)


def test_probe_errors():
    net = mlp([4, 8, 3], rng=0)
    with pytest.raises(ValueError, match="every"):
        GradientProbe(net, every=0)
    with pytest.raises(ValueError, match="bins"):
        GradientProbe(net, bins=[1.0, 0.0])
    with pytest.raises(ValueError, match="no backward pass"):
        GradientProbe(net).record()
    with pytest.raises(ValueError, match="no Dense"):
        GradientProbe(Sequential([ReLU()]))


def grid(n=9, dtype=np.float64):
    u = np.linspace(-2.0, 2.0, n)
    return np.stack(np.meshgrid(u, u), axis=-1).reshape(-1, 2).astype(dtype)


def test_neuron_maps_match_a_manual_forward_and_leave_the_net_as_it_was():
    net = mlp([2, 6, 5, 3], activation=["tanh", "relu"], dtype=np.float64, rng=4)
    X, y = data(n_in=2)
    probe = GradientProbe(net)
    forward_backward(net, X, y)
    grads = [p.grad.copy() for p in net.parameters()]
    cached = net.layers[0]._a
    G = grid()
    maps = neuron_maps(net, G)
    W1, b1, W2, b2 = (p.value for p in net.parameters()[:4])
    a1 = np.tanh(G @ W1.T + b1)
    a2 = np.maximum(a1 @ W2.T + b2, 0.0)
    assert [m.shape for m in maps] == [(81, 6), (81, 5)]
    np.testing.assert_allclose(maps[0], a1, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(maps[1], a2, rtol=1e-13, atol=1e-15)
    sensitivity_maps(net, G, output=1)
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_array_equal(p.grad, g)
    assert net.layers[0]._a is cached
    np.testing.assert_array_equal(probe.record()["grad_W_norm"], [np.linalg.norm(g) for g in grads[::2]])


def test_sensitivity_maps_match_finite_differences():
    net = mlp([2, 5, 4, 3], activation="sigmoid", dtype=np.float64, rng=6)
    G = grid(n=5)
    k, eps = 2, 1e-6
    maps = sensitivity_maps(net, G, output=k)
    assert [m.shape for m in maps] == [(25, 5), (25, 4)]
    layers = net.layers

    def output_with(l_act, j, h):
        a = G
        for i, layer in enumerate(layers):
            a = layer.forward(a, False)
            if i == l_act:
                a = a.copy()
                a[:, j] += h
        return a[:, k]

    for m, l_act in zip(maps, (1, 3)):
        for j in range(m.shape[1]):
            fd = (output_with(l_act, j, eps) - output_with(l_act, j, -eps)) / (2 * eps)
            np.testing.assert_allclose(m[:, j], fd, rtol=1e-6, atol=1e-9)


def test_sensitivity_maps_check_the_output_index():
    net = mlp([2, 4, 3], rng=0)
    with pytest.raises(ValueError, match="out of range"):
        sensitivity_maps(net, grid(dtype=np.float32), output=3)


def test_fit_records_a_probe_when_the_config_asks():
    """``RunConfig.probe_every=k``: fit() attaches a GradientProbe to the network it builds
    and records steps 1, 1 + k, 1 + 2k, …; training itself is unchanged (same history, bit for bit)."""
    from deltaflow.training.config import RunConfig
    from deltaflow.training.trainer import fit

    base = dict(data={"name": "circle", "n_samples": 120}, model={"hidden": [6, 5]}, epochs=3, batch_size=16)
    plain = fit(RunConfig.from_dict(base))
    probed = fit(RunConfig.from_dict({**base, "probe_every": 4}))
    assert plain.probe is None
    assert probed.history == plain.history
    steps = probed.steps
    assert probed.probe.net is probed.net
    # labelled with the trainer's step count (1 after the first update): calls 0, 4, 8, … recorded
    assert probed.probe.steps == list(range(1, steps + 1, 4))
    arrays = probed.probe.as_arrays()
    assert arrays["grad_W_norm"].shape == (len(probed.probe.steps), 3)
    assert np.isfinite(arrays["grad_W_norm"]).all()


def test_grid_forward_is_the_output_and_the_neuron_maps_of_one_pass():
    net = mlp([2, 5, 4, 3], "tanh", dtype=np.float64, rng=np.random.default_rng(1))
    grid = np.random.default_rng(2).uniform(-1, 1, (30, 2))
    y, maps = grid_forward(net, grid)
    np.testing.assert_array_equal(y, net.forward(grid, False))
    for got, want in zip(maps, neuron_maps(net, grid)):
        np.testing.assert_array_equal(got, want)
