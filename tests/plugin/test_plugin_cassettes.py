"""``@pytest.mark.mock_openai(cassette=...)``: record once through a loopback upstream, replay with the upstream
gone, also two tests at once under pytest-xdist; what a missing, unrecordable or corrupt cassette does."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver import MockServer, ServerConfig

UPSTREAM_KEY = "sk-plugin-upstream-key-never-written"

RECORDED_TESTS = """
import json
import os

import openai
import pytest


async def _exchange(name):
    async with openai.AsyncOpenAI(max_retries=0) as sdk:
        reply = await sdk.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": name}}])
        stream = await sdk.chat.completions.create(
            model="gpt-4o", messages=[{{"role": "user", "content": name}}], stream=True
        )
        chunks = [chunk.model_dump() async for chunk in stream]
    out = os.path.join(os.environ["RECORDING_OUT"], f"{{name}}-{{os.environ['RECORDING_PHASE']}}.json")
    with open(out, "w") as handle:
        json.dump({{"reply": reply.model_dump(), "chunks": chunks}}, handle)


@pytest.mark.mock_openai(cassette="{name}")
async def test_{name}():
    await _exchange("{name}")
"""


@pytest.fixture
def upstream() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=7, api_key=UPSTREAM_KEY)) as server:
        yield server


def _files_with(root: Path, secret: str) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def test_record_once_under_xdist_then_replay_with_the_upstream_gone(
    inner: pytest.Pytester, upstream: MockServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two tests record their own cassettes at once in two xdist workers; then a plain run (mode ``none``, in
    this process) replays both with the upstream stopped and CI's key unrelated."""
    names = ("greeting", "farewell")
    inner.makepyfile(**{f"test_{name}": RECORDED_TESTS.format(name=name) for name in names})
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("OPENAI_API_KEY", UPSTREAM_KEY)
    # the inner run is a project of its own: an outer xdist worker's variables would make its controller look
    # like a worker (the plugin tells them apart by PYTEST_XDIST_WORKER)
    for name in [name for name in os.environ if name.startswith("PYTEST_XDIST_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECORDING_OUT", str(out))
    monkeypatch.setenv("RECORDING_PHASE", "recorded")
    recorded = inner.runpytest_subprocess(
        "-n", "2", "--dist", "loadfile", "-v",
        "--mock-openai-record-mode", "once", "--mock-openai-upstream", upstream.base_url,
    )  # fmt: skip
    recorded.assert_outcomes(passed=2)
    recorded.stdout.fnmatch_lines_random(["*gw0*PASSED*", "*gw1*PASSED*"])  # one test in each worker
    assert len(upstream.journal) == 4  # both tests reached the upstream, with its key
    assert {entry.headers["authorization"] for entry in upstream.journal} == {f"Bearer ***{UPSTREAM_KEY[-4:]}"}
    upstream.stop()

    monkeypatch.setenv("RECORDING_PHASE", "replayed")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ci-has-no-key")
    replayed = inner.runpytest_inprocess()  # the default mode: none
    replayed.assert_outcomes(passed=2)
    for name in names:
        assert (inner.path / "cassettes" / f"test_{name}" / f"{name}.yaml").is_file()
        recorded_exchange = json.loads((out / f"{name}-recorded.json").read_text())
        assert json.loads((out / f"{name}-replayed.json").read_text()) == recorded_exchange
        assert len(recorded_exchange["chunks"]) > 3
    assert _files_with(inner.path, UPSTREAM_KEY) == []


def test_a_missing_cassette_in_mode_none_fails_naming_it(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.mock_openai(cassette="absent")
        def test_it():
            pass
        """
    )
    result = inner.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    expected = inner.path / "cassettes" / "test_a_missing_cassette_in_mode_none_fails_naming_it" / "absent.yaml"
    result.stdout.fnmatch_lines(
        [f"*cassette {expected} does not exist; record it with --mock-openai-record-mode once*"]
    )


def test_recording_without_an_upstream_fails_saying_what_is_missing(inner: pytest.Pytester) -> None:
    inner.makepyfile(
        """
        import pytest

        @pytest.mark.mock_openai(cassette="new")
        def test_it():
            pass
        """
    )
    result = inner.runpytest_inprocess("--mock-openai-record-mode", "all")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*give the API to record from with --mock-openai-upstream URL*"])


def test_a_corrupt_cassette_fails_the_test_naming_file_and_place(inner: pytest.Pytester) -> None:
    cassette = inner.path / "cassettes" / "test_corrupt" / "broken.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("version: 1\ninteractions:\n- request: {method: GET, path: /v1/models}\n  response: {}\n")
    inner.makepyfile(
        test_corrupt="""
        import pytest

        @pytest.mark.mock_openai(cassette="broken")
        def test_it():
            pass
        """
    )
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{cassette}: interactions.0.response.status (line 4): Field required*"])


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ("cassette='../escape'", "cassette: expected a file name like 'chat', got '../escape'"),
        ("cassette='c', replay_speed=-1", "replay_speed: expected a number >= 0, got -1"),
    ],
)
def test_bad_cassette_arguments_are_named(inner: pytest.Pytester, marker: str, problem: str) -> None:
    inner.makepyfile(
        f"""
        import pytest

        @pytest.mark.mock_openai({marker})
        def test_it():
            pass
        """
    )
    result = inner.runpytest_inprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*@pytest.mark.mock_openai: {problem}*"])


def test_a_bad_record_mode_in_the_ini_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\nmock_openai_record_mode = sometimes\n")
    pytester.makepyfile("def test_it():\n    pass\n")
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mock_openai_record_mode (ini): expected one of none, once, new_episodes, all*"])
