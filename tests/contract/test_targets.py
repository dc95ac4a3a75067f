"""Targets: built-in names, ``module:factory`` specs, and where a target's exception classes come from."""

from __future__ import annotations

import asyncio
import sys
import types

import openai
import pytest

import client
from contract_tests._targets import (
    BUILTIN_TARGETS,
    ErrorClasses,
    TargetError,
    load_target,
    resolve_targets,
    sdk_deviations,
)


def test_all_means_every_builtin_target() -> None:
    assert [target.name for target in resolve_targets("all")] == list(BUILTIN_TARGETS)
    assert BUILTIN_TARGETS == ("client-httpx", "client-aiohttp", "openai-httpx", "openai-aiohttp")
    assert [target.name for target in resolve_targets(" openai-httpx , client-aiohttp")] == [
        "openai-httpx",
        "client-aiohttp",
    ]


def test_builtin_targets_know_their_exception_classes_and_deviations() -> None:
    ours, sdk = load_target("client-httpx"), load_target("openai-aiohttp")
    assert ours.errors is not None
    assert sdk.errors is not None
    assert ours.errors.RateLimitError is client.RateLimitError
    assert sdk.errors.RateLimitError is openai.RateLimitError
    assert ours.deviations == {}
    assert set(sdk.deviations) == {"streaming.truncated_stream_raises"}


def test_status_classes_follow_the_sdk() -> None:
    errors = ErrorClasses.from_namespace(openai)
    assert errors.for_status(400) is openai.BadRequestError
    assert errors.for_status(422) is openai.UnprocessableEntityError
    assert errors.for_status(503) is openai.InternalServerError
    assert errors.for_status(408) is openai.APIStatusError
    assert errors.for_status(418) is openai.APIStatusError


def test_a_factory_spec_takes_exceptions_from_the_factory() -> None:
    target = load_target("broken_clients:retries_400")
    assert target.errors is not None
    assert target.errors.BadRequestError is client.BadRequestError


def test_a_factory_spec_falls_back_to_its_module_then_the_client_package(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("contract_fake_factories")

    def make(**options: object) -> object:
        return client.AsyncOpenAI(**options)  # type: ignore[arg-type]

    module.make = make  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "contract_fake_factories", module)
    target = load_target("contract_fake_factories:make")
    assert target.errors is None
    made = target.open(base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=1.0)
    try:
        assert target.error_classes(made).NotFoundError is client.NotFoundError
    finally:
        asyncio.run(made.close())


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("no-such-target", "unknown contract client"),
        ("no_such_module_xyz:factory", "cannot import"),
        ("broken_clients:nothing_here", "has no attribute"),
        ("broken_clients:BROKEN_CLIENTS", "not callable"),
    ],
)
def test_bad_specs_are_usage_errors(spec: str, problem: str) -> None:
    with pytest.raises(TargetError, match=problem):
        load_target(spec)


def test_sdk_deviations_follow_the_installed_release() -> None:
    assert set(sdk_deviations("3.60.0")) == {"streaming.truncated_stream_raises"}
    assert set(sdk_deviations("2.54.0")) == {"streaming.truncated_stream_raises", "streaming.cut_stream_raises"}
    assert set(sdk_deviations("1.109.1")) == set(sdk_deviations("2.0.0"))
