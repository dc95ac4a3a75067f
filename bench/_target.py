"""The server a benchmark runs against: a fresh ``mockserver serve`` in its own process (so server and client
do not share a GIL), or one already running at a URL. Rules are scripted over the control API (``/_mock/``)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

__all__ = ["add_rule", "remove_rule", "server_url", "spawned_mockserver"]

_SERVING = re.compile(r"serving the fake OpenAI API at (http://\S+)/v1")


@contextmanager
def spawned_mockserver(*args: str) -> Iterator[tuple[str, int]]:
    """``python -m mockserver <args> --port 0`` (``serve``, ``proxy``, ...): its root URL (no ``/v1``) and pid once
    it says it is serving; stopped on the way out."""
    command = [sys.executable, "-m", "mockserver", *args, "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        found = _SERVING.search(first_line)
        if found is None:
            raise RuntimeError(f"mockserver {args[0]} did not start: {first_line.strip() or 'no output'}")
        yield found.group(1), process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def server_url(url: str | None = None, *, seed: int = 0) -> Iterator[str]:
    """The root URL (no ``/v1``) of ``url`` if given, else of a server spawned for the duration."""
    if url is not None:
        yield url.rstrip("/").removesuffix("/v1")
        return
    with spawned_mockserver("serve", "--seed", str(seed)) as (root, _):
        yield root


async def add_rule(root: str, rule: dict[str, Any]) -> str:
    """Register ``rule`` on the server at ``root``; returns its id."""
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{root}/_mock/rules", json=rule)
    if response.status_code != 200:
        raise RuntimeError(f"the server refused the rule: {response.text}")
    ids: list[str] = response.json()["ids"]
    return ids[0]


async def remove_rule(root: str, rule_id: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.delete(f"{root}/_mock/rules/{rule_id}")
    response.raise_for_status()
