"""The ffmpeg renderer: encode the timeline's segments in parallel, join them by copy.

Why segments: they are cached under their content key, so recomposing after an edit
encodes only the segments whose pixels changed. They are encoded in chunks (runs of
consecutive segments, one ffmpeg and one single-threaded x264 each, cut into one file
per segment), a pool of chunks using every core (N single-threaded x264 encoders beat
one N-threaded one) with memory bounded by the chunk size. Every segment uses identical
encoder settings (size, rate, time base, pix_fmt, profile, x264 options) and starts on
an IDR frame, which is what makes joining them with the concat demuxer and `-c copy`
valid. Audio is rendered in one pass over the whole movie (no seams) and muxed last.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from mindmovie.compose import cards
from mindmovie.compose.audio import audio_track, bed_file, prepare_audio, render_audio
from mindmovie.compose.timeline import RENDERER_VERSION, Item, Segment, Timeline
from mindmovie.cpus import usable_cpu_count
from mindmovie.fsutil import commit_file, make_dirs, tmp_path_for
from mindmovie.media import chunk_dir_prefix, probe, run_ffmpeg_watched

_COLOR = "colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"
_TO709 = "out_color_matrix=bt709:out_range=tv"

#: How late a clip frame's timestamp may be and still count as on screen at an output
#: frame's time: half a tick of the clip's time base (what rounding a true time to it
#: may add), at most half a millisecond. Counted in ticks 1000 times finer than the
#: clip's (`setpts` truncates to whole ticks: one of the clip's own is a whole frame in
#: a file whose time base is its frame rate, an AVI); a time base finer than 1 us is
#: kept (1000 times finer does not fit ffmpeg's rational), and 500 of its ticks are
#: still at least half of one. A frame at a whole millisecond may be half a millisecond
#: late whatever the time base: a WebM or MKV remuxed into an MP4 keeps its times
#: rounded to the ms in a finer base (1/16000), and a 24 fps clip juddered (frames 0, 0,
#: 2, 3, 3, 5...) as a ms one did before; a true time is rarely a whole ms.
PTS_SLACK = (
    "settb=expr=if(gte(intb\\,0.000001)\\,intb/1000\\,intb),"
    "setpts=PTS-if(lt(abs(PTS*TB*1000-round(PTS*TB*1000))\\,0.000001)"
    "\\,0.0005/TB\\,min(500\\,0.0005/TB))"
)


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
    #: warnings for the person, said by the caller in its own thread (the audio pass
    #: runs in a pool thread): e.g. `audio.silent_music_note`
    notes: list[str] = field(default_factory=list)


class ComposeStopped(Exception):
    """The render was stopped (`stopped()` said so) while composing: the encoders are
    killed and the segments finished so far are kept (reported through `on_segment`)."""

    def __init__(self) -> None:
        super().__init__("the compose was stopped")


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr((RENDERER_VERSION, *parts)).encode()).hexdigest()[:32]


#: H.264's levels (Table A-1) as (level, MaxMBPS, MaxFS, MaxDpbMbs): macroblocks a
#: second, in a frame, and in the decoded picture buffer. 1b is left out.
_LEVELS = (
    ("1.0", 1485, 99, 396), ("1.1", 3000, 396, 900), ("1.2", 6000, 396, 2376),
    ("1.3", 11880, 396, 2376), ("2.0", 11880, 396, 2376), ("2.1", 19800, 792, 4752),
    ("2.2", 20250, 1620, 8100), ("3.0", 40500, 1620, 8100), ("3.1", 108000, 3600, 18000),
    ("3.2", 216000, 5120, 20480), ("4.0", 245760, 8192, 32768), ("4.1", 245760, 8192, 32768),
    ("4.2", 522240, 8704, 34816), ("5.0", 589824, 22080, 110400),
    ("5.1", 983040, 36864, 184320), ("5.2", 2073600, 36864, 184320),
    ("6.0", 4177920, 139264, 696320), ("6.1", 8355840, 139264, 696320),
    ("6.2", 16711680, 139264, 696320),
)  # fmt: skip

#: the lowest level given: every phone, browser and TV decodes it, and below it x264
#: would cut the preset's reference frames to fit a small frame's picture buffer
_MIN_LEVEL = "3.0"


def h264_level(width: int, height: int, fps: int) -> str:
    """The H.264 level the movie is encoded at: the lowest one (from 3.0) whose frame
    size, side length and macroblock rate hold `width` x `height` at `fps`.

    Left to x264, the level also had to hold the decoded picture buffer of the preset's
    reference frames: `quality: high` (preset slow, 5 of them) made a 1080p movie level
    5.0, a 4K decoder's level, which hardware decoders made for 1080p (4.x) may refuse.
    Given the level, x264 uses as many reference frames as it holds.
    """
    mb_w, mb_h = -(-width // 16), -(-height // 16)
    frame = mb_w * mb_h
    floor = next(i for i, lv in enumerate(_LEVELS) if lv[0] == _MIN_LEVEL)
    for name, mbps, max_fs, _dpb in _LEVELS[floor:]:
        side = (8 * max_fs) ** 0.5
        if frame <= max_fs and max(mb_w, mb_h) <= side and frame * fps <= mbps:
            return name
    return _LEVELS[-1][0]


def x264_args(tl: Timeline, threads: int) -> list[str]:
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
        "-level:v", h264_level(spec.width, spec.height, spec.fps),
        "-pix_fmt", "yuv420p",
        "-g", str(spec.fps * 4),
        "-threads", str(threads),
        "-color_primaries", "bt709",
        "-color_trc", "bt709",
        "-colorspace", "bt709",
        "-color_range", "tv",
        "-r", str(spec.fps),
    ]  # fmt: skip


def _timescale(tl: Timeline) -> str:
    """The mp4 track timescale every segment is written with (a multiple of the rate)."""
    return str(tl.spec.fps * 1000)


def encoder_args(tl: Timeline, threads: int) -> list[str]:
    """`x264_args` written to one mp4 file, video only (the bench's plain re-encode)."""
    return [
        *x264_args(tl, threads),
        "-video_track_timescale", _timescale(tl),
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
        #: overlay placements already worked out: finding one lays out and draws the text
        #: again even when its file exists (~10-20 ms), and the prepare thread and the
        #: chunk's own args both ask
        self._placed: dict[Path, tuple[Path, int, int, int, int] | None] = {}

    def _lock(self, path: Path) -> threading.Lock:
        # two segments (e.g. a scene's body and its transition) may need the same PNG
        with self._guard:
            return self._locks.setdefault(path, threading.Lock())

    def card_path(self, item: Item) -> Path:
        kind = "title" if item.kind == "title" else "closing"
        return self.dir / "cards" / f"{_digest(kind, item.text, item.face, self.size)}.rgb"

    def overlay_path(self, item: Item) -> Path:
        return self.dir / "overlays" / f"{_digest(item.text, item.face, self.size)}.box.rgba"

    def card(self, item: Item) -> Path:
        assert item.kind in ("title", "closing")
        kind: cards.CardKind = "title" if item.kind == "title" else "closing"
        path = self.card_path(item)
        with self._lock(path):
            return cards.render_card(path, item.text, self.size, kind)

    def overlay(self, item: Item) -> tuple[Path, int, int, int, int] | None:
        """The affirmation overlay cut to its text (raw RGBA), where it goes and its size.

        Blending only the text's box instead of a full-frame transparent PNG saves a
        full-frame alpha blend on every frame of every scene.
        """
        if not item.text.strip():
            return None
        path = self.overlay_path(item)
        with self._lock(path):
            if path not in self._placed:
                self._placed[path] = cards.render_overlay(path, item.text, self.size)
            return self._placed[path]


def cache_files(tl: Timeline, work_dir: Path) -> set[Path]:
    """The cards, overlays and audio files in `work_dir` that composing `tl` reads.

    The rest of the cache (an edited text's overlay, an older title's card, the track of
    an earlier length) is never read again: the pipeline removes it once the movie is
    made, as it does unused segments, so a run edited many times does not pile them up
    (a 1080p card is 6 MB).
    """
    assets = _Assets(tl, work_dir)
    keep = {audio_track(tl.audio, work_dir)}
    if tl.audio.music is None:
        keep.add(bed_file(work_dir))
    for item in tl.items:
        if item.kind in ("title", "closing"):
            keep.add(assets.card_path(item))
        elif item.text.strip():
            keep.add(assets.overlay_path(item))
    return keep


def hdr_to_sdr(transfer: str, matrix: str) -> str:
    """Filters that tone map an HDR clip (PQ or HLG transfer, BT.2020 primaries) to
    BT.709 SDR, for the rest of the chain to read as BT.709.

    Read as BT.709, as it was, an HDR clip's colours came out washed out and flat (a
    (64, 96, 160) blue made PQ showed as (65, 72, 98), made HLG as (52, 58, 101)).
    zscale (in imageio-ffmpeg's ffmpeg) makes it linear light, 100 nits = 1.0, and
    BT.709 primaries; `tonemap`'s mobius curve leaves what is within SDR's range as it
    is and rolls the highlights above it off smoothly (hable darkened mid-tones too).
    """
    m = matrix if matrix.startswith("bt2020") else "bt2020nc"
    return (
        f"zscale=tin={transfer}:pin=bt2020:min={m}:rin=tv:t=linear:npl=100,"
        "format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0,"
        "zscale=t=bt709:m=bt709:r=tv,format=yuv444p,setparams=colorspace=bt709"
    )


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
        # The first `tpad` holds the clip's last frame for a second before `fps`: `fps`
        # ends at the clip's end, so the last frames that round up to a time at or past
        # it were dropped and the second `tpad` held an earlier one (a 30 fps clip in a
        # 12 fps movie held its frame 57 of 60); frames inside the clip are unchanged.
        # `start_time=0`: a picture that starts after the clip's sound (the file's
        # start) holds its first frame until then, as players show it, instead of
        # starting at the scene's first frame ahead of the sound (the same frames for
        # a picture that starts with the file).
        # PTS_SLACK first moves every frame a little earlier: a time base that cannot
        # hold 1/30 s exactly (WebM's and MKV's milliseconds, an MP4's 1/1000000) stores
        # a 30 fps clip's frame 2 rounded up, after 2/30 s (67 ms), and `round=up` showed
        # frame 1 twice and skipped frame 2 (a judder every third frame). The slack is
        # far smaller in a fine time base: a 24000/1001 clip's frame 8 at 0.33367 s in
        # 1/24000 truly comes after 1/3 s, and is not pulled forward.
        # `reset_sar` covers with the picture as shown: an anamorphic clip (pixels not
        # square, e.g. 720x480 at SAR 32:27 for 16:9) was covered by its stored size,
        # squeezed and cropped (identical pixels for square-pixel clips).
        # Colours: the clip is labelled with the matrix it is to be read with (its tag,
        # or the players' guess for an untagged one), and `scale` converts to BT.709 only
        # when that differs. Unlabelled, an untagged clip was converted from ffmpeg's
        # default BT.601 on every frame (measured ~1.3 ms a 720p frame, and wrong colours
        # for HD) because the BT.709 overlay makes the graph agree on one matrix.
        tag = f"setparams=colorspace={item.clip_matrix}," if item.clip_matrix else ""
        if item.clip_hdr:
            tag = hdr_to_sdr(item.clip_hdr, item.clip_matrix) + ","
        base = (
            f"[{ci}:v:0]{tag}tpad=stop_mode=clone:stop_duration=1,"
            f"{PTS_SLACK},"
            f"fps={fps}:start_time=0:round=up,setpts=N,tpad=stop=-1:stop_mode=clone,"
            f"trim=start_frame={a}:end_frame={b},"
            f"scale={w}:{h}:force_original_aspect_ratio=increase:reset_sar=1:flags=bicubic:{_TO709},"
            f"crop={w}:{h},setsar=1,format=yuv420p"
        )
        # the text alpha only grows, so if the last frame has none, no frame has
        ov = assets.overlay(item) if item.text_alpha(b - 1) > 0 else None
        if ov is None:
            chains.append(f"{base},setpts=PTS-STARTPTS[{label}]")
        else:
            ov_path, ox, oy, ow, oh = ov
            oi = len(inputs)
            inputs.append(["-f", "rawvideo", "-pix_fmt", "rgba", "-video_size", f"{ow}x{oh}",
                           "-framerate", str(fps), "-i", str(ov_path)])  # fmt: skip
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
        inputs.append(["-f", "rawvideo", "-pix_fmt", "rgb24", "-video_size", f"{w}x{h}",
                       "-framerate", str(fps), "-i", str(assets.card(item))])  # fmt: skip
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


#: most segments one ffmpeg process encodes: bounds its open decoders (memory stays flat
#: in the scene count) while keeping encoder start-ups few
MAX_CHUNK_SEGMENTS = 8


@dataclass
class _Chunk:
    """One ffmpeg process: consecutive segments, one encoder, cut by the segment muxer.

    One x264 per chunk instead of one per segment: every encoder instance zeroes its own
    few hundred MB of lookahead buffers (~10 % of a scene job's CPU in `perf`), and a
    clip shown by two neighbouring segments of a chunk is decoded once, not twice.
    Each segment still starts on a forced IDR frame and lands in its own file under its
    own key, so caching and concat-copy work exactly as with one process per segment.
    """

    segments: list[Segment]

    def cost(self) -> float:
        """Rough relative CPU cost, for balancing chunks across the pool."""
        return sum(_seg_cost(s) for s in self.segments)


def _seg_cost(seg: Segment) -> float:
    """Frames encoded, plus decode and blend for the frames that need them."""
    if seg.kind == "transition":
        return seg.frames * 1.5
    return seg.frames * (1.25 if seg.id.startswith("body:scene") else 0.75)


def _dissolve(a: str, b: str, seconds: float, out: str) -> list[str]:
    """Filter chains for a crossfade of [a] into [b] (both yuv420p, same length) as [out].

    xfade only takes unsubsampled formats, so handing it yuv420p makes ffmpeg convert
    both inputs to 4:4:4 and the result back on every frame (~40 % of a transition's
    filter time, and a chroma blur). A dissolve mixes each plane on its own, so each
    plane is faded as gray and the planes are merged again: same luma, exact chroma.
    """
    chains = [f"[{a}]extractplanes=y+u+v[{a}y][{a}u][{a}v]",
              f"[{b}]extractplanes=y+u+v[{b}y][{b}u][{b}v]"]  # fmt: skip
    for pl in "yuv":
        chains.append(
            f"[{a}{pl}][{b}{pl}]xfade=transition=fade:duration={seconds:.6f}:offset=0[{out}{pl}]"
        )
    chains.append(
        f"[{out}y][{out}u][{out}v]mergeplanes=format=yuv420p:map1s=1:map2s=2,"
        f"setsar=1,setparams={_COLOR}[{out}]"
    )
    return chains


#: fewest frames a chunk is encoded with: a shorter one is padded with copies of its last
#: frame, cut off into a file that is not kept. x264 sets its first frames' decode times
#: (dts) a B-frame delay (2 frames) before their presentation times from the frames it
#: has seen; a chunk of 1 frame (a 1-frame card encoded alone: its neighbour cached)
#: got dts = pts, 2 frames later than every other segment's, and the concat joined it
#: with a 2-frame gap in dts: the frame before it lasted 3 frames, and a decode at the
#: movie's rate showed it 3 times (114 frames of a 112-frame movie at 24 fps).
MIN_CHUNK_FRAMES = 8


def chunk_args(
    tl: Timeline, chunk: _Chunk, assets: _Assets, pattern: str, threads: int
) -> list[str]:
    """The ffmpeg command line (after the binary) that encodes `chunk`.

    Output goes to `pattern` (a segment-muxer name with %03d), one file per segment in
    order. Every item the chunk shows is decoded once over the frames any of its parts
    needs, then split into those parts.
    """
    inputs: list[list[str]] = []
    chains: list[str] = []
    uses: dict[int, list[tuple[str, int, int]]] = {}
    for si, seg in enumerate(chunk.segments):
        for pi, part in enumerate(seg.parts):
            uses.setdefault(part.item, []).append((f"p{si}_{pi}", part.first, part.last))
    for idx in sorted(uses):
        parts = uses[idx]
        lo, hi = min(p[1] for p in parts), max(p[2] for p in parts)
        src = f"i{idx}"
        chains += _source(tl, idx, lo, hi, src, assets, inputs)
        if len(parts) == 1:
            label, a, b = parts[0]
            chains.append(f"[{src}]null[{label}]")
            continue
        chains.append(
            f"[{src}]split={len(parts)}" + "".join(f"[{src}_{k}]" for k in range(len(parts)))
        )
        for k, (label, a, b) in enumerate(parts):
            chains.append(
                f"[{src}_{k}]trim=start_frame={a - lo}:end_frame={b - lo},"
                f"setpts=PTS-STARTPTS[{label}]"
            )
    pieces = []
    for si, seg in enumerate(chunk.segments):
        if seg.kind == "transition":
            # each transition over its own length: one next to a short item is shorter
            chains += _dissolve(f"p{si}_0", f"p{si}_1", seg.frames / tl.spec.fps, f"s{si}")
            pieces.append(f"[s{si}]")
        else:
            pieces.append(f"[p{si}_0]")
    n = len(pieces)
    # `setsar=1`: concat passes on its first input's sample aspect ratio, which a card's
    # raw frames do not have, so a chunk opening on a card wrote an SPS without one and
    # the others SAR 1:1: the movie's SPS changed at such joins (concat copies them)
    # `setpts=N`: each frame the concat gives, one frame after the one before. concat
    # starts a segment where the one before ends by its frames' mean spacing, which a
    # 1-frame segment (the body of a scene one frame longer than its two crossfades)
    # has none of: the next one began on its time stamp, and from the third such
    # frame in a chunk the encoder's constant rate dropped a frame at each, every
    # later segment file of the chunk holding its neighbour's frames (a 180-scene
    # movie's picture 4.5 s shorter than its sound)
    total = sum(s.frames for s in chunk.segments)
    pad = max(0, MIN_CHUNK_FRAMES - total)  # frames encoded after the last segment's, and cut off
    tail = f",tpad=stop={pad}:stop_mode=clone" if pad else ""
    chains.append(
        f"{''.join(pieces)}concat=n={n}:v=1:a=0,settb=1/{tl.spec.fps},setpts=N,"
        f"setsar=1,setparams={_COLOR}{tail}[out]"
    )
    cuts, at = [], 0
    for seg in chunk.segments if pad else chunk.segments[:-1]:
        at += seg.frames
        cuts.append(at)
    split = ["-force_key_frames", "expr:" + ("+".join(f"eq(n,{c})" for c in cuts) or "0"),
             "-forced-idr", "1",
             "-f", "segment", "-segment_format", "mp4",
             "-segment_format_options", f"video_track_timescale={_timescale(tl)}",
             "-reset_timestamps", "1"]  # fmt: skip
    if cuts:
        split += ["-segment_frames", ",".join(map(str, cuts))]
    else:
        split += ["-segment_time", "1000000"]
    return [
        # one thread per filter graph: the pool already runs a chunk per core
        "-filter_threads", "1", "-filter_complex_threads", "1",
        *(arg for inp in inputs for arg in inp),
        "-filter_complex", ";".join(chains),
        "-map", "[out]", "-frames:v", str(total + pad), *x264_args(tl, threads), *split, pattern,
    ]  # fmt: skip


class _Stopped(Exception):
    """A chunk given up because another one failed (or the render was interrupted)."""


@dataclass
class _Signals:
    """What render() and its pool threads share."""

    #: one release per chunk once its encoder starts (or it gave up before)
    launched: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    #: segments committed, for render() to report in its own thread
    finished: queue.SimpleQueue[tuple[Segment, float]] = field(default_factory=queue.SimpleQueue)
    #: set on the first failure: running encoders are killed, nothing new starts
    stop: threading.Event = field(default_factory=threading.Event)


def _run_chunk(
    tl: Timeline,
    chunk: _Chunk,
    assets: _Assets,
    seg_dir: Path,
    threads: int,
    sig: _Signals,
    drawn: threading.Event,
) -> float:
    """Encode a chunk; commit each segment under its key as soon as it is complete.

    `drawn` is set once the prepare thread has drawn this chunk's cards and overlays
    (or given up: then building the args draws them here and meets its error).

    The segment muxer closes a file before it opens the next, so a segment is complete
    once the next one's file exists: the progress view sees segments as they land, and
    a render killed mid-chunk keeps the segments already done.
    """
    t0 = last = time.monotonic()
    # named with this render's pid: a render killed outright left this encoder running,
    # and the next knew it by nothing (`media.kill_orphans`)
    tmp_dir = Path(tempfile.mkdtemp(prefix=chunk_dir_prefix(os.getpid()), dir=seg_dir))
    segs = chunk.segments
    done = 0
    released = False

    def commit(upto: int) -> None:
        nonlocal done, last
        while done < upto:
            seg, piece = segs[done], tmp_dir / f"{done:03d}.mp4"
            if not piece.exists():
                raise RuntimeError(f"{seg.id}: the encoder wrote no segment {piece.name}")
            commit_file(piece, seg_dir / f"{seg.key}.mp4")
            now = time.monotonic()
            sig.finished.put((seg, now - last))
            done, last = done + 1, now

    def watch() -> None:
        upto = done
        while upto < len(segs) - 1 and (tmp_dir / f"{upto + 1:03d}.mp4").exists():
            upto += 1
        commit(upto)
        if sig.stop.is_set():
            raise _Stopped  # kills this encoder: the render is failing anyway

    try:
        while not drawn.wait(0.05):
            if sig.stop.is_set():
                raise _Stopped
        if sig.stop.is_set():
            raise _Stopped
        # the segment muxer expands % in the whole name: a literal one is written %%
        pattern = str(tmp_dir).replace("%", "%%") + os.sep + "%03d.mp4"
        args = chunk_args(tl, chunk, assets, pattern, threads)
        sig.launched.release()
        released = True
        run_ffmpeg_watched(args, watch)
        commit(len(segs))
    except BaseException:
        sig.stop.set()
        raise
    finally:
        if not released:
            sig.launched.release()
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return time.monotonic() - t0


def _concat_list(paths: list[Path], dest: Path) -> None:
    # Relative to the list (the concat demuxer resolves them from its folder): the
    # segment names are hex keys, so the run folder's own name never goes in the list,
    # which reads a line per entry (a folder named with a newline failed the final mux)
    base = dest.parent.resolve()
    lines = []
    for p in paths:
        full = p.resolve()
        name = str(full.relative_to(base)) if full.is_relative_to(base) else str(full)
        q = name.replace("'", "'\\''")
        lines.append(f"file '{q}'\n")
    # surrogateescape: a folder name that is not UTF-8 (bytes Python decoded with
    # surrogates) is written back as its own bytes, which is what ffmpeg must open
    dest.write_text("".join(lines), encoding="utf-8", errors="surrogateescape")


def _pack(units: list[list[Segment]], cap: float) -> list[_Chunk]:
    """Greedy: consecutive units into chunks of cost <= cap; an empty unit forces a cut."""
    chunks: list[_Chunk] = []
    cur: list[Segment] = []
    cost = 0.0
    for unit in units:
        c = sum(_seg_cost(s) for s in unit)
        if cur and (not unit or len(cur) + len(unit) > MAX_CHUNK_SEGMENTS or cost + c > cap):
            chunks.append(_Chunk(cur))
            cur, cost = [], 0.0
        cur += unit
        cost += c
    if cur:
        chunks.append(_Chunk(cur))
    return chunks


def plan_chunks(tl: Timeline, seg_dir: Path, workers: int) -> tuple[list[Segment], list[_Chunk]]:
    """Split segments into cached ones and chunks of consecutive ones to encode.

    Chunks never span a cached segment. Their number is at least `workers` (every core
    gets one when there is enough to do) and a multiple of it, so the pool's last round
    is full; sizes are balanced by cost. Returned longest first.
    """
    cached: list[Segment] = []
    runs: list[list[Segment]] = [[]]
    scheduled: set[str] = set()
    for seg in tl.segments:
        path = seg_dir / f"{seg.key}.mp4"
        if seg.key in scheduled or (path.exists() and path.stat().st_size > 0):
            cached.append(seg)
            if runs[-1]:
                runs.append([])
            continue
        scheduled.add(seg.key)
        runs[-1].append(seg)
    runs = [r for r in runs if r]
    todo = sum(len(r) for r in runs)
    if not todo:
        return cached, []
    count = max(workers, -(-todo // MAX_CHUNK_SEGMENTS))
    count = min(todo, -(-count // workers) * workers)
    # never cut between a body and its outgoing transition: the next chunk would decode
    # the whole clip again for the transition's last second. After a transition the next
    # chunk re-decodes only that second; between two bodies (no crossfade) nothing.
    units: list[list[Segment]] = []
    for run in runs:
        units.append([])
        for seg, nxt in zip(run, [*run[1:], None], strict=True):
            units[-1].append(seg)
            if seg.kind == "transition" or nxt is None or nxt.kind != "transition":
                units.append([])
        units.append([])  # a run's end is always a cut
    # the smallest cost cap that packs into `count` chunks, by bisection
    lo, hi = 0.0, sum(_seg_cost(s) for r in runs for s in r)
    for _ in range(30):
        mid = (lo + hi) / 2
        if len(_pack(units, mid)) <= count:
            hi = mid
        else:
            lo = mid
    chunks = _pack(units, hi)
    return cached, sorted(chunks, key=lambda c: c.cost(), reverse=True)


def render(
    timeline: Timeline,
    work_dir: Path,
    out: Path,
    *,
    workers: int | None = None,
    on_segment: Callable[[SegmentResult], None] | None = None,
    x264_threads: int | None = None,
    stopped: Callable[[], bool] | None = None,
) -> RenderReport:
    """Render `timeline` to `out` (written atomically), reusing cached segments.

    `on_segment` is called in the caller's thread (never from a pool thread), first for
    reused segments, then for each encoded one as it lands (within ~0.25 s), also for
    those finished when a failure stops the render. `x264_threads` defaults to
    usable CPUs // workers (1 on a fully used pool: measured fastest).

    `stopped`, asked every ~0.25 s, ends the compose with `ComposeStopped` (encoders
    killed) once it says so: a stop signal sent to the render alone (`kill`, `docker
    stop`) does not reach the encoders, as a terminal's Ctrl-C does, and the render
    waited for the chunk in hand to finish (minutes) after saying it was stopping.
    """

    def check_stop() -> None:
        if stopped is not None and stopped():
            raise ComposeStopped

    tl = timeline
    for it in tl.items:
        if it.kind == "scene" and (it.clip is None or not it.clip.exists()):
            raise FileNotFoundError(f"{it.id}: clip not found: {it.clip}")
    cpus = usable_cpu_count()
    workers = max(1, min(workers or cpus, cpus * 2))
    threads = x264_threads or max(1, cpus // workers)
    seg_dir = work_dir / "segments"
    make_dirs(seg_dir)
    assets = _Assets(tl, work_dir, decode_threads=1 if threads == 1 else 0)

    results: dict[str, SegmentResult] = {}

    def report(res: SegmentResult) -> None:
        results[res.id] = res
        if on_segment:
            on_segment(res)

    cached, chunks = plan_chunks(tl, seg_dir, workers)
    # A key shared with a segment being encoded now (two scenes of the same clip, text and
    # seconds: a scene block duplicated in plan.yaml) is "reused" once that one lands:
    # reported before, its file did not exist yet, and `on_segment` hashing it failed the
    # compose of every render of that plan.
    encoding = {s.key for c in chunks for s in c.segments}
    waiting: dict[str, list[Segment]] = {}
    for seg in cached:
        if seg.key in encoding:
            waiting.setdefault(seg.key, []).append(seg)
        else:
            report(SegmentResult(seg.id, seg.key, seg_dir / f"{seg.key}.mp4", True, 0.0))

    # The audio pass is queued after the chunks: it runs in the first slot a chunk
    # frees, filling the core the pool's last round leaves idle (chunks are contiguous
    # runs, so they never end at quite the same time) instead of taking CPU from the
    # encoders at the start. Its Python part (the built-in bed) is done meanwhile, once
    # the first chunks' encoders run: before that it would hold up their cards.
    sig = _Signals()

    def warm() -> None:
        for _ in range(min(workers, len(chunks))):
            sig.launched.acquire(timeout=5.0)
        if not sig.stop.is_set():
            # a head start only: a failure here (a full disk) would print a thread's
            # traceback; the audio pass meets it again and raises it as the render's error
            with contextlib.suppress(Exception):
                prepare_audio(tl.audio, work_dir)

    warmer = threading.Thread(target=warm, name="compose-audio-prepare", daemon=True)
    warmer.start()

    # One thread draws the chunks' cards and overlays, in the order the pool starts the
    # chunks. Before, each pool thread drew its own chunk's just before starting its
    # encoder: the first round's threads shared the GIL, so every first encoder waited
    # for all their drawings (~0.2 s a chunk), and each later chunk's core sat idle while
    # its drawing was done. Now the first encoder starts after its own drawings, and the
    # later chunks' are ready by the time a core frees.
    drawn = [threading.Event() for _ in chunks]

    def draw() -> None:
        try:
            for chunk, done in zip(chunks, drawn, strict=True):
                if sig.stop.is_set():
                    return
                try:
                    chunk_args(tl, chunk, assets, "unused-%03d.mp4", threads)
                except Exception:
                    # the chunk's own thread draws again, meets the error and raises it
                    # as the render's error (a thread's traceback here would say nothing)
                    return
                finally:
                    done.set()
        finally:
            for done in drawn:
                done.set()

    drawer = threading.Thread(target=draw, name="compose-draw", daemon=True)
    drawer.start()

    def audio_stopped() -> None:
        if sig.stop.is_set():
            raise _Stopped

    notes: list[str] = []  # the audio pass's warnings (`RenderReport.notes`)

    def audio() -> Path:
        warmer.join()
        audio_stopped()
        # its ffmpeg killed at a stop, as the encoders are: the pool's shutdown waited
        # for the whole pass (a long movie's song) after the render said it was stopping
        return render_audio(tl.audio, work_dir, check=audio_stopped, warn=notes.append)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="compose") as pool:
        pending: set[Future[float]] = {
            pool.submit(_run_chunk, tl, chunk, assets, seg_dir, threads, sig, done)
            for chunk, done in zip(chunks, drawn, strict=True)
        }
        afut = pool.submit(audio)

        def drain() -> None:
            while not sig.finished.empty():
                seg, secs = sig.finished.get()
                path = seg_dir / f"{seg.key}.mp4"
                report(SegmentResult(seg.id, seg.key, path, False, secs))
                for twin in waiting.pop(seg.key, []):
                    report(SegmentResult(twin.id, twin.key, path, True, 0.0))

        try:
            while pending:
                check_stop()
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                drain()
                for fut in done:
                    exc = fut.exception()
                    # the chunk that failed, not one stopped because of it
                    if exc is not None and not isinstance(exc, _Stopped):
                        raise exc
            while not wait([afut], timeout=0.25).done:
                check_stop()
            audio_path = afut.result()
            check_stop()
        except BaseException:
            sig.stop.set()  # running encoders are killed within a poll
            pool.shutdown(wait=True, cancel_futures=True)
            drawer.join()  # stops after the drawing in hand: nothing writes once we return
            for _ in range(workers):  # the audio's head start: not waiting for encoders
                sig.launched.release()
            warmer.join()  # (it wrote compose/audio/ after the compose had stopped)
            with contextlib.suppress(Exception):
                drain()  # segments finished meanwhile are on disk: say so (the store keeps them)
            raise

    ordered = [results[s.id] for s in tl.segments]
    make_dirs(out.parent)
    listing = work_dir / f"concat-{os.getpid()}.txt"
    tmp = tmp_path_for(out)
    try:
        _concat_list([r.path for r in ordered], listing)
        # The list is given by its bare name, ffmpeg run in its folder: the concat demuxer
        # reads each entry relative to the list's path taken as a URL, which ends at a
        # "#" or "?" (a fragment, a query): a run folder `Movie #1` (or `Why?`) had
        # every entry read from the folder above ("Impossible to open 'segments/...'")
        mux = [
            "-f", "concat", "-safe", "0", "-i", listing.name,
            "-i", os.path.abspath(audio_path),
            "-map", "0:v:0", "-map", "1:a:0",
            "-c", "copy",
            "-movflags", "+faststart",
            "-f", "mp4",
            os.path.abspath(tmp),
        ]  # fmt: skip
        # watched: a stop is heard in it, and an ffmpeg stalled in it is ended
        # (`media.STALL_SECONDS`) instead of holding the render for ever
        run_ffmpeg_watched(mux, check_stop, cwd=listing.parent)
        commit_file(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        listing.unlink(missing_ok=True)
    return RenderReport(out=out, segments=ordered, duration=probe(out).duration, notes=notes)
