"""The guide's web apps served by their real servers, each in its own process, calling our client against the fake:
the Sanic app by Sanic's own server (which runs on uvloop), the FastAPI app by uvicorn with ``--loop uvloop``. Under
uvloop the default transport once failed every request (the Sanic example answered 500)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mockserver.pytest_plugin import MockOpenAI

CHAT = "/v1/chat/completions"
_HERE = Path(__file__).resolve().parent
#: a server process gets this long to start and to stop (a loaded machine is far quicker)
PATIENCE = 60.0

#: Sanic's real server for the guide's app, reporting the loop it runs on once it serves
_SANIC = """
import asyncio, sys
from sanic_app import app

@app.after_server_start
async def report_loop(app):
    print("event loop:", type(asyncio.get_running_loop()).__module__, flush=True)

app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited early: {process.communicate()[0]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the server did not listen on port {port} within {PATIENCE} s")


@contextmanager
def served(command: list[str], port: int, mock_openai: MockOpenAI) -> Iterator[list[str]]:
    """Run ``command`` (a server on ``port``) with the fake's URL and key in its environment; yields a list that
    holds the server's output once it has been stopped (SIGINT, as Ctrl-C: a graceful shutdown)."""
    environment = {**os.environ, "OPENAI_BASE_URL": mock_openai.base_url, "OPENAI_API_KEY": mock_openai.api_key}
    process = subprocess.Popen(
        command, cwd=_HERE, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: list[str] = []
    try:
        _wait_for_port(port, process)
        yield output
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output.append(process.communicate(timeout=PATIENCE)[0])
        except subprocess.TimeoutExpired:
            process.kill()
            output.append(process.communicate()[0])
            raise AssertionError(f"the server did not stop within {PATIENCE} s") from None


def _chat_twice(port: int, mock_openai: MockOpenAI, *, as_json: bool) -> None:
    mock_openai.queue_replies("Hello from the fake model", "And again")
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=PATIENCE) as http:
        for question, answer in (("Hi there", "Hello from the fake model"), ("Once more", "And again")):
            if as_json:
                response = http.post("/chat", json={"message": question})
            else:
                response = http.post("/chat", params={"message": question})
            assert response.status_code == 200, response.text
            assert response.json() == {"response": answer}
    sent = [entry.body["messages"] for entry in mock_openai.attempts(CHAT)]
    assert sent == [[{"role": "user", "content": "Hi there"}], [{"role": "user", "content": "Once more"}]]


def test_the_sanic_app_on_sanics_server(mock_openai: MockOpenAI) -> None:
    port = _free_port()
    with served([sys.executable, "-c", _SANIC, str(port)], port, mock_openai) as output:
        _chat_twice(port, mock_openai, as_json=True)
    assert "event loop: uvloop" in output[0], output[0]
    assert "Traceback" not in output[0], output[0]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_the_fastapi_app_on_uvicorn_with_either_loop(mock_openai: MockOpenAI, loop: str) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "fastapi_app:app", "--loop", loop, "--host", "127.0.0.1"]
    with served([*command, "--port", str(port)], port, mock_openai) as output:
        _chat_twice(port, mock_openai, as_json=False)
    assert "Traceback" not in output[0], output[0]
    assert "Application shutdown complete" in output[0], output[0]
