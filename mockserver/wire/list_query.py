"""The query of a cursor-paginated list (``after``, ``limit``, ``order``), parsed with OpenAI-shaped 400s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from .errors import invalid_type
from .fields import optional_choice, optional_int

__all__ = ["ListQuery", "Order"]

Order = Literal["asc", "desc"]
_ORDERS = ("asc", "desc")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Where a list request starts (``after``, exclusive), how many items it wants, and in which order."""

    after: str | None
    limit: int
    order: Order

    @classmethod
    def parse(
        cls,
        params: Mapping[str, str],
        *,
        default_limit: int,
        max_limit: int,
        default_order: Order = "desc",
        orderable: bool = True,
    ) -> ListQuery:
        """Read ``after``/``limit``/``order`` from query ``params`` (e.g. ``request.query_params``).

        ``limit`` must be an integer in ``1..max_limit``; ``order`` must be ``asc`` or ``desc``. An endpoint whose
        order is fixed passes ``orderable=False``: its ``order`` parameter is ignored, as OpenAI ignores unknown
        query parameters, and ``default_order`` is used.
        """
        after = params.get("after") or None
        limit = _parse_limit(params.get("limit"), default_limit, max_limit)
        order = default_order
        if orderable:
            chosen = optional_choice({"order": params.get("order")}, "order", _ORDERS)
            order = "asc" if chosen == "asc" else "desc" if chosen == "desc" else default_order
        return cls(after, limit, order)


def _parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid_type("limit", "an integer", raw) from None
    checked = optional_int({"limit": value}, "limit", minimum=1, maximum=maximum)
    assert checked is not None
    return checked
