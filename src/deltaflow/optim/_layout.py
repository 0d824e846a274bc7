"""Memory layout of an optimiser's update: small params packed back to back, large ones
updated block by block, on every core. None of it changes a number: every update rule is
elementwise, so a flat group, a block or a thread's share computes what the whole param
would.

- Small params (under ``_SMALL_BYTES``) of one dtype are updated together as one flat
  array (``Group``): a dozen NumPy calls per param cost more than their arithmetic does.
  ``pack`` lays their ``p.value`` and ``p.grad`` out as views of one flat array each, so
  the group updates that storage in place; otherwise the group gathers copies before each
  step and scatters θ back after it.
- A large param is updated in blocks of ``_BLOCK_BYTES`` (``apply``): an update makes a
  dozen passes over θ, g and the state, and block by block they stay in cache.
- A param of at least ``_THREADED_BLOCKS`` blocks shares its blocks among the cores (NumPy
  releases the GIL inside each operation).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from deltaflow.nn.layers import Param

# per array in a block of ``apply``: with θ, g, work and up to three state arrays the
# working set stays within a core's L2 cache
_BLOCK_BYTES = 128 * 1024
# params below this size are updated together as one flat array (per dtype)
_SMALL_BYTES = 64 * 1024
# below this many blocks, handing work to a thread costs more than it saves
_THREADED_BLOCKS = 8
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()

Update = Callable[[np.ndarray, np.ndarray, dict, np.ndarray], None]


def _cores() -> int:
    """The cores this thread may run on, read at each call: a process pinned after import
    (``taskset``, ``os.sched_setaffinity``; the benchmark's ``--threads 1``) uses no more."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _workers(cores: int) -> ThreadPoolExecutor:
    """The shared worker threads, ``cores − 1`` of them (made again in a forked child, which
    inherits no threads, or when the cores changed). Several threads may train at once (the
    simulator's sessions): one of them makes the pool."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != (os.getpid(), cores):
            # a replaced pool is not shut down (another thread may be submitting to it); its
            # idle threads exit once it is collected
            _pool = ((os.getpid(), cores), ThreadPoolExecutor(max_workers=cores - 1, thread_name_prefix="deltaflow-optim"))
        return _pool[1]


def writable_flat(*arrays: np.ndarray) -> bool:
    """Whether ``reshape(-1)`` of each array is a view, so writes through it land in place."""
    return all(a.flags.c_contiguous for a in arrays)


def owned(a: np.ndarray) -> np.ndarray:
    """``a`` if it owns its writable memory, else a copy that does."""
    return a if a.base is None and a.flags.writeable else np.array(a)


def small_groups(params: list[Param]) -> list[list[int]]:
    """Indices of the params updated together as one flat group: per dtype, those under
    ``_SMALL_BYTES``, where there are at least two."""
    small: dict[np.dtype, list[int]] = {}
    for i, p in enumerate(params):
        if p.value.nbytes < _SMALL_BYTES:
            small.setdefault(p.value.dtype, []).append(i)
    return [index for index in small.values() if len(index) > 1]


def pack(group: list[Param]) -> None:
    """Lay ``group``'s params out back to back: each ``p.value`` and ``p.grad`` becomes a view
    of one flat value array and one flat gradient array, holding the same numbers.

    Only params that own their arrays are moved. A param whose value or grad is already a
    view (laid out by another optimiser, or the caller's slice of a larger array) keeps it:
    the group then gathers and scatters instead, and whoever holds the larger array still
    sees every update.
    """
    if any(p.value.base is not None or p.grad.base is not None for p in group):
        return
    n = sum(p.value.size for p in group)
    values, grads = np.empty(n, group[0].value.dtype), np.empty(n, group[0].value.dtype)
    a = 0
    for p in group:
        b = a + p.value.size
        values[a:b], grads[a:b] = p.value.reshape(-1), p.grad.reshape(-1)
        p.value, p.grad = values[a:b].reshape(p.value.shape), grads[a:b].reshape(p.grad.shape)
        a = b


def _flat_base(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The 1-D array these arrays tile exactly, in order (as ``pack`` lays them out), or None."""
    base = arrays[0].base
    if base is None or base.ndim != 1 or not base.flags.c_contiguous or base.size != sum(a.size for a in arrays):
        return None
    at = base.__array_interface__["data"][0]
    for a in arrays:
        if a.base is not base or not a.flags.c_contiguous or a.__array_interface__["data"][0] != at:
            return None
        at += a.nbytes
    return base


class Group:
    """Small params of one dtype, updated as one flat array.

    Their state arrays live in one flat array per name (``state[i][k]`` of each param is
    a view of it). θ and g are flat arrays too: the params' own storage when ``pack``
    laid them out back to back; otherwise copies, gathered before each step and θ copied
    back after it.
    """

    def __init__(self, params: list[Param], states: list[dict[str, np.ndarray]]):
        self.params = params
        bounds = np.cumsum([0] + [p.value.size for p in params]).tolist()
        spans = list(zip(bounds[:-1], bounds[1:]))
        dtype = params[0].value.dtype
        theta, g = _flat_base([p.value for p in params]), _flat_base([p.grad for p in params])
        self.packed = theta is not None and g is not None
        if self.packed:
            self.theta, self.g = theta, g
        else:
            self.theta, self.g = np.empty(bounds[-1], dtype), np.empty(bounds[-1], dtype)
        self.work = np.empty(bounds[-1], dtype)
        self._l2_g = None  # g + λθ, allocated at the first step with an L2 penalty
        # where θ is a copy, each param's slice of it, copied back after a step
        self.views = [] if self.packed else [self.theta[a:b].reshape(p.value.shape)
                                             for p, (a, b) in zip(params, spans)]
        self.state = {}
        for k in states[0]:
            flat = self.state[k] = np.concatenate([s[k].reshape(-1) for s in states])
            for p, s, (a, b) in zip(params, states, spans):
                s[k] = flat[a:b].reshape(p.value.shape)

    def gather(self) -> None:
        if not self.packed:
            np.concatenate([p.value.reshape(-1) for p in self.params], out=self.theta)
            np.concatenate([p.grad.reshape(-1) for p in self.params], out=self.g)

    def scatter(self) -> None:
        if not self.packed:
            for p, view in zip(self.params, self.views):
                np.copyto(p.value, view)

    def grads(self) -> list[np.ndarray]:
        """The group's gradients, each entry once: the flat array when packed, else each param's."""
        return [self.g] if self.packed else [p.grad for p in self.params]

    def l2_grad(self, l2: float) -> np.ndarray:
        """g + λθ in a buffer of its own: g may be the params' gradients, which stay as
        backward computed them."""
        if self._l2_g is None:
            self._l2_g = np.empty_like(self.g)
        np.multiply(self.theta, l2, out=self._l2_g)
        self._l2_g += self.g
        return self._l2_g


def apply(update: Update, theta: np.ndarray, g: np.ndarray, state: dict, work: np.ndarray) -> None:
    """``update(theta, g, state, work)`` on whole arrays, or block by block on a large param."""
    if work.nbytes <= _BLOCK_BYTES or not writable_flat(theta, work, *state.values()):
        update(theta, g, state, work)
    else:
        _update_blocks(update, theta, g, state, work)


def _update_blocks(update: Update, theta, g, state, work) -> None:
    """``update`` over consecutive blocks of the flattened arrays, so that they stay in
    cache between its passes instead of streaming from memory a dozen times. Blocks are
    independent: a share of them per core, the first share on this thread."""
    n = _BLOCK_BYTES // work.itemsize
    theta, g, work = theta.reshape(-1), g.reshape(-1), work.reshape(-1)
    flat = {k: a.reshape(-1) for k, a in state.items()}

    def run(blocks: range) -> None:
        for start in blocks:
            block = slice(start, start + n)
            update(theta[block], g[block], {k: a[block] for k, a in flat.items()}, work[block])

    starts = range(0, work.size, n)
    cores = _cores() if len(starts) >= _THREADED_BLOCKS else 1
    if cores == 1:
        run(starts)
        return
    shares = [starts[i::cores] for i in range(cores)]
    pool = _workers(cores)
    pending = [pool.submit(run, share) for share in shares[1:]]
    run(shares[0])
    for f in pending:
        f.result()
