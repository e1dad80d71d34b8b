"""A paid plan made again only for the goals that changed (`Pipeline._partial_replan`).

With Claude planning, one goal edited in goals.yaml asked Claude for the whole plan
again: its answer (temperature 1) had new prompts for every scene, so every keyframe and
clip of the goals that did not change was bought again, and the person's plan.yaml edits
of those goals were dropped. Here the simulated Claude answers differently at each
render (as a full plan made again would: every prompt new), so only a render that asks
for the changed goals alone keeps the others' paid work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mindmovie import costs
from mindmovie.goals import load_goals
from mindmovie.pipeline import Pipeline, estimate_for
from mindmovie.plan import load_plan
from mindmovie.status import collect_status
from tests.integration.support import KEYS, goals_file, settings_for
from tests.sim.server import SimServer

PAID = ("messages", "images", "jobs_created")
#: the scenes of goals_file's three goals, as planned
SCENE_IDS = ["01-health-1", "02-career-1", "02-career-2", "03-lifestyle-1"]


def _claude(tag: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A simulated Claude that plans the goals it is sent (the request's brief), every
    prompt marked with `tag`: another tag, another answer for the same goals."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        text = body["messages"][0]["content"]
        brief = json.loads(text[text.index("{") :])
        scenes = [
            {
                "goal": g["goal"],
                "affirmation": f"I live it, {g['category']} {k} {tag}",
                "image_prompt": f"{g['vision']}, scene {k}, {tag}",
                "motion_prompt": f"slow push in on {g['category']} {k}, {tag}",
                "seconds": 4,
            }
            for g in brief["goals"]
            for k in range(1, g["scenes"] + 1)
        ]
        return {"title": brief["title"], "closing": "Thank you", "scenes": scenes}

    return answer


def _paid(sim: SimServer) -> dict[str, float]:
    totals = sim.stats()["totals"]
    return {k: totals[k] for k in PAID}


def _bought(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What was paid for between two `_paid` counts."""
    return {k: after[k] - before[k] for k in PAID}


def _briefs(sim: SimServer) -> list[dict[str, Any]]:
    """The goals each planner request named (the brief in its user message)."""
    out = []
    for r in sim.requests(path="/v1/messages", method="POST"):
        text = r["body"]["messages"][0]["content"]
        out.append(json.loads(text[text.index("{") :]))
    return out


async def _rendered_and_edited(sim: SimServer, tmp_path: Path) -> tuple[Path, Any, Path]:
    """goals_file's three goals (4 scenes) rendered to their clips with byteplus (Claude
    planning, answer "one"), then plan.yaml's 03-lifestyle-1 affirmation edited by hand;
    the simulated Claude now answers "two"."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.set_planner(_claude("one"))
    s = settings_for("byteplus", sim)
    run = tmp_path / "run"
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    assert _paid(sim) == {"messages": 1, "images": 4, "jobs_created": 4}
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    assert plan["scenes"][3]["id"] == "03-lifestyle-1"
    plan["scenes"][3]["affirmation"] = "I wake to the sound of the sea"  # a hand edit
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    sim.set_planner(_claude("two"))  # a whole plan asked again would change every prompt
    return goals, s, run


async def test_one_goal_edited_asks_claude_for_that_goal_only_and_keeps_the_others(
    sim: SimServer, tmp_path: Path
) -> None:
    """One goal's vision edited: one planner call naming that goal alone; the other
    goals' scenes (with the hand edit) are kept, and their keyframes and clips are not
    bought again: one image and one clip job, the edited goal's one scene."""
    goals, s, run = await _rendered_and_edited(sim, tmp_path)
    before = _paid(sim)
    asked = len(_briefs(sim))
    goals.write_text(goals.read_text().replace("Strong and rested", "Strong, calm and rested"))
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    after = _paid(sim)
    assert _bought(before, after) == {"messages": 1, "images": 1, "jobs_created": 1}
    brief = _briefs(sim)[asked:]
    assert [[(g["goal"], g["category"], g["vision"]) for g in b["goals"]] for b in brief] == [
        [(1, "health", "Strong, calm and rested")]
    ]
    plan = load_plan(run / "plan.yaml")
    assert [sc.id for sc in plan.scenes] == SCENE_IDS
    prompts = {sc.id: sc.image_prompt for sc in plan.scenes}
    assert prompts["01-health-1"].endswith(", two")
    assert all(prompts[i].endswith(", one") for i in ("02-career-1", "02-career-2"))
    assert plan.scene("03-lifestyle-1").affirmation == "I wake to the sound of the sea"
    # and the next render with nothing changed buys nothing
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    assert _paid(sim) == after


async def test_a_goal_removed_asks_no_planner_and_buys_nothing(
    sim: SimServer, tmp_path: Path
) -> None:
    """A goal removed: the others did not change, so no planner call and nothing bought;
    the plan is renumbered (03-lifestyle-1 is 02-lifestyle-1 now, its hand edit kept)."""
    goals, s, run = await _rendered_and_edited(sim, tmp_path)
    before = _paid(sim)
    text = goals.read_text()
    career = "  - category: career\n    vision: Leading a team I admire\n    scenes: 2\n"
    assert career in text
    goals.write_text(text.replace(career, ""))
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    assert _paid(sim) == before
    plan = load_plan(run / "plan.yaml")
    assert [(sc.id, sc.goal) for sc in plan.scenes] == [
        ("01-health-1", 1),
        ("02-lifestyle-1", 2),
    ]
    assert all(sc.image_prompt.endswith(", one") for sc in plan.scenes)
    assert plan.scene("02-lifestyle-1").affirmation == "I wake to the sound of the sea"

    # the goal put back: the plan kept for these goals comes back, for free
    goals.write_text(text)
    await Pipeline(goals, s, out=run, keys=KEYS).run(until="clips")
    assert _paid(sim) == before
    plan = load_plan(run / "plan.yaml")
    assert [sc.id for sc in plan.scenes] == SCENE_IDS
    assert plan.scene("03-lifestyle-1").affirmation == "I wake to the sound of the sea"


async def test_the_estimate_prices_only_the_changed_goal_s_scenes_and_plan_call(
    sim: SimServer, tmp_path: Path
) -> None:
    """`mindmovie estimate` (and the render's spend question, which prices the same
    outlook) after one goal's vision was edited: that goal's one scene and a plan call
    for it alone, not every scene and the whole plan; after a goal removed: nothing."""
    goals, s, run = await _rendered_and_edited(sim, tmp_path)
    text = goals.read_text()
    goals.write_text(text.replace("Strong and rested", "Strong, calm and rested"))
    est = estimate_for(goals, s, out=run)
    said = collect_status(run, settings=s, goals=goals)["inputs"]["new_plan_why"]
    assert said.startswith("goals.yaml changed since plan.yaml was made: the next render "), said
    assert "asking the planner for 1 new or changed goal only (the other goals keep" in said
    assert [sc.scene_id for sc in est.scenes if sc.keyframe.payable] == ["01-health-1"]
    assert [sc.scene_id for sc in est.scenes if sc.video.payable] == ["01-health-1"]
    whole = costs.estimate_planner(s, load_goals(goals))
    assert est.planner is not None and 0 < est.planner.usd < whole.usd
    assert est.planner.inputs["scenes"] == 1 and whole.inputs["scenes"] == 4
    assert any("only the new or changed goals are planned again" in n for n in est.notes)
    # the render's own spend question: the same figures
    asked: list[Any] = []

    def yes(e: Any) -> bool:
        asked.append(e)
        return True

    await Pipeline(goals, s, out=run, keys=KEYS, confirm=yes).run(until="clips")
    assert asked and asked[0].planner.usd == est.planner.usd
    assert [sc.scene_id for sc in asked[0].scenes if sc.video.payable] == ["01-health-1"]

    career = "  - category: career\n    vision: Leading a team I admire\n    scenes: 2\n"
    goals.write_text(goals.read_text().replace(career, ""))
    est = estimate_for(goals, s, out=run)
    assert est.planner is None
    assert not [sc.scene_id for sc in est.scenes if sc.keyframe.payable or sc.video.payable]
    # status tells the scene renumbered as reused, under its new id
    rows = {r["scene_id"]: r for r in collect_status(run, settings=s, goals=goals)["scenes"]}
    assert rows["02-lifestyle-1"].get("in_new_plan") is True
    assert all(rows["02-lifestyle-1"]["reuse"].values()), rows["02-lifestyle-1"]


async def test_another_video_model_whose_lengths_fit_the_plan_asks_no_planner(
    sim: SimServer, tmp_path: Path
) -> None:
    """Another Seedance model (2-12 s clips, the default's 4-12 s): its clip lengths
    changed the plan's options, and the whole plan was asked of Claude again, whose new
    prompts bought every keyframe again (and the clips, as another model's). Each of the
    plan's 4 s fits the new model: no planner call, the keyframes kept, only the clips
    (another model's) bought; the estimate said so first. A length the new model does
    not make is planned again, as before."""
    goals, _, run = await _rendered_and_edited(sim, tmp_path)
    before = _paid(sim)
    other = settings_for("byteplus", sim, video={"model": "seedance-1-0-pro"})
    est = estimate_for(goals, other, out=run)
    assert est.planner is None
    said = collect_status(run, settings=other, goals=goals)["inputs"]["new_plan_why"]
    assert "makes a new plan, asking no planner (every goal keeps its scenes)" in said
    assert not [sc.scene_id for sc in est.scenes if sc.keyframe.payable]
    assert len([sc for sc in est.scenes if sc.video.payable]) == 4
    await Pipeline(goals, other, out=run, keys=KEYS).run(until="clips")
    after = _paid(sim)
    assert _bought(before, after) == {"messages": 0, "images": 0, "jobs_created": 4}
    plan = load_plan(run / "plan.yaml")
    assert all(sc.image_prompt.endswith(", one") for sc in plan.scenes)
    assert plan.scene("03-lifestyle-1").affirmation == "I wake to the sound of the sea"
    # 2-12 s made 4-12 s: the plan's 4 s stays; 4, 6 or 8 s only (a Veo-like model)
    from mindmovie.pipeline import _lengths_still_fit

    was = {"scene_seconds": 4, "scenes_per_goal": 1, "allowed_seconds": [2.0, 3.0, 4.0]}
    now = {**was, "allowed_seconds": [6.0, 8.0]}
    assert not _lengths_still_fit(was, now, [{"seconds": 4}])
    assert _lengths_still_fit(was, {**now, "allowed_seconds": [4.0, 8.0]}, [{"seconds": 4}])
    assert not _lengths_still_fit(was, {**now, "scene_seconds": 6}, [{"seconds": 4}])


async def test_a_new_title_saved_with_one_goal_edited_buys_that_goal_s_scene_only(
    sim: SimServer, tmp_path: Path
) -> None:
    """The title and one goal's vision changed in one save: the render took the earlier
    run for another movie's (its plan key no longer matched), started a new run in
    outputs/<new title>/ and bought the whole plan and every keyframe and clip again.
    The run is renamed and goes on: one planner call for the edited goal, one image and
    one clip job, as for the vision edit alone."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.set_planner(_claude("one"))
    s = settings_for("byteplus", sim, output_dir=str(tmp_path / "outputs"))
    first = await Pipeline(goals, s, keys=KEYS).run(until="clips")
    assert first.run_dir == tmp_path / "outputs" / "sim-movie"
    sim.set_planner(_claude("two"))
    before = _paid(sim)
    text = goals.read_text().replace("title: Sim Movie\n", "title: Sim Movie Two\n")
    goals.write_text(text.replace("Strong and rested", "Strong, calm and rested"))
    res = await Pipeline(goals, s, keys=KEYS).run(until="clips")
    assert _bought(before, _paid(sim)) == {"messages": 1, "images": 1, "jobs_created": 1}
    assert res.run_dir == tmp_path / "outputs" / "sim-movie-two"
    assert not first.run_dir.exists()


@pytest.mark.parametrize("keeping", ["kept", "cannot be kept"])
async def test_plan_yaml_edited_while_the_planner_answers_is_kept_not_written_over(
    sim: SimServer, tmp_path: Path, keeping: str
) -> None:
    """plan.yaml edited while Claude planned a changed goal: the new plan was written
    over the edit, which no file held (plan.previous.yaml is copied before the call;
    the concurrent-use audit). The file as edited is kept as plan.previous.yaml (the
    copy before it moved to plan.previous.1.yaml), and the render says so. Where it
    cannot be kept (plan.previous.yaml made a folder meanwhile), the paid plan is written
    all the same, saying so (the review: the plan, paid, was lost to the failed copy)."""
    goals, s, run = await _rendered_and_edited(sim, tmp_path)
    plan_path = run / "plan.yaml"
    answer = _claude("two")

    def edited_meanwhile(body: dict[str, Any]) -> dict[str, Any]:
        plan_path.write_text(plan_path.read_text() + "# my note, written mid-plan\n")
        if keeping == "cannot be kept":
            (run / "plan.previous.yaml").unlink()
            (run / "plan.previous.yaml").mkdir()
        return answer(body)

    sim.set_planner(edited_meanwhile)
    goals.write_text(goals.read_text().replace("Strong and rested", "Strong, calm and rested"))
    said: list[str] = []
    pipe = Pipeline(goals, s, out=run, keys=KEYS)
    pipe.reporter.warn = said.append  # type: ignore[method-assign]
    await pipe.run(until="plan")
    assert "# my note, written mid-plan" not in plan_path.read_text()
    if keeping == "cannot be kept":
        assert "could not be kept" in " ".join(said), said
        assert len(load_plan(plan_path).scenes) == len(SCENE_IDS)  # the paid plan
        return
    kept = run / "plan.previous.yaml"
    assert kept.read_text().endswith("# my note, written mid-plan\n")
    before = (run / "plan.previous.1.yaml").read_text()
    assert "I wake to the sound of the sea" in before and "mid-plan" not in before
    assert any("was edited while the plan was being made" in w and str(kept) in w for w in said)
