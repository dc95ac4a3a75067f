"""The API's routes, one module per resource. Each module exposes ``routes()``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import batches, chat, completions, embeddings, files, fine_tuning, models, responses

__all__ = ["api_routes"]


def api_routes() -> list[BaseRoute]:
    return [
        *chat.routes(),
        *completions.routes(),
        *responses.routes(),
        *embeddings.routes(),
        *models.routes(),
        *files.routes(),
        *fine_tuning.routes(),
        *batches.routes(),
    ]
