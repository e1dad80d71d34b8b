"""BytePlus ModelArk: Seedream/SeedEdit keyframes and Seedance image-to-video (Ark SDK).

Why it is shaped like this:
- The Ark SDK retries 429/5xx itself and ignores Retry-After, so the client is built with
  `max_retries=0` and mindmovie.retry owns retries (provider-wire.md §1).
- `submit` only creates the task and returns its id: the pipeline journals the id before
  polling, so a crash never loses a paid job and a retry never silently pays twice.
- `fetch` is re-runnable: a truncated or invalid download raises Transient so the caller
  downloads the SAME finished task again; the task is never re-created here.
- Every parameter is checked against the catalog before any spend, and the provider's own
  refusals are reported with the allowed values.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import httpx

from mindmovie import catalog
from mindmovie.catalog import ModelSpec
from mindmovie.config import KEY_VARIABLES, ConfigError, Keys, Settings
from mindmovie.fsutil import make_dirs
from mindmovie.killpoints import killpoint
from mindmovie.providers.base import (
    AuthError,
    ConnectionLost,
    ContentRejected,
    ImageResult,
    InvalidRequest,
    JobFailed,
    JobNotFound,
    JobState,
    JobStatus,
    KeyframeRequest,
    ProviderError,
    RateLimited,
    ResultGone,
    Transient,
    VideoRequest,
    age_text,
    answer_charset,
    answer_text,
    busy_advice,
    close_loop_client,
    connection_failed,
    key_fingerprint,
    made_maybe,
    origin_url,
    rate_limit_advice,
    result_answered,
    shared_tls,
    unknown_options,
    url_expired,
    url_expiry,
)
from mindmovie.retry import retry_after_seconds, with_retry

if TYPE_CHECKING:
    from byteplussdkarkruntime import AsyncArk

PROVIDER = "byteplus"
DEFAULT_BASE_URL = "https://ark.ap-southeast.bytepluses.com/api/v3"
KEY_HINT = "ARK_API_KEY (or BYTEPLUS_API_KEY)"
#: a downloaded clip may differ from the requested length by this much (frame rounding)
DURATION_TOLERANCE = 1.0
_STATUSES: dict[str, JobStatus] = {
    "queued": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "expired": "expired",
}


#: the `keyframes.options` / `video.options` each model reads; any other key is refused
#: (naming these) instead of being silently ignored
SEEDREAM_OPTIONS = frozenset(
    {"response_format", "size", "guidance_scale", "watermark", "optimize_prompt"}
)
#: (not `return_last_frame`: the frame it returns is not used, so it is refused, not sent)
SEEDANCE_OPTIONS = frozenset(
    {"camera_fixed", "watermark", "service_tier", "execution_expires_after"}
)
#: Seedance options that do not change the clip made: the queue its job waits in (flex:
#: the same model, cheaper and slower) and how long it may wait there
SEEDANCE_QUEUE_OPTIONS = frozenset({"service_tier", "execution_expires_after"})
#: what `SeedanceVideo` sends for an option not set: set to it, the request is the same
SEEDANCE_SENT_UNSET: dict[str, bool] = {"camera_fixed": False, "watermark": False}


#: Seedream options that do not change the image made: how the answer carries it
SEEDREAM_TRANSPORT_OPTIONS = frozenset({"response_format"})
#: what `SeedreamKeyframes` sends for an option not set: set to it, the request is the same
SEEDREAM_SENT_UNSET: dict[str, bool] = {"watermark": False}
#: the guidance_scale values the Seedream and SeedEdit models take
GUIDANCE_RANGE = (1, 10)
#: the guidance_scale sent to a model that edits the goal's photo (SeedEdit) when none is
#: set: the model's documented default, sent so the request says what it gets
EDIT_GUIDANCE = 5.5


def keyframe_key_options(options: Mapping[str, Any], model: str | None = None) -> dict[str, Any]:
    """The keyframe options a paid keyframe's input key holds: those that change the
    image, set to other than what is sent without them. Keyed as written,
    `watermark: false` bought every finished keyframe again with the very same request,
    and `response_format: url` the same images again; `size: null` (or "") is sent as no
    size (`size_for`: the frame's own), and bought them again too. With `model` (its key
    or id), a size is keyed as that model is sent it (`_size_as_sent`: `2k` and `2K`,
    `1280X720` and `1280x720` are one request), and not at all for one that sends none
    (SeedEdit: "adaptive", the photo's own). A model that edits the photo is sent
    `EDIT_GUIDANCE` when no guidance_scale is set: `guidance_scale: 5.5` is that request
    too, and is keyed as not set."""
    spec = _keyframe_spec(model)
    cap = spec.capabilities if spec is not None else None
    sized = cap is None or cap.size_mode != "adaptive"
    edits = cap is not None and cap.image_required
    return {
        k: ((cap and _size_as_sent(str(v), cap)) or v if k == "size" else v)
        for k, v in options.items()
        if k not in SEEDREAM_TRANSPORT_OPTIONS
        and not (k in SEEDREAM_SENT_UNSET and v is SEEDREAM_SENT_UNSET[k])
        and not (k == "size" and (not v or not sized))
        and not (k == "guidance_scale" and edits and v == EDIT_GUIDANCE)
    }


def _keyframe_spec(model: str | None) -> ModelSpec | None:
    """The catalog's keyframe model `model` (None: not given, or not one it knows)."""
    if not model:
        return None
    try:
        return catalog.resolve(PROVIDER, "keyframes", model)
    except InvalidRequest:
        return None


def _size_as_sent(size: str, cap: catalog.Capabilities) -> str | None:
    """`keyframes.options.size` as a model of capabilities `cap` is sent it: a preset in
    capitals ("2K"), WxH as two numbers with a small x ("1280x720"); None when the model
    does not take it (`SeedreamKeyframes._check_size` refuses it)."""
    if size.upper() in cap.presets:
        return size.upper()
    try:
        w, h = (int(x) for x in size.lower().split("x"))
    except ValueError:
        return None
    lo, hi = cap.min_side or 64, cap.max_side or 4096
    return f"{w}x{h}" if lo <= w <= hi and lo <= h <= hi else None


def clip_key_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The video options a clip's input key holds: those that change the clip, set to
    other than what is sent without them. Keyed as written, `service_tier: flex` (set to
    save on the clips left) bought every finished clip again, and `watermark: false` the
    very same requests again."""
    return {
        k: v
        for k, v in options.items()
        if k not in SEEDANCE_QUEUE_OPTIONS
        and not (k in SEEDANCE_SENT_UNSET and v is SEEDANCE_SENT_UNSET[k])
    }


#: Seedance's legacy inline parameters ("--dur 10 --rs 1080p" in the prompt; BytePlus
#: ModelArk 1520757, short forms per provider-wire.md §1). Which one the service takes
#: when both they and the typed fields are given is unconfirmed, so a prompt (a hand edit
#: of plan.yaml, a planner's stray text) could buy a longer or larger clip than the
#: estimate and the budget priced: they are taken out of the text sent (`sent_prompt`)
_INLINE_FLAG = re.compile(
    r"(?<![\w-])--(?:ratio|rt|resolution|rs|duration|dur|framepersecond|fps|frames"
    r"|watermark|wm|seed|camerafixed|cf)(?:[ \t]*=[ \t]*|[ \t]+)"
    r"[\"']?[-+]?[\w.:/]+[\"']?[ \t]*",
    re.IGNORECASE,
)


def inline_flags(prompt: str) -> list[str]:
    """The inline parameters `sent_prompt` takes out of `prompt` ("--dur 10"), as written."""
    return [m.group(0).strip() for m in _INLINE_FLAG.finditer(prompt)] if "--" in prompt else []


def sent_prompt(prompt: str) -> str:
    """The prompt as sent to Seedance: its inline parameters taken out, so the typed
    fields (the seconds, resolution, ratio and seed the estimate priced) are the only
    ones the service can read."""
    if "--" not in prompt:
        return prompt
    return _INLINE_FLAG.sub("", prompt).strip()


# ---------------------------------------------------------------- shared helpers
_BOOL_OPTIONS = frozenset({"camera_fixed", "watermark", "optimize_prompt"})


def _check_options(options: dict[str, Any], allowed: frozenset[str], stage: str) -> None:
    """Refuse unknown options, and values of the wrong type (`watermark: "false"` would
    be sent as true; `execution_expires_after: soon` would fail after the gate)."""
    if bad := unknown_options(f"{stage}.options", PROVIDER, options, allowed):
        raise InvalidRequest(bad, provider=PROVIDER)
    for name, value in options.items():
        if name in _BOOL_OPTIONS:
            ok, want = isinstance(value, bool), "true or false"
        elif name == "execution_expires_after":
            ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
            # ("allowed a whole number of seconds" was said of -3, a whole number)
            want = "a whole number of seconds, at least 1"
        elif name == "guidance_scale":
            # .nan / .inf are no number JSON can carry: the request was refused at the
            # first paid call, after the plan was paid for
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            # -5 or 50 was sent as written, the first keyframe refused after the plan was
            # paid for: Seedream and SeedEdit take 1 to 10 (their schemas on Replicate and
            # Comfy's ByteDance node; not in the wire reference)
            ok = ok and math.isfinite(value) and GUIDANCE_RANGE[0] <= value <= GUIDANCE_RANGE[1]
            want = f"a number from {GUIDANCE_RANGE[0]} to {GUIDANCE_RANGE[1]}"
        else:
            continue
        if not ok:
            raise InvalidRequest(
                f"{stage}.options.{name}: {value!r} is not allowed; allowed {want}",
                provider=PROVIDER,
            )


def missing_key_error(stage: str, what: str, settings: Settings) -> ConfigError:
    """One line naming the variable(s) and who needs the key (preset or explicit provider)."""
    names = KEY_VARIABLES[PROVIDER]
    var = names[0] + (f" (or {', '.join(names[1:])})" if len(names) > 1 else "")
    chosen = getattr(settings, stage).provider
    who = f"{stage}.provider '{PROVIDER}'" if chosen else f"the {settings.preset} preset"
    return ConfigError(f"{var} is not set; {who} needs it for {stage} ({what})")


def is_content_filter(code: object) -> bool:
    """Ark content-filter codes: Input/Output{Text,Image,Video,Audio}SensitiveContentDetected."""
    return isinstance(code, str) and "SensitiveContent" in code


def _sniffed_mime(data: bytes) -> str | None:
    """The image type its first bytes say (PNG, JPEG, WebP), or None: not an image."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _mime_of(data: bytes, fallback: str = "image/png") -> str:
    return _sniffed_mime(data) or fallback


def data_uri(path: Path) -> str:
    """A local image as a `data:` URI (Ark accepts these wherever it takes an image URL);
    a photo that cannot go as stored (a GIF, one EXIF turns) as `photo_to_send` makes it."""
    from mindmovie.providers.local_media import photo_to_send

    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidRequest(f"cannot read image {path}: {e.strerror}", provider=PROVIDER) from None
    if (converted := photo_to_send(path)) is not None:
        data, mime = converted
    else:
        suffix = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
        mime = _mime_of(data, suffix.get(path.suffix.lower(), "image/png"))
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


#: Ark's error codes for a model id the account cannot call: one that does not exist (or
#: is not this key's), and one not activated in the ModelArk console
MODEL_NOT_FOUND_CODES = ("InvalidEndpointOrModel", "ModelNotOpen")
#: Ark's codes (ModelArk 1299023) of an account in arrears (403), and of an endpoint
#: "disabled or temporarily unavailable. Please try again later" (400)
ACCOUNT_OVERDUE = "AccountOverdueError"
CLOSED_ENDPOINT = "InvalidEndpoint.ClosedEndpoint"
#: Ark's 429 codes (ModelArk 1299023) of a limit that waiting minutes does not lift,
#: unlike its RateLimitExceeded.* (per minute) and ServerOverloaded: the account's free
#: quota of the model used up, and the inference limit the person set in the console
#: ("Safe Experience Mode"). What the console page is for, each
ACCOUNT_LIMITS = {
    "QuotaExceeded": "the account's quota of {model} is used up: activate the model's "
    "paid service (or raise its quota) in the ModelArk console",
    "SetLimitExceeded": "the account reached the inference limit set for {model} in the "
    "ModelArk console (Safe Experience Mode): raise or turn off that limit there",
}


def map_ark_error(
    e: Exception,
    spec: ModelSpec,
    *,
    during: str,
    options: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> ProviderError:
    """Ark SDK exception -> our taxonomy (provider-wire.md §1 table). `options`: the
    stage's `*.options` sent with the call: a parameter Ark refuses that came from one
    is told as that setting (`InvalidRequest.setting`). `timeout`: the client's
    providers.byteplus.timeout, which a timeout's line names. Each line says the status,
    Ark's code and message, and what to do (as Claude's, 58be2ee)."""
    from byteplussdkarkruntime._exceptions import (
        ArkAPIConnectionError,
        ArkAPIError,
        ArkAPIStatusError,
        ArkAPITimeoutError,
    )

    if isinstance(e, ArkAPIConnectionError):  # includes ArkAPITimeoutError
        # the transport's own words ("ConnectionRefusedError: [Errno 111] ..."): the
        # class alone, "connection failed (ArkAPIConnectionError)", said neither the
        # cause nor what to do
        slow = _answer_too_slow(e)
        if slow is not None:
            within = f"providers.{PROVIDER}.timeout plus download_timeout ({slow:g} s)"
        else:
            within = f"providers.{PROVIDER}.timeout" + (
                f" ({timeout:g} s)" if timeout is not None else ""
            )
        said, sent = connection_failed(
            e, PROVIDER, timed_out=isinstance(e, ArkAPITimeoutError), within=within
        )
        return ConnectionLost(f"{during}: {said}", provider=PROVIDER, sent=sent)
    if not isinstance(e, ArkAPIStatusError):
        name = type(e).__name__ if isinstance(e, ArkAPIError) else repr(e)
        return Transient(f"{during}: unexpected SDK error {name}", provider=PROVIDER)
    status = int(e.status_code)
    code = getattr(e, "code", None) or ""
    param = getattr(e, "param", None) or ""
    body = e.body if isinstance(e.body, dict) else {}
    message = str(body.get("message") or e.message)
    if not isinstance(e.body, dict):  # not Ark's JSON: a proxy's page, as one line
        message = answer_text(message, e.response.headers.get("content-type", ""))
    detail = f"{code}: {message}" if code else message
    if is_content_filter(code):
        return ContentRejected(f"{during}: {detail}", billed=False, provider=PROVIDER)
    if code == CLOSED_ENDPOINT:
        # "the inference endpoint is disabled or temporarily unavailable. Please try again
        # later" (ModelArk 1299023): the service, not the request. Told as a refused
        # request, its line said to change the scene's fields in plan.yaml; a 400 made
        # no task, so it is sent again
        return Transient(
            f"{during}: HTTP {status} {detail}; {busy_advice(PROVIDER, status)} (an "
            "endpoint disabled in the ModelArk console stays closed until it is enabled "
            "there)",
            retry_after=retry_after_seconds(e.response.headers),
            provider=PROVIDER,
        )
    if code == ACCOUNT_OVERDUE:
        # the account's balance, not the key: "check ARK_API_KEY (a valid key ...)" sent
        # the person to a key that works. An AuthError: every call is refused alike
        return AuthError(
            f"{during}: HTTP {status} {detail}; top up the BytePlus account's balance in "
            f"its billing center (the key {KEY_HINT} is fine: the account is overdue)",
            provider=PROVIDER,
        )
    if status == 429 and code in ACCOUNT_LIMITS:
        # waited out as a per-minute rate limit, for minutes, then "render again once
        # the rate limit allows", which no render would: it lifts in the console. An
        # AuthError: every call of the model is refused alike, so none other is sent
        return AuthError(
            f"{during}: HTTP {status} {detail}; "
            f"{ACCOUNT_LIMITS[code].format(model=spec.id)} (the key {KEY_HINT} is fine; "
            "a request turned away is not billed)",
            provider=PROVIDER,
        )
    if status == 429:
        return RateLimited(
            f"{during}: HTTP {status} {detail}; {rate_limit_advice(PROVIDER)}",
            retry_after=retry_after_seconds(e.response.headers),
            provider=PROVIDER,
        )
    if during == "submit" and status == 503:
        # Ark answered a video create 503: unlike Google (AIP-194), Ark does not say a
        # 503 made no job, and one it made and then answered 503 for was refunded as
        # "turned away" and bought again (5 jobs for 4 scenes, one on no bill). Its
        # task list can tell: looked at at once, as after a 500 (the service's own
        # answer), so a 503 to every create holds each for ANSWERED_GRACE at most
        return ConnectionLost(
            f"{during}: HTTP {status} {detail}; {busy_advice(PROVIDER, status)}",
            provider=PROVIDER,
            sent=True,
            answered=True,
            status=status,
            retry_after=retry_after_seconds(e.response.headers),
        )
    if during in ("submit", "image") and made_maybe(status):
        # a 5xx to a create other than 503: the request reached a server that may have
        # made the job (and bills it) before it failed: 504, a gateway that gave up
        # waiting for the backend; 502, one that got a broken answer from it; 500, the
        # service's own unexpected error. A lost answer, not "not accepted": the
        # pipeline looks for the job before paying again (taken for a refusal, the
        # create was refunded and sent again, and the scene paid for two jobs, one on
        # no ledger row). An image, made while the call waits, stays committed (outcome
        # unknown), not refunded. A 503 (unavailable) turned the request away: sent again.
        # A 500 is the service's own final answer: a job it made is listed at once
        return ConnectionLost(
            f"{during}: HTTP {status} {detail}; {busy_advice(PROVIDER, status)}",
            provider=PROVIDER,
            sent=True,
            answered=status == 500,
            status=status,
        )
    if status >= 500 or status in (408, 409):
        return Transient(
            f"{during}: HTTP {status} {detail}; {busy_advice(PROVIDER, status)}",
            retry_after=retry_after_seconds(e.response.headers),
            provider=PROVIDER,
        )
    if code.startswith(MODEL_NOT_FOUND_CODES) or (
        status == 404 and not during.startswith(("poll", "cancel"))
    ):
        # the model id of the person's setting: every call of it is refused alike
        # (InvalidEndpointOrModel.NotFound, ModelNotOpen); a 4xx create bills nothing
        said = (
            f"the model '{spec.id}' is not activated for this account; activate it in the "
            "ModelArk console or choose another"
            if code == "ModelNotOpen"
            else f"the model '{spec.id}' does not exist or this key has no access to it; "
            "choose another"
        )
        return InvalidRequest(
            f"{spec.stage}.model: {PROVIDER} answered {code or f'HTTP {status}'}: {said} "
            f"({catalog.allowed_for(spec, 'model')[2:]}); nothing was billed for it",
            provider=PROVIDER,
            setting=f"{spec.stage}.model",
        )
    if status in (401, 403):
        return AuthError(
            f"{during}: HTTP {status} {detail}; check {KEY_HINT} "
            f"(a valid key, with {spec.id} activated for it)",
            provider=PROVIDER,
        )
    if status == 404 and during.startswith(("poll", "cancel")):
        # the task is gone (deleted, or never made), not the model
        return JobNotFound(f"{during}: task not found ({detail})", provider=PROVIDER)
    if status == 400 and param and param in (options or {}):
        # a parameter of the person's `*.options`: told as that setting, where written
        setting = f"{spec.stage}.options.{param}"
        return InvalidRequest(
            f"{setting}: {PROVIDER} refused {(options or {})[param]!r} for {spec.key} "
            f"({detail}){catalog.allowed_for(spec, param)}; nothing was billed for it",
            provider=PROVIDER,
            setting=setting,
        )
    where = f" (parameter {param})" if param else ""
    allowed = catalog.allowed_for(spec, param)
    return InvalidRequest(
        f"{during}: {spec.key} refused the request{where}: {detail}{allowed}",
        provider=PROVIDER,
        answered=True,
        param=param or None,
    )


#: what each field of a task's `job_origin` is, for a message saying which one changed
ORIGIN_NAMES = {"base_url": f"providers.{PROVIDER}.base_url (its region)", "key": KEY_HINT}


def job_origin(settings: Settings, keys: Keys, salt: bytes) -> dict[str, str]:
    """Where a Seedance task is made, and so the only place it can be polled: the base
    URL (ModelArk's regional endpoints know only their own tasks) and the key (a key is
    one account's project: another's tasks answer 404). The key only as a salted
    one-way fingerprint (`key_fingerprint`), never itself."""
    ps = settings.provider_settings(PROVIDER)
    key = keys.byteplus.get_secret_value() if keys.byteplus is not None else None
    return {
        "base_url": origin_url(ps.base_url, DEFAULT_BASE_URL),
        "key": key_fingerprint(key, salt),
    }


class _ArkClients:
    """One AsyncArk per event loop (an httpx pool must not cross loops); retries off."""

    def __init__(
        self, api_key: str, base_url: str | None, timeout: float, answer_deadline: float
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url or DEFAULT_BASE_URL
        self.timeout = timeout
        self.answer_deadline = answer_deadline
        self._clients: dict[int, AsyncArk] = {}

    def __repr__(self) -> str:  # never show the key
        return f"_ArkClients(base_url={self._base_url!r})"

    def get(self) -> AsyncArk:
        from byteplussdkarkruntime import AsyncArk

        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            timeout = _http_timeout(self.timeout)
            client = AsyncArk(
                base_url=self._base_url,
                api_key=self._api_key,
                max_retries=0,
                timeout=timeout,
                http_client=_ArkHttp(timeout=timeout, answer_deadline=self.answer_deadline),
            )
            self._clients = {loop: client}
        return client

    async def aclose(self) -> None:
        """Close this loop's client (its keep-alive connections)."""
        await close_loop_client(self._clients)


class _AnswerTooSlow(httpx.ReadTimeout):
    """A call's whole answer past its deadline (`_ArkHttp.send`): a read timeout to the
    SDK, and its line names the deadline's settings, not the timeout alone."""

    def __init__(self, deadline: float, request: httpx.Request) -> None:
        super().__init__(f"the answer took longer than {deadline:.0f} s", request=request)
        self.deadline = deadline


def _answer_too_slow(e: BaseException) -> float | None:
    """The answer deadline `e` (an SDK's timeout) was raised from, None if another."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, _AnswerTooSlow):
            return cur.deadline
        cur = cur.__cause__ or cur.__context__
    return None


class _ArkHttp(httpx.AsyncClient):
    """The Ark client's httpx client: the SDK's own defaults (its connection limits,
    redirects followed, closed when let go of) with the shared TLS context
    (`base.shared_tls`). The SDK's default client loaded the CA bundle for each client,
    one per render and event loop."""

    def __init__(self, *, timeout: httpx.Timeout, answer_deadline: float) -> None:
        super().__init__(
            timeout=timeout,
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
            follow_redirects=True,
            verify=shared_tls("httpx"),
        )
        self.answer_deadline = answer_deadline

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        """One call's answer within `answer_deadline` from its first byte: httpx's
        timeout is per read, so an answer sent a piece at a time (Seedream's image comes
        inline) never tripped it. Past the deadline it is a read timeout, which the SDK
        reports as its ArkAPITimeoutError (ConnectionLost, sent: a create may have made
        its task). What comes before the answer, the request's upload (up to 10 reference
        photos inline) and the model's work, keeps httpx's own timeouts: counted in the
        deadline, a slow uplink failed every call."""
        if kwargs.get("stream"):
            return await super().send(request, **kwargs)  # the caller reads the body
        response = await super().send(request, **{**kwargs, "stream": True})
        try:
            async with asyncio.timeout(self.answer_deadline):
                await response.aread()
        except TimeoutError:
            await response.aclose()
            raise _AnswerTooSlow(self.answer_deadline, request) from None
        except BaseException:
            await response.aclose()
            raise
        # a proxy's error page in ISO-8859-1: its letters, not U+FFFD, in the message
        error = response.is_error
        if error and (cs := answer_charset(response.content, response.charset_encoding)):
            response.encoding = cs
        return response

    def __del__(self) -> None:
        # as the SDK's own client does: its pool closed on the loop it was used in
        with contextlib.suppress(Exception):
            asyncio.get_running_loop().create_task(self.aclose())


def _http_timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(10.0, seconds))


# ---------------------------------------------------------------- Seedream keyframes
_M = TypeVar("_M", "SeedreamKeyframes", "SeedanceVideo")


def check_options(settings: Settings, stage: Literal["keyframes", "video"]) -> None:
    """The checks building the stage's model makes of its model and options (ConfigError,
    one line), without a key and sending nothing: for doctor, estimate and status."""
    cls: type[SeedreamKeyframes | SeedanceVideo]
    cls = SeedreamKeyframes if stage == "keyframes" else SeedanceVideo
    stage_settings = settings.keyframes if stage == "keyframes" else settings.video
    try:
        cls(api_key="", model=stage_settings.model, options=stage_settings.options)
    except InvalidRequest as e:
        raise ConfigError(e.message) from None


def _from_settings(
    cls: type[_M], stage: Literal["keyframes", "video"], label: str, settings: Settings, keys: Keys
) -> _M:
    """The one way both BytePlus models are built from settings."""
    if keys.byteplus is None:
        raise missing_key_error(stage, label, settings)
    ps = settings.provider_settings(PROVIDER)
    stage_settings = settings.keyframes if stage == "keyframes" else settings.video
    # only videos are downloaded as files big enough to need their own deadline
    extra: dict[str, Any] = {"download_timeout": ps.download_timeout} if stage == "video" else {}
    # each call's whole answer (Seedream's inline image, a task's JSON), from its first
    # byte (`_ArkHttp.send`): the timeout plus download_timeout for its transfer
    extra["answer_deadline"] = ps.timeout + (ps.download_timeout or max(ps.timeout, 120.0))
    try:
        return cls(
            api_key=keys.byteplus.get_secret_value(),
            model=stage_settings.model,
            base_url=ps.base_url,
            timeout=ps.timeout,
            options=stage_settings.options,
            **extra,
        )
    except InvalidRequest as e:
        raise ConfigError(e.message) from None


class SeedreamKeyframes:
    """Seedream text(+reference photos)-to-image, or SeedEdit restyling the goal's photo."""

    name = PROVIDER
    #: result URLs expire after 24 hours (provider-wire.md, images.generate)
    result_url_seconds = 24 * 3600.0

    def __init__(
        self,
        *,
        api_key: str,
        model: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        options: dict[str, Any] | None = None,
        answer_deadline: float | None = None,
    ) -> None:
        self.spec = catalog.resolve(PROVIDER, "keyframes", model)
        self.model = self.spec.id
        self.options: dict[str, Any] = dict(options or {})
        _check_options(self.options, SEEDREAM_OPTIONS, "keyframes")
        self.timeout = timeout
        #: seconds one call's whole answer may take (`_ArkHttp.send`)
        self.answer_deadline = answer_deadline or timeout + max(timeout, 120.0)
        self._ark = _ArkClients(api_key, base_url, timeout, self.answer_deadline)
        fmt = self.options.get("response_format", "b64_json")
        if fmt not in ("b64_json", "url"):
            raise InvalidRequest(
                f"keyframes.options.response_format '{fmt}' not allowed; allowed b64_json, url",
                provider=PROVIDER,
            )
        self.response_format: str = fmt
        size = self.options.get("size")
        if size and self.spec.capabilities.size_mode != "adaptive":
            try:  # a bad size fails here, before the planner is paid
                self._check_size(str(size))
            except InvalidRequest as e:
                raise InvalidRequest(
                    f"keyframes.options.size: {e.message}", provider=PROVIDER
                ) from None

    async def aclose(self) -> None:
        """Close the Ark client's connections (the pipeline does, at the end of a render)."""
        await self._ark.aclose()

    def __repr__(self) -> str:
        return f"SeedreamKeyframes(model={self.model!r})"

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> SeedreamKeyframes:
        """Build from Settings; a missing key or bad model/option is a one-line ConfigError."""
        return _from_settings(cls, "keyframes", "Seedream", settings, keys)

    # ------------------------------------------------------------ sizing
    def size_for(self, req: KeyframeRequest) -> str:
        """The `size` to send: SeedEdit "adaptive"; else the option, else WxH for the aspect."""
        cap = self.spec.capabilities
        if cap.size_mode == "adaptive":
            return "adaptive"
        opt = self.options.get("size")
        if opt:
            return self._check_size(str(opt))
        w, h = catalog.output_pixels(self.spec, catalog.IMAGE_SIZES, req.aspect)
        return f"{w}x{h}"

    def _check_size(self, size: str) -> str:
        cap = self.spec.capabilities
        sent = _size_as_sent(size, cap)
        if sent is None:
            lo, hi = cap.min_side or 64, cap.max_side or 4096
            presets = f"{', '.join(cap.presets)} or " if cap.presets else ""
            raise InvalidRequest(
                f"{self.spec.key}: size {size} not allowed; allowed {presets}WxH with each side "
                f"{lo}-{hi}",
                provider=PROVIDER,
            )
        return sent

    # ------------------------------------------------------------ API
    async def generate(self, request: KeyframeRequest) -> ImageResult:
        """One image; reference photos go along as data URIs when the model takes them."""
        with _for_scene(request.scene_id):
            return await self._generate(request)

    async def _generate(self, request: KeyframeRequest) -> ImageResult:
        cap = self.spec.capabilities
        catalog.validate_image(
            self.spec,
            ratio=request.aspect,
            references=0,
            source_photo=request.source_photo is not None,
        )
        image: str | list[str] | None = None
        guidance: float | None = self.options.get("guidance_scale")
        # the photos are read and, when they must be, converted in a thread: a large
        # photo's conversion on the loop stalled every other scene's polling and the view
        if cap.image_required:
            assert request.source_photo is not None  # validate_image checked
            image = await asyncio.to_thread(data_uri, request.source_photo)
            if guidance is None:
                guidance = EDIT_GUIDANCE
        elif cap.reference_images and request.reference_photos:
            # those past the model's limit are left out (the pipeline has named them)
            refs, _ = catalog.references_sent(self.spec, request.reference_photos)
            image = await asyncio.to_thread(lambda: [data_uri(p) for p in refs])
        kwargs: dict[str, Any] = {
            "model": self.model,
            # the plan's style as Gemini is given it: an edit of plan.yaml's `style` made
            # every keyframe again (its key holds it) with the very same request
            "prompt": request.prompt + (f"\nStyle: {request.style}" if request.style else ""),
            "image": image,
            "response_format": self.response_format,
            "size": self.size_for(request),
            "seed": request.seed,
            "guidance_scale": guidance,
            "watermark": bool(self.options.get("watermark", False)),
        }
        if cap.size_mode == "preset+wxh":
            kwargs["sequential_image_generation"] = "disabled"
        if "optimize_prompt" in self.options:
            kwargs["optimize_prompt"] = bool(self.options["optimize_prompt"])
        try:
            resp = await self._ark.get().images.generate(**kwargs)
        except Exception as e:
            if _is_ark_error(e):
                raise map_ark_error(
                    e, self.spec, during="image", options=self.options, timeout=self.timeout
                ) from None
            if isinstance(e, json.JSONDecodeError):
                # a 200 said to be JSON and cut off on its way: as one not Ark's, below
                raise ConnectionLost(
                    f"image: the answer (HTTP 200) to {self.spec.key}'s request is JSON cut "
                    f"off ({e})",
                    provider=PROVIDER,
                    sent=True,
                ) from None
            raise
        items = list(getattr(resp, "data", None) or [])
        if not items and not any(
            getattr(resp, field, None) is not None for field in ("usage", "model", "created")
        ):
            # a 200 that is not Ark's answer (a proxy's page, JSON cut off on its way): the
            # SDK reads it as an answer of nothing. The image may have been made and
            # billed: an answer lost after sending, kept counted (it was "returned no
            # image", refunded, and the render paid for the next one: the provider-faults
            # audit). Ark's own answer of no image carries its model and usage
            raise ConnectionLost(
                f"image: the answer (HTTP 200) to {self.spec.key}'s request is not Ark's (no "
                "image, model or usage in it: a proxy's page, or an answer cut short)",
                provider=PROVIDER,
                sent=True,
            )
        if not items:
            failed = JobFailed(f"image: {self.spec.key} returned no image", provider=PROVIDER)
            # its usage counting an image made: billed (Ark bills generated_images), and
            # the ledger said $0 of it, as Gemini's answer with usage does not
            made = getattr(getattr(resp, "usage", None), "generated_images", 0)
            failed.charged = isinstance(made, int) and made > 0
            raise failed
        item = items[0]
        err = getattr(item, "error", None)
        if err is not None:
            code = getattr(err, "code", None) or (err.get("code") if isinstance(err, dict) else "")
            msg = getattr(err, "message", None) or (
                err.get("message") if isinstance(err, dict) else ""
            )
            if is_content_filter(code):
                raise ContentRejected(f"image: {code}: {msg}", billed=False, provider=PROVIDER)
            raise JobFailed(f"image: {code}: {msg}", provider=PROVIDER)
        try:  # the image is made, and paid for: a failure from here on is charged
            data = await self._image_bytes(item)
        except ProviderError as e:
            e.charged = True
            raise
        usage_obj = getattr(resp, "usage", None)
        usage: dict[str, Any] = {
            "images": 1,
            "generated_images": int(getattr(usage_obj, "generated_images", 0) or 1),
            "output_tokens": int(getattr(usage_obj, "output_tokens", 0) or 0),
            "size": getattr(item, "size", None),
            "model": self.model,
        }
        return ImageResult(data=data, mime=_mime_of(data), usage=usage)

    async def _image_bytes(self, item: Any) -> bytes:
        """The answered image's bytes: inline, or downloaded from its result URL.

        A failed download is retried here, on the same URL (valid for 24 h): sending the
        request again would pay for a second image. One that still fails is final."""
        b64 = getattr(item, "b64_json", None)
        url = getattr(item, "url", None)
        if b64:
            try:
                data = base64.b64decode(b64, validate=False)
            except ValueError as e:
                raise Transient(f"image: undecodable b64_json ({e})", provider=PROVIDER) from None
        elif url:
            result_answered(str(url))  # journaled before the download: see there
            killpoint("image_download")
            try:
                data = await with_retry(lambda: _download_image(str(url), self.timeout))
            except ResultGone as e:
                if not _not_found_yet(e, str(url)):
                    # gone for good (a 403 or 404 past its expiry, a 404 on a URL with
                    # none, no image): nothing kept
                    raise _gone_for_good(e, str(url)) from None
                # a 404/410 of an image made this moment, on a URL valid 24 h: the
                # storage not having it everywhere yet, or a proxy's, far likelier than
                # the image gone; dropped, the next render bought a second image
                failed = JobFailed(
                    f"the generated image was not found at its result URL ({e.message}), "
                    "though it should be there for 24 h; it is paid for, and the next "
                    "render downloads it from its URL again",
                    provider=PROVIDER,
                )
                failed.result_url = str(url)
                raise failed from None
            except (Transient, JobFailed) as e:
                # a 403 within the URL's expiry too (`_status_error`: a clock difference,
                # a proxy's): the URL was dropped, and the next render bought the image
                # again though it may still be there
                failed = JobFailed(
                    f"the generated image could not be downloaded ({e.message}); it is "
                    "paid for, and the next render downloads it from its URL again",
                    provider=PROVIDER,
                )
                failed.result_url = str(url)  # still there: journaled, fetched next time
                raise failed from None
        else:
            raise JobFailed("image: answer has neither b64_json nor url", provider=PROVIDER)
        if not data:
            raise Transient("image: empty image data", provider=PROVIDER)
        return data

    async def refetch(self, url: str, request: KeyframeRequest) -> bytes:
        """An image paid for in an earlier render, from the result URL its download
        failed on (see `RefetchesResults`): valid for 24 h, so no new image is bought."""
        with _for_scene(request.scene_id):
            try:
                return await with_retry(lambda: _download_image(url, self.timeout))
            except NotAnImage as e:
                # a render after the one that kept the URL, and every retry of this one:
                # what the URL holds is not the image, and waiting out its validity
                # (24 h) only held the scene up
                raise ResultGone(
                    f"its result URL still serves no image ({e.message})", provider=PROVIDER
                ) from None
            except ResultGone as e:
                if not _not_found_yet(e, url):
                    raise _gone_for_good(e, url) from None
                # the caller (`Pipeline._refetch_kept`) knows the URL's age: within its
                # 24 h a 404 buys nothing (render again later), past them a new image
                raise JobFailed(
                    f"{e.message}, though it should be there for 24 h", provider=PROVIDER
                ) from None


def _not_found_yet(e: ResultGone, url: str) -> bool:
    """A 404/410 (`NotFoundAtUrl`) on a signed result URL whose own expiry has not
    passed: not taken for the image gone by itself (see `SeedanceVideo._gone`); whoever
    knows how old the URL is decides."""
    expiry = url_expiry(url)
    return isinstance(e, NotFoundAtUrl) and expiry is not None and time.time() <= expiry


def _gone_for_good(e: ResultGone, url: str) -> ResultGone:
    """`e` as said of `url`: a 404/410 on a URL that carries no expiry (not signed, as
    Ark's are) is the image gone, not a delay in its storage. It was taken for one (kept,
    and failed again at every render for 24 h, the validity Ark gives its signed URLs);
    nothing says such a URL will ever serve the image."""
    if isinstance(e, NotFoundAtUrl) and url_expiry(url) is None:
        return ResultGone(
            f"{e.message} (a URL that carries no expiry: not a delay in its storage, the "
            "image is gone)",
            provider=PROVIDER,
        )
    return e


@contextlib.contextmanager
def _for_scene(scene_id: str) -> Iterator[None]:
    """Tag any provider error raised inside with the scene it concerns (for the message)."""
    try:
        yield
    except ProviderError as e:
        if e.scene_id is None:
            e.scene_id = scene_id
        raise


def _is_ark_error(e: Exception) -> bool:
    from byteplussdkarkruntime._exceptions import ArkError

    return isinstance(e, ArkError)


async def _download_bytes(url: str, timeout: float) -> bytes:
    """GET a (short-lived) result URL into memory, streamed, with a timeout.

    httpx's timeout is per read, so a link that trickles bytes would never trip it:
    the whole download has the same deadline too."""
    try:
        async with (
            asyncio.timeout(timeout),
            httpx.AsyncClient(
                timeout=_http_timeout(timeout), follow_redirects=True, verify=shared_tls("httpx")
            ) as client,
            client.stream("GET", url) as r,
        ):
            if r.status_code >= 400:
                raise _status_error(r, "image download", url)
            data = b"".join([chunk async for chunk in r.aiter_bytes()])
            # Content-Length counts the bytes on the wire: fewer than `data` when gzipped
            want, sent = r.headers.get("content-length"), r.num_bytes_downloaded
            if want is not None and want.isdigit() and int(want) != sent:
                raise Transient(
                    f"image download truncated ({sent} of {want} bytes)", provider=PROVIDER
                )
            return data
    except httpx.HTTPError as e:
        raise Transient(f"image download failed ({type(e).__name__})", provider=PROVIDER) from None
    except TimeoutError:
        raise Transient(
            f"image download took longer than {timeout:.0f} s (providers.{PROVIDER}.timeout "
            "sets it)",
            provider=PROVIDER,
        ) from None


class NotAnImage(Transient):
    """A result URL answered 200 with bytes that are no PNG, JPEG or WebP (an HTML page,
    a broken object): fetched again, and on a later render's refetch `ResultGone`."""


async def _download_image(url: str, timeout: float) -> bytes:
    """A result URL's image; an empty body, or one that is no PNG, JPEG or WebP, is a
    failed download (tried again on the same URL, not a reason to pay for the image again)."""
    data = await _download_bytes(url, timeout)
    if not data:
        raise Transient("image download was empty", provider=PROVIDER)
    if _sniffed_mime(data) is None:  # an HTML page, a broken CDN object: not the image
        raise NotAnImage(
            f"image download is not an image ({len(data)} bytes starting {data[:12]!r})",
            provider=PROVIDER,
        )
    return data


class NotFoundAtUrl(ResultGone):
    """A result URL answered 404/410: gone for good (`ResultGone`), unless the caller
    knows the result should still be there (`SeedanceVideo._gone`)."""

    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what}: HTTP {status}, the result URL is gone", provider=PROVIDER)
        self.what = what
        self.status = status


def _status_error(r: httpx.Response, what: str, url: str) -> ProviderError:
    """A result URL's refusal; a 429's or 5xx's Retry-After is the wait before the SAME
    URL is tried again (before, it was dropped and the retry came back too soon).

    404/410, and a 403 once `url` is past the expiry it carries (`url_expired`), are
    the result gone for good (`ResultGone`); a 403 within it (a clock difference?), or
    with no expiry to go by (a proxy's?), is `JobFailed`, and nothing is bought
    again for it. A caller that knows the result's age may tell otherwise: a clip's
    404 soon after its task finished is tried again (`SeedanceVideo._gone`)."""
    status = r.status_code
    if status in (404, 410):
        return NotFoundAtUrl(what, status)
    if status == 403 and url_expired(url):
        return ResultGone(
            f"{what}: HTTP 403, the result URL is past the expiry it carries", provider=PROVIDER
        )
    if status == 403 and url_expiry(url) is not None:
        return JobFailed(
            f"{what}: HTTP 403, refused before the result URL is known to expire (a clock "
            "difference?)",
            provider=PROVIDER,
        )
    if status == 403:
        # (a URL carrying no expiry: "a clock difference?" was said of it too, which no
        # clock decides)
        return JobFailed(
            f"{what}: HTTP 403 (a URL that carries no expiry: refused by the storage or a "
            "proxy, not known to be gone)",
            provider=PROVIDER,
        )
    wait = retry_after_seconds(r.headers)
    if status == 429:
        return RateLimited(f"{what}: HTTP 429", retry_after=wait, provider=PROVIDER)
    return Transient(f"{what}: HTTP {status}", retry_after=wait, provider=PROVIDER)


# ---------------------------------------------------------------- Seedance video
@dataclass(frozen=True)
class PendingTask:
    """A task found on the provider side (crash recovery): id, status, creation time."""

    remote_id: str
    status: str
    created_at: int
    model: str


class SeedanceVideo:
    """Seedance image-to-video: the keyframe is the first frame (and optionally the last)."""

    name = PROVIDER
    #: a task's video_url is valid for 24 hours after it finished (provider-wire.md)
    result_url_seconds = 24 * 3600.0

    def __init__(
        self,
        *,
        api_key: str,
        model: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        download_timeout: float | None = None,
        options: dict[str, Any] | None = None,
        answer_deadline: float | None = None,
    ) -> None:
        self.spec = catalog.resolve(PROVIDER, "video", model)
        self.model = self.spec.id
        self.options: dict[str, Any] = dict(options or {})
        _check_options(self.options, SEEDANCE_OPTIONS, "video")
        self.timeout = timeout
        self.download_timeout = download_timeout or max(timeout, 120.0)
        #: seconds one call's whole answer may take (`_ArkHttp.send`)
        self.answer_deadline = answer_deadline or timeout + self.download_timeout
        self._ark = _ArkClients(api_key, base_url, timeout, self.answer_deadline)
        tier = self.options.get("service_tier")
        if tier is not None and tier not in ("default", "flex"):
            raise InvalidRequest(
                f"video.options.service_tier '{tier}' not allowed; allowed default, flex",
                provider=PROVIDER,
            )
        #: the last poll's reported usage per task id, for the cost ledger
        self.usage: dict[str, dict[str, Any]] = {}

    async def aclose(self) -> None:
        """Close the Ark client's connections (the pipeline does, at the end of a render)."""
        await self._ark.aclose()

    def __repr__(self) -> str:
        return f"SeedanceVideo(model={self.model!r})"

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> SeedanceVideo:
        """Build from Settings; a missing key or bad model/option is a one-line ConfigError."""
        return _from_settings(cls, "video", "Seedance", settings, keys)

    # ------------------------------------------------------------ request building
    def create_params(self, request: VideoRequest) -> dict[str, Any]:
        """The tasks.create arguments; validated against the catalog first (no spend)."""
        cap = self.spec.capabilities
        catalog.validate_video(
            self.spec,
            request.seconds,
            request.resolution,
            request.aspect,
            audio=request.audio,
            last_frame=request.last_frame is not None,
        )
        content: list[dict[str, Any]] = [
            {"type": "text", "text": sent_prompt(request.prompt)},
            {
                "type": "image_url",
                "image_url": {"url": data_uri(request.keyframe)},
                "role": "first_frame",
            },
        ]
        if request.last_frame is not None:
            content.append(
                {
                    "type": "image_url",
                    "image_url": {"url": data_uri(request.last_frame)},
                    "role": "last_frame",
                }
            )
        params: dict[str, Any] = {
            "model": self.model,
            "content": content,
            "ratio": request.aspect,
            "resolution": request.resolution,
            "duration": int(request.seconds),
            "seed": int(request.seed),
            "camera_fixed": bool(self.options.get("camera_fixed", False)),
            "watermark": bool(self.options.get("watermark", False)),
        }
        if cap.audio:
            params["generate_audio"] = bool(request.audio)
        if self.options.get("service_tier"):
            params["service_tier"] = str(self.options["service_tier"])
        if self.options.get("execution_expires_after"):
            params["execution_expires_after"] = int(self.options["execution_expires_after"])
        return params

    # ------------------------------------------------------------ API
    async def submit(self, request: VideoRequest) -> str:
        """Create the task; return its id. Nothing else (the caller journals the id)."""
        with _for_scene(request.scene_id):
            # in a thread: it reads and may convert the keyframe (`data_uri`)
            params = await asyncio.to_thread(self.create_params, request)
            try:
                task = await self._ark.get().content_generation.tasks.create(**params)
            except Exception as e:
                if _is_ark_error(e):
                    raise map_ark_error(
                        e, self.spec, during="submit", options=self.options, timeout=self.timeout
                    ) from None
                if isinstance(e, json.JSONDecodeError):
                    # a 200 said to be JSON and cut off on its way (the SDK parses it
                    # whole): the task was made; as an answer without its id, below
                    raise ConnectionLost(
                        f"submit: the answer (HTTP 200) is JSON cut off ({e})",
                        provider=PROVIDER,
                        sent=True,
                        answered=True,
                        status=200,
                    ) from None
                raise
            task_id = getattr(task, "id", None)
            if not task_id:
                # a 200 with no task id in it (a proxy's page, an answer cut short): the
                # task was made, and bills. As an answer lost (kept counted): the pipeline
                # looks for it in the task list and takes it. Said as a JobFailed that
                # named the console, the row was left unknown and the next render made,
                # and paid for, a second task (the provider-faults audit)
                raise ConnectionLost(
                    "submit: the answer (HTTP 200) carries no task id",
                    provider=PROVIDER,
                    sent=True,
                    answered=True,
                    status=200,
                )
            return str(task_id)

    async def poll(self, remote_id: str) -> JobState:
        """One look at the task; a content-filter failure comes back as status "rejected"."""
        try:
            t = await self._ark.get().content_generation.tasks.get(task_id=remote_id)
        except Exception as e:
            if _is_ark_error(e):
                raise map_ark_error(
                    e, self.spec, during=f"poll {remote_id}", timeout=self.timeout
                ) from None
            raise
        raw = str(getattr(t, "status", "") or "").lower()
        # a status this client does not know (one Ark adds: "preprocessing") is waited
        # for as a running task, to the job's deadline, then left to the next render: taken
        # for "failed", the job was refunded at $0 while Ark went on to make and bill it
        status: JobStatus = _STATUSES.get(raw, "running")
        usage: dict[str, Any] = {}
        u = getattr(t, "usage", None)
        tokens = getattr(u, "completion_tokens", None) if u is not None else None
        if tokens is not None:
            usage["completion_tokens"] = int(tokens)
        for key in ("duration", "resolution", "ratio", "service_tier", "generate_audio"):
            v = getattr(t, key, None)
            if v is not None:
                usage[key] = v
        content = getattr(t, "content", None)
        video_url = getattr(content, "video_url", None) if content is not None else None
        error: str | None = None
        err = getattr(t, "error", None)
        if err is not None:
            code = getattr(err, "code", None)
            msg = getattr(err, "message", None)
            if code or msg:
                error = f"{code}: {msg}" if code else str(msg)
            if status == "failed" and is_content_filter(code):
                status = "rejected"
        if status == "succeeded" and not video_url:
            status, error = "failed", "succeeded without a video_url"
        if usage:
            self.usage[remote_id] = usage
        finished_at = created_at = None
        if status == "succeeded":
            # the task's last change is its finish: its video_url is valid 24 h from then
            with contextlib.suppress(TypeError, ValueError):
                finished_at = float(getattr(t, "updated_at", None) or 0) or None
        with contextlib.suppress(TypeError, ValueError):
            created_at = float(getattr(t, "created_at", None) or 0) or None
        return JobState(
            remote_id=remote_id,
            status=status,
            video_url=str(video_url) if video_url else None,
            error=error,
            usage=usage,
            finished_at=finished_at,
            created_at=created_at,
            unknown_status=raw if raw not in _STATUSES and raw not in ("", "pending") else None,
        )

    async def fetch(self, state: JobState, request: VideoRequest, dest: Path) -> Path:
        """Download the clip to a temp file beside `dest`, validate it, rename it into place.

        A truncated or unreadable download raises Transient: the caller fetches the SAME
        task again. A refused URL (403/404/410) is refreshed once by polling the task
        again; still refused, `_gone` tells a result gone for good (`ResultGone`: the
        task was billed and only a new one makes the clip) from one that should still be
        there (`JobFailed`: nothing is bought, the next render tries it again). One
        refresh per call: a JobFailed is not retried within the render (`with_retry`
        retries only Transient), so a URL that keeps refusing is no loop.
        """
        with _for_scene(request.scene_id):
            if state.status != "succeeded" or not state.video_url:
                raise JobFailed(
                    f"fetch {state.remote_id}: task is {state.status}, nothing to download",
                    provider=PROVIDER,
                )
            make_dirs(dest.parent)
            url = state.video_url
            try:
                await self._download(url, dest, request)
            except JobFailed as e:
                fresh = await self.poll(state.remote_id)  # the signed URL may have expired
                known = fresh if fresh.finished_at else state
                kept = fresh.status == "succeeded" and bool(fresh.video_url)
                if not kept or fresh.video_url == url:
                    raise self._gone(e, known, url, kept=kept) from None
                assert fresh.video_url is not None
                try:
                    await self._download(fresh.video_url, dest, request)
                except JobFailed as again:
                    raise self._gone(again, known, fresh.video_url, kept=True) from None
            return dest

    def _gone(self, e: JobFailed, state: JobState, url: str, *, kept: bool) -> JobFailed:
        """`e`, a refused download of `state`'s video at `url`, as what it means for the
        task's result. `state.finished_at`: the task's own `updated_at`, else the time an
        earlier render billed it, or this render created it (`Pipeline._clip_once`).

        - A 403 more than `result_url_seconds` after the task finished: `ResultGone`
          (its URL expired), whatever the URL carries; within them a plain `JobFailed`.
        - A 404/410 (`NotFoundAtUrl`, from `_status_error`) of a task that still reports
          its video (`kept`: the fresh poll says succeeded) and finished less than
          `result_url_seconds` ago, on a signed URL whose own expiry (`url_expired`) has
          not passed: a `JobFailed`, tried again by the next render, nothing bought. The URL
          should still be there; a 404 minutes after the finish is far likelier the
          object store or CDN not having the object everywhere yet, or a proxy's, than
          the result gone, and taking it for gone bought the clip again.
        - A 404/410 past that validity, on a URL past its own expiry or carrying none
          (not signed: nothing says it will ever serve the clip), or of a task that
          no longer reports a video: `ResultGone`. So too when the finish is unknown:
          nothing then bounds the result's age (a task found after a crash may have
          finished days ago), and a `JobFailed` would say "render again retries" of a
          result that may be long gone, render after render, with no time to end it."""
        age = time.time() - state.finished_at if state.finished_at else None
        within = age is not None and age <= self.result_url_seconds
        if isinstance(e, NotFoundAtUrl) and url_expiry(url) is None:
            # as a keyframe's (`_gone_for_good`): a URL that carries no expiry (not
            # signed, as Ark's are) was taken for a storage delay within the 24 h, the
            # job kept, and every render failed the scene on it again for a day
            return ResultGone(
                f"{e.message}: it carries no expiry (not signed, as Ark's are), so no "
                "delay in its storage",
                provider=PROVIDER,
                scene_id=e.scene_id,
            )
        if isinstance(e, NotFoundAtUrl) and within and kept and not url_expired(url):
            assert age is not None
            return JobFailed(
                f"{e.what}: HTTP {e.status}, the result was not found, though it should "
                f"still be there: the task finished {age_text(age)} ago and its video is kept "
                f"{self.result_url_seconds / 3600:.0f} h (a delay at the provider's storage, "
                "or a proxy's?). The job is kept and the next render tries it again; "
                "nothing is bought again",
                provider=PROVIDER,
                scene_id=e.scene_id,
            )
        if isinstance(e, ResultGone) or age is None or within:
            return e
        why = f"{e.message}; the task finished {age / 3600:.0f} h ago, and its URL is valid 24 h"
        return ResultGone(why, provider=PROVIDER, scene_id=e.scene_id)

    async def _download(self, url: str, dest: Path, request: VideoRequest) -> None:
        # not mkstemp: its 0600 made every clip.mp4 unreadable to the run folder's other
        # users (a shared group folder), unlike the keyframes; 0666 less the umask
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            got = 0  # bytes of the clip, decoded
            sent = 0  # bytes on the wire, which Content-Length counts (gzip: fewer)
            want: str | None = None
            with os.fdopen(fd, "wb") as f:
                try:
                    # httpx's timeout is per read: a link that trickles bytes would never
                    # trip it, so the whole download has a deadline too
                    async with (
                        asyncio.timeout(self.download_timeout),
                        httpx.AsyncClient(
                            timeout=_http_timeout(self.download_timeout),
                            follow_redirects=True,
                            verify=shared_tls("httpx"),
                        ) as client,
                        client.stream("GET", url) as r,
                    ):
                        if r.status_code >= 400:
                            raise _status_error(r, "video download", url)
                        want = r.headers.get("content-length")
                        async for chunk in r.aiter_bytes():
                            f.write(chunk)
                            got += len(chunk)
                            killpoint("download")
                        sent = r.num_bytes_downloaded
                except httpx.HTTPError as e:
                    raise Transient(
                        f"video download failed after {got} bytes ({type(e).__name__})",
                        provider=PROVIDER,
                    ) from None
                except TimeoutError:
                    raise Transient(
                        f"video download took longer than {self.download_timeout:.0f} s "
                        f"({got} bytes so far; providers.{PROVIDER}.download_timeout sets it)",
                        provider=PROVIDER,
                    ) from None
                f.flush()
                os.fsync(f.fileno())
            if got == 0:
                raise Transient("video download was empty", provider=PROVIDER)
            if want is not None and want.isdigit() and int(want) != sent:
                raise Transient(
                    f"video download truncated ({sent} of {want} bytes)", provider=PROVIDER
                )
            await asyncio.to_thread(_check_clip, tmp, float(request.seconds))
            os.replace(tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    async def cancel(self, remote_id: str) -> None:
        """Cancel a queued task (or delete a finished one's record)."""
        try:
            await self._ark.get().content_generation.tasks.delete(remote_id)
        except Exception as e:
            if _is_ark_error(e):
                raise map_ark_error(
                    e, self.spec, during=f"cancel {remote_id}", timeout=self.timeout
                ) from None
            raise

    async def find_pending(
        self, created_after: float, *, model: str | None = None, page_size: int = 100
    ) -> list[PendingTask]:
        """Tasks of `model` created at or after `created_after` (epoch s), newest first.

        For crash recovery when a task id was lost between create and journaling: the
        caller matches them to scenes (the list does not echo prompts or frames).

        Each task once: a task made between two page reads moves the older ones one
        place on, and the last of a page came again on the next (one job counted as two,
        booked on two rows).
        """
        out: list[PendingTask] = []
        seen: set[str] = set()
        page = 1
        while True:
            try:
                resp = await self._ark.get().content_generation.tasks.list(
                    page_num=page, page_size=page_size, model=model or self.model
                )
            except Exception as e:
                if _is_ark_error(e):
                    raise map_ark_error(e, self.spec, during="list", timeout=self.timeout) from None
                raise
            items = list(getattr(resp, "items", None) or [])
            for t in items:
                created = int(getattr(t, "created_at", 0) or 0)
                if created >= created_after and str(t.id) not in seen:
                    seen.add(str(t.id))
                    out.append(
                        PendingTask(
                            remote_id=str(t.id),
                            status=str(getattr(t, "status", "")),
                            created_at=created,
                            model=str(getattr(t, "model", "") or ""),
                        )
                    )
            total = int(getattr(resp, "total", 0) or 0)
            oldest = min((int(getattr(t, "created_at", 0) or 0) for t in items), default=0)
            if not items or page * page_size >= total or oldest < created_after:
                return out
            page += 1


def _check_clip(path: Path, seconds: float) -> None:
    """A real video of about the requested length, else Transient (re-download the job)."""
    from mindmovie.media import FFmpegError, probe

    try:
        info = probe(path)
    except (FFmpegError, OSError) as e:
        # (the download's temporary file, gone once this is said, was named as its cause)
        said = str(e).replace(str(path), "the file downloaded").strip()
        said = "; ".join(ln.strip() for ln in said.splitlines() if ln.strip())
        raise Transient(f"downloaded clip is not readable ({said})", provider=PROVIDER) from None
    if info.video is None:
        raise Transient("downloaded clip has no video stream", provider=PROVIDER)
    if abs(info.duration - seconds) > DURATION_TOLERANCE:
        raise Transient(
            f"downloaded clip lasts {info.duration:.2f} s, expected {seconds:g} s",
            provider=PROVIDER,
        )
