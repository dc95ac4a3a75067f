"""Stored objects on Redis, behind the in-memory stores' own APIs: :class:`SharedResourceStore` is a
:class:`~mockserver.state.store.ResourceStore` (creation order, cursor pages in both orders, ``where`` filters),
:class:`SharedMap` a mapping (file contents, stored chat messages), :class:`SharedStores` the per-job event stores.

An object lives in a hash (id -> JSON) and its creation order in a sorted set (scored by a counter), so a page
is a rank look-up and a range. These calls block: the endpoints that use them (files, batches, fine-tuning,
stored chat completions, responses) are not on the hot path, and each call is one or two loopback round trips,
bounded by the socket timeout; when Redis is away they raise the 503.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Generic, Literal, TypeVar, cast

import orjson
import redis

from ..store import Item, Page, ResourceStore
from . import scripts
from .connection import RedisLocation, StateUnavailable, unavailable

__all__ = ["SharedMap", "SharedResourceStore", "SharedStores"]

_V = TypeVar("_V")
#: ids read per round trip while a page is filled
_CHUNK = 64


class SharedResourceStore(ResourceStore):
    __slots__ = ("_add_script", "_counter_key", "_items_key", "_order_key", "_redis")

    def __init__(self, location: RedisLocation, sync: redis.Redis, name: str) -> None:
        super().__init__()
        self._redis = sync
        self._order_key = location.key("store", name, "order")
        self._items_key = location.key("store", name, "items")
        self._counter_key = location.key("store", name, "counter")
        self._add_script = sync.register_script(scripts.STORE_ADD)

    def __len__(self) -> int:
        try:
            return int(self._redis.hlen(self._items_key))
        except StateUnavailable:
            raise unavailable() from None

    def __contains__(self, ident: object) -> bool:
        return isinstance(ident, str) and self.get(ident) is not None

    def __iter__(self) -> Iterator[Item]:
        after: str | None = None
        while True:
            page = self.page(after=after, limit=_CHUNK, order="asc")
            yield from page.data
            if not page.has_more:
                return
            after = page.data[-1]["id"]

    def add(self, item: Item) -> Item:
        try:
            self._add_script(
                keys=[self._order_key, self._items_key, self._counter_key], args=[item["id"], orjson.dumps(item)]
            )
        except StateUnavailable:
            raise unavailable() from None
        return item

    def get(self, ident: str) -> Item | None:
        try:
            raw = self._redis.hget(self._items_key, ident)
        except StateUnavailable:
            raise unavailable() from None
        return None if raw is None else _object(raw)

    def delete(self, ident: str) -> Item | None:
        try:
            with self._redis.pipeline() as pipe:
                pipe.hget(self._items_key, ident)
                pipe.hdel(self._items_key, ident)
                pipe.zrem(self._order_key, ident)
                raw, _, _ = pipe.execute()
        except StateUnavailable:
            raise unavailable() from None
        return None if raw is None else _object(raw)

    def clear(self) -> None:
        try:
            self._redis.delete(self._order_key, self._items_key, self._counter_key)
        except StateUnavailable:
            raise unavailable() from None

    def exists(self) -> bool:
        try:
            return bool(self._redis.exists(self._order_key))
        except StateUnavailable:
            raise unavailable() from None

    def page(
        self,
        *,
        after: str | None,
        limit: int,
        order: Literal["asc", "desc"],
        where: Callable[[Item], bool] | None = None,
    ) -> Page:
        """As :meth:`ResourceStore.page`: up to ``limit`` items strictly after ``after`` in ``order``."""
        try:
            return self._page(after, limit, order, where)
        except StateUnavailable:
            raise unavailable() from None

    def _page(
        self, after: str | None, limit: int, order: Literal["asc", "desc"], where: Callable[[Item], bool] | None
    ) -> Page:
        rank_of = self._redis.zrank if order == "asc" else self._redis.zrevrank
        read = self._redis.zrange if order == "asc" else self._redis.zrevrange
        if after is None:
            start = 0
        else:
            rank = rank_of(self._order_key, after)
            if rank is None:
                return Page([], False)
            start = int(cast(int, rank)) + 1
        chunk: list[Item] = []
        while True:
            ids: list[bytes] = cast(list[bytes], read(self._order_key, start, start + _CHUNK - 1))
            if not ids:
                return Page(chunk, False)
            start += len(ids)
            for raw in self._redis.hmget(self._items_key, ids):
                if raw is None:  # deleted since the range was read
                    continue
                item = _object(raw)
                if where is not None and not where(item):
                    continue
                if len(chunk) == limit:
                    return Page(chunk, True)
                chunk.append(item)


class SharedMap(MutableMapping[str, _V], Generic[_V]):
    """A Redis hash as a mapping of ``str`` to bytes (``raw=True``) or JSON values."""

    def __init__(self, location: RedisLocation, sync: redis.Redis, name: str, *, raw: bool = False) -> None:
        self._redis = sync
        self._key = location.key("map", name)
        self._raw = raw

    def _decode(self, value: bytes | str) -> _V:
        decoded: _V = value if self._raw else orjson.loads(value)  # type: ignore[assignment]
        return decoded

    def __getitem__(self, key: str) -> _V:
        try:
            value = self._redis.hget(self._key, key)
        except StateUnavailable:
            raise unavailable() from None
        if value is None:
            raise KeyError(key)
        return self._decode(value)

    def __setitem__(self, key: str, value: _V) -> None:
        encoded = value if self._raw else orjson.dumps(value)
        try:
            self._redis.hset(self._key, key, encoded)  # type: ignore[arg-type]
        except StateUnavailable:
            raise unavailable() from None

    def __delitem__(self, key: str) -> None:
        try:
            removed = self._redis.hdel(self._key, key)
        except StateUnavailable:
            raise unavailable() from None
        if not removed:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        try:
            keys = self._redis.hkeys(self._key)
        except StateUnavailable:
            raise unavailable() from None
        return iter([key.decode() if isinstance(key, bytes) else key for key in keys])

    def __len__(self) -> int:
        try:
            return int(self._redis.hlen(self._key))
        except StateUnavailable:
            raise unavailable() from None


class SharedStores(MutableMapping[str, ResourceStore]):
    """One :class:`SharedResourceStore` per key (a fine-tuning job's events), made on first use."""

    def __init__(self, location: RedisLocation, sync: redis.Redis, name: str) -> None:
        self._location = location
        self._redis = sync
        self._name = name
        self._index = SharedMap[int](location, sync, f"{name}:index")

    def store(self, key: str) -> SharedResourceStore:
        """The store of ``key`` (created, empty, if there is none)."""
        self._index[key] = 1
        return SharedResourceStore(self._location, self._redis, f"{self._name}:{key}")

    def __getitem__(self, key: str) -> ResourceStore:
        if key not in self._index:
            raise KeyError(key)
        return SharedResourceStore(self._location, self._redis, f"{self._name}:{key}")

    def __setitem__(self, key: str, value: ResourceStore) -> None:
        target = self.store(key)
        target.clear()
        for item in value:
            target.add(item)

    def __delitem__(self, key: str) -> None:
        self[key].clear()
        del self._index[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


def _object(raw: bytes | str) -> Item:
    item: Item = orjson.loads(raw)
    return item
