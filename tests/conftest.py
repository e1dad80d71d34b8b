"""Shared fixtures. `sim`/`sim_session`: the loopback provider simulator (tests/sim)."""

import os

from tests.sim.fixtures import sim, sim_session

__all__ = ["sim", "sim_session"]

# The suite starts `python -m mindmovie` a few hundred times. Where the environment sets
# PYTHONDONTWRITEBYTECODE (some CI images and sandboxes do), each of those processes
# compiled the package's modules from source again: ~0.14 s of CPU a start, measured.
# The suite's processes (the xdist workers, and every command they start) may write
# bytecode, to the usual __pycache__ folders that git ignores.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
