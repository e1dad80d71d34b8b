"""What `mindmovie status RUN_DIR` shows: every step, and per scene what is done."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mindmovie.store import Store, StoreError

SCENE_STAGES = ("keyframe", "clip")


def collect_status(run_dir: Path) -> dict[str, Any]:
    """Read run.db (never creating one) into a JSON-able summary."""
    db = run_dir / "run.db"
    if not db.is_file():
        raise StoreError(f"{run_dir}: no run here (no run.db). Render a goals.yaml first.")
    store = Store(db)
    try:
        steps = store.steps()
        run_no = int(store.get_meta("run_no") or 0)
        ledger = store.ledger_rows()
    finally:
        store.close()
    scenes: dict[str, dict[str, Any]] = {}
    for st in steps:
        if st.stage not in SCENE_STAGES:
            continue
        row = scenes.setdefault(st.scene_id, {"scene_id": st.scene_id, "attempts": 0})
        row[st.stage] = st.status
        row["attempts"] = max(row["attempts"], st.attempts)
        if st.error:
            row["error"] = f"{st.stage}: {st.error}"
        if st.remote_id:
            row["remote_id"] = st.remote_id
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
        row["next"] = _next_action(row)
    movie = next((s for s in steps if s.stage == "movie"), None)
    planner = money.get("_run")
    return {
        "money": totals,
        "planner_spend": None if planner is None else {k: round(v, 6) for k, v in planner.items()},
        "ledger": ledger,
        "run_dir": str(run_dir),
        "run_no": run_no,
        "steps": [s.as_dict() for s in steps],
        "scenes": list(scenes.values()),
        "movie": None if movie is None else {"status": movie.status, "artifact": movie.artifact},
    }


def _next_action(row: dict[str, Any]) -> str:
    """What the next `render` would do for this scene, in the person's words."""
    kf, clip = row.get("keyframe"), row.get("clip")
    if clip == "succeeded":
        return "reuse (hash checked)"
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
    return "make the keyframe, then the clip"
