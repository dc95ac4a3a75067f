"""An :class:`~client._transport.AsyncTransport` over ``httpx.AsyncClient``.

Every request is sent with ``stream=True`` so the client sees the status and headers before the body; the
per-request :class:`~client._transport.Timeout` becomes an ``httpx.Timeout``. Anything httpx raises, from
``send`` or while the body is read, is re-raised as :class:`~client._transport.TransportError` or
:class:`~client._transport.TransportTimeout`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager

import httpx

from .._transport import Timeout, TransportError, TransportRequest, TransportResponse, TransportTimeout

__all__ = ["HttpxTransport", "HttpxTransportResponse", "default_httpx_client"]

_HTTPX_FAILURES: tuple[type[Exception], ...] = (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL)


def default_httpx_client() -> httpx.AsyncClient:
    """A client sized for many concurrent requests (a large pool, generous keep-alive, no HTTP/2) that adds no
    headers of its own, so a request carries exactly the headers the caller gave. Like the aiohttp transport, it
    ignores proxy settings in the environment."""
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=30.0)
    client = httpx.AsyncClient(limits=limits, timeout=None, follow_redirects=True, trust_env=False)
    client.headers.clear()
    return client


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Re-raise httpx failures as transport errors, keeping the original as the cause."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise TransportTimeout(f"{type(exc).__name__}: {exc}") from exc
    except _HTTPX_FAILURES as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}") from exc


def _httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    return httpx.Timeout(connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool)


class HttpxTransportResponse:
    """A response whose headers have arrived; the body is read with :meth:`aread` or :meth:`aiter_bytes`.
    Any failure or cancellation while reading closes the connection."""

    __slots__ = ("_response",)

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def aread(self) -> bytes:
        try:
            with _mapped_errors():
                return await self._response.aread()
        finally:
            await self._response.aclose()

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        try:
            with _mapped_errors():
                async for chunk in self._response.aiter_bytes():
                    if chunk:
                        yield chunk
        except BaseException:  # a failure, a cancellation, or the iterator abandoned (GeneratorExit)
            await self._response.aclose()
            raise

    async def aclose(self) -> None:
        with _mapped_errors():
            await self._response.aclose()


class HttpxTransport:
    """Sends requests through an ``httpx.AsyncClient``: the one given (left open on :meth:`aclose`, its
    owner closes it; its own default headers, cookies and auth apply as httpx merges them) or a default one
    this transport owns and closes."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._owns_client = client is None
        self._client = client if client is not None else default_httpx_client()

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client

    async def send(self, request: TransportRequest) -> TransportResponse:
        with _mapped_errors():
            built = self._client.build_request(
                request.method,
                request.url,
                headers=dict(request.headers),
                content=request.content,
                timeout=_httpx_timeout(request.timeout),
            )
            response = await self._client.send(built, stream=True)
        return HttpxTransportResponse(response)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
