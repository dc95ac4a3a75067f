"""The edge rules hold on both of uvicorn's HTTP protocols: httptools (the `fast` extra, what the other edge tests
serve with) and h11 (what a plain install serves with): a half-sent request head is closed after the header-read
timeout while complete requests are answered, and connections past the cap are closed at once."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from mockserver import MockServer, ServerConfig
from mockserver.http import edge

AUTH = {"Authorization": "Bearer sk-edge"}
PROTOCOLS = [edge.EdgeH11Protocol, edge.EdgeHttpToolsProtocol]


@pytest.fixture(params=PROTOCOLS, ids=lambda protocol: protocol.__name__)
def protocol(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> type:
    """Serve with this protocol class instead of uvicorn's choice."""
    monkeypatch.setattr(edge, "edge_protocol", lambda: request.param)
    chosen: type = request.param
    return chosen


def _address(server: MockServer) -> tuple[str, int]:
    return server.host, server.port


def test_a_half_sent_head_is_closed_after_the_timeout_while_whole_requests_are_answered(protocol: type) -> None:
    with (
        MockServer(ServerConfig(header_read_timeout=0.3)) as server,
        socket.create_connection(_address(server), timeout=10) as slow,
    ):
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        assert httpx.get(server.url + "/health", headers=AUTH, timeout=10).status_code == 200
        slow.settimeout(10)  # the bound of this wait; the server closes it after 0.3 s
        assert slow.recv(1024) == b""


def test_connections_past_the_cap_are_closed_at_once(protocol: type) -> None:
    with MockServer(ServerConfig(max_connections=3, header_read_timeout=30)) as server:
        held = [socket.create_connection(_address(server), timeout=10) for _ in range(3)]
        try:
            with socket.create_connection(_address(server), timeout=10) as extra:
                extra.settimeout(10)  # bound: closed at once, no request read
                assert extra.recv(1) == b""
        finally:
            for sock in held:
                sock.close()


def _health_over(sock: socket.socket) -> None:
    """One ``GET /health`` on ``sock``, its head sent in two parts a moment apart (a head is due most of the
    time), and its whole response read."""
    sock.sendall(b"GET /health HTTP/1.1\r\n")
    time.sleep(0.02)  # the head stays due for a moment: a clock that ignored its start would close here
    sock.sendall(b"Host: 127.0.0.1\r\n\r\n")
    received = b""
    while not received.endswith(b'{"status":"ok"}'):
        chunk = sock.recv(4096)
        assert chunk, "the server closed a keep-alive connection whose heads each came in time"
        received += chunk


def test_a_busy_keep_alive_connection_outlives_the_timeout_and_a_late_head_is_still_closed(protocol: type) -> None:
    timeout = 0.3
    with (
        MockServer(ServerConfig(header_read_timeout=timeout)) as server,
        socket.create_connection(_address(server), timeout=10) as busy,
    ):
        busy.settimeout(10)  # the bound of every read below
        started = time.monotonic()
        while time.monotonic() - started < 3 * timeout:  # each head in time, the connection open for longer
            _health_over(busy)
        busy.sendall(b"GET /health HTTP/1.1\r\n")  # the next head never finishes
        half_sent = time.monotonic()
        assert busy.recv(1024) == b""
        assert time.monotonic() - half_sent >= timeout * 0.9
