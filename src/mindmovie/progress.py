"""What the person sees while a render runs: a live view on a terminal, plain lines elsewhere.

The pipeline only calls `Reporter` methods; it never prints. That keeps the orchestrator
testable and lets CI logs get one line per event instead of a redrawn screen.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol

from rich.console import Console, Group
from rich.markup import escape
from rich.text import Text


class Reporter(Protocol):
    def stage(self, stage: str, total: int) -> None:
        """A stage begins with `total` steps (some may be reused)."""

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        """A step changed state: queued/running/submitted/polling/downloading/done/reused/failed."""

    def money(self, billed: float, in_flight: float) -> None:
        """Spend so far: billed, and sent but not settled."""

    def info(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def close(self) -> None: ...


class NullReporter:
    """Reports nothing (library use and tests)."""

    def stage(self, stage: str, total: int) -> None:
        pass

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        pass

    def money(self, billed: float, in_flight: float) -> None:
        pass

    def info(self, text: str) -> None:
        pass

    def warn(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


class WarningsReporter(NullReporter):
    """--quiet: no progress, but warnings still reach the person (a scene left out by
    --skip-failed, a plan made again over hand edits): they are part of the result."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)

    def warn(self, text: str) -> None:
        self.console.print(f"warning: {text}", markup=False)


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
            who = stage if scene_id == stage else f"{stage} {scene_id}"  # not "plan plan"
            self._line(f"{who}: {state}{' - ' + note if note else ''}")

    def money(self, billed: float, in_flight: float) -> None:
        if self.verbose:
            self._line(f"spend: billed ${billed:.4f}, in flight ${in_flight:.4f}")

    def info(self, text: str) -> None:
        self._line(text)

    def warn(self, text: str) -> None:
        self._line(f"warning: {text}")

    def close(self) -> None:
        pass


class RichReporter:
    """One live view: a row per scene (stage, state, time in state), totals, spend."""

    FINAL = ("done", "reused", "failed")

    def __init__(self, console: Console | None = None) -> None:
        from rich.live import Live

        self.console = console or Console(stderr=True)
        self.t0 = time.monotonic()
        self.totals: dict[str, int] = {}
        self.finished: dict[str, int] = {}  # per stage: done or reused
        self.failed: set[str] = set()  # the scenes that failed (any stage)
        #: scene -> [stage, state, note, since]
        self.rows: dict[str, list[Any]] = {}
        self.billed = 0.0
        self.in_flight = 0.0
        self.closing = False  # the final view: every row, however tall
        # started by the first stage or step, not here: a paid render asks its question
        # (the estimate, "Spend about $...?") before any, and a running live view redrew
        # over that prompt four times a second, erasing it while the person read it
        self.live = Live(
            console=self.console, refresh_per_second=4, transient=False, get_renderable=self._render
        )

    def _show(self) -> None:
        if not self.live.is_started:
            self.t0 = time.monotonic()  # elapsed: the render's, not the time taken to answer
            self.live.start()

    def _render(self) -> Any:
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        # folded, not ellipsed: a long id (a category of 60+ letters) lost its -1/-2/-3
        table.add_column("scene", overflow="fold")
        table.add_column("stage")
        table.add_column("state")
        table.add_column("for", justify="right")
        now = time.monotonic()
        rows, hidden = self._visible_rows()
        for scene, (stage, state, note, since) in rows:
            style = {"failed": "red", "done": "green", "reused": "dim"}.get(state, "")
            label = escape(f"{state} {note}".strip())  # notes carry error text: not markup
            table.add_row(
                escape(scene),
                stage,
                f"[{style}]{label}[/{style}]" if style else label,
                f"{now - since:4.0f} s",
            )
        counts = [f"{st} {self.finished.get(st, 0)}/{n}" for st, n in self.totals.items()]
        if self.failed:
            # not in a stage's count: done + failed is every scene once the render is over
            counts.append(f"{len(self.failed)} failed")
        done = ", ".join(counts)
        spend = f"  spend ${self.billed:.2f}" + (
            f" (+${self.in_flight:.2f} in flight)" if self.in_flight else ""
        )
        if hidden:
            left_out = ", ".join(f"{n} {what}" for what, n in hidden.items() if n)
            table.add_row(Text(f"+ {left_out}", style="dim"), "", "", "")
        # below the table, not its caption: a caption wraps to the (narrow) table's width
        return Group(table, Text(f"{done}   elapsed {now - self.t0:.0f} s{spend}"))

    def _visible_rows(self) -> tuple[list[tuple[str, list[Any]]], dict[str, int]]:
        """The rows that fit the terminal while the view is live, and how many finished
        and queued ones were left out for them.

        A view taller than the terminal is cut at the bottom by rich ("..."): with 60
        scenes in 50 lines the totals, the spend and the scenes still working were the
        lines cut, and the finished ones at the top stayed. So finished rows (done,
        reused) give way first, then queued ones (the last first: they start last);
        failed ones and those at work stay. The final view (`close`) shows every row.
        """
        items = list(self.rows.items())
        if self.closing:
            return items, {}
        width, height = self.console.size
        budget = height - 4  # the header, the "+ N finished" row, the totals, the cursor

        def lines(scene: str) -> int:  # a folded id takes more than one line
            return -(-len(scene) // max(8, width - 40))

        need = sum(lines(scene) for scene, _ in items)
        hidden = {"finished": 0, "queued": 0}
        if need <= budget:
            return items, hidden
        out: set[str] = set()
        order = [(s, "finished") for s, r in items if r[1] in ("done", "reused")]
        order += [(s, "queued") for s, r in reversed(items) if r[1] == "queued"]
        for scene, what in order:  # the oldest finished rows give way first
            if need <= budget:
                break
            need -= lines(scene)
            hidden[what] += 1
            out.add(scene)
        return [(s, r) for s, r in items if s not in out], hidden

    def stage(self, stage: str, total: int) -> None:
        self._show()
        self.totals[stage] = total

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        self._show()
        if stage == "compose":  # one row for the movie, not one per segment
            if state in self.FINAL:
                self.finished[stage] = self.finished.get(stage, 0) + 1
            n, total = self.finished.get(stage, 0), self.totals.get(stage, 0)
            done = total and n >= total
            self.rows["movie"] = [
                stage,
                "done" if done else "encoding",
                f"{n}/{total}",
                self.rows.get("movie", [0, 0, 0, time.monotonic()])[3],
            ]
            return
        row = self.rows.get(scene_id)
        if row is None or row[0] != stage or row[1] != state:
            self.rows[scene_id] = [stage, state, note, time.monotonic()]
        else:
            row[2] = note
        if state in ("done", "reused"):
            self.finished[stage] = self.finished.get(stage, 0) + 1
        if state == "failed":
            # the pipeline says a scene failed once its flow ended, as stage "scenes"
            # (not a stage the totals line counts): counted once per scene, on its own
            self.failed.add(scene_id)
            self.console.print(f"[red]✗ {stage} {escape(scene_id)}[/red]: {escape(note)}")

    def money(self, billed: float, in_flight: float) -> None:
        self.billed, self.in_flight = billed, in_flight

    def info(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def warn(self, text: str) -> None:
        self.console.print(f"[yellow]warning:[/yellow] {escape(text)}")

    def close(self) -> None:
        self.closing = True
        self.live.stop()


def make_reporter(*, quiet: bool = False, verbose: bool = False) -> Reporter:
    """--quiet: warnings only; a terminal: the live view, or every event with --verbose; a
    pipe or CI log: a line per stage and per finished step, every event with --verbose."""
    if quiet:
        return WarningsReporter()
    # stderr closed (`2>&-`): sys.stderr is None; rich writes nowhere, the render goes on
    if verbose or sys.stderr is None or not sys.stderr.isatty():
        return PlainReporter(verbose=verbose)
    return RichReporter()
