"""The fast ffmpeg renderer against the frame-by-frame reference (moviepy engine).

One small timeline (320x180, 12 fps; title, three scenes, closing, 0.5 s crossfades,
overlays, music + one clip's own sound) is rendered by both engines and compared
frame by frame after decoding both to raw RGB: same frame count and duration, PSNR
>= 30 dB on every frame, and the same sound; the sound, one track in both, is also
checked against the timeline by itself. Clips differ from the output in size,
aspect and rate (25, 10 and 30 fps; one shorter than its scene, one longer), and they
move, so a frame picked at the wrong clip time shows up as a PSNR drop.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mindmovie.compose import renderer
from mindmovie.compose.ffmpeg import RenderReport
from mindmovie.compose.ffmpeg import render as render_ffmpeg
from mindmovie.compose.timeline import MovieInput, OutputSpec, SceneInput, Timeline, build_timeline
from mindmovie.fsutil import sha256_file
from mindmovie.media import clip_hdr, clip_matrix, ffmpeg_exe, probe, run_ffmpeg

W, H, FPS = 320, 180, 12
SPEC = OutputSpec(
    W, H, fps=FPS, crossfade=0.5, title_seconds=1.0, closing_seconds=1.0, quality="standard"
)
MIN_PSNR = 30.0
#: providers deliver BT.709-tagged clips; both engines read them as BT.709
_TAG709 = [
    "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
    "-color_range", "tv",
]  # fmt: skip


def _clip(path: Path, source: str, seconds: float, audio: bool = False) -> Path:
    args = ["-f", "lavfi", "-i", f"{source}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=330:d={seconds}", "-c:a", "aac", "-shortest"]
    run_ffmpeg([*args, *_TAG709, "-c:v", "libx264", "-preset", "ultrafast", str(path)])
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("oracle-clips")
    return {
        # 4:3, 25 fps: scaled to cover, cropped top and bottom, frames picked by time
        "pattern": _clip(d / "pattern.mp4", "testsrc=s=400x300:r=25", 2.0),
        # square, 10 fps (slower than the output), shorter than its scene: last frame held
        "square": _clip(d / "square.mp4", "testsrc2=s=300x300:r=10", 1.2, audio=True),
        # 16:9 at twice the size, 30 fps, longer than its scene: cut
        "wide": _clip(d / "wide.mp4", "testsrc2=s=640x360:r=30", 3.0),
    }


@pytest.fixture(scope="module")
def timeline(clips: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Timeline:
    music = tmp_path_factory.mktemp("oracle-music") / "music.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=220:d=1.5", str(music)])  # looped
    scenes = tuple(
        SceneInput(
            id=name,
            affirmation=f"I am {name}, calm and grateful",
            seconds=2.0,
            clip=path,
            clip_sha256=sha256_file(path),
            has_audio=name == "square",
        )
        for name, path in clips.items()
    )
    movie = MovieInput("Oracle", "Thank you", scenes, music, sha256_file(music))
    return build_timeline(movie, SPEC)


@pytest.fixture(scope="module")
def movies(timeline: Timeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderReport]:
    out: dict[str, RenderReport] = {}
    for engine in ("ffmpeg", "moviepy"):
        work = tmp_path_factory.mktemp(f"oracle-{engine}")
        out[engine] = renderer(engine)(timeline, work, work / "movie.mp4", workers=2)
    return out


def _decode(path: Path, *args: str) -> bytes:
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path), *args, "-"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def _frames(path: Path) -> np.ndarray:
    raw = _decode(path, "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgb24")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, H, W, 3)


def _pcm(path: Path) -> np.ndarray:
    raw = _decode(path, "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "48000")
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def test_same_length_and_streams(timeline: Timeline, movies: dict[str, RenderReport]) -> None:
    for engine, rep in movies.items():
        info = probe(rep.out, count_frames=True)
        assert info.video is not None and info.audio is not None, engine
        assert (info.video.codec, info.video.pix_fmt) == ("h264", "yuv420p"), engine
        assert (info.video.width, info.video.height) == (W, H), engine
        assert info.video_frames == timeline.total_frames, engine
        assert abs(rep.duration - timeline.duration) <= 1 / FPS + 0.03, engine
        # matrix, primaries and transfer all BT.709 (ffmpeg prints "bt709" once then;
        # "bt709/unknown/unknown" when only the matrix is tagged)
        text = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-i", str(rep.out)], capture_output=True, text=True
        ).stderr
        assert "yuv420p(tv, bt709, progressive)" in text, (engine, text)
        # square pixels, said: the reference's movie had no pixel aspect at all
        assert f"{W}x{H} [SAR 1:1 DAR 16:9]" in text, (engine, text)
    assert abs(movies["ffmpeg"].duration - movies["moviepy"].duration) <= 1 / FPS


def test_every_frame_matches_the_reference(
    timeline: Timeline, movies: dict[str, RenderReport]
) -> None:
    fast, ref = _frames(movies["ffmpeg"].out), _frames(movies["moviepy"].out)
    assert len(fast) == len(ref) == timeline.total_frames
    scores = [psnr(a, b) for a, b in zip(fast, ref, strict=True)]
    worst = int(np.argmin(scores))
    where = [(it.id, local) for it, local, _ in timeline.on_screen(worst)]
    assert min(scores) >= MIN_PSNR, (
        f"min PSNR {min(scores):.2f} dB at frame {worst} {where}; "
        f"mean {np.mean([s for s in scores if np.isfinite(s)]):.2f} dB"
    )
    # not trivially alike: in the 30 fps scene, one clip frame off would fail the bar
    i, wide = next((i, it) for i, it in enumerate(timeline.items) if it.id == "scene:wide")
    f = wide.start + timeline.transition_frames[i - 1] + 2
    assert psnr(ref[f], ref[f + 1]) < MIN_PSNR - 10


def test_same_sound(movies: dict[str, RenderReport]) -> None:
    fast, ref = _pcm(movies["ffmpeg"].out), _pcm(movies["moviepy"].out)
    assert abs(len(fast) - len(ref)) <= 0.05 * 48000
    n = min(len(fast), len(ref))
    fast, ref = fast[:n], ref[:n]
    assert np.sqrt(np.mean(ref**2)) > 0.01  # there is sound to compare
    win = 48000 // 20  # 50 ms RMS envelope
    env = [np.sqrt(np.mean(x[: n // win * win].reshape(-1, win) ** 2, axis=1)) for x in (fast, ref)]
    assert np.corrcoef(env[0], env[1])[0, 1] > 0.99
    assert np.mean(np.abs(fast - ref)) < 0.01


def _tone(x: np.ndarray, hz: float) -> float:
    """How much of `x`'s energy is at `hz` (within 10 Hz), 0..1."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / 48000)
    return float(spectrum[np.abs(freqs - hz) <= 10].sum() / spectrum.sum())


def test_the_sound_is_the_timeline_s(timeline: Timeline, movies: dict[str, RenderReport]) -> None:
    """Both engines take one track (`audio.render_audio`), so comparing them cannot catch
    a fault in it: the sound is checked against the timeline here, by itself. The music
    (220 Hz, looped) plays through, fading in at the start and out at the end; the one
    clip with sound (330 Hz) is heard in its own scene and nowhere else; the whole is
    brought to about -16 LUFS (EBU R128, measured by ffmpeg's ebur128)."""
    pcm = _pcm(movies["ffmpeg"].out)
    aud = timeline.audio

    def at(first: float, last: float) -> np.ndarray:
        return pcm[round(first * 48000) : round(last * 48000)]

    # the square clip's sound: 1.2 s long (the fixture), fading in with its scene
    (square,) = [c for c in aud.clips if c.scene_id == "square"]
    heard = at(square.start + square.fade_in / 2, square.start + 1.0)
    assert _tone(heard, 330) > 0.05 and _tone(heard, 220) > 0.5  # the clip over the music
    (pattern, wide) = [it for it in timeline.items if it.id in ("scene:pattern", "scene:wide")]
    for it in (pattern, wide):  # the other scenes' bodies: the music alone
        alone = at(it.start / FPS + 0.6, it.end / FPS - 0.6)
        assert _tone(alone, 220) > 0.95 and _tone(alone, 330) < 0.01, it.id
    rms = [float(np.sqrt(np.mean(pcm[i : i + 960] ** 2))) for i in range(0, len(pcm) - 959, 960)]
    middle = float(np.median(rms))
    assert rms[0] < middle / 3 and rms[-1] < middle / 3, (rms[:3], middle, rms[-3:])
    assert aud.fade_in > 0.1 and aud.fade_out > 0.1
    text = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(movies["ffmpeg"].out),
         "-map", "0:a:0", "-af", "ebur128", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    lufs = float(text.rsplit("I:", 1)[1].split("LUFS")[0])
    assert -18.0 <= lufs <= -14.0, lufs


def test_reference_keeps_at_most_two_clips_open(timeline: Timeline) -> None:
    """The moviepy engine opens a scene's reader on its first frame and closes it once
    the movie is past the scene (lessons: memory and file descriptors per clip)."""
    from mindmovie.compose.moviepy import _LazyScene, _Reader, movie_clip

    readers: list[_Reader] = []
    lazies: list[_LazyScene] = []
    movie = movie_clip(timeline, readers, lazies)
    assert all(r.clip is None for r in readers) and all(s.clip is None for s in lazies)
    open_counts, built_counts, ever_opened = [], [], set()
    try:
        for f in range(timeline.total_frames):
            movie.get_frame(f / FPS)
            live = [r for r in readers if r.clip is not None]
            ever_opened |= {r.path for r in live}
            open_counts.append(len(live))
            built_counts.append(sum(s.clip is not None for s in lazies))
    finally:
        for r in readers:
            r.close()
    assert len(ever_opened) == len(readers) == 3  # every scene was read
    assert max(open_counts) == 2  # both pictures of a crossfade, never all three
    assert open_counts[-1] == 0  # all closed by the closing card
    # the scenes' moviepy composites likewise: built when shown, dropped after
    assert max(built_counts) == 2 and built_counts[-1] == 0


def test_a_short_scene_gets_its_own_shorter_crossfades_in_both_engines(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    """A 0.5 s scene shortens only its own two crossfades (3 frames, not 6): the two
    engines must still agree frame by frame with transitions of unequal length (the
    ffmpeg engine dissolved every transition over one movie-wide duration)."""
    seconds = {"pattern": 2.0, "square": 0.5, "wide": 2.0}
    scenes = tuple(
        SceneInput(
            id=name,
            affirmation=f"I am {name}",
            seconds=seconds[name],
            clip=path,
            clip_sha256=sha256_file(path),
            clip_matrix="bt709",
        )
        for name, path in clips.items()
    )
    tl = build_timeline(MovieInput("Short", "Thanks", scenes, None, None), SPEC)
    assert tl.transition_frames == (6, 3, 3, 6)
    assert tl.total_frames == (12 + 24 + 6 + 24 + 12) - (6 + 3 + 3 + 6)
    fast, ref = _both_engines(tl, tmp_path)
    assert len(fast) == len(ref) == tl.total_frames
    scores = [psnr(a, b) for a, b in zip(fast, ref, strict=True)]
    worst = int(np.argmin(scores))
    where = [(it.id, local) for it, local, _ in tl.on_screen(worst)]
    assert min(scores) >= MIN_PSNR, f"min PSNR {min(scores):.2f} dB at frame {worst} {where}"


def _colour_clip(path: Path, size: tuple[int, int], rgb: bool = False) -> tuple[Path, str, Any]:
    """An untagged solid-colour clip, the matrix it is read with, and its colour as a
    player shows it (RGB clips: as stored)."""
    w, h = size
    src = f"color=c=0x2080e0:s={w}x{h}:r=12:d=1.5"
    codec = (
        ["-c:v", "libx264rgb", "-pix_fmt", "bgr24"]
        if rgb
        else ["-c:v", "libx264", "-pix_fmt", "yuv420p"]
    )
    run_ffmpeg(["-f", "lavfi", "-i", src, *codec, str(path)])
    video = probe(path).video
    assert video is not None and video.color_matrix == ""
    read_as = clip_matrix(video)
    how = "format=rgb24" if rgb else f"scale=in_color_matrix={read_as}:in_range=tv,format=rgb24"
    seen = _decode(path, "-frames:v", "1", "-vf", how, "-f", "rawvideo")
    player = np.frombuffer(seen, dtype=np.uint8).reshape(h, w, 3).reshape(-1, 3).mean(axis=0)
    return path, read_as, player


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[Any, Any]:
    """Clips (and what is read from them) made once for the module, by what they are
    made of: the engines' cases of a test read the very same clip, which neither changes."""
    return {"dir": tmp_path_factory.mktemp("oracle-made")}


def _shared_colour_clip(made: dict[Any, Any], size: tuple[int, int], rgb: bool = False) -> Any:
    """`_colour_clip` of this size and kind, made once for the module."""
    key = ("colour", size, rgb)
    if key not in made:
        name = f"untagged-{size[0]}x{size[1]}{'-rgb' if rgb else ''}.mp4"
        made[key] = _colour_clip(made["dir"] / name, size, rgb)
    return made[key]


def _scene_colour(rep: RenderReport, tl: Timeline) -> Any:
    item = next(it for it in tl.items if it.kind == "scene")
    frame = _frames(rep.out)[(item.start + item.end) // 2]
    return frame[: H // 2, W // 4 : 3 * W // 4].reshape(-1, 3).mean(axis=0)  # above the text


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
@pytest.mark.parametrize(
    ("size", "rgb", "read_as"),
    [((1280, 720), False, "bt709"), ((640, 360), False, "smpte170m"), ((1280, 720), True, "")],
    ids=["hd", "sd", "rgb"],
)
def test_an_untagged_clip_keeps_the_colours_a_player_shows(
    engine: str,
    size: tuple[int, int],
    rgb: bool,
    read_as: str,
    tmp_path: Path,
    made: dict[Any, Any],
) -> None:
    """An untagged clip is read the way players read it (BT.709 for HD, BT.601 below; an
    RGB clip as RGB), so the movie shows the clip's colours as the person saw them, in
    both engines. ffmpeg's own default (BT.601 at every size) shifts an HD clip's blue
    by ~10 levels."""
    clip, matrix, player = _shared_colour_clip(made, size, rgb)  # (both engines' cases)
    assert matrix == read_as
    scene = SceneInput("s", "I am calm", 1.5, clip, sha256_file(clip), clip_matrix=matrix)
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), SPEC)
    rep = renderer(engine)(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=2)
    shown = _scene_colour(rep, tl)
    assert np.abs(shown - player).max() <= 3, (engine, shown, player)


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
@pytest.mark.parametrize("transfer", ["smpte2084", "arib-std-b67"], ids=["pq", "hlg"])
def test_an_hdr_clip_is_tone_mapped_to_the_colours_it_shows(
    engine: str, transfer: str, tmp_path: Path, made: dict[Any, Any]
) -> None:
    """A clip tagged HDR (PQ or HLG transfer, BT.2020 primaries: a paid model's, or a
    phone's) is converted to BT.709 SDR: it was read as BT.709, its colours washed out
    (this blue, made HDR within SDR's range, showed as (65, 72, 98) in PQ and as
    (52, 58, 101) in HLG, in both engines)."""
    blue = np.array([64.0, 96.0, 160.0])
    clip = made["dir"] / f"hdr-{transfer}.mp4"  # made once: both engines' cases read it
    if ("hdr", transfer) not in made:
        made["hdr", transfer] = run_ffmpeg(
            ["-f", "lavfi", "-i", "color=c=0x4060a0:s=640x360:r=12:d=1.5", "-vf",
             f"format=gbrpf32le,zscale=tin=bt709:pin=bt709:t={transfer}:p=bt2020:"
             "m=bt2020nc:r=tv:npl=100,format=yuv420p10le",
             "-colorspace", "bt2020nc", "-color_primaries", "bt2020", "-color_trc", transfer,
             "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", str(clip)]
        )  # fmt: skip
    video = probe(clip).video
    assert video is not None and video.color_transfer == transfer
    scene = SceneInput("s", "I am calm", 1.5, clip, sha256_file(clip),
                       clip_matrix=clip_matrix(video), clip_hdr=clip_hdr(video))  # fmt: skip
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), SPEC)
    rep = renderer(engine)(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=2)
    shown = _scene_colour(rep, tl)
    assert np.abs(shown - blue).max() <= 6, (engine, shown)


def test_a_scene_body_encoded_alone_is_converted_like_in_the_whole_movie(
    tmp_path: Path, made: dict[Any, Any]
) -> None:
    """Without text or a neighbour in its chunk, nothing else in the graph asks for
    BT.709: the clip chain must convert by itself, not just relabel the frames."""
    clip, matrix, player = _shared_colour_clip(made, (640, 360))
    scene = SceneInput("s", "", 1.5, clip, sha256_file(clip), clip_matrix=matrix)
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), SPEC)
    work = tmp_path / "work"
    render_ffmpeg(tl, work, tmp_path / "a.mp4", workers=2)
    body = next(s for s in tl.segments if s.id == "body:scene:s")
    (work / "segments" / f"{body.key}.mp4").unlink()  # re-encoded in a chunk of its own
    rep = render_ffmpeg(tl, work, tmp_path / "b.mp4", workers=2)
    assert [r.id for r in rep.segments if not r.reused] == [body.id]
    shown = _scene_colour(rep, tl)
    assert np.abs(shown - player).max() <= 3, (shown, player)


def test_the_reference_holds_the_true_last_frame_of_an_ntsc_rate_clip(tmp_path: Path) -> None:
    """moviepy counts int(duration x fps) frames: 35 for a 1.5 s clip at 24000/1001 that
    has 36, so a scene longer than the clip held the last-but-one frame (the ffmpeg
    engine holds the last)."""
    from mindmovie.compose.moviepy import _Reader

    clip = _clip(tmp_path / "film.mp4", "testsrc2=s=320x180:r=24000/1001", 1.5)
    assert probe(clip, count_frames=True).video_frames == 36
    raw = _decode(clip, "-f", "rawvideo", "-pix_fmt", "rgb24")
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 180, 320, 3)
    assert len(frames) == 36 and psnr(frames[-1], frames[-2]) < 30  # they differ
    reader = _Reader(clip, 10.0, "bt709")
    try:
        held = reader.frame(2.0)  # past the clip's end
    finally:
        reader.close()
    assert psnr(held, frames[-1]) > psnr(held, frames[-2]) + 5


@pytest.mark.parametrize(
    ("source", "size"),
    [
        ("1280x720", (202, 360)),
        ("1280x720", (360, 640)),
        ("1280x720", (200, 200)),
        ("1280x720", (640, 202)),
        # the centred offset is a half pixel (569 - 178 = 391): ffmpeg rounds it to even
        ("1280x720", (178, 320)),
        ("720x1280", (320, 178)),
        ("400x300", (180, 320)),  # 4:3 into 9:16: 427 wide, offset 123.5
    ],
)
def test_the_reference_crops_where_ffmpeg_crops(
    tmp_path: Path, source: str, size: tuple[int, int], made: dict[Any, Any]
) -> None:
    """ffmpeg's crop (in yuv420p, as ffmpeg.py crops every clip) rounds a centred
    offset to the nearest integer (a half to even), then down to even; the reference
    cropped one pixel further right/down (odd offsets), or two pixels further left/up
    (a half pixel past an odd one: 123.5 is 124 in ffmpeg), so 9:16 movies of
    detailed clips differed by ~20-25 dB PSNR between the engines."""
    from moviepy import VideoFileClip

    from mindmovie.compose.moviepy import fit_cover

    w, h = size
    if ("one", source) not in made:  # the one-frame clip, and moviepy's frame of it, made
        # once for the cases of one source (neither depends on the size cropped to)
        one = made["dir"] / f"one-{source}.mp4"
        run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=s={source}:r=24:d=0.1", "-frames:v", "1",
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "1", str(one)])  # fmt: skip
        clip = VideoFileClip(str(one), audio=False)
        made["one", source] = one, np.array(clip.get_frame(0))
        clip.close()
    one, frame = made["one", source]
    chain = f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,crop={w}:{h}"
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(one), "-vf", f"{chain},format=yuv420p",
         "-frames:v", "1", "-pix_fmt", "rgb24", "-f", "rawvideo", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    ref = np.frombuffer(raw, np.uint8).reshape(h, w, 3).astype(float)
    ours = fit_cover(frame, w, h).astype(float)

    def err(dx: int, dy: int) -> float:
        moved = np.roll(np.roll(ours, dx, axis=1), dy, axis=0)
        return float(np.mean((ref[3:-3, 3:-3] - moved[3:-3, 3:-3]) ** 2))

    shifts = [(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    assert min(shifts, key=lambda d: err(*d)) == (0, 0)


def test_the_reference_turns_a_rotated_clip_like_ffmpeg(tmp_path: Path) -> None:
    """A phone's portrait clip is stored landscape with a display rotation. ffmpeg turns
    it on decode (so does the ffmpeg engine), but moviepy 2.1 does not read ffmpeg 7+'s
    "Display Matrix" line and scaled the turned frames back to the stored 640x360: the
    reference squashed the picture (6.7 dB PSNR against the ffmpeg engine)."""
    from mindmovie.compose.moviepy import _Reader

    stored = _clip(tmp_path / "stored.mp4", "testsrc2=s=640x360:r=12", 1.0)
    clip = tmp_path / "portrait.mp4"
    run_ffmpeg(["-display_rotation", "90", "-i", str(stored), "-c", "copy", str(clip)])
    video = probe(clip).video
    assert video is not None and abs(video.rotation) == 90
    raw = _decode(clip, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24")
    shown = np.frombuffer(raw, dtype=np.uint8).reshape(640, 360, 3)  # as players show it
    reader = _Reader(clip, 10.0, "bt709")
    try:
        first = reader.frame(0.0)
    finally:
        reader.close()
    assert first.shape == (640, 360, 3)
    assert psnr(first, shown) > 35


def _anamorphic(made: dict[Any, Any]) -> tuple[Path, np.ndarray, np.ndarray]:
    """The anamorphic clip, and its frames covering the movie's frame as shown (16:9)
    and as stored (squeezed), made once for the module."""
    from mindmovie.compose.moviepy import fit_cover

    if "anamorphic" in made:
        return made["anamorphic"]  # type: ignore[no-any-return]
    clip = made["dir"] / "anamorphic.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=1280x720:r=12:d=1.5",
                "-vf", "scale=720:480,setsar=32/27", *_TAG709[2:],
                "-c:v", "libx264", "-preset", "ultrafast", str(clip)])  # fmt: skip

    def cover(*vf: str) -> np.ndarray:
        raw = _decode(clip, "-vf", ",".join([*vf, "format=rgb24"]), "-f", "rawvideo")
        w, h = (854, 480) if vf else (720, 480)
        return np.stack(
            [fit_cover(f, W, H) for f in np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)]
        )

    made["anamorphic"] = (clip, cover("scale=854:480", "setsar=1"), cover())
    return made["anamorphic"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
def test_an_anamorphic_clip_is_covered_as_it_is_shown(
    engine: str, tmp_path: Path, made: dict[Any, Any]
) -> None:
    """A clip with non-square pixels (720x480 at SAR 32:27: a 16:9 picture) is shown
    16:9 by players. Both engines covered the frame with its stored 3:2 size instead:
    the picture squeezed sideways and cropped top and bottom."""
    clip, shown, squeezed = _anamorphic(made)  # (both engines' cases read it)
    video = probe(clip).video
    assert video is not None and abs(video.sar - 32 / 27) < 1e-9
    scene = SceneInput("s", "", 1.5, clip, sha256_file(clip), clip_matrix="bt709")
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), SPEC)
    rep = renderer(engine)(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=2)
    item = tl.items[1]
    local = tl.transition_frames[0] + 2  # past its crossfade in
    frame = _frames(rep.out)[item.start + local][: H // 2]  # above the text band
    right, wrong = psnr(frame, shown[local][: H // 2]), psnr(frame, squeezed[local][: H // 2])
    assert right > wrong + 3, (right, wrong)


def _retimed(clip: Path, pts: str, name: str) -> Path:
    """`clip` with its frames at the times `pts` gives (a variable rate), kept as is."""
    out = clip.with_name(name)
    run_ffmpeg(["-i", str(clip), "-vf", f"setpts='{pts}'", "-fps_mode", "passthrough",
                *_TAG709[2:], "-c:v", "libx264", "-preset", "ultrafast", str(out)])  # fmt: skip
    return out


def _clip30(made: dict[Any, Any]) -> Path:
    """A 2 s 400x300 clip at 30 fps (testsrc2), made once for the module: the tests
    below that play it (or a retimed copy of it, written beside it) only read it."""
    if "clip30" not in made:
        made["clip30"] = _clip(made["dir"] / "clip30.mp4", "testsrc2=s=400x300:r=30", 2.0)
    return made["clip30"]  # type: ignore[no-any-return]


def _both_engines(tl: Timeline, tmp_path: Path) -> tuple[Any, Any]:
    """The timeline's frames from the ffmpeg engine and from the moviepy reference."""
    fast, ref = (
        _frames(renderer(engine)(tl, tmp_path / engine, tmp_path / f"{engine}.mp4").out)
        for engine in ("ffmpeg", "moviepy")
    )
    return fast, ref


def test_the_reference_shows_a_variable_rate_clip_by_time(
    tmp_path: Path, made: dict[Any, Any]
) -> None:
    """A variable-rate clip (frames 1/30 s apart +- 0.01 s, and two pauses: 60 frames
    over 2.47 s, ffmpeg's 'tbr' 30 fps, average less). moviepy numbered the frames of its
    constant-rate pipe (made at the tbr) with the average rate: the wrong frames, down
    to 14 dB against the ffmpeg engine. (That pipe can still lag one frame after a pause,
    within ffmpeg's constant-rate tolerance: ~30 dB on one frame here, hence the lower bar.)"""
    clip = _clip30(made)
    vfr = _retimed(clip, "(N/30+0.01*mod(N,2)+0.3*gte(N,20)+0.2*gte(N,40))/TB", "vfr2.mp4")
    scene = SceneInput("v", "", 2.2, vfr, sha256_file(vfr), clip_matrix="bt709")
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), SPEC)
    fast, ref = _both_engines(tl, tmp_path)
    item = tl.items[1]
    scores = [psnr(fast[k], ref[k]) for k in range(item.start, item.end)]
    assert min(scores) >= 25, (int(np.argmin(scores)), min(scores))


@pytest.mark.parametrize(
    "timescale", [1000, 1_000_000_000, 16000], ids=["ms", "ns", "ms-remuxed-to-16k"]
)
def test_a_clip_whose_time_base_rounds_its_frames_plays_every_frame_once(
    tmp_path: Path, timescale: int
) -> None:
    """WebM, MKV and some MP4s store times in whole milliseconds: a 30 fps clip's frame 2
    is at 67 ms, a third of a millisecond after 2/30 s. Taken to the letter, a 30 fps
    movie showed frame 1 twice, then frame 3 (frame 2 was 'not yet on screen' at its own
    time): every third frame repeated and the next one skipped, a steady judder. So did
    nanoseconds (rounded up by a third of one); a time base 1000 times finer than those
    does not fit ffmpeg's rational, and the slack must still be counted. An MKV remuxed
    into an MP4 keeps its millisecond times in a finer base (1/16000): it juddered too."""
    clip = tmp_path / "clip.mp4"
    # frame n's luma is 16 + 6n: its number can be read back from the movie
    made = tmp_path / "made.mkv" if timescale == 16000 else clip
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=black:s=64x36:r=30:d=1,geq=lum=16+6*N:cb=128:cr=128",
                "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
                *(["-video_track_timescale", str(timescale)] if made == clip else []),
                str(made)])  # fmt: skip
    if made != clip:  # the MKV's packets as they are, in an MP4 of 1/16000
        run_ffmpeg(["-i", str(made), "-c", "copy", "-video_track_timescale", "16000", str(clip)])
    spec = OutputSpec(W, H, fps=30, crossfade=0.0, title_seconds=0.1, closing_seconds=0.1)
    scene = SceneInput("ms", "", 1.0, clip, sha256_file(clip), clip_matrix="bt709")
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), spec)
    rep = render_ffmpeg(tl, tmp_path / "work", tmp_path / "movie.mp4", workers=2)
    item = tl.items[1]
    grey = np.frombuffer(_decode(rep.out, "-f", "rawvideo", "-pix_fmt", "gray"), np.uint8)
    grey = grey.reshape(-1, H, W)[item.start : item.end].reshape(item.frames, -1)
    shown = [round(float(np.median(f)) * 219 / 255 / 6) for f in grey]  # full-range grey
    assert shown == list(range(30)), shown


@pytest.mark.parametrize("pauses", [False, True], ids=["constant", "variable"])
def test_a_clip_shorter_than_its_scene_holds_its_last_frame(
    tmp_path: Path, pauses: bool, made: dict[Any, Any]
) -> None:
    """Past a clip's end its last frame is held. The ffmpeg engine's `fps` ended at the
    clip's end and dropped the frames that round up to it or later (a 30 fps clip of
    60 frames in a 12 fps movie held frame 57); the reference held the frame at
    (frames - 1) / rate, which is not the last one in time when the rate varies."""
    clip = _clip30(made)
    if pauses:  # 60 frames over 2.47 s
        clip = _retimed(clip, "(N/30+0.3*gte(N,20)+0.2*gte(N,40))/TB", "vfr.mp4")
    scene = SceneInput("s", "", 4.0, clip, sha256_file(clip), clip_matrix="bt709")
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), SPEC)
    fast, ref = _both_engines(tl, tmp_path)
    item = tl.items[1]
    held = range(item.start + 31, item.end - tl.transition_frames[1])  # past the clip, no fade
    assert len(held) >= 2
    scores = [psnr(fast[k], ref[k]) for k in held]
    assert min(scores) >= MIN_PSNR, scores


@pytest.mark.parametrize("fmt", ["h264", "matroska"], ids=["raw-h264", "streamed-mkv"])
def test_a_clip_that_does_not_say_its_length_is_drawn_like_ffmpeg_draws_it(
    tmp_path: Path, fmt: str
) -> None:
    """A raw .h264 stream and a Matroska written to a pipe have no length in their
    header ("Duration: N/A"). The ffmpeg engine played them; moviepy's reader refused
    them, so the reference could not draw such a scene at all. Both engines now show
    every frame once, in order (frame n's grey is 16 + 4n; B-frames, so a copy of the
    raw stream's packets would show each one a frame early)."""
    src = "color=c=black:s=64x36:r=24:d=2,geq=lum=16+4*N:cb=128:cr=128"
    cmd = [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", src, "-c:v", "libx264",
           "-preset", "medium", "-crf", "1", "-pix_fmt", "yuv420p", "-f", fmt, "-"]  # fmt: skip
    clip = tmp_path / ("clip.h264" if fmt == "h264" else "clip.mkv")
    clip.write_bytes(subprocess.run(cmd, capture_output=True, check=True).stdout)
    assert probe(clip).duration == 0.0  # "Duration: N/A"
    spec = OutputSpec(W, H, fps=24, crossfade=0.0, title_seconds=0.1, closing_seconds=0.1)
    scene = SceneInput("s", "", 1.5, clip, sha256_file(clip), clip_matrix="bt709")
    tl = build_timeline(MovieInput("T", "Thanks", (scene,), None, None), spec)
    item = tl.items[1]
    for engine in ("ffmpeg", "moviepy"):
        rep = renderer(engine)(tl, tmp_path / engine, tmp_path / f"{engine}.mp4")
        raw = _decode(rep.out, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray")
        grey = np.frombuffer(raw, np.uint8).reshape(-1, H, W)[item.start : item.end]
        shown = [round(float(np.median(f)) * 219 / 255 / 4) for f in grey]
        assert shown == list(range(item.frames)), (engine, shown)
