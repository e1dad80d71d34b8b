"""What the person sees while a render runs: a live view on a terminal, plain lines elsewhere.

The pipeline only calls `Reporter` methods; it never prints. That keeps the orchestrator
testable and lets CI logs get one line per event instead of a redrawn screen.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console, Group
from rich.markup import escape
from rich.segment import Segment
from rich.text import Text

if TYPE_CHECKING:
    from rich.live import Live


def write_nowhere(stream: Any) -> None:
    """Make `stream`'s file descriptor /dev/null, once writing to it failed: what Python
    still holds for it is flushed there at exit, not an "Exception ignored ... Error"
    line. (A stream with no descriptor, as a test's, is left as it is.)"""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


class OutputFailed(Exception):
    """Writing a command's output failed for another reason than a closed pipe (a full
    disk under a redirected file, an I/O error): `cli.main` says so in one line, exit 1
    (it was a traceback). `stream` is "stdout" or "stderr"."""

    def __init__(self, stream: str, error: OSError) -> None:
        super().__init__(f"cannot write to {stream}: {error.strerror or error}")
        self.stream = stream


#: what a control character in text becomes on the screen: the escape Python writes for
#: it (`\x1b`). A file or folder name holding ESC or a C1 control (`$'\e[2J'`, made by
#: a script's bad quoting or on purpose) was written raw in "error: NAME: file not
#: found": the terminal took it as a command (cleared the screen, recoloured or retitled
#: it, hid the rest of the line). Line breaks and tabs are the messages' own.
_SHOWN = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0)) if chr(c) not in "\n\t"}
#: and the direction overrides (U+202D, U+202E): one in a title, a path or a provider's
#: message turned the rest of the line around on the screen ("run\u202egpj.exe" shown as
#: "runexe.jpg"). The embeddings, isolates and marks a right-to-left text holds (an
#: editor puts them around mixed-direction text) reverse no letters and are left: shown
#: as escapes, the person's own Arabic read "\u202bأنا قوي\u202c", and its table
#: column was measured without them, its border pushed out.
_SHOWN |= {c: f"\\u{c:04x}" for c in (0x202D, 0x202E)}


def shown(text: str) -> str:
    """`text` with each control character (but line break and tab) and direction override
    written as its escape, so that what a person named is shown, not obeyed by the
    terminal."""
    return text.translate(_SHOWN)


class LogConsole(Console):
    """A console whose reader may go away mid-render (`render 2>&1 | head`, a log viewer
    quit, a pipe's reader killed), or whose file cannot be written (a full disk under
    `render > render.log`), without stopping the render. rich's answer to the closed
    pipe was SystemExit(1) out of the write, wherever it was, and another error (ENOSPC,
    EIO) went out of the write as it was: the render ended at its next line of log, exit
    1, without a word (or a traceback), its tasks cancelled, and paid calls then on the
    wire were lost (their answers never read, counted as spent) while the clip jobs sent
    waited for a next render. Once a write fails it writes nowhere (`write_nowhere`) and
    the render goes on to its end and its own exit status. `goes_on=False`, for the
    commands that only show something: a closed pipe is rich's exit 1, silently; another
    error is `OutputFailed`, one line."""

    def __init__(self, *args: Any, goes_on: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goes_on = goes_on

    def on_broken_pipe(self) -> None:
        if not self.goes_on:
            super().on_broken_pipe()
            return
        self.quiet = True
        write_nowhere(self.file)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        # before rich's Text drops BEL, backspace, CR and form feeds from a name unsaid
        return super().render_str(shown(text), **kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        # a Text made by hand; its text only: a live view's cursor moves are control segments
        return super()._render_buffer(
            seg if seg.control else Segment(shown(seg.text), seg.style) for seg in buffer
        )

    def _check_buffer(self) -> None:
        # rich takes up only a closed pipe (`on_broken_pipe`); this is where it writes
        try:
            super()._check_buffer()
        except OSError as e:
            self.quiet = True
            write_nowhere(self.file)
            if not self.goes_on:
                raise OutputFailed("stderr" if self.stderr else "stdout", e) from None


class Reporter(Protocol):
    def stage(self, stage: str, total: int) -> None:
        """A stage begins with `total` steps (some may be reused)."""

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        """A step changed state: queued/running/submitting/resumed/polling/downloading/
        rendering (an offline clip, made here)/done/reused/failed, or stopped (by the
        budget, before it was sent; or by Ctrl-C)."""

    def money(self, billed: float, in_flight: float, unknown: float = 0.0) -> None:
        """Spend so far: billed, sent but not settled, and lost answers nothing can
        settle (counted as spent: `Store.ledger_split`)."""

    def info(self, text: str) -> None: ...

    def warn(self, text: str) -> None: ...

    def close(self) -> None: ...


class NullReporter:
    """Reports nothing (library use and tests)."""

    def stage(self, stage: str, total: int) -> None:
        pass

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        pass

    def money(self, billed: float, in_flight: float, unknown: float = 0.0) -> None:
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
        self.console = console or LogConsole(stderr=True, highlight=False, soft_wrap=True)

    def warn(self, text: str) -> None:
        self.console.print(f"warning: {text}", markup=False)


#: the stage the pipeline names when a scene's flow ended (failed, or stopped by the
#: budget or Ctrl-C), whichever stage it was in
SCENES = "scenes"


def scene_stage(at: dict[str, str], stage: str, scene_id: str) -> str:
    """The stage to show for `stage` of `scene_id`: a scene's end ("scenes") is shown in
    the stage it was in (`at`: each scene's last stage, kept up to date here). The rows
    said "scenes failed" / "✗ scenes 01-...", not whether its keyframe or clip failed."""
    if stage == SCENES:
        return at.get(scene_id, stage)
    at[scene_id] = stage
    return stage


def totals_line(
    totals: dict[str, int],
    finished: dict[str, int],
    failed: int,
    elapsed: float,
    billed: float,
    in_flight: float,
    unknown: float = 0.0,
) -> str:
    """Each stage's count (done or reused), the scenes failed, elapsed, the spend."""
    done = [f"{st} {finished.get(st, 0)}/{n}" for st, n in totals.items()]
    if failed:
        # not in a stage's count: done + failed is every scene once the render is over
        done.append(f"{failed} failed")
    from mindmovie.costs import format_usd

    # as `status` says amounts: "$0.0049" below a cent (a paid plan read "$0.00")
    held = [f"+{format_usd(in_flight)} in flight"] if in_flight else []
    if unknown:  # as `status` says it: the budget counts it, no look can settle it
        held.append(f"+{format_usd(unknown)} outcome unknown")
    spend = f"  spend {format_usd(billed)}" + (f" ({', '.join(held)})" if held else "")
    counts = f"{', '.join(done)}   " if done else ""
    return f"{counts}elapsed {elapsed:.0f} s{spend}"


class PlainReporter:
    """One line per event with elapsed seconds: for pipes, CI and --verbose logs. It ends
    with the live view's totals line (each stage's count, the scenes failed, elapsed,
    the spend): without it a paid render in a log never said what it had spent."""

    def __init__(self, console: Console | None = None, *, verbose: bool = True) -> None:
        self.console = console or LogConsole(stderr=True, highlight=False, soft_wrap=True)
        self.verbose = verbose
        # set by the first line, as the live view's clock is by its first stage or step:
        # a paid render asks its question before any, and the stamps counted the time
        # the person took to answer
        self.t0: float | None = None
        self.totals: dict[str, int] = {}
        self.finished: dict[str, int] = {}  # per stage: done or reused
        self.failed: set[str] = set()
        self.billed = 0.0
        self.in_flight = 0.0
        self.unknown = 0.0
        self.spent = False  # money() was called: a paid stage ran
        #: each scene's last stage (`scene_stage`)
        self.at: dict[str, str] = {}

    def _line(self, text: str) -> None:
        now = time.monotonic()
        if self.t0 is None:
            self.t0 = now
        stamp = f"[{now - self.t0:6.1f}s] "
        # a note of several lines (an ffmpeg error's tail) goes under its event, indented:
        # its lines started at the margin, with no stamp, like unrelated output
        first, *more = text.rstrip("\n").split("\n")
        lines = [stamp + first, *(" " * len(stamp) + ln for ln in more)]
        self.console.print("\n".join(lines), markup=False)

    def stage(self, stage: str, total: int) -> None:
        self.totals[stage] = total
        self._line(f"{stage}: {total} step(s)")

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        if self.t0 is None:
            # the clock starts at the first stage or step, printed or not, as the live
            # view's does: a line-mode log of a render whose plan failed said "elapsed
            # 0 s" after seconds of planning (its "running" line is --verbose only)
            self.t0 = time.monotonic()
        stage = scene_stage(self.at, stage, scene_id)
        if state in ("done", "reused"):
            self.finished[stage] = self.finished.get(stage, 0) + 1
        elif state == "failed" and stage != "compose":  # scenes failed, not the movie
            self.failed.add(scene_id)
        # a scene stopped (the budget, Ctrl-C) says so as a failed one does: a log
        # without -v said nothing of it, as if it had never been asked for
        # (the plan's start too: a paid plan takes a while, and a log without -v was
        # silent from the spend question to the plan's end)
        started_plan = state == "running" and stage == "plan"
        if self.verbose or started_plan or state in ("done", "failed", "stopped"):
            who = stage if scene_id == stage else f"{stage} {scene_id}"  # not "plan plan"
            # how far the stage is: a 60-scene log's 123 compose lines said no "n of N"
            # (the scale audit)
            of = self.totals.get(stage) if state in ("done", "reused") else None
            count = f" ({self.finished[stage]}/{of})" if of else ""
            self._line(f"{who}: {state}{' - ' + note if note else ''}{count}")

    def money(self, billed: float, in_flight: float, unknown: float = 0.0) -> None:
        self.billed, self.in_flight, self.unknown, self.spent = billed, in_flight, unknown, True
        if self.verbose:
            lost = f", outcome unknown ${unknown:.4f}" if unknown else ""
            self._line(f"spend: billed ${billed:.4f}, in flight ${in_flight:.4f}{lost}")

    def info(self, text: str) -> None:
        self._line(text)

    def warn(self, text: str) -> None:
        self._line(f"warning: {text}")

    def close(self) -> None:
        if self.totals or self.spent:  # a render that got past its plan (or paid for one)
            # no line yet (a run stopped at its spend question): nothing has run. The
            # clock read twice, the later reading subtracted, said "elapsed -0 s"
            elapsed = 0.0 if self.t0 is None else time.monotonic() - self.t0
            self._line(
                "totals: "
                + totals_line(
                    self.totals,
                    self.finished,
                    len(self.failed),
                    elapsed,
                    self.billed,
                    self.in_flight,
                    self.unknown,
                )
            )


class RichReporter:
    """One live view: a row per scene (stage, state, time in state), totals, spend."""

    FINAL = ("done", "reused", "failed")
    #: the scene column's width (its id folded) below which the other columns give way
    SCENE_MIN = 8

    def __init__(self, console: Console | None = None) -> None:

        self.console = console or LogConsole(stderr=True)
        self.t0 = time.monotonic()
        self.totals: dict[str, int] = {}
        self.finished: dict[str, int] = {}  # per stage: done or reused
        self.failed: set[str] = set()  # the scenes that failed (any stage)
        #: scene -> [stage, state, note, since]
        self.rows: dict[str, list[Any]] = {}
        self.billed = 0.0
        self.in_flight = 0.0
        self.unknown = 0.0
        self.closing = False  # the final view: every row, however tall
        #: (what the view's height depends on, the rows hidden for it to fit): measured
        self._fit: tuple[Any, int] | None = None
        # started by the first stage or step, not here: a paid render asks its question
        # (the estimate, "Spend about $...?") before any, and a running live view redrew
        # over that prompt four times a second, erasing it while the person read it
        self.live = self._new_live()

    def _new_live(self) -> Live:
        """The live view (made again after it was held: `held`)."""
        from rich.live import Live

        return Live(
            console=self.console, refresh_per_second=4, transient=False, get_renderable=self._render
        )

    def _show(self) -> None:
        if not self.live.is_started:
            self.t0 = time.monotonic()  # elapsed: the render's, not the time taken to answer
            self.live.start()

    def _render(self) -> Any:
        """The view; while live, rows given way (`_give_way`) until it fits the terminal."""
        now = time.monotonic()
        items = list(self.rows.items())
        if self.closing:
            return self._view(items, [], now)
        order = self._give_way(items)
        # Measured, not estimated: a folded id, a wrapped error note or totals line take
        # more lines than a count of rows says, and a view taller than the terminal is
        # cut at the bottom by rich ("..."), the totals and spend first. Measuring renders
        # the view, so the count found is kept until a row, the terminal or a line's
        # width changes (most redraws, four a second, change only the seconds).
        key = (
            tuple(self.console.size),
            tuple((s, *r[:3]) for s, r in items),
            len(self._totals_line(now)),
            max((len(self._age(now, r[3])) for _, r in items), default=0),
        )
        if self._fit is not None and self._fit[0] == key:
            if self._fit[1] > len(order):  # not even the table's header fits: totals only
                return Text(self._totals_line(now))
            return self._view(items, order[: self._fit[1]], now)
        limit = self.console.height - 1  # one line kept for the cursor below the view

        def fits(k: int) -> tuple[bool, Group]:
            view = self._view(items, order[:k], now)
            lines = self.console.render_lines(view, self.console.options, pad=False)
            return len(lines) <= limit, view

        # The fewest rows hidden for the view to fit (hiding one more never makes it
        # taller), searched between what must be hidden (each row, the header and the
        # totals take a line at least) and every row, from the count the last redraw hid,
        # which is mostly right: a search renders only views of about the terminal's
        # height, never the whole table of a long run.
        n = len(order)
        if n + 2 <= limit:
            ok, view = fits(0)
            if ok:
                self._fit = (key, 0)
                return view
        lo, hi, best = max(0, n + 2 - limit), n, None  # lo too tall; hi fits, or is all
        probe, first = (self._fit[1] if self._fit else lo + 1), True
        while hi - lo > 1:
            probe = min(max(probe, lo + 1), hi - 1)
            fit, v = fits(probe)
            if fit:
                hi, best = probe, v
            else:
                lo = probe
            probe = (probe - 1 if fit else probe + 1) if first else (lo + hi) // 2
            first = False
        if best is None:  # every row hidden, not measured yet (a very short terminal)
            fit, best = fits(n)
            if not fit:
                # in a few lines, or columns, the header and the "+ N" line pushed the
                # totals (the spend) below the screen's edge, where rich cut them
                self._fit = (key, n + 1)
                return Text(self._totals_line(now))
        self._fit = (key, hi)
        return best

    @staticmethod
    def _give_way(items: list[tuple[str, list[Any]]]) -> list[tuple[str, str]]:
        """The rows in the order they give way when the view is taller than the terminal.

        With 60 scenes in 50 lines rich cut the totals, the spend and the scenes still
        working, and the finished ones at the top stayed. So finished rows (done, reused;
        the oldest first) give way first, then queued ones (the last first: they start
        last), then failed ones (their error was printed above the view, and the totals
        count them), then those at work (the last first) only in a very short terminal.
        """
        order = [(s, "finished") for s, r in items if r[1] in ("done", "reused")]
        order += [(s, "queued") for s, r in reversed(items) if r[1] == "queued"]
        order += [(s, "failed") for s, r in items if r[1] == "failed"]
        taken = {s for s, _ in order}
        order += [(s, "working") for s, _ in reversed(items) if s not in taken]
        return order

    @staticmethod
    def _age(now: float, since: float) -> str:
        """The "for" cell: seconds in the current state."""
        return f"{now - since:4.0f} s"

    def _totals_line(self, now: float) -> str:
        """Each stage's count (done or reused), the scenes failed, elapsed, the spend."""
        return totals_line(
            self.totals,
            self.finished,
            len(self.failed),
            now - self.t0,
            self.billed,
            self.in_flight,
            self.unknown,
        )

    def _view(
        self, items: list[tuple[str, list[Any]]], hide: list[tuple[str, str]], now: float
    ) -> Group:
        """The table of every row but `hide`, a line counting those, the totals line."""
        from rich.table import Table

        table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
        out = {scene for scene, _ in hide}
        rows = [(s, r) for s, r in items if s not in out]

        # Widths set here, not left to rich: short of room it narrows every column
        # alike, and cut the words ("submitti…" at 40 columns; "cli…" and the seconds
        # as "0" over "s" at 24). The stage and the seconds are as wide as their longest
        # word, the state no narrower than its longest word (a note's words wrap under
        # it, a long one folded), the scene id whole when the room allows, else folded.
        # In a narrow terminal the seconds give way first, then the stage column: its
        # word goes first in the state cell.
        def longest(texts: Any, least: str) -> int:
            return max([len(least), *map(len, texts)])

        stage_w = longest((r[0] for _, r in rows), "stage")
        # a note's short words ("4 scenes") too: a column narrower cut them ("scen…");
        # a long one (a path in an error) is folded at the column's edge
        state_w = longest(
            (w for _, r in rows for w in (r[1], *str(r[2]).split()) if len(w) <= 12), "state"
        )
        age_w = longest((self._age(now, r[3]) for _, r in rows), "for")
        scene_max = longest((s for s, _ in rows), "scene")
        scene_w = min(self.SCENE_MIN, scene_max)
        width = self.console.width
        # the seconds only beside an id shown whole (up to twice SCENE_MIN): folded, an
        # id takes two lines a row, and fewer rows fit
        id_w = min(scene_max, 2 * self.SCENE_MIN)
        with_age = id_w + stage_w + state_w + age_w + 6 <= width  # 2 between columns
        if with_age and scene_max > id_w and scene_max + stage_w + state_w + 4 <= width:
            # a longer id that the seconds' room would show whole ("03-relationships-1"
            # at 40 columns): the seconds give way, as they do for a shorter one. The
            # final view, every row shown, folded it ("03-relationships-" over "1")
            with_age = scene_max + stage_w + state_w + age_w + 6 <= width
        with_stage = with_age or scene_w + stage_w + state_w + 4 <= width
        if not with_stage:
            state_w = max(state_w, stage_w)

        def label(stage: str, state: str, note: str) -> str:
            return " ".join(w for w in (stage if not with_stage else "", state, note) if w)

        label_max = longest((label(*r[:3]) for _, r in rows), "state")
        room = width - (stage_w + 2 if with_stage else 0) - (age_w + 2 if with_age else 0) - 2
        scene_fit = min(scene_max, max(scene_w, room - state_w))  # an id whole if it can be
        # folded, not ellipsed: a long id (a category of 60+ letters) lost its -1/-2/-3
        table.add_column("scene", overflow="fold", width=scene_fit)
        if with_stage:
            table.add_column("stage", width=stage_w, no_wrap=True)
        state_fit = max(state_w, min(label_max, room - scene_fit))
        table.add_column("state", width=state_fit, overflow="fold")
        if with_age:
            table.add_column("for", justify="right", width=age_w, no_wrap=True)
        for scene, (stage, state, note, since) in rows:
            style = {"failed": "red", "done": "green", "reused": "dim"}.get(state, "")
            said = escape(_path_ends(label(stage, state, note), state_fit))  # not markup
            cells = [escape(scene), *([stage] if with_stage else [])]
            cells.append(f"[{style}]{said}[/{style}]" if style else said)
            if with_age:
                cells.append(self._age(now, since))
            table.add_row(*cells)
        parts: list[Any] = [table]
        if hide:
            # a line of its own, not a row: its text widened the scene column
            hidden: dict[str, int] = {}
            for _, what in hide:
                hidden[what] = hidden.get(what, 0) + 1
            left_out = ", ".join(f"{n} {what}" for what, n in hidden.items())
            parts.append(Text(f"+ {left_out}", style="dim"))
        # below the table, not its caption: a caption wraps to the (narrow) table's width
        parts.append(Text(self._totals_line(now)))
        return Group(*parts)

    def stage(self, stage: str, total: int) -> None:
        self._show()
        self.totals[stage] = total

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        self._show()
        if stage == "compose":  # one row for the movie, not one per segment
            if state in ("done", "reused"):
                self.finished[stage] = self.finished.get(stage, 0) + 1
            n, total = self.finished.get(stage, 0), self.totals.get(stage, 0)
            done = total and n >= total
            # stopped (Ctrl-C) or failed (the error line below says why): the segments
            # made are kept; "encoding" (or "done") was left drawn
            shown = state if state in ("stopped", "failed") else "done" if done else "encoding"
            self.rows["movie"] = [
                stage,
                shown,
                f"{n}/{total}",
                self.rows.get("movie", [0, 0, 0, time.monotonic()])[3],
            ]
            return
        row = self.rows.get(scene_id)
        if stage == SCENES and row is not None:
            stage = row[0]  # failed or stopped in the stage its row shows
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
            self._say(Text.assemble((f"✗ {stage} {scene_id}", "red"), f": {note}"))

    def money(self, billed: float, in_flight: float, unknown: float = 0.0) -> None:
        self.billed, self.in_flight, self.unknown = billed, in_flight, unknown

    def info(self, text: str) -> None:
        self._say(Text(text))

    def warn(self, text: str) -> None:
        self._say(Text.assemble(("warning:", "yellow"), f" {text}"))

    def _say(self, text: Text) -> None:
        """A line above the view, wrapped at spaces only. Rich's wrap cut a word longer
        than the line where the line ended: a path came out in pieces ('.../2024-summer-h'
        over 'oliday/IMG_...'), not copyable. Such a word is written whole, on a line of
        its own, and the terminal folds it (a copy of it is the path)."""
        width = max(1, self.console.width)
        for para in text.split("\n", allow_blank=True):
            breaks, col = [], 0
            for word in re.finditer(r"\S+\s*", para.plain):
                if col and col + len(word.group().rstrip()) > width:
                    breaks.append(word.start())
                    col = 0
                col += len(word.group())
            for line in para.divide(breaks):
                line.rstrip()
                self.console.print(line, no_wrap=True, overflow="ignore", crop=False)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """The view taken off the screen while the person is asked something (the spend
        question asked again once the plan is made): redrawn four times a second, it
        erased the question and the table above it as they were printed, and the render
        waited for an answer to a question nobody could see. Put back after."""
        if not self.live.is_started:
            yield
            return
        self.live.transient = True  # (stopped so, it is cleared, not left drawn above)
        self.live.stop()
        try:
            yield
        finally:
            # a new one: the old one, started again, first moved up over the lines its
            # last frame had taken and cleared them, the question and the table's end
            self.live = self._new_live()
            self.live.start()

    def close(self) -> None:
        self.closing = True
        self.live.stop()


def _path_ends(text: str, width: int) -> str:
    """`text` with each path longer than `width` shown by its end ('…/IMG_1234.jpg:'): a
    row's note folded one at the column's edge, anywhere ('.../IMG_20240812-beach' over
    '-sunset.jpg', as if broken at a hyphen). The error line above the view has it whole."""

    def end(m: re.Match[str]) -> str:
        word = m.group()
        if len(word) <= width or "/" not in word.rstrip("/"):
            return word
        core = word.rstrip(":,;.)'\"")
        short = "…/" + core.rstrip("/").rsplit("/", 1)[-1] + word[len(core) :]
        return short if len(short) <= width else "…" + short[len(short) - width + 1 :]

    return re.sub(r"\S+", end, text)


def _in_ci() -> bool:
    """CI=true (GitHub Actions, GitLab, most CI services set it; '0'/'false' do not count)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def make_reporter(*, quiet: bool = False, verbose: bool = False) -> Reporter:
    """--quiet: warnings only; a terminal: the live view, or every event with --verbose; a
    pipe, CI log (CI=true, even on a terminal) or dumb terminal (TERM=dumb): a line per
    stage and per step done, failed or stopped, every event with --verbose."""
    if quiet:
        return WarningsReporter()
    # stderr closed (`2>&-`): sys.stderr is None; rich writes nowhere, the render goes on
    if verbose or sys.stderr is None or not sys.stderr.isatty():
        return PlainReporter(verbose=verbose)
    if _in_ci():
        # a CI job given a terminal (docker run -t, a runner's pty): its log is kept as
        # text, where the live view's redraws were hundreds of frames of cursor codes
        return PlainReporter(verbose=False)
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        # a terminal that cannot move its cursor (Emacs' shell, some IDE consoles): rich
        # does not redraw a live view there, so nothing was shown until the render ended
        return PlainReporter(verbose=False)
    return RichReporter()
