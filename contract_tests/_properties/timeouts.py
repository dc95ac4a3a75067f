"""Timeouts: a server that hangs longer than the client's timeout makes the call raise the timeout error after
``max_retries + 1`` attempts; if it stops hanging while retries are left, the call succeeds. (Timeouts are retried
with the SDK's real backoff, so this property runs few examples.)

The attempts are counted once the server has settled: the client's timeout (50 to 150 ms) can pass while its last
request still waits, unread, for the server's thread, which a loaded machine delays; counting the journal the
moment the call fails then saw one attempt too few (``the server saw 0``) from a correct client. The count is
polled for up to the server's settle time, so a late arrival is confirmed before it is counted as missing. The client
makes one call before the timed one, so its first attempt does not also have to connect within the timeout. And an
outcome a loaded machine can cause a correct client (an attempt that timed out before its request reached the
server; an answer after the hangs that came later than the timeout) is confirmed by running the example again
before it counts: a client that gets it wrong gets it wrong twice, a loaded machine rarely slows both runs alike.
Anything else (too many attempts, no timeout, another error) counts at once."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from mockserver import JournalEntry, MockServer

from .._property import Env, GivenProperty, Violation
from .._schedules import BACKOFF_BOUNDS, CHAT_PATH, scenario_text
from .._session import CHAT_MESSAGES, CHAT_MODEL, open_session, settle
from .._strategies import TimeoutCase, timeout_cases

__all__ = ["TIMEOUTS"]


def _rule(case: TimeoutCase) -> dict[str, Any]:
    rule: dict[str, Any] = {"match": {"path": CHAT_PATH}, "action": {"type": "hang"}}
    if case.hangs is not None:
        rule["times"] = case.hangs
    return rule


def _replay(case: TimeoutCase) -> str:
    request = {"model": CHAT_MODEL, "messages": list(CHAT_MESSAGES), "timeout": case.timeout}
    return scenario_text([_rule(case)], request={**request, "max_retries": case.max_retries})


async def check_timeouts(env: Env, case: TimeoutCase) -> None:
    attempts = case.max_retries + 1 if case.hangs is None else case.hangs + 1
    outcome = await _run(env, case, attempts)
    if outcome.may_be_the_load(case, attempts):  # confirmed by a second run before it counts
        outcome = await _run(env, case, attempts)
    if outcome.seen != attempts:
        raise Violation(
            f"expected {attempts} attempt(s) (max_retries={case.max_retries}), the server saw {outcome.seen}"
        )
    if case.hangs is None and not outcome.timed_out:
        raise Violation(f"expected APITimeoutError, got {outcome.raised!r}")
    if case.hangs is not None and outcome.raised is not None:
        raise Violation(f"expected success after {case.hangs} hung attempt(s), got {outcome.raised!r}")


@dataclass(frozen=True, slots=True)
class _Outcome:
    seen: int
    raised: BaseException | None
    timed_out: bool

    def may_be_the_load(self, case: TimeoutCase, attempts: int) -> bool:
        """What a loaded machine can do to a correct client with a 50-150 ms timeout: an attempt timed out before
        its request reached the server (one attempt too few), or the answer after the hangs came too late."""
        too_few = self.seen < attempts and self.timed_out
        late_answer = case.hangs is not None and self.timed_out and self.seen == attempts
        return too_few or late_answer


async def _run(env: Env, case: TimeoutCase, attempts: int) -> _Outcome:
    # every attempt's timeout, every backoff, and a second of grace
    bound = attempts * case.timeout + sum(high for _, high in BACKOFF_BOUNDS[: attempts - 1]) + 5.0
    async with open_session(env, max_retries=case.max_retries, client_timeout=case.timeout, fresh=True) as session:
        # one call first, on another path: the first attempt then reuses its connection instead of connecting
        # within its timeout (best effort: on a loaded machine this call may time out too)
        with contextlib.suppress(session.errors.APIConnectionError):
            await session.client.models.list()
        session.server.add_rules(_rule(case))
        raised: BaseException | None = None
        try:
            async with asyncio.timeout(bound):
                await session.client.chat.completions.create(**session.chat_request())
        except TimeoutError as exc:
            if not isinstance(exc, session.errors.APITimeoutError):
                raise Violation(
                    f"the call was still waiting after {bound:.1f} s: the timeout was not applied"
                ) from None
            raised = exc
        except Exception as exc:
            raised = exc
        seen = await _attempts_seen(session.server, attempts)
        return _Outcome(seen, raised, isinstance(raised, session.errors.APITimeoutError))


async def _attempts_seen(server: MockServer, expected: int) -> int:
    """The attempts the server journaled, once it shows ``expected`` of them or :data:`SETTLE_SECONDS` have passed
    (more than expected count at once)."""
    with contextlib.suppress(Violation):  # too few is reported by the caller, with the count
        await settle(server, lambda journal, _: _calls(journal) >= expected, what="the attempts")
    return len(server.journal_for(CHAT_PATH))


def _calls(journal: list[JournalEntry]) -> int:
    return sum(1 for entry in journal if entry.path == CHAT_PATH)


TIMEOUTS = (
    GivenProperty(
        name="timeouts.hang_times_out",
        summary="a hang beyond the timeout raises APITimeoutError after max_retries + 1 attempts",
        strategy=timeout_cases(),
        check=check_timeouts,
        replay=_replay,
        examples=3,
        example_timeout=45.0,
    ),
)
