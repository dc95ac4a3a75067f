"""Closing never waits on a TLS peer: against a real TLS server (certificates made here with trustme) that answers
requests but never answers the close handshake, the client's ``close()`` and the pool's eviction of an expired
connection each return within a second (asyncio alone would wait 30 s for the peer's close_notify). The test CA is
trusted through ``SSL_CERT_FILE``, as a deployed client would trust a private CA."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpcore
import pytest
import trustme

from client import AsyncOpenAI, DefaultAioHttpClient, HttpxTransport
from client._transport import AsyncTransport
from client._transports._asyncio_network import AsyncioNetworkBackend
from client._transports._pool import ConnectionPool

#: the bound the issue sets for closing against a peer that never answers
CLOSE_BOUND = 1.0
#: how long a test gives a close that would otherwise wait for asyncio's 30 s TLS shutdown timeout
GIVE_UP = 10.0
_MODELS = b'{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1,"owned_by":"system"}]}'
_ANSWER = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(_MODELS)).encode()
    + b"\r\n\r\n"
    + _MODELS
)


@dataclass
class SilentCloser:
    """A TLS server that answers each request, then stops reading: it never sees (nor answers) a close_notify."""

    url: str = ""
    connections: list[asyncio.StreamWriter] = field(default_factory=list)
    handled: int = 0


@pytest.fixture(scope="module")
def certificates() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted_ca(certificates: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test CA, trusted the way a deployment trusts a private CA: ``SSL_CERT_FILE``."""
    ca_file = tmp_path / "ca.pem"
    certificates.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return ca_file


@asynccontextmanager
async def silent_closer(certificates: trustme.CA) -> AsyncIterator[SilentCloser]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificates.issue_cert("127.0.0.1").configure_cert(context)
    state = SilentCloser()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections.append(writer)
        try:
            await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        writer.write(_ANSWER)
        await writer.drain()
        state.handled += 1
        writer.transport.pause_reading()  # the close_notify that follows stays unread, so it is never answered

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    state.url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    try:
        yield state
    finally:
        server.close()
        for writer in state.connections:
            writer.transport.abort()
        await server.wait_closed()


async def timed(what: str, action: Awaitable[object]) -> float:
    """Seconds ``action`` (an awaitable) took; a failure naming ``what`` if it takes longer than :data:`GIVE_UP`."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(GIVE_UP):
            await action
    except TimeoutError:
        pytest.fail(f"{what} still waiting after {GIVE_UP} s")
    return time.monotonic() - started


@pytest.mark.parametrize("transport_name", ["httpx", "aiohttp"])
async def test_close_returns_within_a_second_when_the_peer_never_answers_close(
    certificates: trustme.CA, trusted_ca: Path, transport_name: str
) -> None:
    transport: AsyncTransport = HttpxTransport() if transport_name == "httpx" else DefaultAioHttpClient()
    async with silent_closer(certificates) as server:
        client = AsyncOpenAI(api_key="sk-test", base_url=server.url, http_client=transport, max_retries=0)
        try:
            page = await client.models.list()
            assert [model.id async for model in page] == ["gpt-4o"]
            assert server.handled == 1
        finally:
            took = await timed("client.close()", client.close())
    assert took < CLOSE_BOUND, f"close() took {took:.2f} s"


async def test_the_pool_evicts_an_expired_tls_connection_within_a_second(
    certificates: trustme.CA, trusted_ca: Path
) -> None:
    pool = ConnectionPool(
        ssl_context=ssl.create_default_context,  # reads SSL_CERT_FILE through OpenSSL's default paths
        network_backend=AsyncioNetworkBackend(),
        max_connections=10,
        max_keepalive_connections=10,
        keepalive_expiry=0.05,
    )
    async with silent_closer(certificates) as server:
        origin = httpcore.URL(server.url).origin
        request = httpcore.Request("GET", f"{server.url}/models", headers=[(b"Host", b"127.0.0.1")])

        async def one_request() -> None:
            connection = await pool.acquire(origin, pool_timeout=5)
            response = await connection.handle_async_request(request)
            assert await response.aread() == _MODELS
            await response.aclose()
            await pool.release(connection, origin)

        await one_request()
        await asyncio.sleep(0.06)  # the keep-alive (50 ms) runs out
        # the next request finds the first connection expired and closes it before opening a new one
        took = await timed("a request that evicts an expired connection", one_request())
        assert server.handled == 2
        assert len(server.connections) == 2
        assert pool.open_connections == 1
        await pool.aclose()
    assert took < CLOSE_BOUND, f"the request that evicted an expired connection took {took:.2f} s"
