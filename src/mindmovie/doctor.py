"""`mindmovie doctor` and `mindmovie providers`: can this machine and config render?

Each check is one row (name, ok, detail). `doctor` exits 0 only when the configured
preset can run, so scripts can gate on it. Keys are reported as set or not, never shown.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr
from rich.console import Group
from rich.table import Table
from rich.text import Text

from mindmovie import catalog
from mindmovie.config import (
    KEY_VARIABLES,
    ConfigError,
    Keys,
    Settings,
    dotenv_problems,
    key_conflicts,
    key_variable,
    process_env,
)

#: Everything of ffmpeg's that a render uses, read from the code (a system ffmpeg built
#: without one of them fails mid-render, so doctor names it first). Video filters:
#: compose/ffmpeg.py (`_source`, `_dissolve`, `chunk_args`) and the local motion
#: renderer (providers/local_media.py: scale, setparams); audio filters: compose/audio.py
#: (`audio_args`). tests/unit/test_doctor.py checks the real filter graphs against this.
VIDEO_FILTERS = (
    "setparams",
    "fps",
    "setpts",
    "tpad",
    "trim",
    "scale",
    "crop",
    "setsar",
    "format",
    "fade",
    "loop",
    "settb",
    "overlay",
    "null",
    "split",
    "extractplanes",
    "xfade",
    "mergeplanes",
    "concat",
)
AUDIO_FILTERS = (
    "aresample",
    "aformat",
    "atrim",
    "asetpts",
    "aloop",
    "volume",
    "adelay",
    "amix",
    "loudnorm",
    "afade",
    "apad",
    "areverse",
    "aeval",
)
FILTERS = VIDEO_FILTERS + AUDIO_FILTERS
#: x264 for every segment and local clip, AAC for the soundtrack
ENCODERS = ("libx264", "aac")
#: clips (H.264), overlay PNGs, title/closing cards (raw RGB), the built-in bed (WAV)
DECODERS = ("h264", "png", "rawvideo", "pcm_s16le")
#: segments and the movie (mp4, cut by the segment muxer); frame counts (null)
MUXERS = ("mp4", "segment", "null")
#: the final join (concat), cards (rawvideo), overlay PNGs (image2)
DEMUXERS = ("concat", "rawvideo", "image2")
CATALOG_STALE_DAYS = catalog.STALE_DAYS

if TYPE_CHECKING:
    from mindmovie.catalog import ModelSpec
    from mindmovie.costs import RunEstimate

Status = Literal["ok", "FAIL", "warn", "info"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    #: a failed check that does not stop the configured preset (e.g. an unused key)
    required: bool = True
    #: not a pass and not a problem: something this preset does not use (shown as "info")
    info: bool = False

    @property
    def status(self) -> Status:
        if self.info:
            return "info"
        if self.ok:
            return "ok"
        return "FAIL" if self.required else "warn"


def _format_names(listing: str) -> set[str]:
    """Names in `ffmpeg -muxers` / `-demuxers` output (after the `--` line; flags D, E, d
    first; one line may name several, as in `mov,mp4,m4a,3gp,3g2,mj2`)."""
    names: set[str] = set()
    _legend, sep, body = listing.partition("--")
    for line in (body if sep else "").splitlines()[1:]:
        words = line.split()
        while words and re.fullmatch(r"[DEd.]+", words[0]):
            words.pop(0)
        if words:
            names.update(words[0].split(","))
    return names


#: what to do about an ffmpeg that lacks a part a render uses (doctor's row and the
#: render's refusal, `ffmpeg_lacks`): the row said only "missing: xfade"
FFMPEG_FIX = (
    "use an ffmpeg built with them (imageio-ffmpeg's own has them: unset "
    "IMAGEIO_FFMPEG_EXE, or reinstall with the README's install line)"
)


def _present(kind: str, wanted: tuple[str, ...], have: frozenset[str], all_shown: bool) -> Check:
    missing = [w for w in wanted if w not in have]
    if missing:
        detail = "missing: " + ", ".join(missing) + "; " + FFMPEG_FIX
    else:
        detail = ", ".join(wanted) if all_shown else f"all {len(wanted)} present"
    return Check(f"ffmpeg {kind}", not missing, detail)


def _hdr_check(have: frozenset[str]) -> Check:
    """The HDR clip filters: a warning only, as a render without an HDR clip needs none
    (with one, the render says so and shows it unconverted)."""
    from mindmovie.media import HDR_FILTERS

    missing = [f for f in HDR_FILTERS if f not in have]
    detail = (
        f"missing: {', '.join(missing)} (an HDR clip is shown unconverted, washed out)"
        if missing
        else ", ".join(HDR_FILTERS)
    )
    return Check("ffmpeg HDR filters", not missing, detail, required=False)


#: what a render needs of each kind of ffmpeg part, by the listing flag that names them
NEEDED_PARTS: dict[str, tuple[str, ...]] = {
    "filters": FILTERS,
    "encoders": ENCODERS,
    "decoders": DECODERS,
    "muxers": MUXERS,
    "demuxers": DEMUXERS,
}


def ffmpeg_parts(exe: str) -> dict[str, frozenset[str]]:
    """The filters, encoders, decoders, muxers and demuxers the ffmpeg at `exe` lists
    (asked once a process for the binary as it is on disk: ~0.15 s)."""
    st = os.stat(exe)
    return _ffmpeg_parts(exe, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _ffmpeg_parts(exe: str, size: int, mtime_ns: int) -> dict[str, frozenset[str]]:
    """(An ffmpeg that cannot be started raises: OSError, out of files or processes under
    `ulimit`, is not read as one that lacks everything; nor cached. Nor is a listing
    that failed or did not finish: `FFmpegError`, saying so.)"""
    from mindmovie.media import FFmpegError

    def listing(kind: str) -> str:
        try:
            proc = subprocess.run(
                [exe, "-hide_banner", f"-{kind}"], capture_output=True, text=True, timeout=60
            )
        except subprocess.TimeoutExpired:
            raise FFmpegError(f"ffmpeg ({exe}) did not list its -{kind} in 60 s") from None
        if proc.returncode != 0:  # killed, out of memory (`ulimit -v`): printed nothing
            tail = (proc.stderr.strip().splitlines() or ["no message"])[-1]
            raise FFmpegError(
                f"ffmpeg ({exe}) failed listing its -{kind} (exit {proc.returncode}: {tail})",
                proc.returncode,
            )
        return proc.stdout

    # one after the other: side by side, their pipes took more files than `ulimit -n 16`
    text = {kind: listing(kind) for kind in NEEDED_PARTS}
    codecs = r"^\s*[VAS][.\w]{5}\s+(\S+)"
    return {
        "filters": frozenset(re.findall(r"^\s*[TSC.|]{2,3}\s+(\S+)", text["filters"], re.M)),
        "encoders": frozenset(re.findall(codecs, text["encoders"], re.M)),
        "decoders": frozenset(re.findall(codecs, text["decoders"], re.M)),
        "muxers": frozenset(_format_names(text["muxers"])),
        "demuxers": frozenset(_format_names(text["demuxers"])),
    }


def ffmpeg_lacks() -> str | None:
    """What the ffmpeg in use lacks of what a render uses (`NEEDED_PARTS`), one line,
    None when it has it all: the render refuses to start on it, as doctor's ffmpeg rows
    fail. An ffmpeg that ran `-version` but was built without one (a system ffmpeg
    named by IMAGEIO_FFMPEG_EXE: no libx264, too old for xfade) passed the render's
    start, and it failed at each scene's clip or, with a paid preset, at the compose,
    every keyframe and clip paid for."""
    from mindmovie.media import ffmpeg_exe

    exe = ffmpeg_exe()
    have = ffmpeg_parts(exe)
    missing = [
        f"{kind} {', '.join(lacking)}"
        for kind, wanted in NEEDED_PARTS.items()
        if (lacking := [w for w in wanted if w not in have[kind]])
    ]
    if not missing:
        return None
    return (
        f"ffmpeg ({exe}) lacks what a render uses: {'; '.join(missing)}; {FFMPEG_FIX}. "
        "`mindmovie doctor` checks it"
    )


def _ffmpeg_checks() -> list[Check]:
    from mindmovie.media import FFmpegError, ffmpeg_exe, run_ffmpeg

    try:
        exe = ffmpeg_exe()
        run_ffmpeg(["-version"])
        have = ffmpeg_parts(exe)
    except (FFmpegError, OSError, RuntimeError) as e:
        fix = (
            "unset IMAGEIO_FFMPEG_EXE or point it at an ffmpeg that runs"
            if os.environ.get("IMAGEIO_FFMPEG_EXE")
            else "reinstall with the README's install line (imageio-ffmpeg brings one), "
            "or point IMAGEIO_FFMPEG_EXE at an ffmpeg that runs"
        )
        return [Check("ffmpeg", False, f"not usable: {e}; {fix}")]
    return [
        Check("ffmpeg", True, f"{exe}"),
        _present("filters", FILTERS, have["filters"], all_shown=False),
        _hdr_check(have["filters"]),
        _present("encoders", ENCODERS, have["encoders"], True),
        _present("decoders", DECODERS, have["decoders"], True),
        _present("muxers", MUXERS, have["muxers"], all_shown=True),
        _present("demuxers", DEMUXERS, have["demuxers"], all_shown=True),
    ]


def _font_check() -> Check:
    """Pillow's scalable font, which draws every text (`fonts.freetype_problem`, which
    the render refuses to start on too)."""
    from mindmovie.fonts import freetype_problem

    if (problem := freetype_problem()) is not None:
        return Check("fonts", False, problem)
    return Check("fonts", True, "Pillow's built-in scalable font (FreeType)")


def _fallback_font_check() -> Check:
    """Which system font draws what the built-in font cannot (é, ü, —, Cyrillic, CJK...):
    with none, such letters are drawn as boxes (`plan` and `render` warn per text, with the plan).
    A warning, not a failure: a movie in plain ASCII needs none."""
    from mindmovie import fonts

    if fonts.freetype_problem() is not None:  # Pillow opens no font file: see "fonts"
        return Check(
            "fallback fonts", False, "not looked for: Pillow cannot open fonts (see fonts)",
            required=False, info=True,
        )  # fmt: skip
    # as compose/cards.py finds them: the listed fonts, then for letters none of those
    # has (Devanagari, Thai...) the system's other font files (`fonts.font_having`)
    found = [face for face in fonts.FALLBACK_FONTS if fonts.located(face)]
    others = [p for p in fonts.font_files() if os.path.basename(p) not in found]
    # (the initialism as written: "CJK", not "Cjk")
    scripts = sorted(s if s == "CJK" else s.title() for s in fonts.script_fonts())
    most = "" if len(others) <= fonts.MAX_FONTS_OPENED else f"up to {fonts.MAX_FONTS_OPENED} of "
    one = len(others) == 1
    searched = (
        f"{most}{len(others)} other font file{'' if one else 's'} in the system's "
        "font folders" + (f" (named for {', '.join(scripts)})" if scripts else "")
    )
    if found:
        detail = ", ".join(found)
        if others:
            verb = "is" if one else "are"
            detail += f"; for letters none of these has, {searched} {verb} searched"
        return Check("fallback fonts", True, detail, required=False)
    return Check(
        "fallback fonts",
        False,
        "no usual system font found for letters beyond ASCII (é, ü, —, Cyrillic, CJK): "
        + (f"they are looked for in {searched}, and " if others else "they ")
        + "would be drawn as boxes where no font has them; install one, e.g. DejaVu Sans "
        "or Noto Sans (apt install fonts-dejavu-core)",
        required=False,
    )


def _text_layout_check() -> Check:
    """Whether Pillow lays text out with libraqm (right-to-left text, Arabic joining).
    PyPI's Pillow loads FriBiDi from the system for it, and Windows and macOS have none
    by default; without it, mindmovie orders right-to-left lines and joins Arabic
    letters itself (`fonts.visual_line`), a simpler layout: said, not failed."""
    from PIL import features

    from mindmovie import fonts

    if fonts.freetype_problem() is not None:  # no text drawn at all: see "fonts"
        return Check(
            "text layout", False, "not looked at: Pillow cannot open fonts (see fonts)",
            required=False, info=True,
        )  # fmt: skip
    if features.check_feature("raqm"):
        return Check(
            "text layout", True, "libraqm (right-to-left text, Arabic joining, shaping of "
            "Devanagari, Tamil, Thai...)",
        )  # fmt: skip
    return Check(
        "text layout",
        True,
        "Pillow's basic layout (no libraqm: its FriBiDi library is missing): mindmovie "
        "orders right-to-left text and joins Arabic letters itself, with less care for "
        "Arabic vowel marks; Devanagari, Bengali, Tamil, Thai and other scripts whose "
        "letters combine are drawn unshaped, vowel signs out of place (install FriBiDi "
        "for libraqm: apt install libfribidi0, brew "
        "install fribidi, or fribidi's DLL on Windows)",
        required=False,
        info=True,
    )


def _writable(settings: Settings, out: Path | None = None, run_dir: Path | None = None) -> Check:
    """Can renders write under output_dir, or in `out` (render's --out, the run folder
    itself, where output_dir is not used)? Leaves nothing behind: when the folder does
    not exist yet, the nearest folder that does is probed instead (render creates the
    rest). A FAIL, too, while another render holds the run folder (`out`, else
    `run_dir`, the one GOALS render into), which render refuses."""
    d = settings.output_dir if out is None else out
    # what to do about a folder that cannot be used: these rows said only what was wrong
    other = "give --out another folder" if out else "set output_dir to another folder"
    try:
        shown = d.resolve()
    except OSError as e:
        # run in a folder that was removed since (`os.getcwd()` fails): a traceback
        from mindmovie.fsutil import CWD_GONE

        why = f"({e.strerror or e}); {other}" if d.is_absolute() else f"({CWD_GONE})"
        return Check("output dir", False, f"{d}: cannot be used {why}")
    try:
        existing = next((p for p in (d, *d.parents) if p.exists()), Path("."))
        # a link to nothing on the way (`outputs -> /mnt/gone`): render cannot create the
        # folder through it ("File exists"); it was probed past as if missing, "ready"
        dangling = next((p for p in (d, *d.parents) if p.is_symlink() or p == existing), existing)
    except OSError as e:  # a name longer than the system allows: a traceback here
        return Check("output dir", False, f"{shown}: cannot be used ({e.strerror or e}); {other}")
    if dangling != existing:
        target = os.readlink(dangling)
        return Check(
            "output dir",
            False,
            f"{dangling.absolute()}: cannot be used (a link to {target}, which is missing: "
            f"render cannot create folders through it); mount or make {target}, or {other}",
        )
    if not existing.is_dir():
        what = "it is a file" if existing == d else f"{existing.resolve()} is a file"
        return Check(
            "output dir",
            False,
            f"{shown}: cannot be used ({what}, not a folder); move the file, or {other}",
        )
    from mindmovie.pipeline import lock_problem, rendering_message
    from mindmovie.store import SQLITE_MAX_PATH, path_too_long

    try:  # a probe file, removed on close: the only thing doctor ever writes
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".doctor-") as probe:
            # the render locks its run folder first, and refuses a filesystem that
            # cannot (NFS without lockd, some FUSE mounts): doctor said "writable", ready
            locks = lock_problem(probe.fileno(), existing.absolute())
    except OSError as e:
        return Check(
            "output dir",
            False,
            f"{shown}: not writable ({e.strerror}); let this user write there, or {other}",
        )
    if locks is not None:
        return Check("output dir", False, locks if out else f"{locks} (or set output_dir)")
    if out is not None:
        # a folder render refuses as its run folder (not empty, not a run's): doctor
        # without GOALS said it ok, writable, and `render --out` it then stopped (exit 2)
        from mindmovie.pipeline import RunDirError, _usable_run_dir

        try:
            _usable_run_dir(out, True)
        except RunDirError as e:
            return Check("output dir", False, str(e))
    run = out if out is not None else run_dir
    if run is not None and (busy := rendering_message(run)) is not None:
        # `render --out DIR` refuses while another render holds DIR: doctor said ready
        return Check("output dir", False, busy)
    if out is None and run_dir is not None and (n := path_too_long(run_dir / "run.db")):
        # GOALS given: their run folder is known, and the render stops on its run.db's
        # path (exit 2); doctor warned "may be at most N bytes" and said ready
        return Check(
            "output dir",
            False,
            f"{run_dir.absolute()}: too long a path for these goals' run folder: its "
            f"run.db would be {n} bytes long, and SQLite opens no file whose path is longer "
            f"than {SQLITE_MAX_PATH}; set output_dir to a shorter path, or give --out one",
        )
    if (deep := _too_deep(d, shown, run_folder=out is not None)) is not None:
        return deep
    given = " (--out)" if out is not None else ""
    if existing == d:
        detail = f"{shown}{given} is writable"
    else:
        detail = f"{shown}{given} (created on the first render; {existing.resolve()} is writable)"
    return _free_space(settings, existing, detail, "--out" if out else "output_dir")


def _too_deep(d: Path, shown: Path, run_folder: bool = False) -> Check | None:
    """The output dir row when a run folder under `d` (output_dir/<title>, its name up
    to `fsutil.folder_name`'s 60 characters) leaves run.db's full path over SQLite's
    limit (`store.SQLITE_MAX_PATH`): the render made the folder and then stopped,
    "run.db cannot be opened: its full path is N bytes long" (exit 2), where doctor
    said "writable", "ready". A FAIL when no folder name fits, a warning when a title's
    may not. None when any fits. `run_folder`: `d` is the run folder itself (--out),
    its run.db at d/run.db."""
    from mindmovie.store import SQLITE_MAX_PATH, path_too_long

    if run_folder:
        if (n := path_too_long(d / "run.db")) is None:
            return None
        return Check(
            "output dir",
            False,
            f"{shown} (--out): too long a path for a run folder: its run.db would be "
            f"{n} bytes long, and SQLite opens no file whose path is longer than "
            f"{SQLITE_MAX_PATH}; give --out a shorter path",
        )
    if (n := path_too_long(d / "x" / "run.db")) is not None:
        return Check(
            "output dir",
            False,
            f"{shown}: too long a path for a run folder: its run.db (output_dir/<title>/"
            f"run.db) would be at least {n} bytes long, and SQLite opens no file whose "
            f"path is longer than {SQLITE_MAX_PATH}; set output_dir to a shorter path",
        )
    room = SQLITE_MAX_PATH - len(os.fsencode(os.path.realpath(d / "run.db"))) - 1
    if room < 60:  # fsutil.folder_name's most characters (a byte each in ASCII)
        return Check(
            "output dir",
            False,
            f"{shown}: a run folder's name (the title's, up to 60 characters) may be at "
            f"most {room} bytes here, or its run.db's path is longer than the "
            f"{SQLITE_MAX_PATH} bytes SQLite opens (a longer title stops the render); set "
            "output_dir to a shorter path",
            required=False,
        )
    return None


def _temp_folder() -> Check:
    """The temp folder ffmpeg's logs are written to (`tempfile.gettempdir`: TMPDIR, else
    /tmp, /var/tmp, /usr/tmp or the working folder). With none usable `render` refuses
    to start (`pipeline._check_temp_folder`): doctor said every row was ok."""
    from mindmovie.fsutil import temp_folder_problem

    if (problem := temp_folder_problem()) is not None:
        return Check("temp folder", False, problem)
    return Check("temp folder", True, f"{tempfile.gettempdir()} (ffmpeg's logs)")


def _http_check(settings: Settings) -> Check:
    """Can the providers' HTTP clients be made here (`providers.base.http_setup_problem`:
    SSL_CERT_FILE, the proxy variables)? The render refuses to start when not, for a
    preset that calls a provider; doctor said "ready" and the render left its plan call
    committed with nothing sent, or ended in a traceback."""
    from mindmovie.providers.base import PROXY_VARIABLES, http_setup_problem

    used = bool(needed_providers(settings))
    if (problem := http_setup_problem()) is not None:
        if not used:
            return Check(
                "http clients", False, f"{problem} (not used by this preset)", False, info=True
            )
        return Check("http clients", False, problem)
    from mindmovie.config import hide_keys

    proxies = [f"{k}={v}" for k, v in os.environ.items() if k.lower() in PROXY_VARIABLES and v]
    cert = os.environ.get("SSL_CERT_FILE", "")
    detail = (
        f"certificates: {f'SSL_CERT_FILE={cert}' if cert else 'certifi'}; "
        f"proxy: {', '.join(proxies) or 'none'}"
    )
    return Check("http clients", True, hide_keys(detail))


def _free_space(
    settings: Settings, folder: Path, detail: str, setting: str = "output_dir"
) -> Check:
    """The output dir row with the free space of its disk: a render sends no paid call
    with less than `pipeline.MIN_FREE_BYTES` free there (every scene stops "no space
    left"), so a paid preset cannot run below it; an offline one is warned. `setting`:
    what names the folder (output_dir, or render's --out)."""
    from mindmovie.pipeline import MIN_FREE_BYTES

    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return Check("output dir", True, detail)  # cannot tell: the render cannot either
    detail += f"; {_size(free)} free"
    paid = sorted(settings.remote_providers())
    if free < MIN_FREE_BYTES and paid:
        return Check(
            "output dir",
            False,
            f"{detail}: render sends no paid call ({', '.join(paid)}) with less than "
            f"{_size(MIN_FREE_BYTES)} free; free some space or set {setting} to another disk",
        )
    if free < MIN_FREE_BYTES:
        # an offline render too needs room for its keyframes, clips and movie: 0 MB free
        # was "ok", and the render after it stopped "no space left on the disk"
        return Check(
            "output dir",
            False,
            f"{detail}: too little, perhaps, for a render (every keyframe, clip and the "
            "movie are kept there: the example's run folder, at 1280x720, takes about "
            f"80 MB); free some space or set {setting} to another disk",
            required=False,
        )
    return Check("output dir", True, detail)


def _size(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def needed_providers(settings: Settings) -> set[str]:
    """Remote providers the configured stages use (those whose keys must be set)."""
    return settings.remote_providers()


#: why a key that is not plain ASCII cannot be sent (an HTTP header holds ASCII only):
#: the render refuses it before any call, doctor fails it
NOT_ASCII = (
    "holds a character that is not plain ASCII (a key is letters, digits and - or _ "
    "only): pasted with a stray or typographic character, or saved in another encoding?"
)
#: why a key with a space or control character inside cannot be right: a space went to
#: the provider, whose 401 was the first word of it (after the plan was paid for); a line
#: break or other control character cannot go in an HTTP header at all. Blanks at the
#: key's two ends are not this: `Keys.from_env` drops them (a paste's trailing newline).
NOT_ONE_WORD = (
    "holds a space, tab, line break or other control character inside it (a key is "
    "letters, digits and - or _ only): two values pasted together, or a quoted .env "
    "value that runs over a line?"
)

#: why a key with a quote in it cannot be right: no provider's key holds one, and the
#: quotes pasted with it (a docker --env-file or systemd EnvironmentFile keeps them as
#: part of the value; python-dotenv, which reads .env, drops them) went to the provider,
#: whose 401 was the first word of it (after the plan was paid for, for Ark's key)
QUOTED = (
    "holds a quote (\" or ') (a key is letters, digits and - or _ only): its quotes "
    "kept as part of the value, as a docker --env-file or systemd EnvironmentFile does?"
)


#: how only one provider's keys start, by provider (and its name): a key pasted into
#: another provider's variable (the byteplus preset's two keys swapped) was sent, and
#: the provider's 401 came after the plan was paid for
KEY_STARTS = {"anthropic": ("Anthropic", "sk-ant-"), "google": ("Google", "AIza")}


def key_flaw(key: str, provider: str | None = None) -> str | None:
    """Why `key` cannot be a provider's key (`NOT_ASCII`, `NOT_ONE_WORD`, `QUOTED`; for
    `provider`'s key, one that starts as only another's do), None when it can: checked
    by doctor and by the render before any call, never shown (nor how it starts)."""
    if not key.isascii():
        return NOT_ASCII
    if any(c.isspace() or not c.isprintable() for c in key):
        return NOT_ONE_WORD
    if '"' in key or "'" in key:
        return QUOTED
    for other, (name, start) in KEY_STARTS.items():
        if provider is not None and other != provider and key.startswith(start):
            return f"starts as {name}'s keys do: {name}'s key, pasted into the wrong variable?"
    return None


def _key_checks(settings: Settings, keys: Keys, env: dict[str, str] | None = None) -> list[Check]:
    need = needed_providers(settings)
    conflicts = key_conflicts(process_env() if env is None else env)
    out = []
    for provider, names in KEY_VARIABLES.items():
        is_set = getattr(keys, provider) is not None
        var = " or ".join(names)
        used = provider in need
        if provider == "google" and used and settings.providers.google.project_mode:
            out.append(Check(f"key {provider}", True, "project mode: uses ADC, no key needed"))
            continue
        detail = f"{var}: {'set' if is_set else 'not set'}"
        detail += f" ({_needed_by(settings, provider)})" if used else " (not used by this preset)"
        key = getattr(keys, provider)
        flaw = key_flaw(key.get_secret_value(), provider) if key is not None else None
        if flaw and key is not None:
            # every call would fail in the client or at the provider (render refuses it);
            # named by the variable that holds it, when one does (GEMINI_API_KEY's)
            held = key_variable(provider, key.get_secret_value(), env)
            bad = f"{held or var}: set, but it {flaw} Set it again"
            bad += f" ({_needed_by(settings, provider)})" if used else " (not used by this preset)"
            out.append(Check(f"key {provider}", False, bad, required=used))
            continue
        if provider in conflicts:  # set, but which key is meant? (a warning, not a failure)
            out.append(Check(f"key {provider}", False, f"{detail}; {conflicts[provider]}", False))
            continue
        if used and not is_set:  # what to do, as the other FAIL rows say it
            detail += f"; {_set_key(provider)}"
        if provider == "anthropic" and (elsewhere := _anthropic_base_url_variable(settings)):
            detail += elsewhere
        out.append(Check(f"key {provider}", is_set or not used, detail, required=used))
    return out


def _anthropic_base_url_variable(settings: Settings) -> str:
    """Where the planner's calls, the key with them, go when ANTHROPIC_BASE_URL is set
    and providers.anthropic.base_url is not (the anthropic SDK reads the variable then):
    they went there without a word, as google-genai's GOOGLE_*_BASE_URL did (the secrets
    audit; `_google_mode` says that one). '' when not so."""
    from mindmovie.config import hide_keys

    value = os.environ.get("ANTHROPIC_BASE_URL", "").strip()
    if not value or settings.provider_settings("anthropic").base_url is not None:
        return ""
    return (
        f"; calls go to {hide_keys(value)} (ANTHROPIC_BASE_URL, which the anthropic SDK "
        "reads when providers.anthropic.base_url is null)"
    )


def _set_key(provider: str) -> str:
    """What to do about a provider key that is not set (its key row, the google mode row)."""
    return f"set {KEY_VARIABLES[provider][0]} in the environment or in ./.env"


def missing_keys(settings: Settings, keys: Keys) -> list[dict[str, Any]]:
    """The keys `settings` use that `keys` lack: the render refuses to start without them
    (exit 2, naming the variable, before any step), however much of the run is done. Per
    provider: its variables (`variable` the one named first), the stages that use it
    and who asks for it (`_needed_by`; for an unusable key, `variable` is the one it was
    read from), and `state`: "not set", or "unusable" for a key
    set with a flaw the render refuses (`key_flaw`, said in `why`; status called such a
    key set and said nothing). Names only, never a value (`status`)."""
    stages: tuple[Literal["planner", "keyframes", "video"], ...] = (
        "planner",
        "keyframes",
        "video",
    )
    out: list[dict[str, Any]] = []
    for provider in sorted(settings.key_providers()):
        key = getattr(keys, provider, None)
        flaw = key_flaw(key.get_secret_value(), provider) if key is not None else None
        if key is not None and flaw is None:
            continue
        names = KEY_VARIABLES[provider]
        # a flawed key: the variable it was read from (GEMINI_API_KEY's, not the first)
        held = key_variable(provider, key.get_secret_value()) if key is not None else None
        out.append(
            {
                "provider": provider,
                "variable": held or names[0],
                "variables": list(names),
                "stages": [s for s in stages if settings.stage_provider(s) == provider],
                "needed_by": _needed_by(settings, provider).removeprefix("needed by "),
                "state": "unusable" if flaw else "not set",
                "why": flaw,
            }
        )
    return out


def key_state(key: str | None, provider: str | None = None) -> str:
    """A key as `providers` says it: "set", "not set", or "set but unusable" with why
    (`key_flaw`), never its value; a key with a space inside was listed as set."""
    if key is None:
        return "not set"
    flaw = key_flaw(key, provider)
    return f"set but unusable: it {flaw}" if flaw else "set"


def _needed_by(settings: Settings, provider: str) -> str:
    """Who needs the provider's key, as the render's "not set" error names it: a stage's
    own provider setting (`video.provider: byteplus` over the local preset), else the
    preset."""
    stages: tuple[Literal["planner", "keyframes", "video"], ...] = (
        "planner",
        "keyframes",
        "video",
    )
    using = [s for s in stages if settings.stage_provider(s) == provider]
    chosen = [f"{s}.provider '{provider}'" for s in using if getattr(settings, s).provider]
    if len(chosen) == len(using):
        return f"needed by {' and '.join(chosen)}"
    preset = f"preset {settings.preset}"
    return f"needed by {' and '.join([preset, *chosen]) if chosen else preset}"


def _dotenv_check() -> list[Check]:
    """A row for ./.env when there is one: a warning row for each statement python-dotenv
    cannot read (the other commands say the same as warnings), naming no value."""
    env_file = Path(".env")
    if not os.path.lexists(env_file):
        return []
    if not env_file.exists():  # a link to nothing: read as an empty file, said "ok"
        to = os.readlink(env_file) if env_file.is_symlink() else "?"
        detail = f"{env_file.absolute()}: a link to {to}, which is missing; nothing is set from it"
        return [Check(".env", False, detail, required=False)]
    problems = dotenv_problems(env_file)
    if not problems:
        return [Check(".env", True, f"{env_file.resolve()}: every statement read")]
    return [Check(".env", False, problem, required=False) for problem in problems]


def _lower_case_variables_check() -> list[Check]:
    """A warning row for each variable spelt as a setting's with its MINDMOVIE_ not in
    capitals (`mindmovie_output__fps`), which is not read (the other commands say the
    same as warnings): doctor said every row ok while the setting was not applied."""
    from mindmovie.config import lower_case_variables

    return [
        Check("environment", False, text, required=False)
        for text in lower_case_variables(process_env())
    ]


def _model_checks(
    settings: Settings, located: Callable[[str], str] = lambda message: message
) -> list[Check]:
    """A FAIL row per stage whose configured model the catalog does not know (`render`
    refuses to start with it); nothing when every model resolves. `located` as for
    `_google_mode`: each row led by where its setting was written, as the render says
    it (the model and options rows named the setting but not the file and line)."""
    from mindmovie.costs import clip_settings_fix, clip_settings_problem, stage_spec
    from mindmovie.providers.base import InvalidRequest

    out = []
    for stage in ("planner", "keyframes", "video"):
        try:
            stage_spec(settings, stage)
        except InvalidRequest as e:
            out.append(Check(f"model {stage}", False, located(e.message)))
    # a warning, not a FAIL: the date is the provider's list's, and the model may still
    # answer (nothing here can ask it without paying)
    past = [
        Check(f"model {stage}", False, said, required=False)
        for stage, said in shutdown_lines(settings)
    ]
    from mindmovie.pipeline import ignored_settings

    # what render warns of as it starts, a setting the local provider does nothing with
    past += [Check("settings", False, said, required=False) for said in ignored_settings(settings)]
    if not out and (problem := clip_settings_problem(settings)):
        # every clip would be refused (render refuses to start): the preset cannot run
        fix = clip_settings_fix(settings)
        out.append(Check("clip settings", False, located(f"{problem}; {fix}")))
    if not out:
        from mindmovie.providers.registry import check_options

        try:
            check_options(settings)  # an option render refuses (misspelt, wrong type)
        except ConfigError as e:
            out.append(Check("options", False, located(str(e))))
    return out + past


#: the stages each `render --until` runs, by their settings' names
UNTIL_STAGES: dict[str, tuple[Literal["planner", "keyframes", "video"], ...]] = {
    "plan": ("planner",),
    "keyframes": ("planner", "keyframes"),
    "clips": ("planner", "keyframes", "video"),
    "movie": ("planner", "keyframes", "video"),
}
#: what each `render --until` makes first, as the budget row names it
UNTIL_MAKES = {"plan": "the plan", "keyframes": "a keyframe", "clips": "a clip"}


def _least_spend(
    settings: Settings, at: Literal["enough", "least"] = "enough", until: str = "movie"
) -> tuple[float, str]:
    """The smallest budget under which the render's gate (`budget.BudgetGate`: a call is
    sent only when billed + committed + its hold <= budget) lets any movie be made, for
    any goals.yaml and plan, on a fresh run: the plan call's hold for the smallest
    goals; a keyframe's hold; a keyframe's price plus the hold of a clip of the
    shortest length the video model makes. A paid plan is billed before any keyframe is
    asked for, so the keyframe and clip figures come on top of what it bills, which is
    known only once it is billed; and so on top of what the keyframe bills (a Gemini
    image bills its prompt too). `at` "enough" counts the plan as the render's question
    estimates it for the smallest goals (`costs.estimate_planner`: its prompt and the
    plan Claude writes) and the keyframe at the most it bills (its hold); "least"
    counts each at the least it can bill (`costs.planner_least`, the plan's prompt
    alone; the keyframe's price). Under the "least" figure the render stops before any
    movie whatever the calls bill; at the "enough" figure it makes one when the plan
    bills about its estimate; in between, their bills decide. `until`: render's --until,
    the stages counted (`UNTIL_STAGES`: a plan-only render needs the plan's hold only).
    (USD, what binds, for the row.)"""
    from mindmovie import catalog, costs
    from mindmovie.goals import Goal, Goals

    need: list[tuple[float, str, str]] = []  # (USD, why, the last stage it is for)
    plan_usd, plan_what = 0.0, ""  # what the plan bills before the keyframes
    if costs.stage_spec(settings, "planner") is not None:
        # one goal of one scene, one letter a field: every goals.yaml asks more
        smallest = Goals(title="x", goals=[Goal(category="x", vision="x", scenes=1)])
        hold = costs.planner_hold(settings, smallest)
        need.append((hold, f"the plan call, which holds up to {costs.format_usd(hold)}", "planner"))
        if at == "enough":
            # what the render's gate takes the plan to bill (its reservation's estimate)
            plan_usd = costs.estimate_planner(settings, smallest).usd
            plan_what = f"the plan call at about {costs.format_usd(plan_usd)} + "
        else:
            plan_usd = costs.planner_least(settings, smallest)
            plan_what = f"the plan call at least {costs.format_usd(plan_usd)} (its prompt) + "
    kf_price, kf_what = 0.0, ""  # the cheapest keyframe: its price, and which
    spec = costs.stage_spec(settings, "keyframes")
    if spec is not None:
        # an edit model restyles a photo (one image in); its text-to-image fallback none
        options = [(settings, 1 if spec.capabilities.image_required else 0)]
        if (text := costs.text_keyframe_settings(settings)) is not None:
            options.append((text, 0))
        kf_price, kf_hold, model = min(
            (est.usd, costs.keyframe_hold(s, n), est.model)
            for s, n in options
            for est in [costs.estimate_keyframe(s)]
        )
        kf_what = f"a keyframe ({model})"
        need.append(
            (
                plan_usd + kf_hold,
                f"{plan_what}{kf_what}, which holds up to {costs.format_usd(kf_hold)}",
                "keyframes",
            )
        )
    video = costs.stage_spec(settings, "video")
    if video is not None:
        allowed = catalog.allowed_seconds(video)
        shortest = allowed[0] if allowed else 0.0
        which = f"{video.key}'s shortest"
        if costs.stage_spec(settings, "planner") is None:
            # the local planner makes every scene plan.scene_seconds long (snapped to
            # the video model's durations): doctor priced the model's shortest clip,
            # said "ok" to a budget under one such clip, and the render bought the
            # keyframe and stopped at the budget before any clip
            from mindmovie.providers.local import snap_seconds

            plan = costs.plan_options(settings)
            shortest = snap_seconds(plan.scene_seconds, plan.allowed_seconds)
            which = "every scene's, plan.scene_seconds with the local planner"
        hold = costs.video_hold(settings, shortest) if shortest else 0.0
        clip = f"a {shortest:g} s clip ({which}) up to {costs.format_usd(hold)}"
        kf_bill = kf_hold if at == "enough" else kf_price
        if kf_what:
            bill = "up to" if kf_bill > kf_price + 1e-9 else "at"
            clip = f"{kf_what} {bill} {costs.format_usd(kf_bill)} + {clip}"
        # (at its estimate, a Gemini image's prompt was left out: a budget of exactly
        # the figure passed here, "ok", and the render stopped before the clip)
        need.append((plan_usd + kf_bill + hold, plan_what + clip, "video"))
    upto = UNTIL_STAGES[until]
    return max(((usd, why) for usd, why, stage in need if stage in upto), default=(0.0, ""))


def _usd_up(usd: float) -> str:
    """`usd` as `costs.format_usd` shows it, but rounded up, not to the nearest: the
    floor is a figure to set, and $0.140008 shown as "$0.14" had doctor say "budget_usd:
    $0.14 is below $0.14" to a person who had set the figure it named."""
    from mindmovie.costs import format_usd, round_usd

    return format_usd(round_usd(usd, 4 if abs(usd) < 0.01 else 2, up=True))


@dataclass
class Priced:
    """A render of the goals.yaml given to `doctor GOALS`, as `estimate` prices it
    (`pipeline.estimate_for`: the run folder's plan and finished steps counted): its run
    folder, what it would still spend, the least its plan call bills, and what the run
    has spent (its ledger: the budget counts it too); or why render refuses to start
    (`refused`), or that a model or option its own row fails left it unpriced."""

    goals: Path
    run_dir: Path | None = None
    est: RunEstimate | None = None
    plan_least: float = 0.0
    spent: float = 0.0
    refused: str | None = None
    #: priced as `render --fresh` would: the run there set aside, all bought again
    fresh: bool = False
    #: render's lines before its estimate when a scene setting changed since the last
    #: render and steps made before are bought again (`pipeline.setting_change_lines`)
    changed: tuple[str, ...] = ()


def price_goals(
    settings: Settings, goals: Path, out: Path | None = None, *, fresh: bool = False
) -> Priced:
    """`goals` (render's GOALS, with its --out) priced for doctor, spending, creating
    and moving nothing (`Priced`). `fresh`: as `render --fresh` prices them, the run
    there set aside (`estimate_for(fresh=)`): asked of a finished run, doctor said the
    render cost nothing and "ok" to a budget `render --fresh` stopped at."""
    from mindmovie import costs
    from mindmovie.pipeline import (
        SETTINGS_META,
        Pipeline,
        RunDirError,
        RunLocked,
        estimate_for,
        setting_change_lines,
    )
    from mindmovie.providers.base import InvalidRequest
    from mindmovie.store import Store, StoreError
    from mindmovie.yamlsrc import SourceError

    try:
        pipe = Pipeline(goals, settings, out=out)
    except (SourceError, RunDirError, StoreError) as e:
        return Priced(goals, refused=str(e))
    except (InvalidRequest, ConfigError, ValueError):
        return Priced(goals)  # (a model or option render refuses: its own FAIL row)
    priced = Priced(goals, pipe.run_dir, fresh=fresh)
    try:
        priced.est = estimate_for(goals, settings, out=out, fresh=fresh)
        priced.plan_least = costs.planner_least(settings, pipe.goals)
        db = pipe.run_dir / "run.db"
        if fresh:
            priced.spent = priced.est.spent  # the carried jobs' holds: the old ledger is set aside
        elif db.is_file():
            store = Store(db, read_only=True)
            try:
                priced.spent = sum(store.ledger_totals())
                lines, rebuys = setting_change_lines(
                    store.get_meta(SETTINGS_META), settings, store, priced.est
                )
                priced.changed = tuple(lines) if rebuys else ()
            finally:
                store.close()
    except (SourceError, RunDirError, RunLocked, StoreError) as e:
        priced.est, priced.refused = None, str(e)
    except (InvalidRequest, ConfigError, ValueError, OSError):
        priced.est = None
    return priced


#: what a render that stops after each `--until` has made, in the budget row
UNTIL_DONE = {
    "plan": "the plan is made",
    "keyframes": "every keyframe is made",
    "clips": "every clip is made",
    "movie": "the movie is made",
}


def _goals_check(priced: Priced, until: str = "movie") -> Check:
    """The `goals` row of `doctor GOALS`: what a render of them would spend and where,
    or render's refusal to start (a plan.yaml, run folder or run.db it refuses)."""
    from mindmovie.costs import format_usd

    if priced.refused is not None:
        return Check("goals", False, priced.refused)
    if priced.est is None or priced.run_dir is None:
        return Check("goals", False, f"{priced.goals}: not priced (see above)", False, info=True)
    est = priced.est.upto(until)
    upto = f" up to --until {until}" if until != "movie" else ""
    spend = f"about {format_usd(est.total)}" if est.paid else "nothing"
    had = f" ({format_usd(priced.spent)} {_spent_how(priced)})" if priced.spent > 1e-9 else ""
    if priced.fresh:
        # what render --fresh does first: the run there moved to previous/<time>/
        return Check(
            "goals",
            True,
            f"{priced.goals}: a render --fresh{upto} spends {spend}{had}, in "
            f"{priced.run_dir}, its run there (if any) set aside into previous/",
        )
    # why it buys again what the run made before (a setting changed), as render says
    why = "".join(f"; {line}" for line in priced.changed)
    return Check(
        "goals",
        True,
        f"{priced.goals}: a render{upto} spends {spend}{had}, in {priced.run_dir}{why}",
    )


def _goals_budget(priced: Priced, cap: float, name: str, until: str = "movie") -> Check:
    """The budget row of `doctor GOALS`: the cap against what the render of those goals
    would still spend (its own spend question's estimate), as the render's gate counts
    it (the run's ledger, then each call at its hold). ok only when the render surely
    finishes within it; else what render says up front of that budget
    (`costs.budget_short`, its own words), and whether the calls' bills could still let
    it finish: a FAIL where it stops at the cap, a warning where it only may stop before
    its last call (render then goes ahead, and often finishes). A budget under
    the estimate was a warning (exit 0) while render said it would stop at the cap;
    without GOALS doctor prices the smallest goals, and said "ok" to a budget a render
    of the person's goals stopped at."""
    from mindmovie.costs import budget_enough, budget_short, format_usd

    if priced.est is None:
        unpriced = f"{name}: {format_usd(cap)} (not checked: see above)"
        return Check("budget", False, unpriced, required=False, info=True)
    est = replace(priced.est.upto(until), spent=priced.spent)
    what = f"a render{' --fresh' if priced.fresh else ''} of {priced.goals}" + (
        f" up to --until {until}" if until != "movie" else ""
    )
    if not est.paid:
        return Check("budget", True, f"{name}: {format_usd(cap)} ({what} pays for nothing)")
    had = ""
    if priced.spent > 1e-9:
        had = f", {format_usd(priced.spent)} of it {_spent_how(priced)},"
    said = budget_short(est, cap)
    if said is not None:
        left = max(0.0, cap - priced.spent)
        plan = est.planner
        # the plan may bill less than its estimate (known once billed), down to its prompt
        cheaper = plan.usd - priced.plan_least if plan is not None and plan.payable else 0.0
        least = est.total - max(0.0, cheaper)
        done = UNTIL_DONE.get(until, UNTIL_DONE["movie"])
        bills = ""
        if left < least - 1e-9:
            if cheaper > 1e-9:
                bills = f" However little the plan bills, it stops before {done}."
        elif left < est.total - 1e-9:
            bills = (
                " It could finish only if the calls bill less than estimated (the plan as "
                f"little as {format_usd(priced.plan_least)}, its prompt alone)."
            )
        enough = format_usd(budget_enough(est))
        fix = (
            ""
            if f"a --budget of {enough} finishes" in said
            else f" Raise {name} to at least {enough}."
        )
        # at or over the estimate (and the plan's hold), render only says it *may* stop
        # before its last call, and goes ahead: a warning, not "cannot run here"
        may_finish = left >= est.total - 1e-9 and est.plan_hold <= left + 1e-9
        detail = f"{name} ({what}): {said}{bills}{fix}"
        return Check("budget", False, detail, required=not may_finish)
    held = ""
    if format_usd(est.most_held) != format_usd(est.total):
        held = (
            f", up to {format_usd(est.most_held)} as the budget counts each call at the most "
            "it may bill"
        )
    return Check(
        "budget",
        True,
        f"{name}: {format_usd(cap)}{had.rstrip(',')} (enough for {what}: about "
        f"{format_usd(est.total)}{held})",
    )


def _spent_how(priced: Priced) -> str:
    """What the spend a render of `priced` starts from is: the run's ledger, or with
    --fresh the holds of the clip jobs still in flight that it carries from the run it
    sets aside (its budget counts them from its question on)."""
    if priced.fresh:
        return "held for clip jobs of the run set aside, still in flight, which it carries"
    return "spent already"


def _budget_check(
    settings: Settings,
    budget: float | None = None,
    until: str = "movie",
    priced: Priced | None = None,
) -> Check:
    """The cap as the render applies it (pipeline `_run` and `BudgetGate.reserve`):
    `budget` (render's --budget) when given, else budget_usd; on a fresh run: a FAIL
    row when the render would stop before any movie could be made, whatever the plan
    bills; a warning when it may, the calls' bills deciding; the figure otherwise;
    "unset" when unset. `until`: render's --until (`_least_spend`). `priced`: the
    person's goals (`doctor GOALS`), judged in place of the smallest (`_goals_budget`)."""
    from mindmovie.costs import format_usd
    from mindmovie.providers.base import InvalidRequest

    cap = settings.budget_usd if budget is None else budget
    name = "budget_usd" if budget is None else "--budget"
    if cap is None:
        # the cap is the run's (its ledger, earlier renders of it included), not one
        # render's: "caps one render" had a person resume with the same --budget and
        # meet "the budget ... is already used"
        return Check(
            "budget",
            True,
            "budget_usd: unset, no cap (`render --budget USD` caps the run's spend, what "
            "its earlier renders spent included)",
        )
    shown = f"{name}: {format_usd(cap)}"
    paid = sorted({settings.stage_provider(s) for s in UNTIL_STAGES[until]} - {"local"})
    if not paid:
        upto = f" up to --until {until}" if until != "movie" else ""
        return Check("budget", True, f"{shown} (preset {settings.preset} pays for nothing{upto})")
    if priced is not None:
        return _goals_budget(priced, cap, name, until)
    if cap <= 1e-9:
        # the render: "the budget $0.00 is already used", before anything is sent
        return Check(
            "budget",
            False,
            f"{shown}: render stops before its first paid call ({', '.join(paid)}); "
            f"raise {name} or {'unset it' if budget is None else 'leave it out'} (only a "
            "run with nothing left to pay for, "
            "composed again, goes ahead)",
        )
    try:
        least, why = _least_spend(settings, "enough", until)
        floor, floor_why = _least_spend(settings, "least", until)
    except (InvalidRequest, ConfigError, ValueError):
        # a model or option above is refused (its own FAIL row): nothing to price
        return Check("budget", False, f"{shown} (not checked: see above)", False, info=True)
    made = UNTIL_MAKES.get(until, "any new movie")  # what `render --until` makes first
    if cap < floor - 1e-9:
        return Check(
            "budget",
            False,
            f"{shown} is below {_usd_up(floor)}, the least the render must be let "
            f"spend before {made} can be made"
            f"{', however little the plan bills' if floor < least - 1e-9 else ''}: "
            f"{floor_why}; it would stop at the budget before then. Raise {name} to "
            f"at least {_usd_up(least)}",
        )
    if cap < least - 1e-9:
        # the plan's bill decides (known once it is billed): the render may finish, and
        # doctor failed a budget that rendered (with the simulator's plan, billed below
        # its estimate, a budget of just what the render needed was "below $0.15")
        return Check(
            "budget",
            False,
            f"{shown}: the render may stop at the budget before {made} is made: "
            f"it needs about {_usd_up(least)} ({why}), less only as far as those calls "
            f"bill less. Raise {name} to at least {_usd_up(least)} to have room for it",
            required=False,
        )
    return Check(
        "budget",
        True,
        # rounded up, as the FAIL row names it: to the nearest cent, the figure named
        # ($0.36 for $0.3605) set as the budget was a warning, the render stopped there
        f"{shown} ({'a new movie' if until == 'movie' else made} needs at least "
        f"{_usd_up(least)}: {why}; "
        "`mindmovie estimate` prices the whole run)",
    )


def _google_mode(
    settings: Settings, keys: Keys, located: Callable[[str], str] = lambda message: message
) -> Check:
    """The google client mode row. `located` puts where a setting leading a message was
    written (file:line, variable, flag) in front, as the CLI does for render's errors:
    a half-set project/location and a stage the mode refuses name their setting."""
    used = "google" in needed_providers(settings)
    try:
        from mindmovie.providers.google import _mode_for, describe_mode
    except ImportError as e:  # google-genai missing from the install
        return Check(
            "google mode",
            False,
            f"google-genai not importable: {e}; reinstall mindmovie with the README's "
            "install line (google-genai is one of its dependencies)",
            required=used,
        )
    text = describe_mode(settings, keys)
    ok = ":" not in text  # describe_mode appends ": <problem>" when something is missing
    ps = settings.providers.google
    from mindmovie.providers.google import _resolve_mode, sdk_base_url_variable

    if ps.base_url is None and (env := sdk_base_url_variable(_resolve_mode(settings))):
        from mindmovie.config import hide_url_secrets

        # said after the check above (an address holds a colon)
        text += (
            f"; calls go to {hide_url_secrets(env[1])} ({env[0]}, which google-genai reads "
            "when providers.google.base_url is null)"
        )
    if not ok and used and keys.google is None and not ps.project_mode:
        # the row ended "GOOGLE_API_KEY (or GEMINI_API_KEY) not set", nothing to do
        text += f"; {_set_key('google')}"
        if ps.vertexai:  # express mode; project mode uses ADC, no key
            text += " (or set providers.google.project and location to use ADC)"
    if ps.project_mode and not (ps.project and ps.location):
        # led by the half that is set, as render's error is: it named no file or line
        text = located(f"providers.google.{'project' if ps.project else 'location'}: {text}")
    if not ok and not used:
        # not a pass (the detail says what is missing) and not a failure: unused here
        return Check(
            "google mode", False, f"{text} (not used by this preset)", required=False, info=True
        )
    # project mode authenticates with ADC: without any, doctor said "ready" and every
    # google call of the render failed ("no usable Application Default Credentials")
    adc = ok and used and settings.providers.google.project_mode
    if adc:
        found, where = _adc_lookup()
        if found == "none":
            return Check("google mode", False, f"{text}: {where}")
        if found == "vm":  # not known to work, not known to fail: a warning
            return Check("google mode", False, f"{text}: {where}", required=False)
        text += f"; credentials from {where}, found without the network"
    if ok:
        # the mode must also suit each google stage: Veo refuses developer mode
        stages: tuple[Literal["keyframes", "video"], ...] = ("keyframes", "video")
        for stage in stages:
            if settings.stage_provider(stage) != "google":
                continue
            try:
                _mode_for(settings, keys, stage)
            except ConfigError as e:
                return Check("google mode", False, located(str(e)), required=used)
    return Check("google mode", ok or not used, text, required=used)


#: where Linux says which machine this is; google-auth reads it to tell a Compute
#: Engine VM when its metadata server does not answer (`_metadata.is_on_gce`)
GCE_PRODUCT_NAME_FILE = Path("/sys/class/dmi/id/product_name")

#: environment variables of Google's hosted runtimes whose metadata server holds the
#: credentials (they are not Compute Engine VMs to `_on_gce`): doctor warns there instead
#: of failing. A Kubernetes pod may be on GKE (Workload Identity) or anywhere else.
HOSTED_ON_GOOGLE = (
    ("K_SERVICE", "Cloud Run"),
    ("FUNCTION_TARGET", "Cloud Functions"),
    ("GAE_APPLICATION", "App Engine"),
    ("KUBERNETES_SERVICE_HOST", "a Kubernetes pod (GKE's metadata server, if it is GKE)"),
)

ADC_FIX = (
    "run `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
    "to a key file, or unset providers.google.project and location to use express mode "
    "with an API key"
)


def _adc_file_verdict(path: str, where: str) -> tuple[Literal["found", "none"], str]:
    """(found, where) for the credentials file google-auth would use, or why it cannot."""
    from mindmovie.providers.google import adc_file_problem

    if problem := adc_file_problem(path):
        return "none", (
            f"Application Default Credentials in {where} cannot be used: {problem}; {ADC_FIX}"
        )
    return "found", where


def _adc_lookup() -> tuple[Literal["found", "vm", "none"], str]:
    """(found, where) for Application Default Credentials, looking only where
    `google.auth.default` (which google-genai calls in project mode) looks without the
    network, in its order: GOOGLE_APPLICATION_CREDENTIALS, then gcloud's well-known file.
    Its last source, the Compute Engine metadata server, is not asked (an HTTP request
    that takes seconds where that address is blackholed); a machine that says it is a
    Compute Engine VM is named instead. Reads files and the environment only."""
    from google.auth import _cloud_sdk, environment_vars

    gcloud_file = _cloud_sdk.get_application_default_credentials_path()  # type: ignore[no-untyped-call]
    explicit = os.environ.get(environment_vars.CREDENTIALS, "")
    if explicit and explicit != gcloud_file:
        # google-auth uses this file or fails: it does not look further
        where = f"{explicit} (GOOGLE_APPLICATION_CREDENTIALS)"
        return _adc_file_verdict(explicit, where)
    looked = []
    if not explicit:
        unset = "GOOGLE_APPLICATION_CREDENTIALS (not set"
        if process_env().get(environment_vars.CREDENTIALS):
            # mindmovie reads its keys from ./.env, but google-auth reads only os.environ
            unset += "; ./.env sets it, but google-auth reads only the environment: export it"
        looked.append(unset + ")")
    if os.path.isfile(gcloud_file):
        where = f"{gcloud_file} (gcloud)"
        return _adc_file_verdict(gcloud_file, where)
    looked.append(f"{gcloud_file} (gcloud; missing)")
    searched = ", ".join(looked)
    if os.environ.get(environment_vars.NO_GCE_CHECK) != "True":
        if _on_gce():
            return "vm", (
                f"none in {searched}; this machine says it is a Compute Engine VM "
                f"({GCE_PRODUCT_NAME_FILE}): the render would ask its metadata server, "
                "which doctor does not (it sends no request)"
            )
        if hosted := [
            f"{what} ({var} is set)" for var, what in HOSTED_ON_GOOGLE if os.environ.get(var)
        ]:
            # these serve credentials from a metadata server too, with no VM to read
            return "vm", (
                f"none in {searched}; this looks like {hosted[0]}: the render would ask "
                "its metadata server, which doctor does not (it sends no request)"
            )
    return "none", (
        f"no Application Default Credentials found: looked in {searched} (local files only; "
        f"the Compute Engine metadata server is not asked); {ADC_FIX}"
    )


def _on_gce() -> bool:
    try:
        return GCE_PRODUCT_NAME_FILE.read_text().strip().startswith("Google")
    except (OSError, ValueError):
        return False


def _catalog_age(today: dt.date | None = None) -> Check:
    checked = catalog.catalog_checked_date()
    age = catalog.catalog_age_days(today)
    stale = age > CATALOG_STALE_DAYS
    return Check(
        "catalog",
        not stale,
        f"prices checked {checked.isoformat()} ("
        # a clock behind the catalog's date said "(-3635 days ago)"
        + (f"{age} days ago)" if age >= 0 else "a date ahead of this machine's clock)")
        + ("; re-check prices and model ids before paying" if stale else ""),
        required=False,
    )


def run_checks(
    settings: Settings,
    keys: Keys | None = None,
    located: Callable[[str], str] = lambda message: message,
    *,
    out: Path | None = None,
    budget: float | None = None,
    until: str = "movie",
    goals: Path | None = None,
    fresh: bool = False,
) -> list[Check]:
    """Every row of `doctor`; `located` as for `_google_mode` (the CLI's `_located`).
    `out` and `budget`: render's --out and --budget, checked in place of output_dir and
    budget_usd as the render uses them; `until`: render's --until, the stages the
    budget is checked for; `goals`: render's GOALS, whose render the budget is checked
    against (`price_goals`), and whose run folder is checked for a render running there;
    `fresh`: render's --fresh, the goals priced as a new run (nothing is moved)."""
    keys = keys or Keys.from_env()
    priced = price_goals(settings, goals, out, fresh=fresh) if goals is not None else None
    py = sys.version_info
    checks = [
        Check("python", py >= (3, 11), f"{py.major}.{py.minor}.{py.micro} (needs 3.11+)"),
        *_ffmpeg_checks(),
        _font_check(),
        _fallback_font_check(),
        _text_layout_check(),
        _writable(settings, out, priced.run_dir if priced is not None else None),
        _temp_folder(),
        _http_check(settings),
        *_dotenv_check(),
        *_lower_case_variables_check(),
        *_key_checks(settings, keys),
        *_model_checks(settings, located),
        *([_goals_check(priced, until)] if priced is not None else []),
        _budget_check(settings, budget, until, priced),
        _google_mode(settings, keys, located),
        _catalog_age(),
    ]
    return checks


def can_run(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.required)


_MARKS: dict[Status, str] = {"ok": "green", "FAIL": "red", "warn": "yellow", "info": "cyan"}


#: the fewest columns a check's detail is given in the table (a word of it on a line)
_DETAIL_MIN = 10


def doctor_table(checks: list[Check], preset: str, width: int | None = None) -> Table | Group:
    """The `doctor` table: a row per check. Details are never cut short (a path folds
    onto the next line instead of ending in "…") nor read as rich markup.

    On a terminal of `width` columns too narrow for the check names, the status and
    `_DETAIL_MIN` of detail (`COLUMNS=30`), a line per check instead ("ok python: ..."):
    the table gave the detail one letter a line or none at all, and cut the status to
    "…", so a FAIL row said neither that it failed nor why."""
    title = f"mindmovie doctor (preset {preset})"
    # two edges, two rules between the three columns, a space either side of each cell
    needs = max((len(c.name) for c in checks), default=0) + len("FAIL") + _DETAIL_MIN + 10
    if width is not None and width < needs:
        lines = [Text(title, style="italic")]
        for c in checks:
            lines.append(Text.assemble((c.status, _MARKS[c.status]), f" {c.name}: ", c.detail))
        return Group(*lines)
    table = Table(title=title)
    table.add_column("check", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for c in checks:
        table.add_row(c.name, Text(c.status, style=_MARKS[c.status]), Text(c.detail))
    return table


def _secret(key: SecretStr | None) -> str | None:
    return key.get_secret_value() if key is not None else None


def shutdown_said(spec: ModelSpec, today: dt.date | None = None) -> str | None:
    """A line on `spec`'s shutdown when the date its provider lists for it has come
    (catalog.toml's `shutdown`, with its note), else None."""
    when = spec.shutdown
    if when is None or (today or dt.date.today()) < when:
        return None
    return (
        f"{spec.key} ({spec.provider} {spec.stage}): its provider lists its shutdown for "
        f"{when.isoformat()}; {spec.note or 'choose another model'}"
    )


def _key_said(names: str, key: str | None, provider: str) -> str:
    """A provider's key as `providers` lists it; an unusable one by the variable it was
    read from (`key_variable`), as doctor and render name it: "GOOGLE_API_KEY or
    GEMINI_API_KEY set but unusable" sent the person to a GOOGLE_API_KEY not even set."""
    state = key_state(key, provider)
    if key is not None and state != "set" and (var := key_variable(provider, key)):
        return f"{var} {state}"
    return f"{names} {state}"


def shutdown_lines(settings: Settings) -> list[tuple[str, str]]:
    """(stage, `shutdown_said`) for each model `settings` use that is past the shutdown
    its provider lists: doctor's warn rows and the render's warnings before it spends.
    A model the catalog does not know is left to the errors that name it."""
    from mindmovie.costs import stage_spec
    from mindmovie.providers.base import InvalidRequest

    lines = []
    for stage in ("planner", "keyframes", "video"):
        try:
            spec = stage_spec(settings, stage)
        except InvalidRequest:
            continue
        if spec is not None and (said := shutdown_said(spec)):
            lines.append((stage, said))
    return lines


def _price_text(rates: Mapping[str, float], unit: str) -> str:
    """A model's rates, each in its own unit: Gemini's per-image price sits with its token
    rates and tokens an image, and one unit after them all read "tokens_per_image 1290
    $/image", as if an image cost $1290."""
    said = []
    for k, v in rates.items():
        if k.endswith("_per_mtok"):
            said.append(f"{k.removesuffix('_per_mtok')} {v:g} $/1M tokens")
        elif k == "tokens_per_image":
            said.append(f"{v:g} tokens/image")
        else:
            said.append(f"{k} {v:g}")
    plain = [x for x in said if "/" not in x]
    if len(plain) == len(said):
        return f"{', '.join(said)} {unit}"
    return ", ".join(f"{x} {unit}" if x in plain else x for x in said)


def providers_rows(keys: Keys | None = None) -> list[dict[str, Any]]:
    """The catalog as rows for `mindmovie providers` (key presence, never values), with
    each price's source and the date it was checked. `model` is the id config.yaml
    takes ("seedance-1-5-pro", not "seedance-1-5-pro (default)", which a script reading
    --json had to cut), and `default` says whether the preset picks it."""
    from mindmovie.catalog import models

    keys = keys or Keys.from_env()
    rows: list[dict[str, Any]] = [
        {
            "provider": "local",
            "stage": "all",
            "model": "local",
            "default": True,
            "capabilities": "offline; your photos as keyframes",
            "price": "free",
            # every row has every key (a script reading `r["past_shutdown"]` met a
            # KeyError at this row: options audit)
            "note": "",
            "shutdown": "",
            "past_shutdown": False,
            "key": "none needed",
            "price_source": "",
            "price_checked": "",
        }
    ]
    for m in models():
        cap = m.capabilities
        bits = []
        if cap.reference_images:
            bits.append(f"refs≤{cap.max_references}")
        if cap.first_frame:
            bits.append("first frame")
        if cap.last_frame:
            bits.append("last frame")
        if cap.audio:
            bits.append("audio")
        if cap.image_required:
            bits.append("edits a photo")
        d = cap.allowed_durations()
        if d:
            bits.append(f"{d[0]}-{d[-1]} s" if len(d) > 3 else "/".join(map(str, d)) + " s")
        if cap.resolutions:
            bits.append("/".join(cap.resolutions))
        p = m.price
        unit = {
            "tokens_video": "$/1M tokens",
            "per_second": "$/s",
            "per_image": "$/image",
            "per_mtok": "$/1M tokens",
        }[p.formula]
        var = " or ".join(KEY_VARIABLES[m.provider])
        rows.append(
            {
                "provider": m.provider,
                "stage": m.stage,
                "model": m.key,
                "default": m.default,
                "capabilities": ", ".join(bits) or "-",
                "price": _price_text(p.rates, unit)
                + (" (3rd-party source)" if p.third_party else ""),
                # (catalog.toml's: a model's shutdown date, an unverified id or price)
                "note": m.note or "",
                "shutdown": m.shutdown.isoformat() if m.shutdown else "",
                "past_shutdown": shutdown_said(m) is not None,
                "key": _key_said(var, _secret(getattr(keys, m.provider)), m.provider),
                "price_source": p.source,
                "price_checked": p.checked.isoformat(),
            }
        )
    return rows


__all__ = ["Check", "can_run", "doctor_table", "needed_providers", "providers_rows", "run_checks"]
