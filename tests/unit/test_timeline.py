"""The pure timeline: frame arithmetic, segment cutting and content keys."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mindmovie.compose.timeline import (
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


def test_crossfade_longer_than_half_an_item_is_clamped_and_noted() -> None:
    tl = build_timeline(_movie((1.0, 5.0)), replace(SPEC, crossfade=2.0))
    assert tl.crossfade_frames == 12  # half of the 1 s scene at 24 fps
    assert tl.notes and "clamped" in tl.notes[0]
    assert "scene:a lasts only 1 s" in tl.notes[0] and "2 s to 0.5 s" in tl.notes[0]
    assert sum(s.frames for s in tl.segments) == tl.total_frames


def test_zero_crossfade_gives_hard_cuts() -> None:
    tl = build_timeline(_movie(), replace(SPEC, crossfade=0.0))
    assert all(s.kind == "body" for s in tl.segments)
    assert tl.total_frames == 72 + 120 + 108 + 144 + 72


def test_on_screen_is_a_true_crossfade() -> None:
    tl = build_timeline(_movie(), SPEC)
    seg = next(s for s in tl.segments if s.id == "xfade:scene:a>scene:b")
    mid = tl.on_screen(seg.start + 12)
    assert [it.id for it, _, _ in mid] == ["scene:a", "scene:b"]
    assert [w for _, _, w in mid] == pytest.approx([0.5, 0.5])
    assert tl.on_screen(seg.start - 1)[0][2] == 1.0
    assert tl.on_screen(seg.end)[0][0].id == "scene:b"


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
