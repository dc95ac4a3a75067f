"""The network guard: while the plugin is active, no connection to OpenAI or Azure OpenAI leaves the test process.

The guard sits where every HTTP stack turns a host name into addresses, before any packet is sent:

- ``asyncio``'s ``loop.getaddrinfo`` (and uvloop's), which httpx and httpx2 (through anyio) and aiohttp (its
  default threaded resolver) all await before they connect;
- ``socket.getaddrinfo``, which the synchronous stacks (``socket.create_connection``) call;
- ``socket.socket.connect`` / ``connect_ex``, for a blocked host that is an IP address (no lookup to stop).

A lookup of a blocked host raises :class:`RealNetworkCallBlocked` on the spot: no DNS query, no connection
attempt. It is a pytest failure (a ``BaseException``), so an SDK's retry loop (``except Exception``) does not
retry it or hide it as a connection error: the test fails at once, with a message that names the test, the host,
and how to point the client at the fake.

Blocked: ``openai.com`` and its subdomains (``api.openai.com``), the Azure OpenAI hosts (``*.openai.azure.com``,
``*.cognitiveservices.azure.com``, ``*.services.ai.azure.com``), and the hosts the real environment's
``OPENAI_BASE_URL`` / ``AZURE_OPENAI_ENDPOINT`` named before the plugin pointed them at the fake.

Not covered (documented): an aiohttp session built with ``aiodns``' ``AsyncResolver``, or anything else that
resolves names outside Python's socket module and the event loop; a request sent through an HTTP proxy (the proxy,
not the client, looks the host up: unset ``HTTPS_PROXY`` in tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from ..server import is_loopback_host

__all__ = ["BLOCKED_DOMAINS", "BlockedHost", "NetworkGuard", "RealNetworkCallBlocked", "blocked_hosts"]

#: domains blocked with every subdomain
BLOCKED_DOMAINS = (
    "openai.com",
    "openai.azure.com",
    "cognitiveservices.azure.com",
    "services.ai.azure.com",
)

#: module prefixes that name the HTTP stack in the message, most specific first
_STACKS = (
    ("httpx2", "httpx2, openai 3.x's default"),
    ("httpcore2", "httpx2, openai 3.x's default"),
    ("aiohttp", "aiohttp"),
    ("httpx", "httpx"),
    ("httpcore", "httpx"),
    ("urllib3", "urllib3 / requests"),
)


class RealNetworkCallBlocked(pytest.fail.Exception):  # type: ignore[misc, name-defined]
    """A test tried to reach OpenAI or Azure OpenAI for real; the message says which test, which host, and how to
    point the client at the fake. A pytest failure (``BaseException``): no client retries it."""

    __module__ = "mockserver.pytest_plugin"


@dataclass(frozen=True, slots=True)
class BlockedHost:
    """A host (lowercase, no trailing dot) and, when given, the one port blocked on it."""

    host: str
    port: int | None = None

    def blocks(self, host: str, port: int | None) -> bool:
        return host == self.host and (self.port is None or port is None or port == self.port)


def blocked_hosts(*urls: str | None) -> tuple[BlockedHost, ...]:
    """The host (and port) of each URL given; a URL on a loopback address is blocked on its port only."""
    hosts = []
    for url in urls:
        if not url:
            continue
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if not parts.hostname:
            continue
        host = _normal(parts.hostname)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            port = None
        hosts.append(BlockedHost(host, port if is_loopback_host(host) or port not in (80, 443) else None))
    return tuple(hosts)


class NetworkGuard:
    """Patches the lookups (see the module docstring) while installed; ``install`` and ``uninstall`` nest (each
    guard puts back what it found)."""

    def __init__(self, *, extra: tuple[BlockedHost, ...], advice: Callable[[], str]) -> None:
        self.extra = extra
        #: hosts the user asked to reach (the upstream a cassette is recorded from), exempt from every block
        self.allowed: set[str] = set()
        #: the node id of the running test (set by the plugin), or ``None`` between tests
        self.current_test: str | None = None
        self._advice = advice
        self._undo: list[Callable[[], None]] = []

    def is_blocked(self, host: Any, port: Any = None) -> bool:
        host = _text(host)
        if not host:
            return False
        name = _normal(host)
        if name in self.allowed:
            return False
        number = port if isinstance(port, int) else (int(port) if isinstance(port, str) and port.isdigit() else None)
        if any(name == domain or name.endswith("." + domain) for domain in BLOCKED_DOMAINS):
            return True
        return any(blocked.blocks(name, number) for blocked in self.extra)

    def allow(self, url: str) -> None:
        """Let ``url``'s host through: the user named it (``--mock-openai-upstream`` while recording)."""
        host = urlsplit(url).hostname
        if host:
            self.allowed.add(_normal(host))

    def check(self, host: Any, port: Any = None) -> None:
        """Raise :class:`RealNetworkCallBlocked` when ``host`` is blocked."""
        if self.is_blocked(host, port):
            raise RealNetworkCallBlocked(self._message(_text(host), port), pytrace=False)

    def _message(self, host: str, port: Any) -> str:
        where = f"test {self.current_test}" if self.current_test else "code run outside a test (collection, a fixture)"
        target = f"{host}:{port}" if port not in (None, 0, "") else str(host)
        return (
            f"mock_openai blocked a real network call: {where} tried to reach {target}{_stack()}; "
            f"no DNS lookup and no connection were made. {self._advice()} "
            "A suite that means to reach the network: --mock-openai-allow-network (ini: mock_openai_allow_network)."
        )

    # -- installing -------------------------------------------------------------------------------------------

    def install(self) -> None:
        if self._undo:
            raise RuntimeError("the network guard is already installed")
        self._patch(socket, "getaddrinfo", self._sync_lookup)
        self._patch(socket.socket, "connect", self._connect)
        self._patch(socket.socket, "connect_ex", self._connect)
        self._patch(asyncio.base_events.BaseEventLoop, "getaddrinfo", self._async_lookup)
        with contextlib.suppress(ImportError):
            import uvloop

            self._patch(uvloop.Loop, "getaddrinfo", self._async_lookup)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    @contextlib.contextmanager
    def installed(self) -> Iterator[NetworkGuard]:
        self.install()
        try:
            yield self
        finally:
            self.uninstall()

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        had_own = name in vars(owner)
        original = vars(owner)[name] if had_own else getattr(owner, name)
        setattr(owner, name, make(original))

        def undo() -> None:
            if had_own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

        self._undo.append(undo)

    def _sync_lookup(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check(host, port)
            return original(host, port, *args, **kwargs)

        return getaddrinfo

    def _async_lookup(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        async def getaddrinfo(loop: Any, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check(host, port)
            return await original(loop, host, port, *args, **kwargs)

        return getaddrinfo

    def _connect(self, original: Callable[..., Any]) -> Callable[..., Any]:
        guard = self

        def connect(sock: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and len(address) >= 2 and guard.extra:
                guard.check(address[0], address[1])
            return original(sock, address)

        return connect


def _text(host: Any) -> str:
    """A host as lookups receive it (``str`` or ``bytes``; anything else is no host name), as text."""
    if isinstance(host, bytes):
        return host.decode("ascii", "replace")
    return host if isinstance(host, str) else ""


def _normal(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _stack() -> str:
    """`` (through httpx2)``: the HTTP stack whose frames are on the stack, when one is."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        for prefix, described in _STACKS:
            if module == prefix or module.startswith(prefix + "."):
                return f" (through {described})"
        frame = frame.f_back  # type: ignore[assignment]
    return ""
