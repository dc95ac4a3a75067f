"""``GET /v1/models`` and ``GET /v1/models/{model}``."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

from ..http.dispatch import Call, Endpoint
from ..wire.errors import APIErrorResponse
from ..wire.replies import JSONReply

__all__ = ["routes"]

#: a fixed creation time, so model objects are the same in every run
_CREATED = 1_715_367_049


def _model(model_id: str) -> dict[str, Any]:
    owner = "openai" if model_id.startswith(("gpt-4o", "o", "gpt-4.1")) else "system"
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": owner}


async def list_models(call: Call) -> JSONReply:
    return JSONReply({"object": "list", "data": [_model(m) for m in call.state.config.models]})


async def retrieve_model(call: Call) -> JSONReply:
    model_id = call.path_params["model"]
    if model_id not in call.state.config.models:
        raise APIErrorResponse(
            404,
            f"The model '{model_id}' does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    return JSONReply(_model(model_id))


def routes() -> list[BaseRoute]:
    return [
        Route("/v1/models", Endpoint(list_models, json_body=False), methods=["GET"]),
        Route("/v1/models/{model:path}", Endpoint(retrieve_model, json_body=False), methods=["GET"]),
    ]
