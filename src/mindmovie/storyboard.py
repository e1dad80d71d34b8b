"""Storyboard: one picture (storyboard.png) and one page (storyboard.html) of the whole plan.

Why: before paying for video (``render --until keyframes``) a person wants to see every
scene at a glance: its keyframe, affirmation, length and estimated cost. The PNG is a
contact sheet that can be shared anywhere; the HTML is the same board, self-contained
(keyframes inlined as data URIs, no scripts, no external resources) with the prompts and
a player for each finished clip (linked relatively, not inlined: clips are big).

Both files are written atomically (temp name + rename) so a viewer never sees half a
file. The PNG layout is a pure function of the scene count and thumbnail size
(``tile_boxes``), which is what the tests use to find each tile.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import math
import os
import shlex
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from mindmovie.fonts import laid_out, paragraph_direction, words
from mindmovie.fsutil import (
    atomic_write_bytes,
    atomic_write_text,
    file_stamp,
    make_dirs,
    no_such_run_folder,
    sha256_file,
)
from mindmovie.plan import KEYFRAMES_META, Plan, Scene, load_plan

if TYPE_CHECKING:
    from mindmovie.config import Settings
    from mindmovie.store import Step

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom exclusive)

PNG_NAME = "storyboard.png"
HTML_NAME = "storyboard.html"

#: Contact-sheet geometry (pixels).
COLUMNS = 3
COLUMN_WIDTH = 384
GAP = 24
MARGIN = 32
HEADER_HEIGHT = 116
TEXT_HEIGHT = 150  # card area under the thumbnail: meta line, affirmation, scene id
THUMB_MAX = (COLUMN_WIDTH, 288)  # a thumbnail fits in this box, keeping the keyframes' aspect
HTML_THUMB_WIDTH = 640  # inlined keyframes are downscaled to keep the page light

#: Colours.
BACKGROUND: RGB = (15, 17, 23)
CARD: RGB = (29, 32, 42)
PLACEHOLDER: RGB = (112, 114, 120)  # soft grey: "no keyframe yet"
TEXT: RGB = (236, 237, 242)
MUTED: RGB = (150, 155, 170)
ACCENT: RGB = (244, 196, 120)

#: Category chips; other categories get a neutral one.
CATEGORY_COLOURS: dict[str, RGB] = {
    "health": (72, 187, 120),
    "wealth": (236, 190, 74),
    "career": (88, 148, 232),
    "relationships": (232, 104, 140),
    "growth": (160, 112, 232),
    "lifestyle": (64, 196, 200),
}
OTHER_CATEGORY: RGB = (140, 146, 160)

UNKNOWN = "—"
#: what a card says under a keyframe the next render makes again: made before its scene's
#: picture fields were edited, or (`storyboard` given settings) with other settings
OLD_KEYFRAME = "keyframe out of date; the next render makes it again"
#: what a card says instead of playing a clip the next render makes again (as above)
OLD_CLIP = "clip out of date; the next render makes it again"


# ---------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class TileBox:
    """Where one scene's card is on the contact sheet: the whole card and its picture."""

    card: Box
    image: Box


def thumb_size(aspect: float) -> tuple[int, int]:
    """Thumbnail size for keyframes of ``aspect`` (width / height), within ``THUMB_MAX``."""
    max_w, max_h = THUMB_MAX
    aspect = aspect if aspect > 0 and math.isfinite(aspect) else 16 / 9
    w = max_w
    h = round(w / aspect)
    if h > max_h:
        h = max_h
        w = round(h * aspect)
    return max(1, w), max(1, h)


def sheet_size(
    n: int, thumb: tuple[int, int] = (384, 216), columns: int = COLUMNS
) -> tuple[int, int]:
    """Pixel size of a contact sheet of ``n`` scenes."""
    rows = max(1, math.ceil(n / columns))
    card_h = thumb[1] + TEXT_HEIGHT
    width = 2 * MARGIN + columns * COLUMN_WIDTH + (columns - 1) * GAP
    height = HEADER_HEIGHT + rows * card_h + (rows - 1) * GAP + MARGIN
    return width, height


def tile_boxes(
    n: int, thumb: tuple[int, int] = (384, 216), columns: int = COLUMNS
) -> list[TileBox]:
    """The card and picture rectangles of ``n`` scenes, in scene order (row by row)."""
    card_h = thumb[1] + TEXT_HEIGHT
    boxes: list[TileBox] = []
    for i in range(n):
        row, col = divmod(i, columns)
        x = MARGIN + col * (COLUMN_WIDTH + GAP)
        y = HEADER_HEIGHT + row * (card_h + GAP)
        ix = x + (COLUMN_WIDTH - thumb[0]) // 2
        boxes.append(
            TileBox(
                card=(x, y, x + COLUMN_WIDTH, y + card_h),
                image=(ix, y, ix + thumb[0], y + thumb[1]),
            )
        )
    return boxes


# ----------------------------------------------------------------------- text helpers


def format_cost(cost: float | None) -> str:
    """``$0.42``; ``free`` for zero; ``—`` when unknown."""
    if cost is None or not math.isfinite(cost):
        return UNKNOWN
    if cost <= 0:
        return "free"
    if cost < 0.01:
        return "<$0.01"
    return f"${cost:,.2f}"


def format_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


def _costs_of(plan: Plan, costs: Mapping[str, float] | None) -> list[float | None]:
    if costs is None:
        return [None] * len(plan.scenes)
    return [costs.get(s.id) for s in plan.scenes]


def _cost_texts(
    plan: Plan, per_scene: Sequence[float | None], same_as: Mapping[str, str] | None
) -> list[str]:
    """Each card's cost: ``as scene 2`` for a scene that takes all it needs from scene
    2 (the very same requests, bought once: `SceneEstimate.same_as`), where "free" read
    as if it cost nothing to make and an edit of scene 2 would not make it pay."""
    number = {s.id: i for i, s in enumerate(plan.scenes, 1)}
    texts = []
    for scene, cost in zip(plan.scenes, per_scene, strict=True):
        by = (same_as or {}).get(scene.id)
        free = cost is not None and cost <= 0
        texts.append(f"as scene {number[by]}" if free and by in number else format_cost(cost))
    return texts


def format_total(per_scene: Sequence[float | None]) -> str:
    """Total estimate: exact when every scene is known, ``≥ $x`` when some are not."""
    known = [c for c in per_scene if c is not None and math.isfinite(c)]
    if not known:
        return UNKNOWN
    total = format_cost(sum(known))
    if len(known) < len(per_scene):
        return f"≥ {total}" if total != "free" else f"≥ {format_cost(0.0)}"
    return total


def _totals_prefix(plan: Plan, movie: float | None = None) -> str:
    """``5 scenes · movie 28.5 s · estimated `` (the total estimate follows): the movie's
    length (`movie_seconds`) when the board has the compose settings (a render's board,
    `storyboard` with settings given, or the length its last render recorded for these
    scenes' seconds); else the scenes' seconds, said as theirs, ``30 s of scenes``: "· 35
    s" read as the movie's length, which is not their sum (crossfades overlap them, the
    title and closing cards add)."""
    n = len(plan.scenes)
    if movie is not None:
        length = f"movie {format_seconds(round(movie, 1))}"
    else:
        length = f"{format_seconds(sum(s.seconds for s in plan.scenes))} of scenes"
    return f"{n} scene{'s' if n != 1 else ''} · {length} · estimated "


def movie_seconds(plan: Plan, settings: Settings, left_out: Collection[str] = ()) -> float:
    """How long the movie of `plan` is at `settings`: the duration of the timeline the
    compose lays out (`compose.timeline.build_timeline`: the title and closing cards
    and the scenes, less the crossfades that overlap them), not worked out again here.
    `left_out`: scenes the compose leaves out (`render --skip-failed`: their clips failed)."""
    return timeline_seconds([s.seconds for s in plan.scenes if s.id not in left_out], settings)


def timeline_seconds(seconds: Sequence[float], settings: Settings) -> float:
    """How long a movie of scenes of `seconds` is at `settings` (`movie_seconds`): what
    `estimate` says below its table, whose seconds column adds up the scenes only."""
    from mindmovie.compose.timeline import MovieInput, SceneInput, build_timeline
    from mindmovie.pipeline import output_spec

    scenes = tuple(
        # (no clip is read: the timeline's length is the scenes' seconds and the settings)
        SceneInput(id=f"s{i}", affirmation="", seconds=s, clip=Path(), clip_sha256="")
        for i, s in enumerate(seconds)
    )
    movie = MovieInput("", "", scenes, music=None, music_sha256=None)
    return build_timeline(movie, output_spec(settings)).duration


def plan_suffix(planner_cost: float | None) -> str:
    """`` (+ plan $0.02)`` after the scenes' total when the plan was a paid call: the
    board's total was the scenes' alone, less than `estimate`'s, with no word why."""
    if planner_cost is None or not math.isfinite(planner_cost) or planner_cost <= 0:
        return ""
    return f" (+ plan {format_cost(planner_cost)})"


@functools.lru_cache(maxsize=32)
def _font(px: int) -> Font:
    """Pillow's built-in scalable font: the same pixels on every machine (a text it cannot
    draw uses a system font instead: `_text_font`)."""
    try:
        return ImageFont.load_default(size=px)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: fixed bitmap font
        return ImageFont.load_default()


@functools.lru_cache(maxsize=4096)
def _has_glyph(px: int, ch: str) -> bool:
    f = _font(px)
    if ch.isspace():
        return True
    return bytes(f.getmask(ch)) != bytes(f.getmask("\ue000"))


_SUBSTITUTES = {
    "≥": ">=",
    "≤": "<=",
    "—": "-",
    "–": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "•": "·",
}


def _drawable(text: str, px: int, *, system: bool = False) -> str:
    """Replace characters the built-in font lacks (it is mostly ASCII) by near ones
    (é -> e, — -> -) so the sheet shows letters, not boxes. Emoji no font here has are
    left out first, as the movie leaves them out (`cards.drawn_text`). ``system``: the
    text is drawn with `_text_font`, so a character the movie's fallback font for it
    has is kept as it is: the movie's cards show "Café", and the sheet showed "Cafe"."""
    keep = ""
    if not text.isascii():  # the cards module brings numpy: only when it can matter
        from mindmovie.compose import cards

        # (a soft hyphen is the movie's break in a long word; the sheet breaks none)
        text = cards.drawn_text(text).replace(cards.SOFT_HYPHEN, "")
        if system and (face := cards.face_for(text)):
            lacks = cards.missing_glyphs(text, face)
            keep = "".join(ch for ch in set(text) if ch not in lacks)
    out: list[str] = []
    for ch in text:
        if ch in keep or _has_glyph(px, ch):
            out.append(ch)
            continue
        sub = _SUBSTITUTES.get(ch)
        if sub is None:
            decomposed = unicodedata.normalize("NFKD", ch)
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            sub = base if base and all(_has_glyph(px, c) for c in base) else ch
        out.append(sub)
    return "".join(out)


def _text_font(text: str, px: int) -> Font:
    """The font to draw ``text`` (already `_drawable`) with: the built-in one, or for a
    text it cannot draw (Chinese, Arabic, Cyrillic, ß...) the system font the movie's own
    cards use for it (`cards.face_for`); before, such a title, category or affirmation
    was a row of boxes on the sheet while the movie showed it. Imported only then: the
    cards module brings numpy, which `plan` (it draws the board) does not need."""
    if all(_has_glyph(px, ch) for ch in text):
        return _font(px)
    from mindmovie.compose import cards

    face = cards.face_for(text)
    return cards.font(px, face) if face else _font(px)


def _width(f: Font, s: str) -> float:
    return float(f.getlength(s))


def _one_line(text: str) -> str:
    """``text`` with its line breaks (and other runs of white space) as one space: a title
    or category drawn as given ("Line one\\nLine two") spilled its lines over the text
    and tiles below it."""
    return " ".join(text.split())


def _fit(text: str, f: Font, max_w: float) -> str:
    """``text`` cut with an ellipsis so it fits ``max_w``."""
    if _width(f, text) <= max_w:
        return text
    # the longest head that fits with the ellipsis, by bisection (one character at a time
    # measured the whole head each try: a long title took minutes)
    lo, hi = 0, len(text) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _width(f, text[:mid] + "…") <= max_w:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def _fit_id(scene_id: str, f: Font, max_w: float) -> str:
    """A scene id cut in its middle so it fits ``max_w``: the goal number at its start and
    the scene number at its end are what tell scenes apart (a goal of a 60+ letter
    category has three ids that differ only in their last character)."""
    if _width(f, scene_id) <= max_w:
        return scene_id
    tail = scene_id[-min(len(scene_id) // 2, len(scene_id.rsplit("-", 1)[-1]) + 9) :]
    return _fit(scene_id[: len(scene_id) - len(tail)], f, max_w - _width(f, tail)) + tail


def _head_that_fits(text: str, f: Font, max_w: float) -> int:
    """How many leading characters of ``text`` fit ``max_w`` (1 at least): by doubling,
    then bisection, so a 20,000-letter word costs a few short measurements."""
    lo, hi = 1, 2
    while hi <= len(text) and _width(f, text[:hi]) <= max_w:
        lo, hi = hi, hi * 2
    hi = min(hi, len(text) + 1)  # text[:hi] does not fit (len + 1: all of it fits)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _width(f, text[:mid]) <= max_w:
            lo = mid
        else:
            hi = mid
    return lo


def _wrap(text: str, f: Font, max_w: float, max_lines: int) -> list[str]:
    """Greedy word wrap by measured width, at most ``max_lines`` (the last one ellipsed)."""
    lines: list[str] = []
    cur = ""
    for word in words(text):  # not at a no-break space
        trial = f"{cur} {word}" if cur else word
        if _width(f, trial) <= max_w:
            cur = trial
            continue
        if cur:
            lines.append(cur)
        cur = word
        # a word wider than the line (unspaced: Chinese, Japanese, a long compound) is
        # broken where the line ends; it was cut to one line, the tile's others empty
        while len(lines) < max_lines and (n := _head_that_fits(cur, f, max_w)) < len(cur):
            lines.append(cur[:n])
            cur = cur[n:]
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1] + " …", f, max_w) if lines[-1] else "…"
        if not lines[-1].endswith("…"):
            lines[-1] = _fit(lines[-1], f, max_w - _width(f, "…")) + "…"
    return lines


# --------------------------------------------------------------------------- images


def _open_rgb(path: Path | None) -> Image.Image | None:
    """The keyframe as RGB, at most HTML_THUMB_WIDTH wide (both the page's and the sheet's
    thumbnails are made from it), or None when it is missing or unreadable (placeholder).

    A JPEG is decoded straight at a reduced scale (`draft`); the downscale to the page's
    width happens once here, not once per output.
    """
    if path is None:
        return None
    try:
        with Image.open(path) as im:
            im.draft("RGB", (HTML_THUMB_WIDTH, HTML_THUMB_WIDTH))
            im.load()
            rgb: Image.Image = im.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    if rgb.width > HTML_THUMB_WIDTH:
        rgb = rgb.resize(
            (HTML_THUMB_WIDTH, max(1, round(rgb.height * HTML_THUMB_WIDTH / rgb.width))),
            Image.Resampling.LANCZOS,
            reducing_gap=3.0,
        )
    return rgb


def _missing_text(path: Path | None, failed: str | None = None) -> str:
    """What a tile without a picture says: a keyframe file that is there but is no
    picture (a failed download, a file replaced by hand) is not "no keyframe yet", which
    said the next render would simply make one; `status` calls it changed. ``failed``:
    the scene's note from `failed_steps`."""
    if failed is not None and failed.startswith("keyframe"):
        return "keyframe failed" if failed.startswith("keyframe failed") else "keyframe stopped"
    if path is not None and path.is_file():
        return "keyframe unreadable"
    return "no keyframe yet"


@dataclass(frozen=True)
class Thumb:
    """A scene's keyframe as both outputs show it, made from one decode (`_open_rgb`):
    the page's inlined JPEG and the sheet's picture, already fitted to its box. Held
    instead of the decoded picture, which is dropped at once: a 640-wide RGB picture
    per scene held until both files were written grew the storyboard's memory by ~1.1 MB
    a scene (376 MB for 180 scenes at 1080p); the fitted picture is a third of that."""

    size: tuple[int, int]  # the decoded keyframe's (`_open_rgb`): its shape on the page
    uri: str  # `_data_uri`
    # fitted to `thumb_size` of the first keyframe's shape, as drawn; None when made for
    # the page alone (`_thumbs(tiles=False)`: the sheet drawn is current)
    tile: Image.Image | None


#: the page's part of the last keyframes made into thumbnails in this process, by the
#: file's stamp (`_stamp`): (decoded size, data URI). A render draws the board after its
#: keyframes and again at its end, where only the page changed (its clips); the second
#: took the keyframes' decode, downscale and JPEG again (~6 ms a 640x360 keyframe, a
#: third of that second board's time). ~80 KB a 640-wide keyframe: bounded
_PAGE_PARTS: dict[tuple[object, ...], tuple[tuple[int, int], str]] = {}
_PAGE_PARTS_MAX = 64


def _remember_page_part(stamp: tuple[object, ...] | None, thumb: Thumb) -> None:
    if stamp is None:
        return
    _PAGE_PARTS.pop(stamp, None)
    _PAGE_PARTS[stamp] = (thumb.size, thumb.uri)
    while len(_PAGE_PARTS) > _PAGE_PARTS_MAX:
        del _PAGE_PARTS[next(iter(_PAGE_PARTS))]


def _thumbs(plan: Plan, keyframes: Mapping[str, Path], *, tiles: bool = True) -> list[Thumb | None]:
    """Every scene's keyframe (`_open_rgb`) as a `Thumb`, in scene order; the sheet's
    pictures take the first keyframe's shape (`render_sheet`). `tiles=False`: for the
    page alone (no tiles; the sheet drawn is current), where a keyframe made into a
    thumbnail before in this process, unchanged since, is not decoded again."""
    out: list[Thumb | None] = []
    box: tuple[int, int] | None = None
    for scene in plan.scenes:
        path = keyframes.get(scene.id)
        stamp = file_stamp(path) if path is not None else None
        if not tiles and stamp is not None and (part := _PAGE_PARTS.get(stamp)) is not None:
            out.append(Thumb(part[0], part[1], None))
            continue
        img = _open_rgb(path)
        if img is None:
            out.append(None)
            continue
        tile = None
        if tiles:
            box = box or thumb_size(img.width / img.height)
            tile = ImageOps.fit(img, box, Image.Resampling.LANCZOS)
        out.append(thumb := Thumb(img.size, _data_uri(img), tile))
        _remember_page_part(stamp, thumb)
    return out


def _jpeg_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _png_bytes(img: Image.Image, digest: str | None = None) -> bytes:
    """The sheet as PNG; `digest` (`_sheet_digest`) is written into it, as text."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if digest is not None:
        info.add_text(SHEET_DIGEST_KEY, digest)
    buf = io.BytesIO()
    # zlib level 1, no `optimize`: optimize=True took 2.1 of the 2.7 s a 7-scene board
    # took, for 16 % less; level 3 took 77 ms for the example's 1264x1291 sheet, level 1
    # 54 ms for 4 % more bytes (947 KB), and a render draws the sheet again whenever a
    # scene's state moved
    img.save(buf, format="PNG", compress_level=1, pnginfo=info)
    return buf.getvalue()


#: the PNG text key holding what the sheet was drawn from (`_sheet_digest`)
SHEET_DIGEST_KEY = "mindmovie-sheet"


def _sheet_digest(
    plan: Plan,
    keyframes: Mapping[str, Path] | None,
    costs: Mapping[str, float] | None,
    planner_cost: float | None,
    old_keyframes: Collection[str],
    failed: Mapping[str, str] | None,
    movie: float | None,
    same_as: Mapping[str, str] | None,
) -> str | None:
    """A digest of everything `render_sheet` draws from, or None when that is not all
    (a text the built-in font lacks is drawn with a system font, which can change).

    Why: a render draws the board after its keyframes and at its end; the sheet shows no
    clips, so the second drew and encoded the very same picture again (41 of the 85 ms
    of CPU a 4-scene board of 640x360 keyframes took). Written into the PNG
    (`_png_bytes`), so a sheet replaced or removed by hand is drawn again. A keyframe
    that cannot be read gives None too: the sheet is drawn, its tile a placeholder."""
    import hashlib

    import PIL

    from mindmovie import __version__

    fields = plan.model_dump(mode="json")
    if not json.dumps(fields, ensure_ascii=False).isascii():
        return None
    # the keyframes' bytes, not their files: a sheet drawn again from the very same
    # pictures (a copied or moved run, a run set aside by --fresh whose keyframes the new
    # one links) is the same file, which `--fresh` keeps one copy of (`_share_unchanged`)
    try:
        files = {
            sid: sha256_file(p) if p.is_file() else None
            for sid, p in sorted((keyframes or {}).items())
        }
    except OSError:
        return None
    parts = (
        BOARD_VERSION,
        __version__,
        PIL.__version__,
        fields,
        files,
        sorted((costs or {}).items()),
        planner_cost,
        sorted(old_keyframes),
        sorted((failed or {}).items()),
        movie,
        sorted((same_as or {}).items()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _drawn_from(png_path: Path) -> str | None:
    """The `_sheet_digest` written into the sheet at `png_path`, if it is a whole PNG
    that has one (its chunks' checksums verified, no pixels decoded)."""
    try:
        with Image.open(png_path) as im:
            digest = im.info.get(SHEET_DIGEST_KEY) if im.format == "PNG" else None
            if not isinstance(digest, str):
                return None
            im.verify()
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return None
    return digest


def _category_colour(category: str) -> RGB:
    return CATEGORY_COLOURS.get(category.strip().lower(), OTHER_CATEGORY)


def _draw_text(
    d: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, px: int, fill: RGB
) -> None:
    """Draw ``text``; the em dash (which the built-in font lacks) is drawn as a bar."""
    f = _font(px)
    x, y = xy
    if text == UNKNOWN:
        w = round(px * 0.8)
        top = round(y + px * 0.55)
        d.rectangle((round(x), top, round(x) + w, top + max(1, px // 10)), fill=fill)
        return
    d.text((x, y), _drawable(text, px), font=f, fill=fill)


def _text_width(text: str, px: int) -> float:
    if text == UNKNOWN:
        return round(px * 0.8)
    return _width(_font(px), _drawable(text, px))


def _pill(
    draw: ImageDraw.ImageDraw,
    box: Box,
    radius: int,
    fill: int | RGB | None = None,
    outline: int | RGB | None = None,
    width: int = 1,
) -> None:
    """A rounded rectangle (inclusive ``box``, as Pillow takes it) that is whole at every width.

    Pillow 11.3's ``rounded_rectangle`` leaves one column unfilled when the box is
    ``2 * radius + 2`` wide (a one-digit scene badge: a line through the number), so the
    fill is drawn with its straight middle filled in again; the outline goes on top.
    """
    x0, y0, x1, y1 = box
    if fill is not None:
        draw.rounded_rectangle(box, radius=radius, fill=fill)
        r = min(radius, (x1 - x0) // 2, (y1 - y0) // 2)
        if x1 - r >= x0 + r:
            draw.rectangle((x0 + r, y0, x1 - r, y1), fill=fill)
        if y1 - r >= y0 + r:
            draw.rectangle((x0, y0 + r, x1, y1 - r), fill=fill)
    if outline is not None:
        draw.rounded_rectangle(box, radius=radius, outline=outline, width=width)


def _draw_card(
    sheet: Image.Image,
    box: TileBox,
    number: int,
    scene: Scene,
    cost_text: str,
    keyframe: Image.Image | None,
    missing: str = "no keyframe yet",
    old_keyframe: bool = False,
) -> None:
    d = ImageDraw.Draw(sheet)
    cx0, cy0, cx1, cy1 = box.card
    d.rounded_rectangle((cx0, cy0, cx1 - 1, cy1 - 1), radius=10, fill=CARD)
    ix0, iy0, ix1, iy1 = box.image
    size = (ix1 - ix0, iy1 - iy0)
    # The picture's top corners follow the card's rounded corners.
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size[0] - 1, size[1] + 20), radius=10, fill=255)
    if keyframe is None:
        sheet.paste(PLACEHOLDER, (ix0, iy0, ix1, iy1), mask)
        center = ((ix0 + ix1) / 2, (iy0 + iy1) / 2)
        d.text(center, missing, font=_font(18), fill=TEXT, anchor="mm")
    else:
        sheet.paste(ImageOps.fit(keyframe, size, Image.Resampling.LANCZOS), (ix0, iy0), mask)
        if old_keyframe:  # a band across the picture's foot: not what the next render shows
            d.rectangle((ix0, iy1 - 30, ix1 - 1, iy1 - 1), fill=BACKGROUND)
            d.text(((ix0 + ix1) / 2, iy1 - 15), "out of date: redone next render",
                   font=_font(15), fill=ACCENT, anchor="mm")  # fmt: skip

    pad = 14
    x = cx0 + pad
    y = iy1 + 12
    inner_w = COLUMN_WIDTH - 2 * pad
    # Meta line: number badge, category chip, then seconds · cost on the right.
    num = str(number)
    badge_w = max(28, round(_text_width(num, 17)) + 14)
    _pill(d, (x, y, x + badge_w, y + 26), 13, fill=ACCENT)
    d.text((x + badge_w / 2, y + 13), num, font=_font(17), fill=BACKGROUND, anchor="mm")
    right = f"{format_seconds(scene.seconds)} · "
    right_w = _text_width(right, 16) + _text_width(cost_text, 16)
    chip_x = x + badge_w + 8
    chip_max = inner_w - badge_w - 8 - right_w - 10
    category = _drawable(_one_line(scene.category), 15, system=True)
    cf = _text_font(category, 15)
    category = _fit(category, cf, max(20, chip_max - 20))
    chip_w = round(_width(cf, category)) + 20
    colour = _category_colour(scene.category)
    _pill(d, (chip_x, y, chip_x + chip_w, y + 26), 13, outline=colour, width=2)
    category, how = laid_out(cf, category, None)  # one line: its own direction
    d.text((chip_x + 10, y + 13), category, font=cf, fill=colour, anchor="lm", **how)
    rx = cx1 - pad - right_w
    _draw_text(d, (rx, y + 5), right, 16, MUTED)
    _draw_text(d, (rx + _text_width(right, 16), y + 5), cost_text, 16, TEXT)
    # Affirmation, wrapped to three lines; a right-to-left one (Hebrew, Arabic) in its
    # direction and against the right edge, as the page shows it (`dir="auto"`): its
    # wrapped lines were laid out each by its own first word, and began at the left
    y += 36
    affirmation = _drawable(scene.affirmation, 18, system=True)
    f = _text_font(affirmation, 18)
    direction = paragraph_direction(affirmation)
    for line in _wrap(affirmation, f, inner_w, 3):
        line, how = laid_out(f, line, direction)
        lx = x + inner_w - _width(f, line) if direction == "rtl" else x
        d.text((lx, y), line, font=f, fill=TEXT, **how)
        y += 23
    # Scene id, small, at the bottom of the card.
    sid = _fit_id(_drawable(scene.id, 13), _font(13), inner_w)
    d.text((x, cy1 - 22), sid, font=_font(13), fill=MUTED)


def render_sheet(
    plan: Plan,
    keyframes: Mapping[str, Path] | None = None,
    costs: Mapping[str, float] | None = None,
    *,
    thumbs: list[Thumb | None] | None = None,
    planner_cost: float | None = None,
    old_keyframes: Collection[str] = (),
    failed: Mapping[str, str] | None = None,
    movie: float | None = None,
    same_as: Mapping[str, str] | None = None,
) -> Image.Image:
    """The contact sheet as an image (``write_storyboard`` saves it). ``thumbs``: the
    keyframes already made by `_thumbs` (else they are made here). ``failed``: as
    `failed_steps` returns. ``movie``: the movie's seconds (`movie_seconds`), if known.
    ``same_as``: as `_cost_texts` takes it."""
    if thumbs is None:
        thumbs = _thumbs(plan, keyframes or {})
    first = next((t for t in thumbs if t is not None), None)
    thumb = thumb_size(first.size[0] / first.size[1]) if first is not None else thumb_size(16 / 9)
    n = len(plan.scenes)
    sheet = Image.new("RGB", sheet_size(n, thumb), BACKGROUND)
    d = ImageDraw.Draw(sheet)
    per_scene = _costs_of(plan, costs)
    width = sheet.width - 2 * MARGIN
    title = _drawable(_one_line(plan.title), 34, system=True)
    tf = _text_font(title, 34)
    # one line: in its own direction, and a right-to-left one (Hebrew, Arabic) against
    # the right margin, as the page's `<h1 dir="auto">` and the cards' lines show it: it
    # was drawn from the left margin
    direction = paragraph_direction(title)
    title, how = laid_out(tf, _fit(title, tf, width), direction)
    tx = MARGIN + width - _width(tf, title) if direction == "rtl" else MARGIN
    d.text((tx, 26), title, font=tf, fill=TEXT, **how)
    prefix = _totals_prefix(plan, movie)
    _draw_text(d, (MARGIN, 72), prefix, 18, MUTED)
    total = format_total(per_scene)
    total_x = MARGIN + _text_width(prefix, 18)
    _draw_text(d, (total_x, 72), total, 18, ACCENT)
    if suffix := plan_suffix(planner_cost):
        _draw_text(d, (total_x + _text_width(total, 18), 72), suffix, 18, MUTED)
    cost_texts = _cost_texts(plan, per_scene, same_as)
    for i, (scene, box, img, cost) in enumerate(
        zip(plan.scenes, tile_boxes(n, thumb), thumbs, cost_texts, strict=True), start=1
    ):
        _draw_card(
            sheet,
            box,
            i,
            scene,
            cost,
            img.tile if img is not None else None,
            _missing_text((keyframes or {}).get(scene.id), (failed or {}).get(scene.id)),
            old_keyframe=scene.id in old_keyframes,
        )
    return sheet


# ----------------------------------------------------------------------------- html

_CSS = """
:root { color-scheme: dark; }
* { box-sizing: border-box; }
body { margin: 0; padding: 32px; background: #0f1117; color: #ecedf2;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { margin-bottom: 24px; }
h1 { margin: 0 0 6px; font-size: 30px; font-weight: 650; letter-spacing: .2px; }
.totals { margin: 0; color: #969baa; }
.totals b { color: #f4c478; font-weight: 600; }
.style { margin: 4px 0 0; color: #969baa; font-style: italic; }
.grid { display: grid; gap: 24px;
  grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); }
.card { background: #1d202a; border-radius: 12px; overflow: hidden;
  box-shadow: 0 6px 24px rgba(0,0,0,.35); display: flex; flex-direction: column; }
.thumb { aspect-ratio: var(--aspect, 16 / 9); background: #707278; display: flex;
  align-items: center; justify-content: center; }
.thumb img { width: 100%; height: 100%; object-fit: cover; display: block; }
.thumb.missing span { color: #ecedf2; font-size: 16px; }
.body { padding: 12px 14px 14px; display: flex; flex-direction: column; gap: 8px; }
.meta { display: flex; align-items: center; gap: 8px; }
.num { background: #f4c478; color: #0f1117; font-weight: 700; border-radius: 13px;
  min-width: 28px; height: 26px; padding: 0 8px; display: inline-flex;
  align-items: center; justify-content: center; }
.cat { border: 2px solid var(--c); color: var(--c); border-radius: 13px;
  padding: 0 10px; height: 26px; line-height: 22px; display: block; min-width: 0;
  font-size: 14px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.right { margin-left: auto; color: #969baa; white-space: nowrap; }
.right .cost { color: #ecedf2; }
.aff { margin: 0; font-size: 18px; line-height: 1.35; }
.id { margin: 0; color: #969baa; font: 12px/1.3 ui-monospace, Menlo, Consolas, monospace; }
video { width: 100%; border-radius: 8px; background: #000; }
.noclip { margin: 0; color: #969baa; font-size: 13px; }
.noclip.failed { color: #f08c8c; overflow-wrap: anywhere; }
details { color: #c4c8d4; font-size: 13px; }
summary { cursor: pointer; color: #969baa; }
dl { margin: 6px 0 0; }
dt { color: #f4c478; font-size: 12px; text-transform: uppercase; letter-spacing: .6px; }
dd { margin: 2px 0 8px; white-space: pre-wrap; }
footer { margin-top: 28px; color: #969baa; }
h1, .style, .aff, .id, dd, footer { overflow-wrap: anywhere; }
""".strip()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _data_uri(img: Image.Image) -> str:
    """An inlined thumbnail (already at most HTML_THUMB_WIDTH wide, `_open_rgb`). JPEG:
    keyframes are pictures; as PNG the 7-scene example's page was 2.5 MB and its encoding
    most of the page's time."""
    return "data:image/jpeg;base64," + base64.b64encode(_jpeg_bytes(img)).decode("ascii")


def _href(path: Path, run_dir: Path) -> str:
    """A relative URL from the page (in ``run_dir``) to ``path``."""
    rel = Path(os.path.relpath(path.absolute(), run_dir.absolute()))
    return quote(rel.as_posix())


def render_html(
    run_dir: Path,
    plan: Plan,
    *,
    costs: Mapping[str, float] | None = None,
    clips: Mapping[str, Path] | None = None,
    keyframes: Mapping[str, Path] | None = None,
    thumbs: list[Thumb | None] | None = None,
    old_clips: Collection[str] = (),
    planner_cost: float | None = None,
    old_keyframes: Collection[str] = (),
    failed: Mapping[str, str] | None = None,
    painted: Sequence[str] = (),
    movie: float | None = None,
    same_as: Mapping[str, str] | None = None,
) -> str:
    """The storyboard page as text (``write_storyboard`` saves it). ``thumbs``: as for
    `render_sheet`. ``old_clips``: scene ids whose clip on disk is of earlier inputs
    (not played: the next render makes it again). ``failed``: as `failed_steps`.
    ``painted``: scenes whose keyframe the offline painter drew (`painted_scenes`).
    ``same_as``: as `_cost_texts` takes it."""
    clips = clips or {}
    failed = failed or {}
    per_scene = _costs_of(plan, costs)
    if thumbs is None:
        thumbs = _thumbs(plan, keyframes or {})
    first = next((t for t in thumbs if t is not None), None)
    aspect = f"{first.size[0]} / {first.size[1]}" if first is not None else "16 / 9"
    cards: list[str] = []
    cost_texts = _cost_texts(plan, per_scene, same_as)
    for i, (scene, img, cost) in enumerate(zip(plan.scenes, thumbs, cost_texts, strict=True), 1):
        if img is not None:
            thumb = (
                f'<div class="thumb"><img src="{img.uri}" '
                f'alt="{_e(f"Keyframe of scene {i}: {scene.affirmation}")}"></div>'
            )
        else:
            missing = _missing_text((keyframes or {}).get(scene.id), failed.get(scene.id))
            thumb = f'<div class="thumb missing"><span>{missing}</span></div>'
        stale = img is not None and scene.id in old_keyframes
        clip = clips.get(scene.id)
        if clip is not None and clip.is_file():
            player = (
                f'<video controls preload="metadata" src="{_e(_href(clip, run_dir))}">'
                f"clip of scene {i}</video>"
            )
        elif scene.id in failed:  # not "no clip yet": e.g. refused by the content filter
            player = f'<p class="noclip failed">{_e(failed[scene.id])}</p>'
        elif scene.id in old_clips:
            player = f'<p class="noclip">{OLD_CLIP}</p>'
        else:
            player = '<p class="noclip">no clip yet</p>'
        r, g, b = _category_colour(scene.category)
        cards.append(
            f'<article class="card" id="scene-{_e(scene.id)}">\n'
            f"  {thumb}\n"
            f'  <div class="body">\n'
            f'    <div class="meta"><span class="num">{i}</span>'
            f'<span class="cat" dir="auto" style="--c: rgb({r}, {g}, {b})" '
            f'title="{_e(scene.category)}">'
            f"{_e(scene.category)}</span>"
            f'<span class="right">{_e(format_seconds(scene.seconds))} · '
            f'<span class="cost">{_e(cost)}</span></span></div>\n'
            + (f'    <p class="noclip">{OLD_KEYFRAME}</p>\n' if stale else "")
            + f'    <p class="aff" dir="auto">{_e(scene.affirmation)}</p>\n'
            f'    <p class="id">{_e(scene.id)}</p>\n'
            f"    {player}\n"
            f"    <details open><summary>Prompts</summary><dl>"
            f'<dt>Image</dt><dd dir="auto">{_e(scene.image_prompt)}</dd>'
            f'<dt>Motion</dt><dd dir="auto">{_e(scene.motion_prompt)}</dd></dl></details>\n'
            f"  </div>\n"
            f"</article>"
        )
    style = f'<p class="style">Style: <bdi>{_e(plan.style)}</bdi></p>' if plan.style else ""
    if painted:
        # the board showed the style over landscapes that do not follow it, and the
        # person's photos nowhere, without a word: the note plan and render give
        from mindmovie.pipeline import painted_note

        ids = set(painted)
        if note := painted_note(plan, [sc for sc in plan.scenes if sc.id in ids]):
            style += f'<p class="style">{_e(note)}</p>'
    closing = (
        f"<footer>Closing card: <bdi>{_e(plan.closing)}</bdi></footer>" if plan.closing else ""
    )
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(plan.title)} · storyboard</title>\n"
        f"<style>\n{_CSS}\n.thumb {{ --aspect: {aspect}; }}\n</style>\n"
        "</head>\n<body>\n"
        f'<header><h1 dir="auto">{_e(plan.title)}</h1>'
        f'<p class="totals">{_e(_totals_prefix(plan, movie))}'
        f"<b>{_e(format_total(per_scene))}</b>{_e(plan_suffix(planner_cost))}</p>"
        f"{style}</header>\n"
        '<main class="grid">\n' + "\n".join(cards) + "\n</main>\n"
        f"{closing}\n</body>\n</html>\n"
    )


# ---------------------------------------------------------------------------- entry


def write_storyboard(
    run_dir: Path,
    plan: Plan,
    *,
    costs: dict[str, float] | None = None,
    clips: dict[str, Path] | None = None,
    keyframes: dict[str, Path] | None = None,
    old_clips: Collection[str] = (),
    planner_cost: float | None = None,
    old_keyframes: Collection[str] = (),
    failed: Mapping[str, str] | None = None,
    painted: Sequence[str] = (),
    movie: float | None = None,
    same_as: Mapping[str, str] | None = None,
) -> tuple[Path, Path]:
    """Write ``run_dir/storyboard.png`` and ``run_dir/storyboard.html``; return both paths.

    ``costs`` (USD, by scene id; missing = unknown, 0 = free), ``clips`` and ``keyframes``
    (paths by scene id; a missing keyframe shows as "no keyframe yet", a file that is no
    picture as "keyframe unreadable", a missing clip as "no clip yet") are all optional.
    ``same_as``: as `_cost_texts` takes it.
    """
    from mindmovie.pipeline import RunDirError, folder_where_file_goes

    make_dirs(run_dir)
    png_path = run_dir / PNG_NAME
    html_path = run_dir / HTML_NAME
    # what `mindmovie storyboard RUN` said to do was "render again", which on a paid run
    # stopped after its keyframes goes on to buy the clips: the board is made by either
    # (a folder named with a leading dash as ./-x: else read as an option)
    named = f"./{run_dir}" if str(run_dir).startswith("-") else str(run_dir)
    again = f"run `mindmovie storyboard {shlex.quote(named)}` (or render again)"
    for path, what in ((png_path, "picture"), (html_path, "page")):
        # a folder there: "[Errno 21] Is a directory: '.storyboard.png.123.tmp.png' ->
        # ..." from the render, "cannot write in RUN (Is a directory)" from storyboard
        if why := folder_where_file_goes(path, f"the storyboard's {what}", again):
            raise RunDirError(why)
    digest = _sheet_digest(
        plan, keyframes, costs, planner_cost, old_keyframes, failed, movie, same_as
    )
    if digest is not None and _drawn_from(png_path) == digest:
        thumbs = _thumbs(plan, keyframes or {}, tiles=False)  # the sheet there is this one
    else:
        thumbs = _thumbs(plan, keyframes or {})  # once for both
        sheet = render_sheet(
            plan,
            keyframes,
            costs,
            thumbs=thumbs,
            planner_cost=planner_cost,
            old_keyframes=old_keyframes,
            failed=failed,
            movie=movie,
            same_as=same_as,
        )
        atomic_write_bytes(png_path, _png_bytes(sheet, digest))
    atomic_write_text(
        html_path,
        render_html(
            run_dir,
            plan,
            costs=costs,
            clips=clips,
            keyframes=keyframes,
            thumbs=thumbs,
            old_clips=old_clips,
            planner_cost=planner_cost,
            old_keyframes=old_keyframes,
            failed=failed,
            painted=painted,
            movie=movie,
            same_as=same_as,
        ),
    )
    return png_path, html_path


def find_artifacts(run_dir: Path, plan: Plan) -> tuple[dict[str, Path], dict[str, Path]]:
    """(keyframes, clips) that exist on disk under ``run_dir/scenes/<id>/``."""
    keyframes: dict[str, Path] = {}
    clips: dict[str, Path] = {}
    for scene in plan.scenes:
        folder = run_dir / "scenes" / scene.id
        if (folder / "keyframe.png").is_file():
            keyframes[scene.id] = folder / "keyframe.png"
        if (folder / "clip.mp4").is_file():
            clips[scene.id] = folder / "clip.mp4"
    return keyframes, clips


#: run.db meta key: the per-scene estimates the last render put on the storyboard
COSTS_META = "storyboard_costs"


#: the record's key of the planner's estimate (no scene id starts with "_")
_PLAN_KEY = "_plan"
#: the record's key of the movie's length (`recorded_movie`)
_MOVIE_KEY = "_movie"


def costs_record(
    plan: Plan,
    costs: Mapping[str, float],
    planner_cost: float | None = None,
    movie: float | None = None,
    same_as: Mapping[str, str] | None = None,
) -> str:
    """What `recorded_costs` reads back: each scene's estimate with the seconds it was for
    (and `recorded_planner_cost`: the planner's; `recorded_movie`: the movie's length,
    with the scenes' seconds it was for; `recorded_same_as`: the scene it copies)."""
    record: dict[str, dict[str, object]] = {
        s.id: {"usd": costs[s.id], "seconds": s.seconds} for s in plan.scenes if s.id in costs
    }
    for sid, by in (same_as or {}).items():
        if sid in record:
            record[sid]["as"] = by
    if planner_cost is not None:
        record[_PLAN_KEY] = {"usd": planner_cost}
    if movie is not None:
        record[_MOVIE_KEY] = {"seconds": movie, "of": _scene_seconds(plan)}
    return json.dumps(record)


def _scene_seconds(plan: Plan) -> list[list[object]]:
    """What a recorded movie length is for: an edit of these (a scene's seconds, one
    added or removed) makes another movie."""
    return [[s.id, s.seconds] for s in plan.scenes]


def recorded_movie(run_dir: Path, plan: Plan) -> float | None:
    """The movie's length the last render put on the board, while the plan's scenes and
    their seconds are as they were then (an edit of them changes it: None)."""
    try:
        data = json.loads(_meta(run_dir, COSTS_META) or "{}")[_MOVIE_KEY]
        if data["of"] != _scene_seconds(plan):
            return None
        return float(data["seconds"])
    except (ValueError, TypeError, KeyError):
        return None


def recorded_same_as(run_dir: Path, plan: Plan) -> dict[str, str]:
    """The scenes the last render's board said take an earlier one's very requests, for
    those `recorded_costs` shows (an edit since makes the cost, and this, unknown)."""
    costs = recorded_costs(run_dir, plan)
    try:
        data = json.loads(_meta(run_dir, COSTS_META) or "{}")
        return {
            sid: by
            for sid in costs
            if isinstance(entry := data.get(sid), dict) and isinstance(by := entry.get("as"), str)
        }
    except (ValueError, TypeError, AttributeError):
        return {}


def recorded_planner_cost(run_dir: Path) -> float | None:
    """The planner's estimate the last render showed on the board, if any."""
    try:
        data = json.loads(_meta(run_dir, COSTS_META) or "{}")
        return float(data[_PLAN_KEY]["usd"])
    except (ValueError, TypeError, KeyError):
        return None


def recorded_costs(run_dir: Path, plan: Plan) -> dict[str, float]:
    """The estimates the last render showed, for the scenes whose seconds are unchanged.

    The storyboard command has no settings of its own to price with (the preset, the
    models): it shows what the render estimated, and "—" for a scene edited since.
    """
    raw = _meta(run_dir, COSTS_META)
    try:
        data = json.loads(raw) if raw else {}
        return {
            s.id: float(data[s.id]["usd"])
            for s in plan.scenes
            if s.id in data and float(data[s.id]["seconds"]) == s.seconds
        }
    except (ValueError, TypeError, KeyError):
        return {}  # an unreadable record: costs unknown, never a failed storyboard


#: run.db meta key: the clips the last render found current (made from the scene's
#: keyframe and inputs as they were then), with what they were made for
CLIPS_META = "storyboard_clips"
#: the plan.yaml fields a clip is made from (its keyframe's and its own)
_CLIP_INPUTS = ("goal", "image_prompt", "reference_photos", "motion_prompt", "seconds")


def _clip_inputs(scene: Scene) -> list[object]:
    """The inputs as records before 2026-12-04 held them: every `_CLIP_INPUTS` field."""
    return [getattr(scene, name) for name in _CLIP_INPUTS]


def _clip_fields(scene: Scene, unused: Collection[str] = ()) -> dict[str, object]:
    """The `_CLIP_INPUTS` fields of `scene` its clip was made from, by name, as JSON has
    them: without `unused`, those its keyframe was made without (a goal photo's prompt,
    a painted keyframe's reference photos)."""
    return {
        name: json.loads(json.dumps(getattr(scene, name), default=str))
        for name in _CLIP_INPUTS
        if name not in unused
    }


def clips_record(
    plan: Plan, current: Mapping[str, str], unused: Mapping[str, Collection[str]] | None = None
) -> str:
    """What `recorded_clips` reads back: each current clip's sha256 and the plan.yaml
    fields it was made for. `unused`: by scene id, fields its keyframe was made without
    (`plan.PHOTO_UNUSED_FIELDS`, `plan.PAINT_UNUSED_FIELDS`): their edit leaves the clip
    current (the board marked a painted scene's clip out of date after a reference_photos
    edit that status rightly called reuse)."""
    return json.dumps(
        {
            s.id: {
                "sha256": current[s.id],
                "inputs": _clip_fields(s, (unused or {}).get(s.id, ())),
            }
            for s in plan.scenes
            if s.id in current
        },
        default=str,
    )


def recorded_clips(run_dir: Path, plan: Plan) -> dict[str, str] | None:
    """The clips (sha256 by scene id) the last render found current, for the scenes not
    edited since; None for a run without the record (drawn before it was kept)."""
    raw = _meta(run_dir, CLIPS_META)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        out: dict[str, str] = {}
        for s in plan.scenes:
            entry = data.get(s.id)
            if not isinstance(entry, dict):
                continue
            was = entry["inputs"]
            if isinstance(was, dict):
                now: object = _clip_fields(s, [f for f in _CLIP_INPUTS if f not in was])
            else:  # a record of every field, written before 2026-12-04
                now = json.loads(json.dumps(_clip_inputs(s), default=str))
            if was == now:
                out[s.id] = str(entry["sha256"])
        return out
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def keyframe_inputs(scene: Scene, style: str | None, fields: Sequence[str]) -> dict[str, object]:
    """The values of ``fields`` (plan.yaml scene fields, and "style") for ``scene``, as
    JSON has them."""
    now = scene.model_dump(mode="json")
    return {f: (style if f == "style" else now.get(f)) for f in fields}


def keyframes_record(entries: Mapping[str, tuple[str, Mapping[str, object]]]) -> str:
    """What `recorded_keyframes` reads: scene id -> (sha256, the fields it was made from)."""
    return json.dumps(
        {sid: {"sha256": sha, "inputs": dict(inp)} for sid, (sha, inp) in entries.items()}
    )


def recorded_keyframes(
    run_dir: Path, plan: Plan, raw: str | None = None
) -> dict[str, tuple[str, dict[str, object]]] | None:
    """The keyframes recorded as current whose scene's fields are unchanged since (None:
    no record, a run drawn before it was kept). ``raw``: the record, else read."""
    if raw is None:
        raw = _meta(run_dir, KEYFRAMES_META)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        out: dict[str, tuple[str, dict[str, object]]] = {}
        for s in plan.scenes:
            entry = data.get(s.id)
            if not isinstance(entry, dict):
                continue
            inputs = dict(entry["inputs"])
            if keyframe_inputs(s, plan.style, list(inputs)) == inputs:
                out[s.id] = (str(entry["sha256"]), inputs)
        return out
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def painted_scenes(run_dir: Path, plan: Plan, raw: str | None = None) -> list[str]:
    """The scenes of `plan` whose keyframe on record the offline painter drew: its record
    (`keyframes_record`) holds the prompt and category but not the style, as
    `Pipeline._current_keyframes` writes it for a painted keyframe alone (a paid one
    holds the style, a goal photo's neither prompt nor category). ``raw``: the record,
    else read from the run."""
    try:
        data = json.loads((_meta(run_dir, KEYFRAMES_META) if raw is None else raw) or "{}")
        return [
            s.id
            for s in plan.scenes
            if isinstance(entry := data.get(s.id), dict)
            and {"image_prompt", "category"} <= set(entry["inputs"])
            and "style" not in entry["inputs"]
        ]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def _meta(run_dir: Path, key: str) -> str | None:
    db = run_dir / "run.db"
    if not db.is_file():
        return None
    from mindmovie.store import Store

    store = Store(db, read_only=True)
    try:
        return store.get_meta(key)
    finally:
        store.close()


def failed_steps(run_dir: Path, plan: Plan) -> dict[str, str]:
    """`failed_notes` of the run's journal ({} without one)."""
    from mindmovie.store import Store, journal_missing

    db = run_dir / "run.db"
    if journal_missing(db):
        return {}
    store = Store(db, read_only=True)
    try:
        return failed_notes(store.steps(), plan)
    finally:
        store.close()


def failed_notes(steps: Iterable[Step], plan: Plan) -> dict[str, str]:
    """By scene id, what a scene whose keyframe (first) or clip step failed says on the
    board ("clip failed: <error>"): a clip the content filter refused twice was shown
    as "no clip yet", as if the next render would simply make it."""
    ids = {s.id for s in plan.scenes}
    out: dict[str, str] = {}
    for st in steps:
        if st.scene_id not in ids or st.status != "failed" or st.stage not in ("keyframe", "clip"):
            continue
        if st.stage == "keyframe" or st.scene_id not in out:
            # stopped by Ctrl-C or the budget (most not even started): "failed" read as
            # if the provider had refused it, where status says stopped and retried
            why = st.error or "no reason was recorded"
            if st.error_kind not in ("budget", "interrupted"):
                out[st.scene_id] = f"{st.stage} failed: {why}"
            elif why.startswith("stopped "):  # "stopped by Ctrl-C"
                out[st.scene_id] = f"{st.stage} {why}"
            else:
                out[st.scene_id] = f"{st.stage} stopped: {why}"
    return out


#: bump when the board is drawn differently, so an unchanged run redraws it once
BOARD_VERSION = 6


def board_inputs(
    run_dir: Path,
    plan: Plan,
    costs: Mapping[str, float] | None,
    current_clips: Mapping[str, str] | None = None,
    planner_cost: float | None = None,
    current_keyframes: Mapping[str, str] | None = None,
    failed: Mapping[str, str] | None = None,
    movie: float | None = None,
    same_as: Mapping[str, str] | None = None,
) -> str:
    """A digest of everything the board shows (plan.yaml, which keyframes and clips exist
    and their file stamps, the costs, which clips are current, the steps that failed): a
    render skips redrawing an unchanged board."""
    import hashlib

    plan_path = run_dir / "plan.yaml"
    keyframes, clips = find_artifacts(run_dir, plan)
    stamps = [
        (kind, sid, p.stat().st_size, p.stat().st_mtime_ns)
        for kind, found in (("k", keyframes), ("c", clips))
        for sid, p in sorted(found.items())
    ]
    parts = (
        BOARD_VERSION,
        plan_path.read_bytes(),
        stamps,
        sorted((costs or {}).items()),
        sorted((current_clips or {}).items()),
        planner_cost,
        sorted((current_keyframes or {}).items()),
        sorted((failed or {}).items()),
        movie,
        sorted((same_as or {}).items()),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def check_is_a_run(run_dir: Path) -> None:
    """A folder that is no run is said as `status` says it: "nonexist/plan.yaml: file not
    found" (or "cannot read file (Not a directory)" for a file) read as if a run had lost
    its plan. A run folder without plan.yaml (run.db there) is load_plan's to say."""
    from mindmovie.store import (
        StoreError,
        check_journal_link,
        not_a_run_folder,
        run_above,
        runs_beside,
        runs_inside,
    )

    check_journal_link(run_dir / "run.db")  # drawn as if the run had no journal
    plan = run_dir / "plan.yaml"
    try:
        if run_dir.is_dir() and plan.exists():
            return
        if run_dir.is_dir() and (run_dir / "run.db").exists():
            if os.path.lexists(plan):
                return  # a broken link, say: load_plan says what is wrong with it
            # a run whose plan.yaml was moved away: "file not found" alone, where status
            # says the next render makes one
            raise StoreError(
                f"{plan}: not there, so there is no plan to draw; the next `plan` or "
                "`render` of its goals.yaml makes one (`status` says which goals.yaml)"
            )
        is_file = run_dir.exists() and not run_dir.is_dir()
    except OSError:  # a name too long, a folder not ours: load_plan says what it can
        return
    if is_file:
        raise StoreError(not_a_run_folder(run_dir, "storyboard"))
    if inside := runs_inside(run_dir, "storyboard"):
        raise StoreError(f"{run_dir}: no run here; {inside}")
    if above := run_above(run_dir, "storyboard"):
        raise StoreError(f"{run_dir}: no run here; {above}")
    # a typo, or a link to nothing: "no run here" read as if it were there
    if not os.path.exists(run_dir):
        raise StoreError(no_such_run_folder(run_dir, runs_beside(run_dir, "storyboard")))
    raise StoreError(f"{run_dir}: no run here (no plan.yaml). Plan or render a goals.yaml first.")


def storyboard_from_run(
    run_dir: Path,
    costs: dict[str, float] | None = None,
    current_clips: Mapping[str, str] | None = None,
    planner_cost: float | None = None,
    current_keyframes: Mapping[str, str] | None = None,
    failed: Mapping[str, str] | None = None,
    movie: float | None = None,
    same_as: Mapping[str, str] | None = None,
    *,
    plan: Plan | None = None,
    keyframes_raw: str | None = None,
) -> tuple[Path, Path]:
    """The storyboard of a run directory: its plan.yaml and whatever keyframes/clips exist.

    Without `costs`, the estimates the last render recorded are shown. A clip is played
    when it is one of ``current_clips`` (sha256 by scene id; without them, the clips the
    last render recorded as current, for scenes not edited since, and whose file is the
    same); a run without that record plays every clip on disk, and one without run.db
    none (the next render makes them all again). ``failed``: as `failed_notes` gives
    it (else read from run.db). Raises ``PlanError`` when plan.yaml is missing or wrong
    (same message as ``render``). ``movie``: its length (`movie_seconds`), else the one
    the last render recorded (`recorded_movie`), else the scenes' seconds are shown.
    ``plan`` and ``keyframes_raw`` (`keyframes_record`): what a render has just read
    and recorded, not read again (a render's board read plan.yaml twice and opened
    run.db once more for the record it had written).
    """
    from mindmovie.store import journal_missing

    check_is_a_run(run_dir)
    if plan is None:
        plan = load_plan(run_dir / "plan.yaml")
    keyframes, clips = find_artifacts(run_dir, plan)
    if journal_missing(run_dir / "run.db"):
        # no journal to vouch for them: the next render moves every keyframe and clip
        # aside and makes them again (Pipeline._set_aside_unjournaled), as status says
        current_clips = {} if current_clips is None else current_clips
        current_keyframes = {} if current_keyframes is None else current_keyframes
    if costs is None:
        costs = recorded_costs(run_dir, plan)
        planner_cost = recorded_planner_cost(run_dir)
        same_as = recorded_same_as(run_dir, plan)
    if current_clips is None:
        current_clips = recorded_clips(run_dir, plan)
        if current_clips is not None:
            current_clips = {
                sid: sha
                for sid, sha in current_clips.items()
                if sid in clips and sha256_file(clips[sid]) == sha
            }
    if current_keyframes is None:
        found = recorded_keyframes(run_dir, plan)
        current_keyframes = None if found is None else {k: v[0] for k, v in found.items()}
    old_keyframes: set[str] = set()
    if current_keyframes is not None:
        old_keyframes = {
            sid
            for sid, p in keyframes.items()
            if sid not in current_keyframes or sha256_file(p) != current_keyframes[sid]
        }
    old: set[str] = set()
    if current_clips is not None:
        old = {sid for sid in clips if sid not in current_clips}
        clips = {sid: p for sid, p in clips.items() if sid in current_clips}
    return write_storyboard(
        run_dir,
        plan,
        failed=failed_steps(run_dir, plan) if failed is None else failed,
        costs=costs,
        clips=clips,
        keyframes=keyframes,
        old_clips=old,
        planner_cost=planner_cost,
        old_keyframes=old_keyframes,
        painted=painted_scenes(run_dir, plan, keyframes_raw),
        movie=recorded_movie(run_dir, plan) if movie is None else movie,
        same_as=same_as,
    )
