"""Title/closing cards and affirmation overlays, drawn with Pillow.

Text uses Pillow's built-in scalable font (`ImageFont.load_default(size=...)`, Pillow >=
10.1), so no system font is needed and every machine draws the same pixels. Layout wraps
by measured width and shrinks the font until the block fits its box, so text is never
off-frame; as a last resort it is cut with an ellipsis.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mindmovie.fsutil import commit_file, tmp_path_for

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
CardKind = Literal["title", "closing"]

#: (top colour, bottom colour, glow colour) per card: calm, dark enough for white text.
_PALETTES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "title": ((16, 22, 54), (72, 44, 104), (236, 176, 140)),
    "closing": ((44, 24, 58), (150, 84, 82), (255, 214, 150)),
}


@functools.lru_cache(maxsize=64)
def font(px: int) -> Font:
    """The built-in scalable font at `px` pixels."""
    return ImageFont.load_default(size=max(1, px))


@dataclass(frozen=True)
class TextLayout:
    px: int
    lines: tuple[str, ...]
    line_height: int
    width: int  # widest line, pixels
    height: int  # whole block, pixels


def _width(f: Font, s: str) -> float:
    return float(f.getlength(s))


def _wrap(text: str, f: Font, max_w: float) -> list[str]:
    """Greedy word wrap by measured width; words wider than the box are split."""
    lines: list[str] = []
    for para in text.replace("\r", "").split("\n"):
        words = para.split()
        if not words:
            lines.append("")
            continue
        cur = ""
        for word in words:
            trial = f"{cur} {word}" if cur else word
            if _width(f, trial) <= max_w:
                cur = trial
                continue
            if cur:
                lines.append(cur)
                cur = ""
            while _width(f, word) > max_w and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and _width(f, word[:cut]) > max_w:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            cur = word
        lines.append(cur)
    while lines and not lines[-1]:
        lines.pop()
    return lines or [""]


def layout_text(text: str, max_w: int, max_h: int, max_px: int, min_px: int) -> TextLayout:
    """The largest font size (max_px down to min_px) at which `text` fits max_w x max_h."""
    px = max(max_px, 1)
    min_px = max(1, min(min_px, px))
    while True:
        f = font(px)
        lines = _wrap(text, f, max_w)
        lh = round(px * 1.28)
        widest = max((_width(f, ln) for ln in lines), default=0.0)
        if (len(lines) * lh <= max_h and widest <= max_w) or px <= min_px:
            break
        px = max(min_px, min(px - 1, int(px * 0.92)))
    fit = max(1, max_h // lh)
    if len(lines) > fit:  # still too long at the smallest size: cut, never overflow
        lines = lines[:fit]
        last = lines[-1]
        while last and _width(f, last + "…") > max_w:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    widest = max((_width(f, ln) for ln in lines), default=0.0)
    return TextLayout(px, tuple(lines), lh, int(np.ceil(widest)), len(lines) * lh)


def _draw_block(
    img: Image.Image, lay: TextLayout, centre_y: float, *, stroke: int, shadow: int
) -> None:
    """White text centred on `centre_y`, with a soft dark shadow and a thin dark outline."""
    w, _h = img.size
    f = font(lay.px)
    top = centre_y - lay.height / 2
    positions = []
    for i, line in enumerate(lay.lines):
        lw = _width(f, line)
        positions.append(((w - lw) / 2, top + i * lay.line_height + (lay.line_height - lay.px) / 2))
    if shadow > 0:
        mask = Image.new("L", img.size, 0)
        md = ImageDraw.Draw(mask)
        for (x, y), line in zip(positions, lay.lines, strict=True):
            md.text(
                (x + shadow / 2, y + shadow / 2), line, font=f, fill=190, stroke_width=stroke + 1
            )
        mask = mask.filter(ImageFilter.GaussianBlur(shadow))
        black = Image.new("RGBA", img.size, (0, 0, 0, 255))
        black.putalpha(mask)
        img.alpha_composite(black)
    d = ImageDraw.Draw(img)
    for (x, y), line in zip(positions, lay.lines, strict=True):
        d.text(
            (x, y),
            line,
            font=f,
            fill=(255, 255, 255, 255),
            stroke_width=stroke,
            stroke_fill=(12, 12, 16, 235),
        )


def overlay_image(text: str, size: tuple[int, int]) -> Image.Image:
    """Transparent RGBA frame with the affirmation in the bottom third.

    The block is wrapped to 85% of the width and shrunk to fit the bottom third (less a
    margin), so even a very long affirmation stays inside the frame.
    """
    w, h = size
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    if not text.strip():
        return img
    short = min(w, h)
    margin = max(4, round(short * 0.05))
    max_w = int(w * 0.85)
    band_top = h * 2 / 3
    max_h = int(h - margin - band_top)
    lay = layout_text(text, max_w, max_h, round(short * 0.075), max(9, round(short * 0.03)))
    stroke = max(1, round(lay.px / 16))
    shadow = max(1, round(lay.px / 10))
    centre = min(band_top + (h - margin - band_top) / 2, h - margin - lay.height / 2)
    _draw_block(img, lay, centre, stroke=stroke, shadow=shadow)
    return img


def _gradient(size: tuple[int, int], kind: str) -> Image.Image:
    """Soft vertical gradient with a warm glow behind the text; dithered against banding."""
    w, h = size
    top, bottom, glow = (np.array(c, dtype=np.float32) for c in _PALETTES[kind])
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = top * (1 - ys) + bottom * ys
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xx - w / 2) / (0.55 * w), (yy - h * 0.46) / (0.55 * h))
    g = np.exp(-(r**2) * 2.2)[:, :, None] * 0.32
    img = img * (1 - g) + glow * g
    rng = np.random.default_rng(7)
    img += rng.uniform(-1.0, 1.0, size=(h, w, 1)).astype(np.float32)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def card_image(text: str, size: tuple[int, int], kind: CardKind) -> Image.Image:
    """Full-frame RGB card: gradient background, text centred in the middle 80% x 60%."""
    w, h = size
    short = min(w, h)
    base = _gradient(size, kind).convert("RGBA")
    if text.strip():
        max_px = round(short * (0.10 if kind == "title" else 0.085))
        lay = layout_text(text, int(w * 0.8), int(h * 0.6), max_px, max(9, round(short * 0.03)))
        _draw_block(
            base, lay, h / 2, stroke=max(1, round(lay.px / 22)), shadow=max(1, round(lay.px / 8))
        )
    return base.convert("RGB")


def _save_png(img: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(path)
    try:
        img.save(tmp, format="PNG", compress_level=1)
        commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def render_card(path: Path, text: str, size: tuple[int, int], kind: CardKind) -> Path:
    """Write the card PNG at `path` (atomically) unless it is already there."""
    if path.exists() and path.stat().st_size > 0:
        return path
    return _save_png(card_image(text, size, kind), path)


def render_overlay(path: Path, text: str, size: tuple[int, int]) -> Path:
    """Write the RGBA overlay PNG at `path` (atomically) unless it is already there."""
    if path.exists() and path.stat().st_size > 0:
        return path
    return _save_png(overlay_image(text, size), path)
