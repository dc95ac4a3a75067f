"""Both transports against a scripted TCP server: every failure, before the response or while its body is read,
becomes TransportError or TransportTimeout."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from raw_http_server import (
    CHUNKED_HEAD,
    Conversation,
    chunk,
    get,
    hang_forever,
    raw_server,
    read_by_chunks,
    read_whole,
)

from client._transport import AsyncTransport, Timeout, TransportError, TransportTimeout
from client._transports import DefaultAioHttpClient, HttpxTransport

TRANSPORTS: dict[str, Callable[[], AsyncTransport]] = {"httpx": HttpxTransport, "aiohttp": DefaultAioHttpClient}


@pytest.fixture(params=sorted(TRANSPORTS))
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[AsyncTransport]:
    transport = TRANSPORTS[request.param]()
    yield transport
    await transport.aclose()


# -- failures before the response -------------------------------------------------------------------------------


async def test_refused_connection_is_a_transport_error(transport: AsyncTransport) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError) as caught:
        await transport.send(get(f"http://127.0.0.1:{port}/v1/models"))
    assert not isinstance(caught.value, TransportTimeout)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/v1/models", "http://[::1/v1/models", "http:///v1/models"])
async def test_unusable_url_is_a_transport_error(transport: AsyncTransport, url: str) -> None:
    with pytest.raises(TransportError):
        await transport.send(get(url))


async def test_garbage_instead_of_http_is_a_transport_error(transport: AsyncTransport) -> None:
    async def garbage(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"SPAM SPAM SPAM\r\n\r\n")

    async with raw_server(garbage) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_connection_closed_mid_headers_is_a_transport_error(transport: AsyncTransport) -> None:
    async def cut_headers(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")

    async with raw_server(cut_headers) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_closed_before_any_answer_is_a_transport_error(transport: AsyncTransport) -> None:
    async def say_nothing(conversation: Conversation) -> None:
        await conversation.read_request()

    async with raw_server(say_nothing) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_reset_before_any_answer_is_a_transport_error(transport: AsyncTransport) -> None:
    async def reset(conversation: Conversation) -> None:
        await conversation.read_request()
        conversation.reset()

    async with raw_server(reset) as server:
        with pytest.raises(TransportError):
            await transport.send(get(server.url))


async def test_server_that_never_answers_is_a_timeout(transport: AsyncTransport) -> None:
    async def never_answer(conversation: Conversation) -> None:
        await conversation.read_request()
        await hang_forever()

    async with raw_server(never_answer) as server:
        with pytest.raises(TransportTimeout):
            await transport.send(get(server.url))


async def test_a_listener_that_never_accepts_is_a_connect_timeout(transport: AsyncTransport) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/models"
        # with a backlog of 0 the kernel queues one connection; further handshakes go unanswered
        with socket.create_connection(listener.getsockname(), timeout=2), pytest.raises(TransportTimeout):
            await transport.send(get(url, Timeout(connect=0.2, read=5)))


# -- failures while the body is read ----------------------------------------------------------------------------


READERS = {"aread": read_whole, "aiter_bytes": read_by_chunks}


@pytest.fixture(params=sorted(READERS))
def read_body(request: pytest.FixtureRequest) -> Callable[[AsyncTransport, str], Awaitable[object]]:
    return READERS[request.param]


async def test_body_shorter_than_its_content_length_is_a_transport_error(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def cut_body(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")

    async with raw_server(cut_body) as server:
        with pytest.raises(TransportError) as caught:
            await read_body(transport, server.url)
    assert not isinstance(caught.value, TransportTimeout)


async def test_chunked_body_cut_before_its_end_is_a_transport_error(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def cut_chunks(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(CHUNKED_HEAD + chunk(b"data: {}\n\n") + b"40\r\npartial")

    async with raw_server(cut_chunks) as server:
        with pytest.raises(TransportError):
            await read_body(transport, server.url)


async def test_reset_mid_body_is_a_transport_error(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def reset_mid_body(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(CHUNKED_HEAD + chunk(b"data: {}\n\n"))
        conversation.reset()

    async with raw_server(reset_mid_body) as server:
        with pytest.raises(TransportError):
            await read_body(transport, server.url)


async def test_body_that_stalls_is_a_timeout(
    transport: AsyncTransport, read_body: Callable[[AsyncTransport, str], Awaitable[object]]
) -> None:
    async def stall(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(CHUNKED_HEAD + chunk(b"data: {}\n\n"))
        await hang_forever()

    async with raw_server(stall) as server:
        with pytest.raises(TransportTimeout):
            await read_body(transport, server.url)


async def test_failed_read_leaves_a_response_that_closes_quietly(transport: AsyncTransport) -> None:
    async def cut_body(conversation: Conversation) -> None:
        await conversation.read_request()
        await conversation.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")

    async with raw_server(cut_body) as server:
        response = await transport.send(get(server.url))
        with pytest.raises(TransportError):
            await response.aread()
        await response.aclose()
        await response.aclose()
