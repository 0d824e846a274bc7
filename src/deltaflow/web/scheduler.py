"""The server's training workers: every session's ticks and frames run on a few threads of
their own, the session served least first.

Training is CPU work without end (a session may play for hours). It runs here, not in the
event loop's default executor, so that executor stays free for what must answer at once:
client messages, a new connection's ``hello`` (its session builds data in a thread) and the
downloads. Each job is one session's tick or frame, short by construction (a tick stops after
``Limits.tick_budget_s``, checked between steps; ``admission`` bounds a step and a frame).

Fairness is by worker time, as in a fair-share scheduler: a waiting job's turn is its session's
worker seconds so far, and a free worker takes the smallest. A light session playing beside
heavy ones thus gets the next free worker each time its tick is due, and heavy sessions share
the rest evenly. A session's count never starts below the turn of the job last taken, so one
that comes back from a pause (or is new) cannot hold the workers to catch up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable


class Scheduler:
    """``workers`` threads (default: the CPU count) running jobs least-served session first.

    Threads start when jobs wait and none is idle, and end after ``idle_s`` without work.
    """

    def __init__(self, workers: int | None = None, idle_s: float = 30.0):
        self.workers = workers or os.cpu_count() or 1
        self.idle_s = idle_s
        self._cv = threading.Condition()
        self._queue: list[tuple] = []  # heap of (turn, order, key, fn, args, future)
        self._served: dict[str, float] = {}  # worker seconds per session key
        self._clock = 0.0  # the turn of the job last taken
        self._order = itertools.count()  # equal turns: first come, first served
        self._threads = self._idle = 0

    async def run(self, key: str, fn: Callable, *args):
        """``fn(*args)`` on a worker when session ``key``'s turn comes; its result. Cancelled
        while it waits, the job never runs; while it runs, it runs to its end (it is short)."""
        future = concurrent.futures.Future()
        with self._cv:
            turn = max(self._served.setdefault(key, self._clock), self._clock)
            heapq.heappush(self._queue, (turn, next(self._order), key, fn, args, future))
            if len(self._queue) > self._idle and self._threads < self.workers:
                self._threads += 1
                threading.Thread(target=self._work, name="deltaflow-training", daemon=True).start()
            self._cv.notify()
        return await asyncio.wrap_future(future)

    def forget(self, key: str) -> None:
        """Drop session ``key``'s count (its session closed)."""
        with self._cv:
            self._served.pop(key, None)

    def _next(self):
        """The least-served waiting job, or None once idle for ``idle_s`` (the thread then ends)."""
        with self._cv:
            while not self._queue:
                self._idle += 1
                woken = self._cv.wait(self.idle_s)
                self._idle -= 1
                if not woken and not self._queue:
                    self._threads -= 1
                    return None
            job = heapq.heappop(self._queue)
            self._clock = max(self._clock, job[0])
            return job

    def _work(self) -> None:
        while (job := self._next()) is not None:
            turn, _, key, fn, args, future = job
            if not future.set_running_or_notify_cancel():
                continue  # its caller stopped waiting (the socket closed)
            t0 = time.perf_counter()
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # the caller's await raises it; the worker goes on
                future.set_exception(exc)
            with self._cv:
                if key in self._served:  # not forgotten while it ran
                    self._served[key] = turn + time.perf_counter() - t0
