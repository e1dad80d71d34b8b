"""The commands' output streams as a shell leaves them: closed (`>&-`), a pipe whose
reader is gone (`| head -1`), a file; and the questions asked on a terminal.

Each command runs in a fresh interpreter (started by `sh` where a stream is closed or
redirected, as a person's shell does it): a stream closed before Python starts is None
in `sys`, which no fork of a running process shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.project import new_project
from tests.integration.support import cli_env, goals_file
from tests.sim.server import SimServer


def _sh(
    script: str,
    *args: str,
    cwd: Path,
    stdin: int | None = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`sh -c SCRIPT` where "$@" is `python -m mindmovie ARGS`, with `env` added to the
    environment; its output captured."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    return subprocess.run(
        ["sh", "-c", script, "sh", sys.executable, "-m", "mindmovie", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["status", "run", "--json"],
        ["estimate", "examples/goals.yaml", "-c", "small.yaml", "--json"],
        ["providers", "--json"],
    ],
    ids=["status", "estimate", "providers"],
)
def test_json_with_stdout_closed_is_no_traceback(finished: Path, args: list[str]) -> None:
    """`mindmovie status RUN --json >&-`: Python's sys.stdout is None, and the JSON was
    written to it: an AttributeError traceback, exit 1. Then it and the table commands
    wrote nowhere, exit 0: a script checking the exit code took it for success. One
    line, exit 1, as a full disk under `> file`, for --json and the tables alike."""
    for shown in (args, [a for a in args if a != "--json"]):
        r = _sh('exec "$@" >&-', *shown, cwd=finished)
        assert r.returncode == 1 and r.stderr == (
            f"error: cannot write to stdout: it is closed; nothing was done (give "
            f"`mindmovie {args[0]}` a stdout, e.g. `> /dev/null` to drop its output)\n"
        ), (shown, r.returncode, r.stderr)


def test_init_guided_with_stdout_closed_reads_its_answers(tmp_path: Path) -> None:
    """`mindmovie init --guided < answers.txt >&-`: the first question's input() raised
    "RuntimeError: input(): lost sys.stdout", a traceback, exit 1, nothing written. The
    answers are read all the same (the questions shown nowhere, as all its output); at
    their end, the end-of-answers line and exit 2, as with stdout open."""
    from mindmovie.goals import load_goals

    answers = tmp_path / "answers.txt"
    answers.write_text("Zebra Movie\ncareer\nLead a kind team\n\n\n\n\nThanks Zed\n")
    with answers.open() as stdin:
        r = _sh('exec "$@" >&-', "init", "--guided", "g", cwd=tmp_path, stdin=stdin.fileno())
    assert r.returncode == 0 and r.stderr == "", (r.returncode, r.stderr)
    made = load_goals(tmp_path / "g" / "goals.yaml")
    assert (made.title, made.closing) == ("Zebra Movie", "Thanks Zed")
    r = _sh('exec "$@" >&-', "init", "--guided", "h", cwd=tmp_path)  # stdin: /dev/null
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr == "error: stopped before the last answer; nothing was written\n"
    assert not (tmp_path / "h").exists()


def test_init_guided_answers_not_in_stdin_s_encoding_are_asked_again(tmp_path: Path) -> None:
    """`init --guided` given UTF-8 answers (Chinese, Arabic, emoji) under
    PYTHONIOENCODING=ascii: reading the first was a UnicodeDecodeError traceback, exit
    1. The bytes are read as lone surrogates, which the question asks again for (saying
    the terminal may not be set to UTF-8); at the end of the answers, exit 2."""
    answers = tmp_path / "answers.txt"
    answers.write_text("我的电影 🌟\ncareer\nأنا قوية\n\n\n\n\n谢谢\n", encoding="utf-8")
    with answers.open() as stdin:
        r = _sh(
            'exec "$@"', "init", "--guided", "g", cwd=tmp_path, stdin=stdin.fileno(),
            env={"PYTHONIOENCODING": "ascii"},
        )  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr, (r.returncode, r.stderr)
    assert "did not come through as text" in " ".join(r.stdout.split()), r.stdout
    assert r.stderr == "error: stopped before the last answer; nothing was written\n"


def _reap(p: subprocess.Popen[bytes], primary: int) -> None:
    """Kill the render `p` if it still runs; close the terminal's end `primary`."""
    if p.poll() is None:
        p.kill()
        p.wait(10)
    os.close(primary)


def _paid_render(sim: SimServer, tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """The environment (keys, no MINDMOVIE_ variables) and arguments of a byteplus render
    of the simulator's goals to its keyframes: one that asks whether to spend."""
    cfg, keys = cli_env(sim, tmp_path)
    goals = goals_file(tmp_path, sim)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    return {**env, **keys}, ["render", str(goals), "-c", str(cfg), "--until", "keyframes"]


@pytest.mark.parametrize("closed", [False, True], ids=["stdout-to-a-file", "stderr-closed"])
def test_the_spend_question_is_asked_where_the_estimate_is_shown(
    sim: SimServer, tmp_path: Path, closed: bool
) -> None:
    """`mindmovie render goals.yaml > render.log` on a terminal, with a paid preset: the
    estimate (stderr) was shown and the question "Spend about $X? [y/N]" went to stdout,
    into the file: the person saw the table, then a wait. It is asked on stderr, under
    the estimate; stdout keeps the result alone. With stderr closed (`2>&-`) the answer
    raised "RuntimeError: input(): lost sys.stderr": the render ended, exit 1, without
    a word and nothing made; it is asked on stdout then."""
    import pty
    import time

    env, args = _paid_render(sim, tmp_path)
    primary, secondary = pty.openpty()
    out, err = tmp_path / "render.log", tmp_path / "render.err"
    shown = out if closed else err
    with out.open("w") as o, err.open("w") as e:
        p = subprocess.Popen(
            ["sh", "-c", 'exec "$@" 2>&-' if closed else 'exec "$@"', "sh",
             sys.executable, "-m", "mindmovie", *args],
            stdin=secondary, stdout=o, stderr=e, env=env, cwd=tmp_path,
        )  # fmt: skip
    os.close(secondary)
    try:
        end = time.monotonic() + 60
        while "[y/N]" not in shown.read_text() and p.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        os.write(primary, b"y\r")
        rc = p.wait(timeout=60)
    finally:
        _reap(p, primary)
    said, result = shown.read_text(), out.read_text()
    assert "Spend about $" in said and rc == 0, (rc, said)
    if not closed:
        assert "Estimated cost" in said
        assert result.startswith("stopped after keyframes:"), result
    assert sim.stats()["totals"]["images"] == 4


def test_the_spend_question_is_asked_on_the_terminal_when_the_log_goes_to_a_file(
    sim: SimServer, tmp_path: Path
) -> None:
    """`mindmovie render goals.yaml 2> render.log` (or `2>/dev/null`) at a terminal: the
    estimate and the question went to stderr, the file, and the person saw nothing at
    all while the render waited for an answer. With stdout the terminal and stderr not,
    both are shown on stdout; the log keeps the estimate too."""
    import pty
    import select
    import time

    env, args = _paid_render(sim, tmp_path)
    primary, secondary = pty.openpty()
    log = tmp_path / "render.log"
    with log.open("w") as e:
        p = subprocess.Popen(
            [sys.executable, "-m", "mindmovie", *args],
            stdin=secondary, stdout=secondary, stderr=e, env=env, cwd=tmp_path,
        )  # fmt: skip
    os.close(secondary)
    seen = b""

    def read(until: float, want: bytes | None = None) -> None:
        # the terminal is read as it is written: a full one would hold the render up
        nonlocal seen
        while time.monotonic() < until and p.poll() is None:
            if want is not None and want in seen:
                return
            if select.select([primary], [], [], 0.1)[0]:
                try:
                    seen += os.read(primary, 4096)
                except OSError:  # the terminal's other end closed
                    return

    try:
        read(time.monotonic() + 30, b"[y/N]")
        asked = seen.decode(errors="replace")
        if "[y/N]" in asked:
            os.write(primary, b"y\r")
        else:
            p.kill()
        read(time.monotonic() + 60)
        rc = p.wait(timeout=10)
    finally:
        _reap(p, primary)
    assert "Spend about $" in asked and "Estimated cost" in asked, (asked, log.read_text())
    assert rc == 0 and "Estimated cost" in log.read_text()
    assert sim.stats()["totals"]["images"] == 4


@pytest.mark.parametrize("gone", ["log", "result"])
def test_a_render_whose_output_pipe_closes_goes_on_to_its_end(
    sim: SimServer, tmp_path: Path, gone: str
) -> None:
    """`mindmovie render ... 2>&1 | grep -m1 done` (or a log viewer quit): the reader
    goes, and the next line of the render's log found the pipe closed. rich made that
    SystemExit(1): the render ended there, exit 1, without a word; the images then on
    the wire were paid and their answers never read (outcome unknown), the clip jobs
    sent left for a next render. Its output goes nowhere from then on and it goes on to
    its end and its own exit status. With only stdout a pipe closed at once (`| head
    -1` reading nothing more), the movie was made and the exit status was 1."""
    from mindmovie.status import collect_status

    cfg, keys = cli_env(sim, tmp_path)
    goals = goals_file(tmp_path, sim)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    run, err = tmp_path / "run", tmp_path / "render.err"
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes"]
    r, w = os.pipe()
    if gone == "result":
        os.close(r)
    with err.open("w") as e:
        p = subprocess.Popen(
            [sys.executable, "-m", "mindmovie", *args],
            stdin=subprocess.DEVNULL, stdout=w, stderr=w if gone == "log" else e,
            env={**env, **keys}, cwd=tmp_path,
        )  # fmt: skip
    os.close(w)
    try:
        if gone == "log":
            with os.fdopen(r) as log:  # as `grep -m1`: read up to a keyframe made, then go
                seen = next((line for line in log if "keyframes" in line and "done" in line), "")
            assert seen, "the log ended before a keyframe was made"
        rc = p.wait(timeout=180)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    said = err.read_text()
    assert rc == 0 and "Traceback" not in said and "Exception ignored" not in said, (rc, said)
    assert (run / "movie.mp4").is_file()
    money = collect_status(run)["money"]
    assert money["unknown"] == 0 and money["in_flight"] == 0, money


FULL = Path("/dev/full")  # every write to it fails: ENOSPC, a full disk


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
def test_a_render_whose_log_cannot_be_written_goes_on_to_its_end(tmp_path: Path) -> None:
    """`mindmovie render ... 2> render.log` with the log's disk full: the first line of
    log raised OSError ENOSPC out of rich's write, and the render ended after its plan,
    exit 1, without a word. It goes on, its log written nowhere from then on, and its
    result said on stdout."""
    project = new_project(tmp_path)
    args = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run"]
    r = _sh('exec "$@" 2>/dev/full', *args, cwd=project)
    assert r.returncode == 0, (r.returncode, r.stdout)
    assert (project / "run" / "movie.mp4").is_file()
    assert r.stdout.startswith("movie: run/movie.mp4\n"), r.stdout


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
@pytest.mark.parametrize(
    ("args", "columns"),
    [
        (["status", "run"], "80"),
        (["status", "run", "--json"], "80"),
        (["--version"], "80"),
        (["--help"], "80"),
        (["render", "--help"], "80"),
        (["--help"], "40"),
    ],
    ids=["status", "json", "version", "help", "render-help", "narrow-help"],
)
def test_output_to_a_full_disk_is_one_line_exit_1(
    finished: Path, args: list[str], columns: str
) -> None:
    """`mindmovie status RUN > out.txt` on a full disk: a traceback ending in "OSError:
    [Errno 28] No space left on device". One line on stderr, exit 1. --help is printed
    by typer's own console (click's echo under 60 columns): a traceback too."""
    r = _sh('exec "$@" >/dev/full', *args, cwd=finished, env={"COLUMNS": columns})
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr == "error: cannot write to stdout: No space left on device\n", r.stderr


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full")
def test_a_file_made_before_the_output_failed_is_said(finished: Path) -> None:
    """`init new > /dev/full`, `storyboard RUN > /dev/full`: their files were made, then
    the line saying so could not be written: "cannot write to stdout", exit 1, read as
    if nothing was made. The line says what is made."""
    r = _sh('exec "$@" >/dev/full', "init", "new", cwd=finished)
    assert r.returncode == 1 and (finished / "new" / "goals.yaml").is_file(), r.stderr
    assert r.stderr == (
        "error: cannot write to stdout: No space left on device (new/goals.yaml is written)\n"
    ), r.stderr
    r = _sh('exec "$@" >/dev/full', "storyboard", "run", cwd=finished)
    assert r.returncode == 1 and r.stderr.startswith(
        "error: cannot write to stdout: No space left on device (the storyboard is "
        "written: run/storyboard.png)"
    ), r.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--version"], "mindmovie "),
        (["status", "run", "-c", "small.yaml"], "01-health-1"),
        (["render", "nowhere.yaml"], "error: nowhere.yaml: file not found"),
    ],
    ids=["version", "status", "error"],
)
def test_columns_0_is_taken_as_unset(finished: Path, args: list[str], said: str) -> None:
    """COLUMNS=0, as `docker exec` without a terminal and some CI runners set it: rich
    took it for a width of 0 and every command printed nothing at all, its result and
    its error line alike (exit codes unchanged). It is taken as unset (80 columns)."""
    r = _sh('exec "$@"', *args, cwd=finished, env={"COLUMNS": "0"})
    assert said in r.stdout + r.stderr, (r.returncode, r.stdout, r.stderr)


def test_init_guided_asks_on_the_terminal_when_stdout_is_a_file(tmp_path: Path) -> None:
    """`mindmovie init --guided > init.log`, typed at a terminal: every question went
    into the file, and the person typed blind at a silent terminal. The questions are
    asked on stderr (the terminal) then; the file has the result lines alone."""
    import pty
    import select
    import time

    from mindmovie.goals import load_goals

    answers = ["Zebra Movie", "career", "Lead a kind team", "", "", "", "", "Thanks Zed"]
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env.update(TERM="xterm", NO_COLOR="1", COLUMNS="200")
    log = tmp_path / "init.log"
    with log.open("w") as o:
        p = subprocess.Popen(
            [sys.executable, "-m", "mindmovie", "init", "--guided", "g"],
            stdin=secondary, stdout=o, stderr=secondary, env=env, cwd=tmp_path,
            start_new_session=True,
        )  # fmt: skip
    os.close(secondary)
    shown = b""

    def asked(seconds: float = 20) -> bool:
        """Read the terminal until a question waits there (ends in ': ', then quiet)."""
        nonlocal shown
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([primary], [], [], 0.5)[0]:
                try:
                    shown += os.read(primary, 65536)
                except OSError:  # the program ended: the pty is closed
                    return False
            elif shown.rstrip(b" ").endswith(b":"):
                return True
        return False

    try:
        for n, answer in enumerate(answers):
            assert asked(), (n, shown.decode(errors="replace"), log.read_text())
            shown = b""
            os.write(primary, answer.encode() + b"\r")
        assert p.wait(timeout=20) == 0
    finally:
        _reap(p, primary)
    assert load_goals(tmp_path / "g" / "goals.yaml").closing == "Thanks Zed"
    assert log.read_text() == "goals: g/goals.yaml\nnext: mindmovie render g/goals.yaml\n"


def test_an_error_not_of_writing_the_output_is_not_blamed_on_it(tmp_path: Path) -> None:
    """Only an OSError out of a write to stdout or stderr is said as "cannot write to
    stdout": another (a file not found, a full disk under the run folder) is left to
    whatever says it, not told as the output's fault."""
    from mindmovie.cli import _written_stream

    with pytest.raises(OSError) as not_found:
        (tmp_path / "nowhere.txt").read_text()
    assert _written_stream(not_found.value) is None
    if FULL.exists():  # a full disk under another file than the output
        with open(FULL, "wb", buffering=0) as file, pytest.raises(OSError) as full:
            file.write(b"x")
        assert _written_stream(full.value) is None


def test_a_file_name_with_control_characters_is_shown_not_obeyed(tmp_path: Path) -> None:
    """`mindmovie render $'\\e[2Jgoals.yaml'`: the name went raw into "file not found",
    and the terminal cleared its screen. Its escapes are written as text."""
    r = _sh('exec "$@"', "render", "my\x1b[2J\x07goals.yaml", cwd=tmp_path)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.startswith("error: my\\x1b[2J\\x07goals.yaml: file not found"), r.stderr
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr
