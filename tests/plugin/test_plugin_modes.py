"""The plugin under pytest-asyncio's strict and auto modes, and under pytest-xdist (a server per worker)."""

from __future__ import annotations

import pytest

ASYNC_MODULE = """
import openai
import pytest


@pytest.mark.asyncio
async def test_marked_async_test(mock_openai):
    async with openai.AsyncOpenAI(max_retries=0) as client:
        page = await client.models.list()
    assert page.data
    assert len(mock_openai.attempts("/v1/models")) == 1


@pytest.fixture
def sdk_base_url(mock_openai):
    return mock_openai.base_url


@pytest.mark.asyncio
async def test_sync_fixture_chain_from_an_async_test(sdk_base_url, mock_openai_base_url):
    assert sdk_base_url == mock_openai_base_url
"""


def test_asyncio_strict_mode(inner_strict: pytest.Pytester) -> None:
    inner_strict.makepyfile(test_async=ASYNC_MODULE)
    inner_strict.runpytest_inprocess().assert_outcomes(passed=2)


def test_asyncio_auto_mode(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_async=ASYNC_MODULE.replace("@pytest.mark.asyncio\n", ""))
    inner.runpytest_inprocess().assert_outcomes(passed=2)


XDIST_MODULE = """
import os
import pathlib

import httpx
import pytest


@pytest.mark.parametrize("n", range(3))
def test_each_worker_has_its_own_server(mock_openai, n):
    response = httpx.get(mock_openai.base_url + "/models", headers={"Authorization": "Bearer sk-x"})
    assert response.status_code == 200
    assert len(mock_openai.attempts("/v1/models")) == 1  # reset per test, and no other worker's traffic
    out = pathlib.Path(os.environ["URLS_DIR"]) / f"{os.environ['PYTEST_XDIST_WORKER']}-{n}.txt"
    out.write_text(mock_openai.base_url)
"""


def test_xdist_workers_get_one_server_each(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    urls_dir = pytester.mkdir("urls")
    monkeypatch.setenv("URLS_DIR", str(urls_dir))
    # three fresh interpreters (controller and two workers): load only the plugins this run needs
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(test_workers=XDIST_MODULE)
    result = pytester.runpytest_subprocess(
        "-p", "xdist.plugin", "-p", "mockserver.pytest_plugin", "-n", "2", "--dist", "each", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=6)
    by_worker: dict[str, set[str]] = {}
    for path in urls_dir.iterdir():
        by_worker.setdefault(path.stem.split("-")[0], set()).add(path.read_text())
    assert sorted(by_worker) == ["gw0", "gw1"]
    assert all(len(urls) == 1 for urls in by_worker.values())  # one server per worker for the whole session
    assert by_worker["gw0"] != by_worker["gw1"]
