"""The model catalog: what each remote model accepts and what it costs.

Hard-coded model ids go stale and requests a model cannot do waste money, so both live
in one data file (`catalog.toml`, shipped with the package) and every request is checked
against it *before* any spend, with the allowed values named in the refusal.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from collections.abc import Sequence
from importlib import resources
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mindmovie.providers.base import InvalidRequest

Provider = Literal["anthropic", "byteplus", "google"]
Stage = Literal["planner", "keyframes", "video"]
Formula = Literal["tokens_video", "per_second", "per_image", "per_mtok"]
SizeMode = Literal["preset+wxh", "wxh", "adaptive", "ratio"]

_T = TypeVar("_T")

#: pseudo-resolution under which image models list their output sizes
IMAGE_SIZES = "default"


class CatalogError(RuntimeError):
    """catalog.toml itself is broken (a packaging bug, not the person's mistake)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Capabilities(_Frozen):
    """What a model accepts. Unset fields mean "not supported" / "no constraint"."""

    reference_images: bool = False
    max_references: int = 0
    first_frame: bool = False
    last_frame: bool = False
    image_required: bool = False
    audio: bool = False
    durations: tuple[int, ...] | None = None
    min_seconds: int | None = None
    max_seconds: int | None = None
    resolutions: tuple[str, ...] = ()
    ratios: tuple[str, ...] = ()
    size_mode: SizeMode | None = None
    presets: tuple[str, ...] = ()
    min_side: int | None = None
    max_side: int | None = None
    #: resolution -> ratio -> (W, H); image models use the resolution "default"
    sizes: dict[str, dict[str, tuple[int, int]]] = Field(default_factory=dict)

    def allowed_durations(self) -> tuple[int, ...] | None:
        """Every allowed whole-second duration, or None when any length is fine."""
        if self.durations:
            return tuple(sorted(self.durations))
        if self.min_seconds is not None and self.max_seconds is not None:
            return tuple(range(self.min_seconds, self.max_seconds + 1))
        return None

    def durations_text(self) -> str:
        """Allowed durations as a person reads them: "4-12 s" or "4, 6, 8 s"."""
        if self.durations:
            return ", ".join(str(d) for d in sorted(self.durations)) + " s"
        if self.min_seconds is not None and self.max_seconds is not None:
            return f"{self.min_seconds}-{self.max_seconds} s"
        return "any"


class Price(_Frozen):
    """How a model is billed; `rates` keys depend on `formula` (see catalog.toml header)."""

    formula: Formula
    rates: dict[str, float]
    fps: int | None = None
    source: str
    checked: dt.date
    third_party: bool = False

    @model_validator(mode="after")
    def _rates_fit_formula(self) -> Price:
        need = {
            "tokens_video": ("audio_off",),
            "per_second": (),
            "per_image": ("image",),
            "per_mtok": ("input", "output"),
        }[self.formula]
        missing = [k for k in need if k not in self.rates]
        if missing:
            raise ValueError(f"price.rates misses {', '.join(missing)} for {self.formula}")
        if self.formula == "tokens_video" and not self.fps:
            raise ValueError("price.fps is required for tokens_video")
        if self.formula == "per_second" and not self.rates:
            raise ValueError("price.rates needs at least one resolution for per_second")
        return self

    # ------------------------------------------------------------ arithmetic
    def video_usd(
        self,
        *,
        seconds: float,
        width: int = 0,
        height: int = 0,
        resolution: str = "",
        audio: bool = False,
        tier: str | None = None,
        tokens: int | None = None,
    ) -> float:
        """USD for one clip. `tokens` (the provider's reported usage) beats the estimate."""
        if self.formula == "tokens_video":
            rate = (
                self.rates["audio_on"]
                if audio and "audio_on" in self.rates
                else self.rates["audio_off"]
            )
            if tier == "flex":
                rate *= self.rates.get("flex", 1.0)
            if tokens is None:
                tokens = video_tokens(width, height, self.fps or 24, seconds)
            return tokens * rate / 1_000_000
        if self.formula == "per_second":
            key = resolution.lower()
            found = (
                self.rates.get(key)
                if audio
                else self.rates.get(f"{key}_no_audio", self.rates.get(key))
            )
            # unknown resolution: never under-estimate
            per_s = found if found is not None else max(self.rates.values())
            return per_s * seconds
        raise ValueError(f"not a video price formula: {self.formula}")

    def image_usd(self, count: int = 1) -> float:
        """USD for `count` images."""
        if self.formula != "per_image":
            raise ValueError(f"not an image price formula: {self.formula}")
        return self.rates["image"] * count

    def tokens_usd(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_write_tokens: int = 0,
        cache_read_tokens: int = 0,
    ) -> float:
        """USD for one LLM call from its reported usage."""
        if self.formula != "per_mtok":
            raise ValueError(f"not a token price formula: {self.formula}")
        r = self.rates
        return (
            input_tokens * r["input"]
            + output_tokens * r["output"]
            + cache_write_tokens * r.get("cache_write", r["input"])
            + cache_read_tokens * r.get("cache_read", r["input"])
        ) / 1_000_000


class ModelSpec(_Frozen):
    """One catalog row."""

    key: str
    provider: Provider
    id: str
    stage: Stage
    default: bool = False
    id_verified: bool = True
    note: str | None = None
    #: the day the provider lists for the model's shutdown: from then `doctor` warns and
    #: `providers` shows its note (a default past it answered 404 at the first paid step,
    #: after the plan was bought, and nothing had said so)
    shutdown: dt.date | None = None
    capabilities: Capabilities = Field(default_factory=Capabilities)
    price: Price

    def allows(self, resolution: str, ratio: str) -> bool:
        return resolution in self.capabilities.resolutions and ratio in self.capabilities.ratios


class Catalog(_Frozen):
    models: tuple[ModelSpec, ...]


def video_tokens(width: int, height: int, fps: int, seconds: float) -> int:
    """Seedance billing tokens: W x H x fps x seconds / 1024 (provider-wire.md §4)."""
    return round(width * height * fps * seconds / 1024)


# ---------------------------------------------------------------- loading
@functools.cache
def load_catalog() -> Catalog:
    """Parse and check the packaged catalog.toml once per process."""
    text = resources.files("mindmovie").joinpath("catalog.toml").read_text(encoding="utf-8")
    return parse_catalog(text)


def parse_catalog(text: str) -> Catalog:
    """Parse catalog TOML text (exposed so tests can check a variant)."""
    try:
        raw = tomllib.loads(text)
        cat = Catalog(models=tuple(raw.get("model", [])))
    except (tomllib.TOMLDecodeError, ValidationError) as e:
        raise CatalogError(f"catalog.toml is invalid: {e}") from e
    seen: set[str] = set()
    defaults: dict[tuple[str, str], str] = {}
    for m in cat.models:
        for name in {m.key, m.id}:
            if name in seen:
                raise CatalogError(f"catalog.toml: duplicate model name {name!r}")
            seen.add(name)
        if m.default:
            slot = (m.provider, m.stage)
            if slot in defaults:
                raise CatalogError(
                    f"catalog.toml: two defaults for {m.provider} {m.stage}: "
                    f"{defaults[slot]}, {m.key}"
                )
            defaults[slot] = m.key
    return cat


def models(provider: str | None = None, stage: str | None = None) -> list[ModelSpec]:
    """Catalog rows, optionally filtered by provider and stage, in file order."""
    return [
        m
        for m in load_catalog().models
        if (provider is None or m.provider == provider) and (stage is None or m.stage == stage)
    ]


def find(name: str) -> ModelSpec | None:
    """The row whose key or id is `name`, else None."""
    for m in load_catalog().models:
        if name in (m.key, m.id):
            return m
    return None


def default_model(provider: str, stage: str) -> ModelSpec:
    """The default model of a provider for a stage."""
    for m in models(provider, stage):
        if m.default:
            return m
    raise CatalogError(f"catalog.toml: no default {stage} model for {provider}")


#: what a model id adds to its family's key for a release: a date or a number (Ark's
#: "251215", Claude's "20250929", Google's "001"), or a preview, latest or experimental
#: build ("preview-06-17", "exp-0827")
_RELEASE_TAG = re.compile(r"\d[\d.-]*|(?:preview|latest|exp)(?:[-.][\w.-]*)?")


def resolve(provider: str, stage: str, name: str | None = None) -> ModelSpec:
    """The model to use for `stage` on `provider`: `name` (a key or an id) or the default.

    An id that is not in the catalog but extends a known key by a release tag
    (`_RELEASE_TAG`: a newer dated release, e.g. "seedance-1-5-pro-260301") is accepted
    with that family's capabilities and price, so the person can follow a provider's id
    change without waiting for a release. Anything else raises InvalidRequest naming the
    known models: a key extended by any word was taken as its release, and a typo
    ("seedance-1-0-pro-fsat" for -fast) was priced and checked as seedance-1-0-pro, and
    sent as written, refused only at the first clip, after the plan and keyframes.
    """
    if not name:
        return default_model(provider, stage)
    rows = models(provider, stage)
    for m in rows:
        if name in (m.key, m.id):
            return m
    family = [
        m
        for m in rows
        if name.startswith(m.key + "-") and _RELEASE_TAG.fullmatch(name[len(m.key) + 1 :])
    ]
    if family:
        base = max(family, key=lambda m: len(m.key))
        return base.model_copy(update={"id": name, "id_verified": False, "default": False})
    known = ", ".join(m.key for m in rows) or "none"
    # (not "e.g. <key>-260301": Ark's form, which Claude's and Google's ids never take)
    dated = " (or one of them followed by a newer release's date or number)" if rows else ""
    raise InvalidRequest(
        f"{stage}.model '{name}' is not a known {provider} {stage} model; "
        f"use one of: {known}{dated}",
        provider=provider,
    )


#: days after its oldest price check when the catalog's prices are taken as stale:
#: `doctor` warns, and the spend question says so
STALE_DAYS = 120


def catalog_checked_date() -> dt.date:
    """The oldest price check in the catalog: how fresh the cost estimates are at worst."""
    return min(m.price.checked for m in load_catalog().models)


def catalog_age_days(today: dt.date | None = None) -> int:
    """Days since `catalog_checked_date` (the estimates' prices are that old at worst)."""
    return ((today or dt.date.today()) - catalog_checked_date()).days


def _spec(model: ModelSpec | str) -> ModelSpec:
    if isinstance(model, ModelSpec):
        return model
    found = find(model)
    if found is None:
        raise InvalidRequest(f"model '{model}' is not in the catalog")
    return found


# ---------------------------------------------------------------- checks
def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def allowed_for(spec: ModelSpec, param: str | None, lead: str = "allowed") -> str:
    """The catalog's allowed values for a parameter a provider refused ("" if unknown),
    as the refusal's line ends with them: Ark's and Google's alike (Google's named none),
    after `lead`."""
    cap = spec.capabilities
    if param == "duration":
        return f"; {lead} {cap.durations_text()}"
    if param == "resolution" and cap.resolutions:
        return f"; {lead} {', '.join(cap.resolutions)}"
    if param == "ratio" and cap.ratios:
        return f"; {lead} {', '.join(cap.ratios)}"
    if param == "size":
        sizes = [f"{w}x{h}" for t in cap.sizes.values() for (w, h) in t.values()]
        return f"; {lead} {', '.join([*cap.presets, *sizes]) or 'adaptive'}"
    if param == "model":
        return f"; known: {', '.join(m.key for m in models(spec.provider, spec.stage))}"
    if param == "generate_audio":
        return "; this model has no audio" if not cap.audio else ""
    return ""


def validate_video(
    model: ModelSpec | str,
    seconds: float,
    resolution: str,
    ratio: str,
    audio: bool = False,
    last_frame: bool = False,
) -> None:
    """Refuse, before any spend, a clip the model cannot make; name the allowed values."""
    spec = _spec(model)
    cap = spec.capabilities
    problems: list[str] = []
    allowed = cap.allowed_durations()
    if allowed is not None and (not float(seconds).is_integer() or int(seconds) not in allowed):
        problems.append(f"duration {_num(seconds)} s not allowed; allowed {cap.durations_text()}")
    if cap.resolutions and resolution not in cap.resolutions:
        from typing import get_args

        from mindmovie.config import Resolution

        # only those output.resolution takes: "allowed 720p, 1080p, 4k" offered Veo's
        # 4k, which the setting refuses
        settable = [r for r in cap.resolutions if r in get_args(Resolution)]
        problems.append(
            f"resolution {resolution} not allowed; allowed {', '.join(settable or cap.resolutions)}"
        )
    if cap.ratios and ratio not in cap.ratios:
        problems.append(f"ratio {ratio} not allowed; allowed {', '.join(cap.ratios)}")
    if audio and not cap.audio:
        with_audio = [m.key for m in models(spec.provider, "video") if m.capabilities.audio]
        problems.append(
            "audio not supported; set video.audio: false or use one of: "
            + (", ".join(with_audio) or "none")
        )
    if last_frame and not cap.last_frame:
        with_last = [m.key for m in models(spec.provider, "video") if m.capabilities.last_frame]
        problems.append(
            "last frame not supported; set video.chain_frames: false or use one of: "
            + (", ".join(with_last) or "none")
        )
    if problems:
        raise InvalidRequest(f"{spec.key}: " + "; ".join(problems), provider=spec.provider)


def validate_image(
    model: ModelSpec | str,
    ratio: str | None = None,
    references: int = 0,
    source_photo: bool = False,
) -> None:
    """Refuse an image request the model cannot do (ratio, reference count, edit input)."""
    spec = _spec(model)
    cap = spec.capabilities
    problems: list[str] = []
    if ratio is not None and cap.size_mode != "adaptive" and cap.ratios and ratio not in cap.ratios:
        problems.append(f"ratio {ratio} not allowed; allowed {', '.join(cap.ratios)}")
    if references > cap.max_references:
        problems.append(
            f"{references} reference images not allowed; allowed at most {cap.max_references}"
        )
    if cap.image_required and not source_photo:
        problems.append(
            "needs a source photo for every scene (it edits a photo); "
            "add photos to the goal or choose a text-to-image model"
        )
    if problems:
        raise InvalidRequest(f"{spec.key}: " + "; ".join(problems), provider=spec.provider)


def references_sent(
    model: ModelSpec | str, photos: Sequence[_T], *, source_photo: bool = False
) -> tuple[list[_T], list[_T]]:
    """(sent, left out): the reference photos a keyframe model is sent, the first ones up
    to its `max_references` (a source photo it also takes counts against that limit),
    and those past it: all of them for a model that takes none. An edit model
    (`image_required`, SeedEdit) leaves none out: it restyles the source photo, which is
    one of them, and is not drawing from the others."""
    cap = _spec(model).capabilities
    if cap.image_required:
        return [], []
    room = max(0, cap.max_references - int(source_photo)) if cap.reference_images else 0
    return list(photos[:room]), list(photos[room:])


def output_pixels(model: ModelSpec | str, resolution: str, ratio: str) -> tuple[int, int]:
    """Output W x H of `model` at `resolution` and `ratio` (image models: resolution ignored).

    Raises InvalidRequest naming the allowed combinations when the catalog has no size.
    """
    spec = _spec(model)
    sizes = spec.capabilities.sizes
    table = sizes.get(resolution) if spec.stage == "video" else sizes.get(IMAGE_SIZES)
    if table and ratio in table:
        w, h = table[ratio]
        return int(w), int(h)
    pairs = ", ".join(f"{r} {q}" for r, t in sizes.items() for q in t) or "none"
    raise InvalidRequest(
        f"{spec.key}: no output size for {resolution} {ratio}; known: {pairs}",
        provider=spec.provider,
    )


def snap_seconds(model: ModelSpec | str, seconds: float) -> int | float:
    """The allowed duration nearest `seconds` (ties go to the longer, never cutting a scene)."""
    allowed = _spec(model).capabilities.allowed_durations()
    if not allowed:
        return seconds
    return min(allowed, key=lambda a: (abs(a - seconds), -a))


def allowed_seconds(model: ModelSpec | str) -> tuple[float, ...] | None:
    """Allowed clip durations as floats, for PlanOptions.allowed_seconds."""
    allowed = _spec(model).capabilities.allowed_durations()
    return tuple(float(a) for a in allowed) if allowed else None
