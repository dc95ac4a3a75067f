"""``client_vs_sdk`` end to end at a tiny size against the test server: every client runs, nothing is timed."""

from __future__ import annotations

import argparse

from bench import client_vs_sdk
from bench.__main__ import BENCHMARKS
from mockserver import MockServer


def test_is_registered_as_a_subcommand() -> None:
    assert BENCHMARKS["client_vs_sdk"] == ".client_vs_sdk"


def tiny_args(server: MockServer, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    client_vs_sdk.add_arguments(parser)
    sizes = ["--requests", "6", "--concurrency", "3", "--rounds", "1", "--stream-tokens", "40"]
    return parser.parse_args(["--url", server.url, *sizes, *extra])


def test_measures_every_client_on_a_tiny_run(server: MockServer) -> None:
    args = tiny_args(server)
    result = client_vs_sdk.run(args)
    assert [row["name"] for row in result.rows] == list(client_vs_sdk.CLIENTS)
    for row in result.rows:
        assert row["requests_per_s"] > 0
        assert row["chunks_per_s"] > 0
        assert row["cpu_ms_per_request"] >= 0
    assert all(chunks >= 40 for chunks in result.details["chunks_per_stream"].values())
    # warm-up and measured rounds: (3 + 6) requests and 2 streams per client
    assert len(server.journal_for("/v1/chat/completions")) == 4 * (3 + 6 + 2)


def test_only_runs_the_named_clients(server: MockServer) -> None:
    args = tiny_args(server, "--only", "ours-aiohttp", "--only", "sdk-httpx")
    assert [row["name"] for row in client_vs_sdk.run(args).rows] == ["ours-aiohttp", "sdk-httpx"]
