"""Proxies and CA certificates from the environment, through a real forward proxy on loopback (tests/client/
forward_proxy.py): a request goes through the proxy when ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` names it
(plain forwarding for ``http``, a ``CONNECT`` tunnel for ``https``), bypasses it for a ``NO_PROXY`` host, and never
touches it with ``trust_env=False``. The ``https`` origin is the mock server behind a TLS front whose CA (trustme) is
trusted through ``SSL_CERT_FILE``, which ``trust_env=False`` ignores too (the ``https`` origin is then not trusted: the
call fails, and never reaches the proxy). The official SDK passes the same cases: it is the reference."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
import trustme
from forward_proxy import ForwardProxy, forward_proxy, tls_front

from client import APIConnectionError, AsyncOpenAI, DefaultAioHttpClient, HttpxTransport
from mockserver import MockServer

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
CLIENTS = ("httpx", "aiohttp", "openai-sdk")


@dataclass(frozen=True)
class Case:
    scheme: str
    #: environment variables set, by name; ``PROXY`` stands for the proxy's URL
    environment: dict[str, str]
    trust_env: bool
    #: requests the proxy must carry: a forward for ``http``, a tunnel for ``https``
    through_proxy: bool
    #: the call succeeds (else: the origin's certificate is not trusted, ``SSL_CERT_FILE`` being ignored)
    trusted: bool = True


CASES = {
    "http-proxy": Case("http", {"HTTP_PROXY": "PROXY"}, True, True),
    "https-proxy-connect": Case("https", {"HTTPS_PROXY": "PROXY"}, True, True),
    "all-proxy": Case("http", {"ALL_PROXY": "PROXY"}, True, True),
    "no-proxy-http": Case("http", {"HTTP_PROXY": "PROXY", "NO_PROXY": "127.0.0.1"}, True, False),
    "no-proxy-https": Case("https", {"HTTPS_PROXY": "PROXY", "NO_PROXY": "localhost,127.0.0.1"}, True, False),
    "trust-env-off-http": Case("http", {"HTTP_PROXY": "PROXY", "ALL_PROXY": "PROXY"}, False, False),
    "trust-env-off-https": Case("https", {"HTTPS_PROXY": "PROXY"}, False, False, trusted=False),
}
#: aiohttp's ``trust_env`` reads ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``NO_PROXY``, not ``ALL_PROXY``
_NOT_HONOURED = {("aiohttp", "all-proxy")}


@pytest.fixture(scope="module")
def certificates() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_tls(certificates: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificates.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, certificates: trustme.CA, tmp_path: Path) -> None:
    """No proxy variable but the case's; the test CA trusted through ``SSL_CERT_FILE``."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    ca_file = tmp_path / "ca.pem"
    certificates.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    async with forward_proxy() as running:
        yield running


def open_client(name: str, base_url: str, trust_env: bool) -> Any:
    if name == "openai-sdk":
        http_client = None if trust_env else openai.DefaultAsyncHttpxClient(trust_env=False)
        return openai.AsyncOpenAI(api_key="sk-test", base_url=base_url, max_retries=0, http_client=http_client)
    transport = HttpxTransport(trust_env=trust_env) if name == "httpx" else DefaultAioHttpClient(trust_env=trust_env)
    return AsyncOpenAI(api_key="sk-test", base_url=base_url, max_retries=0, http_client=transport)


@pytest.mark.usefixtures("clean_environment")
@pytest.mark.parametrize("client_name", CLIENTS)
@pytest.mark.parametrize("case_name", sorted(CASES))
async def test_proxy_from_the_environment(
    server: MockServer,
    server_tls: ssl.SSLContext,
    proxy: ForwardProxy,
    monkeypatch: pytest.MonkeyPatch,
    client_name: str,
    case_name: str,
) -> None:
    case = CASES[case_name]
    if (client_name, case_name) in _NOT_HONOURED:
        case = Case(case.scheme, case.environment, case.trust_env, through_proxy=False)
    for name, value in case.environment.items():
        monkeypatch.setenv(name, proxy.url if value == "PROXY" else value)
    async with tls_front(server.base_url, server_tls) as https_url:
        base_url = https_url if case.scheme == "https" else server.base_url
        client = open_client(client_name, base_url, case.trust_env)
        try:
            if case.trusted:
                page = await client.models.list()
                assert "gpt-4o" in [model.id async for model in page]
            else:
                connection_error = openai.APIConnectionError if client_name == "openai-sdk" else APIConnectionError
                with pytest.raises(connection_error) as failure:
                    await client.models.list()
                assert "CERTIFICATE_VERIFY_FAILED" in repr(failure.value.__cause__)
        finally:
            await client.close()
    origin = base_url.split("/")[2]
    if not case.through_proxy:
        assert proxy.carried == 0, (proxy.forwarded, proxy.tunnels)
    elif case.scheme == "http":
        assert proxy.forwarded == [origin]
        assert proxy.tunnels == []
    else:
        assert proxy.tunnels == [origin]
        assert proxy.forwarded == []
