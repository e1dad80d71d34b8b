"""The reference renderer: the timeline drawn with moviepy in the plainest way.

This is the oracle the fast ffmpeg renderer is tested against, not the default: it is
slow (moviepy composites every frame in Python) but has no filter graph to get wrong.
It is written the way a moviepy user would write a mind movie: one `CompositeVideoClip`
of all items, each placed with `with_start`; a scene is its `VideoFileClip` scaled to
cover the frame with the affirmation `ImageClip` on top (`CrossFadeIn` for the text);
cards are `ImageClip`s with `FadeIn`/`FadeOut` from and to black; every item after
the first comes in with `CrossFadeIn` over the previous one; `write_videofile` encodes.

Choices, so both renderers mean the same thing (`Timeline.on_screen` is the contract):

* the frame of a clip shown at clip time t is the one *on screen* at t (what
  `VideoFileClip.get_frame` returns); a clip shorter than its scene holds its last
  frame; scaling to cover is bicubic, like the ffmpeg renderer's `scale`;
* a clip whose file does not say its length (a raw .h264, a streamed MKV), which
  moviepy cannot open, is read from a lossless copy of it as ffmpeg decodes it;
* cards and overlays are the same Pillow images `cards.py` draws for the ffmpeg
  renderer (text layout is not what this oracle checks);
* audio is the shared one-pass track from `audio.render_audio`, handed to
  `write_videofile` as its audio file and copied: one definition of the sound;
* `write_videofile` gets the same x264 preset/CRF/profile/GOP, and the RGB->YUV
  conversion with the BT.709 matrix (moviepy's default leaves ffmpeg's BT.601).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from moviepy import CompositeVideoClip, ImageClip, VideoClip, VideoFileClip, vfx
from PIL import Image

from mindmovie.compose import cards
from mindmovie.compose.audio import render_audio
from mindmovie.compose.ffmpeg import (
    ComposeStopped,
    RenderReport,
    SegmentResult,
    h264_level,
    hdr_to_sdr,
)
from mindmovie.compose.timeline import Item, Timeline
from mindmovie.cpus import usable_cpu_count
from mindmovie.fsutil import commit_file, make_dirs, tmp_path_for
from mindmovie.media import FFmpegError, ffmpeg_exe, ffmpeg_path, probe, run_ffmpeg

ENGINE_VERSION = "compose-moviepy-5"


def fit_cover(img: np.ndarray[Any, Any], width: int, height: int) -> np.ndarray[Any, Any]:
    """Scale an RGB frame to cover width x height (aspect kept, bicubic), crop the centre.

    Sizes are rounded like ffmpeg's `force_original_aspect_ratio=increase`.
    """
    ih, iw = img.shape[:2]
    if (iw, ih) == (width, height):
        return img
    sw = max(width, round(height * iw / ih))
    sh = max(height, round(width * ih / iw))
    pic = Image.fromarray(np.ascontiguousarray(img[:, :, :3]))
    if (sw, sh) != (iw, ih):
        pic = pic.resize((sw, sh), Image.Resampling.BICUBIC)
    # ffmpeg's crop centres, rounds the offset to the nearest integer (lrint: a half to
    # even, so 123.5 is 124), then down to the chroma grid (even on yuv420p, what the
    # clips are cropped in): an odd offset is one pixel left/up there
    x, y = round((sw - width) / 2) & ~1, round((sh - height) / 2) & ~1
    return np.asarray(pic.crop((x, y, x + width, y + height)))


def _ycbcr(kr: float, kb: float) -> np.ndarray[Any, Any]:
    """R'G'B' -> Y'CbCr (unscaled) for a matrix with these luma weights."""
    kg = 1 - kr - kb
    return np.array(
        [
            [kr, kg, kb],
            [-kr / (2 - 2 * kb), -kg / (2 - 2 * kb), 0.5],
            [0.5, -kg / (2 - 2 * kr), -kb / (2 - 2 * kr)],
        ]
    )


#: RGB as decoded with BT.601 -> RGB as decoded with BT.709, from the same YUV (the
#: limited-range offsets and scales are the same for both and cancel)
_BT601_TO_BT709 = np.linalg.inv(_ycbcr(0.2126, 0.0722)) @ _ycbcr(0.299, 0.114)


def _last_frame_time(path: Path) -> float | None:
    """When a clip's last frame goes on screen (seconds from the file's start, as
    ffmpeg decodes it), from its packets' timestamps (no decoding); None if unknown."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", ffmpeg_path(path), "-map", "0:v:0",
         "-c", "copy", "-f", "framecrc", "-"],
        capture_output=True, text=True,
    )  # fmt: skip
    tb = re.search(r"^#tb 0: (\d+)/(\d+)", proc.stdout, re.M)
    # packet lines: stream, dts, pts, duration, size, crc
    pts = [int(m[1]) for m in re.finditer(r"^0,\s*-?\d+,\s*(-?\d+),", proc.stdout, re.M)]
    if proc.returncode != 0 or tb is None or not pts:
        return None
    return max(0, max(pts)) * int(tb[1]) / int(tb[2])


def _with_length(path: Path, hdr: str = "", matrix: str = "") -> Path:
    """A copy of a clip that does not say its length ("Duration: N/A": a raw .h264
    stream, a Matroska or WebM written as a stream) in an MP4 that does, for moviepy.

    moviepy's reader refuses such a clip ("Error passing `ffmpeg -i` command output")
    where ffmpeg plays it; its option to decode the whole file for the length instead
    reads a raw stream at ffmpeg's "tbr" (48 for a 24 fps H.264: every other frame
    skipped). Copying the packets does not do either: a raw stream's have no
    timestamps, and with B-frames the copy showed each frame one frame early. So the
    copy is the clip as ffmpeg decodes it (the frames and times the ffmpeg engine's
    graph gets), encoded losslessly. The caller deletes it.

    `hdr` (`Item.clip_hdr`): the copy is also tone mapped to BT.709 SDR by the ffmpeg
    engine's own filters (`ffmpeg.hdr_to_sdr`) and tagged so; moviepy's reader read an
    HDR clip as BT.709, washed out.
    """
    tone = ["-vf", hdr_to_sdr(hdr, matrix), "-colorspace", "bt709", "-color_primaries",
            "bt709", "-color_trc", "bt709", "-color_range", "tv"] if hdr else []  # fmt: skip
    fd, name = tempfile.mkstemp(prefix="mindmovie-clip-", suffix=".mp4")
    os.close(fd)
    out = Path(name)
    try:
        run_ffmpeg(["-i", str(path), "-map", "0:v:0", "-fps_mode", "passthrough",
                    "-enc_time_base", "demux", *tone, "-c:v", "libx264", "-preset", "ultrafast",
                    "-qp", "0", "-f", "mp4", str(out)])  # fmt: skip
    except FFmpegError as err:
        out.unlink(missing_ok=True)
        why = "is HDR" if hdr else "does not say its length"
        raise FFmpegError(f"{path}: {why}, and copying it failed: {err}") from err
    return out


class _Reader:
    """A scene's `VideoFileClip`, opened on its first frame and closed once it is over.

    Opening every clip up front (what `VideoFileClip` in a list does) keeps one ffmpeg
    reader and its buffers per scene alive for the whole render: ~80 MB each at 720p,
    and a file descriptor each (the lessons' "memory growing per clip"). This way at
    most the two clips of a crossfade are open at once.
    """

    def __init__(self, path: Path, end: float, matrix: str = "", hdr: str = "") -> None:
        self.path = path
        self.end = end  # movie time (s) after which the clip is not shown again
        self.matrix = matrix  # Item.clip_matrix: what the clip's YUV is to be read as
        self.hdr = hdr  # Item.clip_hdr: read from a copy tone mapped to SDR
        self.clip: Any = None
        self.last = 0.0
        self.fix: np.ndarray[Any, Any] | None = None
        self.copy: Path | None = None  # `_with_length`'s copy of the clip, if it needed one

    def frame(self, t: float) -> np.ndarray[Any, Any]:
        if self.clip is None:
            info = probe(self.path, count_frames=True)
            source = self.path
            if not info.duration or self.hdr:
                self.copy = source = _with_length(self.path, self.hdr, self.matrix)
                info = probe(source, count_frames=True)  # the copy is what moviepy reads
            video = info.video
            size = None
            if video is not None and video.width and video.height:
                # moviepy scales every frame to the stored pixel size: an anamorphic
                # clip (non-square pixels) is read at its shown, square-pixel size
                shown = (max(2, round(video.width * video.sar)), video.height)
                if round(video.rotation) % 180 == 90:
                    # ffmpeg turns a rotated clip on decode, but moviepy (2.1) misses
                    # ffmpeg 7+'s "Display Matrix" line and scaled the turned frames
                    # back to the stored size (a portrait clip squashed into landscape)
                    shown = (shown[1], shown[0])
                if shown != (video.width, video.height):
                    size = shown
            # "tbr": the rate ffmpeg's decode to moviepy's pipe runs at (it makes a
            # variable-rate clip constant at that rate); moviepy's default, the average
            # rate, picked the wrong frames of a variable-rate clip by their number
            self.clip = VideoFileClip(
                ffmpeg_path(source), audio=False, target_resolution=size, fps_source="tbr"
            )
            # the last frame's time: moviepy's n_frames is int(duration x fps), one
            # short for a 24000/1001 clip of 1.5 s (35 of 36), which held the
            # last-but-one frame; a count of frames is wrong for a variable rate
            last = _last_frame_time(source)
            if last is None:
                frames = info.video_frames or int(self.clip.reader.n_frames)
                last = max(0, frames - 1) / float(self.clip.fps)
            self.last = last
            if self.matrix == "bt709" and video is not None and not video.color_matrix:
                # moviepy's reader decodes an untagged clip with ffmpeg's BT.601 default
                self.fix = _BT601_TO_BT709.T.astype(np.float32)
        # hold the last frame past the clip's end (like ffmpeg's tpad=clone)
        rgb = np.asarray(self.clip.get_frame(min(t, self.last)))
        if self.fix is not None:
            mixed = rgb[:, :, :3].astype(np.float32) @ self.fix
            mixed += 0.5
            rgb = np.clip(mixed, 0, 255, out=mixed).astype(np.uint8)
        return rgb

    def close(self) -> None:
        if self.clip is not None:
            self.clip.close()
            self.clip = None
        if self.copy is not None:
            self.copy.unlink(missing_ok=True)
            self.copy = None


class _LazyScene:
    """A scene's composite (clip + text), built on its first frame and dropped once the
    movie is past it: moviepy's composites and masks hold several full-frame arrays each
    (~70 MB per scene at 720p), which would otherwise all live for the whole render."""

    def __init__(self, build: Callable[[], VideoClip], reader: _Reader) -> None:
        self.build = build
        self.reader = reader
        self.clip: VideoClip | None = None

    @property
    def end(self) -> float:
        return self.reader.end

    def frame(self, t: float) -> Any:
        if self.clip is None:
            self.clip = self.build()
        return self.clip.get_frame(t)

    def close(self) -> None:
        self.clip = None
        self.reader.close()


def _scene(
    item: Item, fps: int, size: tuple[int, int], readers: list[_Reader], lazies: list[_LazyScene]
) -> VideoClip:
    """A scene: its clip covering the frame, last frame held, the affirmation on top."""
    w, h = size
    seconds = item.frames / fps
    assert item.clip is not None
    reader = _Reader(item.clip, item.end / fps, item.clip_matrix, item.clip_hdr)
    readers.append(reader)

    def build() -> VideoClip:
        # no frame_function in the constructor: moviepy would read frame 0 there to
        # learn the size, opening the reader before the scene is on screen
        video = VideoClip(duration=seconds)
        video.frame_function = lambda t: fit_cover(reader.frame(t), w, h)
        video.size = (w, h)
        layers: list[VideoClip] = [video]
        if item.text.strip():
            text = ImageClip(np.asarray(cards.overlay_image(item.text, size)))
            text = text.with_start(item.text_in / fps).with_duration(
                (item.frames - item.text_in) / fps
            )
            if item.text_fade > 0:
                text = text.with_effects([vfx.CrossFadeIn(item.text_fade / fps)])
            layers.append(text)
        return CompositeVideoClip(layers, size=size).with_duration(seconds)

    lazy = _LazyScene(build, reader)
    lazies.append(lazy)
    scene = VideoClip(duration=seconds)
    scene.frame_function = lazy.frame
    scene.size = (w, h)
    return scene


def _card(item: Item, fps: int, size: tuple[int, int]) -> VideoClip:
    """A title or closing card, faded from / to black."""
    kind: cards.CardKind = "title" if item.kind == "title" else "closing"
    card = ImageClip(np.asarray(cards.card_image(item.text, size, kind))).with_duration(
        item.frames / fps
    )
    fades: list[Any] = []
    if item.fade_in_frames:
        fades.append(vfx.FadeIn(item.fade_in_frames / fps))
    if item.fade_out_frames:
        fades.append(vfx.FadeOut(item.fade_out_frames / fps))
    return card.with_effects(fades) if fades else card


def movie_clip(
    tl: Timeline, readers: list[_Reader], lazies: list[_LazyScene] | None = None
) -> VideoClip:
    """The whole movie as one moviepy clip (its scenes' readers are appended to `readers`;
    each scene's reader and composite are let go as soon as the movie is past it)."""
    fps, size = tl.spec.fps, (tl.spec.width, tl.spec.height)
    layers: list[VideoClip] = []
    lazies = [] if lazies is None else lazies
    prev_end = 0
    for item in tl.items:
        clip = (
            _scene(item, fps, size, readers, lazies)
            if item.kind == "scene"
            else _card(item, fps, size)
        )
        overlap = prev_end - item.start
        if layers and overlap > 0:
            clip = clip.with_effects([vfx.CrossFadeIn(overlap / fps)])
        layers.append(clip.with_start(item.start / fps))
        prev_end = item.end
    duration = tl.total_frames / fps
    while int(duration * fps) < tl.total_frames:  # moviepy writes int(duration * fps)
        duration = math.nextafter(duration, math.inf)
    movie = CompositeVideoClip(layers, size=size, bg_color=(0, 0, 0)).with_duration(duration)

    def release_then(get_frame: Callable[[float], Any], t: float) -> Any:
        for lazy in lazies:
            if lazy.end <= t:
                lazy.close()
        return get_frame(t)

    return movie.transform(release_then)


def write_params(tl: Timeline) -> list[str]:
    """Extra ffmpeg output options for `write_videofile`: the shared x264 settings."""
    spec = tl.spec
    _, crf = spec.encoder
    return [
        "-crf", str(crf), "-profile:v", "high", "-g", str(spec.fps * 4),
        "-level:v", h264_level(spec.width, spec.height, spec.fps),
        # the frames carry the tags: ffmpeg (7+) lets the filtered frames' colour
        # properties override -color_primaries/-color_trc, which left them "unknown"
        # `setsar=1`: moviepy pipes raw frames, which have no pixel aspect, and x264 then
        # wrote none (players guess square); the ffmpeg engine's movie says 1:1
        "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,setsar=1,"
        "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
        "-color_range", "tv",
        # no `-frames:v`: moviepy sends exactly the timeline's frames (`movie_clip`), and
        # the cap ended the mux with the picture, which dropped the copied audio's last
        # AAC frame (up to 21 ms; the ffmpeg engine's mux keeps the track's exact end)
        "-movflags", "+faststart", "-f", "mp4",
    ]  # fmt: skip


def render(
    timeline: Timeline,
    work_dir: Path,
    out: Path,
    *,
    workers: int | None = None,
    on_segment: Callable[[SegmentResult], None] | None = None,
    stopped: Callable[[], bool] | None = None,
) -> RenderReport:
    """Render `timeline` to `out` (atomically) with moviepy; no caching of pieces.

    `workers` sets x264's threads (moviepy's frame loop itself is one Python thread), at
    most 2x the usable CPUs, as the ffmpeg engine caps its encoders: `workers: 100000`
    gave x264 its maximum of 128 threads on 2 CPUs, a compose 10x slower (51 s, not 5 s).
    `on_segment` is called once, for the whole movie as a single "segment", after
    `out` is written. `stopped` is asked before each frame: once it says so the compose
    ends with `ComposeStopped` (a stop signal sent to the render alone, which waited for
    the whole movie to be written before it ended).
    """
    tl = timeline
    for it in tl.items:
        if it.kind == "scene" and (it.clip is None or not it.clip.exists()):
            raise FileNotFoundError(f"{it.id}: clip not found: {it.clip}")
    t0 = time.monotonic()
    make_dirs(work_dir)

    def audio_stopped() -> None:
        if stopped is not None and stopped():
            raise ComposeStopped

    notes: list[str] = []
    audio = render_audio(tl.audio, work_dir, check=audio_stopped, warn=notes.append)
    make_dirs(out.parent)
    tmp = tmp_path_for(out)
    readers: list[_Reader] = []
    try:
        movie = movie_clip(tl, readers)
        if stopped is not None:
            frame_of = movie.get_frame

            def get_frame(t: float) -> Any:
                if stopped():
                    raise ComposeStopped
                return frame_of(t)

            movie.get_frame = get_frame  # what write_videofile asks each frame of
        movie.write_videofile(
            ffmpeg_path(tmp),
            fps=tl.spec.fps,
            codec="libx264",
            preset=tl.spec.encoder[0],
            audio=ffmpeg_path(audio),
            audio_codec="copy",
            threads=min(workers, 2 * usable_cpu_count()) if workers else 0,
            ffmpeg_params=write_params(tl),
            logger=None,
        )
        commit_file(tmp, out)
    finally:
        for reader in readers:
            reader.close()
        tmp.unlink(missing_ok=True)
    key = hashlib.sha256(
        repr((ENGINE_VERSION, [s.key for s in tl.segments], tl.audio.key)).encode()
    ).hexdigest()
    result = SegmentResult("movie", key, out, False, time.monotonic() - t0)
    if on_segment:
        on_segment(result)
    return RenderReport(out=out, segments=[result], duration=probe(out).duration, notes=notes)
