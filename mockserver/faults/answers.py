"""The error replies the fault engine answers with, in OpenAI's wire format (body, status and headers)."""

from __future__ import annotations

import math

from ..wire.errors import error_body
from ..wire.replies import JSONReply
from .rules import RateLimitAction, StatusAction, StreamErrorAction

__all__ = ["rate_limit_reply", "retry_headers", "status_reply", "stream_error_reply"]

SERVER_ERROR_MESSAGE = "The server had an error while processing your request. Sorry about that!"

QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more information on this "
    "error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
)

#: status -> (message, type, code), as OpenAI answers them
_STATUS_ERRORS: dict[int, tuple[str, str, str | None]] = {
    400: ("Invalid request.", "invalid_request_error", None),
    401: (
        "Incorrect API key provided: sk-mock***. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    403: ("You are not allowed to access this resource.", "invalid_request_error", None),
    404: ("The requested resource does not exist.", "invalid_request_error", None),
    408: ("Request timed out.", "invalid_request_error", None),
    409: ("The request conflicts with the current state of the resource.", "invalid_request_error", None),
    422: ("The request could not be processed.", "invalid_request_error", None),
    429: ("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
    500: (SERVER_ERROR_MESSAGE, "server_error", None),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later", "server_error", None),
    504: ("Gateway timeout.", "server_error", None),
}


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3f}".rstrip("0").rstrip(".")


def retry_headers(*, retry_after: float | None = None, retry_after_ms: float | None = None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["retry-after"] = _format_number(retry_after)
    if retry_after_ms is not None:
        headers["retry-after-ms"] = _format_number(retry_after_ms)
    return headers


def status_reply(action: StatusAction) -> JSONReply:
    default_message, kind, default_code = _STATUS_ERRORS.get(
        action.status,
        (SERVER_ERROR_MESSAGE, "server_error", None)
        if action.status >= 500
        else (f"Request failed with status {action.status}.", "invalid_request_error", None),
    )
    headers = retry_headers(retry_after=action.retry_after, retry_after_ms=action.retry_after_ms)
    if action.should_retry is not None:
        headers["x-should-retry"] = "true" if action.should_retry else "false"
    headers.update({name.lower(): value for name, value in action.headers.items()})
    body = error_body(
        action.message if action.message is not None else default_message,
        type=kind,
        code=action.code if action.code is not None else default_code,
    )
    return JSONReply(body, action.status, headers)


def rate_limit_reply(action: RateLimitAction, model: str | None) -> JSONReply:
    if action.kind == "quota":
        body = error_body(QUOTA_MESSAGE, type="insufficient_quota", code="insufficient_quota")
        # the SDK retries every 429 unless told otherwise
        return JSONReply(body, 429, {"x-should-retry": "false"})
    per_minute = "requests per min (RPM)" if action.kind == "requests" else "tokens per min (TPM)"
    limit = 500 if action.kind == "requests" else 30_000
    requested = 1 if action.kind == "requests" else 1_000
    message = (
        f"Rate limit reached for {model or 'gpt-4o'} in organization org-mock on {per_minute}: Limit {limit}, "
        f"Used {limit}, Requested {requested}. Please try again in {_format_number(action.retry_after)}s. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    body = error_body(message, type=action.kind, code="rate_limit_exceeded")
    headers = retry_headers(retry_after=action.retry_after, retry_after_ms=action.retry_after * 1000)
    reset = f"{math.ceil(action.retry_after * 1000)}ms"
    headers |= {
        f"x-ratelimit-limit-{action.kind}": str(limit),
        f"x-ratelimit-remaining-{action.kind}": "0",
        f"x-ratelimit-reset-{action.kind}": reset,
    }
    return JSONReply(body, 429, headers)


def stream_error_reply(action: StreamErrorAction) -> JSONReply:
    """What a non-stream request gets for a ``stream_error`` rule: a 500 carrying that error."""
    return JSONReply(error_body(action.message, type=action.error_type, code=action.code), 500)
