"""Fixtures for testing the contract suite itself: one server and one portal for the module's checks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from mockserver import MockServer, ServerConfig


@pytest.fixture(scope="module")
def contract_server() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=1)) as server:
        yield server


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal(name="contract-portal") as running:
        yield running
