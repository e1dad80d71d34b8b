"""Seedream/SeedEdit keyframes and Seedance video through the real Ark SDK against the
loopback simulator (tests/sim).

What matters: the request carries what the person asked for (first frame, resolution,
duration, audio, seed); nothing a model cannot do is ever sent (no spend); every failure
maps to one taxonomy with the SDK's own retries off; a bad download never re-creates a
paid job.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from mindmovie.config import ConfigError, Keys, Settings, load_settings
from mindmovie.media import probe
from mindmovie.providers.base import (
    AuthError,
    ConnectionLost,
    ContentRejected,
    InvalidRequest,
    JobFailed,
    JobState,
    KeyframeRequest,
    RateLimited,
    ResultGone,
    Transient,
    VideoRequest,
    url_expired,
)
from mindmovie.providers.byteplus import SeedanceVideo, SeedreamKeyframes
from mindmovie.retry import with_retry
from tests.integration.support import record_photo_threads, sign_video_urls
from tests.sim import SimServer
from tests.sim.fixtures import SimClock

pytestmark = pytest.mark.usefixtures("providers_closed")

TASKS = "/contents/generations/tasks"
IMAGES = "/images/generations"


def png(path: Path, w: int = 64, h: int = 36, colour: tuple[int, int, int] = (200, 90, 40)) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def keyframe(tmp_path: Path) -> Path:
    return png(tmp_path / "keyframe.png")


def seedance(
    sim: SimServer, model: str | None = None, timeout: float = 10, **kw: Any
) -> SeedanceVideo:
    return SeedanceVideo(
        api_key="ark-test", base_url=sim.ark_base_url, model=model, timeout=timeout, **kw
    )


def seedream(
    sim: SimServer, model: str | None = None, timeout: float = 10, **kw: Any
) -> SeedreamKeyframes:
    return SeedreamKeyframes(
        api_key="ark-test", base_url=sim.ark_base_url, model=model, timeout=timeout, **kw
    )


def vreq(keyframe: Path, **kw: Any) -> VideoRequest:
    base: dict[str, Any] = dict(
        scene_id="01-health-1",
        prompt="she runs along the shore at dawn",
        keyframe=keyframe,
        seconds=5,
        width=1280,
        height=720,
        fps=24,
        seed=11,
        aspect="16:9",
        resolution="480p",
    )
    base.update(kw)
    return VideoRequest(**base)


async def wait_done(video: SeedanceVideo, remote_id: str, timeout: float = 20) -> JobState:
    end = time.monotonic() + timeout
    while True:
        st = await video.poll(remote_id)
        if st.done:
            return st
        if time.monotonic() > end:
            raise AssertionError(f"job {remote_id} not done: {st}")
        await asyncio.sleep(0.05)


def created(sim: SimServer) -> int:
    return int(sim.stats()["totals"]["jobs_created"])


# ====================================================================== Seedance
async def test_i2v_request_shape_15_pro(sim: SimServer, keyframe: Path, tmp_path: Path) -> None:
    last = png(tmp_path / "last.png", colour=(10, 20, 30))
    video = seedance(sim)  # catalog default: seedance-1-5-pro
    await video.submit(vreq(keyframe, last_frame=last, audio=True, seconds=6, resolution="720p"))
    body = sim.requests(path=TASKS, method="POST")[0]["body"]
    assert body["model"] == "seedance-1-5-pro-251215"
    text, first, lastf = body["content"]
    assert text == {"type": "text", "text": "she runs along the shore at dawn"}
    assert first["role"] == "first_frame" and lastf["role"] == "last_frame"
    assert first["image_url"]["url"].startswith("data:image/png;base64,")
    assert base64.b64decode(first["image_url"]["url"].split(",", 1)[1]) == keyframe.read_bytes()
    assert (body["resolution"], body["ratio"], body["duration"]) == ("720p", "16:9", 6)
    assert body["generate_audio"] is True
    assert body["seed"] == 11
    assert body["camera_fixed"] is False and body["watermark"] is False
    assert body["service_tier"] is None  # default tier unless configured


@pytest.mark.parametrize(
    ("prompt", "sent"),
    [
        ("she runs --dur 12 --rs 1080p along the shore", "she runs along the shore"),
        ("she runs --duration=10 --Resolution 1080p", "she runs"),
        ("--ratio 9:16 --seed 7 --cf true --wm true --fps 30 she runs", "she runs"),
        (
            "a well--lit room, 2--3 people --not-a-flag",
            "a well--lit room, 2--3 people --not-a-flag",
        ),
        ("she runs (--dur 12), slowly,--rs 1080p", "she runs (), slowly,"),
        ('a girl --seed -1 runs --dur=-1 --rs "1080p" --dur +12', "a girl runs"),
    ],
)
async def test_inline_parameters_in_a_prompt_are_not_sent(
    sim: SimServer, keyframe: Path, prompt: str, sent: str
) -> None:
    """Seedance reads legacy inline flags in the prompt (`--dur 12 --rs 1080p`), and
    which wins over the typed fields is unconfirmed (provider-wire.md §1): a hand-edited
    motion prompt could buy a longer or larger clip than the estimate priced. The text
    sent has them taken out; the typed fields are the run's; other dashes stay."""
    await seedance(sim).submit(vreq(keyframe, prompt=prompt))
    body = sim.requests(path=TASKS, method="POST")[0]["body"]
    assert body["content"][0] == {"type": "text", "text": sent}
    assert (body["duration"], body["resolution"], body["ratio"]) == (5, "480p", "16:9")
    assert body["seed"] == 11 and body["watermark"] is False


async def test_models_without_audio_never_send_generate_audio(
    sim: SimServer, keyframe: Path
) -> None:
    video = seedance(
        sim, "seedance-1-0-pro", options={"camera_fixed": True, "service_tier": "flex"}
    )
    await video.submit(vreq(keyframe, audio=False))
    body = sim.requests(path=TASKS, method="POST")[0]["body"]
    assert body["model"] == "seedance-1-0-pro-250528"
    assert body["generate_audio"] is None
    assert body["camera_fixed"] is True and body["service_tier"] == "flex"
    assert [c.get("role") for c in body["content"]] == [None, "first_frame"]


@pytest.mark.parametrize(
    ("model", "kw", "needle"),
    [
        ("seedance-1-5-pro", {"seconds": 3}, "duration 3 s not allowed; allowed 4-12 s"),
        ("seedance-1-0-pro", {"resolution": "4k"}, "allowed 480p, 720p, 1080p"),
        ("seedance-1-0-pro", {"audio": True}, "audio not supported"),
        ("seedance-1-0-pro-fast", {"last_frame": Path("x.png")}, "last frame not supported"),
    ],
)
async def test_impossible_requests_are_refused_before_any_spend(
    sim: SimServer, keyframe: Path, model: str, kw: dict[str, Any], needle: str
) -> None:
    with pytest.raises(InvalidRequest) as e:
        await seedance(sim, model).submit(vreq(keyframe, **kw))
    assert needle in str(e.value)
    assert sim.requests(path=TASKS) == []


async def test_submit_poll_fetch_roundtrip(sim: SimServer, keyframe: Path, tmp_path: Path) -> None:
    video = seedance(sim, "seedance-1-0-pro")
    req = vreq(keyframe, seconds=4)
    rid = await video.submit(req)
    assert rid.startswith("cgt-")
    st = await wait_done(video, rid)
    assert st.status == "succeeded" and st.video_url
    # 1.0 pro 480p 16:9 is 864x480; tokens = W*H*24*s/1024
    assert st.usage["completion_tokens"] == round(864 * 480 * 24 * 4 / 1024)
    dest = tmp_path / "scene" / "clip.mp4"
    out = await video.fetch(st, req, dest)
    assert out == dest and dest.stat().st_size > 0
    info = probe(dest)
    assert info.video is not None and abs(info.duration - 4) < 1
    assert not [p for p in dest.parent.iterdir() if p.name != "clip.mp4"]  # no temp left
    assert created(sim) == 1


def _count_tls_contexts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every TLS context built from here on (its CA file), with SSL_CERT_FILE and
    SSL_CERT_DIR unset."""
    import ssl

    built: list[object] = []
    real = ssl.create_default_context

    def counted(*a: Any, **kw: Any) -> ssl.SSLContext:
        built.append(kw.get("cafile"))
        return real(*a, **kw)

    monkeypatch.setattr(ssl, "create_default_context", counted)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return built


async def test_downloads_share_one_tls_context(
    sim: SimServer, keyframe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every result download's client had a TLS context of its own: the CA bundle loaded
    again each time (~45 ms of CPU a download, a seventh of some test files' time).
    Clips and images now share one; a changed SSL_CERT_FILE gets its own."""
    built = _count_tls_contexts(monkeypatch)
    video = seedance(sim, "seedance-1-0-pro")
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    req = vreq(keyframe, seconds=4)
    before = 0
    for n in range(3):
        if n == 1:  # the SDK clients (one each, made at their first call), ours if new
            before = len(built)
        st = await wait_done(video, await video.submit(req))
        await video.fetch(st, req, tmp_path / f"clip{n}.mp4")
        await kf.generate(KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280,
                                          seed=n, aspect="9:16"))  # fmt: skip
    assert len(built) == before, built  # the later downloads built none
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    await video.fetch(st, req, tmp_path / "clip3.mp4")
    assert len(built) == before + 1 and built[-1] == certifi.where(), built


async def test_the_sdk_clients_share_the_tls_context_too(
    sim: SimServer, keyframe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Ark SDK's own client loaded the CA bundle again for each client it made (one a
    render and event loop, ~45 ms of CPU each). Its client now has the downloads' one
    context: new Seedance and Seedream models, each with a new SDK client, build none."""
    built = _count_tls_contexts(monkeypatch)
    req = vreq(keyframe, seconds=4)
    before = 0
    for n in range(3):
        if n == 1:
            before = len(built)  # the shared context, if no test built it before
        video = seedance(sim, "seedance-1-0-pro")
        kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
        st = await wait_done(video, await video.submit(req))
        await video.fetch(st, req, tmp_path / f"clip{n}.mp4")
        await kf.generate(KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280,
                                          seed=n, aspect="9:16"))  # fmt: skip
    assert len(built) == before, built  # two new models each time, no new context
    assert created(sim) == 3


async def test_truncated_download_is_transient_and_refetch_reuses_the_job(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    video = seedance(sim)
    req = vreq(keyframe)
    rid = await video.submit(req)
    st = await wait_done(video, rid)
    dest = tmp_path / "clip.mp4"
    sim.add_fault("truncate", path="/_sim/files/")
    with pytest.raises(Transient) as e:
        await video.fetch(st, req, dest)
    assert "truncated" in str(e.value) or "download failed" in str(e.value)
    assert not dest.exists()
    assert list(tmp_path.glob(".clip.mp4.*")) == []  # the partial file is gone
    await video.fetch(st, req, dest)  # the SAME job, downloaded again
    assert probe(dest).video is not None
    assert created(sim) == 1


async def test_a_trickling_download_hits_its_deadline(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """Bytes keep coming, so httpx's per-read timeout never fires; the download as a
    whole has a deadline (download_timeout), and then is a Transient (fetched again)."""
    video = seedance(sim, download_timeout=0.6)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    dest = tmp_path / "clip.mp4"
    sim.add_fault("trickle", path="/_sim/files/", seconds=3.0, count=1)
    t0 = time.monotonic()
    with pytest.raises(Transient, match="took longer than") as e:
        await video.fetch(st, req, dest)
    # the setting that sets it named (the provider-faults audit: the line named none)
    assert "providers.byteplus.download_timeout sets it" in str(e.value), str(e.value)
    assert time.monotonic() - t0 < 2.0  # stopped at the deadline, not after the 3 s body
    assert not dest.exists() and list(tmp_path.glob(".clip.mp4.*")) == []
    await video.fetch(st, req, dest)  # the same job, at full speed
    assert probe(dest).video is not None and created(sim) == 1


async def test_a_clip_of_the_wrong_length_is_transient_and_never_recreated(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """A finished 5 s task fetched for an 8 s scene: the probed length is checked, the
    clip is refused (Transient, naming the expected length) and no task is created."""
    sim.media_scale = 0.25
    video = seedance(sim)
    st = await wait_done(video, await video.submit(vreq(keyframe, seconds=5)))
    dest = tmp_path / "clip.mp4"
    with pytest.raises(Transient, match=r"lasts [\d.]+ s, expected 8 s"):
        await video.fetch(st, vreq(keyframe, seconds=8), dest)
    assert not dest.exists() and list(tmp_path.glob(".clip.mp4.*")) == []
    assert created(sim) == 1
    await video.fetch(st, vreq(keyframe, seconds=5), dest)  # the length it was made for
    assert probe(dest).video is not None and created(sim) == 1


@pytest.mark.parametrize(
    ("kind", "needle"),
    [
        ("corrupt", "downloaded clip is not readable"),  # 200, right size, not a video
        ("empty", "video download was empty"),  # 200, no body
    ],
    ids=["corrupt", "empty"],
)
async def test_a_useless_download_is_transient_and_refetch_reuses_the_job(
    sim: SimServer, keyframe: Path, tmp_path: Path, kind: str, needle: str
) -> None:
    """A complete 200 answer whose bytes are no clip: only probing (corrupt) or counting
    (empty) can tell. Transient, nothing left on disk; the SAME task is fetched again."""
    sim.media_scale = 0.25
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    dest = tmp_path / "clip.mp4"
    sim.add_fault(kind, path="/_sim/files/")
    with pytest.raises(Transient, match=needle) as e:
        await video.fetch(st, req, dest)
    assert not dest.exists() and list(tmp_path.glob(".clip.mp4.*")) == []
    # the download's temporary file, gone by then, is not named as the cause (the
    # provider-faults audit: ".clip.mp4.5648.69f3d757.part: Invalid data ...")
    assert ".clip.mp4." not in str(e.value) and "\n" not in str(e.value), str(e.value)
    await video.fetch(st, req, dest)
    assert probe(dest).video is not None
    assert created(sim) == 1 and sim.stats()["totals"]["downloads"] == 2


async def test_a_stuck_task_past_its_deadline_is_status_expired(
    sim: SimServer, sim_clock: SimClock, keyframe: Path
) -> None:
    """execution_expires_after (an option) reaches the task; a task that never finishes
    is reported "expired" by the provider, and poll says so (not a generic failure).
    The simulator's clock is moved by the test: on the wall clock the first poll had to
    come within the second the task lives, which a loaded machine need not manage."""
    sim.add_fault("stuck", path=TASKS)
    video = seedance(sim, options={"execution_expires_after": 1})
    rid = await video.submit(vreq(keyframe))
    assert sim.requests(path=TASKS, method="POST")[0]["body"]["execution_expires_after"] == 1
    assert (await video.poll(rid)).status == "queued"
    sim_clock.advance(0.9)
    assert (await video.poll(rid)).status == "running"  # not expired before its time
    sim_clock.advance(0.2)
    st = await video.poll(rid)
    assert st.status == "expired" and st.video_url is None
    assert st.error is not None and "TaskExpired" in st.error
    assert sim.stats()["totals"]["jobs_expired"] == 1


async def test_a_task_cancelled_while_queued_is_status_cancelled(
    sim: SimServer, keyframe: Path
) -> None:
    sim.add_fault("stuck", path=TASKS)
    video = seedance(sim)
    rid = await video.submit(vreq(keyframe))
    assert (await video.poll(rid)).status == "queued"
    await video.cancel(rid)  # the SDK's tasks.delete: DELETE .../tasks/{id}
    assert len(sim.requests(path=f"{TASKS}/{rid}", method="DELETE")) == 1
    st = await video.poll(rid)
    assert st.status == "cancelled" and st.done and st.error is None
    assert sim.stats()["totals"]["jobs_cancelled"] == 1


async def test_job_content_rejection_is_status_rejected(sim: SimServer, keyframe: Path) -> None:
    sim.add_fault("reject", path=TASKS, code="OutputAudioSensitiveContentDetected")
    video = seedance(sim)
    st = await wait_done(video, await video.submit(vreq(keyframe)))
    assert st.status == "rejected"
    assert st.error is not None and "OutputAudioSensitiveContentDetected" in st.error


async def test_job_failure_is_status_failed_with_code(sim: SimServer, keyframe: Path) -> None:
    sim.add_fault("fail", path=TASKS, code="InternalServiceError", message="boom")
    video = seedance(sim)
    st = await wait_done(video, await video.submit(vreq(keyframe)))
    assert st.status == "failed" and st.error == "InternalServiceError: boom"


async def test_content_filter_on_create_is_content_rejected_not_billed(
    sim: SimServer, keyframe: Path
) -> None:
    sim.add_fault(
        "http",
        path=TASKS,
        method="POST",
        status=400,
        code="InputTextSensitiveContentDetected",
        message="sensitive",
    )
    with pytest.raises(ContentRejected) as e:
        await seedance(sim).submit(vreq(keyframe))
    assert e.value.billed is False
    assert e.value.scene_id == "01-health-1"  # the message says which scene


async def test_rate_limit_honours_retry_after_and_sdk_does_not_retry(
    sim: SimServer, keyframe: Path
) -> None:
    sim.add_fault("http", path=TASKS, method="POST", status=429, retry_after=7)
    with pytest.raises(RateLimited) as e:
        await seedance(sim).submit(vreq(keyframe))
    assert e.value.retry_after == 7.0
    assert len(sim.requests(path=TASKS, method="POST")) == 1
    assert created(sim) == 0


@pytest.mark.parametrize("clock_off", [3600.0, -3600.0], ids=["behind", "ahead"])
async def test_a_retry_after_date_is_read_off_the_provider_s_clock_not_this_machine_s(
    sim: SimServer, keyframe: Path, clock_off: float
) -> None:
    """A 429 whose Retry-After is an HTTP date 7 s after the provider's now, this
    machine's clock an hour behind or ahead (a laptop's clock off, an NTP correction
    not yet made): the date was counted from this machine's clock, so the wait was an
    hour (the render failed the scene at once: "render again after ...") or none (the
    create sent again at once). It is counted from the answer's Date header: 7 s."""
    sim.clock_offset = clock_off
    sim.retry_after_dates = True
    sim.add_fault("http", path=TASKS, method="POST", status=429, retry_after=7)
    with pytest.raises(RateLimited) as e:
        await seedance(sim).submit(vreq(keyframe))
    assert e.value.retry_after is not None and 6.0 <= e.value.retry_after <= 8.0, e.value


@pytest.mark.parametrize("status", [408, 409, 500])
async def test_server_error_is_transient_one_attempt(
    sim: SimServer, keyframe: Path, status: int
) -> None:
    """5xx, and a request timeout or conflict (408, 409): worth a retry, not final."""
    sim.add_fault("http", path=TASKS, method="POST", status=status)
    with pytest.raises(Transient) as e:
        await seedance(sim).submit(vreq(keyframe))
    assert not isinstance(e.value, RateLimited)
    assert e.value.retry_after is None  # no header: the retry policy's own backoff
    assert len(sim.requests(path=TASKS, method="POST")) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_create_answered_a_5xx_that_may_have_made_the_task_is_connection_lost(
    sim: SimServer, keyframe: Path, status: int
) -> None:
    """A 500, 502 or 504 to a create can come after the backend made the task (it bills):
    ConnectionLost, sent, so the pipeline looks for the task before paying again. Only
    504 was; a 500 or 502 was Transient, refunded and sent again: two tasks paid."""
    sim.add_fault("http_after", path=TASKS, method="POST", status=status)
    with pytest.raises(ConnectionLost, match=f"HTTP {status}") as e:
        await seedance(sim).submit(vreq(keyframe))
    assert e.value.sent is True
    # the service's own 500: a job it made is listed at once (a short wait for it)
    assert e.value.answered is (status == 500)
    assert len(sim.requests(path=TASKS, method="POST")) == 1 and created(sim) == 1


async def test_a_503_to_a_create_is_the_service_s_answer_that_may_have_made_the_task(
    sim: SimServer, keyframe: Path
) -> None:
    """Ark does not say a 503 made no task, and the simulator makes one before a 503:
    ConnectionLost, sent and answered (the pipeline looks for the task at once, with the
    short grace of a 500). It was a plain Transient: refunded and sent again, 2 tasks."""
    sim.add_fault("http_after", path=TASKS, method="POST", status=503)
    with pytest.raises(ConnectionLost, match="HTTP 503") as e:
        await seedance(sim).submit(vreq(keyframe))
    assert e.value.sent is True and e.value.answered is True and e.value.status == 503
    assert len(sim.requests(path=TASKS, method="POST")) == 1 and created(sim) == 1


async def test_a_503_with_retry_after_carries_it(sim: SimServer, keyframe: Path) -> None:
    """A 503 saying when to come back (Retry-After) is Transient with that wait, which
    mindmovie.retry honours as it does a 429's; before, only a 429 kept it."""
    sim.add_fault("http", path=TASKS, method="POST", status=503, retry_after=12)
    with pytest.raises(Transient) as e:
        await seedance(sim).submit(vreq(keyframe))
    assert not isinstance(e.value, RateLimited) and e.value.retry_after == 12.0
    assert len(sim.requests(path=TASKS, method="POST")) == 1 and created(sim) == 0


async def test_a_seedream_503_is_a_transient_error_that_is_retried(sim: SimServer) -> None:
    """A Seedream image call answered 503 (service unavailable: to Ark, a status >= 500
    like the others, which its SDK retries alike; provider-wire.md §1) is Transient with
    its Retry-After: not a refusal (ContentRejected, InvalidRequest: the scene failed,
    never sent again) nor a lost answer. The one retry policy sends it again, and the
    image is made once."""
    req = KeyframeRequest(scene_id="01-health-1", prompt="p", width=64, height=36, seed=1)
    sim.add_fault("http", path=IMAGES, method="POST", status=503, retry_after=3)
    with pytest.raises(Transient, match="image: HTTP 503") as e:
        await seedream(sim).generate(req)
    assert type(e.value) is Transient and e.value.retry_after == 3.0
    sim.add_fault("http", path=IMAGES, method="POST", status=503, retry_after=0.01)
    img = await with_retry(lambda: seedream(sim).generate(req), base_delay=0.01)
    assert img.data and sim.stats()["totals"]["images"] == 1
    assert [r["status"] for r in sim.requests(path=IMAGES)] == [503, 503, 200]


async def test_a_seedream_503_asking_for_hours_says_when_not_a_few_minutes(
    sim: SimServer,
) -> None:
    """A Seedream 503 with Retry-After: 7200 ends the call at once (longer than a render
    waits) saying when to render again; its line also said "render again in a few
    minutes" (`busy_advice`), two answers to one question."""
    req = KeyframeRequest(scene_id="01-health-1", prompt="p", width=64, height=36, seed=1)
    sim.add_fault("http", path=IMAGES, method="POST", status=503, retry_after=7200)
    with pytest.raises(Transient) as e:
        await asyncio.wait_for(with_retry(lambda: seedream(sim).generate(req)), 10)
    line = str(e.value)
    assert "byteplus could not answer; it asks to wait 2 h 0 min" in line, line
    assert "render again after" in line and "few minutes" not in line, line
    assert len(sim.requests(path=IMAGES)) == 1


@pytest.mark.parametrize("stage", ["video", "image"])
async def test_an_answer_slower_than_timeout_is_connection_lost(
    sim: SimServer, keyframe: Path, stage: str
) -> None:
    """The create (tasks or images POST) outlives the client's `timeout`: the SDK's
    ArkAPITimeoutError is ConnectionLost (the outcome, and so the charge, is unknown),
    after one attempt; the server does carry the request out."""
    sim.media_scale = 0.05
    path, counter = (TASKS, "jobs_created") if stage == "video" else (IMAGES, "images")
    sim.add_fault("delay", path=path, method="POST", seconds=2.0)  # far past the 0.3 s
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost, match=r"connection failed: ArkAPITimeoutError \(") as e:
        if stage == "video":
            await seedance(sim, timeout=0.3).submit(vreq(keyframe))
        else:
            await seedream(sim, timeout=0.3).generate(
                KeyframeRequest(scene_id="01-health-1", prompt="p", width=64, height=36, seed=1)
            )
    assert time.monotonic() - t0 < 1.7  # gave up at the timeout, not after the answer
    assert e.value.scene_id == "01-health-1"
    # the setting and what to do (it was the SDK's class alone)
    assert "no answer within providers.byteplus.timeout (0.3 s); render again" in str(e.value)
    # not the async library's words for its own timeout ("CancelledError: Cancelled via
    # cancel scope 7fedd0b43420; reason: deadline exceeded")
    assert "cancel scope" not in str(e.value) and "CancelledError" not in str(e.value), e.value
    assert len(sim.requests(path=path, method="POST")) == 1  # the SDK did not retry
    end = time.monotonic() + 3
    while sim.stats()["totals"][counter] == 0 and time.monotonic() < end:
        await asyncio.sleep(0.05)
    assert sim.stats()["totals"][counter] == 1  # it happened (and is billed) anyway


async def test_one_retry_policy_recovers_with_one_job(sim: SimServer, keyframe: Path) -> None:
    sim.add_fault("http", path=TASKS, method="POST", status=429, retry_after=0.05)
    sim.add_fault("http", path=TASKS, method="POST", status=503)
    video = seedance(sim)
    rid = await with_retry(lambda: video.submit(vreq(keyframe)), base_delay=0.01)
    assert rid and created(sim) == 1
    assert len(sim.requests(path=TASKS, method="POST")) == 3


async def test_dropped_poll_is_transient(sim: SimServer, keyframe: Path) -> None:
    video = seedance(sim)
    rid = await video.submit(vreq(keyframe))
    sim.add_fault("drop", path=f"{TASKS}/{rid}")
    with pytest.raises(Transient):
        await video.poll(rid)
    assert (await wait_done(video, rid)).status == "succeeded"


async def test_unknown_task_poll_is_job_failed(sim: SimServer) -> None:
    with pytest.raises(JobFailed):
        await seedance(sim).poll("cgt-does-not-exist")


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_error_names_the_variable(sim: SimServer, keyframe: Path, status: int) -> None:
    sim.add_fault("http", path=TASKS, status=status)
    with pytest.raises(AuthError) as e:
        await seedance(sim).submit(vreq(keyframe))
    assert "ARK_API_KEY" in str(e.value) and "ark-test" not in str(e.value)


async def test_an_overdue_account_is_told_as_its_billing_not_its_key(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """Ark's 403 AccountOverdueError ("your account has an overdue balance": top up in
    the billing center, docs.byteplus.com ModelArk 1299023, the codes table
    provider-wire.md names) was told "check ARK_API_KEY (a valid key, with the model
    activated for it)": the person was sent to a key that works. It is an AuthError (no
    other call of the model goes out) that says to top up the account."""
    message = "The request failed because your account has an overdue balance."
    for path in (TASKS, IMAGES):
        sim.add_fault("http", path=path, status=403, code="AccountOverdueError", message=message)
    with pytest.raises(AuthError) as e:
        await seedance(sim).submit(vreq(keyframe))
    said = str(e.value)
    assert "AccountOverdueError" in said and "billing" in said and "top up" in said
    assert "a valid key" not in said
    with pytest.raises(AuthError, match="top up") as e:
        await seedream(sim).generate(KeyframeRequest("s1", "a fox", 2560, 1440, 7))
    assert "a valid key" not in str(e.value)
    assert created(sim) == 0


@pytest.mark.parametrize(
    ("code", "says"),
    [("QuotaExceeded", "quota"), ("SetLimitExceeded", "Safe Experience Mode")],
)
async def test_an_account_limit_429_is_told_at_once_not_waited_as_a_rate_limit(
    sim: SimServer, keyframe: Path, code: str, says: str
) -> None:
    """Ark's 429 QuotaExceeded (the account's free quota of the model used up) and
    SetLimitExceeded (the inference limit the person set in the console) do not lift in
    minutes (ModelArk 1299023): told as a rate limit, each call waited minutes, then
    said "render again once the rate limit allows". They are AuthErrors (no other call
    of the model goes out) saying where the limit is lifted; nothing is made."""
    for path in (TASKS, IMAGES):
        sim.add_fault("http", path=path, method="POST", status=429, code=code)
    with pytest.raises(AuthError) as e:
        await seedance(sim).submit(vreq(keyframe))
    said = str(e.value)
    assert code in said and says in said and "ModelArk console" in said
    assert "rate limit" not in said and "ark-test" not in said
    with pytest.raises(AuthError, match=says):
        await seedream(sim).generate(KeyframeRequest("s1", "a fox", 2560, 1440, 7))
    assert created(sim) == 0


async def test_a_closed_endpoint_is_a_passing_failure_not_a_refused_request(
    sim: SimServer, keyframe: Path
) -> None:
    """Ark's 400 InvalidEndpoint.ClosedEndpoint ("the inference endpoint is disabled or
    temporarily unavailable. Please try again later", ModelArk 1299023) was a refused
    request, final, whose line told the person to change the scene's fields in
    plan.yaml. It is Transient: tried again (a 400 made no task), then "render again"."""
    sim.add_fault(
        "http",
        path=TASKS,
        method="POST",
        status=400,
        code="InvalidEndpoint.ClosedEndpoint",
        message="The request targeted an endpoint that is currently closed or temporarily "
        "unavailable.",
    )
    with pytest.raises(Transient) as e:
        await seedance(sim).submit(vreq(keyframe))
    assert not isinstance(e.value, ConnectionLost)
    assert "ClosedEndpoint" in str(e.value) and "render again" in str(e.value)
    assert "enabled there" in str(e.value)  # (one the person closed)
    assert created(sim) == 0
    assert (await seedance(sim).submit(vreq(keyframe))).startswith("cgt-")  # once open


async def test_provider_refusal_names_param_and_allowed_values(
    sim: SimServer, keyframe: Path
) -> None:
    sim.add_fault(
        "http",
        path=TASKS,
        method="POST",
        status=400,
        param="duration",
        message="The parameter `duration` specified in the request is not valid.",
    )
    with pytest.raises(InvalidRequest) as e:
        await seedance(sim).submit(vreq(keyframe))
    msg = str(e.value)
    assert "parameter duration" in msg and "allowed 4-12 s" in msg


async def test_a_stale_model_id_404_names_the_model_and_the_known_ones(
    sim: SimServer, keyframe: Path
) -> None:
    """lessons.md: hard-coded model ids went stale and 404ed. A 404 on create says which
    model id was not found and which ones the catalog knows, not "refused the request"."""
    sim.add_fault("http", path=TASKS, method="POST", status=404, message="model not found")
    with pytest.raises(InvalidRequest) as e:
        await seedance(sim, model="seedance-1-5-pro-991231").submit(vreq(keyframe))
    msg = str(e.value)
    assert "the model 'seedance-1-5-pro-991231' does not exist" in msg
    assert e.value.setting == "video.model"
    assert "known: " in msg and "seedance-1-0-pro" in msg


async def test_find_pending_lists_recent_tasks(sim: SimServer, keyframe: Path) -> None:
    video = seedance(sim)
    before = time.time() - 5
    ids = {await video.submit(vreq(keyframe)) for _ in range(2)}
    found = await video.find_pending(before)
    assert {t.remote_id for t in found} == ids
    assert await video.find_pending(time.time() + 3600) == []


# ====================================================================== Seedream
async def test_seedream_request_shape_with_reference_photos(sim: SimServer, tmp_path: Path) -> None:
    refs = tuple(png(tmp_path / f"ref{i}.png", colour=(i, i, i)) for i in range(12))
    kf = seedream(sim)  # catalog default: seedream-4-0
    res = await kf.generate(
        KeyframeRequest(
            scene_id="01-health-1",
            prompt="a runner at dawn",
            width=1280,
            height=720,
            seed=7,
            aspect="16:9",
            reference_photos=refs,
        )
    )
    body = sim.requests(path=IMAGES)[0]["body"]
    assert body["model"] == "seedream-4-0-250828"
    assert body["size"] == "2560x1440"  # WxH matching the aspect, not a square "2K"
    assert body["seed"] == 7 and body["watermark"] is False
    assert body["response_format"] == "b64_json"
    assert len(body["image"]) == 10  # capped at the model's max_references
    assert all(u.startswith("data:image/png;base64,") for u in body["image"])
    assert res.mime == "image/png" and res.data.startswith(b"\x89PNG")
    assert res.usage["images"] == 1


async def test_seedream_url_response_is_downloaded(sim: SimServer) -> None:
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    res = await kf.generate(
        KeyframeRequest(
            scene_id="s",
            prompt="p",
            width=720,
            height=1280,
            seed=3,
            aspect="9:16",
            reference_photos=(Path("/nonexistent/ignored.png"),),  # 3.0 takes no references
        )
    )
    body = sim.requests(path=IMAGES)[0]["body"]
    assert body["size"] == "720x1280" and body["image"] is None
    assert body["response_format"] == "url"
    assert res.data.startswith(b"\x89PNG")


@pytest.mark.parametrize("stage", ["keyframes", "video"])
async def test_an_answer_that_trickles_past_its_deadline_is_connection_lost(
    sim: SimServer, keyframe: Path, stage: str
) -> None:
    """lessons.md: "downloads with no timeout". Seedream's image comes inline in its
    answer (b64_json, the default) and httpx's timeout is per read: an answer sent a
    piece at a time inside it never ended. Each Ark call's whole answer has a deadline
    (`answer_deadline`: the timeout plus download_timeout from the settings); past it
    the call is ConnectionLost, sent (a create may have made its task), at the deadline."""
    path = IMAGES if stage == "keyframes" else TASKS
    # ten pieces 0.8 s apart (each inside the 2 s timeout), 8 s in all; deadline 4 s
    sim.add_fault("slow_answer", path=path, method="POST", seconds=8.0, count=1)
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost) as e:
        if stage == "video":
            await seedance(sim, timeout=2, answer_deadline=4).submit(vreq(keyframe))
        else:
            await seedream(sim, timeout=2, answer_deadline=4).generate(
                KeyframeRequest(scene_id="01-health-1", prompt="p", width=64, height=36, seed=1)
            )
    assert e.value.sent is True
    assert "providers.byteplus.timeout plus download_timeout (4 s)" in str(e.value), e.value
    assert 4.0 - 1e-3 <= time.monotonic() - t0 < 7.0
    assert len(sim.requests(path=path, method="POST")) == 1


@pytest.mark.parametrize("stage", ["keyframes", "video"])
async def test_the_answer_deadline_counts_from_the_answer_not_the_wait_before_it(
    sim: SimServer, keyframe: Path, stage: str
) -> None:
    """The answer's deadline bounds the answer (its body, sent a piece at a time), not
    what comes before its first byte: the request's upload (Seedream is sent up to 10
    reference photos inline, ~5 MB each as base64 over a home uplink) and the model's
    work, each bounded by httpx's own timeouts. Counted from the start, an upload and
    generation that took most of timeout + download_timeout left the image no time,
    and a slow uplink failed every call, each a lost answer. Here the answer begins
    3 s in (inside the 5 s timeout), past a 2 s answer deadline, and comes at once."""
    path = IMAGES if stage == "keyframes" else TASKS
    sim.add_fault("delay", path=path, method="POST", seconds=3.0, count=1)
    if stage == "video":
        rid = await seedance(sim, timeout=5, answer_deadline=2).submit(vreq(keyframe))
        assert rid
    else:
        res = await seedream(sim, timeout=5, answer_deadline=2).generate(
            KeyframeRequest(scene_id="01-health-1", prompt="p", width=64, height=36, seed=1)
        )
        assert res.data.startswith(b"\x89PNG")
    assert len(sim.requests(path=path, method="POST")) == 1


def test_the_answer_deadline_comes_from_the_settings() -> None:
    """The timeout plus download_timeout (null: max(timeout, 120)), for both stages."""
    for stage, cls in (("keyframes", SeedreamKeyframes), ("video", SeedanceVideo)):
        s = Settings(preset="byteplus", providers={"byteplus": {"timeout": 30}})
        keys = Keys.from_env({"ARK_API_KEY": "k"})
        assert cls.from_settings(s, keys).answer_deadline == 30 + 120, stage
        s.providers.byteplus.download_timeout = 45
        assert cls.from_settings(s, keys).answer_deadline == 30 + 45, stage


async def test_seedream_content_rejection(sim: SimServer) -> None:
    sim.add_fault("reject", path=IMAGES)
    with pytest.raises(ContentRejected) as e:
        await seedream(sim).generate(
            KeyframeRequest(scene_id="s", prompt="p", width=64, height=64, seed=1, aspect="1:1")
        )
    assert e.value.billed is False


async def test_seedream_bad_ratio_refused_before_spend(sim: SimServer) -> None:
    with pytest.raises(InvalidRequest) as e:
        await seedream(sim).generate(
            KeyframeRequest(scene_id="s", prompt="p", width=64, height=64, seed=1, aspect="2:1")
        )
    assert "ratio 2:1 not allowed; allowed 16:9" in str(e.value)
    assert sim.requests(path=IMAGES) == []


async def test_seededit_edits_the_source_photo(sim: SimServer, tmp_path: Path) -> None:
    photo = png(tmp_path / "me.png")
    kf = seedream(sim, "seededit-3-0-i2i")
    req = KeyframeRequest(
        scene_id="s", prompt="make it golden hour", width=64, height=36, seed=5, source_photo=photo
    )
    res = await kf.generate(req)
    body = sim.requests(path=IMAGES)[0]["body"]
    assert body["image"].startswith("data:image/png;base64,") and body["size"] == "adaptive"
    assert body["guidance_scale"] == 5.5
    assert res.data
    with pytest.raises(InvalidRequest) as e2:  # an edit model needs a photo
        await kf.generate(KeyframeRequest(scene_id="s", prompt="p", width=8, height=8, seed=1))
    assert "needs a source photo" in str(e2.value)


@pytest.mark.parametrize("size", ["4K", "4k"])
async def test_seedream_4_preset_size_option_is_sent(sim: SimServer, size: str) -> None:
    sim.media_scale = 0.02  # billed as 4096x4096, a small PNG on the wire
    kf = seedream(sim, "seedream-4-0", options={"size": size})
    res = await kf.generate(
        KeyframeRequest(scene_id="s", prompt="p", width=1280, height=720, seed=1, aspect="16:9")
    )
    body = sim.requests(path=IMAGES)[0]["body"]
    assert body["model"] == "seedream-4-0-250828" and body["size"] == "4K"
    assert res.usage["size"] == "4096x4096"


@pytest.mark.parametrize("size", ["4096x4096", "2K"])
def test_seedream_3_size_outside_512_2048_fails_at_construction(sim: SimServer, size: str) -> None:
    """Known from the options, a bad size fails when the provider is built, i.e. before
    the planner is paid: InvalidRequest, and a one-line ConfigError from settings."""
    allowed = f"size {size} not allowed; allowed WxH with each side 512-2048"
    with pytest.raises(InvalidRequest) as e:
        seedream(sim, "seedream-3-0-t2i", options={"size": size})
    assert "keyframes.options.size" in str(e.value) and allowed in str(e.value)
    s = Settings(
        preset="byteplus", keyframes={"model": "seedream-3-0-t2i", "options": {"size": size}}
    )
    with pytest.raises(ConfigError) as e2:
        SeedreamKeyframes.from_settings(s, Keys.from_env({"ARK_API_KEY": "k"}))
    assert allowed in str(e2.value) and "\n" not in str(e2.value)
    assert sim.requests() == []


@pytest.mark.parametrize("size", ["4096x4096", "2K"])
async def test_seedream_3_size_outside_512_2048_is_refused_before_spend(
    sim: SimServer, size: str
) -> None:
    kf = seedream(sim, "seedream-3-0-t2i")
    kf.options["size"] = size  # past the constructor's check: generate checks again
    with pytest.raises(InvalidRequest) as e:
        await kf.generate(KeyframeRequest(scene_id="s", prompt="p", width=1280, height=720, seed=1))
    assert f"size {size} not allowed; allowed WxH with each side 512-2048" in str(e.value)
    assert sim.requests(path=IMAGES) == []


# ====================================================================== settings
def test_missing_key_is_one_line_config_error() -> None:
    s = load_settings(env={}, overrides={"preset": "byteplus"})
    with pytest.raises(ConfigError) as e:
        SeedreamKeyframes.from_settings(s, Keys())
    assert str(e.value) == (
        "ARK_API_KEY (or BYTEPLUS_API_KEY) is not set; "
        "the byteplus preset needs it for keyframes (Seedream)"
    )
    with pytest.raises(ConfigError) as e:
        SeedanceVideo.from_settings(s, Keys())
    assert "for video (Seedance)" in str(e.value)


def test_from_settings_reads_model_options_and_base_url(sim: SimServer) -> None:
    s = Settings(
        preset="byteplus",
        video={"model": "seedance-1-0-lite-i2v", "options": {"camera_fixed": True}},
        providers={"byteplus": {"base_url": sim.ark_base_url}},
    )
    v = SeedanceVideo.from_settings(s, Keys.from_env({"BYTEPLUS_API_KEY": "ark-secret"}))
    assert v.model == "seedance-1-0-lite-i2v-250428" and v.options["camera_fixed"] is True
    assert "ark-secret" not in repr(v)
    assert v.download_timeout == 120.0  # the default: max(timeout 60, 120)
    s = Settings(preset="byteplus", providers={"byteplus": {"download_timeout": 30}})
    v = SeedanceVideo.from_settings(s, Keys.from_env({"ARK_API_KEY": "k"}))
    assert v.download_timeout == 30.0


def test_bad_option_is_config_error() -> None:
    s = Settings(preset="byteplus", video={"options": {"service_tier": "cheap"}})
    with pytest.raises(ConfigError) as e:
        SeedanceVideo.from_settings(s, Keys.from_env({"ARK_API_KEY": "k"}))
    assert "allowed default, flex" in str(e.value)


@pytest.mark.parametrize(
    ("stage", "cls", "typo"),
    [("video", SeedanceVideo, "camerafixed"), ("keyframes", SeedreamKeyframes, "guidance")],
)
def test_an_unknown_option_is_refused_and_the_allowed_ones_named(
    stage: str, cls: type[SeedanceVideo] | type[SeedreamKeyframes], typo: str
) -> None:
    """A misspelt option (`camerafixed`, the inline flag's name) was silently dropped: the
    clip was made, and paid, without it. Now it is a one-line ConfigError before any
    spend that names the options the model reads (as the google provider does)."""
    s = Settings(preset="byteplus", **{stage: {"options": {typo: True}}})
    with pytest.raises(ConfigError) as e:
        cls.from_settings(s, Keys.from_env({"ARK_API_KEY": "k"}))
    msg = str(e.value)
    assert f"{stage}.options: unknown option(s) for byteplus: {typo}" in msg, msg
    assert ("camera_fixed" if stage == "video" else "guidance_scale") in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("stage", "cls", "option", "value"),
    [
        ("video", SeedanceVideo, "watermark", "false"),
        ("video", SeedanceVideo, "execution_expires_after", "soon"),
        ("video", SeedanceVideo, "execution_expires_after", 0),
        ("keyframes", SeedreamKeyframes, "guidance_scale", "high"),
        ("keyframes", SeedreamKeyframes, "guidance_scale", float("nan")),
        ("keyframes", SeedreamKeyframes, "guidance_scale", float("inf")),
        ("keyframes", SeedreamKeyframes, "guidance_scale", -5),
        ("keyframes", SeedreamKeyframes, "guidance_scale", 10.5),
    ],
)
def test_an_option_of_the_wrong_type_is_refused_before_spend(
    stage: str, cls: type[SeedanceVideo] | type[SeedreamKeyframes], option: str, value: object
) -> None:
    """`watermark: "false"` was sent as true (bool("false")) on a paid clip;
    `execution_expires_after: soon` raised ValueError inside submit, after the budget
    gate had committed a ledger row for a request never sent (left 'committed', and a
    traceback). Now each is a one-line ConfigError when the provider is built."""
    s = Settings(preset="byteplus", **{stage: {"options": {option: value}}})
    with pytest.raises(ConfigError) as e:
        cls.from_settings(s, Keys.from_env({"ARK_API_KEY": "k"}))
    assert f"{stage}.options.{option}: {value!r} is not allowed" in str(e.value)
    if option == "guidance_scale":  # (-5 was sent, refused at the first keyframe)
        assert str(e.value).endswith("allowed a number from 1 to 10"), str(e.value)


@pytest.mark.parametrize("value", [1, 2.5, 10])
def test_a_guidance_scale_within_what_seedream_takes_is_accepted(value: float) -> None:
    s = Settings(preset="byteplus", keyframes={"options": {"guidance_scale": value}})
    kf = SeedreamKeyframes.from_settings(s, Keys.from_env({"ARK_API_KEY": "k"}))
    assert kf.options["guidance_scale"] == value


async def test_a_trickling_image_download_has_a_deadline(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Seedream result URL whose bytes keep coming never trips httpx's per-read
    timeout; the image download as a whole now has the provider timeout as its deadline,
    and is then fetched again from the same URL (no second image is made)."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)
    kf = seedream(sim, "seedream-3-0-t2i", timeout=1.0, options={"response_format": "url"})
    sim.add_fault("trickle", path="/_sim/files/", seconds=4.0, count=1)
    t0 = time.monotonic()
    res = await kf.generate(
        KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    )
    assert time.monotonic() - t0 < 3.0  # cut at the deadline, not after the 4 s body
    assert res.data.startswith(b"\x89PNG")
    assert sim.stats()["totals"]["images"] == 1
    assert len(sim.requests(path="/_sim/files/")) == 2


# ====================================================================== mutation audit
async def test_audio_off_is_sent_as_false_on_a_model_with_audio(
    sim: SimServer, keyframe: Path
) -> None:
    """Seedance 1.5 pro makes audio unless told not to (and audio costs more): a scene
    without audio sends generate_audio false, and the task reports it for the bill."""
    video = seedance(sim)  # seedance-1-5-pro: audio = true in the catalog
    st = await wait_done(video, await video.submit(vreq(keyframe, audio=False)))
    assert sim.requests(path=TASKS, method="POST")[0]["body"]["generate_audio"] is False
    assert st.usage["generate_audio"] is False


async def test_poll_reports_what_the_bill_is_computed_from(sim: SimServer, keyframe: Path) -> None:
    """costs.billed_usd prices a Seedance clip from the task's own duration, resolution,
    ratio, service tier and audio (over what was asked): poll hands all of them on, and
    keeps the last poll's usage per task for the ledger."""
    video = seedance(sim, "seedance-1-0-pro", options={"service_tier": "flex"})
    rid = await video.submit(vreq(keyframe, seconds=4, resolution="720p", aspect="9:16"))
    st = await wait_done(video, rid)
    assert video.usage[rid] == st.usage  # kept for the ledger
    usage = dict(st.usage)
    assert usage.pop("completion_tokens") > 0
    assert usage == {
        "duration": 4,
        "resolution": "720p",
        "ratio": "9:16",
        "service_tier": "flex",
        "generate_audio": False,
    }


@pytest.mark.parametrize(
    ("param", "allowed"),
    [
        ("resolution", "allowed 480p, 720p, 1080p"),
        ("ratio", "allowed 16:9, 9:16, 1:1, 4:3, 3:4, 21:9, adaptive"),
        ("generate_audio", "this model has no audio"),
    ],
)
async def test_a_refused_parameter_names_the_allowed_values(
    sim: SimServer, keyframe: Path, param: str, allowed: str
) -> None:
    """The provider's 400 names a parameter: the message names it and what the catalog
    allows for this model, so the person knows what to change."""
    sim.add_fault("http", path=TASKS, method="POST", status=400, param=param, message="bad")
    with pytest.raises(InvalidRequest) as e:
        await seedance(sim, "seedance-1-0-pro").submit(vreq(keyframe))
    assert f"(parameter {param})" in str(e.value) and allowed in str(e.value)


async def test_connection_failures_say_whether_the_create_was_sent(
    sim: SimServer, keyframe: Path
) -> None:
    """A dropped create may have made (and billed) a task: ConnectionLost, sent. A
    refused connection sent nothing: ConnectionLost, not sent (the ledger refunds it)."""
    import socket

    sim.add_fault("drop", path=TASKS, method="POST")
    with pytest.raises(ConnectionLost) as dropped:
        await seedance(sim).submit(vreq(keyframe))
    assert dropped.value.sent is True
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: connecting is refused
    dead = SeedanceVideo(api_key="ark-test", base_url=f"http://127.0.0.1:{port}/api/v3")
    with pytest.raises(ConnectionLost) as refused:
        await dead.submit(vreq(keyframe))
    assert refused.value.sent is False


#: a key shaped as Ark's, which no line may show
ARK_SECRET = "ark-SeCrEtVaLuE-byteplus-0002"
#: (call, status, the error, what the line says the answer was, what it says to do)
ARK_ERRORS: list[tuple[str, int, type[Exception], str, str]] = [
    ("submit", 429, RateLimited, "HTTP 429 RateLimitExceeded.EndpointRPMExceeded: slow down",
     "rate limited: render again once byteplus's rate limit allows (a request turned away "
     "is not billed)"),
    ("submit", 500, ConnectionLost, "HTTP 500 InternalServiceError: slow down",
     "byteplus could not answer: render again in a few minutes"),
    ("submit", 503, ConnectionLost, "HTTP 503 ServiceUnavailable: slow down",
     "byteplus could not answer: render again in a few minutes"),
    ("image", 429, RateLimited, "HTTP 429 RateLimitExceeded.EndpointRPMExceeded: slow down",
     "render again once byteplus's rate limit allows"),
    ("image", 502, ConnectionLost, "HTTP 502 InternalServiceError: slow down",
     "byteplus could not answer: render again in a few minutes"),
    ("image", 503, Transient, "HTTP 503 ServiceUnavailable: slow down",
     "byteplus could not answer: render again in a few minutes"),
    ("poll", 500, Transient, "HTTP 500 InternalServiceError: slow down",
     "byteplus could not answer: render again in a few minutes"),
    ("poll", 429, RateLimited, "HTTP 429 RateLimitExceeded.EndpointRPMExceeded: slow down",
     "render again once byteplus's rate limit allows"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "status", "error", "said", "to_do"),
    ARK_ERRORS,
    ids=[f"{c[0]}-{c[1]}" for c in ARK_ERRORS],
)
async def test_each_passing_error_ark_answers_says_status_code_message_and_what_to_do(
    sim: SimServer,
    keyframe: Path,
    call: str,
    status: int,
    error: type[Exception],
    said: str,
    to_do: str,
) -> None:
    """A 429 or 5xx from Ark, on a Seedance create or poll or a Seedream image: one line
    with the status, Ark's code and message and what to do, as Claude's lines say it
    (58be2ee). They said the status and message only ("submit: rate limited
    (RateLimitExceeded...)", "image: HTTP 503 ServiceUnavailable: ..."): nothing to do."""
    path = {"submit": TASKS, "image": IMAGES, "poll": f"{TASKS}/"}[call]
    method = "GET" if call == "poll" else "POST"
    sim.add_fault("http", path=path, method=method, status=status, message="slow down")
    with pytest.raises(error) as e:
        if call == "image":
            kf = SeedreamKeyframes(api_key=ARK_SECRET, base_url=sim.ark_base_url, timeout=10)
            await kf.generate(
                KeyframeRequest(scene_id="01", prompt="p", width=64, height=36, seed=1)
            )
        else:
            video = SeedanceVideo(api_key=ARK_SECRET, base_url=sim.ark_base_url, timeout=10)
            if call == "submit":
                await video.submit(vreq(keyframe))
            else:
                await video.poll("cgt-sim-0001")
    line = str(e.value)
    assert type(e.value) is error, line
    assert line.startswith("byteplus"), line
    assert said in line and to_do in line, line
    assert "\n" not in line and "SeCrEtVaLuE" not in line, line


async def test_a_refused_connection_says_what_the_transport_said_and_what_to_do(
    keyframe: Path,
) -> None:
    """A port nothing listens on: the line was "connection failed (ArkAPIConnectionError)",
    the SDK's class alone. It says the transport's words, that nothing was sent and where
    to look, as Claude's line does (2e36662)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: connecting is refused
    dead = SeedanceVideo(api_key=ARK_SECRET, base_url=f"http://127.0.0.1:{port}/api/v3")
    with pytest.raises(ConnectionLost) as refused:
        await dead.submit(vreq(keyframe))
    line = str(refused.value)
    assert refused.value.sent is False
    assert line.startswith("byteplus scene 01-health-1: submit: connection failed: "), line
    assert f"Connect call failed ('127.0.0.1', {port})" in line, line
    assert line.endswith(
        "nothing was sent: check the network (a proxy, a firewall) and providers.byteplus.base_url"
    ), line
    assert "SeCrEtVaLuE" not in line


def test_return_last_frame_is_refused_as_its_frame_would_be_thrown_away() -> None:
    """video.options.return_last_frame was accepted and sent, and the last frame Seedance
    returned was never fetched or kept: an option that did nothing the person could see.
    It is refused before any spend, naming the options that are read."""
    s = Settings(preset="byteplus", video={"options": {"return_last_frame": True}})
    with pytest.raises(ConfigError) as e:
        SeedanceVideo.from_settings(s, Keys.from_env({"ARK_API_KEY": "k"}))
    assert str(e.value) == (
        "video.options: unknown option(s) for byteplus: return_last_frame; "
        "allowed: camera_fixed, execution_expires_after, service_tier, watermark"
    )


async def test_no_last_frame_is_asked_for(sim: SimServer, keyframe: Path) -> None:
    await seedance(sim, options={"camera_fixed": True}).submit(vreq(keyframe))
    (req,) = sim.requests(path=TASKS, method="POST")
    assert req["body"].get("return_last_frame") is None


async def test_fetch_of_an_unfinished_task_downloads_nothing(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    failed = JobState(st.remote_id, "failed", video_url=st.video_url)
    with pytest.raises(JobFailed, match="task is failed, nothing to download"):
        await video.fetch(failed, req, tmp_path / "clip.mp4")
    assert sim.requests(path="/_sim/files/") == []


async def test_an_expired_video_url_is_refreshed_by_one_poll(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """A signed video_url that answers 404 (expired) is JobFailed, so fetch polls the task
    once for a fresh URL and downloads from that; the task is never created again."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.video_url is not None
    stale = JobState(st.remote_id, "succeeded", video_url=st.video_url.replace(".mp4", "0.mp4"))
    polls = len(sim.requests(path=f"{TASKS}/{st.remote_id}"))
    dest = await video.fetch(stale, req, tmp_path / "clip.mp4")
    assert probe(dest).video is not None
    assert len(sim.requests(path=f"{TASKS}/{st.remote_id}")) == polls + 1
    assert [r["status"] for r in sim.requests(path="/_sim/files/")] == [404, 200]
    assert created(sim) == 1


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (503, Transient)])
async def test_a_download_refused_for_a_passing_reason_is_retried_not_refreshed(
    sim: SimServer, keyframe: Path, tmp_path: Path, status: int, error: type[Exception]
) -> None:
    """429 and 5xx on the video URL: RateLimited / Transient (fetched again later), not
    JobFailed (which would poll for a new URL) and nothing left on disk."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    polls = len(sim.requests(path=f"{TASKS}/{st.remote_id}"))
    sim.add_fault("http", path="/_sim/files/", status=status)
    with pytest.raises(error) as e:
        await video.fetch(st, req, tmp_path / "clip.mp4")
    assert not isinstance(e.value, JobFailed)
    assert isinstance(e.value, RateLimited) == (status == 429)
    assert len(sim.requests(path=f"{TASKS}/{st.remote_id}")) == polls
    assert list(tmp_path.iterdir()) == [keyframe]


def _age_tasks(sim: SimServer, now: int, ages: list[int]) -> None:
    """Give the sim's tasks (oldest first) these ages in seconds (created_at = now - age)."""
    jobs = sorted(sim.jobs(), key=lambda j: j.created)
    assert len(jobs) == len(ages)
    for job, age in zip(jobs, ages, strict=True):
        job.created_wall = now - age


async def test_find_pending_pages_stop_at_the_first_task_too_old(
    sim: SimServer, keyframe: Path
) -> None:
    """Tasks come newest first: paging stops once a page reaches a task created before
    `created_after` (one created exactly then is included), or once `total` is read."""
    video = seedance(sim)
    ids = [await video.submit(vreq(keyframe)) for _ in range(4)]
    now = int(time.time())
    _age_tasks(sim, now, [400, 300, 200, 100])
    found = await video.find_pending(now - 200, page_size=1)
    assert [t.remote_id for t in found] == [ids[3], ids[2]]  # newest first, 200 s included
    assert [t.created_at for t in found] == [now - 100, now - 200]
    assert len(sim.requests(path=TASKS, method="GET")) == 3  # the page with the 300 s one
    everything = await video.find_pending(0, page_size=2)
    assert [t.remote_id for t in everything] == ids[::-1]
    assert len(sim.requests(path=TASKS, method="GET")) == 3 + 2  # no empty third page


async def test_find_pending_lists_a_task_once_when_one_is_made_between_two_pages(
    sim: SimServer, keyframe: Path
) -> None:
    """Pages are read newest first: a task made between two page reads (another
    create, of this render or another client's) moves every older task one place on,
    and the last of a page came again first on the next. Listed twice, one task was
    two "jobs no row knows" for a lost request: taken, and booked on a row of its own
    as well (`Pipeline._book_extra_jobs`), one job on two rows. Each is listed once."""
    video = seedance(sim)
    ids = [await video.submit(vreq(keyframe)) for _ in range(2)]
    # the second page's read is held at the simulator until another task is made
    second = sim.add_fault("delay", path="page_num=2", method="GET", seconds=30)
    listing = asyncio.create_task(video.find_pending(0, page_size=1))
    deadline = time.monotonic() + 10
    while not second.fired:
        assert time.monotonic() < deadline, "the second page was never read"
        await asyncio.sleep(0.01)
    ids.append(await seedance(sim).submit(vreq(keyframe)))
    sim.release(second)
    found = [t.remote_id for t in await listing]
    assert sorted(set(found)) == sorted(found), found
    assert set(ids[:2]) <= set(found), found


async def test_find_pending_lists_the_asked_model_only(sim: SimServer, keyframe: Path) -> None:
    video = seedance(sim)  # seedance-1-5-pro
    mine = await video.submit(vreq(keyframe))
    other = await seedance(sim, "seedance-1-0-pro").submit(vreq(keyframe))
    assert [t.remote_id for t in await video.find_pending(0)] == [mine]
    found = await video.find_pending(0, model="seedance-1-0-pro-250528")
    assert [(t.remote_id, t.model) for t in found] == [(other, "seedance-1-0-pro-250528")]
    assert found[0].status in ("queued", "running", "succeeded")


@pytest.mark.parametrize("stage", ["keyframes", "video"])
async def test_watermark_true_is_sent_as_set(sim: SimServer, keyframe: Path, stage: str) -> None:
    """`options.watermark: true` (the provider's mark wanted on the picture) reaches the
    request for images and clips alike; the request-shape tests see only the default,
    false, which a provider that dropped the option would send as well."""
    if stage == "keyframes":
        kf = seedream(sim, options={"watermark": True})
        await kf.generate(
            KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=1, aspect="9:16")
        )
        body = sim.requests(path=IMAGES)[0]["body"]
    else:
        await seedance(sim, options={"watermark": True}).submit(vreq(keyframe))
        body = sim.requests(path=TASKS, method="POST")[0]["body"]
    assert body["watermark"] is True, body


async def test_seedream_4_sends_one_image_and_bills_what_it_reports(sim: SimServer) -> None:
    """Seedream 4 makes a series of images unless sequential_image_generation is
    "disabled": it is sent, and the usage handed to the bill is the answer's."""
    kf = seedream(sim, options={"optimize_prompt": False})
    res = await kf.generate(
        KeyframeRequest(scene_id="s", prompt="p", width=1280, height=720, seed=1, aspect="16:9")
    )
    body = sim.requests(path=IMAGES)[0]["body"]
    assert body["sequential_image_generation"] == "disabled"
    assert body["optimize_prompt"] is False
    assert res.usage["generated_images"] == 1 and res.usage["output_tokens"] > 0
    assert res.usage["model"] == "seedream-4-0-250828" and res.usage["size"] == "2560x1440"


async def test_an_image_whose_download_keeps_failing_is_charged_and_refetchable(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A url-format Seedream image is made (and paid) before it is downloaded: when the
    download still fails after the retries, the error is charged and carries the URL,
    and `refetch` gets the image from it later without buying it again. A 404 on refetch
    is not taken for the image gone by itself (the caller knows the URL's age: within
    its 24 h it buys nothing); on a URL past the expiry it carries it is ResultGone."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    req = KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    sim.add_fault("http", path="/_sim/files/", status=503, count=None)
    with pytest.raises(JobFailed) as e:
        await kf.generate(req)
    assert e.value.charged is True and e.value.scene_id == "s"
    assert e.value.result_url is not None and "/_sim/files/" in e.value.result_url
    assert sim.stats()["totals"]["images"] == 1
    sim.clear_faults()
    data = await kf.refetch(e.value.result_url, req)
    assert data.startswith(b"\x89PNG") and sim.stats()["totals"]["images"] == 1
    missing = e.value.result_url.replace(".png", "0.png")
    ahead = f"{missing}?Expires={int(time.time()) + 3600}"  # signed, its expiry ahead
    with pytest.raises(JobFailed, match=r"HTTP 404.*should be there for 24 h") as nf:
        await kf.refetch(ahead, req)
    assert not isinstance(nf.value, ResultGone)
    with pytest.raises(ResultGone, match="HTTP 404"):
        await kf.refetch(f"{missing}?Expires={int(time.time()) - 60}", req)
    # unsigned: with no expiry of its own nothing says the image may still come: gone
    with pytest.raises(ResultGone, match=r"HTTP 404.*carries no expiry"):
        await kf.refetch(missing, req)


async def test_a_task_status_the_client_does_not_know_is_waited_for_and_named(
    sim: SimServer, keyframe: Path
) -> None:
    """ "pending" (or no status yet) is still in flight; so is any other status the client
    does not know (it named it "failed", and the job was refunded at $0 while Ark made and
    billed it: test_pipeline_faults.py::test_a_job_of_a_task_status_not_known_is_not_refunded),
    kept by its own word: the render waits for it only so long."""
    video = seedance(sim)
    rid = await video.submit(vreq(keyframe))
    sim.add_fault("patch", path=f"{TASKS}/{rid}", body={"status": "pending"})
    sim.add_fault("patch", path=f"{TASKS}/{rid}", body={"status": "Paused"})
    pending = await video.poll(rid)
    assert pending.status == "running" and pending.unknown_status is None
    paused = await video.poll(rid)
    assert paused.status == "running" and not paused.done
    assert paused.unknown_status == "paused" and paused.error is None
    assert (await wait_done(video, rid)).status == "succeeded"


async def test_a_success_without_a_video_url_is_failed(sim: SimServer, keyframe: Path) -> None:
    video = seedance(sim)
    rid = await video.submit(vreq(keyframe))
    assert (await wait_done(video, rid)).status == "succeeded"
    sim.add_fault("patch", path=f"{TASKS}/{rid}", body={"content": None})
    st = await video.poll(rid)
    assert (st.status, st.error, st.video_url) == ("failed", "succeeded without a video_url", None)


async def test_a_create_answer_without_a_task_id_is_an_answer_lost(
    sim: SimServer, keyframe: Path
) -> None:
    """The task was made (and will be billed) but the answer has no id: an answer lost
    after the request was sent (ConnectionLost, sent, answered 200), which the pipeline
    settles by finding the task in the task list before anything is sent again."""
    sim.add_fault("patch", path=TASKS, method="POST", body={"id": None})
    with pytest.raises(ConnectionLost, match="carries no task id") as e:
        await seedance(sim).submit(vreq(keyframe))
    assert e.value.sent and e.value.answered and e.value.status == 200
    assert e.value.scene_id == "01-health-1"
    assert created(sim) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [("OutputImageSensitiveContentDetected", ContentRejected), ("InternalServiceError", JobFailed)],
)
async def test_a_seedream_image_item_error_is_mapped(
    sim: SimServer, code: str, error: type[Exception]
) -> None:
    """An answered image item carrying its own error: the content filter's code is
    ContentRejected (not billed), any other code JobFailed, each naming the code."""
    sim.add_fault("patch", path=IMAGES, body={"data": [{"error": {"code": code, "message": "no"}}]})
    with pytest.raises(error, match=f"image: {code}: no") as e:
        await seedream(sim).generate(
            KeyframeRequest(scene_id="s", prompt="p", width=64, height=64, seed=1, aspect="1:1")
        )
    assert isinstance(e.value, ContentRejected) == (error is ContentRejected)


@pytest.mark.parametrize("usage", [{"generated_images": 1}, {"generated_images": 0}])
async def test_a_seedream_answer_without_images_is_job_failed(
    sim: SimServer, usage: dict[str, int]
) -> None:
    """An answer with no image: JobFailed. Charged when its usage counts an image made
    (Ark bills generated_images): the ledger said $0 of it, the simulator billed it."""
    sim.add_fault("patch", path=IMAGES, body={"data": [], "usage": usage})
    with pytest.raises(JobFailed, match="returned no image") as e:
        await seedream(sim).generate(
            KeyframeRequest(scene_id="s", prompt="p", width=64, height=64, seed=1, aspect="1:1")
        )
    assert e.value.charged == (usage["generated_images"] > 0)


async def test_cancelling_a_task_that_is_gone_says_the_task_not_the_model(
    sim: SimServer, keyframe: Path
) -> None:
    """A 404 on DELETE .../tasks/{id} is about the task (deleted, or never made), as on a
    poll: JobFailed "task not found". It read "model seedance-… not found or not
    activated", sending the person to check a model that works."""
    video = seedance(sim)
    rid = await video.submit(vreq(keyframe))
    await wait_done(video, rid)
    await video.cancel(rid)  # a finished task's record is deleted
    with pytest.raises(JobFailed, match=f"cancel {rid}: task not found") as e:
        await video.cancel(rid)
    assert "model" not in str(e.value)


async def test_an_empty_image_download_is_fetched_again_not_bought_again(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A url-format image whose download answers 200 with no body: the same URL is
    downloaded again (the image is paid for), not generated again."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    sim.add_fault("empty", path="/_sim/files/")
    res = await kf.generate(
        KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    )
    assert res.data.startswith(b"\x89PNG")
    assert sim.stats()["totals"]["images"] == 1
    assert len(sim.requests(path="/_sim/files/")) == 2


async def test_a_failed_task_listing_is_an_error_not_an_empty_list(
    sim: SimServer, keyframe: Path
) -> None:
    """find_pending decides whether a lost create made a task: a listing that failed
    must not read as "no task" (which would send the create, and pay, again)."""
    video = seedance(sim)
    await video.submit(vreq(keyframe))
    sim.add_fault("http", path=TASKS, method="GET", status=503)
    with pytest.raises(Transient):
        await video.find_pending(0)
    assert len(await video.find_pending(0)) == 1


def test_a_downloaded_clip_without_a_video_stream_is_transient(tmp_path: Path) -> None:
    """Bytes that play but hold no video (here a WAV) are a bad download, fetched again."""
    import wave

    from mindmovie.providers.byteplus import _check_clip

    wav = tmp_path / "clip.mp4"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 4)
    with pytest.raises(Transient, match="downloaded clip has no video stream"):
        _check_clip(wav, 4.0)


async def test_find_pending_stops_at_an_empty_page_whatever_total_says(sim: SimServer) -> None:
    """A listing whose `total` promises more than its pages hold: an empty page ends
    the paging (one request), it does not ask for the next page forever."""
    sim.add_fault("patch", path=TASKS, method="GET", body={"items": [], "total": 500}, count=None)
    found = await asyncio.wait_for(seedance(sim).find_pending(0), timeout=5)
    assert found == [] and len(sim.requests(path=TASKS, method="GET")) == 1


@pytest.mark.parametrize(
    ("model", "guidance"), [("seedream-3-0-t2i", 3.0), ("seededit-3-0-i2i", 3.0)]
)
async def test_a_configured_guidance_scale_is_sent(
    sim: SimServer, tmp_path: Path, model: str, guidance: float
) -> None:
    """keyframes.options.guidance_scale reaches the request, for SeedEdit too (whose
    default, when unset, is 5.5)."""
    photo = png(tmp_path / "me.png")
    kf = seedream(sim, model, options={"guidance_scale": guidance})
    await kf.generate(
        KeyframeRequest(scene_id="s", prompt="p", width=64, height=36, seed=1, source_photo=photo)
        if model.startswith("seededit")
        else KeyframeRequest(scene_id="s", prompt="p", width=64, height=36, seed=1)
    )
    assert sim.requests(path=IMAGES)[0]["body"]["guidance_scale"] == guidance


async def test_a_jpeg_photo_is_sent_as_jpeg_whatever_its_name(
    sim: SimServer, tmp_path: Path
) -> None:
    """A person's photo is usually a JPEG: its data URI says image/jpeg from its bytes,
    even when the file is named .png."""
    photo = tmp_path / "me.png"
    Image.new("RGB", (64, 36), (1, 2, 3)).save(photo, "JPEG")
    kf = seedream(sim)
    await kf.generate(
        KeyframeRequest(
            scene_id="s", prompt="p", width=64, height=36, seed=1, reference_photos=(photo,)
        )
    )
    (uri,) = sim.requests(path=IMAGES)[0]["body"]["image"]
    assert uri.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == photo.read_bytes()


def _sent_picture(uri: str) -> tuple[str, str | None, tuple[int, int], int]:
    """A data URI's MIME type, and its bytes' picture type, size and EXIF orientation."""
    head, b64 = uri.split(",", 1)
    with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
        turn = int(im.getexif().get(0x0112, 1))
        return head.removeprefix("data:").removesuffix(";base64"), im.format, im.size, turn


async def test_a_photo_is_sent_upright_and_as_the_type_its_uri_says(
    sim: SimServer, tmp_path: Path
) -> None:
    """goals.yaml takes any picture Pillow reads: a GIF went to Ark as it was, labelled
    image/png. A phone's JPEG that EXIF turns (orientation 6: taken upright, stored on
    its side) went as stored, while the offline render turns it. Both go as the picture
    the person sees, labelled with their type; a plain JPEG still goes as its own bytes."""
    gif = tmp_path / "party.gif"
    Image.new("RGB", (64, 36), (200, 20, 20)).convert("P").save(gif)
    phone = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (64, 36), (20, 200, 20)).save(phone, exif=exif)
    plain = tmp_path / "plain.jpg"
    Image.new("RGB", (64, 36), (1, 2, 3)).save(plain)
    kf = seedream(sim)
    await kf.generate(
        KeyframeRequest(
            scene_id="s", prompt="p", width=64, height=36, seed=1,
            reference_photos=(gif, phone, plain),
        )
    )  # fmt: skip
    gif_uri, phone_uri, plain_uri = sim.requests(path=IMAGES)[0]["body"]["image"]
    assert _sent_picture(gif_uri) == ("image/png", "PNG", (64, 36), 1)
    assert _sent_picture(phone_uri) == ("image/jpeg", "JPEG", (36, 64), 1)  # turned upright
    assert base64.b64decode(plain_uri.split(",", 1)[1]) == plain.read_bytes()


async def test_a_photo_too_big_to_send_is_sent_smaller(sim: SimServer, tmp_path: Path) -> None:
    """A photo file over SEND_MAX_BYTES (a 48-200 MP phone photo, a big PNG) went to Ark
    as it was, over the 10 MB its input images may be; it goes scaled to SEND_MAX_SIDE,
    as JPEG. A cut-out (transparent parts) stays PNG, halved until it fits."""
    from mindmovie.providers.local_media import SEND_MAX_BYTES, SEND_MAX_SIDE

    noise = Image.frombytes("RGB", (5000, 1000), os.urandom(5000 * 1000 * 3))
    wide = tmp_path / "wide.png"
    noise.save(wide, compress_level=1)
    cut = tmp_path / "cut.png"
    noise.convert("RGBA").resize((3000, 1200)).save(cut, compress_level=1)
    assert min(wide.stat().st_size, cut.stat().st_size) > SEND_MAX_BYTES
    await seedream(sim).generate(
        KeyframeRequest(
            scene_id="s", prompt="p", width=64, height=36, seed=1, reference_photos=(wide, cut)
        )
    )
    wide_uri, cut_uri = sim.requests(path=IMAGES)[0]["body"]["image"]
    assert _sent_picture(wide_uri) == ("image/jpeg", "JPEG", (SEND_MAX_SIDE, 819), 1)
    assert _sent_picture(cut_uri)[:2] == ("image/png", "PNG")
    for uri in (wide_uri, cut_uri):
        assert len(base64.b64decode(uri.split(",", 1)[1])) <= SEND_MAX_BYTES


async def test_a_grainy_photo_too_big_to_send_fits_once_scaled(
    sim: SimServer, tmp_path: Path
) -> None:
    """A big photo of fine detail (grain, foliage: noise at worst) scaled to SEND_MAX_SIDE
    still came to 10.7 MB as JPEG and was sent over the limit it was scaled for; it is
    halved until it fits, as a cut-out is."""
    from mindmovie.providers.local_media import SEND_MAX_BYTES, SEND_MAX_SIDE

    side = SEND_MAX_SIDE
    grain = tmp_path / "grain.png"
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(grain, compress_level=1)
    await seedream(sim).generate(
        KeyframeRequest(
            scene_id="s", prompt="p", width=64, height=36, seed=1, reference_photos=(grain,)
        )
    )
    (uri,) = sim.requests(path=IMAGES)[0]["body"]["image"]
    sent = len(base64.b64decode(uri.split(",", 1)[1]))
    assert sent <= SEND_MAX_BYTES, f"{sent} bytes sent"
    assert _sent_picture(uri) == ("image/jpeg", "JPEG", (side // 2, side // 2), 1)


def test_a_100_mp_photo_is_not_decoded_whole_to_be_sent_smaller(tmp_path: Path) -> None:
    """A JPEG over SEND_MAX_BYTES was decoded at full size to be scaled to SEND_MAX_SIDE:
    a 100 MP one peaked at 653 MB (52 MB before 946585b sent it as stored), per request, in
    threads side by side. It is decoded at the JPEG's own reduced scale (here 1/2)."""
    import subprocess
    import sys

    from mindmovie.providers.local_media import SEND_MAX_BYTES, SEND_MAX_SIDE

    photo = tmp_path / "100mp.jpg"
    # uniform noise from numpy: Pillow's effect_noise took 4.6 s of CPU to make it
    noise = np.random.default_rng(1).integers(0, 256, (10_000, 10_000), dtype=np.uint8)
    Image.fromarray(noise).convert("RGB").save(photo, quality=75)
    del noise
    assert photo.stat().st_size > SEND_MAX_BYTES
    # the peak of this process's own memory (VmHWM): ru_maxrss keeps the test's, the
    # parent's, across exec
    script = (
        "import io, re, sys; from pathlib import Path; from PIL import Image;"
        "from mindmovie.providers.local_media import photo_to_send;"
        "data, mime = photo_to_send(Path(sys.argv[1]));"
        "peak = re.search(r'VmHWM:\\s*(\\d+)', Path('/proc/self/status').read_text());"
        "print(mime, Image.open(io.BytesIO(data)).size, int(peak[1]) // 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(photo)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[:3] == ["image/jpeg", f"({SEND_MAX_SIDE},", f"{SEND_MAX_SIDE})"]
    assert int(out[3]) < 450, f"{out[3]} MB at the peak"


async def test_photos_are_converted_off_the_event_loop(
    sim: SimServer, tmp_path: Path, keyframe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo Pillow turns or converts (a large phone JPEG takes seconds) was converted on
    the loop's thread: every other scene's polling and the live view stood still."""
    import threading

    threads = record_photo_threads(monkeypatch)
    gif = tmp_path / "party.gif"
    Image.new("RGB", (64, 36), (200, 20, 20)).convert("P").save(gif)
    await seedream(sim).generate(
        KeyframeRequest(
            scene_id="s", prompt="p", width=64, height=36, seed=1, reference_photos=(gif,)
        )
    )
    await seedream(sim, "seededit-3-0-i2i").generate(
        KeyframeRequest(scene_id="s", prompt="p", width=64, height=36, seed=1, source_photo=gif)
    )
    await seedance(sim).submit(vreq(keyframe))
    assert len(threads) == 3
    assert threading.get_ident() not in threads


async def test_a_download_sent_compressed_is_not_mistaken_for_a_truncated_one(
    sim: SimServer, keyframe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx asks for gzip and hands on the decoded bytes; Content-Length counts the
    bytes on the wire. Compared with the decoded count, a clip or an image sent
    compressed read as "truncated" on every try: a paid result never downloaded."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)
    sim.media_scale = 0.25
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    sim.add_fault("gzip", path="/_sim/files/")
    dest = await video.fetch(st, req, tmp_path / "clip.mp4")
    assert probe(dest).video is not None and sim.stats()["totals"]["downloads"] == 1
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    sim.add_fault("gzip", path="/_sim/files/")
    res = await kf.generate(
        KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    )
    assert res.data.startswith(b"\x89PNG") and sim.stats()["totals"]["downloads"] == 2


async def test_refetch_retries_a_passing_failure_on_the_same_url(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """refetch (an image paid for in an earlier render) rides out a 503 on its URL by
    downloading it again; no image is generated."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    req = KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    await kf.generate(req)
    (url,) = {r["path"] for r in sim.requests(path="/_sim/files/")}
    sim.add_fault("http", path="/_sim/files/", status=503)
    data = await kf.refetch(f"{sim.base_url}{url}", req)
    assert data.startswith(b"\x89PNG") and sim.stats()["totals"]["images"] == 1
    assert [r["status"] for r in sim.requests(path="/_sim/files/")] == [200, 503, 200]


async def test_a_refused_image_size_names_the_sizes_the_model_takes(sim: SimServer) -> None:
    sim.add_fault("http", path=IMAGES, status=400, param="size", message="bad size")
    with pytest.raises(InvalidRequest) as e:
        await seedream(sim, "seedream-3-0-t2i").generate(
            KeyframeRequest(scene_id="s", prompt="p", width=64, height=36, seed=1)
        )
    assert "(parameter size)" in str(e.value) and "allowed 1280x720, 720x1280" in str(e.value)


async def test_an_unreadable_keyframe_is_refused_before_any_request(
    sim: SimServer, tmp_path: Path
) -> None:
    """A keyframe that cannot be read is the request's fault: InvalidRequest naming the
    file and the scene, no task created (not an OSError traceback mid-render)."""
    missing = tmp_path / "gone.png"
    with pytest.raises(InvalidRequest, match=r"cannot read image .*gone\.png") as e:
        await seedance(sim).submit(vreq(missing))
    assert e.value.scene_id == "01-health-1"
    assert sim.requests(path=TASKS) == []


async def test_a_filtered_task_that_reports_tokens_hands_them_to_the_bill(
    sim: SimServer, keyframe: Path
) -> None:
    """A task the filter rejected after generating may still report (and bill) its
    tokens: the rejected state carries them, so the ledger bills what was charged."""
    sim.add_fault("reject", path=TASKS, billed=True)
    video = seedance(sim)
    rid = await video.submit(vreq(keyframe))
    st = await wait_done(video, rid)
    assert st.status == "rejected" and st.usage["completion_tokens"] > 0
    assert video.usage[rid]["completion_tokens"] == st.usage["completion_tokens"]
    sim.add_fault("reject", path=TASKS)  # one that reports nothing bills nothing
    st = await wait_done(video, await video.submit(vreq(keyframe)))
    assert st.status == "rejected" and "completion_tokens" not in st.usage


async def test_a_task_error_without_a_code_is_its_message(sim: SimServer, keyframe: Path) -> None:
    video = seedance(sim)
    rid = await video.submit(vreq(keyframe))
    sim.add_fault(
        "patch", path=f"{TASKS}/{rid}", body={"status": "failed", "error": {"message": "quota"}}
    )
    st = await video.poll(rid)
    assert (st.status, st.error) == ("failed", "quota")


def _record_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits mindmovie.retry's policy chooses, recorded; none is slept (the test
    stays fast while showing the wait a Retry-After header asked for)."""
    from mindmovie import retry

    waits: list[float] = []
    real = retry._wait

    def wait(base: float, cap: float) -> Any:
        chosen = real(base, cap)

        def record(state: Any) -> float:
            waits.append(chosen(state))
            return 0.0

        return record

    monkeypatch.setattr(retry, "_wait", wait)
    return waits


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (503, Transient)])
async def test_a_clip_download_refused_with_retry_after_waits_what_it_asks(
    sim: SimServer,
    keyframe: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    error: type[Transient],
) -> None:
    """A 429 (or 503) on the clip's URL with Retry-After: 7 carries those 7 s, and the
    retry policy waits them before downloading the SAME task's clip again (before, the
    header was dropped and the policy's own short backoff hit the limit again)."""
    waits = _record_waits(monkeypatch)
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    sim.add_fault("http", path="/_sim/files/", status=status, retry_after=7)
    with pytest.raises(error) as e:
        await video.fetch(st, req, tmp_path / "clip.mp4")
    assert e.value.retry_after == 7.0
    sim.add_fault("http", path="/_sim/files/", status=status, retry_after=7)
    dest = await with_retry(lambda: video.fetch(st, req, tmp_path / "clip.mp4"))
    assert probe(dest).video is not None
    assert waits == [7.0]
    assert created(sim) == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_an_image_download_refused_with_retry_after_waits_what_it_asks(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """The same for a Seedream result URL (response_format url) and for `refetch`: the
    Retry-After of a 429/503 on the image URL is the wait before it is downloaded again."""
    waits = _record_waits(monkeypatch)
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    req = KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    sim.add_fault("http", path="/_sim/files/", status=status, retry_after=9)
    res = await kf.generate(req)
    assert res.data.startswith(b"\x89PNG") and waits == [9.0]
    (url,) = {r["path"] for r in sim.requests(path="/_sim/files/")}
    sim.add_fault("http", path="/_sim/files/", status=status, retry_after=2.5)
    data = await kf.refetch(f"{sim.base_url}{url}", req)
    assert data.startswith(b"\x89PNG") and waits == [9.0, 2.5]
    assert sim.stats()["totals"]["images"] == 1


async def test_an_image_download_that_is_no_picture_is_fetched_again_not_kept(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result URL answering 200 with bytes that are no image (a broken CDN object, an
    HTML page) was handed back as the keyframe, "image/png", and written as keyframe.png:
    the clip was then asked of a first frame that is no picture. It is a failed download,
    tried again on the SAME URL (not bought again), as a clip that is no video is; one
    that stays so is charged and keeps its URL for the next render."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    req = KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    sim.add_fault("corrupt", path="/_sim/files/")
    res = await kf.generate(req)
    assert res.data.startswith(b"\x89PNG") and res.mime == "image/png"
    assert sim.stats()["totals"]["images"] == 1
    assert len(sim.requests(path="/_sim/files/")) == 2
    sim.add_fault("corrupt", path="/_sim/files/", count=None)
    with pytest.raises(JobFailed, match="not an image") as e:
        await kf.generate(req)
    assert e.value.charged is True and e.value.result_url is not None


@pytest.mark.parametrize("status", [404, 410])
async def test_a_video_url_gone_for_good_is_result_gone_after_one_fresh_poll(
    sim: SimServer, keyframe: Path, tmp_path: Path, status: int
) -> None:
    """404/410 on the result URL of a task that finished over a day ago (past the 24 h
    its URL is valid), and again on the URL a fresh poll gives: the task's video is gone
    for good (`ResultGone`, which lets the pipeline stop polling it). It was a plain
    JobFailed, which kept the task journaled and every render failed the same way."""
    video = seedance(sim)
    req = vreq(keyframe)
    rid = await video.submit(req)
    await wait_done(video, rid)
    old = int(time.time()) - 25 * 3600
    sim.add_fault("patch", path=f"{TASKS}/{rid}", body={"updated_at": old}, count=None)
    st = await video.poll(rid)
    sim.add_fault("http", path="/_sim/files/", status=status, count=None)
    with pytest.raises(ResultGone, match=f"HTTP {status}, the result URL is gone"):
        await video.fetch(st, req, tmp_path / "clip.mp4")
    assert not (tmp_path / "clip.mp4").exists() and created(sim) == 1


@pytest.mark.parametrize("status", [404, 410])
async def test_a_404_just_after_the_task_finished_is_tried_again_not_gone(
    sim: SimServer, keyframe: Path, tmp_path: Path, status: int
) -> None:
    """A task that has just succeeded, whose video URL (valid 24 h) answers 404/410, and
    again after the one refresh by polling: far likelier the object store or CDN not
    having the object everywhere yet, or a proxy's, than the result gone. It was
    `ResultGone` at once: the clip counted lost and the next render offered to buy it
    again. It is a `JobFailed` saying it should still be there and that the next render
    tries it again (nothing bought); one download and one refresh, no loop; and the same
    task downloads once the URL answers. (Its URL signed, as Ark's are: unsigned, see
    test_a_404_on_an_unsigned_video_url_is_the_clip_gone_at_once.)"""
    sign_video_urls(sim)
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.finished_at is not None and abs(st.finished_at - time.time()) < 60
    fault = sim.add_fault("http", path="/_sim/files/", status=status, count=None)
    polls = len(sim.requests(path=f"{TASKS}/{st.remote_id}"))
    with pytest.raises(JobFailed) as e:
        await with_retry(lambda: video.fetch(st, req, tmp_path / "clip.mp4"), base_delay=0.01)
    assert not isinstance(e.value, ResultGone), e.value
    text = str(e.value)
    assert f"HTTP {status}, the result was not found, though it should still be there" in text
    assert re.search(r"the task finished \d+ s ago and its video is kept 24 h", text), text
    assert "next render tries it again" in text and "nothing is bought again" in text, text
    assert fault.fired == 1  # the URL once (the fresh poll gives the same one): no loop
    assert len(sim.requests(path=f"{TASKS}/{st.remote_id}")) == polls + 1  # one refresh
    sim.clear_faults()
    out = await video.fetch(st, req, tmp_path / "clip.mp4")
    assert out.exists() and created(sim) == 1


async def test_a_404_on_a_url_past_its_own_expiry_is_gone_however_new_the_task(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """A 404 on a signed URL whose own expiry (X-Tos-Date + X-Tos-Expires) has passed is
    the result gone, even when the task's updated_at says it finished just now."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.video_url is not None and st.finished_at is not None
    signed = f"{st.video_url}?X-Tos-Date=20261101T000000Z&X-Tos-Expires=3600&X-Tos-Signature=x"
    sim.add_fault("patch", path=f"{TASKS}/{st.remote_id}", body={"content": {"video_url": signed}})
    sim.add_fault("http", path="X-Tos-Expires", status=404, count=None)
    fresh = JobState(st.remote_id, "succeeded", video_url=signed, finished_at=st.finished_at)
    with pytest.raises(ResultGone, match="HTTP 404, the result URL is gone"):
        await video.fetch(fresh, req, tmp_path / "c.mp4")


@pytest.mark.parametrize("hours", [None, 25.0, 20.0])
async def test_a_404_of_a_task_without_updated_at_goes_by_the_finish_the_caller_knows(
    sim: SimServer, keyframe: Path, tmp_path: Path, hours: float | None
) -> None:
    """A task answering without updated_at: the caller's finish (an earlier render's
    bill) decides. Within the 24 h (20 h ago) a 404 is a `JobFailed`, tried again; past
    them (25 h) `ResultGone`; with no finish at all nothing bounds the result's age, so
    a 404 stays `ResultGone` (as before; the pipeline supplies one when it knows it).
    The URL signed, as Ark's are, its own expiry ahead."""
    sign_video_urls(sim)
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    sim.add_fault("patch", path=f"{TASKS}/{st.remote_id}", body={"updated_at": None}, count=None)
    sim.add_fault("http", path="/_sim/files/", status=404, count=None)
    st.finished_at = None if hours is None else time.time() - hours * 3600
    with pytest.raises(JobFailed) as e:
        await video.fetch(st, req, tmp_path / "clip.mp4")
    if hours == 20.0:
        assert not isinstance(e.value, ResultGone), e.value
        assert "the task finished 20 h ago and its video is kept 24 h" in str(e.value)
    else:
        assert isinstance(e.value, ResultGone), e.value
        assert "HTTP 404, the result URL is gone" in str(e.value)


@pytest.mark.parametrize("status", [404, 410])
async def test_a_404_on_an_unsigned_video_url_is_the_clip_gone_at_once(
    sim: SimServer, keyframe: Path, tmp_path: Path, status: int
) -> None:
    """A task that has just succeeded, its video URL carrying no expiry of its own (not
    signed, as Ark's are) and answering 404/410, also after the refresh: it was taken
    for a storage delay within the task's 24 h (a `JobFailed`, the job kept, every
    render failing on it again for a day), as a Seedream image's was before 8384b06.
    Nothing says such a URL will ever serve the clip: `ResultGone` at once, saying so."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.video_url is not None and "?" not in st.video_url, st  # unsigned
    assert st.finished_at is not None and abs(st.finished_at - time.time()) < 60
    sim.add_fault("http", path="/_sim/files/", status=status, count=None)
    with pytest.raises(JobFailed) as e:
        await video.fetch(st, req, tmp_path / "clip.mp4")
    assert isinstance(e.value, ResultGone), e.value
    text = str(e.value)
    assert f"HTTP {status}, the result URL is gone: it carries no expiry" in text, text
    assert "should still be there" not in text, text
    assert not (tmp_path / "clip.mp4").exists() and created(sim) == 1


async def test_a_403_not_known_to_be_expired_is_not_taken_for_gone(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """A 403 on a URL that carries no expiry, of a task that finished just now (a clock
    difference, a proxy): JobFailed but not `ResultGone`, so nothing is bought again."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.finished_at is not None and abs(st.finished_at - time.time()) < 60
    sim.add_fault("http", path="/_sim/files/", status=403, count=None)
    with pytest.raises(JobFailed) as e:
        await video.fetch(st, req, tmp_path / "clip.mp4")
    assert not isinstance(e.value, ResultGone) and "HTTP 403" in str(e.value)
    # (no clock decides a URL without an expiry: "a clock difference?" was said of it)
    assert "clock" not in str(e.value) and "carries no expiry" in str(e.value), e.value


async def test_a_403_within_the_urls_own_expiry_is_not_taken_for_gone(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """A signed URL refused with 403 before the expiry it carries (by this machine's
    clock): JobFailed, not `ResultGone`, asking whether the clocks differ."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.video_url is not None
    start = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    signed = f"{st.video_url}?X-Tos-Date={start}&X-Tos-Expires=86400&X-Tos-Signature=x"
    sim.add_fault("patch", path=f"{TASKS}/{st.remote_id}", body={"content": {"video_url": signed}})
    sim.add_fault("http", path="X-Tos-Expires", status=403, count=None)
    with pytest.raises(JobFailed) as e:
        await video.fetch(
            JobState(st.remote_id, "succeeded", video_url=signed), req, tmp_path / "c.mp4"
        )
    assert not isinstance(e.value, ResultGone), e.value
    assert "before the result URL is known to expire (a clock difference?)" in str(e.value)


async def test_a_403_past_the_urls_own_expiry_is_gone(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """A signed URL (TOS: X-Tos-Date + X-Tos-Expires) refused with 403 after the expiry
    it carries, as the fresh poll gives it again: the result is gone for good."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.video_url is not None
    signed = f"{st.video_url}?X-Tos-Date=20261101T000000Z&X-Tos-Expires=86400&X-Tos-Signature=x"
    sim.add_fault("patch", path=f"{TASKS}/{st.remote_id}", body={"content": {"video_url": signed}})
    sim.add_fault("http", path="X-Tos-Expires", status=403, count=None)
    with pytest.raises(ResultGone, match="past the expiry it carries"):
        await video.fetch(
            JobState(st.remote_id, "succeeded", video_url=signed), req, tmp_path / "c.mp4"
        )


async def test_a_403_a_day_after_the_task_finished_is_gone(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """Seedance's video_url is valid 24 h after the task finished (its updated_at): a
    403 past that is the URL expired, whatever the URL carries."""
    video = seedance(sim)
    req = vreq(keyframe)
    rid = await video.submit(req)
    await wait_done(video, rid)
    old = int(time.time()) - 25 * 3600
    sim.add_fault("patch", path=f"{TASKS}/{rid}", body={"updated_at": old}, count=None)
    st = await video.poll(rid)
    assert st.finished_at == old
    sim.add_fault("http", path="/_sim/files/", status=403, count=None)
    with pytest.raises(ResultGone, match="the task finished 25 h ago"):
        await video.fetch(st, req, tmp_path / "clip.mp4")


def test_a_signed_urls_own_expiry_is_read() -> None:
    """TOS and SigV4 sign a start and a lifetime; SigV2 an epoch; none: not expired."""
    from calendar import timegm

    start = timegm(time.strptime("20261101T000000Z", "%Y%m%dT%H%M%SZ"))
    for p in ("X-Tos", "X-Amz", "x-amz"):
        url = f"https://b.example/v.mp4?{p}-Date=20261101T000000Z&{p}-Expires=3600"
        assert not url_expired(url, now=start + 3599) and url_expired(url, now=start + 3601)
    assert url_expired(f"https://b.example/v.mp4?Expires={start}", now=start + 1)
    assert not url_expired("https://b.example/v.mp4", now=start + 10**9)
    assert not url_expired("https://b.example/v.mp4?X-Tos-Date=junk&X-Tos-Expires=1")


async def test_a_refetched_image_url_that_still_serves_no_image_is_gone(
    sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept result URL that, in a later render, still answers with bytes that are no
    image: `ResultGone` (the image is bought again, with consent), not a Transient that
    held the scene until the URL's 24 h were over."""
    from mindmovie import retry

    monkeypatch.setattr(retry, "_wait", lambda base, cap: lambda state: 0.0)
    kf = seedream(sim, "seedream-3-0-t2i", options={"response_format": "url"})
    req = KeyframeRequest(scene_id="s", prompt="p", width=720, height=1280, seed=3, aspect="9:16")
    sim.add_fault("corrupt", path="/_sim/files/", count=None)
    with pytest.raises(JobFailed, match="not an image") as e:
        await kf.generate(req)
    assert e.value.result_url is not None
    with pytest.raises(ResultGone, match="still serves no image"):
        await kf.refetch(e.value.result_url, req)
    assert sim.stats()["totals"]["images"] == 1


async def test_a_403_on_the_fresh_url_goes_by_the_finish_the_caller_knows(
    sim: SimServer, keyframe: Path, tmp_path: Path
) -> None:
    """The task answers without updated_at; the caller knows it finished over a day ago
    (an earlier render billed it): a 403 on the fresh URL the re-poll gives is the
    result gone too, not only one on the URL it was given."""
    video = seedance(sim)
    req = vreq(keyframe)
    st = await wait_done(video, await video.submit(req))
    assert st.video_url is not None
    sim.add_fault("patch", path=f"{TASKS}/{st.remote_id}", body={"updated_at": None}, count=None)
    sim.add_fault("http", path="/_sim/files/", status=403, count=None)
    old = JobState(
        st.remote_id,
        "succeeded",
        video_url=st.video_url.replace(".mp4", "0.mp4"),
        finished_at=time.time() - 25 * 3600,
    )
    with pytest.raises(ResultGone, match="the task finished 25 h ago"):
        await video.fetch(old, req, tmp_path / "clip.mp4")
    assert len(sim.requests(path="/_sim/files/")) == 2  # the given URL, then the fresh one


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
async def test_a_photo_goes_without_its_location_and_other_metadata(
    sim: SimServer, tmp_path: Path, fmt: str
) -> None:
    """A phone photo (JPEG, PNG, WebP) stored upright went to Ark as stored, with its EXIF
    (GPS position, camera serial number, date), XMP and comments or text chunks. It
    goes without them, its pixels and colour profile as they were: the model needs the
    picture, not where it was taken. One EXIF turns goes upright, without them too."""
    from tests.media import PRIVATE_TAGS, decoded_picture, write_tagged_photo

    photo = write_tagged_photo(tmp_path / f"me.{fmt.lower()}", fmt)
    turned = write_tagged_photo(tmp_path / "phone.jpg", "JPEG", orientation=6)
    await seedream(sim).generate(
        KeyframeRequest(
            scene_id="s", prompt="p", width=64, height=36, seed=1,
            reference_photos=(photo, turned),
        )
    )  # fmt: skip
    sent = [
        base64.b64decode(u.split(",", 1)[1]) for u in sim.requests(path=IMAGES)[0]["body"]["image"]
    ]
    for data in sent:
        assert [t for t in PRIVATE_TAGS if t in data] == []
        _, exif, info = decoded_picture(data)
        assert exif == {} and not {"xmp", "XML:com.adobe.xmp", "comment", "Comment"} & set(info)
    pixels, _, info = decoded_picture(sent[0])
    assert (pixels == decoded_picture(photo.read_bytes())[0]).all()
    assert info.get("icc_profile") == Image.open(photo).info["icc_profile"]
    assert _sent_picture(sim.requests(path=IMAGES)[0]["body"]["image"][1])[2] == (24, 40)


#: a proxy's error page in ISO-8859-1 ("é", "ê" one byte each: not UTF-8)
LATIN1_PAGE = (
    "<html><head><title>502 Passerelle erronée</title></head>\n"
    "<body><h1>Requête refusée</h1><p>Le serveur amont n'a pas répondu.</p></body></html>"
)


@pytest.mark.parametrize("status", [400, 502])
async def test_an_error_page_not_in_utf8_is_one_readable_line(
    sim: SimServer, keyframe: Path, status: int
) -> None:
    """A proxy's error page in ISO-8859-1 was told with U+FFFD for its letters, its
    HTML and line breaks as they came ("refused the request: <html><head><title>502
    Passerelle erron\ufffde</title>..."). It is its words, on one line; a 502 to a create
    is still sent (its row kept committed, the task list looked at), a 400 refused."""
    sim.add_fault(
        "http", path=TASKS, method="POST", status=status, body=LATIN1_PAGE, charset="latin-1"
    )
    with pytest.raises((ConnectionLost, InvalidRequest)) as ei:
        await seedance(sim).submit(vreq(keyframe))
    said = str(ei.value)
    assert "502 Passerelle erronée Requête refusée Le serveur amont" in said, said
    assert "\ufffd" not in said and "<" not in said and "\n" not in said, said
    if status == 502:
        assert isinstance(ei.value, ConnectionLost) and ei.value.sent is True
    else:
        assert isinstance(ei.value, InvalidRequest)


@pytest.mark.parametrize("style", ["cool blue film", None])
async def test_seedream_is_sent_the_plan_s_style(sim: SimServer, style: str | None) -> None:
    """plan.yaml's `style` was never sent to Seedream (Gemini is sent it), yet the
    keyframe's key holds it: an edit of it bought every keyframe again with the very same
    request, and the edit did nothing. It ends the prompt, as Gemini's."""
    await seedream(sim).generate(
        KeyframeRequest(
            scene_id="s", prompt="A run.", width=64, height=64, seed=1, aspect="1:1", style=style
        )
    )
    body = sim.requests(path=IMAGES, method="POST")[0]["body"]
    assert body["prompt"] == ("A run.\nStyle: cool blue film" if style else "A run.")
