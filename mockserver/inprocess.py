"""In-process mode (public API): clients that talk to the fake's ASGI app directly, with no socket and no server thread.

Three ways in, all bound to the same app (so rules, canned replies and the journal are shared):

- :func:`inprocess_httpx_client` - an ``httpx.AsyncClient`` on ``httpx.ASGITransport``;
- :func:`inprocess_httpx2_client` - an ``httpx2.AsyncClient`` on ``httpx2.ASGITransport``;
- :func:`inprocess_openai_client` - the official ``openai.AsyncOpenAI`` given one of the above as ``http_client``
  (httpx2 for openai >= 3, httpx for openai 1.x / 2.x);
- :func:`route_to_app` - a ``respx`` route whose side effect passes requests through to the app, so code that builds
  its own httpx client (openai 1.x / 2.x, our ``client`` on httpx) reaches the fake at its usual host.
  ``respx`` patches httpx only: it cannot intercept openai >= 3, which is built on httpx2.

Limits (deliberate; use the real loopback server, ``MockServer`` or the ``mock_openai`` fixture, for these):

- Bodies are buffered: an ASGI transport hands the response over only when the app has finished, so a stream
  arrives all at once (events are still parsed one by one) and an endless or hanging stream never returns.
- No real connection: there is nothing to reset or cut, and a client "disconnect" is only the transport saying
  so after the response is complete; ``reset``, ``empty``, ``hang`` and ``disconnect`` faults cannot behave as
  they do on a socket.
- Timing faults are meaningless: latency delays the whole buffered response, and client timeouts measure
  nothing realistic.
- Sync clients are not supported: the app is async, the transports here are async only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from starlette.types import ASGIApp

if TYPE_CHECKING:
    import httpx2
    import openai
    import respx

__all__ = [
    "INPROCESS_API_KEY",
    "INPROCESS_BASE_URL",
    "OPENAI_HOST",
    "ASGIPassthrough",
    "inprocess_httpx2_client",
    "inprocess_httpx_client",
    "inprocess_openai_client",
    "route_to_app",
]

#: the base URL in-process clients use; the host is never resolved
INPROCESS_BASE_URL = "http://mockserver.inprocess/v1"
#: the API key in-process OpenAI clients send unless told otherwise
INPROCESS_API_KEY = "sk-mockserver-inprocess"
#: the host openai 1.x / 2.x and most httpx-based clients call by default
OPENAI_HOST = "api.openai.com"


def inprocess_httpx_client(app: ASGIApp, *, base_url: str = INPROCESS_BASE_URL, **kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` whose requests go straight into ``app``; close it (``async with``) when done."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url, **kwargs)


def inprocess_httpx2_client(app: ASGIApp, *, base_url: str = INPROCESS_BASE_URL, **kwargs: Any) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` whose requests go straight into ``app``; close it (``async with``) when done."""
    import httpx2

    transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx2.AsyncClient(transport=transport, base_url=base_url, **kwargs)


def inprocess_openai_client(
    app: ASGIApp, *, api_key: str = INPROCESS_API_KEY, base_url: str = INPROCESS_BASE_URL, **kwargs: Any
) -> openai.AsyncOpenAI:
    """The official ``openai.AsyncOpenAI`` talking to ``app`` in-process.

    ``kwargs`` go to ``AsyncOpenAI`` (``max_retries``, ``timeout``, ...). Closing the client closes its transport.
    """
    import openai

    http_client: Any
    if _major_version(openai.__version__) >= 3:
        http_client = inprocess_httpx2_client(app, base_url=base_url)
    else:  # openai 1.x / 2.x are built on httpx
        http_client = inprocess_httpx_client(app, base_url=base_url)
    return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, http_client=http_client, **kwargs)


class ASGIPassthrough:
    """A ``respx`` side effect that answers each request with what ``app`` answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)


def route_to_app(router: respx.MockRouter, app: ASGIApp, *, host: str = OPENAI_HOST) -> respx.Route:
    """Add a route to ``router`` that sends every request for ``host`` (any scheme, port and path) to ``app``.

    Use it with the ``respx_mock`` fixture or ``respx.mock``; only async httpx clients can be routed this way.
    """
    return router.route(host=host).mock(side_effect=ASGIPassthrough(app))


def _major_version(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0
