"""The socket against random messages: every reply is strict JSON, the session lives on and
another session keeps getting frames."""

from __future__ import annotations

import json
import math

import anyio

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from deltaflow.web import frames as F
from deltaflow.web import protocol as P
from deltaflow.web.frames import decode_frame
from deltaflow.web.session import Session

from web_client import Socket

EDGE_FLOATS = [1e39, -1e39, 3.4028235e38, 3.5e38, -3.5e38, 1e308, 5e-324, -0.0, math.nan, math.inf, -math.inf]
SCALARS = (st.none() | st.booleans() | st.integers(-3, 8) | st.integers(-2**70, 2**70) | st.floats()
           | st.sampled_from(EDGE_FLOATS) | st.text(max_size=12) | st.sampled_from(["train", "test", "tanh", "x.csv"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                             max_size=4), max_leaves=10)
FIELDS = {m.model_fields["type"].annotation.__args__[0]: [f for f in m.model_fields if f != "type"] for m in P.MESSAGES}
FLOATS = st.sampled_from(EDGE_FLOATS) | st.floats(-2, 2)
CSV_BIG_CELL = "x1,x2,y\n" + "".join(f"{i / 10},{1e39 if i == 5 else -i / 10},{i % 2}\n" for i in range(30))
# values a handler accepts, or nearly (edge floats): these reach the handlers, not only the schema
PLAUSIBLE = {
    "x1": FLOATS, "x2": FLOATS | st.none(), "value": FLOATS, "label": st.integers(0, 2), "layer": st.integers(0, 3),
    "row": st.integers(0, 8), "column": st.integers(0, 8) | st.none(), "bias": st.booleans(), "n": st.integers(1, 5),
    "frame": st.integers(0, 3), "split": st.sampled_from(["train", "test"]), "index": st.integers(0, 5),
    "steps_per_frame": st.integers(0, 5), "examples_per_second": FLOATS, "grid": st.none() | st.integers(0, 24),
    "config": st.sampled_from([{}, {"data": {"name": "sin"}}, {"data": {"name": "sin"}, "dtype": "float64"},
                               {"data": {"name": "sin"}, "model": {"hidden": [1e39]}}]),
    "text": st.sampled_from([CSV_BIG_CELL, CSV_BIG_CELL.replace("1e+39", "0.5"), "{}", "a,b\n1,2\n"]),
    "name": st.sampled_from(["big.csv", "../x.csv"]), "target": st.none() | st.just("y"),
    "x": st.lists(st.floats(0, 16) | FLOATS, min_size=63, max_size=65),  # a drawn digit's 64 inputs, or nearly
    "chapter": st.sampled_from(["perceptron", "forward", "linear", "activations", "softmax", "backprop", "minibatch",
                                "vanishing", "batchnorm", "universal", "bogus"]),
    "request": st.sampled_from([{}, {"part": "bogus"}, {"depth": 1e39}, {"gate": "xor", "epochs": 50},
                                {"gate": "and", "lr": 1e39}, {"seed": 1}, {"seed": 1, "x": [1e39, 0]},
                                {"n": 801, "z": 1e39}, {"part": "sweep", "logits": [1e39, 0.0], "y": 0},
                                {"part": "example", "logits": [0.5, -30.0, 30.0], "y": 2},
                                {"part": "train", "batch_sizes": [1, 256], "epochs": 3}, {"part": "collapse", "x": [1e39, 0]}]),
}
DEEP = ["[" * 100_000 + "]" * 100_000, '{"type": "config", "config": ' + '{"a": ' * 5000 + "1" + "}" * 5001,
        '{"type": "step", "n": ' + "[" * 40 + "]" * 40 + "}"]


@st.composite
def messages(draw) -> tuple[str, bool]:
    """(a message's text, whether the session counts it: everything but an ``ack``)."""
    kind = draw(st.sampled_from([*P.MESSAGE_TYPES, "bogus"]))
    if kind != "bogus" and draw(st.booleans()):
        fields = {f: draw(PLAUSIBLE[f]) for f in FIELDS[kind] if draw(st.booleans())}
    else:
        fields = draw(st.dictionaries(st.sampled_from([*FIELDS.get(kind, []), "extra"]), VALUES, max_size=5))
    return json.dumps({"type": kind, **fields}), kind != "ack"


# the messages that broke a session once, always tried first
KNOWN = [(json.dumps(m), True) for m in (
    {"type": "add_point", "x1": 0.5, "value": 1e39}, {"type": "add_point", "x1": 1e39, "value": 0.5},
    {"type": "upload_csv", "text": CSV_BIG_CELL, "name": "big.csv"},
    {"type": "set_weight", "layer": 0, "row": 0, "column": 0, "value": 1e39})] + [(t, True) for t in DEEP]
TEXTS = (messages() | st.sampled_from(DEEP).map(lambda t: (t, True))
         | st.text(max_size=30).map(lambda t: (t, True)) | st.just(("x" * 1_300_000, True)))


def strict_json(text: str) -> dict:
    def refuse(token):
        raise AssertionError(f"a reply carries {token}")

    return json.loads(text, parse_constant=refuse)


def receive(ws, seconds: float = 20.0) -> dict:
    """``ws.receive()``, except that a socket the server abandoned (a handler that died
    without closing it) fails the test instead of hanging it."""
    async def get():
        with anyio.fail_after(seconds):
            return await ws._send_rx.receive()  # what ws.receive() awaits, with no way to time out

    try:
        return ws.portal.call(get)
    except TimeoutError:
        raise AssertionError(f"no reply in {seconds:g} s: the server abandoned the socket") from None


def replies_until(ws, done) -> list[dict]:
    """The socket's JSON replies up to the first for which ``done(reply)`` holds, each
    checked: JSON text strict, frames decodable (and acknowledged)."""
    seen = []
    while True:
        m = receive(ws)
        assert m["type"] != "websocket.close", f"the socket closed: {m}"
        if m.get("bytes") is not None:
            frame = decode_frame(m["bytes"])
            ws.send_text(json.dumps({"type": "ack", "frame": frame["frame_id"]}))
            continue
        reply = strict_json(m["text"])
        seen.append(reply)
        if reply["type"] == "error":
            assert isinstance(reply["message"], str) and "\n" not in reply["message"]
        if done(reply):
            return seen


def test_random_messages_get_strict_json_and_leave_both_sessions_alive(client):
    with client.websocket_connect("/ws") as a_ws, client.websocket_connect("/ws") as b_ws:
        a, b = Socket(a_ws), Socket(b_ws)
        a.send(type="config", config={"data": {"name": "sin"}})  # regression: add_point takes a value
        a.next("state")
        b.send(type="speed", steps_per_frame=1)
        b.send(type="play")
        start = b.next_frame()["step"]
        handled = [a.state["handled"]]

        dead = []  # the socket broke: every later example fails at once (no 20 s wait, no shrinking)

        @settings(max_examples=70, deadline=None, derandomize=True, database=None,
                  phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
        @given(TEXTS)
        def one(sent):
            assert not dead, f"the socket broke on an earlier message: {dead[0]!r}"[:300]
            dead.append(sent[0])
            text, counted = sent
            a_ws.send_text(text)
            a_ws.send_text(json.dumps({"type": "pause"}))
            a_ws.send_text(json.dumps({"type": "reset"}))  # a state-producing message works after it
            handled[0] += counted + 2
            state = replies_until(a_ws, lambda r: r["type"] == "state" and r["handled"] == handled[0])[-1]
            assert state["running"] is False
            dead.pop()

        for known in reversed(KNOWN):  # the last applied is tried first
            one = example(known)(one)
        one()
        while (frame := b.next_frame())["step"] <= start:  # B trained on and kept its frames coming
            pass
        assert frame["flags"] & F.RUNNING


def test_a_reply_that_is_not_strict_json_becomes_an_error_not_a_dropped_socket(client, monkeypatch):
    state, broken = Session.state, []

    def sometimes_broken(self):
        reply = state(self)
        if broken:
            reply["step"] = broken.pop()  # a reply some bug left a NaN in
        return reply

    monkeypatch.setattr(Session, "state", sometimes_broken)
    with client.websocket_connect("/ws") as ws:
        s = Socket(ws)
        broken.append(math.nan)
        s.send(type="reset")
        m = replies_until(ws, lambda r: r["type"] in ("error", "state"))[-1]
        assert m["type"] == "error" and "state reply could not be sent" in m["message"]
        s.send(type="reset")
        assert replies_until(ws, lambda r: r["type"] == "state")[-1]["step"] == 0
