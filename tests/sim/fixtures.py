"""pytest fixtures: one simulator per session, reset before each test that uses `sim`.

from tests.sim.fixtures import sim, sim_session  # noqa: F401  (in a test module)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sim.server import SimServer

#: the pixel scale of the media the suite's simulator returns ($MINDMOVIE_SIM_MEDIA_SCALE
#: overrides it): a quarter of the sizes a provider sends (billing still counts the real
#: ones). Tests render at 320x180, so full-size keyframes (2048x2048 PNGs) and clips only
#: cost decoding and scaling: at 1.0 the suite took 547 s, at 0.25 512 s (2026-12-05,
#: `python -m pytest -q` on 2 cores). A test of sizes sets `sim.media_scale = 1.0`.
SUITE_MEDIA_SCALE = 0.25


@pytest.fixture(scope="session")
def sim_session() -> Iterator[SimServer]:
    """A simulator shared by the session, at `SUITE_MEDIA_SCALE`."""
    scale = float(os.environ.get("MINDMOVIE_SIM_MEDIA_SCALE", SUITE_MEDIA_SCALE))
    with SimServer(media_scale=scale) as server:
        yield server


@pytest.fixture
def sim(sim_session: SimServer) -> Iterator[SimServer]:
    """The session simulator, reset (counters, records, faults, settings) for this test."""
    sim_session.reset()
    yield sim_session
    sim_session.reset()


class SimClock:
    """The simulator's monotonic clock, moved by the test (`advance`) instead of by
    time: a job's status at each poll is then exact, however slowly a loaded machine
    runs the test between two polls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from tests.sim import server, state

        self.now = time.monotonic()
        clock = self

        class _Time:
            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

            def monotonic(self) -> float:
                return clock.now

        monkeypatch.setattr(server, "time", _Time())
        monkeypatch.setattr(state, "time", _Time())

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def sim_clock(monkeypatch: pytest.MonkeyPatch) -> SimClock:
    return SimClock(monkeypatch)
