"""Chat Completions objects: completions, streamed chunks, stored-completion deletion."""

from __future__ import annotations

from typing import Any

import msgspec

from ._base import APIObject

__all__ = [
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionDeleted",
    "ChatCompletionMessage",
    "ChatCompletionMessageToolCall",
    "ChatCompletionTokenLogprob",
    "Choice",
    "ChoiceDelta",
    "ChoiceDeltaToolCall",
    "ChoiceDeltaToolCallFunction",
    "ChoiceLogprobs",
    "ChunkChoice",
    "CompletionTokensDetails",
    "CompletionUsage",
    "Function",
    "FunctionCall",
    "PromptTokensDetails",
    "TopLogprob",
]


class FunctionCall(APIObject):
    name: str = ""
    arguments: str = ""


Function = FunctionCall


class ChatCompletionMessageToolCall(APIObject):
    id: str = ""
    type: str = "function"
    function: FunctionCall = msgspec.field(default_factory=FunctionCall)


class ChatCompletionMessage(APIObject):
    role: str = "assistant"
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    annotations: list[Any] | None = None
    function_call: FunctionCall | None = None
    audio: Any = None


class TopLogprob(APIObject):
    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None


class ChatCompletionTokenLogprob(APIObject):
    token: str = ""
    logprob: float = 0.0
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = []


class ChoiceLogprobs(APIObject):
    content: list[ChatCompletionTokenLogprob] | None = None
    refusal: list[ChatCompletionTokenLogprob] | None = None


class Choice(APIObject):
    index: int = 0
    message: ChatCompletionMessage = msgspec.field(default_factory=ChatCompletionMessage)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class PromptTokensDetails(APIObject):
    cached_tokens: int | None = None
    audio_tokens: int | None = None


class CompletionTokensDetails(APIObject):
    reasoning_tokens: int | None = None
    audio_tokens: int | None = None
    accepted_prediction_tokens: int | None = None
    rejected_prediction_tokens: int | None = None


class CompletionUsage(APIObject):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens_details: CompletionTokensDetails | None = None


class ChatCompletion(APIObject):
    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[Choice] = []
    usage: CompletionUsage | None = None
    service_tier: str | None = None
    system_fingerprint: str | None = None


class ChoiceDeltaToolCallFunction(APIObject):
    name: str | None = None
    arguments: str | None = None


class ChoiceDeltaToolCall(APIObject):
    index: int = 0
    id: str | None = None
    type: str | None = None
    function: ChoiceDeltaToolCallFunction | None = None


class ChoiceDelta(APIObject):
    role: str | None = None
    content: str | None = None
    refusal: str | None = None
    tool_calls: list[ChoiceDeltaToolCall] | None = None
    function_call: ChoiceDeltaToolCallFunction | None = None


class ChunkChoice(APIObject):
    index: int = 0
    delta: ChoiceDelta = msgspec.field(default_factory=ChoiceDelta)
    finish_reason: str | None = None
    logprobs: ChoiceLogprobs | None = None


class ChatCompletionChunk(APIObject):
    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: list[ChunkChoice] = []
    usage: CompletionUsage | None = None
    service_tier: str | None = None
    system_fingerprint: str | None = None


class ChatCompletionDeleted(APIObject):
    id: str = ""
    object: str = "chat.completion.deleted"
    deleted: bool = False
