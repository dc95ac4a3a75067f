"""A response that has been read in full: what status errors and raw content carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ._transport import TransportRequest

__all__ = ["HTTPResponse"]


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    """Status, headers and body of one finished exchange, with the request that produced it."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    request: TransportRequest

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return msgspec.json.decode(self.content)
