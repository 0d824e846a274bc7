"""Peak memory of training steps, each framework in a fresh interpreter.

A child process imports its framework, makes the batch, runs a few steps of the tiny
configuration (which load what each framework loads lazily on its first step: MKL
kernels, code pages) and reads its resident set size (VmRSS in /proc/self/status); it
resets the kernel's peak (writing 5 to /proc/self/clear_refs), builds the model and
optimiser, runs the steps, and reads the peak (VmHWM). The difference is what training
added at its peak: parameters, gradients, optimiser state, activations, temporaries and
whatever the allocator keeps, but not the libraries themselves (importing torch alone
takes hundreds of MB). ``ru_maxrss`` would not do: Linux carries it over from the parent
across exec, so a child of a large process reports the parent's peak. For deltaflow the
child also reports tracemalloc's peak of NumPy's allocations over the same steps. Linux only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

_CHILD = r"""
import json, sys, tracemalloc
import numpy as np
sys.path.insert(0, {root!r})
from benchmarks.configs import BY_NAME
from benchmarks import steppers
framework, cfg, steps = {framework!r}, BY_NAME[{config!r}], {steps}
if framework == "torch":
    import torch
elif framework == "sklearn":
    import sklearn.neural_network
else:
    import deltaflow
def build(c):
    return steppers.FRAMEWORKS[framework](c, np.float32).step
warm = build(BY_NAME["tiny"])  # loads what a framework loads lazily at its first step (code, not data)
for _ in range(3):
    warm()
del warm
def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key + ":"))
cfg.data(np.float32)
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts again from the current resident set
if framework == "deltaflow":
    tracemalloc.start()
step = build(cfg)
for _ in range(steps):
    step()
out = {{"delta_kib": status("VmHWM") - before}}
if framework == "deltaflow":
    out["tracemalloc_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
print(json.dumps(out))
"""


def peak_memory(framework: str, config: str = "mnist", steps: int = 20) -> dict:
    """{"delta_kib": peak RSS growth over building and ``steps`` steps (KiB), ...} for one
    framework, measured in a fresh ``python`` child with the default thread settings."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = _CHILD.format(root=root, framework=framework, config=config, steps=steps)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
