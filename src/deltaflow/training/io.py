"""Model files: one ``.npz`` of named arrays plus a JSON header, never pickle.

Layout of ``model.npz``:

- ``"<layer>.<name>"`` arrays: the network's ``state_dict()`` (weights and buffers);
- ``"__deltaflow__"``: a 0-d unicode array holding JSON with the format version, the
  architecture (the network's ``spec()``, which ``nn.layers.from_spec`` rebuilds), the run config if
  any, and free-form metadata (task, class labels, feature names);
- ``"__meta__.<name>"``: extra arrays, e.g. the standardiser's mean and scale.

Files are written to a temporary file in the same folder and renamed, so a crash never
leaves a half-written model; loading uses ``allow_pickle=False`` and checks every size
before it allocates (``load_model``'s ``max_bytes``, by default ``$DELTAFLOW_MAX_MODEL_BYTES``
or 256 MiB).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deltaflow._checks import integer
from deltaflow._npz import one_line, read_npz
from deltaflow.nn.layers import from_spec
from deltaflow.nn.network import Sequential

FORMAT = "deltaflow-model"
VERSION = 1
HEADER = "__deltaflow__"
META_PREFIX = "__meta__."
MAX_BYTES = 256 * 2**20  # default limit on what a model file may declare or unpack to
MAX_BYTES_ENV = "DELTAFLOW_MAX_MODEL_BYTES"
MAX_HEADER_CHARS = 1_000_000
MAX_HEADER_DEPTH = 64


@dataclass
class ModelFile:
    """A loaded model: the network, the run config's JSON (or None), metadata, extra arrays
    and the file it came from (None for one made in memory)."""

    net: Sequential
    config: dict | None = None
    meta: dict = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    path: Path | None = None


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


def max_model_bytes() -> int:
    """The size limit ``load_model`` applies by default: ``$DELTAFLOW_MAX_MODEL_BYTES`` if set, else 256 MiB."""
    text = os.environ.get(MAX_BYTES_ENV)
    if text is None:
        return MAX_BYTES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{MAX_BYTES_ENV} must be a positive number of bytes, got {text!r}")
    return value


def load_model(path, *, max_bytes: int | None = None) -> ModelFile:
    """Read a model file; a missing, corrupt, truncated, oversized or mismatched file is a ``ValueError``.

    Before anything is allocated the file must stay within ``max_bytes`` (None:
    ``max_model_bytes()``): each array's declared shape × itemsize and their total, what
    the archive unpacks to, and the parameters its architecture implies (4 or 8 bytes
    each). The JSON header may hold at most ``MAX_HEADER_CHARS`` characters nested at most
    ``MAX_HEADER_DEPTH`` deep. Weights must be finite.
    """
    path = Path(path)
    limit = max_model_bytes() if max_bytes is None else integer(max_bytes, "max_bytes")
    if not path.exists():
        raise ValueError(f"model file {path} does not exist")
    if not path.is_file():
        raise ValueError(f"model file {path} is not a file")
    # np.load falls back to unpickling anything that is neither .npy nor .npz: refuse first
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a deltaflow model file (not an .npz archive; corrupt or truncated?)")
    arrays = read_npz(path, limit, "deltaflow model file")
    header = _read_header(path, arrays)
    extras = {k[len(META_PREFIX):]: arrays.pop(k) for k in list(arrays) if k.startswith(META_PREFIX)}
    for name, value in extras.items():
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{path}: extra array {name!r} has dtype {value.dtype}; expected numbers")
    _check_architecture_size(path, header["architecture"], limit)
    try:
        net = from_spec(header["architecture"])
        if not isinstance(net, Sequential):
            net = Sequential([net])
        net.load_state_dict(arrays)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path}: weights do not match the saved architecture ({one_line(exc)})") from None
    for name, value in arrays.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise ValueError(f"{path}: weight {name!r} holds NaN or Inf; the model cannot predict")
    return ModelFile(net.eval(), header.get("config"), header.get("meta") or {}, extras, path)


def _read_header(path: Path, arrays: dict) -> dict:
    """The JSON header popped from ``arrays``, checked for this format and version."""
    if HEADER not in arrays:
        raise ValueError(f"{path} is not a deltaflow model file (no {HEADER} header)")
    raw = arrays.pop(HEADER)
    if raw.dtype.kind != "U" or raw.ndim != 0:
        raise ValueError(f"{path}: the model header is {raw.dtype} of shape {raw.shape}, not a JSON string")
    text = str(raw)
    if len(text) > MAX_HEADER_CHARS:
        raise ValueError(f"{path}: the model header is {len(text):,} characters, over the limit of {MAX_HEADER_CHARS:,}")
    depth = json_depth(text)
    if depth > MAX_HEADER_DEPTH:
        raise ValueError(f"{path}: the model header nests {depth} levels deep, over the limit of {MAX_HEADER_DEPTH}")
    try:
        header = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: the model header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: the model header is not a JSON object")
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ValueError(
            f"{path}: unsupported model format {short_text(header.get('format'))} version "
            f"{short_text(header.get('version'))} (this deltaflow reads {FORMAT!r} version {VERSION})"
        )
    if not isinstance(header.get("architecture"), dict) or not isinstance(header.get("meta", {}), dict):
        raise ValueError(f"{path}: the model header has no valid architecture or meta")
    if not isinstance(header.get("config"), (dict, type(None))):
        raise ValueError(f"{path}: the model header's config is {type(header['config']).__name__}, not an object")
    return header


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def json_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest in the JSON ``text`` (brackets inside strings do not count),
    found without parsing: ``json.loads`` recurses once per level."""
    code = np.frombuffer(_STRING.sub("", text).encode("utf-8", "replace"), dtype=np.uint8)
    step = np.isin(code, (ord("["), ord("{"))).astype(np.int64) - np.isin(code, (ord("]"), ord("}")))
    return int(np.cumsum(step).max(initial=0))


def short_text(value) -> str:
    """``repr(value)`` through ``one_line``: a message quotes a file's value, not all of it."""
    return one_line(repr(value), 60)


def implied_bytes(spec) -> int:
    """The bytes of weights and buffers the layer ``spec`` describes, counted from the spec
    alone: n_out·n_in + n_out numbers for a ``Dense``, 4n for a norm (γ, β and running
    statistics), at 8 bytes each in float64 and 4 otherwise, summed over every nested
    layer. Sizes that are not positive integers count 0 (``from_spec`` refuses them)."""
    if isinstance(spec, list):
        return sum(implied_bytes(s) for s in spec)
    if not isinstance(spec, dict):
        return 0

    def size(key) -> int:
        value = spec.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    count = size("n_in") * size("n_out") + size("n_out") if spec.get("type") == "Dense" else 4 * size("n")
    own = count * (8 if spec.get("dtype") == "float64" else 4)
    return own + sum(implied_bytes(v) for v in spec.values() if isinstance(v, (dict, list)))


def _check_architecture_size(path: Path, spec: dict, max_bytes: int) -> None:
    """Refuse an architecture whose weights alone would take more than ``max_bytes``."""
    nbytes = implied_bytes(spec)
    if nbytes > max_bytes:
        raise ValueError(f"{path}: the architecture implies {nbytes:,} bytes of weights, "
                         f"over the limit of {max_bytes:,} bytes")
