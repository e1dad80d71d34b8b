"""storyboard.html as a browser draws it: headless Chromium screenshots the page, which must
not be blank and must show every scene's keyframe colour (inlined images render, the grid
lays out). Skipped, with the reason, when no Chromium is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mindmovie.plan import Plan, Scene, write_plan
from mindmovie.storyboard import PLACEHOLDER, storyboard_from_run

COLOURS: list[tuple[int, int, int] | None] = [
    (220, 40, 40),
    (40, 200, 60),
    (40, 80, 220),
    None,  # placeholder
    (230, 200, 30),
]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _make_run(run: Path) -> None:
    cats = ["health", "wealth", "career", "relationships", "growth"]
    scenes = [
        Scene(
            id=f"0{i}-{cat}-1",
            goal=i,
            category=cat,
            affirmation=f"I am living my {cat} vision <fully> & gladly",
            image_prompt=f"A cinematic picture of {cat}, golden light",
            motion_prompt="slow push-in",
            seconds=6,
        )
        for i, cat in enumerate(cats, 1)
    ]
    write_plan(Plan(title="Screenshot Test", closing="Thanks", scenes=scenes), run / "plan.yaml")
    for i, (scene, colour) in enumerate(zip(scenes, COLOURS, strict=True), 1):
        folder = run / "scenes" / scene.id
        folder.mkdir(parents=True)
        if colour is not None:
            Image.new("RGB", (640, 360), colour).save(folder / "keyframe.png")
        if i in (1, 3):
            (folder / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")


def test_storyboard_html_screenshot(tmp_path: Path) -> None:
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium binary on PATH (apt-get install chromium to run this test)")
    run = tmp_path / "run"
    _make_run(run)
    _png, html = storyboard_from_run(run, costs={"01-health-1": 0.5})
    shot = tmp_path / "shot.png"
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--hide-scrollbars",
        "--window-size=1280,2000",
        f"--screenshot={shot}",
        html.absolute().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, timeout=180)
    assert shot.is_file(), proc.stderr.decode("utf-8", "replace")[-2000:]

    with Image.open(shot) as im:
        im.verify()  # a whole, valid PNG
    with Image.open(shot) as im:
        assert im.format == "PNG"
        pixels = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert pixels.shape[:2] == (2000, 1280)
    assert float(pixels.var()) > 200.0, "screenshot is blank"

    flat = pixels.reshape(-1, 3)
    for colour in [c for c in COLOURS if c is not None] + [PLACEHOLDER]:
        near = np.abs(flat - np.array(colour, dtype=np.int16)).max(axis=1) <= 10
        # a thumbnail is about 390 x 220 px at this window size: demand a good part of one
        assert int(near.sum()) > 20_000, f"keyframe colour {colour} not in the screenshot"
