"""``AsyncStream``: the typed events of a streamed response, read incrementally.

Each SSE event's data is decoded straight from bytes into the stream's msgspec type. The connection is released in a
``finally`` whatever ends the iteration: the end of the body, an exception, cancellation (also when the consuming
task is cancelled while it awaits something else inside its ``async for`` body: the end of the task that iterates a
stream closes it), ``break`` (when that task ends, or the stream is dropped), ``await stream.close()`` or leaving
``async with stream``.

How a stream ends (deliberate divergences from the official SDK are marked *):
- chat completions and completions end at ``data: [DONE]``; the rest of the body is drained briefly so the connection
  can be reused. A body that ends without ``[DONE]`` raises :class:`IncompleteStreamError` (an
  ``APIConnectionError``)*.
- Responses streams end at ``response.completed`` / ``response.failed`` / ``response.incomplete`` (yielded, then the
  iteration stops) or at an ``error`` event, which raises :class:`APIError` with the event's message and the event as
  ``body``*. A body that ends before any of these raises :class:`IncompleteStreamError`*.
- An event whose JSON has a truthy top-level ``error`` raises :class:`APIError` (as the SDK does).
- An event that is not JSON, or not of the expected shape (also JSON nested too deep to decode), raises
  :class:`APIResponseValidationError`.
- An event larger than the client's ``max_stream_event_bytes`` raises :class:`APIError`, and the stream is closed.
- A transport failure while reading raises ``APIConnectionError`` / ``APITimeoutError``; it is never retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import msgspec

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    IncompleteStreamError,
)
from ._response import HTTPResponse
from ._sse import DEFAULT_MAX_EVENT_BYTES, EventTooLarge, SSEDecoder
from ._transport import TransportError, TransportRequest, TransportResponse, TransportTimeout

__all__ = ["CHAT_STREAM", "RESPONSES_STREAM", "AsyncStream", "StreamProtocol"]

T = TypeVar("T")

_DRAIN_SECONDS = 0.1
_GENERIC_DECODER = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class StreamProtocol:
    """How a kind of stream ends: at ``data: [DONE]``, or at an event of one of ``terminal_events``."""

    done_marker: bool
    terminal_events: frozenset[str] = frozenset()
    #: the event type whose arrival is an error (Responses: ``error``)
    error_event: str | None = None

    @property
    def expected_end(self) -> str:
        return "[DONE]" if self.done_marker else " / ".join(sorted(self.terminal_events | {self.error_event or ""}))


CHAT_STREAM = StreamProtocol(done_marker=True)
RESPONSES_STREAM = StreamProtocol(
    done_marker=False,
    terminal_events=frozenset({"response.completed", "response.failed", "response.incomplete"}),
    error_event="error",
)


def _error_message(error: object, default: str) -> str:
    message = error.get("message") if isinstance(error, Mapping) else None
    return message if isinstance(message, str) and message else default


class AsyncStream(Generic[T]):
    """Iterate with ``async for``; close with ``await stream.close()`` or ``async with stream``."""

    response: TransportResponse

    def __init__(
        self,
        *,
        response: TransportResponse,
        request: TransportRequest,
        decoder: msgspec.json.Decoder[T],
        protocol: StreamProtocol,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self.response = response
        self._max_event_bytes = max_event_bytes
        self._request = request
        self._decoder = decoder
        self._protocol = protocol
        self._iterator = self._events()
        self._closing: asyncio.Task[None] | None = None

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterator

    async def __anext__(self) -> T:
        return await self._iterator.__anext__()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the connection; the iteration ends."""
        try:
            await self.response.aclose()
        finally:
            with contextlib.suppress(RuntimeError):  # the iterator is running in another task
                await self._iterator.aclose()

    def _invalid_event(self, data: bytes, error: Exception) -> APIResponseValidationError:
        response = self.response
        received = HTTPResponse(response.status_code, response.headers, data, self._request)
        return APIResponseValidationError(received, received.text, message=f"Invalid stream event: {error}")

    def _raise_if_error(self, data: bytes) -> None:
        payload = _GENERIC_DECODER.decode(data)
        if isinstance(payload, Mapping) and payload.get("error"):
            error = payload["error"]
            raise APIError(_error_message(error, "An error occurred during streaming"), self._request, body=error)

    async def _events(self) -> AsyncGenerator[T, None]:
        response = self.response
        request = self._request
        protocol = self._protocol
        done_marker = protocol.done_marker
        decode = self._decoder.decode
        sse_decoder = SSEDecoder(max_event_bytes=self._max_event_bytes)
        chunks = response.aiter_bytes()
        consumer = asyncio.current_task()
        on_consumer_done = _closer_for(weakref.ref(self))
        if consumer is not None:
            consumer.add_done_callback(on_consumer_done)
        try:
            try:
                async for chunk in chunks:
                    for sse in sse_decoder.feed(chunk):
                        data = sse.data
                        if done_marker and data[:6] == b"[DONE]":
                            await _drain(chunks)
                            return
                        try:
                            if b'"error"' in data:
                                self._raise_if_error(data)
                            item = decode(data)
                        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as error:
                            raise self._invalid_event(data, error) from error
                        if done_marker:
                            yield item
                            continue
                        kind = sse.event or getattr(item, "type", None)
                        if kind == protocol.error_event:
                            payload = _decoded_or_text(data)
                            message = _error_message(payload, "An error occurred during streaming")
                            raise APIError(message, request, body=payload)
                        if kind in protocol.terminal_events:
                            await _drain(chunks)
                            await response.aclose()
                            yield item
                            return
                        yield item
                sse_decoder.close()
            except EventTooLarge as error:
                raise APIError(str(error), request, body=None) from None
            except TransportTimeout as error:
                raise APITimeoutError(request) from error
            except TransportError as error:
                raise APIConnectionError(request=request) from error
            raise IncompleteStreamError(request=request, expected=protocol.expected_end)
        finally:
            if consumer is not None:
                consumer.remove_done_callback(on_consumer_done)
            await response.aclose()

    def _consumer_done(self, task: asyncio.Task[Any]) -> None:
        self._closing = task.get_loop().create_task(self.close())


def _closer_for(stream: weakref.ref[AsyncStream[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    """A done-callback for the task iterating ``stream``: if that task ends (cancelled, failed, or done after a
    ``break``) with the stream still open, close it now rather than when it is garbage-collected. Holds the stream
    weakly so that dropping the stream still frees it."""

    def on_done(task: asyncio.Task[Any]) -> None:
        live = stream()
        if live is not None:
            live._consumer_done(task)

    return on_done


def _decoded_or_text(data: bytes) -> Any:
    try:
        return _GENERIC_DECODER.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return data.decode("utf-8", errors="replace")


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows ``[DONE]`` (normally just the end of the body) so the connection can be reused."""
    with contextlib.suppress(TransportError, TimeoutError):
        async with asyncio.timeout(_DRAIN_SECONDS):
            async for _ in chunks:
                pass
