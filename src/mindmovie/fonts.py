"""The system fonts text is drawn with when Pillow's built-in font lacks a letter.

A module of its own, without numpy or the compositor, so `doctor` can name them fast.
"""

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
