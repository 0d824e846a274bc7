"""Model and data files built to exhaust memory or the stack: each is a one-line ``ValueError``
(exit status 2 in the CLI) while the process's peak memory stays small.

Every load runs in a subprocess under an address-space limit (``RLIMIT_AS``) and reports
how far its peak resident size (``ru_maxrss``) grew, so a regression shows as a failed
assertion here, never as a test run killed for memory.
"""

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from deltaflow.nn.network import mlp
from deltaflow.training.io import HEADER, MAX_BYTES, load_model, save_model

pytest.importorskip("resource")  # the probe measures memory through it (Unix only)

SRC = str(Path(__file__).resolve().parents[1] / "src")
MiB = 2**20
GROWTH_LIMIT = 64 * MiB  # the peak may grow by this much while refusing a file

# Loads one file in a fresh interpreter; prints the outcome and the peak-memory growth as JSON.
_PROBE = r"""
import json, os, resource, sys
sys.path.insert(0, sys.argv[1])
from deltaflow.training.io import load_model
from deltaflow.data import load_table
kind, path = sys.argv[2], sys.argv[3]
vm = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
# a regression raises MemoryError here instead of taking the machine's memory
resource.setrlimit(resource.RLIMIT_AS, (vm + 1024 * 2**20, resource.getrlimit(resource.RLIMIT_AS)[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_model(path) if kind == "model" else load_table(path)
    outcome = "loaded"
except ValueError as exc:
    outcome = "ValueError: " + str(exc)
except BaseException as exc:
    outcome = type(exc).__name__ + ": " + str(exc)[:300]
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps({"outcome": outcome, "grown": grown}))
"""


def _probe(kind: str, path: Path) -> tuple[str, int]:
    """(outcome, bytes the peak resident size grew) of loading ``path`` in a subprocess."""
    env = {"PATH": "/usr/bin:/bin", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", _PROBE, SRC, kind, str(path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["outcome"], result["grown"]


def _npy_header(shape, descr="<f4") -> bytes:
    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False, "shape": shape})
    return f.getvalue()


def _model_arrays(folder: Path) -> dict:
    path = save_model(folder / "m.npz", mlp([2, 4, 3], rng=0))
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _write_zip(path: Path, arrays: dict, extra=None) -> Path:
    """An .npz of ``arrays`` plus the raw members ``extra(zipfile)`` writes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, value in arrays.items():
            with z.open(name + ".npy", "w") as f:
                np.lib.format.write_array(f, value, allow_pickle=False)
        if extra is not None:
            extra(z)
    return path


def _inflating(name: str, nbytes: int):
    """A member that declares and holds ``nbytes`` of float32 zeros: a few MB compressed."""
    def write(z: zipfile.ZipFile):
        with z.open(name + ".npy", "w", force_zip64=True) as f:
            f.write(_npy_header((nbytes // 4,)))
            chunk = bytes(MiB)
            for _ in range(nbytes // MiB):
                f.write(chunk)
    return write


def _declaring(name: str, shape):
    """A member whose header declares ``shape`` float32 but that holds 64 bytes."""
    return lambda z: z.writestr(name + ".npy", _npy_header(shape) + bytes(64))


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bombs")
    arrays = _model_arrays(root)
    weights = {k: v for k, v in arrays.items() if k != "0.W"}
    header = json.loads(str(arrays[HEADER]))
    deep = json.dumps(header)[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    wide = {**header, "architecture": {"type": "Sequential", "layers": [
        {"type": "Dense", "n_in": 10**6, "n_out": 10**6, "bias": True, "dtype": "float32"}]}}
    long_header = {**header, "meta": {"note": "x" * 2_000_000}}
    return {
        "model zip bomb": _write_zip(root / "zip.npz", weights, _inflating("0.W", MAX_BYTES + 256 * MiB)),
        "model declared 373 GiB": _write_zip(root / "declared.npz", weights, _declaring("0.W", (10**11,))),
        "model deep header": _write_zip(root / "deep.npz", {**arrays, HEADER: np.array(deep)}),
        "model wide architecture": _write_zip(root / "wide.npz", {HEADER: np.array(json.dumps(wide))}),
        "model long header": _write_zip(root / "long.npz", {**arrays, HEADER: np.array(json.dumps(long_header))}),
        "data zip bomb": _write_zip(root / "data_zip.npz", {"y": np.zeros(3)}, _inflating("X", 512 * MiB)),
        "data declared 373 GiB": _write_zip(root / "data_declared.npz", {"y": np.zeros(3)},
                                            _declaring("X", (10**11,))),
    }


EXPECTED = {
    "model zip bomb": r"zip\.npz unpacks to [\d,]+ bytes, over the limit of 268,435,456 bytes",
    "model declared 373 GiB": r"declared\.npz: array '0\.W' declares shape \(100000000000,\) float32, "
                              r"400,000,000,000 bytes, over the limit of 268,435,456 bytes",
    "model deep header": r"deep\.npz: the model header nests 100001 levels deep, over the limit of 64",
    "model wide architecture": r"wide\.npz: the architecture implies 4,000,004,000,000 bytes of weights, "
                               r"over the limit of 268,435,456 bytes",
    "model long header": r"long\.npz: the model header is [\d,]+ characters, over the limit of 1,000,000",
    "data zip bomb": r"data_zip\.npz unpacks to [\d,]+ bytes, over the limit of 50,000,000 bytes",
    "data declared 373 GiB": r"data_declared\.npz: array 'X' declares shape \(100000000000,\) float32",
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bomb_is_refused_with_little_memory(bombs, case):
    path = bombs[case]
    assert path.stat().st_size < 8 * MiB
    outcome, grown = _probe(case.split()[0], path)
    assert outcome.startswith("ValueError: "), outcome
    message = outcome[len("ValueError: "):]
    assert re.search(EXPECTED[case], message), message
    assert "\n" not in message and len(message) < 400
    assert grown < GROWTH_LIMIT, f"peak memory grew by {grown:,} bytes"


def test_limit_is_a_keyword_and_an_environment_variable(tmp_path, monkeypatch):
    path = save_model(tmp_path / "m.npz", mlp([2, 64, 3], rng=0))
    load_model(path)
    with pytest.raises(ValueError, match="over the limit of 1,000 bytes"):
        load_model(path, max_bytes=1000)
    monkeypatch.setenv("DELTAFLOW_MAX_MODEL_BYTES", "1000")
    with pytest.raises(ValueError, match="over the limit of 1,000 bytes"):
        load_model(path)
    load_model(path, max_bytes=10**6)  # the keyword wins over the variable
    monkeypatch.setenv("DELTAFLOW_MAX_MODEL_BYTES", "lots")
    with pytest.raises(ValueError, match="DELTAFLOW_MAX_MODEL_BYTES must be a positive number of bytes, got 'lots'"):
        load_model(path)
    with pytest.raises(ValueError, match="max_bytes must be a positive integer"):
        load_model(path, max_bytes=0)


def test_member_that_holds_less_than_it_declares(tmp_path):
    arrays = _model_arrays(tmp_path)
    path = _write_zip(tmp_path / "short.npz", {k: v for k, v in arrays.items() if k != "0.W"},
                      _declaring("0.W", (4, 200)))
    with pytest.raises(ValueError, match=r"array '0\.W' declares shape \(4, 200\) float32, 3,200 bytes, but holds 64"):
        load_model(path)


@pytest.mark.parametrize("case", ["model declared 373 GiB", "model deep header", "data declared 373 GiB"])
def test_cli_bomb_is_exit_2_with_one_line(bombs, tmp_path, case):
    path = bombs[case]
    csv = tmp_path / "in.csv"
    csv.write_text("x1,x2\n1,2\n", encoding="utf-8")
    args = ["predict", str(path), str(csv)] if case.startswith("model") else ["train", "--csv", str(path)]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "deltaflow.cli", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "over the limit" in lines[0], done.stderr[-2000:]
