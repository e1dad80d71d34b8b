"""Paid work replaced by new inputs is kept, and comes back when those inputs do.

Against the simulator through the real SDKs: the simulator counts what a provider would
bill, so "nothing paid twice" is its own count, not the ledger's word. Before this, an
edit undone, a second goals.yaml rendered into the same folder, or scenes renumbered by
a removed goal each paid again for keyframes and clips already bought.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
import yaml
from typer.testing import CliRunner

from mindmovie.cli import app
from mindmovie.config import Settings, load_settings
from mindmovie.store import Store
from tests.integration.made_once import once, once_root
from tests.integration.support import (
    claude_answer_for,
    cli_env,
    edit_scene_2,
    goals_file,
    keyed_as_before,
    scene_files,
)
from tests.sim.server import SimServer

if TYPE_CHECKING:
    from mindmovie.pipeline import RenderResult, Until


def _offline(tmp_path: Path) -> tuple[Path, Settings]:
    """A copy of examples/ and small, fast offline settings whose runs go to
    tmp_path/outputs: (its goals.yaml, the settings)."""
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "examples", tmp_path / "ex")
    settings = load_settings(
        overrides={
            "output_dir": str(tmp_path / "outputs"),
            "output": {"size": "160x90", "fps": 8},
            "plan": {"scene_seconds": 2},
        },
        env={},
    )
    return tmp_path / "ex" / "goals.yaml", settings


def _sim_retitled(
    tmp_path: Path, sim: SimServer, *, until: Until
) -> tuple[Path, Settings, Path, Path]:
    """A simulator run (local plan and keyframes: free; byteplus clips) made `until` a
    stage, then its title changed: (goals.yaml, settings, the run's folder, the new
    title's folder)."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS, settings_for

    goals = goals_file(tmp_path, sim)
    outputs = tmp_path / "outputs"
    settings = settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        keyframes={"provider": "local"},
        output_dir=str(outputs),
    )
    asyncio.run(Pipeline(goals, settings, keys=KEYS).run(until=until))
    goals.write_text(goals.read_text().replace("title: Sim Movie", "title: Sim Movie Two"))
    return goals, settings, outputs / "sim-movie", outputs / "sim-movie-two"


def _offline_retitled(tmp_path: Path) -> tuple[Path, Settings, RenderResult, Path]:
    """An offline run made up to its keyframes, then its title changed: (goals.yaml,
    settings, the first render's result, the new title's folder)."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    text = goals.read_text().replace("title: My Year of Becoming", "title: My Brave Year")
    goals.write_text(text)
    return goals, settings, first, tmp_path / "outputs" / "my-brave-year"


def _paid(sim: SimServer) -> dict[str, int]:
    t = sim.stats()["totals"]
    return {k: int(t[k]) for k in ("messages", "images", "jobs_created")}


def _render(goals: Path, cfg: Path, run: Path, env: dict[str, str], *extra: str) -> str:
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", *extra]
    r = CliRunner().invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    return r.output


def _estimate(goals: Path, cfg: Path, run: Path) -> dict[str, Any]:
    args = ["estimate", str(goals), "-c", str(cfg), "--out", str(run), "--json"]
    r = CliRunner().invoke(app, args, env={})
    assert r.exit_code == 0, r.output
    data: dict[str, Any] = json.loads(r.output)
    return data


class Rendered(NamedTuple):
    """A run rendered whole with `cli_env`'s config (`render --out run --yes -q`), as a
    test starts it: (the folder holding all, its goals.yaml, the config, the keys' env,
    the run folder)."""

    home: Path
    goals: Path
    cfg: Path
    env: dict[str, str]
    run: Path


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The folders `once` made for this module's tests in this process."""
    return once_root(tmp_path_factory)


def _cli_rendered(
    made: dict[str, Path], sim: SimServer, name: str, planner: str = ""
) -> Iterator[Rendered]:
    """goals_file's goals rendered whole by the CLI with cli_env's config (`planner`:
    more of it) into home/run (`once`), and the simulated Claude's answer for them."""

    def make(home: Path) -> None:
        goals = goals_file(home, sim)
        cfg, env = cli_env(sim, home)
        cfg.write_text(cfg.read_text() + planner)
        _render(goals, cfg, home / "run", env, "-q")

    home = once(made, sim, name, make)
    claude_answer_for(sim, home / "goals.yaml")
    env = {"ANTHROPIC_API_KEY": "a", "ARK_API_KEY": "b"}  # (cli_env's)
    yield Rendered(home, home / "goals.yaml", home / "sim.yaml", env, home / "run")
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def cli_rendered(made: dict[str, Path], sim: SimServer) -> Iterator[Rendered]:
    """`_cli_rendered` with the byteplus preset's Claude planner."""
    yield from _cli_rendered(made, sim, "claude")


@pytest.fixture
def cli_rendered_local_plan(made: dict[str, Path], sim: SimServer) -> Iterator[Rendered]:
    """`_cli_rendered` with the local planner (only keyframes and clips paid): the
    scenes are numbered by goal."""
    yield from _cli_rendered(made, sim, "local-plan", "planner: {provider: local}\n")


def test_an_edit_undone_puts_the_paid_keyframe_and_clip_back(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    _, goals, cfg, env, run = cli_rendered
    first = scene_files(run)
    plan_path = run / "plan.yaml"
    original, edited = edit_scene_2(run, image_prompt=", golden hour", motion_prompt=", slowly")
    edit = plan_path.read_text()
    before = _paid(sim)
    _render(goals, cfg, run, env, "-q")
    after_edit = _paid(sim)
    assert after_edit["images"] - before["images"] == 1
    assert after_edit["jobs_created"] - before["jobs_created"] == 1
    assert scene_files(run)[edited] != first[edited]

    plan_path.write_text(original)  # the edit undone
    est = _estimate(goals, cfg, run)
    assert est["total"] == 0
    assert all(s["keyframe"]["done"] and s["video"]["done"] for s in est["scenes"])
    r = CliRunner().invoke(app, ["status", str(run), "-c", str(cfg), "--json"], env={})
    assert r.exit_code == 0, r.output
    nexts = {row["scene_id"]: row["next"] for row in json.loads(r.output)["scenes"]}
    assert nexts[edited] == "reuse the kept keyframe and clip (made before from these inputs)"
    assert all(n == "reuse" for sid, n in nexts.items() if sid != edited), nexts
    out = _render(goals, cfg, run, env)
    assert _paid(sim) == after_edit  # nothing paid again
    assert scene_files(run) == first  # the very files bought the first time
    assert "steps run: 0" in out
    store = Store(run / "run.db")
    try:
        clip = store.get(edited, "clip")
        assert clip is not None and clip.status == "succeeded" and clip.paid == 1
        assert store.artifact_problem(clip) is None
        # put back as made in the first render, with its tries: status showed them as
        # made by this render (its run number; a try)
        for stage in ("keyframe", "clip"):
            step = store.get(edited, stage)
            assert step is not None and (step.run_no, step.attempts) == (1, 1), step
        # the edited version is kept in turn: redoing the edit costs nothing either
        kept = sorted(p.name for p in (run / "kept" / "clip").iterdir())
        assert len(kept) == 2
    finally:
        store.close()
    plan_path.write_text(edit)
    _render(goals, cfg, run, env, "-q")
    assert _paid(sim) == after_edit


GOALS_B = """\
title: Sim Movie
goals:
  - category: travel
    vision: Seeing the northern lights from a cabin in Norway
  - category: health
    vision: Swimming in a cold lake every morning
"""


def test_another_goals_file_in_the_same_folder_costs_the_first_nothing_when_it_comes_back(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """Two goals.yaml with the same title share outputs/<title>/ by default. Rendering
    the second must not cost the first its plan (with the person's edits), keyframes and
    clips: going back to the first pays for nothing."""
    home, goals_a, cfg, env, run = cli_rendered
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][0]["affirmation"] = "I am strong, rested and at peace"  # a hand edit
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    _render(goals_a, cfg, run, env, "-q")
    files_a = scene_files(run)
    plan_a = plan_path.read_text()

    b_dir = home / "b"
    b_dir.mkdir()
    goals_b = b_dir / "goals.yaml"
    goals_b.write_text(GOALS_B)
    claude_answer_for(sim, goals_b)
    before_b = _paid(sim)
    out = _render(goals_a.parent / "b" / "goals.yaml", cfg, run, env)
    after_b = _paid(sim)
    assert after_b["messages"] == before_b["messages"] + 1  # B's own plan
    assert after_b["jobs_created"] > before_b["jobs_created"]
    assert "planning again" in out
    assert f"last rendered from another goals.yaml ({goals_a.resolve()})" in out
    assert "Its paid keyframes and clips are kept and come back" in " ".join(out.split())

    claude_answer_for(sim, goals_a)
    out = _render(goals_a, cfg, run, env)
    assert _paid(sim) == after_b  # no plan, keyframe or clip of A bought twice
    assert "going back to the plan these goals had before" in out
    assert plan_path.read_text() == plan_a  # the hand edit is back too
    assert {k: v for k, v in scene_files(run).items() if k in files_a} == files_a


def test_a_removed_goal_does_not_pay_again_for_the_scenes_renumbered_after_it(
    sim: SimServer, cli_rendered_local_plan: Rendered
) -> None:
    """The local planner numbers scenes by goal: removing the first goal renames every
    later scene. Their requests are the same, so their paid clips are reused."""
    _, goals, cfg, env, run = cli_rendered_local_plan
    before = _paid(sim)
    ids_before = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]
    files_before = scene_files(run)

    doc = yaml.safe_load(goals.read_text())
    doc["goals"] = doc["goals"][1:]  # the first goal (one scene) removed
    goals.write_text(yaml.safe_dump(doc, sort_keys=False))
    est = _estimate(goals, cfg, run)
    assert est["total"] == 0, est
    _render(goals, cfg, run, env, "-q")
    assert _paid(sim) == before
    ids_after = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]
    assert ids_after != ids_before[1:]  # renumbered ...
    after = scene_files(run)
    # ... and each keeps the files its old number had
    assert [after[i] for i in ids_after] == [files_before[i] for i in ids_before[1:]]
    # ... and the run and tries that made them (not this render's run number)
    store = Store(run / "run.db")
    try:
        for sid in ids_after:
            for stage in ("keyframe", "clip"):
                step = store.get(sid, stage)
                assert step is not None and (step.run_no, step.attempts) == (1, 1), step
    finally:
        store.close()


def test_free_local_work_is_not_kept(tmp_path: Path) -> None:
    """Only paid artifacts are kept: local ones cost nothing to make again. (Every
    scene's prompts are edited: scene 1's keyframe is its goal's photo, which its image
    prompt does not change, so an edit of that prompt alone replaced nothing.)"""
    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    import asyncio

    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run())
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    for scene in plan["scenes"]:
        scene["image_prompt"] += ", at dusk"
        scene["motion_prompt"] += " slowly"
    (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    res = asyncio.run(Pipeline(goals, settings, out=run).run())
    # local keyframes and clips were replaced by new ones ...
    assert {"keyframe", "clip"} <= {stage for _, stage in res.ran}, res.ran
    # ... and none of them kept
    assert not (run / "kept").exists()
    store = Store(run / "run.db", read_only=True)
    try:
        assert not [s for s in store.steps() if s.paid], "local work recorded as paid"
    finally:
        store.close()


def test_a_new_title_renames_the_run_folder_and_reuses_everything(tmp_path: Path) -> None:
    """The default run folder is outputs/<title>: a new title started a new run, and with
    paid providers paid for the whole movie again. Now the earlier run of the same
    goals.yaml is found, renamed to the new title's folder and reused."""
    import asyncio

    from mindmovie.pipeline import Pipeline, estimate_for

    goals, settings = _offline(tmp_path)
    outputs = tmp_path / "outputs"
    first = asyncio.run(Pipeline(goals, settings).run())
    assert first.run_dir == outputs / "my-year-of-becoming"
    text = goals.read_text()
    assert "title: My Year of Becoming" in text
    goals.write_text(text.replace("title: My Year of Becoming", "title: My Brave New Year"))
    est = estimate_for(goals, settings)
    assert all(s.keyframe.done and s.video.done for s in est.scenes)
    warned: list[str] = []

    class Warn:
        def __getattr__(self, name: str) -> Any:
            return warned.append if name == "warn" else (lambda *a, **k: None)

    res = asyncio.run(Pipeline(goals, settings, reporter=Warn()).run())  # type: ignore[arg-type]
    assert res.run_dir == outputs / "my-brave-new-year"
    assert not first.run_dir.exists()
    assert [r for r in res.ran if r[1] in ("plan", "keyframe", "clip")] == []
    assert yaml.safe_load((res.run_dir / "plan.yaml").read_text())["title"] == "My Brave New Year"
    assert any("run folder my-year-of-becoming is now my-brave-new-year" in w for w in warned)


def test_free_local_work_of_another_scene_is_made_again_not_restored(tmp_path: Path) -> None:
    """Scenes renumbered by a removed goal, offline: a local clip is not taken from the
    scene that had the same inputs (its Ken Burns move follows the scene id, so it is not
    the clip a render makes for this scene), and a local file is never recorded as paid
    (it was, and then landed in kept/ at the next edit)."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="clips"))
    doc = yaml.safe_load(goals.read_text())
    doc["goals"] = doc["goals"][1:]  # renumbers every later scene
    goals.write_text(yaml.safe_dump(doc, sort_keys=False))
    asyncio.run(Pipeline(goals, settings, out=run).run(until="clips"))
    fresh = tmp_path / "fresh"
    asyncio.run(Pipeline(goals, settings, out=fresh).run(until="clips"))
    ids = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]
    for sid in ids:
        for name in ("keyframe.png", "clip.mp4"):
            got = (run / "scenes" / sid / name).read_bytes()
            assert got == (fresh / "scenes" / sid / name).read_bytes(), (sid, name)
    store = Store(run / "run.db")
    try:
        assert not [s for s in store.steps() if s.paid], "local work recorded as paid"
    finally:
        store.close()
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    plan["scenes"][0]["motion_prompt"] += " slowly"
    (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    asyncio.run(Pipeline(goals, settings, out=run).run(until="clips"))
    assert not (run / "kept" / "clip").exists()


def test_status_says_a_deleted_file_comes_back_from_kept_as_the_render_does(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """A live file deleted (or a job of an edit that failed) when kept/ holds the one for
    these inputs: the render puts it back for free, and status says so (it said "redo:
    clip.mp4 missing" while estimate said nothing was left to pay)."""
    _, goals, cfg, env, run = cli_rendered
    plan_path = run / "plan.yaml"
    original, edited = edit_scene_2(run, motion_prompt=", slowly")
    _render(goals, cfg, run, env, "-q")
    plan_path.write_text(original)  # undone: the first clip is put back
    _render(goals, cfg, run, env, "-q")
    paid = _paid(sim)
    (run / "scenes" / edited / "clip.mp4").unlink()
    assert _estimate(goals, cfg, run)["total"] == 0
    r = CliRunner().invoke(app, ["status", str(run), "-c", str(cfg), "--json"], env={})
    assert r.exit_code == 0, r.output
    nexts = {row["scene_id"]: row["next"] for row in json.loads(r.output)["scenes"]}
    assert nexts[edited] == "reuse the kept clip (made before from these inputs)", nexts
    out = _render(goals, cfg, run, env)
    assert "steps run: 0" in out
    assert _paid(sim) == paid


def test_status_shows_the_kept_plan_the_render_goes_back_to(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """After another goals.yaml was rendered into the folder, status for the first one
    lists the scenes of its kept plan, which the render puts back and reuses (it listed
    plan.yaml's scenes as redone and the first goals' scenes as "not in plan.yaml")."""
    home, goals_a, cfg, env, run = cli_rendered
    ids_a = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]
    b_dir = home / "b"
    b_dir.mkdir()
    goals_b = b_dir / "goals.yaml"
    goals_b.write_text(GOALS_B)
    claude_answer_for(sim, goals_b)
    _render(goals_b, cfg, run, env, "-q")
    ids_b = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]

    claude_answer_for(sim, goals_a)
    args = ["status", str(run), "-c", str(cfg), "--goals", str(goals_a)]
    r = CliRunner().invoke(app, [*args, "--json"], env={})
    assert r.exit_code == 0, r.output
    st = json.loads(r.output)
    assert st["inputs"]["plan_kept"] is True
    nexts = {row["scene_id"]: row["next"] for row in st["scenes"]}
    assert [row["scene_id"] for row in st["scenes"]][: len(ids_a)] == ids_a
    assert all(nexts[i] == "reuse" for i in ids_a), nexts
    gone = "none: the new plan has no such scene"
    assert all(nexts[i] == gone for i in ids_b if i not in ids_a), nexts
    text = CliRunner().invoke(app, args, env={"COLUMNS": "200"}).output
    assert "goes back to the plan these goals had before" in text, text
    paid = _paid(sim)
    out = _render(goals_a, cfg, run, env)
    assert "steps run: 0" in out and _paid(sim) == paid


def test_a_kill_while_a_kept_plan_is_put_back_does_not_keep_it_as_the_other_goals_plan(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """Killed after the kept plan of goals A replaced plan.yaml (goals B's) but before the
    journal said so: the next render kept plan.yaml (A's plan now) as B's plan, so B
    rendered again got A's plan, scenes and movie."""
    import os
    import subprocess
    import sys

    home, goals_a, cfg, env, run = cli_rendered
    b_dir = home / "b"
    b_dir.mkdir()
    goals_b = b_dir / "goals.yaml"
    goals_b.write_text(GOALS_B)
    claude_answer_for(sim, goals_b)
    _render(goals_b, cfg, run, env, "-q")
    plan_b = (run / "plan.yaml").read_text()

    claude_answer_for(sim, goals_a)
    argv = [sys.executable, "-m", "mindmovie", "render", str(goals_a), "-c", str(cfg)]
    argv += ["--out", str(run), "--yes", "-q"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    killed = subprocess.run(
        argv,
        env={**clean, **env, "MINDMOVIE_KILL_AT": "restore"},
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert killed.returncode == -9, killed.stdout + killed.stderr
    _render(goals_a, cfg, run, env, "-q")
    claude_answer_for(sim, goals_b)
    _render(goals_b, cfg, run, env, "-q")
    assert (run / "plan.yaml").read_text() == plan_b


def test_a_kept_plan_that_does_not_load_comes_back_as_made_as_estimate_says(
    tmp_path: Path,
) -> None:
    """A plan.yaml with a broken hand edit, replaced by a new plan when goals.yaml
    changed: with the goals changed back, estimate (outlook) said a new plan is made,
    but the render put the broken plan back and stopped on its error. The broken file
    is not kept as their plan: the plan as its planner made it is (with a paid planner,
    a new plan bought again with new prompts, and every keyframe and clip after it),
    and the estimate says so too."""
    import asyncio

    from mindmovie.pipeline import Pipeline, _planner_identity

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][0]["colour"] = "blue"  # not a plan field: plan.yaml no longer loads
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    original = goals.read_text()
    goals.write_text(original.replace("running the coastal trail", "walking the coastal trail"))
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    goals.write_text(original)
    store = Store(run / "run.db")
    try:
        look = Pipeline(goals, settings, out=run).outlook(store, _planner_identity(settings))
    finally:
        store.close()
    assert look.plan_kept and look.plan is not None
    res = asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    assert "colour" not in plan_path.read_text()
    assert res.plan == look.plan
    assert len(res.plan.scenes) == len(plan["scenes"])
    store = Store(run / "run.db")
    try:
        assert store.get("_run", "plan").attempts == 1  # put back, not planned again
    finally:
        store.close()


def test_a_plan_made_before_the_current_plan_key_comes_back_too(tmp_path: Path) -> None:
    """A run from before 2026-12 records its plan under the legacy key (goals with their
    photos' bytes), which the render still accepts. Its first goals edit kept the plan
    under that key, and undoing the edit looked only under the current key: a new plan
    (with a paid planner: new prompts, so every keyframe and clip paid again), and the
    hand edits were not back."""
    import asyncio

    from mindmovie.pipeline import Pipeline, _planner_identity

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][0]["affirmation"] = "I run with joy"  # a hand edit
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    edited = plan_path.read_text()
    pipe = Pipeline(goals, settings, out=run)
    store = Store(run / "run.db")
    try:  # as an older mindmovie recorded it
        store.rekey("_run", "plan", pipe._plan_key(_planner_identity(settings), legacy=True))
    finally:
        store.close()
    original = goals.read_text()
    goals.write_text(original.replace("running the coastal trail", "walking the coastal trail"))
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    assert plan_path.read_text() != edited
    goals.write_text(original)  # the edit undone
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    assert plan_path.read_text() == edited


def test_a_deleted_plan_yaml_asks_for_a_new_plan_not_a_kept_one(
    sim: SimServer, tmp_path: Path
) -> None:
    """Deleting plan.yaml is how a person asks for a new plan: a kept plan of the same
    goals (set aside when the goals changed and came back) must not come back instead."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    _render(goals, cfg, run, env, "-q", "--until", "plan")
    original = goals.read_text()
    goals.write_text(original.replace("Living by the sea", "Living by a lake"))
    claude_answer_for(sim, goals)
    _render(goals, cfg, run, env, "-q", "--until", "plan")
    goals.write_text(original)
    claude_answer_for(sim, goals)
    _render(goals, cfg, run, env, "-q", "--until", "plan")  # the first plan comes back
    messages = _paid(sim)["messages"]
    assert messages == 2
    (run / "plan.yaml").unlink()
    assert _estimate(goals, cfg, run)["planner"]["usd"] > 0
    _render(goals, cfg, run, env, "-q", "--until", "plan")
    assert _paid(sim)["messages"] == messages + 1  # planned again, as asked


def test_a_new_title_keeps_plan_yaml_s_relative_paths_as_written(tmp_path: Path) -> None:
    """plan.yaml may name its music (or a photo) relative to itself (a hand edit). A new
    title rewrote plan.yaml with that path made absolute under the run folder as it was
    then (outputs/<title>/../../song.wav): the next new title renamed that folder, the
    path named nothing, and the render stopped at 'music file not found'."""
    import asyncio

    from mindmovie.media import run_ffmpeg
    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=330:duration=2", str(tmp_path / "song.wav")])
    first = asyncio.run(Pipeline(goals, settings).run(until="plan"))
    plan_path = first.run_dir / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["music"] = "../../song.wav"  # relative to plan.yaml's folder
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    title = "My Year of Becoming"
    for new in ("My Brave Year", "My Bravest Year"):
        goals.write_text(goals.read_text().replace(f"title: {title}", f"title: {new}"))
        title = new
        res = asyncio.run(Pipeline(goals, settings).run(until="plan"))
        now = yaml.safe_load((res.run_dir / "plan.yaml").read_text())
        assert now["title"] == new and now["music"] == "../../song.wav"
    assert res.run_dir == tmp_path / "outputs" / "my-bravest-year"


@pytest.mark.parametrize("recorded", [True, False])
def test_a_run_folder_named_with_out_is_never_renamed_to_the_title(
    tmp_path: Path, recorded: bool
) -> None:
    """A default render looks for the run folder last rendered from the same goals.yaml
    when outputs/<title>/ has none. It also took a folder the person named with --out
    (`--out outputs/draft`) and renamed it to outputs/<title>/, saying the title had
    changed (it had not): the next `--out outputs/draft` started over. `recorded`: the
    run.db says how its folder was named; else (an older run.db) its title tells."""
    import asyncio
    import sqlite3

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    outputs = tmp_path / "outputs"
    draft = outputs / "draft"
    asyncio.run(Pipeline(goals, settings, out=draft).run(until="plan"))
    if not recorded:
        con = sqlite3.connect(draft / "run.db")
        with con:
            assert con.execute("DELETE FROM meta WHERE key='folder'").rowcount == 1
        con.close()
    res = asyncio.run(Pipeline(goals, settings).run(until="plan"))
    assert res.run_dir == outputs / "my-year-of-becoming"
    assert (draft / "run.db").is_file() and (draft / "plan.yaml").is_file()


def test_a_run_that_could_not_follow_its_title_is_still_found(tmp_path: Path) -> None:
    """When outputs/<new title>/ exists (empty, here) the render goes on in the old
    folder; the next render must find that folder again, not start over in the new."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    outputs = tmp_path / "outputs"
    first = asyncio.run(Pipeline(goals, settings).run(until="plan"))
    (outputs / "my-brave-year").mkdir()
    text = goals.read_text().replace("title: My Year of Becoming", "title: My Brave Year")
    goals.write_text(text)
    for _ in range(2):
        res = asyncio.run(Pipeline(goals, settings).run(until="plan"))
        assert res.run_dir == first.run_dir


def test_a_new_title_whose_folder_holds_another_goals_run_goes_on_in_its_own_run(
    tmp_path: Path,
) -> None:
    """outputs/<new title>/ holding the run of another goals.yaml of that title (two
    projects sharing a title; the template's): the render went into that run, replacing
    its movie, and made the plan and every scene again (with a paid preset, bought them
    again), while this goals.yaml's own run, under its old title, held them all. It goes
    on in its own run, as when outputs/<new title>/ exists and holds no run, and says
    it could not follow the title."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    other = tmp_path / "other" / "goals.yaml"
    other.parent.mkdir()
    other.write_text(
        "title: My Brave Year\ngoals:\n  - category: wealth\n    vision: Be debt-free\n"
    )
    theirs = asyncio.run(Pipeline(other, settings).run(until="plan")).run_dir
    assert theirs == tmp_path / "outputs" / "my-brave-year"
    their_plan = (theirs / "plan.yaml").read_bytes()
    text = goals.read_text().replace("title: My Year of Becoming", "title: My Brave Year")
    goals.write_text(text)
    reporter, warned = _warnings()
    res = asyncio.run(Pipeline(goals, settings, reporter=reporter).run(until="keyframes"))
    assert res.run_dir == first.run_dir, warned
    assert [r for r in res.ran if r[1] in ("plan", "keyframe")] == []
    assert (theirs / "plan.yaml").read_bytes() == their_plan
    assert any("could not rename it to my-brave-year" in w for w in warned), warned


def test_a_run_that_records_no_goals_yaml_is_gone_on_with_not_left_for_another(
    tmp_path: Path,
) -> None:
    """A run folder whose run.db records no goals.yaml (made before the record,
    2026-11-30, or stopped before its render recorded it) cannot tell whose run it is:
    it was taken for another goals.yaml's, and the render went on in another run of
    these goals found elsewhere (`earlier_run`), leaving the run in its title's folder
    and saying it could not rename that one to it. It goes on where it is, as before."""
    import asyncio
    import shutil
    import sqlite3

    from mindmovie.pipeline import GOALS_META, GOALS_REL_META, Pipeline

    goals, settings = _offline(tmp_path)
    home = asyncio.run(Pipeline(goals, settings).run(until="plan")).run_dir
    shutil.copytree(home, tmp_path / "outputs" / "an-earlier-copy")  # recorded: these goals'
    con = sqlite3.connect(home / "run.db")
    with con:
        con.execute("DELETE FROM meta WHERE key IN (?, ?)", (GOALS_META, GOALS_REL_META))
    con.close()
    reporter, warned = _warnings()
    res = asyncio.run(Pipeline(goals, settings, reporter=reporter).run(until="plan"))
    assert res.run_dir == home, (res.run_dir, warned)
    assert not [w for w in warned if "could not rename" in w], warned


def test_a_fresh_render_of_a_new_title_says_where_the_old_run_is_once_renamed(
    tmp_path: Path,
) -> None:
    """`render --fresh` after a title change said "--fresh: the previous run was moved to
    outputs/<old title>/previous/<time>", a folder renamed a moment later to
    outputs/<new title>/ (so no longer there), and then "everything made for it is
    reused" of a run made again from nothing. The rename's line says where the old run
    is now, and claims no reuse."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="plan"))
    text = goals.read_text().replace("title: My Year of Becoming", "title: My Brave Year")
    goals.write_text(text)
    reporter, warned = _warnings()
    res = asyncio.run(Pipeline(goals, settings, reporter=reporter).run(until="plan", fresh=True))
    new = tmp_path / "outputs" / "my-brave-year"
    assert res.run_dir == new and not first.run_dir.exists()
    (aside,) = (new / "previous").iterdir()
    renamed = [w for w in warned if "the title changed since the last render" in w]
    assert renamed == [
        f"the title changed since the last render: its run folder my-year-of-becoming is "
        f"now my-brave-year; the previous run --fresh set aside is in {aside}"
    ], warned


def test_a_render_whose_old_folder_was_renamed_meanwhile_does_not_start_over(
    tmp_path: Path,
) -> None:
    """Two renders of goals.yaml with a new title, started together, both chose the old
    folder; the first renamed it. The second's lock recreated the old folder, empty, and
    it went on there: a new run from nothing (with paid providers, every scene paid
    again) instead of finding the run under its new name."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    outputs = tmp_path / "outputs"
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    text = goals.read_text().replace("title: My Year of Becoming", "title: My Brave Year")
    goals.write_text(text)
    one, two = Pipeline(goals, settings), Pipeline(goals, settings)  # both: the old folder
    asyncio.run(one.run(until="keyframes"))
    res = asyncio.run(two.run(until="keyframes"))
    assert res.run_dir == outputs / "my-brave-year"
    assert [r for r in res.ran if r[1] in ("plan", "keyframe")] == []
    assert not first.run_dir.exists()


def test_a_render_whose_old_folder_is_renamed_after_its_check_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename waits for the spend question, so another render of the new title can
    rename the folder between this render's check (`_follow_title`) and its lock: it
    must follow the run there, not make the old folder again and start over in it."""
    import asyncio
    import os

    from mindmovie.pipeline import Pipeline

    goals, settings, first, new = _offline_retitled(tmp_path)
    pipe = Pipeline(goals, settings)
    checked = pipe._follow_title

    def check_then_renamed() -> None:
        checked()
        os.rename(first.run_dir, new)  # as the other render does once its spend is agreed

    monkeypatch.setattr(pipe, "_follow_title", check_then_renamed)
    res = asyncio.run(pipe.run(until="keyframes"))
    assert res.run_dir == new and not first.run_dir.exists()
    assert [r for r in res.ran if r[1] in ("plan", "keyframe")] == []


def test_a_new_title_renames_the_run_folder_only_once_the_spend_is_agreed_to(
    sim: SimServer, tmp_path: Path
) -> None:
    """A new title renamed the run folder to outputs/<new title>/ before the spend
    question: a person who declined (or whose render was killed at the question) found
    the folder renamed for a render that never happened. It is renamed once the spend is
    agreed to; declined, both folders are as they were. Only the clips are paid here
    (local plan and keyframes), and no call is sent."""
    import asyncio

    from mindmovie.pipeline import BudgetStopped, Declined, Pipeline
    from tests.integration.support import KEYS

    goals, settings, old, new = _sim_retitled(tmp_path, sim, until="plan")
    before = sorted(str(p.relative_to(old)) for p in old.rglob("*"))
    seen: list[tuple[bool, bool]] = []

    def no(est: Any) -> bool:
        seen.append(((old / "run.db").is_file(), new.exists()))  # a kill here leaves this
        return False

    with pytest.raises(Declined):
        asyncio.run(Pipeline(goals, settings, keys=KEYS, confirm=no).run())
    assert seen == [(True, False)]
    assert not new.exists()
    assert sorted(str(p.relative_to(old)) for p in old.rglob("*")) == before
    assert yaml.safe_load((old / "plan.yaml").read_text())["title"] == "Sim Movie"

    # agreed to: renamed, before anything is made (a budget too small for one clip
    # stops the render before the first paid call)
    pipe = Pipeline(goals, settings, keys=KEYS, confirm=lambda est: True, budget=0.001)
    with pytest.raises(BudgetStopped):
        asyncio.run(pipe.run())
    assert seen == [(True, False)] and not old.exists() and (new / "run.db").is_file()
    assert yaml.safe_load((new / "plan.yaml").read_text())["title"] == "Sim Movie Two"
    assert sim.stats()["requests"] == 0


def test_a_plan_kept_under_the_older_key_still_comes_back(tmp_path: Path) -> None:
    """Plans kept before the plan key left out the title, closing and music were kept
    under that older key (`plan_fingerprint_v1`); only the current key was looked for,
    so an edit undone made (with Claude: paid for) a new plan, and the hand edits of
    the kept one were lost."""
    import asyncio
    import sqlite3

    from mindmovie.pipeline import Pipeline, _planner_identity

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    plan["scenes"][0]["affirmation"] = "I am strong, rested and calm"  # a hand edit
    (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    pipe = Pipeline(goals, settings, out=run)
    planner = _planner_identity(settings)
    new_key, old_key = pipe._plan_key(planner), pipe._plan_key(planner, legacy=1)
    text = goals.read_text()
    goals.write_text(text.replace("money working for me", "money that works"))
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))  # plan 1 kept
    con = sqlite3.connect(run / "run.db")
    with con:  # kept as a run made before 2026-12-01's fifth session kept it
        n = con.execute(
            "UPDATE kept SET input_key=? WHERE stage='plan' AND input_key=?", (old_key, new_key)
        ).rowcount
    con.close()
    assert n == 1
    goals.write_text(text)  # the edit undone
    res = asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    assert [r for r in res.ran if r[1] == "plan"] == []
    assert res.plan.scenes[0].affirmation == "I am strong, rested and calm"


def test_a_kept_plan_comes_back_with_its_own_title_edit(tmp_path: Path) -> None:
    """A plan put back from kept/ (an edit of goals.yaml undone) took goals.yaml's title,
    closing and music wherever they differed, with a warning that goals.yaml had a new
    title: a title edited in that plan.yaml was lost though goals.yaml's never changed
    (before the title left the plan key, the kept plan came back as it was)."""
    import asyncio

    from mindmovie.pipeline import Pipeline, estimate_for

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    plan["title"] = "Brave"  # a hand edit
    (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    text = goals.read_text()
    goals.write_text(text.replace("money working for me", "money that works"))
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))  # plan 1 kept
    goals.write_text(text)  # the edit undone
    pipe = Pipeline(goals, settings, out=run)
    store = Store(run / "run.db")
    try:
        from mindmovie.pipeline import _planner_identity

        look = pipe.outlook(store, _planner_identity(settings))
    finally:
        store.close()
    assert look.plan is not None and look.plan.title == "Brave"  # what status tells
    assert estimate_for(goals, settings, out=run).paid == 0
    res = asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    assert res.plan.title == "Brave"
    assert yaml.safe_load((run / "plan.yaml").read_text())["title"] == "Brave"
    # and a title changed in goals.yaml afterwards is still taken
    goals.write_text(text.replace("title: My Year of Becoming", "title: My Brave Year"))
    res = asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    assert yaml.safe_load((run / "plan.yaml").read_text())["title"] == "My Brave Year"


def test_a_goals_yaml_rewritten_for_another_movie_gets_its_own_folder(tmp_path: Path) -> None:
    """Only the same movie under a new title follows it (its plan is kept): a goals.yaml
    rewritten with a new title and new goals renamed the earlier movie's folder and
    replaced its movie.mp4, saying that everything was reused."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    outputs = tmp_path / "outputs"
    first = asyncio.run(Pipeline(goals, settings).run(until="plan"))
    goals.write_text(
        "title: Summer Of Courage\ngoals:\n  - category: growth\n    vision: Speaking on stage\n"
    )
    second = asyncio.run(Pipeline(goals, settings).run(until="plan"))
    assert second.run_dir == outputs / "summer-of-courage"
    assert first.run_dir.is_dir() and (first.run_dir / "run.db").is_file()
    assert yaml.safe_load((first.run_dir / "plan.yaml").read_text())["title"] == (
        "My Year of Becoming"
    )


@pytest.mark.parametrize("edited", [1, 4], ids=["one-goal", "four-of-six"])
def test_a_new_title_saved_with_a_goal_edited_goes_on_in_the_renamed_run(
    tmp_path: Path, edited: int
) -> None:
    """A new title and a goal's vision edited in one save changed the plan key, so the
    earlier run was taken for another movie's: a new run in outputs/<new title>/, every
    keyframe and clip made (with a paid preset, bought) again. With at least half the
    goals unchanged it is the same movie: its folder is renamed and only the edited
    goal's scenes are made again. Most goals rewritten: another movie, its own folder."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    text = goals.read_text().replace("title: My Year of Becoming", "title: My Brave Year")
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("vision:")]
    assert len(lines) == 6
    for line in lines[:edited]:
        text = text.replace(line, line.replace("vision: ", "vision: Truly, "))
    goals.write_text(text)
    res = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    made = {sid[:2] for sid, stage in res.ran if stage == "keyframe"}
    assert res.run_dir == tmp_path / "outputs" / "my-brave-year"
    if edited == 1:
        assert not first.run_dir.exists()  # renamed
        assert made <= {"01"}, res.ran  # the first goal's scenes at most
    else:
        assert (first.run_dir / "run.db").is_file()  # the earlier movie stays
        assert made == {"01", "02", "03", "04", "05", "06"}, res.ran


def test_a_copied_project_whose_goals_yaml_was_renamed_is_not_checked_against_the_original(
    tmp_path: Path,
) -> None:
    """A project copied with its outputs/ (`cp -r A B`) and B's goals.yaml renamed: the
    run's recorded goals.yaml was A's (its absolute path, still there), so `status` in B
    checked B's run against A's goals (A's later edits said to be redone in B) and B's
    render said it replaced the movie of "another goals.yaml", A's. B's run does not
    know its goals.yaml then (status asks for --goals), and its render says nothing of
    A."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from mindmovie.status import collect_status

    goals, settings = _offline(tmp_path)
    a = goals.parent
    s_a = settings.model_copy(update={"output_dir": a / "outputs"})
    asyncio.run(Pipeline(goals, s_a).run(until="keyframes"))
    b = tmp_path / "B"
    shutil.copytree(a, b)
    (b / "goals.yaml").rename(b / "my-goals.yaml")
    run_b = b / "outputs" / "my-year-of-becoming"
    s_b = settings.model_copy(update={"output_dir": b / "outputs"})
    assert collect_status(run_b, settings=s_b)["inputs"]["goals"] is None
    mine = b / "my-goals.yaml"  # and a goal edited in B: a new plan
    mine.write_text(mine.read_text().replace("coastal trail", "mountain trail"))
    reporter, warned = _warnings()
    res = asyncio.run(Pipeline(mine, s_b, reporter=reporter).run(until="keyframes"))
    assert res.run_dir == run_b
    assert any("planning again" in w for w in warned), warned
    assert not [w for w in warned if "another goals.yaml" in w], warned
    assert collect_status(run_b, settings=s_b)["inputs"]["goals"] == str(b / "my-goals.yaml")


def test_a_copied_project_whose_goals_yaml_is_in_a_subfolder_uses_its_own_photos(
    tmp_path: Path,
) -> None:
    """goals.yaml in a subfolder naming its photos `../photos/...`, the project copied
    with its outputs/: the copy's plan kept the original's photo paths (they exist), so
    its photo scenes were made again as photo-less ones (painted offline; with SeedEdit,
    bought again from text) and a photo replaced in the copy was never used. The copy
    reuses every scene, and a photo replaced in it redoes that scene alone."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    repo = Path(__file__).resolve().parents[2]
    a = tmp_path / "A"
    (a / "photos").mkdir(parents=True)
    (a / "goals").mkdir()
    shutil.copyfile(repo / "examples/photos/coastal-run.jpg", a / "photos/run.jpg")
    shutil.copyfile(repo / "examples/photos/garden-dinner.jpg", a / "photos/dinner.jpg")
    (a / "goals/goals.yaml").write_text(
        "title: Copy Test\ngoals:\n"
        "  - category: health\n    vision: Running the coastal trail\n"
        "    photos: [../photos/run.jpg]\n"
        "  - category: relationships\n    vision: Long dinners in the garden\n"
        "    photos: [../photos/dinner.jpg]\n"
    )

    def settings(home: Path) -> Settings:
        return load_settings(
            overrides={
                "output_dir": str(home / "outputs"),
                "output": {"size": "160x90", "fps": 8},
                "plan": {"scene_seconds": 2},
            },
            env={},
        )

    asyncio.run(Pipeline(a / "goals/goals.yaml", settings(a)).run(until="keyframes"))
    b = tmp_path / "B"
    shutil.copytree(a, b)
    res = asyncio.run(Pipeline(b / "goals/goals.yaml", settings(b)).run(until="keyframes"))
    assert res.run_dir == b / "outputs" / "copy-test"
    assert [r for r in res.ran if r[1] == "keyframe"] == []
    shutil.copyfile(repo / "examples/photos/me.jpg", b / "photos/run.jpg")  # replaced in B
    res = asyncio.run(Pipeline(b / "goals/goals.yaml", settings(b)).run(until="keyframes"))
    assert [r for r in res.ran if r[1] == "keyframe"] == [("01-health-1", "keyframe")]


def _warnings() -> tuple[Any, list[str]]:
    """A reporter that keeps only the warnings, and the list they go to."""
    warned: list[str] = []

    class Warn:
        def __getattr__(self, name: str) -> Any:
            return warned.append if name == "warn" else (lambda *a, **k: None)

    return Warn(), warned


class PaidProject(NamedTuple):
    """`paid_project`: (the folder holding it, the project folder, settings whose runs go
    to a folder's outputs/, as a person's default `output_dir` run from it)."""

    home: Path
    project: Path
    settings: Callable[[Path], Settings]


@pytest.fixture
def paid_project(made: dict[str, Path], sim: SimServer) -> Iterator[PaidProject]:
    """A project folder home/proj (goals.yaml, photos, outputs/) rendered whole with the
    byteplus preset against the simulator (`once`)."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS, settings_for

    def settings(home: Path) -> Settings:
        return settings_for("byteplus", sim, output_dir=str(home / "outputs"))  # type: ignore[no-any-return]

    def make(home: Path) -> None:
        project = home / "proj"
        project.mkdir()
        goals = goals_file(project, sim)
        asyncio.run(Pipeline(goals, settings(project), keys=KEYS).run())

    home = once(made, sim, "paid-project", make)
    claude_answer_for(sim, home / "proj" / "goals.yaml")
    yield PaidProject(home, home / "proj", settings)
    shutil.rmtree(home, ignore_errors=True)


class RelativeProject(NamedTuple):
    """`relative_project`: (the folder holding it, the project folder, its goals.yaml,
    the settings: the byteplus preset with the default output_dir, outputs, relative)."""

    home: Path
    project: Path
    goals: Path
    settings: Settings


@pytest.fixture
def relative_project(made: dict[str, Path], sim: SimServer) -> Iterator[RelativeProject]:
    """A project folder home/proj rendered whole from itself (the working folder) with
    the byteplus preset against the simulator and the default output_dir, outputs:
    its run in home/proj/outputs/ (`once`). The working folder is as before after it."""
    import asyncio
    import os

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS, settings_for

    settings = settings_for("byteplus", sim)  # output_dir: outputs, relative

    def make(home: Path) -> None:
        project = home / "proj"
        project.mkdir()
        goals = goals_file(project, sim)
        cwd = Path.cwd()
        os.chdir(project)
        try:
            asyncio.run(Pipeline(goals, settings, keys=KEYS).run())
        finally:
            os.chdir(cwd)

    home = once(made, sim, "relative-project", make)
    claude_answer_for(sim, home / "proj" / "goals.yaml")
    yield RelativeProject(home, home / "proj", home / "proj" / "goals.yaml", settings)
    shutil.rmtree(home, ignore_errors=True)


def _made_before_goals_from_run(run: Path) -> None:
    """Make `run` as a render before `GOALS_REL_META` left it, rendered from goals.yaml's
    folder with the default output_dir (outputs, relative): without that record."""
    import sqlite3

    from mindmovie.pipeline import GOALS_REL_META, SETTINGS_META

    con = sqlite3.connect(run / "run.db")
    with con:
        con.execute("DELETE FROM meta WHERE key=?", (GOALS_REL_META,))
        (raw,) = con.execute("SELECT value FROM meta WHERE key=?", (SETTINGS_META,)).fetchone()
        settings = {**json.loads(raw), "output_dir": "outputs"}
        con.execute("UPDATE meta SET value=? WHERE key=?", (json.dumps(settings), SETTINGS_META))
    con.close()


def test_a_movie_made_again_only_for_a_new_compositor_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upgrade audit: the first render after an upgrade made the whole movie again
    (free) with no word of why: nothing of the movie's scenes, texts or settings had
    changed, only how this version composes it. It says so; a render with nothing new
    reuses the movie and says nothing of it."""
    import asyncio

    from mindmovie import pipeline
    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run())
    said = "this version of mindmovie composes it otherwise"

    def told() -> list[str]:
        rep, warned = _warnings()
        rep.info = warned.append
        asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run())
        return warned

    assert not [t for t in told() if said in t]
    with (run / "movie.mp4").open("ab") as movie:  # (the file changed: not said so)
        movie.write(b"\0")
    assert not [t for t in told() if said in t]
    versions = {**pipeline.STAGE_VERSION, "movie": pipeline.STAGE_VERSION["movie"] + 1}
    monkeypatch.setattr(pipeline, "STAGE_VERSION", versions)
    assert [t for t in told() if said in t], said


def test_a_run_made_before_the_relative_record_with_out_elsewhere_is_not_said_moved(
    tmp_path: Path,
) -> None:
    """The upgrade audit: a run rendered with --out to a folder of its own by a version
    before the goals.yaml was recorded relative to the run folder: status guessed the
    relative place from output_dir's default layout, found nothing there, and said the
    folder "was moved or copied" with its inputs not checked, though nothing had moved.
    The guess counts only where it finds a goals.yaml; else the recorded one is it."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from mindmovie.status import collect_status

    goals, settings = _offline(tmp_path)
    run = tmp_path / "elsewhere" / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    _made_before_goals_from_run(run)
    inputs = collect_status(run, settings=settings)["inputs"]
    assert inputs["goals"] == str(goals.resolve()) and not inputs.get("moved_from"), inputs


@pytest.mark.parametrize("made_before", [False, True])
@pytest.mark.parametrize("how", ["moved", "copied"])
def test_a_project_folder_moved_or_copied_then_retitled_reuses_its_run(
    sim: SimServer, paid_project: PaidProject, how: str, made_before: bool
) -> None:
    """run.db recorded its goals.yaml by absolute path only: after the project folder
    was moved or copied (outputs/ and all), a new title found no earlier run of that
    goals.yaml and bought the whole movie again (plan, keyframes, clips), and the copy's
    run stayed behind under the old title. Now the goals.yaml is also recorded relative to
    the run folder, and found there; for a run made before that record, at the place the
    default output_dir gave it (`made_before`)."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS

    home, project, settings = paid_project
    if made_before:
        _made_before_goals_from_run(project / "outputs" / "sim-movie")
    moved = home / "elsewhere" / "proj"
    moved.parent.mkdir()
    if how == "moved":
        project.rename(moved)
    else:
        shutil.copytree(project, moved)
    goals = moved / "goals.yaml"
    goals.write_text(goals.read_text().replace("title: Sim Movie", "title: Sim Movie Two"))
    before = _paid(sim)
    res = asyncio.run(Pipeline(goals, settings(moved), keys=KEYS).run())
    assert _paid(sim) == before, "paid again"
    assert res.run_dir == moved / "outputs" / "sim-movie-two"
    assert not (moved / "outputs" / "sim-movie").exists()
    if how == "copied":  # the original's run is its own
        assert (project / "outputs" / "sim-movie" / "movie.mp4").is_file()


def test_an_edit_in_a_copied_project_is_not_said_to_replace_another_goals_movie(
    sim: SimServer, paid_project: PaidProject
) -> None:
    """In a copy of a project folder, a goals edit was said to replace the movie of
    "another goals.yaml" (the original's, recorded by its absolute path) and to need
    --out to keep both: the copy's run is its own, and --out would have bought it all
    again. status (given no --goals) checked the copy's run against the original's
    goals.yaml, or, the project moved, said goals.yaml was not found."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from mindmovie.status import collect_status
    from tests.integration.support import KEYS

    home, project, settings = paid_project
    copy = home / "copy"
    shutil.copytree(project, copy)
    goals = copy / "goals.yaml"
    goals.write_text(goals.read_text().replace("Living by the sea", "Living by the ocean"))
    reporter, warned = _warnings()
    asyncio.run(Pipeline(goals, settings(copy), keys=KEYS, reporter=reporter).run())
    assert any("planning again" in w for w in warned), warned
    assert not [w for w in warned if "another goals.yaml" in w]
    run = copy / "outputs" / "sim-movie"
    assert collect_status(run, settings=settings(copy))["inputs"]["goals"] == str(goals)
    moved = home / "moved"
    copy.rename(moved)
    status = collect_status(moved / "outputs" / "sim-movie", settings=settings(moved))
    assert status["inputs"]["goals"] == str(moved / "goals.yaml"), status["inputs"]


def test_a_photo_renamed_or_moved_into_a_subfolder_keeps_the_plan(
    sim: SimServer, paid_project: PaidProject
) -> None:
    """The plan was keyed by the photos' paths: a photo renamed (the same bytes), or the
    photos moved into a subfolder, with goals.yaml updated, made a new plan ("goals.yaml
    changed since the last plan: planning again"): a paid Claude call, the person's
    plan.yaml edits set aside, and with Claude's new prompts every keyframe and clip
    bought again. The planners are told only that a goal has photos: the plan stays, and
    its photo paths follow the places in goals.yaml, at every later render too."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS

    _, project, settings = paid_project
    plan_yaml = (project / "outputs" / "sim-movie" / "plan.yaml").read_text()
    goals = project / "goals.yaml"
    photos = project / "photos"
    before = _paid(sim)
    for old, new in [("portrait.jpg", "me.jpg"), ("me.jpg", "mine/me.jpg"), (None, None)]:
        if old is not None and new is not None:
            (photos / new).parent.mkdir(exist_ok=True)
            (photos / old).rename(photos / new)
            goals.write_text(goals.read_text().replace(f"photos/{old}", f"photos/{new}"))
        reporter, warned = _warnings()
        res = asyncio.run(Pipeline(goals, settings(project), keys=KEYS, reporter=reporter).run())
        assert _paid(sim) == before, (new, warned)
        assert not [w for w in warned if "planning again" in w], warned
        assert (res.run_dir / "plan.yaml").read_text() == plan_yaml


def test_goals_rendered_from_another_working_folder_go_on_in_their_run_beside_them(
    sim: SimServer, relative_project: RelativeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default output_dir, outputs/, is under the working folder: the same goals.yaml
    rendered from another folder (`mindmovie render ~/proj/goals.yaml` from ~) found no
    run there and bought the whole movie again. The run beside goals.yaml (its
    outputs/<title>, or under an earlier title) goes on, and the render says so."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS

    home, project, goals, settings = relative_project  # rendered from project
    elsewhere = home / "home"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    before = _paid(sim)
    for title in ("Sim Movie", "Sim Movie Two"):
        goals.write_text(goals.read_text().replace("title: Sim Movie\n", f"title: {title}\n"))
        reporter, warned = _warnings()
        res = asyncio.run(Pipeline(goals, settings, keys=KEYS, reporter=reporter).run())
        assert _paid(sim) == before, (title, warned)
        assert res.run_dir.parent.resolve() == project / "outputs", res.run_dir
        assert f"goals.yaml was rendered before in {project / 'outputs'}" in warned[0], warned
    assert not (elsewhere / "outputs").exists()


def test_goals_rendered_from_a_folder_holding_another_run_of_their_title_go_on_beside_them(
    sim: SimServer, relative_project: RelativeProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The working folder's outputs/<title> holding the run of another goals.yaml of the
    same title (two projects keeping the example's title): `mindmovie render
    ~/proj/goals.yaml` from there went into that run, replacing its movie, and bought
    the plan and scenes again beside proj's finished run. It goes on beside goals.yaml."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS, claude_answer_for

    root, project, goals, settings = relative_project  # rendered from project
    home = root / "home"
    home.mkdir()
    other = goals_file(home, sim)  # another project, in the working folder, same title
    other.write_text(other.read_text().replace("I am strong and rested", "I am calm"))
    claude_answer_for(sim, other)
    monkeypatch.chdir(home)
    theirs = asyncio.run(Pipeline(other, settings, keys=KEYS).run()).run_dir
    movie = (theirs / "movie.mp4").read_bytes()
    before = _paid(sim)
    reporter, warned = _warnings()
    res = asyncio.run(Pipeline(goals, settings, keys=KEYS, reporter=reporter).run())
    assert _paid(sim) == before, warned
    assert res.run_dir.parent.resolve() == project / "outputs", res.run_dir
    assert f"goals.yaml was rendered before in {project / 'outputs'}" in warned[0], warned
    assert (theirs / "movie.mp4").read_bytes() == movie


def test_photos_swapped_between_goals_keep_the_plan_and_follow_their_places(
    tmp_path: Path,
) -> None:
    """A plan reused as the same (`plan_fingerprint_by_place`) follows each place's new
    photo. Two goals' photos swapped in goals.yaml (both names still there) left the
    plan's paths as they were: the first goal's scenes named the other goal's photo,
    none of their own, so they were painted (or, with an edit model, made from text)."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    run = asyncio.run(Pipeline(goals, settings).run(until="plan")).run_dir
    text = goals.read_text()
    a, b = "photos/coastal-run.jpg", "photos/garden-dinner.jpg"
    goals.write_text(text.replace(a, "SWAP").replace(b, a).replace("SWAP", b))
    _reused_plan_names_the_photos_of_now(goals, settings, run)


def _reused_plan_names_the_photos_of_now(goals: Path, settings: Settings, run: Path) -> None:
    """The render of `goals` as they are now reuses the plan in `run`, each scene naming
    the reference photos a new plan of them would (the photos followed to their places)."""
    from mindmovie import costs
    from mindmovie.goals import load_goals
    from mindmovie.pipeline import Pipeline, _planner_identity
    from mindmovie.providers.local import build_plan

    pipe = Pipeline(goals, settings)
    store = Store(run / "run.db", read_only=True)
    try:
        look = pipe.outlook(store, _planner_identity(settings))
    finally:
        store.close()
    assert look.plan is not None, look.new_plan_why  # the plan is reused
    fresh = build_plan(load_goals(goals), costs.plan_options(settings))
    assert [s.reference_photos for s in look.plan.scenes] == [
        s.reference_photos for s in fresh.scenes
    ]


@pytest.mark.parametrize(
    ("shared", "own"),
    [
        ("photos/coastal-run.jpg", "photos/garden-dinner.jpg"),  # goal 3 shares goal 1's
        ("photos/me.jpg", "photos/coastal-run.jpg"),  # goal 1 shares the person's
    ],
)
def test_a_photo_in_two_goals_given_another_in_one_follows_that_goal_s_place(
    tmp_path: Path, shared: str, own: str
) -> None:
    """One photo in two goals, then another photo given to one of them (the same plan by
    place): the scenes of the goal that changed kept naming the old photo, none of their
    own, so they were painted (or, with an edit model, made from text) and that photo
    was a reference where goals.yaml no longer has it. Each scene follows the places of
    its own goal, then the person's, where the old name is no longer ambiguous. A goal
    that had the person's photo as its own and is given another takes it too: its scenes
    kept the person's photo."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    text = goals.read_text()
    assert text.count(own) == 1
    goals.write_text(text.replace(own, shared))
    run = asyncio.run(Pipeline(goals, settings).run(until="plan")).run_dir
    goals.write_text(text)  # ... and is given its own photo again
    _reused_plan_names_the_photos_of_now(goals, settings, run)


def test_a_photo_re_saved_with_other_metadata_keeps_every_keyframe_and_clip(
    sim: SimServer, paid_project: PaidProject
) -> None:
    """Keyframe keys held the photos' bytes: the person's photo re-saved with the same
    pixels and other metadata (a photo app's tags or rating, its location removed: here
    a JPEG comment) asked for every keyframe and clip again ($0.13 a scene at the
    catalog's prices). The look (`goals.photo_look`) a render records for the bytes its
    keys hold now keys such a re-save as those bytes; new pixels are still new."""
    import asyncio

    from PIL import Image

    from mindmovie.goals import photo_look
    from mindmovie.pipeline import Pipeline, estimate_for
    from tests.integration.support import KEYS

    _, project, settings = paid_project
    goals, photo = project / "goals.yaml", project / "photos" / "portrait.jpg"
    look = photo_look(photo)
    data = photo.read_bytes()
    photo.write_bytes(data[:2] + b"\xff\xfe\x00\x0bre-saved" + data[2:])  # a COM segment
    assert photo_look(photo) == look
    est = estimate_for(goals, settings(project))
    assert est.total == 0 and all(s.keyframe.done and s.video.done for s in est.scenes)
    before = _paid(sim)
    asyncio.run(Pipeline(goals, settings(project), keys=KEYS).run())
    assert _paid(sim) == before, "paid again"
    with Image.open(photo) as im:  # other pixels: a new photo, its scenes made again
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photo, quality=95)
    assert estimate_for(goals, settings(project)).total > 0


def test_two_photos_of_one_look_in_a_run_from_before_photo_looks_are_not_bought_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run made before photo looks were recorded, whose goals.yaml holds two files of
    one look (the person's photo, and a copy of it saved again with other metadata as a
    goal's photo). Its first render with the looks recorded the first and keyed the
    second as the first, in the same pass: the second's keyframes, made under its own
    bytes, were bought again (and their clips), where estimate had said $0. A photo is
    keyed as another only for a look recorded by an earlier render."""
    import asyncio

    from mindmovie import pipeline
    from mindmovie.fsutil import sha256_file
    from mindmovie.pipeline import Pipeline, estimate_for
    from tests.integration.support import KEYS, claude_answer_for, settings_for

    sim.media_scale = 0.25
    project = tmp_path / "proj"
    project.mkdir()
    goals = goals_file(project, sim)
    data = (project / "photos" / "portrait.jpg").read_bytes()
    (project / "photos" / "sea.jpg").write_bytes(data[:2] + b"\xff\xfe\x00\x06copy" + data[2:])
    goals.write_text(goals.read_text() + "    photos: [photos/sea.jpg]\n")
    claude_answer_for(sim, goals)
    settings = settings_for("byteplus", sim, output_dir=str(project / "outputs"))
    with monkeypatch.context() as m:  # as a render before the looks: keyed by the bytes
        m.setattr(pipeline, "photo_look", lambda _path: None)
        asyncio.run(Pipeline(goals, settings, keys=KEYS).run())
    assert estimate_for(goals, settings).total == 0
    before = _paid(sim)
    asyncio.run(Pipeline(goals, settings, keys=KEYS).run())
    assert _paid(sim) == before, "paid again"
    assert estimate_for(goals, settings).total == 0
    # both looks recorded now, under their own bytes: the one of them re-saved again is
    # keyed as the recorded bytes goals.yaml no longer holds, whichever sorts first
    photos = {sha256_file(p): p for p in (project / "photos").glob("*.jpg")}
    later = photos[max(photos)]
    later.write_bytes(later.read_bytes()[:2] + b"\xff\xfe\x00\x07again" + data[2:])
    assert estimate_for(goals, settings).total == 0
    asyncio.run(Pipeline(goals, settings, keys=KEYS).run())
    assert _paid(sim) == before, "paid again"


@pytest.mark.parametrize(
    ("title", "before", "now", "recorded"),
    [
        ("我的梦想", "movie", "我的梦想", True),
        ("我的梦想", "movie", "我的梦想", False),
        ("Привет Мир 2027", "2027", "привет-мир-2027", False),
    ],
)
def test_titles_in_other_scripts_get_their_own_folders_and_old_runs_follow(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    title: str,
    before: str,
    now: str,
    recorded: bool,
) -> None:
    """A title with no Latin letter slugged to "movie": every such movie shared
    outputs/movie/ and the second replaced the first's movie.mp4; one mixing scripts
    slugged to its Latin words alone ("Привет Мир 2027" and "Пока Мир 2027" shared
    outputs/2027/). Each now gets a folder of its own words; a run made in the folder
    named before (with or without run.db's record of how its folder was named) is
    renamed to it and reused."""
    import asyncio
    import sqlite3

    from mindmovie import pipeline
    from mindmovie.fsutil import folder_name, slugify
    from mindmovie.pipeline import FOLDER_META, Pipeline

    goals, settings = _offline(tmp_path)
    outputs = tmp_path / "outputs"
    text = goals.read_text()
    goals.write_text(text.replace("title: My Year of Becoming", f"title: {title}"))
    with monkeypatch.context() as m:
        m.setattr(pipeline, "folder_name", slugify)  # as mindmovie named folders before
        first = asyncio.run(Pipeline(goals, settings).run())
    assert first.run_dir == outputs / before
    if not recorded:  # a run.db from before the folder's naming was recorded
        con = sqlite3.connect(first.run_dir / "run.db")
        con.execute("DELETE FROM meta WHERE key=?", (FOLDER_META,))
        con.commit()
        con.close()
    res = asyncio.run(Pipeline(goals, settings).run())
    assert res.run_dir == outputs / now and not (outputs / before).exists()
    assert [r for r in res.ran if r[1] in ("plan", "keyframe", "clip")] == []
    movie = (res.run_dir / "movie.mp4").read_bytes()
    # another movie with a title in another script: its own folder, the first untouched
    other = goals.with_name("family.yaml")
    other_title = title.replace("我的梦想", "家庭").replace("Привет", "Пока")
    other.write_text(text.replace("title: My Year of Becoming", f"title: {other_title}"))
    res2 = asyncio.run(Pipeline(other, settings).run())
    assert res2.run_dir == outputs / folder_name(other_title) != res.run_dir
    assert (res.run_dir / "movie.mp4").read_bytes() == movie


def test_folder_names_of_latin_titles_are_as_before() -> None:
    from mindmovie.fsutil import folder_name, folder_names_before, slugify

    for title in ("My Year of Becoming", "Café Life 2027", "Movie", "Ünïcødé", "Straße", "🌟"):
        assert folder_name(title) == slugify(title)
    assert folder_name("Мой год") == "мой-год" and folder_name("🌟✨") == "movie"
    # a title mixing scripts keeps all its words (its Latin ones alone shared a folder),
    # and a mark stays with its letter (Devanagari's vowel signs split its words)
    assert [
        folder_name(t)
        for t in ("Привет Мир 2027", "Пока Мир 2027", "東京 Dreams", "Año Nuevo — Привет")
    ] == ["привет-мир-2027", "пока-мир-2027", "東京-dreams", "ano-nuevo-привет"]
    assert folder_name("नमस्ते दुनिया") == "नमस्ते-दुनिया"
    assert "नमस-त" in folder_names_before("नमस्ते दुनिया")[1]  # (as it was split)
    assert len(folder_name("梦" * 500).encode()) <= 255
    # cut at 60 characters, never ending on the dash where the cut fell
    assert slugify("a" * 59 + " bcd") == "a" * 59 and slugify("!!") == "movie"
    assert folder_name("Й" * 59 + " Ж") == "й" * 59


def test_a_run_db_moved_away_keeps_the_paid_files_it_leaves_in_the_folder(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """A damaged run.db is moved away as its message says (or deleted by hand): the next
    render starts a new journal and cannot vouch for the keyframes, clips and movie the
    folder holds. It used to write its new ones over them: paid files, gone. They are set
    aside into previous/<time>/ (as --fresh does) and the person is told."""
    _, goals, cfg, env, run = cli_rendered
    first = scene_files(run)
    movie = (run / "movie.mp4").stat().st_ino
    (run / "run.db").rename(run / "run.db.bad")
    out = _render(goals, cfg, run, env, "-q")
    (old,) = (run / "previous").iterdir()
    assert scene_files(old) == first  # the very files bought the first time
    assert (old / "movie.mp4").stat().st_ino == movie
    assert str(old) in " ".join(out.split()) and "run.db" in out, out
    assert (run / "run.db.bad").is_file() and (run / "movie.mp4").is_file()
    assert (run / "plan.previous.yaml").is_file()  # the plan is kept as before


def test_status_says_a_seconds_edit_within_the_clip_length_recomposes_the_movie(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """Seedance makes whole-second clips: a scene's seconds edited from 4 to 4.2 keeps its
    paid clip and only the movie is composed again, with the scene longer. status said
    plain "reuse" and nothing for the movie, as if the edit did nothing."""
    _, goals, cfg, env, run = cli_rendered
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    edited = plan["scenes"][0]["id"]
    assert plan["scenes"][0]["seconds"] == 4
    plan["scenes"][0]["seconds"] = 4.2
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    r = CliRunner().invoke(app, ["status", str(run), "-c", str(cfg), "--json"], env=env)
    assert r.exit_code == 0, r.output
    nexts = {row["scene_id"]: row["next"] for row in json.loads(r.output)["scenes"]}
    assert nexts[edited] == "reuse; new length (seconds edited)", nexts
    before = _paid(sim)
    out = _render(goals, cfg, run, env)
    assert _paid(sim) == before and "steps run: 0" in out  # the clip was reused
    assert "movie segments encoded" in out  # and the movie composed again


def test_a_keyframe_replaced_by_hand_is_moved_aside_not_written_over(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """A person puts a picture of their own in place of a scene's keyframe.png: its hash is
    not the one recorded, so the render makes the keyframe again. It used to write the new
    one over the person's picture without a word: their file was gone. It is moved into
    previous/<time>/ and the render says so."""
    from PIL import Image

    _, goals, cfg, env, run = cli_rendered
    scene = sorted(p.name for p in (run / "scenes").iterdir())[1]
    mine = run / "scenes" / scene / "keyframe.png"
    Image.new("RGB", (320, 180), (200, 10, 10)).save(mine)
    picture = mine.read_bytes()
    out = _render(goals, cfg, run, env, "-q")
    (kept,) = (run / "previous").glob(f"*/scenes/{scene}/keyframe.png")
    assert kept.read_bytes() == picture
    assert mine.read_bytes() != picture  # a new keyframe was made
    assert f"scenes/{scene}/keyframe.png is not the file this run made" in " ".join(out.split())


async def test_pictures_replaced_by_hand_between_two_runs_of_one_pipeline_are_both_kept(
    tmp_path: Path,
) -> None:
    """One Pipeline (a program using mindmovie) run again after each time the person put
    a picture of their own in place of a keyframe: the second run moved it into the
    first run's previous/<time>/ (its folder was remembered for the Pipeline's life),
    over the picture kept there, which was gone. Each run keeps its own."""
    from PIL import Image

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import tiny_local_settings

    run = tmp_path / "run"
    pipe = Pipeline(goals_file(tmp_path), tiny_local_settings(), out=run)
    await pipe.run()
    mine = run / "scenes" / "01-health-1" / "keyframe.png"
    pictures = []
    for colour in ((200, 10, 10), (10, 200, 10)):
        Image.new("RGB", (200, 112), colour).save(mine)
        pictures.append(mine.read_bytes())
        await pipe.run()
    kept = sorted(p.read_bytes() for p in run.glob("previous/*/scenes/01-health-1/keyframe.png"))
    assert kept == sorted(pictures)


def test_declining_the_spend_leaves_a_folder_without_run_db_as_it_was(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """With no run.db, the paid files the folder holds were moved to previous/<time>/
    before the spend question: a person who said no found the folder rearranged for
    nothing (and a new run.db in it, which made the next render take the unchecked
    files for its own). They move once the spend is agreed to."""
    _, goals, cfg, env, run = cli_rendered
    first = scene_files(run)
    (run / "run.db").rename(run / "run.db.bad")
    # status said only "no run here (no run.db)", not what the render does with them
    r = CliRunner().invoke(app, ["status", str(run)], env={})
    said = " ".join(r.output.split())
    assert r.exit_code != 0 and "the next render moves them to previous/" in said, said
    before = sorted(p.name for p in run.iterdir())
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run)]
    r = CliRunner().invoke(app, args, env=env)  # no --yes, nobody at a terminal: declined
    assert r.exit_code != 0 and "--yes" in r.output, r.output
    assert sorted(p.name for p in run.iterdir()) == before  # no previous/, no run.db
    assert scene_files(run) == first
    paid = _paid(sim)
    # a render killed at the question leaves its new run.db, marked: the next one still
    # moves the files before it makes any (it wrote over them, as its own)
    from mindmovie.pipeline import ASIDE_META

    killed = Store(run / "run.db")
    killed.set_meta(ASIDE_META, "1")
    killed.close()
    out = _render(goals, cfg, run, env, "-q")  # agreed to: now they move
    (old,) = (run / "previous").iterdir()
    assert scene_files(old) == first and str(old) in " ".join(out.split())
    assert _paid(sim)["images"] > paid["images"]


def _status_json(run: Path, cfg: Path) -> dict[str, Any]:
    r = CliRunner().invoke(app, ["status", str(run), "-c", str(cfg), "--json"], env={})
    assert r.exit_code == 0, r.output
    data: dict[str, Any] = json.loads(r.output)
    return data


def test_status_says_the_movie_is_reused_when_two_paid_scenes_swap_ids(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """Two paid scenes' ids swapped in plan.yaml, each keeping its content: the render
    puts each one's keyframe and clip back and reuses the movie (its key is made of what
    is drawn, not of ids), but status compared the ids and said the movie is composed
    again ("scene order edited")."""
    _, goals, cfg, env, run = cli_rendered
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    a, b = plan["scenes"][0], plan["scenes"][1]
    a["id"], b["id"] = b["id"], a["id"]
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    st = _status_json(run, cfg)
    assert st["movie"]["edited"] == [], st["movie"]
    paid = _paid(sim)
    _render(goals, cfg, run, env, "-q")
    assert _paid(sim) == paid
    after = _status_json(run, cfg)
    (movie,) = [s for s in after["steps"] if s["stage"] == "movie"]
    assert movie["run_no"] == 1  # reused, as status said

    # moved, content and all: the movie is composed again, and status says so
    plan["scenes"][0], plan["scenes"][1] = plan["scenes"][1], plan["scenes"][0]
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    assert _status_json(run, cfg)["movie"]["edited"] == ["scene order"]
    _render(goals, cfg, run, env, "-q")
    after = _status_json(run, cfg)
    (movie,) = [s for s in after["steps"] if s["stage"] == "movie"]
    assert movie["run_no"] == after["run_no"] == 3


def test_declining_the_spend_of_render_fresh_puts_the_old_run_back(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """`render --fresh` moved the old run (its paid keyframes and clips) to previous/
    before the spend question: declined, the folder held a new empty run, and the next
    render without --fresh bought everything again. Nothing was spent, so the old run is
    put back, and the next render reuses it."""
    _, goals, cfg, env, run = cli_rendered
    first = scene_files(run)
    db = (run / "run.db").stat().st_ino
    before = sorted(p.name for p in run.iterdir())
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--fresh"]
    r = CliRunner().invoke(app, args, env=env)  # no --yes, nobody at a terminal: declined
    assert r.exit_code != 0 and "--yes" in r.output, r.output
    assert "put back" in r.output, r.output
    assert sorted(p.name for p in run.iterdir()) == before  # no previous/
    assert scene_files(run) == first and (run / "run.db").stat().st_ino == db
    paid = _paid(sim)
    out = _render(goals, cfg, run, env)
    assert _paid(sim) == paid and "steps run: 0" in out


def test_a_paid_file_render_fresh_set_aside_is_not_shared_with_the_run_s_file(
    sim: SimServer, cli_rendered: Rendered
) -> None:
    """A --fresh whose provider made the very same bytes again (the simulator's pictures
    and clips are made from their request) linked the set-aside run's paid keyframes and
    clips to the run's files (`_share_unchanged`): one file in both. A keyframe then
    replaced by hand in place (`cp`, an editor or a script saving over it) changed the
    set-aside run's paid one too, and a render of that run bought it again. Its paid files
    keep their own copy; what was free (the movie) is still one file with the run's."""
    from PIL import Image, ImageOps

    _, goals, cfg, env, run = cli_rendered
    _render(goals, cfg, run, env, "-q", "--fresh")
    (old,) = (run / "previous").iterdir()
    assert (old / "movie.mp4").samefile(run / "movie.mp4")  # free: still shared
    kf = sorted((run / "scenes").glob("*/keyframe.png"))[0]
    aside = old / kf.relative_to(run)
    assert aside.read_bytes() == kf.read_bytes()  # the same bytes, bought twice
    bought = aside.read_bytes()
    ImageOps.mirror(Image.open(kf)).save(kf)  # the person's edit, written in place
    assert aside.read_bytes() == bought, "the set-aside run's paid keyframe was changed"
    paid = _paid(sim)
    _render(goals, cfg, old, env, "-q")  # the set-aside run, rendered again
    assert _paid(sim) == paid


def test_status_lists_the_renumbered_scenes_the_render_puts_back(
    sim: SimServer, cli_rendered_local_plan: Rendered
) -> None:
    """A goal removed renumbers the later scenes (the local planner's new plan, known
    before the render): the render puts their paid files back under the new ids and
    composes the movie again. Status listed only plan.yaml's old ids ("none: the new
    plan has no such scene"), not the scenes the render works on, and said "movie:
    succeeded" as if nothing were composed."""
    _, goals, cfg, env, run = cli_rendered_local_plan
    doc = yaml.safe_load(goals.read_text())
    doc["goals"] = doc["goals"][1:]  # the first goal (one scene) removed
    goals.write_text(yaml.safe_dump(doc, sort_keys=False))
    st = _status_json(run, cfg)
    rows = {r["scene_id"]: r for r in st["scenes"]}
    paid = _paid(sim)
    _render(goals, cfg, run, env, "-q")
    assert _paid(sim) == paid
    ids_after = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]
    for sid in ids_after:
        assert rows[sid]["next"].startswith("reuse"), rows[sid]
    assert st["movie"]["edited"] == ["scenes"]
    after = _status_json(run, cfg)
    (movie,) = [s for s in after["steps"] if s["stage"] == "movie"]
    assert movie["run_no"] == after["run_no"] == 2  # composed again, as status said


def test_a_fresh_render_of_a_new_title_killed_at_the_question_is_put_back(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`render --fresh` after a title change, killed at its spend question: the old run
    is in outputs/<old title>/previous/<time>/ and that folder's new run.db says so
    (FRESH_META), but it has no plan, so the next render did not find it as the run of
    these goals (`earlier_run`) and started a new run in outputs/<new title>/, paying
    again for everything. It is found, put back and renamed."""
    import asyncio

    from mindmovie.pipeline import BudgetStopped, Declined, Pipeline
    from tests.integration.support import KEYS

    goals, settings, old, new = _sim_retitled(tmp_path, sim, until="keyframes")

    killed = Pipeline(goals, settings, keys=KEYS, confirm=lambda est: False)
    monkeypatch.setattr(killed, "_undo_fresh", lambda: None)  # a kill runs no cleanup
    with pytest.raises(Declined):
        asyncio.run(killed.run(fresh=True))
    assert not (old / "plan.yaml").exists() and not new.exists()

    pipe = Pipeline(goals, settings, keys=KEYS, confirm=lambda est: True, budget=0.001)
    with pytest.raises(BudgetStopped):
        asyncio.run(pipe.run())
    assert pipe.result is not None and pipe.result.run_dir == new
    assert not old.exists() and not (new / "previous").exists()
    assert [r for r in pipe.result.ran if r[1] in ("plan", "keyframe")] == []
    assert sim.stats()["requests"] == 0


def test_a_local_keyframe_made_again_with_the_same_pixels_keeps_its_file(
    tmp_path: Path,
) -> None:
    """A local photo keyframe made again for a new key whose pixels came out the same
    (PHOTO_FIT -2 made every photo keyframe again) was written anew: one made before
    2026-12-02 from an ICC-tagged photo carried LittleCMS's dated profile, so its bytes,
    and with them the key of its clip (the keyframe's sha256), changed, and a paid video
    model animated it again. The file with the same pixels is kept as it is."""
    import asyncio
    import io

    from PIL import Image, ImageCms

    from mindmovie.fsutil import sha256_file
    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    store = Store(first.run_dir / "run.db")
    try:
        step = next(s for s in store.steps("keyframe") if s.scene_id.startswith("01"))
        kf = first.run_dir / "scenes" / step.scene_id / "keyframe.png"
        # as the fit before 2026-12-02 wrote it: the same pixels with a dated sRGB profile
        buf = io.BytesIO()
        icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        Image.open(kf).save(buf, format="PNG", icc_profile=icc)
        kf.write_bytes(buf.getvalue())
        store.succeed(step.scene_id, "keyframe", kf, sha256_file(kf))
        store.rekey(step.scene_id, "keyframe", "a key of an older fit")
    finally:
        store.close()
    before = kf.read_bytes()
    res = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    assert (step.scene_id, "keyframe") in res.ran  # made again, for its new key
    assert kf.read_bytes() == before


def test_a_render_whose_old_folder_is_renamed_as_it_takes_the_lock_follows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but the other render renames the folder after this one looked for its
    run.db and before it took the lock, which made the old folder again, empty: the run
    is followed to the new title's folder, not started over in the old one."""
    import asyncio
    import os

    from mindmovie import pipeline
    from mindmovie.pipeline import Pipeline

    goals, settings, first, new = _offline_retitled(tmp_path)
    prepare = pipeline._prepare_run_dir
    calls: list[Path] = []

    def prepared_then_renamed(run_dir: Path, given: bool = True) -> None:
        prepare(run_dir, given)
        calls.append(run_dir)
        if len(calls) == 1:
            os.rename(first.run_dir, new)  # the other render, its spend agreed to

    monkeypatch.setattr(pipeline, "_prepare_run_dir", prepared_then_renamed)
    res = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    assert calls[0] == first.run_dir
    assert res.run_dir == new and not first.run_dir.exists()
    assert [r for r in res.ran if r[1] in ("plan", "keyframe")] == []


def test_looking_for_the_run_of_a_goals_file_leaves_other_runs_untouched(tmp_path: Path) -> None:
    """A render looks through every run under output_dir for the one its goals.yaml made
    last (`earlier_run`). It opened each run.db read-only, which made the WAL's
    run.db-wal and run.db-shm beside it and, not allowed to remove them, left them in
    every other movie's folder. They are read as `status` reads them now: the other
    run's folder keeps only its own files, and its run.db stays byte for byte."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    asyncio.run(Pipeline(goals, settings).run(until="plan"))
    (first,) = [p for p in (tmp_path / "outputs").iterdir() if p.is_dir()]
    db = first / "run.db"
    before = db.read_bytes()
    files = sorted(p.name for p in first.iterdir())
    assert "run.db-wal" not in files and "run.db-shm" not in files

    other = goals.with_name("other.yaml")
    other.write_text(goals.read_text().replace("title: My Year of Becoming", "title: Another"))
    asyncio.run(Pipeline(other, settings).run(until="plan"))
    assert (tmp_path / "outputs" / "another" / "plan.yaml").is_file()
    assert sorted(p.name for p in first.iterdir()) == files
    assert db.read_bytes() == before


def test_a_file_replaced_by_hand_in_scenes_linked_to_another_disk_is_moved_aside(
    tmp_path: Path,
) -> None:
    """scenes/ moved to another disk and left as a link to it (a run rendered into since
    84099bf), and a keyframe there replaced by hand: the render moves the person's file
    into previous/<time>/ on the run's disk, which os.replace cannot do across disks
    ("Invalid cross-device link"): the scene failed at every render. It is moved (copied,
    then removed) all the same."""
    import asyncio
    import os
    import tempfile

    from PIL import Image

    from mindmovie.pipeline import Pipeline

    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second file system (/dev/shm)")
    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    run = first.run_dir
    with tempfile.TemporaryDirectory(dir=shm) as away:
        shutil.move(run / "scenes", Path(away) / "scenes")  # (a copy across disks)
        (run / "scenes").symlink_to(Path(away) / "scenes")
        scene = sorted(p.name for p in (run / "scenes").iterdir())[0]
        mine = run / "scenes" / scene / "keyframe.png"
        Image.new("RGB", (160, 90), (200, 10, 10)).save(mine)
        picture = mine.read_bytes()
        asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
        (kept,) = (run / "previous").glob(f"*/scenes/{scene}/keyframe.png")
        assert kept.read_bytes() == picture
        assert mine.read_bytes() != picture


def test_a_clip_kept_under_its_key_with_the_fps_comes_back_when_the_edit_is_undone(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run made while a paid clip's key held the fps and frame size (until
    2026-12-04): a motion_prompt edit kept the paid clip under that key (kept/clip/).
    Only a step's own key was looked up as it was (`_clip_variants`), so once the edit
    was undone the kept clip was not found: the estimate priced a new clip and the
    render bought it."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    plan_path = run / "plan.yaml"
    with keyed_as_before(monkeypatch, "_clip_key"):
        _render(goals, cfg, run, env, "-q")
        first = scene_files(run)
        original, edited = edit_scene_2(run, motion_prompt=", slowly")
        _render(goals, cfg, run, env, "-q")
    after_edit = _paid(sim)
    assert after_edit["jobs_created"] == 5 and scene_files(run)[edited] != first[edited]

    plan_path.write_text(original)  # the edit undone, by the mindmovie of now
    est = _estimate(goals, cfg, run)
    assert [s["scene_id"] for s in est["scenes"] if not s["video"]["done"]] == []
    _render(goals, cfg, run, env, "-q")
    assert _paid(sim) == after_edit  # nothing paid again
    assert scene_files(run) == first  # the very clip bought the first time


def test_a_paid_keyframe_kept_under_its_frame_size_key_comes_back_at_another_resolution(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run made while a paid keyframe's key held the frame size (until 2026-12-04), at
    480p: an image_prompt edit kept the paid keyframe under that key (kept/keyframe/).
    The upgrade, the edit undone, and `render --resolution 720p`: the old key was looked
    up at the frame size asked now only, so the kept keyframe was not found, and the
    estimate priced it and the render bought it again."""
    import asyncio

    from mindmovie.pipeline import Pipeline, _identity, estimate_for
    from mindmovie.plan import load_plan
    from tests.integration.support import KEYS, settings_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    plan_path = run / "plan.yaml"
    low = settings_for("byteplus", sim, output={"size": None, "resolution": "480p"})
    with keyed_as_before(monkeypatch, "_keyframe_variants"):
        asyncio.run(Pipeline(goals, low, out=run, keys=KEYS).run(until="keyframes"))
        original = plan_path.read_text()
        plan = yaml.safe_load(original)
        plan["scenes"][1]["image_prompt"] += ", at dusk"
        plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
        asyncio.run(Pipeline(goals, low, out=run, keys=KEYS).run(until="keyframes"))
    assert _paid(sim)["images"] == 5

    plan_path.write_text(original)  # the edit undone, by the mindmovie of now, at 720p
    high = settings_for("byteplus", sim, output={"size": None, "resolution": "720p"})
    est = estimate_for(goals, high, out=run)
    assert [(s.scene_id, s.keyframe.usd) for s in est.scenes if s.keyframe.usd] == []
    res = asyncio.run(Pipeline(goals, high, out=run, keys=KEYS).run(until="keyframes"))
    assert not res.failed and _paid(sim)["images"] == 5  # put back, not bought again
    # put back, it takes its key of now (the aspect): any later resolution finds it
    pipe, plan = Pipeline(goals, high, out=run), load_plan(plan_path)
    model = _identity(high, "keyframes")
    now = {sc.id: pipe._keyframe_variants(model, sc, plan)[0][1] for sc in plan.scenes}
    store = Store(run / "run.db", read_only=True)
    try:
        assert {sid: getattr(store.get(sid, "keyframe"), "input_key", None) for sid in now} == now
    finally:
        store.close()


def test_a_run_from_before_photo_looks_decodes_no_photo_to_look_at(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`status` and `estimate` of a run that recorded no photo look (made before them),
    so none to match (`Pipeline._learn_photos`), decoded each goals.yaml photo whole,
    every time, for nothing; the next render records the looks, once each."""
    import asyncio
    import sqlite3

    from mindmovie import pipeline
    from mindmovie.goals import load_goals, photo_places
    from mindmovie.pipeline import PHOTO_LOOK_META, Pipeline, estimate_for
    from tests.e2e.project import new_project

    looked: list[Path] = []
    real = pipeline.photo_look

    def counted(path: Path) -> str | None:
        looked.append(path)
        return real(path)

    monkeypatch.setattr(pipeline, "photo_look", counted)
    project = new_project(tmp_path / "project")
    goals = project / "examples" / "goals.yaml"
    photos = {p for slot in photo_places(load_goals(goals)) for p in slot}
    assert photos  # (the example has photos)
    settings = load_settings(project / "small.yaml", {})
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    con = sqlite3.connect(run / "run.db")
    with con:  # as a run made before the looks were recorded
        con.execute("DELETE FROM meta WHERE key LIKE ?", (PHOTO_LOOK_META + "%",))
    con.close()
    looked.clear()
    estimate_for(goals, settings, out=run)
    assert looked == []  # nothing recorded: nothing to match
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    assert set(looked) == photos  # recorded by the render, once each
    looked.clear()
    estimate_for(goals, settings, out=run)
    assert looked == []  # (their bytes recorded: nothing to decode)


#: one goal, one scene, no photo: the least a render needs
ONE_GOAL = "title: One\ngoals:\n  - category: health\n    vision: Strong and rested\n"


def test_goals_rendered_from_the_folder_above_go_on_there_when_rendered_from_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mindmovie init pp` says `render pp/goals.yaml`: from pp's parent that run lands in
    ./outputs/<title>. Then `cd pp` and `render goals.yaml` found no run under pp/outputs
    and started a new one, buying the plan and keyframes again without a word. The run
    of the same goals.yaml under a folder above it is gone on with, and said, as the
    run beside it is from another working folder; nothing is moved."""
    import asyncio

    from mindmovie.pipeline import Pipeline, estimate_for
    from tests.integration.support import tiny_local_settings

    project = tmp_path / "pp"
    project.mkdir()
    goals = project / "goals.yaml"
    goals.write_text(ONE_GOAL)
    settings = tiny_local_settings()  # output_dir: outputs, relative
    monkeypatch.chdir(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="plan")).run_dir.resolve()
    assert first.parent == tmp_path / "outputs"
    monkeypatch.chdir(project)
    reporter, warned = _warnings()
    pipe = Pipeline(Path("goals.yaml"), settings, reporter=reporter)
    assert pipe.run_dir.resolve() == first, warned
    assert warned == [
        f"goals.yaml was rendered before in {first} (rendered "
        f"from {tmp_path}), not in {Path('outputs') / first.name} under the working folder: "
        "going on there, so nothing made is bought again (--out "
        f"{Path('outputs') / first.name} starts a new run here)"
    ]
    assert estimate_for(Path("goals.yaml"), settings).planner is None  # the plan is kept
    assert not (project / "outputs").exists()


def test_a_render_says_which_setting_changed_and_what_it_buys_again_before_asking(
    sim: SimServer, tmp_path: Path
) -> None:
    """Rendered at --resolution 480p, then again without it: every clip was priced
    again and "Spend about $X?" asked (under --yes -q: spent) with no word of why; only
    `status` said the setting changed. render and estimate say status's line, and the
    clips bought again, before the question, under --quiet too."""
    sim.media_scale = 0.1
    goals = tmp_path / "goals.yaml"
    goals.write_text(ONE_GOAL)
    claude_answer_for(sim, goals)
    cfg = tmp_path / "sim.yaml"
    cfg.write_text(
        "preset: byteplus\noutput: {fps: 12}\nplan: {scene_seconds: 4}\nproviders:\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}', poll_interval: 0.05}}\n"
    )
    env = {"ANTHROPIC_API_KEY": "a", "ARK_API_KEY": "b"}
    run = tmp_path / "run"
    _render(goals, cfg, run, env, "--resolution", "480p", "--until", "clips", "-q")
    before = _paid(sim)
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--until", "clips", "-q"]
    r = CliRunner().invoke(app, args, env=env)  # no terminal: not asked, nothing spent
    changed = 'setting changed since the last render: output.resolution: "480p" -> "720p"'
    said = r.output.splitlines()
    assert f"warning: {changed}" in said, r.output
    again = [line for line in said if "made before and bought again" in line]
    assert again and "1 clip (01-health-1)" in again[0], r.output
    assert 0 <= r.output.find(changed) < r.output.find("would spend about $0.10"), r.output
    assert _paid(sim) == before
    asked = ["estimate", str(goals), "-c", str(cfg), "--out", str(run)]
    est = CliRunner().invoke(app, asked, env={})
    assert est.exit_code == 0 and f"warning: {changed}" in est.output, est.output
    doc = CliRunner().invoke(app, ["doctor", *asked[1:]], env=env)

    def bare(text: str) -> str:
        """`text` without table borders or white space: doctor's table is as wide as
        COLUMNS was when `cli` was imported (80 after an earlier test, whatever this
        test sets), and wraps the goals cell over lines."""
        return "".join(re.sub(r"[│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─╇╈╋]", " ", text).split())

    row = bare(doc.output.split("│ goals", 1)[-1].split("│ budget", 1)[0])
    assert bare(changed) in row and bare("1 clip (01-health-1)") in row, doc.output


def test_a_free_render_says_the_setting_changed_as_information_not_a_warning(
    tmp_path: Path,
) -> None:
    """Offline, a render with another setting did every step again without a word. It
    says status's line as information (not under --quiet: nothing is paid for again)."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import tiny_local_settings

    goals = tmp_path / "goals.yaml"
    goals.write_text(ONE_GOAL)
    settings = tiny_local_settings()
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    told: dict[str, list[str]] = {"info": [], "warn": []}

    class Keep:
        def __getattr__(self, name: str) -> Any:
            return told[name].append if name in told else (lambda *a, **k: None)

    faster = settings.model_copy(update={"output": settings.output.model_copy(update={"fps": 12})})
    asyncio.run(Pipeline(goals, faster, out=run, reporter=Keep()).run(until="plan"))
    changed = "setting changed since the last render: output.fps: 8 -> 12"
    assert changed in told["info"], told
    assert not [w for w in told["warn"] if "setting" in w or "bought again" in w], told


def test_a_render_whose_run_db_path_is_too_long_leaves_no_folder_behind(
    tmp_path: Path,
) -> None:
    """A run folder so deep that SQLite cannot open its run.db (over 504 bytes) stopped
    the render with one line saying so, but left the folders it had made for the run
    (outputs/<title>/, holding only its .lock) behind, as a render refused at its spend
    question no longer does. They go; folders that were there before stay."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from mindmovie.store import StoreError

    goals, settings = _offline(tmp_path)
    deep = tmp_path
    while len(os.fsencode(deep)) <= 480:
        deep = deep / ("d" * 100)
    deep.mkdir(parents=True)
    settings = settings.model_copy(update={"output_dir": deep / "outputs"})
    with pytest.raises(StoreError, match="its full path is"):
        asyncio.run(Pipeline(goals, settings).run(until="plan"))
    assert deep.is_dir() and list(deep.iterdir()) == []


def _without_health(goals_text: str) -> str:
    """goals_file's goals.yaml with its first goal (health) taken out: three goals, two."""
    return goals_text.replace(
        "  - category: health\n    vision: Strong and rested\n"
        "    affirmation: I am strong and rested\n",
        "",
    )


async def test_a_kept_plan_for_more_goals_than_goals_yaml_has_is_not_put_back(
    sim: SimServer, tmp_path: Path
) -> None:
    """goals.yaml and plan.yaml both put back as they were (a `git checkout` of the two)
    after a goal was removed and rendered: the render kept plan.yaml, the three goals'
    plan, as the plan of the two goals rendered last. Removing the goal again put that
    plan back: the estimate priced its scenes ($ for a clip) and the render stopped at
    once on plan.yaml ("scenes[3].goal: goal 3: goals.yaml has 2 goal(s)"), plan.yaml
    written over with it, every render after it refused the same. A kept plan these
    goals cannot render is not put back (as one that no longer loads): the plan is made
    again, and the render buys what the estimate priced."""
    from mindmovie.pipeline import Pipeline, estimate_for
    from tests.integration.support import KEYS, seedance_only

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = seedance_only(sim)
    run = tmp_path / "run"
    three = goals.read_text()
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    plan3 = (run / "plan.yaml").read_text()
    without_health = three.replace(
        "  - category: health\n    vision: Strong and rested\n"
        "    affirmation: I am strong and rested\n",
        "",
    )
    assert without_health != three
    goals.write_text(without_health)
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    goals.write_text(three)  # both files as they were
    (run / "plan.yaml").write_text(plan3)
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    goals.write_text(without_health)  # the goal removed again

    est = estimate_for(goals, settings, out=run)
    jobs = sim.stats()["totals"]["jobs_created"]
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert [sc.goal for sc in res.plan.scenes] == [1, 1, 2]
    bought = sim.stats()["totals"]["jobs_created"] - jobs
    assert bought == sum(1 for sc in est.scenes if sc.video.usd > 0)


async def test_goals_and_plan_put_back_together_keep_each_goals_plan(
    sim: SimServer, tmp_path: Path
) -> None:
    """Three goals rendered, a goal removed and rendered, the goal back and rendered;
    then goals.yaml and plan.yaml both put back to the two goals' (a `git checkout`) and
    rendered, and the three goals back once more: the render went back to the two goals'
    plan for the three goals (the health goal's scene left out of the movie, 01-career-1
    asking goal 1, now health), estimate and status saying $0.00, "reuse". The render
    with the two goals' files kept that plan.yaml as the three goals' plan; a plan.yaml
    that is the kept plan of the goals now in goals.yaml, not the last render's, is not
    kept as the last render's goals' plan."""
    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS, seedance_only

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = seedance_only(sim)
    run = tmp_path / "run"
    three = goals.read_text()
    two = _without_health(three)
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    goals.write_text(two)
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    plan2 = (run / "plan.yaml").read_text()
    goals.write_text(three)
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    goals.write_text(two)  # both files as they were
    (run / "plan.yaml").write_text(plan2)
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    goals.write_text(three)
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert [sc.id for sc in res.plan.scenes] == [
        "01-health-1", "02-career-1", "02-career-2", "03-lifestyle-1"
    ]  # fmt: skip


async def test_a_plan_yaml_of_other_goals_does_not_replace_the_paid_plan_kept(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude plans three goals, then two (a goal removed). plan.yaml put back to the
    three goals' while goals.yaml gets them back with a vision edited: the render kept
    that plan.yaml as the two goals' plan, over the one Claude was paid for. The goal
    removed again, the plan kept for them (three goals' scenes) could not be put back
    and Claude was paid again for the very request it had answered (the estimate
    pricing it)."""
    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS, settings_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim, keyframes={"provider": "local"},
                            video={"provider": "local"})  # fmt: skip
    run = tmp_path / "run"
    three = goals.read_text()
    two = _without_health(three)

    async def render(text: str) -> None:
        goals.write_text(text)
        claude_answer_for(sim, goals)
        await Pipeline(goals, settings, out=run, keys=KEYS).run()

    await render(three)
    plan3 = (run / "plan.yaml").read_text()
    await render(two)
    (run / "plan.yaml").write_text(plan3)
    await render(three.replace("vision: Living by the sea", "vision: Living by the sea daily"))
    asked = [json.dumps(r["body"], sort_keys=True) for r in sim.requests(path="/v1/messages")]
    await render(two)
    again = [json.dumps(r["body"], sort_keys=True) for r in sim.requests(path="/v1/messages")]
    assert len(set(again)) == len(again), "a plan request paid twice"
    assert again == asked


def test_edits_follow_scenes_renumbered_when_a_goal_above_is_removed(tmp_path: Path) -> None:
    """The offline preset at a tiny size, through the CLI: plan.yaml's wealth affirmation
    edited and a growth scene deleted, then the first goal removed from goals.yaml. The
    new plan's scenes are the same but for their ids and goal numbers ("02-wealth-1" is
    "01-wealth-1"), and were matched by id only: "your edits not in the new plan:
    02-wealth-1 affirmation, 03-growth-2 deleted", the affirmation reset and the deleted
    scene back. The edits follow their scenes, and the render names them so."""
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "preset: local\noutput: {size: 160x90, fps: 8}\nplan: {scene_seconds: 2}\n"
        "compose: {quality: draft, title_seconds: 1, closing_seconds: 1}\n"
    )
    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: Renumber\ngoals:\n"
        "  - {category: health, vision: Run the coastal trail at sunrise}\n"
        "  - {category: wealth, vision: Debt-free with savings}\n"
        "  - {category: growth, vision: Finish my first novel, scenes: 2}\n"
    )
    run = tmp_path / "run"
    _render(goals, cfg, run, {})
    plan_path = run / "plan.yaml"
    data = yaml.safe_load(plan_path.read_text())
    assert [s["id"] for s in data["scenes"]] == [
        "01-health-1",
        "02-wealth-1",
        "03-growth-1",
        "03-growth-2",
    ]
    data["scenes"][1]["affirmation"] = "Money flows to me easily"
    del data["scenes"][3]
    plan_path.write_text(yaml.safe_dump(data, sort_keys=False))
    _render(goals, cfg, run, {})  # the edits rendered: goals.yaml as it was
    goals.write_text(goals.read_text().replace(
        "  - {category: health, vision: Run the coastal trail at sunrise}\n", ""
    ))  # fmt: skip
    said = " ".join(_render(goals, cfg, run, {}).split())
    after = yaml.safe_load(plan_path.read_text())
    assert [(s["id"], s["affirmation"]) for s in after["scenes"]] == [
        ("01-wealth-1", "Money flows to me easily"),
        ("02-growth-1", "I finish my first novel"),
    ]
    assert (
        "your edits carried into the new plan (their part of goals.yaml did not change): "
        "02-wealth-1 affirmation (now 01-wealth-1), 03-growth-2 deleted (now 02-growth-2)"
    ) in said, said
    assert "not in the new plan" not in said, said


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "run-from-before-the-list"])
def test_a_project_whose_copy_rendered_into_its_run_finds_it_again_from_inside(
    sim: SimServer,
    relative_project: RelativeProject,
    monkeypatch: pytest.MonkeyPatch,
    listed: bool,
) -> None:
    """A copy of a project (`cp -r proj proj2`) rendered from the working folder holding
    proj's run goes on in that run (the same goals: nothing bought); the run then
    recorded proj2/goals.yaml as its goals, and proj rendered from any other folder was
    not found there: a new run, every keyframe and clip bought again. A goals.yaml that
    rendered into a run, whose plan is the one these goals make, finds it; in a run made
    before the list of them, the goals.yaml it was last rendered from is its first."""
    import asyncio
    import contextlib
    import shutil
    import sqlite3

    from mindmovie.pipeline import GOALS_SEEN_META, Pipeline
    from tests.integration.support import KEYS

    root, project, goals, settings = relative_project  # its run in proj/outputs
    if not listed:
        with contextlib.closing(sqlite3.connect(project / "outputs/sim-movie/run.db")) as db:
            db.execute("DELETE FROM meta WHERE key=?", (GOALS_SEEN_META,))
            db.commit()
    copy = root / "proj2"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("outputs"))
    before = _paid(sim)
    monkeypatch.chdir(project)
    run = asyncio.run(Pipeline(copy / "goals.yaml", settings, keys=KEYS).run()).run_dir.resolve()
    assert run == project / "outputs" / "sim-movie"
    assert _paid(sim) == before
    elsewhere = root / "home"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    reporter, warned = _warnings()
    res = asyncio.run(Pipeline(goals, settings, keys=KEYS, reporter=reporter).run())
    assert _paid(sim) == before, warned
    assert res.run_dir.resolve() == run, res.run_dir
    assert f"goals.yaml was rendered before in {project / 'outputs'}" in warned[0], warned
    assert not (elsewhere / "outputs").exists()


@pytest.mark.parametrize("title", ["kept", "changed"])
def test_a_run_folder_renamed_by_hand_is_left_as_it_is_and_its_run_goes_on_in_a_copy(
    tmp_path: Path, title: str
) -> None:
    """`mv outputs/my-year-of-becoming outputs/keep-v1` to keep a version, then a goal
    edited: the render took keep-v1 back, renamed it to the title's folder ("the title
    changed since the last render": it had not) and composed the new movie over the one
    kept. The folder is left as it is, every file of it; its run goes on in a copy at
    the title's folder, and only the edited goal's scenes are made. The same when the
    title changed too."""
    import asyncio

    from mindmovie.fsutil import sha256_file
    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    keep = first.run_dir.parent / "keep-v1"
    first.run_dir.rename(keep)

    def files() -> dict[str, str]:
        return {
            str(p.relative_to(keep)): sha256_file(p)
            for p in sorted(keep.rglob("*"))
            if p.is_file() and p.name not in (".lock", "run.db-shm", "run.db-wal")
        }

    before = files()
    text = goals.read_text()
    (line,) = [ln for ln in text.splitlines() if "vision:" in ln][:1]
    text = text.replace(line, line.replace("vision: ", "vision: Truly, "))
    home = "my-year-of-becoming"
    if title == "changed":
        text, home = text.replace("My Year of Becoming", "My Brave Year"), "my-brave-year"
    goals.write_text(text)
    reporter, warned = _warnings()
    res = asyncio.run(Pipeline(goals, settings, reporter=reporter).run(until="keyframes"))
    assert res.run_dir == tmp_path / "outputs" / home
    assert files() == before  # run.db, plan.yaml, every keyframe: as they were
    made = {sid[:2] for sid, stage in res.ran if stage == "keyframe"}
    assert made <= {"01"}, res.ran
    assert any("keep-v1 is a run folder renamed by hand" in w for w in warned), warned
    assert not any("the title changed" in w for w in warned), warned
    again = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    assert again.run_dir == res.run_dir and not [r for r in again.ran if r[1] == "keyframe"]


def test_a_board_written_over_since_the_render_drew_it_is_drawn_again(tmp_path: Path) -> None:
    """`storyboard` started during a render and overtaken by it wrote its older board
    (clips "no clip yet") after the render's; every later render, its digest of the
    board's inputs unchanged, kept that board. The files as drawn are part of what is
    compared: one written over is drawn again; one as drawn is not."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    html = first.run_dir / "storyboard.html"
    drawn = html.read_text()
    html.write_text(drawn.replace("</body>", "<p>older board</p></body>"))
    asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    assert html.read_text() == drawn
    mtime = html.stat().st_mtime_ns
    asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    assert html.stat().st_mtime_ns == mtime  # not drawn again: nothing changed


def test_status_names_the_plan_yaml_edits_the_plan_put_back_lacks(tmp_path: Path) -> None:
    """A goal's vision edited and rendered (a new plan; the old one kept), a scene of an
    unchanged goal then edited in plan.yaml, then the goals edit undone: the render puts
    the old plan back and names the edit it lacks ("your edits not in the plan put back:
    01-health-1 affirmation"), but `status` before it said only that it goes back to the
    old plan. It names the edit too."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from mindmovie.status import collect_status

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="plan"))
    text = goals.read_text()
    (line,) = [ln for ln in text.splitlines() if "vision:" in ln][1:2]
    goals.write_text(text.replace(line, line.replace("vision: ", "vision: Truly, ")))
    asyncio.run(Pipeline(goals, settings).run(until="plan"))
    plan_path = first.run_dir / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    scene = plan["scenes"][0]
    assert scene["goal"] == 1
    scene["affirmation"] = "I fly along the trail"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    goals.write_text(text)  # the goals edit undone
    inputs = collect_status(first.run_dir, settings=settings, goals=goals)["inputs"]
    assert inputs["plan_kept"] is True
    assert inputs["plan_kept_lacks"] == [f"{scene['id']} affirmation"], inputs
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"output_dir: {tmp_path / 'outputs'}\noutput: {{size: 160x90, fps: 8}}\n"
        "plan: {scene_seconds: 2}\n"
    )
    args = ["status", str(first.run_dir), "-c", str(cfg), "--goals", str(goals)]
    said = " ".join(CliRunner().invoke(app, args, env={"COLUMNS": "200"}).output.split())
    assert f"plan.previous.yaml; your edits not in it: {scene['id']} affirmation" in said, said
    reporter, warned = _warnings()
    asyncio.run(Pipeline(goals, settings, reporter=reporter).run(until="plan"))
    assert any(f"not in the plan put back: {scene['id']} affirmation" in w for w in warned)


def test_a_render_with_nothing_to_redo_runs_no_ffmpeg_on_its_clips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the compositor needs to know of each clip (its sound, colour matrix, HDR) is
    recorded in run.db under the clip's sha256: a render with nothing to redo probed every
    clip with ffmpeg again (~3.3 s of ~4.9 s at 180 scenes). A record damaged by hand is
    read again from the clip, and the movie still reused."""
    import asyncio

    from mindmovie import media
    from mindmovie.pipeline import CLIP_FACTS_META, Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run())
    probed: list[Path] = []
    real_probe = media.probe

    def counted(path: Path, **kw: Any) -> Any:
        probed.append(path)
        return real_probe(path, **kw)

    monkeypatch.setattr(media, "probe", counted)
    media._CLIP_FACTS.clear()  # a new process: it remembers none
    again = asyncio.run(Pipeline(goals, settings).run())
    assert again.ran == [] and ("_movie", "movie") in again.reused
    assert not [p for p in probed if p.name == "clip.mp4"]
    store = Store(first.run_dir / "run.db")
    facts = store.meta_with_prefix(CLIP_FACTS_META)
    assert len(facts) == len(first.plan.scenes)
    shas = sorted(facts)
    store.set_meta(CLIP_FACTS_META + shas[0], "x")
    # well formed, but a matrix no clip is read with (it went into the compose's filters:
    # every compose failed, as ffmpeg's "Unable to parse"), and another version's
    store.set_meta(CLIP_FACTS_META + shas[1], '{"v": 1, "facts": [false, "bogus", ""]}')
    older = {"v": 0, "facts": json.loads(facts[shas[2]])["facts"]}
    store.set_meta(CLIP_FACTS_META + shas[2], json.dumps(older))
    # (an HDR transfer of another type: a TypeError out of the render)
    store.set_meta(CLIP_FACTS_META + shas[3], '{"v": 1, "facts": [true, "bt709", []]}')
    store.close()
    mtime = (first.run_dir / "movie.mp4").stat().st_mtime_ns
    asyncio.run(Pipeline(goals, settings).run())
    assert len([p for p in probed if p.name == "clip.mp4"]) == 4
    assert (first.run_dir / "movie.mp4").stat().st_mtime_ns == mtime


def test_a_fresh_render_that_meets_the_open_files_limit_puts_the_old_run_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`render --fresh` whose look at the run it set aside met the open files limit
    (`ulimit -n 16`) warned that run's clip jobs in flight "could not be carried" and
    went on without them: paid clips left unpolled in previous/. It stops there, before
    the fresh run is agreed to for good; the next render puts the old run back whole."""
    import asyncio
    import errno

    from mindmovie.pipeline import DiskFull, Pipeline

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    limited = Pipeline(goals, settings)

    real = Store.take_receipts

    def out_of_files(self: Store) -> Any:  # the set-aside run.db's receipts
        if self.root.parent.name == "previous":
            raise OSError(errno.EMFILE, "Too many open files")
        return real(self)

    monkeypatch.setattr(Store, "take_receipts", out_of_files)
    with pytest.raises(DiskFull, match="too many files open"):
        asyncio.run(limited.run(until="keyframes", fresh=True))
    monkeypatch.undo()
    again = asyncio.run(Pipeline(goals, settings).run(until="keyframes"))
    assert again.run_dir == first.run_dir and again.ran == []
    assert not (first.run_dir / "previous").exists() or not any(
        (first.run_dir / "previous").iterdir()
    )


def test_settings_the_local_providers_ignore_make_nothing_again(tmp_path: Path) -> None:
    """video.audio and the stages' options are said to be ignored by the local
    providers, and were: the keyframes and clips made again came out the same bytes.
    But each such setting turned on, changed or off made every free keyframe and clip
    again (13 s for the example). Nothing is made again for them."""
    import asyncio

    from mindmovie.pipeline import Pipeline

    goals, settings = _offline(tmp_path)
    asyncio.run(Pipeline(goals, settings).run(until="clips"))
    for change in (
        {"video": {"audio": True}},
        {"video": {"audio": True, "options": {"foo": 1}}, "keyframes": {"options": {"x": 2}}},
        {"video": {"options": {"foo": 2}}},
    ):
        changed = settings.model_copy(
            update={
                stage: getattr(settings, stage).model_copy(update=fields)
                for stage, fields in change.items()
            }
        )
        again = asyncio.run(Pipeline(goals, changed).run(until="clips"))
        assert again.ran == [], (change, again.ran)


def test_status_says_a_clip_that_is_a_folder_is_one(tmp_path: Path) -> None:
    """A clip.mp4 that is a folder (which the render refuses, naming it) was said
    "clip.mp4 missing" by status, as if the next render would simply make it."""
    import asyncio

    from mindmovie.pipeline import Pipeline
    from mindmovie.status import collect_status

    goals, settings = _offline(tmp_path)
    first = asyncio.run(Pipeline(goals, settings).run(until="clips"))
    scene = first.plan.scenes[0].id
    clip = first.run_dir / "scenes" / scene / "clip.mp4"
    clip.unlink()
    clip.mkdir()
    (row,) = [r for r in collect_status(first.run_dir)["scenes"] if r["scene_id"] == scene]
    assert row["files"]["clip"] == "is a folder", row


def test_a_plan_not_recorded_is_not_said_to_be_a_goals_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan.yaml written and run.db unable to record it (a full disk): the next render
    planned again saying "goals.yaml or the plan settings changed since the last plan",
    of goals no one had touched (the basis is recorded only with a finished plan). It
    says the last plan did not finish."""
    import asyncio
    import sqlite3

    from mindmovie.pipeline import Pipeline
    from mindmovie.store import Store
    from tests.integration.support import warnings_reporter

    goals, settings = _offline(tmp_path)
    real = Store.succeed

    def full(self: Store, scene_id: str, stage: str, *args: Any, **kwargs: Any) -> None:
        if stage == "plan":
            raise sqlite3.OperationalError("database or disk is full")
        real(self, scene_id, stage, *args, **kwargs)

    monkeypatch.setattr(Store, "succeed", full)
    with pytest.raises(Exception, match="no space left"):
        asyncio.run(Pipeline(goals, settings).run(until="plan"))
    monkeypatch.undo()
    reporter, warned = warnings_reporter()
    res = asyncio.run(Pipeline(goals, settings, reporter=reporter).run(until="plan"))
    assert (res.run_dir / "plan.previous.yaml").is_file()  # (plan.yaml was written)
    (said,) = [w for w in warned if "plan.previous.yaml" in w]
    assert said.startswith("the last plan did not finish: planning again"), warned


def test_a_full_disk_stops_scenes_it_does_not_fail_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run.db refused for a full disk: a clip just said done was then said "failed -
    database or disk is full" (its note for status, written after it was journaled), and
    a scene whose keyframe was said done failed so when its clip's step could not begin.
    The note is best-effort (the next render writes it again); a scene the disk stopped is
    said stopped by it, the render's one line says which disk."""
    import asyncio
    import sqlite3

    from mindmovie.pipeline import DiskFull, Pipeline
    from mindmovie.progress import NullReporter
    from mindmovie.store import Store

    goals, settings = _offline(tmp_path)
    steps: list[tuple[str, str, str, str]] = []

    class Steps(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            steps.append((stage, scene_id, state, note))

    full = sqlite3.OperationalError("database or disk is full")
    real_set, real_begin = Store.set_meta, Store.begin

    def set_meta(self: Store, key: str, value: str) -> None:
        if key.startswith("rendered_scene:"):
            raise full
        real_set(self, key, value)

    monkeypatch.setattr(Store, "set_meta", set_meta)
    res = asyncio.run(Pipeline(goals, settings, reporter=Steps()).run(until="clips"))
    assert not res.failed and len(res.ran) == 2 * len(res.plan.scenes), res.failed
    assert not [s for s in steps if s[2] == "failed"], steps

    def begin(self: Store, scene_id: str, stage: str, *args: Any, **kwargs: Any) -> Any:
        if stage == "clip":
            raise full
        return real_begin(self, scene_id, stage, *args, **kwargs)

    monkeypatch.setattr(Store, "begin", begin)
    steps.clear()
    goals.write_text(goals.read_text().replace("money working for me", "money that works"))
    with pytest.raises(DiskFull, match="no space left on the disk"):
        asyncio.run(Pipeline(goals, settings, reporter=Steps()).run(until="clips"))
    stopped = [s for s in steps if s[2] == "stopped"]
    assert stopped and all(s[3] == "the disk is full" for s in stopped), steps
    assert not [s for s in steps if s[2] == "failed"], steps
