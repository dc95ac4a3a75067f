"""The edge's write coalescing: what a connection writes in one turn of the event loop leaves in one write at its
end, ``close`` sends what is pending first, ``abort`` drops it, and both served protocols write through it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn

from mockserver.http import edge
from mockserver.http.edge import CoalescingTransport


class RecordingTransport:
    """The calls a transport was given, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", None))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5)}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0


def coalescing() -> tuple[CoalescingTransport, RecordingTransport]:
    inner = RecordingTransport()
    return CoalescingTransport(inner, asyncio.get_running_loop()), inner  # type: ignore[arg-type]


async def next_turn() -> None:
    await asyncio.sleep(0)


async def test_writes_of_one_turn_leave_as_one_write_at_its_end() -> None:
    transport, inner = coalescing()
    transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    transport.write(b"{}")
    assert inner.calls == []  # not before the turn ends
    assert transport.get_write_buffer_size() == 40
    await next_turn()
    assert inner.calls == [("write", b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")]


async def test_writes_of_different_turns_leave_apart_and_in_order() -> None:
    transport, inner = coalescing()
    transport.write(b"data: 1\n\n")
    await next_turn()
    transport.writelines([b"data: 2\n\n", bytearray(b"data: 3\n\n")])
    await next_turn()
    assert inner.calls == [("write", b"data: 1\n\n"), ("write", b"data: 2\n\ndata: 3\n\n")]


async def test_close_sends_what_is_pending_before_it_closes() -> None:
    transport, inner = coalescing()
    transport.write(b"data: 1\n\n")
    transport.close()
    await next_turn()
    assert inner.calls == [("write", b"data: 1\n\n"), ("close", None)]


async def test_abort_drops_what_is_pending() -> None:
    transport, inner = coalescing()
    transport.write(b"data: 1\n\n")
    transport.abort()
    await next_turn()
    assert inner.calls == [("abort", None)]


async def test_nothing_is_written_to_a_closing_transport() -> None:
    transport, inner = coalescing()
    transport.write(b"late")
    inner.closing = True  # the peer went away within the turn
    await next_turn()
    assert inner.calls == []


async def test_the_rest_of_the_transport_api_is_the_transport_s() -> None:
    transport, _ = coalescing()
    assert transport.get_extra_info("peername") == ("127.0.0.1", 5)
    assert transport.is_closing() is False


@pytest.mark.parametrize("protocol", [edge.EdgeH11Protocol, edge.EdgeHttpToolsProtocol], ids=lambda p: p.__name__)
async def test_both_served_protocols_write_through_it(protocol: type) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("no request is made")

    config = uvicorn.Config(app=app, http=protocol)
    config.load()
    made = protocol(config=config, server_state=uvicorn.server.ServerState(), app_state={})
    inner = RecordingTransport()
    made.connection_made(inner)
    try:
        assert isinstance(made.transport, CoalescingTransport)
        assert made.transport.transport is inner
    finally:
        made.connection_lost(None)
