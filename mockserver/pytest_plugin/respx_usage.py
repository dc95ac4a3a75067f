"""``mock_openai_respx`` and httpx2: respx patches httpx only, so an httpx2 client (openai 3.x's default) would
send its requests past the router. While the fixture is active, httpx2's own transports refuse every request for
a host that is not loopback with a usage error that says what to use instead."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

__all__ = ["RESPX_HTTPX2_USAGE", "RespxUsageError", "refuse_httpx2"]

RESPX_HTTPX2_USAGE = (
    "mock_openai_respx cannot route this request: it was sent with httpx2 (openai 3.x is built on httpx2), and "
    "respx patches httpx only. Use the mock_openai fixture (AsyncOpenAI() with no base_url reaches the fake) or "
    "mock_openai_inprocess.openai_client(); keep mock_openai_respx for httpx-based clients (openai 1.x / 2.x)."
)


class RespxUsageError(pytest.fail.Exception):  # type: ignore[misc, name-defined]
    """A request respx cannot see, refused (a pytest failure: no client's retry loop hides it)."""

    __module__ = "mockserver.pytest_plugin"


def refuse_httpx2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make httpx2's transports refuse non-loopback requests for the rest of the test (nothing if httpx2 is not
    installed)."""
    try:
        import httpx2
    except ModuleNotFoundError:
        return
    async_send = httpx2.AsyncHTTPTransport.handle_async_request
    sync_send = httpx2.HTTPTransport.handle_request

    async def handle_async_request(transport: Any, request: Any) -> Any:
        _refuse(request)
        return await async_send(transport, request)

    def handle_request(transport: Any, request: Any) -> Any:
        _refuse(request)
        return sync_send(transport, request)

    monkeypatch.setattr(httpx2.AsyncHTTPTransport, "handle_async_request", handle_async_request)
    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", handle_request)


def _refuse(request: Any) -> None:
    host = str(request.url.host)
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise RespxUsageError(f"{RESPX_HTTPX2_USAGE} (request: {request.method} {request.url})", pytrace=False)
