"""Shared test fixtures: a real mock server on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver import MockServer, ServerConfig

#: the plugin tests (tests/plugin) run pytest inside pytest
pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def live_server() -> Iterator[MockServer]:
    """One real server for the session (uvicorn on 127.0.0.1, a free port); state is reset per test by
    ``server``."""
    with MockServer(ServerConfig(seed=1)) as server:
        yield server


@pytest.fixture
def server(live_server: MockServer) -> MockServer:
    """The session's server, back to its own config, with its stored state reset before the test."""
    live_server.state.config = live_server.config
    live_server.state.reset()
    return live_server


@pytest.fixture
def strict_models(server: MockServer) -> MockServer:
    """``server`` with ``strict_models`` on for this test: model ids it was not configured with get a 404."""
    server.state.config = server.config.with_changes(strict_models=True)
    return server
