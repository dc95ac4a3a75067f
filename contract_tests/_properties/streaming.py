"""Streaming: what a client reassembles from a chat stream (content, tool-call arguments, finish reason, usage)
equals what the server sent, for any content and chunking; a stream cut before ``[DONE]``, a malformed event and an
error event surface as errors (never as a silently shorter answer) and are never retried."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockserver import CannedReply, CannedToolCall

from .._property import Env, GivenProperty, Violation
from .._schedules import CHAT_PATH, scenario_text
from .._session import CHAT_MESSAGES, CHAT_MODEL, open_session, raw_http
from .._strategies import StreamCase, StreamFaultCase, stream_cases, stream_fault_cases
from .._targets import API_KEY

__all__ = ["STREAMING"]


@dataclass(slots=True)
class Reassembled:
    """A chat answer as a client's stream chunks add up."""

    parts: list[str] = field(default_factory=list)
    #: tool-call index -> [name, arguments]
    tool_calls: dict[int, list[str]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: tuple[int, int, int] | None = None

    def add(self, chunk: Any) -> None:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
        for choice in chunk.choices:
            delta = choice.delta
            if delta.content is not None:
                self.parts.append(delta.content)
            for call in delta.tool_calls or ():
                entry = self.tool_calls.setdefault(call.index, ["", ""])
                function = call.function
                if function is not None:
                    entry[0] += function.name or ""
                    entry[1] += function.arguments or ""
            if choice.finish_reason is not None:
                self.finish_reason = choice.finish_reason


def _canned(case: StreamCase) -> CannedReply:
    if case.tool_calls:
        return CannedReply(
            tool_calls=tuple(CannedToolCall(name=c.name, arguments=c.arguments) for c in case.tool_calls)
        )
    return CannedReply(pieces=case.pieces)


def _request(case: StreamCase) -> dict[str, Any]:
    request: dict[str, Any] = {"model": CHAT_MODEL, "messages": [dict(m) for m in CHAT_MESSAGES]}
    if case.max_tokens is not None:
        request["max_tokens"] = case.max_tokens
    return request


def _stream_options(case: StreamCase) -> dict[str, Any]:
    return {"stream_options": {"include_usage": True}} if case.include_usage else {}


async def _reference(base_url: str, request: dict[str, Any]) -> dict[str, Any]:
    """The same answer, not streamed, straight from the server."""
    async with raw_http() as http:
        response = await http.post(
            f"{base_url}/chat/completions", json=request, headers={"authorization": f"Bearer {API_KEY}"}
        )
    body: dict[str, Any] = response.json()
    return body


async def check_reassembly(env: Env, case: StreamCase) -> None:
    async with open_session(env) as session:
        reply = _canned(case)
        session.server.queue_replies(reply, reply)
        reference = await _reference(session.server.base_url, _request(case))
        got = Reassembled()
        stream = await session.client.chat.completions.create(**_request(case), **_stream_options(case), stream=True)
        async for chunk in stream:
            got.add(chunk)
    choice = reference["choices"][0]
    message = choice["message"]
    content = "".join(got.parts)
    if content != (message["content"] or ""):
        raise Violation(f"streamed content {content!r} != the server's {message['content']!r}")
    if case.pieces and case.max_tokens is None and content != "".join(case.pieces):
        raise Violation(f"streamed content {content!r} != the chunks sent {case.pieces!r}")
    calls = [tuple(got.tool_calls[index]) for index in sorted(got.tool_calls)]
    sent = [(call["function"]["name"], call["function"]["arguments"]) for call in message.get("tool_calls") or ()]
    if calls != sent:
        raise Violation(f"streamed tool calls {calls!r} != the server's {sent!r}")
    if got.finish_reason != choice["finish_reason"]:
        raise Violation(f"finish_reason {got.finish_reason!r} != the server's {choice['finish_reason']!r}")
    usage = reference["usage"]
    expected_usage = (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"])
    if case.include_usage and got.usage != expected_usage:
        raise Violation(f"usage {got.usage!r} != the server's {expected_usage!r}")


def _reassembly_replay(case: StreamCase) -> str:
    reply = _canned(case).model_dump(exclude_none=True, exclude_defaults=True)
    request = {**_request(case), **_stream_options(case), "stream": True}
    return scenario_text([], replies=[reply, reply], request=request)


def _fault_rule(case: StreamFaultCase) -> dict[str, Any]:
    action: dict[str, Any] = {"type": case.fault}
    if case.fault != "truncate":
        action["after_events"] = case.after_events
    if case.fault == "stream_error":
        action["message"] = case.message
    return {"match": {"path": CHAT_PATH, "stream": True}, "action": action, "times": 1}


def _fault_replay(case: StreamFaultCase) -> str:
    request = {"model": CHAT_MODEL, "messages": list(CHAT_MESSAGES), "stream": True}
    return scenario_text([_fault_rule(case)], replies=[{"pieces": list(case.pieces)}], request=request)


def _fault_check(expect: Callable[[Any, StreamFaultCase, BaseException], str | None]) -> Any:
    async def check(env: Env, case: StreamFaultCase) -> None:
        async with open_session(env, max_retries=2) as session:
            session.server.queue_replies(CannedReply(pieces=case.pieces), CannedReply(pieces=case.pieces))
            session.server.add_rules(_fault_rule(case))
            got = Reassembled()
            raised: BaseException | None = None
            try:
                stream = await session.client.chat.completions.create(**session.chat_request(), stream=True)
                async for chunk in stream:
                    got.add(chunk)
            except Exception as exc:
                raised = exc
            attempts = len(session.server.journal_for(CHAT_PATH))
        if attempts != 1:
            raise Violation(f"the request was sent {attempts} times: a stream that started must not be retried")
        if raised is None:
            text = "".join(got.parts)
            raise Violation(f"a {case.fault} stream ended without an error; the caller got {text!r} as the answer")
        problem = expect(session.errors, case, raised)
        if problem is not None:
            raise Violation(problem)

    return check


def _any_error(errors: Any, case: StreamFaultCase, raised: BaseException) -> str | None:
    return None


def _connection_error(errors: Any, case: StreamFaultCase, raised: BaseException) -> str | None:
    if isinstance(raised, errors.APIConnectionError):
        return None
    return f"a cut stream must raise APIConnectionError (or a subclass), got {type(raised).__name__}: {raised}"


def _api_error(errors: Any, case: StreamFaultCase, raised: BaseException) -> str | None:
    if isinstance(raised, errors.APIError) and case.message in str(raised):
        return None
    return (
        f"an error event must raise APIError with its message {case.message!r}, got {type(raised).__name__}: {raised}"
    )


def _fault_property(name: str, fault: Any, summary: str, expect: Any, examples: int) -> GivenProperty:
    return GivenProperty(
        name=name,
        summary=summary,
        strategy=stream_fault_cases(fault),
        check=_fault_check(expect),
        replay=_fault_replay,
        examples=examples,
    )


STREAMING = (
    GivenProperty(
        name="streaming.reassembly",
        summary="content, tool-call arguments, finish reason and usage equal what the server sent",
        strategy=stream_cases(),
        check=check_reassembly,
        replay=_reassembly_replay,
        examples=20,
    ),
    _fault_property(
        "streaming.cut_stream_raises",
        "disconnect",
        "a connection cut mid-stream raises, not retried",
        _connection_error,
        8,
    ),
    _fault_property(
        "streaming.truncated_stream_raises",
        "truncate",
        "a stream that ends cleanly without [DONE] raises",
        _any_error,
        5,
    ),
    _fault_property("streaming.malformed_event_raises", "malformed", "an event that is not JSON raises", _any_error, 8),
    _fault_property(
        "streaming.error_event_raises",
        "stream_error",
        "an error event raises APIError with its message",
        _api_error,
        8,
    ),
)
