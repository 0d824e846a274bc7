"""Who may talk to the simulator: the one list of its allowed hosts and origins, and its token.

A page on any web site can open ``ws://127.0.0.1:PORT/ws`` (cross-site WebSocket hijacking)
and, through a DNS name that resolves to 127.0.0.1, even read the server's pages (DNS
rebinding). ``GuardMiddleware`` answers both, before any route runs:

- ``Host`` header: every HTTP request and WebSocket handshake must name the server itself,
  ``127.0.0.1:PORT``, ``localhost:PORT``, ``[::1]:PORT`` or ``<--host>:PORT`` (any host when it
  listens on every interface, ``0.0.0.0`` or ``::``: the token then guards it). Otherwise 403
  with one line of text (a refused handshake for a socket).
- ``Origin`` header of a WebSocket: absent (a client that is not a browser) or the server's
  own origin, ``http://<an allowed host>``. Otherwise the socket is accepted and closed at once
  with code ``CLOSE_FORBIDDEN`` and a reason, before any session is opened.
- The access token, required when the server listens beyond loopback: ``?token=...`` in the
  URL or the cookie that the first good request sets (so the page's own socket, files and
  downloads carry it without asking). Without it: 403 for HTTP, ``CLOSE_FORBIDDEN`` for a socket.
"""

from __future__ import annotations

import ipaddress
import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

CLOSE_FORBIDDEN = 4003
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")  # listen on every interface: reached under names we cannot list


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as given to ``--host``) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def netloc(host: str, port: int) -> str:
    """``host:port`` as a URL or a ``Host`` header writes it (an IPv6 address in brackets)."""
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url(host: str, port: int, token: str | None = None) -> str:
    """The page's address, with its token: ``http://HOST:PORT/?token=...``."""
    return f"http://{netloc(host, port)}/" + (f"?token={token}" if token else "")


class Guard:
    """The checks for a server listening on ``host:port``; ``token`` None: none is asked.

    A host beyond loopback must come with a token (``serve`` makes one with
    ``secrets.token_urlsafe``): a ``ValueError`` otherwise."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8000, token: str | None = None):
        if token is None and not is_loopback(host):
            raise ValueError(f"host {host!r} is not loopback: the server needs an access token")
        self.port, self.token = port, token
        self.any_host = host.strip("[]") in WILDCARDS
        names = LOOPBACK_NAMES if self.any_host else (*LOOPBACK_NAMES, host)
        self.hosts = {netloc(name, port).lower() for name in names}
        if port == 80:  # a browser leaves the default port out of Host and Origin
            self.hosts |= {h.rsplit(":", 1)[0] for h in self.hosts}
        self.cookie = f"deltaflow-token-{port}"

    def host_allowed(self, host: str | None) -> bool:
        if not host:
            return False
        return self.any_host or host.lower() in self.hosts

    def origin_allowed(self, origin: str | None, host: str) -> bool:
        """A browser's socket from this server's own page: its origin is the page's address."""
        if origin is None:
            return True
        origin = origin.lower()
        return origin == f"http://{host.lower()}" or origin.removeprefix("http://") in self.hosts

    def token_given(self, scope) -> tuple[str | None, bool]:
        """The token the request carries, from its query string or else its cookie, and
        whether it came in the query (then the response sets the cookie)."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if query:
            return query[0], True
        try:
            morsel = SimpleCookie(_header(scope, b"cookie") or "").get(self.cookie)
        except CookieError:
            return None, False
        return (morsel.value if morsel is not None else None), False

    def token_ok(self, given: str | None) -> bool:
        if self.token is None:
            return True
        return given is not None and secrets.compare_digest(given.encode(), self.token.encode())

    def refusal(self, scope) -> tuple[str, str] | None:
        """What the request fails ("host", "origin" or "token") and why, in one line; None
        to let it through."""
        host = _header(scope, b"host")
        if not self.host_allowed(host):
            return "host", f"forbidden: Host {_shown(host)} is not this server's address"
        origin = _header(scope, b"origin")
        if scope["type"] == "websocket" and not self.origin_allowed(origin, host):
            return "origin", f"forbidden: a page from origin {_shown(origin)} may not connect"
        if not self.token_ok(self.token_given(scope)[0]):
            return "token", "forbidden: open the address with the ?token=... the server printed"
        return None


class GuardMiddleware:
    """Pure ASGI middleware applying ``Guard`` to every HTTP request and WebSocket handshake."""

    def __init__(self, app, guard: Guard):
        self.app, self.guard = app, guard

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        refused = self.guard.refusal(scope)
        if refused is None:
            if scope["type"] == "http" and self.guard.token_given(scope)[1]:
                send = self._setting_cookie(send)
            return await self.app(scope, receive, send)
        check, reason = refused
        if scope["type"] == "http":
            return await _http_403(send, reason)
        if check == "host":  # a rebound name: refuse the handshake itself
            return await _refuse_handshake(scope, send, reason)
        # a browser shows a close code and reason, not a refused handshake's status: accept, then close
        if (await receive())["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_FORBIDDEN, "reason": reason[:120]})

    def _setting_cookie(self, send):
        """``send`` that adds the token cookie to the response (the token was right)."""
        header = f"{self.guard.cookie}={self.guard.token}; Path=/; HttpOnly; SameSite=Strict".encode()

        async def sending(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", header)]}
            await send(message)

        return sending


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _shown(value: str | None) -> str:
    """A client's header value in a message: quoted, cut short."""
    if value is None:
        return "(none)"
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _text(status: int, reason: str) -> tuple[dict, dict]:
    """The start and body of a one-line plain-text response."""
    body = (reason + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    return {"status": status, "headers": headers}, {"body": body}


async def _http_403(send, reason: str) -> None:
    start, body = _text(403, reason)
    await send({"type": "http.response.start", **start})
    await send({"type": "http.response.body", **body})


async def _refuse_handshake(scope, send, reason: str) -> None:
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})  # the server answers the handshake 403
        return
    start, body = _text(403, reason)
    await send({"type": "websocket.http.response.start", **start})
    await send({"type": "websocket.http.response.body", **body})
