"""The API routes at a fixed path (``POST /v1/chat/completions``, ``/v1/completions``, ``/v1/embeddings``, ...),
found by one dict look-up instead of Starlette's router.

Nearly every request a fake serves is one of these. The app (:class:`mockserver.app.MockApp`) sends such a request
straight to its :class:`~.dispatch.Endpoint`, with the OpenAI headers added on the way out, when nothing else
would take it: no recording session (the recording route comes first), no ``root_path``, an accepted API key (a
refusal takes the full stack, which journals it). Everything else (Azure paths, the control API, 404s and 405s, a
401) goes through the middleware and the router as before, so both paths answer alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match, Route
from starlette.types import Scope

from .dispatch import Endpoint

__all__ = ["HotRoutes"]

#: the methods taken this way (those of API calls that carry a body)
_METHODS = ("POST",)


class HotRoutes:
    """``(method, path) -> Endpoint`` for the fixed-path routes that the router would pick for that method and
    path (a route is left out when an earlier one would match first)."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._endpoints: dict[tuple[str, str], Endpoint] = {}
        for position, route in enumerate(routes):
            if not (isinstance(route, Route) and isinstance(route.app, Endpoint) and not route.param_convertors):
                continue
            for method in _METHODS:
                probe: Scope = {"type": "http", "path": route.path, "method": method, "root_path": ""}
                key = (method, route.path)
                if key in self._endpoints or route.matches(probe)[0] is not Match.FULL:
                    continue
                if any(earlier.matches(probe)[0] is Match.FULL for earlier in routes[:position]):
                    continue
                self._endpoints[key] = route.app

    def __len__(self) -> int:
        return len(self._endpoints)

    def endpoint(self, scope: Scope) -> Endpoint | None:
        """The endpoint the router would run for the HTTP request in ``scope``, if its route is a hot one."""
        if scope.get("root_path"):
            return None
        return self._endpoints.get((scope["method"], scope["path"]))
