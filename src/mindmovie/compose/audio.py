"""The movie's sound: music (or a built-in ambient bed) with clip audio mixed under it.

One ffmpeg pass makes the whole track, so audio never has seams at segment joins:
music looped or trimmed to the movie's length, clip audio delayed to each scene's start
and mixed a little under the music, loudness normalised to about -16 LUFS (EBU R128
`loudnorm`), then faded in and out (after normalising, so the fades stay fades).
"""

from __future__ import annotations

import functools
import json
import math
import re
import subprocess
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mindmovie.compose.timeline import BED_VERSION, CLIP_DECLICK, AudioBed
from mindmovie.fsutil import commit_file, make_dirs, tmp_path_for
from mindmovie.media import (
    AwakeClock,
    FFmpegError,
    audio_packet_seconds,
    probe,
    run_ffmpeg,
    run_ffmpeg_watched,
)

SAMPLE_RATE = 48000
#: Clip sound sits under the music.
CLIP_GAIN = 0.45
#: Seconds a looped song's end is crossfaded into its start at every seam: a song whose
#: last sample does not run on into its first (nearly any song) clicked at each repeat.
LOOP_CROSSFADE = 0.05

# Four slow chords (MIDI notes): Cmaj9, Am9, Fmaj9, G6sus2 - a calm I-vi-IV-V loop.
_CHORDS: tuple[tuple[int, ...], ...] = (
    (48, 55, 64, 71, 74),
    (45, 52, 60, 67, 71),
    (41, 48, 57, 64, 67),
    (43, 50, 57, 62, 64),
)
_CHORD_SECONDS = 8.0  # each chord's onset period
_RELEASE = 4.0  # each chord rings on into the next one for this long
_ATTACK = 2.5


_CYCLE = _CHORD_SECONDS * len(_CHORDS)  # 32 s: the bed repeats exactly after this
BED_RATE = 24000  # the pad has nothing above ~2 kHz; ffmpeg resamples to 48 kHz
BED_GAIN = 1.16


def _cycles(midi: float) -> int:
    """Whole periods per bed cycle of an equal-tempered pitch (snapped by at most
    1/64 Hz, inaudible) - so every partial loops without a click."""
    return round(440.0 * 2 ** ((midi - 69) / 12) * _CYCLE)


def _envelope(rate: int) -> np.ndarray:
    """A chord's loudness over its life: raised-cosine attack, hold, raised-cosine
    release into the next chord."""
    p, r = _CHORD_SECONDS, _RELEASE
    local = np.arange(round((p + r) * rate)) / rate
    env = np.ones_like(local)
    a = local < _ATTACK
    env[a] = 0.5 - 0.5 * np.cos(np.pi * local[a] / _ATTACK)
    rel = local > p
    env[rel] = 0.5 + 0.5 * np.cos(np.pi * np.clip((local[rel] - p) / r, 0, 1))
    return env.astype(np.float32)


def _chord_spectrum(k: int, n: int) -> np.ndarray:
    """Chord k's tone (no envelope) as the real spectrum of one n-sample cycle, per channel.

    Every partial has a whole number of periods in the cycle, so each is one FFT bin:
    the tone is one inverse FFT instead of a wavetable lookup per partial and sample
    (that took ~0.35 s of the compose's CPU; this ~0.06 s, same sound to 66 dB SNR).
    """
    notes = _CHORDS[k % len(_CHORDS)]
    spec = np.zeros((2, n // 2 + 1), dtype=np.complex128)

    def sine(ch: int, b: int, amp: float, phase: float) -> None:  # amp*sin(2pi*b*i/n + phase)
        spec[ch, b] += -0.5j * n * amp * np.exp(1j * phase)

    for j, midi in enumerate(notes):
        amp = 1.0 / (1.0 + 0.25 * j)  # higher voices softer
        for ch, cents in ((0, -3.0), (1, 3.0)):  # slow beating between sides -> width
            c = _cycles(midi + cents / 100)
            phase = 2 * np.pi * round((0.7 * j + ch) / (2 * np.pi) * n) / n
            for h, weight in ((1, 1.0), (2, 0.28), (3, 0.1)):  # soft 2nd and 3rd harmonics
                sine(ch, h * c, amp * weight, h * phase)
    # shimmer: the top note an octave up, faint, slowly breathing (7 breaths a cycle):
    # 0.12 (0.5 + 0.5 sin(7x + b)) sin(cx) = 0.06 sin(cx) + 0.03 cos((c-7)x - b)
    #                                        - 0.03 cos((c+7)x + b)
    b = 2 * np.pi * round(k / (2 * np.pi) * n) / n
    for ch, cents in ((0, 4.0), (1, -4.0)):
        c = _cycles(notes[-1] + 12 + cents / 100)
        sine(ch, c, 0.06, 0.0)
        sine(ch, c - 7, 0.03, np.pi / 2 - b)
        sine(ch, c + 7, -0.03, np.pi / 2 + b)
    return spec


@functools.cache
def _bed_cycle() -> bytes:
    """One exactly periodic cycle of the bed as 16-bit interleaved stereo PCM."""
    n = round(_CYCLE * BED_RATE)
    env = _envelope(BED_RATE)
    life = env.size
    sig = np.zeros((2, n), dtype=np.float32)
    for k in range(len(_CHORDS)):
        # single precision (with numpy 2): its rounding is far below the 16-bit output's
        tone = np.fft.irfft(_chord_spectrum(k, n).astype(np.complex64), n, axis=1)
        start = round(k * _CHORD_SECONDS * BED_RATE)
        head = min(life, n - start)
        sig[:, start : start + head] += tone[:, start : start + head] * env[:head]
        # what rings on past the cycle's end sounds at its start (the previous cycle's tail)
        sig[:, : life - head] += tone[:, : life - head] * env[head:]
    t = np.arange(n, dtype=np.float32) / np.float32(BED_RATE)
    tremolo = 1.0 + 0.12 * np.sin(2 * np.pi * (4 / _CYCLE) * t)
    # soft ceiling; the gain puts the bed at about -16 LUFS (measured with ebur128), so
    # it needs no loudnorm pass of its own
    out = np.tanh(sig * (tremolo * 0.09).astype(np.float32)) * np.float32(BED_GAIN * 32767)
    return bytes(out.T.astype("<i2").tobytes())


def _write_wav(path: Path, frames: int) -> Path:
    """Write `frames` sample frames of the looping bed to `path`, atomically."""
    make_dirs(path.parent)
    cycle = _bed_cycle()
    tmp = tmp_path_for(path)
    try:
        # the file opened here, not by wave: a folder gone under it (the run folder
        # deleted mid-render) made wave's half-built writer print "Exception ignored
        # in: Wave_write.__del__ ... AttributeError" over the render's one error line
        with open(tmp, "wb") as f, wave.open(f, "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(BED_RATE)
            left = frames * 4
            while left > 0:
                chunk = cycle[: min(left, len(cycle))]
                w.writeframes(chunk)
                left -= len(chunk)
        commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def builtin_bed_cycle(path: Path) -> Path:
    """One seamless 32 s cycle of the built-in bed as a WAV; loop it to any length."""
    frames = round(_CYCLE * BED_RATE)
    if path.exists() and path.stat().st_size == 44 + frames * 4:
        return path
    return _write_wav(path, frames)


def builtin_music_bed(path: Path, seconds: float) -> Path:
    """A calm ambient pad (slow chords of soft sine partials) as a WAV of `seconds`.

    One 32 s cycle is synthesised (exactly periodic, so it repeats seamlessly) and
    written as many times as needed: cost and memory do not grow with the length.
    Reused when the file is already there with the expected size.
    """
    frames = max(1, round(seconds * BED_RATE))
    if path.exists() and path.stat().st_size == 44 + frames * 4:
        return path
    return _write_wav(path, frames)


#: EBU R128 loudness normalisation: -16 LUFS integrated, true peak under -1.5 dBTP
LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"


#: where a clip's sound starts, for its declick: its first sample at least this loud
#: (-34 dBFS) on either side. A smaller step is no click under the music; what comes
#: before it is silence or a codec's pre-roll (AAC's pre-echo, about -50 dB RMS)
SOUND_ONSET = 0.02


def _declick_onset() -> str:
    """A linear fade in over CLIP_DECLICK from where the sound starts (its first sample
    above SOUND_ONSET), on top of its fade with the picture from the scene's start.
    The samples before it, quieter than that, are left as they are: a sound that never
    reaches SOUND_ONSET (a quiet room tone) was silenced whole.

    That fade (`afade`) goes by timestamps, over the silence the sound is padded with up
    to its scene's start (`first_pts=0`): a sound that starts after its picture came in
    at the level the fade had reached, full at a cut (a click: 0.167 RMS in its first
    ms of 0.182 full, 0.2 s into a scene). Nor is a sound's first decoded sample where it
    starts: an AAC stream that starts late decodes its encoder's pre-roll first (21 ms
    of near-silence, which a declick there was spent on). `aeval` runs before the
    padding: the first expression to see the onset stores its sample count
    (`st(0, n)`; each side's expression sees both sides, so both find the same one).
    `0*onset+...`: ffmpeg's expressions evaluate a sum's left side first (no `;`, which
    splits a filtergraph's chains, and commas escaped, as elsewhere in the graph).
    """
    onset = f"if(not(ld(1))*gte(max(abs(val(0)),abs(val(1))),{SOUND_ONSET}),st(1,1)+st(0,n),0)"
    # before an onset the gain is 1: those samples are under SOUND_ONSET (no click);
    # at 0 a sound that never reaches it (a quiet room tone) was gone from the movie
    ramp = f"if(ld(1),clip((n-ld(0))/s/{CLIP_DECLICK},0,1),1)"
    exprs = f"0*{onset}+val(0)*{ramp}|0*{onset}+val(1)*{ramp}".replace(",", "\\,")
    return f"aeval=exprs={exprs}:c=same"


def audio_args(
    bed: AudioBed,
    music: Path,
    out: Path,
    *,
    normalise: bool = True,
    loop_start: int = 0,
    measured: str = "",
    loop: bool = True,
    decoded: bool = False,
) -> list[str]:
    """ffmpeg arguments for the one audio pass (music must exist; out is an .m4a).

    `normalise=False` skips loudnorm: for the built-in bed alone, which is made at the
    target loudness already (loudnorm resamples to 192 kHz: the costliest step here).
    `measured`: loudnorm's own options after its targets (`measure_loudness`' answer,
    for one gain over the whole track; or `:print_format=json` to measure).
    `loop_start` > 0: `music` is a song made ready to loop by `seamless_loop` (raw
    stereo float at SAMPLE_RATE, its end crossfaded into its first `loop_start`
    samples); it is played, and repeated, from that sample on.
    `loop=False`: `music` is known to last the movie (`render_audio`): it is played
    once, without `aloop`, which holds every sample it loops (the movie's length of a
    longer song, ~0.4 MB a second: the pass of a 725 s movie took 387 MB, now 137 MB).
    `decoded`: `music` is raw stereo float at SAMPLE_RATE (`seamless_loop`'s file) even
    when `loop_start` is 0 (a song whose format changes midway, `render_audio`).
    """
    dur = bed.duration
    raw = ["-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "2"] if loop_start or decoded else []
    args = [*raw, "-i", str(music)]
    for c in bed.clips:
        args += ["-i", str(c.clip)]
    fmt = f"aresample={SAMPLE_RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"
    # The music is decoded once and looped by `aloop`, sample for sample, over the
    # movie's length (it keeps at most that much sound: it stops collecting at `size`
    # samples, and loops what it has when the song ends first). ffmpeg's own
    # `-stream_loop` restarted the decoder at each repeat: AAC in an mp4 (.m4a, a
    # music video) then lost the ~17 ms its skipped encoder-delay frame primes, a
    # dropout at every seam; and its timestamps jumped by the file's duration, not its
    # samples'. Counted samples make the looped music one continuous stream.
    # (aloop's own `start` is not used to skip the crossfaded head: after the first
    # repeat it looped 640 samples short of the song's end, a click at every seam.)
    size = round(dur * SAMPLE_RATE) + SAMPLE_RATE
    skip = f"atrim=start_sample={loop_start},asetpts=PTS-STARTPTS," if loop_start else ""
    # (played once, its samples are still counted from the first, as aloop's were: cut
    # by their own times, a sound stamped from 2 s into its file lost its first 2 s)
    repeat = f"aloop=loop=-1:size={size}," if loop else ""
    chains = [f"[0:a]{fmt},{skip}{repeat}asetpts=N/SR/TB,atrim=0:{dur:.6f}[m]"]
    mix = ["[m]"]
    for i, c in enumerate(bed.clips, start=1):
        delay = round(c.start * 1000)
        chains.append(
            # a sound that starts after the clip's picture starts that much into the
            # scene (first_pts=0 pads it with silence), not at the scene's first frame.
            # The fade out is over the sound's own end (a fade in of it reversed): that
            # is the scene's end, or before it for a clip shorter than its scene, whose
            # sound stopped dead at full level mid-scene (the fade after it was gone).
            # `areverse` holds the scene's sound, a few MB.
            f"[{i}:a]{fmt},{_declick_onset()},aresample={SAMPLE_RATE}:async=1:first_pts=0,"
            f"atrim=0:{c.seconds:.6f},asetpts=PTS-STARTPTS,"
            f"afade=t=in:st=0:d={c.fade_in:.6f},"
            f"areverse,afade=t=in:st=0:d={c.fade_out:.6f},areverse,asetpts=N/SR/TB,"
            f"volume={CLIP_GAIN},adelay={delay}:all=1[c{i}]"
        )
        mix.append(f"[c{i}]")
    if len(mix) > 1:
        chains.append(
            f"{''.join(mix)}amix=inputs={len(mix)}:duration=first:dropout_transition=0:normalize=0[mx]"
        )
        src = "[mx]"
    else:
        src = "[m]"
    fade_out_start = max(0.0, dur - bed.fade_out)
    # `asetpts=N/SR/TB`: the samples' times counted from the first. loudnorm's have a
    # gap (its 100 ms frames: a short one before its last, timed as a whole one); the
    # fades and the cut to the movie's length go by them, so the track ended short of
    # the picture by what the movie lacks of a whole 0.1 s (50 ms of a 6.25 s one)
    chains.append(
        f"{src}{LOUDNORM + measured + ',' if normalise else ''}aresample={SAMPLE_RATE},"
        "asetpts=N/SR/TB,"
        f"afade=t=in:st=0:d={bed.fade_in:.3f},"
        f"afade=t=out:st={fade_out_start:.6f}:d={bed.fade_out:.3f},"
        f"apad=whole_dur={dur:.6f},atrim=0:{dur:.6f}[a]"
    )
    return [
        *args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        "[a]",
        "-c:a",
        "aac",
        *bed.aac,
        "-ar",
        str(SAMPLE_RATE),
        "-ac",
        "2",
        "-vn",
        "-f",
        "mp4",
        str(out),
    ]


#: the audio pass's own time limit, base + per second of movie: it takes ~1 s per 30 s
#: of movie. goals.yaml's music check refuses, on load, a file whose sound does not
#: decode (`media.music_problem`), and music under a second; this bounds whatever that
#: check cannot foresee (with `-stream_loop -1`, as the pass once looped, a damaged
#: stream that never yielded a sample ran for ever, after every clip was made).
AUDIO_TIMEOUT_BASE, AUDIO_TIMEOUT_PER_SECOND = 120.0, 4.0


def _ffmpeg(args: list[str], *, timeout: float, check: Callable[[], None] | None) -> str:
    """`run_ffmpeg` with `timeout`, calling `check` every ~0.25 s while ffmpeg runs: what
    it raises kills ffmpeg and goes up. The compose's stop asks it, as it asks its
    encoders: a stop during the audio pass waited for this ffmpeg to finish (minutes of
    a long movie's song; for good with a stream that never ends)."""
    if check is None:
        return run_ffmpeg(args, timeout=timeout)
    awake = AwakeClock()  # (a pause, Ctrl-Z then fg, does not use the time up)

    def watch() -> None:
        check()
        if awake() > timeout:
            raise subprocess.TimeoutExpired(args, timeout)

    return run_ffmpeg_watched(args, watch, every=0.25)


def _lasts(music: Path, seconds: float, timeout: float) -> bool:
    """Whether the song's sound lasts `seconds` (to within a frame of AAC), read from its
    packets, not its header's estimate: a song the header says is longer than the movie
    is played once (`audio_args`' `loop=False`), and one that ended sooner would leave
    the movie's end silent; it is looped (`seamless_loop`) instead."""
    try:
        return audio_packet_seconds(music, seconds, timeout=timeout) >= seconds - 0.025
    except FFmpegError:
        return False  # looped, as before: aloop repeats whatever the song has


def _may_loop(music: Path, seconds: float) -> bool:
    """Whether the song may be shorter than the movie (then it is looped); a song that
    is clearly longer is not decoded ahead of the pass."""
    try:
        return probe(music).duration < seconds + 1.0
    except FFmpegError:
        return True  # the decode says (and the pass reports a song that does not decode)


def seamless_loop(
    music: Path,
    seconds: float,
    dest: Path,
    *,
    timeout: float,
    check: Callable[[], None] | None = None,
) -> int:
    """Decode the song (at most `seconds` + 1 s of it) to `dest` as raw stereo float at
    SAMPLE_RATE and, if it is shorter than `seconds`, crossfade its last LOOP_CROSSFADE
    into its start: returns the samples the pass skips (0 = the song is not looped).

    The pass plays the song from that sample on, and repeats it, so each seam runs
    from the song's end into its start through a raised-cosine crossfade instead of
    jumping (a click, or a thump, at every repeat). The movie's sound then starts
    LOOP_CROSSFADE into the song, under its fade-in from silence. Only the seam's
    samples are read and written: the decoded song is never held in memory.
    """
    _ffmpeg(
        ["-i", str(music), "-map", "0:a:0", "-vn", "-t", f"{seconds + 1.0:.6f}",
         "-ac", "2", "-ar", str(SAMPLE_RATE), "-f", "f32le", str(dest)],
        timeout=timeout,
        check=check,
    )  # fmt: skip
    n = dest.stat().st_size // 8
    if n == 0:
        raise FFmpegError(f"{music}: no sound decoded (ist#0: no samples)")
    if n >= round(seconds * SAMPLE_RATE):
        return 0
    x = min(round(LOOP_CROSSFADE * SAMPLE_RATE), n // 4)
    if x < 1:
        return 0
    pcm = np.memmap(dest, dtype="<f4", mode="r+", shape=(n, 2))
    try:
        gain = (0.5 - 0.5 * np.cos(np.pi * (np.arange(x) + 0.5) / x)).astype(np.float32)
        head = np.array(pcm[:x])
        pcm[n - x :] = pcm[n - x :] * (1.0 - gain)[:, None] + head * gain[:, None]
        pcm.flush()
    finally:
        del pcm
    return x


#: what ffmpeg logs when the sound's sample rate or channels change midway through a
#: file (mp3s joined end to end, a TV recording's stereo turning 5.1): it builds the
#: pass's filter graph afresh there, and its sample count and its trim to the movie's
#: length start again (a 4 s movie's track held 7 s of sound in 4 s of timestamps)
_GRAPH_REBUILT = "Reconfiguring filter graph"


class _FormatChanged(Exception):
    """The measuring pass saw the music's format change midway (`_GRAPH_REBUILT`):
    `render_audio` decodes it to one format first and measures again."""


def measure_loudness(
    bed: AudioBed,
    music: Path,
    *,
    loop_start: int,
    timeout: float,
    check: Callable[[], None] | None = None,
    loop: bool = True,
    decoded: bool = False,
) -> str | None:
    """The track's loudness as loudnorm measures it, as its options for a second pass
    (`:measured_I=...:linear=true`), from a pass that writes nothing; None for silence
    (nothing to normalise), "" for a loudness past what loudnorm takes as measured. Without
    it loudnorm adapts its gain as it goes, over a 3 s window: a song that opens in silence,
    or quietly, came in far off its level (6.6 dB under it at 4 s, still 1.5 dB under at 14
    s) and crept up to it. Measured, the whole track gets one gain (loudnorm's linear mode,
    its range target the track's own), unless its true peak would then pass the limit: then
    loudnorm adapts as before. Raises ValueError if ffmpeg printed no measurement,
    _FormatChanged if the music (not yet `decoded`) changed its format midway. `loop`,
    `decoded`: as `audio_args`."""
    args = audio_args(
        bed,
        music,
        Path("-"),
        loop_start=loop_start,
        measured=":print_format=json",
        loop=loop,
        decoded=decoded,
    )
    args = [*args[: args.index("-map")], "-map", "[a]", "-f", "null", "-"]
    err = _ffmpeg(args, timeout=timeout, check=check)
    if _GRAPH_REBUILT in err and not (decoded or loop_start):
        raise _FormatChanged
    found = re.findall(r"\{[^{}]*\"input_i\"[^{}]*\}", err)
    if not found:
        raise ValueError("loudnorm printed no measurement")
    m = json.loads(found[-1])
    values = [float(m[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh")]
    offset = float(m["target_offset"])
    if not all(math.isfinite(v) for v in [*values, offset]):
        return None  # digital silence: -inf LUFS
    i, tp, lra, thresh = values
    if not (-99 <= i <= 0 and -99 <= tp <= 99 and lra <= 99 and -99 <= thresh <= 0):
        # past what loudnorm takes as measured (a song louder than 0 LUFS, a square wave
        # at full scale: `measured_I` of +3.05 failed the compose, after every clip was
        # made): it adapts as it goes, and brings such a song down all the same
        return ""
    # loudnorm takes a measured range of exactly 0 (a steady tone) for "not given" and
    # adapts as it goes: a range that small is well within the target's
    lra = max(lra, 0.01)
    # and takes one gain only for a range within its target's (LOUDNORM's 11 LU): a song
    # of quiet verses and loud swells (19.5 LU) was compressed by ~7 dB instead and the
    # movie came out at -22 LUFS. The target range is the song's own, up to loudnorm's
    # 50 (LRA given again: the last one counts); its true peak still decides
    target_lra = min(50.0, max(11.0, round(lra, 2)))
    return (
        f":measured_I={i:.2f}:measured_TP={tp:.2f}:measured_LRA={lra:.2f}"
        f":measured_thresh={thresh:.2f}:offset={offset:.2f}:linear=true:LRA={target_lra:.2f}"
    )


def audio_track(bed: AudioBed, work_dir: Path) -> Path:
    """Where the movie's track is cached: by the bed's key."""
    return work_dir / "audio" / f"{bed.key}.m4a"


def bed_file(work_dir: Path) -> Path:
    """The built-in bed's cycle, made once per bed version."""
    return work_dir / "audio" / f"builtin-{BED_VERSION}.wav"


def prepare_audio(bed: AudioBed, work_dir: Path) -> None:
    """Synthesise the built-in bed `render_audio` will loop, if it will need it.

    ~0.05 s of numpy (four inverse FFTs): the compositor runs this while its encoders
    work, so the audio pass it queues behind them is only ffmpeg's.
    """
    out = audio_track(bed, work_dir)
    if bed.music is None and not (out.exists() and out.stat().st_size > 0):
        builtin_bed_cycle(bed_file(work_dir))


def silent_music_note(music: Path) -> str:
    """The warning for a `music:` file silent where the movie plays it (the movie's
    music is). Only that part is measured: a song whose sound begins after the movie's
    length was said to have "no sound in it"."""
    return (
        f"the movie's music is silent: {music} has no sound where the movie plays it "
        "(from its start, for the movie's length), so the movie plays without music. "
        "Name another file as music: in goals.yaml (or plan.yaml), or leave music out "
        "for the built-in one"
    )


def render_audio(
    bed: AudioBed,
    work_dir: Path,
    *,
    check: Callable[[], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Path:
    """The full-length AAC track at work_dir/audio/<key>.m4a (cached by the bed's key).
    `check` is called every ~0.25 s while an ffmpeg of it runs: what it raises (the
    compose stopped) kills that ffmpeg and goes up. `warn` is told, once, when the
    track made with a `music:` file is silence (`silent_music_note`): an all-silent
    song made a silent movie without a word. Told from the loudness pass's own answer,
    no extra decode; a track taken from the cache says nothing (said when it was made)."""
    out = audio_track(bed, work_dir)
    if out.exists() and out.stat().st_size > 0:
        return out
    make_dirs(out.parent)
    music = bed.music
    if music is None:
        # exactly periodic, so the looping input has no audible seam
        music = builtin_bed_cycle(bed_file(work_dir))
    elif not music.exists():
        raise FileNotFoundError(f"music file not found: {music}")
    normalise = bed.music is not None or bool(bed.clips)
    tmp = tmp_path_for(out)
    # a temp name: a render killed meanwhile leaves a hidden .tmp file the next one
    # removes (as a plain name it stayed, up to ~70 MB for 3 minutes, once its key went)
    looped = tmp_path_for(out.with_suffix(".loop.f32"))
    limit = AUDIO_TIMEOUT_BASE + AUDIO_TIMEOUT_PER_SECOND * bed.duration
    clock: Callable[[], float] = time.monotonic
    if check is not None:
        # the pass's time counted only while the render runs (Ctrl-Z then fg: a pause
        # as long as the limit failed the pass, "the music ... may be damaged"), looked
        # at each time its ffmpeg is (`_ffmpeg`'s watch asks `check` every 0.25 s)
        clock = awake = AwakeClock()
        stop = check

        def check() -> None:
            awake()
            stop()

    deadline = clock() + limit
    decoding = False  # the song's own decode (seamless_loop): only the music is read
    silent = False  # loudnorm measured digital silence (the whole track: music and clips)

    def decode(song: Path) -> tuple[int, bool]:
        """The song decoded to `looped`: (`seamless_loop`'s samples to skip, loop it)."""
        nonlocal decoding
        decoding = True
        left = max(1.0, deadline - clock())
        first = seamless_loop(song, bed.duration, looped, timeout=left, check=check)
        decoding = False
        short = looped.stat().st_size // 8 < round(bed.duration * SAMPLE_RATE)
        return first, first > 0 or short

    try:
        start = 0
        # a song that lasts the movie is played once, not looped (`audio_args`' `loop`)
        loop = bed.music is None
        may_end = bed.music is not None and (
            _may_loop(music, bed.duration) or not _lasts(music, bed.duration, limit)
        )
        if may_end:
            start, loop = decode(music)
        decoded = start > 0
        source = looped if decoded else music
        measured = ""
        if normalise:
            try:
                left = max(1.0, deadline - clock())
                try:
                    got = measure_loudness(
                        bed, source, loop_start=start, timeout=left, check=check, loop=loop
                    )
                except _FormatChanged:
                    # played from its own file the pass would come out longer than the
                    # movie: decoded to one format first, as a song that may end is
                    start, loop = decode(music)
                    source, decoded = looped, True
                    left = max(1.0, deadline - clock())
                    got = measure_loudness(
                        bed,
                        source,
                        loop_start=start,
                        timeout=left,
                        check=check,
                        loop=loop,
                        decoded=True,
                    )
            except (ValueError, KeyError):
                got = ""  # no measurement read: loudnorm adapts as it goes
            if got is None:
                normalise, silent = False, True  # silence: nothing to bring to the target
            else:
                measured = got
        args = audio_args(
            bed,
            source,
            tmp,
            normalise=normalise,
            loop_start=start,
            measured=measured,
            loop=loop,
            decoded=decoded,
        )
        try:
            _ffmpeg(args, timeout=max(1.0, deadline - clock()), check=check)
        except FFmpegError as e:
            # loudnorm measures digital silence as -inf LUFS: under its 3 s window its
            # gain is NaN, which the AAC encoder refuses ("Input contains (near) NaN"), so
            # a silent song in a movie under 3 s stopped the compose after every clip was
            # made. Silence needs no normalising: the pass again without it
            if not (normalise and "NaN" in str(e)):
                raise
            silent = True
            args = audio_args(
                bed, source, tmp, normalise=False, loop_start=start, loop=loop, decoded=decoded
            )
            _ffmpeg(args, timeout=max(1.0, deadline - clock()), check=check)
        commit_file(tmp, out)
        if silent and bed.music is not None and warn is not None:
            warn(silent_music_note(bed.music))
    except subprocess.TimeoutExpired:
        raise FFmpegError(
            f"the movie's sound was not made within {limit:.0f} s (it takes about a second "
            f"per 30 s of movie): the music {music} may be damaged; try another file"
        ) from None
    except FFmpegError as e:
        # input #0 is the music: a song damaged after goals.yaml's check (its packets no
        # longer decode) stops the pass; say which file, not only ffmpeg's log
        if bed.music is None or not (decoding or "ist#0:" in str(e)):
            raise
        raise FFmpegError(
            f"the movie's sound could not be made: the music {music} does not decode "
            f"(it may be damaged); try another file. {e}"
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
        looped.unlink(missing_ok=True)
    return out
