"""Cost estimates before a run, and billed amounts after each call.

A shipped estimate once ignored the resolution and the audio switch and priced a
provider's 8 s clips as 12 s (lessons.md, "Resume and money"). So every figure here is
computed from exactly what the providers send: the same snapped duration, the catalog's
real output pixels (Seedance 1.0 720p 16:9 is 1248x704), audio only where the model has
it, and the flex tier's discount; and every row carries the inputs of its formula so a
person can check the arithmetic. Pure: no network, no store writes, no paid planner call
(the scene list comes from the deterministic local planner, which gives the same ids and
seconds the remote planner is held to).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mindmovie import catalog
from mindmovie.catalog import ModelSpec
from mindmovie.config import Settings
from mindmovie.goals import Goals
from mindmovie.plan import Plan, Scene, source_photo, source_photo_by_place
from mindmovie.providers.base import InvalidRequest, PlanOptions

if TYPE_CHECKING:
    from rich.table import Table

CallStage = Literal["planner", "keyframe", "video"]
CatalogStage = Literal["planner", "keyframes", "video"]

CURRENCY = "USD"

#: chars per token for the planner's input estimate (English prose and JSON run ~3.5-4.5)
CHARS_PER_TOKEN = 4
#: tokens Anthropic adds to every request that defines tools and forces tool_choice
#: (the tool-use system prompt, ~313-346 tokens per Anthropic's tool-use pricing notes)
TOOL_USE_OVERHEAD_TOKENS = 350
#: planner output per scene: ~20 affirmation + ~120 image prompt + ~50 motion prompt + JSON
#: keys and punctuation; the real answers of the simulator and of Sonnet sit around 200-260
OUTPUT_TOKENS_PER_SCENE = 250
#: planner output besides the scenes: title, closing card, the tool-call wrapper
OUTPUT_TOKENS_BASE = 100

#: the local providers' model names (as providers/local.py names them: LocalPlanner.model,
#: KEYFRAMES_MODEL, MOTION_MODEL)
LOCAL_MODELS: dict[CallStage, str] = {
    "planner": "local-planner-1",
    "keyframe": "local-painter-1",
    "video": "local-kenburns-1",
}

_DONE_FORMULA = "done: already made, not billed again"
_PAID_FORMULA = "paid for before: the render downloads it (or polls its job), not billed again"


def _r(x: float) -> float:
    """Round a dollar figure for JSON (float noise like 0.25920000000000004 helps nobody)."""
    return round(float(x), 6)


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _rate(x: float) -> str:
    return f"${x:g}"


# ====================================================================== data types
@dataclass(frozen=True)
class CallEstimate:
    """One provider call's price, with the formula and its inputs so it can be checked."""

    stage: CallStage
    provider: str
    model: str
    usd: float
    formula: str
    inputs: dict[str, Any] = field(default_factory=dict)
    free: bool = False
    #: how much more than `usd` the budget gate holds for the call (its hold, the most
    #: it can bill: `*_hold`): a budget of just the estimate cannot take the last call
    held_above: float = 0.0

    @property
    def done(self) -> bool:
        """Already made by an earlier run (a resumed run does not pay for it again)."""
        return bool(self.inputs.get("done"))

    @property
    def same_as(self) -> str | None:
        """The earlier scene whose very same request this is: bought once, for both."""
        same = self.inputs.get("same_as")
        return same if isinstance(same, str) else None

    @property
    def payable(self) -> bool:
        """Whether this call would spend money if the run went ahead."""
        return not self.free and not self.done and self.same_as is None

    @property
    def maybe(self) -> str | None:
        """Why the render may not buy this call after all (`_as_maybe`), or None: what
        decides it is known only during the render, so it is counted, at most."""
        why = self.inputs.get("maybe")
        return why if isinstance(why, str) else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "provider": self.provider,
            "model": self.model,
            "usd": _r(self.usd),
            "formula": self.formula,
            "inputs": dict(self.inputs),
            "free": self.free,
            "done": self.done,
            "maybe": self.maybe,
        }


@dataclass(frozen=True)
class SceneEstimate:
    """One scene: its keyframe and its clip. `seconds` is the billed (snapped) length."""

    scene_id: str
    goal: int
    seconds: float
    keyframe: CallEstimate
    video: CallEstimate
    category: str = ""
    #: the scene's own seconds (plan.yaml's), which the movie shows it for: a clip of
    #: another length is cut or holds its last frame (`estimate`'s movie length)
    shown_seconds: float | None = None

    @property
    def total(self) -> float:
        return self.keyframe.usd + self.video.usd

    @property
    def same_as(self) -> str | None:
        """The earlier scene this one takes all it needs from (the very same requests,
        bought once: `_as_same`), when it buys nothing of its own: the storyboard says
        "as scene N" there, where "free" would read as if it cost nothing to make."""
        if self.total > 0:
            return None
        return self.video.same_as or self.keyframe.same_as

    def as_dict(self) -> dict[str, Any]:
        return {
            "scene_id": self.scene_id,
            "goal": self.goal,
            "category": self.category,
            "seconds": _num(self.seconds),
            "keyframe": self.keyframe.as_dict(),
            "video": self.video.as_dict(),
            "total": _r(self.total),
        }


@dataclass(frozen=True)
class RunEstimate:
    """The whole run still to do. `planner` is None when the plan is already made."""

    planner: CallEstimate | None
    scenes: list[SceneEstimate]
    currency: str = CURRENCY
    #: what the run's ledger already counts (billed, or held for calls not settled),
    #: earlier renders' included: the budget counts it, so the spend question says it
    spent: float = 0.0
    #: what the person must know before agreeing, said under the table: a clip bought
    #: again while an earlier request of it may have made a job that bills and cannot
    #: be found (`pipeline.unfindable_notes`)
    notes: tuple[str, ...] = ()
    #: `render --fresh`: the most of `total` the clip jobs it carries from the run it
    #: set aside (in flight, paid there) may save: a scene whose new plan and keyframe
    #: ask for the very clip one is making takes it instead of a new clip. Not taken off
    #: `total`: whether they do is known only once the keyframe is made, and a question
    #: that counted it and was wrong would have the render spend more than agreed to
    carried_may_cover: float = 0.0
    #: the render's second question: the plan just made costs more than the first one
    #: priced (`Pipeline._ask_again_for_the_plan`). The confirmer says how it decides
    #: it (asked, or gone ahead under --yes or a --budget): the pipeline cannot know
    again: bool = False

    def calls(self) -> Iterator[CallEstimate]:
        """Every call of the run, planner first."""
        if self.planner is not None:
            yield self.planner
        for s in self.scenes:
            yield s.keyframe
            yield s.video

    @property
    def total(self) -> float:
        return sum(c.usd for c in self.calls())

    @property
    def most_held(self) -> float:
        """The least budget left that surely lets the run finish at its cap (`spent` aside).

        The gate counts each call at its hold, so the last call needs its hold on top of
        what the calls before it billed, each of which may have billed up to its own
        hold: the estimate plus every call's most above it, the plan's too (it may bill
        up to its hold, Claude writing long, and the calls after it then find that much
        less room: a budget doctor called enough stopped the render after its plan, at
        its first keyframe, estimates audit). A budget of exactly the estimate stopped the
        render before its last clip, unwarned; one of the estimate and the most ONE call
        is held above it was "enough" by doctor and stopped (exit 3) when every Seedance
        clip billed its extra frame (a paid keyframe's clip then left unmade).
        """
        above = sum(c.held_above for s in self.scenes for c in (s.keyframe, s.video) if c.usd > 0)
        plan = (
            self.plan_hold - self.planner.usd
            if self.planner is not None and self.plan_hold
            else 0.0
        )
        return max(self.total + above + plan, self.plan_hold)

    @property
    def plan_hold(self) -> float:
        """What the cap counts the plan call at, the run's first (its whole hold: Claude's
        max_tokens, and a repair); 0.0 when no paid plan is to be made. A budget under it
        stops the render before anything is made."""
        plan = self.planner
        return plan.usd + plan.held_above if plan is not None and plan.usd > 0 else 0.0

    @property
    def paid(self) -> bool:
        """Any call that would spend money: false for the local preset and for a remote
        run whose every paid step is already done (nothing to confirm)."""
        return any(c.payable for c in self.calls())

    def upto(self, until: str) -> RunEstimate:
        """What a run that stops after `until` ("plan", "keyframes", ...) spends: the
        later stages' calls cost nothing in it (they are shown as not in this run)."""
        if until == "plan":
            return replace(self, scenes=[])
        if until == "keyframes":
            return replace(
                self, scenes=[replace(s, video=_not_this_run(s.video)) for s in self.scenes]
            )
        return self

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": _r(self.total),
            "paid": self.paid,
            "planner": self.planner.as_dict() if self.planner is not None else None,
            "scenes": [s.as_dict() for s in self.scenes],
        }


# ====================================================================== settings -> models
def stage_spec(settings: Settings, stage: CatalogStage) -> ModelSpec | None:
    """The catalog row the provider will use for `stage`, or None for the free local one.

    Same resolution as the providers (`catalog.resolve` with the stage's `model`), so a
    model the catalog does not know raises the same InvalidRequest before any spend.
    """
    provider = settings.stage_provider(stage)
    if provider == "local":
        return None
    chosen: str | None = getattr(settings, stage).model
    return catalog.resolve(provider, stage, chosen)


def clip_settings_fix(settings: Settings) -> str:
    """What to do about `clip_settings_problem` (render's refusal and doctor's row say
    it): the setting refused, or another video model. It named all three settings and
    --aspect / --resolution, which `plan` has not, and of a refused video.audio it said
    to change the aspect and resolution too (options audit)."""
    spec = stage_spec(settings, "video")
    culprit = _clip_culprit(settings, spec) if spec is not None else "video.model"
    if culprit == "video.audio":
        return "set video.audio to false, or pick another video.model"
    if culprit == "video.model":
        return "pick another video.model"
    return f"change {culprit} to one the model makes, or pick another video.model"


def clip_settings_problem(settings: Settings) -> str | None:
    """Why no clip of the video model can be made with these settings (output.aspect,
    output.resolution, video.audio: every scene asks the same), or None. `render`
    refuses to start on it and `doctor` fails on it, before anything is paid for."""
    spec = stage_spec(settings, "video")
    if spec is None:
        return None
    try:
        catalog.validate_video(
            spec,
            catalog.snap_seconds(spec, settings.plan.scene_seconds),  # each scene's own
            settings.output.resolution,
            settings.output.aspect,
            settings.video.audio,
        )
    except InvalidRequest as e:
        return f"{_clip_culprit(settings, spec)}: {e.message}"
    return None


def _clip_culprit(settings: Settings, spec: ModelSpec) -> str:
    """The setting that `validate_video` refused first, to lead the message: it began
    "settings: veo-3-1-fast: resolution 480p not allowed", and so was not told where the
    person wrote `resolution: 480p` (the CLI's `_located` finds a leading setting)."""
    cap = spec.capabilities
    if cap.resolutions and settings.output.resolution not in cap.resolutions:
        return "output.resolution"
    if cap.ratios and settings.output.aspect not in cap.ratios:
        return "output.aspect"
    if settings.video.audio and not cap.audio:
        return "video.audio"
    return "video.model"


def plan_options(settings: Settings) -> PlanOptions:
    """The planner's options, with the video model's allowed durations so the scene
    seconds are the ones the clips will be made (and billed) at."""
    spec = stage_spec(settings, "video")
    return PlanOptions(
        scene_seconds=settings.plan.scene_seconds,
        scenes_per_goal=settings.plan.scenes_per_goal,
        allowed_seconds=catalog.allowed_seconds(spec) if spec is not None else None,
    )


def _local(stage: CallStage, inputs: dict[str, Any] | None = None) -> CallEstimate:
    return CallEstimate(
        stage=stage,
        provider="local",
        model=LOCAL_MODELS[stage],
        usd=0.0,
        formula="local: free",
        inputs=dict(inputs or {}),
        free=True,
    )


# ====================================================================== formulas
def _video_price(
    spec: ModelSpec,
    *,
    seconds: float,
    resolution: str,
    ratio: str,
    audio: bool,
    service_tier: str | None,
    tokens: int | None = None,
) -> tuple[float, str, dict[str, Any]]:
    """(usd, formula text, inputs) for one clip; `tokens` is the provider's usage if known."""
    price = spec.price
    audio = bool(audio) and spec.capabilities.audio
    if price.formula == "tokens_video":
        width, height = catalog.output_pixels(spec, resolution, ratio)
        fps = price.fps or 24
        estimated = catalog.video_tokens(width, height, fps, seconds)
        n = estimated if tokens is None else int(tokens)
        base = (
            price.rates["audio_on"]
            if audio and "audio_on" in price.rates
            else price.rates["audio_off"]
        )
        factor = price.rates.get("flex", 1.0) if service_tier == "flex" else 1.0
        rate = base * factor
        usd = price.video_usd(
            seconds=seconds,
            width=width,
            height=height,
            audio=audio,
            tier=service_tier,
            tokens=n,
        )
        if tokens is None:
            text = (
                f"{width}×{height} px × {fps} fps × {_num(seconds)} s / 1024 = {n:,} tokens"
                f" × {_rate(base)}/1M tokens"
            )
        else:
            text = f"{n:,} tokens (reported) × {_rate(base)}/1M tokens"
        if factor != 1.0:
            text += f" × {factor:g} ({service_tier} tier)"
        text += f", audio {'on' if audio else 'off'}"
        inputs: dict[str, Any] = {
            "width": width,
            "height": height,
            "fps": fps,
            "seconds": _num(seconds),
            "tokens": n,
            "rate_per_mtok": rate,
            "list_rate_per_mtok": base,
            "tier_factor": factor,
            "audio": audio,
            "service_tier": service_tier,
        }
        return usd, text, inputs
    if price.formula == "per_second":
        key = resolution.lower()
        found = (
            price.rates.get(key)
            if audio
            else price.rates.get(f"{key}_no_audio", price.rates.get(key))
        )
        per_s = found if found is not None else max(price.rates.values())
        usd = price.video_usd(seconds=seconds, resolution=resolution, audio=audio)
        text = (
            f"{_num(seconds)} s × {_rate(per_s)}/s ({resolution}, audio {'on' if audio else 'off'})"
        )
        if found is None:
            text += f"; no price for {resolution}, the highest rate assumed"
        elif not audio and spec.capabilities.audio and f"{key}_no_audio" not in price.rates:
            # (Veo 3.0: no audio-off figure known; the text read as a sourced one)
            text += "; no audio-off price known, the rate with audio assumed"
        inputs = {
            "seconds": _num(seconds),
            "resolution": resolution,
            "audio": audio,
            "rate_per_second": per_s,
        }
        return usd, text, inputs
    raise ValueError(f"{spec.key}: not a video price formula: {price.formula}")


def _image_price(spec: ModelSpec, count: int) -> tuple[float, str, dict[str, Any]]:
    rate = spec.price.rates["image"]
    usd = spec.price.image_usd(count)
    return usd, f"{count} image × {_rate(rate)}/image", {"images": count, "rate_per_image": rate}


# ====================================================================== estimates
def estimate_keyframe(
    settings: Settings,
    prompt: str | None = None,
    photo_sizes: Sequence[tuple[int, int] | None] = (),
) -> CallEstimate:
    """One scene's keyframe: one image (Seedream is sent with sequential generation off).

    A token-priced image (Gemini) also bills its input: `prompt` (the text it is sent,
    `gemini_keyframe_text`) and the photos sent with it (`photo_sizes`, their pixels,
    None where unknown) are counted at the model's input price, so the estimate is about
    what is billed; without a prompt only the image is counted (no scene to price)."""
    spec = stage_spec(settings, "keyframes")
    if spec is None:
        return _local("keyframe", {"images": 1})
    usd, text, inputs = _image_price(spec, 1)
    rate_in = spec.price.rates.get("input_per_mtok")
    if rate_in is not None and prompt is not None:
        per_image = int(spec.price.rates.get("tokens_per_image", 1290))
        tokens = gemini_text_tokens(prompt) + sum(
            gemini_image_tokens(size) if size is not None else per_image for size in photo_sizes
        )
        usd += tokens * rate_in / 1_000_000
        text += f" + {tokens:,} input tokens × {_rate(rate_in)}/M"
        inputs = {**inputs, "input_tokens": tokens, "rate_input_per_mtok": rate_in}
    return CallEstimate("keyframe", spec.provider, spec.key, usd, text, inputs)


def gemini_keyframe_text(prompt: str, style: str | None, *, source: bool, photos: int) -> str:
    """The text a Gemini keyframe call is sent (`GeminiKeyframes._parts` sends this very
    text, so what the estimate counts is what is billed)."""
    text = prompt + (f"\nStyle: {style}" if style else "")
    if source:
        return text + "\nRestyle the first attached photo into this scene, keeping its subject."
    if photos:
        return text + "\nUse the attached photo(s) as the likeness reference for the people."
    return text


def gemini_text_tokens(text: str) -> int:
    """Gemini's count of a text part, at ~4 characters a token (Google's token guide)."""
    return max(1, len(text) // 4)


def request_keyframe_estimate(
    settings: Settings,
    prompt: str,
    style: str | None,
    reference_photos: Sequence[str | Path],
    source: Path | None = None,
) -> CallEstimate:
    """`estimate_keyframe` for one keyframe request: its prompt and the photos the model
    is sent (the reference photos up to the model's limit, and `source`, the photo an
    edit model restyles). Photos are read (headers only) just for a token-priced model."""
    spec = stage_spec(settings, "keyframes")
    if spec is None or "input_per_mtok" not in spec.price.rates:
        return estimate_keyframe(settings)
    from mindmovie.fsutil import expanded
    from mindmovie.goals import photo_pixels

    refs = [expanded(str(p)) for p in reference_photos]
    sent, _ = catalog.references_sent(spec, refs, source_photo=source is not None)
    photos = ([source] if source is not None else []) + sent
    text = gemini_keyframe_text(prompt, style, source=source is not None, photos=len(photos))
    pixels = [photo_pixels(p) for p in photos]
    est = estimate_keyframe(settings, text, pixels)
    hold = keyframe_hold(settings, len(photos), [p for p in pixels if p is not None])
    return replace(est, held_above=max(0.0, hold - est.usd))


def text_keyframe_settings(settings: Settings) -> Settings | None:
    """Settings for the keyframes of scenes an edit model cannot take, or None.

    An edit model (SeedEdit: `image_required`) restyles a goal's own photo; a scene with
    no photo of its own gets its keyframe from the same provider's default text-to-image
    model instead (the rest of the settings unchanged), rather than failing.
    """
    spec = stage_spec(settings, "keyframes")
    if spec is None or not spec.capabilities.image_required:
        return None
    fallback = catalog.resolve(spec.provider, "keyframes", None)
    if fallback.capabilities.image_required:
        return None
    kf = settings.keyframes.model_copy(update={"model": fallback.key})
    return settings.model_copy(update={"keyframes": kf})


def estimate_video(settings: Settings, seconds: float) -> CallEstimate:
    """One clip at the duration, resolution, ratio, audio and tier the provider is sent.

    `seconds` is snapped to the model's allowed durations as the planner does (Veo: 4, 6
    or 8 s, so a 12 s scene is an 8 s clip and billed as 8 s). Audio is priced only when
    the model has it; `video.options.service_tier: flex` applies the catalog's discount.
    """
    spec = stage_spec(settings, "video")
    if spec is None:
        return _local("video", {"seconds": _num(seconds)})
    snapped = catalog.snap_seconds(spec, seconds)
    tier_opt = settings.video.options.get("service_tier")
    tier = str(tier_opt) if tier_opt else None
    usd, text, inputs = _video_price(
        spec,
        seconds=snapped,
        resolution=settings.output.resolution,
        ratio=settings.output.aspect,
        audio=settings.video.audio,
        service_tier=tier,
    )
    if float(snapped) != float(seconds):
        inputs["requested_seconds"] = _num(seconds)
        text += f" (scene asks {_num(seconds)} s; {spec.key} makes {_num(snapped)} s)"
    inputs["ratio"] = settings.output.aspect
    return CallEstimate("video", spec.provider, spec.key, usd, text, inputs)


def planner_tokens(goals: Goals, options: PlanOptions) -> tuple[int, int, int]:
    """(input tokens, output tokens, prompt chars) of one planner call, estimated.

    Input: the real system prompt, user message and tool schema the Claude planner sends,
    at CHARS_PER_TOKEN, plus the tool-use overhead. Output: OUTPUT_TOKENS_BASE +
    OUTPUT_TOKENS_PER_SCENE per scene. A repair call (only when scenes come back invalid)
    is not counted.
    """
    from mindmovie.providers.anthropic import (
        SYSTEM_PROMPT,
        build_prompt,
        plan_tool_schema,
        scene_counts,
    )

    counts = scene_counts(goals, options)
    total = sum(counts)
    tool = {
        "name": "emit_plan",
        "description": "Return the complete mind-movie plan.",
        "input_schema": plan_tool_schema(len(counts), total, options.allowed_seconds),
    }
    chars = (
        len(SYSTEM_PROMPT)
        + len(build_prompt(goals, options))
        + len(json.dumps(tool, ensure_ascii=False))
    )
    input_tokens = math.ceil(chars / CHARS_PER_TOKEN) + TOOL_USE_OVERHEAD_TOKENS
    output_tokens = OUTPUT_TOKENS_BASE + OUTPUT_TOKENS_PER_SCENE * total
    return input_tokens, output_tokens, chars


def estimate_planner(settings: Settings, goals: Goals) -> CallEstimate:
    """The planner call: estimated tokens (see `planner_tokens`) at the model's rates."""
    spec = stage_spec(settings, "planner")
    if spec is None:
        return _local("planner")
    options = plan_options(settings)
    input_tokens, output_tokens, chars = planner_tokens(goals, options)
    scenes = sum(g.scenes or max(1, options.scenes_per_goal) for g in goals.goals)
    from mindmovie.providers.anthropic import configured_max_tokens, planner_max_tokens

    # (no answer is billed past its max_tokens: 180 scenes were priced at 45,100 output
    # tokens of a call that asked for 16,000, and a budget that fits the call refused)
    most = configured_max_tokens(settings.planner.options) or planner_max_tokens(scenes)
    output_tokens = min(output_tokens, most)
    rates = spec.price.rates
    usd = spec.price.tokens_usd(input_tokens, output_tokens)
    text = (
        f"~{input_tokens:,} input tokens × {_rate(rates['input'])}/1M + "
        f"~{output_tokens:,} output tokens × {_rate(rates['output'])}/1M"
    )
    inputs: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "rate_in": rates["input"],
        "rate_out": rates["output"],
        "prompt_chars": chars,
        "scenes": scenes,
        "output_tokens_per_scene": OUTPUT_TOKENS_PER_SCENE,
    }
    return CallEstimate("planner", spec.provider, spec.key, usd, text, inputs)


# ---------------------------------------------------------------------------- holds
# What the budget gate holds for a call in flight: the most it can bill, which may be a
# little above its estimate. The gate counts holds, so real bills stay under the cap.

#: input tokens of a Gemini image call beyond the images: the prompt, generously
GEMINI_PROMPT_TOKENS = 2000


def planner_hold(settings: Settings, goals: Goals) -> float:
    """A plan call billed at its max_tokens of output, and input half again above the
    estimate plus a full first answer (what a repair call sends back)."""
    spec = stage_spec(settings, "planner")
    if spec is None:
        return 0.0
    from mindmovie.providers.anthropic import (
        configured_max_tokens,
        planner_max_tokens,
        scene_counts,
    )

    options = plan_options(settings)
    input_tokens, _, _ = planner_tokens(goals, options)
    configured = configured_max_tokens(settings.planner.options)
    max_out = configured or planner_max_tokens(sum(scene_counts(goals, options)))
    return spec.price.tokens_usd(math.ceil(input_tokens * 1.5) + max_out, max_out)


def planner_least(settings: Settings, goals: Goals) -> float:
    """The least a plan call bills: its prompt's input tokens as `planner_tokens` counts
    them, without the tool-use overhead and with no answer. Claude bills more (its own
    tool-use system prompt, and the plan it writes), and so does the simulator; doctor's
    budget floor counts the plan at this, to fail only a budget under which no movie can
    be made whatever the plan bills."""
    spec = stage_spec(settings, "planner")
    if spec is None:
        return 0.0
    _, _, chars = planner_tokens(goals, plan_options(settings))
    return spec.price.tokens_usd(math.ceil(chars / CHARS_PER_TOKEN), 0)


#: Gemini's count of an image sent in: 258 tokens for one of at most 384 px a side, else
#: 258 a 768 x 768 tile (Google's token guide for Gemini 2.x; later models count a
#: fixed ~1,100 an image, under `tokens_per_image`)
GEMINI_IMAGE_TILE, GEMINI_TILE_TOKENS, GEMINI_SMALL_SIDE = 768, 258, 384


def gemini_image_tokens(size: tuple[int, int]) -> int:
    """Input tokens Gemini may count for an image of `size` pixels sent whole."""
    w, h = size
    if w <= GEMINI_SMALL_SIDE and h <= GEMINI_SMALL_SIDE:
        return GEMINI_TILE_TOKENS
    tiles = -(-w // GEMINI_IMAGE_TILE) * -(-h // GEMINI_IMAGE_TILE)
    return tiles * GEMINI_TILE_TOKENS


def keyframe_hold(
    settings: Settings, images_in: int, sizes: Sequence[tuple[int, int]] = ()
) -> float:
    """Flat per-image prices are exact; a token-priced image (Gemini) also bills its input:
    the prompt and `images_in` reference/source images at up to tokens_per_image each, or
    what its tiles count when more (`sizes`: the images' pixels, where known; a 12 MP
    phone photo is 24 tiles, 6,192 tokens, which a hold of 1,290 did not cover)."""
    est = estimate_keyframe(settings)
    spec = stage_spec(settings, "keyframes")
    if spec is None:
        return est.usd
    rates = spec.price.rates
    if "input_per_mtok" not in rates:
        return est.usd
    per_image = int(rates.get("tokens_per_image", 1290))
    counted = [max(per_image, gemini_image_tokens(size)) for size in sizes[: max(0, images_in)]]
    tokens = GEMINI_PROMPT_TOKENS + sum(counted) + per_image * max(0, images_in - len(counted))
    return est.usd + tokens * rates["input_per_mtok"] / 1_000_000


def video_hold(settings: Settings, seconds: float) -> float:
    """Seedance may count one frame more than fps x seconds (a 5 s 720p example bills
    108,900 tokens = 121 frames): hold one more frame's tokens. Per-second prices are exact."""
    est = estimate_video(settings, seconds)
    fps, secs = est.inputs.get("fps"), est.inputs.get("seconds")
    if "tokens" not in est.inputs or not fps or not secs:
        return est.usd
    frames = float(fps) * float(secs)
    return est.usd * (frames + 1) / frames


#: the table's cell for a call a run stopping early (`render --until keyframes`) leaves
#: for later: "free" there, under a paid video model, read as if video cost nothing
LATER = "later"


def _not_this_run(call: CallEstimate) -> CallEstimate:
    return replace(
        call,
        usd=0.0,
        free=True,
        formula="not in this run (it stops before this stage)",
        inputs={**call.inputs, "later": True},
    )


def _as_done(call: CallEstimate, *, paid: bool = False) -> CallEstimate:
    """`call` made before: costs nothing. `paid`: paid for and not yet in the run (a
    result to download, a job to poll), shown "paid", not "done"."""
    if paid:
        inputs = {**call.inputs, "done": True, "fetch": True}
        return replace(call, usd=0.0, formula=_PAID_FORMULA, inputs=inputs)
    return replace(call, usd=0.0, formula=_DONE_FORMULA, inputs={**call.inputs, "done": True})


def _as_maybe(call: CallEstimate, why: str) -> CallEstimate:
    """A call the render may find it need not buy (`why`), which only the render can
    tell: counted at its price, the most it spends (counted at nothing, a render that
    must buy it after all would spend past the estimate agreed to), and said so."""
    return replace(
        call,
        formula=f"up to {format_usd(call.usd)}: {why}; {call.formula}",
        inputs={**call.inputs, "maybe": why},
    )


#: a clip the render does not send: its request refused whole (`Outlook.refused`)
REFUSED = "refused"


def _as_refused(call: CallEstimate) -> CallEstimate:
    """A keyframe or clip the content filter refused as planned and as its fallback (or
    the clip of such a keyframe): the render does not send them again
    (`pipeline.refused_whole`), so it costs nothing here. It was counted, the spend
    question asked to pay it, and the render then sent nothing."""
    return replace(
        call,
        usd=0.0,
        free=True,
        formula="not sent: refused by the content filter as planned and as its fallback",
        inputs={**call.inputs, REFUSED: True},
    )


def _as_same(call: CallEstimate, scene_id: str) -> CallEstimate:
    return replace(
        call,
        usd=0.0,
        formula=f"the very same request as scene {scene_id}'s: bought once, for both",
        inputs={**call.inputs, "same_as": scene_id},
    )


_CLIP_STAGES = ("clip", "video")
_KEYFRAME_STAGES = ("keyframe", "keyframes")


def scene_source_photo(
    goals: Goals, scenes: list[Scene], scene: Scene, *, by_place: bool = False
) -> Path | None:
    """The goal photo this scene is made from or edits (see `plan.source_photo`;
    `by_place`: the rule before 2026-12, `plan.source_photo_by_place`)."""
    goal = goals.goals[scene.goal - 1] if 0 < scene.goal <= len(goals.goals) else None
    if goal is None or not goal.photos:
        return None
    rule = source_photo_by_place if by_place else source_photo
    return rule(list(goal.photos), scenes, scene)


def estimate_run(
    settings: Settings,
    goals: Goals,
    plan: Plan | None = None,
    *,
    done: Collection[tuple[str, str]] = frozenset(),
    plan_done: bool | None = None,
    shared: Mapping[tuple[str, str], str] | None = None,
    maybe: Mapping[str, str] | None = None,
    paid: Collection[tuple[str, str]] = frozenset(),
    planner_goals: Goals | None = None,
    refused: Collection[tuple[str, str]] = frozenset(),
) -> RunEstimate:
    """What the run would still cost.

    Scenes come from `plan` (an edited plan.yaml) when given, else from the local
    planner's deterministic plan for these goals and settings: same scene ids and (snapped)
    seconds as the remote planner, with no paid call. `done` holds (scene_id, "keyframe" |
    "clip") steps already made; they cost 0 and are marked done. `plan_done` None means
    "done when a plan is given". `shared`: (scene_id, stage) -> the earlier scene that
    buys the very same request; it costs 0 here (`Pipeline._one_buyer`). `maybe`: scene
    id -> why the render may not buy its clip after all (`Outlook.maybe`): counted, and
    said so (`maybe_notes`). `paid`: the part of `done` paid for and still to download
    or poll (`Outlook.paid`): "paid" in the table, not "done". `planner_goals`: the
    goals the planner call is asked for when not all of `goals` (a paid plan made again
    only for the goals that changed, `Pipeline._partial_replan`). `refused`: the (scene,
    "keyframe" | "clip") calls the render does not send (`Outlook.refused`): nothing,
    said so.
    """
    shared = shared or {}
    maybe = maybe or {}
    scenes: list[Scene]
    if plan is not None:
        planned = plan
    else:
        from mindmovie.providers.local import build_plan

        planned = build_plan(goals, plan_options(settings))
    scenes = list(planned.scenes)
    if plan_done is None:
        plan_done = plan is not None
    asked = goals if planner_goals is None else planner_goals
    planner = None if plan_done else estimate_planner(settings, asked)
    if planner is not None and planner.usd > 0:
        planner = replace(planner, held_above=max(0.0, planner_hold(settings, asked) - planner.usd))
    finished = {(sid, stage) for sid, stage in done}
    keyframe = estimate_keyframe(settings)
    text_settings = text_keyframe_settings(settings)
    text_keyframe = estimate_keyframe(text_settings) if text_settings else keyframe
    rows: list[SceneEstimate] = []
    for sc in scenes:
        kf = keyframe
        if keyframe.payable:
            kf = request_keyframe_estimate(
                settings, sc.image_prompt, planned.style, sc.reference_photos
            )
        if text_settings is not None and scene_source_photo(goals, scenes, sc) is None:
            kf = text_keyframe  # no photo to edit: the text-to-image model makes it
        if any((sc.id, st) in finished for st in _KEYFRAME_STAGES):
            kf = _as_done(keyframe, paid=(sc.id, "keyframe") in paid)
        elif (sc.id, "keyframe") in shared:
            kf = _as_same(kf, shared[(sc.id, "keyframe")])
        elif (sc.id, "keyframe") in refused and kf.payable:
            kf = _as_refused(kf)
        video = estimate_video(settings, sc.seconds)
        if video.usd > 0:
            held = video_hold(settings, sc.seconds) - video.usd
            video = replace(video, held_above=max(0.0, held))
        if any((sc.id, st) in finished for st in _CLIP_STAGES):
            video = _as_done(video, paid=(sc.id, "clip") in paid)
        elif (sc.id, "clip") in shared:
            video = _as_same(video, shared[(sc.id, "clip")])
        elif (sc.id, "clip") in refused and video.payable:
            video = _as_refused(video)
        elif sc.id in maybe and video.payable:
            video = _as_maybe(video, maybe[sc.id])
        seconds = float(video.inputs.get("seconds", sc.seconds))
        rows.append(
            SceneEstimate(
                scene_id=sc.id,
                goal=sc.goal,
                seconds=seconds,
                keyframe=kf,
                video=video,
                category=sc.category,
                shown_seconds=float(sc.seconds),
            )
        )
    return RunEstimate(planner=planner, scenes=rows)


# ====================================================================== billed amounts
def _int(x: Any) -> int | None:
    if isinstance(x, bool) or x is None:
        return None
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def refused_usd(model_spec: ModelSpec | None, usage: Mapping[str, Any] | None) -> float | None:
    """What a call refused by the content filter bills, from the tokens its answer says
    were counted: a Gemini image blocked for safety (no image part) bills its prompt's
    and photos' input tokens, and any output it made, not the image. It was refunded,
    $0 on the ledger, under Google's bill. None when the answer counts no tokens or the
    model is not priced by them (the caller keeps its own rule)."""
    if model_spec is None or not usage:
        return None
    tin, tout = _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
    if tin is None and tout is None:
        return None
    price = model_spec.price
    if price.formula == "per_mtok":
        return price.tokens_usd(tin or 0, tout or 0, 0, 0)
    if "input_per_mtok" not in price.rates and "output_per_mtok" not in price.rates:
        return None
    return _rated_tokens_usd(price.rates, tin or 0, tout or 0)


def _rated_tokens_usd(rates: Mapping[str, float], in_tokens: int, out_tokens: int) -> float:
    """Tokens at a per-image model's token rates (a Gemini image's, per million)."""
    usd_in = in_tokens * rates.get("input_per_mtok", 0.0)
    return (usd_in + out_tokens * rates.get("output_per_mtok", 0.0)) / 1_000_000


def billed_usd(
    stage: str,
    model_spec: ModelSpec | None,
    usage: Mapping[str, Any] | None,
    *,
    seconds: float,
    resolution: str,
    ratio: str,
    audio: bool,
    service_tier: str | None = None,
) -> tuple[float, str]:
    """What one finished call cost: from the provider's reported usage when it has any
    (the bill is what the provider counted), else the same formula as the estimate.

    Returns (usd, "usage" | "formula"). `model_spec` None is a local call: (0.0,
    "formula"). Usage keys read: Seedance `completion_tokens` (and the task's own
    `duration`, `resolution`, `ratio`, `generate_audio`, `service_tier` over the
    arguments); Claude `input_tokens`, `output_tokens`, `cache_creation_input_tokens`,
    `cache_read_input_tokens`; images `output_tokens` for token-priced Gemini images, else
    `generated_images` (1 when absent). Veo reports no usage: always the formula. A planner
    call without usage has no formula here and returns (0.0, "formula").
    """
    if model_spec is None:
        return 0.0, "formula"
    u: Mapping[str, Any] = usage or {}
    price = model_spec.price
    if stage == "planner" or price.formula == "per_mtok":
        tin, tout = _int(u.get("input_tokens")), _int(u.get("output_tokens"))
        if tin is None and tout is None:
            return 0.0, "formula"
        usd = price.tokens_usd(
            tin or 0,
            tout or 0,
            _int(u.get("cache_creation_input_tokens")) or 0,
            _int(u.get("cache_read_input_tokens")) or 0,
        )
        return usd, "usage"
    if price.formula == "per_image":
        rates = price.rates
        out_tokens = _int(u.get("output_tokens"))
        if "output_per_mtok" in rates and out_tokens:
            in_tokens = _int(u.get("input_tokens")) or 0
            return _rated_tokens_usd(rates, in_tokens, out_tokens), "usage"
        count = _int(u.get("generated_images"))
        if count is not None:
            return price.image_usd(count), "usage"
        return price.image_usd(1), "formula"
    # video
    if price.formula == "tokens_video":
        tokens = _int(u.get("completion_tokens"))
        dur = _int(u.get("duration"))
        res = u.get("resolution")
        rat = u.get("ratio")
        gen_audio = u.get("generate_audio")
        tier = u.get("service_tier")
        usd, _, _ = _video_price(
            model_spec,
            seconds=dur if dur else seconds,
            resolution=res if isinstance(res, str) and res else resolution,
            ratio=rat if isinstance(rat, str) and rat else ratio,
            audio=gen_audio if isinstance(gen_audio, bool) else audio,
            service_tier=tier if isinstance(tier, str) and tier else service_tier,
            tokens=tokens,
        )
        return usd, ("usage" if tokens is not None else "formula")
    usd, _, _ = _video_price(
        model_spec,
        seconds=seconds,
        resolution=resolution,
        ratio=ratio,
        audio=audio,
        service_tier=service_tier,
    )
    return usd, "formula"


# ====================================================================== presentation
def format_usd(x: float, *, free: bool = False, exact: bool = False) -> str:
    """Dollars as a person reads them: "$0.13"; "$0.0040" below a cent (so a cheap call
    does not read as $0.00); "free" for a free zero (local), "$0.00" for one that is not.
    `exact`: to the hundredth of a cent, where cents would read a call that does not
    fit the budget as one that does ("budget left $0.10, about $0.10 still to do")."""
    if x == 0:
        return "free" if free else "$0.00"
    if abs(x) < 0.01 or exact:
        return f"${x:.4f}"
    return f"${x:,.2f}"


def round_usd(x: float, places: int, *, up: bool) -> float:
    """`x` rounded up or down (not to the nearest) to `places` decimals: a figure to set
    (rounded down, it would not be enough) or one said to be short of another."""
    step = 10.0**-places
    return (math.ceil(x / step - 1e-6) if up else math.floor(x / step + 1e-6)) * step


def format_usd_short(have: float, need: float, *also: float) -> tuple[str, ...]:
    """(`have`, `need`, *`also`) for a line saying `have` falls short of `need`: as
    `format_usd` shows them, unless that shows the two the same (a budget of $0.3587 for
    a $0.358714 run: "leaves $0.36 of the $0.36 this run would spend"); then to the
    fewest places (hundredths of a cent, else millionths of a dollar) at which `have`
    rounded down reads below `need` rounded up, with `also` (figures beside `have`, as
    the budget it is what is left of) rounded down as `have` is."""
    if format_usd(have) != format_usd(need):
        return (format_usd(have), format_usd(need), *map(format_usd, also))
    for places in (4, 6):
        low, high = round_usd(have, places, up=False), round_usd(need, places, up=True)
        if low < high or places == 6:
            break
    down = [round_usd(x, places, up=False) for x in also]
    return tuple(f"${x:,.{places}f}" for x in (low, high, *down))


def budget_enough(est: RunEstimate) -> float:
    """The --budget, to the cent above, that surely lets `est`'s run finish at its cap:
    what it spent already plus `RunEstimate.most_held`. Render's spend question and
    doctor's budget row name this one figure."""
    return math.ceil((est.spent + est.most_held) * 100 - 1e-6) / 100


def budget_short(est: RunEstimate, budget: float | None) -> str | None:
    """What render says up front, under its estimate, of a `budget` its run may not
    finish within (`est.spent`, what the run spent already, counted), or None when it
    surely finishes. One text for both: `render`'s spend question says it, and `doctor
    GOALS` fails its budget row with it, so the two tell the person the same thing.

    A budget below the plan's hold: it stops before the plan, its first call, having
    made nothing. Else below the estimate: the render stops at the cap, part of the
    movie made. Else (about the
    estimate): the cap counts each call at the most it may bill, so the last call may
    not fit."""
    left = max(0.0, budget - est.spent) if budget is not None else None
    if left is None or est.most_held <= left + 1e-9:
        return None
    # (set off by commas: "The budget $0.20, $0.17 of it spent already leaves $0.03" read
    # as if what was spent left it)
    spent = f", {format_usd(est.spent)} of it spent already," if est.spent > 0 else ""
    enough = budget_enough(est)
    if est.plan_hold > left + 1e-9:
        # the plan, the first call, is what does not fit: it was told as a clip's
        # extra frame "by the last call", of a render that stops before anything; and
        # of a budget under the estimate too, "it stops at the cap, keeping what is
        # paid for", of a render that could buy nothing
        return (
            f"The budget {format_usd(budget or 0.0, exact=True)}{spent} leaves "
            f"{format_usd(left, exact=True)} for the {format_usd(est.total, exact=True)} "
            "this run would spend, but the cap counts the plan at the most it may bill "
            "(Claude's answer at its max_tokens, and a repair): up to "
            f"{format_usd(est.plan_hold, exact=True)}. The render stops at the cap before "
            f"the plan, its first call; a --budget of {format_usd(enough)} finishes."
        )
    if est.total > left + 1e-9:
        # in cents a budget of $0.3587 for a $0.358714 run read "The budget $0.36
        # leaves $0.36 of the $0.36 this run would spend"
        shown_left, shown_total, shown_budget = format_usd_short(left, est.total, budget or 0.0)
        return (
            f"The budget {shown_budget}{spent} leaves {shown_left} "
            f"of the {shown_total} this run would spend: it stops at the cap, "
            "keeping what is paid for, and a render with a bigger --budget finishes."
        )
    # a budget of (about) the estimate: the cap counts each call at the most it may
    # bill (a clip's extra frame), so the last call did not fit and the render
    # stopped before it, exit 3, after a table that read as if the budget covered it
    return (
        f"The budget {format_usd(budget or 0.0, exact=True)}{spent} leaves "
        f"{format_usd(left, exact=True)} for the {format_usd(est.total, exact=True)} this "
        "run would spend, but the cap counts each call at the most it may bill (a "
        "Seedance clip one frame more, a Gemini image the input tokens it may count): "
        f"up to {format_usd(est.most_held, exact=True)} by the last call. The render may "
        "stop at the cap before that call, keeping what is paid for; a --budget of "
        f"{format_usd(enough)} finishes."
    )


def _cell(call: CallEstimate) -> str:
    if call.inputs.get("fetch"):
        return "paid"
    if call.done:
        return "done"
    if call.same_as is not None:
        return f"as {call.same_as}"
    if call.inputs.get("later"):
        return LATER
    if call.inputs.get(REFUSED):
        return REFUSED
    return format_usd(call.usd, free=call.free)


def _models_line(est: RunEstimate) -> str:
    """'planner anthropic/..., keyframe byteplus/..., video ...': every model a stage's
    calls are priced at (an edit model's scenes without a photo are Seedream's)."""
    seen: dict[str, dict[str, None]] = {}
    for c in est.calls():
        seen.setdefault(c.stage, {})[f"{c.provider}/{c.model}"] = None
    return ", ".join(f"{stage} {' and '.join(models)}" for stage, models in seen.items())


def packed(chunks: list[str], width: int) -> list[str]:
    """`chunks` one space apart in lines of at most `width`, broken only between chunks:
    wrapped by rich (or the terminal), a line a row split a pair from its amount
    ('keyframe' / '$0.03'). Also `status`'s line a scene.
    A chunk wider than the line is on a line of its own (rich folds it)."""
    lines: list[str] = []
    for chunk in chunks:
        if lines and len(lines[-1]) + 1 + len(chunk) <= width:
            lines[-1] += " " + chunk
        else:
            lines.append(chunk)
    return lines


#: below this many columns the estimate table drops its borders (`estimate_table`)
NARROW_TABLE = 64
#: the estimate table's columns
HEADS = ("scene", "seconds", "keyframe", "video", "total")


def estimate_table(est: RunEstimate, movie_seconds: float | None = None) -> Table:
    """One row per scene (scene, seconds, keyframe, video, total), a planner row, a total.
    `movie_seconds`: the movie's length, said under the table (`estimate`): the seconds
    column's total is the scenes' (35 s for the examples), and read as the movie's (33 s:
    the title and closing cards added, the crossfades overlapping)."""
    from rich import box
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table
    from rich.text import Text

    rows: list[tuple[str, ...]] = []

    class FittedTable(Table):
        """Without side borders and with one space between columns on a narrow terminal:
        boxed, at 40 columns the money columns were cut to '$0.…', the total too. Where
        not even the numbers and their heads fit beside an id of 8 (COLUMNS=30: 'sec…';
        20: 'f…' for free), a line a row, each value named."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            numbers = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEADS)]
            if 8 + sum(numbers[1:]) + len(numbers) - 1 > options.max_width:
                yield Text(str(self.title))
                for r in rows:
                    named = [f"{h} {v}" for h, v in zip(HEADS[1:], r[1:], strict=True) if v]
                    chunks = [f"{r[0]}:", *(f"{n}," for n in named[:-1]), *named[-1:]]
                    for line in packed(chunks, options.max_width):
                        yield Text(line)
                yield Text(str(self.caption))
                return
            if options.max_width < NARROW_TABLE:
                # one space between columns (the box's blank divider; no padding, no
                # edges): with padding beside it too, 'keyframe' was cut to 'keyfr…' at 40
                self.box, self.show_edge, self.padding = box.SIMPLE_HEAD, False, (0, 0)
            # the caption under the table, wrapped at the width there is: as the table's
            # own it wrapped at the table's (~59 columns in a pipe, a note in 6 lines)
            caption, self.caption = self.caption, None
            try:
                yield from super().__rich_console__(console, options)
            finally:
                self.caption = caption
            if caption:
                yield Text(str(caption), style="table.caption")

    table = FittedTable(
        title=f"Estimated cost ({est.currency})", title_justify="left", caption_justify="left"
    )
    # folded, not ellipsed: a long id (a category of 60+ letters) lost its -1/-2/-3
    # suffix at 80 columns, so a goal's scenes read as one id three times
    table.add_column("scene", overflow="fold")
    for head in HEADS[1:]:
        table.add_column(head, justify="right")
    rows.append(("plan", "", "", "", _cell(est.planner) if est.planner is not None else "done"))
    table.add_row(*rows[-1], end_section=True)
    for s in est.scenes:
        all_free = s.keyframe.free and s.video.free
        all_done = s.keyframe.done and s.video.done
        to_fetch = s.keyframe.inputs.get("fetch") or s.video.inputs.get("fetch")
        total = ("paid" if to_fetch else "done") if all_done else format_usd(s.total, free=all_free)
        rows.append((s.scene_id, f"{s.seconds:g}", _cell(s.keyframe), _cell(s.video), total))
        table.add_row(*rows[-1])
    free = not any(not c.free for c in est.calls())
    table.add_section()
    secs = sum(s.seconds for s in est.scenes)
    rows.append(("total", f"{secs:g}", "", "", format_usd(est.total, free=free)))
    table.add_row(*rows[-1], style="bold")
    checked = catalog.catalog_checked_date().isoformat()
    age = catalog.catalog_age_days()
    # a render resumed months after the install: the question showed only the date, and
    # only `doctor` said the prices were stale
    stale = (
        f", {age} days ago: prices may have changed since; check the providers' "
        "current prices before paying"
        if age > catalog.STALE_DAYS
        else ""
    )
    movie = ""
    if movie_seconds is not None:
        # (the scenes' seconds as the movie shows them: plan.yaml's, not their clips')
        shown = sum(s.seconds if s.shown_seconds is None else s.shown_seconds for s in est.scenes)
        movie = (
            f"\nThe movie: {round(movie_seconds, 1):g} s (the scenes' {shown:g} s, with the "
            "title and closing cards, less the crossfades)."
        )
    table.caption = (
        (
            f"{_models_line(est)}. Catalog prices (checked {checked}{stale}); billed amounts "
            "may differ."
        )
        + movie
        + "".join(f"\nNote: {n}" for n in est.notes)
    )
    return table


def maybe_notes(est: RunEstimate) -> tuple[str, ...]:
    """What the table says under it of each call counted that the render may not buy
    (`CallEstimate.maybe`): the table priced such a clip as a new purchase, with no word
    that the render may take it for nothing."""
    refused = tuple(
        f'{s.scene_id}: its keyframe and clip are not sent ("{REFUSED}"): the content '
        "filter refused its keyframe as planned and as its fallback; reword its "
        "image_prompt in plan.yaml to have them made"
        if s.keyframe.inputs.get(REFUSED)
        else f'{s.scene_id}: its clip is not sent ("{REFUSED}"): the content filter refused '
        "it as planned and as its fallback; reword its motion_prompt (or its keyframe's "
        "image_prompt) in plan.yaml to have it made"
        for s in est.scenes
        if s.video.inputs.get(REFUSED) or s.keyframe.inputs.get(REFUSED)
    )
    return refused + tuple(
        f"{s.scene_id}: its {c.stage} is counted ({format_usd(c.usd)}) but may not be "
        f"bought: {c.maybe}"
        for s in est.scenes
        for c in (s.keyframe, s.video)
        if c.maybe is not None and c.payable
    )


def estimate_json(est: RunEstimate) -> dict[str, Any]:
    """The estimate as JSON: the table's numbers plus each row's formula and its inputs."""
    out = est.as_dict()
    out["scene_count"] = len(est.scenes)
    out["seconds"] = _num(sum(s.seconds for s in est.scenes))
    out["catalog_checked"] = catalog.catalog_checked_date().isoformat()
    # what the table's "Note:" lines say (a lost request that may bill): a script reading
    # the JSON to decide whether to render was not told
    out["notes"] = list(est.notes)
    return out
