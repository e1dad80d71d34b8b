"""What the live view shows for the compose stage, from a real offline pipeline run."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console

from mindmovie import progress
from mindmovie.config import load_settings
from mindmovie.pipeline import Pipeline
from mindmovie.progress import PlainReporter, RichReporter, WarningsReporter, make_reporter
from tests.integration.support import goals_file


def _settings(engine: str) -> object:
    return load_settings(
        overrides={
            "preset": "local",
            "output": {"size": "160x90", "fps": 8},
            "plan": {"scene_seconds": 2},
            "compose": {"crossfade": 0.5, "title_seconds": 1.0, "closing_seconds": 1.0,
                        "quality": "draft", "engine": engine},
        },
        env={},
    )  # fmt: skip


def _compose_row(rep: RichReporter) -> str:
    buf = io.StringIO()
    Console(file=buf, width=120, color_system=None).print(rep._render())
    rows = [ln for ln in buf.getvalue().splitlines() if ln.startswith("movie")]
    assert len(rows) == 1, buf.getvalue()
    return rows[0]


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
async def test_the_compose_row_ends_done_for_each_engine_and_on_reuse(
    tmp_path: Path, engine: str
) -> None:
    goals = goals_file(tmp_path)
    for _ in range(2):  # a render, then one that reuses the movie
        rep = RichReporter(Console(file=io.StringIO(), width=120, color_system=None))
        try:
            await Pipeline(goals, _settings(engine), out=tmp_path / "run", reporter=rep).run()
            row = _compose_row(rep)
        finally:
            rep.close()
        n, total = row.split()[-3].split("/")
        assert "done" in row and n == total and int(total) >= 1, row


def test_reporter_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """--quiet: warnings only; a pipe: finished steps only unless --verbose; a terminal: the live
    view unless --verbose."""
    assert isinstance(make_reporter(quiet=True, verbose=True), WarningsReporter)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    pipe = make_reporter()
    assert isinstance(pipe, PlainReporter) and not pipe.verbose
    loud = make_reporter(verbose=True)
    assert isinstance(loud, PlainReporter) and loud.verbose
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(progress, "RichReporter", lambda: "live view")
    assert make_reporter() == "live view"
    tty_verbose = make_reporter(verbose=True)
    assert isinstance(tty_verbose, PlainReporter) and tty_verbose.verbose
