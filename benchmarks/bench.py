"""deltaflow against PyTorch CPU and scikit-learn: training steps per second, the GEMM
ceiling, forward/backward split, probe and Trainer overhead, peak memory (issue 6).

    python -m benchmarks.bench                 # everything (a few minutes)
    python -m benchmarks.bench --quick         # fewer rounds, shorter timings
    python -m benchmarks.bench --configs tiny digits --dtypes float32

Each step is forward, softmax cross-entropy, backward and an Adam update on one fixed
batch of random data of the configuration's shape. The frameworks are timed in turn,
round after round in the same process (see ``timing.py``); a rate is the median over
rounds and a ratio the median of the per-round ratios. Threads are left at each
library's default.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

if __package__ in (None, ""):  # run as a script: python benchmarks/bench.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import machine, memory, timing  # noqa: E402
from benchmarks.configs import BY_NAME, CONFIGS  # noqa: E402
from benchmarks.steppers import DeltaflowStep, SklearnStep, TorchStep  # noqa: E402


def speed(cfg, dtype, rounds: int, seconds: float, with_sklearn: bool) -> dict:
    """Steps per second of each contender on ``cfg`` in ``dtype`` and the paired ratios."""
    contenders = {
        "deltaflow": DeltaflowStep(cfg, dtype),
        "torch": TorchStep(cfg, dtype),
    }
    if with_sklearn:
        contenders["sklearn"] = SklearnStep(cfg, dtype)
    # deltaflow as Trainer.train_step calls it today: net.backward(g) also computes ∂L/∂X
    contenders["deltaflow_dX"] = DeltaflowStep(cfg, dtype, input_grad=True)
    rates = timing.interleaved({k: c.step for k, c in contenders.items()}, rounds, seconds)
    out = {"rates": {k: float(np.median(v)) for k, v in rates.items()}}
    out["vs_torch"] = timing.paired_ratio(rates["deltaflow"], rates["torch"])
    out["dX_vs_torch"] = timing.paired_ratio(rates["deltaflow_dX"], rates["torch"])
    if with_sklearn:
        out["vs_sklearn"] = timing.paired_ratio(rates["deltaflow"], rates["sklearn"])
        out["sklearn_dtype"] = contenders["sklearn"].dtype
    out["gflops"] = cfg.flops_per_step * out["rates"]["deltaflow"] / 1e9
    return out


def phases(cfg, dtype, seconds: float) -> dict:
    """Median forward (network and loss) and backward times of one step, and their ratio,
    for deltaflow and PyTorch, each step's three parts timed separately."""
    out = {}
    for name, c in (("deltaflow", DeltaflowStep(cfg, dtype)), ("torch", TorchStep(cfg, dtype))):
        n = timing.calibrate(c.step, seconds)
        timing.settle(c.step)
        fwd, bwd = [], []
        for _ in range(n):
            t0 = time.perf_counter()
            c.forward()
            t1 = time.perf_counter()
            c.backward()
            t2 = time.perf_counter()
            c.update()
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
        f, b = float(np.median(fwd)), float(np.median(bwd))
        out[name] = {"forward_ms": f * 1e3, "backward_ms": b * 1e3, "backward_over_forward": b / f}
    return out


def trainer_overhead(rounds: int, seconds: float) -> dict:
    """On the bundled digits set with the digits configuration (64-128-64-10, batch 64,
    Adam lr 1e-3, float32): the engine loop, ``Trainer.train_step``, ``train_step`` plus a
    ``GradientProbe(every=10).record`` after each step (as the probe runs as a callback),
    and ``train_step`` plus the per-step weight finiteness check ``run_epoch`` makes. Then
    training as ``fit`` runs it: whole epochs (``Trainer.run_epoch``: shuffled batches, the
    checks, the epoch's history row) with and without the probe among the callbacks."""
    steps, epochs, probes = _trainer_steps()
    rates = timing.interleaved(steps, rounds, seconds)
    for probe in probes:
        probe.detach()
    med = {k: float(np.median(v)) for k, v in rates.items()}
    return {
        "rates": med,
        "steps_per_epoch": epochs.step // max(1, epochs.epoch),
        "train_step_over_engine": timing.paired_ratio(rates["engine"], rates["train_step"]) - 1,
        "probe_overhead": timing.paired_ratio(rates["train_step"], rates["probe_every_10"]) - 1,
        "finite_check_overhead": timing.paired_ratio(rates["train_step"], rates["finite_check"]) - 1,
        "epoch_probe_overhead": timing.paired_ratio(rates["epoch"], rates["epoch_probe_every_10"]) - 1,
    }


def _trainer_steps():
    """(the timed callables by name, the Trainer whose epochs are timed, the probes to detach)."""
    from deltaflow.diagnostics.probes import GradientProbe
    from deltaflow.training.config import DataConfig, ModelConfig, OptimizerConfig, RunConfig
    from deltaflow.training.trainer import Trainer

    cfg = BY_NAME["digits"]
    run = RunConfig(
        data=DataConfig(name="digits"),
        model=ModelConfig(hidden=list(cfg.sizes[1:-1]), activation="relu"),
        optimizer=OptimizerConfig(name="adam", lr=1e-3),
        batch_size=cfg.batch,
        dtype="float32",
    )
    plain, probed = Trainer(run), Trainer(run)
    d = plain.dataset
    X, target = d.X_train[: cfg.batch], plain.task.targets(d.y_train[: cfg.batch])
    probe = GradientProbe(probed.net, every=10)
    bare = Trainer(run)  # only its network, loss and optimiser are used
    net, loss, opt = bare.net, bare.task.loss, bare.optimizer

    def engine():
        loss.forward(net.forward(X, True), target)
        net.backward(loss.backward())
        opt.step()

    def train_step():
        plain.train_step(X, target)

    def with_probe():
        probed.train_step(X, target)
        probe.record()

    def with_check():
        plain.train_step(X, target)
        plain._state_is_finite()

    epochs, probed_epochs = Trainer(run), Trainer(run)
    epoch_probe = GradientProbe(probed_epochs.net, every=10)
    probed_epochs.callbacks.append(epoch_probe)
    steps = {
        "engine": engine,
        "train_step": train_step,
        "probe_every_10": with_probe,
        "finite_check": with_check,
        "epoch": epochs.run_epoch,
        "epoch_probe_every_10": probed_epochs.run_epoch,
    }
    return steps, epochs, (probe, epoch_probe)


def _better_ceiling(gemm: dict, dtype: str) -> None:
    """Measure the GEMM ceiling again (before each configuration and at the end) and keep
    the best, so that a busy moment of a shared machine does not lower it."""
    again = machine.gemm_ceiling(np.dtype(dtype))
    if again["gflops"] > gemm[dtype]["gflops"]:
        gemm[dtype] = again


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def report(res: dict) -> str:
    lines = _report_machine(res)
    for dt, rows in res["speed"].items():
        lines += _report_speed(dt, rows, res["gemm"][dt]["gflops"], res["rounds"])
    if res.get("phases"):
        lines += _report_phases(res["phases"])
    if res.get("trainer"):
        lines += _report_trainer(res["trainer"])
    if res.get("memory"):
        lines += _report_memory(res["memory"])
    return "\n".join(lines)


def _report_machine(res: dict) -> list[str]:
    m = res["machine"]
    return [
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable); Python {m['python']}; "
        f"load average {m['load_average']} at the start, {res.get('load_after', '?')} at the end",
        f"numpy {m['numpy']}, BLAS: "
        + ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['num_threads']} threads)"
                    for b in m["numpy_blas"]),
        f"torch {m.get('torch')}: BLAS {m.get('torch_blas')}, torch.get_num_threads() = {m.get('torch_threads')}, "
        f"interop threads {m.get('torch_interop_threads')}; scikit-learn {m.get('sklearn')}",
        "GEMM ceiling (np.matmul of square matrices, the best of every measurement in the run): "
        + ", ".join(f"{dt} {g['gflops']:.0f} GFLOP/s" for dt, g in res["gemm"].items()),
        "",
    ]


def _report_speed(dt: str, rows: dict, ceiling: float, rounds: int) -> list[str]:
    lines = [
        f"### {dt}: training steps per second (median of {rounds} interleaved rounds)",
        "",
        "| config | deltaflow | PyTorch | scikit-learn | ÷ PyTorch | ÷ scikit-learn "
        "| with ∂L/∂X ÷ PyTorch | GFLOP/s | of ceiling |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        sk = r["rates"].get("sklearn")
        sk_rate = "" if sk is None else f"{sk:.1f}"
        sk_ratio = "" if sk is None else f"{r['vs_sklearn']:.1f}×"
        lines.append(
            f"| {name} | {r['rates']['deltaflow']:.1f} | {r['rates']['torch']:.1f} | {sk_rate} | "
            f"{r['vs_torch']:.2f}× | {sk_ratio} | {r['dX_vs_torch']:.2f}× | "
            f"{r['gflops']:.1f} | {_pct(r['gflops'] / ceiling)} |"
        )
    used = {r.get("sklearn_dtype") for r in rows.values()} - {None}
    if used:
        lines += ["", f"scikit-learn computed in {', '.join(sorted(used))} (its input's dtype)."]
    return lines + [""]


def _report_phases(phases: dict) -> list[str]:
    lines = [
        "### backward ÷ forward time (float32, medians)",
        "",
        "| config | deltaflow fwd ms | bwd ms | bwd÷fwd | PyTorch fwd ms | bwd ms | bwd÷fwd |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, p in phases.items():
        d, t = p["deltaflow"], p["torch"]
        lines.append(
            f"| {name} | {d['forward_ms']:.3f} | {d['backward_ms']:.3f} | {d['backward_over_forward']:.2f} | "
            f"{t['forward_ms']:.3f} | {t['backward_ms']:.3f} | {t['backward_over_forward']:.2f} |"
        )
    return lines + [""]


def _report_trainer(t: dict) -> list[str]:
    return [
        "### digits through the Trainer (bundled digits data, float32, batch 64)",
        "",
        f"engine loop {t['rates']['engine']:.0f}/s; Trainer.train_step {t['rates']['train_step']:.0f}/s "
        f"({_pct(t['train_step_over_engine'])} slower); GradientProbe every=10 costs "
        f"{_pct(t['probe_overhead'])} of train_step; the per-step weight finiteness check of run_epoch "
        f"{_pct(t['finite_check_overhead'])}. Whole epochs (run_epoch, {t['steps_per_epoch']} steps and the "
        f"epoch's history row): {t['rates']['epoch']:.1f}/s; with the probe among the callbacks "
        f"{t['rates']['epoch_probe_every_10']:.1f}/s, {_pct(t['epoch_probe_overhead'])} more training time.",
        "",
    ]


def _report_memory(mem: dict) -> list[str]:
    lines = [f"### peak memory, {mem['config']} float32 ({mem['steps']} steps, fresh process each)", ""]
    for name, v in mem["frameworks"].items():
        extra = ""
        if "tracemalloc_peak_kib" in v:
            extra = f" (tracemalloc peak of NumPy allocations {v['tracemalloc_peak_kib'] / 1024:.1f} MiB)"
        lines.append(f"- {name}: peak resident set growth {v['delta_kib'] / 1024:.1f} MiB{extra}")
    return lines + [""]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", nargs="+", default=[c.name for c in CONFIGS], choices=list(BY_NAME))
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=0.25, help="length of one timing of one contender")
    ap.add_argument("--quick", action="store_true", help="3 rounds of 0.1 s, no memory measurement")
    ap.add_argument("--threads", type=int, help="limit every library to this many threads (default: its own)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds = 3, 0.1

    import sklearn.neural_network  # noqa: F401 - loaded before describing the thread pools
    import torch

    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)  # NumPy's and SciPy's OpenBLAS, OpenMP
        torch.set_num_threads(args.threads)
        if hasattr(os, "sched_setaffinity"):
            # and the process onto that many cores: deltaflow's optimiser threads, which
            # threadpoolctl does not know, use only the cores the process may run on
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])

    res = {"machine": machine.describe(), "rounds": args.rounds, "speed": {}, "gemm": {}}
    print(report({**res, "gemm": {}, "speed": {}}).split("GEMM")[0], end="", flush=True)
    res["gemm"] = {dt: machine.gemm_ceiling(np.dtype(dt)) for dt in args.dtypes}
    for dt in args.dtypes:
        res["speed"][dt] = {}
        for name in args.configs:
            _better_ceiling(res["gemm"], dt)
            r = speed(BY_NAME[name], np.dtype(dt), args.rounds, args.seconds, with_sklearn=dt == "float32")
            res["speed"][dt][name] = r
            sk = f", ÷ sklearn {r['vs_sklearn']:.1f}×" if "vs_sklearn" in r else ""
            print(f"  {dt} {name}: ÷ torch {r['vs_torch']:.2f}×{sk}", flush=True)
    for dt in args.dtypes:
        _better_ceiling(res["gemm"], dt)
    res["phases"] = {name: phases(BY_NAME[name], np.float32, args.seconds * 2) for name in args.configs}
    res["trainer"] = trainer_overhead(args.rounds, args.seconds * 2)
    if not args.quick:
        res["memory"] = {
            "config": "mnist",
            "steps": 20,
            "frameworks": {f: memory.peak_memory(f, "mnist", 20) for f in ("deltaflow", "torch", "sklearn")},
        }
    res["load_after"] = machine.load_average()
    print()
    print(report(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
