"""``server``, ``peers`` and ``scale`` end to end at a tiny size, and the load generator against the test server:
everything runs and counts what it saw; nothing is timed."""

from __future__ import annotations

import argparse
from pathlib import Path

import httptools

from bench import peers, scale, server
from bench.__main__ import BENCHMARKS
from bench._bare import split_events
from bench._loadgen import LoadJob, build_request, measure
from mockserver import MockServer

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}


def parsed(parser_module: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser_module.add_arguments(parser)  # type: ignore[attr-defined]
    return parser.parse_args(argv)


def test_the_three_are_registered() -> None:
    assert (BENCHMARKS["server"], BENCHMARKS["peers"], BENCHMARKS["scale"]) == (".server", ".peers", ".scale")


def test_built_request_is_one_complete_http_message() -> None:
    raw = build_request("/v1/chat/completions", CHAT).encode("latin-1")
    seen: dict[str, object] = {}

    class Sink:
        def on_url(self, url: bytes) -> None:
            seen["url"] = url

        def on_body(self, body: bytes) -> None:
            seen["body"] = body

        def on_message_complete(self) -> None:
            seen["complete"] = True

    parser = httptools.HttpRequestParser(Sink())
    parser.feed_data(raw)
    body = b'{"model":"gpt-4o","messages":[{"role":"user","content":"Hello!"}]}'
    assert seen == {"url": b"/v1/chat/completions", "body": body, "complete": True}
    assert parser.get_method() == b"POST"
    assert parser.should_keep_alive()


def test_split_events_keeps_each_event_with_its_blank_line() -> None:
    assert split_events(b"data: 1\n\ndata: 2\n\ndata: [DONE]\n\n") == [
        b"data: 1\n\n",
        b"data: 2\n\n",
        b"data: [DONE]\n\n",
    ]


def test_load_generator_counts_responses_and_stream_events(server: MockServer) -> None:
    plain = measure(LoadJob("127.0.0.1", server.port, build_request("/v1/chat/completions", CHAT), 2, 0.3, 0.05))
    assert plain.requests > 0
    assert plain.errors == 0
    assert plain.events == 0
    assert plain.total_responses >= plain.requests

    server.reset()
    stream_body = {**CHAT, "stream": True, "max_tokens": 5}
    streamed = measure(
        LoadJob("127.0.0.1", server.port, build_request("/v1/chat/completions", stream_body), 2, 0.3, 0.05)
    )
    assert streamed.requests > 0
    assert streamed.errors == 0
    # role chunk, at most 5 content chunks, finish chunk, [DONE]: 3 to 8 events per stream
    assert 3 * streamed.requests <= streamed.events <= 8 * (streamed.requests + 2)
    assert len(server.journal_for("/v1/chat/completions")) == streamed.total_responses


def test_load_generator_counts_refusals_as_errors(server: MockServer) -> None:
    no_messages = {**CHAT, "messages": []}
    result = measure(LoadJob("127.0.0.1", server.port, build_request("/v1/chat/completions", no_messages), 1, 0.2, 0.0))
    assert result.requests == 0
    assert result.errors > 0


def test_server_bench_measures_the_fake_beside_bare_starlette() -> None:
    args = parsed(server, ["--rounds", "1", "--duration", "0.3", "--warmup", "0.05", "--events", "12", "--no-pin"])
    result = server.run(args)
    assert [(row["workload"], row["body"], row["server"]) for row in result.rows] == [
        ("chat", "distinct", "mockserver"),
        ("chat", "distinct", "bare starlette"),
        ("chat", "repeated", "mockserver"),
        ("chat", "repeated", "bare starlette"),
        ("sse", "distinct", "mockserver"),
        ("sse", "distinct", "bare starlette"),
        ("sse", "repeated", "mockserver"),
        ("sse", "repeated", "bare starlette"),
    ]
    for row in result.rows:
        assert row["requests_per_s"] > 0
        assert row["errors"] == 0
        assert row["ratio"] > 0
    assert all(row["events_per_s"] > 0 for row in result.rows if row["workload"] == "sse")
    assert result.details["sse"]["concurrency"] == 16
    assert len(result.details["chat"]["distinct"]["round_ratios"]) == 1


def test_distinct_requests_each_carry_a_body_not_sent_before(server: MockServer) -> None:
    request = build_request("/v1/chat/completions", CHAT, distinct=True)
    result = measure(LoadJob("127.0.0.1", server.port, request, 2, 0.2, 0.0))
    assert result.errors == 0
    contents = [entry.body["messages"][0]["content"] for entry in server.journal_for("/v1/chat/completions")]
    assert len(contents) == result.total_responses > 1
    assert len(set(contents)) == len(contents)
    assert all(content.startswith("Hello! number ") and content[-12:].isdigit() for content in contents)


def test_peers_bench_reports_peers_it_cannot_find_and_still_measures_ours(tmp_path: Path) -> None:
    args = parsed(peers, ["--venv", str(tmp_path / "none"), "--rounds", "1", "--duration", "0.3", "--no-pin"])
    result = peers.run(args)
    rows = {row["server"]: row for row in result.rows}
    assert set(rows) == {"mockserver", *(peer.name for peer in peers.PEERS)}
    assert rows["mockserver"]["chat_rps"] > 0
    assert rows["mockserver"]["sse_events_per_s"] > 0
    for peer in peers.PEERS:
        assert "not installed" in rows[peer.name]["note"]


def test_scale_bench_fills_the_journal_past_its_cap() -> None:
    argv = ["--cap", "40", "--fill", "1.5", "--phase", "0.3", "--budget", "20", "--workers", "", "--no-pin"]
    result = scale.run(parsed(scale, argv))
    phases = [row for row in result.rows if row["what"] == "journal: phase"]
    assert phases
    assert phases[-1]["requests"] >= 60
    assert all(row["journal"] <= 40 for row in phases)
    assert all(row["rss_mib"] > 0 for row in result.rows)


def test_scale_bench_measures_workers_and_the_rpm_error_in_memory_and_on_redis() -> None:
    argv = ["--skip-journal", "--workers", "2", "--worker-duration", "0.3", "--rpm", "30", "--concurrency", "8"]
    result = scale.run(parsed(scale, argv))
    rows = {row["what"]: row for row in result.rows}
    assert set(rows) == {"--workers 2, memory", "--workers 2, redis"}, rows
    for row in rows.values():
        assert row["requests_per_s"] > 0
        assert row["errors"] == 0
        assert row["rpm_admitted"] > 0
    # two workers sharing one Redis admit what one fake would, to within one request
    assert abs(rows["--workers 2, redis"]["rpm_error"]) <= 1
    # in memory each worker's bucket is its own: never fewer than one fake admits
    assert rows["--workers 2, memory"]["rpm_error"] >= 0
