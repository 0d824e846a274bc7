"""The simulator server through Starlette's test client: sessions, limits, determinism."""

from __future__ import annotations

import contextlib
import re
import socket
import time
import typing

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from deltaflow.training.config import OptimizerConfig, RunConfig, ScheduleConfig
from deltaflow.training.io import load_model
from deltaflow.training.trainer import fit
from deltaflow.web import frames as F
from deltaflow.web import protocol as P
from deltaflow.web.limits import Limits

from web_client import Socket

SMALL = {"data": {"name": "spiral"}, "model": {"hidden": [6, 6], "activation": "tanh"},
         "optimizer": {"name": "adam", "lr": 0.02}, "batch_size": 10, "epochs": 3, "seed": 3}
STEPS_PER_EPOCH = 40  # spiral: 400 training rows in batches of 10


def connect(client, **kw):
    return client.websocket_connect("/ws", **kw)


def test_page_and_hello(client):
    assert client.get("/").status_code == 200
    with connect(client) as ws:
        s = Socket(ws)
        h = s.hello
        assert h["protocol"] == P.PROTOCOL_VERSION and len(h["session"]) >= 20
        assert h["limits"]["max_hidden_layers"] >= 32 and h["limits"]["max_width"] >= 64
        assert {p["name"] for p in h["presets"]} >= {"perceptron_xor", "vanishing_sigmoid", "uat_1d"}
        assert h["frame"]["stats"] == list(F.STATS) and h["defaults"]["config"]["model"]["hidden"] == [8, 8]
        net = s.state["network"]
        assert [(l["n_in"], l["n_out"], l["activation"]) for l in net["layers"]] == [
            (2, 8, "tanh"), (8, 8, "tanh"), (8, 2, "softmax")]
        f = s.frame  # the step-0 frame has the documented sizes
        assert f["step"] == 0 and not f["flags"] & F.HAS_STATS and f["shapes"] == [(8, 2), (8, 8), (2, 8)]
        assert h["defaults"]["grid"] == s.state["grid"] == 64 and h["defaults"]["curve_grid"] == 128
        assert f["maps"].shape == (1 + 16, 64, 64) and len(f["raw"]) % 4 == 0
        assert f["params"][0]["W"].shape == (8, 2) and set(f["metrics"]) == set(F.METRICS)


def test_each_preset_validates_builds_and_steps(client):
    limits = Limits()
    with connect(client) as ws:
        s = Socket(ws)
        for preset in s.hello["presets"]:
            RunConfig.from_dict(preset["config"])
            # the page sends a preset's grid as it is: it must lie within the limits, not be clamped
            assert limits.min_grid <= preset["grid"] <= limits.max_grid
            s.send(type="config", config=preset["config"], grid=preset["grid"])
            st = s.next("state")
            assert st["config"] == preset["config"] and st["grid"] == preset["grid"]
            f = s.request(type="step", n=2)
            assert f["step"] == 2 and f["flags"] & F.HAS_STATS
            assert f["flags"] & (F.CURVES if preset["name"] == "uat_1d" else F.MAPS)
            if preset["name"] == "vanishing_sigmoid":
                assert f["alarm"] == F.ALARM_VANISHING and f["alarm_layer"] == 0
                g = f["stats"]["grad_W_norm"]
                assert g[0] < 1e-4 * g[-1]


def test_hello_lists_the_configs_choices(client):
    """The optimizers, schedules and losses a config accepts, as config.py types them."""
    with connect(client) as ws:
        h = Socket(ws).hello
    assert h["optimizers"] == list(typing.get_args(OptimizerConfig.model_fields["name"].annotation))
    assert h["schedules"] == list(typing.get_args(ScheduleConfig.model_fields["name"].annotation))
    assert h["losses"] == ["cross_entropy", "bce", "mse"]
    for name in h["optimizers"]:
        RunConfig.from_dict({"optimizer": {"name": name}})
    for name in h["losses"]:
        RunConfig.from_dict({"loss": name})


@pytest.mark.parametrize(
    "change, words",
    [
        ({"optimizer": {"name": "adam", "lr": -1}}, "optimizer.lr"),
        ({"model": {"hidden": [4], "colour": "red"}}, "model.colour"),
        ({"data": {"name": "nope"}}, "data.name"),
        ({"loss": "bce", "data": {"name": "spiral3"}}, "bce"),
        ({"model": {"hidden": [4] * 33}}, "33 hidden layers is over the limit of 32"),
        ({"model": {"hidden": [65]}}, "65 neurons in a layer is over the limit of 64"),
        ({"batch_size": 5000}, "batch_size: 5000 is over the limit"),
        ({"data": {"name": "circle", "n_samples": 50_000}}, "data.n_samples"),
        ({"data": {"name": "digits", "noise": 0.1}}, "do not apply to 'digits'"),
        ({"data": {"name": "csv", "path": "/etc/passwd"}}, "server reads no paths"),
        ({"epochs": 100_001}, "epochs: 100,001 is over the simulator's limit of 100,000"),
        ({"steps": 5_000_000}, "steps: 5,000,000 steps take 125,000 epochs of this data set, over the simulator's limit"),
    ],
)
def test_bad_configs_get_an_error_and_the_session_lives_on(client, change, words):
    with connect(client) as ws:
        s = Socket(ws)
        s.send(type="config", config={**SMALL, **change})
        assert words in s.error()
        assert s.request(type="step", n=1)["step"] == 1  # the old run, untouched


@pytest.mark.parametrize(
    "message, words",
    [
        ({"type": "config", "config": SMALL, "grid": 500}, "grid: 500 is outside"),
        ({"type": "config", "config": SMALL, "grid": 3}, "grid: 3 is outside"),
        ({"type": "config", "config": {**SMALL, "model": {"hidden": [64] * 32}}, "grid": 50}, "use a grid of at most"),
        ({"type": "step", "n": 20_000}, "over the limit of 10000 steps"),
        ({"type": "play", "pad": "x" * 1_300_000}, "characters, over the limit"),
        ({"type": "speed", "steps_per_frame": 20_000}, "steps per frame is over the limit"),
        ({"type": "upload_csv", "text": "x1,x2,y\n" + "10.5,20.25,0\n" * 80_000}, "bytes, over the limit"),
        ({"type": "upload_csv", "text": "x1,x2,y\n" + "1,2,0\n" * 10_001}, "rows, over the limit"),
        ({"type": "ack", "frame": 99}, "has not been sent"),
    ],
)
def test_limits(client, message, words):
    with connect(client) as ws:
        s = Socket(ws)
        s.send(**message)
        assert words in s.error()
        assert s.request(type="step", n=1)["step"] == 1


def test_malformed_messages_get_errors_and_the_session_continues(client):
    with connect(client) as ws:
        s = Socket(ws)
        ws.send_text("{nope")
        assert "not valid JSON" in s.error()
        ws.send_bytes(b"\x00\x01")
        assert "binary" in s.error()
        s.send(type="teleport")
        assert "unknown message type 'teleport'" in s.error()
        s.send(type="step", n="3")
        assert "n:" in s.error()
        s.send(type="set_weight", layer=9, row=0, column=0, value=1.0)
        assert "layer 9 does not exist" in s.error()
        s.send(type="explain", split="test", index=10_000)
        assert "out of range" in s.error()
        assert s.request(type="step", n=2)["step"] == 2


def _steps(s: Socket, chunks, config=SMALL) -> list[dict]:
    s.send(type="config", config=config, grid=16)
    s.next("state")
    s.next_frame()
    return [s.request(type="step", n=n) for n in chunks]


def _run_steps(client, chunks, config=SMALL) -> list[dict]:
    with connect(client) as ws:
        return _steps(Socket(ws), chunks, config)


def test_steps_are_deterministic_and_sessions_isolated(client):
    a = _run_steps(client, [7, 13])
    b = _run_steps(client, [7, 13])
    assert [f["raw"] for f in a] == [f["raw"] for f in b]
    # two sessions open at once: one training does not move the other
    with connect(client) as ws1, connect(client) as ws2:
        s1, s2 = Socket(ws1), Socket(ws2)
        assert s1.hello["session"] != s2.hello["session"]
        for s in (s1, s2):
            s.send(type="config", config=SMALL, grid=16)
            s.next("state")
            s.next_frame()
        s2.send(type="config", config={**SMALL, "model": {"hidden": [3]}}, grid=16)
        s2.next("state")
        s2.request(type="step", n=50)
        assert s1.request(type="step", n=7)["raw"] == a[0]["raw"]
        assert s1.request(type="step", n=13)["raw"] == a[1]["raw"]


def test_session_history_model_and_config_equal_fit(client, tmp_path):
    """3 epochs stepped in uneven chunks (pausing mid-epoch) give fit's numbers bit for bit."""
    with connect(client) as ws:  # downloads need the session's socket open
        s = Socket(ws)
        _check_equal_fit(client, s, _steps(s, [25, 50, 1, 44])[-1], tmp_path)
    assert client.get("/api/session/not-a-session/model.npz").status_code == 404


def _check_equal_fit(client, s: Socket, last: dict, tmp_path) -> None:
    assert last["epoch"] == 3 and last["step"] == 3 * STEPS_PER_EPOCH and last["flags"] & F.DONE
    sid = s.hello["session"]
    config = RunConfig.from_json(client.get(f"/api/session/{sid}/config.json").text)
    assert config == RunConfig.from_dict(SMALL)
    ref = fit(config)
    history = client.get(f"/api/session/{sid}/history.json").json()
    assert history == {k: [float(v) for v in vs] for k, vs in ref.history.items()}
    model = client.get(f"/api/session/{sid}/model.npz")
    assert model.status_code == 200
    path = tmp_path / "model.npz"
    path.write_bytes(model.content)
    loaded = load_model(path)
    assert RunConfig.from_dict(loaded.config) == config and loaded.meta["epoch"] == 3
    for k, v in ref.net.state_dict().items():
        np.testing.assert_array_equal(loaded.net.state_dict()[k], v)
    W_frame = last["params"][0]["W"]
    np.testing.assert_array_equal(W_frame, ref.net.layers[0].W.value)


def test_done_refuses_more_training(client):
    with connect(client) as ws:
        s = Socket(ws)
        s.send(type="config", config={**SMALL, "epochs": 1}, grid=0)
        s.next("state")
        f = s.request(type="step", n=500)
        assert f["step"] == STEPS_PER_EPOCH and f["flags"] & F.DONE and f["maps"] is None
        s.send(type="play")
        assert "the run is complete" in s.error()
        s.send(type="reset")
        assert s.next("state")["step"] == 0


def test_flow_control_stops_after_the_window(make_client):
    client = make_client(window=2)
    with connect(client) as ws:
        s = Socket(ws, ack=False)  # frame 1 received, not acknowledged
        s.send(type="speed", steps_per_frame=1)
        s.send(type="play")
        f2 = s.next_frame()
        assert f2["frame_id"] == 2
        time.sleep(0.3)  # training goes on; nothing may be sent
        s.send(type="jump")
        assert s.receive()["type"] == "error"  # no frame came before the reply
        s.send(type="ack", frame=2)
        f3 = s.next_frame()
        assert f3["frame_id"] == 3 and f3["step"] > f2["step"] + 3  # the newest state, not a backlog
        assert len(f3["loss_points"]) == f3["step"] - f2["step"]


def test_nan_alarm_pauses_and_names_the_layer(client):
    exploding = {"data": {"name": "circle"}, "model": {"hidden": [8] * 12, "activation": "linear"},
                 "optimizer": {"name": "sgd", "lr": 1.0}, "batch_size": 10}
    with connect(client) as ws:
        s = Socket(ws)
        s.send(type="config", config=exploding, grid=8)
        s.next("state")
        s.send(type="step", n=50)
        alarm = s.next("alarm")
        assert alarm["alarm"] == "nan" and "non-finite" in alarm["message"] and 0 <= alarm["layer"] <= 12
        # one numbering: the page's (unit layers from 1), not the Trainer's index in net.layers
        assert re.findall(r"layer (\d+)", alarm["message"]) == [str(alarm["layer"] + 1)], alarm["message"]
        f = s.next_frame()
        assert f["flags"] & F.PAUSED_BY_ALARM and f["alarm"] == F.ALARM_NAN and f["alarm_layer"] == alarm["layer"]
        assert f["step"] < 50 and all(np.isfinite(p["W"]).all() for p in f["params"])  # rolled back
        s.send(type="play")
        assert "non-finite" in s.error()
        s.send(type="reset")
        assert s.next("state")["step"] == 0
        assert s.next_frame()["alarm"] == F.ALARM_NONE


def test_edits_points_upload_explain(client):
    with connect(client) as ws:
        s = Socket(ws)
        n = len(s.state["data"]["train"]["x"])
        s.send(type="add_point", x1=1.0, x2=-2.0, label=1)
        st = s.next("state")
        assert len(st["data"]["train"]["x"]) == n + 1 and st["data"]["train"]["x"][-1] == [1.0, -2.0]
        assert st["edited"] and st["data"]["added"] == 1
        s.send(type="add_point", x1=1.0, x2=-2.0, label=7)
        assert "label" in s.error()
        f = s.request(type="set_weight", layer=1, row=2, column=3, value=0.5)
        assert f["params"][1]["W"][2, 3] == 0.5 and f["flags"] & F.EDITED
        f = s.request(type="set_weight", layer=2, row=1, bias=True, value=-1.5)
        assert f["params"][2]["b"][1] == -1.5
        s.send(type="explain", split="train", index=n)  # the added point
        e = s.next("explain")
        assert e["x_raw"] == [1.0, -2.0] and e["y"] == 1 and len(e["explanation"]["layers"]) == 3
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60, 2))
        text = "a,b,cls\n" + "\n".join(f"{x1:.4f},{x2:.4f},{int(x1 * x2 > 0)}" for x1, x2 in X)
        s.send(type="upload_csv", text=text, name="mine.csv")
        st = s.next("state")
        assert st["config"]["data"]["name"] == "csv" and st["config"]["data"]["path"] == "mine.csv"
        assert st["data"]["raw_names"] == ["a", "b"] and not st["edited"]
        assert s.request(type="step", n=3)["step"] == 3
        s.send(type="upload_csv", text="a,b,cls\n1,2,0\n1,x,1\n", name="bad.csv")
        message = s.error()
        assert "bad.csv line 3" in message and "deltaflow-upload" not in message
        s.send(type="regenerate")
        assert "uploaded data" in s.error()


def test_one_dimensional_data_sends_curves(client):
    with connect(client) as ws:
        s = Socket(ws)
        s.send(type="config", config={"data": {"name": "sin"}, "model": {"hidden": [5]}}, grid=32)
        st = s.next("state")
        assert st["data"]["dims"] == 1 and st["extent"]["x2"] is None
        f = s.next_frame()
        assert f["flags"] & F.CURVES and f["curves"].shape == (1 + 5, 32)
        s.send(type="add_point", x1=0.5, value=2.0)
        assert s.next("state")["data"]["train"]["y"][-1] == 2.0
        s.send(type="regenerate")
        assert s.next("state")["config"]["seed"] == 1


def test_import_config_reports_json_problems(client):
    with connect(client) as ws:
        s = Socket(ws)
        s.send(type="import_config", text="{oops")
        assert "import_config" in s.error()
        s.send(type="import_config", text=RunConfig.from_dict(SMALL).to_json(), grid=12)
        assert s.next("state")["config"] == RunConfig.from_dict(SMALL).model_dump(mode="json")
        assert s.next_frame()["maps"].shape[1:] == (12, 12)


def test_full_server_says_so(make_client):
    client = make_client(max_sessions=1)
    with connect(client) as ws1:
        Socket(ws1)
        with connect(client) as ws2:
            m = ws2.receive_json()
            assert m["type"] == "full" and m["max_sessions"] == 1
            with pytest.raises(WebSocketDisconnect) as exc:
                ws2.receive_text()
            assert exc.value.code == 1013


def test_idle_sessions_are_reaped(make_client):
    client = make_client(idle_timeout_s=0.3)
    with connect(client) as ws:
        s = Socket(ws)
        assert "without a message" in s.error()
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_text()
        assert exc.value.code == 4000
    deadline = time.monotonic() + 5
    while client.app.state.registry.sessions and time.monotonic() < deadline:
        time.sleep(0.01)  # the server's side of the close runs after the client's
    assert client.app.state.registry.sessions == {}


def test_serve_binds_loopback_by_default(monkeypatch):
    import uvicorn
    from typer.testing import CliRunner

    from deltaflow.cli import app
    from deltaflow.web import server

    calls, probed = [], []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    # the command's check that the port is free, answered here: port 8123 may be taken on this machine
    monkeypatch.setattr(socket, "create_server", lambda address: probed.append(address) or contextlib.nullcontext())
    server.serve()
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["port"] == 8000
    assert calls[-1]["ws_per_message_deflate"] is False  # frames are not compressed on loopback
    result = CliRunner().invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert probed == [("127.0.0.1", 8123)]
    assert calls[-1]["host"] == "127.0.0.1" and calls[-1]["port"] == 8123
    assert "http://127.0.0.1:8123/" in result.output


def test_a_state_counts_the_messages_it_answers(client):
    """A frame whose ``handled`` is below the latest state's was built before it: exact, not by shapes."""
    with connect(client) as ws:
        s = Socket(ws)
        assert s.state["handled"] == 0 and s.frame["handled"] == 0
        s.send(type="speed", steps_per_frame=1)  # handled 1
        s.send(type="step", n=1)  # handled 2
        before = s.next_frame()
        assert before["handled"] == 2
        s.send(type="config", config={**SMALL, "model": {"hidden": [6]}}, grid=16)  # handled 3
        st = s.next("state", skip=("frame",))
        assert st["handled"] == 3 and before["handled"] < st["handled"]
        after = s.next_frame()
        assert after["handled"] >= st["handled"] and after["shapes"] == [(6, 2), (2, 6)]
        s.send(type="teleport")  # refused messages count too
        s.error()
        s.send(type="reset")
        assert s.next("state")["handled"] == 5


def test_explain_errors_are_prefixed_once(client):
    with connect(client) as ws:
        s = Socket(ws)
        s.send(type="config", config={**SMALL, "model": {"hidden": [4], "norm": "batch"}}, grid=0)
        s.next("state")
        s.send(type="explain", split="train", index=0)
        m = s.next("error")
        assert m["about"] == "explain" and m["message"].startswith("explain: ")
        assert "explain: explain" not in m["message"]
        s.send(type="explain", split="train", index=10_000)  # the session's own check: one prefix too
        m = s.next("error")["message"]
        assert m.startswith("explain: index 10000 is out of range") and m.count("explain:") == 1


def test_acks_never_wait_for_the_training_lock():
    """An ack is applied at once even while a training tick holds the session's lock;
    every other message is left to ``handle``, and a bad ack is answered with an error."""
    from deltaflow.web.session import Session

    s = Session(Limits())
    s.messages_and_frame()
    s.messages_and_frame()
    with s.lock:  # as a training tick would hold it
        assert s.handle_ack('{"type": "ack", "frame": 2}') == []
        assert s.acked == 2
        assert s.handle_ack('{"type": "play"}') is None
        assert s.handle_ack("not json") is None
        (reply,) = s.handle_ack('{"type": "ack", "frame": 9}')
    assert reply["type"] == "error" and "frame 9 has not been sent (the last is 2)" in reply["message"]
    assert s.acked == 2


def test_hello_carries_the_lists_the_page_builds_its_menus_from(client):
    """The page keeps no copy of the engine's registries: hello sends them all."""
    from deltaflow.data import DATASETS, FEATURES
    from deltaflow.nn.activations import ACTIVATIONS
    from deltaflow.nn.init import INITIALIZERS
    from deltaflow.training.config import ModelConfig

    with connect(client) as ws:
        h = Socket(ws).hello
    # each trainable activation once, under its own name: "linear" is "identity", "step" has σ' = 0
    assert h["activations"] == ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "identity"]
    assert all(ACTIVATIONS[a]().name == a for a in h["activations"])
    assert h["initializers"] == ["auto", *INITIALIZERS]
    assert h["norms"] == list(typing.get_args(ModelConfig.model_fields["norm"].annotation))
    assert h["features"] == list(FEATURES)
    assert [d["name"] for d in h["datasets"]] == [k for k, v in DATASETS.items() if v.kind in ("toy", "function", "real")]
    assert {d["name"]: d["task"] for d in h["datasets"]}["sin"] == "regression"
    assert h["close_codes"] == {"full": 1013, "idle": 4000, "forbidden": 4003}
    assert h["frame"]["vanishing_ratio"] == F.VANISHING_RATIO and h["frame"]["flags"]["DONE"] == F.DONE
    assert h["frame"]["alarms"] == list(F.ALARMS) and h["frame"]["header_bytes"] == F.HEADER.size
    for name in h["activations"]:
        RunConfig.from_dict({"model": {"activation": name}})
    for name in h["norms"]:
        RunConfig.from_dict({"model": {"norm": name}})


def test_the_page_keeps_no_copy_of_the_servers_lists():
    """Names only hello's lists hold (and the frame's constants) appear in the page's scripts
    only as display text (labels.js), never as a list or a constant of their own."""
    from pathlib import Path

    import deltaflow.web

    js = Path(deltaflow.web.__file__).parent / "static" / "js"
    for path in js.glob("*.js"):
        if path.name == "labels.js":
            continue
        text = path.read_text(encoding="utf-8")
        for name in ('"adamw"', '"xavier_normal"', '"leaky_relu"', '"multi_gauss"', '"sin_x2"', '"cross_entropy"',
                     '"DFLF"', '"grad_b_norm"', "1013", "4000", "1e-4", "PAUSED_BY_ALARM: 2"):
            assert name not in text, f"{path.name} repeats {name}"
