"""The common ``POST /v1/chat/completions`` request checked in one ``msgspec`` conversion, in C.

Most requests are text messages and a few sampling fields. :func:`common_chat_request` converts such a body to
:class:`_CommonChat` (a ``msgspec`` struct whose types and bounds are the field checks of :mod:`._chat_request`
for those fields) and builds the same :class:`~._chat_request.ChatRequest` the field-by-field checks would. It
declines (``None``) any body outside that shape - another field, a tool message, content parts, a value out of
range, anything the checks would refuse - and the caller then checks it field by field, which gives OpenAI's
exact error (so errors never come from here, and their text has one source).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from ..content.tokenizer import REPLY_PRIMING_TOKENS, text_message_tokens
from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse
from ._chat_request import ChatRequest
from ._generation_fields import reply_key
from ._request_limits import check_max_tokens
from .models import is_model_served

__all__ = ["common_chat_request"]

_Positive = Annotated[int, msgspec.Meta(ge=1)]


class _Message(msgspec.Struct, forbid_unknown_fields=True):
    role: Literal["system", "user", "assistant", "developer"]
    content: str
    name: str | None = None


class _StreamOptions(msgspec.Struct):
    include_usage: bool = False


# A field whose null means its default has that default here, not ``None``: a body that sends the null is declined
# (the field-by-field checks give it the same request), and the common body, which omits it, needs no conversion.
class _CommonChat(msgspec.Struct, forbid_unknown_fields=True):
    model: Annotated[str, msgspec.Meta(min_length=1)]
    messages: Annotated[list[_Message], msgspec.Meta(min_length=1)]
    n: Annotated[int, msgspec.Meta(ge=1, le=128)] = 1
    temperature: Annotated[float, msgspec.Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    presence_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, msgspec.Meta(ge=-2, le=2)] | None = None
    seed: int | None = None
    user: str | None = None
    logit_bias: dict[str, Any] | None = None
    parallel_tool_calls: bool = True
    stream: bool = False
    stream_options: _StreamOptions | None = None
    logprobs: bool = False
    top_logprobs: Annotated[int, msgspec.Meta(ge=0, le=20)] | None = None
    max_completion_tokens: _Positive | None = None
    max_tokens: _Positive | None = None
    stop: str | Annotated[list[str], msgspec.Meta(max_length=4)] | None = None
    store: bool = False
    service_tier: Literal["auto", "default", "flex", "scale", "priority"] | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = None


def common_chat_request(body: Mapping[str, Any], state: ServerState) -> ChatRequest | None:
    """The :class:`~._chat_request.ChatRequest` for ``body`` when it has the common shape and passes every check,
    else ``None`` (then check it field by field: :func:`~._chat_request.parse_chat_request`)."""
    try:
        checked = msgspec.convert(body, _CommonChat)
    except msgspec.ValidationError:
        return None
    stream = checked.stream
    stream_options = checked.stream_options
    if stream_options is not None and not stream:
        return None
    if checked.top_logprobs is not None and not checked.logprobs:
        return None
    limit_param = "max_completion_tokens" if checked.max_completion_tokens is not None else "max_tokens"
    max_tokens = checked.max_completion_tokens if checked.max_completion_tokens is not None else checked.max_tokens
    model = checked.model
    if not is_model_served(state.config, model):
        return None
    try:
        output_limit = check_max_tokens(state, model, max_tokens, limit_param)
    except APIErrorResponse:
        return None
    # the prompt and its tokens from the checked messages (what ``prompt_text`` and ``count_message_tokens`` give
    # for their mappings: every message here has a role, text content and perhaps a name)
    prompt_tokens = REPLY_PRIMING_TOKENS
    prompt = None
    for message in reversed(checked.messages):
        prompt_tokens += text_message_tokens(message.role, message.content, message.name)
        if prompt is None and message.role == "user":
            prompt = message.content
    stop = checked.stop
    tier = checked.service_tier
    # by position: a struct takes them several times faster than by keyword (each is named by its field)
    return ChatRequest(
        model,  # model
        tuple(body["messages"]),  # messages
        checked.messages[-1].content if prompt is None else prompt,  # prompt
        prompt_tokens,  # prompt_tokens
        reply_key(body),  # key
        checked.n,  # n
        stream,  # stream
        stream_options is not None and stream_options.include_usage,  # include_usage
        max_tokens,  # max_tokens
        () if stop is None else (stop,) if isinstance(stop, str) else tuple(stop),  # stop
        checked.logprobs,  # logprobs
        checked.top_logprobs or 0,  # top_logprobs
        (),  # tools
        "auto",  # tool_choice
        checked.parallel_tool_calls,  # parallel_tool_calls
        None,  # json_schema
        checked.store,  # store
        {},  # metadata
        "default" if tier in (None, "auto") else tier,  # service_tier
        output_limit,  # output_limit
    )
