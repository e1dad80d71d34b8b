"""The `mindmovie` command's entry point (the console script and `python -m mindmovie`).

Stop signals are made to interrupt here, before the CLI's libraries are imported (typer,
rich, pydantic: about 0.1 s): a Ctrl-C in that time printed a KeyboardInterrupt traceback,
and SIGTERM or SIGHUP killed the command without a word (-15, -1). This module imports
only small modules of the standard library, so the window before it is Python's own start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

#: what an interrupted command that changed nothing says (each command may say more)
INTERRUPTED = "interrupted; nothing was changed or spent"


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_signals_interrupt() -> None:
    """Ctrl-C, SIGTERM (kill, timeout, docker stop) and SIGHUP (the terminal closed)
    raise KeyboardInterrupt wherever the command is, until the render puts its own
    graceful stop in place (and again after it): SIGTERM and SIGHUP killed every command
    but a running render without a word (-15, -1), and asyncio's own Ctrl-C handler
    only asked the render's task to stop when the loop next ran, which a blocking check
    (ffmpeg's, before the run folder) held up, after which the render went on into the
    plan. A signal the command was started ignoring (`nohup`, a background job) stays
    ignored."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) in (
            signal.SIG_DFL,
            signal.default_int_handler,
        ):
            signal.signal(sig, interrupt)


def no_zero_size() -> None:
    """COLUMNS=0 (or LINES=0), as some places set it (`docker exec` without a terminal,
    some CI runners), is taken as unset: the terminal's own size, else 80 columns. rich
    took it for a width of 0 and printed nothing at all: no table, no result line, no
    error, no --help. Before the CLI is imported: its consoles read COLUMNS when made."""
    for name in ("COLUMNS", "LINES"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) == 0:
            del os.environ[name]


#: what every command says where Python has no `fcntl` (Windows), exit 2
NOT_POSIX = (
    "error: mindmovie runs on Linux and macOS: it needs POSIX file locks (Python's fcntl "
    "module, which this Python does not have) to keep two renders from paying for the "
    "same work; on Windows, run it in WSL (the Windows Subsystem for Linux)"
)


def posix_missing() -> bool:
    """Does this Python lack what a render is built on (`fcntl`'s file locks: the run's
    lock, SQLite beside it, POSIX signals)? On Windows every command ended in a
    ModuleNotFoundError traceback from deep in the render's imports."""
    try:
        import fcntl  # noqa: F401  (a built-in module: no cost)
    except ImportError:
        return True
    return False


def main() -> None:
    """Console-script entry point: the stop signals first, then the CLI. A stop no
    command took up (while the CLI is imported, or once the command has returned) is
    said in one line, exit 130, as a command says one."""
    stop_signals_interrupt()
    no_zero_size()
    if posix_missing():
        print(NOT_POSIX, file=sys.stderr)
        sys.exit(2)
    try:
        from mindmovie import cli

        cli.main()
    except KeyboardInterrupt:
        cli_module = sys.modules.get("mindmovie.cli")
        # a second stop once the command said its stop line (`cli._stopped`: Ctrl-C
        # twice) said it again, a second line
        if not getattr(cli_module, "_said", None):
            # once a render has ended, what it made (not "nothing was changed or spent")
            said = getattr(cli_module, "interrupted_line", None)
            with contextlib.suppress(OSError):  # SIGHUP: the terminal may be gone
                print(INTERRUPTED if said is None else said(), file=sys.stderr, flush=True)
        sys.exit(130)
