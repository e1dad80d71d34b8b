"""`mindmovie doctor` and `mindmovie providers`: can this machine and config render?

Each check is one row (name, ok, detail). `doctor` exits 0 only when the configured
preset can run, so scripts can gate on it. Keys are reported as set or not, never shown.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import tempfile
from dataclasses import dataclass
from typing import Literal

from mindmovie.config import KEY_VARIABLES, ConfigError, Keys, Settings

#: ffmpeg filters and encoders the compositor and the local motion renderer use
FILTERS = (
    "xfade",
    "overlay",
    "scale",
    "crop",
    "fps",
    "tpad",
    "afade",
    "amix",
    "adelay",
    "loudnorm",
    "atrim",
    "setsar",
    "format",
)
ENCODERS = ("libx264", "aac")
CATALOG_STALE_DAYS = 120


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    #: a failed check that does not stop the configured preset (e.g. an unused key)
    required: bool = True


def _ffmpeg_checks() -> list[Check]:
    from mindmovie.media import FFmpegError, ffmpeg_exe, run_ffmpeg

    try:
        exe = ffmpeg_exe()
        run_ffmpeg(["-version"])
    except (FFmpegError, OSError, RuntimeError) as e:
        return [Check("ffmpeg", False, f"not usable: {e}")]
    import subprocess

    def listing(flag: str) -> str:
        proc = subprocess.run([exe, "-hide_banner", flag], capture_output=True, text=True)
        return proc.stdout

    out = [Check("ffmpeg", True, f"{exe}")]
    filters = set(re.findall(r"^\s*[TSC.|]{2,3}\s+(\w+)", listing("-filters"), re.M))
    missing = [f for f in FILTERS if f not in filters]
    out.append(
        Check(
            "ffmpeg filters",
            not missing,
            "all present: " + ", ".join(FILTERS)
            if not missing
            else "missing: " + ", ".join(missing),
        )
    )
    encoders = set(re.findall(r"^\s*[VAS][.\w]{5}\s+(\w+)", listing("-encoders"), re.M))
    missing_enc = [e for e in ENCODERS if e not in encoders]
    out.append(
        Check(
            "ffmpeg encoders",
            not missing_enc,
            ", ".join(ENCODERS) if not missing_enc else "missing: " + ", ".join(missing_enc),
        )
    )
    return out


def _font_check() -> Check:
    from PIL import ImageFont, features

    try:
        font = ImageFont.load_default(size=32)
        ok = isinstance(font, ImageFont.FreeTypeFont) and bool(features.check("freetype2"))
    except (OSError, ValueError) as e:
        return Check("fonts", False, f"Pillow cannot load its scalable font: {e}")
    return Check(
        "fonts",
        ok,
        "Pillow's built-in scalable font (FreeType)"
        if ok
        else "FreeType missing in Pillow: "
        "overlay text would be tiny; reinstall Pillow from PyPI wheels",
    )


def _writable(settings: Settings) -> Check:
    d = settings.output_dir
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".doctor-"):
            pass
    except OSError as e:
        return Check("output dir", False, f"{d}: not writable ({e.strerror})")
    return Check("output dir", True, f"{d.resolve()} is writable")


def needed_providers(settings: Settings) -> set[str]:
    """Remote providers the configured stages use (those whose keys must be set)."""
    return {settings.stage_provider(s) for s in ("planner", "keyframes", "video")} - {"local"}


def _key_checks(settings: Settings, keys: Keys) -> list[Check]:
    need = needed_providers(settings)
    out = []
    for provider, names in KEY_VARIABLES.items():
        is_set = getattr(keys, provider) is not None
        var = " or ".join(names)
        used = provider in need
        if provider == "google" and used and settings.providers.google.project:
            out.append(Check(f"key {provider}", True, "project mode: uses ADC, no key needed"))
            continue
        detail = f"{var}: {'set' if is_set else 'not set'}"
        detail += f" (needed by preset {settings.preset})" if used else " (not used by this preset)"
        out.append(Check(f"key {provider}", is_set or not used, detail, required=used))
    return out


def _google_mode(settings: Settings, keys: Keys) -> Check:
    try:
        from mindmovie.providers.google import _mode_for, describe_mode
    except ImportError as e:  # google-genai missing from the install
        return Check("google mode", False, f"google-genai not importable: {e}", required=False)
    used = "google" in needed_providers(settings)
    text = describe_mode(settings, keys)
    ok = ":" not in text  # describe_mode appends ": <problem>" when something is missing
    if ok:
        # the mode must also suit each google stage: Veo refuses developer mode
        stages: tuple[Literal["keyframes", "video"], ...] = ("keyframes", "video")
        for stage in stages:
            if settings.stage_provider(stage) != "google":
                continue
            try:
                _mode_for(settings, keys, stage)
            except ConfigError as e:
                return Check("google mode", False, str(e), required=used)
    return Check("google mode", ok or not used, text, required=used)


def _catalog_age(today: dt.date | None = None) -> Check:
    from mindmovie.catalog import catalog_checked_date

    checked = catalog_checked_date()
    age = ((today or dt.date.today()) - checked).days
    stale = age > CATALOG_STALE_DAYS
    return Check(
        "catalog",
        not stale,
        f"prices checked {checked.isoformat()} ({age} days ago)"
        + ("; re-check prices and model ids before paying" if stale else ""),
        required=False,
    )


def run_checks(settings: Settings, keys: Keys | None = None) -> list[Check]:
    keys = keys or Keys.from_env()
    py = sys.version_info
    checks = [
        Check("python", py >= (3, 11), f"{py.major}.{py.minor}.{py.micro} (needs 3.11+)"),
        *_ffmpeg_checks(),
        _font_check(),
        _writable(settings),
        *_key_checks(settings, keys),
        _google_mode(settings, keys),
        _catalog_age(),
    ]
    return checks


def can_run(checks: list[Check]) -> bool:
    return all(c.ok for c in checks if c.required)


def providers_rows(keys: Keys | None = None) -> list[dict[str, str]]:
    """The catalog as rows for `mindmovie providers` (key presence, never values), with
    each price's source and the date it was checked."""
    from mindmovie.catalog import models

    keys = keys or Keys.from_env()
    rows = [
        {
            "provider": "local",
            "stage": "all",
            "model": "local planner / painter / Ken Burns",
            "capabilities": "offline; your photos as keyframes",
            "price": "free",
            "key": "none needed",
            "price_source": "",
            "price_checked": "",
        }
    ]
    for m in models():
        cap = m.capabilities
        bits = []
        if cap.reference_images:
            bits.append(f"refs≤{cap.max_references}")
        if cap.first_frame:
            bits.append("first frame")
        if cap.last_frame:
            bits.append("last frame")
        if cap.audio:
            bits.append("audio")
        if cap.image_required:
            bits.append("edits a photo")
        d = cap.allowed_durations()
        if d:
            bits.append(f"{d[0]}-{d[-1]} s" if len(d) > 3 else "/".join(map(str, d)) + " s")
        if cap.resolutions:
            bits.append("/".join(cap.resolutions))
        p = m.price
        rates = ", ".join(f"{k} {v:g}" for k, v in p.rates.items())
        unit = {
            "tokens_video": "$/1M tokens",
            "per_second": "$/s",
            "per_image": "$/image",
            "per_mtok": "$/1M tokens",
        }[p.formula]
        var = " or ".join(KEY_VARIABLES[m.provider])
        rows.append(
            {
                "provider": m.provider,
                "stage": m.stage,
                "model": m.key + (" (default)" if m.default else ""),
                "capabilities": ", ".join(bits) or "-",
                "price": f"{rates} {unit}" + (" (3rd-party source)" if p.third_party else ""),
                "key": f"{var} {'set' if getattr(keys, m.provider) else 'not set'}",
                "price_source": p.source,
                "price_checked": p.checked.isoformat(),
            }
        )
    return rows


__all__ = ["Check", "can_run", "needed_providers", "providers_rows", "run_checks"]
