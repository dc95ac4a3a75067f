"""Building request URLs: base URL + path + query string, with the SDK's query formatting."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import quote, urlencode

__all__ = ["build_url", "path_segment", "query_pairs"]


def path_segment(value: str) -> str:
    """A value placed in a URL path (an id), percent-encoded so it stays one segment."""
    if not value:
        raise ValueError("Expected a non-empty value for a path parameter")
    return quote(value, safe="")


def _scalar(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def query_pairs(params: Mapping[str, object], prefix: str = "") -> Iterator[tuple[str, str]]:
    """``None`` is left out, booleans are ``true``/``false``, mappings become ``key[sub]=v``, sequences repeat the
    key (``key[]=a&key[]=b`` is not used: the API reads repeated keys)."""
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if value is None:
            continue
        if isinstance(value, Mapping):
            yield from query_pairs(value, name)
        elif isinstance(value, list | tuple):
            for item in value:
                yield name, _scalar(item)
        else:
            yield name, _scalar(value)


def build_url(base_url: str, path: str, query: Mapping[str, object] | None) -> str:
    url = base_url + path
    if query:
        encoded = urlencode(list(query_pairs(query)))
        if encoded:
            url = f"{url}&{encoded}" if "?" in url else f"{url}?{encoded}"
    return url
