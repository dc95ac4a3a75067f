"""``create_app(config)``: the Starlette application that is the fake OpenAI API."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .config.settings import ServerConfig, default_config
from .endpoints import api_routes
from .endpoints.prepopulate import prepopulate
from .http.at_once import AtOnceLane
from .http.bookkeeping import Tally
from .http.connection import TRANSPORT_KEY, find_transport
from .http.control import control_routes
from .http.dispatch import Endpoint
from .http.hot_routes import HotRoutes
from .http.middleware import OpenAIHeaders, auth_problem
from .recording.route import RecordingRoute
from .state.server_state import ServerState
from .wire.errors import error_body

__all__ = ["MockApp", "create_app"]


class MockApp(Starlette):
    """The Starlette app, which also notes the connection's transport in the scope before any middleware wraps
    ``send`` (the fault engine resets and closes connections through it), and takes the hot API routes
    (:mod:`.http.hot_routes`) without the middleware stack and router: what those would do for such a request
    (its id and OpenAI headers, the key check, a 500 for a failure) is done here, in one step."""

    hot_routes: HotRoutes = HotRoutes(())
    #: answers at-once requests inside the connection's callback, for the edge protocol (``None``: not served so)
    at_once_lane: AtOnceLane | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[TRANSPORT_KEY] = find_transport(send)
            endpoint = self.hot_routes.endpoint(scope)
            if endpoint is not None:
                state: ServerState = self.state.mock
                if state.recording is None and auth_problem(scope, state.config.api_key) is None:
                    scope["app"] = self
                    await _serve_hot(endpoint, scope, receive, send, state)
                    return
        await super().__call__(scope, receive, send)


async def _serve_hot(endpoint: Endpoint, scope: Scope, receive: Receive, send: Send, state: ServerState) -> None:
    headers = OpenAIHeaders(scope, state)
    try:
        # the headers are added to the response's start: a stream's events go straight to ``send``
        await endpoint.serve(scope, receive, headers.sending(send), send)
    except Exception as exc:  # as Starlette's ServerErrorMiddleware, the outermost layer, answers it
        if not headers.started:
            response = await _server_error(Request(scope), exc)
            await response(scope, receive, send)
        raise


async def _health(request: Request) -> Response:
    """``ok`` (200); with a shared state that cannot be reached: ``degraded`` (503, so a readiness probe or a load
    balancer stops sending requests here while they could only be answered 503)."""
    shared = request.app.state.mock.shared
    if shared is not None and not await shared.healthy():
        return JSONResponse({"status": "degraded", "state": "unreachable"}, 503)
    return JSONResponse({"status": "ok"})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    described = f"({request.method} {request.url.path})"
    if exc.status_code == 405:
        message = f"Invalid method for URL {described}"
    elif exc.status_code == 404:
        message = f"Invalid URL {described}"
    else:
        message = exc.detail
    body = error_body(message, type="invalid_request_error")
    response = JSONResponse(body, exc.status_code, headers=exc.headers)
    if request.url.path.startswith("/v1"):
        _journal_refusal(request, response)
    return response


def _journal_refusal(request: Request, response: Response) -> None:
    """Journal an API request no route took (an unknown URL or method): no rule applies to it."""
    state: ServerState = request.app.state.mock
    request_id = request.scope.get("state", {}).get("request_id") or state.ids.request_id()
    tally = Tally(request.scope, request_id, state.journal, state.stats)
    with state.journal.lock:
        tally.record.status = response.status_code
        tally.record.bytes_sent = len(response.body)
    tally.finish()


async def _server_error(request: Request, exc: Exception) -> Response:
    body = error_body("The server had an error while processing your request. Sorry about that!", type="server_error")
    return JSONResponse(body, 500)


def create_app(config: ServerConfig | None = None) -> MockApp:
    """The fake OpenAI API as an ASGI app; serve it with uvicorn or mount it in-process."""
    from .azure.routing import AzureMiddleware
    from .http.middleware import AuthMiddleware, OpenAIHeadersMiddleware

    config = config if config is not None else default_config()
    api = api_routes()
    app = MockApp(
        # the API first: the router tries routes in order, and nearly every request is an API call
        routes=[
            RecordingRoute(),  # takes /v1 requests only while config.recording is set
            *api,
            Route("/health", _health, methods=["GET"]),
            *(control_routes(config.control_token) if config.control_api else []),
        ],
        middleware=[Middleware(OpenAIHeadersMiddleware), Middleware(AzureMiddleware), Middleware(AuthMiddleware)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.mock = ServerState(config, prepopulate=prepopulate)
    app.hot_routes = HotRoutes(api)  # the recording route before them is asked for at each request
    app.at_once_lane = AtOnceLane(app, app.hot_routes, app.state.mock)
    return app
