"""The engine imports NumPy, SciPy and the standard library only (DESIGN.md: imports flow one way).

One fresh interpreter imports every engine module (``import deltaflow.x`` also runs the
package's ``__init__``, so the package import is covered too) and reports ``sys.modules``.
"""

import json
import subprocess
import sys

ENGINE = ["nn", "nn.layers", "nn.activations", "nn.norm", "nn.losses", "nn.init", "nn.network", "nn.gradcheck",
          "nn.perceptron", "optim", "optim.optimizers", "optim.clip", "optim.schedules", "diagnostics",
          "diagnostics.probes", "diagnostics.explain"]
ALLOWED = {"numpy", "scipy", "deltaflow", "cython_runtime"}  # cython_runtime: built in by SciPy's extensions
FORBIDDEN = {"torch", "sklearn", "matplotlib", "pydantic", "typer", "rich", "fastapi", "starlette", "pandas",
             "uvicorn", "hypothesis", "pytest", "PIL"}

PROBE = """
import importlib, json, sys
before = set(sys.modules)
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_engine_modules_import_only_numpy_scipy_and_stdlib():
    names = ENGINE
    cmd = [sys.executable, "-c", PROBE, *(f"deltaflow.{n}" for n in names)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60)
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    for n in names:
        assert f"deltaflow.{n}" in modules
    tops = {m.split(".")[0] for m in modules}
    assert not tops & FORBIDDEN, sorted(tops & FORBIDDEN)
    third_party = sorted(t for t in tops if t not in sys.stdlib_module_names and t not in ALLOWED and not t.startswith("_"))
    assert third_party == [], third_party
    face_names = {"training", "viz", "cli", "sklearn", "web", "report", "experiments"}
    faces = sorted(m for m in modules if m.startswith("deltaflow.") and m.split(".")[1] in face_names)
    assert faces == [], faces
