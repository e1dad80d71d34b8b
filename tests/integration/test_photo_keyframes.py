"""The key of a local keyframe that is the goal's photo fitted to the frame holds what
changes its pixels (the photo's bytes, the frame size, the fit), not the prompt: an
edited image_prompt made the same image again (status said redo).
Painted keyframes, photos with transparent parts (the painted scene shows through) and
remote models (which read the prompt) keep the prompt in their key; a painted one, and a
photo with transparent parts, hold only what the painter (and the fit) reads (prompt,
seed, size, category), not the plan's style, the reference photos or the options."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import yaml
from PIL import Image

from mindmovie.config import Settings, load_settings
from mindmovie.pipeline import Declined, Pipeline, _identity
from mindmovie.plan import Plan, Scene, load_plan
from mindmovie.progress import NullReporter
from mindmovie.store import Store
from tests.integration.support import KEYS, settings_for
from tests.sim import SimServer

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


def test_a_photo_with_transparent_parts_is_not_made_again_for_a_style_or_reference_edit(
    tmp_path: Path,
) -> None:
    """Its key held the plan's style, the reference photos and the keyframe options,
    which neither the photo nor the painter behind it reads: a style edit in plan.yaml (or
    another photo of the goal replaced) painted it again, byte for byte, and `status` said
    "redo: style edited". Now they redo nothing; a keyframe keyed the old way is reused."""
    from mindmovie.status import collect_status

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    photo = goals.parent / "photos" / "coastal-run.jpg"
    cut_out = Image.new("RGBA", (64, 48), (200, 120, 60, 255))
    cut_out.putpixel((3, 3), (0, 0, 0, 0))
    cut_out.save(photo, format="PNG")  # the name says .jpg: Pillow reads the bytes
    asyncio.run(Pipeline(goals, settings, out=run).run())
    pipe, plan = Pipeline(goals, settings, out=run), load_plan(run / "plan.yaml")
    key = _keys(pipe, settings, plan, PHOTO)
    assert _keys(pipe, settings, plan.model_copy(update={"style": "pencil sketch"}), PHOTO) == key
    # the goal's other photo (a reference of this scene, the next scene's picture) replaced
    Image.new("RGB", (64, 48), (10, 200, 30)).save(goals.parent / "photos" / "trail-stretch.jpg")
    assert _keys(Pipeline(goals, settings, out=run), settings, plan, PHOTO) == key
    # what does reach its pixels: the painter's prompt, and the photo
    assert _keys(pipe, settings, _edited(plan, PHOTO, image_prompt="A kite."), PHOTO) != key
    # the key until 2026-12-06 is still looked up: a run made then is not painted again
    scene = next(s for s in plan.scenes if s.id == PHOTO)
    model = _identity(settings, "keyframes")
    old = pipe._keyframe_variants(model, scene, plan, before_dec06=True)
    assert old[0][1] != key[0]
    reused = pipe._keyframe_reuse_keys(
        model, scene, plan, pipe._keyframe_variants(model, scene, plan)
    )
    assert old[0][1] in reused
    # the render: a style edit in plan.yaml redoes nothing, and status says so
    data = yaml.safe_load((run / "plan.yaml").read_text())
    data["style"] = "pencil sketch"
    (run / "plan.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    st = collect_status(run, settings=settings, goals=goals)
    row = next(r for r in st["scenes"] if r["scene_id"] == PHOTO)
    assert row["reuse"] == {"keyframe": True, "clip": True}, row
    assert row["next"] == "reuse (style edited, not used by the offline painter)", row
    res = asyncio.run(Pipeline(goals, settings, out=run).run())
    assert not [r for r in res.ran if r[0] == PHOTO], res.ran


def test_a_transparent_photo_keyframe_keyed_before_takes_its_key_of_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run made before 2026-12-06 (its key with the style): the next render reuses the
    keyframe and keys it as now, so a style edit after it paints nothing either."""
    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    cut_out = Image.new("RGBA", (64, 48), (200, 120, 60, 255))
    cut_out.putpixel((3, 3), (0, 0, 0, 0))
    cut_out.save(goals.parent / "photos" / "coastal-run.jpg", format="PNG")
    real = Pipeline._keyframe_variants
    with monkeypatch.context() as m:
        m.setattr(
            Pipeline,
            "_keyframe_variants",
            lambda self, *a, before_dec06=False, **kw: real(self, *a, before_dec06=True, **kw),
        )
        asyncio.run(Pipeline(goals, settings, out=run).run())
    res = asyncio.run(Pipeline(goals, settings, out=run).run())
    assert not [r for r in res.ran if r[0] == PHOTO], res.ran  # reused under its old key
    data = yaml.safe_load((run / "plan.yaml").read_text())
    data["style"] = "pencil sketch"
    (run / "plan.yaml").write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    res = asyncio.run(Pipeline(goals, settings, out=run).run())
    assert not [r for r in res.ran if r[0] == PHOTO], res.ran


def test_a_new_fit_makes_every_photo_keyframe_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`PHOTO_FIT` names what `fit_photo` does to a photo's pixels, and is in the key of
    a photo with transparent parts too: theirs held no fit, so a keyframe cached before a
    fix of the fit (the painted backdrop in place of black; the sRGB conversion of a
    palette or tRNS PNG) was reused with the old pixels, under its key or the legacy one."""
    pipe, settings, plan = _planned(tmp_path)
    scene = next(s for s in plan.scenes if s.id == PHOTO)
    photo = pipe._source_photo(scene, plan)
    assert photo is not None
    model = _identity(settings, "keyframes")
    cut_out = Image.new("RGBA", (64, 48), (200, 120, 60, 255))
    cut_out.putpixel((3, 3), (0, 0, 0, 0))
    for transparent in (False, True):
        cut_out.putpixel((3, 3), (0, 0, 0, 0 if transparent else 255))
        cut_out.save(photo, format="PNG")
        monkeypatch.setattr("mindmovie.pipeline.PHOTO_FIT", "the fit before")
        before = _keys(pipe, settings, plan, PHOTO)
        monkeypatch.setattr("mindmovie.pipeline.PHOTO_FIT", "a new fit")
        variants = pipe._keyframe_variants(model, scene, plan)
        reused = pipe._keyframe_reuse_keys(model, scene, plan, variants)
        assert not set(before) & set(reused), transparent


def test_only_a_photo_whose_tagged_colours_the_fit_converts_takes_the_new_fit_s_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fit converts an AVIF's P3/BT.2020/HDR `nclx` and a camera's Adobe RGB (by its
    EXIF) since 2026-12-06: only such a photo's keyframe key holds that fit
    (`PHOTO_FIT_TAGGED`). Every other photo's pixels are as they were, and its key keeps
    `PHOTO_FIT`, the one its keyframe has had since 2026-12-02: the new fit first went
    into every photo's key, and the estimate priced each paid clip animating a local
    photo keyframe as one to buy again."""
    import os

    from PIL import ExifTags

    from mindmovie import pipeline

    assert pipeline.PHOTO_FIT == "cover-centre-lanczos-srgb-2"  # (every such key's)
    pipe, settings, plan = _planned(tmp_path)
    scene = next(s for s in plan.scenes if s.id == PHOTO)
    photo = pipe._source_photo(scene, plan)
    assert photo is not None
    for n, tagged in enumerate((False, True), start=1):
        exif = Image.Exif()
        exif.get_ifd(ExifTags.IFD.Exif)[0xA001] = 0xFFFF  # ColorSpace: Uncalibrated
        if tagged:  # DCF's option file: Adobe RGB
            exif.get_ifd(ExifTags.IFD.Exif)[0xA005] = {0x0001: "R03"}
        Image.new("RGB", (64, 48), (200, 120, 100)).save(photo, "JPEG", exif=exif.tobytes())
        os.utime(photo, ns=(n * 10**9, n * 10**9))  # (a new file for the header's cache)

        def keys(name: str, value: str) -> list[str]:
            monkeypatch.setattr(f"mindmovie.pipeline.{name}", value)
            return _keys(pipe, settings, plan, PHOTO)

        fit_moves = keys("PHOTO_FIT", "a") != keys("PHOTO_FIT", "b")
        tagged_fit_moves = keys("PHOTO_FIT_TAGGED", "a") != keys("PHOTO_FIT_TAGGED", "b")
        assert (fit_moves, tagged_fit_moves) == (not tagged, tagged), tagged


@pytest.mark.parametrize("kind", ["plain", "icc", "16-bit grey", "float grey"])
def test_only_a_photo_the_fit_never_changed_for_is_reused_under_its_legacy_key(
    tmp_path: Path, kind: str
) -> None:
    """Keyframes keyed before 2026-12-01 (with the prompt, no fit) were made by the fit
    of their day; fixes since changed the pixels of photos with an ICC profile (sRGB
    conversion), 16-bit and float greyscale (white or black before), and those keys
    never changed, so the legacy reuse brought the old pixels back for good. Only a
    photo none of those fixes touch (8-bit, no profile, opaque) is still reused so."""
    from tests.media import rgb_icc_profile

    pipe, settings, plan = _planned(tmp_path)
    scene = next(s for s in plan.scenes if s.id == PHOTO)
    photo = pipe._source_photo(scene, plan)
    assert photo is not None
    if kind == "plain":
        Image.new("RGB", (64, 48), (200, 120, 60)).save(photo, format="JPEG")
    elif kind == "icc":
        Image.new("RGB", (64, 48), (200, 120, 60)).save(
            photo, format="JPEG", icc_profile=rgb_icc_profile()
        )
    elif kind == "16-bit grey":
        Image.new("I;16", (64, 48), 30000).save(photo, format="PNG")
    else:
        Image.new("F", (64, 48), 0.5).save(photo, format="TIFF")
    model = _identity(settings, "keyframes")
    ((_, legacy, _),) = pipe._keyframe_variants(model, scene, plan, legacy=True)
    variants = pipe._keyframe_variants(model, scene, plan)
    reused = pipe._keyframe_reuse_keys(model, scene, plan, variants)
    assert (legacy in reused) == (kind == "plain")


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


class _Warnings(NullReporter):
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def _small_photo_warnings(rep: _Warnings) -> list[str]:
    return [w for w in rep.warnings if "will look blurry" in w or "little of the photo" in w]


def test_a_tiny_goal_photo_is_warned_about_once_per_render(tmp_path: Path) -> None:
    """An 8x8 or 64x48 photo was blown up to the frame without a word, and the movie
    showed a blurry smear. It is still used (it is the person's), with one warning per
    photo in `plan` and in every render (reused keyframes too), naming the file as
    goals.yaml has it, its scenes, its size, the frame's and the size to use."""
    goals, settings = _offline(tmp_path)  # a 160x90 frame
    photos = goals.parent / "photos"
    # both health scenes are made from the one photo left to the goal
    goals.write_text(goals.read_text().replace("      - photos/trail-stretch.jpg\n", ""))
    Image.new("RGB", (8, 8), (200, 120, 60)).save(photos / "coastal-run.jpg")
    Image.new("RGB", (79, 45), (60, 120, 200)).save(photos / "garden-dinner.jpg")
    run = tmp_path / "run"
    for until in ("plan", "movie", "movie"):
        rep = _Warnings()
        asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run(until=until))  # type: ignore[arg-type]
        assert _small_photo_warnings(rep) == [
            "photo photos/coastal-run.jpg (01-health-1, 01-health-2) is 8x8 pixels and is "
            "enlarged 20.0x to fill the 160x90 frame: it will look blurry. Use a photo of "
            "at least 80x45 pixels (160x90 or more is sharp)",
            "photo photos/garden-dinner.jpg (03-relationships-1) is 79x45 pixels and is "
            "enlarged 2.0x to fill the 160x90 frame: it will look blurry. Use a photo of "
            "at least 80x45 pixels (160x90 or more is sharp)",
        ], until
    # half the frame's width and height is enlarged 2x: soft, not warned about
    Image.new("RGB", (80, 45), (60, 120, 200)).save(photos / "garden-dinner.jpg")
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run(until="plan"))
    assert [w.split(" (")[0] for w in _small_photo_warnings(rep)] == [
        "photo photos/coastal-run.jpg"
    ]


def test_a_tiny_photo_an_edit_model_restyles_is_warned_about(tmp_path: Path) -> None:
    """SeedEdit restyles the goal's photo itself: an 8x8 photo gives it next to nothing
    of the person to keep, and was not warned about (only the local keyframes were). A
    model that takes photos as references draws its own picture: not warned about. Told
    at `plan`, before any keyframe is paid for (no call is made here: a fake key)."""
    from pydantic import SecretStr

    from mindmovie.config import Keys

    keys = Keys(byteplus=SecretStr("fake-key-never-sent"))
    for model, warned in (("seededit-3-0-i2i", True), ("seedream-4-0", False)):
        goals, settings = _offline(
            tmp_path / model,
            keyframes={"provider": "byteplus", "model": model},
            output={"size": "640x360", "fps": 8},
        )
        Image.new("RGB", (8, 8), (200, 120, 60)).save(goals.parent / "photos" / "coastal-run.jpg")
        rep = _Warnings()
        pipe = Pipeline(goals, settings, out=tmp_path / model / "run", reporter=rep, keys=keys)
        asyncio.run(pipe.run(until="plan"))
        assert _small_photo_warnings(rep) == (
            [
                "photo photos/coastal-run.jpg (01-health-1) is 8x8 pixels and is enlarged "
                "80.0x to fill the 640x360 frame: seededit-3-0-i2i restyles it, and has "
                "little of the photo to keep. Use a photo of at least 320x180 pixels "
                "(640x360 or more is sharp)"
            ]
            if warned
            else []
        ), model


def test_a_turned_photo_is_measured_as_shown(tmp_path: Path) -> None:
    """A phone's portrait photo is stored landscape with an EXIF turn, and is shown (and
    fitted) turned: its size as shown decides how much it is enlarged. Stored 300x60 and
    shown 60x300, a 160x90 frame enlarges it 2.7x; stored 60x300 and shown 300x60, 1.5x."""
    goals, settings = _offline(tmp_path)
    photos = goals.parent / "photos"
    for name, stored in (("coastal-run.jpg", (300, 60)), ("garden-dinner.jpg", (60, 300))):
        turned = Image.new("RGB", stored, (200, 120, 60))
        exif = turned.getexif()
        exif[0x0112] = 6  # shown turned a quarter
        turned.save(photos / name, exif=exif)
    rep = _Warnings()
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run(until="plan"))
    assert [w.split(" and ")[0] for w in _small_photo_warnings(rep)] == [
        "photo photos/coastal-run.jpg (01-health-1) is 60x300 pixels"
    ], rep.warnings


def _crop_warnings(rep: _Warnings) -> list[str]:
    return [w for w in rep.warnings if "cropped to fill" in w]


def test_a_photo_the_crop_keeps_little_of_is_warned_about(tmp_path: Path) -> None:
    """A photo far from the frame's shape lost most of itself to the centred crop without
    a word: a portrait photo in a 16:9 movie its top and bottom (heads), a panorama all
    but its middle. One warning per photo in `plan` and in every render (reused
    keyframes too), measured as shown (EXIF-turned); a near miss (4:3 in 16:9 keeps 75%)
    and the person's photos (references, not keyframes) are not warned about."""
    goals, settings = _offline(tmp_path)  # a 160x90 frame
    photos = goals.parent / "photos"
    Image.new("RGB", (300, 400), (200, 120, 60)).save(photos / "coastal-run.jpg")
    Image.new("RGB", (640, 480), (60, 120, 200)).save(photos / "trail-stretch.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # a phone's portrait photo, stored landscape
    Image.new("RGB", (4000, 400), (90, 160, 90)).save(photos / "garden-dinner.jpg", exif=exif)
    Image.new("RGB", (4000, 400), (90, 90, 160)).save(photos / "me.jpg")
    run = tmp_path / "run"
    for until in ("plan", "movie", "movie"):
        rep = _Warnings()
        asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run(until=until))  # type: ignore[arg-type]
        assert _crop_warnings(rep) == [
            "photo photos/coastal-run.jpg (01-health-1) is 300x400 pixels and is cropped to "
            "fill the 16:9 frame, which keeps only its middle 42% (its top and bottom are "
            "cut off). Crop it to 16:9 yourself to choose what shows, or use a landscape photo",
            "photo photos/garden-dinner.jpg (03-relationships-1) is 400x4000 pixels and is "
            "cropped to fill the 16:9 frame, which keeps only its middle 6% (its top and "
            "bottom are cut off). Crop it to 16:9 yourself to choose what shows, or use a "
            "landscape photo",
        ], until


def test_many_photos_the_crop_keeps_little_of_are_one_warning(tmp_path: Path) -> None:
    """A movie of many portrait photos in a 16:9 frame said a line per photo at every
    render, under -q too (92 lines; the scale audit): past three, one line names a few,
    how many more, and how much of each is kept."""
    goals, settings = _offline(tmp_path)  # a 160x90 frame
    names = [f"p{i}.jpg" for i in range(5)]
    for i, name in enumerate(names):
        Image.new("RGB", (300, 400 + 100 * (i % 2)), (200, 120, 60)).save(
            goals.parent / "photos" / name
        )
    goals.write_text(
        "title: T\ngoals:\n  - category: health\n    vision: Strong\n    scenes: 5\n"
        f"    photos: [{', '.join('photos/' + n for n in names)}]\n"
    )
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=tmp_path / "run", reporter=rep).run(until="plan"))
    assert _crop_warnings(rep) == [
        "5 photos (photos/p0.jpg, photos/p1.jpg, photos/p2.jpg and 2 more) are cropped to "
        "fill the 16:9 frame, each keeping only its middle 34-42%. Crop them to 16:9 "
        "yourself to choose what shows, or use landscape photos"
    ], rep.warnings


@pytest.mark.parametrize("ext", ["jpg", "png", "webp", "tif"])
def test_a_turned_photo_of_the_frames_shape_is_not_warned_about(tmp_path: Path, ext: str) -> None:
    """A 16:9 photo stored on its side (90x160) with an EXIF turn is shown 160x90, the
    frame's own shape, and fitted whole. Pillow gives a TIFF's size already turned (it
    turns the TIFF as it loads it), and it was turned a second time for the warnings: a
    landscape TIFF was said to be 90x160 with "only its middle 32%" kept."""
    goals, settings = _offline(tmp_path)  # a 160x90 frame
    text = goals.read_text().replace("photos/coastal-run.jpg", f"photos/turned.{ext}")
    goals.write_text(text)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (90, 160), (200, 120, 60)).save(
        goals.parent / "photos" / f"turned.{ext}", exif=exif
    )
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=tmp_path / "run", reporter=rep).run(until="plan"))
    assert [w for w in rep.warnings if "turned" in w] == []


def test_the_crop_warning_follows_the_frame(tmp_path: Path) -> None:
    """The examples' 3:2 camera photos are near misses in 16:9 and 1:1, and lose nearly
    two thirds in a 9:16 movie (a portrait photo is what it needs) or a 16:5 one (an
    `output.size` of a shape of its own, named as it is)."""
    frames = {
        ("9:16", "90x160"): "is cropped to fill the 9:16 frame, which keeps only its middle "
        "38% (its left and right sides are cut off). Crop it to 9:16 yourself to choose "
        "what shows, or use a portrait photo",
        ("16:9", "320x100"): "is cropped to fill the 16:5 frame, which keeps only its middle "
        "47% (its top and bottom are cut off). Crop it to 16:5 yourself to choose what "
        "shows, or use a landscape photo",
        ("1:1", "90x90"): "",  # a 3:2 photo keeps 67%
        ("16:9", "160x90"): "",  # 84%
    }
    for (aspect, size), warned in frames.items():
        goals, settings = _offline(
            tmp_path / size, output={"aspect": aspect, "size": size, "fps": 8}
        )
        rep = _Warnings()
        pipe = Pipeline(goals, settings, out=tmp_path / size / "run", reporter=rep)
        asyncio.run(pipe.run(until="plan"))
        assert _crop_warnings(rep) == (
            [
                f"photo photos/{name} ({ids}) is 960x640 pixels and {warned}"
                for name, ids in (
                    ("coastal-run.jpg", "01-health-1"),
                    ("trail-stretch.jpg", "01-health-2"),
                    ("garden-dinner.jpg", "03-relationships-1"),
                )
            ]
            if warned
            else []
        ), size


def test_only_the_offline_crop_is_told_of(tmp_path: Path) -> None:
    """The local keyframe is the photo cropped to the frame; SeedEdit is sent the photo
    whole, and a reference model draws its own picture: their crop is not ours, and is
    not told of (no call is made: a fake key)."""
    from pydantic import SecretStr

    from mindmovie.config import Keys

    keys = Keys(byteplus=SecretStr("fake-key-never-sent"))
    for model in ("local", "seededit-3-0-i2i", "seedream-4-0"):
        provider = "local" if model == "local" else "byteplus"
        goals, settings = _offline(
            tmp_path / model,
            keyframes={"provider": provider, "model": None if model == "local" else model},
            output={"size": "640x360", "fps": 8},
        )
        Image.new("RGB", (300, 400)).save(goals.parent / "photos" / "coastal-run.jpg")
        rep = _Warnings()
        pipe = Pipeline(goals, settings, out=tmp_path / model / "run", reporter=rep, keys=keys)
        asyncio.run(pipe.run(until="plan"))
        assert [w.split(" (")[0] for w in _crop_warnings(rep)] == (
            ["photo photos/coastal-run.jpg"] if model == "local" else []
        ), model


def _left_out_warnings(rep: _Warnings) -> list[str]:
    return [w for w in rep.warnings if "reference photos" in w]


def test_reference_photos_past_the_models_limit_are_named_before_any_keyframe(
    tmp_path: Path,
) -> None:
    """A scene with more reference photos than its keyframe model takes is sent the first
    ones; the rest were dropped without a word (Seedream) or failed the scene (Gemini).
    Told once per scene at `plan` and in every render, before any keyframe is paid for
    (no call is made here: a fake key), naming the scene, how many photos it has, how
    many the model takes, and the ones left out, as goals.yaml names them."""
    from pydantic import SecretStr

    from mindmovie.config import Keys

    keys = Keys(google=SecretStr("fake-key-never-sent"), byteplus=SecretStr("fake"))
    goals, settings = _offline(
        tmp_path, keyframes={"provider": "google", "model": "gemini-2-5-flash-image"}
    )
    photos = goals.parent / "photos"
    extra = ["a.jpg", "b.jpg", "c.jpg"]
    for name in extra:
        Image.new("RGB", (320, 180), (90, 90, 90)).save(photos / name)
    text = goals.read_text()
    goals.write_text(
        text.replace(
            "      - photos/trail-stretch.jpg\n",
            "      - photos/trail-stretch.jpg\n" + "".join(f"      - photos/{n}\n" for n in extra),
        )
    )
    run = tmp_path / "run"
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=run, reporter=rep, keys=keys).run(until="plan"))
    plan = load_plan(run / "plan.yaml")
    health = [s for s in plan.scenes if s.goal == 1]
    assert len(health) == 2 and all(len(s.reference_photos) == 5 for s in health)
    want = []
    for sc in health:
        left = ", ".join(f"photos/{Path(p).name}" for p in sc.reference_photos[3:])
        want.append(
            f"{sc.id}: 5 reference photos, and gemini-2-5-flash-image takes at most 3: "
            f"{left} left out (the first 3 are sent; to choose them, put them first in "
            "the scene's reference_photos in plan.yaml)"
        )
    assert _left_out_warnings(rep) == want
    rep = _Warnings()  # and again in the next render (the plan reused)
    asyncio.run(Pipeline(goals, settings, out=run, reporter=rep, keys=keys).run(until="plan"))
    assert _left_out_warnings(rep) == want
    # a model that takes them all: no word; one that takes none: one word for all scenes
    said = {}
    for model in ("seedream-4-0", "seedream-3-0-t2i"):
        g, st = _offline(tmp_path / model, keyframes={"provider": "byteplus", "model": model})
        rep = _Warnings()
        pipe = Pipeline(g, st, out=tmp_path / model / "run", reporter=rep, keys=keys)
        asyncio.run(pipe.run(until="plan"))
        said[model] = _left_out_warnings(rep)
        ids = [s.id for s in load_plan(tmp_path / model / "run" / "plan.yaml").scenes]
    assert said == {
        "seedream-4-0": [],
        "seedream-3-0-t2i": [
            f"seedream-3-0-t2i takes no reference photos: those of {', '.join(ids)} are "
            "left out (their keyframes are drawn from the prompts alone; a keyframes.model "
            "that takes reference photos uses them)"
        ],
    }


def test_photos_past_the_limit_are_told_before_the_spend_question(
    sim: SimServer, tmp_path: Path
) -> None:
    """When a paid planner is still to make the plan, the scenes' photos are not known
    yet but their count is (each scene of a goal gets the goal's photos, else the
    person's): a goal with more than the keyframe model takes is told before the
    question, so the person can give it fewer before anything is spent. Declined here:
    nothing was sent."""
    goals, _ = _offline(tmp_path)
    photos = goals.parent / "photos"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        Image.new("RGB", (320, 180), (90, 90, 90)).save(photos / name)
    goals.write_text(
        goals.read_text().replace(
            "      - photos/trail-stretch.jpg\n",
            "      - photos/trail-stretch.jpg\n"
            + "".join(f"      - photos/{n}\n" for n in ("a.jpg", "b.jpg", "c.jpg")),
        )
    )
    settings = settings_for("google", sim, output={"size": "320x180", "fps": 8})
    rep = _Warnings()
    at_question: list[str] = []

    def no(est: object) -> bool:
        at_question.extend(_left_out_warnings(rep))
        return False

    pipe = Pipeline(goals, settings, out=tmp_path / "run", reporter=rep, keys=KEYS, confirm=no)
    with pytest.raises(Declined):
        asyncio.run(pipe.run())
    assert at_question == [
        "goal 1 (health): 5 reference photos, and gemini-2-5-flash-image takes at most 3: "
        "each of its scenes is sent 3 of them and the others are left out (give the goal "
        "the 3 that matter most, or choose per scene in plan.yaml; `plan` names them)"
    ]
    assert sim.stats()["requests"] == 0


def test_estimate_tells_of_photos_past_the_limit_too(tmp_path: Path) -> None:
    """`mindmovie estimate` (which spends nothing) says the same: per goal before there
    is a plan, per scene, naming the photos left out, once plan.yaml is made."""
    from pydantic import SecretStr

    from mindmovie.config import Keys
    from mindmovie.pipeline import estimate_for

    goals, settings = _offline(
        tmp_path, keyframes={"provider": "google", "model": "gemini-2-5-flash-image"}
    )
    photos = goals.parent / "photos"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        Image.new("RGB", (320, 180), (90, 90, 90)).save(photos / name)
    goals.write_text(
        goals.read_text().replace(
            "      - photos/trail-stretch.jpg\n",
            "      - photos/trail-stretch.jpg\n"
            + "".join(f"      - photos/{n}\n" for n in ("a.jpg", "b.jpg", "c.jpg")),
        )
    )
    run = tmp_path / "run"
    said: list[str] = []
    estimate_for(goals, settings, out=run, warn=said.append)
    assert said == [
        "goal 1 (health): 5 reference photos, and gemini-2-5-flash-image takes at most 3: "
        "each of its scenes is sent 3 of them and the others are left out (give the goal "
        "the 3 that matter most, or choose per scene in plan.yaml; `plan` names them)"
    ]
    keys = Keys(google=SecretStr("fake-key-never-sent"))
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=run, reporter=rep, keys=keys).run(until="plan"))
    said.clear()
    estimate_for(goals, settings, out=run, warn=said.append)
    assert said == _left_out_warnings(rep) and len(said) == 2
    assert [w.split(":")[0] for w in said] == ["01-health-1", "01-health-2"]


def test_the_estimate_command_says_it_on_stderr(tmp_path: Path) -> None:
    """`mindmovie estimate --json` keeps its JSON on stdout; the warning is on stderr."""
    import json

    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals, _ = _offline(tmp_path)
    photos = goals.parent / "photos"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        Image.new("RGB", (320, 180), (90, 90, 90)).save(photos / name)
    goals.write_text(
        goals.read_text().replace(
            "      - photos/trail-stretch.jpg\n",
            "      - photos/trail-stretch.jpg\n"
            + "".join(f"      - photos/{n}\n" for n in ("a.jpg", "b.jpg", "c.jpg")),
        )
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: google\n")
    r = CliRunner().invoke(
        app, ["estimate", str(goals), "-c", str(cfg), "--out", str(tmp_path / "r"), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["paid"] is True
    assert "warning: goal 1 (health): 5 reference photos, and gemini-2-5-flash-image" in (r.stderr)


def test_a_painted_keyframe_keyed_the_old_way_is_reused_and_style_is_not_in_its_key(
    tmp_path: Path,
) -> None:
    """The painter draws from the prompt, seed, size and category alone: the plan's style
    and reference photos are not in a painted keyframe's key (an edit of them painted it
    again, byte for byte). A run that recorded it under the key that held them reuses it."""
    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run())
    plan = load_plan(run / "plan.yaml")
    pipe = Pipeline(goals, settings, out=run)
    styled = plan.model_copy(update={"style": "oil painting"})
    assert _keys(pipe, settings, styled, PAINTED) == _keys(pipe, settings, plan, PAINTED)
    scene = next(s for s in plan.scenes if s.id == PAINTED)
    model = _identity(settings, "keyframes")
    ((_, old_key, _),) = pipe._keyframe_variants(model, scene, plan, legacy=True)
    store = Store(run / "run.db")
    try:  # as a mindmovie from before 2026-12-04 recorded it
        assert old_key != store.get(PAINTED, "keyframe").input_key  # type: ignore[union-attr]
        store.rekey(PAINTED, "keyframe", old_key)
    finally:
        store.close()
    res = asyncio.run(Pipeline(goals, settings, out=run).run())
    assert (PAINTED, "keyframe") in res.reused and (PAINTED, "clip") in res.reused


def test_a_goal_photo_outside_the_project_given_another_while_it_stays_is_shown(
    tmp_path: Path,
) -> None:
    """A goal's photo outside goals.yaml's folder (~/Pictures/beach.jpg) changed in
    goals.yaml to another (mountain.jpg), the old one still there: the plan stays (a
    photo at the same place), but its path was followed only when the old file was gone,
    so the scene kept beach.jpg, not among the goal's photos any more, and was painted,
    at this render and every later one (odd-files audit). It shows mountain.jpg."""
    goals, settings = _offline(tmp_path)
    pics = tmp_path / "pics"
    pics.mkdir()
    Image.new("RGB", (160, 90), (220, 20, 20)).save(pics / "beach.jpg", quality=95)
    Image.new("RGB", (160, 90), (20, 20, 220)).save(pics / "mountain.jpg", quality=95)
    text = goals.read_text()
    text = text.replace("photos/coastal-run.jpg", str(pics / "beach.jpg"))
    goals.write_text(text.replace("      - photos/trail-stretch.jpg\n", ""))
    run = tmp_path / "run"
    for photo, colour in (("beach.jpg", (220, 20, 20)), ("mountain.jpg", (20, 20, 220))):
        goals.write_text(goals.read_text().replace("beach.jpg", photo))
        asyncio.run(Pipeline(goals, settings, out=run).run(until="keyframes"))
        with Image.open(run / "scenes" / PHOTO / "keyframe.png") as im:
            mean = im.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
        assert all(abs(a - b) < 30 for a, b in zip(mean, colour, strict=True)), (photo, mean)


def test_a_fresh_plan_says_plan_yaml_s_edits_are_not_in_it_and_where_they_are(
    tmp_path: Path,
) -> None:
    """`plan --fresh` (or `render --fresh`) after plan.yaml was edited by hand: the new
    plan, made from goals.yaml alone, dropped the edits without a word (first-user audit;
    a goals.yaml edit carries them, or names those it cannot). It says where they are;
    with no edit, nothing is said."""
    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"

    def warned(**kw: object) -> list[str]:
        said: list[str] = []

        class Warn(NullReporter):
            def warn(self, text: str) -> None:
                said.append(text)

        asyncio.run(Pipeline(goals, settings, out=run, reporter=Warn()).run(until="plan", **kw))
        return said

    warned()
    assert not [w for w in warned(fresh=True) if "your edits to plan.yaml" in w]
    # a kept plan put back, given goals.yaml's new title: rewritten, not edited by hand
    text = goals.read_text()
    goals.write_text(text.replace("vision: Strong,", "vision: Very strong,", 1))
    warned()
    goals.write_text(text.replace("title: ", "title: Retitled ", 1))
    warned()
    assert not [w for w in warned(fresh=True) if "your edits to plan.yaml" in w]
    plan_yaml = run / "plan.yaml"
    plan_yaml.write_text(plan_yaml.read_text().replace("affirmation: ", "affirmation: MINE ", 1))
    said = [w for w in warned(fresh=True) if "your edits to plan.yaml" in w]
    (aside,) = [p for p in (run / "previous").iterdir() if "MINE" in (p / "plan.yaml").read_text()]
    assert said and str(aside / "plan.yaml") in said[0], said
    assert "affirmation" in said[0], said
    assert "MINE" not in plan_yaml.read_text()


def test_every_scene_of_status_json_has_the_same_keys(tmp_path: Path) -> None:
    """`status --json` of a run only planned: its scenes, not started, lacked
    `keyframe`, `clip`, `spend` and `remote_id`, and a script reading `s["spend"]` met
    a KeyError (storyboard/status audit). Each scene has each key, null; the table still
    says "-" of them (the review: it said "None" once they were there)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.status import collect_status

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    rows = collect_status(run, settings=settings)["scenes"]
    assert len(rows) > 1
    for k in ("keyframe", "clip", "spend", "remote_id", "error"):
        assert all(k in r and r[k] is None for r in rows), (k, [sorted(r) for r in rows])
    text = CliRunner().invoke(app, ["status", str(run)], env={"COLUMNS": "160"}).output
    assert "not started" in text and "None" not in text, text


def test_status_of_a_run_folder_copied_away_says_so_not_that_run_db_does_not_say(
    tmp_path: Path,
) -> None:
    """A run folder copied elsewhere (`cp -r run sub/x`): status said "run.db does not
    say which goals.yaml it was made from", of a run.db that records it (the copy is not
    checked against it, by design: it may be another project's). It says the folder was
    moved or copied since it was rendered from that goals.yaml."""
    from mindmovie.status import collect_status

    goals, settings = _offline(tmp_path)
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    copy = tmp_path / "sub" / "x"
    shutil.copytree(run, copy)
    why = collect_status(copy, settings=settings)["inputs"]["why"]
    assert f"moved or copied since it was rendered from {goals}" in why, why
    assert "give --goals" in why
