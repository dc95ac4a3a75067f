"""Staggered connection attempts across a host's addresses: a name that resolves to a black-holed address first (a
listener on ``::1`` — or ``127.0.0.2`` without IPv6 — whose accept queue is full, so the kernel drops every SYN and
the connect hangs) and to ``127.0.0.1`` second connects well within the connect timeout; a storm of connects
cancelled at every stage of the race leaves no socket open. Only loopback addresses are used. The name is resolved by
a patched resolver (the backend's ``resolve``)."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import AsyncIterator

import httpcore
import pytest
from raw_http_server import Conversation, raw_server

from client import AsyncOpenAI, Timeout
from client._transports._asyncio_network import ATTEMPT_DELAY, Address, AsyncioNetworkBackend
from mockserver import MockServer

NAME = "dual-stack.test"
CONNECT_TIMEOUT = 5.0
#: "well within the timeout": half of it (the race needs one attempt delay, 0.25 s, on an idle machine)
WELL_WITHIN = CONNECT_TIMEOUT / 2


def _black_hole(port: int) -> tuple[socket.socket, socket.socket, Address]:
    """A listener on a loopback address at ``port`` whose one-slot accept queue is filled: further connects hang."""
    for family, host in ((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.2")):
        listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            listener.bind((host, port))
        except OSError:
            listener.close()
            continue
        listener.listen(0)
        filler = socket.socket(family, socket.SOCK_STREAM)
        filler.settimeout(5)
        filler.connect(listener.getsockname()[:2])
        sockaddr = (host, port, 0, 0) if family == socket.AF_INET6 else (host, port)
        return listener, filler, Address(family, sockaddr)
    raise RuntimeError(f"no loopback address free at port {port} for the black hole")


def resolving_to(monkeypatch: pytest.MonkeyPatch, addresses: list[Address]) -> list[str]:
    """Make ``NAME`` resolve to ``addresses`` (in that order); returns the names looked up."""
    looked_up: list[str] = []
    original = AsyncioNetworkBackend.resolve

    async def resolve(self: AsyncioNetworkBackend, host: str, port: int) -> list[Address]:
        if host != NAME:
            return await original(self, host, port)
        looked_up.append(host)
        return list(addresses)

    monkeypatch.setattr(AsyncioNetworkBackend, "resolve", resolve)
    return looked_up


def _port(base_url: str) -> int:
    return int(base_url.split("/")[2].rsplit(":", 1)[1])


async def test_a_black_holed_first_address_costs_one_attempt_delay_not_the_timeout(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _port(server.base_url)
    listener, filler, hole = _black_hole(port)
    try:
        looked_up = resolving_to(monkeypatch, [hole, Address(socket.AF_INET, ("127.0.0.1", port))])
        client = AsyncOpenAI(
            api_key="sk-test",
            base_url=f"http://{NAME}:{port}/v1",
            timeout=Timeout(30, connect=CONNECT_TIMEOUT),
            max_retries=0,
        )
        try:
            started = time.monotonic()
            page = await client.models.list()
            took = time.monotonic() - started
        finally:
            await client.close()
    finally:
        filler.close()
        listener.close()
    assert looked_up == [NAME]
    assert "gpt-4o" in [model.id async for model in page]
    assert ATTEMPT_DELAY <= took < WELL_WITHIN, f"connected after {took:.2f} s"


def _socket_inodes() -> set[str]:
    """The sockets this process holds open (Linux: /proc/self/fd)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
        if target.startswith("socket:"):
            inodes.add(target)
    return inodes


async def _idle(conversation: Conversation) -> None:
    await conversation.wait_for_client_to_leave()


@pytest.fixture
async def race_target(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[int]:
    """A loopback TCP server whose port ``NAME`` resolves to, behind a black-holed first address."""
    async with raw_server(_idle) as server:
        port = _port(server.url)
        listener, filler, hole = _black_hole(port)
        try:
            resolving_to(monkeypatch, [hole, Address(socket.AF_INET, ("127.0.0.1", port))])
            yield port
        finally:
            filler.close()
            listener.close()


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts sockets through /proc (Linux)")
async def test_a_cancellation_storm_leaves_no_socket_open(race_target: int) -> None:
    backend = AsyncioNetworkBackend()
    before = _socket_inodes()
    randomness = random.Random(13)
    connected = 0

    async def connect_then_close() -> None:
        nonlocal connected
        stream = await backend.connect_tcp(NAME, race_target, timeout=CONNECT_TIMEOUT)
        connected += 1
        await stream.aclose()

    for _round in range(4):
        tasks = [asyncio.create_task(connect_then_close()) for _ in range(25)]
        # cancel at every stage: during resolution, while the black hole holds the first attempt, as the second
        # attempt starts (one attempt delay in), as it wins, and after
        for task in tasks:
            delay = randomness.choice([0, 0, 0.001, ATTEMPT_DELAY - 0.01, ATTEMPT_DELAY, ATTEMPT_DELAY + 0.005])
            asyncio.get_running_loop().call_later(delay + randomness.random() * 0.02, task.cancel)
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=CONNECT_TIMEOUT * 2)
        for result in results:
            assert result is None or isinstance(result, asyncio.CancelledError), result
    for _ in range(20):  # closed transports let go of their sockets on the loop's next turns
        await asyncio.sleep(0)
    assert connected < 100  # the storm did cancel some connects
    leaked = _socket_inodes() - before
    # what is left open belongs to the server side (closed with the server when the fixture ends), never the client
    client_side = [inode for inode in leaked if inode not in _server_side_inodes(race_target)]
    assert client_side == [], f"{len(client_side)} sockets left open by cancelled connects"


def _server_side_inodes(port: int) -> set[str]:
    """Sockets of this process whose local port is ``port``: the test server's (and the black hole's) side."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not target.startswith("socket:"):
            continue
        try:
            sock = socket.socket(fileno=os.dup(int(fd)))
        except OSError:
            continue
        try:
            if sock.getsockname()[1] == port:
                inodes.add(target)
        except OSError:
            pass
        finally:
            sock.close()
    return inodes


async def test_every_address_failing_is_a_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: refused at once
    resolving_to(monkeypatch, [Address(socket.AF_INET, ("127.0.0.1", port))] * 3)
    with pytest.raises(httpcore.ConnectError, match="all connection attempts failed"):
        await AsyncioNetworkBackend().connect_tcp(NAME, port, timeout=CONNECT_TIMEOUT)
