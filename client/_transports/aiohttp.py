"""A native aiohttp :class:`~client._transport.AsyncTransport`: ``DefaultAioHttpClient``.

No httpx layer: requests go straight through one ``aiohttp.ClientSession``, which is created lazily on the first
``send`` inside the running loop, so the transport can be constructed in synchronous code. The session is tuned for
many concurrent requests (a large connection pool, keep-alive, no cookie jar, no headers of its own).

Timeouts map onto ``aiohttp.ClientTimeout`` per request: ``connect`` bounds opening the socket (``sock_connect``),
``pool + connect`` bounds getting a connection at all (``connect``), ``read`` bounds the wait for the headers and
for every body chunk (``sock_read``). aiohttp has no write timeout, so ``Timeout.write`` is not enforced here.

With ``trust_env=True`` (the default) requests honour ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY`` as aiohttp's
``trust_env`` reads them (``aiohttp.helpers.get_env_proxy_for_url``): plain HTTP forwarding, a ``CONNECT`` tunnel for
``https``. The proxy is looked up once per origin, not per request: aiohttp's own ``trust_env`` makes two thread hops
per request for it (and one for ``.netrc``, which would clash with the ``Authorization`` header the client sends).
Servers are verified against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when those are set (read when the session is made),
else against aiohttp's default context.

Every aiohttp or socket failure, from ``send`` and while the body is read, is re-raised as
:class:`~client._transport.TransportError` or :class:`~client._transport.TransportTimeout`. A response whose body
was not read to its end closes its connection instead of returning it to the pool.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager

from .._transport import (
    SECRET_HEADERS,
    Timeout,
    TransportError,
    TransportRequest,
    TransportResponse,
    TransportTimeout,
    forget_locals,
)

try:
    import aiohttp
    import yarl
    from aiohttp.helpers import get_env_proxy_for_url
    from aiohttp.http_exceptions import HttpProcessingError
    from multidict import CIMultiDict, CIMultiDictProxy
except ImportError:  # pragma: no cover - exercised in a subprocess without aiohttp
    AIOHTTP_INSTALLED = False
else:
    AIOHTTP_INSTALLED = True

__all__ = ["AIOHTTP_INSTALLED", "AioHttpTransportResponse", "DefaultAioHttpClient"]

_MISSING_AIOHTTP = (
    "DefaultAioHttpClient needs the aiohttp package, which is not installed; "
    "install it with: pip install 'openai-async-harness[aiohttp]'"
)
#: origins whose proxy is remembered; the cache starts over when it is full
_PROXY_CACHE_SIZE = 512
#: headers aiohttp would add on its own; a request carries exactly the headers the caller gave (plus Host)
_SKIPPED_AUTO_HEADERS = ("Accept", "Accept-Encoding", "Content-Type", "User-Agent")


@contextmanager
def _mapped_errors() -> Iterator[None]:
    """Re-raise aiohttp and socket failures as transport errors, keeping the original as the cause."""
    try:
        yield
    except TimeoutError as exc:  # asyncio.TimeoutError and aiohttp.ServerTimeoutError alike
        raise TransportTimeout(f"{type(exc).__name__}: {exc}") from forget_locals(exc)
    except (aiohttp.ClientError, HttpProcessingError, OSError) as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}") from forget_locals(_masked(exc))


def _masked(error: BaseException) -> BaseException:
    """``error`` with the credentials masked in the request it carries (``ClientResponseError.request_info``, which
    its ``repr`` shows with the request's headers)."""
    if isinstance(error, aiohttp.ClientResponseError):
        info = error.request_info
        headers = CIMultiDict(
            (name, "[secure]" if name.lower() in SECRET_HEADERS else value) for name, value in info.headers.items()
        )
        error.request_info = aiohttp.RequestInfo(info.url, info.method, CIMultiDictProxy(headers), info.real_url)
        error.args = (error.request_info, *error.args[1:])
    return error


def _sum_or_none(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else first + second


def _client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=None,
        connect=_sum_or_none(timeout.pool, timeout.connect),
        sock_connect=timeout.connect,
        sock_read=timeout.read,
    )


def _environment_tls_context() -> ssl.SSLContext | bool:
    """A context verifying against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` as httpx reads them; ``True`` (aiohttp's
    default context) when neither is set."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = None if cafile else os.environ.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        return True
    return ssl.create_default_context(cafile=cafile, capath=capath)


class AioHttpTransportResponse:
    """An aiohttp response whose headers have arrived; the body is read with :meth:`aread` or
    :meth:`aiter_bytes`. Any failure or cancellation while reading closes the connection."""

    __slots__ = ("_finished", "_response")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self._finished = False

    @property
    def status_code(self) -> int:
        return self._response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    async def aread(self) -> bytes:
        try:
            with _mapped_errors():
                body = await self._response.read()
        except BaseException:
            self._response.close()
            raise
        self._finished = True
        self._response.release()
        return body

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        try:
            with _mapped_errors():
                async for chunk in self._response.content.iter_any():
                    yield chunk
        except BaseException:  # a failure, a cancellation, or the iterator abandoned (GeneratorExit)
            self._response.close()
            raise
        self._finished = True

    async def aclose(self) -> None:
        if self._finished:
            self._response.release()
        else:
            self._response.close()


class DefaultAioHttpClient:
    """Sends requests through one lazily created ``aiohttp.ClientSession`` bound to the loop of the first send.

    ``limit`` caps open connections (0: no cap); ``keepalive_timeout`` is how long an idle connection stays
    pooled; ``trust_env``: proxies from the environment. :meth:`aclose` closes the session and its connections; it
    is safe to call twice.
    """

    def __init__(self, *, limit: int = 1000, keepalive_timeout: float = 30.0, trust_env: bool = True) -> None:
        if not AIOHTTP_INSTALLED:
            raise RuntimeError(_MISSING_AIOHTTP)
        self._trust_env = trust_env
        #: origin -> the environment's proxy for it (and the proxy's credentials), or ``None``
        self._proxies: dict[str, tuple[yarl.URL, aiohttp.BasicAuth | None] | None] = {}
        self._limit = limit
        self._keepalive_timeout = keepalive_timeout
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def is_closed(self) -> bool:
        return self._closed

    def _session_for_this_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None:
            if loop is not self._loop:
                raise TransportError("this DefaultAioHttpClient is in use by another event loop")
            return self._session
        connector = aiohttp.TCPConnector(
            ssl=_environment_tls_context() if self._trust_env else True,
            limit=self._limit,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_timeout,
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_SKIPPED_AUTO_HEADERS,
            auto_decompress=True,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        self._loop = loop
        return self._session

    async def send(self, request: TransportRequest) -> TransportResponse:
        if self._closed:
            raise TransportError("the transport is closed")
        session = self._session_for_this_loop()
        proxy = self._proxy_for(request.url) if self._trust_env else None
        with _mapped_errors():
            response = await session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=request.content,
                timeout=_client_timeout(request.timeout),
                allow_redirects=True,
                proxy=proxy[0] if proxy else None,
                proxy_auth=proxy[1] if proxy else None,
            )
        return AioHttpTransportResponse(response)

    def _proxy_for(self, url: str) -> tuple[yarl.URL, aiohttp.BasicAuth | None] | None:
        """The environment's proxy for ``url``'s origin (looked up once per origin)."""
        path_at = url.find("/", url.find("//") + 2)
        origin = url if path_at < 0 else url[:path_at]
        if origin in self._proxies:
            return self._proxies[origin]
        try:
            proxy: tuple[yarl.URL, aiohttp.BasicAuth | None] | None = get_env_proxy_for_url(yarl.URL(origin))
        except (LookupError, ValueError):
            proxy = None
        if len(self._proxies) >= _PROXY_CACHE_SIZE:
            self._proxies.clear()
        self._proxies[origin] = proxy
        return proxy

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()
