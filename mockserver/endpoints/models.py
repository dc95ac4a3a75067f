"""``GET /v1/models`` and ``GET /v1/models/{model}``, and the one rule for which model ids are served.

By default every model id is served (a model OpenAI ships tomorrow must not break a user's tests), and the list
shows the configured ``models``. With ``strict_models`` only the configured ids are served; any other gets
OpenAI's 404 ``model_not_found``, from every endpoint that takes a model.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from ..config.settings import ServerConfig
from ..http.dispatch import Call, Endpoint
from ..wire.errors import APIErrorResponse
from ..wire.replies import JSONReply

__all__ = ["check_model_served", "is_model_served", "routes"]

#: a fixed creation time, so model objects are the same in every run
_CREATED = 1_715_367_049


def is_model_served(config: ServerConfig, model: str) -> bool:
    """Whether ``model`` is answered: always, unless ``strict_models`` is on and it is not configured."""
    return not config.strict_models or model in config.models


def check_model_served(config: ServerConfig, model: str, *, quote: str = "'") -> None:
    """Raise OpenAI's 404 ``model_not_found`` for a model that is not served (``quote`` as the endpoint's own
    message quotes the id: chat and legacy completions use backticks)."""
    if not is_model_served(config, model):
        raise APIErrorResponse(
            404,
            f"The model {quote}{model}{quote} does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )


def _model(model_id: str) -> dict[str, Any]:
    owner = "openai" if model_id.startswith(("gpt-4o", "o", "gpt-4.1")) else "system"
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": owner}


async def list_models(call: Call) -> JSONReply:
    return JSONReply({"object": "list", "data": [_model(m) for m in call.state.config.models]})


async def retrieve_model(call: Call) -> JSONReply:
    model_id = call.path_params["model"]
    check_model_served(call.state.config, model_id)
    return JSONReply(_model(model_id))


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/models", Endpoint(list_models, json_body=False), methods=["GET"]),
        Route("/v1/models/{model:path}", Endpoint(retrieve_model, json_body=False), methods=["GET"]),
    ]
