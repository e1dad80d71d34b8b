"""The input keys that decide reuse: every setting a provider is sent is in its step's
key, so changing it makes the step again instead of reusing a result made without it.

(tests/e2e/test_status.py checks the seeds through `status` with the offline preset;
the offline providers ignore `options`, so the paid providers' options are checked
here, on the keys themselves.)
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mindmovie import catalog
from mindmovie.config import Settings
from mindmovie.pipeline import Pipeline
from mindmovie.plan import Plan, Scene
from mindmovie.providers.base import VideoRequest
from tests.media import write_photo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "goals.yaml"
SEEDANCE = SimpleNamespace(name="byteplus", model="seedance-1-5-pro-251215")
SEEDREAM = SimpleNamespace(
    name="byteplus", model="seedream-4-0-250828", spec=catalog.find("seedream-4-0")
)


def _pipeline(tmp_path: Path, **settings: Any) -> Pipeline:
    return Pipeline(EXAMPLE, Settings(preset="byteplus", **settings), out=tmp_path / "run")


def _clip_key(tmp_path: Path, req: VideoRequest, **settings: Any) -> str:
    return _pipeline(tmp_path, **settings)._clip_key(SEEDANCE, req)  # type: ignore[arg-type]


def _keyframe_keys(tmp_path: Path, scene: Scene, **settings: Any) -> list[str]:
    plan = Plan(title="T", closing="C", scenes=[scene])
    variants = _pipeline(tmp_path, **settings)._keyframe_variants(SEEDREAM, scene, plan)  # type: ignore[arg-type]
    return [key for _, key, _ in variants]


def test_a_clip_key_holds_every_setting_and_input_the_request_is_made_from(
    tmp_path: Path,
) -> None:
    keyframe = write_photo(tmp_path / "keyframe.png", (200, 30, 30))
    other = write_photo(tmp_path / "other.png", (30, 200, 30))
    req = VideoRequest("s1", "slow push in", keyframe, 5.0, 1280, 720, 24, 11, audio=True)
    base = _clip_key(tmp_path, req)
    assert base == _clip_key(tmp_path, req)  # the same request, the same key
    changed = {
        "video.options": _clip_key(tmp_path, req, video={"options": {"camera_fixed": True}}),
        "seed": _clip_key(tmp_path, VideoRequest(**{**vars(req), "seed": 12})),
        "audio": _clip_key(tmp_path, VideoRequest(**{**vars(req), "audio": False})),
        "prompt": _clip_key(tmp_path, VideoRequest(**{**vars(req), "prompt": "pan left"})),
        "seconds": _clip_key(tmp_path, VideoRequest(**{**vars(req), "seconds": 6.0})),
        "keyframe": _clip_key(tmp_path, VideoRequest(**{**vars(req), "keyframe": other})),
        "last_frame": _clip_key(tmp_path, VideoRequest(**{**vars(req), "last_frame": other})),
    }
    assert [what for what, key in changed.items() if key == base] == []


def test_a_keyframe_key_holds_its_options_seed_and_reference_photos(tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "me.jpg", (90, 90, 200))
    scene = Scene(
        id="01-health-1",
        goal=1,
        category="health",
        affirmation="I am strong",
        image_prompt="a runner at dawn",
        motion_prompt="slow push in",
        seconds=5.0,
        reference_photos=[str(photo)],
    )
    base = _keyframe_keys(tmp_path, scene)
    assert len(base) == 2 and base == _keyframe_keys(tmp_path, scene)  # planned, softened
    options = _keyframe_keys(tmp_path, scene, keyframes={"options": {"guidance_scale": 3.0}})
    seed = _keyframe_keys(tmp_path, scene, keyframes={"seed": 8})
    write_photo(photo, (200, 90, 90))  # the same name, other bytes
    refs = _keyframe_keys(tmp_path, scene)
    changed = {"keyframes.options": options, "keyframes.seed": seed, "reference photo": refs}
    assert [what for what, keys in changed.items() if set(keys) & set(base)] == []
