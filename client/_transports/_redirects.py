"""Following redirects the way ``httpx.AsyncClient(follow_redirects=True)`` does, for the pooled httpx transport.

301, 302, 303, 307 and 308 with a ``Location`` are followed, at most :data:`MAX_REDIRECTS` times. 303 (and 302,
and 301 after a POST) turn the request into a body-less GET; ``Authorization`` is dropped when the redirect leaves
the origin (unless it only upgrades http to https on the same host), and ``Cookie`` is always dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from .._transport import RequestHeaders

__all__ = ["MAX_REDIRECTS", "REDIRECT_STATUSES", "Hop", "next_hop"]

MAX_REDIRECTS = 20
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True, repr=False)
class Hop:
    """One request of a redirect chain."""

    method: str
    url: str
    headers: Mapping[str, str]
    content: bytes | None

    def __repr__(self) -> str:  # never the headers: they carry the API key
        return f"<Hop({self.method!r}, {self.url!r})>"


def _port(url: httpx.URL) -> int | None:
    return url.port if url.port is not None else _DEFAULT_PORTS.get(url.scheme)


def _same_origin(one: httpx.URL, other: httpx.URL) -> bool:
    return one.scheme == other.scheme and one.host == other.host and _port(one) == _port(other)


def _is_https_upgrade(old: httpx.URL, new: httpx.URL) -> bool:
    return (
        old.host == new.host
        and old.scheme == "http"
        and _port(old) == 80
        and new.scheme == "https"
        and _port(new) == 443
    )


def _redirect_method(method: str, status: int) -> str:
    if status in (302, 303) and method != "HEAD":
        return "GET"
    if status == 301 and method == "POST":
        return "GET"
    return method


def next_hop(hop: Hop, status: int, location: str) -> Hop:
    """The request that follows ``hop`` answered with redirect ``status`` to ``location`` (raises
    ``httpx.RemoteProtocolError`` for a ``Location`` that is not a URL)."""
    old_url = httpx.URL(hop.url)
    try:
        new_url = httpx.URL(location)
    except httpx.InvalidURL as exc:
        raise httpx.RemoteProtocolError(f"Invalid URL in location header: {exc}.") from None
    if new_url.scheme and not new_url.host:
        new_url = new_url.copy_with(host=old_url.host)
    if new_url.is_relative_url:
        new_url = old_url.join(new_url)
    method = _redirect_method(hop.method, status)
    dropped = {"cookie"}
    if not _same_origin(old_url, new_url):
        dropped.add("host")
        if not _is_https_upgrade(old_url, new_url):
            dropped.add("authorization")
    content = hop.content
    if method != hop.method and method == "GET":
        dropped.update(("content-length", "transfer-encoding"))
        content = None
    headers = RequestHeaders({name: value for name, value in hop.headers.items() if name.lower() not in dropped})
    return Hop(method, str(new_url), headers, content)
