"""Crash-proof runs: kill `mindmovie render` anywhere, run it again, nothing is lost or paid twice.

Every test drives the real CLI in a SUBPROCESS (`python -m mindmovie render ...`), so a kill
is a real SIGKILL of a real process: no `finally`, no flush, no goodbye. The provider
simulator lives in this test process; the config points the byteplus preset (Claude
planner, Seedream keyframes, Seedance video) at it, so its counters are what a provider
would bill: `messages` (planner calls), `images` (keyframes), `jobs_created` (video jobs).

`MINDMOVIE_KILL_AT=<point>[@n]` (mindmovie.killpoints) makes the render SIGKILL itself at
an exact place; the kill-point tests use byteplus `max_concurrent: 1` so the order of work
(plan, keyframe 1..4, clip 1..4, compose) and hence what is in flight at the kill is fixed,
which makes every expected count exact.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from mindmovie.media import probe
from mindmovie.pipeline import rendering_pid
from mindmovie.store import Store
from tests import mindmovie_fork
from tests.integration.support import copy_scene, goals_file, preset_config, scene_files
from tests.sim.server import SimServer

#: the support goals make four scenes: health, career x2, lifestyle
SCENES = 4
#: one render of 4 scenes takes ~6 s here; the bound only stops a hung process
RENDER_TIMEOUT = 120.0


def _clean_env() -> dict[str, str]:
    """The environment without ambient mindmovie settings or real provider keys."""
    drop = ("MINDMOVIE_", "ANTHROPIC_", "ARK_", "GEMINI_", "GOOGLE_", "BYTEPLUS_", "VOLC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update({"ANTHROPIC_API_KEY": "sk-ant-sim", "ARK_API_KEY": "ark-sim", "COLUMNS": "200"})
    return env


@dataclass
class Rig:
    """One goals file + config + run directory, rendered by subprocesses against `sim`."""

    sim: SimServer
    tmp: Path
    goals: Path
    cfg: Path
    out: Path
    logs: list[str] = field(default_factory=list)
    #: MINDMOVIE_LATE_JOB_GRACE for the renders (None: the default, 300 s). A kill after
    #: a create's ledger row is made but before the request reaches the simulator leaves
    #: a row whose job never comes; the next render's creates wait out the grace for it
    #: (so does a create whose answer is lost and whose job never comes)
    late_job_grace: float | None = 3.0
    #: the simulator's totals right after the killed render (set by _kill_then_resume)
    at_kill: dict[str, Any] = field(default_factory=dict)

    def env(self, kill_at: str | None = None) -> dict[str, str]:
        env = _clean_env()
        if kill_at:
            env["MINDMOVIE_KILL_AT"] = kill_at
        if self.late_job_grace is not None:
            env["MINDMOVIE_LATE_JOB_GRACE"] = str(self.late_job_grace)
        return env

    def args(self, *, quiet: bool = True, until: str | None = None) -> list[str]:
        """`render` and its arguments, for `python -m mindmovie`; `until`: its --until (a
        test whose checks all come before the compose stops the render there)."""
        cmd = ["render", str(self.goals), "-c", str(self.cfg), "--out", str(self.out), "--yes"]
        cmd += ["--until", until] if until else []
        return [*cmd, "-q"] if quiet else cmd

    def render(
        self,
        *,
        kill_at: str | None = None,
        quiet: bool = True,
        timeout: float = RENDER_TIMEOUT,
        until: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        r = mindmovie_fork.run(
            self.args(quiet=quiet, until=until),
            env=self.env(kill_at),
            cwd=self.tmp,
            timeout=timeout,
        )
        self.logs.append(
            f"$ render kill_at={kill_at} until={until} -> {r.returncode}\n{r.stdout}{r.stderr}"
        )
        return r

    def start(
        self,
        *,
        kill_at: str | None = None,
        quiet: bool = True,
        until: str | None = None,
        argv: list[str] | None = None,
    ) -> Any:
        """Start a render in the background (a subprocess.Popen or its forked equivalent,
        tests/mindmovie_fork.py); its output goes to files (read with .output). `argv`:
        the command and its arguments, in place of `args`'."""
        n = len(self.logs)
        said = " ".join(argv) if argv else "render"
        self.logs.append(f"$ {said} (background #{n}) kill_at={kill_at} until={until}")
        p = mindmovie_fork.start(
            argv or self.args(quiet=quiet, until=until),
            env=self.env(kill_at),
            cwd=self.tmp,
            out=self.tmp / f"render{n}.out",
            err=self.tmp / f"render{n}.err",
        )
        p.args = n  # remembers which log files are its own
        return p

    def output(self, p: Any) -> tuple[str, str]:
        n = p.args
        return (self.tmp / f"render{n}.out").read_text(), (self.tmp / f"render{n}.err").read_text()

    def status(self, *, with_config: bool = False) -> dict[str, Any]:
        """`status --json` of the run; `with_config`: with the renders' config, so each
        scene's `next` is checked against what a render would reuse. It only reads the
        run, so it runs in this process (the same CLI code, in the renders' environment):
        a subprocess for each of the ~70 looks these tests take cost ~0.6 s of start-up."""
        return dict(json.loads(self.status_text(with_config=with_config, as_json=True)))

    def status_text(self, *, with_config: bool = False, as_json: bool = False) -> str:
        """What `status` (`--json`: `as_json`) prints of the run (see `status`)."""
        from typer.testing import CliRunner

        from mindmovie.cli import app

        args = ["status", str(self.out), *(["--json"] if as_json else [])]
        args += ["-c", str(self.cfg)] if with_config else []
        env: dict[str, str | None] = dict.fromkeys(os.environ)  # unset what env() drops
        env.update(self.env())
        cwd = Path.cwd()
        os.chdir(self.tmp)
        try:
            r = CliRunner().invoke(app, args, env=env)
        finally:
            os.chdir(cwd)
        assert r.exit_code == 0, (r.output, r.exception)
        return r.stdout

    def totals(self) -> dict[str, Any]:
        return dict(self.sim.stats()["totals"])

    def history(self) -> str:
        return "\n".join(self.logs)[-6000:]


def make_rig(
    sim: SimServer,
    tmp_path: Path,
    *,
    max_concurrent: int = 1,
    job_seconds: float = 0.0,
    poll_interval: float = 0.05,
) -> Rig:
    sim.media_scale = 0.25
    sim.job_seconds = job_seconds
    goals = goals_file(tmp_path, sim)
    cfg = tmp_path / "sim.yaml"
    cfg.write_text(
        "preset: byteplus\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        "compose: {crossfade: 0.5, title_seconds: 1.0, closing_seconds: 1.0, quality: draft}\n"
        "providers:\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}', max_concurrent: {max_concurrent},"
        f" poll_interval: {poll_interval}, poll_max_interval: 0.2, job_deadline: 60}}\n"
    )
    return Rig(sim=sim, tmp=tmp_path, goals=goals, cfg=cfg, out=tmp_path / "run")


def assert_movie(path: Path) -> None:
    """A whole movie: H.264 video at the configured frame, AAC audio, a sane length."""
    assert path.is_file(), f"no movie at {path}"
    info = probe(path)
    assert info.video is not None and info.video.codec == "h264", info
    assert info.audio is not None and info.audio.codec == "aac", info
    assert (info.video.width, info.video.height) == (320, 180)
    # title 1 s + 4 scenes x 4 s + closing 1 s - 5 crossfades x 0.5 s
    assert abs(info.duration - (1 + 4 * SCENES + 1 - 0.5 * (SCENES + 1))) < 0.3, info.duration


def no_temp_litter(run_dir: Path) -> list[Path]:
    """Hidden temp files (atomic-write temps, partial downloads) and compose chunk
    folders left in the run."""
    return [
        p
        for p in run_dir.rglob(".*")
        if (p.is_file() and p.name != ".lock" and (".tmp" in p.name or p.name.endswith(".part")))
        or (p.is_dir() and p.name.startswith(".chunk-"))
    ]


def ledger(st: dict[str, Any], stage: str, state: str | None = None) -> list[dict[str, Any]]:
    return [
        r for r in st["ledger"] if r["stage"] == stage and (state is None or r["state"] == state)
    ]


def unknown_rows(st: dict[str, Any], stage: str) -> list[dict[str, Any]]:
    """Ledger rows left `committed` whose outcome the person was told is unknown."""
    return [r for r in ledger(st, stage, "committed") if (r["usage"] or {}).get("unknown_outcome")]


def attempts(st: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int]]:
    """(scene, stage) -> (attempts, run_no) for the plan, keyframe and clip steps."""
    return {
        (s["scene_id"], s["stage"]): (s["attempts"], s["run_no"])
        for s in st["steps"]
        if s["stage"] in ("plan", "keyframe", "clip", "movie")
    }


def check_money_invariants(st: dict[str, Any], totals: dict[str, Any], scenes: int) -> None:
    """What a finished run must show whatever happened before: each scene's keyframe and
    clip billed exactly once; anything else the provider may have made is a ledger row left
    committed (unknown outcome) that the person was told about; no video job twice."""
    assert totals["jobs_created"] == scenes
    assert len(ledger(st, "clip", "billed")) == scenes
    assert ledger(st, "clip", "committed") == []  # every video job was found and settled
    assert len(ledger(st, "keyframe", "billed")) == scenes
    assert len(ledger(st, "plan", "billed")) == 1
    # every committed row left over was reported as unknown (the warning on resume)
    for stage in ("plan", "keyframe"):
        assert ledger(st, stage, "committed") == unknown_rows(st, stage)


# --------------------------------------------------------------------- kill points
def _kill_then_resume(
    rig: Rig, point: str, *, with_config: bool = False
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Render with MINDMOVIE_KILL_AT=point (must die by SIGKILL), then render again.
    Returns (status before the resume, status after, the resume's stderr); `with_config`:
    the status before is taken with the renders' config (`Rig.status`)."""
    before_kill = rig.sim.connections()
    r = rig.render(kill_at=point)
    assert r.returncode == -signal.SIGKILL, rig.history()
    assert not (rig.out / "movie.mp4").exists()
    # the dead process's last requests may still be in the simulator's threads: wait
    # until each of its connections is closed there (its requests read and answered: a
    # thread slow to get to one recorded it after counters that merely stopped moving
    # for 0.1 s were taken), every file request it recorded is counted as a download,
    # and its counters stop moving, before taking them
    deadline = time.monotonic() + 10
    while True:
        rig.at_kill = rig.totals()
        time.sleep(0.1)
        gets = len(rig.sim.requests(path="/_sim/files/", method="GET"))
        left = rig.sim.connections() - before_kill
        if not left and rig.totals() == rig.at_kill and gets == rig.at_kill["downloads"]:
            break
        assert time.monotonic() < deadline, (gets, rig.at_kill, left)
    empty: dict[str, Any] = {"steps": [], "ledger": []}
    before = rig.status(with_config=with_config) if (rig.out / "run.db").exists() else empty
    r2 = rig.render(quiet=False)  # not quiet: what the person is told goes to stderr
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert no_temp_litter(rig.out) == []
    return before, rig.status(), r2.stderr


def _kept_attempts(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every step that had succeeded before the kill was reused: attempts 1, same run_no."""
    done = [s for s in before["steps"] if s["status"] == "succeeded" and s["stage"] != "segment"]
    now = attempts(after)
    for s in done:
        key = (s["scene_id"], s["stage"])
        assert now[key] == (1, s["run_no"]) == (s["attempts"], s["run_no"]), key


def test_kill_at_plan_costs_one_more_planner_call_reported_as_unknown_and_needs_no_key_to_recompose(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed at the plan: the planner answered (billed by the provider) and the answer
    died with the process before plan.yaml was written, so a second planner message is
    unavoidable; the first call stays in the ledger as committed (unknown outcome), and
    the resume says so, for good (nothing can settle it, and no render asks the provider
    about it again). Such a run, finished, was refused for ever after with no key set: an
    affirmation edited in plan.yaml (a recompose that calls nothing) said "ARK_API_KEY ...
    is not set" (found by the chaos soak, --keyless, with a keyframe's row: a Seedream call
    has no kill point of its own, the plan has). (Was two tests, each killing at the plan:
    test_a_call_of_unknown_outcome_once_reported_needs_no_key_to_recompose and
    test_kill_at_plan_costs_one_more_planner_call_reported_as_unknown.)"""
    rig = make_rig(sim, tmp_path)
    before, after, err = _kill_then_resume(rig, "plan")
    t = rig.totals()
    assert t["messages"] == 2
    assert t["images"] == SCENES and t["jobs_created"] == SCENES
    plan_rows = ledger(after, "plan")
    assert [r["state"] for r in plan_rows] == ["committed", "billed"]
    assert unknown_rows(after, "plan") == [plan_rows[0]]
    assert len(unknown_rows(after, "plan")) == 1
    assert "outcome is unknown" in err and "plan call" in err
    # counted at what the budget holds for the call (its most, >= the estimate), as an
    # outcome unknown, not in flight (nothing settles it: it stayed "in flight" for ever)
    assert after["money"]["unknown"] == pytest.approx(plan_rows[0]["held_usd"])
    assert after["money"]["in_flight"] == 0
    assert plan_rows[0]["held_usd"] >= plan_rows[0]["estimated_usd"]
    # said at that figure too: "about $0.0079" in the warning, "+$0.03 outcome unknown"
    # in the totals line and status
    from mindmovie import costs

    about = costs.format_usd(plan_rows[0]["estimated_usd"])
    held = costs.format_usd(plan_rows[0]["held_usd"])
    assert held != about  # (the hold of a plan call is max_tokens' worth)
    said = " ".join(err.split())
    assert f"(about {about}; the budget counts it at {held}, the most it can cost)" in said, said
    check_money_invariants(after, t, SCENES)
    # nothing had succeeded before the kill; the plan step ran twice, everything else once
    assert [s for s in before["steps"] if s["status"] == "succeeded"] == []
    now = attempts(after)
    assert now[("_run", "plan")] == (2, 2)
    assert all(a == 1 for (sid, stage), (a, _) in now.items() if stage in ("keyframe", "clip"))
    # the finished run, an affirmation edited, recomposed with no key set
    plan = rig.out / "plan.yaml"
    data = yaml.safe_load(plan.read_text())
    data["scenes"][0]["affirmation"] = "I am calm and brave"
    plan.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    sent = len(sim.requests())
    env = {k: v for k, v in rig.env().items() if not k.endswith("_API_KEY")}
    r = mindmovie_fork.run(rig.args(), env=env, cwd=rig.tmp, timeout=RENDER_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert len(sim.requests()) == sent  # nothing sent
    assert "I am calm and brave" in (rig.out / "storyboard.html").read_text()
    assert rig.status()["ledger"] == after["ledger"]  # nothing billed or reserved


def test_kill_as_a_paid_image_downloads_downloads_it_from_its_url_not_buying_it_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """Seedream answered the first keyframe with its result URL (the image made and
    billed) and the render died before the download was done: the image was lost, its row
    left an outcome unknown, and the next render bought it again. The URL is journaled on
    the row as the answer comes: `status` of the dead run counts it billed, and the next
    render downloads it from there."""
    rig = make_rig(sim, tmp_path)
    rig.cfg.write_text(rig.cfg.read_text() + "keyframes: {options: {response_format: url}}\n")
    before, after, err = _kill_then_resume(rig, "image_download")
    t = rig.totals()
    assert t["images"] == SCENES, "the image being downloaded at the kill was bought again"
    assert "downloads it (while the URL is valid) instead of buying it again" in " ".join(
        err.split()
    ), err
    (first,) = ledger(before, "keyframe")  # the kill came with the first image
    assert first["state"] == "billed", first
    assert first["usage"]["result_url"].startswith(sim.base_url + "/_sim/files/"), first
    assert before["money"]["unknown"] == 0
    check_money_invariants(after, t, SCENES)
    assert unknown_rows(after, "keyframe") == []
    rows = ledger(after, "keyframe")
    assert len(rows) == SCENES and all("result_url" not in r["usage"] for r in rows), rows
    _kept_attempts(before, after)


def test_kill_at_submit_adopts_the_orphan_job(sim: SimServer, tmp_path: Path) -> None:
    """THE key test: the first video job was created (and is being paid for) but its id
    died with the process before it was journaled. The next run must find it through the
    provider's task list and adopt it, not create (and pay for) a second one."""
    rig = make_rig(sim, tmp_path)
    before, after, err = _kill_then_resume(rig, "submit")
    t = rig.totals()
    assert t["jobs_created"] == SCENES  # adopted, not created again
    assert "picking it up instead of paying again" in err
    check_money_invariants(after, t, SCENES)
    # keyframes have their own slot, so one may have been in flight at the kill: its
    # result is lost and it is the one call paid again, shown as an unknown row
    assert t["messages"] == 1 and unknown_rows(after, "plan") == []
    # (an unknown row may also be a call the kill stopped before it was sent: at most one)
    assert SCENES <= t["images"] <= SCENES + len(unknown_rows(after, "keyframe"))
    assert len(unknown_rows(after, "keyframe")) <= 1
    # the plan and the first keyframe were done before the kill; the adopted clip step
    # kept its single attempt (it was resumed, not begun again)
    assert len([s for s in before["steps"] if s["status"] == "succeeded"]) >= 2
    _kept_attempts(before, after)
    clips = [s for s in after["steps"] if s["stage"] == "clip"]
    assert all(s["attempts"] == 1 for s in clips)
    first = next(s for s in before["steps"] if s["stage"] == "clip")
    assert first["status"] == "running" and first["remote_id"] is None  # the id was lost
    # the orphan's step was resumed with the job the first run created, not begun again
    orphan = next(
        s for s in after["steps"] if s["scene_id"] == first["scene_id"] and s["stage"] == "clip"
    )
    assert orphan["run_no"] == 1 and orphan["remote_id"] in {j.id for j in sim.jobs()}
    # each job the provider made is named by exactly one clip step and one ledger row
    job_ids = {j.id for j in sim.jobs()}
    assert {s["remote_id"] for s in clips} == job_ids
    assert {r["remote_id"] for r in ledger(after, "clip")} == job_ids


def test_a_clip_try_killed_before_its_request_was_sent_is_not_counted(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed as the first clip's try began, before the budget gate let its request
    through: nothing was sent, so the next render's try is that clip's first (status
    said "tries 2" and "retry the clip (attempt 2)" for one request never sent)."""
    rig = make_rig(sim, tmp_path)
    before, after, _ = _kill_then_resume(rig, "clip_begun", with_config=True)
    assert rig.at_kill["jobs_created"] == 0
    (killed,) = [s for s in before["steps"] if s["stage"] == "clip"]
    assert (killed["status"], killed["attempts"]) == ("running", 1)
    assert not ledger(before, "clip")  # no call let through
    # status said so before the resume too (it said "retry the clip (attempt 2)")
    (row,) = [sc for sc in before["scenes"] if sc["scene_id"] == killed["scene_id"]]
    assert (row["next"], row["tries"]["clip"]) == (
        "make the clip (none of its requests was sent)",
        0,
    ), row
    _kept_attempts(before, after)
    clips = {s["scene_id"]: s["attempts"] for s in after["steps"] if s["stage"] == "clip"}
    assert clips[killed["scene_id"]] == 1 and set(clips.values()) == {1}, clips
    check_money_invariants(after, rig.totals(), SCENES)


def test_kill_while_polling_polls_the_same_job_again(sim: SimServer, tmp_path: Path) -> None:
    rig = make_rig(sim, tmp_path)
    sim.min_polls = 2  # the first poll of a job always sees it unfinished, however slow we are
    before, after, _ = _kill_then_resume(rig, "poll")
    t = rig.totals()
    # the job id was journaled before the first poll: the resume polls it, never re-creates
    assert t["jobs_created"] == SCENES and t["messages"] == 1
    check_money_invariants(after, t, SCENES)
    assert unknown_rows(after, "plan") == []
    # keyframes have their own slots, so another scene's keyframe may have been in flight
    # at the kill: that one call is lost, made again and shown as an unknown row
    assert len(unknown_rows(after, "keyframe")) <= 1
    assert SCENES <= t["images"] <= SCENES + len(unknown_rows(after, "keyframe"))
    submitted = [s for s in before["steps"] if s["stage"] == "clip"]
    assert [s["status"] for s in submitted] == ["submitted"] and submitted[0]["remote_id"]
    _kept_attempts(before, after)
    assert all(a == 1 for (_, stage), (a, _) in attempts(after).items() if stage == "clip")


def test_kill_mid_download_fetches_the_same_job_again(sim: SimServer, tmp_path: Path) -> None:
    rig = make_rig(sim, tmp_path)
    before, after, _ = _kill_then_resume(rig, "download")
    t = rig.totals()
    # the job had finished and was billed; its clip is downloaded again from the same job
    # (extra downloads are free), and the partial file was cleaned up. The kill comes with
    # the first bytes of any download; another finished job's download may have begun by
    # then (the video slot is free during a download): each begun one is done again once.
    assert t["jobs_created"] == SCENES and t["messages"] == 1
    begun = rig.at_kill.get("downloads", 0)
    assert begun >= 1
    assert t["downloads"] == SCENES + begun
    check_money_invariants(after, t, SCENES)
    assert unknown_rows(after, "plan") == []
    # keyframes have their own slots: one may have been in flight at the kill (lost, made
    # again, shown as an unknown row)
    assert len(unknown_rows(after, "keyframe")) <= 1
    assert SCENES <= t["images"] <= SCENES + len(unknown_rows(after, "keyframe"))
    _kept_attempts(before, after)
    # every clip whose job id was journaled before the kill kept its job and its single
    # attempt (polled and fetched again, never re-created). Another scene's clip step may
    # have been begun but not sent when the kill came (the video slot is free during a
    # download): that one is begun again (attempt 2) and its row refunded, still one job.
    had_job = {
        s["scene_id"]: s["remote_id"]
        for s in before["steps"]
        if s["stage"] == "clip" and s["remote_id"]
    }
    assert had_job
    assert begun <= len(had_job)  # only a job whose id was journaled can be downloading
    now = {s["scene_id"]: s for s in after["steps"] if s["stage"] == "clip"}
    for scene_id, rid in had_job.items():
        assert now[scene_id]["remote_id"] == rid and now[scene_id]["attempts"] == 1, scene_id
    assert all(s["attempts"] <= 2 for s in now.values())


def test_kill_with_two_downloads_in_flight_fetches_each_from_its_job(
    sim: SimServer, tmp_path: Path
) -> None:
    """The first clip's download is held by the simulator; the next finished job's
    download begins meanwhile and its first bytes kill the render. Both jobs are paid
    for: the resume fetches each from its own job again, creating none."""
    rig = make_rig(sim, tmp_path)
    hold = sim.add_fault("delay", path="/_sim/files/", method="GET", count=1, seconds=60)
    before_kill = sim.connections()
    r = rig.render(kill_at="download")
    assert r.returncode == -signal.SIGKILL, rig.history()
    assert hold.fired == 1
    sim.release(hold)  # the held request goes on, to a dead client
    before = rig.status()
    journaled = {
        s["scene_id"]: s["remote_id"]
        for s in before["steps"]
        if s["stage"] == "clip" and s["remote_id"]
    }
    # every request of the dead render read and answered (its connections closed at the
    # simulator, as in `_kill_then_resume`), the held download served
    deadline = time.monotonic() + 10
    while (
        sim.connections() - before_kill
        or len(sim.requests(path="/_sim/files/", method="GET")) > rig.totals()["downloads"]
    ):
        assert time.monotonic() < deadline, "the held download was never served"
        time.sleep(0.05)
    begun = rig.totals()["downloads"]
    assert begun >= 2 and len(journaled) >= 2
    r2 = rig.render()
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    t = rig.totals()
    assert t["jobs_created"] == SCENES
    assert t["downloads"] == SCENES + begun
    now = {s["scene_id"]: s for s in rig.status()["steps"] if s["stage"] == "clip"}
    for scene_id, rid in journaled.items():
        assert now[scene_id]["remote_id"] == rid and now[scene_id]["attempts"] == 1, scene_id
    check_money_invariants(rig.status(), t, SCENES)


def test_kill_mid_compose_reuses_every_paid_step(sim: SimServer, tmp_path: Path) -> None:
    rig = make_rig(sim, tmp_path)
    before, after, _ = _kill_then_resume(rig, "compose")
    t = rig.totals()
    # everything paid for was done; compose is local and simply runs again
    assert t["jobs_created"] == SCENES and t["images"] == SCENES and t["messages"] == 1
    assert t["downloads"] == SCENES
    check_money_invariants(after, t, SCENES)
    assert len([s for s in before["steps"] if s["stage"] in ("keyframe", "clip")]) == 2 * SCENES
    _kept_attempts(before, after)
    # the kill came right after the first segment file was committed (before it was
    # journaled): the second compose found it by its key and reused it (attempts 0)
    segs = [s for s in after["steps"] if s["stage"] == "segment"]
    assert any(s["attempts"] == 0 for s in segs), segs
    assert attempts(after)[("_movie", "movie")] == (2, 2)


# Kills inside run.db transactions number 1 (schema of a brand-new run.db), 4/5 (around
# the planner call and plan.yaml), 8 (the first keyframe), then transactions of the
# keyframe and video stages interleaved (each has its own slot, so the exact order
# depends on timing), up to 40 (compose). Whatever the transaction, a kill may lose only
# a result whose call already came back: exactly one more call, left committed and told.
STORE_KILLS = (1, 4, 5, 8, 19, 20, 21, 35, 40)


@pytest.mark.parametrize("n", STORE_KILLS)
def test_kill_inside_a_store_transaction_rolls_back_cleanly(
    sim: SimServer, tmp_path: Path, n: int
) -> None:
    rig = make_rig(sim, tmp_path)
    r = rig.render(kill_at=f"store@{n}")
    assert r.returncode == -signal.SIGKILL, rig.history()
    db = rig.out / "run.db"
    # the db opens fine afterwards, with an intact schema (integrity_check on a copy:
    # opening the original could replay its WAL and change it before mindmovie sees it)
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    wal = db.with_name("run.db-wal")
    if wal.exists():
        copy.with_name("copy.db-wal").write_bytes(wal.read_bytes())
    con = sqlite3.connect(copy)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    before = rig.status()
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    after = rig.status()
    t = rig.totals()
    check_money_invariants(after, t, SCENES)
    # each extra keyframe / planner call is a committed (unknown) row; with keyframes in
    # their own slot, a row may also be a call reserved but not yet sent at the kill
    assert SCENES <= t["images"] <= SCENES + len(unknown_rows(after, "keyframe"))
    assert 1 <= t["messages"] <= 1 + len(unknown_rows(after, "plan"))
    if unknown_rows(after, "keyframe") or unknown_rows(after, "plan"):
        assert "outcome is unknown" in r2.stderr, r2.stderr  # and the person was told
    # at most one result was in the killed transaction, hence at most one call repeated
    assert len(unknown_rows(after, "keyframe")) + len(unknown_rows(after, "plan")) <= 1
    _kept_attempts(before, after)
    assert no_temp_litter(rig.out) == []


# --------------------------------------------------------------------- Ctrl-C
def _wait_for(cond: Any, timeout: float, what: str) -> None:
    t_end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > t_end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def _kill(p: Any) -> None:
    """End a render a test started, if it still runs (a failed test leaves no orphan)."""
    if p.poll() is None:
        p.kill()
        p.wait(timeout=10)


def _wait_exit(p: Any, timeout: float) -> tuple[int, float]:
    t0 = time.monotonic()
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(p)
        raise AssertionError(f"render did not exit within {timeout:.0f} s") from None
    return rc, time.monotonic() - t0


def test_ctrl_c_stops_within_grace_and_resume_creates_no_second_job(
    sim: SimServer, tmp_path: Path
) -> None:
    # slow jobs, three at a time: at the Ctrl-C several jobs are in flight
    rig = make_rig(sim, tmp_path, max_concurrent=3, job_seconds=2.0)
    p = rig.start()
    _wait_for(lambda: rig.totals()["jobs_created"] >= 1, 60, "the first video job")
    p.send_signal(signal.SIGINT)
    rc, took = _wait_exit(p, timeout=10)
    _, err = rig.output(p)
    assert rc == 130, err
    assert took < 8.0, took  # the grace is 5 s; in-flight polls stop at once
    assert "run the same command again" in err, err
    st = rig.status()
    # every job sent before the Ctrl-C is journaled with its id
    sent = rig.totals()["jobs_created"]
    journaled = [s for s in st["steps"] if s["stage"] == "clip" and s["remote_id"]]
    assert len(journaled) == sent
    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    t = rig.totals()
    # the grace let in-flight calls land: nothing was lost, so nothing was paid twice
    assert t["jobs_created"] == SCENES and t["images"] == SCENES and t["messages"] == 1
    check_money_invariants(rig.status(), t, SCENES)


@pytest.mark.parametrize("stop", ["graceful", "at_once"])
def test_a_stopped_render_fresh_says_to_resume_without_fresh(
    sim: SimServer, tmp_path: Path, stop: str
) -> None:
    """`render --fresh` stopped (Ctrl-C, or twice: at once) once its new run had begun:
    the line said "run the same command again to resume", and that command, --fresh
    again, set the new run aside too and bought its plan and keyframes again. It says
    to run it again without --fresh, and that render buys nothing twice."""
    rig = make_rig(sim, tmp_path, job_seconds=2.0)
    assert rig.render(until="keyframes").returncode == 0, rig.history()
    first = rig.totals()
    p = rig.start(argv=[*rig.args(quiet=False), "--fresh"])
    try:
        # every keyframe of the fresh run journaled: a second Ctrl-C cuts off an image in
        # flight, which the resume buys again (counted unknown), and this test is of the
        # line, not of that
        def keyframes_made() -> bool:
            if rig.totals()["jobs_created"] < 1:  # (first: the old run is set aside by then)
                return False
            steps = rig.status()["steps"]
            made = [s for s in steps if s["stage"] == "keyframe" and s["status"] == "succeeded"]
            return len(made) == SCENES

        _wait_for(keyframes_made, 60, "the fresh run's keyframes and first job")
        p.send_signal(signal.SIGINT)
        if stop == "at_once":
            _wait_for(
                lambda: "stopping: nothing new is sent" in rig.output(p)[1] or p.poll() is not None,
                30,
                "the first Ctrl-C to be heard",
            )
            p.send_signal(signal.SIGINT)
        rc, _ = _wait_exit(p, timeout=15)
    finally:
        _kill(p)
    err = rig.output(p)[1]
    assert rc == 130, err
    last = err.strip().splitlines()[-1]
    assert "run the same command again without --fresh to resume" in last, last
    assert rig.render().returncode == 0, rig.history()  # as the line says
    assert_movie(rig.out / "movie.mp4")
    t = rig.totals()  # the plan and keyframes of two runs, the clips of the second
    assert (t["messages"], t["images"]) == (2 * first["messages"], 2 * SCENES), t
    assert t["jobs_created"] == SCENES, t
    assert len(list((rig.out / "previous").iterdir())) == 1


def test_ctrl_c_twice_exits_at_once_and_resume_creates_no_second_job(
    sim: SimServer, tmp_path: Path
) -> None:
    # one at a time: when the first job exists that job is the only video call in flight
    # (another scene's keyframe may be in flight too: keyframes have their own slot, and
    # one cut off by the second Ctrl-C is made again, shown as unknown). Its polls answer
    # slowly (3 s): after the first Ctrl-C the render waits for that poll to land (the
    # grace), and the second Ctrl-C must not wait for it.
    rig = make_rig(sim, tmp_path, max_concurrent=1, job_seconds=1.5)
    sim.add_fault("delay", path="/contents/generations/tasks/", method="GET", seconds=3, count=2)
    p = rig.start()
    # the simulator records a request when it arrives, before the delay: the slow poll is
    # then in flight for ~3 s
    _wait_for(
        lambda: sim.requests(path="/contents/generations/tasks/", method="GET"),
        60,
        "the first poll of the first video job",
    )
    p.send_signal(signal.SIGINT)
    # the first one heard (its warning said), not 0.3 s hoped for: two SIGINTs that come
    # before the render's main thread gets to its handler are handled as one, a graceful
    # stop that waited for the slow poll
    _wait_for(
        lambda: "stopping: nothing new is sent" in rig.output(p)[1] or p.poll() is not None,
        30,
        "the first Ctrl-C to be heard",
    )
    assert p.poll() is None  # still in its grace, waiting for the slow poll
    p.send_signal(signal.SIGINT)
    rc, took = _wait_exit(p, timeout=5)
    assert rc == 130
    # the last line says so (the stop's warning was, as if the render had hung)
    last = rig.output(p)[1].strip().splitlines()[-1]
    assert last.startswith("interrupted at once; run the same command again to resume"), last
    # at once, not after the poll (~2.7 s of its 3 s were left) or the grace (5 s); 2 s,
    # not 1: a loaded machine (the suite runs a process more than it has cores) may take
    # a second to end a process that has stopped
    assert took < 2.0, took
    sim.clear_faults()
    sim.job_seconds = 0.2  # jobs created from here on: keep the resume short
    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    t = rig.totals()
    st = rig.status()
    assert t["jobs_created"] == SCENES and t["messages"] == 1
    assert len(unknown_rows(st, "keyframe")) <= 1
    assert SCENES <= t["images"] <= SCENES + len(unknown_rows(st, "keyframe"))
    check_money_invariants(st, t, SCENES)


@pytest.mark.parametrize(
    ("command", "answer_after"),
    [("render --until plan", 2.0), ("plan", 5.0 + 2.0)],  # within and past the 5 s grace
)
def test_ctrl_c_while_the_planner_answers_is_an_interrupt_and_keeps_the_plan(
    sim: SimServer, tmp_path: Path, command: str, answer_after: float
) -> None:
    """Ctrl-C during `render --until plan` (or `plan`) with Claude's answer still to
    come: the answer landed in the grace (or was waited for past it, being paid), the
    plan was written, and the render ended as if it had finished: exit 0, "stopped
    after plan" (`plan`: its plan: line), where a stop at any other stage is an
    interrupt (exit 130). It is now an interrupt that says the plan was kept, and the
    next render reuses it without asking Claude again."""
    rig = make_rig(sim, tmp_path)
    argv = [*command.split(), *rig.args(quiet=False)[1:]]  # (`plan` has no --quiet)
    sim.add_fault("delay", path="/v1/messages", count=1, seconds=answer_after)
    p = rig.start(argv=argv)
    try:
        _wait_for(
            lambda: sim.requests(path="/v1/messages") or p.poll() is not None,
            60,
            "the planner's request",
        )
        assert p.poll() is None, rig.output(p)
        time.sleep(0.3)
        p.send_signal(signal.SIGINT)
        rc, _ = _wait_exit(p, timeout=30)
    finally:
        _kill(p)
    out, err = rig.output(p)
    assert rc == 130, (out, err)
    assert "stopped after plan" not in out, out
    assert "plan.yaml" in err and "kept" in err, err
    assert (rig.out / "plan.yaml").is_file()
    assert [r["state"] for r in ledger(rig.status(), "plan")] == ["billed"]
    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert rig.totals()["messages"] == 1  # the plan was not bought twice


# --------------------------------------------------------------------- the run lock
def test_second_render_on_the_same_run_is_refused_naming_the_pid(
    sim: SimServer, tmp_path: Path
) -> None:
    rig = make_rig(sim, tmp_path, max_concurrent=3, job_seconds=2.0)
    # Every poll of a video job is held by the simulator until the refused render is
    # done: the first render cannot finish meanwhile, and once its three video slots are
    # full and each job's first poll is held, it sends nothing more. (Looked at after
    # only the first job, its fourth keyframe could still be landing during the refused
    # render: keyframes have their own slots.) What the simulator records during the
    # refused render is then exactly what that render sent.
    polls = sim.add_fault("delay", path=f"{TASKS}/", method="GET", count=None, seconds=60)
    first = rig.start()
    try:
        _wait_for(
            lambda: (
                first.poll() is not None
                or (
                    rig.totals()["images"] == SCENES
                    and rig.totals()["jobs_created"] == 3
                    and len(sim.requests(path=f"{TASKS}/", method="GET")) == 3
                )
            ),
            60,
            "every keyframe and three video jobs, each with its first poll held",
        )
        assert first.poll() is None, rig.output(first)
        paid = ("messages", "images", "jobs_created", "polls", "downloads")
        before = {k: rig.totals()[k] for k in paid}
        sent = len(sim.requests())
        r = rig.render(timeout=30)
        assert r.returncode == 2, rig.history()
        assert f"pid {first.pid}" in r.stderr and "another mindmovie process" in r.stderr
        assert len(sim.requests()) == sent  # the refused render sent nothing
        assert {k: rig.totals()[k] for k in paid} == before
        sim.release(polls)
        rc, _ = _wait_exit(first, timeout=RENDER_TIMEOUT)
    finally:
        _kill(first)
    assert rc == 0, rig.output(first)
    assert_movie(rig.out / "movie.mp4")
    assert rig.totals()["jobs_created"] == SCENES  # the refused render sent nothing


# --------------------------------------------------------------------- damaged files
def _local_rig(tmp_path: Path) -> Rig:
    goals = goals_file(tmp_path)
    cfg = tmp_path / "local.yaml"
    cfg.write_text(
        "preset: local\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        "compose: {crossfade: 0.5, title_seconds: 1.0, closing_seconds: 1.0, quality: draft}\n"
    )
    return Rig(sim=None, tmp=tmp_path, goals=goals, cfg=cfg, out=tmp_path / "run")  # type: ignore[arg-type]


def test_a_damaged_run_db_moved_aside_lets_the_run_go_on_that_redoes_only_damaged_steps_or_segments(
    tmp_path: Path,
) -> None:
    """The message says to move a damaged run.db away (e.g. to run.db.bad) and render
    again: doing exactly that in the run folder must not make it 'not a run folder'.
    That run's corrupt keyframe and missing clip are then redone, those steps exactly.
    Then a cached segment, reused by its content key: if its file was damaged since (its
    sha256 is not the recorded one), the next compose encodes it again instead of joining
    the broken bytes into the movie. (Was three tests, each making the same first local
    render: test_a_damaged_run_db_moved_aside_as_told_lets_the_run_go_on,
    test_corrupt_keyframe_and_missing_clip_redo_exactly_those_steps and
    test_a_damaged_compose_segment_is_encoded_again_not_copied_into_the_movie; the
    segment's render is the run's third, not its second.)"""
    from mindmovie.fsutil import sha256_file
    from mindmovie.media import run_ffmpeg

    rig = _local_rig(tmp_path)
    rig.out.mkdir()
    (rig.out / "run.db").write_bytes(os.urandom(8192))
    r = rig.render()
    assert r.returncode == 2 and "run.db.bad" in r.stderr, rig.history()
    (rig.out / "run.db").rename(rig.out / "run.db.bad")
    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert (rig.out / "run.db.bad").is_file()

    # a corrupt keyframe and a missing clip: the run's second render
    first = attempts(rig.status())
    scenes = sorted(sid for sid, stage in first if stage == "keyframe")
    assert len(scenes) == SCENES
    bad_kf, lost_clip = scenes[0], scenes[2]
    (rig.out / "scenes" / bad_kf / "keyframe.png").write_bytes(b"not a png at all" * 64)
    (rig.out / "scenes" / lost_clip / "clip.mp4").unlink()

    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    now = attempts(rig.status())
    redone = {k for k in now if now[k] != first[k] and k[1] in ("keyframe", "clip")}
    # the garbage keyframe was detected by its sha256 and painted again; the painter is
    # deterministic, so the same bytes came back and that scene's clip key is unchanged
    assert redone == {(bad_kf, "keyframe"), (lost_clip, "clip")}
    assert now[(bad_kf, "keyframe")] == (2, 2) and now[(lost_clip, "clip")] == (2, 2)
    assert all(now[k] == (1, 1) for k in now if k[1] in ("keyframe", "clip") and k not in redone)

    # a damaged compose segment: the run's third render
    st = rig.status()
    seg = next(s for s in st["steps"] if s["stage"] == "segment" and "body:scene:" in s["scene_id"])
    path = rig.out / seg["artifact"]
    data = bytearray(path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 2000] = bytes(2000)  # same size, broken picture
    path.write_bytes(bytes(data))
    damaged = sha256_file(path)
    (rig.out / "movie.mp4").unlink()

    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert sha256_file(path) != damaged  # encoded again
    ran = {
        s["scene_id"]
        for s in rig.status()["steps"]
        if s["stage"] == "segment" and s["run_no"] == 3 and s["attempts"] > 0
    }
    assert ran == {seg["scene_id"]}
    # the movie decodes without a single error
    err = run_ffmpeg(["-v", "error", "-i", str(rig.out / "movie.mp4"), "-f", "null", "-"])
    assert err.strip() == "", err


def test_garbage_run_db_is_refused_and_left_untouched(tmp_path: Path) -> None:
    rig = _local_rig(tmp_path)
    rig.out.mkdir()
    garbage = os.urandom(8192)
    (rig.out / "run.db").write_bytes(garbage)
    r = rig.render()
    assert r.returncode == 2, rig.history()
    assert "damaged" in r.stderr and "Move it away" in r.stderr and "render again" in r.stderr
    assert (rig.out / "run.db").read_bytes() == garbage
    assert not (rig.out / "plan.yaml").exists()


def test_foreign_sqlite_file_is_not_taken_for_a_run_store(tmp_path: Path) -> None:
    rig = _local_rig(tmp_path)
    rig.out.mkdir()
    con = sqlite3.connect(rig.out / "run.db")
    con.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    con.execute("INSERT INTO photos(path) VALUES ('me.jpg')")
    con.commit()
    con.close()
    data = (rig.out / "run.db").read_bytes()
    r = rig.render()
    assert r.returncode == 2, rig.history()
    assert "not a mindmovie run store" in r.stderr
    assert (rig.out / "run.db").read_bytes() == data


def _slow_down(plan_path: Path, scene_id: str) -> None:
    """Edit one scene's motion prompt in plan.yaml, as a person would: a new clip."""
    from mindmovie.plan import load_plan, write_plan

    plan = load_plan(plan_path)
    edited = [
        sc.model_copy(update={"motion_prompt": sc.motion_prompt + ", slower"})
        if sc.id == scene_id
        else sc
        for sc in plan.scenes
    ]
    write_plan(plan.model_copy(update={"scenes": edited}), plan_path)


def _scene_row(rig: Rig, scene_id: str) -> dict[str, Any]:
    """`status --json`'s row of `scene_id`, with the renders' config."""
    (row,) = [r for r in rig.status(with_config=True)["scenes"] if r["scene_id"] == scene_id]
    return row


def _takes_the_clip_of(rig: Any, copy: str, by: str) -> Any:
    """Status says the next render has `copy` take the clip `by` makes (after its own
    keyframe's step, if any), and the estimate prices it at nothing ("as <by>"); returns
    the estimate."""
    from mindmovie import costs
    from mindmovie.config import load_settings
    from mindmovie.pipeline import estimate_for

    nexts = {row["scene_id"]: row["next"] for row in rig.status(with_config=True)["scenes"]}
    said = f"take the clip {by} makes (the very same request, bought once)"
    assert nexts[copy] == said or nexts[copy].endswith(f", then {said}"), nexts
    est = estimate_for(rig.goals, load_settings(rig.cfg, env=rig.env()), out=rig.out)
    cells = {sc.scene_id: costs._cell(sc.video) for sc in est.scenes}
    assert cells[copy] == f"as {by}", cells
    return est


def test_a_copied_scene_waiting_for_a_job_in_flight_at_a_kill_is_priced_at_nothing(
    sim: SimServer, tmp_path: Path
) -> None:
    """02-career-2 asks the very clip 02-career-1's job, in flight, makes (a copied
    scene: `Pipeline._one_buyer`); the render is killed while that job runs. The resume
    polls the job and the copy takes its clip, paying nothing, but status said "make the
    clip" for the copy and the estimate (the spend question) priced a second clip for it:
    the job in flight was not counted as the one buying that request."""
    rig = make_rig(sim, tmp_path)
    copy_scene(sim)
    sim.min_polls = 2  # each job's first poll sees it running: poll@2 is 02-career-1's
    r = rig.render(kill_at="poll@2")
    assert r.returncode == -signal.SIGKILL, rig.history()
    before = rig.status(with_config=True)
    held = {s["scene_id"] for s in before["steps"] if s["stage"] == "clip" and s["remote_id"]}
    assert "02-career-1" in held and "02-career-2" not in held, before["steps"]
    est = _takes_the_clip_of(rig, "02-career-2", "02-career-1")
    from mindmovie import costs

    # (its job polled, not bought: "done" was said of it, as of a clip in the run)
    cells = {sc.scene_id: costs._cell(sc.video) for sc in est.scenes}
    assert cells["02-career-1"] == "paid", cells
    jobs = rig.totals()["jobs_created"]
    r2 = rig.render()
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    after = rig.status()
    # one new job (03-lifestyle-1's), billed what the estimate said is left
    assert rig.totals()["jobs_created"] == jobs + 1 == SCENES - 1
    new = [r for r in ledger(after, "clip", "billed") if r["scene_id"] == "03-lifestyle-1"]
    assert est.total == pytest.approx(sum(r["billed_usd"] for r in new))
    copied, first = (rig.out / "scenes" / s / "clip.mp4" for s in ("02-career-2", "02-career-1"))
    assert copied.read_bytes() == first.read_bytes()


def _a_copy_of_a_job_in_flight_whose_scene_is_edited(
    sim: SimServer, tmp_path: Path
) -> tuple[Rig, int]:
    """02-career-2 asks the very clip 02-career-1's job makes (`copy_scene`), in flight at
    a kill; 02-career-1's image prompt then edited (its keyframe and clip to make anew).
    (The rig, the jobs made so far.)"""
    rig = make_rig(sim, tmp_path)
    copy_scene(sim)
    sim.min_polls = 2  # each job's first poll sees it running: poll@2 is 02-career-1's
    r = rig.render(kill_at="poll@2")
    assert r.returncode == -signal.SIGKILL, rig.history()
    plan_path = rig.out / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    (held,) = [sc for sc in plan["scenes"] if sc["id"] == "02-career-1"]
    held["image_prompt"] += ", at dusk"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    return rig, int(rig.totals()["jobs_created"])


def test_a_copy_whose_clip_a_job_in_flight_makes_takes_it_when_that_scene_fails_first(
    sim: SimServer, tmp_path: Path
) -> None:
    """02-career-2 asks the very clip 02-career-1's job, in flight at a kill, makes.
    02-career-1's image prompt is then edited and its new image refused, so it fails at
    its keyframe before it gets to its clip: the copy, which had waited for it, bought
    the same clip again (one request paid twice). Failed without buying instead, it
    waited at every render for a scene that might never get there, the paid clip
    unused. It takes the job: polls and fetches it, paying nothing; the next render
    gives 02-career-1 that clip too (the simulator's new image, made from the same
    seed, is the same picture)."""
    rig, jobs = _a_copy_of_a_job_in_flight_whose_scene_is_edited(sim, tmp_path)
    sim.add_fault("http", path="/images/generations", status=400, count=None, message="no")
    for _ in range(2):  # (and again: the refusal stays; nothing more is bought)
        r = rig.render()
        assert r.returncode != 0 and "02-career-2" not in r.stderr, rig.history()
        # 03-lifestyle-1's job alone: not a second job for the copy's clip
        assert rig.totals()["jobs_created"] == jobs + 1, rig.history()
        copied = rig.out / "scenes" / "02-career-2" / "clip.mp4"
        assert copied.is_file(), rig.history()
        # its clip was given away, not failed: it was said "retry the clip (attempt 2)"
        # though its keyframe is what failed, and its clip is asked anew
        row = _scene_row(rig, "02-career-1")
        assert (row["keyframe"], row["clip"]) == ("failed", "failed"), row
        assert row["next"].startswith("retry the keyframe"), row["next"]
        assert row["next"].endswith(", then make the clip"), row["next"]
        table = rig.status_text(with_config=True)
        assert re.search(r"02-career-1 +failed +taken ", table), table
    sim.clear_faults()
    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    # no new job: 02-career-1 took the clip its old job made, the copy's
    assert rig.totals()["jobs_created"] == jobs + 1, rig.history()
    first = rig.out / "scenes" / "02-career-1" / "clip.mp4"
    assert copied.read_bytes() == first.read_bytes()
    st = rig.status()  # a job a clip, each billed once: one for the two scenes
    assert len(ledger(st, "clip", "billed")) == rig.totals()["jobs_created"] == SCENES - 1
    assert ledger(st, "clip", "committed") == []


def test_a_copy_whose_clip_a_job_in_flight_makes_takes_it_when_the_budget_stops_that_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    """As above, 02-career-1's new image stopped by the budget: the copy was said
    "failed - ... would be paid twice" and left out of "Stopped cleanly: N scene(s)
    left". Polling a job already paid for costs nothing: the copy takes it."""
    rig, jobs = _a_copy_of_a_job_in_flight_whose_scene_is_edited(sim, tmp_path)
    r = mindmovie_fork.run(
        [*rig.args(quiet=False), "--budget", "0.01"], env=rig.env(), cwd=rig.tmp, timeout=120
    )
    rig.logs.append(f"$ render --budget 0.01 -> {r.returncode}\n{r.stdout}{r.stderr}")
    assert r.returncode == 3, rig.history()
    assert "02-career-2: failed" not in r.stderr, r.stderr
    assert (rig.out / "scenes" / "02-career-2" / "clip.mp4").is_file(), rig.history()
    assert rig.totals()["jobs_created"] == jobs, rig.history()
    # (it was said "retry the clip (attempt 2)": its job was given away, nothing retried)
    row = _scene_row(rig, "02-career-1")
    assert row["next"] == "make the keyframe (not sent: the budget was reached), then the clip"


def test_a_scene_whose_id_was_renamed_while_its_job_ran_takes_that_job(
    sim: SimServer, tmp_path: Path
) -> None:
    """02-career-1's clip job in flight at a kill; its id then renamed in plan.yaml
    (02-career-9). The renamed scene bought its clip again and the first job was kept
    "if an id renamed back": one clip paid twice, and the estimate priced it. A job that
    a scene out of the plan holds is no one's (`_unheld_job`'s plan_ids): the renamed
    scene takes it, and the estimate counts it paid."""
    rig = make_rig(sim, tmp_path)
    sim.min_polls = 2  # each job's first poll sees it running: poll@2 is 02-career-1's
    r = rig.render(kill_at="poll@2")
    assert r.returncode == -signal.SIGKILL, rig.history()
    jobs = rig.totals()["jobs_created"]
    plan_path = rig.out / "plan.yaml"
    plan_path.write_text(plan_path.read_text().replace("02-career-1", "02-career-9"))
    video = {sc["scene_id"]: sc["video"] for sc in _estimate_json(rig)["scenes"]}
    assert video["02-career-9"]["usd"] == 0 and video["02-career-9"]["inputs"]["fetch"], video
    r = rig.render()
    assert r.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    # the two scenes without a job made theirs: not a second for 02-career-9
    assert rig.totals()["jobs_created"] == jobs + 2 == SCENES, rig.history()
    st = rig.status()
    assert len(ledger(st, "clip", "billed")) == SCENES and ledger(st, "clip", "committed") == []
    # the step left behind holds the job no more: renamed back, its clip is taken
    plan_path.write_text(plan_path.read_text().replace("02-career-9", "02-career-1"))
    r = rig.render(until="clips")  # (what is checked is settled by its clips)
    assert r.returncode == 0 and rig.totals()["jobs_created"] == SCENES, rig.history()


def test_a_scene_copied_after_a_kill_from_a_later_scene_takes_its_job_in_flight(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while 02-career-2's job runs; the person then makes 02-career-1 ask the very
    same image and clip (its prompts copied in plan.yaml). The resume bought that clip
    again for 02-career-1, which is first in the plan and so first at the request's turn
    (`Pipeline._one_buyer`), while 02-career-2's job, paid for, made it: it now waits for
    that scene (`_job_holder`) and takes its clip; the estimate says so."""
    from mindmovie.plan import load_plan, write_plan

    rig = make_rig(sim, tmp_path)
    sim.min_polls = 2  # each job's first poll sees it running: poll@3 is 02-career-2's
    r = rig.render(kill_at="poll@3")
    assert r.returncode == -signal.SIGKILL, rig.history()
    held = {s["scene_id"] for s in rig.status()["steps"] if s["stage"] == "clip"}
    assert "02-career-2" in held, rig.status()["steps"]
    plan_path = rig.out / "plan.yaml"
    plan = load_plan(plan_path)
    later = next(sc for sc in plan.scenes if sc.id == "02-career-2")
    same = {"image_prompt": later.image_prompt, "motion_prompt": later.motion_prompt}
    edited = [sc.model_copy(update=same) if sc.id == "02-career-1" else sc for sc in plan.scenes]
    write_plan(plan.model_copy(update={"scenes": edited}), plan_path)
    _takes_the_clip_of(rig, "02-career-1", "02-career-2")
    jobs = rig.totals()["jobs_created"]
    r2 = rig.render()
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert rig.totals()["jobs_created"] == jobs + 1  # 03-lifestyle-1's: nothing twice
    copied, first = (rig.out / "scenes" / s / "clip.mp4" for s in ("02-career-1", "02-career-2"))
    assert copied.read_bytes() == first.read_bytes()


def test_two_scenes_swapped_after_a_kill_with_their_jobs_in_flight_do_not_wait_for_each_other(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while the jobs of 02-career-1 and 02-career-2 run; the person swaps their
    prompts in plan.yaml, so each asks the very clip the other's job makes. Each scene
    waited for the other's job to end (`Pipeline._job_holder`) and the resume hung for
    good. A scene holding a job of its own does not wait: the resume ends with the movie."""
    from mindmovie.plan import load_plan, write_plan

    rig = make_rig(sim, tmp_path)
    sim.min_polls = 2  # each job's first poll sees it running: both in flight at poll@3
    r = rig.render(kill_at="poll@3")
    assert r.returncode == -signal.SIGKILL, rig.history()
    held = {s["scene_id"] for s in rig.status()["steps"] if s["stage"] == "clip" and s["remote_id"]}
    assert {"02-career-1", "02-career-2"} <= held, rig.status()["steps"]
    plan_path = rig.out / "plan.yaml"
    plan = load_plan(plan_path)
    one, two = (
        next(sc for sc in plan.scenes if sc.id == i) for i in ("02-career-1", "02-career-2")
    )
    fields = ("image_prompt", "motion_prompt")
    swapped = {one.id: two, two.id: one}
    edited = [
        sc.model_copy(update={f: getattr(swapped[sc.id], f) for f in fields})
        if sc.id in swapped
        else sc
        for sc in plan.scenes
    ]
    write_plan(plan.model_copy(update={"scenes": edited}), plan_path)
    r2 = rig.render(timeout=60)  # (hung: killed at the timeout)
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")


def test_a_job_replaced_by_an_edit_is_settled_and_kept_and_the_edit_undone_takes_it(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while a job runs; then the person edits that scene's motion prompt: the
    resume makes a new job for the new prompt, and the old job (paid for, no longer
    wanted) is looked at and billed in the ledger, not counted as in flight for ever.
    Then the person undoes the edit. The first job finished and was billed: its clip
    was thrown away ("its result is not used"), and the undo paid for a third job of
    inputs already bought. Now it is kept under the inputs it was made from, and the
    undo takes it: no new job, the simulator's own count says so. (Was two tests with
    the same kill and edited render: test_a_job_replaced_by_an_edit_is_settled_not_left_
    in_flight and test_a_job_replaced_by_an_edit_is_kept_and_the_edit_undone_takes_it.)"""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2  # the first poll always sees the job running: the kill is mid-job
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    before = rig.status()
    old = next(s for s in before["steps"] if s["stage"] == "clip" and s["remote_id"])
    plan_path = rig.out / "plan.yaml"
    original = plan_path.read_text()
    _slow_down(plan_path, old["scene_id"])
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    after = rig.status()
    t = rig.totals()
    assert t["jobs_created"] == SCENES + 1  # the edit needed a new job; nothing else
    rows = {r["remote_id"]: r for r in ledger(after, "clip")}
    assert rows[old["remote_id"]]["state"] == "billed"  # the replaced job: settled
    assert ledger(after, "clip", "committed") == []  # nothing left "in flight"
    assert len(ledger(after, "clip", "billed")) == SCENES + 1
    assert "earlier version of the scene" in r2.stderr
    assert "its clip is kept" in " ".join(r2.stderr.split()), r2.stderr
    new = next(
        s for s in after["steps"] if s["scene_id"] == old["scene_id"] and s["stage"] == "clip"
    )
    assert new["remote_id"] != old["remote_id"] and new["status"] == "succeeded"

    plan_path.write_text(original)  # the edit undone
    r3 = rig.render()
    assert r3.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert rig.totals()["jobs_created"] == SCENES + 1  # the kept job's clip: no new job
    after = rig.status()
    step = next(
        s for s in after["steps"] if s["scene_id"] == old["scene_id"] and s["stage"] == "clip"
    )
    assert step["status"] == "succeeded"
    rows = {r["remote_id"]: r for r in ledger(after, "clip")}
    assert rows[old["remote_id"]]["state"] == "billed"  # billed once, as it was
    assert len(ledger(after, "clip", "billed")) == SCENES + 1


def test_an_edit_undone_while_the_first_job_still_runs_takes_that_job(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while job A runs; the scene edited, rendered (job B) and killed again; the
    edit undone while A still runs. The render made a third job for A's very inputs
    (the same clip paid twice); now the scene takes A again and polls it."""
    rig = make_rig(sim, tmp_path)
    sim.min_polls = 10**6  # every job runs until the test lets it finish
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    a = next(s for s in rig.status()["steps"] if s["stage"] == "clip" and s["remote_id"])
    plan_path = rig.out / "plan.yaml"
    original = plan_path.read_text()
    _slow_down(plan_path, a["scene_id"])
    r2 = rig.render(kill_at="poll")
    assert r2.returncode == -signal.SIGKILL, rig.history()
    assert rig.totals()["jobs_created"] == 2, rig.history()  # A, and B for the edit

    plan_path.write_text(original)  # the edit undone while A still runs
    shown = rig.status(with_config=True)
    (scene,) = [s for s in shown["scenes"] if s["scene_id"] == a["scene_id"]]
    # A is taken, not the step's own job B (status named B: "poll job B")
    assert scene["next"].startswith(f"take job {a['remote_id']} "), scene["next"]
    sim.min_polls = 0
    jobs = {j.id: j for j in sim.jobs()}
    job_a = jobs[a["remote_id"]]
    job_a.min_polls = job_a.polls + 2  # running at the render's first look, then done
    for j in jobs.values():
        if j is not job_a:
            j.min_polls = 0
    r3 = rig.render(quiet=False)
    assert r3.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert rig.totals()["jobs_created"] == SCENES + 1  # A taken again: B the only extra
    after = rig.status()
    step = next(
        s for s in after["steps"] if s["scene_id"] == a["scene_id"] and s["stage"] == "clip"
    )
    assert step["status"] == "succeeded" and step["remote_id"] == a["remote_id"], step
    rows = {row["remote_id"]: row for row in ledger(after, "clip")}
    assert rows[a["remote_id"]]["state"] == "billed"
    assert ledger(after, "clip", "committed") == []


def test_a_job_of_a_scene_deleted_from_the_plan_is_settled_not_left_in_flight(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while a job runs; then the person deletes that scene from plan.yaml (or
    changes its id). Its step, no longer in the plan, still held the job, so the job was
    never looked at: its row stayed committed, in flight at every render and in status,
    and its bill was never recorded. Now it is billed, as a job replaced by an edit is."""
    from mindmovie.plan import load_plan, write_plan

    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2  # the first poll always sees the job running: the kill is mid-job
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    before = rig.status()
    old = next(s for s in before["steps"] if s["stage"] == "clip" and s["remote_id"])
    plan_path = rig.out / "plan.yaml"
    plan = load_plan(plan_path)
    original = plan_path.read_text()
    kept = [sc for sc in plan.scenes if sc.id != old["scene_id"]]
    write_plan(plan.model_copy(update={"scenes": kept}), plan_path)
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    assert (rig.out / "movie.mp4").is_file()  # of one scene fewer
    after = rig.status()
    rows = {r["remote_id"]: r for r in ledger(after, "clip")}
    assert rows[old["remote_id"]]["state"] == "billed", rows  # the deleted scene's job
    assert rows[old["remote_id"]]["usage"]["unused"] is True
    assert ledger(after, "clip", "committed") == []  # nothing left "in flight"
    assert after["money"]["in_flight"] == 0, after["money"]
    assert rig.totals()["jobs_created"] == SCENES  # no job made again
    # its step (still "submitted") needs no call: the next render, which only recomposes,
    # needs no video key (it was refused for it, exit 2, at every render)
    looked = rig.status(with_config=True)["inputs"]
    assert looked["stages_needed"] == [] and looked["new_plan"] is False, looked

    plan_path.write_text(original)  # the scene put back: its job's clip is used after all
    r3 = rig.render(until="clips")  # (what is checked is settled by its clips)
    assert r3.returncode == 0, rig.history()
    assert rig.totals()["jobs_created"] == SCENES
    rows = {r["remote_id"]: r for r in ledger(rig.status(), "clip")}
    assert rows[old["remote_id"]]["state"] == "billed"
    assert "unused" not in rows[old["remote_id"]]["usage"], rows[old["remote_id"]]


def test_a_killed_compose_chunks_folder_is_removed_and_its_done_segments_kept(
    tmp_path: Path,
) -> None:
    """A compose chunk works in a hidden folder and moves each finished segment out; a
    kill leaves the folder (with a partial segment), which the next run removes."""
    from mindmovie.pipeline import _clean_temp_files

    seg_dir = tmp_path / "compose" / "segments"
    chunk = seg_dir / ".chunk-k1ll3d"
    chunk.mkdir(parents=True)
    (chunk / "002.mp4").write_bytes(b"half a segment")
    (seg_dir / "0123abcd.mp4").write_bytes(b"a finished segment")
    _clean_temp_files(tmp_path)
    assert not chunk.exists()
    assert (seg_dir / "0123abcd.mp4").read_bytes() == b"a finished segment"
    assert no_temp_litter(tmp_path) == []


def test_kill_after_a_lost_request_does_not_give_one_scene_anothers_job(
    sim: SimServer, tmp_path: Path
) -> None:
    """A create's connection drops after it was sent (no job was made). Its row used to
    stay committed while another scene's create was sent, and a kill before that job's
    id was stored left two orphan rows and one job, which must not be given to the
    first row's scene (its clip would be another scene's prompt and keyframe). Now no
    create is sent until the lost one is settled (here: its grace, 3 s, is over and it
    is refunded), so the kill leaves one orphan, whose job goes to its own scene."""
    rig = make_rig(sim, tmp_path, max_concurrent=2)
    sim.add_fault("drop", path="/contents/generations/tasks", method="POST", count=1)
    r = rig.render(kill_at="submit")
    assert r.returncode == -signal.SIGKILL, rig.history()
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    con = sqlite3.connect(rig.out / "run.db")
    try:
        used = dict(
            con.execute("SELECT scene_id, remote_id FROM steps WHERE stage='clip'").fetchall()
        )
    finally:
        con.close()
    plan = yaml.safe_load((rig.out / "plan.yaml").read_text())
    prompts = {sc["id"]: sc["motion_prompt"] for sc in plan["scenes"]}
    jobs = {j.id: j for j in sim.jobs()}
    for sid, rid in used.items():
        assert rid in jobs, (sid, rid)
        assert prompts[sid] in jobs[rid].text, (sid, jobs[rid].text[:80], rig.history())
    # every job the provider made is on a ledger row; a row left committed was told
    st = rig.status()
    assert {x["remote_id"] for x in ledger(st, "clip") if x["remote_id"]} == set(jobs)
    assert ledger(st, "clip", "committed") == unknown_rows(st, "clip")
    # one job per scene; the lost request was refunded, not left to guess about
    check_money_invariants(st, rig.totals(), SCENES)
    assert len(ledger(st, "clip", "refunded")) == 1, ledger(st, "clip")


# ------------------------------------------------ a create in flight at the kill
TASKS = "/contents/generations/tasks"


def _kill_during_the_first_create(rig: Rig) -> float:
    """Start a render and SIGKILL it once the simulator has the first video create (which
    a fault holds there): the create's ledger row is committed with no job id. Returns
    the time.monotonic() of the kill."""
    p = rig.start()
    try:
        _wait_for(
            lambda: len(rig.sim.requests(path=TASKS, method="POST")) >= 1, 120, "a video create"
        )
    finally:
        _kill(p)
    assert p.returncode == -signal.SIGKILL, rig.history()
    return time.monotonic()


def _orphans(rig: Rig) -> list[dict[str, Any]]:
    return [r for r in ledger(rig.status(), "clip", "committed") if not r["remote_id"]]


def test_a_create_killed_in_flight_whose_job_comes_late_is_not_paid_twice(
    sim: SimServer, tmp_path: Path
) -> None:
    """The render is killed while a video create is at the provider, which makes the
    job only seconds later. The next render found no job in the list and refunded the
    row at once, then paid for a second job for the scene, while the late one billed on
    no row. Now the row stays committed within LATE_JOB_GRACE, the scene waits for the
    late job and takes it: one job per scene, by the simulator's own count."""
    rig = make_rig(sim, tmp_path)
    rig.late_job_grace = 120.0
    # the create is held at the provider until the next render waits for it (at most 60 s)
    late = sim.add_fault("delay", path=TASKS, method="POST", count=1, seconds=60.0)
    _kill_during_the_first_create(rig)
    assert sim.jobs() == [] and len(_orphans(rig)) == 1  # no job yet: it comes late
    (orphan,) = _orphans(rig)
    # status says what the render will do: wait for that job, not buy another at once
    (scene,) = [
        x for x in rig.status(with_config=True)["scenes"] if x["scene_id"] == orphan["scene_id"]
    ]
    assert scene["next"].startswith("wait up to") and "no new job if it comes" in scene["next"]
    p = rig.start(quiet=False, until="clips")  # (what is checked is settled by its clips)
    try:  # the job is made once the render says it waits for it (or has ended without)
        _wait_for(
            lambda: p.poll() is not None or "waiting for it" in rig.output(p)[1],
            RENDER_TIMEOUT,
            "the render to wait for the late job",
        )
        sim.release(late)
        rc, _ = _wait_exit(p, timeout=RENDER_TIMEOUT)
    finally:
        _kill(p)
    _, err = rig.output(p)
    assert rc == 0, rig.history() + err
    # the late job has been made: every create the provider got has become a job
    posts = sim.requests(path=TASKS, method="POST")
    _wait_for(lambda: len(sim.jobs()) == len(posts), 30, "the late job")
    t = rig.totals()
    assert t["jobs_created"] == SCENES, rig.history()  # the scene did not pay again
    assert len(posts) == SCENES
    assert "waiting for it" in err and "picking it up" in err, err
    after = rig.status()
    check_money_invariants(after, t, SCENES)
    jobs = {j.id for j in sim.jobs()}
    assert {s["remote_id"] for s in after["steps"] if s["stage"] == "clip"} == jobs
    assert {r["remote_id"] for r in ledger(after, "clip")} == jobs


def test_a_render_killed_while_waiting_for_a_late_job_takes_it_next_run(
    sim: SimServer, tmp_path: Path
) -> None:
    """The answer to a video create is lost (the connection breaks after it was sent)
    and the provider lists the job only later. The render waits for it, holding every
    other create, and is killed during that wait. The next render finds the late job
    and gives it to the scene: one job per scene, by the simulator's own count, and no
    create ever reached the provider while another's job was still to come."""
    rig = make_rig(sim, tmp_path, max_concurrent=2)
    rig.late_job_grace = 120.0
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    r = rig.render(kill_at="late_job_wait")
    assert r.returncode == -signal.SIGKILL, rig.history()
    assert sim.jobs() == [] and len(sim.requests(path=TASKS, method="POST")) == 1
    (orphan,) = _orphans(rig)
    assert "lost" in (orphan["usage"] or {}), orphan  # what it asked for is noted
    sim.release(late)
    _wait_for(lambda: len(sim.jobs()) == 1, 30, "the late job")
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert "picking it up" in r2.stderr, r2.stderr
    t = rig.totals()
    after = rig.status()
    check_money_invariants(after, t, SCENES)
    posts = sim.requests(path=TASKS, method="POST")
    assert len(posts) == SCENES and all(p["pending"] == [] for p in posts), posts
    (row,) = [x for x in ledger(after, "clip") if x["id"] == orphan["id"]]
    assert row["remote_id"] == posts[0]["job"] and row["state"] == "billed", row
    step = next(
        s for s in after["steps"] if s["stage"] == "clip" and s["scene_id"] == orphan["scene_id"]
    )
    assert step["remote_id"] == posts[0]["job"], step


def test_an_old_create_killed_in_flight_with_no_job_is_refunded(
    sim: SimServer, tmp_path: Path
) -> None:
    """A create in flight at the kill that made no job (the provider refused it after
    the kill), and whose grace is over: refunded at once, the clip made, nothing waited
    for."""
    rig = make_rig(sim, tmp_path)
    rig.late_job_grace = None  # the default, 300 s
    sim.add_fault("delay", path=TASKS, method="POST", count=1, seconds=3.0)
    sim.add_fault("http", path=TASKS, method="POST", count=1, status=500)
    _kill_during_the_first_create(rig)
    (orphan,) = _orphans(rig)
    con = sqlite3.connect(rig.out / "run.db")
    try:  # sent 10 minutes ago
        con.execute("UPDATE ledger SET created_at=created_at-600 WHERE id=?", (orphan["id"],))
        con.commit()
    finally:
        con.close()
    (scene,) = [
        x for x in rig.status(with_config=True)["scenes"] if x["scene_id"] == orphan["scene_id"]
    ]
    assert scene["next"].startswith("look for the job"), scene
    time.sleep(3.5)  # the held request has been refused: no job is ever made for it
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    assert "waiting for it" not in r2.stderr, r2.stderr
    t = rig.totals()
    after = rig.status()
    check_money_invariants(after, t, SCENES)
    (row,) = [r for r in ledger(after, "clip") if r["id"] == orphan["id"]]
    assert row["state"] == "refunded", row


def test_a_recent_create_killed_in_flight_with_no_job_is_waited_for_then_refunded(
    sim: SimServer, tmp_path: Path
) -> None:
    """The same with the row still within its grace: the scene waits for a job until
    the grace is over, then the row is refunded and the clip made (once)."""
    rig = make_rig(sim, tmp_path)
    rig.late_job_grace = 6.0
    sim.add_fault("delay", path=TASKS, method="POST", count=1, seconds=1.0)
    sim.add_fault("http", path=TASKS, method="POST", count=1, status=500)
    _kill_during_the_first_create(rig)
    (orphan,) = _orphans(rig)
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    assert "waiting for it" in r2.stderr, r2.stderr
    t = rig.totals()
    after = rig.status()
    check_money_invariants(after, t, SCENES)
    (row,) = [r for r in ledger(after, "clip") if r["id"] == orphan["id"]]
    assert row["state"] == "refunded", row


def _killed_in_a_create_whose_job_is_made(sim: SimServer, tmp_path: Path) -> tuple[Rig, Any]:
    """A render killed while its first video create was at the provider (held 2 s),
    which then made the job: (the rig, the request's ledger row, no job id on it)."""
    rig = make_rig(sim, tmp_path)
    rig.late_job_grace = 120.0
    sim.add_fault("delay", path=TASKS, method="POST", count=1, seconds=2.0)
    _kill_during_the_first_create(rig)
    (orphan,) = _orphans(rig)
    _wait_for(lambda: len(sim.jobs()) == 1, 30, "the job of the create in flight")
    return rig, orphan


def test_a_create_killed_in_flight_is_priced_may_be_found_and_its_job_s_day_counted_from_its_making(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while a video create was at the provider, which made the job: `estimate`
    priced the scene's clip as a new purchase, $0.10, with no word of the job, and the
    render then found the job and paid nothing for that clip. Whether the job was made
    only the provider's list tells (the estimate reads none): the clip stays counted,
    the most it costs, and the estimate says it may be found instead of bought.

    Such a job the provider lists as made before the request's row (up to a minute
    before is taken: clocks differ) is taken by the next render. Its clip.mp4 deleted,
    the day its result is kept was counted from the row: `status` and the estimate said
    "download job X's clip again", $0, for up to that minute after the provider's day
    from the job's making was over. Now counted from the job's making as the provider
    said it (the poll's answer, kept with the bill). (Was two tests with the same killed
    render and the next: test_the_estimate_says_a_create_killed_in_flight_may_be_found_
    not_only_bought and test_a_lost_request_s_job_made_before_its_row_is_not_counted_
    kept_past_its_day; the job's making is moved before the estimate, which reads no
    provider.)"""
    rig, orphan = _killed_in_a_create_whose_job_is_made(sim, tmp_path)
    (job,) = sim.jobs()
    job.created_wall = int(orphan["created_at"]) - 50  # made 50 s before the row, it says
    est = _estimate_json(rig)
    video = {s["scene_id"]: s["video"] for s in est["scenes"]}
    lost = video[orphan["scene_id"]]
    assert lost["usd"] > 0 and "may be found" in (lost.get("maybe") or ""), lost
    assert [sid for sid, v in video.items() if v.get("maybe")] == [orphan["scene_id"]]
    (note,) = [n for n in est["notes"] if n.startswith(orphan["scene_id"])]
    assert "may not be bought" in note and "may be found" in note, note
    before = rig.totals()["jobs_created"]
    r = rig.render(until="clips")  # (what is checked is settled by its clips)
    assert r.returncode == 0, rig.history()
    assert rig.totals()["jobs_created"] - before == SCENES - 1  # that clip: found, not bought
    store = Store(rig.out / "run.db", read_only=True)
    try:
        step = store.get(orphan["scene_id"], "clip")
        assert step is not None and step.remote_id == job.id, step
        row = store.ledger_by_remote(job.id)
        assert row is not None and row["id"] == orphan["id"], row
        made = float(row["created_at"])
        # within a day of the job's making, its result is downloaded again, free
        assert store.refetchable_clip(step, now=made + 23 * 3600) == job.id
        # a day after the job's making, 20 s short of a day after its row's
        assert store.refetchable_clip(step, now=made + 24 * 3600 - 20) is None
    finally:
        store.close()


@contextlib.contextmanager
def _asked_on_a_terminal(
    rig: Any, tmp_path: Path, *extra: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    """The rig's render without --yes, asked on a terminal: its stdin a pty, its stderr
    (where the question is) a file. Gives the process, that file and the terminal's
    other end (to answer on); the process is killed and the terminal closed after."""
    import pty

    args = [a for a in rig.args() if a != "--yes"]
    primary, secondary = pty.openpty()
    out, err = tmp_path / "asked.out", tmp_path / "asked.err"
    with out.open("w") as o, err.open("w") as e:
        p = subprocess.Popen(
            [sys.executable, "-m", "mindmovie", *args, *extra],
            stdin=secondary,
            stdout=o,
            stderr=e,
            env=rig.env(),
            cwd=rig.tmp,
        )
    os.close(secondary)
    try:
        yield p, err, primary
    finally:
        _kill(p)
        os.close(primary)


def test_render_fresh_killed_or_stopped_by_a_signal_at_its_spend_question_puts_the_old_run_back(
    sim: SimServer, tmp_path: Path
) -> None:
    """`render --fresh` moves the old run to previous/ before the spend question (the
    question must price a new run). Declined, it was put back; killed at the question
    (the terminal closed), it stayed in previous/, and the next render, without --fresh,
    started a new run and bought every keyframe and clip again. The next render now puts
    it back first and pays nothing. SIGTERM (or SIGHUP) at the question killed the render
    at once (the question put the signals' defaults back, so that Ctrl-C reaches the
    prompt): no line said why, the exit status was the signal's, and the old run was left
    in previous/ until a next render put it back. It now ends as Ctrl-C at the question
    does: 'interrupted: nothing was spent', exit 130, the old run back in place at once.
    So does SIGQUIT (Ctrl-\\), which dumped core there (-3). (Was two tests, each making
    the same first render: test_render_fresh_killed_at_its_spend_question_puts_the_old_
    run_back and test_a_stop_signal_at_the_spend_question_is_an_interrupt_that_puts_the_
    old_run_back, one per signal; each stop below is asserted to leave the run as the
    render made it.)"""
    rig = make_rig(sim, tmp_path)
    assert rig.render().returncode == 0, rig.history()
    paid = rig.totals()
    before = rig.status()
    scenes = {p.relative_to(rig.out): p.read_bytes() for p in (rig.out / "scenes").rglob("*.*")}
    for signame in ("SIGTERM", "SIGHUP", "SIGQUIT"):
        with _asked_on_a_terminal(rig, tmp_path, "--fresh") as (p, err, _):
            _wait_for(
                lambda p=p, err=err: "Spend about" in err.read_text() or p.poll() is not None,
                RENDER_TIMEOUT,
                "the spend question",
            )
            assert p.poll() is None, err.read_text()
            time.sleep(0.3)  # into the prompt's read
            p.send_signal(getattr(signal, signame))
            rc, _ = _wait_exit(p, timeout=30)
        said = err.read_text()
        assert rc == 130, (signame, said)
        assert said.strip().splitlines()[-1] == (
            "interrupted: nothing was spent; render again when you are ready"
        ), (signame, said)
        assert not (rig.out / "previous").exists(), signame  # the old run is back at once
        assert sorted(p.relative_to(rig.out) for p in (rig.out / "scenes").rglob("*.*")) == sorted(
            scenes
        ), signame
        assert rig.totals() == paid, signame
    killed = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env("ask"), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (rig.out / "previous").is_dir() and not (rig.out / "scenes").exists()
    # status showed an empty new run, every scene to be bought again (`status` only reads
    # the run: in this process, as `Rig.status`; it ends with an error here, as it did)
    from typer.testing import CliRunner

    from mindmovie.cli import app

    env: dict[str, str | None] = dict.fromkeys(os.environ)
    env.update(rig.env())
    cwd = Path.cwd()
    os.chdir(rig.tmp)
    try:
        st = CliRunner().invoke(app, ["status", str(rig.out)], env=env)
    finally:
        os.chdir(cwd)
    said = " ".join(st.output.split())
    assert st.exit_code == 0, said  # the next render refuses nothing: it puts the run back
    assert "a render --fresh was stopped after moving" in said, said
    assert "the next render puts it back" in said and "Shown as it is there" in said, said
    # the run set aside, as the render puts it back: every scene done, nothing to buy
    assert said.count("done done") == len(scenes) // 2, said  # image and clip of each
    r = rig.render(quiet=False)
    assert r.returncode == 0, rig.history()
    said = " ".join(r.stderr.split())
    assert "stopped at its spend question" in said and "it was put back" in said, said
    assert rig.totals() == paid  # not one more planner call, image or video job
    assert not (rig.out / "previous").exists()
    assert {
        p.relative_to(rig.out): p.read_bytes() for p in (rig.out / "scenes").rglob("*.*")
    } == scenes
    _kept_attempts(before, rig.status())
    # --fresh agreed to keeps the old run aside, and its run.db no longer says a --fresh
    # is pending (else the next render would put the old run back over the new one); both
    # are so once the spend is agreed to (its keyframes bought: the rest is not checked)
    r = mindmovie_fork.run(
        [*rig.args(), "--fresh", "--until", "keyframes"],
        env=rig.env(),
        cwd=rig.tmp,
        timeout=RENDER_TIMEOUT,
    )
    assert r.returncode == 0, r.stderr
    assert (rig.out / "previous").is_dir() and rig.totals()["images"] == 2 * paid["images"]
    from mindmovie.pipeline import FRESH_META
    from mindmovie.store import Store

    store = Store(rig.out / "run.db", read_only=True)
    try:
        assert not store.get_meta(FRESH_META)
    finally:
        store.close()


def test_a_stop_at_the_question_asked_again_for_the_plan_says_the_plan_is_paid(
    sim: SimServer, tmp_path: Path
) -> None:
    """The plan's second question ("asked again": Claude picked longer clips) comes after
    the plan is paid for. Ctrl-C there said "interrupted: nothing was spent", the line of
    the first question, while the ledger held the plan's bill. It now says the plan is
    kept, paid for, and nothing else was spent; exit 130 as before."""
    rig = make_rig(sim, tmp_path)
    full = sim.planner
    assert isinstance(full, dict)
    sim.set_planner({**full, "scenes": [{**sc, "seconds": 10} for sc in full["scenes"]]})
    with _asked_on_a_terminal(rig, tmp_path) as (p, err, primary):
        for n in (1, 2):
            _wait_for(
                lambda n=n: err.read_text().count("Spend about") >= n or p.poll() is not None,
                RENDER_TIMEOUT,
                f"spend question {n}",
            )
            assert p.poll() is None, err.read_text()
            time.sleep(0.3)  # into the prompt's read
            if n == 1:
                os.write(primary, b"y\n")
        p.send_signal(signal.SIGINT)
        rc, _ = _wait_exit(p, timeout=30)
    said = err.read_text()
    assert rc == 130, said
    last = said.strip().splitlines()[-1]
    assert "nothing was spent" not in last and "plan is kept" in last, said
    assert said.count("Asked again, with what the plan just made costs:") == 1, said
    assert (rig.out / "plan.yaml").is_file()
    assert rig.totals()["images"] == 0


def test_status_of_a_render_waiting_for_a_lost_request_says_so(
    sim: SimServer, tmp_path: Path
) -> None:
    """A render waits for the job of a create whose answer was lost, holding every other
    create to the provider for up to the grace. `status` of the run showed the scenes'
    steps and nothing of the wait: the render looked stuck. It now says whose lost
    request is waited for and for how long at most."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    rig = make_rig(sim, tmp_path, max_concurrent=2)
    rig.late_job_grace = 120.0
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    p = rig.start(quiet=False, until="clips")  # (the wait is in its clips: no compose)
    try:
        _wait_for(
            lambda: p.poll() is not None or "waiting for it" in rig.output(p)[1],
            RENDER_TIMEOUT,
            "the render to wait for the late job",
        )
        env: dict[str, str | None] = dict.fromkeys(os.environ)
        env.update(rig.env())
        r = CliRunner().invoke(app, ["status", str(rig.out), "-c", str(rig.cfg)], env=env)
        # a copy of the folder made meanwhile (`cp -r`): its lock file names the render,
        # which does not hold it (status and doctor of the copy said it rendered it)
        shutil.copytree(rig.out, tmp_path / "copy")
        working = (rendering_pid(rig.out), rendering_pid(tmp_path / "copy"))
        sim.release(late)
        rc, _ = _wait_exit(p, timeout=RENDER_TIMEOUT)
    finally:
        _kill(p)
    assert rc == 0, rig.history() + rig.output(p)[1]
    assert r.exit_code == 0, (r.output, r.exception)
    text = " ".join(r.output.split())
    assert "a render is working on this run now" in text, r.output
    assert working == (p.pid, None), working
    assert "waiting for a lost request of scene " in text, r.output
    assert "to show up at byteplus (up to 1" in text, r.output
    assert "no clip is sent to byteplus until its job is listed" in text, r.output


def test_a_request_refunded_on_resume_whose_job_comes_even_later_is_put_back_on_its_row(
    sim: SimServer, tmp_path: Path
) -> None:
    """A render is killed while it waits for the job of a create whose answer was lost.
    The next render comes after the grace: no job is listed, so the row is refunded and
    the clip bought again. The provider makes the first request's job after all, later
    still: it bills, and the ledger said refunded. The render after that puts it back
    on its row: billed (unused), and every job the provider made is on a billed row."""
    rig = make_rig(sim, tmp_path, max_concurrent=2)
    rig.late_job_grace = 2.0
    late = sim.add_fault("late", path=TASKS, method="POST", count=1, seconds=60.0)
    r = rig.render(kill_at="late_job_wait")
    assert r.returncode == -signal.SIGKILL, rig.history()
    (orphan,) = _orphans(rig)
    time.sleep(2.5)  # the grace is over
    r2 = rig.render(quiet=False)
    assert r2.returncode == 0, rig.history()
    (row,) = [x for x in ledger(rig.status(), "clip") if x["id"] == orphan["id"]]
    assert row["state"] == "refunded", row
    sim.release(late)
    _wait_for(lambda: len(sim.jobs()) == SCENES + 1, 30, "the late job")
    time.sleep(0.5)  # (finished)
    r3 = rig.render(quiet=False)
    assert r3.returncode == 0, rig.history()
    posts = sim.requests(path=TASKS, method="POST")
    assert len(posts) == SCENES + 1, posts  # nothing bought by the third render
    after = rig.status()
    (row,) = [x for x in ledger(after, "clip") if x["id"] == orphan["id"]]
    assert row["remote_id"] == posts[0]["job"] and row["state"] == "billed", row
    assert (row["usage"] or {}).get("unused"), row
    billed = {x["remote_id"] for x in ledger(after, "clip", "billed")}
    assert billed == {j.id for j in sim.jobs()}, (billed, sim.jobs())


@pytest.mark.parametrize("point", ["let_go", "submit"])
def test_render_let_go_killed_keeps_its_note_and_buys_the_clip_once(
    sim: SimServer, tmp_path: Path, point: str
) -> None:
    """`render --let-go` after providers.byteplus.base_url changed for good, SIGKILLed
    right after it let go of a scene's kept job (`let_go`: the mark committed, no create
    sent yet) or right after the new create was sent (`submit`: its id not journaled).
    The next render, WITHOUT the option, finishes the movie: the old job's row stays
    billed and marked let go of, and the new endpoint made exactly one job (found and
    picked up after `submit`, bought once after `let_go`); the other scenes bought
    nothing again."""
    rig = make_rig(sim, tmp_path)
    every = sim.add_fault("http", path=".mp4", method="GET", status=403, count=None)
    assert rig.render().returncode != 0, rig.history()
    sim.clear_faults()
    assert every.fired
    st = rig.status()
    kept = ledger(st, "clip")[-1]  # its scene's download fails again below
    (job,) = [j for j in sim.jobs() if j.id == kept["remote_id"]]
    sim.add_fault("http", path=f"{job.file_ids[0]}.mp4", method="GET", status=403, count=None)
    assert rig.render().returncode != 0, rig.history()
    sim.clear_faults()
    made = rig.totals()
    assert made["jobs_created"] == SCENES
    with SimServer() as other:
        other.media_scale = 0.25
        rig.cfg.write_text(rig.cfg.read_text().replace(sim.ark_base_url, other.ark_base_url))
        r = mindmovie_fork.run(
            [*rig.args(), "--let-go"], env=rig.env(point), cwd=rig.tmp, timeout=RENDER_TIMEOUT
        )
        rig.logs.append(f"$ render --let-go kill_at={point} -> {r.returncode}\n{r.stderr}")
        assert r.returncode == -signal.SIGKILL, rig.history()
        st = rig.status(with_config=True)
        (row,) = [x for x in ledger(st, "clip") if x["id"] == kept["id"]]
        assert row["usage"]["let_go"].startswith("let go of by the person"), row
        if point == "let_go":  # no new job yet: status says the clip is bought again
            (scene,) = [sc for sc in st["scenes"] if sc["scene_id"] == kept["scene_id"]]
            assert scene["next"].startswith(f"buy the clip again: job {job.id} was let go"), scene
        r = rig.render(quiet=False)  # no --let-go: the note and the new create are journaled
        assert r.returncode == 0, rig.history()
        assert_movie(rig.out / "movie.mp4")
        assert other.stats()["totals"]["jobs_created"] == 1, rig.history()
        st = rig.status()
    assert rig.totals()["jobs_created"] == SCENES  # nothing more at the old endpoint
    assert rig.totals()["images"] == made["images"] and rig.totals()["messages"] == 1
    (row,) = [x for x in ledger(st, "clip") if x["id"] == kept["id"]]
    assert row["state"] == "billed" and row["usage"]["let_go"], row
    assert len(ledger(st, "clip", "billed")) == SCENES + 1
    assert ledger(st, "clip", "committed") == []


def test_render_fresh_while_a_clip_job_runs_takes_that_paid_job(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while a clip job runs, then `render --fresh`. The job's row stayed
    committed in previous/<time>/run.db, never polled: its clip (paid for) was never
    downloaded, its bill never recorded, and the fresh run bought the same clip again
    (one job more than scenes). The fresh run now carries the job over: the scene asking
    for the inputs it was made from takes it (one job per scene), billed on the new
    run's ledger; the set-aside row says where it went and counts nothing."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2  # the first poll always sees the job running: the kill is mid-job
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    old = next(s for s in rig.status()["steps"] if s["stage"] == "clip" and s["remote_id"])
    r2 = mindmovie_fork.run(
        [*rig.args(quiet=False), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r2.returncode}\n{r2.stdout}{r2.stderr}")
    assert r2.returncode == 0, rig.history()
    # (under the estimate: the clip it priced for that scene may be the carried job's)
    assert "Up to $0.10 of it may not be spent" in " ".join(r2.stderr.split()), r2.stderr
    assert_movie(rig.out / "movie.mp4")
    after = rig.status()
    rows = {r["remote_id"]: r for r in ledger(after, "clip")}
    assert rows.get(old["remote_id"], {}).get("state") == "billed", (old, rows)
    assert rig.totals()["jobs_created"] == SCENES, rig.history()
    assert len(ledger(after, "clip", "billed")) == SCENES and not ledger(after, "clip", "committed")
    (aside,) = (rig.out / "previous").iterdir()
    con = sqlite3.connect(aside / "run.db")
    try:
        state, billed = con.execute(
            "SELECT state, billed_usd FROM ledger WHERE remote_id=?", (old["remote_id"],)
        ).fetchone()
    finally:
        con.close()
    assert (state, billed) == ("refunded", 0.0)  # counted once: in the fresh run's ledger


@dataclass
class GoogleRig(Rig):
    """A Rig of the google preset (Claude, Gemini keyframes, Veo in Vertex express mode)."""

    def env(self, kill_at: str | None = None) -> dict[str, str]:
        return {**super().env(kill_at), "GEMINI_API_KEY": "g-sim"}


def test_render_fresh_after_a_kill_mid_veo_create_says_its_outcome_is_unknown(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed just after a Veo operation was made, its name not yet journaled
    (`submit`), then `render --fresh`. A resume of that run says the create's outcome
    is unknown (it may bill) and keeps it counted as committed; `--fresh` set the run
    aside with that row committed and said nothing: the operation, made and billed at
    Google, was in no ledger's word, `status` of the set-aside run counted it "in
    flight" for good, and the fresh run bought the clip again without a word. The
    fresh run now says so, and the set-aside row is marked outcome unknown there.
    (Found by the google preset's kill loop.)"""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, "google")
    rig = GoogleRig(sim=sim, tmp=tmp_path, goals=goals, cfg=cfg, out=tmp_path / "run")
    r = rig.render(kill_at="submit")
    assert r.returncode == -signal.SIGKILL, rig.history()
    assert rig.totals()["jobs_created"] == 1  # made at Google, its name in no journal
    r2 = mindmovie_fork.run(
        [*rig.args(quiet=False), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r2.returncode}\n{r2.stdout}{r2.stderr}")
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    said = " ".join(r2.stderr.split())
    assert "01-health-1: a clip call to google was in flight when the previous run" in said, said
    assert "its outcome is unknown and it may have been billed (about $0.32)" in said, said
    (aside,) = (rig.out / "previous").iterdir()
    st = _status_at(rig, aside)
    assert [(r["scene_id"], r["state"]) for r in unknown_rows(st, "clip")] == [
        ("01-health-1", "committed")
    ], st["ledger"]
    assert st["money"]["in_flight"] == 0 and st["money"]["unknown"] >= 0.32, st["money"]


def _a_movie_of_one_task_a_scene_each_billed_once(
    sim: SimServer, rig: Rig
) -> tuple[set[str], dict[str, Any]]:
    """The run's movie is made of one task a scene, each billed once in its ledger, none
    unused or in flight: the tasks' ids and the run's `status --json`."""
    assert_movie(rig.out / "movie.mp4")
    jobs = {j.id for j in sim.jobs()}
    assert len(jobs) == rig.totals()["jobs_created"] == SCENES, rig.history()
    after = rig.status()
    billed = ledger(after, "clip", "billed")
    assert sorted(r["remote_id"] for r in billed) == sorted(jobs), after["ledger"]
    assert all(r["billed_usd"] > 0 and not r["usage"].get("unused") for r in billed), billed
    assert not ledger(after, "clip", "committed"), after["ledger"]
    return jobs, after


def test_render_fresh_after_a_kill_mid_seedance_create_takes_the_job_its_request_made(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed just after a Seedance create was answered, its task id not yet journaled
    (`submit`), then `render --fresh`. Only jobs with an id were carried: the set-aside
    row was marked outcome unknown there, and the fresh run made (and paid for) a second
    task for that scene's clip, five tasks for four scenes. A resume finds the task in
    the provider's list and picks it up; the fresh run now does the same before it
    carries: the task goes on the set-aside row, is carried, and its scene takes it. One
    task per scene, each billed once, in the fresh run's ledger only."""
    rig = make_rig(sim, tmp_path)
    r = rig.render(kill_at="submit")
    assert r.returncode == -signal.SIGKILL, rig.history()
    time.sleep(0.3)  # (the dead process's last requests answered by the simulator)
    assert rig.totals()["jobs_created"] == 1  # made at the provider, its id in no journal
    r2 = mindmovie_fork.run(
        [*rig.args(quiet=False), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r2.returncode}\n{r2.stdout}{r2.stderr}")
    assert r2.returncode == 0, rig.history()
    assert "Traceback" not in r2.stdout + r2.stderr
    jobs, after = _a_movie_of_one_task_a_scene_each_billed_once(sim, rig)
    money = after["money"]
    assert money["billed"] == pytest.approx(sum(r["billed_usd"] for r in after["ledger"]))
    assert money["in_flight"] == 0, money
    # the set-aside run counts no clip: its row of the orphan says where its task went
    (aside,) = (rig.out / "previous").iterdir()
    st = _status_at(rig, aside)
    clips = ledger(st, "clip")
    assert [(r["state"], r["billed_usd"]) for r in clips] == [("refunded", 0.0)], clips
    assert clips[0]["remote_id"] in jobs and clips[0]["usage"]["carried_to"], clips
    assert st["money"]["in_flight"] == 0 and unknown_rows(st, "clip") == [], st["money"]


def _digests(run: Path) -> dict[str, str]:
    """Each file of `run` but its journal (a run.db opened again checkpoints its -wal
    into it), by its path there: the sha256 of its bytes."""
    return {
        str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in run.rglob("*")
        if p.is_file() and not p.name.startswith("run.db") and p.name != ".lock"
    }


@pytest.mark.parametrize("fault", ["http", "drop"])
def test_render_fresh_whose_look_at_the_job_list_fails_stops_and_puts_the_old_run_back(
    sim: SimServer, tmp_path: Path, fault: str
) -> None:
    """The same kill mid Seedance create, then `render --fresh` while the provider's job
    list cannot be read (a 500, or the connection broken, at every retry). Not knowing
    whether the create made a task, the fresh run must not buy the clip anew (two tasks,
    should it have); a resume's look at the list that fails stops the render
    (`_recover_orphans`), and so does this one: before the spend question, one error
    line naming the provider and what to do, exit 1, nothing sent, and the old run put
    back (`_undo_fresh`) with its ledger as it was. The next plain render resumes it and
    takes the task: one per scene, each billed once."""
    rig = make_rig(sim, tmp_path)
    r = rig.render(kill_at="submit")
    assert r.returncode == -signal.SIGKILL, rig.history()
    time.sleep(0.3)  # (the dead process's last requests answered by the simulator)
    assert rig.totals()["jobs_created"] == 1  # made at the provider, its id in no journal
    made = _digests(rig.out)
    rows = rig.status()["ledger"]
    assert [r["state"] for r in ledger({"ledger": rows}, "clip")] == ["committed"], rows
    if fault == "http":
        looks = sim.add_fault("http", path=TASKS + "?", method="GET", status=500, count=None)
    else:
        looks = sim.add_fault("drop", path=TASKS + "?", method="GET", count=None)
    r2 = mindmovie_fork.run(
        [*rig.args(quiet=False), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r2.returncode}\n{r2.stdout}{r2.stderr}")
    assert looks.fired >= 1, rig.history()  # the list was asked for, and could not be read
    assert r2.returncode == 1, rig.history()
    assert "Traceback" not in r2.stdout + r2.stderr, rig.history()
    errors = [ln for ln in r2.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, r2.stderr
    (error,) = errors
    assert error.startswith("error: byteplus: list: ") and "render again" in error, error
    # the error is its last line: nothing of the traceback or the fresh run after it
    assert r2.stderr.rstrip().splitlines()[-1] == error, r2.stderr
    assert "the previous run was put back" in r2.stderr, r2.stderr
    # nothing bought: no second task (nor any other call) while the first one's fate is unknown
    assert rig.totals()["jobs_created"] == 1, rig.history()
    assert len(sim.requests(path=TASKS, method="POST")) == 1, rig.history()
    # the old run where it was, whole: its files, and its run.db with the ledger unchanged
    aside = rig.out / "previous"
    assert not aside.exists() or not any(aside.iterdir()), list(aside.rglob("*"))
    assert _digests(rig.out) == made
    assert (rig.out / "run.db").is_file()
    assert rig.status()["ledger"] == rows
    # the next plain render resumes it and takes the task the killed create made
    sim.clear_faults()
    r3 = rig.render(quiet=False)
    assert r3.returncode == 0, rig.history()
    assert "found job" in r3.stdout + r3.stderr, rig.history()
    _a_movie_of_one_task_a_scene_each_billed_once(sim, rig)


def test_render_fresh_with_other_inputs_bills_the_carried_job_and_keeps_its_clip(
    sim: SimServer, tmp_path: Path
) -> None:
    """The same, with the video seed changed before `render --fresh`: no scene asks for
    what the running job was made from. It stayed committed in previous/ for good, its
    clip never downloaded; now it is billed on the fresh run's ledger, unused, and its
    clip kept under its inputs (kept/), as a job replaced by an edit is."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    old = next(s for s in rig.status()["steps"] if s["stage"] == "clip" and s["remote_id"])
    # (not the fps: a paid clip is made at the aspect and resolution, whatever the fps)
    rig.cfg.write_text(rig.cfg.read_text() + "video: {seed: 7}\n")
    # (to its clips: what is checked is settled by then; the compose is not looked at)
    r2 = mindmovie_fork.run(
        [*rig.args(until="clips"), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r2.returncode}\n{r2.stdout}{r2.stderr}")
    assert r2.returncode == 0, rig.history()
    after = rig.status()
    rows = {r["remote_id"]: r for r in ledger(after, "clip")}
    row = rows.get(old["remote_id"], {})
    assert row.get("state") == "billed" and row["usage"].get("kept") is True, (old, row)
    assert rig.totals()["jobs_created"] == SCENES + 1
    assert len(ledger(after, "clip", "billed")) == SCENES + 1
    assert [p for p in (rig.out / "kept" / "clip").iterdir() if not p.name.startswith(".")]


def test_render_fresh_from_a_run_whose_ledger_is_damaged_still_renders(
    sim: SimServer, tmp_path: Path
) -> None:
    """`render --fresh` is how a person leaves a run behind, a damaged one too: a ledger
    row damaged by hand (its usage no JSON object) is refused by every render of that
    run (`Store._usage`), and --fresh sets it aside. Carrying its in-flight clip jobs
    read that ledger, and its StoreError stopped the fresh run too, at every try (the
    old run put back each time). Now what cannot be read is not carried, and said."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    con = sqlite3.connect(rig.out / "run.db")
    try:
        with con:
            con.execute("UPDATE ledger SET usage='x' WHERE id=(SELECT MIN(id) FROM ledger)")
    finally:
        con.close()
    r2 = mindmovie_fork.run(
        [*rig.args(quiet=False), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r2.returncode}\n{r2.stdout}{r2.stderr}")
    assert r2.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert "could not be carried" in r2.stdout + r2.stderr, rig.history()


def _estimate_json(rig: Rig, *extra: str) -> dict[str, Any]:
    """`estimate --json` of the rig's run with its config (read-only: in this process,
    as `Rig.status`)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    args = ["estimate", str(rig.goals), "-c", str(rig.cfg), "--out", str(rig.out), "--json", *extra]
    env: dict[str, str | None] = dict.fromkeys(os.environ)
    env.update(rig.env())
    cwd = Path.cwd()
    os.chdir(rig.tmp)
    try:
        r = CliRunner().invoke(app, args, env=env)
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, (r.output, r.exception)
    return dict(json.loads(r.stdout))


def test_a_job_render_fresh_carried_is_counted_paid_by_the_estimate_and_status(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while a clip job runs, `render --fresh --until keyframes` carries the job
    into the new run, unheld: the next render's scene asking for its inputs takes it
    (`_unwanted_job`). `estimate`, `status` and the spend question priced a new clip for
    that scene all the same (the job already paid, in flight); now the same test as the
    render's says it is paid, and the render makes no new job for it."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    old = next(s for s in rig.status()["steps"] if s["stage"] == "clip" and s["remote_id"])
    for job in sim.jobs():
        job.min_polls = 4  # still running at the next render's first look (_settle_stale_jobs)
    r2 = mindmovie_fork.run(
        [*rig.args(), "--fresh", "--until", "keyframes"],
        env=rig.env(),
        cwd=rig.tmp,
        timeout=RENDER_TIMEOUT,
    )
    rig.logs.append(
        f"$ render --fresh --until keyframes -> {r2.returncode}\n{r2.stdout}{r2.stderr}"
    )
    assert r2.returncode == 0, rig.history()
    mid = rig.status(with_config=True)
    row = next(r for r in ledger(mid, "clip") if r["remote_id"] == old["remote_id"])
    assert row["state"] == "committed", row  # carried, no step holds it yet
    est = _estimate_json(rig)
    video = {s["scene_id"]: s["video"] for s in est["scenes"]}
    assert video[old["scene_id"]]["done"] is True, video[old["scene_id"]]
    assert video[old["scene_id"]]["usd"] == 0, video[old["scene_id"]]
    others = [v for sid, v in video.items() if sid != old["scene_id"]]
    assert len(others) == SCENES - 1 and all(v["usd"] > 0 and not v["done"] for v in others)
    scene = next(s for s in mid["scenes"] if s["scene_id"] == old["scene_id"])
    assert scene["reuse"]["clip"] is True, scene
    assert scene["next"].startswith(f"take job {old['remote_id']} "), scene["next"]
    before = rig.totals()["jobs_created"]
    r3 = rig.render(until="clips")  # (what is checked is settled by its clips)
    assert r3.returncode == 0, rig.history()
    assert rig.totals()["jobs_created"] - before == SCENES - 1, rig.history()
    after = rig.status()
    taken = next(r for r in ledger(after, "clip") if r["remote_id"] == old["remote_id"])
    assert taken["state"] == "billed" and not taken["usage"].get("unused"), taken


def test_render_fresh_counts_the_jobs_it_carries_against_the_budget_before_asking(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while a clip job runs, then `render --fresh --budget` below what that job
    holds. The budget check and the spend question left out the job the fresh run
    carries (its ledger counted nothing yet): the render went on, set the old run aside
    for good, carried the job, and stopped at its first paid call. Now the carried hold
    is counted before the question: the render stops there, saying so, nothing is sent,
    and the old run is put back."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    st = rig.status()
    (row,) = ledger(st, "clip", "committed")
    cap = (row["held_usd"] or row["estimated_usd"]) / 2
    sent = rig.totals()
    r2 = mindmovie_fork.run(
        [*rig.args(), "--fresh", "--budget", f"{cap:.4f}"],
        env=rig.env(),
        cwd=rig.tmp,
        timeout=RENDER_TIMEOUT,
    )
    rig.logs.append(f"$ render --fresh --budget {cap:.4f} -> {r2.returncode}\n{r2.stderr}")
    assert r2.returncode != 0, rig.history()
    assert "held for clip jobs of the previous run" in r2.stderr, rig.history()
    assert "Traceback" not in r2.stderr
    after = rig.totals()
    assert (after["messages"], after["images"], after["jobs_created"]) == (
        sent["messages"],
        sent["images"],
        sent["jobs_created"],
    )
    # nothing agreed to: the old run is back (it stayed in previous/), its job on its ledger
    aside = rig.out / "previous"
    assert not aside.exists() or not any(aside.iterdir()), list(aside.iterdir())
    assert [r["remote_id"] for r in ledger(rig.status(), "clip", "committed")] == [row["remote_id"]]


def _status_at(rig: Rig, run: Path) -> dict[str, Any]:
    """`status --json` of another run folder (a set-aside one), in this process."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    env: dict[str, str | None] = dict.fromkeys(os.environ)
    env.update(rig.env())
    r = CliRunner().invoke(app, ["status", str(run), "--json"], env=env)
    assert r.exit_code == 0, (r.output, r.exception)
    return dict(json.loads(r.stdout))


def _fresh_twice_mid_job(rig: Rig) -> tuple[str, Path, Path]:
    """Killed while clip job J runs; `render --fresh` carries J and its scene takes it,
    killed again while J still runs; J then finishes. Returns J and the two set-aside run
    folders, oldest first (A: the run that made J; B: the first --fresh, that took it)."""
    rig.sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    (job,) = rig.sim.jobs()
    job.min_polls = 50  # still running through the whole first --fresh
    r2 = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env("poll"), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh kill_at=poll -> {r2.returncode}\n{r2.stderr}")
    assert r2.returncode == -signal.SIGKILL, rig.history()
    (b_job,) = [s["remote_id"] for s in rig.status()["steps"] if s["remote_id"]]
    assert b_job == job.id, rig.history()  # the first --fresh took it: its scene polled it
    assert len(rig.sim.jobs()) == 1
    job.min_polls = 0  # done at the next look
    (a_dir,) = (rig.out / "previous").iterdir()
    return job.id, a_dir, rig.out / "previous"


def test_render_fresh_twice_while_a_carried_job_runs_keeps_the_chain_and_bills_the_job_once(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed mid-job (run A), `render --fresh` (run B) carries the job and takes it,
    killed again while it runs, then `render --fresh` again (run C). A's row said
    `carried_to` <out>/run.db row N: written when that was B, read once C is there, it
    named C (and C's row N, whatever it holds), not B in previous/, which took the job.
    Now, when B is set aside, the rows it was carried from are pointed at where it went.
    The job is bought once, billed once (in C), counted by no set-aside run. Then the
    person renders A, set aside, to finish that version (`--out previous/<time>`). Its
    step still holds the job (carried to the fresh run, which billed it): the render
    polls and downloads it, free, and billed it on its row there too, which said
    "carried to ...": one job of the provider's, billed in two ledgers. Now the row stays
    as it was. (Was two tests with the same three renders:
    test_render_fresh_twice_while_a_carried_job_runs_keeps_the_chain_of_who_took_it and
    test_a_run_set_aside_whose_job_was_carried_away_is_finished_without_billing_it_again.)"""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    job, a_dir, previous = _fresh_twice_mid_job(rig)
    r3 = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r3.returncode}\n{r3.stderr}")
    assert r3.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert rig.totals()["jobs_created"] == SCENES, rig.history()  # J not bought again
    (b_dir,) = [p for p in previous.iterdir() if p != a_dir]
    runs = {"A": a_dir / "run.db", "B": b_dir / "run.db", "C": rig.out / "run.db"}
    rows: dict[str, dict[str, Any]] = {}
    for name, db in runs.items():
        st = _status_at(rig, db.parent)
        (rows[name],) = [x for x in ledger(st, "clip") if x["remote_id"] == job]
    assert rows["C"]["state"] == "billed" and rows["C"]["billed_usd"] > 0, rows["C"]
    for name, nxt in (("A", "B"), ("B", "C")):
        row = rows[name]
        assert (row["state"], row["billed_usd"]) == ("refunded", 0.0), (name, row)
        # where it went: that run's own run.db and the row there holding the job
        assert row["usage"]["carried_to"] == str(runs[nxt]), (name, row["usage"], runs)
        assert row["usage"]["carried_row"] == rows[nxt]["id"], (name, row, rows[nxt])
        assert rows[nxt]["usage"]["carried_from"] == str(runs[name]), (nxt, rows[nxt])

    # run A, set aside, rendered to its movie
    (billed,) = [x for x in ledger(rig.status(), "clip", "billed") if x["remote_id"] == job]
    made = len(sim.jobs())
    args = rig.args()
    args[args.index("--out") + 1] = str(a_dir)
    r4 = mindmovie_fork.run(args, env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT)
    rig.logs.append(f"$ render --out {a_dir} -> {r4.returncode}\n{r4.stderr}")
    assert r4.returncode == 0, rig.history()
    assert_movie(a_dir / "movie.mp4")
    assert len(sim.jobs()) - made == SCENES - 1, rig.history()  # the job's clip: no new one
    (row,) = [x for x in ledger(_status_at(rig, a_dir), "clip") if x["remote_id"] == job]
    assert (row["state"], row["billed_usd"]) == ("refunded", 0.0), row
    assert _follow_carried(rig, a_dir / "run.db", job)[-1] == rig.out / "run.db"
    assert billed["billed_usd"] > 0  # billed once: in the fresh run's ledger


def _follow_carried(rig: Rig, db: Path, job: str) -> list[Path]:
    """The run.db a set-aside ledger's row of `job` was carried to, and on, until the
    ledger that kept it: each step checked to hold `job` at the row it is said to be."""
    chain = [db]
    while True:
        (row,) = [
            x for x in ledger(_status_at(rig, chain[-1].parent), "clip") if x["remote_id"] == job
        ]
        to = (row["usage"] or {}).get("carried_to")
        if row["state"] != "refunded" or not to:
            return chain
        con = sqlite3.connect(to)
        try:
            there = con.execute(
                "SELECT remote_id FROM ledger WHERE id=?", (row["usage"]["carried_row"],)
            ).fetchone()
        finally:
            con.close()
        assert there == (job,), (chain, row, there)
        assert Path(to) not in chain, (chain, to)
        chain.append(Path(to))


@pytest.mark.parametrize("point", ["fresh_carried", "fresh_kept", "fresh_marked"])
def test_render_fresh_twice_killed_in_the_carry_buys_the_job_once_and_bills_it_once(
    sim: SimServer, tmp_path: Path, point: str
) -> None:
    """The second `render --fresh` of test_render_fresh_twice_... SIGKILLed in the carry:
    its rows written but not agreed to for good (`fresh_carried`: the next render puts
    the first fresh run back, which polls the job), agreed to but the set-aside rows not
    yet marked (`fresh_kept`), or marked but the rows they came from not yet pointed on
    (`fresh_marked`). The next render, without --fresh, finishes the movie with the job
    bought once, billed once in the live ledger, and each set-aside row of it pointing,
    through the runs it went, to the live ledger's row that billed it. After
    `fresh_kept` the first fresh run's row stayed committed for good: counted in two
    ledgers, its status saying the job was still in flight; the next render now marks it
    (`Pipeline._settle_carry_notes`). After `fresh_marked` the first run's row still
    names <out>/run.db, which holds the job (not pointed on to the run between)."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    job, _, previous = _fresh_twice_mid_job(rig)
    r3 = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env(point), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh kill_at={point} -> {r3.returncode}\n{r3.stderr}")
    assert r3.returncode == -signal.SIGKILL, rig.history()
    r4 = rig.render(quiet=False)
    assert r4.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert rig.totals()["jobs_created"] == SCENES, rig.history()  # J not bought again
    live = rig.status()
    (row,) = [x for x in ledger(live, "clip") if x["remote_id"] == job]
    assert row["state"] == "billed" and row["billed_usd"] > 0, row
    assert ledger(live, "clip", "committed") == [], live["ledger"]
    billed = {x["remote_id"] for x in ledger(live, "clip", "billed")}
    assert billed == {j.id for j in sim.jobs()}, (billed, sim.jobs())
    for aside in previous.iterdir():
        chain = _follow_carried(rig, aside / "run.db", job)
        (last,) = [
            x for x in ledger(_status_at(rig, chain[-1].parent), "clip") if x["remote_id"] == job
        ]
        assert chain[-1] == rig.out / "run.db" and last["state"] == "billed", (chain, last)


def test_render_fresh_twice_says_what_the_carried_jobs_may_save_of_its_question(
    sim: SimServer, tmp_path: Path
) -> None:
    """The second `render --fresh` of test_render_fresh_twice_... asks before it carries
    the job (its scene's clip, already paid). Its question priced every scene's clip as
    bought, said nothing of the job, and the render then took it and bought one clip
    fewer (the simulator's plan and keyframes come out the same). The question's figure
    still counts that clip (whether it is taken is known only once the keyframe is made:
    never under), and now says how much of it the carried jobs may save: the figure less
    that is exactly what the render then paid the simulator for keyframes and clips."""

    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    job, _, _ = _fresh_twice_mid_job(rig)
    made = {j.id for j in sim.jobs()}
    est = _render_fresh_asked(rig)
    new = [x for x in rig.status()["ledger"] if x["remote_id"] not in made]
    bought = {
        stage: sum(x["billed_usd"] for x in new if x["stage"] == stage and x["state"] == "billed")
        for stage in ("keyframe", "clip")
    }
    priced_clips = sum(s.video.usd for s in est.scenes if s.video.payable)
    priced_keyframes = sum(s.keyframe.usd for s in est.scenes if s.keyframe.payable)
    assert [j.id for j in sim.jobs() if j.id not in made] and job in made
    assert len(sim.jobs()) - len(made) == SCENES - 1  # the carried job was taken
    assert priced_keyframes == pytest.approx(bought["keyframe"])
    assert est.carried_may_cover > 0, (priced_clips, bought)
    assert priced_clips - est.carried_may_cover == pytest.approx(bought["clip"]), (
        priced_clips,
        est.carried_may_cover,
        bought,
    )


def test_render_fresh_before_its_plan_counts_a_carried_job_of_another_length_as_saved(
    sim: SimServer, tmp_path: Path
) -> None:
    """As above (after one kill), with plan.scene_seconds changed to 5 since: the
    question, asked before Claude plans, prices every scene at 5 s, and the carried job
    made a 4 s clip. It was counted as saving nothing ("Up to $0.26 of it may not be
    spent" while the render took every carried job and spent $0.36 less): the plan's
    clip lengths are not known yet, so a job may save a clip of its own length."""
    from mindmovie.config import load_settings
    from mindmovie.costs import estimate_video

    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")  # (one --fresh is enough: killed while its job runs)
    assert r.returncode == -signal.SIGKILL, rig.history()
    (made_job,) = sim.jobs()
    job, made = made_job.id, {made_job.id}
    est = _render_fresh_asked(rig, overrides={"plan": {"scene_seconds": 5}})
    assert {s.seconds for s in est.scenes} == {5.0}
    assert len(sim.jobs()) - len(made) == SCENES - 1  # the carried job was taken
    (took,) = [x for x in rig.status()["ledger"] if x["remote_id"] == job]
    clip4 = estimate_video(load_settings(rig.cfg, env=rig.env()), 4).usd
    assert est.carried_may_cover == pytest.approx(clip4) and clip4 > 0, (
        est.carried_may_cover,
        took,
    )


def _render_fresh_asked(rig: Rig, overrides: dict[str, Any] | None = None) -> Any:
    """`render --fresh` of the rig in this process (with `overrides` of its settings) to
    its movie, the spend question answered yes: the one estimate it was asked with."""
    import asyncio

    from pydantic import SecretStr

    from mindmovie.config import Keys, load_settings
    from mindmovie.costs import RunEstimate
    from mindmovie.pipeline import Pipeline

    asked: list[RunEstimate] = []

    def ask(est: RunEstimate) -> bool:
        asked.append(est)
        return True

    settings = load_settings(rig.cfg, overrides=overrides, env=rig.env())
    keys = Keys(anthropic=SecretStr("sk-ant-sim"), byteplus=SecretStr("ark-sim"))
    pipe = Pipeline(rig.goals, settings, out=rig.out, keys=keys, confirm=ask)
    asyncio.run(pipe.run(fresh=True))
    assert_movie(rig.out / "movie.mp4")
    (est,) = asked
    return est


def test_after_a_fresh_render_stopped_before_keyframes_the_estimate_says_its_job_may_save(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed while clip job J runs, then `render --fresh` stopped before any keyframe
    (here `--until plan`; as a budget stops it): J is carried into the fresh run, held
    by no scene. The next render's estimate counted J's scene's clip bought again and
    said nothing of J: the render took J and spent one clip less. Now the estimate says
    what J may save (its scene's clip, named): the figure less that is what the render
    then paid for keyframes and clips. With another video model (the model is in the
    clip's key) it says nothing: J is taken by no scene (the review's case)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.costs import format_usd

    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    (job,) = sim.jobs()
    job.min_polls = 50  # in flight through the --fresh
    (row,) = ledger(rig.status(), "clip", "committed")
    r2 = mindmovie_fork.run(
        [*rig.args(until="plan"), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh --until plan -> {r2.returncode}\n{r2.stderr}")
    assert r2.returncode == 0, rig.history()
    st = rig.status()
    assert [x["remote_id"] for x in ledger(st, "clip", "committed")] == [job.id]
    assert not [s for s in st["steps"] if s["remote_id"]], st["steps"]  # held by no scene
    est = _estimate_json(rig)
    clip = next(s["video"]["usd"] for s in est["scenes"] if s["scene_id"] == row["scene_id"])
    said = f"up to {format_usd(clip)} of the total may not be spent"
    assert any(said in n and row["scene_id"] in n for n in est["notes"]), est["notes"]
    other = rig.tmp / "other.yaml"
    other.write_text(rig.cfg.read_text() + "video: {model: seedance-1-0-pro-fast}\n")
    env: dict[str, str | None] = dict.fromkeys(os.environ)
    env.update(rig.env())
    r3 = CliRunner().invoke(
        app,
        ["estimate", str(rig.goals), "-c", str(other), "--out", str(rig.out), "--json"],
        env=env,
    )
    assert r3.exit_code == 0, r3.output
    assert not [n for n in json.loads(r3.stdout)["notes"] if "may not be spent" in n], r3.stdout
    made = {j.id for j in sim.jobs()}
    job.min_polls = job.polls + 3  # still in flight when the render starts
    r4 = rig.render()
    assert r4.returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    assert len(sim.jobs()) == SCENES, rig.history()  # J taken, not bought again
    new = [x for x in rig.status()["ledger"] if x["remote_id"] not in made and x["stage"] != "plan"]
    paid = sum(x["billed_usd"] for x in new if x["state"] == "billed")
    assert float(est["total"]) - clip == pytest.approx(paid, abs=0.002), (est["total"], paid)


def test_render_fresh_with_another_video_model_says_its_carried_jobs_save_nothing(
    sim: SimServer, tmp_path: Path
) -> None:
    """The second `render --fresh` of test_render_fresh_twice_... with another video model
    (seedance-1-0-pro, which makes 4 s clips too): the carried job, made by
    seedance-1-5-pro, can be taken by no scene (the model is in the clip's key), yet the
    question said "Up to $X of it may not be spent" (the provider and seconds matched).
    Now it counts nothing for it, and the render indeed buys every clip."""

    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    job, _, _ = _fresh_twice_mid_job(rig)
    made = {j.id for j in sim.jobs()}
    est = _render_fresh_asked(rig, {"video": {"model": "seedance-1-0-pro"}})
    assert job in made and len(sim.jobs()) - len(made) == SCENES  # every clip bought
    assert est.carried_may_cover == 0, est.carried_may_cover


def test_render_fresh_says_a_carried_job_let_go_of_saves_nothing(
    sim: SimServer, tmp_path: Path
) -> None:
    """The second `render --fresh` of test_render_fresh_twice_... when the job it carries
    was let go of by the person (`render --let-go`: its row committed, marked `let_go`,
    a mark the carry keeps): no scene takes such a job (`_unheld_job`), yet the question
    said "Up to $X of it may not be spent" for it. Now it counts nothing for it, and the
    render indeed buys every clip."""

    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    job, _, _ = _fresh_twice_mid_job(rig)
    (row,) = [x for x in ledger(rig.status(), "clip", "committed") if x["remote_id"] == job]
    with sqlite3.connect(rig.out / "run.db") as db:  # as `Store.let_go_job` marks it
        usage = dict(row["usage"] or {}, unused=True, let_go="let go of by the person: test")
        db.execute("UPDATE ledger SET usage=? WHERE id=?", (json.dumps(usage), row["id"]))
    made = {j.id for j in sim.jobs()}
    est = _render_fresh_asked(rig)
    assert job in made and len(sim.jobs()) - len(made) == SCENES  # every clip bought
    assert est.carried_may_cover == 0, est.carried_may_cover


def test_render_fresh_killed_before_marking_then_the_run_folder_moved_marks_the_old_row(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed mid-job (run A), `render --fresh` (B) carries the job and is killed after
    the carry was agreed to but before A's row was marked (`fresh_kept`); then the person
    moves the run folder (outputs/ moved, or renamed) and renders it there. The note of
    where the job came from held the old absolute path of previous/<A>/run.db: the next
    render found no file there, skipped it, and called the marking done. A's row stayed
    committed for good (counted against its budget; `status` said the job was in
    flight, and a render of A would have billed it again), while B billed it. The
    set-aside run is looked for in this run folder's previous/ too."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    (job,) = sim.jobs()
    r2 = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env("fresh_kept"), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh kill_at=fresh_kept -> {r2.returncode}\n{r2.stderr}")
    assert r2.returncode == -signal.SIGKILL, rig.history()
    moved = tmp_path / "moved" / "run"
    moved.parent.mkdir()
    rig.out.rename(moved)
    rig.out = moved
    r3 = rig.render()
    assert r3.returncode == 0, rig.history()
    assert_movie(moved / "movie.mp4")
    assert rig.totals()["jobs_created"] == SCENES, rig.history()  # the job bought once
    (row,) = [x for x in ledger(rig.status(), "clip") if x["remote_id"] == job.id]
    assert row["state"] == "billed" and row["billed_usd"] > 0, row
    (a_dir,) = (moved / "previous").iterdir()
    (old,) = [x for x in ledger(_status_at(rig, a_dir), "clip") if x["remote_id"] == job.id]
    assert (old["state"], old["billed_usd"]) == ("refunded", 0.0), old
    assert old["usage"]["carried_to"] == str(moved / "run.db"), old["usage"]
    assert old["usage"]["carried_row"] == row["id"], (old, row)


def test_render_fresh_twice_with_the_run_folder_moved_between_keeps_the_chain(
    sim: SimServer, tmp_path: Path
) -> None:
    """test_render_fresh_twice_while_a_carried_job_runs_keeps_the_chain_and_bills_the_job_once,
    with the run folder moved (or renamed: a new title) after the first `render --fresh`.
    The notes held the old absolute paths: the second --fresh found no previous/<A> at
    the noted place, and A's row named the old <out>/run.db, not B in previous/."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    job, a_dir, _ = _fresh_twice_mid_job(rig)
    moved = tmp_path / "moved" / "run"
    moved.parent.mkdir()
    rig.out.rename(moved)
    rig.out = moved
    a_dir, previous = moved / "previous" / a_dir.name, moved / "previous"
    # (to its clips: what is checked is settled by then; the compose is not looked at)
    r3 = mindmovie_fork.run(
        [*rig.args(until="clips"), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r3.returncode}\n{r3.stderr}")
    assert r3.returncode == 0, rig.history()
    assert rig.totals()["jobs_created"] == SCENES, rig.history()
    (b_dir,) = [p for p in previous.iterdir() if p != a_dir]
    (row,) = [x for x in ledger(_status_at(rig, a_dir), "clip") if x["remote_id"] == job]
    assert (row["state"], row["billed_usd"]) == ("refunded", 0.0), row
    assert row["usage"]["carried_to"] == str(b_dir / "run.db"), (row["usage"], b_dir)
    assert _follow_carried(rig, a_dir / "run.db", job)[-1] == moved / "run.db"


def test_render_fresh_killed_before_marking_then_fresh_again_marks_the_first_run_s_row(
    sim: SimServer, tmp_path: Path
) -> None:
    """Killed mid-job (run A), `render --fresh` (B) carries the job and is killed after
    the carry was agreed to but before A's row was marked (`fresh_kept`); the person runs
    the same `render --fresh` again (C), which sets B aside and carries the job on. B's
    unmarked notes were left to B's next render, which none makes: A's row stayed
    committed for good (A's status: the job in flight; a render of A bills it again)
    while C billed it. C now marks them, naming B where it went."""
    rig = make_rig(sim, tmp_path, job_seconds=0.5)
    sim.min_polls = 2
    r = rig.render(kill_at="poll")
    assert r.returncode == -signal.SIGKILL, rig.history()
    (job,) = sim.jobs()
    r2 = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env("fresh_kept"), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh kill_at=fresh_kept -> {r2.returncode}\n{r2.stderr}")
    assert r2.returncode == -signal.SIGKILL, rig.history()
    (a_dir,) = (rig.out / "previous").iterdir()
    # (to its clips: what is checked is settled by then; the compose is not looked at)
    r3 = mindmovie_fork.run(
        [*rig.args(until="clips"), "--fresh"], env=rig.env(), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh -> {r3.returncode}\n{r3.stderr}")
    assert r3.returncode == 0, rig.history()
    assert rig.totals()["jobs_created"] == SCENES, rig.history()  # the job bought once
    (row,) = [x for x in ledger(rig.status(), "clip") if x["remote_id"] == job.id]
    assert row["state"] == "billed" and row["billed_usd"] > 0, row
    for aside in (rig.out / "previous").iterdir():
        chain = _follow_carried(rig, aside / "run.db", job.id)
        assert chain[-1] == rig.out / "run.db", (aside, chain)
    (old,) = [x for x in ledger(_status_at(rig, a_dir), "clip") if x["remote_id"] == job.id]
    assert (old["state"], old["billed_usd"]) == ("refunded", 0.0), old


def test_killed_as_a_new_run_db_is_made_the_old_run_is_kept_and_one_set_aside_lends_no_job(
    sim: SimServer, tmp_path: Path
) -> None:
    """`render --fresh` moves the run to previous/<time>/ and marks in its new run.db
    where it went (FRESH_META), so a render killed before the spend is agreed to puts it
    back. Killed after the run.db was made and before the mark, the next render (without
    --fresh) started a new run: every keyframe and clip bought again, the run that had
    them left in previous/. The mark is written with the new journal.

    Then (the run put back, as it was) a `render --fresh` killed between a clip job's
    creation and its id's journaling leaves a request whose job the next render finds in
    the provider's list by time alone (the list shows no prompts). Jobs the set-aside run
    journaled were told apart by reading previous/*/run.db; with previous/ deleted
    (status says no render needs it), they were taken for the lost request: another
    version's clip used for the scene, and the set-aside run's jobs billed here a second
    time. The new run.db keeps the ids of the jobs of the run it set aside.

    Then (that run finished, previous/ gone) its run.db moved away: a folder holding a
    run's paid files but no run.db. The render makes a new run.db and marks in it that
    those files go to previous/ once the spend is agreed to (ASIDE_META). Killed after
    the run.db was made and before the mark, the next render found a journal without the
    mark, took the files for its own and wrote over them: the keyframes and clips paid
    for were gone. The mark is written with the new journal. (Was three tests, each
    making the same first render:
    test_render_fresh_killed_as_its_new_run_db_is_made_puts_the_old_run_back,
    test_a_run_set_aside_and_deleted_lends_none_of_its_jobs_to_a_lost_request and
    test_killed_as_its_new_run_db_is_made_the_files_found_without_one_are_still_set_aside.)"""
    rig = make_rig(sim, tmp_path)
    assert rig.render().returncode == 0, rig.history()
    first = scene_files(rig.out)
    bought = rig.totals()
    r = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env("store_opened"), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh kill_at=store_opened -> {r.returncode}\n{r.stderr}")
    assert r.returncode == -signal.SIGKILL, rig.history()
    assert rig.render().returncode == 0, rig.history()
    assert rig.totals()["jobs_created"] == bought["jobs_created"], rig.history()
    assert scene_files(rig.out) == first, rig.history()
    assert_movie(rig.out / "movie.mp4")

    # the run put back, a render --fresh killed at its first clip's create
    first_jobs = {j.id for j in sim.jobs()}
    assert len(first_jobs) == SCENES
    r = mindmovie_fork.run(
        [*rig.args(), "--fresh"], env=rig.env("submit"), cwd=rig.tmp, timeout=RENDER_TIMEOUT
    )
    rig.logs.append(f"$ render --fresh kill_at=submit -> {r.returncode}\n{r.stderr}")
    assert r.returncode == -signal.SIGKILL, rig.history()
    lost = {j.id for j in sim.jobs()} - first_jobs
    assert len(lost) == 1, rig.history()  # made, its id never journaled
    shutil.rmtree(rig.out / "previous")
    assert rig.render().returncode == 0, rig.history()
    assert_movie(rig.out / "movie.mp4")
    held = {x["remote_id"] for x in rig.status()["ledger"] if x["remote_id"]}
    assert not held & first_jobs, rig.history()  # none of the set-aside run's jobs
    assert lost <= held, rig.history()  # the lost request's own job, picked up
    assert len(sim.jobs()) == 2 * SCENES, rig.history()  # and not bought again

    # that run's run.db moved away, a render killed as it makes a new one
    assert not (rig.out / "previous").exists()
    first = scene_files(rig.out)
    assert len(first) == SCENES
    (rig.out / "run.db").rename(rig.tmp / "run.db.moved")
    r = rig.render(kill_at="store_opened")
    assert r.returncode == -signal.SIGKILL, rig.history()
    assert rig.render().returncode == 0, rig.history()
    (old,) = (rig.out / "previous").iterdir()
    assert scene_files(old) == first, rig.history()  # kept, not written over
    assert_movie(rig.out / "movie.mp4")


@pytest.mark.parametrize("lost", ["kill_at_submit", "answer_dropped", "killed_then_another"])
def test_a_lost_create_takes_its_own_job_not_another_project_s(
    sim: SimServer, tmp_path: Path, lost: str
) -> None:
    """Two movies rendered one after the other in two project folders, with one key: the
    provider's job list shows both projects' jobs. One render's first create is lost
    (killed between its create and the journal, or its answer dropped): the job that
    request made is listed with the other project's, made seconds before it was sent
    (or, `killed_then_another`, rendered between the kill and the resume: after it),
    which no run this render can see knows. The earliest was taken for it: its scene's
    clip was another movie's, and its own paid job was booked unused."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = make_rig(sim, tmp_path / "a")
    b = make_rig(sim, tmp_path / "b")
    if lost == "killed_then_another":
        assert b.render(kill_at="submit").returncode == -signal.SIGKILL, b.history()
        time.sleep(1.1)  # (the list's created_at is in whole seconds)
    assert a.render().returncode == 0, a.history()
    a_jobs = {r["remote_id"] for r in ledger(a.status(), "clip")}
    assert len(a_jobs) == SCENES
    if lost == "kill_at_submit":
        time.sleep(1.1)
        assert b.render(kill_at="submit").returncode == -signal.SIGKILL, b.history()
    elif lost == "answer_dropped":
        time.sleep(1.1)
        sim.add_fault("drop_after", path="/contents/generations/tasks", method="POST")
    r = b.render()
    assert r.returncode == 0, b.history()
    st = b.status()
    b_jobs = {j.id for j in sim.jobs()} - a_jobs
    assert len(b_jobs) == SCENES  # no create sent twice
    clips = [s for s in st["steps"] if s["stage"] == "clip"]
    # each scene's clip is this movie's own job, never the other project's
    assert {s["remote_id"] for s in clips} == b_jobs, (clips, a_jobs)
    # and this run's ledger bills each of its own jobs once, as used; the other
    # project's jobs, which the list cannot tell from a second job made for the lost
    # request, are at most booked as made, unused (`_book_extra_jobs`), never used
    billed = [row["remote_id"] for row in ledger(st, "clip", "billed")]
    assert sorted(j for j in billed if j in b_jobs) == sorted(b_jobs), (billed, a_jobs)
    used = [
        row["remote_id"]
        for row in ledger(st, "clip", "billed")
        if not (row["usage"] or {}).get("unused")
    ]
    assert sorted(used) == sorted(b_jobs), (used, a_jobs)
