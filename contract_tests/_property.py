"""A contract property: a name, a hypothesis strategy and an async check of one example against a target, run
through the portal; or a stateful machine. Every failure surfaces as :class:`ContractViolation` naming the
property, with the scenario file that replays the failing example attached as a note."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from concurrent.futures import wait
from dataclasses import dataclass, field
from typing import Any

from anyio.from_thread import BlockingPortal
from hypothesis import example, given, note, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from hypothesis.strategies import SearchStrategy

from mockserver import MockServer

from ._targets import Target

__all__ = ["ContractViolation", "Env", "GivenProperty", "MachineProperty", "Property", "Violation"]


class Violation(AssertionError):
    """Raised by a check: the client broke the property (the message says how)."""


class ContractViolation(AssertionError):
    """A property failed for a target; ``property`` is its name."""

    def __init__(self, property_name: str, detail: str, *, scenario: str | None = None) -> None:
        super().__init__(f"contract property {property_name!r} violated: {detail}")
        self.property = property_name
        self.detail = detail
        #: the scenario file (YAML) that replays the failing example, when the property has one
        self.scenario = scenario
        if scenario is not None:
            self.add_note(f"replay the failing example with this scenario file:\n{scenario}")


@dataclass(frozen=True, slots=True)
class Env:
    """Where a property runs: the client target, a live mock server, and the portal whose loop runs the clients.

    Clients are costly to build (TLS contexts, sessions), so checks share one per ``(max_retries, timeout)``
    unless they need a fresh one; :meth:`aclose` closes them.
    """

    target: Target
    server: MockServer
    portal: BlockingPortal
    clients: dict[tuple[int, float], Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        clients = list(self.clients.values())
        self.clients.clear()
        for client in clients:
            await client.close()


@dataclass(frozen=True, slots=True)
class GivenProperty:
    name: str
    summary: str
    strategy: SearchStrategy[Any]
    check: Callable[[Env, Any], Coroutine[Any, Any, None]]
    #: the scenario file (YAML) that replays an example
    replay: Callable[[Any], str]
    #: examples under the ``ci`` profile
    examples: int
    #: how long one example may take before it counts as hanging
    example_timeout: float = 30.0
    #: examples always tried first (the policy's landmarks), besides the generated ones
    landmarks: tuple[Any, ...] = ()

    def run(self, env: Env, run_settings: settings) -> None:
        def one_example(example: Any) -> None:
            scenario = self.replay(example)
            note(f"scenario file for {self.name}:\n{scenario}")
            try:
                self._check_within_timeout(env, example)
            except Violation as exc:
                raise ContractViolation(self.name, str(exc), scenario=scenario) from None
            except Exception as exc:
                exc.add_note(scenario)
                raise

        test = given(self.strategy)(one_example)
        for landmark in self.landmarks:
            test = example(landmark)(test)
        _run_named(self.name, run_settings(test))

    def _check_within_timeout(self, env: Env, example: Any) -> None:
        """Run the check on the portal's loop; one still running after ``example_timeout`` is cancelled and fails."""
        running = env.portal.start_task_soon(self.check, env, example)
        finished, _ = wait([running], timeout=self.example_timeout)
        if not finished:
            running.cancel()
            raise TimeoutError(f"the contract check {self.name!r} did not finish within {self.example_timeout} s")
        running.result()


@dataclass(frozen=True, slots=True)
class MachineProperty:
    name: str
    summary: str
    machine: Callable[[Env], RuleBasedStateMachine]
    examples: int
    #: rules per example, at most
    steps: int = 15

    def run(self, env: Env, run_settings: settings) -> None:
        def build() -> RuleBasedStateMachine:
            return self.machine(env)

        # hypothesis accepts any factory of machines, though it is typed as the class
        factory: Any = build

        def test() -> None:
            try:
                run_state_machine_as_test(factory, settings=settings(run_settings, stateful_step_count=self.steps))
            except Violation as exc:
                failure = ContractViolation(self.name, str(exc))
                for step_note in getattr(exc, "__notes__", ()):  # hypothesis notes the steps that fail
                    failure.add_note(step_note)
                raise failure from None

        _run_named(self.name, test)


Property = GivenProperty | MachineProperty


def _run_named(name: str, test: Callable[[], None]) -> None:
    """Run ``test``; whatever fails is reported as a violation of ``name`` (a flaky failure, an error the check
    did not expect, ...)."""
    try:
        test()
    except ContractViolation:
        raise
    except BaseExceptionGroup as group:
        inner = _first_violation(group)
        if inner is not None:
            detail = f"{inner.detail} (failed only sometimes: flaky)"
            raise ContractViolation(name, detail, scenario=inner.scenario) from group
        raise ContractViolation(name, f"{type(group).__name__}: {group}") from group
    except Exception as exc:
        raise ContractViolation(name, f"{type(exc).__name__}: {exc}") from exc


def _first_violation(group: BaseExceptionGroup[BaseException]) -> ContractViolation | None:
    for exc in group.exceptions:
        if isinstance(exc, ContractViolation):
            return exc
        if isinstance(exc, BaseExceptionGroup):
            found = _first_violation(exc)
            if found is not None:
                return found
    return None
