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
    rows = {row["name"]: row for row in result.rows}
    ratios = result.details["cpu_ratio_vs_sdk"]
    assert set(ratios) == {"httpx", "aiohttp"}
    expected = rows["ours-httpx"]["cpu_us_per_chunk"] / rows["sdk-httpx"]["cpu_us_per_chunk"]
    assert ratios["httpx"]["per_chunk"] == expected
    assert any("ours / SDK CPU on aiohttp" in note for note in result.notes)
    # warm-up and measured rounds: (3 + 6) requests and 2 streams per client
    assert len(server.journal_for("/v1/chat/completions")) == 4 * (3 + 6 + 2)


def test_only_runs_the_named_clients(server: MockServer) -> None:
    args = tiny_args(server, "--only", "ours-aiohttp", "--only", "sdk-httpx")
    result = client_vs_sdk.run(args)
    assert [row["name"] for row in result.rows] == ["ours-aiohttp", "sdk-httpx"]
    assert result.details["cpu_ratio_vs_sdk"] == {}  # no transport benched for both
