"""SimServer: a loopback HTTP server speaking BytePlus Ark, google-genai and Anthropic.

Wire formats follow shared/reference/provider-wire.md. URL layout (all on one port):

  Ark (Authorization: Bearer …)
    POST   /api/v3/contents/generations/tasks          create → {"id"}
    GET    /api/v3/contents/generations/tasks          list (page_num, page_size, filter.*)
    GET    /api/v3/contents/generations/tasks/{id}     get
    DELETE /api/v3/contents/generations/tasks/{id}     cancel (queued) / delete (finished)
    POST   /api/v3/images/generations                  Seedream/SeedEdit
  Google (x-goog-api-key; {v} is v1, v1beta or v1beta1; an optional
          projects/{p}/locations/{l}/ and publishers/google/ prefix is accepted)
    POST   /{v}/models/{m}:predictLongRunning          Veo create → {"name"}
    GET    /{v}/{operation name}                       Developer poll
    POST   /{v}/…/models/{m}:fetchPredictOperation     Vertex poll (inline video bytes)
    GET    /{v}/files/{id}:download?alt=media          Developer video download
    POST   /{v}/…/models/{m}:generateContent           image output (inlineData PNG);
                                                       an imagen-* model: 404, as Google
    POST   /{v}/…/models/{m}:predict                   Imagen
  Anthropic (x-api-key or Authorization: Bearer)
    POST   /v1/messages
  Google OAuth (form-encoded; a service-account ADC file's token_uri)
    POST   /token                                      JWT-bearer or refresh_token grant
                                                       → access_token
  Simulator
    GET    /_sim/files/{id}[.mp4|.png]                 Ark video/image/last-frame URLs
    GET    /_sim/stats · GET /_sim/requests · GET|POST|DELETE /_sim/faults
    POST   /_sim/reset · POST /_sim/config · POST /_sim/planner
    POST   /_sim/forget {"job": id or name}                  the provider forgets a job
"""

from __future__ import annotations

import base64
import copy
import email.utils
import functools
import gzip
import io
import itertools
import json
import os
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.sim import media, models, planner
from tests.sim.state import (
    ALL_KINDS,
    COUNTER_KEYS,
    DOWNLOAD_KINDS,
    JOB_KINDS,
    PLANNER_KINDS,
    REQUEST_KINDS,
    Fault,
    FileEntry,
    Job,
)

Json = dict[str, Any]
PlannerSpec = Json | Callable[[Json], Any] | None

_REDACT = {"authorization", "x-api-key", "x-goog-api-key", "api-key"}
#: form fields of an OAuth token request that are secrets (recorded redacted)
_REDACT_FORM = {"client_secret", "refresh_token"}
_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_ARK_TYPE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}
_ARK_CODE = {
    400: "InvalidParameter",
    401: "AuthenticationError",
    403: "AccessDenied",
    404: "ResourceNotFound",
    409: "Conflict",
    429: "RateLimitExceeded.EndpointRPMExceeded",
    500: "InternalServiceError",
    503: "ServiceUnavailable",
}
_ANTHROPIC_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}
_GOOGLE_RE = re.compile(
    r"^/(?P<ver>v1|v1beta|v1beta1)/(?:projects/[^/]+/locations/[^/]+/)?"
    r"(?:publishers/google/)?models/(?P<model>[^/:]+):(?P<verb>\w+)$"
)
_GOOGLE_OP_RE = re.compile(r"^/(?:v1|v1beta|v1beta1)/(?P<name>.+/operations/(?P<id>[^/:]+))$")
_GOOGLE_FILE_RE = re.compile(r"^/(?:v1|v1beta|v1beta1)/files/(?P<id>[a-z0-9]+):download$")
_ARK_TASK_RE = re.compile(r"^/api/v3/contents/generations/tasks/(?P<id>[^/]+)$")
_SIM_FILE_RE = re.compile(r"^/_sim/files/(?P<id>[a-z0-9]+)(?:\.\w+)?$")
_MODEL_IN_PATH = re.compile(r"models/([^/:]+)")
_VERTEX_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
_MLDEV_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
_ARK_REJECT_MSG = "The request failed because the output video may contain sensitive information."
_RAI_MSG = "Unable to generate videos because the output could violate our policies (RAI filtered)."
#: the body of a `corrupt` download: no container or image format starts like this
_NOT_MEDIA = b"mindmovie-sim: not a video or image, a corrupt download\n"


def _gemini_prompt_tokens(contents: list[Any]) -> int:
    """Input tokens as Gemini counts them: text at ~4 characters a token, an inline image
    by its pixels (258 tokens at most 384 px a side, else 258 a 768 px tile: Google's
    token guide). The base64 of a photo counted as text made a small photo ~14,000
    tokens, and Gemini keyframe bills far above any real one."""
    from PIL import Image

    tokens = 0
    for content in contents:
        parts = content.get("parts") if isinstance(content, dict) else None
        for part in parts if isinstance(parts, list) else [content]:
            blob = part.get("inlineData") if isinstance(part, dict) else None
            if isinstance(blob, dict) and isinstance(blob.get("data"), str):
                # google-genai sends URL-safe base64 ("_9j_" for a JPEG): decoded as
                # standard base64 ("-" and "_" dropped) it was garbage, counted as 258
                raw = blob["data"].replace("-", "+").replace("_", "/")
                try:
                    with Image.open(io.BytesIO(base64.b64decode(raw))) as im:
                        w, h = im.size
                except (OSError, ValueError):
                    w = h = 0
                tiles = 1 if w <= 384 and h <= 384 else -(-w // 768) * -(-h // 768)
                tokens += 258 * tiles
            else:
                tokens += len(json.dumps(part)) // 4
    return max(1, tokens)


class SimError(Exception):
    """An HTTP error answer, rendered in the shape of the API that was called."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | int | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        retry_delay: float | None = None,
        body: Any = None,
        charset: str | None = None,
        content_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.retry_after = retry_after
        self.retry_delay = retry_delay
        #: the JSON body as given instead of the API's error shape (a proxy's own), or a
        #: str: an HTML page
        self.body = body
        #: the answer's text encoded in this instead of UTF-8, no charset said
        self.charset = charset
        #: a str body's Content-Type (None: text/html, a page)
        self.content_type = content_type


def _missing_model(api: str, model: str, why: str, path: str) -> SimError:
    """The real API's answer to a call naming a model id the account cannot call: Ark's
    InvalidEndpointOrModel.NotFound or ModelNotOpen (its error-code table), Google's
    404 NOT_FOUND "models/X is not found for API version ...", Anthropic's 404
    not_found_error "model: X"."""
    if api == "anthropic":
        return SimError(404, f"model: {model}")
    if api == "google":
        ver = path.split("/")[1]
        verb = path.rsplit(":", 1)[-1]
        return SimError(
            404,
            f"models/{model} is not found for API version {ver}, or is not supported for "
            f"{verb}. Call ListModels to see the list of available models and their "
            "supported methods.",
        )
    if why == "not_activated":
        return SimError(
            404,
            f"Your account has not activated the model {model}. Please activate the model "
            "service in the Ark Console.",
            code="ModelNotOpen",
        )
    return SimError(
        404,
        f"The model or endpoint {model} does not exist or you do not have access to it.",
        code="InvalidEndpointOrModel.NotFound",
    )


class _Drop(Exception):
    """Close the connection without an answer."""


def _nonnull(d: Any) -> Json:
    """The dict without its null values (the Ark SDK sends every unset field as null)."""
    return {k: v for k, v in d.items() if v is not None} if isinstance(d, dict) else {}


def _is_create(path: str) -> bool:
    """A video create: an Ark task or a Veo long-running operation."""
    return path.endswith("/contents/generations/tasks") or path.endswith(":predictLongRunning")


def jwt_claims(token: str) -> Json:
    """A JWT's claims (its middle part), unverified; {} when it is not a JWT."""
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _api_of(path: str) -> str:
    if path.startswith("/api/v3"):
        return "ark"
    if path.startswith("/v1/messages"):
        return "anthropic"
    if path.startswith("/_sim/"):
        return "sim"
    if path == "/token":
        return "oauth"
    return "google"


class SimServer:
    """The simulator. Use as a context manager, or start()/stop().

    job_seconds: how long every job stays queued/running (wall clock since creation).
    media_scale: pixel sizes of the returned media are multiplied by this (billing still
        uses the real sizes); default from $MINDMOVIE_SIM_MEDIA_SCALE, else 1.0.
    min_polls: a job also needs this many polls before it finishes (0: time only).
    planner: the tool input the fake LLM returns: a dict (canned), a callable(body) ->
        dict, or None for a schema-generated object.
    require_auth: answer 401 when the provider's key header is missing or empty.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        job_seconds: float = 0.0,
        media_scale: float | None = None,
        min_polls: int = 0,
        planner: PlannerSpec = None,
        require_auth: bool = True,
        verbose: bool = False,
    ) -> None:
        if media_scale is None:
            media_scale = float(os.environ.get("MINDMOVIE_SIM_MEDIA_SCALE", "1.0"))
        self.host = host
        self._want_port = port
        self._defaults = (job_seconds, media_scale, min_polls, planner)
        self.job_seconds = job_seconds
        self.media_scale = media_scale
        self.min_polls = min_polls
        self.planner: PlannerSpec = planner
        #: (cache_creation_input_tokens, cache_read_input_tokens) each Messages answer
        #: reports (and counts), as the API does for a prompt that hit its cache
        self.cache_tokens: tuple[int, int] = (0, 0)
        #: a query the Ark image result URLs carry, as real ones carry their signature
        #: (`X-Tos-Date=...&X-Tos-Expires=...`): '' for none. Set to an expired one, a
        #: 404 on the URL is the image gone for good (`base.url_expired`)
        self.image_url_query = ""
        #: the same for the Seedance video URLs: '' for none (a 404 on such a URL is the
        #: clip gone, `SeedanceVideo._gone`); a signed one within its expiry, a 404 is
        #: taken for a storage delay within the task's 24 h
        self.video_url_query = ""
        #: the transfer the clips are tagged with: '' (SDR, BT.709 as made), or an HDR one
        #: ("smpte2084", "arib-std-b67"), as a model making HDR video tags its clips
        self.video_transfer = ""
        #: seconds the provider's clock is ahead of this machine's (negative: behind), as
        #: when the person's clock is off: its Date headers, and its Retry-Afters when
        #: `retry_after_dates`, are read off that clock
        self.clock_offset = 0.0
        #: a fault's `retry_after` goes out as an HTTP date (that many seconds after the
        #: provider's now, by `clock_offset`) instead of seconds: RFC 9110 allows both
        self.retry_after_dates = False
        #: a job (Ark task, Veo operation) is known only to the key that made it, as an
        #: account's (project's) own: polled or listed with another key, it is not found
        self.jobs_per_key = False
        #: model ids this account cannot call, answered as each API answers them (see
        #: `_missing_model`): "not_found" (no such model, or not this key's) or, on Ark,
        #: "not_activated" (ModelNotOpen: not activated in the ModelArk console)
        self.missing_models: dict[str, str] = {}
        self.require_auth = require_auth
        self.verbose = verbose
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        #: `delay` and `late` faults' holds (see release), by fault id; those a reset let go
        self._holds: dict[int, threading.Event] = {}
        self._let_go: set[int] = set()
        self._clear()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SimServer:
        """Bind and serve in a daemon thread."""
        handler = type("SimHandler", (_Handler,), {"sim": self})
        self._httpd = _HTTPServer((self.host, self._want_port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sim-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve in the calling thread (standalone mode)."""
        handler = type("SimHandler", (_Handler,), {"sim": self})
        self._httpd = _HTTPServer((self.host, self._want_port), handler)
        try:
            self._httpd.serve_forever(poll_interval=0.2)
        finally:
            self._httpd.server_close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def connections(self) -> set[int]:
        """The client connections open now (a keep-alive one stays open until the client
        closes it), by serial number: a test takes them before and after a render to see
        that the render closed every connection it opened."""
        return self._httpd.open_serials() if self._httpd is not None else set()

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._httpd is not None, "sim not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT (Anthropic and google-genai base_url)."""
        return f"http://{self.host}:{self.port}"

    @property
    def ark_base_url(self) -> str:
        """The Ark SDK's base_url: {base_url}/api/v3."""
        return f"{self.base_url}/api/v3"

    # ------------------------------------------------------------------ python API
    def add_fault(
        self,
        kind: str,
        *,
        path: str | None = None,
        model: str | None = None,
        method: str | None = None,
        count: int | None = 1,
        status: int | None = None,
        retry_after: float | None = None,
        retry_delay: float | None = None,
        code: str | int | None = None,
        message: str | None = None,
        param: str | None = None,
        seconds: float | None = None,
        length: int | None = None,
        field: str | None = None,
        billed: bool = False,
        body: dict[str, Any] | str | None = None,
        charset: str | None = None,
        content_type: str | None = None,
    ) -> Fault:
        """Inject a fault (see `Fault` for kinds and matching). Returns it (see .fired)."""
        if kind not in ALL_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(ALL_KINDS)}")
        with self._lock:
            f = Fault(
                kind=kind,
                path=path,
                model=model,
                method=method,
                count=count,
                status=status,
                retry_after=retry_after,
                retry_delay=retry_delay,
                code=code,
                message=message,
                param=param,
                seconds=seconds,
                length=length,
                field=field,
                billed=billed,
                body=body,
                charset=charset,
                content_type=content_type,
                id=next(self._ids),
            )
            self._faults.append(f)
            return f

    def release(self, fault: Fault) -> None:
        """End a `delay` or `late` fault's wait now: the requests it holds (and any it
        catches later) go on at once, as if their `seconds` were over."""
        self._hold(fault).set()

    def _hold(self, fault: Fault) -> threading.Event:
        with self._lock:
            return self._holds.setdefault(fault.id, threading.Event())

    def clear_faults(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[Fault]:
        """The faults, fired or not."""
        with self._lock:
            return list(self._faults)

    def set_planner(self, responder: PlannerSpec) -> None:
        """Set the fake LLM's tool input: dict, callable(body) -> dict, or None (generated)."""
        self.planner = responder

    def reset(self) -> None:
        """Clear counters, records, faults, jobs and files; restore constructor settings."""
        with self._lock:
            self.job_seconds, self.media_scale, self.min_polls, self.planner = self._defaults
            self.cache_tokens = (0, 0)
            self.image_url_query = ""
            self.video_url_query = ""
            self.video_transfer = ""
            self.clock_offset = 0.0
            self.retry_after_dates = False
            self.jobs_per_key = False
            self.missing_models = {}
            # a request a `delay` still holds is let go and dropped, so it cannot reach
            # the next test's jobs
            for fid, hold in self._holds.items():
                self._let_go.add(fid)
                hold.set()
            self._holds = {}
            self._clear()

    def stats(self) -> Json:
        """Counters: {"models": {model: {...}}, "totals": {...}, "in_flight", ...}."""
        with self._lock:
            now = time.monotonic()
            per: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COUNTER_KEYS, 0))
            for m, c in self._counters.items():
                per[m].update(c)
            in_flight = 0
            for job in self._jobs.values():
                c = per[job.model]
                st = job.status(now)
                if job.deleted:
                    c["jobs_deleted"] += 1
                key = {
                    "succeeded": "jobs_succeeded",
                    "cancelled": "jobs_cancelled",
                    "expired": "jobs_expired",
                }.get(st)
                if st == "failed":
                    key = "jobs_rejected" if job.outcome == "reject" else "jobs_failed"
                if key:
                    c[key] += 1
                if st == "succeeded" or (st == "failed" and job.billed_refusal):
                    if job.api == "ark":
                        c["completion_tokens"] += models.seedance_tokens(
                            job.width, job.height, job.fps, job.duration
                        )
                    else:
                        c["video_seconds"] += job.duration * job.samples
                if job.created <= now < job.finish_at():
                    in_flight += 1
            totals = dict.fromkeys(COUNTER_KEYS, 0.0)
            for c in per.values():
                for k in COUNTER_KEYS:
                    totals[k] += c[k]
            totals["in_flight_max"] = self._in_flight_max
            out_models = {m: {k: _num(v) for k, v in c.items()} for m, c in sorted(per.items())}
            return {
                "models": out_models,
                "totals": {k: _num(v) for k, v in totals.items()},
                "in_flight": in_flight,
                "in_flight_max": self._in_flight_max,
                "requests": len(self._records),
                "faults_fired": sum(f.fired for f in self._faults),
            }

    def requests(self, *, path: str | None = None, method: str | None = None) -> list[Json]:
        """Recorded requests (auth header values redacted), optionally filtered.

        Each video create (Ark task, Veo operation) also has `index` (its place among
        all recorded requests), `pending`: the indexes of the earlier creates whose job
        was not made yet when it arrived (held, or to be made late), and `job`: the id
        of the job it made, once made."""
        with self._lock:
            out = [copy.deepcopy(r) for r in self._records]
        if path:
            out = [r for r in out if path in r["path"]]
        if method:
            out = [r for r in out if r["method"] == method.upper()]
        return out

    def jobs(self) -> list[Job]:
        """Every job created since the last reset (deleted ones too)."""
        with self._lock:
            return list(self._jobs.values())

    def forget(self, job: str) -> None:
        """The provider no longer knows `job` (an Ark task id, or a Veo operation's id or
        name), as once past the time it keeps a job's record: a poll answers 404 and the
        job list leaves it out. Counted as deleted."""
        with self._lock:
            self._jobs[job.rsplit("/", 1)[-1]].deleted = True

    def made(self) -> tuple[dict[str, Job], dict[str, FileEntry]]:
        """What the provider holds: its jobs (copies) and result files, for `remake`."""
        with self._lock:
            return copy.deepcopy(self._jobs), dict(self._files)

    def remake(self, made: tuple[dict[str, Job], dict[str, FileEntry]]) -> None:
        """Hold again the jobs (a copy of each, which a test may change) and result
        files `made` gave: a test that starts from a copy of a run made earlier in the
        process (tests/integration/made_once.py) finds its provider knowing that run's
        jobs, as after its own render."""
        jobs, files = made
        with self._lock:
            self._jobs.update(copy.deepcopy(jobs))
            self._files.update(files)

    # ------------------------------------------------------------------ internals
    def _clear(self) -> None:
        self._faults: list[Fault] = []
        self._records: list[Json] = []
        self._jobs: dict[str, Job] = {}
        self._files: dict[str, FileEntry] = {}
        #: indexes of the create requests whose job is not made yet (see `requests`)
        self._unmade: set[int] = set()
        self._counters: dict[str, dict[str, float]] = defaultdict(
            lambda: dict.fromkeys(COUNTER_KEYS, 0)
        )
        self._in_flight_max = 0

    def _count(self, model: str, key: str, n: float = 1) -> None:
        with self._lock:
            self._counters[model][key] += n

    def _new_id(self, n: int = 12) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(secrets.choice(alphabet) for _ in range(n))

    def _take(
        self, kinds: frozenset[str], method: str, path: str, model: str | None
    ) -> list[Fault]:
        """Fire the first matching fault of each kind in `kinds`."""
        fired: list[Fault] = []
        with self._lock:
            seen: set[str] = set()
            for f in self._faults:
                if f.kind in kinds and f.kind not in seen and f.matches(method, path, model):
                    f.fired += 1
                    seen.add(f.kind)
                    fired.append(f)
        return fired

    def _model_for(self, path: str, body: Any) -> str | None:
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return str(body["model"])
        with self._lock:
            for rx in (_ARK_TASK_RE, _GOOGLE_FILE_RE, _SIM_FILE_RE):
                m = rx.match(path)
                if m:
                    key = m["id"]
                    if key in self._jobs:
                        return self._jobs[key].model
                    if key in self._files:
                        return self._files[key].model
        m2 = _MODEL_IN_PATH.search(path)
        return m2[1] if m2 else None

    def _add_job(self, job: Job, made_by: int | None = None) -> None:
        """Register a job and update the in-flight maxima. `made_by`: the index of the
        create request (see `requests`) that made it.

        Exact: the largest overlap is at some job's start, so the overlap is counted at
        this job's start and at every start after it (concurrent handlers take their
        `created` time before the lock, so a job can be added after a later one).
        """
        with self._lock:
            self._jobs[job.id] = job
            if made_by is not None and made_by in self._unmade:
                self._unmade.discard(made_by)
                self._records[made_by]["job"] = job.id
            c = self._counters[job.model]
            c["jobs_created"] += 1
            jobs = list(self._jobs.values())
            for t in {j.created for j in jobs if j.created >= job.created}:
                active = [j for j in jobs if j.created <= t < j.finish_at() or j.created == t]
                self._in_flight_max = max(self._in_flight_max, len(active))
                for model in {j.model for j in active}:
                    same = sum(1 for j in active if j.model == model)
                    m = self._counters[model]
                    m["in_flight_max"] = max(m["in_flight_max"], same)

    def _job_faults(self, job: Job, faults: list[Fault]) -> None:
        for f in faults:
            if f.kind == "slow":
                job.latency = float(f.seconds if f.seconds is not None else 5.0)
            elif f.kind == "stuck":
                job.stuck = True
            elif f.kind in ("fail", "reject"):
                job.outcome = f.kind
                job.error_code = f.code
                job.error_message = f.message
                job.billed_refusal = f.kind == "reject" and f.billed

    def _media_size(self, w: int, h: int) -> tuple[int, int]:
        return media.scaled(w, h, self.media_scale)


def _num(v: float) -> float | int:
    return int(v) if float(v).is_integer() else round(float(v), 6)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the connections open now, each by its serial number (`SimServer.connections`)
        self.open: dict[Any, int] = {}
        self._serials = itertools.count(1)
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self.open[request] = next(self._serials)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self.open.pop(request, None)
        super().shutdown_request(request)

    def open_serials(self) -> set[int]:
        with self._open_lock:
            return set(self.open.values())

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (e.g. on a dropped or truncated answer) are not errors."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """One request: record, auth, faults, route, answer."""

    sim: SimServer
    protocol_version = "HTTP/1.1"
    server_version = "mindmovie-sim/1"
    #: headers and body go out in separate writes; with Nagle on, the body waits for the
    #: client's delayed ACK of the headers: +40 ms on every keep-alive request
    disable_nagle_algorithm = True

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, read off the provider's clock (`SimServer.clock_offset`)."""
        if timestamp is None:
            timestamp = time.time() + self.sim.clock_offset
        return super().date_time_string(timestamp)

    def log_message(self, format: str, *args: Any) -> None:
        if self.sim.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PUT(self) -> None:
        self._handle("PUT")

    # ------------------------------------------------------------------ plumbing
    def _handle(self, method: str) -> None:
        sim = self.sim
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query)
        full = self.path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        bad_json = False
        api = _api_of(path)
        form = self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded")
        if raw and api == "oauth" and form:
            body = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body, bad_json = f"<{len(raw)} bytes>", True
        self._api = api
        self._status_sent = 0
        self._rec: Json | None = None
        self._patch: Json | None = None
        self._slow_answer: float | None = None
        if api == "sim" and not _SIM_FILE_RE.match(path):
            self._control(method, path, body)
            return
        rec: Json = {
            "time": time.time(),
            "method": method,
            "path": full,
            "headers": {
                k: ("<redacted>" if k.lower() in _REDACT and v else v)
                for k, v in self.headers.items()
            },
            "body": (
                {k: "<redacted>" if k in _REDACT_FORM else v for k, v in body.items()}
                if api == "oauth" and isinstance(body, dict)
                else body
            ),
            "status": None,
        }
        self._rec = rec
        create = method == "POST" and _is_create(path)
        held_late = False
        with sim._lock:
            self._rec_idx = len(sim._records)
            if create:
                rec["index"] = self._rec_idx
                rec["pending"] = sorted(sim._unmade)
                sim._unmade.add(self._rec_idx)
            sim._records.append(rec)
        try:
            if bad_json:
                raise SimError(400, "request body is not valid JSON")
            self._auth(api, query)
            model = sim._model_for(path, body)
            if method == "POST" and model in sim.missing_models:
                raise _missing_model(api, model, sim.missing_models[model], path)
            answered = True
            after: Fault | None = None
            for f in sim._take(REQUEST_KINDS, method, full, model):
                if f.kind == "drop":
                    raise _Drop()
                if f.kind == "drop_after":
                    answered = False
                if f.kind == "http_after":
                    after = f
                if f.kind == "late":
                    self._carry_out_later(f, method, path, query, body, model)
                    held_late = True
                    raise _Drop()
                if f.kind == "patch":
                    self._patch = dict(f.body or {})
                if f.kind == "slow_answer":
                    self._slow_answer = float(f.seconds if f.seconds is not None else 5.0)
                if f.kind == "delay":
                    sim._hold(f).wait(float(f.seconds or 1.0))
                    if f.id in sim._let_go:
                        raise _Drop()
                if f.kind == "http":
                    raise SimError(
                        int(f.status or 500),
                        f.message or f"simulated {f.status or 500}",
                        code=f.code,
                        param=f.param,
                        retry_after=f.retry_after,
                        retry_delay=f.retry_delay,
                        body=f.body,
                        charset=f.charset,
                        content_type=f.content_type,
                    )
            if not answered or after is not None:
                # the request is carried out (a job is created) but the answer is lost:
                # what a client sees when the connection breaks after sending (or a
                # gateway's error, when it gave up waiting for the backend)
                real, self.wfile = self.wfile, io.BytesIO()
                try:
                    self._route(method, path, query, body, model)
                finally:
                    self.wfile = real
                if after is None:
                    raise _Drop()
                raise SimError(
                    int(after.status or 504),
                    after.message or f"simulated {after.status or 504}",
                    code=after.code,
                    body=after.body,
                    charset=after.charset,
                    content_type=after.content_type,
                )
            self._route(method, path, query, body, model)
        except _Drop:
            self.close_connection = True
            rec["status"] = "dropped"
            return
        except SimError as e:
            self._error(e)
        except Exception as e:  # a bug in the sim: answer 500 with the reason
            self._error(SimError(500, f"sim internal error: {type(e).__name__}: {e}"))
        finally:
            if create and not held_late:
                with sim._lock:
                    sim._unmade.discard(self._rec_idx)  # answered (or failed) without a job
        rec["status"] = self._status_sent

    def _sent(self, status: int) -> None:
        """The status this request is answered with, in its record before the answer goes
        out: a client that reads the records once it has the answer sees it (set after
        the handler returned, the record still said None to a test that looked at once)."""
        self._status_sent = status
        if self._rec is not None:
            self._rec["status"] = status

    def _carry_out_later(
        self, f: Fault, method: str, path: str, query: Any, body: Any, model: str | None
    ) -> None:
        """A `late` fault: carry the request out (make the job) once its hold ends, in a
        thread of its own; the connection is closed now, with no answer."""
        sim, idx = self.sim, self._rec_idx
        hold = sim._hold(f)

        def later() -> None:
            hold.wait(float(f.seconds if f.seconds is not None else 5.0))
            try:
                if f.id not in sim._let_go:  # (a reset let it go: no job)
                    self.wfile = io.BytesIO()  # the client is gone; the answer goes nowhere
                    self._rec = None  # its record stays "dropped": that is what it got
                    self._route(method, path, query, body, model)
            except Exception:
                pass  # an invalid request makes no job, as it would have at once
            finally:
                with sim._lock:
                    sim._unmade.discard(idx)

        threading.Thread(target=later, daemon=True).start()

    def _auth(self, api: str, query: dict[str, list[str]]) -> None:
        if not self.sim.require_auth or api in ("sim", "oauth"):  # (oauth: in the form)
            return
        bearer = self.headers.get("Authorization", "")
        has_bearer = bearer.lower().startswith("bearer ") and bool(bearer[7:].strip())
        if api == "ark":
            if not has_bearer:
                raise SimError(
                    401,
                    "The API key or AK/SK in the request is missing or invalid.",
                    code="AuthenticationError",
                )
        elif api == "anthropic":
            if not (has_bearer or self.headers.get("x-api-key", "").strip()):
                raise SimError(401, "invalid x-api-key")
        elif not (self.headers.get("x-goog-api-key", "").strip() or query.get("key") or has_bearer):
            raise SimError(401, "API key not valid. Please pass a valid API key.")

    def _send(
        self,
        status: int,
        data: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
        *,
        send_bytes: int | None = None,
        trickle: float | None = None,
    ) -> None:
        self._sent(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if trickle is not None:  # a slow link: ten pieces spread over `trickle` seconds
            step = max(1, -(-len(data) // 10))
            for i in range(0, len(data), step):
                self.wfile.write(data[i : i + step])
                self.wfile.flush()
                time.sleep(trickle / 10)
            return
        if send_bytes is None:
            self.wfile.write(data)
            return
        self.wfile.write(data[:send_bytes])
        self.wfile.flush()
        self.close_connection = True  # the server closes the socket: a short body

    def _json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        patch = getattr(self, "_patch", None)
        if patch is not None and status < 400 and isinstance(obj, dict):
            obj = {k: v for k, v in {**obj, **patch}.items() if v is not None}
        trickle = getattr(self, "_slow_answer", None)
        self._send(status, json.dumps(obj).encode(), "application/json", headers, trickle=trickle)

    def _error(self, e: SimError) -> None:
        headers: dict[str, str] = {}
        if e.retry_after is not None:
            ra = e.retry_after
            headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            if self.sim.retry_after_dates:
                when = time.time() + self.sim.clock_offset + ra
                headers["Retry-After"] = email.utils.formatdate(when, usegmt=True)
        api = self._api
        if api == "anthropic":
            rid = "req_sim" + self.sim._new_id(16)
            headers["request-id"] = rid
            etype = str(e.code) if e.code else _ANTHROPIC_TYPE.get(e.status, "api_error")
            obj: Json = {
                "type": "error",
                "error": {"type": etype, "message": e.message},
                "request_id": rid,
            }
        elif api == "oauth":  # RFC 6749 5.2, as Google's token endpoint answers
            obj = {"error": str(e.code or "invalid_request"), "error_description": e.message}
        elif api == "google":
            obj = {
                "error": {
                    "code": e.status,
                    "message": e.message,
                    "status": str(e.code) if e.code else _GOOGLE_STATUS.get(e.status, "UNKNOWN"),
                }
            }
            if e.retry_delay is not None:  # as Google's quota errors say when to come back
                obj["error"]["details"] = [
                    {
                        "@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{e.retry_delay:g}s",
                    }
                ]
        else:
            obj = {
                "error": {
                    "code": str(e.code)
                    if e.code
                    else _ARK_CODE.get(e.status, "InternalServiceError"),
                    "message": f"{e.message} Request id: sim{self.sim._new_id(8)}",
                    "param": e.param or "",
                    "type": _ARK_TYPE.get(e.status, "Error"),
                }
            }
        if e.body is not None:
            obj = e.body
        if isinstance(obj, str):  # a proxy's HTML page
            kind = e.content_type or "text/html"
            self._send(e.status, obj.encode(e.charset or "utf-8"), kind, headers)
        elif e.charset is not None:  # its letters as that charset has them, not \uXXXX
            text = json.dumps(obj, ensure_ascii=False)
            self._send(e.status, text.encode(e.charset), "application/json", headers)
        else:
            self._json(obj, e.status, headers)

    def _host_url(self) -> str:
        return f"http://{self.headers.get('Host') or f'{self.sim.host}:{self.sim.port}'}"

    # ------------------------------------------------------------------ control plane
    def _control(self, method: str, path: str, body: Any) -> None:
        sim = self.sim
        if path == "/_sim/stats" and method == "GET":
            self._json(sim.stats())
        elif path == "/_sim/requests" and method == "GET":
            self._json(sim.requests())
        elif path == "/_sim/faults" and method == "GET":
            self._json([f.to_dict() for f in sim.faults()])
        elif path == "/_sim/faults" and method == "DELETE":
            sim.clear_faults()
            self._json({})
        elif path == "/_sim/faults" and method == "POST":
            items = body if isinstance(body, list) else [body]
            try:
                made = [
                    sim.add_fault(**{k: v for k, v in dict(i).items() if k not in ("id", "fired")})
                    for i in items
                ]
            except (TypeError, ValueError) as e:
                self._json({"error": str(e)}, 400)
                return
            self._json({"faults": [f.to_dict() for f in made]})
        elif path == "/_sim/reset" and method == "POST":
            sim.reset()
            self._json({})
        elif path == "/_sim/config" and method == "POST" and isinstance(body, dict):
            knobs = ("job_seconds", "media_scale", "min_polls", "clock_offset", "retry_after_dates")
            for key in knobs:
                if key in body:
                    setattr(sim, key, type(getattr(sim, key))(body[key]))
            self._json({k: getattr(sim, k) for k in knobs})
        elif path == "/_sim/forget" and method == "POST" and isinstance(body, dict):
            try:
                sim.forget(str(body.get("job") or ""))
            except KeyError:
                self._json({"error": f"no job {body.get('job')!r}"}, 404)
                return
            self._json({})
        elif path == "/_sim/planner" and method == "POST" and isinstance(body, dict):
            sim.set_planner(body.get("input"))
            self._json({})
        else:
            self._json({"error": f"no sim endpoint {method} {path}"}, 404)

    # ------------------------------------------------------------------ routing
    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any, model: str | None
    ) -> None:
        b = body if isinstance(body, dict) else {}
        if path == "/api/v3/contents/generations/tasks":
            if method == "POST":
                return self._ark_create(b)
            if method == "GET":
                return self._ark_list(query)
        if m := _ARK_TASK_RE.match(path):
            if method == "GET":
                return self._ark_get(m["id"])
            if method == "DELETE":
                return self._ark_delete(m["id"])
        if path == "/api/v3/images/generations" and method == "POST":
            return self._ark_images(b)
        if path == "/v1/messages" and method == "POST":
            return self._messages(b)
        if path == "/token" and method == "POST":
            return self._oauth_token(b)
        if (m := _SIM_FILE_RE.match(path)) and method == "GET":
            return self._download(m["id"])
        if (m := _GOOGLE_FILE_RE.match(path)) and method == "GET":
            return self._download(m["id"])
        if (m := _GOOGLE_RE.match(path)) and method == "POST":
            verb = m["verb"]
            vertex = m["ver"] == "v1beta1" or "/publishers/" in path
            if verb == "predictLongRunning":
                return self._veo_create(m["model"], b, vertex=vertex)
            if verb == "fetchPredictOperation":
                name = str(b.get("operationName", ""))
                return self._google_op(name.rsplit("/", 1)[-1], vertex=True)
            if verb == "generateContent":
                return self._generate_content(m["model"], b, version=m["ver"])
            if verb == "predict":
                return self._imagen(m["model"], b)
        if (m := _GOOGLE_OP_RE.match(path)) and method == "GET":
            return self._google_op(m["id"], vertex=False)
        raise SimError(404, f"sim: no route for {method} {path}")

    # ------------------------------------------------------------------ Google OAuth
    def _oauth_token(self, form: Json) -> None:
        """An access token, as google-auth asks an ADC file's token_uri for one before a
        Vertex project-mode call: a service account's signed JWT (its scopes in its
        claims; the signature is not checked) or a user's refresh token."""
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and form.get("assertion"):
            scope = str(jwt_claims(str(form["assertion"])).get("scope", ""))
        elif grant == "refresh_token" and form.get("refresh_token"):
            scope = str(form.get("scope", ""))
        else:
            raise SimError(
                400, f"grant_type {grant!r} not supported", code="unsupported_grant_type"
            )
        self._json(
            {
                "access_token": "ya29.sim-" + self.sim._new_id(16),
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": scope,
            }
        )

    # ------------------------------------------------------------------ Ark
    def _ark_create(self, body: Json) -> None:
        sim = self.sim
        p = _nonnull(body)
        model = p.get("model")
        if not isinstance(model, str) or not model:
            raise SimError(
                400, "The parameter `model` is missing.", code="MissingParameter", param="model"
            )
        content = p.get("content")
        if not isinstance(content, list) or not content:
            raise SimError(
                400, "The parameter `content` is missing.", code="MissingParameter", param="content"
            )
        text = " ".join(
            str(c.get("text", ""))
            for c in content
            if isinstance(c, dict) and c.get("type") == "text"
        )
        flags = models.inline_flags(text)
        first_frame = next(
            (
                c
                for c in content
                if isinstance(c, dict)
                and c.get("type") == "image_url"
                and c.get("role", "first_frame") == "first_frame"
            ),
            None,
        )
        resolution = str(
            p.get("resolution")
            or flags.get("resolution")
            or models.seedance_default_resolution(model)
        ).lower()
        ratio = str(p.get("ratio") or flags.get("ratio") or ("adaptive" if first_frame else "16:9"))
        try:
            if "frames" in p:
                duration = float(p["frames"]) / models.FPS
            else:
                duration = float(p.get("duration") or flags.get("duration") or 5)
        except (TypeError, ValueError) as e:
            raise SimError(
                400,
                "The parameter `duration` specified in the request is not valid.",
                param="duration",
            ) from e
        if resolution not in models.SEEDANCE_10:
            raise SimError(
                400,
                "The parameter `resolution` specified in the request is not valid.",
                param="resolution",
            )
        if ratio != "adaptive" and ratio not in models.SEEDANCE_RATIOS:
            raise SimError(
                400, "The parameter `ratio` specified in the request is not valid.", param="ratio"
            )
        if "frames" not in p and (
            not duration.is_integer() or int(duration) not in models.SEEDANCE_DURATIONS
        ):
            raise SimError(
                400,
                "The parameter `duration` specified in the request is not valid.",
                param="duration",
            )
        if ratio == "adaptive":
            ratio = _adaptive_ratio(first_frame)
        width, height = models.seedance_size(model, resolution, ratio)
        is15 = models.is_seedance_15(model)
        audio = bool(p.get("generate_audio", True)) and is15
        seed = p.get("seed", flags.get("seed"))
        seed = int(seed) if seed is not None and int(seed) >= 0 else secrets.randbelow(2**31)
        now = time.monotonic()
        jid = f"cgt-{time.strftime('%Y%m%d%H%M%S')}-{sim._new_id(5)}"
        job = Job(
            id=jid,
            api="ark",
            model=model,
            name=jid,
            created=now,
            created_wall=int(time.time()),
            latency=sim.job_seconds,
            width=width,
            height=height,
            fps=models.FPS,
            duration=duration,
            audio=audio,
            media_size=sim._media_size(width, height),
            min_polls=sim.min_polls,
            text=text,
            expires_after=float(p["execution_expires_after"])
            if "execution_expires_after" in p
            else None,
            info={
                "seed": seed,
                "resolution": resolution,
                "ratio": ratio,
                "duration": int(duration) if duration.is_integer() else duration,
                "service_tier": p.get("service_tier", "default"),
                "execution_expires_after": p.get("execution_expires_after", 172800),
                "generate_audio": audio,
                "draft": bool(p.get("draft", False)),
            },
        )
        fid = sim._new_id()
        job.file_ids.append(fid)
        self._register_video(fid, job)
        if p.get("return_last_frame"):
            lid = sim._new_id()
            job.last_frame_id = lid
            mw, mh = job.media_size
            sim._files[lid] = FileEntry(model, "image/png", lambda: media.png(mw, mh, 1))
        sim._job_faults(job, sim._take(JOB_KINDS, "POST", self.path, model))
        job.owner = self._credential()
        sim._add_job(job, made_by=self._rec_idx)
        self._json({"id": jid})

    def _register_video(self, fid: str, job: Job) -> None:
        mw, mh = job.media_size

        def make() -> bytes:
            return media.mp4(mw, mh, job.fps, job.duration, job.audio, self.sim.video_transfer)

        with self.sim._lock:
            self.sim._files[fid] = FileEntry(job.model, "video/mp4", make)

    def _ark_job(self, jid: str) -> Job:
        with self.sim._lock:
            job = self.sim._jobs.get(jid)
        if job is None or job.deleted or job.api != "ark" or not self._owns(job):
            raise SimError(404, "The specified task is not found.", code="ResourceNotFound")
        return job

    def _credential(self) -> str:
        """The key this request carries (Bearer, x-api-key or x-goog-api-key)."""
        bearer = self.headers.get("Authorization", "")
        if bearer.lower().startswith("bearer "):
            return bearer[7:].strip()
        return (self.headers.get("x-goog-api-key") or self.headers.get("x-api-key") or "").strip()

    def _owns(self, job: Job) -> bool:
        """Whether this request's key may see `job` (`SimServer.jobs_per_key`)."""
        return not self.sim.jobs_per_key or job.owner == self._credential()

    def _ark_task(self, job: Job, now: float) -> Json:
        st = job.status(now)
        d: Json = {
            "id": job.id,
            "model": job.model,
            "status": st,
            "created_at": job.created_wall,
            "updated_at": job.created_wall + int(max(0.0, min(now, job.finish_at()) - job.created)),
            **job.info,
            "framespersecond": job.fps,
        }
        host = self._host_url()
        if st == "succeeded":
            query = f"?{self.sim.video_url_query}" if self.sim.video_url_query else ""
            content: Json = {"video_url": f"{host}/_sim/files/{job.file_ids[0]}.mp4{query}"}
            if job.last_frame_id:
                content["last_frame_url"] = f"{host}/_sim/files/{job.last_frame_id}.png"
            d["content"] = content
            tokens = models.seedance_tokens(job.width, job.height, job.fps, job.duration)
            d["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
        elif st == "failed":
            if job.outcome == "reject":
                code = job.error_code or "OutputVideoSensitiveContentDetected"
                msg = job.error_message or _ARK_REJECT_MSG
                if job.billed_refusal:
                    tokens = models.seedance_tokens(job.width, job.height, job.fps, job.duration)
                    d["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
            else:
                code = job.error_code or "InternalServiceError"
                msg = job.error_message or "The task failed (simulated)."
            d["error"] = {"code": str(code), "message": msg}
        elif st == "expired":
            d["error"] = {"code": "TaskExpired", "message": "The task expired before it finished."}
        return d

    def _ark_get(self, jid: str) -> None:
        job = self._ark_job(jid)
        with self.sim._lock:
            job.polls += 1
            self.sim._counters[job.model]["polls"] += 1
        self._json(self._ark_task(job, time.monotonic()))

    def _ark_list(self, query: dict[str, list[str]]) -> None:
        def one(key: str) -> str | None:
            v = query.get(key)
            return v[0] if v else None

        try:
            page_num = max(1, int(one("page_num") or 1))
            page_size = max(1, min(500, int(one("page_size") or 10)))
        except ValueError as e:
            raise SimError(400, "page_num/page_size must be integers", param="page_num") from e
        now = time.monotonic()
        with self.sim._lock:
            jobs = [
                j
                for j in self.sim._jobs.values()
                if j.api == "ark" and not j.deleted and self._owns(j)
            ]
        status, model, tier = one("filter.status"), one("filter.model"), one("filter.service_tier")
        ids = set(query.get("filter.task_ids", []))
        items = []
        for j in sorted(jobs, key=lambda j: j.created, reverse=True):
            t = self._ark_task(j, now)
            if status and t["status"] != status:
                continue
            if model and j.model != model:
                continue
            if tier and t.get("service_tier") != tier:
                continue
            if ids and j.id not in ids:
                continue
            items.append(t)
        start = (page_num - 1) * page_size
        self._json({"total": len(items), "items": items[start : start + page_size]})

    def _ark_delete(self, jid: str) -> None:
        job = self._ark_job(jid)
        now = time.monotonic()
        with self.sim._lock:
            st = job.status(now)
            if st == "queued":
                job.cancelled_at = now
            elif st == "running":
                raise SimError(
                    409,
                    "The task is running and cannot be cancelled or deleted.",
                    code="InvalidAction.TaskRunning",
                )
            else:
                job.deleted = True
        self._json({})

    def _ark_images(self, body: Json) -> None:
        sim = self.sim
        p = _nonnull(body)
        model = p.get("model")
        if not isinstance(model, str) or not model:
            raise SimError(
                400, "The parameter `model` is missing.", code="MissingParameter", param="model"
            )
        prompt = p.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise SimError(
                400, "The parameter `prompt` is missing.", code="MissingParameter", param="prompt"
            )
        if str(p.get("size") or "").lower() == "adaptive":
            # SeedEdit: output follows the input image's shape
            iw, ih = _data_image_size(p.get("image")) or (1024, 1024)
            size = (1024, max(64, round(1024 * ih / iw)))
        else:
            size = models.seedream_size(p.get("size"))
        if size is None or min(size) < 64 or size[0] * size[1] > 4096 * 4096:
            raise SimError(
                400, "The parameter `size` specified in the request is not valid.", param="size"
            )
        fmt = p.get("response_format", "url")
        if fmt not in ("url", "b64_json"):
            raise SimError(
                400,
                "The parameter `response_format` specified in the request is not valid.",
                param="response_format",
            )
        for f in sim._take(frozenset({"reject"}), "POST", self.path, model):
            raise SimError(
                400,
                f.message
                or "The request failed because the output image may contain sensitive information.",
                code=f.code or "OutputImageSensitiveContentDetected",
            )
        n = 1
        if p.get("sequential_image_generation") == "auto":
            n = max(
                1,
                min(
                    15,
                    int(
                        _nonnull(p.get("sequential_image_generation_options")).get("max_images", 1)
                    ),
                ),
            )
        w, h = size
        mw, mh = sim._media_size(w, h)
        variant = int(p.get("seed", 0) or 0)
        host = self._host_url()
        data = []
        for i in range(n):
            item: Json = {"size": f"{w}x{h}"}
            if fmt == "b64_json":
                item["b64_json"] = base64.b64encode(media.png(mw, mh, variant + i)).decode()
            else:
                fid = sim._new_id()
                v = variant + i
                with sim._lock:
                    sim._files[fid] = FileEntry(
                        model, "image/png", functools.partial(media.png, mw, mh, v)
                    )
                query = f"?{sim.image_url_query}" if sim.image_url_query else ""
                item["url"] = f"{host}/_sim/files/{fid}.png{query}"
            data.append(item)
        sim._count(model, "images", n)
        tokens = n * models.image_tokens(w, h)
        self._json(
            {
                "model": model,
                "created": int(time.time()),
                "data": data,
                "usage": {"generated_images": n, "output_tokens": tokens, "total_tokens": tokens},
            }
        )

    # ------------------------------------------------------------------ downloads
    def _download(self, fid: str) -> None:
        sim = self.sim
        with sim._lock:
            entry = sim._files.get(fid)
        if entry is None:
            raise SimError(404, "The requested file does not exist.", code="ResourceNotFound")
        data = entry.make()
        sim._count(entry.model, "downloads")
        cut = None
        trickle = None
        headers: dict[str, str] = {}
        for f in sim._take(DOWNLOAD_KINDS, "GET", self.path, entry.model):
            if f.kind == "trickle":
                trickle = float(f.seconds if f.seconds is not None else 5.0)
            elif f.kind == "corrupt":  # same size, so only looking inside can tell
                data = (_NOT_MEDIA * (len(data) // len(_NOT_MEDIA) + 1))[: len(data)]
            elif f.kind == "empty":
                data = b""
            elif f.kind == "gzip":
                data = gzip.compress(data)
                headers["Content-Encoding"] = "gzip"
            else:
                cut = int(f.length) if f.length is not None else len(data) // 2
        self._send(200, data, entry.mime, headers, send_bytes=cut, trickle=trickle)

    # ------------------------------------------------------------------ Google
    def _veo_create(self, model: str, body: Json, *, vertex: bool) -> None:
        sim = self.sim
        inst = (body.get("instances") or [{}])[0]
        params = _nonnull(body.get("parameters"))
        if not isinstance(inst, dict) or not (inst.get("prompt") or inst.get("image")):
            raise SimError(400, "A prompt or an image is required.")
        dur = params.get("durationSeconds", 8)
        if (
            not isinstance(dur, int | float)
            or int(dur) != dur
            or int(dur) not in models.VEO_DURATIONS
        ):
            raise SimError(400, f"durationSeconds must be between 4 and 8, got {dur}.")
        ratio = params.get("aspectRatio", "16:9")
        res = str(params.get("resolution", "720p")).lower()
        if res not in models.VEO or ratio not in models.VEO[res]:
            raise SimError(400, f"Unsupported resolution/aspectRatio {res}/{ratio}.")
        samples = int(params.get("sampleCount", 1))
        if not 1 <= samples <= 4:
            raise SimError(400, "sampleCount must be between 1 and 4.")
        width, height = models.VEO[res][ratio]
        audio = bool(params.get("generateAudio", model.startswith("veo-3")))
        oid = sim._new_id()
        name = (
            f"projects/sim-project/locations/us-central1/publishers/google/models/{model}/operations/{oid}"
            if vertex
            else f"models/{model}/operations/{oid}"
        )
        job = Job(
            id=oid,
            api="vertex" if vertex else "veo",
            model=model,
            name=name,
            created=time.monotonic(),
            created_wall=int(time.time()),
            latency=sim.job_seconds,
            width=width,
            height=height,
            fps=models.FPS,
            duration=float(dur),
            audio=audio,
            media_size=sim._media_size(width, height),
            samples=samples,
            min_polls=sim.min_polls,
        )
        for _ in range(samples):
            fid = sim._new_id()
            job.file_ids.append(fid)
            self._register_video(fid, job)
        sim._job_faults(job, sim._take(JOB_KINDS, "POST", self.path, model))
        job.owner = self._credential()
        sim._add_job(job, made_by=self._rec_idx)
        self._json({"name": name})

    def _google_op(self, oid: str, *, vertex: bool) -> None:
        sim = self.sim
        with sim._lock:
            job = sim._jobs.get(oid)
            if job is None or job.deleted or job.api == "ark" or not self._owns(job):
                raise SimError(404, f"Operation {oid} not found.")
            job.polls += 1
            sim._counters[job.model]["polls"] += 1
        st = job.status()
        out: Json = {"name": job.name}
        if st in ("queued", "running"):
            out["metadata"] = {}
            return self._json(out)
        out["done"] = True
        if st == "cancelled":
            out["error"] = {"code": 1, "message": "Operation cancelled."}
        elif st == "expired":
            out["error"] = {"code": 4, "message": "Operation deadline exceeded."}
        elif st == "failed" and job.outcome == "fail":
            code = job.error_code if isinstance(job.error_code, int) else 13
            msg = job.error_message or (
                f"Video generation failed: {job.error_code}"
                if job.error_code
                else "Video generation failed (simulated)."
            )
            out["error"] = {"code": code, "message": msg}
        elif st == "failed":  # content filter
            reason = job.error_message or _RAI_MSG
            rai = {"raiMediaFilteredCount": job.samples, "raiMediaFilteredReasons": [reason]}
            if job.api == "vertex":
                out["response"] = {
                    "@type": _VERTEX_TYPE,
                    **rai,
                }
            else:
                out["response"] = {
                    "@type": _MLDEV_TYPE,
                    "generateVideoResponse": rai,
                }
        elif job.api == "vertex" and vertex:
            videos = []
            for fid in job.file_ids:
                data = sim._files[fid].make()
                videos.append(
                    {"bytesBase64Encoded": base64.b64encode(data).decode(), "mimeType": "video/mp4"}
                )
                sim._count(job.model, "downloads")
            out["response"] = {
                "@type": _VERTEX_TYPE,
                "raiMediaFilteredCount": 0,
                "videos": videos,
            }
        else:
            samples = [
                {"video": {"uri": f"https://sim.invalid/v1beta/files/{fid}:download?alt=media"}}
                for fid in job.file_ids
            ]
            out["response"] = {
                "@type": _MLDEV_TYPE,
                "generateVideoResponse": {"generatedSamples": samples},
            }
        self._json(out)

    def _generate_content(self, model: str, body: Json, *, version: str) -> None:
        sim = self.sim
        if model.startswith("imagen-"):
            # Imagen answers only :predict; the real API's answer to its generateContent
            # (googleapis/python-genai#43, langchain-google#877; the Vertex wording is
            # not on record, so both modes give this one)
            raise SimError(
                404,
                f"models/{model} is not found for API version {version}, or is not "
                "supported for generateContent. Call ListModels to see the list of "
                "available models and their supported methods.",
            )
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            raise SimError(400, "contents is not specified")
        cfg = _nonnull(body.get("generationConfig"))
        modalities = [str(m).upper() for m in cfg.get("responseModalities") or []]
        want_image = "IMAGE" in modalities or (not modalities and "image" in model)
        prompt_tokens = _gemini_prompt_tokens(contents)
        usage: Json = {"promptTokenCount": prompt_tokens}
        if want_image and sim._take(frozenset({"reject"}), "POST", self.path, model):
            usage.update(candidatesTokenCount=0, totalTokenCount=prompt_tokens)
            sim._count(model, "input_tokens", prompt_tokens)
            return self._json(
                {
                    "candidates": [
                        {
                            "finishReason": "IMAGE_SAFETY",
                            "index": 0,
                            "content": {"role": "model", "parts": []},
                        }
                    ],
                    "usageMetadata": usage,
                    "modelVersion": model,
                }
            )
        parts: list[Json] = []
        out_tokens = 8
        if want_image:
            icfg = _nonnull(cfg.get("imageConfig"))
            ratio = icfg.get("aspectRatio", "1:1")
            if ratio not in models.GEMINI_IMAGE:
                raise SimError(400, f"Unsupported aspect ratio: {ratio}")
            mult = {"1K": 1, "2K": 2, "4K": 4}.get(str(icfg.get("imageSize", "1K")).upper(), 1)
            w, h = (x * mult for x in models.GEMINI_IMAGE[ratio])
            mw, mh = sim._media_size(w, h)
            data = media.png(mw, mh, len(json.dumps(contents)))
            parts = [
                {"text": "sim image"},
                {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(data).decode()}},
            ]
            out_tokens = models.GEMINI_IMAGE_TOKENS_BY_MODEL.get(model, models.GEMINI_IMAGE_TOKENS)
            sim._count(model, "images")
        else:
            parts = [{"text": "sim text"}]
        sim._count(model, "input_tokens", prompt_tokens)
        sim._count(model, "output_tokens", out_tokens)
        usage.update(candidatesTokenCount=out_tokens, totalTokenCount=prompt_tokens + out_tokens)
        self._json(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": parts},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": usage,
                "modelVersion": model,
            }
        )

    def _imagen(self, model: str, body: Json) -> None:
        sim = self.sim
        inst = (body.get("instances") or [{}])[0]
        if not isinstance(inst, dict) or not inst.get("prompt"):
            raise SimError(400, "prompt is required")
        params = _nonnull(body.get("parameters"))
        n = int(params.get("sampleCount", 1))
        ratio = params.get("aspectRatio", "1:1")
        if not 1 <= n <= 4 or ratio not in models.IMAGEN:
            raise SimError(400, "Unsupported sampleCount or aspectRatio.")
        mult = 2 if str(params.get("sampleImageSize", "1K")).upper() == "2K" else 1
        w, h = (x * mult for x in models.IMAGEN[ratio])
        mw, mh = sim._media_size(w, h)
        preds = [
            {
                "bytesBase64Encoded": base64.b64encode(media.png(mw, mh, i)).decode(),
                "mimeType": "image/png",
            }
            for i in range(n)
        ]
        sim._count(model, "images", n)
        self._json({"predictions": preds})

    # ------------------------------------------------------------------ Anthropic
    def _messages(self, body: Json) -> None:
        sim = self.sim
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise SimError(400, "model: Field required")
        if not isinstance(body.get("max_tokens"), int):
            raise SimError(400, "max_tokens: Field required")
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise SimError(400, "messages: Field required")
        tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
        choice = _nonnull(body.get("tool_choice"))
        fmt = _nonnull(_nonnull(body.get("output_config")).get("format"))
        tool: Json | None = None
        if choice.get("type") == "tool":
            tool = next((t for t in tools if t.get("name") == choice.get("name")), None)
            if tool is None:
                raise SimError(400, f"tool_choice names unknown tool {choice.get('name')!r}")
        elif choice.get("type") == "any" and tools:
            tool = tools[0]
        content: list[Json]
        fired = sim._take(PLANNER_KINDS, "POST", self.path, model)
        if tool is not None:
            value = self._planner_output(body, tool.get("input_schema") or {}, fired)
            content = [
                {
                    "type": "tool_use",
                    "id": "toolu_sim" + sim._new_id(16),
                    "name": tool.get("name"),
                    "input": value,
                }
            ]
            stop = "tool_use"
        elif fmt.get("type") == "json_schema":
            value = self._planner_output(body, fmt.get("schema") or {}, fired)
            content = [{"type": "text", "text": json.dumps(value)}]
            stop = "end_turn"
        else:
            content = [{"type": "text", "text": "sim text"}]
            stop = "end_turn"
        in_tok = max(1, len(json.dumps(body)) // 4)
        out_tok = max(1, len(json.dumps(content)) // 4)
        sim._count(model, "messages")
        sim._count(model, "input_tokens", in_tok)
        sim._count(model, "output_tokens", out_tok)
        cache_write, cache_read = sim.cache_tokens
        sim._count(model, "cache_creation_input_tokens", cache_write)
        sim._count(model, "cache_read_input_tokens", cache_read)
        msg: Json = {
            "id": "msg_sim" + sim._new_id(20),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {
                "input_tokens": in_tok,
                "output_tokens": out_tok,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read,
                "service_tier": "standard",
            },
        }
        headers = {"request-id": "req_sim" + sim._new_id(16)}
        seconds = next((float(f.seconds or 2.0) for f in fired if f.kind == "generating"), 0.0)
        broken = next((f for f in fired if f.kind == "midstream"), None)
        cut = next((f for f in fired if f.kind == "cut"), None)
        if cut is not None:
            msg["stop_reason"] = str(cut.code or "max_tokens")
        if body.get("stream") is True:
            self._stream_message(msg, headers, seconds, broken, cut)
            return
        time.sleep(seconds)  # an unstreamed answer: nothing is sent before all of it is
        if broken is not None:
            if not broken.code:
                raise _Drop()
            status = 529 if broken.code == "overloaded_error" else 500
            raise SimError(status, broken.message or str(broken.code), code=broken.code)
        self._json(msg, headers=headers)

    def _stream_message(
        self,
        msg: Json,
        headers: dict[str, str],
        seconds: float,
        broken: Fault | None,
        cut: Fault | None = None,
    ) -> None:
        """The answer as the Messages API streams it (SSE): message_start, each content
        block as start / deltas / stop, message_delta with the stop reason and the output
        tokens, message_stop; `seconds` spread over the deltas, with pings between."""
        patch = getattr(self, "_patch", None)
        if patch is not None:
            msg = {k: v for k, v in {**msg, **patch}.items() if v is not None}
        events: list[tuple[str, Json]] = []
        start = {**msg, "content": [], "stop_reason": None, "stop_sequence": None}
        start["usage"] = {**_nonnull(msg.get("usage")), "output_tokens": 1}
        events.append(("message_start", {"type": "message_start", "message": start}))
        for i, block in enumerate(msg.get("content") or []):
            if block.get("type") == "tool_use":
                shell = {**block, "input": {}}
                text = json.dumps(block.get("input"))
                if cut is not None:  # the tool input as far as max_tokens let it come
                    text = text[: cut.length if cut.length is not None else len(text) // 2]
                delta_type, key = "input_json_delta", "partial_json"
            else:
                shell = {**block, "text": ""}
                text = str(block.get("text", ""))
                delta_type, key = "text_delta", "text"
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": shell},
                )
            )
            step = max(1, -(-len(text) // 8))  # about eight pieces a block
            for j in range(0, len(text), step):
                delta = {"type": delta_type, key: text[j : j + step]}
                events.append(
                    (
                        "content_block_delta",
                        {"type": "content_block_delta", "index": i, "delta": delta},
                    )
                )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        usage = _nonnull(msg.get("usage"))
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": msg.get("stop_reason"),
                        "stop_sequence": msg.get("stop_sequence"),
                    },
                    "usage": {"output_tokens": usage.get("output_tokens", 0)},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        self._sent(200)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")  # no length: the body ends with the socket
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.close_connection = True
        pieces = sum(1 for name, _ in events if name == "content_block_delta")
        pause = seconds / max(1, pieces)
        sent_deltas = 0
        for name, data in events:
            if broken is not None and name == "content_block_delta" and sent_deltas == 2:
                if not broken.code:
                    self.wfile.flush()
                    raise _Drop()
                err = {
                    "type": "error",
                    "error": {
                        "type": str(broken.code),
                        "message": broken.message or str(broken.code),
                    },
                }
                self.wfile.write(f"event: error\ndata: {json.dumps(err)}\n\n".encode())
                self.wfile.flush()
                return
            if name == "content_block_delta":
                sent_deltas += 1
                if pause:
                    time.sleep(pause)
                    self.wfile.write(b'event: ping\ndata: {"type": "ping"}\n\n')
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

    def _planner_output(self, body: Json, schema: Json, fired: list[Fault]) -> Any:
        sim = self.sim
        spec = sim.planner
        if callable(spec):
            value = spec(body)
        elif spec is not None:
            value = copy.deepcopy(spec)
        else:
            value = planner.generate(schema)
        for f in fired:
            if f.kind == "invalid":
                value = planner.drop_field(value, f.field)
        if any(f.kind == "wrap" for f in fired):
            value = {"output": value}
        return value


def _data_image_size(image: Any) -> tuple[int, int] | None:
    """Pixel size of a data-URI image (first one when a list), or None."""
    if isinstance(image, list):
        image = image[0] if image else None
    if not isinstance(image, str) or not image.startswith("data:"):
        return None
    try:
        raw = base64.b64decode(image.split(",", 1)[1])
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as im:
            return im.size
    except Exception:
        return None


def _adaptive_ratio(item: Json | None) -> str:
    """Ratio "adaptive": nearest supported ratio to the first frame (data URL), else 16:9."""
    url = str(((item or {}).get("image_url") or {}).get("url", ""))
    if url.startswith("data:") and "," in url:
        try:
            from PIL import Image

            with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as im:
                return models.closest_ratio(*im.size)
        except Exception:
            return "16:9"
    return "16:9"
