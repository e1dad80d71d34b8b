"""Settings: defaults < MINDMOVIE_* environment < config.yaml < CLI flags.

The order follows the issue that specified it (env lowest, then the config file the
person passes, then flags); docs/architecture.md notes where this differs from DESIGN.
Settings use the MINDMOVIE_ prefix so bare variables like FPS or MODEL in a person's
shell never leak in; provider keys keep their providers' own names (see `keys`).
"""

from __future__ import annotations

import codecs
import functools
import io
import os
import re
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

Aspect = Literal["16:9", "9:16", "1:1"]
Resolution = Literal["480p", "720p", "1080p"]
PresetName = Literal["local", "byteplus", "google"]

#: preset -> (planner, keyframes, video) providers
PRESETS: dict[str, tuple[str, str, str]] = {
    "local": ("local", "local", "local"),
    "byteplus": ("anthropic", "byteplus", "byteplus"),
    "google": ("anthropic", "google", "google"),
}


def _refuse_bool_number(model: type[BaseModel], value: Any, info: ValidationInfo) -> Any:
    """true or false where a number goes is refused: pydantic reads it as 1 or 0, so
    `budget_usd: off` (YAML's false) was a $0 cap and `budget_usd: yes` a $1 one,
    `scene_seconds: yes` 1 s scenes, `timeout: true` a 1 s timeout, without a word."""
    field = model.model_fields.get(info.field_name or "")
    kinds = (get_args(field.annotation) or (field.annotation,)) if field is not None else ()
    if isinstance(value, bool) and any(t in (int, float) for t in kinds):
        raise PydanticCustomError("bool_as_number", "a number, not true or false")
    return value


class _Strict(BaseModel):
    # .inf / .nan are no setting's value: an infinite poll interval sleeps for ever
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_number(cls, v: Any, info: ValidationInfo) -> Any:
        return _refuse_bool_number(cls, v, info)


#: explicit output.size limits (pixels per side): 4096 holds every resolution offered
MIN_SIDE, MAX_SIDE = 16, 4096


class OutputSettings(_Strict):
    """The frame of the finished movie."""

    aspect: Aspect = "16:9"
    resolution: Resolution = "720p"
    fps: int = Field(24, ge=8, le=60)
    #: explicit frame size "WxH" (even numbers) for quick previews and tests; overrides
    #: aspect+resolution for the frame, while providers still get aspect/resolution
    size: str | None = Field(None, pattern=r"^[1-9][0-9]*[02468]x[1-9][0-9]*[02468]$")

    @field_validator("size")
    @classmethod
    def _sane_size(cls, v: str | None) -> str | None:
        # a typo ("19200x1080") would pass the pattern and run out of memory at the
        # compose, after the keyframes and clips were made (and paid for)
        if v is not None and not all(MIN_SIDE <= int(n) <= MAX_SIDE for n in v.split("x")):
            raise ValueError(f"each side must be {MIN_SIDE} to {MAX_SIDE} pixels, got {v}")
        return v

    def frame(self) -> tuple[int, int]:
        """The finished movie's frame size in pixels."""
        if self.size:
            w, h = self.size.split("x")
            return int(w), int(h)
        from mindmovie.compose.timeline import output_size

        return output_size(self.aspect, self.resolution)


class PlanSettings(_Strict):
    """What the planner is asked for."""

    scene_seconds: float = Field(5.0, gt=0, le=30)
    scenes_per_goal: int = Field(1, ge=1, le=6)


class StageSettings(_Strict):
    """One stage's provider and model; None means "from the preset / catalog default"."""

    provider: str | None = None
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("options")
    @classmethod
    def _no_key(cls, v: dict[str, Any]) -> dict[str, Any]:
        """A key written as an option (`api_key: ...`) is refused with where keys go: the
        local provider, which ignores options, took it without a word, and run.db kept it
        with the run's settings (no provider has an option of such a name)."""
        for name in v:
            if hint := _key_hint(["options", str(name)]):
                raise ValueError(f"{name}{hint}")
        return v


class PlannerSettings(StageSettings):
    #: the providers that can plan (providers.registry.FACTORIES["planner"])
    provider: Literal["local", "anthropic"] | None = None


#: the seeds the image models take: Seedream's [-1, 2**31 - 1] (-1: a random one), inside
#: Gemini's int32. Unbounded, a seed past it was sent and refused by the API at the first
#: paid call, after the plan
KEYFRAME_SEEDS = (-1, 2**31 - 1)
#: the seeds the video models take: Seedance's [-1, 2**32 - 1]; Veo (Vertex) takes a
#: uint32 (google.py sends the seed modulo 2**32, so -1 is 2**32 - 1 there)
VIDEO_SEEDS = (-1, 2**32 - 1)


class KeyframeSettings(StageSettings):
    provider: Literal["local", "byteplus", "google"] | None = None
    seed: int = Field(7, ge=KEYFRAME_SEEDS[0], le=KEYFRAME_SEEDS[1])


class VideoSettings(StageSettings):
    provider: Literal["local", "byteplus", "google"] | None = None
    seed: int = Field(11, ge=VIDEO_SEEDS[0], le=VIDEO_SEEDS[1])
    audio: bool = False
    chain_frames: bool = False


class ComposeSettings(_Strict):
    """The compositor: engine, quality and card/crossfade timings."""

    engine: Literal["ffmpeg", "moviepy"] = "ffmpeg"
    quality: Literal["draft", "standard", "high"] = "standard"
    crossfade: float = Field(1.0, ge=0.0, le=5.0)
    title_seconds: float = Field(3.0, gt=0, le=30)
    closing_seconds: float = Field(3.0, gt=0, le=30)
    workers: int = Field(0, ge=0, description="parallel segment encoders; 0 = CPU count")


class ProviderSettings(_Strict):
    """Connection settings per remote provider."""

    base_url: str | None = None
    max_concurrent: int = Field(2, ge=0, le=64, description="jobs at a time; 0 = CPU count")
    timeout: float = Field(60.0, gt=0, description="seconds per HTTP call")
    download_timeout: float | None = Field(
        None, gt=0, description="seconds a whole clip download may take; null = max(timeout, 120)"
    )
    job_deadline: float = Field(900.0, gt=0, description="seconds a remote job may take")
    poll_interval: float = Field(2.0, gt=0)
    poll_max_interval: float = Field(15.0, gt=0)
    # google only
    vertexai: bool = True
    project: str | None = None
    location: str | None = None

    @property
    def project_mode(self) -> bool:
        """google: Vertex project mode (Application Default Credentials, no API key):
        vertexai with a project or location; express or developer mode use a key."""
        return self.vertexai and bool(self.project or self.location)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        """An address the SDKs can call: `base_url: ark.example.com` (no scheme) or a typo
        was found only by the first call, after its retries, as "connection failed:
        APIConnectionError" with exit 1 and no word of the setting."""
        if v is None:
            return v
        try:
            parts = urlsplit(v)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            ok = ok and (parts.port is None or parts.port > 0)  # ValueError: not a number
        except ValueError:  # `http://[::1`, `https://host:port`
            ok = False
        # a blank (`"http://.../api/v3 "`, quoted with the space copied after it): the SDK
        # sent each call to another path (`/api/v3%20/...`), whose 404 read as an unknown
        # model after the plan was paid for; urlsplit drops a tab or line break unseen
        blank = any(c.isspace() or not c.isprintable() for c in v)
        if not ok or blank:
            inside = " with a space, tab or line break in it" if blank else ""
            raise ValueError(
                f"must be an http:// or https:// address (e.g. https://api.example.com/v1), "
                f"got {_shown_address(v)}{inside}; null means the provider's own endpoint"
            )
        return v

    @model_validator(mode="after")
    def _cap_not_below_first_poll(self) -> ProviderSettings:
        """Polls wait poll_interval, then longer up to poll_max_interval: a first wait
        longer than the cap (`poll_interval: 30` with the default cap of 15) was
        accepted, and the cap silently did not hold for it."""
        if self.poll_max_interval < self.poll_interval:
            raise ValueError(
                f"poll_max_interval ({self.poll_max_interval:g} s) is less than "
                f"poll_interval ({self.poll_interval:g} s): polls start at poll_interval "
                "and grow up to poll_max_interval; raise poll_max_interval or lower "
                "poll_interval"
            )
        return self

    @field_validator("max_concurrent")
    @classmethod
    def _cpu_count(cls, v: int) -> int:
        """0 means one per CPU (how the local providers, which are CPU-bound, default)."""
        if v:
            return v
        from mindmovie.cpus import usable_cpu_count

        return usable_cpu_count()


#: each provider's own defaults (the rest are ProviderSettings' field defaults)
_PROVIDER_DEFAULTS: dict[str, dict[str, Any]] = {
    "local": {"max_concurrent": 0},  # one per CPU: the local work is CPU-bound
    "anthropic": {},
    "byteplus": {"max_concurrent": 3},
    "google": {"max_concurrent": 2},
}


#: the connection settings each provider reads (ProviderSettings holds every one, for
#: google); one set for another provider (`providers.byteplus.project`, a google one, or
#: `providers.local.timeout`) was taken without a word and did nothing
PROVIDER_FIELDS: dict[str, tuple[str, ...]] = {
    "local": ("max_concurrent",),
    "anthropic": ("base_url", "max_concurrent", "timeout"),
    "byteplus": (
        "base_url",
        "max_concurrent",
        "timeout",
        "job_deadline",
        "download_timeout",
        "poll_interval",
        "poll_max_interval",
    ),
    "google": tuple(ProviderSettings.model_fields),
}


def _unread_provider_setting(layers: dict[str, Any]) -> tuple[list[str], str] | None:
    """The first provider setting given for a provider that does not read it, as its
    path and what to say: ``(["providers", "byteplus", "project"], "...")``."""
    providers = layers.get("providers")
    if not isinstance(providers, dict):
        return None
    for provider, block in providers.items():
        reads = PROVIDER_FIELDS.get(provider)
        if reads is None or not isinstance(block, dict):
            continue  # an unknown provider or a block that is not one: pydantic says so
        for name in block:
            if name in ProviderSettings.model_fields and name not in reads:
                others = [p for p, fields in PROVIDER_FIELDS.items() if name in fields]
                return (
                    ["providers", provider, name],
                    f"{provider} does not use this setting, so it would do nothing "
                    f"({provider} reads only {', '.join(reads)}; {name} is for "
                    f"{' and '.join(others)})",
                )
    return None


#: the providers whose SDK (anthropic, byteplus: httpx with a key header of their own)
#: appends each call's path to base_url as text, and lets httpx turn a `user:password@`
#: in it into an Authorization header: google-genai keeps a query and sends its key apart
_PATH_APPENDING_SDKS = {"anthropic": "Anthropic", "byteplus": "BytePlus Ark"}


def _base_url_its_sdk_breaks(layers: dict[str, Any]) -> tuple[list[str], str] | None:
    """A base_url with a query (`?key=...`) or a user name and password (a proxy's
    `https://user:token@proxy/api/v3`) for a provider whose SDK cannot call it: the
    query went into every call's path (`/api/v3?key=.../contents/...`: 404, said as an
    unknown model) and the credentials replaced the key (HTTP 401, said as a bad
    ARK_API_KEY), after the plan was paid for. Refused up front, saying where a proxy's
    credentials go instead; the address itself is not repeated (it holds them)."""
    providers = layers.get("providers")
    if not isinstance(providers, dict):
        return None
    for provider, sdk in _PATH_APPENDING_SDKS.items():
        block = providers.get(provider)
        url = block.get("base_url") if isinstance(block, dict) else None
        if not isinstance(url, str):
            continue
        try:
            parts = urlsplit(url)
            has_user = parts.username is not None or parts.password is not None
        except ValueError:
            continue  # not an address: its validator says so
        # (a bare "?" too: httpx keeps it in the path, and the calls went after it)
        if not (has_user or parts.query or "?" in url.split("#", 1)[0]):
            continue
        what = "a user name and password (user:...@)" if has_user else "a query (?...)"
        return (
            ["providers", provider, "base_url"],
            f"has {what}, which the {sdk} SDK cannot send: it adds each call's path "
            "after the address and sends its key in a header of its own. Give the address "
            "alone; a proxy and its user:password@ go in the HTTPS_PROXY variable, which "
            "the SDK reads (through httpx)",
        )
    return None


class ProvidersSettings(_Strict):
    local: ProviderSettings = Field(
        default_factory=lambda: ProviderSettings(**_PROVIDER_DEFAULTS["local"])
    )
    anthropic: ProviderSettings = Field(default_factory=ProviderSettings)
    byteplus: ProviderSettings = Field(
        default_factory=lambda: ProviderSettings(**_PROVIDER_DEFAULTS["byteplus"])
    )
    google: ProviderSettings = Field(
        default_factory=lambda: ProviderSettings(**_PROVIDER_DEFAULTS["google"])
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_provider_defaults(cls, data: Any) -> Any:
        """A block that sets one key (`byteplus: {base_url: ...}`) keeps that provider's
        other defaults (its max_concurrent), not the generic ones."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, defaults in _PROVIDER_DEFAULTS.items():
            given = out.get(name)
            if isinstance(given, dict):
                out[name] = {**defaults, **given}
        return out


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables a .env file sets, read by python-dotenv's rules (`export`, quotes,
    escapes in double quotes, multi-line quoted values, `# comments`, `${VAR}`).

    Why here and not pydantic-settings' .env source: the keys live in their providers'
    usual variables, which a person often keeps in `.env` (see .env.example), and the
    real environment still wins, also inside `${VAR}` (as `load_dotenv` does). A name with
    no value (`KEY` alone) sets nothing; a statement python-dotenv cannot read is skipped
    (as python-dotenv does: the same file may be read by other tools), and
    `dotenv_problems` says which (the CLI warns, once per command).
    """
    return _read_dotenv(path)[0]


def dotenv_problems(path: Path) -> list[str]:
    """One warning per statement of the .env file at `path` that python-dotenv cannot
    read (skipped), and per quoted value that ran on over lines of the form `NAME=...`
    (an unclosed quote closed further down: those lines set nothing of their own).
    Each names the file and line, and the variable when one can be seen; never any
    value: the line may hold a key. A file that is there but cannot be read is one."""
    return _read_dotenv(path)[1]


#: `NAME=` / `export NAME =` at the start of a statement: its variable, if one is seen
_DOTENV_NAME = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=")
#: a line inside a quoted value that reads like a variable of its own (`GOOGLE_API_KEY=`):
#: upper case, one `=`, so the base64 lines of a certificate (`MIIabc==`) are not taken
_SWALLOWED = re.compile(r"^[ \t]*(?:export[ \t]+)?[A-Z_][A-Z0-9_]*[ \t]*=(?!=)", re.M)
#: what a variable declared with no value looks like (`FOO` alone on its line)
_VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")
#: a whole quoted value at the start of the text
_CLOSED_QUOTE = {'"': re.compile(r'"(?:\\.|[^"\\])*"'), "'": re.compile(r"'[^']*'")}


def _read_dotenv(path: Path) -> tuple[dict[str, str], list[str]]:
    # a hand-written line reader until 2026-12: it cut `K="a\"b"` at the escaped quote
    # and read a multi-line double-quoted value as its first line, quote and all
    from dotenv.main import resolve_variables
    from dotenv.parser import parse_stream

    from mindmovie.yamlsrc import NotAFile, SourceTooLarge, read_source

    try:
        # a stray byte that is not UTF-8 (an accent in a comment, saved as Latin-1) spoils
        # that line at most: strictly decoded, it silently dropped every key in the file.
        # read_source: a named pipe called .env hung every command, waiting for a writer
        raw = read_source(path)
    except FileNotFoundError:
        return {}, []
    except (NotAFile, SourceTooLarge) as e:
        return {}, [f"{path}: {e.message()}; no variable is set from it"]
    except OSError as e:  # a file this user cannot read
        return {}, [f"{path}: cannot be read ({e.strerror or e}); no variable is set from it"]
    # Notepad's "Unicode" is UTF-16 with a byte order mark: read as UTF-8, every line
    # was "a line with no `=`" and each key "not set", with no word of the encoding
    utf16 = raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    text = raw.decode("utf-16" if utf16 else "utf-8-sig", errors="replace")  # Notepad: a BOM
    bindings = list(parse_stream(io.StringIO(text)))
    # a value with a byte that is not UTF-8 (saved as Latin-1: `DIR=películas`) was set
    # with U+FFFD in its place, a folder named "pel�culas" made, and no word said
    bad = set() if utf16 else _undecodable_lines(raw)
    spoiled = {
        id(b)
        for b in bindings
        if b.key is not None and not b.error and bad.intersection(range(*_span(b)))
    }
    statements = [(b.key, b.value) for b in bindings if b.key is not None and id(b) not in spoiled]
    values = resolve_variables(statements, override=False)
    problems = [
        p
        for b in bindings
        if (p := _not_utf8(path, b) if id(b) in spoiled else _dotenv_problem(path, b))
    ]
    return {name: value for name, value in values.items() if value is not None}, problems


def _undecodable_lines(raw: bytes) -> set[int]:
    """The numbers (from 1) of the lines of `raw` that are not UTF-8 text."""
    bad = set()
    for n, line in enumerate(raw.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(n)
    return bad


def _span(binding: Any) -> tuple[int, int]:
    """The lines of a python-dotenv statement, as range() takes them: (first, last + 1).
    python-dotenv counts from the blank lines before a statement; the person, from it."""
    raw: str = binding.original.string
    body = raw.lstrip()
    first = binding.original.line + raw[: len(raw) - len(body)].count("\n")
    return first, first + body.rstrip().count("\n") + 1


def _not_utf8(path: Path, binding: Any) -> str:
    """The warning for a statement with a byte that is not UTF-8 (never its value)."""
    return (
        f"{path}:{_span(binding)[0]}: {binding.key}: not UTF-8 text (a letter saved in "
        "another encoding, such as Latin-1); skipped, so nothing is set from it: save "
        "the file as UTF-8"
    )


def _dotenv_problem(path: Path, binding: Any) -> str | None:
    """The warning for one python-dotenv statement (None when it was read as meant)."""
    raw: str = binding.original.string
    body = raw.lstrip()
    if not body or body.startswith("#"):
        return None
    first, end = _span(binding)
    last = end - 1
    if binding.error:
        found = _DOTENV_NAME.match(body)
        name = f" {found.group(1)}:" if found else ""
        value = body[found.end() :].lstrip(" \t") if found else ""
        if last > first:
            why = (
                f"lines {first}-{last} cannot be read: the quote opened on line {first} "
                f"closes on line {last} with more text after it"
            )
        elif value[:1] in _CLOSED_QUOTE and not _CLOSED_QUOTE[value[0]].match(value):
            why = "its quote is never closed"
        elif value[:1] in _CLOSED_QUOTE:
            why = "more text after its closing quote (only a # comment may follow it)"
        else:
            why = "not a NAME=value statement python-dotenv can read"
        return f"{path}:{first}:{name} {why}; skipped, so nothing is set from it"
    if binding.key is not None and binding.value is None:
        # `NAME` alone declares a variable with no value (python-dotenv's rule): quiet.
        # Anything else alone on a line reads the same way, and is most often a key
        # pasted without its name: named by its line only, as it may be one.
        if _VARIABLE.fullmatch(binding.key):
            return None
        return (
            f"{path}:{first}: a line with no `=` (not shown: it may be a key); it sets "
            "nothing (write it as NAME=value)"
        )
    if binding.key is None or last == first:
        return None
    inner = body.split("\n", 1)[1]
    if not _SWALLOWED.search(inner):
        return None  # a value over several lines on purpose (a certificate, a JSON)
    lines = f"line {first + 1}" if last == first + 1 else f"lines {first + 1}-{last}"
    return (
        f"{path}:{first}: {binding.key}: the quote opened on line {first} is closed only on "
        f"line {last}, so {lines}, written as variables, became part of its value and set "
        f"nothing; close the quote on line {first} if they are meant as variables"
    )


def process_env() -> dict[str, str]:
    """The environment, over `./.env` when there is one. A provider key's variable set
    blank in the environment (`export ANTHROPIC_API_KEY=` in a profile, docker compose's
    `${ANTHROPIC_API_KEY}` of one the host does not set) does not hide the key .env
    gives it: a blank is no key, and the key was "not set" while .env held it."""
    dotenv = read_dotenv(Path(".env"))
    env = {**dotenv, **os.environ}
    for names in KEY_VARIABLES.values():
        for name in names:
            if name in os.environ and not os.environ[name].strip() and name in dotenv:
                env[name] = dotenv[name]
    for name in _settings_the_environment_gives(dotenv):
        del env[name]
    return env


def _settings_the_environment_gives(dotenv: dict[str, str]) -> list[str]:
    """The MINDMOVIE_ variables of ./.env whose every setting the real environment gives
    too under another spelling of the name (`MINDMOVIE_output__fps` over .env's
    `MINDMOVIE_OUTPUT__FPS`): the real environment wins, as it does for the same
    spelling. Both were refused as a clash "which one would win depends on the order of
    the environment", which the README's order (the environment over .env) settles."""
    try:
        real: set[tuple[str, ...]] = {
            tuple(path)
            for name, parts in _env_settings(dict(os.environ))
            for path, _ in _env_leaves(_env_value(os.environ[name]), parts)
        }
        if not real:
            return []
        ours = {k: v for k, v in dotenv.items() if k not in os.environ}
        out = []
        for name, parts in _env_settings(ours):
            leaves = [tuple(path) for path, _ in _env_leaves(_env_value(ours[name]), parts)]
            if all(any(leaf[: len(r)] == r for r in real) for leaf in leaves):
                out.append(name)
        return out
    except ConfigError:
        return []  # (a variable naming no setting: said by load_settings)


def environment_warnings(settings: Settings | None = None) -> list[str]:
    """What the person is warned about the environment mindmovie runs in, once per
    command (the CLI says them; `doctor` shows them as rows): statements of ./.env that
    python-dotenv cannot read, and a provider key set under two of its names to
    different keys (`key_conflicts`). Warnings, not errors: the same .env may be read by
    other tools, a key it does not set is named when it is needed, and which of two key
    variables is used is fixed (the first of `KEY_VARIABLES`), as in the SDKs. And a
    variable spelt as a setting's with its MINDMOVIE_ not in capitals, which is not
    read (`lower_case_variables`).

    With `settings`, a key conflict is said only for a provider whose key they use: not
    for one no stage uses, nor for google in Vertex project mode (no key at all), where
    "X is used" was wrong. Without (settings that do not load), every one."""
    conflicts = key_conflicts(process_env())
    if settings is not None:
        used = settings.key_providers()
        conflicts = {p: text for p, text in conflicts.items() if p in used}
    return [
        *dotenv_problems(Path(".env")),
        *conflicts.values(),
        *lower_case_variables(process_env()),
    ]


def lower_case_variables(env: dict[str, str]) -> list[str]:
    """A warning for each variable named as a setting's but not with MINDMOVIE_ in
    capitals (`mindmovie_output__fps=30`), naming the spelling that is read. Only
    MINDMOVIE_ is read (the rest of the name in any case), as the config file's path
    and the provider keys are read only by their exact names; such a variable was
    ignored without a word, and the render made with the default. A warning, not an
    error: it is the person's own variable, and it may be meant for another tool."""
    return [
        f"{name} is not read: mindmovie reads only variables whose names start with "
        f"MINDMOVIE_ in capitals; set {'MINDMOVIE_' + name[len('MINDMOVIE_') :].upper()}"
        for name in env
        if name.upper().startswith("MINDMOVIE_") and not name.startswith("MINDMOVIE_")
    ]


class Keys(BaseModel):
    """Provider keys from their providers' usual variables; never printed or stored."""

    anthropic: SecretStr | None = None
    byteplus: SecretStr | None = None
    google: SecretStr | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Keys:
        e = process_env() if env is None else env

        def pick(*names: str) -> SecretStr | None:
            for n in names:
                v = e.get(n, "").strip()
                if v:
                    return SecretStr(v)
            return None

        return cls(
            anthropic=pick("ANTHROPIC_API_KEY"),
            byteplus=pick("ARK_API_KEY", "BYTEPLUS_API_KEY"),
            google=pick("GOOGLE_API_KEY", "GEMINI_API_KEY"),
        )


#: each provider's key variables, the one used first when several are set (google-genai
#: itself prefers GOOGLE_API_KEY to GEMINI_API_KEY, and warns when both are set)
KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "byteplus": ("ARK_API_KEY", "BYTEPLUS_API_KEY"),
    "google": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
}


def key_variable(provider: str, key: str, env: dict[str, str] | None = None) -> str | None:
    """The variable `provider`'s key `key` was read from (the first of its variables set,
    as `Keys.from_env` picks), None when the environment does not hold it (keys given
    otherwise). A flawed key in GEMINI_API_KEY was named "GOOGLE_API_KEY (or
    GEMINI_API_KEY)", sending the person to GOOGLE_API_KEY, which was not set."""
    e = process_env() if env is None else env
    held = [n for n in KEY_VARIABLES[provider] if e.get(n, "").strip()]
    return held[0] if held and e[held[0]].strip() == key else None


def key_conflicts(env: dict[str, str]) -> dict[str, str]:
    """provider -> a warning, for each provider whose key is set under two of its names
    to different keys: which variable is used (the first of `KEY_VARIABLES`, as
    `Keys.from_env` picks) and which is ignored; never the keys. The same key twice
    says nothing. A warning, as google-genai gives for GOOGLE_API_KEY beside
    GEMINI_API_KEY: both are often set for other tools, and the choice is fixed."""
    out: dict[str, str] = {}
    for provider, names in KEY_VARIABLES.items():
        given = [(n, v) for n in names if (v := env.get(n, "").strip())]
        if not given:
            continue
        used, key = given[0]
        ignored = [n for n, v in given[1:] if v != key]
        if ignored:
            out[provider] = (
                f"{used} and {' and '.join(ignored)} are both set, to different keys; "
                f"{used} is used for {provider} (unset {' and '.join(ignored)}, or give it "
                "the same key)"
            )
    return out


class Settings(BaseSettings):
    """Everything configurable. See config.example.yaml for every setting with its default."""

    model_config = SettingsConfigDict(
        env_prefix="MINDMOVIE_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
        allow_inf_nan=False,
    )

    preset: PresetName = "local"
    output_dir: Path = Path("outputs")
    budget_usd: float | None = Field(None, ge=0)
    output: OutputSettings = Field(default_factory=OutputSettings)
    plan: PlanSettings = Field(default_factory=PlanSettings)
    planner: PlannerSettings = Field(default_factory=PlannerSettings)
    keyframes: KeyframeSettings = Field(default_factory=KeyframeSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    compose: ComposeSettings = Field(default_factory=ComposeSettings)
    providers: ProvidersSettings = Field(default_factory=ProvidersSettings)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_number(cls, v: Any, info: ValidationInfo) -> Any:
        return _refuse_bool_number(cls, v, info)

    @field_validator("output_dir", mode="before")
    @classmethod
    def _expand(cls, v: Any) -> Any:
        if isinstance(v, (list, dict, bool)):  # str() of a list made a folder "['a']"
            raise ValueError(f"must be a folder path, got {type(v).__name__} {v!r}")
        if isinstance(v, str) and "\0" in v:  # every use of the Path raised ValueError
            raise ValueError(f"must be a folder path, got {v!r} (it holds a NUL character)")
        if isinstance(v, str) and not v.strip():
            # "" was the current folder and "   " a folder named with spaces, made beside
            # goals.yaml: neither is what anyone means
            raise ValueError(
                f"must be a folder path, got {'an empty' if not v else 'a blank'} name "
                f"{v!r} (write . for the current folder; leave the setting out for the "
                "default, outputs)"
            )
        if v is None:
            # `output_dir: ~` is YAML's null, not the home folder: pydantic said "Input is
            # not a valid path for <class 'pathlib.Path'>"
            raise ValueError(
                "must be a folder path, got null (in YAML a bare ~ or an empty value is "
                "null: quote a path under your home, '~/movies'; leave the setting out "
                "for the default, outputs)"
            )
        if isinstance(v, str) and (var := re.search(r"\$\{?([A-Za-z_]\w*)", v)):
            # `$HOME/movies` made a folder named `$HOME` in the current one (goals.yaml's
            # photo paths say the same when not found; a folder is made, never "not found")
            raise ValueError(
                f"got {v!r}: ${var.group(1)} is not replaced by its value here (only ~ "
                "is): write the path out"
            )
        from mindmovie.fsutil import blank_ends, home_unknown, unnamable, windows_path_hint

        if (ends := blank_ends(str(v))) and not os.path.lexists(os.path.expanduser(str(v))):
            # `output_dir: "movies "` made a folder whose name ends in a space, as --out did
            raise ValueError(
                f"got {v!r}: the name {ends}, which would be part of the folder's name; "
                "write it without"
            )
        if (hint := windows_path_hint(str(v))) and not os.path.lexists(str(v)):
            # `output_dir: C:\movies` made a folder named so, backslash and all, as --out did
            raise ValueError(f"got {v!r}: {hint}")
        if why := unnamable(str(v)):
            raise ValueError(f"got {v!r}: {why}")
        if why := home_unknown(str(v)):
            # left as written, the run went into a folder named `~` in the current one
            raise ValueError(f"got {v!r}: ~ is not a folder here ({why}): write the path out")
        return Path(os.path.expanduser(str(v)))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings merges env < config.yaml < flags by hand (env must sit *under* the
        # file, which pydantic-settings' own ordering cannot express), so only init kwargs.
        return (init_settings,)

    # ------------------------------------------------------------ derived
    def stage_provider(self, stage: Literal["planner", "keyframes", "video"]) -> str:
        planner, keyframes, video = PRESETS[self.preset]
        default = {"planner": planner, "keyframes": keyframes, "video": video}[stage]
        chosen: str | None = getattr(self, stage).provider
        return chosen or default

    def remote_providers(self) -> set[str]:
        """The remote providers the configured stages use."""
        return {self.stage_provider(s) for s in ("planner", "keyframes", "video")} - {"local"}

    def key_providers(self) -> set[str]:
        """Providers whose API key the configured stages use: the remote ones, less
        google in Vertex project mode (Application Default Credentials)."""
        used = self.remote_providers()
        if self.providers.google.project_mode:
            used.discard("google")
        return used

    def provider_settings(self, provider: str) -> ProviderSettings:
        ps: ProviderSettings | None = getattr(self.providers, provider, None)
        return ps if ps is not None else ProviderSettings()


#: text only a provider's key is: Anthropic's start, Google's (AIza and 35 more), and a
#: Vertex express key's ("AQ." and its body)
_KEY_SHAPED = re.compile(r"sk-ant-[A-Za-z0-9_-]{8,}|AIza[A-Za-z0-9_-]{35}|\bAQ\.[A-Za-z0-9_-]{30,}")
#: a key shorter than this is no real key (tests use "k"): not looked for in messages,
#: where hiding every "k" would garble them
_SHORTEST_KEY = 8


#: an address's user name and password (`https://user:token@proxy.example/api/v3`), up
#: to the last `@` before the path: the host follows it, as urlsplit and the SDKs read
#: it (a password holding an `@` was shown from there)
#: (A quote may be a password's: JSON quoting an address may lose a little of its text
#: to `<not shown>`, never a password. Tried only after each `://`, up to its path)
_URL_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s<>]+@")
#: a user name and password written without the scheme (`HTTPS_PROXY=user:pw@host:3128`,
#: which httpx takes as http://; `http:/user:pw@host`, a slash short): a word (not all
#: digits) where a value starts, `:`, the rest up to the last `@`, and a host (a name or
#: [IPv6] address, a port) ending there. A name without a password (`a@b`) is none, nor
#: `10:25:48@x`, `image:3.12@sha256:...`, `#0:0@x`. (Tried only where a value starts,
#: each part possessive (`{0,2048}+`, never gone back into): tried at every `x:` of a
#: provider's long answer and backtracked, 100,000 characters took 18 s)
_LOOSE_USERINFO = re.compile(
    r"(?:(?<=[\s='\"(/,;\[<])|^)(?!\d+:)\w[\w.+%~-]{0,127}+:[^\s/?#<>\"@]{0,2048}+"
    r"(?:@[^\s/?#<>\"@]{0,2048}+){0,16}@"
    r"(?=(?:[\w.-]+|\[[0-9A-Fa-f:.]+\])(?::\d+)?(?![\w.:-]))"
)
#: a query parameter of an address whose name says it holds a secret (`?key=`,
#: `access_token=`, `X-Amz-Signature=`, Azure's `code=`), and its value
#: (A name runs to the next `;` or `?`, and is looked through once: one that ran over
#: them began a scan to the end of the text at each, and 20,000 `;` in a provider's
#: answer took 13 s in hide_keys)
_URL_SECRET_PARAM = re.compile(
    r"([?&;](?=[^=&;?#\s'\"<>]*?(?:key|token|secret|sig|passw|pwd|auth|credential|code|session))"
    r"[^=&;?#\s'\"<>]*=)(?!<not shown>)[^&#\s'\"<>]*",
    re.IGNORECASE,
)
#: what a hidden user name and password or query value is replaced by
NOT_SHOWN = "<not shown>"


def hide_url_secrets(text: str) -> str:
    """`text` with the credentials written into any address in it hidden: the user
    name and password (`https://user:token@proxy.example/api/v3`) and the values of
    query parameters named as secrets (`?key=...`). A provider's `base_url` through a
    proxy can hold them; it was kept whole in run.db (the settings, each video job's
    origin) and said in messages. The calls still use the address as set."""
    if "@" in text:
        text = _URL_USERINFO.sub(rf"\g<1>{NOT_SHOWN}@", text)
        text = _LOOSE_USERINFO.sub(f"{NOT_SHOWN}@", text)
    if "://" not in text:
        return text
    return _URL_SECRET_PARAM.sub(rf"\g<1>{NOT_SHOWN}", text)


def _shown_address(value: str) -> str:
    """An address refused as set, as its error quotes it: all before its last `@` (but
    a scheme) hidden, whatever it holds; text shaped as a key (an Ark key pasted here)
    not at all. One too broken to read as an address (a blank or a quote in its
    password) was quoted whole, `hide_url_secrets` finding no credentials in it."""
    if _key_shaped(value):
        return "text shaped as a key (not shown: keys belong in the environment)"
    if "@" not in value:
        return repr(value)
    head, host = value.rsplit("@", 1)
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:/*", head)
    return repr(f"{scheme.group(0) if scheme else ''}{NOT_SHOWN}@{host}")


def recorded_settings(settings: Settings) -> dict[str, Any]:
    """`settings` as run.db keeps them (meta `settings`): each provider's base_url
    without the credentials written into it (`hide_url_secrets`)."""
    data = settings.model_dump(mode="json")
    for ps in (data.get("providers") or {}).values():
        if isinstance(ps, dict) and isinstance(ps.get("base_url"), str):
            # (a key set in the environment, in a parameter of any name: `hide_keys`)
            ps["base_url"] = hide_keys(ps["base_url"])
    return data


def _dotenv_as_now() -> dict[str, str]:
    """./.env's variables, read again only when the file changed: `hide_keys` runs for
    every provider error (a long render's many failed polls) and parsed the file each
    time (~1 ms for 30 lines, ~89 ms for 2,000)."""
    try:
        st = os.stat(".env")
        stamp: tuple[str, int, int] | None = (os.path.abspath(".env"), st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    return dict(_dotenv_at(stamp))


@functools.lru_cache(maxsize=4)
def _dotenv_at(stamp: tuple[str, int, int] | None) -> tuple[tuple[str, str], ...]:
    return () if stamp is None else tuple(read_dotenv(Path(stamp[0])).items())


def hide_keys(text: str) -> str:
    """`text` with every provider key in it replaced by whose it is: the keys set in
    the environment (or ./.env) and text shaped as only a key is. Messages quote the
    value a setting was given ("got '...'"), and a key written where a setting goes (a
    Google key as `providers.google: AIza...`) was shown whole, in a message a person
    pastes into an issue or a chat when asking for help. Credentials written into an
    address (`hide_url_secrets`) are hidden too."""
    dotenv = _dotenv_as_now()
    for names in KEY_VARIABLES.values():
        for name in names:
            # the environment's and ./.env's (`process_env` takes one of them)
            for key in {os.environ.get(name, "").strip(), dotenv.get(name, "").strip()}:
                if len(key) >= _SHORTEST_KEY and key in text:
                    text = text.replace(key, f"<the key in {name}, not shown>")
    text = _hide_proxy_passwords(text)
    return hide_url_secrets(_KEY_SHAPED.sub("<a provider key, not shown>", text))


def _hide_proxy_passwords(text: str) -> str:
    """`text` without the password of a proxy variable's address (`HTTPS_PROXY=
    http://user:pw@host`), nor any piece of it: one the address rules cannot read (a
    `#` or `/` in it, `http://u:pa#ss@h`) was shown, and httpx's own words quote a piece
    of it ("Invalid port: 'pa'", the secrets audit)."""
    for name, value in os.environ.items():
        if name.lower() not in ("https_proxy", "http_proxy", "all_proxy") or "@" not in value:
            continue
        userinfo = value.split("://", 1)[-1].rsplit("@", 1)[0]
        if ":" in userinfo:
            secret = userinfo.split(":", 1)[1]
        elif len(userinfo) >= 16:  # (a token as the user name: `http://<token>@proxy`)
            secret = userinfo
        else:
            continue  # a user name alone (`jsmith@proxy`): in paths too, no secret
        # (the password whole, and its long pieces: a short one, "http", hid every
        # address's scheme; the review)
        pieces = {secret} if len(secret) >= 6 else set()
        pieces |= {p for p in re.split(r"[:/#?@\s]+", secret) if len(p) >= 8}
        for piece in sorted(pieces, key=len, reverse=True):
            if piece in text:
                text = text.replace(piece, NOT_SHOWN)
    return text


class ConfigError(Exception):
    """A config file or flag the person must fix; printed as one line, exit code 2.
    Said in status and doctor rows too, so a key in it is hidden here (`hide_keys`)."""

    def __init__(self, message: str) -> None:
        super().__init__(hide_keys(message))


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _layer_over(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` merged onto the lower layer `base`. An aspect or resolution in `over` also
    drops a `size` only `base` gives: size overrides them within a layer, but a higher
    layer (a flag over the config file) must still win."""
    out = _deep_merge(base, over)
    top = over.get("output")
    if isinstance(top, dict) and ({"aspect", "resolution"} & top.keys()) and "size" not in top:
        merged = out.get("output")
        if isinstance(merged, dict) and merged is not top:
            merged.pop("size", None)
    return out


def _block_under(lower: dict[str, Any], higher: dict[str, Any], at: list[str]) -> list[str] | None:
    """The path of a block of settings to which the `lower` layer gives a single value or
    a list while the `higher` one gives a table: merging takes the table and drops the
    value without a word (`output: 720p` in config.yaml beside `--fps 30`, which was
    refused without the flag). None when there is none."""
    from mindmovie.yamlsrc import _model_at

    model = _model_at(Settings, at)
    for key, over in higher.items():
        info = model.model_fields.get(key) if model is not None else None
        if info is None or not isinstance(over, dict) or not _is_block(info.annotation):
            continue
        under = lower.get(key)
        if isinstance(under, dict):
            if found := _block_under(under, over, [*at, key]):
                return found
        elif under is not None:
            return [*at, key]
    return None


def _read_yaml_config(path: Path, named_by: str = "") -> dict[str, Any]:
    from mindmovie.yamlsrc import NotAFile, SourceTooLarge, other_suffix, read_source

    try:
        raw = read_source(path)
    except SourceTooLarge as e:
        raise ConfigError(f"{path}: {e.message()}") from None
    except NotAFile as e:
        raise ConfigError(f"{path}: config file {e.message()}{named_by}") from None
    except FileNotFoundError:
        from mindmovie.fsutil import link_note, windows_path_hint, windows_path_there

        if str(path) == "-":  # ("-: config file not found" read as a file named -)
            raise ConfigError(
                "-: settings are read from a file, not from standard input: give the config "
                f"file's path{named_by}"
            ) from None
        hint = windows_path_hint(str(path))  # `-c .\\my.yaml`, `-c C:/my.yaml`
        raise ConfigError(
            f"{path}: config file not found{link_note(path)}{named_by}{other_suffix(path)}"
            + (f"; {hint}{windows_path_there(str(path))}" if hint else "")
        ) from None
    except IsADirectoryError:
        # (`-c ''` reaches here as ".", the folder the command runs in)
        raise ConfigError(
            f"{path}: is a folder, not a config file (a YAML file of settings){named_by}"
        ) from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read config file ({e.strerror}){named_by}") from None
    from mindmovie.yamlsrc import (
        UTF16_BROKEN,
        UTF16_TEXT,
        binary_kind,
        error_line,
        indicator_hint,
        missing_space,
        nesting_problem,
        not_text,
        quote_hint,
        safe_load_yaml,
        unclosed_quote_line,
        unclosed_quote_said,
        utf16_text,
        utf16_without_bom,
        yaml_hint,
    )

    try:
        text = utf16_text(raw)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: {UTF16_BROKEN}") from None
    if text is None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            if kind := binary_kind(raw):
                raise ConfigError(f"{path}: {not_text(kind)}") from None
            line = raw.count(b"\n", 0, e.start) + 1
            raise ConfigError(f"{path}:{line}: not UTF-8 text; save the file as UTF-8") from None
        if utf16_without_bom(raw):
            raise ConfigError(f"{path}:1: {UTF16_TEXT}")
    if reads_as_dotenv(text):
        raise ConfigError(_dotenv_as_config(path, named_by))
    if deep := nesting_problem(text):
        raise ConfigError(f"{path}:{deep.line}: {deep.message}")
    try:
        data = safe_load_yaml(text, keys_as_written=True)
    except yaml.reader.ReaderError as e:  # its str() is two lines with no line number
        line = text.count("\n", 0, e.position) + 1
        raise ConfigError(
            f"{path}:{line}: not valid YAML (invalid character {chr(e.character)!r})"
        ) from None
    except yaml.YAMLError as e:
        if (quote := unclosed_quote_line(e)) is not None:
            said = unclosed_quote_said(quote, text)
            raise ConfigError(f"{path}:{quote}: not valid YAML ({said})") from None
        if isinstance(e, yaml.MarkedYAMLError) and (space := missing_space(e, text)):
            # `aspect:9:16`, `-x`: goals.yaml's hint, on the line missing the space
            said = space.message.removeprefix("invalid YAML: ")
            raise ConfigError(f"{path}:{space.line}: not valid YAML ({said})") from None
        marked = error_line(getattr(e, "problem_mark", None), text)
        where = f":{marked}" if marked is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        if "for merging" in problem:
            # PyYAML names the anchor's value (another place); the `<<` line is the mistake
            _refuse_bad_merge(text, path)
        # `!!python/name:x`, `!mine`: "could not determine a constructor", no setting named
        _refuse_problems(text, path, "unsupported YAML tag")
        # `title: 'I'm in'`: a quote inside a quoted value, goals.yaml's hint too
        hint = ""
        if isinstance(e, yaml.MarkedYAMLError):  # (`affirmation: @work`: quote it)
            hint = quote_hint(e, text) or indicator_hint(e, text)
        hint = hint or yaml_hint(problem)
        raise ConfigError(f"{path}{where}: not valid YAML ({problem}){hint}") from None
    except (ValueError, TypeError, LookupError, AttributeError):
        # PyYAML's int() of a number longer than Python converts, or a value its explicit
        # tag cannot be (`!!float abc`, `!!bool maybe`, a bare `!!float`: IndexError)
        if re.search(rf"[0-9][0-9_]{{{sys.get_int_max_str_digits()},}}", text):
            raise ConfigError(_too_long_number(text, path)) from None
        raise ConfigError(_untyped_value(text, path)) from None
    _refuse_duplicate_keys(text, path)
    _refuse_octal(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        from mindmovie.yamlsrc import compose_yaml

        # where it starts and what it is, as goals.yaml says it (`- preset: local`, a
        # list, said no line); the value itself is not shown: it may be a key pasted
        root = compose_yaml(text)
        at = f":{root.start_mark.line + 1}" if root is not None else ""
        from mindmovie.yamlsrc import equals_for_colon

        got = "a list" if isinstance(data, list) else "a single value"
        raise ConfigError(
            f"{path}{at}: the top level must be a mapping of settings (`name: value` "
            f"lines, e.g. `preset: local`), got {got}{equals_for_colon(data, show_value=False)}"
        )
    keyed: dict[str, Any] = _empty_blocks_dropped(_text_keys(data), [])
    if "goals" in keyed and not keyed.keys() & Settings.model_fields.keys():
        # `render settings.yaml -c goals.yaml`, the two swapped: "title: unknown setting
        # (allowed here: preset, ...)" did not say what was wrong
        # named by MINDMOVIE_CONFIG (set long ago, or in .env): "with --config" alone
        # sent the person to a flag they had not given
        instead = "MINDMOVIE_CONFIG, or unset it" if named_by else "--config"
        raise ConfigError(
            f"{path}{_line_of(path, ['goals'])}: goals: this is a goals file, not settings"
            f"{named_by}; give it as GOALS (mindmovie render {path}) and a settings file "
            f"with {instead}"
        )
    for key in keyed:
        # pydantic-settings matches top-level names in any case, so `Output:` was read as
        # `output:` but not merged with it: beside an `output:` block, a MINDMOVIE_OUTPUT__
        # variable or an --aspect flag, one of them was silently dropped (the flag lost)
        if key not in Settings.model_fields and key.lower() in Settings.model_fields:
            raise ConfigError(
                f"{path}{_line_of(path, [key])}: {key}: unknown setting "
                f"(did you mean {key.lower()!r}? setting names are lower case)"
            )
    return keyed


#: an unquoted number with a leading 0, which YAML 1.1 (PyYAML) reads in base 8
_OCTAL = re.compile(r"[-+]?0[0-7_]+")


#: a line of YAML's `name:` at the top level, which no .env has
_YAML_TOP_KEY = re.compile(r"^[A-Za-z_][\w.-]*[ \t]*:(?:[ \t]|$)", re.M)


def reads_as_dotenv(text: str) -> bool:
    """Whether a config file's text is a .env's (its first statement `NAME=value` or
    `export NAME=value`, the name in capitals as variables are, and no `name:` line at
    the top level): `--config .env` said ".env:1: the top level must be a mapping of
    settings ..., got a single value", or a YAML parse error, of the file that holds the
    keys. (`preset=byteplus`, `title=My film` are YAML written with = for :, not a .env.)"""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return (
        bool(lines) and bool(_DOTENV_STATEMENT.match(lines[0])) and not _YAML_TOP_KEY.search(text)
    )


#: a .env's statement of a variable named in capitals (`ARK_API_KEY=`, `export X=`)
_DOTENV_STATEMENT = re.compile(r"^[ \t]*(?:export[ \t]+)?[A-Z_][A-Z0-9_]*[ \t]*=")


def _dotenv_as_config(path: Path, named_by: str) -> str:
    """What to do about a .env given as the config file: what the config file is, and
    where a .env is read from (the folder mindmovie runs in); never a value of it."""
    flag = "MINDMOVIE_CONFIG" if named_by else "--config"
    here = Path(".env").absolute()
    try:
        same = here.exists() and here.samefile(path)
    except OSError:
        same = False
    # (config.example.yaml is a clone's, not named: pip does not install it)
    read = (
        "this one is read by itself already, from the folder you run mindmovie from: "
        + ("unset MINDMOVIE_CONFIG" if named_by else "leave out --config")
        if same
        else f"a .env is read by itself only from the folder you run mindmovie from ({here}): "
        "put these lines there, or export them"
    )
    return (
        f"{path}: this is a .env file (NAME=value lines), not a config file{named_by}; "
        f"{flag} takes a YAML file of settings (`name: value` lines, e.g. `preset: local`); "
        f"{read}"
    )


def _refuse_octal(text: str, path: Path) -> None:
    """A number written with a leading 0 (`fps: 030`) is an error with its line: PyYAML
    reads it in base 8, so it was 24 frames a second, and `budget_usd: 010` an $8 cap,
    without a word. One whose value is the same either way (`seed: 07`) is taken."""
    from mindmovie.yamlsrc import compose_yaml, format_loc

    root = compose_yaml(text)
    stack: list[tuple[yaml.Node, list[str | int]]] = [(root, [])] if root is not None else []
    seen: set[int] = set()
    while stack:
        node, at = stack.pop()
        if id(node) in seen:  # an alias: its anchor's node, walked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend((v, at if k.value == "<<" else [*at, k.value]) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((v, [*at, i]) for i, v in enumerate(node.value))
        elif (
            isinstance(node, yaml.ScalarNode)
            and node.tag.endswith(":int")
            and not node.style  # plain: None (PyYAML) or "" (libyaml); quoted is text
            and _OCTAL.fullmatch(node.value)
        ):
            digits = node.value.replace("_", "")
            if int(digits, 8) != int(digits, 10):
                raise ConfigError(
                    f"{path}:{node.start_mark.line + 1}: {format_loc(at) or 'value'}: "
                    f"{node.value} is read as {int(digits, 8)} (YAML reads a number written "
                    f"with a leading 0 in base 8); write {int(digits, 10)}, or quote it "
                    "if it is text"
                )


def _empty_blocks_dropped(data: dict[str, Any], at: list[str]) -> dict[str, Any]:
    """The file's settings without blocks left empty (`output:` whose every line is
    commented out, as one does in a copy of config.example.yaml): YAML reads them as
    null, which was "Input should be a valid dictionary or instance of OutputSettings".
    An empty block means its defaults, as an empty file does; a null one is left out
    rather than merged, so it does not drop what the environment sets in it."""
    from mindmovie.yamlsrc import _model_at

    model = _model_at(Settings, at)
    out: dict[str, Any] = {}
    for key, value in data.items():
        info = model.model_fields.get(key) if model is not None else None
        if value is None and info is not None and _is_block(info.annotation):
            continue
        out[key] = _empty_blocks_dropped(value, [*at, key]) if isinstance(value, dict) else value
    return out


def _is_block(annotation: Any) -> bool:
    """Whether a field holds a table of settings (a model, or `options: {}`)."""
    return get_origin(annotation) is dict or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel)
    )


def _text_keys(data: Any) -> Any:
    """Keys as text, at every level: YAML reads `1:` or `yes:` as a number or a boolean,
    and a key that is not text made `Settings(**data)` a TypeError traceback ("keywords
    must be strings") instead of an unknown setting named with its line."""
    if isinstance(data, dict):
        return {str(k): _text_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_text_keys(v) for v in data]
    return data


def _untyped_value(text: str, path: Path) -> str:
    """The error for a scalar PyYAML cannot build as its tag says (`fps: !!int x`): the
    first such value by line, found by building each scalar on its own."""
    loader = yaml.SafeLoader(text)
    bad: list[yaml.ScalarNode] = []
    try:
        root = loader.get_single_node()
        stack, seen = [root] if root is not None else [], set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.ScalarNode):
                try:
                    loader.construct_object(node, deep=True)
                except Exception:  # any failure is this value's
                    bad.append(node)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(n for pair in node.value for n in pair)
    except yaml.YAMLError:
        pass
    finally:
        loader.dispose()
    if not bad:
        return f"{path}: not valid YAML (a value that cannot be what its tag says)"
    node = min(bad, key=lambda n: (n.start_mark.line, n.start_mark.column))
    tag = node.tag.removeprefix("tag:yaml.org,2002:")
    kind = {"int": "a whole number", "float": "a number", "bool": "true or false"}
    return (
        f"{path}:{node.start_mark.line + 1}: not valid YAML ({node.value!r} cannot be read"
        f" as {kind.get(tag, 'a ' + tag)}; correct it, or quote it and drop any !!{tag} tag)"
    )


def _too_long_number(text: str, path: Path) -> str:
    """The error for a number of thousands of digits (`fps: 1000...0`), which PyYAML's
    int() refuses with a ValueError (a traceback): its line and setting, as for any
    value out of range."""
    limit = sys.get_int_max_str_digits()
    where, name, allowed = str(path), "", ""
    if found := re.search(rf"[0-9][0-9_]{{{limit},}}", text):
        line = text.count("\n", 0, found.start()) + 1
        where += f":{line}"
        from mindmovie.yamlsrc import SourceError, format_loc, parse_yaml

        try:
            doc = parse_yaml(text, path, SourceError, merges=True)
        except SourceError:
            doc = None
        if doc is not None:
            at = [loc for loc, n in doc.lines.items() if n == line]
            if at and (field := format_loc(max(at, key=len))):
                name = f" {field}:"
                allowed = _bounds([str(p) for p in max(at, key=len)])
    return f"{where}:{name} a number of more than {limit} digits{allowed}"


def _bounds(path: list[str]) -> str:
    """'; allowed: at least 8, at most 60' for a setting with bounds ('' without)."""
    from mindmovie.yamlsrc import _model_at

    model = _model_at(Settings, path[:-1])
    info = model.model_fields.get(path[-1]) if model is not None and path else None
    if info is None:
        return ""
    words = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}
    said = [
        f"{w} {getattr(m, k)}" for m in info.metadata for k, w in words.items() if hasattr(m, k)
    ]
    return f"; allowed: {', '.join(said)}" if said else "; write a smaller one"


def _refuse_problems(text: str, path: Path, *kinds: str) -> None:
    """Raise, as one ConfigError line, the first problem the line-keeping parser finds
    whose message holds one of `kinds` (in their order); return if there is none."""
    from mindmovie.yamlsrc import SourceError, parse_yaml

    try:
        parse_yaml(text, path, SourceError, merges=True)
    except SourceError as e:
        for kind in kinds:
            found = [p for p in e.problems if kind in p.message]
            if found:
                where = f"{path}:{found[0].line}" if found[0].line else str(path)
                field = f" {found[0].field}:" if found[0].field else ""
                raise ConfigError(f"{where}:{field} {found[0].message}") from None


def _refuse_bad_merge(text: str, path: Path) -> None:
    """'c.yaml:3: output: a merge (<<) takes a mapping...' for a `<<` of a list or a
    word; returns if it finds no such merge."""
    _refuse_problems(text, path, "a merge (<<)")


def _refuse_duplicate_keys(text: str, path: Path) -> None:
    """A setting written twice is an error, as in goals.yaml: PyYAML keeps the last one
    silently, so a second `output:` block (e.g. appended to a copied config.example.yaml)
    quietly undid every setting of the first. Also aliases of aliases ("billion
    laughs"): PyYAML shares them, but every walk of the settings (_text_keys) expanded
    them, and a 12-line config.yaml hung the command (goals.yaml and plan.yaml refused
    it already). And an alias inside its own anchor (`output: &o` then `x: *o` under
    it): PyYAML builds a mapping that holds itself, and that walk was a RecursionError
    traceback. And a tag no setting is (`!!set`, `!!binary`, `!!omap`): PyYAML builds a
    set, bytes or pairs, which was "must be a block of settings" or "got b'...'" with
    no line."""
    from mindmovie.yamlsrc import ALIASES_EXPANDED, TOO_MANY_VALUES

    _refuse_problems(
        text,
        path,
        "duplicate key",
        ALIASES_EXPANDED,
        TOO_MANY_VALUES,
        "an alias refers to itself",
        "unsupported YAML tag",
    )


#: MINDMOVIE_* variables that are not settings: the config file's path, the kill
#: points of the crash tests (mindmovie.killpoints) and the late-job grace they shorten
#: (pipeline.LATE_JOB_GRACE), read by the process, not by Settings
_NOT_SETTINGS = frozenset(
    {"MINDMOVIE_CONFIG", "MINDMOVIE_KILL_AT", "MINDMOVIE_KILL_HOW", "MINDMOVIE_LATE_JOB_GRACE"}
)


def _env_settings(env: dict[str, str]) -> list[tuple[str, list[str]]]:
    """The MINDMOVIE_* variables that are settings, each with its setting's path
    (MINDMOVIE_A__B -> ["a", "b"], lower-cased), in the environment's order."""
    out: list[tuple[str, list[str]]] = []
    for name in env:
        if not name.startswith("MINDMOVIE_") or name in _NOT_SETTINGS:
            continue
        if name.startswith("MINDMOVIE_SIM_"):  # the test simulator's own knobs
            continue
        parts = name[len("MINDMOVIE_") :].lower().split("__")
        if "" in parts:
            # `MINDMOVIE_=1`, `MINDMOVIE_OUTPUT__=30`: "environment (MINDMOVIE_): :
            # unknown setting", a setting of no name
            raise ConfigError(
                f"environment ({name}): names no setting (write MINDMOVIE_ and the "
                "setting's name, a block and its setting joined by __: MINDMOVIE_OUTPUT__FPS)"
            )
        out.append((name, parts))
    return out


def _env_names(env: dict[str, str], path: list[str]) -> str:
    """The variables that set the setting at `path` (or a table holding it, or a setting
    under it), for an error: 'MINDMOVIE_OUTPUT__FPS', or with two spellings of it (names
    in another case, a JSON table beside one of its settings) 'MINDMOVIE_OUTPUT__FPS and
    MINDMOVIE_output__fps both set it'. Before, the message named one reconstructed
    upper-case name, which could be neither the one with the bad value nor one set."""
    names = [
        name
        for name, parts in _env_settings(env)
        if parts[: len(path)] == path or path[: len(parts)] == parts
    ]
    if not names:
        return "MINDMOVIE_" + "__".join(p.upper() for p in path)
    if len(names) == 1:
        return names[0]
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return listed + (" both" if len(names) == 2 else " all") + " set it"


def _dotenv_source(path: list[str]) -> str | None:
    """'.env:3 (MINDMOVIE_OUTPUT__FPS)' when the variables that set the setting at `path`
    all come from ./.env and not the real environment (which wins over it): "environment
    (MINDMOVIE_OUTPUT__FPS)" sent the person to `env`, where it is not. None otherwise."""
    dotenv = Path(".env")
    values = read_dotenv(dotenv)
    # (a variable the real environment gives under another spelling is not read from
    # .env: `_settings_the_environment_gives`)
    for name in _settings_the_environment_gives(values):
        del values[name]
    names = [
        name
        for name, parts in _env_settings(values)
        if parts[: len(path)] == path or path[: len(parts)] == parts
    ]
    if not names or any(n in os.environ for n in names):
        return None
    try:
        lines = dotenv.read_bytes().decode("utf-8-sig", errors="replace").splitlines()
    except OSError:
        lines = []
    # the last statement of a name is the one python-dotenv keeps
    at = [i + 1 for i, ln in enumerate(lines) if (m := _DOTENV_NAME.match(ln)) and m[1] in names]
    where = f"{dotenv}:{at[-1]}" if at else str(dotenv)
    return f"{where} ({', '.join(names)})"


def _env_value(value: str) -> Any:
    """A MINDMOVIE_ variable's value: JSON for a table or a list, else the text; either
    without the blanks at its two ends, as YAML reads a value. A value read from a file
    saved on Windows (a docker --env-file, `export X=$(cat f)`) ends in a carriage
    return: a base_url ending in one passed its check, and every call failed after the
    plan was paid for; an output_dir made a folder named `movies\r`."""
    text = value.strip()
    if text.startswith(("{", "[")):
        try:
            import json

            return json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or nested past the stack
            pass
    return text


#: the text of a number, as YAML would read it in config.yaml
_NUMBER = re.compile(r"[-+]?(?:[0-9]+|[0-9]*\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)")


def _option_value(value: str) -> Any:
    """A stage option given by its own variable (MINDMOVIE_VIDEO__OPTIONS__WATERMARK=true):
    true/false and numbers as config.yaml gives them, other text as it is. An option is
    passed on as given, not converted by its setting's type as other variables are, so
    each typed one was refused from a variable ("'true' is not allowed; allowed true or
    false", "'8000' is not allowed; a whole number of tokens")."""
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _NUMBER.fullmatch(text):
        number = float(text)
        return int(text) if re.fullmatch(r"[-+]?[0-9]+", text) else number
    return value


#: the settings whose null says something (no budget cap) that a variable can say too:
#: MINDMOVIE_BUDGET_USD= was refused ("got ''"), as was "null", so a variable could set a
#: cap but not lift one that a .env or a shell profile set
_NULL_FROM_ENV = {("budget_usd",)}


def _is_null(text: str) -> bool:
    """Whether a variable's text is YAML's null: empty (or blanks), null (any case), ~."""
    return text.strip().lower() in ("", "null", "~")


def _env_layer(env: dict[str, str]) -> dict[str, Any]:
    """MINDMOVIE_A__B=v -> {"a": {"b": "v"}} (lower-cased), so it can sit under the file.
    A JSON table is merged with the settings other variables give under it (one given
    first was dropped); two values for one setting are refused by `_env_clash` first."""
    out: dict[str, Any] = {}
    for name, parts in _env_settings(env):
        cur = out
        for p in parts[:-1]:
            nxt = cur.setdefault(p, {})
            if not isinstance(nxt, dict):
                break
            cur = nxt
        else:
            v = _env_value(env[name])
            if tuple(parts) in _NULL_FROM_ENV and isinstance(v, str) and _is_null(v):
                v = None
            if len(parts) == 3 and parts[1] == "options" and isinstance(v, str):
                v = _option_value(v)
            before = cur.get(parts[-1])
            if isinstance(v, dict) and isinstance(before, dict):
                v = _deep_merge(before, v)
            cur[parts[-1]] = v
    return out


#: how deep a JSON value is followed for `_env_clash` (settings are 3 deep; deeper values
#: are options, compared whole)
_CLASH_DEPTH = 8


def _env_leaves(value: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """The settings one variable's value gives: a table's each setting, else itself."""
    if isinstance(value, dict) and value and len(path) < _CLASH_DEPTH:
        return [leaf for k, v in value.items() for leaf in _env_leaves(v, [*path, str(k)])]
    return [(path, value)]


def _same_value(a: Any, b: Any) -> bool:
    """Whether two variables' values for one setting mean the same ("30" and 30, "1.0"
    and "1", "true" and "True"): only different ones are a clash."""
    import json

    try:
        ta, tb = (x.strip() if isinstance(x, str) else json.dumps(x) for x in (a, b))
    except (TypeError, ValueError, RecursionError):
        return True  # nothing to compare it by: the settings check says what is wrong
    if ta == tb:
        return True
    try:
        return float(ta) == float(tb)
    except ValueError:
        return ta.lower() == tb.lower() and ta.lower() in ("true", "false")


def _dotenv_lines(names: list[str]) -> dict[str, str]:
    """Where in ./.env each of `names` that comes from it (not from the real environment,
    which wins over it) is set: {'MINDMOVIE_OUTPUT__FPS': '.env:3'}."""
    dotenv = Path(".env")
    values = read_dotenv(dotenv)
    ours = [n for n in names if n in values and n not in os.environ]
    if not ours:
        return {}
    try:
        lines = dotenv.read_bytes().decode("utf-8-sig", errors="replace").splitlines()
    except OSError:
        lines = []
    out = {}
    for name in ours:  # the last statement of a name is the one python-dotenv keeps
        at = [i + 1 for i, ln in enumerate(lines) if (m := _DOTENV_NAME.match(ln)) and m[1] == name]
        out[name] = f"{dotenv}:{at[-1]}" if at else str(dotenv)
    return out


def _env_clash(
    env: dict[str, str], higher: list[dict[str, Any]], dotenv: bool = False
) -> str | None:
    """The error for one setting that two MINDMOVIE_ variables give different values
    (two spellings of a name, a JSON table and one of its settings), unless a higher
    layer (config file, flag) sets it. Which would win depends on the order of the
    environment, which the person does not choose: so neither is taken, as a setting
    written twice in config.yaml is refused. The values are not shown. With `dotenv`
    (the environment is the process's, over ./.env) a variable set in .env is named
    with its line: "environment (...)" alone sent the person to `env`, where it is not."""
    given: dict[tuple[str, ...], list[tuple[str, Any]]] = {}
    for name, parts in _env_settings(env):
        for path, value in _env_leaves(_env_value(env[name]), parts):
            given.setdefault(tuple(path), []).append((name, value))
    for where, sets in given.items():
        if len(sets) < 2 or any(_sets(layer, list(where)) for layer in higher):
            continue
        if all(_same_value(sets[0][1], v) for _, v in sets[1:]):
            continue  # the same value twice: nothing to choose
        names = [n for n, _ in sets]
        lines = _dotenv_lines(names) if dotenv else {}
        names = [f"{n} ({lines[n]})" if n in lines else n for n in names]
        listed = ", ".join(names[:-1]) + " and " + names[-1]
        both = "both" if len(names) == 2 else "all"
        return (
            f"environment ({listed} {both} set it): {'.'.join(where)}: set to different "
            "values; unset all but one of these variables (which one would win depends "
            "on the order of the environment, so none is used)"
        )
    return None


def _sets(layer: dict[str, Any], path: list[str]) -> bool:
    """Whether a settings layer (nested dicts) gives a value at `path` (or a prefix of
    it that is not a table: e.g. `output: 5` for the error at output.fps)."""
    cur: Any = layer
    for part in path:
        if not isinstance(cur, dict) or part not in cur:
            return False
        cur = cur[part]
    return True


#: the settings the CLI's flags give (cli._overrides), to name the flag in an error: the
#: person typed `--fps 0`, and "command line: output.fps" left them to match the two
_FLAGS: dict[tuple[str, ...], str] = {
    ("preset",): "--preset",
    ("output", "aspect"): "--aspect",
    ("output", "resolution"): "--resolution",
    ("output", "fps"): "--fps",
    ("compose", "quality"): "--quality",
}


def _config_variable(env: dict[str, str]) -> str:
    """MINDMOVIE_CONFIG's path without the blanks at its ends, as every MINDMOVIE_
    variable is read (`_env_value`): '' when it is not set or blank."""
    return env.get("MINDMOVIE_CONFIG", "").strip()


def _config_path(given: Path | None, env: dict[str, str]) -> Path | None:
    """The config file read: `given`, else `$MINDMOVIE_CONFIG`, else ./config.yaml."""
    if given is not None:
        return given
    if named := _config_variable(env):
        from mindmovie.fsutil import expanded

        # `~` is the home folder here too: a shell leaves it as written in quotes
        return expanded(named)
    if os.path.lexists("config.yaml"):
        # not only a file: a folder of that name (docker makes one for a bind mount of
        # a missing file) or a dangling link was skipped silently, its settings (the
        # budget, the preset) with it; now it is an error naming it
        return Path("config.yaml")
    return None


def config_beside_goals(goals: Path, given: Path | None) -> str | None:
    """A warning when goals.yaml's folder holds a config.yaml that is not read: no
    --config, no MINDMOVIE_CONFIG and none in the folder mindmovie runs in (whose
    config.yaml is the one read). The person kept the settings beside the goals and ran
    from elsewhere: its preset, frame and budget_usd were dropped without a word, as the
    keys of a .env there were (`Pipeline._dotenv_not_read`). None otherwise."""
    if given is not None or _config_variable(process_env()) or os.path.lexists("config.yaml"):
        return None
    there = goals.absolute().parent / "config.yaml"
    try:
        if not there.is_file():
            return None
    except OSError:
        return None
    try:
        here = str(Path.cwd())
    except FileNotFoundError:
        # the folder run from was removed (render --out works there): it holds no
        # config.yaml, and the one beside goals.yaml was dropped without a word
        here = "which no longer exists"
    else:
        try:
            if Path(here).samefile(there.parent):
                return None
        except OSError:
            return None
        here += ", which has none"
    shown = goals.parent / "config.yaml"  # as GOALS was given
    return (
        f"{shown}, beside goals.yaml, is not read: the config file read is config.yaml in "
        f"the folder you run mindmovie from ({here}); give it with "
        f"--config {shown}, or run mindmovie from {shown.parent}"
    )


def setting_origin(
    path: list[str],
    config_path: Path | None = None,
    overrides: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> str | None:
    """Where the setting at `path` (or the table holding it) was given, as `load_settings`
    names it in an error: 'config.yaml:12', 'command line (--preset)', 'environment
    (MINDMOVIE_VIDEO__MODEL)', '.env:3 (...)'; None for a default or what cannot be read.
    For the mistakes found after the settings load (a model the catalog does not know, a
    stage option a provider refuses), which named the setting but not where it was set."""
    e = process_env() if env is None else dict(env)
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    for depth in range(len(path), 0, -1):  # `keyframes.options.foo`, then its table
        at = path[:depth]
        if _sets(flags, at):
            flag = _FLAGS.get(tuple(at))
            return f"command line ({flag})" if flag else "command line"
    try:
        file = _config_path(config_path, e)
        file_layer = _read_yaml_config(file) if file is not None else {}
    except ConfigError:
        return None
    env_layer = _env_layer(e)
    for depth in range(len(path), 0, -1):
        at = path[:depth]
        if file is not None and _sets(file_layer, at):
            return f"{file}{_line_of(file, at)}"
        if _sets(env_layer, at):
            named = f"environment ({_env_names(e, at)})"
            return (_dotenv_source(at) or named) if env is None else named
    return None


def load_settings(
    config_path: Path | None = None,
    overrides: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Build Settings from env, then config.yaml, then CLI overrides (rising precedence).

    `config_path` None means `$MINDMOVIE_CONFIG`, else ./config.yaml when it exists.
    Every mistake becomes a ConfigError naming the file (or variable) and the field.
    """
    e = process_env() if env is None else dict(env)
    # a file MINDMOVIE_CONFIG names that is not there was "x.yaml: config file not found",
    # with no word of the variable (set long ago, or in .env) that asked for it
    named_by = ""
    if config_path is None and (named := _config_variable(e)):
        from mindmovie.fsutil import home_unknown

        # `~/c.yaml` with no home folder: said only "not found", of a file that is there
        why = home_unknown(named)
        named_by = " (named by MINDMOVIE_CONFIG"
        named_by += f"; ~ is not a folder here: {why})" if why else ")"
    config_path = _config_path(config_path, e)
    env_layer = _env_layer(e)
    file_layer = _read_yaml_config(config_path, named_by) if config_path is not None else {}
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    if clash := _env_clash(e, [file_layer, flags], dotenv=env is None):
        raise ConfigError(clash)
    layers = _layer_over(_layer_over(env_layer, file_layer), flags)

    def source_of(path: list[str]) -> str:
        """Where the value at `path` came from: the highest layer that sets it."""
        source = "environment"
        if _sets(flags, path):
            flag = _FLAGS.get(tuple(path))
            source = f"command line ({flag})" if flag else "command line"
        elif config_path is not None and _sets(file_layer, path):
            source = str(config_path)
        elif _sets(env_layer, path):
            source = f"environment ({_env_names(e, path)})"
            if env is None:  # the process's: a variable may come from ./.env
                source = _dotenv_source(path) or source
        elif config_path is not None:
            source = str(config_path)
        if config_path is not None and source == str(config_path):
            source += _line_of(config_path, path)
        return source

    below = _layer_over(env_layer, file_layer)
    for lower, higher in ((env_layer, file_layer), (below, flags)):
        if (block := _block_under(lower, higher, [])) is None:
            continue
        value: Any = lower
        for part in block:
            value = value[part]
        if lower is below and config_path is not None and _sets(file_layer, block):
            where, from_env = f"{config_path}{_line_of(config_path, block)}", False
        else:
            where, from_env = f"environment ({_env_names(e, block)})", True
            where = (_dotenv_source(block) or where) if env is None else where
        raise ConfigError(f"{where}: {'.'.join(block)}: {_not_a_block(block, value, from_env)}")
    if unread := _unread_provider_setting(layers) or _base_url_its_sdk_breaks(layers):
        path, msg = unread
        raise ConfigError(f"{source_of(path)}: {'.'.join(path)}: {msg}")
    try:
        return Settings(**layers)
    except ValidationError as err:
        first = err.errors()[0]
        path = [str(x) for x in first["loc"]]
        loc = ".".join(path)
        source = source_of(path)  # the config file with its line, a flag or a variable
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            env_var = source.startswith(("environment", ".env"))
            msg = "unknown setting" + (
                _key_hint(path) or _suggestion(path, env_var, first.get("input"))
            )
        elif first["type"] == "literal_error":
            msg = f"not allowed; {msg[0].lower()}{msg[1:]}{_got(first.get('input'), path)}"
            msg += _one_value(first.get("input"), path, source)
        elif first["type"] in ("model_type", "dict_type"):
            # "Input should be a valid dictionary or instance of OutputSettings": a class
            # name the person never wrote
            from_env = source.startswith(("environment", ".env"))
            msg = _not_a_block(path, first.get("input"), from_env)
        elif first["type"] == "string_pattern_mismatch" and path == ["output", "size"]:
            msg = (
                f"must be WIDTHxHEIGHT in even pixels, {MIN_SIDE} to {MAX_SIDE} a side"
                f" (e.g. 640x360), got {first.get('input')!r}"
            )
        elif first["type"] in ("bool_parsing", "bool_type", "string_type"):
            # "Input should be a valid boolean, unable to interpret input": neither the
            # value read nor the ones allowed
            value = first.get("input")
            got = _got(value, path)
            if isinstance(value, (list, dict)):
                got = "; got a list" if isinstance(value, list) else "; got a block of settings"
            what = "text" if first["type"] == "string_type" else "true or false"
            msg = f"must be {what}{got}"
        elif first["type"] == "bool_as_number":
            msg = f"must be {msg}{_got(first.get('input'), path)}"
            msg += _bounds(path).replace("; write a smaller one", "")
            if path == ["budget_usd"]:
                msg += "; null means no cap"
            if not source.startswith(("environment", ".env")):
                msg += " (YAML reads an unquoted yes, no, on or off as true or false)"
        elif first["type"].startswith(("int_", "float_", "greater_", "less_", "finite_")):
            # 'fps: abc' said only "Input should be a valid integer": which ones are?
            msg += _got(first.get("input"), path) + _one_value(first.get("input"), path, source)
            msg += _bounds(path).replace("; write a smaller one", "")
            if path == ["budget_usd"]:  # how to say "no cap" ('none' was only refused)
                from_env = source.startswith(("environment", ".env"))
                msg += "; empty or null means no cap" if from_env else "; null means no cap"
        from mindmovie.yamlsrc import MORE_SHOWN

        rest = [".".join(str(x) for x in e["loc"]) for e in err.errors()[1:]]
        more = ""
        if rest:
            # which settings, as goals.yaml's errors name where its others are
            named = ", ".join([*rest[:MORE_SHOWN], *(["..."] if len(rest) > MORE_SHOWN else [])])
            more = f" (and {len(rest)} more problem{'s' if len(rest) > 1 else ''}: {named})"
        raise ConfigError(f"{source}: {loc}: {msg}{more}") from None


def _one_value(value: Any, path: list[str], source: str) -> str:
    """'; got a list' or '; got a block of settings: output.fps is one value, ...' for a
    table or a list where one value goes ('' for anything else). `fps: {x: 1}` and
    MINDMOVIE_OUTPUT__FPS__X=1 (a level too deep) said only "Input should be a valid
    integer", of a 1; `fps: [24]` did not say it was read as a list."""
    if isinstance(value, list):
        return "; got a list (write one value, not a list)"
    if not isinstance(value, dict):
        return ""
    said = f"; got a block of settings: {'.'.join(path)} is one value, with no settings under it"
    var = "MINDMOVIE_" + "__".join(p.upper() for p in path)
    if "MINDMOVIE_" in source and f"{var}__" in source.upper():
        said += f" (a variable named {var}__... goes a level too deep: set {var})"
    return said


def _not_a_block(path: list[str], value: Any, from_env: bool) -> str:
    """The error for a value where a block of settings goes (`output: 5`)."""
    from mindmovie.yamlsrc import _model_at

    model = _model_at(Settings, path)
    names = f" ({', '.join(model.model_fields)})" if model is not None else ""
    example = next(iter(model.model_fields), "name") if model is not None else "name"
    if from_env:
        var = "MINDMOVIE_" + "__".join(p.upper() for p in path)
        how = (
            f'; give a JSON table, e.g. {{"{example}": ...}}, or one variable per setting, '
            f"e.g. {var}__{example.upper()}"
        )
    else:
        # (config.example.yaml, named here before, is a clone's: pip does not install it)
        how = (
            f"; write them indented under `{path[-1]}:`, one `name: value` a line "
            f"(`{path[-1]}:`, then `  {example}: ...` on the next)"
        )
    what = "a list" if isinstance(value, list) else "a single value"
    if from_env and isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        what = "text that is not JSON"  # `{fps: 30}`: JSON wants "fps" in double quotes
    got = _got(value, path)
    if path[:1] == ["providers"] and isinstance(value, str) and value.strip():
        # `providers: {byteplus: <the key>}`: a key written where its settings go was
        # quoted whole, where its shape is not one `hide_keys` knows (an Ark key's is
        # not) and it is in no variable (why it was written here)
        names_of = KEY_VARIABLES.get(path[1] if len(path) > 1 else "", ())
        where = f" in {names_of[0]}" if names_of else ""
        got = (
            "; the text given is not shown (a key? it belongs in the environment or "
            f"./.env{where}, never in a settings file)"
        )
    return f"must be a block of settings{names}, not {what}{got}{how}"


def _got(value: Any, path: list[str]) -> str:
    """'; got 969 (...)' for an error message: the value as it was read, which is not
    always what was written (YAML 1.1 reads `aspect: 16:9` as 969, `fps: yes` as true, a
    bare `~` as null), so "input should be '16:9'" for `16:9` is explained. '' for a
    table or a list (the rest of the message says it) or a long text."""
    if isinstance(value, bool) or value is None:
        return f"; got {str(value).lower() if value is not None else 'null (no value)'}"
    if isinstance(value, int) and path[-1:] == ["aspect"] and value >= 60:
        # PyYAML reads digits:digits as a number in base 60 (YAML 1.1 sexagesimal)
        written = f"{value // 60}:{value % 60}"
        read = f"; got {value}: YAML reads an unquoted {written} as a number in base 60"
        if written not in get_args(Aspect):  # (`4:3`: quoted, refused all the same)
            return f"{read}, and {written} is not allowed either"
        return f'{read}, so write it in quotes: "{written}"'
    if isinstance(value, str) and _key_shaped(value):
        # an Ark key's shape, which `hide_keys` does not hide (a request id is one too):
        # a key pasted into a setting was quoted whole
        return "; got text shaped as a key (not shown: keys belong in the environment)"
    if isinstance(value, (int, float)) or (isinstance(value, str) and len(value) <= 40):
        return f"; got {value!r}"
    return ""


#: text shaped as a UUID, as ModelArk's API keys are
_UUID_SHAPED = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")


def key_shaped(value: str) -> bool:
    """Is `value` an Ark key as typed (a UUID, alone or as `Bearer <it>`, `key=<it>`): a
    value quoted back by an error (goals.yaml's "got ...") is then not quoted. Not a
    UUID inside other text: a photo an iPhone named by one (`3F2A...ABC.JPG`) is said."""
    bare = re.sub(r"^(?:bearer\s+|[\w-]*key\s*[=:]\s*)", "", value.strip(), flags=re.I)
    return bool(_UUID_SHAPED.fullmatch(bare)) and _key_shaped(value)


def _key_shaped(value: str) -> bool:
    """Does `value` hold text shaped as an Ark key (`key=<it>`, `Bearer <it>` too), not a
    key set (which `hide_keys` names by its variable, the better word)?"""
    return bool(_UUID_SHAPED.search(value)) and hide_keys(value) == value


def _key_hint(path: list[str]) -> str:
    """For a provider key written as a setting (`providers.byteplus.api_key`,
    `ARK_API_KEY: ...`): where keys go instead ('' when the name is not key-like)."""
    name = path[-1].lower() if path else ""
    if not re.search(r"(^|_)(api_?key|key|token|secret)$", name):
        return ""
    provider = path[1] if len(path) > 2 and path[0] == "providers" else None
    names = KEY_VARIABLES.get(provider or "", ())
    if not names:
        names = tuple(n for ns in KEY_VARIABLES.values() for n in ns if n.lower() == name)
    if not names:
        names = tuple(ns[0] for ns in KEY_VARIABLES.values())
    return (
        ": provider keys are not settings; export "
        + " or ".join(names)
        + " (or put it in a .env file in the folder you run from)"
    )


def _suggestion(path: list[str], env_var: bool = False, value: Any = None) -> str:
    """' (did you mean 'output'?)' for a mistyped setting name; for a setting at the
    wrong level (`fps:` at the top, `output: {quality: ...}`) where it goes; else the
    allowed ones. `value`: what the unknown setting was given (for a variable, the
    rest of its name when that held a `__`)."""
    from mindmovie.yamlsrc import _closest, _model_at

    model = _model_at(Settings, path[:-1])
    if model is None:
        return ""
    allowed = list(model.model_fields)
    if path[-1] not in allowed and path[-1].lower() in allowed:
        # `output: {FPS: 30}` was told "it is output.fps: write it indented under
        # `output:`", where it was: its case is the mistake
        return f" (did you mean {path[-1].lower()!r}? setting names are lower case)"
    if env_var and (split := _underscore_path(model, path[-1].lower())) is not None:
        # `MINDMOVIE_OUTPUT_FPS`: a block and its setting joined by one underscore, not
        # two, was "did you mean 'output'?", the whole block's variable
        full = [*path[:-1], *split]
        # `MINDMOVIE_PROVIDERS_BYTEPLUS__TIMEOUT`: the split names a block, and the rest
        # of the variable's name is in its value ({timeout: ...}); naming the block's
        # variable (MINDMOVIE_PROVIDERS__BYTEPLUS) sent the person to "not a block"
        while isinstance(value, dict) and len(value) == 1 and _model_at(Settings, full):
            key = str(next(iter(value)))
            full, value = [*full, key.lower()], value[key]
        parent = _model_at(Settings, full[:-1])
        info = parent.model_fields.get(full[-1]) if parent is not None else None
        table = info is not None and get_origin(info.annotation) is dict  # `options:`
        if table and isinstance(value, dict) and len(value) == 1:  # `VIDEO_OPTIONS__FOO`
            full, value = [*full, str(next(iter(value)))], None
        if info is not None and not (isinstance(value, dict) and _is_block(info.annotation)):
            return " here; " + _where_it_goes([full], env_var)
    close = _closest(path[-1], allowed)
    if close:
        return f" (did you mean {close!r}?)"
    if elsewhere := _settings_named(path[-1].lower()):
        # the name is right, its place is not: "allowed here: preset, output_dir, ..."
        # left the person to find that fps is under output
        return " here; " + _where_it_goes(elsewhere, env_var)
    if len(path) == 1 and not env_var and path[0] in _GOALS_KEYS:
        # `music:` or `title:` in config.yaml: "allowed here: preset, ..." did not say
        # that it is written in goals.yaml
        return f": {path[0]} is written in goals.yaml, not in the settings"
    return f" (allowed here: {', '.join(allowed)})"


#: goals.yaml's own top-level keys, said as such when written in the config file
_GOALS_KEYS = frozenset({"title", "person", "style", "closing", "music"})


def _underscore_path(model: type[BaseModel], name: str) -> list[str] | None:
    """`output_fps` read as the path of a setting under `model` whose parts were joined by
    one underscore (["output", "fps"]), None when it is none; a name of one part is not
    one (it is a setting, or no setting, as it is)."""
    from mindmovie.yamlsrc import _model_at

    for field in model.model_fields:
        sub = _model_at(model, [field])
        if sub is None or not name.startswith(field + "_"):
            continue
        rest = name[len(field) + 1 :]
        if rest in sub.model_fields:
            return [field, rest]
        if (deeper := _underscore_path(sub, rest)) is not None:
            return [field, *deeper]
    return None


def _settings_named(name: str, model: type[BaseModel] | None = None) -> list[list[str]]:
    """Every path of a setting (or block) called `name`, at any level."""
    from mindmovie.yamlsrc import _model_at

    found: list[list[str]] = []
    for field in (model or Settings).model_fields:
        sub = _model_at(model or Settings, [field])
        if field == name:
            found.append([field])
        if sub is not None:
            found.extend([field, *p] for p in _settings_named(name, sub))
    return found


def setting_written_in_goals(name: str) -> str | None:
    """What to say of a key of goals.yaml's top level that is a setting (`preset:
    byteplus`, `fps: 30`): where it is written instead. None for any other name. Said
    "unknown key 'preset' (allowed here: title, person, ...)", as if it were misspelt."""
    paths = _settings_named(name)
    if not paths:
        return None
    if len(paths) > 1:
        shown = ", ".join(".".join(p) for p in paths)
        return f"{name} is a setting ({shown}): write it in config.yaml, not in goals.yaml"
    where = paths[0]
    under = f", indented under `{where[-2]}:`" if len(where) > 1 else ""
    return f"{'.'.join(where)} is a setting: write it in config.yaml{under}, not in goals.yaml"


def _where_it_goes(paths: list[list[str]], env_var: bool) -> str:
    """'it is output.fps: write it indented under `output:`' (or its variable)."""
    if len(paths) > 1:
        shown = ", ".join(".".join(p) for p in paths)
        return f"it is one of these: {shown}"
    where = paths[0]
    if env_var:
        return f"it is {'.'.join(where)}: set MINDMOVIE_{'__'.join(where).upper()}"
    if len(where) == 1:
        return f"{where[0]} is a top-level setting: write it at the start of a line, not indented"
    return f"it is {'.'.join(where)}: write it indented under `{where[-2]}:`"


def _line_of(config_path: Path, path: list[str]) -> str:
    """':LINE' of a setting in the config file ('' when it cannot be told)."""
    from mindmovie.yamlsrc import SourceError, decoded, parse_yaml

    try:
        text = decoded(config_path.read_bytes())
        doc = parse_yaml(text, config_path, SourceError, merges=True)
    except (OSError, SourceError, ValueError):
        return ""
    line = doc.line_of(path)
    return f":{line}" if line else ""
