"""Where a Responses conversation is kept: one record per stored response in ``state.responses``.

A record is ``{"id", "response", "input_items", "transcript"}``: the response object, the items of its own
input (what ``input_items`` lists), and the whole conversation up to and including its output, which a later
``previous_response_id`` continues.
"""

from __future__ import annotations

from typing import Any

from ..state.server_state import ServerState
from ..wire.errors import APIErrorResponse
from ._responses_input import Item, NewId

__all__ = ["ID_LENGTH", "earlier_turns", "id_maker", "save_response", "stored_response"]

#: OpenAI's response and item ids: a prefix and 48 hex digits
ID_LENGTH = 48


def id_maker(state: ServerState) -> NewId:
    """Draws response and item ids (``resp_``, ``msg_``, ``fc_``...) from the server's seeded generator."""

    def new_id(prefix: str) -> str:
        return state.ids.hex(prefix, ID_LENGTH)

    return new_id


def save_response(
    state: ServerState, response: dict[str, Any], input_items: list[Item], transcript: list[Item]
) -> None:
    state.responses.add(
        {"id": response["id"], "response": response, "input_items": input_items, "transcript": transcript}
    )


def stored_response(state: ServerState, response_id: str) -> dict[str, Any]:
    """The record of ``response_id``, or OpenAI's 404."""
    record = state.responses.get(response_id)
    if record is None:
        raise APIErrorResponse(404, f"Response with id '{response_id}' not found.", param="response_id")
    return record


def earlier_turns(state: ServerState, previous_response_id: str | None) -> list[Item]:
    """The conversation ``previous_response_id`` ended with (nothing when it is ``None``), or OpenAI's 404."""
    if previous_response_id is None:
        return []
    record = state.responses.get(previous_response_id)
    if record is None:
        raise APIErrorResponse(
            404,
            f"Previous response with id '{previous_response_id}' not found.",
            param="previous_response_id",
            code="previous_response_not_found",
        )
    transcript: list[Item] = record["transcript"]
    return transcript
