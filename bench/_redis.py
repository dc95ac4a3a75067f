"""A throwaway ``redis-server`` on loopback for the benchmarks that share state: an ephemeral port, nothing
written to disk, stopped at the end of the block."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

from ._spawn import HOST, free_port, stop_process_group

__all__ = ["running_redis"]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def running_redis(timeout: float = 15.0) -> Iterator[str]:
    """``redis://127.0.0.1:PORT/0`` of a fresh server, up until the block ends."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (e.g. apt-get install redis-server)")
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        command = [binary, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            deadline = time.monotonic() + timeout
            while not _answers_ping(port):
                if process.poll() is not None:
                    raise RuntimeError(f"redis-server exited with {process.returncode} before answering")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not answer PING on {HOST}:{port} within {timeout:g} s")
                time.sleep(0.05)
            yield f"redis://{HOST}:{port}/0"
        finally:
            stop_process_group(process)
