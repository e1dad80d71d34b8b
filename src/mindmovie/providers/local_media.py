"""The offline keyframes and motion: a person's photo fitted to the frame or a painted
scene, and the Ken Burns clip made from it (see `local` for the planner).

Apart from `local` so that commands which only plan, estimate or report (`plan`,
`estimate`, `status`) do not import numpy and Pillow.
"""

from __future__ import annotations

import asyncio
import colorsys
import functools
import io
import itertools
import math
import re
import subprocess
import tempfile
import warnings
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import ImageOps, UnidentifiedImageError

from mindmovie.fsutil import commit_file, make_dirs, tmp_path_for
from mindmovie.media import ffmpeg_exe, ffmpeg_path, killed_by, running
from mindmovie.pillow import (
    ADOBE_RGB,
    CICP_HLG,
    CICP_PQ,
    CICP_PRIMARIES,
    Image,
    converted,
    tagged_colours,
)
from mindmovie.providers.base import (
    LOCAL_JOB_PREFIX,
    EncoderEnded,
    ImageResult,
    InvalidRequest,
    JobFailed,
    JobState,
    KeyframeRequest,
    VideoRequest,
)
from mindmovie.providers.local import KEYFRAMES_MODEL, MOTION_MODEL, stable_int

F32 = NDArray[np.floating[Any]]
RGB = tuple[float, float, float]


# ====================================================================== keyframes
@dataclass(frozen=True)
class Palette:
    """Colours of a painted keyframe, 0..1 RGB."""

    sky_top: RGB
    sky_mid: RGB
    horizon: RGB
    sun: RGB
    land: tuple[RGB, RGB, RGB]  # far, mid, near
    accent: RGB
    kind: str  # hills | mountains | sea | city
    bokeh: bool


def _c(r: int, g: int, b: int) -> RGB:
    return (r / 255.0, g / 255.0, b / 255.0)


PALETTES: dict[str, Palette] = {
    "health": Palette(
        _c(38, 118, 140),
        _c(120, 190, 190),
        _c(255, 203, 150),
        _c(255, 240, 200),
        (_c(120, 172, 150), _c(62, 140, 100), _c(28, 88, 60)),
        _c(200, 255, 220),
        "hills",
        False,
    ),
    "wealth": Palette(
        _c(14, 24, 62),
        _c(60, 70, 100),
        _c(240, 190, 92),
        _c(255, 224, 150),
        (_c(30, 84, 66), _c(16, 58, 46), _c(8, 32, 30)),
        _c(255, 210, 120),
        "hills",
        True,
    ),
    "career": Palette(
        _c(36, 66, 108),
        _c(110, 140, 175),
        _c(250, 214, 168),
        _c(255, 242, 214),
        (_c(96, 116, 140), _c(58, 78, 104), _c(30, 44, 64)),
        _c(255, 222, 170),
        "city",
        False,
    ),
    "relationships": Palette(
        _c(170, 96, 122),
        _c(232, 150, 150),
        _c(255, 208, 172),
        _c(255, 238, 214),
        (_c(204, 136, 134), _c(160, 96, 106), _c(104, 56, 72)),
        _c(255, 196, 184),
        "hills",
        True,
    ),
    "growth": Palette(
        _c(60, 44, 118),
        _c(140, 130, 200),
        _c(252, 196, 164),
        _c(255, 234, 206),
        (_c(124, 114, 176), _c(80, 70, 132), _c(42, 38, 84)),
        _c(214, 194, 255),
        "mountains",
        False,
    ),
    "lifestyle": Palette(
        _c(26, 140, 168),
        _c(120, 200, 205),
        _c(255, 172, 112),
        _c(255, 224, 160),
        (_c(40, 150, 168), _c(26, 110, 140), _c(232, 204, 156)),
        _c(255, 230, 190),
        "sea",
        False,
    ),
}
_KIND_WORDS = (
    ("sea", ("sea", "ocean", "beach", "coast", "shore", "surf", "lake", "island", "sail")),
    ("city", ("city", "office", "skyline", "downtown", "studio", "stage", "street")),
    ("mountains", ("mountain", "peak", "summit", "alps", "climb")),
    ("hills", ("garden", "park", "forest", "meadow", "field", "trail", "countryside")),
)


def _hsv(h: float, s: float, v: float) -> RGB:
    return colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))


def palette_for(category: str, prompt: str = "") -> Palette:
    """The category's palette; unknown categories get one derived from the name's hash.

    The prompt may change the landscape (a beach prompt paints the sea whatever the
    category) so that the animatic matches the words on screen.
    """
    key = category.strip().lower()
    pal = PALETTES.get(key)
    if pal is None:
        h = (stable_int("palette", key) % 1000) / 1000.0
        pal = Palette(
            _hsv(h, 0.65, 0.45),
            _hsv(h + 0.03, 0.35, 0.78),
            _hsv(h + 0.45, 0.35, 1.0),
            _hsv(h + 0.45, 0.15, 1.0),
            (_hsv(h - 0.05, 0.30, 0.62), _hsv(h - 0.05, 0.45, 0.45), _hsv(h - 0.05, 0.55, 0.26)),
            _hsv(h + 0.5, 0.25, 1.0),
            ("hills", "mountains", "sea", "city")[stable_int("kind", key) % 4],
            stable_int("bokeh", key) % 2 == 0,
        )
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    for kind, keys in _KIND_WORDS:
        if any(k in words or f"{k}s" in words for k in keys):
            if kind != pal.kind:
                pal = Palette(
                    pal.sky_top,
                    pal.sky_mid,
                    pal.horizon,
                    pal.sun,
                    pal.land,
                    pal.accent,
                    kind,
                    pal.bokeh,
                )
            break
    return pal


def _smoothstep(e0: float | F32, e1: float | F32, x: F32) -> F32:
    t = np.clip((x - e0) / (np.asarray(e1) - e0 + 1e-9), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _jitter(c: RGB, rng: np.random.Generator, amount: float = 0.06) -> NDArray[np.float32]:
    j = rng.uniform(1.0 - amount, 1.0 + amount, 3)
    return np.clip(np.asarray(c) * j, 0.0, 1.0).astype(np.float32)


def _ridge(rng: np.random.Generator, width: int, octaves: int, rough: float) -> F32:
    """1-D fractal noise in [-1, 1] along x: the silhouette of hills or mountains."""
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)
    out = np.zeros(width, dtype=np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        n = 3 * 2**o + 1
        pts = rng.uniform(-1.0, 1.0, n + 1).astype(np.float32)
        # cosine interpolation: smooth slopes for hills, sharper peaks come from octaves
        idx = np.minimum((x * n).astype(np.int32), n - 1)
        f = x * n - idx
        w = (1.0 - np.cos(f * np.pi)) * 0.5
        out += amp * (pts[idx] * (1.0 - w) + pts[idx + 1] * w)
        total += amp
        amp *= rough
    return (out / total).astype(np.float32)


def _blend(img: F32, r0: int, mask: F32, colour: F32) -> None:
    """Lay `colour` over rows r0.. of `img` through `mask` (in place; rows above untouched)."""
    part = img[r0:]
    part += (colour - part) * mask[..., None]


def paint_keyframe(prompt: str, seed: int, width: int, height: int, category: str = "") -> bytes:
    """Paint a calm, text-free landscape as PNG bytes, deterministic in (prompt, seed).

    Sky gradient, sun glow, layered horizon (hills, mountains, sea or skyline), optional
    bokeh, fine grain and a vignette: something pleasant to review, not a grey box.
    """
    rng = np.random.default_rng(stable_int("paint", prompt, seed))
    pal = palette_for(category, prompt)
    W, H = width, height
    y = np.linspace(0.0, 1.0, H, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, W, dtype=np.float32)[None, :]
    aspect = W / H

    top, mid, hor = _jitter(pal.sky_top, rng), _jitter(pal.sky_mid, rng), _jitter(pal.horizon, rng)
    sun_c = _jitter(pal.sun, rng, 0.03)
    horizon = float(rng.uniform(0.56, 0.68))
    # --- sky: three-stop vertical gradient, a touch of diagonal light
    t = np.clip(y / horizon, 0.0, 1.0)
    t1 = np.clip(t / 0.55, 0.0, 1.0)
    t2 = np.clip((t - 0.55) / 0.45, 0.0, 1.0) ** 1.2
    sky_col = (top * (1 - t1[..., None]) + mid * t1[..., None]) * (1 - t2[..., None]) + hor * t2[
        ..., None
    ]
    img: F32 = np.empty((H, W, 3), dtype=np.float32)
    img[:] = sky_col.astype(np.float32)

    # --- sun and glow (screen blend so it brightens without clipping to flat white)
    sx = float(rng.uniform(0.22, 0.78))
    sy = horizon - float(rng.uniform(0.03, 0.16))
    d = np.sqrt(((x - sx) * aspect) ** 2 + (y - sy) ** 2)
    glow = 0.55 * np.exp(-((d / 0.38) ** 2)) + 0.45 * np.exp(-((d / 0.09) ** 2))
    r_sun = float(rng.uniform(0.035, 0.06))
    glow = np.clip(glow + _smoothstep(r_sun + 0.004, r_sun - 0.004, d), 0.0, 1.0)
    img = 1.0 - (1.0 - img) * (1.0 - glow[..., None] * sun_c)

    far, midl, near = (_jitter(c, rng) for c in pal.land)
    haze = hor
    edge = 1.2 / H
    if pal.kind == "sea":
        # water below the horizon: the sky's horizon colour deepening to the sea colour,
        # with a glittering path under the sun
        r0 = max(0, int(horizon * H) - 2)
        ys = y[r0:]
        wt = np.clip((ys - horizon) / (1.0 - horizon), 0.0, 1.0) ** 0.6
        water = hor * 0.75 * (1 - wt[..., None]) + far * wt[..., None]
        sparkle = rng.uniform(0.0, 1.0, (H - r0, 1)).astype(np.float32) ** 3
        path = np.exp(-(((x - sx) * aspect / (0.05 + 0.25 * wt)) ** 2)) * sparkle
        water = water + (path * 0.8)[..., None] * sun_c
        _blend(img, r0, _smoothstep(horizon - edge, horizon + edge, ys), np.clip(water, 0, 1))
        # a beach in the foreground
        sand_y = 0.86 + 0.06 * _ridge(rng, W, 2, 0.4)[None, :] + 0.04 * (x - 0.5)
        r0 = max(0, int(float(sand_y.min()) * H) - 3)
        ys = y[r0:]
        sand = near * (1.0 - 0.25 * np.clip((ys - 0.85) / 0.15, 0, 1))[..., None]
        _blend(img, r0, _smoothstep(sand_y - 2 * edge, sand_y + 2 * edge, ys), sand)
    elif pal.kind == "city":
        for layer, (col, base, hmax) in enumerate(
            ((far, horizon - 0.02, 0.22), (near, horizon + 0.06, 0.30))
        ):
            sky_line = np.full(W, base, dtype=np.float32)
            xpos = 0
            while xpos < W:
                bw = int(rng.uniform(0.025, 0.07) * W) + 1
                sky_line[xpos : xpos + bw] = base - float(rng.uniform(0.04, hmax))
                xpos += bw + int(rng.uniform(0.0, 0.01) * W)
            r0 = max(0, int(float(sky_line.min()) * H) - 2)
            ys = y[r0:]
            m = _smoothstep(sky_line[None, :] - edge, sky_line[None, :] + edge, ys)
            c = np.clip(col * 0.9 + haze * (0.35 if layer == 0 else 0.12), 0, 1)
            shade = c[None, None, :] * (1.0 - 0.35 * (ys - horizon).clip(0))[..., None]
            if layer == 1:
                # warm lit windows on a sparse grid, only inside the near buildings
                cell_x = (x * W / max(6.0, W / 160)).astype(np.int32)
                cell_y = (ys * H / max(8.0, H / 90)).astype(np.int32)
                lit = ((cell_x * 73856093) ^ (cell_y * 19349663) ^ (seed & 0xFFFF)) % 7 == 0
                lit &= (cell_x % 2 == 0) & (cell_y % 2 == 0)
                shade = shade + lit[..., None].astype(np.float32) * (sun_c * 0.55)
            _blend(img, r0, m, shade)
        r0 = int(0.93 * H) - 2
        ys = y[r0:]
        _blend(img, r0, _smoothstep(0.93 - edge, 0.93 + edge, ys), np.asarray(near * 0.6))
    else:
        octaves, rough, amp = (6, 0.55, 0.16) if pal.kind == "mountains" else (3, 0.45, 0.06)
        layers = (
            (far, horizon - 0.02, 0.55),
            (midl, horizon + 0.08, 0.25),
            (near, horizon + 0.2, 0.0),
        )
        lit = 0.18 * np.exp(-(((x - sx) * aspect / 0.45) ** 2))  # lit on the sun side
        for k, (col, base, hz) in enumerate(layers):
            noise = _ridge(rng, W, octaves - k // 2, rough)
            ridge = base - amp * (1.2 - 0.3 * k) * (0.5 + 0.5 * noise)
            r0 = max(0, int(float(ridge.min()) * H) - 2)
            ys = y[r0:]
            m = _smoothstep(ridge[None, :] - edge, ridge[None, :] + edge, ys)
            depth = np.clip((ys - ridge[None, :]) / 0.35, 0.0, 1.0)
            c = col * (1.0 - hz) + haze * hz
            shade = c * (1.0 - 0.35 * depth[..., None]) + (lit * (1.0 - depth))[..., None] * sun_c
            _blend(img, r0, m, np.clip(shade, 0, 1))

    # --- bokeh: soft discs of light, only their bounding boxes are touched
    if pal.bokeh or rng.uniform() < 0.2:
        acc = _jitter(pal.accent, rng, 0.05)
        for _ in range(int(rng.integers(14, 26))):
            r = float(rng.uniform(0.02, 0.075)) * H
            cx, cy = float(rng.uniform(0, W)), float(rng.uniform(0, H * 0.9))
            x0, x1 = max(0, int(cx - r - 2)), min(W, int(cx + r + 3))
            y0, y1 = max(0, int(cy - r - 2)), min(H, int(cy + r + 3))
            if x0 >= x1 or y0 >= y1:
                continue
            yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            dd = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
            a = _smoothstep(r + 1.5, r - 1.5, dd) * float(rng.uniform(0.08, 0.22))
            a = a * (0.8 + 0.2 * dd / r)  # brighter rim, like a real lens
            patch = img[y0:y1, x0:x1]
            img[y0:y1, x0:x1] = 1.0 - (1.0 - patch) * (1.0 - a[..., None] * acc)

    # --- vignette and grain, then to 8-bit
    v = 1.0 - 0.38 * np.clip(((x - 0.5) ** 2 * 1.6 + (y - 0.5) ** 2 * 2.0) / 0.9, 0.0, 1.0) ** 1.4
    img *= v[..., None]
    grain = rng.standard_normal((H, W), dtype=np.float32) * np.float32(0.012)
    img += grain[..., None]
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _rgb(im: Image.Image, *, keep_grey: bool = False) -> Image.Image:
    """`im` as 8-bit RGB (`keep_grey`: 8-bit greyscale stays L, a third of the memory, for
    the caller to make RGB once it is small). Pillow's own convert clips 16-bit
    greyscale (a scan saved as a 16-bit PNG or TIFF) at 255, which made the whole photo
    white: it is scaled down; float greyscale in 0..1 is scaled up. An RGB picture
    comes back as it is, not copied."""
    if im.mode.startswith("I;16") or im.mode == "I":
        grey = np.asarray(im, dtype=np.float32)
        if im.mode != "I" or grey.max() > 255:  # 32-bit "I" holding 8-bit values: as is
            grey /= np.float32(257.0)
        im = Image.fromarray(np.clip(grey + 0.5, 0, 255).astype(np.uint8))
    elif im.mode == "F":
        # 32-bit float greyscale (a float TIFF: HDR merges, scanners, science): Pillow
        # clips each value to 0..255 as it is, and the usual 0..1 range made it black
        grey = np.nan_to_num(np.asarray(im, dtype=np.float32), nan=0.0, posinf=255.0)
        if grey.max() <= 1.0:
            grey *= np.float32(255.0)
        im = Image.fromarray(np.clip(grey + 0.5, 0, 255).astype(np.uint8))
    if im.mode == "RGB" or (keep_grey and im.mode == "L"):
        return im
    return im.convert("RGB")


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _rgba(im: Image.Image) -> Image.Image:
    """`im` (which has transparency) as 8-bit RGBA. 16-bit greyscale with a transparent
    value (tRNS) goes through `_rgb` and gets its mask from that value: Pillow's own
    convert('RGBA') clips it at 255, a white picture."""
    if im.mode.startswith("I;16") or im.mode == "I":
        key = im.info.get("transparency")
        mask = None
        if isinstance(key, int):
            mask = Image.fromarray(((np.asarray(im) != key) * 255).astype(np.uint8))
        out = _rgb(im).convert("RGBA")
        if mask is not None:
            out.putalpha(mask)
        return out
    return im if im.mode == "RGBA" else im.convert("RGBA")


#: an ICC profile's colour space -> the modes of the pictures it can describe
_ICC_SPACES = {
    "RGB": ("RGB", "RGBA", "RGBa", "RGBX", "P", "PA"),
    "GRAY": ("L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"),
    "CMYK": ("CMYK",),
}


@functools.cache
def _srgb_profile() -> Any:
    from PIL import ImageCms

    return ImageCms.createProfile("sRGB")


def _to_srgb(im: Image.Image) -> Image.Image:
    """`im` converted to sRGB by its embedded ICC profile, when it has one: RGB, or RGBA
    when it has transparent parts (their mask kept as it was).

    The movie is sRGB/BT.709, and the pixels were used as if the photo were too: a
    photo tagged Display P3 (an iPhone's), Adobe RGB (many cameras), a CMYK press
    profile or a grey gamma came out with dulled, shifted or too dark colours. Every
    mode is converted, not only RGB(A), CMYK and L: a palette PNG, one with a
    transparent colour (tRNS), greyscale with alpha and 16-bit greyscale kept their
    numbers. A profile that cannot be read or does not fit the picture's mode (an RGB
    profile on a greyscale photo) leaves it as stored.
    """
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        space = str(source.profile.xcolor_space).strip()
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im
    if im.mode not in _ICC_SPACES.get(space, ()):
        return im
    alpha = _rgba(im).getchannel("A") if _has_alpha(im) else None
    if space == "GRAY":
        colour = _rgb(im.convert("L") if im.mode in ("LA", "La") else im, keep_grey=True)
    elif space == "RGB":
        colour = im if im.mode == "RGB" else im.convert("RGB")
    else:
        colour = im
    try:
        converted = ImageCms.profileToProfile(colour, source, _srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return im
    if converted is None:
        return im
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _to_xyz(primaries: tuple[tuple[float, float], ...]) -> NDArray[np.float64]:
    """The RGB -> XYZ matrix of a set of chromaticities (red, green, blue, white)."""
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries[:3]]).T
    wx, wy = primaries[3]
    white = np.array([wx / wy, 1.0, (1 - wx - wy) / wy])
    return np.asarray(xyz * np.linalg.solve(xyz, white), dtype=np.float64)


def _mobius(x: NDArray[np.float32], peak: float, j: float = 0.3) -> NDArray[np.float32]:
    """ffmpeg's `tonemap=mobius` curve (linear light, 1.0 = SDR white): what the
    compositor tone maps an HDR clip with (`ffmpeg.hdr_to_sdr`)."""
    if peak <= 1.0:
        return np.clip(x, 0.0, 1.0)
    a = -j * j * (peak - 1.0) / (j * j - 2.0 * j + peak)
    b = (j * j - 2.0 * j * peak + peak) / max(peak - 1.0, 1e-6)
    curve = (b * b + 2.0 * b * j + j * j) / (b - a) * (x + a) / (x + b)
    return np.asarray(np.where(x <= j, x, curve), dtype=np.float32)


def nclx_to_srgb(im: Image.Image, primaries: int, transfer: int) -> Image.Image:
    """An 8-bit RGB(A) picture in the CICP `primaries` and `transfer` as sRGB: a Display
    P3 or BT.2020 photo's colours converted in linear light, an HDR one (PQ, or HLG
    taken as shown on a 1000-nit display) tone mapped with the compositor's curve for
    an HDR clip (linear light at 100 nits, `_mobius`), its peak the picture's brightest.
    `ADOBE_RGB` converts Adobe RGB. Unknown codes, or sRGB's own, leave it as it is."""
    hdr = transfer in (CICP_PQ, CICP_HLG)
    if not converted(primaries, transfer):
        return im
    if im.mode not in ("RGB", "RGBA"):
        return im
    v = np.asarray(im.convert("RGB"), dtype=np.float32) / np.float32(255.0)
    if transfer == CICP_PQ:
        m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
        p = np.power(v, 1.0 / m2)
        nits = 10000.0 * np.power(np.maximum(p - c1, 0.0) / (c2 - c3 * p), 1.0 / m1)
        lin = nits / np.float32(100.0)
    elif transfer == CICP_HLG:
        a, b, c = 0.17883277, 0.28466892, 0.55991073
        scene = np.where(v <= 0.5, v * v / 3.0, (np.exp((v - c) / a) + b) / 12.0)
        ys = scene @ np.array([0.2627, 0.6780, 0.0593], dtype=np.float32)
        lin = 1000.0 * np.power(np.maximum(ys, 1e-6), 0.2)[..., None] * scene / 100.0
    elif transfer == ADOBE_RGB[1]:
        lin = np.power(v, 563.0 / 256.0)
    else:
        lin = np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4))
    matrix = np.linalg.inv(_to_xyz(CICP_PRIMARIES[1])) @ _to_xyz(CICP_PRIMARIES[primaries])
    lin = np.maximum(lin.astype(np.float32) @ matrix.T.astype(np.float32), 0.0)
    if hdr:
        # as ffmpeg's tonemap does (`ffmpeg.hdr_to_sdr`, desat=0): the curve on each
        # pixel's brightest component, its three scaled alike (by channel, an orange
        # highlight came out pale yellow)
        sig = np.maximum(lin.max(axis=-1, keepdims=True), np.float32(1e-6))
        lin = lin * (_mobius(sig, float(sig.max())) / sig)
    lin = np.clip(lin, 0.0, 1.0)
    out = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    rgb = Image.fromarray(np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if im.mode == "RGBA":
        rgb.putalpha(im.getchannel("A"))
    return rgb


#: the picture formats every paid image model takes as they are (Pillow's names; MPO is
#: a phone's JPEG with a depth map after it)
_SENDABLE = {"PNG": "image/png", "JPEG": "image/jpeg", "MPO": "image/jpeg", "WEBP": "image/webp"}


#: the largest picture file a paid image model is sent as it is stored: Seedream takes
#: input images up to 10 MB (as the gateways that resell it document it; provider-wire.md
#: has no limit), Gemini a whole request up to 20 MB inline. A 48-200 MP phone photo or a
#: big PNG went as it was, and the request was refused. A bigger one is sent scaled to
#: SEND_MAX_SIDE on its long side (plenty for a reference or a photo to edit), as JPEG
SEND_MAX_BYTES = 10_000_000
SEND_MAX_SIDE = 4096


#: JPEG application segments the decoder reads, kept: APP0 JFIF (pixel density, the
#: YCbCr convention; its thumbnail left out), APP2 ICC_PROFILE (the colours), APP14
#: Adobe (whether the samples are YCbCr, RGB or YCCK). Every other APPn (APP0 JFXX and
#: APP1 EXIF thumbnails, which can show the picture before a crop; APP1 EXIF and XMP,
#: APP2 MPF, APP13 IPTC/Photoshop, APP11 JUMBF/C2PA...) and COM is dropped
_JPEG_KEEP_APP = {0xE0: b"JFIF\0", 0xE2: b"ICC_PROFILE\0", 0xEE: b"Adobe"}
#: a JFIF header up to its thumbnail's size (identifier, version, units, density)
_JFIF_HEAD = 12
#: PNG chunks of metadata only: EXIF, text (a camera's or app's tags, comments, XMP in
#: iTXt), the time it was last changed
_PNG_DROP = {b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"}
#: WebP chunks of metadata only, and the VP8X flags that announce them
_WEBP_DROP = {b"EXIF", b"XMP "}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _jpeg_without_metadata(data: bytes) -> bytes | None:
    """`data` (a JPEG) without the segments `_JPEG_KEEP_APP` does not keep, the rest
    byte for byte, and without what follows its end (an MPO's depth map or second
    picture, with an EXIF of its own); None if its segments cannot be walked (one cut
    short inside its coded data is kept as far as it goes)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out = [data[:2]]
    i, n = 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0xD9:  # EOI
            out.append(data[i : i + 2])
            return b"".join(out)
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length (TEM, RSTn)
            out.append(data[i : i + 2])
            i += 2
            continue
        if i + 4 > n:
            return None
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if end > n:
            return None
        segment = data[i:end]
        payload = data[i + 4 : end]
        prefix = _JPEG_KEEP_APP.get(marker)
        app = 0xE0 <= marker <= 0xEF
        if marker == 0xE0 and payload.startswith(b"JFIF\0") and len(payload) > _JFIF_HEAD + 2:
            # a JFIF header holding a thumbnail: the header alone, of no thumbnail (0x0)
            payload = payload[:_JFIF_HEAD] + b"\0\0"
            segment = data[i : i + 2] + (len(payload) + 2).to_bytes(2, "big") + payload
        if not (marker == 0xFE or (app and (prefix is None or not payload.startswith(prefix)))):
            out.append(segment)
        i = end
        if marker == 0xDA:  # SOS: the entropy-coded data runs to the next marker
            j = i
            while True:
                j = data.find(b"\xff", j)
                if j < 0 or j + 1 >= n:  # cut short, no EOI: what there is, as it is
                    out.append(data[i:])
                    return b"".join(out)
                nxt = data[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    j += 1 if nxt == 0xFF else 2
                    continue
                break
            out.append(data[i:j])
            i = j
    return None


def _png_without_metadata(data: bytes) -> bytes | None:
    """`data` (a PNG) without the chunks in `_PNG_DROP`, the rest byte for byte; None if
    it is not a PNG whose chunks can be walked."""
    sig = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(sig):
        return None
    out = [sig]
    i, n = len(sig), len(data)
    while i < n:
        if i + 8 > n:
            return None
        end = i + 12 + int.from_bytes(data[i : i + 4], "big")
        if end > n:
            return None
        if data[i + 4 : i + 8] not in _PNG_DROP:
            out.append(data[i:end])
        if data[i + 4 : i + 8] == b"IEND":
            return b"".join(out)
        i = end
    return None


def _webp_without_metadata(data: bytes) -> bytes | None:
    """`data` (a WebP) without its EXIF and XMP chunks, their VP8X flags cleared, the
    RIFF size set again; None if it is not a WebP whose chunks can be walked."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    out: list[bytes] = []
    i, n = 12, min(len(data), 8 + int.from_bytes(data[4:8], "little"))
    while i < n:
        if i + 8 > n:
            return None
        size = int.from_bytes(data[i + 4 : i + 8], "little")
        end = i + 8 + size + (size & 1)
        if i + 8 + size > n:
            return None
        fourcc = data[i : i + 4]
        if fourcc == b"VP8X" and size >= 1:
            flags = data[i + 8] & ~(_VP8X_EXIF | _VP8X_XMP)
            out.append(data[i : i + 8] + bytes([flags]) + data[i + 9 : end])
        elif fourcc not in _WEBP_DROP:
            out.append(data[i:end])
        i = end
    body = b"WEBP" + b"".join(out)
    return b"RIFF" + len(body).to_bytes(4, "little") + body


_STRIPPERS = {
    "JPEG": _jpeg_without_metadata,
    "MPO": _jpeg_without_metadata,
    "PNG": _png_without_metadata,
    "WEBP": _webp_without_metadata,
}


def without_metadata(data: bytes, fmt: str) -> bytes | None:
    """A JPEG, PNG or WebP's bytes (`fmt`: Pillow's name) without what says more about
    the person than the picture does: EXIF (where it was taken, the camera's serial
    number, when), XMP, IPTC, comments and text chunks. The coded pixels and the colour
    profile are kept byte for byte, not encoded again. None for another format or a
    file whose structure cannot be walked."""
    strip = _STRIPPERS.get(fmt)
    return strip(data) if strip is not None else None


def photo_to_send(path: Path, max_bytes: int = SEND_MAX_BYTES) -> tuple[bytes, str] | None:
    """A person's photo as a paid image model is to be sent it, (bytes, MIME type), when
    the file's own bytes will not do; None when they will (a PNG, JPEG or WebP stored
    the right way up, not CMYK, holding no metadata).

    A PNG, JPEG or WebP with EXIF, XMP, IPTC, comments or text chunks (a phone photo's
    GPS position, camera serial and date) is sent without them (`without_metadata`),
    its coded pixels and colour profile byte for byte: the model needs the picture,
    not where or when it was taken. A photo encoded again (below) carries none either.

    goals.yaml takes any picture Pillow reads: a GIF, BMP, TIFF or AVIF was sent as it
    was, labelled image/png. A photo EXIF says to turn (a phone's, taken upright) was
    sent as stored, on its side for a model that does not read EXIF, while the offline
    render turns it; a CMYK JPEG was sent as print separations. Such a photo is sent
    turned and converted (`fit_photo`'s sRGB): a JPEG as JPEG, the others as PNG. One
    over `max_bytes` (SEND_MAX_BYTES, or a request's share of its limit) is sent
    smaller (see there)."""
    try:
        big = path.stat().st_size > max_bytes
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as im:
                fmt = str(im.format)
                turned = im.getexif().get(0x0112, 1) not in (0, 1)
                if fmt in _SENDABLE and not turned and im.mode != "CMYK" and not big:
                    stored = path.read_bytes()
                    clean = without_metadata(stored, fmt)
                    if clean == stored:
                        return None
                    if clean is not None:
                        return clean, _SENDABLE[fmt]
                    # metadata in a structure that cannot be walked: encoded again below
                if big:
                    # a JPEG decoded at 1/2, 1/4 or 1/8 scale where that still covers
                    # the size sent: a 100 MP one peaked at 653 MB decoded whole
                    scale = SEND_MAX_SIDE / max(im.size)
                    im.draft(None, (math.ceil(im.width * scale), math.ceil(im.height * scale)))
                ImageOps.exif_transpose(im, in_place=True)
                srgb = _to_srgb(im)
                photo = _rgba(srgb) if _has_alpha(srgb) else _rgb(srgb, keep_grey=True)
    except (OSError, ValueError):
        return None  # sent as it is: goals.yaml's check says why it cannot be read
    # Pillow writes `info['comment']` (a JPEG's COM, a GIF's comment) into a JPEG it
    # saves, and a picture with no profile to convert by still holds it here
    photo.info.pop("comment", None)
    if big:
        photo.thumbnail((SEND_MAX_SIDE, SEND_MAX_SIDE), Image.Resampling.LANCZOS)
    jpeg = photo.mode in ("RGB", "L") and (big or _SENDABLE.get(fmt) == "image/jpeg")

    def encoded(pic: Image.Image) -> bytes:
        out = io.BytesIO()
        if jpeg:
            pic.save(out, "JPEG", quality=92 if big else 95)
        else:
            pic.save(out, "PNG")
        return out.getvalue()

    data = encoded(photo)
    while big and len(data) > max_bytes and min(photo.size) > 1:
        # still too big: a cut-out (transparent parts: PNG), or a JPEG of fine detail
        # (a grainy 4096 px photo at quality 92 came to 10.7 MB): halved until it fits
        photo = photo.resize((max(1, photo.width // 2), max(1, photo.height // 2)))
        data = encoded(photo)
    return data, "image/jpeg" if jpeg else "image/png"


def fit_photo(
    path: Path, width: int, height: int, backdrop: Callable[[], bytes] | None = None
) -> bytes:
    """The person's photo cover-cropped to the frame (centred, EXIF orientation honoured,
    colours converted to sRGB by its ICC profile).

    A photo with transparent parts (a cut-out, a PNG with its background removed) is laid
    over `backdrop()` (the painted scene), or mid grey: dropping the alpha showed whatever
    colour the transparent pixels held, usually black.
    """
    try:
        # a photo over Pillow's 89-megapixel warning (goals.yaml's check allows up to twice
        # that, as Pillow does) printed a raw DecompressionBombWarning into the render's log
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            # nor Pillow's UserWarnings about a photo it reads anyway ("Corrupt EXIF
            # data": its orientation is then not known, and the photo is shown as stored)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as im:
                side = max(width, height)  # square: the photo may be rotated by EXIF
                im.draft("RGB", (side, side))  # JPEG: decode at a reduced scale if possible
                # (before exif_transpose rewrites the EXIF)
                nclx = tagged_colours(im, path)
                # in place: a photo with nothing to turn is not copied whole (a PNG is
                # decoded at full size, 144 MB for 48 MP; each copy was as much again)
                ImageOps.exif_transpose(im, in_place=True)
                turned = _to_srgb(im)
                alpha = _has_alpha(turned)
                photo = _rgba(turned) if alpha else _rgb(turned, keep_grey=True)
    except FileNotFoundError as e:
        raise InvalidRequest(f"photo not found: {path}", provider="local") from e
    except (UnidentifiedImageError, OSError) as e:
        raise InvalidRequest(f"not a readable image: {path} ({e})", provider="local") from e
    fitted = ImageOps.fit(
        photo, (width, height), method=Image.Resampling.LANCZOS, centering=(0.5, 0.5)
    )
    if nclx is not None:
        # an AVIF tagged Display P3, BT.2020 or HDR by its `nclx` box, or a camera's
        # Adobe RGB JPEG by its EXIF, not an ICC profile (Pillow gives its numbers as
        # they are): converted once it is small
        fitted = nclx_to_srgb(fitted, *nclx)
    if fitted.mode == "L":  # the same pixels as fitting it in RGB (each band alike)
        fitted = fitted.convert("RGB")
    if alpha and fitted.getchannel("A").getextrema()[0] == 255:
        # saved with an alpha channel but nothing transparent (common for PNGs): the
        # same picture, without painting a backdrop no pixel would show
        fitted, alpha = fitted.convert("RGB"), False
    if alpha:
        if backdrop is not None:
            with Image.open(io.BytesIO(backdrop())) as bg:
                base = bg.convert("RGBA").resize((width, height))
        else:
            base = Image.new("RGBA", (width, height), (128, 128, 128, 255))
        fitted = Image.alpha_composite(base, fitted).convert("RGB")
    # the pixels are sRGB, as the movie takes them: no profile in the PNG. The sRGB one
    # `_to_srgb` leaves in `info` holds the second LittleCMS made it, and the same photo
    # gave a new keyframe.png (and so a new clip) each time it was made again
    fitted.info = {}
    buf = io.BytesIO()
    fitted.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


class LocalKeyframes:
    """Keyframes offline: the person's photo fitted to the frame, else a painted scene."""

    name = "local"
    model = KEYFRAMES_MODEL

    async def generate(self, request: KeyframeRequest) -> ImageResult:
        if request.width < 2 or request.height < 2:
            raise InvalidRequest(
                f"size {request.width}x{request.height} is too small",
                provider=self.name,
                scene_id=request.scene_id,
            )
        paint = functools.partial(
            paint_keyframe,
            request.prompt,
            request.seed,
            request.width,
            request.height,
            request.category,
        )
        if request.source_photo is not None:
            # painted only if the photo has transparent parts to show it through
            data = await asyncio.to_thread(
                fit_photo, request.source_photo, request.width, request.height, paint
            )
            usage = {"source": "photo", "photo": str(request.source_photo)}
        else:
            data = await asyncio.to_thread(paint)
            usage = {"source": "painted"}
        return ImageResult(
            data=data,
            mime="image/png",
            usage=usage,
            remote_id=f"{LOCAL_JOB_PREFIX}{request.scene_id}",
        )


# ====================================================================== motion
@dataclass(frozen=True)
class Move:
    """A Ken Burns move: zoom z0 -> z1 while the window's offset goes (fx0, fy0) -> (fx1, fy1).

    Offsets are in [-1, 1] of the margin the zoom leaves (-1: window at the left/top edge),
    so the window never leaves the picture whatever the zoom.
    """

    name: str
    z0: float
    z1: float
    fx0: float = 0.0
    fy0: float = 0.0
    fx1: float = 0.0
    fy1: float = 0.0

    @property
    def zmax(self) -> float:
        return max(self.z0, self.z1)


def choose_move(prompt: str, key: str) -> Move:
    """The move the motion prompt asks for (push in, pull out, pan, drift), else by hash."""
    p = prompt.lower()
    h = stable_int("move", key, prompt)
    fx = ((h >> 8) % 1000 / 1000.0 - 0.5) * 1.2  # zoom target off centre, deterministic
    fy = ((h >> 20) % 1000 / 1000.0 - 0.5) * 0.8
    rules: tuple[tuple[tuple[str, ...], Move], ...] = (
        (
            ("pull out", "pull back", "zoom out", "dolly out", "pulls out", "pulls back"),
            Move("pull-out", 1.14, 1.0, fx, fy, fx, fy),
        ),
        (
            ("push in", "zoom in", "dolly in", "pushes in", "close in", "move in"),
            Move("push-in", 1.0, 1.14, fx, fy, fx, fy),
        ),
        (("pan left", "pans left"), Move("pan-left", 1.12, 1.15, 0.85, fy * 0.5, -0.85, fy * 0.5)),
        (
            ("pan right", "pans right"),
            Move("pan-right", 1.12, 1.15, -0.85, fy * 0.5, 0.85, fy * 0.5),
        ),
        (
            ("drift up", "tilt up", "pan up", "rise", "crane up"),
            Move("drift-up", 1.12, 1.15, fx * 0.5, 0.85, fx * 0.5, -0.85),
        ),
        (
            ("drift down", "tilt down", "pan down", "crane down"),
            Move("drift-down", 1.12, 1.15, fx * 0.5, -0.85, fx * 0.5, 0.85),
        ),
    )
    best: tuple[int, Move] | None = None
    for words, move in rules:
        for w in words:
            m = re.search(rf"\b{w}\b", p)  # whole words: "sunrise" is not "rise"
            if m and (best is None or m.start() < best[0]):  # the first move named wins
                best = (m.start(), move)
    if best is not None:
        return best[1]
    return rules[h % len(rules)][1]


def ease(t: float) -> float:
    """Cosine ease-in-out blended with linear: starts and ends gently but never stops dead,
    so the picture is still alive while a crossfade shows the clip's first/last frames."""
    t = min(max(t, 0.0), 1.0)
    return 0.3 * t + 0.7 * (0.5 - 0.5 * math.cos(math.pi * t))


def _prepare_source(keyframe: Path, width: int, height: int, zmax: float) -> Image.Image:
    """Keyframe cover-fitted to the output aspect, at 1x..1.3x the needed size, once.

    Resampling once up front keeps each frame's transform cheap (sampling ~1:1) and avoids
    both upsampling blur at full zoom and aliasing from a much larger keyframe.
    """
    try:
        with Image.open(keyframe) as im:
            src = ImageOps.exif_transpose(im).convert("RGB")
    except FileNotFoundError as e:
        raise InvalidRequest(f"keyframe not found: {keyframe}", provider="local") from e
    except (UnidentifiedImageError, OSError) as e:
        raise InvalidRequest(f"keyframe unreadable: {keyframe} ({e})", provider="local") from e
    # cover-crop to the output aspect without resampling
    sw, sh = src.size
    target = width / height
    if abs(sw / sh - target) > 1e-3:
        if sw / sh > target:
            cw = max(1, round(sh * target))
            left = (sw - cw) // 2
            src = src.crop((left, 0, left + cw, sh))
        else:
            ch = max(1, round(sw / target))
            top = (sh - ch) // 2
            src = src.crop((0, top, sw, top + ch))
    scale = src.size[0] / width
    want = min(max(scale, zmax), max(1.3, zmax))
    if abs(want - scale) > 1e-3:
        size = (max(1, round(width * want)), max(1, round(height * want)))
        src = src.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0 if want < scale else None)
    return src


def frame_windows(
    move: Move, n_frames: int, src_w: int, src_h: int
) -> list[tuple[float, float, float, float]]:
    """Per frame (left, top, width, height) of the source window, as exact floats."""
    out = []
    lz0, lz1 = math.log(move.z0), math.log(move.z1)
    for i in range(n_frames):
        e = ease(i / (n_frames - 1)) if n_frames > 1 else 0.0
        z = math.exp(lz0 + (lz1 - lz0) * e)  # log-space: constant perceived zoom speed
        fx = move.fx0 + (move.fx1 - move.fx0) * e
        fy = move.fy0 + (move.fy1 - move.fy0) * e
        ww, wh = src_w / z, src_h / z
        left = (src_w - ww) * (fx + 1.0) / 2.0
        top = (src_h - wh) * (fy + 1.0) / 2.0
        out.append((left, top, ww, wh))
    return out


#: R'G'B' -> Y'CbCr, BT.709, limited ("tv") range, as a 12-tuple for PIL's
#: `convert(matrix=)` (rows Y, Cb, Cr; each a, b, c and the offset)
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB
_YS, _CS = 219.0 / 255.0, 224.0 / 255.0
RGB_TO_YUV709: tuple[float, ...] = (
    _YS * _KR, _YS * _KG, _YS * _KB, 16.0,
    -_CS * _KR / (2 * (1 - _KB)), -_CS * _KG / (2 * (1 - _KB)), _CS / 2, 128.0,
    _CS / 2, -_CS * _KG / (2 * (1 - _KR)), -_CS * _KB / (2 * (1 - _KR)), 128.0,
)  # fmt: skip


def yuv420_planes(src: Image.Image) -> tuple[Image.Image, Image.Image, Image.Image]:
    """The picture as BT.709 limited-range Y, Cb and Cr planes, chroma halved (4:2:0).

    Converted once per clip, so each frame resamples single-channel planes (1.5 bytes a
    pixel instead of RGB's 4 in PIL's memory) and ffmpeg gets the encoder's own pixel
    format: no per-frame colour conversion on either side of the pipe.
    """
    y, cb, cr = src.convert("RGB", matrix=RGB_TO_YUV709).split()
    half = ((src.width + 1) // 2, (src.height + 1) // 2)
    return (
        y,
        cb.resize(half, Image.Resampling.BOX),
        cr.resize(half, Image.Resampling.BOX),
    )


#: the clip encoder's filter graph: the frames are BT.709 already (`yuv420_planes`) and
#: tagged so: what players assume for HD, and what the compositor then passes through
#: without a conversion (doctor checks ffmpeg has every filter named here)
CLIP_FILTERS = "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv"


def render_ken_burns(
    keyframe: Path,
    dest: Path,
    *,
    seconds: float,
    fps: int,
    width: int,
    height: int,
    prompt: str = "",
    key: str = "",
) -> Path:
    """Render the clip (atomically: temp name beside dest, then rename). Blocking."""
    if width % 2 or height % 2:
        raise InvalidRequest(
            f"H.264 yuv420p needs even sizes, got {width}x{height}", provider="local"
        )
    if fps <= 0 or seconds <= 0:
        raise InvalidRequest(f"bad clip timing: {seconds}s at {fps} fps", provider="local")
    n_frames = max(1, round(seconds * fps))
    move = choose_move(prompt, key)
    src = _prepare_source(keyframe, width, height, move.zmax)
    windows = frame_windows(move, n_frames, *src.size)

    make_dirs(dest.parent)
    tmp = tmp_path_for(dest)
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        f"{width}x{height}",
        "-r",
        str(fps),
        "-i",
        "-",
        "-an",
        "-vf",
        CLIP_FILTERS,
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        "-color_range",
        "tv",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        # an intermediate the compositor encodes again: x264's cheapest preset at a
        # lower CRF keeps the same fidelity to the drawn frames (PSNR 42.1 dB against
        # veryfast/CRF 20's 42.4 dB) for half the encoder's CPU (1.21 s against 2.28 s
        # per 5 s clip at 720p on a 2-core machine without AVX-512); files are ~9x larger
        "-preset",
        "ultrafast",
        "-crf",
        "17",
        "-r",
        str(fps),
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        ffmpeg_path(tmp),
    ]
    src_w, src_h = src.size
    luma, cb, cr = yuv420_planes(src)
    cw, ch = cb.size

    def render(window: tuple[float, float, float, float]) -> bytes:
        left, top, ww, wh = window
        # A float box: PIL's separable resampler samples the exact sub-pixel window (the
        # maths of an AFFINE transform, ~2x faster, and antialiased). Clamped only against
        # float round-off: the windows lie inside the picture by construction.
        box = (
            max(0.0, left),
            max(0.0, top),
            min(float(src_w), left + ww),
            min(float(src_h), top + wh),
        )
        half = (box[0] / 2, box[1] / 2, min(float(cw), box[2] / 2), min(float(ch), box[3] / 2))
        # bilinear: 14.5 ms a 720p RGB frame against bicubic's 24.5 ms, and 50.7 dB PSNR
        # between the two on a painted keyframe (sampling is ~1:1, see _prepare_source);
        # the three planes together take about half an RGB frame's time
        bilinear = Image.Resampling.BILINEAR
        return b"".join(
            (
                luma.resize((width, height), bilinear, box=box).tobytes(),
                cb.resize((width // 2, height // 2), bilinear, box=half).tobytes(),
                cr.resize((width // 2, height // 2), bilinear, box=half).tobytes(),
            )
        )

    with (
        tempfile.TemporaryFile() as log,
        ThreadPoolExecutor(max_workers=2) as pool,
        running(
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log)
        ) as proc,
    ):
        assert proc.stdin is not None
        broken = False
        try:
            # frames are drawn ahead by two threads (PIL releases the GIL) while the pipe
            # feeds ffmpeg; the window is small so memory stays at a few frames
            pending: deque[Future[bytes]] = deque()
            it = iter(windows)
            for w in itertools.islice(it, 3):
                pending.append(pool.submit(render, w))
            while pending:
                data = pending.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(pool.submit(render, nxt))
                try:
                    proc.stdin.write(data)
                except BrokenPipeError:
                    broken = True
                    break
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                broken = True
            rc = proc.wait()
        if rc != 0 or broken:
            log.seek(0)
            tail = "\n".join(log.read().decode("utf-8", "replace").strip().splitlines()[-10:])
            tmp.unlink(missing_ok=True)
            why = killed_by(-rc) if rc < 0 else tail  # (its log ends wherever it was)
            # (an ffmpeg ended by a Ctrl-C writes nothing at `-loglevel error`: the line
            # ended at "rendering clip.mp4: ")
            raise EncoderEnded(
                f"ffmpeg failed ({rc}) rendering {dest.name}: {why or '(no reason in its log)'}",
                returncode=rc,
                provider="local",
            )
    commit_file(tmp, dest)
    return dest


class LocalMotion:
    """Ken Burns image-to-video, rendered locally at fetch time.

    There is no remote job: submit names one, poll says it is done, and fetch does the
    (deterministic, re-runnable) work, so the pipeline's journal treats it like any model.
    """

    name = "local"
    model = MOTION_MODEL

    async def submit(self, request: VideoRequest) -> str:
        return f"{LOCAL_JOB_PREFIX}{request.scene_id}"

    async def poll(self, remote_id: str) -> JobState:
        return JobState(remote_id=remote_id, status="succeeded")

    async def fetch(self, state: JobState, request: VideoRequest, dest: Path) -> Path:
        try:
            return await asyncio.to_thread(
                render_ken_burns,
                request.keyframe,
                dest,
                seconds=request.seconds,
                fps=request.fps,
                width=request.width,
                height=request.height,
                prompt=request.prompt,
                key=f"{request.scene_id}:{request.seed}",
            )
        except (InvalidRequest, JobFailed) as e:
            e.scene_id = e.scene_id or request.scene_id
            raise
