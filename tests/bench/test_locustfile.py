"""``bench/locustfile.py`` driven the way a fleet runs it: Locust's master and two workers, in processes of their own
(Locust's gevent must not patch this one), against a fake on loopback. Every user kind runs, every check in the
file passes, and the fake's journal saw what the master counted."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench._spawn import free_port, spawn_server
from mockserver import MockServer

LOCUSTFILE = Path(__file__).resolve().parents[2] / "bench" / "locustfile.py"
#: the master's bound on the run (``-t``) plus start-up and shut-down; a hang fails with the master's output
MASTER_TIMEOUT = 45.0
USERS = 8


def locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def read_stats(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def run_fleet(url: str, tmp_path: Path, *users: str) -> tuple[dict[str, dict[str, str]], str]:
    port = free_port()
    prefix = tmp_path / "fleet"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}  # gevent's own deprecation notes are not the fake's
    master = subprocess.Popen(
        locust(
            "--master",
            "--master-bind-host=127.0.0.1",
            f"--master-bind-port={port}",
            "--headless",
            "--expect-workers=2",
            f"--users={USERS}",
            f"--spawn-rate={USERS}",
            "--run-time=3s",
            f"--host={url}",
            f"--csv={prefix}",
            *users,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    workers = [
        subprocess.Popen(
            locust("--worker", "--master-host=127.0.0.1", f"--master-port={port}", *users),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp_path,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        try:
            output, _ = master.communicate(timeout=MASTER_TIMEOUT)
        except subprocess.TimeoutExpired:
            master.kill()
            output, _ = master.communicate()
            pytest.fail(f"the Locust master did not finish within {MASTER_TIMEOUT:g} s:\n{output[-3000:]}")
    finally:
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    assert master.returncode == 0, output[-3000:]
    return read_stats(prefix), output


def test_master_and_two_workers_run_every_user_kind_without_a_failed_check(server: MockServer, tmp_path: Path) -> None:
    stats, output = run_fleet(server.url, tmp_path)

    assert "2 workers connected" in output, output[-3000:]
    names = set(stats) - {"Aggregated"}
    assert {"chat", "stream: headers", "stream: first token", "stream: whole", "fault: none"} <= names, names
    assert {"fault: 429", "fault: 500", "fault: 503", "fault: disconnect"} <= names, names
    assert all(int(row["Failure Count"]) == 0 for row in stats.values()), output[-3000:]
    # what the master counted reached the fake: every HTTP request is in its journal (SSE rows are timings), and
    # at most one more per user (a request in flight when the run stopped is never reported)
    sent = sum(int(row["Request Count"]) for name, row in stats.items() if row["Type"] == "POST")
    journal = server.journal_for("/v1/chat/completions", "POST")
    assert sent > 0
    assert sent <= len(journal) <= sent + USERS
    # and no two bodies were the same: traffic shaped like users'
    bodies = [entry.body for entry in journal]
    assert len({repr(body) for body in bodies}) == len(bodies)


def test_a_server_that_ignores_the_asked_faults_fails_the_run(tmp_path: Path) -> None:
    # the bare Starlette app of ``bench server`` answers every request with one 200 body: the 429/500/503 and the
    # cut asked for in the header never come, so the file's checks must fail them
    body = tmp_path / "reply.json"
    body.write_text(json.dumps({"choices": [{"message": {"role": "assistant", "content": "hi"}}]}))
    port = free_port()
    command = [sys.executable, "-m", "bench._bare", "--port", str(port), "--body", str(body)]
    with spawn_server("bare", command, port=port) as bare, pytest.raises(AssertionError):
        run_fleet(bare.url, tmp_path, "FaultyUser")
    stats = read_stats(tmp_path / "fleet")
    for fault in ("429", "500", "503", "disconnect"):
        assert int(stats[f"fault: {fault}"]["Failure Count"]) > 0, fault
    assert int(stats["fault: none"]["Failure Count"]) == 0
