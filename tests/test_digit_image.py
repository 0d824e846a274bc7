"""A drawn digit's 64 inputs: ``deltaflow.data.digit_image`` and the page's ``digitdraw.js``
count the same 4×4 blocks, and a real digit's row survives upsampling and downsampling."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from deltaflow.data import digits
from deltaflow.data.digit_image import downsample, upsample

DIGITDRAW = Path(__file__).resolve().parent.parent / "src/deltaflow/web/static/js/digitdraw.js"
NODE = shutil.which("node")


def run_js(bitmaps: list[np.ndarray], strokes: list[list[float]] = ()) -> dict:
    """digitdraw.js in Node: its downsample of each bitmap, and the bitmap (and its downsample)
    of each stroke [x0, y0, x1, y1]."""
    code = (
        f"import {{ readFileSync }} from 'node:fs';"
        f"import {{ downsample, newBitmap, stroke }} from {json.dumps(DIGITDRAW.as_uri())};"
        "const input = JSON.parse(readFileSync(0, 'utf8'));"
        "const counts = input.bitmaps.map((b) => downsample(Uint8Array.from(b)));"
        "const drawn = input.strokes.map(([x0, y0, x1, y1]) => { const b = newBitmap(); stroke(b, x0, y0, x1, y1);"
        "  return { bitmap: Array.from(b), x: downsample(b) }; });"
        "process.stdout.write(JSON.stringify({ counts, drawn }));"
    )
    payload = json.dumps({"bitmaps": [b.astype(int).ravel().tolist() for b in bitmaps], "strokes": list(strokes)})
    out = subprocess.run([NODE, "--input-type=module", "-e", code], input=payload, capture_output=True,
                         text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_downsample_counts_each_block():
    bitmap = np.zeros((32, 32), dtype=bool)
    bitmap[0:4, 0:4] = True  # block (0, 0) full
    bitmap[5, 9] = bitmap[6, 10] = True  # block (1, 2): two pixels
    bitmap[31, 31] = True  # block (7, 7): one
    x = downsample(bitmap)
    assert x.shape == (64,) and x.dtype == np.float64
    expected = np.zeros(64)
    expected[0], expected[8 * 1 + 2], expected[63] = 16, 2, 1
    np.testing.assert_array_equal(x, expected)
    assert downsample(np.ones((32, 32), dtype=bool)).tolist() == [16.0] * 64


def test_upsampled_real_digits_give_back_their_rows():
    X, _ = digits()
    for row in X[:200]:
        bitmap = upsample(row)
        assert bitmap.shape == (32, 32) and bitmap.dtype == bool
        assert bitmap.sum() == row.sum()
        np.testing.assert_array_equal(downsample(bitmap), row)


def test_bad_bitmaps_are_refused():
    with pytest.raises(ValueError, match="32, 32"):
        downsample(np.zeros((8, 8), dtype=bool))
    with pytest.raises(ValueError, match="binary"):
        downsample(np.full((32, 32), 2))
    with pytest.raises(ValueError, match="whole numbers"):
        upsample(np.full(64, 17.0))


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_page_and_engine_downsample_alike():
    X, _ = digits()
    rng = np.random.default_rng(0)
    bitmaps = [upsample(row) for row in X[:20]] + [rng.random((32, 32)) < p for p in (0.05, 0.3, 0.5, 0.9)]
    strokes = [[16, 4, 16, 28], [3.2, 5.7, 27.9, 30.1], [0, 0, 31.9, 0], [10, 10, 10, 10]]
    out = run_js(bitmaps, strokes)
    for bitmap, counts in zip(bitmaps, out["counts"], strict=True):
        np.testing.assert_array_equal(np.array(counts, dtype=np.float64), downsample(bitmap))
    for row, counts in zip(X[:20], out["counts"][:20], strict=True):  # the page also gives back the rows
        np.testing.assert_array_equal(counts, row)
    for drawn in out["drawn"]:
        bitmap = np.array(drawn["bitmap"], dtype=bool).reshape(32, 32)
        assert bitmap.any()
        np.testing.assert_array_equal(drawn["x"], downsample(bitmap))
    # a vertical stroke along x = 16 with the pen's radius 2.8: the pixel centres 13.5 … 18.5 are within it
    vertical = np.array(out["drawn"][0]["bitmap"], dtype=bool).reshape(32, 32)
    assert set(np.nonzero(vertical.any(axis=0))[0]) == {13, 14, 15, 16, 17, 18}
