"""Deliberately broken clients: our client with one contract rule broken each, as contract targets.

Each factory is called like any contract factory (``base_url``, ``api_key``, ``max_retries``, ``timeout``) and
carries ``exceptions`` (our client's module) so the suite knows its exception classes. Most break one thing in the
transport's answers or around a resource method, so everything else keeps working as the real client does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import client
from client._retry import RetryTiming
from client._transport import TransportRequest, TransportResponse
from client._transports import HttpxTransport

__all__ = [
    "BROKEN_CLIENTS",
    "caches_job_lists",
    "drops_last_chunk",
    "ignores_max_retries",
    "ignores_retry_after",
    "leaks_connection_on_cancel",
    "no_backoff",
    "retries_400",
    "retries_started_stream",
    "slow_to_cancel",
    "stops_paging_early",
    "swallows_stream_error",
]

Factory = Callable[..., Any]
HeaderEdit = Callable[[int, dict[str, str]], dict[str, str]]


def _contract_factory(factory: Factory) -> Factory:
    factory.exceptions = client  # type: ignore[attr-defined]
    return factory


# -- transports that change what the client sees ------------------------------------------------------------------


class _Unclosable:
    """An async iterator over ``inner`` that cannot close it (there is no ``aclose``)."""

    def __init__(self, inner: AsyncIterator[bytes]) -> None:
        self._inner = inner

    def __aiter__(self) -> _Unclosable:
        return self

    async def __anext__(self) -> bytes:
        return await self._inner.__anext__()


class _EditedResponse:
    def __init__(
        self, inner: TransportResponse, headers: dict[str, str], *, keep_open: bool, held: list[object]
    ) -> None:
        self._inner = inner
        self._headers = headers
        self._keep_open = keep_open
        self._held = held

    @property
    def status_code(self) -> int:
        return self._inner.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    async def aread(self) -> bytes:
        return await self._inner.aread()

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        chunks = self._inner.aiter_bytes()
        if not self._keep_open:
            return chunks
        self._held.append(chunks)  # never closed, never collected: the connection stays open
        return _Unclosable(chunks)

    async def aclose(self) -> None:
        if not self._keep_open:
            await self._inner.aclose()


class _EditingTransport:
    """Our httpx transport, with each response's headers edited, or its ``aclose`` ignored."""

    def __init__(self, edit: HeaderEdit | None = None, *, keep_open: bool = False) -> None:
        self._inner = HttpxTransport()
        self._edit = edit
        self._keep_open = keep_open
        #: responses (and their body iterators) it never closed, held until the client closes
        self._leaked: list[object] = []

    async def send(self, request: TransportRequest) -> TransportResponse:
        response = await self._inner.send(request)
        headers = {name.lower(): value for name, value in response.headers.items()}
        if self._edit is not None:
            headers = self._edit(response.status_code, headers)
        if self._keep_open:
            self._leaked.append(response)
        return _EditedResponse(response, headers, keep_open=self._keep_open, held=self._leaked)

    async def aclose(self) -> None:
        leaked, self._leaked = self._leaked, []
        for thing in leaked:
            close = getattr(thing, "aclose", None)
            if close is not None:
                await close()
        await self._inner.aclose()


def _without_retry_after(status: int, headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in ("retry-after", "retry-after-ms")}


def _retry_bad_requests(status: int, headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "x-should-retry": "true"} if status == 400 else headers


# -- wrappers around resource methods ------------------------------------------------------------------------------

StreamWrap = Callable[[Any, Callable[[], Awaitable[Any]]], AsyncIterator[Any]]


class _Stream:
    """An async-iterable stand-in for a stream, closing the real one(s) when done."""

    def __init__(self, events: AsyncIterator[Any]) -> None:
        self._events = events

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events

    async def close(self) -> None:
        await self._events.aclose()  # type: ignore[attr-defined]

    async def __aenter__(self) -> _Stream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class _ChatCompletions:
    def __init__(self, inner: Any, wrap: StreamWrap) -> None:
        self._inner = inner
        self._wrap = wrap

    async def create(self, **params: Any) -> Any:
        result = await self._inner.create(**params)
        if not params.get("stream"):
            return result
        return _Stream(self._wrap(result, lambda: self._inner.create(**params)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Namespace:
    def __init__(self, inner: Any, **overrides: Any) -> None:
        self._inner = inner
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _FirstPageOnly:
    def __init__(self, paginator: Any) -> None:
        self._paginator = paginator

    def __await__(self) -> Any:
        return self._paginator.__await__()

    async def __aiter__(self) -> AsyncIterator[Any]:
        page = await self._paginator
        for item in page.data:
            yield item


class _ListCache:
    """Answers each list call with the items the first call with the same parameters got (a stale cache)."""

    def __init__(self, list_items: Callable[..., Any]) -> None:
        self._list = list_items
        self._seen: dict[str, list[Any]] = {}

    def __call__(self, **params: Any) -> Any:
        return _CachedListing(self, repr(sorted(params.items())), params)


class _CachedListing:
    def __init__(self, cache: _ListCache, key: str, params: dict[str, Any]) -> None:
        self._cache, self._key, self._params = cache, key, params

    async def __aiter__(self) -> AsyncIterator[Any]:
        seen = self._cache._seen
        if self._key not in seen:
            seen[self._key] = [item async for item in self._cache._list(**self._params)]
        for item in seen[self._key]:
            yield item


def _wrapped(inner: Any, *, stream: StreamWrap | None = None, paging: bool = False, cached: bool = False) -> Any:
    overrides: dict[str, Any] = {}
    if cached:
        jobs = inner.fine_tuning.jobs
        overrides["fine_tuning"] = _Namespace(inner.fine_tuning, jobs=_Namespace(jobs, list=_ListCache(jobs.list)))
    if stream is not None:
        overrides["chat"] = _Namespace(inner.chat, completions=_ChatCompletions(inner.chat.completions, stream))
    if paging:
        files = inner.files
        overrides["files"] = _Namespace(files, list=lambda **params: _FirstPageOnly(files.list(**params)))
    return _Namespace(inner, **overrides)


async def _drop_last(stream: Any, again: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
    try:
        held = None
        async for chunk in stream:
            if held is not None:
                yield held
            held = chunk
    finally:
        await stream.close()


async def _swallow_errors(stream: Any, again: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
    try:
        async for chunk in stream:
            yield chunk
    except client.APIError:
        return
    finally:
        await stream.close()


#: how long ``slow_to_cancel`` lingers when its stream is cancelled or closed (more than the property allows)
_LINGER_SECONDS = 1.5


async def _linger(stream: Any, again: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
    try:
        async for chunk in stream:
            yield chunk
    except BaseException:  # cancelled, or closed early: waits before letting go (a timer the loop stays free for)
        await asyncio.sleep(_LINGER_SECONDS)
        raise
    finally:
        await stream.close()


async def _retry_stream(stream: Any, again: Callable[[], Awaitable[Any]]) -> AsyncIterator[Any]:
    try:
        async for chunk in stream:
            yield chunk
        return
    except client.APIError:
        await stream.close()
    retried = await again()
    try:
        async for chunk in retried:
            yield chunk
    finally:
        await retried.close()


# -- the broken clients --------------------------------------------------------------------------------------------


def _client(**options: Any) -> Any:
    return client.AsyncOpenAI(**options)


@_contract_factory
def ignores_retry_after(**options: Any) -> Any:
    """Never sees Retry-After: backs off by itself instead of waiting what the server asks."""
    return _client(http_client=_EditingTransport(_without_retry_after), **options)


@_contract_factory
def retries_400(**options: Any) -> Any:
    """Retries a 400 Bad Request."""
    return _client(http_client=_EditingTransport(_retry_bad_requests), **options)


@_contract_factory
def no_backoff(**options: Any) -> Any:
    """Retries at once, whatever the server asks and without backing off."""

    async def no_sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    return _client(_retry_timing=RetryTiming(sleep=no_sleep), **options)


@_contract_factory
def ignores_max_retries(**options: Any) -> Any:
    """Makes one attempt more than max_retries allows."""
    return _client(**{**options, "max_retries": options["max_retries"] + 1})


@_contract_factory
def drops_last_chunk(**options: Any) -> Any:
    """Streams every chunk but the last."""
    return _wrapped(_client(**options), stream=_drop_last)


@_contract_factory
def swallows_stream_error(**options: Any) -> Any:
    """Ends a stream quietly when an error event (or any stream error) arrives."""
    return _wrapped(_client(**options), stream=_swallow_errors)


@_contract_factory
def retries_started_stream(**options: Any) -> Any:
    """Sends the request again when a stream fails after it started."""
    return _wrapped(_client(**options), stream=_retry_stream)


@_contract_factory
def slow_to_cancel(**options: Any) -> Any:
    """Lingers 1.5 s (on a timer) before it lets go of a stream that is cancelled or closed early."""
    return _wrapped(_client(**options), stream=_linger)


@_contract_factory
def leaks_connection_on_cancel(**options: Any) -> Any:
    """Never closes a response: a cancelled stream keeps its connection open."""
    return _client(http_client=_EditingTransport(keep_open=True), **options)


@_contract_factory
def stops_paging_early(**options: Any) -> Any:
    """``async for`` over a list yields the first page only."""
    return _wrapped(_client(**options), paging=True)


@_contract_factory
def caches_job_lists(**options: Any) -> Any:
    """Answers ``fine_tuning.jobs.list`` from a cache filled by the first call (new jobs never show)."""
    return _wrapped(_client(**options), cached=True)


#: factory name -> the property the suite must report violated
BROKEN_CLIENTS: Mapping[str, str] = {
    "ignores_retry_after": "retries.policy",
    "retries_400": "retries.policy",
    "no_backoff": "retries.backoff",
    "ignores_max_retries": "retries.policy",
    "drops_last_chunk": "streaming.reassembly",
    "swallows_stream_error": "streaming.error_event_raises",
    "retries_started_stream": "streaming.cut_stream_raises",
    "leaks_connection_on_cancel": "cancellation.prompt_and_clean",
    "slow_to_cancel": "cancellation.prompt_and_clean",
    "stops_paging_early": "pagination.every_item_once",
    "caches_job_lists": "stateful.files_and_jobs",
}
