"""End-to-end fixtures: a real uvicorn server on a free loopback port, headless Chromium.

The browser tests need Playwright and Debian's Chromium at ``/usr/bin/chromium``. Without
them every test here is skipped with the reason, unless ``DELTAFLOW_REQUIRE_BROWSER=1``
(CI sets it), in which case they fail.

Screenshots go to ``test-output/e2e/`` at the repository root (``$DELTAFLOW_TEST_OUTPUT``
overrides it); the folder carries its own ``.gitignore`` so nothing in it is committed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from e2e_page import wait_ready

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("websockets") is None and importlib.util.find_spec("wsproto") is None:
        return "uvicorn has no WebSocket library (pip install websockets)"
    return None


def _need_browser() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("DELTAFLOW_REQUIRE_BROWSER") == "1":
        pytest.fail(f"DELTAFLOW_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serving(app, port: int):
    """``app`` (made by ``create_app(port=port)``: it checks that requests name its address)
    served by uvicorn in a thread: yields ``http://127.0.0.1:<port>/``."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the simulator did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def server_url():
    """The simulator served by uvicorn in a thread: ``http://127.0.0.1:<port>/``."""
    _need_browser()
    from deltaflow.web.server import create_app

    port = _free_port()
    with _serving(create_app(port=port), port) as url:
        yield url


@pytest.fixture
def idle_server():
    """A simulator that closes a session after 2 s without a message: (url, app)."""
    _need_browser()
    from deltaflow.web.limits import Limits
    from deltaflow.web.server import create_app

    port = _free_port()
    app = create_app(Limits(idle_timeout_s=2.0), port=port)
    with _serving(app, port) as url:
        yield url, app


@pytest.fixture(scope="session")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def open_page(context, server_url):
    """open_page(hash="") → a page showing the simulator with its first state and frame drawn.
    Uncaught page errors fail the test."""
    errors: list[str] = []

    def _open(hash: str = ""):
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server_url + hash)
        wait_ready(page)
        return page

    yield _open
    assert not errors, f"errors on the page: {errors}"


@pytest.fixture(scope="session")
def output_dir() -> Path:
    folder = Path(os.environ.get("DELTAFLOW_TEST_OUTPUT", ROOT / "test-output")) / "e2e"
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder
