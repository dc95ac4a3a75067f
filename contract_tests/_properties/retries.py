"""Retries: for any schedule of failures, the attempts the server saw, the outcome (success or the exact exception
class) and the waits between attempts follow the SDK policy (:mod:`contract_tests._schedules`)."""

from __future__ import annotations

from mockserver import JournalEntry

from .._property import Env, GivenProperty, Violation
from .._schedules import CHAT_PATH, Expected, Step, expected_outcome, scenario_text, schedule_rules
from .._session import CHAT_MESSAGES, CHAT_MODEL, Session, open_session
from .._strategies import RetryCase, backoff_cases, retry_cases

__all__ = ["RETRIES", "WAIT_SLACK"]

#: how much later than asked a retry may come (the client's own work, a loaded box); below the shortest backoff
WAIT_SLACK = 0.25
#: the journal clock and the client's clock may round differently
CLOCK_GRAIN = 0.002


def _replay(case: RetryCase) -> str:
    request = {"model": CHAT_MODEL, "messages": list(CHAT_MESSAGES), "max_retries": case.max_retries}
    return scenario_text(schedule_rules(case.steps), request=request)


async def _call(env: Env, case: RetryCase) -> tuple[Session, BaseException | None, list[JournalEntry]]:
    async with open_session(env, max_retries=case.max_retries) as session:
        session.server.add_rules(schedule_rules(case.steps))
        raised: BaseException | None = None
        try:
            await session.client.chat.completions.create(**session.chat_request())
        except Exception as exc:
            raised = exc
    return session, raised, [entry for entry in env.server.journal if entry.path == CHAT_PATH]


def _check_outcome(session: Session, expected: Expected, raised: BaseException | None) -> None:
    errors = session.errors
    if expected.failure is None:
        if raised is not None:
            raise Violation(f"expected success, got {type(raised).__name__}: {raised}")
    elif expected.failure == "connection":
        if not isinstance(raised, errors.APIConnectionError):
            raise Violation(f"expected APIConnectionError (or a subclass), got {_describe(raised)}")
    else:
        wanted = errors.for_status(expected.failure)
        if type(raised) is not wanted:
            raise Violation(
                f"expected exactly {wanted.__name__} for status {expected.failure}, got {_describe(raised)}"
            )


def _check_waits(expected: Expected, journal: list[JournalEntry]) -> None:
    for index, (lowest, highest) in enumerate(expected.waits):
        before, after = journal[index], journal[index + 1]
        waited = after.received_at - before.received_at
        if waited < lowest - CLOCK_GRAIN:
            raise Violation(
                f"retry {index + 1} came {waited:.3f} s after attempt {index + 1}; it must wait {lowest:.3f} s"
            )
        ended = before.ended_at if before.ended_at is not None else before.received_at
        late = after.received_at - ended
        if late > highest + WAIT_SLACK:
            raise LateRetry(f"retry {index + 1} came {late:.3f} s after the answer; expected at most {highest:.3f} s")


def _check_retry_counts(journal: list[JournalEntry]) -> None:
    for index, entry in enumerate(journal):
        sent = entry.headers.get("x-stainless-retry-count")
        if sent is not None and sent != str(index):
            raise Violation(f"attempt {index + 1} sent x-stainless-retry-count {sent!r}, expected {index}")


class LateRetry(Violation):
    """A retry came later than the policy allows."""


async def check_retry_policy(env: Env, case: RetryCase) -> None:
    try:
        await _check_once(env, case)
    except LateRetry:
        # a loaded machine can stall one retry; a client that waits too long does it again
        await _check_once(env, case)


async def _check_once(env: Env, case: RetryCase) -> None:
    expected = expected_outcome(case.steps, case.max_retries)
    session, raised, journal = await _call(env, case)
    if len(journal) != expected.attempts:
        raise Violation(
            f"expected {expected.attempts} attempt(s) (max_retries={case.max_retries}), the server saw {len(journal)};"
            f" outcome {_describe(raised)}"
        )
    _check_outcome(session, expected, raised)
    _check_waits(expected, journal)
    _check_retry_counts(journal)


def _describe(raised: BaseException | None) -> str:
    return "success" if raised is None else f"{type(raised).__name__}: {raised}"


#: the policy's landmarks: a final status, a directed retry, a delay above the bound, a quota error, exhaustion
LANDMARKS = (
    RetryCase(1, (Step("status", 400, retry_after_ms=20.0),)),
    RetryCase(2, (Step("status", 429, retry_after_ms=20.0), Step("status", 503, retry_after=0.02))),
    RetryCase(2, (Step("status", 500, retry_after=1000.0),)),
    RetryCase(2, (Step("quota"),)),
    RetryCase(1, (Step("status", 502, retry_after_ms=20.0), Step("status", 500, retry_after_ms=20.0))),
    RetryCase(1, (Step("status", 404, retry_after_ms=20.0, should_retry=True), Step("reset"))),
)

RETRIES = (
    GivenProperty(
        name="retries.policy",
        summary="attempts, outcome class and Retry-After waits follow the SDK policy for any failure schedule",
        strategy=retry_cases(),
        check=check_retry_policy,
        replay=_replay,
        examples=20,
        landmarks=LANDMARKS,
    ),
    GivenProperty(
        name="retries.backoff",
        summary="without Retry-After, retries back off 0.5 * 2**n s with up to 25 % jitter",
        strategy=backoff_cases(),
        check=check_retry_policy,
        replay=_replay,
        examples=2,
    ),
)
