"""The live view shows a row per scene with its state; plain mode writes one line per event."""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console
from rich.live import Live

from mindmovie.progress import PlainReporter, RichReporter, totals_line
from mindmovie.status import _next_action


def _text(renderable: object) -> str:
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(renderable)
    return buf.getvalue()


def test_live_view_rows_totals_and_spend() -> None:
    rep = RichReporter(Console(file=io.StringIO(), width=120, color_system=None))
    try:
        rep.stage("keyframes", 2)
        rep.stage("clips", 2)
        rep.step("keyframes", "01-health-1", "done")
        rep.step("clips", "01-health-1", "submitted", "cgt-1")
        rep.step("clips", "01-health-1", "polling", "running")
        rep.step("keyframes", "02-wealth-1", "failed", "content filter")
        rep.money(0.42, 0.13)
        text = _text(rep._render())
    finally:
        rep.close()
    assert "01-health-1" in text and "polling running" in text
    assert "02-wealth-1" in text and "failed" in text
    # a failed step is not a finished one: counted apart, so the counts add up
    assert "keyframes 1/2, clips 0/2, 1 failed" in text
    assert "$0.42" in text and "$0.13 in flight" in text
    # the totals are one line, not wrapped to the (narrow) table's width
    (totals,) = [ln for ln in text.splitlines() if "keyframes 1/2" in ln]
    assert "elapsed" in totals and "$0.13 in flight" in totals, text


def test_compose_is_one_row_not_one_per_segment() -> None:
    rep = RichReporter(Console(file=io.StringIO(), width=120, color_system=None))
    try:
        rep.stage("compose", 3)
        for seg in ("body:title", "xfade:title>a", "body:a"):
            rep.step("compose", seg, "done")
        text = _text(rep._render())
    finally:
        rep.close()
    assert "body:title" not in text and "movie" in text and "3/3" in text


def test_plain_lines_for_pipes() -> None:
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    rep.step("clips", "01-health-1", "polling", "running")  # not shown unless verbose
    rep.step("clips", "01-health-1", "done")
    rep.warn("careful")
    out = buf.getvalue().splitlines()
    assert len(out) == 2 and "clips 01-health-1: done" in out[0] and "warning: careful" in out[1]


def test_a_note_of_several_lines_stays_under_its_stamped_event() -> None:
    """An ffmpeg failure's tail is a note of several lines: its later lines started at
    the margin with no stamp, like output of something else. Every line of the log now
    starts with a stamp, or with the indent of one under its event."""
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    rep.step("clips", "s1", "failed", "ffmpeg failed (1): first line\nsecond line\nthird\n")
    rep.warn("two\nlines")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 5, lines
    stamp = re.compile(r"^\[ *\d+\.\ds\] ")
    first = stamp.match(lines[0])
    assert first is not None
    assert lines[0].endswith("clips s1: failed - ffmpeg failed (1): first line")
    width = first.end()
    assert lines[1] == " " * width + "second line" and lines[2] == " " * width + "third"
    assert stamp.match(lines[3]) and lines[3].endswith("warning: two")
    assert lines[4] == " " * width + "lines"


def test_a_totals_line_before_any_other_line_says_0_seconds_not_minus_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A resumed paid run that stops at the spend question (declined, or no terminal to
    ask) prints its totals line (the run's spend) as its first line: its clock was read
    twice, the later reading subtracted, and the line said "elapsed -0 s"."""
    from mindmovie import progress

    ticks = iter(range(100, 200))
    monkeypatch.setattr(progress.time, "monotonic", lambda: float(next(ticks)))
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    rep.money(0.01, 0.0)
    rep.close()
    (line,) = buf.getvalue().splitlines()
    assert "elapsed 0 s" in line and "-0" not in line, line


def test_the_plain_log_s_clock_starts_at_its_first_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A paid render asks "Spend about $...?" before its first event: with the log piped
    (`render ... 2>log` at a terminal), its stamps counted the minute taken to answer."""
    from mindmovie import progress

    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    clock[0] = 160.0  # the person answers a minute later
    rep.stage("keyframes", 2)
    clock[0] = 162.5
    rep.step("keyframes", "s1", "done")
    rep.close()
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("[   0.0s] keyframes: 2 step(s)"), lines
    assert lines[1] == "[   2.5s] keyframes s1: done (1/2)", lines  # how far (scale audit)
    assert "elapsed 2 s" in lines[-1], lines  # not 62 s


def test_the_plain_log_ends_with_the_totals_and_the_spend() -> None:
    """In a pipe or CI log (no --verbose) a paid render never said what it had spent:
    the spend lines are --verbose only and the result lines name none. The log now ends
    with the live view's totals line."""
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    rep.stage("keyframes", 2)
    rep.stage("clips", 2)
    rep.money(0.03, 0.10)
    rep.step("keyframes", "01-health-1", "reused")
    rep.step("keyframes", "02-wealth-1", "done")
    rep.step("clips", "01-health-1", "done")
    rep.step("scenes", "02-wealth-1", "failed", "content filter")
    rep.money(0.14, 0.0)
    rep.close()
    last = buf.getvalue().splitlines()[-1].split("] ", 1)[1]
    assert last.startswith("totals: keyframes 2/2, clips 1/2, 1 failed   elapsed "), last
    assert last.endswith(" spend $0.14"), last
    assert "in flight" not in buf.getvalue()  # the spend updates stay --verbose only


def test_the_plain_log_of_a_plan_only_run_adds_no_totals_line() -> None:
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    rep.step("plan", "plan", "done", "3 scenes")
    rep.close()
    assert len(buf.getvalue().splitlines()) == 1
    # but a plan paid for (Claude) says what it cost, with no stage counts
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    rep.money(0.05, 0.0)
    rep.step("plan", "plan", "done", "3 scenes")
    rep.close()
    last = buf.getvalue().splitlines()[-1].split("] ", 1)[1]
    assert last.startswith("totals: elapsed ") and last.endswith(" spend $0.05"), last


def test_plain_line_names_a_stage_once_when_the_id_is_the_stage() -> None:
    """The planner reports as stage "plan", id "plan": one word, not "plan plan"."""
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=True)
    rep.step("plan", "plan", "running", "local")
    rep.step("plan", "plan", "done", "3 scenes")
    rep.step("clips", "01-health-1", "done")
    out = [line.split("] ", 1)[1] for line in buf.getvalue().splitlines()]
    assert out == ["plan: running - local", "plan: done - 3 scenes", "clips 01-health-1: done"]


def test_status_says_what_the_next_render_does() -> None:
    assert "reuse" in _next_action({"keyframe": "succeeded", "clip": "succeeded"})
    assert "poll job cgt-9" in _next_action({"clip": "submitted", "remote_id": "cgt-9"})
    assert "attempt 3" in _next_action({"clip": "failed", "attempts": 2, "error": "HTTP 500"})
    assert "keyframe" in _next_action({})


def test_status_says_a_step_refused_as_sent_is_retried_once_changed() -> None:
    """A clip or keyframe the provider refused as sent (its error ends with
    `pipeline.refused_request_fix`'s words): "retry the clip (attempt 2)" alone read as
    if the next render might pass; it sends the same request, refused again."""
    from pathlib import Path

    from mindmovie.pipeline import refused_request_fix

    fix = refused_request_fix(Path("/r/plan.yaml"), "01", "clip", "duration")
    refused = {"clip": "failed", "tries": {"clip": 1}, "error": f"clip: refused{fix}"}
    assert _next_action(refused) == (
        "retry the clip (attempt 2) once what its error names is changed: the provider "
        "refused it as sent"
    )
    fix = refused_request_fix(Path("/r/plan.yaml"), "01", "keyframe", "prompt")
    kf = {"keyframe": "failed", "error": f"keyframe: refused{fix}"}
    assert _next_action(kf) == (
        "retry the keyframe once what its error names is changed: the provider refused "
        "it as sent, then make the clip"
    )
    assert _next_action({"keyframe": "failed", "error": "keyframe: HTTP 500"}) == (
        "retry the keyframe, then make the clip"
    )


def test_brackets_in_notes_and_warnings_are_shown_as_text() -> None:
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=120, color_system=None))
    try:
        rep.step("clips", "01-a-1", "failed", "HTTP 400 [/i] bad [input]")
        rep.warn("photo [me].jpg [/b] looks odd")
        text = _text(rep._render())
    finally:
        rep.close()
    assert "[/i] bad [input]" in text and "[/i] bad [input]" in buf.getvalue()
    assert "photo [me].jpg [/b] looks odd" in buf.getvalue()


def test_a_long_scene_id_is_folded_whole_not_cut() -> None:
    rep = RichReporter(Console(file=io.StringIO(), width=60, color_system=None))
    ids = [f"01-{'a' * 60}-{n}" for n in (1, 2, 3)]
    try:
        for sid in ids:
            rep.step("clips", sid, "running")
        buf = io.StringIO()
        Console(file=buf, width=60, color_system=None).print(rep._render())
    finally:
        rep.close()
    text = buf.getvalue()
    assert "…" not in text
    first = "".join(ln.split()[0] for ln in text.splitlines()[1:] if ln[:1] in "0a")
    for sid in ids:
        assert sid in first


def test_with_more_scenes_than_lines_the_totals_and_working_scenes_stay_in_view() -> None:
    term = Console(file=io.StringIO(), width=80, height=30, color_system=None)
    rep = RichReporter(term)
    try:
        rep.stage("clips", 60)
        for i in range(60):
            state = "running" if i >= 55 else "failed" if i == 2 else "done"
            rep.step("clips", f"{i + 1:02d}-health-1", state, "content filter" * (i == 2))
        buf = io.StringIO()
        Console(file=buf, width=80, color_system=None).print(rep._render())
        text = buf.getvalue()
        lines = text.splitlines()
        assert len(lines) <= 30 - 1, text  # the live view must fit, or rich cuts its end
        assert "clips 54/60, 1 failed" in lines[-1] and "spend" in lines[-1]
        for i in range(55, 60):  # every scene still working is shown
            assert f"{i + 1:02d}-health-1" in text
        assert "03-health-1" in text and "content filter" in text  # failed rows stay
        shown_done = sum(1 for ln in lines if " done " in f"{ln} ")
        assert f"+ {54 - shown_done} finished" in text
        rep.close()
        # the final view, printed once the render is over, has every row
        buf = io.StringIO()
        Console(file=buf, width=80, color_system=None).print(rep._render())
        assert all(f"{i + 1:02d}-health-1" in buf.getvalue() for i in range(60))
    finally:
        rep.close()


def test_queued_rows_give_way_too_when_the_view_is_taller_than_the_terminal() -> None:
    """Mid-clips most of 60 scenes are queued: those rows, not the totals, give way."""
    rep = RichReporter(Console(file=io.StringIO(), width=80, height=30, color_system=None))
    try:
        rep.stage("clips", 60)
        for i in range(60):
            state = "done" if i < 5 else "running" if i < 8 else "queued"
            rep.step("clips", f"{i + 1:02d}-health-1", state)
        buf = io.StringIO()
        Console(file=buf, width=80, color_system=None).print(rep._render())
        text = buf.getvalue()
        lines = text.splitlines()
        assert len(lines) <= 30 - 1, text
        assert "clips 5/60" in lines[-1] and "spend" in lines[-1]
        assert all(f"{i + 1:02d}-health-1" in text for i in range(5, 8))  # at work
        assert "09-health-1" in text  # the next to start stays; the last ones give way
        shown_queued = sum(1 for ln in lines if ln[:1].isdigit() and " queued " in f"{ln} ")
        assert f"+ 5 finished, {52 - shown_queued} queued" in text
    finally:
        rep.close()


def test_scenes_that_failed_are_counted_in_the_totals_line() -> None:
    """The pipeline says a scene failed (stage "scenes") once its flow ended: a keyframe
    that failed, or a clip. The totals line counted neither ("keyframes 5/6, clips 4/6"
    at the end of a render with two scenes failed), so its counts did not add up."""
    rep = RichReporter(Console(file=io.StringIO(), width=120, color_system=None))
    try:
        rep.stage("keyframes", 6)
        rep.stage("clips", 6)
        for i in range(6):
            sid = f"0{i + 1}-health-1"
            rep.step("keyframes", sid, "running")
            if i == 0:  # its keyframe failed: no clip
                rep.step("scenes", sid, "failed", "keyframe: HTTP 500")
                continue
            rep.step("keyframes", sid, "done")
            rep.step("clips", sid, "polling", "running")
            if i == 1:  # its clip failed
                rep.step("scenes", sid, "failed", "clip: content filter")
                rep.step("scenes", sid, "failed", "clip: content filter")  # said twice
                continue
            rep.step("clips", sid, "done")
        (totals,) = [ln for ln in _text(rep._render()).splitlines() if "elapsed" in ln]
    finally:
        rep.close()
    assert totals.startswith("keyframes 5/6, clips 4/6, 2 failed "), totals


def _many(height: int, width: int = 80) -> tuple[RichReporter, list[str]]:
    """60 scenes mid-render, in a terminal `height` lines tall: finished, queued, failed
    (a long error that wraps) and working rows, some ids long enough to be folded."""
    rep = RichReporter(Console(file=io.StringIO(), width=width, height=height, color_system=None))
    rep.stage("keyframes", 60)
    rep.stage("clips", 60)
    ids = [f"{i + 1:02d}-{'health' if i % 3 else 'a-long-category-' * 3}-1" for i in range(60)]
    for i, sid in enumerate(ids):
        state = (
            "failed" if i in (3, 41) else "done" if i < 40 else "running" if i < 46 else "queued"
        )
        note = "HTTP 500: the provider said it could not make this clip now, try later"
        rep.step("clips", sid, state, note if state == "failed" else "")
    return rep, ids


def _drawn(rep: RichReporter) -> list[str]:
    """The lines the live view draws now, at its console's width."""
    buf = io.StringIO()
    Console(file=buf, width=rep.console.width, color_system=None).print(rep._render())
    return buf.getvalue().splitlines()


@pytest.mark.parametrize("height", [10, 20, 40])
@pytest.mark.parametrize("width", [60, 80])
def test_the_live_view_fits_the_terminal_exactly(height: int, width: int) -> None:
    """The rows hidden were an estimate (one line a row, a folded id by a guess of the
    column's width): a failed row's error wrapped over three lines, the "+ N" row widened
    the scene column, and the view grew taller than the terminal, where rich cuts its
    bottom lines: the totals and the spend. It is measured now: the view fits (a line
    left for the cursor), and with one row fewer hidden it would not."""
    rep, ids = _many(height, width)
    try:
        lines = _drawn(rep)
        assert len(lines) <= height - 1, "\n".join(lines)
        # the totals (wrapped at 60 columns) last, below the "+ N" line of rows left out
        (at,) = [i for i, ln in enumerate(lines) if ln.startswith("keyframes 0/60")]
        totals = " ".join(" ".join(lines[at:]).split())
        assert totals.startswith("keyframes 0/60, clips 39/60, 2 failed"), totals
        assert totals.endswith("spend $0.00") and lines[at - 1].startswith("+ "), lines
        # exact: one hidden row fewer does not fit (the fewest rows are hidden)
        items = list(rep.rows.items())
        order = rep._give_way(items)
        assert rep._fit is not None
        k = rep._fit[1]
        taller = rep._view(items, order[: k - 1], time.monotonic())
        assert len(rep.console.render_lines(taller, pad=False)) > height - 1
        # the rows at work stay while there is room for them
        if height >= 20:
            text = "\n".join(lines)
            assert all(ids[i][:8] in text for i in range(42, 46)), text
    finally:
        rep.close()


@pytest.mark.parametrize("height", [10, 20, 40])
def test_the_drawn_live_view_is_never_cut_by_rich(height: int) -> None:
    """What rich.live draws on a terminal of that height: never its "..." for a view
    taller than the screen (the totals line is what that cut)."""
    buf = io.StringIO()
    term = Console(
        file=buf, width=80, height=height, force_terminal=True, color_system=None, _environ={}
    )
    rep, _ = _many(height)
    rep.console = term
    rep.live = Live(console=term, auto_refresh=False, get_renderable=rep._render)
    try:
        rep.live.start()
        rep.live.refresh()
        drawn = buf.getvalue()
    finally:
        rep.close()
    lines = [ln.replace("\x1b[2K", "").strip() for ln in drawn.splitlines()]
    assert "..." not in lines, drawn  # rich's mark for lines cut
    assert any(ln.startswith("keyframes 0/60, clips 39/60, 2 failed") for ln in lines), drawn


@pytest.mark.parametrize(("height", "width"), [(5, 40), (6, 30), (8, 20)])
def test_in_a_very_short_or_narrow_terminal_the_totals_and_spend_stay(
    height: int, width: int
) -> None:
    """With every row hidden the header and the "+ N" line still came first, and in a
    pane a few lines tall (or narrow, the totals wrapping) they pushed the totals and
    the spend below the edge, where rich cut them. Then only the totals are drawn."""
    rep, _ = _many(height, width)
    try:
        lines = _drawn(rep)
        again = _drawn(rep)  # the measured count kept for the next redraw
    finally:
        rep.close()
    assert len(lines) <= height - 1, lines
    text = " ".join(" ".join(lines).split())
    assert text.startswith("keyframes 0/60, clips 39/60, 2 failed"), lines
    assert text.endswith("spend $0.00"), lines
    assert again == lines


def test_the_totals_line_says_a_lost_answer_apart_from_money_in_flight() -> None:
    """A held call whose answer was lost and that nothing can settle is not in flight;
    the view says it as `status` does, and still counts it (it may bill)."""
    line = totals_line({"clips": 2}, {"clips": 1}, 0, 5.0, 0.5, 0.25, 0.04)
    assert line.endswith("spend $0.50 (+$0.25 in flight, +$0.04 outcome unknown)"), line
    line = totals_line({"clips": 2}, {"clips": 2}, 0, 5.0, 0.5, 0.0, 0.04)
    assert line.endswith("spend $0.50 (+$0.04 outcome unknown)"), line
    assert totals_line({}, {}, 0, 1.0, 0.5, 0.0).endswith("spend $0.50")


def test_the_totals_line_says_a_spend_below_a_cent_as_status_does() -> None:
    """A render stopped after its paid plan (about half a cent) said 'spend $0.00' in the
    live view and the log's totals, where `status` says 'billed $0.0049' and the
    estimate '$0.01': a paid call read as free."""
    line = totals_line({}, {}, 0, 7.0, 0.004944, 0.0333, 0.0021)  # (in flight: a cent or more)
    assert line.endswith("spend $0.0049 (+$0.03 in flight, +$0.0021 outcome unknown)"), line
    assert totals_line({}, {}, 0, 1.0, 0.0, 0.0).endswith("spend $0.00")
    assert totals_line({}, {}, 0, 1.0, 12.5, 0.0).endswith("spend $12.50")


def test_a_state_word_is_not_cut_in_a_narrow_terminal() -> None:
    """At 40 columns (30 scenes, keyframes and clips at once) the state column was 9
    wide and rich cut the word: 'submitti…', 'downloa…'."""
    con = Console(file=io.StringIO(), width=40, height=40, color_system=None)
    rep = RichReporter(con)
    try:
        rep.stage("keyframes", 3)
        rep.stage("clips", 3)
        rep.step("clips", "01-goal0-1", "submitting")
        rep.step("clips", "02-goal1-1", "downloading")
        rep.step("keyframes", "11-goal10-1", "running")
        buf = io.StringIO()
        Console(file=buf, width=40, color_system=None).print(rep._render())
    finally:
        rep.close()
    text = buf.getvalue()
    assert "…" not in text, text
    assert "submitting" in text and "downloading" in text, text


def test_a_scene_s_end_is_shown_in_the_stage_it_was_in() -> None:
    """The pipeline says a scene failed (or stopped) once its flow ended, as stage
    "scenes": the live view's row and its ✗ line, and the plain log, said "scenes
    failed" / "✗ scenes 01-..." / "scenes 01-...: failed", not that the clip failed."""
    live = io.StringIO()
    rep = RichReporter(Console(file=live, width=120, color_system=None))
    try:
        rep.stage("keyframes", 2)
        rep.stage("clips", 2)
        rep.step("keyframes", "01-health-1", "done")
        rep.step("clips", "01-health-1", "polling", "running")
        rep.step("scenes", "01-health-1", "failed", "refused by the content filter")
        rep.step("scenes", "02-wealth-1", "failed", "no row before")  # (none to go by)
        rows = _text(rep._render())
    finally:
        rep.close()
    (row,) = [ln for ln in rows.splitlines() if "01-health-1" in ln]
    assert "clips" in row and "failed" in row and "scenes" not in row, rows
    assert "✗ clips 01-health-1: refused by the content filter" in live.getvalue()
    assert "1/2" not in row and "2 failed" in rows, rows  # counted as failed, once each
    buf = io.StringIO()
    plain = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    plain.step("keyframes", "01-health-1", "done")
    plain.step("scenes", "01-health-1", "stopped", "budget reached, not sent")
    plain.step("clips", "02-wealth-1", "submitting")
    plain.step("scenes", "02-wealth-1", "failed", "refused")
    assert "clips 02-wealth-1: failed - refused" in buf.getvalue(), buf.getvalue()
    assert "scenes" not in buf.getvalue(), buf.getvalue()


@pytest.mark.parametrize("width", [24, 30, 40, 60])
def test_a_row_stays_readable_in_a_narrow_terminal(width: int) -> None:
    """At 24 columns rich cut the stage and state words ('cli…', 'com…', 'sta…' in the
    header) and wrapped the seconds under themselves ('0' / 's'). The seconds give way
    first, then the stage goes into the state cell: every word is shown whole."""
    con = Console(file=io.StringIO(), width=width, height=40, color_system=None)
    rep = RichReporter(con)
    try:
        rep.stage("keyframes", 3)
        rep.stage("clips", 3)
        rep.step("plan", "plan", "done", "3 scenes")
        rep.step("keyframes", "01-health-1", "running")
        rep.step("clips", "02-career-1", "downloading")
        rep.step("clips", "03-lifestyle-1", "queued", "waiting for the budget")
        rep.step("compose", "movie", "done")
        text = "\n".join(_drawn(rep))
    finally:
        rep.close()
    assert "…" not in text, text
    words = set(text.split())
    want = {"keyframes", "running", "clips", "downloading", "queued", "compose", "budget"}
    want |= {"scenes"}  # a note's word too ('scen…' at 24 columns)
    assert want <= words, (want - words, text)
    assert not [ln for ln in text.splitlines() if ln.split() in (["s"], ["0"])], text


@pytest.mark.parametrize("closing", [False, True])
def test_an_id_the_seconds_room_would_show_whole_is_not_folded_at_40_columns(
    closing: bool,
) -> None:
    """At 40 columns the final view (every row shown) folded "03-relationships-1" over
    two lines ("03-relationships-" and "1") to keep the seconds, and "done 7 scenes"
    too: the seconds give way to an id they keep from being whole."""
    con = Console(file=io.StringIO(), width=40, height=40, color_system=None)
    rep = RichReporter(con)
    try:
        rep.stage("clips", 2)
        rep.step("plan", "plan", "done", "7 scenes")
        rep.step("clips", "01-health-1", "done")
        rep.step("clips", "03-relationships-1", "done")
        rep.closing = closing
        text = "\n".join(_drawn(rep))
    finally:
        rep.close()
    assert "03-relationships-1" in text.split(), text
    assert "done 7 scenes" in text, text


def test_the_live_view_is_held_off_the_screen_while_a_question_is_asked() -> None:
    """`held`: the running view is cleared (its refreshes erased a question printed
    under it) and drawn again after, as it was; a view not started stays so."""
    screen = io.StringIO()
    rep = RichReporter(Console(file=screen, force_terminal=True, width=60, height=20))
    try:
        with rep.held():
            assert not rep.live.is_started  # (not started yet: the first question)
        assert not rep.live.is_started
        rep.step("clips", "01-health-1", "running")
        assert rep.live.is_started
        with rep.held():
            assert not rep.live.is_started
            rep.console.print("Spend about $2.02? [y/N]: y")
            at = len(screen.getvalue())
            time.sleep(0.6)  # (two refreshes' time: nothing drawn meanwhile)
            assert len(screen.getvalue()) == at
        assert rep.live.is_started and rep.live.vertical_overflow == "ellipsis"
        assert not rep.live.transient
        rep.live.refresh()
        # drawn again below the question: the view started again first moved up over
        # the lines its last frame had taken, and cleared the question
        after = screen.getvalue()[at:]
        assert "scene" in after and "\x1b[1A" not in after.split("scene")[0], repr(after)
    finally:
        rep.close()


def test_a_long_error_line_wraps_at_words_and_keeps_a_path_whole() -> None:
    """The live view's error and warning lines went through rich's wrap, which cuts a
    word longer than the line where the line ends: a photo's path came out as
    '.../2024-summer-ho' over 'liday/IMG_...-b' over 'each-sunset...', not copyable.
    They wrap at spaces; a longer word is written whole (the terminal folds it, and a
    copy of it is the path)."""
    path = "/home/someone/my-vision-board/photos/2024-summer-holiday/IMG_20240812-beach.jpg"
    note = f"could not read {path}: the file is not an image; fix the path in goals.yaml"
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=50, color_system=None))
    try:
        rep.step("keyframes", "01-health-1", "failed", note)
        rep.warn(f"{path} is not used offline; only a paid keyframe model uses it")
    finally:
        rep.close()
    lines = buf.getvalue().split("scene ")[0].splitlines()  # above the view
    assert [ln.strip() for ln in lines].count(path + ":") == 1, lines
    assert [ln.strip() for ln in lines].count(path) == 1, lines
    assert all(len(ln) <= 50 for ln in lines if path not in ln), lines
    said = " ".join(" ".join(lines).split())
    assert said == f"✗ keyframes 01-health-1: {note} warning: " + (
        f"{path} is not used offline; only a paid keyframe model uses it"
    ), said


def test_a_path_in_a_row_s_note_is_not_broken_across_lines() -> None:
    """A failed row's note (the error, printed whole above the view) folded a path at the
    state column's edge: '.../IMG_20240812-beach' over '-sunset-long-name.jpg:', as
    if broken at a hyphen. In a row a path longer than the column is shown by its end
    ('…/IMG_...jpg:'), on one line."""
    name = "IMG_20240812-beach-sunset-long-name.jpg"
    path = f"/home/someone/projects/my-vision-board/photos/2024-summer-holiday/{name}"
    note = f"could not read {path}: the file is not an image"
    rep = RichReporter(Console(file=io.StringIO(), width=80, height=40, color_system=None))
    try:
        rep.step("keyframes", "01-health-1", "failed", note)
        rep.step("keyframes", "02-career-1", "running")
        lines = _drawn(rep)
    finally:
        rep.close()
    rows = lines[[ln.startswith("scene") for ln in lines].index(True) :]
    assert any(f"…/{name}:" in ln for ln in rows), rows
    assert not [ln for ln in rows if ln.split() and ln.split()[-1].startswith("-")], rows
    said = " ".join(" ".join(rows).split())
    assert "failed could not read" in said and "the file is not an image" in said, said


def test_the_plain_log_counts_the_plan_s_time_and_says_it_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A paid plan that failed after seconds: the line-mode log (no -v) printed nothing
    while it ran and ended "[   0.0s] totals: elapsed 0 s", its clock started by its
    first printed line. The clock starts at the first step, printed or not, and the
    plan's start is a line."""
    from mindmovie import progress

    clock = [100.0]
    monkeypatch.setattr(progress.time, "monotonic", lambda: clock[0])
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    rep.step("plan", "plan", "running", "anthropic")
    clock[0] = 107.5
    rep.money(0.0, 0.02)
    rep.step("plan", "plan", "failed", "HTTP 500")
    rep.close()
    lines = buf.getvalue().splitlines()
    assert lines[0] == "[   0.0s] plan: running - anthropic", lines
    assert lines[1] == "[   7.5s] plan: failed - HTTP 500", lines
    assert lines[2].startswith("[   7.5s] totals:") and "elapsed 8 s" in lines[2], lines


def test_control_characters_in_text_are_shown_not_sent_to_the_terminal() -> None:
    """A name holding ESC (`$'\\e[2J'`) was written raw: the terminal cleared its screen
    or recoloured the rest. LogConsole writes it as `\\x1b`; its own styles and a live
    view's cursor moves are still escape sequences, and line breaks stay. So is a
    direction override (U+202E) written as its escape, not a right-to-left text's
    embeddings and isolates."""
    from mindmovie.progress import LogConsole

    buf = io.StringIO()
    con = LogConsole(
        file=buf, force_terminal=True, color_system="standard", width=200, highlight=False
    )
    con.print("[red]error:[/red] a\x1b[2Jb\x1fc\x9bd\ne", soft_wrap=True)
    with Live("x\x1b]0;title\x07y", console=con, auto_refresh=False) as live:
        live.refresh()
    text = buf.getvalue()
    assert "a\\x1b[2Jb\\x1fc\\x9bd\ne" in text
    assert "x\\x1b]0;title" in text
    assert "\x1b[31merror:" in text  # the style
    assert "\x1b[?25l" in text  # the live view hid the cursor: a control segment
    assert not {"\x07", "\x1f", "\x9b"} & set(text)
    # only rich's own sequences are left: ESC then `[`, each a whole CSI
    assert re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).count("\x1b") == 0
    # a direction override turned the rest of the line around ("run<U+202E>gpj.exe"
    # shown as "runexe.jpg"): written as its escape; the embeddings, isolates and marks
    # of right-to-left text are left as they are
    buf.seek(0)
    buf.truncate()
    rtl = "\u202b\u05e9\u202c \u2067x\u2069 \u05e9\u200f"
    con.print(f"plan: run\u202egpj.exe/plan.yaml {rtl}", soft_wrap=True)
    text = buf.getvalue()
    assert "run\\u202egpj.exe" in text and "\u202e" not in text, text
    assert rtl in text, text
