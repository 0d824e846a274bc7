"""Training a session: the worker's step loop, the probe statistics of a tick and its alarms.

Training goes through ``Trainer.epoch_steps``, the generator ``fit`` runs on, so a session
that trains whole epochs of an unedited config has ``fit(config)``'s history bit for bit.
The per-step work is the training step, one appended loss point and ``grew``'s few float
operations on the step's gradient norm; the probe statistics are measured once per tick, on
its last step (``GradientProbe.mark`` just before that step gives the step's own ‖ΔW‖/‖W‖).

Slowing down near an alarm: a run that blows up does so within a few steps (in the exploding
preset ‖g‖ goes 1.8, 14, 82, 4540, 7·10¹², NaN), inside one tick of ``steps_per_frame`` steps.
So every step's global gradient norm g = ‖∂L/∂θ‖ is compared with its running level m (an
exponential average, m ← m + (g − m)/8): a g above both GROWTH · m and NEAR_EXPLODING ends the
tick at that step and puts the session in slow mode, one step per tick at SLOWED_FPS frames a
second (frame flag SLOWED), until SETTLE_STEPS steps in a row without such growth. Both
bounds matter: batch-to-batch noise makes g jump 4–30× in healthy runs (the default run, the
20-layer presets), but there g stays far below EXPLODING_NORM; a regression on large targets
may have g above NEAR_EXPLODING all along, but not growing.
"""

from __future__ import annotations

import math
import time

import numpy as np

from deltaflow.diagnostics.probes import STATS, first_nonfinite
from deltaflow.nn.network import walk
from deltaflow.optim.clip import grad_norm
from deltaflow.web import frames as F

GROWTH = 4.0  # g over this many times its running level is fast growth ...
NEAR_EXPLODING = F.EXPLODING_NORM / 32  # ... once it is within 1.5 decades of the exploding alarm
LEVEL_RATE = 1 / 8  # of m's exponential average: about the last 8 steps
SETTLE_STEPS = 8  # steps without fast growth that end the slow mode
SLOWED_FPS = 4.0  # frames a second in slow mode: each step stays on screen a quarter of a second


def finished(s) -> bool:
    """The run has trained its planned epochs (or ``steps``)."""
    c, t = s.train_config, s.trainer
    return t.epoch >= t.planned_epochs or (c.steps is not None and t.step >= c.steps)


def train(s, n: float, deadline: float = math.inf) -> int:
    """Run up to n steps of session ``s``, none after ``deadline`` (``time.perf_counter``
    seconds) and none once ``s.halted``; stops at the end of the run or on a non-finite value.
    Returns the steps run. The budget is checked between steps: the step expected to end past
    the deadline (at ``s.step_time`` a step) is the last, so the probe marks it and the tick's
    statistics have its update ratio. While playing, a step whose gradient norm ``grew`` fast
    ends the tick too (its update ratio is NaN: it was not marked). Step ``s.pause_at`` (a
    preset's key moment) ends it and pauses: ``s.at_pause``."""
    t, done, last = s.trainer, 0, False
    watch = not s.pending  # the n steps a ``step`` message asked for all run
    max_steps = s.train_config.steps if s.train_config.steps is not None else math.inf
    clock, last_start = time.perf_counter, deadline - s.step_time  # one call a step, nothing else
    moment = s.pause_at - 1 if s.pause_at is not None else -1  # the step count before that step
    while done < n and not (s.done or s.nan_stop or s.halted):
        at_moment = t.step == moment
        last = done == n - 1 or at_moment or clock() >= last_start
        if last:
            s.probe.mark()  # for the last step's update ratio
        if s.epoch_steps is None:
            s.epoch_steps = t.epoch_steps(s.dataset.X_train, s.dataset.y_train, max_steps=max_steps)
        done += 1
        try:
            next(s.epoch_steps)
        except StopIteration as end:
            s.epoch_steps = None
            if end.value is None:
                stop_on_nan(s)
            elif finished(s):
                s.done, s.running = True, False
        if at_moment and not s.nan_stop:
            s.running, s.at_pause = False, True
        fast = not s.nan_stop and grew(s, t.last_grad_norm)  # an infinite g is the NaN alarm's
        if last or (fast and watch):
            break
    if done:
        measure(s, marked=last)
        s.dirty = True
    return done


def grew(s, g: float) -> bool:
    """Whether the step's gradient norm g grew fast (see the module docstring): g > GROWTH · m
    and g > NEAR_EXPLODING, m its running level before this step. Updates m (a non-finite g
    leaves it; the first step sets it) and the slow mode: on, or off after SETTLE_STEPS calm steps."""
    m = s.norm_level
    fast = g > GROWTH * m and g > NEAR_EXPLODING  # False while m is NaN, and for a NaN g
    if math.isfinite(g):
        s.norm_level = g if math.isnan(m) else m + (g - m) * LEVEL_RATE
    if fast:
        s.slowed, s.calm = True, 0
    elif s.slowed:
        s.calm += 1
        s.slowed = s.calm < SETTLE_STEPS
    return fast


def stop_on_nan(s) -> None:
    """Pause on a non-finite value and queue the ``alarm`` message that names its layer.

    The Trainer's message counts ``net.layers`` from 0, activations and norms included; the
    page numbers unit layers from 1 (diagram, chart, table), so the message says that number."""
    t = s.trainer
    s.nan_stop, s.running, s.slowed = True, False, False
    s.alarm = F.ALARM_NAN
    s.alarm_layer = unit_of(s.units, t.net.layers, t.nonfinite_layer)
    what = t.message.split("; first non-finite: ")[0]
    message = f"{what}; first non-finite: layer {s.alarm_layer + 1}"
    s.outbox.append({"type": "alarm", "alarm": "nan", "layer": s.alarm_layer, "message": message})


def unit_of(units, layers, index: int | None) -> int:
    """The unit layer holding ``layers[index]`` (None: the loss, i.e. the output unit);
    a Dropout between units counts with the unit before it."""
    if index is None:
        return len(units) - 1
    owner = 0
    for i, layer in enumerate(layers[: index + 1]):
        inside = {id(part) for part in walk(layer)}
        for u in units:
            if any(id(part) in inside for part in (u.dense, *u.norms, u.act) if part is not None):
                owner = u.index
                if i == index:
                    return owner
    return owner


def measure(s, marked: bool) -> None:
    """The probe statistics of the last step and the alarms they raise; its update ratio
    only when the probe was ``mark``-ed just before that step (else NaN)."""
    stats = s.probe.measure()
    if not marked:
        stats["update_ratio"][:] = np.nan
    s.stats = np.array([stats[k] for k in STATS], dtype=np.float32)
    s.grad_norm = grad_norm(s.trainer.params)
    if not s.nan_stop:
        s.alarm, s.alarm_layer = alarm_of(stats)


def alarm_of(stats: dict) -> tuple[int, int]:
    """(alarm code, unit layer) from one measurement's statistics (rules in ``frames``)."""
    g = np.asarray(stats["grad_W_norm"], dtype=np.float64)
    where = first_nonfinite(stats["nonfinite"])
    if where is not None:
        return F.ALARM_NAN, where
    first, last = g[0], g[-1]
    # a huge norm first: a blow-up kills or saturates the first layer's units on its way
    if g.max() > F.EXPLODING_NORM or (len(g) > 1 and first > F.EXPLODING_RATIO * last):
        return F.ALARM_EXPLODING, int(np.argmax(g))
    if len(g) > 1 and first < F.VANISHING_RATIO * last:
        return F.ALARM_VANISHING, 0
    return F.ALARM_NONE, -1
