"""Gemini keyframes and Veo video with the REAL google-genai SDK against the loopback sim.

Nothing here touches the internet: every client's base_url is the simulator's. The sim
records each request, so the tests check what went over the wire (aspectRatio, inline
images, durationSeconds, ...) and that a refused configuration sent nothing at all.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types
from pydantic import SecretStr

from mindmovie import catalog
from mindmovie.config import ConfigError, Keys, Settings
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
)
from mindmovie.providers.google import GeminiKeyframes, Mode, VeoVideo, describe_mode
from mindmovie.retry import with_retry
from tests.integration.support import (
    GOOGLE_BAD_KEY_BODY,
    count_ca_loads,
    record_photo_threads,
)
from tests.sim import SimServer, media
from tests.sim.server import jwt_claims

pytestmark = pytest.mark.usefixtures("providers_closed")

KEY = Keys(google=SecretStr("test-google-key"))
NO_KEY = Keys()


@pytest.fixture
def gsim(sim: SimServer) -> SimServer:
    """The shared simulator with small media (fast MP4s), reset for each test."""
    sim.media_scale = 0.125
    return sim


@pytest.fixture(scope="session")
def _signing_key() -> str:
    """An RSA private key (PEM), made once: a service account's, to sign its token JWT."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


@pytest.fixture
def adc_file(
    gsim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _signing_key: str
) -> Path:
    """A usable Application Default Credentials file (google-auth loads it without the
    network), named by GOOGLE_APPLICATION_CREDENTIALS: project mode builds only with
    credentials it can find. A service account's, whose token_uri google-auth honours
    (an authorized_user file's it replaces with oauth2.googleapis.com): the real
    google-auth signs its JWT and fetches the access token from the simulator."""
    path = tmp_path / "adc.json"
    info = {
        "type": "service_account",
        "project_id": "adc-default-project",  # the configured project must win over this
        "private_key_id": "sim-key-1",
        "private_key": _signing_key,
        "client_email": "mindmovie-test@adc-default-project.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": f"{gsim.base_url}/token",
    }
    path.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    return path


def _settings(sim: SimServer, **google: Any) -> Settings:
    prov = {"base_url": sim.base_url, "timeout": 30, **google}
    return Settings(preset="google", providers={"google": prov})


def _png(path: Path, variant: int = 0, size: tuple[int, int] = (64, 36)) -> Path:
    path.write_bytes(media.png(*size, variant))
    return path


def _video_req(tmp_path: Path, **kw: Any) -> VideoRequest:
    fields: dict[str, Any] = {
        "scene_id": "s1",
        "prompt": "a calm lake at dawn, slow push in",
        "keyframe": _png(tmp_path / "keyframe.png"),
        "seconds": 4.0,
        "width": 1280,
        "height": 720,
        "fps": 24,
        "seed": 11,
        "aspect": "16:9",
        "resolution": "720p",
    }
    fields.update(kw)
    return VideoRequest(**fields)


def _b64(data: str) -> bytes:
    """The SDK encodes inline bytes URL-safe; accept either alphabet."""
    return base64.urlsafe_b64decode(data.replace("+", "-").replace("/", "_"))


def _google_requests(sim: SimServer) -> list[dict[str, Any]]:
    """Requests to the API: not the simulator's own, nor ADC's token fetches."""
    return [r for r in sim.requests() if not r["path"].startswith(("/_sim", "/token"))]


# ---------------------------------------------------------------------------- keyframes
async def test_gemini_keyframe_express_sends_aspect_and_reference(
    gsim: SimServer, tmp_path: Path
) -> None:
    ref = _png(tmp_path / "me.png", variant=3)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    assert kf.model == catalog.default_model("google", "keyframes").id
    req = KeyframeRequest(
        scene_id="s1",
        prompt="me on a beach",
        width=1280,
        height=720,
        seed=7,
        aspect="16:9",
        reference_photos=(ref,),
    )
    img = await kf.generate(req)

    from PIL import Image

    with Image.open(io.BytesIO(img.data)) as im:
        im.verify()
    assert img.data.startswith(b"\x89PNG\r\n\x1a\n") and img.mime == "image/png"
    assert img.usage["output_tokens"] == 1290 and img.usage["input_tokens"] > 0

    (rec,) = _google_requests(gsim)
    assert rec["path"] == f"/v1beta1/publishers/google/models/{kf.model}:generateContent"
    assert rec["headers"].get("x-goog-api-key") == "<redacted>"
    body = rec["body"]
    gen = body["generationConfig"]
    assert gen["responseModalities"] == ["TEXT", "IMAGE"]
    assert gen["imageConfig"]["aspectRatio"] == "16:9"
    parts = body["contents"][0]["parts"]
    assert parts[0]["text"].startswith("me on a beach")
    inline = [p["inlineData"] for p in parts if "inlineData" in p]
    assert len(inline) == 1
    assert _b64(inline[0]["data"]) == ref.read_bytes()
    assert inline[0].get("mime_type", inline[0].get("mimeType")) == "image/png"
    await kf.aclose()


async def test_gemini_keyframe_source_photo_goes_first(gsim: SimServer, tmp_path: Path) -> None:
    src = _png(tmp_path / "src.png", variant=1)
    ref = _png(tmp_path / "ref.png", variant=2)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    req = KeyframeRequest(
        scene_id="s1",
        prompt="restyle",
        width=768,
        height=1344,
        seed=1,
        aspect="9:16",
        reference_photos=(ref,),
        source_photo=src,
    )
    await kf.generate(req)
    (rec,) = _google_requests(gsim)
    inline = [p["inlineData"] for p in rec["body"]["contents"][0]["parts"] if "inlineData" in p]
    assert [_b64(i["data"]) for i in inline] == [src.read_bytes(), ref.read_bytes()]
    assert rec["body"]["generationConfig"]["imageConfig"]["aspectRatio"] == "9:16"


async def test_gemini_keyframe_developer_mode_allowed(gsim: SimServer) -> None:
    kf = GeminiKeyframes.from_settings(_settings(gsim, vertexai=False), KEY)
    assert kf.mode.kind == "developer"
    img = await kf.generate(KeyframeRequest("s1", "a fox", 1344, 768, 7))
    assert img.data.startswith(b"\x89PNG")
    (rec,) = _google_requests(gsim)
    assert rec["path"] == f"/v1/models/{kf.model}:generateContent"


async def test_gemini_clients_share_one_tls_context(
    gsim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """google-genai made two TLS contexts for each client (its httpx client's, and one for
    websockets), loading the CA certificates each time: ~80 ms of CPU a client, one a
    render. Its clients share the contexts now: new keyframe models, each with a new
    client, load none, and still make images."""
    loads = count_ca_loads(monkeypatch)
    before = 0
    for n in range(3):
        if n == 1:
            before = len(loads)  # the shared contexts
        kf = GeminiKeyframes.from_settings(_settings(gsim, vertexai=False), KEY)
        img = await kf.generate(KeyframeRequest("s1", "a fox", 1344, 768, n))
        assert img.data.startswith(b"\x89PNG")
        await kf.aclose()
    assert before >= 1 and len(loads) == before, loads
    assert len(_google_requests(gsim)) == 3


async def test_gemini_keyframe_safety_block_is_content_rejected(gsim: SimServer) -> None:
    gsim.add_fault("reject", path=":generateContent")
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(ContentRejected, match="IMAGE_SAFETY") as ei:
        await kf.generate(KeyframeRequest("s3", "something", 1344, 768, 7))
    assert ei.value.scene_id == "s3" and ei.value.provider == "google"
    assert ei.value.billed is False
    # no image made, but the prompt's input tokens counted (and billed: the ledger's)
    assert ei.value.usage is not None and ei.value.usage["input_tokens"] > 0
    assert not ei.value.usage.get("output_tokens")


async def test_gemini_keyframe_refuses_unknown_ratio_before_request(gsim: SimServer) -> None:
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest, match="ratio 7:3"):
        await kf.generate(KeyframeRequest("s1", "x", 100, 100, 1, aspect="7:3"))
    assert _google_requests(gsim) == []


# ---------------------------------------------------------------------------- Veo
async def test_veo_express_submit_poll_fetch(gsim: SimServer, tmp_path: Path) -> None:
    gsim.min_polls = 2  # the first poll sees a running job
    settings = _settings(gsim)
    settings.video.options = {"negative_prompt": "text, watermark"}
    veo = VeoVideo.from_settings(settings, KEY)
    assert veo.mode.kind == "express"
    assert veo.model == catalog.default_model("google", "video").id
    req = _video_req(tmp_path)

    remote_id = await veo.submit(req)
    assert "/operations/" in remote_id
    first = await veo.poll(remote_id)
    assert first.status == "running" and not first.done
    state = await veo.poll(remote_id)
    assert state.status == "succeeded"
    assert state.video_bytes  # Vertex inlines bytesBase64Encoded

    dest = tmp_path / "out" / "clip.mp4"
    assert await veo.fetch(state, req, dest) == dest
    info = probe(dest)
    assert info.video is not None
    assert abs(info.duration - 4.0) <= 0.5
    assert not list(dest.parent.glob(".*tmp*"))  # no temp file left behind

    (create,) = gsim.requests(path=":predictLongRunning")
    assert create["path"] == f"/v1beta1/publishers/google/models/{veo.model}:predictLongRunning"
    inst = create["body"]["instances"][0]
    assert inst["prompt"] == req.prompt
    assert _b64(inst["image"]["bytesBase64Encoded"]) == req.keyframe.read_bytes()
    assert inst["image"]["mimeType"] == "image/png"
    assert "lastFrame" not in inst
    params = create["body"]["parameters"]
    assert params["aspectRatio"] == "16:9"
    assert params["resolution"] == "720p"
    assert params["durationSeconds"] == 4
    assert params["negativePrompt"] == "text, watermark"
    assert params["sampleCount"] == 1
    assert params["seed"] == 11
    assert params["generateAudio"] is False
    polls = gsim.requests(path=":fetchPredictOperation")
    assert len(polls) == 2
    assert polls[0]["body"] == {"operationName": remote_id}
    await veo.aclose()


async def test_veo_last_frame_only_when_the_model_supports_it(
    gsim: SimServer, tmp_path: Path
) -> None:
    last = _png(tmp_path / "last.png", variant=4)
    req = _video_req(tmp_path, last_frame=last, seconds=8.0, audio=True)
    settings = _settings(gsim)
    settings.video.model = "veo-3-1"  # last_frame = true in the catalog
    await VeoVideo.from_settings(settings, KEY).submit(req)
    settings.video.model = "veo-3-0"  # last_frame = false: dropped, not refused
    await VeoVideo.from_settings(settings, KEY).submit(req)
    with_last, without = gsim.requests(path=":predictLongRunning")
    assert "veo-3.1-generate-preview" in with_last["path"]
    lf = with_last["body"]["instances"][0]["lastFrame"]
    assert _b64(lf["bytesBase64Encoded"]) == last.read_bytes()
    assert with_last["body"]["parameters"]["generateAudio"] is True
    assert "veo-3.0-generate-001" in without["path"]
    assert "lastFrame" not in without["body"]["instances"][0]


async def test_veo_rai_filtered_is_rejected(gsim: SimServer, tmp_path: Path) -> None:
    gsim.add_fault("reject", path=":predictLongRunning", message="Person likeness not allowed.")
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    state = await veo.poll(await veo.submit(_video_req(tmp_path)))
    assert state.status == "rejected" and state.done
    assert state.error is not None and "Person likeness not allowed." in state.error
    assert state.video_bytes is None


async def test_veo_failed_operation_is_failed(gsim: SimServer, tmp_path: Path) -> None:
    gsim.add_fault("fail", path=":predictLongRunning", code=13, message="backend exploded")
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    state = await veo.poll(await veo.submit(_video_req(tmp_path)))
    assert state.status == "failed"
    assert state.error == "backend exploded (code 13)"


async def test_veo_refuses_duration_before_any_request(gsim: SimServer, tmp_path: Path) -> None:
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest, match=r"duration 5 s not allowed; allowed 4, 6, 8 s"):
        await veo.submit(_video_req(tmp_path, seconds=5.0))
    with pytest.raises(InvalidRequest, match="ratio 1:1 not allowed"):
        await veo.submit(_video_req(tmp_path, aspect="1:1"))
    assert _google_requests(gsim) == []


async def test_veo_fetch_truncated_bytes_is_transient_then_recovers(
    gsim: SimServer, tmp_path: Path
) -> None:
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    req = _video_req(tmp_path)
    state = await veo.poll(await veo.submit(req))
    assert state.video_bytes
    good = state.video_bytes
    dest = tmp_path / "clip.mp4"
    for cut in (len(good) // 3, len(good) * 85 // 100, 100):
        state.video_bytes = good[:cut]
        with pytest.raises(Transient, match="downloaded clip") as e:
            await veo.fetch(state, req, dest)
        # the temporary file, gone by then, is not named as the cause (the
        # provider-faults audit: ".clip.mp4.5492.tmp.mp4: ..."), on one line
        assert ".clip.mp4" not in str(e.value) and "\n" not in str(e.value), str(e.value)
    assert not dest.exists() and not list(tmp_path.glob(".clip.mp4*"))
    assert state.video_bytes is None  # the retry reads the operation again
    await with_retry(lambda: veo.fetch(state, req, dest), base_delay=0.01)
    assert abs(probe(dest).duration - 4.0) <= 0.5


async def test_veo_fetch_wrong_duration_is_transient(gsim: SimServer, tmp_path: Path) -> None:
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    req6 = _video_req(tmp_path, seconds=6.0)
    state = await veo.poll(await veo.submit(_video_req(tmp_path, seconds=4.0)))
    with pytest.raises(Transient, match="expected 6 s"):
        await veo.fetch(state, req6, tmp_path / "clip.mp4")


async def _developer_veo(gsim: SimServer, **kw: Any) -> tuple[VeoVideo, JobState]:
    """A finished developer-mode Veo operation (made as 2.x SDKs sent it: the uri-only
    result whose bytes come from files.download) and a client to fetch it."""
    created = httpx.post(
        f"{gsim.base_url}/v1beta/models/veo-3.0-generate-001:predictLongRunning",
        headers={"x-goog-api-key": "k"},
        json={"instances": [{"prompt": "p"}], "parameters": {"durationSeconds": 4}},
    ).json()
    client = genai.Client(
        vertexai=False,
        api_key="k",
        http_options=types.HttpOptions(base_url=gsim.base_url, timeout=30_000),
    )
    spec = catalog.resolve("google", "video", "veo-3-0")
    veo = VeoVideo(client, spec=spec, mode=Mode("developer", api_key="k"), **kw)
    return veo, await veo.poll(created["name"])


async def test_veo_developer_fetch_downloads_file(gsim: SimServer, tmp_path: Path) -> None:
    """Developer mode's files.download path (the sim's developer create, as 2.x SDKs sent it)."""
    veo, state = await _developer_veo(gsim)
    assert state.status == "succeeded" and state.video_url and not state.video_bytes
    req = _video_req(tmp_path)
    gsim.add_fault("truncate", path=":download")
    with pytest.raises(Transient):
        await veo.fetch(state, req, tmp_path / "clip.mp4")
    out = await veo.fetch(state, req, tmp_path / "clip.mp4")
    assert abs(probe(out).duration - 4.0) <= 0.5
    assert len(gsim.requests(path=":download")) == 2


async def test_with_aiohttp_installed_the_sdk_still_talks_through_httpx(
    gsim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With aiohttp installed (another package's, in the same environment) google-genai
    took it for its async transport, which drops the httpx client's hooks: the key
    followed a redirect to another host, a 400 in another encoding was retried as a
    passing fault, a timeout named no setting (7 google tests failed with aiohttp
    installed), and three tests of that path were skipped wherever it was not (in CI,
    always). The client talks through httpx all the same (`_make_client`), so one path
    is the one tested; aiohttp's presence is made here as the SDK's own tests make it."""
    from google.genai import _api_client

    monkeypatch.setattr(_api_client, "has_aiohttp", True)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    assert not veo.client._api_client._use_aiohttp()
    gsim.add_fault("drop_after", path=":predictLongRunning")
    with pytest.raises(ConnectionLost) as dropped:
        await veo.submit(_video_req(tmp_path))
    assert dropped.value.sent is True  # (httpx's drop, mapped: aiohttp's came out raw)
    assert len(gsim.requests(path=":predictLongRunning")) == 1 and len(gsim.jobs()) == 1


def test_a_bare_timeout_error_names_the_timeout_setting(gsim: SimServer) -> None:
    """The mapping of aiohttp's whole-call timeout (above), where aiohttp is not installed:
    a bare TimeoutError that is not `_call`'s own deadline names providers.google.timeout."""
    from mindmovie.providers.google import _raise_mapped

    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(ConnectionLost, match=r"within providers\.google\.timeout") as late:
        _raise_mapped(TimeoutError(), kf._ctx)
    assert late.value.sent is True and "network error" not in str(late.value)


# ---------------------------------------------------------------------------- errors
async def test_429_is_rate_limited_with_retry_after(gsim: SimServer, tmp_path: Path) -> None:
    gsim.add_fault("http", path=":predictLongRunning", status=429, retry_after=3)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(RateLimited) as ei:
        await veo.submit(_video_req(tmp_path))
    assert ei.value.retry_after == 3.0
    assert len(gsim.requests(path=":predictLongRunning")) == 1  # the SDK did not retry


@pytest.mark.parametrize("clock_off", [3600.0, -3600.0], ids=["behind", "ahead"])
async def test_a_retry_after_date_is_read_off_google_s_clock_not_this_machine_s(
    gsim: SimServer, tmp_path: Path, clock_off: float
) -> None:
    """A Veo create answered 429 with a Retry-After HTTP date 7 s after Google's now,
    this machine's clock an hour behind or ahead: the wait was an hour or none (see
    test_providers_byteplus.py::test_a_retry_after_date_is_read_off_the_provider_s_clock_
    not_this_machine_s); it is counted from the answer's Date header: 7 s."""
    gsim.clock_offset = clock_off
    gsim.retry_after_dates = True
    gsim.add_fault("http", path=":predictLongRunning", status=429, retry_after=7)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(RateLimited) as ei:
        await veo.submit(_video_req(tmp_path))
    assert ei.value.retry_after is not None and 6.0 <= ei.value.retry_after <= 8.0, ei.value


async def test_429_without_a_header_waits_the_retry_info_delay(
    gsim: SimServer, tmp_path: Path
) -> None:
    """Google's quota errors say when to come back in a google.rpc.RetryInfo detail
    (`retryDelay: "31s"`), not a Retry-After header: that delay is the one waited."""
    gsim.add_fault("http", path=":predictLongRunning", status=429, retry_delay=31)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(RateLimited) as ei:
        await veo.submit(_video_req(tmp_path))
    assert ei.value.retry_after == 31.0
    assert len(gsim.requests(path=":predictLongRunning")) == 1  # the SDK did not retry


def _quota_429(quota_id: str) -> dict[str, Any]:
    """Google's 429 of a used-up quota: a QuotaFailure naming it, and a RetryInfo."""
    return {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota, please check your plan and billing "
            "details.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/"
                            "generate_content_free_tier_requests",
                            "quotaId": quota_id,
                            "quotaValue": "50",
                        }
                    ],
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "38s"},
            ],
        }
    }


async def test_a_daily_quota_429_is_told_at_once_not_waited_as_a_rate_limit(
    gsim: SimServer, tmp_path: Path
) -> None:
    """A 429 whose QuotaFailure is a per-day quota carries a RetryInfo of seconds all
    the same: it was waited out as a per-minute limit, minutes a call, then said "render
    again once the rate limit allows". It comes back at midnight Pacific time: an
    AuthError (no other call of the model goes out) saying so. A per-minute one waits."""
    day = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    for path in (":generateContent", ":predictLongRunning"):
        gsim.add_fault("http", path=path, status=429, body=_quota_429(day))
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(AuthError) as ei:
        await kf.generate(KeyframeRequest("s1", "a fox", 1280, 720, 1))
    said = str(ei.value)
    assert day in said and "midnight Pacific time" in said and "AI Studio" in said
    assert "rate limit" not in said
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(AuthError, match="midnight Pacific"):
        await veo.submit(_video_req(tmp_path))
    minute = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    gsim.add_fault("http", path=":generateContent", status=429, body=_quota_429(minute))
    with pytest.raises(RateLimited) as waits:
        await kf.generate(KeyframeRequest("s1", "a fox", 1280, 720, 1))
    assert waits.value.retry_after == 38.0


@pytest.mark.parametrize("status", [408, 409, 500])
async def test_500_is_transient_and_the_sdk_does_not_retry(gsim: SimServer, status: int) -> None:
    """5xx, and a request timeout or an aborted (conflicting) call: worth a retry."""
    gsim.add_fault("http", path=":generateContent", status=status, count=None)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(Transient) as ei:
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    assert not isinstance(ei.value, RateLimited)
    assert len(gsim.requests(path=":generateContent")) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_veo_create_answered_a_5xx_that_may_have_made_it_is_connection_lost(
    gsim: SimServer, tmp_path: Path, status: int
) -> None:
    """A 500, 502 or 504 to a Veo create can come after the operation was made (it
    bills): ConnectionLost, sent, so its row stays committed. Only 504 was; a 500 or 502
    was Transient and refunded. A 503 is still a plain Transient (turned away)."""
    gsim.add_fault("http_after", path=":predictLongRunning", status=status)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(ConnectionLost) as ei:
        await veo.submit(_video_req(tmp_path))
    assert ei.value.sent is True and len(gsim.jobs()) == 1
    gsim.add_fault("http", path=":predictLongRunning", status=503)
    with pytest.raises(Transient) as unavailable:
        await veo.submit(_video_req(tmp_path))
    assert not isinstance(unavailable.value, ConnectionLost)


@pytest.mark.parametrize("status", [429, 502, 503])
async def test_an_error_body_not_in_googles_shape_is_still_mapped(
    gsim: SimServer, status: int
) -> None:
    """A proxy in front of the API answers with its own JSON ({"error": "Bad gateway"}:
    a string where Google puts an object). Looking in it for a RetryInfo delay raised
    AttributeError, a traceback instead of a retry; since 5xx answers were read for
    their wait too (ae57641), for every such 5xx."""
    gsim.add_fault("http", path=":generateContent", status=status, body={"error": "Bad gateway"})
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(Transient) as ei:
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    assert ei.value.retry_after is None
    assert isinstance(ei.value, RateLimited) == (status == 429)


async def test_one_500_then_success_under_the_retry_policy(gsim: SimServer) -> None:
    gsim.add_fault("http", path=":generateContent", status=503, count=1)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    img = await with_retry(
        lambda: kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7)), base_delay=0.01
    )
    assert img.data.startswith(b"\x89PNG")
    assert len(gsim.requests(path=":generateContent")) == 2


async def test_dropped_connection_and_timeout_are_transient(
    gsim: SimServer, tmp_path: Path
) -> None:
    veo = VeoVideo.from_settings(_settings(gsim, timeout=0.5), KEY)
    gsim.add_fault("drop", path=":predictLongRunning")
    with pytest.raises(ConnectionLost, match="connection failed: ") as dropped:
        await veo.submit(_video_req(tmp_path))
    assert dropped.value.sent is True  # the create may have reached Google: maybe billed
    assert "the connection broke after the request was sent; render again" in str(dropped.value)
    gsim.add_fault("delay", path=":fetchPredictOperation", seconds=2.0)
    with pytest.raises(Transient, match="Timeout") as late:
        await veo.poll("projects/p/locations/l/publishers/google/models/m/operations/x")
    assert "no answer within providers.google.timeout; render again" in str(late.value)


async def test_a_refused_connection_is_connection_lost_never_sent(tmp_path: Path) -> None:
    """A port nothing listens on (loopback): the create never left the machine, so the
    ledger may refund it (`sent` False), unlike a dropped connection above."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: connecting is refused
    dead = Settings(preset="google", providers={"google": {"base_url": f"http://127.0.0.1:{port}"}})
    veo = VeoVideo.from_settings(dead, KEY)
    with pytest.raises(ConnectionLost, match="connection failed: ConnectError") as refused:
        await veo.submit(_video_req(tmp_path))
    assert refused.value.sent is False
    # the transport's words and what to do (it was "network error ConnectError: All
    # connection attempts failed": nothing to do)
    line = str(refused.value)
    assert f"Connect call failed ('127.0.0.1', {port})" in line, line
    assert line.endswith(
        "nothing was sent: check the network (a proxy, a firewall) and providers.google.base_url"
    ), line


#: a key shaped as Google's, which no line may show
GOOGLE_SECRET = Keys(google=SecretStr("AIzaSeCrEtVaLuE-google-0003"))
#: (call, status, the error, what the line says the answer was, what it says to do)
GOOGLE_ERRORS: list[tuple[str, int, type[Exception], str, str]] = [
    ("image", 429, RateLimited, "429 RESOURCE_EXHAUSTED: slow down",
     "rate limited: render again once google's rate limit allows (a request turned away "
     "is not billed)"),
    ("image", 500, Transient, "500 INTERNAL: slow down",
     "google could not answer: render again in a few minutes"),
    ("image", 503, Transient, "503 UNAVAILABLE: slow down",
     "google could not answer: render again in a few minutes"),
    ("create", 429, RateLimited, "429 RESOURCE_EXHAUSTED: slow down",
     "render again once google's rate limit allows"),
    ("create", 504, ConnectionLost, "504 DEADLINE_EXCEEDED: slow down",
     "google could not answer: render again in a few minutes"),
    ("create", 503, Transient, "503 UNAVAILABLE: slow down",
     "google could not answer: render again in a few minutes"),
    ("poll", 500, Transient, "500 INTERNAL: slow down",
     "google could not answer: render again in a few minutes"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "status", "error", "said", "to_do"),
    GOOGLE_ERRORS,
    ids=[f"{c[0]}-{c[1]}" for c in GOOGLE_ERRORS],
)
async def test_each_passing_error_google_answers_says_status_and_what_to_do(
    gsim: SimServer,
    tmp_path: Path,
    call: str,
    status: int,
    error: type[Exception],
    said: str,
    to_do: str,
) -> None:
    """A 429 or 5xx from Google, on a Gemini image, a Veo create or its poll: one line
    with the status, Google's status name and message, and what to do, as Claude's lines
    say it (58be2ee). They said "rate limited, 429 RESOURCE_EXHAUSTED: ..." and "503
    UNAVAILABLE: ..." with nothing to do."""
    path = {"image": ":generateContent", "create": ":predictLongRunning"}
    gsim.add_fault(
        "http", path=path.get(call, ":fetchPredictOperation"), status=status, message="slow down"
    )
    with pytest.raises(error) as e:
        if call == "image":
            kf = GeminiKeyframes.from_settings(_settings(gsim), GOOGLE_SECRET)
            await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
        else:
            veo = VeoVideo.from_settings(_settings(gsim), GOOGLE_SECRET)
            if call == "create":
                await veo.submit(_video_req(tmp_path))
            else:
                await veo.poll("projects/p/locations/l/publishers/google/models/m/operations/x")
    line = str(e.value)
    assert type(e.value) is error, line
    assert line.startswith("google"), line
    assert said in line and to_do in line, line
    assert "\n" not in line and "SeCrEtVaLuE" not in line, line


async def test_a_503_asking_for_hours_says_when_not_a_few_minutes(gsim: SimServer) -> None:
    """A Gemini image call answered 503 with Retry-After: 7200 ends at once saying when
    to render again; it also said "render again in a few minutes" (`busy_advice`)."""
    gsim.add_fault("http", path=":generateContent", status=503, retry_after=7200)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    req = KeyframeRequest("s1", "x", 1344, 768, 7)
    with pytest.raises(Transient) as e:
        await asyncio.wait_for(with_retry(lambda: kf.generate(req)), 10)
    line = str(e.value)
    assert "google could not answer; it asks to wait 2 h 0 min" in line, line
    assert "render again after" in line and "few minutes" not in line, line
    assert len(_google_requests(gsim)) == 1


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_errors_name_the_variable_and_mode(gsim: SimServer, status: int) -> None:
    gsim.add_fault("http", path=":generateContent", status=status)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(AuthError, match="GOOGLE_API_KEY") as ei:
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    assert "vertex express" in str(ei.value)


@pytest.mark.parametrize("stage", ["keyframes", "video"])
async def test_a_key_google_does_not_know_is_an_auth_error_naming_the_variable(
    gsim: SimServer, tmp_path: Path, stage: str
) -> None:
    """A wrong GOOGLE_API_KEY is answered 400 INVALID_ARGUMENT (reason API_KEY_INVALID),
    not 401: it was told as a bad request of the model's, without the key's name."""
    path = ":generateContent" if stage == "keyframes" else ":predictLongRunning"
    gsim.add_fault("http", path=path, status=400, body=GOOGLE_BAD_KEY_BODY)
    with pytest.raises(AuthError, match="GOOGLE_API_KEY") as ei:
        if stage == "keyframes":
            kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
            await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
        else:
            await VeoVideo.from_settings(_settings(gsim), KEY).submit(_video_req(tmp_path))
    assert "API key not valid" in str(ei.value)


async def test_404_names_the_model_and_the_catalog(gsim: SimServer, tmp_path: Path) -> None:
    gsim.add_fault("http", path=":predictLongRunning", status=404, message="model not found")
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest) as ei:
        await veo.submit(_video_req(tmp_path))
    msg = str(ei.value)
    # the others, by the names config.yaml takes (the wire ids, the refused one among
    # them, were listed)
    assert veo.model in msg and "known: veo-3-1, veo-3-0-fast, veo-3-0)" in msg, msg


async def test_400_is_invalid_request_unless_it_is_a_policy_refusal(
    gsim: SimServer, tmp_path: Path
) -> None:
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    said = "Invalid value at 'parameters.resolution' (TYPE_STRING), \"4k\""
    gsim.add_fault("http", path=":predictLongRunning", status=400, message=said)
    with pytest.raises(InvalidRequest, match="Invalid value at") as bad:
        await veo.submit(_video_req(tmp_path))
    # the field it names, for the render to say which setting to change
    assert bad.value.param == "resolution" and bad.value.answered and bad.value.setting is None
    gsim.add_fault(
        "http",
        path=":predictLongRunning",
        status=400,
        message="The prompt contains sensitive words that violate Google's Responsible AI "
        "practices.",
    )
    with pytest.raises(ContentRejected):
        await veo.submit(_video_req(tmp_path))


@pytest.mark.parametrize(
    ("message", "body", "param"),
    [
        # plain words of the message name no field (they named "image" and "prompt")
        ("Unable to process input image. Please retry.", None, None),
        ("The prompt could not be submitted.", None, None),
        # a field quoted in the message, in Google's JSON or proto (snake_case) name
        ("`durationSeconds` must be between 4 and 8.", None, "duration"),
        ("Invalid value at 'instances[0].last_frame' (TYPE_BYTES)", None, "last_frame"),
        ("aspectRatio 5:1 is not supported.", None, "ratio"),
        # a google.rpc.BadRequest detail's field, before the message's words
        (
            "Request contains an invalid argument.",
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "generation_config.image_config.aspect_ratio"}],
            },
            "ratio",
        ),
    ],
)
async def test_a_400_names_a_field_only_as_a_field_not_as_a_word_of_its_message(
    gsim: SimServer, message: str, body: dict[str, Any] | None, param: str | None
) -> None:
    """`InvalidRequest.param` comes from a fieldViolations field or a field's name quoted
    in the message: a plain word ("image", "prompt") was taken for a field, and the
    render said to change the scene's `reference_photos` or `image_prompt`."""
    error: dict[str, Any] = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    if body is not None:
        error["details"] = [body]
    gsim.add_fault("http", path=":generateContent", status=400, body={"error": error})
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest) as ei:
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    assert ei.value.answered and ei.value.param == param, (ei.value.param, str(ei.value))


async def test_a_veo_400_naming_the_last_frame_names_it_not_the_keyframe(
    gsim: SimServer, tmp_path: Path
) -> None:
    """A Veo create refused for its `lastFrame` (the next scene's keyframe, sent with
    video.chain_frames) named `image`, and the render said to change this scene's
    keyframe or motion_prompt; it is `last_frame`, which the render tells as
    video.chain_frames (`pipeline.refused_request_fix`)."""
    gsim.add_fault(
        "http",
        path=":predictLongRunning",
        status=400,
        message="`lastFrame` is not supported by this model.",
    )
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    req = _video_req(tmp_path, last_frame=_png(tmp_path / "next.png", 1))
    with pytest.raises(InvalidRequest) as ei:
        await veo.submit(req)
    await veo.aclose()
    assert ei.value.answered and ei.value.param == "last_frame", str(ei.value)


async def test_a_400_refusing_a_value_names_the_values_allowed(
    gsim: SimServer, tmp_path: Path
) -> None:
    """A refused value's line names the values the catalog lists, as Ark's do: Google's
    said only "Invalid value at durationSeconds: 4 is not supported" (wire audit). Not
    "allowed": the render sends only those, so the refused one is among them."""
    gsim.add_fault("http", path=":predictLongRunning", status=400,
                   message="Invalid value at durationSeconds: 4 is not supported.")  # fmt: skip
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest) as ei:
        await veo.submit(_video_req(tmp_path))
    await veo.aclose()
    assert ei.value.param == "duration"
    assert str(ei.value).endswith("4 is not supported; the catalog lists 4, 6, 8 s"), ei.value
    gsim.add_fault("http", path=":generateContent", status=400,
                   message="aspectRatio 5:1 is not supported.")  # fmt: skip
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest) as ei:
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    assert str(ei.value).endswith(
        "; the catalog lists 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3, 5:4, 4:5, 21:9"
    )
    gsim.add_fault("http", path=":generateContent", status=400,
                   message="`imageSize` 8K is not supported.")  # fmt: skip
    with pytest.raises(InvalidRequest) as ei:
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    assert "catalog" not in str(ei.value)  # Google's sizes are not the catalog's pixels


async def _one_keyframe_or_create(gsim: SimServer, tmp_path: Path, *, keyframe: bool) -> None:
    """One Gemini keyframe call, or one Veo create: a stage's first paid call."""
    if keyframe:
        kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    else:
        await VeoVideo.from_settings(_settings(gsim), KEY).submit(_video_req(tmp_path))


@pytest.mark.parametrize(
    ("status", "name", "message"),
    [
        (400, "FAILED_PRECONDITION", "Image generation is not available in your country."),
        (400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
        (
            403,
            "PERMISSION_DENIED",
            "Generative Language API has not been used in project 123 before or it is disabled.",
        ),
    ],
)
@pytest.mark.parametrize("stage", ["keyframes", "video"])
async def test_an_account_or_region_refusal_says_so_not_a_request_to_change(
    gsim: SimServer, tmp_path: Path, stage: str, status: int, name: str, message: str
) -> None:
    """Google's 400 FAILED_PRECONDITION (a country or region not served) and 403
    PERMISSION_DENIED refuse the account, not the request: an `AuthError` (the render
    sends no other call of the model) saying what to check. The 400s were an answered
    `InvalidRequest` naming "image", and the render said to change the scene's
    `reference_photos` in plan.yaml, listed under the requests refused as sent."""
    path = ":generateContent" if stage == "keyframes" else ":predictLongRunning"
    body = {"error": {"code": status, "message": message, "status": name}}
    gsim.add_fault("http", path=path, status=status, body=body)
    with pytest.raises(AuthError) as ei:
        await _one_keyframe_or_create(gsim, tmp_path, keyframe=stage == "keyframes")
    line = str(ei.value)
    assert f"{status} {name}: {message}" in line, line
    assert "Google refused the account, not this request" in line, line
    assert "region" in line and "GOOGLE_API_KEY" in line and f"{stage}.model" in line, line
    assert "\n" not in line, line


async def test_an_account_refusal_of_a_poll_does_not_say_nothing_was_billed(
    gsim: SimServer,
) -> None:
    """A Veo operation's poll refused 403 PERMISSION_DENIED: the job was made (and
    billed), so its line says what to check but not "nothing was billed for it"."""
    body = {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}
    gsim.add_fault("http", path=":fetchPredictOperation", status=403, body=body)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(AuthError) as ei:
        await veo.poll("projects/p/locations/l/publishers/google/models/m/operations/x")
    line = str(ei.value)
    assert "Google refused the account" in line and "billed" not in line, line


async def test_a_400_naming_an_option_is_that_setting_only_when_the_person_set_it(
    gsim: SimServer, tmp_path: Path
) -> None:
    """Google names the field ("`negativePrompt` isn't supported by this model."): the
    person's video.options.negative_prompt is that setting; the same answer with no
    such option set (a field mindmovie sends itself) is no setting of theirs."""
    said = "`negativePrompt` isn't supported by this model. Please remove it."
    gsim.add_fault("http", path=":predictLongRunning", status=400, message=said, count=2)
    s = _settings(gsim)
    s.video.options = {"negative_prompt": "blurry"}
    veo = VeoVideo.from_settings(s, KEY)
    with pytest.raises(InvalidRequest) as ei:
        await veo.submit(_video_req(tmp_path))
    assert ei.value.setting == "video.options.negative_prompt"
    assert ei.value.message.startswith(
        f"video.options.negative_prompt: google refused 'blurry' for {veo.model} "
        f"(400 INVALID_ARGUMENT: {said}); set another value or leave it out"
    )
    plain = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest) as ei:
        await plain.submit(_video_req(tmp_path))
    assert ei.value.setting is None and said in str(ei.value)


# ---------------------------------------------------------------------------- config
def test_developer_mode_veo_is_config_error_before_any_request(gsim: SimServer) -> None:
    with pytest.raises(ConfigError) as ei:
        VeoVideo.from_settings(_settings(gsim, vertexai=False), KEY)
    msg = str(ei.value)
    assert "Veo needs Vertex mode" in msg and "vertexai: true" in msg
    assert "project" in msg and "\n" not in msg
    assert _google_requests(gsim) == []


@pytest.mark.parametrize(
    ("cls", "vertexai"), [(GeminiKeyframes, True), (GeminiKeyframes, False), (VeoVideo, True)]
)
def test_missing_key_is_config_error(gsim: SimServer, cls: Any, vertexai: bool) -> None:
    with pytest.raises(ConfigError) as ei:
        cls.from_settings(_settings(gsim, vertexai=vertexai), NO_KEY)
    msg = str(ei.value)
    assert "GOOGLE_API_KEY" in msg and "GEMINI_API_KEY" in msg
    assert "preset google" in msg and ("video" in msg or "keyframes" in msg)
    assert "\n" not in msg
    assert _google_requests(gsim) == []


def test_unknown_model_and_option_are_config_errors(gsim: SimServer) -> None:
    s = _settings(gsim)
    s.video.model = "veo-9"
    with pytest.raises(ConfigError, match="veo-3-1-fast"):
        VeoVideo.from_settings(s, KEY)
    s = _settings(gsim)
    s.video.options = {"negativ_prompt": "x"}
    with pytest.raises(ConfigError, match="negative_prompt"):
        VeoVideo.from_settings(s, KEY)
    # a quoted switch used to be sent as bool("false"), i.e. true, on a paid clip
    s = _settings(gsim)
    s.video.options = {"enhance_prompt": "false"}
    with pytest.raises(ConfigError, match="enhance_prompt: 'false' is not allowed"):
        VeoVideo.from_settings(s, KEY)


@pytest.mark.parametrize("value", [["blurry", "text"], {"blurry": True}, True])
async def test_a_negative_prompt_that_is_not_text_is_refused_before_any_call(
    gsim: SimServer, tmp_path: Path, value: object
) -> None:
    """`negative_prompt: [blurry, text]` (a list, as YAML reads it) was sent as its
    Python text, "['blurry', 'text']", on every paid clip; `yes` as "True"."""
    s = _settings(gsim)
    s.video.options = {"negative_prompt": value}
    with pytest.raises(ConfigError) as ei:
        VeoVideo.from_settings(s, KEY)
    assert str(ei.value).startswith(
        f"video.options.negative_prompt: {value!r} is not allowed; allowed text"
    )
    s.video.options = {"negative_prompt": "blurry, text"}
    await VeoVideo.from_settings(s, KEY).submit(_video_req(tmp_path))
    (create,) = gsim.requests(path=":predictLongRunning")
    assert create["body"]["parameters"]["negativePrompt"] == "blurry, text"


@pytest.mark.parametrize(
    ("stage", "name", "value", "allowed"),
    [
        ("video", "person_generation", "everyone", "allow_adult, dont_allow, allow_all"),
        ("video", "person_generation", "ALLOW_ADULT", "allow_adult, dont_allow, allow_all"),
        ("keyframes", "person_generation", "allow_adult", "ALLOW_ALL, ALLOW_ADULT, ALLOW_NONE"),
        ("keyframes", "image_size", "2k", "1K, 2K, 4K"),
        ("keyframes", "image_size", "8K", "1K, 2K, 4K"),
    ],
)
def test_an_option_value_the_api_refuses_is_refused_naming_the_allowed_ones(
    gsim: SimServer, stage: str, name: str, value: str, allowed: str
) -> None:
    """person_generation and image_size were sent as written: a value the API refuses
    (400) failed each scene only at its first paid call of that stage, after the
    planner and, for Veo, every keyframe were paid. Building the provider (render, and
    doctor / estimate through check_options) now refuses it naming the allowed values."""
    from mindmovie.providers.google import check_options

    s = _settings(gsim)
    getattr(s, stage).options = {name: value}
    cls = VeoVideo if stage == "video" else GeminiKeyframes
    want = f"{stage}.options.{name}: {value!r} is not allowed; allowed {allowed}"
    with pytest.raises(ConfigError) as e:
        cls.from_settings(s, KEY)
    assert str(e.value) == want
    with pytest.raises(ConfigError, match="is not allowed"):
        check_options(s, stage)  # type: ignore[arg-type]
    assert _google_requests(gsim) == []


def test_imagen_is_refused_a_4k_image_size_gemini_takes(gsim: SimServer) -> None:
    """google-genai's GenerateImagesConfig (Imagen) takes image_size 1K and 2K; the check
    allowed Gemini's 4K for every keyframe model, so Imagen was sent 4K and refused at its
    first paid call. Gemini keeps 4K."""
    from mindmovie.providers.google import check_options

    s = _settings(gsim)
    s.keyframes.model = "imagen-4-0"
    s.keyframes.options = {"image_size": "4K"}
    want = "keyframes.options.image_size: '4K' is not allowed; allowed 1K, 2K"
    with pytest.raises(ConfigError) as e:
        GeminiKeyframes.from_settings(s, KEY)
    assert str(e.value) == want
    with pytest.raises(ConfigError) as e:
        check_options(s, "keyframes")
    assert str(e.value) == want
    s.keyframes.model = None  # the catalog's Gemini default
    GeminiKeyframes.from_settings(s, KEY)
    check_options(s, "keyframes")
    assert _google_requests(gsim) == []


async def test_an_option_set_to_null_is_left_out_of_the_request(gsim: SimServer) -> None:
    """`image_size:` / `person_generation:` left empty in YAML (null) were sent as the
    string "None", which the API refuses; now they are left out."""
    s = _settings(gsim)
    s.keyframes.options = {"image_size": None, "person_generation": None}
    kf = GeminiKeyframes.from_settings(s, KEY)
    await kf.generate(KeyframeRequest("s1", "a fox", 1344, 768, 7))
    (rec,) = _google_requests(gsim)
    assert rec["body"]["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9"}
    await kf.aclose()


async def test_a_video_option_set_to_null_is_left_out_of_the_create(
    gsim: SimServer, tmp_path: Path
) -> None:
    """`enhance_prompt:` left empty in YAML (null) was sent as `enhancePrompt: false`,
    turning Veo's prompt enhancement off (its default is on), and a 400 naming it was
    told as the scene's motion_prompt or seconds (`_refused_option` skips a null option
    as not sent); now it is left out, as a null keyframe option is."""
    settings = _settings(gsim)
    settings.video.options = {"enhance_prompt": None, "negative_prompt": None}
    veo = VeoVideo.from_settings(settings, KEY)
    await veo.submit(_video_req(tmp_path))
    await veo.aclose()
    (create,) = gsim.requests(path=":predictLongRunning")
    params = create["body"]["parameters"]
    assert "enhancePrompt" not in params
    assert "negativePrompt" not in params


def test_render_with_a_refused_option_value_exits_2_before_the_planner_is_paid(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the CLI with the google preset: exit 2, one line naming the allowed
    values, and no request to any provider (the planner is not paid)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from tests.integration.support import goals_file

    goals = goals_file(tmp_path, sim)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("GOOGLE_API_KEY", "g")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "preset: google\n"
        "video: {options: {person_generation: everyone}}\n"
        f"providers:\n  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  google: {{base_url: '{sim.base_url}'}}\n"
    )
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"]
    )
    assert r.exit_code == 2, r.output
    assert "allowed allow_adult, dont_allow, allow_all" in r.output.replace("\n", "")
    assert "Traceback" not in r.output
    assert sim.stats()["requests"] == 0


def test_project_mode_uses_adc_not_the_key(gsim: SimServer, adc_file: Path) -> None:
    s = _settings(gsim, project="my-proj", location="us-central1")
    veo = VeoVideo.from_settings(s, KEY)  # builds without credentials (loaded on first call)
    assert veo.mode.kind == "project" and veo.mode.api_key is None
    assert describe_mode(s, NO_KEY) == "vertex project my-proj/us-central1 (ADC)"
    with pytest.raises(ConfigError, match="location"):
        VeoVideo.from_settings(_settings(gsim, project="my-proj"), KEY)
    assert _google_requests(gsim) == []


def test_describe_mode(gsim: SimServer) -> None:
    assert describe_mode(_settings(gsim), KEY) == "vertex express (API key)"
    assert describe_mode(_settings(gsim, vertexai=False), KEY) == "developer (API key)"
    assert "GOOGLE_API_KEY" in describe_mode(_settings(gsim), NO_KEY)
    assert "test-google-key" not in repr(Mode("express", api_key="test-google-key"))


def test_no_sdk_retry_options(gsim: SimServer) -> None:
    """One attempt, set as retry options: with none set, google-genai sends a request
    again by itself when aiohttp (its optional transport) loses the connection."""
    veo = VeoVideo.from_settings(_settings(gsim, timeout=12.5), KEY)
    opts = veo.client._api_client._http_options
    assert opts.retry_options is not None and opts.retry_options.attempts == 1
    assert opts.timeout == 12500
    assert opts.base_url == gsim.base_url


def test_the_sdk_does_not_repeat_the_two_key_variables_warning(
    gsim: SimServer,
    adc_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """google-genai logs "Both GOOGLE_API_KEY and GEMINI_API_KEY are set" for each client
    it builds (keyframes and video: twice a render), with the key passed explicitly and
    with the same key in both. mindmovie says it once per command, only when the keys
    differ (config.key_conflicts, tested in test_config)."""
    import logging

    monkeypatch.setenv("GOOGLE_API_KEY", "g-key-1")
    monkeypatch.setenv("GEMINI_API_KEY", "g-key-2")
    with caplog.at_level(logging.DEBUG):
        GeminiKeyframes.from_settings(_settings(gsim), KEY)
        VeoVideo.from_settings(_settings(gsim), KEY)
        VeoVideo.from_settings(_settings(gsim, project="my-proj", location="us-central1"), KEY)
    assert not [r for r in caplog.records if "GEMINI_API_KEY" in r.getMessage()]


def test_from_registry(gsim: SimServer) -> None:
    from mindmovie.providers import registry

    s = _settings(gsim)
    assert isinstance(registry.make_keyframes(s, KEY), GeminiKeyframes)
    assert isinstance(registry.make_video(s, KEY), VeoVideo)


async def test_state_from_an_older_run_without_bytes_is_refetched(
    gsim: SimServer, tmp_path: Path
) -> None:
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    req = _video_req(tmp_path)
    rid = await veo.submit(req)
    out = await veo.fetch(JobState(rid, "succeeded"), req, tmp_path / "c.mp4")
    assert probe(out).video is not None
    assert len(gsim.requests(path=":fetchPredictOperation")) == 1


async def test_project_mode_without_adc_is_auth_error(
    gsim: SimServer, tmp_path: Path, adc_file: Path
) -> None:
    """The call's own mapping, for credentials that go away after the provider is built
    (a file found unusable at build time is refused there: the test below)."""
    s = _settings(gsim, project="my-proj", location="us-central1")
    veo = VeoVideo.from_settings(s, KEY)
    adc_file.unlink()
    with pytest.raises(AuthError, match="Application Default Credentials"):
        await veo.submit(_video_req(tmp_path))
    assert _google_requests(gsim) == []


async def test_project_mode_sends_veo_and_gemini_with_adc_to_the_project_path(
    gsim: SimServer, adc_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """providers.google.project + location: ADC (the real google-auth, its token fetched
    from the simulator) authenticates; the Veo create and the Gemini keyframe go to
    /v1beta1/projects/<p>/locations/<l>/..., the operation is polled by its name until
    done, the inlined clip is written, and the API key (present in Keys) is never sent."""
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    gsim.min_polls = 2  # the first poll sees a running operation
    s = _settings(gsim, project="my-proj", location="europe-west4")
    prefix = "/v1beta1/projects/my-proj/locations/europe-west4/publishers/google/models"

    veo = VeoVideo.from_settings(s, KEY)
    assert veo.mode.kind == "project"
    req = _video_req(tmp_path)
    remote_id = await veo.submit(req)
    assert "/operations/" in remote_id
    assert (await veo.poll(remote_id)).status == "running"
    state = await veo.poll(remote_id)
    assert state.status == "succeeded" and state.video_bytes
    dest = await veo.fetch(state, req, tmp_path / "out" / "clip.mp4")
    assert abs(probe(dest).duration - 4.0) <= 0.5
    await veo.aclose()

    kf = GeminiKeyframes.from_settings(s, KEY)
    img = await kf.generate(KeyframeRequest("s1", "a fox", 1344, 768, 7))
    assert img.data.startswith(b"\x89PNG\r\n\x1a\n")
    await kf.aclose()

    (create,) = gsim.requests(path=":predictLongRunning")
    assert create["path"] == f"{prefix}/{veo.model}:predictLongRunning"
    inst = create["body"]["instances"][0]
    assert inst["prompt"] == req.prompt
    assert _b64(inst["image"]["bytesBase64Encoded"]) == req.keyframe.read_bytes()
    assert create["body"]["parameters"]["seed"] == 11  # a Vertex-only parameter
    polls = gsim.requests(path=":fetchPredictOperation")
    assert len(polls) == 2  # polled until done; the fetch used the inlined bytes
    parent = remote_id.rsplit("/operations/", 1)[0]
    assert parent.endswith(f"/publishers/google/models/{veo.model}")
    for poll in polls:
        assert poll["method"] == "POST"
        assert poll["path"] == f"/v1beta1/{parent}:fetchPredictOperation"
        assert poll["body"] == {"operationName": remote_id}
    (gen,) = gsim.requests(path=":generateContent")
    assert gen["path"] == f"{prefix}/{kf.model}:generateContent"

    sent = _google_requests(gsim)
    assert len(sent) == 4
    for rec in sent:  # ADC's bearer token, never the API key
        names = {k.lower() for k in rec["headers"]}
        assert "authorization" in names and "x-goog-api-key" not in names
    # each client (Veo's, then Gemini's) fetched a token once, and reused it for each call
    asked = [r["path"] == "/token" for r in gsim.requests() if not r["path"].startswith("/_sim")]
    assert asked == [True, False, False, False, True, False], asked
    for token in gsim.requests(path="/token"):  # what the service account asked for
        claims = jwt_claims(token["body"]["assertion"])
        assert "https://www.googleapis.com/auth/cloud-platform" in claims["scope"].split()


@pytest.mark.parametrize("failure", ["transport", "refresh"])
async def test_an_adc_token_that_cannot_be_fetched_is_retried_only_if_the_network_failed(
    gsim: SimServer, adc_file: Path, tmp_path: Path, failure: str
) -> None:
    """ADC's token refresh (google-auth, before any request) failing on the network is a
    Transient the retry policy may retry; refused credentials are an AuthError naming
    ADC. Either way nothing reaches the API."""
    if failure == "transport":  # the connection closed with no answer
        gsim.add_fault("drop", path="/token")
    else:  # as Google's token endpoint refuses a key it does not know (or revoked)
        bad = "Invalid JWT Signature."
        gsim.add_fault("http", path="/token", status=400, code="invalid_grant", message=bad)
    veo = VeoVideo.from_settings(_settings(gsim, project="my-proj", location="us-central1"), KEY)
    with pytest.raises(Transient if failure == "transport" else AuthError) as ei:
        await veo.submit(_video_req(tmp_path))
    if failure == "transport":
        assert not isinstance(ei.value, AuthError) and "credential refresh failed" in str(ei.value)
    else:
        assert "Application Default Credentials" in str(ei.value)
        assert "invalid_grant" in str(ei.value)
    assert len(gsim.requests(path="/token")) == 1
    assert _google_requests(gsim) == []


async def test_a_trickling_developer_download_hits_its_deadline(
    gsim: SimServer, tmp_path: Path
) -> None:
    """files.download gets the SDK's per-read timeout only; a link that keeps sending a
    few bytes would never trip it. The whole download has a deadline (download_timeout),
    then it is a Transient and the SAME operation's file is fetched again."""
    veo, state = await _developer_veo(gsim, download_timeout=0.6)
    req = _video_req(tmp_path)
    gsim.add_fault("trickle", path=":download", seconds=3.0, count=1)
    t0 = time.monotonic()
    with pytest.raises(Transient, match="took longer than"):
        await veo.fetch(state, req, tmp_path / "clip.mp4")
    assert time.monotonic() - t0 < 2.0  # stopped at the deadline, not after the 3 s body
    assert not (tmp_path / "clip.mp4").exists()
    out = await veo.fetch(state, req, tmp_path / "clip.mp4")
    assert abs(probe(out).duration - 4.0) <= 0.5
    assert len(gsim.requests(path=":download")) == 2


async def test_a_vertex_poll_carrying_the_video_that_trickles_hits_its_deadline(
    gsim: SimServer, tmp_path: Path
) -> None:
    """lessons.md: "downloads with no timeout". In Vertex mode (the only one Veo runs in)
    the finished operation's poll answer carries the video inline: it is the download,
    and the SDK's timeout is per read, so an answer sent a piece at a time inside it
    never ended. Each call's answer has a deadline (the timeout plus download_timeout):
    past it the poll is a ConnectionLost (a Transient: the SAME operation is polled
    again), and the next poll gets the video."""
    veo = VeoVideo.from_settings(_settings(gsim, timeout=2, download_timeout=2), KEY)
    rid = await veo.submit(_video_req(tmp_path))
    # ten pieces 0.8 s apart (each inside the 2 s timeout), 8 s in all; deadline 4 s
    gsim.add_fault("slow_answer", path=":fetchPredictOperation", seconds=8.0, count=1)
    t0 = time.monotonic()
    with pytest.raises(ConnectionLost, match="took longer than 4 s") as e:
        await veo.poll(rid)
    assert isinstance(e.value, Transient)
    assert 4.0 - 1e-3 <= time.monotonic() - t0 < 7.0
    state = await veo.poll(rid)
    assert state.status == "succeeded" and state.video_bytes
    assert len(gsim.requests(path=":predictLongRunning")) == 1
    await veo.aclose()


@pytest.mark.parametrize("stage", ["keyframes", "video"])
async def test_the_answer_deadline_counts_from_the_answer_not_the_wait_before_it(
    gsim: SimServer, tmp_path: Path, stage: str
) -> None:
    """The answer's deadline bounds the answer (its body, sent a piece at a time), not
    what comes before its first byte: the request's upload (reference photos, Veo's
    keyframe, inline as base64) and the model's work, each bounded by the SDK's own
    timeout. Counted from the call, a slow uplink failed every call as a lost answer (a
    Veo create then kept as maybe billed). Here the answer begins 3 s in (inside the 5 s
    timeout), past a 2 s answer deadline, and comes at once."""
    path = ":generateContent" if stage == "keyframes" else ":predictLongRunning"
    gsim.add_fault("delay", path=path, method="POST", seconds=3.0, count=1)
    s = _settings(gsim, timeout=5)
    model: GeminiKeyframes | VeoVideo
    if stage == "keyframes":
        model = GeminiKeyframes.from_settings(s, KEY)
    else:
        model = VeoVideo.from_settings(s, KEY)
    model._ctx = dataclasses.replace(model._ctx, deadline=2.0)
    if isinstance(model, VeoVideo):
        assert await model.submit(_video_req(tmp_path))
    else:
        req = KeyframeRequest(scene_id="s1", prompt="p", width=64, height=36, seed=1)
        assert (await model.generate(req)).data.startswith(b"\x89PNG")
    assert len(gsim.requests(path=path)) == 1
    await model.aclose()


def test_download_timeout_comes_from_the_settings(gsim: SimServer) -> None:
    veo = VeoVideo.from_settings(_settings(gsim, download_timeout=42), KEY)
    assert veo.download_timeout == 42
    assert VeoVideo.from_settings(_settings(gsim), KEY).download_timeout == 120


AUTHORIZED_USER = {
    "type": "authorized_user",
    "client_id": "id.apps.googleusercontent.com",
    "client_secret": "not-a-secret",
    "refresh_token": "not-a-token",
}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[]", "not a credentials file (its JSON is not an object)"),
        ('"a string"', "not a credentials file (its JSON is not an object)"),
        ("{not json", "is not a valid json file"),
        ('{"type": "nope"}', "does not have a valid type"),
        (None, "was not found"),
    ],
)
def test_project_mode_refuses_unusable_adc_before_anything_runs(
    gsim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str | None,
    words: str,
) -> None:
    """Vertex project mode with GOOGLE_APPLICATION_CREDENTIALS naming a file google-auth
    cannot use: the first google call failed, after the planner's paid call, and a JSON
    that is not an object (`[]`) ended the render in a traceback (an AttributeError
    inside google-auth). Building the provider, before any work, now refuses it in one
    line naming the file and the fix; no request is sent."""
    adc = tmp_path / "adc.json"
    if content is not None:
        adc.write_text(content)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    s = _settings(gsim, project="my-proj", location="us-central1")
    for provider in (VeoVideo, GeminiKeyframes):
        with pytest.raises(ConfigError) as e:
            provider.from_settings(s, NO_KEY)
        msg = str(e.value)
        assert str(adc) in msg and words in msg, msg
        assert "gcloud auth application-default login" in msg and "\n" not in msg
    adc.write_text(json.dumps(AUTHORIZED_USER))  # a usable file: built, nothing sent
    assert VeoVideo.from_settings(s, NO_KEY).mode.kind == "project"
    assert _google_requests(gsim) == []


def test_render_with_unusable_adc_exits_2_before_the_planner_is_paid(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through the CLI, with the google preset (Claude plans, then Gemini and
    Veo): exit 2, the one-line error, no traceback, and no request to any provider."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from tests.integration.support import goals_file

    goals = goals_file(tmp_path, sim)
    adc = tmp_path / "adc.json"
    adc.write_text("[]")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "preset: google\n"
        f"providers:\n  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  google: {{base_url: '{sim.base_url}', project: p, location: us-central1}}\n"
    )
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"]
    )
    assert r.exit_code == 2, r.output
    assert "not a credentials file" in r.output and str(adc) in r.output.replace("\n", "")
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    assert sim.stats()["requests"] == 0


def _no_adc_here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, vm: bool) -> None:
    """No credentials file anywhere google-auth looks, on a machine that does (vm) or
    does not say it is a Compute Engine VM, and no hosted runtime's variable."""
    from mindmovie import doctor

    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("NO_GCE_CHECK", raising=False)
    for var, _ in doctor.HOSTED_ON_GOOGLE:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    machine = tmp_path / "product_name"
    machine.write_text("Google Compute Engine\n" if vm else "Standard PC (Q35)\n")
    monkeypatch.setattr(doctor, "GCE_PRODUCT_NAME_FILE", machine)


def test_project_mode_without_any_adc_is_refused_where_doctor_fails(
    gsim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Vertex project mode with no credentials file and no metadata server to ask:
    doctor said FAIL, yet the provider built, so a render paid the planner and then
    every google call failed ("no usable Application Default Credentials"). Building
    now refuses it in doctor's words; a Compute Engine VM (credentials from its
    metadata server, which nothing asks before the render) still builds."""
    _no_adc_here(monkeypatch, tmp_path, vm=False)
    s = _settings(gsim, project="my-proj", location="us-central1")
    for provider in (VeoVideo, GeminiKeyframes):
        with pytest.raises(ConfigError) as e:
            provider.from_settings(s, KEY)
        msg = str(e.value)
        assert "no Application Default Credentials found" in msg and "\n" not in msg
        assert "gcloud auth application-default login" in msg
    _no_adc_here(monkeypatch, tmp_path, vm=True)
    assert VeoVideo.from_settings(s, KEY).mode.kind == "project"
    assert _google_requests(gsim) == []


@pytest.mark.parametrize(
    ("given", "missing"), [("project: p", "location"), ("location: us-central1", "project")]
)
def test_project_mode_missing_half_is_told_at_the_config_line_of_the_other(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, missing: str
) -> None:
    """providers.google.project without location (or the other way round): the error
    named no file or line, unlike every other settings mistake. It now starts with where
    the half that is set was written, as `_located` puts it for the others."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from tests.integration.support import goals_file

    goals = goals_file(tmp_path, sim)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "preset: google\n"
        f"providers:\n  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  google:\n    base_url: '{sim.base_url}'\n    {given}\n"
    )
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"]
    )
    assert r.exit_code == 2, r.output
    key = given.split(":")[0]
    assert f"error: {cfg}:6: providers.google.{key}: " in r.output, r.output
    assert f"needs providers.google.{missing}" in r.output
    assert "Traceback" not in r.output
    assert sim.stats()["requests"] == 0


@pytest.mark.parametrize(
    ("stages", "also", "said"),
    [
        ("", "", "Veo needs Vertex mode"),
        ("keyframes: {model: imagen-4-0-fast}\n", "", "imagen-4-0-fast needs Vertex mode"),
        (
            "planner: {provider: local}\nvideo: {provider: local}\n",
            "    project: my-proj\n    location: us-central1\n",
            "providers.google.project and providers.google.location are set",
        ),
    ],
)
def test_developer_mode_refusals_are_told_at_the_config_line_of_vertexai(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stages: str,
    also: str,
    said: str,
) -> None:
    """providers.google.vertexai: false (developer mode) with Veo, or with an Imagen
    keyframe model: both errors named no file or line, unlike every other settings
    mistake. They now start with the setting, and the CLI puts where it was written in
    front (vertexai defaults to true, so developer mode is always written somewhere).
    With a project and location set too (Gemini keyframes, local clips), the render ran
    in developer mode with GOOGLE_API_KEY and no word of the two it left out, and doctor
    said "developer (API key)", ok (google-genai refuses project/location outside
    Vertex): refused the same way."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from tests.integration.support import goals_file

    goals = goals_file(tmp_path, sim)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("GOOGLE_API_KEY", "g-test")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"preset: google\n{stages}"
        f"providers:\n  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  google:\n    base_url: '{sim.base_url}'\n    vertexai: false\n{also}"
    )
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"]
    )
    assert r.exit_code == 2, r.output
    line = 6 + stages.count("\n")
    assert f"error: {cfg}:{line}: providers.google.vertexai: " in r.output, r.output
    assert said in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output
    assert sim.stats()["requests"] == 0


@pytest.mark.parametrize(
    ("keyframes", "said"),
    [("", "Veo needs Vertex mode"), ("keyframes: {model: imagen-4-0-fast}\n", "imagen-4-0-fast")],
)
def test_estimate_refuses_in_developer_mode_what_render_refuses(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keyframes: str, said: str
) -> None:
    """`estimate` with providers.google.vertexai: false priced the Veo clips (or Imagen
    keyframes) that `render` then refused before anything ran (exit 2), with no word
    of it; doctor failed it. It now refuses them as render does, at the setting's line."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from tests.integration.support import goals_file

    goals = goals_file(tmp_path, sim)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.setenv("GOOGLE_API_KEY", "g-test")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"preset: google\n{keyframes}"
        f"providers:\n  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  google:\n    base_url: '{sim.base_url}'\n    vertexai: false\n"
    )
    r = CliRunner().invoke(
        app, ["estimate", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run")]
    )
    assert r.exit_code == 2, r.output
    line = 7 if keyframes else 6
    assert f"error: {cfg}:{line}: providers.google.vertexai: " in r.output, r.output
    assert said in r.output and "needs Vertex mode" in r.output
    assert sim.stats()["requests"] == 0


def test_render_in_project_mode_without_any_adc_exits_2_before_the_planner_is_paid(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from tests.integration.support import goals_file

    goals = goals_file(tmp_path, sim)
    _no_adc_here(monkeypatch, tmp_path, vm=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "preset: google\n"
        f"providers:\n  anthropic: {{base_url: '{sim.base_url}'}}\n"
        f"  google: {{base_url: '{sim.base_url}', project: p, location: us-central1}}\n"
    )
    r = CliRunner().invoke(
        app, ["render", str(goals), "-c", str(cfg), "--out", str(tmp_path / "run"), "--yes"]
    )
    assert r.exit_code == 2, r.output
    assert "no Application Default Credentials found" in r.output.replace("\n", " ")
    assert "Traceback" not in r.output
    assert sim.stats()["requests"] == 0


async def test_an_imagen_keyframe_is_asked_by_predict_not_generate_content(
    gsim: SimServer, tmp_path: Path
) -> None:
    """keyframes.model imagen-4-0 (in the catalog) was sent generateContent, which Imagen
    does not answer (provider-wire.md §2: Imagen is :predict, generate_images): every
    keyframe failed after the planner was paid. It now goes to :predict with the ratio,
    one sample, the seed (the watermark off, which a seed needs) and the options;
    reference photos are not sent (the model takes none)."""
    s = _settings(gsim)
    s.keyframes.model = "imagen-4-0"
    s.keyframes.options = {"image_size": "2K", "person_generation": "ALLOW_NONE"}
    kf = GeminiKeyframes.from_settings(s, KEY)
    req = KeyframeRequest(
        "s1", "a fox", 1408, 768, 7, style="ink", reference_photos=[_png(tmp_path / "r.png")]
    )
    img = await kf.generate(req)
    assert img.data.startswith(b"\x89PNG\r\n\x1a\n") and img.mime == "image/png"
    assert img.usage == {"generated_images": 1}
    (rec,) = _google_requests(gsim)
    assert rec["path"] == "/v1beta1/publishers/google/models/imagen-4.0-generate-001:predict"
    assert rec["body"]["instances"] == [{"prompt": "a fox\nStyle: ink"}]
    params = rec["body"]["parameters"]
    assert params["sampleCount"] == 1 and params["aspectRatio"] == "16:9"
    assert params["seed"] == 7 and params["addWatermark"] is False
    assert params["sampleImageSize"] == "2K" and params["personGeneration"] == "DONT_ALLOW"
    gsim.add_fault(
        "patch",
        path=":predict",
        body={"predictions": [{"raiFilteredReason": "Filtered (58061214)"}]},
    )
    with pytest.raises(ContentRejected, match="Filtered \\(58061214\\)") as e:
        await kf.generate(req)
    assert e.value.scene_id == "s1" and not e.value.billed
    await kf.aclose()


def test_an_imagen_keyframe_model_in_developer_mode_is_refused_before_any_request(
    gsim: SimServer,
) -> None:
    """google-genai refuses generate_images in developer mode (a ValueError at each call,
    after the planner was paid): refused when the provider is built, naming the fix."""
    s = _settings(gsim, vertexai=False)
    s.keyframes.model = "imagen-4-0-fast"
    with pytest.raises(ConfigError, match="imagen-4-0-fast needs Vertex mode") as e:
        GeminiKeyframes.from_settings(s, KEY)
    assert "providers.google.vertexai: true" in str(e.value) and "\n" not in str(e.value)
    s.keyframes.model = None  # Gemini keyframes work in developer mode
    assert GeminiKeyframes.from_settings(s, KEY).mode.kind == "developer"
    assert _google_requests(gsim) == []


def test_a_gemini_person_generation_in_developer_mode_is_refused_before_any_request(
    gsim: SimServer,
) -> None:
    """google-genai refuses ImageConfig.person_generation in developer mode (a ValueError
    at each generate_content, "only supported in Gemini Enterprise Agent Platform mode"):
    every keyframe failed after the planner was paid, told "Veo needs Vertex mode". It is
    refused when the provider is built, and by the option check estimate and doctor make,
    led by the setting and naming the fix."""
    from mindmovie.providers import google as google_provider

    s = _settings(gsim, vertexai=False)
    s.keyframes.options = {"person_generation": "ALLOW_ADULT"}
    with pytest.raises(ConfigError) as e:
        GeminiKeyframes.from_settings(s, KEY)
    said = str(e.value)
    assert said.startswith("keyframes.options.person_generation:") and "\n" not in said
    assert "providers.google.vertexai: true" in said and "Veo" not in said
    with pytest.raises(ConfigError, match=r"^keyframes\.options\.person_generation:"):
        google_provider.check_options(s, "keyframes")
    assert _google_requests(gsim) == []
    # in Vertex mode it is sent (test_gemini_keyframe_sends_seed_style_and_image_options)
    s = _settings(gsim)
    s.keyframes.options = {"person_generation": "ALLOW_ADULT"}
    google_provider.check_options(s, "keyframes")
    assert GeminiKeyframes.from_settings(s, KEY).mode.kind == "express"


# ---------------------------------------------------------------------------- mutation audit
async def test_gemini_keyframe_sends_seed_style_and_image_options(
    gsim: SimServer, tmp_path: Path
) -> None:
    """What the person configured reaches generateContent: the seed (a re-render makes
    the same picture), the style line, keyframes.options image_size/person_generation."""
    settings = _settings(gsim)
    settings.keyframes.options = {"image_size": "2K", "person_generation": "ALLOW_ADULT"}
    kf = GeminiKeyframes.from_settings(settings, KEY)
    await kf.generate(KeyframeRequest("s1", "a fox", 1344, 768, 1234, style="watercolour"))
    (rec,) = _google_requests(gsim)
    gen = rec["body"]["generationConfig"]
    assert gen["seed"] == 1234
    assert gen["imageConfig"]["imageSize"] == "2K"
    assert gen["imageConfig"]["personGeneration"] == "ALLOW_ADULT"
    text = rec["body"]["contents"][0]["parts"][0]["text"]
    assert text == "a fox\nStyle: watercolour"
    await kf.aclose()


async def test_gemini_safety_block_says_it_was_the_content_filter(gsim: SimServer) -> None:
    gsim.add_fault("reject", path=":generateContent")
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(ContentRejected) as ei:
        await kf.generate(KeyframeRequest("s3", "something", 1344, 768, 7))
    assert "blocked by the content filter (finish reason IMAGE_SAFETY)" in str(ei.value)


async def test_gemini_is_sent_the_photos_it_takes_and_the_rest_left_out(
    gsim: SimServer, tmp_path: Path
) -> None:
    """gemini-2.5-flash-image takes at most 3 inline photos, a source photo counted: a
    scene with more is sent the first ones (the source photo first) and the rest are left
    out, as Seedream does (the pipeline warns of them, naming them, before any keyframe
    is paid for). Before, the scene failed: a goal with 4 photos could never be drawn."""
    refs = tuple(_png(tmp_path / f"r{i}.png", variant=i) for i in range(5))
    src = _png(tmp_path / "src.png", variant=9)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    for source, sent in ((None, refs[:3]), (src, (src, *refs[:2]))):
        gsim.reset()
        gsim.media_scale = 0.125
        img = await kf.generate(
            KeyframeRequest("s1", "x", 1344, 768, 7, reference_photos=refs, source_photo=source)
        )
        assert img.data.startswith(b"\x89PNG")
        (rec,) = _google_requests(gsim)
        parts = rec["body"]["contents"][0]["parts"]
        inline = [_b64(p["inlineData"]["data"]) for p in parts if "inlineData" in p]
        assert inline == [p.read_bytes() for p in sent], source
    await kf.aclose()


async def test_gemini_photos_together_fit_one_request(gsim: SimServer, tmp_path: Path) -> None:
    """Three phone photos of ~6 MB, each under SEND_MAX_BYTES, went inline as they were:
    ~24 MB of base64 in one request, over the 20 MB a Gemini request may be. Each now
    gets its share of GEMINI_INLINE_PHOTO_BYTES, and one over it is sent smaller."""
    import os

    from PIL import Image

    from mindmovie.providers.google import GEMINI_INLINE_PHOTO_BYTES

    refs = []
    for i in range(3):
        noise = Image.frombytes("RGB", (1500, 1400), os.urandom(1500 * 1400 * 3))
        refs.append(tmp_path / f"r{i}.png")
        noise.save(refs[-1], compress_level=1)
    assert sum(p.stat().st_size for p in refs) > GEMINI_INLINE_PHOTO_BYTES
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    gsim.media_scale = 0.125
    await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7, reference_photos=tuple(refs)))
    await kf.aclose()
    (rec,) = _google_requests(gsim)
    parts = rec["body"]["contents"][0]["parts"]
    inline = [_b64(p["inlineData"]["data"]) for p in parts if "inlineData" in p]
    assert len(inline) == 3
    assert sum(len(b) for b in inline) <= GEMINI_INLINE_PHOTO_BYTES, [len(b) for b in inline]


async def test_veo_sends_the_video_options_and_a_uint32_seed(
    gsim: SimServer, tmp_path: Path
) -> None:
    """video.options person_generation and enhance_prompt (false) reach the create; the
    seed -1 (settings allow Seedance's -1) is sent as Veo's uint32 2**32 - 1."""
    settings = _settings(gsim)
    settings.video.options = {"person_generation": "allow_adult", "enhance_prompt": False}
    await VeoVideo.from_settings(settings, KEY).submit(_video_req(tmp_path, seed=-1))
    (create,) = gsim.requests(path=":predictLongRunning")
    params = create["body"]["parameters"]
    assert params["personGeneration"] == "allow_adult"
    assert params["enhancePrompt"] is False
    assert params["seed"] == 2**32 - 1


async def test_veo_in_developer_mode_is_refused_by_the_sdk_with_the_fix(
    gsim: SimServer, tmp_path: Path
) -> None:
    """A VeoVideo built on a developer-mode client (not through from_settings, which
    refuses it): the SDK's ValueError is an InvalidRequest that says how to fix it, and
    nothing is sent."""
    veo, _ = await _developer_veo(gsim)
    before = len(gsim.requests(path=":predictLongRunning"))
    with pytest.raises(InvalidRequest, match=r"Veo needs Vertex mode: set providers\.google"):
        await veo.submit(_video_req(tmp_path))
    assert len(gsim.requests(path=":predictLongRunning")) == before


async def test_veo_operation_error_naming_a_policy_is_rejected(
    gsim: SimServer, tmp_path: Path
) -> None:
    """A finished operation whose error says the prompt broke the usage guidelines is a
    content refusal (rejected: soften the prompt), not a failure to retry as is."""
    gsim.add_fault(
        "fail",
        path=":predictLongRunning",
        code=3,
        message="The prompt could not be submitted: it violates our usage guidelines.",
    )
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    state = await veo.poll(await veo.submit(_video_req(tmp_path)))
    assert state.status == "rejected"
    assert (
        state.error
        == "The prompt could not be submitted: it violates our usage guidelines. (code 3)"
    )


async def test_project_mode_auth_error_names_adc_and_the_project(
    gsim: SimServer, adc_file: Path, tmp_path: Path
) -> None:
    """A 403 in project mode is about ADC and the project's access, not an API key."""
    gsim.add_fault("http", path=":predictLongRunning", status=403)
    veo = VeoVideo.from_settings(_settings(gsim, project="my-proj", location="us-central1"), KEY)
    with pytest.raises(AuthError) as ei:
        await veo.submit(_video_req(tmp_path))
    msg = str(ei.value)
    assert "Application Default Credentials" in msg and "project my-proj" in msg
    assert "GOOGLE_API_KEY" not in msg


async def test_gemini_usage_is_the_answers_token_counts(gsim: SimServer) -> None:
    """Gemini images are billed per token, input and output at their own rates: usage
    carries the answer's prompt and candidate counts, each in its own key."""
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    img = await kf.generate(KeyframeRequest("s1", "a fox", 1344, 768, 7))
    stats = gsim.stats()["models"][kf.model]
    assert img.usage == {
        "input_tokens": stats["input_tokens"],
        "output_tokens": stats["output_tokens"],
        "total_tokens": stats["input_tokens"] + stats["output_tokens"],
    }
    assert img.usage["input_tokens"] != img.usage["output_tokens"]


async def test_gemini_3_1_flash_image_can_be_chosen_and_is_priced_as_billed(
    gsim: SimServer, tmp_path: Path
) -> None:
    """gemini-2.5-flash-image, the google preset's default keyframe model, has a shutdown
    date (2026-10-02) on Google's deprecations page, and Imagen 4 is going too: with its
    successor refused as "not a known google keyframes model", a person whose default
    answered 404 had no Gemini image model left to choose. gemini-3.1-flash-image can be
    chosen (`keyframes.model`), is sent by its id, and its estimate ($60 per 1M image
    tokens x 1,120 a 1K image) is what its answer's usage bills."""
    from mindmovie import costs

    settings = _settings(gsim).model_copy(deep=True)
    settings.keyframes.model = "gemini-3-1-flash-image"
    spec = costs.stage_spec(settings, "keyframes")
    assert spec is not None and spec.id == "gemini-3.1-flash-image"
    kf = GeminiKeyframes.from_settings(settings, KEY)
    req = KeyframeRequest(
        scene_id="s1", prompt="me on a beach", width=1280, height=720, seed=7, aspect="16:9"
    )
    img = await kf.generate(req)
    assert img.usage["output_tokens"] == 1120
    (rec,) = _google_requests(gsim)
    assert rec["path"].endswith("/models/gemini-3.1-flash-image:generateContent")
    kw: dict[str, Any] = {"seconds": 5, "resolution": "720p", "ratio": "16:9", "audio": False}
    billed, how = costs.billed_usd("keyframe", spec, {"output_tokens": 1120}, **kw)
    assert how == "usage" and billed == costs.estimate_keyframe(settings).usd
    assert billed == pytest.approx(0.0672)


async def test_gemini_text_answer_without_an_image_is_rejected_and_billed(gsim: SimServer) -> None:
    """An answer of text only (no image, no filter reason) still billed its output
    tokens: ContentRejected, billed, quoting what the model said."""
    gsim.add_fault(
        "patch",
        path=":generateContent",
        body={
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": "I would rather not."}]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 20,
                "candidatesTokenCount": 6,
                "totalTokenCount": 26,
            },
        },
    )
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    with pytest.raises(ContentRejected) as ei:
        await kf.generate(KeyframeRequest("s2", "x", 1344, 768, 7))
    msg = str(ei.value)
    assert "no image in the answer (finish reason STOP); model said: I would rather not." in msg
    assert ei.value.billed is True and ei.value.scene_id == "s2"


async def test_veo_refusal_before_any_request_names_the_scene(
    gsim: SimServer, tmp_path: Path
) -> None:
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(InvalidRequest) as ei:
        await veo.submit(_video_req(tmp_path, scene_id="02-career-1", seconds=5.0))
    assert ei.value.scene_id == "02-career-1"
    assert _google_requests(gsim) == []


async def test_veo_state_usage_says_what_was_made(gsim: SimServer, tmp_path: Path) -> None:
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    state = await veo.poll(await veo.submit(_video_req(tmp_path)))
    assert state.status == "succeeded" and state.usage == {"videos": 1, "model": veo.model}
    gsim.add_fault("reject", path=":predictLongRunning")
    state = await veo.poll(await veo.submit(_video_req(tmp_path)))
    assert state.status == "rejected" and state.usage == {"rai_media_filtered_count": 1}


async def test_veo_filter_reasons_without_a_count_are_still_the_filter(
    gsim: SimServer, tmp_path: Path
) -> None:
    """A done operation with raiMediaFilteredReasons and no count is a content-filter
    rejection naming the reason; one with neither (and no video) is a failed job: nothing
    says the filter refused it."""
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    rid = await veo.submit(_video_req(tmp_path))
    gsim.add_fault(
        "patch",
        path=":fetchPredictOperation",
        body={"response": {"raiMediaFilteredReasons": ["Child safety."]}},
    )
    gsim.add_fault("patch", path=":fetchPredictOperation", body={"response": {}})
    first = await veo.poll(rid)
    assert (first.status, first.error) == ("rejected", "content filter: Child safety.")
    second = await veo.poll(rid)
    assert second.status == "failed"
    assert second.error is not None and "a failed job, not a refusal" in second.error


async def test_veo_create_answer_without_a_name_is_job_failed(
    gsim: SimServer, tmp_path: Path
) -> None:
    """The create was carried out (the operation may be billed) but the answer names no
    operation: JobFailed, never a Transient that a retry would pay for again, and made
    (`ProviderError.made`: its ledger row stays counted; without it the row was refunded,
    an operation Google bills counted $0 by the ledger, --budget and status)."""
    gsim.add_fault("patch", path=":predictLongRunning", body={"name": None})
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(JobFailed, match="the create answer has no operation name") as ei:
        await veo.submit(_video_req(tmp_path))
    assert not isinstance(ei.value, Transient) and ei.value.scene_id == "s1"
    assert ei.value.made is True
    assert len(gsim.jobs()) == 1


async def test_veo_fetch_of_a_failed_operation_names_its_error(
    gsim: SimServer, tmp_path: Path
) -> None:
    gsim.add_fault("fail", path=":predictLongRunning", code=13, message="backend exploded")
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    req = _video_req(tmp_path)
    rid = await veo.submit(req)
    with pytest.raises(JobFailed, match=r"is failed: backend exploded \(code 13\)"):
        await veo.fetch(JobState(rid, "succeeded"), req, tmp_path / "clip.mp4")
    assert not (tmp_path / "clip.mp4").exists()


async def test_veo_video_only_in_cloud_storage_is_job_failed(
    gsim: SimServer, tmp_path: Path
) -> None:
    """Vertex answers a gcsUri instead of inline bytes only when output_gcs_uri is set
    (never by mindmovie): fetch says so rather than download the gs:// URI."""
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    req = _video_req(tmp_path)
    rid = await veo.submit(req)
    gcs = {"done": True, "response": {"videos": [{"gcsUri": "gs://b/v.mp4"}]}}
    gsim.add_fault("patch", path=":fetchPredictOperation", body=gcs, count=2)
    state = await veo.poll(rid)
    assert state.status == "succeeded" and state.video_url == "gs://b/v.mp4"
    assert not state.video_bytes
    with pytest.raises(JobFailed, match=r"only at gs://b/v\.mp4; fetching it needs Cloud Storage"):
        await veo.fetch(state, req, tmp_path / "clip.mp4")


async def test_veo_fetch_of_audio_without_video_is_transient(
    gsim: SimServer, tmp_path: Path
) -> None:
    """Bytes that play, but have no video stream (here a WAV), are a bad download."""
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * 4)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    req = _video_req(tmp_path)
    state = JobState("op", "succeeded", video_bytes=buf.getvalue())
    with pytest.raises(Transient, match="downloaded clip no video stream"):
        await veo.fetch(state, req, tmp_path / "clip.mp4")
    assert state.video_bytes is None and not (tmp_path / "clip.mp4").exists()


@pytest.mark.parametrize("vertexai", [True, False])
def test_missing_key_says_adc_is_the_other_way_in_express_mode_only(
    gsim: SimServer, vertexai: bool
) -> None:
    with pytest.raises(ConfigError) as ei:
        GeminiKeyframes.from_settings(_settings(gsim, vertexai=vertexai), NO_KEY)
    hint = "(or set providers.google.project and location to use ADC)"
    assert (hint in str(ei.value)) is vertexai


async def test_a_jpeg_keyframe_and_photo_are_sent_as_jpeg(gsim: SimServer, tmp_path: Path) -> None:
    """MIME types come from the bytes: a JPEG named .png is sent as image/jpeg, to
    Gemini (inline reference) and to Veo (the keyframe)."""
    from PIL import Image

    jpeg = tmp_path / "photo.png"
    Image.new("RGB", (64, 36), (1, 2, 3)).save(jpeg, "JPEG")
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7, reference_photos=(jpeg,)))
    await VeoVideo.from_settings(_settings(gsim), KEY).submit(_video_req(tmp_path, keyframe=jpeg))
    (gen,) = gsim.requests(path=":generateContent")
    (inline,) = [p["inlineData"] for p in gen["body"]["contents"][0]["parts"] if "inlineData" in p]
    assert inline.get("mime_type", inline.get("mimeType")) == "image/jpeg"
    (create,) = gsim.requests(path=":predictLongRunning")
    assert create["body"]["instances"][0]["image"]["mimeType"] == "image/jpeg"


async def test_a_gif_photo_is_sent_as_the_type_its_mime_says(
    gsim: SimServer, tmp_path: Path
) -> None:
    """goals.yaml takes any picture Pillow reads: a GIF went to Gemini as it was, its
    inline data labelled image/png. It goes as a PNG."""
    import io

    from PIL import Image

    gif = tmp_path / "party.gif"
    Image.new("RGB", (64, 36), (200, 20, 20)).convert("P").save(gif)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7, reference_photos=(gif,)))
    (gen,) = gsim.requests(path=":generateContent")
    (inline,) = [p["inlineData"] for p in gen["body"]["contents"][0]["parts"] if "inlineData" in p]
    with Image.open(io.BytesIO(_b64(inline["data"]))) as im:
        assert (inline.get("mime_type", inline.get("mimeType")), im.format) == ("image/png", "PNG")


async def test_photos_are_converted_off_the_event_loop(
    gsim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo Pillow turns or converts (a large phone JPEG takes seconds) was converted on
    the loop's thread: every other scene's polling and the live view stood still."""
    import threading

    threads = record_photo_threads(monkeypatch)
    from PIL import Image

    gif = tmp_path / "party.gif"
    Image.new("RGB", (64, 36), (200, 20, 20)).convert("P").save(gif)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7, reference_photos=(gif,)))
    settings = _settings(gsim)
    settings.video.model = "veo-3-1"  # takes a last frame
    last = _png(tmp_path / "last.png", variant=4)
    await VeoVideo.from_settings(settings, KEY).submit(_video_req(tmp_path, last_frame=last))
    assert len(threads) == 3  # the reference photo, the last frame, the keyframe
    assert threading.get_ident() not in threads


async def test_a_retry_after_header_wins_over_the_retry_info_delay(
    gsim: SimServer, tmp_path: Path
) -> None:
    gsim.add_fault("http", path=":predictLongRunning", status=429, retry_after=2, retry_delay=31)
    with pytest.raises(RateLimited) as ei:
        await VeoVideo.from_settings(_settings(gsim), KEY).submit(_video_req(tmp_path))
    assert ei.value.retry_after == 2.0


async def test_polling_an_operation_that_is_gone_says_the_operation_not_the_model(
    gsim: SimServer,
) -> None:
    """A journaled operation name the API no longer knows (404 on the poll) is about the
    operation, as Seedance's "task not found": JobFailed naming it. It read "model
    'veo-…' not found; set video.model to one of …", sending the person to change a
    model that works."""
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    name = f"projects/p/locations/l/publishers/google/models/{veo.model}/operations/gone1"
    with pytest.raises(JobFailed, match=f"operation {name} not found") as ei:
        await veo.poll(name)
    assert "video.model" not in str(ei.value)


async def test_gemini_unreadable_photo_and_refusal_name_the_scene_before_any_request(
    gsim: SimServer, tmp_path: Path
) -> None:
    """A reference photo that cannot be read is InvalidRequest naming it (not an OSError
    traceback); a ratio the model refuses names the scene. Nothing is sent."""
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    gone = tmp_path / "gone.png"
    with pytest.raises(InvalidRequest, match=r"cannot read reference photo .*gone\.png"):
        await kf.generate(KeyframeRequest("s4", "x", 1344, 768, 7, reference_photos=(gone,)))
    with pytest.raises(InvalidRequest) as ei:
        await kf.generate(KeyframeRequest("s5", "x", 100, 100, 1, aspect="7:3"))
    assert ei.value.scene_id == "s5"
    assert _google_requests(gsim) == []


@pytest.mark.parametrize(("status", "error"), [(429, RateLimited), (503, Transient)])
async def test_a_developer_download_refused_with_retry_after_carries_it(
    gsim: SimServer, tmp_path: Path, status: int, error: type[Transient]
) -> None:
    """A 429 or 503 on files.download saying when to come back: the error carries that
    wait (mindmovie.retry waits it before fetching the SAME operation's file again)."""
    veo, state = await _developer_veo(gsim)
    req = _video_req(tmp_path)
    gsim.add_fault("http", path=":download", status=status, retry_after=6)
    with pytest.raises(error) as ei:
        await veo.fetch(state, req, tmp_path / "clip.mp4")
    assert ei.value.retry_after == 6.0
    assert not (tmp_path / "clip.mp4").exists()
    out = await veo.fetch(state, req, tmp_path / "clip.mp4")
    assert abs(probe(out).duration - 4.0) <= 0.5


async def test_a_503_with_retry_after_carries_it(gsim: SimServer, tmp_path: Path) -> None:
    """A 503 with Retry-After (or a RetryInfo delay) is Transient with that wait, as a
    429's is; before, a 5xx dropped it and the retry came back at once."""
    gsim.add_fault("http", path=":predictLongRunning", status=503, retry_after=5)
    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    with pytest.raises(Transient) as ei:
        await veo.submit(_video_req(tmp_path))
    assert not isinstance(ei.value, RateLimited) and ei.value.retry_after == 5.0
    assert len(gsim.requests(path=":predictLongRunning")) == 1  # the SDK did not retry


@pytest.mark.parametrize("status", [404, 410])
async def test_a_developer_download_404_is_the_file_gone_not_the_model(
    gsim: SimServer, tmp_path: Path, status: int
) -> None:
    """files.download answering 404 (the generated file deleted or expired) said
    "model 'veo-3.0-generate-001' not found; set video.model to one of ...", sending the
    person to change a model that works (as a poll's 404 did before). It is JobFailed
    naming the operation's video, as Seedance's gone URL is: `ResultGone` (for good:
    the pipeline stops polling the operation, which gave the same file at every
    render), a 410 too (it was an InvalidRequest). So past the 2 days the Files API
    keeps a video, and when the operation's finish is unknown (nothing bounds the
    video's age); within them see the next test."""
    veo, state = await _developer_veo(gsim)
    gsim.add_fault("http", path=":download", status=status, count=None)
    for finished_at in (None, time.time() - 3 * 24 * 3600):
        state.finished_at = finished_at
        with pytest.raises(ResultGone) as ei:
            await veo.fetch(state, _video_req(tmp_path), tmp_path / "clip.mp4")
        msg = str(ei.value)
        assert f"the video of {state.remote_id} is gone" in msg and "video.model" not in msg
        assert not (tmp_path / "clip.mp4").exists()


@pytest.mark.parametrize("status", [404, 410])
@pytest.mark.parametrize("hours", [0.0, 47.0])
async def test_a_developer_download_404_soon_after_the_operation_is_tried_again(
    gsim: SimServer, tmp_path: Path, status: int, hours: float
) -> None:
    """files.download answering 404/410 for an operation that finished less than the 2
    days the Files API keeps its video ago (as the pipeline knows it: this render made
    it, or an earlier render billed it): far likelier a storage delay, or a proxy's,
    than the video gone. It was `ResultGone` at once: the clip counted lost and the next
    render offered to buy it again. It is a `JobFailed` saying the video should still
    be there and the next render downloads it again (nothing bought); one read of the
    operation and one download, no loop; and the same operation downloads later."""
    veo, state = await _developer_veo(gsim)
    req = _video_req(tmp_path)
    fault = gsim.add_fault("http", path=":download", status=status, count=None)
    state.finished_at = time.time() - hours * 3600
    reads = len(gsim.requests(path="/operations/"))
    with pytest.raises(JobFailed) as ei:
        await with_retry(lambda: veo.fetch(state, req, tmp_path / "clip.mp4"), base_delay=0.01)
    assert not isinstance(ei.value, ResultGone), ei.value
    text = str(ei.value)
    assert f"the video of {state.remote_id} was not found ({status}" in text, text
    assert "though it should still be there" in text and "keeps a video 48 h" in text, text
    assert "next render downloads its video again; nothing is bought again" in text, text
    assert fault.fired == 1 and len(gsim.requests(path="/operations/")) == reads + 1
    gsim.clear_faults()
    out = await veo.fetch(state, req, tmp_path / "clip.mp4")
    assert abs(probe(out).duration - 4.0) <= 0.5
    assert len(gsim.requests(path=":predictLongRunning")) == 1  # nothing created again


async def test_a_developer_download_403_two_days_after_the_operation_is_the_video_gone(
    gsim: SimServer, tmp_path: Path
) -> None:
    """The Files API answers a file it no longer has (it keeps a generated video 2 days)
    403 "... or it may not exist". Past those 2 days that is the video gone for good
    (`ResultGone`, not an AuthError sending the person to check a key that works, at
    every render); within them a failed download of this one job (`JobFailed`, kept:
    see the next test)."""
    veo, state = await _developer_veo(gsim)
    msg = "You do not have permission to access the File x or it may not exist."
    gsim.add_fault("http", path=":download", status=403, message=msg, count=None)
    state.finished_at = time.time() - 3 * 24 * 3600
    with pytest.raises(ResultGone, match=f"the video of {state.remote_id} is gone"):
        await veo.fetch(state, _video_req(tmp_path), tmp_path / "clip.mp4")
    state.finished_at = time.time() - 3600
    with pytest.raises(JobFailed) as ei:
        await veo.fetch(state, _video_req(tmp_path), tmp_path / "clip.mp4")
    assert not isinstance(ei.value, ResultGone)


@pytest.mark.parametrize("hours", [None, 1.0, 47.0])
async def test_a_developer_download_403_within_two_days_is_no_key_problem(
    gsim: SimServer, tmp_path: Path, hours: float | None
) -> None:
    """Within the 2 days the Files API keeps a video (or when its age is unknown: Veo
    does not say when an operation finished), a 403 on the video's download was an
    AuthError "check GOOGLE_API_KEY": the person sent to a key that had just read the
    operation, and the scene's failure taken for the key's. It is a `JobFailed` of
    that one job, saying the key is not the cause and that the job is kept (the next
    fetch of the same operation downloads it; nothing is created again). A 403 on the
    operation's read itself is still the key's (`AuthError`)."""
    veo, state = await _developer_veo(gsim)
    req = _video_req(tmp_path)
    msg = "You do not have permission to access the File x or it may not exist."
    fault = gsim.add_fault("http", path=":download", status=403, message=msg, count=None)
    state.finished_at = None if hours is None else time.time() - hours * 3600
    with pytest.raises(JobFailed) as ei:
        await veo.fetch(state, req, tmp_path / "clip.mp4")
    e = ei.value
    assert not isinstance(e, (AuthError, ResultGone)), e
    text = str(e)
    assert f"the video of {state.remote_id} could not be downloaded" in text, text
    assert "403" in text and "may not exist" in text, text
    assert "the key is not the cause" in text and "the job is kept" in text, text
    assert "check" not in text and "GOOGLE_API_KEY" not in text, text
    assert not (tmp_path / "clip.mp4").exists()
    gsim.clear_faults()
    assert fault.fired >= 1
    out = await veo.fetch(state, req, tmp_path / "clip.mp4")  # the same job, downloaded
    assert abs(probe(out).duration - 4.0) <= 0.5
    assert len(gsim.requests(path=":predictLongRunning")) == 1  # nothing created again
    gsim.add_fault("http", path="/operations/", method="GET", status=403, count=None)
    with pytest.raises(AuthError, match="check"):
        await veo.fetch(state, req, tmp_path / "clip2.mp4")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
async def test_a_photo_goes_inline_without_its_location_and_other_metadata(
    gsim: SimServer, tmp_path: Path, fmt: str
) -> None:
    """A phone photo (JPEG, PNG, WebP) stored upright went inline as stored, with its EXIF
    (GPS position, camera serial number, date), XMP and comments or text chunks. It
    goes without them, its pixels and colour profile as they were; a source photo EXIF
    turns goes upright, without them too."""
    from PIL import Image

    from tests.media import PRIVATE_TAGS, decoded_picture, write_tagged_photo

    photo = write_tagged_photo(tmp_path / f"me.{fmt.lower()}", fmt)
    turned = write_tagged_photo(tmp_path / "phone.jpg", "JPEG", orientation=6)
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    await kf.generate(
        KeyframeRequest("s1", "me", 1344, 768, 7, reference_photos=(photo,), source_photo=turned)
    )
    (rec,) = _google_requests(gsim)
    parts = rec["body"]["contents"][0]["parts"]
    source, ref = [_b64(p["inlineData"]["data"]) for p in parts if "inlineData" in p]
    for data in (source, ref):
        assert [t for t in PRIVATE_TAGS if t in data] == []
        _, exif, info = decoded_picture(data)
        assert exif == {} and not {"xmp", "XML:com.adobe.xmp", "comment", "Comment"} & set(info)
    pixels, _, info = decoded_picture(ref)
    assert (pixels == decoded_picture(photo.read_bytes())[0]).all()
    assert info.get("icc_profile") == Image.open(photo).info["icc_profile"]
    assert decoded_picture(source)[0].shape[:2] == (40, 24)  # turned upright


#: a proxy's error page in ISO-8859-1 ("é", "ê" one byte each: not UTF-8)
LATIN1_PAGE = (
    "<html><head><title>502 Passerelle erronée</title></head>\n"
    "<body><h1>Requête refusée</h1><p>Le serveur amont n'a pas répondu.</p></body></html>"
)


@pytest.mark.parametrize(
    ("path", "status", "body", "raised"),
    [
        (":predictLongRunning", 502, LATIN1_PAGE, ConnectionLost),
        (":predictLongRunning", 400, LATIN1_PAGE, InvalidRequest),
        (
            ":generateContent",
            400,
            {"error": {"code": 400, "message": "Requête refusée"}},
            InvalidRequest,
        ),
    ],
)
async def test_an_error_answer_not_in_utf8_is_one_readable_line_mapped_by_its_status(
    gsim: SimServer, tmp_path: Path, path: str, status: int, body: Any, raised: type
) -> None:
    """An error answer in ISO-8859-1 (a proxy's page; Google's JSON through one that
    recoded it) broke google-genai's `response.json()`: its UnicodeDecodeError was told
    as a refused request whatever the status, "'utf-8' codec can't decode byte 0xe9 in
    position 39: invalid continuation byte", and a Veo create answered 502 refunded
    though it may have made its operation. It is the status's error (a 502 to a create:
    sent, its row kept committed; a 400: refused, refunded), its words readable."""
    gsim.add_fault("http", path=path, status=status, body=body, charset="latin-1")
    with pytest.raises((ConnectionLost, InvalidRequest)) as ei:
        if path == ":generateContent":
            kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
            await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
        else:
            await VeoVideo.from_settings(_settings(gsim), KEY).submit(_video_req(tmp_path))
    said = str(ei.value)
    assert "Requête refusée" in said and "codec" not in said and "<" not in said, said
    assert "\n" not in said, said
    assert type(ei.value) is raised
    if isinstance(ei.value, ConnectionLost):
        assert ei.value.sent is True


@pytest.mark.parametrize("creates", [True, False])
def test_an_undecodable_error_answer_through_aiohttp_is_not_a_refused_request(
    creates: bool,
) -> None:
    """google-genai talking through aiohttp (not installed here; no response hook to
    read the answer first) reads an error answer with aiohttp's `json()`/`text()`, whose
    UnicodeDecodeError was told as the SDK refusing a parameter. Raised while reading
    an error answer, it is that answer, of a status not known: a create's is sent."""
    from mindmovie.providers import google

    def raise_for_async_response() -> None:  # (the SDK's reader, by its name)
        b"Requ\xeate".decode("utf-8")

    ctx = google._Ctx("video", "veo-3.1-fast-generate-preview", Mode("express"), creates=creates)
    with pytest.raises(Transient) as ei:
        try:
            raise_for_async_response()
        except UnicodeDecodeError as e:
            google._raise_mapped(e, ctx)
    assert isinstance(ei.value, ConnectionLost) == creates
    assert not creates or getattr(ei.value, "sent", None) is True
    assert "not UTF-8" in str(ei.value)


#: what may come with a 200 in place of Google's JSON: a page (a proxy's, a captive
#: portal's), and Google's JSON cut off part way
NOT_JSON_OK = (
    "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
    "<body><p>Please sign in to continue.</p></body></html>",
    '{\n  "name": "projects/p/locations/us-central1/publishers/google/models/veo',
)


@pytest.mark.parametrize("body", NOT_JSON_OK, ids=["page", "cut-off"])
async def test_an_ok_answer_that_is_not_json_was_sent_not_refused_before_sending(
    gsim: SimServer, tmp_path: Path, body: str
) -> None:
    """A 200 whose body is not JSON: google-genai's json.loads raised JSONDecodeError, a
    ValueError, told as the SDK refusing the request before sending ("Expecting value:
    line 1 column 1 (char 0)", an InvalidRequest: refunded). A Veo create so answered had
    made its operation, and the next render made another, paid twice and counted once;
    a Gemini image was made and billed, refunded; a poll failed the scene at once. The
    request was sent: a create's or an image's answer is lost (ConnectionLost, sent: its
    row stays counted, as when the connection breaks after sending), a poll's is a
    passing fault, polled again; each says what came, on one line. A JSONDecodeError the
    SDK raises before sending anything is still a request refused (refunded)."""
    from mindmovie.providers import google

    veo = VeoVideo.from_settings(_settings(gsim), KEY)
    gsim.add_fault("http_after", path=":predictLongRunning", status=200, body=body, count=1)
    with pytest.raises(ConnectionLost) as create:
        await veo.submit(_video_req(tmp_path))
    assert create.value.sent is True and len(gsim.jobs()) == 1  # made: it bills
    kf = GeminiKeyframes.from_settings(_settings(gsim), KEY)
    gsim.add_fault("http_after", path=":generateContent", status=200, body=body, count=1)
    with pytest.raises(ConnectionLost) as image:
        await kf.generate(KeyframeRequest("s1", "x", 1344, 768, 7))
    assert image.value.sent is True
    rid = await veo.submit(_video_req(tmp_path))
    gsim.add_fault("http", path=":fetchPredictOperation", status=200, body=body, count=1)
    with pytest.raises(Transient) as poll:
        await veo.poll(rid)
    assert not isinstance(poll.value, ConnectionLost)  # a read: nothing of it bills
    assert (await veo.poll(rid)).status in ("running", "succeeded")  # polled again
    for raised in (create, image, poll):
        line = str(raised.value)
        assert "google answered 200 with " in line and "Expecting value" not in line, line
        assert "\n" not in line and "<" not in line, line

    async def refused_unsent() -> None:  # the SDK reading something of ours, unsent
        json.loads("not json")

    ctx = dataclasses.replace(veo._ctx, creates=True)
    with pytest.raises(InvalidRequest):
        await google._call(ctx, refused_unsent)


#: Google's front end's own error page (as it answers a 502 before the API does), its
#: style sheet shortened
GOOGLE_502_PAGE = (
    "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
    '  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">\n'
    "  <title>Error 502 (Server Error)!!1</title>\n  <style>\n"
    "    *{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}html{background:"
    "#fff;color:#222;padding:15px}body{margin:7% auto 0;max-width:390px}\n  </style>\n"
    "  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>\n"
    "  <p><b>502.</b> <ins>That\u2019s an error.</ins>\n"
    "  <p>The server encountered a temporary error and could not complete your request."
    "<p>Please try again in 30 seconds.  <ins>That\u2019s all we know.</ins>\n"
)


@pytest.mark.parametrize("path", [":generateContent", ":predictLongRunning"])
async def test_google_s_html_error_page_is_one_line_of_its_words(
    gsim: SimServer, tmp_path: Path, path: str
) -> None:
    """A 502 whose body is Google's front end's HTML page (not the API's JSON): its
    HTML and style sheet, a dozen lines, went into each scene's failed line and the
    summary as they came. It is the page's words on one line, as Ark's and Claude's
    pages are told (`answer_text`)."""
    gsim.add_fault("http", path=path, status=502, body=GOOGLE_502_PAGE, count=1)
    with pytest.raises(Transient) as ei:
        await _one_keyframe_or_create(gsim, tmp_path, keyframe=path == ":generateContent")
    line = str(ei.value)
    assert "502 Bad Gateway: Error 502 (Server Error)!!1 502. That\u2019s an error." in line, line
    assert "Please try again in 30 seconds." in line, line
    assert "\n" not in line and "<" not in line and "margin" not in line, line
    assert line.endswith("google could not answer: render again in a few minutes"), line


def test_a_model_not_found_is_told_the_others_by_their_config_names() -> None:
    """A 404 for the model said "choose another (known: gemini-2.5-flash-image, ...)":
    the wire ids, the refused model among them. The others, as config.yaml names them."""
    from mindmovie.providers.google import _catalog_keys

    keys = _catalog_keys("keyframes", "gemini-2.5-flash-image")
    assert "gemini-3-1-flash-image" in keys and "gemini-2-5-flash-image" not in keys, keys
    assert _catalog_keys("keyframes", "gemini-2-5-flash-image") == keys


async def test_a_redirect_to_another_host_is_followed_without_the_key(
    tmp_path: Path,
) -> None:
    """google-genai follows redirects (Veo's download is one), and httpx drops only
    `Authorization` on one to another host: the key, sent as `x-goog-api-key`, went to
    wherever a base_url's 307 pointed, with every call. It is not sent there."""
    import http.server
    import threading

    reached: list[dict[str, str]] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reached.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    class Redirects(Elsewhere):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(307)
            self.send_header("Location", f"http://localhost:{other.server_address[1]}/x")
            self.send_header("Content-Length", "0")
            self.end_headers()

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    first = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirects)
    for server in (other, first):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = Settings(
            preset="google",
            providers={"google": {"base_url": f"http://127.0.0.1:{first.server_address[1]}"}},
        )
        kf = GeminiKeyframes.from_settings(settings, KEY)
        req = KeyframeRequest(
            scene_id="s1", prompt="a lake", width=1280, height=720, seed=1, aspect="16:9"
        )
        with pytest.raises(Transient):  # the other host's 500
            await kf.generate(req)
        await kf.aclose()
    finally:
        for server in (other, first):
            server.shutdown()
            server.server_close()
    assert reached, "the redirect was followed"
    assert [h for h in reached if "x-goog-api-key" in h or "authorization" in h] == []


@pytest.mark.parametrize(
    ("location", "kept"),
    [
        ("https://storage.googleapis.com/v/1?sig=x", True),  # Google's: a download's
        ("/v1beta/files/1", True),  # the same host
        ("http://storage.googleapis.com/v/1", False),  # not over TLS
        ("https://evilgoogleapis.com/v/1", False),
        ("https://127.0.0.1:9/v/1", False),  # another scheme and port
    ],
)
async def test_a_redirect_keeps_the_key_only_for_its_host_and_google_s(
    location: str, kept: bool
) -> None:
    """The key stays on a redirect to the same host and to Google's own hosts over
    TLS (where a download may be sent on), and nowhere else."""
    from mindmovie.providers.google import _key_stays_home

    request = httpx.Request(
        "GET", "https://127.0.0.1/v1beta/files/1:download", headers={"x-goog-api-key": "k"}
    )
    response = httpx.Response(307, headers={"location": location}, request=request)
    await _key_stays_home(response)
    assert ("x-goog-api-key" in request.headers) is kept
