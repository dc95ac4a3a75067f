"""What the contract needs from the mock server: a canned reply streamed in exactly the chunks it gives."""

from __future__ import annotations

import json

import httpx

from mockserver import CannedReply, MockServer


def test_canned_pieces_stream_one_per_chunk_and_join_into_the_reply(server: MockServer) -> None:
    pieces = ("a\n", "", "é😀", "data: [DONE]\n\n", " end")
    server.queue_replies(CannedReply(pieces=pieces), CannedReply(pieces=pieces))
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(headers={"authorization": "Bearer sk-test"}) as http:
        whole = http.post(f"{server.base_url}/chat/completions", json=body).json()
        streamed = http.post(f"{server.base_url}/chat/completions", json={**body, "stream": True}).text
    events = [block.removeprefix("data: ") for block in streamed.split("\n\n") if block]
    assert events[-1] == "[DONE]"
    deltas = [json.loads(event)["choices"][0]["delta"] for event in events[:-1]]
    assert [delta["content"] for delta in deltas[1:-1]] == list(pieces)
    assert whole["choices"][0]["message"]["content"] == "".join(pieces)
    assert whole["usage"]["completion_tokens"] == len(pieces)
