"""The control plane under ``/_mock/``: script rules, reset, read the journal and counters over HTTP.

These routes are not journaled, not subject to rules and need no API key. Bad input gets a 400 whose message
names the bad field, and nothing of it is applied. ``mockserver serve --no-control`` leaves them out (404), and
``--control-token`` makes them ask for the token in the ``X-Mock-Control-Token`` header (401 without it).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..config.settings import CannedReply
from ..faults.rules import Rule, RuleError, parse_rules
from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse, error_body
from ..wire.json_codec import JSONDecodeError, dumps, loads

__all__ = ["CONTROL_TOKEN_HEADER", "control_routes"]

CONTROL_TOKEN_HEADER = "X-Mock-Control-Token"

_Handler = Callable[[Request], Awaitable[Response]]


def _json(data: Any, status: int = 200) -> Response:
    return Response(dumps(data), status, media_type="application/json")


def _bad_request(message: str) -> Response:
    return _json(error_body(message, type="invalid_request_error"), 400)


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.mock
    return state


class _TooLarge(Exception):
    """A control request body over ``config.max_body_bytes``."""


async def _body(request: Request) -> Any:
    raw = await _read_capped(request, _state(request).config.max_body_bytes)
    if not raw.strip():
        raise RuleError("body: expected JSON, got an empty body")
    try:
        return loads(raw)
    except JSONDecodeError:
        raise RuleError("body: not valid JSON") from None


async def _read_capped(request: Request, limit: int) -> bytes:
    """The body, read up to ``limit`` bytes (the cap the ``/v1`` routes have): over it, :class:`_TooLarge`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> Response:
    message = f"Request body too large: the limit is {limit} bytes."
    return _json(error_body(message, type="invalid_request_error", code="request_too_large"), 413)


#: rules validated between two turns of the event loop (a long list is validated a slice at a time)
_RULES_PER_SLICE = 200


async def _parse_rules_sliced(data: Any, max_rules: int | None) -> tuple[Rule, ...]:
    """``parse_rules(data)``, refusing more than ``max_rules`` before validating any, and letting the event loop
    serve others between slices."""
    if not isinstance(data, list):
        return parse_rules(data)
    if max_rules is not None and len(data) > max_rules:
        raise RuleError(f"rules: at most {max_rules} rules may be in force (config max_rules); {len(data)} were given")
    rules: list[Rule] = []
    for start in range(0, len(data), _RULES_PER_SLICE):
        rules.extend(parse_rules(data[start : start + _RULES_PER_SLICE], offset=start))
        await anyio.lowlevel.checkpoint()
    return tuple(rules)


async def add_rules(request: Request) -> Response:
    state = _state(request)
    try:
        rules = await _parse_rules_sliced(await _body(request), state.rules.max_rules)
        ids = state.rules.add(rules)
    except _TooLarge:
        return _too_large(state.config.max_body_bytes)
    except RuleError as exc:
        return _bad_request(str(exc))
    return _json({"ids": ids})


async def list_rules(request: Request) -> Response:
    return _json({"rules": [active.to_json() for active in _state(request).rules.rules()]})


async def clear_rules(request: Request) -> Response:
    return _json({"deleted": _state(request).rules.clear()})


async def delete_rule(request: Request) -> Response:
    rule_id = request.path_params["rule_id"]
    if not _state(request).rules.remove(rule_id):
        return _json(error_body(f"No rule found with id '{rule_id}'.", type="invalid_request_error"), 404)
    return _json({"deleted": 1})


async def reset(request: Request) -> Response:
    _state(request).reset()
    return _json({"reset": True})


async def journal(request: Request) -> Response:
    path = request.query_params.get("path")
    method = request.query_params.get("method")
    entries = [
        entry.to_json()
        for entry in _state(request).journal.entries()
        if (path is None or entry.path == path) and (method is None or entry.method == method.upper())
    ]
    return _json({"data": entries})


async def stats(request: Request) -> Response:
    return _json(_state(request).stats.snapshot())


async def queue_replies(request: Request) -> Response:
    try:
        data = await _body(request)
    except _TooLarge:
        return _too_large(_state(request).config.max_body_bytes)
    except RuleError as exc:
        return _bad_request(str(exc))
    items = data if isinstance(data, list) else [data]
    replies: list[CannedReply | str] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            replies.append(item)
        elif isinstance(item, dict):
            try:
                replies.append(CannedReply.model_validate(item))
            except ValueError as exc:
                return _bad_request(f"replies.{index}: {exc}")
        else:
            return _bad_request(f"replies.{index}: expected a text or a reply object, got {type(item).__name__}")
    _state(request).push_replies(*replies)
    return _json({"queued": len(replies)})


def _token_required(handler: _Handler, token: str) -> _Handler:
    expected = token.encode()

    async def guarded(request: Request) -> Response:
        given = request.headers.get(CONTROL_TOKEN_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            message = f"The control API needs the server's control token in the {CONTROL_TOKEN_HEADER} header."
            return _json(error_body(message, type="invalid_request_error", code="invalid_control_token"), 401)
        return await handler(request)

    return guarded


def _unavailable_answered(handler: _Handler) -> _Handler:
    """The handler, with a shared state that cannot be reached answered as the API answers it (a 503)."""

    async def answering(request: Request) -> Response:
        try:
            return await handler(request)
        except APIErrorResponse as exc:
            return _json(exc.body(), exc.status)

    return answering


def control_routes(token: str | None = None) -> list[BaseRoute]:
    """The ``/_mock/`` routes; with a ``token``, each asks for it first."""
    endpoints: list[tuple[str, _Handler, str]] = [
        ("/_mock/rules", add_rules, "POST"),
        ("/_mock/rules", list_rules, "GET"),
        ("/_mock/rules", clear_rules, "DELETE"),
        ("/_mock/rules/{rule_id}", delete_rule, "DELETE"),
        ("/_mock/reset", reset, "POST"),
        ("/_mock/journal", journal, "GET"),
        ("/_mock/stats", stats, "GET"),
        ("/_mock/replies", queue_replies, "POST"),
    ]
    endpoints = [(path, _unavailable_answered(handler), method) for path, handler, method in endpoints]
    return [
        Route(path, handler if token is None else _token_required(handler, token), methods=[method])
        for path, handler, method in endpoints
    ]
