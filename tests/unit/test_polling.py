"""How `Pipeline._poll` spaces its polls: backoff, spread, and polling near the learnt end.

The video model here is a stand-in with a known finish time (this tests our scheduling,
not a provider client). The polls run on an event loop with a virtual clock
(`VirtualClock`): the clock jumps to the next timer whenever nothing is ready, so each
gap is exactly the wait `_poll` asked for. On the real clock a gap also held however
late a loaded machine woke the loop, which 30 ms of slack did not always cover: with
every wake-up 35 ms late the backoff's growth was no longer 4x and the test failed.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import selectors
import statistics
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from mindmovie import pipeline as pipeline_module
from mindmovie.config import Settings
from mindmovie.pipeline import Pipeline
from mindmovie.providers.base import DeadlineExceeded, JobState

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "goals.yaml"


class _JumpingSelector(selectors.DefaultSelector):
    """Never blocks: when nothing is ready it moves the loop's clock by the timeout."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if not ready and timeout is not None and timeout > 0:
            self.clock.now += timeout
        return list(ready)


class VirtualClock(asyncio.SelectorEventLoop):
    """An event loop on virtual time (`time()`, also `monotonic()` for the code under
    test): waiting costs no real time and a late wake-up cannot stretch a gap."""

    def __init__(self) -> None:
        self.now = 1000.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualClock]:
    """The loop to run the polls on; `time.monotonic` in mindmovie.pipeline is its clock.
    The jitter's random numbers are seeded: a run is repeatable."""

    class _Time:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        monotonic = staticmethod(lambda: loop.now)

    loop = VirtualClock()
    monkeypatch.setattr(pipeline_module, "time", _Time())
    state = random.getstate()
    random.seed(20261202)
    try:
        yield loop
    finally:
        random.setstate(state)
        loop.close()


def run(loop: VirtualClock, coro: Coroutine[Any, Any, Any]) -> Any:
    return loop.run_until_complete(coro)


class TimedModel:
    """A 'remote' video model whose jobs finish `seconds` after submission."""

    name = "sim"
    model = "timed-1"

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self.clock = clock
        self.ends: dict[str, float] = {}
        self.polls: dict[str, list[float]] = {}

    def start(self, job: str) -> None:
        self.ends[job] = self.clock() + self.seconds

    async def poll(self, job: str) -> JobState:
        now = self.clock()
        self.polls.setdefault(job, []).append(now)
        return JobState(job, "succeeded" if now >= self.ends[job] else "running")


def pipeline(tmp_path: Path) -> Pipeline:
    return Pipeline(EXAMPLE, Settings(), out=tmp_path / "run")


async def run_jobs(pipe: Pipeline, model: TimedModel, jobs: list[str], **kw: float) -> None:
    async def one(job: str) -> None:
        model.start(job)
        await pipe._poll(model, job, 60, kw["interval"], kw["max_interval"], job, fresh=True)  # type: ignore[arg-type]

    await asyncio.gather(*(one(j) for j in jobs))


def test_backoff_grows_to_the_cap_and_with_the_jobs_age(
    tmp_path: Path, clock: VirtualClock
) -> None:
    pipe, model = pipeline(tmp_path), TimedModel(1.6, clock.monotonic)
    run(clock, run_jobs(pipe, model, ["a"], interval=0.02, max_interval=0.25))
    t = model.polls["a"]
    gaps = [b - a for a, b in itertools.pairwise(t)]
    start = model.ends["a"] - 1.6
    # far fewer polls than at a fixed short interval (1.6 / 0.02 = 80)
    assert 8 <= len(t) <= 30, t
    # gaps grow: the later half is much wider than the first few
    assert statistics.fmean(gaps[-4:]) > 4 * statistics.fmean(gaps[:3]), gaps
    for prev, gap in zip(t, gaps, strict=False):
        age = prev - start
        # never past the cap (+20% jitter), nor past a sixth of the age once that is
        # above the base interval
        assert gap <= 0.25 * 1.2 + 1e-9, gaps
        assert gap <= max(0.02, age / 6 * 1.5) * 1.2 + 1e-9, (age, gap)
    # and the finish was seen soon after it happened
    assert t[-1] - model.ends["a"] <= 0.25 * 1.2 + 1e-9


def test_concurrent_jobs_do_not_poll_in_lockstep(tmp_path: Path, clock: VirtualClock) -> None:
    pipe, model = pipeline(tmp_path), TimedModel(1.5, clock.monotonic)
    jobs = [f"j{i}" for i in range(6)]
    run(clock, run_jobs(pipe, model, jobs, interval=0.05, max_interval=0.3))
    # started together; poll after poll the jitter spreads them out (in lockstep every
    # job's k-th poll would lie within a millisecond or two of the others')
    k = min(len(p) for p in model.polls.values()) - 2
    assert k >= 6, model.polls
    kth = [model.polls[j][k] - (model.ends[j] - 1.5) for j in jobs]
    assert max(kth) - min(kth) > 0.02, (k, kth)


def test_later_jobs_poll_densely_only_near_the_learnt_duration(
    tmp_path: Path, clock: VirtualClock
) -> None:
    pipe, model = pipeline(tmp_path), TimedModel(1.2, clock.monotonic)
    learnt_after_first: list[float] = []

    async def both() -> None:
        await run_jobs(pipe, model, ["first"], interval=0.03, max_interval=0.4)
        learnt_after_first.append(pipe._job_seconds[model.model])
        await run_jobs(pipe, model, ["second"], interval=0.03, max_interval=0.4)

    run(clock, both())
    learnt = learnt_after_first[0]
    # a lower bound: the last poll that still saw the job running
    assert 1.2 - 0.4 * 1.2 <= learnt <= 1.2, learnt
    t = model.polls["second"]
    start = model.ends["second"] - 1.2
    early = [x for x in t if x - start < learnt - 0.5]
    # while far from the expected end: cap-sized sleeps only
    assert len(early) <= (learnt - 0.5) / (0.4 * 0.9) + 2, early
    # and the finish seen within about one short interval, not one backed-off one
    assert t[-1] - model.ends["second"] <= 0.03 + 0.04, t[-1] - model.ends["second"]
    assert pipe._job_seconds[model.model] <= learnt + 1e-9


def test_a_job_that_never_finishes_stops_at_its_deadline(
    tmp_path: Path, clock: VirtualClock
) -> None:
    """lessons.md: polling with no deadline. A job still running at `deadline_s` is a
    DeadlineExceeded naming the job, raised by then (never a sleep past it)."""
    pipe, model = pipeline(tmp_path), TimedModel(3600, clock.monotonic)
    model.start("late")

    async def poll() -> None:
        await asyncio.wait_for(
            pipe._poll(model, "late", 0.3, 0.02, 0.1, "late", fresh=True),  # type: ignore[arg-type]
            timeout=2.0,  # without a deadline the poll would go on for the job's hour
        )

    t0 = clock.monotonic()
    with pytest.raises(DeadlineExceeded, match="job late not finished after"):
        run(clock, poll())
    assert clock.monotonic() - t0 <= 0.3  # stopped at the deadline, not the wait_for


def test_a_lost_create_takes_the_job_made_in_the_second_it_was_sent() -> None:
    """Ark lists a job's `created_at` in whole seconds (the second it was made in). A
    request sent at 17.9 s whose job was made in second 17 measured 0.9 s to it and
    0.1 s to another client's job of second 18, and took that one (another project's
    clip as this scene's; test_crashproof's killed_then_another case failed so, now and
    then). The distance is to the whole second listed."""
    from types import SimpleNamespace

    from mindmovie.pipeline import _nearest_first

    own, other = (
        SimpleNamespace(created_at=17, remote_id="b"),
        SimpleNamespace(created_at=18, remote_id="a"),
    )
    assert _nearest_first([other, own], 17.9) == [own, other]
    # a job listed before the second the request was sent in is farther than one after
    before, after = (
        SimpleNamespace(created_at=15, remote_id="a"),
        SimpleNamespace(created_at=18, remote_id="b"),
    )
    assert _nearest_first([before, after], 17.2) == [after, before]
