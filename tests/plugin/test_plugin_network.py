"""Nothing leaves: the session's environment points clients at the fake before conftests are imported, the guard
fails lookups of OpenAI / Azure OpenAI hosts (and the real environment's base URL) naming the test, the opt-out
turns both off, ``mock_openai_respx`` refuses httpx2, and ``strict_models`` is a plugin switch."""

from __future__ import annotations

import os

import pytest

from mockserver.pytest_plugin.session_environment import FAKE_VARIABLES

INI = (
    "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    "asyncio_default_test_loop_scope = function\nfilterwarnings = error\n"
)

CONFTEST_BUILDS_A_CLIENT = """
import openai

# built while pytest loads this conftest: before pytest_configure, before any fixture
CLIENT_AT_IMPORT = openai.AsyncOpenAI()
AZURE_AT_IMPORT = openai.AsyncAzureOpenAI()
"""

GUARD_MODULE = """
import httpx
import openai
import pytest

from conftest import AZURE_AT_IMPORT, CLIENT_AT_IMPORT


async def test_clients_built_in_a_conftest_reach_the_fake(mock_openai):
    assert str(CLIENT_AT_IMPORT.base_url) == mock_openai.base_url + "/"
    completion = await CLIENT_AT_IMPORT.chat.completions.create(
        model="gpt-future", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content
    azure = await AZURE_AT_IMPORT.chat.completions.create(model="dep", messages=[{"role": "user", "content": "hi"}])
    assert azure.choices[0].message.content
    await CLIENT_AT_IMPORT.close()
    await AZURE_AT_IMPORT.close()


async def test_real_openai_with_httpx():
    async with httpx.AsyncClient() as client:
        await client.get("https://api.openai.com/v1/models")


def test_real_azure_with_sync_httpx():
    httpx.get("https://contoso.openai.azure.com/openai/deployments/x/chat/completions")


async def test_the_real_environments_gateway():
    async with openai.AsyncOpenAI(base_url="https://llm-gateway.corp.example/v1") as client:
        await client.models.list()


async def test_other_hosts_are_not_the_guards_business():
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get("http://127.0.0.1:9/")  # loopback, nothing listening: refused as usual
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # the environment the suite would have on a developer's machine
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "k3y" * 16)
    monkeypatch.setenv("OPENAI_BASE_URL", "https://llm-gateway.corp.example/v1")
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "eyJ-a-real-token")
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST_BUILDS_A_CLIENT)
    pytester.makepyfile(test_guard=GUARD_MODULE)
    return pytester


def test_guard_fails_real_hosts_at_once_naming_test_host_and_fix(project: pytest.Pytester) -> None:
    before = {name: os.environ.get(name) for name in FAKE_VARIABLES}
    result = project.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "mock_openai: network guard on (OpenAI and Azure OpenAI hosts); OPENAI_BASE_URL and "
            "AZURE_OPENAI_ENDPOINT point at http://127.0.0.1:* for the session",
            "mock_openai blocked a real network call: test test_guard.py::test_real_openai_with_httpx tried to "
            "reach api.openai.com:443 (through httpx); no DNS lookup and no connection were made. Point that client "
            "at the fake: build it without base_url / azure_endpoint (OPENAI_BASE_URL is http://127.0.0.1:*/v1 *"
            "--mock-openai-allow-network (ini: mock_openai_allow_network).",
            "*test test_guard.py::test_real_azure_with_sync_httpx tried to reach contoso.openai.azure.com:443*",
            "*test test_guard.py::test_the_real_environments_gateway tried to reach llm-gateway.corp.example:443 "
            "(through httpx2, openai 3.x's default)*",
        ]
    )
    assert "k3yk3y" not in result.stdout.str()
    assert {name: os.environ.get(name) for name in FAKE_VARIABLES} == before


def test_allow_network_turns_guard_and_environment_off(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_allowed="""
        import os


        def test_the_real_environment_is_left_alone():
            assert os.environ["OPENAI_BASE_URL"] == "https://llm-gateway.corp.example/v1"
            assert os.environ["AZURE_OPENAI_AD_TOKEN"] == "eyJ-a-real-token"
        """
    )
    for switch in (["--mock-openai-allow-network"], ["-o", "mock_openai_allow_network=true"]):
        result = project.runpytest_inprocess("-p", "no:randomly", "test_allowed.py", *switch)
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["mock_openai: network allowed (--mock-openai-allow-network)*"])


def test_respx_fixture_refuses_httpx2_with_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_respx="""
        import httpx
        import openai


        async def test_httpx_client_is_routed(mock_openai_respx):
            async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-x"}) as client:
                response = await client.get("https://api.openai.com/v1/models")
            assert response.status_code == 200


        async def test_openai_3_client_is_refused(mock_openai_respx):
            async with openai.AsyncOpenAI(base_url="https://api.openai.com/v1") as client:
                await client.models.list()
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "mock_openai_respx cannot route this request: it was sent with httpx2 (openai 3.x is built on httpx2), "
            "and respx patches httpx only. Use the mock_openai fixture*(request: GET https://api.openai.com/v1/models)"
        ]
    )


def test_strict_models_switch(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_models="""
        import openai
        import pytest

        MESSAGES = [{"role": "user", "content": "hi"}]


        async def test_models(mock_openai, pytestconfig):
            async with openai.AsyncOpenAI(max_retries=0) as client:
                assert (await client.chat.completions.create(model="gpt-4o", messages=MESSAGES)).choices
                strict = pytestconfig.getoption("mock_openai_strict_models")
                if strict or pytestconfig.getini("mock_openai_strict_models"):
                    with pytest.raises(openai.NotFoundError) as refused:
                        await client.chat.completions.create(model="gpt-next", messages=MESSAGES)
                    assert refused.value.code == "model_not_found"
                else:
                    assert (await client.chat.completions.create(model="gpt-next", messages=MESSAGES)).choices
        """
    )
    for switch in ([], ["--mock-openai-strict-models"], ["-o", "mock_openai_strict_models=true"]):
        pytester.runpytest_inprocess("-p", "no:randomly", *switch).assert_outcomes(passed=1)


def test_recording_lets_the_upstream_through_and_nothing_else(project: pytest.Pytester) -> None:
    """Recording from OpenAI itself is what the user asked for: its host is let through (the header says so); every
    other OpenAI or Azure host stays blocked. Without recording, nothing is let through."""
    project.makepyfile(
        test_recording="""
        import httpx
        import pytest


        def test_azure_is_still_blocked():
            with pytest.raises(BaseException, match="mock_openai blocked a real network call"):
                httpx.get("https://contoso.openai.azure.com/openai/models")
        """
    )
    upstream = ["--mock-openai-upstream", "https://api.openai.com/v1"]
    recording = project.runpytest_inprocess(
        "-p", "no:randomly", "test_recording.py", "--mock-openai-record-mode", "once", *upstream
    )
    recording.assert_outcomes(passed=1)
    recording.stdout.fnmatch_lines(["mock_openai: the guard lets through api.openai.com (recording from it)"])
    replaying = project.runpytest_inprocess("-p", "no:randomly", "test_recording.py", *upstream)
    replaying.assert_outcomes(passed=1)
    assert "the guard lets through" not in replaying.stdout.str()
