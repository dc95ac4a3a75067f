"""The same end-to-end tests against ``mockserver serve --workers 1`` (state in memory) and ``mockserver serve
--workers 3 --state redis://...`` (real processes, real sockets): fault rules (times, sequences, probability),
rate limits, stored objects, the canned-replies queue, the journal and reset through the control API.

Every request goes on a new connection (``Connection: close``), so on three workers consecutive requests land on
different processes: each test that passes there needs the state to be shared (with three workers in memory the
rule, file and journal tests fail; see docs/shared-state.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _redis_servers import AUTH, RedisServer, Serving, serving

#: a fresh connection per request: consecutive requests reach different workers
CLOSE = {**AUTH, "Connection": "close"}
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
BACKENDS = ("memory", "redis")


@pytest.fixture(scope="module", params=BACKENDS)
def fake(request: pytest.FixtureRequest, redis_instance: RedisServer) -> Iterator[Serving]:
    """One fake per backend for the module: in memory with one worker, or on Redis with three."""
    if request.param == "memory":
        with serving() as running:
            yield running
    else:
        with serving(workers=3, redis_url=redis_instance.url(f"backends-{id(request)}")) as running:
            yield running


@pytest.fixture
def api(fake: Serving) -> Iterator[httpx.Client]:
    """A client on the fake's root URL, every request on a new connection, after a reset of the whole fake."""
    with httpx.Client(base_url=fake.root, headers=CLOSE, timeout=30) as http:
        assert http.post("/_mock/reset").json() == {"reset": True}
        yield http


def _chat(api: httpx.Client, **extra: Any) -> httpx.Response:
    return api.post("/v1/chat/completions", json={**CHAT, **extra})


def _rule(api: httpx.Client, rules: Any) -> list[str]:
    reply = api.post("/_mock/rules", json=rules)
    assert reply.status_code == 200, reply.text
    ids: list[str] = reply.json()["ids"]
    return ids


# -- fault rules --------------------------------------------------------------------------------------------------


def test_a_rule_fires_its_times_and_no_more(api: httpx.Client) -> None:
    rule = {"match": {"path": "/v1/chat/completions"}, "action": {"type": "status", "status": 500}, "times": 2}
    (rule_id,) = _rule(api, rule)
    statuses = [_chat(api).status_code for _ in range(6)]
    assert statuses == [500, 500, 200, 200, 200, 200]
    (listed,) = api.get("/_mock/rules").json()["rules"]
    assert (listed["id"], listed["remaining"], listed["hits"]) == (rule_id, 0, 2)


def test_a_sequence_answers_one_outcome_per_request_in_order(api: httpx.Client) -> None:
    steps = [
        {"action": {"type": "status", "status": 429}, "times": 1},
        {"action": {"type": "status", "status": 503}, "times": 1},
        {"action": {"type": "pass"}, "times": 1},
        {"action": {"type": "status", "status": 500}, "times": 1},
    ]
    _rule(api, [{"match": {"path": "/v1/chat/completions"}, **step} for step in steps])
    assert [_chat(api).status_code for _ in range(6)] == [429, 503, 200, 500, 200, 200]


def test_rules_match_on_model_and_stream_and_keep_their_order(api: httpx.Client) -> None:
    _rule(
        api,
        [
            {"match": {"model": "gpt-4o-mini"}, "action": {"type": "status", "status": 418}},
            {"match": {"stream": True}, "action": {"type": "status", "status": 503}},
            {"match": {"path": "/v1/chat/*"}, "action": {"type": "status", "status": 500}},
        ],
    )
    assert _chat(api, model="gpt-4o-mini", stream=True).status_code == 418
    assert _chat(api, stream=True).status_code == 503
    assert _chat(api).status_code == 500
    assert api.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"}).status_code == 200


def test_probability_zero_never_fires_and_one_always_does(api: httpx.Client) -> None:
    _rule(
        api,
        [
            {"match": {"model": "gpt-4o"}, "action": {"type": "status", "status": 500}, "probability": 0.0},
            {"match": {"model": "gpt-4o"}, "action": {"type": "status", "status": 502}, "probability": 1.0},
        ],
    )
    assert {_chat(api).status_code for _ in range(5)} == {502}
    hits = {rule["id"]: rule["hits"] for rule in api.get("/_mock/rules").json()["rules"]}
    assert sorted(hits.values()) == [0, 5]


def test_a_half_chance_rule_fires_for_some_requests_not_all(api: httpx.Client) -> None:
    _rule(api, {"match": {"model": "gpt-4o"}, "action": {"type": "status", "status": 500}, "probability": 0.5})
    statuses = [_chat(api).status_code for _ in range(60)]
    assert 10 <= statuses.count(500) <= 50, statuses
    (listed,) = api.get("/_mock/rules").json()["rules"]
    assert listed["hits"] == statuses.count(500)


def test_removing_and_clearing_rules(api: httpx.Client) -> None:
    first, _ = _rule(
        api, [{"action": {"type": "status", "status": 500}, "id": "a"}, {"action": {"type": "status", "status": 502}}]
    )
    assert first == "a"
    assert api.post("/_mock/rules", json={"action": {"type": "status", "status": 500}, "id": "a"}).status_code == 400
    assert api.delete("/_mock/rules/a").json() == {"deleted": 1}
    assert _chat(api).status_code == 502
    assert api.delete("/_mock/rules").json() == {"deleted": 1}
    assert _chat(api).status_code == 200


# -- stored objects -----------------------------------------------------------------------------------------------


def _upload(api: httpx.Client, content: bytes, purpose: str = "batch", name: str = "input.jsonl") -> dict[str, Any]:
    reply = api.post("/v1/files", files={"file": (name, content)}, data={"purpose": purpose})
    assert reply.status_code == 200, reply.text
    item: dict[str, Any] = reply.json()
    return item


def test_a_file_uploaded_is_found_listed_read_and_deleted(api: httpx.Client) -> None:
    content = b'{"prompt": "x"}\n'
    uploaded = [_upload(api, content, name=f"f{index}.jsonl") for index in range(3)]
    for item in uploaded:  # several times each: through more than one worker
        for _ in range(3):
            assert api.get(f"/v1/files/{item['id']}").json() == item
            assert api.get(f"/v1/files/{item['id']}/content").content == content
    ours = {item["id"] for item in uploaded}
    listed = api.get("/v1/files", params={"order": "desc", "limit": 100}).json()
    assert [entry["id"] for entry in listed["data"] if entry["id"] in ours] == [item["id"] for item in uploaded[::-1]]
    page = api.get("/v1/files", params={"order": "asc", "limit": 1, "after": uploaded[0]["id"]}).json()
    assert ([entry["id"] for entry in page["data"]], page["has_more"]) == ([uploaded[1]["id"]], True)
    rest = api.get("/v1/files", params={"order": "asc", "after": uploaded[1]["id"]}).json()
    assert [entry["id"] for entry in rest["data"]] == [uploaded[2]["id"]]
    assert rest["has_more"] is False
    deleted = api.delete(f"/v1/files/{uploaded[0]['id']}").json()
    assert deleted == {"id": uploaded[0]["id"], "object": "file", "deleted": True}
    for _ in range(3):
        assert api.get(f"/v1/files/{uploaded[0]['id']}").status_code == 404
    assert len(set(entry["id"] for entry in uploaded)) == 3


def test_a_batch_is_created_listed_and_cancelled(api: httpx.Client) -> None:
    line = {"custom_id": "1", "method": "POST", "url": "/v1/chat/completions", "body": CHAT}
    source = _upload(api, (json.dumps(line) + "\n").encode())
    created = api.post(
        "/v1/batches",
        json={"input_file_id": source["id"], "endpoint": "/v1/chat/completions", "completion_window": "24h"},
    ).json()
    assert created["request_counts"]["total"] == 1
    assert api.get(f"/v1/batches/{created['id']}").json()["id"] == created["id"]
    assert api.get("/v1/batches", params={"limit": 1}).json()["data"][0]["id"] == created["id"]  # newest first
    assert api.post(f"/v1/batches/{created['id']}/cancel").json()["status"] == "cancelling"
    for _ in range(3):
        assert api.get(f"/v1/batches/{created['id']}").json()["status"] == "cancelled"


def test_a_fine_tuning_job_walks_its_lifecycle_and_keeps_its_events(api: httpx.Client) -> None:
    jsonl = b'{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n'
    training = _upload(api, jsonl, purpose="fine-tune", name="t.jsonl")
    job = api.post("/v1/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": training["id"]}).json()
    statuses = [api.get(f"/v1/fine_tuning/jobs/{job['id']}").json()["status"] for _ in range(4)]
    assert statuses == ["queued", "running", "succeeded", "succeeded"]
    done = api.get(f"/v1/fine_tuning/jobs/{job['id']}").json()
    assert api.get(f"/v1/files/{done['result_files'][0]}/content").content.startswith(b"step,train_loss\n")
    events = api.get(f"/v1/fine_tuning/jobs/{job['id']}/events", params={"limit": 100}).json()["data"]
    messages = [event["message"] for event in events]  # newest first
    assert messages[0] == "The job has successfully completed"
    assert messages[-1] == f"Created fine-tuning job: {job['id']}"
    assert len(messages) == len({event["id"] for event in events}) == 9
    other = api.post("/v1/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": training["id"]}).json()
    assert api.post(f"/v1/fine_tuning/jobs/{other['id']}/cancel").json()["status"] == "cancelled"
    for _ in range(3):
        assert api.get(f"/v1/fine_tuning/jobs/{other['id']}").json()["status"] == "cancelled"


def test_stored_chat_completions_are_kept_listed_updated_and_deleted(api: httpx.Client) -> None:
    stored = [_chat(api, store=True, metadata={"run": str(index % 2)}).json() for index in range(3)]
    _chat(api)  # not stored
    ours = {item["id"] for item in stored}
    listed = api.get("/v1/chat/completions", params={"order": "asc", "limit": 100}).json()
    assert [item["id"] for item in listed["data"] if item["id"] in ours] == [item["id"] for item in stored]
    odd = api.get("/v1/chat/completions", params={"metadata[run]": "1"}).json()
    assert [item["id"] for item in odd["data"]] == [stored[1]["id"]]
    messages = api.get(f"/v1/chat/completions/{stored[0]['id']}/messages").json()
    assert [message["content"] for message in messages["data"]] == ["hi"]
    updated = api.post(f"/v1/chat/completions/{stored[0]['id']}", json={"metadata": {"run": "x"}}).json()
    assert updated["metadata"] == {"run": "x"}
    for _ in range(3):
        assert api.get(f"/v1/chat/completions/{stored[0]['id']}").json()["metadata"] == {"run": "x"}
    assert api.delete(f"/v1/chat/completions/{stored[0]['id']}").json()["deleted"] is True
    assert api.get(f"/v1/chat/completions/{stored[0]['id']}").status_code == 404


def test_responses_are_stored_and_continued(api: httpx.Client) -> None:
    first = api.post("/v1/responses", json={"model": "gpt-4o", "input": "hello"}).json()
    for _ in range(3):
        assert api.get(f"/v1/responses/{first['id']}").json()["id"] == first["id"]
    second = api.post(
        "/v1/responses", json={"model": "gpt-4o", "input": "and then?", "previous_response_id": first["id"]}
    )
    assert second.status_code == 200, second.text
    items = api.get(f"/v1/responses/{second.json()['id']}/input_items").json()["data"]
    assert items[0]["content"][0]["text"] == "and then?"
    assert api.delete(f"/v1/responses/{first['id']}").status_code == 200
    assert api.get(f"/v1/responses/{first['id']}").status_code == 404


# -- replies, journal, reset --------------------------------------------------------------------------------------


def test_canned_replies_are_served_once_each_in_order(api: httpx.Client) -> None:
    assert api.post("/_mock/replies", json=["one", {"content": "two"}]).json() == {"queued": 2}
    contents = [_chat(api).json()["choices"][0]["message"]["content"] for _ in range(3)]
    assert contents[:2] == ["one", "two"]
    assert contents[2] not in ("one", "two")


def test_the_journal_shows_every_request_numbered_with_secrets_redacted(api: httpx.Client) -> None:
    _rule(api, {"match": {"model": "gpt-4o-mini"}, "action": {"type": "status", "status": 500}, "id": "mini"})
    headers = {**CLOSE, "Authorization": "Bearer sk-a-long-secret-key-1234"}
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4o"):
        api.post("/v1/chat/completions", json={**CHAT, "model": model}, headers=headers)
    api.get("/v1/models")
    entries = api.get("/_mock/journal").json()["data"]
    assert [entry["seq"] for entry in entries] == [1, 2, 3, 4]
    assert [(entry["path"], entry["status"], entry["rule_id"]) for entry in entries] == [
        ("/v1/chat/completions", 200, None),
        ("/v1/chat/completions", 500, "mini"),
        ("/v1/chat/completions", 200, None),
        ("/v1/models", 200, None),
    ]
    assert entries[1]["body"]["model"] == "gpt-4o-mini"
    assert {entry["outcome"] for entry in entries} == {"completed"}
    assert entries[0]["headers"]["authorization"] == "Bearer ***1234"
    assert "sk-a-long-secret" not in json.dumps(entries)
    only_models = api.get("/_mock/journal", params={"path": "/v1/models"}).json()["data"]
    assert [entry["seq"] for entry in only_models] == [4]


def test_reset_forgets_rules_objects_replies_and_the_journal(api: httpx.Client) -> None:
    item = _upload(api, b"x", purpose="assistants", name="a.txt")
    _rule(api, {"match": {"model": "gpt-4o-mini"}, "action": {"type": "status", "status": 500}})
    api.post("/_mock/replies", json=["canned"])
    assert api.post("/_mock/reset").json() == {"reset": True}
    assert api.get("/_mock/rules").json() == {"rules": []}
    assert api.get("/_mock/journal").json() == {"data": []}
    for _ in range(3):
        assert api.get(f"/v1/files/{item['id']}").status_code == 404
    assert _chat(api).json()["choices"][0]["message"]["content"] != "canned"


# -- rate limits (their own fakes: limits come from the command line) ---------------------------------------------


@pytest.fixture(params=BACKENDS)
def limited(request: pytest.FixtureRequest, redis_instance: RedisServer, prefix: str) -> Iterator[Serving]:
    """A fake allowing 3 requests a minute, and 3000 tokens."""
    flags = ("--rpm", "3", "--tpm", "3000")
    if request.param == "memory":
        with serving(*flags) as running:
            yield running
    else:
        with serving(*flags, workers=3, redis_url=redis_instance.url(prefix)) as running:
            yield running


def test_rate_limits_answer_openais_429_with_its_headers(limited: Serving) -> None:
    with httpx.Client(base_url=limited.base_url, headers=CLOSE, timeout=30) as http:
        allowed = [http.post("/chat/completions", json=CHAT) for _ in range(3)]
        refused = http.post("/chat/completions", json=CHAT)
        too_large = http.post("/embeddings", json={"model": "text-embedding-3-small", "input": "word " * 5000})
    assert [reply.status_code for reply in allowed] == [200, 200, 200]
    assert [reply.headers["x-ratelimit-remaining-requests"] for reply in allowed] == ["2", "1", "0"]
    assert allowed[0].headers["x-ratelimit-limit-requests"] == "3"
    assert allowed[0].headers["x-ratelimit-limit-tokens"] == "3000"
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("requests", "rate_limit_exceeded", None)
    assert error["message"].startswith(
        "Rate limit reached for gpt-4o in organization org-mock on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in "
    )
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert 0 < int(refused.headers["retry-after-ms"]) <= 20_000
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert too_large.status_code == 429
    assert too_large.json()["error"]["message"].startswith("Request too large for text-embedding-3-small")
    assert "retry-after" not in too_large.headers
