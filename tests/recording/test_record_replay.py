"""Record through the proxy from a loopback upstream (a second mockserver with another seed and latency), stop the
upstream, replay: the clients get equal objects and equal stream events, at the recorded pace, and the upstream
key is in no file written."""

from __future__ import annotations

import contextlib
import io
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from recording_support import CliServer, files_containing

import client as our_client
from mockserver import MockServer, ServerConfig
from mockserver.faults.latency import LatencyProfile
from mockserver.recording import RecordingSettings, Upstream, load_cassette

#: the key the upstream requires and the proxy holds; it must reach no file
UPSTREAM_KEY = "sk-upstream-0123456789-must-not-be-written"
#: what the local clients send (the proxy accepts any key)
DUMMY_KEY = "sk-local-dummy"
MESSAGES: list[Any] = [{"role": "user", "content": "Say something recorded."}]


def upstream(*extra: str) -> CliServer:
    return CliServer("serve", "--seed", "7", "--api-key", UPSTREAM_KEY, *extra)


def proxy(upstream_url: str, record: Path, *extra: str) -> CliServer:
    """The proxy, with the upstream key in its own environment only."""
    return CliServer("proxy", "--upstream", upstream_url, "--record", str(record), *extra,
                     env={"OPENAI_API_KEY": UPSTREAM_KEY})  # fmt: skip


def replaying(cassettes: Path, speed: float = 0.0) -> MockServer:
    return MockServer(ServerConfig(recording=RecordingSettings(cassettes=(cassettes,), replay_speed=speed)))


async def sdk_exchanges(sdk: openai.AsyncOpenAI) -> list[Any]:
    """One of everything: chat and Responses (JSON and streamed), embeddings, models, legacy completions, a file
    upload and its content, fine-tuning jobs, batches, stored completions, and their lists."""
    got: list[Any] = [await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)]
    stream = await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    got.append([chunk async for chunk in stream])
    got.append(await sdk.responses.create(model="gpt-4o", input="Recorded?"))
    response_stream = await sdk.responses.create(model="gpt-4o", input="Recorded?", stream=True)
    got.append([event async for event in response_stream])
    got.append(await sdk.embeddings.create(model="text-embedding-3-small", input=["one", "two"]))
    got.append([model async for model in sdk.models.list()])
    got.append(await sdk.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once upon"))
    training = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
    uploaded = await sdk.files.create(file=("train.jsonl", io.BytesIO(training)), purpose="fine-tune")
    got.append(uploaded)
    got.append((await sdk.files.content(uploaded.id)).content)
    got.append(await sdk.fine_tuning.jobs.create(model="gpt-4o-mini-2024-07-18", training_file=uploaded.id))
    got.append([job async for job in sdk.fine_tuning.jobs.list()])
    requests = b'{"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o"}}\n'
    batch_file = await sdk.files.create(file=("batch.jsonl", io.BytesIO(requests)), purpose="batch")
    got.append(
        await sdk.batches.create(input_file_id=batch_file.id, endpoint="/v1/chat/completions", completion_window="24h")
    )
    got.append(await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES, store=True))
    got.append([stored async for stored in sdk.chat.completions.list()])
    return got


def sdk_for(base_url: str, transport: str) -> openai.AsyncOpenAI:
    http_client = openai.DefaultAioHttpClient() if transport == "aiohttp" else None
    return openai.AsyncOpenAI(base_url=base_url, api_key=DUMMY_KEY, max_retries=0, http_client=http_client)


@contextlib.contextmanager
def recording_proxy(cassettes: Path, *, command_line: bool) -> Iterator[str]:
    """The proxy's base URL, recording into ``cassettes`` from an upstream with another seed and some latency:
    both ``mockserver`` commands in subprocesses, or both servers in this process; stopped on the way out."""
    if command_line:
        with upstream("--ttft", "0.01", "--itl", "0.001") as real, proxy(real.base_url, cassettes) as recorder:
            yield recorder.base_url
        return
    latency = LatencyProfile.parse({"ttft": 0.01, "itl": 0.001})
    with MockServer(ServerConfig(seed=7, api_key=UPSTREAM_KEY, latency=latency)) as real:
        settings = RecordingSettings(
            unmatched="upstream",
            upstream=Upstream(url=real.base_url, key=UPSTREAM_KEY),
            record_to=cassettes / "recording.yaml",
        )
        with MockServer(ServerConfig(recording=settings)) as recorder:
            yield recorder.base_url


async def record_then_replay(
    tmp_path: Path, exchanges: Callable[[str], Awaitable[list[Any]]], *, command_line: bool
) -> tuple[list[Any], list[Any]]:
    cassettes = tmp_path / "cassettes"
    with recording_proxy(cassettes, command_line=command_line) as proxy_url:
        recorded = await exchanges(proxy_url)
    # both are stopped: the replay reaches no upstream
    with replaying(cassettes) as replay:
        replayed = await exchanges(replay.base_url)
        assert all(entry.status == 200 for entry in replay.journal), [(e.path, e.status) for e in replay.journal]
    assert files_containing(tmp_path, UPSTREAM_KEY) == []
    return recorded, replayed


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_the_sdk_replays_what_it_recorded(tmp_path: Path, transport: str) -> None:
    async def exchanges(base_url: str) -> list[Any]:
        async with sdk_for(base_url, transport) as sdk:
            return await sdk_exchanges(sdk)

    # the command line once; the same servers in this process for the other transport (quicker)
    recorded, replayed = await record_then_replay(tmp_path, exchanges, command_line=transport == "httpx")
    assert replayed == recorded
    chunks = recorded[1]
    assert len(chunks) > 3
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_our_client_replays_what_it_recorded(tmp_path: Path) -> None:
    async def exchanges(base_url: str) -> list[Any]:
        async with our_client.AsyncOpenAI(base_url=base_url, api_key=DUMMY_KEY, max_retries=0) as api:
            got: list[Any] = [await api.chat.completions.create(model="gpt-4o", messages=MESSAGES)]
            stream = await api.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            got.append([chunk async for chunk in stream])
            got.append(await api.responses.create(model="gpt-4o", input="Recorded?"))
            events = await api.responses.create(model="gpt-4o", input="Recorded?", stream=True)
            got.append([event async for event in events])
            got.append(await api.embeddings.create(model="text-embedding-3-small", input="one"))
            return got

    recorded, replayed = await record_then_replay(tmp_path, exchanges, command_line=False)
    assert replayed == recorded


def _write_long_reply_config(path: Path) -> Path:
    """Replies of exactly 48 tokens: 50 chunks with the role and the finish."""
    path.write_text("min_reply_tokens: 48\nmax_reply_tokens: 48\n", encoding="utf-8")
    return path


#: the short streams that add TTFT samples: a role chunk, 3 tokens, the finish and the usage
SHORT_STREAM_TOKENS = 3


async def _timed_stream(session: aiohttp.ClientSession, base_url: str, max_tokens: int | None = None) -> list[float]:
    """When each event of one streamed chat completion arrived, in seconds after the request was sent. A raw
    aiohttp client (a C parser, little work per event), so the times are the server's more than the client's."""
    body: dict[str, Any] = {"model": "gpt-4o", "messages": MESSAGES, "stream": True}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    times = []
    started = time.perf_counter()
    async with session.post(f"{base_url}/chat/completions", json=body) as response:
        assert response.status == 200
        async for line in response.content:
            if line.startswith(b"data:") and line.strip() != b"data: [DONE]":
                times.append(time.perf_counter() - started)
    assert len(times) == 50 if max_tokens is None else len(times) > 1
    return times


async def _streams(session: aiohttp.ClientSession, base_url: str, long: int, short: int) -> list[list[float]]:
    """``long`` streams of 50 events, then ``short`` short ones."""
    times = [await _timed_stream(session, base_url) for _ in range(long)]
    return times + [await _timed_stream(session, base_url, SHORT_STREAM_TOKENS) for _ in range(short)]


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def test_replay_at_speed_1_keeps_the_recorded_pace_and_at_speed_0_sends_at_once(tmp_path: Path) -> None:
    """Recorded: a warm-up stream, 3 streams of 50 events, 6 short streams. Each is replayed at speed 1 and, right
    after, at speed 0 by a second server. What a request costs anyway (the speed-0 stream's TTFT, taken on the
    same machine at the same moment) comes off each speed-1 TTFT, and the median of the 9 is compared with the
    median TTFT the cassette recorded; the median replayed gap of the long streams with the median recorded gap;
    the speed-0 time of a whole long stream with 50 ms. Medians, so stalls of the loaded machine in a few streams
    or between a few events do not decide."""
    long, short = 3, 6
    cassettes = tmp_path / "cassettes"
    config = _write_long_reply_config(tmp_path / "long.yaml")
    headers = {"Authorization": f"Bearer {DUMMY_KEY}"}
    with (
        upstream("--config", str(config), "--ttft", "0.1", "--itl", "0.025") as real,
        proxy(real.base_url, cassettes) as recorder,
    ):
        async with aiohttp.ClientSession(headers=headers) as session:
            await _streams(session, recorder.base_url, 1 + long, short)
    recorded = [
        [event.at_ms / 1000 for event in interaction.response.events or () if event.text != "[DONE]"]
        for interaction in load_cassette(cassettes / "recording.yaml").interactions
    ][1:]
    recorded_ttft = statistics.median(times[0] for times in recorded)
    recorded_gap = statistics.median(gap for times in recorded[:long] for gap in _gaps(times))
    assert recorded_ttft > 0.09  # the upstream's TTFT was recorded
    assert recorded_gap > 0.02  # and its pace

    paced: list[list[float]] = []
    at_once: list[list[float]] = []
    with (
        CliServer("serve", "--cassettes", str(cassettes), "--replay-speed", "1") as replay,
        CliServer("serve", "--cassettes", str(cassettes), "--replay-speed", "0") as instant,
    ):
        async with aiohttp.ClientSession(headers=headers) as session:
            await _timed_stream(session, replay.base_url)  # warm-up: connections, first-use costs
            await _timed_stream(session, instant.base_url)
            for index in range(long + short):
                max_tokens = None if index < long else SHORT_STREAM_TOKENS
                paced.append(await _timed_stream(session, replay.base_url, max_tokens))
                at_once.append(await _timed_stream(session, instant.base_url, max_tokens))
    replayed_ttft = statistics.median(slow[0] - fast[0] for slow, fast in zip(paced, at_once, strict=True))
    replayed_gap = statistics.median(gap for times in paced[:long] for gap in _gaps(times))
    whole = statistics.median(times[-1] for times in at_once[:long])
    print(
        f"speed 1: TTFT recorded {recorded_ttft * 1000:.2f} ms, replayed {replayed_ttft * 1000:.2f} ms; median gap "
        f"recorded {recorded_gap * 1000:.2f} ms, replayed {replayed_gap * 1000:.2f} ms; speed 0: whole stream "
        f"{whole * 1000:.2f} ms"
    )
    assert abs(replayed_ttft - recorded_ttft) <= 0.010, (replayed_ttft, recorded_ttft)
    assert abs(replayed_gap - recorded_gap) <= 0.010, (replayed_gap, recorded_gap)
    assert whole <= 0.050, f"a 50-event stream at speed 0 took {whole:.4f} s"
