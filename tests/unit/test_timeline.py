"""The pure timeline: frame arithmetic, segment cutting and content keys."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindmovie.compose.timeline import (
    Item,
    MovieInput,
    OutputSpec,
    SceneInput,
    Timeline,
    build_timeline,
    output_size,
)


def _movie(seconds: tuple[float, ...] = (5.0, 4.5, 6.0), **changes: str) -> MovieInput:
    scenes = tuple(
        SceneInput(
            id=sid,
            affirmation=changes.get(sid, f"I am {sid}"),
            seconds=sec,
            clip=Path(f"/clips/{sid}.mp4"),
            clip_sha256=f"sha-{sid}",
        )
        for sid, sec in zip("abcdefgh", seconds, strict=False)
    )
    return MovieInput("My movie", "Thank you", scenes, None, None)


SPEC = OutputSpec(1280, 720, fps=24, crossfade=1.0, title_seconds=3.0, closing_seconds=3.0)


def _keys(tl: Timeline) -> dict[str, str]:
    return {s.id: s.key for s in tl.segments}


@pytest.mark.parametrize(
    ("aspect", "res", "size"),
    [
        ("16:9", "480p", (854, 480)),
        ("16:9", "720p", (1280, 720)),
        ("16:9", "1080p", (1920, 1080)),
        ("9:16", "720p", (720, 1280)),
        ("9:16", "1080p", (1080, 1920)),
        ("1:1", "480p", (480, 480)),
        ("1:1", "720p", (720, 720)),
        ("1:1", "1080p", (1080, 1080)),
    ],
)
def test_output_size_table(aspect: str, res: str, size: tuple[int, int]) -> None:
    assert output_size(aspect, res) == size
    assert size[0] % 2 == 0 and size[1] % 2 == 0
    assert (OutputSpec(*size).width, OutputSpec(*size).height) == size  # a frame it accepts


def test_output_size_rejects_unknown_values_naming_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match=r"16:9, 9:16, 1:1"):
        output_size("4:3", "720p")
    with pytest.raises(ValueError, match=r"480p, 720p, 1080p"):
        output_size("16:9", "4k")


def test_spec_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match=r"draft, standard, high"):
        OutputSpec(320, 180, quality="ultra")
    with pytest.raises(ValueError, match="even"):
        OutputSpec(321, 180)
    with pytest.raises(ValueError, match="crossfade"):
        OutputSpec(320, 180, crossfade=-1)
    for fps in (0, 241):
        with pytest.raises(ValueError, match=rf"fps {fps}: expected 1\.\.240"):
            OutputSpec(320, 180, fps=fps)
    OutputSpec(320, 180, fps=240)  # the bounds themselves are allowed
    OutputSpec(320, 180, fps=1)
    for cards in ({"title_seconds": 0.0}, {"closing_seconds": -1.0}, {"closing_seconds": 0.0}):
        with pytest.raises(ValueError, match="must be > 0"):
            OutputSpec(320, 180, **cards)  # type: ignore[arg-type]
    for width, height in ((0, 180), (320, 0), (-2, 180), (320, 181)):
        with pytest.raises(ValueError, match="positive and even"):
            OutputSpec(width, height)


def test_a_better_quality_encodes_with_a_lower_crf() -> None:
    """draft is for a quick look, high for a final export: the crf the encoder is given
    goes down from one to the next, and each names its own x264 preset."""
    encoders = [OutputSpec(320, 180, quality=q).encoder for q in ("draft", "standard", "high")]
    assert encoders[0][1] > encoders[1][1] > encoders[2][1]
    assert len({preset for preset, _ in encoders}) == 3


def test_duration_is_cards_plus_scenes_minus_crossfades_to_the_frame() -> None:
    tl = build_timeline(_movie(), SPEC)
    expected = (72 + 120 + 108 + 144 + 72) - 4 * 24
    assert tl.total_frames == expected
    assert tl.duration == pytest.approx(expected / 24)
    # items overlap by exactly one crossfade; segments tile the movie without gaps
    for a, b in zip(tl.items, tl.items[1:], strict=False):
        assert a.end - b.start == 24
    pos = 0
    for seg in tl.segments:
        assert seg.start == pos and seg.frames > 0
        pos = seg.end
    assert pos == tl.total_frames
    assert [s.kind for s in tl.segments].count("transition") == len(tl.items) - 1
    assert all(s.frames == 24 for s in tl.segments if s.kind == "transition")


def test_seconds_are_rounded_to_frames() -> None:
    tl = build_timeline(_movie((2.02, 1.98)), replace(SPEC, fps=12, crossfade=0.5))
    assert [it.frames for it in tl.items] == [36, 24, 24, 36]
    assert tl.total_frames == 36 + 24 + 24 + 36 - 3 * 6
    # a scene shorter than half a frame is still on screen, for one frame; the closing
    # gives that frame back, so the movie is its exact 6.01 s (144.24 frames) rounded
    tl = build_timeline(_movie((0.01,)), SPEC)
    assert [it.frames for it in tl.items] == [72, 1, 71] and tl.total_frames == 144
    for seconds in (0.0, -1.0):
        with pytest.raises(ValueError, match="seconds must be > 0"):
            build_timeline(_movie((5.0, seconds)), SPEC)


@pytest.mark.parametrize("fps", [24, 25, 30, 60])
@pytest.mark.parametrize(("seconds", "crossfade"), [(2.37, 0.7), (2.37, 0.0), (1.61, 0.7)])
def test_many_scenes_of_awkward_seconds_add_up_to_the_exact_length(
    fps: int, seconds: float, crossfade: float
) -> None:
    """Each item and each crossfade was rounded to frames apiece and the errors added
    up: 50 scenes of 2.37 s with 0.7 s crossfades made 2182 frames at 25 fps for an
    exact 2220 (1.5 s short), 1.61 s scenes 150 frames short. Every item now starts
    within half a frame of its exact start, so the movie, and the sound made to its
    frames, are within a frame of the exact length; each clip's sound starts and ends
    with its scene's picture."""
    movie = _movie()
    scenes = tuple(
        replace(movie.scenes[0], id=f"s{i}", seconds=seconds, has_audio=True) for i in range(50)
    )
    spec = replace(SPEC, fps=fps, crossfade=crossfade)
    tl = build_timeline(replace(movie, scenes=scenes), spec)
    exact = 3.0 + 50 * seconds + 3.0 - 51 * crossfade  # seconds
    assert abs(tl.total_frames - exact * fps) < 1, (tl.total_frames, exact * fps)
    assert tl.audio.duration == tl.total_frames / fps == tl.duration
    for i, it in enumerate(tl.items[1:], 1):  # the title starts at 0
        assert abs(it.start - (3.0 + (i - 1) * seconds - i * crossfade) * fps) <= 0.5 + 1e-9
    for clip, it in zip(tl.audio.clips, tl.items[1:-1], strict=True):
        ends = (clip.start, clip.start + clip.seconds)
        assert ends == pytest.approx((it.start / fps, it.end / fps))
    assert {round(crossfade * fps)} == set(tl.transition_frames)  # all the same length


def test_editing_one_affirmation_changes_exactly_its_body_and_two_transitions() -> None:
    before = _keys(build_timeline(_movie(), SPEC))
    after = _keys(build_timeline(_movie(b="I am changed"), SPEC))
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"body:scene:b", "xfade:scene:a>scene:b", "xfade:scene:b>scene:c"}


def test_changing_a_scene_length_does_not_touch_later_scenes() -> None:
    before = _keys(build_timeline(_movie((5.0, 4.5, 6.0)), SPEC))
    after = _keys(build_timeline(_movie((5.0, 3.0, 6.0)), SPEC))
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"body:scene:b", "xfade:scene:a>scene:b", "xfade:scene:b>scene:c"}


def test_keys_depend_on_spec_and_clip() -> None:
    base = _keys(build_timeline(_movie(), SPEC))
    assert set(base.values()).isdisjoint(
        _keys(build_timeline(_movie(), replace(SPEC, quality="high"))).values()
    )
    movie = _movie()
    other = replace(movie, scenes=(replace(movie.scenes[0], clip_sha256="new"), *movie.scenes[1:]))
    changed = {k for k, v in _keys(build_timeline(other, SPEC)).items() if base[k] != v}
    assert changed == {"body:scene:a", "xfade:title>scene:a", "xfade:scene:a>scene:b"}


def test_the_font_a_text_is_drawn_with_is_part_of_its_keys() -> None:
    """Installing a font that has a text's characters (they were boxes) redraws it."""
    movie = _movie(b="Ich bin glücklich")
    before = _keys(build_timeline(movie, SPEC, lambda text: ""))
    faced = build_timeline(movie, SPEC, lambda text: "" if text.isascii() else "DejaVuSans.ttf")
    assert [it.face for it in faced.items if it.id == "scene:b"] == ["DejaVuSans.ttf"]
    changed = {k for k, v in _keys(faced).items() if before[k] != v}
    assert changed == {"body:scene:b", "xfade:scene:a>scene:b", "xfade:scene:b>scene:c"}


def test_one_short_scene_shortens_only_its_own_two_crossfades() -> None:
    """A 0.5 s scene edited into plan.yaml used to clamp every crossfade of the movie to
    0.25 s; now only the two that touch it are shortened, and the note names them."""
    tl = build_timeline(_movie((5.0, 0.5, 6.0)), SPEC)
    assert tl.transition_frames == (24, 6, 6, 24)  # 6 = half of the 12-frame scene
    assert {s.id: s.frames for s in tl.segments if s.kind == "transition"} == {
        "xfade:title>scene:a": 24,
        "xfade:scene:a>scene:b": 6,
        "xfade:scene:b>scene:c": 6,
        "xfade:scene:c>closing": 24,
    }
    assert tl.total_frames == (72 + 120 + 12 + 144 + 72) - (24 + 6 + 6 + 24)
    (note,) = tl.notes
    assert note.startswith("b lasts only 0.5 s: crossfades ")
    assert "a>b and b>c shortened from 1 s to 0.25 s" in note
    assert "title>" not in note and ">closing" not in note
    assert note.endswith("(to keep them whole, set its seconds in plan.yaml to at least 2 s)")
    # the segments away from the short scene are exactly those of a movie without it
    before = _keys(build_timeline(_movie((5.0, 4.5, 6.0)), SPEC))
    after = _keys(tl)
    assert {k for k in before if before[k] != after.get(k)} == {
        "body:scene:a",  # its outgoing crossfade is shorter, so its body is longer
        "body:scene:b",
        "xfade:scene:a>scene:b",
        "xfade:scene:b>scene:c",
        "body:scene:c",  # scene c: its text fades in after its shorter incoming
        "xfade:scene:c>closing",  # crossfade, which is part of its identity
    }
    assert after["xfade:title>scene:a"] == before["xfade:title>scene:a"]


def test_a_short_title_card_shortens_only_the_first_crossfade() -> None:
    tl = build_timeline(_movie(), replace(SPEC, title_seconds=1.0, crossfade=1.5))
    # the title's 24 frames allow 12; every other item (>= 3 s) allows the whole 36
    assert tl.transition_frames == (12, 36, 36, 36)
    (note,) = tl.notes
    assert note.startswith("title lasts only 1 s: crossfade title>a shortened from")
    assert "1.5 s to 0.5 s (12 frames)" in note
    assert note.endswith("(to keep it whole, set compose.title_seconds to at least 3 s)")
    assert tl.items[0].fade_in_frames == 12  # the open fade stays inside the title's body
    assert tl.items[1].text_in == 12 + round(0.15 * 24)  # text after its own crossfade


def test_two_equally_short_neighbours_share_the_blame_first_one_first() -> None:
    """A shortened crossfade between two items of one length is put down to the
    first: each note names the crossfades that setting its own length would restore."""
    tl = build_timeline(_movie((5.0, 0.5, 0.5, 5.0)), SPEC)
    assert tl.transition_frames == (24, 6, 6, 6, 24)
    assert [n.split(" shortened")[0] for n in tl.notes] == [
        "b lasts only 0.5 s: crossfades a>b and b>c",
        "c lasts only 0.5 s: crossfade c>d",
    ]
    # not a tie: the shorter of the two, here the second, is named
    b, c = build_timeline(_movie((5.0, 20 / 24, 10 / 24, 5.0)), SPEC).notes
    assert b.startswith("b lasts only 0.833 s: crossfade a>b shortened")
    assert c.startswith("c lasts only 0.417 s: crossfades b>c and ")


def test_a_one_frame_item_gets_hard_cuts_and_says_so() -> None:
    tl = build_timeline(_movie((5.0, 1 / 24, 6.0)), SPEC)
    assert tl.transition_frames == (24, 0, 0, 24)
    assert [s.id for s in tl.segments if s.kind == "transition"] == [
        "xfade:title>scene:a",
        "xfade:scene:c>closing",
    ]
    (note,) = tl.notes
    assert "shortened from 1 s to a hard cut" in note
    assert sum(s.frames for s in tl.segments) == tl.total_frames


def test_without_a_short_item_the_timeline_and_its_keys_are_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The per-transition policy gives the very timeline and keys the whole-movie clamp
    gave when nothing is short: existing runs keep their cached segments. The digests
    were taken with the whole-movie clamp (commit 311b1e9), renderer and audio pass
    versions pinned."""
    import hashlib
    import json

    from mindmovie.compose import timeline

    monkeypatch.setattr(timeline, "RENDERER_VERSION", "pinned")
    monkeypatch.setattr(timeline, "AUDIO_VERSION", "audio-3")  # the audio pass's, then
    # draft's track as it was encoded then (its own AAC options since 2026-12-06: a new
    # key, on purpose; `test_a_draft_s_track_is_encoded_for_a_quick_look_under_its_own_key`)
    monkeypatch.setitem(timeline.AAC_BY_QUALITY, "draft", timeline.AAC_BY_QUALITY["standard"])

    def digest(movie: MovieInput, spec: OutputSpec) -> str:
        tl = build_timeline(movie, spec)
        segs: list[object] = [[s.id, s.start, s.end, s.key] for s in tl.segments]
        blob = json.dumps([*segs, tl.audio.key, tl.total_frames])
        return hashlib.sha256(blob.encode()).hexdigest()

    def movie(seconds: tuple[float, ...]) -> MovieInput:
        m = _movie(seconds)
        return replace(m, scenes=tuple(replace(s, has_audio=s.id == "b") for s in m.scenes))

    assert digest(movie((5.0, 4.5, 6.0)), SPEC) == (
        "353e2ace1f37168e0ba39d728b31099d2416e6f73a10c762b4a97b20592d9910"
    )
    small = OutputSpec(320, 180, 12, 0.5, 1.5, 1.5, "draft")  # the e2e tests' small.yaml
    assert digest(movie((2.0,) * 6), small) == (
        "dee1db4871329ff7c7dd9c3414b552d000aedce2555ca1b60556647e32abe1fe"
    )


@settings(max_examples=300, deadline=None)
@given(
    frames=st.lists(st.integers(1, 200), min_size=3, max_size=10),
    fps=st.sampled_from([12, 24, 25, 30]),
    crossfade=st.floats(0.0, 5.0),
)
def test_any_lengths_give_bodies_of_at_least_zero_and_the_duration_identity(
    frames: list[int], fps: int, crossfade: float
) -> None:
    title, *scenes, closing = frames
    spec = replace(
        SPEC, fps=fps, crossfade=crossfade, title_seconds=title / fps, closing_seconds=closing / fps
    )
    tl = build_timeline(_movie(tuple(n / fps for n in scenes)), spec)
    lengths = [it.frames for it in tl.items]
    xf = round(crossfade * fps)
    trans = tl.transition_frames
    assert list(trans) == [min(xf, a // 2, b // 2) for a, b in itertools.pairwise(frames)]
    assert tl.total_frames == sum(lengths) - sum(trans)  # to the frame
    # the movie is within a frame of its exact length (a crossfade of whole frames is
    # its configured seconds; a shortened one, its frames), and every item within a
    # frame of its own seconds: exactly them when the crossfade is whole frames
    overlap = sum(crossfade * fps if c == xf and xf else c for c in trans)
    assert abs(tl.total_frames - (sum(frames) - overlap)) < 1
    assert all(abs(a - b) <= 1 for a, b in zip(lengths, frames, strict=True))
    if crossfade * fps == xf:
        assert lengths == frames
    for i, it in enumerate(tl.items):
        incoming = trans[i - 1] if i > 0 else 0
        outgoing = trans[i] if i < len(trans) else 0
        assert incoming + outgoing <= it.frames  # the body is >= 0: no transitions meet
        # the title is whole on a frame of its own, after its fade from black and before
        # its crossfade out; the closing fades to black only once it is alone on screen
        assert 0 <= it.fade_in_frames <= min(it.frames - 1, it.frames - outgoing)
        assert 0 <= it.fade_out_frames <= it.frames - incoming
        # a scene's text starts on one of its frames (moviepy shows it for
        # frames - text_in), is never seen in its incoming crossfade, and no item's
        # text is ever more or less than opaque..transparent
        assert 0 <= it.text_in < it.frames or it.kind != "scene"
        alphas = [it.text_alpha(k) for k in range(it.frames)]
        assert all(0.0 <= a <= 1.0 for a in alphas)
        assert not any(alphas[:incoming])
        assert it.kind == "scene" or not any(alphas)
    closing = tl.items[-1]  # seen whole on a frame of its own before the fade to black
    assert any(_brightness(closing, k) == 1.0 for k in range(trans[-1], closing.frames))
    for a, b, c in zip(tl.items, tl.items[1:], trans, strict=False):
        assert a.end - b.start == c
    for a, c in zip(tl.items, tl.items[2:], strict=False):
        assert a.end <= c.start  # never three items on screen at once
    pos = 0
    for seg in tl.segments:
        assert seg.start == pos and seg.frames > 0
        pos = seg.end
    assert pos == tl.total_frames
    assert sum(1 for c in trans if c < xf) == sum(n.count(">") for n in tl.notes)


def test_a_scene_too_short_to_show_its_affirmation_says_so() -> None:
    """A scene's text fades in once the scene is alone on screen and goes out with it:
    2 s scenes between 1 s crossfades are never alone, and their affirmations peaked at
    ~30 % opacity, never readable, with nothing said. The note names them and what
    length (or crossfade) shows the text; the pixels and keys stay as they were."""
    tl = build_timeline(_movie((5.0, 2.0, 2.0)), SPEC)
    peak = {
        it.id: max(
            it.text_alpha(local) * w
            for g in range(it.start, it.end)
            for shown, local, w in tl.on_screen(g)
            if shown is it
        )
        for it in tl.items
        if it.kind == "scene"
    }
    assert peak["scene:a"] == 1.0 and max(peak["scene:b"], peak["scene:c"]) < 0.35
    (note,) = tl.text_notes
    assert note.startswith("b and c last only 2 s: their affirmations are never")
    # the advice is enough: 2 x 24 crossfade frames + 4 of delay + 14 of fade + 1 = 67
    assert note.endswith(
        "set their seconds in plan.yaml to at least 2.8 s, or compose.crossfade to at most 0.58 s)"
    )
    assert not build_timeline(_movie((5.0, 2.8, 2.8)), SPEC).text_notes
    assert not build_timeline(_movie((5.0, 2.0, 2.0)), replace(SPEC, crossfade=0.58)).text_notes
    assert not tl.notes  # no crossfade was shortened: that note is another matter
    # a scene with no text has nothing to show; a long enough one says nothing
    assert not build_timeline(_movie((5.0, 2.0), b=" "), SPEC).text_notes
    assert not build_timeline(_movie(), SPEC).text_notes
    # many scenes: one line, not a list of them all; up to four are named
    (many,) = build_timeline(_movie((2.0,) * 8), SPEC).text_notes
    assert many.startswith("a, b, c and 5 more scenes last only 2 s")
    (four,) = build_timeline(_movie((5.0, 2.0, 2.0, 2.0, 2.0, 5.0)), SPEC).text_notes
    assert four.startswith("b, c, d and e last only 2 s")
    (five,) = build_timeline(_movie((5.0, *(2.0,) * 5, 5.0)), SPEC).text_notes
    assert five.startswith("b, c, d and 2 more scenes last only 2 s")


def test_the_advice_for_an_unseen_affirmation_is_the_nearest_that_works() -> None:
    """The length and the crossfade the note advises show the text, and the next
    shorter length or the next longer crossfade (a frame, at 10 fps) would not: the
    advice is neither short of enough nor more than needed."""
    spec = replace(SPEC, fps=10, crossfade=1.5, title_seconds=4.0, closing_seconds=4.0)
    (note,) = build_timeline(_movie((5.0, 3.3)), spec).text_notes
    assert note.startswith("b lasts only 3.3 s: its affirmation is never fully on screen")
    assert note.endswith(
        "set its seconds in plan.yaml to at least 3.9 s, or compose.crossfade to at most 1.2 s)"
    )
    assert not build_timeline(_movie((5.0, 3.9)), spec).text_notes
    assert build_timeline(_movie((5.0, 3.8)), spec).text_notes
    assert not build_timeline(_movie((5.0, 3.3)), replace(spec, crossfade=1.2)).text_notes
    assert build_timeline(_movie((5.0, 3.3)), replace(spec, crossfade=1.3)).text_notes
    # a scene too short for any crossfade to help is told its length only
    (tiny,) = build_timeline(_movie((5.0, 0.5, 5.0)), SPEC).text_notes
    assert tiny.endswith("set its seconds in plan.yaml to at least 2.8 s)")


def test_zero_crossfade_gives_hard_cuts() -> None:
    tl = build_timeline(_movie(), replace(SPEC, crossfade=0.0))
    assert all(s.kind == "body" for s in tl.segments)
    assert tl.total_frames == 72 + 120 + 108 + 144 + 72
    assert tl.transition_frames == (0, 0, 0, 0) and not tl.notes  # a cut is not a shortening


def test_on_screen_is_a_true_crossfade() -> None:
    tl = build_timeline(_movie(), SPEC)
    seg = next(s for s in tl.segments if s.id == "xfade:scene:a>scene:b")
    mid = tl.on_screen(seg.start + 12)
    assert [it.id for it, _, _ in mid] == ["scene:a", "scene:b"]
    assert [w for _, _, w in mid] == pytest.approx([0.5, 0.5])
    assert tl.on_screen(seg.start - 1)[0][2] == 1.0
    assert tl.on_screen(seg.end)[0][0].id == "scene:b"
    # the first and last frames are the cards alone; a frame outside the movie is none
    assert [(it.id, k, w) for it, k, w in tl.on_screen(0)] == [("title", 0, 1.0)]
    last = tl.total_frames - 1
    assert [(it.id, k, w) for it, k, w in tl.on_screen(last)] == [("closing", 71, 1.0)]
    for frame in (-1, tl.total_frames):
        with pytest.raises(IndexError, match=rf"frame {frame} outside 0\.\.{last}$"):
            tl.on_screen(frame)
    # at a hard cut the next item is alone on screen from its first frame
    cut = build_timeline(_movie(), replace(SPEC, crossfade=0.0))
    b = cut.items[2]
    assert [(it.id, k, w) for it, k, w in cut.on_screen(b.start)] == [("scene:b", 0, 1.0)]


def test_audio_bed_description() -> None:
    movie = _movie()
    movie = replace(
        movie, scenes=(movie.scenes[0], replace(movie.scenes[1], has_audio=True), movie.scenes[2])
    )
    tl = build_timeline(movie, SPEC)
    assert tl.audio.music is None
    assert tl.audio.duration == pytest.approx(tl.duration)
    assert tl.audio.fade_in > 0 and tl.audio.fade_out > 0
    (clip,) = tl.audio.clips
    assert clip.scene_id == "b"
    assert clip.start == pytest.approx(tl.items[2].start / 24)
    assert clip.seconds == pytest.approx(4.5)
    # the audio key ignores affirmations (no re-render of sound for a text edit)
    assert build_timeline(replace(movie, title="Other"), SPEC).audio.key == tl.audio.key


def test_clip_sound_fades_over_its_own_crossfades_next_to_a_short_scene() -> None:
    """A clip's sound fades with its picture: over each crossfade's own length, so a
    scene next to a short one keeps its full fade on the other side."""
    movie = _movie((5.0, 0.5, 6.0))
    movie = replace(movie, scenes=tuple(replace(s, has_audio=True) for s in movie.scenes))
    tl = build_timeline(movie, SPEC)
    assert [c.scene_id for c in tl.audio.clips] == ["a", "b", "c"]
    fades = [x for c in tl.audio.clips for x in (c.fade_in, c.fade_out)]
    assert fades == pytest.approx([1.0, 0.25, 0.25, 0.25, 0.25, 1.0])


def test_clip_sound_at_a_hard_cut_still_fades_but_within_its_scene() -> None:
    """A sound that starts or stops dead clicks: at a hard cut the clip's sound
    still fades, over a few milliseconds, and never over more than half its scene."""
    movie = _movie((5.0, 1 / 120, 6.0))
    movie = replace(movie, scenes=tuple(replace(s, has_audio=True) for s in movie.scenes))
    tl = build_timeline(movie, replace(SPEC, fps=120, crossfade=0.0))
    a, b, c = tl.audio.clips
    for clip in (a, c):
        assert 0 < clip.fade_in <= 0.05 and 0 < clip.fade_out <= 0.05
    assert b.seconds == pytest.approx(1 / 120)
    assert 0 < b.fade_in <= b.seconds / 2 and 0 < b.fade_out <= b.seconds / 2


def test_duplicate_scene_ids_are_rejected() -> None:
    movie = _movie()
    with pytest.raises(ValueError, match="unique"):
        build_timeline(replace(movie, scenes=(movie.scenes[0], movie.scenes[0])), SPEC)


def test_a_new_builtin_bed_is_a_new_audio_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A track cached with an older built-in bed is not reused after an upgrade."""
    from mindmovie.compose import timeline

    before = build_timeline(_movie(), SPEC).audio.key
    monkeypatch.setattr(timeline, "BED_VERSION", "bed-next")
    assert build_timeline(_movie(), SPEC).audio.key != before


def test_the_music_key_follows_the_musics_content_and_the_beds_fit_a_short_movie() -> None:
    """A track is made again when the music's bytes change (same path), not when the
    same music moves; music and the built-in bed are different tracks. In a short movie
    the music's fade in and fade out do not meet."""
    movie = _movie()

    def key(music: str | None, sha: str | None) -> str:
        m = replace(movie, music=Path(music) if music else None, music_sha256=sha)
        return build_timeline(m, SPEC).audio.key

    assert key("/m/song.mp3", "sha-1") != key("/m/song.mp3", "sha-2")
    assert key("/m/song.mp3", "sha-1") == key("/elsewhere/song.mp3", "sha-1")
    assert len({key(None, None), key("/m/song.mp3", "sha-1")}) == 2
    long = build_timeline(movie, SPEC).audio
    assert (long.fade_in, long.fade_out) == (2.0, 3.0)
    short = build_timeline(_movie((1.0,)), replace(SPEC, title_seconds=1.0, closing_seconds=1.0))
    assert short.audio.fade_in > 0 and short.audio.fade_out > 0
    assert short.audio.fade_in + short.audio.fade_out < short.audio.duration


def test_each_item_carries_its_drawn_text_and_its_clips_matrix() -> None:
    """The text drawn (`drawn`: what a font can show) and the matrix a clip is read
    with are what the renderers use, and part of the keys."""
    movie = _movie()
    movie = replace(
        movie, scenes=(replace(movie.scenes[0], clip_matrix="bt709"), *movie.scenes[1:])
    )
    tl = build_timeline(movie, SPEC, drawn=str.upper)
    assert [it.text for it in tl.items][:2] == ["MY MOVIE", "I AM A"]
    assert [it.clip_matrix for it in tl.items] == ["", "bt709", "", "", ""]
    assert tl.fps == 24
    plain = _keys(build_timeline(replace(movie, scenes=_movie().scenes), SPEC, drawn=str.upper))
    changed = {k for k, v in _keys(tl).items() if plain[k] != v}
    assert changed == {"body:scene:a", "xfade:title>scene:a", "xfade:scene:a>scene:b"}


def _brightness(item: Item, local: int) -> float:
    """Fade-from/to-black factor at an item-local frame (1 = full picture), as the
    renderers' fades (ffmpeg's `fade` filter, moviepy's FadeIn/FadeOut) draw it."""
    b = 1.0
    if item.fade_in_frames and local < item.fade_in_frames:
        b = min(b, local / item.fade_in_frames)
    if item.fade_out_frames and local >= item.frames - item.fade_out_frames:
        b = min(b, (item.frames - local) / item.fade_out_frames)
    return max(0.0, b)


@pytest.mark.parametrize("title_seconds", [1 / 24, 3 / 24, 0.25])
def test_a_very_short_title_is_shown_whole(title_seconds: float) -> None:
    """The title fades in over OPEN_FADE_SECONDS, or over all of a shorter title: a
    1-frame title was black and a 0.25 s one never reached full brightness."""
    spec = OutputSpec(1280, 720, fps=24, crossfade=0.0, title_seconds=title_seconds)
    title = build_timeline(_movie(), spec).items[0]
    assert title.kind == "title"
    assert max(_brightness(title, k) for k in range(title.frames)) == 1.0
    assert _brightness(title, 0) < 1.0 or title.frames == 1


def test_a_closing_card_of_two_frames_is_not_lost_in_its_crossfade() -> None:
    """0.07 s at 24 fps rounds to 2 frames and a crossfade in of 1; placing it at the
    movie's exact end (0.3 s crossfades, each 7.2 frames) made it 1 frame, wholly inside
    that crossfade at weight 0: the closing card was never on screen."""
    spec = OutputSpec(1280, 720, fps=24, crossfade=0.3, title_seconds=1.0, closing_seconds=0.07)
    tl = build_timeline(_movie((1.3, 2.0)), spec)
    closing = tl.items[-1]
    assert closing.kind == "closing" and tl.transition_frames[-1] == 1
    last = tl.total_frames - 1
    assert [(it.kind, w) for it, _k, w in tl.on_screen(last)] == [("closing", 1.0)]
    assert _brightness(closing, closing.frames - 1) == 1.0


def test_a_short_scene_after_fractional_frames_keeps_its_crossfades_apart() -> None:
    """Seconds that are not whole frames (0.7 s at 12 fps) round the starts so that a
    4-frame scene between two 2-frame crossfades came out 3 frames long: its crossfades
    met, three pictures were on screen at once. (A case the property test above, of
    whole-frame seconds, does not reach.)"""
    spec = replace(SPEC, fps=12, crossfade=0.5, title_seconds=0.7, closing_seconds=0.1)
    tl = build_timeline(_movie((2.01, 1.5, 0.3, 0.83)), spec)
    trans = tl.transition_frames
    assert trans == (4, 6, 2, 2, 0)
    short = tl.items[3]
    assert (short.start, short.end) == (39, 43)
    for i, it in enumerate(tl.items):
        incoming = trans[i - 1] if i > 0 else 0
        outgoing = trans[i] if i < len(trans) else 0
        assert incoming + outgoing <= it.frames, it.id
    for a, c in zip(tl.items, tl.items[2:], strict=False):
        assert a.end <= c.start, (a.id, c.id)  # never three items on screen at once


def test_a_crossfade_shortened_to_one_frame_is_said_in_the_singular() -> None:
    """A 0.1 s closing card at 25 fps (2 frames) leaves its crossfade one frame: the
    note said "(1 frames)"."""
    tl = build_timeline(_movie(), replace(SPEC, fps=25, closing_seconds=0.1))
    (note,) = tl.notes
    assert "shortened from 1 s to 0.04 s (1 frame), as" in note, note


def test_a_shortening_note_names_the_crossfade_as_it_was_set() -> None:
    """`compose.crossfade: 4.9` at 8 fps is 39 frames (4.875 s): the notes said each
    crossfade was "shortened from 4.875 s", a length the person never set."""
    tl = build_timeline(_movie(), replace(SPEC, fps=8, crossfade=4.9))
    assert tl.notes and all("shortened from 4.9 s to " in n for n in tl.notes), tl.notes
    # what keeps it whole is still counted in whole frames: 2 x 39 frames at 8 fps
    assert tl.notes[0].endswith("at least 9.75 s)"), tl.notes[0]


def test_many_short_scenes_shortening_crossfades_are_one_note() -> None:
    """180 scenes of 1 s with the default 1 s crossfade: a note a scene, 180 lines of
    about 240 characters at every render (a no-op too), each redrawing the live view on
    a terminal (2.5x the no-op's time). More than four scenes of one length whose
    crossfades became one length are one note, naming a few and the settings to change;
    four or fewer are a note each, as before."""
    (note,) = build_timeline(_movie((1.0,) * 8), SPEC).notes
    assert note.startswith(
        "a, b, c and 5 more scenes last only 1 s: 9 crossfades beside them shortened from "
        "1 s to 0.5 s (12 frames)"
    ), note
    assert note.endswith(
        "set their seconds in plan.yaml, or plan.scene_seconds before the plan is made, to "
        "at least 2 s, or compose.crossfade to at most 0.5 s)"
    ), note
    few = build_timeline(_movie((1.0,) * 4), SPEC).notes
    assert len(few) == 4 and few[0].startswith("a lasts only 1 s"), few


@pytest.mark.parametrize(
    ("crossfade", "fps"), [(0.06, 24), (0.01, 8), (0.02, 24), (0.03, 48), (0.05, 29), (0.06, 23)]
)
def test_a_crossfade_under_two_frames_is_said_to_be_a_cut(crossfade: float, fps: int) -> None:
    """A crossfade of one frame shows the outgoing picture alone, of none is a cut: the
    movie cut between its scenes and no line said so (movie audit: 0.06 s at 24 fps)."""
    spec = OutputSpec(320, 180, fps=fps, crossfade=crossfade, title_seconds=2.0,
                      closing_seconds=2.0)  # fmt: skip
    (note,) = build_timeline(_movie(), spec).notes
    assert note.startswith(f"compose.crossfade {crossfade:g} s is under 2 frames at {fps} fps")
    said = float(note.split("at least ")[1].split(" s")[0])
    assert 1.5 / fps <= said < 1.5 / fps + 1e-4, note
    # that least one is 2 frames (it said 2/fps s, and 0.0625 s at 24 fps warned of
    # nothing; rounded to 3 figures, 0.0312 s at 48 fps warned of itself)
    least = OutputSpec(320, 180, fps=fps, crossfade=said, title_seconds=2.0,
                       closing_seconds=2.0)  # fmt: skip
    assert build_timeline(_movie(), least).notes == ()
