"""Checks shared by the experiment tests."""

import json

from deltaflow.experiments.base import to_json_ready


def assert_png(path) -> None:
    """A real PNG with a drawn figure in it (an empty canvas compresses far below 10 kB)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def reloaded(result: dict) -> dict:
    """The result as strict JSON would bring it back (NaN and ±inf as None)."""
    return json.loads(json.dumps(to_json_ready(result), allow_nan=False))
