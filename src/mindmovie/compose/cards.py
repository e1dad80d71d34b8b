"""Title/closing cards and affirmation overlays, drawn with Pillow.

Text uses Pillow's built-in scalable font (`ImageFont.load_default(size=...)`, Pillow >=
10.1), so no system font is needed and every machine draws the same pixels. That font
has little more than ASCII, so a text with other characters (é, ü, —, Cyrillic, CJK,
Arabic...) is drawn with the first system font of `FALLBACK_FONTS` that has them all
(else the one that has the most), instead of as boxes. Emoji and other symbols no font
here has are left out (`drawn_text`) rather than drawn as boxes. Layout wraps by measured width
(between words, after the hyphens of a word too wide for its box, and between Chinese or
Japanese characters, which have no spaces; a run
wider than the box, e.g. Thai or Lao, at a grapheme cluster's edge) and
shrinks the font until the block fits its box, so text is never off-frame; as a last
resort it is cut with an ellipsis.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from mindmovie.fonts import (
    FALLBACK_FONTS,
    LINE_BREAK,
    font_having,
    laid_out,
    located,
    text_lines,
    words,
)
from mindmovie.fsutil import commit_file, make_dirs, tmp_path_for

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
CardKind = Literal["title", "closing"]

#: (top colour, bottom colour, glow colour) per card: calm, dark enough for white text.
_PALETTES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    "title": ((16, 22, 54), (72, 44, 104), (236, 176, 140)),
    "closing": ((44, 24, 58), (150, 84, 82), (255, 214, 150)),
}


@functools.lru_cache(maxsize=64)
def font(px: int, face: str = "") -> Font:
    """The built-in scalable font (face "") or a system font file at `px` pixels."""
    if face:
        return ImageFont.truetype(face, max(1, px))
    return ImageFont.load_default(size=max(1, px))


def _needs_glyph(ch: str) -> bool:
    """Whether `ch` must show as a glyph: not a space, a control, an invisible format
    mark (zero-width joiner...) or a variation selector (the emoji-style U+FE0F)."""
    if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
        return False
    return not ("\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef")


@functools.lru_cache(maxsize=64)
def _glyph_font(face: str) -> Font:
    """`face` at 24 px with Pillow's basic layout, to tell which characters it has: with
    raqm (HarfBuzz) a lone combining mark is drawn on a dotted circle, whether the font
    has the mark or not, so a mark it lacks (U+0354, the keycap's U+20E3 in DejaVu Sans)
    was taken as had and drawn as a box, with no warning."""
    basic = ImageFont.Layout.BASIC  # (0: `font_variant(layout_engine=0)` keeps raqm)
    if face:
        return ImageFont.truetype(face, 24, layout_engine=basic)
    built_in = ImageFont.load_default(size=24)
    data = built_in.path if isinstance(built_in, ImageFont.FreeTypeFont) else None
    if not isinstance(data, io.BytesIO):  # (a Pillow whose built-in font is a bitmap)
        return built_in
    return ImageFont.truetype(io.BytesIO(data.getvalue()), 24, layout_engine=basic)


@functools.lru_cache(maxsize=8192)
def _has_glyph(face: str, ch: str) -> bool:
    f = _glyph_font(face)
    # a character the font lacks is drawn as its "missing" glyph: a private-use one's
    return bytes(f.getmask(ch)) != bytes(f.getmask("\U0010fffd"))


def missing_glyphs(text: str, face: str = "") -> str:
    """The characters of `text` that `face` cannot draw (each once, in order)."""
    text = unicodedata.normalize("NFC", text)  # as layout_text draws it
    seen = dict.fromkeys(ch for ch in text if _needs_glyph(ch) and not _has_glyph(face, ch))
    return "".join(seen)


#: the one font every text of the movie being made is drawn in, when its texts would
#: otherwise mix Pillow's built-in font with one fallback font that draws them all
#: (`movie_face`); None: each text in its own (`natural_face`)
_MOVIE_FACE: str | None = None


def face_for(text: str) -> str:
    """The font to draw `text` with: `natural_face`'s, or the movie's one font
    (`movie_face`) for a text the built-in font draws and that font draws too."""
    natural = natural_face(text)
    face = _MOVIE_FACE
    if face and not natural and text.strip() and not missing_glyphs(text, face):
        return face
    return natural


def _one_face(texts: Sequence[str]) -> str | None:
    """The font `movie_face` draws all of `texts` in: the one fallback some of them need,
    when the others are the built-in font's and it draws them all; else None."""
    shown = [t for t in (drawn_text(t) for t in texts) if t.strip()]
    faces = {t: natural_face(t) for t in shown}
    needed = set(faces.values()) - {""}
    if len(needed) != 1 or "" not in faces.values():
        return None
    (face,) = needed
    if any(not f and missing_glyphs(t, face) for t, f in faces.items()):
        return None
    return face


def _forget_layouts() -> None:
    """Forget what was worked out with the movie's font (`_MOVIE_FACE`) as it changes."""
    layout_text.cache_clear()
    _cleaned.cache_clear()


@contextlib.contextmanager
def movie_face(texts: Sequence[str]) -> Iterator[str | None]:
    """Draw every text of a movie in one font while in this block: a movie whose texts
    mostly fit Pillow's built-in font, and one of which needs another ("I'm grateful,
    café au lait" takes DejaVu Sans for its é), changed typeface from text to text (the
    text audit). Only when one fallback draws every text whole (`_one_face`); yields
    it (None: each text its own font, as outside the block)."""
    global _MOVIE_FACE
    before = _MOVIE_FACE
    chosen = _one_face(texts)
    if chosen != before:
        _MOVIE_FACE = chosen
        _forget_layouts()
    try:
        yield chosen
    finally:
        if before != _MOVIE_FACE:
            _MOVIE_FACE = before
            _forget_layouts()


@functools.lru_cache(maxsize=256)
def natural_face(text: str) -> str:
    """The font to draw `text` with by itself: "" (the built-in one) when it has every character,
    else the first loadable fallback that has them all, else the one that has the most;
    and when that still lacks letters (Devanagari, Thai, Tamil...: no name in
    `FALLBACK_FONTS` has them), the system font file that has more (`fonts.font_having`:
    fonts named for the script first, then the system's font folders). A text the
    built-in font or a listed one draws whole looks at no other file."""
    best, missing = "", missing_glyphs(text)
    for name in FALLBACK_FONTS:
        if not missing:
            break
        if (face := located(name)) is None:
            continue
        lacks = missing_glyphs(text, face)
        if len(lacks) < len(missing):
            best, missing = face, lacks
    if missing:
        drawn = unicodedata.normalize("NFC", text)  # as missing_glyphs reads it
        found = font_having("".join(dict.fromkeys(filter(_needs_glyph, drawn))), missing)
        if found is not None and len(missing_glyphs(text, found)) < len(missing):
            best = found
    return best


def undrawable(text: str) -> str:
    """The characters of `text` no font here can draw: they show as boxes."""
    return missing_glyphs(text, face_for(text))


def _extends(ch: str) -> bool:
    """Whether `ch` belongs to the emoji before it: a variation selector (U+FE0F), a
    skin-tone modifier, the keycap's enclosing mark (U+20E3) or a tag (subdivision flags)."""
    o = ord(ch)
    return (
        0xFE00 <= o <= 0xFE0F or 0x1F3FB <= o <= 0x1F3FF or o == 0x20E3 or 0xE0020 <= o <= 0xE007F
    )


def _is_ri(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF  # a regional indicator: two make a flag


def _clusters(text: str) -> list[str]:
    """`text` cut into emoji sequences and single characters: a base with its
    extenders (`_extends`), joined by ZWJ (U+200D) to the next such, or a pair of
    regional indicators (a flag), so a family or a flag is kept or left out whole."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        if _is_ri(text[i]) and j < n and _is_ri(text[j]):
            j += 1
        while j < n:
            if _extends(text[j]):
                j += 1
            elif text[j] == "\u200d" and j + 1 < n:
                j += 2
            else:
                break
        out.append(text[i:j])
        i = j
    return out


def _pictographic(cluster: str) -> bool:
    """An emoji or other symbol (category So/Sk: 🙏, ✨, a skin tone, a flag) or a keycap
    (1️⃣): a picture, not a letter, so leaving it out keeps the words' meaning."""
    return "\u20e3" in cluster or any(unicodedata.category(c) in ("So", "Sk") for c in cluster)


def _is_mark(ch: str) -> bool:
    """A combining mark (an accent, a vowel sign): drawn on the letter before it."""
    return unicodedata.category(ch)[0] == "M"


#: where `_drop_pictographs` left a pictograph out, until `_tidied` reads it
_GONE = "\x00"
_LIST_MARK = "[,;、，]"


def _tidied(line: str) -> str:
    """`line` with the places pictographs were left out of (`_GONE`) mended: between two
    words a space ("I🙏you" was "Iyou", "Love🇯🇵Japan" "LoveJapan"), before a stop
    nothing, an item of a list that was one gone with its comma ("alive, 🙏, grateful"
    was "alive, , grateful"; "🙏, joy" ", joy"). Text around that was not left out
    stays as written (a French space before "!" too); between Chinese or Japanese
    letters, written without spaces, nothing."""
    # (each run of white space one space first, as the caller leaves it: the patterns'
    # white space on either side of an optional mark was cubic in a long run's length)
    line = re.sub(r"\s+", " ", line)
    line = re.sub(rf"({_LIST_MARK}) ?{_GONE}+ ?{_LIST_MARK}", r"\1", line)
    line = re.sub(rf"^ ?{_GONE}+ ?{_LIST_MARK} ?", "", line)
    line = re.sub(rf" ?{_LIST_MARK}? ?{_GONE}+ ?{_LIST_MARK}? ?$", "", line)
    line = re.sub(rf" ?{_GONE}+ ?(?=[.,!?;:…)\]」』。、，！？])", "", line)

    def gap(m: re.Match[str]) -> str:
        before, after = line[m.start() - 1 : m.start()], line[m.end() : m.end() + 1]
        return "" if any(_ideographic(c) for c in before + after) else " "

    return re.sub(f"{_GONE}+", gap, line)


def _drop_pictographs(text: str, lacks: str) -> tuple[str, str]:
    """`text` without its pictographic clusters that have a character of `lacks`, and
    without the marks of `lacks` on a letter not of `lacks`; and those characters (each
    once); spaces tidied where something was left out."""
    if not lacks:
        return text, ""
    dropped: dict[str, None] = {}
    # each line with the break written after it ("\n", U+2028...: `fonts.LINE_BREAK`),
    # kept as it is: U+2028 and U+2029 were joined as "\n", or as spaces on a line tidied
    ends = [m.group() for m in LINE_BREAK.finditer(text)] + [""]
    lines: list[tuple[str, str]] = []
    for line, end in zip(LINE_BREAK.split(text), ends, strict=True):
        kept: list[str] = []
        base_drawn = False  # the last character not a mark has a glyph
        for cl in _clusters(line):
            if "\u20e3" in cl and cl[0] in "0123456789#*" and any(c in lacks for c in cl):
                # a keycap (1️⃣) the font cannot draw: its digit, which the words need
                # ("my 1️⃣ goal"), shows plain
                kept.append(cl[0])
                dropped.update(dict.fromkeys(c for c in cl[1:] if _needs_glyph(c)))
                base_drawn = cl[0] not in lacks
            elif _pictographic(cl) and any(c in lacks for c in cl):
                dropped.update(dict.fromkeys(c for c in cl if _needs_glyph(c)))
                kept.append(_GONE)  # (where it was: `_tidied`)
            elif len(cl) == 1 and cl in lacks and _is_mark(cl) and base_drawn:
                # an accent the font lacks, on a letter it draws: the letter shows bare
                # (a box beside it read as part of the word); one on a letter it lacks
                # too stays, with it, and is warned of as a letter no font has
                dropped[cl] = None
            else:
                kept.append(cl)
                if not _is_mark(cl[0]):
                    base_drawn = cl[0] not in lacks
        new = "".join(kept)
        if new != line:
            new = " ".join(_tidied(new).split())  # no double, leading or trailing space
            if not new and line.strip():
                if not end and lines:  # the last line: gone with the break before it
                    lines[-1] = (lines[-1][0], "")
                continue  # a line of emoji only: gone, not a blank line
        lines.append((new, end))
    if not dropped:
        return text, ""
    return "".join(line + end for line, end in lines), "".join(dropped)


@functools.lru_cache(maxsize=256)
def _cleaned(text: str) -> tuple[str, str]:
    text = unicodedata.normalize("NFC", text)
    left_out = ""
    while True:  # again with the face the shorter text is drawn with (rarely differs)
        text, gone = _drop_pictographs(text, undrawable(text))
        if not gone:
            return text, left_out
        left_out += "".join(c for c in gone if c not in left_out)


def _without_unseen_boxes(text: str) -> str:
    """`text` without the invisible characters (a soft hyphen, a zero-width space, a word
    joiner, a direction mark: format characters, shown as nothing) that the font it is
    drawn with has no glyph for. Pillow's built-in font, which draws a text of ASCII
    letters, has none, and drew each as a box ("ex▯tra▯ordinary", from a word
    processor's soft hyphens), with no warning: they are not letters to warn about."""
    # (the soft hyphen stays: where a long word may break, drawn only as a line's end's
    # "-" and left out inside a line, `_shown`; taken out here, it was never a break)
    unseen = {c for c in text if not c.isspace() and not _needs_glyph(c) and c != SOFT_HYPHEN}
    if not unseen:
        return text
    face = face_for(text)
    boxes = {c for c in unseen if not _has_glyph(face, c)}
    return "".join(c for c in text if c not in boxes) if boxes else text


def drawn_text(text: str) -> str:
    """`text` as it is drawn: emoji and other symbols no font here has are left out
    (spaces tidied) instead of drawn as boxes, and so are invisible characters its font
    lacks (`_without_unseen_boxes`). Letters no font has (CJK, Arabic... on a machine
    without such a font) stay, as boxes, and are warned about: leaving words out would
    change what the affirmation says. Unchanged when nothing is left out."""
    if undrawable(text):
        text = _cleaned(text)[0]
    return _without_unseen_boxes(text)


def left_out(text: str) -> str:
    """The characters `drawn_text` leaves out of `text` (each once, in order): told to
    the person, naming the item, before anything is paid for."""
    if not undrawable(text):
        return ""
    return _cleaned(text)[1]


@dataclass(frozen=True)
class TextLayout:
    px: int
    lines: tuple[str, ...]
    line_height: int
    width: int  # widest line, pixels
    height: int  # whole block, pixels
    face: str = ""  # `font`'s face: "" is the built-in font
    cut: bool = False  # too long even at the smallest size: cut with an ellipsis
    #: each line's paragraph's direction (`fonts.paragraph_direction`), drawn with it
    directions: tuple[str | None, ...] = ()


def _width(f: Font, s: str) -> float:
    return float(f.getlength(s))


#: characters a line may not start with (closing brackets and punctuation, the prolonged
#: sound mark, small kana) or end with (opening brackets): a break next to them moves
#: the character before (after) along with them, as CJK line breaking (kinsoku) does
_NO_LINE_START = frozenset(
    "、。，．,.：；:;！？!?）」』】〕〉》〗〙〛｝］ー々〻ゝゞヽヾ・…‥"
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
_NO_LINE_END = frozenset("（「『【〔〈《〖〘〚｛［")


def _ideographic(ch: str) -> bool:
    """Whether a line may break before or after `ch` with no space: Chinese and Japanese
    (ideographs, kana, their full-width punctuation) are written without spaces between
    words. Korean writes spaces, and its words are kept whole as Latin ones are."""
    if unicodedata.east_asian_width(ch) not in ("W", "F"):
        return False
    o = ord(ch)
    hangul = 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xAC00 <= o <= 0xD7AF
    return not hangul and unicodedata.category(ch)[0] in "LPN"


#: where a person (or Thai text, between its words) marks a break with nothing shown
ZERO_WIDTH_SPACE = "\u200b"


def _units(word: str) -> list[str]:
    """`word` (a run without spaces) cut where a line may break inside it: after a zero
    width space (a long word broke mid-letters beside one, the text audit), between
    Chinese or Japanese characters (`_ideographic`), not before a closing mark or after
    an opening one (`_NO_LINE_START`, `_NO_LINE_END`). Other words are one unit. A
    sentence of Chinese is one "word" to `str.split`: it was shrunk to fit one line
    (at the smallest size on a 9:16 frame) instead of wrapped at the largest."""
    units: list[str] = []
    start = 0
    for i in range(1, len(word)):
        a, b = word[i - 1], word[i]
        if a == ZERO_WIDTH_SPACE or (
            (_ideographic(a) or _ideographic(b))
            and b not in _NO_LINE_START
            and a not in _NO_LINE_END
            and not unicodedata.combining(b)
        ):
            units.append(word[start:i])
            start = i
    units.append(word[start:])
    return units


#: the soft hyphen: where the person lets a word break, shown (as "-") only at a line's end
SOFT_HYPHEN = "\u00ad"
#: hyphens a word too wide for its box may break after (hyphen-minus, Unicode hyphen, the
#: soft hyphen: a 60-letter German compound written with them was kept whole and the
#: whole text shrunk to a third smaller to fit it, its breaks never used)
_HYPHENS = frozenset("-\u2010" + SOFT_HYPHEN)


def _line_end(line: str) -> str:
    """`line` as drawn at the end of a line: a soft hyphen there shows, as "-"."""
    return line[:-1] + "-" if line.endswith(SOFT_HYPHEN) else line


def _shown(line: str) -> str:
    """`line` as drawn: a soft hyphen at its end as "-" (`_line_end`), those inside it
    left out (Pillow's built-in font has no glyph for one: a box; Pillow's basic layout
    draws a font's own, a hyphen mid-word)."""
    return _line_end(line).replace(SOFT_HYPHEN, "")


def _hyphen_parts(word: str) -> list[str]:
    """`word` cut after each hyphen that has a letter or digit before it and a letter
    after (the hyphen ends its part; "-5", "5-3" and "--" stay whole). A word too wide
    for its box breaks there before it is split by width: it was split where the line
    ran out ("Supercalifragilisticex" / "pialidocious-Antidis" on a 9:16 closing)."""
    parts: list[str] = []
    start = 0
    for i in range(2, len(word)):
        if word[i - 1] in _HYPHENS and word[i - 2].isalnum() and word[i].isalpha():
            parts.append(word[start:i])
            start = i
    parts.append(word[start:])
    return parts


def _fitted(unit: str, f: Font, max_w: float) -> list[str]:
    """`unit` whole when it fits `max_w` or has no hyphen, else its `_hyphen_parts`: a
    hyphenated word that fits is kept whole, moved to the next line as any word is."""
    if not _HYPHENS.intersection(unit) or _fits(f, _shown(unit), max_w):
        return [unit]
    return _hyphen_parts(unit)


def _wrap(
    text: str,
    f: Font,
    max_w: float,
    max_lines: int | None = None,
    directions: list[str | None] | None = None,
) -> list[str]:
    """Greedy word wrap by measured width, between words, between Chinese or Japanese
    characters (`_units`) and after the hyphens of a word too wide for the box
    (`_fitted`); units still wider than the box are split. With
    `max_lines`, it stops once it has more lines than that up to its last line with
    text (the caller cuts them; empty lines at the start and end are dropped: a title
    written as a YAML block (`title: |` then a blank line) drew an empty first line and
    sat half a line low on its card): a 10,000-letter
    affirmation was wrapped whole at every font size tried, minutes for a block of
    which a dozen lines show. `directions` is given each line's paragraph's direction."""
    lines: list[str] = []
    dirs: list[str | None] = []
    upto = 0  # lines up to the last one with text
    para_dir: str | None = None

    def add(line: str) -> None:
        nonlocal upto
        line = _shown(line)
        lines.append(line)
        dirs.append(para_dir)
        if line:
            upto = len(lines)

    def full() -> bool:
        return max_lines is not None and upto > max_lines

    for para, direction in text_lines(text):  # (a line as written: "\n", U+2028...)
        if full():
            break
        para_words = words(para)
        para_dir = direction  # (`add`'s)
        if not para_words:
            if lines:
                add("")
            continue
        cur = ""
        # units of one word join with no space (Chinese, Japanese; the parts of a
        # hyphenated word too wide for the box), words with one
        units = (
            (p, " " if k == j == 0 else "")
            for w in para_words
            for k, u in enumerate(_units(w))
            for j, p in enumerate(_fitted(u, f, max_w))
        )
        for word, sep in units:
            if full():
                break
            trial = f"{cur}{sep}{word}" if cur else word
            if _fits(f, _shown(trial), max_w):
                cur = trial
                continue
            if cur:
                add(cur)
                cur = ""
            while not full() and len(word) > 1:
                cut = _head_that_fits(word, f, max_w)
                if cut == len(word):
                    break
                cut = _cluster_start(word, cut)
                add(word[:cut])
                word = word[cut:]
            cur = word
        if not full():
            add(cur)
    while lines and not lines[-1]:
        lines.pop()
        dirs.pop()
    if directions is not None:
        directions[:] = dirs or [None]
    return lines or [""]


def _joins_previous(word: str, i: int) -> bool:
    """Whether `word[i]` belongs to the character before it: a combining mark (Thai and
    Lao vowel and tone marks, an accent; categories Mn, Mc, Me; and Thai and Lao AM,
    letters Unicode counts as spacing marks), a variation selector or emoji extender, or
    a character joined by ZWJ."""
    ch = word[i]
    mark = unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch in "\u0e33\u0eb3"
    if mark or _extends(ch) or ch == "\u200d":
        return True
    return i > 0 and word[i - 1] == "\u200d"


def _cluster_start(word: str, cut: int) -> int:
    """`cut` moved back to the start of the grapheme cluster it falls in (forward to
    its end if the cluster is the head itself). Thai and Lao have no spaces between
    words: a sentence wider than the box is split where it fills the line, and that
    cut by letters put a vowel or tone mark (ที่'s ี and ่) at the start of the next
    line, apart from the consonant it is written on (2 of 5 lines of a long Thai
    affirmation began with one)."""
    i = cut
    while 0 < i < len(word) and _joins_previous(word, i):
        i -= 1
    if i > 0:
        return i
    i = cut
    while i < len(word) and _joins_previous(word, i):
        i += 1
    return i


def _fits(f: Font, s: str, max_w: float) -> bool:
    """`_width(f, s) <= max_w`, told from a head of a long `s` when that is already too
    wide (measuring costs as much as the text is long: ~25 ms for 10,000 letters)."""
    if len(s) > 256 and _width(f, s[:256]) > max_w:
        return False
    return _width(f, s) <= max_w


def _head_that_fits(word: str, f: Font, max_w: float) -> int:
    """The length of the longest head of `word` that fits `max_w` (all of it when it
    does; at least one character). By bisection (a scan from the end measured every
    prefix, minutes for one long pasted token: a URL, a sentence in a script without
    spaces), between heads found by doubling, so no head much longer than a line is
    measured."""
    lo, n = 1, 16
    while n < len(word) and _width(f, word[:n]) <= max_w:
        lo, n = n, n * 2
    if n >= len(word) and _width(f, word) <= max_w:
        return len(word)
    hi = min(n, len(word)) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _width(f, word[:mid]) <= max_w:
            lo = mid
        else:
            hi = mid - 1
    return lo


@functools.lru_cache(maxsize=1024)
def layout_text(text: str, max_w: int, max_h: int, max_px: int, min_px: int) -> TextLayout:
    """The largest font size (max_px down to min_px) at which `text` fits max_w x max_h.

    The text is drawn composed (NFC): an accent typed or pasted as a separate combining
    mark (e + U+0301, as macOS writes file names) becomes the one letter é.
    Remembered: the layout is frozen, and what it is made with (the fonts installed,
    Pillow's layout engine) does not change while a command runs; a render laid each
    text out ~4 times (the fit warnings, the overlays' boxes, the cards), 36 layouts of
    9 texts and 82 ms of CPU for the example.
    """
    text = drawn_text(unicodedata.normalize("NFC", text))
    top_px = max(max_px, 1)
    min_px = max(1, min(min_px, top_px))
    face = face_for(text)
    # A word is split only when it is wider than the box even at the smallest size (a
    # pasted URL): a long word (Превосходительство, a German compound) shrinks the text
    # instead, as a block does that is too tall. It was broken at the largest size,
    # its last letters alone on the next line. A hyphenated word breaks after its
    # hyphens first (`_fitted`), so its parts are what must fit.
    # each distinct unit once: a long Chinese text is thousands of units of a few letters
    parts = list(dict.fromkeys(p for w in words(text) for u in _units(w) for p in _hyphen_parts(u)))
    for whole_words in (True, False):
        px = top_px
        while True:
            f = font(px, face)
            lh = round(px * 1.28)
            dirs: list[str | None] = []
            lines = _wrap(text, f, max_w, max(1, max_h // lh), dirs)
            widest = max((_width(f, ln) for ln in lines), default=0.0)
            split = whole_words and any(not _fits(f, _shown(w), max_w) for w in parts)
            if (len(lines) * lh <= max_h and widest <= max_w and not split) or px <= min_px:
                break
            px = max(min_px, min(px - 1, int(px * 0.92)))
        if not split:
            break
    fit = max(1, max_h // lh)
    cut = len(lines) > fit
    if cut:  # still too long at the smallest size: cut, never overflow
        lines, dirs = lines[:fit], dirs[:fit]
        last = lines[-1]
        while last and _width(f, last + "…") > max_w:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    widest = max((_width(f, ln) for ln in lines), default=0.0)
    return TextLayout(
        px, tuple(lines), lh, int(np.ceil(widest)), len(lines) * lh, face, cut, tuple(dirs)
    )


def _draw_block(
    img: Image.Image,
    lay: TextLayout,
    centre_y: float,
    *,
    stroke: int,
    shadow: int,
    frame_w: int | None = None,
    origin: tuple[int, int] = (0, 0),
) -> None:
    """White text centred on `centre_y`, with a soft dark shadow and a thin dark outline;
    each line in its paragraph's direction (`fonts.laid_out`).

    `img` may be a window of a `frame_w`-wide frame whose top-left is at `origin` (whole
    pixels, so every glyph lands on the same sub-pixel phase as in the full frame).
    """
    w = frame_w or img.size[0]
    f = font(lay.px, lay.face)
    top = centre_y - lay.height / 2
    positions = []
    directions = lay.directions or (None,) * len(lay.lines)
    drawn = [laid_out(f, line, d) for line, d in zip(lay.lines, directions, strict=True)]
    for i, (line, _how) in enumerate(drawn):
        lw = _width(f, line)  # as drawn: Arabic joined, for the basic layout
        y = top + i * lay.line_height + (lay.line_height - lay.px) / 2
        positions.append(((w - lw) / 2 - origin[0], y - origin[1]))
    if shadow > 0:
        mask = Image.new("L", img.size, 0)
        md = ImageDraw.Draw(mask)
        for (x, y), (line, how) in zip(positions, drawn, strict=True):
            md.text(
                (x + shadow / 2, y + shadow / 2),
                line,
                font=f,
                fill=190,
                stroke_width=stroke + 1,
                **how,
            )
        mask = mask.filter(ImageFilter.GaussianBlur(shadow))
        black = Image.new("RGBA", img.size, (0, 0, 0, 255))
        black.putalpha(mask)
        img.alpha_composite(black)
    d = ImageDraw.Draw(img)
    for (x, y), (line, how) in zip(positions, drawn, strict=True):
        d.text(
            (x, y),
            line,
            font=f,
            fill=(255, 255, 255, 255),
            stroke_width=stroke,
            stroke_fill=(12, 12, 16, 235),
            **how,
        )


#: The affirmation overlay's band starts this far down the frame (the bottom third)
OVERLAY_BAND_TOP = 2 / 3
#: The closing card's text reaches no higher than this fraction of the frame's height
CLOSING_TOP = 0.1
#: How far below its block a card's text draws, per pixel of font size: the last line's
#: descenders, the outline, and the shadow's offset and blur (measured ~0.5; rounded up)
CARD_INK_BELOW = 0.6


def _overlay_layout(text: str, size: tuple[int, int]) -> tuple[TextLayout, float, int, int]:
    """Layout, centre line, stroke and shadow of the affirmation in the bottom third.

    The block is wrapped to 85% of the width and shrunk to fit the bottom third (less a
    margin), so even a very long affirmation stays inside the frame.
    """
    w, h = size
    short = min(w, h)
    margin = max(4, round(short * 0.05))
    band_top = h * OVERLAY_BAND_TOP
    max_h = int(h - margin - band_top)
    lay = layout_text(text, int(w * 0.85), max_h, round(short * 0.075), max(9, round(short * 0.03)))
    centre = min(band_top + (h - margin - band_top) / 2, h - margin - lay.height / 2)
    return lay, centre, max(1, round(lay.px / 16)), max(1, round(lay.px / 10))


def _window(
    lay: TextLayout, centre: float, stroke: int, shadow: int, size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """The part of the frame a text block can touch (shadow blur included), even-aligned.

    It reaches past the blur by a margin, so drawing on this window gives the very
    pixels drawing on the whole frame would, at a fraction of the blur's cost.
    """
    w, h = size
    pad = 4 * shadow + 2 * stroke + lay.px + 8
    top = centre - lay.height / 2
    x0 = max(0, int((w - lay.width) / 2) - pad) // 2 * 2
    y0 = max(0, int(top) - pad) // 2 * 2
    x1, y1 = min(w, int((w + lay.width) / 2) + pad), min(h, int(top + lay.height) + pad)
    return x0, y0, x1, y1


def overlay_box(text: str, size: tuple[int, int]) -> tuple[Image.Image, int, int] | None:
    """The affirmation overlay cut to its visible pixels, and where it goes (x, y).

    Drawn on a window around the text instead of the whole frame: the blur and the
    composite then touch ~15 % of the pixels. The window reaches past the shadow's blur
    by a margin, so its pixels equal the whole-frame drawing's. Offsets and sizes are
    even so the 4:2:0 chroma of the box lines up with the frame's.
    """
    text = drawn_text(text)  # an overlay of emoji only draws nothing
    if not text.strip():
        return None
    w, _h = size
    lay, centre, stroke, shadow = _overlay_layout(text, size)
    x0, y0, x1, y1 = _window(lay, centre, stroke, shadow, size)
    img = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
    _draw_block(img, lay, centre, stroke=stroke, shadow=shadow, frame_w=w, origin=(x0, y0))
    box = img.getchannel("A").getbbox()
    if box is None:
        return None
    bx0, by0 = box[0] - box[0] % 2, box[1] - box[1] % 2
    bx1 = min(img.width, box[2] + box[2] % 2)
    by1 = min(img.height, box[3] + box[3] % 2)
    return img.crop((bx0, by0, bx1, by1)), x0 + bx0, y0 + by0


def overlay_image(text: str, size: tuple[int, int]) -> Image.Image:
    """Transparent RGBA frame with the affirmation in the bottom third."""
    img = Image.new("RGBA", size, (0, 0, 0, 0))
    placed = overlay_box(text, size)
    if placed is not None:
        box, x, y = placed
        img.paste(box, (x, y))
    return img


def _gradient(size: tuple[int, int], kind: str) -> Image.Image:
    """Soft vertical gradient with a warm glow behind the text; dithered against banding.

    The glow is an elliptical Gaussian, so it is the outer product of a row and a column
    profile: two short exps instead of one per pixel (it is on the compose's start path).
    """
    w, h = size
    f32 = np.float32
    top, bottom, glow = (np.array(c, dtype=f32) for c in _PALETTES[kind])
    ys = np.linspace(0.0, 1.0, h, dtype=f32)[:, None, None]
    base = top * (1 - ys) + bottom * ys  # (h, 1, 3)
    ex = np.exp(-2.2 * ((np.arange(w, dtype=f32) - w / 2) / f32(0.55 * w)) ** 2)
    ey = np.exp(-2.2 * ((np.arange(h, dtype=f32) - h * 0.46) / f32(0.55 * h)) ** 2)
    g = (ey[:, None] * (ex * f32(0.32)))[:, :, None]  # (h, w, 1)
    img = base + (glow - base) * g
    rng = np.random.default_rng(7)
    img += rng.random((h, w, 1), dtype=f32) * 2 - 1
    return Image.fromarray(np.clip(img, 0, 255, out=img).astype(np.uint8))


def _closing_bottom(size: tuple[int, int]) -> float:
    """The lowest row the closing card's text block may reach: its ink (shadow included)
    then ends above the affirmation overlay's band. The last scene dissolves into the
    closing card with its affirmation still on, so both texts show mid-crossfade; a long
    closing filled the middle 60% of the frame, down into that band, and the two were
    drawn over each other (most often in 9:16, where it wraps into many lines)."""
    w, h = size
    max_px = round(min(w, h) * 0.085)
    return h * OVERLAY_BAND_TOP - math.ceil(max_px * CARD_INK_BELOW)


def _card_layout(text: str, size: tuple[int, int], kind: CardKind) -> TextLayout:
    """A card's text fitted to 80% of the frame's width and, for the title, the middle
    60% of its height; for the closing, from `CLOSING_TOP` down to `_closing_bottom`."""
    w, h = size
    short = min(w, h)
    max_px = round(short * (0.10 if kind == "title" else 0.085))
    max_h = int(h * 0.6) if kind == "title" else int(_closing_bottom(size) - h * CLOSING_TOP)
    return layout_text(text, int(w * 0.8), max(1, max_h), max_px, max(9, round(short * 0.03)))


def _card_centre(lay: TextLayout, size: tuple[int, int], kind: CardKind) -> float:
    """The card's text centre line: the middle of the frame, but a closing too tall to
    end above `_closing_bottom` there is raised just enough."""
    h = size[1]
    if kind == "title":
        return h / 2
    return min(h / 2, _closing_bottom(size) - lay.height / 2)


#: a font size under this (pixels) cannot be read: `text_px`'s warning
READABLE_PX = 8


def text_fit(text: str, size: tuple[int, int], kind: str) -> tuple[int, bool]:
    """The font size `text` is drawn at (its card, or for kind "scene" its overlay; 0 for
    no text), and whether it is cut short (`text_cut`), from one layout. The size
    shrinks with the frame's short side: an `output.size` of 1024x16 drew every text
    1 px tall, and the render said nothing (`READABLE_PX`)."""
    text = drawn_text(text)
    if not text.strip():
        return 0, False
    if kind == "scene":
        lay = _overlay_layout(text, size)[0]
    else:
        lay = _card_layout(text, size, "title" if kind == "title" else "closing")
    return lay.px, lay.cut


def text_cut(text: str, size: tuple[int, int], kind: str) -> bool:
    """Whether `text` is cut short on screen (its card, or for kind "scene" its overlay):
    too long to fit even at the smallest font size, it ends in an ellipsis. The render
    warns, naming the scene: a long affirmation edited into plan.yaml was cut silently."""
    return text_fit(text, size, kind)[1]


def card_image(text: str, size: tuple[int, int], kind: CardKind) -> Image.Image:
    """Full-frame RGB card: gradient background, text centred in the middle 80% x 60%
    (a long closing's raised above the affirmation band: `_card_centre`)."""
    w = size[0]
    base = _gradient(size, kind).convert("RGBA")
    text = drawn_text(text)
    if text.strip():
        lay = _card_layout(text, size, kind)
        centre = _card_centre(lay, size, kind)
        stroke, shadow = max(1, round(lay.px / 22)), max(1, round(lay.px / 8))
        x0, y0, x1, y1 = _window(lay, centre, stroke, shadow, size)
        win = base.crop((x0, y0, x1, y1))  # drawn on the text's window, then put back
        _draw_block(win, lay, centre, stroke=stroke, shadow=shadow, frame_w=w, origin=(x0, y0))
        base.paste(win, (x0, y0))
    return base.convert("RGB")


def _save_raw(data: bytes, path: Path) -> Path:
    make_dirs(path.parent)
    tmp = tmp_path_for(path)
    try:
        tmp.write_bytes(data)
        commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def render_card(path: Path, text: str, size: tuple[int, int], kind: CardKind) -> Path:
    """Write the card as raw RGB24 bytes at `path` (atomically) unless it is there.

    Raw, not PNG: ffmpeg reads it with `-f rawvideo`, and writing it takes ~1 ms where
    a PNG took ~50 ms of the compose's start, before any encoder could begin.
    """
    if path.exists() and path.stat().st_size == size[0] * size[1] * 3:
        return path
    return _save_raw(card_image(text, size, kind).tobytes(), path)


def render_overlay(
    path: Path, text: str, size: tuple[int, int]
) -> tuple[Path, int, int, int, int] | None:
    """Write the overlay's box as raw RGBA bytes at `path` (atomically, unless it is
    there) and say where it goes and its size (x, y, w, h); None when the text draws
    nothing. Raw for the reason `render_card` is: a PNG's encoding (~20 ms an overlay)
    sat on the compose's start, before any encoder could begin."""
    placed = overlay_box(text, size)
    if placed is None:
        return None
    box, x, y = placed
    if not (path.exists() and path.stat().st_size == box.width * box.height * 4):
        _save_raw(box.tobytes(), path)
    return path, x, y, box.width, box.height
