"""Azure's URLs, ``api-version`` and auth, in front of the OpenAI routes.

``AsyncAzureOpenAI`` calls ``/openai/deployments/{deployment}/chat/completions?api-version=V`` (and ``completions``,
``embeddings``, audio and images) with the deployment taken from ``model``, ``/openai/{path}?api-version=V`` for the
rest, or ``/openai/v1/{path}`` (Azure's v1 surface, where ``api-version`` is optional). This layer answers what
Azure refuses before the model runs (a missing or unknown ``api-version``, missing or wrong credentials, an unknown
deployment under ``strict_models``) and passes the rest on with the path rewritten to ``/v1/{path}``: one set of
handlers, and rules, the journal and ``attempts("/v1/chat/completions")`` see Azure requests as OpenAI ones. The
deployment is the request's model for rule matching (:func:`azure_target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..http.bookkeeping import Tally
from ..state.server_state import ServerState
from ..wire.errors import error_body
from ..wire.json_codec import dumps

__all__ = ["AZURE_API_VERSIONS", "AZURE_V1_API_VERSIONS", "AzureMiddleware", "AzureTarget", "azure_target"]

#: the dated ``api-version`` values the fake serves (Azure's GA and preview versions of the inference API)
AZURE_API_VERSIONS = frozenset(
    {
        "2022-12-01",
        "2023-05-15",
        "2024-02-01",
        "2024-06-01",
        "2024-10-21",
        "2023-06-01-preview",
        "2023-07-01-preview",
        "2023-08-01-preview",
        "2023-09-01-preview",
        "2023-12-01-preview",
        "2024-02-15-preview",
        "2024-03-01-preview",
        "2024-04-01-preview",
        "2024-05-01-preview",
        "2024-07-01-preview",
        "2024-08-01-preview",
        "2024-09-01-preview",
        "2024-10-01-preview",
        "2024-12-01-preview",
        "2025-01-01-preview",
        "2025-02-01-preview",
        "2025-03-01-preview",
        "2025-04-01-preview",
    }
)
#: what ``/openai/v1/...`` accepts as ``api-version`` (or none)
AZURE_V1_API_VERSIONS = frozenset({"preview", "latest", "v1"})

_STATE_KEY = "azure"
_DEPLOYMENTS = "/openai/deployments/"
_V1 = "/openai/v1/"
_ROOT = "/openai/"

_MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key when making requests "
    "to an API."
)
_WRONG_KEY = (
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an "
    "active subscription and use a correct regional API endpoint for your resource."
)
_NO_DEPLOYMENT = (
    "The API deployment for this resource does not exist. If you created the deployment within the last 5 "
    "minutes, please wait a moment and try again."
)


@dataclass(frozen=True, slots=True)
class AzureTarget:
    """What an Azure request named beside its OpenAI path."""

    #: the deployment in the URL (``None`` on ``/openai/v1/...`` and non-deployment paths)
    deployment: str | None
    api_version: str | None
    #: the path as the client sent it
    azure_path: str


def azure_target(scope: Scope) -> AzureTarget | None:
    """The Azure facts of a request this layer passed on, or ``None`` for an OpenAI-style request."""
    target: AzureTarget | None = scope.get("state", {}).get(_STATE_KEY)
    return target


class AzureMiddleware:
    """Takes ``/openai/...`` requests (see the module docstring); everything else passes untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(_ROOT):
            await self.app(scope, receive, send)
            return
        state: ServerState = scope["app"].state.mock
        deployment, rest, versioned = _split(path)
        version = _api_version(scope)
        refusal = _refusal(scope, state, deployment, version, versioned)
        if refusal is not None:
            status, code, message = refusal
            await _refuse(scope, receive, send, state, status, code, message)
            return
        scope = dict(scope)
        scope["path"] = "/v1/" + rest
        scope["raw_path"] = scope["path"].encode()
        scope["state"] = {**scope.get("state", {}), _STATE_KEY: AzureTarget(deployment, version, path)}
        await self.app(scope, receive, send)


def _split(path: str) -> tuple[str | None, str, bool]:
    """``(deployment, the OpenAI path after /v1/, whether api-version is required)``."""
    if path.startswith(_DEPLOYMENTS):
        deployment, _, rest = path[len(_DEPLOYMENTS) :].partition("/")
        return deployment, rest, True
    if path.startswith(_V1):
        return None, path[len(_V1) :], False
    return None, path[len(_ROOT) :], True


def _api_version(scope: Scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("api-version")
    return values[-1] if values else None


def _refusal(
    scope: Scope, state: ServerState, deployment: str | None, version: str | None, versioned: bool
) -> tuple[int, str, str] | None:
    """``(status, code, message)`` as Azure answers, or ``None`` to pass the request on."""
    if versioned and version is None:
        return 404, "404", "Resource not found"
    if version is not None and version not in (AZURE_API_VERSIONS if versioned else AZURE_V1_API_VERSIONS):
        return 400, "BadRequest", "API version not supported"
    credentials = _credentials(scope)
    if not credentials:
        return 401, "401", _MISSING_KEY
    required = state.config.api_key
    if required is not None and required not in credentials:
        return 401, "401", _WRONG_KEY
    config = state.config
    if deployment is not None and config.strict_models and deployment not in config.models:
        return 404, "DeploymentNotFound", _NO_DEPLOYMENT
    return None


def _credentials(scope: Scope) -> list[str]:
    """The ``api-key`` header and the bearer token, whichever were sent."""
    found = []
    for name, value in scope["headers"]:
        if name == b"api-key" and value.strip():
            found.append(value.decode("latin-1").strip())
        elif name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                found.append(token.strip())
    return found


async def _refuse(
    scope: Scope, receive: Receive, send: Send, state: ServerState, status: int, code: str, message: str
) -> None:
    """Azure's error (its ``code`` and ``message``, in OpenAI's four-key shape), journaled like any refusal."""
    body = error_body(message, type="invalid_request_error", code=code)
    request_id = scope.get("state", {}).get("request_id") or state.ids.request_id()
    tally = Tally(scope, request_id, state.journal, state.stats)
    try:
        response = Response(dumps(body), status, media_type="application/json")
        await response(scope, receive, tally.recording(send))
    finally:
        tally.finish()
