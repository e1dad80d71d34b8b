"""Parsing `ffmpeg -i` stream lines: the colour matrix tag, and how an untagged clip is read."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mindmovie.media import (
    _PIX_FMT,
    FFmpegError,
    StreamInfo,
    _matrix_tag,
    _transfer_tag,
    clip_hdr,
    clip_matrix,
    ffmpeg_path,
    music_problem,
    probe,
    run_ffmpeg,
)


@pytest.mark.parametrize(
    ("props", "tag"),
    [
        ("tv, bt709, progressive", "bt709"),
        ("tv, bt709/bt709/bt709", "bt709"),
        ("pc, smpte170m/unknown/unknown, progressive", "smpte170m"),
        ("tv, bt470bg/bt709/bt709", "bt470bg"),
        ("tv, unknown/bt709/bt709, progressive", ""),  # primaries only: no matrix tag
        ("progressive", ""),
        ("", ""),
    ],
)
def test_matrix_tag_is_read_from_the_stream_properties(props: str, tag: str) -> None:
    assert _matrix_tag(props) == tag


@pytest.mark.parametrize(
    ("props", "transfer", "hdr"),
    [
        ("tv, bt2020nc/bt2020/smpte2084, progressive", "smpte2084", "smpte2084"),  # PQ
        ("tv, bt2020nc/bt2020/arib-std-b67", "arib-std-b67", "arib-std-b67"),  # HLG
        ("tv, bt2020nc/bt2020/bt2020-10", "bt2020-10", ""),  # wide gamut, SDR
        ("tv, bt709, progressive", "bt709", ""),
        ("pc, smpte170m/unknown/unknown, progressive", "", ""),
        ("progressive", "", ""),
    ],
)
def test_an_hdr_transfer_is_read_from_the_stream_properties(
    props: str, transfer: str, hdr: str
) -> None:
    assert _transfer_tag(props) == transfer
    info = StreamInfo("video", "h264", 1920, 1080, pix_fmt="yuv420p10le", color_transfer=transfer)
    assert clip_hdr(info) == hdr


@pytest.mark.parametrize(
    ("w", "h", "tag", "read_as"),
    [
        (1280, 720, "", "bt709"),  # HD untagged: what players assume
        (720, 1280, "", "bt709"),  # portrait HD
        (1920, 1080, "", "bt709"),
        (854, 480, "", "smpte170m"),  # SD untagged: BT.601
        (720, 576, "", "smpte170m"),
        (1280, 720, "smpte170m", "smpte170m"),  # a tag always wins
        (640, 360, "bt709", "bt709"),
    ],
)
def test_an_untagged_clip_is_read_as_players_read_it(
    w: int, h: int, tag: str, read_as: str
) -> None:
    info = StreamInfo("video", "h264", w, h, pix_fmt="yuv420p", color_matrix=tag)
    assert clip_matrix(info) == read_as


@pytest.mark.parametrize("pix_fmt", ["gbrp", "rgb24", "bgr0", "gray", ""])
def test_an_rgb_or_gray_clip_has_no_matrix_to_choose(pix_fmt: str) -> None:
    """Read as RGB by both engines; a guessed BT.709 would make the reference 'fix' it."""
    assert clip_matrix(StreamInfo("video", "h264", 1280, 720, pix_fmt=pix_fmt)) == ""


def test_probe_reads_pixel_format_and_matrix_of_an_rgb_stream() -> None:
    m = _PIX_FMT.search(
        "Video: h264 (High 4:4:4 Predictive), gbrp(pc, gbr/unknown/unknown, progressive), "
    )
    assert m is not None and m[1] == "gbrp" and _matrix_tag(m[2]) == ""


def test_a_song_whose_container_does_not_say_its_length_is_music(tmp_path: Path) -> None:
    """A recording written as a stream (a browser's WebM, a live Matroska, a FLAC piped
    out of an encoder) has no duration in its header ('Duration: N/A'): probe took it
    for an unreadable file and goals.yaml refused it as not sound, though it plays."""
    song = tmp_path / "recording.webm"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=1.5", "-c:a", "libopus", "-live", "1",
                str(song)])  # fmt: skip
    info = probe(song)
    assert info.audio is not None and info.duration == 0.0  # not known
    assert music_problem(song) is None


def test_a_song_with_damaged_cover_art_is_music(tmp_path: Path) -> None:
    """An mp3 whose ID3 tag holds cover art its decoder cannot read (a tag editor's
    cut-short or mislabelled picture) plays: its sound is whole. ffmpeg's probe of the
    picture printed "Invalid data found when processing input", and probe took the
    whole file for unreadable: goals.yaml refused the song as "not a sound file ffmpeg
    can read". Only the cover's own decoder said so; the file is read, and played."""
    import struct

    from mindmovie.compose.audio import render_audio
    from mindmovie.compose.timeline import AudioBed

    plain = tmp_path / "plain.mp3"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=2", "-id3v2_version", "0", str(plain)])
    art = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # a JPEG's start, then no JPEG
    body = b"\x00image/jpeg\x00\x03\x00" + art
    frame = b"APIC" + struct.pack(">I", len(body)) + b"\x00\x00" + body
    size = bytes((len(frame) >> s) & 0x7F for s in (21, 14, 7, 0))  # ID3's synchsafe size
    song = tmp_path / "song.mp3"
    song.write_bytes(b"ID3\x03\x00\x00" + size + frame + plain.read_bytes())
    assert music_problem(song) is None
    track = render_audio(AudioBed(song, "sha", 1.5, 0.1, 0.1, (), "key"), tmp_path / "work")
    info = probe(track)
    assert info.audio is not None and abs(info.duration - 1.5) < 0.05
    junk = tmp_path / "junk.mp3"  # a tag and no sound: still no file ffmpeg reads
    junk.write_bytes(b"ID3" + bytes(range(256)) * 20)
    assert music_problem(junk) == "is not a sound file ffmpeg can read"


def test_a_pixel_aspect_set_by_the_container_is_the_one_read(tmp_path: Path) -> None:
    """A clip whose container gives a pixel aspect (an MP4 'pasp' box, Matroska's display
    size) other than its video stream's: ffmpeg shows it by the container's (as players
    do), printed after the stream's as ', SAR 32:27 DAR 16:9'. probe read the stream's
    '[SAR 1:1 ...]', so the reference engine covered with a 3:2 picture what the ffmpeg
    engine showed 16:9 (17.7 dB apart)."""
    square = tmp_path / "square.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=72x48:d=0.1", "-vf", "setsar=1",
                "-c:v", "libx264", "-pix_fmt", "yuv420p", str(square)])  # fmt: skip
    wide = tmp_path / "wide.mp4"
    run_ffmpeg(["-i", str(square), "-c", "copy", "-aspect", "16:9", str(wide)])
    video = probe(wide).video
    assert video is not None and abs(video.sar - 32 / 27) < 1e-9, video
    video = probe(square).video
    assert video is not None and video.sar == 1.0


def test_a_file_with_no_picture_or_sound_stream_is_an_answer_not_a_crash(
    tmp_path: Path,
) -> None:
    """Subtitles given as music (a Matroska file of them: 'Duration: 00:00:02.00',
    'Stream #0:0: Subtitle: ass', no video or audio line) crashed probe with a
    ValueError from its stream loop: a traceback on loading goals.yaml. A bare .srt
    ('Duration: N/A') and the first bytes of a faststart MP4 (a download cut short:
    'Duration: N/A' and no stream at all) are not readable files."""
    srt = tmp_path / "song.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:02,000\nHello\n")
    subs = tmp_path / "song.mkv"
    run_ffmpeg(["-i", str(srt), str(subs)])
    assert probe(subs).streams == []
    assert music_problem(subs) == "has no audio stream"
    assert music_problem(srt) == "is not a sound file ffmpeg can read"
    whole = tmp_path / "whole.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=64x36:d=0.2", "-c:v", "libx264",
                "-movflags", "+faststart", str(whole)])  # fmt: skip
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:100])
    with pytest.raises(FFmpegError, match="not a readable media file"):
        probe(cut)


def test_a_folder_named_with_a_colon_is_a_folder_to_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out take:2` (a relative folder whose name has a colon): ffmpeg read
    `take:2/clip.mp4` as the protocol `take` and every step failed, "Protocol not
    found". Inputs, outputs and probes under it are given to ffmpeg as absolute paths."""
    monkeypatch.chdir(tmp_path)
    Path("take:2").mkdir()
    clip, song = Path("take:2/clip.mp4"), Path("take:2/song.m4a")
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=64x36:r=8:d=1", "-pix_fmt", "yuv420p",
                str(clip)])  # fmt: skip
    run_ffmpeg(["-i", str(clip), "-f", "lavfi", "-i", "sine=d=1", "-map", "1:a",
                str(song)])  # fmt: skip
    assert probe(clip, count_frames=True).video_frames == 8
    assert music_problem(song) is None
    assert ffmpeg_path(clip) == str(tmp_path / "take:2" / "clip.mp4")
    # what is not a local path here is left as ffmpeg's to read
    for arg in ("pipe:1", "-", "sine=d=1", "anullsrc=r=48000:cl=stereo", "/a:b/c.mp4"):
        assert ffmpeg_path(arg) == arg


def test_clip_facts_are_the_bytes_facts_wherever_they_lie(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compositor's facts of a clip (has it sound, which YUV matrix) are remembered
    by its sha256: the same bytes at another path are not probed again, and other bytes
    written over the same path are (a regenerated clip with sound must be mixed in)."""
    from mindmovie import media
    from mindmovie.fsutil import sha256_file

    probed: list[Path] = []
    real_probe = media.probe

    def counting_probe(path: Path, **kw: bool) -> media.ProbeResult:
        probed.append(path)
        return real_probe(path, **kw)

    monkeypatch.setattr(media, "probe", counting_probe)
    monkeypatch.setattr(media, "_CLIP_FACTS", {})
    clip = tmp_path / "a" / "clip.mp4"
    clip.parent.mkdir()
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=64x36:r=8:d=0.5", "-pix_fmt", "yuv420p",
                str(clip)])  # fmt: skip
    assert media.clip_facts(clip, sha256_file(clip)) == (False, "smpte170m", "")
    copy = tmp_path / "b" / "clip.mp4"
    copy.parent.mkdir()
    copy.write_bytes(clip.read_bytes())
    assert media.clip_facts(copy, sha256_file(copy)) == (False, "smpte170m", "")
    assert probed == [clip]  # the same bytes: not probed again
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=64x36:r=8:d=0.5", "-f", "lavfi", "-i",
                "sine=d=0.5", "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-shortest",
                str(tmp_path / "c.mp4")])  # fmt: skip
    (tmp_path / "c.mp4").replace(clip)  # new bytes over the same path
    assert media.clip_facts(clip, sha256_file(clip)) == (True, "bt709", "")
    assert probed == [clip, clip]


def test_ffmpeg_is_checked_once_a_binary_and_a_failure_is_not_remembered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each render runs `ffmpeg -version` before it touches anything; a process that
    renders many times runs it once for the binary as it is on disk. A broken binary
    is refused each time, and the same path, mended, is checked again."""
    import os

    from mindmovie import media

    real = media.ffmpeg_exe()
    log = tmp_path / "runs.log"
    exe = tmp_path / "ffmpeg"
    exe.write_text("#!/bin/sh\necho broken >&2\nexit 1\n")
    exe.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))
    media.ffmpeg_exe.cache_clear()
    try:
        for _ in range(2):
            with pytest.raises(FFmpegError, match="broken"):
                media.check_ffmpeg()
        exe.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{real}" "$@"\n')
        for _ in range(3):
            media.check_ffmpeg()
        assert log.read_text() == "run\n"
        os.utime(exe, ns=(1, 1))  # replaced (another change time): checked again
        media.check_ffmpeg()
        assert log.read_text() == "run\nrun\n"
    finally:
        media.ffmpeg_exe.cache_clear()


def _stopped_once_started(proc: subprocess.Popen[bytes]) -> None:
    """Stop `proc` (SIGSTOP: it does not end on its own meanwhile) once /proc shows its
    command line. Popen returns when the exec has begun, and for a moment after that
    the kernel shows an empty command line (kill_orphans found nothing, ~1 run in 3 of
    tests/unit under xdist)."""
    import signal
    import time

    t_end = time.monotonic() + 10
    exe = os.fsencode(proc.args[0])  # type: ignore[index]
    while not Path(f"/proc/{proc.pid}/cmdline").read_bytes().startswith(exe):
        assert time.monotonic() < t_end, "the ffmpeg never showed its command line"
        time.sleep(0.005)
    proc.send_signal(signal.SIGSTOP)


def _pids_writing(path: Path) -> list[int]:
    """The processes whose command line names `path` (/proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if os.fsencode(path) in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_long_encoder_dies_with_a_render_killed_outright(tmp_path: Path) -> None:
    """A render SIGKILLed (or killed by the OOM killer) left its compose encoders
    running on their own, a core each, for up to a minute (seen after `kill -9` during
    compose); only the next render of the run stopped them. Started by
    `run_ffmpeg_watched` (here from a pool thread, as the compose pool does), an encoder
    now ends with the process that started it."""
    import signal
    import subprocess
    import time

    out = tmp_path / "long.wav"
    child = (
        "import sys\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from mindmovie.media import run_ffmpeg_watched\n"
        "args = ['-re', '-f', 'lavfi', '-i', 'anullsrc', '-t', '120', '-f', 'wav', sys.argv[1]]\n"
        "with ThreadPoolExecutor(1) as pool:\n"
        "    pool.submit(run_ffmpeg_watched, args, lambda: None).result()\n"
    )
    render = subprocess.Popen([sys.executable, "-c", child, str(out)])
    try:
        t_end = time.monotonic() + 30
        while not (encoders := [pid for pid in _pids_writing(out) if pid != render.pid]):
            assert render.poll() is None and time.monotonic() < t_end, "no encoder started"
            time.sleep(0.02)
        render.send_signal(signal.SIGKILL)
        render.wait()
        t_end = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in encoders):
            # (reparented to init, which reaps it; a zombie is gone from its cmdline)
            still = [pid for pid in encoders if pid in _pids_writing(out)]
            if not still:
                break
            assert time.monotonic() < t_end, f"encoder {still} still running"
            time.sleep(0.05)
    finally:
        render.kill()
        render.wait()
        for pid in _pids_writing(out):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
def test_kill_orphans_kills_only_the_killed_render_s_encoders_in_its_run(tmp_path: Path) -> None:
    """`kill_orphans` (a render killed outright left its encoders running) takes only an
    ffmpeg writing a temp file of the killed render's pid in the run folder, or into a
    compose chunk's folder of its pid (the long encoders: missed before): not a
    person's own ffmpeg writing in the run folder, nor one writing such a name
    elsewhere, nor another pid's."""
    import os
    import signal
    import subprocess

    from mindmovie.media import ffmpeg_exe, kill_orphans

    run = tmp_path / "run"
    (run / "compose").mkdir(parents=True)
    segments = run / "compose" / "segments"
    for chunk in (".chunk-4242-k1ll3d", ".chunk-4343-l1v3"):
        (segments / chunk).mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    feed = ["-f", "lavfi", "-i", "anullsrc", "-t", "60", "-f", "wav"]
    outputs = {
        "theirs": str(run / "compose" / ".seg.mp4.4242.tmp.mp4"),  # relative below
        "a person's": str(run / "mine.wav"),
        "elsewhere": str(elsewhere / ".seg.mp4.4242.tmp.mp4"),
        "another pid": str(run / "compose" / ".seg.mp4.4343.tmp.mp4"),
        "their chunk": str(segments / ".chunk-4242-k1ll3d" / "000.mp4"),
        "another pid's chunk": str(segments / ".chunk-4343-l1v3" / "000.mp4"),
    }
    procs = {}
    for name, out in outputs.items():
        procs[name] = subprocess.Popen(
            [ffmpeg_exe(), "-nostdin", "-y", *feed, os.path.relpath(out, tmp_path)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    try:
        for p in procs.values():
            _stopped_once_started(p)
        killed = kill_orphans(run, 4242)
        ours = ("theirs", "their chunk")
        assert sorted(killed) == sorted(procs[n].pid for n in ours), killed
        assert all(procs[n].wait(timeout=10) == -signal.SIGKILL for n in ours)
        assert all(p.poll() is None for n, p in procs.items() if n not in ours)
    finally:
        for p in procs.values():
            p.kill()
            p.wait()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
def test_kill_orphans_finds_an_encoder_that_wrote_through_a_symlinked_folder(
    tmp_path: Path,
) -> None:
    """The killed render was given its run folder through a symbolic link (`--out
    /data/movies/run`, /data a link) and the next one by another way (the real folder):
    the encoder's output, an absolute path through the link, is in the run folder all
    the same. Compared as written only, it was not, and the encoder was left running."""
    import os
    import signal
    import subprocess

    from mindmovie.media import ffmpeg_exe, kill_orphans

    real = tmp_path / "disk"
    (real / "run" / "compose").mkdir(parents=True)
    (tmp_path / "data").symlink_to(real, target_is_directory=True)
    out = tmp_path / "data" / "run" / "compose" / ".seg.mp4.4242.tmp.mp4"
    feed = ["-f", "lavfi", "-i", "anullsrc", "-t", "60", "-f", "wav"]
    proc = subprocess.Popen(
        [ffmpeg_exe(), "-nostdin", "-y", *feed, str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _stopped_once_started(proc)
        assert kill_orphans(real / "run", 4242) == [proc.pid]
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()
    assert os.path.realpath(out.parent) == str(real / "run" / "compose")


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
def test_kill_orphans_finds_a_chunk_encoder_of_a_run_folder_named_with_a_percent(
    tmp_path: Path,
) -> None:
    """A compose chunk's encoder is given its output as a segment-muxer pattern, a % of
    the run folder's path written %% (`compose.ffmpeg._run_chunk`): `--out "100% me"`.
    Read as written, the path named no folder inside the run's, and the encoder a
    killed render left was not stopped."""
    import signal
    import subprocess

    from mindmovie.media import ffmpeg_exe, kill_orphans

    run = tmp_path / "100% me"
    chunk = run / "compose" / "segments" / ".chunk-4242-k1ll3d"
    chunk.mkdir(parents=True)
    pattern = str(chunk).replace("%", "%%") + "/%03d.wav"
    feed = ["-f", "lavfi", "-i", "anullsrc", "-t", "60", "-f", "segment"]
    proc = subprocess.Popen(
        [ffmpeg_exe(), "-nostdin", "-y", *feed, pattern],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _stopped_once_started(proc)
        assert kill_orphans(run, 4242) == [proc.pid]
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(("watched", "folder"), [(False, "out"), (True, "100% me")])
def test_an_ffmpeg_failed_on_a_full_disk_is_said_to_be_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, watched: bool, folder: str
) -> None:
    """A segment encoder out of space on a nearly full disk ended "Conversion failed!"
    (or was killed by SIGSEGV) with no word of the disk in its log's tail: the render
    said the compose failed and sent the person to `mindmovie doctor` (found 1 time in 2
    to 10 on a filled tmpfs). A failure where it writes has under LOW_FREE_BYTES free
    says so, and is the disk's (`is_disk_full`); with room, it is not. A segment
    muxer's pattern names its folder with "%" written "%%" (a run folder `100% me`):
    that folder is looked at."""
    import shutil

    from mindmovie import media
    from mindmovie.media import FFmpegError, run_ffmpeg_watched
    from mindmovie.pipeline import is_disk_full

    real = shutil.disk_usage
    out = tmp_path / folder / "x.mp4"
    out.parent.mkdir()
    # (it fails: no such input), writing a file or (watched) a segment muxer's pattern
    written = str(out.parent).replace("%", "%%") + "/%03d.mp4" if watched else str(out)
    args = ["-i", str(tmp_path / "missing.mp4"), "-c", "copy", written]
    for free, full in ((media.LOW_FREE_BYTES, False), (media.LOW_FREE_BYTES - 1, True)):

        def usage(path: Any, free: int = free) -> Any:
            assert Path(path) == out.parent, path  # (the disk it writes to)
            return real(path)._replace(free=free)

        monkeypatch.setattr(media.shutil, "disk_usage", usage)
        with pytest.raises(FFmpegError) as e:
            if watched:
                run_ffmpeg_watched(args, lambda: None)
            else:
                run_ffmpeg(args)
        assert is_disk_full(e.value) == full, e.value
        assert ("KB free where it writes" in str(e.value)) == full, e.value
