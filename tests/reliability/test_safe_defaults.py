"""Safe defaults: loopback only unless told otherwise (and a warning when told), ``--api-key`` enforced, the control
API switched off (``--no-control``) or behind a token (``--control-token``), request bodies capped, uploaded file
names reduced to a harmless base name, and a graceful stop on SIGTERM (a real ``mockserver serve`` process with a
stream open finishes that stream and exits 0; with ``--workers 2`` too)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import MockServer, ServerConfig
from mockserver.cli.main import _parser, build_config, exposure_warning
from mockserver.endpoints.files import safe_filename
from mockserver.http.control import CONTROL_TOKEN_HEADER

AUTH = {"Authorization": "Bearer sk-right"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
#: only reached when something is about to fail
PATIENCE = 30


@contextmanager
def _serving(*argv: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``mockserver serve --port 0 ARGV`` in a process of its own, and its root URL; killed if still running."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", *argv]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        match = re.search(r"(http://\S+)/v1", process.stdout.readline())
        assert match is not None
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _exited_cleanly(process: subprocess.Popen[str]) -> str:
    """Once a stop was asked for: exit 0, no traceback; returns what it wrote to stderr."""
    assert process.wait(timeout=PATIENCE) == 0
    out, err = process.communicate()
    assert "mockserver: stopped" in out
    assert "Traceback" not in err
    return err


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    with _serving("--api-key", "sk-right") as running:
        yield running


def test_serve_binds_loopback_and_requires_its_api_key(served: tuple[subprocess.Popen[str], str]) -> None:
    _, root = served
    assert root.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=root, timeout=PATIENCE) as http:
        wrong = http.get("/v1/models", headers={"Authorization": "Bearer sk-wrong-key"})
        missing = http.get("/v1/models")
        right = http.get("/v1/models", headers=AUTH)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_api_key")
    assert "sk-wrong-key" not in wrong.text
    assert missing.status_code == 401
    assert right.status_code == 200


def test_mock_server_binds_loopback_by_default() -> None:
    with MockServer() as server:
        assert server.url.startswith("http://127.0.0.1:")


async def test_bodies_over_the_cap_are_refused_with_413() -> None:
    async with (
        MockServer(ServerConfig(max_body_bytes=2048)) as server,
        httpx.AsyncClient(base_url=server.base_url, headers=AUTH, timeout=PATIENCE) as http,
    ):
        big = {**CHAT, "messages": [{"role": "user", "content": "x" * 4096}]}
        declared = await http.post("/chat/completions", json=big)

        async def unsized() -> object:  # chunked, without a content-length
            yield b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "'
            for _ in range(8):
                yield b"y" * 512
            yield b'"}]}'

        streamed = await http.post("/chat/completions", content=unsized())
        upload = await http.post("/files", data={"purpose": "batch"}, files={"file": ("a.jsonl", b"z" * 4096)})
        small = await http.post("/chat/completions", json=CHAT)
        assert server.stats()["in_flight"] == 0
    for refused in (declared, streamed, upload):
        assert refused.status_code == 413
        assert refused.json()["error"]["code"] == "request_too_large"
    assert small.status_code == 200


def _upload(filename: bytes) -> bytes:
    """A multipart upload with the file name exactly as given (HTTP clients escape what a hostile one would not)."""
    return (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n{}\n\r\n--b--\r\n"
    )


async def test_uploaded_file_names_are_reduced_to_a_base_name() -> None:
    raw_names = [b"../../etc/passwd", b"..\\..\\windows\\system.ini", b"a/b/\x00ev\x07il\t.jsonl", b"..", b"/"]
    headers = {**AUTH, "Content-Type": "multipart/form-data; boundary=b"}
    async with (
        MockServer() as server,
        httpx.AsyncClient(base_url=server.base_url, headers=headers, timeout=PATIENCE) as http,
    ):
        names = []
        for raw in raw_names:
            reply = await http.post("/files", content=_upload(raw))
            assert reply.status_code == 200, reply.text
            names.append(reply.json()["filename"])
    assert names == ["passwd", "system.ini", "evil.jsonl", "upload", "upload"]


@settings(max_examples=300, deadline=None)
@given(st.text() | st.none())
def test_any_file_name_becomes_a_harmless_base_name(raw: str | None) -> None:
    name = safe_filename(raw)
    assert name not in ("", ".", "..")
    assert "/" not in name
    assert "\\" not in name
    assert not any(unicodedata.category(ch).startswith("C") for ch in name)
    assert len(name) <= 255


@pytest.mark.parametrize(
    ("host", "config", "warned"),
    [
        ("127.0.0.1", ServerConfig(), None),
        ("localhost", ServerConfig(), None),
        ("::1", ServerConfig(), None),
        ("0.0.0.0", ServerConfig(), "unprotected control API"),
        ("::", ServerConfig(control_api=False), "is reachable from other machines: the API;"),
        ("192.0.2.7", ServerConfig(control_token="t0k"), "is reachable from other machines: the API;"),
        ("example.internal", ServerConfig(), "unprotected control API"),
    ],
)
def test_binding_beyond_loopback_is_warned_about(host: str, config: ServerConfig, warned: str | None) -> None:
    warning = exposure_warning(host, config)
    if warned is None:
        assert warning is None
    else:
        assert warning is not None
        assert warning.startswith(host)
        assert warned in warning


def test_control_flags_reach_the_config() -> None:
    def config_for(*argv: str) -> ServerConfig:
        return build_config(_parser().parse_args(["serve", *argv]))

    assert (config_for().control_api, config_for().control_token) == (True, None)
    assert config_for("--no-control").control_api is False
    assert config_for("--control-token", "s3cret").control_token == "s3cret"


async def test_no_control_leaves_the_control_api_out() -> None:
    async with (
        MockServer(ServerConfig(control_api=False)) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=PATIENCE) as http,
    ):
        rules = await http.post("/_mock/rules", json={"action": {"type": "status", "status": 500}})
        reset = await http.post("/_mock/reset")
        models = await http.get("/v1/models")
        assert server.rules() == []  # the Python API still works: it is not an HTTP door
    for refused in (rules, reset):
        assert refused.status_code == 404
        assert refused.json()["error"]["message"].startswith("Invalid URL (POST /_mock/")
    assert models.status_code == 200


async def test_control_token_is_required_when_set() -> None:
    rule = {"match": {"path": "/v1/models"}, "action": {"type": "status", "status": 503}}
    async with (
        MockServer(ServerConfig(control_token="s3cret")) as server,
        httpx.AsyncClient(base_url=server.url, headers=AUTH, timeout=PATIENCE) as http,
    ):
        missing = await http.post("/_mock/rules", json=rule)
        wrong = await http.get("/_mock/stats", headers={CONTROL_TOKEN_HEADER: "s3cre"})
        assert server.rules() == []
        right = await http.post("/_mock/rules", json=rule, headers={CONTROL_TOKEN_HEADER: "s3cret"})
        faulted = await http.get("/v1/models")
    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "invalid_control_token"
        assert "s3cret" not in refused.text
    assert right.status_code == 200
    assert faulted.status_code == 503


def test_sigterm_lets_an_open_stream_finish_and_exits_0() -> None:
    with _serving("--itl", "0.02") as (process, root):
        with (
            httpx.Client(base_url=root, headers=AUTH, timeout=PATIENCE) as http,
            http.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True, "max_tokens": 40}) as stream,
        ):
            lines = stream.iter_lines()
            first = next(line for line in lines if line.startswith("data: "))
            process.send_signal(signal.SIGTERM)
            rest = [line for line in lines if line.startswith("data: ")]
        _exited_cleanly(process)
    assert first.startswith('data: {"id":"chatcmpl-')
    assert rest[-1] == "data: [DONE]"  # the stream in flight was finished, not cut
    assert len(rest) >= 3


def test_workers_share_one_socket_and_stop_on_sigterm() -> None:
    with _serving("--workers", "2") as (process, root):
        with httpx.Client(base_url=root, headers=AUTH, timeout=PATIENCE) as http:
            health = [http.get("/health", headers={"Connection": "close"}).status_code for _ in range(8)]
            models = http.get("/v1/models")
        process.send_signal(signal.SIGTERM)
        err = _exited_cleanly(process)
    assert health == [200] * 8
    assert models.status_code == 200
    assert "2 workers: each worker keeps its own rules" in err
