"""Real media for the simulator: PNGs (Pillow) and H.264/AAC MP4s (imageio's ffmpeg).

Both are cached in memory (per process) and MP4s also on disk under the temp dir, keyed
by everything that shapes them, so that a test suite pays for each distinct clip once.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import tempfile
import threading
from functools import cache
from pathlib import Path

_lock = threading.Lock()
_key_locks: dict[tuple[object, ...], threading.Lock] = {}
_png_cache: dict[tuple[int, int, int], bytes] = {}
_mp4_cache: dict[tuple[int, int, int, float, bool], bytes] = {}

_PALETTE = [(200, 60, 60), (60, 160, 90), (60, 90, 200), (210, 170, 40), (140, 70, 180)]


def scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    """Pixel size after `scale`, kept even (H.264 4:2:0 needs even sides) and ≥ 16."""
    if scale == 1.0:
        return width, height
    return max(16, round(width * scale / 2) * 2), max(16, round(height * scale / 2) * 2)


def _key_lock(key: tuple[object, ...]) -> threading.Lock:
    with _lock:
        return _key_locks.setdefault(key, threading.Lock())


def png(width: int, height: int, variant: int = 0) -> bytes:
    """A valid RGB PNG of exactly width×height: a gradient tinted by `variant`."""
    key = (width, height, variant % len(_PALETTE))
    with _key_lock(("png", *key)):
        if key in _png_cache:
            return _png_cache[key]
        import numpy as np
        from PIL import Image

        r, g, b = _PALETTE[key[2]]
        xs = np.linspace(0.3, 1.0, width, dtype=np.float32)[None, :]
        ys = np.linspace(1.0, 0.5, height, dtype=np.float32)[:, None]
        shade = xs * ys
        arr = np.stack([shade * r, shade * g, shade * b], axis=-1).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG", compress_level=1)
        data = buf.getvalue()
        _png_cache[key] = data
        return data


@cache
def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _disk_dir() -> Path:
    d = Path(os.environ.get("MINDMOVIE_SIM_CACHE", Path(tempfile.gettempdir()) / "mindmovie-sim"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def mp4(
    width: int, height: int, fps: int, duration: float, audio: bool, transfer: str = ""
) -> bytes:
    """A valid MP4: H.264 testsrc2 of width×height at fps for duration s, AAC sine if audio;
    `transfer` ("smpte2084", "arib-std-b67"): tagged HDR (BT.2020) as such a model's are."""
    key = (width, height, fps, float(duration), bool(audio), transfer)
    with _key_lock(("mp4", *key)):
        if key in _mp4_cache:
            return _mp4_cache[key]
        parts = ("v2", *key) if transfer else ("v1", *key[:5])  # SDR keeps its cached name
        name = hashlib.sha256(repr(parts).encode()).hexdigest()[:20] + ".mp4"
        path = _disk_dir() / name
        if path.exists() and path.stat().st_size > 0:
            data = path.read_bytes()
        else:
            data = _encode(width, height, fps, duration, audio, transfer)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        _mp4_cache[key] = data
        return data


def _encode(
    width: int, height: int, fps: int, duration: float, audio: bool, transfer: str = ""
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="simmp4-") as td:
        out = Path(td) / "out.mp4"
        cmd = [
            _ffmpeg(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={width}x{height}:rate={fps}",
        ]
        if audio:
            cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
        cmd += [
            "-t",
            f"{duration:g}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "35",
            "-pix_fmt",
            "yuv420p",
            "-r",
            str(fps),
        ]
        if transfer:  # tags only, what the compositor reads to tone map (the frames'
            # own: x264 wrote -color_trc's as "unknown" from frames that had none)
            cmd += ["-vf", f"setparams=color_trc={transfer}:color_primaries=bt2020:"
                    "colorspace=bt2020nc"]  # fmt: skip
        if audio:
            cmd += ["-c:a", "aac", "-b:a", "48k", "-ac", "2"]
        cmd += ["-movflags", "+faststart", str(out)]
        proc = subprocess.run(cmd, capture_output=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(
                "sim: ffmpeg failed: " + proc.stderr.decode("utf-8", "replace")[-800:]
            )
        return out.read_bytes()
