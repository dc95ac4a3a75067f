"""Fixtures shared by the mock server's tests: the official SDK over both of its transports, and plain HTTP
clients with the test API key, all against the session's live server (reset per test by ``server``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import openai
import pytest
from _helpers import AUTH, TRANSPORTS, sdk_client

from mockserver import MockServer


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    """Which HTTP stack the official SDK runs on: its default one, or aiohttp."""
    return str(request.param)


@pytest.fixture
async def sdk(server: MockServer, transport: str) -> AsyncIterator[openai.AsyncOpenAI]:
    """The official async client against the live server, validating every body strictly (the SDK's default
    retries)."""
    async with sdk_client(server, transport) as client:
        yield client


@pytest.fixture
async def client(server: MockServer, transport: str) -> AsyncIterator[openai.AsyncOpenAI]:
    """Like ``sdk`` but with no retries: a failed request raises at once (the chat and completions tests)."""
    async with sdk_client(server, transport, max_retries=0) as sdk:
        yield sdk


@pytest.fixture
def http(server: MockServer) -> Iterator[httpx.Client]:
    """A plain HTTP client with the test API key, on the API base URL (``/v1``) of the reset server."""
    with httpx.Client(base_url=server.base_url, headers=AUTH) as http:
        yield http


@pytest.fixture
def root_http(server: MockServer) -> Iterator[httpx.Client]:
    """A plain HTTP client with the test API key, on the server's root URL (paths start ``/v1`` or ``/_mock``)."""
    with httpx.Client(base_url=server.url, headers=AUTH) as http:
        yield http


@pytest.fixture(scope="module")
def shared_http(live_server: MockServer) -> Iterator[httpx.Client]:
    """One plain HTTP client (test API key, API base URL) for a whole module: building an httpx client per test or
    hypothesis example costs more than the test. The server is not reset between its uses."""
    with httpx.Client(base_url=live_server.base_url, headers=AUTH) as http:
        yield http
