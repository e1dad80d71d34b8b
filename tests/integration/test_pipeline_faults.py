"""What a person sees when a provider misbehaves mid-render (real SDKs, simulator faults).

Each test asserts the outcome a user wants: transient faults are absorbed and the movie
finishes; a stuck job hits its deadline and names scene and provider; a content refusal
affects only its scene; a truncated download is re-fetched from the same job.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mindmovie.pipeline import Pipeline, RenderFailed
from tests.integration.support import KEYS, claude_answer_for, goals_file, settings_for
from tests.sim.server import SimServer

TASKS = "/contents/generations/tasks"


async def test_transient_faults_are_retried_and_movie_finishes(
    sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("http", path=TASKS, method="POST", status=429, retry_after=1, count=1)
    sim.add_fault("http", path="/images/generations", status=500, count=1)
    sim.add_fault("drop", path=TASKS + "/", method="GET", count=1)
    res = await Pipeline(
        goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS
    ).run()
    assert res.movie is not None and res.movie.is_file()
    totals = sim.stats()["totals"]
    assert totals["jobs_created"] == len(res.plan.scenes)  # the 429'd create was not billed twice
    assert totals["images"] == len(res.plan.scenes)


async def test_stuck_job_hits_deadline_naming_scene_and_provider(
    sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("stuck", path=TASKS, method="POST", count=1)
    settings = settings_for(
        "byteplus",
        sim,
        providers={
            "byteplus": {
                "base_url": sim.ark_base_url,
                "poll_interval": 0.05,
                "poll_max_interval": 0.1,
                "job_deadline": 1.0,
            }
        },
    )
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run()
    msg = str(e.value)
    assert "1 scene(s) failed" in msg and "byteplus" in msg and "not finished after 1 s" in msg
    # the other scenes' clips are kept for the next run
    assert len(list((tmp_path / "run").glob("scenes/*/clip.mp4"))) == 3


async def test_content_rejection_affects_only_that_scene(sim: SimServer, tmp_path: Path) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=TASKS, method="POST", count=1)
    pipe = Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS)
    with pytest.raises(RenderFailed) as e:
        await pipe.run()
    assert "content filter" in str(e.value)
    assert pipe.result is not None and len(pipe.result.failed) == 1
    assert len(list((tmp_path / "run").glob("scenes/*/clip.mp4"))) == 3


async def test_truncated_download_refetches_the_same_job(sim: SimServer, tmp_path: Path) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("truncate", path="/_sim/files/", count=1)
    res = await Pipeline(
        goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS
    ).run()
    assert res.movie is not None
    totals = sim.stats()["totals"]
    n = len(res.plan.scenes)
    assert totals["jobs_created"] == n  # no second job for the truncated one
    assert totals["downloads"] >= n + 1


async def test_concurrency_limit_holds_and_overlaps(sim: SimServer, tmp_path: Path) -> None:
    """9 scenes, max_concurrent 3, 0.6 s jobs: never more than 3 in flight, ~3 waves."""
    sim.media_scale = 0.25
    sim.job_seconds = 0.6
    g = tmp_path / "goals.yaml"
    g.write_text(
        "title: Nine\ngoals:\n"
        + "".join(f"  - category: growth\n    vision: Vision number {i}\n" for i in range(9))
    )
    settings = settings_for(
        "byteplus",
        sim,
        providers={
            "byteplus": {
                "base_url": sim.ark_base_url,
                "max_concurrent": 3,
                "poll_interval": 0.05,
                "poll_max_interval": 0.05,
                "job_deadline": 60,
            }
        },
    )
    claude_answer_for(sim, g)
    t0 = time.monotonic()
    res = await Pipeline(g, settings, out=tmp_path / "run", keys=KEYS).run(until="clips")
    elapsed = time.monotonic() - t0
    assert len(res.plan.scenes) == 9
    stats = sim.stats()
    assert stats["in_flight_max"] == 3
    assert stats["totals"]["jobs_created"] == 9
    # 9 jobs of 0.6 s three at a time is ~1.8 s of video; serial would be 5.4 s
    assert elapsed < 9 * 0.6, f"video stage did not overlap jobs ({elapsed:.1f} s)"
