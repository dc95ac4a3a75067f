"""Plugin settings: command-line options over ini keys, usage errors naming the bad value, the report header."""

from __future__ import annotations

import pytest

INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"

SETTINGS_MODULE = """
import openai
import pytest


def test_settings_reach_the_server(mock_openai_server, pytestconfig):
    config = mock_openai_server.config
    expected = pytestconfig.getini("expected").split()
    rules = [rule.action.type for rule in config.rules]
    assert [str(config.seed), config.api_key, str(config.journal_size), config.mode, *rules] == expected


async def test_configured_key_is_required_and_given(mock_openai):
    async with openai.AsyncOpenAI() as client:
        assert (await client.models.list()).data
    async with openai.AsyncOpenAI(api_key="sk-wrong", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()
"""


def _project(pytester: pytest.Pytester, ini_settings: str, expected: str) -> None:
    pytester.makeini(INI + ini_settings)
    pytester.makeconftest(
        f"""
        def pytest_addoption(parser):
            parser.addini("expected", "what the settings module expects", default={expected!r})
        """
    )
    pytester.makepyfile(test_settings=SETTINGS_MODULE)


def test_ini_settings_apply(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        "mock_openai_seed = 3\nmock_openai_api_key = sk-from-ini\nmock_openai_journal_size = 50\n"
        "mock_openai_mode = echo",
        expected="3 sk-from-ini 50 echo",
    )
    result = pytester.runpytest_inprocess()
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "mock_openai: http://127.0.0.1:<free port>/v1 per worker, started on first use; seed=3, mode=echo, "
            "api_key=required, journal_size=50"
        ]
    )


def test_command_line_wins_over_ini(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        "mock_openai_seed = 3\nmock_openai_api_key = sk-from-ini\nmock_openai_journal_size = 50",
        expected="4 sk-from-cli 7 generate",
    )
    result = pytester.runpytest_inprocess(
        "--mock-openai-seed=4", "--mock-openai-api-key", "sk-from-cli", "--mock-openai-journal-size=7"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["mock_openai: *seed=4, mode=generate, api_key=required, journal_size=7"])


def test_config_file_is_the_base_and_options_override_it(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", server="seed: 9\nmode: echo\napi_key: sk-from-file\njournal_size: 20\n")
    _project(pytester, "mock_openai_config = server.yaml", expected="9 sk-from-file 5 echo")
    result = pytester.runpytest_inprocess("--mock-openai-journal-size=5")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["mock_openai: *seed=9, mode=echo, api_key=required, journal_size=5, config=server.yaml"]
    )


def test_default_header_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    result = pytester.runpytest_inprocess("--collect-only")
    result.stdout.fnmatch_lines(
        [
            "mock_openai: http://127.0.0.1:<free port>/v1 per worker, started on first use; seed=0, mode=generate, "
            "api_key=any accepted, journal_size=10000"
        ]
    )


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--mock-openai-seed=abc"], "", "ERROR: --mock-openai-seed: expected an integer, got 'abc'"),
        (
            [],
            "mock_openai_journal_size = -1",
            "ERROR: mock_openai_journal_size (ini): expected an integer >= 0, got '-1'",
        ),
        (
            ["--mock-openai-mode", "shout"],
            "mock_openai_mode = echo",
            "ERROR: --mock-openai-mode: expected 'generate' or 'echo', got 'shout'",
        ),
        (["--mock-openai-api-key="], "", "ERROR: --mock-openai-api-key: expected a non-empty key, got ''"),
        (["--mock-openai-config=missing.yaml"], "", "ERROR: mock_openai: missing.yaml: cannot read: *"),
        ([], "mock_openai_scenario = absent.json", "ERROR: mock_openai: absent.json*"),
    ],
)
def test_bad_values_are_usage_errors(pytester: pytest.Pytester, args: list[str], ini: str, message: str) -> None:
    pytester.makeini(INI + ini)
    pytester.makepyfile("def test_never_runs(): raise AssertionError")
    result = pytester.runpytest_inprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
