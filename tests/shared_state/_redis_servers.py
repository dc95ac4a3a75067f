"""Real processes for the shared-state tests: a ``redis-server`` on a loopback port (no persistence) and
``mockserver serve`` processes, each waited for with a bound that names what it waited for, and always stopped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import redis

__all__ = ["AUTH", "RedisServer", "Serving", "free_port", "redis_server", "serving", "wait_until"]

AUTH = {"Authorization": "Bearer sk-test"}
#: the longest any start or stop may take on a loaded two-core machine (reached only when something is wrong)
START_BOUND = 60.0


def wait_until(condition: object, what: str, *, bound: float = START_BOUND, every: float = 0.02) -> None:
    """Poll ``condition()`` until it is true; fail naming ``what`` after ``bound`` seconds."""
    assert callable(condition)
    deadline = time.monotonic() + bound
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {bound:.0f} s waiting for {what}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RedisServer:
    """A ``redis-server`` process on 127.0.0.1; :meth:`stop` and :meth:`start` again keep its port."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    def url(self, prefix: str) -> str:
        return f"redis://127.0.0.1:{self.port}/0?prefix={prefix}"

    def _answers(self) -> bool:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError):
            return False
        finally:
            client.close()

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError(
                "redis-server is not installed: the shared-state tests need it (e.g. apt-get install redis-server)"
            )
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._answers, f"redis-server to answer PING on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=START_BOUND)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _joined(url: str) -> int:
    """How many workers have joined the namespace of ``url`` (each counts itself in ``<prefix>:workers``)."""
    base, _, prefix = url.partition("?prefix=")
    client = redis.Redis.from_url(base, socket_timeout=2)
    try:
        return int(client.get(f"{prefix}:workers") or 0)
    finally:
        client.close()


@dataclass(frozen=True)
class Serving:
    process: subprocess.Popen[str]
    root: str

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"


@contextmanager
def serving(*argv: str, workers: int = 1, redis_url: str | None = None) -> Iterator[Serving]:
    """``mockserver serve --port 0 --workers N ARGV`` (``--state REDIS_URL`` when given) in a process group of its
    own, once it answers /health (and, on Redis, once all ``workers`` have joined the namespace); stopped with
    SIGTERM, killed (the group) if it lingers."""
    if redis_url is not None:
        argv = ("--state", redis_url, *argv)
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--workers", str(workers), *argv]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=environment
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"(http://\S+)/v1", first)
        assert match is not None, f"mockserver serve did not start: {first!r}"
        running = Serving(process, match.group(1))

        def healthy() -> bool:
            try:
                return httpx.get(f"{running.root}/health", timeout=5, headers={"Connection": "close"}).is_success
            except httpx.TransportError:
                return False

        wait_until(healthy, f"mockserver serve at {running.root} to answer /health")
        if redis_url is not None:
            wait_until(lambda: _joined(redis_url) >= workers, f"{workers} workers to join {redis_url}")
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=START_BOUND)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
