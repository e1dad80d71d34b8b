"""Google providers: Gemini image keyframes and Veo image-to-video, via google-genai.

Why the mode handling looks the way it does (provider-wire.md §0, §2): google-genai 3.x
refuses Veo in Gemini-Developer (API-key) mode before sending anything, so Veo runs in
Vertex mode - "express" (an API key with vertexai=True, the default here) or
project/location with Application Default Credentials. Developer mode stays allowed for
Gemini image keyframes, which work in every mode.

The SDK's own retries stay off: its retry options are one attempt (`_make_client`; with
none given, its aiohttp transport sends a request again by itself): the one retry
policy in `mindmovie.retry` wraps every call made here, so each method makes exactly
one request and maps its failure onto the taxonomy in `providers.base`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn, Self, TypeVar

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from mindmovie import catalog
from mindmovie.catalog import ModelSpec
from mindmovie.config import KEY_VARIABLES, ConfigError, Keys, Settings
from mindmovie.costs import gemini_keyframe_text
from mindmovie.providers.base import (
    AuthError,
    ConnectionLost,
    ContentRejected,
    ImageResult,
    InvalidRequest,
    JobFailed,
    JobNotFound,
    JobState,
    KeyframeRequest,
    ProviderError,
    RateLimited,
    ResultGone,
    TlsKind,
    Transient,
    VideoRequest,
    age_text,
    answer_charset,
    answer_text,
    busy_advice,
    connection_failed,
    key_fingerprint,
    made_maybe,
    never_connected,
    origin_url,
    raised_in,
    rate_limit_advice,
    shared_tls,
    unknown_options,
    url_expired,
)
from mindmovie.retry import retry_after_seconds

try:  # google-genai 3.x talks through httpx2 when it is installed; both raise raw errors
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
        httpx.TransportError,
        httpx2.TransportError,
    )
    #: the transport errors that are a timeout (a line then names the timeout setting)
    _TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (
        httpx.TimeoutException,
        httpx2.TimeoutException,
    )
except ImportError:  # pragma: no cover - httpx2 is optional for the SDK
    _TRANSPORT_ERRORS = (httpx.TransportError,)
    _TIMEOUT_ERRORS = (httpx.TimeoutException,)
try:  # ... and through aiohttp, when that is installed: its errors come out raw too
    import aiohttp

    _TRANSPORT_ERRORS += (aiohttp.ClientError,)
    _TIMEOUT_ERRORS += (aiohttp.ServerTimeoutError,)
except ImportError:
    pass

T = TypeVar("T")

PROVIDER = "google"
Stage = Literal["keyframes", "video"]
ModeKind = Literal["express", "project", "developer"]

#: how the key variables read in messages: "GOOGLE_API_KEY (or GEMINI_API_KEY)"
_KEY_VARS = KEY_VARIABLES[PROVIDER]
KEY_NAMES = _KEY_VARS[0] + (f" (or {', '.join(_KEY_VARS[1:])})" if len(_KEY_VARS) > 1 else "")


class _SaidOnce(logging.Filter):
    """Drops google-genai's "Both GOOGLE_API_KEY and GEMINI_API_KEY are set" warning: it
    logs it for every client it builds (two a render), even when both hold the same key
    and the key is passed explicitly. mindmovie picks the key itself, as the SDK would
    (GOOGLE_API_KEY first), and says so once per command, only when the two differ
    (`config.key_conflicts`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Both GOOGLE_API_KEY and GEMINI_API_KEY")


logging.getLogger("google_genai._api_client").addFilter(_SaidOnce())
# google-genai 3.x warns at every Imagen call that generate_images will go in its next
# major version; Imagen's :predict is still the way Imagen is called (provider-wire.md §2)
warnings.filterwarnings("ignore", message="The generate_images method is deprecated")

#: how far a fetched clip's playable length may be from the requested seconds
DURATION_TOLERANCE = 1.0
#: how much shorter than its own header a clip's frames may play before it counts as cut
TRUNCATION_TOLERANCE = 0.5

#: settings.video.options / settings.keyframes.options keys this provider understands
VIDEO_OPTIONS = frozenset({"negative_prompt", "person_generation", "enhance_prompt"})
KEYFRAME_OPTIONS = frozenset({"image_size", "person_generation"})

#: finish / block reasons that mean "the content filter said no"
_FILTER_REASONS = frozenset(
    {
        "SAFETY",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "RECITATION",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
        "JAILBREAK",
    }
)
#: words in a 400 or a failed operation's message that mean a content-policy refusal
#: ErrorInfo reasons of a 400 that is about the key (`_key_refused`)
_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED"})
_KEY_WORDS = re.compile(r"api key (?:not valid|not found|expired)", re.IGNORECASE)
_POLICY_WORDS = re.compile(
    r"responsible ai|usage guidelines|violat\w* (?:our|google)|sensitive words|"
    r"safety filter|rai filtered|prohibited content|content polic",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------- modes
@dataclass(frozen=True)
class Mode:
    """How the client talks to Google: which API, and with what credentials."""

    kind: ModeKind
    api_key: str | None = field(default=None, repr=False)  # never in reprs or tracebacks
    project: str | None = None
    location: str | None = None

    @property
    def vertex(self) -> bool:
        return self.kind != "developer"

    @property
    def label(self) -> str:
        return {"project": "vertex project", "express": "vertex express"}.get(
            self.kind, "developer"
        )

    def describe(self) -> str:
        if self.kind == "project":
            where = "/".join(part or "?" for part in (self.project, self.location))
            return f"vertex project {where} (ADC)"
        if self.kind == "express":
            return "vertex express (API key)"
        return "developer (API key)"


def _resolve_mode(settings: Settings) -> Mode:
    """The mode the settings ask for, without the key (project+location win over a key)."""
    ps = settings.providers.google
    if ps.project_mode:
        return Mode("project", project=ps.project, location=ps.location)
    return Mode("express" if ps.vertexai else "developer")


def describe_mode(settings: Settings, keys: Keys) -> str:
    """One line for `doctor`: the mode and what it authenticates with (never the key)."""
    mode = _resolve_mode(settings)
    text = mode.describe()
    if mode.kind == "project" and not (mode.project and mode.location):
        return f"{text}: set both providers.google.project and providers.google.location"
    if mode.kind != "project" and keys.google is None:
        return f"{text}: {KEY_NAMES} not set"
    return text


def adc_file_problem(path: str) -> str | None:
    """Why google-auth cannot load this credentials file (None when it can), read as
    `google.auth.default` reads it but with no request ever sent: no scopes (so an
    external account's project is not looked up) and a transport that refuses."""
    import warnings

    from google.auth import exceptions as gae
    from google.auth import load_credentials_from_file

    def offline(*args: object, **kwargs: object) -> object:
        raise gae.TransportError("no request is sent to check a file")  # type: ignore[no-untyped-call]

    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError):
        pass  # google-auth says why in its words, below
    else:
        if not isinstance(info, dict):  # google-auth: AttributeError, a traceback
            return "not a credentials file (its JSON is not an object)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "generic load method" (DeprecationWarning)
            load_credentials_from_file(path, request=offline)  # type: ignore[no-untyped-call]
    except gae.TransportError:
        return None  # loaded; only a network lookup (the project) was left out
    except Exception as e:  # whatever it is, google-auth cannot use the file
        first = e.args[0] if e.args and isinstance(e.args[0], str) else str(e)
        return first.rstrip(".") or type(e).__name__
    return None


def adc_file_in_use() -> str | None:
    """The credentials file `google.auth.default` would load first (its environment
    variable, else gcloud's well-known file when it exists); None when neither is there
    (google-auth would then ask the Compute Engine metadata server)."""
    from google.auth import _cloud_sdk, environment_vars

    explicit = os.environ.get(environment_vars.CREDENTIALS, "")
    if explicit:
        return explicit  # used or failed on: google-auth does not look further
    gcloud_file = str(_cloud_sdk.get_application_default_credentials_path())  # type: ignore[no-untyped-call]
    return gcloud_file if os.path.isfile(gcloud_file) else None


def _stage_label(settings: Settings, stage: Stage) -> str:
    return f"{stage} provider google (preset {settings.preset})"


def _mode_for(settings: Settings, keys: Keys, stage: Stage) -> Mode:
    """The usable mode for `stage`, or a one-line ConfigError saying what to set."""
    mode = _resolve_mode(settings)
    who = _stage_label(settings, stage)
    if (refused := _developer_refusal(settings, stage)) is not None:
        raise refused
    if mode.kind == "project":
        if not (mode.project and mode.location):
            # led by the half that is set, as other settings errors are led by their
            # setting: the CLI puts where it was written (file:line, variable) in front
            given, missing = (
                ("project", "location (e.g. us-central1)")
                if mode.project
                else ("location", "project")
            )
            raise ConfigError(
                f"providers.google.{given}: {who}: Vertex project mode needs "
                f"providers.google.{missing} as well (or unset {given} to use express "
                f"mode with {KEY_NAMES})"
            )
        # a credentials file google-auth cannot load failed the first google call, after
        # the planner's (paid) call, and a JSON that is not an object did so in a traceback
        # (AttributeError inside google-auth): refused here, before anything runs
        path = adc_file_in_use()
        if path is not None and (problem := adc_file_problem(path)):
            raise ConfigError(
                f"{who}: Vertex project mode authenticates with Application Default "
                f"Credentials, and {path} cannot be used: {problem}; run `gcloud auth "
                "application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS to a "
                f"service-account key file, or unset project and location for {KEY_NAMES}"
            )
        if path is None:
            # no file at all, on a machine that is not Google's (whose metadata server
            # could serve them): doctor said FAIL, and the render paid the planner, then
            # every google call failed "no usable Application Default Credentials"
            from mindmovie.doctor import _adc_lookup

            found, where = _adc_lookup()
            if found == "none":
                raise ConfigError(f"{who}: Vertex project mode needs credentials; {where}")
        return mode
    if keys.google is None:
        raise ConfigError(
            f"{who}: {KEY_NAMES} is not set; {mode.label} mode needs an API key"
            + (
                " (or set providers.google.project and location to use ADC)"
                if mode.kind == "express"
                else ""
            )
        )
    return Mode(mode.kind, api_key=keys.google.get_secret_value())


def _developer_refusal(settings: Settings, stage: Stage) -> ConfigError | None:
    """What developer mode (providers.google.vertexai: false) cannot do for `stage`, as a
    one-line ConfigError; None when it can. For render (`_mode_for`) and for the commands
    that build no client (`check_options`: doctor, estimate, status), which priced Veo
    clips and Imagen keyframes that render then refused."""
    if _resolve_mode(settings).kind != "developer":
        return None
    who = _stage_label(settings, stage)
    # developer mode is only ever asked for (vertexai defaults to true): its refusals are
    # led by providers.google.vertexai, as other settings errors are led by their
    # setting, so the CLI puts where it was set (file:line, variable) in front
    developer = "providers.google.vertexai: false (developer mode)"
    ps = settings.providers.google
    if ps.project or ps.location:
        # project and location were left out without a word, the calls made with the
        # key in developer mode (google-genai refuses them outside Vertex: "Gemini API
        # does not support project/location")
        given = " and ".join(
            f"providers.google.{n}" for n in ("project", "location") if getattr(ps, n)
        )
        return ConfigError(
            f"{developer}: {who}: {given} {'are' if ' and ' in given else 'is'} set, and "
            "developer mode uses neither (it calls the Gemini API with "
            f"{KEY_NAMES}); set providers.google.vertexai: true for Vertex project mode "
            "with Application Default Credentials, or unset project and location"
        )
    if stage == "video":
        return ConfigError(
            f"{developer}: {who}: Veo needs Vertex mode (google-genai 3.x refuses it in "
            f"developer mode); set providers.google.vertexai: true and use {KEY_NAMES} "
            "(express mode), "
            "or set providers.google.project and location with Application Default Credentials"
        )
    with contextlib.suppress(InvalidRequest):  # an unknown model is said elsewhere
        model = catalog.resolve(PROVIDER, "keyframes", settings.keyframes.model)
        if _is_imagen(model.id):
            # google-genai refuses generate_images in developer mode, at each call
            return ConfigError(
                f"{developer}: {who}: {model.key} needs Vertex mode (google-genai "
                "refuses Imagen in developer mode); set providers.google.vertexai: "
                f"true and use {KEY_NAMES} (express mode), or choose keyframes.model "
                "gemini-2-5-flash-image"
            )
    # ImageConfig.person_generation is "only supported in Gemini Enterprise Agent
    # Platform mode": a ValueError at each generate_content, after the planner was paid
    if settings.keyframes.options.get("person_generation") is None:
        return None
    return ConfigError(
        "keyframes.options.person_generation: google-genai sends it only in Vertex mode "
        "(developer mode refuses it at each keyframe); set providers.google.vertexai: true "
        f"and use {KEY_NAMES} (express mode), or leave person_generation out"
    )


#: what each field of an operation's `job_origin` is, for a message saying which changed
ORIGIN_NAMES = {
    "mode": "the mode (providers.google.vertexai, project and location)",
    "base_url": "providers.google.base_url",
    "project": "providers.google.project",
    "location": "providers.google.location",
    "key": KEY_NAMES,
}


def sdk_base_url_variable(mode: Mode) -> tuple[str, str] | None:
    """(variable, address) when google-genai takes its endpoint in `mode` from the
    environment (GOOGLE_GEMINI_BASE_URL, GOOGLE_VERTEX_BASE_URL: read by the SDK when
    base_url is not set; a .env line is not, as the SDK is not given it): the calls,
    the key with them, went there without a word (doctor says it now)."""
    name = "GOOGLE_GEMINI_BASE_URL" if mode.kind == "developer" else "GOOGLE_VERTEX_BASE_URL"
    value = os.environ.get(name)
    return (name, value) if value else None


def _sdk_base_url(mode: Mode) -> str:
    """The endpoint google-genai calls in `mode` when base_url is not set (its
    `BaseApiClient`): the one an explicit base_url of the same value is the same as.
    (Not the address a GOOGLE_*_BASE_URL variable gives, `sdk_base_url_variable`:
    jobs recorded with this one would then read as made elsewhere, and be bought
    again.)"""
    if mode.kind == "developer":
        return "https://generativelanguage.googleapis.com/"
    location = mode.location if mode.kind == "project" else None
    if not location or location == "global":
        return "https://aiplatform.googleapis.com/"
    if location in ("us", "eu"):  # google-genai's multi-regional locations
        return f"https://aiplatform.{location}.rep.googleapis.com/"
    return f"https://{location}-aiplatform.googleapis.com/"


def job_origin(settings: Settings, keys: Keys, salt: bytes) -> dict[str, str]:
    """Where a Veo operation is made, and so the only place it can be polled: the mode
    (Vertex express, project/location, or developer: each its own operations), the
    base URL, the project and location, and the key (another project's key does not
    see the operation). The key only as a salted one-way fingerprint, never itself."""
    mode = _resolve_mode(settings)
    ps = settings.providers.google
    origin = {"mode": mode.kind, "base_url": origin_url(ps.base_url, _sdk_base_url(mode))}
    if mode.kind == "project":
        origin.update(project=mode.project or "", location=mode.location or "")
    else:
        key = keys.google.get_secret_value() if keys.google is not None else None
        origin["key"] = key_fingerprint(key, salt)
    return origin


#: set by `_call` while its SDK call runs: what to do when one of the call's answers
#: begins (given its HTTP status)
_ANSWER_STARTED: contextvars.ContextVar[Callable[[int], None] | None] = contextvars.ContextVar(
    "google_answer_started", default=None
)


class _UnreadableAnswer(Exception):
    """An error answer whose body is not in its charset (a proxy's page in ISO-8859-1):
    google-genai reads it with `response.json()`, whose UnicodeDecodeError (a
    ValueError) was told as the SDK refusing a parameter, an InvalidRequest whatever the
    status: "'utf-8' codec can't decode byte 0xe9 ...", and a Veo create answered 502
    refunded though it may have made its operation. Raised by `_answer_started` in its
    place, mapped by its status as the SDK's own error would be (`as_api_error`)."""

    def __init__(self, response: Any, charset: str) -> None:
        self.response = response
        self.code = int(response.status_code)
        text = bytes(response.content).decode(charset, errors="replace")
        self.body: Any = None
        with contextlib.suppress(ValueError):
            self.body = json.loads(text)  # Google's error shape, in another charset
        if not isinstance(self.body, dict):
            said = answer_text(text, str(response.headers.get("content-type", "")))
            self.body = {"error": {"code": self.code, "message": said}}
        super().__init__(f"{self.code} {response.reason_phrase}: {text}")

    def as_api_error(self) -> genai_errors.APIError:
        """The SDK's error for this answer, had it read its text."""
        kind = genai_errors.ClientError if self.code < 500 else genai_errors.ServerError
        return kind(self.code, self.body, self.response)


async def _answer_started(response: Any) -> None:
    """httpx's response hook: called once the answer's headers are in (the request is
    sent and the model's work done), before its body is read; `_call`'s deadline starts
    here. The hook runs in the task that awaits the SDK call, so it sees `_call`'s
    context. An error answer's body is read here (the SDK reads it whole anyway) to
    check it is text the SDK can read (`_UnreadableAnswer`)."""
    started = _ANSWER_STARTED.get()
    if started is not None:
        started(int(response.status_code))
    if response.is_error:
        await response.aread()
        charset = answer_charset(bytes(response.content), response.charset_encoding)
        if charset is not None:
            raise _UnreadableAnswer(response, charset)


#: the answers httpx follows to the address in their Location
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: the hosts a redirect may take the key to: Google's own, which it belongs to (a
#: download may be sent on to another of them)
_GOOGLE_HOSTS = (".googleapis.com", ".google.com", ".googleusercontent.com")


async def _key_stays_home(response: Any) -> None:
    """httpx's response hook: a redirect to another host (but Google's) is followed
    without the key.
    google-genai follows redirects (Veo's download is one, to where the file is kept),
    and httpx drops only `Authorization` from one to another host, as the request to
    follow is made from the one redirected: the key, sent as `x-goog-api-key`, went
    to wherever a base_url's 307 pointed, with every call. Dropped from that request
    here, before httpx copies its headers."""
    if response.status_code not in _REDIRECTS or "location" not in response.headers:
        return
    request = response.request
    try:
        target = request.url.join(response.headers["location"])
    except Exception:  # an address httpx cannot read: it fails the call itself
        return
    host = str(target.host).lower()
    if target.scheme == "https" and host.endswith(_GOOGLE_HOSTS):
        return  # Google's own (a download's redirect to where the file is kept)
    if (target.scheme, target.host, target.port) != (
        request.url.scheme,
        request.url.host,
        request.url.port,
    ):
        for name in ("x-goog-api-key", "authorization"):
            if name in request.headers:
                del request.headers[name]


def _tls_args(mode: Mode, http: types.HttpOptions) -> dict[str, Any]:
    """The TLS contexts google-genai makes for each client (its httpx client's `verify`;
    `ssl` for its websockets and aiohttp), made as it makes them but once a process
    (`shared_tls`): two CA loads a client, ~35 ms of CPU. None for Vertex AI, where the
    SDK looks for a client certificate (mTLS) and picks its endpoint by it, nor when the
    SDK no longer says which HTTP library it talks through (a private function)."""
    if mode.vertex:
        return {}
    from google.genai import _api_client

    backend = getattr(_api_client, "_get_http_client_backend", None)
    if backend is None:
        return {}
    env = os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")
    kind: TlsKind = ("genai-env" if env else "httpx2") if backend(http) == "httpx2" else "certifi"
    return {"verify": shared_tls(kind), "ssl": shared_tls("certifi")}


def _make_client(settings: Settings, mode: Mode) -> genai.Client:
    """A client with our timeout and base_url, and retry options of ONE attempt (one
    policy retries): with none set, google-genai talking through aiohttp sent a request
    whose connection broke again by itself, a Veo create too (two operations billed, one
    on no ledger row).
    Its httpx client tells `_call` when each answer begins (`_answer_started`) and keeps
    the key from other hosts on a redirect (`_key_stays_home`). It always talks through
    httpx: with aiohttp installed (not a dependency: another package's, in the same
    environment) google-genai took aiohttp, which drops those hooks (it keeps only the
    arguments aiohttp takes): the key followed a redirect to another host, a 400 answered
    in another encoding was retried as a passing fault, a timeout named no setting (7
    tests failed with aiohttp installed). `has_aiohttp` is the switch the SDK's own tests
    turn."""
    from google.genai import _api_client

    if getattr(_api_client, "has_aiohttp", False):
        _api_client.has_aiohttp = False
    ps = settings.providers.google
    http = types.HttpOptions(
        timeout=int(ps.timeout * 1000),
        async_client_args={"event_hooks": {"response": [_answer_started, _key_stays_home]}},
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    assert http.async_client_args is not None
    http.async_client_args.update(_tls_args(mode, http))
    if ps.base_url:
        http.base_url = ps.base_url
    try:
        if mode.kind == "project":
            return genai.Client(
                vertexai=True, project=mode.project, location=mode.location, http_options=http
            )
        return genai.Client(vertexai=mode.vertex, api_key=mode.api_key, http_options=http)
    except ValueError as e:
        raise ConfigError(f"google ({mode.describe()}): {e}") from None


# ---------------------------------------------------------------------------- catalog
def _model_spec(stage: Stage, name: str | None) -> ModelSpec:
    """The catalog row for `name` (key or id) or google's default for `stage`."""
    try:
        return catalog.resolve(PROVIDER, stage, name)
    except InvalidRequest as e:  # a config mistake, reported before anything runs
        raise ConfigError(e.message) from None


def _catalog_keys(stage: Stage, refused: str) -> list[str]:
    """The catalog's google models for `stage` but the one refused (`refused`, its id or
    key), by the names config.yaml takes: a 404's suggestion. It listed the wire ids,
    the refused model among them."""
    return [m.key for m in catalog.models(PROVIDER, stage) if refused not in (m.id, m.key)]


# ---------------------------------------------------------------------------- errors
def _allowed(ctx: _Ctx, param: str | None) -> str:
    """The catalog's allowed values of the parameter a 400 names, as Ark's refusals end
    (`catalog.allowed_for`): "Invalid value at durationSeconds: 4 is not supported" named
    no value that is. Not a size: Google's are "1K"/"2K", not the catalog's pixels; ""
    for a model the catalog does not hold."""
    if param is None or param == "size":
        return ""
    try:
        spec = catalog.resolve(PROVIDER, ctx.stage, ctx.model)
    except InvalidRequest:
        return ""
    # the render sends only values the catalog allows (`catalog.validate_video`), so a
    # refused one is among them: "allowed 4, 6, 8 s" of a refused 4 read as a mistake
    return catalog.allowed_for(spec, param, lead="the catalog lists")


def _retry_after(e: genai_errors.APIError) -> float | None:
    """Seconds from a Retry-After header, else from a google.rpc.RetryInfo detail."""
    resp = getattr(e, "response", None)
    from_header = retry_after_seconds(getattr(resp, "headers", None))
    if from_header is not None:
        return from_header
    # (a proxy's own body may put a string where Google puts the error object)
    error = e.details.get("error") if isinstance(e.details, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for d in details if isinstance(details, list) else []:
        delay = d.get("retryDelay") if isinstance(d, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            with contextlib.suppress(ValueError):
                return max(0.0, float(delay[:-1]))
    return None


@dataclass(frozen=True)
class _Ctx:
    """What an error message needs to say where and what to change."""

    stage: Stage
    model: str
    mode: Mode
    #: the operation a call reads (a poll): a 404 is then about it, not the model
    operation: str | None = None
    #: the call downloads the operation's video: a 404 is the file gone (deleted or
    #: expired), not the model or the operation
    download: bool = False
    #: the call creates a paid operation (a video create): a 5xx but 503 is a lost answer
    creates: bool = False
    #: seconds one call's whole answer may take from its first byte (the SDK's timeout is
    #: per HTTP read, so an answer sent a piece at a time, e.g. a poll carrying its video
    #: inline, never trips it); None: no deadline of its own
    deadline: float | None = None
    #: the stage's `*.options` sent with the call: a 400 naming one of them is about
    #: that setting (`_refused_option`)
    options: dict[str, Any] = field(default_factory=dict, compare=False)


#: the JSON fields google-genai sends each option as (Veo's parameters, Gemini's
#: imageConfig, Imagen's parameters), which Google's 400 names
_OPTION_FIELDS: dict[str, tuple[str, ...]] = {
    "negative_prompt": ("negativePrompt",),
    "person_generation": ("personGeneration",),
    "enhance_prompt": ("enhancePrompt",),
    "image_size": ("imageSize", "sampleImageSize"),
}


def _refused_option(e: genai_errors.APIError, ctx: _Ctx) -> tuple[str, Any] | None:
    """The option (name, value as set) a 400 INVALID_ARGUMENT names, if one the person
    set: in a google.rpc.BadRequest detail's fieldViolations[].field, or in the message
    ("allow_all for personGeneration is currently not supported.", "`negativePrompt`
    isn't supported by this model."). Google names the field, not the option, so both
    the wire name and the option's own are looked for, as whole words."""
    texts = [str(e.message or "")]
    error = e.details.get("error") if isinstance(e.details, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for d in details if isinstance(details, list) else []:
        violations = d.get("fieldViolations") if isinstance(d, dict) else None
        for v in violations if isinstance(violations, list) else []:
            if isinstance(v, dict) and v.get("field"):
                texts.append(str(v["field"]))
    said = " ".join(texts)
    for name, value in ctx.options.items():
        if value is None:  # not sent (`_config`)
            continue
        names = "|".join(re.escape(n) for n in (name, *_OPTION_FIELDS.get(name, ())))
        if re.search(rf"(?<![A-Za-z0-9_])(?:{names})(?![A-Za-z0-9_])", said):
            return name, value
    return None


#: the request's fields a 400 may name (the JSON google-genai sends, or its proto name
#: in snake_case), as the parameter names `InvalidRequest.param` takes (Ark's), most
#: specific first
_REQUEST_FIELDS: tuple[tuple[str, str], ...] = (
    ("durationSeconds", "duration"),
    ("aspectRatio", "ratio"),
    ("resolution", "resolution"),
    ("seed", "seed"),
    ("generateAudio", "generate_audio"),
    ("sampleImageSize", "size"),
    ("imageSize", "size"),
    ("lastFrame", "last_frame"),
    ("prompt", "prompt"),
    ("image", "image"),
)
#: a field's name as Google's message quotes it: in backticks ("`durationSeconds` must
#: be ..."), or in quotes ("Invalid value at 'instances[0].duration_seconds'"), or a
#: name no sentence has, in camelCase or snake_case ("aspectRatio 5:1 is not supported")
_QUOTED = re.compile(
    r"`([^`\s]+)`|'([^'\s]+)'|\"([^\"\s]+)\""
    r"|(?<!\w)([a-z]+(?:[A-Z][a-z]+)+|[a-z]+(?:_[a-z]+)+)(?!\w)"
)


def _field_param(path: str) -> str | None:
    """The parameter a field's path names ("generation_config.image_config.aspect_ratio",
    "instances[0].durationSeconds"): one of its parts is a field of `_REQUEST_FIELDS`,
    in camelCase or snake_case."""
    parts = {p.replace("_", "").lower() for p in re.split(r"[.\[\]/]+", path) if p}
    for field_name, param in _REQUEST_FIELDS:
        if field_name.lower() in parts:
            return param
    return None


def _named_param(e: genai_errors.APIError) -> str | None:
    """The request's parameter a 400 names: a google.rpc.BadRequest detail's
    fieldViolations[].field, else a field's name in its message, quoted or as no word is
    written ("`durationSeconds` must be ...", "aspectRatio 5:1 ..."); None when it
    names none: what plan.yaml field or setting to change is said from it
    (`InvalidRequest.param`). Not a plain word of the message: "Image generation is not
    available in your country." named `image`, and the render said to change the
    scene's reference photos."""
    error = e.details.get("error") if isinstance(e.details, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    fields: list[str] = []
    for d in details if isinstance(details, list) else []:
        violations = d.get("fieldViolations") if isinstance(d, dict) else None
        for v in violations if isinstance(violations, list) else []:
            if isinstance(v, dict) and v.get("field"):
                fields.append(str(v["field"]))
    fields += ["".join(m) for m in _QUOTED.findall(str(e.message or ""))]
    for path in fields:
        if (param := _field_param(path)) is not None:
            return param
    return None


#: Google's status names of a refusal of the account, or of where it is used, not of
#: the request: 400 FAILED_PRECONDITION ("Image generation is not available in your
#: country.", "User location is not supported for the API use.", a free tier not
#: offered where the person is), 403 PERMISSION_DENIED (the API not enabled for the
#: key's project, a key suspended): every request is refused alike, whatever it holds
_ACCOUNT_STATUSES = frozenset({"FAILED_PRECONDITION", "PERMISSION_DENIED"})


def _account_advice(ctx: _Ctx, cred: str) -> str:
    """What to do about a refusal of the account or its region (`_ACCOUNT_STATUSES`):
    not the request's fields, which were said to be changed in plan.yaml. Starts
    "check ", as a key's refusal does (a download's 403 is told without it)."""
    said = (
        f"check {cred}, that its account (Google AI Studio or the Cloud project) has the "
        f"API enabled and billing set up, and that {ctx.model} is offered in the region "
        "you call from (Google refused the account, not this request: every request is "
        "refused alike)"
    )
    if ctx.operation or ctx.download:  # (a paid job's poll or video: it was billed)
        return said
    return f"{said}, or choose another {ctx.stage}.model; nothing was billed for it"


def _daily_quota(e: genai_errors.APIError) -> str | None:
    """The quota a 429 says is used up when it is a daily one (a google.rpc.QuotaFailure
    violation's quotaId "GenerateRequestsPerDayPerProjectPerModel-FreeTier", or its
    metric per day), else None. Such a 429 carries a RetryInfo of seconds all the same,
    so it was waited out as a per-minute limit, minutes a call, then said "render again
    once the rate limit allows": it lifts at midnight Pacific time (ai.google.dev's rate
    limits page), or when the project's tier is raised."""
    error = e.details.get("error") if isinstance(e.details, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for d in details if isinstance(details, list) else []:
        violations = d.get("violations") if isinstance(d, dict) else None
        for v in violations if isinstance(violations, list) else []:
            if not isinstance(v, dict):
                continue
            quota = str(v.get("quotaId") or v.get("quotaMetric") or "")
            if _PER_DAY.search(quota):
                return quota
    return None


_PER_DAY = re.compile(r"per[_ ]?day", re.IGNORECASE)


def _pacific_midnight() -> str:
    """When the next midnight Pacific time is here ("23:00 local"), to say when a daily
    quota comes back; "" where the time zone database is missing."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        pacific = ZoneInfo("America/Los_Angeles")
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    now = datetime.now(pacific)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return f" ({midnight.astimezone().strftime('%Y-%m-%d %H:%M')} here)"


def _key_refused(e: genai_errors.APIError) -> bool:
    """Whether a 400 is Google's answer to a key it does not know or no longer takes:
    it says so as 400 INVALID_ARGUMENT with an ErrorInfo reason API_KEY_INVALID (or
    API_KEY_EXPIRED), not as a 401, and was told as a bad request without the key's name."""
    error = e.details.get("error") if isinstance(e.details, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for d in details if isinstance(details, list) else []:
        if isinstance(d, dict) and str(d.get("reason", "")) in _KEY_REASONS:
            return True
    return bool(_KEY_WORDS.match(str(e.message or "")))


def _answer_words(e: genai_errors.APIError) -> str:
    """An error answer's words: Google's message (its details, without one). A body
    that is not Google's JSON error (its front end's HTML page, "Error 502 (Server
    Error)!!1", or a proxy's) google-genai passes on whole, as it came: a 502's page put
    a dozen lines of HTML and CSS into each scene's failed line and the summary. Such a
    body is told as its words on one line (`answer_text`), as Ark's and Claude's are."""
    said = str(e.message or e.details)
    error = e.details.get("error") if isinstance(e.details, dict) else None
    if isinstance(error, dict):  # Google's own error, its message as it wrote it
        return said
    headers = getattr(e.response, "headers", None)
    return answer_text(said, str(headers.get("content-type", "")) if headers else "")


def _raise_mapped(e: BaseException, ctx: _Ctx) -> NoReturn:
    """Map an SDK/transport failure onto the taxonomy; never retried here."""
    if isinstance(e, ProviderError):
        raise e
    what = f"{ctx.model} ({ctx.mode.describe()})"
    if isinstance(e, _UnreadableAnswer):
        e = e.as_api_error()
    elif isinstance(e, UnicodeDecodeError) and raised_in(e, _READS_AN_ERROR):
        # (aiohttp's answer, which `_answer_started` does not see): an error answer, of
        # a status not known here; a create's may have made its operation
        said = f"an error answer whose text is not UTF-8 ({e})"
        if ctx.creates:
            raise ConnectionLost(f"{what}: {said}", provider=PROVIDER, sent=True) from e
        raise Transient(f"{what}: {said}", provider=PROVIDER) from e
    if isinstance(e, genai_errors.APIError):
        msg = f"{e.code} {e.status or ''}: {_answer_words(e)}".replace(" :", ":")
        code = int(e.code or 0)
        # (what to do ends a 429's or 5xx's line, as Claude's and Ark's: 58be2ee)
        if code == 429 and (quota := _daily_quota(e)) is not None:
            # an AuthError: every call of the model is refused alike until then, so the
            # render sends no other (`_reserve`); a request turned away bills nothing
            raise AuthError(
                f"{what}: {msg}; the daily quota {quota} is used up: it comes back at "
                f"midnight Pacific time{_pacific_midnight()}, or raise it ("
                + (
                    "the project's quotas, in the Cloud console"
                    if ctx.mode.kind == "project"
                    else "the project's usage tier, with billing, in Google AI Studio"
                )
                + "); nothing was billed for it",
                provider=PROVIDER,
            ) from e
        if code == 429:
            raise RateLimited(
                f"{what}: {msg}; {rate_limit_advice(PROVIDER)}",
                retry_after=_retry_after(e),
                provider=PROVIDER,
            ) from e
        if ctx.creates and made_maybe(code):
            # a 5xx but 503 (`made_maybe`): the backend may have made the operation
            # (and bills it) before the error: a lost answer, kept committed, not
            # refunded (Veo lists no operations to find it by)
            # (a 500 is the service's own answer, as Ark's is: `answered`)
            raise ConnectionLost(
                f"{what}: {msg}; {busy_advice(PROVIDER, code)}",
                provider=PROVIDER,
                sent=True,
                answered=code == 500,
                status=code,
            ) from e
        if code in (408, 409) or code >= 500 or isinstance(e, genai_errors.ServerError):
            raise Transient(
                f"{what}: {msg}; {busy_advice(PROVIDER, code)}",
                retry_after=_retry_after(e),
                provider=PROVIDER,
            ) from e
        cred = (
            "Application Default Credentials (gcloud auth application-default login) "
            f"and access to project {ctx.mode.project}"
            if ctx.mode.kind == "project"
            else KEY_NAMES
        )
        if code == 401 or (code == 400 and _key_refused(e)):
            raise AuthError(f"{what}: {msg}; check {cred}", provider=PROVIDER) from e
        if code == 403 or (code == 400 and str(e.status or "") in _ACCOUNT_STATUSES):
            # (an AuthError: the render sends no other call of the model, `_reserve`)
            raise AuthError(
                f"{what}: {msg}; {_account_advice(ctx, cred)}", provider=PROVIDER
            ) from e
        if code == 400 and _POLICY_WORDS.search(str(e.message or "")):
            raise ContentRejected(f"{what}: {msg}", provider=PROVIDER) from e
        if code == 400 and (refused := _refused_option(e, ctx)) is not None:
            # an option of the person's `*.options`: every call with it is refused alike
            # (a 400 bills nothing), told as that setting so the CLI says where it was
            # written, and the render stops after this one request
            name, value = refused
            setting = f"{ctx.stage}.options.{name}"
            raise InvalidRequest(
                f"{setting}: {PROVIDER} refused {value!r} for {ctx.model} ({msg}); set "
                "another value or leave it out; nothing was billed for it",
                provider=PROVIDER,
                setting=setting,
            ) from e
        if code in (404, 410) and ctx.download:
            # for good: the operation was billed, and reading it again gives the same
            # file (`ResultGone`: the scene's clip is bought again, with consent); but
            # not within the 48 h the file is kept (`VeoVideo._bytes`)
            raise ResultGone(
                f"{what}: the video of {ctx.operation} is gone ({msg}); it can no longer "
                "be downloaded",
                provider=PROVIDER,
            ) from e
        if code == 404 and ctx.operation:
            raise JobNotFound(
                f"{what}: operation {ctx.operation} not found ({msg})", provider=PROVIDER
            ) from e
        if code == 404:
            ids = ", ".join(_catalog_keys(ctx.stage, ctx.model)) or "see `mindmovie providers`"
            # the person's model id: every call of it is refused alike (a 404 bills
            # nothing), told as that setting so the CLI says where it was written
            raise InvalidRequest(
                f"{ctx.stage}.model: {PROVIDER} answered {e.code} {e.status or ''}: the "
                f"model '{ctx.model}' is not found for {ctx.mode.describe()} ({_answer_words(e)}); "
                f"choose another (known: {ids}); nothing was billed for it",
                provider=PROVIDER,
                setting=f"{ctx.stage}.model",
            ) from e
        param = _named_param(e)
        if listed := _allowed(ctx, param):
            msg = msg.rstrip(". ") + listed
        raise InvalidRequest(f"{what}: {msg}", provider=PROVIDER, answered=True, param=param) from e
    if type(e) is TimeoutError:
        # aiohttp's timeout of the whole call (httpx raises its own, per read): it carries
        # no text, and was told as "network error TimeoutError: ", which named neither
        # the setting nor that the upload and answer together are bounded by it
        raise ConnectionLost(
            f"{what}: TimeoutError: no whole answer within providers.google.timeout "
            "(google-genai, talking through aiohttp, bounds each call by it as a whole: "
            "the request's upload and its answer together); render again, or set a longer "
            "timeout",
            provider=PROVIDER,
            sent=not never_connected(e),
        ) from e
    if isinstance(e, _TRANSPORT_ERRORS):
        # the transport's words and what to do, as Claude's and Ark's lines say them
        said, sent = connection_failed(e, PROVIDER, timed_out=isinstance(e, _TIMEOUT_ERRORS))
        raise ConnectionLost(f"{what}: {said}", provider=PROVIDER, sent=sent) from e
    auth_exc = _google_auth_errors()
    if auth_exc and isinstance(e, auth_exc[0]):
        raise Transient(f"{what}: credential refresh failed: {e}", provider=PROVIDER) from e
    if auth_exc and isinstance(e, auth_exc[1]):
        raise AuthError(
            f"{what}: no usable Application Default Credentials ({e}); run "
            "`gcloud auth application-default login` or use express mode with "
            f"{KEY_NAMES}",
            provider=PROVIDER,
        ) from e
    if isinstance(e, ValueError):  # the SDK refusing a mode/parameter before any request
        hint = ""
        if re.search(r"Enterprise|Vertex|Developer API mode", str(e)):
            # (what needs it: a keyframe's parameter was told "Veo needs Vertex mode")
            needs = "Veo needs" if ctx.stage == "video" else f"{ctx.model} with this needs"
            hint = (
                f"; {needs} Vertex mode: set providers.google.vertexai: true "
                f"(express mode with {KEY_NAMES}) or project+location with ADC"
            )
        raise InvalidRequest(f"{what}: {e}{hint}", provider=PROVIDER) from e
    raise e


#: google-genai's functions that read an error answer (errors.APIError's)
_READS_AN_ERROR = frozenset({"raise_for_response", "raise_for_async_response"})


def _google_auth_errors() -> tuple[type[BaseException], type[BaseException]] | None:
    """(transport error, credential error) classes of google-auth, when importable."""
    try:
        from google.auth import exceptions as gae
    except ImportError:  # pragma: no cover
        return None
    return gae.TransportError, gae.GoogleAuthError


async def _call(ctx: _Ctx, fn: Callable[[], Awaitable[T]]) -> T:
    """Await one SDK call, its answer within `ctx.deadline` from the answer's first byte
    (`_answer_started`), translating whatever it raises. What comes before the answer,
    the request's upload (a keyframe's reference photos, Veo's keyframe, inline) and the
    model's work, keeps the SDK's own timeout (per read and write): counted in the
    deadline, a slow uplink failed every call as a lost answer, as Ark's did (b9d5a69)."""
    deadline = asyncio.timeout(None)
    #: the HTTP status of each answer of the call as it began (`_answer_started`): none,
    #: and no request of it was answered (nor, for all that is known, sent)
    answers: list[int] = []
    try:
        async with deadline:

            def answer_started(status: int) -> None:
                answers.append(status)
                # the first answer of the call (a download redirected has two)
                if ctx.deadline is not None and deadline.when() is None:
                    deadline.reschedule(asyncio.get_running_loop().time() + ctx.deadline)

            token = _ANSWER_STARTED.set(answer_started)
            try:
                return await fn()
            finally:
                _ANSWER_STARTED.reset(token)
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except TimeoutError as e:
        if ctx.deadline is None or not deadline.expired():  # not ours: as any other
            _raise_mapped(e, ctx)
        # the whole answer's deadline: the request went out, so a create may have made
        # (and be billed for) its operation, as when a connection breaks mid-answer
        raise ConnectionLost(
            f"{ctx.model}: the answer took longer than {ctx.deadline:.0f} s "
            "(providers.google.timeout plus download_timeout); render again, or set a "
            "longer timeout",
            provider=PROVIDER,
            sent=True,
        ) from None
    except Exception as e:
        if answers and (said := _not_json(e)) is not None:
            # google-genai reads an answer's body with json.loads, whose JSONDecodeError
            # (a ValueError) was told as the SDK refusing the request before sending: an
            # InvalidRequest, refunded. Raised once an answer began, it is that answer
            # (a 200 with a proxy's page, or Google's JSON cut off part way): the request
            # was sent, and a ValueError before any answer is still the SDK's refusal
            _raise_not_json(ctx, answers[-1], said, e)
        _raise_mapped(e, ctx)


#: the most of a body that is not JSON a line quotes (a page's words)
NOT_JSON_CHARS = 120


def _not_json(e: BaseException) -> str | None:
    """What came in place of an answer's JSON, in words ("something that is not JSON (a
    proxy's page?): Sign in ..."), when `e` is google-genai failing to read a body as
    JSON: json.loads' JSONDecodeError, or the SDK's UnknownApiResponseError raised from
    one (both ValueErrors). None for any other error."""
    cause = e.__cause__ if isinstance(e, genai_errors.UnknownApiResponseError) else e
    if not isinstance(cause, json.JSONDecodeError):
        return "something that is not JSON" if cause is not e else None
    doc = cause.doc if isinstance(cause.doc, str) else ""
    if doc.lstrip()[:1] in ("{", "["):
        # JSON that begins as Google's does and does not parse: cut off on its way
        return f"JSON that does not parse ({cause}, of {len(doc)} characters: cut off part way?)"
    words = answer_text(doc)  # a page's words, without its tags, on one line
    if len(words) > NOT_JSON_CHARS:
        words = words[: NOT_JSON_CHARS - 1].rstrip() + "\u2026"
    return "something that is not JSON (a proxy's page?)" + (f": {words}" if words else "")


def _raise_not_json(ctx: _Ctx, status: int, said: str, e: BaseException) -> NoReturn:
    """An answer that began (`status`) and could not be read (`_not_json`: `said`). A
    create's or a keyframe's request was sent and may have made (and be billed for) its
    operation or image: its answer is lost, ConnectionLost, sent (its row stays
    counted, as when the connection breaks after sending; a Veo create's next render
    says it may pay twice). A read (a poll) bought nothing: a passing fault, read again."""
    what = f"{ctx.model} ({ctx.mode.describe()})"
    line = f"{what}: {PROVIDER} answered {status} with {said}"
    if ctx.operation or ctx.download:
        raise Transient(f"{line}; render again", provider=PROVIDER) from e
    raise ConnectionLost(
        f"{line}; the request was sent, and its answer is lost; render again",
        provider=PROVIDER,
        sent=True,
        status=status,  # (what came, said by the pipeline: not "the connection broke")
    ) from e


# ---------------------------------------------------------------------------- helpers
def _image_mime(data: bytes, path: Path | None = None) -> str:
    """The image's MIME type from its magic bytes (suffix as a fallback)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    suffix = (path.suffix.lower() if path else "").lstrip(".")
    return {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}.get(
        suffix, "image/png"
    )


#: the image bytes one Gemini request sends inline, at most, all photos together: the
#: whole request may be 20 MB (Google's forum and guides; provider-wire.md has no limit),
#: and base64 makes each byte 4/3. Three 8 MB phone photos, each under SEND_MAX_BYTES,
#: made a request of ~32 MB. Each photo of a request gets its share
GEMINI_INLINE_PHOTO_BYTES = 14_000_000


def _read_bytes(path: Path, what: str, max_bytes: int | None = None) -> tuple[bytes, str]:
    """A local image's bytes and MIME type; an unreadable file is the request's fault. A
    photo that cannot go as stored (a GIF, one EXIF turns, one over `max_bytes`:
    SEND_MAX_BYTES by default) as `photo_to_send` makes it."""
    from mindmovie.providers.local_media import SEND_MAX_BYTES, photo_to_send

    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidRequest(
            f"cannot read {what} {path}: {e.strerror}", provider=PROVIDER
        ) from None
    limit = SEND_MAX_BYTES if max_bytes is None else min(max_bytes, SEND_MAX_BYTES)
    return photo_to_send(path, limit) or (data, _image_mime(data, path))


def _read_image(path: Path, what: str) -> types.Image:
    data, mime = _read_bytes(path, what)
    return types.Image(image_bytes=data, mime_type=mime)


def check_options(settings: Settings, stage: Stage) -> None:
    """The option checks building the stage's model makes (ConfigError, one line), without
    a key or a client: for doctor, estimate and status."""
    stage_settings = settings.keyframes if stage == "keyframes" else settings.video
    allowed = KEYFRAME_OPTIONS if stage == "keyframes" else VIDEO_OPTIONS
    model_id = ""
    with contextlib.suppress(InvalidRequest):  # an unknown model is said elsewhere
        model_id = catalog.resolve(PROVIDER, stage, stage_settings.model).id
    _check_options(stage_settings.options, allowed, stage, model_id)
    if (refused := _developer_refusal(settings, stage)) is not None:
        raise refused


#: the values each stage's enumerated options take, as the API spells them (google-genai's
#: GenerateVideosConfig and ImageConfig): any other was sent as given and refused by the
#: API (400) only at the first paid call of its stage, after the planner and, for Veo,
#: every keyframe were paid
OPTION_VALUES: dict[Stage, dict[str, tuple[str, ...]]] = {
    "keyframes": {
        "image_size": ("1K", "2K", "4K"),
        "person_generation": ("ALLOW_ALL", "ALLOW_ADULT", "ALLOW_NONE"),
    },
    "video": {"person_generation": ("allow_adult", "dont_allow", "allow_all")},
}


#: Imagen's image sizes (google-genai's GenerateImagesConfig: "1K and 2K"); Gemini's
#: ImageConfig takes 4K too
IMAGEN_SIZES = ("1K", "2K")


def _check_options(
    options: dict[str, Any], allowed: frozenset[str], stage: Stage, model_id: str = ""
) -> None:
    if bad := unknown_options(f"{stage}.options", "google", options, allowed):
        raise ConfigError(bad)
    for name, values in OPTION_VALUES[stage].items():
        if name == "image_size" and _is_imagen(model_id):
            values = IMAGEN_SIZES  # 4K passed the check and was refused at the call
        value = options.get(name)
        if value is not None and value not in values:
            raise ConfigError(
                f"{stage}.options.{name}: {value!r} is not allowed; allowed {', '.join(values)}"
            )
    # str() of a list or a switch was sent as the text: `negative_prompt: [blur, text]`
    # asked Veo to avoid "['blur', 'text']"
    value = options.get("negative_prompt")
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int | float)):
        raise ConfigError(
            f"{stage}.options.negative_prompt: {value!r} is not allowed; allowed text, what "
            'to keep out of the video in one line (e.g. "blurry, text, watermark")'
        )
    # bool("false") is True: a quoted switch would be sent the other way round
    value = options.get("enhance_prompt")
    if value is not None and not isinstance(value, bool):
        raise ConfigError(
            f"{stage}.options.enhance_prompt: {value!r} is not allowed; allowed true or false"
        )


def _usage(meta: types.GenerateContentResponseUsageMetadata | None) -> dict[str, Any]:
    if meta is None:
        return {}
    out = {
        "input_tokens": meta.prompt_token_count,
        "output_tokens": meta.candidates_token_count,
        "total_tokens": meta.total_token_count,
    }
    return {k: v for k, v in out.items() if v is not None}


# ---------------------------------------------------------------------------- keyframes
class _GoogleModel:
    """What both Google models share: a client, a catalog spec, a client mode, options,
    and a one-line-ConfigError constructor from the settings of their stage."""

    name = PROVIDER
    STAGE: Stage
    OPTIONS: frozenset[str]

    def __init__(
        self,
        client: genai.Client,
        *,
        spec: ModelSpec,
        mode: Mode,
        options: dict[str, Any] | None = None,
        download_timeout: float = 120.0,
        answer_deadline: float | None = None,
    ) -> None:
        self.client = client
        self.spec = spec
        self.model = spec.id
        self.mode = mode
        self.options = dict(options or {})
        #: a deadline on a whole clip download (the SDK's timeout is per HTTP read)
        self.download_timeout = download_timeout
        #: a deadline on each call's whole answer (`_Ctx.deadline`)
        self._ctx = _Ctx(
            self.STAGE, self.model, mode, deadline=answer_deadline, options=self.options
        )

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> Self:
        """Build from settings; ConfigError (one line) for a missing key, a bad model or
        option, or a client mode the stage cannot use (Veo in developer mode)."""
        stage_settings = settings.keyframes if cls.STAGE == "keyframes" else settings.video
        spec = _model_spec(cls.STAGE, stage_settings.model)
        _check_options(stage_settings.options, cls.OPTIONS, cls.STAGE, spec.id)
        mode = _mode_for(settings, keys, cls.STAGE)
        ps = settings.providers.google
        download_timeout = ps.download_timeout or max(ps.timeout, 120.0)
        return cls(
            _make_client(settings, mode),
            spec=spec,
            mode=mode,
            options=stage_settings.options,
            download_timeout=download_timeout,
            answer_deadline=ps.timeout + download_timeout,
        )


class GeminiKeyframes(_GoogleModel):
    """Keyframes from a Gemini image-output model (generateContent, IMAGE modality)."""

    STAGE: Stage = "keyframes"
    OPTIONS = KEYFRAME_OPTIONS

    def _parts(self, req: KeyframeRequest) -> list[types.Part]:
        photos: list[tuple[Path, str]] = []
        if req.source_photo is not None:
            photos.append((req.source_photo, "source photo"))
        # those past the model's limit (the source photo counted) are left out, as
        # Seedream leaves them: the pipeline has named them before any keyframe was paid
        refs, _ = catalog.references_sent(
            self.spec, req.reference_photos, source_photo=req.source_photo is not None
        )
        photos += [(p, "reference photo") for p in refs]
        # the text the estimate counts (`costs.gemini_keyframe_text`): what is billed
        text = gemini_keyframe_text(
            req.prompt, req.style, source=req.source_photo is not None, photos=len(photos)
        )
        parts = [types.Part.from_text(text=text)]
        share = GEMINI_INLINE_PHOTO_BYTES // max(1, len(photos))
        for path, what in photos:
            data, mime = _read_bytes(path, what, share)
            parts.append(types.Part.from_bytes(data=data, mime_type=mime))
        return parts

    def _config(self, req: KeyframeRequest) -> types.GenerateContentConfig:
        image = types.ImageConfig(aspect_ratio=req.aspect)
        # an option set to null is left out (it was sent as the string "None")
        if self.options.get("image_size") is not None:
            image.image_size = str(self.options["image_size"])
        if self.options.get("person_generation") is not None:
            image.person_generation = str(self.options["person_generation"])
        return types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            image_config=image,
            seed=req.seed,
        )

    async def generate(self, request: KeyframeRequest) -> ImageResult:
        """One generateContent call; the first inline image, or ContentRejected."""
        try:  # before any spend: a ratio the model takes
            catalog.validate_image(self.spec, ratio=request.aspect)
        except InvalidRequest as e:
            e.scene_id = request.scene_id
            raise
        if _is_imagen(self.model):
            return await self._imagen(request)
        # in a thread: the photos are read and may be converted (`_read_bytes`), which on
        # the loop stalled every other scene's polling and the live view
        parts = await asyncio.to_thread(self._parts, request)
        contents = types.Content(role="user", parts=parts)
        config = self._config(request)
        resp = await _call(
            # not `creates`: Google bills no failed generateContent ("If your request fails
            # with a 400 or 500 error, you won't be charged", ai.google.dev/gemini-api/docs/
            # billing), so a 5xx is refunded and asked again, unlike Seedream's
            self._ctx,
            lambda: self.client.aio.models.generate_content(
                model=self.model, contents=contents, config=config
            ),
        )
        if not any(
            getattr(resp, field, None)
            for field in ("candidates", "prompt_feedback", "usage_metadata", "response_id")
        ):
            # a 200 with an empty body or JSON that is not Google's: google-genai reads an
            # empty body as {}, an answer of nothing, which was told as the content filter
            # (refunded, then a second, softened prompt bought: the review found it). The
            # image may have been made: an answer lost after sending, kept counted
            raise ConnectionLost(
                f"{self.model} ({self._ctx.mode.describe()}): the answer (HTTP 200) holds "
                "nothing of Google's (no candidates, usage or id: an empty body, or a "
                "proxy's)",
                provider=PROVIDER,
                scene_id=request.scene_id,
                sent=True,
            )
        usage = _usage(resp.usage_metadata)
        reasons: list[str] = []
        texts: list[str] = []
        if resp.prompt_feedback is not None and resp.prompt_feedback.block_reason is not None:
            reasons.append(f"prompt blocked: {_enum_name(resp.prompt_feedback.block_reason)}")
        for cand in resp.candidates or []:
            for part in (cand.content.parts if cand.content else None) or []:
                blob = part.inline_data
                if (
                    blob is not None
                    and blob.data
                    and (blob.mime_type or "image/").startswith("image/")
                ):
                    return ImageResult(
                        data=blob.data,
                        mime=blob.mime_type or _image_mime(blob.data),
                        usage=usage,
                    )
                if part.text:
                    texts.append(part.text.strip())
            if cand.finish_reason is not None:
                reasons.append(f"finish reason {_enum_name(cand.finish_reason)}")
        said = f"; model said: {' '.join(texts)[:200]}" if texts else ""
        filtered = any(r.rsplit(" ", 1)[-1] in _FILTER_REASONS for r in reasons)
        what = "blocked by the content filter" if filtered else "no image in the answer"
        raise ContentRejected(
            f"{self.model}: {what} ({', '.join(reasons) or 'no candidates'}){said}",
            provider=PROVIDER,
            scene_id=request.scene_id,
            billed=bool(usage.get("output_tokens")),
            # Google counts the prompt's (and photos') input tokens of a blocked answer
            usage=usage or None,
        )

    async def _imagen(self, request: KeyframeRequest) -> ImageResult:
        """An Imagen keyframe: :predict (generate_images), the way Imagen is called; it
        answers no generateContent. From the prompt alone (the catalog lists it taking no
        photo, like Seedream 3.0's text-to-image)."""
        text = request.prompt + (f"\nStyle: {request.style}" if request.style else "")
        config = types.GenerateImagesConfig(
            number_of_images=1,
            aspect_ratio=request.aspect,
            output_mime_type="image/png",
            include_rai_reason=True,
            # a seed is refused while the watermark is on (its default)
            add_watermark=False,
            seed=request.seed % 2**32,
        )
        if self.options.get("image_size") is not None:
            config.image_size = str(self.options["image_size"])
        person = self.options.get("person_generation")
        if person is not None:  # Gemini's ALLOW_NONE is Imagen's DONT_ALLOW
            config.person_generation = types.PersonGeneration(
                "DONT_ALLOW" if person == "ALLOW_NONE" else str(person)
            )
        resp = await _call(
            self._ctx,
            lambda: self.client.aio.models.generate_images(
                model=self.model, prompt=text, config=config
            ),
        )
        reasons: list[str] = []
        for gen in resp.generated_images or []:
            if gen.image is not None and gen.image.image_bytes:
                data = gen.image.image_bytes
                return ImageResult(
                    data=data,
                    mime=gen.image.mime_type or _image_mime(data),
                    usage={"generated_images": 1},
                )
            if gen.rai_filtered_reason:
                reasons.append(gen.rai_filtered_reason)
        raise ContentRejected(
            f"{self.model}: blocked by the content filter ({'; '.join(reasons) or 'no image'})",
            provider=PROVIDER,
            scene_id=request.scene_id,
            billed=False,
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP clients."""
        await self.client.aio.aclose()


def _is_imagen(model_id: str) -> bool:
    """An Imagen model: called by generate_images (:predict), Vertex mode only."""
    return model_id.startswith("imagen-")


def _enum_name(v: Any) -> str:
    return str(getattr(v, "name", None) or v)


# ---------------------------------------------------------------------------- video
class VeoVideo(_GoogleModel):
    """Veo image-to-video: submit a long-running operation, poll it, fetch the MP4."""

    STAGE: Stage = "video"
    OPTIONS = VIDEO_OPTIONS
    #: the Gemini API keeps a generated video (and its file) for 2 days
    result_url_seconds = 2 * 24 * 3600.0

    # ------------------------------------------------------------------ submit
    def _config(self, req: VideoRequest) -> types.GenerateVideosConfig:
        caps = self.spec.capabilities
        try:  # before any spend; an unsupported last frame is dropped, not refused
            catalog.validate_video(self.spec, req.seconds, req.resolution, req.aspect, req.audio)
        except InvalidRequest as e:
            e.scene_id = req.scene_id
            raise
        cfg = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=round(req.seconds),
            aspect_ratio=req.aspect,
            resolution=req.resolution,
        )
        opts = self.options
        if opts.get("negative_prompt"):
            cfg.negative_prompt = str(opts["negative_prompt"])
        if opts.get("person_generation"):
            cfg.person_generation = str(opts["person_generation"])
        # an option set to null is left out, as a keyframe's (`GeminiKeyframes._config`):
        # `enhance_prompt:` left empty was sent as false, turning Veo's enhancement off,
        # and a 400 naming it was not told as the setting (`_refused_option` skips null)
        if opts.get("enhance_prompt") is not None:
            cfg.enhance_prompt = bool(opts["enhance_prompt"])
        if req.last_frame is not None and caps.last_frame:
            cfg.last_frame = _read_image(req.last_frame, "last frame")
        if self.mode.vertex:
            # Vertex-only parameters (the SDK refuses them in developer mode)
            cfg.seed = req.seed % 2**32
            if caps.audio:
                cfg.generate_audio = bool(req.audio)
        return cfg

    async def submit(self, request: VideoRequest) -> str:
        """Create the Veo operation and return its name; nothing else."""
        # in a thread, as the keyframe's photos: reading and converting blocks (`_read_bytes`)
        config = await asyncio.to_thread(self._config, request)
        image = await asyncio.to_thread(_read_image, request.keyframe, "keyframe")
        source = types.GenerateVideosSource(prompt=request.prompt, image=image)
        op = await _call(
            dataclasses.replace(self._ctx, creates=True),
            lambda: self.client.aio.models.generate_videos(
                model=self.model, source=source, config=config
            ),
        )
        if not op.name:
            # not Transient: the job may exist and be billed; a blind retry could pay twice
            failed = JobFailed(
                f"{self.model}: the create answer has no operation name",
                provider=PROVIDER,
                scene_id=request.scene_id,
            )
            failed.made = True  # it bills: kept counted (`ProviderError.made`)
            raise failed
        return op.name

    # ------------------------------------------------------------------ poll
    async def _get(self, remote_id: str) -> types.GenerateVideosOperation:
        # rebuilt from the journaled name (model_validate: the field lives on an ABC mixin)
        op = types.GenerateVideosOperation.model_validate({"name": remote_id})
        ctx = dataclasses.replace(self._ctx, operation=remote_id)
        return await _call(ctx, lambda: self.client.aio.operations.get(op))

    async def poll(self, remote_id: str) -> JobState:
        """One status read, mapped onto JobState (bytes kept when Vertex inlines them)."""
        return self._state(remote_id, await self._get(remote_id))

    def _state(self, remote_id: str, op: types.GenerateVideosOperation) -> JobState:
        if not op.done:
            return JobState(remote_id, "running")
        if op.error:
            err = op.error
            message = str(err.get("message") or err)
            code = err.get("code")
            text = f"{message} (code {code})" if code is not None else message
            status: Literal["failed", "rejected"] = (
                "rejected" if _POLICY_WORDS.search(message) else "failed"
            )
            return JobState(remote_id, status, error=text)
        resp = op.response or op.result
        videos = [g.video for g in (resp.generated_videos or []) if g.video] if resp else []
        filtered = (resp.rai_media_filtered_count or 0) if resp else 0
        if not videos:
            reasons = list(resp.rai_media_filtered_reasons or []) if resp else []
            if filtered or reasons:
                why = "; ".join(reasons) or f"{filtered} video(s) filtered"
                return JobState(
                    remote_id,
                    "rejected",
                    error=f"content filter: {why}",
                    usage={"rai_media_filtered_count": filtered},
                )
            # no filtered count and no reason (the fields google-genai's
            # GenerateVideosResponse has for a refusal, "if any videos were filtered due
            # to RAI policies"): nothing says the filter refused it, so it is a failed
            # job. Taken for a refusal, the scene was bought again with a softened prompt
            return JobState(
                remote_id,
                "failed",
                error="Veo finished the job without a video and gave no reason (no content-"
                "filter count or reason): a failed job, not a refusal",
            )
        video = videos[0]
        return JobState(
            remote_id,
            "succeeded",
            video_url=video.uri,
            video_bytes=video.video_bytes or None,
            usage={"videos": len(videos), "model": self.model},
        )

    # ------------------------------------------------------------------ fetch
    async def _bytes(self, state: JobState) -> bytes:
        if state.video_bytes:
            return state.video_bytes
        # only a uri (or nothing, e.g. a state from an older run): read the operation again
        op = await self._get(state.remote_id)
        fresh = self._state(state.remote_id, op)
        if fresh.status != "succeeded":
            raise JobFailed(
                f"job {state.remote_id} is {fresh.status}: {fresh.error or 'no video'}",
                provider=PROVIDER,
            )
        if fresh.video_bytes:
            return fresh.video_bytes
        resp = op.response or op.result
        video = resp.generated_videos[0].video if resp and resp.generated_videos else None
        if video is None or not video.uri:
            raise JobFailed(f"job {state.remote_id}: no video in the result", provider=PROVIDER)
        if self.mode.vertex:
            # Vertex inlines bytes unless output_gcs_uri is set (we never set it)
            raise JobFailed(
                f"job {state.remote_id}: the video is only at {video.uri}; fetching it needs "
                "Cloud Storage access, which mindmovie does not do",
                provider=PROVIDER,
            )
        try:
            # bytes that keep trickling never trip a per-read timeout: bound the whole
            ctx = dataclasses.replace(self._ctx, operation=state.remote_id, download=True)
            async with asyncio.timeout(self.download_timeout):
                data = await _call(ctx, lambda: self.client.aio.files.download(file=video))
        except ResultGone as e:
            # a 404/410: gone for good once past the 2 days the Files API keeps a video.
            # Within them (the operation, read just above, still reports it) the file
            # should still be there: a 404 soon after the finish is far likelier a
            # storage delay, or a proxy's, than the video gone, and taking it for gone
            # bought the clip again. The scene fails, the job is kept and the next
            # render downloads it again (one read of the operation and one download per
            # fetch: a JobFailed is not retried within the render). With the finish
            # unknown (Veo does not say it; `Pipeline._clip_once` gives it when it can)
            # nothing bounds the video's age: it stays gone, as before
            age = time.time() - state.finished_at if state.finished_at else None
            if age is None or age > self.result_url_seconds or url_expired(video.uri):
                raise
            cause = e.__cause__
            said = (
                f"{cause.code} {cause.status or ''}: {_answer_words(cause)}".replace(" :", ":")
                if isinstance(cause, genai_errors.APIError)
                else e.message
            )
            raise JobFailed(
                f"{self.model}: the video of {state.remote_id} was not found ({said}), "
                f"though it should still be there: the operation finished {age_text(age)} "
                f"ago and Veo keeps a video {self.result_url_seconds / 3600:.0f} h (a delay "
                "at the Files API, or a proxy's?). The job is kept and the next render "
                "downloads its video again; nothing is bought again",
                provider=PROVIDER,
            ) from None
        except AuthError as e:
            # the Files API answers a file it no longer has 403 "... or it may not
            # exist": past the 2 days it keeps a video, that is the video gone for good.
            # Within them it is no key problem either: the same key has just read the
            # operation (`_get` above). An AuthError ("check GOOGLE_API_KEY") sent the
            # person to a key that works; the scene fails, the job is kept (nothing is
            # bought) and the next render downloads it again
            age = time.time() - state.finished_at if state.finished_at else None
            if age is None or age <= self.result_url_seconds:
                # the answer without the model (named here) and the key advice
                said = e.message.split("; check ")[0].split(": ", 1)[-1]
                raise JobFailed(
                    f"{self.model}: the video of {state.remote_id} could not be downloaded "
                    f"({said}), though the same key has just read "
                    "the operation, so the key is not the cause; the job is kept and the "
                    "next render downloads its video again (nothing is bought again; Veo "
                    "keeps a video 48 h)",
                    provider=PROVIDER,
                ) from None
            raise ResultGone(
                f"{self.model}: the video of {state.remote_id} is gone ({e.message}); the "
                f"operation finished {age / 3600:.0f} h ago, and its video is kept 48 h",
                provider=PROVIDER,
            ) from None
        except TimeoutError:
            raise Transient(
                f"{self.model}: video download took longer than {self.download_timeout:.0f} s",
                provider=PROVIDER,
            ) from None
        return bytes(data)

    async def fetch(self, state: JobState, request: VideoRequest, dest: Path) -> Path:
        """Write the clip atomically after checking it plays for about request.seconds."""
        from mindmovie.fsutil import commit_file, make_dirs, tmp_path_for
        from mindmovie.media import FFmpegError, probe

        data = await self._bytes(state)
        make_dirs(dest.parent)
        tmp = tmp_path_for(dest)
        try:
            await asyncio.to_thread(tmp.write_bytes, data)
            try:
                # frames are counted too: a faststart MP4 cut short still has a full header
                info = await asyncio.to_thread(probe, tmp, count_frames=True)
            except FFmpegError as e:
                # (the temporary file, gone once this is said, was named as its cause)
                said = str(e).replace(str(tmp), "the file downloaded")
                said = "; ".join(ln.strip() for ln in said.splitlines() if ln.strip())
                raise self._bad(state, request, f"is not a playable video ({said})") from None
            if info.video is None:
                raise self._bad(state, request, "no video stream")
            seconds = info.duration
            if info.video_frames is not None and info.video.fps > 0:
                seconds = min(seconds, info.video_frames / info.video.fps)
            if info.duration - seconds > TRUNCATION_TOLERANCE:
                raise self._bad(
                    state,
                    request,
                    f"is cut short: {seconds:.2f} s of frames, header says {info.duration:.2f} s",
                )
            if abs(seconds - request.seconds) > DURATION_TOLERANCE:
                raise self._bad(
                    state,
                    request,
                    f"plays {seconds:.2f} s, expected {request.seconds:g} s (truncated?)",
                )
            await asyncio.to_thread(commit_file, tmp, dest)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return dest

    def _bad(self, state: JobState, request: VideoRequest, why: str) -> Transient:
        # drop the bad bytes so the retry reads the operation (or the file) again
        state.video_bytes = None
        return Transient(
            f"{self.model}: downloaded clip {why}", provider=PROVIDER, scene_id=request.scene_id
        )

    async def aclose(self) -> None:
        """Close the SDK's HTTP clients."""
        await self.client.aio.aclose()


__all__ = ["GeminiKeyframes", "Mode", "VeoVideo", "describe_mode"]
