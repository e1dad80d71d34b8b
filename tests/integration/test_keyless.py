"""A render that calls no provider needs no key.

A run fully made (plan, keyframes and clips reused) whose affirmation was edited in
plan.yaml, or that is rendered again to recompose, calls no provider; it was refused for
keys it never sends (moved to another machine with the run folder, a key expired). These
render the paid presets through the real SDKs against the simulator with the keys, then
again with none set: nothing is sent, and a render that does need a provider is still
refused with the usual message before anything is sent or billed (`Pipeline.
_providers_needed`, `_keyless_spare`; `registry.Keyless` the net under it).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from mindmovie.cli import app
from mindmovie.config import KEY_VARIABLES, ConfigError, Keys, load_settings
from mindmovie.pipeline import Pipeline, _identity
from mindmovie.providers import registry
from mindmovie.providers.base import VideoRequest
from mindmovie.store import Store, _snapshot
from tests import mindmovie_fork
from tests.integration.made_once import once, once_root
from tests.integration.support import (
    KEYS,
    claude_answer_for,
    goals_file,
    preset_config,
    settings_for,
)
from tests.sim import media
from tests.sim.server import SimServer

#: every variable a provider's key is read from
KEY_VARS = tuple(v for names in KEY_VARIABLES.values() for v in names)
WITH_KEYS = {"ANTHROPIC_API_KEY": "sk-ant", "ARK_API_KEY": "ark", "GEMINI_API_KEY": "g"}


@pytest.fixture
def no_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No key in the environment, and no ./.env to supply one (`config.process_env`)."""
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / ".env").exists()
    assert Keys.from_env() == Keys()


def _render(goals: Path, cfg: Path, run: Path, env: dict[str, str]) -> Any:
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes"]
    return CliRunner().invoke(app, args, env=env)


def _made(
    sim: SimServer, tmp_path: Path, preset: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path]:
    """A run of `preset` rendered to its movie with the keys: (goals, config, run). The
    simulator tints each image by its arrival (it tints by seed, which every scene
    shares): a keyframe bought again is another image, and its clip is bought again."""
    png, order = media.png, itertools.count()
    monkeypatch.setattr(media, "png", lambda w, h, variant=0: png(w, h, next(order)))
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, preset)
    run = tmp_path / "run"
    r = _render(goals, cfg, run, WITH_KEYS)
    assert r.exit_code == 0, r.output
    assert (run / "movie.mp4").is_file()
    return goals, cfg, run


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The folders `once` made for this module's tests in this process."""
    return once_root(tmp_path_factory)


MadeRun = Callable[[str], tuple[Path, Path, Path]]

#: the count `made_run`'s drawing of the simulator's images tints by, and that drawing
_ORDER: dict[str, itertools.count[int]] = {"n": itertools.count()}
_REAL_PNG = media.png

#: how many images the simulator drew in `made_run`'s render of each preset, made once
#: in this process (`once`)
_DRAWN: dict[str, int] = {}


@pytest.fixture
def made_run(
    made: dict[str, Path], sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MadeRun]:
    """`_made`, its render made once in this process and copied for each test (`once`):
    (goals, config, run), the simulator holding that render's jobs and results with
    nothing counted yet. Each image drawn later is tinted by its arrival after those of
    that render, as when each test rendered its own."""
    # (a module-level counter: the render made once keeps its image files as calls of
    # the drawing patched in the test that made it, and a later test fetching one again
    # draws it by that test's own count)
    order = _ORDER
    order["n"] = itertools.count()
    png = _REAL_PNG
    monkeypatch.setattr(media, "png", lambda w, h, variant=0: png(w, h, next(order["n"])))
    homes: list[Path] = []

    def made_for(preset: str) -> tuple[Path, Path, Path]:
        def make(home: Path) -> None:
            goals = goals_file(home, sim)
            cfg = preset_config(home, sim, preset)
            r = _render(goals, cfg, home / "run", WITH_KEYS)
            assert r.exit_code == 0, r.output
            assert (home / "run" / "movie.mp4").is_file()
            _DRAWN[preset] = next(order["n"])

        home = once(made, sim, f"made-{preset}", make)
        homes.append(home)
        order["n"] = itertools.count(_DRAWN[preset])
        claude_answer_for(sim, home / "goals.yaml")
        return home / "goals.yaml", home / f"{preset}.yaml", home / "run"

    yield made_for
    for home in homes:
        shutil.rmtree(home, ignore_errors=True)


def _edit_scene(run: Path, field: str, text: str, index: int = 0) -> str:
    """Edit one scene's `field` in plan.yaml, as a person does: its scene id."""
    path = run / "plan.yaml"
    data = yaml.safe_load(path.read_text())
    data["scenes"][index][field] = text
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return str(data["scenes"][index]["id"])


def _steps(run: Path) -> dict[tuple[str, str], tuple[str, int, str | None]]:
    """Each keyframe and clip step: (status, attempts, input key)."""
    store = Store(run / "run.db", read_only=True)
    try:
        return {
            (st.scene_id, st.stage): (st.status, st.attempts, st.input_key)
            for st in store.steps()
            if st.stage in ("keyframe", "clip", "plan")
        }
    finally:
        store.close()


def _ledger(run: Path) -> list[tuple[Any, ...]]:
    store = Store(run / "run.db", read_only=True)
    try:
        return [(r["id"], r["stage"], r["scene_id"], r["state"]) for r in store.ledger_rows()]
    finally:
        store.close()


def _key_lines(cfg: Path, run: Path) -> dict[str, tuple[bool, str]]:
    """`status`'s word on each key not set: variable -> (needed in --json, what its line
    says the next render does). It said "refuses to start until it is set" of a run
    whose next render only recomposes (`outlook_for`)."""
    args = ["status", str(run), "-c", str(cfg)]
    shown = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert shown.exit_code == 0, shown.output
    as_json = CliRunner().invoke(app, [*args, "--json"])
    assert as_json.exit_code == 0, as_json.output
    needed = {k["variable"]: k["needed"] for k in json.loads(as_json.output)["missing_keys"]}
    said = {}
    for line in shown.output.splitlines():
        if line.startswith("key: "):
            var = line.split()[1]
            said[var] = (needed.pop(var), line.rsplit("; ", 1)[1])
    assert not needed, needed  # each key of the JSON has its line
    return {var: (need, text.split(" (")[0].split(",")[0]) for var, (need, text) in said.items()}


def _journal(run: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of run.db, read without writing (`store._snapshot`)."""
    con = _snapshot(run / "run.db")
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(map(tuple, con.execute(f"SELECT * FROM {n}")), key=repr) for n in names}
    finally:
        con.close()


def _changed(
    was: dict[str, list[tuple[Any, ...]]], now: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    """What `_journal` says changed: the tables, and each meta key by name."""
    out = [t for t in sorted({*was, *now}) if t != "meta" and was.get(t) != now.get(t)]
    meta_was, meta_now = dict(was.get("meta", [])), dict(now.get("meta", []))
    out += [
        f"meta {k}" for k in sorted({*meta_was, *meta_now}) if meta_was.get(k) != meta_now.get(k)
    ]
    return out


def _bought_with_keys(sim: SimServer, goals: Path, cfg: Path, run: Path) -> tuple[int, int]:
    """`render` with the keys, to its movie: the (images, clip jobs) it bought."""
    before = sim.stats()["totals"]
    r = _render(goals, cfg, run, WITH_KEYS)
    assert r.exit_code == 0, r.output
    after = sim.stats()["totals"]
    return after["images"] - before["images"], after["jobs_created"] - before["jobs_created"]


def _movie_key(run: Path) -> str | None:
    store = Store(run / "run.db", read_only=True)
    try:
        st = store.get("_movie", "movie")
        return None if st is None else st.input_key
    finally:
        store.close()


@pytest.mark.parametrize("preset", ["byteplus", "google"])
def test_an_affirmation_edited_renders_again_with_no_key_set(
    preset: str, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_run: MadeRun
) -> None:
    goals, cfg, run = made_run(preset)
    steps, ledger, movie_key = _steps(run), _ledger(run), _movie_key(run)
    movie = (run / "movie.mp4").read_bytes()
    _edit_scene(run, "affirmation", "I am calm and brave")
    sent = len(sim.requests())
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.env supplies one
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 0, r.output
    assert "API_KEY" not in r.output, r.output
    assert len(sim.requests()) == sent  # nothing sent: no poll, no plan, no image, no job
    assert _steps(run) == steps and _ledger(run) == ledger  # nothing made or billed again
    # the movie is composed anew, with the new text (the movie's key holds each scene's)
    assert _movie_key(run) != movie_key
    assert (run / "movie.mp4").read_bytes() != movie
    assert "I am calm and brave" in (run / "storyboard.html").read_text()
    # and again, with nothing changed: free, no key
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 0, r.output
    assert len(sim.requests()) == sent


def test_a_render_that_needs_a_provider_is_refused_with_its_key_named_and_resumes(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_keys: None,
    made_run: MadeRun,
) -> None:
    """An image_prompt edited: that scene's keyframe and clip are bought again, so the
    byteplus key is needed, and named (the planner's is not: its plan is reused); nothing
    is sent or billed. Once the key is set, the render goes on from where the run was."""
    goals, cfg, run = made_run("byteplus")
    steps, ledger = _steps(run), _ledger(run)
    # status says what the next render asks for: nothing yet, so neither key
    assert _key_lines(cfg, run) == {
        "ANTHROPIC_API_KEY": (False, "the next render calls none of them"),
        "ARK_API_KEY": (False, "the next render calls none of them"),
    }
    edited = _edit_scene(run, "image_prompt", "a lighthouse at dawn, cinematic")
    assert _key_lines(cfg, run) == {
        "ANTHROPIC_API_KEY": (False, "the next render calls none of them"),
        "ARK_API_KEY": (True, "the next render refuses to start until it is set"),
    }
    sent = len(sim.requests())
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 2, r.output
    assert "ARK_API_KEY (or BYTEPLUS_API_KEY) is not set" in r.output, r.output
    assert "ANTHROPIC_API_KEY" not in r.output, r.output  # the plan is reused: not needed
    assert len(sim.requests()) == sent
    assert _steps(run) == steps and _ledger(run) == ledger
    # a clip gone is a clip to buy: the key is needed
    (run / "scenes" / edited / "clip.mp4").unlink()
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 2 and "ARK_API_KEY" in r.output, r.output
    assert len(sim.requests()) == sent
    # with the key: only the edited scene is bought again, the others reused as they were
    assert _bought_with_keys(sim, goals, cfg, run) == (1, 1)
    after = _steps(run)
    for (sid, stage), was in steps.items():
        if sid not in (edited, "_run"):
            assert after[(sid, stage)] == was, (sid, stage)
    assert after[(edited, "keyframe")][0] == after[(edited, "clip")][0] == "succeeded"


def test_the_need_found_after_the_check_stops_the_render_before_any_call(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_keys: None,
    made_run: MadeRun,
) -> None:
    """plan.yaml edited between the read before the lock and the render under it (the
    read's answer stale): the render stops under the lock with the key's message, once,
    before anything is sent, written or billed."""
    goals, cfg, run = made_run("byteplus")
    steps, ledger = _steps(run), _ledger(run)
    sent = len(sim.requests())
    lock = Pipeline._lock_run_dir

    def edit_once_locked(self: Pipeline, held: Any) -> None:
        lock(self, held)
        if not (run / "edited").exists():
            (run / "edited").touch()
            _edit_scene(run, "image_prompt", "a lighthouse at dawn, cinematic", index=1)

    monkeypatch.setattr(Pipeline, "_lock_run_dir", edit_once_locked)
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 2, r.output
    assert r.output.count("ARK_API_KEY (or BYTEPLUS_API_KEY) is not set") == 1, r.output
    assert len(sim.requests()) == sent
    assert _steps(run) == steps and _ledger(run) == ledger
    monkeypatch.setattr(Pipeline, "_lock_run_dir", lock)
    assert _bought_with_keys(sim, goals, cfg, run) == (1, 1)


def test_the_placeholder_refuses_every_call_before_anything_is_paid(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_keys: None,
    made_run: MadeRun,
) -> None:
    """The net under the check: told wrongly that no provider is needed (both before and
    under the lock), the render meets the placeholder at the first paid call, which it
    refuses before a ledger row is made: one message for the render, not one a scene;
    nothing sent or billed, no finished step touched; resumed with the key, the scenes
    are bought once each."""
    goals, cfg, run = made_run("byteplus")
    steps, ledger = _steps(run), _ledger(run)
    edited = {
        _edit_scene(run, "image_prompt", "a lighthouse at dawn, cinematic", index=0),
        _edit_scene(run, "image_prompt", "a harbour at noon, cinematic", index=2),
    }
    sent = len(sim.requests())
    needed_in = Pipeline._needed_in
    monkeypatch.setattr(Pipeline, "_needed_in", lambda self, store: set())
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 2, r.output
    assert r.output.count("ARK_API_KEY (or BYTEPLUS_API_KEY) is not set") == 1, r.output
    assert len(sim.requests()) == sent
    assert _ledger(run) == ledger
    after = _steps(run)
    for (sid, stage), was in steps.items():
        if sid not in edited:
            assert after[(sid, stage)] == was, (sid, stage)
    monkeypatch.setattr(Pipeline, "_needed_in", needed_in)
    assert _bought_with_keys(sim, goals, cfg, run) == (2, 2)


@pytest.mark.parametrize(
    ("field", "stage"), [("image_prompt", "keyframe"), ("motion_prompt", "clip")]
)
def test_a_try_the_placeholder_refused_is_not_counted(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_keys: None,
    field: str,
    stage: str,
    made_run: MadeRun,
) -> None:
    """The placeholder's refusal (`KeyNotSet`, at the gate: nothing sent) escaped the
    step's own failure handling: the edited scene's keyframe or clip was left
    "running" and counted a try at each render (status --json attempts 1, then 2). It
    is failed as not sent: attempts 0."""
    from mindmovie.status import collect_status

    goals, cfg, run = made_run("byteplus")
    sid = _edit_scene(run, field, "a lighthouse at dawn, cinematic")
    monkeypatch.setattr(Pipeline, "_needed_in", lambda self, store: set())
    sent = len(sim.requests())
    for _ in range(2):
        r = _render(goals, cfg, run, {})
        assert r.exit_code == 2, r.output
    assert len(sim.requests()) == sent
    step = next(
        s for s in collect_status(run)["steps"] if (s["scene_id"], s["stage"]) == (sid, stage)
    )
    assert (step["status"], step["attempts"]) == ("failed", 0), step


async def test_the_placeholder_raises_the_key_check_s_own_error(
    sim: SimServer, tmp_path: Path
) -> None:
    """Each call of a `Keyless`, and the origin of its provider's jobs (which without
    the key would differ from every job's: kept aside, bought again), raise the message
    building the provider gave; it has the real class's shape."""
    goals = goals_file(tmp_path, sim)
    settings = load_settings(overrides={"preset": "byteplus"}, env={})
    with pytest.raises(ConfigError) as built:
        registry.make_video(settings, Keys())
    pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=Keys())
    model = pipe._make("video", settings, {"byteplus"})
    assert isinstance(model, registry.Keyless)
    assert (model.name, model.model) == ("byteplus", _identity(settings, "video").model)
    assert hasattr(model, "find_pending") and not hasattr(model, "no_such_method")
    req = VideoRequest("s1", "p", tmp_path / "k.png", 4, 320, 180, 12, 1)
    for call in (model.submit(req), model.poll("job-1")):
        with pytest.raises(registry.KeyNotSet) as e:
            await call
        assert str(e.value) == str(built.value)
    with pytest.raises(registry.KeyNotSet):
        pipe._origin("byteplus", "00")
    await model.aclose()  # nothing to close


def test_a_job_still_to_settle_needs_the_key_though_every_clip_is_reused(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_run: MadeRun
) -> None:
    """A clip job in flight that no scene uses any more (a motion_prompt edited, the
    render killed while it polled, the edit undone: the old clip comes back from kept/)
    is polled and settled by the next render: the key is needed, though every step is
    reused. Refused with nothing sent; with the key, the job is settled, not made again."""
    goals, cfg, run = made_run("byteplus")
    plan_text = (run / "plan.yaml").read_text()
    _edit_scene(run, "motion_prompt", "the camera rises slowly over the sea")
    drop = ("MINDMOVIE_", "ANTHROPIC_", "ARK_", "GEMINI_", "GOOGLE_", "BYTEPLUS_")
    bare = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"]
    sim.min_polls = 2  # the first poll sees the job running: killed mid-job
    env = {**bare, **WITH_KEYS, "MINDMOVIE_KILL_AT": "poll"}
    r = mindmovie_fork.run(args, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == -signal.SIGKILL, (r.stdout, r.stderr)
    jobs = sim.stats()["totals"]["jobs_created"]
    assert jobs == 1  # the edited scene's new job, in flight (`once`: none counted before)
    (run / "plan.yaml").write_text(plan_text)  # the edit undone
    steps, ledger, sent = _steps(run), _ledger(run), len(sim.requests())
    assert any(row[3] == "committed" for row in ledger), ledger
    r = mindmovie_fork.run(args, env=bare, cwd=tmp_path, timeout=120)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("error: ARK_API_KEY (or BYTEPLUS_API_KEY) is not set"), r.stderr
    assert len(sim.requests()) == sent  # not even a poll
    assert _steps(run) == steps and _ledger(run) == ledger
    r = mindmovie_fork.run(args, env={**bare, **WITH_KEYS}, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert sim.stats()["totals"]["jobs_created"] == jobs  # settled, not made again
    assert all(row[3] != "committed" for row in _ledger(run)), _ledger(run)


def test_a_refunded_lost_request_still_looked_for_needs_the_key(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip create whose answer was lost, refunded once its grace was over with no job
    listed, is looked for in the provider's job list by every render for a day
    (`_find_jobs_made_after_refund`): the render calls the provider though every step is
    reused. status said the key was not needed, and the render, spared the key, was
    refused by the placeholder at that look, after it had counted a run in run.db."""
    from mindmovie import pipeline

    monkeypatch.setattr(pipeline, "LATE_JOB_GRACE", 1.0)
    sim.add_fault("drop", path="/contents/generations/tasks", method="POST", count=1)
    goals, cfg, run = _made(sim, tmp_path, "byteplus", monkeypatch)
    lost = [r for r in _ledger(run) if r[1] == "clip" and r[3] == "refunded"]
    assert len(lost) == 1, _ledger(run)  # the lost create, refunded; its clip bought again
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.env supplies one
    said = _key_lines(cfg, run)["ARK_API_KEY"]
    journal = _journal(run)
    sent = len(sim.requests())
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 2, r.output
    assert "ARK_API_KEY (or BYTEPLUS_API_KEY) is not set" in r.output, r.output
    assert len(sim.requests()) == sent
    assert not _changed(journal, _journal(run))  # nothing written
    assert said == (True, "the next render refuses to start until it is set")
    # with the key: looked for (no job came of it), nothing bought again
    creates = len(sim.requests(path="/contents/generations/tasks", method="POST"))
    r = _render(goals, cfg, run, WITH_KEYS)
    assert r.exit_code == 0, r.output
    assert len(sim.requests(path="/contents/generations/tasks", method="POST")) == creates
    assert len(sim.requests()) > sent  # the job list was read


def test_a_veo_create_killed_unjournaled_needs_no_key_to_recompose(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render killed just after a Veo operation was made, its name not yet journaled
    (`submit`): the next render (with the key) leaves that create's row committed with
    an unknown outcome, as Veo lists no operations, and buys the clip again. No render
    ever asks Veo about that row again (`_recover_orphans`), as for a planner or image
    call of unknown outcome; yet `_needed_in` took it for a job to settle: a keyless
    render that only recomposes (an affirmation edited) was refused for GOOGLE_API_KEY,
    and status said the next render refuses to start until it is set. (Found by the
    google preset's kill loop.)"""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, "google")
    run = tmp_path / "run"
    drop = ("MINDMOVIE_", "ANTHROPIC_", "ARK_", "GEMINI_", "GOOGLE_", "BYTEPLUS_")
    bare = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"]
    env = {**bare, **WITH_KEYS, "MINDMOVIE_KILL_AT": "submit"}
    r = mindmovie_fork.run(args, env=env, cwd=tmp_path, timeout=120)
    assert r.returncode == -signal.SIGKILL, (r.stdout, r.stderr)
    r = mindmovie_fork.run(args, env={**bare, **WITH_KEYS}, cwd=tmp_path, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    unknown = [row for row in _ledger(run) if row[1] == "clip" and row[3] == "committed"]
    assert len(unknown) == 1, _ledger(run)  # the killed create: outcome unknown, kept
    assert sim.stats()["totals"]["jobs_created"] == 5  # its clip bought again, as said
    text = "I am calm and brave"
    _edit_scene(run, "affirmation", text)
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.env supplies one
    said = _key_lines(cfg, run)
    assert said["GOOGLE_API_KEY"][0] is False, said
    steps, ledger, sent = _steps(run), _ledger(run), len(sim.requests())
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 0, r.output
    assert "API_KEY" not in r.output, r.output
    assert len(sim.requests()) == sent  # nothing sent to Veo, Gemini or Claude
    assert _steps(run) == steps and _ledger(run) == ledger  # the row still unknown
    assert text in (run / "storyboard.html").read_text()


async def test_a_pipeline_run_again_with_the_key_set_since_uses_it(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_keys: None
) -> None:
    """One Pipeline run twice (as `run` allows: its providers are built again each time),
    keys read from the environment: first with none set, every step reused (spared: a
    placeholder for each), then with the keys set and an image_prompt edited. The
    second run's key check went by the first run's placeholders: refused with
    "ARK_API_KEY (or BYTEPLUS_API_KEY) is not set" while it was set."""
    png, order = media.png, itertools.count()
    monkeypatch.setattr(media, "png", lambda w, h, variant=0: png(w, h, next(order)))
    sim.media_scale = 0.25
    goals, run = goals_file(tmp_path, sim), tmp_path / "run"
    settings = settings_for("byteplus", sim)
    made = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert made.movie is not None
    pipe = Pipeline(goals, settings, out=run)  # keys from the environment, at each run
    sent = len(sim.requests())
    res = await pipe.run()
    assert res.movie is not None and len(sim.requests()) == sent  # free: no key asked
    _edit_scene(run, "image_prompt", "a lighthouse at dawn, cinematic")
    for var, value in WITH_KEYS.items():
        monkeypatch.setenv(var, value)
    images, jobs = sim.stats()["totals"]["images"], sim.stats()["totals"]["jobs_created"]
    res = await pipe.run()
    assert res.movie is not None
    totals = sim.stats()["totals"]
    assert (totals["images"], totals["jobs_created"]) == (images + 1, jobs + 1)


def _killed_at_restore_with_no_key(goals: Path, cfg: Path, run: Path) -> Any:
    """`render` with no key set, in its own process, SIGKILLed as it puts a kept result
    back (`restore`: the file in place, its step not yet done). Returns the same render
    with no key and no kill, to run next."""
    drop = ("MINDMOVIE_", "ANTHROPIC_", "ARK_", "GEMINI_", "GOOGLE_", "BYTEPLUS_")
    bare = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"]
    cwd = run.parent
    r = mindmovie_fork.run(args, env={**bare, "MINDMOVIE_KILL_AT": "restore"}, cwd=cwd, timeout=120)
    assert r.returncode == -signal.SIGKILL, (r.stdout, r.stderr)
    return lambda: mindmovie_fork.run(args, env=bare, cwd=cwd, timeout=120)


def test_a_render_with_no_key_killed_while_it_put_a_kept_clip_back_renders_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_run: MadeRun
) -> None:
    """An edit undone brings the old clip back from kept/, with no call: a render with no
    key set does it. Killed once the clip is in place and before its step says so (the
    step begun for its inputs), the next render with no key set puts it back again."""
    goals, cfg, run = made_run("byteplus")
    plan_text, made = (run / "plan.yaml").read_text(), _steps(run)
    edited = _edit_scene(run, "motion_prompt", "the camera rises slowly over the sea")
    assert _render(goals, cfg, run, WITH_KEYS).exit_code == 0  # a new clip; the old kept
    (run / "plan.yaml").write_text(plan_text)  # the edit undone
    ledger, sent = _ledger(run), len(sim.requests())
    again = _killed_at_restore_with_no_key(goals, cfg, run)
    r = again()
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert len(sim.requests()) == sent and _ledger(run) == ledger
    status, _, key = _steps(run)[(edited, "clip")]
    assert (status, key) == ("succeeded", made[(edited, "clip")][2])  # the old clip, back


def _a_clip_refused(sim: SimServer, goals: Path, cfg: Path, run: Path) -> str:
    """The fourth scene's motion_prompt edited and its new clip refused by the content
    filter (both tries: no job), with the keys: its step failed. Its scene id."""
    failed = _edit_scene(run, "motion_prompt", "a fight on the pier", index=3)
    refused = {"status": 400, "code": "InputTextSensitiveContentDetected", "message": "no"}
    sim.add_fault("http", path="/contents/generations/tasks", method="POST", count=2, **refused)
    r = _render(goals, cfg, run, WITH_KEYS)
    assert r.exit_code == 1 and failed in r.output, r.output
    assert _steps(run)[(failed, "clip")][0] == "failed"
    return failed


def test_a_failed_scene_taken_out_of_the_plan_needs_no_key(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_run: MadeRun
) -> None:
    """A scene whose clip the content filter refused (both tries: failed, no job) taken
    out of plan.yaml to make the movie without it: the render calls nothing for it (its
    step is no scene's any more), so the movie is composed with no key set."""
    goals, cfg, run = made_run("byteplus")
    gone = _a_clip_refused(sim, goals, cfg, run)
    data = yaml.safe_load((run / "plan.yaml").read_text())
    data["scenes"] = [sc for sc in data["scenes"] if sc["id"] != gone]
    (run / "plan.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.env supplies one
    sent, ledger, failed = len(sim.requests()), _ledger(run), _steps(run)[(gone, "clip")]
    assert _key_lines(cfg, run)["ARK_API_KEY"][0] is False
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 0 and "movie:" in r.output, r.output
    assert len(sim.requests()) == sent and _ledger(run) == ledger
    assert _steps(run)[(gone, "clip")] == failed  # left as it was, attempts and all


def test_a_render_with_no_key_killed_while_it_put_the_kept_plan_back_renders_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_run: MadeRun
) -> None:
    """goals.yaml edited (a new plan bought, the old one kept) and then put back: the
    render puts the kept plan back with no call, and needs no key. Killed once plan.yaml
    is in place and before its step says so, the next render with no key set puts it
    back again."""
    goals, cfg, run = made_run("byteplus")
    text, made = goals.read_text(), _steps(run)
    goals.write_text(text.replace("Living by the sea", "Living by the sea, in Lisbon"))
    assert _render(goals, cfg, run, WITH_KEYS).exit_code == 0  # a new plan; the old kept
    goals.write_text(text)  # the edit undone
    ledger, sent = _ledger(run), len(sim.requests())
    again = _killed_at_restore_with_no_key(goals, cfg, run)
    assert _steps(run)[("_run", "plan")][0] == "running"
    r = again()
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert len(sim.requests()) == sent and _ledger(run) == ledger
    status, _, key = _steps(run)[("_run", "plan")]
    assert (status, key) == ("succeeded", made[("_run", "plan")][2])  # the old plan, back


def test_a_failed_clip_needs_no_key_for_a_render_that_stops_before_the_clips(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_run: MadeRun
) -> None:
    """A scene whose clip failed (the content filter refused both tries: no job): `plan`
    and `render --until keyframes` call nothing for it, and need no key; they were
    refused "ARK_API_KEY ... needs it for keyframes" (the failed clip step counted
    whatever the render's --until). The render that makes the clips still needs it."""
    goals, cfg, run = made_run("byteplus")
    _a_clip_refused(sim, goals, cfg, run)
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.env supplies one
    sent, steps, ledger = len(sim.requests()), _steps(run), _ledger(run)
    common = [str(goals), "-c", str(cfg), "--out", str(run), "--yes"]
    for args in (["plan", *common], ["render", *common, "--until", "keyframes"]):
        r = CliRunner().invoke(app, args, env={})
        assert r.exit_code == 0, (args, r.output)
    assert len(sim.requests()) == sent and _steps(run) == steps and _ledger(run) == ledger
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 2 and "ARK_API_KEY" in r.output, r.output
    jobs = sim.stats()["totals"]["jobs_created"]
    # refused as planned and as its fallback: not sent again as it is (`refused_whole`)
    r = _render(goals, cfg, run, WITH_KEYS)
    assert r.exit_code == 1 and "the same requests are not sent again" in r.output, r.output
    assert sim.stats()["totals"]["jobs_created"] == jobs
    _edit_scene(run, "motion_prompt", "a calm walk on the pier", index=3)  # reworded
    assert _render(goals, cfg, run, WITH_KEYS).exit_code == 0  # the clip bought now
    assert sim.stats()["totals"]["jobs_created"] == jobs + 1


def test_a_key_needed_for_the_clips_only_is_named_for_the_clips(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_run: MadeRun
) -> None:
    """A run whose next render calls the video provider only (a clip create lost and
    refunded less than a day ago: its late job is looked for in the job list): the key
    is needed, and was named by the provider's first stage, "for keyframes (Seedream)",
    though every keyframe is reused. It is named for the stage that needs it."""
    goals, cfg, run = made_run("byteplus")
    monkeypatch.setattr(Pipeline, "_needed_in", lambda self, store: {"video"})
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./.env supplies one
    sent, ledger = len(sim.requests()), _ledger(run)
    r = _render(goals, cfg, run, {})
    assert r.exit_code == 2, r.output
    said = " ".join(r.output.split())
    assert "ARK_API_KEY (or BYTEPLUS_API_KEY) is not set" in said, said
    assert "video" in said and "keyframes" not in said, said
    assert len(sim.requests()) == sent and _ledger(run) == ledger


@pytest.mark.usefixtures("no_keys")
def test_a_new_plan_needs_only_the_planner_s_key(sim: SimServer, tmp_path: Path) -> None:
    """`mindmovie plan` (and `render --until plan`) of a new run calls the planner only:
    it was refused "ARK_API_KEY ... the byteplus preset needs it for keyframes (Seedream)
    and video (Seedance)" with Claude's key set, and with the local planner and no key
    at all. `render --until keyframes` calls the keyframe model, and names its key; with
    the keyframes offline it needs no video key."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg = preset_config(tmp_path, sim, "byteplus")
    claude = {"ANTHROPIC_API_KEY": "sk-ant"}
    for args, env, run in (
        (["plan"], claude, "a"),
        (["render", "--until", "plan"], claude, "b"),
        (["plan", "--preset", "byteplus"], {}, "c"),  # the local planner below, no key
    ):
        conf = cfg
        if run == "c":
            conf = tmp_path / "local-planner.yaml"
            conf.write_text(cfg.read_text() + "planner: {provider: local}\n")
        cmd = [args[0], str(goals), *args[1:], "-c", str(conf), "--out", str(tmp_path / run)]
        r = CliRunner().invoke(app, [*cmd, "--yes"], env=env)
        assert r.exit_code == 0, (args, r.output)
        assert (tmp_path / run / "plan.yaml").is_file(), args
    assert sim.stats()["totals"]["messages"] == 2
    assert sim.stats()["totals"]["images"] == 0
    cmd = ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "a"), "--yes"]
    r = CliRunner().invoke(app, [*cmd, "--until", "keyframes"], env=claude)
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and "ARK_API_KEY (or BYTEPLUS_API_KEY) is not set" in said, said
    assert "keyframes" in said, said
    assert sim.stats()["totals"]["images"] == 0
    # the keyframes offline, the clips Seedance's: `--until keyframes` needs no video key
    conf = tmp_path / "local-keyframes.yaml"
    conf.write_text(cfg.read_text() + "keyframes: {provider: local}\n")
    cmd = ["render", str(goals), "-c", str(conf), "--out", str(tmp_path / "d"), "--yes"]
    r = CliRunner().invoke(app, [*cmd, "--until", "keyframes"], env=claude)
    assert r.exit_code == 0, r.output
    assert list((tmp_path / "d" / "scenes").glob("*/keyframe.png"))
    r = CliRunner().invoke(app, cmd, env=claude)  # the clips: Seedance's key
    assert r.exit_code == 2 and "ARK_API_KEY" in r.output and "video" in r.output, r.output
    assert sim.stats()["totals"]["jobs_created"] == 0


@pytest.mark.usefixtures("no_keys")
def test_keys_in_a_dotenv_beside_goals_yaml_not_read_are_named_with_where_it_is_read(
    tmp_path: Path,
) -> None:
    """The keys kept in a .env beside goals.yaml, the render run from another folder
    (`mindmovie render proj/goals.yaml`): the error said only that the keys "are not
    set ... or as NAME=value lines in a .env file in the folder you run mindmovie from",
    and nothing of the .env that sets them. It names that file and the variables it
    sets (never their values), and where a .env is read from; nothing is sent."""
    proj = tmp_path / "proj"
    proj.mkdir()
    goals = proj / "goals.yaml"
    goals.write_text("title: T\ngoals:\n  - category: health\n    vision: Run a marathon\n")
    secret = "sk-ant-do-not-print-0123456789"
    (proj / ".env").write_text(f"ANTHROPIC_API_KEY={secret}\nOTHER=1\n")
    argv = ["render", str(goals), "--preset", "byteplus", "--yes", "--out", str(tmp_path / "r")]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 2, r.output
    said = " ".join(r.stderr.split())
    assert said.startswith("error: 2 keys are not set: ANTHROPIC_API_KEY ("), said
    assert (
        f"; {proj / '.env'} sets ANTHROPIC_API_KEY, but is not read: a .env is read from the "
        f"folder you run mindmovie from ({tmp_path}); run mindmovie from {proj}, or export it"
    ) in said, said
    assert secret not in r.output and not (tmp_path / "r" / "run.db").exists()
