"""pytest wiring for the contract: ``--contract-client NAME[,NAME...]`` (built-in names, ``module:factory``, or
``all``, the default), one live server and portal per target for the session, and one test per (target, property);
a target's known deviations are strict expected failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from anyio.from_thread import start_blocking_portal

from mockserver import MockServer, ServerConfig

from ._profiles import choose_profile, register_profiles
from ._properties import PROPERTIES
from ._property import Env
from ._targets import BUILTIN_TARGETS, Target, TargetError, resolve_targets

register_profiles()

_TARGETS = pytest.StashKey[list[Target]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "OpenAI client contract suite")
    group.addoption(
        "--contract-client",
        default="all",
        help=f"the client(s) to check: {', '.join(BUILTIN_TARGETS)}, module:factory, comma-separated, or all",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        config.stash[_TARGETS] = resolve_targets(config.getoption("--contract-client"))
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "contract_case" not in metafunc.fixturenames:
        return
    params = []
    for target in metafunc.config.stash[_TARGETS]:
        for prop in PROPERTIES:
            reason = target.deviations.get(prop.name)
            marks = [pytest.mark.xfail(strict=True, reason=f"known deviation: {reason}")] if reason else []
            params.append(pytest.param((target, prop), id=f"{target.name}::{prop.name}", marks=marks))
    metafunc.parametrize("contract_case", params)


@pytest.fixture(scope="session")
def contract_profile(pytestconfig: pytest.Config) -> str:
    return choose_profile(pytestconfig.getoption("hypothesis_profile", None))


@pytest.fixture(scope="session")
def contract_env_for() -> Iterator[Callable[[Target], Env]]:
    """``contract_env_for(target)``: that target's server and portal, made once per session."""
    envs: dict[str, Env] = {}
    try:
        with MockServer(ServerConfig(seed=1)) as server, start_blocking_portal(name="contract-portal") as portal:

            def env_for(target: Target) -> Env:
                if target.name not in envs:
                    envs[target.name] = Env(target, server, portal)
                return envs[target.name]

            try:
                yield env_for
            finally:
                for env in envs.values():
                    portal.call(env.aclose)
    finally:
        envs.clear()
