"""Tiny real media files for tests: goals.yaml photos and music are checked on load
(a photo must be a picture, the music must have sound), so placeholders will not do."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    import numpy as np


#: the rate sound is decoded at for analysis
AUDIO_RATE = 24000


def pcm(path: Path, rate: int = AUDIO_RATE) -> np.ndarray:
    """(2, samples) float in [-1, 1], decoded by ffmpeg: sound as a listener gets it."""
    import subprocess

    import numpy as np

    from mindmovie.media import ffmpeg_exe

    proc = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2",
         "-ar", str(rate), "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, 2).T.astype(np.float64)


def spectral_peaks(x: np.ndarray, count: int, rate: int = AUDIO_RATE) -> list[float]:
    """The `count` strongest spectral peaks (Hz) of a mono window, one per local maximum."""
    import numpy as np

    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    local = (spec[1:-1] > spec[:-2]) & (spec[1:-1] >= spec[2:])
    idx = np.nonzero(local)[0] + 1
    best = idx[np.argsort(spec[idx])[::-1][:count]]
    return sorted(float(freqs[i]) for i in best)


def sps_field(path: Path, name: str) -> list[int]:
    """Field `name` (e.g. "level_idc") of every H.264 sequence parameter set in the
    movie's video stream, in order, as ffmpeg's trace_headers reads them: a decoder
    reads each one (the ffmpeg engine's movie has one per segment)."""
    import re
    import subprocess

    from mindmovie.media import ffmpeg_exe

    log = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy",
         "-bsf:v", "trace_headers", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    return [int(v) for v in re.findall(rf"\] \d+\s+{name}\s+[01]+ = (\d+)", log)]


def write_photo(path: Path, colour: tuple[int, int, int] = (200, 120, 60)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "PNG" if path.suffix.lower() == ".png" else "JPEG"
    Image.new("RGB", (32, 24), colour).save(path, format=fmt)
    return path


#: what `write_tagged_photo` hides in a photo's metadata, none of it in its pixels
PRIVATE_TAGS = (b"SerialNo-4711", b"SECRET-XMP", b"SECRET-NOTE", b"Exif\0\0")


def write_tagged_photo(path: Path, fmt: str, orientation: int = 1, icc: bool = True) -> Path:
    """A small noisy photo (`fmt`: JPEG, PNG or WebP) as a phone or photo app leaves it:
    EXIF with a GPS position (IFD 0x8825), the camera's serial number, the date taken
    and `orientation`, an XMP packet, a comment or text chunk, and (`icc`) an ICC
    profile (to be kept). `PRIVATE_TAGS` are the bytes that must not leave the machine."""
    import numpy as np
    from PIL import PngImagePlugin

    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0132] = "2026:07:14 09:30:00"
    exif.get_ifd(0x8769)[0xA431] = "SerialNo-4711"  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>SECRET-XMP</rdf:RDF></x:xmpmeta>'
    pixels = np.random.default_rng(7).integers(0, 256, (24, 40, 3), dtype=np.uint8)
    kw: dict[str, object] = {"exif": exif, "xmp": xmp}
    if icc:
        kw["icc_profile"] = rgb_icc_profile()
    if fmt == "JPEG":
        kw["comment"] = b"SECRET-NOTE"
    elif fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "SECRET-NOTE")
        text.add_itxt("XML:com.adobe.xmp", xmp.decode())
        kw["pnginfo"] = text
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=fmt, **kw)
    return path


def decoded_picture(data: bytes) -> tuple[np.ndarray, dict[int, object], dict[str, object]]:
    """A picture's pixels (RGB), its EXIF and Pillow's info (where XMP and text land)."""
    import io

    import numpy as np

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB")), dict(im.getexif()), dict(im.info)


@functools.cache
def _song(freq: int) -> bytes:
    import tempfile

    from mindmovie.media import run_ffmpeg

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "song.mp3"
        run_ffmpeg(["-f", "lavfi", "-i", f"sine=f={freq}:d=1.2", "-c:a", "libmp3lame", str(out)])
        return out.read_bytes()


def write_music(path: Path, freq: int = 440) -> Path:
    """A 1.2 s tone (mp3 bytes whatever the name), cached per frequency: music under 1 s
    is refused (`media.MIN_MUSIC_SECONDS`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_song(freq))
    return path


def write_wav(path: Path, frames: int, rate: int = 44100) -> Path:
    """A valid 16-bit mono WAV of `frames` samples (a 440 Hz tone), by the stdlib: for
    sounds too short to be music (ffmpeg's encoders pad them)."""
    import math
    import struct
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                for i in range(frames)
            )
        )
    return path


#: Display P3's colorants, adapted to D50 as ICC profiles hold them (Apple's profile)
DISPLAY_P3 = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))


def rgb_icc_profile(
    colorants: tuple[tuple[float, float, float], ...] = DISPLAY_P3, gamma: float = 2.2
) -> bytes:
    """A minimal ICC v2 RGB display profile (three colorants, one gamma curve): what a
    phone or camera embeds in a photo, made here as no profile file ships with the tests."""
    return _icc_profile(b"RGB ", gamma, colorants)


def grey_icc_profile(gamma: float = 1.0) -> bytes:
    """A minimal ICC v2 greyscale profile (one gamma curve), as a scanner or Photoshop
    ("Gray Gamma 1.8", "Dot Gain 20%") embeds in a greyscale photo."""
    return _icc_profile(b"GRAY", gamma)


def _icc_profile(
    space: bytes, gamma: float, colorants: tuple[tuple[float, float, float], ...] = ()
) -> bytes:
    import struct

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(v: tuple[float, float, float]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(c) for c in v)

    d50 = (0.9642, 1.0, 0.8249)
    curv = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    name = b"test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(name)) + name + b"\0" * 78
    tags = [(b"desc", desc), (b"wtpt", xyz(d50))]
    if space == b"GRAY":
        tags.append((b"kTRC", curv))
    else:
        tags += [(b"rXYZ", xyz(colorants[0])), (b"gXYZ", xyz(colorants[1]))]
        tags += [(b"bXYZ", xyz(colorants[2])), (b"rTRC", curv), (b"gTRC", curv)]
        tags.append((b"bTRC", curv))
    tags.append((b"cprt", b"text\0\0\0\0none\0"))
    table, data = b"", b""
    start = 128 + 4 + 12 * len(tags)
    for sig, body in tags:
        data += b"\0" * (-(start + len(data)) % 4)
        table += sig + struct.pack(">II", start + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = struct.pack(
        ">I4sI4s4s4s", 128 + len(body), b"\0" * 4, 0x02100000, b"mntr", space, b"XYZ "
    )
    header += b"\0" * 12 + b"acsp" + b"\0" * 28 + b"".join(s15(c) for c in d50) + b"\0" * 48
    assert len(header) == 128
    return header + body


def write_undecodable_music(path: Path) -> Path:
    """A 0.5 s AAC song whose header and index read but whose samples are noise bytes:
    no packet decodes (a damaged download). Same bytes every time."""
    import random

    from mindmovie.media import run_ffmpeg

    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=0.5", "-c:a", "aac", "-f", "mp4", str(path)])
    data = bytearray(path.read_bytes())
    at = data.index(b"mdat")  # ffmpeg writes the samples before the index (moov)
    end = at - 4 + int.from_bytes(data[at - 4 : at], "big")
    rng = random.Random(0)
    data[at + 4 : end] = bytes(rng.randrange(256) for _ in range(end - at - 4))
    path.write_bytes(data)
    return path


def ffmpeg_children(parent: int | None = None, writing: str = "") -> list[int]:
    """The ffmpeg processes process `parent` (by default this test process) started that
    have not ended, from /proc (Linux): to stop one (SIGSTOP) as a test of what a stopped
    or paused ffmpeg does. With `writing`, only those with it in an argument."""
    import os

    parent = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm, rest = (entry / "stat").read_text().rsplit(")", 1)
            args = (entry / "cmdline").read_bytes().split(b"\0") if writing else []
        except OSError:
            continue
        state, ppid = rest.split()[:2]
        ours = int(ppid) == parent and state != "Z"
        if (
            ours
            and comm.split("(", 1)[1].startswith("ffmpeg")
            and (not writing or any(writing.encode() in a for a in args))
        ):
            found.append(int(entry.name))
    return found
