"""Who may use the simulator: the Host of every route and handshake, the Origin of a socket,
the access token beyond loopback, and what ``serve`` prints and binds."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.client
import logging
import os
import socket
import threading
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import WebSocketDenialResponse

from conftest import BASE_URL, Client
from deltaflow.web import guard, server
from deltaflow.web.guard import CLOSE_FORBIDDEN, Guard, is_loopback
from deltaflow.web.limits import Limits
from deltaflow.web.server import create_app

from web_client import Socket, run_async

OWN_HOSTS = ("127.0.0.1:8000", "localhost:8000", "[::1]:8000")
FOREIGN_HOSTS = ("evil.example", "evil.example:8000", "127.0.0.1:8001", "localhost.evil.example:8000", "")
FOREIGN_ORIGINS = ("http://evil.example", "http://127.0.0.1:8001", "https://127.0.0.1:8000", "null",
                   "http://localhost:8000.evil.example", "http://evil.example:8000")


def routes(sid: str) -> list[str]:
    """Every HTTP route: the page, a static file, the three downloads of session ``sid``."""
    return ["/", "/static/js/main.js", "/static/style.css", f"/api/session/{sid}/config.json",
            f"/api/session/{sid}/history.json", f"/api/session/{sid}/model.npz"]


def refused_http(response) -> bool:
    text = response.text
    return response.status_code == 403 and text.startswith("forbidden: ") and text.count("\n") == 1


def closed_forbidden(ws) -> str:
    """The reason of a socket the server accepted only to close it as forbidden."""
    m = ws.receive()
    assert m["type"] == "websocket.close" and m["code"] == CLOSE_FORBIDDEN, m
    return m["reason"]


def test_every_route_answers_its_own_hosts_and_refuses_others(client):
    with client.websocket_connect("/ws") as ws:
        sid = Socket(ws).hello["session"]
        for path in routes(sid):
            for host in OWN_HOSTS:
                assert client.get(path, headers={"host": host}).status_code == 200, (path, host)
            for host in FOREIGN_HOSTS:
                r = client.get(path, headers={"host": host})
                assert refused_http(r), (path, host, r.status_code, r.text[:100])
                assert sid not in r.text and "<html" not in r.text
        # a route that does not exist says nothing either
        assert refused_http(client.get("/nothing", headers={"host": "evil.example"}))


def test_a_socket_with_a_foreign_host_is_refused_at_the_handshake(client):
    for host in FOREIGN_HOSTS:
        with pytest.raises(WebSocketDenialResponse) as refused:
            with client.websocket_connect("/ws", headers={"host": host}):
                pass
        assert refused.value.status_code == 403 and "Host" in refused.value.text
    assert client.app.state.registry.sessions == {}


def test_a_socket_from_a_foreign_origin_is_closed_before_any_session(client):
    registry = client.app.state.registry
    for origin in FOREIGN_ORIGINS:
        with client.websocket_connect("/ws", headers={"origin": origin}) as ws:
            reason = closed_forbidden(ws)
        assert reason.startswith("forbidden: ") and "origin" in reason
        assert registry.sessions == {}


@pytest.mark.parametrize("origin", [None, "http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000",
                                    "HTTP://LocalHost:8000"])
def test_a_socket_from_the_servers_own_page_or_no_browser_connects(client, origin):
    headers = {} if origin is None else {"origin": origin}
    with client.websocket_connect("/ws", headers=headers) as ws:
        s = Socket(ws)
        assert s.hello["close_codes"]["forbidden"] == CLOSE_FORBIDDEN
        s.send(type="reset")
        assert s.next("state")["type"] == "state"


def test_loopback_is_told_from_other_addresses():
    for host in ("127.0.0.1", "127.4.5.6", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com", "localhost.example.com", ""):
        assert not is_loopback(host), host
    with pytest.raises(ValueError, match="192.168.1.5.*token"):
        create_app(host="192.168.1.5")
    assert guard.url("::1", 8000) == "http://[::1]:8000/"
    assert guard.url("192.168.1.5", 80, "abc") == "http://192.168.1.5:80/?token=abc"


def test_a_named_host_is_allowed_beside_loopback_and_the_default_port_may_be_left_out():
    g = Guard("192.168.1.5", 80, token="t")
    for host in ("192.168.1.5:80", "192.168.1.5", "127.0.0.1", "localhost:80", "[::1]"):
        assert g.host_allowed(host), host
    for host in ("192.168.1.6:80", "evil.example", "192.168.1.5:8000"):
        assert not g.host_allowed(host), host
    assert g.origin_allowed("http://192.168.1.5", "192.168.1.5")
    assert not g.origin_allowed("http://evil.example", "192.168.1.5")


def token_client(host="0.0.0.0", token="s3cret-token") -> Client:
    return Client(create_app(Limits(), host=host, port=8000, token=token), base_url=BASE_URL)


def test_beyond_loopback_every_route_needs_the_token():
    with token_client() as c:
        with c.websocket_connect("/ws?token=s3cret-token") as ws:  # the downloads need an open session
            sid = Socket(ws).hello["session"]
            for path in routes(sid):
                for given in ("", "?token=wrong", "?token=s3cret-toke", "?token="):
                    c.cookies.clear()
                    assert refused_http(c.get(path + given)), (path, given)
                c.cookies.clear()
                assert c.get(f"{path}?token=s3cret-token").status_code == 200, path


def test_the_first_good_request_sets_the_cookie_the_page_then_carries():
    with token_client() as c:
        first = c.get("/?token=s3cret-token")
        assert first.status_code == 200 and "HttpOnly" in first.headers["set-cookie"]
        assert "SameSite=Strict" in first.headers["set-cookie"]
        # the page's files and socket carry the cookie, not the token
        assert c.get("/static/js/main.js").status_code == 200
        with c.websocket_connect("/ws") as ws:
            assert Socket(ws).hello["type"] == "hello"
        c.cookies.set("deltaflow-token-8000", "forged")
        assert refused_http(c.get("/static/js/main.js"))


def test_beyond_loopback_a_socket_without_the_token_is_refused():
    with token_client() as c:
        for path in ("/ws", "/ws?token=wrong"):
            with c.websocket_connect(path) as ws:
                assert "token" in closed_forbidden(ws)
        assert c.app.state.registry.sessions == {}


def test_listening_everywhere_any_host_may_ask_but_a_socket_only_from_its_own_page():
    with token_client() as c:
        assert c.get("/?token=s3cret-token", headers={"host": "my-laptop.lan:8000"}).status_code == 200
        own = {"host": "my-laptop.lan:8000", "origin": "http://my-laptop.lan:8000"}
        with c.websocket_connect("/ws", headers=own) as ws:
            assert Socket(ws).hello["type"] == "hello"
        with c.websocket_connect("/ws", headers={**own, "origin": "http://evil.example"}) as ws:
            assert "origin" in closed_forbidden(ws)


@pytest.mark.parametrize("host, token, shown", [
    ("127.0.0.1", False, "http://127.0.0.1:8123/"),
    ("localhost", False, "http://localhost:8123/"),
    ("::1", False, "http://[::1]:8123/"),
    ("[::1]", False, "http://[::1]:8123/"),
    ("192.168.1.5", True, "http://192.168.1.5:8123/?token="),
    ("0.0.0.0", True, "http://127.0.0.1:8123/?token="),
])
def test_serve_warns_beyond_loopback_and_prints_the_address_with_its_token(monkeypatch, capsys, host, token, shown):
    import uvicorn

    ran = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app, **kw))
    server.serve(host=host, port=8123)
    out, err = capsys.readouterr()
    assert shown in out and out.count("\n") == 1
    assert ran["host"] == host.strip("[]") and ran["port"] == 8123
    assert ("warning" in err) == token
    path = "/" + out.split()[3].split("/", 3)[3]  # the printed address, less scheme and host
    with Client(ran["app"], base_url="http://127.0.0.1:8123") as c:
        assert (c.get("/").status_code == 403) == token
        assert c.get(path).status_code == 200


# -- through a real uvicorn, configured as ``serve`` configures it --------------------------


# uvicorn's loggers without handlers of their own: their records reach caplog
TO_CAPLOG = {"version": 1, "disable_existing_loggers": False,
             "loggers": {name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")}}


@pytest.fixture
def live(caplog):
    """The simulator served by uvicorn in a thread, as ``serve`` runs it (its records to
    caplog): (port, app, released) where ``released`` lists the sessions whose sockets ended."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(Limits(), port=port)
    registry, released = app.state.registry, []
    release = registry.release
    registry.release = lambda session: (released.append(session.id), release(session))[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, **server.uvicorn_options(Limits()), log_config=TO_CAPLOG)
    logging.getLogger("uvicorn.error").addFilter(server.quiet_invalid_text)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    wait_for(lambda: srv.started)
    caplog.clear()
    yield port, app, released
    srv.should_exit = True
    thread.join(timeout=10)


def wait_for(condition) -> None:
    """Poll until ``condition()`` holds (the server works in other threads); fail after a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.02)


def raw_socket(port: int, host: str | None = None) -> tuple[socket.socket, bytes]:
    """A WebSocket opened by hand (so nothing checks what it sends): (socket, the response head)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    return s, head


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked frame, as a client must send it (payload under 126 bytes)."""
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_until_closed(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while s.recv(65536):
            pass
    s.close()


def logged(caplog) -> list[str]:
    """The server's log lines, each as ``LEVEL message``; a traceback fails here."""
    records = list(caplog.records)
    assert not [r for r in records if r.exc_info or r.exc_text], "\n".join(logging.Formatter().format(r) for r in records)
    return [f"{r.levelname} {r.getMessage()}" for r in records]


def test_a_client_that_leaves_before_hello_leaves_no_traceback(live, caplog):
    port, app, released = live
    for _ in range(4):
        s, head = raw_socket(port)
        assert head.startswith(b"HTTP/1.1 101")
        s.close()
    s, _ = raw_socket(port)
    s.recv(10)
    s.shutdown(socket.SHUT_RDWR)
    s.close()
    wait_for(lambda: len(released) == 5)
    lines = logged(caplog)
    assert len(lines) <= 5 and all(line.startswith("INFO ") for line in lines), lines
    assert app.state.registry.sessions == {}


def test_a_text_frame_that_is_not_utf8_leaves_an_info_line_and_no_traceback(live, caplog):
    port, app, released = live
    for wait in (False, True) * 3:  # at once (the server is still sending hello) and once it began
        s, _ = raw_socket(port)
        if wait:
            s.recv(10)
        s.sendall(client_frame(0x1, b'\xff\xfe{"type": "reset"}'))
        read_until_closed(s)
    wait_for(lambda: len(released) == 6)
    lines = logged(caplog)
    assert len(lines) <= 6 and all(line.startswith("INFO ") for line in lines), lines


def test_a_real_server_refuses_a_foreign_origin_and_host(live):
    import websockets

    port, app, _ = live

    async def foreign_origin():
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws", origin="http://evil.example") as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        return closed.value.rcvd

    close = run_async(foreign_origin())
    assert close.code == CLOSE_FORBIDDEN and "origin" in close.reason
    s, head = raw_socket(port, host="evil.example")
    body = s.recv(1000)
    s.close()
    assert head.startswith(b"HTTP/1.1 403") and b"forbidden: Host" in head + body
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/", headers={"Host": "evil.example"})
    r = conn.getresponse()
    assert r.status == 403 and r.read().decode().startswith("forbidden: Host")
    assert app.state.registry.sessions == {}
