"""The plugin's fixtures and marker, exercised through a downstream-style test module run by ``pytester``."""

from __future__ import annotations

import os

import pytest

from mockserver.pytest_plugin.session_environment import FAKE_VARIABLES

ENVIRONMENT = (*FAKE_VARIABLES, "AZURE_OPENAI_AD_TOKEN")

FIXTURES_MODULE = """
import os
import threading

import httpx
import openai

SEEN = {}


def server_threads(exclude=()):
    return [t for t in threading.enumerate() if t.name.startswith("mockserver:") and t not in exclude]


# pytester runs this module in the outer test process, where other tests' servers may be running
OUTER_SERVERS = frozenset(server_threads())


def test_unused_plugin_starts_no_server():
    assert server_threads(exclude=OUTER_SERVERS) == []


async def test_inprocess_needs_no_server(mock_openai_inprocess):
    async with mock_openai_inprocess.openai_client() as client:
        assert (await client.models.retrieve("gpt-4o")).id == "gpt-4o"
    assert server_threads(exclude=OUTER_SERVERS) == []


async def test_sdk_with_no_arguments_reaches_the_fake(mock_openai, mock_openai_base_url, mock_openai_server):
    assert mock_openai.base_url == mock_openai_base_url == mock_openai_server.base_url
    assert os.environ["OPENAI_BASE_URL"] == mock_openai_base_url
    assert os.environ["OPENAI_API_KEY"] == mock_openai.api_key == "sk-mock-openai"
    async with openai.AsyncOpenAI() as client:
        models = await client.models.list()
    assert "gpt-4o" in [model.id for model in models.data]
    [attempt] = mock_openai.attempts("/v1/models")
    assert attempt.method == "GET"
    assert mock_openai.last_headers("/models")["authorization"] == "Bearer ***enai"  # redacted: scheme and last four
    assert mock_openai.client_disconnected() is False
    SEEN["url"] = mock_openai_base_url


def test_environment_points_at_the_fake_all_session_and_journal_reset(mock_openai_server):
    assert os.environ["OPENAI_BASE_URL"] == SEEN["url"]  # set before any module was imported, kept all session
    assert mock_openai_server.base_url == SEEN["url"]  # one server for the session
    assert mock_openai_server.state.journal.entries() == []


def test_base_url_fixture_alone(mock_openai_base_url):
    response = httpx.get(mock_openai_base_url + "/models", headers={"Authorization": "Bearer sk-x"})
    assert response.status_code == 200
    assert os.environ["OPENAI_BASE_URL"] == mock_openai_base_url


def test_journal_questions_name_what_is_missing(mock_openai):
    try:
        mock_openai.last_request("/v1/chat/completions", method="post")
    except AssertionError as exc:
        assert str(exc) == "the fake OpenAI server received no request for POST /v1/chat/completions"
    else:
        raise AssertionError("expected an AssertionError")
"""


def test_fixtures_point_clients_at_one_reset_server(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_downstream=FIXTURES_MODULE)
    before = {name: os.environ.get(name) for name in ENVIRONMENT}
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=6)
    assert {name: os.environ.get(name) for name in ENVIRONMENT} == before  # the inner session put them back


MARKER_MODULE = """
import openai
import pytest

RULES = [
    {"match": {"path": "/v1/models"}, "action": {"type": "status", "status": 503, "retry_after_ms": 1}, "times": 2}
]


@pytest.mark.mock_openai(rules=RULES)
async def test_marker_rules_fail_twice_then_succeed(mock_openai):
    async with openai.AsyncOpenAI(max_retries=2) as client:
        client = client.with_options(timeout=5)
        models = await client.models.list()
    assert models.data
    assert [entry.status for entry in mock_openai.attempts("/v1/models")] == [503, 503, 200]
    assert [entry.headers["x-stainless-retry-count"] for entry in mock_openai.attempts("/models")] == ["0", "1", "2"]


@pytest.mark.mock_openai(rules=RULES)
async def test_marker_rules_survive_a_reset_in_the_test(mock_openai):
    mock_openai.reset()
    async with openai.AsyncOpenAI(max_retries=0) as client:
        with pytest.raises(openai.InternalServerError):
            await client.models.list()


async def test_unmarked_test_has_no_rules(mock_openai):
    async with openai.AsyncOpenAI(max_retries=0) as client:
        await client.models.list()
    assert [entry.status for entry in mock_openai.attempts("/v1/models")] == [200]


@pytest.mark.mock_openai(seed=11, latency={"ttft": 0.001})
def test_marker_seed_and_latency(mock_openai_server):
    assert mock_openai_server.state.config.seed == 11
    assert mock_openai_server.state.config.latency.ttft.value == 0.001


def test_seed_is_restored_after_a_marked_test(mock_openai_server):
    assert mock_openai_server.state.config == mock_openai_server.config


@pytest.mark.mock_openai(replies=["first canned"])
def test_marker_alone_patches_the_environment():
    import os
    assert os.environ["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")


@pytest.mark.mock_openai(seeed=1)
def test_misspelt_argument(mock_openai):
    pass


@pytest.mark.mock_openai(rules=[{"action": {"type": "status", "status": 200}}])
def test_bad_rule(mock_openai):
    pass


@pytest.mark.mock_openai(latency={"ttft": -1})
def test_bad_latency(mock_openai):
    pass


@pytest.mark.mock_openai(replies="not a list")
def test_bad_replies(mock_openai):
    pass
"""


def test_marker_configures_the_test_and_reports_bad_arguments(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_marked=MARKER_MODULE)
    result = inner.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=6, errors=4)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_misspelt_argument*",
            "@pytest.mark.mock_openai: unknown argument(s) seeed; "
            "expected cassette, latency, replay_speed, replies, rules, seed",
            "*ERROR at setup of test_bad_rule*",
            "@pytest.mark.mock_openai: rules.0.action.status.status: Input should be greater than or equal to 400",
            "*ERROR at setup of test_bad_latency*",
            "@pytest.mark.mock_openai: latency: invalid latency profile: ttft*greater than or equal to 0",
            "*ERROR at setup of test_bad_replies*",
            "@pytest.mark.mock_openai: replies: expected a list of texts, got 'not a list'",
        ]
    )
