"""Each paid preset end to end through the real SDKs against the loopback simulator.

The movie is probed like the offline one, and the simulator's own counters must show
exactly one keyframe and one video job per scene (nothing created twice), plus the
request bodies carry what the settings asked for.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from mindmovie.config import Keys, load_settings
from mindmovie.media import probe
from mindmovie.pipeline import Pipeline
from tests.sim.server import SimServer

REPO = Path(__file__).resolve().parents[2]

GOALS = """\
title: Sim Movie
person:
  description: A woman with curly dark hair
  photos: [photos/portrait.jpg]
goals:
  - category: health
    vision: Strong and rested
    affirmation: I am strong and rested
  - category: career
    vision: Leading a team I admire
    scenes: 2
  - category: lifestyle
    vision: Living by the sea
"""


def _goals(tmp_path: Path, sim: SimServer | None = None) -> Path:
    """Write the goals; teach the simulated Claude to answer with a valid plan for them."""
    (tmp_path / "photos").mkdir()
    src = next((REPO / "examples" / "photos").glob("*.jpg"))
    shutil.copyfile(src, tmp_path / "photos" / "portrait.jpg")
    p = tmp_path / "goals.yaml"
    p.write_text(GOALS)
    if sim is not None:
        from mindmovie.goals import load_goals
        from mindmovie.providers.base import PlanOptions
        from mindmovie.providers.local import build_plan

        plan = build_plan(load_goals(p), PlanOptions(scene_seconds=4))
        sim.set_planner(
            {
                "title": plan.title,
                "closing": plan.closing,
                "scenes": [
                    {
                        "goal": sc.goal,
                        "affirmation": sc.affirmation,
                        "image_prompt": sc.image_prompt + ", cinematic",
                        "motion_prompt": sc.motion_prompt,
                        "seconds": 4,
                    }
                    for sc in plan.scenes
                ],
            }
        )
    return p


def _settings(preset: str, sim: SimServer, **extra: Any) -> Any:
    fast = {"poll_interval": 0.05, "poll_max_interval": 0.2, "job_deadline": 60}
    overrides: dict[str, Any] = {
        "preset": preset,
        "output": {"size": "320x180", "fps": 12},
        "plan": {"scene_seconds": 4},
        "compose": {
            "crossfade": 0.5,
            "title_seconds": 1.0,
            "closing_seconds": 1.0,
            "quality": "draft",
        },
        "providers": {
            "anthropic": {"base_url": sim.base_url},
            "byteplus": {"base_url": sim.ark_base_url, **fast},
            "google": {"base_url": sim.base_url, **fast},
        },
    }
    for k, v in extra.items():
        overrides[k] = {**overrides.get(k, {}), **v} if isinstance(v, dict) else v
    return load_settings(overrides=overrides, env={})


KEYS = Keys(anthropic=SecretStr("sk-ant"), byteplus=SecretStr("ark"), google=SecretStr("g"))


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_preset_renders_through_real_sdks(
    preset: str, sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = _goals(tmp_path, sim)
    settings = _settings(preset, sim)
    pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS)
    res = await pipe.run()
    assert res.movie is not None
    info = probe(res.movie, count_frames=True)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height) == (320, 180)
    n = len(res.plan.scenes)
    assert n == 4
    # cards 1 s + scenes 4 s - crossfades 0.5 s, at 12 fps, to the frame
    assert info.video_frames == 12 * 2 + 48 * n - 6 * (n + 1)

    totals = sim.stats()["totals"]
    assert totals["messages"] == 1  # one planner call
    assert totals["images"] == n  # one keyframe per scene
    assert totals["jobs_created"] == n  # one video job per scene

    # a second render reuses everything: the simulator sees nothing new
    before = sim.stats()["totals"]
    await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run()
    after = sim.stats()["totals"]
    for k in ("messages", "images", "jobs_created"):
        assert after[k] == before[k]


async def test_byteplus_request_shape_carries_settings(sim: SimServer, tmp_path: Path) -> None:
    sim.media_scale = 0.25
    goals = _goals(tmp_path, sim)
    settings = _settings(
        "byteplus",
        sim,
        video={"audio": True, "seed": 99, "options": {"camera_fixed": True}},
        output={"resolution": "480p"},
    )
    await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run(until="clips")
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    assert len(creates) == 4
    body = creates[0]["body"]
    roles = [c.get("role") for c in body["content"] if c["type"] == "image_url"]
    assert roles[0] == "first_frame"
    first = next(c for c in body["content"] if c.get("role") == "first_frame")
    assert first["image_url"]["url"].startswith("data:image/png;base64,")
    assert body["resolution"] == "480p" and body["ratio"] == "16:9"
    assert body["duration"] == 4 and body["seed"] == 99
    assert body["generate_audio"] is True and body["camera_fixed"] is True
    # the person's photo went to Seedream as a reference image
    img = sim.requests(path="/images/generations", method="POST")[0]["body"]
    assert img["image"] and str(
        img["image"][0] if isinstance(img["image"], list) else img["image"]
    ).startswith("data:image/")


async def test_chain_frames_sends_next_keyframe_as_last_frame(
    sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = _goals(tmp_path, sim)
    settings = _settings("byteplus", sim, video={"chain_frames": True})
    await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run(until="clips")
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    with_last = [
        c for c in creates if any(i.get("role") == "last_frame" for i in c["body"]["content"])
    ]
    assert len(with_last) == 3  # every scene but the last


async def test_missing_key_fails_before_any_request(sim: SimServer, tmp_path: Path) -> None:
    from mindmovie.config import ConfigError

    goals = _goals(tmp_path, sim)
    settings = _settings("byteplus", sim)
    keys = Keys(anthropic=SecretStr("sk-ant"))  # no ARK key
    with pytest.raises(ConfigError) as e:
        await Pipeline(goals, settings, out=tmp_path / "run", keys=keys).run()
    assert "ARK_API_KEY" in str(e.value) and "byteplus" in str(e.value)
    assert sim.stats()["requests"] == 0
