"""The simulator's ``Session`` without a socket: the loss buffer, the gradient norm, uploads
that fail, the history a ``state`` carries and the ack fast path."""

from __future__ import annotations

import gc
import json
import tempfile
import warnings

import numpy as np
import pytest

from deltaflow.optim.clip import grad_norm
from deltaflow.training.config import RunConfig
from deltaflow.web import building, snapshot, ticks
from deltaflow.web import frames as F
from deltaflow.web import protocol as P
from deltaflow.web.building import Losses
from deltaflow.web.limits import Limits
from deltaflow.web.session import Session

# one step per epoch: 40 training rows in one batch
TINY = {"data": {"name": "circle", "n_samples": 50}, "model": {"hidden": [3]}, "batch_size": 64, "epochs": 5}
CSV = "a,b,cls\n" + "".join(f"{x:.3f},{-x:.3f},{int(x > 0)}\n" for x in np.linspace(-2, 2, 40))


def handle(s: Session, **message) -> dict:
    (reply,) = s.handle(json.dumps(message))
    return reply


def test_thinning_the_loss_points_keeps_the_newest():
    losses, n = Losses(), 2 * F.MAX_LOSS_POINTS + 1
    for step in range(1, n + 1):
        losses.on_step(None, step, float(step))
    assert len(losses.points) == F.MAX_LOSS_POINTS + 1
    assert losses.points[-1] == (n, float(n))
    assert [p[0] for p in losses.points] == list(range(1, n + 1, 2))  # every other step, evenly
    pts = losses.take()
    assert pts[-1, 0] == n and len(pts) <= F.MAX_LOSS_POINTS


def test_the_frames_gradient_norm_is_the_global_norm_without_float32_overflow():
    s = Session(Limits(), RunConfig.from_dict(TINY))
    s.handle(json.dumps({"type": "step", "n": 1}))
    s.train_tick(0.0)  # the step runs in the next tick
    assert s.trainer.step == 1 and s.grad_norm == pytest.approx(grad_norm(s.trainer.params), rel=1e-12)
    for p in s.trainer.params:
        p.grad[...] = 1e20  # Σ g² = 1e40 · count: inf in float32
    with np.errstate(all="ignore"):
        ticks.measure(s, marked=False)
    count = sum(p.grad.size for p in s.trainer.params)
    assert s.grad_norm == pytest.approx(1e20 * np.sqrt(count), rel=1e-6)


@pytest.mark.parametrize("fail", ["config", "build"])
def test_an_upload_that_fails_to_build_keeps_the_old_upload_and_leaves_no_folder(fail, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    s = Session(Limits())
    assert handle(s, type="upload_csv", text=CSV, name="first.csv")["type"] == "state"
    (first,) = tmp_path.iterdir()
    old_config, old_path = s.config, s.upload_path
    if fail == "config":
        def refuse(cls, data):
            raise ValueError("data: refused")
        monkeypatch.setattr(RunConfig, "from_dict", classmethod(refuse))
    else:
        def broken(*args, **kw):
            raise RuntimeError("no memory left")
        monkeypatch.setattr(building, "Trainer", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reply = handle(s, type="upload_csv", text=CSV, name="second.csv")
        gc.collect()
    # cleaned up by the session, not left to TemporaryDirectory's finaliser ("Implicitly cleaning up")
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert reply["type"] == "error" and reply["about"] == "upload_csv"
    assert ("refused" if fail == "config" else "RuntimeError: no memory left") in reply["message"]
    assert list(tmp_path.iterdir()) == [first]  # the failed upload's folder is gone
    assert s.config == old_config and s.upload_path == old_path and old_path.is_file()
    monkeypatch.undo()
    assert handle(s, type="reset")["config"]["data"]["path"] == "first.csv"  # the old upload still trains


def test_a_state_carries_the_newest_history_rows(monkeypatch):
    monkeypatch.setattr(P, "STATE_HISTORY_ROWS", 3)
    s = Session(Limits(), RunConfig.from_dict(TINY))
    s.handle(json.dumps({"type": "step", "n": 5}))
    s.train_tick(0.0)  # the steps run in the next tick
    assert s.trainer.epoch == 5
    state = s.state()
    assert state["history"]["epoch"] == [3, 4, 5]
    assert all(len(v) == 3 for v in state["history"].values())
    assert s.history()["epoch"] == [1, 2, 3, 4, 5]  # the download has every row


def test_only_a_text_as_short_as_an_ack_is_parsed_on_the_event_loop(monkeypatch):
    s = Session(Limits())
    s.messages_and_frame()
    parsed = []
    parse = P.parse_message
    monkeypatch.setattr(P, "parse_message", lambda text, limit: parsed.append(text) or parse(text, limit))
    long_ack = '{"type": "ack", "frame": 1' + " " * P.MAX_ACK_CHARS + "}"
    assert s.handle_ack(long_ack) is None and parsed == []  # left to handle, unread
    assert s.handle(long_ack) == [] and s.acked == 1
    assert s.handle_ack('{"type": "ack", "frame": 1}') == []
    assert s.handle_ack("x" * 1_000_000) is None and len(parsed) == 2


def test_frames_while_playing_reuse_metrics_for_a_tenth_of_a_second(monkeypatch):
    """Playing, a frame within METRICS_EVERY_S of the last measurement repeats its losses;
    paused, every frame measures the network it shows."""
    s = Session(Limits())
    calls = []
    evaluate = s.trainer.evaluate
    monkeypatch.setattr(s.trainer, "evaluate", lambda *a: calls.append(1) or evaluate(*a))
    now = [100.0]
    monkeypatch.setattr(snapshot.time, "monotonic", lambda: now[0])
    s.running = True
    first = F.decode_frame(s.messages_and_frame()[1])["metrics"]
    ticks.train(s, 5)
    now[0] += snapshot.METRICS_EVERY_S / 2
    again = F.decode_frame(s.messages_and_frame()[1])["metrics"]
    keys = ("train_loss", "test_loss", "train_metric", "test_metric")
    assert len(calls) == 2 and [again[k] for k in keys] == [first[k] for k in keys]  # measured once
    now[0] += snapshot.METRICS_EVERY_S
    F.decode_frame(s.messages_and_frame()[1])
    assert len(calls) == 4
    s.running = False
    F.decode_frame(s.messages_and_frame()[1])
    F.decode_frame(s.messages_and_frame()[1])
    assert len(calls) == 8


@pytest.mark.parametrize("loss", ["cross_entropy", "bce", "mse"])
def test_the_output_map_is_p_of_class_one(loss):
    """The two-class output heatmap is p(class 1) as the run's loss defines it (σ(z₁ − z₀) is
    softmax's for two logits)."""
    from deltaflow.training.task import Task

    config = RunConfig.from_dict({"data": {"name": "xor"}, "loss": loss, "model": {"hidden": [5]}})
    s = Session(Limits(), config)
    ticks.train(s, 20)
    maps = snapshot.maps(s)
    out = s.trainer.net.forward(s.grid_X, False)
    np.testing.assert_allclose(maps[0], Task("classification", loss, n_classes=2).proba(out)[:, 1], rtol=1e-6, atol=1e-7)


def test_a_tick_and_its_frame_in_one_call():
    """``train_tick_and_frame``: the frame shows the tick's steps; without credit it trains
    and builds nothing, and the state waits for the next frame."""
    s = Session(Limits(window=1))
    s.running, s.steps_per_frame = True, 3
    messages, data, seconds = s.train_tick_and_frame(0.01)
    assert messages == [] and seconds >= 0 and F.decode_frame(data)["step"] == 3
    assert s.train_tick_and_frame(0.01) is None  # frame 1 is not acknowledged yet
    assert s.trainer.step == 6 and s.dirty
    s.acked = 1
    assert F.decode_frame(s.train_tick_and_frame(0.01)[1])["step"] == 9


def test_the_frames_update_ratio_is_the_last_steps_own():
    """update_ratio is ‖ΔW‖/‖W‖ of a tick's last step (the probe's figure), NaN when the tick
    stopped before its last step."""
    s = Session(Limits(), RunConfig.from_dict(TINY))
    ticks.train(s, 2)
    before = [u.dense.W.value.astype(np.float64) for u in s.units]
    ticks.train(s, 1)
    ratio = s.stats[list(F.STATS).index("update_ratio")]
    expected = [np.linalg.norm(u.dense.W.value - W) / np.linalg.norm(W) for u, W in zip(s.units, before)]
    np.testing.assert_allclose(ratio, expected, rtol=1e-5)
    assert ticks.train(s, 10) == 2  # the run's 5 epochs of one step end here
    assert np.isnan(s.stats[list(F.STATS).index("update_ratio")]).all()


def strict(message: dict) -> dict:
    """``message`` after a round trip through strict JSON (NaN and ±inf refused both ways)."""
    def refuse(token):
        raise ValueError(f"non-finite {token} in a reply")

    return json.loads(json.dumps(message, allow_nan=False), parse_constant=refuse)


REGRESSION = {"data": {"name": "sin", "n_samples": 40}, "model": {"hidden": [4]}, "batch_size": 64, "epochs": 5}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("message, words", [
    ({"type": "add_point", "x1": 1e39, "value": 0.5}, ["x1", "±1000"]),
    ({"type": "add_point", "x1": -1e39, "value": 0.5}, ["x1", "±1000"]),
    ({"type": "set_weight", "layer": 0, "row": 0, "column": 0, "value": 1e39}, ["value", "1000000"]),
    ({"type": "set_weight", "layer": 0, "row": 0, "column": 0, "value": -3.5e38}, ["value", "1000000"]),
])
def test_a_value_out_of_range_is_an_error_naming_the_field_and_the_range(dtype, message, words):
    s = Session(Limits(), RunConfig.from_dict({**REGRESSION, "dtype": dtype}))
    reply = handle(s, **message)
    assert reply["type"] == "error" and reply["about"] == message["type"]
    assert all(w in reply["message"] for w in words), reply["message"]
    state = strict(handle(s, type="reset"))
    assert state["data"]["added"] == 0 and not state["edited"]
    s.handle(json.dumps({"type": "step", "n": 2}))
    s.train_tick(0.0)  # the steps run in the next tick
    assert s.trainer.step == 2 and np.isfinite(s.trainer.history["train_loss"]).all()


def test_an_added_value_beyond_float32_is_refused_and_the_session_goes_on():
    s = Session(Limits(), RunConfig.from_dict(REGRESSION))
    n = len(s.dataset.y_train)
    for value in (1e39, -3.5e38):
        reply = handle(s, type="add_point", x1=0.5, value=value)
        assert reply["type"] == "error" and "value" in reply["message"] and "float32 range" in reply["message"]
    assert len(s.dataset.y_train) == n and s.added == 0
    assert strict(handle(s, type="reset"))["data"]["added"] == 0
    F.decode_frame(s.messages_and_frame()[1])  # the frame after it builds (it raised on an inf point)
    assert strict(handle(s, type="add_point", x1=0.5, value=3e38))["data"]["added"] == 1  # within float32
    # float64 holds 1e39: the same point is accepted there
    s64 = Session(Limits(), RunConfig.from_dict({**REGRESSION, "dtype": "float64"}))
    assert strict(handle(s64, type="add_point", x1=0.5, value=1e39))["data"]["train"]["y"][-1] == 1e39


@pytest.mark.parametrize("text", [
    "x1,x2,label\n" + "".join(f"{x:.2f},{1e39 if i == 7 else -x:.6g},{i % 2}\n" for i, x in enumerate(np.linspace(-2, 2, 40))),
    "a,b,y\n" + "".join(f"{x:.2f},{-x:.2f},{-3.5e38 if i == 3 else x:.6g}\n" for i, x in enumerate(np.linspace(-2, 2, 40))),
])
def test_an_upload_with_a_cell_beyond_float32_is_refused_and_the_session_goes_on(text):
    s = Session(Limits())
    reply = handle(s, type="upload_csv", text=text, name="big.csv")
    assert reply["type"] == "error" and reply["about"] == "upload_csv"
    assert "float32" in reply["message"] and "big.csv" in reply["message"], reply["message"]
    assert s.config.data.name != "csv" and s.upload_path is None
    strict(handle(s, type="reset"))
    F.decode_frame(s.messages_and_frame()[1])


def test_state_and_explain_carry_null_for_a_non_finite_number():
    s = Session(Limits(), RunConfig.from_dict(TINY))
    s.handle(json.dumps({"type": "step", "n": 1}))
    s.train_tick(0.0)  # the step runs in the next tick
    d = s.dataset
    d.X_train_raw[0, 1] = np.nan  # a point the checks would refuse, put there by hand
    s.extent["x1"][0] = -np.inf
    s.trainer.history["train_loss"][-1] = np.nan
    state = strict(s.state())
    assert state["data"]["train"]["x"][0][1] is None and state["extent"]["x1"][0] is None
    assert state["history"]["train_loss"][-1] is None
    (explained,) = s.handle(json.dumps({"type": "explain", "split": "train", "index": 0}))
    assert strict(explained)["x_raw"][1] is None


def test_deep_nesting_is_an_error_that_leaves_a_playing_session_playing(caplog):
    s = Session(Limits(), RunConfig.from_dict(TINY))
    s.running = True
    for text in ["[" * 100_000 + "]" * 100_000,
                 '{"type": "config", "config": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001,
                 '{"type": "config", "config": ' + '{"a": ' * 40 + "1" + "}" * 41]:
        (reply,) = s.handle(text)
        assert reply["type"] == "error" and f"limit of {P.MAX_DEPTH} levels" in reply["message"], reply
        assert s.running
    assert reply["about"] == "config"
    assert not [r for r in caplog.records if r.levelno >= 30 or r.exc_info]
    assert P.depth({"a": [1, {"b": []}]}) == 4 and P.depth(5) == 0


def test_explain_shows_the_gradient_step_exactly_when_the_update_is_plain_sgd():
    """W ← W − η·∂L/∂W is shown for SGD without momentum, decay, L1/L2 or clipping (its update
    is that formula), with the session's η; for Adam, or SGD with momentum, it is not."""
    def explained(config):
        s = Session(Limits(), RunConfig.from_dict(config))
        (reply,) = s.handle(json.dumps({"type": "explain", "split": "train", "index": 0}))
        return reply["explanation"]

    sgd = {"data": {"name": "xor"}, "model": {"hidden": [3]}, "optimizer": {"name": "sgd", "lr": 0.25}}
    ex = explained(sgd)
    assert ex["lr"] == 0.25
    layer = ex["layers"][0]["quantities"]
    W, dW, W_new = (np.asarray(layer[k]["value"]) for k in ("W", "dW", "W_new"))
    np.testing.assert_allclose(W_new, W - 0.25 * dW, rtol=0, atol=1e-6)
    assert explained({**sgd, "optimizer": {"name": "sgd", "lr": 0.25, "momentum": 0.9}})["lr"] is None
    assert explained({**sgd, "optimizer": {"name": "adam", "lr": 0.25}})["lr"] is None
    assert explained({**sgd, "clip_norm": 1.0})["lr"] is None
