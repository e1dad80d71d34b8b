"""What the live view shows for the compose stage, from a real offline pipeline run."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from mindmovie import progress
from mindmovie.config import load_settings
from mindmovie.pipeline import Declined, Pipeline
from mindmovie.progress import (
    PlainReporter,
    Reporter,
    RichReporter,
    WarningsReporter,
    make_reporter,
)
from tests.integration.support import KEYS, goals_file, seedance_only, settings_for
from tests.sim.server import SimServer


def _settings(engine: str) -> object:
    return load_settings(
        overrides={
            "preset": "local",
            "output": {"size": "160x90", "fps": 8},
            "plan": {"scene_seconds": 2},
            "compose": {"crossfade": 0.5, "title_seconds": 1.0, "closing_seconds": 1.0,
                        "quality": "draft", "engine": engine},
        },
        env={},
    )  # fmt: skip


def _compose_row(rep: RichReporter) -> str:
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(rep._render())
    rows = [ln for ln in buf.getvalue().splitlines() if ln.startswith("movie")]
    assert len(rows) == 1, buf.getvalue()
    return rows[0]


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
async def test_the_compose_row_ends_done_for_each_engine_and_on_reuse(
    tmp_path: Path, engine: str
) -> None:
    goals = goals_file(tmp_path)
    for _ in range(2):  # a render, then one that reuses the movie
        rep = RichReporter(Console(file=io.StringIO(), width=120, color_system=None))
        try:
            await Pipeline(goals, _settings(engine), out=tmp_path / "run", reporter=rep).run()
            row = _compose_row(rep)
        finally:
            rep.close()
        n, total = row.split()[-3].split("/")
        assert "done" in row and n == total and int(total) >= 1, row


def test_reporter_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """--quiet: warnings only; a pipe: finished steps only unless --verbose; a terminal: the live
    view unless --verbose, or CI=true."""
    assert isinstance(make_reporter(quiet=True, verbose=True), WarningsReporter)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    pipe = make_reporter()
    assert isinstance(pipe, PlainReporter) and not pipe.verbose
    loud = make_reporter(verbose=True)
    assert isinstance(loud, PlainReporter) and loud.verbose
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(progress, "RichReporter", lambda: "live view")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("CI", raising=False)
    assert make_reporter() == "live view"
    # a CI job given a terminal (docker run -t): its kept log was the live view's
    # redraws, cursor codes and all
    for ci in ("true", "1", "True"):
        monkeypatch.setenv("CI", ci)
        log = make_reporter()
        assert isinstance(log, PlainReporter) and not log.verbose, ci
    for not_ci in ("", "0", "false"):
        monkeypatch.setenv("CI", not_ci)
        assert make_reporter() == "live view", not_ci
    monkeypatch.delenv("CI")
    # a terminal that cannot redraw (Emacs' shell): rich showed nothing until the end
    for term in ("dumb", "unknown"):
        monkeypatch.setenv("TERM", term)
        dumb = make_reporter()
        assert isinstance(dumb, PlainReporter) and not dumb.verbose
    monkeypatch.setenv("TERM", "xterm-256color")
    tty_verbose = make_reporter(verbose=True)
    assert isinstance(tty_verbose, PlainReporter) and tty_verbose.verbose


async def test_the_live_view_does_not_draw_over_the_spend_question(
    sim: SimServer, tmp_path: Path
) -> None:
    """A paid render asks "Spend about $...?" before its first call. The live view was
    started with the reporter and redrew four times a second over the question, erasing
    it (and the estimate's last line) while the person was reading it."""
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=100, force_terminal=True, color_system=None))
    seen: dict[str, object] = {}

    def ask(est: object) -> bool:
        seen["live"], seen["drawn"] = rep.live.is_started, buf.getvalue()
        return False

    goals = goals_file(tmp_path, sim)
    pipe = Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS,
                    reporter=rep, confirm=ask)  # fmt: skip
    try:
        with pytest.raises(Declined):
            await pipe.run()
    finally:
        rep.close()
    assert seen["live"] is False and "elapsed" not in str(seen["drawn"]), seen
    # once work starts the view is drawn as before
    rep = RichReporter(Console(file=io.StringIO(), width=100, force_terminal=True))
    try:
        rep.stage("keyframes", 1)
        assert rep.live.is_started
    finally:
        rep.close()


def test_the_interrupted_line_is_one_line_in_a_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C's resume line went through rich's 80-column wrap ("... nothing paid for is"
    / "lost; run the same command again"), unlike every other log and error line."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.pipeline import Interrupted

    text = (
        "stopped. Jobs already sent are journaled and nothing paid for is lost; run the "
        "same command again to resume"
    )

    async def ctrl_c(self: Pipeline, **kwargs: object) -> None:
        raise Interrupted(text)

    monkeypatch.setattr(Pipeline, "run", ctrl_c)
    r = CliRunner().invoke(app, ["render", str(goals_file(tmp_path))], env={"COLUMNS": "80"})
    assert r.exit_code == 130
    assert f"interrupted: {text}" in r.stderr.splitlines(), r.stderr


async def test_a_scene_that_failed_is_counted_in_the_live_totals(
    sim: SimServer, tmp_path: Path
) -> None:
    """A clip refused twice by the content filter fails its scene; the pipeline says so
    as stage "scenes", which the totals line did not count: "clips 3/4" and nothing
    else at the end, so a failed scene was missing from the counts."""
    from mindmovie.pipeline import RenderFailed

    sim.media_scale = 0.25
    sim.add_fault("reject", path="/contents/generations/tasks", method="POST", count=2)
    fast = {"max_concurrent": 1, "poll_interval": 0.05, "poll_max_interval": 0.1}
    one = {"providers": {"byteplus": {"base_url": sim.ark_base_url, **fast}}}
    rep = RichReporter(Console(file=io.StringIO(), width=120, color_system=None))
    pipe = Pipeline(goals_file(tmp_path, sim), settings_for("byteplus", sim, **one),
                    out=tmp_path / "run", keys=KEYS, reporter=rep)  # fmt: skip
    try:
        with pytest.raises(RenderFailed):
            await pipe.run()
        buf = io.StringIO()
        Console(file=buf, width=120, color_system=None).print(rep._render())
    finally:
        rep.close()
    assert pipe.result is not None and len(pipe.result.failed) == 1
    n = len(pipe.result.plan.scenes)
    (totals,) = [ln for ln in buf.getvalue().splitlines() if "elapsed" in ln]
    assert totals.startswith(f"keyframes {n}/{n}, clips {n - 1}/{n}, 1 failed "), totals


async def test_a_resumed_run_shows_what_the_run_has_spent_from_the_start(
    sim: SimServer, tmp_path: Path
) -> None:
    """Rendered again after paying for its keyframes, a run showed "spend $0.00" (the live
    view and the log's totals) until it paid for something new, when the figure jumped
    to the run's whole total (the ledger's, which --budget counts)."""
    sim.media_scale = 0.25
    settings = settings_for(
        "byteplus", sim, planner={"provider": "local"}, video={"provider": "local"}
    )
    goals = goals_file(tmp_path, sim)
    spent = []
    for _ in range(2):  # paid keyframes, then a render that reuses them all
        buf = io.StringIO()
        rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
        pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, reporter=rep)
        try:
            await pipe.run(until="keyframes")
        finally:
            rep.close()
        spent.append(buf.getvalue().splitlines()[-1].rsplit(" spend ", 1)[1])
    assert spent[0] != "$0.00" and spent == [spent[0], spent[0]], spent


def _cli_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, goals: str) -> Any:
    """A folder with this goals.yaml, no MINDMOVIE_ variables, and the CLI run in it:
    `cli("plan", "goals.yaml")` is that command's result (stdout and stderr apart)."""
    import os

    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("MINDMOVIE_")]:
        monkeypatch.delenv(name)
    (tmp_path / "goals.yaml").write_text(goals)
    return lambda *args: CliRunner().invoke(app, list(args))


def test_a_one_scene_plan_is_one_scene_not_1_scenes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plan`'s table title and `render`'s plan line said "1 scenes"."""
    cli = _cli_in(tmp_path, monkeypatch, "title: T\ngoals:\n  - category: a\n    vision: b\n")
    r = cli("plan", "goals.yaml", "--out", "run")
    assert r.exit_code == 0 and "T: 1 scene " in r.output, r.output
    assert "1 scenes" not in r.output
    r = cli("render", "goals.yaml", "--out", "run2", "--until", "plan")
    assert r.exit_code == 0 and "plan: done - 1 scene\n" in r.stderr, r.stderr
    assert "1 scenes" not in r.stderr


def test_a_log_says_how_far_each_stage_is_and_the_join_after_the_last_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scale audit: a 60-scene log's 123 compose lines said no "n of N", and after
    the last segment said done the join and the music took 31 s with nothing said."""
    cli = _cli_in(tmp_path, monkeypatch, "title: T\ngoals:\n  - category: a\n    vision: b\n")
    (tmp_path / "small.yaml").write_text(
        "output: {size: 160x90, fps: 8}\nplan: {scene_seconds: 2}\n"
        "compose: {crossfade: 0.5, title_seconds: 1.0, closing_seconds: 1.0, quality: draft}\n"
    )
    r = cli("render", "goals.yaml", "-c", "small.yaml", "--out", "run")
    assert r.exit_code == 0, r.stderr
    assert "keyframes 01-a-1: done (1/1)" in r.stderr, r.stderr
    lines = [ln.split("] ", 1)[-1] for ln in r.stderr.splitlines()]
    made = [i for i, ln in enumerate(lines) if ln.startswith("compose ")]
    assert lines[made[-1]].endswith(f"({len(made)}/{len(made)})"), lines
    joined = f"compose: joining the {len(made)} segments and the sound into movie.mp4"
    assert lines[made[-1] + 1] == joined, lines


@pytest.mark.parametrize("command", ["plan", "estimate"])
def test_a_hashtag_left_as_a_comment_is_a_warning_at_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """`affirmation: #blessed` loads empty (YAML reads it as a comment): `plan` says so
    on stderr, with the line and how to quote it, and goes on; `estimate`, which prices
    that plan, said nothing of it."""
    text = "title: T\ngoals:\n  - category: a\n    vision: b\n    affirmation: #blessed\n"
    r = _cli_in(tmp_path, monkeypatch, text)(command, "goals.yaml", "--out", "run")
    assert r.exit_code == 0, r.output
    assert (
        "warning: goals.yaml:5: goals[1].affirmation: YAML reads '#blessed' as a comment"
    ) in " ".join(r.stderr.split()), r.stderr
    assert (tmp_path / "run" / "plan.yaml").is_file() == (command == "plan")


def test_sound_asked_of_the_local_video_provider_is_said_to_be_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`video.audio: true` with the local preset was dropped without a word."""
    cli = _cli_in(tmp_path, monkeypatch, "title: T\ngoals:\n  - category: a\n    vision: b\n")
    (tmp_path / "c.yaml").write_text("video: {audio: true}\n")
    r = cli("plan", "goals.yaml", "-c", "c.yaml", "--out", "run")
    assert r.exit_code == 0, r.output
    assert "warning: video.audio: the local video provider makes no sound; it is ignored" in (
        " ".join(r.stderr.split())
    ), r.stderr
    r = cli("plan", "goals.yaml", "--out", "run2")
    assert r.exit_code == 0 and "video.audio" not in r.stderr, r.stderr


def test_a_model_set_for_a_local_stage_is_said_to_be_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`video.model: nosuch` with the local preset (or a paid model's name left when the
    stage was set local) passed silently everywhere, doctor too (options audit)."""
    from mindmovie.config import load_settings
    from mindmovie.doctor import run_checks

    cli = _cli_in(tmp_path, monkeypatch, "title: T\ngoals:\n  - category: a\n    vision: b\n")
    (tmp_path / "c.yaml").write_text("video: {model: nosuch}\n")
    r = cli("plan", "goals.yaml", "-c", "c.yaml", "--out", "run")
    said = "warning: video.model (nosuch): the local video provider has one model of its own"
    assert r.exit_code == 0 and said in " ".join(r.stderr.split()), r.stderr
    rows = run_checks(load_settings(tmp_path / "c.yaml", env={}))
    assert any("video.model (nosuch)" in c.detail and not c.required for c in rows), rows
    r = cli("plan", "goals.yaml", "--out", "run2")
    assert r.exit_code == 0 and ".model" not in r.stderr, r.stderr


async def _stopped_by_the_budget(sim: SimServer, tmp_path: Path, reporter: Reporter) -> None:
    """Render the seedance-only preset against `sim` with a budget of one and a half
    clips (one clip bought, three stopped at the gate), reporting to `reporter` (closed
    after): it must end BudgetStopped."""
    from mindmovie.costs import estimate_video
    from mindmovie.pipeline import BudgetStopped

    settings = seedance_only(sim)
    budget = estimate_video(settings, 4).usd * 1.5
    pipe = Pipeline(goals_file(tmp_path, sim), settings, out=tmp_path / "run", keys=KEYS,
                    reporter=reporter, budget=budget)  # fmt: skip
    try:
        with pytest.raises(BudgetStopped):
            await pipe.run()
    finally:
        reporter.close()


async def test_scenes_stopped_by_the_budget_do_not_end_as_submitting(
    sim: SimServer, tmp_path: Path
) -> None:
    """At the budget the scenes not sent kept the state they had when they began to
    wait for the gate: the final view said 'clips submitting' for clips never sent
    ('clip for 02-... not started', the error below it said). They end 'stopped',
    as status says them."""

    sim.media_scale = 0.25
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=120, height=40, color_system=None))
    await _stopped_by_the_budget(sim, tmp_path, rep)
    final = buf.getvalue().split("scene ")[-1].splitlines()  # the view rich left drawn
    rows = [ln.split() for ln in final if ln[:2].isdigit()]
    assert len(rows) == 4, final
    assert sorted(r[2] for r in rows) == ["done"] + ["stopped"] * 3, final
    assert not [ln for ln in final if "submitting" in ln or "queued" in ln], final


async def test_a_scene_is_shown_failed_when_it_fails_not_when_the_others_end(
    sim: SimServer, tmp_path: Path
) -> None:
    """A scene whose clip was refused twice kept its last row, 'clips polling running',
    and its 'for' seconds counted on, until every other scene had finished: the
    pipeline said it failed only after all the flows ended. (At 30 scenes, two such
    rows read 'polling 28 s' for jobs that had ended in the first seconds.)"""
    from mindmovie.pipeline import RenderFailed
    from mindmovie.progress import NullReporter

    events: list[tuple[str, str, str]] = []

    class Rec(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            events.append((stage, scene_id, state))

    sim.media_scale = 0.25
    sim.add_fault("reject", path="/contents/generations/tasks", method="POST", count=2)
    fast = {"max_concurrent": 1, "poll_interval": 0.05, "poll_max_interval": 0.1}
    one = {"providers": {"byteplus": {"base_url": sim.ark_base_url, **fast}}}
    settings = settings_for("byteplus", sim, **one)
    pipe = Pipeline(goals_file(tmp_path, sim), settings, out=tmp_path / "run", keys=KEYS,
                    reporter=Rec())  # fmt: skip
    with pytest.raises(RenderFailed):
        await pipe.run()
    assert pipe.result is not None
    (gone,) = pipe.result.failed
    failed = [i for i, e in enumerate(events) if e[1:] == (gone, "failed")]
    clips_done = [i for i, e in enumerate(events) if e[0] == "clips" and e[2] == "done"]
    assert len(failed) == 1 and len(clips_done) == len(pipe.result.plan.scenes) - 1, events
    # refused first (one clip at a time), it is said as soon as its flow ends
    assert failed[0] < clips_done[-1], events


async def test_scenes_cut_short_by_ctrl_c_end_stopped_not_polling(
    sim: SimServer, tmp_path: Path
) -> None:
    """Ctrl-C while the clips ran: the live view's last frame, left on the screen above
    'interrupted: ...', said 'clips polling queued' (or 'queued', 'submitting') for
    every scene not finished, though the render had stopped polling and exited."""
    import os
    import signal

    from mindmovie.pipeline import Interrupted
    from mindmovie.progress import NullReporter

    last: dict[str, str] = {}

    class CtrlCAtFirstPoll(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            if state == "polling" and "polling" not in last.values():
                os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C
            last[scene_id] = state

    sim.media_scale, sim.job_seconds = 0.25, 1.0  # polled a few times
    pipe = Pipeline(goals_file(tmp_path, sim), seedance_only(sim), out=tmp_path / "run",
                    keys=KEYS, reporter=CtrlCAtFirstPoll())  # fmt: skip
    with pytest.raises(Interrupted):
        await pipe.run()
    scenes = {k: v for k, v in last.items() if k != "plan"}
    assert len(scenes) == 4 and set(scenes.values()) <= {"done", "stopped"}, last


async def test_a_clip_waiting_for_the_budget_is_queued_not_submitting(
    sim: SimServer, tmp_path: Path
) -> None:
    """Near the cap a clip waits at the budget gate until the calls in flight settle
    (minutes, for real clip jobs): its row said 'clips submitting' all that time,
    though nothing was sent. It says 'queued - waiting for the budget'."""
    from mindmovie.progress import NullReporter

    events: list[tuple[str, str, str, str]] = []

    class Rec(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            events.append((stage, scene_id, state, note))

    sim.media_scale, sim.job_seconds = 0.25, 0.5  # the first clip in flight a while
    await _stopped_by_the_budget(sim, tmp_path, Rec())
    waited = [
        e[1] for e in events if e[0] == "clips" and e[2:] == ("queued", "waiting for the budget")
    ]
    assert waited and sim.stats()["totals"]["jobs_created"] == 1, events
    for scene_id in waited:  # then stopped at the cap, not left "submitting"
        mine = [e for e in events if e[1] == scene_id]
        assert mine[-2][2] == "queued" and mine[-1][2] == "stopped", mine


async def test_the_movie_row_ends_stopped_after_ctrl_c_in_the_compose(tmp_path: Path) -> None:
    """Ctrl-C while the segments were encoded: the live view's last frame, left above
    'interrupted: stopped. ...', said 'movie compose encoding 16/63' (in a terminal),
    or 'done 11/11' here (every segment made before the stop was seen; no movie)."""
    import os
    import signal

    from mindmovie.pipeline import Interrupted

    class CtrlCAtFirstSegment(RichReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            super().step(stage, scene_id, state, note)
            if stage == "compose" and state == "done" and self.finished[stage] == 1:
                os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C

    buf = io.StringIO()
    rep = CtrlCAtFirstSegment(Console(file=buf, width=120, color_system=None))
    pipe = Pipeline(goals_file(tmp_path), _settings("ffmpeg"), out=tmp_path / "run", reporter=rep)
    try:
        with pytest.raises(Interrupted):
            await pipe.run()
    finally:
        rep.close()
    (row,) = [ln for ln in buf.getvalue().splitlines() if ln.startswith("movie")]
    assert row.split()[1:3] == ["compose", "stopped"], row


async def test_the_movie_row_ends_failed_when_the_compose_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A compose that failed left the movie row as it was ('encoding 3/9', 'done 9/9'
    when the final join failed; none before the first segment) above the error line.
    It ends 'failed', and the totals count no failed scene for it."""
    from mindmovie import compose
    from mindmovie.media import FFmpegError
    from mindmovie.pipeline import RenderFailed

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise FFmpegError("ffmpeg failed (1): Invalid argument")

    monkeypatch.setattr(compose, "renderer", lambda engine: fails)
    live = RichReporter(Console(file=io.StringIO(), width=120, color_system=None))
    buf = io.StringIO()
    log = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    for n, rep in enumerate((live, log)):
        (tmp_path / str(n)).mkdir()
        pipe = Pipeline(goals_file(tmp_path / str(n)), _settings("ffmpeg"),
                        out=tmp_path / str(n) / "run", reporter=rep)  # fmt: skip
        try:
            with pytest.raises(RenderFailed, match="the compose failed"):
                await pipe.run()
        finally:
            rep.close()
    (row,) = [ln for ln in live.console.file.getvalue().splitlines() if ln.startswith("movie")]
    assert row.split()[1:3] == ["compose", "failed"], row
    lines = buf.getvalue().splitlines()
    assert any(ln.endswith("compose movie: failed") for ln in lines), lines
    assert "failed" not in lines[-1], lines[-1]  # the totals: no scene failed


async def test_a_clip_queued_behind_one_waiting_for_the_budget_is_not_submitting(
    sim: SimServer, tmp_path: Path
) -> None:
    """Clips are sent one at a time per provider, and the one at the budget gate waits
    there holding its turn: the scenes behind it said 'clips submitting' all that time,
    though they waited for the same budget and nothing of theirs was sent. They say
    'queued - waiting for the budget' too (or 'queued' for a provider slot)."""
    from mindmovie.progress import NullReporter

    rows: dict[str, tuple[str, str]] = {}
    seen: list[dict[str, tuple[str, str]]] = []  # the rows as the first clip was polled

    class Rec(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            rows[scene_id] = (state, note)
            if stage == "clips" and state == "polling":
                seen.append(dict(rows))

    sim.media_scale, sim.job_seconds = 0.25, 0.5  # the first clip in flight a while
    await _stopped_by_the_budget(sim, tmp_path, Rec())
    assert sim.stats()["totals"]["jobs_created"] == 1 and seen, rows
    (polled,) = {s for s, (state, _) in seen[-1].items() if state == "polling"}
    others = {s: r for s, r in seen[-1].items() if s not in ("plan", polled)}
    assert len(others) == 3 and {r[0] for r in others.values()} == {"queued"}, seen[-1]
    assert ("queued", "waiting for the budget") in others.values(), seen[-1]


async def test_the_plain_log_says_each_scene_stopped_by_the_budget(
    sim: SimServer, tmp_path: Path
) -> None:
    """In a pipe (no -v) a scene that failed got a line and one stopped by the budget
    (or Ctrl-C) none: the log said 'clips 01-health-1: done' and nothing of the other
    three. Each scene that did not finish says what happened to it."""

    sim.media_scale = 0.25
    buf = io.StringIO()
    rep = PlainReporter(Console(file=buf, width=200, color_system=None), verbose=False)
    await _stopped_by_the_budget(sim, tmp_path, rep)
    lines = [ln.split("] ", 1)[-1] for ln in buf.getvalue().splitlines()]
    ended = [ln for ln in lines if ln.startswith("clips ")]
    assert len(ended) == 4, lines
    stopped = [ln for ln in ended if ln.endswith(": stopped - budget reached, not sent")]
    assert len(stopped) == 3, lines


@pytest.mark.parametrize("terminal", [True, False])
def test_plan_s_painted_keyframes_note_is_wrapped_at_words_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    """`plan` printed the offline painter's note (what it leaves unused, what to do) as
    one line of 300-400 characters, which a terminal cut anywhere ('... the goal's co' /
    'lours ...'). On a terminal it is wrapped at words; in a pipe it keeps its own short
    lines (`painted_note`)."""
    from mindmovie import cli as cli_module

    buf = io.StringIO()
    monkeypatch.setattr(
        cli_module, "err", Console(file=buf, width=60, force_terminal=terminal, color_system=None)
    )
    goals = "title: T\nstyle: oil painting\ngoals:\n  - category: a\n    vision: b\n"
    r = _cli_in(tmp_path, monkeypatch, goals)("plan", "goals.yaml", "--out", "run")
    assert r.exit_code == 0, r.output
    from mindmovie.pipeline import painted_note
    from mindmovie.plan import load_plan

    plan = load_plan(tmp_path / "run" / "plan.yaml")
    note = painted_note(plan, list(plan.scenes))
    assert note is not None and note.startswith("offline keyframes: 1 scene(s)"), note
    lines = [ln.rstrip() for ln in buf.getvalue().splitlines() if ln.strip()]
    shown = lines[[ln.startswith("offline keyframes:") for ln in lines].index(True) :]
    assert " ".join(shown).split() == note.split(), lines  # every word whole, nothing else
    if terminal:
        assert len(shown) > 1 and all(len(ln) <= 60 for ln in shown), lines


async def test_a_scene_stopped_by_the_budget_is_shown_stopped_when_it_stops(
    sim: SimServer, tmp_path: Path
) -> None:
    """At the cap, the scenes not sent were said 'stopped' only once every flow had
    ended: while the last clip in flight was polled and downloaded (minutes, for real
    clip jobs) their rows still said 'queued - waiting for the budget' for a render
    that would send them nothing more."""
    from mindmovie.progress import NullReporter

    events: list[tuple[str, str, str]] = []

    class Rec(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            events.append((stage, scene_id, state))

    sim.media_scale, sim.job_seconds = 0.25, 0.5
    await _stopped_by_the_budget(sim, tmp_path, Rec())
    stopped = [i for i, e in enumerate(events) if e[2] == "stopped"]
    (done,) = [i for i, e in enumerate(events) if e[0] == "clips" and e[2] == "done"]
    assert len(stopped) == 3 and max(stopped) < done, events
