"""`python -m mindmovie ARGS` as a fork of a process that has the provider SDKs imported.

Why: the crash tests (test_crashproof.py, test_chaos.py) start a render process a few
hundred times, and each fresh interpreter spent ~4 s of CPU importing before its first
step: `import anthropic` alone is ~2.4 s (its 2.x types build ~1,700 pydantic models),
the BytePlus SDK ~0.85 s, google-genai ~1.1 s. On the 2-core CI machine that was about a
sixth of the suite's time. Here a multiprocessing fork server imports those SDKs once per
test process, and every render is a fork of it that runs the CLI exactly as `python -m
mindmovie` does: its own pid (a kill is a real SIGKILL of a real process), its own
working directory, environment (os.environ replaced, so ffmpeg and every setting read at
run time see the test's), stdin at /dev/null and stdout/stderr written to files, and an
exit status as a subprocess's (-9 after SIGKILL). mindmovie's CLI module is imported
fresh in each fork, after its environment is set: its consoles read the test's COLUMNS
and terminal when it is imported. The rest of mindmovie (the pipeline, store, settings,
plan and goals models, status, storyboard, doctor: ~0.3 s of CPU a start, mostly pydantic
building its models; numpy and the modules drawing cards, audio and local media: ~0.25 s
more a render) is imported by the server too: none of it reads the environment, the
working directory or the clock, or starts a thread, when imported (its settings, kill
points, consoles and ffmpeg path are read when used), which test_fork_preload.py checks.

A run's lock file holds the render's pid, and mindmovie takes a pid for a render only if
its /proc/PID/cmdline names mindmovie (pipeline.py). A fork has the fork server's
command line, which names this module among its preloads: a forked render is taken for
the render it is.

The e2e tests' commands (tests/e2e: `mindmovie render`, `status`, `plan`, ...) run the
same way, except the few that need what only a fresh interpreter shows: the example's
first render, the modules a command imports (numpy), a terminal, stdin, a signal.

TESTS_NO_FORK=1 runs every render as a plain subprocess instead (to compare).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
from multiprocessing.context import ForkServerContext
from pathlib import Path

#: imported once by the fork server: the slow SDKs, the libraries every command imports
#: (~0.6 s of CPU a start; the e2e tests start ~240 commands), and mindmovie's own
#: modules but the CLI (see above), none of which starts a thread when imported, nor reads
#: the environment a test varies. numpy, and the modules that import it (cards, audio,
#: the local providers: ~0.25 s of CPU a render, in ~600 renders of the suite), come
#: after fork_server_env, which keeps numpy's BLAS from starting its threads. Not the
#: moviepy engine: only the oracle tests use it
PRELOAD = [
    "tests.fork_server_env",
    "anthropic",
    "byteplussdkarkruntime",
    "google.genai",
    "httpx",
    # what making the first HTTP client imports (each render's setup check makes one)
    "httpcore",
    "httpcore2",
    "h11",
    "anyio._backends._asyncio",
    "anyio.streams.tls",
    "opentelemetry.propagate",
    "packaging.version",
    "imageio_ffmpeg",
    "typer",
    "rich.console",
    "rich.live",
    "rich.progress",
    "rich.table",
    "pydantic",
    "pydantic_settings",
    "yaml",
    "PIL.Image",
    "PIL.ImageDraw",
    "PIL.ImageFont",
    # the formats Image.open tries first (PIL's preinit)
    "PIL.BmpImagePlugin",
    "PIL.GifImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.PpmImagePlugin",
    "PIL.PngImagePlugin",
    "tenacity",
    "asyncio",
    "sqlite3",
    "numpy",
    "mindmovie.pipeline",
    "mindmovie.status",
    "mindmovie.storyboard",
    "mindmovie.doctor",
    "mindmovie.budget",
    "mindmovie.init_goals",
    "mindmovie.compose.cards",
    "mindmovie.compose.audio",
    "mindmovie.compose.ffmpeg",
    "mindmovie.providers.local_media",
    "mindmovie.providers.anthropic",
    "mindmovie.providers.byteplus",
    "mindmovie.providers.google",
    "tests.fork_server_ffmpeg",
]

_context: ForkServerContext | None = None


def forking() -> bool:
    return not os.environ.get("TESTS_NO_FORK")


def _ctx() -> ForkServerContext:
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        assert isinstance(ctx, ForkServerContext)
        # this module's name in the server's command line: see the docstring
        ctx.set_forkserver_preload([*PRELOAD, __name__])
        _context = ctx
    return _context


def _main(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the fork: become `python -m mindmovie ARGS` started in `cwd` with `env`."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):  # made empty by Forked: readable from the start
        f = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(f, fd)
        os.close(f)
    enc = sys.stdout.encoding if sys.stdout else "utf-8"
    # as a fresh interpreter has them: stdout block-buffered to a file, stderr line-buffered
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding=enc, errors="strict"
    )
    sys.stderr = io.TextIOWrapper(
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
        encoding=enc,
        errors="backslashreplace",
        line_buffering=True,
    )
    sys.argv = ["mindmovie", *args]
    runpy.run_module("mindmovie", run_name="__main__", alter_sys=True)


class Forked:
    """The part of subprocess.Popen the tests use, for a forked render."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, out: Path, err: Path):
        self.args: object = args
        for path in (out, err):
            path.write_bytes(b"")
        self._proc = _ctx().Process(
            target=_main, args=(args, env, str(cwd), str(out), str(err)), daemon=False
        )
        self._proc.start()
        assert self._proc.pid is not None
        self.pid: int = self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.exitcode

    def poll(self) -> int | None:
        return self._proc.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._proc.join(timeout)
        code = self._proc.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(str(self.args), timeout or 0.0)
        return code

    def send_signal(self, sig: int) -> None:
        if self._proc.exitcode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self._proc.kill()


def start(
    args: list[str], *, env: dict[str, str], cwd: Path, out: Path, err: Path
) -> Forked | subprocess.Popen[str]:
    """`python -m mindmovie ARGS` in the background, its stdout/stderr to `out`/`err`."""
    if forking():
        return Forked(args, env, cwd, out, err)
    with out.open("w") as o, err.open("w") as e:
        return subprocess.Popen(
            [sys.executable, "-m", "mindmovie", *args],
            env=env,
            cwd=cwd,
            stdout=o,
            stderr=e,
            stdin=subprocess.DEVNULL,
            text=True,
        )


def run(
    args: list[str], *, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`python -m mindmovie ARGS` to its end, as subprocess.run(capture_output=True)."""
    argv = [sys.executable, "-m", "mindmovie", *args]
    if not forking():
        return subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    with tempfile.TemporaryDirectory() as tmp:
        out, err = Path(tmp) / "out", Path(tmp) / "err"
        p = Forked(args, env, cwd, out, err)
        try:
            code = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
            out_text, err_text = out.read_text(), err.read_text()
            raise subprocess.TimeoutExpired(argv, timeout, out_text, err_text) from None
        return subprocess.CompletedProcess(argv, code, out.read_text(), err.read_text())
