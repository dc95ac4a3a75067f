"""What every check does around its client: reset the server, open the target's client on the portal's loop
and always close it, send the contract's chat request, and wait (briefly, by polling) for the server to settle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from mockserver import JournalEntry, MockServer

from ._property import Env, Violation
from ._targets import ErrorClasses

__all__ = ["CHAT_MESSAGES", "CHAT_MODEL", "Session", "open_session", "raw_http", "settle"]

CHAT_MODEL = "gpt-4o-mini"
CHAT_MESSAGES = ({"role": "user", "content": "Say something for the contract suite."},)
#: how long the server may take to notice what the client did (a disconnect, the end of a stream)
SETTLE_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class Session:
    client: Any
    errors: ErrorClasses
    server: MockServer

    def chat_request(self, **extra: Any) -> dict[str, Any]:
        return {"model": CHAT_MODEL, "messages": [dict(message) for message in CHAT_MESSAGES], **extra}


@asynccontextmanager
async def open_session(
    env: Env, *, max_retries: int = 0, client_timeout: float = 10.0, fresh: bool = False
) -> AsyncIterator[Session]:
    """A fresh server state and the env's client for these options (``fresh``: a new client, closed on exit)."""
    env.server.reset()
    key = (max_retries, client_timeout)
    client = None if fresh else env.clients.get(key)
    if client is None:
        client = env.target.open(base_url=env.server.base_url, max_retries=max_retries, timeout=client_timeout)
        if not fresh:
            env.clients[key] = client
    try:
        yield Session(client, env.target.error_classes(client), env.server)
    finally:
        if fresh:
            await client.close()


def raw_http(**options: Any) -> httpx.AsyncClient:
    """A plain HTTP client for setting up and checking the server (no TLS: the server is on loopback)."""
    return httpx.AsyncClient(verify=False, **options)


async def settle(
    server: MockServer, done: Callable[[list[JournalEntry], dict[str, int]], bool], *, what: str
) -> list[JournalEntry]:
    """Poll the journal and counters until ``done`` holds; a :class:`Violation` naming ``what`` if it never does."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        journal, stats = server.journal, server.stats()
        if done(journal, stats):
            return journal
        if time.monotonic() > deadline:
            outcomes = [entry.outcome for entry in journal]
            raise Violation(f"{what}: not seen by the server within {SETTLE_SECONDS} s (outcomes {outcomes}, {stats})")
        await asyncio.sleep(0.005)
