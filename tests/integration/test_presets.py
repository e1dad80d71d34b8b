"""Each paid preset end to end through the real SDKs against the loopback simulator.

The movie is probed like the offline one, and the simulator's own counters must show
exactly one keyframe and one video job per scene (nothing created twice), plus the
request bodies carry what the settings asked for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mindmovie.media import probe
from mindmovie.pipeline import Pipeline
from tests.integration.support import KEYS, claude_answer_for, goals_file, settings_for
from tests.sim.server import SimServer


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_preset_renders_through_real_sdks(
    preset: str, sim: SimServer, tmp_path: Path
) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for(preset, sim)
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


async def test_byteplus_request_shape_carriessettings_for(sim: SimServer, tmp_path: Path) -> None:
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for(
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
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim, video={"chain_frames": True})
    await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run(until="clips")
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    with_last = [
        c for c in creates if any(i.get("role") == "last_frame" for i in c["body"]["content"])
    ]
    assert len(with_last) == 3  # every scene but the last


async def test_missing_key_fails_before_any_request(sim: SimServer, tmp_path: Path) -> None:
    from pydantic import SecretStr

    from mindmovie.config import ConfigError, Keys

    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    keys = Keys(anthropic=SecretStr("sk-ant"))  # no ARK key
    with pytest.raises(ConfigError) as e:
        await Pipeline(goals, settings, out=tmp_path / "run", keys=keys).run()
    assert "ARK_API_KEY" in str(e.value) and "byteplus" in str(e.value)
    assert sim.stats()["requests"] == 0


async def test_seededit_restyles_the_goals_own_photo(sim: SimServer, tmp_path: Path) -> None:
    """keyframes.model seededit: the goal's photo is the image SeedEdit restyles; the
    scenes with no photo of their own get a Seedream keyframe instead of failing, are
    priced as such in the estimate, and the person is told which ones."""
    import base64

    from mindmovie import catalog, costs
    from mindmovie.goals import load_goals
    from mindmovie.progress import NullReporter

    class Rec(NullReporter):
        def __init__(self) -> None:
            self.infos: list[str] = []

        def info(self, text: str) -> None:
            self.infos.append(text)

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    text = goals.read_text().replace(
        "    affirmation: I am strong and rested\n",
        "    affirmation: I am strong and rested\n    photos: [photos/portrait.jpg]\n",
    )
    goals.write_text(text)
    claude_answer_for(sim, goals)
    settings = settings_for("byteplus", sim, keyframes={"model": "seededit-3-0-i2i"})
    seededit = catalog.resolve("byteplus", "keyframes", "seededit-3-0-i2i")
    seedream = catalog.default_model("byteplus", "keyframes")
    assert seedream.key != seededit.key and not seedream.capabilities.image_required

    est = costs.estimate_run(settings, load_goals(goals))
    assert [r.keyframe.model for r in est.scenes] == [seededit.key] + [seedream.key] * 3
    assert est.scenes[0].keyframe.usd == seededit.price.image_usd(1)
    assert est.scenes[1].keyframe.usd == seedream.price.image_usd(1)

    rec = Rec()
    pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS, reporter=rec)
    res = await pipe.run(until="keyframes")
    assert not res.failed
    bodies = [r["body"] for r in sim.requests(path="/images/generations", method="POST")]
    edited = [b for b in bodies if isinstance(b.get("image"), str)]
    assert len(edited) == 1 and edited[0]["size"] == "adaptive"
    assert edited[0]["model"] == seededit.id
    sent = base64.b64decode(edited[0]["image"].split(",", 1)[1])
    assert sent == (tmp_path / "photos" / "portrait.jpg").read_bytes()
    made = [b for b in bodies if not isinstance(b.get("image"), str)]
    assert len(made) == 3 and {b["model"] for b in made} == {seedream.id}
    told = [t for t in rec.infos if "edits a goal's own photo" in t]
    assert len(told) == 1 and "3 scene(s)" in told[0] and seedream.id in told[0]
    # billed at each model's own price
    from mindmovie.store import Store

    store = Store(pipe.run_dir / "run.db")
    try:
        rows = [r for r in store.ledger_rows() if r["stage"] == "keyframe"]
    finally:
        store.close()
    assert sorted(r["billed_usd"] for r in rows) == sorted(
        [seededit.price.image_usd(1)] + [seedream.price.image_usd(1)] * 3
    )
