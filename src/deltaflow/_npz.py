"""Reading ``.npz`` archives safely: every member's size is known before anything is allocated.

Model files (``training.io``) and data files (``data.files``) both load through
``read_npz``. An archive is refused with a one-line ``ValueError`` when

- it is not a zip archive, or a member is not a readable ``.npy`` array;
- a member holds an object array (``allow_pickle=False``: nothing is ever unpickled);
- a member's header declares ``prod(shape) · itemsize`` bytes more than the member holds,
  or more than ``max_bytes`` (the declared size of a 373 GiB array is refused, not allocated);
- the members together declare or unpack to more than ``max_bytes``.

A member's uncompressed size is the zip's ``file_size``, which also bounds what the
decompressor returns: a small archive that would inflate to gigabytes is refused from
its directory alone, before one byte is decompressed.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_npz", "one_line", "short_reason"]


class _Refused(ValueError):
    """A check of ours failed: its message is already the one line to show."""


_MAX_NPY_HEADER = 10_000  # numpy's own default limit on an .npy header's text
_REASON_CHARS = 160


def one_line(text: str, limit: int = _REASON_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters (a corrupt zip's message can quote
    kilobytes of raw bytes; a crafted header, megabytes)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + " …"


def short_reason(exc: BaseException) -> str:
    """``TypeName: message`` through ``one_line``."""
    return one_line(f"{type(exc).__name__}: {exc}")


def read_npz(path, max_bytes: int, what: str = "file") -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` at ``path``, by name (the member's name without ``.npy``).

    Members that are not ``.npy`` files are skipped. ``what`` names the file in messages
    (e.g. "model file"). Raises ``ValueError`` (see the module docstring) for anything
    else, with peak memory about the size of the arrays it returns.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = _checked_members(path, archive, max_bytes, what)
            return {name: _read_member(archive, info) for name, info in members.items()}
    except _Refused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, NotImplementedError,
            RuntimeError) as exc:  # RuntimeError: an encrypted member
        raise ValueError(f"{path} is not a readable {what} ({short_reason(exc)})") from None


def _checked_members(path: Path, archive: zipfile.ZipFile, max_bytes: int, what: str) -> dict:
    """``{name: ZipInfo}`` of the ``.npy`` members, after the size checks on the directory and
    on every member's ``.npy`` header."""
    members = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            continue
        name = info.filename[: -len(".npy")]
        if name in members:
            raise _Refused(f"{path}: array {name!r} is stored twice")
        members[name] = info
    unpacked = sum(info.file_size for info in members.values())
    if unpacked > max_bytes:
        raise _Refused(f"{path} unpacks to {unpacked:,} bytes, over the limit of {max_bytes:,} bytes")
    declared = 0
    for name, info in members.items():
        shape, dtype, header_len = _member_header(archive, info)
        if dtype.hasobject:
            raise _Refused(f"{path} is not a readable {what} (array {name!r} is an object array; "
                           "loading uses allow_pickle=False and never unpickles)")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes > max_bytes:
            raise _Refused(f"{path}: array {name!r} declares shape {shape} {dtype}, {nbytes:,} bytes, "
                             f"over the limit of {max_bytes:,} bytes")
        if nbytes > info.file_size - header_len:
            raise _Refused(f"{path}: array {name!r} declares shape {shape} {dtype}, {nbytes:,} bytes, but holds "
                             f"{max(info.file_size - header_len, 0):,} (a corrupt or truncated {what})")
        declared += nbytes
    if declared > max_bytes:
        raise _Refused(f"{path}: its arrays declare {declared:,} bytes, over the limit of {max_bytes:,} bytes")
    return members


def _member_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple, np.dtype, int]:
    """(shape, dtype, header length in bytes) from the ``.npy`` header at the start of a member."""
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=_MAX_NPY_HEADER)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=_MAX_NPY_HEADER)
        else:
            raise ValueError(f"array {info.filename!r} has .npy format version {version}; this reads 1.0 and 2.0")
        return tuple(shape), dtype, f.tell()


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False, max_header_size=_MAX_NPY_HEADER)
