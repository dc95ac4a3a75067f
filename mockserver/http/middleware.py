"""ASGI middleware: OpenAI's standard response headers, and API-key checks, on every ``/v1`` request."""

from __future__ import annotations

import time

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..azure.routing import azure_target
from ..state.server_state import ServerState
from ..wire.errors import error_body
from ..wire.json_codec import dumps
from .bookkeeping import Tally

__all__ = ["AuthMiddleware", "OpenAIHeaders", "OpenAIHeadersMiddleware", "auth_problem", "key_problem"]

OPENAI_VERSION = "2020-10-01"
_VERSION_HEADER = (b"openai-version", OPENAI_VERSION.encode())

_NO_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
    "you're accessing the API from your browser and are prompted for a username. You can obtain an API key "
    "from https://platform.openai.com/account/api-keys."
)


class OpenAIHeadersMiddleware:
    """Adds ``x-request-id``, ``openai-version`` and ``openai-processing-ms`` to every response, and the
    ``x-ratelimit-*`` headers of the configured rate limits to every ``/v1`` response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, OpenAIHeaders(scope, scope["app"].state.mock).sending(send))


class OpenAIHeaders:
    """One request's side of :class:`OpenAIHeadersMiddleware`: gives the request in ``scope`` its id
    (``scope["state"]["request_id"]``); :meth:`start` adds the headers to the response's start (a ``send`` made by
    :meth:`sending` does it on the way out)."""

    __slots__ = ("_path", "_request_id_header", "_started_at", "_state", "started")

    def __init__(self, scope: Scope, state: ServerState) -> None:
        request_state = scope.setdefault("state", {})
        # drawn once: a request the at-once lane gave back to the app keeps the id the lane drew
        request_id = request_state.get("request_id") or state.ids.request_id()
        request_state["request_id"] = request_id
        self._state = state
        self._started_at = time.perf_counter()
        self._path: str = scope["path"]
        self._request_id_header = (b"x-request-id", request_id.encode())
        #: whether the response's start has gone out
        self.started = False

    def sending(self, send: Send) -> Send:
        """``send`` with the headers added to the response's start."""

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.start(message)
            await send(message)

        return send_with_headers

    def start(self, message: Message) -> None:
        """Add the headers to the response's start ``message`` (which is about to go out)."""
        message["headers"] = self.added([*message.get("headers", ())])

    def added(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """``headers`` (a response's, about to go out) with these added."""
        self.started = True
        elapsed_ms = int((time.perf_counter() - self._started_at) * 1000)
        headers += (self._request_id_header, _VERSION_HEADER, (b"openai-processing-ms", b"%d" % elapsed_ms))
        limiter = self._state.rate_limiter
        if limiter is not None and self._path.startswith(("/v1", "/openai/")):  # an API request
            headers.extend(_missing(headers, limiter.headers()))
        return headers


def _missing(headers: list[tuple[bytes, bytes]], extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    present = {name.lower() for name, _ in headers}
    encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()]
    return [(name, value) for name, value in encoded if name not in present]


class AuthMiddleware:
    """Requires ``Authorization: Bearer <key>`` on ``/v1`` paths: any non-empty key, or exactly the
    configured ``api_key``. A refused request is journaled (status 401, no rule)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1") or azure_target(scope) is not None:
            await self.app(scope, receive, send)  # Azure requests were checked Azure's way (api-key or a token)
            return
        state: ServerState = scope["app"].state.mock
        problem = auth_problem(scope, state.config.api_key)
        if problem is None:
            await self.app(scope, receive, send)
            return
        message, code = problem
        body = error_body(message, type="invalid_request_error", code=code)
        # refused before any route runs, but still a request the journal should show
        request_id = scope.get("state", {}).get("request_id") or state.ids.request_id()
        tally = Tally(scope, request_id, state.journal, state.stats)
        try:
            response = Response(dumps(body), 401, media_type="application/json")
            await response(scope, receive, tally.recording(send))
        finally:
            tally.finish()


def _authorization(scope: Scope) -> bytes | None:
    """The first ``Authorization`` header, as Starlette's ``Headers.get`` finds it (ASGI names are lowercase),
    without building a ``Headers`` for every request."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            return value
    return None


def auth_problem(scope: Scope, required_key: str | None) -> tuple[str, str | None] | None:
    """Why the ``/v1`` request in ``scope`` is refused (message, code), or ``None`` when its key is accepted."""
    return key_problem(_authorization(scope), required_key)


def key_problem(authorization: bytes | None, required_key: str | None) -> tuple[str, str | None] | None:
    """Why a ``/v1`` request with this ``Authorization`` header (``None``: without one) is refused (message,
    code), or ``None`` when its key is accepted."""
    scheme, _, key = (authorization or b"").decode("latin-1").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return _NO_KEY, None
    if required_key is not None and key != required_key:
        return (
            f"Incorrect API key provided: {_redact(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_api_key",
        )
    return None


def _redact(key: str) -> str:
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * 3}{key[-4:]}"
