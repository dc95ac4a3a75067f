"""Running properties against a target outside pytest (the report, the project's own tests of broken clients):
one server and one portal for the run, each property's outcome as a value."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from anyio.from_thread import start_blocking_portal

from mockserver import MockServer, ServerConfig

from ._profiles import property_settings
from ._property import ContractViolation, Env, Property
from ._targets import Target

__all__ = ["PropertyResult", "contract_env", "run_property", "run_suite"]

Verdict = Literal["pass", "fail", "known deviation", "deviation fixed"]


@dataclass(frozen=True, slots=True)
class PropertyResult:
    target: str
    property: str
    verdict: Verdict
    #: the violation (for a failure or a known deviation), or the deviation's reason when it no longer fails
    detail: str
    seconds: float


@contextmanager
def contract_env(target: Target) -> Iterator[Env]:
    """A live server and a portal for ``target``, stopped on exit."""
    with MockServer(ServerConfig(seed=1)) as server, start_blocking_portal(name="contract-portal") as portal:
        env = Env(target, server, portal)
        try:
            yield env
        finally:
            portal.call(env.aclose)


def run_property(prop: Property, env: Env, *, profile: str = "ci", shrink: bool = True) -> PropertyResult:
    """Run one property; a known deviation of the target is expected to fail."""
    started = time.monotonic()
    deviation = env.target.deviations.get(prop.name)
    try:
        prop.run(env, property_settings(profile, prop.examples, shrink=shrink and deviation is None))
    except ContractViolation as exc:
        took = time.monotonic() - started
        if deviation is not None:
            detail = f"{deviation} (observed: {exc.detail})"
            return PropertyResult(env.target.name, prop.name, "known deviation", detail, took)
        return PropertyResult(env.target.name, prop.name, "fail", exc.detail, took)
    if deviation is not None:
        return PropertyResult(env.target.name, prop.name, "deviation fixed", deviation, time.monotonic() - started)
    return PropertyResult(env.target.name, prop.name, "pass", "", time.monotonic() - started)


def run_suite(
    targets: Iterable[Target], properties: Iterable[Property], *, profile: str = "ci"
) -> list[PropertyResult]:
    chosen = tuple(properties)
    results: list[PropertyResult] = []
    for target in targets:
        with contract_env(target) as env:
            results.extend(run_property(prop, env, profile=profile) for prop in chosen)
    return results
