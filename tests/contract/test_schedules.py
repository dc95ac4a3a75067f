"""Fault schedules: the SDK retry policy as a pure function of the schedule, and scenario files that replay it."""

from __future__ import annotations

import httpx
import pytest
import yaml

from contract_tests._schedules import BACKOFF_BOUNDS, Step, expected_outcome, scenario_text, schedule_rules
from mockserver import MockServer, ServerConfig, apply_scenario, parse_scenario


def test_no_failures_succeeds_at_once() -> None:
    expected = expected_outcome((), 2)
    assert (expected.attempts, expected.failure, expected.waits) == (1, None, ())


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_final_statuses_are_not_retried(status: int) -> None:
    expected = expected_outcome((Step("status", status, retry_after_ms=20),), 3)
    assert (expected.attempts, expected.failure) == (1, status)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
def test_retryable_statuses_wait_what_the_server_asks(status: int) -> None:
    steps = (Step("status", status, retry_after_ms=30), Step("status", status, retry_after=0.05))
    expected = expected_outcome(steps, 2)
    assert (expected.attempts, expected.failure) == (3, None)
    assert expected.waits == ((0.03, 0.03), (0.05, 0.05))


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert expected_outcome((Step("status", 500, retry_after_ms=25, retry_after=2),), 1).waits == ((0.025, 0.025),)


def test_a_delay_above_120_seconds_means_no_retry() -> None:
    assert expected_outcome((Step("status", 503, retry_after=121),), 2).attempts == 1
    assert expected_outcome((Step("status", 503, retry_after_ms=120_001, should_retry=True),), 2).attempts == 1
    # exactly 120 s is still waited
    assert expected_outcome((Step("status", 503, retry_after=120),), 2).waits == ((120, 120),)


def test_x_should_retry_overrides_the_status() -> None:
    assert expected_outcome((Step("status", 400, retry_after_ms=20, should_retry=True),), 1).attempts == 2
    assert expected_outcome((Step("status", 500, retry_after_ms=20, should_retry=False),), 1).failure == 500


def test_quota_errors_stop_and_connection_failures_exhaust() -> None:
    assert expected_outcome((Step("quota"),), 2) == expected_outcome((Step("quota"),), 0)
    assert expected_outcome((Step("quota"),), 2).failure == 429
    expected = expected_outcome((Step("status", 500, retry_after_ms=20), Step("reset")), 1)
    assert (expected.attempts, expected.failure) == (2, "connection")


def test_max_retries_bounds_the_attempts() -> None:
    steps = (Step("status", 500, retry_after_ms=20),) * 4
    assert [expected_outcome(steps, retries).attempts for retries in range(5)] == [1, 2, 3, 4, 5]
    assert expected_outcome(steps, 2).failure == 500


def test_without_a_directed_delay_the_client_backs_off() -> None:
    assert expected_outcome((Step("status", 500), Step("status", 500)), 2).waits == BACKOFF_BOUNDS[:2]
    assert BACKOFF_BOUNDS[0] == (0.375, 0.5)
    assert BACKOFF_BOUNDS[-1] == (6.0, 8.0)


def test_the_scenario_file_replays_the_schedule_on_a_server() -> None:
    steps = (Step("status", 503, retry_after_ms=20), Step("quota"), Step("status", 400, should_retry=True))
    text = scenario_text(schedule_rules(steps), request={"model": "gpt-4o-mini"})
    scenario = parse_scenario(yaml.safe_load(text))
    config = apply_scenario(ServerConfig(seed=1), scenario)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with MockServer(config) as server, httpx.Client(headers={"authorization": "Bearer sk-test"}) as http:
        answers = [http.post(f"{server.base_url}/chat/completions", json=body) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [503, 429, 400, 200]
    assert answers[0].headers["retry-after-ms"] == "20"
    assert answers[1].headers["x-should-retry"] == "false"
    assert answers[2].headers["x-should-retry"] == "true"
