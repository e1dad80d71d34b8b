"""Shared setup for tests that render through the real SDKs against the simulator."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from mindmovie.config import Keys, load_settings
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


#: Google's answer to a key it does not know (the Gemini API and Vertex express alike):
#: 400 INVALID_ARGUMENT, not 401, with an ErrorInfo whose reason says it is the key
GOOGLE_BAD_KEY_BODY: dict[str, Any] = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "aiplatform.googleapis.com"},
            }
        ],
    }
}


def goals_file(tmp_path: Path, sim: SimServer | None = None) -> Path:
    """Write the goals; teach the simulated Claude to answer with a valid plan for them."""
    (tmp_path / "photos").mkdir()
    src = next((REPO / "examples" / "photos").glob("*.jpg"))
    shutil.copyfile(src, tmp_path / "photos" / "portrait.jpg")
    p = tmp_path / "goals.yaml"
    p.write_text(GOALS)
    if sim is not None:
        claude_answer_for(sim, p)
    return p


def claude_answer_for(sim: SimServer, goals_path: Path) -> None:
    """Make the simulated Claude answer with a valid plan for these goals (4 s scenes)."""
    from mindmovie.goals import load_goals
    from mindmovie.providers.base import PlanOptions
    from mindmovie.providers.local import build_plan

    plan = build_plan(load_goals(goals_path), PlanOptions(scene_seconds=4))
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


def copy_scene(sim: SimServer, src: int = 1, dst: int = 2) -> None:
    """Make the simulated planner's scene `dst` ask the very same image and clip as scene
    `src` (its own goal and another affirmation, which no request holds): a scene copied
    in plan.yaml, a planner repeating itself. By default 02-career-2 copies 02-career-1."""
    full = sim.planner
    assert isinstance(full, dict), "call goals_file (or claude_answer_for) first"
    scenes = [dict(sc) for sc in full["scenes"]]
    scenes[dst] = {**scenes[src], "goal": scenes[dst]["goal"], "affirmation": "I lead with joy"}
    sim.set_planner({**full, "scenes": scenes})


def edit_scene_2(run: Path, **more: str) -> tuple[str, str]:
    """Edit the second scene of `run`'s plan.yaml (`more`: text added to its fields):
    (plan.yaml as it was, the scene's id)."""
    plan_path = run / "plan.yaml"
    original = plan_path.read_text()
    plan = yaml.safe_load(original)
    for field, added in more.items():
        plan["scenes"][1][field] += added
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True))
    return original, str(plan["scenes"][1]["id"])


def settings_for(preset: str, sim: SimServer, **extra: Any) -> Any:
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


async def left_open(sim: SimServer, before: set[int], wait: float = 5.0) -> set[int]:
    """The simulator's connections opened since `before` that are still open once the
    server has had `wait` seconds to see the clients' closes (its handler threads read
    the end of each connection in their own time)."""
    import asyncio

    deadline = time.monotonic() + wait
    while (left := sim.connections() - before) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return left


def preset_config(tmp: Path, sim: SimServer, preset: str) -> Path:
    """A config.yaml for `preset` at a small size, every provider pointed at `sim`
    with quick polls: what a person writes, read by the CLI as theirs."""
    cfg = tmp / f"{preset}.yaml"
    cfg.write_text(
        f"preset: {preset}\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        "compose: {crossfade: 0.5, title_seconds: 1.0, closing_seconds: 1.0, quality: draft}\n"
        "providers:\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}', poll_interval: 0.05,"
        " poll_max_interval: 0.2, job_deadline: 60}\n"
        f"  google: {{base_url: '{sim.base_url}', poll_interval: 0.05,"
        " poll_max_interval: 0.2, job_deadline: 60}\n"
    )
    return cfg


def seedream_by_url(sim: SimServer) -> Any:
    """Only keyframes are paid: Seedream answering with result URLs to download."""
    return settings_for(
        "byteplus",
        sim,
        planner={"provider": "local"},
        keyframes={"options": {"response_format": "url"}},
        video={"provider": "local"},
    )


def tiny_local_settings() -> Any:
    """The offline preset at 160x90, 8 fps, 2 s scenes, draft quality: a whole render in
    seconds, for tests of how a render stops."""
    return load_settings(
        overrides={"preset": "local", "output": {"size": "160x90", "fps": 8},
                   "plan": {"scene_seconds": 2}, "compose": {"quality": "draft"}},
        env={},
    )  # fmt: skip


KEYS = Keys(anthropic=SecretStr("sk-ant"), byteplus=SecretStr("ark"), google=SecretStr("g"))


def cli_env(sim: SimServer, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A config file pointing the byteplus preset at the simulator, and the keys' env."""
    cfg = tmp_path / "sim.yaml"
    cfg.write_text(
        "preset: byteplus\n"
        "output: {size: 320x180, fps: 12}\n"
        "plan: {scene_seconds: 4}\n"
        "providers:\n"
        f"  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  byteplus: {{base_url: '{sim.ark_base_url}', poll_interval: 0.05}}\n"
    )
    env = {"ANTHROPIC_API_KEY": "a", "ARK_API_KEY": "b"}
    return cfg, env


def sign_video_urls(sim: SimServer) -> None:
    """The sim's Seedance video URLs signed as Ark's are (X-Tos-Date now, 24 h): a 404
    on an unsigned one is the clip gone at once (`SeedanceVideo._gone`)."""
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    sim.video_url_query = f"X-Tos-Date={now}&X-Tos-Expires=86400&X-Tos-Signature=x"


def no_retry_waits(monkeypatch: Any) -> None:
    """Retries go again at once: a test of what is retried need not sleep through it."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)


def ledger_rows(run_dir: Path, stage: str) -> list[dict[str, Any]]:
    """The run's ledger rows of one stage, as `status --json` lists them."""
    from mindmovie.status import collect_status

    return [r for r in collect_status(run_dir)["ledger"] if r["stage"] == stage]


def seedance_only(sim: SimServer) -> Any:
    """The byteplus preset with a local plan and local keyframes: only clips are paid."""
    return settings_for(
        "byteplus", sim, planner={"provider": "local"}, keyframes={"provider": "local"}
    )


@contextlib.contextmanager
def keyed_as_before(monkeypatch: pytest.MonkeyPatch, method: str) -> Iterator[None]:
    """Within it, Pipeline's `method` (`_keyframe_variants`, `_clip_key`) makes its keys as
    until 2026-12-04 (its `legacy` form, with the frame size and fps), and a render writes
    no `OUTPUTS_META`, which renders then did not have: a run made then."""
    from mindmovie import pipeline
    from mindmovie.pipeline import Pipeline

    real = getattr(Pipeline, method)
    with monkeypatch.context() as m:
        m.setattr(
            Pipeline, method, lambda self, *a, legacy=False, **kw: real(self, *a, legacy=True, **kw)
        )
        m.setattr(pipeline, "OUTPUTS_META", "not_written_before_2026_12_04")
        yield


def scene_files(run: Path) -> dict[str, tuple[int, int]]:
    """Each scene's keyframe and clip as files (inode numbers): the simulator's media
    are alike for any prompt, so bytes could not tell a file bought again from the one
    bought first. Kept and restored files are hard links to the very file bought."""
    return {
        d.name: ((d / "keyframe.png").stat().st_ino, (d / "clip.mp4").stat().st_ino)
        for d in sorted((run / "scenes").iterdir())
        if (d / "clip.mp4").exists()
    }


def record_photo_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The threads `photo_to_send` runs in, from now on (it is looked up at each call)."""
    import threading

    from mindmovie.providers import local_media

    threads: list[int] = []
    real = local_media.photo_to_send

    def recording(path: Path, *args: Any) -> tuple[bytes, str] | None:
        threads.append(threading.get_ident())
        return real(path, *args)

    monkeypatch.setattr(local_media, "photo_to_send", recording)
    return threads


class AgreeingAsked(list[float]):
    """The spend question as a person who says yes to every estimate: called with each
    estimate, it keeps its total (a list of them) and agrees."""

    def __call__(self, est: Any) -> bool:
        self.append(est.total)
        return True


def count_ca_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every TLS context made from here on: its CA file for each CA certificate load
    (`load_verify_locations`, as `ssl.create_default_context` and httpx2's default make
    them), and "httpx2 default" for each of httpx2's default contexts (on a system whose
    CA certificates it takes from the OS trust store, no file is loaded), with
    SSL_CERT_FILE and SSL_CERT_DIR unset. The shared contexts (`base.shared_tls`) start
    unmade, so the first client makes them here."""
    import functools
    import ssl

    import httpcore2

    from mindmovie.providers import base

    loads: list[object] = []
    real = ssl.SSLContext.load_verify_locations
    real_default = httpcore2.default_ssl_context

    def counted(self: ssl.SSLContext, *a: Any, **kw: Any) -> None:
        loads.append(kw.get("cafile", a[0] if a else None))
        real(self, *a, **kw)

    def counted_default(**kw: Any) -> ssl.SSLContext:
        loads.append("httpx2 default")
        return real_default(**kw)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    monkeypatch.setattr(httpcore2, "default_ssl_context", counted_default)
    if hasattr(base, "_shared_tls"):  # (so the tests fail on their asserts without it)
        fresh = functools.lru_cache(maxsize=8)(base._shared_tls.__wrapped__)
        monkeypatch.setattr(base, "_shared_tls", fresh)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return loads


def warnings_reporter() -> tuple[Any, list[str]]:
    """A reporter that keeps only the warnings, and the list they go to."""
    from mindmovie.progress import NullReporter

    warned: list[str] = []

    class Warned(NullReporter):
        def warn(self, text: str) -> None:
            warned.append(text)

    return Warned(), warned
