"""The SSE decoder: spec rules, and the same events whatever the chunking and line endings (hypothesis)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from client._sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def test_data_lines_are_joined_and_one_space_stripped() -> None:
    events = decode(b"data: a\ndata:b\ndata:  c\n\n")
    assert events == [ServerSentEvent(data=b"a\nb\n c")]


def test_event_id_retry_and_comments() -> None:
    events = decode(b": keep-alive\nevent: response.created\nid: 7\nretry: 1500\ndata: {}\n\ndata: x\n\n")
    assert events[0] == ServerSentEvent(data=b"{}", event="response.created", id="7", retry=1500)
    assert events[1] == ServerSentEvent(data=b"x", event=None, id="7", retry=None)


def test_cr_at_a_chunk_boundary_followed_by_lf_is_one_line_ending() -> None:
    assert decode(b"data: a\r", b"\n\r", b"\n") == [ServerSentEvent(data=b"a")]


def test_lone_cr_line_endings() -> None:
    assert decode(b"data: a\rdata: b\r\rdata: c\r\r") == [ServerSentEvent(data=b"a\nb"), ServerSentEvent(data=b"c")]


def test_bom_is_dropped_only_at_the_start_even_when_split() -> None:
    assert decode(b"\xef\xbb", b"\xbfdata: a\n\n") == [ServerSentEvent(data=b"a")]
    assert decode(b"data: \xef\xbb\xbfa\n\n") == [ServerSentEvent(data="\ufeffa".encode())]


def test_field_without_colon_and_unknown_fields() -> None:
    assert decode(b"data\nfoo: bar\n\n") == [ServerSentEvent(data=b"")]


def test_event_without_data_is_not_dispatched() -> None:
    assert decode(b"event: ping\n\ndata: x\n\n") == [ServerSentEvent(data=b"x")]


def test_unterminated_last_event_is_discarded() -> None:
    assert decode(b"data: a\n\ndata: b") == [ServerSentEvent(data=b"a")]


def test_invalid_retry_and_id_with_nul_are_ignored() -> None:
    assert decode(b"retry: 1x\nid: a\x00b\ndata: a\n\n") == [ServerSentEvent(data=b"a")]


@dataclass(frozen=True)
class _Event:
    data: tuple[str, ...]
    event: str | None
    id: str | None


_line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12)
_events = st.lists(
    st.builds(
        _Event,
        data=st.lists(_line_text, min_size=1, max_size=3).map(tuple),
        event=st.none() | _line_text.filter(bool),
        id=st.none() | _line_text.filter(lambda text: "\x00" not in text),
    ),
    max_size=6,
)
_ENDINGS = ("\n", "\r", "\r\n")


@st.composite
def _encoded(draw: st.DrawFn, events: list[_Event]) -> bytes:
    lines: list[str] = []
    for event in events:
        if draw(st.booleans()):
            lines.append(": comment")
        if event.event is not None:
            lines.append(f"event: {event.event}")
        if event.id is not None:
            lines.append(f"id: {event.id}")
        for data in event.data:
            spaced = data.startswith(" ") or draw(st.booleans())
            lines.append(f"data: {data}" if spaced else f"data:{data}")
        lines.append("")
    text = ""
    previous = ""
    for line in lines:
        ending = draw(st.sampled_from(_ENDINGS))
        if previous == "\r" and line == "" and ending == "\n":
            ending = "\r\n"  # "\r" then an empty "\n" line would read as one CRLF
        text += line + ending
        previous = ending
    prefix = "\ufeff" if draw(st.booleans()) else ""
    return (prefix + text).encode()


def _expected(events: list[_Event]) -> list[ServerSentEvent]:
    expected = []
    last_id = None
    for event in events:
        if event.id is not None:
            last_id = event.id
        data = "\n".join(event.data).encode()
        expected.append(ServerSentEvent(data=data, event=event.event, id=last_id))
    return expected


@settings(max_examples=100, deadline=None)
@given(data=st.data(), events=_events)
def test_any_events_any_chunking_any_line_endings(data: st.DataObject, events: list[_Event]) -> None:
    body = data.draw(_encoded(events))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=8)))
    chunks = [body[start:end] for start, end in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    assert decode(*chunks) == _expected(events)


@settings(max_examples=40, deadline=None)
@given(events=_events)
def test_byte_at_a_time_matches_whole_body(events: list[_Event]) -> None:
    body = b"".join(
        (f"data: {line}\n".encode() for event in events for line in event.data),
    )
    whole = decode(body + b"\n")
    assert decode(*[bytes([byte]) for byte in body + b"\n"]) == whole
