"""The replay history (``replay.History``), the ``replay`` message, and frame version 2's
units section and REPLAY flag."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deltaflow.diagnostics.probes import DEAD, SATURATED
from deltaflow.training.config import RunConfig
from deltaflow.web import frames as F
from deltaflow.web import ticks
from deltaflow.web.limits import Limits
from deltaflow.web.replay import History
from deltaflow.web.session import Session

TINY = {"data": {"name": "circle", "n_samples": 50}, "model": {"hidden": [3]}, "batch_size": 64, "epochs": 50}


def test_the_history_thins_to_its_frame_count_and_keeps_covering_the_run():
    h = History(max_frames=8, max_bytes=10**6)
    for step in range(0, 1000, 10):
        h.add(step, bytes([step % 256]) * 4)
        assert len(h.frames) <= 8 and h.steps[-1] == step  # the newest is always there
        assert h.steps == sorted(set(h.steps)) and h.nbytes == sum(map(len, h.frames))
    gaps = np.diff(h.steps)
    assert h.steps[0] <= gaps.max()  # the start of the run is still covered
    assert gaps[:-1].min() == gaps[:-1].max()  # evenly spaced, but for the newest
    assert all(h.at(s)[1] == bytes([s % 256]) * 4 for s in h.steps)


def test_the_history_thins_to_its_byte_bound():
    h = History(max_frames=1000, max_bytes=100)
    for step in range(200):
        h.add(step, bytes(12))
        assert h.nbytes <= 100 and h.steps[-1] == step
    assert len(h.frames) >= 4  # thinned, not emptied
    h.add(200, bytes(101))  # a frame alone over the bound is not kept
    assert h.nbytes <= 100 and h.steps[-1] == 199


def test_a_frame_of_the_same_step_replaces_the_one_recorded():
    h = History(max_frames=10, max_bytes=1000)
    h.add(0, b"a")
    h.add(5, b"b")
    h.add(5, b"c")  # an edited weight at the same step
    assert h.steps == [0, 5] and h.at(5) == (5, b"c") and h.nbytes == 2


def test_a_step_not_recorded_picks_the_newest_at_or_before_it():
    h = History(max_frames=10, max_bytes=1000)
    for step in (0, 10, 20):
        h.add(step, str(step).encode())
    assert h.at(19) == (10, b"10") and h.at(20) == (20, b"20") and h.at(10**9) == (20, b"20")
    assert h.at(None) == (20, b"20")
    h.clear()
    with pytest.raises(ValueError, match="no frame"):
        h.at(None)


def _frames(sock, n: int) -> list[dict]:
    """n steps, one ``step`` message each: the frame of each (decoded, with its bytes)."""
    return [sock.request(type="step", n=1) for _ in range(n)]


def _replay(sock, step) -> tuple[dict, dict]:
    """Send ``replay``: its JSON answer and the REPLAY frame after it."""
    sock.send(type="replay", step=step)
    answer = sock.next("replay")
    frame = sock.receive()
    assert frame["type"] == "frame" and frame["flags"] & F.REPLAY
    return answer, frame


def _same_frame(replayed: dict, sent: dict) -> None:
    """The replayed frame is the sent one byte for byte, but for the REPLAY flag."""
    assert replayed["flags"] == sent["flags"] | F.REPLAY
    raw = bytearray(replayed["raw"])
    raw[F.FLAGS_OFFSET:F.FLAGS_OFFSET + 2] = sent["raw"][F.FLAGS_OFFSET:F.FLAGS_OFFSET + 2]
    assert bytes(raw) == sent["raw"]
    for a, b in zip(replayed["params"], sent["params"]):
        np.testing.assert_array_equal(a["W"], b["W"])
        np.testing.assert_array_equal(a["dW"], b["dW"])


def test_replay_sends_the_frame_built_at_that_step_and_changes_nothing(client, socket_of):
    sock = socket_of(client, TINY)
    sent = _frames(sock, 6)
    assert [f["step"] for f in sent] == list(range(1, 7))
    answer, frame = _replay(sock, 3)
    assert answer == {"type": "replay", "step": 3, "steps": list(range(0, 7))}
    _same_frame(frame, sent[2])
    assert frame["step"] == 3 and frame["frame_id"] == sent[2]["frame_id"]
    answer, newest = _replay(sock, None)
    assert answer["step"] == 6
    _same_frame(newest, sent[-1])
    # the session trains on from where it was: the next frame is step 7 with the next id
    after = sock.request(type="step", n=1)
    assert after["step"] == 7 and after["frame_id"] == sent[-1]["frame_id"] + 1
    assert not after["flags"] & F.REPLAY


def test_replay_of_a_step_between_frames_shows_the_one_before(client, socket_of):
    sock = socket_of(client, TINY)
    sent = [sock.request(type="step", n=4) for _ in range(3)]  # steps 4, 8, 12
    answer, frame = _replay(sock, 10)
    assert answer["step"] == 8 and answer["steps"] == [0, 4, 8, 12]
    _same_frame(frame, sent[1])


@pytest.mark.parametrize("step, words", [(-1, "greater than or equal to 0"), (1.5, "valid integer"),
                                         ("3", "valid integer"), (2**40, "less than or equal to"),
                                         (True, "valid integer")])
def test_bad_replays_get_an_error_and_the_session_lives_on(client, socket_of, step, words):
    sock = socket_of(client, TINY)
    before = sock.request(type="step", n=2)
    sock.send(type="replay", step=step)
    reply = sock.next("error")
    assert reply["about"] == "replay" and "step" in reply["message"] and words in reply["message"]
    after = sock.request(type="step", n=1)
    assert after["step"] == 3 and after["frame_id"] == before["frame_id"] + 1


def test_a_new_config_reset_or_regenerate_clears_the_history(client, socket_of):
    sock = socket_of(client, TINY)
    for message in ({"type": "reset"}, {"type": "regenerate"}, {"type": "config", "config": TINY}):
        sock.request(type="step", n=3)
        assert _replay(sock, None)[0]["steps"] == [0, 3]
        sock.request(**message)
        assert _replay(sock, None)[0]["steps"] == [0]


def test_hello_carries_the_replay_bounds(client, socket_of):
    sock = socket_of(client, TINY)
    limits = sock.hello["limits"]
    assert (limits["replay_frames"], limits["replay_bytes"]) == (600, 16 * 2**20)
    assert sock.hello["frame"]["flags"]["REPLAY"] == 256 and sock.hello["frame"]["flags"]["SLOWED"] == 512
    assert sock.hello["frame"]["version"] == 3


def test_a_sessions_history_stays_within_its_bounds_while_training():
    s = Session(Limits(replay_frames=10, replay_bytes=10**6), RunConfig.from_dict(TINY))
    s.steps_per_frame = 1
    for _ in range(40):
        s.pending = 1
        s.train_tick(1.0)
        s.messages_and_frame()
    assert len(s.replay.frames) <= 10 and s.replay.steps[-1] == s.trainer.step == 40
    s = Session(Limits(replay_bytes=3 * len(s.messages_and_frame()[1])), RunConfig.from_dict(TINY))
    for _ in range(20):
        s.pending = 1
        s.train_tick(1.0)
        s.messages_and_frame()
        assert s.replay.nbytes <= s.limits.replay_bytes and len(s.replay.frames) >= 1


def test_a_replay_leaves_training_ids_and_credit_as_they_were():
    s = Session(Limits(window=2), RunConfig.from_dict(TINY))
    s.running, s.steps_per_frame = True, 2
    for _ in range(2):
        s.train_tick_and_frame(1.0)
    before = (s.trainer.step, s.frame_id, s.acked, s.running, s.dirty, s.can_send())
    answer, frame = s.handle(json.dumps({"type": "replay", "step": 2}))
    assert answer == {"type": "replay", "step": 2, "steps": [2, 4]}
    assert F.decode_frame(frame)["frame_id"] == 1 and F.decode_frame(frame)["flags"] & F.REPLAY
    assert (s.trainer.step, s.frame_id, s.acked, s.running, s.dirty, s.can_send()) == before
    (reply,) = Session(Limits()).handle(json.dumps({"type": "replay", "step": None}))
    assert reply["type"] == "error" and "no frame" in reply["message"]  # nothing sent yet


def test_the_units_section_carries_the_probes_marks():
    """Each unit's byte: SATURATED or DEAD as the probe counted it for saturated_pct and
    dead_pct on the last step; 0 before the first step."""
    config = {**TINY, "model": {"hidden": [6, 5], "activation": ["relu", "sigmoid"]}}
    s = Session(Limits(), RunConfig.from_dict(config))
    first = F.decode_frame(s.messages_and_frame()[1])
    assert [u.tolist() for u in first["units"]] == [[0] * 6, [0] * 5, [0] * 2]
    dense = [u.dense for u in s.units]
    dense[0].b.value[:3] = -1e3  # ReLU units 0-2 dead
    dense[1].b.value[2:] = 1e3  # sigmoid units 2-4 saturated
    ticks.train(s, 1)
    f = F.decode_frame(s.messages_and_frame()[1])
    assert f["units"][0].tolist()[:3] == [DEAD] * 3 and f["units"][1].tolist()[2:] == [SATURATED] * 3
    for got, want in zip(f["units"], s.probe.unit_marks):
        np.testing.assert_array_equal(got, want)
    assert f["stats"]["dead_pct"][0] == np.float32(100 * np.mean(f["units"][0] == DEAD))
    assert f["stats"]["saturated_pct"][1] == np.float32(100 * np.mean(f["units"][1] == SATURATED))


@pytest.fixture
def socket_of():
    """A ``Socket`` on a new session of ``config`` (the test client's sockets close with the test)."""
    from web_client import Socket

    opened = []

    def open_(client, config):
        ctx = client.websocket_connect("/ws")
        sock = Socket(ctx.__enter__())
        opened.append(ctx)
        sock.request(type="config", config=config)
        return sock

    yield open_
    for ctx in opened:
        ctx.__exit__(None, None, None)

