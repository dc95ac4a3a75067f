"""The network guard on its own: which hosts it blocks, every lookup path it covers (sync, asyncio, uvloop,
aiohttp's resolver), IP-literal connects, and putting back exactly what it found."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
import uvloop

from mockserver.pytest_plugin.network_guard import BlockedHost, NetworkGuard, RealNetworkCallBlocked, blocked_hosts


def _guard(*urls: str) -> NetworkGuard:
    return NetworkGuard(extra=blocked_hosts(*urls), advice=lambda: "Use the fake.")


@pytest.mark.parametrize(
    "host",
    ["api.openai.com", "API.OpenAI.com.", "us.api.openai.com", "openai.com", "contoso.openai.azure.com",
     "res.cognitiveservices.azure.com", "proj.services.ai.azure.com", b"api.openai.com"],
)  # fmt: skip
def test_openai_and_azure_hosts_are_blocked(host: str | bytes) -> None:
    assert _guard().is_blocked(host, 443)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "notopenai.com", "openai.com.evil.example", "", None])
def test_other_hosts_are_not(host: str | None) -> None:
    assert not _guard().is_blocked(host, 443)


def test_the_real_environments_urls_are_blocked_by_host_or_loopback_port() -> None:
    assert blocked_hosts("https://gw.example/v1", "http://127.0.0.1:4000/v1", None, "") == (
        BlockedHost("gw.example"),
        BlockedHost("127.0.0.1", 4000),
    )
    guard = _guard("https://gw.example/v1", "http://127.0.0.1:4000/v1")
    assert guard.is_blocked("gw.example", 8443)
    assert guard.is_blocked("127.0.0.1", 4000)
    assert not guard.is_blocked("127.0.0.1", 4001)  # the fake lives on loopback too


def test_the_upstream_a_cassette_is_recorded_from_is_let_through_and_nothing_else() -> None:
    guard = _guard()
    guard.allow("https://API.openai.com/v1")
    assert not guard.is_blocked("api.openai.com", 443)
    assert guard.is_blocked("us.api.openai.com", 443)
    assert guard.is_blocked("contoso.openai.azure.com", 443)


def test_sync_lookup_and_ip_literal_connect_are_refused() -> None:
    guard = _guard("http://127.0.0.1:4000/v1")
    guard.current_test = "test_x.py::test_y"
    with guard.installed():
        with pytest.raises(RealNetworkCallBlocked) as blocked:
            socket.getaddrinfo("api.openai.com", 443)
        assert str(blocked.value).startswith(
            "mock_openai blocked a real network call: test test_x.py::test_y tried to reach api.openai.com:443; "
            "no DNS lookup and no connection were made. Use the fake."
        )
        with socket.socket() as sock, pytest.raises(RealNetworkCallBlocked):
            sock.connect(("127.0.0.1", 4000))
        assert socket.getaddrinfo("127.0.0.1", 4001)


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"])
def test_event_loop_lookups_are_refused_on_the_loop(loop_factory: type[asyncio.AbstractEventLoop]) -> None:
    async def lookups() -> None:
        loop = asyncio.get_running_loop()
        with pytest.raises(RealNetworkCallBlocked):
            await loop.getaddrinfo("api.openai.com", 443)
        assert await loop.getaddrinfo("127.0.0.1", 80)

    with _guard().installed(), asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(lookups())


def test_aiohttp_is_refused_through_its_resolver() -> None:
    async def call() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(RealNetworkCallBlocked, match=r"api\.openai\.com:443 \(through aiohttp\)"):
                await session.get("https://api.openai.com/v1/models")

    with _guard().installed():
        asyncio.run(call())


def test_uninstall_puts_back_what_it_found_and_guards_nest() -> None:
    def patched() -> tuple[object, ...]:
        return (
            socket.getaddrinfo,
            vars(socket.socket).get("connect"),
            vars(socket.socket).get("connect_ex"),
            vars(asyncio.base_events.BaseEventLoop).get("getaddrinfo"),
            vars(uvloop.Loop).get("getaddrinfo"),
        )

    originals = patched()
    outer, inner = _guard(), _guard("https://gw.example")
    with outer.installed():
        with inner.installed(), pytest.raises(RealNetworkCallBlocked):
            socket.getaddrinfo("gw.example", 443)
        assert outer.is_blocked("api.openai.com")
        with pytest.raises(RealNetworkCallBlocked):
            socket.getaddrinfo("api.openai.com", 443)
    assert patched() == originals
