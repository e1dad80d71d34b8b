"""What the package promises about itself (lessons.md: undeclared SDK dependencies, keys
in tracebacks)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _requirement_names() -> set[str]:
    deps = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    return {re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower() for d in deps}


def test_byteplus_sdks_undeclared_dependencies_are_declared_here() -> None:
    """byteplus-python-sdk-v2 imports httpx and sniffio without declaring them."""
    names = _requirement_names()
    assert {"byteplus-python-sdk-v2", "httpx", "sniffio"} <= names
    # and every provider SDK and the media stack the finished tool needs
    assert {"anthropic", "google-genai", "moviepy", "imageio-ffmpeg", "pillow"} <= names


def test_tracebacks_never_show_locals() -> None:
    """A key held in a local variable must not be printed by typer's pretty traceback."""
    from mindmovie.cli import app

    assert app.pretty_exceptions_show_locals is False
