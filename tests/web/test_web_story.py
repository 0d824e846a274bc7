"""What the simulator shows by itself: it slows down near an alarm (the exploding preset's
blow-up drawn frame by frame), the alarm rules' precedence, and the opening run converging."""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

from deltaflow.training.config import RunConfig
from deltaflow.web import frames as F
from deltaflow.web import ticks
from deltaflow.web.building import DEFAULT_STEPS_PER_FRAME
from deltaflow.web.limits import Limits
from deltaflow.web.presets import PRESETS
from deltaflow.web.session import Session

BY_NAME = {p["name"]: p for p in PRESETS}
# ticks that never run out of time, so a tick's steps are counted, not timed
UNTIMED = Limits(tick_budget_s=1e6)


def play(s: Session, ticks_: int):
    """Press play and yield the decoded frame of each tick, stopping at an alarm's pause."""
    s.handle(json.dumps({"type": "play"}))
    for _ in range(ticks_):
        s.train_tick(0.0)
        messages, data = s.messages_and_frame()
        f = F.decode_frame(data)
        yield messages, f
        if f["flags"] & (F.PAUSED_BY_ALARM | F.AT_PAUSE):
            return


def test_the_exploding_preset_slows_down_and_draws_its_gradients_growing_before_the_nan():
    preset = BY_NAME["exploding"]
    s = Session(UNTIMED, RunConfig.from_dict(preset["config"]))
    assert s.steps_per_frame == DEFAULT_STEPS_PER_FRAME
    frames = list(play(s, 50))
    messages, last = frames[-1]
    assert last["flags"] & F.PAUSED_BY_ALARM and last["alarm"] == F.ALARM_NAN
    (alarm,) = [m for m in messages if m["type"] == "alarm"]
    assert re.findall(r"layer (\d+)", alarm["message"]) == [str(last["alarm_layer"] + 1)]
    before = [f for _, f in frames[:-1]]
    slowed = [f for f in before if f["flags"] & F.SLOWED]
    assert len(slowed) >= 3 and slowed == before[-len(slowed):]  # slow to the end, once slowed
    norms = [float(np.max(f["stats"]["grad_W_norm"])) for f in slowed]
    assert all(math.isfinite(g) for g in norms) and norms == sorted(norms) and len(set(norms)) == len(norms)
    steps = [f["step"] for f in slowed]
    assert steps == list(range(steps[0], steps[0] + len(steps)))  # one step a frame
    assert last["step"] == steps[-1] + 1 and not last["flags"] & F.SLOWED  # paused: no pace to keep


def test_the_opening_run_converges_within_ten_seconds_of_frames_and_is_never_slowed():
    """At the default speed (steps_per_frame steps a frame, max_fps frames a second), 10 s of
    frames reach ≥ 90% test accuracy; the run never enters the slow mode. Counted in ticks."""
    s = Session(UNTIMED)
    s.handle(json.dumps({"type": "play"}))
    frames = int(UNTIMED.max_fps * 10)
    for _ in range(frames):
        s.train_tick(0.0)
        assert not s.slowed, s.trainer.step
    assert s.trainer.step == frames * DEFAULT_STEPS_PER_FRAME
    s.running = False  # a paused frame measures the network it shows
    f = F.decode_frame(s.messages_and_frame()[1])
    assert not f["flags"] & F.SLOWED and f["metrics"]["test_metric"] >= 0.9


def test_a_step_message_runs_all_its_steps_even_when_the_gradients_grow():
    s = Session(UNTIMED, RunConfig.from_dict(BY_NAME["exploding"]["config"]))
    s.handle(json.dumps({"type": "step", "n": 6}))
    s.train_tick(0.0)
    assert s.trainer.step == 6 and s.slowed  # slowed for the next play, not cut short


def norm_session(norm_level=math.nan):
    return SimpleNamespace(norm_level=norm_level, slowed=False, calm=0)


def test_growth_is_fast_only_above_its_running_level_and_near_the_exploding_norm():
    s = norm_session()
    noise = [1.0, 0.05, 20.0, 0.5, 25.0]  # 400× jumps, as batch noise makes, far below the alarm
    assert not any(ticks.grew(s, g) for g in noise) and not s.slowed
    big = norm_session()
    steady = [2 * ticks.NEAR_EXPLODING] * 20  # large but not growing: a regression on large targets
    assert not any(ticks.grew(big, g) for g in steady)
    assert ticks.grew(big, 20 * ticks.NEAR_EXPLODING) and big.slowed
    # on a plateau 10× higher the level catches up within a few steps; then it settles
    fast = [ticks.grew(big, 20 * ticks.NEAR_EXPLODING) for _ in range(30)]
    calm = fast.index(False)
    assert 0 < calm < 30 - ticks.SETTLE_STEPS and not any(fast[calm:])
    assert not big.slowed
    slowed = norm_session(norm_level=1.0)
    ticks.grew(slowed, 4 * ticks.NEAR_EXPLODING)
    for _ in range(ticks.SETTLE_STEPS - 1):
        assert not ticks.grew(slowed, 1.0) and slowed.slowed
    assert not ticks.grew(slowed, 1.0) and not slowed.slowed  # SETTLE_STEPS calm steps end it
    assert not ticks.grew(big, math.nan) and math.isfinite(big.norm_level)


def stats_of(grad_W_norm):
    g = np.asarray(grad_W_norm, dtype=np.float64)
    return {"grad_W_norm": g, "nonfinite": np.zeros(len(g))}


def test_huge_norms_are_an_exploding_alarm_even_when_the_first_layers_norm_is_tiny():
    """Step 6 of the exploding preset: the first layer's units died on the way up (‖∂L/∂W⁽¹⁾‖ = 0),
    the last layer's norm is 345 and another's 2842: exploding, not vanishing."""
    g = [0.0, 12.0, 2842.0, 345.0]
    assert ticks.alarm_of(stats_of(g)) == (F.ALARM_EXPLODING, 2)
    assert ticks.alarm_of(stats_of([1e-7, 0.5, 0.8])) == (F.ALARM_VANISHING, 0)
    assert ticks.alarm_of(stats_of([9e4, 0.5, 0.8])) == (F.ALARM_EXPLODING, 0)
    assert ticks.alarm_of(stats_of([0.1, 0.5, 0.8])) == (F.ALARM_NONE, -1)


def test_the_exploding_preset_raises_no_vanishing_alarm_before_its_nan():
    s = Session(UNTIMED, RunConfig.from_dict(BY_NAME["exploding"]["config"]))
    alarms = [f["alarm"] for _, f in play(s, 50)]
    assert alarms[-1] == F.ALARM_NAN and F.ALARM_VANISHING not in alarms


def configure(s: Session, preset: dict, **extra) -> dict:
    (state,) = s.handle(json.dumps({"type": "config", "config": preset["config"], "grid": 8,
                                    "pause_at": preset["pause_at"], **extra}))
    return state


@pytest.mark.parametrize("preset", [p for p in PRESETS if p["pause_at"] is not None], ids=lambda p: p["name"])
def test_each_presets_pause_at_stops_at_exactly_that_step(preset):
    s = Session(Limits())  # timed ticks, as the server runs them: the moment does not depend on where they end
    state = configure(s, preset)
    assert state["pause_at"] == preset["pause_at"] and not s.at_pause
    s.steps_per_frame = 7  # ticks of 7 steps do not land on the moment by themselves
    frames = [f for _, f in play(s, preset["pause_at"])]
    moment = [f for f in frames if f["flags"] & F.AT_PAUSE]
    assert moment and moment[0]["step"] == preset["pause_at"] == s.trainer.step
    assert not moment[0]["flags"] & F.RUNNING and not s.running
    assert all(f["step"] < preset["pause_at"] for f in frames[: frames.index(moment[0])])
    assert math.isfinite(float(np.nanmax(moment[0]["stats"]["update_ratio"])))  # the moment's step was marked
    s.handle(json.dumps({"type": "play"}))
    s.train_tick(0.0)
    f = F.decode_frame(s.messages_and_frame()[1])
    assert f["step"] > preset["pause_at"] and not f["flags"] & F.AT_PAUSE  # play goes on past it


def test_a_step_message_stops_at_the_moment_and_reset_keeps_it():
    preset = BY_NAME["xor_hidden"]
    s = Session(UNTIMED)
    configure(s, preset, pause_at=5)
    s.handle(json.dumps({"type": "step", "n": 9}))
    s.train_tick(0.0)
    assert s.trainer.step == 5 and s.at_pause and s.pending == 0
    (state,) = s.handle(json.dumps({"type": "reset"}))
    assert state["pause_at"] == 5 and not s.at_pause and state["step"] == 0
    s.handle(json.dumps({"type": "step", "n": 3}))
    s.train_tick(0.0)
    assert s.trainer.step == 3 and not s.at_pause
    (state,) = s.handle(json.dumps({"type": "config", "config": preset["config"]}))
    assert state["pause_at"] is None  # a config without it has no moment


@pytest.mark.parametrize("bad", [0, -3, 1.5, "300", 2**32])
def test_a_bad_pause_at_is_an_error_naming_it_and_the_session_goes_on(bad):
    s = Session(Limits())
    (reply,) = s.handle(json.dumps({"type": "config", "config": BY_NAME["xor_hidden"]["config"], "pause_at": bad}))
    assert reply["type"] == "error" and "pause_at" in reply["message"] and s.pause_at is None


def test_every_presets_story_names_only_the_fields_the_page_fills():
    from string import Formatter

    from deltaflow.web.presets import MOMENT_FIELDS

    for p in PRESETS:
        assert len(p["story"]) > 80 and p["moment"]
        fields = {name for _, name, _, _ in Formatter().parse(p["moment"]) if name}
        assert "step" in fields and fields <= set(MOMENT_FIELDS), p["name"]


def test_a_step_that_overflows_to_an_infinite_norm_pauses_at_the_nan_alarm_not_slowed(monkeypatch):
    s = Session(UNTIMED, RunConfig.from_dict(BY_NAME["exploding"]["config"]))
    s.handle(json.dumps({"type": "play"}))
    step = s.trainer.train_step

    def overflowing(X, target):  # the 3rd step's gradient overflows (the loss is still finite)
        value, norm = step(X, target)
        if s.trainer.step == 3:
            s.trainer.last_grad_norm = norm = math.inf
        return value, norm

    monkeypatch.setattr(s.trainer, "train_step", overflowing)
    s.train_tick(0.0)
    f = F.decode_frame(s.messages_and_frame()[1])
    assert f["flags"] & F.PAUSED_BY_ALARM and f["step"] == 3 and not f["flags"] & F.SLOWED and not s.slowed
