"""The cost of backpropagation: backward against forward, timed and counted.

A Dense layer ``Z = A Wᵀ + b`` with A : (B, n_in), W : (n_out, n_in) costs, in floating-point
operations (a multiply-add is 2; the O(B·n_out) bias and element-wise terms are left out)::

    forward    Z = A Wᵀ                 2·B·n_in·n_out
    backward   ∂L/∂W = δᵀ A             2·B·n_in·n_out
               ∂L/∂A = δ W              2·B·n_in·n_out     (not needed for the first layer's input)

so backward = 2 × forward and forward + backward = 3 forwards (less the first layer's ∂L/∂x
where it is skipped, as ``Sequential.backward(g, input_grad=False)`` and a training step do).
The times here are measured with ∂L/∂A computed for every layer, so the FLOP ratio is 2.

Measured: the median over repetitions of ``time.perf_counter`` around ``Dense.forward`` and
``Dense.backward`` (float32, the engine's default, one BLAS thread), each repetition timing
enough calls to last about TARGET_SECONDS; then the same for a whole ReLU network with softmax
cross-entropy (forward: net + loss; backward: loss gradient + δ recursion).

Full grid: n_in = n_out ∈ {64, 128, 256, 512, 1024} × batch ∈ {32, 256}, 25 repetitions,
and the network n-n-n-n-10 for n ∈ {128, 512} at batch 256 (a few seconds). ``quick``: a
few small sizes, 3 repetitions.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from deltaflow.experiments.base import Experiment, Ticker
from deltaflow.nn.layers import Dense
from deltaflow.nn.losses import SoftmaxCrossEntropy
from deltaflow.nn.network import mlp
from deltaflow.viz.canvas import floats, new_figure, save, tidy

__all__ = ["EXPERIMENT", "run", "figure", "dense_flops", "network_flops", "median_time"]

TARGET_SECONDS = 5e-3  # one repetition times enough calls to last about this long
CLASSES = 10


def dense_flops(batch: int, n_in: int, n_out: int) -> tuple[int, int]:
    """(forward, backward) FLOPs of one Dense layer: 2·B·n_in·n_out and 2 × that."""
    forward = 2 * batch * n_in * n_out
    return forward, 2 * forward


def network_flops(sizes, batch: int) -> dict[str, int]:
    """FLOPs of the Dense layers of an MLP ``sizes = [n_0, …, n_L]`` for a batch of B.

    Returns forward, backward (as the engine computes it, ∂L/∂x included) and
    backward_no_input_grad (the first layer's ∂L/∂A skipped, as a training step may).
    """
    fwd = sum(dense_flops(batch, a, b)[0] for a, b in zip(sizes[:-1], sizes[1:]))
    first = dense_flops(batch, sizes[0], sizes[1])[0]
    return {"forward": fwd, "backward": 2 * fwd, "backward_no_input_grad": 2 * fwd - first}


def median_time(fn, repeats: int, calls: int) -> float:
    """Median over ``repeats`` of the seconds per call of ``fn()``, timed over ``calls`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return float(np.median(times))


def _calls_for(seconds_per_call: float) -> int:
    return max(1, math.ceil(TARGET_SECONDS / max(seconds_per_call, 1e-9)))


def _fastest(fn, tries: int = 3) -> float:
    times = []
    for _ in range(tries):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _time_pair(forward, backward, repeats: int) -> tuple[float, float]:
    """Median seconds per call of ``forward()`` and of ``backward()``.

    Repetitions alternate forward and backward, so that both see the same load on a shared
    machine; the calls per repetition come from the fastest of three single forward calls
    (one call the scheduler happened to pause would otherwise set too few).
    """
    calls = _calls_for(_fastest(forward))
    backward()
    pairs = [(median_time(forward, 1, calls), median_time(backward, 1, calls)) for _ in range(repeats)]
    t_f, t_b = np.median(np.array(pairs), axis=0)
    return float(t_f), float(t_b)


def _dense_row(n: int, batch: int, repeats: int, rng: np.random.Generator) -> dict:
    layer = Dense(n, n, rng=rng)
    x = rng.standard_normal((batch, n)).astype(np.float32)
    dy = rng.standard_normal((batch, n)).astype(np.float32)
    t_f, t_b = _time_pair(lambda: layer.forward(x), lambda: layer.backward(dy), repeats)
    f_fwd, f_bwd = dense_flops(batch, n, n)
    return {"n": n, "batch": batch, "forward_flops": f_fwd, "backward_flops": f_bwd,
            "forward_s": t_f, "backward_s": t_b}


def _network_row(n: int, batch: int, repeats: int, rng: np.random.Generator) -> dict:
    sizes = [n, n, n, n, CLASSES]
    net = mlp(sizes, activation="relu", rng=rng)
    loss = SoftmaxCrossEntropy()
    x = rng.standard_normal((batch, n)).astype(np.float32)
    y = rng.integers(0, CLASSES, batch)
    t_f, t_b = _time_pair(lambda: loss.forward(net.forward(x), y), lambda: net.backward(loss.backward()), repeats)
    flops = network_flops(sizes, batch)
    return {"sizes": sizes, "batch": batch, "forward_flops": flops["forward"], "backward_flops": flops["backward"],
            "backward_no_input_grad_flops": flops["backward_no_input_grad"], "forward_s": t_f, "backward_s": t_b}


def _with_ratios(row: dict) -> dict:
    row["flop_ratio"] = row["backward_flops"] / row["forward_flops"]
    row["time_ratio"] = row["backward_s"] / row["forward_s"]
    row["flop_step_ratio"] = 1.0 + row["flop_ratio"]
    row["time_step_ratio"] = 1.0 + row["time_ratio"]
    return row


def run(quick: bool = False, seed: int = 0, progress=None) -> dict:
    sizes = [16, 32, 64] if quick else [64, 128, 256, 512, 1024]
    batches = [8, 32] if quick else [32, 256]
    net_sizes, net_batch = ([32], 32) if quick else ([128, 512], 256)
    repeats = 3 if quick else 25
    rng = np.random.default_rng(seed)
    ticker = Ticker(progress, len(sizes) * len(batches) + len(net_sizes))
    dense, network = [], []
    # one BLAS thread: the ratio then compares work done, not how well each product spreads
    # over cores another process may be using
    with threadpool_limits(limits=1, user_api="blas"):
        _measure(sizes, batches, net_sizes, net_batch, repeats, rng, dense, network, ticker)
    return _report(quick, seed, repeats, dense, network)


def _measure(sizes, batches, net_sizes, net_batch, repeats, rng, dense, network, ticker: Ticker) -> None:
    for batch in batches:
        for n in sizes:
            dense.append(_with_ratios(_dense_row(n, batch, repeats, rng)))
            ticker.tick()
    for n in net_sizes:
        network.append(_with_ratios(_network_row(n, net_batch, repeats, rng)))
        ticker.tick()


def _report(quick, seed, repeats, dense, network) -> dict:
    ratios = np.array([r["time_ratio"] for r in dense])
    big = [r for r in dense if r["forward_flops"] >= np.median([d["forward_flops"] for d in dense])]
    findings = [
        "FLOPs: backward = 2 × forward for every Dense layer (∂L/∂W and ∂L/∂A each cost one forward), "
        "so forward + backward = 3 forwards",
        f"measured backward/forward over {len(dense)} Dense sizes: median {np.median(ratios):.2f} "
        f"(range {ratios.min():.2f}–{ratios.max():.2f}); on the larger half of the sizes "
        f"{np.median([r['time_ratio'] for r in big]):.2f}",
    ]
    for r in network:
        shown = "-".join(map(str, r["sizes"]))
        findings.append(
            f"network {shown} at batch {r['batch']}: measured (forward + backward)/forward "
            f"{r['time_step_ratio']:.2f}, by FLOPs {r['flop_step_ratio']:.2f} "
            f"({1 + r['backward_no_input_grad_flops'] / r['forward_flops']:.2f} without ∂L/∂x)"
        )
    dense_table = {
        "title": f"one Dense layer n → n, float32, median of {repeats} repetitions",
        "columns": ["n", "batch", "forward FLOPs", "forward µs", "backward µs", "backward/forward measured",
                    "backward/forward FLOPs", "(fwd+bwd)/fwd measured", "(fwd+bwd)/fwd FLOPs"],
        "rows": [[r["n"], r["batch"], r["forward_flops"], 1e6 * r["forward_s"], 1e6 * r["backward_s"],
                  r["time_ratio"], r["flop_ratio"], r["time_step_ratio"], r["flop_step_ratio"]] for r in dense],
    }
    network_table = {
        "title": "ReLU network with softmax cross-entropy",
        "columns": ["sizes", "batch", "forward µs", "backward µs", "(fwd+bwd)/fwd measured",
                    "(fwd+bwd)/fwd FLOPs", "(fwd+bwd)/fwd FLOPs without ∂L/∂x"],
        "rows": [["-".join(map(str, r["sizes"])), r["batch"], 1e6 * r["forward_s"], 1e6 * r["backward_s"],
                  r["time_step_ratio"], r["flop_step_ratio"],
                  1 + r["backward_no_input_grad_flops"] / r["forward_flops"]] for r in network],
    }
    return {"name": "cost", "title": EXPERIMENT.title, "quick": quick, "seed": seed, "repeats": repeats,
            "dtype": "float32", "findings": findings, "tables": [dense_table, network_table],
            "dense": dense, "network": network}


def figure(result: dict, path) -> Path:
    """Left: backward/forward against layer width per batch size, measured and by FLOPs.
    Right: seconds per call against FLOPs, forward and backward."""
    fig = new_figure((12.0, 4.6))
    ax_ratio, ax_time = fig.subplots(1, 2)
    dense = result["dense"]
    for batch in sorted({r["batch"] for r in dense}):
        rows = [r for r in dense if r["batch"] == batch]
        n = [r["n"] for r in rows]
        ax_ratio.plot(n, floats(r["time_ratio"] for r in rows),
                      marker="o", label=f"measured, batch {batch}")
        ax_time.loglog([r["forward_flops"] for r in rows], [r["forward_s"] for r in rows], marker="o",
                       label=f"forward, batch {batch}")
        ax_time.loglog([r["backward_flops"] / 2 for r in rows], [r["backward_s"] for r in rows], marker="s",
                       linestyle="--", label=f"backward, batch {batch}")
    ax_ratio.axhline(2.0, color="black", linestyle=":", label="by FLOPs (2)")
    ax_ratio.set_xscale("log", base=2)
    ax_ratio.set(xlabel="layer width n (n → n)", ylabel="backward time / forward time",
                 title="backward against forward, one Dense layer")
    ax_ratio.set_ylim(bottom=0)
    ax_time.set(xlabel="forward FLOPs of the layer (2·B·n²)", ylabel="seconds per call",
                title="time per call (backward drawn at its forward's FLOPs)")
    tidy((ax_ratio, ax_time), legend=8)
    return save(fig, path)


EXPERIMENT = Experiment("cost", "The cost of backpropagation: backward against forward", run, figure)
