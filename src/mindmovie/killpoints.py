"""Deterministic crash points for the crash-proof tests (issue: kill anywhere, resume).

`MINDMOVIE_KILL_AT=name[@n]` makes the process SIGKILL itself the n-th time (default 1st)
it reaches `killpoint(name)`. Unset (always, outside tests) it costs one dict lookup. The
points sit exactly where a real crash hurts most: after a paid request returns but before
its id is journaled, mid-poll, mid-download, mid-compose, inside a run.db transaction.

`MINDMOVIE_KILL_HOW=block:PATH` blocks there instead: it creates PATH.reached, then
opens PATH, a named pipe nobody writes, for reading; the thread waits in that system
call for good, as one reading a named pipe does (a test of what signals do then).
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get("MINDMOVIE_KILL_AT")
    if not spec:
        return None
    name, _, nth = spec.partition("@")
    return name, int(nth or 1)


def killpoint(name: str) -> None:
    """SIGKILL this process here if the test asked for it (no cleanup, like a real crash)."""
    target = _target()
    if target is None or target[0] != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] != target[1]:
        return
    how = os.environ.get("MINDMOVIE_KILL_HOW", "")
    if how.startswith("block:"):
        pipe = how.removeprefix("block:")
        with open(pipe + ".reached", "w"):
            pass
        with open(pipe, "rb") as f:  # no writer: blocks until the process ends
            f.read()
        return
    os.kill(os.getpid(), signal.SIGKILL)
