"""Servers under test as child processes: started on a free loopback port, optionally pinned to one core, ready
once the port accepts connections, and always stopped (their children too) on the way out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "RunningServer",
    "cpu_seconds",
    "free_port",
    "pin_cores",
    "resident_kib",
    "spawn_server",
    "stop_process_group",
]

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def pin_cores(pin: bool) -> tuple[int | None, int | None]:
    """(server core, load generator core): the first and the last core when pinning and there are two or more."""
    cores = sorted(os.sched_getaffinity(0))
    if not pin or len(cores) < 2:
        return None, None
    return cores[0], cores[-1]


@dataclass(frozen=True, slots=True)
class RunningServer:
    name: str
    host: str
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            found.append(int(child))
            found.extend(_children(int(child)))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its live descendants so far, in seconds."""
    ticks = 0
    for process in (pid, *_children(pid)):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def resident_kib(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, in KiB (0 when it is gone)."""
    total = 0
    for process in (pid, *_children(pid)):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{process}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def _wait_ready(process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on port {port} within {timeout} s")


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group of a process started with ``start_new_session``, SIGKILL after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def spawn_server(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    cpu: int | None = None,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 30.0,
) -> Iterator[RunningServer]:
    """Run ``command`` (which must listen on ``127.0.0.1:port``) in its own process group until the block ends."""
    preexec = (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None
    # a file, not a pipe: a chatty server must never block on a full pipe nobody reads
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
            preexec_fn=preexec,
        )
        try:
            try:
                _wait_ready(process, port, timeout)
            except RuntimeError as exc:
                stop_process_group(process)
                log.seek(0)
                error = log.read().decode(errors="replace")[-1500:]
                raise RuntimeError(f"{name}: {exc}\n{error}") from None
            yield RunningServer(name, HOST, port, process.pid)
        finally:
            stop_process_group(process)
