"""Fixtures of the shared-state tests: one real ``redis-server`` per test session (per xdist worker), and a key
prefix of its own for every test, so tests never see each other's state."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from _redis_servers import RedisServer, redis_server


@pytest.fixture(scope="session")
def redis_instance() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_url(redis_instance: RedisServer, prefix: str) -> str:
    return redis_instance.url(prefix)
