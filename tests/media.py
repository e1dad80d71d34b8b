"""Tiny real media files for tests: goals.yaml photos and music are checked on load
(a photo must be a picture, the music must have sound), so placeholders will not do."""

from __future__ import annotations

import functools
from pathlib import Path

from PIL import Image


def write_photo(path: Path, colour: tuple[int, int, int] = (200, 120, 60)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "PNG" if path.suffix.lower() == ".png" else "JPEG"
    Image.new("RGB", (32, 24), colour).save(path, format=fmt)
    return path


@functools.cache
def _song(freq: int) -> bytes:
    import tempfile

    from mindmovie.media import run_ffmpeg

    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "song.mp3"
        run_ffmpeg(["-f", "lavfi", "-i", f"sine=f={freq}:d=0.3", "-c:a", "libmp3lame", str(out)])
        return out.read_bytes()


def write_music(path: Path, freq: int = 440) -> Path:
    """A 0.3 s tone (mp3 bytes whatever the name), cached per frequency."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_song(freq))
    return path
