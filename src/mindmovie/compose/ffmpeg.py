"""The ffmpeg renderer: encode the timeline's segments in parallel, join them by copy.

Why segments: one ffmpeg process per body/transition keeps memory flat in the number of
scenes, uses every core (N single-threaded x264 encoders beat one N-threaded one), and
makes recomposing after an edit cheap: segments are cached under their content key, so
only the segments whose pixels changed are encoded again. Every segment uses identical
encoder settings (size, rate, time base, pix_fmt, profile, x264 options) and starts on
an IDR frame, which is what makes joining them with the concat demuxer and `-c copy`
valid. Audio is rendered in one pass over the whole movie (no seams) and muxed last.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from mindmovie.compose import cards
from mindmovie.compose.audio import render_audio
from mindmovie.compose.timeline import RENDERER_VERSION, Item, Segment, Timeline
from mindmovie.fsutil import commit_file, tmp_path_for
from mindmovie.media import probe, run_ffmpeg

_COLOR = "colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
_TO709 = "out_color_matrix=bt709:out_range=tv"


@dataclass
class SegmentResult:
    id: str
    key: str
    path: Path
    reused: bool
    seconds: float  # encode wall time; 0 when reused


@dataclass
class RenderReport:
    out: Path
    segments: list[SegmentResult]
    duration: float


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr((RENDERER_VERSION, *parts)).encode()).hexdigest()[:32]


def encoder_args(tl: Timeline, threads: int) -> list[str]:
    """x264 settings shared by every segment: any difference would break concat-copy.

    `threads` only changes how x264 schedules work, not the stream headers (SPS/PPS are
    identical for any thread count), so it is free to vary between runs.
    """
    spec = tl.spec
    preset, crf = spec.encoder
    return [
        "-c:v", "libx264",
        "-preset", preset,
        "-crf", str(crf),
        "-profile:v", "high",
        "-pix_fmt", "yuv420p",
        "-g", str(spec.fps * 4),
        "-threads", str(threads),
        "-color_primaries", "bt709",
        "-color_trc", "bt709",
        "-colorspace", "bt709",
        "-color_range", "tv",
        "-r", str(spec.fps),
        "-video_track_timescale", str(spec.fps * 1000),
        "-an", "-sn", "-dn",
        "-f", "mp4",
    ]  # fmt: skip


class _Assets:
    """Card and overlay PNGs for this frame size, cached in work_dir by content."""

    def __init__(self, tl: Timeline, work_dir: Path, decode_threads: int = 0) -> None:
        self.size = (tl.spec.width, tl.spec.height)
        self.dir = work_dir
        #: clip decoder threads (0 = ffmpeg's auto); 1 when the pool already fills every
        #: core: measured ~5% less CPU than frame-threaded decoding under contention
        self.decode_threads = decode_threads
        self._guard = threading.Lock()
        self._locks: dict[Path, threading.Lock] = {}

    def _lock(self, path: Path) -> threading.Lock:
        # two segments (e.g. a scene's body and its transition) may need the same PNG
        with self._guard:
            return self._locks.setdefault(path, threading.Lock())

    def card(self, item: Item) -> Path:
        assert item.kind in ("title", "closing")
        kind: cards.CardKind = "title" if item.kind == "title" else "closing"
        path = self.dir / "cards" / f"{_digest(kind, item.text, self.size)}.png"
        with self._lock(path):
            return cards.render_card(path, item.text, self.size, kind)

    def overlay(self, item: Item) -> tuple[Path, int, int] | None:
        """The affirmation overlay cropped to its text (and where it goes).

        Blending only the text's box instead of a full-frame transparent PNG saves a
        full-frame alpha blend on every frame of every scene. Offsets and sizes are even
        so the 4:2:0 chroma lines up exactly as it would for the full-size overlay.
        """
        if not item.text.strip():
            return None
        path = self.dir / "overlays" / f"{_digest(item.text, self.size)}.png"
        crop = path.with_name(path.stem + ".box.png")
        with self._lock(path):
            full = cards.render_overlay(path, item.text, self.size)
            from PIL import Image

            with Image.open(full) as im:
                box = im.getchannel("A").getbbox()
                if box is None:
                    return None
                x0, y0 = box[0] - box[0] % 2, box[1] - box[1] % 2
                x1 = min(im.width, box[2] + box[2] % 2)
                y1 = min(im.height, box[3] + box[3] % 2)
                if not crop.exists():
                    tmp = crop.with_name(f".{crop.name}.{os.getpid()}.tmp.png")
                    im.crop((x0, y0, x1, y1)).save(tmp)
                    os.replace(tmp, crop)
            return crop, x0, y0


def _source(
    tl: Timeline,
    idx: int,
    first: int,
    last: int,
    label: str,
    assets: _Assets,
    inputs: list[list[str]],
) -> list[str]:
    """Filter chains that turn item `idx`'s local frames [first, last) into [label].

    Item-local frame k has pts k (time base 1/fps) until the final reset, so the overlay's
    text fade and the card fades land on the same frames whichever segment draws them.
    """
    item = tl.items[idx]
    fps, w, h = tl.spec.fps, tl.spec.width, tl.spec.height
    a, b = first, last
    chains: list[str] = []
    if item.kind == "scene":
        if item.clip is None:
            raise ValueError(f"{item.id}: scene without a clip")
        ci = len(inputs)
        inputs.append(["-threads", str(assets.decode_threads), "-i", str(item.clip)])
        # retime, pad a short clip with its last frame, cut, then scale only kept frames.
        # `round=up` shows the clip frame on screen at local time k/fps (the default,
        # nearest, showed frames up to half an output frame early; see the oracle test).
        # The clip's colours pass through untouched (tagged BT.709 at the end): a matrix
        # conversion would cost as much as decoding, and HD sources are BT.709 anyway.
        base = (
            f"[{ci}:v:0]fps={fps}:round=up,setpts=N,tpad=stop=-1:stop_mode=clone,"
            f"trim=start_frame={a}:end_frame={b},"
            f"scale={w}:{h}:force_original_aspect_ratio=increase:flags=bicubic,"
            f"crop={w}:{h},setsar=1,format=yuv420p"
        )
        # the text alpha only grows, so if the last frame has none, no frame has
        ov = assets.overlay(item) if item.text_alpha(b - 1) > 0 else None
        if ov is None:
            chains.append(f"{base},setpts=PTS-STARTPTS[{label}]")
        else:
            ov_path, ox, oy = ov
            oi = len(inputs)
            inputs.append(["-framerate", str(fps), "-i", str(ov_path)])
            fade = ""
            if item.text_fade > 0 and item.text_alpha(a) < 1:
                fade = f",fade=t=in:start_frame={item.text_in}:nb_frames={item.text_fade}:alpha=1"
            chains.append(f"{base}[{label}b]")
            chains.append(
                f"[{oi}:v]scale={_TO709},format=yuva420p,loop=loop={b - 1}:size=1:start=0,"
                f"settb=1/{fps},setpts=N{fade}[{label}o]"
            )
            chains.append(
                f"[{label}b][{label}o]overlay=x={ox}:y={oy}:format=yuv420:shortest=1,"
                f"setpts=PTS-STARTPTS[{label}]"
            )
    else:
        ci = len(inputs)
        inputs.append(["-framerate", str(fps), "-i", str(assets.card(item))])
        fades = ""
        if item.fade_in_frames:
            fades += f",fade=t=in:start_frame=0:nb_frames={item.fade_in_frames}"
        if item.fade_out_frames:
            s = item.frames - item.fade_out_frames
            fades += f",fade=t=out:start_frame={s}:nb_frames={item.fade_out_frames}"
        chains.append(
            f"[{ci}:v]scale={_TO709},format=yuv420p,loop=loop={b - 1}:size=1:start=0,"
            f"settb=1/{fps},setpts=N{fades},trim=start_frame={a}:end_frame={b},"
            f"setpts=PTS-STARTPTS[{label}]"
        )
    return chains


@dataclass
class _Job:
    """One ffmpeg process for item `item`: its body and/or its transition into the next.

    Grouping them decodes each clip once (plus the next clip's first crossfade frames)
    instead of once per segment that shows it, and halves the process count.
    """

    item: int
    body: Segment | None
    xfade: Segment | None

    @property
    def segments(self) -> list[Segment]:
        return [s for s in (self.body, self.xfade) if s is not None]

    def cost(self, tl: Timeline) -> float:
        """Rough relative CPU cost (frames encoded + decoded), for longest-first order."""
        enc = sum(s.frames for s in self.segments)
        dec = self.xfade.parts[0].last if self.xfade else enc
        return enc + 0.25 * dec


def job_args(
    tl: Timeline, job: _Job, assets: _Assets, outs: dict[str, Path], threads: int
) -> list[str]:
    """The ffmpeg command line (after the binary) that encodes a job's segments to `outs`."""
    inputs: list[list[str]] = []
    body, xf = job.body, job.xfade
    first = body.parts[0].first if body else xf.parts[0].first  # type: ignore[union-attr]
    last = xf.parts[0].last if xf else body.parts[0].last  # type: ignore[union-attr]
    chains = _source(tl, job.item, first, last, "src", assets, inputs)
    if body and xf:
        n = body.frames
        chains.append("[src]split=2[sb][st]")
        chains.append(f"[sb]trim=end_frame={n}[body]")
        chains.append(f"[st]trim=start_frame={n},setpts=PTS-STARTPTS[tail]")
    else:
        chains.append(f"[src]null[{'body' if body else 'tail'}]")
    maps: list[str] = []
    enc = encoder_args(tl, threads)
    if body:
        chains.append(f"[body]setparams={_COLOR}[ob]")
        maps += ["-map", "[ob]", "-frames:v", str(body.frames), *enc, str(outs[body.id])]
    if xf:
        nxt = xf.parts[1]
        chains += _source(tl, nxt.item, nxt.first, nxt.last, "head", assets, inputs)
        dur = tl.crossfade_frames / tl.spec.fps
        chains.append(
            f"[tail][head]xfade=transition=fade:duration={dur:.6f}:offset=0,setparams={_COLOR}[ox]"
        )
        maps += ["-map", "[ox]", "-frames:v", str(xf.frames), *enc, str(outs[xf.id])]
    return [
        # one thread per filter graph: the pool already runs a job per core
        "-filter_threads", "1", "-filter_complex_threads", "1",
        *(arg for inp in inputs for arg in inp),
        "-filter_complex", ";".join(chains),
        *maps,
    ]  # fmt: skip


def _run_job(tl: Timeline, job: _Job, assets: _Assets, seg_dir: Path, threads: int) -> float:
    t0 = time.monotonic()
    finals = {s.id: seg_dir / f"{s.key}.mp4" for s in job.segments}
    tmps = {sid: tmp_path_for(p) for sid, p in finals.items()}
    try:
        run_ffmpeg(job_args(tl, job, assets, tmps, threads))
        for sid, tmp in tmps.items():
            commit_file(tmp, finals[sid])
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
    return time.monotonic() - t0


def _concat_list(paths: list[Path], dest: Path) -> None:
    lines = []
    for p in paths:
        q = str(p.resolve()).replace("'", "'\\''")
        lines.append(f"file '{q}'\n")
    dest.write_text("".join(lines), encoding="utf-8")


def plan_jobs(tl: Timeline, seg_dir: Path) -> tuple[list[Segment], list[_Job]]:
    """Split segments into cached ones and jobs for the rest (one job per item at most)."""
    cached: list[Segment] = []
    jobs: dict[int, _Job] = {}
    scheduled: set[str] = set()
    for seg in tl.segments:
        path = seg_dir / f"{seg.key}.mp4"
        if seg.key in scheduled or (path.exists() and path.stat().st_size > 0):
            cached.append(seg)
            continue
        scheduled.add(seg.key)
        job = jobs.setdefault(seg.parts[0].item, _Job(seg.parts[0].item, None, None))
        if seg.kind == "body":
            job.body = seg
        else:
            job.xfade = seg
    return cached, sorted(jobs.values(), key=lambda j: j.cost(tl), reverse=True)


def render(
    timeline: Timeline,
    work_dir: Path,
    out: Path,
    *,
    workers: int | None = None,
    on_segment: Callable[[SegmentResult], None] | None = None,
    x264_threads: int | None = None,
) -> RenderReport:
    """Render `timeline` to `out` (written atomically), reusing cached segments.

    `on_segment` is called in the caller's thread (never from a pool thread), first for
    reused segments, then for the encoded ones as their job completes. `x264_threads`
    defaults to cpu_count // workers (1 on a fully used pool: measured fastest).
    """
    tl = timeline
    for it in tl.items:
        if it.kind == "scene" and (it.clip is None or not it.clip.exists()):
            raise FileNotFoundError(f"{it.id}: clip not found: {it.clip}")
    cpus = os.cpu_count() or 1
    workers = max(1, min(workers or cpus, cpus * 2))
    threads = x264_threads or max(1, cpus // workers)
    seg_dir = work_dir / "segments"
    seg_dir.mkdir(parents=True, exist_ok=True)
    assets = _Assets(tl, work_dir, decode_threads=1 if threads == 1 else 0)

    results: dict[str, SegmentResult] = {}

    def report(res: SegmentResult) -> None:
        results[res.id] = res
        if on_segment:
            on_segment(res)

    cached, jobs = plan_jobs(tl, seg_dir)
    for seg in cached:
        # a key shared with a segment being encoded now is "reused" once that one lands
        report(SegmentResult(seg.id, seg.key, seg_dir / f"{seg.key}.mp4", True, 0.0))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="compose") as pool:
        afut = pool.submit(render_audio, tl.audio, work_dir)
        futures: dict[Future[float], _Job] = {
            pool.submit(_run_job, tl, job, assets, seg_dir, threads): job for job in jobs
        }
        pending: set[Future[float]] = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for fut in done:
                    secs = fut.result()
                    for seg in futures[fut].segments:
                        report(
                            SegmentResult(seg.id, seg.key, seg_dir / f"{seg.key}.mp4", False, secs)
                        )
            audio_path = afut.result()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise

    ordered = [results[s.id] for s in tl.segments]
    out.parent.mkdir(parents=True, exist_ok=True)
    listing = work_dir / f"concat-{os.getpid()}.txt"
    tmp = tmp_path_for(out)
    try:
        _concat_list([r.path for r in ordered], listing)
        mux = [
            "-f", "concat", "-safe", "0", "-i", str(listing),
            "-i", str(audio_path),
            "-map", "0:v:0", "-map", "1:a:0",
            "-c", "copy",
            "-movflags", "+faststart",
            "-f", "mp4",
            str(tmp),
        ]  # fmt: skip
        run_ffmpeg(mux)
        commit_file(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        listing.unlink(missing_ok=True)
    return RenderReport(out=out, segments=ordered, duration=probe(out).duration)
