"""The command line's edges are usage errors, never tracebacks; and the HTTP edge (head size, connection cap)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from _limits_process import AUTH, serve

from mockserver import ServerConfig
from mockserver.cli.main import main
from mockserver.http.edge import FD_RESERVE, edge_limits, edge_protocol


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--journal-size", "99999999999999999999"], "journal_size"),
        (["--journal-bytes", "-1"], "journal_bytes"),
        (["--api-key", ""], "api_key"),
        (["--api-key", "two words"], "api_key"),
        (["--control-token", "jeton-à-moi"], "control_token"),
        (["--seed", "9" * 30], "seed"),
        (["--ttft", "inf"], "--ttft"),
        (["--itl", "lognormal:0.01,1000000"], "--itl"),
        (["--rpm", "0"], "rpm"),
        (["--tpm", "9" * 40], "tpm"),
        (["--error-rate", "nan"], "error_rate"),
        (["--header-timeout", "inf"], "header_read_timeout"),
        (["--max-connections", "0"], "max_connections"),
        (["--output-limit", "0"], "default_output_token_limit"),
    ],
)
def test_bad_flags_are_usage_errors_naming_the_field(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    assert main(["serve", "--port", "0", *argv]) == 2
    out, err = capsys.readouterr()
    assert "serving" not in out
    assert named in err
    assert "Traceback" not in err


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str], port: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--port", port])
    assert exited.value.code == 2
    assert "--port: expected a port number from 0 to 65535" in capsys.readouterr().err


def test_a_scenario_with_an_unusable_latency_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("rules:\n  - action: {type: latency, ttft: {dist: lognormal, median: 0.01, sigma: 1000000}}\n")
    assert main(["serve", "--port", "0", "--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert "sigma" in err
    assert "Traceback" not in err


def test_the_connection_cap_stays_under_the_descriptor_limit() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limits = edge_limits(ServerConfig(max_connections=10**6))
    assert limits.max_connections <= max(1, soft - FD_RESERVE)


def test_a_request_head_over_the_limit_is_refused(tmp_path: Path) -> None:
    with serve(tmp_path, {"max_header_bytes": 4096}) as server:
        big = {"x-filler": "a" * 100_000}
        reply = httpx.get(server.url + "/v1/models", headers={**AUTH, **big}, timeout=10)
        # httptools: our 431; h11 (without httptools): h11's own limit, uvicorn's 400
        assert reply.status_code == (431 if edge_protocol().__name__ == "EdgeHttpToolsProtocol" else 400)
        assert httpx.get(server.url + "/v1/models", headers=AUTH, timeout=10).status_code == 200


def test_connections_past_the_cap_are_closed_and_health_answers_again(tmp_path: Path) -> None:
    with serve(tmp_path, {"max_connections": 20}) as server:
        host, port = server.url.removeprefix("http://").split(":")
        held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(20)]
        try:
            extra = socket.create_connection((host, int(port)), timeout=10)
            extra.settimeout(10)
            assert extra.recv(1) == b""  # closed at once, no request read
            extra.close()
        finally:
            for sock in held:
                sock.close()
        reply = None
        for _ in range(100):  # the server notices the closed sockets as its loop turns
            try:
                reply = httpx.get(server.url + "/health", timeout=5)
            except httpx.TransportError:
                continue
            if reply.status_code == 200:
                break
        assert reply is not None
        assert reply.status_code == 200
