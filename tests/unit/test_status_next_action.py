"""status._next_action: what a scene's row says the next render does."""

from __future__ import annotations

import pytest

from mindmovie.status import _next_action

DONE = {"keyframe": "succeeded", "clip": "succeeded"}


def test_a_finished_scene_with_intact_files_is_reused_only_if_its_inputs_are() -> None:
    row = {**DONE, "files": {"keyframe": "ok", "clip": "ok"}}
    assert _next_action(row) == "reuse if settings unchanged"


def test_a_missing_or_changed_file_is_redone_and_named() -> None:
    assert _next_action({**DONE, "files": {"keyframe": "ok", "clip": "missing"}}) == (
        "redo: clip.mp4 missing"
    )
    both = _next_action({**DONE, "files": {"keyframe": "changed", "clip": "missing"}})
    assert both == "redo: keyframe.png changed, clip.mp4 missing"
    kf = _next_action({**DONE, "files": {"keyframe": "missing", "clip": "ok"}})
    assert kf.startswith("redo: keyframe.png missing") and "clip" in kf
    # a keyframe whose clip was never made: the keyframe first
    row = {"keyframe": "succeeded", "files": {"keyframe": "missing"}}
    assert _next_action(row) == "redo: keyframe.png missing, then make the clip"


def test_scenes_not_in_the_plan_and_not_started() -> None:
    assert _next_action({**DONE, "in_plan": False}) == "none: not in plan.yaml"
    assert _next_action({"in_plan": True}) == "not started: keyframe, then clip"


@pytest.mark.parametrize(
    ("same", "said"),
    [
        ({"keyframe": "a", "clip": "a"}, "take the keyframe and clip a makes (the very same "
         "requests, bought once)"),
        ({"keyframe": "a"}, "take the keyframe a makes (the very same request, bought once), "
         "then make the clip"),
        ({"keyframe": "a", "clip": "b"}, "take the keyframe a makes and the clip b makes (the "
         "very same requests, bought once)"),
        ({"clip": "a"}, "keyframe, then take the clip a makes (the very same request, bought "
         "once)"),
    ],
)  # fmt: skip
def test_a_scene_not_started_that_another_buys_for_says_whose_it_takes(
    same: dict[str, str], said: str
) -> None:
    """A copy of another scene (`Pipeline._one_buyer`): what it takes, from which scene."""
    assert _next_action({"in_plan": True, "same_as": same}) == f"not started: {said}"


OK = {**DONE, "files": {"keyframe": "ok", "clip": "ok"}, "recorded": True}


def test_with_the_renders_reuse_check_each_cause_is_named() -> None:
    """`reuse` is the render's own answer; the words say why, most specific first."""
    reuse = {"reuse": {"keyframe": True, "clip": True}}
    assert _next_action({**OK, **reuse}, []) == "reuse"
    text = {**OK, **reuse, "edited": ["affirmation"]}
    assert _next_action(text, []) == "reuse; new text (affirmation edited)"
    clip = {"reuse": {"keyframe": True, "clip": False}}
    assert _next_action({**OK, **clip, "edited": ["seconds"]}, []) == "redo clip: seconds edited"
    changed = ['output.size: "320x180" -> "256x144"', "output.fps: 12 -> 24"]
    assert _next_action({**OK, **clip}, changed) == (
        "redo clip: settings changed (output.size, output.fps)"
    )
    four = [f"video.f{i}: 1 -> 2" for i in range(5)]
    assert _next_action({**OK, **clip}, four).endswith("video.f2 +2)")
    # settings recorded and unchanged, nothing edited: what else a clip's key holds
    assert _next_action({**OK, **clip}, []) == (
        "redo clip: the next scene's keyframe is new (chained frames)"
    )
    kf = {"reuse": {"keyframe": False, "clip": False}}
    photo = {**OK, **kf, "photo_keyframe": True}  # made from the goal's own photo
    assert _next_action(photo, []) == "redo: the goal's photos changed"
    # made with reference photos (the person's, for a goal with none): not "the goal's"
    assert _next_action({**OK, **kf}, []) == "redo: a reference photo changed"
    # an older run recorded no settings: no guess
    assert _next_action({**OK, **kf}, None) == "redo: its inputs or settings changed"
    # its plan was not recorded: the edits are unknown
    assert _next_action({**OK, **kf, "recorded": False}, []) == "redo: its inputs changed"
    # only text edited, but the keyframe is redone: the text is not the cause
    assert _next_action({**OK, **kf, "edited": ["affirmation"]}, changed).startswith(
        "redo: settings changed"
    )
    assert _next_action({**OK, **kf, "edited": ["image_prompt"]}, changed) == (
        "redo: image_prompt edited"
    )
    new_plan = {**OK, **kf, "new_plan": True}
    assert _next_action(new_plan, []) == "redo (a new plan: goals.yaml or plan settings changed)"
    # a remote planner's new plan: not known before it is bought, and a scene it plans
    # as before is reused (status said "redo" for every scene, one was redone)
    unknown = {**new_plan, "new_plan_unknown": True}
    assert _next_action(unknown, []) == (
        "redo, unless the new plan asks it as before (a new plan: goals.yaml or plan "
        "settings changed)"
    )
    # plan.yaml deleted: a new plan, but not for the reason above
    deleted = {**OK, **reuse, "new_plan": True, "new_plan_cause": "plan.yaml deleted"}
    assert _next_action(deleted, []) == "reuse (a new plan: plan.yaml deleted)"
    gone = {**OK, **kf, "new_plan": True, "in_new_plan": False}
    assert _next_action(gone, []) == "none: the new plan has no such scene"


def test_a_keyframe_without_its_clip_that_would_be_made_again_says_so() -> None:
    """`render --until keyframes`, then a prompt edited: the keyframe is redone first."""
    row = {"keyframe": "succeeded", "files": {"keyframe": "ok"}}
    assert _next_action(row, []) == "make the clip"
    assert _next_action({**row, "reuse": {"keyframe": True, "clip": False}}, []) == (
        "make the clip"
    )
    stale = {**row, "reuse": {"keyframe": False, "clip": False}}
    assert _next_action(stale, []) == "redo the keyframe (its inputs changed), then make the clip"
    assert _next_action(stale, ["output.size: 1 -> 2"]) == (
        "redo the keyframe (settings changed: output.size), then make the clip"
    )
    # the fields the keyframe record (storyboard_keyframes) says were edited since
    edited = {**stale, "keyframe_edited": ["image_prompt", "style"]}
    assert _next_action(edited, []) == (
        "redo the keyframe (image_prompt, style edited), then make the clip"
    )


def test_keyframe_edits_names_the_fields_changed_since_the_keyframe_was_made() -> None:
    """After `render --until keyframes` no clip recorded its scene's plan entry: status
    said only "its inputs changed" for an edited image prompt. The keyframe record the
    storyboard keeps names the fields."""
    import json

    from mindmovie.plan import Plan, Scene, keyframe_edits

    def scene(sid: str, prompt: str) -> Scene:
        return Scene(id=sid, goal=1, category="health", affirmation="I am", seconds=5,
                     image_prompt=prompt, motion_prompt="drift")  # fmt: skip

    plan = Plan(
        title="T", closing="C", style="warm", scenes=[scene("01-a-1", "new"), scene("01-a-2", "b")]
    )
    raw = json.dumps({
        "01-a-1": {"sha256": "x", "inputs": {"image_prompt": "old", "style": "warm"}},
        "01-a-2": {"sha256": "y", "inputs": {"image_prompt": "b", "style": "cold"}},
    })  # fmt: skip
    assert keyframe_edits(raw, plan) == {"01-a-1": ["image_prompt"], "01-a-2": ["style"]}
    assert keyframe_edits(None, plan) == {} and keyframe_edits("not json", plan) == {}


def test_a_clip_job_or_failed_clip_whose_inputs_changed_is_not_picked_up() -> None:
    """A clip job in flight (or a failed clip) is picked up or retried only with the same
    inputs: after its prompt was edited the render makes the keyframe again and pays for a
    new job, where status said 'poll job ... (no new job)' / 'retry the clip'."""
    job = {"keyframe": "succeeded", "clip": "submitted", "remote_id": "cgt-1",
           "files": {"keyframe": "ok"}}  # fmt: skip
    assert _next_action({**job, "reuse": {"keyframe": True, "clip": True}}, []) == (
        "poll job cgt-1 and download it (no new job)"
    )
    stale = {**job, "reuse": {"keyframe": False, "clip": False}}
    assert _next_action(stale, []) == "redo the keyframe (its inputs changed), then make the clip"
    new_job = _next_action({**job, "reuse": {"keyframe": True, "clip": False}}, [])
    assert new_job == "make the clip (a new job: its inputs changed since job cgt-1)"
    failed = {"keyframe": "succeeded", "clip": "failed", "attempts": 1, "error": "clip: boom",
              "files": {"keyframe": "ok"}, "reuse": {"keyframe": False, "clip": False}}  # fmt: skip
    assert _next_action(failed, []) == "redo the keyframe (its inputs changed), then make the clip"


def test_a_keyframe_put_back_from_kept_is_named_and_its_clip_made() -> None:
    """Only the keyframe comes back from kept/ (its image prompt undone, the motion prompt
    not): status said 'redo: keyframe.png missing, then make the clip', paying for an
    image the render does not pay for."""
    kept = {"reuse": {"keyframe": True, "clip": False}, "restore": {"keyframe": True}}
    for row in (
        {**OK, **kept},
        {**DONE, "files": {"keyframe": "missing", "clip": "ok"}, **kept},
        {"keyframe": "succeeded", "files": {"keyframe": "missing"}, **kept},
    ):
        assert _next_action(row, []) == (
            "reuse the kept keyframe (made before from these inputs), then make the clip"
        )


def test_a_create_sent_before_the_last_run_stopped_is_looked_for_before_a_new_job() -> None:
    """A clip step whose create was in flight at a kill (no job id stored): the render
    looks for that job, and waits for it while its grace lasts, before paying again."""
    row = {"keyframe": "succeeded", "clip": "running", "attempts": 1}
    assert _next_action(row) == "retry the clip (attempt 2)"
    waiting = _next_action({**row, "late_job": 120.4})
    assert waiting.startswith("wait up to 120 s for the job of a request sent before")
    assert _next_action({**row, "late_job": 0.0}).startswith("look for the job")
    # its keyframe is made again: a clip of other inputs, that job is not its clip
    same = {**row, "late_job": 9.0, "reuse": {"keyframe": True, "clip": False}}
    assert _next_action(same).startswith("wait up to 9 s")
    changed = {**row, "late_job": 120.0, "reuse": {"keyframe": False, "clip": False}}
    assert not _next_action(changed).startswith(("wait", "look"))


def test_a_clip_reused_says_a_new_length_and_a_photo_keyframes_unused_edits() -> None:
    """The render's reuse check says reuse: what the edits still change is named (a
    longer scene on the same clip, new words), and a photo keyframe's unused fields are
    said to be unused, not silently passed over."""
    reuse = {**OK, "reuse": {"keyframe": True, "clip": True}}
    assert _next_action({**reuse, "edited": ["seconds"]}, []) == (
        "reuse; new length (seconds edited)"
    )
    assert _next_action({**reuse, "edited": ["seconds", "affirmation"]}, []) == (
        "reuse; new length (seconds edited); new text (affirmation edited)"
    )
    photo = {**reuse, "photo_keyframe": True, "edited": ["image_prompt", "affirmation"]}
    assert _next_action(photo, []) == (
        "reuse (image_prompt edited, not used by a photo keyframe); new text (affirmation edited)"
    )
    # its clip is redone for the motion prompt, not for the unused image prompt
    clip = {**OK, "reuse": {"keyframe": True, "clip": False}, "photo_keyframe": True}
    assert _next_action({**clip, "edited": ["image_prompt", "motion_prompt"]}, []) == (
        "redo clip: motion_prompt edited"
    )


def test_without_the_renders_check_the_edits_alone_decide() -> None:
    """No reuse check (the goals or settings could not be read): plan.yaml's edits."""
    photo = {**DONE, "files": {"keyframe": "ok", "clip": "ok"}, "photo_keyframe": True}
    assert _next_action({**photo, "edited": ["style", "affirmation"]}) == (
        "reuse if settings unchanged (style edited, not used by a photo keyframe); new text"
        " (affirmation edited)"
    )
    assert _next_action({**photo, "edited": ["image_prompt", "seconds"]}) == (
        "redo clip: seconds edited"
    )
    painted = {**DONE, "files": {"keyframe": "ok", "clip": "ok"}}
    assert _next_action({**painted, "edited": ["style", "affirmation"]}) == (
        "redo: style, affirmation edited"
    )
    assert _next_action({**painted, "edited": ["goal"]}) == (
        "redo if its photo changes: goal edited"
    )


def test_settings_changes_names_options_as_one_setting() -> None:
    """A provider's options are one setting ("video.options"), as the keys hold them."""
    import json

    from mindmovie.config import Settings
    from mindmovie.status import settings_changes

    old = Settings(video={"options": {"camera_fixed": False}})  # type: ignore[arg-type]
    new = Settings(video={"options": {"camera_fixed": True}}, output={"fps": 30})  # type: ignore[arg-type]
    recorded = json.dumps(old.model_dump(mode="json"))
    assert settings_changes(recorded, new) == [
        "output.fps: 24 -> 30",
        'video.options: {"camera_fixed": false} -> {"camera_fixed": true}',
    ]
    assert settings_changes(recorded, old) == []
    assert settings_changes(None, new) is None and settings_changes("{broken", new) is None


def test_a_clip_or_keyframe_whose_paid_result_is_gone_is_bought_again_not_retried() -> None:
    """`Store.result_gone`: the step let go of its job; the next render buys the clip
    again (counted in its spend question), it does not re-poll or "retry" it."""
    gone = {"clip": {"job": "cgt-1", "estimated_usd": 0.1}}
    row = {"keyframe": "succeeded", "clip": "failed", "gone": gone, "files": {"keyframe": "ok"}}
    assert _next_action(row) == (
        "buy the clip again (about $0.10): the result of job cgt-1 is gone (it was billed); "
        "counted in the spend question"
    )
    kf = {"keyframe": "failed", "gone": {"keyframe": {}}}
    assert _next_action(kf).startswith("buy a new keyframe (the one paid for before is gone")


def test_a_clip_whose_job_can_no_longer_be_picked_up_is_bought_again() -> None:
    """A job let go of because the provider no longer knows it (or says it failed) and
    was not billed: not said to be a result that was billed."""
    gone = {"clip": {"job": "cgt-2", "estimated_usd": 0.1, "billed": False}}
    row = {"keyframe": "succeeded", "clip": "failed", "gone": gone, "files": {"keyframe": "ok"}}
    assert _next_action(row) == (
        "buy the clip again (about $0.10): job cgt-2 can no longer be picked up; "
        "counted in the spend question"
    )


def test_a_clip_whose_job_was_let_go_of_is_bought_again() -> None:
    """A `render --let-go` stopped after it let go of the scene's job (`Store.let_go_job`)
    and before the new one: the next render buys the clip, counted in its question."""
    row = {"keyframe": "succeeded", "clip": "failed", "let_go": {"job": "cgt-1", "why": "x"}}
    said = _next_action(row)
    assert said.startswith("buy the clip again: job cgt-1 was let go of (render --let-go"), said
    assert "counted in the spend question" in said, said


def test_an_offline_clip_stopped_midway_is_made_not_polled_as_a_job() -> None:
    """An offline clip's step holds `local:<scene>` as its job id; stopped while it was
    rendered here it stays "submitted", and status said "poll job local:01-health-1 and
    download it (no new job)". The next render makes it (free); a paid job is polled."""
    row = {"keyframe": "succeeded", "clip": "submitted", "files": {"keyframe": "ok"}}
    local = {**row, "remote_id": "local:01-health-1", "local_clip": True}
    assert _next_action(local, []) == "make the clip"
    paid = {**row, "remote_id": "cgt-1"}
    assert _next_action(paid, []) == "poll job cgt-1 and download it (no new job)"
