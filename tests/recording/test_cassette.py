"""Cassettes: a corrupt or hand-edited one names the file, the place and the problem; writing is atomic, even when
the writer is killed; secrets never reach the file; matching ignores key order and the ignored fields, replays
identical requests in recorded order and names the closest recording when nothing matches."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mockserver.cli.main import main
from mockserver.recording import Cassette, CassetteError, Interaction, load_cassette, save_cassette
from mockserver.recording.cassette import REDACTED, cassette_text, dump_cassette, dump_interaction
from mockserver.recording.matching import IncomingRequest, Match, Miss, RequestPool

GOOD = """\
version: 1
interactions:
- request:
    method: POST
    path: /v1/chat/completions
    headers:
      content-type: application/json
    json: {model: gpt-4o, messages: [{role: user, content: hi}], metadata: {trace: a}}
  response:
    status: 200
    headers_ms: 5.0
    events:
    - {at_ms: 10.0, data: {id: one}}
    - {at_ms: 12.5, text: '[DONE]'}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cassette.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


_RESPONSE = "interactions.0.response"
EDITS = [
    (
        ("status: 200", "status: two hundred"),
        f"{_RESPONSE}.status (line 10): Input should be a valid integer, unable to parse string as an integer",
    ),
    (
        ("at_ms: 12.5", "at_ms: 8"),
        f"{_RESPONSE} (line 10): Value error, events: at_ms goes back in time (10.0 then 8.0)",
    ),
    (
        ("path: /v1/chat/completions", "path: v1/chat"),
        "interactions.0.request.path (line 5): String should match pattern '^/'",
    ),
    (
        ("text: '[DONE]'", "text: '[DONE]', data: 1"),
        f"{_RESPONSE}.events.1 (line 14): Value error, an event has exactly one of data (JSON) and text",
    ),
    (
        ("headers_ms: 5.0", "headers_ms: 5.0\n    json: {a: 1}"),
        f"{_RESPONSE} (line 10): Value error, a response has either a body or events, not both",
    ),
    (("version: 1", "version: 2"), "version (line 1): Input should be 1"),
    (
        ("    method: POST\n", "    method: POST\n    mehtod: GET\n"),
        "interactions.0.request.mehtod (line 5): Extra inputs are not permitted",
    ),
]


@pytest.mark.parametrize(("edit", "problem"), EDITS)
def test_a_hand_edited_cassette_names_file_place_and_problem(
    tmp_path: Path, edit: tuple[str, str], problem: str
) -> None:
    path = write(tmp_path, GOOD.replace(*edit))
    with pytest.raises(CassetteError) as raised:
        load_cassette(path)
    assert str(raised.value) == f"{path}: {problem}"


def test_broken_yaml_and_the_wrong_top_level_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("json: {model", "json: {{model"))
    with pytest.raises(
        CassetteError, match=rf"^{path}: line 9, column 3: not valid YAML: did not find expected ',' or '}}'"
    ):
        load_cassette(path)
    path = write(tmp_path, "- just a list\n")
    with pytest.raises(
        CassetteError, match="expected a mapping with 'version' and 'interactions' at the top, got list"
    ):
        load_cassette(path)


def test_serve_refuses_a_corrupt_cassette_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD.replace("status: 200", "status: 999"))
    assert main(["serve", "--cassettes", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"mockserver: {path}: interactions.0.response.status (line 10): Input should be less than or equal to 599\n"
    )


def test_save_then_load_is_the_same_cassette_with_stable_key_order(tmp_path: Path) -> None:
    cassette = load_cassette(write(tmp_path, GOOD))
    path = tmp_path / "copy.yaml"
    save_cassette(path, cassette)
    assert load_cassette(path) == cassette
    text = path.read_text(encoding="utf-8")
    assert text.index("method:") < text.index("path:") < text.index("json:")
    assert text.index("status:") < text.index("headers_ms:") < text.index("events:")
    save_cassette(path, cassette)
    assert path.read_text(encoding="utf-8") == text  # the same cassette, the same bytes


def test_secrets_left_in_any_value_are_written_redacted(tmp_path: Path) -> None:
    cassette = load_cassette(write(tmp_path, GOOD.replace("content: hi", "content: my key is sk-secret-123")))
    path = tmp_path / "out.yaml"
    save_cassette(path, cassette, secrets=["sk-secret-123"])
    text = path.read_text(encoding="utf-8")
    assert "sk-secret-123" not in text
    assert f"my key is {REDACTED}" in text


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, GOOD)
    before = path.read_text(encoding="utf-8")

    def fail(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save_cassette(path, Cassette())
    assert path.read_text(encoding="utf-8") == before
    assert sorted(item.name for item in tmp_path.iterdir()) == ["cassette.yaml"]


_WRITER = """
import sys
from pathlib import Path
from mockserver.recording import load_cassette, save_cassette, Cassette
source = load_cassette(Path(sys.argv[1]))
big = Cassette(interactions=source.interactions * 400)
small = Cassette(interactions=source.interactions)
print("ready", flush=True)
while True:
    save_cassette(Path(sys.argv[2]), big)
    save_cassette(Path(sys.argv[2]), small)
"""


def test_readers_and_a_killed_writer_only_ever_see_whole_cassettes(tmp_path: Path) -> None:
    """A process rewrites a cassette in a loop (a large version, then a small one). Meanwhile the file is read
    again and again, then the writer is killed (SIGKILL) at different moments: every read, and the file left,
    is one of the two whole versions, never part of one."""
    source = write(tmp_path, GOOD)
    interactions = load_cassette(source).interactions
    whole = {
        dump_cassette(Cassette(interactions=interactions * 400)),
        dump_cassette(Cassette(interactions=interactions)),
    }
    target = tmp_path / "out" / "target.yaml"
    for attempt in range(3):
        process = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(source), str(target)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
            deadline = time.monotonic() + 30
            while not target.exists():  # the first version is written
                assert time.monotonic() < deadline, "the writer wrote no cassette in 30 s"
                time.sleep(0.005)
            for _ in range(100 + 50 * attempt):
                assert target.read_text(encoding="utf-8") in whole
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=20)
            if process.stdout is not None:
                process.stdout.close()
        assert target.read_text(encoding="utf-8") in whole


def _incoming(body: bytes, *, method: str = "POST", path: str = "/v1/chat/completions") -> IncomingRequest:
    return IncomingRequest(method, path, "", {"content-type": "application/json"}, body)


def _pool(tmp_path: Path, *, ignored: tuple[str, ...] = (), copies: int = 1) -> tuple[RequestPool, list[Interaction]]:
    cassette = load_cassette(write(tmp_path, GOOD))
    interactions = []
    pool = RequestPool(ignored=ignored)
    for index in range(copies):
        events = cassette.interactions[0].response.events or ()
        response = cassette.interactions[0].response.model_copy(update={"events": events[:1] * (index + 1)})
        interaction = cassette.interactions[0].model_copy(update={"response": response})
        interactions.append(interaction)
        pool.add(interaction, f"cassette.yaml, interaction {index}")
    return pool, interactions


def test_key_order_does_not_matter_and_identical_requests_replay_in_recorded_order(tmp_path: Path) -> None:
    pool, interactions = _pool(tmp_path, copies=2)
    body = b'{"metadata": {"trace": "a"}, "messages": [{"content": "hi", "role": "user"}], "model": "gpt-4o"}'
    assert pool.take(_incoming(body)) == Match(interactions[0], "cassette.yaml, interaction 0")
    assert pool.take(_incoming(body)) == Match(interactions[1], "cassette.yaml, interaction 1")
    left = pool.take(_incoming(body))
    assert left == Miss(
        "No recorded answer left for POST /v1/chat/completions: it was recorded 2 time(s) and each recorded answer "
        "has been replayed (record it again to add answers)."
    )


def test_ignored_fields_do_not_count(tmp_path: Path) -> None:
    body = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "metadata": {"trace": "b"}}'
    strict, _ = _pool(tmp_path)
    assert isinstance(strict.take(_incoming(body)), Miss)
    lenient, _ = _pool(tmp_path, ignored=("metadata.trace",))
    assert isinstance(lenient.take(_incoming(body)), Match)


def test_a_miss_names_the_closest_recording_and_how_it_differs(tmp_path: Path) -> None:
    pool, _ = _pool(tmp_path)
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "metadata": {"trace": "a"}}'
    miss = pool.take(_incoming(body))
    assert miss == Miss(
        "No recorded request matches POST /v1/chat/completions. The closest recorded request (cassette.yaml, "
        "interaction 0) differs: body.model: recorded 'gpt-4o', got 'gpt-4o-mini'."
    )
    miss = pool.take(_incoming(b"", method="GET", path="/v1/models"))
    assert isinstance(miss, Miss)
    assert "method: recorded POST, got GET; path: recorded /v1/chat/completions, got /v1/models" in miss.message


def test_a_multipart_body_matches_whatever_its_boundary(tmp_path: Path) -> None:
    def multipart(boundary: str) -> IncomingRequest:
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--{boundary}--\r\n'
        ).encode()
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        return IncomingRequest("POST", "/v1/files", "", headers, body)

    recorded = multipart("aaaa1111")
    request = {
        "method": "POST",
        "path": "/v1/files",
        "headers": {"content-type": recorded.content_type},
        "text": recorded.raw.decode(),
    }
    interaction = Interaction.model_validate({"request": request, "response": {"status": 200, "json": {"id": "f"}}})
    pool = RequestPool()
    pool.add(interaction, "files")
    assert isinstance(pool.take(multipart("bbbb2222")), Match)


def test_a_cassette_written_one_interaction_at_a_time_is_the_cassette_written_whole(tmp_path: Path) -> None:
    cassette = load_cassette(write(tmp_path, GOOD.replace("content: hi", "content: 'two\\n  lines: yes'")))
    doubled = Cassette(interactions=cassette.interactions * 2)
    pieces = [dump_interaction(interaction) for interaction in doubled.interactions]
    assert cassette_text(pieces) == dump_cassette(doubled)
    assert cassette_text([]) == dump_cassette(Cassette())
