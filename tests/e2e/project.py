"""The e2e tests' project folder: a copy of examples/ and small, fast settings."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

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


def status_json(cwd: Path, *args: str, code: int = 0) -> tuple[dict[str, Any], str]:
    """`mindmovie status ARGS --json` run in `cwd` with the environment the e2e tests give
    their subprocesses (no MINDMOVIE_* variables): (its JSON, its stderr), after checking
    it exited `code` with no exception. It only reads the run, so it runs in this
    process, the CLI's own code through typer's runner: a subprocess for each of the
    ~70 looks these tests take cost ~1 s of start-up. The status table as printed, and a
    status with no numpy imported, are still read from subprocesses."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MINDMOVIE_")}
    env["COLUMNS"] = "200"
    here = Path.cwd()
    os.chdir(cwd)
    try:
        r = CliRunner().invoke(app, ["status", *args, "--json"], env=env)
    finally:
        os.chdir(here)
    assert isinstance(r.exception, SystemExit | None), (r.exception, r.stderr)
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    return dict(json.loads(r.stdout)), r.stderr
