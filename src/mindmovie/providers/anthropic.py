"""Claude planner: goals -> plan through one forced tool call (structured output).

LLM structured output is sometimes wrapped (`{"output": {...}}`) and one bad scene must
not discard the whole plan, so each scene is validated on its own and the bad ones are
named in ONE repair call. What the person wrote is never overridden by the model: their
affirmation (verbatim on the goal's first scene), their photos and their scene counts
are enforced after parsing, and scene ids are ours, deterministic like the local planner.

The SDK's own retries are off (`max_retries=0`): mindmovie.retry owns that policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mindmovie import catalog
from mindmovie.config import KEY_VARIABLES, ConfigError, Keys, Settings
from mindmovie.fsutil import slugify
from mindmovie.goals import MAX_TEXT, Goal, Goals
from mindmovie.plan import DEFAULT_CLOSING, Plan, PromptText, Scene, Seconds, ShownText
from mindmovie.providers.base import (
    AuthError,
    ConnectionLost,
    InvalidRequest,
    JobFailed,
    PlanOptions,
    ProviderError,
    RateLimited,
    Transient,
    answer_text,
    busy_advice,
    close_loop_client,
    connection_failed,
    rate_limit_advice,
    shared_tls,
    unknown_options,
)
from mindmovie.retry import retry_after_seconds
from mindmovie.yamlsrc import control_character, given_text, is_blank, without_control

if TYPE_CHECKING:
    import anthropic

PROVIDER = "anthropic"
TOOL_NAME = "emit_plan"
#: The token counts of a Messages answer's usage, each billed (costs.billed_usd): cache
#: writes and reads at their own rates. `last_usage` sums all four over a plan's calls;
#: it summed input and output only, so a prompt that hit the cache was billed short.
USAGE_TOKENS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
#: stop reasons of an answer cut before its end: its tool input is only a part of the plan
CUT_STOP_REASONS = ("max_tokens", "model_context_window_exceeded")
#: affirmations longer than this do not fit on screen at a readable size
MAX_AFFIRMATION = 90

SYSTEM_PROMPT = """\
You plan a "mind movie": a short film of cinematic scenes that shows a person living \
their goals as already achieved, one affirmation on screen per scene.

For every scene write:
- affirmation: first person, present tense, positive, specific to the goal, at most \
90 characters, no quotes ("I run my first marathon with ease"), in the language the \
person wrote that goal in (it is shown on screen as written).
- image_prompt: one photorealistic keyframe: who (the person as described), where, what \
they are doing, light, mood, framing. Concrete and visual. No text, captions or logos in \
the picture. In English, as is the motion_prompt.
- motion_prompt: how that keyframe comes alive in a few seconds of video: camera move \
(slow push-in, gentle pan...) and natural subject motion. Smooth, no cuts.
- seconds: the clip length, one of the allowed values.
- goal: the 1-based number of the goal the scene belongs to.

Give each goal exactly the number of scenes asked for, in goal order. Vary the shots \
(wide, medium, close-up) within a goal. Call the emit_plan tool with the whole plan."""


# ---------------------------------------------------------------- LLM output schema
class _LLMScene(BaseModel):
    """One scene as the model must give it; validated on its own so one bad scene is named.
    Its text and seconds by plan.yaml's own rules (`ShownText`, `PromptText`, `Seconds`): a scene
    taken here and refused in plan.yaml (a control character) failed the next render."""

    model_config = ConfigDict(extra="ignore")

    goal: int = Field(ge=1)
    affirmation: ShownText
    image_prompt: PromptText
    motion_prompt: PromptText
    seconds: Seconds

    @field_validator("affirmation", "image_prompt", "motion_prompt", mode="before")
    @classmethod
    def _one_line(cls, v: Any) -> Any:
        """The model's line breaks and runs of spaces as one space each."""
        return " ".join(v.split()) if isinstance(v, str) else v


def plan_tool_schema(
    n_goals: int, total_scenes: int, allowed: tuple[float, ...] | None
) -> dict[str, Any]:
    """The emit_plan tool's input_schema: the plan as JSON Schema."""
    seconds: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0, "maximum": 60}
    if allowed:
        seconds = {"type": "number", "enum": [_num(a) for a in allowed]}
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "title card text"},
            "closing": {
                "type": "string",
                "description": "closing gratitude card, first person, one sentence",
            },
            "scenes": {
                "type": "array",
                "minItems": total_scenes,
                "maxItems": total_scenes,
                "items": {
                    "type": "object",
                    "properties": {
                        "goal": {"type": "integer", "minimum": 1, "maximum": n_goals},
                        "affirmation": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_AFFIRMATION,
                        },
                        "image_prompt": {"type": "string", "minLength": 1},
                        "motion_prompt": {"type": "string", "minLength": 1},
                        "seconds": seconds,
                    },
                    "required": ["goal", "affirmation", "image_prompt", "motion_prompt", "seconds"],
                },
            },
        },
        "required": ["title", "closing", "scenes"],
    }


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


# ---------------------------------------------------------------- helpers
def missing_key_error(provider: str, stage: str, what: str, settings: Settings) -> ConfigError:
    """One line naming the variable(s) and who needs the key (preset or explicit provider)."""
    names = KEY_VARIABLES[provider]
    var = names[0] + (f" (or {', '.join(names[1:])})" if len(names) > 1 else "")
    chosen = getattr(settings, stage).provider
    who = f"{stage}.provider '{provider}'" if chosen else f"the {settings.preset} preset"
    return ConfigError(f"{var} is not set; {who} needs it for {stage} ({what})")


def scene_counts(goals: Goals, options: PlanOptions) -> list[int]:
    """Scenes per goal, as the person asked (goal.scenes) or from the settings."""
    return [g.scenes or max(1, options.scenes_per_goal) for g in goals.goals]


def _goal_brief(i: int, g: Goal, count: int) -> dict[str, Any]:
    """A goal as Claude is given it: its optional words stripped, and left out when blank
    (`given_text`). An affirmation of spaces went as the person's words "word for word",
    an affirmation plan.yaml refuses as blank, and a blank `details` as "\u200b"."""
    d: dict[str, Any] = {"goal": i, "category": g.category, "vision": g.vision, "scenes": count}
    for k in ("details", "actions", "feelings", "affirmation"):
        if v := given_text(getattr(g, k)):
            d[k] = v
    if g.photos:
        d["has_photos"] = True
    return d


def build_prompt(goals: Goals, options: PlanOptions) -> str:
    """The user message: the person's goals (no file paths, no keys), counts and limits."""
    counts = scene_counts(goals, options)
    brief: dict[str, Any] = {"title": goals.title}
    # blank (spaces, a zero-width space) is not given: Claude was asked to picture "\u200b"
    if goals.person and goals.person.description and not is_blank(goals.person.description):
        brief["person"] = goals.person.description
    if goals.style and not is_blank(goals.style):
        brief["style"] = goals.style
    if goals.closing and not is_blank(goals.closing):
        brief["closing"] = goals.closing
    brief["goals"] = [
        _goal_brief(i, g, c) for i, (g, c) in enumerate(zip(goals.goals, counts, strict=True), 1)
    ]
    if options.allowed_seconds:
        secs = ", ".join(str(_num(a)) for a in options.allowed_seconds)
        # the length the scenes are priced at (`_snap`, as the estimate): plan.scene_seconds
        # itself, when no clip is made at it ("4, 6, 8; prefer 5"), asked for a length the
        # model cannot make, and the plan could differ from what was priced
        prefer = _snap(options.scene_seconds, options.allowed_seconds)
        length = f"Allowed clip lengths (seconds): {secs}; prefer {_num(prefer)}."
    else:
        length = f"Clip length about {_num(options.scene_seconds)} seconds."
    return (
        f"Plan the mind movie for these goals ({sum(counts)} scenes in total).\n"
        "Where a goal has an affirmation, its first scene uses it word for word.\n"
        f"{length}\n\n" + json.dumps(brief, ensure_ascii=False, indent=1)
    )


def unwrap(value: Any) -> Any:
    """Accept the plan wrapped once or twice (`{"output": {...}}`, `{"plan": {...}}`)."""
    for _ in range(3):
        if isinstance(value, dict) and "scenes" not in value and len(value) == 1:
            (inner,) = value.values()
            if isinstance(inner, dict):
                value = inner
                continue
            if isinstance(inner, str):
                try:
                    value = json.loads(inner)
                    continue
                except ValueError:
                    break
        break
    return value


@dataclass
class SceneProblem:
    """One bad scene in the model's answer: which one (1-based) and which field."""

    index: int
    goal: int | None
    field: str
    message: str

    def __str__(self) -> str:
        if not self.index:
            where = f"goal {self.goal}" if self.goal else "plan"
        else:
            where = f"scene {self.index}" + (f" (goal {self.goal})" if self.goal else "")
        return f"{where}: {self.field}: {self.message}"


def check_scenes(
    raw: Any, counts: list[int], own: dict[int, str] | None = None
) -> tuple[list[_LLMScene | None], list[SceneProblem], dict[str, Any]]:
    """Validate each scene on its own; also report goals with too few scenes. No
    problem when every goal has its count of valid scenes (the rest are left out).

    `own`: the person's affirmation by goal number. The first scene of such a goal shows
    it whatever the model wrote there (`assemble_plan`), so the model's affirmation of
    that scene is not checked: blank or left out, it cost a repair and then the plan."""
    problems: list[SceneProblem] = []
    own = dict(own or {})
    value = unwrap(raw)
    if not isinstance(value, dict):
        return [], [SceneProblem(0, None, "plan", "the tool input is not an object")], {}
    scenes_raw = value.get("scenes")
    if isinstance(scenes_raw, str):
        # the array given as its JSON text ("scenes": "[{...}]"), as Claude's tool input
        # sometimes gives a nested array: it cost a repair ("missing or not a list")
        with contextlib.suppress(ValueError):
            scenes_raw = json.loads(scenes_raw)
    if not isinstance(scenes_raw, list):
        return [], [SceneProblem(0, None, "scenes", "missing or not a list")], value
    parsed: list[_LLMScene | None] = []
    for i, item in enumerate(scenes_raw, 1):
        goal = item.get("goal") if isinstance(item, dict) else None
        goal_n = goal if isinstance(goal, int) else None
        if goal_n in own and isinstance(item, dict):
            item = {**item, "affirmation": own.pop(goal_n)}  # only the goal's first scene
        try:
            one = _LLMScene.model_validate(item)
            if one.goal > len(counts):
                raise ValueError(f"goal {one.goal} does not exist (there are {len(counts)})")
            parsed.append(one)
        except ValidationError as e:
            parsed.append(None)
            for err in e.errors():
                loc = ".".join(str(x) for x in err["loc"]) or "scene"
                problems.append(SceneProblem(i, goal_n, loc, err["msg"]))
        except ValueError as e:
            parsed.append(None)
            problems.append(SceneProblem(i, goal_n, "goal", str(e)))
    have = [0] * len(counts)
    for s in parsed:
        if s is not None:
            have[s.goal - 1] += 1
    if all(n >= want for n, want in zip(have, counts, strict=True)):
        # every goal has its scenes: a bad scene beyond them (a goal that does not
        # exist, an empty prompt) is left out as any extra scene is. It cost a repair,
        # and the same answer again failed a plan that had every scene it needed
        return parsed, [], value
    for gi, (n, want) in enumerate(zip(have, counts, strict=True), 1):
        if n < want:
            problems.append(SceneProblem(0, gi, "scenes", f"needs {want} scenes, got {n} valid"))
    return parsed, problems, value


def _abs_str(p: Path) -> str:
    return str(p if p.is_absolute() else p.absolute())


def _snap(seconds: float, allowed: tuple[float, ...] | None) -> float:
    if not allowed:
        return float(seconds)
    return float(min(allowed, key=lambda a: (abs(a - seconds), -a)))


def assemble_plan(
    goals: Goals,
    options: PlanOptions,
    parsed: list[_LLMScene | None],
    value: dict[str, Any],
    filled: list[str] | None = None,
) -> Plan:
    """Build the Plan, keeping the person's affirmation, photos and counts, with our ids.
    The ids of the scenes the local planner gave (the model gave too few) go in `filled`."""
    counts = scene_counts(goals, options)
    by_goal: dict[int, list[_LLMScene]] = {i: [] for i in range(1, len(counts) + 1)}
    for s in parsed:
        if s is not None:
            by_goal[s.goal].append(s)
    person_photos = [_abs_str(p) for p in goals.person.photos] if goals.person else []
    scenes: list[Scene] = []
    used: set[str] = set()
    fallback: list[Scene] | None = None
    for gi, goal in enumerate(goals.goals, 1):
        category = goal.category.strip()
        goal_photos = [_abs_str(p) for p in goal.photos]
        mine = by_goal[gi][: counts[gi - 1]]
        if len(mine) < counts[gi - 1]:
            # the model still gave too few scenes for this goal: the local planner's
            # deterministic scenes fill the gap, so the person's count is kept
            if fallback is None:
                from mindmovie.providers.local import build_plan

                fallback = build_plan(goals, options).scenes
            local = [sc for sc in fallback if sc.goal == gi]
            mine = mine + [
                _LLMScene(
                    goal=gi,
                    affirmation=sc.affirmation,
                    image_prompt=sc.image_prompt,
                    motion_prompt=sc.motion_prompt,
                    seconds=sc.seconds,
                )
                for sc in local[len(mine) : counts[gi - 1]]
            ]
        written = len(by_goal[gi][: counts[gi - 1]])  # the model's; the rest: the local's
        for n, s in enumerate(mine, 1):
            base = f"{gi:02d}-{slugify(category, 30)}-{n}"
            sid, k = base, 2
            while sid in used:
                sid, k = f"{base}-{k}", k + 1
            used.add(sid)
            if n > written and filled is not None:
                filled.append(sid)
            affirmation = s.affirmation
            if n == 1 and (own := given_text(goal.affirmation)):
                affirmation = own
            if goal_photos:
                k0 = (n - 1) % len(goal_photos)
                refs = goal_photos[k0:] + goal_photos[:k0]
            else:
                refs = list(person_photos)
            scenes.append(
                Scene(
                    id=sid,
                    goal=gi,
                    category=category,
                    affirmation=affirmation,
                    image_prompt=s.image_prompt,
                    motion_prompt=s.motion_prompt,
                    seconds=_snap(s.seconds, options.allowed_seconds),
                    reference_photos=refs,
                )
            )
    return Plan(
        title=goals.title,
        closing=given_text(goals.closing) or _their_closing(value) or DEFAULT_CLOSING,
        style=goals.style,
        music=str(goals.music) if goals.music else None,
        scenes=scenes,
    )


def _their_closing(value: dict[str, Any]) -> str | None:
    """The model's closing line, when it is one plan.yaml takes (text, not blank, no
    control character, at most MAX_TEXT characters); else None, and the default closing
    is shown: a bad closing is not worth a paid repair. (A list or number was taken as its
    Python text: the closing card read "['Thank you', 'for everything']"; one past
    plan.yaml's length made the plan a ValidationError traceback after the paid answer,
    at every render.)"""
    given = value.get("closing")
    said = given_text(given) if isinstance(given, str) else None
    if said is None or len(said) > MAX_TEXT:
        return None
    return said if control_character(said) is None else None


# ---------------------------------------------------------------- the planner
def planner_max_tokens(scenes: int) -> int:
    """max_tokens of a plan call with `scenes` scenes: room for every scene's prompts, and
    the most output Claude can bill for the call (the budget holds that much), up to
    `PLANNER_MAX_OUTPUT`. It was at most 16,000: a plan of more than ~60 scenes (Claude
    writes 200-260 tokens a scene, `costs.OUTPUT_TOKENS_PER_SCENE`; goals.yaml allows
    180) was cut off there, billed, and failed at every render (the scale audit)."""
    return min(PLANNER_MAX_OUTPUT, 1500 + 350 * scenes)


#: the most output a plan call asks for unless planner.options.max_tokens says: what the
#: current Claude models write at most (64,000 for Sonnet 4.5 and Haiku 4.5, Anthropic's
#: models overview). A model that takes fewer says so (400 "max_tokens: N > M, which is
#: the maximum allowed"), and the call is sent again at its M (`_model_ceiling`)
PLANNER_MAX_OUTPUT = 64000
_CEILING_SAID = re.compile(r"max_tokens: (\d+) > (\d+), which is the maximum allowed")


def _model_ceiling(e: Exception, asked: int) -> int | None:
    """The most output tokens the model takes, when `e` is Claude's 400 refusing
    `asked` as more than that; else None."""
    import anthropic

    if not isinstance(e, anthropic.BadRequestError):
        return None
    m = _CEILING_SAID.search(str(getattr(e, "message", "")) + " " + str(e))
    if m is None or int(m.group(1)) != asked or not 0 < int(m.group(2)) < asked:
        return None
    return int(m.group(2))


#: the `planner.options` the Claude planner reads
PLANNER_OPTIONS = frozenset({"max_tokens"})

#: the slowest writing rate a streamed answer is waited for, in output tokens a second:
#: the whole answer's deadline is the timeout plus max_tokens at this rate (Claude writes
#: several times faster), so an answer kept alive by pieces that each come inside the
#: timeout (a stalled stream's pings) still ends ("downloads with no timeout", lessons.md)
ANSWER_TOKENS_PER_SECOND = 10.0


def configured_max_tokens(options: dict[str, Any]) -> int | None:
    """`planner.options.max_tokens` as a positive int (None when unset); an unknown option
    or a value that is not a whole number is a one-line ConfigError naming what is allowed."""
    if bad := unknown_options("planner.options", PROVIDER, options, PLANNER_OPTIONS):
        raise ConfigError(bad)
    value = options.get("max_tokens")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"planner.options.max_tokens: {value!r} is not allowed; "
            "a whole number of tokens, at least 1"
        )
    return value


def check_options(settings: Settings, stage: str = "planner") -> None:
    """The checks of `planner.options` the planner makes (ConfigError, one line), without
    a key: for doctor, estimate and status."""
    configured_max_tokens(settings.planner.options)


def _fenced(text: str) -> list[str]:
    """The insides of the Markdown code fences in `text` (```json ... ```), as Claude
    writes JSON in a text answer: read as the whole text, such a plan (answered, billed)
    failed the render with 'answered without calling emit_plan'."""
    import re

    return re.findall(r"```[A-Za-z0-9_-]*[ \t]*\n(.*?)```", text, flags=re.DOTALL)


#: how the SDK's stream says a tool input it cannot parse (jiter's words follow)
_SDK_TOOL_JSON = "Unable to parse tool parameter JSON from model."


def _unreadable_tool_input(e: BaseException) -> str | None:
    """jiter's words when `e` is the SDK refusing the tool input the model wrote (the
    answer itself, not its transport); else None. Without the JSON the SDK quotes."""
    text = str(e)
    if not isinstance(e, ValueError) or not text.startswith(_SDK_TOOL_JSON):
        return None
    why = text.partition(" Error: ")[2].partition(". JSON: ")[0]
    return why or "unreadable"


#: the start of Anthropic's 400 for a request over the model's context window
#: ("prompt is too long: 215000 tokens > 200000 maximum")
_PROMPT_TOO_LONG = "prompt is too long"
#: Anthropic's 400 for an account out of credit ("Your credit balance is too low to
#: access the Anthropic API. Please go to Plans & Billing ..."), casefolded
_LOW_CREDIT = "credit balance is too low"
#: Anthropic's 400 of a spend limit the account's owner set ("You have reached your
#: specified API usage limits. You will regain access on 2026-04-01 at 00:00 UTC."):
#: told as a request refused as sent, it said nothing of the limit or of that date
_USAGE_LIMIT = "reached your specified api usage limits"


def _answer_words(e: anthropic.APIStatusError) -> str:
    """An error answer's own words: Anthropic's `error.message`, else the body as one
    line (a proxy's HTML page, JSON of another shape), else the SDK's class name. A page
    that was not Anthropic's JSON was said as the class alone ("HTTP 413:
    ContentTooLargeError"), where Ark's and Google's errors quote the page."""
    if isinstance(e.api_message, str) and e.api_message.strip():
        return " ".join(e.api_message.split())
    body = e.body
    if isinstance(body, dict):
        inner = body.get("error")
        said = inner.get("message") if isinstance(inner, dict) else body.get("message")
        text = said if isinstance(said, str) and said.strip() else json.dumps(body)
    elif isinstance(body, str):
        text = body
    else:
        try:
            text = e.response.text
        except Exception:  # a streamed answer not read
            text = ""
    words = answer_text(text, e.response.headers.get("content-type", ""))
    return words or type(e).__name__


#: the HTTP status an `error` event's type stands for, when a stream that began as 200
#: ends in one (Anthropic's errors page gives each type its status)
_STREAM_ERROR_STATUS = {"overloaded_error": 529, "api_error": 500}


def _broken_answer(e: BaseException) -> bool:
    """Whether `e` is the transport failing while a streamed answer was being read (the
    SDK lets httpx's own errors through there: a read timeout, a closed socket), or the
    streamed pieces not adding up to JSON. By name: the SDK vendors its own httpx."""
    if isinstance(e, ValueError):
        return True
    return any(c.__module__.startswith(("httpx", "httpcore")) for c in type(e).__mro__)


class ClaudePlanner:
    """Planner on Anthropic's Messages API (forced tool use for structured output)."""

    name = PROVIDER

    def __init__(
        self,
        *,
        api_key: str,
        model: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_tokens: int | None = None,
    ) -> None:
        self.spec = catalog.resolve(PROVIDER, "planner", model)
        self.model = self.spec.id
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._max_tokens = max_tokens
        self._clients: dict[int, anthropic.AsyncAnthropic] = {}
        #: token usage of the last plan() (summed over its calls), for the cost ledger
        self.last_usage: dict[str, int] = {}
        #: one entry per API call of the last plan(): {"input_tokens", "output_tokens", ...}
        self.last_calls: list[dict[str, Any]] = []
        #: the scenes of the last plan() the local planner wrote, Claude having given too
        #: few even after the repair: the pipeline tells the person which
        self.last_filled: list[str] = []
        #: a first answer (tool input, tool_use id) that needed a repair not answered yet
        #: (its call failed for a passing reason, or the render stopped before or during
        #: it), by its request's sha256: paid for, so the next plan() of that request (the
        #: pipeline's mindmovie.retry, or the next render: `unrepaired`) sends only the
        #: repair instead of buying it again
        self._unrepaired: dict[str, tuple[Any, str]] = {}

    def __repr__(self) -> str:  # never show the key
        return f"ClaudePlanner(model={self.model!r})"

    def unrepaired(self) -> dict[str, Any] | None:
        """The first answer held for its repair (`_unrepaired`), as JSON data, for the
        pipeline to journal the moment it is held: a render stopped (or killed) before
        its repair was answered bought a new first answer at the next render."""
        for request, (first, block_id) in self._unrepaired.items():
            return {"request": request, "answer": first, "tool_use_id": block_id}
        return None

    def hold_unrepaired(self, saved: Any) -> None:
        """Hold `unrepaired`'s data journaled by an earlier render; anything else (a value
        damaged by hand) is ignored: the plan is then asked for anew."""
        if not isinstance(saved, dict):
            return
        request, first, block_id = (saved.get(k) for k in ("request", "answer", "tool_use_id"))
        if isinstance(request, str) and isinstance(block_id, str) and first is not None:
            self._unrepaired = {request: (first, block_id)}

    @classmethod
    def from_settings(cls, settings: Settings, keys: Keys) -> ClaudePlanner:
        """Build from Settings; a missing key or unknown model is a one-line ConfigError."""
        if keys.anthropic is None:
            raise missing_key_error(PROVIDER, "planner", "Claude", settings)
        ps = settings.provider_settings(PROVIDER)
        try:
            return cls(
                api_key=keys.anthropic.get_secret_value(),
                model=settings.planner.model,
                base_url=ps.base_url,
                timeout=ps.timeout,
                max_tokens=configured_max_tokens(settings.planner.options),
            )
        except InvalidRequest as e:
            raise ConfigError(e.message) from None

    def _client(self) -> anthropic.AsyncAnthropic:
        """One client per event loop (an httpx pool must not cross loops)."""
        import anthropic

        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            client = anthropic.AsyncAnthropic(
                api_key=self._api_key,
                base_url=self._base_url,
                max_retries=0,
                timeout=self._timeout,
                # the SDK's own client (its limits, redirects, keep-alive) with the TLS
                # context it would make, made once (`shared_tls`), not at every client
                http_client=anthropic.DefaultAsyncHttpxClient(
                    timeout=self._timeout, verify=shared_tls("httpx2")
                ),
            )
            self._clients = {loop: client}
        return client

    async def aclose(self) -> None:
        """Close this loop's client (its keep-alive connections)."""
        await close_loop_client(self._clients)

    # ------------------------------------------------------------ API
    async def plan(
        self,
        goals: Goals,
        options: PlanOptions,
        *,
        before_repair: Callable[[], Awaitable[None]] | None = None,
    ) -> Plan:
        """Ask Claude for the plan; repair once when some scenes are bad; enforce the person's
        words, photos and counts. The repair is a second paid call: `before_repair` is
        awaited first (the pipeline's budget gate); `last_calls` holds each call's usage.
        A repair that failed for a passing reason (`Transient`), or for the key
        (`AuthError`), is all the next plan() of the same goals sends: the first answer,
        paid for, is kept for it."""
        self.last_usage = dict.fromkeys(USAGE_TOKENS, 0)
        self.last_calls = []
        self.last_filled = []
        counts = scene_counts(goals, options)
        total = sum(counts)
        tool = {
            "name": TOOL_NAME,
            "description": "Return the complete mind-movie plan.",
            "input_schema": plan_tool_schema(len(counts), total, options.allowed_seconds),
        }
        messages: list[dict[str, Any]] = [{"role": "user", "content": build_prompt(goals, options)}]
        max_tokens = self._max_tokens or planner_max_tokens(total)
        request = json.dumps([self.model, messages, tool, max_tokens], sort_keys=True)
        request = hashlib.sha256(request.encode()).hexdigest()
        held = self._unrepaired.pop(request, None)
        self._unrepaired = {}
        if held is None:
            first, block_id = await self._call(messages, tool, max_tokens)
        else:
            # this plan's first answer came (and was billed) in the last plan(), whose
            # repair failed for a passing reason: only the repair is sent again. The call
            # the pipeline made room for before plan() is that repair: no before_repair
            first, block_id = held
        own = {i: t for i, g in enumerate(goals.goals, 1) if (t := given_text(g.affirmation))}
        parsed, problems, value = check_scenes(first, counts, own)
        if problems:
            listing = "\n".join(f"- {p}" for p in problems)
            ask = (
                "Some scenes are invalid:\n"
                f"{listing}\n"
                f"Call {TOOL_NAME} again with the complete corrected plan "
                f"({total} scenes), not wrapped in any other object."
            )
            if block_id:
                messages += [
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "tool_use", "id": block_id, "name": TOOL_NAME, "input": first}
                        ],
                    },
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "tool_result",
                                "tool_use_id": block_id,
                                "is_error": True,
                                "content": ask,
                            }
                        ],
                    },
                ]
            else:  # the answer was text, not a tool call: reply in text
                messages += [
                    {"role": "assistant", "content": json.dumps(first, ensure_ascii=False)},
                    {"role": "user", "content": ask},
                ]
            # held until the repair is answered: a 429, 5xx or dropped connection, which
            # mindmovie.retry retries by calling plan() again, or a stop before or during
            # the repair (the pipeline journals it, `unrepaired`), bought it a second time
            self._unrepaired = {request: (first, block_id)}
            if before_repair is not None and held is None:
                await before_repair()
            try:
                second, _ = await self._call(messages, tool, max_tokens)
            except (Transient, AuthError, asyncio.CancelledError):
                # (the key refused, 401/402/403, is not the request refused: once it is
                # fixed the repair is sent, the first answer not bought again)
                raise
            except BaseException:
                self._unrepaired = {}  # refused: the next plan() asks anew
                raise
            self._unrepaired = {}
            parsed, problems, value = check_scenes(second, counts, own)
            # too few scenes for a goal is filled from the local planner below; a bad field
            # in a scene the model did write is the model's failure, named for the person
            problems = [p for p in problems if p.field != "scenes" or p.index != 0]
            if problems:
                raise JobFailed(
                    "plan still invalid after one repair: " + "; ".join(str(p) for p in problems),
                    provider=PROVIDER,
                )
            if not any(s is not None for s in parsed):
                # no scene at all, twice: a plan made wholly of the local planner's
                # templates (which cost nothing) would then buy every keyframe and clip
                # from prompts the person never asked Claude for, under Claude's name
                raise JobFailed(
                    f"plan: {PROVIDER} gave no scenes, in its answer or its repair (both "
                    "billed); render again to ask again, or set planner.provider: local "
                    "for the free template plan",
                    provider=PROVIDER,
                )
        return assemble_plan(goals, options, parsed, value, self.last_filled)

    async def _call(
        self, messages: list[dict[str, Any]], tool: dict[str, Any], max_tokens: int
    ) -> tuple[Any, str]:
        """One streamed messages call with the forced tool; returns (tool input, tool_use
        id or "").

        Streamed because a plan of many scenes takes Claude longer to write than the
        timeout: unstreamed, no byte comes before the whole answer, so `timeout` would cut
        (and a retry pay for) every long plan. Streamed, the timeout bounds each silence
        instead, and a large planner.options.max_tokens is not refused by the SDK."""
        import anthropic

        deadline = self._timeout + max_tokens / ANSWER_TOKENS_PER_SECOND
        try:
            async with (
                asyncio.timeout(deadline),
                self._client().messages.stream(
                    model=self.model,
                    max_tokens=max_tokens,
                    system=SYSTEM_PROMPT,
                    messages=cast(Any, messages),
                    tools=cast(Any, [tool]),
                    tool_choice={"type": "tool", "name": TOOL_NAME},
                    # per request too: with only the client-level timeout, SDK 2.14 sends the
                    # header x-stainless-timeout: NOT_GIVEN instead of the seconds
                    timeout=self._timeout,
                ) as stream,
            ):
                try:
                    resp = await stream.get_final_message()
                except AssertionError:
                    # a 200 whose body held no event (empty, or a proxy's page): the SDK
                    # asserts it had a message, and that was a traceback. Sent, and
                    # perhaps answered and billed on the way: as an answer broken off
                    raise ConnectionLost(
                        "the answer held no message (not the event stream Claude answers "
                        "with: a proxy's page?)",
                        provider=PROVIDER,
                        sent=True,
                    ) from None
                # the `request-id` header: what Anthropic's support asks for of a call
                request_id = stream.request_id
        except anthropic.APIError as e:
            if self._max_tokens is None and (ceiling := _model_ceiling(e, max_tokens)):
                # max_tokens of mindmovie's own reckoning, over this model's most: a 400
                # bills nothing, and the call is sent again at the model's most
                return await self._call(messages, tool, ceiling)
            raise self._map_error(e) from None
        except TimeoutError:
            # the whole answer's deadline (each silence has the timeout): it had begun,
            # or was at least sent, so it may be billed
            raise ConnectionLost(
                f"the answer took longer than {deadline:.0f} s (the timeout plus "
                f"max_tokens {max_tokens} at {ANSWER_TOKENS_PER_SECOND:.0f} tokens a second)",
                provider=PROVIDER,
                sent=True,
            ) from None
        except Exception as e:
            if (why := _unreadable_tool_input(e)) is not None:
                # the answer came, and is billed, but its tool input is JSON no parser
                # reads (a lone surrogate escape): not a broken stream, whose retries
                # paid for it again up to four times, each held as an answer lost
                bad = JobFailed(
                    f"model {self.model} answered with a plan whose {TOOL_NAME} input is "
                    f"not valid JSON ({why}); render again to ask Claude again",
                    provider=PROVIDER,
                )
                bad.charged = True
                raise bad from None
            if not _broken_answer(e):
                raise
            # the answer had begun (and so may be billed) when its stream broke
            raise ConnectionLost(
                f"the answer broke off: {type(e).__name__}", provider=PROVIDER, sent=True
            ) from None
        if getattr(resp, "stop_reason", None) is None:
            # the stream ended without its message_delta: a cut answer (its tool input is
            # only the part that came), not one to plan from
            raise ConnectionLost(
                "the answer broke off before its end", provider=PROVIDER, sent=True
            )
        usage = getattr(resp, "usage", None)
        call = {
            "input_tokens": int(getattr(usage, "input_tokens", 0) or 0),
            "output_tokens": int(getattr(usage, "output_tokens", 0) or 0),
            "cache_creation_input_tokens": int(
                getattr(usage, "cache_creation_input_tokens", 0) or 0
            ),
            "cache_read_input_tokens": int(getattr(usage, "cache_read_input_tokens", 0) or 0),
            "request_id": request_id,
            "message_id": getattr(resp, "id", None),
        }
        self.last_calls.append(call)
        for k in USAGE_TOKENS:
            self.last_usage[k] = self.last_usage.get(k, 0) + int(call[k] or 0)
        stop = getattr(resp, "stop_reason", None)
        if stop in CUT_STOP_REASONS:
            # answered (and billed, `last_calls` has it) but cut: its tool input is only the
            # part written (the SDK parses it partially: whole scenes, a number cut short).
            # A repair or a retry at the same max_tokens would pay to be cut again.
            if stop == "max_tokens":
                raise JobFailed(
                    f"the plan was cut off at max_tokens ({max_tokens} output tokens, "
                    f"stop_reason {stop}) before Claude finished it; set "
                    "planner.options.max_tokens higher, or plan fewer scenes",
                    provider=PROVIDER,
                )
            # the model's context window was full, not max_tokens: a higher max_tokens
            # (what it was told to set) cannot help, a shorter plan or request can
            raise JobFailed(
                f"the plan was cut off at the context window of model {self.model} "
                f"(stop_reason {stop}) before Claude finished it, below max_tokens "
                f"({max_tokens}); plan fewer scenes, shorten the goals, or choose a "
                "planner.model with a larger context window",
                provider=PROVIDER,
            )
        if stop == "refusal":
            # declined by Claude's safety classifier, mid-plan (a part of a plan, not one
            # to repair: a repair of the same goals is refused as well) or before any of
            # it (a text or nothing): either way the goals are what to change. The second
            # was told "answered without calling emit_plan", with no word of what to do
            said = " ".join(
                " ".join(without_control(t).split())  # (quoted on the terminal)
                for b in resp.content
                if isinstance(t := getattr(b, "text", None), str) and t.strip()
            )
            raise JobFailed(
                f"model {self.model} declined to write the plan (stop_reason refusal"
                + (f'; it said "{said[:200]}"' if said else "")
                + "); reword the goals it declined and render again",
                provider=PROVIDER,
            )
        for block in resp.content:
            if block.type == "tool_use" and block.name == TOOL_NAME:
                return block.input, str(block.id)
        for block in resp.content:  # no tool call: maybe JSON in text
            text = getattr(block, "text", None)
            if isinstance(text, str):
                for candidate in (text, *_fenced(text)):
                    try:
                        return json.loads(candidate), ""
                    except ValueError:
                        continue
        raise JobFailed(
            f"model {self.model} answered without calling {TOOL_NAME} "
            f"(stop_reason {getattr(resp, 'stop_reason', None)})",
            provider=PROVIDER,
        )

    def _map_error(self, e: Exception) -> ProviderError:
        """SDK exception -> our taxonomy (see provider-wire.md §3)."""
        import anthropic

        if isinstance(e, anthropic.APIConnectionError):  # includes APITimeoutError
            said, sent = connection_failed(
                e,
                PROVIDER,
                timed_out=isinstance(e, anthropic.APITimeoutError),
                within=f"providers.{PROVIDER}.timeout ({self._timeout:g} s)",
            )
            return ConnectionLost(said, provider=PROVIDER, sent=sent)
        if not isinstance(e, anthropic.APIStatusError):
            return Transient(f"unexpected SDK error: {type(e).__name__}", provider=PROVIDER)
        status = e.status_code
        etype = getattr(e, "type", None)
        detail = _answer_words(e)
        rid = f" (request {e.request_id})" if e.request_id else ""
        # what the person reads, as Google's and Ark's errors say it: the status, the
        # provider's own error type and its words ("HTTP 529 overloaded_error: Overloaded")
        said = f"HTTP {status}{f' {etype}' if etype else ''}: {detail}{rid}"
        if status < 400:
            # an `error` event in a stream that began as 200 (e.g. overloaded_error): the
            # answer had begun, so the call may be billed; worth another try. What to do
            # said as a 529's and a 5xx's are (it ended with the error's type alone)
            advice = (
                rate_limit_advice(PROVIDER)
                if etype == "rate_limit_error"
                else busy_advice(PROVIDER, _STREAM_ERROR_STATUS.get(str(etype), 500))
            )
            return ConnectionLost(
                f"the answer broke off: {etype or 'error'}: {detail}{rid}; {advice}",
                provider=PROVIDER,
                sent=True,
            )
        if status == 429:
            # (a wait longer than a render waits is said by mindmovie.retry, `_told_when`)
            return RateLimited(
                f"{said}; {rate_limit_advice(PROVIDER)}",
                retry_after=retry_after_seconds(e.response.headers),
                provider=PROVIDER,
            )
        if status >= 500 or status in (408, 409):
            return Transient(
                f"{said}; {busy_advice(PROVIDER, status)}",
                retry_after=retry_after_seconds(e.response.headers),
                provider=PROVIDER,
            )
        if status == 401:
            return AuthError(
                f"{said}; check ANTHROPIC_API_KEY (is it set to a valid key?)",
                provider=PROVIDER,
            )
        if status == 403:
            return AuthError(
                f"{said}; check ANTHROPIC_API_KEY (has its workspace access to the model "
                f"'{self.model}'?)",
                provider=PROVIDER,
            )
        if _USAGE_LIMIT in detail.casefold():
            # (its own words say when access comes back; an AuthError: no other call)
            return AuthError(
                f"{said}; the account's spend limit is reached: render again then, or "
                "raise the limit in the Claude Console (Settings, Limits); nothing was "
                "billed for it",
                provider=PROVIDER,
            )
        if status == 402 or _LOW_CREDIT in detail.casefold():
            # (Anthropic says an account out of credit as a 400 invalid_request_error)
            return AuthError(f"{said}; check the account's billing", provider=PROVIDER)
        if status == 404:
            known = ", ".join(m.key for m in catalog.models(PROVIDER, "planner"))
            # the person's planner.model (a 404 not_found_error bills nothing): told as
            # that setting, so the CLI says where it was written
            return InvalidRequest(
                f"planner.model: {PROVIDER} answered {said}: the model '{self.model}' does "
                "not exist or this key has no access to it; choose another (known: "
                f"{known}); nothing was billed for it",
                provider=PROVIDER,
                setting="planner.model",
            )
        if self._max_tokens is not None and detail.startswith("max_tokens:"):
            # ("max_tokens: 100000 > 64000, which is the maximum allowed number of output
            # tokens for ..."): the person's planner.options.max_tokens, told as it
            return InvalidRequest(
                f"planner.options.max_tokens: {PROVIDER} refused {self._max_tokens} for "
                f"{self.model} ({said}); set it lower or leave it out; nothing was billed "
                "for it",
                provider=PROVIDER,
                setting="planner.options.max_tokens",
            )
        if status == 413 or _PROMPT_TOO_LONG in detail:
            # the goals, which the request carries whole (in a repair, with Claude's
            # first answer): a 413 is the request's bytes, "prompt is too long" its tokens
            return InvalidRequest(
                f"{said}; the request is larger than {self.model} takes: shorten the goals "
                "(vision, details, actions, feelings) or plan fewer scenes; nothing was "
                "billed for it",
                provider=PROVIDER,
            )
        # (no setting is named: the message names none, and one mindmovie sent wrongly
        # is not the person's to mend)
        return InvalidRequest(
            f"{said}; {PROVIDER} refused the request as sent; nothing was billed for it",
            provider=PROVIDER,
        )
