"""Shared fixtures. `sim`/`sim_session`: the loopback provider simulator (tests/sim)."""

from tests.sim.fixtures import sim, sim_session

__all__ = ["sim", "sim_session"]
