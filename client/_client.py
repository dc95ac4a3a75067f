"""``AsyncOpenAI``: configuration (arguments, then the environment), lifecycle, copies, and the resources."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from types import TracebackType

from ._exceptions import OpenAIError
from ._http_client import HttpClientArg, OwnedTransport, open_transport
from ._platform import PLATFORM_HEADERS
from ._request import ClientSettings, Requester
from ._retry import DEFAULT_MAX_RETRIES, RetryTiming
from ._sentinels import NOT_GIVEN, NotGiven
from ._sse import DEFAULT_MAX_EVENT_BYTES
from ._timeout import DEFAULT_TIMEOUT, TimeoutLike, coerce_timeout
from ._transport import RequestHeaders, Timeout
from .resources import Batches, Chat, Completions, Embeddings, Files, FineTuning, Models, Responses

__all__ = ["DEFAULT_BASE_URL", "AsyncOpenAI"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _check_max_retries(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"max_retries must be a non-negative integer, not {value!r}")
    return value


def _check_event_cap(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"max_stream_event_bytes must be a positive integer, not {value!r}")
    return value


class AsyncOpenAI:
    """An async client for the OpenAI API, used like the official SDK's ``AsyncOpenAI``."""

    api_key: str
    organization: str | None
    project: str | None
    base_url: str
    timeout: Timeout
    max_retries: int
    max_stream_event_bytes: int

    def __init__(
        self,
        *,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        http_client: HttpClientArg = None,
        max_stream_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        _retry_timing: RetryTiming | None = None,
        _shared_transport: OwnedTransport | None = None,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("OPENAI_API_KEY")
        if api_key is None:
            raise OpenAIError(
                "The api_key client option must be set either by passing api_key to the client or by setting the "
                "OPENAI_API_KEY environment variable"
            )
        if organization is None:
            organization = os.environ.get("OPENAI_ORG_ID")
        if project is None:
            project = os.environ.get("OPENAI_PROJECT_ID")
        if base_url is None:
            base_url = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self.api_key = api_key
        self.organization = organization
        self.project = project
        self.base_url = base_url.rstrip("/")
        self.timeout = DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else coerce_timeout(timeout)
        self.max_retries = _check_max_retries(max_retries)
        if (
            isinstance(max_stream_event_bytes, bool)
            or not isinstance(max_stream_event_bytes, int)
            or max_stream_event_bytes <= 0
        ):
            raise ValueError(f"max_stream_event_bytes must be a positive integer, not {max_stream_event_bytes!r}")
        self.max_stream_event_bytes = max_stream_event_bytes
        self._custom_headers = dict(default_headers or {})
        self._custom_query = dict(default_query or {})
        self._retry_timing = _retry_timing or RetryTiming()
        self._owned = _shared_transport or open_transport(http_client)
        settings = ClientSettings(
            base_url=self.base_url,
            headers=self._headers(),
            default_query=self._custom_query,
            timeout=self.timeout,
            max_retries=self.max_retries,
            timing=self._retry_timing,
            max_stream_event_bytes=self.max_stream_event_bytes,
        )
        self._requester = Requester(settings, self._owned.transport, self._owned.is_closed)

    def _headers(self) -> RequestHeaders:
        headers = RequestHeaders(PLATFORM_HEADERS)
        headers["authorization"] = f"Bearer {self.api_key}"
        if self.organization is not None:
            headers["openai-organization"] = self.organization
        if self.project is not None:
            headers["openai-project"] = self.project
        for name, value in self._custom_headers.items():
            headers[name.lower()] = value
        return headers

    @property
    def default_headers(self) -> dict[str, str]:
        return RequestHeaders(self._requester.settings.headers)

    @property
    def default_query(self) -> dict[str, object]:
        return dict(self._custom_query)

    # resources -------------------------------------------------------------------------------------------------

    @cached_property
    def chat(self) -> Chat:
        return Chat(self)

    @cached_property
    def responses(self) -> Responses:
        return Responses(self)

    @cached_property
    def completions(self) -> Completions:
        return Completions(self)

    @cached_property
    def embeddings(self) -> Embeddings:
        return Embeddings(self)

    @cached_property
    def models(self) -> Models:
        return Models(self)

    @cached_property
    def files(self) -> Files:
        return Files(self)

    @cached_property
    def fine_tuning(self) -> FineTuning:
        return FineTuning(self)

    @cached_property
    def batches(self) -> Batches:
        return Batches(self)

    # lifecycle -------------------------------------------------------------------------------------------------

    def is_closed(self) -> bool:
        return self._owned.is_closed()

    async def close(self) -> None:
        """Close the HTTP client (shared with copies made by :meth:`with_options`); safe to call twice."""
        await self._owned.close()

    async def __aenter__(self) -> AsyncOpenAI:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def copy(
        self,
        *,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutLike | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        http_client: HttpClientArg = None,
        default_headers: Mapping[str, str] | None = None,
        set_default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, object] | None = None,
        set_default_query: Mapping[str, object] | None = None,
    ) -> AsyncOpenAI:
        """A new client with some options changed; it shares this client's HTTP connections unless given
        ``http_client``. ``default_headers``/``default_query`` are merged in, ``set_*`` replace."""
        if default_headers is not None and set_default_headers is not None:
            raise ValueError("The `default_headers` and `set_default_headers` arguments are mutually exclusive")
        if default_query is not None and set_default_query is not None:
            raise ValueError("The `default_query` and `set_default_query` arguments are mutually exclusive")
        headers = (
            dict(set_default_headers)
            if set_default_headers is not None
            else {
                **self._custom_headers,
                **(default_headers or {}),
            }
        )
        query = (
            dict(set_default_query)
            if set_default_query is not None
            else {
                **self._custom_query,
                **(default_query or {}),
            }
        )
        return AsyncOpenAI(
            api_key=api_key or self.api_key,
            organization=organization or self.organization,
            project=project or self.project,
            base_url=base_url or self.base_url,
            timeout=self.timeout if isinstance(timeout, NotGiven) else timeout,
            max_retries=self.max_retries if isinstance(max_retries, NotGiven) else max_retries,
            default_headers=headers,
            default_query=query,
            http_client=http_client,
            max_stream_event_bytes=self.max_stream_event_bytes,
            _retry_timing=self._retry_timing,
            _shared_transport=None if http_client is not None else self._owned,
        )

    with_options = copy
