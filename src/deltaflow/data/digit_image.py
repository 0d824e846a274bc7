"""A drawn digit as the ``digits`` data set's 64 inputs, made the way the set itself was made.

The set (UCI optdigits, bundled by scikit-learn) comes from 32×32 binary bitmaps of
handwritten digits, divided into non-overlapping 4×4 blocks; each input is the number of
on pixels in its block, an integer 0–16, and the 8×8 blocks are read row by row::

    x[8·r + c] = Σ_{i=0..3} Σ_{j=0..3} bitmap[4·r + i, 4·c + j]        r, c = 0 … 7

``downsample`` does this for a bitmap the learner draws (the page's ``static/js/digitdraw.js``
computes the same numbers; a test checks that they agree). ``upsample`` goes the other way:
a bitmap whose block k has exactly x[k] pixels on, so ``downsample(upsample(x)) == x``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BITMAP", "BLOCK", "SIDE", "downsample", "upsample"]

BITMAP = 32  # pixels per side of the drawn bitmap
BLOCK = 4  # pixels per side of one block
SIDE = BITMAP // BLOCK  # blocks per side: the 8×8 image
MAX_COUNT = BLOCK * BLOCK  # 16, the largest input


def downsample(bitmap: np.ndarray) -> np.ndarray:
    """The 64 inputs of a 32×32 binary bitmap.

    bitmap : (32, 32) bool (or 0/1 integers), row 0 the top.
    Returns x : (64,) float64, x[8·r + c] the on pixels of block (r, c), each in 0 … 16.
    """
    b = np.asarray(bitmap)
    if b.shape != (BITMAP, BITMAP):
        raise ValueError(f"downsample: expected a ({BITMAP}, {BITMAP}) bitmap, got shape {b.shape}")
    if b.dtype != bool and not np.isin(b, (0, 1)).all():
        raise ValueError("downsample: the bitmap must be binary (bool, or 0 and 1)")
    # (r, i, c, j): block row, row inside it, block column, column inside it
    blocks = b.astype(np.int64).reshape(SIDE, BLOCK, SIDE, BLOCK)
    return blocks.sum(axis=(1, 3)).ravel().astype(np.float64)


def upsample(x: np.ndarray) -> np.ndarray:
    """A 32×32 bitmap whose block k has exactly x[k] pixels on (the first x[k] of the block,
    row by row), so that ``downsample(upsample(x)) == x``.

    x : (64,) integers in 0 … 16 (a row of the data set). Returns (32, 32) bool.
    """
    v = np.asarray(x, dtype=np.float64).ravel()
    if v.shape != (SIDE * SIDE,) or not np.all((v >= 0) & (v <= MAX_COUNT) & (v == np.round(v))):
        raise ValueError(f"upsample: expected {SIDE * SIDE} whole numbers in [0, {MAX_COUNT}]")
    inside = np.arange(MAX_COUNT).reshape(1, BLOCK, 1, BLOCK)  # a pixel's raster position in its block
    on = inside < v.reshape(SIDE, 1, SIDE, 1)  # (r, i, c, j)
    return on.reshape(BITMAP, BITMAP)
