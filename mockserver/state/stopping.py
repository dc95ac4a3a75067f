"""A thread-safe "the server is stopping" signal that wakes requests parked in a hang.

uvicorn's graceful shutdown waits for open connections to finish; a hung request never would. ``MockServer.stop``
(from the test's thread) and the CLI's signal handler trigger this first, so hangs give up at once instead of
being cancelled after the graceful-shutdown timeout.
"""

from __future__ import annotations

import asyncio
import threading

__all__ = ["StopSignal"]


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class StopSignal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = False
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def waiting(self) -> int:
        """How many requests are parked on the signal (hangs)."""
        with self._lock:
            return len(self._waiters)

    def arm(self) -> None:
        """Ready for a (new) run of the server."""
        with self._lock:
            self._stopping = False

    def trigger(self) -> None:
        """Wake every waiter, from any thread."""
        with self._lock:
            self._stopping = True
            waiters = list(self._waiters)
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)

    async def wait(self) -> None:
        """Return once the server is stopping."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiter = (loop, future)
        with self._lock:
            if self._stopping:
                return
            self._waiters.add(waiter)
        try:
            await future
        finally:
            with self._lock:
                self._waiters.discard(waiter)
