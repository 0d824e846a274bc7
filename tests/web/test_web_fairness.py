"""No session can starve the others: ticks bounded in time and interruptible, training on a
fair scheduler of its own, runs admitted by cost. Progress and outcomes are asserted, never
durations (the figures are in ``benchmarks/bench_server.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time

import pytest

from deltaflow.training.config import RunConfig
from deltaflow.web import frames as F
from deltaflow.web.admission import Ledger
from deltaflow.web.building import DEFAULT_GRID, default_config
from deltaflow.web.limits import Limits
from deltaflow.web.presets import PRESETS
from deltaflow.web.scheduler import Scheduler
from deltaflow.web.session import Session

from web_client import Socket, run_async

# a few ms a step: the n steps of one message are seconds of work
HEAVY = {"data": {"name": "circle", "n_samples": 2000}, "model": {"hidden": [64] * 8, "activation": "relu"},
         "optimizer": {"name": "sgd", "lr": 0.01}, "batch_size": 256, "epochs": 10_000}
N = 3000
LIGHT = {"data": {"name": "xor"}, "model": {"hidden": [4]}, "batch_size": 10, "epochs": 10_000}
MID = {"data": {"name": "circle", "n_samples": 500}, "model": {"hidden": [64] * 4}, "batch_size": 64, "epochs": 10_000}


def wait_until(condition, what: str, limit_s: float = 120.0) -> None:
    """Poll ``condition`` (the server's side runs in other threads); the limit only ends a hang."""
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.01)


def start_heavy(client, ws) -> tuple[Socket, Session]:
    """A socket on HEAVY that asked for N steps, and its server-side session."""
    s = Socket(ws)
    session = client.app.state.registry.sessions[s.hello["session"]]
    s.send(type="config", config=HEAVY, grid=0)
    s.next("state")
    s.next_frame()
    s.send(type="step", n=N)
    return s, session


def play_light(ws) -> Socket:
    light = Socket(ws)
    light.send(type="config", config=LIGHT, grid=16)
    light.next("state")
    light.next_frame()
    light.send(type="speed", steps_per_frame=1)
    light.send(type="play")
    return light


def frames_steps(light: Socket, count: int) -> list[int]:
    return [light.next_frame()["step"] for _ in range(count)]


def stepping(sessions) -> bool:
    return all(0 < x.trainer.step < N for x in sessions)


def test_a_light_session_gets_frames_and_a_new_one_hello_while_heavy_sessions_step(client):
    """Six heavy sessions each asked for N steps: as many as the default executor's threads
    on a 2-core machine. A new socket still gets hello, and a light one plays, while they step."""
    with contextlib.ExitStack() as stack:
        heavy = [start_heavy(client, stack.enter_context(client.websocket_connect("/ws"))) for _ in range(6)]
        sessions = [x for _, x in heavy]
        wait_until(lambda: all(x.trainer.step > 0 for x in sessions), "did every heavy session start")
        with client.websocket_connect("/ws") as ws:
            light = play_light(ws)  # hello, state and a frame came
            assert stepping(sessions)
            before = sum(x.trainer.step for x in sessions)
            steps = frames_steps(light, 10)
            assert steps == sorted(steps) and steps[-1] > steps[0]
            assert stepping(sessions) and sum(x.trainer.step for x in sessions) > before


def test_pause_and_close_stop_a_heavy_sessions_work(client):
    registry = client.app.state.registry
    with contextlib.ExitStack() as stack:
        heavy = [start_heavy(client, stack.enter_context(client.websocket_connect("/ws"))) for _ in range(3)]
        with client.websocket_connect("/ws") as ws:
            _, closed = start_heavy(client, ws)
            wait_until(lambda: all(x.trainer.step > 0 for _, x in [*heavy, (None, closed)]), "did they start")
        wait_until(lambda: closed.id not in registry.sessions, "was the closed session released")
        with closed.lock:  # the tick that ran when the socket closed has ended
            stopped_at = closed.trainer.step
        (paused, paused_session), *others = heavy
        paused.send(type="pause")
        f = paused.next_frame()  # the pause did not wait for the N steps
        assert 0 < f["step"] < N and not f["flags"] & F.RUNNING
        with client.websocket_connect("/ws") as ws:
            light = play_light(ws)
            before = [x.trainer.step for _, x in others]
            frames_steps(light, 10)
            assert [x.trainer.step for _, x in others] > before  # the others go on
        assert 0 < stopped_at < N and closed.trainer.step == stopped_at
        assert paused_session.trainer.step == f["step"]


def test_a_step_runs_over_ticks_of_bounded_time_and_its_frame_shows_all_n():
    """With no time to spare (tick_budget_s 0), each tick runs one step, whatever n or
    steps_per_frame ask; the frame waits until the step message's n steps are all done."""
    s = Session(Limits(tick_budget_s=0.0), RunConfig.from_dict(LIGHT))
    s.messages_and_frame()
    s.acked = 1
    assert s.handle(json.dumps({"type": "step", "n": 3})) == []
    assert s.trainer.step == 0 and not s.can_send()
    for step in (1, 2):
        assert s.train_tick_and_frame(1.0) is None and s.trainer.step == step
    messages, data, _ = s.train_tick_and_frame(1.0)
    assert F.decode_frame(data)["step"] == 3 and s.pending == 0
    assert s.train_tick_and_frame(1.0) is None and s.trainer.step == 3  # paused afterwards
    s.running, s.steps_per_frame = True, 10_000
    s.train_tick(1.0)
    assert s.trainer.step == 4


def test_pause_interrupts_a_running_tick_and_close_stops_it():
    """``handle_ack`` (the event loop's, lock-free) interrupts a tick of a pause or reset: the
    tick ends before its next step, and the pause itself then finds the lock free."""
    for stop in ("pause", "close"):
        s = Session(Limits(tick_budget_s=3600.0), RunConfig.from_dict(MID))
        s.handle(json.dumps({"type": "step", "n": 10_000}))
        tick = threading.Thread(target=s.train_tick, args=(1.0,))
        tick.start()
        wait_until(lambda: s.trainer.step > 0, "did the tick start")
        if stop == "pause":
            assert s.handle_ack('{"type": "pause"}') is None  # left to handle, after the interruption
        else:
            s.close()
        tick.join()
        assert 0 < s.trainer.step < 10_000
        if stop == "pause":
            s.handle('{"type": "pause"}')
            assert s.pending == 0 and not s.halted and not s.running
            s.handle(json.dumps({"type": "step", "n": 2}))  # the session trains on
            at = s.trainer.step
            s.train_tick(1.0)
            assert s.trainer.step == at + 2


def test_runs_are_admitted_by_cost_and_presets_always_are():
    limits = Limits()
    ledger = Ledger(limits)
    sessions = [Session(limits, ledger=ledger) for _ in range(limits.max_sessions)]
    heaviest = RunConfig.from_dict({"data": {"name": "circle", "n_samples": limits.max_samples},
                                    "model": {"hidden": [limits.max_width] * limits.max_hidden_layers},
                                    "batch_size": limits.max_batch_size})
    sessions[0].build(heaviest, 44)  # the largest grid its 2,049 maps may have
    with pytest.raises(ValueError) as refused:
        sessions[1].build(heaviest, 44)
    message = str(refused.value)
    assert "129,282 parameters × (3 × batch 1,024 + 10,000 samples + 1,936 grid points)" in message
    assert "the server's budget is 2,500,000,000" in message and "lower the batch size" in message
    assert sessions[1].config == default_config()  # refused: unchanged
    for s in sessions[1:]:  # the default and every preset, beside the heaviest run
        for preset in PRESETS:
            s.build(RunConfig.from_dict(preset["config"]), preset["grid"])
        s.build(default_config(), DEFAULT_GRID)
    sessions[0].close()  # its cost goes back to the pool
    sessions[1].build(heaviest, 44)


def test_a_config_too_heavy_for_the_budget_gets_an_error_and_hello_says_the_budget(make_client):
    client = make_client(base_cost=1_000_000, cost_budget=9_000_000)  # a run may cost 2,000,000
    with client.websocket_connect("/ws") as ws:
        s = Socket(ws)
        assert s.hello["limits"]["cost_budget"] == 9_000_000 and s.hello["limits"]["base_cost"] == 1_000_000
        s.send(type="config", config={**LIGHT, "model": {"hidden": [64, 64]}}, grid=16)
        m = s.next("error")
        assert m["about"] == "config" and "multiply-adds a step and frame" in m["message"]
        assert "budget is 9,000,000" in m["message"] and "leave 2,000,000 for this one" in m["message"]
        assert s.request(type="step", n=1)["step"] == 1  # the old run, untouched


def test_the_scheduler_serves_the_least_served_session_first_and_skips_cancelled_jobs():
    """One worker: while it is busy, a heavy session (served before) and a new one queue; the
    new one runs first although it came second. A job cancelled while waiting never runs."""
    async def main():
        scheduler, ran = Scheduler(workers=1), []
        await scheduler.run("heavy", time.sleep, 0.05)  # heavy's count: 50 ms
        gate = threading.Event()
        busy = asyncio.ensure_future(scheduler.run("busy", gate.wait))
        await asyncio.sleep(0.05)  # the worker has taken it
        jobs = [asyncio.ensure_future(scheduler.run(key, ran.append, key)) for key in ("heavy", "light", "gone")]
        await asyncio.sleep(0)  # each job queued
        jobs[2].cancel()
        await asyncio.gather(jobs[2], return_exceptions=True)  # its worker-side future too is cancelled
        gate.set()
        await busy
        await asyncio.gather(*jobs[:2])
        return ran

    assert run_async(main()) == ["light", "heavy"]
