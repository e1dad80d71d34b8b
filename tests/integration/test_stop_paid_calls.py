"""Ctrl-C (the stop) and paid calls: after the stop no paid call is sent, whatever it
was waiting for when the person said stop, and a paid call already sent is not thrown
away by the stop.

Through the real SDKs and the simulator; the stop is set as the SIGINT handler sets it
(`Pipeline._install_sigint`'s `on_sigint`), since the tests do not run in the main
thread's signal handling."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mindmovie import costs
from mindmovie.pipeline import Interrupted, Pipeline
from mindmovie.plan import load_plan
from mindmovie.progress import NullReporter
from tests.integration.support import (
    KEYS,
    claude_answer_for,
    goals_file,
    ledger_rows,
    seedance_only,
    seedream_by_url,
    settings_for,
)
from tests.sim.server import SimServer

IMAGES = "/images/generations"
TASKS = "/contents/generations/tasks"


def _six_scenes(tmp_path: Path, sim: SimServer) -> Path:
    """The support goals with 6 scenes."""
    goals = goals_file(tmp_path, sim)
    goals.write_text(
        goals.read_text().replace("Living by the sea\n", "Living by the sea\n    scenes: 3\n")
    )
    claude_answer_for(sim, goals)
    return goals


class _Lines(NullReporter):
    """A reporter keeping the warnings (what the person reads)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def warn(self, text: str) -> None:
        self.lines.append(text)


def _stop(pipe: Pipeline) -> None:
    """What the SIGINT handler does on the first Ctrl-C (`on_sigint`)."""
    pipe._stopping = True
    pipe._stop_event.set()


async def _until(cond: object, timeout: float = 30.0) -> None:
    assert callable(cond)
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_a_scene_waiting_in_the_budget_gate_sends_nothing_after_ctrl_c(
    sim: SimServer, tmp_path: Path
) -> None:
    """A scene whose image did not fit the budget waited in the gate (`BudgetGate.reserve`)
    for an unsettled call to settle; it had passed the Ctrl-C check before it waited, so
    when that call was refunded after the stop, it sent its paid call anyway."""
    goals = _six_scenes(tmp_path, sim)
    s = settings_for("byteplus", sim, planner={"provider": "local"}, video={"provider": "local"})
    price = costs.estimate_keyframe(s).usd
    # the first image billed, one more in flight: a third fits only once that one settles
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, budget=price * 2.5)
    first = sim.add_fault("delay", path=IMAGES, count=1, seconds=60)

    async def ctrl_c_while_scenes_wait_in_the_gate() -> None:
        await _until(lambda: len(sim.requests(path=IMAGES)) == 1)
        # the second image request: held, then refused with a 429 (nothing billed)
        second = sim.add_fault("delay", path=IMAGES, count=1, seconds=60)
        sim.add_fault("http", path=IMAGES, count=1, status=429, retry_after=0)
        sim.release(first)
        await _until(lambda: len(sim.requests(path=IMAGES)) == 2)
        # another scene reaches the gate and waits there (0.3 s was hoped for: a scene
        # that came later was stopped before the gate, and the test tested nothing)
        await _until(lambda: bool(pipe._at_gate))
        assert pipe.gate._open, "the second image is not in flight"
        _stop(pipe)
        sim.release(second)  # refunded: the gate lets a waiting scene on

    stopper = asyncio.ensure_future(ctrl_c_while_scenes_wait_in_the_gate())
    with pytest.raises(Interrupted):
        await asyncio.wait_for(pipe.run(until="keyframes"), timeout=60)
    await stopper
    await asyncio.sleep(0.5)  # (a request sent late would be counted)
    sent = sim.requests(path=IMAGES)
    assert len(sent) == 2, f"{len(sent)} image requests sent, {len(sent) - 2} after Ctrl-C"
    states = sorted(r["state"] for r in ledger_rows(tmp_path / "run", "keyframe"))
    assert states == ["billed", "refunded"], states


@pytest.mark.parametrize("stage", ["keyframe", "clip"])
async def test_a_try_stopped_by_ctrl_c_before_its_call_was_sent_is_not_counted(
    sim: SimServer, tmp_path: Path, stage: str
) -> None:
    """Ctrl-C while the model's first call is in flight: the other scenes, waiting to
    send theirs (`_first_call`, their turn to send), stop unsent, but each was counted
    as a try (`status --json` attempts 1, status's `tries` 1). Only the try whose call
    was sent is counted."""
    from mindmovie.status import collect_status

    sim.media_scale = 0.25
    if stage == "keyframe":  # Seedream keyframes
        s = settings_for(
            "byteplus", sim, planner={"provider": "local"}, video={"provider": "local"}
        )
        path, until = IMAGES, "keyframes"
    else:  # local keyframes, Seedance clips
        s, path, until = seedance_only(sim), TASKS, "clips"
    run = tmp_path / "run"
    pipe = Pipeline(goals_file(tmp_path, sim), s, out=run, keys=KEYS)
    first = sim.add_fault("delay", path=path, method="POST", count=1, seconds=60)

    def begun() -> int:
        return sum(st["stage"] == stage for st in collect_status(run)["steps"])

    async def ctrl_c_while_the_first_call_is_in_flight() -> None:
        await _until(lambda: len(sim.requests(path=path, method="POST")) == 1)
        await _until(lambda: begun() >= 2)  # other scenes' tries begun, waiting to send
        _stop(pipe)
        sim.release(first)

    stopper = asyncio.ensure_future(ctrl_c_while_the_first_call_is_in_flight())
    with pytest.raises(Interrupted):
        await asyncio.wait_for(pipe.run(until=until), timeout=60)  # type: ignore[arg-type]
    await stopper
    assert len(sim.requests(path=path, method="POST")) == 1
    steps = collect_status(run)["steps"]
    attempts = sorted(st["attempts"] for st in steps if st["stage"] == stage)
    # (the scenes begun: as many as the stage's slots)
    assert len(attempts) > 1 and attempts == [0] * (len(attempts) - 1) + [1], steps


async def test_ctrl_c_ends_the_wait_in_the_budget_gate_for_a_job_that_is_not_settled(
    sim: SimServer, tmp_path: Path
) -> None:
    """A stopped render stops polling its clip jobs and leaves them unsettled (journaled,
    for the next render): a scene waiting in the gate for one of them to settle waited on
    after everything else had stopped. The stop wakes it, and it sends nothing."""
    goals = _six_scenes(tmp_path, sim)
    s = seedance_only(sim)
    hold = costs.video_hold(s, 4)
    # one clip job in flight at a time: the next scene's clip waits in the gate
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, budget=hold * 1.5)
    sim.add_fault("stuck", path=TASKS, count=None)

    async def ctrl_c_once_a_clip_waits_in_the_gate() -> None:
        await _until(lambda: len(sim.requests(path=TASKS, method="POST")) == 1)
        # the job polled a few times: the other scenes' keyframes (local) are made, and
        # their clips wait in the gate for it
        await _until(lambda: len(sim.requests(path=TASKS + "/", method="GET")) >= 3)
        await _until(lambda: bool(pipe._at_gate))  # (not 0.3 s hoped for, as above)
        _stop(pipe)
        stopped_at.append(loop.time())

    loop = asyncio.get_running_loop()
    stopped_at: list[float] = []
    stopper = asyncio.ensure_future(ctrl_c_once_a_clip_waits_in_the_gate())
    # (a timeout cancels the run, which after the stop is told as Interrupted too)
    with pytest.raises(Interrupted):
        await asyncio.wait_for(pipe.run(until="clips"), timeout=20)
    took = loop.time() - stopped_at[0]
    await stopper
    # no grace is waited for here (the tests install no signal handler): without the
    # wake the scene waited until the test's timeout cancelled the run
    assert took < 3, f"the render ended {took:.1f} s after Ctrl-C"
    sent = sim.requests(path=TASKS, method="POST")
    assert len(sent) == 1, f"{len(sent)} clip jobs created, {len(sent) - 1} after Ctrl-C"


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> float:
    """The Ctrl-C grace (`Pipeline.GRACE_SECONDS`, 5 s) made 2 s: the tests of a call
    still in flight past it wait it out (and 3 s more) each; what they test does not
    hang on its length."""
    monkeypatch.setattr(Pipeline, "GRACE_SECONDS", 2.0)
    return Pipeline.GRACE_SECONDS


@pytest.mark.parametrize(("preset", "path"), [("byteplus", IMAGES), ("google", ":generateContent")])
async def test_an_image_in_flight_past_the_grace_is_waited_for_and_kept(
    sim: SimServer, tmp_path: Path, preset: str, path: str, short_grace: float
) -> None:
    """A Seedream or Gemini image is its answer: there is no task to poll later. In flight when
    the Ctrl-C grace (5 s) ran out, it was cancelled with the rest, and the next render
    bought it again. It is now waited for (up to its own timeout), saved as the scene's
    keyframe, and the next render makes no second request for it."""
    import os
    import signal

    goals = _six_scenes(tmp_path, sim)
    s = settings_for(preset, sim, planner={"provider": "local"}, video={"provider": "local"})
    lines: list[str] = []
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=_Lines(lines))
    # the first image (sent alone: `_first_call`) is answered 3 s after the grace's end
    sim.add_fault("delay", path=path, count=1, seconds=Pipeline.GRACE_SECONDS + 3)

    async def ctrl_c_while_the_image_is_made() -> None:
        await _until(lambda: len(sim.requests(path=path)) == 1)
        # the test runs in the main thread, as the CLI does: no handler is a failure
        assert pipe._sigint_installed, "the render installed no stop-signal handler"
        os.kill(os.getpid(), signal.SIGINT)

    stopper = asyncio.ensure_future(ctrl_c_while_the_image_is_made())
    with pytest.raises(Interrupted, match="run the same command again"):
        await asyncio.wait_for(pipe.run(until="keyframes"), timeout=60)
    await stopper
    print("\n".join(lines))
    assert len(sim.requests(path=path)) == 1
    first_run = [r["state"] for r in ledger_rows(tmp_path / "run", "keyframe")]

    again = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS)
    res = await asyncio.wait_for(again.run(until="keyframes"), timeout=60)
    sent = sim.requests(path=path)
    assert len(sent) == 6, f"{len(sent)} image requests for 6 scenes: one bought twice"
    assert len(res.reused) == 1, res.reused
    assert sim.stats()["totals"]["images"] == 6
    assert first_run == ["billed"], first_run  # (not committed: paid, outcome unknown)
    # what the person was told when the grace ran out
    told = [ln for ln in lines if "already paid for" in ln]
    assert len(told) == 1, lines
    assert told[0].startswith("waiting up to ") and " s for 1 image already paid for; " in told[0]
    assert told[0].endswith("press Ctrl-C again to quit at once and lose it"), told


async def _said_after_ctrl_c(
    sim: SimServer, tmp_path: Path, settings: Any, when: Callable[[], bool]
) -> list[str]:
    """Render six scenes with `settings`, Ctrl-C (a real SIGINT) once `when()` holds; the
    lines the plain log said (what the person reads), without their times."""
    import io
    import os
    import signal

    from rich.console import Console

    from mindmovie.progress import PlainReporter

    goals = _six_scenes(tmp_path, sim)
    buf = io.StringIO()
    log = PlainReporter(Console(file=buf, width=300, color_system=None), verbose=True)
    pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, reporter=log)

    async def ctrl_c() -> None:
        await _until(when)
        os.kill(os.getpid(), signal.SIGINT)

    stopper = asyncio.ensure_future(ctrl_c())
    with pytest.raises(Interrupted):
        await asyncio.wait_for(pipe.run(), timeout=60)
    await stopper
    log.close()
    return [ln.split("] ", 1)[1] for ln in buf.getvalue().splitlines() if "] " in ln]


async def test_an_image_waited_for_past_the_grace_is_not_said_stopped_under_keyframes(
    sim: SimServer, tmp_path: Path, short_grace: float
) -> None:
    """A Gemini image in flight at Ctrl-C, waited for past the grace and kept: its scene's
    line said "keyframes 01-health-1: done", then "keyframes 01-health-1: stopped -
    interrupted" (a walkthrough's find), as if the paid image were lost. Its clip is what
    was stopped: "clips 01-health-1: stopped - interrupted"."""
    s = settings_for("google", sim, planner={"provider": "local"}, video={"provider": "local"})
    path = ":generateContent"
    sim.add_fault("delay", path=path, count=1, seconds=Pipeline.GRACE_SECONDS + 2)
    lines = await _said_after_ctrl_c(sim, tmp_path, s, lambda: len(sim.requests(path=path)) == 1)
    done = [
        ln.split()[1].rstrip(":")
        for ln in lines
        if ln.startswith("keyframes ") and re.search(r": done \(\d+/\d+\)$", ln)
    ]
    assert len(done) == 1, lines  # the image waited for
    (scene,) = done
    assert f"keyframes {scene}: stopped - interrupted" not in lines, lines
    assert f"clips {scene}: stopped - interrupted" in lines, lines


async def test_scenes_cut_off_at_the_grace_s_end_are_each_said_stopped(
    sim: SimServer, tmp_path: Path, short_grace: float
) -> None:
    """A stop whose grace ran out with calls still in flight (clips' creates unanswered)
    cancelled the render before its scenes' flows had ended: no scene was said stopped,
    their rows kept the state the stop found them in ("clips submitting"), and a scene
    whose image had just come (the test above) was left at "keyframes ...: done", which
    failed that test in about half its runs on a loaded machine. Each scene is said
    stopped, under the stage it ended in."""
    local = {"provider": "local"}
    s = settings_for("byteplus", sim, planner=local, keyframes=local)
    sim.add_fault("delay", path=TASKS, method="POST", count=None, seconds=60)

    def sent() -> bool:
        return len(sim.requests(path=TASKS, method="POST")) >= 1

    lines = await _said_after_ctrl_c(sim, tmp_path, s, sent)
    said = {
        ln.split()[1].rstrip(":"): ln.split()[0]
        for ln in lines
        if ln.endswith(": stopped - interrupted")
    }
    scenes = [sc.id for sc in load_plan(tmp_path / "run" / "plan.yaml").scenes]
    assert sorted(said) == sorted(scenes), "\n".join(lines)  # each scene, once
    assert sum(ln.endswith(": stopped - interrupted") for ln in lines) == len(scenes), lines
    # a scene whose keyframe was made (a clip sent at least: the stop came after it) is
    # said stopped at its clip; one whose keyframe the stop cut off, at its keyframe
    made = {
        ln.split()[1].rstrip(":")
        for ln in lines
        if ln.startswith("keyframes ") and re.search(r": done \(\d+/\d+\)$", ln)
    }
    assert made, lines
    assert {i: "clips" if i in made else "keyframes" for i in scenes} == said, "\n".join(lines)


async def test_a_plan_in_flight_past_the_grace_is_waited_for_and_kept(
    sim: SimServer, tmp_path: Path, short_grace: float
) -> None:
    """Claude's plan is its answer, as an image is: there is no task to poll later. In
    flight when the Ctrl-C grace (5 s) ran out, it was cancelled with the rest (paid,
    its row left committed) and the next render asked Claude again and paid again. It
    is waited for as a paid image is (`_grace_over`), saved, and the next render reuses
    it."""
    import os
    import signal

    goals = goals_file(tmp_path, sim)
    claude_answer_for(sim, goals)
    s = settings_for("byteplus", sim, keyframes={"provider": "local"}, video={"provider": "local"})
    lines: list[str] = []
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=_Lines(lines))
    path = "/v1/messages"
    # the plan is answered 3 s after the grace's end
    sim.add_fault("delay", path=path, count=1, seconds=Pipeline.GRACE_SECONDS + 3)

    async def ctrl_c_while_the_plan_is_made() -> None:
        await _until(lambda: len(sim.requests(path=path)) == 1)
        assert pipe._sigint_installed, "the render installed no stop-signal handler"
        os.kill(os.getpid(), signal.SIGINT)

    stopper = asyncio.ensure_future(ctrl_c_while_the_plan_is_made())
    with pytest.raises(Interrupted, match="run the same command again"):
        await asyncio.wait_for(pipe.run(until="keyframes"), timeout=60)
    await stopper
    first_run = [r["state"] for r in ledger_rows(tmp_path / "run", "plan")]

    again = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS)
    res = await asyncio.wait_for(again.run(until="keyframes"), timeout=60)
    sent = sim.requests(path=path)
    assert len(sent) == 1, f"{len(sent)} plan requests: the plan bought twice"
    assert res.plan is not None and res.plan.title == "Sim Movie", res.plan
    assert first_run == ["billed"], first_run  # (not committed: paid, outcome unknown)
    told = [ln for ln in lines if "already paid for" in ln]
    assert len(told) == 1 and " s for 1 plan already paid for; " in told[0], lines


async def test_a_render_stopped_within_the_grace_does_not_cancel_its_caller_later(
    sim: SimServer, tmp_path: Path
) -> None:
    """A stopped render that ended within the grace (its image answered in 1 s) left the
    grace's timer (`_grace_over`) set: 5 s after Ctrl-C it cancelled the task that had
    called the render, whatever it was doing by then (a program's next step, a second
    render)."""
    import os
    import signal

    goals = _six_scenes(tmp_path, sim)
    s = settings_for("byteplus", sim, planner={"provider": "local"}, video={"provider": "local"})
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS)
    sim.add_fault("delay", path=IMAGES, count=1, seconds=1)

    async def ctrl_c_while_the_image_is_made() -> None:
        await _until(lambda: len(sim.requests(path=IMAGES)) == 1)
        assert pipe._sigint_installed, "the render installed no stop-signal handler"
        os.kill(os.getpid(), signal.SIGINT)

    loop = asyncio.get_running_loop()
    stopper = asyncio.ensure_future(ctrl_c_while_the_image_is_made())
    # awaited in this task, as the CLI's asyncio.run awaits it in its only task (and
    # Python 3.12's wait_for in the caller's)
    with pytest.raises(Interrupted):
        await pipe.run(until="keyframes")
    await stopper
    ended = loop.time()
    try:
        await asyncio.sleep(Pipeline.GRACE_SECONDS + 1)  # the caller goes on
    except asyncio.CancelledError:
        pytest.fail(f"the caller was cancelled {loop.time() - ended:.1f} s after the render ended")


async def _said_at_ctrl_c_once_sent(sim: SimServer, pipe: Pipeline, path: str, until: str) -> str:
    """`pipe` rendered to `until`, Ctrl-C (a real SIGINT, to the render's own handler)
    sent once its first request to `path` reached the simulator: the stop's line."""
    import os
    import signal

    async def ctrl_c_once_sent() -> None:
        await _until(lambda: len(sim.requests(path=path)) >= 1)
        assert pipe._sigint_installed, "the render installed no stop-signal handler"
        os.kill(os.getpid(), signal.SIGINT)

    stopper = asyncio.ensure_future(ctrl_c_once_sent())
    with pytest.raises(Interrupted) as stopped:
        await asyncio.wait_for(pipe.run(until=until), timeout=60)  # type: ignore[arg-type]
    await stopper
    return str(stopped.value)


async def test_a_plan_cut_off_after_ctrl_c_is_not_said_to_be_kept(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude's plan sent, then Ctrl-C, and no answer came within the planner's own
    deadline (or the stop's wait for it, `_answer_seconds`): the call is counted as paid
    (its row left committed, outcome unknown) and no plan was kept, but the render ended
    saying "Jobs already sent are journaled and nothing paid for is lost". It says the
    paid call had not answered and is counted as spent."""

    goals = goals_file(tmp_path, sim)
    claude_answer_for(sim, goals)
    s = settings_for("byteplus", sim, keyframes={"provider": "local"}, video={"provider": "local"})
    s.providers.anthropic.timeout = 1.0  # its answer's silence ends it within the grace
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS)
    path = "/v1/messages"
    sim.add_fault("delay", path=path, count=1, seconds=8)
    said = await _said_at_ctrl_c_once_sent(sim, pipe, path, "keyframes")
    assert [r["state"] for r in ledger_rows(tmp_path / "run", "plan")] == ["committed"]
    assert not (tmp_path / "run" / "plan.yaml").exists()
    assert "nothing paid for is lost" not in said, said
    assert said.startswith("stopped. 1 paid call(s) (plan) had not answered"), said
    assert "counted as spent, outcome unknown" in said, said


#: Claude's endpoint in the simulator
_MESSAGES = "/v1/messages"


def _claude_plan(sim: SimServer, tmp_path: Path) -> tuple[Path, Any, Path]:
    """The goals, settings (Claude plans; local keyframes and clips) and run folder, with
    Claude's first plan answer to come unusable (an empty image_prompt): a repair."""
    goals = goals_file(tmp_path, sim)
    s = settings_for("byteplus", sim, keyframes={"provider": "local"}, video={"provider": "local"})
    sim.add_fault("invalid", path=_MESSAGES, field="image_prompt", count=1)
    return goals, s, tmp_path / "run"


async def _stopped_as_the_first_answer_came(sim: SimServer, pipe: Pipeline) -> None:
    """`pipe` rendered to its plan and stopped (Ctrl-C) while Claude's first answer was
    being made: the repair is not sent."""
    held = sim.add_fault("delay", path=_MESSAGES, count=1, seconds=60)

    async def ctrl_c_while_held() -> None:
        await _until(lambda: len(sim.requests(path=_MESSAGES)) == 1)
        _stop(pipe)
        sim.release(held)

    stopper = asyncio.ensure_future(ctrl_c_while_held())
    with pytest.raises(Interrupted):
        await asyncio.wait_for(pipe.run(until="plan"), timeout=60)
    await stopper


def _held_record(run: Path) -> list[Any]:
    """run.db's journaled first answer held for its repair (`plan_unrepaired`), if any."""
    import sqlite3

    with sqlite3.connect(run / "run.db") as db:
        return db.execute("SELECT value FROM meta WHERE key='plan_unrepaired'").fetchall()


def _the_one_call_since(sim: SimServer, sent: int) -> Any:
    """The last message of the one call made to Claude after the first `sent`: a repair's
    is a tool_result list, a plan asked anew's the prompt (text)."""
    again = sim.requests(path=_MESSAGES)[sent:]
    assert len(again) == 1, [r["body"]["messages"][-1] for r in again]
    return again[0]["body"]["messages"][-1]["content"]


async def test_a_plan_stopped_between_its_calls_is_left_stopped_not_running(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude's first plan answered unusable (an empty image_prompt), and Ctrl-C came
    while it was in flight: the repair call was not sent (`_check_stop`), and the plan's
    step was left `running` once the render had ended, as if a plan were being made; a
    keyframe or clip stopped so is failed as stopped. So is the plan, its one sent call
    counted."""
    from mindmovie.status import collect_status

    goals, s, run = _claude_plan(sim, tmp_path)
    await _stopped_as_the_first_answer_came(sim, Pipeline(goals, s, out=run, keys=KEYS))
    assert len(sim.requests(path=_MESSAGES)) == 1  # the repair not sent
    plan = [
        (st["status"], st["error_kind"], st["attempts"])
        for st in collect_status(run)["steps"]
        if st["stage"] == "plan"
    ]
    assert plan == [("failed", "interrupted", 1)], plan


@pytest.mark.parametrize("when", ["before the repair", "during the repair"])
async def test_a_first_plan_answer_stopped_before_its_repair_is_not_bought_again(
    sim: SimServer, tmp_path: Path, when: str
) -> None:
    """Claude's first plan answered unusable, and the render stopped before its repair
    was answered (Ctrl-C as the first answer came, or while the repair was in flight):
    the first answer, billed, was kept only in the stopped process, and the next render
    bought a new first answer before its repair. It is journaled in run.db as it comes:
    the next render of the same goals sends only the repair."""
    goals, s, run = _claude_plan(sim, tmp_path)
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    if when == "before the repair":
        await _stopped_as_the_first_answer_came(sim, pipe)
    else:  # the process ended with the repair in flight (a kill, a second Ctrl-C)
        sim.add_fault("delay", path=_MESSAGES, count=1, seconds=0)  # (the first: as it is)
        held = sim.add_fault("delay", path=_MESSAGES, count=1, seconds=60)
        task = asyncio.ensure_future(pipe.run(until="plan"))
        await _until(lambda: len(sim.requests(path=_MESSAGES)) == 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        sim.release(held)
    sim.clear_faults()
    sent = len(sim.requests(path=_MESSAGES))
    assert sent == (1 if when == "before the repair" else 2)
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    assert res.plan is not None and not res.failed
    last = _the_one_call_since(sim, sent)
    assert isinstance(last, list) and last[0]["type"] == "tool_result", last  # the repair
    # the first answer and the repair billed once each (a repair cut off in flight is
    # committed: whether it is billed is not known)
    rows = sorted(r["state"] for r in ledger_rows(run, "plan"))
    cut = ["committed"] if when == "during the repair" else []
    assert rows == sorted(["billed", "billed", *cut]), rows


@pytest.mark.parametrize("journal", ["writes", "full"])
async def test_a_first_plan_answer_a_full_disk_stops_before_its_repair(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, journal: str
) -> None:
    """Claude's first plan answered unusable, and the disk was found full before its
    repair was sent (no paid call without room for its result): the first answer, paid,
    is journaled (`plan_unrepaired`) and the next render sends only the repair. Where
    run.db could not take it either, the render said "finished work is kept" of it and
    the next one bought it again: it is said paid for and not kept."""
    import shutil

    from mindmovie import pipeline
    from mindmovie.pipeline import DiskFull
    from mindmovie.store import Store

    goals, s, run = _claude_plan(sim, tmp_path)
    real_usage, real_set = shutil.disk_usage, Store.set_meta

    def usage(path: Any) -> Any:
        full = len(sim.requests(path=_MESSAGES)) >= 1  # (once the first answer is sent for)
        return real_usage(path)._replace(free=1000) if full else real_usage(path)

    def set_meta(self: Store, key: str, value: str) -> None:
        if key == "plan_unrepaired" and journal == "full":
            raise sqlite3.OperationalError("database or disk is full")
        real_set(self, key, value)

    monkeypatch.setattr(pipeline.shutil, "disk_usage", usage)
    monkeypatch.setattr(Store, "set_meta", set_meta)
    with pytest.raises(DiskFull) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    assert len(sim.requests(path=_MESSAGES)) == 1  # the repair not sent
    said = str(e.value)
    if journal == "full":
        assert "Paid for and not kept, as it could be written nowhere: the plan's first " \
            "answer, held for its repair (about $" in said, said  # fmt: skip
        assert _held_record(run) == []
    else:
        assert "not kept" not in said, said
        assert len(_held_record(run)) == 1
    monkeypatch.undo()
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    assert res.plan is not None and not res.failed
    last = _the_one_call_since(sim, 1)
    repaired = isinstance(last, list) and last[0]["type"] == "tool_result"
    assert repaired == (journal == "writes"), last


@pytest.mark.parametrize("value", ["x", "[1]", '{"request": 1, "answer": {}, "tool_use_id": 2}'])
async def test_a_held_first_plan_answer_damaged_by_hand_is_asked_for_anew(
    sim: SimServer, tmp_path: Path, value: str
) -> None:
    """The journaled first answer (`plan_unrepaired`) edited by hand into something else:
    no traceback; the plan is asked for anew, in one call, and the record is gone."""
    import sqlite3

    goals, s, run = _claude_plan(sim, tmp_path)
    await _stopped_as_the_first_answer_came(sim, Pipeline(goals, s, out=run, keys=KEYS))
    sim.clear_faults()
    ((saved,),) = _held_record(run)
    assert '"tool_use_id"' in saved
    with sqlite3.connect(run / "run.db") as db:
        db.execute("UPDATE meta SET value=? WHERE key='plan_unrepaired'", (value,))
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    assert res.plan is not None and not res.failed
    assert isinstance(_the_one_call_since(sim, 1), str)  # asked anew
    assert _held_record(run) == []


@pytest.mark.parametrize("status", [401, 400])
async def test_a_first_plan_answer_whose_repair_met_a_refused_key_is_not_bought_again(
    sim: SimServer, tmp_path: Path, status: int
) -> None:
    """Claude's first plan answer unusable, and its repair refused for the key (401: a
    key revoked, an account to top up), not for the request: the held first answer was
    dropped as for a refused request, and the render after the key was fixed bought a
    new first answer. It stays held: that render sends only the repair. A repair refused
    for the request (400) drops it: the next render asks anew, not the doomed repair."""
    from mindmovie.providers.base import AuthError, InvalidRequest

    goals, s, run = _claude_plan(sim, tmp_path)
    sim.add_fault("delay", path=_MESSAGES, count=1, seconds=1)  # (the first answer)

    async def repair_refused() -> None:
        await _until(lambda: len(sim.requests(path=_MESSAGES)) == 1)
        sim.add_fault("http", path=_MESSAGES, count=1, status=status, message="refused")

    refuser = asyncio.ensure_future(repair_refused())
    with pytest.raises(AuthError if status == 401 else InvalidRequest):
        await asyncio.wait_for(Pipeline(goals, s, out=run, keys=KEYS).run(until="plan"), 60)
    await refuser
    sent = len(sim.requests(path=_MESSAGES))
    assert sent == 2
    held = _held_record(run)
    assert bool(held) == (status == 401), held
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    assert res.plan is not None and not res.failed
    last = _the_one_call_since(sim, sent)
    if status == 401:  # the repair alone
        assert isinstance(last, list) and last[0]["type"] == "tool_result", last
    else:  # asked anew
        assert isinstance(last, str), last


async def test_an_image_quit_during_its_download_is_downloaded_next_render_not_bought(
    sim: SimServer, tmp_path: Path
) -> None:
    """Seedream answering with its result URL (`response_format: url`): the image is made
    and billed when the answer comes, and downloaded after. A render quit at once during
    that download (a second Ctrl-C) left the call an outcome unknown, and the next render
    bought the image again. Its URL is kept on its billed row: the next render downloads it."""
    sim.media_scale = 0.25
    goals = tmp_path / "one.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: Strong and rested\n")
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    files = "/_sim/files/"
    held = sim.add_fault("delay", path=files, method="GET", count=1, seconds=60)
    task = asyncio.ensure_future(Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes"))
    await _until(lambda: len(sim.requests(path=files, method="GET")) == 1)
    task.cancel()  # what quitting at once does to the render's work
    with pytest.raises(asyncio.CancelledError):
        await task
    sim.release(held)
    # billed by the render quit, in run.db itself (not only as a reader takes it up)
    with sqlite3.connect(run / "run.db") as db:
        ((state, usage),) = db.execute("SELECT state, usage FROM ledger").fetchall()
    assert state == "billed" and json.loads(usage)["result_url"].endswith(".png"), usage
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and row["usage"]["result_url"].endswith(".png"), row
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed
    assert sim.stats()["totals"]["images"] == 1  # not bought again
    assert len(sim.requests(path=IMAGES)) == 1
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and "result_url" not in row["usage"], row


async def test_a_veo_clip_request_cut_off_by_ctrl_c_is_not_said_to_be_kept(
    sim: SimServer, tmp_path: Path
) -> None:
    """Ctrl-C while a Veo clip's create had not answered (its operation's name not
    journaled): Veo lists no operations, so the job, if made, is never found, its row
    counted as spent, outcome unknown, and the next render buys the clip again; but the
    render ended saying "nothing paid for is lost". It says the call had not answered
    and the clip may be paid twice."""

    goals = goals_file(tmp_path, sim)
    local = {"provider": "local"}
    s = settings_for("google", sim, planner=local, keyframes=local)
    s.providers.google.timeout = 1.0  # its answer's silence ends it within the grace
    pipe = Pipeline(goals, s, out=tmp_path / "run", keys=KEYS)
    path = ":predictLongRunning"
    sim.add_fault("delay", path=path, method="POST", count=None, seconds=8)
    said = await _said_at_ctrl_c_once_sent(sim, pipe, path, "clips")
    clips = ledger_rows(tmp_path / "run", "clip")
    assert clips and all(r["state"] == "committed" and not r["remote_id"] for r in clips), clips
    assert "nothing paid for is lost" not in said, said
    assert said.startswith(f"stopped. {len(clips)} paid call(s) (clip) had not answered"), said
    assert "it may be paid twice" in said, said
