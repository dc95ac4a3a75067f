"""``MockOpenAI``: what the ``mock_openai`` fixture gives a test - the server's scripting API, its address, and
journal helpers that make assertions about what the client sent read like sentences.

Journal questions whose answer could still change (a request in flight) are refused with an ``AssertionError``
rather than answered early; ``await mock_openai.settled()`` first when a test has just cancelled or closed something.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..config.settings import CannedReply
from ..faults.engine import ActiveRule
from ..faults.rules import Rule
from ..inprocess import (
    OPENAI_HOST,
    inprocess_httpx2_client,
    inprocess_httpx_client,
    inprocess_openai_client,
    route_to_app,
)
from ..scripting import RuleBuilder
from ..server import MockServer
from ..state.journal import JournalEntry

if TYPE_CHECKING:
    import httpx
    import httpx2
    import openai
    import respx

__all__ = ["InProcessMockOpenAI", "MockOpenAI"]

_POLL_SECONDS = 0.005


class MockOpenAI:
    """A test's handle on the fake OpenAI server (state, rules and journal were reset before the test)."""

    def __init__(self, server: MockServer, *, base_url: str, api_key: str) -> None:
        self.server = server
        #: what to give a client as ``base_url`` (ends in ``/v1``)
        self.base_url = base_url
        #: what to give a client as ``api_key`` (the fixture also puts it in ``OPENAI_API_KEY``)
        self.api_key = api_key

    def __repr__(self) -> str:
        return f"<MockOpenAI {self.base_url}>"

    # -- scripting: the server's own API ----------------------------------------------------------------------

    def on(
        self,
        *,
        path: str | None = None,
        method: str | None = None,
        model: str | None = None,
        stream: bool | None = None,
        header: Mapping[str, str] | None = None,
    ) -> RuleBuilder:
        """Start a rule for matching requests: ``mock_openai.on(path=...).fail(429, retry_after_ms=5).times(2)``."""
        return self.server.on(path=path, method=method, model=model, stream=stream, header=header)

    def add_rules(self, *rules: Rule | Mapping[str, Any] | Iterable[Rule | Mapping[str, Any]]) -> list[str]:
        """Add rules in their JSON shape (``{"match": ..., "action": ..., "times": n}``); returns their ids."""
        return self.server.add_rules(*rules)

    def rules(self) -> list[ActiveRule]:
        """The rules in force, in order, with their remaining uses and hits."""
        return self.server.rules()

    def clear_rules(self) -> None:
        self.server.clear_rules()

    def queue_replies(self, *replies: CannedReply | str) -> None:
        """Texts (or ``CannedReply`` values) served, in order, instead of generated content."""
        self.server.queue_replies(*replies)

    def reset(self) -> None:
        """Back to how the test started: the marker's rules and replies, an empty journal, no stored objects."""
        self.server.reset()

    def stats(self) -> dict[str, int]:
        """``{"open_streams", "in_flight", "requests"}``."""
        return self.server.stats()

    # -- the journal ------------------------------------------------------------------------------------------

    @property
    def journal(self) -> list[JournalEntry]:
        """Every request since the test started, oldest first."""
        return self.server.journal

    def journal_for(self, path: str | None = None, method: str | None = None) -> list[JournalEntry]:
        """The server's own filter: requests whose path is exactly ``path`` (see also :meth:`attempts`)."""
        return self.server.journal_for(path, method)

    def attempts(self, path: str | None = None, *, method: str | None = None) -> list[JournalEntry]:
        """The requests for ``path`` (``"/v1/chat/completions"``; a leading ``/v1`` may be left out), oldest
        first: a retried call shows up as several attempts."""
        wanted = _full_path(path)
        return [
            entry
            for entry in self.server.journal
            if (wanted is None or entry.path.rstrip("/") == wanted)
            and (method is None or entry.method == method.upper())
        ]

    def last_request(self, path: str | None = None, *, method: str | None = None) -> JournalEntry:
        """The newest request (for ``path``); ``AssertionError`` when there is none."""
        entries = self.attempts(path, method=method)
        if not entries:
            raise AssertionError(f"the fake OpenAI server received no request{_for(path, method)}")
        return entries[-1]

    def last_body(self, path: str | None = None, *, method: str | None = None) -> Any:
        """The parsed JSON body of the newest request (for ``path``)."""
        return self.last_request(path, method=method).body

    def last_headers(self, path: str | None = None, *, method: str | None = None) -> Mapping[str, str]:
        """The headers (lowercased names) of the newest request (for ``path``)."""
        return self.last_request(path, method=method).headers

    def client_disconnected(self, path: str | None = None, *, method: str | None = None) -> bool:
        """Whether the client hung up on the newest request (for ``path``) before the server finished (a stream
        abandoned midway, a hung request given up on)."""
        entry = self.last_request(path, method=method)
        if entry.outcome == "in_progress":
            raise AssertionError(
                f"request #{entry.seq} ({entry.method} {entry.path}) is still in progress; "
                "`await mock_openai.settled()` before asking how it ended"
            )
        return entry.outcome == "client_disconnected" or entry.disconnect_noticed_at is not None

    async def settled(self, *, within: float = 5.0) -> None:
        """Wait (without blocking the event loop) until no request is in progress.

        A client's hang-up reaches the server a moment after the client closes its side.
        """
        deadline = time.monotonic() + within
        while True:
            pending = [entry for entry in self.server.journal if entry.outcome == "in_progress"]
            if not pending:
                return
            if time.monotonic() >= deadline:
                described = ", ".join(f"#{entry.seq} {entry.method} {entry.path}" for entry in pending)
                raise AssertionError(f"requests still in progress after {within}s: {described}")
            await asyncio.sleep(_POLL_SECONDS)


def _full_path(path: str | None) -> str | None:
    if path is None:
        return None
    path = "/" + path.strip("/")
    return path if path.startswith("/v1/") or path == "/v1" else "/v1" + path


def _for(path: str | None, method: str | None) -> str:
    if path is None and method is None:
        return ""
    return " for " + " ".join(part for part in (method.upper() if method else None, _full_path(path)) if part)


class InProcessMockOpenAI(MockOpenAI):
    """The handle of ``mock_openai_inprocess``: the same scripting and journal, reached without a socket.

    Build clients with the methods below and close them (``async with``). See :mod:`mockserver.inprocess` for
    what in-process mode cannot do (real streaming, disconnects, timing).
    """

    @property
    def app(self) -> Any:
        """The ASGI app every in-process client talks to."""
        return self.server.app

    def httpx_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return inprocess_httpx_client(self.server.app, base_url=self.base_url, **kwargs)

    def httpx2_client(self, **kwargs: Any) -> httpx2.AsyncClient:
        return inprocess_httpx2_client(self.server.app, base_url=self.base_url, **kwargs)

    def openai_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """The official ``AsyncOpenAI`` (``kwargs`` such as ``max_retries`` go to it)."""
        return inprocess_openai_client(self.server.app, api_key=self.api_key, base_url=self.base_url, **kwargs)

    def route(self, router: respx.MockRouter, *, host: str = OPENAI_HOST) -> respx.Route:
        """Send ``router``'s requests for ``host`` to the fake (httpx-based clients only)."""
        return route_to_app(router, self.server.app, host=host)
