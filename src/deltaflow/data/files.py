"""Tables from the user's files: CSV with a header row, or NPZ of numeric arrays.

``load_table(path, target)`` returns ``X : (n, d)`` float64, ``y : (n,)`` float64 (the
target column as read) and the feature names. Whatever is wrong with a file raises a
``ValueError`` whose one line names the file and, where it can, the line and column::

    data.csv line 4, column 'x2': 'abc' is not a number

NPZ files load with ``allow_pickle=False``: object arrays are refused, never unpickled.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from deltaflow._checks import as_dtype
from deltaflow._npz import read_npz

MAX_BYTES = 50_000_000


class Table(NamedTuple):
    """A table read by ``read_table``: ``X : (n, d)`` float64, ``y : (n,)`` float64 and the names."""

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_name: str | None


def load_table(
    path, target: str | None = None, max_bytes: int = MAX_BYTES, *, require_target: bool = True, dtype=None
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Read a numeric table from ``path`` (.csv or .npz) and split off its ``target`` column.

    CSV: comma separated, UTF-8, first line the column names, every later non-blank line
    one row of numbers. ``target`` names a column; None takes the last one.
    NPZ: either arrays ``X`` (n, d) and ``y`` (n,) (an optional string array
    ``feature_names`` names X's columns, else x1 … xd), or one 1-D array per column, in
    which case ``target`` names one of them (None: the last array stored).

    Returns ``X : (n, d)`` float64, ``y : (n,)`` float64, ``feature_names : list[str]``.
    With ``require_target=False`` and ``target=None`` (inputs to predict from) every column
    of a CSV or column-per-array NPZ is a feature and y is None.
    ``dtype`` (float32 or float64), when given, is the dtype the values will be cast to:
    a value beyond its range (1e39 for float32) is refused, naming the file, the line and
    the column (or the array and index), instead of becoming an infinity later.
    Raises ``ValueError`` for a missing, empty, oversized or malformed file, a cell that
    is not a finite number, a ragged row, or an unknown target.
    """
    X, y, feature_names, _ = read_table(path, target, max_bytes, require_target=require_target, dtype=dtype)
    return X, y, feature_names


def read_table(path, target: str | None = None, max_bytes: int = MAX_BYTES, *, require_target: bool = True,
               dtype=None) -> Table:
    """``load_table`` that also says which column became the target (``Table.target_name``, None if none)."""
    path = Path(path)
    dtype = None if dtype is None else as_dtype(dtype)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path}: not a file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npz"):
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; expected .csv or .npz")
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path} is {size:,} bytes, over the limit of {max_bytes:,} bytes")
    if size == 0:
        raise ValueError(f"{path} is empty")
    split = target is not None or require_target
    if suffix == ".csv":
        return _load_csv(path, target, split, dtype)
    return _load_npz(path, target, max_bytes, split, dtype)


def _split_target(header: list[str], columns: np.ndarray, target, path, split: bool = True) -> Table:
    """Split ``columns : (n, c)`` into features and the column named ``target`` (all features if not ``split``)."""
    if not split:
        return Table(np.ascontiguousarray(columns), None, list(header), None)
    if target is None:
        target = header[-1]
    if target not in header:
        raise ValueError(f"{path} has no column {target!r}; columns: {', '.join(header)}")
    if len(header) < 2:
        raise ValueError(f"{path} has only the target column {target!r}; it needs at least one feature column")
    j = header.index(target)
    keep = [k for k in range(len(header)) if k != j]
    return Table(np.ascontiguousarray(columns[:, keep]), columns[:, j].copy(), [header[k] for k in keep], target)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _beyond(a: np.ndarray, dtype: np.dtype | None) -> tuple | None:
    """The index of ``a``'s first value larger in magnitude than ``dtype``'s largest finite
    number, or None (also for ``dtype`` None): cast to ``dtype`` it would become an infinity."""
    if dtype is None:
        return None
    bad = np.abs(a) > np.finfo(dtype).max
    return tuple(int(i) for i in np.argwhere(bad)[0]) if bad.any() else None


def _range_message(dtype: np.dtype) -> str:
    return f"beyond the range of {dtype.name} (largest magnitude {float(np.finfo(dtype).max):.8g})"


def _load_csv(path: Path, target, split: bool, dtype: np.dtype | None) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.start} cannot be decoded)") from None
    except OSError as exc:
        raise ValueError(f"{path} cannot be read ({exc.strerror or exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValueError(f"{path} line {reader.line_num}: {exc}") from None
    if not rows:
        raise ValueError(f"{path} is empty")
    header_line, header = rows[0]
    header = [name.strip() for name in header]
    if all(_is_number(name) for name in header):
        raise ValueError(f"{path} line {header_line}: expected a header row of column names, found numbers")
    for k, name in enumerate(header, start=1):
        if not name:
            raise ValueError(f"{path} line {header_line}: column {k} of the header has no name")
        if header.index(name) != k - 1:
            raise ValueError(f"{path} line {header_line}: column name {name!r} appears twice")
    if len(rows) == 1:
        raise ValueError(f"{path} has a header but no data rows")
    columns = np.empty((len(rows) - 1, len(header)))
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise ValueError(f"{path} line {line}: expected {len(header)} cells, found {len(row)}")
        try:
            columns[i] = [float(cell) for cell in row]
        except ValueError:
            for k, cell in enumerate(row):
                _parse_cell(cell.strip(), path, line, header[k])
    if not np.isfinite(columns).all():
        i, k = np.argwhere(~np.isfinite(columns))[0]
        line, row = rows[1 + i]
        _parse_cell(row[k].strip(), path, line, header[k])
    bad = _beyond(columns, dtype)
    if bad is not None:
        line, row = rows[1 + bad[0]]
        raise ValueError(f"{path} line {line}, column {header[bad[1]]!r}: {row[bad[1]].strip()!r} is "
                         f"{_range_message(dtype)}")
    return _split_target(header, columns, target, path, split)


def _parse_cell(cell: str, path: Path, line: int, column: str) -> float:
    """``float(cell)``, or the one-line ``ValueError`` that says where and why it is not a number."""
    where = f"{path} line {line}, column {column!r}"
    if not cell:
        raise ValueError(f"{where}: missing value (empty cell)")
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{where}: {cell!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{where}: {cell!r} is not a finite number")
    return value


def _load_npz(path: Path, target, max_bytes: int, split: bool, dtype: np.dtype | None) -> Table:
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a valid .npz file (not a zip archive)")
    arrays = read_npz(path, max_bytes, ".npz file")
    if not arrays:
        raise ValueError(f"{path} holds no arrays")
    if "X" in arrays and "y" in arrays:
        return _npz_xy(path, arrays, target, dtype)
    return _npz_columns(path, arrays, target, split, dtype)


def _numeric(path: Path, name: str, a: np.ndarray, dtype: np.dtype | None) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{path} array {name!r} has dtype {a.dtype}; expected numbers")
    a = a.astype(np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{path} array {name!r} contains NaN or Inf (a missing value?)")
    bad = _beyond(a, dtype)
    if bad is not None:
        raise ValueError(f"{path} array {name!r} at index {bad}: {a[bad]!r} is {_range_message(dtype)}")
    return a


def _npz_xy(path: Path, arrays: dict, target, dtype: np.dtype | None) -> Table:
    if target not in (None, "y"):
        raise ValueError(f"{path} stores arrays 'X' and 'y', so the target is 'y', not {target!r}")
    X = _numeric(path, "X", arrays["X"], dtype)
    y = _numeric(path, "y", arrays["y"], dtype)
    if X.ndim == 1:
        X = X[:, None]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"{path}: expected X of shape (n, d) and y of shape (n,), got {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise ValueError(f"{path}: X has {len(X)} rows but y has {len(y)}")
    if len(y) == 0:
        raise ValueError(f"{path} has no rows")
    names = [f"x{k}" for k in range(1, X.shape[1] + 1)]
    if "feature_names" in arrays:
        given = arrays["feature_names"]
        if given.dtype.kind not in "US" or given.shape != (X.shape[1],):
            raise ValueError(
                f"{path}: feature_names must be {X.shape[1]} strings, got {given.dtype} of shape {given.shape}"
            )
        names = [str(v) for v in given.tolist()]
    return Table(np.ascontiguousarray(X), y, names, "y")


def _npz_columns(path: Path, arrays: dict, target, split: bool, dtype: np.dtype | None) -> Table:
    header = list(arrays)
    cols = [_numeric(path, name, arrays[name], dtype) for name in header]
    for name, col in zip(header, cols, strict=True):
        if col.ndim != 1:
            raise ValueError(
                f"{path} array {name!r} has shape {col.shape}; store arrays 'X' and 'y', or one 1-D array per column"
            )
        if len(col) != len(cols[0]):
            raise ValueError(f"{path} array {name!r} has {len(col)} rows but {header[0]!r} has {len(cols[0])}")
    if len(cols[0]) == 0:
        raise ValueError(f"{path} has no rows")
    return _split_target(header, np.column_stack(cols), target, path, split)
