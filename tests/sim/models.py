"""What the simulated models output: pixel sizes, defaults and billing formulas.

Sizes for 16:9, 9:16 and 1:1 are the ones in provider-wire.md §4 (verified from public
pages); the 4:3, 3:4 and 21:9 rows follow the providers' published tables as recalled and
are not verified.
"""

from __future__ import annotations

import re

FPS = 24

# Seedance 1.0 pro / lite / pro-fast: resolution -> ratio -> (W, H)
SEEDANCE_10: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {
        "16:9": (864, 480),
        "9:16": (480, 864),
        "1:1": (640, 640),
        "4:3": (736, 544),
        "3:4": (544, 736),
        "21:9": (960, 416),
    },
    "720p": {
        "16:9": (1248, 704),
        "9:16": (704, 1248),
        "1:1": (960, 960),
        "4:3": (1120, 832),
        "3:4": (832, 1120),
        "21:9": (1504, 640),
    },
    "1080p": {
        "16:9": (1920, 1088),
        "9:16": (1088, 1920),
        "1:1": (1440, 1440),
        "4:3": (1664, 1248),
        "3:4": (1248, 1664),
        "21:9": (2176, 928),
    },
}

# Seedance 1.5 pro
SEEDANCE_15: dict[str, dict[str, tuple[int, int]]] = {
    "480p": {
        "16:9": (864, 496),
        "9:16": (496, 864),
        "1:1": (640, 640),
        "4:3": (752, 560),
        "3:4": (560, 752),
        "21:9": (992, 432),
    },
    "720p": {
        "16:9": (1280, 720),
        "9:16": (720, 1280),
        "1:1": (960, 960),
        "4:3": (1112, 834),
        "3:4": (834, 1112),
        "21:9": (1470, 630),
    },
    "1080p": {
        "16:9": (1920, 1080),
        "9:16": (1080, 1920),
        "1:1": (1440, 1440),
        "4:3": (1664, 1248),
        "3:4": (1248, 1664),
        "21:9": (2206, 946),
    },
}

SEEDANCE_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
SEEDANCE_DURATIONS = range(2, 13)

# Veo: resolution -> ratio -> (W, H)
VEO: dict[str, dict[str, tuple[int, int]]] = {
    "720p": {"16:9": (1280, 720), "9:16": (720, 1280)},
    "1080p": {"16:9": (1920, 1080), "9:16": (1080, 1920)},
    "4k": {"16:9": (3840, 2160), "9:16": (2160, 3840)},
}
VEO_DURATIONS = range(4, 9)

# gemini-*-image generateContent output sizes at 1K, by aspect ratio
GEMINI_IMAGE: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "4:3": (1184, 864),
    "3:4": (864, 1184),
    "3:2": (1248, 832),
    "2:3": (832, 1248),
    "5:4": (1152, 896),
    "4:5": (896, 1152),
    "21:9": (1536, 672),
}
GEMINI_IMAGE_TOKENS = 1290
#: output tokens per 1K image of the models that bill otherwise (Google Cloud's Gemini
#: 3.1 Flash Image page: 1,120 at 1K)
GEMINI_IMAGE_TOKENS_BY_MODEL = {"gemini-3.1-flash-image": 1120}

# Imagen :predict sizes at 1K
IMAGEN: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1408, 768),
    "9:16": (768, 1408),
    "4:3": (1280, 896),
    "3:4": (896, 1280),
}


def is_seedance_15(model: str) -> bool:
    """True for Seedance 1.5 pro ids (their own pixel table, audio by default)."""
    return "1-5" in model or "1.5" in model


def seedance_size(model: str, resolution: str, ratio: str) -> tuple[int, int]:
    """Output W×H of a Seedance model for a resolution and ratio (KeyError if unknown)."""
    table = SEEDANCE_15 if is_seedance_15(model) else SEEDANCE_10
    return table[resolution][ratio]


def seedance_default_resolution(model: str) -> str:
    """1.0 pro defaults to 1080p, the others to 720p."""
    if "1-0-pro" in model and "fast" not in model:
        return "1080p"
    return "720p"


def seedance_tokens(width: int, height: int, fps: int, duration: float) -> int:
    """Billed tokens: W×H×fps×duration/1024 (provider-wire.md §4)."""
    return round(width * height * fps * duration / 1024)


def closest_ratio(width: int, height: int, ratios: tuple[str, ...] = SEEDANCE_RATIOS) -> str:
    """The ratio from `ratios` nearest to width/height (for ratio "adaptive")."""
    want = width / height

    def value(r: str) -> float:
        a, b = r.split(":")
        return int(a) / int(b)

    return min(ratios, key=lambda r: abs(value(r) - want))


def seedream_size(size: str | None) -> tuple[int, int] | None:
    """Seedream `size`: "1K"/"2K"/"4K" or "WxH"; None if unparseable."""
    s = (size or "2K").strip().upper()
    if s in ("1K", "2K", "4K"):
        side = {"1K": 1024, "2K": 2048, "4K": 4096}[s]
        return side, side
    m = re.fullmatch(r"(\d{2,5})X(\d{2,5})", s)
    if not m:
        return None
    return int(m[1]), int(m[2])


def image_tokens(width: int, height: int) -> int:
    """Seedream output tokens per image: W×H/256 (2048² → 16384, as in the wire log)."""
    return width * height // 256


_INLINE = re.compile(r"--(\w+)\s+(\S+)")
_INLINE_NAMES = {
    "rs": "resolution",
    "resolution": "resolution",
    "rt": "ratio",
    "ratio": "ratio",
    "dur": "duration",
    "duration": "duration",
    "fps": "fps",
    "framepersecond": "fps",
    "seed": "seed",
    "cf": "camera_fixed",
    "camerafixed": "camera_fixed",
    "wm": "watermark",
    "watermark": "watermark",
}


def inline_flags(text: str) -> dict[str, str]:
    """Legacy `--ratio 16:9 --dur 5 …` flags in a Seedance prompt, by canonical name."""
    out: dict[str, str] = {}
    for key, value in _INLINE.findall(text):
        name = _INLINE_NAMES.get(key.lower())
        if name:
            out[name] = value
    return out
