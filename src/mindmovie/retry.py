"""The one retry policy for every provider call (the SDKs' own retries are turned off).

Transient failures are retried with jittered exponential backoff; the Retry-After a 429
or 503 carried (`Transient.retry_after`) is honoured (capped, so a hostile header cannot
stall a run for hours). A call turned away with 429s (`RateLimited`) keeps trying past its
attempts for up to RATE_LIMIT_PATIENCE: a 429 made nothing and costs nothing, and a
provider's per-minute or running-jobs limit lasts longer than four quick tries.
Everything else (content rejection, bad request, auth) is final and surfaces at once.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from mindmovie.providers.base import BUSY_AGAIN, RateLimited, Transient

T = TypeVar("T")

#: the longest Retry-After waited for. A call asked to wait longer (a quota used up
#: until the next hour or day) is not tried again in this render (`_asks_too_long`):
#: waiting this long four times over only to fail, each scene in turn, took a 30-scene
#: render hours to end
MAX_RETRY_AFTER = 120.0
#: seconds from a call's first 429 during which a 429 is tried again after its attempts
#: are used up. Without a Retry-After the four tries are over in ~7 s: a render of 30
#: scenes failed three of them (exit 1) in a 6 s burst of 429s on Seedance creates,
#: while a per-minute or concurrent-jobs limit lasts up to a minute or a job's length
RATE_LIMIT_PATIENCE = 180.0
#: a 429's wait before a call's tries are used up that the render tells (`_before_sleep`):
#: a Retry-After of a few seconds passes unsaid, as a backoff does
NOTICED_429_WAIT = 5.0
#: the least wait between two tries of a 429 past its attempts when the provider asked
#: for less with its Retry-After ("0", or a date not after the answer's own): such a
#: call was tried again at once, thousands of times a second for the whole patience
PATIENT_GAP = 1.0


@dataclass
class RateLimits:
    """One render's 429s (Pipeline.run sets one for the calls it makes): `notice` is told
    when a call starts waiting 429s out past its tries (a warning: a render in a pipe
    said nothing while its calls waited, up to RATE_LIMIT_PATIENCE each); `outlasted`
    are the providers whose 429s outlasted a call's whole patience (a quota used up, not
    a per-minute limit), whose later calls keep the four tries: with every call waiting
    the patience out, 30 scenes two at a time would take 15 patiences (45 min) to fail."""

    notice: Callable[[Transient], None]
    outlasted: set[str] = field(default_factory=set)


rate_limits: ContextVar[RateLimits | None] = ContextVar("rate_limits", default=None)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds a 429/503 asks us to wait: `retry-after-ms`, else `retry-after` (seconds or
    an HTTP date). Every provider client parses its headers with this one function."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    when = _http_date(raw)
    if when is None:
        return None
    # an HTTP date is counted from the answer's own Date (the provider's clock), not
    # this machine's: with the clock an hour behind, a 30 s wait read as an hour ended
    # the call at once ("render again after ..."); an hour ahead, as none: tried again
    # at once, 429 after 429, for the whole patience
    sent = _http_date(headers.get("date"))
    return max(0.0, when - (time.time() if sent is None else sent))


def _http_date(raw: Any) -> float | None:
    """An HTTP date as a POSIX time (one with no zone is UTC, as HTTP's are), or None."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _wait(base: float, cap: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Transient) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), MAX_RETRY_AFTER)
        n = state.attempt_number
        return float(min(cap, base * 2 ** (n - 1)) * (0.5 + random.random() / 2))

    return wait


def _asks_too_long(exc: BaseException | None) -> bool:
    """A 429 or 503 whose Retry-After is over MAX_RETRY_AFTER: the provider says no try
    before then will do (a quota used up until the next hour or day)."""
    return isinstance(exc, Transient) and (exc.retry_after or 0.0) > MAX_RETRY_AFTER


def hours_minutes(seconds: float) -> str:
    """`seconds` as a person reads a long wait: "2 h 5 min", "7 min" (to the minute)."""
    hours, rest = divmod(round(max(0.0, seconds) / 60), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def _told_when(exc: Transient) -> None:
    """Say in `exc`'s message when to try again (`_asks_too_long`): the scene's line
    said only "rate limited", after the render had waited it out four times over. A
    5xx's "render again in a few minutes" (`busy_advice`) is left out: it said both.
    Not which header asked it: Google's RetryInfo delay was called "(Retry-After)"."""
    wait = float(exc.retry_after or 0.0)
    if "render again after" in exc.message:
        return
    at = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() + wait))
    said = exc.message.replace(f": {BUSY_AGAIN}", "")
    exc.message = (
        f"{said}; it asks to wait {hours_minutes(wait)} before trying again, "
        f"longer than a render waits: render again after {at}"
    )


def _noted(state: RetryCallState, first_429: list[float]) -> BaseException | None:
    """The try's error, its time noted in `first_429` when it is the call's first 429."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, RateLimited) and not first_429:
        first_429.append(state.outcome_timestamp or time.monotonic())
    return exc


def _stop(
    attempts: int,
    patience: float,
    first_429: list[float],
    *,
    outlasts: bool = True,
    long_asks: bool = True,
) -> Callable[[RetryCallState], bool]:
    """`first_429`: when the call's first 429 came (filled here): the patience is how
    long the provider has turned it away, not the call's age (a create's first try may
    come minutes after its start, its turn waited at the budget gate or behind a lost
    request's late job). `outlasts`: a patience waited out marks the provider's quota
    used up (False for a patience cut short, e.g. by a job's deadline). `long_asks`: a
    Retry-After over MAX_RETRY_AFTER ends the call at once (`_asks_too_long`; not a
    running job's poll, which waits as long as its deadline allows)."""

    def stop(state: RetryCallState) -> bool:
        exc = _noted(state, first_429)
        if long_asks and _asks_too_long(exc):
            return True
        if (
            not outlasts
            and isinstance(exc, RateLimited)
            and (state.outcome_timestamp or time.monotonic()) - first_429[0] >= patience
        ):
            # a patience cut short (a job's deadline): over, tries left or not (a poll
            # answered 429 "Retry-After: 300" went on 6 min past a 15 s deadline)
            return True
        if state.attempt_number < attempts:
            return False
        if not isinstance(exc, RateLimited):
            return True
        limits = rate_limits.get()
        if limits is not None and exc.provider in limits.outlasted:
            return True
        if (state.outcome_timestamp or time.monotonic()) - first_429[0] < patience:
            return False
        if limits is not None and outlasts:
            limits.outlasted.add(exc.provider)
        return True

    return stop


def _before_sleep(attempts: int) -> Callable[[RetryCallState], None]:
    """Tell the render (`RateLimits.notice`) when a call waits 429s out: past its tries,
    or on a wait of NOTICED_429_WAIT or more before them. Only a call past its tries was
    told before: three Retry-After waits of up to MAX_RETRY_AFTER each passed first
    without a word, minutes of a render in a pipe printing nothing (it reads as hung)."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        limits = rate_limits.get()
        if limits is None or not isinstance(exc, RateLimited):
            return
        sleep = state.next_action.sleep if state.next_action is not None else 0.0
        if state.attempt_number >= attempts or sleep >= NOTICED_429_WAIT:
            limits.notice(exc)

    return before_sleep


async def with_retry(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 4,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    patience: float | None = None,
) -> T:
    """Call `fn` until it succeeds, raising the last error once the policy gives up.

    `patience`: how long 429s are waited out past the tries, if less than
    RATE_LIMIT_PATIENCE (a job's poll: no longer than the job's deadline). A call that
    waited only that shorter time does not take its provider's quota for used up."""
    full = patience is None or patience >= RATE_LIMIT_PATIENCE
    patience = RATE_LIMIT_PATIENCE if patience is None else min(patience, RATE_LIMIT_PATIENCE)
    first_429: list[float] = []  # (`_stop`)
    backoff = _wait(base_delay, max_delay)

    def wait(state: RetryCallState) -> float:
        # a 429 past the tries waits no longer than the patience left: its Retry-After
        # (up to MAX_RETRY_AFTER) or backoff held the call that long past the patience
        took = backoff(state)
        # (tenacity asks the wait before the stop: noted here too, the first 429 was
        # not known yet to the first wait)
        exc = _noted(state, first_429)
        if state.attempt_number >= attempts and isinstance(exc, RateLimited) and first_429:
            if exc.retry_after is not None:
                took = max(took, PATIENT_GAP)
            took = min(took, max(0.0, first_429[0] + patience - time.monotonic()))
        elif not full and isinstance(exc, RateLimited) and first_429:
            # a shorter patience (a job's deadline) bounds every wait, not only those
            # past the tries: each of the first three waited its Retry-After (up to
            # MAX_RETRY_AFTER), whatever the deadline left
            took = min(took, max(0.0, first_429[0] + patience - time.monotonic()))
        return took

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(Transient),
        stop=_stop(attempts, patience, first_429, outlasts=full, long_asks=full),
        wait=wait,
        before_sleep=_before_sleep(attempts),
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await fn()
    except Transient as e:
        if full and _asks_too_long(e):
            _told_when(e)
        raise
    raise AssertionError("unreachable")  # pragma: no cover
