"""Testing the guide's Sanic app (``sanic_app.py``) with the pytest plugin's fixtures only.

The app calls the model through our ``client``; ``mock_openai`` points that client at the fake and lets each
test script the model's behaviour and check what the app sent. The app runs in-process through ASGI.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from types import ModuleType

import httpx
import pytest
from app_harness import app_client, load_fresh
from sanic import Sanic

from mockserver.pytest_plugin import MockOpenAI

CHAT = "/v1/chat/completions"


@pytest.fixture
def example(mock_openai: MockOpenAI, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of the app, whose module-level client reads the environment ``mock_openai`` set."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # lets every test build its own Sanic("openai-app")
    module = load_fresh("sanic_app")
    # The guide's listener takes (app, loop); Sanic deprecates the loop argument. Building the app put Sanic's
    # own warning filter in front, so this one goes before it, for exactly that warning (pytest restores the
    # filters after the test).
    warnings.filterwarnings(
        "ignore", message=r".*Passing the loop argument to listeners is deprecated", category=DeprecationWarning
    )
    return module


@pytest.fixture
async def http(example: ModuleType) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(example.app) as client:
        yield client
    assert example.client.is_closed()  # the app's before_server_stop listener closed its OpenAI client


async def test_chat_returns_the_model_reply(http: httpx.AsyncClient, mock_openai: MockOpenAI) -> None:
    mock_openai.queue_replies("Hello from the fake model")
    response = await http.post("/chat", json={"message": "Hi there"})
    assert response.status_code == 200
    assert response.json() == {"response": "Hello from the fake model"}
    body = mock_openai.last_body(CHAT)
    assert body["model"] == "gpt-4"
    assert body["messages"] == [{"role": "user", "content": "Hi there"}]


async def test_chat_rides_out_server_errors(http: httpx.AsyncClient, mock_openai: MockOpenAI) -> None:
    mock_openai.on(path=CHAT).fail(500, retry_after_ms=5).times(1)
    mock_openai.queue_replies("after one 500")
    response = await http.post("/chat", json={"message": "Hi"})
    assert response.json() == {"response": "after one 500"}
    assert [entry.status for entry in mock_openai.attempts(CHAT)] == [500, 200]


async def test_bad_request_is_not_retried(http: httpx.AsyncClient, mock_openai: MockOpenAI) -> None:
    mock_openai.on(path=CHAT).fail(400, message="Invalid 'messages': too long.")
    response = await http.post("/chat", json={"message": "Hi"})
    assert response.status_code == 500  # the app does not handle the client's BadRequestError
    assert len(mock_openai.attempts(CHAT)) == 1
