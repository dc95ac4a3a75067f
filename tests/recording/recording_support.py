"""Helpers for the record/replay tests: ``mockserver`` command-line servers in subprocesses (a loopback upstream,
the proxy, a replaying server), and the official SDK's stream read with the time each event arrived."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

__all__ = ["CliServer", "files_containing", "settled_journal", "timed_events"]

_SERVING = re.compile(r"serving the fake OpenAI API at (http://\S+/v1)")
#: how long a command-line server may take to say it is serving (a loaded machine imports slowly)
START_TIMEOUT = 60.0


class CliServer:
    """``python -m mockserver <args> --port 0`` in a subprocess, stopped with SIGTERM on exit."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        self._process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self.base_url = ""

    def __enter__(self) -> Self:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", *self.args, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
        )
        self._process = process
        self._reader = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.base_url:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                raise TimeoutError(f"mockserver {' '.join(self.args)} did not say it was serving") from None
            if line is None:
                self.stop()
                raise RuntimeError(f"mockserver {' '.join(self.args)} exited: {''.join(self.output)}")
            found = _SERVING.search(line)
            if found:
                self.base_url = found.group(1)
        self._wait_until_ready(deadline)
        return self

    def _wait_until_ready(self, deadline: float) -> None:
        """The socket listens before the app is built: wait until ``/health`` answers, so no measurement counts
        the server's start."""
        health = self.base_url.removesuffix("/v1") + "/health"
        while True:
            try:
                if httpx.get(health, timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"mockserver {' '.join(self.args)}: /health did not answer")
            time.sleep(0.02)

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
        if self._reader is not None:
            self._reader.join(timeout=20)
        if process.stdout is not None:
            process.stdout.close()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def files_containing(root: Path, secret: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``secret``."""
    needle = secret.encode()
    return [path for path in root.rglob("*") if path.is_file() and needle in path.read_bytes()]


async def timed_events(stream: Any, started: float) -> tuple[list[Any], list[float]]:
    """The stream's events and, for each, seconds from ``started`` (``time.perf_counter()``) to its arrival."""
    events: list[Any] = []
    times: list[float] = []
    async for event in stream:
        times.append(time.perf_counter() - started)
        events.append(event)
    return events, times


def arguments(*pairs: Sequence[str]) -> list[str]:
    return [item for pair in pairs for item in pair]


def settled_journal(server: Any) -> list[Any]:
    """The server's journal once no request is in progress (a hang-up reaches the server a moment after the
    client noticed it); fails naming what it waited for after 10 s."""
    deadline = time.monotonic() + 10
    while any(entry.outcome == "in_progress" for entry in server.journal):
        assert time.monotonic() < deadline, "the server still had requests in progress after 10 s"
        time.sleep(0.005)
    journal: list[Any] = server.journal
    return journal
