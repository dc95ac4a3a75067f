"""An :class:`~client._transport.AsyncTransport` on the httpx stack.

By default the transport drives httpcore HTTP/1.1 connections itself, from its own cheap pool
(:mod:`client._transports._pool`) over plain asyncio protocols (:mod:`client._transports._asyncio_network`): a
request goes straight from our :class:`~client._transport.TransportRequest` (an absolute URL, explicit headers,
bytes) to an ``httpcore.Request``, skipping what ``httpx.AsyncClient.send`` adds per request (URL merging, cookies,
auth, event hooks, request and response models). It behaves as the ``httpx.AsyncClient`` it replaces: the same
request headers (``Host``, then ours, then ``Content-Length``), redirects followed as httpx follows them, bodies
decoded per ``Content-Encoding`` by httpx's decoders. ``respx`` still intercepts it.

With ``trust_env=True`` (the default, as httpx and the official SDK have it) the environment is honoured as httpx
honours it: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` for verifying servers, and ``HTTP_PROXY`` / ``HTTPS_PROXY`` /
``ALL_PROXY`` / ``NO_PROXY``. A request whose URL the environment sends through a proxy goes through httpx's own
proxy transport (httpcore's own network backend: plain HTTP forwarding, or a ``CONNECT`` tunnel for ``https``);
every other request takes the fast path. ``trust_env=False`` ignores the environment.

Given an ``httpx.AsyncClient``, requests go through that client's ``send`` (its own headers, cookies, auth,
transport and redirect setting apply).

Anything httpx or httpcore raises, from ``send`` or while the body is read, is re-raised as
:class:`~client._transport.TransportError` or :class:`~client._transport.TransportTimeout`.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpcore
import httpx

from .._transport import Timeout, TransportError, TransportRequest, TransportResponse, TransportTimeout, forget_locals
from ._asyncio_network import AsyncioNetworkBackend
from ._pool import ConnectionPool
from ._redirects import MAX_REDIRECTS, REDIRECT_STATUSES, Hop, next_hop

__all__ = ["HttpxTransport", "HttpxTransportResponse", "PooledResponse", "default_httpx_client"]

_FAILURES: tuple[type[Exception], ...] = (
    httpx.HTTPError,
    httpx.StreamError,
    httpx.InvalidURL,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    httpcore.ProxyError,
    httpcore.ConnectionNotAvailable,
)
_TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException, httpcore.TimeoutException)
#: methods httpx gives ``Content-Length: 0`` when they carry no body
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
#: parsed URLs kept per transport; the cache starts over when it is full
_URL_CACHE_SIZE = 512
_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100, keepalive_expiry=30.0)


def default_httpx_client(*, trust_env: bool = True) -> httpx.AsyncClient:
    """A client sized for many concurrent requests (a large pool, generous keep-alive, no HTTP/2) that adds no
    headers of its own, so a request carries exactly the headers the caller gave. ``trust_env``: proxies and CA
    certificates from the environment, as httpx reads them."""
    client = httpx.AsyncClient(limits=_LIMITS, timeout=None, follow_redirects=True, trust_env=trust_env)
    client.headers.clear()
    return client


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Re-raise httpx and httpcore failures as transport errors, keeping the original as the cause."""
    try:
        yield
    except _TIMEOUTS as exc:
        raise TransportTimeout(f"{type(exc).__name__}: {exc}") from forget_locals(exc)
    except _FAILURES as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}") from forget_locals(exc)


def _tls_context_maker(trust_env: bool) -> Callable[[], ssl.SSLContext]:
    """What ``httpx.AsyncClient(trust_env=...)`` verifies servers with: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when
    trusted and set, else certifi's CA bundle."""
    return lambda: httpx.create_ssl_context(trust_env=trust_env)


def _httpx_timeout(timeout: Timeout) -> httpx.Timeout:
    return httpx.Timeout(connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool)


class HttpxTransportResponse:
    """A response (from a given ``httpx.AsyncClient``) whose headers have arrived; the body is read with
    :meth:`aread` or :meth:`aiter_bytes`. Any failure or cancellation while reading closes the connection."""

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


class _CoreBody(httpx.AsyncByteStream):
    """An httpcore response body as an httpx stream, for httpx's ``Content-Encoding`` decoders."""

    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_stream():
            yield chunk


def _content_encoded(raw_headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in raw_headers:
        if len(name) == 16 and name.lower() == b"content-encoding" and value.strip().lower() != b"identity":
            return True
    return False


class PooledResponse:
    """A response from the transport's own pool; closing it returns its connection to the pool (or closes the
    connection when the body was not read to its end). Any failure or cancellation while reading closes it."""

    __slots__ = ("_connection", "_headers", "_origin", "_pool", "_released", "_response")

    def __init__(
        self,
        response: httpcore.Response,
        connection: httpcore.AsyncHTTPConnection,
        origin: httpcore.Origin,
        pool: ConnectionPool,
    ) -> None:
        self._response = response
        self._connection = connection
        self._origin = origin
        self._pool = pool
        self._headers: httpx.Headers | None = None
        self._released = False

    @property
    def status_code(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        if self._headers is None:
            self._headers = httpx.Headers(self._response.headers)
        return self._headers

    def _chunks(self) -> AsyncIterator[bytes]:
        response = self._response
        if _content_encoded(response.headers):
            return httpx.Response(response.status, headers=response.headers, stream=_CoreBody(response)).aiter_bytes()
        return response.aiter_stream()

    async def aread(self) -> bytes:
        try:
            with _mapped_errors():
                chunks = [chunk async for chunk in self._chunks()]
        finally:
            await self.aclose()
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        try:
            with _mapped_errors():
                async for chunk in self._chunks():
                    if chunk:
                        yield chunk
        except BaseException:  # a failure, a cancellation, or the iterator abandoned (GeneratorExit)
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            with _mapped_errors():
                await self._response.aclose()
        finally:
            await self._pool.release(self._connection, self._origin)


@dataclass(frozen=True, slots=True)
class _Target:
    """What a URL string means to httpcore, parsed once."""

    origin: httpcore.Origin
    url: httpcore.URL
    host_header: bytes
    #: the environment sends this URL through a proxy: the request goes through the httpx client
    proxied: bool


def _parse_target(url: str, client: httpx.AsyncClient) -> _Target:
    parsed = httpx.URL(url)
    scheme = parsed.raw_scheme
    if scheme not in (b"http", b"https"):
        raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{parsed.scheme}://'.")
    if not parsed.raw_host:
        raise httpx.UnsupportedProtocol(f"Request URL is missing a host: {url!r}")
    port = parsed.port if parsed.port is not None else (443 if scheme == b"https" else 80)
    core_url = httpcore.URL(scheme=scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path)
    # httpx's own choice of transport for the URL: its default one, or one mounted for an environment proxy
    proxied = client._transport_for_url(parsed) is not client._transport
    return _Target(httpcore.Origin(scheme, parsed.raw_host, port), core_url, parsed.netloc, proxied)


def _core_headers(
    target: _Target, method: str, headers: Mapping[str, str], content: bytes | None
) -> list[tuple[bytes, bytes]]:
    """The headers httpx would send: ``Host`` first, the caller's as given, then the body's ``Content-Length``."""
    encoded = [(name.encode("ascii"), value.encode("ascii")) for name, value in headers.items()]
    if "host" not in headers and "Host" not in headers:
        encoded.insert(0, (b"Host", target.host_header))
    if "content-length" not in headers and "Content-Length" not in headers:
        if content:
            encoded.append((b"Content-Length", str(len(content)).encode("ascii")))
        elif method in _BODY_METHODS:
            encoded.insert(1, (b"Content-Length", b"0"))
    return encoded


class HttpxTransport:
    """Sends requests through its own httpcore connection pool, or through the ``httpx.AsyncClient`` given (left
    open on :meth:`aclose`: its owner closes it). :attr:`client` is that client, or, for a transport with its own
    pool, an ``httpx.AsyncClient`` with the same defaults (its own connections: the requests the environment sends
    through a proxy) closed with the transport. ``trust_env`` applies to a transport with its own pool; a given
    client has its own setting."""

    def __init__(self, client: httpx.AsyncClient | None = None, *, trust_env: bool = True) -> None:
        self._owns_client = client is None
        self._client = client if client is not None else default_httpx_client(trust_env=trust_env)
        self._pool: ConnectionPool | None = None
        if client is None:
            self._pool = ConnectionPool(
                ssl_context=_tls_context_maker(trust_env),
                network_backend=AsyncioNetworkBackend(),
                max_connections=_LIMITS.max_connections or 1000,
                max_keepalive_connections=_LIMITS.max_keepalive_connections or 100,
                keepalive_expiry=_LIMITS.keepalive_expiry or 30.0,
            )
        self._targets: dict[str, _Target] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        return self._client

    async def send(self, request: TransportRequest) -> TransportResponse:
        pool = self._pool
        if pool is None:
            return await self._send_through_client(request)
        hop = Hop(request.method, request.url, request.headers, request.content)
        for redirects in range(MAX_REDIRECTS + 1):
            with _mapped_errors():
                target = self._target(hop.url)
            if target.proxied:
                return await self._send_through_client(
                    TransportRequest(hop.method, hop.url, hop.headers, hop.content, request.timeout)
                )
            response = await self._send_once(pool, target, hop, request.timeout)
            status = response.status_code
            location = response.headers.get("location") if status in REDIRECT_STATUSES else None
            if location is None:
                return response
            await response.aread()
            if redirects == MAX_REDIRECTS:
                break
            with _mapped_errors():
                hop = next_hop(hop, status, location)
        raise TransportError("TooManyRedirects: Exceeded maximum allowed redirects.")

    def _target(self, url: str) -> _Target:
        target = self._targets.get(url)
        if target is None:
            target = _parse_target(url, self._client)
            if len(self._targets) >= _URL_CACHE_SIZE:
                self._targets.clear()
            self._targets[url] = target
        return target

    async def _send_once(self, pool: ConnectionPool, target: _Target, hop: Hop, phases: Timeout) -> PooledResponse:
        with _mapped_errors():
            core_request = httpcore.Request(
                hop.method.encode("ascii"),
                target.url,
                headers=_core_headers(target, hop.method, hop.headers, hop.content),
                content=hop.content or b"",
                extensions={
                    "timeout": {
                        "connect": phases.connect,
                        "read": phases.read,
                        "write": phases.write,
                        "pool": phases.pool,
                    }
                },
            )
            connection = await pool.acquire(target.origin, phases.pool)
            try:
                response = await connection.handle_async_request(core_request)
            except BaseException:
                await pool.release(connection, target.origin)
                raise
        return PooledResponse(response, connection, target.origin, pool)

    async def _send_through_client(self, request: TransportRequest) -> TransportResponse:
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
        if self._pool is not None:
            await self._pool.aclose()
        if self._owns_client:
            await self._client.aclose()
