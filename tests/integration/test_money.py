"""Money against the simulator: what is billed, the hard cap, and asking every run.

The simulator counts what a provider would bill (jobs created, tokens); the ledger must
agree with it, the cap must hold exactly under concurrency, and a declined confirmation
must be asked again next time.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from mindmovie import costs
from mindmovie.cli import app
from mindmovie.costs import estimate_video
from mindmovie.doctor import run_checks
from mindmovie.goals import load_goals
from mindmovie.media import probe
from mindmovie.pipeline import (
    BudgetStopped,
    Declined,
    Interrupted,
    Pipeline,
    RenderFailed,
    estimate_for,
)
from mindmovie.plan import load_plan
from mindmovie.progress import NullReporter, RichReporter
from mindmovie.providers.base import JobFailed, ProviderError
from mindmovie.status import collect_status
from mindmovie.store import Store
from tests.integration.made_once import once, once_root
from tests.integration.support import (
    KEYS,
    AgreeingAsked,
    claude_answer_for,
    cli_env,
    copy_scene,
    edit_scene_2,
    goals_file,
    keyed_as_before,
    ledger_rows,
    no_retry_waits,
    seedance_only,
    seedream_by_url,
    settings_for,
    warnings_reporter,
)
from tests.media import pcm, spectral_peaks
from tests.sim.server import SimServer


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The folders `once` made for this module's tests in this process."""
    return once_root(tmp_path_factory)


class Rendered(NamedTuple):
    """goals_file's goals in `home`, rendered whole into home/run with `settings`."""

    home: Path
    goals: Path
    settings: Any
    run: Path


def _rendered(
    made: dict[str, Path], sim: SimServer, name: str, settings: Any
) -> Iterator[Rendered]:
    """goals_file's goals rendered whole (in-process) with `settings` into home/run, as the
    tests using it began (`once`), and the simulated Claude's answer for them."""

    def make(home: Path) -> None:
        goals = goals_file(home, sim)
        asyncio.run(Pipeline(goals, settings, out=home / "run", keys=KEYS).run())

    home = once(made, sim, name, make)
    claude_answer_for(sim, home / "goals.yaml")
    yield Rendered(home, home / "goals.yaml", settings, home / "run")
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def byteplus_rendered(made: dict[str, Path], sim: SimServer) -> Iterator[Rendered]:
    """`_rendered` with settings_for("byteplus")."""
    yield from _rendered(made, sim, "byteplus", settings_for("byteplus", sim))


@pytest.fixture
def seedance_rendered(made: dict[str, Path], sim: SimServer) -> Iterator[Rendered]:
    """`_rendered` with seedance_only: only the clips paid."""
    yield from _rendered(made, sim, "seedance", seedance_only(sim))


@pytest.fixture
def clips_only_rendered(made: dict[str, Path], sim: SimServer, preset: str) -> Iterator[Rendered]:
    """`_rendered` with `_clips_only(preset)` (with byteplus, seedance_only's settings:
    seedance_rendered's folder)."""
    name = "seedance" if preset == "byteplus" else f"clips-{preset}"
    yield from _rendered(made, sim, name, _clips_only(preset, sim))


def _ten_goals(tmp_path: Path) -> Path:
    g = tmp_path / "ten.yaml"
    g.write_text(
        "title: Ten\ngoals:\n"
        + "".join(f"  - category: growth\n    vision: Vision number {i}\n" for i in range(10))
    )
    return g


async def test_billed_equals_the_simulators_own_counts(sim: SimServer, tmp_path: Path) -> None:
    sim.media_scale = 0.25
    sim.cache_tokens = (1000, 2000)  # Claude's answer reports cache writes and reads too
    goals = goals_file(tmp_path, sim)
    # (every paid call made: the movie's compose, free, is not what is counted here)
    res = await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run(
        until="clips"
    )
    store = Store(res.run_dir / "run.db")
    rows = store.ledger_rows()
    store.close()
    models = sim.stats()["models"]
    video = [r for r in rows if r["stage"] == "clip"]
    assert len(video) == 4 and all(r["state"] == "billed" for r in video)
    tokens = sum(m["completion_tokens"] for k, m in models.items() if k.startswith("seedance"))
    # seedance 1.5 pro, no audio: $1.2 per 1M tokens
    assert sum(r["billed_usd"] for r in video) == pytest.approx(tokens * 1.2 / 1e6, abs=1e-6)
    plan_rows = [r for r in rows if r["stage"] == "plan"]
    claude = next(m for k, m in models.items() if k.startswith("claude"))
    # claude sonnet 5.5: $2 / $10 per 1M in / out, cache write $2.5, cache read $0.2
    want = claude["input_tokens"] * 2 / 1e6 + claude["output_tokens"] * 10 / 1e6
    want += claude["cache_creation_input_tokens"] * 2.5 / 1e6
    want += claude["cache_read_input_tokens"] * 0.2 / 1e6
    assert claude["cache_read_input_tokens"] == 2000
    assert len(plan_rows) == 1 and plan_rows[0]["billed_usd"] == pytest.approx(want, abs=1e-6)
    images = [r for r in rows if r["stage"] == "keyframe"]
    assert len(images) == 4 and sum(r["billed_usd"] for r in images) == pytest.approx(4 * 0.03)
    # status --json carries the ledger and the totals
    st = collect_status(res.run_dir)
    assert st["money"]["billed"] == pytest.approx(sum(r["billed_usd"] or 0 for r in rows), abs=1e-5)
    assert st["money"]["in_flight"] == 0 and len(st["ledger"]) == len(rows)


async def test_budget_for_four_of_ten_scenes_bills_exactly_four(
    sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    sim.job_seconds = 0.3
    goals = _ten_goals(tmp_path)
    extra: dict[str, Any] = {
        "planner": {"provider": "local"},
        "keyframes": {"provider": "local"},
        "providers": {
            "byteplus": {
                "base_url": sim.ark_base_url,
                "max_concurrent": 5,
                "poll_interval": 0.05,
                "poll_max_interval": 0.1,
            }
        },
    }
    settings = settings_for("byteplus", sim, **extra)
    per_clip = estimate_video(settings, 4).usd
    budget = 4 * per_clip + per_clip / 2  # four fit, a fifth does not
    run = tmp_path / "run"
    with pytest.raises(BudgetStopped) as e:
        await Pipeline(goals, settings, out=run, keys=KEYS, budget=budget).run()
    msg = str(e.value)
    assert "6 scene(s) left" in msg and "bigger --budget" in msg
    # named a few and how many more: 144 ids in one line after a stop (the scale audit)
    assert re.search(r"left \([\w-]+, [\w-]+, [\w-]+ and 3 more\)", msg), msg
    assert sim.stats()["totals"]["jobs_created"] == 4
    assert len(list(run.glob("scenes/*/clip.mp4"))) == 4
    # status's table says the six clips were stopped, not "failed" as if refused (its
    # error lines say by what: "budget $... reached")
    table = CliRunner().invoke(app, ["status", str(run)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    rows = [line.split() for line in table.output.splitlines()]
    clips = [r[2] for r in rows if r and r[0].endswith("-growth-1")]
    assert sorted(clips) == ["done"] * 4 + ["stopped"] * 6, table.output
    # one error line for the scenes it is of alike (37 lines of one budget stop, the
    # scale audit), the one that said what the next call needed apart
    assert table.output.count("budget $") == 2, table.output
    assert re.search(
        r"[\w-]+, [\w-]+, [\w-]+ and 2 more: clip: budget .* clip for each not", table.output
    )
    # and the next render makes those clips, never sent: it said "retry the clip
    # (attempt 2)", as if one had been tried (and paid for)
    nexts = [s["next"] for s in collect_status(run)["scenes"] if s.get("clip") != "succeeded"]
    assert nexts == ["make the clip (not sent: the budget was reached)"] * 6, nexts

    # a bigger budget finishes the movie, with no job created twice
    res = await Pipeline(goals, settings, out=run, keys=KEYS, budget=20 * per_clip).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 10
    st = collect_status(run)
    assert st["money"]["billed"] == pytest.approx(10 * per_clip, abs=1e-6)


async def test_a_budget_for_four_of_ten_scenes_buys_four_paid_keyframes_not_ten(
    sim: SimServer, tmp_path: Path
) -> None:
    """Paid keyframes (Seedream) before paid clips: the keyframes' slots were free sooner
    than the clips', so a budget for four of ten scenes bought every keyframe (ten) and
    then two clips (8 keyframes paid for scenes that could get none). A paid keyframe is
    let through only with room kept for its scene's clip: four of each."""
    sim.media_scale = 0.25
    goals = _ten_goals(tmp_path)
    byteplus = {"base_url": sim.ark_base_url, "max_concurrent": 5, "poll_interval": 0.05}
    extra: dict[str, Any] = {"planner": {"provider": "local"}, "providers": {"byteplus": byteplus}}
    settings = settings_for("byteplus", sim, **extra)
    scene = costs.keyframe_hold(settings, 0, []) + costs.video_hold(settings, 4)
    budget = 4 * scene + scene / 2  # four scenes fit, a fifth does not
    run = tmp_path / "run"
    with pytest.raises(BudgetStopped) as e:
        await Pipeline(goals, settings, out=run, keys=KEYS, budget=budget).run()
    assert "6 scene(s) left" in str(e.value), e.value
    totals = sim.stats()["totals"]
    assert (totals["images"], totals["jobs_created"]) == (4, 4), totals
    assert collect_status(run)["money"]["billed"] <= budget


async def test_a_chained_clip_waits_for_the_keyframe_the_budget_stopped(
    sim: SimServer, tmp_path: Path
) -> None:
    """video.chain_frames: a clip takes the next scene's keyframe as its last frame. The
    budget stopped that keyframe, and the clip (its room kept) was sent without it: made
    unchained, it was made again once the next render made that keyframe (paid twice).
    It is stopped with the keyframe it waits for; a bigger budget then buys each clip
    once."""
    sim.media_scale = 0.25
    goals = _ten_goals(tmp_path)
    byteplus = {"base_url": sim.ark_base_url, "max_concurrent": 5, "poll_interval": 0.05}
    extra: dict[str, Any] = {
        "planner": {"provider": "local"},
        "video": {"chain_frames": True},
        "providers": {"byteplus": byteplus},
    }
    settings = settings_for("byteplus", sim, **extra)
    scene = costs.keyframe_hold(settings, 0, []) + costs.video_hold(settings, 4)
    run = tmp_path / "run"
    stopped: list[tuple[str, str]] = []

    class Rec(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            if state == "stopped":
                stopped.append((stage, scene_id))

    with pytest.raises(BudgetStopped):
        await Pipeline(
            goals, settings, out=run, keys=KEYS, budget=4.5 * scene, reporter=Rec()
        ).run()
    # a clip waiting for the next keyframe is said stopped under clips (it was said under
    # keyframes, just after its keyframe's "done"); a keyframe stopped, under the scene
    made = {p.parent.name for p in run.glob("scenes/*/keyframe.png")}
    assert stopped and all((stage == "clips") == (sid in made) for stage, sid in stopped)
    assert any(stage == "clips" for stage, _ in stopped), stopped
    totals = sim.stats()["totals"]
    # four keyframes (which four is the slots' timing); a clip whose next scene's
    # keyframe was stopped waits for it: every clip sent has its last frame
    assert totals["images"] == 4 and 1 <= totals["jobs_created"] <= 3, totals
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    assert len(creates) == totals["jobs_created"]
    assert all('"last_frame"' in json.dumps(r["body"]) for r in creates), creates
    res = await Pipeline(goals, settings, out=run, keys=KEYS, budget=20 * scene).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 10  # no clip bought twice


@pytest.mark.parametrize("stage", ["keyframe", "clip"])
async def test_a_try_the_budget_stopped_before_it_was_sent_is_not_counted(
    sim: SimServer, tmp_path: Path, stage: str
) -> None:
    """A step the budget gate stopped before its call was sent was counted as a try:
    after two renders stopped so, status's `tries` said 2 (and `status --json` each
    step's attempts 2) for a keyframe or clip never sent, and a clip then sent and
    refused was to be retried as 'attempt 3'. A try not sent is not a try."""
    sim.media_scale = 0.25
    if stage == "keyframe":  # Seedream keyframes, a budget below one
        settings = settings_for("byteplus", sim, planner={"provider": "local"})
        budget = costs.estimate_keyframe(settings).usd / 2
    else:  # local keyframes (one try each), Seedance clips, a budget below one
        settings = seedance_only(sim)
        budget = estimate_video(settings, 4).usd / 2
    run = tmp_path / "run"
    goals = goals_file(tmp_path, sim)
    for _ in range(2):
        with pytest.raises(BudgetStopped):
            await Pipeline(goals, settings, out=run, keys=KEYS, budget=budget).run()
    assert ledger_rows(run, stage) == []  # nothing was sent
    steps = [s for s in collect_status(run)["steps"] if s["stage"] == stage]
    assert [s["attempts"] for s in steps] == [0] * 4, steps
    table = CliRunner().invoke(app, ["status", str(run)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    rows = [line.split() for line in table.output.splitlines()]
    scenes = [r for r in rows if r and r[0][:2].isdigit()]
    # (image, clip, tries): the one try is the local keyframe's
    want = ["stopped", "-", "0"] if stage == "keyframe" else ["done", "stopped", "1"]
    assert [r[1:4] for r in scenes] == [want] * 4, table.output


async def test_a_plan_the_budget_stopped_before_it_was_sent_is_not_counted(
    sim: SimServer, tmp_path: Path
) -> None:
    """As for a keyframe or clip: Claude's plan call refused by the budget gate, unsent,
    was counted as a try (the plan step's attempts 2 after two such renders)."""
    settings = settings_for("byteplus", sim)
    goals = goals_file(tmp_path, sim)
    budget = costs.estimate_planner(settings, load_goals(goals)).usd / 2
    run = tmp_path / "run"
    for _ in range(2):
        with pytest.raises(BudgetStopped):
            await Pipeline(goals, settings, out=run, keys=KEYS, budget=budget).run()
    assert ledger_rows(run, "plan") == []  # nothing was sent
    plan = [s for s in collect_status(run)["steps"] if s["stage"] == "plan"]
    assert [s["attempts"] for s in plan] == [0], plan


def _answer(asked: list[float], yes: bool) -> Any:
    """The spend question answered `yes`, each estimate asked about noted in `asked`."""

    def ask(est: Any) -> bool:
        asked.append(est.total)
        return yes

    return ask


def _tries(run: Path, stage: str) -> tuple[list[int], list[list[str]]]:
    """`stage`'s steps' attempts in `status --json`, sorted, and the status table's
    (image, clip, tries) cells of each scene."""
    attempts = sorted(s["attempts"] for s in collect_status(run)["steps"] if s["stage"] == stage)
    table = CliRunner().invoke(app, ["status", str(run)], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    rows = [line.split() for line in table.output.splitlines()]
    return attempts, sorted(r[1:4] for r in rows if r and r[0][:2].isdigit())


@pytest.mark.parametrize("refused", ["key", "setting"])
@pytest.mark.parametrize("stage", ["keyframe", "clip"])
async def test_a_try_stopped_by_a_refusal_earlier_in_the_run_is_not_counted(
    sim: SimServer, tmp_path: Path, stage: str, refused: str
) -> None:
    """A key (401) or a model id refused at the first call stops the other scenes' calls
    of that model unsent ("(not sent: refused earlier in this run)"), but each was
    counted as a try: status's `tries` and `status --json` said 1 for every scene, as
    for the one request sent. Only the try whose call was let through is counted."""
    sim.media_scale = 0.25
    # Seedream keyframes, or local keyframes and Seedance clips
    section, model = {
        "keyframe": ("keyframes", "seedream-4-0-250101"),
        "clip": ("video", "seedance-1-0-pro-250528"),
    }[stage]
    local = {"keyframes": {"provider": "local"}} if stage == "clip" else {}
    set_model = {section: {"model": model}} if refused == "setting" else {}
    settings = settings_for(
        "byteplus", sim, planner={"provider": "local"}, **{**local, **set_model}
    )
    if refused == "key":
        path = "/images/generations" if stage == "keyframe" else "/contents/generations/tasks"
        sim.add_fault("http", path=path, method="POST", status=401, count=None)
    else:
        sim.missing_models[model] = "not_found"
    run = tmp_path / "run"
    with pytest.raises((RenderFailed, ProviderError)):
        await Pipeline(goals_file(tmp_path, sim), settings, out=run, keys=KEYS).run()
    assert len(ledger_rows(run, stage)) == 1  # one request sent, three not
    attempts, cells = _tries(run, stage)
    assert attempts == [0, 0, 0, 1], attempts
    if stage == "keyframe":
        assert cells == [["failed", "-", "0"]] * 3 + [["failed", "-", "1"]], cells
    else:
        # a clip never sent is asked for the first time next; status said "retry the
        # clip (attempt 2)" of it, counting its (local) keyframe's try as the clip's,
        # then "retry the clip (attempt 1)", as if one had been sent and refused
        nexts = sorted(sc["next"] for sc in collect_status(run)["scenes"])
        assert nexts == ["make the clip (none of its requests was sent)"] * 3 + [
            "retry the clip (attempt 2)"
        ]


async def test_declined_confirmation_is_asked_again_next_run(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = goals_file(tmp_path, sim)
    asked: list[float] = []

    def no(est: Any) -> bool:
        asked.append(est.total)
        return False

    settings = settings_for("byteplus", sim)
    for _ in range(2):
        with pytest.raises(Declined):
            await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, confirm=no).run()
    assert len(asked) == 2 and asked[0] > 0
    assert sim.stats()["requests"] == 0  # nothing was sent either time


async def test_a_dry_run_estimate_does_not_approve_the_render_after_it(
    sim: SimServer, tmp_path: Path
) -> None:
    """lessons.md: after a dry run the next run started every paid job without asking.
    `estimate` is mindmovie's dry run: the render after it still asks, on a new folder
    and on one a declined render has used, and a "no" sends nothing."""
    from mindmovie.pipeline import estimate_for

    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run = tmp_path / "run"
    asked: list[float] = []

    def no(est: Any) -> bool:
        asked.append(est.total)
        return False

    for _ in range(2):
        assert estimate_for(goals, settings, out=run).paid
        with pytest.raises(Declined):
            await Pipeline(goals, settings, out=run, keys=KEYS, confirm=no).run()
    assert len(asked) == 2 and asked[0] > 0
    assert sim.stats()["requests"] == 0


async def test_a_dry_run_on_a_started_run_does_not_approve_the_render_after_it(
    sim: SimServer, tmp_path: Path
) -> None:
    """lessons.md: after a dry run the next run started every paid job without asking.
    The test above runs `estimate` on a folder with no run.db (a declined render in a
    new folder takes its folder away), so a flag the dry run left in run.db would never
    be read. Here the run is started (its plan paid for and approved), `estimate` is run
    on it, and the render after it still asks about the pictures and clips left; a
    "no" sends nothing."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run = tmp_path / "run"
    asked: list[float] = []

    pipe = Pipeline(goals, settings, out=run, keys=KEYS, confirm=_answer(asked, True))
    await pipe.run(until="plan")
    assert (run / "run.db").is_file()
    before = sim.stats()["requests"]
    for _ in range(2):
        assert estimate_for(goals, settings, out=run).paid
        with pytest.raises(Declined):
            await Pipeline(goals, settings, out=run, keys=KEYS, confirm=_answer(asked, False)).run()
    assert len(asked) == 3 and asked[1] > 0 and asked[2] > 0, asked
    assert sim.stats()["totals"]["jobs_created"] == 0
    assert sim.stats()["requests"] == before  # the "no"s sent nothing


async def test_confirmation_shows_what_this_run_will_spend(sim: SimServer, tmp_path: Path) -> None:
    """`plan` is asked about the planner call only; `--until keyframes` about the plan
    and the keyframes, not the videos it will not make; a full render about everything."""
    goals = goals_file(tmp_path, sim)
    seen: dict[str, Any] = {}

    def no(until: str) -> Any:
        def ask(est: Any) -> bool:
            seen[until] = est
            return False

        return ask

    settings = settings_for("byteplus", sim)
    for until in ("plan", "keyframes", "movie"):
        pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, confirm=no(until))
        with pytest.raises(Declined):
            await pipe.run(until=until)  # type: ignore[arg-type]
    full = seen["movie"]
    planner = full.planner.usd
    keyframes = sum(s.keyframe.usd for s in full.scenes)
    videos = sum(s.video.usd for s in full.scenes)
    assert planner > 0 and keyframes > 0 and videos > 0
    assert seen["plan"].total == pytest.approx(planner) and seen["plan"].scenes == []
    assert seen["keyframes"].total == pytest.approx(planner + keyframes)
    assert all(s.video.usd == 0 and "not in this run" in s.video.formula
               for s in seen["keyframes"].scenes)  # fmt: skip
    assert full.total == pytest.approx(planner + keyframes + videos)
    assert sim.stats()["requests"] == 0


async def test_a_plan_dearer_than_the_question_priced_is_asked_about_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """The question is asked before Claude plans, each scene priced at plan.scene_seconds
    (4 s); Claude may pick any clip length the video model allows. A plan of 10 s clips
    bought $1.16 of keyframes and clips after "Spend about $0.55?", without another
    word. The render asks again, before any keyframe, with what the plan costs; a "no"
    keeps the paid plan and buys nothing else."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    full = sim.planner
    assert isinstance(full, dict)
    sim.set_planner({**full, "scenes": [{**sc, "seconds": 10} for sc in full["scenes"]]})
    settings = settings_for("byteplus", sim)
    asked: list[float] = []
    # the live view (started once the plan is asked for) is off the screen while asked:
    # it erased the second question as it was printed, and the render waited unseen
    screen = io.StringIO()
    view = RichReporter(Console(file=screen, force_terminal=True, width=100, height=40))
    drawn: list[bool] = []

    def answers(*yes: bool) -> Any:
        def ask(est: Any) -> bool:
            drawn.append(view.live.is_started)
            asked.append(est.total)
            return yes[len(asked) - 1]

        return ask

    run = tmp_path / "run"
    try:
        with pytest.raises(Declined, match="the plan is kept"):
            await Pipeline(
                goals, settings, out=run, keys=KEYS, confirm=answers(True, False), reporter=view
            ).run()
    finally:
        view.close()
    assert drawn == [False, False], drawn
    clip10 = estimate_video(settings, 10).usd
    # the first question: the plan at its estimate, and 4 scenes at plan.scene_seconds
    planner = costs.estimate_planner(settings, load_goals(goals)).usd
    before = planner + 4 * (0.03 + estimate_video(settings, 4).usd)
    assert asked == [pytest.approx(before), pytest.approx(4 * (0.03 + clip10))], asked
    assert sim.stats()["totals"]["images"] == 0 and (run / "plan.yaml").is_file()
    # the next render reuses the plan: asked once, about what it costs, and buys it (its
    # keyframes and clips: the movie's compose, free, is not what is asked about)
    asked.clear()
    await Pipeline(goals, settings, out=run, keys=KEYS, confirm=answers(True)).run(until="clips")
    assert asked == [pytest.approx(4 * (0.03 + clip10))]
    assert collect_status(run)["money"]["billed"] == pytest.approx(
        4 * (0.03 + clip10) + ledger_rows(run, "plan")[0]["billed_usd"]
    )


async def test_plan_yaml_made_dearer_while_the_question_waits_is_asked_about_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """plan.yaml is read again after the spend question: every scene's seconds set to
    10 while "Spend about $0.40?" waited for its answer, the render bought $0.87 without
    another word (the concurrent-use audit). It asks again, with what the edited plan
    costs; a "no" buys nothing and keeps the edit."""
    from mindmovie.plan import write_plan

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run = tmp_path / "run"
    await Pipeline(goals, settings, out=run, keys=KEYS, confirm=lambda est: True).run(until="plan")
    plan_path = run / "plan.yaml"
    asked: list[float] = []
    warned: list[str] = []

    class Said(NullReporter):
        def warn(self, message: str) -> None:
            warned.append(message)

    def ask(est: Any) -> bool:
        asked.append(est.total)
        if len(asked) == 1:  # the person edits plan.yaml, then says yes
            plan = load_plan(plan_path)
            longer = [sc.model_copy(update={"seconds": 10}) for sc in plan.scenes]
            write_plan(plan.model_copy(update={"scenes": longer}), plan_path)
            return True
        return False

    with pytest.raises(Declined, match="nothing was spent"):
        await Pipeline(goals, settings, out=run, keys=KEYS, confirm=ask, reporter=Said()).run()
    n = len(load_plan(plan_path).scenes)
    clip10 = estimate_video(settings, 10).usd
    assert asked[1] == pytest.approx(n * (0.03 + clip10)) and asked[1] > asked[0], asked
    assert any("changed while the question was asked" in w for w in warned), warned
    assert sim.stats()["totals"]["images"] == 0 and sim.stats()["totals"]["jobs_created"] == 0
    assert {sc.seconds for sc in load_plan(plan_path).scenes} == {10}
    # not edited at the question: asked once, as before
    asked.clear()
    yes = lambda est: asked.append(est.total) or True  # noqa: E731
    await Pipeline(goals, settings, out=run, keys=KEYS, confirm=yes).run(until="keyframes")
    assert asked == [pytest.approx(n * 0.03)] and sim.stats()["totals"]["images"] == n


def test_a_plan_dearer_than_the_question_priced_says_how_it_is_decided_unasked(
    sim: SimServer, tmp_path: Path
) -> None:
    """Under --yes, or --budget with no terminal, nothing is asked: the table is shown
    and the render goes on. The warning of a plan dearer than the first question priced
    ended "; asked again" there too. It says what the plan costs, and the confirmer says
    why it is not asked again; --yes still goes on."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    full = sim.planner
    assert isinstance(full, dict)
    sim.set_planner({**full, "scenes": [{**sc, "seconds": 10} for sc in full["scenes"]]})
    cfg, env = cli_env(sim, tmp_path)
    args = ["render", str(goals), "-c", str(cfg), "-q"]
    env = {**env, "COLUMNS": "300"}
    for out, flags, why in [
        ("yes", ["--yes"], "Not asked again: --yes accepts it; the render goes on."),
        ("budget", ["--budget", "5"], "Not asked again: there is no terminal to ask at, "
         "and the budget $5.00 caps the spend; the render goes on."),
    ]:  # fmt: skip
        r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / out), *flags], env=env)
        assert r.exit_code == 0, r.output
        text = " ".join(r.output.split())
        assert "costs more than estimated before it" in text, text
        assert "; asked again" not in text and why in text, text
        assert (tmp_path / out / "movie.mp4").is_file()


async def test_an_accepted_partial_run_does_not_approve_the_next_one(
    sim: SimServer, tmp_path: Path
) -> None:
    """Approving `--until keyframes` approves that run only: the render after it asks
    again (about the videos left), and a "no" there sends nothing."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    asked: list[float] = []

    settings = settings_for("byteplus", sim)
    pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, confirm=_answer(asked, True))
    await pipe.run(until="keyframes")
    before = sim.stats()["requests"]
    pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, confirm=_answer(asked, False))
    with pytest.raises(Declined):
        await pipe.run()
    assert len(asked) == 2 and asked[1] > 0  # asked again, about the videos still to make
    assert sim.stats()["totals"]["jobs_created"] == 0
    assert sim.stats()["requests"] == before  # the "no" sent nothing


def test_non_interactive_paid_run_refuses_without_yes_or_budget(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run")], env=env
    )
    assert r.exit_code == 1
    assert "--yes" in r.output and "--budget" in r.output
    assert sim.stats()["requests"] == 0


def test_a_paid_run_refused_in_a_folder_it_made_leaves_no_folder(
    sim: SimServer, tmp_path: Path
) -> None:
    """Refused before anything was sent (no terminal, no --yes, no budget), a render
    with `--out` a new folder left it behind holding run.db and .lock: the folders it made
    go (its parents too); a folder that was there stays, and so does a run whose Claude
    plan was paid for before the question."""
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)

    def refused(out: Path) -> None:
        args = ["render", str(goals), "-c", str(cfg), "--out", str(out)]
        r = CliRunner().invoke(app, args, env=env)
        assert r.exit_code == 1 and "nobody is here to confirm it" in r.output, r.output

    refused(tmp_path / "outer" / "new")
    assert not (tmp_path / "outer").exists(), sorted((tmp_path / "outer").rglob("*"))
    (tmp_path / "mine").mkdir()
    refused(tmp_path / "mine")
    assert (tmp_path / "mine").is_dir()
    assert sim.stats()["requests"] == 0
    planned = tmp_path / "planned"
    args = ["plan", str(goals), "-c", str(cfg), "--out", str(planned), "--yes"]
    r = CliRunner().invoke(app, args, env=env)
    assert r.exit_code == 0, r.output
    refused(planned)
    assert (planned / "plan.yaml").is_file() and (planned / "run.db").is_file()
    assert len(ledger_rows(planned, "plan")) == 1 and sim.stats()["totals"]["messages"] == 1


def test_a_budget_of_nothing_in_a_folder_it_made_leaves_no_folder(
    sim: SimServer, tmp_path: Path
) -> None:
    """`--budget 0` stops a paid render before its question, nothing sent, as a decline
    does: `--out outer/new` left outer/new/run.db and .lock behind for a render that
    never happened; the folders it made go, as a declined render's do."""
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    args = ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "outer" / "new")]
    r = CliRunner().invoke(app, [*args, "--budget", "0"], env=env)
    assert r.exit_code == 3 and "budget $0.00" in r.output, r.output
    assert not (tmp_path / "outer").exists(), sorted((tmp_path / "outer").rglob("*"))
    assert sim.stats()["requests"] == 0
    # it said "the budget $0.00 is already used (billed $0.00)"
    text = " ".join(r.output.split())
    assert "the budget $0.00 lets no paid call through, and nothing was sent" in text, text


@pytest.mark.parametrize("answer", ["no", "ctrl-c"])
async def test_a_render_stopped_at_its_question_leaves_no_folder_it_made(
    sim: SimServer, tmp_path: Path, answer: str
) -> None:
    """A "no" at the spend question removes the folder the render made for its new
    run.db; a Ctrl-C there left it (run.db and .lock: an empty run `status` showed).
    Either way nothing was sent and the folder goes."""
    goals = goals_file(tmp_path, sim)

    def ask(est: Any) -> bool:
        if answer == "ctrl-c":
            raise Interrupted("nothing was spent; render again when you are ready")
        return False

    out = tmp_path / "outer" / "new"
    settings = settings_for("byteplus", sim)
    with pytest.raises(Declined if answer == "no" else Interrupted):
        await Pipeline(goals, settings, out=out, keys=KEYS, confirm=ask).run()
    assert not (tmp_path / "outer").exists(), sorted((tmp_path / "outer").rglob("*"))
    assert sim.stats()["requests"] == 0


async def test_a_budget_used_up_before_the_question_names_the_calls_still_held(
    sim: SimServer, tmp_path: Path
) -> None:
    """A Veo create whose answer was lost holds its $0.32 (outcome unknown) against the
    budget. A render with a $1.00 budget after $0.96 was billed stops before asking, as it
    should, but said "the budget $1.00 is already used (billed $0.96)": short of the
    budget, and the $0.32 that used it named nowhere."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    s = settings_for("google", sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    sim.add_fault("drop_after", path="predictLongRunning", method="POST", count=1)
    run = tmp_path / "run"
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert collect_status(run)["money"]["unknown"] == pytest.approx(0.32)
    with pytest.raises(BudgetStopped) as e:
        await Pipeline(goals, s, out=run, keys=KEYS, budget=1.0).run()
    assert str(e.value).startswith(
        "the budget $1.00 is already used (billed $0.96, $0.32 held for calls of earlier "
        "renders not settled (in flight, or of unknown outcome: `mindmovie status`)); "
    ), str(e.value)


def test_estimate_command_spends_nothing_and_excludes_done_work(
    sim: SimServer, tmp_path: Path
) -> None:
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    args = ["estimate", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--json"]
    r = CliRunner().invoke(app, args, env={})  # no keys needed to estimate
    assert r.exit_code == 0, r.output
    full = json.loads(r.output)
    assert sim.stats()["requests"] == 0
    assert len(full["scenes"]) == 4 and full["total"] > 0
    row = full["scenes"][0]["video"]
    assert {"width", "height", "fps", "seconds", "tokens"} <= set(row["inputs"])

    # finish the keyframes (cheap), then the estimate covers only the videos left
    r = CliRunner().invoke(
        app,
        [
            "render",
            str(goals),
            "-c",
            str(cfg),
            "--out",
            str(tmp_path / "run"),
            "--yes",
            "--until",
            "keyframes",
            "-q",
        ],
        env=env,
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, args, env={})
    left = json.loads(r.output)
    assert left["planner"] is None or left["planner"]["usd"] == 0
    assert all(s["keyframe"]["usd"] == 0 for s in left["scenes"])
    assert left["total"] == pytest.approx(sum(s["video"]["usd"] for s in full["scenes"]), abs=1e-6)


def test_estimate_counts_what_a_render_would_pay_for_again(sim: SimServer, tmp_path: Path) -> None:
    """A finished keyframe is 'done' only if the render would reuse it: an edited prompt
    or another preset makes it again, so the estimate (and the confirmation and budget
    check it feeds) must count it. The render then pays for exactly what was estimated."""
    import yaml

    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    until_kf = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"]
    r = CliRunner().invoke(app, [*until_kf, "--until", "keyframes"], env=env)
    assert r.exit_code == 0, r.output
    images_before = sim.stats()["totals"]["images"]
    est_args = ["estimate", str(goals), "-c", str(cfg), "--out", str(run), "--json"]

    # another preset: other keyframe and video models, so no keyframe is reused (the
    # plan is: Claude plans for both, and its 4 s scenes are clip lengths Veo makes too)
    r = CliRunner().invoke(app, [*est_args, "--preset", "google"], env={})
    other = json.loads(r.stdout)  # (stderr says the preset changed: the JSON is stdout)
    assert 'setting changed since the last render: preset: "byteplus" -> "google"' in r.stderr
    assert other["planner"] is None
    assert all(s["keyframe"]["usd"] > 0 and not s["keyframe"]["done"] for s in other["scenes"])

    # one edited image prompt: that scene's keyframe (and so its clip) is paid again
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    edited = plan["scenes"][1]["id"]
    plan["scenes"][1]["image_prompt"] += ", golden hour"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    r = CliRunner().invoke(app, est_args, env={})
    left = json.loads(r.output)
    redo = [s["scene_id"] for s in left["scenes"] if not s["keyframe"]["done"]]
    assert redo == [edited]
    assert all(s["keyframe"]["usd"] == 0 for s in left["scenes"] if s["scene_id"] != edited)

    r = CliRunner().invoke(app, [*until_kf, "--until", "keyframes"], env=env)
    assert r.exit_code == 0, r.output
    assert sim.stats()["totals"]["images"] - images_before == len(redo)  # as estimated


def _claude_usd(sim: SimServer) -> float:
    claude = next(m for k, m in sim.stats()["models"].items() if k.startswith("claude"))
    # claude sonnet 5.5: $2 / $10 per 1M in / out
    return float(claude["input_tokens"] * 2 / 1e6 + claude["output_tokens"] * 10 / 1e6)


async def test_a_plan_repair_is_its_own_paid_call_through_the_gate(
    sim: SimServer, tmp_path: Path
) -> None:
    """The repair is a second Claude call: it gets its own ledger row, passes the budget
    gate, and is billed from its own usage; both rows add up to what Claude counted."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("invalid", path="/v1/messages", field="image_prompt")
    res = await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run(
        until="plan"
    )
    assert len(sim.requests(path="/v1/messages")) == 2
    plan_rows = [r for r in collect_status(res.run_dir)["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["billed", "billed"]
    assert all(r["billed_usd"] > 0 for r in plan_rows)
    assert sum(r["billed_usd"] for r in plan_rows) == pytest.approx(_claude_usd(sim), abs=1e-6)


async def test_a_failed_plan_still_bills_the_calls_claude_answered(
    sim: SimServer, tmp_path: Path
) -> None:
    """Still invalid after the one repair: the plan fails, but Claude answered (and
    billed) both calls, so both rows are billed, not refunded."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("invalid", path="/v1/messages", field="motion_prompt", count=2)
    with pytest.raises(ProviderError, match="motion_prompt"):
        await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run(
            until="plan"
        )
    plan_rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["billed", "billed"]
    assert sum(r["billed_usd"] for r in plan_rows) == pytest.approx(_claude_usd(sim), abs=1e-6)


def test_a_refused_plan_says_in_its_one_line_what_its_calls_were_billed(
    sim: SimServer, tmp_path: Path
) -> None:
    """A plan still invalid after its repair (or cut, or declined by Claude) ends the
    render before any keyframe, its answered calls billed. The one line said only what
    was wrong with the plan: with --quiet nothing said the two calls had cost anything.
    It says what they were billed, and that nothing else was bought."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("invalid", path="/v1/messages", field="motion_prompt", count=2)
    cfg, env = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app,
        ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"],
        env={**env, "COLUMNS": "400"},
    )
    assert r.exit_code == 1, r.output
    rows = ledger_rows(run, "plan")
    assert [row["state"] for row in rows] == ["billed", "billed"]
    usd = costs.format_usd(sum(row["billed_usd"] for row in rows))
    text = " ".join(r.output.split())
    assert "plan still invalid after one repair" in text and "motion_prompt" in text, text
    assert (
        f"(the plan's 2 calls to anthropic were billed {usd}; no keyframe or clip was bought)"
        in text
    ), text
    assert sim.requests(path="/api/v3/images/generations") == [] and sim.jobs() == []


async def test_a_repair_answered_529_is_retried_without_buying_the_first_answer_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """The first answer needs a repair and the repair is answered 529 (overloaded): the
    retry called plan() again, which bought a new first answer (the paid one thrown
    away) before any repair. Now the retry sends only the repair, of the same first
    answer; the ledger bills the two answered calls and refunds the 529."""
    goals = goals_file(tmp_path, sim)
    canned = sim.planner
    answered = 0

    def answer(body: dict[str, Any]) -> Any:
        nonlocal answered
        answered += 1
        if answered == 1:  # the next request (the repair) is answered 529
            sim.add_fault("http", path="/v1/messages", status=529)
        return canned

    sim.set_planner(answer)
    sim.add_fault("invalid", path="/v1/messages", field="image_prompt")
    res = await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run(
        until="plan"
    )
    reqs = sim.requests(path="/v1/messages")
    # the first call, the repair (529), the repair again: never a second first call
    assert [len(r["body"]["messages"]) for r in reqs] == [1, 3, 3]
    assert reqs[2]["body"]["messages"] == reqs[1]["body"]["messages"]
    plan_rows = [r for r in collect_status(res.run_dir)["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["billed", "refunded", "billed"]
    assert sum(r["billed_usd"] for r in plan_rows) == pytest.approx(_claude_usd(sim), abs=1e-6)
    assert res.plan is not None and len(res.plan.scenes) == 4


async def test_scenes_the_local_planner_filled_in_are_named(sim: SimServer, tmp_path: Path) -> None:
    """Claude gives one scene short (goal 2 asks for 2) in its answer and in its repair:
    the local planner's template scene fills the gap, and keyframes and clips are paid
    for it. That was said nowhere; the person is now told which scene it is."""
    goals = goals_file(tmp_path, sim)
    full = sim.planner
    assert isinstance(full, dict)
    sim.set_planner({**full, "scenes": [sc for i, sc in enumerate(full["scenes"]) if i != 2]})
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    s = settings_for("byteplus", sim)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run(
        until="plan"
    )
    assert len(sim.requests(path="/v1/messages")) == 2  # the answer and its repair
    assert res.plan is not None
    filled = [sc.id for sc in res.plan.scenes if not sc.image_prompt.endswith(", cinematic")]
    assert filled == ["02-career-2"]
    (told,) = [w for w in warned if "local planner" in w]
    # (for some goals: a goal's count, not the plan's: the right number of scenes, all
    # for goal 1, was "too few scenes")
    said = "gave too few scenes for some goals, so 1 scene (02-career-2) came from the local"
    assert said in told, told
    assert str(tmp_path / "run" / "plan.yaml") in told, told


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_scenes_asking_the_same_picture_and_clip_buy_them_once(
    preset: str, sim: SimServer, tmp_path: Path
) -> None:
    """Two scenes asking the very same image and clip (a scene copied in plan.yaml, a
    planner repeating itself): a fresh render bought the image and the clip of each, at
    once, and a render after it used one of them for both (`Store.find_kept` takes
    another scene's result of the same inputs), the other paid for and thrown away. The
    second scene now waits for the first's and takes it, and the spend question counts
    them once."""
    goals = goals_file(tmp_path, sim)
    copy_scene(sim)  # 02-career-2 = 02-career-1
    s = settings_for(preset, sim)
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")  # `mindmovie plan`
    rows = {r["scene_id"]: r for r in collect_status(run, settings=s)["scenes"]}
    assert rows["02-career-2"]["next"] == (
        "not started: take the keyframe and clip 02-career-1 makes (the very same "
        "requests, bought once)"
    )
    assert rows["02-career-1"]["next"] == "not started: keyframe, then clip"
    asked = await _render_asking(goals, s, run)
    totals = sim.stats()["totals"]
    assert (totals["images"], totals["jobs_created"]) == (3, 3)  # 4 scenes, 3 different
    first, second = (run / "scenes" / sid for sid in ("02-career-1", "02-career-2"))
    for name in ("keyframe.png", "clip.mp4"):
        assert (second / name).read_bytes() == (first / name).read_bytes()
    whole = costs.estimate_run(s, load_goals(goals), load_plan(run / "plan.yaml"))
    copy = next(sc for sc in whole.scenes if sc.scene_id == "02-career-2")
    assert asked == [pytest.approx(whole.total - copy.total)]
    # (the estimate table names the scene it takes them from)
    shared = {("02-career-2", "keyframe"): "02-career-1", ("02-career-2", "clip"): "02-career-1"}
    table = costs.estimate_run(s, load_goals(goals), load_plan(run / "plan.yaml"), shared=shared)
    row = next(sc for sc in table.scenes if sc.scene_id == "02-career-2")
    assert [costs._cell(c) for c in (row.keyframe, row.video)] == ["as 02-career-1"] * 2
    # and the render after it pays nothing, keeps both
    assert await _render_asking(goals, s, run) == []
    assert sim.stats()["totals"]["jobs_created"] == 3


async def test_a_finished_copy_redone_says_it_takes_what_the_other_scene_buys(
    sim: SimServer, tmp_path: Path
) -> None:
    """Two finished scenes asking the very same image and clip, then a setting changed
    for both (the aspect): the estimate prices the copy at nothing ("as 02-career-1")
    and the render buys them once, but `status` said "redo: settings changed (...)" for
    each, read as bought for each."""
    goals = goals_file(tmp_path, sim)
    copy_scene(sim)  # 02-career-2 = 02-career-1
    run = tmp_path / "run"
    # (the scenes finished: their keyframes and clips; the movie of them is not asked about)
    await Pipeline(goals, settings_for("byteplus", sim), out=run, keys=KEYS).run(until="clips")
    tall = settings_for("byteplus", sim, output={"aspect": "9:16", "size": "180x320"})
    rows = {r["scene_id"]: r for r in collect_status(run, settings=tall)["scenes"]}
    assert rows["02-career-2"]["next"] == (
        "redo: settings changed (output.aspect, output.size); take the keyframe and clip "
        "02-career-1 makes (the very same requests, bought once)"
    )
    assert rows["02-career-1"]["next"] == "redo: settings changed (output.aspect, output.size)"
    est = estimate_for(goals, tall, out=run)
    assert [sc.scene_id for sc in est.scenes if sc.total == 0] == ["02-career-2"]
    before = sim.stats()["totals"]
    await _render_asking(goals, tall, run)
    after = sim.stats()["totals"]
    assert (after["images"] - before["images"], after["jobs_created"] - before["jobs_created"]) == (
        3,
        3,
    )


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_copied_scenes_with_local_keyframes_are_asked_for_their_clip_once(
    preset: str, sim: SimServer, tmp_path: Path
) -> None:
    """Free local keyframes and a paid video model: each scene paints its keyframe, a
    copied scene the very same pixels, so its clip is the same request and the render
    takes the first's (`_one_buyer`). The estimate did not know it (a keyframe not yet
    painted left its clip out of the sharing) and the spend question asked for one clip
    more than the render bought."""
    goals = goals_file(tmp_path, sim)
    copy_scene(sim)  # 02-career-2 = 02-career-1
    s = settings_for(preset, sim, keyframes={"provider": "local"})
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    rows = {r["scene_id"]: r for r in collect_status(run, settings=s)["scenes"]}
    assert rows["02-career-2"]["next"] == (
        "not started: keyframe, then take the clip 02-career-1 makes (the very same "
        "request, bought once)"
    )
    est = estimate_for(goals, s, out=run)
    cells = {sc.scene_id: costs._cell(sc.video) for sc in est.scenes}
    assert cells["02-career-2"] == "as 02-career-1", cells
    asked = await _render_asking(goals, s, run)
    totals = sim.stats()["totals"]
    assert (totals["images"], totals["jobs_created"]) == (0, 3)
    assert asked == [pytest.approx(3 * estimate_video(s, 4).usd)]
    first, second = (run / "scenes" / sid for sid in ("02-career-1", "02-career-2"))
    for name in ("keyframe.png", "clip.mp4"):
        assert (second / name).read_bytes() == (first / name).read_bytes()


async def test_a_planner_that_gives_no_scenes_twice_stops_before_any_picture_is_bought(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude answers with no scenes, and again to the repair: every scene would be the
    local planner's template, and the render went on to buy a keyframe and a clip of
    each under Claude's name (a warning said so). It now stops there: both answers are
    billed, nothing else is sent, and the error says how to go on."""
    goals = goals_file(tmp_path, sim)
    full = sim.planner
    assert isinstance(full, dict)
    sim.set_planner({**full, "scenes": []})
    with pytest.raises(ProviderError, match="gave no scenes, in its answer or its repair") as e:
        await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run()
    assert "planner.provider: local" in str(e.value)
    assert len(sim.requests(path="/v1/messages")) == 2  # the answer and its repair
    assert sim.requests(path="/api/v3/images/generations") == []
    assert sim.jobs() == []
    plan_rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["billed", "billed"]


async def test_a_repair_the_budget_cannot_cover_is_not_sent(sim: SimServer, tmp_path: Path) -> None:
    """A budget of exactly one planner call (its hold): the repair is refused by the gate before it
    is sent; the first call (answered) is billed; the run stops cleanly; the next render
    with more budget sends only the repair."""
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    per_call = costs.planner_hold(settings, load_goals(goals))  # what the gate holds
    sim.add_fault("invalid", path="/v1/messages", field="image_prompt")
    with pytest.raises(BudgetStopped):
        await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, budget=per_call).run(
            until="plan"
        )
    assert len(sim.requests(path="/v1/messages")) == 1  # the repair was never sent
    plan_rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["billed"]
    assert plan_rows[0]["billed_usd"] == pytest.approx(_claude_usd(sim), abs=1e-6)
    # the next render, with room for it, sends only the repair: the first answer, billed,
    # was journaled before the gate refused the repair, and is not bought again
    sim.clear_faults()
    res = await Pipeline(
        goals, settings, out=tmp_path / "run", keys=KEYS, budget=10 * per_call
    ).run(until="plan")
    assert res.plan is not None and not res.failed
    sent = sim.requests(path="/v1/messages")
    assert len(sent) == 2
    last = sent[1]["body"]["messages"][-1]["content"]
    assert isinstance(last, list) and last[0]["type"] == "tool_result", last  # the repair
    plan_rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["billed", "billed"]


def test_budget_usd_in_config_caps_a_script_run_and_says_what_is_left(
    sim: SimServer, tmp_path: Path
) -> None:
    """`budget_usd` in config.yaml works like --budget: a non-interactive run may start
    without --yes (the cap is the consent), stops cleanly at the cap (exit 3) and says
    the scenes left, what was billed, the budget left and what remains to do."""
    sim.media_scale = 0.25
    goals = _ten_goals(tmp_path)
    settings = settings_for("byteplus", sim, planner={"provider": "local"})
    per_scene = costs.keyframe_hold(settings, 0) + costs.video_hold(settings, 4)
    cfg = tmp_path / "capped.yaml"
    cfg.write_text(
        "preset: byteplus\n"
        "planner: {provider: local}\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        f"budget_usd: {3.5 * per_scene:.6f}\n"
        "providers:\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}', poll_interval: 0.05,"
        " max_concurrent: 1}\n"
    )
    r = CliRunner().invoke(
        app,
        ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "-q"],
        env={"ARK_API_KEY": "b"},
    )
    assert r.exit_code == 3, r.output
    text = " ".join(r.output.split())
    assert "scene(s) left" in text and "billed so far" in text and "budget left" in text
    assert "still to do" in text
    # the cap as it was set, not a flag not given
    assert f"bigger budget_usd (set in {cfg}:5; or give --budget) to finish" in text
    st = collect_status(tmp_path / "run")
    assert st["money"]["billed"] <= 3.5 * per_scene + 1e-9
    assert sim.stats()["totals"]["jobs_created"] <= 3
    # status names each stopped scene's reason in full, below the table
    text = CliRunner().invoke(app, ["status", str(tmp_path / "run")]).output
    stopped = [s["scene_id"] for s in st["scenes"] if s.get("error")]
    # (each reason once, with the scenes it is of: a few named, and how many more)
    named = 0
    for line in (ln for ln in text.splitlines() if ln.startswith("error ")):
        of = line.removeprefix("error ").split(": ", 1)[0]
        more = re.search(r" and (\d+) more$", of)
        named += len(re.findall(r"\d\d-[\w-]+", of)) + (int(more.group(1)) if more else 0)
    assert stopped and named == len(stopped), text
    assert "budget" in text.split("error", 1)[1]


def test_a_bill_above_its_hold_that_passes_the_budget_is_told(
    sim: SimServer, tmp_path: Path
) -> None:
    """The gate holds back calls, not bills: Seedance reporting more tokens than the
    catalog's price allows bills each of three clips in flight at once above its hold,
    and the run past its budget_usd. The render said "done" and "spend $0.54" on a $0.40
    budget, nothing more; each such bill, and the cap passed, is a warning now."""
    sim.media_scale = 0.25
    goals = _ten_goals(tmp_path)
    goals.write_text("\n".join(goals.read_text().splitlines()[:8]) + "\n")  # three goals
    cfg = tmp_path / "capped.yaml"
    cfg.write_text(
        "preset: byteplus\n"
        "planner: {provider: local}\n"
        "keyframes: {provider: local}\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        "budget_usd: 0.40\n"
        "providers:\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}', poll_interval: 0.05,"
        " max_concurrent: 3}\n"
    )
    usage = {"completion_tokens": 150_000, "total_tokens": 150_000}  # $0.18 at $1.2/1M
    sim.add_fault("patch", path="/contents/generations/tasks/", method="GET", count=None,
                  body={"usage": usage})  # fmt: skip
    # every poll waits until the three jobs are made: a first clip billed before the
    # third was sent (a loaded machine painting keyframes slowly) held the third back
    polls = sim.add_fault("delay", path="/contents/generations/tasks/", method="GET",
                          count=None, seconds=60.0)  # fmt: skip

    def release_once_three_are_made() -> None:
        t_end = time.monotonic() + 60
        while sim.stats()["totals"]["jobs_created"] < 3 and time.monotonic() < t_end:
            time.sleep(0.02)
        sim.release(polls)

    releaser = threading.Thread(target=release_once_three_are_made, daemon=True)
    releaser.start()
    # (the bills are the clips': the movie's compose, free, is not what is told of)
    args = ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "-q"]
    r = CliRunner().invoke(
        app, [*args, "--until", "clips"], env={"ARK_API_KEY": "b", "COLUMNS": "300"}
    )
    releaser.join()
    st = collect_status(tmp_path / "run")
    assert sim.stats()["totals"]["jobs_created"] == 3, r.output
    assert st["money"]["billed"] == pytest.approx(0.54), st["money"]  # the bills, past $0.40
    text = " ".join(r.output.split())
    assert text.count("was billed $0.18 by byteplus, more than the $0.10") == 3, r.output
    assert text.count("past its budget") == 1, r.output  # once
    assert "the run has now been billed $0.54, past its budget $0.40" in text, r.output


def test_yes_with_a_budget_below_the_estimate_says_so_before_spending(
    sim: SimServer, tmp_path: Path
) -> None:
    """`--yes --budget 0.20` on a $0.55 render went ahead without a word that the budget
    covers only part of it: the person learnt it when the render stopped at the cap.
    It is said under the estimate (with --quiet too), before anything is sent; a budget
    that covers the estimate says nothing of it."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"]
    r = CliRunner().invoke(app, [*args, "--budget", "0.20"], env={**env, "COLUMNS": "300"})
    assert r.exit_code == 3, r.output
    head = r.output.partition("Stopped cleanly")[0]
    assert "The budget $0.20 leaves $0.20 of the $0.55 this run would spend" in head, r.output
    r = CliRunner().invoke(app, [*args, "--budget", "5"], env={**env, "COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    assert "leaves" not in r.output, r.output


def test_a_budget_a_fraction_of_a_cent_under_the_estimate_is_told_in_figures_apart(
    sim: SimServer, tmp_path: Path
) -> None:
    """With the local planner and Veo one scene is estimated at $0.358714, and `--yes
    --budget 0.3587` was told in cents "The budget $0.36 leaves $0.36 of the $0.36 this
    run would spend: it stops at the cap", a line that reads as if the budget covered
    it. Where cents show the two figures alike, they are given to a hundredth of a cent:
    what is left rounded down, what the run would spend rounded up. The render stops at
    the cap, as said; its stop line, "budget left $0.3200 ... up to $0.3200" to the
    hundredth of a cent already, shows those two apart the same way."""
    sim.media_scale = 0.25
    goals = _one_scene_goals(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "preset: google\nplanner: {provider: local}\noutput: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        f"providers:\n  google: {{base_url: '{sim.base_url}', poll_interval: 0.05}}\n"
    )
    est = CliRunner().invoke(app, ["estimate", str(goals), "-c", str(cfg), "--json"], env={})
    total = json.loads(est.output)["total"]
    budget = int(total * 1e4) / 1e4  # under the total by less than a hundredth of a cent
    assert f"{budget:.2f}" == f"{total:.2f}" and budget < total, (budget, total)
    r = CliRunner().invoke(
        app,
        ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes", "-q",
         "--budget", f"{budget}"],
        env={"GOOGLE_API_KEY": "g", "COLUMNS": "300"},
    )  # fmt: skip
    assert r.exit_code == 3, r.output
    text = " ".join(r.output.split())
    up = math.ceil(total * 1e4) / 1e4
    said = f"The budget ${budget:.4f} leaves ${budget:.4f} of the ${up:.4f} this run would spend"
    assert said in text, text
    # and the stop line: "budget left $0.3200, about $0.3200 still to do (the cap counts
    # up to $0.3200 ...)", of $0.3199847 left for a clip held at $0.32
    found = re.search(r"budget left \$([\d.]+), .*?the cap counts up to \$([\d.]+)", text)
    assert found is not None and float(found[1]) < float(found[2]), text


def test_a_budget_of_just_the_estimate_is_told_before_spending_that_it_may_stop(
    sim: SimServer, tmp_path: Path
) -> None:
    """The cap counts each clip at one frame more than its estimate (`video_hold`):
    `--yes --budget` at exactly `estimate`'s total stopped before the last clip, exit 3,
    with no word before it, and the stop line read "budget left $0.10, about $0.10
    still to do", as if the clip fitted. It is said under the estimate, with a budget
    that finishes; the stop line gives the figures to a hundredth of a cent and the
    hold. The budget said finishes a render, with no such warning."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + "planner: {provider: local}\n")  # billed as estimated
    est = CliRunner().invoke(app, ["estimate", str(goals), "-c", str(cfg), "--json"], env={})
    total = json.loads(est.output)["total"]
    args = ["render", str(goals), "-c", str(cfg), "--yes", "-q"]
    env = {**env, "COLUMNS": "300"}
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a"), "--budget", f"{total}"],
                           env=env)  # fmt: skip
    assert r.exit_code == 3, r.output
    head, _, stop = " ".join(r.output.split()).partition("error:")
    assert f"The budget ${total:.4f} leaves ${total:.4f} for the ${total:.4f}" in head, head
    assert "may stop at the cap before that call" in head, head
    enough = head.split("a --budget of ", 1)[1].split(" ", 1)[0]
    assert "still to do (the cap counts up to $0.1" in stop and ".10 still" not in stop, stop
    r = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b"), "--budget", enough],
                           env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "may stop" not in r.output and "leaves" not in r.output, r.output


async def test_a_budget_stop_under_until_keyframes_quotes_only_the_keyframes_left(
    sim: SimServer, tmp_path: Path
) -> None:
    """`render --until keyframes --budget` stopped at the cap said "about $0.37 still to
    do" of a render with $0.06 of keyframes left: the whole movie's clips, which that
    render never buys. It quotes what the render it stopped had left."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    s = settings_for("byteplus", sim, planner={"provider": "local"})
    per_image = costs.keyframe_hold(s, 0)
    run = tmp_path / "run"
    with pytest.raises(BudgetStopped) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS, budget=1.5 * per_image).run(until="keyframes")
    msg = " ".join(str(ei.value).split())
    said = float(msg.split(" still to do")[0].rsplit("about $", 1)[1])
    left = estimate_for(goals, s, out=run)
    assert said == pytest.approx(left.upto("keyframes").total, abs=0.01), msg
    assert said < left.total - 0.05, msg  # not the clips too


def test_a_budget_under_the_plan_s_hold_is_told_the_plan_stops_it(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude's plan is held at its max_tokens (and a repair): a --budget above the
    estimate but under that hold stops the render at its first call, the plan. The
    warning said the cap counts "a Seedance clip one frame more, a Gemini image the
    input tokens it may count: up to $X by the last call", of a render whose keyframes
    and clips are free and that stops before anything is made. It names the plan."""
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    cfg.write_text(cfg.read_text() + "keyframes: {provider: local}\nvideo: {provider: local}\n")
    est = CliRunner().invoke(app, ["estimate", str(goals), "-c", str(cfg), "--json"], env={})
    total = json.loads(est.output)["total"]
    args = ["render", str(goals), "-c", str(cfg), "--yes", "-q", "--out", str(tmp_path / "a")]
    r = CliRunner().invoke(app, [*args, "--budget", f"{total + 0.001:.4f}"],
                           env={**env, "COLUMNS": "300"})  # fmt: skip
    assert r.exit_code == 3, r.output
    head, _, stop = " ".join(r.output.split()).partition("error:")
    assert "the next call (the plan)" in stop, stop
    assert "Seedance" not in head and "last call" not in head, head
    assert "counts the plan at the most it may bill" in head, head
    enough = head.split("a --budget of ", 1)[1].split(" ", 1)[0]
    r = CliRunner().invoke(app, [*args, "--budget", enough, "--out", str(tmp_path / "b")], env=env)
    assert r.exit_code == 0, r.output


def test_status_text_shows_estimated_and_billed_per_scene(sim: SimServer, tmp_path: Path) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "--yes", "-q"]
    r = CliRunner().invoke(app, [*args, "--until", "keyframes"], env=env)
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["status", str(run)], env={"COLUMNS": "220"})
    assert r.exit_code == 0, r.output
    st = collect_status(run)
    lines = r.output.splitlines()
    header = next(line for line in lines if "est." in line and "billed" in line)
    assert "in flight" not in header  # only shown while something is in flight
    for scene in st["scenes"]:
        (line,) = [ln for ln in lines if scene["scene_id"] in ln]
        # a keyframe each: the default Seedream at $0.03, estimated and billed
        assert line.count("$0.03") == 2, line
    (plan_line,) = [ln for ln in lines if "(planner)" in ln]
    assert plan_line.count("$") >= 2
    assert f"billed ${st['money']['billed']:.2f}" in " ".join(r.output.split())


def test_a_person_at_a_terminal_is_asked_and_yes_skips_the_question(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At a terminal the estimate is shown and the person is asked (default no); --yes
    accepts without asking; a script is refused unless it set a budget. Under a budget
    smaller than the estimate the question still says the whole estimate (lessons.md:
    a "budget" that only clamped the displayed estimate, `min(total, budget)`; the gate
    holds the cap, `test_budget_for_four_of_ten_scenes_bills_exactly_four`)."""
    import sys

    from mindmovie import cli
    from mindmovie.costs import CallEstimate, RunEstimate

    asked: list[str] = []

    def confirm(text: str, default: bool = False) -> bool:
        asked.append(text)
        assert default is False  # Enter alone never spends
        return answer

    monkeypatch.setattr(cli.typer, "confirm", confirm)
    est = RunEstimate(CallEstimate("planner", "anthropic", "m", 1.23, "by hand"), [])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    answer = False
    assert cli._confirmer(False, None, True)(est) is False
    answer = True
    assert cli._confirmer(False, 5.0, True)(est) is True
    assert cli._confirmer(False, 0.5, True)(est) is True
    assert asked == [
        "Spend about $1.23?",
        "Spend about $1.23 (budget $5.00)?",
        "Spend about $1.23 (budget $0.50)?",  # the estimate, not the budget in its place
    ]
    assert cli._confirmer(True, None, True)(est) is True and len(asked) == 3  # --yes
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    assert cli._confirmer(False, 5.0, True)(est) is True and len(asked) == 3  # capped script
    with pytest.raises(Declined, match="--yes"):
        cli._confirmer(False, None, True)(est)


def test_ctrl_c_at_the_question_is_an_interrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prompt turns Ctrl-C into click's Abort, which escaped the render as "Aborted!"
    with exit 1; it is the interrupt (exit 130), and nothing was spent."""
    import sys

    from mindmovie import cli
    from mindmovie.costs import CallEstimate, RunEstimate

    def ctrl_c(text: str, default: bool = False) -> bool:
        raise cli.typer.Abort()

    monkeypatch.setattr(cli.typer, "confirm", ctrl_c)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    est = RunEstimate(CallEstimate("planner", "anthropic", "m", 1.23, "by hand"), [])
    with pytest.raises(Interrupted, match="nothing was spent"):
        cli._confirmer(False, None, True)(est)


async def test_a_photo_replaced_under_its_name_does_not_pay_for_a_new_plan(
    sim: SimServer, byteplus_rendered: Rendered
) -> None:
    """No planner sees a photo's bytes (Claude is told only that a goal has photos), so a
    photo swapped for a better one keeps the paid plan and its prompts: only the
    keyframes made from that photo (and their clips) are paid for again."""
    from tests.media import write_photo

    home, goals, settings, run = byteplus_rendered
    plan_before = (run / "plan.yaml").read_text()
    write_photo(home / "photos" / "portrait.jpg", (10, 200, 30))
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert res.movie is not None
    store = Store(run / "run.db")
    rows = store.ledger_rows()
    store.close()
    assert len([r for r in rows if r["stage"] == "plan"]) == 1
    assert (run / "plan.yaml").read_text() == plan_before
    assert not (run / "plan.previous.yaml").exists()
    # the keyframes made from the photo were made again (their keys hold its bytes)
    assert len([r for r in rows if r["stage"] == "keyframe"]) > 4


@pytest.mark.parametrize("legacy", [1, 2])
async def test_a_run_keyed_the_old_way_keeps_its_paid_plan(
    sim: SimServer, byteplus_rendered: Rendered, legacy: int
) -> None:
    """Runs made before the plan key followed paths rather than bytes (2), or before it
    left out the title, closing and music (1), recorded an older key: it is still
    accepted (and rewritten), so no one pays for their plan again; and the basis is
    recorded, so a title changed afterwards is carried into the kept plan."""
    import sqlite3

    _, goals, settings, run = byteplus_rendered
    pipe = Pipeline(goals, settings, out=run, keys=KEYS)
    planner = ("anthropic", costs.stage_spec(settings, "planner").id)  # type: ignore[union-attr]
    new_key, old_key = pipe._plan_key(planner), pipe._plan_key(planner, legacy=legacy)
    assert new_key != old_key
    con = sqlite3.connect(run / "run.db")
    with con:
        n = con.execute(
            "UPDATE steps SET input_key=?, detail=NULL "
            "WHERE scene_id='_run' AND stage='plan' AND input_key=?",
            (old_key, new_key),
        ).rowcount
    con.close()
    assert n == 1
    await pipe.run()
    store = Store(run / "run.db")
    rows = store.ledger_rows()
    step = store.get("_run", "plan")
    store.close()
    assert len([r for r in rows if r["stage"] == "plan"]) == 1
    assert step is not None and step.input_key == new_key
    goals.write_text(goals.read_text().replace("title: Sim Movie", "title: Sim Movie Two"))
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert yaml.safe_load((run / "plan.yaml").read_text())["title"] == "Sim Movie Two"
    # the first render's one plan (the ledger's row above) was counted before the
    # simulator was reset (`once`): no plan bought since
    assert sim.stats()["totals"]["messages"] == 0


async def test_a_new_title_closing_or_song_keeps_the_paid_plan_and_every_scene(
    sim: SimServer, byteplus_rendered: Rendered
) -> None:
    """The title, the closing and the music are shown, not planned. Changing one made a
    new plan: with Claude, new prompts for every scene, so every keyframe and clip paid
    for again. Now plan.yaml takes the new value and keeps its scenes and hand edits."""
    from mindmovie.media import run_ffmpeg

    home, goals, settings, run = byteplus_rendered
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][0]["affirmation"] = "I am strong, rested and calm"  # a hand edit
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    paid = {k: sim.stats()["totals"][k] for k in ("messages", "images", "jobs_created")}

    song = home / "song.wav"
    # 1000 Hz: no note of the built-in bed's equal-tempered chords (a movie has sound anyway)
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=1000:duration=2", str(song)])
    text = goals.read_text().replace("title: Sim Movie", "title: My Brave Year")
    goals.write_text(text + "closing: Thank you for all of it\nmusic: song.wav\n")
    reporter = _Lines()
    res = await Pipeline(goals, settings, out=run, keys=KEYS, reporter=reporter).run()
    assert {k: sim.stats()["totals"][k] for k in paid} == paid  # no plan, image or job
    now = yaml.safe_load(plan_path.read_text())
    assert now["title"] == "My Brave Year" and now["closing"] == "Thank you for all of it"
    assert now["music"] == str(song)
    assert now["scenes"] == plan["scenes"]  # the hand edit kept, every prompt the same
    assert not (run / "plan.previous.yaml").exists()
    assert any("takes goals.yaml's new closing and music and title" in m for m in reporter.lines)
    assert res.movie is not None and probe(res.movie).audio is not None
    peak = spectral_peaks(pcm(res.movie)[0], 1)  # the movie plays the new song
    assert peak == [pytest.approx(1000, abs=3)], peak
    assert {sid for sid, stage in res.ran if stage in ("keyframe", "clip")} == set()

    # plan.yaml's own title (a hand edit) then stands while goals.yaml's stays the same
    now["title"] = "Brave"
    plan_path.write_text(yaml.safe_dump(now, sort_keys=False, allow_unicode=True))
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert yaml.safe_load(plan_path.read_text())["title"] == "Brave"


class _Lines:
    """A reporter that keeps its info and warning lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name in ("info", "warn"):
            return self.lines.append
        return lambda *a, **k: None


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connecting is refused


@pytest.mark.parametrize("stage", ["planner", "video"])
async def test_a_provider_that_cannot_be_reached_is_owed_nothing(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    """A call whose connection was never made (refused, no network) cannot have been
    billed: its ledger rows are refunded, not left 'committed' (money counted as in
    flight, reported as possibly billed on every later run). Real SDKs, a closed port."""
    no_retry_waits(monkeypatch)
    goals = goals_file(tmp_path, sim)
    dead = f"http://127.0.0.1:{_closed_port()}"
    if stage == "planner":
        extra: dict[str, Any] = {"providers": {"anthropic": {"base_url": dead}}}
    else:
        extra = {
            "planner": {"provider": "local"},
            "keyframes": {"provider": "local"},
            "providers": {"byteplus": {"base_url": dead + "/api/v3", "poll_interval": 0.05}},
        }
    run = tmp_path / "run"
    with pytest.raises((ProviderError, RenderFailed)) as e:
        await Pipeline(goals, settings_for("byteplus", sim, **extra), out=run, keys=KEYS).run()
    assert "connection failed" in str(e.value)
    store = Store(run / "run.db")
    rows = store.ledger_rows()
    billed, committed = store.ledger_totals()
    store.close()
    paid = [r for r in rows if r["stage"] == ("plan" if stage == "planner" else "clip")]
    assert paid and all(r["state"] == "refunded" for r in paid), paid
    assert all("could not connect" in json.dumps(r.get("usage")) for r in paid), paid
    assert committed == 0 and billed == 0


def _keyframe_rows(run: Path) -> list[dict[str, Any]]:
    store = Store(run / "run.db")
    try:
        return [r for r in store.ledger_rows() if r["stage"] == "keyframe"]
    finally:
        store.close()


async def test_a_seedream_image_whose_download_fails_is_not_paid_for_twice(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With response_format url the image is made (and billed) when the answer comes;
    a failed download of its URL used to be settled as "not accepted" (refunded) and the
    whole request sent again: two images billed, one recorded. Now the same URL is
    downloaded again, and a URL that stays gone is billed, not refunded. A download
    that answers 500 through every retry on its URL is a passing error: raised as one,
    the keyframe's own retry sent the request again and paid for another image (16
    images for 4 scenes); each image is requested once, billed, its URL kept."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    url_images: dict[str, Any] = {
        "keyframes": {"options": {"response_format": "url"}},
        "video": {"provider": "local"},
    }
    # one download answers 500: retried on the same URL, no second image
    sim.add_fault("http", path="/_sim/files/", method="GET", status=500, count=1)
    # (the keyframes are the subject: each render stops after them)
    res = await Pipeline(
        goals, settings_for("byteplus", sim, **url_images), out=tmp_path / "run", keys=KEYS
    ).run(until="keyframes")
    rows = _keyframe_rows(res.run_dir)
    assert sim.stats()["totals"]["images"] == 4
    assert len(rows) == 4 and all(r["state"] == "billed" for r in rows), rows

    for status, run in ((404, tmp_path / "run2"), (500, tmp_path / "run3")):
        # a URL gone for good (404), or failing through every retry on it (500): the
        # scene fails, and its paid image is billed, requested once
        sim.reset()
        claude_answer_for(sim, goals)
        sim.add_fault("http", path="/_sim/files/", method="GET", status=status, count=None)
        with pytest.raises((ProviderError, RenderFailed)):
            await Pipeline(
                goals, settings_for("byteplus", sim, **url_images), out=run, keys=KEYS
            ).run(until="keyframes")
        rows = _keyframe_rows(run)
        made = sim.stats()["totals"]["images"]
        assert made >= 1 and len(rows) == made, (status, rows)
        assert len({r["scene_id"] for r in rows}) == made, (status, rows)  # once a scene
        assert all(r["state"] == "billed" for r in rows), (status, rows)
        assert sum(r["billed_usd"] for r in rows) == pytest.approx(made * 0.03), status


async def test_a_failed_clip_whose_job_is_journaled_is_not_counted_as_a_clip_to_buy(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip whose download failed keeps its paid job in the journal: the next render
    polls that job again and downloads it, paying nothing, and `status` says so ("re-poll
    job ..."). `estimate`, and the cost asked about before render's first paid call,
    counted each such scene as a new clip to buy."""
    from mindmovie.pipeline import estimate_for

    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    s = seedance_only(sim)
    run = tmp_path / "run"
    # every clip's result URL answers 403 (also after a fresh poll), not known to be
    # expired (a clock difference?): each scene fails with its job made, billed and
    # journaled. (A 404, gone for good, lets go of the job: see
    # test_pipeline_faults.py::test_a_clip_whose_result_is_gone_is_bought_again_only_with_consent)
    sim.add_fault("http", path="/_sim/files/", method="GET", status=403, count=None)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    made = sim.stats()["totals"]["jobs_created"]
    assert made == 4
    st = collect_status(run, settings=s, goals=goals)
    failed = [r for r in st["scenes"] if r.get("clip") == "failed"]
    assert len(failed) == 4 and all(r["next"].startswith("re-poll job") for r in failed), failed

    est = estimate_for(goals, s, out=run)
    assert [sc.video.usd for sc in est.scenes] == [0, 0, 0, 0]
    assert est.total == 0 and not est.paid

    sim.clear_faults()
    asked = await _render_asking(goals, s, run)
    assert asked == []  # nothing left to buy: nothing to ask about
    assert sim.stats()["totals"]["jobs_created"] == made  # and indeed none was bought


def _clips_only(preset: str, sim: SimServer) -> Any:
    """`preset` with a local plan and local keyframes: only clips are paid."""
    return settings_for(preset, sim, planner={"provider": "local"}, keyframes={"provider": "local"})


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_a_deleted_clip_is_downloaded_from_its_job_as_status_and_estimate_say(
    sim: SimServer, clips_only_rendered: Rendered, preset: str
) -> None:
    """A finished clip.mp4 deleted (or replaced) within a day of its bill: the render
    polls its job and downloads it again, paying nothing. `status` said "redo: clip.mp4
    missing" and `estimate` (and the spend question) counted a new clip, $0.10 with
    Seedance, $0.32 with Veo, for a render that then bought none."""
    _, goals, s, run = clips_only_rendered
    made = sim.stats()["totals"]["jobs_created"]
    st = collect_status(run, settings=s, goals=goals)
    gone = st["scenes"][1]
    (run / "scenes" / gone["scene_id"] / "clip.mp4").unlink()

    st = collect_status(run, settings=s, goals=goals)
    row = next(r for r in st["scenes"] if r["scene_id"] == gone["scene_id"])
    assert row["next"] == (
        f"download job {gone['remote_id']}'s clip again (clip.mp4 missing; paid, no new job)"
    )
    assert row["reuse"]["clip"]
    est = estimate_for(goals, s, out=run)
    assert [sc.video.usd for sc in est.scenes] == [0, 0, 0, 0] and est.total == 0

    rows = len(collect_status(run)["ledger"])
    asked = await _render_asking(goals, s, run)
    assert asked == [] and sim.stats()["totals"]["jobs_created"] == made
    assert len(collect_status(run)["ledger"]) == rows  # nothing bought, nothing billed
    assert probe(run / "scenes" / gone["scene_id"] / "clip.mp4").duration > 0


async def test_a_deleted_clip_whose_job_the_provider_forgot_is_bought_next_render_with_consent(
    sim: SimServer, seedance_rendered: Rendered
) -> None:
    """The clip counted as downloaded again (at no cost) whose job the provider no longer
    knows is not bought in that render, past the spend agreed to: its job is let go of,
    and the next render's estimate counts the clip, which that render buys."""
    _, goals, s, run = seedance_rendered
    made = sim.stats()["totals"]["jobs_created"]
    gone = collect_status(run)["scenes"][1]
    (run / "scenes" / gone["scene_id"] / "clip.mp4").unlink()
    sim.forget(gone["remote_id"])

    with pytest.raises(RenderFailed, match="can no longer be picked up"):
        await _render_asking(goals, s, run)
    assert sim.stats()["totals"]["jobs_created"] == made
    row = collect_status(run, settings=s, goals=goals)["scenes"][1]
    assert row["next"].startswith("buy the clip again (about $0.10)"), row
    est = estimate_for(goals, s, out=run)
    assert [sc.video.usd > 0 for sc in est.scenes] == [False, True, False, False]
    assert await _render_asking(goals, s, run) == [pytest.approx(est.total)]
    assert sim.stats()["totals"]["jobs_created"] == made + 1


@pytest.mark.parametrize("column", ["updated_at", "created_at"])
async def test_a_deleted_clip_billed_over_a_day_ago_is_counted_as_bought_again(
    sim: SimServer, seedance_rendered: Rendered, column: str
) -> None:
    """Past the day a provider keeps a result (RESULT_URL_SECONDS), a clip whose file is
    gone is counted as a clip to buy, as before: status and the estimate agree. The day
    runs from when the job was asked for (`created_at`), not only from its bill: a job
    that finished before a resume billed it hours later had its result's day counted
    from the bill, so its clip was estimated free after the provider had let it go (the
    render then failed the scene)."""
    import sqlite3

    _, goals, s, run = seedance_rendered
    gone = collect_status(run)["scenes"][1]
    (run / "scenes" / gone["scene_id"] / "clip.mp4").unlink()
    con = sqlite3.connect(run / "run.db")
    with con:
        con.execute(f"UPDATE ledger SET {column} = {column} - 25 * 3600")
    con.close()
    row = collect_status(run, settings=s, goals=goals)["scenes"][1]
    assert row["next"] == "redo: clip.mp4 missing" and not row["reuse"]["clip"], row
    est = estimate_for(goals, s, out=run)
    assert [sc.video.usd > 0 for sc in est.scenes] == [False, True, False, False]


@pytest.mark.parametrize("how", ["copied", "deleted", "undone"])
async def test_a_clip_a_painted_again_keyframe_may_reuse_is_said_so_not_only_bought(
    sim: SimServer, seedance_rendered: Rendered, how: str
) -> None:
    """Local keyframes, paid clips. A scene made a copy of another in plan.yaml (its
    keyframe painted as the other's), whose keyframe.png was deleted, or whose image
    prompt was edited (a keyframe and clip made for it) and the edit undone: its keyframe
    is painted again, free, and the clip made from that very image is reused (the
    other's, its own, the one kept from before the edit), paying nothing. The estimate
    priced the clip as a new one ($0.10), with no word of it. Whether the painting
    comes out as before only the painting tells, so the clip stays counted, the most it
    costs, and is said to be maybe reused."""
    _, goals, s, run = seedance_rendered
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    scenes = plan["scenes"]
    if how == "copied":
        scenes[2].update({k: scenes[1][k] for k in ("image_prompt", "motion_prompt", "seconds")})
        (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
        sid = scenes[2]["id"]
    elif how == "deleted":
        sid = scenes[3]["id"]
        (run / "scenes" / sid / "keyframe.png").unlink()
    else:
        original, sid = edit_scene_2(run, image_prompt=", at dawn")
        await Pipeline(goals, s, out=run, keys=KEYS).run()
        (run / "plan.yaml").write_text(original)
    est = estimate_for(goals, s, out=run)
    (counted,) = [sc for sc in est.scenes if sc.video.usd > 0]
    assert counted.scene_id == sid
    why = counted.video.inputs.get("maybe") or ""
    assert "a clip made before from this keyframe is reused" in why, counted.video.formula
    (note,) = [n for n in est.notes if n.startswith(sid)]
    assert "may not be bought" in note, est.notes
    made = sim.stats()["totals"]["jobs_created"]
    assert await _render_asking(goals, s, run) == [pytest.approx(est.total)]
    assert sim.stats()["totals"]["jobs_created"] == made  # reused, as the note said it may


async def _render_asking(goals: Path, s: Any, run: Path) -> list[float]:
    """Render to the end, recording the totals the spend question was asked about."""
    ask = asked = AgreeingAsked()

    res = await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    assert res.movie is not None
    return asked


def _set_usage(run: Path, row_id: int, usage: dict[str, Any]) -> None:
    """Rewrite one ledger row's usage, as time or a provider would have left it."""
    import sqlite3

    con = sqlite3.connect(run / "run.db")
    try:
        con.execute("UPDATE ledger SET usage=? WHERE id=?", (json.dumps(usage), row_id))
        con.commit()
    finally:
        con.close()


async def _a_keyframe_kept_at_its_url(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, dict[str, Any]]:
    """A one-goal render (`seedream_by_url`) whose Seedream image was made and billed
    but whose download kept failing (500): its URL is kept on its ledger row. (goals,
    settings, run folder, that row)."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path="/_sim/files/", method="GET", status=500, count=None)
    with pytest.raises((ProviderError, RenderFailed)):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (row,) = ledger_rows(run, "keyframe")
    return goals, s, run, row


async def test_a_kept_keyframe_url_turning_24_h_old_during_the_render_is_not_bought_unasked(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyframe kept at its result URL, within its validity when the render's estimate
    counted it as paid ($0, nothing asked), but past it by the time its scene got to it
    (a render's later scenes start minutes after its estimate): its URL failing (gone),
    a new image was bought at once, past the estimate agreed to. The render goes by
    the validity its estimate went by: the scene fails saying the next render buys a
    new one, which that render's estimate counts."""
    goals, s, run, row = await _a_keyframe_kept_at_its_url(sim, tmp_path, monkeypatch)
    usage = row["usage"]
    # its URL signed to an expiry now past, so the 404 below is it gone
    expired = f"{usage['result_url']}?Expires={int(time.time()) - 60}"
    estimate, refetch = Pipeline.estimate, Pipeline._refetch_kept
    valid_until: list[float] = []

    def with_1_s_left(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
        # 1 s left when the render's estimate counts it: set 1 s ahead before the render
        # started, that second was used up by a slow start, and the estimate counted a
        # new image (bought, not the render's promise tested)
        if not valid_until:
            assert self._estimated_at is not None
            valid_until.append(self._estimated_at + 1.0)
            valid_for = valid_until[0] - usage["result_at"]
            kept = {**usage, "result_valid_for": valid_for, "result_url": expired}
            _set_usage(run, row["id"], kept)
        return estimate(self, *args, **kwargs)

    async def later(self: Pipeline, *args: Any, **kwargs: Any) -> bool:
        # the scene's turn comes after the URL's validity
        await asyncio.sleep(max(0.0, valid_until[0] - time.time()) + 0.5)
        return await refetch(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "estimate", with_1_s_left)
    monkeypatch.setattr(Pipeline, "_refetch_kept", later)
    sim.clear_faults()
    sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=1)
    ask = asked = AgreeingAsked()

    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, s, out=run, keys=KEYS, confirm=ask).run()
    assert asked == [] and sim.stats()["totals"]["images"] == 1, asked  # nothing unasked
    assert "next render buys a new one" in str(e.value), e.value


async def test_the_estimate_says_a_keyframe_paid_for_and_not_yet_downloaded_is_paid(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyframe paid for whose download failed (its URL kept): the estimate's table
    said "done" of it, as of a picture in the run, though the render is still to
    download it. It says "paid" (costing nothing), and "done" once it is here."""
    from rich.console import Console

    goals, s, _, _ = await _a_keyframe_kept_at_its_url(sim, tmp_path, monkeypatch)

    def cells() -> tuple[str, str, dict[str, Any]]:
        est = estimate_for(goals, s, out=tmp_path / "run")
        (scene,) = est.scenes
        console = Console(width=120, record=True, color_system=None)
        console.print(costs.estimate_table(est))
        row = next(ln for ln in console.export_text().splitlines() if scene.scene_id in ln)
        return row, scene.keyframe.formula, scene.keyframe.as_dict()

    row, formula, call = cells()
    assert " paid " in row and "done" not in row, row
    assert call["usd"] == 0 and call["done"] and "downloads it" in formula, call
    sim.clear_faults()
    await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    assert sim.stats()["totals"]["images"] == 1
    row, formula, call = cells()
    assert " done " in row and "paid" not in row, row


def _one_goal(tmp_path: Path) -> Path:
    g = tmp_path / "one.yaml"
    g.write_text("title: One\ngoals:\n  - category: health\n    vision: Strong and rested\n")
    return g


async def _two_scenes_one_image_not_downloaded(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Any, Path, str]:
    """Two scenes asking the very same Seedream image (the second's prompt copied in
    plan.yaml), rendered to their keyframes while every image download fails (500): one
    image bought, its URL kept. (goals, settings, run folder, the render's error)."""
    from mindmovie.plan import load_plan, write_plan

    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: Two\ngoals:\n  - category: health\n    vision: I run\n    scenes: 2\n")
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    plan = load_plan(run / "plan.yaml")
    a, b = plan.scenes
    write_plan(
        plan.model_copy(
            update={"scenes": [a, b.model_copy(update={"image_prompt": a.image_prompt})]}
        ),
        run / "plan.yaml",
    )
    sim.add_fault("http", path="/_sim/files/", method="GET", status=500, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    return goals, s, run, str(ei.value)


async def test_a_copied_scene_takes_the_image_another_scene_bought_and_could_not_download(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scenes asking the very same image (one copied in plan.yaml): one buys it and
    the other waits for it. When its download failed, the other scene bought the very
    image again (its own kept URL was looked for, not the other's): one request paid
    twice. It now downloads from that URL too (failing, it buys nothing), and the next
    render gives both scenes the one image."""
    goals, s, run, msg = await _two_scenes_one_image_not_downloaded(sim, tmp_path, monkeypatch)
    assert "paid for (the very same image) still could not be downloaded" in msg, msg
    assert "nothing new was bought" in msg, msg
    assert sim.stats()["totals"]["images"] == 1
    # status and the estimate say the next render downloads it, for both scenes
    nxt = {r["scene_id"]: r["next"] for r in collect_status(run, settings=s)["scenes"]}
    assert all(n.startswith("download the keyframe paid for before") for n in nxt.values()), nxt
    est = estimate_for(goals, s, out=run)
    assert [x.keyframe.usd for x in est.scenes] == [0, 0], est.scenes
    sim.clear_faults()
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed
    assert sim.stats()["totals"]["images"] == 1  # one request, one image paid
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and "result_url" not in row["usage"], row
    pics = {p.parent.name: p.read_bytes() for p in run.glob("scenes/*/keyframe.png")}
    assert len(pics) == 2 and len(set(pics.values())) == 1


async def test_a_shared_image_found_gone_at_its_url_is_not_bought_unasked_by_the_other_scene(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image two scenes share, kept at its URL, which the estimate counts as paid
    for both: the first scene's download finds it gone (404 on a URL with no expiry),
    and the other scene bought a new one at once, past the estimate agreed to. It fails
    too, saying the next render buys it, which buys one image for both, asked."""
    goals, s, run, _ = await _two_scenes_one_image_not_downloaded(sim, tmp_path, monkeypatch)
    assert sim.stats()["totals"]["images"] == 1
    sim.clear_faults()
    sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=None)
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    msg = " ".join(str(ei.value).split())
    assert "2 scene(s) failed" in msg and msg.count("The next render buys a new one") == 2, msg
    assert "a new one once for both scenes" in msg, msg
    assert sim.stats()["totals"]["images"] == 1  # nothing bought unasked
    sim.clear_faults()
    # status: the scene that bought it buys a new one, the copy takes that one
    rows = collect_status(run, settings=s)["scenes"]
    (copy,) = [r for r in rows if (r.get("same_as") or {}).get("keyframe")]
    by = copy["same_as"]["keyframe"]
    assert copy["next"].startswith(f"take the keyframe {by} buys (the very same image"), copy
    (buyer,) = [r for r in rows if r is not copy]
    assert buyer["next"].startswith("buy a new keyframe (the one paid for before is gone"), buyer
    est = estimate_for(goals, s, out=run).upto("keyframes")
    assert est.total == pytest.approx(costs.estimate_keyframe(s).usd), est  # one, shared
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and sim.stats()["totals"]["images"] == 2


@pytest.mark.parametrize("resume", ["downloaded", "gone", "not found"])
async def test_a_seedream_image_whose_url_fails_for_good_is_downloaded_next_render(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resume: str
) -> None:
    """An image billed whose result URL still failed after the retries used to be lost:
    the next render bought a new one. Its URL is now kept on its billed ledger row, and
    the next render downloads it from there (a URL that still fails for a passing reason
    fails the scene again, buying nothing). A URL that now answers 404 past the expiry
    it carries (gone) within its 24 h was counted as paid by that render's estimate: the
    scene fails saying the next render buys a new image, and that render's spend
    question counts it (before, it was bought at once, past the estimate the person
    agreed to). A 404 on a URL within its own expiry and its 24 h is not the image gone
    by itself (a storage delay, a proxy's): nothing is bought, the URL stays kept, and
    the next render downloads it (before, a second image was bought)."""
    goals, s, run, row = await _a_keyframe_kept_at_its_url(sim, tmp_path, monkeypatch)
    assert sim.stats()["totals"]["images"] == 1
    assert row["state"] == "billed" and row["usage"]["result_url"].endswith(".png"), row
    assert "answered" not in row["usage"], row  # (the note the bill replaced: billed once)
    if resume == "downloaded":
        # the URL still failing for a passing reason (and not yet 24 h old): the scene
        # fails again, nothing is bought, the URL stays kept
        with pytest.raises((ProviderError, RenderFailed)) as e:
            await Pipeline(goals, s, out=run, keys=KEYS).run()
        assert "nothing new was bought" in str(e.value)
        assert sim.stats()["totals"]["images"] == 1

    sim.clear_faults()
    if resume == "not found":
        # signed, as Ark's URLs are, its own expiry ahead: an unsigned URL's 404 is the
        # image gone (test_a_kept_keyframe_url_unsigned_and_not_found_is_gone)
        signed = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        query = f"?X-Tos-Date={signed}&X-Tos-Expires=86400&X-Tos-Signature=x"
        usage = {**row["usage"], "result_url": row["usage"]["result_url"] + query}
        _set_usage(run, row["id"], usage)
        row = {**row, "usage": usage}
        sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=1)
        with pytest.raises(RenderFailed) as e:
            await Pipeline(goals, s, out=run, keys=KEYS).run()
        msg = str(e.value)
        assert "HTTP 404" in msg and "should be there for 24 h" in msg, msg
        assert "nothing new was bought" in msg and "buys a new one" not in msg, msg
        assert sim.stats()["totals"]["images"] == 1
        (kept,) = ledger_rows(run, "keyframe")
        assert kept["usage"]["result_url"] == row["usage"]["result_url"], kept
    if resume == "gone":
        usage = row["usage"]
        expired = f"{usage['result_url']}?Expires={int(time.time()) - 60}"
        _set_usage(run, row["id"], {**usage, "result_url": expired})
        sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=1)
        with pytest.raises(RenderFailed) as e:
            await Pipeline(goals, s, out=run, keys=KEYS).run()
        msg = str(e.value)
        assert "the keyframe paid for in an earlier run is gone at byteplus" in msg, msg
        assert "HTTP 404" in msg and "next render buys a new one (about $" in msg, msg
        assert "retries" not in msg, msg
        assert sim.stats()["totals"]["images"] == 1  # nothing bought past the estimate
        (scene,) = collect_status(run)["scenes"]
        assert scene["next"].startswith("buy a new keyframe"), scene["next"]

    asked = await _render_asking(goals, s, run)
    rows = ledger_rows(run, "keyframe")
    assert all(r["state"] == "billed" and "result_url" not in r["usage"] for r in rows), rows
    if resume != "gone":
        assert sim.stats()["totals"]["images"] == 1  # exactly one image paid for
        assert len(rows) == 1
    else:
        assert asked and asked[0] > 0  # the new image is in the spend question
        assert sim.stats()["totals"]["images"] == 2  # the first one's URL was gone
        assert len(rows) == 2


async def test_a_kept_keyframe_url_unsigned_and_not_found_is_gone(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A keyframe kept at its result URL (its download failed), that URL not signed
    (no expiry of its own) and now answering 404: the scene failed "render again later:
    the URL is valid for about 24 h more" at every render for a day. Gone at once: the
    URL is dropped, the message says the image was billed and the next render buys a
    new one, which that render's spend question counts."""
    goals, s, run, row = await _a_keyframe_kept_at_its_url(sim, tmp_path, monkeypatch)
    assert "?" not in row["usage"]["result_url"], row  # the sim's URLs are unsigned
    sim.clear_faults()
    sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=1)
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(e.value)
    assert "the keyframe paid for in an earlier run is gone at byteplus" in msg, msg
    assert "carries no expiry" in msg and "next render buys a new one (about $" in msg, msg
    assert "valid for about" not in msg and sim.stats()["totals"]["images"] == 1, msg
    (kept,) = ledger_rows(run, "keyframe")
    assert kept["state"] == "billed" and "result_url" not in kept["usage"], kept
    asked = await _render_asking(goals, s, run)
    assert asked and asked[0] > 0 and sim.stats()["totals"]["images"] == 2


async def test_a_seedream_image_gone_before_its_first_download_says_it_was_billed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image made (and billed) whose result URL answers 404, on a URL past the expiry
    it carries: the scene failed with "image download: HTTP 404 (the result URL expired
    or is gone)" under "`render` again retries them", not saying it was paid for nor
    what the next render does. It says so now; the next render buys a new image,
    counted in its spend question."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    sim.image_url_query = f"Expires={int(time.time()) - 60}"
    sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=None)
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(e.value)
    assert "the image made for this scene is gone at byteplus" in msg, msg
    assert "it was billed. The next render buys a new one (about $" in msg, msg
    assert "retries" not in msg, msg
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and sim.stats()["totals"]["images"] == 1
    sim.clear_faults()
    asked = await _render_asking(goals, s, run)
    assert asked and asked[0] > 0 and sim.stats()["totals"]["images"] == 2


async def test_a_seedream_image_not_found_at_an_unsigned_url_is_gone_at_once(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 404 on a result URL that carries no expiry of its own (not signed, as real Ark
    URLs are): it was taken for a storage delay within the 24 h Ark gives its URLs, the
    URL kept, and every render for 24 h failed the scene on it again. Nothing says that
    URL will ever serve the image: it fails at once, saying the image was billed and
    that the next render buys a new one (counted in its spend question)."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    sim.image_url_query = ""  # unsigned
    sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=None)
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(e.value)
    assert "the image made for this scene is gone at byteplus" in msg, msg
    assert "HTTP 404" in msg and "carries no expiry" in msg, msg
    assert "it was billed. The next render buys a new one (about $" in msg, msg
    assert "should be there for 24 h" not in msg and "retries" not in msg, msg
    assert len(sim.requests(path="/_sim/files/", method="GET")) == 1  # not tried again
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and "result_url" not in row["usage"], row
    assert sim.stats()["totals"]["images"] == 1
    sim.clear_faults()
    asked = await _render_asking(goals, s, run)
    assert asked and asked[0] > 0 and sim.stats()["totals"]["images"] == 2


async def test_a_seedream_image_not_found_at_its_first_download_is_kept_at_its_url(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image made this moment whose signed result URL (valid 24 h, its own expiry
    ahead) answers 404: far likelier the storage not having it everywhere yet, or a
    proxy's, than the image gone. It was taken for gone and the next render bought a
    second image; its URL is kept now, and the next render downloads the one paid for."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    signed = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    sim.image_url_query = f"X-Tos-Date={signed}&X-Tos-Expires=86400&X-Tos-Signature=x"
    sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=None)
    with pytest.raises(RenderFailed) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    msg = str(e.value)
    assert "not found at its result URL" in msg and "should be there for 24 h" in msg, msg
    assert "buys a new one" not in msg, msg
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and "X-Tos-Expires" in row["usage"]["result_url"], row
    sim.clear_faults()
    asked = await _render_asking(goals, s, run)
    assert asked == [] and sim.stats()["totals"]["images"] == 1  # the one paid for
    (row,) = ledger_rows(run, "keyframe")
    assert "result_url" not in row["usage"], row


async def test_a_seedream_image_refused_403_at_its_first_download_is_kept_at_its_url(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image made (and billed) whose result URL answers 403, not past the expiry it
    carries (a clock difference, a proxy's: `_status_error` says so, "nothing is bought
    again for it"): its URL was dropped, the scene failed naming only the 403, and the
    next render bought a second image. The URL is kept on its billed row now, as for a
    download failing for any passing reason: the next render downloads it from there."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path="/_sim/files/", method="GET", status=403, count=1)
    with pytest.raises((ProviderError, RenderFailed)):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and sim.stats()["totals"]["images"] == 1
    assert row["usage"]["result_url"].endswith(".png"), row
    asked = await _render_asking(goals, s, run)
    assert asked == []  # nothing to buy: the image is paid for
    assert sim.stats()["totals"]["images"] == 1  # downloaded, not bought again


class _Killed(BaseException):
    """A process killed at this point (SIGKILL: no cleanup, nothing more written)."""


async def test_a_seedream_image_billed_then_killed_keeps_its_url(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An image made and billed whose download failed: its row was billed in one
    transaction and its result URL kept on it in the next. Killed between the two, the
    URL was lost and the next render bought a second image. Both are one write now."""
    from contextlib import contextmanager

    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path="/_sim/files/", method="GET", status=500, count=None)
    armed = [False]
    bill, tx = Store.ledger_bill, Store._tx

    def billed(self: Store, *args: Any, **kwargs: Any) -> None:
        bill(self, *args, **kwargs)
        armed[0] = True  # the next write is never made: the process dies here

    @contextmanager
    def killed_after_the_bill(self: Store) -> Any:
        if armed[0]:
            raise _Killed
        with tx(self) as db:
            yield db

    with monkeypatch.context() as m:
        m.setattr(Store, "ledger_bill", billed)
        m.setattr(Store, "_tx", killed_after_the_bill)
        with pytest.raises(_Killed):
            await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert armed[0] and sim.stats()["totals"]["images"] == 1
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed" and row["usage"]["result_url"].endswith(".png"), row
    sim.clear_faults()
    asked = await _render_asking(goals, s, run)
    assert asked == [] and sim.stats()["totals"]["images"] == 1  # downloaded, not bought


async def test_an_empty_seedream_download_is_fetched_again_not_bought_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result URL that answered 200 with no body: the empty image was a Transient
    of the whole paid call, so the request was sent again and a second image billed.
    It is a failed download of the same URL now, tried again there."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    s = seedream_by_url(sim)
    sim.add_fault("empty", path="/_sim/files/", method="GET", count=1)
    res = await Pipeline(_one_goal(tmp_path), s, out=tmp_path / "run", keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["images"] == 1
    rows = ledger_rows(res.run_dir, "keyframe")
    assert len(rows) == 1 and rows[0]["state"] == "billed", rows


async def test_estimate_counts_a_keyframe_kept_at_its_url_as_a_download_not_a_new_image(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A billed Seedream image whose download failed keeps its result URL, and the next
    render downloads it from there, paying nothing. `estimate`, and the cost asked about
    before the render's first paid call, priced it as a new image. Now it is counted as
    paid (like a failed clip whose job is journaled), unless its URL is past its 24 h:
    then the render buys a new image, and the estimate counts it."""

    from mindmovie.pipeline import estimate_for

    goals, s, run, row = await _a_keyframe_kept_at_its_url(sim, tmp_path, monkeypatch)
    assert row["state"] == "billed" and row["usage"]["result_url"], row

    est = estimate_for(goals, s, out=run)
    assert [sc.keyframe.usd for sc in est.scenes] == [0]
    assert est.total == 0 and not est.paid
    (scene,) = collect_status(run, settings=s, goals=goals)["scenes"]
    assert scene["next"].startswith("download the keyframe paid for before"), scene

    # past its 24 h the URL is not used (a new image is bought): counted again
    usage = {**row["usage"], "result_at": row["usage"]["result_at"] - 25 * 3600}
    _set_usage(run, row["id"], usage)
    est = estimate_for(goals, s, out=run)
    assert [sc.keyframe.usd for sc in est.scenes] == [pytest.approx(0.03)] and est.paid
    (scene,) = collect_status(run, settings=s, goals=goals)["scenes"]
    assert scene["next"] == "retry the keyframe, then make the clip", scene
    _set_usage(run, row["id"], row["usage"])

    sim.clear_faults()
    asked = await _render_asking(goals, s, run)
    assert asked == []  # nothing left to buy: nothing to ask about
    assert sim.stats()["totals"]["images"] == 1  # and indeed nothing was bought


def test_storyboard_total_names_the_plans_cost_as_estimate_counts_it(
    sim: SimServer, tmp_path: Path
) -> None:
    """`mindmovie estimate` says $0.96 (plan included); the storyboard `plan` drew said
    "estimated $0.94", the scenes alone, with no word of the plan's call. The board now
    shows the plan's estimate beside the scenes' total (the `storyboard` command too),
    and the two add up to `estimate`'s total."""
    from mindmovie.storyboard import format_cost

    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    r = CliRunner().invoke(app, ["estimate", str(goals), "-c", str(cfg), "--json"], env={})
    assert r.exit_code == 0, r.output
    est = json.loads(r.output)
    scenes_total = sum(s["total"] for s in est["scenes"])
    planner = est["planner"]["usd"]
    assert planner > 0 and est["total"] == pytest.approx(scenes_total + planner, abs=1e-6)
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["plan", str(goals), "-c", str(cfg), "--out", str(run), "--yes"], env=env
    )
    assert r.exit_code == 0, r.output
    want = f"estimated <b>{format_cost(scenes_total)}</b> (+ plan {format_cost(planner)})</p>"
    page = run / "storyboard.html"
    assert want in page.read_text(encoding="utf-8")
    page.unlink()
    r = CliRunner().invoke(app, ["storyboard", str(run)], env={})
    assert r.exit_code == 0, r.output
    assert want in page.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("preset", "under"), [("byteplus", True), ("byteplus", False), ("google", True)]
)
def test_doctor_fails_a_budget_exactly_where_the_render_stops_at_it(
    sim: SimServer, tmp_path: Path, preset: str, under: bool
) -> None:
    """doctor's budget row agrees with the render's gate: a budget a cent under one
    keyframe's price plus the hold of a clip of the shortest length makes the render
    stop (exit 3) with no clip, and doctor FAIL; at that figure both go ahead (Seedream's
    flat price is the bill; a Gemini image bills its prompt too, so only a floor)."""
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    settings = settings_for(preset, sim, planner={"provider": "local"})
    least = costs.estimate_keyframe(settings).usd + costs.video_hold(settings, 4)
    url = sim.ark_base_url if preset == "byteplus" else sim.base_url
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"preset: {preset}\nplanner: {{provider: local}}\n"
        "output: {size: 320x180, fps: 12}\nplan: {scene_seconds: 4}\n"
        f"budget_usd: {least - 0.01 if under else least:.9f}\n"
        f"providers:\n  {preset}: {{base_url: '{url}', poll_interval: 0.05}}\n"
    )
    env = {"ARK_API_KEY": "b", "GOOGLE_API_KEY": "g"}
    doctor = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env=env)
    assert doctor.exit_code == (1 if under else 0), doctor.output
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(run), "-q"], env=env
    )
    assert r.exit_code == (3 if under else 0), r.output
    assert (run / "movie.mp4").exists() is not under
    assert len(ledger_rows(run, "clip")) == (0 if under else 1)


def test_doctor_counts_the_paid_plan_billed_before_the_first_keyframe(
    sim: SimServer, tmp_path: Path
) -> None:
    """With Claude planning, the plan is billed before any keyframe is asked for: a budget
    of exactly one keyframe's price plus the shortest clip's hold was passed by doctor
    ("ok"), and the render, the plan billed, stopped before its first clip (exit 3)."""
    sim.media_scale = 0.25
    goals = _one_goal(tmp_path)
    settings = settings_for("byteplus", sim)
    least = costs.estimate_keyframe(settings).usd + costs.video_hold(settings, 4)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "preset: byteplus\noutput: {size: 320x180, fps: 12}\nplan: {scene_seconds: 4}\n"
        f"budget_usd: {least:.9f}\n"
        f"providers:\n  byteplus: {{base_url: '{sim.ark_base_url}', poll_interval: 0.05}}\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
    )
    env = {"ARK_API_KEY": "b", "ANTHROPIC_API_KEY": "a"}
    doctor = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env=env)
    assert doctor.exit_code == 1, doctor.output
    from mindmovie.config import load_settings

    (row,) = [c for c in run_checks(load_settings(config_path=cfg, env={})) if c.name == "budget"]
    assert "the plan call at least" in row.detail, row
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(run), "-q"], env=env
    )
    assert r.exit_code == 3, r.output
    assert ledger_rows(run, "clip") == []


@pytest.mark.parametrize(
    ("preset", "planner"), [("byteplus", ""), ("google", "planner: {provider: local}\n")]
)
def test_a_budget_of_exactly_doctors_figure_makes_a_clip_after_a_paid_plan(
    sim: SimServer, tmp_path: Path, preset: str, planner: str
) -> None:
    """doctor's least budget counted the plan's prompt (input tokens) but not the output
    tokens Claude bills for the plan it writes: a budget of exactly the figure doctor
    passed ("ok") had the render, the plan billed, stop before its first clip (exit 3).
    The plan is counted as the render's gate estimates it (`costs.estimate_planner`).
    So was a Gemini keyframe at its price, its prompt's tokens left out: with the local
    planner and Veo, a budget of doctor's figure ($0.3587, "ok") stopped the render
    before the clip (it billed $0.0387153); it is counted at its hold."""
    from mindmovie.config import load_settings
    from mindmovie.doctor import _least_spend

    goals, cfg, base = _smallest_run(sim, tmp_path, preset, planner)
    cfg.write_text(base)
    least, _ = _least_spend(load_settings(config_path=cfg, env={}))
    cfg.write_text(base + f"budget_usd: {least:.9f}\n")
    env = {"ARK_API_KEY": "b", "ANTHROPIC_API_KEY": "a", "GOOGLE_API_KEY": "g"}
    (row,) = [c for c in run_checks(load_settings(config_path=cfg, env={})) if c.name == "budget"]
    assert row.status == "ok", row
    doctor = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env=env)
    assert doctor.exit_code == 0, doctor.output
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(run), "-q"], env=env
    )
    assert r.exit_code == 0, r.output
    if not planner:
        (plan,) = ledger_rows(run, "plan")
        assert plan["usage"]["output_tokens"] > 0  # billed with the prompt
    assert len(ledger_rows(run, "clip")) == 1 and (run / "movie.mp4").is_file()


def test_doctor_with_goals_checks_the_budget_against_their_render(
    sim: SimServer, tmp_path: Path
) -> None:
    """doctor took no GOALS: its budget row priced the smallest goals (one scene), so a
    --budget of $0.20, enough for those, was "ok" (exit 0) for goals whose render costs
    $0.55, and `render goals.yaml --budget 0.20` stopped at the budget (exit 3).
    `doctor GOALS` judges the budget against what rendering them would spend, as the
    render's spend question prices it (the run's spend so far counted): a FAIL, naming
    the budget that finishes; with that budget doctor is ready and the render makes the
    movie. Without GOALS the row is as it was."""
    from mindmovie.config import load_settings

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    cfg, env = cli_env(sim, tmp_path)
    env = {**env, "COLUMNS": "400"}

    def doctor(budget: str, *args: str) -> Any:
        return CliRunner().invoke(
            app, ["doctor", *args, "-c", str(cfg), "--budget", budget], env=env
        )

    def budget_row(budget: float, run: Path) -> Any:
        settings = load_settings(config_path=cfg, env={})
        checks = run_checks(settings, out=run, budget=budget, goals=goals)
        (row,) = [c for c in checks if c.name == "budget"]
        return row

    assert doctor("0.20").exit_code == 0  # the smallest goals fit in it, as before
    a = tmp_path / "a"
    d = doctor("0.20", str(goals), "--out", str(a))
    assert d.exit_code == 1, d.output
    row = budget_row(0.20, a)
    assert row.status == "FAIL", row
    assert row.detail.startswith(
        f"--budget (a render of {goals}): The budget $0.20 leaves $0.20 of the $0.55 this run "
        "would spend: it stops at the cap"
    ), row
    assert "However little the plan bills, it stops before the movie is made." in row.detail
    enough = row.detail.rsplit("Raise --budget to at least $", 1)[1].removesuffix(".")
    args = ["render", str(goals), "-c", str(cfg), "--yes", "-q", "--out"]
    r = CliRunner().invoke(app, [*args, str(a), "--budget", "0.20"], env=env)
    assert r.exit_code == 3, r.output  # as doctor said
    # that run has spent some of it: counted, as the render's budget counts it
    row = budget_row(0.20, a)
    assert row.status == "FAIL" and " of it spent already, leaves $0." in row.detail, row
    b = tmp_path / "b"
    d = doctor(enough, str(goals), "--out", str(b))
    assert d.exit_code == 0, d.output
    assert budget_row(float(enough), b).status == "ok"
    r = CliRunner().invoke(app, [*args, str(b), "--budget", enough], env=env)
    assert r.exit_code == 0, r.output
    assert (b / "movie.mp4").is_file()


def _one_scene_goals(tmp_path: Path) -> Path:
    """doctor's smallest goals (one goal of one scene), the run its budget floor prices."""
    goals = tmp_path / "one.yaml"
    goals.write_text("title: x\ngoals:\n  - category: x\n    vision: x\n    scenes: 1\n")
    return goals


def _smallest_run(
    sim: SimServer, tmp_path: Path, preset: str, planner: str
) -> tuple[Path, Path, str]:
    """doctor's smallest goals (`_one_scene_goals`) and the settings of a run of them at
    `preset` (with `planner`'s line) against the simulator: (goals, the config's path,
    its text, not yet written)."""
    sim.media_scale = 0.25
    url = sim.ark_base_url if preset == "byteplus" else sim.base_url
    base = (
        f"preset: {preset}\n{planner}output: {{size: 320x180, fps: 12}}\n"
        "plan: {scene_seconds: 4}\n"
        f"providers:\n  {preset}: {{base_url: '{url}', poll_interval: 0.05}}\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
    )
    return _one_scene_goals(tmp_path), tmp_path / "c.yaml", base


@pytest.mark.parametrize(
    ("preset", "planner", "until"),
    [
        ("byteplus", "", "movie"),
        ("google", "", "movie"),
        ("byteplus", "planner: {provider: local}\n", "movie"),
        ("byteplus", "", "plan"),
        ("byteplus", "", "keyframes"),
    ],
)
def test_doctor_passes_a_budget_of_just_what_the_render_needs_and_fails_a_cent_under(
    sim: SimServer, tmp_path: Path, preset: str, planner: str, until: str
) -> None:
    """doctor counted the plan at its estimate ($0.0052 for the smallest goals) where
    the render's gate counts what it billed (the simulator's: $0.0018): a budget of just
    what the render needed (plan billed + keyframe billed + the clip's hold) was a FAIL,
    "below $0.15", exit 1, and the render with it made the movie. The plan is now
    counted at the least it bills for the FAIL; a budget that only the plan's bill
    decides is a warning. A cent under the need, the render stops and doctor FAILs.
    With --until (plan, keyframes) doctor, which took no --until, checked the budget
    for a whole movie: it failed `render --until plan --budget` of the plan's hold,
    which the render made; `doctor --until` counts the stages that render runs."""
    goals, cfg, base = _smallest_run(sim, tmp_path, preset, planner)
    env = {"ARK_API_KEY": "b", "ANTHROPIC_API_KEY": "a", "GOOGLE_API_KEY": "g"}
    stage = ["--until", until] if until != "movie" else []

    def render(budget: float, run: Path, stage: list[str] = stage) -> int:
        cfg.write_text(base + f"budget_usd: {budget:.9f}\n")
        args = ["render", str(goals), "-c", str(cfg), "--out", str(run), "-q", *stage]
        return CliRunner().invoke(app, args, env=env).exit_code

    # (the paid calls' bills and holds: up to the clips, for a whole movie too; its
    # compose is free, and made by the render of just the need below)
    assert render(5.0, tmp_path / "first", stage or ["--until", "clips"]) == 0
    # the gate, call by call: what the calls before it billed + the call's hold (+ a
    # paid keyframe's room kept for its scene's clip, at the clip's hold)
    clips = {r["scene_id"]: r["held_usd"] for r in ledger_rows(tmp_path / "first", "clip")}
    need = billed = 0.0
    for row in [
        r for st in ("plan", "keyframe", "clip") for r in ledger_rows(tmp_path / "first", st)
    ]:
        kept = clips.get(row["scene_id"], 0.0) if row["stage"] == "keyframe" else 0.0
        need = max(need, billed + row["held_usd"] + kept)
        billed += row["billed_usd"]
    for budget, doctor_code, render_code in ((need, 0, 0), (need - 0.01, 1, 3)):
        run = tmp_path / f"run{render_code}"
        assert render(budget, run) == render_code, budget
        doctor = CliRunner().invoke(app, ["doctor", "-c", str(cfg), *stage], env=env)
        assert doctor.exit_code == doctor_code, (budget, doctor.output)
        made = {"plan": "plan.yaml", "keyframes": "scenes/01-x-1/keyframe.png"}
        assert (run / made.get(until, "movie.mp4")).exists() == (render_code == 0)


def test_doctor_goals_and_render_agree_budget_by_budget(sim: SimServer, tmp_path: Path) -> None:
    """doctor GOALS and render, budget by budget, agree. A budget from the plan's least
    bill up to the estimate was a warning (exit 0) while render said under its estimate
    that it "stops at the cap", and did (exit 3): doctor now FAILs with render's own
    line. From the figure doctor names (the calls at their holds) both go ahead and the
    movie is made. Then that finished run: `doctor GOALS` said a render costs nothing
    (ok), right for `render`, but `render --fresh` buys it all again and stopped at the
    same budget; `doctor GOALS --fresh` prices it as that render does (a FAIL, render
    --fresh's line) and moves nothing."""
    from mindmovie.config import load_settings
    from mindmovie.doctor import price_goals

    goals, cfg, base = _smallest_run(sim, tmp_path, "byteplus", "")
    cfg.write_text(base)
    env = {"ARK_API_KEY": "b", "ANTHROPIC_API_KEY": "a", "COLUMNS": "2000"}
    priced = price_goals(load_settings(config_path=cfg, env={}), goals)
    assert priced.est is not None and priced.est.planner is not None
    least = priced.est.total - priced.est.planner.usd + priced.plan_least
    enough = math.ceil(priced.est.most_held * 100 - 1e-6) / 100  # render's "finishes" figure

    def both(budget: float, run: Path) -> tuple[Any, Any]:
        money = ["-c", str(cfg), "--out", str(run), "--budget", f"{budget:.6f}"]
        d = CliRunner().invoke(app, ["doctor", str(goals), *money], env=env)
        r = CliRunner().invoke(app, ["render", str(goals), "--yes", "-q", *money], env=env)
        return d, r

    def said(r: Any) -> str:  # render's line of the budget, under its estimate
        (line,) = [ln for ln in r.output.splitlines() if ln.startswith("The budget ")]
        return line

    def bare(text: str) -> str:
        """`text` without table borders or white space: doctor's table is as wide as
        COLUMNS was when `cli` was imported (80 after an earlier test), and wraps a cell,
        the long path folded mid-word, over lines."""
        return "".join(re.sub(r"[│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼━─╇╈╋]", " ", text).split())

    # the plan bills more than its prompt alone: the render stops, as both say
    d, r = both(least, tmp_path / "short")
    assert (d.exit_code, r.exit_code) == (1, 3), (d.output, r.output)
    assert bare(f"--budget (a render of {goals}): {said(r)}") in bare(d.output), (
        d.output,
        r.output,
    )
    assert bare("It could finish only if the calls bill less than estimated") in bare(d.output)
    run = tmp_path / "run"
    d, r = both(enough, run)
    assert (d.exit_code, r.exit_code) == (0, 0), (d.output, r.output)
    assert "The budget " not in r.output and (run / "movie.mp4").is_file()

    # the finished run: nothing to pay for render; all of it again for render --fresh
    def files() -> list[tuple[Path, int]]:
        return sorted((p.relative_to(run), p.stat().st_mtime_ns) for p in run.rglob("*"))

    d, r = both(least, run)
    assert (d.exit_code, r.exit_code) == (0, 0), d.output
    assert bare("pays for nothing") in bare(d.output), d.output
    before = files()
    money = ["-c", str(cfg), "--out", str(run), "--budget", f"{least:.6f}", "--fresh"]
    d = CliRunner().invoke(app, ["doctor", str(goals), *money], env=env)
    assert d.exit_code == 1 and bare("a render --fresh spends about $") in bare(d.output), d.output
    assert files() == before  # doctor moved nothing, and wrote nothing
    r = CliRunner().invoke(app, ["render", str(goals), "--yes", "-q", *money], env=env)
    assert r.exit_code == 3, r.output
    assert bare(f"--budget (a render --fresh of {goals}): {said(r)}") in bare(d.output), d.output
    assert (run / "previous").is_dir()  # (render --fresh set the old run aside)


@pytest.mark.parametrize(("under", "doctor_code", "render_code"), [(0.0, 0, 0), (0.01, 1, 3)])
def test_doctors_budget_floor_with_the_local_planner_is_a_clip_of_scene_seconds(
    sim: SimServer, tmp_path: Path, under: float, doctor_code: int, render_code: int
) -> None:
    """With the local planner every scene is plan.scene_seconds long (snapped to the
    video model's durations), yet doctor's least budget priced the video model's
    shortest clip: with 10 s scenes it passed $0.20 ("ok", at least $0.13), and the
    render bought the keyframe and stopped at the budget before the clip (exit 3: the
    clip "needs up to $0.26"). doctor's figure is now a keyframe and a 10 s clip: a
    budget of it makes the movie, a cent less is a FAIL and the render's budget stop."""
    from mindmovie.config import load_settings
    from mindmovie.doctor import _least_spend

    sim.media_scale = 0.25
    goals = _one_scene_goals(tmp_path)
    cfg = tmp_path / "c.yaml"
    base = (
        "preset: byteplus\nplanner: {provider: local}\noutput: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 10}\n"
        f"providers:\n  byteplus: {{base_url: '{sim.ark_base_url}', poll_interval: 0.05}}\n"
    )
    cfg.write_text(base)
    least, why = _least_spend(load_settings(config_path=cfg, env={}))
    cfg.write_text(base + f"budget_usd: {least - under:.9f}\n")
    env = {"ARK_API_KEY": "b"}
    doctor = CliRunner().invoke(app, ["doctor", "-c", str(cfg)], env=env)
    assert doctor.exit_code == doctor_code, doctor.output
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(run), "-q"], env=env
    )
    assert r.exit_code == render_code, r.output
    assert (run / "movie.mp4").is_file() == (render_code == 0)
    assert "a 10 s clip" in why, why


async def test_a_plan_whose_tool_input_no_parser_reads_is_billed_once_not_retried(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude's whole answer came with a tool input the SDK cannot parse (a lone
    surrogate escape, "\\ud83d" without its pair): taken for a broken stream, it was
    asked again four times, each call held as an answer lost ($0.15 of unknown outcome
    for a $0.01 plan). The answer is what is wrong: one call, billed, and a failure
    saying so before anything else is sent."""
    goals = goals_file(tmp_path, sim)
    full = sim.planner
    assert isinstance(full, dict)
    scenes = [{**sc, "affirmation": "I am \ud83d strong"} for sc in full["scenes"]]
    sim.set_planner({**full, "scenes": scenes})
    with pytest.raises(JobFailed, match="emit_plan input is not valid JSON") as e:
        await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run()
    assert "JSON: " not in str(e.value)  # the SDK's quote of the whole answer: left out
    assert len(sim.requests(path="/v1/messages")) == 1
    assert [r["state"] for r in ledger_rows(tmp_path / "run", "plan")] == ["billed"]
    assert sim.requests(path="/api/v3/images/generations") == []


async def test_a_plan_whose_answer_broke_off_stays_owed_and_is_asked_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude's streamed answer breaks off (overloaded mid-answer): that call may be billed,
    so its row stays committed, never refunded; the retry is its own row, billed from its
    usage, and the plan is made."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("midstream", path="/v1/messages", code="overloaded_error")
    await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run(
        until="plan"
    )
    assert len(sim.requests(path="/v1/messages")) == 2
    plan_rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["committed", "billed"]
    assert plan_rows[0]["estimated_usd"] > 0 and not plan_rows[0]["billed_usd"]


async def test_a_plan_cut_at_max_tokens_is_billed_once_and_not_asked_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude's answer stopped at max_tokens (stop_reason max_tokens, the tool input cut):
    the call is billed from its usage, and neither a repair nor a retry pays to be cut
    again; the failure names planner.options.max_tokens."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("cut", path="/v1/messages", count=None)
    with pytest.raises(JobFailed, match=r"planner\.options\.max_tokens"):
        await Pipeline(goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS).run(
            until="plan"
        )
    assert len(sim.requests(path="/v1/messages")) == 1
    plan_rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["billed"] and plan_rows[0]["billed_usd"] > 0


async def test_a_lost_plan_answer_is_told_at_what_the_budget_counts_it(
    sim: SimServer, tmp_path: Path
) -> None:
    """A plan call whose answer broke off was told 'may have been billed (about $0.01)'
    while the totals line and the budget count it at its hold, the most it can bill
    ($0.15 for four such calls). The warning now says that amount too."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("midstream", path="/v1/messages", code="overloaded_error")
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    s = settings_for("byteplus", sim)
    await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run(until="plan")
    (told,) = warned
    (lost, _) = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert lost["state"] == "committed" and lost["held_usd"] > lost["estimated_usd"]
    about, held = costs.format_usd(lost["estimated_usd"]), costs.format_usd(lost["held_usd"])
    assert about != held
    assert f"(about {about}; the budget counts it at {held}, the most it can cost)" in told, told
    store = Store(tmp_path / "run" / "run.db")
    try:
        assert store.ledger_split()[2] == pytest.approx(lost["held_usd"])
    finally:
        store.close()


async def test_a_plan_whose_answer_broke_off_is_told_now_not_as_a_stopped_run(
    sim: SimServer, tmp_path: Path
) -> None:
    """The answer that broke off may be billed: the person is told so when it happens
    (it was not), and the next render no longer says "_run: a plan call to anthropic was
    in flight when the last run stopped": the run did not stop, it asked again."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("midstream", path="/v1/messages", code="overloaded_error")
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    s = settings_for("byteplus", sim)
    await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run(until="plan")
    (told,) = warned
    assert told.startswith("plan: the answer of the plan call to anthropic was lost"), told
    assert "may have been billed (about $" in told and "_run" not in told, told
    warned.clear()
    await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=Rec()).run(until="plan")
    assert warned == [], warned
    plan_rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "plan"]
    assert [r["state"] for r in plan_rows] == ["committed", "billed"]


async def test_an_output_size_of_another_shape_than_the_aspect_is_told_before_paying(
    sim: SimServer, tmp_path: Path
) -> None:
    """`output: {size: 180x320}` with the default 16:9 aspect and a paid preset: the
    models made 16:9 keyframes and clips, cropped to the portrait frame (32% of each
    kept), and nothing said so. Told before any call now; with the aspect that fits, not."""
    goals = goals_file(tmp_path, sim)
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    async def warned_for(run: str, preset: str = "byteplus", **output: str) -> list[str]:
        warned.clear()
        s = settings_for(preset, sim, output=output)
        keys = KEYS if preset != "local" else None
        await Pipeline(goals, s, out=tmp_path / run, keys=keys, reporter=Rec()).run(until="plan")
        return list(warned)

    assert await warned_for("run", size="180x320") == [
        "output.size 180x320 is not of output.aspect 16:9's shape: the byteplus models make "
        "16:9 pictures, cropped to the frame, which keeps only 32% of each; set "
        "output.aspect to 9:16 for this frame"
    ]
    assert await warned_for("run2", size="180x320", aspect="9:16") == []
    # a frame no aspect fits better: it said "set output.aspect to 16:9" of a 16:9 aspect
    assert await warned_for("run4", size="320x240") == [
        "output.size 320x240 is not of output.aspect 16:9's shape: the byteplus models make "
        "16:9 pictures, cropped to the frame, which keeps only 75% of each; no aspect the "
        "models make is nearer its shape (16:9 is the nearest): set output.size to one of "
        "16:9's shape (e.g. 320x180) to keep the whole picture"
    ]
    # free: the frame is as set
    assert await warned_for("run3", "local", size="180x320") == []


async def test_a_big_reference_photo_is_held_at_what_gemini_may_count_for_it(
    sim: SimServer, tmp_path: Path
) -> None:
    """A 12 MP person photo sent to Gemini with every keyframe: the gate held 1,290 input
    tokens for it, and the call may count its 24 tiles (6,192), billing over its hold
    and so past a --budget. Each keyframe's hold now counts the photo's tiles."""
    from PIL import Image

    from mindmovie import costs

    goals = goals_file(tmp_path, sim)
    Image.new("RGB", (4032, 3024), (180, 140, 120)).save(tmp_path / "photos" / "portrait.jpg")
    s = settings_for("google", sim, planner={"provider": "local"})
    await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run(until="keyframes")
    rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "keyframe"]
    assert rows
    want = costs.keyframe_hold(s, 1, [(4032, 3024)])
    assert want > costs.keyframe_hold(s, 1)
    assert all(r["held_usd"] == pytest.approx(want) for r in rows), rows


async def test_a_gemini_keyframe_is_estimated_with_its_input_tokens_as_billed(
    sim: SimServer, tmp_path: Path
) -> None:
    """Gemini bills a keyframe's input too: its prompt, and its reference photo by tiles
    (a 12 MP photo is 24 tiles, 6,192 tokens). The estimate (the table, and each ledger
    row's) counted the image alone: $0.039 against a bill of ~$0.0406. Both now count the
    prompt and the photos at the model's input price, and the image at what its 1,290
    output tokens bill at $30/M ($0.0387): it was priced at the reference's rounded
    "about $0.039", $0.0003 a keyframe over the bill. Left: the prompt's tokens, counted
    at ~4 characters a token (the simulator counts its JSON part so, a few tokens more)."""
    from PIL import Image

    goals = goals_file(tmp_path, sim)
    Image.new("RGB", (4032, 3024), (180, 140, 120)).save(tmp_path / "photos" / "portrait.jpg")
    s = settings_for("google", sim, planner={"provider": "local"})
    table = {sc.scene_id: sc.keyframe.usd for sc in costs.estimate_run(s, load_goals(goals)).scenes}
    await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run(until="keyframes")
    rows = [r for r in collect_status(tmp_path / "run")["ledger"] if r["stage"] == "keyframe"]
    assert len(rows) == len(table) == 4
    for r in rows:
        assert r["billed_usd"] > 0.0387 + 6192 * 0.30 / 1e6  # the photo's tiles were billed
        assert table[r["scene_id"]] == pytest.approx(r["billed_usd"], abs=5e-6), r
        assert r["estimated_usd"] == pytest.approx(table[r["scene_id"]]), r
        assert r["held_usd"] >= r["estimated_usd"]


async def test_a_keyframe_whose_answer_was_lost_is_told_by_its_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    """The same for a keyframe call whose connection broke after it was sent (the image
    may be made and billed): told at once, under its scene, not next render as a call
    "in flight when the last run stopped"."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("drop_after", path="/images/generations", count=1)
    warned: list[str] = []

    class Rec(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    s = settings_for("byteplus", sim, planner={"provider": "local"})
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS, reporter=Rec()).run(until="keyframes")
    told = [w for w in warned if "was lost" in w]
    assert len(told) == 1 and " keyframe call to byteplus was lost (" in told[0], warned
    assert told[0].split(":")[0] in {sc["scene_id"] for sc in collect_status(run)["scenes"]}
    warned.clear()
    await Pipeline(goals, s, out=run, keys=KEYS, reporter=Rec()).run(until="keyframes")
    assert not [w for w in warned if "in flight" in w], warned


async def test_a_kept_keyframe_url_with_a_damaged_time_is_bought_as_the_estimate_counts(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept result URL whose `result_at` (or `result_valid_for`) is no number (edited by
    hand) is counted by the estimate as a new image (`Store.refetchable_result`), but the
    render failed the scene with "could not convert string to float" at every render,
    buying nothing. It is taken as past its validity, as the estimate takes it: tried
    once, then a new image is bought."""
    goals, s, run, row = await _a_keyframe_kept_at_its_url(sim, tmp_path, monkeypatch)
    _set_usage(run, row["id"], {**row["usage"], "result_at": "x"})
    sim.clear_faults()
    sim.add_fault("http", path="/_sim/files/", method="GET", status=404, count=1)  # gone
    asked = await _render_asking(goals, s, run)
    assert asked and asked[0] > 0  # the new image, counted and asked about
    assert sim.stats()["totals"]["images"] == 2


async def test_a_keyframe_call_a_stopped_render_left_in_flight_is_shown_as_outcome_unknown(
    sim: SimServer, tmp_path: Path
) -> None:
    """A keyframe call in flight when its render stopped (Ctrl-C past the few seconds it
    waits, a kill) is left committed with no answer: nothing will settle it, and the
    next render marks it outcome unknown. `status` showed it as "in flight" until then
    (money.in_flight, the scene's "in flight" column) though no render was waiting on
    it; it is counted apart as unknown, as the render counts it."""
    goals = goals_file(tmp_path, sim)
    s = settings_for("byteplus", sim, planner={"provider": "local"})
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    store = Store(run / "run.db")
    # what a render stopped between sending a Seedream image and its answer leaves
    store.ledger_commit("01-health-1", "keyframe", "byteplus", "seedream-4-0-250828", 0.03)
    store.close()
    st = collect_status(run)
    (scene,) = [sc for sc in st["scenes"] if sc["scene_id"] == "01-health-1"]
    assert st["money"]["in_flight"] == 0 and st["money"]["unknown"] == pytest.approx(0.03)
    assert scene["spend"]["in_flight"] == 0 and scene["spend"]["unknown"] == pytest.approx(0.03)
    # the next render marks it so in the ledger: status counts it the same after
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    again = collect_status(run)
    assert again["money"]["unknown"] == st["money"]["unknown"]
    assert again["money"]["in_flight"] == 0


async def test_a_clip_create_of_a_provider_switched_away_from_is_shown_as_outcome_unknown(
    sim: SimServer, tmp_path: Path
) -> None:
    """A Seedance create in flight when its render stopped (no job id), then the preset
    switched to local: the next render cannot look for its job (it lists the local
    provider's) and marks it outcome unknown (`Pipeline._recover_orphans`). `status`
    with those settings showed it "in flight" (money.in_flight 0.5, unknown 0) until
    then, as if a render would settle it; it counts it as the render does."""
    goals = goals_file(tmp_path, sim)
    s = settings_for("local", sim)
    run = tmp_path / "run"
    # (each render to its clips: the movie's compose is no part of what is looked at)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    store = Store(run / "run.db")
    # what a byteplus render stopped between sending a Seedance create and its answer left
    store.ledger_commit("01-health-1", "clip", "byteplus", "seedance-1-0-pro-250528", 0.5)
    store.close()
    st = collect_status(run, settings=s)
    (scene,) = [sc for sc in st["scenes"] if sc["scene_id"] == "01-health-1"]
    assert (st["money"]["in_flight"], st["money"]["unknown"]) == (0, pytest.approx(0.5))
    assert scene["spend"]["in_flight"] == 0 and scene["spend"]["unknown"] == pytest.approx(0.5)
    assert collect_status(run)["money"]["in_flight"] == 0.5  # (no settings: not known)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    again = collect_status(run, settings=s)
    assert (again["money"]["in_flight"], again["money"]["unknown"]) == (0, pytest.approx(0.5))


async def test_status_estimates_only_the_calls_that_cost_or_may_cost(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clip request turned away (429: not accepted, refunded) and sent again is one
    clip, estimated once. `status` added the refused request's estimate too: the scene
    showed "est. $0.21, billed $0.10" and the run "(estimated ...)" a clip above what
    the render estimated and the ledger billed. Refunded calls cost nothing, and are
    not counted in the estimated spend."""
    no_retry_waits(monkeypatch)
    goals = goals_file(tmp_path, sim)
    s = seedance_only(sim)
    sim.add_fault("http", path="/contents/generations/tasks", method="POST", status=429, count=1)
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")  # (the movie: free)
    clips = ledger_rows(run, "clip")
    assert sorted(r["state"] for r in clips) == ["billed"] * 4 + ["refunded"]
    per_clip = estimate_video(s, 4).usd
    st = collect_status(run)
    assert st["money"]["estimated"] == pytest.approx(4 * per_clip, abs=1e-6)
    for scene in st["scenes"]:
        assert scene["spend"]["estimated"] == pytest.approx(per_clip, abs=1e-6), scene
        assert scene["spend"]["billed"] == pytest.approx(per_clip, abs=1e-6), scene


async def test_the_spend_question_says_what_of_the_budget_earlier_renders_spent(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget counts what earlier renders of the run billed. Asked "Spend about
    $0.21 (budget $0.36)?" after $0.21 of it was billed, a person agreed to a render that
    stopped after one of its two clips: the question did not say that only $0.16 of the
    budget was left. It says what was spent of it already."""
    import sys

    from mindmovie import cli

    asked: list[str] = []

    def confirm(text: str, default: bool = False) -> bool:
        asked.append(text)
        return False

    monkeypatch.setattr(cli.typer, "confirm", confirm)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    goals = goals_file(tmp_path, sim)
    s = seedance_only(sim)
    per_clip = estimate_video(s, 4).usd
    run = tmp_path / "run"
    with pytest.raises(BudgetStopped):
        await Pipeline(goals, s, out=run, keys=KEYS, budget=2.5 * per_clip).run()
    billed = collect_status(run)["money"]["billed"]
    assert billed == pytest.approx(2 * per_clip, abs=1e-6)
    budget = 3.5 * per_clip
    ask = cli._confirmer(False, budget, True)
    with pytest.raises(Declined):
        await Pipeline(goals, s, out=run, keys=KEYS, budget=budget, confirm=ask).run()
    (question,) = asked
    assert question == (
        f"Spend about {costs.format_usd(2 * per_clip)} (budget {costs.format_usd(budget)}, "
        f"{costs.format_usd(billed)} of it spent already)?"
    ), question


async def test_the_spend_question_says_why_a_plan_made_before_is_made_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """`render --until keyframes` with byteplus, the storyboard reviewed and plan.yaml
    edited, then `render --preset google`: Veo makes other clip lengths than Seedance
    (4, 6 or 8 s: not the plan's 10 s), so a new plan is bought and the edited one set
    aside as plan.previous.yaml. The spend question priced the plan with no word of why;
    the warning came only after the yes. It says why under the table (as `status`
    does), before anything is sent; `estimate` too."""
    from mindmovie.pipeline import estimate_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    assert isinstance(sim.planner, dict)
    sim.set_planner(
        {**sim.planner, "scenes": [{**sc, "seconds": 10} for sc in sim.planner["scenes"]]}
    )
    run = tmp_path / "run"
    await Pipeline(goals, settings_for("byteplus", sim), out=run, keys=KEYS).run(until="keyframes")
    asked: list[Any] = []

    def no(est: Any) -> bool:
        asked.append(est)
        return False

    calls = sim.stats()["requests"]
    google = settings_for("google", sim)
    with pytest.raises(Declined):
        await Pipeline(goals, google, out=run, keys=KEYS, confirm=no).run()
    assert sim.stats()["requests"] == calls  # nothing sent
    (est,) = asked
    assert est.planner is not None and est.planner.usd > 0  # a new plan is bought
    why = (
        "the video model's clip lengths changed since plan.yaml was made: the next "
        "render makes a new plan (the old one is kept as plan.previous.yaml)"
    )
    assert why.replace("the next render", "this render") in est.notes, est.notes
    # Claude's new plan is not known before it is bought: every scene priced, and said
    assert any("a scene it plans as before is reused" in n for n in est.notes), est.notes
    assert why in estimate_for(goals, google, out=run).notes
    # a render that reuses plan.yaml says nothing of it
    again = estimate_for(goals, settings_for("byteplus", sim), out=run)
    assert again.planner is None and again.notes == ()


async def test_after_a_goals_edit_the_estimate_prices_only_what_the_render_redoes(
    sim: SimServer, tmp_path: Path
) -> None:
    """Local plans, paid keyframes: a scene deleted from plan.yaml, the others' keyframes
    bought, then one goal's vision edited. The new plan carries the deletion over (its
    goal did not change) and buys only the edited goal's keyframe, but the estimate (the
    spend question's, `estimate`'s, `status`'s) priced the deleted scene's too, from the
    planner's plan without the person's edits."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for("byteplus", sim, planner={"provider": "local"})
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    plan_path = run / "plan.yaml"
    text = plan_path.read_text()
    head = text.split("- id: 03-lifestyle-1", 1)[0]
    plan_path.write_text(head)  # the last scene deleted by hand
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    goals.write_text(goals.read_text().replace("Strong and rested", "Strong, calm and rested"))
    est = estimate_for(goals, s, out=run)
    bought = [sc.scene_id for sc in est.scenes if sc.keyframe.payable]
    assert bought == ["01-health-1"], bought
    look = collect_status(run, settings=s, goals=goals)
    rows = {r["scene_id"]: r for r in look["scenes"]}
    assert "03-lifestyle-1" not in rows or rows["03-lifestyle-1"].get("in_new_plan") is False
    # and the render buys just that: one keyframe, the deleted scene still deleted
    before = len(ledger_rows(run, "keyframe"))
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert len(ledger_rows(run, "keyframe")) == before + 1
    assert [sc.id for sc in load_plan(plan_path).scenes] == [
        "01-health-1",
        "02-career-1",
        "02-career-2",
    ]


async def test_status_shows_each_scene_s_spend_of_unknown_outcome_in_its_row(
    sim: SimServer, tmp_path: Path
) -> None:
    """A Veo clip request whose answer was lost may have made a job that bills (Veo
    lists no jobs): its hold stays counted as spent, outcome unknown. The status table
    showed the scene's `est.` and `billed` only, so its row did not add up ($0.32 of it
    nowhere in the row) and only the line under the table named the money, not the
    scene. An `unknown` column shows it per scene, as `in flight` does money in flight."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    s = settings_for("google", sim, planner={"provider": "local"}, keyframes={"provider": "local"})
    sim.add_fault("drop_after", path="predictLongRunning", method="POST", count=1)
    with pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run()
    st = collect_status(tmp_path / "run")
    (lost,) = [x for x in st["scenes"] if (x.get("spend") or {}).get("unknown")]
    usd = costs.format_usd(lost["spend"]["unknown"])
    table = CliRunner().invoke(app, ["status", str(tmp_path / "run")], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    (header,) = [line for line in lines if line.split()[:1] == ["scene"]]
    assert header.split()[4:7] == ["est.", "billed", "unknown"], header
    (row,) = [line.split() for line in lines if line.split()[:1] == [lost["scene_id"]]]
    assert row[6] == usd, (row, usd)


@pytest.mark.parametrize("size", [None, "640x360"])
async def test_a_keyframe_kept_at_its_url_under_the_frame_size_key_is_downloaded(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: str | None
) -> None:
    """A Seedream image billed whose download failed, in a run made while a paid
    keyframe's key held the frame size (until 2026-12-04): its URL is kept on its row
    under that key. The render, the estimate and status looked for it under the key of
    now (the aspect) only, so after the upgrade the estimate priced a new image, the
    render bought it, and status said to download the one paid for. With another frame
    `size` after the upgrade, the key was looked up at that size only: the same."""
    from mindmovie.pipeline import estimate_for

    with keyed_as_before(monkeypatch, "_keyframe_variants"):
        goals, s, run, row = await _a_keyframe_kept_at_its_url(sim, tmp_path, monkeypatch)
    assert row["state"] == "billed" and row["usage"]["result_url"], row
    assert sim.stats()["totals"]["images"] == 1
    if size is not None:
        s = s.model_copy(update={"output": s.output.model_copy(update={"size": size})})
    sim.clear_faults()
    est = estimate_for(goals, s, out=run)
    assert [sc.keyframe.usd for sc in est.scenes] == [0]
    (scene,) = collect_status(run, settings=s, goals=goals)["scenes"]
    assert scene["next"].startswith("download the keyframe paid for before"), scene
    asked = await _render_asking(goals, s, run)
    assert asked == [] and sim.stats()["totals"]["images"] == 1  # downloaded, not bought


def test_storyboard_counts_a_copied_scene_once_and_names_the_scene_it_copies(
    sim: SimServer, tmp_path: Path
) -> None:
    """A scene asking the very same keyframe and clip as an earlier one is bought once
    (`Pipeline._one_buyer`), and `estimate` counts it once; the storyboard priced it
    again, its "estimated" total a scene's price over the bill, and said the copy cost
    as much as the scene it takes them from. The board (the render's, and the
    `storyboard` command's with settings) now says "as scene N" on the copy, and its
    total is the run's whole cost, each request once: before and after the render."""
    from mindmovie.storyboard import format_cost

    goals = goals_file(tmp_path, sim)
    copy_scene(sim)  # 02-career-2 = 02-career-1
    cfg, env = cli_env(sim, tmp_path)
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app, ["plan", str(goals), "-c", str(cfg), "--out", str(run), "--yes"], env=env
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        app, ["estimate", str(goals), "-c", str(cfg), "--out", str(run), "--json"], env={}
    )
    assert r.exit_code == 0, r.output
    est = json.loads(r.output)
    scenes_total = sum(s["total"] for s in est["scenes"])
    one = next(s["total"] for s in est["scenes"] if s["scene_id"] == "02-career-1")
    assert one > 0 and scenes_total == pytest.approx(3 * one)  # 4 scenes, 3 different
    number = 1 + [sc.id for sc in load_plan(run / "plan.yaml").scenes].index("02-career-1")
    page = run / "storyboard.html"
    total = f"estimated <b>{format_cost(scenes_total)}</b>"

    def board() -> str:
        text = page.read_text(encoding="utf-8")
        assert total in text
        copy = text.split('id="scene-02-career-2"')[1].split("</article>")[0]
        assert f'<span class="cost">as scene {number}</span>' in copy
        return text

    board()  # `plan`'s
    r = CliRunner().invoke(app, ["render", str(goals), "-c", str(cfg), "--out", str(run),
                                 "--yes"], env=env)  # fmt: skip
    assert r.exit_code == 0, r.output
    assert sim.stats()["totals"]["jobs_created"] == 3
    board()  # the render's: the whole run's cost still, each request once
    for given in ([], ["-c", str(cfg), "--goals", str(goals)]):
        page.unlink()
        r = CliRunner().invoke(app, ["storyboard", str(run), *given], env={})
        assert r.exit_code == 0, r.output
        board()  # recorded by the render; priced again with the settings given


async def test_a_gemini_keyframe_blocked_for_safety_bills_its_input_tokens_and_names_the_prompt(
    sim: SimServer, tmp_path: Path
) -> None:
    """Gemini answers a blocked image (finishReason IMAGE_SAFETY or SAFETY, a
    promptFeedback.blockReason; no image part) with the input tokens it counted, and
    bills them (the simulator counts them so). The ledger refunded each such call, $0,
    and the scene's line said only "blocked by the content filter (finish reason
    IMAGE_SAFETY)" under "`render` again retries them": the same prompt, refused again.
    Each refusal is billed its input tokens at the model's input price, and the line
    says so and which prompt to reword where."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=":generateContent", count=None)
    s = settings_for("google", sim, planner={"provider": "local"})
    run = tmp_path / "run"
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    rows = [r for r in collect_status(run)["ledger"] if r["stage"] == "keyframe"]
    assert rows and all(r["state"] == "billed" and r["usage"]["rejected"] for r in rows), rows
    counted = sim.stats()["models"]["gemini-2.5-flash-image"]["input_tokens"]
    assert sum(r["usage"]["input_tokens"] for r in rows) == counted > 0
    billed = sum(r["billed_usd"] for r in rows)
    assert billed == pytest.approx(counted * 0.30 / 1e6)
    lines = str(ei.value).splitlines()[1:]
    assert len(lines) == len({r["scene_id"] for r in rows}), lines
    for line in lines:
        scene = line.split(":")[0].strip()
        assert "(billed $0.0" in line and "input tokens, no image)" in line, line
        assert f"reword scene {scene}'s `image_prompt` in {run / 'plan.yaml'}" in line, line


@pytest.mark.parametrize(
    "options",
    [{"service_tier": "flex"}, {"execution_expires_after": 7200}, {"watermark": False}],
    ids=["flex", "expires", "watermark-false"],
)
async def test_a_video_option_that_does_not_change_the_clip_buys_no_clip_again(
    sim: SimServer, tmp_path: Path, options: dict[str, Any]
) -> None:
    """Seedance clips made, then `video.options` set to what does not change a clip: the
    flex tier (the same model, queued cheaper), how long a job may queue, or an option set
    to the value sent without it (`watermark: false`, a request byte for byte the same).
    The clip's key held the options as written, so each bought every finished clip again
    (the fuzz of settings changes: `service_tier: flex`, set to save on the clips left,
    bought all 4 again). Now they are reused, as the estimate says."""
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    await Pipeline(goals, seedance_only(sim), out=run, keys=KEYS).run()
    made = sim.stats()["totals"]["jobs_created"]
    assert made == 4
    s = settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        keyframes={"provider": "local"},
        video={"options": options},
    )
    est = estimate_for(goals, s, out=run)
    assert est.total == 0 and all(sc.video.done for sc in est.scenes)
    await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert sim.stats()["totals"]["jobs_created"] == made  # nothing bought again
    # and back: the clips are the run's still
    await Pipeline(goals, seedance_only(sim), out=run, keys=KEYS).run()
    assert sim.stats()["totals"]["jobs_created"] == made


async def test_clips_keyed_with_their_video_options_as_written_are_reused(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose clips were made at the flex tier while the clip's key held the options
    as written (until 2026-12-06) is reused at that tier: its steps hold the old key,
    which is looked up (`Pipeline._clip_keys_before`); else the change of key alone
    would buy every clip again."""
    from mindmovie.pipeline import Pipeline as P

    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        keyframes={"provider": "local"},
        video={"options": {"service_tier": "flex"}},
    )
    real = P._clip_key
    with monkeypatch.context() as m:
        m.setattr(
            P,
            "_clip_key",
            lambda self, *a, **kw: real(self, *a, **{**kw, "legacy": False, "written": True}),
        )
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    made = sim.stats()["totals"]["jobs_created"]
    assert made == 4
    est = estimate_for(goals, s, out=run)
    assert est.total == 0 and all(sc.video.done for sc in est.scenes)
    await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert sim.stats()["totals"]["jobs_created"] == made


@pytest.mark.parametrize(
    ("first", "options"),
    [
        ({}, {"watermark": False}),
        ({}, {"response_format": "url"}),
        ({}, {"size": None}),
        ({"size": "2K"}, {"size": "2k"}),
        ({"size": "1280x720"}, {"size": "1280X720"}),
    ],
    ids=["watermark-false", "url", "size-null", "size-2k", "size-X"],
)
async def test_a_keyframe_option_that_does_not_change_the_image_buys_no_keyframe_again(
    sim: SimServer, tmp_path: Path, first: dict[str, Any], options: dict[str, Any]
) -> None:
    """Seedream keyframes made, then `keyframes.options` set to what does not change an
    image: `watermark: false` (sent so without it: the very same request),
    `response_format: url` (how the answer carries it), `size: null` (sent as no size:
    the frame's own), or a size written otherwise (`2k` for `2K`, `1280X720` for
    `1280x720`: sent alike). The key held the options as written, so each bought every
    finished keyframe again (the fuzz of settings changes: `watermark: false`, 4 of 4
    images bought again by identical requests)."""
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    paid_keyframes = {"planner": {"provider": "local"}, "video": {"provider": "local"}}
    s = settings_for("byteplus", sim, **paid_keyframes, keyframes={"options": first})
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    made = sim.stats()["totals"]["images"]
    assert made == 4
    s = settings_for("byteplus", sim, **paid_keyframes, keyframes={"options": options})
    est = estimate_for(goals, s, out=run)
    assert est.total == 0 and all(sc.keyframe.done for sc in est.scenes)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == made  # nothing bought again


def _seededit_project(sim: SimServer, tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    """goals.yaml whose first goal has a photo of its own (SeedEdit edits it; Seedream
    makes the other three scenes), the run folder, and settings planning and animating
    offline: only keyframes are paid."""
    goals = goals_file(tmp_path, sim)
    goals.write_text(
        goals.read_text().replace(
            "    affirmation: I am strong and rested\n",
            "    affirmation: I am strong and rested\n    photos: [photos/portrait.jpg]\n",
        )
    )
    over: dict[str, Any] = {"planner": {"provider": "local"}, "video": {"provider": "local"}}
    return goals, tmp_path / "run", over


@pytest.mark.parametrize(("option", "value"), [("size", "2K"), ("guidance_scale", 5.5)])
async def test_a_size_seededit_does_not_send_buys_none_of_its_keyframes_again(
    sim: SimServer, tmp_path: Path, option: str, value: object
) -> None:
    """`keyframes.model: seededit-3-0-i2i` sends no size (it keeps the goal photo's:
    "adaptive"), so `keyframes.options.size` set later changes none of its images; the
    key held it, so the SeedEdit keyframe was bought again with the very same request.
    Only the scenes with no photo of their own, made by Seedream, which sends the size,
    are bought again. So too `guidance_scale: 5.5`, what SeedEdit is sent when none is
    set (Seedream is sent none then: its scenes' requests change)."""
    goals, run, over = _seededit_project(sim, tmp_path)
    seededit = {"model": "seededit-3-0-i2i"}
    s = settings_for("byteplus", sim, **over, keyframes=seededit)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == 4  # 1 SeedEdit, 3 Seedream
    s = settings_for("byteplus", sim, **over, keyframes={**seededit, "options": {option: value}})
    est = estimate_for(goals, s, out=run)
    assert [sc.keyframe.done for sc in est.scenes] == [True, False, False, False]
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    bodies = [r["body"] for r in sim.requests(path="/images/generations", method="POST")]
    assert [b[option] for b in bodies[4:]] == [value] * 3  # the Seedream scenes only
    (edit,) = [b for b in bodies[:4] if "seededit" in b["model"]]
    assert edit[option] == ("adaptive" if option == "size" else value)


async def test_seededit_keyframes_keyed_with_a_size_before_are_reused(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SeedEdit keyframes whose key held `keyframes.options.size` (made before it was
    left out) are found under that key: nothing is priced or bought again."""
    from mindmovie.providers import byteplus

    goals, run, over = _seededit_project(sim, tmp_path)
    kf = {"model": "seededit-3-0-i2i", "options": {"size": "2K"}}
    s = settings_for("byteplus", sim, **over, keyframes=kf)
    with monkeypatch.context() as m:
        m.setattr(byteplus, "_keyframe_spec", lambda model: None)  # keyed as written before
        # (and, as then, with every reference photo: until 2026-12-07)
        real = Pipeline._refs_keyed
        m.setattr(Pipeline, "_refs_keyed", staticmethod(lambda *a: real(*a[:3], True)))
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == 4
    est = estimate_for(goals, s, out=run)
    assert est.total == 0 and all(sc.keyframe.done for sc in est.scenes)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == 4


async def test_a_google_option_set_to_null_buys_nothing_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """Gemini keyframes and Veo clips made, then `keyframes.options.image_size: null` and
    `video.options.person_generation: null`: the client sends a null option as not set
    (the very same requests), but the keys held the options as written, so every
    finished keyframe, and with its new key every clip, was priced and bought again."""
    sim.media_scale = 0.125
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    local_plan = {"planner": {"provider": "local"}}
    await Pipeline(goals, settings_for("google", sim, **local_plan), out=run, keys=KEYS).run()
    made = sim.stats()["totals"]
    assert made["images"] == 4
    s = settings_for(
        "google",
        sim,
        **local_plan,
        keyframes={"options": {"image_size": None}},
        video={"options": {"person_generation": None}},
    )
    est = estimate_for(goals, s, out=run)
    assert est.total == 0 and all(sc.keyframe.done and sc.video.done for sc in est.scenes)
    await Pipeline(goals, s, out=run, keys=KEYS).run()
    now = sim.stats()["totals"]
    assert (now["images"], now["jobs_created"]) == (made["images"], made["jobs_created"])


async def test_keyframes_keyed_with_their_options_as_written_are_reused(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seedream keyframes made with `watermark: false` while their key held the options
    as written (until 2026-12-06) are reused with it: the old key is looked up
    (`Pipeline._keyframe_reuse_keys`); else the change of key alone bought them again."""
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        video={"provider": "local"},
        keyframes={"options": {"watermark": False}},
    )
    real = Pipeline._keyframe_variants

    def as_written(self: Pipeline, *a: Any, **kw: Any) -> Any:
        return real(self, *a, **{**kw, "written": True})

    with monkeypatch.context() as m:
        m.setattr(Pipeline, "_keyframe_variants", as_written)
        await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    made = sim.stats()["totals"]["images"]
    assert made == 4
    est = estimate_for(goals, s, out=run)
    assert est.total == 0 and all(sc.keyframe.done for sc in est.scenes)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == made


async def test_a_plan_reference_photo_the_render_refuses_is_refused_before_the_question(
    sim: SimServer, tmp_path: Path
) -> None:
    """plan.yaml's reference photo pointed at a file that is no picture: `estimate` and
    `status` refuse it at once (exit 2), but the render asked "Spend about $0.13?"
    first and stopped on it only once answered. It is refused before the question."""
    from mindmovie.plan import PlanError

    goals = goals_file(tmp_path, sim)
    s = settings_for("byteplus", sim, planner={"provider": "local"})
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="plan")
    bad = tmp_path / "photos" / "notes.jpg"
    bad.write_text("not a picture")
    plan_path = run / "plan.yaml"
    text = plan_path.read_text()
    assert str(tmp_path / "photos" / "portrait.jpg") in text  # a scene's reference photo
    plan_path.write_text(text.replace(str(tmp_path / "photos" / "portrait.jpg"), str(bad)))
    asked: list[Any] = []
    pipe = Pipeline(goals, s, out=run, keys=KEYS, confirm=lambda est: asked.append(est) or True)
    with pytest.raises(PlanError, match="reference_photos"):
        await pipe.run()
    assert asked == []
    assert sim.stats()["totals"]["images"] == 0


async def test_a_lost_plan_answer_asked_again_is_not_told_render_again(
    sim: SimServer, tmp_path: Path
) -> None:
    """A plan call whose connection broke after it was sent: the warning ended "...; the
    connection broke after the request was sent; render again", while this render asked
    again by itself and finished. It says what happened and what it may cost only."""
    goals = goals_file(tmp_path, sim)
    sim.add_fault("drop_after", path="/v1/messages", count=1)
    rec, warned = warnings_reporter()
    s = settings_for("byteplus", sim)
    res = await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS, reporter=rec).run(until="plan")
    assert res.plan is not None
    (told,) = warned
    assert told.startswith("plan: the answer of the plan call to anthropic was lost"), told
    assert "the connection broke after the request was sent" in told, told
    assert "render again" not in told, told


async def test_a_gemini_answer_with_text_and_no_image_names_the_output_tokens_it_bills(
    sim: SimServer, tmp_path: Path
) -> None:
    """A Gemini keyframe answered with text and no image (finish reason STOP), its
    usage 36 input and 1,120 output tokens: billed for both, and the line said "(billed
    $0.0x: its 36 input tokens, no image)", of a bill that is the output tokens' for the
    most part. It names both."""
    goals = goals_file(tmp_path, sim)
    body = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": "No."}]},
                        "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 36, "candidatesTokenCount": 1120,
                          "totalTokenCount": 1156},
    }  # fmt: skip
    sim.add_fault("patch", path=":generateContent", body=body, count=None)
    s = settings_for("google", sim, planner={"provider": "local"})
    with pytest.raises(RenderFailed) as ei:
        await Pipeline(goals, s, out=tmp_path / "run", keys=KEYS).run(until="keyframes")
    line = str(ei.value).splitlines()[1]
    assert "its 36 input tokens and 1,120 output tokens, no image)" in line, line


async def test_an_inline_seedance_flag_typed_into_a_motion_prompt_buys_nothing_and_is_said(
    sim: SimServer, tmp_path: Path
) -> None:
    """`--dur 10` typed at the end of a scene's motion_prompt: Seedance is sent the text
    without it (`byteplus.sent_prompt`), the very same request, yet the clip, keyed on
    the raw text, was bought again ($0.10) and nothing said the flag did nothing. It is
    keyed as sent (nothing bought), and the render says the flag is not sent."""
    import yaml

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    local = {"provider": "local"}
    s = settings_for("byteplus", sim, planner=local, keyframes=local)
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    jobs = sim.stats()["totals"]["jobs_created"]
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    first = plan["scenes"][0]
    first["motion_prompt"] += " --dur 10"
    (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    rec, warned = warnings_reporter()
    await Pipeline(goals, s, out=run, keys=KEYS, reporter=rec).run(until="clips")
    assert sim.stats()["totals"]["jobs_created"] == jobs
    assert any(
        w.startswith(f"{first['id']}: its motion_prompt's inline parameters (--dur 10) are not")
        for w in warned
    ), warned


@pytest.mark.parametrize("keyed", ["now", "until 2026-12-07"])
async def test_a_reference_photo_the_model_is_not_sent_is_no_reason_to_buy_its_keyframe(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyed: str
) -> None:
    """Seedream 3.0 t2i takes no reference photos: a scene's reference_photos edited in
    plan.yaml bought its keyframe again, with the very same request (the render said the
    photos are left out). The key holds the photos the model is sent; a run keyed with
    every one (until 2026-12-07) is reused as it is, nothing bought."""
    import shutil

    import yaml

    from mindmovie.pipeline import Pipeline as P

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    shutil.copyfile(tmp_path / "photos" / "portrait.jpg", tmp_path / "photos" / "other.jpg")
    s = settings_for(
        "byteplus", sim, planner={"provider": "local"},
        keyframes={"model": "seedream-3-0-t2i"}, video={"provider": "local"},
    )  # fmt: skip
    run = tmp_path / "run"
    if keyed != "now":  # the first render keys as until 2026-12-07: every photo
        real = P._refs_keyed
        monkeypatch.setattr(
            P, "_refs_keyed", staticmethod(lambda m, r, src, _: real(m, r, src, True))
        )
    await P(goals, s, out=run, keys=KEYS).run(until="keyframes")
    monkeypatch.undo()
    images = sim.stats()["totals"]["images"]
    assert images > 0
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    with_refs = [sc for sc in plan["scenes"] if sc.get("reference_photos")]
    assert with_refs
    if keyed == "now":
        with_refs[0]["reference_photos"] = [str(tmp_path / "photos" / "other.jpg")]
        (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    res = await P(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == images, res.ran


async def test_a_plan_the_default_planner_of_before_made_is_kept_after_the_upgrade(
    sim: SimServer, tmp_path: Path
) -> None:
    """The default planner changed under runs (claude-sonnet-4-6 to claude-sonnet-5-5 on
    2026-11-30; the plan's key holds the model): their next render planned again, paid
    the planner, dropped the plan.yaml edits and, with a Claude that words its plan
    otherwise, bought every scene again. A plan the default of before made, no
    planner.model set, is the goals' plan still; one set to another model plans again."""
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    # as the render of before made it: the default planner then
    old = settings_for("byteplus", sim, planner={"model": "claude-sonnet-4-6"})
    await Pipeline(goals, old, out=run, keys=KEYS).run(until="plan")
    edit_scene_2(run, affirmation=" (kept after the upgrade)")
    sent = sim.stats()["totals"]["messages"]
    now = settings_for("byteplus", sim)  # no planner.model: today's default
    assert now.planner.model is None
    now_model = costs.stage_spec(now, "planner").id  # type: ignore[union-attr]
    assert now_model != "claude-sonnet-4-6"
    est = estimate_for(goals, now, out=run)
    assert est.planner is None, est.planner  # the plan is reused: no call priced
    told: list[str] = []

    class Told(NullReporter):
        def info(self, text: str) -> None:
            told.append(text)

    res = await Pipeline(goals, now, out=run, keys=KEYS, reporter=Told()).run(until="plan")
    assert res.ran == [] and sim.stats()["totals"]["messages"] == sent
    assert "(kept after the upgrade)" in (run / "plan.yaml").read_text()
    # said: a person who had pinned that model, then removed it, keeps its plan
    assert (
        "plan.yaml was made by anthropic/claude-sonnet-4-6, the default planner when it "
        f"was planned; it is kept (set planner.model to {now_model} to plan again with "
        "today's default)"
    ) in told, told
    # a run that did not record its planner (2026-11-22's): said once, not garbled
    import sqlite3

    run3 = tmp_path / "run3"
    await Pipeline(goals, old, out=run3, keys=KEYS).run(until="plan")
    sent = sim.stats()["totals"]["messages"]
    con = sqlite3.connect(run3 / "run.db")
    with con:
        (detail,) = con.execute(
            "SELECT detail FROM steps WHERE scene_id='_run' AND stage='plan'"
        ).fetchone()
        unnamed = {k: v for k, v in json.loads(detail).items() if k != "planner"}
        con.execute(
            "UPDATE steps SET detail=? WHERE scene_id='_run' AND stage='plan'",
            (json.dumps(unnamed),),
        )
    con.close()
    told.clear()
    await Pipeline(goals, now, out=run3, keys=KEYS, reporter=Told()).run(until="plan")
    assert sim.stats()["totals"]["messages"] == sent, told
    assert (
        "plan.yaml was made by the default planner of when it was planned; it is kept (set "
        f"planner.model to {now_model} to plan again with today's default)"
    ) in told, told
    # a goal edited at the first render after the upgrade: only that goal is planned again
    # (it planned the whole movie again: the planner of before was another planner)
    await Pipeline(goals, old, out=tmp_path / "run2", keys=KEYS).run(until="plan")
    goals.write_text(goals.read_text().replace("vision: ", "vision: Still ", 1))
    said: list[str] = []

    class Said(NullReporter):
        def warn(self, text: str) -> None:
            said.append(text)

    sent = sim.stats()["totals"]["messages"]
    await Pipeline(goals, now, out=tmp_path / "run2", keys=KEYS, reporter=Said()).run(until="plan")
    assert sim.stats()["totals"]["messages"] == sent + 1, said
    assert any("changed or new (1) only" in w for w in said), said
    assert not any("the planner (" in w for w in said), said
    # a planner.model set (to another than that of before): planned again, as asked
    other = settings_for("byteplus", sim, planner={"model": "claude-haiku-4-5"})
    await Pipeline(goals, other, out=run, keys=KEYS).run(until="plan")
    assert sim.stats()["totals"]["messages"] == sent + 2  # (the partial plan's, and its)
    # today's default set by name: a choice, not the default of before's run going on
    await Pipeline(goals, old, out=tmp_path / "run3", keys=KEYS).run(until="plan")
    sent = sim.stats()["totals"]["messages"]
    pinned = settings_for("byteplus", sim, planner={"model": now_model})
    await Pipeline(goals, pinned, out=tmp_path / "run3", keys=KEYS).run(until="plan")
    assert sim.stats()["totals"]["messages"] == sent + 1


async def test_a_keyframe_that_is_no_picture_buys_no_clip(sim: SimServer, tmp_path: Path) -> None:
    """A keyframe.png that is no picture, journaled as made (a download cut short that a
    version before 2026-12-03 saved as it came): its step reads as intact, and every
    render bought a paid clip from it, sent as the first frame. The scene fails saying
    what to do, nothing sent for it; the other scenes' clips are bought."""
    import sqlite3

    from mindmovie.fsutil import sha256_file

    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for("byteplus", sim)
    first = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    bad = first.plan.scenes[1].id
    png = run / "scenes" / bad / "keyframe.png"
    png.write_bytes(b"mindmovie-sim: not a picture")
    with sqlite3.connect(run / "run.db") as db:
        db.execute(
            "UPDATE steps SET sha256=? WHERE scene_id=? AND stage='keyframe'",
            (sha256_file(png), bad),
        )
    jobs = sim.stats()["totals"]["jobs_created"]
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed):
        await pipe.run(until="clips")
    assert pipe.result is not None and set(pipe.result.failed) == {bad}
    assert "is not a picture" in pipe.result.failed[bad], pipe.result.failed
    assert sim.stats()["totals"]["jobs_created"] == jobs + len(first.plan.scenes) - 1


@pytest.mark.parametrize("how", ["replaced", "deleted", "replaced in its wait"])
async def test_a_keyframe_replaced_or_deleted_before_its_clip_buys_no_clip_of_it(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A keyframe.png replaced by another picture while the render ran, before its
    scene's clip: the clip was bought from the picture put there and kept as the clip of
    the keyframe made (the next render reused it: a wrong movie no render mended); one
    deleted was said to be "not a picture" (the concurrent-use audit). The scene fails
    saying so, nothing sent for it; the next render makes the keyframe again, then the
    clip, from the keyframe as planned."""
    from PIL import Image

    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for("byteplus", sim)
    clip_once = Pipeline._clip_once
    reserve = Pipeline._reserve
    hit: list[str] = []

    def meddle(scene_id: str) -> None:
        hit.append(scene_id)
        png = run / "scenes" / scene_id / "keyframe.png"
        if how == "deleted":
            png.unlink()
        else:
            with Image.open(png) as im:
                size = im.size
            Image.new("RGB", size, (0, 216, 0)).save(png)

    async def meddled(self: Pipeline, store: Any, model: Any, req: Any, *a: Any, **kw: Any) -> Any:
        if not hit:  # the first clip's keyframe, as its turn comes
            meddle(req.scene_id)
        return await clip_once(self, store, model, req, *a, **kw)

    async def meddled_in_wait(self: Pipeline, scene_id: str, stage: str, *a: Any, **kw: Any) -> Any:
        if stage == "clip" and not hit:  # its step begun, its request about to be sent
            meddle(scene_id)
        return await reserve(self, scene_id, stage, *a, **kw)

    if how == "replaced in its wait":
        monkeypatch.setattr(Pipeline, "_reserve", meddled_in_wait)
    else:
        monkeypatch.setattr(Pipeline, "_clip_once", meddled)
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed):
        await pipe.run(until="clips")
    (bad,) = hit
    assert pipe.result is not None and set(pipe.result.failed) == {bad}
    said = pipe.result.failed[bad]
    want = "went away during the render" if how == "deleted" else "changed since it was made"
    assert want in said and "nothing was sent for the clip" in said, said
    n = len(pipe.result.plan.scenes)
    assert sim.stats()["totals"]["jobs_created"] == n - 1
    images = sim.stats()["totals"]["images"]
    # nothing counted for the clip not sent (its row, reserved in its wait, refunded)
    states = [r["state"] for r in ledger_rows(run, "clip") if r["scene_id"] == bad]
    assert states == (["refunded"] if how == "replaced in its wait" else []), states
    # the next render: the keyframe made again (its file is not the one made), then its clip
    monkeypatch.setattr(Pipeline, "_clip_once", clip_once)
    monkeypatch.setattr(Pipeline, "_reserve", reserve)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    assert sim.stats()["totals"]["jobs_created"] == n
    # (the picture made is gone from the run: made again, as `status` says of it)
    assert sim.stats()["totals"]["images"] == images + 1
    with Image.open(run / "scenes" / bad / "keyframe.png") as im:
        assert im.convert("RGB").getpixel((0, 0)) != (0, 216, 0)


@pytest.mark.parametrize("when", ["in its wait", "just after its key"])
async def test_a_photo_replaced_before_its_keyframe_is_sent_is_not_sent_under_the_old_key(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """The person's photo (a reference of every scene) replaced while the render waited
    to send keyframes keyed by it: the photo put there was sent under the key of the one
    read, and with the old photo put back, status said "reuse" of keyframes made from
    the other (the concurrent-use audit). A scene keyed by the photo read fails saying
    so, nothing sent for it (its row refunded); the next render makes those from the
    photo as it is then, and the one after reuses every one. Replaced just after a
    key was made: the photo's bytes were read for the check after an await, new, and
    sent under the old key (CI caught it): they are those the key was made of."""
    from tests.media import write_photo

    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for("byteplus", sim)
    reserve = Pipeline._reserve
    variants = Pipeline._keyframe_variants
    swapped: list[str] = []

    def swap(scene_id: str) -> None:
        swapped.append(scene_id)
        write_photo(tmp_path / "photos" / "portrait.jpg", (10, 200, 30))

    async def meddled_in_wait(self: Pipeline, scene_id: str, stage: str, *a: Any, **kw: Any) -> Any:
        if stage == "keyframe" and not swapped:  # its request about to be sent
            swap(scene_id)
        return await reserve(self, scene_id, stage, *a, **kw)

    def meddled_after_key(self: Pipeline, model: Any, scene: Any, *a: Any, **kw: Any) -> Any:
        made = variants(self, model, scene, *a, **kw)
        if not swapped and sys._getframe(1).f_code.co_name == "_keyframe":  # its request's
            swap(scene.id)
        return made

    if when == "in its wait":
        monkeypatch.setattr(Pipeline, "_reserve", meddled_in_wait)
    else:
        monkeypatch.setattr(Pipeline, "_keyframe_variants", meddled_after_key)
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed):
        await pipe.run(until="keyframes")
    assert pipe.result is not None and swapped[0] in pipe.result.failed
    for said in pipe.result.failed.values():
        assert "portrait.jpg changed during the render" in said, said
        assert "nothing was sent for it" in said, said
    n, failed = len(pipe.result.plan.scenes), len(pipe.result.failed)
    assert sim.stats()["totals"]["images"] == n - failed
    states = {
        r["state"] for r in ledger_rows(run, "keyframe") if r["scene_id"] in pipe.result.failed
    }
    assert states <= {"refunded"}, states
    monkeypatch.setattr(Pipeline, "_reserve", reserve)
    monkeypatch.setattr(Pipeline, "_keyframe_variants", variants)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == n
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert sim.stats()["totals"]["images"] == n  # each keyed by the photo it was made from


async def test_a_next_keyframe_replaced_before_a_chained_clip_is_sent_is_not_sent(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """video.chain_frames: a clip's last frame is the next scene's keyframe.png, read
    when the clip is sent. Replaced meanwhile, the picture put there was sent and the
    clip kept, keyed by the keyframe made; the next render made that keyframe again and
    bought the clip again (the review). It is looked at as the clip's own keyframe is:
    the clip is not sent, its row refunded."""
    from PIL import Image

    from mindmovie.plan import load_plan

    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for("byteplus", sim, planner={"provider": "local"}, video={"chain_frames": True})
    reserve = Pipeline._reserve
    hit: list[tuple[str, str]] = []

    async def meddled(self: Pipeline, scene_id: str, stage: str, *a: Any, **kw: Any) -> Any:
        ids = [sc.id for sc in load_plan(run / "plan.yaml").scenes] if stage == "clip" else []
        if stage == "clip" and not hit and scene_id != ids[-1]:
            following = ids[ids.index(scene_id) + 1]
            hit.append((scene_id, following))
            png = run / "scenes" / following / "keyframe.png"
            with Image.open(png) as im:
                size = im.size
            Image.new("RGB", size, (0, 216, 0)).save(png)
        return await reserve(self, scene_id, stage, *a, **kw)

    monkeypatch.setattr(Pipeline, "_reserve", meddled)
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    with pytest.raises(RenderFailed):
        await pipe.run(until="clips")
    ((bad, following),) = hit
    assert pipe.result is not None and bad in pipe.result.failed, pipe.result.failed
    said = pipe.result.failed[bad]
    assert "the next scene's keyframe (its last frame)" in said, said
    assert f"scenes/{following}/keyframe.png changed since it was made" in said, said
    states = [r["state"] for r in ledger_rows(run, "clip") if r["scene_id"] == bad]
    assert states == ["refunded"], states
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    assert len(creates) == sim.stats()["totals"]["jobs_created"]


def test_a_keyframe_of_more_pixels_than_pillow_opens_unasked_is_a_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above refuses no picture for its size: Pillow's decompression-bomb
    guard (over ~179 MP) raised out of it, failing the scene."""
    from PIL import Image

    from mindmovie.pipeline import _is_picture

    Image.new("RGB", (64, 36)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 2,304 pixels: a "bomb"
    assert _is_picture(tmp_path / "big.png")
