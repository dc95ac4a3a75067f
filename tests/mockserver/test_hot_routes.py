"""The hot API routes (``mockserver.http.hot_routes``) skip Starlette's middleware and router: a request they
take must be answered as the full stack answers it (headers, key check, journal, a 500 for a failure), and the
table must hold only routes the router itself would pick. A handler asks for its Starlette request only when it
needs it, and gets the whole of it then."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.routing import Route

from mockserver import ServerConfig
from mockserver.app import create_app
from mockserver.http.dispatch import Call, Endpoint
from mockserver.http.hot_routes import HotRoutes
from mockserver.wire.replies import JSONReply, Reply

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}]}
AUTH = {"Authorization": "Bearer sk-test-0123456789"}


async def _ok(call: Call) -> Reply:
    return JSONReply({"ok": True})


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://mock")


def test_the_table_holds_the_fixed_path_posts_the_router_would_pick() -> None:
    first, shadowed = Endpoint(_ok), Endpoint(_ok)
    routes = [
        Route("/v1/things/{thing_id}", first, methods=["POST"]),
        Route("/v1/things/special", shadowed, methods=["POST"]),  # the router never reaches it
        Route("/v1/plain", first, methods=["POST"]),
        Route("/v1/listed", first, methods=["GET"]),
    ]
    table = HotRoutes(routes)
    post = {"type": "http", "method": "POST", "root_path": ""}
    assert table.endpoint({**post, "path": "/v1/plain"}) is first
    assert table.endpoint({**post, "path": "/v1/things/special"}) is None
    assert table.endpoint({**post, "path": "/v1/things/abc"}) is None  # a path with parameters: the router
    assert table.endpoint({**post, "method": "GET", "path": "/v1/listed"}) is None
    assert table.endpoint({**post, "path": "/v1/plain", "root_path": "/mounted"}) is None
    assert len(table) == 1


def test_the_app_takes_its_create_routes_hot() -> None:
    table = create_app().hot_routes
    for path in ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"):
        assert table.endpoint({"type": "http", "method": "POST", "path": path}) is not None, path


async def test_a_hot_reply_carries_the_headers_and_journal_entry_of_the_full_stack() -> None:
    app = create_app()
    async with _client(app) as client:
        hot = await client.post("/v1/chat/completions", json=BODY, headers=AUTH)
        full = await client.get("/v1/models", headers=AUTH)
    for response in (hot, full):
        assert response.status_code == 200
        assert response.headers["x-request-id"].startswith("req_")
        assert response.headers["openai-version"] == "2020-10-01"
        assert int(response.headers["openai-processing-ms"]) >= 0
    (entry, _) = app.state.mock.journal.entries()
    assert (entry.request_id, entry.status, entry.outcome) == (hot.headers["x-request-id"], 200, "completed")
    assert entry.headers["authorization"] == "Bearer ***6789"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk-wrong-key-000000"}])
async def test_a_refused_key_is_refused_and_journaled_as_before(headers: dict[str, str]) -> None:
    app = create_app(ServerConfig(api_key="sk-test-0123456789"))
    async with _client(app) as client:
        refused = await client.post("/v1/chat/completions", json=BODY, headers=headers)
        accepted = await client.post("/v1/chat/completions", json=BODY, headers=AUTH)
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "invalid_request_error"
    assert refused.headers["x-request-id"].startswith("req_")
    assert accepted.status_code == 200
    assert [entry.status for entry in app.state.mock.journal.entries()] == [401, 200]


class _Broken(Endpoint):
    async def serve(self, *args: object) -> None:  # both ways in (the router calls it too) come here
        raise RuntimeError("broken before any reply")


async def test_a_failure_on_a_hot_route_gets_the_openai_shaped_500_of_the_full_stack() -> None:
    hot_app, full_app = create_app(), create_app()
    hot_app.hot_routes = HotRoutes([Route("/v1/broken", _Broken(_ok), methods=["POST"])])
    full_app.router.routes.insert(0, Route("/v1/broken", _Broken(_ok), methods=["POST"]))
    answers = []
    for app in (hot_app, full_app):
        async with _client(app) as client:
            answers.append(await client.post("/v1/broken", json={}, headers=AUTH))
    hot, full = answers
    assert hot.status_code == full.status_code == 500
    assert hot.json() == full.json()
    assert hot.json()["error"]["type"] == "server_error"


async def _echo_request(call: Call) -> Reply:
    request = call.request  # made when first asked for, with the body to read
    return JSONReply(
        {
            "path": request.url.path,
            "query": request.query_params["q"],
            "thing": call.path_params["thing"],
            "body": (await request.body()).decode(),
        }
    )


async def test_a_handler_that_asks_for_its_request_gets_the_whole_of_it() -> None:
    app = create_app()
    app.router.routes.insert(0, Route("/v1/echo/{thing}", Endpoint(_echo_request, json_body=False), methods=["POST"]))
    async with _client(app) as client:
        response = await client.post("/v1/echo/spoon?q=soup", content=b"the body", headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"path": "/v1/echo/spoon", "query": "soup", "thing": "spoon", "body": "the body"}


async def _failing(call: Call) -> Reply:
    raise RuntimeError("the handler broke")


def _failing_at_once(call: Call) -> Reply | None:
    raise RuntimeError("the handler broke")


async def test_a_handler_that_fails_is_a_500_logged_with_its_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="mockserver")
    app = create_app()
    endpoint = Endpoint(_failing, at_once=_failing_at_once)
    app.router.routes.insert(0, Route("/v1/failing", endpoint, methods=["POST"]))
    async with _client(app) as client:
        response = await client.post("/v1/failing", json={}, headers=AUTH)
    scope = {"type": "http", "method": "POST", "path": "/v1/failing", "headers": []}
    at_once = endpoint.reply_at_once(scope, b"{}", app.state.mock)
    assert isinstance(at_once, JSONReply)
    assert (response.status_code, at_once.status) == (500, 500)
    assert response.json() == at_once.body
    assert response.json()["error"]["type"] == "server_error"
    failures = [record for record in caplog.records if record.getMessage() == "handler failed: POST /v1/failing"]
    assert len(failures) == 2
    assert all(record.exc_info is not None and "the handler broke" in str(record.exc_info[1]) for record in failures)
