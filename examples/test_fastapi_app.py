"""Testing the guide's FastAPI app (``fastapi_app.py``) with the pytest plugin's fixtures only.

The app calls the model through our ``client``; ``mock_openai`` points that client at the fake and lets each
test script the model's behaviour and check what the app sent.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from types import ModuleType

import httpx
import pytest
from app_harness import app_client, load_fresh

from mockserver.pytest_plugin import MockOpenAI

CHAT = "/v1/chat/completions"


@pytest.fixture
def example(mock_openai: MockOpenAI) -> ModuleType:
    """A fresh copy of the app, whose module-level client reads the environment ``mock_openai`` set."""
    with warnings.catch_warnings():
        # the guide registers its shutdown hook with @app.on_event, which FastAPI deprecates
        warnings.filterwarnings("ignore", message=r"\s*on_event is deprecated", category=DeprecationWarning)
        return load_fresh("fastapi_app")


@pytest.fixture
async def http(example: ModuleType) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(example.app) as client:
        yield client
    assert example.client.is_closed()  # the app's shutdown hook closed its OpenAI client


async def test_chat_returns_the_model_reply(http: httpx.AsyncClient, mock_openai: MockOpenAI) -> None:
    mock_openai.queue_replies("Hello from the fake model")
    response = await http.post("/chat", params={"message": "Hi there"})
    assert response.status_code == 200
    assert response.json() == {"response": "Hello from the fake model"}
    body = mock_openai.last_body(CHAT)
    assert body["model"] == "gpt-4"
    assert body["messages"] == [{"role": "user", "content": "Hi there"}]


async def test_chat_rides_out_rate_limits(http: httpx.AsyncClient, mock_openai: MockOpenAI) -> None:
    mock_openai.on(path=CHAT).fail(429, retry_after_ms=5).times(2)
    mock_openai.queue_replies("after two 429s")
    response = await http.post("/chat", params={"message": "Hi"})
    assert response.json() == {"response": "after two 429s"}
    assert [entry.status for entry in mock_openai.attempts(CHAT)] == [429, 429, 200]


async def test_model_outage_is_a_server_error(http: httpx.AsyncClient, mock_openai: MockOpenAI) -> None:
    mock_openai.on(path=CHAT).fail(503, retry_after_ms=5)
    response = await http.post("/chat", params={"message": "Hi"})
    assert response.status_code == 500
    assert [entry.status for entry in mock_openai.attempts(CHAT)] == [503, 503, 503]  # the client's 2 retries


@pytest.mark.mock_openai(replies=["one", "two", "three"])
async def test_each_request_gets_the_next_reply(http: httpx.AsyncClient, mock_openai: MockOpenAI) -> None:
    answers = [(await http.post("/chat", params={"message": f"q{i}"})).json()["response"] for i in range(3)]
    assert answers == ["one", "two", "three"]
    assert [entry.body["messages"][0]["content"] for entry in mock_openai.attempts(CHAT)] == ["q0", "q1", "q2"]
