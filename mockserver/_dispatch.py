"""The one path every API request takes: read and parse the body, run the handler, deliver the reply.

Routes are plain async handlers ``(Call) -> Reply``; :class:`Endpoint` adapts one to ASGI. Faults, latency
and the journal hook in here, in one place, never in the handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from ._delivery import deliver
from ._errors import APIErrorResponse
from ._json import JSONDecodeError, loads
from ._reply import JSONReply, Reply
from ._state import ServerState

__all__ = ["Call", "Endpoint", "Handler"]


@dataclass(slots=True)
class Call:
    """One request as a handler sees it."""

    request: Request
    #: the parsed JSON body (``None`` for requests without a JSON body)
    body: Any
    state: ServerState

    @property
    def path_params(self) -> dict[str, Any]:
        return self.request.path_params

    def json_object(self) -> dict[str, Any]:
        """The body, which must be a JSON object."""
        if not isinstance(self.body, dict):
            raise APIErrorResponse(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
                "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
                "valid JSON.)",
                code=None,
            )
        return self.body


Handler = Callable[[Call], Awaitable[Reply]]


class Endpoint:
    """An ASGI app around one handler."""

    def __init__(self, handler: Handler, *, json_body: bool = True) -> None:
        self.handler = handler
        self.json_body = json_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: ServerState = scope["app"].state.mock
        try:
            raw = await _read_body(scope, receive, state.config.max_body_bytes)
            request = Request(scope, _replay(raw, receive))
            body = _parse_json(raw, request) if self.json_body else None
            reply = await self.handler(Call(request, body, state))
        except APIErrorResponse as exc:
            reply = JSONReply(exc.body(), exc.status, exc.headers)
        await deliver(reply, scope, receive, send)


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _too_large(limit: int) -> APIErrorResponse:
    return APIErrorResponse(413, f"Request body too large: the limit is {limit} bytes.", code="request_too_large")


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body out once, then defers to the real one."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay


def _parse_json(raw: bytes, request: Request) -> Any:
    if request.method in ("GET", "DELETE", "HEAD") and not raw:
        return None
    if not raw:
        raise APIErrorResponse(
            400,
            "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload, "
            "but the request body was empty.",
        )
    try:
        return loads(raw)
    except JSONDecodeError:
        raise APIErrorResponse(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
            "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
            "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
            "help center at help.openai.com.)",
        ) from None
