"""Forwarding a request to the upstream with httpx, relaying its answer (a stream event by event, as each
arrives) and recording the exchange when asked.

The request goes on as it came (method, path under the upstream's base URL, query, body, headers) less the
hop-by-hop headers, the client's credentials and the fault header; the upstream key is sent instead. An upstream
that cannot be reached or answers with something that is not HTTP gives a 502, one too slow a 504, both in
OpenAI's error shape; one that breaks off mid-stream has the client's connection cut too.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..faults.header import FAULT_HEADER
from ..wire.errors import error_body
from ..wire.json_codec import JSONDecodeError, loads
from ..wire.replies import BytesReply, JSONReply, LiveStreamReply, Reply, StreamSourceError
from ..wire.sse import SSEEvent
from .cassette import REDACTED, Interaction, RecordedEvent, RecordedRequest, RecordedResponse, body_fields
from .matching import IncomingRequest
from .settings import RecordingSettings, Upstream

__all__ = ["HOP_BY_HOP_HEADERS", "forward"]

#: headers that concern one connection, never passed on (RFC 9110, 7.6.1)
HOP_BY_HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
#: request headers the proxy replaces or leaves out (httpx sets the length, the host and the encodings it reads)
_NOT_FORWARDED = frozenset(
    {"host", "content-length", "authorization", "api-key", "accept-encoding", FAULT_HEADER.lower(), "cookie"}
)
#: response headers not passed back (the body is relayed decoded; the server adds its own ids and timings)
_NOT_RETURNED = frozenset(
    {"content-length", "content-encoding", "date", "server", "x-request-id", "openai-version", "openai-processing-ms"}
)
#: the request headers a cassette keeps (the rest say nothing about what was asked)
_RECORDED_REQUEST_HEADERS = ("content-type", "accept", "openai-beta")

Recorder = Callable[[Interaction], Awaitable[None]]


def _connection_listed(headers: dict[str, str]) -> set[str]:
    """Headers named in ``Connection`` (hop-by-hop for this connection only)."""
    return {name.strip().lower() for name in headers.get("connection", "").split(",") if name.strip()}


def upstream_headers(incoming: dict[str, str], upstream: Upstream) -> dict[str, str]:
    """The headers sent upstream: the client's, less hop-by-hop ones; the upstream key in place of the client's
    (with no upstream key configured, the client's own credentials go on)."""
    dropped = HOP_BY_HOP_HEADERS | _NOT_FORWARDED | _connection_listed(incoming)
    if upstream.key is None:
        dropped -= {"authorization", "api-key"}
    headers = {name: value for name, value in incoming.items() if name not in dropped}
    if upstream.key is not None:
        key = upstream.key.get_secret_value()
        if is_azure_host(urlsplit(upstream.url).hostname or ""):  # Azure takes a key in its own header
            headers["api-key"] = key
        else:
            headers["authorization"] = f"Bearer {key}"
    return headers


#: the domains of Azure OpenAI resources (an upstream there is sent its key as ``api-key``)
AZURE_DOMAINS = ("openai.azure.com", "cognitiveservices.azure.com", "services.ai.azure.com")


def is_azure_host(host: str) -> bool:
    """Whether ``host`` is an Azure OpenAI resource. The upstream, not the client, decides how its key is sent:
    the request goes on in OpenAI's form (the fake has already turned an Azure path into a ``/v1`` one)."""
    host = host.rstrip(".").lower()
    return any(host == domain or host.endswith("." + domain) for domain in AZURE_DOMAINS)


def returned_headers(response: httpx.Response) -> dict[str, str]:
    dropped = HOP_BY_HOP_HEADERS | _NOT_RETURNED | _connection_listed(dict(response.headers))
    return {name: value for name, value in response.headers.items() if name not in dropped}


def upstream_url(upstream: Upstream, request: IncomingRequest) -> str:
    """The upstream's base URL stands for ``/v1``: ``/v1/chat/completions`` goes to ``<base>/chat/completions``."""
    path = request.path[3:] if request.path.startswith("/v1/") else request.path
    return upstream.url + path + (f"?{request.query}" if request.query else "")


async def forward(
    request: IncomingRequest,
    settings: RecordingSettings,
    ssl_context: ssl.SSLContext,
    recorder: Recorder | None,
    started: float,
) -> Reply:
    """The upstream's answer to ``request``; recorded by ``recorder`` once it has arrived in full. Recorded times
    count from ``started`` (``time.perf_counter()`` when the request arrived), so they include the proxy's own part
    and a replay reproduces what the client saw."""
    upstream = settings.upstream
    assert upstream is not None, "forward() needs an upstream"
    client = httpx.AsyncClient(timeout=upstream.timeout, verify=ssl_context, trust_env=False)
    outgoing = client.build_request(
        request.method, upstream_url(upstream, request), headers=upstream_headers(request.headers, upstream),
        content=request.raw,
    )  # fmt: skip
    try:
        response = await client.send(outgoing, stream=True)
    except BaseException as exc:
        await client.aclose()
        if isinstance(exc, httpx.HTTPError):
            return _gateway_error(exc, upstream)
        raise
    headers_ms = _since(started)
    headers = returned_headers(response)
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" in content_type:
        events = _relay(client, response, request, settings, started, headers_ms, recorder)
        return LiveStreamReply(events, status=response.status_code, headers=headers)
    try:
        body = await response.aread()
    except httpx.HTTPError as exc:
        return _gateway_error(exc, upstream)
    finally:
        await response.aclose()
        await client.aclose()
    if recorder is not None:
        recorded = RecordedResponse.model_validate(
            {
                "status": response.status_code,
                "headers": _recorded_headers(response, settings),
                "headers_ms": headers_ms,
                "elapsed_ms": _since(started),
                **_redacted_body(body_fields(body, content_type), settings),
            }
        )
        await recorder(Interaction(request=_recorded_request(request, settings), response=recorded))
    return BytesReply(body, content_type or "application/octet-stream", response.status_code, headers)


async def _relay(
    client: httpx.AsyncClient,
    response: httpx.Response,
    request: IncomingRequest,
    settings: RecordingSettings,
    started: float,
    headers_ms: float,
    recorder: Recorder | None,
) -> AsyncGenerator[SSEEvent, None]:
    """The upstream's events as they arrive; the exchange is recorded once the stream has ended properly."""
    recorded: list[RecordedEvent] = []
    try:
        try:
            async for name, data in _sse_fields(response.aiter_lines()):
                if recorder is not None:
                    recorded.append(_recorded_event(name, data, _since(started)))
                yield SSEEvent(data.encode().replace(b"\n", b"\ndata: "), name)
        except httpx.HTTPError as exc:
            raise StreamSourceError(f"the upstream broke off the stream: {exc!r}") from exc
    finally:
        await response.aclose()
        await client.aclose()
    if recorder is not None:
        recorded_response = RecordedResponse(
            status=response.status_code,
            headers=_recorded_headers(response, settings),
            headers_ms=headers_ms,
            events=tuple(recorded),
        )
        await recorder(Interaction(request=_recorded_request(request, settings), response=recorded_response))


async def _sse_fields(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str | None, str]]:
    """``(event name, data)`` of each server-sent event (comments, ``id`` and ``retry`` are left out)."""
    name: str | None = None
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield name, "\n".join(data)
            name, data = None, []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if data:
        yield name, "\n".join(data)


def _recorded_event(name: str | None, data: str, at_ms: float) -> RecordedEvent:
    try:
        value = loads(data)
    except JSONDecodeError:
        return RecordedEvent(at_ms=at_ms, event=name, text=data)
    if value is None:
        return RecordedEvent(at_ms=at_ms, event=name, text=data)
    return RecordedEvent(at_ms=at_ms, event=name, data=value)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _recorded_request(request: IncomingRequest, settings: RecordingSettings) -> RecordedRequest:
    headers = {name: request.headers[name] for name in _RECORDED_REQUEST_HEADERS if name in request.headers}
    fields = _redacted_body(body_fields(request.raw, request.content_type), settings)
    return RecordedRequest.model_validate(
        {"method": request.method, "path": request.path, "query": request.query, "headers": headers, **fields}
    )


def _recorded_headers(response: httpx.Response, settings: RecordingSettings) -> dict[str, str]:
    redacted = settings.redacted_headers
    return {name: REDACTED if name in redacted else value for name, value in returned_headers(response).items()}


def _redacted_body(fields: dict[str, Any], settings: RecordingSettings) -> dict[str, Any]:
    if "json" not in fields or not settings.redact_body_paths:
        return fields
    value = fields["json"]
    for path in settings.redact_body_paths:
        value = _redact_path(value, path.split("."))
    return {"json": value}


def _redact_path(value: Any, path: list[str]) -> Any:
    if not path:
        return REDACTED
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _redact_path(value[head], rest)}
    if isinstance(value, list):
        if head == "*":
            return [_redact_path(item, rest) for item in value]
        if head.isdigit() and int(head) < len(value):
            index = int(head)
            return [*value[:index], _redact_path(value[index], rest), *value[index + 1 :]]
    return value


def _gateway_error(exc: httpx.HTTPError, upstream: Upstream) -> JSONReply:
    """What a client of the real API sees in an outage: 504 when the upstream is too slow, 502 otherwise."""
    if isinstance(exc, httpx.TimeoutException):
        message = f"The upstream did not answer in time (timeout {upstream.timeout:g} s)."
        return JSONReply(error_body(message, type="server_error", code="upstream_timeout"), 504)
    kind = type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        message = f"The upstream could not be reached ({kind})."
    else:
        message = f"The upstream did not answer with valid HTTP ({kind})."
    return JSONReply(error_body(message, type="server_error", code="upstream_error"), 502)
