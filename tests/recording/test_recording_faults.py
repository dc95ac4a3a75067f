"""Faults on recorded and relayed answers, and an upstream that is down, slow or answers garbage: what the client
sees, what the journal says, and that the proxy keeps serving."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from recording_support import settled_journal

from mockserver import MockServer, ServerConfig
from mockserver.recording import RecordingSettings, Upstream, load_cassette

UPSTREAM_KEY = "sk-upstream-faults-secret"
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


def proxy_config(upstream_url: str, *, record_to: Path | None = None, timeout: float = 30.0) -> ServerConfig:
    upstream = Upstream(url=upstream_url, key=UPSTREAM_KEY, timeout=timeout)
    return ServerConfig(recording=RecordingSettings(unmatched="upstream", upstream=upstream, record_to=record_to))


@pytest.fixture
def real() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=7, api_key=UPSTREAM_KEY)) as server:
        yield server


def sdk_for(server: MockServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-dummy", max_retries=0)


async def stream_chat(sdk: openai.AsyncOpenAI) -> list[Any]:
    stream = await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    return [chunk async for chunk in stream]


async def stream_into(sdk: openai.AsyncOpenAI, received: list[Any]) -> None:
    """Streams a chat completion, keeping each chunk as it arrives (the stream may break off)."""
    stream = await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    async for chunk in stream:
        received.append(chunk)


async def test_a_cut_after_3_events_on_a_proxied_stream(real: MockServer, tmp_path: Path) -> None:
    with MockServer(proxy_config(real.base_url, record_to=tmp_path / "c.yaml")) as proxy:
        proxy.on(path="/v1/chat/completions", stream=True).disconnect(after_events=3).times(1)
        received: list[Any] = []
        async with sdk_for(proxy) as sdk:
            with pytest.raises(openai.APIConnectionError):
                await stream_into(sdk, received)
            assert len(received) == 3
            assert len(await stream_chat(sdk)) > 3  # the proxy keeps serving
        cut, whole = settled_journal(proxy)
        assert (cut.outcome, cut.action, cut.events_sent) == ("server_cut", "disconnect", 3)
        assert whole.outcome == "completed"
    # only the stream that ended properly was recorded
    assert len(load_cassette(tmp_path / "c.yaml").interactions) == 1


async def test_a_cut_after_3_events_on_a_replayed_stream(real: MockServer, tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    with MockServer(proxy_config(real.base_url, record_to=cassette)) as proxy:
        async with sdk_for(proxy) as sdk:
            recorded = await stream_chat(sdk)
    config = ServerConfig(recording=RecordingSettings(cassettes=(cassette,), replay_speed=0))
    with MockServer(config) as replay:
        replay.on(path="/v1/chat/completions").disconnect(after_events=3)
        received: list[Any] = []
        async with sdk_for(replay) as sdk:
            with pytest.raises(openai.APIConnectionError):
                await stream_into(sdk, received)
        assert received == recorded[:3]
        (entry,) = settled_journal(replay)
        assert (entry.outcome, entry.action, entry.events_sent) == ("server_cut", "disconnect", 3)


async def test_a_rule_answers_in_front_of_the_upstream_without_forwarding(real: MockServer) -> None:
    with MockServer(proxy_config(real.base_url)) as proxy:
        proxy.on(path="/v1/chat/completions").fail(429).times(1)
        async with sdk_for(proxy) as sdk:
            with pytest.raises(openai.RateLimitError):
                await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert [entry.status for entry in settled_journal(proxy)] == [429, 200]
    assert len(settled_journal(real)) == 1  # the 429 never reached the upstream
    assert (
        settled_journal(real)[0].headers["authorization"] == f"Bearer ***{UPSTREAM_KEY[-4:]}"
    )  # its key, not the client's


async def test_a_truncated_proxied_stream_loses_its_terminal_event(real: MockServer) -> None:
    with MockServer(proxy_config(real.base_url)) as proxy:
        proxy.on(path="/v1/chat/completions").truncate()
        async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-dummy"}) as http:
            body = {"model": "gpt-4o", "messages": MESSAGES, "stream": True}
            response = await http.post(f"{proxy.base_url}/chat/completions", json=body)
    assert response.status_code == 200
    assert "data: {" in response.text
    assert "[DONE]" not in response.text


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_an_upstream_that_is_down_is_a_502_and_the_proxy_keeps_serving(real: MockServer) -> None:
    with MockServer(proxy_config(f"http://127.0.0.1:{closed_port()}/v1")) as proxy:
        async with sdk_for(proxy) as sdk:
            with pytest.raises(openai.APIStatusError) as raised:
                await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        assert raised.value.status_code == 502
        assert raised.value.body == {
            "message": "The upstream could not be reached (ConnectError).",
            "type": "server_error",
            "param": None,
            "code": "upstream_error",
        }
        (entry,) = settled_journal(proxy)
        assert (entry.status, entry.outcome) == (502, "completed")
        # the same proxy, its upstream back: serving
        proxy.state.config = proxy_config(real.base_url)
        proxy.reset()
        async with sdk_for(proxy) as sdk:
            assert (await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)).choices


async def test_a_slow_upstream_is_a_504(real: MockServer) -> None:
    real.on(path="/v1/chat/completions").hang()
    with MockServer(proxy_config(real.base_url, timeout=0.2)) as proxy:
        async with sdk_for(proxy) as sdk:
            with pytest.raises(openai.APIStatusError) as raised:
                await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            assert raised.value.status_code == 504
            assert isinstance(raised.value.body, dict)
            assert raised.value.body["code"] == "upstream_timeout"
            assert [model.id async for model in sdk.models.list()]  # still serving
    assert [entry.status for entry in settled_journal(proxy)] == [504, 200]


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A TCP server on loopback that answers every connection with bytes that are not HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                connection.recv(65536)
                connection.sendall(b"SPAM SPAM SPAM\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


async def test_an_upstream_answering_garbage_is_a_502(garbage_server: str) -> None:
    with MockServer(proxy_config(garbage_server)) as proxy:
        async with sdk_for(proxy) as sdk:
            with pytest.raises(openai.APIStatusError) as raised:
                await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert raised.value.status_code == 502
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["message"] == "The upstream did not answer with valid HTTP (RemoteProtocolError)."
    assert [entry.status for entry in settled_journal(proxy)] == [502]


async def test_an_upstream_breaking_off_its_stream_cuts_the_client_too(real: MockServer, tmp_path: Path) -> None:
    real.on(path="/v1/chat/completions").disconnect(after_events=2)
    with MockServer(proxy_config(real.base_url, record_to=tmp_path / "c.yaml")) as proxy:
        received: list[Any] = []
        async with sdk_for(proxy) as sdk:
            with pytest.raises(openai.APIConnectionError):
                await stream_into(sdk, received)
        assert len(received) == 2
        (entry,) = settled_journal(proxy)
        assert entry.outcome == "server_cut"
    assert not (tmp_path / "c.yaml").exists()  # a broken exchange is not recorded


async def test_an_unmatched_request_names_the_closest_recording_or_falls_through(
    real: MockServer, tmp_path: Path
) -> None:
    cassette = tmp_path / "c.yaml"
    with MockServer(proxy_config(real.base_url, record_to=cassette)) as proxy:
        async with sdk_for(proxy) as sdk:
            await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0.5)
    with MockServer(ServerConfig(recording=RecordingSettings(cassettes=(cassette,)))) as replay:
        async with sdk_for(replay) as sdk:
            with pytest.raises(openai.BadRequestError) as raised:
                await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0.7)
    assert raised.value.code == "no_recorded_match"
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["message"] == (
        "No recorded request matches POST /v1/chat/completions. The closest recorded request (c.yaml, "
        "interaction 0) differs: body.temperature: recorded 0.5, got 0.7."
    )
    generate = RecordingSettings(cassettes=(cassette,), unmatched="generate")
    with MockServer(ServerConfig(recording=generate)) as replay:
        async with sdk_for(replay) as sdk:
            generated = await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0.7)
            assert generated.choices[0].message.content
            assert [model.id async for model in sdk.models.list()]


async def test_a_latency_rule_delays_a_replayed_stream_whole(real: MockServer, tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    with MockServer(proxy_config(real.base_url, record_to=cassette)) as proxy:
        async with sdk_for(proxy) as sdk:
            recorded = await stream_chat(sdk)
    with MockServer(ServerConfig(recording=RecordingSettings(cassettes=(cassette,), replay_speed=0))) as replay:
        replay.on(path="/v1/chat/completions").latency(ttft=0.05)
        async with sdk_for(replay) as sdk:
            assert await stream_chat(sdk) == recorded
        (entry,) = settled_journal(replay)
        assert entry.action == "latency"
        assert entry.duration is not None
        assert entry.duration >= 0.05 - 0.002
