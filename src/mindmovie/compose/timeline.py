"""The movie's timeline: the single truth of what is on screen when.

Pure (no I/O, no ffmpeg) so it is cheap to test and both renderers draw the same thing.
Times are integer frames: seconds are rounded once, here, so segment lengths add up to
the movie's length exactly and no renderer accumulates float drift. What is rounded is
each item's exact start (`_place`), not each length: the rounding errors of many items
do not add up, and the movie is within a frame of its exact length.

Layout: title card, scenes in order, closing card; adjacent items overlap by their
transition's length (`Timeline.transition_frames`: the configured crossfade, shorter
only next to an item too short for it) and are blended there (a true crossfade, both
pictures visible).
The renderer cuts the timeline into segments: each item's *body* (the part outside any
crossfade) and each *transition* (the overlap of two items). Every segment carries a
content key, a sha256 of everything that decides its pixels, in item-local terms, so
editing one scene changes only that scene's body and its two transitions, and changing
one scene's length by whole frames (whole seconds, at any rate) does not invalidate the
segments of the scenes after it. (By a fraction of a frame, it moves the rounding of
the later starts: some later items then get a frame more or less, and are redone.)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

#: Bump when the renderer draws differently, so cached segments are not reused (12: a
#: clip with millisecond timestamps plays every frame once, see ffmpeg.PTS_SLACK; 13:
#: so does one whose millisecond times were remuxed into a finer time base; 14: every
#: segment is encoded with the same SPS, a card's too, see ffmpeg.chunk_args; 15: Chinese
#: and Japanese text wraps between its characters, see cards._units; 16: a chunk of
#: under 8 frames is encoded padded, so its decode times are those of every other
#: segment, see ffmpeg.MIN_CHUNK_FRAMES; 17: a run of letters wider than the box is
#: split between grapheme clusters, see cards._cluster_start; 18: a hyphenated word breaks
#: after its hyphens before it is split by width, see cards._after_hyphen; 19: every
#: segment says the level its frame size and rate need, see ffmpeg.h264_level: a cached
#: one of x264's own level would join a new one with another SPS; 20: each wrapped line
#: of a right-to-left paragraph is drawn in its direction (without libraqm, put in
#: display order: fonts.visual_line), blank lines at a text's start are not drawn, no
#: line breaks at a no-break space and a long word breaks at its soft hyphens, see
#: cards._wrap; 21: U+2028, U+2029, NEL and a lone CR break lines as a newline does, see
#: fonts.text_lines: a cached card or segment of such a text showed them as spaces, and
#: its key, of the same text, would have kept it; 22: a 1-frame segment no longer
#: shares its time stamp with the next one in its chunk, whose encoder dropped a frame
#: from the third such and cut every later segment of the chunk a frame early, see
#: ffmpeg.chunk_args: a cached segment may hold its neighbour's frames).
RENDERER_VERSION = "compose-ffmpeg-22"
#: The built-in music bed's version (compose/audio.py): part of the audio track's key,
#: so a track cached with an older bed is not reused.
BED_VERSION = "bed-4"
#: The audio pass's version (compose/audio.py's filter graph): part of the audio track's
#: key, so a track made by an older pass is made again (video segments are kept). (6:
#: the track is the movie's length to the sample, after loudnorm too; 7: measured
#: first, one gain for the whole track, see audio.render_audio; 8: a clip's sound fades
#: out over its own end, also when that is before its scene's, see audio.audio_args;
#: 9: and is declicked where it starts, also when that is after its scene's start,
#: see audio._declick_onset; 10: a sound that never reaches that onset level is kept,
#: not silenced; 11: a song of a loudness range over 11 LU is given one gain too, see
#: audio.measure_loudness: it was compressed, ~6 dB under the target.)
AUDIO_VERSION = "audio-11"

#: quality -> (x264 preset, crf). "standard" is `faster`: on 2 cores it encodes 720p
#: several times faster than real time with no visible loss at CRF 21 on soft, slow
#: generated footage; `high` is for a final export, `draft` for a quick look.
QUALITY: dict[str, tuple[str, int]] = {
    "draft": ("superfast", 27),
    "standard": ("faster", 21),
    "high": ("slow", 18),
}

#: quality -> the AAC encoder's options. ffmpeg's own AAC encoder takes ~15 ms of CPU a
#: second of sound at 192 kb/s with its default coder (twoloop): the audio pass was the
#: compose's dearest part in a short draft. `draft` takes its fast coder at 128 kb/s:
#: ~40% less CPU (0.28 -> 0.17 s for 15.5 s of the built-in bed, 8 runs each), for a
#: quick look
AAC_BY_QUALITY: dict[str, tuple[str, ...]] = {
    "draft": ("-b:a", "128k", "-aac_coder", "fast"),
    "standard": ("-b:a", "192k"),
    "high": ("-b:a", "192k"),
}

_SIZES: dict[str, int] = {"480p": 480, "720p": 720, "1080p": 1080}
_WIDE: dict[int, int] = {480: 854, 720: 1280, 1080: 1920}
ASPECTS = ("16:9", "9:16", "1:1")

#: The movie opens from black and ends in black (only the very first/last frames; the
#: crossfades between items never dip). Seconds, clamped to the card's body.
OPEN_FADE_SECONDS = 0.5
CLOSE_FADE_SECONDS = 1.0
#: The affirmation fades in once its scene is fully on screen (after the incoming
#: crossfade), so two texts are never legible on top of each other.
TEXT_DELAY_SECONDS = 0.15
TEXT_FADE_SECONDS = 0.6
#: Audio bed fades.
MUSIC_FADE_IN = 2.0
#: shortest fade of a clip's sound, at a cut: a sound that starts or stops dead clicks
CLIP_DECLICK = 0.01
MUSIC_FADE_OUT = 3.0


def output_size(aspect: str, resolution: str) -> tuple[int, int]:
    """Frame size for an aspect and a resolution name; both sides even (4:2:0 needs it)."""
    if resolution not in _SIZES:
        raise ValueError(f"resolution {resolution!r}: expected one of {', '.join(_SIZES)}")
    short = _SIZES[resolution]
    if aspect == "16:9":
        return _WIDE[short], short
    if aspect == "9:16":
        return short, _WIDE[short]
    if aspect == "1:1":
        return short, short
    raise ValueError(f"aspect {aspect!r}: expected one of {', '.join(ASPECTS)}")


@dataclass(frozen=True)
class OutputSpec:
    """The finished movie's frame, rate, timings and encoder quality."""

    width: int
    height: int
    fps: int = 24
    crossfade: float = 1.0
    title_seconds: float = 3.0
    closing_seconds: float = 3.0
    quality: str = "standard"

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"frame {self.width}x{self.height}: sides must be positive and even")
        if not 1 <= self.fps <= 240:
            raise ValueError(f"fps {self.fps}: expected 1..240")
        if self.crossfade < 0:
            raise ValueError(f"crossfade {self.crossfade}: must be >= 0 seconds")
        if self.title_seconds <= 0 or self.closing_seconds <= 0:
            raise ValueError("title_seconds and closing_seconds must be > 0")
        if self.quality not in QUALITY:
            raise ValueError(f"quality {self.quality!r}: expected one of {', '.join(QUALITY)}")

    def frames(self, seconds: float) -> int:
        """Seconds -> whole frames (rounded), at least one."""
        return max(1, round(seconds * self.fps))

    @property
    def encoder(self) -> tuple[str, int]:
        return QUALITY[self.quality]


@dataclass(frozen=True)
class SceneInput:
    """One scene as the pipeline hands it over: a clip and its affirmation."""

    id: str
    affirmation: str
    seconds: float
    clip: Path
    clip_sha256: str
    has_audio: bool = False
    #: the matrix to read the clip's YUV with (`media.clip_matrix`); "" = ffmpeg's default
    clip_matrix: str = ""
    #: the clip's HDR transfer (`media.clip_hdr`: PQ or HLG), tone mapped to BT.709 SDR;
    #: "" for SDR
    clip_hdr: str = ""


@dataclass(frozen=True)
class MovieInput:
    title: str
    closing: str
    scenes: tuple[SceneInput, ...]
    music: Path | None
    music_sha256: str | None


ItemKind = Literal["title", "scene", "closing"]


@dataclass(frozen=True)
class Item:
    """One picture source on the timeline: a card or a scene (clip + overlay)."""

    id: str
    kind: ItemKind
    start: int  # global frame of the first frame (inclusive)
    end: int  # global frame after the last frame (exclusive)
    text: str  # card text, or the scene's affirmation
    clip: Path | None = None
    clip_sha256: str | None = None
    has_audio: bool = False
    clip_matrix: str = ""
    clip_hdr: str = ""
    #: the font the text is drawn with (`cards.face_for`; "" = the built-in one): a part
    #: of the key, so installing a font that has the text's characters redraws it
    face: str = ""
    #: item-local frames: fade from black at the start / to black at the end (0 = none)
    fade_in_frames: int = 0
    fade_out_frames: int = 0
    #: scenes: the overlay text fades in over [text_in, text_in + text_fade) local frames
    text_in: int = 0
    text_fade: int = 0

    @property
    def frames(self) -> int:
        return self.end - self.start

    def identity(self) -> dict[str, object]:
        """What decides this item's pixels, in item-local terms (no global position)."""
        return {
            "kind": self.kind,
            "text": self.text,
            "clip_sha256": self.clip_sha256,
            "clip_matrix": self.clip_matrix,
            "face": self.face,
            "frames": self.frames,
            "fade": [self.fade_in_frames, self.fade_out_frames],
            "text_fade": [self.text_in, self.text_fade],
            # only when set: an SDR clip's segments keep their keys (and cache)
            **({"clip_hdr": self.clip_hdr} if self.clip_hdr else {}),
        }

    def text_alpha(self, local: int) -> float:
        """Opacity of the overlay text at an item-local frame (scenes only)."""
        if self.kind != "scene" or not self.text.strip():
            return 0.0
        if self.text_fade <= 0:
            return 1.0 if local >= self.text_in else 0.0
        return min(1.0, max(0.0, (local - self.text_in) / self.text_fade))


@dataclass(frozen=True)
class Part:
    """The slice [first, last) of item `item` (index into Timeline.items), item-local frames."""

    item: int
    first: int
    last: int


@dataclass(frozen=True)
class Segment:
    """A separately encoded piece: an item's body or the transition between two items."""

    id: str
    kind: Literal["body", "transition"]
    start: int
    end: int
    parts: tuple[Part, ...]  # one for a body; (outgoing, incoming) for a transition
    key: str

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class AudioClip:
    """A clip's own sound, placed at its scene's start and cut to the scene's length."""

    scene_id: str
    clip: Path
    clip_sha256: str
    start: float
    seconds: float
    #: the sound fades in and out with the picture: over the crossfades into and out of
    #: its scene (at least `CLIP_DECLICK` at a cut), so it never starts or stops dead;
    #: the fade out ends where the sound does (before the scene's end for a short clip),
    #: and it is declicked where it starts (after the scene's start for a sound that
    #: starts after its picture)
    fade_in: float = 0.0
    fade_out: float = 0.0


@dataclass(frozen=True)
class AudioBed:
    """The whole movie's sound: music (None = the built-in bed) plus clip audio under it."""

    music: Path | None
    music_sha256: str | None
    duration: float
    fade_in: float
    fade_out: float
    clips: tuple[AudioClip, ...]
    key: str
    #: the AAC encoder's options (`AAC_BY_QUALITY`)
    aac: tuple[str, ...] = ("-b:a", "192k")


@dataclass(frozen=True)
class Timeline:
    spec: OutputSpec
    items: tuple[Item, ...]
    segments: tuple[Segment, ...]
    audio: AudioBed
    total_frames: int
    #: frames items i and i+1 overlap by (0 = a hard cut), one per pair of neighbours:
    #: the configured crossfade, shortened only next to a short item (build_timeline)
    transition_frames: tuple[int, ...]
    notes: tuple[str, ...] = field(default=())
    #: scenes too short to show their affirmation (`_unseen_text_notes`): said apart from
    #: `notes` (the crossfade shortenings), which they do not change
    text_notes: tuple[str, ...] = field(default=())

    @property
    def fps(self) -> int:
        return self.spec.fps

    @property
    def duration(self) -> float:
        return self.total_frames / self.spec.fps

    def on_screen(self, frame: int) -> list[tuple[Item, int, float]]:
        """(item, item-local frame, weight) visible at a global frame; weights sum to 1.

        In a transition of C frames the incoming item's weight at its local frame k is
        k / C (xfade's `fade`): the first transition frame is the outgoing picture, and
        both pictures are visible in between. C is that transition's own length.
        """
        if not 0 <= frame < self.total_frames:
            raise IndexError(f"frame {frame} outside 0..{self.total_frames - 1}")
        live = [(it, frame - it.start) for it in self.items if it.start <= frame < it.end]
        if len(live) == 1:
            return [(live[0][0], live[0][1], 1.0)]
        (a, la), (b, lb) = live
        w = lb / (a.end - b.start)
        return [(a, la, 1.0 - w), (b, lb, w)]


def _key(payload: dict[str, object]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _clip_fades(items: list[Item], i: int, fps: int) -> tuple[float, float]:
    """Seconds item i's clip sound fades in and out over: its crossfades with the items
    before and after it (at least CLIP_DECLICK), each at most half the scene."""
    it = items[i]
    over_in = items[i - 1].end - it.start if i > 0 else 0
    over_out = it.end - items[i + 1].start if i + 1 < len(items) else 0
    half = it.frames / fps / 2
    return (
        min(half, max(CLIP_DECLICK, over_in / fps)),
        min(half, max(CLIP_DECLICK, over_out / fps)),
    )


def _transitions(lengths: list[int], xf: int) -> tuple[int, ...]:
    """Frames each pair of neighbours overlaps by: the crossfade `xf`, but at most half
    of either item (floor), so an item's incoming and outgoing transitions fit in it
    side by side. Only a short item's own transitions are shortened."""
    return tuple(min(xf, a // 2, b // 2) for a, b in itertools.pairwise(lengths))


def _place(
    seconds: list[float], trans: tuple[int, ...], xf: int, crossfade: float, fps: int
) -> list[tuple[int, int]]:
    """Each item's [start, end) frames: its exact start, the seconds of the items before
    it less their crossfades, rounded to a frame; it ends its crossfade into the next
    item after the next one starts (the last one: the movie's exact end, rounded).

    Rounding each item's and each crossfade's length apiece added their errors up: 50
    scenes of 2.37 s with 0.7 s crossfades came out 38 frames (1.5 s) short at 25 fps,
    200 of 1.61 s 6 s short, the movie and its sound ending early. So a length is what
    lies between two rounded exact times: an item lasts a frame more or less than its
    own seconds rounded when the errors before it call for it, and the movie is within
    a frame of its exact length. Lengths that are whole frames (5 s, a 1 s crossfade)
    come out as they did. A crossfade is `trans` frames (the configured one, `xf`, is
    taken as its exact `crossfade` seconds; a shortened one as its frames). An item
    never gets so short that its two crossfades meet, nor under one frame; the last
    one keeps a frame after its crossfade in.
    """
    x = Fraction(crossfade)
    exact = Fraction(0)  # the item's exact start, seconds
    start = 0
    placed: list[tuple[int, int]] = []
    for i, sec in enumerate(seconds):
        incoming = trans[i - 1] if i > 0 else 0
        if i == len(trans):  # the last item
            end = round((exact + Fraction(sec)) * fps)
            # a frame of its own after its crossfade in: the closing card lying wholly
            # in that crossfade (a 2-frame one rounded to 1) was never seen at all
            placed.append((start, max(end, start + incoming + 1)))
            break
        c = trans[i]
        exact += Fraction(sec) - (x if c == xf and xf > 0 else Fraction(c, fps))
        nxt = max(round(exact * fps), start + incoming, start + 1 - c)
        placed.append((start, nxt + c))
        start = nxt
    return placed


def _shown(item_id: str) -> str:
    """An item as a note names it: a scene by its plan.yaml id (`01-health-1`, not the
    timeline's `scene:01-health-1`), the cards as `title` and `closing`."""
    return item_id.removeprefix("scene:")


def _shortening_notes(
    ids: list[str], lengths: list[int], trans: tuple[int, ...], xf: int, fps: int, crossfade: float
) -> tuple[str, ...]:
    """One note per item that shortens crossfades, naming the transitions it shortens.

    It says the crossfade was shortened from `crossfade`, the seconds the person set,
    not from its whole frames (`xf`): "from 4.875 s" for a `compose.crossfade: 4.9` at
    8 fps named a length nobody wrote.

    A shortened transition is put down to the shorter of its two items (the first on a
    tie): it is then exactly half that item, so every transition of one note has the
    same length.
    """
    by_item: dict[int, list[int]] = {}
    for t, c in enumerate(trans):
        if c < xf:
            by_item.setdefault(t if lengths[t] <= lengths[t + 1] else t + 1, []).append(t)
    notes = []
    shown = [_shown(i) for i in ids]
    # scenes of one length whose crossfades became one length, more than `name_some`
    # names: one line for them all. A note each was 180 lines of a 180-scene render
    # (every render, a no-op too), and on a terminal each redrew the live view
    groups: dict[tuple[int, int], list[int]] = {}
    for k, ts in by_item.items():
        if ids[k] not in ("title", "closing"):
            groups.setdefault((lengths[k], trans[ts[0]]), []).append(k)
    grouped = {k for ks in groups.values() if len(ks) > 4 for k in ks}
    for (length, c), ks in groups.items():
        if len(ks) <= 4:
            continue
        became = f"{c / fps:.3g} s ({c} frame{'s' if c != 1 else ''})" if c else "a hard cut"
        count = len({t for k in ks for t in by_item[k]})
        notes.append(
            f"{name_some([shown[k] for k in ks], 'scenes')} last only {length / fps:.3g} s: "
            f"{count} crossfades beside them shortened from {crossfade:g} s to {became}, as "
            "a crossfade is at most half of each item it joins (to keep them whole, set "
            f"their seconds in plan.yaml, or plan.scene_seconds before the plan is made, to "
            f"at least {2 * xf / fps:g} s, or compose.crossfade to at most "
            f"{length / fps / 2:.3g} s)"
        )
    for k, ts in by_item.items():
        if k in grouped:
            continue
        c = trans[ts[0]]
        names = " and ".join(f"{shown[t]}>{shown[t + 1]}" for t in ts)
        # "(1 frame)": a card of a few frames leaves its crossfade one frame
        became = f"{c / fps:.3g} s ({c} frame{'s' if c != 1 else ''})" if c else "a hard cut"
        what = "crossfades" if len(ts) > 1 else "crossfade"
        # where the length is set: the cards' in the config, a scene's in plan.yaml
        setting = {"title": "compose.title_seconds", "closing": "compose.closing_seconds"}
        where = setting.get(ids[k], "its seconds in plan.yaml")
        notes.append(
            f"{shown[k]} lasts only {lengths[k] / fps:.3g} s: {what} {names} shortened "
            f"from {crossfade:g} s to {became}, as a crossfade is at most half of each "
            f"item it joins (to keep {'them' if len(ts) > 1 else 'it'} whole, set "
            f"{where} to at least {2 * xf / fps:g} s)"
        )
    return tuple(notes)


def name_some(ids: list[str], more: str = "") -> str:
    """`ids` named in one line, however many (a note about 180 scenes was 180 names):
    up to four all of them, more as the first three and how many `more` (a noun)."""
    if len(ids) <= 1:
        return "".join(ids)
    if len(ids) <= 4:
        return f"{', '.join(ids[:-1])} and {ids[-1]}"
    return f"{', '.join(ids[:3])} and {len(ids) - 3} more{' ' + more if more else ''}"


def _unseen_text_notes(
    items: list[Item], lengths: list[int], trans: tuple[int, ...], xf: int, fps: int
) -> tuple[str, ...]:
    """One note per scene length whose affirmations are never fully on screen.

    A scene's text fades in once the scene is alone on screen (after its incoming
    crossfade, TEXT_DELAY_SECONDS, over TEXT_FADE_SECONDS) and goes out with it in its
    outgoing crossfade; a scene shorter than its two crossfades plus that is never
    alone long enough: its text peaked at ~30 % opacity in a 2 s scene between 1 s
    crossfades, with no word said. The note says how long such a scene needs to be
    (with the configured crossfade) and, where one would do, what crossfade fits it.
    """
    delay, fade = round(TEXT_DELAY_SECONDS * fps), round(TEXT_FADE_SECONDS * fps)
    short: dict[int, list[str]] = {}
    for i, it in enumerate(items):
        if it.kind != "scene" or not it.text.strip():
            continue
        body_hi = it.frames - (trans[i] if i < len(trans) else 0)
        if it.text_in + it.text_fade >= body_hi:  # no frame alone with the text whole
            # by its seconds rounded (`lengths`): scenes of the same seconds are one
            # note, though `_place` may have given them a frame more or less apiece
            short.setdefault(lengths[i], []).append(_shown(it.id))
    notes = []
    for n, ids in short.items():
        need = 2 * xf + delay + fade + 1  # frames, between two full crossfades
        fits = (n - delay - fade - 1) // 2  # the longest crossfade this length allows
        one = len(ids) == 1
        named = name_some(ids, "scenes")
        # rounded outwards, so the seconds given are enough once rounded to frames
        at_least = math.ceil(need / fps * 10 - 1e-9) / 10
        fix = f"set {'its' if one else 'their'} seconds in plan.yaml to at least {at_least:g} s"
        at_most = math.floor(fits / fps * 100 + 1e-9) / 100
        if xf > 0 and at_most >= 0.25:  # a shorter crossfade is next to a cut: not advice
            fix += f", or compose.crossfade to at most {at_most:g} s"
        notes.append(
            f"{named} {'lasts' if one else 'last'} only {n / fps:.3g} s: "
            f"{'its affirmation is' if one else 'their affirmations are'} never fully on "
            "screen (a scene's text fades in once it is alone on screen, after its "
            f"crossfade in, and fades out with it; {fix})"
        )
    return tuple(notes)


def build_timeline(
    movie: MovieInput,
    spec: OutputSpec,
    face_for: Callable[[str], str] | None = None,
    drawn: Callable[[str], str] | None = None,
) -> Timeline:
    """Lay out cards and scenes, cut segments and key them, describe the audio bed.

    `face_for(text)` names the font a text is drawn with (`cards.face_for`, which looks
    at the system's fonts: passed in so this stays pure); it goes into the keys.
    `drawn(text)` is the text as drawn (`cards.drawn_text`: emoji no font has left
    out): the items carry it, so the keys change for such a text only, not for all.

    Crossfade policy, per transition: items i and i+1 overlap by
    min(crossfade, len_i // 2, len_i+1 // 2) frames (`_transitions`), so an item's two
    transitions never meet inside it (its body is >= 0 frames) and one short item
    shortens only its own two crossfades, not the whole movie's; each shortening is
    recorded in `Timeline.notes`. A crossfade of 0 gives hard cuts (no transition
    segments). Total = sum(item lengths) - sum(transition lengths), to the frame.
    """
    ids = [s.id for s in movie.scenes]
    if len(set(ids)) != len(ids):
        raise ValueError(f"scene ids must be unique: {ids}")
    fps = spec.fps
    raw: list[tuple[str, ItemKind, float, SceneInput | None, str]] = [
        ("title", "title", spec.title_seconds, None, movie.title)
    ]
    for scene in movie.scenes:
        if scene.seconds <= 0:
            raise ValueError(f"scene {scene.id}: seconds must be > 0, got {scene.seconds}")
        raw.append((f"scene:{scene.id}", "scene", scene.seconds, scene, scene.affirmation))
    raw.append(("closing", "closing", spec.closing_seconds, None, movie.closing))
    lengths = [spec.frames(sec) for _, _, sec, _, _ in raw]

    xf = round(spec.crossfade * fps)
    trans = _transitions(lengths, xf)
    notes = _shortening_notes([r[0] for r in raw], lengths, trans, xf, fps, spec.crossfade)
    if spec.crossfade > 0 and xf < 2:
        # 1.5 frames rounds to 2: said rounded up, so the value said is no cut itself
        least = math.ceil(1.5 / fps * 1e4) / 1e4
        # a crossfade of one frame shows the outgoing picture alone (the incoming one's
        # weight is k/C for its k-th frame of C), and of none is a cut: either was a cut
        # no line mentioned
        notes = (
            f"compose.crossfade {spec.crossfade:g} s is under 2 frames at {fps} fps: the "
            f"scenes cut; a crossfade here takes at least {least:g} s (0 for cuts)",
            *notes,
        )

    placed = _place([r[2] for r in raw], trans, xf, spec.crossfade, fps)
    items: list[Item] = []
    for i, ((iid, kind, _sec, sc, text), (start, end)) in enumerate(zip(raw, placed, strict=True)):
        n = end - start
        text = drawn(text) if drawn else text
        fin = fout = t_in = t_fade = 0
        body_lo = trans[i - 1] if i > 0 else 0  # the incoming transition
        body_hi = n - trans[i] if i < len(trans) else n  # up to the outgoing one
        if kind == "title":
            # reaches full brightness on a frame of the title: a fade over the whole of
            # a very short one never showed it whole (a 1-frame title was black)
            fin = min(spec.frames(OPEN_FADE_SECONDS), body_hi, n - 1)
        if kind == "closing":
            fout = min(spec.frames(CLOSE_FADE_SECONDS), n - body_lo)
        if kind == "scene":
            t_in = min(body_lo + round(TEXT_DELAY_SECONDS * fps), max(0, n - 1))
            t_fade = round(TEXT_FADE_SECONDS * fps)
        items.append(
            Item(
                id=iid,
                kind=kind,
                start=start,
                end=end,
                text=text,
                clip=sc.clip if sc else None,
                clip_sha256=sc.clip_sha256 if sc else None,
                has_audio=sc.has_audio if sc else False,
                clip_matrix=sc.clip_matrix if sc else "",
                clip_hdr=sc.clip_hdr if sc else "",
                face=face_for(text) if face_for and text.strip() else "",
                fade_in_frames=fin,
                fade_out_frames=fout,
                text_in=t_in,
                text_fade=t_fade,
            )
        )
    total = items[-1].end
    assert total == sum(it.frames for it in items) - sum(trans)

    base: dict[str, object] = {
        "v": RENDERER_VERSION,
        "w": spec.width,
        "h": spec.height,
        "fps": fps,
        "quality": spec.quality,
    }
    segments: list[Segment] = []
    last = len(items) - 1
    for i, it in enumerate(items):
        lo = trans[i - 1] if i > 0 else 0
        hi = it.frames - trans[i] if i < last else it.frames
        if hi > lo:
            part = Part(i, lo, hi)
            key = _key({**base, "kind": "body", "parts": [[it.identity(), lo, hi]]})
            segments.append(
                Segment(f"body:{it.id}", "body", it.start + lo, it.start + hi, (part,), key)
            )
        if i < last and trans[i] > 0:
            nxt, c = items[i + 1], trans[i]
            parts = (Part(i, it.frames - c, it.frames), Part(i + 1, 0, c))
            key = _key(
                {
                    **base,
                    "kind": "transition",
                    "parts": [[items[p.item].identity(), p.first, p.last] for p in parts],
                }
            )
            segments.append(
                Segment(f"xfade:{it.id}>{nxt.id}", "transition", nxt.start, it.end, parts, key)
            )
    assert sum(s.frames for s in segments) == total

    duration = total / fps
    clips = tuple(
        AudioClip(
            it.id.removeprefix("scene:"),
            it.clip,
            it.clip_sha256,
            it.start / fps,
            it.frames / fps,
            *_clip_fades(items, i, fps),
        )
        for i, it in enumerate(items)
        if it.kind == "scene" and it.has_audio and it.clip is not None and it.clip_sha256
    )
    fade_in = min(MUSIC_FADE_IN, duration / 4)
    fade_out = min(MUSIC_FADE_OUT, duration / 3)
    aac = AAC_BY_QUALITY[spec.quality]
    audio_key = _key(
        {
            "v": RENDERER_VERSION,
            "audio": AUDIO_VERSION,
            "music": (movie.music_sha256 or str(movie.music))
            if movie.music is not None
            else f"builtin:{BED_VERSION}",
            "frames": total,
            "fps": fps,
            "fades": [fade_in, fade_out],
            "clips": [[c.clip_sha256, c.start, c.seconds, c.fade_in, c.fade_out] for c in clips],
            # (only where not the standard encoding: the tracks made before keep their key)
            **({"aac": list(aac)} if aac != AAC_BY_QUALITY["standard"] else {}),
        }
    )
    audio = AudioBed(
        music=movie.music,
        music_sha256=movie.music_sha256,
        duration=duration,
        fade_in=fade_in,
        fade_out=fade_out,
        clips=clips,
        key=audio_key,
        aac=aac,
    )
    text_notes = _unseen_text_notes(items, lengths, trans, xf, fps)
    return Timeline(spec, tuple(items), tuple(segments), audio, total, trans, notes, text_notes)
