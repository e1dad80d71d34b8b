"""status._next_action: what a scene's row says the next render does."""

from __future__ import annotations

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
