"""The system fonts text is drawn with when Pillow's built-in font lacks a letter.

A module of its own, without numpy or the compositor, so `doctor` can name them fast.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import unicodedata
from collections.abc import Callable
from typing import Any

#: System fonts tried, in order, for a text the built-in font cannot draw (Pillow looks
#: a bare file name up in the system's font folders: Linux, macOS and Windows ones).
FALLBACK_FONTS = (
    "DejaVuSans.ttf",
    "NotoSans-Regular.ttf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "Arial Unicode.ttf",
    "arialuni.ttf",
    "Arial.ttf",
    "arial.ttf",
    "LiberationSans-Regular.ttf",
    "FreeSans.ttf",
    "msyh.ttc",
    "PingFang.ttc",
)

#: the XDG base directory spec's default XDG_DATA_DIRS: where Linux distributions put
#: their fonts (`<dir>/fonts`)
STANDARD_DATA_DIRS = ("/usr/local/share", "/usr/share")


@functools.cache
def located(name: str) -> str | None:
    """`name` (of `FALLBACK_FONTS`) as Pillow is to open it: the bare name when Pillow
    finds it in the system's font folders; else, on Linux with XDG_DATA_DIRS set, its
    path under `STANDARD_DATA_DIRS`; else None. Pillow looks only where XDG_DATA_DIRS
    says once it is set, and a snap's, flatpak's or Nix shell's list can leave out
    /usr/share: the fonts installed there were not found, é and CJK were drawn as boxes,
    and doctor said to install a font that was installed."""
    from PIL import ImageFont

    def opens(face: str) -> bool:
        try:
            ImageFont.truetype(face, 24)
        except OSError:
            return False
        return True

    if opens(name):
        return name
    if not sys.platform.startswith("linux") or not os.environ.get("XDG_DATA_DIRS"):
        return None
    for data_dir in STANDARD_DATA_DIRS:
        for folder, _, files in os.walk(os.path.join(data_dir, "fonts")):
            if name in files and opens(path := os.path.join(folder, name)):
                return path
    return None


#: Font files named for a script, by the first word of its letters' Unicode names
#: ("DEVANAGARI LETTER KA"): looked for (case aside) among the system's font files
#: (`font_files`) for letters no font of `FALLBACK_FONTS` has, before the other files
#: there. Debian's and Ubuntu's fonts-noto-core (one file per script, none with Latin
#: letters), fonts-noto-cjk, Lohit, Windows' and macOS' own; a font not named here is
#: still found by `font_having`'s scan.
SCRIPT_FONTS: dict[str, tuple[str, ...]] = {
    "DEVANAGARI": (
        "NotoSansDevanagari-Regular.ttf", "NotoSansDevanagariUI-Regular.ttf",
        "NotoSerifDevanagari-Regular.ttf", "Lohit-Devanagari.ttf", "Nirmala.ttc",
        "Nirmala.ttf", "Mangal.ttf", "Kokila.ttf", "Kohinoor.ttc",
        "Devanagari Sangam MN.ttc", "ITFDevanagari.ttc",
    ),
    "BENGALI": (
        "NotoSansBengali-Regular.ttf", "NotoSansBengaliUI-Regular.ttf",
        "NotoSerifBengali-Regular.ttf", "Lohit-Bengali.ttf", "Nirmala.ttc", "Nirmala.ttf",
        "Vrinda.ttf", "KohinoorBangla.ttc", "Bangla Sangam MN.ttc",
    ),
    "GURMUKHI": (
        "NotoSansGurmukhi-Regular.ttf", "Lohit-Gurmukhi.ttf", "Nirmala.ttc", "Nirmala.ttf",
        "Raavi.ttf", "Gurmukhi Sangam MN.ttc",
    ),
    "GUJARATI": (
        "NotoSansGujarati-Regular.ttf", "Lohit-Gujarati.ttf", "Nirmala.ttc", "Nirmala.ttf",
        "Shruti.ttf", "KohinoorGujarati.ttc", "Gujarati Sangam MN.ttc",
    ),
    "ORIYA": (
        "NotoSansOriya-Regular.ttf", "Lohit-Odia.ttf", "Nirmala.ttc", "Nirmala.ttf",
        "Kalinga.ttf", "Oriya Sangam MN.ttc",
    ),
    "TAMIL": (
        "NotoSansTamil-Regular.ttf", "NotoSansTamilUI-Regular.ttf",
        "NotoSerifTamil-Regular.ttf", "Lohit-Tamil.ttf", "Nirmala.ttc", "Nirmala.ttf",
        "Latha.ttf", "Tamil Sangam MN.ttc",
    ),
    "TELUGU": (
        "NotoSansTelugu-Regular.ttf", "Lohit-Telugu.ttf", "Nirmala.ttc", "Nirmala.ttf",
        "Gautami.ttf", "KohinoorTelugu.ttc", "Telugu Sangam MN.ttc",
    ),
    "KANNADA": (
        "NotoSansKannada-Regular.ttf", "Lohit-Kannada.ttf", "Nirmala.ttc", "Nirmala.ttf",
        "Tunga.ttf", "Kannada Sangam MN.ttc",
    ),
    "MALAYALAM": (
        "NotoSansMalayalam-Regular.ttf", "Lohit-Malayalam.ttf", "Nirmala.ttc",
        "Nirmala.ttf", "Kartika.ttf", "Malayalam Sangam MN.ttc",
    ),
    "SINHALA": (
        "NotoSansSinhala-Regular.ttf", "Nirmala.ttc", "Nirmala.ttf", "Iskpota.ttf",
        "Sinhala Sangam MN.ttc",
    ),
    "THAI": (
        "NotoSansThai-Regular.ttf", "NotoSansThaiUI-Regular.ttf", "NotoSerifThai-Regular.ttf",
        "Tahoma.ttf", "LeelawUI.ttf", "Leelawad.ttf", "Thonburi.ttc", "Garuda.ttf",
        "Loma.ttf", "Waree.ttf",
    ),
    "LAO": (
        "NotoSansLao-Regular.ttf", "NotoSansLaoUI-Regular.ttf", "LeelawUI.ttf",
        "Lao Sangam MN.ttf", "Phetsarath_OT.ttf",
    ),
    "KHMER": (
        "NotoSansKhmer-Regular.ttf", "NotoSansKhmerUI-Regular.ttf", "KhmerUI.ttf",
        "LeelawUI.ttf", "Khmer Sangam MN.ttf", "KhmerOS.ttf",
    ),
    "MYANMAR": (
        "NotoSansMyanmar-Regular.ttf", "NotoSansMyanmarUI-Regular.ttf", "Mmrtext.ttf",
        "Myanmar Sangam MN.ttc", "Padauk-Regular.ttf", "Padauk.ttf",
    ),
    "TIBETAN": ("NotoSerifTibetan-Regular.ttf", "Himalaya.ttf", "Kailasa.ttc"),
    "ETHIOPIC": (
        "NotoSansEthiopic-Regular.ttf", "NotoSerifEthiopic-Regular.ttf", "Ebrima.ttf",
        "Kefa.ttc", "AbyssinicaSIL-Regular.ttf",
    ),
    "ARMENIAN": ("NotoSansArmenian-Regular.ttf", "Sylfaen.ttf", "Mshtakan.ttc"),
    "GEORGIAN": ("NotoSansGeorgian-Regular.ttf", "Sylfaen.ttf"),
    "HEBREW": ("NotoSansHebrew-Regular.ttf", "SegoeUI.ttf", "Tahoma.ttf", "ArialHB.ttc"),
    "ARABIC": (
        "NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf",
        "NotoSansArabicUI-Regular.ttf", "SegoeUI.ttf", "Tahoma.ttf", "GeezaPro.ttc",
    ),
    "CJK": (
        "NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansCJKjp-Regular.otf",
        "NotoSansCJKtc-Regular.otf", "NotoSansCJKkr-Regular.otf", "NotoSerifCJK-Regular.ttc",
        "wqy-microhei.ttc", "wqy-zenhei.ttc", "DroidSansFallbackFull.ttf",
        "Hiragino Sans GB.ttc", "ヒラギノ角ゴシック W3.ttc", "AppleSDGothicNeo.ttc",
        "PingFang.ttc", "STHeiti Light.ttc", "msyh.ttc", "YuGothR.ttc", "msgothic.ttc",
        "malgun.ttf", "simsun.ttc",
    ),
}  # fmt: skip
#: letters whose Unicode names start otherwise, written with `SCRIPT_FONTS`' CJK fonts
_SCRIPT_ALIASES = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "BOPOMOFO": "CJK"}
#: the files a font folder holds that are fonts
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
#: font files `font_files` lists, and `font_having` opens, at most: a machine with
#: thousands of fonts (a designer's) is not read whole for one line of text
MAX_FONT_FILES = 5000
MAX_FONTS_OPENED = 400
#: font files never taken for a script: macOS' LastResort draws every character it is
#: asked for as a box naming its block, which the glyph check takes for a letter
_NEVER = ("lastresort",)
#: words in a file name that mark a weight or slant: the regular face is tried first
_STYLE_WORDS = re.compile(
    r"bold|italic|oblique|light|thin|black|heavy|medium|semibold|condensed|extra|narrow",
    re.IGNORECASE,
)


def font_folders() -> tuple[str, ...]:
    """The folders this system keeps font files in, as Pillow looks a bare name up in them
    (Linux: XDG_DATA_HOME's and XDG_DATA_DIRS' `fonts`, and `STANDARD_DATA_DIRS`' as
    `located` adds; macOS' three; Windows' and the user's), plus ~/.fonts (fontconfig's)."""
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        windir = os.environ.get("WINDIR", "C:\\Windows")
        local = os.environ.get("LOCALAPPDATA", "")
        folders = [os.path.join(windir, "Fonts")]
        if local:
            folders.append(os.path.join(local, "Microsoft", "Windows", "Fonts"))
    elif sys.platform == "darwin":
        folders = ["/System/Library/Fonts", "/Library/Fonts"]
        folders.append(os.path.join(home, "Library", "Fonts"))
    else:
        data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
        data_dirs = [d for d in os.environ.get("XDG_DATA_DIRS", "").split(os.pathsep) if d]
        dirs = [data_home, *data_dirs, *STANDARD_DATA_DIRS]
        folders = [os.path.join(d, "fonts") for d in dirs] + [os.path.join(home, ".fonts")]
    # (no home folder: "~" stays as written, a folder under the working one; and a
    # relative XDG entry is to be ignored, by the spec)
    return tuple(f for f in dict.fromkeys(folders) if os.path.isabs(f))


@functools.cache
def font_files() -> tuple[str, ...]:
    """Every font file in `font_folders` (at most `MAX_FONT_FILES`, each once however many
    links lead to it), in a fixed order (folder by folder, names sorted), read once per
    process: only for letters no font of `FALLBACK_FONTS` has (`font_having`), and by
    doctor."""
    out: list[str] = []
    seen: set[str] = set()
    for top in font_folders():
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if not name.lower().endswith(FONT_SUFFIXES):
                    continue
                path = os.path.join(folder, name)
                real = os.path.realpath(path)
                if real in seen or not os.path.isfile(real):
                    # (a FIFO named *.ttf: opened, the render waited on it for ever,
                    # after a paid plan; a dangling link or a folder: nothing to read)
                    continue
                seen.add(real)
                out.append(path)
                if len(out) >= MAX_FONT_FILES:
                    return tuple(out)
    return tuple(out)


def script_of(ch: str) -> str:
    """The script `ch` is written in, as `SCRIPT_FONTS` names it: the first word of its
    Unicode name ("DEVANAGARI LETTER KA"), "" for a character without one."""
    word = unicodedata.name(ch, "").split(" ")[0]
    return _SCRIPT_ALIASES.get(word, word)


def script_fonts() -> dict[str, list[str]]:
    """The files of `font_files` that `SCRIPT_FONTS` names, per script (those found)."""
    by_name: dict[str, str] = {}
    for path in font_files():
        by_name.setdefault(os.path.basename(path).casefold(), path)
    out: dict[str, list[str]] = {}
    for script, names in SCRIPT_FONTS.items():
        found = [by_name[n.casefold()] for n in names if n.casefold() in by_name]
        if found:
            out[script] = found
    return out


def _candidates(letters: str) -> list[str]:
    """The font files to try, in order, for `letters` (none of `FALLBACK_FONTS` has):
    those `SCRIPT_FONTS` names for their scripts, then the files with a script's name in
    theirs ("NotoSerifDevanagari-Regular.ttf"), then the rest; regular faces before bold
    or italic ones; at most `MAX_FONTS_OPENED`."""
    return list(_ordered(tuple(dict.fromkeys(s for ch in letters if (s := script_of(ch))))))


@functools.lru_cache(maxsize=64)
def _ordered(scripts: tuple[str, ...]) -> tuple[str, ...]:
    """`_candidates` for letters of `scripts`: kept per process, as `font_files` is (a
    sort of every font file per text, 3 ms with 300 files, was most of a search that
    opens none)."""
    named = script_fonts()
    first = [path for s in scripts for path in named.get(s, [])]
    hints = [s.casefold() for s in scripts]

    def rank(path: str) -> tuple[int, int, str]:
        name = os.path.basename(path)
        hinted = any(h in name.casefold() for h in hints)
        return (0 if hinted else 1, 1 if _STYLE_WORDS.search(name) else 0, name.casefold())

    rest = sorted(font_files(), key=rank)
    order = [
        p for p in dict.fromkeys([*first, *rest])
        if not any(n in os.path.basename(p).casefold() for n in _NEVER)
    ]  # fmt: skip
    return tuple(order[:MAX_FONTS_OPENED])


def _is_letter(ch: str) -> bool:
    """A letter, mark or digit: what a script is written with (not an emoji or symbol,
    which no font may have, and which the cards leave out)."""
    return unicodedata.category(ch)[0] in "LMN"


#: per font file of `_candidates`: whether it has a character (its "missing" glyph's mask
#: kept to tell), for the process: a second text of the script costs no file again
_GLYPHS: dict[tuple[str, str], bool] = {}
_BOXES: dict[str, bytes | None] = {}
_GLYPHS_KEPT = 200_000
#: a font file is taken to lack a group of letters (`_script_key`) once it lacked this
#: many different ones of it tried, and the group's first letters (`_probe`)
LACKS_SCRIPT_AFTER = 6
#: per (font file, `_script_key`): the letters of the group tried that the file lacks,
#: or None once it has one; for the process, as `_GLYPHS` (not cleared with it: at most
#: a block's letters a file, and `LACKS_SCRIPT_AFTER` of `_WIDE_SCRIPTS`')
_SCRIPT_LACKED: dict[tuple[str, tuple[str, int]], set[str] | None] = {}
#: a letter of a group a file is taken to lack (`_ruled_out`) is passed over only within
#: this many code points of a letter of it the file was seen to lack: a 256-character
#: block holds letter sets fonts have apart (U+1E00-1EFF: Sanskrit's ḍ ṃ ṛ ṣ and
#: Vietnamese's ạ ả ấ; U+0200-02FF: Romanian's ș ț and phonetic ə ɪ ʃ), and a font
#: with Vietnamese alone, lacking six Sanskrit letters, was passed over for ạ. (16 opened
#: each file twice for distinct Ethiopic texts, 800 opens of 400 files where 32 and
#: the whole block opened 400; ạ is 52 from ṭ, ș 55 from ɐ)
NEAR_LACKED = 32
#: scripts whose letters spread over many 256-character blocks (CJK's 20,000 ideographs,
#: Hangul's 11,000 syllables): grouped by Unicode plane instead
_WIDE_SCRIPTS = frozenset({"CJK", "HANGUL", "YI", "TANGUT", "NUSHU", "KHITAN"})
#: the group's letters `_probe` tries where its first ones are not its common ones (CJK's
#: first in plane 0 are the rare Extension A's): the most common ideographs, syllables
_PROBES = {("CJK", 0): "\u4e00\u4eba\u7684", ("HANGUL", 0): "\uac00\ub098\ub2e4"}


@functools.lru_cache(maxsize=4096)
def _script_key(ch: str) -> tuple[str, int] | None:
    """The group of letters `_has` judges a file by for `ch`: the first word of its
    Unicode name as written ("CJK", "HIRAGANA", "HANGUL": not `script_of`'s alias, as a
    Korean font has Hangul but may have no Chinese letter) and its 256-character block
    (its Unicode plane for `_WIDE_SCRIPTS`), so letters added to a script later in a
    block of their own (Georgian's Mtavruli capitals, Arabic Extended-A) are judged
    apart from its first ones; None for a character that is not a letter (an emoji,
    punctuation: `_GLYPHS` keeps those)."""
    if not _is_letter(ch):
        return None
    word = unicodedata.name(ch, "").split(" ")[0]
    return word, ord(ch) >> (16 if word in _WIDE_SCRIPTS else 8)


@functools.lru_cache(maxsize=1024)
def _probe(key: tuple[str, int]) -> str:
    """The letters of the group `key` (`_script_key`) a file is tried on before it is
    taken to lack the group: `_PROBES`' common ones, else its first three in Unicode's
    order (a block's first letters are the script's core; rare and newer ones come
    after), none for the rest of `_WIDE_SCRIPTS`."""
    if key in _PROBES:
        return _PROBES[key]
    word, block = key
    if word in _WIDE_SCRIPTS:
        return ""
    out = []
    for ch in map(chr, range(block << 8, (block + 1) << 8)):
        if _is_letter(ch) and _script_key(ch) == key:
            out.append(ch)
            if len(out) == 3:
                break
    return "".join(out)


def _ruled_out(path: str, ch: str, key: tuple[str, int]) -> bool:
    """Whether the font file `path` is taken to lack the letter `ch` of the group `key`
    (`_script_key`), so `font_having` does not open it for `ch` (`_has`): it lacked the
    first `LACKS_SCRIPT_AFTER` different letters of the group tried in it, and the
    group's `_probe` letters, and had none of them; and (but for `_WIDE_SCRIPTS`, whose
    letters are one set) one of the letters it lacked is within `NEAR_LACKED` of `ch`,
    as a block holds letter sets a font may have one of (Vietnamese's, not Sanskrit's;
    Romanian's, not the phonetic alphabet's). A file that had ANY letter of the group
    is never ruled out for it: a Japanese font missing a rare kanji, or whose first
    kanji tried were all rare, still has kanji (its `_probe`'s "一", "人", "的") and is
    opened for the next text's. What this can miss: a font with a few odd letters of a
    script near others it lacks and not its first ones (a Latin font with a Greek pi),
    which a text in that script is hardly drawn with. Without it each distinct CJK text
    opened up to `MAX_FONTS_OPENED` files again to find none has CJK: 0.19 s a text with
    400 font files and no CJK font, tens of seconds at plan and again at render for a
    movie of many Chinese affirmations."""
    lacked = _SCRIPT_LACKED.get((path, key))
    if lacked is None or len(lacked) < LACKS_SCRIPT_AFTER:
        return False
    if key[0] in _WIDE_SCRIPTS:
        return True
    at = ord(ch)
    return any(abs(ord(c) - at) <= NEAR_LACKED for c in list(lacked))


def _draws(face: Any, box: bytes | None, ch: str) -> bool:
    """Whether `face` (opened; None: a file Pillow cannot open) draws `ch` as a glyph,
    not as its "missing" one (`box`, its mask), as `compose.cards` tells."""
    return face is not None and box is not None and bytes(face.getmask(ch)) != box


def _has(path: str, ch: str, opened: list[Any]) -> bool:
    """Whether the font file `path` draws `ch` (`_draws`); `opened` holds the file's
    font once opened for this text. A letter of a group the file is taken to lack
    (`_ruled_out`) opens nothing."""
    if (known := _GLYPHS.get((path, ch))) is not None:  # (.get: another thread may clear)
        return known
    key = _script_key(ch)
    if key is not None and _ruled_out(path, ch, key):
        return False
    if not opened:
        from PIL import ImageFont

        try:
            # the basic layout: raqm draws a lone mark on a dotted circle, had or not
            # (`compose.cards._glyph_font`)
            face = ImageFont.truetype(path, 24, layout_engine=ImageFont.Layout.BASIC)
            if path not in _BOXES:
                _BOXES[path] = bytes(face.getmask("\U0010fffd"))  # a private-use one
        except (OSError, ValueError):  # not a font Pillow opens at this size (emoji)
            _BOXES[path] = None
            face = None
        opened.append(face)
    face, box = opened[0], _BOXES.get(path)
    has = _draws(face, box, ch)
    if len(_GLYPHS) >= _GLYPHS_KEPT:  # (a long text in a script no font has, file by file)
        _GLYPHS.clear()
    _GLYPHS[path, ch] = has
    if key is not None and (lacked := _SCRIPT_LACKED.setdefault((path, key), set())) is not None:
        if has:
            _SCRIPT_LACKED[path, key] = None
        elif ch not in lacked:  # (kept past LACKS_SCRIPT_AFTER: `_ruled_out`'s nearness)
            lacked.add(ch)
            if len(lacked) == LACKS_SCRIPT_AFTER and any(
                _draws(face, box, p) for p in _probe(key)
            ):  # its first letters tried were rare ones
                _SCRIPT_LACKED[path, key] = None
    return has


@functools.lru_cache(maxsize=256)
def font_having(needed: str, missing: str) -> str | None:
    """The system font file that draws the most of `needed` (the characters a text
    draws), among the files in the system's font folders (`_candidates`): one lacking
    fewer than `missing` (those the best font of `FALLBACK_FONTS` lacks), else None. The
    first that lacks none is taken. Looked for only when `missing` has letters (not for
    emoji alone): a Hindi, Thai or Tamil affirmation on a machine with a font for it
    (fonts-noto-core's per-script files, Nirmala, Kohinoor) was drawn as boxes, as no
    name in `FALLBACK_FONTS` has those letters. A file known to lack every character of
    `missing` (its letters `_ruled_out`, the rest by `_GLYPHS`) is passed over
    unopened: it cannot lack fewer."""
    letters = "".join(ch for ch in missing if _is_letter(ch))
    if not letters:
        return None
    order = missing + "".join(ch for ch in needed if ch not in missing)
    keyed = [(ch, key) for ch in letters if (key := _script_key(ch)) is not None]
    others = [ch for ch in missing if _script_key(ch) is None]
    best, fewest = None, len(missing)
    for path in _candidates(letters):
        if _BOXES.get(path, b"") is None:  # known not to open
            continue
        if all(_ruled_out(path, ch, key) for ch, key in keyed) and not any(
            _GLYPHS.get((path, ch), True) for ch in others
        ):  # known to lack all of `missing`: never better (a whole search, file by file)
            continue
        opened: list[Any] = []
        lacking = 0
        for ch in order:
            if not _has(path, ch, opened):
                lacking += 1
                if lacking >= fewest:
                    break
        if lacking < fewest:
            best, fewest = path, lacking
            if not fewest:
                break
    return best


def forget_found() -> None:
    """Forget the system's font files and what they have (tests that make them up)."""
    font_files.cache_clear()
    font_having.cache_clear()
    _ordered.cache_clear()
    _GLYPHS.clear()
    _BOXES.clear()
    _SCRIPT_LACKED.clear()


def freetype_problem() -> str | None:
    """Why Pillow cannot draw the movie's text, None when it can. Every card and overlay
    is drawn with Pillow's built-in scalable font (`compose.cards.font`), which needs
    Pillow built with FreeType: without it (a Pillow built from source without
    libfreetype) the render ended in an ImportError traceback at its first text, after
    the plan (paid for with a paid preset). The render refuses to start on it and
    doctor's fonts row fails."""
    from PIL import ImageFont, features

    try:
        font = ImageFont.load_default(size=32)
    except (ImportError, OSError, ValueError) as e:
        return (
            f"Pillow cannot load its scalable font, which draws the movie's text ({e}); "
            "reinstall Pillow from PyPI's wheels (pip install --force-reinstall pillow), "
            "which are built with FreeType"
        )
    if not (isinstance(font, ImageFont.FreeTypeFont) and features.check("freetype2")):
        return (
            "Pillow is built without FreeType: the movie's text cannot be drawn at its "
            "size; reinstall Pillow from PyPI's wheels (pip install --force-reinstall "
            "pillow), which are built with it"
        )
    return None


def paragraph_direction(text: str) -> str | None:
    """ "rtl" or "ltr": the direction of `text`'s first letter that has one (Unicode's
    bidi rule P2: Hebrew and Arabic are right-to-left, Latin left-to-right; digits and
    punctuation have none), None when none has."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


#: where a text's line ends as written (Unicode's mandatory breaks): a newline, CR LF, a
#: lone CR, NEL (U+0085), PARAGRAPH SEPARATOR (U+2029) and LINE SEPARATOR (U+2028), as text
#: pasted from a word processor holds them; all but U+2028 end the paragraph too
LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
PARAGRAPH_BREAK = re.compile("\r\n|[\n\r\x85\u2029]")
LINE_SEPARATOR = "\u2028"


def text_lines(text: str) -> list[tuple[str, str | None]]:
    """`text`'s lines as written (`LINE_BREAK`), each with its paragraph's direction
    (`paragraph_direction`): a line after U+2028 is still in its paragraph. The wrap cut
    only at "\n": U+2028 and U+2029 were drawn as spaces, the lines run together, and a
    lone CR was dropped, the words either side of it joined."""
    out: list[tuple[str, str | None]] = []
    for para in PARAGRAPH_BREAK.split(text):
        direction = paragraph_direction(para)
        out.extend((line, direction) for line in para.split(LINE_SEPARATOR))
    return out


def laid_out(font: object, line: str, direction: str | None) -> tuple[str, dict[str, Any]]:
    """`line` (of a paragraph in `direction`) and the arguments Pillow is to draw it with
    in `font`: given its direction where libraqm lays the font out (`direction_args`),
    else put in display order here (`visual_line`) for Pillow's basic layout."""
    from PIL import ImageFont

    if getattr(font, "layout_engine", None) != ImageFont.Layout.BASIC:  # libraqm; a bitmap
        # (with no direction, too: libraqm gives the line its own; put in display order
        # here, it was reversed again by libraqm, a Hebrew title drawn backwards)
        return line, direction_args(font, direction)
    return visual_line(line, direction, lambda ch: _has_form(font, ch)), {}


@functools.lru_cache(maxsize=4096)
def _has_form(font: Any, ch: str) -> bool:
    """Whether `font` has a glyph for `ch` (an Arabic presentation form): a font with
    the letters but not their forms draws the letters unjoined, not as boxes."""
    return bytes(font.getmask(ch)) != bytes(font.getmask("\U0010fffd"))


def direction_args(font: object, direction: str | None) -> dict[str, Any]:
    """Pillow's `direction=` for a line drawn or measured with `font`, given its
    paragraph's direction (`paragraph_direction`). Pillow (libraqm) gives each line it
    is handed the direction of that line's own first letter: a Hebrew affirmation's
    wrapped line that began with a Latin word ("Nike Air כל בוקר") was laid out
    left-to-right, its words in the wrong order for a reader of the paragraph. Empty for
    a font Pillow lays out without libraqm (its built-in font; any font where FriBiDi
    is missing), which takes no direction."""
    from PIL import ImageFont

    if direction is None or getattr(font, "layout_engine", None) != ImageFont.Layout.RAQM:
        return {}
    return {"direction": direction}


#: the spaces a line must not break at: no-break, figure and narrow no-break space (French
#: writes one before ! ? : ; and inside « »; "10 km" is kept together with one)
NO_BREAK_SPACES = "\u00a0\u2007\u202f"
_BREAK_AT = re.compile(f"[^\\S{NO_BREAK_SPACES}]+")
_AS_SPACE = str.maketrans(dict.fromkeys(NO_BREAK_SPACES, " "))


def words(text: str) -> list[str]:
    """`text` cut into the words a line may break between: at white space, as
    `str.split` cuts, but not at a no-break space (`NO_BREAK_SPACES`), which stays inside
    its word as a plain space. `str.split` broke there: "libre !" wrapped with the "!"
    alone at the start of the next line. A plain space: Pillow's built-in font has no
    glyph for the others, and drew them as boxes."""
    out = (w.translate(_AS_SPACE).strip() for w in _BREAK_AT.split(text))
    return [w for w in out if w]


#: lam followed by an alef (madda, hamza above, hamza below, plain): always one glyph
_LAM_ALEFS = ("\u0644\u0622", "\u0644\u0623", "\u0644\u0625", "\u0644\u0627")


def _arabic_forms() -> dict[str, dict[str, str]]:
    """Each Arabic letter's presentation forms ({"isolated"|"final"|"initial"|"medial":
    form}), and the lam-alef ligatures under their two letters: read off Unicode's
    compatibility decompositions of the Presentation Forms blocks."""
    forms: dict[str, dict[str, str]] = {}
    for cp in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00)):
        tag, *codes = unicodedata.decomposition(chr(cp)).split() or [""]
        base = "".join(chr(int(c, 16)) for c in codes)
        if tag in ("<isolated>", "<final>", "<initial>", "<medial>") and (
            len(base) == 1 or base in _LAM_ALEFS  # letters; the required ligatures
        ):
            forms.setdefault(base, {})[tag.strip("<>")] = chr(cp)
    return forms


_FORMS = _arabic_forms()


def _joins(ch: str, side: str) -> bool:
    """Whether `ch` joins the letter on its `side` ("next": dual-joining letters and the
    tatweel; "prev": those and the right-joining ones, alef, dal, reh, waw...)."""
    if ch in ("\u0640", "\u200d"):  # tatweel, ZWJ: join both ways
        return True
    forms = _FORMS.get(ch, {})
    return "initial" in forms if side == "next" else "final" in forms


def _transparent(ch: str) -> bool:
    """A mark Arabic joining looks through (harakat, other combining marks)."""
    return unicodedata.category(ch) in ("Mn", "Me") or (
        unicodedata.category(ch) == "Cf" and ch not in ("\u200c", "\u200d")
    )


def _shaped(line: str, has: Callable[[str], bool] = lambda ch: True) -> str:
    """`line` with its Arabic letters as the presentation form their neighbours call for
    (initial, medial, final, isolated; lam-alef as its ligature): what libraqm's shaping
    does, for Pillow's basic layout, which draws each letter's isolated form. A form
    the font lacks (`has`) is left as the letter."""
    chars = list(line)
    out: list[str] = []
    i = 0

    def neighbour(j: int, step: int) -> str:
        while 0 <= j < len(chars) and _transparent(chars[j]):
            j += step
        return chars[j] if 0 <= j < len(chars) else ""

    while i < len(chars):
        ch = chars[i]
        if ch not in _FORMS:
            out.append(ch)
            i += 1
            continue
        prev = neighbour(i - 1, -1)
        nxt_at = i + 1
        while nxt_at < len(chars) and _transparent(chars[nxt_at]):
            nxt_at += 1
        nxt = chars[nxt_at] if nxt_at < len(chars) else ""
        to_prev = _joins(ch, "prev") and _joins(prev, "next")
        lig = _FORMS.get(ch + nxt, {}) if ch == "\u0644" else {}
        if (glyph := lig.get("final" if to_prev else "isolated", "")) and has(glyph):  # lam-alef
            out.append(glyph)
            out.extend(chars[i + 1 : nxt_at])  # its marks
            i = nxt_at + 1
            continue
        to_next = _joins(ch, "next") and _joins(nxt, "prev")
        form = {
            (True, True): "medial",
            (True, False): "final",
            (False, True): "initial",
        }.get((to_prev, to_next), "isolated")
        forms = _FORMS[ch]
        glyph = forms.get(form) or forms.get("isolated", ch)
        out.append(glyph if has(glyph) else ch)
        i += 1
    return "".join(out)


#: brackets and the like a right-to-left run draws mirrored (Unicode's BidiMirroring)
_MIRROR = dict(zip("()[]{}<>«»‹›", ")(][}{><»«›‹", strict=True))


def _bracket_pairs(chars: str) -> list[tuple[int, int]]:
    """The positions of each matched pair of brackets in `chars` (BD16), in order of
    their opening bracket."""
    stack: list[tuple[str, int]] = []
    pairs = []
    for i, ch in enumerate(chars):
        if ch in "([{":
            stack.append((")]}"["([{".index(ch)], i))
        elif ch in ")]}":
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == ch:
                    pairs.append((stack[depth][1], i))
                    del stack[depth:]
                    break
    return sorted(pairs)


def _levels(chars: str, base: int) -> list[int]:
    """Each character's embedding level by Unicode's bidi algorithm (UAX #9) for a line
    without explicit embeddings: weak types resolved (W1-W7), bracket pairs (N0) and
    other neutrals (N1-N2), then levels (I1-I2)."""
    types = [unicodedata.bidirectional(c) or "ON" for c in chars]
    sos = "R" if base else "L"
    t = ["ON" if k in ("LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI") else k
         for k in types]  # fmt: skip
    for i, k in enumerate(t):  # W1: a mark takes its base's type
        if k == "NSM":
            t[i] = t[i - 1] if i else sos
    strong = sos
    for i, k in enumerate(t):  # W2, W3
        if k in ("L", "R", "AL"):
            strong = k
        if k == "EN" and strong == "AL":
            t[i] = "AN"
    t = ["R" if k == "AL" else k for k in t]
    for i in range(1, len(t) - 1):  # W4
        if t[i] == "ES" and t[i - 1] == t[i + 1] == "EN":
            t[i] = "EN"
        elif t[i] == "CS" and t[i - 1] == t[i + 1] and t[i - 1] in ("EN", "AN"):
            t[i] = t[i - 1]
    for i, k in enumerate(t):  # W5: terminators next to a European number
        if k == "ET":
            j = i
            while j < len(t) and t[j] == "ET":
                j += 1
            if (i and t[i - 1] == "EN") or (j < len(t) and t[j] == "EN"):
                for m in range(i, j):
                    t[m] = "EN"
    t = ["ON" if k in ("ES", "ET", "CS") else k for k in t]  # W6
    strong = sos
    for i, k in enumerate(t):  # W7
        if k in ("L", "R"):
            strong = k
        elif k == "EN" and strong == "L":
            t[i] = "L"
    dirs = ["R" if k in ("R", "EN", "AN") else k for k in t]
    emb = "R" if base else "L"
    for open_at, close_at in _bracket_pairs(chars):  # N0: a bracket pair as one
        inside = {dirs[m] for m in range(open_at + 1, close_at)} & {"L", "R"}
        if not inside:
            continue
        side = emb
        if emb not in inside:  # only the other direction inside: as the text before
            before = next((dirs[m] for m in range(open_at - 1, -1, -1) if dirs[m] in "LR"), sos)
            side = before if before != emb else emb
        t[open_at] = t[close_at] = dirs[open_at] = dirs[close_at] = side
    i = 0
    while i < len(t):  # N1, N2: a run of neutrals between two alike takes their direction
        if dirs[i] in ("L", "R"):
            i += 1
            continue
        j = i
        while j < len(t) and dirs[j] not in ("L", "R"):
            j += 1
        before = dirs[i - 1] if i else sos
        after = dirs[j] if j < len(t) else sos
        for m in range(i, j):
            t[m] = before if before == after else sos
        i = j
    levels = []
    for k in t:  # I1, I2
        if base == 0:
            levels.append({"R": 1, "AN": 2, "EN": 2}.get(k, 0))
        else:
            levels.append({"L": 2, "AN": 2, "EN": 2}.get(k, 1))
    return levels


def visual_line(
    line: str, direction: str | None, has: Callable[[str], bool] = lambda ch: True
) -> str:
    """`line` (of a paragraph in `direction`) as Pillow's basic layout is to draw it,
    left to right: Arabic letters in their joined forms (`_shaped`; those `has` says the
    font has), and its runs put in
    display order by the bidi algorithm (`_levels`, rule L2; brackets mirrored in
    right-to-left runs, L4). Where Pillow has no libraqm (FriBiDi missing: PyPI's Pillow
    on Windows and macOS by default) it drew Hebrew and Arabic words backwards, each
    letter in its isolated form. Unchanged for a line without right-to-left letters."""
    if not any(unicodedata.bidirectional(c) in ("R", "AL", "AN") for c in line):
        return line
    line = _shaped(line, has)
    base = 1 if (direction or paragraph_direction(line)) == "rtl" else 0
    levels = _levels(line, base)
    # L1: white space at the line's end is at the paragraph's level
    end = len(line)
    while end and line[end - 1].isspace():
        end -= 1
        levels[end] = base
    chars = [_MIRROR.get(c, c) if lv % 2 else c for c, lv in zip(line, levels, strict=True)]
    order = list(range(len(chars)))
    for lv in range(max(levels), 0, -1):  # L2: reverse every run at this level or higher
        i = 0
        while i < len(order):
            if levels[order[i]] >= lv:
                j = i
                while j < len(order) and levels[order[j]] >= lv:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    return "".join(chars[k] for k in order)
