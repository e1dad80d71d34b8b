"""The system fonts text is drawn with when Pillow's built-in font lacks a letter.

A module of its own, without numpy or the compositor, so `doctor` can name them fast.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import unicodedata
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
