"""Safe defaults: loopback only unless told otherwise, ``--api-key`` enforced, request bodies capped, uploaded
file names reduced to a harmless base name, and a graceful stop on SIGTERM (a real ``mockserver serve`` process
with a stream open exits 0, the stream cut cleanly, the journal intact)."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver import MockServer, ServerConfig
from mockserver._endpoints.files import safe_filename

AUTH = {"Authorization": "Bearer sk-right"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
#: only reached when something is about to fail
PATIENCE = 30


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``mockserver serve --port 0 --api-key sk-right`` in a process of its own, and its root URL."""
    command = [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--api-key", "sk-right"]
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
