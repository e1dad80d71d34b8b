"""Files gone during a render. The run folder moved or deleted while a paid render
(byteplus, against the simulator) has clip jobs in flight: the render stops with one
line, and a render into the moved folder polls the same jobs, paying for none of them
again. A clip gone before the compose read it: named, not said to be kept."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests import mindmovie_fork
from tests.integration.support import (
    KEYS,
    cli_env,
    goals_file,
    ledger_rows,
    settings_for,
    tiny_local_settings,
)
from tests.sim.server import SimServer


def _env(keys: dict[str, str]) -> dict[str, str]:
    drop = ("MINDMOVIE_", "ANTHROPIC_", "ARK_", "GEMINI_", "GOOGLE_", "BYTEPLUS_", "VOLC")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **keys, "COLUMNS": "200"}


def _start_render(
    sim: SimServer, tmp_path: Path, *extra: str, run: Path | None = None
) -> tuple[list[str], dict[str, str], Path, Path, Any]:
    """`mindmovie render goals.yaml --out run --yes` started against `sim`, in a fork:
    (its arguments, the keys, the run folder, its stderr file, the process). `run`: the
    run folder (tmp_path/run)."""
    goals = goals_file(tmp_path, sim)
    cfg, keys = cli_env(sim, tmp_path)
    run = tmp_path / "run" if run is None else run
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", *extra]
    err = tmp_path / "render.err"
    p = mindmovie_fork.start(args, env=_env(keys), cwd=tmp_path, out=tmp_path / "o", err=err)
    return args, keys, run, err, p


def _until(ready: Any, p: Any, err: Path, t_end: float) -> None:
    """Wait for `ready()` while the render `p` runs (its stderr, `err`, said if it ends
    or `t_end` passes first)."""
    while not ready():
        assert p.poll() is None, err.read_text()
        assert time.monotonic() < t_end, err.read_text()
        time.sleep(0.02)


def _tiny_cli_render(tmp_path: Path, run: Path | None, output_dir: Path | None = None) -> Any:
    """`mindmovie render goals.yaml --out run -q` (no --out: `run` None, the folder goes
    in `output_dir`) with the local preset at a tiny size, in this process (CliRunner:
    the CLI's last removal runs once the render's threads have ended); its result."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = goals_file(tmp_path)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        "preset: local\noutput: {size: 160x90, fps: 8}\nplan: {scene_seconds: 2}\n"
        "compose: {quality: draft}\n" + (f"output_dir: '{output_dir}'\n" if output_dir else "")
    )
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MINDMOVIE_")}
    where = [] if run is None else ["--out", str(run)]
    return CliRunner().invoke(app, ["render", str(goals), "-c", str(cfg), *where, "-q"], env=env)


def _stopped_as_gone(r: Any, run: Path) -> None:
    """The CLI render `r` stopped with its run folder `run` gone: exit 1, one line."""
    assert r.exit_code == 1 and isinstance(r.exception, SystemExit), (r.exception, r.stderr)
    assert f"the run folder {run} went away during the render" in r.stderr, r.stderr


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


@pytest.mark.parametrize("then", ["move", "delete"])
def test_a_run_folder_gone_with_clip_jobs_in_flight_stops_and_pays_nothing_twice(
    sim: SimServer, tmp_path: Path, then: str
) -> None:
    sim.media_scale = 0.25
    sim.add_fault("slow", seconds=4.0, count=None)  # every clip job
    args, keys, run, err, p = _start_render(sim, tmp_path)
    try:
        t_end = time.monotonic() + 120
        # every scene's clip job made (and slow to finish)
        _until(lambda: len(sim.jobs()) >= 4, p, err, t_end)
        time.sleep(0.3)  # their ids journaled
        if then == "move":
            os.rename(run, tmp_path / "moved")
        else:
            was = os.stat(run).st_ino
            # (again while the render writes a file into it meanwhile: "not empty")
            while _inode(run) == was:
                shutil.rmtree(run, ignore_errors=True)
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
    assert not run.exists(), sorted(str(p.relative_to(run)) for p in run.rglob("*"))
    created = sim.stats()["totals"]["jobs_created"]
    assert created == 4
    if then == "delete":
        return
    moved = [str(tmp_path / "moved") if a == str(run) else a for a in args]  # its --out
    r = mindmovie_fork.run([*moved, "-q"], env=_env(keys), cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert sim.stats()["totals"]["jobs_created"] == created  # the same jobs, polled
    assert (tmp_path / "moved" / "movie.mp4").is_file()


def test_a_folder_the_person_made_again_where_the_run_s_parent_was_is_left(
    sim: SimServer, tmp_path: Path
) -> None:
    """The folder the run folder is in moved away while the clips were polled, and made
    again by the person (`mv outs outs-old && mkdir outs`, to start afresh): the render
    stopped as its run folder went, wrote nothing more at its path, and then removed the
    person's new, empty `outs` as a parent its own writes had made again."""
    sim.media_scale = 0.25
    # (three clip jobs run at once: the fourth is made once a clip is done, and clips are
    # downloaded around the move; none may be written into the new `outs`, `make_dirs`)
    sim.add_fault("slow", seconds=4.0, count=None)
    outs = tmp_path / "outs"
    _, _, run, err, p = _start_render(sim, tmp_path, run=outs / "run")
    try:
        t_end = time.monotonic() + 120
        # every scene's clip job made (and slow to finish)
        _until(lambda: len(sim.jobs()) >= 4, p, err, t_end)
        # the board drawn once the keyframes are
        _until((run / "storyboard.html").is_file, p, err, t_end)
        time.sleep(0.3)  # their ids journaled, the board's record written: no writer left
        os.rename(outs, tmp_path / "outs-old")
        outs.mkdir()
        rc = p.wait(timeout=60)
    finally:
        p.kill()
    stderr = err.read_text()
    assert rc == 1 and "Traceback" not in stderr, stderr
    assert f"error: the run folder {run} went away" in stderr, stderr
    assert outs.is_dir() and not any(outs.iterdir())
    assert (tmp_path / "outs-old" / "run" / "run.db").is_file()


@pytest.mark.parametrize("how", ["deleted", "a folder"])
async def test_a_clip_gone_before_the_compose_is_named_not_said_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A scene's clip.mp4 deleted (or replaced by a folder) once its step was done, before
    the compose read it: a FileNotFoundError traceback ("scene:02-career-1: clip not
    found"), or, made a folder, "the compose failed; every keyframe and clip is kept and
    the next render only composes (`mindmovie doctor` checks ffmpeg): ffmpeg failed ...",
    though that clip was not kept and the next render makes it again. The error names
    the clip; the next render makes it and the movie."""
    from mindmovie import compose
    from mindmovie.pipeline import Pipeline, RenderFailed

    real = compose.renderer

    def clip_gone_first(engine: str) -> Any:
        render = real(engine)

        def gone_then_render(*args: Any, **kwargs: Any) -> Any:
            clip = tmp_path / "run" / "scenes" / "02-career-1" / "clip.mp4"
            clip.unlink()
            if how == "a folder":
                clip.mkdir()
            return render(*args, **kwargs)

        return gone_then_render

    monkeypatch.setattr(compose, "renderer", clip_gone_first)
    goals = goals_file(tmp_path)
    with pytest.raises(RenderFailed) as failed:
        await Pipeline(goals, tiny_local_settings(), out=tmp_path / "run").run()
    said = str(failed.value)
    clip = tmp_path / "run" / "scenes" / "02-career-1" / "clip.mp4"
    assert said == (
        f"the compose failed: {clip} went away during the render (deleted, moved or "
        "replaced); the next render makes it again, and reuses everything else"
    ), said
    monkeypatch.setattr(compose, "renderer", real)
    if how == "a folder":
        clip.rmdir()
    res = await Pipeline(goals, tiny_local_settings(), out=tmp_path / "run").run()
    assert res.movie is not None and res.movie.is_file()
    assert {s for s, stage in res.ran if stage in ("keyframe", "clip")} == {"02-career-1"}


@pytest.mark.parametrize("fresh", [False, True])
async def test_a_run_folder_swapped_at_the_spend_question_is_left_as_it_was(
    sim: SimServer, tmp_path: Path, fresh: bool
) -> None:
    """At "Spend about $X?" the person swapped the run folder for another run's (`mv run
    run-new; mv run-old run`) and said no. A render into a folder holding files and no
    run.db undoes its new run.db once declined, and `--fresh` puts the old run back: both
    acted on the folder now at the path, and deleted run-old's run.db, its journal of
    everything paid for. They leave a folder that is no longer the render's alone."""
    from mindmovie.pipeline import Pipeline, RunDirGone

    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run, old = tmp_path / "run", tmp_path / "run-old"
    if fresh:
        await Pipeline(goals, settings, out=run, keys=KEYS, confirm=lambda est: True).run(
            until="plan"
        )
    else:
        (run / "scenes").mkdir(parents=True)  # files and no run.db: set aside if agreed
    old.mkdir()
    (old / "run.db").write_bytes(b"the old run's journal")
    (old / "previous").mkdir()

    def swap_and_decline(est: Any) -> bool:
        run.rename(tmp_path / "run-new")
        old.rename(run)
        return False

    with pytest.raises(RunDirGone, match="went away during the render"):
        await Pipeline(goals, settings, out=run, keys=KEYS, confirm=swap_and_decline).run(
            fresh=fresh
        )
    assert (run / "run.db").read_bytes() == b"the old run's journal"
    assert sorted(p.name for p in run.iterdir()) == ["previous", "run.db"]


def test_a_run_lock_deleted_during_the_render_still_keeps_a_second_render_out(
    sim: SimServer, tmp_path: Path
) -> None:
    """run/.lock deleted while a render runs (by hand, a cleaner of dotfiles): a second
    render made a new .lock, locked it and ran in the same folder beside the first, both
    reserving and paying for the same steps. The first render takes its lock again: the
    second is refused as with the lock in place, and nothing is bought twice."""
    sim.media_scale = 0.25
    sim.add_fault("slow", seconds=3.0, count=None)  # every clip job
    args, keys, run, err, p = _start_render(sim, tmp_path, "-q")
    try:
        t_end = time.monotonic() + 120
        _until(lambda: len(sim.jobs()) >= 4, p, err, t_end)
        (run / ".lock").unlink()
        # the first render's look at it (every RUN_DIR_LOOK_SECONDS, when its loop is free:
        # a fixed 1 s was not always enough): the lock made again, naming that render
        _until(lambda: _read(run / ".lock") == str(p.pid), p, err, t_end)
        second = mindmovie_fork.run(args, env=_env(keys), cwd=tmp_path, timeout=120)
        rc = p.wait(timeout=120)
    finally:
        p.kill()
    assert rc == 0, err.read_text()
    assert second.returncode == 2, second.stderr
    assert second.stderr.startswith("error: another mindmovie process (pid "), second.stderr
    assert sim.stats()["totals"]["jobs_created"] == 4
    assert sim.stats()["totals"]["images"] == 4


@pytest.mark.parametrize(
    ("what", "when"),
    [("keyframe.png", "images"), ("scenes", "images"), ("scenes", "clip jobs")],
)
def test_a_file_or_folder_put_in_the_run_during_the_render_is_named_and_nothing_paid_lost(
    sim: SimServer, tmp_path: Path, what: str, when: str
) -> None:
    """scenes/<id>/keyframe.png made a folder, or scenes/ replaced by a file, while the
    Seedream images (or the Seedance clip jobs) were in flight: every scene failed with
    raw "[Errno 21] Is a directory: '.../.keyframe.png.<pid>.tmp.png' -> ..." or "[Errno
    20] Not a directory" text, and the images paid for were lost: the next render bought
    them again. The render says the path and what to do in one line (exit 1), and once
    it is put right the next render buys nothing twice."""
    sim.media_scale = 0.25
    if when == "images":
        held = sim.add_fault("delay", path="/api/v3/images/generations", seconds=60, count=1)
    else:
        sim.add_fault("slow", seconds=5.0, count=None)  # every clip job
    args, keys, run, err, p = _start_render(sim, tmp_path)
    path = run / "scenes" / ("01-health-1/keyframe.png" if what == "keyframe.png" else "")
    try:
        t_end = time.monotonic() + 120
        # the first image held (the others are asked for after it), or 3 clip jobs made
        images = "/api/v3/images/generations"
        while (len(sim.requests(path=images)) < 1) if when == "images" else len(sim.jobs()) < 3:
            assert p.poll() is None, err.read_text()
            assert time.monotonic() < t_end, err.read_text()
            time.sleep(0.02)
        time.sleep(0.3)  # (the clip jobs' ids journaled)
        if what == "keyframe.png":
            path.mkdir(parents=True)
        else:
            if path.exists():
                path.rename(tmp_path / "scenes-moved")
            path.write_text("not a folder\n")
        if when == "images":
            sim.release(held)
        rc = p.wait(timeout=60)
    finally:
        p.kill()
    stderr = err.read_text()
    if what == "keyframe.png":
        said = (
            f"{path}: is a folder, not scene 01-health-1's keyframe (a file). It was not "
            "changed: move it away (e.g. to keyframe.png.bad beside it) and render again"
        )
    else:
        said = (
            f"{path}: is a file, not the folder for every scene's keyframe.png and clip.mp4. "
            "It was not changed: move it away (e.g. to scenes.bad beside it) and render again"
        )
    said += (
        " (it was put there during the render: what was made and paid for is kept, and "
        "the next render reuses it)"
    )
    assert "Traceback" not in stderr, stderr
    for raw in ("Errno", "Is a directory", "Not a directory"):
        assert raw not in stderr, stderr
    assert stderr.splitlines()[-1] == f"error: {said}", stderr
    assert rc == 1
    made = sim.stats()["totals"]
    if what == "keyframe.png":
        path.rmdir()
    else:
        path.unlink()
        if (tmp_path / "scenes-moved").exists():
            (tmp_path / "scenes-moved").rename(path)
    sim.clear_faults()
    r = mindmovie_fork.run([*args, "-q"], env=_env(keys), cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert sim.stats()["totals"]["images"] == made["images"] == 4
    assert sim.stats()["totals"]["jobs_created"] == 4
    assert (run / "movie.mp4").is_file()


@pytest.mark.parametrize("what", ["keyframe.png", "scenes"])
async def test_a_file_or_folder_put_in_the_run_during_the_offline_clips_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """The same with the offline preset: scenes/02-career-1/keyframe.png made a folder
    (or scenes/ a file) once the keyframes were made, before its clip was: the scenes
    failed with ffmpeg's or Python's raw "Is a directory" / "Not a directory" text.
    Their rows were then never told they failed: the live view ended with "02-career-1
    clips running" (seconds counting), a log without -v had no line for them and its
    totals no "failed". Each says it failed, in words, not the raw text."""
    import io

    from rich.console import Console

    from mindmovie.pipeline import Pipeline, RenderFailed
    from mindmovie.progress import PlainReporter
    from mindmovie.providers import local_media

    run = tmp_path / "run"
    path = run / "scenes" / ("02-career-1/keyframe.png" if what == "keyframe.png" else "")
    real = local_media.LocalMotion.submit
    put: list[bool] = []

    async def put_then_submit(self: Any, request: Any) -> str:
        # (at 02-career-1's own clip for keyframe.png: its keyframe is made by then, which
        # it need not be at another scene's, the keyframes and clips overlapping)
        if not put and (what == "scenes" or request.scene_id == "02-career-1"):
            put.append(True)
            if what == "keyframe.png":
                path.rename(tmp_path / "moved.png")
                path.mkdir()
            else:
                path.rename(tmp_path / "scenes-moved")
                path.write_text("not a folder\n")
        return await real(self, request)

    monkeypatch.setattr(local_media.LocalMotion, "submit", put_then_submit)
    goals = goals_file(tmp_path)
    buf = io.StringIO()
    log = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    with pytest.raises(RenderFailed) as failed:
        await Pipeline(goals, tiny_local_settings(), out=run, reporter=log).run()
    log.close()
    said = str(failed.value)
    assert "Errno" not in said and said.startswith(f"{path}: is a "), said
    assert said.endswith("and the next render reuses it)"), said
    lines = [ln.split("] ", 1)[1] for ln in buf.getvalue().splitlines() if "] " in ln]
    done = {ln.split()[1].rstrip(":") for ln in lines if ln.startswith("clips ") and "done" in ln}
    ended = [ln for ln in lines if ln.endswith("during the render (see the error below)")]
    scenes = {"01-health-1", "02-career-1", "02-career-2", "03-lifestyle-1"}
    assert {ln.split()[1].rstrip(":") for ln in ended} == scenes - done, lines
    assert all(": failed - a folder or file was put in its way" in ln for ln in ended), ended
    assert lines[-1].startswith("totals: ") and f"{len(ended)} failed" in lines[-1], lines
    assert "Errno" not in buf.getvalue(), lines


async def test_a_scene_s_mkdir_racing_rm_rf_of_the_run_folder_is_not_said_put_in_its_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rm -rf run` takes the folder's files first and the folder a moment later; a
    scene's mkdir racing it fails "File exists" (pathlib's exist_ok looks again and
    finds nothing). That scene's row said "failed - a folder or file was put in its way
    during the render" above the line saying the folder went away (the platform's CI,
    1 run in many, at tests/e2e/test_filesystem.py's "delete slowly"). The render says
    only that the folder went away."""
    import errno
    import io
    import threading

    from rich.console import Console

    from mindmovie.pipeline import Pipeline, RunDirGone
    from mindmovie.progress import PlainReporter
    from mindmovie.providers import local_media

    run = tmp_path / "run"
    real = local_media.LocalMotion.submit
    raced: list[bool] = []

    async def race_then_submit(self: Any, request: Any) -> str:
        if not raced and request.scene_id == "02-career-1":
            raced.append(True)
            for child in list(run.iterdir()):  # the files first ...
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
            # ... the folder itself a moment later
            threading.Timer(0.3, shutil.rmtree, (run,), {"ignore_errors": True}).start()
            where = run / "scenes" / "02-career-1"
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(where))
        return await real(self, request)

    monkeypatch.setattr(local_media.LocalMotion, "submit", race_then_submit)
    goals = goals_file(tmp_path)
    buf = io.StringIO()
    log = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    with pytest.raises(RunDirGone):
        await Pipeline(goals, tiny_local_settings(), out=run, reporter=log).run()
    log.close()
    assert raced
    assert "put in its way" not in buf.getvalue(), buf.getvalue()
    assert "02-career-1: failed" not in buf.getvalue(), buf.getvalue()


@pytest.mark.parametrize("then", ["move", "delete", "delete output_dir"])
def test_what_the_render_wrote_again_at_a_run_folder_gone_is_not_left_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    """The run folder deleted (or moved) while the keyframes were being made: those in
    flight were written on at the path before the render's watcher looked (and the
    clips begun meanwhile by their threads after it), their mkdirs making a new `run`
    (scenes/<id>/keyframe.png, .clip.mp4.<pid>.tmp.mp4) that the person found after the
    render said the folder went away. What the render wrote again there is removed; a
    moved folder is as it was moved. With output_dir deleted (the folder the run folder
    is in), it was left made again, empty. (`mindmovie render`, in this process: the
    last removal is the CLI's, once the render's threads have ended.)"""
    from mindmovie.providers import local_media

    run, moved, outs = tmp_path / "run", tmp_path / "moved", tmp_path / "outs"
    if then == "delete output_dir":
        run = outs / "sim-movie"  # output_dir/<the title's slug>
    real = local_media.LocalKeyframes.generate

    async def gone_then_generate(self: Any, request: Any) -> Any:
        img = await real(self, request)
        if request.scene_id == "02-career-1":  # its picture is then written at the path
            if then == "move":
                run.rename(moved)
            else:
                shutil.rmtree(outs if then == "delete output_dir" else run)
        return img

    monkeypatch.setattr(local_media.LocalKeyframes, "generate", gone_then_generate)
    r = _tiny_cli_render(tmp_path, None if then == "delete output_dir" else run, outs)
    _stopped_as_gone(r, run)
    assert not run.exists(), sorted(str(p.relative_to(run)) for p in run.rglob("*"))
    if then == "delete output_dir":
        assert not outs.exists(), sorted(str(p.relative_to(outs)) for p in outs.rglob("*"))
    if then == "move":
        assert (moved / "run.db").is_file() and (moved / "plan.yaml").is_file()


@pytest.mark.parametrize("stage", ["keyframe", "clip"])
def test_a_folder_the_person_made_again_is_not_written_into_nor_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """`mv outs outs-old && mkdir outs` while a scene's keyframe (or clip) was being made:
    its write's mkdir made `run/scenes/<id>/` again inside the person's new `outs`, and
    the render, finding that run folder made again, removed it and then `outs` itself,
    the person's own folder, as a parent its writes had made (CI: the slow-clip case of
    the test above, 1 run in several). The render makes no folder above its run folder
    once it holds it (`fsutil.make_dirs`): the new `outs` is left empty, as it was made."""
    from mindmovie.providers import local_media

    outs = tmp_path / "outs"
    run = outs / "run"
    made_again: list[bool] = []

    def move_once(scene_id: str) -> None:
        if scene_id == "02-career-1" and not made_again:
            made_again.append(True)
            os.rename(outs, tmp_path / "outs-old")
            outs.mkdir()

    if stage == "keyframe":  # its picture then written at the path
        real_generate = local_media.LocalKeyframes.generate

        async def moved_then_generate(self: Any, request: Any) -> Any:
            move_once(request.scene_id)
            return await real_generate(self, request)

        monkeypatch.setattr(local_media.LocalKeyframes, "generate", moved_then_generate)
    else:  # its keyframe read, its clip then written at the path
        real_source = local_media._prepare_source

        def moved_once_read(keyframe: Path, *args: Any) -> Any:
            source = real_source(keyframe, *args)
            move_once(keyframe.parent.name)
            return source

        monkeypatch.setattr(local_media, "_prepare_source", moved_once_read)
    r = _tiny_cli_render(tmp_path, run)
    assert made_again
    _stopped_as_gone(r, run)
    assert outs.is_dir(), "the person's new outs was removed"
    assert not any(outs.iterdir()), sorted(str(p.relative_to(outs)) for p in outs.rglob("*"))
    assert (tmp_path / "outs-old" / "run" / "run.db").is_file()


def test_a_run_folder_made_again_at_its_path_is_not_written_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mv run run-old && mkdir run` (or another render starting there) while scene 02's
    keyframe was being made: the hold looked only for a folder at the run's path, so the
    keyframe's write made `scenes/02-career-1/` in the new folder, which is not the
    render's. A write goes only into the very folder the render holds."""
    from mindmovie.providers import local_media

    run = tmp_path / "run"
    moved: list[bool] = []
    real_generate = local_media.LocalKeyframes.generate

    async def moved_then_generate(self: Any, request: Any) -> Any:
        if request.scene_id == "02-career-1" and not moved:
            moved.append(True)
            os.rename(run, tmp_path / "run-old")
            run.mkdir()
            (run / "mine.txt").write_text("the person's\n")
        return await real_generate(self, request)

    monkeypatch.setattr(local_media.LocalKeyframes, "generate", moved_then_generate)
    r = _tiny_cli_render(tmp_path, run)
    assert moved
    _stopped_as_gone(r, run)
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*")) == ["mine.txt"]
    assert (tmp_path / "run-old" / "run.db").is_file()


def test_a_clip_thread_that_writes_after_the_render_ended_makes_no_folder_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but the clip's thread gets to its write only once the render has ended
    (it stopped as its folder went; `asyncio.to_thread` work is not cancelled, and the
    loop waits for it): the render had let go of its hold on the run folder by then, so
    the write's mkdir made `run/scenes/<id>/` again inside the person's new `outs`, and
    the CLI's `remove_remade` then removed the person's `outs` with it."""
    from mindmovie import fsutil
    from mindmovie.providers import local_media

    outs = tmp_path / "outs"
    run = outs / "run"
    waited: list[bool] = []
    real_source = local_media._prepare_source

    def ending() -> bool:  # the render still held its folder as its own
        return any(h.path == run and not getattr(h, "outlive", False) for h in fsutil._HELD)

    def moved_then_slow(keyframe: Path, *args: Any) -> Any:
        source = real_source(keyframe, *args)
        if keyframe.parent.name == "02-career-1" and not waited:
            os.rename(outs, tmp_path / "outs-old")
            outs.mkdir()
            t_end = time.monotonic() + 30
            while ending() and time.monotonic() < t_end:
                time.sleep(0.02)  # (the render seeing its folder gone, and ending)
            waited.append(time.monotonic() < t_end)
        return source

    monkeypatch.setattr(local_media, "_prepare_source", moved_then_slow)
    r = _tiny_cli_render(tmp_path, run)
    assert waited == [True], "the render did not end while its clip thread waited"
    _stopped_as_gone(r, run)
    assert outs.is_dir(), "the person's new outs was removed"
    assert not any(outs.iterdir()), sorted(str(p.relative_to(outs)) for p in outs.rglob("*"))
    # (holds of other tests' in-process renders in this worker are not this one's)
    assert not [h for h in fsutil._HELD if h.path == run], "a hold outlived the render"


@pytest.mark.parametrize("name", ["compose", "compose/segments", "compose/cards"])
async def test_a_file_put_where_a_work_folder_goes_during_the_compose_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """compose/ (or its segments/ or cards/ cache) replaced by a file as the compose
    began: the render ended in raw "[Errno 17] File exists: '.../compose/segments'" (or
    "[Errno 20] Not a directory") text. It says the path and what to do in the line
    the next render's refusal says (`_check_run_dir`), and the clips are kept."""
    from mindmovie import compose
    from mindmovie.pipeline import WORK_FOLDERS, Pipeline, RenderFailed

    run = tmp_path / "run"
    real = compose.renderer

    def file_then_render(engine: str) -> Any:
        render = real(engine)

        def put_then_render(*args: Any, **kwargs: Any) -> Any:
            path = run / name
            if path.is_dir():
                shutil.rmtree(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("not a folder\n")
            return render(*args, **kwargs)

        return put_then_render

    monkeypatch.setattr(compose, "renderer", file_then_render)
    with pytest.raises(RenderFailed) as failed:
        await Pipeline(goals_file(tmp_path), tiny_local_settings(), out=run).run()
    said = str(failed.value)
    assert said == (
        f"{run / name}: is a file, not the folder for {WORK_FOLDERS[name]}. It was not "
        f"changed: move it away (e.g. to {Path(name).name}.bad beside it) and render again "
        "(it was put there during the render: what was made and paid for is kept, and the "
        "next render reuses it)"
    ), said
    assert len(list(run.glob("scenes/*/clip.mp4"))) == 4


async def test_a_paid_keyframe_answered_as_the_run_folder_is_moved_is_not_paid_for_twice(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run folder moved while a paid Seedream image was being made: its answer was
    written at the old path (its mkdir making a new `run`) and journaled as made in the
    moved run.db, whose folder has no such file; the render then removed what it wrote
    at the old path (`remove_remade`), and the render into the moved folder, as the
    error line says to run, found the paid keyframe missing and bought it again."""
    from mindmovie.pipeline import Pipeline, RunDirGone
    from mindmovie.providers.byteplus import SeedreamKeyframes

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run, moved = tmp_path / "run", tmp_path / "moved"
    real = SeedreamKeyframes.generate

    async def generate_then_moved(self: Any, request: Any) -> Any:
        img = await real(self, request)
        if request.scene_id == "02-career-1":
            run.rename(moved)
        return img

    monkeypatch.setattr(SeedreamKeyframes, "generate", generate_then_moved)
    with pytest.raises(RunDirGone):
        await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    bought = sim.stats()["totals"]["images"]
    assert not run.exists()
    monkeypatch.setattr(SeedreamKeyframes, "generate", real)
    res = await Pipeline(goals, settings, out=moved, keys=KEYS).run(until="keyframes")
    assert not res.failed
    assert sim.stats()["totals"]["images"] == 4, bought  # each image bought once
    rows = ledger_rows(moved, "keyframe")
    assert len(rows) == 4 and all(r["state"] == "billed" for r in rows), rows


async def test_a_paid_keyframe_whose_folder_went_as_it_was_written_is_kept_in_the_moved_one(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run folder moved after the render looked (it was there) and before the paid
    Seedream image was written: the write fails (no folder is made again at the old
    path, `fsutil.make_dirs`), and the paid image is kept in the moved folder, which the
    render into it puts back, not bought again."""
    from mindmovie import pipeline
    from mindmovie.pipeline import Pipeline, RunDirGone

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run, moved = tmp_path / "run", tmp_path / "moved"
    real = pipeline.atomic_write_bytes

    def moved_then_write(path: Path, data: bytes) -> None:
        if path.name == "keyframe.png" and path.parent.name == "02-career-1":
            run.rename(moved)
        real(path, data)

    monkeypatch.setattr(pipeline, "atomic_write_bytes", moved_then_write)
    with pytest.raises(RunDirGone):
        await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    assert not run.exists()
    monkeypatch.setattr(pipeline, "atomic_write_bytes", real)
    res = await Pipeline(goals, settings, out=moved, keys=KEYS).run(until="keyframes")
    assert not res.failed
    assert sim.stats()["totals"]["images"] == 4  # each image bought once
    rows = ledger_rows(moved, "keyframe")
    assert len(rows) == 4 and all(r["state"] == "billed" for r in rows), rows


def test_another_render_s_folder_at_the_path_is_not_removed_as_remade(tmp_path: Path) -> None:
    """The run folder deleted during a render, and a second render started at the same
    path (as the first one's line says: "render again to start anew") while the first
    was still stopping: the second's new folder held its `.lock` and no run.db yet (it
    makes it after the lock) when the first removed what it took for its own writes
    made again at the path (`remove_remade`, by the render and again by the CLI once
    its threads ended). The live render's folder went, its lock with it, so a third
    render could start there beside it. A folder whose lock a render holds is left."""
    from mindmovie.pipeline import RunLock, remove_remade

    run = tmp_path / "run"
    since = time.time() - 5  # the first render took its folder then
    with RunLock(run):  # the second render, at the path, holding its lock
        remove_remade(run, since)
        assert (run / ".lock").is_file()
    remove_remade(run, since)  # its lock let go of (a render killed): as before
    assert not run.exists()


def test_a_render_turned_away_by_the_lock_is_told_since_when_the_other_renders(
    tmp_path: Path,
) -> None:
    """A second render of a run started hours after the first, which still polls its
    jobs: it was told only "another mindmovie process (pid N) is rendering", not whether
    that one had just started or has run for hours (stuck, or waiting on a slow job).
    It is now told when the lock was taken, and how long ago."""
    import os

    from mindmovie.pipeline import RunLock, RunLocked

    run = tmp_path / "run"
    with RunLock(run):  # the first render, taken 3 h ago
        taken = time.time() - 3 * 3600
        os.utime(run / ".lock", (taken, taken))
        with pytest.raises(RunLocked) as ei, RunLock(run):
            pass
    msg = str(ei.value)
    at = time.strftime("%H:%M", time.localtime(taken))
    assert msg.startswith(f"another mindmovie process (pid {os.getpid()}, since {at}, "), msg
    assert "3 h 0 min ago) is rendering" in msg, msg


def test_the_lock_file_of_a_run_rendered_before_names_the_render_s_pid_alone(
    tmp_path: Path,
) -> None:
    """The lock file read (the pid of the render before: `RunLock.last_pid`) before
    this render's pid was written over it: written at the offset the read left, after
    the truncate, it began with NUL bytes, one per digit read. Then a second render of
    the run was told "another mindmovie process (pid \\x00\\x00...)", `status`
    (`rendering_pid`) could not read the pid and said no render was running, and the
    render after a kill read no pid, so stopped none of the encoders it left."""
    import os

    from mindmovie.pipeline import RunLock, RunLocked

    run = tmp_path / "run"
    with RunLock(run):  # a render before
        pass
    with RunLock(run):
        assert (run / ".lock").read_bytes() == str(os.getpid()).encode()
        with pytest.raises(RunLocked) as ei, RunLock(run):
            pass
    assert str(ei.value).startswith(f"another mindmovie process (pid {os.getpid()}, "), ei.value
    with RunLock(run) as after:
        assert after.last_pid == os.getpid()


def test_a_remade_folder_on_a_fat_drive_is_removed(tmp_path: Path) -> None:
    """FAT (a USB stick, an SD card) records a file's modification time to 2 s, rounded
    down: what the render's writes made again at the path of its deleted run folder
    (scenes/<id>/, the storyboard) can read up to 2 s older than the render's taking the
    folder, and was left there as the person's own (a file older than the render), a
    run folder with no journal where they had deleted one. os.utime gives the files the
    time FAT records for a write 0.1 s after `since`, 1.6 s past an even second."""
    from mindmovie.pipeline import remove_remade

    run = tmp_path / "run"
    (run / "scenes" / "01-health-1").mkdir(parents=True)
    (run / "scenes" / "01-health-1" / "keyframe.png").write_bytes(b"png")
    (run / "storyboard.png").write_bytes(b"png")
    since = time.time()
    fat = since - 1.5
    for p in (run / "scenes" / "01-health-1" / "keyframe.png", run / "storyboard.png"):
        os.utime(p, (fat, fat))
    for d in (run / "scenes" / "01-health-1", run / "scenes", run):
        os.utime(d, (fat, fat))
    remove_remade(run, since)
    assert not run.exists(), sorted(str(p.relative_to(run)) for p in run.rglob("*"))


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
async def test_music_gone_before_the_compose_is_named_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    """The `music:` file deleted or moved during the render (checked when goals.yaml was
    read; an external drive unplugged, a synced folder's file made online-only) was a
    FileNotFoundError traceback of ~200 lines, exit 1, in both engines. The error names
    the file and says what the next render does; put back, the next render composes."""
    from mindmovie import compose
    from mindmovie.pipeline import Pipeline, RenderFailed
    from tests.media import write_music

    real = compose.renderer
    song = write_music(tmp_path / "my songs" / "calm.mp3")
    moved = tmp_path / "calm.mp3"

    def music_gone_first(name: str) -> Any:
        render = real(name)

        def gone_then_render(*args: Any, **kwargs: Any) -> Any:
            song.rename(moved)
            return render(*args, **kwargs)

        return gone_then_render

    monkeypatch.setattr(compose, "renderer", music_gone_first)
    goals = goals_file(tmp_path)
    goals.write_text(goals.read_text() + f"music: {song}\n")
    settings = tiny_local_settings().model_copy(deep=True)
    settings.compose.engine = engine
    with pytest.raises(RenderFailed) as failed:
        await Pipeline(goals, settings, out=tmp_path / "run").run()
    assert str(failed.value) == (
        f"the compose failed: the music {song} went away during the render (deleted or "
        "moved); put it back, or name another file as music: in goals.yaml (or plan.yaml), "
        "and render again: every keyframe and clip is kept and the next render only composes"
    ), str(failed.value)
    monkeypatch.setattr(compose, "renderer", real)
    moved.rename(song)
    res = await Pipeline(goals, settings, out=tmp_path / "run").run()
    assert res.movie is not None and res.movie.is_file()
    assert not {s for s, stage in res.ran if stage in ("keyframe", "clip")}
