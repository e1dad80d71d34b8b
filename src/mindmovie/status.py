"""What `mindmovie status RUN_DIR` shows: every step, and per scene what is done.

The scenes are those of the run's plan.yaml, in its order (a scene not started yet is
listed too); a scene with steps in run.db that is no longer in plan.yaml is listed after
them, marked "not in plan". A finished step's file is checked against the sha256 the
store recorded (as the render does). Whether its *inputs* changed (an edited prompt,
other settings, a replaced photo, with chained frames the next scene's keyframe) is
checked when status is given settings: the same input-key checks the render makes
(`Pipeline.outlook`), against the goals.yaml the last render recorded. Without them, or
when that goals.yaml cannot be read, status says only what the run directory tells.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mindmovie.fsutil import is_file, no_such_run_folder
from mindmovie.plan import (
    CLIP_FIELDS,
    COMPOSED_PLAN_META,
    KEYFRAMES_META,
    PAINT_UNUSED_FIELDS,
    PHOTO_UNUSED_FIELDS,
    RENDERED_PLAN_META,
    TEXT_FIELDS,
    Plan,
    PlanError,
    edited_fields,
    keyframe_edits,
    load_plan,
    movie_edits,
    movie_scene_changes,
    movie_settings_changes,
    painted_keyframe,
    photo_keyframe,
)
from mindmovie.providers.base import is_local_job
from mindmovie.store import (
    Step,
    Store,
    StoreError,
    check_journal_link,
    journal_missing,
    not_a_run_folder,
    run_above,
    runs_beside,
    runs_inside,
)
from mindmovie.yamlsrc import SourceError

if TYPE_CHECKING:
    from mindmovie.config import Settings
    from mindmovie.pipeline import Outlook

SCENE_STAGES = ("keyframe", "clip")
FILE_NAMES = {"keyframe": "keyframe.png", "clip": "clip.mp4"}


def _read_plan(run_dir: Path) -> tuple[Plan | None, str | None]:
    """(plan.yaml, why it could not be read): the plan None without one."""
    path = run_dir / "plan.yaml"
    if not path.exists():  # a folder named plan.yaml is said to be one, as render says
        return None, None
    try:
        return load_plan(path), None
    except SourceError as e:
        return None, str(e)


#: the settings sections that decide a scene's keyframe or clip (not compose/providers)
_SCENE_SETTINGS = ("preset", "output", "plan", "planner", "keyframes", "video")


def settings_changes(recorded: str | None, settings: Settings) -> list[str] | None:
    """The scene settings that differ from the last render's, as "field: old -> new"
    (None when the run recorded none)."""
    try:
        old = json.loads(recorded) if recorded else None
    except ValueError:
        old = None
    if not isinstance(old, dict):
        return None
    new = settings.model_dump(mode="json")

    def flat(d: Any, prefix: str) -> dict[str, Any]:
        if not isinstance(d, dict) or (prefix.endswith(".options")):
            return {prefix: d}
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(flat(v, f"{prefix}.{k}" if prefix else str(k)))
        return out

    a = {k: v for k, v in flat(old, "").items() if k.split(".")[0] in _SCENE_SETTINGS}
    b = {k: v for k, v in flat(new, "").items() if k.split(".")[0] in _SCENE_SETTINGS}
    return [
        f"{k}: {json.dumps(a.get(k))} -> {json.dumps(b.get(k))}"
        for k in sorted(a.keys() | b.keys())
        if a.get(k) != b.get(k)
    ]


def _outlook(
    run_dir: Path,
    settings: Settings,
    goals: Path | None,
    recorded_goals: str | None,
    moved_from: str | None = None,
) -> tuple[Outlook | None, dict[str, Any]]:
    """The next render's reuse, and what it was checked with (or why it was not).
    `moved_from`: the goals.yaml run.db records, not taken as this run folder's (it was
    moved or copied since: `pipeline.last_goals`)."""
    from mindmovie.config import ConfigError
    from mindmovie.goals import GoalsError
    from mindmovie.pipeline import RunDirError, outlook_for
    from mindmovie.providers.base import InvalidRequest

    path = goals if goals is not None else (Path(recorded_goals) if recorded_goals else None)
    info: dict[str, Any] = {"checked": False, "goals": None if path is None else str(path)}
    if path is None:
        info["why"] = (
            f"the run folder was moved or copied since it was rendered from {moved_from}; "
            "give --goals (the goals.yaml it is rendered from now)"
            if moved_from
            else "run.db does not say which goals.yaml it was made from; give --goals"
        )
        return None, info
    if goals is None and not is_file(path):
        # only for the one run.db recorded: a --goals given is read as render reads it,
        # whose error says what is wrong with it ("give --goals" to one who gave it was
        # no help, and "not found" was wrong for a folder)
        info["why"] = f"{path}: goals.yaml not found (the last render's); give --goals"
        return None, info
    try:
        look, needed = outlook_for(path, settings, run_dir)
    except PlanError as e:  # plan.yaml as the render refuses it (`check_plan`)
        info["why"] = info["plan_error"] = info["refused"] = str(e)
        return None, info
    except (SourceError, GoalsError, ConfigError, RunDirError) as e:  # render stops (exit 2)
        info["why"] = info["refused"] = str(e)
        if isinstance(e, ConfigError):  # a setting refused (`--aspect 1:1` with Veo)
            info["refused_setting"] = True  # the CLI says where it was set, as render does
        return None, info
    except (ValueError, OSError) as e:  # not known to be a mistake: only unchecked
        info["why"] = str(e)
        return None, info
    except InvalidRequest as e:  # a model the catalog does not know (as `render` says it)
        info["why"] = info["refused"] = e.message
        info["refused_setting"] = True  # the CLI says where it was set, as render does
        return None, info
    info["checked"] = True
    # the stages whose provider the render calls: a key not set for none of them is not
    # asked for (`Pipeline._keyless_spare`)
    info["stages_needed"] = sorted(needed)
    info["new_plan"] = look.plan is None
    if look.plan_kept:
        info["plan_kept"] = True
        if look.kept_lacks:
            info["plan_kept_lacks"] = list(look.kept_lacks)
    if look.plan is None:
        info["new_plan_why"] = look.new_plan_why
    return look, info


def held_apart(run_dir: Path) -> dict[str, dict[str, int]]:
    """What previous/ (runs `--fresh` set aside, files changed by hand) and kept/ (what
    edits replaced) hold, and the bytes deleting each would free: a file also linked from
    elsewhere (a picture the new run made again, a kept clip still in scenes/) frees
    nothing. Neither folder is ever pruned, and status said nothing of them: a project
    rendered for weeks had hundreds of MB there the person was never told of."""
    held: dict[str, dict[str, int]] = {}
    for name, count in (("previous", "folders"), ("kept", "files")):
        inodes: dict[tuple[int, int], list[int]] = {}  # size, links, links seen here
        files = 0
        for folder, _dirs, names in os.walk(run_dir / name):
            for n in names:
                try:
                    st = os.lstat(os.path.join(folder, n))
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                files += 1
                seen = inodes.setdefault((st.st_dev, st.st_ino), [st.st_size, st.st_nlink, 0])
                seen[2] += 1
        if not files:
            continue
        freed = sum(size for size, links, here in inodes.values() if here >= links)
        if count == "folders":
            files = sum(1 for d in (run_dir / name).iterdir() if d.is_dir())
        held[name] = {"bytes": freed, count: files}
    return held


def _killed_fresh(store: Store) -> str | None:
    """Where a `render --fresh` stopped at its question moved the run (`FRESH_META`)."""
    from mindmovie.pipeline import FRESH_META

    pending = store.get_meta(FRESH_META)
    if not pending:
        return None
    try:
        dest = str(json.loads(pending)["dest"])
    except (ValueError, KeyError, TypeError):
        return None
    return dest if Path(dest).is_dir() else None


def _moving_fresh(run_dir: Path) -> str | None:
    """The previous/<time>/ a `render --fresh` was killed moving the run into, before its
    new run.db was committed (`pipeline.moving_fresh`): the next render puts it back."""
    from mindmovie.pipeline import moving_fresh

    found = moving_fresh(run_dir)
    return str(found[0]) if found is not None else None


def _to_put_back(
    aside: Path, how: str, settings: Settings | None, goals: Path | None
) -> dict[str, Any]:
    """The status of a run that a `render --fresh`, stopped before it went on, left in
    `aside` (previous/<time>/): the run the next render puts back first and goes on with,
    shown as it is there, `put_back` saying so. It was an error (exit 2, no JSON), as if
    the next render refused the run, and said "stopped at its spend question" of an
    offline render, which asks none."""
    info = collect_status(aside, settings=settings, goals=goals)
    info["put_back"] = (
        f"a render --fresh was stopped {how} to {aside}, before it went on; nothing was "
        "spent, and the next render puts it back first (with --fresh, it moves it aside "
        "again and starts over). Shown as it is there:"
    )
    return info


def collect_status(
    run_dir: Path, *, settings: Settings | None = None, goals: Path | None = None
) -> dict[str, Any]:
    """Read run.db (never creating one) and plan.yaml into a JSON-able summary.

    With `settings`, each finished scene is also checked against what a render with
    them (of `goals`, by default the goals.yaml the last render recorded) would reuse."""
    from mindmovie.pipeline import (
        SETTINGS_META,
        _still_asks,
        goals_record,
        last_goals,
        movie_settings,
        rendering_pid,
    )

    db = run_dir / "run.db"
    check_journal_link(db)
    try:
        # an empty run.db is no journal (the render sets the files aside as without one);
        # a folder named run.db is one `Store` says is wrong
        there = db.exists() and not journal_missing(db)
        # (nothing journaled in it, SQLite's header and no table: a render killed in its
        # first transaction, or its write-ahead log deleted after a kill)
        header_only = not there and db.is_file() and db.stat().st_size > 0
    except OSError as e:  # a name longer than the filesystem allows, a folder not ours
        raise StoreError(f"{run_dir}: cannot look in it ({e.strerror or e})") from None
    if moving := _moving_fresh(run_dir):  # (run.db is the run's own, an empty or none)
        # (the run is split between here and there: not shown, as `_to_put_back` shows
        # a run set aside whole)
        raise StoreError(
            f"{run_dir}: a render --fresh was stopped as it moved this run to {moving}; "
            "nothing was spent, and the next render puts it back first (with --fresh, it "
            "moves it aside again and starts over)"
        )
    if not there:
        made = [n for n in ("scenes", "kept", "movie.mp4") if (run_dir / n).exists()]
        if made:
            # a run.db moved away (as a damaged one's message says) or deleted: what the
            # render does with the files it cannot check (`Pipeline._set_aside_unjournaled`)
            none = "an empty run.db" if db.exists() else "no run.db"
            raise StoreError(
                f"{run_dir}: {none}, so the {', '.join(made)} here cannot be checked: the "
                "next render moves them to previous/<time>/ (once its spend is agreed to) "
                "and makes them again"
            )
    # such a journal and nothing made: the empty run it is, shown as before
    if not there and not header_only:
        # `status goals.yaml`: said "no run here", to render (a named pipe too, which
        # storyboard and render call a file)
        if run_dir.exists() and not run_dir.is_dir():
            raise StoreError(not_a_run_folder(run_dir, "status"))
        if inside := runs_inside(run_dir, "status"):
            raise StoreError(f"{run_dir}: no run here; {inside}")
        if above := run_above(run_dir, "status"):
            raise StoreError(f"{run_dir}: no run here; {above}")
        # a typo, or a link to nothing: "no run here" read as if it were there
        if not os.path.exists(run_dir):
            raise StoreError(no_such_run_folder(run_dir, runs_beside(run_dir, "status")))
        # (a run.db of no bytes is there: "no run.db" of it sent the person to look)
        none = "an empty run.db" if db.is_file() else "no run.db"
        raise StoreError(f"{run_dir}: no run here ({none}). Render a goals.yaml first.")
    plan, plan_error = _read_plan(run_dir)
    plan_ids = None if plan is None else [s.id for s in plan.scenes]
    store = Store(db, read_only=True)
    try:
        if fresh := _killed_fresh(store):
            store.close()
            return _to_put_back(Path(fresh), "after moving this run", settings, goals)
        steps = store.steps()
        run_no = store.last_run_no()
        record = goals_record(run_dir, store.get_meta)
        recorded_goals = last_goals(run_dir, *record)
        # the goals.yaml recorded, when `last_goals` will not take it: the run folder was
        # moved or copied away from it (said so, not "run.db does not say which")
        moved_from = record[0] if recorded_goals is None and record[0] else None
        recorded_settings = store.get_meta(SETTINGS_META)
        composed = store.get_meta(COMPOSED_PLAN_META)
        # plan.yaml edits since the last render, as far as the plan itself tells
        recorded = (
            {}
            if plan is None
            else {sc.id: store.get_meta(RENDERED_PLAN_META + sc.id) for sc in plan.scenes}
        )
        edited = {} if plan is None else edited_fields(recorded, plan)
        keyframe_record = store.get_meta(KEYFRAMES_META)
        ledger = store.ledger_rows()
        # a finished step is reused only if its file is intact: check it as the render does
        files = {
            (s.scene_id, s.stage): _artifact_state(store, s)
            for s in steps
            if s.status == "succeeded" and (s.stage in SCENE_STAGES or s.stage == "movie")
        }
        # the clip jobs a render picks up rather than buys again (as the estimate counts);
        # a finished clip's whose file is not the one recorded too (downloaded again)
        jobs: dict[str, str | None] = {}
        for s in steps:
            if s.stage == "clip":
                bad = files.get((s.scene_id, "clip"), "ok") != "ok"
                job = store.resumable_job(s) or (store.refetchable_clip(s) if bad else None)
                # an offline clip's "job" is its render here: no job to poll or re-poll
                jobs[s.scene_id] = None if is_local_job(job) else job
        # creates with no job id made with other settings than these: kept, not looked
        # for, nor waited for, and their scenes' clips not bought (a render fails them)
        elsewhere = _lost_elsewhere(store, ledger, settings)
        kept_ids = set(elsewhere)
        ledger_here = [r for r in ledger if int(r["id"]) not in kept_ids]
        video = _video_provider(settings)
        late = _late_jobs(store, ledger_here)
        live = rendering_pid(run_dir)
        waits = _late_waits(ledger_here, _video_model(settings), live=live is not None)
        # paid tries a killed render began and sent nothing of: the next render's try
        # takes their place (`Store.begin(paid=)`), so they are not counted here either
        paid_stages = _paid_stages(recorded_settings)
        unsent = {
            (s.scene_id, s.stage)
            for s in steps
            if live is None and s.stage in paid_stages and store.killed_unsent(s)
        }
        lost_elsewhere = {
            str(r["scene_id"]): elsewhere[int(r["id"])]
            for r in ledger
            if int(r["id"]) in kept_ids and _still_asks(store, r)
        }
        # keyframes paid for whose download failed: the render downloads them from the
        # URL kept on their ledger row (as the estimate counts: Store.refetchable_result)
        refetch = {
            s.scene_id
            for s in steps
            if s.stage == "keyframe"
            and s.status != "succeeded"
            and store.refetchable_result(s.scene_id, "keyframe", s.input_key, any_scene=True)
            is not None
        }
        # clips whose fallback, asked after their planned request was refused, was
        # refused too (`pipeline.refused_whole`): the render sends neither again
        refused_whole = {
            (s.scene_id, s.stage)
            for s in steps
            if s.status == "failed"
            and s.error_kind == "content_rejected"
            and store.marked_fallback(s.input_key)
        }
    finally:
        store.close()
    look: Outlook | None = None
    inputs: dict[str, Any] = {"checked": False, "why": "no settings given"}
    # a plan.yaml load_plan refuses is refused by every render (exit 2)
    refused = plan_error
    if settings is not None:
        look, inputs = _outlook(run_dir, settings, goals, recorded_goals, moved_from)
        if "plan_error" in inputs:
            plan_error = inputs.pop("plan_error")
        # what the render stops on first; unchecked (goals.yaml moved), a plan.yaml that
        # cannot be read is still refused by any render
        refused = inputs.pop("refused", None) or (plan_error if look is None else None)
        inputs["settings_changed"] = settings_changes(recorded_settings, settings)
        if look is not None and look.plan_kept and look.plan is not None:
            # the render puts back the plan these goals had (kept/plan): its scenes are
            # the ones it works on, not plan.yaml's
            plan, plan_error = look.plan, None
            plan_ids = [s.id for s in plan.scenes]
            store = Store(db, read_only=True)
            try:
                recorded = {sc.id: store.get_meta(RENDERED_PLAN_META + sc.id) for sc in plan.scenes}
            finally:
                store.close()
            edited = edited_fields(recorded, plan)
    if look is not None:
        # the render's own test, against the requests asked now (`Outlook.refused`): one
        # reworded in plan.yaml since is sent again, and status still said "none: ...
        # reword" of it (the journal's fallback mark alone, the review found)
        refused_whole = {
            (sid, stage)
            for sid, stage in look.refused
            if stage == "keyframe" or (sid, "keyframe") not in look.refused
        }
    in_plan = None if plan_ids is None else set(plan_ids)
    scenes: dict[str, dict[str, Any]] = {
        sid: {"scene_id": sid, "attempts": 0, "in_plan": True} for sid in plan_ids or []
    }
    billed_jobs = {r["remote_id"] for r in ledger if r["state"] == "billed" and r["remote_id"]}
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
        tries = st.attempts - 1 if (st.scene_id, st.stage) in unsent else st.attempts
        row["attempts"] = max(row["attempts"], tries)
        # each step's own: "retry the clip (attempt N)" took the scene's (its keyframe's
        # tries too), and said attempt 2 of a clip never sent (`Store.fail(sent=False)`)
        row.setdefault("tries", {})[st.stage] = tries
        if st.error:
            row["error"] = f"{st.stage}: {st.error}"
        if st.error_kind in ("budget", "interrupted") and st.status == "failed":
            # stopped by the budget or Ctrl-C, most not even started: "failed" read as if
            # the provider had refused them (`status --json` keeps the journal's status)
            row.setdefault("stopped", {})[st.stage] = st.error_kind
        if st.error_kind == "result_gone" and st.status == "failed":
            # its paid result can no longer be downloaded: bought again, not retried
            row.setdefault("gone", {})[st.stage] = _detail_record(st.detail, "result_gone")
        if st.error_kind == "taken" and st.status == "failed" and st.stage == "clip":
            # its job given to a scene asking the very same clip (`Store.release_job`):
            # nothing of its own failed or is retried; it asks its clip anew
            row["taken"] = True
        if st.error_kind == "let_go" and st.status == "failed" and st.stage == "clip":
            # `render --let-go` let go of its job (`Store.let_go_job`): bought again
            row["let_go"] = _detail_record(st.detail, "let_go")
        if st.remote_id:
            row["remote_id"] = st.remote_id
            if st.stage == "clip" and st.status == "failed":
                # billed: the provider made it (a poll answered without its URL, a
                # download that failed); the render looks at it again first
                row["job_billed"] = st.remote_id in billed_jobs
        if st.stage == "clip" and is_local_job(st.remote_id):
            # made here, free: its step "submitted" is a render stopped midway (or
            # rendering now), not a job in flight
            row["local_clip"] = True
        if st.stage == "clip" and jobs.get(st.scene_id):
            row["job"] = jobs[st.scene_id]
            if st.error_kind == "provider_changed":
                # its job is not known with the provider settings its last render had
                # (`ProviderChanged`): kept, and picked up only where it was made
                row["kept_elsewhere"] = True
        if st.stage == "clip" and st.error_kind == "content_rejected" and st.status == "failed":
            # (by its kind: an input refused with HTTP 400, its message not naming the
            # filter, was "retry the clip (attempt 3)")
            row["refused"] = "whole" if (st.scene_id, "clip") in refused_whole else "planned"
        if st.stage == "keyframe" and (st.scene_id, "keyframe") in refused_whole:
            # its fallback refused too (`pipeline.refused_whole`): neither is sent again
            row["keyframe_refused"] = "whole"
        if st.stage == "clip" and st.scene_id in late:
            row["late_job"] = late[st.scene_id]
        if st.stage == "clip" and st.scene_id in lost_elsewhere:
            row["lost_elsewhere"] = lost_elsewhere[st.scene_id]
        if st.stage == "keyframe" and st.scene_id in refetch:
            row["refetch"] = True
        if (st.scene_id, st.stage) in files:
            row.setdefault("files", {})[st.stage] = files[(st.scene_id, st.stage)]
    money: dict[str, dict[str, float]] = {}
    for row in ledger:
        m = money.setdefault(
            row["scene_id"], {"estimated": 0.0, "billed": 0.0, "in_flight": 0.0, "unknown": 0.0}
        )
        if row["state"] != "refunded":
            # a refunded call (turned away, failed unbilled) cost nothing: counted, a
            # 429 retried showed its scene estimated at two clips, billed for one
            m["estimated"] += row["estimated_usd"]
        if row["state"] == "billed":
            m["billed"] += row["billed_usd"] or 0.0
        elif row["state"] == "committed":
            # what the budget gate holds for it (at least the estimate). A call whose
            # answer was lost and which no look can settle (a Seedream image's 5xx, a Veo
            # create's) is no longer in flight: it was shown so for ever. It is counted
            # apart, as the budget still counts it: its outcome is unknown
            held = row.get("held_usd") or row["estimated_usd"]
            usage = row.get("usage") or {}
            # (a job let go of by the person too, `Store.ledger_split`: no render polls
            # it while the settings differ; it was "in flight" for good)
            unknown = bool(usage.get("unknown_outcome") or usage.get("let_go"))
            unknown = unknown or (live is None and _left_by_a_stopped_render(row, video))
            m["unknown" if unknown else "in_flight"] += held
    for sid, m in money.items():
        if sid in scenes:
            scenes[sid]["spend"] = {k: round(v, 6) for k, v in m.items()}
    totals = {
        k: round(sum(m[k] for m in money.values()), 6)
        for k in ("estimated", "billed", "in_flight", "unknown")
    }
    # (a paid plan made again only for the goals that changed, `Outlook.partial`: its
    # scene ids are known, those of the goals kept renumbered as the render makes them)
    known = None if look is None else look.basis or look.partial
    new_ids = None if known is None else {s.id for s in known.scenes}
    if look is not None and look.plan is None and known is not None:
        # the new plan's scenes (the local planner's, known now) that plan.yaml does not
        # have (e.g. renumbered after a goal was removed): the render makes them, or puts
        # their paid files back, but status did not list them at all
        for sc in known.scenes:
            row = scenes.setdefault(sc.id, {"scene_id": sc.id, "attempts": 0, "in_plan": False})
            if row.get("in_plan") is False:
                row["in_new_plan"] = True
    kf_edits = {} if plan is None else keyframe_edits(keyframe_record, plan)
    for row in scenes.values():
        if row["scene_id"] in edited:
            row["edited"] = edited[row["scene_id"]]
        if row["scene_id"] in kf_edits:  # named after `render --until keyframes` too
            row["keyframe_edited"] = kf_edits[row["scene_id"]]
        # a clip finished before scenes were recorded (an older run): nothing to compare
        row["recorded"] = bool(recorded.get(row["scene_id"]))
        if photo_keyframe(recorded.get(row["scene_id"])):
            row["photo_keyframe"] = True  # its prompt and style do not reach it
        elif painted_keyframe(recorded.get(row["scene_id"])):
            row["painted_keyframe"] = True  # nor the style and references this one
        if look is not None and look.plan_kept and row.get("in_plan") is False:
            row["in_new_plan"] = False  # plan.yaml's, which the kept plan replaces
        if look is not None and (row.get("in_plan") is not False or row.get("in_new_plan")):
            sid = row["scene_id"]
            row["reuse"] = {st: (sid, st) in look.reused for st in SCENE_STAGES}
            row["restore"] = {st: (sid, st) in look.restored for st in SCENE_STAGES}
            if sid in look.jobs:
                # a paid job in flight no step holds, made from these inputs: taken
                row["take_job"] = look.jobs[sid]
            if same := {st: by for (s, st), by in look.shared.items() if s == sid}:
                # the very same request as an earlier scene's, bought once for both
                row["same_as"] = same
            if sid in look.if_same:
                # its clip is reused if an offline keyframe made again comes out the same
                row["reuse_if_same_keyframe"] = True
            if look.plan is None:
                # goals.yaml or the plan settings changed: plan.yaml is made again
                row["new_plan"] = True
                if look.basis is None:
                    # a remote planner's new plan is not known before it is bought: a
                    # scene it plans as before is reused, which "redo" alone denied
                    row["new_plan_unknown"] = True
                if plan_ids is None and plan_error is None:
                    # plan.yaml deleted: not goals.yaml or a setting, as said before
                    row["new_plan_cause"] = "plan.yaml deleted"
                elif look.new_plan_cause:
                    # "plan.scene_seconds changed", as the line under the table says it:
                    # each row said "goals.yaml or plan settings changed", either of them
                    row["new_plan_cause"] = look.new_plan_cause
                if new_ids is not None and sid not in new_ids:
                    row["in_new_plan"] = False
        row["next"] = _next_action(row, inputs.get("settings_changed"))
    for row in scenes.values():
        # every scene has these keys (null when not known): a scene not started, or
        # taking another's clip, lacked them, and `s["spend"]` raised KeyError in a
        # script reading `status --json` (storyboard/status audit)
        for k in ("keyframe", "clip", "spend", "remote_id", "error"):
            row.setdefault(k, None)
    movie = next((s for s in steps if s.stage == "movie"), None)
    # the title, closing, music or scene order edited: only the movie is composed again
    # (checked on the plan the render would use, its paths as the render reads them)
    # by content, as the movie's key is: scenes whose ids were swapped, each keeping its
    # content (and clip), give the same movie, which the render reuses
    # a new plan made by the local planner is known now (`basis`): its movie is checked
    # too (a goal removed: status said "movie: succeeded", the render composed it again)
    movie_plan = None if look is None else look.plan or look.basis
    recomposed = (
        [] if look is None or movie_plan is None else movie_edits(composed, movie_plan, look.clips)
    )
    # a scene's clip, affirmation or length changed: its row says so, and the movie is
    # composed again too (the movie line said "succeeded", as if it were reused)
    scenes_changed = (
        []
        if recomposed or look is None or movie_plan is None
        else movie_scene_changes(composed, movie_plan, look.clips, look.if_same)
    )
    # compose settings changed (crossfade, quality, card lengths): the movie is made again
    compose_changed = (
        []
        if settings is None or look is None
        else movie_settings_changes(composed, movie_settings(settings))
    )
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
        #: the one-line error a render with these inputs stops on before any step (exit
        #: 2): plan.yaml, goals.yaml or settings as the render refuses them; None if none
        "refused": refused,
        "inputs": inputs,
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
        #: video creates held until a lost request's job shows up (or its grace is over):
        #: per provider, the scenes whose requests are waited for and the seconds left,
        #: by a render working now (`rendering`), else by the next render
        "late_wait": waits,
        #: the pid of a render working on this run now; None: steps left "running" were
        #: stopped (the render was killed) and the next render takes them up
        "rendering": live,
        #: previous/ and kept/: {"bytes": deleting it frees, "folders" or "files": N}
        "held": held_apart(run_dir),
        "movie": None
        if movie is None
        else {
            "status": movie.status,
            "artifact": movie.artifact,
            "file": files.get((movie.scene_id, movie.stage)),
            "edited": recomposed,
            "scenes_changed": scenes_changed,
            "settings_changed": compose_changed,
        },
    }


def _artifact_state(store: Store, step: Step) -> str:
    """ "ok", "changed", "missing", or "is a folder": a clip.mp4 that is a folder (which
    the render refuses, naming it) was said "clip.mp4 missing", as if it would be made."""
    problem = store.artifact_problem(step)
    if problem == "missing" and (path := store.artifact_path(step)) is not None and path.is_dir():
        return "is a folder"
    return problem or "ok"


def _file_problem(row: dict[str, Any], stage: str) -> str | None:
    """'clip.mp4 missing' when a finished step's file is gone or not the one recorded."""
    state = row.get("files", {}).get(stage)
    if row.get(stage) != "succeeded" or state in (None, "ok"):
        return None
    return f"{FILE_NAMES[stage]} {state}"


def _late_jobs(store: Store, ledger: list[dict[str, Any]]) -> dict[str, float]:
    """Scenes whose clip step still asks for what a create sent before the last run
    stopped asked for, and whose job id was never stored (killed in flight, or its answer
    lost): the next render looks for that job before paying for another
    (`Pipeline._recover_orphans`), and waits for it while the grace lasts. Scene -> the
    seconds of grace left (0: over, the render looks once), counted as the render counts
    them (`Pipeline._no_job_found`): a create the service answered by its note's own
    grace, and from now at the latest (a send time noted by a clock set ahead)."""
    from mindmovie.pipeline import _late_job_grace, _lost_sent_at, _note_grace, _still_asks
    from mindmovie.providers.registry import lists_jobs

    grace = _late_job_grace()
    now = time.time()
    out: dict[str, float] = {}
    for r in ledger:
        usage = r.get("usage") or {}
        if r["stage"] != "clip" or r["state"] != "committed" or r["remote_id"]:
            continue
        if not lists_jobs(str(r["provider"])):
            continue  # (Veo) its job cannot be looked for: outcome unknown, clip made again
        if usage.get("unknown_outcome") or not _still_asks(store, r):
            continue
        lost = usage.get("lost")
        own = _note_grace(lost) if isinstance(lost, dict) else None  # a 500's: shorter
        wait = grace if own is None else min(grace, own)
        left = max(0.0, min(_lost_sent_at(r), now) + wait - now)
        out[str(r["scene_id"])] = max(left, out.get(str(r["scene_id"]), 0.0))
    return out


def _lost_elsewhere(
    store: Store, ledger: list[dict[str, Any]], settings: Settings | None
) -> dict[int, str]:
    """Clip creates with no job id (their answer lost, or in flight at a kill) made with
    other settings than `settings` and the keys in the environment (another base URL,
    key, Google mode, project or location): a render keeps them committed, does not
    look for their jobs (not listed where it asks) nor wait for them, and does not buy
    their scenes' clips (`Pipeline._keep_lost_elsewhere`). Ledger row -> what changed,
    by the settings' names (never a key). A key not in the environment is not compared
    (the render says it is missing)."""
    if settings is None:
        return {}
    from mindmovie.config import Keys
    from mindmovie.pipeline import recorded_origin_changes
    from mindmovie.providers.registry import job_origin, lists_jobs
    from mindmovie.store import ORIGIN_SALT_META

    try:
        salt = bytes.fromhex(store.get_meta(ORIGIN_SALT_META) or "")
        provider = settings.stage_provider("video")
        if not lists_jobs(provider):
            return {}  # (Veo) never looked for: its outcome unknown, the clip made again
        keys = Keys.from_env()
        made = job_origin(provider, settings, keys, salt) if salt else None
    except Exception:  # settings or keys the render refuses: it says so
        return {}
    if made is None:
        return {}
    now = made[0]

    def origin_for(own: str | None) -> tuple[dict[str, str], dict[str, str]] | None:
        """Where a job is asked with `settings`, its key fingerprinted with salt `own`
        (the one the row's was made with), else the run's."""
        return job_origin(provider, settings, keys, bytes.fromhex(own) if own else salt)

    out: dict[int, str] = {}
    for r in ledger:
        if r["stage"] != "clip" or r["state"] != "committed" or r["remote_id"]:
            continue
        if r["provider"] != provider or (r.get("usage") or {}).get("unknown_outcome"):
            continue
        then = store.job_origin(int(r["id"]))
        if then is None:
            continue  # not recorded (an older run): looked for as before
        if not now.get("key"):  # no key set here: not compared
            then = {k: v for k, v in then.items() if k != "key"}
        if changed := recorded_origin_changes(then, origin_for):
            out[int(r["id"])] = "; ".join(changed)
    return out


def _video_model(settings: Settings | None) -> str | None:
    """The video model id a render with `settings` uses (None: not known)."""
    if settings is None:
        return None
    from mindmovie.pipeline import _identity

    try:
        return _identity(settings, "video").model
    except Exception:  # settings the render refuses: it says so; this only narrows
        return None


def _paid_stages(recorded: str | None) -> frozenset[str]:
    """The scene stages whose model was a paid one in the last render (`recorded`: its
    settings as run.db keeps them, `SETTINGS_META`), the one a step it left running was
    tried with; none when not recorded or unreadable."""
    from mindmovie.config import PRESETS

    try:
        data = json.loads(recorded or "null")
        planned = PRESETS[data["preset"]]
        chosen = [(data.get(stage) or {}).get("provider") for stage in ("keyframes", "video")]
    except (ValueError, TypeError, KeyError, AttributeError):
        return frozenset()
    return frozenset(
        step
        for step, provider in zip(
            ("keyframe", "clip"), [chosen[0] or planned[1], chosen[1] or planned[2]], strict=True
        )
        if provider != "local"
    )


def _video_provider(settings: Settings | None) -> str | None:
    """The video provider a render with `settings` uses (None: not known)."""
    if settings is None:
        return None
    try:
        return settings.stage_provider("video")
    except Exception:  # settings the render refuses: it says so; this only narrows
        return None


def _left_by_a_stopped_render(row: dict[str, Any], video: str | None = None) -> bool:
    """A committed call with no job id that no look can settle (a plan or keyframe call,
    a create to a provider that lists no jobs: Veo, or to another provider than `video`,
    the one the render uses: it lists only its own jobs) in a run no render works on: it
    was in flight when its render stopped, and the next render marks it outcome unknown
    (`Pipeline._recover_orphans`). Shown as in flight, no render was waiting on it (a
    Seedance create left when the preset was switched to local, for one)."""
    from mindmovie.providers.registry import lists_jobs

    if row["state"] != "committed" or row["remote_id"]:
        return False
    if row["stage"] != "clip" or not lists_jobs(str(row["provider"])):
        return True
    return video is not None and row["provider"] != video


def _late_waits(
    ledger: list[dict[str, Any]], model: str | None, *, live: bool = False
) -> list[dict[str, Any]]:
    """Video creates whose answer was lost (or which were in flight at a kill) and whose
    job no look has found yet, within LATE_JOB_GRACE: a render sends no video create to
    their provider until the job shows up or the grace is over
    (`Pipeline._wait_for_late_jobs`), so every other scene's clip waits too. Per
    provider: {"provider", "scenes" (whose requests), "seconds" (the most left)}. Rows of
    another video model than `model` are not waited for (`Pipeline._no_job_found`).
    `live`: a render works on the run now; it waits only for the requests it noted lost
    (`Store.ledger_note_lost`, its own or a killed run's, noted when it starts): a row
    without the note is its create in flight, its answer still to come."""
    from mindmovie.pipeline import _late_job_grace, _lost_sent_at, _note_grace
    from mindmovie.providers.registry import lists_jobs

    grace = _late_job_grace()
    now = time.time()
    out: dict[str, dict[str, Any]] = {}
    for r in ledger:
        usage = r.get("usage") or {}
        if r["stage"] != "clip" or r["state"] != "committed" or r["remote_id"]:
            continue
        if not lists_jobs(str(r["provider"])):
            continue  # (Veo) nothing is waited for: its outcome stays unknown
        if usage.get("unknown_outcome") or (model is not None and r["model"] != model):
            continue
        lost = usage.get("lost")
        if live and not isinstance(lost, dict):
            continue  # a create in flight now, not a lost one
        own = _note_grace(lost) if isinstance(lost, dict) else None  # a 500's: shorter
        wait = grace if own is None else min(grace, own)
        left = min(_lost_sent_at(r), now) + wait - now
        if left <= 0:
            continue  # looked for once, then refunded: nothing waits
        w = out.setdefault(r["provider"], {"provider": r["provider"], "scenes": [], "seconds": 0.0})
        if r["scene_id"] not in w["scenes"]:
            w["scenes"].append(str(r["scene_id"]))
        w["seconds"] = round(max(w["seconds"], left), 1)
    return list(out.values())


def _detail_record(detail: str | None, kind: str) -> dict[str, Any]:
    """What `Store.result_gone` (`kind` "result_gone": the job let go of, a new clip's
    estimate) or `Store.let_go_job` ("let_go": the job, why it was kept) noted on a
    step; {} for a detail that is no such record."""
    try:
        got = json.loads(detail or "{}")
    except ValueError:
        return {}
    record = got.get(kind) if isinstance(got, dict) else None
    return dict(record) if isinstance(record, dict) else {}


#: a step the budget stopped: its call was refused by the gate, before it was sent
_NOT_SENT = "not sent: the budget was reached"


#: what a scene's error says when the provider refused its request as sent (a 400),
#: written by `pipeline.refused_request_fix`
_REFUSED_AGAIN = "the same request is refused again"


def _first_change(error: str) -> str:
    """What a retry of a step the provider refused as sent needs first ("" for others):
    "retry the clip (attempt 2)" alone read as if the next render might pass, and it
    sends the same request, refused again, unless what its error names is changed."""
    if _REFUSED_AGAIN not in error:
        return ""
    return " once what its error names is changed: the provider refused it as sent"


def _next_action(row: dict[str, Any], settings_changed: list[str] | None = None) -> str:
    """`_next_step`, with the clip another scene buys (the very same request,
    `Pipeline._one_buyer`) said as taken from it, whatever the keyframe's step."""
    text = _next_step(row, settings_changed)
    same = row.get("same_as") or {}
    by = same.get("clip")
    then = ", then make the clip"
    image_by = same.get("keyframe")
    if image_by is not None and text.startswith("buy a new keyframe (the one paid for before"):
        # the image another scene buys for both, found gone: said as bought for this one
        # too ("the one paid for before is gone"), of a copy that never had one
        rest = text.partition(", then ")[2] or "make the clip"
        text = f"take the keyframe {image_by} buys (the very same image, bought once), then {rest}"
    if by is not None and text.startswith(("retry the clip (attempt", "make the clip (none")):
        # a copy that did not buy the clip another scene's job makes, which that scene
        # could not take (`Pipeline._check_held_by_another`): it takes it, nothing bought
        return f"take the clip {by} makes (the very same request, bought once)"
    if by is not None and text.endswith(then):
        took = f"take the clip {by} makes (the very same request, bought once)"
        return f"{text.removesuffix(then)}, then {took}"
    # a finished scene whose inputs changed into another scene's (a copy, settings
    # changed for both): "redo" read as bought for it too, and the estimate prices it
    # at nothing ("as X")
    redo = ("keyframe", "clip") if text.startswith("redo: ") else ("clip",)
    if text.startswith(("redo: ", "redo clip: ")) and (took := _taken(same, redo)):
        return f"{text}; {took}"
    return text


def _taken(same: dict[str, str], stages: tuple[str, ...]) -> str:
    """Those of `stages` another scene buys (`same_as`) as taken from it: "take the
    keyframe and clip X makes (the very same requests, bought once)"; "" for none."""
    by_scene: dict[str, list[str]] = {}
    for st in stages:
        if st in same:
            by_scene.setdefault(same[st], []).append(st)
    if not by_scene:
        return ""
    took = " and ".join(f"the {' and '.join(sts)} {by} makes" for by, sts in by_scene.items())
    what = "requests" if sum(map(len, by_scene.values())) > 1 else "request"
    return f"take {took} (the very same {what}, bought once)"


def _next_step(row: dict[str, Any], settings_changed: list[str] | None = None) -> str:
    """What the next `render` would do for this scene, in the person's words.

    A finished step's file is checked here; its inputs (plan.yaml, settings, photos) only
    when the row carries the render's own reuse check (`reuse`), else by the render."""
    if row.get("in_new_plan") is False:
        return "none: the new plan has no such scene"
    if row.get("in_plan") is False and not row.get("in_new_plan"):
        return "none: not in plan.yaml"
    back = [st for st, yes in (row.get("restore") or {}).items() if yes]
    if (row.get("reuse") or {}).get("clip") and back:
        # an edit undone, scenes renumbered, goals back: a file paid for before. Before
        # the file checks: a live file missing, or a step failed or in flight for other
        # inputs, is what the kept one replaces
        return f"reuse the kept {' and '.join(back)} (made before from these inputs)"
    if back == ["keyframe"]:
        # its clip is made again (e.g. the image prompt undone, the motion prompt not)
        return "reuse the kept keyframe (made before from these inputs), then make the clip"
    kf, clip = row.get("keyframe"), row.get("clip")
    kf_bad, clip_bad = _file_problem(row, "keyframe"), _file_problem(row, "clip")
    if (taken := row.get("take_job")) and not kf_bad:
        # Pipeline._unwanted_job: not the step's own job (if any), and no new one
        return (
            f"take job {taken} (paid, in flight, made from these very inputs, held by no "
            "step: an edit undone, or carried by render --fresh), poll and download it "
            "(no new job)"
        )
    if clip == "succeeded":
        if kf_bad and clip_bad:
            return f"redo: {kf_bad}, {clip_bad}"
        if kf_bad and row.get("reuse_if_same_keyframe"):
            # the offline painter, given the same inputs, paints the same image: the
            # render makes it again and keeps the clip if its sha256 is the recorded one
            return (
                f"make the keyframe again ({kf_bad}; offline, free); the clip is reused "
                "if the new image is identical, else made again"
            )
        if kf_bad:
            # the clip's key holds its keyframe's sha256: an identical new image keeps it
            return f"redo: {kf_bad}; the clip too unless the new image is identical"
        if clip_bad and row.get("job") and (row.get("reuse") or {}).get("clip", True):
            # Store.refetchable_clip: its paid job's result is still kept (as the
            # estimate counts it); if the provider says otherwise, the next render buys
            return f"download job {row['job']}'s clip again ({clip_bad}; paid, no new job)"
        if clip_bad:
            return f"redo: {clip_bad}"
        if row.get("reuse_if_same_keyframe"):
            # chained frames: its clip's last frame is the next scene's offline keyframe,
            # which is made again
            return (
                "reuse if the next scene's keyframe, made again (offline, free), is "
                "identical; else redo the clip (chained frames)"
            )
        if row.get("reuse") is not None:
            return _from_reuse(row, settings_changed)
        if not row.get("recorded", True):
            return "reuse if inputs unchanged"
        return _after_edits(row.get("edited", []), unused=_unused_fields(row))
    if kf_bad:
        return f"redo: {kf_bad}, then make the clip"
    reuse = row.get("reuse")
    if kf == "succeeded" and reuse is not None and not reuse.get("keyframe"):
        # e.g. `render --until keyframes` (or a clip job or failed clip), then its prompt
        # edited or a setting changed: a job in flight is not picked up with new inputs
        if settings_changed:
            names = ", ".join(c.split(":", 1)[0] for c in settings_changed[:3])
            return f"redo the keyframe (settings changed: {names}), then make the clip"
        if fields := row.get("keyframe_edited"):
            return f"redo the keyframe ({', '.join(fields)} edited), then make the clip"
        return "redo the keyframe (its inputs changed), then make the clip"
    if clip == "submitted" and row.get("local_clip"):
        return "make the clip"  # (its render here was stopped midway; free)
    if clip == "submitted" and row.get("remote_id"):
        if reuse is not None and not reuse.get("clip"):
            return f"make the clip (a new job: its inputs changed since job {row['remote_id']})"
        return f"poll job {row['remote_id']} and download it (no new job)"
    gone = row.get("gone") or {}
    if clip == "failed" and "clip" in gone:
        # Store.result_gone: the job, billed, is let go of; a new one is counted in the
        # estimate and bought only after the spend question (or --yes / --budget)
        from mindmovie.costs import format_usd

        was = gone["clip"]
        which = f"job {was['job']}" if was.get("job") else "its job"
        usd = ""
        if isinstance(was.get("estimated_usd"), int | float):
            usd = f" (about {format_usd(float(was['estimated_usd']))})"
        why = (
            f"the result of {which} is gone (it was billed)"
            if was.get("billed", True)
            else f"{which} can no longer be picked up"
        )
        return f"buy the clip again{usd}: {why}; counted in the spend question"
    if clip == "failed" and "let_go" in row and not row.get("job"):
        # a render --let-go stopped after it let go of the job, before the new one
        was = row["let_go"].get("job")
        which = f"job {was}" if was else "its job"
        return (
            f"buy the clip again: {which} was let go of (render --let-go; it stays "
            "counted as spent); counted in the spend question"
        )
    if clip in ("failed", "running") and row.get("lost_elsewhere") and not row.get("job"):
        # Pipeline._keep_lost_elsewhere: its job cannot be looked for with these settings
        return (
            "none: a job request for this clip was sent with other settings "
            f"({row['lost_elsewhere']}); it is kept, counted as committed, and the clip is "
            "not bought again. Put them back and render again so the job can be looked "
            "for, or, if they cannot be put back, `render --let-go` to let go of it and "
            "buy the clip again"
        )
    if clip in ("failed", "running") and not row.get("taken"):
        err = row.get("error") or ""
        # its paid job, which the render polls again (Store.resumable_job: not one the
        # content filter refused or the provider said failed)
        job = row.get("job")
        wait = row.get("late_job")
        if wait is not None and not job and (reuse is None or reuse.get("keyframe")):
            # a create sent before the last run stopped whose job id was never stored
            # (killed, or its answer lost): the render looks for its job first
            # (Pipeline._recover_orphans) and, within LATE_JOB_GRACE, waits for it (a
            # keyframe made again makes a clip of other inputs: that job bills unused)
            if wait > 0:
                return (
                    f"wait up to {wait:.0f} s for the job of a request sent before the last "
                    "run stopped (no new job if it comes), else retry the clip"
                )
            return (
                "look for the job of a request sent before the last run stopped (no new "
                "job if it was made), else retry the clip"
            )
        if job and reuse is not None and not reuse.get("clip"):
            return f"make the clip (a new job: its inputs changed since job {job})"
        if job and row.get("kept_elsewhere"):
            # (said "a new job only if the provider says it failed": with the settings
            # still changed the render fails the scene again, and buys nothing)
            return (
                f"re-poll job {job} (kept: the provider settings changed since it was made, "
                "see its error); picked up once they are put back, else the scene fails "
                "again; no new job (if they cannot be put back, `render --let-go` lets go "
                "of it and buys the clip again)"
            )
        if job:
            return f"re-poll job {job}; a new job only if the provider says it failed"
        if (row.get("stopped") or {}).get("clip") == "budget":
            # the gate refuses a call before it is sent: "retry ... (attempt 2)" read as
            # if one had been tried, and paid for
            return f"make the clip ({_NOT_SENT})"
        if row.get("refused") == "whole":
            return (
                "none: the content filter refused its clip as planned and its fallback, "
                "and refuses them again: reword its motion_prompt in plan.yaml (see its "
                "error) and render again"
            )
        if row.get("refused") or "content filter" in err or "content_rejected" in err:
            return "retry the clip once with the content-filter fallback"
        tries = (row.get("tries") or {}).get("clip", row.get("attempts", 0))
        if not tries:
            # none of its requests sent (a Ctrl-C or a kill before its turn): "retry"
            # and "attempt 1" read as if one had been, and refused
            return "make the clip (none of its requests was sent)"
        if row.get("remote_id") and row.get("job_billed") and not row.get("local_clip"):
            # the render looks at the step's job first (`Pipeline._clip_once`, free):
            # "retry the clip (attempt 2)" read as a new job bought, and the next render
            # took that job, done meanwhile (a Seedance task first answered without its
            # video URL), and bought nothing
            return (
                f"retry the clip (attempt {int(tries) + 1}): job {row['remote_id']} is "
                "looked at first and taken if the provider has it done (no new job), else "
                f"a new job{_first_change(err)}"
            )
        return f"retry the clip (attempt {int(tries) + 1}){_first_change(err)}"
    same = row.get("same_as") or {}
    if kf == "succeeded":
        if "clip" in same:
            return f"take the clip {same['clip']} makes (the very same request, bought once)"
        return "make the clip"
    if kf in ("failed", "running") and row.get("refetch") and (reuse or {}).get("keyframe", True):
        return (
            "download the keyframe paid for before from its kept URL (a new image only if "
            "it is gone), then make the clip"
        )
    if kf == "failed" and "keyframe" in gone:
        return (
            "buy a new keyframe (the one paid for before is gone; it was billed), "
            "then make the clip"
        )
    if kf in ("failed", "running") and (row.get("stopped") or {}).get("keyframe") == "budget":
        return f"make the keyframe ({_NOT_SENT}), then the clip"
    if kf == "failed" and row.get("keyframe_refused") == "whole":
        return (
            "none: the content filter refused its keyframe as planned and its fallback, "
            "and refuses them again: reword its image_prompt in plan.yaml (see its error) "
            "and render again"
        )
    if kf in ("failed", "running"):
        return f"retry the keyframe{_first_change(row.get('error') or '')}, then make the clip"
    if kf is None and clip is None:
        if set(same) == {"clip"}:
            # its keyframe made by itself (free, local), the same image as the other's
            return (
                f"not started: keyframe, then take the clip {same['clip']} makes (the very "
                "same request, bought once)"
            )
        if same:
            rest = "" if "clip" in same else ", then make the clip"
            return f"not started: {_taken(same, tuple(same))}{rest}"
        return "not started: keyframe, then clip"
    return "make the keyframe, then the clip"


#: what a keyframe made without some plan.yaml fields is called in status's note
_PHOTO = "a photo keyframe"
_PAINTER = "the offline painter"


def _unused_fields(row: dict[str, Any]) -> tuple[tuple[str, ...], str] | None:
    """The plan.yaml fields the scene's keyframe was made without, and what made it: a
    goal's photo alone (`plan.PHOTO_UNUSED_FIELDS`) or the offline painter
    (`plan.PAINT_UNUSED_FIELDS`); None for a keyframe that takes them all."""
    if row.get("photo_keyframe"):
        return PHOTO_UNUSED_FIELDS, _PHOTO
    if row.get("painted_keyframe"):
        return PAINT_UNUSED_FIELDS, _PAINTER
    return None


def _photo_note(edited: list[str], unused: tuple[tuple[str, ...], str] | None = None) -> str:
    """Why edits of a keyframe's unused fields redo nothing (a photo keyframe's unless
    `unused` says otherwise)."""
    fields, what = unused or (PHOTO_UNUSED_FIELDS, _PHOTO)
    names = [f for f in edited if f in fields]
    return f"{', '.join(names)} edited, not used by {what}"


def _after_edits(edited: list[str], *, unused: tuple[tuple[str, ...], str] | None = None) -> str:
    """A finished scene's next step given the plan.yaml fields edited since its render.
    `unused`: the fields its keyframe was made without (`_unused_fields`)."""
    if unused is not None and any(f in unused[0] for f in edited):
        rest = [f for f in edited if f not in unused[0]]
        if all(f in TEXT_FIELDS for f in rest):
            text = f"; new text ({rest[0]} edited)" if rest else ""
            return f"reuse if settings unchanged ({_photo_note(edited, unused)}){text}"
        edited = rest
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


def _from_reuse(row: dict[str, Any], settings_changed: list[str] | None) -> str:
    """A finished scene's next step from the render's own reuse check, with its cause:
    the plan.yaml fields edited, else the settings changed, else (settings unchanged) the
    remaining inputs of that stage."""
    reuse, edited = row["reuse"], list(row.get("edited", []))
    cause = row.get("new_plan_cause") or "goals.yaml or plan settings changed"
    new_plan = f" (a new plan: {cause})" if row.get("new_plan") else ""
    if reuse.get("clip"):
        # seconds edited within the clip length the video model makes (4 -> 4.2 s is still
        # a 4 s Seedance clip): the clip is reused, the movie shows the scene for longer
        length = "; new length (seconds edited)" if "seconds" in edited else ""
        if edited and edited[0] in TEXT_FIELDS:
            return f"reuse; new text ({edited[0]} edited)"
        text = [f for f in edited if f in TEXT_FIELDS]
        more = f"; new text ({text[0]} edited)" if text else ""
        unused = _unused_fields(row)
        if unused is not None and any(f in unused[0] for f in edited):
            # e.g. the image prompt of a scene shown as the goal's photo, the style of a
            # painted one: nothing changes
            return f"reuse ({_photo_note(edited, unused)}){length}{more}" + new_plan
        return "reuse" + new_plan + (length + more if length else "")
    stage = "redo clip" if reuse.get("keyframe") else "redo"
    if new_plan:
        unless = ", unless the new plan asks it as before" if row.get("new_plan_unknown") else ""
        return stage + unless + new_plan
    if reuse.get("keyframe") and (unused := _unused_fields(row)) is not None:
        edited = [f for f in edited if f not in unused[0]]  # not what redoes it
    if any(f not in TEXT_FIELDS for f in edited):
        return f"{stage}: {', '.join(edited)} edited"
    if not row.get("recorded", True):  # its plan was not recorded: edits unknown
        return f"{stage}: its inputs changed"
    if settings_changed:
        names = [c.split(":", 1)[0] for c in settings_changed]
        more = f" +{len(names) - 3}" if len(names) > 3 else ""
        return f"{stage}: settings changed ({', '.join(names[:3])}{more})"
    if settings_changed is None:
        return f"{stage}: its inputs or settings changed"
    if reuse.get("keyframe"):
        return f"{stage}: the next scene's keyframe is new (chained frames)"
    if row.get("photo_keyframe"):
        return f"{stage}: the goal's photos changed"
    # made with reference photos (plan.yaml's reference_photos): the goal's, or for a
    # goal with none the person's, whose replacement was said to be "the goal's photos"
    return f"{stage}: a reference photo changed"
