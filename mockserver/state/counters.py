"""Live counters the dispatcher keeps: requests seen, requests in flight, streams open."""

from __future__ import annotations

import threading

__all__ = ["Stats"]


class Stats:
    """Thread-safe: the server's loop writes, tests read from their own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._in_flight = 0
        self._open_streams = 0

    def request_started(self) -> None:
        with self._lock:
            self._requests += 1
            self._in_flight += 1

    def request_finished(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def request_served(self) -> None:
        """A request that started and finished in one step (answered at once)."""
        with self._lock:
            self._requests += 1

    def stream_opened(self) -> None:
        with self._lock:
            self._open_streams += 1

    def stream_closed(self) -> None:
        with self._lock:
            self._open_streams -= 1

    def reset(self) -> None:
        """Start counting requests from 0 again (in-flight counts describe live requests and stay)."""
        with self._lock:
            self._requests = 0

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"open_streams": self._open_streams, "in_flight": self._in_flight, "requests": self._requests}
