"""Fixtures for the simulator's tests: test clients of apps with chosen limits."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    # starlette ≥ 1.x suggests httpx2 for its test client; httpx (the test extra) works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from deltaflow.web.limits import Limits
from deltaflow.web.server import create_app


@pytest.fixture
def make_client():
    clients = []

    def make(**limits) -> TestClient:
        client = TestClient(create_app(Limits(**limits)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


