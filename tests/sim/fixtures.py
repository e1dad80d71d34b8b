"""pytest fixtures: one simulator per session, reset before each test that uses `sim`.

from tests.sim.fixtures import sim, sim_session  # noqa: F401  (in a test module)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sim.server import SimServer


@pytest.fixture(scope="session")
def sim_session() -> Iterator[SimServer]:
    """A simulator shared by the session (media scale from $MINDMOVIE_SIM_MEDIA_SCALE)."""
    with SimServer() as server:
        yield server


@pytest.fixture
def sim(sim_session: SimServer) -> Iterator[SimServer]:
    """The session simulator, reset (counters, records, faults, settings) for this test."""
    sim_session.reset()
    yield sim_session
    sim_session.reset()
