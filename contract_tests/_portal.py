"""A blocking portal: one asyncio event loop in a thread, so synchronous code (hypothesis test bodies, stateful
rules) can run coroutines on it. Every client a property opens lives and dies on this loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

__all__ = ["Portal"]

T = TypeVar("T")

#: how long one coroutine may run before the portal gives up on it (a property that hangs is a failure)
DEFAULT_CALL_TIMEOUT = 60.0


class Portal:
    """``with Portal() as portal: portal.call(coro)``; the loop and its thread end on exit."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the portal is not running")
        return self._loop

    def start(self) -> Self:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="contract-portal", daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def call(self, coro: Coroutine[Any, Any, T], *, timeout: float = DEFAULT_CALL_TIMEOUT) -> T:
        """Run ``coro`` on the portal's loop and wait for its result (its exception is raised here)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"the contract check did not finish within {timeout} s") from None

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self.call(_finish(loop), timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


async def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is left, close async generators and the default executor."""
    current = asyncio.current_task()
    pending = [task for task in asyncio.all_tasks(loop) if task is not current]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()
