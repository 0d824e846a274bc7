"""What the numbers were measured on: CPU, cores, BLAS libraries and their threads; and
the GEMM ceiling, the matrix-multiply rate that bounds any MLP step on this machine."""

from __future__ import annotations

import os
import platform
import time

import numpy as np


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine shows here."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def describe() -> dict:
    """Machine, library versions, BLAS backends and thread counts, left at their defaults."""
    from threadpoolctl import threadpool_info

    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "load_average": load_average(),
        "numpy": np.__version__,
        "numpy_blas": [],
        "pools": [],
    }
    for pool in threadpool_info():
        entry = {k: pool.get(k) for k in ("internal_api", "version", "num_threads", "architecture", "filepath")}
        info["pools"].append(entry)
        # numpy's wheel keeps its OpenBLAS in site-packages/numpy.libs
        if pool.get("user_api") == "blas" and os.path.basename(os.path.dirname(pool["filepath"])).startswith("numpy"):
            info["numpy_blas"].append(entry)
    try:
        import torch

        words = torch.__config__.show().replace(",", " ").split()
        blas = [w.split("=", 1)[1] for w in words if w.startswith("BLAS_INFO=")]
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["torch_interop_threads"] = torch.get_num_interop_threads()
        info["torch_blas"] = blas[0] if blas else "?"
    except ImportError:
        info["torch"] = None
    try:
        import sklearn

        info["sklearn"] = sklearn.__version__
    except ImportError:
        info["sklearn"] = None
    return info


def gemm_ceiling(dtype, sizes=(1024, 2048), reps: int = 5) -> dict:
    """np.matmul GFLOP/s (2n³ per product) of square n × n matrices: the fastest of ``reps``
    timed products per size, and the best size. A ceiling is what the machine can do, so
    the fastest product is taken (on a shared machine a median measures the neighbours)."""
    rng = np.random.default_rng(0)
    per_size = {}
    for n in sizes:
        a = rng.standard_normal((n, n)).astype(dtype)
        b = rng.standard_normal((n, n)).astype(dtype)
        out = np.empty((n, n), dtype)
        np.matmul(a, b, out=out)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            np.matmul(a, b, out=out)
            times.append(time.perf_counter() - t0)
        per_size[n] = 2 * n**3 / min(times) / 1e9
    return {"gflops": max(per_size.values()), "per_size": per_size}
