"""The request journal: a capped ring buffer of frozen entries, and what a real server records in it."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools

import httpx
import pytest
from _helpers import AUTH

from mockserver import JournalEntry, MockServer, ServerConfig
from mockserver.state.journal import Journal, Outcome

ENTRY_KEYS = {
    "seq",
    "request_id",
    "received_at",
    "method",
    "path",
    "query",
    "headers",
    "body",
    "rule_id",
    "action",
    "status",
    "stream",
    "events_sent",
    "bytes_sent",
    "outcome",
    "ended_at",
    "disconnect_noticed_at",
    "body_truncated",
    "body_length",
    "body_sha256",
    "body_head",
}


def fake_clock() -> itertools.count[float]:
    return itertools.count(100.0, 1.0)


def test_the_ring_buffer_keeps_the_newest_entries_and_numbers_them() -> None:
    ticks = fake_clock()
    journal = Journal(3, clock=lambda: next(ticks))
    for index in range(5):
        journal.begin(request_id=f"req_{index}", method="GET", path="/v1/models", query="")
    assert [entry.seq for entry in journal.entries()] == [3, 4, 5]
    assert [entry.request_id for entry in journal.entries()] == ["req_2", "req_3", "req_4"]
    journal.clear()
    assert journal.entries() == []
    assert journal.begin(request_id="req_x", method="GET", path="/", query="").seq == 1


def test_a_journal_of_size_zero_keeps_nothing() -> None:
    journal = Journal(0, clock=lambda: 0.0)
    journal.begin(request_id="req_1", method="GET", path="/", query="")
    assert journal.entries() == []


def test_an_outcome_is_decided_once_and_shown_when_the_request_is_over() -> None:
    ticks = fake_clock()
    journal = Journal(10, clock=lambda: next(ticks))
    record = journal.begin(request_id="req_1", method="POST", path="/v1/chat/completions", query="")
    journal.client_gone(record, Outcome.CLIENT_DISCONNECTED)
    journal.decide(record, Outcome.COMPLETED)
    journal.client_gone(record, Outcome.HANG_ABANDONED)
    (running,) = journal.entries()
    assert running.outcome == "in_progress"
    assert running.ended_at is None
    journal.end(record)
    journal.end(record)
    (entry,) = journal.entries()
    assert entry.outcome == "client_disconnected"
    assert entry.received_at == 100.0
    assert entry.disconnect_noticed_at == 101.0
    assert entry.ended_at == 102.0
    assert entry.duration == 2.0


def test_an_undecided_request_ends_completed() -> None:
    journal = Journal(10, clock=lambda: 5.0)
    record = journal.begin(request_id="req_1", method="GET", path="/", query="")
    journal.end(record)
    assert journal.entries()[0].outcome == "completed"


def test_entries_are_frozen_snapshots() -> None:
    journal = Journal(10, clock=lambda: 1.0)
    record = journal.begin(request_id="req_1", method="GET", path="/", query="")
    before = journal.entries()[0]
    record.events_sent = 5
    assert before.events_sent == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        before.status = 200  # type: ignore[misc]
    assert set(before.to_json()) == ENTRY_KEYS


SECRET = "sk-journal-secret-0123456789"


def test_headers_are_kept_by_name_with_secrets_redacted_and_never_held() -> None:
    journal = Journal(10, clock=lambda: 1.0)
    head = [
        (b"authorization", f"Bearer {SECRET}".encode()),
        (b"x-trace", b"first"),
        (b"API-Key", SECRET.encode()),  # a name not lowercased, as a server other than uvicorn may give it
        (b"x-trace", b"second"),
        (b"x-note", "caf\u00e9".encode("latin-1")),
    ]
    record = journal.begin(request_id="req_1", method="GET", path="/v1/models", query="", headers=head)
    (entry,) = journal.entries()
    assert entry.headers == {
        "authorization": "Bearer ***6789",
        "x-trace": "second",  # the last of a repeated header
        "api-key": "***6789",
        "x-note": "caf\u00e9",
    }
    assert isinstance(record.headers, list)  # kept as the head's pairs (no value too long)
    assert SECRET not in repr(record)
    assert all(SECRET.encode() not in value for _, value in record.headers)
    assert head[0][1] == f"Bearer {SECRET}".encode()  # the request's own headers are left as they were
    assert journal.bytes_kept == 512 + sum(len(name) + len(value) for name, value in record.headers)


def test_a_header_value_longer_than_the_journal_keeps_is_kept_truncated_with_its_digest() -> None:
    journal = Journal(10, clock=lambda: 1.0, longest_kept=16)
    long_value = b"v" * 40
    head = [(b"authorization", f"Bearer {SECRET}".encode()), (b"x-long", long_value), (b"x-short", b"ok")]
    journal.answered(
        request_id="req_1",
        method="POST",
        path="/v1/chat/completions",
        query="",
        headers=head,
        body=b"{}",
        status=200,
        bytes_sent=2,
        received_at=1.0,
    )
    (entry,) = journal.entries()
    digest = hashlib.sha256(long_value).hexdigest()
    assert entry.headers == {
        "authorization": "Bearer ***6789",  # redacted, never truncated
        "x-long": f"{'v' * 16}\u2026[truncated 40 bytes sha256:{digest}]",
        "x-short": "ok",
    }
    assert (entry.status, entry.bytes_sent, entry.outcome, entry.body) == (200, 2, "completed", {})


def test_a_request_is_recorded_with_its_parts_and_its_answer(server: MockServer) -> None:
    response = httpx.post(
        f"{server.base_url}/chat/completions?trace=1",
        headers={**AUTH, "X-Custom": "yes"},
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 200
    (entry,) = server.journal
    assert isinstance(entry, JournalEntry)
    assert entry.seq == 1
    assert entry.request_id == response.headers["x-request-id"]
    assert (entry.method, entry.path, entry.query) == ("POST", "/v1/chat/completions", "trace=1")
    assert entry.headers["x-custom"] == "yes"
    assert entry.body == {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert (entry.rule_id, entry.action) == (None, None)
    assert entry.status == 200
    assert entry.stream is False
    assert entry.bytes_sent == len(response.content)
    assert entry.outcome == "completed"
    assert entry.ended_at is not None
    assert entry.ended_at >= entry.received_at
    assert entry.disconnect_noticed_at is None


def test_a_stream_records_its_events(server: MockServer) -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with httpx.stream("POST", f"{server.base_url}/chat/completions", headers=AUTH, json=body) as response:
        data = [line for line in response.iter_lines() if line.startswith("data: ")]
    (entry,) = server.journal
    assert entry.stream is True
    assert entry.events_sent == len(data)
    assert data[-1] == "data: [DONE]"
    assert entry.outcome == "completed"


def test_the_journal_over_http_has_the_documented_shape(server: MockServer) -> None:
    httpx.get(f"{server.base_url}/models", headers=AUTH)
    journal = httpx.get(f"{server.url}/_mock/journal").json()["data"]
    (entry,) = journal
    assert set(entry) == ENTRY_KEYS
    assert entry["path"] == "/v1/models"
    assert entry["outcome"] == "completed"


def test_journal_for_filters_by_path_and_method(server: MockServer) -> None:
    httpx.get(f"{server.base_url}/models", headers=AUTH)
    httpx.get(f"{server.base_url}/models/gpt-4o", headers=AUTH)
    assert [entry.path for entry in server.journal_for(path="/v1/models")] == ["/v1/models"]
    assert len(server.journal_for(method="get")) == 2
    assert server.journal_for(method="POST") == []


def test_health_and_control_routes_are_not_journaled(server: MockServer) -> None:
    httpx.get(f"{server.url}/health")
    httpx.get(f"{server.url}/_mock/stats")
    assert server.journal == []


def test_journal_size_caps_the_buffer() -> None:
    with MockServer(ServerConfig(journal_size=2)) as server:
        for _ in range(3):
            httpx.get(f"{server.base_url}/models", headers=AUTH)
        assert [entry.seq for entry in server.journal] == [2, 3]
        assert server.stats()["requests"] == 3


def test_a_request_refused_for_its_key_is_journaled(server: MockServer) -> None:
    response = httpx.post(f"{server.base_url}/chat/completions", json={"model": "gpt-4o"})
    assert response.status_code == 401
    (entry,) = server.journal
    assert (entry.path, entry.status, entry.rule_id, entry.outcome) == ("/v1/chat/completions", 401, None, "completed")
    assert "authorization" not in entry.headers
    assert entry.request_id == response.headers["x-request-id"]
    assert server.stats() == {"open_streams": 0, "in_flight": 0, "requests": 1}


def test_a_request_for_an_unknown_url_is_journaled(server: MockServer) -> None:
    with httpx.Client(base_url=server.base_url, headers=AUTH) as http:
        assert http.post("/chat/complete", json={}).status_code == 404
        assert http.delete("/models").status_code == 405
        assert httpx.get(f"{server.url}/nowhere").status_code == 404
    assert [(entry.method, entry.path, entry.status) for entry in server.journal] == [
        ("POST", "/v1/chat/complete", 404),
        ("DELETE", "/v1/models", 405),
    ]
    assert all(entry.outcome == "completed" and entry.bytes_sent > 0 for entry in server.journal)
