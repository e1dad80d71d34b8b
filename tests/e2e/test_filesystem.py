"""A person's files are not always where the render left them: the run folder deleted or
moved while a render runs. The render stops with one line naming the folder, exit 1,
never a traceback, and a folder moved is resumed where it went."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests import mindmovie_fork
from tests.e2e.project import new_project, status_json


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}


def _render_and(project: Path, out: str, said: str, then: str) -> tuple[int, str]:
    """`mindmovie render examples/goals.yaml -c small.yaml --out OUT` in the background;
    once its progress says `said`, `then` ("delete", "delete slowly" or "move": to
    OUT-moved) its run folder, or ("delete run.db") its journal. Its exit status and
    stderr."""
    err = project / "render.err"
    argv = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", out]
    proc = mindmovie_fork.start(argv, env=_env(), cwd=project, out=project / "render.out", err=err)
    try:
        t_end = time.monotonic() + 120
        while said not in err.read_text():
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < t_end, f"never said {said!r}"
            time.sleep(0.02)
        if then == "delete run.db":
            for name in ("run.db", "run.db-wal", "run.db-shm"):
                (project / out / name).unlink(missing_ok=True)
        elif then.startswith("delete"):
            was = os.stat(project / out).st_ino
            if then == "delete slowly":
                # as `rm -rf` of many files on a slow disk: the files first, the folder
                # itself a moment later
                for child in list((project / out).iterdir()):
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child, ignore_errors=True)
                    else:
                        child.unlink(missing_ok=True)
                time.sleep(0.5)
            # (again while the render writes a file into it meanwhile: "not empty")
            while _inode(project / out) == was:
                shutil.rmtree(project / out, ignore_errors=True)
        else:
            os.rename(project / out, project / f"{out}-moved")
        rc = proc.wait(timeout=120)
    finally:
        proc.kill()  # a no-op once it ended
    return rc, err.read_text()


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def _last_lines(stderr: str) -> list[str]:
    """stderr's lines that are not progress lines ("[  1.2s] ...", and the lines of a
    note of several, indented under its stamp)."""
    return [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("[", " "))]


@pytest.mark.parametrize(
    ("said", "how"),
    [
        ("keyframes: ", "delete"),
        ("clips 01-health-1: done", "delete"),
        ("compose: ", "delete"),
        # its files gone a moment before the folder: the scenes whose files went were
        # each said "failed - ... keyframe not found" (or ffmpeg's "No such file"), the
        # folder still there when the flows ended (1 run in 6 of the case above, loaded)
        ("clips 01-health-1: done", "delete slowly"),
    ],
)
def test_a_run_folder_deleted_during_the_render_is_one_line_exit_1(
    tmp_path: Path, said: str, how: str
) -> None:
    """`rm -rf` of the run folder while the render ran: during the compose a
    FileNotFoundError (compose/segments/.chunk-...) or FFmpegError traceback; during the
    clips "4 scene(s) failed; finished work is kept" (nothing was kept); during the
    keyframes exit 0, a movie made in a folder its mkdirs made again, with no run.db.
    The render stops there, saying the folder went away, and what its writers made
    again at the path before it knew (a new run/ holding scenes/<id>/, compose/ files,
    the storyboard) is not left there: the person finds no run folder."""
    project = new_project(tmp_path / "project")
    rc, stderr = _render_and(project, "run", said, how)
    assert "Traceback" not in stderr and "failed" not in stderr, stderr
    assert _last_lines(stderr) == [
        "error: the run folder run went away during the render (deleted, "
        "moved or renamed), so the render stopped: nothing more is made or paid for. If it "
        "was moved, render again with --out at its new place to resume there; if it was "
        "deleted, render again to start anew"
    ], stderr
    assert rc == 1
    assert not (project / "run").exists(), sorted(p.name for p in (project / "run").iterdir())


def test_a_run_db_deleted_during_the_render_stops_it_in_one_line(tmp_path: Path) -> None:
    """`rm -rf run` while the render writes in it can fail ("Directory not empty") having
    deleted run.db and plan.yaml but not the folder, which keeps its inode: the render
    went on making (with a paid preset, paying for) every clip and the movie into a
    journal gone, and ended in "N scene(s) failed ... keyframe not found" or as done. It
    stops as for the folder gone, in one line naming run.db, exit 1."""
    project = new_project(tmp_path / "project")
    rc, stderr = _render_and(project, "run", "keyframes: ", "delete run.db")
    assert "Traceback" not in stderr and "failed" not in stderr, stderr
    db = Path("run") / "run.db"
    assert _last_lines(stderr) == [
        f"error: {db}, the run's journal, went away during the render (deleted or moved), "
        "so the render stopped: nothing more is made or paid for. What it made is not "
        "journaled there any more: render again to start anew (what is left in run is "
        "moved aside first, nothing is deleted)"
    ], stderr
    assert rc == 1
    assert not (project / "run" / "movie.mp4").exists()


def test_a_run_folder_moved_during_the_render_is_resumed_where_it_went(tmp_path: Path) -> None:
    """`mv run run-moved` during the clips: the render went on writing into a `run` its
    mkdirs made again while it journaled into run-moved's run.db. It stops, leaving no
    `run` made again beside run-moved, and a render into run-moved reuses every keyframe
    made before the move."""
    project = new_project(tmp_path / "project")
    rc, stderr = _render_and(project, "run", "clips 01-health-1: done", "move")
    assert "Traceback" not in stderr, stderr
    assert rc == 1, stderr
    assert "went away during the render" in _last_lines(stderr)[-1], stderr
    assert not (project / "run").exists(), sorted(p.name for p in (project / "run").iterdir())
    moved = project / "run-moved"
    proc = mindmovie_fork.run(
        ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run-moved", "-q"],
        env=_env(),
        cwd=project,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    st, _ = status_json(project, str(moved))
    redone = {s["scene_id"] for s in st["steps"] if s["stage"] == "keyframe" and s["run_no"] == 2}
    assert not redone, redone
    assert (moved / "movie.mp4").is_file()


@pytest.mark.parametrize("where", ["--out", "output_dir"])
def test_a_run_folder_whose_name_starts_with_a_dash_is_rendered(tmp_path: Path, where: str) -> None:
    """`--out -weird` (or output_dir: -movies): every scene failed, "ffmpeg failed (8)
    rendering clip.mp4: Unrecognized option 'weird/scenes/01-health-1/.clip.mp4...'"
    (ffmpeg took the relative path for an option). The run folder is made absolute."""
    project = new_project(tmp_path / "project")
    argv = ["render", "examples/goals.yaml", "-c", "small.yaml", "-q"]
    if where == "--out":
        argv += ["--out", "-weird"]
        run = project / "-weird"
    else:
        with (project / "small.yaml").open("a") as f:
            f.write("output_dir: -movies\n")
        run = project / "-movies" / "my-year-of-becoming"
    r = mindmovie_fork.run(argv, env=_env(), cwd=project, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"movie: {run / 'movie.mp4'}", r.stdout
    again = mindmovie_fork.run(argv, env=_env(), cwd=project, timeout=300)
    assert again.returncode == 0, again.stderr
    st, _ = status_json(project, str(run))
    assert st["run_no"] == 2
    assert not [s for s in st["steps"] if s["run_no"] == 2 and s["attempts"] > 0], st["steps"]


@pytest.mark.parametrize("command", ["render", "plan"])
def test_a_render_turned_away_by_one_just_started_is_not_told_0_min_ago(
    tmp_path: Path, command: str
) -> None:
    """`mindmovie render goals.yaml` while another render of the run had just started
    (two started together, or one started in a second terminal) was told "another
    mindmovie process (pid N, since 19:26, 0 min ago) is rendering run"; it is told
    "under a minute ago". Exit 2, one line, as before."""
    from mindmovie.pipeline import RunLock

    project = new_project(tmp_path)
    with RunLock(project / "run"):  # the render that holds the run, just started
        r = mindmovie_fork.run(
            [command, "examples/goals.yaml", "-c", "small.yaml", "--out", "run"],
            env=_env(),
            cwd=project,
            timeout=120,
        )
    at = time.strftime("%H:%M", time.localtime(os.stat(project / "run" / ".lock").st_mtime))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr == (
        f"error: another mindmovie process (pid {os.getpid()}, since {at}, under a minute "
        "ago) is rendering run; wait for it to finish or stop it first\n"
    ), r.stderr


@pytest.mark.parametrize("to", ["notes.txt", "gone.txt"])
def test_a_lock_file_that_is_a_symbolic_link_is_refused_and_what_it_leads_to_kept(
    tmp_path: Path, to: str
) -> None:
    """The run's .lock a symbolic link (to a person's file): the render opened it through
    the link and wrote its pid there, so notes.txt read "22454". It is refused, naming
    the link, and neither it nor its target is changed (one that leads nowhere is not
    made)."""
    from mindmovie.pipeline import RunDirError, RunLock

    notes = tmp_path / "notes.txt"
    notes.write_text("precious notes\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").symlink_to(tmp_path / to)
    with pytest.raises(RunDirError) as e, RunLock(run):
        pass
    assert str(e.value).startswith(f"{run / '.lock'}: is a symbolic link, not the run's lock")
    assert notes.read_text() == "precious notes\n"
    assert not (tmp_path / "gone.txt").exists() and (run / ".lock").is_symlink()


def test_a_lock_file_dated_ahead_of_the_clock_is_not_said_taken_under_a_minute_ago() -> None:
    """A run's lock file dated ahead of this machine's clock (the clock set back, no
    real-time clock): the render turned away was told "since 12:00, under a minute
    ago" of a time to come. Its date is said as ahead of the clock."""
    from mindmovie.pipeline import _held_since

    ahead = time.time() + 3 * 3600
    said = _held_since(ahead)
    day = time.strftime("%Y-%m-%d %H:%M", time.localtime(ahead))
    assert said == f", its lock file dated {day}, ahead of this machine's clock", said
    assert _held_since(time.time() - 10).endswith(", under a minute ago")
