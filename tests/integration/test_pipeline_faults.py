"""What a person sees when a provider misbehaves mid-render (real SDKs, simulator faults).

Each test asserts the outcome a user wants: transient faults are absorbed and the movie
finishes; a stuck job hits its deadline and names scene and provider; a content refusal
affects only its scene; a truncated download is re-fetched from the same job.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mindmovie.pipeline import LATE_JOB_GRACE, BudgetStopped, Pipeline, RenderFailed
from mindmovie.progress import NullReporter, PlainReporter
from mindmovie.status import collect_status
from mindmovie.store import Store
from tests.integration.support import (
    GOOGLE_BAD_KEY_BODY,
    KEYS,
    REPO,
    AgreeingAsked,
    claude_answer_for,
    goals_file,
    ledger_rows,
    no_retry_waits,
    seedance_only,
    settings_for,
    sign_video_urls,
    tiny_local_settings,
)
from tests.sim.server import SimServer
from tests.sim.state import Fault

TASKS = "/contents/generations/tasks"


class _Steps(NullReporter):
    """Records every step event: (stage, scene, state)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str, str]] = []

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        self.steps.append((stage, scene_id, state))


class _Said(NullReporter):
    """Records the warnings, notes and each scene's "queued" notes: what the person is told."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def warn(self, text: str) -> None:
        self.said.append(text)

    def info(self, text: str) -> None:
        self.said.append(text)

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        if state == "queued" and note:
            self.said.append(f"{scene_id}: {note}")

    def waits(self) -> list[str]:
        """What was said of holding a create for a lost request's late job."""
        return [t for t in self.said if "waiting for it" in t or "to show up" in t]


def _byteplus(sim: SimServer, **provider: Any) -> Any:
    """The byteplus preset against the simulator with fast polling, plus `provider`
    settings (they replace the whole providers.byteplus block, so base_url is kept)."""
    ps = {"base_url": sim.ark_base_url, "poll_interval": 0.05, "poll_max_interval": 0.1}
    return settings_for("byteplus", sim, providers={"byteplus": {**ps, **provider}})


def _quick_goals(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, scenes: int = 1
) -> Path:
    """A goals.yaml of one goal of `scenes` scenes, a simulator answering fast (small
    media, 0.3 s jobs) and no waits between retries: the setup of the tests that count
    what a render sent."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    sim.job_seconds = 0.3
    goals = tmp_path / "goals.yaml"
    title = "One" if scenes == 1 else "Two"
    goals.write_text(
        f"title: {title}\ngoals:\n  - category: health\n    vision: I run\n    scenes: {scenes}\n"
    )
    return goals


def _one_scene_with_lost_creates(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    count: int,
    seconds: float = 60.0,
) -> tuple[Path, Any, Fault]:
    """A one-scene goals.yaml and `_paid_clips_only` settings, with the first `count`
    creates held by the simulator past the 1 s timeout (answers lost): each job is made
    `seconds` after its create, or when the test releases the returned fault
    (`sim.release`: every job it holds at once, in no set order)."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    held = sim.add_fault("delay", path=TASKS, method="POST", count=count, seconds=seconds)
    return goals, _paid_clips_only(sim), held


def _seedance_audio(sim: SimServer, audio: bool) -> Any:
    """Local plan and keyframes, Seedance clips with `video.audio` as given: the setup of
    the tests that turn audio on and off between renders."""
    return settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        keyframes={"provider": "local"},
        video={"audio": audio},
    )


def _audio_creates(sim: SimServer) -> list[bool]:
    """Each Seedance create sent so far, as its `generate_audio`."""
    return [c["body"].get("generate_audio") for c in sim.requests(path=TASKS, method="POST")]


def _paid_clips_only(sim: SimServer) -> Any:
    """Local plan and keyframes, Seedance clips with a 1 s request timeout: for the
    creates the simulator delays past it (their answers are lost)."""
    fast = {"base_url": sim.ark_base_url, "timeout": 1.0, "poll_interval": 0.05}
    return settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        keyframes={"provider": "local"},
        providers={"byteplus": {**fast, "poll_max_interval": 0.2}},
    )


async def _a_clip_whose_download_failed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, str]:
    """A one-scene render (`_paid_clips_only`) whose clip job finished, was billed and
    journaled, and whose download failed (403 within the URL's validity: a passing
    failure, "`render` again retries them"): (goals, settings, run folder, the job)."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed, match="retries them"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (job,) = [r["remote_id"] for r in ledger_rows(run, "clip")]
    return goals, s, run, str(job)


async def _one_scene_keyframed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, Any, Pipeline, Any, str]:
    """A one-scene run rendered up to its keyframe (`_paid_clips_only`), and what its
    clip's create would send: goals, settings, run folder, scene, a pipeline of it, the
    video request and its input key (to set a journal up by hand)."""
    from mindmovie.pipeline import _identity

    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    (sc,) = res.plan.scenes
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    req = pipe._video_request(sc, run / "scenes" / sc.id / "keyframe.png")
    ((_, key, _), *_) = pipe._clip_variants(_identity(s, "video"), sc, req)
    return goals, s, run, sc, pipe, req, key


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


@pytest.mark.parametrize("where", ["create", "poll"])
async def test_429s_past_the_four_tries_are_waited_out_not_a_failed_scene(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A burst of 429s (no Retry-After) longer than the policy's four tries, on the
    Seedance create or on its polls: a 429 made nothing and costs nothing, so the call
    waits it out (mindmovie.retry.RATE_LIMIT_PATIENCE). Before, the scene failed ("submit:
    rate limited ..."; a poll's: its job paid and left running) and the render exited 1:
    a 30-scene render against tests/sim failed 3 scenes in a 6 s burst of 429s."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    method, path = ("POST", TASKS) if where == "create" else ("GET", TASKS + "/")
    burst = sim.add_fault("http", path=path, method=method, status=429, count=8)
    res = await Pipeline(goals, seedance_only(sim), out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None and res.movie.is_file()
    assert burst.fired == 8
    assert sim.stats()["totals"]["jobs_created"] == 1  # 429s bought nothing twice


async def test_429s_waited_out_are_said_once_in_a_pipe(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls waiting out 429s past their four tries (up to RATE_LIMIT_PATIENCE each) are
    said once per provider, not once per call nor per try: a render in a pipe said
    nothing while every clip of it waited, and then finished."""
    goals = _quick_goals(sim, tmp_path, monkeypatch, scenes=2)
    burst = sim.add_fault("http", path=TASKS, method="POST", status=429, count=16)
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=300, color_system=None), verbose=False)
    pipe = Pipeline(goals, seedance_only(sim), out=tmp_path / "run", keys=KEYS, reporter=rep)
    res = await pipe.run()
    assert res.movie is not None and burst.fired == 16
    said = [ln for ln in buf.getvalue().splitlines() if "429" in ln]
    assert len(said) == 1, buf.getvalue()
    assert "warning: byteplus is turning requests away (429, rate limited)" in said[0]
    assert "not billed" in said[0]


async def test_a_poll_turned_away_with_429s_ends_at_the_job_s_deadline_not_the_patience(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job whose polls are all answered 429: the scene fails at the job's deadline
    (`providers.byteplus.job_deadline`, 1 s here), not once the 429 patience
    (RATE_LIMIT_PATIENCE, 20 s here) is over: a poll near the deadline waited up to the
    whole patience past it.
    And a patience cut short by the deadline does not take the provider for one whose
    quota is used up (its other calls would keep only four tries)."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "RATE_LIMIT_PATIENCE", 20.0)
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    sim.add_fault("http", path=TASKS + "/", method="GET", status=429, count=None)
    s = seedance_only(sim)
    s.providers.byteplus.job_deadline = 1.0
    limits: list[retry.RateLimits] = []

    class Kept(retry.RateLimits):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            limits.append(self)

    monkeypatch.setattr("mindmovie.pipeline.RateLimits", Kept)
    t0 = time.monotonic()
    with pytest.raises(RenderFailed, match="rate limited") as ei:
        await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    took = time.monotonic() - t0
    # its job runs on: said so, as for a deadline met between polls
    assert "it is still running at byteplus and bills: the next render waits" in str(ei.value)
    # (before: 20.6 s, the patience; now ~2.5 s, a slow machine's render of one scene)
    assert took < 12.0, f"the scene failed {took:.1f} s in, past its 1 s deadline"
    assert limits and not limits[0].outlasted


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_polls_failing_past_the_four_tries_are_asked_again_until_the_deadline(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str
) -> None:
    """A burst of 503s on a running job's polls longer than the policy's four tries: the
    job is paid and running and a poll is free, so it is polled again after the next gap
    (until the job's deadline). Before, the scene failed ("503 UNAVAILABLE", its job left
    in flight) and the render exited 1: a 30-scene Veo render against tests/sim failed a
    scene in 10 503s on its polls."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    poll = TASKS + "/" if preset == "byteplus" else ":fetchPredictOperation"
    burst = sim.add_fault("http", path=poll, status=503, count=9)
    local = {"provider": "local"}
    s = settings_for(preset, sim, planner=local, keyframes=local)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None and res.movie.is_file()
    assert burst.fired == 9
    assert sim.stats()["totals"]["jobs_created"] == 1


async def test_429s_that_outlast_one_call_s_patience_are_not_waited_out_by_every_call(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider answering nothing but 429s (a quota used up): once one call has waited
    the whole RATE_LIMIT_PATIENCE out, the render's other calls to it keep the policy's
    four tries. Before, each call waited the patience out: 30 scenes two at a time would
    have taken 15 times RATE_LIMIT_PATIENCE (45 minutes) to fail."""
    from mindmovie import retry

    no_retry_waits(monkeypatch)
    monkeypatch.setattr(retry, "RATE_LIMIT_PATIENCE", 0.5)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: Two\ngoals:\n  - category: health\n    vision: I run\n    scenes: 2\n")
    sim.add_fault("http", path=TASKS, method="POST", status=429, count=None)
    one_at_a_time = {"base_url": sim.ark_base_url, "max_concurrent": 1}
    local = {"provider": "local"}
    s = settings_for(
        "byteplus", sim, planner=local, keyframes=local, providers={"byteplus": one_at_a_time}
    )
    with pytest.raises(RenderFailed, match="2 scene\\(s\\) failed"):
        await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    tries: dict[str, int] = {}
    for r in sim.requests():
        if r["method"] == "POST" and r["path"].endswith(TASKS):
            (frame,) = [c["image_url"]["url"] for c in r["body"]["content"] if c["type"] != "text"]
            tries[frame] = tries.get(frame, 0) + 1
    assert sorted(tries.values())[0] == 4 and sorted(tries.values())[1] > 4, tries.values()
    assert sim.stats()["totals"]["jobs_created"] == 0


async def test_a_quota_asking_to_wait_an_hour_fails_the_render_at_once_saying_when(
    sim: SimServer, tmp_path: Path
) -> None:
    """Seedance creates answered 429 with Retry-After: 3600 (a quota used up until the
    next hour): each call waited MAX_RETRY_AFTER (120 s) between its tries and then
    failed, scene after scene, with no word of when to try again. The render now ends
    at once, each scene saying when to render again, and the next render buys only the
    clips (the keyframes were kept)."""
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: Two\ngoals:\n  - category: health\n    vision: I run\n    scenes: 2\n")
    quota = sim.add_fault("http", path=TASKS, method="POST", status=429, retry_after=3600,
                          count=None)  # fmt: skip
    one_at_a_time = {"base_url": sim.ark_base_url, "max_concurrent": 1}
    s = settings_for(
        "byteplus", sim, planner={"provider": "local"}, providers={"byteplus": one_at_a_time}
    )
    with pytest.raises(RenderFailed) as e:
        await asyncio.wait_for(Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run(), 60)
    msg = str(e.value)
    assert "2 scene(s) failed" in msg, msg
    assert (
        msg.count("it asks to wait 1 h 0 min before trying again, longer than a render waits") == 2
    ), msg
    assert "render again after" in msg
    assert quota.fired == 2 and sim.stats()["totals"]["jobs_created"] == 0
    sim.clear_faults()
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None
    totals = sim.stats()["totals"]
    assert (totals["images"], totals["jobs_created"]) == (2, 2)


async def test_stuck_job_hits_deadline_naming_scene_and_provider(
    sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("stuck", path=TASKS, method="POST", count=1)
    settings = _byteplus(sim, job_deadline=1.0)
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run()
    msg = str(e.value)
    assert "1 scene(s) failed" in msg and "byteplus" in msg and "not finished after 1 s" in msg
    stuck = sim.jobs()[0]  # the fault hit the first job created
    (scene,) = [
        s["scene_id"] for s in collect_status(tmp_path / "run")["steps"]
        if s["stage"] == "clip" and s["status"] == "failed"
    ]  # fmt: skip
    assert scene in msg and stuck.id in msg
    # the other scenes' clips are kept for the next run
    assert len(list((tmp_path / "run").glob("scenes/*/clip.mp4"))) == 3


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_a_job_past_its_deadline_says_it_still_runs_and_the_next_render_pays_nothing_more(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str
) -> None:
    """A render stopped waiting for a clip job at its deadline (job_deadline 1 s, the job
    takes 2.5 s). The scene's line said only "job X not finished after 1 s (status
    queued)" under "`render` again retries them": nothing said the job keeps running
    and bills at the provider, nor that the next render costs nothing more. Now it
    does, and the next render, once the job is done, takes that job: no spend question,
    one job created, billed once."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = settings_for(preset, sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    s.provider_settings(preset).job_deadline = 1.0
    run = tmp_path / "run"
    path = TASKS if preset == "byteplus" else "predictLongRunning"
    sim.add_fault("slow", path=path, method="POST", count=1, seconds=2.5)
    if preset == "byteplus":  # the provider's own words of the wait, said with it
        sim.add_fault("patch", path=f"{TASKS}/", method="GET", count=None,
                      body={"error": {"code": "QueueFull", "message": "waiting"}})  # fmt: skip
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    sim.clear_faults()
    msg = str(ei.value)
    (job,) = sim.jobs()
    assert f"job {job.name} not finished after 1 s" in msg, msg
    if preset == "byteplus":
        assert ": QueueFull: waiting); it is still running at byteplus" in msg, msg
    assert f"it is still running at {preset} and bills: the next render waits for this" in msg
    assert "same job, paying nothing more" in msg, msg
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "committed" and row["remote_id"] == job.name, row
    time.sleep(max(0.0, job.finish_at() - time.monotonic()) + 0.2)
    asked: list[float] = []
    res = await Pipeline(
        goals, s, out=run, keys=KEYS, confirm=lambda e: asked.append(e.total) or True
    ).run()
    assert res.movie is not None and asked == [], asked
    assert len(sim.jobs()) == 1
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


async def test_a_job_of_a_task_status_not_known_is_not_refunded(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Seedance task answering a status the client does not know (as Ark may add one:
    "preprocessing") was taken for failed: its row refunded at $0 and its room in the
    budget given back, while Ark made and billed the job. It is waited for as running,
    for UNKNOWN_STATUS_PATIENCE only (a status that never changes held every render for
    the job's whole deadline, and was said "still running and bills"); its row stays
    committed, and the next render takes that job."""
    from mindmovie import pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "UNKNOWN_STATUS_PATIENCE", 0.5)
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    local = {"provider": "local"}
    s = settings_for("byteplus", sim, planner=local, keyframes=local)
    assert s.providers.byteplus.job_deadline == 60  # not what ends the wait
    run = tmp_path / "run"
    sim.add_fault("patch", path=f"{TASKS}/", method="GET", count=None,
                  body={"status": "preprocessing"})  # fmt: skip
    began = time.monotonic()
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert time.monotonic() - began < 30
    msg = str(ei.value)
    (job,) = sim.jobs()
    assert f"job {job.name}: byteplus gives its status as 'preprocessing', which" in msg, msg
    assert "whether it ends made, and bills, is not known" in msg
    assert "still running" not in msg
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "committed" and row["remote_id"] == job.name, row
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=lambda e: True).run()
    assert res.movie is not None and len(sim.jobs()) == 1
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


async def test_a_job_of_an_earlier_version_in_a_status_not_known_is_not_said_running(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render's last look at the jobs no scene uses any more (its scene edited) said
    a job in a status the client does not know was "still running at the provider and
    will be billed": it names the status and says its outcome is not known."""
    import yaml

    from mindmovie import pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "UNKNOWN_STATUS_PATIENCE", 0.3)
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    local = {"provider": "local"}
    s = settings_for("byteplus", sim, planner=local, keyframes=local)
    run = tmp_path / "run"
    sim.add_fault("patch", path=f"{TASKS}/", method="GET", count=None,
                  body={"status": "preprocessing"})  # fmt: skip
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (first,) = sim.jobs()
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    plan["scenes"][0]["motion_prompt"] += ", slowly"
    (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS, reporter=Rec()).run()
    (said,) = [w for w in warned if first.name in w]
    assert "gives its status as 'preprocessing'" in said and "is not known" in said, said
    assert "still running" not in said


def _fallback_counted_as_a_second_try(run: Path, stage: str) -> None:
    """Status counts a refused scene's fallback as its second try: its tries column and
    its step say 2 (they said 1), every other scene's 1."""
    st = collect_status(run)
    calls = [r["scene_id"] for r in st["ledger"] if r["stage"] == stage]
    (refused,) = {sid for sid in calls if calls.count(sid) == 2}  # its try and its fallback
    tries = {row["scene_id"]: row["attempts"] for row in st["scenes"]}
    assert tries[refused] == 2
    assert all(n == 1 for sid, n in tries.items() if sid != refused), tries
    step = next(s for s in st["steps"] if s["scene_id"] == refused and s["stage"] == stage)
    assert step["attempts"] == 2 and step["status"] == "succeeded"


async def test_content_rejection_retried_once_with_fallback_counted_as_a_second_try_and_resumed(
    sim: SimServer, tmp_path: Path
) -> None:
    """One refusal: the scene is retried once with a softened prompt and the movie finishes;
    the refused job is recorded as refunded (Seedance does not bill refusals).
    The fallback is a new request (a new key), so its step started again at attempt 1:
    status's tries column said 1 for a scene tried twice (`_fallback_counted_as_a_second_try`).
    And (one render, the same refusal) a journaled fallback job is resumed, not paid
    again: the planned clip was refused and its fallback job submitted when the run died:
    the next render polls THAT job. Starting again from the planned request would pay for
    the refused request again and then for a second fallback."""
    import sqlite3

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=TASKS, method="POST", count=1)
    run = tmp_path / "run"
    pipe = Pipeline(goals, settings_for("byteplus", sim), out=run, keys=KEYS)
    res = await pipe.run()
    assert res.movie is not None
    creates = sim.requests(path=TASKS, method="POST")
    assert len(creates) == 5  # 4 scenes + 1 fallback
    texts = [c["body"]["content"][0]["text"] for c in creates]
    assert sum("calm, wholesome" in t for t in texts) == 1
    rows = collect_status(run)["ledger"]
    clip_rows = [r for r in rows if r["stage"] == "clip"]
    assert sorted(r["state"] for r in clip_rows) == ["billed"] * 4 + ["refunded"]
    # the fallback counts as a second try
    _fallback_counted_as_a_second_try(run, "clip")
    # the journaled fallback job is resumed, not paid again
    assert sim.stats()["totals"]["jobs_created"] == 5  # 4 + the fallback
    st = collect_status(run)
    (refused,) = [r for r in st["ledger"] if r["state"] == "refunded"]
    scene = refused["scene_id"]
    (fallback,) = [
        r for r in st["ledger"] if r["scene_id"] == scene and r["stage"] == "clip"
        and r["state"] == "billed"
    ]  # fmt: skip
    # as a kill right after the fallback's id was journaled leaves it: submitted, not
    # downloaded, its ledger row still committed
    db = sqlite3.connect(run / "run.db")
    db.execute(
        "UPDATE steps SET status='submitted', artifact=NULL, sha256=NULL "
        "WHERE scene_id=? AND stage='clip'",
        (scene,),
    )
    db.execute("UPDATE ledger SET state='committed', billed_usd=NULL WHERE id=?", (fallback["id"],))
    db.commit()
    db.close()
    (run / "scenes" / scene / "clip.mp4").unlink()

    res = await Pipeline(goals, settings_for("byteplus", sim), out=run, keys=KEYS).run()
    assert res.movie is not None and (scene, "clip") in res.ran
    assert sim.stats()["totals"]["jobs_created"] == 5  # no new job: the fallback was polled
    after = [r for r in collect_status(run)["ledger"] if r["scene_id"] == scene]
    assert [r["state"] for r in after if r["stage"] == "clip"] == ["refunded", "billed"]


async def test_turning_audio_on_buys_the_clip_with_sound_and_only_a_refusal_s_fallback_is_kept(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audio-off content-filter fallback's key is that of the same request planned
    with audio off, so turning `video.audio` on after a clip was made with it off found
    the silent clip as the scene's fallback: the estimate said $0.00, `status` "reuse",
    and the render kept the clip silent. A fallback counts only when it was made as one
    (the planned request refused), which the run.db records. The silent clip is kept
    (paid): audio off again puts it back, and a refusal's fallback is still reused."""
    from mindmovie.pipeline import estimate_for

    goals = _quick_goals(sim, tmp_path, monkeypatch)
    on, off = _seedance_audio(sim, True), _seedance_audio(sim, False)

    run = tmp_path / "run"
    assert (await Pipeline(goals, off, out=run, keys=KEYS).run()).movie is not None
    assert _audio_creates(sim) == [False]
    assert estimate_for(goals, on, out=run).total > 0  # the clip with sound
    (row,) = collect_status(run, settings=on)["scenes"]
    assert row["reuse"]["clip"] is False, row
    assert (await Pipeline(goals, on, out=run, keys=KEYS).run()).movie is not None
    assert _audio_creates(sim) == [False, True]
    # the silent clip (paid) was kept: audio off again puts it back, buying nothing
    assert estimate_for(goals, off, out=run).total == 0
    res = await Pipeline(goals, off, out=run, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False, True]
    # a refusal's fallback (audio off) is the scene's clip with audio on: reused
    other = tmp_path / "refused"
    sim.add_fault("reject", path=TASKS, method="POST", count=1)
    assert (await Pipeline(goals, on, out=other, keys=KEYS).run()).movie is not None
    assert _audio_creates(sim) == [False, True, True, False]
    assert estimate_for(goals, on, out=other).total == 0
    res = await Pipeline(goals, on, out=other, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False, True, True, False]
    # the clip with sound refused when a silent one was made before: that one, kept
    # when the refused request was begun, is put back as the fallback, not bought again
    third = tmp_path / "third"
    assert (await Pipeline(goals, off, out=third, keys=KEYS).run()).movie is not None
    sim.add_fault("reject", path=TASKS, method="POST", count=1)
    res = await Pipeline(goals, on, out=third, keys=KEYS).run()
    assert res.movie is not None and (res.plan.scenes[0].id, "clip") in res.reused
    assert _audio_creates(sim) == [False, True, True, False, False, True]
    assert estimate_for(goals, on, out=third).total == 0


async def test_a_silent_clip_s_job_in_flight_when_audio_is_turned_on_is_kept_not_taken(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job of the clip planned with audio off, in flight when a render was killed, is
    not the scene's clip once `video.audio` is on (only a refusal's fallback is): the
    render buys the clip with sound, and the silent job, paid, is kept when it finishes,
    so that audio off again takes it and buys nothing."""
    import sqlite3

    from mindmovie.pipeline import estimate_for

    goals = _quick_goals(sim, tmp_path, monkeypatch)
    on, off = _seedance_audio(sim, True), _seedance_audio(sim, False)

    run = tmp_path / "run"
    res = await Pipeline(goals, off, out=run, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False]
    scene = res.plan.scenes[0].id
    # as a kill right after the job's id was journaled leaves it
    db = sqlite3.connect(run / "run.db")
    db.execute(
        "UPDATE steps SET status='submitted', artifact=NULL, sha256=NULL "
        "WHERE scene_id=? AND stage='clip'",
        (scene,),
    )
    db.execute("UPDATE ledger SET state='committed', billed_usd=NULL WHERE stage='clip'")
    db.commit()
    db.close()
    (run / "scenes" / scene / "clip.mp4").unlink()
    assert estimate_for(goals, on, out=run).total > 0
    res = await Pipeline(goals, on, out=run, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False, True]
    clips = [r for r in collect_status(run)["ledger"] if r["stage"] == "clip"]
    assert [r["state"] for r in clips] == ["billed", "billed"], clips
    assert estimate_for(goals, off, out=run).total == 0
    res = await Pipeline(goals, off, out=run, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False, True]


async def test_a_silent_clip_paid_and_not_downloaded_when_audio_is_turned_on_is_kept(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip planned with audio off whose job finished and was billed but whose download
    failed (or a kill mid-download): with `video.audio` turned on, the step asked the
    clip with sound and let go of the silent job, whose billed row is no stale job to
    keep. The silent clip, paid, was thrown away: bought again as the refused clip's
    fallback, or when audio was turned off again. It is kept before the step moves on."""
    from mindmovie.pipeline import estimate_for

    async def silent_paid_not_downloaded(run: Path) -> None:
        sim.add_fault("http", path="/_sim/files/", method="GET", status=500, count=None)
        with pytest.raises(RenderFailed):
            await Pipeline(goals, off, out=run, keys=KEYS).run()
        sim.clear_faults()
        clips = [r for r in collect_status(run)["ledger"] if r["stage"] == "clip"]
        assert [r["state"] for r in clips] == ["billed"], clips

    goals = _quick_goals(sim, tmp_path, monkeypatch)
    on, off = _seedance_audio(sim, True), _seedance_audio(sim, False)
    # the clip with sound refused: its fallback is the silent clip paid for, not bought
    run = tmp_path / "refused"
    await silent_paid_not_downloaded(run)
    assert _audio_creates(sim) == [False]
    sim.add_fault("reject", path=TASKS, method="POST", count=1)
    res = await Pipeline(goals, on, out=run, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False, True]
    assert estimate_for(goals, on, out=run).total == 0
    # the clip with sound made: the silent one is kept, and audio off again takes it
    run = tmp_path / "on_then_off"
    await silent_paid_not_downloaded(run)
    assert _audio_creates(sim) == [False, True, False]
    res = await Pipeline(goals, on, out=run, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False, True, False, True]
    assert estimate_for(goals, off, out=run).total == 0
    res = await Pipeline(goals, off, out=run, keys=KEYS).run()
    assert res.movie is not None and _audio_creates(sim) == [False, True, False, True]


async def test_a_refusal_with_its_fallback_not_yet_recorded_is_estimated_as_the_render_does(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clip with sound refused, the render killed before it recorded the fallback
    it goes on to (`Store.mark_fallback`): the next render asks the fallback and puts
    back the silent clip kept from before (pays nothing), but the estimate and `status`
    took that kept clip for no fallback's and counted a clip to buy."""
    import sqlite3

    from mindmovie.pipeline import estimate_for

    goals = _quick_goals(sim, tmp_path, monkeypatch)
    on, off = _seedance_audio(sim, True), _seedance_audio(sim, False)
    run = tmp_path / "run"
    res = await Pipeline(goals, off, out=run, keys=KEYS).run()
    scene = res.plan.scenes[0].id
    store = Store(run / "run.db")
    silent = store.get(scene, "clip")
    store.close()
    assert silent is not None
    sim.add_fault("reject", path=TASKS, method="POST", count=1)
    assert (await Pipeline(goals, on, out=run, keys=KEYS).run()).movie is not None
    assert _audio_creates(sim) == [False, True]
    store = Store(run / "run.db")
    refused = [r for r in store.ledger_rows() if r["stage"] == "clip"][-1]
    made = store.job_input(int(refused["id"]))
    store.close()
    assert made is not None
    # as a kill after the refusal was journaled, before the fallback was recorded
    db = sqlite3.connect(run / "run.db")
    db.execute(
        "UPDATE steps SET input_key=?, status='failed', error_kind='content_rejected', "
        "artifact=NULL, sha256=NULL WHERE scene_id=? AND stage='clip'",
        (made[0], scene),
    )
    db.execute("DELETE FROM meta WHERE key=?", (f"fallback:{silent.input_key}",))
    db.commit()
    db.close()
    (run / "scenes" / scene / "clip.mp4").unlink()
    (row,) = collect_status(run, settings=on)["scenes"]
    assert row["reuse"]["clip"] and row["restore"]["clip"], row
    assert estimate_for(goals, on, out=run).total == 0
    res = await Pipeline(goals, on, out=run, keys=KEYS).run()
    assert res.movie is not None and (scene, "clip") in res.reused
    assert _audio_creates(sim) == [False, True]


async def test_a_keyframe_content_filter_fallback_counts_as_a_second_try(
    sim: SimServer, tmp_path: Path
) -> None:
    """The fallback after a refusal is a new request (a new key), so its step started
    again at attempt 1: status's tries column said 1 for a scene tried twice. (The
    clip's case: test_content_rejection_retried_once_with_fallback_counted_as_a_...)"""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path="/images/generations", method="POST", count=1)
    res = await Pipeline(
        goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS
    ).run()
    assert res.movie is not None
    _fallback_counted_as_a_second_try(tmp_path / "run", "keyframe")


@pytest.mark.parametrize("skip_failed", [False, True, "until clips", "disk full"])
async def test_a_chained_clip_waits_for_the_next_keyframe_that_failed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, skip_failed: bool | str
) -> None:
    """video.chain_frames: a clip ends on the next scene's keyframe. That keyframe refused
    both ways, the clip was sent without it: the render made no movie (a scene failed),
    and once the next render made that keyframe the clip was bought again, chained (two
    billed clips for one scene: feature-combinations audit). It waits for it, as for a
    keyframe the budget stopped: each clip is bought once. With --skip-failed (the movie
    without that scene) it is made without its last frame; not with `--until clips`
    too, which makes no movie, nor when the render stops (a full disk): the review found
    either bought it twice."""
    sim.media_scale = 0.25
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("coastal-run.jpg", "garden-dinner.jpg"):
        (photos / name).write_bytes((REPO / "examples" / "photos" / name).read_bytes())
    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: Chain\ngoals:\n"
        "  - {category: health, vision: I run at sunrise, photos: [photos/coastal-run.jpg]}\n"
        "  - {category: wealth, vision: I save with ease}\n"
        "  - {category: family, vision: I dine outside, photos: [photos/garden-dinner.jpg]}\n"
    )
    settings = settings_for(
        "byteplus", sim, planner={"provider": "local"},
        keyframes={"model": "seededit-3-0-i2i"}, video={"chain_frames": True},
    )  # fmt: skip
    # the one scene with no photo of its own has a Seedream keyframe: refused, and its
    # fallback too
    sim.add_fault("reject", model="seedream-4-0-250828", count=2)
    run = tmp_path / "run"
    if skip_failed == "disk full":
        import errno

        real = Pipeline._keyframe

        async def full(self: Pipeline, store: Any, model: Any, scene: Any, *a: Any) -> Path:
            if scene.id == "02-wealth-1":
                raise OSError(errno.ENOSPC, "No space left on device")
            return await real(self, store, model, scene, *a)

        monkeypatch.setattr(Pipeline, "_keyframe", full)
        with pytest.raises(Exception, match="disk"):
            await Pipeline(goals, settings, out=run, keys=KEYS).run(skip_failed=True)
        assert sim.stats()["totals"]["jobs_created"] == 1  # the last scene's only
        return
    if skip_failed == "until clips":
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, settings, out=run, keys=KEYS).run(until="clips", skip_failed=True)
        assert "which failed" in str(ei.value) and "--skip-failed` makes" not in str(ei.value)
        assert sim.stats()["totals"]["jobs_created"] == 1  # the last scene's only
        return
    if skip_failed:
        made = await Pipeline(goals, settings, out=run, keys=KEYS).run(skip_failed=True)
        assert made.movie is not None and list(made.failed) == ["02-wealth-1"], made.failed
        creates = sim.requests(path="/contents/generations/tasks", method="POST")
        assert len(creates) == 2 and '"last_frame"' not in json.dumps(creates)
        return
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert "keyframe (video.chain_frames), which failed" in str(ei.value), ei.value
    assert "--skip-failed` makes it without, for the movie without 02-wealth-1" in str(ei.value)
    assert sim.stats()["totals"]["jobs_created"] == 1  # the last scene's: it ends the movie
    sim.clear_faults()
    # refused as planned and as its fallback, the keyframe is not sent again until its
    # image_prompt is reworded (`refused_whole`)
    import yaml

    plan_yaml = run / "plan.yaml"
    plan = yaml.safe_load(plan_yaml.read_text())
    for sc in plan["scenes"]:
        if sc["id"] == "02-wealth-1":
            sc["image_prompt"] = "A calm kitchen table in the morning sun, reworded."
    plan_yaml.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 3  # each clip once
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    assert sum('"last_frame"' in json.dumps(r["body"]) for r in creates) == 2


async def test_content_rejection_twice_affects_only_that_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=TASKS, method="POST", count=2)
    # one job at a time, so both refusals land on the same scene (its try and its fallback)
    one = {
        "providers": {
            "byteplus": {
                "base_url": sim.ark_base_url,
                "max_concurrent": 1,
                "poll_interval": 0.05,
                "poll_max_interval": 0.1,
            }
        }
    }
    pipe = Pipeline(goals, settings_for("byteplus", sim, **one), out=tmp_path / "run", keys=KEYS)
    with pytest.raises(RenderFailed) as e:
        await pipe.run()
    assert "content filter" in str(e.value) and "--skip-failed" in str(e.value)
    assert pipe.result is not None and len(pipe.result.failed) == 1
    failed = next(iter(pipe.result.failed))
    # and what to change: the same request is refused again ("`render` again" only)
    plan_yaml = tmp_path / "run" / "plan.yaml"
    assert f"reword scene {failed}'s `motion_prompt` in {plan_yaml}" in str(e.value), e.value
    # said apart from the failures a render retries: it would be refused again
    assert "the provider refused them as sent" in str(e.value) and "retries" not in str(e.value)
    assert len(list((tmp_path / "run").glob("scenes/*/clip.mp4"))) == 3
    # the render's own storyboard says so, not "no clip yet" (its board digest counts it)
    page = (tmp_path / "run" / "storyboard.html").read_text(encoding="utf-8")
    assert page.count('<p class="noclip failed">clip failed: ') == 1, page
    assert "no clip yet" not in page
    # --skip-failed composes the movie without it, and says which
    notes: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            notes.append(text)

    pipe = Pipeline(
        goals,
        settings_for("byteplus", sim, **one),
        out=tmp_path / "run",
        keys=KEYS,
        reporter=Rec(),
    )
    sim.add_fault("reject", path=TASKS, method="POST", count=2)
    res = await pipe.run(skip_failed=True)
    assert res.movie is not None and failed in res.failed
    assert any("--skip-failed" in n and failed in n for n in notes)
    # the board drawn beside that compose says the length of the movie it made, without
    # the failed scene (it said the plan's, a scene's length and a crossfade longer)
    from mindmovie.media import probe

    page = (tmp_path / "run" / "storyboard.html").read_text(encoding="utf-8")
    header = page.split('<p class="totals">', 1)[1].split(" · estimated", 1)[0]
    assert header == f"4 scenes · movie {probe(res.movie).duration:g} s"


async def test_until_clips_with_a_failed_scene_fails_even_with_skip_failed(
    sim: SimServer, tmp_path: Path
) -> None:
    """`render --until clips --skip-failed` with a scene whose clip failed warned
    "--skip-failed: composing without 1 scene(s)", composed nothing (it stops after the
    clips) and ended as done (exit 0, "stopped after clips"). --skip-failed is about the
    movie: a clips stage with a failed scene fails, as `--until keyframes` does, naming
    the scene (the next render retries it)."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=TASKS, method="POST", count=2)  # one scene: try, fallback
    one = {
        "providers": {
            "byteplus": {"base_url": sim.ark_base_url, "max_concurrent": 1, "poll_interval": 0.05}
        }
    }
    notes: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            notes.append(text)

    s = settings_for(
        "byteplus", sim, planner={"provider": "local"}, keyframes={"provider": "local"}, **one
    )
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec())
    with pytest.raises(RenderFailed) as e:
        await pipe.run(until="clips", skip_failed=True)
    assert pipe.result is not None and len(pipe.result.failed) == 1
    (failed,) = pipe.result.failed
    assert failed in str(e.value) and "content filter" in str(e.value), e.value
    assert not any("composing" in n for n in notes), notes
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


async def test_lost_answer_to_a_create_adopts_the_job_instead_of_paying_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """The connection breaks after the job request was sent (the job exists, its id is
    lost): the job is found in the provider's list and used; no second job is made."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("drop_after", path=TASKS, method="POST", count=1)
    infos: list[str] = []

    class Rec(NullReporter):
        def info(self, text: str) -> None:
            infos.append(text)

    pipe = Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS,
                    reporter=Rec())  # fmt: skip
    res = await pipe.run()
    assert res.movie is not None
    n = len(res.plan.scenes)
    creates = sim.requests(path=TASKS, method="POST")
    assert len(creates) == n and creates[0]["status"] == "dropped"  # no request sent twice
    assert sim.stats()["totals"]["jobs_created"] == n
    assert any("answer to the job request was lost" in i for i in infos), infos
    st = collect_status(res.run_dir)
    clips = [r for r in st["ledger"] if r["stage"] == "clip"]
    # one row per job, every one billed: nothing left committed or unknown
    assert len(clips) == n and {r["state"] for r in clips} == {"billed"}


async def _until(cond: Any, what: str, within: float = 60.0) -> None:
    """Wait (without blocking the pipeline's loop) until `cond()` holds."""
    import asyncio
    import time

    t_end = time.monotonic() + within
    while not cond():
        assert time.monotonic() < t_end, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


#: the provider's job list (GET .../tasks?page_num=...), not a job's own poll
JOB_LIST = TASKS + "?"


async def _run_in_order(pipe: Pipeline, order: Coroutine[Any, Any, None]) -> Any:
    """Run `pipe` while `order` lets the simulator's held requests go in its order."""
    import asyncio

    task = asyncio.ensure_future(order)
    try:
        res = await pipe.run()
        await task
    finally:
        task.cancel()  # (a request still held is dropped by the sim fixture's reset)
    return res


def _every_create_is_a_job(sim: SimServer) -> bool:
    """Each create the simulator has received has become a job (a request is recorded
    when it arrives, its job made once its delay is over)."""
    return len(sim.jobs()) == len(sim.requests(path=TASKS, method="POST"))


def _scene_of(body: Any, prompts: dict[str, str]) -> str:
    """The scene a create request's body asks a clip for (by its motion prompt)."""
    text = " ".join(
        str(c.get("text", "")) for c in body.get("content", []) if c.get("type") == "text"
    )
    (sid,) = [sid for sid, p in prompts.items() if p in text]
    return sid


def _unsettled_at_each_create(sim: SimServer, plan: Any) -> list[tuple[str, list[str]]]:
    """For each create the simulator got, in order: its scene, and the scenes of the
    earlier creates whose job was not made yet when it arrived (the simulator's own
    record: held, or to be made late). Under the pipeline's invariant these are only
    the same scene's (a request sent again once its grace is over)."""
    prompts = {sc.id: sc.motion_prompt for sc in plan.scenes}
    every = sim.requests()
    out = []
    for r in sim.requests(path=TASKS, method="POST"):
        pending = [_scene_of(every[i]["body"], prompts) for i in r["pending"]]
        out.append((_scene_of(r["body"], prompts), pending))
    return out


async def test_a_lost_create_holds_every_other_create_until_its_late_job_is_adopted(
    sim: SimServer, tmp_path: Path
) -> None:
    """The answer to scene A's create is lost and the provider lists A's job only after
    the pipeline's first look. Before, the request was sent again at once (the late job
    billed unused), and other scenes kept submitting, so a job appearing could not be
    told from theirs. Now nothing more is sent to the provider until A's job is listed;
    A takes it: one job per scene, every clip row billed once, none unused."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    told: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            told.append(text)

        def info(self, text: str) -> None:
            told.append(text)

    async def make_the_job_once_the_wait_is_told() -> None:
        # (the job cannot be listed before this: the looks so far found none)
        await _until(lambda: any("waiting for it" in t for t in told), "the wait to be told")
        sim.release(late)

    pipe = Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS, reporter=Rec())
    res = await _run_in_order(pipe, make_the_job_once_the_wait_is_told())
    n = len(res.plan.scenes)
    assert res.movie is not None
    creates = sim.requests(path=TASKS, method="POST")
    assert len(creates) == n and sim.stats()["totals"]["jobs_created"] == n
    # no create reached the provider while an earlier one's job was still to come
    assert all(pending == [] for _, pending in _unsettled_at_each_create(sim, res.plan))
    first = _scene_of(creates[0]["body"], {sc.id: sc.motion_prompt for sc in res.plan.scenes})
    store = Store(res.run_dir / "run.db", read_only=True)
    try:
        step = store.get(first, "clip")
    finally:
        store.close()
    assert step is not None and step.remote_id == creates[0]["job"], (step, creates[0])
    clips = ledger_rows(res.run_dir, "clip")
    assert len(clips) == n and {r["state"] for r in clips} == {"billed"}, clips
    assert not any((r["usage"] or {}).get("unused") for r in clips), clips
    assert any("waiting for it" in t and "No other clip is sent" in t for t in told), told
    assert any("picking it up" in t for t in told), told


async def test_a_create_that_times_out_whose_job_is_listed_at_the_look_is_adopted(
    sim: SimServer, tmp_path: Path
) -> None:
    """The same timed-out create, with its job made just before the pipeline's look at
    the job list is answered (the other order of the test above): the job is used for
    the scene, nothing is sent again, and every row is billed."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    late = sim.add_fault("delay", path=TASKS, method="POST", count=1, seconds=60.0)
    # every look is held until the late job is made (one that timed out is looked again)
    look = sim.add_fault("delay", path=JOB_LIST, method="GET", count=None, seconds=60.0)
    infos: list[str] = []

    class Rec(NullReporter):
        def info(self, text: str) -> None:
            infos.append(text)

    async def make_the_job_during_the_look() -> None:
        await _until(lambda: sim.requests(path=JOB_LIST, method="GET"), "the look at the list")
        sim.release(late)
        await _until(lambda: _every_create_is_a_job(sim), "the late job")
        sim.release(look)

    s = _paid_clips_only(sim)
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec())
    res = await _run_in_order(pipe, make_the_job_during_the_look())
    n = len(res.plan.scenes)
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == n  # not sent again
    assert sim.stats()["totals"]["jobs_created"] == n
    assert any("answer to the job request was lost" in i for i in infos), infos
    clips = ledger_rows(res.run_dir, "clip")
    assert len(clips) == n and {r["state"] for r in clips} == {"billed"}, clips


async def test_request_lost_before_the_job_is_made_is_sent_again_once_its_grace_is_over(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection breaks before the provider made the job, and no job ever comes.
    Before, the request was sent again at once, so a job appearing late would have been
    paid twice. Now the scene, and every other create to the provider, waits for it
    until LATE_JOB_GRACE (shortened here) has passed since it was sent; then the row is
    refunded and the request sent again: one job per scene, nothing left committed."""
    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 1.0)
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("drop", path=TASKS, method="POST", count=1)
    warnings: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warnings.append(text)

    s = _byteplus(sim)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run()
    n = len(res.plan.scenes)
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == n
    creates = sim.requests(path=TASKS, method="POST")
    assert len(creates) == n + 1 and creates[0]["status"] == "dropped"
    # the scene's request was sent twice, every other scene's once, and no create
    # (the scene's own or another's) went out before the grace was over
    order = [sid for sid, _ in _unsettled_at_each_create(sim, res.plan)]
    assert order.count(order[0]) == 2 and len(set(order)) == n, order
    assert creates[1]["time"] - creates[0]["time"] >= 0.5, creates
    clips = ledger_rows(res.run_dir, "clip")
    assert sorted(r["state"] for r in clips) == ["billed"] * n + ["refunded"], clips
    assert any("waiting for it" in w for w in warnings), warnings


async def test_a_wall_clock_jump_while_waiting_for_a_late_job_does_not_cut_its_grace(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create's answer is lost (the simulator makes the job 3 s later), and while the
    render waits for its late job this machine's wall clock jumps an hour ahead (an NTP
    correction). The grace (300 s) was counted by the wall clock: it looked over at the
    next look, the row was refunded ("never reached the provider") and the clip bought
    again, the late job billed unused: two jobs paid for one clip. The time waited in
    this render is now counted by the monotonic clock: the late job is taken, one job."""
    from mindmovie import pipeline

    class Jumped:
        """pipeline's `time`, its wall clock `ahead` s ahead (the rest as time's)."""

        ahead = 0.0

        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        def time(self) -> float:
            return time.time() + self.ahead

    clock = Jumped()
    monkeypatch.setattr(pipeline, "time", clock)
    goals, s, _ = _one_scene_with_lost_creates(sim, tmp_path, monkeypatch, count=1, seconds=3.0)

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            if "waiting for it" in text:  # the render waits for the late job: the jump
                clock.ahead = 3600.0

    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run()
    assert res.movie is not None and clock.ahead == 3600.0
    assert len(sim.requests(path=TASKS, method="POST")) == 1  # the clip not bought again
    assert sim.stats()["totals"]["jobs_created"] == 1
    assert [r["state"] for r in ledger_rows(res.run_dir, "clip")] == ["billed"]


async def test_a_create_the_service_answered_500_is_waited_for_briefly_not_the_whole_grace(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create answered 500 by the service itself (no job made): it may have made the
    job, so the list is looked at and the row stays committed; but nothing of the
    request is still in flight, so a job it made would be listed at once. It was waited
    for the whole grace (300 s) like a gateway's 504, holding every create: a provider
    answering 500 to each create took 6 scenes x 3 tries x 300 s to fail. It is waited
    for ANSWERED_GRACE; its note says so, for a later render and for `status`."""
    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 120.0)
    monkeypatch.setattr(pipeline, "ANSWERED_GRACE", 0.5)
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("http", path=TASKS, method="POST", count=1, status=500)
    s = _byteplus(sim)
    run = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    res = await asyncio.wait_for(run, timeout=60)  # the whole grace: 120 s
    n = len(res.plan.scenes)
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == n
    clips = ledger_rows(res.run_dir, "clip")
    assert sorted(r["state"] for r in clips) == ["billed"] * n + ["refunded"], clips
    (refunded,) = [r for r in clips if r["state"] == "refunded"]
    assert refunded["usage"]["lost"]["grace"] == 0.5, refunded


def test_status_counts_a_500s_wait_by_its_own_grace() -> None:
    """`status` says how long a render would hold the creates for a lost request: for a
    create the service answered 500, its note's grace, not the whole one."""
    from mindmovie.status import _late_waits

    now = time.time()
    row = {"stage": "clip", "state": "committed", "remote_id": None, "provider": "byteplus",
           "model": "m", "scene_id": "s1", "created_at": now}  # fmt: skip
    whole = _late_waits([{**row, "usage": {"lost": {"sent_at": now}}}], "m")
    brief = _late_waits([{**row, "usage": {"lost": {"sent_at": now, "grace": 30.0}}}], "m")
    assert 290 < whole[0]["seconds"] <= 300, whole
    assert 20 < brief[0]["seconds"] <= 30, brief


def test_status_says_a_scenes_wait_by_its_notes_grace_and_from_now_at_the_latest(
    tmp_path: Path,
) -> None:
    """The scene's own line ("wait up to N s for the job of a request sent before the
    last run stopped") counts as the render waits (`Pipeline._no_job_found`): a create
    the service answered 500 by its note's grace, and a send time noted ahead of now
    (a clock set ahead) from now. It counted the whole grace from the noted time: 300 s
    where the render waits 30 s (and the line below the table said 30), an hour more
    for a clock an hour ahead."""
    from mindmovie.status import _late_jobs
    from mindmovie.store import Store

    store = Store(tmp_path / "run.db")
    store.begin("s1", "clip", "k1")
    store.begin("s2", "clip", "k2")
    now = time.time()
    row = {"stage": "clip", "state": "committed", "remote_id": None, "provider": "byteplus",
           "model": "m", "created_at": now}  # fmt: skip
    late = _late_jobs(
        store,
        [
            {**row, "scene_id": "s1", "usage": {"lost": {"input_key": "k1", "sent_at": now,
                                                          "grace": 30.0}}},
            {**row, "scene_id": "s2", "usage": {"lost": {"input_key": "k2",
                                                          "sent_at": now + 3600}}},
        ],
    )  # fmt: skip
    assert 20 < late["s1"] <= 30, late
    assert 290 < late["s2"] <= 300, late


async def test_status_says_a_scenes_wait_for_a_500s_request_by_its_own_grace(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scene whose create the service answered 500 (its note's grace: ANSWERED_GRACE):
    the next render waits for its job that long, and status's late_wait said so, but
    the scene's own line said "wait up to 300 s for the job of a request sent before
    the last run stopped": the whole grace. Both go by the note's grace now."""
    from mindmovie.providers import registry

    goals, s, run, sc, _, _, key = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    store = Store(run / "run.db")
    try:
        store.begin(sc.id, "clip", key)
        row = store.ledger_commit(
            sc.id, "clip", "byteplus", registry.make_video(s, KEYS).model, 0.1
        )
        store.ledger_note_lost(row, key, time.time(), grace=30.0)
        store.fail(sc.id, "clip", "connection_lost", "the answer to the create was lost")
    finally:
        store.close()
    st = collect_status(run, settings=s, goals=goals)
    (wait,) = st["late_wait"]
    assert 20 < wait["seconds"] <= 30, wait
    (scene,) = st["scenes"]
    assert scene["next"].startswith("wait up to 3"), scene["next"]
    assert 20 < float(scene["next"].split()[3]) <= 30, scene["next"]


async def test_concurrency_limit_holds_and_overlaps(sim: SimServer, tmp_path: Path) -> None:
    """9 scenes, max_concurrent 3, 1 s jobs: never more than 3 in flight, ~3 waves."""
    sim.media_scale = 0.25
    sim.job_seconds = 1.0
    g = tmp_path / "goals.yaml"
    g.write_text(
        "title: Nine\ngoals:\n"
        + "".join(f"  - category: growth\n    vision: Vision number {i}\n" for i in range(9))
    )
    settings = _byteplus(sim, max_concurrent=3, poll_max_interval=0.05, job_deadline=60)
    claude_answer_for(sim, g)
    rec = _Steps()
    res = await Pipeline(g, settings, out=tmp_path / "run", keys=KEYS, reporter=rec).run(
        until="clips"
    )
    assert len(res.plan.scenes) == 9
    # what the person saw: the scenes past the first three wait in "queued" for a slot
    states = {sc.id: [st for stage, sid, st in rec.steps if stage == "clips" and sid == sc.id]
              for sc in res.plan.scenes}  # fmt: skip
    queued = [sid for sid, sts in states.items() if "queued" in sts]
    assert len(queued) >= 6, states
    for sid in queued:
        sts = states[sid]
        assert sts.index("queued") < sts.index("submitting") < sts.index("done"), sts
    stats = sim.stats()
    assert stats["in_flight_max"] == 3
    assert stats["totals"]["jobs_created"] == 9
    # The video stage, as the provider saw it: first job created to last job finished.
    # Three at a time is 3 waves = 3 s at best (measured 3.2 s on a busy 2-core machine);
    # one at a time would be 9 s. The upper bound leaves 2 latencies for a loaded
    # machine's polling and submission delays.
    jobs = sim.jobs()
    span = max(j.created + j.latency for j in jobs) - min(j.created for j in jobs)
    assert span >= 3 * 1.0 - 1e-6, f"more than 3 jobs overlapped (stage took {span:.2f} s)"
    assert span <= 5.0 * 1.0, f"the video stage took {span:.2f} s, not ~3 job latencies"


async def test_a_refusal_the_provider_bills_is_billed_not_refunded(
    sim: SimServer, tmp_path: Path
) -> None:
    """Some providers charge for output their filter then refused (lessons.md). When the
    failed task reports usage.completion_tokens, the ledger bills that job from its usage
    (the money is spent and counts against the budget); the fallback job is billed too.
    The warning says the refused job was billed: the fallback is paid past the estimate
    agreed to, and it said only "refused ... trying once more"."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=TASKS, method="POST", count=1, billed=True)
    said = _Said()
    res = await Pipeline(
        goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS, reporter=said
    ).run()
    assert res.movie is not None
    (told,) = [t for t in said.said if "refused by the content filter" in t]
    assert "(billed $0.10 all the same)); trying once more" in told, told
    assert sim.stats()["totals"]["jobs_created"] == 5  # 4 scenes + the refused one's fallback
    st = collect_status(tmp_path / "run")
    clips = [r for r in st["ledger"] if r["stage"] == "clip"]
    assert sorted(r["state"] for r in clips) == ["billed"] * 5
    refused = [r for r in clips if (r.get("usage") or {}).get("status") == "rejected"]
    assert len(refused) == 1 and refused[0]["billed_usd"] > 0
    # every billed token is one the provider (the simulator) counted, refusal included
    tokens = sum(
        m["completion_tokens"] for k, m in sim.stats()["models"].items() if k.startswith("seedance")
    )
    assert sum(r["billed_usd"] for r in clips) == pytest.approx(tokens * 1.2 / 1e6, abs=1e-6)


async def _two_clip_jobs_left_in_flight(
    sim: SimServer, tmp_path: Path, *, local_plan: bool
) -> tuple[Path, Any, Path, dict[str, Any]]:
    """A byteplus render (its plan local or Claude's) that left two paid clip jobs in
    flight (their polls failed with 503s to the deadline) and a scene whose picture was
    refused: the goals, the settings, the run folder and its status's money."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    fast = {"base_url": sim.ark_base_url, "job_deadline": 1.5, "poll_interval": 0.05}
    planner = {"planner": {"provider": "local"}} if local_plan else {}
    s = settings_for("byteplus", sim, providers={"byteplus": fast}, **planner)
    run = tmp_path / "run"
    sim.add_fault("http", path="/images/generations", status=400, count=2, message="no")
    sim.add_fault("http", path=TASKS + "/", method="GET", status=503, count=None)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    sim.clear_faults()
    return goals, s, run, collect_status(run)["money"]


async def test_a_budget_used_up_by_jobs_in_flight_still_collects_them(
    sim: SimServer, tmp_path: Path
) -> None:
    """Two clip jobs whose polls failed (503s to the deadline) are paid and journaled; a
    scene's picture was refused. The next render's budget is just what the run holds:
    it stopped before anything, "the budget ... is already used", leaving the two paid
    jobs at the provider (their results valid for a day) though collecting them is free.
    Now no paid call is made and they are collected; the scene left still stops it."""
    goals, s, run, money = await _two_clip_jobs_left_in_flight(sim, tmp_path, local_plan=True)
    assert money["in_flight"] > 0 and not list(run.glob("scenes/*/clip.mp4"))
    jobs = sim.stats()["totals"]["jobs_created"]
    cap = money["billed"] + money["in_flight"]
    # `--until keyframes` collects no clip: stopped before anything, as it was, and
    # not told of jobs collected
    said = _Said()
    with pytest.raises(BudgetStopped, match=r"^the budget .* is already used"):
        await Pipeline(goals, s, out=run, keys=KEYS, budget=cap, reporter=said).run(
            until="keyframes"
        )
    assert not said.said and not list(run.glob("scenes/*/clip.mp4"))
    with pytest.raises(BudgetStopped, match="already used"):
        await Pipeline(goals, s, out=run, keys=KEYS, budget=cap, reporter=said).run()
    assert len(list(run.glob("scenes/*/clip.mp4"))) == jobs == 2
    assert sim.stats()["totals"]["jobs_created"] == jobs  # nothing bought
    assert any("no paid call is made; the 2 clip jobs already paid for are collected" in t
               for t in said.said), said.said  # fmt: skip


async def test_a_budget_used_up_by_jobs_in_flight_with_a_plan_to_make_stops_up_front(
    sim: SimServer, tmp_path: Path
) -> None:
    """As the case above, but goals.yaml changed since the plan: the plan is to be made
    again, a paid call the closed gate refuses. The render said "no paid call is made;
    the 2 clip jobs already paid for are collected", moved plan.yaml aside, collected
    none, and stopped at the plan ("plan for _run not started"). It stops up front, as
    before, its plan.yaml as it was."""
    goals, s, run, money = await _two_clip_jobs_left_in_flight(sim, tmp_path, local_plan=False)
    plan = (run / "plan.yaml").read_text()
    goals.write_text(goals.read_text().replace("Living by the sea", "Living by a lake"))
    said = _Said()
    with pytest.raises(BudgetStopped, match=r"^the budget .* is already used"):
        await Pipeline(
            goals, s, out=run, keys=KEYS, budget=money["billed"] + money["in_flight"], reporter=said
        ).run()
    assert not any("collected" in t for t in said.said), said.said
    assert (run / "plan.yaml").read_text() == plan
    assert sim.stats()["totals"]["messages"] == 1  # the first render's plan only


async def test_a_failed_job_fails_only_its_scene_naming_it_and_the_cause(
    sim: SimServer, tmp_path: Path
) -> None:
    """A job the provider reports failed: the step fails with the scene, the provider and
    the provider's own error code; the job is refunded (nothing billed), the other clips
    are kept, and the next render makes only that clip."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("fail", path=TASKS, method="POST", count=1, code="InternalServiceError")
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run()
    msg = str(e.value)
    st = collect_status(tmp_path / "run")
    (failed,) = [s for s in st["steps"] if s["stage"] == "clip" and s["status"] == "failed"]
    assert failed["scene_id"] in msg and "byteplus" in msg and "InternalServiceError" in msg
    assert len(list((tmp_path / "run").glob("scenes/*/clip.mp4"))) == 3
    (row,) = [
        r for r in st["ledger"] if r["stage"] == "clip" and r["scene_id"] == failed["scene_id"]
    ]
    assert row["state"] == "refunded" and not row["billed_usd"]
    # its job is journaled, but the provider said it failed: a new clip to buy, in the
    # estimate and in status alike (Store.resumable_job), not "re-poll job ..."
    from mindmovie.pipeline import estimate_for

    est = estimate_for(goals, settings_for("byteplus", sim), out=tmp_path / "run")
    assert [s.video.usd > 0 for s in est.scenes].count(True) == 1
    st = collect_status(tmp_path / "run")
    (scene,) = [s for s in st["scenes"] if s["scene_id"] == failed["scene_id"]]
    assert scene["next"] == "retry the clip (attempt 2)", scene
    res = await Pipeline(
        goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS
    ).run()
    assert res.movie is not None and res.ran.count((failed["scene_id"], "clip")) == 1
    assert [r for r in res.ran if r[1] == "clip"] == [(failed["scene_id"], "clip")]
    assert sim.stats()["totals"]["jobs_created"] == 5  # 4 + the one made again


async def test_a_slow_job_is_waited_for_within_its_deadline(sim: SimServer, tmp_path: Path) -> None:
    """A job that takes far longer than the others (but less than job_deadline) is polled
    until it ends: the movie finishes with one job per scene, none made twice."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("slow", path=TASKS, method="POST", count=1, seconds=2.5)
    settings = _byteplus(sim, poll_max_interval=0.2, job_deadline=10)
    res = await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None
    slow = [j for j in sim.jobs() if j.latency >= 2.5]
    assert len(slow) == 1 and sim.stats()["totals"]["jobs_created"] == len(res.plan.scenes)
    assert len(sim.requests(path=f"{TASKS}/{slow[0].id}", method="GET")) >= 2  # polled on


async def test_a_paid_job_the_provider_cannot_show_right_now_is_not_made_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip's job finished (billed) but its download failed; the next render looks at
    the job again before using it. When that look fails for a passing reason (a 503 on
    every retry) the job used to be taken as failed and a second one was paid for the
    same inputs. Now the scene fails for this run, keeping the job, and the run after
    that uses it: one job per scene in the end."""
    from mindmovie.store import Store

    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    s = seedance_only(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path="/_sim/files/", status=500, count=None)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    made = sim.stats()["totals"]["jobs_created"]
    store = Store(run / "run.db")
    step = next(x for x in store.steps() if x.stage == "clip" and x.remote_id)
    store.close()
    sim.clear_faults()
    sim.add_fault("http", path=f"/tasks/{step.remote_id}", method="GET", status=503, count=None)
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert step.scene_id in str(e.value) and "503" in str(e.value)
    assert sim.stats()["totals"]["jobs_created"] == made  # no second job for that scene
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == made
    clips = [r for r in collect_status(run)["ledger"] if r["stage"] == "clip"]
    assert len(clips) == made and {r["state"] for r in clips} == {"billed"}, clips


def _said_unsent_once(msg: str, n: int) -> None:
    """The render's error says the refusal once, for the scene whose call was sent, and
    names the `n` scenes not sent for it on one line: it said the refusal again for
    each ("... (not sent: refused earlier in this run)"), 14 lines for 7 scenes."""
    lines = msg.splitlines()
    assert "(not sent: refused earlier in this run)" not in msg, msg
    (unsent,) = [
        ln for ln in lines if ln.endswith("the key or account was refused earlier in this run")
    ]
    assert len(unsent.split(":")[0].split(",")) == n, msg
    assert len(lines) == 3, msg  # the count, the refusal, the scenes not sent


async def test_a_refused_key_is_asked_once_not_once_per_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    """A wrong key (401): the first refusal stops that model's other calls in this run,
    each failed scene says why, and nothing is spent. Before, every scene sent its own
    request and got its own 401."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("http", path="/images/generations", status=401, count=None)
    settings = _byteplus(sim, max_concurrent=1)
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run()
    sent = sim.requests(path="/images/generations", method="POST")
    assert len(sent) == 1, len(sent)
    failed = [
        s for s in collect_status(tmp_path / "run")["steps"]
        if s["stage"] == "keyframe" and s["status"] == "failed"
    ]  # fmt: skip
    assert len(failed) == 4 and all(s["error_kind"] == "auth" for s in failed)
    _said_unsent_once(str(e.value), 3)
    # no scene has a clip: `--skip-failed` makes no movie of none ("no scene has a clip")
    assert "--skip-failed" not in str(e.value), e.value
    assert sim.stats()["totals"]["images"] == 0 and sim.stats()["totals"]["jobs_created"] == 0


async def test_a_refused_key_is_asked_once_with_scenes_sent_at_once(
    sim: SimServer, tmp_path: Path
) -> None:
    """As above with the keyframe slots the preset has (4 scenes at once): the scenes
    waiting for the model's first call (`Pipeline._first_call`) had passed the check of
    a refused key before they waited, and each sent its own request once the 401 came
    back. Now they fail at `_reserve`, not sent."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("http", path="/images/generations", status=401, count=None)
    with pytest.raises(RenderFailed) as e:
        await asyncio.wait_for(
            Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS).run(), timeout=60
        )
    sent = sim.requests(path="/images/generations", method="POST")
    assert len(sent) == 1, f"{len(sent)} image requests sent with a key refused at the first"
    _said_unsent_once(str(e.value), 3)


async def test_scenes_held_back_for_a_model_s_first_call_are_shown_queued(
    sim: SimServer, tmp_path: Path
) -> None:
    """The first call of a model goes alone (`Pipeline._first_call`); the scenes held
    back meanwhile were shown "keyframes running" (three rows, one request sent). They
    are queued, saying why, until it is answered."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("delay", path="/images/generations", method="POST", seconds=1.0, count=1)
    rep = _Said()
    seen: list[tuple[str, str]] = []

    def step(stage: str, scene_id: str, state: str, note: str = "") -> None:
        if stage == "keyframes":
            seen.append((scene_id, state))
        _Said.step(rep, stage, scene_id, state, note)

    rep.step = step  # type: ignore[method-assign]
    until: Any = "keyframes"
    await asyncio.wait_for(
        Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS, reporter=rep).run(
            until=until
        ),
        timeout=60,
    )
    held = sorted(t.split(":")[0] for t in rep.said if t.endswith("'s first answer"))
    # (those the preset's keyframe slots start meanwhile: 2 or 3 here, on an idle machine)
    assert 1 <= len(held) <= 3 and len(set(held)) == len(held), rep.said
    for scene_id in held:  # queued, then sent once the first was answered
        states = [state for sid, state in seen if sid == scene_id]
        assert states[states.index("queued") + 1 :][:1] == ["running"], states


async def test_a_key_google_does_not_know_is_asked_once_not_once_per_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    """Google answers a wrong key 400 INVALID_ARGUMENT (ErrorInfo reason API_KEY_INVALID),
    not 401: as a 401 it is asked once, the other scenes fail "not sent", and the
    render's error names GOOGLE_API_KEY. As a bad request of the model's, every scene sent
    its own request and got its own 400, none naming the key."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("http", path=":generateContent", status=400, body=GOOGLE_BAD_KEY_BODY, count=None)
    with pytest.raises(RenderFailed) as e:
        await asyncio.wait_for(
            Pipeline(goals, settings_for("google", sim), out=tmp_path / "run", keys=KEYS).run(),
            timeout=60,
        )
    sent = sim.requests(path=":generateContent")
    assert len(sent) == 1, f"{len(sent)} keyframe requests sent with a key refused at the first"
    _said_unsent_once(str(e.value), 3)
    assert "check GOOGLE_API_KEY" in str(e.value), e.value
    assert sim.stats()["totals"]["jobs_created"] == 0


async def test_a_region_google_does_not_serve_is_said_once_not_as_requests_to_change(
    sim: SimServer, tmp_path: Path
) -> None:
    """Google's 400 FAILED_PRECONDITION "Image generation is not available in your
    country." refuses the account, not the request: it was a request refused as sent,
    every scene sending its own, each told to change its `reference_photos` in plan.yaml
    (the message's word "image"). Now it is asked once, and says what to check."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    said = "Image generation is not available in your country."
    body = {"error": {"code": 400, "message": said, "status": "FAILED_PRECONDITION"}}
    sim.add_fault("http", path=":generateContent", status=400, body=body, count=None)
    with pytest.raises(RenderFailed) as e:
        await asyncio.wait_for(
            Pipeline(goals, settings_for("google", sim), out=tmp_path / "run", keys=KEYS).run(),
            timeout=60,
        )
    msg = str(e.value)
    assert len(sim.requests(path=":generateContent")) == 1, msg
    assert "Google refused the account, not this request" in msg, msg
    assert "plan.yaml" not in msg and "refused as sent" not in msg, msg


async def test_ctrl_c_at_a_terminal_during_the_compose_is_an_interrupt_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C at a terminal signals the whole process group: the compose's ffmpeg dies of
    it too (exit -2). Its FFmpegError escaped as a traceback with exit 1, instead of the
    interrupt (resume line, exit 130) the same Ctrl-C gives in any other stage."""
    import os
    import signal
    import time

    from mindmovie import compose
    from mindmovie.media import FFmpegError
    from mindmovie.pipeline import Interrupted

    settings = tiny_local_settings()
    pipe = Pipeline(goals_file(tmp_path), settings, out=tmp_path / "run")

    def killed_by_ctrl_c(*args: Any, **kwargs: Any) -> Any:
        # the test runs in the main thread, as the CLI does: no handler is a failure
        assert pipe._sigint_installed, "the render installed no stop-signal handler"
        os.kill(os.getpid(), signal.SIGINT)  # the render sees the Ctrl-C ...
        t_end = time.monotonic() + 30
        while not pipe._stopping and time.monotonic() < t_end:
            time.sleep(0.01)
        raise FFmpegError("ffmpeg failed (-2): ")  # ... and so did its ffmpeg

    monkeypatch.setattr(compose, "renderer", lambda engine: killed_by_ctrl_c)
    with pytest.raises(Interrupted, match="run the same command again"):
        await pipe.run()
    assert collect_status(tmp_path / "run")["scenes"][0]["clip"] == "succeeded"


async def test_ctrl_c_at_a_terminal_during_an_offline_clip_is_the_stop_said_as_a_free_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C at a terminal reaches the offline clip's ffmpeg too, which exits 255 as the
    render stops: the clip was journaled failed ("re-poll job local:..."). It is the
    stop, also when ffmpeg's end is seen before the loop has taken the stop up (the
    handler's flag). And a render whose providers are all local is told as free: its
    clips "rendering" (not "submitting", then "downloading" while rendered), its stop
    without calls, jobs or payment."""
    import os
    import signal

    from mindmovie.pipeline import STOPPED_FREE, Interrupted
    from mindmovie.providers import local_media
    from mindmovie.providers.base import EncoderEnded

    class Rec(NullReporter):
        def __init__(self) -> None:
            self.steps: list[tuple[str, str, str]] = []
            self.said: list[str] = []

        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            self.steps.append((stage, scene_id, state))

        def warn(self, text: str) -> None:
            self.said.append(text)

    rec = Rec()
    pipe = Pipeline(goals_file(tmp_path), tiny_local_settings(), out=tmp_path / "run", reporter=rec)
    signalled: list[bool] = []

    async def ended_by_ctrl_c(self: Any, state: Any, request: Any, dest: Path) -> Path:
        # the test runs in the main thread, as the CLI does: no handler is a failure
        assert pipe._sigint_installed, "the render installed no stop-signal handler"
        if not signalled:  # (one Ctrl-C: a second quits at once, this test process too)
            signalled.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # the render hears the Ctrl-C ...
        # ... and so did its ffmpeg, seen at once: the loop has not taken the stop up
        raise EncoderEnded(
            f"ffmpeg failed (255) rendering {dest.name}: (no reason in its log)",
            returncode=255,
            provider="local",
        )

    monkeypatch.setattr(local_media.LocalMotion, "fetch", ended_by_ctrl_c)
    with pytest.raises(Interrupted) as e:
        await pipe.run()
    assert str(e.value) == STOPPED_FREE, e.value
    stopping = [t for t in rec.said if t.startswith("stopping")]
    assert stopping == [
        "stopping: nothing new is started; the work in hand has up to 5 s to finish. "
        "Press Ctrl-C again to quit at once."
    ], rec.said
    clip_states = {state for stage, _, state in rec.steps if stage == "clips"}
    assert "rendering" in clip_states, rec.steps
    assert not clip_states & {"submitting", "downloading", "resumed", "polling"}, rec.steps
    # said once a clip (--verbose printed "clips <id>: rendering" twice, at its start
    # and again as its ffmpeg began)
    rendering = [sid for stage, sid, state in rec.steps if (stage, state) == ("clips", "rendering")]
    assert len(rendering) == len(set(rendering)), rec.steps
    st = collect_status(tmp_path / "run")
    clips = [s for s in st["steps"] if s["stage"] == "clip"]
    assert clips and not [s for s in clips if s["status"] == "failed"], clips
    started = [r for r in st["scenes"] if r.get("clip") == "submitted"]
    assert started and all(r["next"] == "make the clip" for r in started), st["scenes"]
    assert not [r for r in st["scenes"] if r.get("job")], st["scenes"]


async def test_ctrl_c_at_the_spend_question_interrupts_it(sim: SimServer, tmp_path: Path) -> None:
    """The question ("Spend about $X? [y/N]") blocks the event loop, whose SIGINT handler
    therefore never ran while it waited: Ctrl-C, pressed any number of times, did
    nothing. Ctrl-C must reach the question (the prompt turns it into an interrupt)."""
    import os
    import signal
    import threading
    import time

    from mindmovie.pipeline import Interrupted

    assert threading.current_thread() is threading.main_thread()  # the CLI's situation
    reached: list[bool] = []

    def ask(est: Any) -> bool:
        try:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the person is asked
            t_end = time.monotonic() + 5
            while time.monotonic() < t_end:
                time.sleep(0.01)
        except KeyboardInterrupt:
            reached.append(True)
            raise Interrupted("nothing was spent") from None
        return False

    goals = goals_file(tmp_path, sim)
    pipe = Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS, confirm=ask)
    with pytest.raises(Interrupted):
        await pipe.run()
    assert reached and sim.stats()["requests"] == 0


def _ctrl_c_in(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    """Ctrl-C as the render enters `Pipeline.<method>` (a coroutine): the stop set as the
    SIGINT handler sets it, then the method goes on as it would."""
    real = getattr(Pipeline, method)

    async def ctrl_c_then(self: Pipeline, *args: Any) -> Any:
        self._stopping = True  # as the SIGINT handler does
        self._stop_event.set()
        return await real(self, *args)

    monkeypatch.setattr(Pipeline, method, ctrl_c_then)


async def test_ctrl_c_before_the_spend_question_is_not_asked_it(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while a resumed render looks at its earlier jobs (`_recover_orphans`, calls
    to the provider, before the estimate): the render went on to ask "Spend about $X?"
    anyway, the question the person had just said stop to (and with --yes went on to
    the plan, stopped only at its first paid call). The stop ends it before the
    question, as interrupted, with nothing sent."""
    from mindmovie.pipeline import Interrupted

    asked: list[Any] = []

    def ask(est: Any) -> bool:
        asked.append(est)
        return True

    goals = goals_file(tmp_path, sim)
    pipe = Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS, confirm=ask)
    _ctrl_c_in(monkeypatch, "_recover_orphans")
    with pytest.raises(Interrupted, match="run the same command again"):
        await pipe.run()
    assert asked == []
    assert sim.stats()["requests"] == 0


@pytest.mark.parametrize("until", ["keyframes", "clips"])
async def test_ctrl_c_while_the_clip_jobs_are_settled_is_an_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, until: str
) -> None:
    """Ctrl-C after the scenes' last step, while the run settled its clip jobs (looks at
    the provider's job list, `_settle_lost_submissions`, `_settle_stale_jobs`): within the
    grace the render went on and ended as done ("stopped after keyframes", exit 0), where
    a stop at any other moment is an interrupt (130)."""
    from mindmovie.pipeline import Interrupted

    pipe = Pipeline(goals_file(tmp_path), tiny_local_settings(), out=tmp_path / "run")
    _ctrl_c_in(monkeypatch, "_settle_lost_submissions")
    with pytest.raises(Interrupted, match="run the same command again"):
        await pipe.run(until=until)  # type: ignore[arg-type]
    assert {r[until[:-1]] for r in collect_status(tmp_path / "run")["scenes"]} == {"succeeded"}


async def test_the_stop_signal_handler_starts_no_thread_and_the_warning_still_comes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The handler runs between two bytecodes of the main thread, which may hold one of
    threading's own locks then (the one taken to start a thread: `asyncio.to_thread`'s
    workers): the handler started a `threading.Timer` for the "cannot stop gracefully"
    warning, which takes that lock, and waited on it for good. The handler starts no
    thread; the warning still comes when the loop does not take the stop up, from a
    watcher that ends when the handlers are removed."""
    import asyncio
    import os
    import signal
    import threading
    import time

    pipe = Pipeline(goals_file(tmp_path), tiny_local_settings(), out=tmp_path / "run")
    pipe.UNHEARD_SECONDS = 0.2  # type: ignore[misc]

    async def install() -> None:  # a task of its own: the graceful stop cancels it
        pipe._install_sigint()

    await asyncio.create_task(install())
    assert threading.current_thread() is threading.main_thread()  # the CLI's situation
    assert pipe._sigint_installed, "the render installed no stop-signal handler"
    before = set(threading.enumerate())
    try:

        def no_thread(self: threading.Thread) -> None:
            raise AssertionError(f"the signal handler started a thread ({self!r})")

        with monkeypatch.context() as m:
            m.setattr(threading.Thread, "start", no_thread)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):  # (the handler runs at the next bytecode of this thread)
                pass
        t_end = time.monotonic() + 30  # the loop blocked: the stop is not taken up
        err = ""
        while "cannot stop" not in err and time.monotonic() < t_end:
            time.sleep(0.05)
            err += capfd.readouterr().err
        assert " ".join(err.split()) == (
            "warning: cannot stop gracefully: the render is blocked in a call that does "
            "not return. Send it again to quit at once."
        )
        # no thread started (threads of earlier tests may have ended meanwhile: the
        # simulator's keep-alive handlers end when a collected client's socket closes)
        assert set(threading.enumerate()) <= before
    finally:
        pipe._remove_sigint()
    assert not any(t.name == "mindmovie-unheard" for t in threading.enumerate())
    await asyncio.sleep(0)  # the stop the handler handed to the loop
    assert pipe._stopping


async def test_a_late_job_of_one_scene_is_not_taken_for_another_scenes(
    sim: SimServer, tmp_path: Path
) -> None:
    """Two create requests in a row time out and the provider makes each job late. When
    the second's answer is lost, the one new job in the provider's list may be the FIRST
    request's late job (another scene's prompt and keyframe): it must not be adopted as
    the second scene's clip. Every scene's clip is a job made from its own request.
    Since no create is sent while a lost one is unsettled, the simulator never holds
    two scenes' requests at once (before, it did, and the jobs could not be told
    apart: one billed unused and its scene paid again): one job per scene."""
    sim.media_scale = 0.25
    sim.job_seconds = 2.0
    goals = goals_file(tmp_path, sim)
    sim.add_fault("delay", path=TASKS, method="POST", count=2, seconds=1.5)
    s = _paid_clips_only(sim)
    rep = _Said()
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=rep).run()
    assert res.movie is not None
    # the two creates' answers were lost (held past the 1 s timeout) and each scene took
    # its own late job: the case this test is about happened, not just a plain render
    late = [t for t in rep.said if "was made late from a request whose answer was lost" in t]
    assert len(late) == 2 and len({t.split(":")[0] for t in late}) == 2, rep.said
    jobs = {j.id: j for j in sim.jobs()}
    prompts = {sc.id: sc.motion_prompt for sc in res.plan.scenes}
    store = Store(res.run_dir / "run.db", read_only=True)
    try:
        steps = {sid: store.get(sid, "clip") for sid in prompts}
    finally:
        store.close()
    for sid, step in steps.items():
        assert step is not None and step.remote_id in jobs, (sid, step)
        text = jobs[step.remote_id].text
        assert prompts[sid] in text, (sid, step.remote_id, text[:80])
    clips = ledger_rows(res.run_dir, "clip")
    # every job made is on a row; none is refunded
    assert {r["remote_id"] for r in clips if r["remote_id"]} == set(jobs), clips
    # at each create, no earlier create's job was still to come: not even the same
    # scene's (its late job was waited for, not paid twice)
    unsettled = _unsettled_at_each_create(sim, res.plan)
    assert all(pending == [] for _, pending in unsettled), unsettled
    assert len(jobs) == len(prompts) and {r["state"] for r in clips} == {"billed"}, clips


async def test_a_request_lost_again_after_its_grace_takes_its_own_late_job(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-scene movie: its first create's answer is lost and no job comes for it;
    once the grace (shortened) is over its row is refunded and the request sent again. That one's
    answer is lost too, and its job is listed only after the look that follows: the
    scene waits for it and takes it, instead of sending a third request (before, each
    lost answer with no job listed was sent again at once)."""
    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 1.0)
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    # the first request's job is never made (its hold is not released: the simulator's
    # reset lets it go); the second's once the pipeline has looked for it
    sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)

    def looked_after_the_second_create() -> bool:
        creates = sim.requests(path=TASKS, method="POST")
        looks = sim.requests(path=JOB_LIST, method="GET")
        return len(creates) == 2 and any(
            r["status"] == 200 and r["time"] > creates[1]["time"] for r in looks
        )

    async def make_the_second_job_after_a_look() -> None:
        await _until(looked_after_the_second_create, "a look after the second create")
        sim.release(late)

    pipe = Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS)
    res = await _run_in_order(pipe, make_the_second_job_after_a_look())
    assert res.movie is not None and len(res.plan.scenes) == 1
    creates = sim.requests(path=TASKS, method="POST")
    assert len(creates) == 2 and [j.id for j in sim.jobs()] == [creates[1]["job"]]
    store = Store(res.run_dir / "run.db", read_only=True)
    try:
        step = store.get(res.plan.scenes[0].id, "clip")
    finally:
        store.close()
    assert step is not None and step.remote_id == creates[1]["job"], step
    clips = ledger_rows(res.run_dir, "clip")
    assert [r["state"] for r in clips] == ["refunded", "billed"], clips
    assert clips[1]["remote_id"] == creates[1]["job"], clips


async def _until_jobs(sim: SimServer, n: int, within: float = 20.0) -> None:
    """Wait until the simulator has made `n` jobs (late creates land after their delay)."""
    import asyncio
    import time

    t_end = time.monotonic() + within
    while len(sim.jobs()) < n and time.monotonic() < t_end:
        await asyncio.sleep(0.1)
    assert len(sim.jobs()) == n, [j.id for j in sim.jobs()]


async def test_a_render_stopped_while_waiting_for_a_late_job_takes_it_next_render(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-scene run: the create times out (its answer lost) and the provider makes
    the job only later. The render waits for it; Ctrl-C stops it during the wait. The
    row stays committed with what it asked for, nothing is sent again, and the next
    render takes the late job as the scene's clip: one request, one job, billed once."""
    from mindmovie.pipeline import Interrupted

    goals, s, held = _one_scene_with_lost_creates(sim, tmp_path, monkeypatch, count=1)

    class CtrlC(NullReporter):
        def warn(self, text: str) -> None:
            if "waiting for it" in text:  # as the SIGINT handler does
                pipe._stopping = True
                pipe._stop_event.set()

    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=CtrlC())
    with pytest.raises(Interrupted):
        await pipe.run()
    assert len(sim.requests(path=TASKS, method="POST")) == 1 and sim.jobs() == []
    (row,) = ledger_rows(tmp_path / "run", "clip")
    assert row["state"] == "committed" and "lost" in (row["usage"] or {}), row

    sim.release(held)
    await _until_jobs(sim, 1)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == 1  # nothing bought again
    (job,) = sim.jobs()
    (row,) = ledger_rows(res.run_dir, "clip")
    assert row["remote_id"] == job.id and row["state"] == "billed", row


@pytest.mark.parametrize("asked", ["the same", "edited since"])
async def test_a_late_job_seen_after_the_clips_stage_goes_to_the_scene_still_asking_for_it(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asked: str
) -> None:
    """A scene's create was lost (its row noted with the inputs it asked for) and the
    scene failed without a job. Its job appears only when the run looks again after the
    clips stage (_settle_lost_submissions). That job was tied to the row as unused, and
    the next render paid for a second job for the same clip. Now it becomes the scene's
    clip step's job, and the next render polls it: one job, by the simulator's count.
    A request of inputs edited since is not the step's (its clip would show the edit
    undone): its job stays on its row, counted, unused (no test reached that branch)."""
    import time

    from mindmovie.budget import BudgetGate
    from mindmovie.providers import registry

    goals, s, run, sc, pipe, req, key = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    store = Store(run / "run.db")
    try:
        # as a run leaves it when every create of the scene lost its answer
        store.begin(sc.id, "clip", key)
        row = store.ledger_commit(sc.id, "clip", "byteplus", "seedance", 0.1)
        sent_at = time.time()
        was = key if asked == "the same" else "a-key-of-inputs-edited-since"
        store.ledger_note_lost(row, was, sent_at)
        store.fail(sc.id, "clip", "connection_lost", "the answer to the create was lost")
        video = registry.make_video(s, KEYS)
        rid = await video.submit(req)  # the provider made its job after all
        pipe.gate = BudgetGate(store, None)
        pipe._lost_rows[row] = sent_at
        pipe._lost_requests[row] = (sc.id, was)
        await pipe._settle_lost_submissions(store, video)
        step = store.get(sc.id, "clip")
        if asked == "edited since":
            assert step is not None and step.remote_id != rid, step
            (lost,) = [r for r in store.ledger_rows() if r["id"] == row]
            assert lost["remote_id"] == rid and lost["state"] != "refunded", lost
            return
        assert step is not None and step.remote_id == rid and step.status == "submitted"
    finally:
        store.close()
    assert collect_status(run)["scenes"][0]["next"].startswith(f"poll job {rid}")
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == 1  # no second job bought
    (clip_row,) = ledger_rows(run, "clip")
    assert clip_row["remote_id"] == rid and clip_row["state"] == "billed", clip_row


async def test_every_create_losing_its_answer_still_makes_one_job_per_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    """Every create's answer is lost and each job is listed a moment later, three
    scenes at a time. Before, the scenes' lost requests were unsettled together (in the
    same second, too), so the jobs that appeared could not be told apart: billed unused,
    and the clips bought again. Now one scene's lost request is settled before any
    other create is sent: each scene takes its own job, one job per scene."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("late", path=TASKS, method="POST", count=None, seconds=0.3)
    res = await Pipeline(
        goals, _byteplus(sim, max_concurrent=3), out=tmp_path / "run", keys=KEYS
    ).run()
    n = len(res.plan.scenes)
    assert res.movie is not None
    unsettled = _unsettled_at_each_create(sim, res.plan)
    assert all(pending == [] for _, pending in unsettled), unsettled
    assert len(unsettled) == n and sim.stats()["totals"]["jobs_created"] == n
    prompts = {sc.id: sc.motion_prompt for sc in res.plan.scenes}
    jobs = {j.id: j for j in sim.jobs()}
    store = Store(res.run_dir / "run.db", read_only=True)
    try:
        for sid, prompt in prompts.items():
            step = store.get(sid, "clip")
            assert step is not None and prompt in jobs[str(step.remote_id)].text, sid
    finally:
        store.close()
    clips = ledger_rows(res.run_dir, "clip")
    assert len(clips) == n and {r["state"] for r in clips} == {"billed"}, clips


async def test_a_scene_with_a_journaled_job_does_not_wait_for_an_earlier_requests_late_job(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scene's first create lost its answer (its row noted, no job listed yet), the
    request sent again made a job whose id was journaled, and the run was killed while
    polling it. The next render, within the lost row's grace, polls the journaled job at
    once: it does not wait for the lost request's late job (nor take one for the step),
    and the lost row stays committed for a later look."""
    import time

    from mindmovie import pipeline
    from mindmovie.providers import registry

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 20.0)
    goals, s, run, sc, _, req, key = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    model = pipeline._identity(s, "video").model
    store = Store(run / "run.db")
    try:
        store.begin(sc.id, "clip", key)
        lost = store.ledger_commit(sc.id, "clip", "byteplus", model, 0.1)
        store.ledger_note_lost(lost, key, time.time())
        rid = await registry.make_video(s, KEYS).submit(req)
        row = store.ledger_commit(sc.id, "clip", "byteplus", "seedance", 0.1)
        store.mark_submitted(sc.id, "clip", rid, ledger_row=row)
    finally:
        store.close()
    rep = _Said()
    res = await Pipeline(goals, s, out=run, keys=KEYS, reporter=rep).run()
    assert res.movie is not None
    assert rep.waits() == [], rep.waits()  # held for no late job (it waited the grace)
    assert len(sim.requests(path=TASKS, method="POST")) == 1  # only the journaled job
    rows = {r["id"]: r for r in ledger_rows(run, "clip")}
    assert rows[row]["state"] == "billed" and rows[row]["remote_id"] == rid, rows
    assert rows[lost]["state"] == "committed" and not rows[lost]["remote_id"], rows


async def test_a_late_job_made_after_its_rows_refund_is_put_back_on_that_row(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-scene movie: its create's answer is lost and no job is listed within the
    grace (shortened), so the row is refunded and the request sent again. The provider
    makes the first request's job after all, once the render is over. That job bills,
    but its row said refunded: the ledger's spend was below what the provider bills.
    The next render finds it and puts it back on its row (billed, unused: the scene has
    its clip); every job the provider made is on a billed row."""
    import asyncio

    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 1.0)
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    s = _byteplus(sim)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None
    assert [r["state"] for r in ledger_rows(res.run_dir, "clip")] == ["refunded", "billed"]
    sim.release(late)  # the first request's job, made late
    await _until_jobs(sim, 2)
    await asyncio.sleep(0.5)  # (and finished)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == 2  # nothing bought again
    creates = sim.requests(path=TASKS, method="POST")
    first, second = ledger_rows(res.run_dir, "clip")
    assert first["remote_id"] == creates[0]["job"] and first["state"] == "billed", first
    assert (first["usage"] or {}).get("unused"), first
    assert second["remote_id"] == creates[1]["job"] and second["state"] == "billed", second
    assert {j.id for j in sim.jobs()} == {first["remote_id"], second["remote_id"]}


async def test_another_movies_job_is_not_taken_for_a_refunded_lost_request(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refunded lost request's job is looked for in the account's job list for a day
    (`_find_jobs_made_after_refund`). Another movie rendered meanwhile on the same
    account made a job no row of this run knows: the next render of this movie put it
    on the refunded row (billed here, said to have "reached byteplus after all"). Jobs
    other runs on this disk journaled are no lost request's."""
    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 1.0)
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=600.0)  # never made
    s = _byteplus(sim)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert [r["state"] for r in ledger_rows(res.run_dir, "clip")] == ["refunded", "billed"]
    other = tmp_path / "other.yaml"
    other.write_text(
        "title: Two\ngoals:\n  - category: career\n    vision: I lead\n    scenes: 1\n"
    )
    two = await Pipeline(other, s, out=tmp_path / "run2", keys=KEYS).run()
    assert two.movie is not None and len(sim.jobs()) == 2  # this run's second, and its own
    notes: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            notes.append(text)

    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run()
    first, second = ledger_rows(res.run_dir, "clip")
    assert first["state"] == "refunded" and not first["remote_id"], first
    assert second["state"] == "billed"
    assert not [n for n in notes if "after all" in n], notes


async def test_other_runs_journals_are_read_off_the_loop_and_again_only_when_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every look at the job list during a late-job wait read every other run.db on the
    disk, on the event loop (every scene's polls held meanwhile). Each is read in a
    worker thread, and again only once it changed: another render journaling a job
    there meanwhile is still seen at the next look."""
    import threading
    from dataclasses import dataclass

    from mindmovie import pipeline

    @dataclass
    class Job:
        remote_id: str

    class Video:
        model = "seedance"

        async def find_pending(self, created_after: float) -> list[Job]:
            return [Job("job-a"), Job("job-b"), Job("job-c")]

    reads: list[tuple[str, bool]] = []
    snapshot = pipeline._snapshot

    def counted(db: Path) -> Any:
        reads.append((db.parent.name, threading.current_thread() is threading.main_thread()))
        return snapshot(db)

    monkeypatch.setattr(pipeline, "_snapshot", counted)
    # output_dir's runs are read too: the default, outputs/ of the working folder, where
    # a checkout that rendered the README's example holds one (read here: a failure)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    (out / "other").mkdir(parents=True)
    other = Store(out / "other" / "run.db")  # another movie's render, running
    other.begin("01-x-1", "clip", "k1")
    other.mark_submitted("01-x-1", "clip", "job-a")
    pipe = Pipeline(goals_file(tmp_path), tiny_local_settings(), out=out / "run")
    pipe.run_dir.mkdir(parents=True)
    store = Store(pipe.run_dir / "run.db")
    try:
        video: Any = Video()
        for _ in range(3):
            jobs = await pipe._unjournaled_jobs(store, video, 0.0)
            assert [j.remote_id for j in jobs or []] == ["job-b", "job-c"]
        assert reads == [("other", False)]  # once, and not on the loop's thread
        other.begin("01-x-2", "clip", "k2")  # the other render journals a new job
        other.mark_submitted("01-x-2", "clip", "job-b")
        for _ in range(2):
            jobs = await pipe._unjournaled_jobs(store, video, 0.0)
            assert [j.remote_id for j in jobs or []] == ["job-c"]
        assert reads == [("other", False)] * 2
    finally:
        store.close()
        other.close()


async def test_a_late_job_made_after_its_rows_refund_is_seen_in_the_same_render(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same, with the first request's job made while the request sent again is
    still a job: the render's look after its clips stage finds it and puts it back on
    the refunded row (it bills: counted as committed, or billed once it is done)."""
    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 1.0)
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    sim.job_seconds = 1.0
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)

    async def make_the_first_job_once_it_was_sent_again() -> None:
        await _until(lambda: len(sim.jobs()) == 1, "the request sent again")
        sim.release(late)

    pipe = Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS)
    res = await _run_in_order(pipe, make_the_first_job_once_it_was_sent_again())
    assert res.movie is not None
    creates = sim.requests(path=TASKS, method="POST")
    assert len(creates) == 2 and len(sim.jobs()) == 2
    first, second = ledger_rows(res.run_dir, "clip")
    assert first["remote_id"] == creates[0]["job"], first
    assert first["state"] in ("committed", "billed"), first
    assert second["remote_id"] == creates[1]["job"] and second["state"] == "billed", second


async def test_a_lost_request_of_another_video_model_does_not_hold_the_creates(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render's create is lost (its job made later) and Ctrl-C stops it while it waits;
    the person then switches video.model and renders again within the grace. The job
    list was read for the new model only: the old model's job was never seen, every
    create waited out the grace, and the row was refunded while its job bills. Now the
    row is looked for with its own model: its job is put on it (billed, unused: the
    scene asks for the new model's clip), and nothing waits."""

    from mindmovie import pipeline
    from mindmovie.pipeline import Interrupted

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 30.0)
    goals, s, held = _one_scene_with_lost_creates(sim, tmp_path, monkeypatch, count=1)

    class CtrlC(NullReporter):
        def warn(self, text: str) -> None:
            if "waiting for it" in text:  # as the SIGINT handler does
                pipe._stopping = True
                pipe._stop_event.set()

    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=CtrlC())
    with pytest.raises(Interrupted):
        await pipe.run()
    sim.release(held)
    await _until_jobs(sim, 1)
    (old,) = sim.jobs()
    other = s.model_copy(update={"video": s.video.model_copy(update={"model": "seedance-1-0-pro"})})
    rep = _Said()
    res = await Pipeline(goals, other, out=tmp_path / "run", keys=KEYS, reporter=rep).run()
    assert res.movie is not None
    assert rep.waits() == [], rep.waits()  # the creates were not held for the old job
    first, second = ledger_rows(res.run_dir, "clip")
    assert first["remote_id"] == old.id and first["state"] in ("committed", "billed"), first
    assert second["state"] == "billed" and second["model"] != first["model"], second


async def test_a_lost_request_noted_as_sent_in_the_future_is_waited_for_no_longer_than_the_grace(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost create's row notes when it was sent by the clock of the run that sent it;
    a clock set an hour ahead then (corrected since, or the folder moved to another
    machine) made the next render wait for its job an hour and the grace, holding
    every create: the wait is counted from now at the latest, so it lasts the grace."""
    import asyncio
    import time

    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 1.0)
    goals, s, run, sc, _, _, key = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    store = Store(run / "run.db")
    try:
        store.begin(sc.id, "clip", key)
        model = pipeline._identity(s, "video").model
        lost = store.ledger_commit(sc.id, "clip", "byteplus", model, 0.1)
        store.ledger_note_lost(lost, key, time.time() + 3600)
        store.fail(sc.id, "clip", "connection_lost", "the answer to the create was lost")
    finally:
        store.close()
    res = await asyncio.wait_for(Pipeline(goals, s, out=run, keys=KEYS).run(), 30.0)
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == 1
    rows = {r["id"]: r for r in ledger_rows(run, "clip")}
    assert rows[lost]["state"] == "refunded", rows


async def test_the_live_view_says_which_lost_request_the_scenes_wait_for(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a lost request's job is waited for, every other scene's create is held too.
    The live view said "queued - waiting for a late job" (or nothing, for the scenes
    held), for up to 5 minutes: now each held scene says whose request it waits for and
    for how long at most; then, once status is asked, the next render's wait too."""
    import re

    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 3.0)
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("drop", path=TASKS, method="POST", count=1)
    notes: list[tuple[str, str, str]] = []

    class Rec(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            notes.append((scene_id, state, note))

    res = await Pipeline(
        goals, _byteplus(sim, max_concurrent=4), out=tmp_path / "run", keys=KEYS, reporter=Rec()
    ).run()
    assert res.movie is not None
    prompts = {sc.id: sc.motion_prompt for sc in res.plan.scenes}
    lost = _scene_of(sim.requests(path=TASKS, method="POST")[0]["body"], prompts)
    # (not a wait for the model's first answer: `_first_call`)
    notes = [(sid, st, n) for sid, st, n in notes if not n.endswith("'s first answer")]
    own = [n for sid, st, n in notes if sid == lost and "waiting" in n]
    mine = r"waiting for its lost request to show up \(up to [0-3] s\)"
    assert own and all(re.fullmatch(mine, n) for n in own), own
    held = [(sid, n) for sid, st, n in notes if sid != lost and "waiting" in n]
    assert held, notes
    # every held scene's note counts down, not only the note of the scene that looks
    for sid in {sid for sid, _ in held}:
        assert len({n for s, n in held if s == sid}) > 1, (sid, held)
    for sid, n in held:
        assert re.fullmatch(
            rf"waiting for a lost request of scene {lost} to show up \(up to [0-3] s\)", n
        ), (sid, n)


async def test_status_says_the_next_render_waits_for_a_lost_request_first(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render stopped while it waited for a lost request's job: status said what that
    scene's next render does, not that every other clip waits for it. It says so now, in
    its report and in --json ("late_wait")."""
    import json

    from typer.testing import CliRunner

    from mindmovie import pipeline
    from mindmovie.cli import app
    from mindmovie.pipeline import Interrupted

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 120.0)
    monkeypatch.setenv("MINDMOVIE_LATE_JOB_GRACE", "120")
    goals, s, _ = _one_scene_with_lost_creates(sim, tmp_path, monkeypatch, count=1)

    class CtrlC(NullReporter):
        def warn(self, text: str) -> None:
            if "waiting for it" in text:  # as the SIGINT handler does
                pipe._stopping = True
                pipe._stop_event.set()

    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=CtrlC())
    with pytest.raises(Interrupted):
        await pipe.run()
    # the render's video model and endpoint (status checks the next render with these
    # settings; at another base URL the request is not waited for: it cannot be listed)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "preset: byteplus\nplanner: {provider: local}\nkeyframes: {provider: local}\n"
        f"providers: {{byteplus: {{base_url: '{sim.ark_base_url}'}}}}\n"
    )
    info = collect_status(tmp_path / "run")
    (sc,) = info["scenes"]
    (wait,) = info["late_wait"]
    assert wait["provider"] == "byteplus" and wait["scenes"] == [sc["scene_id"]], wait
    assert 100 < wait["seconds"] <= 120, wait
    args = ["status", str(tmp_path / "run"), "-c", str(cfg)]
    r = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert (
        "the next render first waits up to 1" in text
        and f"for a lost request of scene {sc['scene_id']} to show up at byteplus" in text
        and "no clip is sent to byteplus meanwhile" in text
    ), r.output
    r = CliRunner().invoke(app, [*args, "--json"])
    (shown,) = json.loads(r.stdout)["late_wait"]
    assert shown["scenes"] == [sc["scene_id"]] and shown["provider"] == "byteplus", shown


async def test_status_does_not_promise_a_wait_for_a_veo_request_in_flight_at_a_kill(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Veo create in flight when the last render was killed (its row committed, no
    operation name stored). Veo lists no operations, so the next render cannot look for
    its job: it says the outcome is unknown and makes the clip again, at once. status
    said it would "wait up to 300 s for the job ... (no new job if it comes)", and that
    every other clip waited too: neither happens."""
    import time

    from mindmovie import pipeline

    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    s = settings_for("google", sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    run = tmp_path / "run"
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    (sc,) = res.plan.scenes
    store = Store(run / "run.db")
    try:
        store.begin(sc.id, "clip", "the clip's inputs")
        model = pipeline._identity(s, "video").model
        row = store.ledger_commit(sc.id, "clip", "google", model, 0.4)
        assert time.time() - store.ledger_rows()[-1]["created_at"] < 5
    finally:
        store.close()
    info = collect_status(run, settings=s)
    (scene,) = info["scenes"]
    assert not scene["next"].startswith(("wait up to", "look for the job")), scene["next"]
    assert info["late_wait"] == [], info["late_wait"]
    assert row


async def test_a_create_answered_504_whose_job_was_made_is_not_paid_twice(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway answers a video create 504 (it gave up waiting for the backend), and the
    backend made the job all the same. The 504 was taken for "not accepted": the row was
    refunded and the request sent again, so the scene paid for two jobs while the first
    billed on no row. A 504 to a create is a lost answer: the job is looked for and
    used. One job per scene, every clip row billed, none refunded."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    sim.add_fault("http_after", path=TASKS, method="POST", count=1, status=504)
    res = await Pipeline(goals, _paid_clips_only(sim), out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None
    (job,) = sim.jobs()
    (row,) = ledger_rows(res.run_dir, "clip")
    assert row["remote_id"] == job.id and row["state"] == "billed", row


async def test_a_create_answered_503_whose_job_was_made_is_not_paid_twice(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ark answers a Seedance create 503 after it made the job (the SDK retries every
    5xx, 503 too: nothing on the wire says a 503 made no job). The 503 was taken for
    "turned away": the row was refunded and the request sent again, so 4 scenes made 5
    jobs and the ledger billed 4 (the fifth on a refunded row). The job is now looked
    for in the task list, as after a 500, and used: one job per scene, each on a
    billed row, none refunded."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    sim.job_seconds = 0.3
    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: Four\ngoals:\n  - category: health\n    vision: I run\n    scenes: 4\n"
    )
    sim.add_fault("http_after", path=TASKS, method="POST", count=1, status=503)
    said = _Said()
    pipe = Pipeline(goals, _paid_clips_only(sim), out=tmp_path / "run", keys=KEYS, reporter=said)
    res = await pipe.run()
    assert res.movie is not None
    jobs = {j.id for j in sim.jobs()}
    rows = ledger_rows(res.run_dir, "clip")
    assert len(jobs) == 4, (len(jobs), [(r["state"], r["remote_id"]) for r in rows])
    assert {r["remote_id"] for r in rows if r["state"] == "billed"} == jobs, rows
    assert not [r for r in rows if r["state"] == "refunded"], rows
    assert any("HTTP 503" in t and "exists; using it" in t for t in said.said), said.said


async def test_a_503_to_every_create_is_waited_for_once_not_at_every_try(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ark answers every Seedance create 503 (an outage). Each such create is looked for,
    as one may have made its job; each was also waited for ANSWERED_GRACE (30 s) before
    its retry, so 4 scenes failed after 450 s (test_secrets timed out). Once one's grace
    passed with no job listed, the later ones are refunded at the next look: the first
    lost note says the grace, the later ones 0."""
    from mindmovie import pipeline

    no_retry_waits(monkeypatch)
    monkeypatch.setattr(pipeline, "ANSWERED_GRACE", 0.5)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: Four\ngoals:\n  - category: health\n    vision: I run\n    scenes: 4\n"
    )
    sim.add_fault("http", path=TASKS, method="POST", count=None, status=503, retry_after=0.01)
    pipe = Pipeline(goals, _paid_clips_only(sim), out=tmp_path / "run", keys=KEYS)
    with pytest.raises(RenderFailed, match="HTTP 503"):
        await pipe.run()
    assert sim.jobs() == []
    rows = ledger_rows(tmp_path / "run", "clip")
    refunded = [r for r in rows if r["state"] == "refunded"]
    assert len(refunded) >= 4, rows
    graces = []
    store = Store(tmp_path / "run" / "run.db")
    try:
        for r in store.ledger_rows():
            if r["stage"] == "clip" and r["state"] == "refunded":
                graces.append((r["usage"] or {}).get("lost", {}).get("grace"))
    finally:
        store.close()
    assert graces[0] == 0.5 and set(graces[1:]) == {0.0}, graces


async def test_a_lost_create_whose_first_look_fails_is_still_waited_for(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create's answer is lost, and the look at the job list that follows fails too (a
    500 on every retry). The request was then forgotten: the retry sent it again at once
    (and every other scene's create went out), so when the provider made the first
    request's job late the scene had paid for two. The request is noted lost first: the
    retry waits for its job (the next look works) and takes it. One job, one create."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    sim.add_fault("http", path=JOB_LIST, method="GET", count=4, status=500)
    told: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            told.append(text)

    async def make_the_job_once_it_is_waited_for() -> None:
        await _until(
            lambda: (
                any("waiting for it" in t for t in told)
                or len(sim.requests(path=TASKS, method="POST")) > 1
            ),
            "the wait (or a second create)",
        )
        sim.release(late)

    pipe = Pipeline(goals, _byteplus(sim), out=tmp_path / "run", keys=KEYS, reporter=Rec())
    res = await _run_in_order(pipe, make_the_job_once_it_is_waited_for())
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == 1, told
    await _until_jobs(sim, 1)
    (job,) = sim.jobs()
    (row,) = ledger_rows(res.run_dir, "clip")
    assert row["remote_id"] == job.id and row["state"] == "billed", row


async def _veo_create_answered(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    body: str | None = None,
) -> tuple[str, list[str]]:
    """Render one Veo scene whose first create is made and then answered `status` (with
    `body`): why the render failed, and the warnings given."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = settings_for("google", sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    sim.add_fault(
        "http_after", path="predictLongRunning", method="POST", count=1, status=status, body=body
    )
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    with pytest.raises(RenderFailed) as failed:
        await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run()
    return " ".join(str(failed.value).split()), warned


async def test_a_veo_create_answered_200_with_a_page_says_so_not_a_broken_connection(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Veo create answered 200 with a proxy's page: kept counted (outcome unknown), the
    scene failed, as for a 504; its line said "the connection broke after the job request
    was sent" (the review). It says what came."""
    why, _ = await _veo_create_answered(
        sim, tmp_path, monkeypatch, 200, "<html><body>Request accepted</body></html>"
    )
    assert len(sim.jobs()) == 1
    (first,) = ledger_rows(tmp_path / "run", "clip")
    assert first["state"] == "committed" and (first["usage"] or {}).get("unknown_outcome"), first
    assert "answered HTTP 200 to the job request with no job in the answer" in why, why
    assert "the connection broke" not in why, why


async def test_a_veo_create_answered_504_stays_counted_as_committed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same 504 to a Veo create: the operation may have been made (and bills), and
    Veo lists no operations to find it. It was refunded as "not accepted"; then it stayed
    committed and the retry sent the create again at once (a second job paid without a
    word: up to 4 with the retries). Now its row stays committed with an unknown outcome
    and the scene fails, the request not sent again; the next render makes the clip."""
    why, _ = await _veo_create_answered(sim, tmp_path, monkeypatch, 504)
    assert len(sim.jobs()) == 1  # the operation was made; Veo cannot list it
    (first,) = ledger_rows(tmp_path / "run", "clip")
    assert first["state"] == "committed" and (first["usage"] or {}).get("unknown_outcome"), first
    # (said as what came: an HTTP answer, not a broken connection, which it was called)
    assert "the service answered HTTP 504 to the job request" in why, why
    assert "may have made (and will bill) that job" in why and "Not sent again" in why, why
    s = settings_for("google", sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    again = await Pipeline(tmp_path / "goals.yaml", s, out=tmp_path / "run", keys=KEYS).run()
    assert again.movie is not None and len(sim.jobs()) == 2
    first, second = ledger_rows(tmp_path / "run", "clip")
    assert first["state"] == "committed" and second["state"] == "billed", (first, second)


async def test_a_veo_create_answered_500_is_not_called_a_broken_connection(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 to a Veo create is the service's own answer: counted as maybe made, as a
    504 is, but the warning said "the connection broke after the job request was sent"."""
    why, _ = await _veo_create_answered(sim, tmp_path, monkeypatch, 500)
    assert len(sim.jobs()) == 1
    assert "the service answered HTTP 500 to the job request" in why, why
    assert "may have made (and will bill) that job" in why, why
    assert "connection broke" not in why, why


def test_the_next_spend_question_says_a_lost_veo_request_may_bill_and_is_bought_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Veo lists no operations (neither the Gemini API nor Vertex has a list of a
    model's operations; google-genai has no such call), so a create whose answer was
    lost cannot be found: the next render buys the clip again, and may pay twice. Its
    spend question showed only the table ("$0.32" for the clip), with nothing of the
    earlier requests that may bill; now a note under the table says so before
    anything is sent."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = _quick_goals(sim, tmp_path, monkeypatch)
    cfg = tmp_path / "g.yaml"
    cfg.write_text(
        "preset: google\noutput: {size: 320x180, fps: 12}\nplan: {scene_seconds: 4}\n"
        "planner: {provider: local}\nkeyframes: {provider: local}\nproviders:\n"
        f"  google: {{base_url: '{sim.base_url}', poll_interval: 0.05}}\n"
    )
    env = {"GOOGLE_API_KEY": "g", "COLUMNS": "200"}
    lost = sim.add_fault("drop_after", path=":predictLongRunning", method="POST", count=None)
    args = ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run")]
    first = CliRunner().invoke(app, [*args, "--yes"], env=env)
    assert first.exit_code == 1, first.output
    made = len(sim.jobs())  # the create made its operation; its answer was lost
    assert made == 1, f"{made} creates sent for one clip whose answer was lost"
    lost.count = 0
    again = CliRunner().invoke(app, args, env=env)  # no one to say yes: asked, refused
    out = " ".join(again.output.split())
    print(out)
    assert again.exit_code == 1 and "nobody is here to confirm it" in out, out
    assert (
        "Note: 01-health-1: 1 earlier clip request to google got no answer and may "
        "have made a job that bills (counted as spent: $"
    ) in out
    assert "google lists no jobs, so it cannot be found and used: this clip is bought " in out
    assert len(sim.jobs()) == made  # nothing sent at the question
    est = CliRunner().invoke(app, ["estimate", *args[1:]], env=env)  # says it too
    assert "Note: 01-health-1: 1 earlier clip request" in " ".join(est.output.split())
    js = CliRunner().invoke(app, ["estimate", *args[1:], "--json"], env=env)
    (note,) = json.loads(js.stdout)["notes"]
    assert note.startswith("01-health-1: 1 earlier clip request to google got no answer"), note


def _clip_job_and_rows(run: Path, scene_id: str) -> tuple[str | None, list[dict[str, Any]]]:
    """The scene's clip step's job, and the run's clip ledger rows."""
    store = Store(run / "run.db", read_only=True)
    try:
        step = store.get(scene_id, "clip")
    finally:
        store.close()
    return (step.remote_id if step else None), ledger_rows(run, "clip")


def _one_taken_one_booked(sim: SimServer, run: Path, scene_id: str, creates: int) -> None:
    """Every job the simulator made (no more than `creates` creates) is on a row; the
    scene's clip is one of them, billed, and the others are booked as unused."""
    assert len(sim.requests(path=TASKS, method="POST")) == creates  # nothing bought again
    jobs = {j.id for j in sim.jobs()}
    taken, rows = _clip_job_and_rows(run, scene_id)
    assert taken in jobs, (taken, jobs)
    assert {r["remote_id"] for r in rows if r["remote_id"]} == jobs, rows
    # the clip's billed; the others counted: billed, or committed while still running
    states = {r["remote_id"]: r["state"] for r in rows if r["remote_id"]}
    assert states.pop(taken) == "billed", rows
    assert set(states.values()) <= {"billed", "committed"}, rows
    unused = [r for r in rows if (r["usage"] or {}).get("unused")]
    assert {r["remote_id"] for r in unused} == jobs - {taken}, rows


async def test_two_jobs_listed_for_one_lost_create_are_taken_and_booked_not_bought_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create is answered 502 after its job was made, and the job list shows two jobs
    no row knows made since (here one made from the same request just before: a second
    job the provider made for it, or another request's late one: the list cannot tell).
    The row was left with an unknown outcome and the request sent again: a third job
    paid, the two on no row. Now the earliest is the scene's clip and the other is
    booked on a row of its own, billed unused: no create is sent again."""
    from mindmovie.providers import registry

    goals, s, run, sc, _, req, _ = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    await registry.make_video(s, KEYS).submit(req)  # a job no row knows
    sim.add_fault("http_after", path=TASKS, method="POST", count=1, status=502)
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    _one_taken_one_booked(sim, run, sc.id, creates=2)


async def test_two_jobs_showing_up_at_once_for_a_waited_for_request_are_taken_and_booked(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create's answer is lost with no job listed yet, and the scene waits for it. Two
    jobs no row knows then show up in one look: every row was left unknown and the clip
    made again (a third job). Now one is the scene's clip and the other booked unused."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _byteplus(sim)
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    told: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            told.append(text)

    async def make_two_jobs_between_two_looks() -> None:
        await _until(lambda: any("waiting for it" in t for t in told), "the wait")
        looks = len(sim.requests(path=JOB_LIST, method="GET"))
        held = sim.add_fault("delay", path=JOB_LIST, method="GET", count=1, seconds=30.0)
        await _until(lambda: len(sim.requests(path=JOB_LIST, method="GET")) > looks, "a look")
        (create,) = sim.requests(path=TASKS, method="POST")
        await _post_create(sim, create["body"])
        sim.release(late)
        await _until(lambda: len(sim.jobs()) == 2, "both jobs")
        sim.release(held)

    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec())
    res = await _run_in_order(pipe, make_two_jobs_between_two_looks())
    assert res.movie is not None
    _one_taken_one_booked(sim, res.run_dir, res.plan.scenes[0].id, creates=2)
    assert any("also lists job(s)" in t for t in told), told


async def _post_create(sim: SimServer, body: Any) -> None:
    """Send the simulator a Seedance create as a client did (a job no row knows)."""
    import httpx

    assert KEYS.byteplus is not None
    auth = {"Authorization": f"Bearer {KEYS.byteplus.get_secret_value()}"}
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{sim.ark_base_url}{TASKS}", json=body, headers=auth)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("when", ["next render", "after the clips stage"])
async def test_two_jobs_found_for_one_lost_request_later_are_taken_and_booked(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """A scene's create whose answer was lost (its row noted, no job then), and two jobs
    no row knows listed when it is looked for again: by the next render
    (`_recover_orphans`), or by the look after the clips stage
    (`_settle_lost_submissions`). The row was left with an unknown outcome and the clip
    made again: a third job. Now one is the scene's clip (polled, not paid again) and
    the other is booked unused: two jobs, both counted, no create sent by the render."""
    import time

    from mindmovie.budget import BudgetGate
    from mindmovie.providers import registry

    goals, s, run, sc, pipe, req, key = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    video = registry.make_video(s, KEYS)
    store = Store(run / "run.db")
    try:
        store.begin(sc.id, "clip", key)
        row = store.ledger_commit(sc.id, "clip", "byteplus", video.model, 0.1)
        sent_at = time.time()
        store.ledger_note_lost(row, key, sent_at)
        store.fail(sc.id, "clip", "connection_lost", "the answer to the create was lost")
        for _ in range(2):  # made after all, and a second one no row knows
            await video.submit(req)
        if when == "after the clips stage":
            pipe.gate = BudgetGate(store, None)
            pipe._lost_rows[row] = sent_at
            pipe._lost_requests[row] = (sc.id, key)
            await pipe._settle_lost_submissions(store, video)
    finally:
        store.close()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    _one_taken_one_booked(sim, run, sc.id, creates=2)


class _Killed(BaseException):
    """A process killed at this point (SIGKILL: no cleanup, nothing more written)."""


@pytest.mark.parametrize("when", ["next render", "after the clips stage"])
async def test_a_kill_between_taking_a_lost_requests_job_and_booking_the_other_loses_neither(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Two jobs no row knows listed for one lost request: the earliest was given to the
    scene's step (its own transaction) before the other was booked (another). Killed
    between the two writes, the other job billed on no row for good: the next look
    found the row settled (it has a job) and nothing left to look for. The others are
    booked first now: killed between, the row is still lost and the look is made again."""
    import time

    from mindmovie.budget import BudgetGate
    from mindmovie.providers import registry

    goals, s, run, sc, pipe, req, key = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    video = registry.make_video(s, KEYS)
    store = Store(run / "run.db")
    try:
        store.begin(sc.id, "clip", key)
        row = store.ledger_commit(sc.id, "clip", "byteplus", video.model, 0.1)
        sent_at = time.time()
        store.ledger_note_lost(row, key, sent_at)
        store.fail(sc.id, "clip", "connection_lost", "the answer to the create was lost")
        for _ in range(2):  # made after all, and a second one no row knows
            await video.submit(req)

        def killed(*args: Any, **kwargs: Any) -> Any:
            raise _Killed

        with monkeypatch.context() as m:
            m.setattr(Store, "ledger_add_job", killed)  # the process dies at that write
            with pytest.raises(_Killed):
                if when == "after the clips stage":
                    pipe.gate = BudgetGate(store, None)
                    pipe._lost_rows[row] = sent_at
                    pipe._lost_requests[row] = (sc.id, key)
                    await pipe._settle_lost_submissions(store, video)
                else:
                    await Pipeline(goals, s, out=run, keys=KEYS).run()
    finally:
        store.close()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    _one_taken_one_booked(sim, run, sc.id, creates=2)


async def test_status_of_a_render_working_now_does_not_take_its_create_in_flight_for_lost(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render working now has a video create in flight (its row committed, no job id
    yet: the answer is still to come). That is no lost request, and the render holds no
    clip for it; status said "waiting for a lost request of scene ... to show up at
    byteplus (up to 300 s more): no clip is sent to byteplus until its job is listed".
    A working render waits only for the requests it noted lost (`ledger_note_lost`)."""
    import asyncio

    from mindmovie import pipeline

    goals, _, held = _one_scene_with_lost_creates(sim, tmp_path, monkeypatch, count=1)
    slow = {"base_url": sim.ark_base_url, "timeout": 30.0, "poll_interval": 0.05}
    s = settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        keyframes={"provider": "local"},
        providers={"byteplus": {**slow, "poll_max_interval": 0.2}},
    )
    run = tmp_path / "run"
    task = asyncio.create_task(Pipeline(goals, s, out=run, keys=KEYS).run())
    try:
        for _ in range(1000):  # the create reached the simulator, its answer held
            if held.fired:
                break
            await asyncio.sleep(0.01)
        assert held.fired
        monkeypatch.setattr(pipeline, "rendering_pid", lambda run_dir: 4242)  # working now
        info = collect_status(run, settings=s)
        assert info["rendering"] == 4242
        rows = [r for r in info["ledger"] if r["stage"] == "clip"]
        assert [(r["state"], r["remote_id"]) for r in rows] == [("committed", None)], rows
        assert info["late_wait"] == [], info["late_wait"]
    finally:
        sim.release(held)
        await task


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_seedream_image_answered_a_5xx_is_not_refunded(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """A Seedream image call (the image is made while the call waits) answered 504 by a
    gateway that gave up on the backend, 502, or the service's own 500: the image may
    have been made, and BytePlus publishes no rule that a failed call is not billed. It
    was refunded as "not accepted", so the ledger said $0 for an image that may bill
    (two images made, one on the ledger). The row stays committed (outcome unknown),
    and the keyframe is asked again."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    path = "/images/generations"
    sim.add_fault("http_after", path=path, method="POST", count=1, status=status)
    s = settings_for("byteplus", sim, planner={"provider": "local"})
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run(until="keyframes")
    assert len(sim.requests(path=path, method="POST")) == 2  # both made an image
    first, second = ledger_rows(res.run_dir, "keyframe")
    assert first["state"] == "committed", first
    assert second["state"] == "billed", second
    # counted (the budget holds it), but not shown in flight for ever: outcome unknown
    money = collect_status(res.run_dir)["money"]
    assert money["in_flight"] == 0, money
    assert money["unknown"] == pytest.approx(first["held_usd"] or first["estimated_usd"]), money


async def test_the_render_log_says_a_lost_image_answer_apart_from_money_in_flight(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same lost Seedream answer, as the render's own view says it: `status` said
    "outcome unknown", but the live view and the log's totals line counted its hold as
    "in flight" for the whole render and at its end, when nothing was in flight."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    path = "/images/generations"
    sim.add_fault("http_after", path=path, method="POST", count=1, status=500)
    s = settings_for("byteplus", sim, planner={"provider": "local"})
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=300, color_system=None), verbose=False)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=rep).run(
        until="keyframes"
    )
    rep.close()
    first, second = ledger_rows(res.run_dir, "keyframe")
    held = first["held_usd"] or first["estimated_usd"]
    assert (rep.in_flight, rep.unknown) == (0.0, pytest.approx(held)), buf.getvalue()
    assert rep.billed == pytest.approx(second["billed_usd"])
    last = buf.getvalue().splitlines()[-1]
    assert f"(+${held:.2f} outcome unknown)" in last and "in flight" not in last, last


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_gemini_image_answered_a_5xx_is_refunded_as_google_bills_no_failed_call(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """Google bills no failed generateContent call ("If your request fails with a 400
    or 500 error, you won't be charged for the tokens used": the Gemini API billing
    FAQ), so a Gemini image answered a 5xx is refunded and asked again; kept committed,
    it counted against --budget an image Google does not bill."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    path = ":generateContent"
    sim.add_fault("http_after", path=path, method="POST", count=1, status=status)
    s = settings_for("google", sim, planner={"provider": "local"})
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run(until="keyframes")
    assert len(sim.requests(path=path, method="POST")) == 2
    first, second = ledger_rows(res.run_dir, "keyframe")
    assert first["state"] == "refunded", first
    assert second["state"] == "billed", second


_PAGE = "<html><body><h1>Request accepted</h1></body></html>"
_CUT_SEEDREAM = '{"model":"seedream-4-0-250828","data":[{"b64_json":"iVBORw0KGgoAAAANSUhEUgAA'


@pytest.mark.parametrize(
    ("preset", "page", "kind"),
    [
        ("google", _PAGE, None),
        # read by google-genai as {}: an answer of nothing, told as the content filter,
        # and a second image bought from the softened prompt (the review found it)
        ("google", "", "application/json"),
        ("google", '{"ok": true}', "application/json"),
        ("byteplus", _PAGE, None),
        ("byteplus", _CUT_SEEDREAM, None),
        ("byteplus", _CUT_SEEDREAM, "application/json"),  # (the SDK parses it: JSONDecodeError)
    ],
)
async def test_an_image_answered_200_with_a_page_stays_counted_as_unknown(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    preset: str,
    page: str,
    kind: str | None,
) -> None:
    """A Gemini image whose 200 came with a proxy's page in place of Google's JSON was
    made and billed, but the SDK's JSONDecodeError was told as a request refused before
    sending, and its row refunded: counted nowhere. A Seedream image's (a page, or its
    JSON cut off, read by the SDK as an answer of nothing) was "returned no image",
    refunded (the provider-faults audit). Each is an answer lost: the row stays counted
    (outcome unknown), and the image is asked for again, as planned."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    path = ":generateContent" if preset == "google" else "/images/generations"
    sim.add_fault(
        "http_after", path=path, method="POST", count=1, status=200, body=page, content_type=kind
    )
    s = settings_for(preset, sim, planner={"provider": "local"})
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run(until="keyframes")
    sent = sim.requests(path=path, method="POST")
    assert len(sent) == 2 and sent[0]["body"] == sent[1]["body"]  # (not a softened prompt)
    first, second = ledger_rows(res.run_dir, "keyframe")
    assert first["state"] == "committed" and first["usage"].get("unknown_outcome"), first
    assert second["state"] == "billed", second


async def test_a_clip_whose_result_is_gone_is_bought_again_only_with_consent(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job succeeded (and billed) over a day ago (its task's updated_at; past the
    24 h its URL is valid), and its video_url answers 404 for good (as Veo's file does:
    "the video of <operation> is gone", which the installed SDK's Vertex mode does not
    reach: its bytes come inline; see test_providers_google.py::
    test_a_developer_download_404_is_the_file_gone_not_the_model). Before,
    the step kept the job: every render polled it again, failed the scene the same way
    and said "`render` again retries them", for ever (only --fresh, buying everything
    again, got out). Now the step lets go of the job (its row stays billed, unused),
    the message says the result is gone and the next render buys the clip again, and
    that render counts it in its estimate: declined, nothing is sent; agreed, one new
    job makes the clip."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    old = {"updated_at": int(time.time()) - 25 * 3600}
    sim.add_fault("patch", path=f"{TASKS}/", method="GET", body=old, count=None)
    gone = sim.add_fault("http", path=".mp4", method="GET", status=404, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(ei.value)
    (job,) = [r["remote_id"] for r in ledger_rows(run, "clip")]
    assert f"the result of job {job} is gone at byteplus" in msg, msg
    assert "it was billed" in msg and "next render buys the clip again (about $" in msg, msg
    assert "retries" not in msg, msg
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "billed" and row["remote_id"] == job
    assert row["usage"]["unused"] is True
    (scene,) = collect_status(run)["scenes"]
    assert scene["next"].startswith("buy the clip again (about $"), scene["next"]
    assert job in scene["next"]
    sim.clear_faults()
    asked: list[float] = []
    with pytest.raises(Exception, match="nothing was spent"):
        await Pipeline(
            goals, s, out=run, keys=KEYS, confirm=lambda e: asked.append(e.total) and False
        ).run()
    assert asked and asked[0] > 0  # the new clip is in the spend question
    assert sim.stats()["totals"]["jobs_created"] == 1
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=lambda e: True).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 2
    assert gone.fired >= 1
    rows = ledger_rows(run, "clip")
    assert [r["state"] for r in rows] == ["billed", "billed"]


@pytest.mark.parametrize("updated_at", [True, False])
async def test_a_404_on_a_clip_just_made_is_retried_by_the_next_render_not_bought_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, updated_at: bool
) -> None:
    """The job has just succeeded (and billed), and its video URL, valid 24 h, answers
    404, also after the one refresh by polling: far likelier a storage or CDN delay, or
    a proxy's, than the result gone. It was `ResultGone` at once: the job let go of,
    "the next render buys the clip again", and `status` said "buy the clip again". Now
    the scene fails "`render` again retries them", saying the result should still be
    there; the job stays journaled and billed once, `status` says to poll it again, the
    render downloaded it once (no loop), and the next render downloads the SAME job,
    buying nothing. Without the task's updated_at (as Veo, which does not say when an
    operation finished), the finish is this render's own: it created the job. The URL
    signed, as Ark's are (unsigned: test_a_404_on_an_unsigned_clip_url_fails_it_at_once)."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    sim.job_seconds = 0.3
    sign_video_urls(sim)
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    if not updated_at:
        sim.add_fault(
            "patch", path=f"{TASKS}/", method="GET", body={"updated_at": None}, count=None
        )
    sim.add_fault("http", path=".mp4", method="GET", status=404, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(ei.value)
    assert "`render` again retries them" in msg, msg
    assert "HTTP 404, the result was not found, though it should still be there" in msg, msg
    assert "next render tries it again" in msg and "buys the clip again" not in msg, msg
    assert len(sim.requests(path=".mp4", method="GET")) == 1  # one download, no loop
    (row,) = ledger_rows(run, "clip")
    job = row["remote_id"]
    assert row["state"] == "billed" and not row["usage"].get("unused"), row
    (scene,) = collect_status(run)["scenes"]
    assert scene["next"] == f"re-poll job {job}; a new job only if the provider says it failed"
    sim.clear_faults()
    asked: list[float] = []
    res = await Pipeline(
        goals, s, out=run, keys=KEYS, confirm=lambda e: asked.append(e.total) or True
    ).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1  # the same job, downloaded
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]
    assert not any(asked), asked  # nothing new to pay for


async def test_a_404_on_an_unsigned_clip_url_fails_it_at_once(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip just made (and billed) whose video URL carries no expiry (not signed, as
    Ark's are) answers 404: it was kept as a storage delay within the 24 h and every
    render failed the scene on it again for a day. Now, as a Seedream image's: the scene
    fails at once saying the clip was billed and the next render buys it again; the job
    stays on the ledger billed (once), the download was tried once, and the next render
    asks before buying the new clip."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path=".mp4", method="GET", status=404, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(ei.value)
    assert "HTTP 404, the result URL is gone: it carries no expiry" in msg, msg
    assert "it was billed. The next render buys the clip again (about $" in msg, msg
    assert "should still be there" not in msg and "retries them" not in msg, msg
    assert len(sim.requests(path=".mp4", method="GET")) == 1  # not tried again
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "billed", row
    (scene,) = collect_status(run)["scenes"]
    assert "buy the clip again" in scene["next"], scene
    sim.clear_faults()
    asked: list[float] = []
    res = await Pipeline(
        goals, s, out=run, keys=KEYS, confirm=lambda e: asked.append(e.total) or True
    ).run()
    assert res.movie is not None and asked and asked[0] > 0, asked
    assert sim.stats()["totals"]["jobs_created"] == 2
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed", "billed"]


def test_the_failed_scenes_message_says_retries_only_of_those_it_retries() -> None:
    """ "`render` again retries them" was said of every failed scene, also of those whose
    paid result is gone (`ResultGone`), which another render buys again instead."""
    from mindmovie.pipeline import _failed_message

    failed = {"01": "byteplus: HTTP 503", "02": "the result of job j is gone at byteplus"}
    msg = _failed_message(failed, {"02"})
    head, one, also, two = msg.splitlines()
    assert head == "2 scene(s) failed; finished work is kept, `render` again retries these:"
    assert one == "  01: byteplus: HTTP 503"
    assert also == "and these, which the next render buys again (counted in its estimate):"
    assert two == "  02: the result of job j is gone at byteplus"
    assert _failed_message({"01": "x"}).startswith(
        "1 scene(s) failed; finished work is kept, `render` again retries them:"
    )
    assert "retries" not in _failed_message({"02": "gone"}, {"02"})


def test_the_failed_scenes_message_says_what_to_change_of_those_the_provider_refused() -> None:
    """A scene whose request the provider refused as sent (a 400 on its prompt or a
    parameter, the content filter) sat under "`render` again retries them": the next
    render sends the same request and is refused again. Those are said apart, each line
    saying what to change; passing failures are still the ones a render retries."""
    from mindmovie.pipeline import _failed_message

    failed = {
        "01": "byteplus: HTTP 503",
        "02": "byteplus: refused (parameter duration); change scene 02's `seconds`",
        "03": "the result of job j is gone at byteplus",
    }
    head, one, also, two, then, three = _failed_message(failed, {"03"}, {"02"}).splitlines()
    assert head == "3 scene(s) failed; finished work is kept, `render` again retries these:"
    assert one == "  01: byteplus: HTTP 503"
    assert also == (
        "and these, which the provider refused as sent (the same request is refused "
        "again): change what each says, then render again:"
    )
    assert two.startswith("  02: byteplus: refused (parameter duration)")
    assert then == "and these, which the next render buys again (counted in its estimate):"
    assert three == "  03: the result of job j is gone at byteplus"
    alone = _failed_message({"02": "refused"}, (), {"02"})
    assert alone == (
        "1 scene(s) failed; finished work is kept; the provider refused them as sent (the "
        "same request is refused again): change what each says, then render again:\n"
        "  02: refused"
    )
    assert "retries" not in alone
    # unchanged for the others
    assert _failed_message({"01": "x"}, (), {"02"}).startswith(
        "1 scene(s) failed; finished work is kept, `render` again retries them:"
    )


@pytest.mark.parametrize(
    ("stage", "param", "change"),
    [
        ("clip", "prompt", "change scene 02's `motion_prompt` in /r/plan.yaml, then render"),
        ("clip", "duration", "change scene 02's `seconds` in /r/plan.yaml, then render"),
        ("clip", "resolution", "change the setting output.resolution, then render"),
        ("clip", "generate_audio", "change the setting video.audio, then render"),
        ("clip", "image_url", "change scene 02's keyframe (scenes/02/keyframe.png, made"),
        # Veo's lastFrame (the next scene's keyframe, sent with chain_frames): it was said
        # to change this scene's keyframe or motion_prompt, which the refusal is not about
        ("clip", "last_frame", "change the setting video.chain_frames (the next scene's"),
        ("clip", None, "change what the refusal names: scene 02's `motion_prompt` or"),
        ("keyframe", "prompt", "change scene 02's `image_prompt` in /r/plan.yaml, then"),
        ("keyframe", "image", "change scene 02's `reference_photos` in /r/plan.yaml"),
        ("keyframe", None, "names: scene 02's `image_prompt` in /r/plan.yaml, or the keyframes"),
    ],
)
def test_a_refused_request_s_line_names_the_plan_field_or_setting_to_change(
    stage: str, param: str | None, change: str
) -> None:
    from mindmovie.pipeline import refused_request_fix

    fix = refused_request_fix(Path("/r/plan.yaml"), "02", stage, param)
    assert fix.startswith("; the same request is refused again: "), fix
    assert change in fix and fix.endswith(", then render again"), fix


async def test_a_clip_request_refused_as_sent_says_what_to_change_not_that_a_render_retries_it(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seedance answers a scene's create 400 naming its prompt: the render's last word
    said "`render` again retries them" over "refused the request (parameter prompt)",
    and the next render was refused the same. It names the scene's motion_prompt in
    plan.yaml to change; nothing was billed."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    sim.add_fault("http", path=TASKS, method="POST", status=400, param="prompt", message="too long")
    run = tmp_path / "run"
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, _paid_clips_only(sim), out=run, keys=KEYS).run()
    msg = str(ei.value)
    assert msg.startswith(
        "1 scene(s) failed; finished work is kept; the provider refused them as sent"
    ), msg
    assert "retries" not in msg, msg
    assert "refused the request (parameter prompt): InvalidParameter: too long" in msg, msg
    assert "`motion_prompt` in " + str(run / "plan.yaml") + ", then render again" in msg, msg
    assert sim.stats()["totals"]["jobs_created"] == 0
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["refunded"]


async def test_a_journaled_job_the_provider_no_longer_knows_is_not_bought_again_unasked(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip whose download failed (a 403 not known to be expired) keeps its billed job,
    and the next render's estimate counts it as picked up at no cost. When that render
    finds the task deleted at the provider (a poll's 404), it bought a new clip at once:
    spent past the estimate the person agreed to (with --yes, nothing was even asked).
    Now the step lets go of the job and the scene fails saying the next render buys the
    clip again; that render counts it in its spend question."""
    import httpx

    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)
    sim.clear_faults()
    httpx.delete(f"{sim.ark_base_url}{TASKS}/{job}", headers={"Authorization": "Bearer k"})
    ask = asked = AgreeingAsked()

    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    msg = str(ei.value)
    assert f"job {job} can no longer be picked up at byteplus" in msg, msg
    assert "task not found" in msg and "it was billed" in msg, msg
    assert "next render buys the clip again (about $" in msg and "retries" not in msg, msg
    assert asked == [] and sim.stats()["totals"]["jobs_created"] == 1  # nothing bought
    (scene,) = collect_status(run)["scenes"]
    assert scene["next"].startswith("buy the clip again (about $"), scene["next"]
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    assert res.movie is not None and asked and asked[0] > 0
    assert sim.stats()["totals"]["jobs_created"] == 2
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed", "billed"]


@pytest.mark.parametrize("said", ["not found", "failed"])
async def test_a_let_go_job_still_in_flight_is_settled_not_counted_for_ever(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, said: str
) -> None:
    """A job whose scene stopped waiting (its deadline) keeps its row committed; the
    next render finds the provider no longer knows it (a poll's 404) or says it failed,
    and lets go of it. A failed job is refunded with its reason. One not found was
    never seen to finish: whether it billed cannot be told. Its row stayed committed
    for ever (the sweep of jobs no step uses skipped every poll error): counted as in
    flight at every render and in `status`. It is now billed at its hold (never under
    the real bill), marked unknown, told once and not looked at again."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _paid_clips_only(sim)
    s.providers.byteplus.job_deadline = 1.0
    run = tmp_path / "run"
    sim.add_fault("stuck", path=TASKS, method="POST", count=1)
    with pytest.raises(RenderFailed, match="not finished after 1 s"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    ((job, held),) = [(r["remote_id"], r["held_usd"]) for r in ledger_rows(run, "clip")]
    assert ledger_rows(run, "clip")[0]["state"] == "committed"
    if said == "not found":
        _age_clip_rows(run, LATE_JOB_GRACE + 60)  # made long ago: forgotten, not just made
        sim.add_fault("http", path=f"{TASKS}/{job}", method="GET", status=404, count=None)
    else:
        body = {"status": "failed", "error": {"code": "InternalError", "message": "boom"}}
        sim.add_fault("patch", path=f"{TASKS}/{job}", method="GET", body=body, count=None)
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    def render() -> Coroutine[Any, Any, Any]:
        return Pipeline(goals, s, out=run, keys=KEYS, reporter=Rec(), confirm=lambda e: True).run()

    with pytest.raises(RenderFailed, match=f"job {job} can no longer be picked up"):
        await render()
    (row,) = [r for r in ledger_rows(run, "clip") if r["remote_id"] == job]
    assert row["state"] != "committed", row  # not in flight for ever
    st = collect_status(run)
    assert st["money"]["in_flight"] == 0, st["money"]
    if said == "failed":
        assert row["state"] == "refunded" and "boom" in str(row["usage"]), row
    else:
        assert row["state"] == "billed" and row["billed_usd"] == pytest.approx(held), row
        assert row["usage"]["unknown_outcome"] and "task not found" in row["usage"]["not_found"]
    told = [w for w in warned if job in w and "no longer known" in w]
    assert len(told) == (said == "not found"), warned
    polls = len(sim.requests(path=f"{TASKS}/{job}"))
    res = await render()
    assert res.movie is not None
    assert len(sim.requests(path=f"{TASKS}/{job}")) == polls  # settled: not looked at again
    assert [w for w in warned if job in w and "no longer known" in w] == told  # told once
    assert sim.stats()["totals"]["jobs_created"] == 2


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_a_job_in_flight_at_a_kill_that_the_provider_forgot_is_let_go_of_at_the_resume(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str
) -> None:
    """A render killed while its Seedance task or Veo operation was in flight (the step
    left `submitted`, its row committed), resumed after the provider forgot the job (a
    poll's 404). The resume said "`render` again retries them" and `status` "re-poll
    job X", though no render could pick the job up: only the render after it let go of
    the job, and a third bought the clip, asking. A job left by a failed step (its
    download, its deadline) was already let go of at once. Now the resume lets go of it
    the same way: it says the job can no longer be picked up and the next render buys
    the clip again, buys nothing itself, books the row (in flight no longer), and the
    next render asks before it buys the one new clip."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = settings_for(preset, sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    s.provider_settings(preset).job_deadline = 1.0
    run = tmp_path / "run"
    sim.add_fault("stuck", path=TASKS if preset == "byteplus" else "predictLongRunning")
    with pytest.raises(RenderFailed, match="not finished after 1 s"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    _set_step(run, status="submitted", error_kind=None, error=None)  # as a kill leaves it
    _age_clip_rows(run, LATE_JOB_GRACE + 60)  # made long ago: forgotten, not just made
    (job,) = sim.jobs()
    sim.forget(job.name)
    ask = asked = AgreeingAsked()

    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    msg = str(ei.value)
    assert f"job {job.name} can no longer be picked up at {preset}" in msg, msg
    assert "next render buys the clip again (about $" in msg and "retries" not in msg, msg
    assert asked == [] and len(sim.jobs()) == 1  # nothing bought
    st = collect_status(run)
    (scene,) = st["scenes"]
    assert scene["next"].startswith("buy the clip again (about $"), scene["next"]
    assert st["money"]["in_flight"] == 0, st["money"]
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "billed" and row["usage"]["unknown_outcome"], row
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    assert res.movie is not None and asked and asked[0] > 0, asked
    assert len(sim.jobs()) == 2


async def test_a_job_of_an_earlier_model_is_billed_at_that_model_s_price(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip job of Seedance 1.5 pro ($1.2 per million tokens) was still running when
    its render stopped waiting for it (its deadline). Then video.model was set to
    Seedance 1.0 pro ($2.5). The next render makes the clip with the new model, and
    its sweep of jobs no step uses bills the old job. It priced that job with the
    model of the settings now, so its tokens were billed at 1.0 pro's rate, more than
    twice what was paid. It is now priced with the model its row was made for."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _paid_clips_only(sim)
    s.providers.byteplus.job_deadline = 1.0
    run = tmp_path / "run"
    sim.add_fault("slow", path=TASKS, method="POST", count=1, seconds=2.0)
    with pytest.raises(RenderFailed, match="not finished after 1 s"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (old,) = sim.jobs()
    time.sleep(max(0.0, old.finish_at() - time.monotonic()) + 0.2)
    s.video.model = "seedance-1-0-pro-250528"
    s.providers.byteplus.job_deadline = 60.0
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=lambda e: True).run()
    assert res.movie is not None
    first, second = ledger_rows(run, "clip")
    assert first["remote_id"] == old.name and first["usage"]["unused"], first
    tokens = first["usage"]["completion_tokens"]
    assert first["billed_usd"] == pytest.approx(tokens * 1.2 / 1e6), first
    assert second["model"] == "seedance-1-0-pro-250528", second
    assert second["billed_usd"] == pytest.approx(second["usage"]["completion_tokens"] * 2.5 / 1e6)


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_a_job_just_made_that_a_resume_s_poll_briefly_does_not_find_is_kept(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str
) -> None:
    """A render killed seconds after its create (the step `submitted`), resumed at once,
    and the provider's first poll of the job it just made answers 404 (not yet known
    where the poll lands), and so does the next render's. The resume let go of the job
    at once (`_let_go_of_job`): the job ran on and billed, and the render after bought
    the clip again, paid twice (it asked $0.10 and made a second job). A job this young
    is not taken for forgotten: the scene fails, the job stays journaled, and the
    render once the provider knows it picks it up: one job, nothing asked."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = settings_for(preset, sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    s.provider_settings(preset).job_deadline = 1.0
    run = tmp_path / "run"
    create = TASKS if preset == "byteplus" else "predictLongRunning"
    sim.add_fault("slow", path=create, method="POST", count=1, seconds=2.0)
    with pytest.raises(RenderFailed, match="not finished after 1 s"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    _set_step(run, status="submitted", error_kind=None, error=None)  # as a kill leaves it
    (job,) = sim.jobs()
    poll = f"{TASKS}/{job.id}" if preset == "byteplus" else ":fetchPredictOperation"
    sim.add_fault("http", path=poll, status=404, count=2)
    s.provider_settings(preset).job_deadline = 60.0
    ask = asked = AgreeingAsked()

    for _ in range(2):  # the resume's poll, then the next render's first look (`_adoptable`)
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
        msg = str(ei.value)
        assert "can no longer be picked up" not in msg and "buys the clip again" not in msg, msg
        assert "so it is kept: the next render polls it again" in msg, msg
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    assert res.movie is not None
    assert len(sim.jobs()) == 1 and asked == [], (len(sim.jobs()), asked)
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


def _age_clip_rows(run: Path, seconds: float) -> None:
    """The clip rows' creation put `seconds` earlier (a job made long ago, set up)."""
    import sqlite3

    con = sqlite3.connect(run / "run.db")
    with con:
        con.execute("UPDATE ledger SET created_at = created_at - ? WHERE stage='clip'", (seconds,))
    con.close()


def _set_step(run: Path, **fields: Any) -> None:
    """The clip step's columns edited by hand (a kill's journal, set up)."""
    import sqlite3

    con = sqlite3.connect(run / "run.db")
    with con:
        cols = ", ".join(f"{k}=?" for k in fields)
        con.execute(f"UPDATE steps SET {cols} WHERE stage='clip'", tuple(fields.values()))
    con.close()


@pytest.mark.parametrize("step", ["failed", "submitted"])
async def test_a_journaled_job_is_kept_when_the_base_url_changed_since_it_was_made(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A render after providers.byteplus.base_url changed (another region: ModelArk's
    endpoints each know only their own tasks) polls the journaled job where it is not
    known: a 404. It was taken for the provider having forgotten the job: let go of
    (`_let_go_of_job`), and the next render bought the clip again, the job (billed, or
    still running) paid twice. Now the job is kept, nothing is bought, and the scene
    fails saying the base URL changed and to put it back; once put back, the job is
    picked up: one job paid. `step`: the job's step failed (its download) or still in
    flight (a killed render's: polled without a first look)."""
    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)
    sim.clear_faults()
    if step == "submitted":
        _set_step(run, status="submitted", error_kind=None, error=None)
    ask = asked = AgreeingAsked()

    with SimServer() as other:  # another region's endpoint
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        for _ in range(2):  # not let go of at a second render either
            with pytest.raises(RenderFailed) as ei:
                await Pipeline(goals, moved, out=run, keys=KEYS, confirm=ask).run()
            msg = str(ei.value)
            assert f"byteplus does not know job {job}" in msg, msg
            assert "made with other settings: providers.byteplus.base_url" in msg, msg
            assert f"was '{sim.ark_base_url}', now '{other.ark_base_url}'" in msg, msg
            assert "put them back" in msg and "the job is kept" in msg, msg
            assert "can no longer be picked up" not in msg, msg
            assert "next render buys the clip again" not in msg, msg
            assert other.stats()["totals"]["jobs_created"] == 0  # nothing bought
            assert not any(asked), asked
            (row,) = ledger_rows(run, "clip")
            assert row["remote_id"] == job and not row["usage"].get("unused"), row
            (scene,) = collect_status(run, settings=moved)["scenes"]
            assert scene.get("remote_id") == job and "gone" not in scene, scene
            # what the next render does (it said "a new job only if the provider says
            # it failed": with the settings still changed, the scene fails again)
            assert scene["next"].startswith(f"re-poll job {job} (kept: the provider"), scene
            assert "else the scene fails again; no new job" in scene["next"], scene
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1  # the same job, picked up
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


async def _two_scenes_one_clip(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fields: tuple[str, ...] = ("image_prompt", "motion_prompt"),
) -> tuple[Path, Any, Path]:
    """Two scenes asking the very same clip (the second's prompts copied in plan.yaml;
    `fields`: those copied), planned (`_paid_clips_only`): (goals, settings, run folder)."""
    from mindmovie.plan import load_plan, write_plan

    goals = _quick_goals(sim, tmp_path, monkeypatch, scenes=2)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    plan = load_plan(run / "plan.yaml")
    a, b = plan.scenes
    same = {f: getattr(a, f) for f in fields}
    write_plan(
        plan.model_copy(update={"scenes": [a, b.model_copy(update=same)]}), run / "plan.yaml"
    )
    return goals, s, run


@pytest.mark.parametrize("why", ["download failed", "base_url changed"])
async def test_a_copied_scene_does_not_buy_the_clip_another_scene_s_job_holds(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    """Two scenes asking the very same clip (one copied in plan.yaml): one buys it, the
    other waits for it ("as" that scene, $0 in the estimate). When the buyer could not
    take its job's clip (its download failed; the base URL changed since the job was
    made, so it is not known where this render asks), the other scene went on and
    bought the very clip again: one request paid twice. It now fails without buying, and
    the next render that can take the job gives both scenes its clip: one job paid."""
    goals, s, run = await _two_scenes_one_clip(sim, tmp_path, monkeypatch)
    sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)

    def failed_without_buying(e: RenderFailed) -> None:
        msg = str(e)
        assert "is the very request" in msg and "not bought again" in msg, msg
        assert "2 scene(s) failed" in msg, msg

    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    failed_without_buying(ei.value)
    assert sim.stats()["totals"]["jobs_created"] == 1
    # the copy's failure is journaled on its clip step (status and the storyboard said
    # "no clip yet"), and status says it takes the holder's clip
    (holder,) = [r["scene_id"] for r in ledger_rows(run, "clip")]
    rows = {r["scene_id"]: r for r in collect_status(run, settings=s)["scenes"]}
    (copy,) = [sid for sid in rows if sid != holder]
    assert "is the very request" in (rows[copy].get("error") or ""), rows[copy]
    assert rows[copy]["next"] == (
        f"take the clip {holder} makes (the very same request, bought once)"
    ), rows[copy]
    if why == "base_url changed":
        sim.clear_faults()
        with SimServer() as other:
            moved = _paid_clips_only(sim)
            moved.providers.byteplus.base_url = other.ark_base_url
            with pytest.raises(RenderFailed) as ei:
                await Pipeline(goals, moved, out=run, keys=KEYS).run()
            failed_without_buying(ei.value)
            assert other.stats()["totals"]["jobs_created"] == 0  # nothing bought there
    assert sim.stats()["totals"]["jobs_created"] == 1
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1  # one request, one job paid
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


async def test_a_copied_scene_does_not_buy_unasked_the_clip_whose_shared_job_is_gone(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scenes asking the very same clip, whose one job (its download failed) the
    estimate counts as paid for both. The provider then says the job failed: its scene
    lets go of it and fails saying the next render buys the clip, and the other scene
    bought it at once, unasked. It fails too; the next render buys one clip for both."""
    goals, s, run = await _two_scenes_one_clip(sim, tmp_path, monkeypatch)
    sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (job,) = [r["remote_id"] for r in ledger_rows(run, "clip")]
    sim.clear_faults()
    body = {"status": "failed", "error": {"code": "InternalError", "message": "boom"}}
    sim.add_fault("patch", path=f"{TASKS}/{job}", method="GET", body=body, count=None)
    asked = AgreeingAsked()
    steps: list[tuple[str, str, str]] = []

    class Steps(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            steps.append((stage, scene_id, state))

    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=asked, reporter=Steps()).run()
    msg = " ".join(str(ei.value).split())
    assert "2 scene(s) failed" in msg and "can no longer be picked up" in msg, msg
    # each failure said under the clips stage (it was said under "keyframes")
    failed = [(stage, sid) for stage, sid, state in steps if state == "failed"]
    assert sorted(failed) == [("clips", "01-health-1"), ("clips", "01-health-2")], steps
    assert msg.count("The next render buys the clip again") == 1, msg
    assert "the next render buys it once for both scenes" in msg, msg
    assert sim.stats()["totals"]["jobs_created"] == 1  # nothing bought unasked
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=asked).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 2  # one new job, for both scenes


async def _legacy_keyed_holder(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, str]:
    """`_two_scenes_one_clip` rendered with every clip download failing (one job, held
    by one scene), then that scene's step keyed as a run made before 2026-12-04 keyed
    it (with the fps and frame size). (goals, settings, run folder, the job)."""
    from mindmovie.pipeline import _identity
    from mindmovie.plan import load_plan

    goals, s, run = await _two_scenes_one_clip(sim, tmp_path, monkeypatch)
    sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    ((job, holder),) = [(r["remote_id"], r["scene_id"]) for r in ledger_rows(run, "clip")]
    sim.clear_faults()
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    sc = next(x for x in load_plan(run / "plan.yaml").scenes if x.id == holder)
    req = pipe._video_request(sc, run / "scenes" / sc.id / "keyframe.png")
    store = Store(run / "run.db")
    store.rekey(holder, "clip", pipe._clip_key(_identity(s, "video"), req, legacy=True))
    store.close()
    return goals, s, run, str(job)


@pytest.mark.parametrize("then", ["download fails again", "job failed"])
async def test_a_copied_scene_finds_the_shared_job_held_under_its_key_before_2026_12_04(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    """The scene holding the shared job keys its step as until 2026-12-04: the copy did
    not see it as that job's holder (nor its result gone), and bought the very clip
    again in the render (unasked, the estimate counting it as the holder's). It fails
    instead; the next render buys at most one clip for both."""
    goals, s, run, job = await _legacy_keyed_holder(sim, tmp_path, monkeypatch)
    if then == "download fails again":
        sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    else:
        body = {"status": "failed", "error": {"code": "InternalError", "message": "boom"}}
        sim.add_fault("patch", path=f"{TASKS}/{job}", method="GET", body=body, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=AgreeingAsked()).run()
    msg = " ".join(str(ei.value).split())
    assert "2 scene(s) failed" in msg and "its clip is the very request" in msg, msg
    assert sim.stats()["totals"]["jobs_created"] == 1  # nothing bought in the render
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=AgreeingAsked()).run()
    assert res.movie is not None
    # the job's clip taken for both, or (gone) one new job for both
    assert sim.stats()["totals"]["jobs_created"] == (1 if then != "job failed" else 2)


@pytest.mark.parametrize("keyed", ["as now", "as until 2026-12-04"])
async def test_a_copy_takes_the_job_of_a_scene_that_fails_at_its_keyframe_whatever_its_key(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyed: str
) -> None:
    """A scene's clip job left past its deadline (its step holding it, keyed as now or
    as until 2026-12-04); plan.yaml then edited so that another scene asks that very
    clip and the first scene a new image, which is refused. The copy takes the job (a
    review's find: with the old key it bought the same clip again, 5 jobs for 4)."""
    import contextlib
    import sqlite3

    import yaml

    from tests.integration.support import keyed_as_before

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for("byteplus", sim)
    s.provider_settings("byteplus").job_deadline = 1.0
    sim.add_fault("slow", path=TASKS, method="POST", count=1, seconds=3)
    old = (
        keyed_as_before(monkeypatch, "_clip_key") if keyed != "as now" else contextlib.nullcontext()
    )
    with old, pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    sim.clear_faults()
    con = sqlite3.connect(run / "run.db")
    ((holder,),) = con.execute(
        "SELECT scene_id FROM steps WHERE stage='clip' AND remote_id IS NOT NULL"
        " AND status!='succeeded'"
    ).fetchall()
    con.close()
    jobs = sim.stats()["totals"]["jobs_created"]
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    h = next(sc for sc in plan["scenes"] if sc["id"] == holder)
    c = next(sc for sc in plan["scenes"] if sc["id"] != holder)
    for field in ("image_prompt", "motion_prompt", "seconds", "reference_photos"):
        c[field] = h[field]
    h["image_prompt"] += ", at dusk"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    sim.add_fault("http", path="/images/generations", status=400, count=None, message="no")
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, settings_for("byteplus", sim), out=run, keys=KEYS).run()
    assert c["id"] not in str(e.value), e.value  # the copy has its clip: the job's
    assert sim.stats()["totals"]["jobs_created"] == jobs, sim.stats()["totals"]
    assert (run / "scenes" / c["id"] / "clip.mp4").is_file()


async def test_a_scene_whose_fallback_is_a_held_job_s_request_buys_its_own_counted_clip(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the planned request holds a scene back: one whose content-filter fallback
    (a softened prompt) is another scene's held job's request asks its own clip, which
    the estimate counts; it was failed as that job's copy."""
    from mindmovie.pipeline import soften_prompt
    from mindmovie.plan import load_plan, write_plan

    goals, s, run = await _two_scenes_one_clip(sim, tmp_path, monkeypatch)
    plan = load_plan(run / "plan.yaml")
    a, b = plan.scenes
    x = "I run with my kids along the beach"
    held = {"motion_prompt": soften_prompt(x, a.category)}
    write_plan(
        plan.model_copy(update={"scenes": [a.model_copy(update=held), b.model_copy(update=held)]}),
        run / "plan.yaml",
    )
    sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    ((job, holder),) = [(r["remote_id"], r["scene_id"]) for r in ledger_rows(run, "clip")]
    sim.clear_faults()
    other = next(sc.id for sc in plan.scenes if sc.id != holder)
    scenes = [
        sc.model_copy(update=held if sc.id == holder else {"motion_prompt": x})
        for sc in plan.scenes
    ]
    write_plan(plan.model_copy(update={"scenes": scenes}), run / "plan.yaml")
    body = {"status": "failed", "error": {"code": "InternalError", "message": "boom"}}
    sim.add_fault("patch", path=f"{TASKS}/{job}", method="GET", body=body, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=AgreeingAsked()).run()
    assert f"{other}:" not in str(ei.value), ei.value
    assert sim.stats()["totals"]["jobs_created"] == 2  # its own clip, counted


async def test_a_scene_with_its_own_job_for_the_request_is_not_failed_by_another_s_gone_job(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scenes each holding a job for the very same request (as a run from before
    scenes took turns: set by hand here). One job ends failed: its scene fails; the
    other scene polls its own job, and was failed as though it shared the gone one."""
    from mindmovie.plan import load_plan, write_plan

    # the same image, each its own clip: two jobs
    goals, s, run = await _two_scenes_one_clip(sim, tmp_path, monkeypatch, ("image_prompt",))
    plan = load_plan(run / "plan.yaml")
    a, b = plan.scenes
    sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    jobs = {r["scene_id"]: r["remote_id"] for r in ledger_rows(run, "clip")}
    assert len(jobs) == 2
    sim.clear_faults()
    same = {"image_prompt": a.image_prompt, "motion_prompt": a.motion_prompt}
    write_plan(
        plan.model_copy(update={"scenes": [a, b.model_copy(update=same)]}), run / "plan.yaml"
    )
    store = Store(run / "run.db")
    a_step = store.get(a.id, "clip")
    assert a_step is not None
    store.rekey(b.id, "clip", a_step.input_key)
    store.close()
    body = {"status": "failed", "error": {"code": "InternalError", "message": "boom"}}
    sim.add_fault("patch", path=f"{TASKS}/{jobs[a.id]}", method="GET", body=body, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=AgreeingAsked()).run()
    assert f"{b.id}:" not in str(ei.value), ei.value
    assert sim.stats()["totals"]["jobs_created"] == 2


async def test_a_journaled_job_is_kept_when_the_key_changed_since_it_was_made(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ARK_API_KEY of another account (project) since the job was made: the provider
    answers 404 for it. The job is kept, the message names the key's variable (never
    the key), and with the key put back the job is picked up, not bought again."""
    from pydantic import SecretStr

    from mindmovie.config import Keys

    sim.jobs_per_key = True
    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)
    sim.clear_faults()
    other = Keys(byteplus=SecretStr("ark-of-another-project-5ecret"))
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=other, confirm=lambda e: True).run()
    msg = str(ei.value)
    assert f"byteplus does not know job {job}" in msg, msg
    assert "the key (ARK_API_KEY (or BYTEPLUS_API_KEY)) is not the one it was made" in msg
    assert "5ecret" not in msg and "base_url" not in msg, msg
    assert sim.stats()["totals"]["jobs_created"] == 1  # nothing bought
    db = (run / "run.db").read_bytes()
    assert b"5ecret" not in db and b"ark-of" not in db  # never stored
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


async def _a_lost_create_whose_job_came_late(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> tuple[Path, Any, Path, str]:
    """A one-scene render whose clip create's answer was lost, stopped while it waited
    for the job, which the simulator made afterwards: the row committed with no job id.
    `how`: "answer lost" (the row's lost note kept) or "killed in flight" (the note
    taken off: a create in flight when a render was killed). (goals, settings, run
    folder, the job)."""
    import sqlite3

    from mindmovie import pipeline
    from mindmovie.pipeline import Interrupted

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 120.0)
    goals, s, held = _one_scene_with_lost_creates(sim, tmp_path, monkeypatch, count=1)

    class CtrlC(NullReporter):
        def warn(self, text: str) -> None:
            if "waiting for it" in text:  # as the SIGINT handler does
                pipe._stopping = True
                pipe._stop_event.set()

    run = tmp_path / "run"
    pipe = Pipeline(goals, s, out=run, keys=KEYS, reporter=CtrlC())
    with pytest.raises(Interrupted):
        await pipe.run()
    sim.release(held)
    await _until_jobs(sim, 1)
    (job,) = sim.jobs()
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "committed" and not row["remote_id"], row
    if how == "killed in flight":
        con = sqlite3.connect(run / "run.db")
        with con:
            con.execute("UPDATE ledger SET usage=NULL WHERE stage='clip'")
        con.close()
    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 0.5)  # over: looked for once
    return goals, s, run, job.id


@pytest.mark.parametrize("how", ["answer lost", "killed in flight"])
async def test_a_lost_create_is_kept_when_the_base_url_changed_since_it_was_sent(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A clip create whose answer was lost (or in flight at a kill) has no job id: the
    next render looks for its job in the provider's list. After
    providers.byteplus.base_url changed (another region), the list is the other
    region's: no job there, so the row was refunded ("no job found") and the clip
    bought again there, while the job made at the first region billed: paid twice.
    Now the row stays committed, the scene fails naming the setting changed, nothing is
    bought; with the base URL put back, the job is found and used: one job paid."""
    goals, s, run, job = await _a_lost_create_whose_job_came_late(sim, tmp_path, monkeypatch, how)
    said = _Said()
    with SimServer() as other:  # another region's endpoint
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        for _ in range(2):  # not refunded at a second render either
            with pytest.raises(RenderFailed) as ei:
                await Pipeline(goals, moved, out=run, keys=KEYS, reporter=said).run()
            msg = str(ei.value)
            assert "providers.byteplus.base_url" in msg, msg
            assert f"was '{sim.ark_base_url}', now '{other.ark_base_url}'" in msg, msg
            assert "put them back and render again" in msg.lower(), msg
            assert "render --let-go" in msg, msg
            assert other.stats()["totals"]["jobs_created"] == 0  # nothing bought
            assert not other.requests(path=TASKS, method="POST")
            (row,) = ledger_rows(run, "clip")
            assert row["state"] == "committed" and not row["remote_id"], row
        (scene,) = collect_status(run)["scenes"]
        assert any(scene["scene_id"] in t and "base_url" in t for t in said.said), said.said
        # status with those settings: no wait for it (the render waits for nothing, even
        # within the grace), and the scene's next step says why and what to do
        monkeypatch.setenv("MINDMOVIE_LATE_JOB_GRACE", "600")
        info = collect_status(run, settings=moved)
        monkeypatch.delenv("MINDMOVIE_LATE_JOB_GRACE")
        assert info["late_wait"] == [], info["late_wait"]
        (scene,) = info["scenes"]
        assert "late_job" not in scene, scene
        assert "providers.byteplus.base_url" in scene["next"], scene
        assert "put them back and render again" in scene["next"].lower(), scene
        # with the settings it was made with: looked for, as before
        monkeypatch.setenv("MINDMOVIE_LATE_JOB_GRACE", "600")
        info = collect_status(run, settings=s)
        monkeypatch.delenv("MINDMOVIE_LATE_JOB_GRACE")
        assert [w["scenes"] for w in info["late_wait"]] == [[scene["scene_id"]]], info
        (scene,) = info["scenes"]
        assert scene["next"].startswith("wait up to"), scene
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == 1  # nothing bought again
    assert sim.stats()["totals"]["jobs_created"] == 1
    (row,) = ledger_rows(run, "clip")
    assert row["remote_id"] == job and row["state"] == "billed", row


async def test_a_lost_create_kept_for_other_settings_holds_no_other_scenes_clip(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scenes; the first create's answer is lost and the render stopped while it
    waited. After the base URL changed, that scene fails (its clip not bought) and the
    other scene's clip is made at the new endpoint at once: the kept request is not
    waited for (no wait could settle it in this render)."""
    from mindmovie import pipeline
    from mindmovie.pipeline import Interrupted

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 120.0)
    goals = _quick_goals(sim, tmp_path, monkeypatch, scenes=2)
    s = _paid_clips_only(sim)
    held = sim.add_fault("delay", path=TASKS, method="POST", count=1, seconds=60.0)

    class CtrlC(NullReporter):
        def warn(self, text: str) -> None:
            if "waiting for it" in text:
                pipe._stopping = True
                pipe._stop_event.set()

    run = tmp_path / "run"
    pipe = Pipeline(goals, s, out=run, keys=KEYS, reporter=CtrlC())
    with pytest.raises(Interrupted):
        await pipe.run()
    sim.release(held)
    await _until_jobs(sim, 1)
    (lost,) = [r for r in ledger_rows(run, "clip") if not r["remote_id"]]
    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 20.0)  # still within it
    with SimServer() as other:
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        said = _Said()
        t0 = time.monotonic()
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, moved, out=run, keys=KEYS, reporter=said).run()
        assert time.monotonic() - t0 < 10, "waited for the kept request"
        assert f"{lost['scene_id']}:" in str(ei.value), ei.value
        assert not said.waits(), said.said
        made = [r for r in ledger_rows(run, "clip") if r["scene_id"] != lost["scene_id"]]
        assert [r["state"] for r in made][-1:] == ["billed"], made
        assert other.stats()["totals"]["jobs_created"] == 1  # the other scene's only
    (row,) = [r for r in ledger_rows(run, "clip") if r["id"] == lost["id"]]
    assert row["state"] == "committed" and not row["remote_id"], row


async def test_a_lost_create_is_kept_when_the_key_changed_since_it_was_sent(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ARK_API_KEY of another account since a create whose answer was lost: its job is
    not in that account's list, and was taken for "no job" (refunded, the clip bought
    again). Now it is kept; the scene's message names the key's variable, never the
    key; with the key put back, the job is found and used."""
    from pydantic import SecretStr

    from mindmovie.config import Keys

    sim.jobs_per_key = True
    goals, s, run, job = await _a_lost_create_whose_job_came_late(
        sim, tmp_path, monkeypatch, "answer lost"
    )
    other = Keys(byteplus=SecretStr("ark-of-another-project-5ecret"))
    said = _Said()
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=other, reporter=said).run()
    msg = str(ei.value)
    assert "the key (ARK_API_KEY (or BYTEPLUS_API_KEY)) is not the one it was made" in msg
    assert "5ecret" not in msg and "base_url" not in msg, msg
    assert not any("5ecret" in t for t in said.said), said.said
    assert sim.stats()["totals"]["jobs_created"] == 1  # nothing bought
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "committed" and not row["remote_id"], row
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1
    (row,) = ledger_rows(run, "clip")
    assert row["remote_id"] == job and row["state"] == "billed", row


async def test_a_veo_create_in_flight_at_a_kill_with_another_key_is_settled_as_before(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Veo lists no operations: a create in flight at a kill is never looked for, with
    any settings (its outcome unknown, the clip made again at once). Made with another
    key than now, it is not set aside as one that could be looked for once the key is
    put back (that render would not look either, and status would say "put them
    back"): it is settled as before, its outcome unknown."""
    from pydantic import SecretStr

    from mindmovie import pipeline
    from mindmovie.config import Keys
    from mindmovie.providers import registry

    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    s = settings_for("google", sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    run = tmp_path / "run"
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    (sc,) = res.plan.scenes
    store = Store(run / "run.db")
    try:
        made = registry.job_origin("google", s, KEYS, store.origin_salt())
        assert made is not None
        store.begin(sc.id, "clip", "the clip's inputs")
        model = pipeline._identity(s, "video").model
        store.ledger_commit(sc.id, "clip", "google", model, 0.4, origin=made[0])
    finally:
        store.close()
    other = Keys(google=SecretStr("g-of-another-project"))
    res = await Pipeline(goals, s, out=run, keys=other).run()
    assert res.movie is not None
    first, made_now = ledger_rows(run, "clip")
    assert first["state"] == "committed" and first["usage"].get("unknown_outcome"), first
    assert made_now["state"] == "billed", made_now


def _forget_origins(run: Path) -> None:
    """Leave run.db as an older mindmovie did: where each job was made not recorded."""
    import sqlite3

    con = sqlite3.connect(run / "run.db")
    with con:
        con.execute("DELETE FROM meta WHERE key LIKE 'job_origin:%'")
    con.close()


async def _two_older_jobs(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, list[str]]:
    """A two-scene run whose two clip jobs finished, were billed and journaled (their
    downloads failed: a 403, "render again retries them") by an older mindmovie
    (`_forget_origins`): (goals, `_paid_clips_only` settings, run folder, the jobs)."""
    goals = _quick_goals(sim, tmp_path, monkeypatch, scenes=2)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed, match="retries them"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    sim.clear_faults()
    _forget_origins(run)
    return goals, s, run, [str(r["remote_id"]) for r in ledger_rows(run, "clip")]


@pytest.mark.parametrize("what", ["base_url changed", "one deleted", "times damaged"])
async def test_jobs_of_an_older_mindmovie_are_kept_when_none_is_known_any_more(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """Jobs an older mindmovie journaled record nothing of where they were made. After
    the base URL changed each of them answers 404, and each was let go of (the clips
    bought again by the next render). A job made within a day is still known where it
    was made: when the run's other such jobs answer 404 as well, the settings changed,
    and the jobs are kept. One the provider deleted, while the others are known, is let
    go of as before. Rows whose time was edited by hand to no time are taken as recent
    (their age unknown): kept, not a traceback."""
    import sqlite3

    import httpx

    goals, s, run, jobs = await _two_older_jobs(sim, tmp_path, monkeypatch)
    assert len(jobs) == 2, jobs
    if what == "times damaged":
        con = sqlite3.connect(run / "run.db")
        with con:
            con.execute("UPDATE ledger SET created_at='x' WHERE stage='clip'")
        con.close()
    if what == "one deleted":
        httpx.delete(f"{sim.ark_base_url}{TASKS}/{jobs[0]}", headers={"Authorization": "Bearer k"})
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, s, out=run, keys=KEYS, confirm=lambda e: True).run()
        msg = str(ei.value)
        assert f"job {jobs[0]} can no longer be picked up" in msg, msg  # let go of
        assert jobs[1] not in msg and "does not know" not in msg, msg  # downloaded
        return
    with SimServer() as other:
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, moved, out=run, keys=KEYS, confirm=lambda e: True).run()
        assert other.stats()["totals"]["jobs_created"] == 0
    msg = str(ei.value)
    for job in jobs:
        assert f"byteplus does not know job {job}" in msg, msg
    assert "nor does it know any other job of this run it made in the last 24 h" in msg, msg
    assert "were providers.byteplus.base_url, the key changed" in msg, msg
    assert "can no longer be picked up" not in msg, msg
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 2  # the same jobs, picked up


async def test_an_older_mindmovies_job_is_not_let_go_of_when_its_probe_cannot_be_asked(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two jobs an older mindmovie journaled (where they were made not recorded), and
    the base URL changed since: each answers 404. The one scene's 404 is told from the
    job forgotten by polling the run's other job (`_none_known`); that poll failing for
    a passing reason (a 5xx) was taken as that job known: the first job was let go of,
    and the next render bought its clip again, the job paid twice. A probe that cannot
    be asked tells nothing: the job is kept, and the next render asks again."""
    goals, s, run, jobs = await _two_older_jobs(sim, tmp_path, monkeypatch)
    with SimServer() as other:
        other.add_fault("http", path=f"{TASKS}/{jobs[1]}", method="GET", status=500, count=None)
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, moved, out=run, keys=KEYS, confirm=lambda e: True).run()
        assert other.stats()["totals"]["jobs_created"] == 0
    msg = str(ei.value)
    assert "can no longer be picked up" not in msg, msg  # neither job let go of
    assert f"byteplus does not know job {jobs[0]}" in msg, msg
    assert f"could not be asked now ({jobs[1]})" in msg, msg
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 2  # the same jobs, picked up


async def test_a_lone_job_of_an_older_mindmovie_is_kept_when_the_base_url_changed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's only job, journaled by an older mindmovie (where it was made not
    recorded) and billed, polled after the base URL changed: a 404, and no other job of
    the run to ask (`_none_known`). It was let go of, and the next render bought the
    clip again: paid twice. Made within a day, when every provider still keeps it, it is
    kept; with the base URL put back it is picked up."""
    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)
    sim.clear_faults()
    _forget_origins(run)
    with SimServer() as other:
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, moved, out=run, keys=KEYS, confirm=lambda e: True).run()
        assert other.stats()["totals"]["jobs_created"] == 0
    msg = str(ei.value)
    assert "can no longer be picked up" not in msg, msg
    assert f"byteplus does not know job {job}" in msg, msg
    assert "where it was made is not recorded" in msg and "providers.byteplus.base_url" in msg
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1  # the same job, picked up


async def _veo_operation_in_flight(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, str]:
    """A one-scene Veo render (sim.jobs_per_key) that stopped waiting for its operation
    (a 1 s deadline; the create took 2.5 s): (goals, settings, run folder, the job)."""
    no_retry_waits(monkeypatch)
    sim.jobs_per_key = True
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n    scenes: 1\n")
    s = settings_for("google", sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    s.providers.google.job_deadline = 1.0
    run = tmp_path / "run"
    sim.add_fault("slow", path="predictLongRunning", method="POST", count=1, seconds=2.5)
    with pytest.raises(RenderFailed, match="not finished after 1 s"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (job,) = [r["remote_id"] for r in ledger_rows(run, "clip")]
    return goals, s, run, str(job)


async def test_a_veo_operation_is_kept_when_the_google_key_changed_since_it_was_made(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Veo operation in flight when its render stopped waiting (its deadline), polled
    by a render with GOOGLE_API_KEY of another project: 404. It was let go of, and the
    clip bought again by the next render. Now it is kept and the scene fails naming the
    key's variable; with the key put back the operation is picked up, not bought."""
    from pydantic import SecretStr

    from mindmovie.config import Keys

    goals, s, run, job = await _veo_operation_in_flight(sim, tmp_path, monkeypatch)
    other = Keys(google=SecretStr("g-of-another-project"))
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=other, confirm=lambda e: True).run()
    msg = str(ei.value)
    assert f"google does not know job {job}" in msg, msg
    assert "the key (GOOGLE_API_KEY (or GEMINI_API_KEY)) is not the one it was made" in msg
    assert "can no longer be picked up" not in msg, msg
    assert len(sim.jobs()) == 1  # nothing bought
    time.sleep(2.0)  # the operation finishes
    s.providers.google.job_deadline = 60.0
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert len(sim.jobs()) == 1  # the same operation, picked up
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


async def test_a_job_no_step_uses_is_not_booked_forgotten_when_the_base_url_changed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job no step uses any more (its scene moved on), still in flight, polled by the
    sweep after the base URL changed: the 404 was taken for the job forgotten, and its
    row booked at its hold with its outcome unknown (`_book_forgotten_job`), never
    looked at again. Now it is kept, counted as in flight and told once a render; with
    the base URL put back it is settled from what it cost."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = _paid_clips_only(sim)
    s.providers.byteplus.job_deadline = 1.0
    run = tmp_path / "run"
    sim.add_fault("slow", path=TASKS, method="POST", count=1, seconds=3.0)
    with pytest.raises(RenderFailed, match="not finished after 1 s"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (job,) = [r["remote_id"] for r in ledger_rows(run, "clip")]
    _set_step(run, remote_id=None, input_key="edited")  # the scene moved on
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    with SimServer() as other:
        other.media_scale = 0.25
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        res = await Pipeline(
            goals, moved, out=run, keys=KEYS, reporter=Rec(), confirm=lambda e: True
        ).run()
        assert res.movie is not None  # the scene's new clip, made at the new endpoint
    (row, _new) = ledger_rows(run, "clip")
    assert row["remote_id"] == job and row["state"] == "committed", row
    assert not (row["usage"] or {}).get("unknown_outcome"), row
    told = [w for w in warned if job in w]
    assert len(told) == 1 and "providers.byteplus.base_url (its region) was" in told[0], warned
    assert "it is kept, counted as in flight" in told[0].lower(), told
    time.sleep(3.0)  # the job finishes
    await Pipeline(goals, s, out=run, keys=KEYS).run()
    (row, _new) = ledger_rows(run, "clip")
    assert row["state"] == "billed" and row["usage"].get("unused"), row
    assert not row["usage"].get("unknown_outcome"), row


@pytest.mark.parametrize(
    "edited", ["another salt", "salt not hex", "origin {}", "origin base_url null"]
)
async def test_a_run_whose_origin_meta_was_edited_lets_go_of_a_job_the_provider_forgot(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edited: str
) -> None:
    """run.db's `origin_salt` edited by hand (another value, or not hex: a new one was
    made). The key's fingerprint recorded with the job was compared with the same key's
    fingerprint under the new salt: they differ, and a job the provider really forgot
    (deleted) was kept for ever as "the key is not the one it was made with", which no
    key put back could end. Now each origin records the salt its fingerprint was made
    with: the same key is the same, and the 404 is the provider's word. Likewise an
    origin edited to `{}` or to a base URL null was compared as a base URL "(not set)" or
    'None', a change no setting put back could end: now it is unreadable, as not
    recorded (an older mindmovie's job: a lone one made within a day is kept until it
    is a day old)."""
    import sqlite3

    import httpx

    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)
    sim.clear_faults()
    con = sqlite3.connect(run / "run.db")
    with con:
        if edited.startswith("origin"):
            value = "{}" if edited == "origin {}" else '{"base_url": null, "key": "x"}'
            con.execute("UPDATE meta SET value=? WHERE key LIKE 'job_origin:%'", (value,))
        else:
            value = "00" * 16 if edited == "another salt" else "zz-edited"
            con.execute("UPDATE meta SET value=? WHERE key='origin_salt'", (value,))
    con.close()
    httpx.delete(f"{sim.ark_base_url}{TASKS}/{job}", headers={"Authorization": "Bearer k"})
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=lambda e: True).run()
    msg = str(ei.value)
    if edited.startswith("origin"):
        # as not recorded: a lone job made within a day is kept (until a day old)
        assert "where it was made is not recorded" in msg, msg
        assert "can no longer be picked up" not in msg, msg
        return
    assert f"job {job} can no longer be picked up" in msg, msg  # let go of
    assert "not the one it was made with" not in msg and "put them back" not in msg, msg


async def test_a_403_on_a_job_billed_over_a_day_ago_is_its_result_gone(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider that does not say when a job finished (Veo; here a task answer without
    updated_at): the job was billed by an earlier render, which bounds its finish. A 403
    on its result more than the provider keeps it after that is the result gone (the
    scene is bought again with consent), not one more "`render` again retries them"."""
    import sqlite3
    import time

    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)

    def billed_hours_ago(hours: float) -> None:
        db = sqlite3.connect(run / "run.db")
        with db:
            db.execute("UPDATE ledger SET updated_at=?", (time.time() - hours * 3600,))
        db.close()

    sim.add_fault("patch", path=f"{TASKS}/{job}", body={"updated_at": None}, count=None)
    billed_hours_ago(20)  # within its 24 h: tried again, and its bill (and time) kept
    with pytest.raises(RenderFailed, match="retries them"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (row,) = ledger_rows(run, "clip")
    assert abs(time.time() - row["updated_at"] - 20 * 3600) < 600, row
    billed_hours_ago(25)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(ei.value)
    assert f"the result of job {job} is gone at byteplus" in msg, msg
    assert "finished 25 h ago" in msg and "retries" not in msg, msg
    assert sim.stats()["totals"]["jobs_created"] == 1


async def test_a_journaled_job_is_kept_when_its_poll_is_refused_for_the_key(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poll answered 401 (a key revoked, or one of another account) says nothing of the
    job: it was let go of as one the provider no longer knows (`_let_go_of_job`), and the
    render after the key was put right bought the clip again, the paid job lost. The
    scene fails keeping its job, which the next render picks up: one job paid."""
    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)
    sim.clear_faults()
    sim.add_fault("http", path=f"{TASKS}/{job}", method="GET", status=401, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert "can no longer be picked up" not in str(ei.value), ei.value
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1
    assert [r["state"] for r in ledger_rows(run, "clip")] == ["billed"]


def _set_ledger(run: Path, row_id: int, column: str, value: object) -> None:
    """One ledger value edited by hand."""
    import sqlite3

    con = sqlite3.connect(run / "run.db")
    try:
        con.execute(f"UPDATE ledger SET {column}=? WHERE id=?", (value, row_id))
        con.commit()
    finally:
        con.close()


async def test_a_create_in_flight_at_a_kill_whose_row_time_is_damaged_is_no_traceback(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A video create in flight when a render was killed (its row committed, no job id)
    whose `created_at` was edited by hand to no time: every render was a ValueError
    traceback ("could not convert string to float") from its look for the job, though
    `_lost_sent_at` reads such a time tolerantly. It is looked for from the row's other
    time (else 24 h back); its wait is the whole grace (shortened here), as for a
    damaged note; no job: refunded, and the clip is made."""
    from mindmovie.providers import registry

    goals, s, run, sc, _, _, key = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    monkeypatch.setenv("MINDMOVIE_LATE_JOB_GRACE", "0.5")
    store = Store(run / "run.db")
    try:
        store.begin(sc.id, "clip", key)
        row = store.ledger_commit(
            sc.id, "clip", "byteplus", registry.make_video(s, KEYS).model, 0.1
        )
    finally:
        store.close()
    _set_ledger(run, row, "created_at", "x")
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == 1
    states = {r["id"]: r["state"] for r in ledger_rows(run, "clip")}
    assert states.pop(row) == "refunded" and list(states.values()) == ["billed"], states


async def test_a_billed_job_whose_row_time_is_damaged_is_still_downloaded(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip job billed by an earlier render whose download failed, its row's
    `updated_at` (the time it was billed, which tells its result's age) edited by hand
    to no time: the scene failed with "could not convert string to float: 'x'" at every
    render, downloading nothing. The age is then not known (no result taken for gone)."""
    goals, s, run, job = await _a_clip_whose_download_failed(sim, tmp_path, monkeypatch)
    (row,) = ledger_rows(run, "clip")
    _set_ledger(run, row["id"], "updated_at", "x")
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == 1
    (after,) = ledger_rows(run, "clip")  # its bill as it was: not billed again
    assert after["remote_id"] == job and after["billed_usd"] == row["billed_usd"], after


async def _two_scenes_up_to_their_clips(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, Pipeline, Any, list[tuple[Any, Any, str]]]:
    """A two-scene run of paid clips rendered to its keyframes, for tests that stage
    clip creates by hand: (goals, settings, run folder, a pipeline of it, its video
    model, each scene with its clip request and the clip step's input key)."""
    from mindmovie.pipeline import _identity
    from mindmovie.providers import registry

    goals = _quick_goals(sim, tmp_path, monkeypatch, scenes=2)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    scenes = []
    for sc in res.plan.scenes:
        req = pipe._video_request(sc, run / "scenes" / sc.id / "keyframe.png")
        ((_, key, _), *_) = pipe._clip_variants(_identity(s, "video"), sc, req)
        scenes.append((sc, req, key))
    return goals, s, run, pipe, registry.make_video(s, KEYS), scenes


def _commit_clip_creates(run: Path, video: Any, scenes: list[tuple[Any, Any, str]]) -> list[Any]:
    """Each scene's clip create as a render killed in flight leaves it (step begun, row
    committed, no job id); their requests."""
    store = Store(run / "run.db")
    try:
        for sc, _, key in scenes:
            store.begin(sc.id, "clip", key)
            store.ledger_commit(sc.id, "clip", "byteplus", video.model, 0.1)
    finally:
        store.close()
    return [req for _, req, _ in scenes]


async def test_more_jobs_than_the_orphan_creates_of_two_scenes_are_each_on_a_row(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creates of two scenes in flight when a render was killed (rows committed, no job
    id), and three jobs no row knows listed since (a second job made for one of them, or
    another request's late one). With no more jobs than rows each job is tied to a row;
    with more, none was: both rows stayed committed with an unknown outcome for good and
    the three jobs, which bill, were on no row (the ledger below what was billed). Each
    is on a row now: the rows take the earliest, the other is booked as made, unused
    (`_book_extra_jobs`), as for one scene's request; the clips are made again."""
    goals, s, run, _, video, scenes = await _two_scenes_up_to_their_clips(
        sim, tmp_path, monkeypatch
    )
    reqs = _commit_clip_creates(run, video, scenes)
    for req in [reqs[0], reqs[1], reqs[0]]:  # made after all, and one more
        await video.submit(req)
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert len(sim.requests(path=TASKS, method="POST")) == 5  # the two clips made again
    rows = ledger_rows(run, "clip")
    assert {r["remote_id"] for r in rows} == {j.id for j in sim.jobs()}, rows
    assert {r["state"] for r in rows} == {"billed"}, rows  # each settled: none for ever


async def test_more_jobs_than_the_waited_for_requests_of_two_scenes_are_each_on_a_row(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creates of two scenes in flight when a render was killed, no job listed yet: the
    next render waits for both (`_no_job_found`). Three jobs no row knows then show up
    in one look: with more jobs than rows none was tied, both rows stayed unknown for
    good and the jobs billed on no row. The rows take the earliest, the other is booked
    unused, and the clips are made again."""
    monkeypatch.setenv("MINDMOVIE_LATE_JOB_GRACE", "60")
    goals, s, run, _, video, scenes = await _two_scenes_up_to_their_clips(
        sim, tmp_path, monkeypatch
    )
    reqs = _commit_clip_creates(run, video, scenes)
    told: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            told.append(text)

    async def make_three_jobs_between_two_looks() -> None:
        await _until(lambda: any("waiting for it" in t for t in told), "the wait")
        looks = len(sim.requests(path=JOB_LIST, method="GET"))
        held = sim.add_fault("delay", path=JOB_LIST, method="GET", count=1, seconds=30.0)
        await _until(lambda: len(sim.requests(path=JOB_LIST, method="GET")) > looks, "a look")
        for req in [reqs[0], reqs[1], reqs[0]]:  # made after all, and one more
            await video.submit(req)
        sim.release(held)

    pipe = Pipeline(goals, s, out=run, keys=KEYS, reporter=Rec())
    res = await _run_in_order(pipe, make_three_jobs_between_two_looks())
    assert res.movie is not None
    assert any("shows 3 job(s) no scene knows" in t for t in told), told
    assert len(sim.requests(path=TASKS, method="POST")) == 5  # the two clips made again
    rows = ledger_rows(run, "clip")
    assert {r["remote_id"] for r in rows} == {j.id for j in sim.jobs()}, rows
    assert {r["state"] for r in rows} == {"billed"}, rows  # each settled: none for ever


async def test_more_jobs_than_two_scenes_lost_requests_after_the_clips_stage_are_on_rows(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lost creates of two scenes still unsettled after the clips stage (carried from a
    killed render, their scenes made no clip), and three jobs no row knows listed then:
    each row was left with an unknown outcome for good and the jobs billed on no row.
    The rows take the earliest, the other is booked as made, unused."""
    import time

    from mindmovie.budget import BudgetGate

    _, _, run, pipe, video, scenes = await _two_scenes_up_to_their_clips(sim, tmp_path, monkeypatch)
    store = Store(run / "run.db")
    try:
        pipe.gate = BudgetGate(store, None)
        reqs = []
        for sc, req, key in scenes:
            store.begin(sc.id, "clip", key)
            row = store.ledger_commit(sc.id, "clip", "byteplus", video.model, 0.1)
            sent_at = time.time()
            store.ledger_note_lost(row, key, sent_at)
            pipe._lost_rows[row] = sent_at
            pipe._lost_requests[row] = (sc.id, key)
            reqs.append(req)
        for req in [reqs[0], reqs[1], reqs[0]]:  # made after all, and one more
            await video.submit(req)
        await pipe._settle_lost_submissions(store, video)
        rows = [r for r in store.ledger_rows() if r["stage"] == "clip"]
    finally:
        store.close()
    assert {r["remote_id"] for r in rows} == {j.id for j in sim.jobs()}, rows
    assert not any((r["usage"] or {}).get("unknown_outcome") for r in rows), rows


async def test_a_create_answered_without_a_job_id_takes_the_job_made(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create answered 200 with no task id: the task was made and bills. Its row was
    refunded as "job_failed: not accepted" (counted nowhere), then kept committed with
    an unknown outcome, and the next render made and paid for a second task. It is
    taken from the task list, as a lost answer's is: one task, billed once."""
    goals, s, run, sc, _, _, _ = await _one_scene_keyframed(sim, tmp_path, monkeypatch)
    sim.add_fault("patch", path=TASKS, method="POST", body={"id": None}, count=1)
    told: list[str] = []

    class Rec(NullReporter):
        def info(self, text: str) -> None:
            told.append(text)

    res = await Pipeline(goals, s, out=run, keys=KEYS, reporter=Rec()).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 1
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "billed" and not (row["usage"] or {}).get("unknown_outcome"), row
    assert any(
        t.startswith(f"{sc.id}: the answer to the job request carried no job id, but the job ")
        and t.endswith("exists; using it instead of paying again")
        for t in told
    ), told


async def _refused_key(sim: SimServer, tmp_path: Path, provider: str, bad: str) -> tuple[str, str]:
    """Render the byteplus preset with `provider`'s key set to `bad`: it must be refused
    before anything is sent. Returns (what it said, the variable it must name)."""
    from pydantic import SecretStr

    from mindmovie.config import ConfigError, Keys

    goals = goals_file(tmp_path, sim)
    keys = Keys(
        **{**{"anthropic": KEYS.anthropic, "byteplus": KEYS.byteplus}, provider: SecretStr(bad)}
    )
    s = settings_for("byteplus", sim)
    with pytest.raises(ConfigError) as e:
        await Pipeline(goals, s, out=tmp_path / "run", keys=keys).run()
    assert sim.requests() == []
    var = "ANTHROPIC_API_KEY" if provider == "anthropic" else "ARK_API_KEY (or BYTEPLUS_API_KEY)"
    return str(e.value), var


@pytest.mark.parametrize("provider", ["anthropic", "byteplus"])
async def test_a_key_that_is_not_ascii_is_refused_before_any_call(
    sim: SimServer, tmp_path: Path, provider: str
) -> None:
    """A key with a stray non-ASCII character (pasted with a typographic dash, a .env
    saved in another encoding) cannot go in an HTTP header: every call failed in the
    client before it was sent, and each was taken for a lost answer that "may have been
    billed" (the plan call three times, $0.21 counted as outcome unknown) under a
    UnicodeEncodeError naming the character's position in the key. It is refused before
    anything, naming the variable, never the key; nothing is sent or counted."""
    bad = "sk\u2013ant-5ecret" if provider == "anthropic" else "ark-5ecret\udcff"
    said, var = await _refused_key(sim, tmp_path, provider, bad)
    assert said.startswith(f"{var}: {provider}'s key holds a character that is not "), said
    assert "5ecret" not in said
    assert not (tmp_path / "run" / "run.db").exists() or ledger_rows(tmp_path / "run", "plan") == []


@pytest.mark.parametrize(
    ("provider", "bad"),
    [
        ("byteplus", "ark-5ecret ark-0ther"),  # two values pasted together
        ("byteplus", "ark-5ecret\nark-0ther"),  # a quoted .env value over two lines
        ("anthropic", "sk-ant-5ecret\x1b[A"),  # a terminal's arrow key, pasted in
    ],
)
async def test_a_key_with_a_space_or_control_character_inside_is_refused_before_any_call(
    sim: SimServer, tmp_path: Path, provider: str, bad: str
) -> None:
    """A key with a space, line break or control character inside passed the key check
    (it is ASCII): it was sent, and only the provider's 401 named the variable (for
    Ark's key, after the plan was paid for). Refused before anything, naming the
    variable, never the key; nothing is sent. (Blanks at its ends are dropped when it
    is read: test_secrets.)"""
    said, var = await _refused_key(sim, tmp_path, provider, bad)
    assert said.startswith(f"{var}: {provider}'s key holds a space, tab, line "), said
    assert "5ecret" not in said and "0ther" not in said


@pytest.mark.parametrize(
    ("provider", "bad"),
    [
        ("byteplus", '"ark-5ecret"'),  # docker --env-file / systemd keep the quotes
        ("anthropic", "'sk-ant-5ecret'"),  # export K="'...'": quotes inside the quotes
    ],
)
async def test_a_key_with_its_quotes_pasted_in_is_refused_before_any_call(
    sim: SimServer, tmp_path: Path, provider: str, bad: str
) -> None:
    """A key with its quotes as part of the value (a docker --env-file or systemd
    EnvironmentFile keeps them; python-dotenv, which reads .env, drops them) passed the
    key check: doctor said `set`, the render sent it, and only the provider's 401 named
    the variable, after the plan was paid for when it was Ark's key. No provider's key
    holds a quote: refused before anything, naming the variable and the quotes, never
    the key; nothing is sent."""
    said, var = await _refused_key(sim, tmp_path, provider, bad)
    assert said.startswith(f"{var}: {provider}'s key holds a quote ("), said
    assert "5ecret" not in said and "\n" not in said


@pytest.mark.parametrize(
    ("provider", "bad", "whose"),
    [
        ("byteplus", "sk-ant-api03-5ecret", "Anthropic"),  # the planner's key, pasted here
        ("anthropic", "AIzaSy5ecret", "Google"),
    ],
)
async def test_another_provider_s_key_is_refused_before_any_call(
    sim: SimServer, tmp_path: Path, provider: str, bad: str, whose: str
) -> None:
    """ARK_API_KEY set to the Anthropic key (the two keys of the byteplus preset,
    pasted into each other's variable): the plan was made and paid for with Claude,
    then every keyframe was refused with a 401 saying only "check ARK_API_KEY". A key
    that starts as only another provider's keys do is refused before anything, naming
    the variable and whose key it looks like, never the key; nothing is sent."""
    said, var = await _refused_key(sim, tmp_path, provider, bad)
    assert said.startswith(f"{var}: {provider}'s key starts as {whose}'s keys do"), said
    assert "5ecret" not in said and bad[:4] not in said


async def test_a_key_with_a_flaw_and_another_not_set_are_named_together(
    sim: SimServer, tmp_path: Path
) -> None:
    """ANTHROPIC_API_KEY set with a space inside and ARK_API_KEY not set (the byteplus
    preset): only the flawed key was named; once it was set again, the next render
    named the other (seen by the new-user audit). Both are named in one message, never
    a key's value, and nothing is sent."""
    from pydantic import SecretStr

    from mindmovie.config import ConfigError, Keys

    goals = goals_file(tmp_path, sim)
    keys = Keys(anthropic=SecretStr("sk-ant-5ecret x"))
    s = settings_for("byteplus", sim)
    with pytest.raises(ConfigError) as e:
        await Pipeline(goals, s, out=tmp_path / "run", keys=keys).run()
    msg = str(e.value)
    assert msg.startswith("ANTHROPIC_API_KEY: anthropic's key holds a space, tab, "), msg
    assert "; and not set: ARK_API_KEY (or BYTEPLUS_API_KEY) (byteplus's key, needed by " in msg
    assert "5ecret" not in msg
    assert sim.requests() == []


async def _two_scenes_one_clip_kept(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, str, str]:
    """A two-scene render (`_paid_clips_only`): the first scene's clip made and used,
    the second's job finished, billed and journaled, its download failed (a 403 within
    the URL's validity, at every render): (goals, settings, run folder, the second
    scene's id, its job)."""
    goals = _quick_goals(sim, tmp_path, monkeypatch, scenes=2)
    s = _paid_clips_only(sim)
    run = tmp_path / "run"
    every = sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed, match="retries them"):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    sim.clear_faults()
    assert every.fired
    rows = ledger_rows(run, "clip")
    assert len(rows) == 2 and all(r["remote_id"] for r in rows), rows
    kept = rows[-1]
    (made,) = [j for j in sim.jobs() if j.id == kept["remote_id"]]
    sim.add_fault("http", path=f"{made.file_ids[0]}.mp4", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed, match="retries them") as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert f"{kept['scene_id']}:" in str(ei.value), ei.value
    sim.clear_faults()
    assert sim.stats()["totals"]["jobs_created"] == 2
    return goals, s, run, str(kept["scene_id"]), str(kept["remote_id"])


@pytest.mark.parametrize("what", ["base_url", "key"])
async def test_let_go_buys_again_only_the_clip_whose_job_is_kept_for_changed_settings(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """The settings a scene's job was made with cannot be put back (the old region or
    account is gone): without `--let-go` the scene fails and names the option, buying
    nothing; with it (`Pipeline.run(let_go=True)`), the job is let go of (its row stays
    billed, marked let go of by the person) and that scene's clip alone is bought again:
    counted in the spend question, one new job, the other scene reused (no job).
    The base URL's case also makes the checks of two tests on the same run (they were
    test_let_go_declined_lets_go_of_nothing and
    test_estimate_let_go_prices_what_render_let_go_buys): `--let-go` and the spend
    question declined lets go of nothing (the option is for that render only, and its
    marks are written after the spend is agreed to), and the next render without it
    keeps the job as before; `estimate` counts the kept job's clip as paid, and
    `estimate_for(let_go=True)` prices that scene's clip alone (`estimate` had no
    --let-go, so what `render --let-go` buys could not be priced), the same amount as
    the render's own spend question, and not below what the render then bills."""
    from pydantic import SecretStr

    from mindmovie.config import Keys
    from mindmovie.pipeline import Declined, estimate_for

    sim.jobs_per_key = True
    goals, s, run, scene, job = await _two_scenes_one_clip_kept(sim, tmp_path, monkeypatch)
    asked: list[Any] = []

    def ask(e: Any) -> bool:
        asked.append(e)
        return True

    with SimServer() as other:
        other.media_scale = 0.25
        other.job_seconds = 0.3
        moved, keys, where = s, KEYS, sim
        if what == "base_url":
            moved = _paid_clips_only(sim)
            moved.providers.byteplus.base_url = other.ark_base_url
            where = other
        else:
            keys = Keys(byteplus=SecretStr("ark-of-another-project-5ecret"))
        made_before = where.stats()["totals"]["jobs_created"]
        if what == "base_url":
            # `--let-go` declined lets go of nothing
            with pytest.raises(Declined):
                await Pipeline(goals, moved, out=run, keys=keys, confirm=lambda e: False).run(
                    let_go=True
                )
            (kept,) = [r for r in ledger_rows(run, "clip") if r["remote_id"] == job]
            assert "let_go" not in kept["usage"], kept
        # (after a declined `--let-go`, too: the job is kept as before)
        with pytest.raises(RenderFailed) as ei:
            await Pipeline(goals, moved, out=run, keys=keys, confirm=ask).run()
        msg = str(ei.value)
        assert f"does not know job {job}" in msg and "the job is kept" in msg, msg
        assert "`render --let-go` lets go of the job" in msg, msg
        assert where.stats()["totals"]["jobs_created"] == made_before  # nothing bought
        (kept,) = [r for r in ledger_rows(run, "clip") if r["remote_id"] == job]
        assert "let_go" not in kept["usage"], kept
        info = collect_status(run, settings=moved)
        (shown,) = [sc for sc in info["scenes"] if sc["scene_id"] == scene]
        assert "render --let-go" in shown["next"], shown
        if what == "base_url":
            # what `estimate` says without and with --let-go
            plain = estimate_for(goals, moved, out=run)
            assert [sc.scene_id for sc in plain.scenes if sc.video.payable] == [], plain
            ahead = estimate_for(goals, moved, out=run, let_go=True)
            assert [sc.scene_id for sc in ahead.scenes if sc.video.payable] == [scene], ahead
            before = {r["id"] for r in ledger_rows(run, "clip")}
        said = _Said()
        asked.clear()
        res = await Pipeline(goals, moved, out=run, keys=keys, confirm=ask, reporter=said).run(
            let_go=True
        )
        assert res.movie is not None
        # asked first, and the estimate counted that scene's clip, and only it
        (est,) = asked
        assert [sc.scene_id for sc in est.scenes if sc.video.payable] == [scene], est
        assert est.total > 0
        assert where.stats()["totals"]["jobs_created"] == made_before + 1  # one new job
        new = [r for r in where.requests(path=TASKS, method="POST")]
        assert len(new) == (1 if what == "base_url" else 3), new
        rows = ledger_rows(run, "clip")
        (kept,) = [r for r in rows if r["remote_id"] == job]
        assert kept["state"] == "billed" and kept["billed_usd"] > 0, kept  # stays spent
        assert kept["usage"]["let_go"].startswith("let go of by the person"), kept
        assert kept["usage"]["unused"], kept
        assert [r["scene_id"] for r in rows if r["remote_id"] != job].count(scene) == 1, rows
        assert [r["state"] for r in rows] == ["billed"] * 3, rows
        assert any(scene in t and "render --let-go" in t for t in said.said), said.said
        if what == "base_url":
            # `estimate --let-go` priced what the render bought: its spend question's
            # amount, and not below what the render billed
            assert ahead.total == pytest.approx(est.total), (ahead, est)
            made = [r for r in rows if r["id"] not in before]
            assert [r["scene_id"] for r in made] == [scene], made
            assert other.stats()["totals"]["jobs_created"] == 1
            billed = sum(r["billed_usd"] for r in made)
            assert 0 < billed <= ahead.total + 1e-9, (billed, ahead.total)
        # rendered again (with or without the option): all reused, nothing bought
        for let_go in (False, True):
            res = await Pipeline(goals, moved, out=run, keys=keys).run(let_go=let_go)
            assert res.movie is not None
        assert where.stats()["totals"]["jobs_created"] == made_before + 1
        assert len(ledger_rows(run, "clip")) == 3


@pytest.mark.parametrize("how", ["answer lost", "killed in flight"])
async def test_let_go_buys_again_the_clip_of_a_lost_create_sent_with_other_settings(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A create whose answer was lost, sent with a base URL that cannot be put back:
    `--let-go` keeps its row committed (it may have made a job there), marked let go of
    with its outcome unknown, and buys the clip at the new endpoint: one job, asked
    first; the next render looks for the row's job no more."""
    goals, _, run, job = await _a_lost_create_whose_job_came_late(sim, tmp_path, monkeypatch, how)
    (lost,) = ledger_rows(run, "clip")
    asked: list[Any] = []

    def ask(e: Any) -> bool:
        asked.append(e)
        return True

    with SimServer() as other:
        other.media_scale = 0.25
        other.job_seconds = 0.3
        moved = _paid_clips_only(sim)
        moved.providers.byteplus.base_url = other.ark_base_url
        with pytest.raises(RenderFailed, match="`render --let-go` to let go of it"):
            await Pipeline(goals, moved, out=run, keys=KEYS, confirm=ask).run()
        assert other.stats()["totals"]["jobs_created"] == 0
        (scene,) = collect_status(run, settings=moved)["scenes"]
        assert "`render --let-go` to let go of it" in scene["next"], scene
        said = _Said()
        asked.clear()
        res = await Pipeline(goals, moved, out=run, keys=KEYS, confirm=ask, reporter=said).run(
            let_go=True
        )
        assert res.movie is not None
        (est,) = asked
        assert [sc.video.payable for sc in est.scenes] == [True], est
        assert other.stats()["totals"]["jobs_created"] == 1
        assert len(other.requests(path=TASKS, method="POST")) == 1
        rows = ledger_rows(run, "clip")
        (row,) = [r for r in rows if r["id"] == lost["id"]]
        assert row["state"] == "committed" and not row["remote_id"], row  # stays counted
        assert row["usage"]["let_go"].startswith("let go of by the person"), row
        assert row["usage"]["unknown_outcome"], row
        assert [r["state"] for r in rows if r["id"] != lost["id"]] == ["billed"], rows
        assert any("was let go of (render --let-go)" in t for t in said.said), said.said
        res = await Pipeline(goals, moved, out=run, keys=KEYS).run()
        assert res.movie is not None
        assert other.stats()["totals"]["jobs_created"] == 1
    # the job the lost create made at the old endpoint is never taken for the scene's
    assert job not in {r["remote_id"] for r in ledger_rows(run, "clip")}


async def test_let_go_buys_again_the_clip_of_a_veo_operation_kept_for_another_key(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Veo operation in flight, polled with GOOGLE_API_KEY of another project (404):
    kept, and the message names `--let-go`; with it, the operation is let go of (its row
    stays committed: it may run and bill in the old project), and one new operation is
    bought with the key now set, asked first."""
    from pydantic import SecretStr

    from mindmovie.config import Keys

    goals, s, run, job = await _veo_operation_in_flight(sim, tmp_path, monkeypatch)
    s.providers.google.job_deadline = 60.0
    other = Keys(google=SecretStr("g-of-another-project"))
    with pytest.raises(RenderFailed, match="`render --let-go` lets go of the job"):
        await Pipeline(goals, s, out=run, keys=other, confirm=lambda e: True).run()
    assert len(sim.jobs()) == 1
    asked: list[Any] = []

    def ask(e: Any) -> bool:
        asked.append(e)
        return True

    said = _Said()
    res = await Pipeline(goals, s, out=run, keys=other, confirm=ask, reporter=said).run(let_go=True)
    assert res.movie is not None
    (est,) = asked
    assert [sc.video.payable for sc in est.scenes] == [True], est
    assert len(sim.jobs()) == 2  # one new operation
    (old, new) = ledger_rows(run, "clip")
    assert old["remote_id"] == job and old["state"] == "committed", old  # never refunded
    assert old["usage"]["let_go"].startswith("let go of by the person"), old
    assert new["state"] == "billed" and new["remote_id"] != job, new
    # let go of: not told again as a job kept in flight (the person chose)
    assert not [t for t in said.said if job in t and "counted as in flight" in t], said.said
    # and `status` counts it as an outcome unknown, not in flight (no render polls it
    # while the key differs): it said "in flight" for good
    money = collect_status(run)["money"]
    assert money["in_flight"] == 0 and money["unknown"] == pytest.approx(old["held_usd"]), money
    # the key put back: the old operation is settled (billed, unused), still let go of
    time.sleep(2.5)  # the operation finishes (`slow`: 2.5 s after it was made)
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None and len(sim.jobs()) == 2
    (old, _) = ledger_rows(run, "clip")
    assert old["state"] == "billed" and old["usage"]["unused"], old
    assert old["usage"]["let_go"].startswith("let go of by the person"), old


async def test_a_job_failed_in_words_of_a_local_limit_fails_only_its_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    """The provider's own words of a failed job are not this machine's limit: a job
    failed with "Too many open files" (the provider's server out of them) stopped the whole
    render with "too many files open: this process may open N at once (`ulimit -n`)",
    `--skip-failed` too, and told the person to raise a limit that was not met.
    Both limits' words in one render (they were two cases of this test, each its own
    render): a provider's error goes the same way through `limit_message` whatever it
    says (`_says` reads a provider's words only as an OS error Python quotes), and each
    job failed so fails only its own scene."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    words = ["Internal error: Too many open files", "worker pthread_create() failed"]
    for said in words:  # the first create's job fails in the first words, the next's in the other
        sim.add_fault("fail", path=TASKS, method="POST", count=1, message=said)
    pipe = Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS)
    res = await pipe.run(skip_failed=True)
    assert res.movie is not None and len(res.failed) == len(words), res.failed
    for said in words:
        assert [said in why for why in res.failed.values()].count(True) == 1, res.failed


async def test_a_keyframe_refused_as_planned_and_as_its_fallback_is_not_sent_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """A Gemini keyframe refused by the content filter as planned, then as its fallback
    (each refusal billed its input tokens): the render said "the same request is refused
    again: change what each says", yet status said "retry the keyframe", the estimate
    priced it, and the next render sent both again, refused and billed again (estimates
    audit). As for a clip: nothing is sent again until it is reworded; status and the
    estimate (nothing, "refused", its clip with it) say so; a reworded image_prompt is
    sent and made."""
    import yaml

    from mindmovie import costs
    from mindmovie.pipeline import estimate_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=":generateContent", count=2)
    one = {"providers": {"google": {"base_url": sim.base_url, "max_concurrent": 1}}}
    s = settings_for(
        "google", sim, planner={"provider": "local"}, video={"provider": "local"}, **one
    )
    run = tmp_path / "run"
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    images = sim.stats()["totals"]["images"]
    (row,) = [r for r in collect_status(run, settings=s)["scenes"] if r.get("keyframe") == "failed"]
    assert row["next"].startswith("none: the content filter refused its keyframe"), row
    est = estimate_for(goals, s, out=run)
    (refused,) = [x for x in est.scenes if x.scene_id == row["scene_id"]]
    assert refused.keyframe.usd == 0 and costs._cell(refused.keyframe) == "refused"
    assert not est.paid, est  # the other keyframes are made, the clips local
    assert any(
        n.startswith(f"{row['scene_id']}: its keyframe and clip are not sent")
        for n in costs.maybe_notes(est)
    ), costs.maybe_notes(est)
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed) as e:
        await pipe.run(until="keyframes")
    assert sim.stats()["totals"]["images"] == images  # nothing sent
    assert "the same requests are not sent again" in str(e.value), e.value
    # reworded: sent, and made
    plan_yaml = run / "plan.yaml"
    plan = yaml.safe_load(plan_yaml.read_text())
    for sc in plan["scenes"]:
        if sc["id"] == row["scene_id"]:
            sc["image_prompt"] = "A quiet sunlit garden path, reworded."
    plan_yaml.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    # status tells it is sent now (it said "none: ... reword" still: the review)
    (after,) = [
        r for r in collect_status(run, settings=s)["scenes"] if r["scene_id"] == row["scene_id"]
    ]
    assert not after["next"].startswith("none"), after
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == images + 1


async def test_a_copy_of_a_keyframe_refused_whole_in_the_same_render_is_not_sent(
    sim: SimServer, tmp_path: Path
) -> None:
    """Two scenes asking the very same keyframe (a scene copied in plan.yaml:
    `_one_buyer` has them take turns): the first refused as planned and as its fallback,
    the copy then sent them again (the review, from the code). It is not sent: its line
    says whose request it is."""
    import yaml

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    one = {"providers": {"google": {"base_url": sim.base_url, "max_concurrent": 1}}}
    s = settings_for("google", sim, video={"provider": "local"}, **one)
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    plan_yaml = run / "plan.yaml"
    plan = yaml.safe_load(plan_yaml.read_text())
    for sc in plan["scenes"]:
        if sc["id"] in ("02-career-1", "02-career-2"):  # one goal's: the very same image
            sc["image_prompt"] = "A team meeting in a sunlit studio."
    plan_yaml.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    before = len(sim.requests(path=":generateContent"))
    sim.add_fault("reject", path=":generateContent", count=2)
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed):
        await pipe.run(until="keyframes")
    assert pipe.result is not None
    assert set(pipe.result.failed) == {"02-career-1", "02-career-2"}, pipe.result.failed
    said = pipe.result.failed["02-career-2"]
    assert "the very request of scene 02-career-1" in said, said
    assert len(sim.requests(path=":generateContent")) - before == 2  # the refused two only


async def test_a_keyframe_reworded_to_its_refused_fallback_s_softened_form_is_sent(
    sim: SimServer, tmp_path: Path
) -> None:
    """A keyframe refused as planned ("... sharing wine ...") and as its fallback (the
    prompt softened: "wine" dropped), then reworded by dropping the word: the new planned
    request, never sent, has the same fallback, and was refused unsent as "refused
    whole" (the review). The fallback's refusal is of the planned request it was asked
    for (`Store.fallback_of`): the reworded one is sent, and made."""
    import yaml

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    one = {"providers": {"google": {"base_url": sim.base_url, "max_concurrent": 1}}}
    s = settings_for(
        "google", sim, planner={"provider": "local"}, video={"provider": "local"}, **one
    )
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    plan_yaml = run / "plan.yaml"

    def prompt(text: str) -> None:
        plan = yaml.safe_load(plan_yaml.read_text())
        plan["scenes"][1]["image_prompt"] = text
        plan_yaml.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))

    prompt("A team sharing wine in a sunlit studio.")
    sim.add_fault("reject", path=":generateContent", count=2)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    before = len(sim.requests(path=":generateContent"))
    prompt("A team sharing in a sunlit studio.")
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert len(sim.requests(path=":generateContent")) == before + 1


async def test_a_clip_refused_as_planned_and_as_its_fallback_is_not_sent_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """A scene's clip refused by the content filter as planned, then its fallback refused
    too (billed, as Seedance bills a filtered output): status said "retry the clip once
    with the content-filter fallback", and each render after re-sent the planned
    request, then the fallback, in turn, each refused and billed again. Nothing is sent
    again until it is reworded; status and the estimate say so; a reworded
    motion_prompt is sent."""
    import yaml

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=TASKS, method="POST", count=2, billed=True)
    ark = {"base_url": sim.ark_base_url, "max_concurrent": 1, "poll_interval": 0.05}
    one = {"providers": {"byteplus": {**ark, "poll_max_interval": 0.1}}}
    s = settings_for(
        "byteplus", sim, planner={"provider": "local"}, keyframes={"provider": "local"}, **one
    )
    run = tmp_path / "run"
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    jobs = sim.stats()["totals"]["jobs_created"]
    (row,) = [r for r in collect_status(run, settings=s)["scenes"] if r.get("clip") == "failed"]
    said = "none: the content filter refused its clip as planned and its fallback"
    assert row["next"].startswith(said), row
    from mindmovie import costs
    from mindmovie.pipeline import estimate_for

    # priced at nothing ("refused"), said under the table: it was counted, and the spend
    # question asked to pay for a clip the render then did not send (estimates audit)
    est = estimate_for(goals, s, out=run)
    (video,) = [x.video for x in est.scenes if x.scene_id == row["scene_id"]]
    assert video.usd == 0 and not video.payable and costs._cell(video) == "refused"
    assert any(
        n.startswith(f"{row['scene_id']}: its clip is not sent") and "reword its motion_prompt" in n
        for n in costs.maybe_notes(est)
    ), costs.maybe_notes(est)
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed) as e:
        await pipe.run(until="clips")
    assert sim.stats()["totals"]["jobs_created"] == jobs  # nothing sent
    assert "the same requests are not sent again" in str(e.value), e.value
    assert pipe.result is not None and set(pipe.result.failed) == {row["scene_id"]}
    # said once, at every render: its line said "byteplus scene X: " once more a render
    said = pipe.result.failed[row["scene_id"]]
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed):
        await pipe.run(until="clips")
    assert pipe.result is not None and pipe.result.failed[row["scene_id"]] == said
    assert said.count(f"scene {row['scene_id']}:") <= 1, said
    assert said.count("the same requests are not sent again") == 1, said
    plan_yaml = run / "plan.yaml"
    plan = yaml.safe_load(plan_yaml.read_text())
    for sc in plan["scenes"]:
        if sc["id"] == row["scene_id"]:
            sc["motion_prompt"] = "A calm, slow camera drift over a sunlit meadow"
    plan_yaml.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    assert not res.failed and sim.stats()["totals"]["jobs_created"] == jobs + 1


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_a_job_this_render_made_then_not_found_says_it_is_kept(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str
) -> None:
    """A clip job this render made, then answered 404 at its polls (the provider
    forgot it, or does not know it yet where the poll lands): the scene failed with only
    "operation ... not found (404 NOT_FOUND ...)", and the next render kept the job and
    polled it again, which nothing had said. The failure says it now."""
    goals = _quick_goals(sim, tmp_path, monkeypatch)
    s = settings_for(preset, sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    poll = f"{TASKS}/" if preset == "byteplus" else ":fetchPredictOperation"
    sim.add_fault("http", path=poll, method="GET" if preset == "byteplus" else None,
                  status=404, count=None)  # fmt: skip
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    msg = str(ei.value)
    assert "so it is kept: the next render polls it again" in msg, msg
    assert len(sim.jobs()) == 1


async def test_a_billed_job_answered_without_its_clip_is_said_to_be_looked_at_first(
    sim: SimServer, tmp_path: Path
) -> None:
    """Seedance tasks answered "succeeded" without their video URL (billed): status said
    "retry the clip (attempt 2)", read as a new job bought, and the next render looked at
    the job first, found it done and bought nothing. status says that order."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    local = {"provider": "local"}
    s = settings_for("byteplus", sim, planner=local, keyframes=local)
    sim.add_fault("patch", path=f"{TASKS}/cgt", method="GET", body={"content": None}, count=None)
    with pytest.raises(RenderFailed, match="succeeded without a video_url"):
        await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    sim.clear_faults()
    rows = collect_status(tmp_path / "run", settings=s)["scenes"]
    for row in rows:
        assert row["next"] == (
            f"retry the clip (attempt 2): job {row['remote_id']} is looked at first and taken "
            "if the provider has it done (no new job), else a new job"
        ), row
    jobs = sim.stats()["totals"]["jobs_created"]
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == jobs


async def test_plan_yaml_edited_during_the_render_is_said_at_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan.yaml edited while the render made its scenes (a scene deleted, a prompt
    changed): the render made the plan it had read, and ended saying nothing of the edit
    (the concurrent-use audit). It says so at its end; a render with no edit does not."""
    from mindmovie.plan import load_plan, write_plan

    warned: list[str] = []

    class Said(NullReporter):
        def warn(self, message: str) -> None:
            warned.append(message)

    goals = goals_file(tmp_path)
    run = tmp_path / "run"
    clip_once = Pipeline._clip_once

    async def edited(self: Pipeline, *a: Any, **kw: Any) -> Any:
        plan = load_plan(run / "plan.yaml")
        if len(plan.scenes) > 1:  # the last scene deleted, as the first clip is made
            write_plan(plan.model_copy(update={"scenes": plan.scenes[:-1]}), run / "plan.yaml")
        return await clip_once(self, *a, **kw)

    monkeypatch.setattr(Pipeline, "_clip_once", edited)
    res = await Pipeline(goals, tiny_local_settings(), out=run, reporter=Said()).run(until="clips")
    assert len(res.plan.scenes) > 1  # (the render made the plan it had read)
    said = [w for w in warned if "changed during this render" in w]
    assert said == [
        f"{run / 'plan.yaml'} changed during this render, which made the plan as it was "
        "when the render read it: render again to make what the edit asks (`mindmovie "
        "status` says which scenes)"
    ], warned
    monkeypatch.setattr(Pipeline, "_clip_once", clip_once)
    warned.clear()
    await Pipeline(goals, tiny_local_settings(), out=run, reporter=Said()).run()
    assert not [w for w in warned if "changed during this render" in w], warned


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("<html><body>ok</body></html>", None),
        ('{"id": "cgt-2025', None),
        ('{"id": "cgt-2025', "application/json"),  # (the SDK parses it: JSONDecodeError)
        ('{"error": null}', "application/json"),
    ],
)
async def test_a_create_answered_200_without_a_task_id_takes_the_task_made(
    sim: SimServer, tmp_path: Path, body: str, kind: str | None
) -> None:
    """A Seedance create answered 200 with no task id in it (a proxy's page, an answer
    cut short): the task was made and bills. It was a failure naming the console, the
    row left unknown, and the next render made and paid for a second task (the
    provider-faults audit). The task is looked for in the task list and taken: one task
    a scene, every clip row billed once."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault(
        "http_after", path=TASKS, method="POST", status=200, body=body, content_type=kind, count=1
    )
    pipe = Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS)
    res = await pipe.run(until="clips")
    n = len(res.plan.scenes)
    assert sim.stats()["totals"]["jobs_created"] == n
    st = collect_status(res.run_dir)
    clips = [r for r in st["ledger"] if r["stage"] == "clip"]
    assert len(clips) == n and {r["state"] for r in clips} == {"billed"}, clips
