"""The ffmpeg renderer end to end, on tiny synthetic clips (fast: 320x180 at 12 fps).

Clips are made at another size (400x300) and rate (30 fps) than the output, and one is
shorter than its scene, to prove scaling, cropping, retiming and padding.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageFont

from mindmovie.compose import cards
from mindmovie.compose.audio import builtin_music_bed, render_audio
from mindmovie.compose.cards import overlay_image
from mindmovie.compose.ffmpeg import (
    MAX_CHUNK_SEGMENTS,
    RenderReport,
    SegmentResult,
    plan_chunks,
    render,
)
from mindmovie.compose.timeline import (
    MovieInput,
    OutputSpec,
    SceneInput,
    Timeline,
    build_timeline,
)
from mindmovie.fsutil import sha256_file
from mindmovie.media import FFmpegError, count_video_frames, ffmpeg_exe, probe, run_ffmpeg
from tests.media import AUDIO_RATE, ffmpeg_children, pcm, spectral_peaks, sps_field

W, H, FPS = 320, 180, 12
SPEC = OutputSpec(
    W, H, fps=FPS, crossfade=0.5, title_seconds=1.0, closing_seconds=1.0, quality="draft"
)


def _clip(path: Path, colour: str, seconds: float, audio: bool = False) -> Path:
    args = ["-f", "lavfi", "-i", f"color=c={colour}:s=400x300:r=30:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=330:d={seconds}", "-c:a", "aac", "-shortest"]
    run_ffmpeg([*args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)])
    return path


def _movie(clips: dict[str, Path], **texts: str) -> MovieInput:
    scenes = tuple(
        SceneInput(
            id=name,
            affirmation=texts.get(name, f"I am {name} and I love it"),
            seconds=2.0,
            clip=path,
            clip_sha256=sha256_file(path),
            has_audio=name == "blue",
        )
        for name, path in clips.items()
    )
    return MovieInput("Title", "Thank you", scenes, None, None)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "red": _clip(d / "red.mp4", "red", 2.0),
        "blue": _clip(d / "blue.mp4", "blue", 1.2, audio=True),  # shorter: padded
        "green": _clip(d / "green.mp4", "green", 3.0),  # longer: trimmed
    }


@pytest.fixture(scope="module")
def rendered_and_drawn(
    clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Timeline, RenderReport, Path, list[tuple[str, str]], list[Any]]:
    """The movie of `_movie(clips)` (workers=2), rendered once for the tests that read it:
    in a work folder whose name has % signs (the segment muxer expands % in its file
    names), with every card and overlay drawn recorded as (thread, text), and the chunks
    `plan_chunks` makes of it before the render. (Read its frames with `_frames`:
    `_frame` writes its PNG beside the movie through ffmpeg's image2 muxer, which takes
    the folder's %d for a pattern.)"""
    import threading

    work = tmp_path_factory.mktemp("work") / "proj 100%d %" / "work"
    tl = build_timeline(_movie(clips), SPEC)
    drawn: list[tuple[str, str]] = []
    real_card, real_overlay = cards.card_image, cards.overlay_box

    def card(text: str, *a: object) -> object:
        drawn.append((threading.current_thread().name, text))
        return real_card(text, *a)  # type: ignore[arg-type]

    def overlay(text: str, *a: object) -> object:
        drawn.append((threading.current_thread().name, text))
        return real_overlay(text, *a)  # type: ignore[arg-type]

    _, chunks = plan_chunks(tl, work / "segments", 2)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cards, "card_image", card)
        mp.setattr(cards, "overlay_box", overlay)
        report = render(tl, work, work / "movie.mp4", workers=2)
    return tl, report, work, drawn, list(chunks)


@pytest.fixture(scope="module")
def rendered(
    rendered_and_drawn: tuple[Timeline, RenderReport, Path, list[tuple[str, str]], list[Any]],
) -> tuple[Timeline, RenderReport, Path]:
    tl, report, work, _, _ = rendered_and_drawn
    return tl, report, work


def _frame(video: Path, index: int) -> np.ndarray:
    """Frame `index` (exact: select by number) as an RGB array."""
    png = video.with_name(f"frame{index}.png")
    run_ffmpeg(["-i", str(video), "-vf", f"select=eq(n\\,{index})", "-frames:v", "1", str(png)])
    return np.asarray(Image.open(png).convert("RGB"), dtype=np.float64)


def _frames(video: Path) -> np.ndarray:
    """Every frame of `video`, in decode order (frame k is `_frame(video, k)`, pixel for
    pixel: every decoded frame passed through, none dropped or repeated), decoded once."""
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-map", "0:v:0", "-fps_mode",
         "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, H, W, 3)


def _picture(frame: np.ndarray) -> np.ndarray:
    """Mean colour of the upper middle of the frame (clear of the text in the bottom third)."""
    return np.asarray(frame[H // 8 : H // 2, W // 4 : 3 * W // 4].reshape(-1, 3).mean(axis=0))


def test_output_streams_size_and_exact_length(
    rendered: tuple[Timeline, RenderReport, Path],
) -> None:
    tl, report, _ = rendered
    info = probe(report.out, count_frames=True)
    assert [s.kind for s in info.streams] == ["video", "audio"]
    assert info.video is not None and info.audio is not None
    assert info.video.codec == "h264" and info.audio.codec == "aac"
    assert info.video.pix_fmt == "yuv420p"
    assert (info.video.width, info.video.height) == (W, H)
    assert info.video_frames == tl.total_frames
    assert abs(info.duration - tl.total_frames / FPS) <= 1 / FPS + 0.03
    assert abs(report.duration - tl.duration) <= 1 / FPS + 0.03
    text = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(report.out)], capture_output=True, text=True
    ).stderr
    assert "bt709" in text


def test_scenes_of_awkward_seconds_make_a_movie_of_the_exact_length(
    tmp_path: Path, clips: dict[str, Path]
) -> None:
    """Ten 0.61 s scenes at 25 fps with 0.23 s crossfades and 0.5 s cards: 4.57 s, 114.25
    frames. Each item and crossfade rounded apiece made 108 frames (0.24 s short); the
    movie now has 114, and its sound (music and the scenes' own) lasts as long."""
    spec = OutputSpec(160, 90, fps=25, crossfade=0.23, title_seconds=0.5, closing_seconds=0.5,
                      quality="draft")  # fmt: skip
    blue = clips["blue"]  # has sound: each scene's is placed and cut by the timeline
    scenes = tuple(
        SceneInput(f"s{i}", "", 0.61, blue, sha256_file(blue), has_audio=True) for i in range(10)
    )
    tl = build_timeline(MovieInput("Title", "Thanks", scenes, None, None), spec)
    out = render(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=2).out
    assert count_video_frames(out) == tl.total_frames == 114  # round(114.25)
    pcm = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(out), "-map", "0:a:0", "-ac", "1", "-ar", "48000",
         "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert abs(len(pcm) / 2 / 48000 - 114 / 25) < 1 / 25


@pytest.mark.parametrize("workers", [1, 2])
def test_a_one_frame_segment_inside_a_chunk_keeps_its_frame_and_the_next_its_own(
    tmp_path: Path, clips: dict[str, Path], workers: int
) -> None:
    """A scene one frame longer than its two crossfades has a 1-frame body between two
    transitions. ffmpeg's concat filter takes a segment's length from its frames' mean
    spacing, which one frame has none of: the next segment started on the same time
    stamp, and the encoder's constant rate dropped a frame there. Every such scene cost
    the movie a frame, and each segment file after it in the chunk held its neighbour's
    frames (180 scenes of 0.7 s at 12 fps with 0.3 s crossfades: 830 frames of 884, the
    picture 4.5 s shorter than the sound)."""
    fps = SPEC.fps
    red = clips["red"]
    scenes = tuple(
        SceneInput(f"s{i}", f"I am scene {i}", (2 * 6 + 1) / fps, red, sha256_file(red))
        for i in range(6)
    )
    tl = build_timeline(MovieInput("Title", "Thanks", scenes, None, None), SPEC)
    assert [s.frames for s in tl.segments if s.id.startswith("body:scene")] == [1] * 6
    report = render(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=workers)
    for seg, res in zip(tl.segments, report.segments, strict=True):
        assert count_video_frames(res.path) == seg.frames, seg.id
    assert count_video_frames(report.out) == tl.total_frames
    assert _frames_at_rate(report.out) == tl.total_frames


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
def test_the_sound_ends_with_the_last_frame_in_both_engines(
    engine: str, tmp_path: Path, clips: dict[str, Path]
) -> None:
    """13 fps, 1.3 s scenes, 0.7 s and 0.9 s cards, no crossfade: 55 frames, 4.2308 s.
    The moviepy engine's sound ended at 4.224 s, its last AAC frame (21 ms) dropped:
    `-frames:v` ended the mux with the picture. Both now end at the last frame."""
    from mindmovie.compose import renderer

    spec = OutputSpec(160, 90, fps=13, crossfade=0, title_seconds=0.7, closing_seconds=0.9,
                      quality="draft")  # fmt: skip
    blue = clips["blue"]
    scenes = tuple(SceneInput(f"s{i}", "", 1.3, blue, sha256_file(blue), True) for i in range(2))
    tl = build_timeline(MovieInput("Title", "Thanks", scenes, None, None), spec)
    out = renderer(engine)(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=1).out
    assert count_video_frames(out) == tl.total_frames == 55
    seconds = pcm(out, 48000).shape[1] / 48000
    assert abs(seconds - 55 / 13) < 0.001, (seconds, 55 / 13)


def test_a_clip_smaller_than_the_frame_and_of_another_shape_covers_it(tmp_path: Path) -> None:
    """lessons.md: clips differ in size by provider (Seedance 1.0's 720p is 1248x704, not
    1280x720). Here a quarter of that, 312x176, smaller than the 320x180 frame both ways:
    it is scaled up to cover the frame, edge to edge, with no border."""
    clip = tmp_path / "seedance.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=312x176:r=24:d=2", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)])  # fmt: skip
    tl = build_timeline(_movie({"red": clip}), SPEC)
    report = render(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=1)
    info = probe(report.out)
    assert info.video is not None and (info.video.width, info.video.height) == (W, H)
    body = next(s for s in tl.segments if s.id == "body:scene:red")
    frame = _frame(report.out, (body.start + body.end) // 2)
    top = frame[: H // 2]  # clear of the affirmation in the bottom third
    for edge in (top[:2], top[:, :2], top[:, -2:]):  # the top row and both side columns
        colour = edge.reshape(-1, 3).mean(axis=0)
        assert colour[0] > 180 and colour[1] < 60 and colour[2] < 60, colour


def test_crossfade_shows_both_pictures_and_never_dips_to_black(
    rendered: tuple[Timeline, RenderReport, Path],
) -> None:
    tl, report, _ = rendered
    frames = _frames(report.out)
    seg = next(s for s in tl.segments if s.id == "xfade:scene:red>scene:blue")
    before = _picture(frames[seg.start - 1])
    mid = _picture(frames[seg.start + seg.frames // 2])
    after = _picture(frames[seg.end])
    assert before[0] > 180 and before[2] < 60  # red
    assert after[2] > 180 and after[0] < 60  # blue
    assert mid[0] > 70 and mid[2] > 70  # purple: both visible
    assert mid.sum() > 200  # not a dip to black
    assert np.abs(mid - before).max() > 50 and np.abs(mid - after).max() > 50
    # no frame of a scene-to-scene transition is darker than 60% of its darker side
    for s in tl.segments:
        if s.kind == "transition" and s.id.count("scene") == 2:
            floor = 0.6 * min(_picture(frames[k]).sum() for k in (s.start - 1, s.end))
            for k in range(s.start, s.end):
                assert _picture(frames[k]).sum() > floor, (s.id, k)


def test_a_short_scene_dissolves_over_its_own_shorter_crossfades(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    """A 0.5 s scene's two crossfades last 3 frames, the others keep 6, and each one
    mixes its pictures with the weight `Timeline.on_screen` gives (k / its own length):
    the renderer dissolved every transition over one movie-wide duration."""
    movie = _movie(clips)
    blue = replace(movie.scenes[1], seconds=0.5)
    movie = replace(movie, scenes=(movie.scenes[0], blue, movie.scenes[2]))
    tl = build_timeline(movie, SPEC)
    assert tl.transition_frames == (6, 3, 3, 6)
    report = render(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=2)
    assert probe(report.out, count_frames=True).video_frames == tl.total_frames
    pure = {"scene:red": (255, 0, 0), "scene:blue": (0, 0, 255), "scene:green": (0, 128, 0)}
    frames = _frames(report.out)
    for s in tl.segments:
        if s.kind == "transition" and s.id.count("scene") == 2:
            assert s.frames == 3, s.id
            for k in range(s.start, s.end):
                want = sum(w * np.array(pure[it.id], float) for it, _, w in tl.on_screen(k))
                got = _picture(frames[k])
                assert np.abs(got - want).max() < 20, (s.id, k, got, want)


def test_every_segment_file_holds_its_frames_and_starts_on_a_keyframe(
    rendered: tuple[Timeline, RenderReport, Path],
) -> None:
    """Chunks are encoded by one x264 and cut by the segment muxer: each cut must land
    exactly on the segment's first frame, an IDR, or the concat-copy would be invalid."""
    tl, report, _ = rendered
    for seg, res in zip(tl.segments, report.segments, strict=True):
        assert res.id == seg.id
        assert count_video_frames(res.path) == seg.frames, seg.id
        log = run_ffmpeg(
            ["-i", str(res.path), "-vf", "showinfo", "-frames:v", "1", "-f", "null", "-"]
        )
        assert "iskey:1" in log and "type:I" in log, seg.id


def _parameter_sets(video: Path) -> bytes:
    """The SPS and PPS NAL units the file's first frame is decoded with (Annex B)."""
    annexb = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-map", "0:v:0", "-c", "copy",
         "-bsf:v", "h264_mp4toannexb", "-frames:v", "1", "-f", "h264", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    nals = annexb.replace(b"\x00\x00\x00\x01", b"\x00\x00\x01").split(b"\x00\x00\x01")
    return b"|".join(n for n in nals if n and n[0] & 0x1F in (7, 8))


def test_every_segment_has_the_same_parameter_sets(
    rendered: tuple[Timeline, RenderReport, Path],
) -> None:
    """Concat by copy keeps each segment's SPS: a card's chunk (no sample aspect ratio)
    and a scene's (SAR 1:1) gave the movie a different SPS at each such join."""
    _, report, _ = rendered
    groups: dict[bytes, list[str]] = {}
    for res in report.segments:
        groups.setdefault(_parameter_sets(res.path), []).append(res.id)
    assert b"" not in groups
    assert len(groups) == 1, list(groups.values())


class _Died(Exception):
    """Stands in for the process dying in the middle of a chunk."""


def test_a_render_killed_mid_chunk_keeps_the_segments_already_done(
    tmp_path: Path, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each segment is committed under its key as soon as the segment muxer has closed
    it, so work done before a kill is not encoded again."""
    import mindmovie.compose.ffmpeg as ff

    real = ff.run_ffmpeg_watched

    def dies_after_two(args: list[str], watch: Callable[[], None], every: float = 0.2) -> str:
        pattern = Path(args[-1])
        # at 4x real time (~0.25 s a segment) the watch surely sees the third file open
        graph = args.index("-filter_complex") + 1
        args[graph] = args[graph].replace("[out]", ",realtime=speed=4[out]")

        def watch_then_die() -> None:
            # looked at before `watch`, which then sees 002.mp4 too and commits 000 and
            # 001: looked at after, a 002.mp4 opened in between died with 001 uncommitted
            two_closed = (pattern.parent / "002.mp4").exists()
            watch()
            if two_closed:
                raise _Died

        return real(args, watch_then_die, every=0.05)

    tl = build_timeline(_movie(clips), SPEC)
    monkeypatch.setattr(ff, "run_ffmpeg_watched", dies_after_two)
    seen: list[str] = []
    with pytest.raises(_Died):
        render(
            tl, tmp_path, tmp_path / "movie.mp4", workers=1, on_segment=lambda r: seen.append(r.id)
        )
    kept = {s.id for s in tl.segments if (tmp_path / "segments" / f"{s.key}.mp4").exists()}
    assert len(kept) >= 2
    assert set(seen) == kept  # each one reported, though its chunk never ended
    for s in tl.segments:
        if s.id in kept:
            assert count_video_frames(tmp_path / "segments" / f"{s.key}.mp4") == s.frames
    assert not list((tmp_path / "segments").glob(".chunk-*"))  # no temp left behind
    monkeypatch.setattr(ff, "run_ffmpeg_watched", real)
    report = render(tl, tmp_path, tmp_path / "movie.mp4", workers=1)
    assert {s.id for s in report.segments if s.reused} == kept
    assert probe(report.out, count_frames=True).video_frames == tl.total_frames


def _twelve(tmp_path: Path, spec: OutputSpec = SPEC) -> Timeline:
    """A 12-scene timeline (clip paths only named: planning chunks reads no clip)."""
    scenes = tuple(
        SceneInput(f"s{i:02d}", f"I am {i}", 2.0, tmp_path / f"c{i}.mp4", f"{i:064d}")
        for i in range(12)
    )
    return build_timeline(MovieInput("T", "Thanks", scenes, None, None), spec)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_largest_chunk_does_not_grow_with_the_movie(tmp_path: Path, workers: int) -> None:
    """lessons.md: moviepy's compositing grew in memory per clip. Here each chunk is one
    x264 with a decoder per segment it spans, so a longer movie must mean more chunks,
    not longer ones. The tests above compare chunk sizes with MAX_CHUNK_SEGMENTS itself,
    which a raised (or removed) bound raises with it; this compares a 12-scene movie
    with a 60-scene one, and holds the bound to a number of decoders a 2-core machine
    keeps in memory (at most 8)."""

    def longest(n: int) -> int:
        scenes = tuple(
            SceneInput(f"s{i:02d}", f"I am {i}", 2.0, tmp_path / f"c{i}.mp4", f"{i:064d}")
            for i in range(n)
        )
        tl = build_timeline(MovieInput("T", "Thanks", scenes, None, None), SPEC)
        _, chunks = plan_chunks(tl, tmp_path / f"segments-{n}", workers)
        return max(len(c.segments) for c in chunks)

    short, long = longest(12), longest(60)
    assert long <= short and long <= 8, (short, long)


def test_without_crossfades_chunks_are_still_bounded_and_spread(tmp_path: Path) -> None:
    """No transitions: bodies are cut between each other (nothing is decoded twice)."""
    tl = _twelve(tmp_path, replace(SPEC, crossfade=0.0))
    assert all(s.kind == "body" for s in tl.segments)
    _, chunks = plan_chunks(tl, tmp_path / "segments", 2)
    assert len(chunks) >= 2
    assert all(len(c.segments) <= MAX_CHUNK_SEGMENTS for c in chunks)
    assert sorted(s.id for c in chunks for s in c.segments) == sorted(s.id for s in tl.segments)


def test_a_work_folder_with_a_percent_sign_renders(
    rendered: tuple[Timeline, RenderReport, Path],
) -> None:
    """The segment muxer expands % in its file names; a folder's own % must survive.
    (The shared render's work folder is `.../proj 100%d %/work`.)"""
    tl, report, work = rendered
    assert work.parent.name == "proj 100%d %" and report.out == work / "movie.mp4"
    assert probe(report.out, count_frames=True).video_frames == tl.total_frames


def test_a_failing_chunk_stops_the_others_and_the_audio_at_once(
    tmp_path: Path, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first failure is the error raised; encoders still running are killed within
    a poll instead of finishing their chunk, and the audio pass is not started."""
    import threading

    import mindmovie.compose.ffmpeg as ff

    real = ff.chunk_args
    encoding = threading.Event()  # another chunk's encoder started

    def args_or_fail(tl: Timeline, chunk: ff._Chunk, *a: object, **kw: object) -> list[str]:
        args = real(tl, chunk, *a, **kw)  # type: ignore[arg-type]
        if any(s.id == "body:title" for s in chunk.segments):
            # its own thread fails once the other chunk is encoding (a fixed 0.5 s was not
            # always enough: that chunk's thread, started late, had not yet passed its
            # stop check, so no encoder was there to kill); the draw thread (drawing
            # ahead, before any encoder starts) fails at once
            if threading.current_thread().name != "compose-draw":
                assert encoding.wait(60), "the other chunk's encoder never started"
            raise ValueError("a broken card")
        graph = args.index("-filter_complex") + 1
        args[graph] = args[graph].replace("[out]", ",realtime=speed=0.25[out]")  # ~16 s
        return args

    real_watched = ff.run_ffmpeg_watched
    ends: list[str] = []  # how each encoder that was started ended

    def watched(args: list[str], watch: Callable[[], None], every: float = 0.2) -> str:
        encoding.set()
        try:
            out = real_watched(args, watch, every)
        except BaseException as e:
            ends.append(type(e).__name__)
            raise
        ends.append("finished its chunk")
        return out

    monkeypatch.setattr(ff, "chunk_args", args_or_fail)
    monkeypatch.setattr(ff, "run_ffmpeg_watched", watched)
    tl = build_timeline(_movie(clips), SPEC)
    with pytest.raises(ValueError, match="a broken card"):
        render(tl, tmp_path, tmp_path / "movie.mp4", workers=2)
    # every encoder running was killed by the stop (each chunk would take ~16 s)
    assert ends and set(ends) == {"_Stopped"}, ends
    assert not list((tmp_path / "audio").glob("*.m4a"))
    assert not list((tmp_path / "segments").glob(".chunk-*"))


def test_cards_and_overlays_are_drawn_by_one_thread_ahead_of_the_encoders(
    rendered_and_drawn: tuple[Timeline, RenderReport, Path, list[tuple[str, str]], list[Any]],
) -> None:
    """The pool's threads only start encoders: every card and overlay is drawn once, by
    the draw thread, in the order the pool starts the chunks (the first encoder waits
    for its own drawings only, a later chunk's are ready when a core frees). (Read from
    the shared render, which records each drawing as (thread, text).)"""
    tl, _, _, drawn, chunks = rendered_and_drawn
    assert len(chunks) == 2
    assert {name for name, _ in drawn} == {"compose-draw"}
    texts = [text for _, text in drawn]
    assert len(texts) == len(set(texts)) == 2 + len(tl.items) - 2  # each once
    # chunk by chunk, in the pool's order
    first = {it.text for s in chunks[0].segments for p in s.parts for it in [tl.items[p.item]]}
    assert set(texts[: len(first)]) == first


def test_a_drawing_that_fails_is_the_render_s_error(
    tmp_path: Path, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card that cannot be written (a full disk) fails the render with that error; no
    chunk waits for a drawing that will never come."""

    def full(*a: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cards, "render_card", full)
    tl = build_timeline(_movie(clips), SPEC)
    with pytest.raises(OSError, match="No space left"):
        render(tl, tmp_path, tmp_path / "movie.mp4", workers=2)
    assert not (tmp_path / "movie.mp4").exists()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_chunks_take_every_segment_once_in_order_and_cut_after_transitions(
    tmp_path: Path, workers: int
) -> None:
    tl = _twelve(tmp_path)
    order = {s.id: i for i, s in enumerate(tl.segments)}
    cached, chunks = plan_chunks(tl, tmp_path / "segments", workers)
    assert cached == [] and len(chunks) >= workers
    chunks.sort(key=lambda c: order[c.segments[0].id])
    flat = [s.id for c in chunks for s in c.segments]
    assert flat == [s.id for s in tl.segments]  # each once, in timeline order
    for c in chunks:
        assert len(c.segments) <= MAX_CHUNK_SEGMENTS  # bounded decoders: flat memory
    for c in chunks[:-1]:
        # the next chunk starts on a body, so it decodes a second of a clip again, not all
        assert c.segments[-1].kind == "transition", [s.id for s in c.segments]
    costs = [c.cost() for c in chunks]
    assert max(costs) <= 1.5 * min(costs)  # balanced for the pool


def test_chunks_never_span_a_cached_segment(tmp_path: Path) -> None:
    tl = _twelve(tmp_path)
    seg_dir = tmp_path / "segments"
    seg_dir.mkdir()
    kept = {"body:scene:s04", "xfade:scene:s08>scene:s09"}
    for s in tl.segments:
        if s.id in kept:
            (seg_dir / f"{s.key}.mp4").write_bytes(b"x")
    cached, chunks = plan_chunks(tl, seg_dir, 2)
    assert {s.id for s in cached} == kept
    index = {s.id: i for i, s in enumerate(tl.segments)}
    for c in chunks:
        ids = [index[s.id] for s in c.segments]
        assert ids == list(range(ids[0], ids[0] + len(ids)))  # consecutive: no gap inside
    assert sorted(s.id for c in chunks for s in c.segments) == sorted(
        s.id for s in tl.segments if s.id not in kept
    )


def test_incremental_recompose_reencodes_only_three_segments(
    rendered: tuple[Timeline, RenderReport, Path], clips: dict[str, Path]
) -> None:
    _, report, work = rendered
    assert not any(s.reused for s in report.segments)
    seen: list[str] = []
    tl2 = build_timeline(_movie(clips, blue="I am blue and brand new"), SPEC)
    report2 = render(tl2, work, work / "movie2.mp4", on_segment=lambda r: seen.append(r.id))
    fresh = {s.id for s in report2.segments if not s.reused}
    assert fresh == {
        "body:scene:blue",
        "xfade:scene:red>scene:blue",
        "xfade:scene:blue>scene:green",
    }
    assert sorted(seen) == sorted(s.id for s in tl2.segments)
    assert probe(report2.out, count_frames=True).video_frames == tl2.total_frames
    # nothing changed: everything reused, and the movie is still produced
    report3 = render(tl2, work, work / "movie3.mp4")
    assert all(s.reused for s in report3.segments)


def _frames_at_rate(video: Path) -> int:
    """Frames a decode at the movie's constant rate gives (a frame that lasts longer
    than 1/FPS is shown again)."""
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(video), "-map", "0:v", "-fps_mode", "cfr",
         "-r", str(FPS), "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return int(re.findall(r"frame=\s*(\d+)", err)[-1])


@pytest.mark.parametrize("crossfade", [0.0, 0.5])
def test_a_one_frame_card_encoded_alone_is_one_frame_at_the_movie_s_rate(
    tmp_path: Path, clips: dict[str, Path], crossfade: float
) -> None:
    """A 1-frame closing card encoded alone (its neighbour's segment cached) got decode
    times 2 frames later than every other segment's (x264 sets the B-frame delay from
    the frames it has seen): the frame before it lasted 3 frames, and a decode at the
    movie's rate showed it 3 times (76 frames of 74 here)."""
    spec = replace(SPEC, crossfade=crossfade, title_seconds=1 / FPS, closing_seconds=1 / FPS)
    tl = build_timeline(_movie(clips), spec)
    work = tmp_path / "work"
    render(tl, work, tmp_path / "a.mp4", workers=2)
    closing = tl.segments[-1]
    assert closing.id == "body:closing" and closing.frames == 1
    (work / "segments" / f"{closing.key}.mp4").unlink()
    rep = render(tl, work, tmp_path / "b.mp4", workers=2)
    assert [r.id for r in rep.segments if not r.reused] == ["body:closing"]
    assert count_video_frames(rep.out) == tl.total_frames
    assert _frames_at_rate(rep.out) == tl.total_frames


def test_two_scenes_alike_share_a_segment_reported_once_it_is_on_disk(
    tmp_path: Path, clips: dict[str, Path]
) -> None:
    """A scene block duplicated in plan.yaml (a paid keyframe and clip reused for it: the
    same clip, text and seconds) gives two bodies of one key, encoded once. The second was
    reported reused before the first landed, and the pipeline's `on_segment`, hashing its
    file, raised FileNotFoundError: every render of that plan failed in its compose."""
    movie = _movie(clips)
    scenes = list(movie.scenes)
    scenes[1] = replace(scenes[0], id="blue")  # the red scene's block, under another id
    tl = build_timeline(replace(movie, scenes=tuple(scenes)), SPEC)
    bodies = [s for s in tl.segments if s.id in ("body:scene:red", "body:scene:blue")]
    assert bodies[0].key == bodies[1].key
    hashed: dict[str, str] = {}

    def on_segment(r: SegmentResult) -> None:  # as Pipeline._compose records each one
        hashed[r.id] = sha256_file(r.path)

    report = render(tl, tmp_path, tmp_path / "movie.mp4", workers=2, on_segment=on_segment)
    assert sorted(hashed) == sorted(s.id for s in tl.segments)
    assert hashed["body:scene:red"] == hashed["body:scene:blue"]
    assert probe(report.out, count_frames=True).video_frames == tl.total_frames


@pytest.mark.parametrize("size", [(320, 180), (720, 1280), (1280, 720)])
def test_long_affirmation_stays_inside_the_frame(size: tuple[int, int]) -> None:
    text = "I am calm, grateful and strong; " * 40 + "Supercalifragilisticexpialidocious" * 3
    alpha = overlay_image(text, size).getchannel("A")
    box = alpha.getbbox()
    assert box is not None
    w, h = size
    margin = 2
    left, top, right, bottom = box
    assert left >= margin and top >= h // 2 and right <= w - margin and bottom <= h - margin
    # a short text sits in the bottom third, centred
    box = overlay_image("I am healthy", size).getchannel("A").getbbox()
    assert box is not None and box[1] >= h * 0.6 and abs((box[0] + box[2]) / 2 - w / 2) < w * 0.05


def test_a_long_token_is_split_in_few_measurements(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pasted URL or a sentence without spaces is one 'word': splitting it measured
    every prefix from the end (25k measurements and 9 s for 600 characters, minutes for
    1000), which hung the compose."""
    calls = 0
    width = cards._width

    def counted(f: cards.Font, s: str) -> float:
        nonlocal calls
        calls += 1
        return width(f, s)

    monkeypatch.setattr(cards, "_width", counted)
    cards.layout_text.cache_clear()  # measured here, not remembered from another test
    lay = cards.layout_text("x" * 600, 725, 140, 36, 14)
    assert calls < 3000
    f = cards.font(lay.px, lay.face)
    assert len(lay.lines) > 1 and all(width(f, line) <= 725 for line in lay.lines)


def _system_font() -> bool:
    try:
        ImageFont.truetype("DejaVuSans.ttf", 12)
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _system_font(), reason="no DejaVu Sans on this machine")
@pytest.mark.parametrize("text", ["Ich bin glücklich", "Я счастлив", "I am well — thank you"])
def test_text_beyond_ascii_is_drawn_with_its_letters_not_boxes(text: str) -> None:
    """Pillow's built-in font is ASCII only: other letters fall back to a system font."""
    size = (640, 360)
    drawn = np.asarray(overlay_image(text, size).getchannel("A"))
    # the same text with the non-ASCII characters replaced by an unassigned one: boxes
    boxes = "".join(ch if ch.isascii() else "\U0010fffd" for ch in text)
    assert not np.array_equal(drawn, np.asarray(overlay_image(boxes, size).getchannel("A")))
    assert cards.undrawable(text) == ""
    assert cards.undrawable("I am \U0010fffd") == "\U0010fffd"  # nothing draws it: warned
    card = np.asarray(cards.card_image(text, size, "title"))
    assert not np.array_equal(card, np.asarray(cards.card_image(boxes, size, "title")))


@pytest.mark.parametrize(
    ("text", "size", "kind"),
    [
        ("Превосходительство", (720, 1280), "title"),  # one long Russian word
        ("Мой год: Überraschung, Превосходительство", (720, 720), "closing"),
        ("Ich bin Donaudampfschifffahrtskapitän", (480, 854), "scene"),
    ],
)
def test_a_long_word_makes_the_text_smaller_rather_than_being_split(
    text: str, size: tuple[int, int], kind: str
) -> None:
    """A word wider than the text box at the largest size was broken where the line
    ran out ('Превосходите' / 'льство' on a 9:16 title card, a lone 'о' on a 1:1 one);
    the text is now made smaller until every word fits whole, as a block too tall is.
    A word too wide even at the smallest size (a pasted URL) is still split."""
    if kind == "scene":
        lay = cards._overlay_layout(text, size)[0]
    else:
        lay = cards._card_layout(text, size, "title" if kind == "title" else "closing")
    assert sorted(" ".join(lay.lines).split()) == sorted(text.split()), lay.lines
    assert not lay.cut
    f = cards.font(lay.px, lay.face)
    w = size[0] * (0.8 if kind != "scene" else 0.85)
    assert all(cards._width(f, line) <= w for line in lay.lines)
    url = cards._overlay_layout("https://example.com/" + "x" * 300, size)[0]
    assert len(url.lines) > 1 and not url.cut


@pytest.mark.skipif(not _system_font(), reason="no DejaVu Sans on this machine")
def test_an_accent_typed_as_a_combining_mark_is_drawn_as_the_letter() -> None:
    """'e' + U+0301 (how macOS writes file names, and some keyboards type) is drawn as é,
    not as an e and a box; an emoji's invisible variation selector is not 'missing'."""
    size = (640, 360)
    decomposed, composed = "Cafe\u0301 du matin", "Caf\u00e9 du matin"
    assert np.array_equal(
        np.asarray(overlay_image(decomposed, size)), np.asarray(overlay_image(composed, size))
    )
    assert cards.undrawable(decomposed) == ""
    assert "\ufe0f" not in cards.undrawable("I am \u2764\ufe0f")


@pytest.mark.parametrize("size", [(320, 180), (720, 1280), (1280, 720), (1920, 1080)])
@pytest.mark.parametrize(
    "text", ["I am calm", "I am living my dream, calm, grateful and full of energy " * 4]
)
def test_overlay_box_is_the_whole_frame_drawing_cut_to_its_text(
    size: tuple[int, int], text: str
) -> None:
    """The ffmpeg engine blends a box drawn on a window around the text; the moviepy
    engine and this test draw the whole frame. Same pixels, even-aligned for 4:2:0."""
    whole = Image.new("RGBA", size, (0, 0, 0, 0))
    lay, centre, stroke, shadow = cards._overlay_layout(text, size)
    cards._draw_block(whole, lay, centre, stroke=stroke, shadow=shadow)
    placed = cards.overlay_box(text, size)
    assert placed is not None
    box, x, y = placed
    assert x % 2 == y % 2 == box.width % 2 == box.height % 2 == 0
    cut = whole.crop((x, y, x + box.width, y + box.height))
    assert np.array_equal(np.asarray(cut), np.asarray(box))
    rest = np.asarray(whole.getchannel("A")).copy()
    rest[y : y + box.height, x : x + box.width] = 0
    assert not rest.any()  # nothing visible outside the box
    assert np.array_equal(np.asarray(overlay_image(text, size)), np.asarray(whole))


def test_music_is_looped_and_cut_to_the_movie(tmp_path: Path, clips: dict[str, Path]) -> None:
    music = tmp_path / "music.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=220:d=1.5", str(music)])  # shorter than the movie
    movie = replace(_movie(clips), music=music, music_sha256=sha256_file(music))
    tl = build_timeline(movie, SPEC)
    track = render_audio(tl.audio, tmp_path)
    info = probe(track)
    assert info.audio is not None and info.video is None
    assert abs(info.duration - tl.duration) < 0.1
    # the song still plays after its own 1.5 s (a track padded to length would be silent)
    later = pcm(track)[0][int(2.0 * AUDIO_RATE) : int((tl.duration - 1.0) * AUDIO_RATE)]
    assert later.size >= AUDIO_RATE, tl.duration
    assert spectral_peaks(later, 1) == [pytest.approx(220, abs=3)]


def test_builtin_bed_is_a_calm_wav_of_the_asked_length(tmp_path: Path) -> None:
    path = builtin_music_bed(tmp_path / "bed.wav", 3.0)
    info = probe(path)
    assert info.audio is not None and abs(info.duration - 3.0) < 0.01
    mtime = path.stat().st_mtime_ns
    assert builtin_music_bed(path, 3.0).stat().st_mtime_ns == mtime  # cached


# what x264 writes into every stream it makes (its SEI options string), per preset
_PRESET_SIGNS = {
    "superfast": ("subme=1", "me=dia", "ref=1"),
    "faster": ("subme=4", "me=hex", "ref=2"),
    "slow": ("subme=8", "me=hex", "ref=5"),
}


@pytest.mark.parametrize(
    ("quality", "engine"),
    [("draft", "ffmpeg"), ("standard", "ffmpeg"), ("high", "ffmpeg"), ("high", "moviepy")],
)
def test_quality_picks_the_x264_preset_and_crf(
    tmp_path: Path, clips: dict[str, Path], quality: str, engine: str
) -> None:
    """compose.quality reaches the encoder as the README's table says: read back from the
    x264 settings that every H.264 stream x264 writes carries, in both engines."""
    from mindmovie.compose import renderer

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    row = next(ln for ln in readme.splitlines() if ln.startswith(f"| `{quality}`"))
    preset, crf = (x.strip() for x in row.split("|")[2].split("/"))
    spec = replace(SPEC, quality=quality)
    tl = build_timeline(_movie({"red": clips["red"]}), spec)
    out = tmp_path / "movie.mp4"
    renderer(engine)(tl, tmp_path / "work", out)
    data = out.read_bytes()
    at = data.find(b"x264 - core")
    assert at >= 0
    options = data[at : data.find(b"\x00", at)].decode("ascii", "replace").split()
    assert f"crf={crf}.0" in options
    assert all(sign in options for sign in _PRESET_SIGNS[preset]), (preset, options)


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
def test_a_1080p_movie_of_high_quality_is_at_the_level_1080p_decoders_take(
    tmp_path: Path, clips: dict[str, Path], engine: str
) -> None:
    """A 1080p movie (24 fps) is level 4.0 whatever its quality: left to x264, `high`
    (preset slow, 5 reference frames, a picture buffer level 4's cannot hold) made it
    level 5.0, a 4K decoder's level, which a phone's or TV's 1080p decoder may refuse.
    Every SPS says it (the ffmpeg engine's movie has one per segment)."""
    from mindmovie.compose import renderer

    spec = replace(SPEC, width=1920, height=1080, fps=24, quality="high", crossfade=0.0,
                   title_seconds=0.125, closing_seconds=0.125)  # fmt: skip
    movie = _movie({"red": clips["red"]})
    movie = replace(movie, scenes=tuple(replace(s, seconds=0.25) for s in movie.scenes))
    out = tmp_path / "movie.mp4"
    renderer(engine)(build_timeline(movie, spec), tmp_path / "work", out)
    levels = sps_field(out, "level_idc")
    assert levels and set(levels) == {40}, levels
    assert set(sps_field(out, "max_dec_frame_buffering")) == {4}


#: H.264 level (level_idc) each frame the settings offer needs at 24 and 60 fps, from
#: the standard's Table A-1 (frame size, side and macroblock rate), 3.0 at least
_LEVELS = {
    ("16:9", "480p"): (30, 31), ("16:9", "720p"): (31, 32), ("16:9", "1080p"): (40, 42),
    ("9:16", "480p"): (30, 31), ("9:16", "720p"): (31, 32), ("9:16", "1080p"): (40, 42),
    ("1:1", "480p"): (30, 31), ("1:1", "720p"): (31, 32), ("1:1", "1080p"): (32, 42),
}  # fmt: skip


@pytest.mark.parametrize(("aspect", "resolution"), list(_LEVELS))
def test_every_offered_frame_is_encoded_at_the_level_its_size_and_rate_need(
    tmp_path: Path, clips: dict[str, Path], aspect: str, resolution: str
) -> None:
    """The encoder settings both engines share (`high`, the most reference frames) give
    each aspect and resolution, at 24 and 60 fps, the level its frame size and rate
    need: x264 raised 1080p (and 1080x1080 at 24 fps) to hold its 5 reference frames,
    to 5.0 (4.0), a level a decoder made for the frame may refuse. Two frames each."""
    from mindmovie.compose.ffmpeg import encoder_args
    from mindmovie.compose.timeline import output_size

    w, h = output_size(aspect, resolution)
    got = []
    for fps in (24, 60):
        spec = replace(SPEC, width=w, height=h, fps=fps, quality="high")
        tl = build_timeline(_movie({"red": clips["red"]}), spec)
        out = tmp_path / f"{fps}.mp4"
        run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=s={w}x{h}:r={fps}", "-frames:v", "2",
                    *encoder_args(tl, 1), str(out)])  # fmt: skip
        got.append(sps_field(out, "level_idc"))
    assert got == [[level] for level in _LEVELS[aspect, resolution]]


def test_moviepy_workers_past_the_cpus_are_capped_at_twice_them(
    tmp_path: Path, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """compose.workers is x264's threads with the moviepy engine: `workers: 100000` gave
    x264 its maximum of 128 threads on 2 CPUs (a compose 10x slower, 2.5x the memory).
    It is capped at 2x the usable CPUs, as the ffmpeg engine caps its encoders; read back
    from the x264 settings string of the stream."""
    from mindmovie.compose import moviepy

    monkeypatch.setattr(moviepy, "usable_cpu_count", lambda: 2, raising=False)
    tl = build_timeline(_movie({"red": clips["red"]}), SPEC)
    out = tmp_path / "movie.mp4"
    moviepy.render(tl, tmp_path / "work", out, workers=100000)
    data = out.read_bytes()
    at = data.find(b"x264 - core")
    options = data[at : data.find(b"\x00", at)].decode("ascii", "replace").split()
    assert "threads=4" in options, options


def test_a_clip_whose_picture_starts_after_its_sound_keeps_that_offset(tmp_path: Path) -> None:
    """Players start a clip at its file's start: a picture that begins 0.3 s after the
    sound shows its first frame until then. The renderer started the picture at the
    scene's first frame instead, 0.3 s ahead of the clip's sound (and of the moviepy
    engine): a flash at 0.5 s of picture (0.8 s of the clip) was shown at 0.5 s."""
    clip = tmp_path / "late.mp4"
    flash = "color=c=black:s=400x300:r=30:d=2,drawbox=enable='between(t,0.5,0.6)':c=white:t=fill"
    run_ffmpeg(["-f", "lavfi", "-itsoffset", "0.3", "-i", flash,
                "-f", "lavfi", "-i", "sine=f=330:d=2.3", "-c:v", "libx264", "-preset",
                "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)])  # fmt: skip
    scene = SceneInput("late", "", 2.0, clip, sha256_file(clip), has_audio=True)
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), SPEC)
    report = render(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=2)
    item = tl.items[1]
    frames = _frames(report.out)
    white = [k for k in range(item.frames) if _picture(frames[item.start + k]).min() > 200]
    assert white and white[0] == 10, white  # the first frame on screen at or after 0.8 s


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
def test_a_compose_told_to_stop_stops_and_writes_no_movie(
    tmp_path: Path, clips: dict[str, Path], engine: str
) -> None:
    """The render's stop reaches the compose through `stopped` (a signal sent to the
    render alone does not reach its encoders): the ffmpeg engine stops once a segment
    has landed (kept, and reported; at the latest before the final mux), the moviepy
    engine between two frames; neither
    writes the movie nor leaves a temp file or chunk folder."""
    from mindmovie.compose import renderer
    from mindmovie.compose.ffmpeg import ComposeStopped

    tl = build_timeline(_movie(clips), SPEC)
    landed: list[SegmentResult] = []
    asked = [0]

    def stopped() -> bool:
        asked[0] += 1
        return bool(landed) if engine == "ffmpeg" else asked[0] > 5

    out = tmp_path / "movie.mp4"
    with pytest.raises(ComposeStopped):
        renderer(engine)(
            tl, tmp_path / "work", out, workers=1, on_segment=landed.append, stopped=stopped
        )
    assert not out.exists()
    left = [p.name for p in tmp_path.rglob("*") if p.name.startswith(".") or "tmp" in p.name]
    assert left == [], left
    if engine == "ffmpeg":
        assert landed and all(s.path.is_file() for s in landed)  # kept for the next compose


#: a stand-in ffmpeg for the final mux's last moments: its last progress report, then
#: `+faststart`'s second pass ("moving the moov atom"), which rewrites the whole movie
#: and reports nothing until it is done (seen with the real ffmpeg: its one report comes
#: after that pass), here 3 s of writing
_SECOND_PASS = """\
import sys, time
sys.stderr.write("frame=  240 fps=0.0 q=-1.0 size=  282KiB time=00:00:20.00 speed=5x\\r")
sys.stderr.write("[mp4 @ 0x1] Starting second pass: moving the moov atom to the beginning"
                 " of the file\\n")
sys.stderr.flush()
end = time.monotonic() + 3.0
with open(sys.argv[-1], "wb") as out:
    while time.monotonic() < end:
        out.write(b"m" * 65536)
        out.flush()
        time.sleep(0.05)
sys.stderr.write("frame=  240 fps=0.0 q=-1.0 Lsize=  282KiB time=00:00:20.00 speed=1x\\n")
"""


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="reads an ffmpeg's /proc/PID/io")
def test_an_ffmpeg_writing_without_a_report_is_not_taken_for_stalled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The final mux's `+faststart` second pass rewrites the whole movie after the last
    progress report, writing no other: on a slow disk (a network folder, a USB stick)
    longer than `media.STALL_SECONDS` it was taken for a stall and ended, the compose
    failed after every clip was paid for, and every render again failed the same way.
    An ffmpeg reading or writing is making progress (here STALL_SECONDS 1 s, 3 s of
    writing with no report)."""
    import sys

    from mindmovie import media

    monkeypatch.setattr(media, "STALL_SECONDS", 1.0, raising=False)
    exe = tmp_path / "ffmpeg"
    exe.write_text(f"#!{sys.executable}\n{_SECOND_PASS}")
    exe.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))
    media.ffmpeg_exe.cache_clear()  # (the path is looked up once a process)
    out = tmp_path / "movie.mp4"
    try:
        said = media.run_ffmpeg_watched(["-i", "in.mp4", "-c", "copy", str(out)], lambda: None)
    finally:
        monkeypatch.undo()
        media.ffmpeg_exe.cache_clear()  # the next test looks the real one up again
    assert "Lsize=" in said and out.stat().st_size > 0


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds its ffmpeg in /proc")
def test_an_ffmpeg_that_makes_no_progress_fails_the_compose_saying_so(
    tmp_path: Path, clips: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ffmpeg of the compose stopped (SIGSTOP) or blocked for good (a disk that does
    not answer) held the compose, and the render, for ever: nothing watched for its
    progress. It is ended once its progress report has not moved for
    `media.STALL_SECONDS` (here 1 s) and the compose fails saying so, writing no movie."""
    import threading

    from mindmovie import media

    monkeypatch.setattr(media, "STALL_SECONDS", 1.0, raising=False)
    tl = build_timeline(_movie(clips), SPEC)
    stopped: list[int] = []
    done = threading.Event()

    def stop_the_first_ffmpeg() -> None:
        while not (stopped or done.is_set()):
            stopped.extend(ffmpeg_children()[:1])
            for pid in stopped:
                os.kill(pid, signal.SIGSTOP)
            time.sleep(0.005)
        # (nothing ended it: go on after a while, rather than hang the test for ever)
        if not done.wait(20):
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)

    stopper = threading.Thread(target=stop_the_first_ffmpeg)
    stopper.start()
    out = tmp_path / "movie.mp4"
    t0 = time.monotonic()
    try:
        with pytest.raises(FFmpegError, match=r"ffmpeg made no progress for 1 s"):
            render(tl, tmp_path / "work", out, workers=1)
    finally:
        done.set()
        stopper.join()
    assert time.monotonic() - t0 < 15
    assert stopped and stopped[0] not in ffmpeg_children()  # ended, not left stopped
    assert not out.exists()
