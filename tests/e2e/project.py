"""The e2e tests' project folder: a copy of examples/ and small, fast settings."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FPS = 12
SMALL = f"""
output: {{size: "320x180", fps: {FPS}}}
plan: {{scene_seconds: 2}}
compose: {{crossfade: 0.5, title_seconds: 1.5, closing_seconds: 1.5, quality: draft}}
"""


def new_project(folder: Path) -> Path:
    """examples/ and small.yaml (SMALL) in `folder`; returns `folder`."""
    shutil.copytree(REPO / "examples", folder / "examples")
    (folder / "small.yaml").write_text(SMALL)
    return folder
