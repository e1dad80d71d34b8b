"""The `status` table on a narrow terminal: every scene id whole, and what happens next."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from mindmovie import cli

#: a category of 60+ letters (the slug's limit): the id is longer than a narrow terminal
LONG = "01-" + "a" * 60


def _info(ids: list[str]) -> dict[str, Any]:
    scenes = [
        {
            "scene_id": s,
            "keyframe": "succeeded",
            "clip": "pending",
            "attempts": 1,
            "next": "make the clip",
        }
        for s in ids
    ]
    return {
        "scenes": scenes,
        "ledger": [],
        "money": {"billed": 0.0, "in_flight": 0.0, "estimated": 0.0},
        "rendering": None,
        "movie": None,
        "plan_error": None,
        "inputs": {"checked": False, "why": "test"},
        "planner_spend": None,
    }


@pytest.mark.parametrize("columns", [60, 80])
def test_long_scene_ids_are_whole_and_the_next_render_column_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    ids = [f"{LONG}-{n}" for n in (1, 2, 3)] + ["02-movie-1"]
    monkeypatch.setattr("mindmovie.status.collect_status", lambda *a, **k: _info(ids))
    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buf, width=columns, highlight=False))
    r = CliRunner().invoke(cli.app, ["status", str(tmp_path)], env={})
    assert r.exit_code == 0, r.output
    text = buf.getvalue()
    assert "…" not in text
    # each id, read back from its folded rows, is whole (its -1/-2/-3 suffix too)
    rows = [ln for ln in text.splitlines() if ln.strip()]
    joined = "".join(ln.split()[0] for ln in rows if ln.split() and ln.split()[0][0] in "0a")
    for sid in ids:
        assert sid in joined
    assert "next render" in text
    assert text.count("make the clip") == len(ids)


def test_a_paid_runs_columns_fit_80_columns_and_the_job_id_loses_no_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the money columns, the id's minimum width pushed the table past 80 columns,
    and rich cropped each line at the edge: letters went missing from the middle of the
    job id the next render polls ('cgt-2026120' then 'bcdef')."""
    job = "cgt-20261201123456-abcde"
    ids = [f"{LONG}-1", "02-health-1"]
    info = _info(ids)
    for row in info["scenes"]:
        row["next"] = f"poll job {job} (sent before the last run stopped)"
        row["spend"] = {"estimated": 0.1296, "billed": 0.0312, "in_flight": 0.1296}
    info["ledger"] = [{}]
    info["money"] = {"billed": 0.06, "in_flight": 0.26, "estimated": 0.26}
    monkeypatch.setattr("mindmovie.status.collect_status", lambda *a, **k: info)
    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buf, width=80, highlight=False))
    r = CliRunner().invoke(cli.app, ["status", str(tmp_path)], env={})
    assert r.exit_code == 0, r.output
    lines = buf.getvalue().splitlines()
    (header,) = [ln for ln in lines if "next render" in ln]
    assert "in flight" in header and "billed" in header
    col = header.index("next render")
    table = lines[lines.index(header) + 2 : lines.index(header) + 2 + 20]
    assert all(len(ln.rstrip()) <= 80 for ln in lines)
    joined = "".join(ln[col:].strip() for ln in table)
    assert joined.count(job) == len(ids), joined
