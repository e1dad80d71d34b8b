"""Offline providers: the free animatic, and the classic mind movie from a person's photos.

Nothing here touches the network or costs money, so a fresh install renders a whole movie
offline. These are a product in their own right, not stubs:

- `LocalPlanner` turns goals into scenes with first-person, present-tense affirmations,
  deterministically (the same goals always give the same plan, so re-runs redo nothing).
- `LocalKeyframes` fits the person's own photo to the frame, or paints a calm landscape
  seeded by the prompt, with a palette per goal category.
- `LocalMotion` animates a keyframe with a smooth, sub-pixel Ken Burns move (eased zoom or
  pan), encoded as H.264 by the ffmpeg that imageio-ffmpeg ships.
"""

from __future__ import annotations

import asyncio
import colorsys
import hashlib
import io
import itertools
import math
import re
import subprocess
import tempfile
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from mindmovie.fsutil import commit_file, slugify, tmp_path_for
from mindmovie.goals import Goal, Goals
from mindmovie.media import ffmpeg_exe
from mindmovie.plan import Plan, Scene
from mindmovie.providers.base import (
    ImageResult,
    InvalidRequest,
    JobFailed,
    JobState,
    KeyframeRequest,
    PlanOptions,
    VideoRequest,
)

F32 = NDArray[np.floating[Any]]
RGB = tuple[float, float, float]

#: affirmations longer than this do not fit comfortably on screen at a readable size
MAX_AFFIRMATION = 90

DEFAULT_CLOSING = "I am grateful for everything I have and everything I am becoming"


def _stable_int(*parts: object) -> int:
    """A process-independent hash (Python's hash() is salted per process)."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big")


# ====================================================================== planner: language
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Verbs that commonly open an imperative goal ("Run a marathon" -> "I run a marathon").
_VERBS = _words(
    """
    achieve attend bake bike breathe build buy call celebrate cherish climb coach code
    cook complete connect create cycle dance design donate drink earn eat embrace enjoy
    explore feel finish find garden get give go grow have help hike hire host invest
    join keep launch laugh lead learn lift listen live love make marry master meditate
    mentor move nurture open own paint pay plant play practice practise prepare publish
    raise reach read renovate rest restore retire ride run sail save see sell share ship
    show sing sleep speak spend stay start stretch study support surf swim take teach
    train travel visit volunteer wake walk welcome work write put set try choose quit stop
    say pick drive book cut clear bring fly
    """
)
# Adjectives that do not look like adjectives by their suffix.
_ADJECTIVES = _words(
    """
    alive brave calm clear confident debt-free fit free fresh full glad happy healthy
    kind lean light open proud ready rich safe secure slim strong well whole wise young
    """
)
_ADJ_SUFFIXES = ("ful", "ous", "ive", "ent", "ant", "able", "ible", "al", "ic", "less", "ed", "y")
_NOT_ADVERBS = frozenset({"daily", "weekly", "monthly", "yearly", "early", "family", "only"})
# Words after an adjective that show the phrase is "I am <adjective> ..." not "<adj> <noun>".
_LINKERS = _words(
    """
    and or but every each in at by with for to from as all on of
    """
)
# Nouns for a role a person *is* ("A published author" -> "I am a published author").
_ROLE_NOUNS = _words(
    """
    author artist athlete champion coach dad expert father founder friend host husband
    leader mentor mom mother parent partner person runner speaker teacher wife writer
    """
)
_NOT_ROLES = _words(
    """
    after better center corner dinner ever fewer never number other over paper silver
    summer together under water winter
    """
)
_WISH_PREFIX = re.compile(
    r"^(?:will|shall|am going to|want to|wanna|would like to|would love to|hope to|plan to|"
    r"aim to|intend to|wish to|am planning to|am about to)\s+",
    re.I,
)
_DEADLINE = re.compile(
    r",?\s+(?:by|before|within|in)\s+(?:the\s+end\s+of\s+)?(?:the\s+age\s+of\s+|age\s+)?"
    r"(?:\d{2,4}|next\s+(?:year|summer|spring|autumn|fall|winter)|this\s+year|"
    r"\d+\s+(?:years?|months?|weeks?))\b"
    r"|,?\s+(?:next|this)\s+(?:year|summer|spring|autumn|fall|winter)$",
    re.I,
)
_TRAILING_STOPWORDS = _words(
    """
    a an and at but by for from in into of on or so the to with while my our your
    """
)


def _lower_first(text: str) -> str:
    """Lower-case the first word unless it is "I" or looks like a name/acronym."""
    if not text:
        return text
    word = text.split(maxsplit=1)[0]
    if word == "I" or word.startswith(("I'", "I’")) or any(c.isupper() for c in word[1:]):
        return text
    return text[0].lower() + text[1:]


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    return re.split(r"(?<=[.!?])\s+", text, maxsplit=1)[0].rstrip(" .!?;:,")


def _third_person_s(verb: str) -> str:
    """run -> runs, carry -> carries, go -> goes (for "my business will grow")."""
    v = verb.lower()
    if v in ("be", "am"):
        return "is"
    if v == "have":
        return "has"
    if re.search(r"[^aeiou]y$", v):
        return verb[:-1] + "ies"
    if re.search(r"(s|sh|ch|x|z|o)$", v):
        return verb + "es"
    return verb + "s"


def _base_verb(verb: str) -> str:
    """runs -> run, carries -> carry, goes -> go (for "She runs" -> "I run")."""
    v = verb.lower()
    irregular = {"is": "am", "has": "have", "was": "am", "does": "do", "goes": "go"}
    if v in irregular:
        return irregular[v]
    if v.endswith("ies") and len(v) > 4:
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z)es$", v):
        return verb[:-2]
    if v.endswith("s") and not v.endswith("ss"):
        return verb[:-1]
    return verb


def _present_tense(text: str) -> str:
    """Drop future/wish phrasing anywhere in the sentence: affirmations speak as if done."""
    text = re.sub(r"\bI['’]ll\b", "I will", text)
    text = re.sub(r"\bI['’]m\b", "I am", text)
    text = re.sub(r"\b(I)\s+(?:will|shall)\s+be\b", r"\1 am", text)
    text = re.sub(r"\b(I)\s+(?:will|shall)\s+", r"\1 ", text)
    text = re.sub(r"\b(I)\s+am\s+going\s+to\s+be\b", r"\1 am", text)
    text = re.sub(r"\b(I)\s+am\s+going\s+to\s+", r"\1 ", text)
    text = re.sub(r"\b([Ww]e|[Tt]hey|[Yy]ou)\s+will\s+be\b", r"\1 are", text)
    text = re.sub(r"\b([Ww]e|[Tt]hey|[Yy]ou)\s+will\s+", r"\1 ", text)
    text = re.sub(r"\bwill\s+be\b", "is", text)
    text = re.sub(r"\bwill\s+(\w+)", lambda m: _third_person_s(m.group(1)), text)
    text = re.sub(r"\bwon['’]t\b", "does not", text)
    return re.sub(r"\s+will\s+", " ", f" {text} ").strip()


def _is_adjective(word: str) -> bool:
    w = word.lower().strip(",")
    if w in _ADJECTIVES:
        return True
    if w in _VERBS or len(w) < 4:
        return False
    return w.endswith(_ADJ_SUFFIXES)


def _reads_as_state(words: list[str]) -> bool:
    """Does the phrase describe how the person *is* ("Vibrant and energetic", "Financially
    free", "Running my own studio") rather than a thing they have ("Daily yoga")?"""
    w0 = words[0].lower().strip(",")
    if w0.endswith("ing") and len(w0) > 4:
        return True
    if w0.endswith("ly") and w0 not in _NOT_ADVERBS:
        return True
    if not _is_adjective(w0):
        return False
    return (
        len(words) == 1
        or words[0].endswith(",")
        or words[1].lower() in _LINKERS
        or _is_adjective(words[1])
    )


def _names_a_role(words: list[str]) -> bool:
    for w in words[:4]:
        w = w.lower().strip(",.")
        if w in _ROLE_NOUNS:
            return True
        if w not in _NOT_ROLES and len(w) > 4 and w.endswith(("er", "or", "ist", "ian")):
            return True
    return False


def _shorten(text: str, limit: int = MAX_AFFIRMATION) -> str:
    """Cut a long line at a clause boundary (else a word boundary) so it fits on screen."""
    text = text.strip().rstrip(" .,;:")
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    cut = -1
    for sep in (";", " - ", " — ", ",", " while ", " so ", " because ", " and ", " with "):
        i = head.rfind(sep)
        if i >= 24:
            cut = max(cut, i)
    if cut < 0:
        cut = head.rfind(" ")
        if cut < 0:
            cut = limit
    words = text[:cut].rstrip(" ,;:-—").split()
    while len(words) > 3 and words[-1].lower() in _TRAILING_STOPWORDS:
        words.pop()
    return " ".join(words)


def first_person(text: str) -> str:
    """Phrase a goal line as a first-person, present-tense affirmation starting with "I ".

    "Vibrant and energetic every day" -> "I am vibrant and energetic every day";
    "Become a published author" -> "I am a published author";
    "I will run a marathon" -> "I run a marathon".
    A heuristic, not a grammar: it is tuned on how people write goals, and the person can
    always edit plan.yaml (or give `affirmation`) when it reads wrong.
    """
    s = _DEADLINE.sub("", _first_sentence(text)).strip(" ,;:-")
    if not s:
        return ""
    s = re.sub(r"^I['’]m\b", "I am", s, flags=re.I)
    s = re.sub(r"^I['’]ll\b", "I will", s, flags=re.I)
    s = re.sub(r"\byourself\b", "myself", s, flags=re.I)
    s = re.sub(r"\byour\b", "my", s, flags=re.I)
    words = s.split()
    w0 = words[0].lower().strip(",")
    rest = " ".join(words[1:])

    if w0 == "i":
        body = _WISH_PREFIX.sub("", rest)
        out = "I " + body if body else "I am"
        if re.match(r"^I be\b", out):
            out = "I am" + out[4:]
    elif w0 in ("she", "he", "they") and len(words) > 1:
        verb = _base_verb(words[1])
        out = "I " + " ".join([verb, *words[2:]])
        out = re.sub(r"^I are\b", "I am", out)
        out = re.sub(r"^I were\b", "I am", out)
        return first_person(out)
    elif w0 in ("we", "my", "our"):
        out = "I love that " + _lower_first(s)
    elif w0 in ("become", "be"):
        out = "I am " + rest
    elif w0 in _VERBS:
        out = "I " + _lower_first(s)
    elif w0 in ("a", "an", "the"):
        out = ("I am " if _names_a_role(words[1:]) else "I have ") + _lower_first(s)
    elif _reads_as_state(words):
        out = "I am " + _lower_first(s)
    elif len(words) > 1 and re.match(r"^(a|an|the|my|our|\d)", words[1].lower()):
        out = "I " + _lower_first(s)  # "<verb> the/my/20% ...": an unlisted imperative
    else:
        out = "I enjoy " + _lower_first(s)
    return _shorten(_present_tense(out))


def _feelings_line(feelings: str) -> str:
    """ "powerful, alive, grateful" -> "I feel powerful, alive and grateful"."""
    s = _first_sentence(feelings)
    if re.match(r"^(I|we|my|our)\b", s, re.I):
        return first_person(s)
    parts = [p.strip() for p in re.split(r",|;|\band\b|&|/", s) if p.strip()]
    parts = [re.sub(r"^(?:feeling|feel)\s+", "", p, flags=re.I) for p in parts]
    parts = [_lower_first(p) for p in parts if p][:4]
    if not parts:
        return ""
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return _shorten(_present_tense("I feel " + joined))


def _action_items(actions: str) -> list[str]:
    """Split an actions text into single actions (one per line/semicolon/sentence)."""
    items = [a.strip(" -•*\t") for a in re.split(r"[;\n]|(?<=[.!?])\s+", actions)]
    items = [a.rstrip(" .!?") for a in items if a.strip(" -•*\t.")]
    if len(items) == 1 and "," in items[0]:
        pieces = [p.strip() for p in re.split(r",|\band\b", items[0]) if p.strip()]
        if (
            all(len(p.split()) > 1 for p in pieces)
            and sum(p.split()[0].lower() in _VERBS for p in pieces) >= 2
        ):
            items = pieces
    return items


_CATEGORY_LINES: dict[str, tuple[str, ...]] = {
    "health": (
        "I am healthy, strong and full of energy",
        "I love moving my body every day",
        "I nourish my body with care",
    ),
    "wealth": (
        "I am financially free and secure",
        "Money flows to me with ease",
        "I give generously from abundance",
    ),
    "career": (
        "I do meaningful work I am proud of",
        "I lead with clarity and confidence",
        "My work creates real value",
    ),
    "relationships": (
        "I am surrounded by love",
        "I give and receive love freely",
        "I am present with the people I love",
    ),
    "growth": (
        "I grow wiser and calmer every day",
        "I am becoming the best version of myself",
        "I learn something new every day",
    ),
    "lifestyle": (
        "I live a life I love",
        "I have time and freedom for what matters",
        "I enjoy every moment of my days",
    ),
}
_GENERIC_LINES = (
    "I am living my vision now",
    "I have everything I need to succeed",
    "I am grateful for this moment",
)
_MOODS: dict[str, str] = {
    "health": "fresh morning air, sunrise light, vitality and ease",
    "wealth": "calm abundance, warm golden light, quiet security",
    "career": "focused confidence, a bright modern space, warm window light",
    "relationships": "warmth, closeness and laughter in soft golden light",
    "growth": "quiet wonder at dawn, an open horizon, clarity",
    "lifestyle": "freedom and ease, turquoise water and a sunset glow",
}
_SHOTS = (
    "Wide establishing shot",
    "Medium shot",
    "Intimate close-up",
    "Golden-hour shot",
    "Over-the-shoulder shot",
    "Low-angle hero shot",
)
#: camera moves; each contains a keyword LocalMotion recognises, so the animatic follows them
_CAMERA = (
    "Slow push in toward the subject",
    "Slow pan left across the scene",
    "Slow pull out revealing the whole scene",
    "Gentle drift up toward the light",
    "Slow pan right across the scene",
    "Gentle drift down onto the subject",
)


@dataclass(frozen=True)
class _Beat:
    """One scene's content before it becomes a Scene: what is said, and the specific moment
    shown (an action, a feeling) on top of the goal's vision; empty for the vision itself."""

    affirmation: str
    moment: str = ""


def _beats(goal: Goal) -> list[_Beat]:
    """Candidate beats for a goal, best first: the person's own words before generic lines."""
    vision = " ".join(goal.vision.split())
    out: list[_Beat] = []
    if goal.affirmation and goal.affirmation.strip():
        out.append(_Beat(goal.affirmation.strip()))
    else:
        out.append(_Beat(first_person(vision)))
    actions = _action_items(goal.actions) if goal.actions else []
    if actions:
        out.append(_Beat(first_person(actions[0]), actions[0]))
    feelings = _first_sentence(goal.feelings).lower() if goal.feelings else ""
    if feelings:
        out.append(_Beat(_feelings_line(feelings), f"a moment that feels {feelings}"))
    out.extend(_Beat(first_person(a), a) for a in actions[1:])
    if goal.affirmation:
        out.append(_Beat(first_person(vision)))
    # details describe scenery ("String lights in the apple tree"): good pictures, poor
    # affirmations, so they go into the image prompt only
    lines = _CATEGORY_LINES.get(goal.category.strip().lower(), ())
    out.extend(_Beat(line) for line in (*lines, *_GENERIC_LINES))
    seen: set[str] = set()
    uniq: list[_Beat] = []
    for i, b in enumerate(out):
        key = b.affirmation.lower().rstrip(".!")
        verbatim = i == 0 and bool(goal.affirmation)  # the person's own line is never judged
        if b.affirmation and key not in seen and (verbatim or " will " not in f" {key} "):
            seen.add(key)
            uniq.append(b)
    return uniq


def snap_seconds(seconds: float, allowed: tuple[float, ...] | None) -> float:
    """Nearest allowed duration (ties go to the longer one, which never cuts a scene short)."""
    if not allowed:
        return float(seconds)
    return float(min(allowed, key=lambda a: (abs(a - seconds), -a)))


def _abs_str(p: Path) -> str:
    return str(p if p.is_absolute() else p.absolute())


class LocalPlanner:
    """Deterministic planner: scenes and affirmations straight from the person's words."""

    name = "local"
    model = "local-planner-1"

    async def plan(
        self,
        goals: Goals,
        options: PlanOptions,
        *,
        before_repair: Callable[[], Awaitable[None]] | None = None,
    ) -> Plan:
        return build_plan(goals, options)  # one free call, never a repair


def build_plan(goals: Goals, options: PlanOptions) -> Plan:
    """The plan itself, synchronous and pure (same goals and options -> identical plan)."""
    seconds = snap_seconds(options.scene_seconds, options.allowed_seconds)
    person = goals.person
    subject = (person.description.strip() if person and person.description else "") or "a person"
    person_photos = [_abs_str(p) for p in person.photos] if person else []
    style = (goals.style or "").strip() or (
        "cinematic photorealism, natural light, shallow depth of field, 16:9"
    )
    scenes: list[Scene] = []
    for gi, goal in enumerate(goals.goals, start=1):
        count = goal.scenes or max(1, options.scenes_per_goal)
        beats = _beats(goal)
        category = goal.category.strip()
        mood = _MOODS.get(category.lower(), "uplifting, hopeful, luminous light")
        goal_photos = [_abs_str(p) for p in goal.photos]
        vision = " ".join(goal.vision.split()).rstrip(". ")
        for n in range(1, count + 1):
            beat = beats[(n - 1) % len(beats)]
            scene_id = f"{gi:02d}-{slugify(category)}-{n}"
            shot = _SHOTS[(n - 1) % len(_SHOTS)]
            parts = [f"{shot} of {subject}. Scene: {vision}"]
            if beat.moment:
                parts.append(f"The moment: {_lower_first(beat.moment)}")
            if goal.details:
                parts.append(f"Setting: {' '.join(goal.details.split()).rstrip('. ')}")
            if goal.feelings:
                parts.append(f"Expression: {_first_sentence(goal.feelings).lower()}")
            parts.append(f"Mood: {mood}")
            parts.append(f"Style: {style.rstrip('. ')}")
            parts.append("No text, no captions, no logos")
            image_prompt = ". ".join(parts) + "."
            # consecutive scenes never share a camera move, and goals start on different ones
            camera = _CAMERA[(len(scenes) + gi - 1) % len(_CAMERA)]
            moving = _shorten(beat.moment or vision, 110)
            motion_prompt = (
                f"{camera}. Natural, gentle movement: {_lower_first(moving)}. "
                "Smooth, steady, cinematic; no cuts."
            )
            # in the person's order: the pipeline rotates through them scene by scene
            refs = list(goal_photos or person_photos)
            scenes.append(
                Scene(
                    id=scene_id,
                    goal=gi,
                    category=category,
                    affirmation=beat.affirmation,
                    image_prompt=image_prompt,
                    motion_prompt=motion_prompt,
                    seconds=seconds,
                    reference_photos=refs,
                )
            )
    return Plan(
        title=goals.title,
        closing=(goals.closing or "").strip() or DEFAULT_CLOSING,
        style=goals.style,
        music=str(goals.music) if goals.music else None,
        scenes=scenes,
    )


# ====================================================================== keyframes
@dataclass(frozen=True)
class Palette:
    """Colours of a painted keyframe, 0..1 RGB."""

    sky_top: RGB
    sky_mid: RGB
    horizon: RGB
    sun: RGB
    land: tuple[RGB, RGB, RGB]  # far, mid, near
    accent: RGB
    kind: str  # hills | mountains | sea | city
    bokeh: bool


def _c(r: int, g: int, b: int) -> RGB:
    return (r / 255.0, g / 255.0, b / 255.0)


PALETTES: dict[str, Palette] = {
    "health": Palette(
        _c(38, 118, 140),
        _c(120, 190, 190),
        _c(255, 203, 150),
        _c(255, 240, 200),
        (_c(120, 172, 150), _c(62, 140, 100), _c(28, 88, 60)),
        _c(200, 255, 220),
        "hills",
        False,
    ),
    "wealth": Palette(
        _c(14, 24, 62),
        _c(60, 70, 100),
        _c(240, 190, 92),
        _c(255, 224, 150),
        (_c(30, 84, 66), _c(16, 58, 46), _c(8, 32, 30)),
        _c(255, 210, 120),
        "hills",
        True,
    ),
    "career": Palette(
        _c(36, 66, 108),
        _c(110, 140, 175),
        _c(250, 214, 168),
        _c(255, 242, 214),
        (_c(96, 116, 140), _c(58, 78, 104), _c(30, 44, 64)),
        _c(255, 222, 170),
        "city",
        False,
    ),
    "relationships": Palette(
        _c(170, 96, 122),
        _c(232, 150, 150),
        _c(255, 208, 172),
        _c(255, 238, 214),
        (_c(204, 136, 134), _c(160, 96, 106), _c(104, 56, 72)),
        _c(255, 196, 184),
        "hills",
        True,
    ),
    "growth": Palette(
        _c(60, 44, 118),
        _c(140, 130, 200),
        _c(252, 196, 164),
        _c(255, 234, 206),
        (_c(124, 114, 176), _c(80, 70, 132), _c(42, 38, 84)),
        _c(214, 194, 255),
        "mountains",
        False,
    ),
    "lifestyle": Palette(
        _c(26, 140, 168),
        _c(120, 200, 205),
        _c(255, 172, 112),
        _c(255, 224, 160),
        (_c(40, 150, 168), _c(26, 110, 140), _c(232, 204, 156)),
        _c(255, 230, 190),
        "sea",
        False,
    ),
}
_KIND_WORDS = (
    ("sea", ("sea", "ocean", "beach", "coast", "shore", "surf", "lake", "island", "sail")),
    ("city", ("city", "office", "skyline", "downtown", "studio", "stage", "street")),
    ("mountains", ("mountain", "peak", "summit", "alps", "climb")),
    ("hills", ("garden", "park", "forest", "meadow", "field", "trail", "countryside")),
)


def _hsv(h: float, s: float, v: float) -> RGB:
    return colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))


def palette_for(category: str, prompt: str = "") -> Palette:
    """The category's palette; unknown categories get one derived from the name's hash.

    The prompt may change the landscape (a beach prompt paints the sea whatever the
    category) so that the animatic matches the words on screen.
    """
    key = category.strip().lower()
    pal = PALETTES.get(key)
    if pal is None:
        h = (_stable_int("palette", key) % 1000) / 1000.0
        pal = Palette(
            _hsv(h, 0.65, 0.45),
            _hsv(h + 0.03, 0.35, 0.78),
            _hsv(h + 0.45, 0.35, 1.0),
            _hsv(h + 0.45, 0.15, 1.0),
            (_hsv(h - 0.05, 0.30, 0.62), _hsv(h - 0.05, 0.45, 0.45), _hsv(h - 0.05, 0.55, 0.26)),
            _hsv(h + 0.5, 0.25, 1.0),
            ("hills", "mountains", "sea", "city")[_stable_int("kind", key) % 4],
            _stable_int("bokeh", key) % 2 == 0,
        )
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    for kind, keys in _KIND_WORDS:
        if any(k in words or f"{k}s" in words for k in keys):
            if kind != pal.kind:
                pal = Palette(
                    pal.sky_top,
                    pal.sky_mid,
                    pal.horizon,
                    pal.sun,
                    pal.land,
                    pal.accent,
                    kind,
                    pal.bokeh,
                )
            break
    return pal


def _smoothstep(e0: float | F32, e1: float | F32, x: F32) -> F32:
    t = np.clip((x - e0) / (np.asarray(e1) - e0 + 1e-9), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _jitter(c: RGB, rng: np.random.Generator, amount: float = 0.06) -> NDArray[np.float32]:
    j = rng.uniform(1.0 - amount, 1.0 + amount, 3)
    return np.clip(np.asarray(c) * j, 0.0, 1.0).astype(np.float32)


def _ridge(rng: np.random.Generator, width: int, octaves: int, rough: float) -> F32:
    """1-D fractal noise in [-1, 1] along x: the silhouette of hills or mountains."""
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    out = np.zeros(width, dtype=np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        n = 3 * 2**o + 1
        pts = rng.uniform(-1.0, 1.0, n + 1).astype(np.float32)
        # cosine interpolation: smooth slopes for hills, sharper peaks come from octaves
        idx = np.minimum((x * n).astype(np.int32), n - 1)
        f = x * n - idx
        w = (1.0 - np.cos(f * np.pi)) * 0.5
        out += amp * (pts[idx] * (1.0 - w) + pts[idx + 1] * w)
        total += amp
        amp *= rough
    return (out / total).astype(np.float32)


def _blend(img: F32, r0: int, mask: F32, colour: F32) -> None:
    """Lay `colour` over rows r0.. of `img` through `mask` (in place; rows above untouched)."""
    part = img[r0:]
    part += (colour - part) * mask[..., None]


def paint_keyframe(prompt: str, seed: int, width: int, height: int, category: str = "") -> bytes:
    """Paint a calm, text-free landscape as PNG bytes, deterministic in (prompt, seed).

    Sky gradient, sun glow, layered horizon (hills, mountains, sea or skyline), optional
    bokeh, fine grain and a vignette: something pleasant to review, not a grey box.
    """
    rng = np.random.default_rng(_stable_int("paint", prompt, seed))
    pal = palette_for(category, prompt)
    W, H = width, height
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :]
    aspect = W / H

    top, mid, hor = _jitter(pal.sky_top, rng), _jitter(pal.sky_mid, rng), _jitter(pal.horizon, rng)
    sun_c = _jitter(pal.sun, rng, 0.03)
    horizon = float(rng.uniform(0.56, 0.68))
    # --- sky: three-stop vertical gradient, a touch of diagonal light
    t = np.clip(y / horizon, 0.0, 1.0)
    t1 = np.clip(t / 0.55, 0.0, 1.0)
    t2 = np.clip((t - 0.55) / 0.45, 0.0, 1.0) ** 1.2
    sky_col = (top * (1 - t1[..., None]) + mid * t1[..., None]) * (1 - t2[..., None]) + hor * t2[
        ..., None
    ]
    img: F32 = np.empty((H, W, 3), dtype=np.float32)
    img[:] = sky_col.astype(np.float32)

    # --- sun and glow (screen blend so it brightens without clipping to flat white)
    sx = float(rng.uniform(0.22, 0.78))
    sy = horizon - float(rng.uniform(0.03, 0.16))
    d = np.sqrt(((x - sx) * aspect) ** 2 + (y - sy) ** 2)
    glow = 0.55 * np.exp(-((d / 0.38) ** 2)) + 0.45 * np.exp(-((d / 0.09) ** 2))
    r_sun = float(rng.uniform(0.035, 0.06))
    glow = np.clip(glow + _smoothstep(r_sun + 0.004, r_sun - 0.004, d), 0.0, 1.0)
    img = 1.0 - (1.0 - img) * (1.0 - glow[..., None] * sun_c)

    far, midl, near = (_jitter(c, rng) for c in pal.land)
    haze = hor
    edge = 1.2 / H
    if pal.kind == "sea":
        # water below the horizon: the sky's horizon colour deepening to the sea colour,
        # with a glittering path under the sun
        r0 = max(0, int(horizon * H) - 2)
        ys = y[r0:]
        wt = np.clip((ys - horizon) / (1.0 - horizon), 0.0, 1.0) ** 0.6
        water = hor * 0.75 * (1 - wt[..., None]) + far * wt[..., None]
        sparkle = rng.uniform(0.0, 1.0, (H - r0, 1)).astype(np.float32) ** 3
        path = np.exp(-(((x - sx) * aspect / (0.05 + 0.25 * wt)) ** 2)) * sparkle
        water = water + (path * 0.8)[..., None] * sun_c
        _blend(img, r0, _smoothstep(horizon - edge, horizon + edge, ys), np.clip(water, 0, 1))
        # a beach in the foreground
        sand_y = 0.86 + 0.06 * _ridge(rng, W, 2, 0.4)[None, :] + 0.04 * (x - 0.5)
        r0 = max(0, int(float(sand_y.min()) * H) - 3)
        ys = y[r0:]
        sand = near * (1.0 - 0.25 * np.clip((ys - 0.85) / 0.15, 0, 1))[..., None]
        _blend(img, r0, _smoothstep(sand_y - 2 * edge, sand_y + 2 * edge, ys), sand)
    elif pal.kind == "city":
        for layer, (col, base, hmax) in enumerate(
            ((far, horizon - 0.02, 0.22), (near, horizon + 0.06, 0.30))
        ):
            sky_line = np.full(W, base, dtype=np.float32)
            xpos = 0
            while xpos < W:
                bw = int(rng.uniform(0.025, 0.07) * W) + 1
                sky_line[xpos : xpos + bw] = base - float(rng.uniform(0.04, hmax))
                xpos += bw + int(rng.uniform(0.0, 0.01) * W)
            r0 = max(0, int(float(sky_line.min()) * H) - 2)
            ys = y[r0:]
            m = _smoothstep(sky_line[None, :] - edge, sky_line[None, :] + edge, ys)
            c = np.clip(col * 0.9 + haze * (0.35 if layer == 0 else 0.12), 0, 1)
            shade = c[None, None, :] * (1.0 - 0.35 * (ys - horizon).clip(0))[..., None]
            if layer == 1:
                # warm lit windows on a sparse grid, only inside the near buildings
                cell_x = (x * W / max(6.0, W / 160)).astype(np.int32)
                cell_y = (ys * H / max(8.0, H / 90)).astype(np.int32)
                lit = ((cell_x * 73856093) ^ (cell_y * 19349663) ^ (seed & 0xFFFF)) % 7 == 0
                lit &= (cell_x % 2 == 0) & (cell_y % 2 == 0)
                shade = shade + lit[..., None].astype(np.float32) * (sun_c * 0.55)
            _blend(img, r0, m, shade)
        r0 = int(0.93 * H) - 2
        ys = y[r0:]
        _blend(img, r0, _smoothstep(0.93 - edge, 0.93 + edge, ys), np.asarray(near * 0.6))
    else:
        octaves, rough, amp = (6, 0.55, 0.16) if pal.kind == "mountains" else (3, 0.45, 0.06)
        layers = (
            (far, horizon - 0.02, 0.55),
            (midl, horizon + 0.08, 0.25),
            (near, horizon + 0.2, 0.0),
        )
        lit = 0.18 * np.exp(-(((x - sx) * aspect / 0.45) ** 2))  # lit on the sun side
        for k, (col, base, hz) in enumerate(layers):
            noise = _ridge(rng, W, octaves - k // 2, rough)
            ridge = base - amp * (1.2 - 0.3 * k) * (0.5 + 0.5 * noise)
            r0 = max(0, int(float(ridge.min()) * H) - 2)
            ys = y[r0:]
            m = _smoothstep(ridge[None, :] - edge, ridge[None, :] + edge, ys)
            depth = np.clip((ys - ridge[None, :]) / 0.35, 0.0, 1.0)
            c = col * (1.0 - hz) + haze * hz
            shade = c * (1.0 - 0.35 * depth[..., None]) + (lit * (1.0 - depth))[..., None] * sun_c
            _blend(img, r0, m, np.clip(shade, 0, 1))

    # --- bokeh: soft discs of light, only their bounding boxes are touched
    if pal.bokeh or rng.uniform() < 0.2:
        acc = _jitter(pal.accent, rng, 0.05)
        for _ in range(int(rng.integers(14, 26))):
            r = float(rng.uniform(0.02, 0.075)) * H
            cx, cy = float(rng.uniform(0, W)), float(rng.uniform(0, H * 0.9))
            x0, x1 = max(0, int(cx - r - 2)), min(W, int(cx + r + 3))
            y0, y1 = max(0, int(cy - r - 2)), min(H, int(cy + r + 3))
            if x0 >= x1 or y0 >= y1:
                continue
            yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            dd = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
            a = _smoothstep(r + 1.5, r - 1.5, dd) * float(rng.uniform(0.08, 0.22))
            a = a * (0.8 + 0.2 * dd / r)  # brighter rim, like a real lens
            patch = img[y0:y1, x0:x1]
            img[y0:y1, x0:x1] = 1.0 - (1.0 - patch) * (1.0 - a[..., None] * acc)

    # --- vignette and grain, then to 8-bit
    v = 1.0 - 0.38 * np.clip(((x - 0.5) ** 2 * 1.6 + (y - 0.5) ** 2 * 2.0) / 0.9, 0.0, 1.0) ** 1.4
    img *= v[..., None]
    grain = rng.standard_normal((H, W), dtype=np.float32) * np.float32(0.012)
    img += grain[..., None]
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def fit_photo(path: Path, width: int, height: int) -> bytes:
    """The person's photo cover-cropped to the frame (centred, EXIF orientation honoured)."""
    try:
        with Image.open(path) as im:
            side = max(width, height)  # square: the photo may be rotated by its EXIF tag
            im.draft("RGB", (side, side))  # JPEG: decode at a reduced scale when possible
            photo = ImageOps.exif_transpose(im).convert("RGB")
    except FileNotFoundError as e:
        raise InvalidRequest(f"photo not found: {path}", provider="local") from e
    except (UnidentifiedImageError, OSError) as e:
        raise InvalidRequest(f"not a readable image: {path} ({e})", provider="local") from e
    fitted = ImageOps.fit(
        photo, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5)
    )
    buf = io.BytesIO()
    fitted.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


class LocalKeyframes:
    """Keyframes offline: the person's photo fitted to the frame, else a painted scene."""

    name = "local"
    model = "local-painter-1"

    async def generate(self, request: KeyframeRequest) -> ImageResult:
        if request.width < 2 or request.height < 2:
            raise InvalidRequest(
                f"size {request.width}x{request.height} is too small",
                provider=self.name,
                scene_id=request.scene_id,
            )
        if request.source_photo is not None:
            data = await asyncio.to_thread(
                fit_photo, request.source_photo, request.width, request.height
            )
            usage = {"source": "photo", "photo": str(request.source_photo)}
        else:
            data = await asyncio.to_thread(
                paint_keyframe,
                request.prompt,
                request.seed,
                request.width,
                request.height,
                request.category,
            )
            usage = {"source": "painted"}
        return ImageResult(
            data=data, mime="image/png", usage=usage, remote_id=f"local:{request.scene_id}"
        )


# ====================================================================== motion
@dataclass(frozen=True)
class Move:
    """A Ken Burns move: zoom z0 -> z1 while the window's offset goes (fx0, fy0) -> (fx1, fy1).

    Offsets are in [-1, 1] of the margin the zoom leaves (-1: window at the left/top edge),
    so the window never leaves the picture whatever the zoom.
    """

    name: str
    z0: float
    z1: float
    fx0: float = 0.0
    fy0: float = 0.0
    fx1: float = 0.0
    fy1: float = 0.0

    @property
    def zmax(self) -> float:
        return max(self.z0, self.z1)


def choose_move(prompt: str, key: str) -> Move:
    """The move the motion prompt asks for (push in, pull out, pan, drift), else by hash."""
    p = prompt.lower()
    h = _stable_int("move", key, prompt)
    fx = ((h >> 8) % 1000 / 1000.0 - 0.5) * 1.2  # zoom target off centre, deterministic
    fy = ((h >> 20) % 1000 / 1000.0 - 0.5) * 0.8
    rules: tuple[tuple[tuple[str, ...], Move], ...] = (
        (
            ("pull out", "pull back", "zoom out", "dolly out", "pulls out", "pulls back"),
            Move("pull-out", 1.14, 1.0, fx, fy, fx, fy),
        ),
        (
            ("push in", "zoom in", "dolly in", "pushes in", "close in", "move in"),
            Move("push-in", 1.0, 1.14, fx, fy, fx, fy),
        ),
        (("pan left", "pans left"), Move("pan-left", 1.12, 1.15, 0.85, fy * 0.5, -0.85, fy * 0.5)),
        (
            ("pan right", "pans right"),
            Move("pan-right", 1.12, 1.15, -0.85, fy * 0.5, 0.85, fy * 0.5),
        ),
        (
            ("drift up", "tilt up", "pan up", "rise", "crane up"),
            Move("drift-up", 1.12, 1.15, fx * 0.5, 0.85, fx * 0.5, -0.85),
        ),
        (
            ("drift down", "tilt down", "pan down", "crane down"),
            Move("drift-down", 1.12, 1.15, fx * 0.5, -0.85, fx * 0.5, 0.85),
        ),
    )
    best: tuple[int, Move] | None = None
    for words, move in rules:
        for w in words:
            m = re.search(rf"\b{w}\b", p)  # whole words: "sunrise" is not "rise"
            if m and (best is None or m.start() < best[0]):  # the first move named wins
                best = (m.start(), move)
    if best is not None:
        return best[1]
    return rules[h % len(rules)][1]


def ease(t: float) -> float:
    """Cosine ease-in-out blended with linear: starts and ends gently but never stops dead,
    so the picture is still alive while a crossfade shows the clip's first/last frames."""
    t = min(max(t, 0.0), 1.0)
    return 0.3 * t + 0.7 * (0.5 - 0.5 * math.cos(math.pi * t))


def _prepare_source(keyframe: Path, width: int, height: int, zmax: float) -> Image.Image:
    """Keyframe cover-fitted to the output aspect, at 1x..1.3x the needed size, once.

    Resampling once up front keeps each frame's transform cheap (sampling ~1:1) and avoids
    both upsampling blur at full zoom and aliasing from a much larger keyframe.
    """
    try:
        with Image.open(keyframe) as im:
            src = ImageOps.exif_transpose(im).convert("RGB")
    except FileNotFoundError as e:
        raise InvalidRequest(f"keyframe not found: {keyframe}", provider="local") from e
    except (UnidentifiedImageError, OSError) as e:
        raise InvalidRequest(f"keyframe unreadable: {keyframe} ({e})", provider="local") from e
    # cover-crop to the output aspect without resampling
    sw, sh = src.size
    target = width / height
    if abs(sw / sh - target) > 1e-3:
        if sw / sh > target:
            cw = max(1, round(sh * target))
            left = (sw - cw) // 2
            src = src.crop((left, 0, left + cw, sh))
        else:
            ch = max(1, round(sw / target))
            top = (sh - ch) // 2
            src = src.crop((0, top, sw, top + ch))
    scale = src.size[0] / width
    want = min(max(scale, zmax), max(1.3, zmax))
    if abs(want - scale) > 1e-3:
        size = (max(1, round(width * want)), max(1, round(height * want)))
        src = src.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0 if want < scale else None)
    return src


def frame_windows(
    move: Move, n_frames: int, src_w: int, src_h: int
) -> list[tuple[float, float, float, float]]:
    """Per frame (left, top, width, height) of the source window, as exact floats."""
    out = []
    lz0, lz1 = math.log(move.z0), math.log(move.z1)
    for i in range(n_frames):
        e = ease(i / (n_frames - 1)) if n_frames > 1 else 0.0
        z = math.exp(lz0 + (lz1 - lz0) * e)  # log-space: constant perceived zoom speed
        fx = move.fx0 + (move.fx1 - move.fx0) * e
        fy = move.fy0 + (move.fy1 - move.fy0) * e
        ww, wh = src_w / z, src_h / z
        left = (src_w - ww) * (fx + 1.0) / 2.0
        top = (src_h - wh) * (fy + 1.0) / 2.0
        out.append((left, top, ww, wh))
    return out


def render_ken_burns(
    keyframe: Path,
    dest: Path,
    *,
    seconds: float,
    fps: int,
    width: int,
    height: int,
    prompt: str = "",
    key: str = "",
) -> Path:
    """Render the clip (atomically: temp name beside dest, then rename). Blocking."""
    if width % 2 or height % 2:
        raise InvalidRequest(
            f"H.264 yuv420p needs even sizes, got {width}x{height}", provider="local"
        )
    if fps <= 0 or seconds <= 0:
        raise InvalidRequest(f"bad clip timing: {seconds}s at {fps} fps", provider="local")
    n_frames = max(1, round(seconds * fps))
    move = choose_move(prompt, key)
    src = _prepare_source(keyframe, width, height, move.zmax)
    windows = frame_windows(move, n_frames, *src.size)

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(dest)
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-r",
        str(fps),
        "-i",
        "-",
        "-an",
        # BT.709 and tagged so: what players assume for HD, and what the compositor then
        # passes through without a conversion (ffmpeg's default would be untagged 601)
        "-vf",
        "scale=out_color_matrix=bt709:out_range=tv,"
        "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        "-color_range",
        "tv",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-r",
        str(fps),
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(tmp),
    ]
    src_w, src_h = src.size

    def render(window: tuple[float, float, float, float]) -> bytes:
        left, top, ww, wh = window
        # A float box: PIL's separable resampler samples the exact sub-pixel window (the
        # maths of an AFFINE transform, ~2x faster, and antialiased). Clamped only against
        # float round-off: the windows lie inside the picture by construction.
        box = (
            max(0.0, left),
            max(0.0, top),
            min(float(src_w), left + ww),
            min(float(src_h), top + wh),
        )
        frame = src.resize((width, height), Image.Resampling.BICUBIC, box=box)
        return frame.tobytes()

    with tempfile.TemporaryFile() as log, ThreadPoolExecutor(max_workers=2) as pool:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        assert proc.stdin is not None
        broken = False
        try:
            # frames are drawn ahead by two threads (PIL releases the GIL) while the pipe
            # feeds ffmpeg; the window is small so memory stays at a few frames
            pending: deque[Future[bytes]] = deque()
            it = iter(windows)
            for w in itertools.islice(it, 3):
                pending.append(pool.submit(render, w))
            while pending:
                data = pending.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(render, nxt))
                try:
                    proc.stdin.write(data)
                except BrokenPipeError:
                    broken = True
                    break
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                broken = True
            rc = proc.wait()
        if rc != 0 or broken:
            log.seek(0)
            tail = "\n".join(log.read().decode("utf-8", "replace").strip().splitlines()[-10:])
            tmp.unlink(missing_ok=True)
            raise JobFailed(f"ffmpeg failed ({rc}) rendering {dest.name}: {tail}", provider="local")
    commit_file(tmp, dest)
    return dest


class LocalMotion:
    """Ken Burns image-to-video, rendered locally at fetch time.

    There is no remote job: submit names one, poll says it is done, and fetch does the
    (deterministic, re-runnable) work, so the pipeline's journal treats it like any model.
    """

    name = "local"
    model = "local-kenburns-1"

    async def submit(self, request: VideoRequest) -> str:
        return f"local:{request.scene_id}"

    async def poll(self, remote_id: str) -> JobState:
        return JobState(remote_id=remote_id, status="succeeded")

    async def fetch(self, state: JobState, request: VideoRequest, dest: Path) -> Path:
        try:
            return await asyncio.to_thread(
                render_ken_burns,
                request.keyframe,
                dest,
                seconds=request.seconds,
                fps=request.fps,
                width=request.width,
                height=request.height,
                prompt=request.prompt,
                key=f"{request.scene_id}:{request.seed}",
            )
        except (InvalidRequest, JobFailed) as e:
            e.scene_id = e.scene_id or request.scene_id
            raise
