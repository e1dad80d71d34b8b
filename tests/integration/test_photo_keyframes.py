"""The key of a local keyframe that is the goal's photo fitted to the frame holds what
changes its pixels (the photo's bytes, the frame size, the fit), not the prompt: an
edited image_prompt made the same image again (status said redo).
Painted keyframes, photos with transparent parts (the painted scene shows through) and
remote models (which read the prompt) keep the prompt in their key."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from PIL import Image

from mindmovie.config import Settings, load_settings
from mindmovie.pipeline import Pipeline, _identity
from mindmovie.plan import Plan, Scene, load_plan
from mindmovie.store import Store

PHOTO, PAINTED = "01-health-1", "02-wealth-1"  # examples/goals.yaml: a goal photo, none


def _offline(tmp_path: Path, **over: object) -> tuple[Path, Settings]:
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "examples", tmp_path / "ex")
    overrides: dict[str, object] = {
        "output_dir": str(tmp_path / "outputs"),
        "output": {"size": "160x90", "fps": 8},
        "plan": {"scene_seconds": 2},
        **over,
    }
    return tmp_path / "ex" / "goals.yaml", load_settings(overrides=overrides, env={})


def _keys(pipe: Pipeline, settings: Settings, plan: Plan, scene_id: str) -> list[str]:
    scene = next(s for s in plan.scenes if s.id == scene_id)
    model = _identity(settings, "keyframes")
    return [key for _, key, _ in pipe._keyframe_variants(model, scene, plan)]


def _edited(plan: Plan, scene_id: str, **fields: object) -> Plan:
    scenes: list[Scene] = [
        s.model_copy(update=fields) if s.id == scene_id else s for s in plan.scenes
    ]
    return plan.model_copy(update={"scenes": scenes})


def _planned(tmp_path: Path, **over: object) -> tuple[Pipeline, Settings, Plan]:
    goals, settings = _offline(tmp_path, **over)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    return Pipeline(goals, settings, out=run), settings, load_plan(run / "plan.yaml")


def test_a_photo_keyframe_is_keyed_by_the_photo_not_the_prompt(tmp_path: Path) -> None:
    pipe, settings, plan = _planned(tmp_path)
    photo = pipe._source_photo(next(s for s in plan.scenes if s.id == PHOTO), plan)
    assert photo is not None and photo.name == "coastal-run.jpg"
    key = _keys(pipe, settings, plan, PHOTO)
    # the prompt, the category, the references and the style do not reach its pixels
    for edit in (
        {"image_prompt": "A red kite over the sea."},
        {"category": "wealth"},
        {"reference_photos": [*plan.scenes[0].reference_photos, str(photo)]},
    ):
        assert _keys(pipe, settings, _edited(plan, PHOTO, **edit), PHOTO) == key, edit
    restyled = plan.model_copy(update={"style": "pencil sketch"})
    assert _keys(pipe, settings, restyled, PHOTO) == key
    # what does: the photo's bytes and the frame size
    Image.new("RGB", (64, 48), (10, 200, 30)).save(photo, format="JPEG")
    assert _keys(pipe, settings, plan, PHOTO) != key
    bigger = load_settings(overrides={"output": {"size": "320x180", "fps": 8}}, env={})
    assert _keys(Pipeline(pipe.goals_path, bigger), bigger, plan, PHOTO) != _keys(
        pipe, settings, plan, PHOTO
    )
    # a painted keyframe is its prompt
    painted = _keys(pipe, settings, plan, PAINTED)
    assert _keys(pipe, settings, _edited(plan, PAINTED, image_prompt="A kite."), PAINTED) != (
        painted
    )


def test_a_photo_with_transparent_parts_keeps_the_prompt_in_its_key(tmp_path: Path) -> None:
    """Its transparent parts show the painted scene, which is the prompt's."""
    pipe, settings, plan = _planned(tmp_path)
    photo = pipe._source_photo(next(s for s in plan.scenes if s.id == PHOTO), plan)
    assert photo is not None
    kite = _edited(plan, PHOTO, image_prompt="A red kite over the sea.")
    cut_out = Image.new("RGBA", (64, 48), (200, 120, 60, 255))
    cut_out.putpixel((3, 3), (0, 0, 0, 0))
    cut_out.save(photo, format="PNG")  # the name says .jpg: Pillow reads the bytes
    assert _keys(pipe, settings, kite, PHOTO) != _keys(pipe, settings, plan, PHOTO)
    # an alpha channel with nothing transparent (common for PNGs) is the photo alone
    cut_out.putpixel((3, 3), (0, 0, 0, 255))
    cut_out.save(photo, format="PNG")
    assert _keys(pipe, settings, kite, PHOTO) == _keys(pipe, settings, plan, PHOTO)


def test_a_remote_model_keeps_the_prompt_in_its_key(tmp_path: Path) -> None:
    """An edit model restyles the goal's photo as the prompt says: the prompt matters."""
    local, _, plan = _planned(tmp_path)
    over = {"keyframes": {"provider": "byteplus", "model": "seededit-3-0-i2i"}}
    settings = load_settings(overrides=over, env={})
    pipe = Pipeline(local.goals_path, settings)
    assert _identity(settings, "keyframes").name == "byteplus"
    scene = next(s for s in plan.scenes if s.id == PHOTO)
    (_, _, req), *_ = pipe._keyframe_variants(_identity(settings, "keyframes"), scene, plan)
    assert req.source_photo is not None  # the photo it restyles
    kite = _edited(plan, PHOTO, image_prompt="A red kite over the sea.")
    assert _keys(pipe, settings, kite, PHOTO)[0] != _keys(pipe, settings, plan, PHOTO)[0]


def test_a_photo_keyframe_keyed_the_old_way_is_reused_until_its_prompt_changes(
    tmp_path: Path,
) -> None:
    """A run made before the key left out the prompt recorded its photo keyframes under
    the old key: they are reused, not made again (nor their clips and segments). Its
    image_prompt edited, the keyframe is made once more (free local work, the same image)
    and recorded under the new key."""
    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run())
    plan = load_plan(run / "plan.yaml")
    pipe = Pipeline(goals, settings, out=run)
    scene = next(s for s in plan.scenes if s.id == PHOTO)
    model = _identity(settings, "keyframes")
    ((_, old_key, _),) = pipe._keyframe_variants(model, scene, plan, legacy=True)
    store = Store(run / "run.db")
    try:  # as a mindmovie from before 2026-12-01 recorded it
        new_key = store.get(PHOTO, "keyframe").input_key  # type: ignore[union-attr]
        assert old_key != new_key
        store.rekey(PHOTO, "keyframe", old_key)
        made_in = store.get(PHOTO, "clip").run_no  # type: ignore[union-attr]
    finally:
        store.close()
    res = asyncio.run(Pipeline(goals, settings, out=run).run())
    assert (PHOTO, "keyframe") in res.reused and (PHOTO, "clip") in res.reused
    store = Store(run / "run.db", read_only=True)
    try:
        assert store.get(PHOTO, "keyframe").input_key == old_key  # type: ignore[union-attr]
        assert store.get(PHOTO, "clip").run_no == made_in  # type: ignore[union-attr]
    finally:
        store.close()
    # the prompt edited: the old key (which holds the prompt) no longer matches
    text = (run / "plan.yaml").read_text()
    (run / "plan.yaml").write_text(text.replace(scene.image_prompt, scene.image_prompt + " Kite."))
    res = asyncio.run(Pipeline(goals, settings, out=run).run())
    assert (PHOTO, "keyframe") in res.ran and (PHOTO, "clip") in res.reused
    store = Store(run / "run.db", read_only=True)
    try:
        assert store.get(PHOTO, "keyframe").input_key == new_key  # type: ignore[union-attr]
    finally:
        store.close()
