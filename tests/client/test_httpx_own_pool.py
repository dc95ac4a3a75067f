"""The httpx transport's own pool (no ``httpx.AsyncClient`` in the request path) behaves as the client it replaced:
redirects followed as httpx follows them, encoded bodies decoded, stale keep-alive connections not reused, the pool
bounded and its wait timed out, the request written in one piece."""

from __future__ import annotations

import asyncio
import gzip
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpcore
import pytest
from raw_http_server import SHORT_READ, Conversation, get, ok, raw_server, read_whole

from client._transport import TransportError, TransportRequest
from client._transports import HttpxTransport
from client._transports._asyncio_network import AsyncioNetworkBackend
from client._transports._pool import ConnectionPool


def redirect(status: int, location: str) -> bytes:
    return b"HTTP/1.1 %d Moved\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n" % (status, location.encode())


def parsed(request: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = request.partition(b"\r\n\r\n")
    request_line, *lines = head.decode().split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return request_line, headers, body


@pytest.mark.parametrize(
    ("status", "method", "body"),
    [(307, "POST", b'{"a": 1}'), (308, "POST", b'{"a": 1}'), (303, "GET", b""), (302, "GET", b""), (301, "GET", b"")],
)
async def test_redirects_are_followed_with_httpx_method_rules(status: int, method: str, body: bytes) -> None:
    async def moved_then_ok(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(redirect(status, "/v1/elsewhere?x=1"))
        await conversation.read_request()
        await conversation.send(ok(b"arrived"))

    transport = HttpxTransport()
    try:
        async with raw_server(moved_then_ok) as server:
            headers = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
            response = await transport.send(TransportRequest("POST", server.url, headers, b'{"a": 1}', SHORT_READ))
            assert response.status_code == 200
            assert await response.aread() == b"arrived"
    finally:
        await transport.aclose()
    request_line, sent, sent_body = parsed(server.requests[1])
    assert request_line == f"{method} /v1/elsewhere?x=1 HTTP/1.1"
    assert sent["authorization"] == "Bearer sk-test"  # same origin: kept
    assert sent_body == body
    assert ("content-length" in sent) == (method == "POST")


async def test_a_redirect_to_another_origin_drops_the_authorization() -> None:
    async def final(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(ok(b"there"))

    transport = HttpxTransport()
    try:
        async with raw_server(final) as elsewhere:
            # same host, another port: another origin
            async def moved(conversation: Conversation) -> None:
                await conversation.read_request()
                await conversation.send(redirect(307, elsewhere.url))

            async with raw_server(moved) as server:
                assert await read_whole(transport, server.url) == b"there"
    finally:
        await transport.aclose()
    _, sent, _ = parsed(elsewhere.requests[0])
    assert "authorization" not in sent
    assert sent["host"] == elsewhere.url.split("/")[2]


async def test_endless_redirects_are_a_transport_error() -> None:
    async def loop_forever(conversation: Conversation) -> None:
        while await conversation.read_request() is not None:
            await conversation.send(redirect(302, "/v1/thing"))

    transport = HttpxTransport()
    try:
        async with raw_server(loop_forever) as server:
            with pytest.raises(TransportError, match="redirects"):
                await transport.send(get(server.url))
    finally:
        await transport.aclose()
    assert len(server.requests) == 21  # the first request and 20 redirects, as httpx allows


async def test_a_gzip_body_is_decoded() -> None:
    payload = b'{"id": "decoded"}' * 20
    encoded = gzip.compress(payload)

    async def gzipped(conversation: Conversation) -> None:
        await conversation.read_request()
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(encoded)
        await conversation.send(head + encoded)

    transport = HttpxTransport()
    try:
        async with raw_server(gzipped) as server:
            assert await read_whole(transport, server.url) == payload
    finally:
        await transport.aclose()


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def one_answer_then_close(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(ok(b"pong"))  # then the connection closes: keep-alive ended by the server

    transport = HttpxTransport()
    try:
        async with raw_server(one_answer_then_close) as server:
            assert await read_whole(transport, server.url) == b"pong"
            await server.until_all_connections_closed()
            await asyncio.sleep(0.01)  # let the client's loop see the end of the connection
            assert await read_whole(transport, server.url) == b"pong"
    finally:
        await transport.aclose()
    assert server.connections_opened == 2


async def test_the_request_head_and_body_leave_in_one_write() -> None:
    segments: list[bytes] = []

    async def record_first_read(conversation: Conversation) -> None:
        await asyncio.sleep(0.02)  # let everything the client wrote arrive
        segments.append(await conversation.reader.read(65536))
        await conversation.send(ok(b"{}"))

    transport = HttpxTransport()
    try:
        async with raw_server(record_first_read) as server:
            request = TransportRequest("POST", server.url, {"Authorization": "Bearer k"}, b'{"a": 1}', SHORT_READ)
            response = await transport.send(request)
            await response.aread()
    finally:
        await transport.aclose()
    assert segments[0].startswith(b"POST /v1/thing HTTP/1.1\r\n")
    assert segments[0].endswith(b'\r\n\r\n{"a": 1}')


def small_pool(max_connections: int, max_keepalive: int = 10) -> ConnectionPool:
    return ConnectionPool(
        ssl_context=ssl.create_default_context,
        network_backend=AsyncioNetworkBackend(),
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive,
        keepalive_expiry=30.0,
    )


ORIGIN = httpcore.Origin(b"http", b"127.0.0.1", 9)


async def test_a_full_pool_waits_for_a_release_then_times_out() -> None:
    pool = small_pool(max_connections=1)
    try:
        first = await pool.acquire(ORIGIN, pool_timeout=1.0)
        waiting = asyncio.create_task(pool.acquire(ORIGIN, pool_timeout=5.0))
        await asyncio.sleep(0)
        assert not waiting.done()
        await pool.release(first, ORIGIN)  # never connected: closed, its place freed
        second = await asyncio.wait_for(waiting, 5.0)
        assert second is not first
        with pytest.raises(httpcore.PoolTimeout):
            await pool.acquire(ORIGIN, pool_timeout=0.01)
        assert pool.open_connections == 1
    finally:
        await pool.aclose()
    with pytest.raises(httpcore.ConnectError, match="closed"):
        await pool.acquire(ORIGIN, pool_timeout=0.01)


async def test_concurrent_requests_open_connections_that_are_then_reused() -> None:
    async def keep_alive(conversation: Conversation) -> None:
        while await conversation.read_request() is not None:
            await conversation.send(ok(b"pong"))

    transport = HttpxTransport()
    try:
        async with raw_server(keep_alive) as server:
            # 5 at once need 5 connections; all are returned to the pool and reused afterwards
            assert await asyncio.gather(*(read_whole(transport, server.url) for _ in range(5))) == [b"pong"] * 5
            assert await asyncio.gather(*(read_whole(transport, server.url) for _ in range(5))) == [b"pong"] * 5
    finally:
        await transport.aclose()
    assert server.connections_opened == 5
    assert len(server.requests) == 10


SELF_SIGNED_FOR_LOOPBACK = (
    *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"),
    *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
)


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no public CA signed, and its key."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([*SELF_SIGNED_FOR_LOOPBACK, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@asynccontextmanager
async def tls_server(cert: Path, key: Path) -> AsyncIterator[int]:
    """A TLS server on a free loopback port answering every request with ``pong``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conversation = Conversation(reader, writer)
        try:
            while await conversation.read_request() is not None:
                await conversation.send(ok(b"pong"))
        except ssl.SSLError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_https_through_the_pool_with_a_trusted_certificate(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    pool = ConnectionPool(
        ssl_context=lambda: ssl.create_default_context(cafile=str(cert)),
        network_backend=AsyncioNetworkBackend(),
        max_connections=4,
        max_keepalive_connections=4,
        keepalive_expiry=30.0,
    )
    async with tls_server(cert, key) as port:
        origin = httpcore.Origin(b"https", b"127.0.0.1", port)
        try:
            for _ in range(2):
                connection = await pool.acquire(origin, pool_timeout=5.0)
                url = httpcore.URL(scheme=b"https", host=b"127.0.0.1", port=port, target=b"/v1/thing")
                request = httpcore.Request(b"GET", url, headers=[(b"Host", b"127.0.0.1")], extensions={})
                response = await connection.handle_async_request(request)
                assert response.status == 200
                assert b"".join([chunk async for chunk in response.aiter_stream()]) == b"pong"
                await response.aclose()
                await pool.release(connection, origin)
            assert pool.open_connections == 1  # the TLS connection was kept and reused
        finally:
            await pool.aclose()


async def test_an_untrusted_certificate_is_a_transport_error(self_signed: tuple[Path, Path]) -> None:
    transport = HttpxTransport()
    try:
        async with tls_server(*self_signed) as port:
            with pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
                await transport.send(get(f"https://127.0.0.1:{port}/v1/thing"))
    finally:
        await transport.aclose()
