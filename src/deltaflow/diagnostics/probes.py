"""Gradient-flow probes: per-layer statistics of backpropagation, measured while training.

The seed's vanishing-gradient argument (section 7) is a product along the δ recursion::

    δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l)),      ∂L/∂W^(l) = δ^(l) (a^(l−1))ᵀ

so ‖δ^(l)‖ shrinks (or grows) by the factors ‖W‖ and σ'(z) of every layer above l.
``GradientProbe`` measures those factors and their result on the real network, from
the values the layers cached in the latest forward and backward pass (no extra pass).
(``maps`` draws each hidden unit's a_j(x) and ∂ŷ_k/∂a_j(x) over a grid of inputs.)

Statistics are per unit layer (``units.unit_layers``).
"""

from __future__ import annotations

import math

import numpy as np

from deltaflow._checks import integer
from deltaflow._kernels import relu_activity
from deltaflow.diagnostics.units import Unit, unit_layers
from deltaflow.nn.activations import Activation, ReLU
from deltaflow.nn.layers import Layer

__all__ = ["DEAD", "SATURATED", "GradientProbe", "STATS", "first_nonfinite"]

# for an activation that saturates, σ'(z) < SATURATION · max σ' counts as saturated (max σ'
# = 1/4 for sigmoid, 1 for tanh); a unit of one that can die is dead when z ≤ 0 for the
# whole batch (ReLU: output and gradient 0)
SATURATION = 0.01
# per-unit marks (``GradientProbe.unit_marks``): bit values of one byte per unit
SATURATED, DEAD = 1, 2

STATS = (
    "grad_W_norm",
    "grad_b_norm",
    "delta_norm",
    "attenuation",
    "sigma_prime_mean",
    "sigma_prime_product",
    "W_norm",
    "update_ratio",
    "saturated_pct",
    "dead_pct",
    "nonfinite",
)
_MEAN, _PRODUCT = STATS.index("sigma_prime_mean"), STATS.index("sigma_prime_product")
# nonfinite codes per unit: 0 finite, 1 a forward value (W, b, z or a), 2 only δ or a gradient
FINITE, FORWARD, BACKWARD = 0, 1, 2


def _norm(x: np.ndarray) -> float:
    """‖x‖ (Frobenius) = √(Σ x_ij²), the sum taken as ``np.linalg.norm`` takes it (one dot)."""
    return math.sqrt(float(np.vdot(x, x)))


def _all_finite(x: np.ndarray) -> bool:
    return bool(np.isfinite(x).all())


def _finite(x: np.ndarray) -> bool:
    # one dot product (x·x, as _norm) decides the common case; an overflow of finite values
    # falls through to the full check
    return math.isfinite(np.vdot(x, x)) or _all_finite(x)


def first_nonfinite(codes: np.ndarray) -> int | None:
    """The unit where non-finite values started, from one record's ``nonfinite`` codes:
    the first unit in forward order with a non-finite forward value (W, b, z or a), else
    the first from the output down with a non-finite δ or gradient; None if all are finite."""
    codes = np.asarray(codes)
    forward = np.flatnonzero(codes == FORWARD)
    if forward.size:
        return int(forward[0])
    backward = np.flatnonzero(codes == BACKWARD)
    return int(backward[-1]) if backward.size else None


class GradientProbe:
    """Per-unit-layer gradient-flow statistics, recorded every ``every``-th call.

    Call ``record(step)`` once after every optimiser step, or use the probe as a training
    callback (``trainer.callbacks.append(GradientProbe(trainer.net))``: ``on_step`` calls
    ``record``); calls 0, k, 2k, … are recorded, so n calls give
    ⌈n/k⌉ records. Each record reads the caches of the latest forward/backward pass and
    stores, for every unit layer l = 1 … L (arrays of shape (n_layers,), float64):

    ``grad_W_norm``, ``grad_b_norm``
        ‖∂L/∂W^(l)‖, ‖∂L/∂b^(l)‖ (Frobenius), from ``p.grad`` as the optimiser used it
        (after any penalty or clipping the loop added); NaN without a bias.
    ``delta_norm``
        ‖δ^(l)‖ = ‖∂L/∂Z^(l)‖ over the whole batch, Z^(l) : (batch, n_l) the Dense output.
    ``attenuation``
        log10(‖δ^(l)‖ / ‖δ^(L)‖): 0 at the output, −k where the signal is 10^k smaller.
    ``sigma_prime_mean``
        s_l = mean over batch and units of σ'(z^(l)), z^(l) the activation's input (after
        any norm layer); 1 for a linear unit.
    ``sigma_prime_product``
        Π_{m=l}^{L} s_m, the σ' factors of the seed's ∂L/∂W^(1) ∝ σ'(z^(1))···σ'(z^(L)).
    ``W_norm``
        ‖W^(l)‖ after the step.
    ``update_ratio``
        ‖ΔW^(l)‖ / ‖W^(l)_before‖ for the one optimiser step being recorded: W is copied at
        the call before each recorded call (and when the probe is made), so ΔW is exactly
        that step's update, whatever the optimiser; NaN if the copy is missing.
    ``saturated_pct``
        Sigmoid and tanh: % of units with σ'(z_ij) < 1% of max σ' for *every* example i
        of the batch (the unit passes almost no gradient); NaN for other activations.
    ``dead_pct``
        ReLU, LeakyReLU, ELU: % of units with z_ij ≤ 0 for every example (a ReLU unit's
        output and gradient are then 0 for the whole batch); NaN for other activations.
    ``nonfinite``
        0 finite, 1 a forward value (W, b, z, a) is NaN/inf, 2 only δ or a gradient is;
        ``first_nonfinite`` turns these into the unit where it started.
    ``grad_hist``
        counts of log10|∂L/∂W^(l)_ij| per unit, shape (n_layers, n_bins + 3): column 0
        below the first edge (zeros included), then the half-open bins [e_i, e_{i+1}),
        then ≥ the last edge (inf included), then NaN. Each row sums to W^(l).size.

    ``unit_marks`` (an attribute, not a record: the latest ``measure()``'s) holds per unit
    layer a uint8 array (n_out,), one byte per unit: ``SATURATED`` (1) when that unit
    counts towards ``saturated_pct``, ``DEAD`` (2) when it counts towards ``dead_pct``; 0
    before the first measurement.

    Parameters
    ----------
    net : the network (any Layer; containers are walked). Its Dense layers keep a
        reference to the δ their backward receives (``Dense.keep_delta``) until ``detach()``.
    every : record every ``every``-th call.
    bins : increasing edges of log10|∂L/∂W| (default −12 … 2 in 28 bins).
    """

    def __init__(self, net: Layer, every: int = 10, bins=None):
        self.every = integer(every, "GradientProbe every")
        edges = np.linspace(-12.0, 2.0, 29) if bins is None else np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
            raise ValueError(f"GradientProbe bins must be at least 2 increasing log10 edges, got {bins!r}")
        self.net = net
        self.bin_edges = edges
        self.units = unit_layers(net)
        self.names = [u.name for u in self.units]
        self._thresholds = {}  # 10^edges per dtype, compared with |g| directly (no log needed)
        self.steps: list = []
        self.history: dict[str, list[np.ndarray]] = {k: [] for k in (*STATS, "grad_hist")}
        self.calls = 0
        self._attached = True
        for u in self.units:
            # δ^(l) = ∂L/∂Z^(l) is the array Dense.backward receives: it keeps a reference
            # (a δ already kept, for another probe, is the latest pass's: this probe reads it too)
            u.dense.keep_delta += 1
        self._W_before = [u.dense.W.value.copy() for u in self.units]
        self._scratch = [np.empty_like(w) for w in self._W_before]  # ΔW, then |∂L/∂W| sorted
        self.unit_marks = [np.zeros(u.dense.W.value.shape[0], dtype=np.uint8) for u in self.units]
        self._have_before = True

    # -- the callback side -------------------------------------------------------------

    def record(self, step=None) -> dict | None:
        """Count one optimiser step; on every ``every``-th call measure and store a record.

        ``step`` labels the record (default: the call count). Returns the measured
        statistics (as ``measure()``) when it recorded, else None.
        """
        call = self.calls
        self.calls += 1
        out = None
        if call % self.every == 0:
            out = self.measure()
            self.steps.append(call if step is None else step)
            for k, v in out.items():
                self.history[k].append(v)
        if self.calls % self.every == 0:
            self.mark()
        else:
            self._have_before = False
        return out

    def mark(self) -> None:
        """Copy every W now: the next ``measure()``'s update_ratio is ‖ΔW‖/‖W_before‖ of the
        steps taken since (one, when called just before a step)."""
        for buf, u in zip(self._W_before, self.units):
            np.copyto(buf, u.dense.W.value)
        self._have_before = True

    def on_step(self, trainer, step: int, loss: float) -> None:
        """``train.Callback`` hook: record ``trainer.net`` (the probe's own network)."""
        if trainer.net is not self.net:
            raise ValueError("GradientProbe: the trainer's network is not the one the probe is attached to")
        self.record(step)

    def on_epoch(self, trainer, epoch: int, row: dict) -> None:
        return None

    # -- measuring ----------------------------------------------------------------------

    def measure(self) -> dict[str, np.ndarray]:
        """The statistics of the latest forward/backward pass, without storing them.

        Returns {stat: (n_layers,) float64} and ``grad_hist`` : (n_layers, n_bins + 3).
        """
        hist = np.empty((len(self.units), self.bin_edges.size + 2), dtype=np.int64)
        with np.errstate(all="ignore"):
            rows = [
                self._unit_stats(u, self._W_before[i] if self._have_before else None, self._scratch[i], hist[i],
                                 self.unit_marks[i])
                for i, u in enumerate(self.units)
            ]
            product = 1.0
            for row in reversed(rows):  # Π_{m≥l} s_m: a cumulative product from the output back
                product *= row[_MEAN]
                row[_PRODUCT] = product
            s = dict(zip(STATS, np.array(rows).T))  # one (n_layers,) row per statistic
            s["attenuation"][:] = np.log10(s["delta_norm"] / s["delta_norm"][-1])
        s["grad_hist"] = hist
        return s

    def _unit_stats(self, u: Unit, W_before, scratch: np.ndarray, hist_row: np.ndarray,
                    marks: np.ndarray) -> list[float]:
        """One unit's statistics in ``STATS`` order (attenuation and product filled later);
        writes its histogram into ``hist_row`` and its units' marks into ``marks`` : (n_out,).
        ``scratch`` is a work array shaped like W."""
        delta = u.dense.__dict__.get("_delta")
        if delta is None:
            raise ValueError(f"GradientProbe: no backward pass through {u.name} since the probe was attached")
        W, b = u.dense.W, u.dense.b
        w_norm, g_norm, d_norm = _norm(W.value), _norm(W.grad), _norm(delta)
        # a finite norm proves a finite array; only a non-finite one needs the full check
        fwd_ok = math.isfinite(w_norm) or _all_finite(W.value)
        bwd_ok = (math.isfinite(g_norm) or _all_finite(W.grad)) and (math.isfinite(d_norm) or _all_finite(delta))
        b_norm = math.nan
        if b is not None:
            b_norm = _norm(b.grad)
            fwd_ok = fwd_ok and _finite(b.value)
            bwd_ok = bwd_ok and (math.isfinite(b_norm) or _all_finite(b.grad))
        ratio = math.nan
        if W_before is not None:
            step, before = _norm(np.subtract(W.value, W_before, out=scratch)), _norm(W_before)
            ratio = step / before if before > 0 else (math.inf if step > 0 else math.nan)
        mean, saturated, dead, act_ok = self._activation_stats(u.act, marks)
        code = FINITE if fwd_ok and act_ok else FORWARD
        if code == FINITE and not bwd_ok:
            code = BACKWARD
        self._histogram(W.grad, g_norm, hist_row, scratch)
        return [g_norm, b_norm, d_norm, math.nan, mean, math.nan, w_norm, ratio, saturated, dead, code]

    @staticmethod
    def _activation_stats(act: Activation | None, marks: np.ndarray) -> tuple[float, float, float, bool]:
        """(mean σ', saturated %, dead %, z finite) of one unit's activation; writes the
        per-unit ``SATURATED``/``DEAD`` bytes whose share the percentages are into ``marks``."""
        marks[:] = 0
        if act is None:
            return 1.0, math.nan, math.nan, True
        z = act._z
        ok = _finite(z)  # every activation maps a finite z to a finite a
        if type(act) is ReLU and ok:
            # σ' is the indicator of z > 0 ⇔ a > 0: its mean is a count, and a unit is dead
            # when no example has a > 0 (for a finite z, the same as max_i z_ij ≤ 0)
            a = act._a
            n_active, alive = relu_activity(a)
            np.logical_not(alive, out=marks, casting="unsafe")
            marks *= DEAD
            return n_active / a.size, math.nan, 100.0 * (a.shape[1] - np.count_nonzero(alive)) / a.shape[1], ok
        d = act._local_grad()
        mean = float(d.sum(dtype=np.float64)) / d.size
        saturated = dead = math.nan
        if act.saturates:
            np.less(d.max(axis=0), SATURATION * act.max_derivative, out=marks, casting="unsafe")
            saturated = 100.0 * np.count_nonzero(marks) / d.shape[1]
            marks *= SATURATED
        elif act.can_die:
            np.less_equal(z.max(axis=0), 0, out=marks, casting="unsafe")
            dead = 100.0 * np.count_nonzero(marks) / z.shape[1]
            marks *= DEAD
        return mean, saturated, dead, ok

    def _histogram(self, g: np.ndarray, g_norm: float, counts: np.ndarray, work: np.ndarray) -> None:
        """Write [under, bins…, over, nan] counts of log10|g| against ``bin_edges`` into ``counts``.

        |g| is compared with 10^edges directly (no logarithm): sorted once, the number of
        entries below each edge is a binary search, and the bin counts are its differences.
        (Sorting 8192 values takes ~25–30 µs. A compiled loop counting below each edge
        measured slower; binning by the float's exponent bits, 27 µs against 31 in float32,
        not enough to pay for its per-dtype tables and the fallback it needs when two edges
        share an octave.)
        """
        t = self._thresholds.get(g.dtype)
        if t is None:
            t = self._thresholds[g.dtype] = (10.0**self.bin_edges).astype(g.dtype)
        v = np.abs(g, out=work).reshape(-1)
        v.sort()  # in place; NaN sorts last, above every edge
        below = v.searchsorted(t, side="left")  # entries with |g| < 10^e_i
        nan = 0 if math.isfinite(g_norm) else int(np.count_nonzero(np.isnan(v)))
        counts[0] = below[0]
        np.subtract(below[1:], below[:-1], out=counts[1:-2])
        counts[-2] = v.size - below[-1] - nan
        counts[-1] = nan

    # -- reading the records ------------------------------------------------------------

    def latest(self) -> dict | None:
        """The last record: {"step", "names", "first_nonfinite", stat: (n_layers,) …}; None before any."""
        if not self.steps:
            return None
        out = {"step": self.steps[-1], "names": self.names}
        out.update((k, v[-1]) for k, v in self.history.items())
        out["first_nonfinite"] = first_nonfinite(out["nonfinite"])
        return out

    def as_arrays(self) -> dict[str, np.ndarray]:
        """Every record stacked: ``steps`` (n_records,), each stat (n_records, n_layers),
        ``grad_hist`` (n_records, n_layers, n_bins + 3), ``bin_edges`` (n_bins + 1,)."""
        n = len(self.units)
        out = {"steps": np.asarray(self.steps), "bin_edges": self.bin_edges}
        for k, v in self.history.items():
            empty = (0, n, self.bin_edges.size + 2) if k == "grad_hist" else (0, n)
            out[k] = np.stack(v) if v else np.zeros(empty)
        return out

    def detach(self) -> None:
        """Stop the Dense layers keeping δ for this probe (they drop the δ they kept once no
        probe wants it). Probes on the same network may detach in any order; twice is harmless."""
        if not self._attached:
            return
        self._attached = False
        for u in self.units:
            u.dense.keep_delta -= 1
            if not u.dense.keep_delta:
                del u.dense.keep_delta  # back to the class's 0
                u.dense.__dict__.pop("_delta", None)

    def __enter__(self) -> GradientProbe:
        return self

    def __exit__(self, *exc) -> None:
        self.detach()
