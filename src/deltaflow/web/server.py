"""The simulator's FastAPI app: the page, one WebSocket per tab, and the downloads.

``create_app(limits, host=, port=, token=)`` builds the app for the address it is served at
(tests pass small limits); ``serve()`` runs it with uvicorn on 127.0.0.1 by default. Every
request and socket passes ``guard`` first (Host, Origin, access token). The protocol is
described in ``deltaflow.web.protocol``.

Each socket runs two tasks: the receive loop applies client messages (in a worker thread,
under the session's lock) and replies; the pump trains one tick per 1/max_fps seconds (1/SLOWED_FPS in
``ticks``' slow mode) while playing or stepping and sends the newest state as a frame when the client has credit. Ticks
and frames run on the registry's ``Scheduler`` (training threads of their own, shared fairly
between sessions), never in the default executor that serves messages, ``hello`` and
downloads. Sends go through one lock, so a JSON reply never interleaves with a frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import sys
import tempfile
import threading
import time
import typing
from pathlib import Path

from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from deltaflow.training import io
from deltaflow.nn.activations import ACTIVATIONS
from deltaflow.training.config import ModelConfig, OptimizerConfig, RunConfig, ScheduleConfig
from deltaflow.data import DATASETS, FEATURES
from deltaflow.nn.init import INITIALIZERS
from deltaflow.web import frames, ticks
from deltaflow.web import protocol as P
from deltaflow.web.admission import Ledger
from deltaflow.web.guard import CLOSE_FORBIDDEN, WILDCARDS, Guard, GuardMiddleware, is_loopback, url
from deltaflow.web.building import DEFAULT_CURVE_GRID, DEFAULT_GRID, DEFAULT_STEPS_PER_FRAME, default_config
from deltaflow.web.handlers import error
from deltaflow.web.limits import DRAWABLE, Limits
from deltaflow.web.presets import PRESETS
from deltaflow.web.scheduler import Scheduler
from deltaflow.web.session import Session

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
CLOSE_FULL, CLOSE_IDLE = 1013, 4000


class Registry:
    """The open sessions, at most ``limits.max_sessions``, the ledger of their runs' costs
    (``admission``) and the scheduler of their training (``workers`` threads, default the CPU count)."""

    def __init__(self, limits: Limits, workers: int | None = None):
        self.limits = limits
        self.sessions: dict[str, Session] = {}
        self.ledger = Ledger(limits)
        self.scheduler = Scheduler(workers)
        self._lock = threading.Lock()

    def open(self) -> Session | None:
        with self._lock:
            if len(self.sessions) >= self.limits.max_sessions:
                return None
        session = Session(self.limits, ledger=self.ledger)  # built outside the lock: it generates data
        with self._lock:
            if len(self.sessions) >= self.limits.max_sessions:
                session.close()
                return None
            self.sessions[session.id] = session
        return session

    def release(self, session: Session) -> None:
        """Give the session's slot back and stop its running tick (at once: no lock but the
        registry's is taken)."""
        session.interrupt()
        with self._lock:
            self.sessions.pop(session.id, None)
        self.scheduler.forget(session.id)

    def get(self, sid: str) -> Session:
        session = self.sessions.get(sid)
        if session is None:
            raise HTTPException(404, f"no open session {sid!r}")
        return session


def choices(model, field: str) -> list[str]:
    """The values of a config field typed ``Literal[...]`` (or ``Literal[...] | None``), in order."""
    annotation = model.model_fields[field].annotation
    if typing.get_origin(annotation) is not typing.Literal:
        annotation = next(a for a in typing.get_args(annotation) if typing.get_origin(a) is typing.Literal)
    return list(typing.get_args(annotation))


def trainable_activations() -> list[str]:
    """Each activation once, under its own name (``linear`` is ``identity``), leaving out those
    backpropagation cannot train (σ' = 0 wherever it exists: ``step``)."""
    made = [make() for make in ACTIVATIONS.values()]  # some bounds are properties of the parameters
    return list(dict.fromkeys(a.name for a in made if a.max_derivative > 0))


def hello(session: Session) -> dict:
    """The ``hello`` message (see ``protocol``)."""
    return {
        "type": "hello",
        "protocol": P.PROTOCOL_VERSION,
        "session": session.id,
        "limits": session.limits.to_dict(),
        "defaults": {"config": default_config().model_dump(mode="json"), "grid": DEFAULT_GRID,
                     "curve_grid": DEFAULT_CURVE_GRID, "speed": {"steps_per_frame": DEFAULT_STEPS_PER_FRAME}},
        "presets": PRESETS,
        "datasets": [{"name": k, "task": v.task, "kind": v.kind, "description": v.description,
                      "n_samples": v.n_samples, "noise": v.noise, "max_noise": v.max_noise}
                     for k, v in DATASETS.items() if v.kind in DRAWABLE],
        "features": list(FEATURES),
        "activations": trainable_activations(),
        "initializers": ["auto", *INITIALIZERS],
        "norms": choices(ModelConfig, "norm"),
        "optimizers": choices(OptimizerConfig, "name"),
        "schedules": choices(ScheduleConfig, "name"),
        "losses": choices(RunConfig, "loss"),
        "close_codes": {"full": CLOSE_FULL, "idle": CLOSE_IDLE, "forbidden": CLOSE_FORBIDDEN},
        "frame": frames.frame_constants(),
    }


class Connection:
    """One socket's receive loop and frame pump."""

    def __init__(self, ws: WebSocket, session: Session, limits: Limits, scheduler: Scheduler):
        self.ws, self.session, self.limits, self.scheduler = ws, session, limits, scheduler
        self.send_lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.interval = 1.0 / limits.max_fps

    async def send_json(self, message: dict) -> None:
        """Send ``message`` as strict JSON. Replies carry no NaN or ±inf (null at their source);
        one that still does is a bug, reported to the client as an ``error``, not a dropped socket."""
        try:
            text = json.dumps(message, allow_nan=False)
        except ValueError as exc:
            log.error("session %s: a %s reply has a non-finite number", self.session.id[:6], message.get("type"))
            text = json.dumps(error(f"the {message.get('type')} reply could not be sent ({exc})", message.get("about")))
        async with self.send_lock:
            await self.ws.send_text(text)

    async def send_frame(self, data: bytes) -> None:
        async with self.send_lock:
            await self.ws.send_bytes(data)

    async def run(self) -> None:
        """Until the client leaves or the pump closes an idle session."""
        await self.send_json(hello(self.session))
        await self.send_json(await asyncio.to_thread(_locked, self.session, self.session.state))
        tasks = {asyncio.create_task(self.receive()), asyncio.create_task(self.pump())}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and isinstance(task.exception(), Exception) and not isinstance(
                        task.exception(), (WebSocketDisconnect, RuntimeError)):
                    log.error("session %s ended by an error", self.session.id[:6], exc_info=task.exception())
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def receive(self) -> None:
        """Apply each client message (in a worker thread) and send its replies."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await self.send_json(error("binary messages are not accepted; send JSON text"))
                continue
            # acks come with every frame: applied here, not in a thread waiting for the training lock
            # (handle_ack reads only a text as short as an ack; anything longer is parsed once, in the thread)
            replies = self.session.handle_ack(text)
            if replies is None:
                replies = await asyncio.to_thread(self.session.handle, text)
            for reply in replies:  # JSON, or the binary frame a ``replay`` answers with
                await (self.send_frame(reply) if isinstance(reply, bytes) else self.send_json(reply))
            self.wake.set()

    async def pump(self) -> None:
        """Train a tick per interval while playing or stepping (on the scheduler); send a frame
        when there is news and credit (never more often than max_fps); close an idle session."""
        s, loop = self.session, asyncio.get_running_loop()
        next_tick, last_frame = loop.time(), -1.0
        frame_time = 0.005  # s to build a frame, a running estimate
        while True:
            now = loop.time()
            ticked = now >= next_tick
            framed = None
            if ticked:
                next_tick = max(next_tick + self.interval, now)
                if s.running or s.pending:
                    # at full speed, train until the frame has just time to go out before the next
                    # tick; the frame is built in the same worker call, with no second hand-over
                    budget = max(0.1 * self.interval, next_tick - loop.time() - frame_time - 0.0005)
                    framed = await self.scheduler.run(s.id, s.train_tick_and_frame, budget)
                    if framed is not None:
                        frame_time = 0.8 * frame_time + 0.2 * framed[2]
                    if s.slowed and not s.pending:  # a step a tick, slow enough to watch: from this tick on
                        next_tick = max(next_tick, now + 1.0 / ticks.SLOWED_FPS)
            # one frame per tick while training; news between ticks (a step, an edit) waits out the interval
            if framed is None and s.can_send() and (ticked or loop.time() - last_frame >= self.interval):
                t0 = loop.time()
                framed = (*await self.scheduler.run(s.id, s.messages_and_frame), 0.0)
                frame_time = 0.8 * frame_time + 0.2 * (loop.time() - t0)
            if framed is not None:
                messages, data, _ = framed
                for message in messages:  # an alarm goes out before the frame that shows it
                    await self.send_json(message)
                await self.send_frame(data)
                last_frame = loop.time()
            while s.outbox:  # without credit for a frame, the message still goes out
                await self.send_json(s.outbox.pop(0))
            if time.monotonic() - s.last_active > self.limits.idle_timeout_s:
                await self.send_json(error(f"session closed after {self.limits.idle_timeout_s:g} s without a message"))
                await self.ws.close(code=CLOSE_IDLE)
                return
            wait = next_tick - loop.time() if s.running or s.pending else 0.25
            if s.can_send():
                wait = min(wait, last_frame + self.interval - loop.time())
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), max(wait, 0.0))


def _locked(session: Session, fn):
    with session.lock:
        return fn()


def create_app(limits: Limits | None = None, *, host: str = "127.0.0.1", port: int = 8000,
               token: str | None = None) -> FastAPI:
    """The simulator app, served at ``host:port``. ``limits`` (default ``Limits()``) bounds
    every session; the Host and Origin a request may carry follow from ``host`` and ``port``,
    and a host beyond loopback needs ``token`` (see ``guard``)."""
    limits = limits or Limits()
    registry = Registry(limits)
    app = FastAPI(title="deltaflow simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(GuardMiddleware, guard=Guard(host, port, token))
    app.state.registry = registry

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.websocket("/ws")
    async def socket(ws: WebSocket):
        await ws.accept()
        session = await asyncio.to_thread(registry.open)
        if session is None:
            await ws.send_text(json.dumps({"type": "full", "max_sessions": limits.max_sessions,
                                           "message": f"the server already has its {limits.max_sessions} sessions; "
                                                      "close a tab or try again later"}))
            await ws.close(code=CLOSE_FULL)
            return
        try:
            await Connection(ws, session, limits, registry.scheduler).run()
        except (WebSocketDisconnect, RuntimeError) as exc:
            # the client left before hello or its first state, or uvicorn closed the socket under
            # it (a text frame not UTF-8: a send then raises RuntimeError): not the server's error
            log.info("session %s: the socket closed at once (%s)", session.id[:6], type(exc).__name__)
        finally:
            # the slot first, without an await: a handler cancelled while it closes (the client
            # gone) still gives it back; the session's own close may wait for its training lock
            registry.release(session)
            await asyncio.to_thread(session.close)

    @app.get("/api/session/{sid}/config.json")
    async def config_json(sid: str):
        session = registry.get(sid)
        text = await asyncio.to_thread(_locked, session, session.config.to_json)
        return Response(text, media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="config.json"'})

    @app.get("/api/session/{sid}/history.json")
    async def history_json(sid: str):
        session = registry.get(sid)
        return await asyncio.to_thread(session.history)

    @app.get("/api/session/{sid}/model.npz")
    async def model_npz(sid: str):
        session = registry.get(sid)
        data = await asyncio.to_thread(_model_bytes, session)
        return Response(data, media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="model.npz"'})

    return app


def quiet_invalid_text(record: logging.LogRecord) -> bool:
    """uvicorn logs a client's text frame that is not UTF-8 as an error with a traceback; the
    fault is the client's and uvicorn closes that socket itself (1007): one info line."""
    if record.getMessage().startswith("Invalid UTF-8"):
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True


def _model_bytes(session: Session) -> bytes:
    """The session's network as a ``deltaflow.training.io`` model file, with its config and progress."""
    with session.lock, tempfile.TemporaryDirectory(prefix="deltaflow-model-") as folder:
        t = session.trainer
        meta = {"step": t.step, "epoch": t.epoch, "edited": session.edited, "source": "simulator"}
        path = io.save_model(Path(folder) / "model.npz", t.net, session.config, meta=meta)
        return path.read_bytes()


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False, limits: Limits | None = None):
    """Run the simulator with uvicorn (loopback by default) and print its address; beyond
    loopback, warn and require a fresh access token, printed in the address."""
    import uvicorn

    host = host.strip("[]")  # uvicorn takes an IPv6 address bare
    token = None if is_loopback(host) else secrets.token_urlsafe(16)
    address = url("127.0.0.1" if host in WILDCARDS else host, port, token)
    if token is not None:
        print(f"warning: listening on {host}, beyond this machine: whoever has the address below "
              "(its token included) can use the simulator", file=sys.stderr, flush=True)
    where = "  (from another machine: put this machine's address in place of 127.0.0.1)" if host in WILDCARDS else ""
    print(f"deltaflow simulator at {address}{where}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(address,)).start()
    limits = limits or Limits()
    app = create_app(limits, host=host, port=port, token=token)
    logging.getLogger("uvicorn.error").addFilter(quiet_invalid_text)  # uvicorn's logging config keeps it
    uvicorn.run(app, host=host, port=port, **uvicorn_options(limits))


def uvicorn_options(limits: Limits) -> dict:
    """The keywords ``serve`` gives ``uvicorn.run`` besides the address."""
    # uvicorn refuses larger frames itself; the session's own check gives the clear message
    return {"log_level": "warning", "ws_max_size": 4 * limits.max_message_bytes,
            # on loopback, compressing 70 kB frames 30 times a second costs CPU and saves nothing
            "ws_per_message_deflate": False}
