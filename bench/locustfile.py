"""Load from many machines: Locust users for a fake, or a fleet of fakes behind a load balancer.

One machine, web UI on port 8089::

    locust -f bench/locustfile.py --host http://127.0.0.1:8000

A fleet: one master, a worker per load machine (Locust's own master/worker mode)::

    locust -f bench/locustfile.py --master --headless -u 2000 -r 200 -t 5m --expect-workers 4 \\
        --host http://fakes.internal:8000 --csv fleet
    locust -f bench/locustfile.py --worker --master-host MASTER_ADDRESS     # on each load machine

Three kinds of user, each sending bodies that never repeat (``"... user U ... number N"``: a random name per user
and its own counter):

- :class:`ChatUser`: non-stream chat completions; a reply without a ``choices[0].message`` fails.
- :class:`StreamUser`: streamed chat completions read to ``data: [DONE]``; reports ``stream: first token`` (time
  to the first content chunk) and ``stream: whole`` (to ``[DONE]``) as request types of their own.
- :class:`FaultyUser`: chat with a fault asked for in the ``X-Mock-Fault`` header (429 with ``Retry-After``, 500,
  503, a stream cut after 3 events) or none; a request passes when the fake answered what was asked, in OpenAI's
  error shape, so faults under load are checked, not just counted.

Pick users with ``--class-picker`` in the web UI or by name on the command line (``locust ... ChatUser``); by default
all three run, weighted 6:2:2. ``MOCK_MODEL`` sets the model (default ``gpt-4o``).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import time
from typing import Any

from locust import FastHttpUser, between, task
from locust.contrib.fasthttp import FAILURE_EXCEPTIONS

__all__ = ["ChatUser", "FaultyUser", "StreamUser"]

MODEL = os.environ.get("MOCK_MODEL", "gpt-4o")
CHAT_PATH = "/v1/chat/completions"
JSON_HEADERS = {"content-type": "application/json", "authorization": "Bearer sk-load-test"}

#: ``X-Mock-Fault`` value -> the status the fake must answer with (``None``: a 200 stream cut short)
FAULTS: dict[str, int | None] = {
    "429 retry_after_ms=50": 429,
    "500": 500,
    "503": 503,
    "disconnect after_events=3": None,
}


def chat_body(user: str, number: int, *, stream: bool = False) -> str:
    """A chat request the fake has not seen before."""
    text = f"Hello from load user {user}! Tell me something, number {number}."
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": text}]}
    if stream:
        body["stream"] = True
    return json.dumps(body)


def is_error_shape(payload: Any) -> bool:
    """``{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}``."""
    error = payload.get("error") if isinstance(payload, dict) else None
    return isinstance(error, dict) and {"message", "type", "param", "code"} <= error.keys()


class _OpenAIUser(FastHttpUser):
    abstract = True
    wait_time = between(0.0, 0.01)

    def on_start(self) -> None:
        #: unique across load machines, whose own counters all start at 0
        self.user_name = secrets.token_hex(6)
        self.sent = itertools.count()

    def next_body(self, *, stream: bool = False) -> str:
        return chat_body(self.user_name, next(self.sent), stream=stream)

    def chat_completion(self, name: str) -> None:
        """One non-stream chat request, named ``name`` in Locust's stats: a failure unless it is a 200 with a
        ``choices[0].message``."""
        with self.client.post(
            CHAT_PATH, data=self.next_body(), headers=JSON_HEADERS, name=name, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            choices = response.json().get("choices") or [{}]
            if "message" not in choices[0]:
                response.failure("no choices[0].message in the reply")


class ChatUser(_OpenAIUser):
    weight = 6

    @task
    def chat(self) -> None:
        self.chat_completion("chat")


class StreamUser(_OpenAIUser):
    weight = 2

    @task
    def stream(self) -> None:
        started = time.perf_counter()
        first_token: float | None = None
        text = ""
        with self.client.post(
            CHAT_PATH,
            data=self.next_body(stream=True),
            headers=JSON_HEADERS,
            name="stream: headers",
            stream=True,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            for chunk in response.iter_content(chunk_size=4096, decode_content=True):
                text += chunk if isinstance(chunk, str) else chunk.decode("utf-8", "replace")
                if first_token is None and '"content"' in text:
                    first_token = time.perf_counter()
            if "data: [DONE]" not in text:
                response.failure("the stream ended without data: [DONE]")
                return
        self._report("stream: first token", (first_token or time.perf_counter()) - started)
        self._report("stream: whole", time.perf_counter() - started, len(text))

    def _report(self, name: str, seconds: float, length: int = 0) -> None:
        self.environment.events.request.fire(
            request_type="SSE",
            name=name,
            response_time=seconds * 1000,
            response_length=length,
            exception=None,
            context={},
        )


class FaultyUser(_OpenAIUser):
    weight = 2

    @task(3)
    def fault(self) -> None:
        fault = list(FAULTS)[next(self.sent) % len(FAULTS)]
        expected = FAULTS[fault]
        stream = expected is None
        headers = {**JSON_HEADERS, "x-mock-fault": fault}
        with self.client.post(
            CHAT_PATH,
            data=self.next_body(stream=stream),
            headers=headers,
            name=f"fault: {fault.split()[0]}",
            stream=stream,
            catch_response=True,
        ) as response:
            if expected is None:
                self._expect_cut(response)
                return
            if response.status_code != expected:
                response.failure(f"asked for {expected}, got {response.status_code}")
            elif not is_error_shape(response.json()):
                response.failure("the error is not in OpenAI's shape")
            elif expected == 429 and not response.headers.get("retry-after-ms"):
                response.failure("429 without retry-after-ms")
            else:
                response.success()

    @staticmethod
    def _expect_cut(response: Any) -> None:
        """A 200 event stream that ends before ``[DONE]`` (the connection closes mid-body)."""
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.failure(f"asked for a cut stream, got status {response.status_code}, not an event stream")
            return
        body = b""
        try:
            for part in response.iter_content(chunk_size=4096, decode_content=False):
                body += part if isinstance(part, bytes) else part.encode()
        except FAILURE_EXCEPTIONS:
            pass  # the cut asked for (what was read before it may be lost with the read that failed)
        if b"[DONE]" in body:
            response.failure("asked for a cut stream, got a whole one")
        else:
            response.success()

    @task(1)
    def healthy(self) -> None:
        self.chat_completion("fault: none")
