"""What the person sees while a render runs: a live view on a terminal, plain lines elsewhere.

The pipeline only calls `Reporter` methods; it never prints. That keeps the orchestrator
testable and lets CI logs get one line per event instead of a redrawn screen.
"""

from __future__ import annotations

import sys
import time
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Reporter(Protocol):
    def stage(self, stage: str, total: int) -> None:
        """A stage begins with `total` steps (some may be reused)."""

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        """A step changed state: queued/running/submitted/polling/downloading/done/reused/failed."""

    def info(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def close(self) -> None: ...


class NullReporter:
    """Reports nothing (library use and tests)."""

    def stage(self, stage: str, total: int) -> None:
        pass

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        pass

    def info(self, text: str) -> None:
        pass

    def warn(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class PlainReporter:
    """One line per event with elapsed seconds: for pipes, CI and --verbose logs."""

    def __init__(self, console: Console | None = None, *, verbose: bool = True) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.verbose = verbose
        self.t0 = time.monotonic()

    def _line(self, text: str) -> None:
        self.console.print(f"[{time.monotonic() - self.t0:6.1f}s] {text}", markup=False)

    def stage(self, stage: str, total: int) -> None:
        self._line(f"{stage}: {total} step(s)")

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        if self.verbose or state in ("done", "failed"):
            self._line(f"{stage} {scene_id}: {state}{' - ' + note if note else ''}")

    def info(self, text: str) -> None:
        self._line(text)

    def warn(self, text: str) -> None:
        self._line(f"warning: {text}")

    def close(self) -> None:
        pass


class RichReporter:
    """A live progress view: one bar per stage, the latest event per stage beside it."""

    FINAL = ("done", "reused", "failed")

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[stage]:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.progress.start()

    def stage(self, stage: str, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task("", total=total, stage=stage, note="")
        else:
            self.progress.update(self.tasks[stage], total=total)

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        if stage not in self.tasks:
            self.stage(stage, 1)
        tid = self.tasks[stage]
        label = f"{scene_id} {state}" + (f" ({note})" if note else "")
        self.progress.update(tid, note=label)
        if state in self.FINAL:
            self.progress.advance(tid)
        if state == "failed":
            self.progress.console.print(f"[red]✗ {stage} {scene_id}[/red]: {note}")

    def info(self, text: str) -> None:
        self.progress.console.print(text, markup=False, highlight=False)

    def warn(self, text: str) -> None:
        self.progress.console.print(f"[yellow]warning:[/yellow] {text}")

    def close(self) -> None:
        self.progress.stop()


def make_reporter(*, quiet: bool = False, verbose: bool = False) -> Reporter:
    if quiet:
        return NullReporter()
    if verbose or not sys.stderr.isatty():
        return PlainReporter(verbose=verbose or not sys.stderr.isatty())
    return RichReporter()
