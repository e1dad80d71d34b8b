"""The run folder moved or deleted while a paid render (byteplus, against the
simulator) has clip jobs in flight: the render stops with one line, and a render into
the moved folder polls the same jobs, paying for none of them again."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests import mindmovie_fork
from tests.integration.support import cli_env, goals_file
from tests.sim.server import SimServer


def _env(keys: dict[str, str]) -> dict[str, str]:
    drop = ("MINDMOVIE_", "ANTHROPIC_", "ARK_", "GEMINI_", "GOOGLE_", "BYTEPLUS_", "VOLC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **keys, "COLUMNS": "200"}


@pytest.mark.parametrize("then", ["move", "delete"])
def test_a_run_folder_gone_with_clip_jobs_in_flight_stops_and_pays_nothing_twice(
    sim: SimServer, tmp_path: Path, then: str
) -> None:
    sim.media_scale = 0.25
    sim.add_fault("slow", seconds=4.0, count=None)  # every clip job
    goals = goals_file(tmp_path, sim)
    cfg, keys = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes"]
    err = tmp_path / "render.err"
    p = mindmovie_fork.start(args, env=_env(keys), cwd=tmp_path, out=tmp_path / "o", err=err)
    try:
        t_end = time.monotonic() + 120
        while len(sim.jobs()) < 4:  # every scene's clip job made (and slow to finish)
            assert p.poll() is None, err.read_text()
            assert time.monotonic() < t_end, err.read_text()
            time.sleep(0.02)
        time.sleep(0.3)  # their ids journaled
        if then == "move":
            os.rename(run, tmp_path / "moved")
        else:
            shutil.rmtree(run)
        rc = p.wait(timeout=60)
    finally:
        p.kill()
    stderr = err.read_text()
    assert "Traceback" not in stderr, stderr
    assert rc == 1, stderr
    assert stderr.splitlines()[-1] == (
        f"error: the run folder {run} went away during the render (deleted, moved or "
        "renamed), so the render stopped: nothing more is made or paid for. If it was "
        "moved, render again with --out at its new place to resume there; if it was "
        "deleted, render again to start anew"
    ), stderr
    created = sim.stats()["totals"]["jobs_created"]
    assert created == 4
    if then == "delete":
        return
    args = ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "moved"), "--yes"]
    r = mindmovie_fork.run([*args, "-q"], env=_env(keys), cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert sim.stats()["totals"]["jobs_created"] == created  # the same jobs, polled
    assert (tmp_path / "moved" / "movie.mp4").is_file()
