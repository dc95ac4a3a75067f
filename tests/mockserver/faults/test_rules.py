"""The rule model, the rule registry (order, times, seeded probability) and the X-Mock-Fault header syntax."""

from __future__ import annotations

import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.faults.engine import RequestFacts, RuleEngine
from mockserver.faults.header import parse_fault_header
from mockserver.faults.latency import FixedLatency, UniformLatency
from mockserver.faults.rules import (
    DisconnectAction,
    HangAction,
    LatencyAction,
    Match,
    RateLimitAction,
    Rule,
    RuleError,
    StatusAction,
    error_rate_rules,
    parse_rules,
)

CHAT = "/v1/chat/completions"


def facts(
    path: str = CHAT,
    method: str = "POST",
    body: object = None,
    headers: dict[str, str] | None = None,
) -> RequestFacts:
    return RequestFacts(method, path, headers or {}, body)


def rule(data: dict[str, object]) -> Rule:
    (parsed,) = parse_rules(data)
    return parsed


# -- the model ------------------------------------------------------------------------------------------------


def test_the_issue_example_parses_into_values() -> None:
    parsed = rule(
        {
            "match": {"path": CHAT, "method": "post", "model": "gpt-4o", "stream": True},
            "action": {"type": "status", "status": 429, "retry_after_ms": 20},
            "times": 2,
            "probability": 1.0,
        }
    )
    assert parsed.match.method == "POST"
    assert parsed.match.model == "gpt-4o"
    assert parsed.action == StatusAction(status=429, retry_after_ms=20)
    assert parsed.times == 2


def test_defaults_match_anything_forever() -> None:
    parsed = rule({"action": {"type": "hang"}})
    assert parsed.action == HangAction()
    assert parsed.times is None
    assert parsed.probability == 1.0
    assert parsed.match.model_dump(exclude_none=True) == {}


def test_latency_action_takes_numbers_distributions_and_cli_text() -> None:
    parsed = rule({"action": {"type": "latency", "ttft": 0.2, "itl": "uniform:0.01,0.03"}})
    assert isinstance(parsed.action, LatencyAction)
    assert parsed.action.ttft == FixedLatency(value=0.2)
    assert parsed.action.itl == UniformLatency(low=0.01, high=0.03)


def test_rules_survive_a_json_round_trip() -> None:
    original = rule(
        {
            "match": {"header": {"X-Tenant": "a"}},
            "action": {"type": "latency", "ttft": {"dist": "normal", "mean": 0.1, "stddev": 0.01}},
            "times": 3,
            "probability": 0.5,
        }
    )
    assert rule(original.model_dump(mode="json")) == original


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"action": {"type": "status", "status": 429, "retry_afte_ms": 1}}, "rules.0.action.status.retry_afte_ms"),
        ({"action": {"type": "explode"}}, "rules.0.action"),
        ({"action": {"type": "status"}}, "rules.0.action.status.status"),
        ({"action": {"type": "status", "status": 200}}, "rules.0.action.status.status"),
        ({"action": {"type": "hang"}, "times": 0}, "rules.0.times"),
        ({"action": {"type": "hang"}, "probability": 1.5}, "rules.0.probability"),
        ({"match": {"paht": "/v1/models"}, "action": {"type": "hang"}}, "rules.0.match.paht"),
        ({"action": {"type": "latency", "ttft": -1}}, "rules.0.action.latency.ttft"),
        ({"action": {"type": "disconnect", "after_events": "three"}}, "rules.0.action.disconnect.after_events"),
        ({"match": {}}, "rules.0.action"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(data: dict[str, object], named: str) -> None:
    with pytest.raises(RuleError, match=named.replace(".", r"\.")):
        parse_rules(data)


def test_a_list_is_validated_as_a_whole() -> None:
    with pytest.raises(RuleError, match=r"rules\.1\.action"):
        parse_rules([{"action": {"type": "hang"}}, {"action": {"type": "nope"}}])


def test_a_rule_list_must_be_a_list_or_an_object() -> None:
    with pytest.raises(RuleError, match="expected a rule object or a list"):
        parse_rules("hang")


# -- matching -------------------------------------------------------------------------------------------------


def test_each_match_key_narrows_the_rule() -> None:
    engine = RuleEngine()
    engine.add(
        parse_rules(
            {
                "match": {
                    "path": CHAT,
                    "method": "POST",
                    "model": "gpt-4o",
                    "stream": True,
                    "header": {"X-Tenant": "blue"},
                },
                "action": {"type": "hang"},
            }
        )
    )
    body = {"model": "gpt-4o", "stream": True}
    good = {"x-tenant": "blue"}
    assert engine.select(facts(body=body, headers=good)) is not None
    assert engine.select(facts(path="/v1/completions", body=body, headers=good)) is None
    assert engine.select(facts(method="GET", body=body, headers=good)) is None
    assert engine.select(facts(body={**body, "model": "gpt-4"}, headers=good)) is None
    assert engine.select(facts(body={**body, "stream": False}, headers=good)) is None
    assert engine.select(facts(body=body, headers={"x-tenant": "red"})) is None
    assert engine.select(facts(body=None, headers=good)) is None


def test_paths_may_be_globs() -> None:
    engine = RuleEngine()
    engine.add(parse_rules({"match": {"path": "/v1/fine_tuning/jobs/*"}, "action": {"type": "hang"}}))
    assert engine.select(facts("/v1/fine_tuning/jobs/ftjob-1", "GET")) is not None
    assert engine.select(facts("/v1/fine_tuning/jobs", "GET")) is None


def test_rules_are_tried_in_order_and_spent_rules_stop_matching() -> None:
    engine = RuleEngine()
    first, second = engine.add(
        parse_rules(
            [
                {"action": {"type": "status", "status": 429}, "times": 2},
                {"action": {"type": "status", "status": 500}, "times": 1},
            ]
        )
    )
    picked = [engine.select(facts()) for _ in range(4)]
    assert [selection.rule_id if selection else None for selection in picked] == [first, first, second, None]
    assert [active.remaining for active in engine.rules()] == [0, 0]
    assert [active.hits for active in engine.rules()] == [2, 1]


def test_probability_draws_replay_exactly_for_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        engine = RuleEngine(seed)
        engine.add(parse_rules({"action": {"type": "hang"}, "probability": 0.5}))
        return [engine.select(facts()) is not None for _ in range(64)]

    assert run(7) == run(7)
    assert run(7) != run(8)
    assert 10 < sum(run(7)) < 54


def test_a_probability_of_zero_never_fires_and_does_not_spend_times() -> None:
    engine = RuleEngine()
    engine.add(parse_rules({"action": {"type": "hang"}, "probability": 0.0, "times": 1}))
    assert all(engine.select(facts()) is None for _ in range(20))
    assert engine.rules()[0].remaining == 1


def test_error_rate_rules_fail_about_that_share_with_500_and_503() -> None:
    engine = RuleEngine(3)
    engine.add(error_rate_rules(0.5))
    statuses = []
    for _ in range(2000):
        selection = engine.select(facts())
        statuses.append(selection.action.status if selection and isinstance(selection.action, StatusAction) else 0)
    assert 0.44 < (statuses.count(500) + statuses.count(503)) / 2000 < 0.56
    assert 0.4 < statuses.count(500) / (statuses.count(500) + statuses.count(503)) < 0.6
    assert error_rate_rules(0.0) == ()


# -- the registry -------------------------------------------------------------------------------------------


def test_ids_are_assigned_unless_given_and_duplicates_add_nothing() -> None:
    engine = RuleEngine()
    assert engine.add(parse_rules([{"action": {"type": "hang"}}, {"action": {"type": "reset"}, "id": "mine"}])) == [
        "rule_1",
        "mine",
    ]
    with pytest.raises(RuleError, match="'mine' already exists"):
        engine.add(parse_rules([{"action": {"type": "empty"}}, {"action": {"type": "empty"}, "id": "mine"}]))
    assert [active.id for active in engine.rules()] == ["rule_1", "mine"]


def test_update_remove_clear_and_reset() -> None:
    engine = RuleEngine()
    (rule_id,) = engine.add(parse_rules({"action": {"type": "hang"}}))
    engine.update(rule_id, times=1, probability=1.0)
    assert engine.rules()[0].remaining == 1
    with pytest.raises(KeyError):
        engine.update("nope", times=1)
    assert engine.remove(rule_id) is True
    assert engine.remove(rule_id) is False
    engine.add(parse_rules({"action": {"type": "hang"}}))
    engine.clear()
    assert engine.rules() == []
    engine.reset(parse_rules({"action": {"type": "reset"}, "times": 1}), seed=1)
    assert [(active.id, active.remaining) for active in engine.rules()] == [("rule_1", 1)]


def test_to_json_reports_the_rule_with_its_counts() -> None:
    engine = RuleEngine()
    engine.add(parse_rules({"match": {"path": CHAT}, "action": {"type": "status", "status": 503}, "times": 2}))
    engine.select(facts())
    (reported,) = [active.to_json() for active in engine.rules()]
    assert reported["id"] == "rule_1"
    assert reported["remaining"] == 1
    assert reported["hits"] == 1
    assert reported["action"]["status"] == 503
    assert rule({key: reported[key] for key in ("match", "action", "times")}).action.type == "status"


def test_times_are_counted_exactly_under_concurrent_selection() -> None:
    """Eight threads, released together by a barrier, race for a rule's last uses, round after round, while the
    interpreter switches threads as often as it can. The rule matches on a hundred headers, so checking a match
    takes long enough for a switch to land between one thread seeing a use left and taking it: without the
    engine's lock two threads take the same last use and the rule fires more often than its ``times``."""
    workers, rounds, selects_per_round, uses = 8, 300, 2, 4
    headers = {f"x-check-{number}": "yes" for number in range(100)}
    rules = parse_rules(
        {"match": {"path": CHAT, "model": "gpt-4o-mini", "header": headers}, "action": {"type": "hang"}, "times": uses}
    )
    request = facts(body={"model": "gpt-4o-mini"}, headers=headers)
    engine = RuleEngine()
    # the last thread to reach the barrier resets the rule's uses before the round starts
    start_round = threading.Barrier(workers, action=lambda: engine.reset(rules, seed=0))
    fired = [0] * workers

    def worker(index: int) -> None:
        for _ in range(rounds):
            start_round.wait(timeout=10)
            fired[index] += sum(engine.select(request) is not None for _ in range(selects_per_round))

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(workers)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sys.setswitchinterval(switch_interval)
    assert not any(thread.is_alive() for thread in threads), "a selecting thread did not finish within 30 s"
    assert sum(fired) == rounds * uses
    [active] = engine.rules()
    assert (active.remaining, active.hits) == (0, uses)


# -- X-Mock-Fault -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "action"),
    [
        ("429", StatusAction(status=429)),
        ("503 retry_after_ms=20 should_retry=false", StatusAction(status=503, retry_after_ms=20, should_retry=False)),
        ("hang", HangAction()),
        ("disconnect after_events=3", DisconnectAction(after_events=3)),
        ("quota", RateLimitAction(kind="quota")),
        ("rate_limit kind=tokens retry_after=2", RateLimitAction(kind="tokens", retry_after=2)),
        ('{"type": "status", "status": 500, "message": "boom"}', StatusAction(status=500, message="boom")),
    ],
)
def test_fault_header_short_forms(header: str, action: object) -> None:
    assert parse_fault_header(header) == action


@pytest.mark.parametrize(
    ("header", "named"),
    [("", "empty"), ("teapot", "teapot"), ("429 retry_after_ms", "key=value"), ("{nope", "JSON"), ("200", "status")],
)
def test_bad_fault_headers_are_refused(header: str, named: str) -> None:
    with pytest.raises(RuleError, match=named):
        parse_fault_header(header)


# -- a property: the registry agrees with a plain model of "first live match wins" --------------------------

PATHS = ("/v1/models", CHAT)


@settings(max_examples=60, deadline=None)
@given(
    rules=st.lists(
        st.tuples(st.sampled_from((None, *PATHS)), st.one_of(st.none(), st.integers(1, 3))), min_size=1, max_size=6
    ),
    requests=st.lists(st.sampled_from(PATHS), max_size=20),
)
def test_the_first_live_matching_rule_fires(rules: list[tuple[str | None, int | None]], requests: list[str]) -> None:
    engine = RuleEngine()
    ids = engine.add(Rule(match=Match(path=path), action=HangAction(), times=times) for path, times in rules)
    remaining = [times for _, times in rules]
    for path in requests:
        expected = next(
            (
                ids[index]
                for index, (rule_path, _) in enumerate(rules)
                if remaining[index] != 0 and rule_path in (None, path)
            ),
            None,
        )
        if expected is not None:
            index = ids.index(expected)
            remaining[index] = None if remaining[index] is None else remaining[index] - 1
        selection = engine.select(facts(path))
        assert (selection.rule_id if selection else None) == expected
    assert [active.remaining for active in engine.rules()] == remaining
