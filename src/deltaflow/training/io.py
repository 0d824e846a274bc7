"""Model files: one ``.npz`` of named arrays plus a JSON header, never pickle.

Layout of ``model.npz``:

- ``"<layer>.<name>"`` arrays: the network's ``state_dict()`` (weights and buffers);
- ``"__deltaflow__"``: a 0-d unicode array holding JSON with the format version, the
  architecture (the network's ``spec()``, which ``nn.layers.from_spec`` rebuilds), the run config if
  any, and free-form metadata (task, class labels, feature names);
- ``"__meta__.<name>"``: extra arrays, e.g. the standardiser's mean and scale.

Files are written to a temporary file in the same folder and renamed, so a crash never
leaves a half-written model; loading uses ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deltaflow.nn.layers import from_spec
from deltaflow.nn.network import Sequential

FORMAT = "deltaflow-model"
VERSION = 1
HEADER = "__deltaflow__"
META_PREFIX = "__meta__."


@dataclass
class ModelFile:
    """A loaded model: the network, the run config's JSON (or None), metadata and extra arrays."""

    net: Sequential
    config: dict | None = None
    meta: dict = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def save_model(path, net: Sequential, config=None, meta: dict | None = None,
               arrays: dict[str, np.ndarray] | None = None) -> Path:
    """Write ``net`` (and optionally a RunConfig, JSON metadata and named arrays) to ``path``.

    The file is written next to its destination and renamed over it atomically.
    """
    path = Path(path)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": net.spec(),
        "config": None if config is None else json.loads(config.model_dump_json()),
        "meta": meta or {},
    }
    payload = dict(net.state_dict())
    for name, value in (arrays or {}).items():
        payload[META_PREFIX + name] = np.asarray(value)
    for name, value in payload.items():
        if value.dtype == object:
            raise ValueError(f"array {name!r} has dtype object, which cannot be saved without pickle")
    payload[HEADER] = np.array(json.dumps(header))
    with atomic_file(path, "wb", fsync=True) as f:
        np.savez(f, **payload)
    return path


def exclusive_beside(parent: Path, prefix: str, suffix: str, create) -> tuple[Path, object]:
    """(path, ``create(path)``) for a new path ``parent/<prefix><random><suffix>``;
    ``create`` must fail with ``FileExistsError`` when the path is taken (``os.mkdir``,
    ``os.open`` with ``O_EXCL``), so two writers never share one."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return path, create(path)
        except FileExistsError:
            continue


@contextmanager
def atomic_file(path, mode: str = "w", fsync: bool = False):
    """Open a temporary file beside ``path`` for writing; when the block ends it replaces
    ``path`` (so a reader never sees half a file), and if the block raises it is removed
    and ``path`` is left as it was. Text mode is UTF-8 with newlines untranslated.

    The file gets the permissions the user's umask gives (``0o666 & ~umask``), as
    ``open(path, "w")`` would: it is created with mode 0o666 and the kernel applies the
    umask (and a folder's default ACL). ``tempfile.mkstemp`` would make it 0o600, and
    reading the umask to chmod afterwards means setting it, which races other threads.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # O_BINARY: Windows only
    tmp, fd = exclusive_beside(path.parent, f".{path.name}.", ".tmp", lambda p: os.open(p, flags, 0o666))
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_model(path) -> ModelFile:
    """Read a model file; a missing, corrupt, truncated or mismatched file is a ``ValueError``."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"model file {path} does not exist")
    if not path.is_file():
        raise ValueError(f"model file {path} is not a file")
    # np.load falls back to unpickling anything that is neither .npy nor .npz: refuse first
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a deltaflow model file (not an .npz archive; corrupt or truncated?)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path} is not a readable deltaflow model file ({type(exc).__name__}: {exc})") from None
    header = _read_header(path, arrays)
    extras = {k[len(META_PREFIX):]: arrays.pop(k) for k in list(arrays) if k.startswith(META_PREFIX)}
    for name, value in extras.items():
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{path}: extra array {name!r} has dtype {value.dtype}; expected numbers")
    try:
        net = from_spec(header["architecture"])
        if not isinstance(net, Sequential):
            net = Sequential([net])
        net.load_state_dict(arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: weights do not match the saved architecture ({exc})") from None
    return ModelFile(net.eval(), header.get("config"), header.get("meta") or {}, extras)


def _read_header(path: Path, arrays: dict) -> dict:
    """The JSON header popped from ``arrays``, checked for this format and version."""
    if HEADER not in arrays:
        raise ValueError(f"{path} is not a deltaflow model file (no {HEADER} header)")
    raw = arrays.pop(HEADER)
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise ValueError(f"{path}: the model header is {raw.dtype} of shape {raw.shape}, not a JSON string")
    try:
        header = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: the model header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the model header is not a JSON object")
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ValueError(
            f"{path}: unsupported model format {header.get('format')!r} version {header.get('version')!r} "
            f"(this deltaflow reads {FORMAT!r} version {VERSION})"
        )
    if not isinstance(header.get("architecture"), dict) or not isinstance(header.get("meta", {}), dict):
        raise ValueError(f"{path}: the model header has no valid architecture or meta")
    return header
