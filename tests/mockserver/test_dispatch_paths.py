"""The dispatcher answers a reply that goes out at once without its disconnect listener, and keeps the listener
wherever the exchange can wait: these check that the journal tells both apart as it always has."""

from __future__ import annotations

import httpx
import pytest
from _helpers import AUTH, post, settle

from mockserver import MockServer

CHAT = "/v1/chat/completions"
#: the same, from the API base URL (which ends in ``/v1``)
CREATE = "/chat/completions"
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}]}


def test_a_reply_sent_at_once_is_journaled_completed(server: MockServer) -> None:
    response = post(server, CREATE, BODY)
    assert response.status_code == 200
    settle(server)
    (entry,) = server.journal
    assert (entry.outcome, entry.status, entry.bytes_sent) == ("completed", 200, len(response.content))
    assert entry.disconnect_noticed_at is None


def test_a_client_that_leaves_during_a_delay_is_noticed(server: MockServer) -> None:
    server.on(path=CHAT).latency(ttft=5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.base_url}{CREATE}", json=BODY, headers=AUTH, timeout=0.3)
    settle(server)
    (entry,) = server.journal
    assert (entry.outcome, entry.status, entry.bytes_sent) == ("client_disconnected", None, 0)
    assert entry.disconnect_noticed_at is not None


def test_a_plain_stream_counts_every_event_and_byte(server: MockServer) -> None:
    response = post(server, CREATE, {**BODY, "stream": True})
    settle(server)
    (entry,) = server.journal
    assert (entry.outcome, entry.stream, entry.status) == ("completed", True, 200)
    assert entry.events_sent == response.content.count(b"\n\n")
    assert entry.bytes_sent == len(response.content)
    assert server.stats()["open_streams"] == 0
