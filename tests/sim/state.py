"""The simulator's state: faults, jobs, files, counters and request records."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: fault kinds, by the phase in which they are consulted
REQUEST_KINDS = frozenset(
    {"http", "http_after", "drop", "drop_after", "delay", "late", "patch", "slow_answer"}
)
JOB_KINDS = frozenset({"slow", "stuck", "fail", "reject"})
DOWNLOAD_KINDS = frozenset({"truncate", "trickle", "corrupt", "empty", "gzip"})
PLANNER_KINDS = frozenset({"wrap", "invalid", "generating", "midstream", "cut"})
ALL_KINDS = REQUEST_KINDS | JOB_KINDS | DOWNLOAD_KINDS | PLANNER_KINDS


@dataclass
class Fault:
    """One injected failure.

    Matches a request when every given matcher matches: `path` is a substring of the
    request path (with query), `model` equals the request's model (body `model`, the
    `models/{m}` path segment, or the model of the job/file the path names), `method`
    equals the HTTP method. Fires `count` times (None: forever).

    kinds and their parameters:
      http      status (default 500), retry_after (s → Retry-After header), code, message, param,
                retry_delay (s → a google.rpc.RetryInfo `retryDelay` in a Google error body);
                `body`: the JSON answered instead of the API's error shape (a proxy's own),
                or a str: a page answered as text/html (a proxy's HTML error page), or
                as `content_type` when given (JSON cut off, sent as application/json);
                `charset`: the answer's text encoded in it instead of UTF-8 (e.g.
                "latin-1"), its Content-Type naming no charset, as a proxy's page may
      http_after  carry the request out (e.g. create the job), then answer the error of
                `http` (status default 504): a gateway that timed out waiting for a
                backend which did the work
      drop      close the socket without any response
      drop_after  carry the request out (e.g. create the job), then close the socket
                without the answer
      delay     sleep `seconds` before answering (SimServer.release ends it sooner)
      late      close the socket at once without an answer (the client sees the connection
                break after sending) and carry the request out `seconds` later (default
                5; SimServer.release: now): a job the provider lists only late
      patch     the request is carried out as usual, and its (successful) JSON answer gets
                the top-level keys of `body`, a None value removing the key: an answer
                the real API may give that the simulator never makes by itself (an
                unknown task status, a success without its result, a text answer)
      slow_answer  the request is carried out as usual and its JSON answer is sent in 10
                pieces over `seconds` (default 5): a slow link under an API answer (a
                Veo operation carrying its video inline, a Gemini image)
      slow      the created job takes `seconds` (instead of job_seconds)
      stuck     the created job never finishes (expires if execution_expires_after is set)
      fail      the created job fails: code, message
      reject    content filter: an Ark job fails with `code` (default
                OutputVideoSensitiveContentDetected), a Veo operation ends with
                raiMediaFilteredCount and no videos; image requests are refused.
                `billed`: the failed Ark task still reports usage.completion_tokens (a
                provider that charges for generation it then filtered)
      truncate  a download sends Content-Length of the whole file but only `length` bytes
                (default half) and closes
      trickle   a download sends its body in 10 pieces over `seconds` (default 5)
      corrupt   a download answers 200 with as many bytes as the real file, and a matching
                Content-Length, but the bytes are not a video/image (a broken CDN object)
      empty     a download answers 200 with an empty body (Content-Length: 0)
      gzip      a download is sent compressed (Content-Encoding: gzip), its Content-Length
                the compressed size, as a CDN may send any file to a client that accepts it
      wrap      the planner's tool input comes back wrapped as {"output": {...}}
      invalid   the planner's tool input misses a field (`field`, default the last key of
                the first array item, i.e. of the first scene)
      generating  Claude takes `seconds` (default 2) to write its answer: a streamed
                answer (`"stream": true`) starts at once and sends its pieces, with pings,
                over that time; an unstreamed one is sent whole at the end, as the real
                API does (no byte before the whole answer is written)
      midstream a streamed answer breaks off after its first pieces: with `code` (e.g.
                overloaded_error) an SSE `error` event says so, without one the socket is
                closed; an unstreamed answer is that error as an HTTP status (529 or 500)
                or a dropped connection
      cut       the answer stops short, as at max_tokens: its stop_reason is `code`
                (default "max_tokens") and a streamed tool input is only its first `length`
                characters (default half); an unstreamed one keeps its whole input
    """

    kind: str
    path: str | None = None
    model: str | None = None
    method: str | None = None
    count: int | None = 1
    status: int | None = None
    retry_after: float | None = None
    retry_delay: float | None = None
    code: str | int | None = None
    message: str | None = None
    param: str | None = None
    seconds: float | None = None
    length: int | None = None
    field: str | None = None
    billed: bool = False
    body: dict[str, Any] | str | None = None
    charset: str | None = None
    content_type: str | None = None
    id: int = 0
    fired: int = 0

    def matches(self, method: str, path: str, model: str | None) -> bool:
        """True if this fault still has shots and every given matcher matches."""
        if self.count is not None and self.fired >= self.count:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path and self.path not in path:
            return False
        return not (self.model and self.model != model)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass
class Job:
    """A long-running generation: an Ark task or a Veo operation."""

    id: str
    api: str  # "ark" | "veo" (Gemini Developer) | "vertex"
    model: str
    name: str  # Ark: id; Google: operation name
    created: float  # time.monotonic()
    created_wall: int
    latency: float
    width: int  # the model's real output size (billing)
    height: int
    fps: int
    duration: float
    audio: bool
    media_size: tuple[int, int]  # what the MP4 actually has (media_scale)
    samples: int = 1
    stuck: bool = False
    outcome: str = "ok"  # "ok" | "fail" | "reject"
    error_code: str | int | None = None
    error_message: str | None = None
    billed_refusal: bool = False  # a rejected Ark task that reports (and bills) its tokens
    expires_after: float | None = None
    min_polls: int = 0
    polls: int = 0
    cancelled_at: float | None = None
    deleted: bool = False
    file_ids: list[str] = field(default_factory=list)
    last_frame_id: str | None = None
    info: dict[str, Any] = field(default_factory=dict)  # echoed task fields (Ark)
    text: str = ""  # the request's prompt text (for tests; not echoed)
    owner: str = ""  # the key that made it (`SimServer.jobs_per_key`)

    def finish_at(self) -> float:
        """Monotonic time at which the job stops being in flight (inf if never)."""
        end = math.inf if self.stuck else self.created + self.latency
        if self.expires_after is not None:
            end = min(end, self.created + self.expires_after)
        if self.cancelled_at is not None:
            end = min(end, self.cancelled_at)
        return end

    def status(self, now: float | None = None) -> str:
        """queued | running | succeeded | failed | cancelled | expired, at `now`."""
        now = time.monotonic() if now is None else now
        if self.cancelled_at is not None:
            return "cancelled"
        elapsed = now - self.created
        if (
            self.expires_after is not None
            and elapsed >= self.expires_after
            and (self.stuck or self.latency > self.expires_after)
        ):
            return "expired"
        if not self.stuck and elapsed >= self.latency and self.polls >= self.min_polls:
            return "succeeded" if self.outcome == "ok" else "failed"
        if self.latency > 0 and not self.stuck:
            return "queued" if elapsed < self.latency / 2 else "running"
        return "queued" if self.polls <= 1 else "running"


@dataclass
class FileEntry:
    """A downloadable artifact, made on first download."""

    model: str
    mime: str
    make: Callable[[], bytes]


COUNTER_KEYS = (
    "jobs_created",
    "jobs_succeeded",
    "jobs_failed",
    "jobs_rejected",
    "jobs_cancelled",
    "jobs_expired",
    "jobs_deleted",
    "images",
    "polls",
    "downloads",
    "in_flight_max",
    "completion_tokens",
    "video_seconds",
    "messages",
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
