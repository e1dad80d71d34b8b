"""What `mindmovie status RUN_DIR` shows: every step, and per scene what is done.

The scenes are those of the run's plan.yaml, in its order (a scene not started yet is
listed too); a scene with steps in run.db that is no longer in plan.yaml is listed after
them, marked "not in plan". What the next render does is said only as far as the run
directory can tell: a finished step's file is checked against the sha256 the store
recorded (as the render does), but whether its *inputs* changed (an edited prompt, other
settings or photos) depends on the settings the render is given, so it is checked then.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mindmovie.plan import (
    CLIP_FIELDS,
    RENDERED_PLAN_META,
    TEXT_FIELDS,
    Plan,
    edited_fields,
    load_plan,
)
from mindmovie.store import Store, StoreError
from mindmovie.yamlsrc import SourceError

SCENE_STAGES = ("keyframe", "clip")
FILE_NAMES = {"keyframe": "keyframe.png", "clip": "clip.mp4"}


def _read_plan(run_dir: Path) -> tuple[Plan | None, str | None]:
    """(plan.yaml, why it could not be read): the plan None without one."""
    path = run_dir / "plan.yaml"
    if not path.is_file():
        return None, None
    try:
        return load_plan(path), None
    except SourceError as e:
        return None, str(e)


def collect_status(run_dir: Path) -> dict[str, Any]:
    """Read run.db (never creating one) and plan.yaml into a JSON-able summary."""
    db = run_dir / "run.db"
    if not db.is_file():
        raise StoreError(f"{run_dir}: no run here (no run.db). Render a goals.yaml first.")
    plan, plan_error = _read_plan(run_dir)
    plan_ids = None if plan is None else [s.id for s in plan.scenes]
    store = Store(db)
    try:
        steps = store.steps()
        run_no = int(store.get_meta("run_no") or 0)
        # plan.yaml edits since the last render, as far as the plan itself tells
        recorded = (
            {}
            if plan is None
            else {sc.id: store.get_meta(RENDERED_PLAN_META + sc.id) for sc in plan.scenes}
        )
        edited = {} if plan is None else edited_fields(recorded, plan)
        ledger = store.ledger_rows()
        # a finished step is reused only if its file is intact: check it as the render does
        files = {
            (s.scene_id, s.stage): store.artifact_problem(s) or "ok"
            for s in steps
            if s.status == "succeeded" and (s.stage in SCENE_STAGES or s.stage == "movie")
        }
    finally:
        store.close()
    in_plan = None if plan_ids is None else set(plan_ids)
    scenes: dict[str, dict[str, Any]] = {
        sid: {"scene_id": sid, "attempts": 0, "in_plan": True} for sid in plan_ids or []
    }
    for st in steps:
        if st.stage not in SCENE_STAGES:
            continue
        row = scenes.setdefault(
            st.scene_id,
            {
                "scene_id": st.scene_id,
                "attempts": 0,
                "in_plan": None if in_plan is None else st.scene_id in in_plan,
            },
        )
        row[st.stage] = st.status
        row["attempts"] = max(row["attempts"], st.attempts)
        if st.error:
            row["error"] = f"{st.stage}: {st.error}"
        if st.remote_id:
            row["remote_id"] = st.remote_id
        if (st.scene_id, st.stage) in files:
            row.setdefault("files", {})[st.stage] = files[(st.scene_id, st.stage)]
    money: dict[str, dict[str, float]] = {}
    for row in ledger:
        m = money.setdefault(row["scene_id"], {"estimated": 0.0, "billed": 0.0, "in_flight": 0.0})
        m["estimated"] += row["estimated_usd"]
        if row["state"] == "billed":
            m["billed"] += row["billed_usd"] or 0.0
        elif row["state"] == "committed":
            # what the budget gate holds for it (at least the estimate)
            m["in_flight"] += row.get("held_usd") or row["estimated_usd"]
    for sid, m in money.items():
        if sid in scenes:
            scenes[sid]["spend"] = {k: round(v, 6) for k, v in m.items()}
    totals = {
        k: round(sum(m[k] for m in money.values()), 6) for k in ("estimated", "billed", "in_flight")
    }
    for row in scenes.values():
        if row["scene_id"] in edited:
            row["edited"] = edited[row["scene_id"]]
        # a clip finished before scenes were recorded (an older run): nothing to compare
        row["recorded"] = bool(recorded.get(row["scene_id"]))
        row["next"] = _next_action(row)
    movie = next((s for s in steps if s.stage == "movie"), None)
    planner = money.get("_run")
    return {
        "money": totals,
        "planner_spend": None if planner is None else {k: round(v, 6) for k, v in planner.items()},
        "ledger": ledger,
        "run_dir": str(run_dir),
        "run_no": run_no,
        "plan": None
        if plan_ids is None
        else {"path": str(run_dir / "plan.yaml"), "scenes": plan_ids},
        "plan_error": plan_error,
        "steps": [
            {
                **s.as_dict(),
                "in_plan": None
                if in_plan is None or s.stage not in SCENE_STAGES
                else s.scene_id in in_plan,
            }
            for s in steps
        ],
        "scenes": list(scenes.values()),
        "movie": None
        if movie is None
        else {
            "status": movie.status,
            "artifact": movie.artifact,
            "file": files.get((movie.scene_id, movie.stage)),
        },
    }


def _file_problem(row: dict[str, Any], stage: str) -> str | None:
    """'clip.mp4 missing' when a finished step's file is gone or not the one recorded."""
    state = row.get("files", {}).get(stage)
    if row.get(stage) != "succeeded" or state in (None, "ok"):
        return None
    return f"{FILE_NAMES[stage]} {state}"


def _next_action(row: dict[str, Any]) -> str:
    """What the next `render` would do for this scene, in the person's words.

    Only what the run directory shows is claimed: a finished step's file is checked here;
    its inputs (plan.yaml, settings, photos) are checked by the render itself."""
    if row.get("in_plan") is False:
        return "none: not in plan.yaml"
    kf, clip = row.get("keyframe"), row.get("clip")
    kf_bad, clip_bad = _file_problem(row, "keyframe"), _file_problem(row, "clip")
    if clip == "succeeded":
        if kf_bad and clip_bad:
            return f"redo: {kf_bad}, {clip_bad}"
        if kf_bad:
            # the clip's key holds its keyframe's sha256: an identical new image keeps it
            return f"redo: {kf_bad}; the clip too unless the new image is identical"
        if clip_bad:
            return f"redo: {clip_bad}"
        if not row.get("recorded", True):
            return "reuse if inputs unchanged"
        return _after_edits(row.get("edited", []))
    if kf_bad:
        return f"redo: {kf_bad}, then make the clip"
    if clip == "submitted" and row.get("remote_id"):
        return f"poll job {row['remote_id']} and download it (no new job)"
    if clip in ("failed", "running"):
        err = row.get("error") or ""
        if row.get("remote_id") and "content filter" not in err:
            return f"re-poll job {row['remote_id']}; a new job only if the provider says it failed"
        if "content filter" in err or "content_rejected" in err:
            return "retry the clip once with the content-filter fallback"
        return f"retry the clip (attempt {int(row.get('attempts', 0)) + 1})"
    if kf == "succeeded":
        return "make the clip"
    if kf in ("failed", "running"):
        return "retry the keyframe, then make the clip"
    if kf is None and clip is None:
        return "not started: keyframe, then clip"
    return "make the keyframe, then the clip"


def _after_edits(edited: list[str]) -> str:
    """A finished scene's next step given the plan.yaml fields edited since its render."""
    if not edited:
        return "reuse if settings unchanged"
    # the first edited field is the earliest stage it redoes (edited_fields' order)
    first = edited[0]
    if first in TEXT_FIELDS:
        return f"reuse; new text ({first} edited)"
    if first in CLIP_FIELDS:
        return f"redo clip: {', '.join(edited)} edited"
    if edited == ["goal"]:  # reaches the keyframe only through the goal's own photos
        return "redo if its photo changes: goal edited"
    return f"redo: {', '.join(edited)} edited"
