"""``mockserver serve``: flags over scenario over config, bad input refused naming it, and one real run."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from _helpers import AUTH

from mockserver import default_config
from mockserver.cli.main import _parser, build_config, main
from mockserver.faults.latency import FixedLatency, NormalLatency, UniformLatency
from mockserver.faults.rate_limits import RateLimits


def config_for(*argv: str):  # type: ignore[no-untyped-def]
    return build_config(_parser().parse_args(["serve", *argv]))


def test_no_arguments_is_the_embedded_default() -> None:
    assert config_for() == default_config()


def test_fault_flags_set_the_config() -> None:
    config = config_for(
        "--ttft", "uniform:0.1,0.3", "--itl", "0.02", "--error-rate", "0.1", "--rpm", "60", "--tpm", "1000",
        "--journal-size", "5",
    )  # fmt: skip
    assert config.latency is not None
    assert config.latency.ttft == UniformLatency(low=0.1, high=0.3)
    assert config.latency.itl == FixedLatency(value=0.02)
    assert config.error_rate == 0.1
    assert config.rate_limits == RateLimits(rpm=60, tpm=1000)
    assert config.journal_size == 5


def test_flags_win_over_the_scenario_and_keep_what_they_do_not_name(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("latency: {ttft: 0.5, itl: 0.01}\nrate_limits: {rpm: 10, tpm: 20}\nseed: 3\n")
    config = config_for("--scenario", str(scenario), "--itl", "normal:0.02,0.005", "--rpm", "99")
    assert config.latency is not None
    assert config.latency.ttft == FixedLatency(value=0.5)
    assert config.latency.itl == NormalLatency(mean=0.02, stddev=0.005)
    assert config.rate_limits == RateLimits(rpm=99, tpm=20)
    assert config.seed == 3


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--ttft", "uniform:1"], "--ttft"),
        (["--itl", "gamma:1,2"], "--itl"),
        (["--error-rate", "1.5"], "error_rate"),
        (["--rpm", "0"], "rate_limits.rpm"),
        (["--journal-size", "-1"], "journal_size"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(argv: list[str], named: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", *argv]) == 2
    assert named in capsys.readouterr().err


def test_a_bad_scenario_exits_2_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "bad.json"
    scenario.write_text(json.dumps({"rules": [{"action": {"type": "status", "status": 42}}]}))
    assert main(["serve", "--port", "0", "--scenario", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert str(scenario) in err
    assert "rules.0.action.status.status" in err


def test_serve_runs_a_scenario_and_stops_at_once_on_ctrl_c_with_a_hang_in_flight(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "rules:\n"
        "  - {match: {path: /v1/models}, action: {type: status, status: 429, retry_after_ms: 20}, times: 1}\n"
        "  - {match: {path: /v1/models/gpt-4o}, action: {type: hang}}\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--scenario", str(scenario)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.search(r"http://\S+/v1", process.stdout.readline())
        assert match is not None
        base_url = match.group(0)
        with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as http:
            first = http.get("/models")
            assert (first.status_code, first.headers["retry-after-ms"]) == (429, "20")
            assert http.get("/models").status_code == 200
            assert http.get("/models", headers={"X-Mock-Fault": "500"}).status_code == 500
            assert [entry["status"] for entry in http.get(base_url[:-3] + "/_mock/journal").json()["data"]] == [
                429,
                200,
                500,
            ]
            failures: list[BaseException] = []

            def hung_call() -> None:
                try:
                    http.get("/models/gpt-4o")
                except httpx.TransportError as exc:
                    failures.append(exc)

            caller = threading.Thread(target=hung_call)
            caller.start()
            while http.get(base_url[:-3] + "/_mock/stats").json()["in_flight"] < 1:
                pass
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
            caller.join(5)
            assert len(failures) == 1
        out, err = process.communicate()
        assert "mockserver: stopped" in out
        assert "Traceback" not in err
        # woken at once, the hang never made uvicorn wait out its graceful-shutdown timeout and cancel it
        assert "timeout graceful shutdown exceeded" not in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
