"""Resource and environment trouble: a full disk, ... Each ends as one line, never a
traceback, and keeps what is finished for the next render."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mindmovie.cli import app
from mindmovie.status import collect_status
from tests.integration.support import KEYS, goals_file, settings_for, tiny_local_settings
from tests.sim import SimServer

TINY = """\
output: {size: 160x90, fps: 8}
plan: {scene_seconds: 2}
compose: {quality: draft}
"""


def _render(tmp_path: Path) -> Any:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    goals = tmp_path / "goals.yaml"
    if not goals.exists():
        goals_file(tmp_path)
    args = ["render", str(goals), "-c", str(cfg), "-o", str(tmp_path / "run")]
    return CliRunner().invoke(app, args, env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def _rendered_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One finished `_render` for the module (template, the folder it was made in)."""
    import shutil

    project = tmp_path_factory.mktemp("rendered") / "project"
    project.mkdir()
    r = _render(project)
    assert r.exit_code == 0, r.output
    template = project.parent / "template"
    shutil.copytree(project, template, symlinks=True)
    return template, project


def _copied_back(template: Path, project: Path) -> Path:
    import shutil

    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(template, project, symlinks=True)
    return project


@pytest.fixture
def rendered(_rendered_template: tuple[Path, Path]) -> Path:
    """A folder whose `run` holds a finished `_render(folder)` (its goals.yaml and
    config.yaml beside it), copied back for each test to the path it was made at: a
    copy is far cheaper than the render."""
    return _copied_back(*_rendered_template)


@pytest.fixture(scope="module")
def _clips_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One `_render` stopped at `--until clips` for the module (template, its folder)."""
    import shutil

    project = tmp_path_factory.mktemp("clips") / "project"
    project.mkdir()
    (project / "config.yaml").write_text(TINY)
    goals = goals_file(project)
    args = ["render", str(goals), "-c", str(project / "config.yaml"), "-o", str(project / "run")]
    r = CliRunner().invoke(app, [*args, "--until", "clips"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert not (project / "run" / "movie.mp4").exists()
    template = project.parent / "template"
    shutil.copytree(project, template, symlinks=True)
    return template, project


@pytest.fixture
def clips_made(_clips_template: tuple[Path, Path]) -> Path:
    """A folder whose `run` holds `_render(folder)`'s every keyframe and clip and no
    movie yet (`--until clips`), copied back for each test to the path it was made at:
    the next `_render(folder)` only composes, which is what the compose tests are about."""
    return _copied_back(*_clips_template)


def _disk_full(kind: str) -> BaseException:
    from mindmovie.media import FFmpegError

    if kind == "oserror":
        return OSError(errno.ENOSPC, "No space left on device")
    if kind == "sqlite":
        return sqlite3.OperationalError("database or disk is full")
    return FFmpegError(
        "ffmpeg failed (1): [out#0/mp4 @ 0x1] Error writing trailer: No space left on device"
    )


@pytest.mark.parametrize("kind", ["oserror", "sqlite", "ffmpeg"])
def test_a_full_disk_during_the_compose_is_one_line_naming_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, request: pytest.FixtureRequest
) -> None:
    """A full disk while composing (a card, the audio bed, run.db, ffmpeg's segments or
    final mux) was a traceback (exit 1) or ffmpeg's log tail, and never said which disk.
    (The "oserror" case makes its scenes in the render whose compose fails, so that the
    scenes kept are that render's own work; the others start from the scenes made once
    for the module, `--until clips`, and the render here composes.)"""
    from mindmovie import compose

    if kind != "oserror":
        tmp_path = request.getfixturevalue("clips_made")

    def full(*args: Any, **kwargs: Any) -> Any:
        raise _disk_full(kind)

    monkeypatch.setattr(compose, "renderer", lambda engine: full)
    r = _render(tmp_path)
    assert r.exit_code == 1, r.output
    assert not isinstance(r.exception, (OSError, sqlite3.Error, RuntimeError)), r.exception
    lines = r.stderr.strip().splitlines()
    assert lines[-1].startswith("error: no space left on the disk holding "), r.stderr
    assert str(tmp_path / "run") in lines[-1] and "run the same command again" in lines[-1]
    # the scenes are finished and kept; the compose is redone by the next render
    assert {s["clip"] for s in collect_status(tmp_path / "run")["scenes"]} == {"succeeded"}
    monkeypatch.undo()
    r = _render(tmp_path)
    assert r.exit_code == 0, r.output


def test_a_full_disk_in_the_scenes_names_the_disk_not_n_failed_scenes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every scene failing on a full disk read "3 scene(s) failed: ... [Errno 28]" and
    suggested --skip-failed, which composes onto the same full disk."""
    from mindmovie.pipeline import Pipeline

    async def full(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Pipeline, "_keyframe", full)
    r = _render(tmp_path)
    assert r.exit_code == 1, r.output
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no space left on the disk holding "), r.stderr
    assert "--skip-failed" not in r.stderr


def test_a_failing_audio_head_start_prints_no_thread_traceback(
    clips_made: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compose prepares the audio bed in a thread while the encoders start; a full
    disk there printed "Exception in thread compose-audio-prepare: Traceback ..." above
    the error line (the audio pass itself then met the same error). (The scenes are made
    once for the module, `--until clips`: the render here composes.)"""
    import threading

    tmp_path = clips_made

    from mindmovie.compose import ffmpeg

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    hooked: list[str] = []
    monkeypatch.setattr(ffmpeg, "prepare_audio", full)
    monkeypatch.setattr(threading, "excepthook", lambda a: hooked.append(str(a.thread)))
    r = _render(tmp_path)
    assert r.exit_code == 0, r.output  # the audio pass makes the bed itself
    assert hooked == []


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
async def test_sigterm_stops_a_render_like_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signame: str
) -> None:
    """SIGTERM (kill, timeout, systemd, docker stop) killed the render at once: no resume
    line, and the compose's ffmpeg encoders went on as orphans. It now stops the way the
    first Ctrl-C does: nothing new starts, finished work is kept, Interrupted. SIGHUP (the
    terminal or ssh session closed) did the same until it was handled alike."""
    import os
    import signal
    import time

    if not hasattr(signal, signame):
        pytest.skip(f"no {signame} on this platform")
    signum = getattr(signal, signame)

    from mindmovie import compose
    from mindmovie.media import FFmpegError
    from mindmovie.pipeline import Interrupted, Pipeline

    settings = tiny_local_settings()
    pipe = Pipeline(goals_file(tmp_path), settings, out=tmp_path / "run")
    terms: list[int] = []

    def terminated(*args: Any, **kwargs: Any) -> Any:
        # the test runs in the main thread, as the CLI does: no handler is a failure
        assert pipe._sigint_installed, "the render installed no stop-signal handler"
        os.kill(os.getpid(), signum)
        t_end = time.monotonic() + 10
        while not pipe._stopping and not terms and time.monotonic() < t_end:
            time.sleep(0.01)
        raise FFmpegError("ffmpeg failed (-15): ")  # its encoders got it too

    before = signal.signal(signum, lambda n, frame: terms.append(n))
    try:
        monkeypatch.setattr(compose, "renderer", lambda engine: terminated)
        with pytest.raises(Interrupted, match="run the same command again"):
            await pipe.run()
    finally:
        signal.signal(signum, before)
    assert terms == []  # the render's own handler took it, not the process default
    assert collect_status(tmp_path / "run")["scenes"][0]["clip"] == "succeeded"


@pytest.mark.parametrize("signame", ["SIGHUP", "SIGINT"])
async def test_a_signal_the_render_was_started_ignoring_stays_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signame: str
) -> None:
    """`nohup mindmovie render ...` (SIGHUP ignored: the render is to outlive the ssh
    session), or a script's `mindmovie render ... &` (SIGINT ignored by the shell for a
    background job): the render put its own stop handler over the ignored signal, so
    logging out (or the script's Ctrl-C) stopped the render it was told to leave alone.
    An ignored signal stays ignored; the movie is made."""
    import os
    import signal
    import time

    signum = getattr(signal, signame)
    from mindmovie import compose
    from mindmovie.pipeline import Pipeline

    pipe = Pipeline(goals_file(tmp_path), tiny_local_settings(), out=tmp_path / "run")
    seen: list[tuple[bool, Any]] = []
    real = compose.renderer

    def renderer(engine: Any) -> Any:
        make = real(engine)

        def hung_up(*args: Any, **kwargs: Any) -> Any:
            os.kill(os.getpid(), signum)  # the session closed (or the script's Ctrl-C)
            time.sleep(0.5)  # the loop runs meanwhile (the compose is in a thread)
            seen.append((pipe._stopping, signal.getsignal(signum)))
            return make(*args, **kwargs)

        return hung_up

    before = signal.signal(signum, signal.SIG_IGN)
    try:
        monkeypatch.setattr(compose, "renderer", renderer)
        res = await pipe.run()
        assert signal.getsignal(signum) == signal.SIG_IGN  # as it was before the render
    finally:
        signal.signal(signum, before)
    assert seen == [(False, signal.SIG_IGN)]
    assert res.movie is not None and res.movie.is_file()


def test_a_closed_stdin_at_the_spend_question_is_nobody_to_confirm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With stdin closed (`0<&-`) Python's sys.stdin is None: a paid render was an
    AttributeError traceback ('NoneType' object has no attribute 'isatty') instead of
    "nobody is here to confirm it: pass --yes ... or --budget"."""
    import sys

    from mindmovie.cli import _confirmer
    from mindmovie.costs import RunEstimate
    from mindmovie.pipeline import Declined

    monkeypatch.setattr(sys, "stdin", None)
    confirm = _confirmer(False, None, True)
    with pytest.raises(Declined, match="nobody is here to confirm it"):
        confirm(RunEstimate(planner=None, scenes=[]))
    assert _confirmer(False, 1.0, True)(RunEstimate(planner=None, scenes=[]))


def test_init_guided_with_a_closed_stdin_stops_cleanly(tmp_path: Path) -> None:
    """`mindmovie init --guided 0<&-` was a traceback (RuntimeError: input(): lost
    sys.stdin) instead of the line </dev/null gives; nothing is written either way."""
    import os
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    r = subprocess.run(
        [sys.executable, "-m", "mindmovie", "init", str(tmp_path / "g"), "--guided"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src), "COLUMNS": "200"},
        preexec_fn=lambda: os.close(0),
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "RuntimeError" not in r.stderr
    assert r.stderr.strip().endswith("stopped before the last answer; nothing was written")
    assert not (tmp_path / "g").exists()  # nor the folder it made before asking


def test_a_render_with_stderr_closed_makes_the_movie(tmp_path: Path) -> None:
    """`mindmovie render goals.yaml 2>&-` (a cron job, a service with stderr closed):
    sys.stderr is None, and choosing the progress view crashed the render before any
    work (AttributeError, exit 1, with nowhere to say so)."""
    import os
    import subprocess
    import sys

    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    goals = goals_file(tmp_path)
    src = Path(__file__).resolve().parents[2] / "src"
    r = subprocess.run(
        [sys.executable, "-m", "mindmovie", "render", str(goals), "-c", str(cfg),
         "-o", str(tmp_path / "run")],
        capture_output=False,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
        preexec_fn=lambda: os.close(2),
        timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout
    assert (tmp_path / "run" / "movie.mp4").is_file()


def _in_an_ascii_locale(args: list[str], cwd: Path) -> Any:
    """`python -m mindmovie ARGS` where Python names files in ASCII: the C locale with
    PYTHONUTF8=0 (a Latin-1 or EUC locale is alike for the letters it lacks)."""
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "200"}
    env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONIOENCODING="")
    return subprocess.run(
        [sys.executable, "-m", "mindmovie", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_a_title_the_locales_file_names_cannot_hold_names_its_run_folder(
    tmp_path: Path,
) -> None:
    """A title with no Latin letter names the run folder with its own words, which an
    ASCII (or Latin-1) locale's file names cannot hold: `plan` and `render` ended in a
    UnicodeEncodeError traceback before any work. The folder is the one a UTF-8 locale
    makes (its name's UTF-8 bytes)."""
    (tmp_path / "goals.yaml").write_text(
        "title: 日本の夢\ngoals:\n  - category: a\n    vision: b\n", encoding="utf-8"
    )
    (tmp_path / "config.yaml").write_text(TINY)
    r = _in_an_ascii_locale(["plan", "goals.yaml", "-c", "config.yaml", "--yes"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert os.listdir(os.fsencode(tmp_path / "outputs")) == ["日本の夢".encode()]
    assert (tmp_path / "outputs" / "日本の夢" / "plan.yaml").is_file()


@pytest.mark.parametrize(
    "photo, config, said",
    [
        ("photos/café 日本.jpg", "", "goals.yaml:5: goals[1].photos[1]: photo cannot be used: "),
        ("", "output_dir: /tmp/films-é\n", "config.yaml:1: output_dir: got '/tmp/films-\\xe9': "),
    ],
)
def test_a_path_the_locales_file_names_cannot_hold_is_one_line(
    tmp_path: Path, photo: str, config: str, said: str
) -> None:
    """Where Python names files in an encoding other than UTF-8 (here the C locale with
    PYTHONUTF8=0: ASCII; LANG=en_US.ISO-8859-1 alike), a goals.yaml photo or an
    output_dir written with letters it lacks (the YAML is UTF-8) was a
    UnicodeEncodeError traceback, exit 1. One line, exit 2, naming the line and the fix."""
    goals = tmp_path / "goals.yaml"
    photos = f"    photos: [{photo}]\n" if photo else ""
    goals.write_text(f"title: T\ngoals:\n  - category: a\n    vision: b\n{photos}")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(config, encoding="utf-8")
    r = _in_an_ascii_locale(["estimate", "goals.yaml", "-c", "config.yaml"], tmp_path)
    lines = r.stderr.splitlines()
    assert (r.returncode, len(lines)) == (2, 1), r.stderr
    assert lines[0].startswith(f"error: {said}"), lines
    assert "in this system's file names (ascii, from the locale): run with a UTF-8" in lines[0]


@pytest.mark.parametrize("code", [13, 4874])  # SQLITE_FULL, SQLITE_IOERR_SHMSIZE
def test_a_full_disk_when_opening_run_db_is_not_a_damaged_run_db(
    rendered: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """On a full disk, opening a healthy run.db (WAL's -shm cannot grow: 'disk I/O
    error') or making a new one ('database or disk is full') said "run.db is damaged ...
    Move it away (e.g. to run.db.bad) and render again": advice that throws away the
    journal of everything paid for. Reproduced on a full tmpfs."""
    import shutil

    from mindmovie.store import Store

    tmp_path = rendered  # a finished _render(tmp_path) (the fixture checked exit 0)

    def full(self: Store, *args: object) -> None:
        e = sqlite3.OperationalError("disk I/O error" if code != 13 else "disk is full")
        e.sqlite_errorcode = code
        raise e

    monkeypatch.setattr(Store, "_migrate", full)
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=0))
    r = _render(tmp_path)
    assert r.exit_code == 1, r.output
    assert "damaged" not in r.stderr and "move it away" not in r.stderr.lower(), r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("error: no space left on the disk")
    assert (tmp_path / "run" / "run.db").is_file()


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EACCES])
def test_storyboard_that_cannot_be_written_is_one_line(
    rendered: Path, monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    """`mindmovie storyboard RUN` on a full disk, or in a run folder this user cannot
    write (another user's run: status works there), was an OSError traceback. The full
    disk is exit 1 (no word of the paid calls' rule: the board sends none); a folder
    this user cannot write exit 2, the folder's problem, as `render` says it (it was 1).
    The full disk's advice was to "render into another disk with --out", which
    `storyboard` does not take."""
    from mindmovie import storyboard

    tmp_path = rendered  # a finished _render(tmp_path) (the fixture checked exit 0)

    def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError(err, os.strerror(err), str(tmp_path / "run" / ".storyboard.png.1.tmp"))

    # (both files: the sheet of the run's inputs, drawn by its render, is not drawn again)
    monkeypatch.setattr(storyboard, "atomic_write_bytes", refused)
    monkeypatch.setattr(storyboard, "atomic_write_text", refused)
    r = CliRunner().invoke(app, ["storyboard", str(tmp_path / "run")], env={"COLUMNS": "200"})
    assert r.exit_code == (1 if err == errno.ENOSPC else 2), r.output
    assert not isinstance(r.exception, OSError), r.exception
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("error: storyboard not written: "), r.stderr
    assert str(tmp_path / "run") in line
    assert "a paid call" not in line, line
    # (`storyboard` has no --out: a full disk told to use it)
    assert "--out" not in line, line


def test_until_keyframes_with_a_storyboard_that_cannot_be_written_names_the_keyframes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board is cosmetic: a full disk for it is a warning, not a failed render. But
    `render --until keyframes` then said "keyframes ready for review: .../storyboard.html",
    a page that did not exist; it now names the folder the keyframes are in."""
    from mindmovie import storyboard

    def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "storyboard.png")

    monkeypatch.setattr(storyboard, "atomic_write_bytes", refused)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    run = tmp_path / "run"
    args = ["render", str(goals_file(tmp_path)), "-c", str(cfg), "-o", str(run),
            "--until", "keyframes"]  # fmt: skip
    r = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
    assert r.exit_code == 0, (r.output, r.exception)
    assert "storyboard not written" in r.output
    assert not (run / "storyboard.html").exists()
    ready = [ln for ln in r.output.splitlines() if "keyframes ready for review" in ln]
    assert ready and "storyboard.html" not in ready[0], r.output
    assert str(run / "scenes") in ready[0]
    assert list((run / "scenes").glob("*/keyframe.png"))


def test_a_run_folder_named_with_a_newline_composes(tmp_path: Path) -> None:
    """The final mux reads the segments from a concat list, a line per entry, that held
    their full paths: a run folder whose name has a newline failed it (an FFmpegError
    traceback) after every segment was encoded."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    run = tmp_path / "two\nlines"
    args = ["render", str(goals_file(tmp_path)), "-c", str(cfg), "-o", str(run)]
    r = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert r.exit_code == 0, (r.output, r.exception)
    assert (run / "movie.mp4").is_file()


def test_no_usable_temp_folder_is_one_line_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TMPDIR, /tmp, /var/tmp and the working folder all read-only (seen with read-only
    mounts over each): every scene failed "No usable temporary directory found in
    [...]" (ffmpeg's logs go there), with a paid preset after its keyframe and clip were
    bought, and the compose ended in a FileNotFoundError traceback. The render stops
    first, in one line. (`tempfile` is given one candidate, a file, where it cannot
    make one.)"""
    import tempfile

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(tempfile, "_candidate_tempdir_list", lambda: [str(blocked)])
    r = _render(tmp_path)
    assert r.exit_code == 2, (r.output, r.exception)
    assert r.stderr.strip().splitlines()[-1] == (
        f"error: No usable temporary directory found in [{str(blocked)!r}]: set TMPDIR to a "
        "folder this user can write (ffmpeg writes its logs there while it runs)"
    ), r.stderr
    assert not (tmp_path / "run" / "scenes").exists()


def test_a_temp_folder_too_deep_for_sqlite_leaves_the_storyboard_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The storyboard's figures were worked out in a run.db made in the temp folder:
    with TMPDIR deeper than SQLite opens a file at (~500 bytes, far under the system's
    limit) every render ended "warning: storyboard not written: .../mindmovie-board-
    .../run.db cannot be written ..." and drew none. They are worked out in memory."""
    import tempfile

    deep = tmp_path / "tmp"
    while len(os.fsencode(deep)) < 520:
        deep = deep / ("t" * 100)
    deep.mkdir(parents=True)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))  # as TMPDIR=deep gives
    r = _render(tmp_path)
    assert r.exit_code == 0, (r.output, r.exception)
    assert "storyboard not written" not in r.output, r.output
    assert (tmp_path / "run" / "storyboard.png").is_file()
    assert not list(deep.iterdir())


@pytest.mark.parametrize("where", ["output_dir", "--out"])
def test_a_run_folder_on_a_read_only_filesystem_says_where_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """goals.yaml and its photos on a read-only card or share, rendered from their
    folder: the default run folder is outputs/<title> in the working folder, and the
    render said only "cannot create the folder: Read-only file system", not where else
    the movie can go. (`mount -o ro` needs root: mkdir is refused as a read-only mount
    refuses it.)"""
    real = Path.mkdir

    def read_only(self: Path, *args: Any, **kwargs: Any) -> None:
        if Path(os.path.abspath(self)).is_relative_to(tmp_path / "outputs"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real(self, *args, **kwargs)

    goals_file(tmp_path)
    (tmp_path / "config.yaml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Path, "mkdir", read_only)
    args = ["render", "goals.yaml", "-c", "config.yaml"]
    args += ["--out", "outputs/mine"] if where == "--out" else []
    r = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert r.exit_code == 2, (r.output, r.exception)
    what = (
        "--out outputs/mine"
        if where == "--out"
        else "run folder outputs/sim-movie (output_dir/<title>)"
    )
    tail = "" if where == "--out" else " (or set output_dir)"
    assert r.stderr.strip().splitlines()[-1] == (
        f"error: {what}: cannot create the folder: Read-only file system; give a folder this "
        f"user can write with --out{tail}"
    ), r.stderr


@pytest.mark.parametrize("name", ["Movie #1", "Why?"])
def test_a_run_folder_named_with_a_hash_or_question_mark_composes(
    tmp_path: Path, name: str
) -> None:
    """The concat demuxer reads each entry of the final mux's list relative to the list's
    path taken as a URL, which ends at a "#" (a fragment) or "?" (a query): in a run
    folder "Movie #1" every segment was read from the folder above, "Impossible to open
    '.../segments/<key>.mp4'", and the compose failed after every segment was made."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    run = tmp_path / name
    args = ["render", str(goals_file(tmp_path)), "-c", str(cfg), "-o", str(run)]
    r = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert r.exit_code == 0, (r.output, r.exception)
    assert (run / "movie.mp4").is_file()


def test_an_ffmpeg_named_by_a_relative_path_composes_the_final_mux_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IMAGEIO_FFMPEG_EXE as a path relative to the working folder (`bin/ffmpeg`): every
    ffmpeg run found it there but the final mux, which runs in its concat list's folder
    (a run folder with "#"), where the relative name leads nowhere: the render failed
    after every segment was encoded."""
    import imageio_ffmpeg

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "ffmpeg").symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", "bin/ffmpeg")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    run = tmp_path / "run"
    args = ["render", str(goals_file(tmp_path)), "-c", str(cfg), "-o", str(run)]
    from mindmovie import media

    media.ffmpeg_exe.cache_clear()  # the path is looked up once a process
    try:
        r = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    finally:
        media.ffmpeg_exe.cache_clear()  # the next test looks the real one up again
    assert r.exit_code == 0, (r.output, r.exception)
    assert (run / "movie.mp4").is_file()


def _render_and_doctor_with_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> tuple[Path, Any, Any]:
    """A render and `doctor` with IMAGEIO_FFMPEG_EXE a stand-in that runs `script` (sh)
    before handing its arguments to the real ffmpeg: (the stand-in, render's result,
    doctor's)."""
    import imageio_ffmpeg

    from mindmovie import media

    fake = tmp_path / "ffmpeg"
    fake.write_text(f'#!/bin/sh\n{script}exec "{imageio_ffmpeg.get_ffmpeg_exe()}" "$@"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(fake))
    media.ffmpeg_exe.cache_clear()  # the path is looked up once a process
    try:
        r = _render(tmp_path)
        doctor = CliRunner().invoke(app, ["doctor", "-c", str(tmp_path / "config.yaml")])
    finally:
        media.ffmpeg_exe.cache_clear()  # the next test looks the real one up again
    return fake, r, doctor


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script ffmpeg")
def test_an_ffmpeg_without_an_encoder_the_render_uses_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IMAGEIO_FFMPEG_EXE naming an ffmpeg built without libx264 (a system one): it ran
    `-version`, so the render started, and every scene's clip failed ("Unknown encoder";
    with a paid preset the compose did, every keyframe and clip paid for) while doctor
    said FAIL "ffmpeg encoders: missing: libx264". The render makes doctor's check
    before any work and refuses, as doctor does."""
    import imageio_ffmpeg

    real = imageio_ffmpeg.get_ffmpeg_exe()
    fake, r, doctor = _render_and_doctor_with_ffmpeg(
        tmp_path,
        monkeypatch,
        f'case "$*" in *-encoders*) "{real}" "$@" | grep -v " libx264 "; exit 0;; esac\n'
        'for a in "$@"; do [ "$a" = libx264 ] && '
        "{ echo \"Unknown encoder 'libx264'\" >&2; exit 8; }; done\n",
    )
    assert r.exit_code == 2, (r.output, r.exception)
    assert r.stderr.strip().splitlines()[-1] == (
        f"error: ffmpeg ({fake}) lacks what a render uses: encoders libx264; use an ffmpeg "
        "built with them (imageio-ffmpeg's own has them: unset IMAGEIO_FFMPEG_EXE, or "
        "reinstall with the README's install line). `mindmovie doctor` checks it. Nothing "
        "was made or spent"
    ), r.stderr
    assert not (tmp_path / "run").exists()
    assert doctor.exit_code == 1 and "missing: libx264" in doctor.output, doctor.output


@pytest.mark.skipif(sys.platform == "win32", reason="a shell-script ffmpeg")
def test_an_ffmpeg_whose_listing_fails_is_not_said_to_lack_every_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ffmpeg that runs `-version` but whose part listing fails (killed, or out of
    memory under `ulimit -v`) printed nothing, and the render refused it as lacking
    every filter, encoder and muxer, a false line that sent the person to rebuild an
    ffmpeg that had them all. The listing's failure is said as it is, and doctor's row
    says it too."""
    _, r, doctor = _render_and_doctor_with_ffmpeg(
        tmp_path,
        monkeypatch,
        'case "$*" in *-filters*) echo "Error: Cannot allocate memory" >&2; exit 1;; esac\n',
    )
    last = r.stderr.strip().splitlines()[-1]
    assert "lacks" not in last, r.stderr
    assert "-filters" in last and "Cannot allocate memory" in last, r.stderr
    assert not (tmp_path / "run").exists()
    assert doctor.exit_code == 1 and "Cannot allocate memory" in doctor.output, doctor.output
    assert "missing:" not in doctor.output, doctor.output


def test_a_pillow_without_freetype_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow built without FreeType (from source, without libfreetype) cannot load the
    scalable font every card and overlay is drawn with: the render planned (a paid
    plan with a paid preset), then ended in an ImportError traceback at its first text
    (exit 1), and doctor's fonts row, which only caught OSError and ValueError, ended
    in that traceback too. Both say it in one line now; the render before any work."""
    from PIL import ImageFont, features

    from mindmovie.compose import cards

    def no_freetype(*args: Any, **kwargs: Any) -> Any:
        raise ImportError("The _imagingft C module is not installed")  # as Pillow says it

    real = features.check
    monkeypatch.setattr(ImageFont, "truetype", no_freetype)
    monkeypatch.setattr(features, "check", lambda name: name != "freetype2" and real(name))
    cards.font.cache_clear()  # (a font loaded by an earlier test would be drawn with)
    try:
        r = _render(tmp_path)
        doctor = CliRunner().invoke(app, ["doctor", "-c", str(tmp_path / "config.yaml")])
    finally:
        cards.font.cache_clear()
    assert r.exit_code == 2, (r.output, r.exception)
    assert r.stderr.strip().splitlines()[-1] == (
        "error: Pillow cannot load its scalable font, which draws the movie's text (The "
        "_imagingft C module is not installed); reinstall Pillow from PyPI's wheels (pip "
        "install --force-reinstall pillow), which are built with FreeType. Nothing was "
        "made or spent"
    ), r.stderr
    assert not (tmp_path / "run").exists()
    assert isinstance(doctor.exception, SystemExit | None), doctor.exception
    assert doctor.exit_code == 1, doctor.output
    assert "fonts" in doctor.output and "_imagingft" in doctor.output, doctor.output


def test_a_render_in_a_folder_that_was_removed_is_one_line_as_doctor_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started in a folder removed since (another shell's `rm -rf`), the render's run
    folder `outputs/<title>` is relative to nothing: it ended in a FileNotFoundError
    traceback (os.getcwd, as it took the lock), where doctor's output dir row says the
    current folder no longer exists. It says so in one line now, as doctor does."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    goals = goals_file(tmp_path)
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    r = CliRunner().invoke(app, ["render", str(goals), "-c", str(cfg)], env={"COLUMNS": "200"})
    doctor = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env={"COLUMNS": "200"})
    assert r.exit_code == 2, (r.output, r.exception)
    said = (
        "cannot be used (the current folder no longer exists: it was removed or moved; cd to one)"
    )
    assert r.stderr.strip().splitlines()[-1] == f"error: outputs/sim-movie: {said}", r.stderr
    assert doctor.exit_code == 1, doctor.output
    # (the detail column folds the row anywhere: compared without spaces)
    cells = "".join(ln.split("│")[3] for ln in doctor.output.splitlines() if ln.count("│") > 3)
    assert "".join(f"outputs: {said}".split()) in "".join(cells.split()), doctor.output


def test_a_run_folder_name_too_long_for_the_filesystem_is_one_line(tmp_path: Path) -> None:
    """A folder name is at most 255 bytes: 130 accented letters (260 bytes in UTF-8) as
    --out, or given to status/estimate, was an OSError traceback (File name too long)
    from Path.exists()/is_file(), which pass on errors other than 'not there'."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(TINY)
    goals = goals_file(tmp_path)
    run = tmp_path / ("é" * 130)
    runner = CliRunner()
    r = runner.invoke(app, ["render", str(goals), "-c", str(cfg), "-o", str(run)])
    assert r.exit_code == 2, (r.output, r.exception)
    assert r.stderr.strip().endswith("cannot use the folder: File name too long"), r.stderr
    r = runner.invoke(app, ["status", str(run), "-c", str(cfg)])
    assert r.exit_code == 2, (r.output, r.exception)
    assert "File name too long" in r.stderr
    # estimate refuses the --out render refuses (it priced a render that cannot start)
    r = runner.invoke(app, ["estimate", str(goals), "-c", str(cfg), "-o", str(run)])
    assert r.exit_code == 2, (r.output, r.exception)
    assert r.stderr.strip().endswith("cannot use the folder: File name too long"), r.stderr


async def test_a_downloaded_clip_has_the_usual_file_mode(tmp_path: Path, sim: Any) -> None:
    """Seedance clips were downloaded through mkstemp and kept its 0600: clip.mp4 was
    unreadable to the run folder's other users (keyframes and movie: 0666 less umask)."""
    import os

    from mindmovie.pipeline import Pipeline
    from tests.integration.support import KEYS, settings_for

    sim.media_scale = 0.25
    umask = os.umask(0o022)
    try:
        res = await Pipeline(
            goals_file(tmp_path, sim), settings_for("byteplus", sim), out=tmp_path / "run",
            keys=KEYS,
        ).run(until="clips")  # fmt: skip
    finally:
        os.umask(umask)
    clips = sorted((tmp_path / "run" / "scenes").glob("*/clip.mp4"))
    assert clips and len(clips) == len(res.plan.scenes)
    assert {oct(c.stat().st_mode & 0o777) for c in clips} == {oct(0o644)}


def test_a_run_folder_on_a_filesystem_without_locks_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flock on NFS without lockd (ENOLCK) or some FUSE mounts (EOPNOTSUPP) raised an
    OSError traceback; only "locked by another render" was expected."""
    import fcntl

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    r = _render(tmp_path)
    assert r.exit_code == 2, (r.output, r.exception)
    assert "this filesystem cannot lock the run folder" in r.stderr.strip().splitlines()[-1]


def test_a_part_of_the_run_folder_this_user_cannot_write_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compose/ made by another user (or with sudo) gave a PermissionError traceback
    from the compose (reproduced with a nobody-owned compose/ and no CAP_DAC_OVERRIDE)."""
    from mindmovie import compose

    denied = str(tmp_path / "run" / "compose" / "segments")

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(errno.EACCES, "Permission denied", denied)

    monkeypatch.setattr(compose, "renderer", lambda engine: refused)
    r = _render(tmp_path)
    assert r.exit_code == 2, (r.output, r.exception)
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {denied}: cannot write it (Permission denied)"), r.stderr


def test_a_movie_that_cannot_be_replaced_is_named_not_its_temp_file(
    rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """movie.mp4 made immutable (`chattr +i`): the render said "error:
    run/.movie.mp4.24700.tmp.mp4: cannot write it (Operation not permitted)", a hidden
    file gone by then. The rename's refusal names the file it would replace."""
    run = rendered / "run"
    movie = run / "movie.mp4"
    movie.unlink()  # (the render composes it again from its segments)
    real_replace = os.replace

    def refused(src: Any, dst: Any) -> None:
        if Path(dst) == movie:
            raise PermissionError(errno.EPERM, "Operation not permitted", str(src), None, str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", refused)
    r = _render(rendered)
    assert r.exit_code == 2, (r.output, r.exception)
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {movie}: cannot write it (Operation not permitted)"), last
    assert not [p for p in run.glob(".movie*") if p.is_file()]


async def test_no_paid_call_is_sent_without_room_for_its_result(
    tmp_path: Path, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paid image that could not be saved on a full disk was lost and paid for again
    on resume: with less than MIN_FREE_BYTES free no paid call is sent (the run stops on
    the disk, nothing committed); the render goes on once there is room."""
    import shutil
    from collections import namedtuple

    from mindmovie import pipeline
    from mindmovie.pipeline import DiskFull, Pipeline
    from tests.integration.support import KEYS, settings_for

    sim.media_scale = 0.25
    real = shutil.disk_usage
    usage = namedtuple("usage", "total used free")
    tight = {"on": True}

    def disk_usage(path: Any) -> Any:
        if tight["on"]:
            return usage(10**9, 10**9 - pipeline.MIN_FREE_BYTES // 2, pipeline.MIN_FREE_BYTES // 2)
        return real(path)

    monkeypatch.setattr(pipeline.shutil, "disk_usage", disk_usage)
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    with pytest.raises(DiskFull, match="MB free"):
        await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run()
    assert sim.stats()["requests"] == 0
    tight["on"] = False
    res = await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["images"] == len(res.plan.scenes)


async def test_a_paid_image_that_cannot_be_saved_is_billed_not_left_in_flight(
    tmp_path: Path, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The picture came back (and was charged) but the disk refused it: the ledger bills
    it, instead of showing it in flight for ever."""
    from mindmovie import pipeline
    from mindmovie.pipeline import DiskFull, Pipeline
    from mindmovie.store import Store
    from tests.integration.support import KEYS, settings_for

    sim.media_scale = 0.25
    real = pipeline.atomic_write_bytes

    def full(path: Path, data: bytes) -> None:
        if path.name == "keyframe.png":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(pipeline, "atomic_write_bytes", full)
    with pytest.raises(DiskFull):
        await Pipeline(
            goals_file(tmp_path, sim), settings_for("byteplus", sim), out=tmp_path / "run",
            keys=KEYS,
        ).run()  # fmt: skip
    store = Store(tmp_path / "run" / "run.db")
    try:
        rows = [r for r in store.ledger_rows() if r["stage"] == "keyframe"]
    finally:
        store.close()
    assert rows and len(rows) == sim.stats()["totals"]["images"]
    assert {r["state"] for r in rows} == {"billed"}, rows


@pytest.mark.parametrize(
    ("error", "said"),
    [
        # numpy drawing a 1280x720 card under `ulimit -v 400000` (seen by hand)
        (
            MemoryError("Unable to allocate 10.5 MiB for an array with shape (720, 1280, 3)"),
            "out of memory: ",
        ),
        # a thread under `ulimit -u`, or under `ulimit -v 700000` (its stack: seen by hand)
        (RuntimeError("can't start new thread"), "no more processes or threads could be"),
    ],
    ids=["memory", "threads"],
)
async def test_a_limit_met_in_the_compose_is_said_as_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, said: str
) -> None:
    """What a limit of the process (`ulimit -v`, `ulimit -u`) makes Python raise in the
    compose (here drawing the title card) was a traceback ending in "MemoryError: Unable
    to allocate ..." or "RuntimeError: can't start new thread". It is one line naming
    the limits that may be the cause, as a full disk is; the scenes are kept."""
    from mindmovie.compose import cards
    from mindmovie.pipeline import DiskFull, Pipeline

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(cards, "render_card", fails)
    with pytest.raises(DiskFull) as got:
        await Pipeline(goals_file(tmp_path), tiny_local_settings(), out=tmp_path / "run").run()
    assert str(got.value).startswith(said), got.value
    assert "ulimit -" in str(got.value) or "machine's memory" in str(got.value), got.value
    assert "finished work is kept" in str(got.value)
    scenes = collect_status(tmp_path / "run")["scenes"]
    assert scenes and {s["clip"] for s in scenes} == {"succeeded"}, scenes


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2,
    reason="needs CPU affinity (Linux) and two CPUs to leave one out",
)
def test_a_process_given_one_cpu_plans_for_one(tmp_path: Path) -> None:
    """os.cpu_count() counts the whole machine: in a container given 2 CPUs of a 64-CPU
    host (cpuset, taskset) the compositor started 64 encoders of 150-300 MB each and the
    local providers 64 workers. The affinity mask is what the process may use."""
    import subprocess
    import sys

    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "from mindmovie.cpus import usable_cpu_count\n"
        "from mindmovie.config import load_settings\n"
        "print(usable_cpu_count(), load_settings(env={}).providers.local.max_concurrent)\n"
    )
    got = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert got.stdout.split() == ["1", "1"], got.stderr


def test_only_an_eagain_out_of_starting_a_process_is_said_as_the_process_limit(
    tmp_path: Path,
) -> None:
    """Every EAGAIN is a BlockingIOError: one out of a write to a non-blocking pipe or
    terminal that is full was said as "no more processes or threads could be started"
    (`limit_message`), sending the person to `ulimit -u`. Only one out of starting a
    process (subprocess's `_execute_child`, where a fork fails under the limit) is."""
    import errno

    from mindmovie.pipeline import limit_message

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        with pytest.raises(BlockingIOError) as full:
            while True:
                os.write(write_end, b"x" * 65536)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert full.value.errno == errno.EAGAIN
    assert limit_message(full.value, tmp_path) is None

    def _execute_child() -> None:  # (named as subprocess's: a fork the limit refused)
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    with pytest.raises(BlockingIOError) as fork:
        _execute_child()
    said = limit_message(fork.value, tmp_path)
    assert said is not None and said.startswith("no more processes or threads"), said


def test_a_clip_this_user_cannot_read_is_one_line_and_nothing_is_made_again(
    rendered: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip.mp4 this user cannot read (a scene folder a `sudo` render made with umask
    077): status and estimate ended in a PermissionError traceback, render said "cannot
    write it", storyboard "cannot write in <run>", a folder the person could write. Each
    names the file that cannot be read (exit 2); render makes and buys nothing."""
    from mindmovie import fsutil, store

    run = rendered / "run"
    (clip,) = sorted(run.glob("scenes/*/clip.mp4"))[:1]
    real = store.sha256_file

    def denied(path: Path) -> str:
        if Path(path) == clip:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(store, "sha256_file", denied)
    before = {
        p: p.stat().st_mtime_ns
        for p in run.rglob("*")
        if p.is_file() and not p.name.startswith((".lock", "run.db"))
    }
    cfg, goals = str(rendered / "config.yaml"), str(rendered / "goals.yaml")
    said = f"{clip}: cannot be read (Permission denied): fix its permissions"
    for args in (
        ["status", str(run), "-c", cfg],
        ["estimate", goals, "-c", cfg, "-o", str(run)],
        ["render", goals, "-c", cfg, "-o", str(run), "-q"],
    ):
        r = CliRunner().invoke(app, args, env={"COLUMNS": "300"})
        assert r.exit_code == 2, (args, r.output, r.exception)
        assert r.stderr.strip().splitlines()[-1].startswith(f"error: {said}"), (args, r.stderr)
    assert {p: p.stat().st_mtime_ns for p in before} == before
    real_open = Path.open

    def unreadable(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == clip:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", unreadable)
    monkeypatch.setattr(os, "access", lambda p, mode, **k: Path(p) != clip)
    monkeypatch.setattr(fsutil, "sha256_file", denied)
    r = CliRunner().invoke(app, ["storyboard", str(run)], env={"COLUMNS": "300"})
    assert r.exit_code == 2, (r.output, r.exception)
    assert f"storyboard not written: {clip}: cannot be read" in r.stderr, r.stderr


@pytest.mark.parametrize("where", ["checked", "at the save"])
def test_a_scene_folder_this_user_cannot_write_is_one_line_before_any_step(
    rendered: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """scenes/<id> mode 555 (or made by another user), its keyframe to make again: the
    scene failed with raw "[Errno 13] Permission denied: '.keyframe.png.1802.tmp.png'",
    "render again retries them" (it failed the same way), its step left running and
    status saying "redo: a reference photo changed". The render refuses the folder
    before any step, naming it (exit 2); a save refused all the same is said so too."""
    from mindmovie import pipeline

    run = rendered / "run"
    (folder,) = sorted(run.glob("scenes/*/"))[:1]
    (folder / "keyframe.png").unlink()
    if where == "checked":
        real_access = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode, **k: Path(p) != folder and real_access(p, mode)
        )
        said = f"error: {folder}: cannot write in it (scene {folder.name}'s keyframe.png"
    else:
        real_write = pipeline.atomic_write_bytes

        def refused(dest: Path, data: bytes) -> None:
            if Path(dest).parent == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(folder / ".k.tmp"))
            real_write(dest, data)

        monkeypatch.setattr(pipeline, "atomic_write_bytes", refused)
        said = f"error: {folder / '.k.tmp'}: cannot write it (Permission denied)"
    cfg, goals = str(rendered / "config.yaml"), str(rendered / "goals.yaml")
    r = CliRunner().invoke(app, ["render", goals, "-c", cfg, "-o", str(run), "-q"], env={})
    assert r.exit_code == 2, (r.output, r.exception)
    assert r.stderr.strip().splitlines()[-1].startswith(said), r.stderr
    assert "retries them" not in r.stderr and "Errno" not in r.stderr, r.stderr


async def test_no_paid_call_is_sent_on_a_disk_out_of_files(
    tmp_path: Path, sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk with megabytes free but no files (inodes) left: the paid clips were sent
    and billed, then could not be saved, and the render said "no space left ... 313.9 MB
    free", sending the person to free megabytes. No paid call is sent without
    MIN_FREE_FILES, and the line says files are what is short."""
    from mindmovie import pipeline
    from mindmovie.pipeline import DiskFull, Pipeline
    from tests.integration.support import KEYS, settings_for

    real = os.statvfs

    def statvfs(path: Any) -> Any:
        st = real(path)
        return os.statvfs_result((*st[:5], 10**6, 3, 3, *st[8:]))  # files, ffree, favail

    monkeypatch.setattr(pipeline.os, "statvfs", statvfs)
    with pytest.raises(DiskFull, match="no files left to make on the disk holding") as e:
        await Pipeline(
            goals_file(tmp_path, sim), settings_for("byteplus", sim), out=tmp_path / "run",
            keys=KEYS,
        ).run()  # fmt: skip
    assert "but 3 more files, inodes, may be made there" in str(e.value)
    assert sim.stats()["requests"] == 0


async def test_a_step_stopped_by_sigterm_says_sigterm_not_ctrl_c(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render stopped by `kill` (SIGTERM): its steps stopped were journaled "stopped by
    Ctrl-C", which `status` showed (the concurrent-use audit). They name the signal."""
    import os
    import signal

    from mindmovie.pipeline import Interrupted, Pipeline
    from mindmovie.providers.byteplus import SeedreamKeyframes

    generate = SeedreamKeyframes.generate
    sent: list[int] = []

    async def killed(self: SeedreamKeyframes, request: Any) -> Any:
        if not sent:  # the first keyframe: as it is made, the render is sent SIGTERM
            sent.append(signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return await generate(self, request)

    monkeypatch.setattr(SeedreamKeyframes, "generate", killed)
    goals = goals_file(tmp_path, sim)
    with pytest.raises(Interrupted):
        await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run()
    st = collect_status(tmp_path / "run")
    errors = [r["error"] for r in st["scenes"] if r.get("error")]
    assert errors and all("stopped by SIGTERM" in e for e in errors), errors
    assert not any("Ctrl-C" in e for e in errors), errors


def test_a_step_stopped_by_the_run_folder_s_watch_says_why(tmp_path: Path) -> None:
    """The render stops itself when its run folder or journal goes away, or another
    render takes the folder (`_watch_run_dir`): its steps stopped then were journaled
    "stopped by Ctrl-C", which no one pressed (the review). They say why."""
    from mindmovie.pipeline import Interrupted, Pipeline

    pipe = Pipeline(goals_file(tmp_path), tiny_local_settings(), out=tmp_path / "run")
    pipe._stopping = True
    pipe._stop_cause = f"another render took {tmp_path / 'run'}"
    with pytest.raises(Interrupted) as e:
        pipe._check_stop()
    assert str(e.value) == f"stopped: another render took {tmp_path / 'run'}"
