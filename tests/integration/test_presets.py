"""Each paid preset end to end through the real SDKs against the loopback simulator.

The movie is probed like the offline one, and the simulator's own counters must show
exactly one keyframe and one video job per scene (nothing created twice), plus the
request bodies carry what the settings asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mindmovie.config import Settings
from mindmovie.media import probe
from mindmovie.pipeline import Pipeline, RenderFailed, Until, soften_prompt
from mindmovie.progress import NullReporter
from tests.integration.support import (
    KEYS,
    claude_answer_for,
    goals_file,
    keyed_as_before,
    left_open,
    seedance_only,
    settings_for,
)
from tests.sim.server import SimServer


async def test_byteplus_request_shape_carries_the_settings(sim: SimServer, tmp_path: Path) -> None:
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
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each clip's last_frame is exactly the next scene's keyframe.png (seamless joins)."""
    import itertools

    from tests.sim import media

    # the sim tints an image by its request's seed, and every scene shares the keyframe
    # seed: tint by arrival instead, so a frame sent for the wrong scene would show
    png, order = media.png, itertools.count()
    monkeypatch.setattr(media, "png", lambda w, h, variant=0: png(w, h, next(order)))
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim, video={"chain_frames": True})
    res = await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run(until="clips")
    scenes = [sc.id for sc in res.plan.scenes]
    assert len(scenes) == 4
    keyframes = {
        sid: (res.run_dir / "scenes" / sid / "keyframe.png").read_bytes() for sid in scenes
    }
    assert len(set(keyframes.values())) == 4  # distinct images, so a mix-up would show
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    assert len(creates) == 4
    sent: dict[str, bytes | None] = {}  # scene (found by its first frame) -> last frame
    for c in creates:
        frames = {i.get("role"): i["image_url"]["url"] for i in c["body"]["content"]
                  if i["type"] == "image_url"}  # fmt: skip
        first = _data_uri_bytes(frames["first_frame"])
        (sid,) = [s for s in scenes if keyframes[s] == first]
        last = frames.get("last_frame")
        sent[sid] = _data_uri_bytes(last) if last is not None else None
    # each clip ends on the NEXT scene's keyframe; the last clip has nothing to lead into
    following = [*scenes[1:], ""]
    assert sent == {sid: keyframes.get(nxt) for sid, nxt in zip(scenes, following, strict=True)}


async def test_chain_frames_is_skipped_for_a_model_without_last_frames(
    sim: SimServer, tmp_path: Path
) -> None:
    """video.chain_frames with a Seedance model the catalog gives no last-frame input:
    no request carries a last_frame (which that model would refuse) and the render
    finishes."""
    from mindmovie import catalog

    model = "seedance-1-0-pro-fast"
    spec = catalog.resolve("byteplus", "video", model)
    assert not spec.capabilities.last_frame
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim, video={"chain_frames": True, "model": model})
    res = await Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS).run(until="clips")
    assert not res.failed
    assert len(list(res.run_dir.glob("scenes/*/clip.mp4"))) == 4
    creates = sim.requests(path="/contents/generations/tasks", method="POST")
    assert len(creates) == 4 and {c["body"]["model"] for c in creates} == {spec.id}
    for c in creates:
        roles = [i.get("role") for i in c["body"]["content"] if i["type"] == "image_url"]
        assert roles == ["first_frame"]


def _data_uri_bytes(uri: str) -> bytes:
    """The bytes of a `data:<mime>;base64,<...>` URI."""
    import base64

    head, _, data = uri.partition(",")
    assert head.startswith("data:image/") and head.endswith(";base64"), head
    return base64.b64decode(data)


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


async def test_missing_keys_advice_names_a_stage_provider_the_local_preset_keeps(
    sim: SimServer, tmp_path: Path
) -> None:
    """Two keys missing ended "or choose the local preset (--preset local), which needs
    none", also with `video.provider: byteplus`, which the preset does not change: that
    render still needed ARK_API_KEY. The advice names the stage's setting then."""
    from mindmovie.config import ConfigError, Keys

    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    with pytest.raises(ConfigError) as e:
        await Pipeline(goals, settings, out=tmp_path / "run", keys=Keys()).run()
    assert str(e.value).endswith("choose the local preset (--preset local), which needs none")
    assert "as NAME=value lines in a .env file in the folder you run" in str(e.value)
    settings = settings_for("byteplus", sim, video={"provider": "byteplus"})
    with pytest.raises(ConfigError) as e:
        await Pipeline(goals, settings, out=tmp_path / "run", keys=Keys()).run()
    assert str(e.value).endswith(
        "choose the local preset (--preset local) and set video.provider to local or null"
    )
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


@pytest.mark.parametrize("made_before", [False, True])
async def test_a_seededit_keyframe_is_not_bought_again_at_another_aspect(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, made_before: bool
) -> None:
    """SeedEdit is sent size "adaptive" (the photo's shape), never the aspect, and its
    key held output.aspect: a render at another aspect bought the very same image again
    (feature-combinations audit: 3 SeedEdit keyframes, byte-identical). Its key holds
    none; one keyed by the aspect before (`made_before`: the key as it was) is reused at
    any aspect the run was rendered at."""
    from mindmovie import pipeline as pipeline_module

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    goals.write_text(
        goals.read_text().replace(
            "    affirmation: I am strong and rested\n",
            "    affirmation: I am strong and rested\n    photos: [photos/portrait.jpg]\n",
        )
    )
    local = {"provider": "local"}
    run = tmp_path / "run"

    def at(aspect: str) -> Any:
        s = settings_for("byteplus", sim, planner=local, keyframes={"model": "seededit-3-0-i2i"})
        return s.model_copy(update={"output": s.output.model_copy(update={"aspect": aspect})})

    with monkeypatch.context() as m:
        if made_before:  # keyed as until 2026-12-07, by the aspect
            m.setattr(pipeline_module, "_sized_adaptive", lambda model: False)
        await Pipeline(goals, at("16:9"), out=run, keys=KEYS).run(until="keyframes")

    def edits() -> int:
        return sum(
            isinstance(r["body"].get("image"), str)
            for r in sim.requests(path="/images/generations", method="POST")
        )

    from mindmovie.store import Store

    def key() -> str:
        store = Store(run / "run.db")
        try:
            step = store.get("01-health-1", "keyframe")
            assert step is not None
            return step.input_key
        finally:
            store.close()

    assert edits() == 1
    first = key()
    await Pipeline(goals, at("9:16"), out=run, keys=KEYS).run(until="keyframes")
    assert edits() == 1  # the same request: not bought again (the Seedream ones are)
    # reused under its key of then, it takes its key of now, which no aspect changes
    assert (key() != first) == made_before
    now = key()
    await Pipeline(goals, at("16:9"), out=run, keys=KEYS).run(until="keyframes")
    assert edits() == 1 and key() == now


# ---------------------------------------------------------------- google preset faults
VEO_CREATE = ":predictLongRunning"


class _Warnings(NullReporter):
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def _google_one_at_a_time(sim: SimServer) -> Any:
    """The google preset with one Veo job at a time: both refusals land on one scene."""
    one = {
        "base_url": sim.base_url,
        "max_concurrent": 1,
        "poll_interval": 0.05,
        "poll_max_interval": 0.1,
        "job_deadline": 60,
    }
    return settings_for("google", sim, providers={"google": one})


async def test_google_veo_refusal_is_retried_once_with_the_fallback(
    sim: SimServer, tmp_path: Path
) -> None:
    """A Veo content-filter refusal (raiMediaFilteredCount, no video) for one scene: that
    scene is tried once more with a softened prompt (audio is off) and the movie
    finishes; every other scene made exactly one job."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=VEO_CREATE, count=1)
    rec = _Warnings()
    pipe = Pipeline(goals, settings_for("google", sim), out=tmp_path / "run", keys=KEYS,
                    reporter=rec)  # fmt: skip
    res = await pipe.run()
    assert res.movie is not None and res.movie.is_file() and not res.failed
    scenes = {sc.id: sc for sc in res.plan.scenes}
    (told,) = [w for w in rec.warnings if "refused by the content filter" in w]
    refused = told.split(":", 1)[0]
    assert refused in scenes and "softened prompt" in told
    creates = sim.requests(path=VEO_CREATE, method="POST")
    assert len(creates) == len(scenes) + 1  # 4 scenes + 1 fallback
    prompts = [c["body"]["instances"][0]["prompt"] for c in creates]
    sc = scenes[refused]
    assert prompts.count(sc.motion_prompt) == 1  # as planned, refused
    assert prompts.count(soften_prompt(sc.motion_prompt, sc.category)) == 1  # the fallback
    assert sum("calm, wholesome" in p for p in prompts) == 1  # no other scene was softened
    assert sim.stats()["totals"]["jobs_rejected"] == 1
    assert len(list(res.run_dir.glob("scenes/*/clip.mp4"))) == len(scenes)


async def test_google_veo_refused_twice_fails_only_that_scene(
    sim: SimServer, tmp_path: Path
) -> None:
    """Refused as planned and again with the fallback: only that scene fails, the
    RenderFailed names it and the content filter, the other clips are kept, and nothing
    is tried a third time."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("reject", path=VEO_CREATE, count=2)
    pipe = Pipeline(goals, _google_one_at_a_time(sim), out=tmp_path / "run", keys=KEYS)
    with pytest.raises(RenderFailed) as e:
        await pipe.run()
    assert pipe.result is not None and len(pipe.result.failed) == 1
    (failed,) = pipe.result.failed
    msg = str(e.value)
    assert "1 scene(s) failed" in msg and failed in msg and "content filter" in msg
    assert "--skip-failed" in msg
    run = tmp_path / "run"
    kept = {p.parent.name for p in run.glob("scenes/*/clip.mp4")}
    assert kept == {sc.id for sc in pipe.result.plan.scenes} - {failed}
    assert len(kept) == 3
    assert len(sim.requests(path=VEO_CREATE, method="POST")) == 5  # 3 + the refused two
    assert sim.stats()["totals"]["jobs_rejected"] == 2


async def test_google_veo_done_without_video_or_reason_fails_without_a_softened_retry(
    sim: SimServer, tmp_path: Path
) -> None:
    """A Veo operation done with no video and no filter count or reason is a failed job,
    not a content-filter refusal: that scene fails saying so, and no second job is bought
    with a softened prompt."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    sim.add_fault("patch", path=":fetchPredictOperation", body={"done": True, "response": {}})
    rec = _Warnings()
    pipe = Pipeline(goals, _google_one_at_a_time(sim), out=tmp_path / "run", keys=KEYS,
                    reporter=rec)  # fmt: skip
    with pytest.raises(RenderFailed) as e:
        await pipe.run()
    assert pipe.result is not None and len(pipe.result.failed) == 1
    msg = str(e.value)
    assert "a failed job, not a refusal" in msg and "content filter" not in msg
    assert not [w for w in rec.warnings if "content filter" in w]
    creates = sim.requests(path=VEO_CREATE, method="POST")
    assert len(creates) == len(pipe.result.plan.scenes)  # one job a scene, no fallback
    assert not any("calm, wholesome" in c["body"]["instances"][0]["prompt"] for c in creates)


async def test_storyboard_shows_the_keyframes_while_clips_are_made(
    sim: SimServer, tmp_path: Path
) -> None:
    """With a paid video model the board is drawn once every keyframe exists, while the
    clips are still being made (it was drawn only after the last clip).

    Every poll of a video job is held by the simulator until the board shows all four
    keyframes, so no clip can land first: with 2 s jobs instead, the board (drawn in a
    thread, ~0.15 s here) had to be written within the first job's 2 s, which a loaded
    machine need not do. Drawn only after the last clip, it never appears and the test
    fails waiting for it."""
    import asyncio
    import time

    from mindmovie.progress import NullReporter

    seen: dict[str, str] = {}
    run = tmp_path / "run"
    html = run / "storyboard.html"

    class Rec(NullReporter):
        def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
            if stage == "clips" and state == "done" and not seen:
                seen["board"] = html.read_text(encoding="utf-8") if html.exists() else ""

    def board_shows_every_keyframe() -> bool:  # written atomically: whole or absent
        page = html.read_text(encoding="utf-8") if html.exists() else ""
        return page.count("data:image/jpeg;base64,") == 4

    async def release_the_polls_once_the_board_is_drawn() -> None:
        t_end = time.monotonic() + 30
        try:
            while not board_shows_every_keyframe():
                assert time.monotonic() < t_end, "no board while the clips were being made"
                await asyncio.sleep(0.02)
            assert not seen  # no clip has landed yet
        finally:
            sim.release(polls)

    sim.media_scale = 0.25
    sim.job_seconds = 0.3
    polls = sim.add_fault(
        "delay", path="/contents/generations/tasks/", method="GET", count=None, seconds=60
    )
    goals = goals_file(tmp_path, sim)
    board = asyncio.ensure_future(release_the_polls_once_the_board_is_drawn())
    try:
        res = await Pipeline(
            goals, settings_for("byteplus", sim), out=run, keys=KEYS, reporter=Rec()
        ).run(until="clips")
        await board
    finally:
        board.cancel()
        sim.release(polls)
    assert not res.failed
    page = seen["board"]  # as it was when the first clip landed
    assert all(sc.id in page for sc in res.plan.scenes)
    assert "no keyframe yet" not in page and page.count("data:image/jpeg;base64,") == 4


def _two_photo_goal(tmp_path: Path, sim: SimServer) -> tuple[Path, list[bytes]]:
    """The simulator's goals with two photos on the two-scene career goal."""
    from tests.integration.support import REPO

    goals = goals_file(tmp_path, sim)
    photos = sorted((REPO / "examples" / "photos").glob("*.jpg"))[:2]
    for name, src in zip(("a.jpg", "b.jpg"), photos, strict=True):
        (tmp_path / "photos" / name).write_bytes(src.read_bytes())
    goals.write_text(
        goals.read_text().replace(
            "    scenes: 2\n", "    scenes: 2\n    photos: [photos/a.jpg, photos/b.jpg]\n"
        )
    )
    claude_answer_for(sim, goals)
    return goals, [(tmp_path / "photos" / n).read_bytes() for n in ("a.jpg", "b.jpg")]


def _edited_photos(sim: SimServer) -> list[bytes]:
    import base64

    bodies = [r["body"] for r in sim.requests(path="/images/generations", method="POST")]
    return [
        base64.b64decode(b["image"].split(",", 1)[1])
        for b in bodies
        if isinstance(b.get("image"), str)
    ]


async def test_each_scene_of_a_goal_restyles_its_own_photo_and_keeps_it_when_reordered(
    sim: SimServer, tmp_path: Path
) -> None:
    """Claude's plan lists a scene's own photo first; the rotation by place turned that
    back, so both scenes of a two-photo goal were made from the first photo. And a
    reorder in plan.yaml swapped their photos: both keyframes were paid for again."""
    sim.media_scale = 0.25
    goals, (a, b) = _two_photo_goal(tmp_path, sim)
    settings = settings_for("byteplus", sim, keyframes={"model": "seededit-3-0-i2i"})
    run = tmp_path / "run"
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed
    sent = _edited_photos(sim)
    assert len(sent) == 2 and set(sent) == {a, b}
    plan = run / "plan.yaml"
    text = plan.read_text()
    one, two = text.index("- id: 02-career-1"), text.index("- id: 02-career-2")
    end = text.index("- id: 03-", two)
    plan.write_text(text[:one] + text[two:end] + text[one:two] + text[end:])
    calls = sim.stats()["requests"]
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and res.ran == [] and sim.stats()["requests"] == calls


async def test_keyframes_made_by_the_rule_before_are_not_paid_for_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run made before the photo rule changed keeps its keyframes: their keys are
    looked up under the old rule too, so the upgrade costs nothing."""
    from mindmovie import costs, plan

    sim.media_scale = 0.25
    goals, (a, _) = _two_photo_goal(tmp_path, sim)
    settings = settings_for("byteplus", sim, keyframes={"model": "seededit-3-0-i2i"})
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(costs, "source_photo", plan.source_photo_by_place)  # as mindmovie was
        res = await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and _edited_photos(sim) == [a, a]
    before = {p: p.read_bytes() for p in run.glob("scenes/*/keyframe.png")}
    calls = sim.stats()["requests"]
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and res.ran == [] and sim.stats()["requests"] == calls
    assert {p: p.read_bytes() for p in run.glob("scenes/*/keyframe.png")} == before


async def test_a_hand_edited_duration_the_model_cannot_make_is_snapped_as_estimated(
    sim: SimServer, tmp_path: Path
) -> None:
    """plan.yaml `seconds: 13` for Seedance (4-12 s): the estimate prices a 12 s clip
    ("scene asks 13 s; ... makes 12 s"), but the render sent 13 s as it was, the request
    was refused, and the scene failed on every render. The clip is asked at the length
    the estimate priced; the movie still gives the scene its 13 s."""
    import yaml

    from mindmovie import costs

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run = tmp_path / "run"
    await Pipeline(goals, settings, out=run, keys=KEYS).run(until="plan")
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    plan["scenes"][0]["seconds"] = 13
    (run / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    est = costs.estimate_video(settings, 13)
    assert est.inputs["seconds"] == 12  # what the estimate says is made (and billed)
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert res.movie is not None and not res.failed
    durations = [r["body"]["duration"] for r in sim.requests(path="/contents/generations/tasks",
                                                             method="POST")]  # fmt: skip
    assert sorted(durations) == [4, 4, 4, 12]
    title, fade, n = 1.0, 0.5, len(plan["scenes"])
    expected = title + 13 + 4 * (n - 1) + title - fade * (n + 1)
    assert probe(res.movie).duration == pytest.approx(expected, abs=0.1)


@pytest.mark.parametrize(
    ("output", "video", "why"),
    [
        ({"aspect": "1:1"}, {}, "veo-3-1-fast: ratio 1:1 not allowed; allowed 16:9, 9:16"),
        ({"resolution": "480p"}, {}, "resolution 480p not allowed; allowed 720p, 1080p"),
        ({}, {"model": "veo-3-0", "audio": False}, None),  # a clip it makes: no refusal
    ],
)
async def test_clip_settings_the_video_model_cannot_make_are_refused_before_any_spend(
    sim: SimServer, tmp_path: Path, output: dict[str, str], video: dict[str, Any], why: str | None
) -> None:
    """`--aspect 1:1` with Veo: the plan and every keyframe were paid for, then every
    clip was refused at its submit, on every render. Every scene asks the same aspect,
    resolution and audio, so the settings are refused before anything is sent."""
    from mindmovie.config import ConfigError

    goals = goals_file(tmp_path, sim)
    settings = settings_for("google", sim, output=output, video=video)
    pipe = Pipeline(goals, settings, out=tmp_path / "run", keys=KEYS)
    if why is None:
        await pipe.run(until="plan")
        return
    with pytest.raises(ConfigError, match="Nothing was spent") as e:
        await pipe.run()
    assert why in str(e.value) and "output." in str(e.value)
    assert sim.stats()["requests"] == 0
    # `estimate` says the same instead of pricing clips the render will not make
    from mindmovie.pipeline import estimate_for

    with pytest.raises(ConfigError, match="Nothing was spent") as e:
        estimate_for(goals, settings, out=tmp_path / "run")
    assert why in str(e.value)


async def test_estimate_and_status_refuse_clip_settings_render_refuses(
    sim: SimServer, tmp_path: Path
) -> None:
    """`mindmovie estimate --preset google --aspect 1:1` priced a render that `render`
    refuses to start (every Veo clip at 1:1 is refused): the estimate says the same one
    line as render, and status does not check the next render against such settings."""
    from mindmovie.config import ConfigError
    from mindmovie.pipeline import estimate_for
    from mindmovie.status import collect_status

    goals = goals_file(tmp_path, sim)
    good = settings_for("google", sim)
    bad = settings_for("google", sim, output={"aspect": "1:1"})
    with pytest.raises(ConfigError, match="ratio 1:1 not allowed") as e:
        estimate_for(goals, bad, out=tmp_path / "run")
    assert "output.aspect" in str(e.value)
    await Pipeline(goals, good, out=tmp_path / "run", keys=KEYS).run(until="plan")
    with pytest.raises(ConfigError, match="ratio 1:1 not allowed"):
        estimate_for(goals, bad, out=tmp_path / "run")
    inputs = collect_status(tmp_path / "run", settings=bad, goals=goals)["inputs"]
    assert not inputs["checked"] and "ratio 1:1 not allowed" in inputs["why"], inputs
    assert collect_status(tmp_path / "run", settings=good, goals=goals)["inputs"]["checked"]


def _cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **keys: str) -> None:
    """A clean environment: only the given key variables, run from tmp_path (no .env)."""
    from mindmovie.config import KEY_VARIABLES

    for names in KEY_VARIABLES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("out", [True, False])
def test_a_missing_key_makes_no_run_folder(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: bool
) -> None:
    """`render --out DIR` with a key missing made DIR and its run.db before it refused
    (and without --out, outputs/<title>/ with its run.db): the README says the key is
    named before anything runs. Now nothing is made, and no request is sent."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = goals_file(tmp_path, sim)
    _cli_env(monkeypatch, tmp_path, ANTHROPIC_API_KEY="sk-ant-test")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"preset: byteplus\noutput_dir: {tmp_path / 'outputs'}\nproviders:\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}'}}\n"
    )
    run = tmp_path / "run"
    args = ["render", str(goals), "-c", str(cfg), "--yes"] + (["--out", str(run)] if out else [])
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "ARK_API_KEY" in r.output and "not set" in r.output
    assert not run.exists() and not (tmp_path / "outputs").exists()
    assert sim.stats()["requests"] == 0


@pytest.mark.parametrize("preset", ["byteplus", "local"])
def test_a_broken_ffmpeg_is_refused_before_anything_is_made_or_paid(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str
) -> None:
    """IMAGEIO_FFMPEG_EXE naming no program (or an uninstalled ffmpeg): a paid render sent
    the plan, every keyframe and every clip, and only the compose met the missing ffmpeg.
    It is now refused before the run folder is touched, naming ffmpeg and the fix."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = goals_file(tmp_path, sim)
    _cli_env(monkeypatch, tmp_path, ANTHROPIC_API_KEY="sk-ant-test", ARK_API_KEY="ark-test")
    from mindmovie import media

    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(tmp_path / "no-ffmpeg-here"))
    media.ffmpeg_exe.cache_clear()  # the path is looked up once a process
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"preset: {preset}\nproviders:\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}'}}\n"
    )
    run = tmp_path / "run"
    try:
        r = CliRunner().invoke(
            app, ["render", str(goals), "-c", str(cfg), "--yes", "--out", str(run)]
        )
    finally:
        media.ffmpeg_exe.cache_clear()  # the next test looks the real one up again
    assert r.exit_code == 2, r.output
    text = " ".join(r.output.split())
    assert "ffmpeg cannot be run" in text and "no-ffmpeg-here" in text, text
    assert "IMAGEIO_FFMPEG_EXE" in text and "Nothing was made or spent" in text
    assert not run.exists()
    assert sim.stats()["requests"] == 0


@pytest.mark.parametrize(
    ("preset", "first", "then"), [("byteplus", "480p", "720p"), ("google", "720p", "1080p")]
)
async def test_paid_keyframes_are_reused_at_another_resolution(
    preset: str, first: str, then: str, sim: SimServer, tmp_path: Path
) -> None:
    """`render --until keyframes` at 480p, then `render --resolution 720p`: Seedream and
    Gemini are sent the aspect, never the frame size, and their image is kept as they
    made it, so the keyframes fit the new resolution as they are. They were bought
    again (the key held the frame size), and the spend question priced them anew."""
    from mindmovie.pipeline import estimate_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    low = settings_for(preset, sim, output={"size": None, "resolution": first})
    res = await Pipeline(goals, low, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and sim.stats()["totals"]["images"] == 4
    before = {p: p.read_bytes() for p in run.glob("scenes/*/keyframe.png")}
    high = settings_for(preset, sim, output={"size": None, "resolution": then})
    est = estimate_for(goals, high, out=run)
    assert [(s.scene_id, s.keyframe.usd) for s in est.scenes if s.keyframe.usd] == []
    res = await Pipeline(goals, high, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and res.ran == []
    assert sim.stats()["totals"]["images"] == 4  # nothing bought twice
    assert {p: p.read_bytes() for p in run.glob("scenes/*/keyframe.png")} == before


@pytest.mark.parametrize("preset", ["byteplus", "google"])
@pytest.mark.parametrize("aspect", ["9:16", "1:1", "16:9"])
async def test_the_default_style_names_the_movie_s_aspect_to_a_paid_image_model(
    preset: str, aspect: str, sim: SimServer, tmp_path: Path
) -> None:
    """The local planner's default style ends "16:9" whatever the aspect (it is in every
    plan's prompts, which key the paid keyframes): a 9:16 movie's images were asked of
    Seedream and Gemini as "16:9". The movie's aspect is said instead, in what is sent
    only; plan.yaml and the keys stay as they were."""
    from mindmovie.plan import load_plan

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    s = settings_for(
        preset,
        sim,
        planner={"provider": "local"},
        video={"provider": "local"},
        output={"aspect": aspect, "size": None, "resolution": "480p"},
    )
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed
    if preset == "byteplus":
        sent = [r["body"]["prompt"] for r in sim.requests(path="/images/generations")]
    else:
        sent = [
            r["body"]["contents"][0]["parts"][0]["text"]
            for r in sim.requests(path=":generateContent")
        ]
    assert len(sent) == 4
    planned = [sc.image_prompt for sc in load_plan(run / "plan.yaml").scenes]
    assert all("shallow depth of field, 16:9. No text" in p for p in planned), planned
    for text in sent:
        assert f"shallow depth of field, {aspect}. No text" in text, text
        assert ("16:9" in text) == (aspect == "16:9"), text


async def _old_keyframes_reused(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> tuple[Path, Path]:
    """A run whose four paid keyframes were keyed by the frame size (until 2026-12-04),
    then rendered to its keyframes again since: all reused, none bought again.
    (goals, the run folder)."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    with keyed_as_before(monkeypatch, "_keyframe_variants"):
        res = await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and sim.stats()["totals"]["images"] == 4
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and res.ran == [] and sim.stats()["totals"]["images"] == 4
    return goals, run


async def test_paid_keyframes_keyed_by_the_frame_size_before_are_not_paid_for_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose paid keyframes were keyed by the frame size (until 2026-12-04) keeps
    them: that key is still looked up, so the upgrade costs nothing."""
    await _old_keyframes_reused(sim, tmp_path, monkeypatch, settings_for("byteplus", sim))


@pytest.mark.parametrize("preset", ["byteplus", "google"])
async def test_preset_renders_through_real_sdks_and_reuses_paid_clips_at_another_fps_or_frame_size(
    preset: str, sim: SimServer, tmp_path: Path
) -> None:
    """(test_preset_renders_through_real_sdks) Each paid preset renders through the real
    SDKs: the movie probed, one planner call, one keyframe and one video job per scene,
    the connections it opened closed, and a second render buys nothing.
    (test_paid_clips_are_reused_at_another_fps_or_frame_size) Then `render --fps 24` (or
    another output.size at the same aspect and resolution): Seedance and Veo are sent the
    aspect and resolution, never the fps or the frame size, and their clip is kept as
    they made it (the compose fits it to the frame), so every clip is reused. Each was
    bought again (the key held the fps and frame size), and the spend question priced
    every clip anew. (One render serves both: they made the same first render.)"""
    from mindmovie.pipeline import estimate_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for(preset, sim)
    run = tmp_path / "run"
    open_before = sim.connections()  # (earlier tests' clients the collector has not closed)
    pipe = Pipeline(goals, settings, out=run, keys=KEYS)
    res = await pipe.run()
    # the render closed the connections it opened (the SDK clients' keep-alive pools),
    # though `pipe` still holds its providers
    assert await left_open(sim, open_before) == set()
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
    clips = {p: p.read_bytes() for p in run.glob("scenes/*/clip.mp4")}

    # a second render reuses everything: the simulator sees nothing new
    before = sim.stats()["totals"]
    await Pipeline(goals, settings, out=run, keys=KEYS).run()
    after = sim.stats()["totals"]
    for k in ("messages", "images", "jobs_created"):
        assert after[k] == before[k]

    # another fps or frame size reuses every paid clip
    for output in ({"fps": 24}, {"size": "640x360"}):
        other = settings_for(preset, sim, output=output)
        est = estimate_for(goals, other, out=run)
        assert [(s.scene_id, s.video.usd) for s in est.scenes if s.video.usd] == []
        res = await Pipeline(goals, other, out=run, keys=KEYS).run()
        assert res.movie is not None
        assert sim.stats()["totals"]["jobs_created"] == 4  # nothing bought twice
        assert probe(res.movie).video.width == int(other.output.frame()[0])  # type: ignore[union-attr]
    assert {p: p.read_bytes() for p in run.glob("scenes/*/clip.mp4")} == clips


async def test_paid_clips_keyed_by_the_fps_before_are_not_paid_for_again(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose paid clips were keyed by the fps and frame size (until 2026-12-04)
    keeps them: that key is still found, and once reused the clip takes its key of now,
    so a later `--fps` costs nothing either."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    settings = settings_for("byteplus", sim)
    run = tmp_path / "run"
    with keyed_as_before(monkeypatch, "_clip_key"):
        res = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == 4
    res = await Pipeline(goals, settings, out=run, keys=KEYS).run()
    assert res.movie is not None and not [r for r in res.ran if r[1] == "clip"]
    other = settings_for("byteplus", sim, output={"fps": 24})
    res = await Pipeline(goals, other, out=run, keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == 4


async def test_paid_keyframes_keyed_by_the_frame_size_before_are_reused_at_another_resolution(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose paid keyframes were keyed by the frame size (until 2026-12-04), made
    at 480p, then the upgrade and `render --resolution 720p`: the old key was looked up
    at the frame size asked now only, so every keyframe was priced and bought again. It
    is looked up at the frame size of the run's render before (`_outputs_before`)."""
    from mindmovie.pipeline import estimate_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    low = settings_for("byteplus", sim, output={"size": None, "resolution": "480p"})
    with keyed_as_before(monkeypatch, "_keyframe_variants"):
        res = await Pipeline(goals, low, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and sim.stats()["totals"]["images"] == 4
    for resolution in ("720p", "1080p"):
        high = settings_for("byteplus", sim, output={"size": None, "resolution": resolution})
        est = estimate_for(goals, high, out=run)
        assert [(s.scene_id, s.keyframe.usd) for s in est.scenes if s.keyframe.usd] == []
        # (a render at 720p that reached no keyframe: 480p is still known at 1080p)
        until: Until = "plan" if resolution == "720p" else "keyframes"
        res = await Pipeline(goals, high, out=run, keys=KEYS).run(until=until)
        assert not res.failed and res.ran == [] and sim.stats()["totals"]["images"] == 4


async def test_paid_clips_keyed_by_the_fps_before_reused_at_another_fps_made_again_at_another_res(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose paid clips were keyed by the fps and frame size (until 2026-12-04),
    made at 720p with output.size set (one render, copied: the three cases made the same
    one), then the upgrade and:
    (test_paid_clips_keyed_by_the_fps_before_are_reused_at_another_fps) `render --fps 24`:
    the old key was looked up at the fps asked now only, so every clip was priced and
    bought again. It is looked up at the fps and frame size of the run's render before
    (`_outputs_before`).
    (test_paid_clips_keyed_by_the_fps_before_are_made_again_at_another_resolution)
    `render --resolution 1080p`: the frame size did not change, and the old key, looked
    up at now's frame size and fps, held no resolution: the 720p clips were taken for
    1080p ones, priced at nothing and not made. The run's recorded outputs show no 1080p
    render at that size, so they are priced and made at 1080p. `keyframes_first` (on a
    second copy): a 1080p `render --until keyframes` came between; it recorded 1080p at
    that size as a render's output, and the next render took the 720p clips again
    (`OUTPUTS_META` is now written once)."""
    import shutil

    from mindmovie.pipeline import estimate_for

    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    run = tmp_path / "run"
    low = seedance_only(sim)  # output.size 320x180
    with keyed_as_before(monkeypatch, "_clip_key"):
        res = await Pipeline(goals, low, out=run, keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == 4
    made = sim.requests(path="/contents/generations/tasks", method="POST")
    assert {r["body"]["resolution"] for r in made} == {"720p"}
    copies = {first: tmp_path / f"run-{first}" for first in (False, True)}
    for copy in copies.values():
        shutil.copytree(run, copy)

    # reused at another fps
    only = {"planner": {"provider": "local"}, "keyframes": {"provider": "local"}}
    other = settings_for("byteplus", sim, **only, output={"fps": 24})
    est = estimate_for(goals, other, out=run)
    assert [(s.scene_id, s.video.usd) for s in est.scenes if s.video.usd] == []
    res = await Pipeline(goals, other, out=run, keys=KEYS).run()
    assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == 4

    # made again at another resolution (with or without keyframes first)
    high = settings_for("byteplus", sim, **only, output={"resolution": "1080p"})
    assert high.output.frame() == low.output.frame()
    for keyframes_first, copy in copies.items():
        jobs = sim.stats()["totals"]["jobs_created"]
        if keyframes_first:
            await Pipeline(goals, high, out=copy, keys=KEYS).run(until="keyframes")
        est = estimate_for(goals, high, out=copy)
        assert len([s for s in est.scenes if s.video.usd]) == 4, est.scenes
        res = await Pipeline(goals, high, out=copy, keys=KEYS).run()
        assert res.movie is not None and sim.stats()["totals"]["jobs_created"] == jobs + 4
        made = sim.requests(path="/contents/generations/tasks", method="POST")[jobs:]
        assert [r["body"]["resolution"] for r in made] == ["1080p"] * 4


async def _old_run_with_jobs_running(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, dict[str, Any], Path, Settings]:
    """A seedance run made while a paid clip's key held the fps and frame size (until
    2026-12-04), stopped past its jobs' deadline with all four jobs paid and running:
    (goals, the settings' local planner and keyframes, the run folder, its settings)."""
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    only: dict[str, Any] = {"planner": {"provider": "local"}, "keyframes": {"provider": "local"}}
    quick = {"base_url": sim.ark_base_url, "poll_interval": 0.05, "job_deadline": 0.5}
    run = tmp_path / "run"
    sim.min_polls = 10**6  # every job runs until the test lets it finish
    s = settings_for("byteplus", sim, **only, providers={"byteplus": quick})
    with keyed_as_before(monkeypatch, "_clip_key"), pytest.raises(RenderFailed):
        await Pipeline(goals, s, out=run, keys=KEYS).run()  # past each job's deadline
    assert sim.stats()["totals"]["jobs_created"] == 4
    return goals, only, run, s


async def test_a_clip_job_of_a_run_keyed_by_the_fps_before_is_polled_at_another_fps(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose paid clips were keyed by the fps (until 2026-12-04) stopped while its
    jobs ran (past their deadline), then the upgrade and `render --fps 24`: the step's
    key was matched at the fps asked now only, so its job, paid and running, was left
    and a new one bought for every scene. It is matched at the fps of the render that
    made it (`_outputs_before`), and the job is polled and downloaded."""
    goals, only, run, _ = await _old_run_with_jobs_running(sim, tmp_path, monkeypatch)
    sim.min_polls = 0
    for job in sim.jobs():
        job.min_polls = 0
    other = settings_for("byteplus", sim, **only, output={"fps": 24})
    res = await Pipeline(goals, other, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 4  # each job polled, none bought again


async def test_a_job_in_flight_keyed_by_the_fps_before_and_held_by_no_step_is_taken(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run made while a paid clip's key held the fps and frame size (until 2026-12-04)
    whose clip jobs were still running when `render --fresh` carried them: each carried
    job's inputs are recorded under that key, and a job no step holds was matched by the
    key of now only (`_unheld_job`), so the estimate priced every clip again and the
    render bought each again though its job, paid, was running."""
    from mindmovie.pipeline import estimate_for

    goals, _, run, s = await _old_run_with_jobs_running(sim, tmp_path, monkeypatch)
    res = await Pipeline(goals, s, out=run, keys=KEYS).run(fresh=True, until="keyframes")
    assert not res.failed
    # (the estimate reads the key from the environment: a job is taken only where made)
    monkeypatch.setenv("ARK_API_KEY", KEYS.byteplus.get_secret_value())
    est = estimate_for(goals, s, out=run)
    assert [(sc.scene_id, sc.video.usd) for sc in est.scenes if sc.video.usd] == []
    sim.min_polls = 0  # (a job bought again would finish at once)
    for job in sim.jobs():
        job.min_polls = job.polls + 2  # running at the render's first look, then done
    res = await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 4  # each carried job taken


async def test_a_job_keyed_by_the_fps_before_carried_by_render_fresh_at_another_fps_is_taken(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As above, but `render --fresh --fps 24`: the fresh run.db has no render of the
    old run's fps recorded, so the carried jobs' keys (with that fps) were not matched:
    each was billed unused, its clip kept where no scene looked, and bought again."""
    goals, only, run, _ = await _old_run_with_jobs_running(sim, tmp_path, monkeypatch)
    sim.min_polls = 0
    for job in sim.jobs():
        job.min_polls = 0
    other = settings_for("byteplus", sim, **only, output={"fps": 24})
    res = await Pipeline(goals, other, out=run, keys=KEYS).run(fresh=True)
    assert res.movie is not None
    assert sim.stats()["totals"]["jobs_created"] == 4  # each carried job's clip used


async def test_paid_keyframes_keyed_by_the_frame_size_before_take_the_key_of_now(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose paid keyframes were keyed by the frame size (until 2026-12-04),
    rendered once since (reused under that key): a later `--resolution` bought every
    keyframe again, as before the change, where a paid clip reused so takes its key of
    now (`_clip`'s rekey). A keyframe reused under its old key takes its key of now too."""
    from mindmovie.pipeline import estimate_for

    low = settings_for("byteplus", sim, output={"size": None, "resolution": "480p"})
    goals, run = await _old_keyframes_reused(sim, tmp_path, monkeypatch, low)
    high = settings_for("byteplus", sim, output={"size": None, "resolution": "720p"})
    est = estimate_for(goals, high, out=run)
    assert [(s.scene_id, s.keyframe.usd) for s in est.scenes if s.keyframe.usd] == []
    res = await Pipeline(goals, high, out=run, keys=KEYS).run(until="keyframes")
    assert not res.failed and res.ran == [] and sim.stats()["totals"]["images"] == 4
