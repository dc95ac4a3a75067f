"""``/v1/files`` through the official SDK (both transports) and raw multipart requests."""

from __future__ import annotations

import unicodedata

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai.types import FileObject

from mockserver import MockServer
from mockserver.endpoints.files import safe_filename

JSONL = b'{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n'


def multipart(filename: str, content: bytes, purpose: str | None = "batch") -> tuple[bytes, dict[str, str]]:
    """A hand-built multipart body, so the filename reaches the server byte for byte (no client escaping)."""
    boundary = "mockserverboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    ]
    if purpose is not None:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'.encode())
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_upload_retrieve_content_delete(sdk: openai.AsyncOpenAI, server: MockServer) -> None:
    uploaded = await sdk.files.create(file=("train.jsonl", JSONL), purpose="fine-tune")
    assert uploaded.id.startswith("file-")
    assert (uploaded.object, uploaded.filename, uploaded.purpose) == ("file", "train.jsonl", "fine-tune")
    assert uploaded.bytes == len(JSONL)
    assert uploaded.status == "processed"
    assert 0 < uploaded.created_at <= server.state.now()

    assert await sdk.files.retrieve(uploaded.id) == uploaded
    content = await sdk.files.content(uploaded.id)
    assert content.content == JSONL

    deleted = await sdk.files.delete(uploaded.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (uploaded.id, "file", True)
    assert uploaded.id not in server.state.file_contents
    with pytest.raises(openai.NotFoundError) as caught:
        await sdk.files.retrieve(uploaded.id)
    assert caught.value.body == {
        "message": f"No such File object: {uploaded.id}",
        "type": "invalid_request_error",
        "param": "id",
        "code": None,
    }


async def test_plain_bytes_upload_gets_a_fallback_name(sdk: openai.AsyncOpenAI) -> None:
    uploaded = await sdk.files.create(file=b"just bytes", purpose="user_data")
    assert uploaded.filename == "upload"
    assert uploaded.bytes == len(b"just bytes")
    assert (await sdk.files.content(uploaded.id)).content == b"just bytes"


async def test_unknown_file_is_404_everywhere(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        await sdk.files.retrieve("file-nope")
    with pytest.raises(openai.NotFoundError):
        await sdk.files.delete("file-nope")
    with pytest.raises(openai.NotFoundError):
        await sdk.files.content("file-nope")


async def test_list_newest_first_by_default_and_every_page(sdk: openai.AsyncOpenAI) -> None:
    created = [(await sdk.files.create(file=(f"f{i}.jsonl", b"x" * i), purpose="batch")).id for i in range(5)]
    first = await sdk.files.list(limit=2)
    assert [f.id for f in first.data] == created[::-1][:2]
    assert first.has_more
    assert [f.id async for f in sdk.files.list(limit=2)] == created[::-1]
    assert [f.id async for f in sdk.files.list(limit=3, order="asc")] == created


async def test_list_filters_by_purpose(sdk: openai.AsyncOpenAI) -> None:
    tune = (await sdk.files.create(file=("a.jsonl", JSONL), purpose="fine-tune")).id
    await sdk.files.create(file=("b.jsonl", JSONL), purpose="batch")
    tune2 = (await sdk.files.create(file=("c.jsonl", JSONL), purpose="fine-tune")).id
    assert [f.id async for f in sdk.files.list(purpose="fine-tune", limit=1)] == [tune2, tune]
    assert [f.id async for f in sdk.files.list(purpose="vision")] == []


def test_list_body_has_first_last_ids(http: httpx.Client) -> None:
    ids = [http.post("/files", files={"file": ("a", b"1")}, data={"purpose": "user_data"}).json()["id"] for _ in "ab"]
    body = http.get("/files", params={"limit": 1}).json()
    assert body["data"][0]["id"] == ids[1]
    assert body == {"object": "list", "data": body["data"], "first_id": ids[1], "last_id": ids[1], "has_more": True}
    empty = http.get("/files", params={"after": ids[0]}).json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"limit": 0}, "limit", "invalid_value"),
        ({"limit": 10_001}, "limit", "invalid_value"),
        ({"limit": "ten"}, "limit", "invalid_type"),
        ({"order": "sideways"}, "order", "invalid_value"),
    ],
)
def test_bad_list_queries_are_400(http: httpx.Client, params: dict[str, str | int], param: str, code: str) -> None:
    response = http.get("/files", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param
    assert response.json()["error"]["code"] == code


def test_missing_file_or_purpose_is_missing_required_parameter(http: httpx.Client) -> None:
    no_file = http.post("/files", data={"purpose": "batch"}, files={"other": ("x", b"1")})
    assert no_file.status_code == 400
    assert no_file.json()["error"] == {
        "message": "Missing required parameter: 'file'.",
        "type": "invalid_request_error",
        "param": "file",
        "code": "missing_required_parameter",
    }
    body, headers = multipart("a.jsonl", b"1", purpose=None)
    no_purpose = http.post("/files", content=body, headers=headers)
    assert no_purpose.status_code == 400
    assert no_purpose.json()["error"]["param"] == "purpose"
    assert no_purpose.json()["error"]["code"] == "missing_required_parameter"


def test_json_body_instead_of_multipart_is_missing_file(http: httpx.Client) -> None:
    response = http.post("/files", json={"purpose": "batch"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"


def test_file_sent_as_plain_field_is_invalid_type(http: httpx.Client) -> None:
    response = http.post("/files", data={"file": "not a file", "purpose": "batch"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"
    assert response.json()["error"]["code"] == "invalid_type"


async def test_unknown_purpose_is_400(sdk: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.files.create(file=("a.jsonl", b"1"), purpose="homework")  # type: ignore[arg-type]
    assert caught.value.param == "purpose"
    assert caught.value.code == "invalid_value"


@pytest.mark.parametrize("purpose", ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"])
def test_every_documented_purpose_is_accepted(http: httpx.Client, purpose: str) -> None:
    response = http.post("/files", files={"file": ("a.bin", b"\x00\x01")}, data={"purpose": purpose})
    assert response.status_code == 200
    assert response.json()["purpose"] == purpose
    assert response.json()["bytes"] == 2


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\x.dll", "x.dll"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("a\x01b\x1fc\x7f.txt", "abc.txt"),
        ("..", "upload"),
        ("dir/..", "upload"),
        (".\x00.", "upload"),
        ("", "upload"),
        ("  spaced name.txt  ", "spaced name.txt"),
        ("r\u202eevil.txt", "revil.txt"),
        ("übung.jsonl", "übung.jsonl"),
    ],
)
def test_stored_filename_is_a_safe_basename(http: httpx.Client, sent: str, stored: str) -> None:
    body, headers = multipart(sent, b"data")
    response = http.post("/files", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == stored
    assert response.json()["bytes"] == 4


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_safe_filename_never_escapes(raw: str) -> None:
    name = safe_filename(raw)
    assert name not in ("", ".", "..")
    assert "/" not in name
    assert "\\" not in name
    assert all(unicodedata.category(ch)[0] != "C" for ch in name)
    assert len(name) <= 255
    assert name == safe_filename(name)


def test_batch_files_expire_after_thirty_days_by_default(http: httpx.Client) -> None:
    item = http.post("/files", files={"file": ("b.jsonl", b"{}")}, data={"purpose": "batch"}).json()
    assert item["expires_at"] == item["created_at"] + 30 * 24 * 3600
    kept = http.post("/files", files={"file": ("u.txt", b"{}")}, data={"purpose": "user_data"}).json()
    assert kept["expires_at"] is None


async def test_expires_after_is_honoured_and_validated(sdk: openai.AsyncOpenAI) -> None:
    item = await sdk.files.create(
        file=("a.txt", b"1"), purpose="user_data", expires_after={"anchor": "created_at", "seconds": 7200}
    )
    assert item.expires_at == item.created_at + 7200
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk.files.create(
            file=("a.txt", b"1"), purpose="user_data", expires_after={"anchor": "created_at", "seconds": 10}
        )
    assert caught.value.param == "expires_after.seconds"


def test_bodies_validate_against_the_sdk_type(http: httpx.Client) -> None:
    item = http.post("/files", files={"file": ("a.jsonl", JSONL)}, data={"purpose": "fine-tune"}).json()
    assert FileObject.model_validate(item).id == item["id"]
    content = http.get(f"/files/{item['id']}/content")
    assert content.headers["content-type"] == "application/octet-stream"
    assert content.content == JSONL


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"garbage--", "multipart/form-data; boundary=zzz"),
        (b"--zzz\r\nbroken", "multipart/form-data"),
    ],
)
def test_unparseable_multipart_is_400(http: httpx.Client, content: bytes, content_type: str) -> None:
    response = http.post("/files", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("Could not parse the multipart form: ")


def test_two_files_in_one_upload_is_400(http: httpx.Client) -> None:
    response = http.post("/files", files=[("file", ("a", b"1")), ("file", ("b", b"2"))], data={"purpose": "batch"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=300), boundary=st.sampled_from(["zzz", "mockserverboundary", ""]))
def test_arbitrary_upload_bodies_never_cause_a_5xx(shared_http: httpx.Client, body: bytes, boundary: str) -> None:
    content_type = f"multipart/form-data; boundary={boundary}" if boundary else "multipart/form-data"
    response = shared_http.post("/files", content=body, headers={"Content-Type": content_type})
    assert 400 <= response.status_code < 500
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
