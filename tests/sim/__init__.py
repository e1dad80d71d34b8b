"""Loopback simulator of the provider HTTP APIs (Ark, google-genai, Anthropic).

    from tests.sim import SimServer
    with SimServer(job_seconds=0.5) as sim:
        Ark(base_url=sim.ark_base_url, api_key="k")
        sim.add_fault("http", path="/contents/generations/tasks", status=429, retry_after=1)
        sim.stats()["models"]["seedance-1-0-pro-250528"]["jobs_created"]

See server.py for the URL layout and state.Fault for the fault kinds.
"""

from tests.sim.server import SimServer
from tests.sim.state import Fault, Job

__all__ = ["Fault", "Job", "SimServer"]
