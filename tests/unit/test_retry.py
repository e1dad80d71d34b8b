"""The one retry policy: what is retried, how long it waits, what is final."""

from __future__ import annotations

import email.utils
import time

import pytest

from mindmovie.providers.base import ContentRejected, RateLimited, Transient
from mindmovie.retry import MAX_RETRY_AFTER, retry_after_seconds, with_retry


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds({"retry-after-ms": "300"}) == pytest.approx(0.3)
    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < (retry_after_seconds({"retry-after": future}) or 0) <= 31
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


async def test_transient_is_retried_and_retry_after_honoured() -> None:
    calls: list[float] = []

    async def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RateLimited("429", retry_after=0.3)
        if len(calls) == 2:
            raise Transient("503")
        return "ok"

    assert await with_retry(flaky, base_delay=0.01) == "ok"
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.29  # waited what the provider asked


async def test_final_errors_are_not_retried() -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise ContentRejected("filtered")

    with pytest.raises(ContentRejected):
        await with_retry(refused)
    assert calls == 1


async def test_gives_up_after_the_policy_attempts() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise Transient("500")

    with pytest.raises(Transient):
        await with_retry(down, attempts=3, base_delay=0.001)
    assert calls == 3
    calls = 0  # the policy every provider call gets: four tries in all
    with pytest.raises(Transient):
        await with_retry(down, base_delay=0.001)
    assert calls == 4
    assert MAX_RETRY_AFTER <= 300  # a hostile Retry-After cannot stall a run for hours


def test_a_huge_retry_after_is_capped() -> None:
    """A hostile or broken Retry-After (e.g. a day) waits MAX_RETRY_AFTER, not a day."""
    from tenacity import RetryCallState

    from mindmovie.retry import _wait

    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = 1
    state.set_exception((RateLimited, RateLimited("429", retry_after=86400.0), None))
    assert _wait(1.0, 30.0)(state) == MAX_RETRY_AFTER
    state.set_exception((RateLimited, RateLimited("429", retry_after=3.0), None))
    assert _wait(1.0, 30.0)(state) == 3.0
    # "now" or a negative value is no wait, not a wait of its own
    for asked in (0.0, -5.0):
        state.set_exception((RateLimited, RateLimited("429", retry_after=asked), None))
        assert _wait(1.0, 30.0)(state) == 0.0
    # a 503's Retry-After (a Transient that is not RateLimited) is waited and capped too
    state.set_exception((Transient, Transient("503", retry_after=4.0), None))
    assert _wait(1.0, 30.0)(state) == 4.0
    state.set_exception((Transient, Transient("503", retry_after=86400.0), None))
    assert _wait(1.0, 30.0)(state) == MAX_RETRY_AFTER


def test_never_connected_only_when_the_connection_was_never_opened() -> None:
    """Refused/unreachable: nothing was sent (refund). A read timeout or a dropped
    connection: the request may be in (the outcome stays unknown)."""
    import httpx

    from mindmovie.providers.base import never_connected

    def chained(inner: BaseException) -> Exception:
        try:
            try:
                raise inner
            except BaseException as e:
                raise RuntimeError("SDK connection error") from e
        except RuntimeError as outer:
            return outer

    assert never_connected(chained(httpx.ConnectError("refused")))
    assert never_connected(chained(httpx.ConnectTimeout("slow handshake")))
    assert never_connected(chained(ConnectionRefusedError()))
    # a proxy that answered CONNECT with 403/407: the provider never saw the request
    assert never_connected(chained(httpx.ProxyError("407 Proxy Authentication Required")))
    assert not never_connected(chained(httpx.ReadTimeout("no answer")))
    assert not never_connected(chained(httpx.RemoteProtocolError("dropped")))
    assert not never_connected(RuntimeError("other"))


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    """Without a Retry-After: base x 2^(attempt-1), capped, times a jitter in [0.5, 1]."""
    from tenacity import RetryCallState

    from mindmovie.retry import _wait

    wait = _wait(1.0, 30.0)
    for attempt, full in ((1, 1.0), (2, 2.0), (4, 8.0), (5, 16.0), (6, 30.0), (9, 30.0)):
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = attempt
        state.set_exception((Transient, Transient("503"), None))
        waits = [wait(state) for _ in range(200)]
        assert all(full / 2 <= w <= full for w in waits), (attempt, min(waits), max(waits))
        assert max(waits) - min(waits) > full / 10  # jittered, not one fixed wait
        # over the whole [0.5, 1] band (each bound missed by 200 draws: p < 1e-9)
        assert min(waits) < 0.6 * full and max(waits) > 0.9 * full


def test_a_retry_after_in_the_past_or_negative_is_no_wait() -> None:
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert retry_after_seconds({"retry-after": past}) == 0.0
    assert retry_after_seconds({"retry-after": "-5"}) == 0.0
    assert retry_after_seconds({"retry-after-ms": "-300"}) == 0.0


async def test_429s_are_tried_past_the_attempts_until_the_patience_is_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 429 made nothing: it is tried again past the four tries while the call is within
    RATE_LIMIT_PATIENCE of its first try, and then fails (a quota that never comes back
    does not hold a scene for ever). Before, the fourth 429 failed the call."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "RATE_LIMIT_PATIENCE", 0.3)
    calls: list[float] = []

    async def limited() -> None:
        calls.append(time.monotonic())
        raise RateLimited("429")

    with pytest.raises(RateLimited):
        await with_retry(limited, base_delay=0.01, max_delay=0.02)
    assert len(calls) > 4
    assert 0.25 <= calls[-1] - calls[0] < 0.45


async def test_the_patience_counts_from_the_first_429_not_from_a_wait_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The patience is how long the provider has turned the call away. It counted from
    the call's start: a create that waited its turn first (at the budget gate, behind a
    lost request's late job, minutes in a busy render) had its patience used up before
    its first 429, so a burst of 429s failed it at the fourth try, and the provider was
    taken for one whose quota is used up: the render's other calls kept four tries."""
    import asyncio

    from mindmovie import retry

    # (a patience of 0.3 s was used up by six quick retries on a loaded machine)
    monkeypatch.setattr(retry, "RATE_LIMIT_PATIENCE", 1.0)
    limits = retry.RateLimits(lambda e: None)
    token = retry.rate_limits.set(limits)
    calls: list[float] = []

    async def waited_then_limited() -> str:
        if not calls:
            await asyncio.sleep(1.1)  # its turn to send, longer than the patience
        calls.append(time.monotonic())
        if len(calls) <= 6:
            raise RateLimited("429", provider="byteplus")
        return "ok"

    try:
        assert await with_retry(waited_then_limited, base_delay=0.01, max_delay=0.02) == "ok"
    finally:
        retry.rate_limits.reset(token)
    assert len(calls) == 7 and limits.outlasted == set()


async def test_the_last_wait_of_a_429_ends_with_the_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 429 past the four tries is tried again only within RATE_LIMIT_PATIENCE, but the
    wait before that try was not cut to it: one asked for with a Retry-After (up to
    MAX_RETRY_AFTER, 120 s) or the backoff's 30 s held the call that long past the
    patience the warning names. The last try comes when the patience ends."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "RATE_LIMIT_PATIENCE", 0.3)
    calls: list[float] = []

    async def limited() -> None:
        calls.append(time.monotonic())
        raise RateLimited("429", retry_after=0.01 if len(calls) <= 4 else 1.0)

    with pytest.raises(RateLimited):
        await with_retry(limited, base_delay=0.01, max_delay=0.02)
    assert 0.25 <= calls[-1] - calls[0] < 0.45, calls[-1] - calls[0]


async def test_a_429_asking_for_no_wait_is_not_tried_again_at_once_for_the_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A provider answering 429 with "Retry-After: 0" (or an HTTP date not after its
    answer's own): past the four tries, each try came at once, for the whole
    RATE_LIMIT_PATIENCE (61,711 calls in this test's 2.5 s; a provider would be asked
    without a pause for three minutes). Past the tries such a call is now tried at most
    once per PATIENT_GAP."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "RATE_LIMIT_PATIENCE", 2.5)
    calls = 0

    async def limited() -> None:
        nonlocal calls
        calls += 1
        raise RateLimited("429", retry_after=0.0, provider="byteplus")

    t0 = time.monotonic()
    with pytest.raises(RateLimited):
        await with_retry(limited)
    assert calls <= 4 + 4, calls  # the four tries, then one a second
    assert time.monotonic() - t0 < 5.0  # and still ends with the patience


@pytest.mark.parametrize("error", [RateLimited, Transient])
async def test_a_retry_after_longer_than_a_render_waits_ends_the_call_at_once(
    error: type[Transient],
) -> None:
    """A 429 (or 503) asking to wait an hour (a quota used up until the next hour) was
    waited MAX_RETRY_AFTER four times over, and then failed: each scene in turn, a
    30-scene render hours to end. The call now ends at its first answer, and its
    message says when to render again."""
    import asyncio

    calls = 0

    async def quota() -> None:
        nonlocal calls
        calls += 1
        raise error("rate limited", retry_after=3600.0, provider="byteplus")

    with pytest.raises(error) as e:
        await asyncio.wait_for(with_retry(quota), timeout=10)
    assert calls == 1
    when = time.strftime("%Y-%m-%d %H:", time.localtime(time.time() + 3600))
    assert "it asks to wait 1 h 0 min before trying again, longer than a render waits" in str(
        e.value
    )
    assert f"render again after {when}" in str(e.value)
    # (said once, however often the error passes through)
    with pytest.raises(error) as again:
        await with_retry(lambda: _raise(e.value))
    assert str(again.value).count("render again after") == 1


async def _raise(e: BaseException) -> None:
    raise e


async def test_a_running_jobs_poll_waits_a_long_retry_after_within_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A poll of a paid running job (its `patience`, the job's deadline left) is not ended
    by a long Retry-After: it waits (MAX_RETRY_AFTER at most) and asks again, as before.
    (MAX_RETRY_AFTER lowered so the waits are short.)"""
    from mindmovie import retry

    monkeypatch.setattr(retry, "MAX_RETRY_AFTER", 0.05)
    calls: list[float] = []

    async def poll() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RateLimited("429", retry_after=3600.0)
        return "running"

    assert await with_retry(poll, patience=0.2) == "running"
    assert len(calls) == 3


async def test_a_polls_429s_end_at_the_job_s_deadline_not_its_retry_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A poll answered 429 "Retry-After: 300" with 0.3 s of its job's deadline left (its
    `patience`): each of the first three tries waited its Retry-After (MAX_RETRY_AFTER
    at most) whatever the deadline left, so a 15 s deadline ran 6 min. Every wait is
    bounded by the deadline, and the poll ends there. (MAX_RETRY_AFTER lowered to 2 s
    so that, unbounded, the tries would take 6 s.)"""
    from mindmovie import retry

    monkeypatch.setattr(retry, "MAX_RETRY_AFTER", 2.0)
    calls: list[float] = []

    async def poll() -> str:
        calls.append(time.monotonic())
        raise RateLimited("429", retry_after=300.0)

    start = time.monotonic()
    with pytest.raises(RateLimited):
        await with_retry(poll, patience=0.3)
    assert time.monotonic() - start < 1.5, calls
    assert len(calls) >= 2  # asked again within the deadline


async def test_a_long_429_wait_within_the_tries_is_told_a_short_one_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The render was told a call waits 429s out only once it had used up its four
    tries: three Retry-After waits of up to MAX_RETRY_AFTER each passed first without a
    word (a walkthrough's render in a pipe printed nothing for 63 s, and a person takes
    such a render for hung). A wait of NOTICED_429_WAIT or more is told when it starts;
    a shorter one, like a backoff, is not."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "NOTICED_429_WAIT", 0.2, raising=False)
    told: list[tuple[str, float]] = []
    limits = retry.RateLimits(lambda e: told.append((e.message, time.monotonic())))
    token = retry.rate_limits.set(limits)
    try:
        for wait in (0.05, 0.25):
            told.clear()
            calls: list[float] = []

            async def turned_away_once(wait: float = wait, calls: list[float] = calls) -> str:
                calls.append(time.monotonic())
                if len(calls) == 1:
                    raise RateLimited("429", retry_after=wait, provider="google")
                return "ok"

            assert await with_retry(turned_away_once, base_delay=0.01) == "ok"
            if wait < 0.2:
                assert told == [], told
            else:  # told before the wait, not after it
                assert [m for m, _ in told] == ["429"] and told[0][1] < calls[1] - 0.2, told
    finally:
        retry.rate_limits.reset(token)
