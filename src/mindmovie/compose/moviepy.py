"""The reference renderer: every output frame computed from `Timeline.on_screen` in numpy.

This is the oracle the fast ffmpeg renderer is tested against, not the default: it is
slow (Python per frame) but has no filter graph to get wrong. For each output frame f
it asks the timeline which items are visible with what weight, draws each item's
picture (clip frame shown at the item-local time, scaled to cover the frame and
centre-cropped; or the card), applies the item's fade-from/to-black factor and the
affirmation overlay at its fade-in alpha, and sums the weighted pictures.

Choices, so both renderers mean the same thing:

* clip frames are read with moviepy's `VideoFileClip`: the frame shown at clip time t
  is the one *on screen* at t (the last frame starting at or before t), and a clip
  shorter than its scene holds its last frame;
* cards and overlays are the same Pillow images `cards.py` draws for the ffmpeg
  renderer (text layout is not what this oracle checks);
* audio is the shared one-pass track from `audio.render_audio`: the audio bed is one
  definition, so both renderers mux the very same AAC stream;
* frames are piped as RGB to the imageio ffmpeg and encoded with the same x264
  preset/CRF/profile/GOP and BT.709 tags (moviepy's own writer forces `yuva420p` for
  libx264 and converts with the BT.601 matrix, so it is not used).
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from moviepy import VideoFileClip
from PIL import Image

from mindmovie.compose import cards
from mindmovie.compose.audio import render_audio
from mindmovie.compose.ffmpeg import RenderReport, SegmentResult
from mindmovie.compose.timeline import Item, Timeline
from mindmovie.fsutil import commit_file, tmp_path_for
from mindmovie.media import FFmpegError, ffmpeg_exe, probe

ENGINE_VERSION = "compose-moviepy-1"

Frame = np.ndarray[Any, np.dtype[np.float32]]


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
    x, y = (sw - width) // 2, (sh - height) // 2
    return np.asarray(pic.crop((x, y, x + width, y + height)))


class _Pictures:
    """Each item's picture at an item-local frame; clip readers opened lazily, closed early."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.size = (tl.spec.width, tl.spec.height)
        self._clips: dict[str, Any] = {}
        self._cards: dict[str, Frame] = {}
        self._overlays: dict[str, tuple[Frame, Frame]] = {}

    def _card(self, item: Item) -> Frame:
        if item.id not in self._cards:
            kind: cards.CardKind = "title" if item.kind == "title" else "closing"
            img = cards.card_image(item.text, self.size, kind)
            self._cards[item.id] = np.asarray(img.convert("RGB"), dtype=np.float32)
        return self._cards[item.id]

    def _overlay(self, item: Item) -> tuple[Frame, Frame]:
        """(premultiplied RGB, alpha) of the affirmation overlay."""
        if item.id not in self._overlays:
            rgba = np.asarray(cards.overlay_image(item.text, self.size), dtype=np.float32)
            alpha = rgba[:, :, 3:4] / 255.0
            self._overlays[item.id] = (rgba[:, :, :3] * alpha, alpha)
        return self._overlays[item.id]

    def _clip_frame(self, item: Item, local: int) -> Frame:
        clip = self._clips.get(item.id)
        if clip is None:
            clip = VideoFileClip(str(item.clip), audio=False)
            self._clips[item.id] = clip
        t = local / self.tl.fps
        # hold the last frame past the clip's end (like ffmpeg's tpad=clone)
        last = max(0, int(clip.reader.n_frames) - 1) / float(clip.fps)
        raw = clip.get_frame(min(t, last))
        w, h = self.size
        return np.asarray(fit_cover(raw, w, h), dtype=np.float32)

    def picture(self, item: Item, local: int) -> Frame:
        """The item's full picture: clip or card, overlay at its alpha, fade factor."""
        if item.kind == "scene":
            pic = self._clip_frame(item, local)
            a = item.text_alpha(local)
            if a > 0:
                ov, alpha = self._overlay(item)
                pic = pic * (1.0 - a * alpha) + a * ov
        else:
            pic = self._card(item)
        b = item.brightness(local)
        return pic if b >= 1.0 else pic * np.float32(b)

    def release_before(self, frame: int) -> None:
        """Close the readers of items that ended before `frame` (file descriptors)."""
        for it in self.tl.items:
            if it.end <= frame and it.id in self._clips:
                self._clips.pop(it.id).close()

    def close(self) -> None:
        for clip in self._clips.values():
            clip.close()
        self._clips.clear()


def movie_frame(tl: Timeline, pictures: _Pictures, frame: int) -> np.ndarray[Any, Any]:
    """Output frame `frame` as uint8 RGB: the weighted sum of what is on screen."""
    acc: Frame | None = None
    for item, local, weight in tl.on_screen(frame):
        if weight <= 0:
            continue
        pic = pictures.picture(item, local) * np.float32(weight)
        acc = pic if acc is None else acc + pic
    assert acc is not None
    return np.clip(np.rint(acc), 0, 255).astype(np.uint8)


def encode_args(tl: Timeline, audio: Path, out: Path, threads: int) -> list[str]:
    """ffmpeg arguments: raw RGB frames on stdin + the audio track -> H.264/AAC mp4."""
    spec = tl.spec
    preset, crf = spec.encoder
    return [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{spec.width}x{spec.height}", "-framerate", str(spec.fps), "-i", "-",
        "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0",
        "-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p",
        "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high",
        "-pix_fmt", "yuv420p", "-g", str(spec.fps * 4), "-threads", str(threads),
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
        "-color_range", "tv",
        "-frames:v", str(tl.total_frames),
        "-c:a", "copy",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]  # fmt: skip


def render(
    timeline: Timeline,
    work_dir: Path,
    out: Path,
    *,
    workers: int | None = None,
    on_segment: Callable[[SegmentResult], None] | None = None,
) -> RenderReport:
    """Render `timeline` to `out` (atomically) frame by frame; no caching of pieces.

    `workers` sets x264's threads (the frame loop itself is one Python thread).
    `on_segment` is called once, for the whole movie as a single "segment", after
    `out` is written.
    """
    tl = timeline
    for it in tl.items:
        if it.kind == "scene" and (it.clip is None or not it.clip.exists()):
            raise FileNotFoundError(f"{it.id}: clip not found: {it.clip}")
    t0 = time.monotonic()
    work_dir.mkdir(parents=True, exist_ok=True)
    audio = render_audio(tl.audio, work_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(out)
    pictures = _Pictures(tl)
    proc = subprocess.Popen(
        encode_args(tl, audio, tmp, workers or 0),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stderr is not None
    try:
        try:
            for f in range(tl.total_frames):
                pictures.release_before(f)
                proc.stdin.write(movie_frame(tl, pictures, f).tobytes())
        except BrokenPipeError:
            pass  # ffmpeg quit early: its exit code and log below say why
        finally:
            pictures.close()
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
            err = proc.stderr.read().decode("utf-8", "replace")
            proc.stderr.close()
            code = proc.wait()
        if code != 0:
            raise FFmpegError(f"ffmpeg failed ({code}): {err.strip()[-2000:]}")
        commit_file(tmp, out)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        tmp.unlink(missing_ok=True)
    key = hashlib.sha256(
        repr((ENGINE_VERSION, [s.key for s in tl.segments], tl.audio.key)).encode()
    ).hexdigest()
    result = SegmentResult("movie", key, out, False, time.monotonic() - t0)
    if on_segment:
        on_segment(result)
    return RenderReport(out=out, segments=[result], duration=probe(out).duration)
