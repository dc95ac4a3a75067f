"""Scenario files, and the promise behind every entry point: the same rule given through a scenario file, the
control API, the X-Mock-Fault header, the Python API or CLI flags behaves the same."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from _helpers import AUTH

from mockserver import ConfigError, MockServer, ServerConfig
from mockserver.cli.main import _parser, build_config
from mockserver.config.scenario import Scenario, apply_scenario, load_scenario, parse_scenario
from mockserver.faults.latency import FixedLatency, UniformLatency
from mockserver.faults.rate_limits import RateLimits
from mockserver.faults.rules import StatusAction

SCENARIO_YAML = """\
seed: 7
latency: {ttft: 0.01, itl: "uniform:0.001,0.002"}
rate_limits: {rpm: 600, tpm: 100000}
error_rate: 0.0
rules:
  - match: {path: /v1/models}
    action: {type: status, status: 429, retry_after_ms: 20}
    times: 2
replies: ["scripted"]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_scenario_sets_every_part(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "faults.yaml", SCENARIO_YAML))
    config = apply_scenario(ServerConfig(), scenario)
    assert config.seed == 7
    assert config.latency is not None
    assert config.latency.ttft == FixedLatency(value=0.01)
    assert config.latency.itl == UniformLatency(low=0.001, high=0.002)
    assert config.rate_limits == RateLimits(rpm=600, tpm=100000)
    assert config.rules[0].action == StatusAction(status=429, retry_after_ms=20)
    assert config.rules[0].times == 2
    assert config.replies == ("scripted",)


def test_a_json_scenario_is_the_same_scenario(tmp_path: Path) -> None:
    yaml_scenario = load_scenario(write(tmp_path, "faults.yaml", SCENARIO_YAML))
    json_text = json.dumps(yaml_scenario.model_dump(mode="json"))
    assert load_scenario(write(tmp_path, "faults.json", json_text)) == yaml_scenario


def test_scenario_rules_follow_the_config_rules() -> None:
    base = ServerConfig.model_validate({"rules": [{"action": {"type": "hang"}, "id": "base"}]})
    scenario = parse_scenario({"rules": [{"action": {"type": "reset"}, "id": "extra"}]})
    assert [rule.id for rule in apply_scenario(base, scenario).rules] == ["base", "extra"]
    assert apply_scenario(base, Scenario()) == base


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("rules:\n  - action: {type: status, status: 42}\n", "rules.0.action.status.status"),
        ("rules:\n  - action: {type: hang}\n    tims: 2\n", "rules.0.tims"),
        ("latency: {ttft: -1}\n", "latency.ttft"),
        ("rate_limits: {rpm: 0}\n", "rate_limits.rpm"),
        ("error_rate: 2\n", "error_rate"),
        ("seeds: 1\n", "seeds"),
        ("- just a list\n", "expected a mapping"),
        ("rules: [\n", "not valid JSON or YAML"),
    ],
)
def test_a_bad_scenario_names_the_file_and_the_field(tmp_path: Path, text: str, named: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value)
    assert named in str(caught.value)


def test_a_missing_scenario_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_scenario(tmp_path / "nope.yaml")


# -- one rule, every entry point ------------------------------------------------------------------------------

RULE = {
    "match": {"path": "/v1/models"},
    "action": {"type": "status", "status": 503, "retry_after_ms": 20, "should_retry": False},
    "times": 1,
}
HEADER = "503 retry_after_ms=20 should_retry=false"


def observe(server: MockServer, headers: dict[str, str] | None = None) -> list[tuple[int, str, str | None, str]]:
    """Two requests: what each answered, and what the journal says fired."""
    seen = []
    with httpx.Client(base_url=server.base_url, headers=AUTH) as http:
        for _ in range(2):
            response = http.get("/models", headers=headers)
            entry = server.journal[-1]
            seen.append((response.status_code, response.text, response.headers.get("x-should-retry"), entry.action))
            headers = None  # the header asks for one fault, on the request that carries it
    return seen


def through_scenario(tmp_path: Path) -> list[tuple[int, str, str | None, str]]:
    path = write(tmp_path, "scenario.json", json.dumps({"rules": [RULE]}))
    config = build_config(_parser().parse_args(["serve", "--scenario", str(path)]))
    with MockServer(config) as server:
        return observe(server)


def through_control_api(server: MockServer) -> list[tuple[int, str, str | None, str]]:
    assert httpx.post(f"{server.url}/_mock/rules", json=RULE).status_code == 200
    return observe(server)


def through_python(server: MockServer) -> list[tuple[int, str, str | None, str]]:
    server.on(path="/v1/models").fail(503, retry_after_ms=20, should_retry=False).times(1)
    return observe(server)


def through_header(server: MockServer) -> list[tuple[int, str, str | None, str]]:
    return observe(server, {"X-Mock-Fault": HEADER})


@pytest.mark.parametrize("entry_point", [through_control_api, through_python, through_header])
def test_the_same_rule_behaves_the_same_through_every_entry_point(
    tmp_path: Path, server: MockServer, entry_point: Callable[[MockServer], list[tuple[int, str, str | None, str]]]
) -> None:
    expected = through_scenario(tmp_path)
    assert [status for status, *_ in expected] == [503, 200]
    assert expected[0][2] == "false"
    assert entry_point(server) == expected


def test_cli_flags_and_a_scenario_give_the_same_run(tmp_path: Path) -> None:
    path = write(tmp_path, "scenario.yaml", "seed: 5\nerror_rate: 0.5\nlatency: {ttft: 0.002}\n")
    from_file = build_config(_parser().parse_args(["serve", "--scenario", str(path)]))
    from_flags = build_config(_parser().parse_args(["serve", "--seed", "5", "--error-rate", "0.5", "--ttft", "0.002"]))
    assert from_flags == from_file

    def statuses(config: ServerConfig) -> list[int]:
        with MockServer(config) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as http:
            return [http.get("/models").status_code for _ in range(12)]

    from_file_statuses = statuses(from_file)
    assert statuses(from_flags) == from_file_statuses
    assert {500, 503} & set(from_file_statuses)
    assert 200 in from_file_statuses
