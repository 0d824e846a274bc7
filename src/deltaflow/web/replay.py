"""A session's replay history: the frames it has sent, so that a client can scrub back to
an earlier step and see the network's weights, gradients, statistics and maps as they were.

The history keeps the encoded frames themselves (the bytes that went out, shared, not
copied), at most one per step (a later frame of the same step, after an edit say, replaces
it), oldest first. It is bounded by ``max_frames`` frames and ``max_bytes`` bytes
(``limits.replay_frames`` = 600 and ``limits.replay_bytes`` = 16 MiB per session): when
either is passed, every other frame is dropped (the newest kept) and from then on frames are
kept only ``stride`` steps apart (the newest always, replacing the one before it while the
two are closer), so the history keeps covering the whole run at an even spacing that
doubles with each thinning. A frame alone larger than ``max_bytes`` is not kept. A new
config, ``reset`` or ``regenerate`` clears it (``Session.build``).
"""

from __future__ import annotations

import bisect


class History:
    """The recorded frames of one run: ``steps`` (strictly increasing) and their frames."""

    def __init__(self, max_frames: int, max_bytes: int):
        self.max_frames, self.max_bytes = max_frames, max_bytes
        self.clear()

    def clear(self) -> None:
        self.steps: list[int] = []
        self.frames: list[bytes] = []
        self.nbytes = 0  # Σ len(frames)
        self.stride = 1  # steps between kept frames (all but the newest)

    def add(self, step: int, frame: bytes) -> None:
        """Record ``frame``, built at optimiser step ``step``, then thin to the bounds."""
        if len(frame) > self.max_bytes:
            return
        # the newest goes when this one is of its step (or earlier), or still within a stride of its predecessor
        while self.steps and (self.steps[-1] >= step
                              or len(self.steps) > 1 and self.steps[-1] - self.steps[-2] < self.stride):
            self._drop_newest()
        self.steps.append(step)
        self.frames.append(frame)
        self.nbytes += len(frame)
        while len(self.frames) > self.max_frames or self.nbytes > self.max_bytes:
            self._thin()

    def _drop_newest(self) -> None:
        self.steps.pop()
        self.nbytes -= len(self.frames.pop())

    def _thin(self) -> None:
        """Drop every other frame, the newest kept; the stride at least doubles (every gap
        left is the sum of two before)."""
        first = (len(self.frames) - 1) % 2
        self.steps, self.frames = self.steps[first::2], self.frames[first::2]
        self.nbytes = sum(map(len, self.frames))
        gaps = [b - a for a, b in zip(self.steps, self.steps[1:])]
        self.stride = max(2 * self.stride, min(gaps, default=1))

    def at(self, step: int | None) -> tuple[int, bytes]:
        """(recorded step, its frame) of the newest frame recorded at or before ``step``
        (before the oldest: the oldest; None: the newest). Raises ``ValueError`` when empty."""
        if not self.frames:
            raise ValueError("no frame has been recorded yet")
        i = len(self.steps) - 1 if step is None else max(0, bisect.bisect_right(self.steps, step) - 1)
        return self.steps[i], self.frames[i]
