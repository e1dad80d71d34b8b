"""ffmpeg access: the binary imageio-ffmpeg ships, and a probe without ffprobe.

imageio-ffmpeg ships ffmpeg but not ffprobe, so probing parses `ffmpeg -i` and counts
frames with a stream-copy pass to the null muxer. No system package is needed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


class FFmpegError(RuntimeError):
    """ffmpeg exited non-zero; carries the tail of its log for the message, and its exit
    status (`returncode`, negative: the signal that killed it) when it ran."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


def file_size_limit() -> int | None:
    """This process's file size limit in bytes (`ulimit -f`, RLIMIT_FSIZE), None when
    there is none: the ffmpeg it starts inherits it."""
    try:
        import resource
    except ImportError:  # (not on Windows)
        return None
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def killed_by(signum: int) -> str:
    """Why an ffmpeg that ended of signal `signum` did, for the person: its log ends
    wherever the signal found it ("Auto-inserting h264_mp4toannexb bitstream filter",
    "Opening '...001.mp4' for writing"), which says nothing of it."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if name == "SIGXFSZ":
        limit = file_size_limit()
        size = "" if limit is None else f", {limit:,} bytes"
        return (
            f"killed by SIGXFSZ: a file it wrote reached the file size limit (`ulimit -f`"
            f"{size}); raise it (`ulimit -f unlimited`)"
        )
    if name == "SIGKILL":
        return "killed by SIGKILL (sent by another process, or by the system short of memory)"
    return f"killed by {name}"


#: what ffmpeg reads as a protocol name before a colon (libavformat's URL_SCHEME_CHARS)
_SCHEME = re.compile(r"[A-Za-z0-9+.-]+:")


def ffmpeg_path(path: str | Path) -> str:
    """A path as ffmpeg must be given it: a relative one whose first folder has a colon
    (`--out take:2`) made absolute.

    ffmpeg reads `take:2/clip.mp4` as the protocol `take` ("Protocol not found"); a path
    that exists here, or whose folder does, is given as `/abs/take:2/clip.mp4`. Other
    paths, `pipe:1`, `-` and filter sources come back as they are.
    """
    arg = str(path)
    if not _SCHEME.match(arg):
        return arg
    parent = os.path.dirname(arg)
    if os.path.exists(arg) or (parent and os.path.isdir(parent)):
        return os.path.abspath(arg)
    return arg


def _command(args: list[str]) -> list[str]:
    """ffmpeg's command line: its inputs and its output are local files, never URLs."""
    paths = [
        ffmpeg_path(a) if (i and args[i - 1] == "-i") or i == len(args) - 1 else a
        for i, a in enumerate(args)
    ]
    exe = ffmpeg_exe()
    # a relative IMAGEIO_FFMPEG_EXE (`bin/ffmpeg`) is the working folder's: made absolute,
    # as a run in another folder (`run_ffmpeg(cwd=)`, the final mux) looks for it there
    if os.sep in exe and not os.path.isabs(exe):
        exe = os.path.abspath(exe)
    return [exe, "-hide_banner", "-nostdin", "-y", *paths]


#: prctl's option that has the kernel signal a process when its parent thread ends
_PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, found once (Linux only; None elsewhere or if it cannot be found)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return cast("Callable[..., int]", ctypes.CDLL(None, use_errno=True).prctl)
    except (OSError, AttributeError):
        return None


def dies_with_this_process() -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel SIGKILL the child when the thread that
    starts it ends (PR_SET_PDEATHSIG; Linux; None elsewhere): a render killed outright
    (SIGKILL, the OOM killer) left its compose encoders running for up to a minute,
    a core each, until the next render of the run stopped them (`kill_orphans`, which
    stays for the other systems). The long encoders only (`run_ffmpeg_watched`): it
    costs a fork instead of a vfork. The threads that start them (the compose pool's,
    asyncio's workers) live until their work is done; a parent gone before the call
    took effect is checked for."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # (ended before the line above took effect)
            os._exit(137)

    return preexec


#: the ffmpeg processes this process started that run now, by pid (`running`)
_running: dict[int, subprocess.Popen[bytes]] = {}


@contextlib.contextmanager
def running(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Hold `proc` (an ffmpeg just started) in the list `kill_running` ends, until the
    block ends; the block waits for it (reaps it) before it ends."""
    _running[proc.pid] = proc
    try:
        yield proc
    finally:
        _running.pop(proc.pid, None)


def kill_running() -> None:
    """SIGKILL every ffmpeg this process started that still runs: called by a render
    that quits at once (`os._exit`, no cleanup: a second stop signal, SIGQUIT), whose
    compose encoders were left running as orphans, writing for minutes after it ended.
    Safe in a signal handler: it takes no lock and starts nothing (`tuple` of a dict is
    one step under the GIL)."""
    for pid in tuple(_running):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def chunk_dir_prefix(pid: int) -> str:
    """The name a compose chunk's working folder starts with (`compose.ffmpeg`), made
    by render `pid`: its encoder's output names no other temp file, so `kill_orphans`
    knows a killed render's chunk encoders by it."""
    return f".chunk-{pid}-"


def kill_orphans(run_dir: Path, dead_pid: int) -> list[int]:
    """SIGKILL the ffmpeg processes a render of `run_dir` killed outright (SIGKILL, the
    OOM killer: no handler runs, so `kill_running` does not) left running: its compose
    encoders went on writing for minutes, taking the cores (and, after an OOM kill, the
    memory) the next render of the run needs, and their file was deleted under them by
    its clean-up. Called by the next render once it holds the run's lock, with the pid
    the lock file named (the killed render: the lock was free, so it has ended). Such an
    encoder is known by its output, a temp name that render made in the run folder
    (`fsutil.tmp_path_for`: `.NAME.PID.tmp.EXT`), or a file in a compose chunk's folder
    named with its pid (`chunk_dir_prefix`: the long encoders, a core each): no other
    process is touched, e.g. a person's own ffmpeg reading the run's movie. Linux
    (/proc) only; elsewhere nothing is found. Returns the pids killed."""
    if dead_pid <= 0 or dead_pid == os.getpid():
        return []
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
        homes = {Path(os.path.abspath(run_dir)), run_dir.resolve()}
    except OSError:
        return []
    mark, chunk = f".{dead_pid}.tmp", chunk_dir_prefix(dead_pid)
    killed = []
    for entry in entries:
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if not args or not os.path.basename(args[0]).startswith(b"ffmpeg"):
                continue
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue  # ended meanwhile, or another user's
        for raw in args[1:]:
            arg = os.fsdecode(raw)
            if mark in Path(arg).name:
                pass
            elif Path(arg).parent.name.startswith(chunk):
                # a segment-muxer pattern (`compose.ffmpeg._run_chunk`): the path's %
                # written %% (`--out "100% me"`: read as written, not in the run folder)
                arg = arg.replace("%%", "%")
            else:
                continue
            # as written, and with its links followed: the killed render may have been
            # given the run folder through a link, this one by another way
            wrote = os.path.abspath(cwd / arg)
            where = {Path(wrote), Path(os.path.realpath(wrote))}
            if any(home in w.parents for home in homes for w in where):
                with contextlib.suppress(OSError):
                    os.kill(int(entry.name), signal.SIGKILL)
                    killed.append(int(entry.name))
                break
    return killed


def run_ffmpeg(
    args: list[str],
    *,
    timeout: float | None = None,
    input: bytes | None = None,
    cwd: Path | None = None,
) -> str:
    """Run ffmpeg quietly; raise FFmpegError with the log tail on failure. Returns stderr.
    `cwd`: the folder it runs in (relative paths in `args` are read from there)."""
    cmd = _command(args)
    if input is not None:
        cmd.remove("-nostdin")
    stdin = None if input is None else subprocess.PIPE
    with (
        subprocess.Popen(
            cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd
        ) as proc,
        running(proc),
    ):
        try:
            _, err = proc.communicate(input, timeout=timeout)
        except BaseException:  # a timeout, an interrupt: as subprocess.run, not left running
            proc.kill()
            proc.wait()
            raise
    return _checked(proc.returncode, err, lambda: _full_where(args, cwd))


#: lines of an ffmpeg log tail that say nothing of why it failed: an encoder's closing
#: statistics (x264 writes ~15, the whole tail kept), indented stream listings, progress
_NOT_A_CAUSE = re.compile(
    r"^\s|^\[(?:libx264|aac) @ [^\]]*\] (?!.*(?:[Ee]rror|failed|[Ii]nvalid))"
    r"|^(?:frame|size)=|^(?:Input|Output) #\d"
)


def failure_line(e: FFmpegError) -> str:
    """`e` as one line for the person: `ffmpeg failed (N): <cause>; Conversion failed!`,
    the log lines that may say why joined with "; ". An ffmpeg that failed while it
    encoded ended its log with the encoder's statistics, and the render printed them as a
    traceback of fifteen lines of `[libx264 @ 0x...] mb P I16..4: ...`."""
    text = str(e)
    head, sep, tail = text.partition("): ")
    if not (sep and head.startswith("ffmpeg failed (")):
        return "; ".join(ln.strip() for ln in text.splitlines() if ln.strip())
    said = [ln.strip() for ln in tail.splitlines() if ln.strip() and not _NOT_A_CAUSE.match(ln)]
    return f"{head}): " + ("; ".join(said) or "(no reason in its log)")


#: free space under which, where it writes, an ffmpeg that failed is taken to have
#: failed for want of it
LOW_FREE_BYTES = 1_000_000


def _full_where(args: list[str], cwd: Path | None) -> str:
    """A line saying the disk ffmpeg writes its output to (its last argument) is full,
    "" when it is not (or no file is written). An encoder out of space on a nearly full
    disk often says nothing of it in its log's tail (a segment encoder ended "Conversion
    failed!", or was killed by SIGSEGV): the compose was said to have failed, with
    `doctor` to check ffmpeg, instead of the disk being full."""
    last = args[-1] if args else "-"
    if last == "-" or last.startswith(("-", "pipe:")):
        return ""
    folder = Path(last).parent
    if not folder.is_absolute() and cwd is not None:
        folder = cwd / folder
    if "%%" in str(folder) and not folder.is_dir():
        # a segment muxer's pattern, its folder's own "%" written "%%" (a run folder
        # `100% me`): the folder was not found, and the full disk not said
        folder = Path(str(folder).replace("%%", "%"))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return ""
    if free >= LOW_FREE_BYTES:
        return ""
    return f"\nNo space left on device ({free // 1024} KB free where it writes)"


def _checked(returncode: int, stderr: bytes, full: Callable[[], str] = str) -> str:
    """ffmpeg's log, or FFmpegError for its failure. `full`: says when the disk it
    writes to is full (`_full_where`), asked only of a failure."""
    err = stderr.decode("utf-8", "replace")
    if returncode < 0:
        raise FFmpegError(
            f"ffmpeg failed ({returncode}): {killed_by(-returncode)}{full()}", returncode
        )
    if returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-15:])
        raise FFmpegError(f"ffmpeg failed ({returncode}): {tail}{full()}", returncode)
    return err


#: how long a watched ffmpeg (the compose's encoders, its audio pass, the final join)
#: may run without progress before it is killed: its progress report (`frame=`, `size=`,
#: `time=`, written every 0.5 s) unchanged, its log no longer, and (Linux) nothing more
#: read or written but its log (`_progress`). A stopped ffmpeg
#: (SIGSTOP), or one blocked for good (a disk or network folder that does not answer),
#: held the render for ever. Counted only while this process runs (Ctrl-Z stops the
#: encoders with it: a pause is no stall). Generous: the longest legitimate wait for a
#: first report to change is an encoder's lookahead filling (~50 frames of a 1080p
#: "high" chunk before its first frame comes out, seconds even on a busy core).
STALL_SECONDS = 300.0

#: the most one look of the watch adds to the time counted without progress: a gap
#: longer than this between two looks is this process stopped (Ctrl-Z, SIGSTOP) or
#: starved, not ffmpeg stalling
_MAX_LOOK_GAP = 2.0


class AwakeClock:
    """Seconds this process has run since the clock was made, without the time it was
    stopped (Ctrl-Z then `fg`, SIGSTOP then SIGCONT), for time limits a pause must not
    use up: each look adds the time since the last, at most `_MAX_LOOK_GAP`, so it is
    to be looked at often (each watch of a running ffmpeg). The monotonic clock runs on
    while the process is stopped: a render paused with Ctrl-Z for longer than its
    audio pass's limit failed that pass at `fg`, blaming the music."""

    def __init__(self) -> None:
        self._last = time.monotonic()
        self._awake = 0.0

    def __call__(self) -> float:
        now = time.monotonic()
        self._awake += min(max(0.0, now - self._last), _MAX_LOOK_GAP)
        self._last = now
        return self._awake


_REPORT = re.compile(rb"(frame|size|time)=\s*(\S+)")


def _io_done(pid: int, logged: int) -> int | None:
    """The bytes ffmpeg `pid` has read and written but for its log (`logged` bytes):
    Linux's /proc/PID/io (rchar + wchar); None where it cannot be read. Its reports
    are left out, as they are written also by an ffmpeg whose work is stuck."""
    try:
        with open(f"/proc/{pid}/io", "rb") as f:
            counts = dict(line.split(b":", 1) for line in f.read().splitlines() if b":" in line)
        return int(counts[b"rchar"]) + int(counts[b"wchar"]) - logged
    except (OSError, KeyError, ValueError):
        return None


def _progress(log: int, pid: int) -> object:
    """What shows ffmpeg's progress (its log the open file `log`): the fields of its
    last progress report that move only with its work, or, before the first report, the
    log's length; and what it has read and written (`_io_done`). `elapsed=` and
    `speed=` change in every report, also in one written by an ffmpeg whose work is
    stuck (its main thread reports on its own). The final mux's `+faststart` second
    pass rewrites the whole movie after the last report, writing none: on a slow disk
    it was taken for a stall, and ended, by its reports alone."""
    size, io = -1, None
    for _ in range(3):  # (a report written between the two reads is not progress)
        was, size = size, os.fstat(log).st_size
        if size == was:
            break
        io = _io_done(pid, size)
    tail = os.pread(log, 1024, max(0, size - 1024))
    for report in reversed(re.split(rb"[\r\n]+", tail)):
        fields = _REPORT.findall(report)
        if fields:
            return tuple(fields), io
    return size, io


def run_ffmpeg_watched(
    args: list[str], watch: Callable[[], None], every: float = 0.2, *, cwd: Path | None = None
) -> str:
    """`run_ffmpeg`, calling `watch()` every `every` seconds while ffmpeg runs (in this
    thread), e.g. to pick up output files as ffmpeg finishes them. If `watch` raises,
    ffmpeg is killed and the error goes up; so it is, as an FFmpegError, once it has
    made no progress for STALL_SECONDS. `cwd`: as `run_ffmpeg`'s."""
    cmd = _command(args)
    with tempfile.TemporaryFile() as log:  # a file, not a pipe: nothing to drain meanwhile
        with (
            subprocess.Popen(
                cmd,
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=cwd,
                preexec_fn=dies_with_this_process(),  # (its docstring: why, and its cost)
            ) as proc,
            running(proc),
        ):
            try:
                awake = AwakeClock()
                seen, since = _progress(log.fileno(), proc.pid), awake()
                while True:
                    try:
                        proc.wait(timeout=every)
                        break
                    except subprocess.TimeoutExpired:
                        watch()
                    now, mark = awake(), _progress(log.fileno(), proc.pid)
                    if mark != seen:
                        seen, since = mark, now
                    elif now - since > STALL_SECONDS:
                        raise FFmpegError(
                            f"ffmpeg made no progress for {STALL_SECONDS:.0f} s (stopped, or "
                            "waiting on a disk or network folder that does not answer), and "
                            "was ended"
                        )
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        log.seek(0)
        return _checked(proc.returncode, log.read(), lambda: _full_where(args, cwd))


@dataclass
class StreamInfo:
    kind: str  # "video" | "audio"
    codec: str
    width: int = 0
    height: int = 0
    fps: float = 0.0
    pix_fmt: str = ""
    #: the stream's colour matrix tag (e.g. "bt709", "smpte170m"); "" when untagged
    color_matrix: str = ""
    #: the stream's transfer tag (e.g. "bt709", "smpte2084"); "" when untagged
    color_transfer: str = ""
    sample_rate: int = 0
    #: the display matrix's rotation in degrees (side data; 0 when none): a phone's
    #: portrait clip is stored landscape and shown turned (ffmpeg turns it on decode)
    rotation: float = 0.0
    #: sample (pixel) aspect ratio, width / height of one stored pixel: 1 unless the
    #: clip is anamorphic (e.g. 720x480 at 32:27 is shown 16:9)
    sar: float = 1.0


@dataclass
class ProbeResult:
    #: seconds, as the container says; 0.0 when it does not ("Duration: N/A")
    duration: float
    streams: list[StreamInfo]
    video_frames: int | None = None

    @property
    def video(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "video"), None)

    @property
    def audio(self) -> StreamInfo | None:
        return next((s for s in self.streams if s.kind == "audio"), None)


_DUR = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #\d+:\d+(?:\[\w+\])?(?:\(\w+\))?: (Video|Audio): (\w+)(.*)")


#: colour matrices ffmpeg's `setparams=colorspace=` accepts, as `ffmpeg -i` prints them
MATRICES = frozenset(
    [
        "bt709",
        "fcc",
        "bt470bg",
        "smpte170m",
        "smpte240m",
        "ycgco",
        "bt2020nc",
        "bt2020c",
        "smpte2085",
        "chroma-derived-nc",
        "chroma-derived-c",
        "ictcp",
    ]
)


#: a video stream's pixel format, and its "(range, matrix/primaries/transfer, ...)" part
_PIX_FMT = re.compile(r", ((?:yuv|nv|p0|p2|rgb|bgr|gbr|argb|abgr|gray|ya)\w*)(?:\(([^)]*)\))?")


def _matrix_tag(props: str) -> str:
    """The colour matrix in a stream's "(tv, bt709/bt709/bt709, progressive)" part."""
    for token in props.split(","):
        name = token.strip().split("/")[0]
        if name in MATRICES:
            return name
    return ""


#: HDR transfers (PQ, HLG): a clip tagged with one is tone mapped to BT.709 SDR
HDR_TRANSFERS = frozenset(["smpte2084", "arib-std-b67"])


def _transfer_tag(props: str) -> str:
    """The transfer in a stream's "(tv, bt2020nc/bt2020/smpte2084, ...)" part: the
    third of "matrix/primaries/transfer", or the one name ffmpeg prints when all three
    are the same ("bt709")."""
    for token in props.split(","):
        parts = token.strip().split("/")
        if len(parts) == 3:
            return parts[2] if parts[2] != "unknown" else ""
        if parts[0] in MATRICES:
            return parts[0]
    return ""


def clip_hdr(info: StreamInfo) -> str:
    """The clip's HDR transfer ("smpte2084" or "arib-std-b67"), "" for SDR."""
    return info.color_transfer if info.color_transfer in HDR_TRANSFERS else ""


#: the filters `compose.ffmpeg.hdr_to_sdr` tone maps an HDR clip with (zscale needs
#: ffmpeg built with zimg: imageio-ffmpeg's is; a system ffmpeg may not be)
HDR_FILTERS = ("zscale", "tonemap")


def hdr_filters_missing() -> tuple[str, ...]:
    """Which of HDR_FILTERS the ffmpeg in use lacks (asked once a process for a binary)."""
    return _filters_missing(ffmpeg_exe(), HDR_FILTERS)


@functools.lru_cache(maxsize=8)
def _filters_missing(exe: str, names: tuple[str, ...]) -> tuple[str, ...]:
    try:
        listing = subprocess.run(
            [exe, "-hide_banner", "-filters"], capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    have = set(re.findall(r"^\s*[TSC.|]{2,3}\s+(\S+)", listing, re.M))
    return tuple(n for n in names if n not in have)


def clip_matrix(info: StreamInfo) -> str:
    """The matrix a clip's YUV should be read with: its tag, else what players assume.

    Untagged video is read as BT.709 from HD sizes up and BT.601 below (mpv's rule:
    width >= 1280 or height > 576), which is how a person saw the clip. ffmpeg's own
    default for untagged YUV is BT.601 at every size, which shifts an HD clip's colours
    when it is converted to our BT.709 output.
    """
    if info.color_matrix:
        return info.color_matrix
    if not info.pix_fmt.startswith(("yuv", "nv", "p0", "p2")):
        return ""  # RGB, gray or not known: there is no YUV matrix to choose
    return "bt709" if info.width >= 1280 or info.height > 576 else "smpte170m"


#: `clip_facts` by the clip's sha256 (facts of the bytes, wherever they lie); bounded
_CLIP_FACTS: dict[str, tuple[bool, str, str]] = {}


def clip_facts(path: Path, sha256: str) -> tuple[bool, str, str]:
    """What the compositor needs to know of a clip: (has an audio stream, `clip_matrix`,
    `clip_hdr`).
    Remembered by the clip's sha256 for the process: each compose probed every clip, a
    resumed render with nothing to redo included, ~18 ms of ffmpeg each."""
    facts = _CLIP_FACTS.get(sha256)
    if facts is None:
        info = probe(path)
        v = info.video
        facts = (info.audio is not None, clip_matrix(v) if v else "", clip_hdr(v) if v else "")
        if len(_CLIP_FACTS) >= 1024:
            _CLIP_FACTS.clear()
        _CLIP_FACTS[sha256] = facts
    return facts


def check_ffmpeg() -> None:
    """ffmpeg is there and runs (`ffmpeg -version`): FFmpegError, OSError or imageio's
    RuntimeError if not. Run once a process for the binary as it is on disk (its path,
    size and change time): a process that renders many times ran it before each render.
    A failure is not remembered: the next call tries again."""
    exe = ffmpeg_exe()
    st = os.stat(exe)
    _ffmpeg_runs(exe, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _ffmpeg_runs(exe: str, size: int, mtime_ns: int) -> None:
    run_ffmpeg(["-version"])


def probe(path: Path, *, count_frames: bool = False) -> ProbeResult:
    """Duration and streams of a media file; with count_frames, the exact video frame count."""
    if not path.exists() or path.stat().st_size == 0:
        raise FFmpegError(f"{path}: missing or empty")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", ffmpeg_path(path)], capture_output=True
    )
    text = proc.stderr.decode("utf-8", "replace")
    m = _DUR.search(text)
    # "Duration: N/A": a file written as a stream (a browser's WebM recording, a live
    # Matroska, a piped FLAC) does not say its length, yet plays: its duration is 0.0
    if not (m or "Duration: N/A" in text):
        raise FFmpegError(f"{path}: not a readable media file")
    duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) if m else 0.0
    streams: list[StreamInfo] = []
    found = list(_STREAM.finditer(text))
    if not (m or found):  # no length and nothing to show: the head of a cut-short MP4
        raise FFmpegError(f"{path}: not a readable media file")
    if _invalid_data(text, found):
        raise FFmpegError(f"{path}: not a readable media file")
    for i, sm in enumerate(found):  # none for a file of subtitles only
        kind, codec, rest = sm[1].lower(), sm[2], sm[3]
        # the stream's own metadata and side data lines, up to the next stream
        own = text[sm.end() : found[i + 1].start() if i + 1 < len(found) else len(text)]
        info = StreamInfo(kind=kind, codec=codec)
        if kind == "video":
            size = re.search(r"(\d{2,5})x(\d{2,5})", rest)
            if size:
                info.width, info.height = int(size[1]), int(size[2])
            fps = re.search(r"([\d.]+) fps", rest)
            if fps:
                info.fps = float(fps[1])
            pf = re.search(_PIX_FMT, rest)
            if pf:
                info.pix_fmt = pf[1]
                info.color_matrix = _matrix_tag(pf[2] or "")
                info.color_transfer = _transfer_tag(pf[2] or "")
            # the stream's "[SAR 1:1 DAR 3:2]", then the container's ", SAR 32:27 DAR
            # 16:9" when it differs: ffmpeg (and players) show the picture by the last
            sars = re.findall(r"SAR (\d+):(\d+) DAR", rest)
            num, den = (int(sars[-1][0]), int(sars[-1][1])) if sars else (0, 0)
            if num > 0 and den > 0:
                info.sar = num / den
            rot = re.search(r"rotation of (-?[\d.]+) degrees", own)
            if rot:
                info.rotation = float(rot[1])
        else:
            sr = re.search(r"(\d+) Hz", rest)
            if sr:
                info.sample_rate = int(sr[1])
        streams.append(info)
    frames = (
        count_video_frames(path)
        if count_frames and any(s.kind == "video" for s in streams)
        else None
    )
    return ProbeResult(duration=duration, streams=streams, video_frames=frames)


def _invalid_data(text: str, streams: list[re.Match[str]]) -> bool:
    """Whether `ffmpeg -i` said the file holds invalid data, but for an attached
    picture's decoder: a song's cover art it cannot read ("[mjpeg @ ...] unable to
    decode APP fields: Invalid data found") is not the song, which plays; taken for
    the file's, goals.yaml refused the song as "not a sound file ffmpeg can read"."""
    art = tuple(f"[{sm[2]} @" for sm in streams if "(attached pic)" in sm[3])
    return any(
        "Invalid data" in line and not (art and line.startswith(art)) for line in text.splitlines()
    )


def count_video_frames(path: Path) -> int:
    """Exact number of video frames, by a stream-copy pass to the null muxer."""
    err = run_ffmpeg(["-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"])
    found = re.findall(r"frame=\s*(\d+)", err)
    if not found:
        raise FFmpegError(f"{path}: could not count frames")
    return int(found[-1])


def audio_packet_seconds(path: Path, limit: float, *, timeout: float | None = None) -> float:
    """Seconds the first audio stream's packets last, read up to `limit` seconds, by a
    stream-copy pass to the null muxer (no decode: ~0.5 s for a 30-minute mp3). The
    header's duration can be far off: a VBR mp3 without a Xing header said 71 s of a
    40 s song (estimated from its first bitrate). ffmpeg's `time=` counts from the
    file's start: a sound that starts later (a music video's, 2 s after its picture) has
    that much taken off, or 20 s of sound were taken for 22 s."""
    late = 0.0
    for _ in range(2):
        err = run_ffmpeg(
            ["-i", str(path), "-map", "0:a:0", "-t", f"{limit + late:.6f}", "-c", "copy",
             "-f", "null", "-"],
            timeout=timeout,
        )  # fmt: skip
        found = re.findall(r"time=\s*(\d+):(\d+):(\d+(?:\.\d+)?)", err)
        if not found:
            raise FFmpegError(f"{path}: could not read the length of its sound")
        h, m, sec = found[-1]
        until = int(h) * 3600 + int(m) * 60 + float(sec)
        if late:
            break
        late = _sound_starts_late(err)
        if late < 0.001:
            return until
        if until < limit:
            break  # all of it read: not cut short by `-t`
    return max(0.0, until - late)


def _sound_starts_late(err: str) -> float:
    """Seconds the first audio stream starts after its file (ffmpeg's input listing:
    the file's `start:`, the stream's `start`); 0.0 when not said."""
    listing = err.split("Output #0", 1)[0]
    file_start = re.search(r"Duration: .*?, start: (-?\d+(?:\.\d+)?)", listing)
    audio = re.search(r"Stream #0:\d+\S*: Audio: .*", listing)  # (the first: 0:a:0)
    stream = re.search(r", start (-?\d+(?:\.\d+)?)", audio.group(0)) if audio else None
    if file_start is None or stream is None:
        return 0.0
    return max(0.0, float(stream.group(1)) - float(file_start.group(1)))


@functools.lru_cache(maxsize=32)
def _audio_problem(path: str, mtime_ns: int, size: int) -> str | None:
    try:
        info = probe(Path(path))
    except FFmpegError:
        return "is not a sound file ffmpeg can read"
    if info.audio is None:
        return "has no audio stream"
    seconds = _sound_seconds(Path(path), info.audio.sample_rate)
    if seconds == 0:
        return (
            "has sound that cannot be decoded (the file is damaged, or in a format "
            "this ffmpeg cannot play)"
        )
    if info.audio.sample_rate <= 0:  # rate not read: the container's own duration
        seconds = min(seconds, info.duration) if info.duration > 0 else seconds
    if seconds < MIN_MUSIC_SECONDS:
        return (
            f"has only {seconds * 1000:.3g} ms of sound; music must be at least "
            f"{MIN_MUSIC_SECONDS:g} s long (it is looped for the whole movie): pick a longer song"
        )
    return None


#: seconds of the music decoded when it is checked: any sound at all will do
_DECODE_CHECK_SECONDS = 2

#: the shortest music taken. A sound under a second looped for a whole movie is a buzz,
#: not music. (When the compose looped with ffmpeg's `-stream_loop -1`, each repeat also
#: cost ~0.16 ms: a 5 ms WAV took 1.3 s for 30 s of movie, 10 samples 21 s, 1 sample
#: over 120 s, so a few milliseconds of sound made the audio pass crawl or hit its time
#: limit after every clip was made.)
MIN_MUSIC_SECONDS = 1.0


def _sound_seconds(path: Path, rate: int) -> float:
    """Seconds of sound the first audio stream decodes to, up to `_DECODE_CHECK_SECONDS`
    (0.0: none). The compose loops the music and trims it to the movie: a stream whose
    packets all fail to decode (a damaged file whose header is intact) gives no sample
    to loop (with `-stream_loop -1` that ffmpeg ran forever), after every clip was made.
    Decoding a couple of seconds, as mono to a pipe, takes a few milliseconds. At the
    file's own rate (`rate`, Hz; unknown: any sound counts as the check's whole length):
    resampling holds back its first samples, and a sound of a few ms came out empty."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "quiet", "-i", ffmpeg_path(path)]
    cmd += ["-map", "0:a:0", "-t", str(_DECODE_CHECK_SECONDS), "-ac", "1"]
    cmd += ["-f", "s16le", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return 0.0
    samples = len(proc.stdout) // 2  # mono, 16-bit
    if samples == 0:
        return 0.0
    return samples / rate if rate > 0 else float(_DECODE_CHECK_SECONDS)


def music_problem(path: Path) -> str | None:
    """Why `path` cannot be the movie's music (None when it can): checked when goals.yaml
    or plan.yaml is read, not at the compose after every clip was paid for."""
    try:
        st = path.stat()
    except (OSError, ValueError):  # ValueError: a NUL in the path
        return "not found"
    from mindmovie.yamlsrc import not_a_file

    if kind := not_a_file(st.st_mode):  # plan.yaml's music: a pipe was "not a sound file"
        return f"is {kind}, not a file"
    if st.st_size == 0:  # a copy that never started: not a format problem (as a photo's)
        return "is empty (0 bytes)"
    return _audio_problem(str(path), st.st_mtime_ns, st.st_size)
