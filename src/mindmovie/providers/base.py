"""Provider protocols, request/result types and the one error taxonomy.

Every provider maps its SDK's failures onto these exceptions so that the pipeline has
exactly one retry policy and one place that decides what a failure means for the person
(retry, soften the prompt, fail fast with a fix, or give up on one scene only).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import html
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import ssl

    from mindmovie.goals import Goals
    from mindmovie.plan import Plan


# ---------------------------------------------------------------- error taxonomy
def unknown_options(
    field: str, provider: str, options: dict[str, Any], allowed: frozenset[str]
) -> str | None:
    """The one line for `options` the provider does not read (None when there are none):
    a misspelt option is refused, not silently dropped while the call is paid for."""
    unknown = sorted(set(options) - allowed)
    if not unknown:
        return None
    return (
        f"{field}: unknown option(s) for {provider}: {', '.join(unknown)}; "
        f"allowed: {', '.join(sorted(allowed))}"
    )


class ProviderError(Exception):
    """Base of every provider failure. `provider` names who failed, for the message."""

    kind: str = "provider_error"
    #: the provider answered, and so charged, before this failed on our side (e.g. the
    #: result URL of a generated image could not be downloaded): the ledger bills the
    #: call instead of refunding it
    charged: bool = False
    #: a charged result still waits at this URL (its download failed for a passing
    #: reason): the pipeline journals it, and the next render downloads it from there
    #: (`RefetchesResults`) before it pays for the result again
    result_url: str | None = None
    #: the provider made the paid job, but the answer does not say which (a create
    #: answered without its id): it bills, so the ledger keeps the call committed (outcome
    #: unknown), not refunded as a call not accepted
    made: bool = False

    def __init__(self, message: str, *, provider: str = "", scene_id: str | None = None) -> None:
        from mindmovie.config import hide_keys

        # the person's setting quoted back (a key pasted as `keyframes.model`), or a
        # provider's answer: said by doctor and status, kept in run.db; never a key
        message = hide_keys(message)
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.scene_id = scene_id

    def __str__(self) -> str:
        where = " ".join(
            x for x in (self.provider, f"scene {self.scene_id}" if self.scene_id else "") if x
        )
        return f"{where}: {self.message}" if where else self.message


class Transient(ProviderError):
    """Worth retrying as is (5xx, dropped connection, timeout).

    `retry_after`: the seconds the provider asked to wait first (a 429's or 503's
    Retry-After), which mindmovie.retry waits (capped) instead of its own backoff."""

    kind = "transient"
    retry_after: float | None = None

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ConnectionLost(Transient):
    """The request may have reached the provider (timeout, dropped connection): its
    outcome, and so its charge, is unknown. The ledger keeps such a call `committed`.

    `sent` is False when the connection was never made (refused, no route, DNS, TLS
    handshake: `never_connected`): nothing reached the provider, so nothing is owed.
    `answered`: the service itself gave a final answer (a 500, or Ark's 503): nothing of
    the request is still in flight, so a job it made is listed at once (a lost answer's
    job is waited for `ANSWERED_GRACE`, not the whole grace a gateway's 504 or a timeout
    needs). `status`: that answer's HTTP status, to say which it was; `retry_after`: its
    Retry-After, as `Transient` carries it."""

    kind = "connection"
    #: the status of the service's own answer (`answered`); None when none came. Declared
    #: on the class too, so the docs' `ConnectionLost.status` names an attribute it has
    status: int | None = None

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        scene_id: str | None = None,
        sent: bool = True,
        answered: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, scene_id=scene_id, retry_after=retry_after)
        self.sent = sent
        self.answered = answered
        self.status = status


def made_maybe(status: int) -> bool:
    """Whether an HTTP error answer to a create may come from a server that made the
    paid job before failing: every 5xx but 503. 504 (a gateway gave up waiting for the
    backend) and 502 (it got a broken answer from the backend) say the backend had the
    request; a 500 is the server's own unexpected error, part way through. None says
    the job was not made, and no create carries a key the provider could tell a second
    send by (provider-wire.md: Ark's X-Client-Request-Id is new on every attempt), so
    sending again can pay twice. A 503 (unavailable: AIP-194's one status a call that
    is not idempotent may be sent again after) turned the request away: Google's rule.
    Ark makes no such promise (its SDK retries every 5xx alike), and a Seedance create
    answered 503 may have made its job: `byteplus.map_ark_error` looks for it."""
    return status >= 500 and status != 503


#: the most of an error answer's text a message quotes (a proxy's page runs long)
ANSWER_TEXT_CHARS = 300
#: what a body that is not in its declared charset, nor UTF-8, is read as: Windows-1252,
#: which browsers read a page labelled ISO-8859-1 as (WHATWG), a superset of its letters
FALLBACK_CHARSET = "cp1252"
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.I | re.S)


def answer_charset(content: bytes, declared: str | None) -> str | None:
    """The charset an error answer's body must be read in when the one it declares (or,
    declaring none, UTF-8) cannot read it, else None. A proxy's error page in ISO-8859-1
    ("Requête refusée") was "Requ\ufffdte refus\ufffde" through Ark's SDK, and a
    UnicodeDecodeError inside google-genai's, told as a refused request whatever the
    status was."""
    try:
        content.decode(declared or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return FALLBACK_CHARSET
    return None


def answer_text(text: str, content_type: str = "") -> str:
    """An error answer's text as one readable line: an HTML page (a proxy's) as its
    words without tags, whitespace collapsed, at most ANSWER_TEXT_CHARS characters."""
    from mindmovie.config import hide_keys

    if "html" in content_type.lower() or text.lstrip()[:1] == "<":
        text = html.unescape(_TAG.sub(" ", text))
    # keys hidden before the cut: one cut there was no longer found (the secrets audit)
    text = hide_keys(" ".join(text.split()))
    if len(text) > ANSWER_TEXT_CHARS:
        text = text[: ANSWER_TEXT_CHARS - 1].rstrip() + "\u2026"
    return text


async def close_loop_client(clients: dict[int, Any]) -> None:
    """Close the running loop's SDK client of ``clients`` (one per event loop, by the
    loop's id: an httpx pool must not cross loops) and forget them all. One of a loop
    that is gone is only dropped: its sockets cannot be closed from another loop."""
    client = clients.pop(id(asyncio.get_running_loop()), None)
    clients.clear()
    if client is not None:
        await client.close()


#: the variables httpx takes its proxies from (in any case: urllib's `getproxies`)
PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy")


#: the TLS contexts the SDKs make for their clients, by the library's default they copy:
#: "httpx" (httpx's: certifi's bundle or SSL_CERT_FILE/SSL_CERT_DIR; the Ark SDK's),
#: "httpx2" (httpx2's: the system's certificates or those variables; the anthropic SDK's
#: and google-genai's), "genai-env" (google-genai's httpx2 context when either variable
#: is set), "certifi" (google-genai's websocket and aiohttp context)
TlsKind = Literal["httpx", "httpx2", "genai-env", "certifi"]


def shared_tls(kind: TlsKind) -> ssl.SSLContext:
    """The TLS context a provider's SDK would make for its client, made once per process
    and value of SSL_CERT_FILE / SSL_CERT_DIR. Each client made its own, loading the CA
    certificates each time: 16-20 ms of CPU a context (measured), up to two a client,
    2-4 clients a render, ~1,100 contexts in the test suite. One context serves every client and
    event loop: each connection wraps its own socket from it, and every client here
    speaks HTTP/1.1 only, so the ALPN list httpcore sets on it is always the same."""
    import os

    return _shared_tls(kind, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.lru_cache(maxsize=8)
def _shared_tls(kind: TlsKind, cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """`shared_tls` for the variables' values (the libraries read them themselves)."""
    import ssl

    if kind == "httpx":
        import httpx

        return httpx.create_ssl_context()
    if kind == "httpx2":
        import httpx2

        return httpx2.create_ssl_context()
    if kind == "genai-env":
        return ssl.create_default_context(cafile=cert_file, capath=cert_dir)
    import certifi

    return ssl.create_default_context(
        cafile=certifi.where() if cert_file is None else cert_file, capath=cert_dir
    )


def http_setup_problem() -> str | None:
    """Why the providers' HTTP clients cannot be made in this environment, None when
    they can. Each SDK's client (httpx; the anthropic SDK's and google-genai's httpx2)
    reads SSL_CERT_FILE and the proxy variables as it is made, and Claude's and Ark's
    are made at their first call: a CA file not there or not PEM, a SOCKS proxy without
    socksio, a proxy of a scheme httpx has no transport for, left the plan call
    committed (counted as spent, "may have been billed") with nothing sent, or ended
    in a traceback. A client of each library is made here and closed: nothing is sent.
    The render refuses to start on it, and doctor fails its row. Answered once per
    value of the variables httpx reads (making a client loads the CA bundle: ~40 ms)."""
    import os
    import urllib.request

    read = tuple(
        sorted(
            (k, v)
            for k, v in os.environ.items()
            if k in ("SSL_CERT_FILE", "SSL_CERT_DIR") or k.lower() in (*PROXY_VARIABLES, "no_proxy")
        )
    )
    # and the proxies the libraries take as httpx does (`getproxies`): on macOS and
    # Windows also the system's settings, which no variable shows
    system = tuple(sorted(("proxy " + k, v) for k, v in urllib.request.getproxies().items()))
    return _http_setup_problem(read + system)


@functools.lru_cache(maxsize=4)
def _http_setup_problem(read: tuple[tuple[str, str], ...]) -> str | None:
    """`http_setup_problem` for the variables and proxies `read` (the environment's and
    the system's now). With none set, every library makes its client from certifi's
    bundle and without a proxy, which nothing here can break: no client is made (two CA
    loads, ~80 ms of CPU at every paid render's start)."""
    if not read:
        return None
    import importlib

    for name in ("httpx", "httpx2"):
        try:
            lib = importlib.import_module(name)
        except ImportError:  # httpx2: only with the SDKs that use it
            continue
        try:
            lib.Client(trust_env=True).close()
        except Exception as e:  # whatever the library raises, no client can be made
            return _http_setup_why(e)
    return None


def _http_setup_why(e: Exception) -> str:
    """`http_setup_problem`'s line: the variable at fault and its value (a proxy's user
    name and password hidden), what is wrong, the fix."""
    import os

    from mindmovie.config import hide_keys

    cert = os.environ.get("SSL_CERT_FILE", "")
    if cert and isinstance(e, OSError):  # (ssl.SSLError is one: a file that is no PEM)
        why = e.strerror if isinstance(e.strerror, str) and e.strerror else str(e)
        return (
            f"SSL_CERT_FILE={cert}: the providers' HTTPS clients cannot load it as the "
            f"certificates to trust ({why}); point it at a PEM file of CA certificates, "
            "or unset it (certifi's are used then)"
        )
    proxies = ", ".join(
        f"{k}={v}" for k, v in os.environ.items() if k.lower() in PROXY_VARIABLES and v
    )
    if isinstance(e, ImportError) and "socksio" in str(e):
        why = (
            "a SOCKS proxy needs the socksio package, which is not installed: "
            "`pip install socksio`, or unset the variable"
        )
    else:
        why = f"the providers' HTTP clients cannot be made ({type(e).__name__}: {e})"
    return hide_keys(f"{proxies}: {why}" if proxies else why)


def raised_in(e: BaseException, functions: frozenset[str]) -> bool:
    """Was `e` raised in (or under) a function named one of `functions`? For errors
    whose class alone does not say where they came from (an EAGAIN, a decode error)."""
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name in functions:
            return True
        tb = tb.tb_next
    return False


def never_connected(e: BaseException) -> bool:
    """Whether an SDK's connection error (or one it was raised from) is httpx failing to
    *open* the connection, so no byte of the request was sent. A timeout while connecting
    counts; one while reading (the request may be in) does not."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        cls = type(cur)
        # by name: SDKs vendor their own copies (the anthropic SDK raises `httpx2`'s)
        # (a proxy that refused to open the tunnel, ProxyError, passed nothing on)
        if cls.__name__ in (
            "ConnectError",
            "ConnectTimeout",
            "ProxyError",
        ) and cls.__module__.startswith(("httpx", "httpcore")):
            return True
        # aiohttp's (google-genai's transport when installed), raised opening the connection
        if any(
            c.__module__.startswith("aiohttp")
            and c.__name__ in ("ClientConnectorError", "ConnectionTimeoutError")
            for c in cls.__mro__
        ):
            return True
        if isinstance(cur, ConnectionRefusedError):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def transport_words(e: BaseException) -> str:
    """What the transport said under an SDK's connection error, its innermost cause with
    words ("ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 443)"):
    the SDK's class alone ("connection failed (ArkAPIConnectionError)") named neither
    the cause nor what to do."""
    said = f"{type(e).__name__}: {e}"
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        # not the async library's own cancellation, under a timeout the SDK's class
        # names ("CancelledError: Cancelled via cancel scope 7fedd0b43420; reason:
        # deadline exceeded"): its words say nothing to the person
        if str(cur).strip() and not isinstance(cur, asyncio.CancelledError):
            said = f"{type(cur).__name__}: {' '.join(str(cur).split())}"
        cur = cur.__cause__ or cur.__context__
    return said


def connection_advice(
    provider: str, *, sent: bool, timed_out: bool, within: str | None = None
) -> str:
    """What to do about a failed connection to `provider`, one clause for every
    provider's line alike: nothing sent (`never_connected`: refused, no route, DNS, a
    connect timeout) is this machine's network or the base_url; no answer in time is
    the timeout setting (`within`: the setting and its seconds, when known); a
    connection broken after sending passes."""
    if not sent:
        return (
            "nothing was sent: check the network (a proxy, a firewall) and "
            f"providers.{provider}.base_url"
        )
    if timed_out:
        return (
            f"no answer within {within or f'providers.{provider}.timeout'}; render again, "
            "or set a longer timeout"
        )
    return "the connection broke after the request was sent; render again"


def connection_failed(
    e: BaseException, provider: str, *, timed_out: bool, within: str | None = None
) -> tuple[str, bool]:
    """The words of an SDK's connection error `e` ("connection failed: <class>
    (<the transport's words>); <what to do>") and whether the request was sent."""
    sent = not never_connected(e)
    advice = connection_advice(provider, sent=sent, timed_out=timed_out, within=within)
    return f"connection failed: {type(e).__name__} ({transport_words(e)}); {advice}", sent


#: what `busy_advice` says to do; left out by `retry._told_when` when the answer asks
#: to wait longer than a render waits, which says when instead ("render again in a few
#: minutes; it asks to wait 2 h 0 min ... render again after 22:43" said both)
BUSY_AGAIN = "render again in a few minutes"


def busy_advice(provider: str, status: int) -> str:
    """The clause a 5xx (or 408/409) line ends with, every provider's alike (Claude's
    first, 58be2ee): the service failed, not the request, so the same request may pass."""
    busy = "is overloaded" if status == 529 else "could not answer"
    return f"{provider} {busy}: {BUSY_AGAIN}"


def rate_limit_advice(provider: str) -> str:
    """The clause a 429 line ends with (a wait past a render's is `retry._told_when`'s)."""
    return (
        f"rate limited: render again once {provider}'s rate limit allows (a request turned "
        "away is not billed)"
    )


class RateLimited(Transient):
    """429: retry after `retry_after` seconds when the provider says so."""

    kind = "rate_limited"


class ContentRejected(ProviderError):
    """The provider's content filter refused the prompt/image/output. Not retried as is."""

    kind = "content_rejected"

    def __init__(
        self,
        message: str,
        *,
        billed: bool = False,
        usage: dict[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.billed = billed
        #: the tokens the refusing answer says were counted (Gemini's: a blocked image
        #: bills its prompt's input tokens), which the ledger bills (`costs.refused_usd`)
        self.usage = usage


class InvalidRequest(ProviderError):
    """A parameter the provider refuses; the message says what to change.

    `setting`: the person's setting the refusal is about ("video.model",
    "keyframes.options.guidance_scale"), when it came from one. The message then starts
    with it, so the CLI can put where it was written in front (`cli._located`), and the
    pipeline sends no other call of that model in the render: every one would be refused
    the same way (`Pipeline._reserve`)."""

    kind = "invalid_request"
    setting: str | None = None
    #: the provider answered the request with this refusal (an HTTP 400), not a check
    #: made here before sending (a file not found): the same request is refused again,
    #: so the render says what to change (`pipeline.refused_request_fix`)
    answered: bool = False
    #: the request's parameter the answer names ("duration", "prompt"), when it names
    #: one and no `setting` is it: which field of plan.yaml or setting to change
    param: str | None = None

    def __init__(
        self,
        message: str,
        *,
        setting: str | None = None,
        answered: bool = False,
        param: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.setting = setting
        self.answered = answered
        self.param = param


class AuthError(ProviderError):
    """Missing or wrong key/permission; the message names the variable."""

    kind = "auth"


class JobFailed(ProviderError):
    """A remote job ended failed/cancelled/expired, or its download never validated."""

    kind = "job_failed"


#: the job id the offline providers give their work (`local:<scene>`): no job anywhere,
#: the clip is rendered here when it is "fetched"
LOCAL_JOB_PREFIX = "local:"


def is_local_job(remote_id: str | None) -> bool:
    """Is `remote_id` an offline provider's (free, made here), not a paid job? `status`
    said "poll job local:02-wealth-1 and download it (no new job)" of a clip made here."""
    return bool(remote_id) and str(remote_id).startswith(LOCAL_JOB_PREFIX)


class EncoderEnded(JobFailed):
    """An offline clip's ffmpeg ended before the clip was made: its exit status
    (`returncode`, negative: the signal that killed it). Told apart because a terminal's
    Ctrl-C reaches that ffmpeg too (one process group): it exits 255 or dies of the
    signal while the render stops, and that is the stop, not a failed clip."""

    def __init__(self, message: str, *, returncode: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.returncode = returncode

    @property
    def by_a_stop(self) -> bool:
        """Did it end as ffmpeg ends of a stop signal (SIGINT, SIGTERM, SIGHUP): exit
        255 (its own handler), or killed by one before it set that handler?"""
        import signal

        stops = {getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)}
        return self.returncode == 255 or -self.returncode in stops


class JobNotFound(JobFailed):
    """A poll's 404: the provider no longer knows the job (deleted, or past the time it
    keeps a task's record). What it did before is unknown: a job never seen to finish
    may have been billed (`Pipeline._settle_stale_jobs` books it at its hold)."""


class AnswerLost(JobFailed):
    """A job request whose answer was lost (or answered 5xx after it was sent), at a
    provider that lists no jobs (Veo): the job it may have made, which bills, cannot be
    found. The scene fails rather than send it again in the same render (paid twice
    without a word); the next render's spend question names the risk first."""

    kind = "answer_lost"


class ProviderChanged(ProviderError):
    """A poll's 404 on a journaled job that was made with other provider settings than
    now (another base URL or region, another key, another Google mode, project or
    location: `job_origin`). Such a 404 says nothing of the job: the provider asked is
    not the one that has it, and the job may be running or done, and bill. The job is
    kept (its step and ledger row), nothing is bought for it, and the scene fails saying
    what changed and to put it back."""

    kind = "provider_changed"


class ResultGone(JobFailed):
    """A paid result that can no longer be downloaded, for good: its URL answered 404 or
    410, or 403 once past its validity (its own expiry parameter, or the provider's
    keeping time after the job finished: `url_expired`). The job (or image) was billed;
    polling it again gives nothing new, so only a new one makes the scene's clip or
    keyframe, and that is bought only with the person's consent (the next render's
    estimate counts it). A 403 within the URL's validity (a clock difference, a proxy),
    and a clip's 404/410 within it (a storage delay: `SeedanceVideo._gone`,
    `VeoVideo._bytes`), are a plain `JobFailed`: the next render tries it again."""

    kind = "result_gone"


#: PBKDF2 rounds of a key's fingerprint (`key_fingerprint`): slow enough that a short
#: key cannot be found by trying, fast enough (about 0.05 s) to make once a render
KEY_FINGERPRINT_ROUNDS = 100_000


def origin_url(url: str | None, default: str = "") -> str:
    """A base URL as a job's origin compares it (`job_origin`): `default` (the provider's
    own endpoint) when not set, the scheme and host in lower case, the scheme's default
    port and a trailing slash left out, so that the same endpoint written another way is
    the same place; "" for none. (A difference keeps a job the provider forgot for ever,
    asking to put back a setting that never changed.) Credentials written into it (a
    proxy's `user:token@`, `?key=`) are hidden (`hide_url_secrets`): it is kept in run.db
    and said in messages; another token at the same address is the same place."""
    from mindmovie.config import hide_url_secrets

    return hide_url_secrets(_origin_url(url, default))


def _origin_url(url: str | None, default: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    given = (url or default).strip()
    if not given:
        return ""
    try:
        parts = urlsplit(given)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return given.rstrip("/")
    scheme = parts.scheme.lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address, as written
    if port is not None and (scheme, port) not in (("https", 443), ("http", 80)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), parts.query, ""))


def key_fingerprint(key: str | None, salt: bytes) -> str:
    """A one-way fingerprint of an API key, to tell later whether the key changed without
    ever keeping the key: PBKDF2-HMAC-SHA256 with a salt of the run's own (so the same
    key gives different fingerprints in different runs), cut to 128 bits. "" for no
    key. Never printed. Remembered for the process by the key's SHA-256 and the salt:
    the rounds take ~23 ms of CPU (measured), once a render, and a process that renders
    many times (the test suite's in-process renders: ~400 times, ~9 s of its CPU) made
    them each time."""
    import hashlib

    if not key:
        return ""
    memo = (hashlib.sha256(key.encode()).digest(), salt)
    if (known := _FINGERPRINTS.get(memo)) is not None:
        return known
    digest = hashlib.pbkdf2_hmac("sha256", key.encode(), salt, KEY_FINGERPRINT_ROUNDS)
    if len(_FINGERPRINTS) >= 64:
        _FINGERPRINTS.clear()
    _FINGERPRINTS[memo] = found = digest.hex()[:32]
    return found


#: `key_fingerprint`'s answers this process, by (the key's SHA-256, the salt)
_FINGERPRINTS: dict[tuple[bytes, bytes], str] = {}


def age_text(seconds: float) -> str:
    """A result's age for a message: "40 s", "12 min", "3 h"."""
    if seconds < 120:
        return f"{max(0.0, seconds):.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def url_expiry(url: str) -> float | None:
    """The expiry a signed URL carries itself (epoch seconds): Volcengine TOS and AWS SigV4
    sign a start (`X-Tos-Date`/`X-Amz-Date`, 20250101T000000Z) and a lifetime in seconds
    (`X-Tos-Expires`/`X-Amz-Expires`); SigV2-style URLs an `Expires` epoch time. None
    when the URL carries none of them (not signed), or they do not parse."""
    from calendar import timegm
    from urllib.parse import parse_qsl, urlsplit

    try:
        query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    except ValueError:
        return None
    for scheme in ("x-tos", "x-amz"):
        date, life = query.get(f"{scheme}-date"), query.get(f"{scheme}-expires")
        if date and life:
            try:
                return timegm(time.strptime(date, "%Y%m%dT%H%M%SZ")) + float(life)
            except (ValueError, OverflowError):
                return None
    if (epoch := query.get("expires")) is not None:
        try:
            return float(epoch)
        except ValueError:
            return None
    return None


def url_expired(url: str, now: float | None = None) -> bool:
    """Has a signed URL passed the expiry it carries itself (`url_expiry`)? False when
    it carries none (unknown), or it does not parse."""
    expiry = url_expiry(url)
    return expiry is not None and (time.time() if now is None else now) > expiry


class DeadlineExceeded(JobFailed):
    """A job did not finish within its deadline."""

    kind = "deadline"


# ---------------------------------------------------------------- requests / results
@dataclass(frozen=True)
class KeyframeRequest:
    """Text-to-image for one scene, with reference photos when the model takes them."""

    scene_id: str
    prompt: str
    width: int
    height: int
    seed: int
    category: str = ""
    style: str | None = None
    aspect: str = "16:9"
    reference_photos: tuple[Path, ...] = ()
    #: when set, the keyframe is this photo fitted to the frame (local) or restyled (edit models)
    source_photo: Path | None = None


@dataclass
class ImageResult:
    """Image bytes plus what the provider reported for billing."""

    data: bytes
    mime: str = "image/png"
    usage: dict[str, Any] = field(default_factory=dict)
    remote_id: str | None = None


@dataclass(frozen=True)
class VideoRequest:
    """Image-to-video for one scene: animate `keyframe` for `seconds`."""

    scene_id: str
    prompt: str
    keyframe: Path
    seconds: float
    width: int
    height: int
    fps: int
    seed: int
    aspect: str = "16:9"
    resolution: str = "720p"
    last_frame: Path | None = None
    audio: bool = False


JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired", "rejected"]


@dataclass
class JobState:
    """What a poll saw. `video_url`/`video_bytes` are set once succeeded."""

    remote_id: str
    status: JobStatus
    video_url: str | None = None
    video_bytes: bytes | None = None
    error: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    #: when the job finished (epoch s), when the provider says: its result URL's
    #: validity counts from then
    finished_at: float | None = None
    #: when the job was made (epoch s), when the provider says: no later than its
    #: result, so the day a result is kept counts from no earlier (`Store.refetchable_clip`)
    created_at: float | None = None
    #: a status the provider gave that the client does not know (Ark's own word), the
    #: job taken for running: never refunded, waited for only so long
    #: (`pipeline.UNKNOWN_STATUS_PATIENCE`)
    unknown_status: str | None = None

    def __post_init__(self) -> None:
        # the provider's own words for a failed job: kept in run.db's ledger (the
        # refund's reason) and said by `status --json`, where a key they quoted was
        # stored whole (a ProviderError's message, printed, was hidden)
        if self.error:
            from mindmovie.config import hide_keys

            self.error = hide_keys(self.error)

    @property
    def done(self) -> bool:
        return self.status not in ("queued", "running")


@dataclass(frozen=True)
class PlanOptions:
    """What a planner needs from the settings (kept small so planners stay testable)."""

    scene_seconds: float = 5.0
    scenes_per_goal: int = 1
    #: allowed clip durations of the chosen video model (None: any); planners snap to these
    allowed_seconds: tuple[float, ...] | None = None


# ---------------------------------------------------------------- protocols
@runtime_checkable
class Planner(Protocol):
    name: str
    model: str

    async def plan(
        self,
        goals: Goals,
        options: PlanOptions,
        *,
        before_repair: Callable[[], Awaitable[None]] | None = None,
    ) -> Plan:
        """The plan. A planner that makes a second paid call (a repair) awaits
        `before_repair` first, so the budget gate sees every call, not just the first.
        Called again after a `Transient` failure of the repair, it may send only the
        repair (the first answer kept): the room made for its first call is the repair's."""
        ...


@runtime_checkable
class KeyframeModel(Protocol):
    name: str
    model: str

    async def generate(self, request: KeyframeRequest) -> ImageResult: ...


#: the local planner's style when goals.yaml names none (`local.build_plan`), "16:9"
#: whatever the movie's aspect: it is in the prompts of every plan made so far, and a
#: plan's prompts key its paid keyframes (changed, they would be bought again). Sent to
#: a paid model as the movie's own aspect (`prompt_for_aspect`)
DEFAULT_STYLE_LOOK = "cinematic photorealism, natural light, shallow depth of field"
DEFAULT_STYLE = f"{DEFAULT_STYLE_LOOK}, 16:9"


def prompt_for_aspect(prompt: str, aspect: str) -> str:
    """`prompt` as sent to a paid image model for a movie of `aspect`: the default
    style's "16:9" (`DEFAULT_STYLE`) said as `aspect`. A 9:16 movie's images were asked
    for as "16:9" (and cropped to the frame). Done when sent, not in plan.yaml: its
    prompts stay the keys they were."""
    if aspect == "16:9":
        return prompt
    return prompt.replace(f"Style: {DEFAULT_STYLE}.", f"Style: {DEFAULT_STYLE_LOOK}, {aspect}.")


#: who is told that the paid call running in this task was answered with a result URL
#: (`result_answered`); set by the pipeline around each paid keyframe call
_ANSWERED: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "mindmovie_result_answered", default=None
)


def result_answered(url: str) -> None:
    """The paid call running in this task was answered (and so billed) with its result
    waiting at `url`, which is downloaded next. Said before the download so that the
    pipeline journals the URL: a render killed (or quit at once) during a slow download
    lost the image it had paid for, and the next render bought it again."""
    hook = _ANSWERED.get()
    if hook is not None:
        hook(url)


@contextlib.contextmanager
def on_result_answered(hook: Callable[[str], None] | None) -> Iterator[None]:
    """Call `hook(url)` when a paid call awaited inside this block (in this task) says
    `result_answered`."""
    token = _ANSWERED.set(hook)
    try:
        yield
    finally:
        _ANSWERED.reset(token)


@runtime_checkable
class RefetchesResults(Protocol):
    """A keyframe model whose paid image can be downloaded again from its result URL
    (Seedream with response_format url)."""

    #: how long a result URL stays valid after the image was made
    result_url_seconds: float

    async def refetch(self, url: str, request: KeyframeRequest) -> bytes:
        """The image at `url`, downloaded with retries. `ResultGone` when it is gone for
        good (404/410, a 403 past the URL's own expiry, or bytes that are still no
        image: the image must be bought again); `JobFailed` for a 403 within it;
        `Transient` when it still fails for a passing reason."""
        ...


@runtime_checkable
class VideoModel(Protocol):
    name: str
    model: str

    async def submit(self, request: VideoRequest) -> str:
        """Create the remote job and return its id. Nothing else: the caller journals it."""
        ...

    async def poll(self, remote_id: str) -> JobState: ...

    async def fetch(self, state: JobState, request: VideoRequest, dest: Path) -> Path:
        """Write the finished clip to `dest` (atomically) and return it; re-runnable."""
        ...
