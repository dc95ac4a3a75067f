"""Running generation that could hold the event loop (many choices, a large schema, a long limit) in a worker
thread, so ``/health`` and every other request keep being answered while it runs.

The work is asked to stop between its steps (``should_stop``) once the waiting request is cancelled (its client
left) or the server is stopping, so an abandoned generation ends within one step and never holds up a shutdown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from ..state.stopping import StopSignal
from ..wire.errors import APIErrorResponse
from ._chat_reply import GenerationStopped

__all__ = ["HEAVY_TOKENS", "off_the_loop"]

#: work expected to make more tokens than this runs off the event loop (below it, a thread costs more than it saves)
HEAVY_TOKENS = 2048

_T = TypeVar("_T")


async def off_the_loop(work: Callable[[Callable[[], bool]], _T], stopping: StopSignal) -> _T:
    """``work(should_stop)`` in a worker thread; its result, or a 503 when the server stopped it."""
    abandoned = threading.Event()

    def should_stop() -> bool:
        return abandoned.is_set() or stopping.stopping

    try:
        return await anyio.to_thread.run_sync(work, should_stop, abandon_on_cancel=True)
    except GenerationStopped:
        raise APIErrorResponse(503, "The server is shutting down.", type="server_error") from None
    finally:
        abandoned.set()
