"""What the proxy sends upstream and back: the request less hop-by-hop headers and the client's key, the query,
the upstream's headers, and a stream relayed event by event while the upstream is still sending."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from recording_support import settled_journal

from mockserver import MockServer, ServerConfig
from mockserver.faults.latency import LatencyProfile
from mockserver.recording import RecordingSettings, Upstream, load_cassette
from mockserver.recording.proxy import upstream_headers

UPSTREAM_KEY = "sk-upstream-forwarding-secret"


def proxy_config(upstream_url: str, record_to: Path | None = None) -> ServerConfig:
    upstream = Upstream(url=upstream_url, key=UPSTREAM_KEY)
    return ServerConfig(recording=RecordingSettings(unmatched="upstream", upstream=upstream, record_to=record_to))


@pytest.fixture
def real() -> Iterator[MockServer]:
    with MockServer(ServerConfig(seed=7, api_key=UPSTREAM_KEY)) as server:
        yield server


def test_hop_by_hop_headers_and_the_client_key_stay_behind(real: MockServer, tmp_path: Path) -> None:
    headers = {
        "Authorization": "Bearer sk-client-dummy",
        "Connection": "keep-alive, X-Connection-Only",
        "X-Connection-Only": "dropped",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "X-Passed-On": "yes",
        "OpenAI-Organization": "org-secret-organisation",
    }
    with MockServer(proxy_config(real.base_url, tmp_path / "c.yaml")) as proxy, httpx.Client() as http:
        url = f"{proxy.base_url}/fine_tuning/jobs"
        refused = http.get(url, params={"limit": "2"}, headers={**headers, "X-Mock-Fault": "429"})
        assert refused.status_code == 429  # the fault header is for the proxy: answered there, nothing forwarded
        response = http.get(url, params={"limit": "2"}, headers=headers)
    assert response.status_code == 200
    (seen,) = settled_journal(real)
    assert seen.path == "/v1/fine_tuning/jobs"
    assert seen.query == "limit=2"
    assert seen.headers["authorization"] == f"Bearer ***{UPSTREAM_KEY[-4:]}"  # the journal keeps the last four
    assert seen.headers["x-passed-on"] == "yes"
    for name in ("x-connection-only", "keep-alive", "te", "x-mock-fault"):
        assert name not in seen.headers, name
    assert seen.headers.get("connection") == "keep-alive"  # the proxy's own connection's, not the client's list
    # the upstream's own response headers come back (its id is replaced by the proxy's, which is journaled)
    assert response.headers["openai-version"] == "2020-10-01"
    assert response.headers["x-request-id"] == settled_journal(proxy)[1].request_id
    text = (tmp_path / "c.yaml").read_text(encoding="utf-8")
    assert "org-secret-organisation" not in text
    assert "sk-client-dummy" not in text
    assert UPSTREAM_KEY not in text
    assert load_cassette(tmp_path / "c.yaml").interactions[0].request.query == "limit=2"


async def test_a_stream_is_relayed_while_the_upstream_is_still_sending(tmp_path: Path) -> None:
    """The client has the first event while the upstream (a pause between events) is still in the middle of its
    stream: nothing waits for the whole. The client leaves early: the upstream sees its client go too."""
    slow = ServerConfig(seed=7, latency=LatencyProfile.parse({"itl": 0.2}), min_reply_tokens=20)
    with MockServer(slow) as upstream, MockServer(proxy_config(upstream.base_url, tmp_path / "c.yaml")) as proxy:
        async with openai.AsyncOpenAI(base_url=proxy.base_url, api_key="sk-dummy", max_retries=0) as sdk:
            stream = await sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            async with stream:
                async for _first in stream:
                    break
                (upstream_entry,) = upstream.journal
                assert upstream_entry.outcome == "in_progress"
                assert upstream_entry.events_sent < 5
        (gone,) = settled_journal(upstream)
        assert gone.outcome == "client_disconnected"
        assert settled_journal(proxy)[0].outcome == "client_disconnected"
    assert not (tmp_path / "c.yaml").exists()  # an exchange the client left is not recorded


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://api.openai.com/v1", {"authorization": "Bearer sk-up-0123456789"}),
        ("https://contoso.openai.azure.com/openai/v1", {"api-key": "sk-up-0123456789"}),
        ("http://127.0.0.1:9/v1", {"authorization": "Bearer sk-up-0123456789"}),
    ],
)
@pytest.mark.parametrize("client_credentials", [{"authorization": "Bearer sk-local"}, {"api-key": "local"}])
def test_the_upstream_decides_how_its_key_is_sent(
    url: str, sent: dict[str, str], client_credentials: dict[str, str]
) -> None:
    """The request goes on in OpenAI's form whatever the client spoke (Azure's path is already a /v1 one): an Azure
    upstream gets its key as ``api-key``, any other as a bearer token; the client's own credentials stay behind."""
    headers = upstream_headers(
        {"content-type": "application/json", **client_credentials}, Upstream(url=url, key="sk-up-0123456789")
    )
    assert {name: value for name, value in headers.items() if name in ("authorization", "api-key")} == sent
