"""Fault actions that shape streams (chat and the Responses API), read raw off a real socket: disconnect,
truncate, malformed, stream_error, latency pacing, and a client that hangs up mid-stream."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx
import pytest
from _helpers import TIMER_SLACK, settle

from mockserver import MockServer

CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
CHAT_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
RESPONSES_BODY = {"model": "gpt-4o", "input": "hi", "stream": True}


@dataclass(frozen=True, slots=True)
class Event:
    event: str | None
    data: str


@dataclass(frozen=True, slots=True)
class Read:
    events: list[Event]
    error: Exception | None


def read_stream(root_http: httpx.Client, path: str, body: dict[str, object]) -> Read:
    events: list[Event] = []
    name: str | None = None
    try:
        with root_http.stream("POST", path, json=body) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append(Event(name, line.removeprefix("data: ")))
                    name = None
    except httpx.TransportError as exc:
        return Read(events, exc)
    return Read(events, None)


def test_an_unshaped_chat_stream_ends_with_done(server: MockServer, root_http: httpx.Client) -> None:
    read = read_stream(root_http, CHAT, CHAT_BODY)
    assert read.error is None
    assert read.events[-1].data == "[DONE]"
    assert server.journal[0].events_sent == len(read.events)


@pytest.mark.parametrize("after", [0, 3])
def test_disconnect_cuts_the_stream_after_n_events(server: MockServer, root_http: httpx.Client, after: int) -> None:
    server.on(path=CHAT, stream=True).disconnect(after_events=after)
    read = read_stream(root_http, CHAT, CHAT_BODY)
    assert isinstance(read.error, httpx.RemoteProtocolError)
    assert len(read.events) == after
    assert all(event.data != "[DONE]" for event in read.events)
    settle(server)
    (entry,) = server.journal
    assert (entry.events_sent, entry.outcome, entry.action) == (after, "server_cut", "disconnect")
    assert entry.disconnect_noticed_at is None
    assert server.stats()["open_streams"] == 0


def test_truncate_ends_cleanly_without_done(server: MockServer, root_http: httpx.Client) -> None:
    full = read_stream(root_http, CHAT, CHAT_BODY)
    server.reset()
    server.on(path=CHAT).truncate()
    read = read_stream(root_http, CHAT, CHAT_BODY)
    assert read.error is None
    # the same seed gives the same chunks (``created`` may tick over a second between the two)
    assert [json.loads(event.data)["choices"] for event in read.events] == [
        json.loads(event.data)["choices"] for event in full.events[:-1]
    ]
    assert server.journal[0].outcome == "completed"


def test_truncate_drops_the_final_responses_event(server: MockServer, root_http: httpx.Client) -> None:
    full = read_stream(root_http, RESPONSES, RESPONSES_BODY)
    assert full.events[-1].event == "response.completed"
    server.on(path=RESPONSES).truncate()
    read = read_stream(root_http, RESPONSES, RESPONSES_BODY)
    assert read.error is None
    assert len(read.events) == len(full.events) - 1
    assert all(event.event != "response.completed" for event in read.events)


def test_malformed_slips_in_an_event_that_is_not_json(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT).malformed(after_events=2)
    read = read_stream(root_http, CHAT, CHAT_BODY)
    assert read.error is None
    json.loads(read.events[0].data)
    json.loads(read.events[1].data)
    with pytest.raises(json.JSONDecodeError):
        json.loads(read.events[2].data)


def test_stream_error_sends_an_error_event_and_ends(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT).stream_error(after_events=2, message="overloaded", code="server_busy")
    read = read_stream(root_http, CHAT, CHAT_BODY)
    assert read.error is None
    assert len(read.events) == 3
    assert json.loads(read.events[2].data) == {
        "error": {"message": "overloaded", "type": "server_error", "param": None, "code": "server_busy"}
    }
    assert server.journal[0].events_sent == 3


def test_stream_error_in_the_responses_api_is_an_error_event(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=RESPONSES).stream_error(after_events=1, message="overloaded")
    read = read_stream(root_http, RESPONSES, RESPONSES_BODY)
    assert [event.event for event in read.events] == ["response.created", "error"]
    payload = json.loads(read.events[1].data)
    assert (payload["type"], payload["message"], payload["sequence_number"]) == ("error", "overloaded", 1)


def test_latency_paces_the_stream(server: MockServer, root_http: httpx.Client) -> None:
    server.on(path=CHAT).latency(ttft=0.02, itl=0.002)
    read = read_stream(root_http, CHAT, CHAT_BODY)
    (entry,) = server.journal
    assert entry.ended_at is not None
    # lower bounds only: the server waits at least this long
    assert entry.ended_at - entry.received_at >= 0.02 + 0.002 * (len(read.events) - 2) - TIMER_SLACK


def test_a_client_hanging_up_mid_stream_is_noticed(server: MockServer, root_http: httpx.Client) -> None:
    whole = len(read_stream(root_http, CHAT, CHAT_BODY).events)
    server.reset()
    server.on(path=CHAT).latency(itl=0.05)
    with root_http.stream("POST", CHAT, json=CHAT_BODY) as response:
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
        assert server.stats()["open_streams"] == 1
    settle(server)
    (entry,) = server.journal
    assert entry.outcome == "client_disconnected"
    assert entry.disconnect_noticed_at is not None
    assert entry.events_sent < whole
    assert server.stats() == {"open_streams": 0, "in_flight": 0, "requests": 1}
