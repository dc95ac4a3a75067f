"""The control plane under /_mock/: rules, reset, journal, stats, replies; bad calls are refused whole."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver import MockServer

RULE = {"match": {"path": "/v1/models"}, "action": {"type": "status", "status": 429, "retry_after_ms": 20}, "times": 2}


@pytest.fixture
def control(server: MockServer) -> Iterator[httpx.Client]:
    """A client for the control routes: no API key."""
    with httpx.Client(base_url=f"{server.url}/_mock", timeout=5) as client:
        yield client


def test_post_rules_takes_one_rule_or_a_list_and_returns_ids(control: httpx.Client) -> None:
    assert control.post("/rules", json=RULE).json() == {"ids": ["rule_1"]}
    second = {"action": {"type": "hang"}, "id": "slow"}
    assert control.post("/rules", json=[RULE, second]).json() == {"ids": ["rule_2", "slow"]}
    listed = control.get("/rules").json()["rules"]
    assert [rule["id"] for rule in listed] == ["rule_1", "rule_2", "slow"]
    assert listed[0]["action"] == {"type": "status", "status": 429, "retry_after_ms": 20, "headers": {}}
    assert listed[0]["remaining"] == 2


def test_a_posted_rule_applies_to_api_requests(control: httpx.Client, http: httpx.Client) -> None:
    control.post("/rules", json=RULE)
    assert [http.get("/models").status_code for _ in range(3)] == [429, 429, 200]
    assert control.get("/rules").json()["rules"][0]["remaining"] == 0


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"action": {"type": "status", "status": 429, "retry_after": "soon"}}, "rules.0.action.status.retry_after"),
        ([RULE, {"action": {"type": "hang"}, "times": -1}], "rules.1.times"),
        ({"match": {"model": 4}, "action": {"type": "hang"}}, "rules.0.match.model"),
        ({"action": {"type": "hang"}, "extra": 1}, "rules.0.extra"),
        ("hang", "expected a rule object or a list"),
    ],
)
def test_a_bad_rule_is_a_400_naming_the_field_and_nothing_is_added(
    control: httpx.Client, body: object, named: str
) -> None:
    response = control.post("/rules", json=body)
    assert response.status_code == 400
    assert named in response.json()["error"]["message"]
    assert control.get("/rules").json() == {"rules": []}


def test_a_body_that_is_not_json_is_a_400(control: httpx.Client) -> None:
    for content in (b"", b"{nope"):
        response = control.post("/rules", content=content)
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("body:")


def test_a_duplicate_id_refuses_the_whole_list(control: httpx.Client) -> None:
    control.post("/rules", json={"action": {"type": "hang"}, "id": "mine"})
    response = control.post("/rules", json=[RULE, {"action": {"type": "reset"}, "id": "mine"}])
    assert response.status_code == 400
    assert "'mine' already exists" in response.json()["error"]["message"]
    assert [rule["id"] for rule in control.get("/rules").json()["rules"]] == ["mine"]


def test_delete_one_rule_or_all(control: httpx.Client) -> None:
    control.post("/rules", json=[RULE, RULE])
    assert control.delete("/rules/rule_1").json() == {"deleted": 1}
    assert control.delete("/rules/rule_1").status_code == 404
    assert control.delete("/rules").json() == {"deleted": 1}
    assert control.get("/rules").json() == {"rules": []}


def test_reset_forgets_rules_journal_and_stored_state(
    server: MockServer, control: httpx.Client, http: httpx.Client
) -> None:
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "store": True}
    created = http.post("/chat/completions", json=chat).json()["id"]
    control.post("/rules", json=RULE)
    assert http.get(f"/chat/completions/{created}").status_code == 200
    assert control.post("/reset").json() == {"reset": True}
    assert control.get("/rules").json() == {"rules": []}
    assert control.get("/journal").json() == {"data": []}
    assert http.get(f"/chat/completions/{created}").status_code == 404
    assert control.get("/stats").json()["requests"] == 1


def test_stats_count_requests(control: httpx.Client, http: httpx.Client) -> None:
    http.get("/models")
    http.get("/models")
    assert control.get("/stats").json() == {"open_streams": 0, "in_flight": 0, "requests": 2}


def test_journal_can_be_filtered(control: httpx.Client, http: httpx.Client) -> None:
    http.get("/models")
    http.post("/chat/completions", json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    entries = control.get("/journal", params={"path": "/v1/chat/completions", "method": "post"}).json()["data"]
    assert [entry["path"] for entry in entries] == ["/v1/chat/completions"]


def test_queued_replies_are_served_in_order(control: httpx.Client, http: httpx.Client) -> None:
    assert control.post("/replies", json=["first", {"content": "second"}]).json() == {"queued": 2}
    chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    contents = [http.post("/chat/completions", json=chat).json()["choices"][0]["message"]["content"] for _ in "ab"]
    assert contents == ["first", "second"]
    response = control.post("/replies", json=[{"text": "wrong field"}])
    assert response.status_code == 400
    assert "replies.0" in response.json()["error"]["message"]


def test_control_routes_need_no_key_and_ignore_rules(control: httpx.Client) -> None:
    control.post("/rules", json={"action": {"type": "hang"}})
    assert control.get("/stats", headers={"X-Mock-Fault": "500"}).status_code == 200
    assert control.get("/journal").json() == {"data": []}


def test_a_bad_fault_header_is_a_400_naming_it(http: httpx.Client) -> None:
    response = http.get("/models", headers={"X-Mock-Fault": "teapot"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-mock-fault"
    assert "teapot" in response.json()["error"]["message"]
