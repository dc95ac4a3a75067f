"""A real ``mockserver serve`` process on 127.0.0.1 for the limits tests: its URL, its memory (from /proc), a
``/health`` prober in a process of its own (so the test's own work never delays a probe), and a bounded stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROBE_SCRIPT = Path(__file__).with_name("_health_probe.py")
#: how long the server may take to say where it listens
START_TIMEOUT = 30.0
AUTH = {"Authorization": "Bearer sk-limits-test"}


@dataclass
class ServerProcess:
    process: subprocess.Popen[str]
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory(self) -> tuple[int, int]:
        """``(rss, peak rss)`` in bytes, from the kernel's own accounting of the process."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) * 1024
        return fields["VmRSS"], fields["VmHWM"]

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far: unlike wall time, not stretched by a loaded
        machine."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_peak(self) -> None:
        """Start the peak (VmHWM) again from the current RSS (Linux: write 5 to clear_refs)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def terminate(self, timeout: float = 10.0) -> float:
        """SIGTERM; the seconds until the process was gone."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"mockserver did not exit within {timeout} s of SIGTERM") from None
        return time.monotonic() - started


@contextmanager
def serve(tmp_path: Path, config: dict[str, Any] | None = None, *args: str) -> Iterator[ServerProcess]:
    """``mockserver serve`` with ``config`` (YAML) on a free loopback port; always stopped."""
    config_file = tmp_path / "limits-config.yaml"
    config_file.write_text(yaml.safe_dump({"api_key": AUTH["Authorization"].split()[1], **(config or {})}))
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--config", str(config_file), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _wait_for_url(process)
        yield ServerProcess(process, url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _wait_for_url(process: subprocess.Popen[str]) -> str:
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if "serving the fake OpenAI API at " in line:
                found.append(line.split(" at ", 1)[1].strip().removesuffix("/v1"))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    if not found:
        process.kill()
        _, err = process.communicate(timeout=5)
        raise AssertionError(f"mockserver serve did not report its URL within {START_TIMEOUT} s: {err[-2000:]}")
    return found[0]


@dataclass(frozen=True)
class HealthReport:
    #: each sample's first probe, in seconds
    latencies: tuple[float, ...]
    #: each sample's fastest probe (a probe over the bound is asked again at once, up to twice)
    best: tuple[float, ...]
    failures: int

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    @property
    def worst(self) -> float:
        return max(self.latencies)

    def share_over(self, seconds: float) -> float:
        """The share of samples not answered within ``seconds`` at any of their attempts."""
        return sum(latency > seconds for latency in self.best) / len(self.best)


@contextmanager
def health_probe(url: str, interval: float = 0.01, bound: float = 0.05) -> Iterator[list[HealthReport]]:
    """Probes ``GET /health`` every ``interval`` s from a separate process for as long as the block runs (a probe
    over ``bound`` s is asked again at once, twice at most); the list yielded gets the report once the block is
    over."""
    prober = subprocess.Popen(
        [sys.executable, str(PROBE_SCRIPT), url, str(interval), str(bound)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reports: list[HealthReport] = []
    try:
        yield reports
    finally:
        try:
            out, err = prober.communicate("", timeout=30)
        except subprocess.TimeoutExpired:
            prober.kill()
            prober.communicate(timeout=5)
            raise AssertionError("the health prober did not report within 30 s of being told to stop") from None
    if prober.returncode != 0:
        raise AssertionError(f"the health prober failed: {err[-2000:]}")
    data = json.loads(out)
    reports.append(HealthReport(tuple(data["latencies"]), tuple(data["best"]), data["failures"]))


def raise_fd_limit(wanted: int) -> None:
    """Raise this process's soft RLIMIT_NOFILE to ``wanted`` (within the hard limit) for many sockets."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def environment_note() -> str:
    return f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}"
