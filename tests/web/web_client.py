"""A test-client WebSocket wrapper that reads typed messages and decoded frames."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json

from deltaflow.web.frames import REPLAY, decode_frame


def run_async(coroutine):
    """``asyncio.run(coroutine)`` on a thread of its own: the calling thread may already run
    an event loop (Playwright's sync API keeps one in the main thread once the browser tests
    have started), where ``asyncio.run`` refuses to start a second."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class Socket:
    """A test-client WebSocket that decodes frames, acknowledges them if asked, and keeps
    the latest ``state``."""

    def __init__(self, ws, ack: bool = True):
        self.ws, self.ack = ws, ack
        self.sent = 0  # messages sent but acks; a frame's ``handled`` says how many it shows
        self.hello = self.next("hello")
        self.state = self.next("state")
        self.frame = self.next_frame()

    def send(self, **message) -> None:
        self.ws.send_text(json.dumps(message))
        self.sent += message["type"] != "ack"

    def receive(self):
        """The next message: a dict for JSON, a decoded frame (with ``raw`` bytes) for binary."""
        m = self.ws.receive()
        if m["type"] == "websocket.close":
            return {"type": "closed", "code": m.get("code")}
        if m.get("bytes") is not None:
            frame = decode_frame(m["bytes"])
            frame["type"], frame["raw"] = "frame", m["bytes"]
            frame["current"] = frame["handled"] >= self.sent  # it shows every message sent so far
            if self.ack and not frame["flags"] & REPLAY:  # a replayed frame is outside the flow control
                self.send(type="ack", frame=frame["frame_id"])
            return frame
        message = json.loads(m["text"])
        if message["type"] == "state":
            self.state = message
        return message

    def next(self, kind: str, skip=("frame",)):
        """The next message of type ``kind``, skipping frames (and nothing else)."""
        while True:
            m = self.receive()
            if m["type"] == kind:
                return m
            assert m["type"] in skip, f"expected {kind}, got {m}"

    def next_frame(self) -> dict:
        """The next frame that shows every message sent so far (earlier frames are skipped)."""
        while True:
            m = self.next("frame", skip=())
            if m["current"]:
                return m

    def error(self) -> str:
        return self.next("error")["message"]

    def request(self, **message) -> dict:
        """Send a message that changes the state; returns the first frame that shows it."""
        self.send(**message)
        while True:
            m = self.receive()
            if m["type"] == "frame" and m["current"]:
                return m
            assert m["type"] in ("frame", "state", "alarm"), m
