"""Fixtures for the simulator's tests: test clients of apps with chosen limits."""

from __future__ import annotations

import warnings
from urllib.parse import urljoin

import pytest

with warnings.catch_warnings():
    # starlette ≥ 1.x suggests httpx2 for its test client; httpx (the test extra) works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from deltaflow.web.limits import Limits
from deltaflow.web.server import create_app

BASE_URL = "http://127.0.0.1:8000"  # the address create_app serves by default: its Host passes the guard


class Client(TestClient):
    """A test client whose sockets, like its requests, go to ``base_url`` (Starlette's own
    go to ``ws://testserver``, a Host the guard refuses, and carry no cookie of ``base_url``)."""

    def websocket_connect(self, url: str, subprotocols=None, **kwargs):
        base = str(self.base_url.copy_with(scheme="ws"))
        return super().websocket_connect(urljoin(base, url), subprotocols, **kwargs)


@pytest.fixture
def make_client():
    clients = []

    def make(**limits) -> Client:
        client = Client(create_app(Limits(**limits)), base_url=BASE_URL)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> Client:
    return make_client()


