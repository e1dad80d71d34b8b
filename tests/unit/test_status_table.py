"""The `status` table on a narrow terminal: every scene id whole, and what happens next."""

from __future__ import annotations

import io
import os
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


def _status_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, info: dict[str, Any], width: int
) -> str:
    """What `mindmovie status` prints for `info` (as collect_status would give it) on a
    terminal `width` columns wide."""
    monkeypatch.setattr("mindmovie.status.collect_status", lambda *a, **k: info)
    buf = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=buf, width=width, highlight=False))
    r = CliRunner().invoke(cli.app, ["status", str(tmp_path)], env={})
    assert r.exit_code == 0, r.output
    return buf.getvalue()


@pytest.mark.parametrize("columns", [60, 80])
def test_long_scene_ids_are_whole_and_the_next_render_column_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    ids = [f"{LONG}-{n}" for n in (1, 2, 3)] + ["02-movie-1"]
    text = _status_table(monkeypatch, tmp_path, _info(ids), columns)
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
    shown = _status_table(monkeypatch, tmp_path, info, 80)
    lines = shown.splitlines()
    (header,) = [ln for ln in lines if "next render" in ln]
    assert "in flight" in header and "billed" in header
    col = header.index("next render")
    table = lines[lines.index(header) + 2 : lines.index(header) + 2 + 20]
    assert all(len(ln.rstrip()) <= 80 for ln in lines)
    joined = "".join(ln[col:].strip() for ln in table)
    assert joined.count(job) == len(ids), joined


def test_a_paid_runs_short_scene_ids_are_not_folded_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paid run with clip jobs in flight, in a pipe (80 columns): the id column was
    squeezed to 8 so that "next render" kept 20, and every id was folded mid-word
    ("01-healt" / "h-1", "(planner" / ")"). An id of up to 28 stays whole when "next
    render" still gets 12 columns."""
    job = "cgt-20261204010247-valy5"
    ids = ["01-health-1", "02-career-1", "03-lifestyle-1"]
    info = _info(ids)
    for row in info["scenes"]:
        row["next"] = f"poll job {job} and download it (no new job)"
        row["spend"] = {"estimated": 0.13, "billed": 0.03, "in_flight": 0.1}
    info["ledger"] = [{}]
    info["planner_spend"] = {"estimated": 0.0129, "billed": 0.0066, "in_flight": 0.0}
    info["money"] = {"billed": 0.13, "in_flight": 0.31, "estimated": 0.44}
    lines = _status_table(monkeypatch, tmp_path, info, 80).splitlines()
    assert all(len(ln.rstrip()) <= 80 for ln in lines)
    firsts = [ln.split()[0] for ln in lines if ln.split()]
    for sid in [*ids, "(planner)"]:
        assert sid in firsts, lines
    (header,) = [ln for ln in lines if "next render" in ln]
    assert "in flight" in header


def test_a_paid_run_stopped_with_jobs_in_flight_keeps_its_ids_whole_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The examples' paid render stopped by SIGTERM, then `status` in a pipe (80
    columns): with the clip column "in job" (6) and "in flight" beside "est." and
    "billed", "03-relationships-1" (18) and "next render" (12) did not both fit, and the
    id was squeezed to 8: every id folded ("01-healt" "h-1", "03-relat" "ionships" "-1",
    "(planner" ")"). The money now goes in its own table below, as on a narrow terminal,
    and each id and job id is whole on one line."""
    ids = ["01-health-1", "01-health-2", "02-wealth-1", "03-relationships-1", "04-career-1"]
    info = _info(ids)
    jobs = {}
    for i, row in enumerate(info["scenes"]):
        if i % 2 == 0:
            jobs[row["scene_id"]] = f"cgt-20261204104445-{i:05d}"
            row["clip"] = "submitted"
            row["next"] = f"poll job {jobs[row['scene_id']]} and download it (no new job)"
        row["spend"] = {"estimated": 0.08, "billed": 0.03, "in_flight": 0.05 * (i % 2 == 0)}
    info["ledger"] = [{}]
    info["planner_spend"] = {"estimated": 0.04, "billed": 0.01, "in_flight": 0.0}
    info["money"] = {"billed": 0.16, "in_flight": 0.15, "estimated": 0.41}
    lines = _status_table(monkeypatch, tmp_path, info, 80).splitlines()
    assert all(len(ln.rstrip()) <= 80 for ln in lines)
    heads = [ln for ln in lines if ln.split()[:1] == ["scene"]]
    assert len(heads) == 2, lines  # the steps' table, and the money's below it
    spend_head = heads[1]
    assert "in flight" in spend_head and "next render" in heads[0]
    main = lines[: lines.index(spend_head)]
    rows = {ln.split()[0]: ln for ln in main if ln.split() and ln.split()[0] in ids}
    assert set(rows) == set(ids), lines
    for sid, job in jobs.items():
        assert job in rows[sid], rows[sid]  # the job id beside its scene, in one piece
    spend_rows = [ln.split()[0] for ln in lines[lines.index(spend_head) :] if ln.split()]
    assert [*ids, "(planner)"] == [r for r in spend_rows if r in [*ids, "(planner)"]]


JOB = "cgt-20261201123456-abcde"


def _paid_info(ids: list[str], flying: bool) -> dict[str, Any]:
    """A paid run: a clip job to poll for all but the first scene, the planner's call."""
    info = _info(ids)
    for i, row in enumerate(info["scenes"]):
        if i:
            row["next"] = f"poll job {JOB} (sent before the last run stopped)"
        row["spend"] = {"estimated": 0.1296, "billed": 0.0312, "in_flight": 0.1296 * flying}
    info["ledger"] = [{}]
    info["planner_spend"] = {"estimated": 0.02, "billed": 0.0187, "in_flight": 0.0}
    info["money"] = {"billed": 0.06, "in_flight": 0.26 * flying, "estimated": 0.26}
    return info


@pytest.mark.parametrize("columns", [40, 80, 200])
@pytest.mark.parametrize("paid", ["free", "paid", "in flight"])
def test_headers_and_values_are_whole_at_40_80_and_200_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int, paid: str
) -> None:
    """At 40 columns (COLUMNS=40) the headers were cut ("ima…", "es…", "bil…") and so
    were the money values ("$0…"): 6 to 8 columns do not fit. The values and headers are
    kept whole, the id and "next render" folded in what they leave; the money goes in a
    table of its own below when it does not fit beside them. Wider, one table as before."""
    ids = ["01-health-1", "02-wealth-1", f"{LONG}-1"]
    info = _info(ids) if paid == "free" else _paid_info(ids, paid == "in flight")
    text = _status_table(monkeypatch, tmp_path, info, columns)
    # the tables: below the run folder, above the spend line (those are never wrapped)
    lines = text.splitlines()[1:]
    lines = lines[: next(i for i, ln in enumerate(lines) if ln.startswith("spend:"))]
    assert "…" not in text and all(len(ln.rstrip()) <= columns for ln in lines), text
    rules = [i for i, ln in enumerate(lines) if "───" in ln]
    heads = []  # each table's header: the lines above its rule, up to a blank one
    for r in rules:
        top = max(i for i in range(r) if not lines[i].strip()) if r else 0
        heads += lines[top:r]
    words = " ".join(heads).split()
    want = ["scene", "image", "clip", "tries", "next", "render"]
    if paid != "free":
        want += ["est.", "billed", *(["in", "flight"] if paid == "in flight" else [])]
    assert set(words) == set(want), heads  # each header whole, none missing
    if paid != "free":
        # every money value whole: a scene's est. and billed, the planner's
        assert text.count("$0.13") == len(ids) * (1 + (paid == "in flight")), text
        assert text.count("$0.03") == len(ids) and text.count("$0.02") == 2, text
        # one table when it fits (80 and 200 columns), the money below at 40
        assert len(rules) == (2 if columns == 40 else 1), text
    # each id whole (folded in the first column), the job id whole in "next render"
    (head_line,) = [ln for ln in lines[: rules[0]] if "next" in ln]
    col = head_line.index("next")
    table = lines[rules[0] + 1 : rules[1] if len(rules) > 1 else None]
    first = "".join(ln[: next(h for h in lines if "image" in h).index("image")] for ln in table)
    first = "".join(first.split())
    assert all(sid in first for sid in ids), first
    joined = "".join(ln[col:].strip() for ln in table)
    assert joined.count(JOB) == (0 if paid == "free" else len(ids) - 1), joined


def test_a_paid_runs_scene_with_nothing_spent_yet_is_not_called_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `plan` with a paid preset no scene has a ledger row yet: its est. and billed
    cells said "free", as if the scene would cost nothing (the storyboard priced each at
    $0.13). They say "-" (nothing yet); a scene with spend shows its dollars."""
    ids = ["01-health-1", "02-career-1"]
    info = _info(ids)
    info["scenes"][1]["spend"] = {"estimated": 0.1296, "billed": 0.0312, "in_flight": 0.0}
    info["ledger"] = [{}]
    info["planner_spend"] = {"estimated": 0.02, "billed": 0.0187, "in_flight": 0.0}
    shown = _status_table(monkeypatch, tmp_path, info, 120)
    rows = {ln.split()[0]: ln.split() for ln in shown.splitlines() if ln.strip()}
    assert rows["01-health-1"][4:6] == ["-", "-"], rows["01-health-1"]
    assert rows["02-career-1"][4:6] == ["$0.13", "$0.03"], rows["02-career-1"]
    assert "free" not in shown


def test_a_call_whose_outcome_is_unknown_is_not_shown_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call whose answer was lost and which nothing can settle (a Seedream image's
    5xx, a Veo create's) stays committed, so the budget counts it; status showed it "in
    flight" at every look, for ever. Its amount is said apart: outcome unknown."""
    info = _info(["01-health-1"])
    info["ledger"] = [{}]
    info["money"] = {"billed": 0.03, "in_flight": 0.0, "unknown": 0.04, "estimated": 0.07}
    shown = _status_table(monkeypatch, tmp_path, info, 120)
    (line,) = [ln for ln in shown.splitlines() if ln.startswith("spend:")]
    assert "in flight $0.00" in line and "outcome unknown $0.04 (counted as spent)" in line
    info["money"] = {"billed": 0.03, "in_flight": 0.0, "unknown": 0.0, "estimated": 0.07}
    shown = _status_table(monkeypatch, tmp_path, info, 120)
    assert "unknown" not in shown


@pytest.mark.parametrize("columns", [20, 30])
@pytest.mark.parametrize("paid", ["free", "in flight"])
def test_a_terminal_too_narrow_for_the_table_gets_a_line_a_scene(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int, paid: str
) -> None:
    """At 30 columns (COLUMNS=30) rich cut "done" to "do…" and dropped the "next render"
    column: what the next render does was not said at all. A line a scene instead, each
    value named (its lines joined back: they are broken between labels)."""
    ids = ["01-health-1", f"{LONG}-1"]
    info = _info(ids) if paid == "free" else _paid_info(ids, True)
    text = _status_table(monkeypatch, tmp_path, info, columns)
    assert "…" not in text, text
    lines = _joined(text.splitlines())
    assert lines[0] == str(tmp_path)
    if paid == "free":
        for sid in ids:
            want = f"{sid}: image done, clip -, tries 1; next render: make the clip"
            assert want in lines, text
    else:
        money = "est. $0.13, billed $0.03, in flight $0.13"
        assert (
            f"01-health-1: image done, clip -, tries 1, {money}; next render: make the clip"
            in lines
        )
        assert (
            f"{LONG}-1: image done, clip -, tries 1, {money}; next render: poll job {JOB} "
            "(sent before the last run stopped)"
        ) in lines, text
        assert "(planner): est. $0.02, billed $0.02" in lines, text


def _joined(lines: list[str]) -> list[str]:
    """A line a scene's lines, each continued line (indented) put back on its scene's."""
    whole: list[str] = []
    for ln in lines:
        if ln.startswith("  ") and whole:
            whole[-1] += " " + ln.strip()
        else:
            whole.append(ln)
    return whole


@pytest.mark.parametrize("paid", ["free", "in flight"])
def test_at_40_columns_no_word_that_fits_is_folded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paid: str
) -> None:
    """At 40 columns "next render" had 8 columns (two spaces between columns, edges) and
    the id 8: "01-healt" / "h-1", "cgt-2026" / "12011234". One space apart (as the
    estimate's table under 64 columns), each id and each word of "next render" that fits
    its column is whole; only the job id, longer than any column could be, is folded."""
    ids = ["01-health-1", "02-wealth-1", f"{LONG}-1"]
    info = _info(ids) if paid == "free" else _paid_info(ids, True)
    lines = _status_table(monkeypatch, tmp_path, info, 40).splitlines()
    (header,) = [ln for ln in lines if "image" in ln]
    rule = lines.index(header) + 1
    # the table ends at a blank line (the money's table below) or at the spend line
    end = next(i for i, ln in enumerate(lines) if i > rule and (not ln.strip() or "spend:" in ln))
    table = lines[rule + 1 : end]
    assert all(len(ln.rstrip()) <= 40 for ln in [header, *table]), "\n".join(lines)
    image, nxt = header.index("image"), header.index("tries") + len("tries")
    id_words = {w for ln in table for w in ln[:image].split()}
    next_words = {w for ln in table for w in ln[nxt:].split()}
    assert {"01-health-1", "02-wealth-1"} <= id_words, "\n".join(lines)
    said = {w for row in info["scenes"] for w in row["next"].split() if w != JOB}
    assert said <= next_words, "\n".join(lines)
    assert header.split()[-2:] == ["next", "render"], header


@pytest.mark.parametrize("columns", [30, 24, 20])
def test_a_line_a_scene_keeps_each_label_beside_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """Under ~32 columns status prints a line a scene; printed as one long line, the
    terminal wrapped it anywhere: at 30 columns 'clip' ended a line and '-,' began the
    next, 'in flight' / '$0.13'. Each line now fits the terminal and is broken only
    between a label and the next (continued lines indented), as estimate's line a row."""
    ids = ["01-health-1", "02-wealth-1"]
    text = _status_table(monkeypatch, tmp_path, _paid_info(ids, True), columns)
    lines = text.splitlines()
    start = 1  # below the run folder
    end = next(i for i, ln in enumerate(lines) if ln.startswith("spend:"))
    scene_lines = lines[start:end]
    assert len(scene_lines) > len(ids) + 1, lines  # folded: the case under test
    in_next = False  # in what "next render:" says (words, broken anywhere between)
    for ln in scene_lines:
        if ln.strip() != JOB:  # the one word wider than 20 columns
            assert len(ln) <= columns, lines
        words = ln.split()
        if not ln.startswith(" "):
            in_next = False
        if words[0] == "next":
            in_next = True
            assert words[1:2] == ["render:"] and len(words) > 2, lines  # with its first word
        if not in_next:  # a line ends with a pair's ',' or ';' (or the id's ':')
            assert ln[-1] in ",;:" or ln.endswith("billed $0.02"), lines
        value = words[0].startswith("$") or words[0].rstrip(",;") in {"-", "done", "1"}
        assert not value, lines
    starts = [ln.split(":")[0] for ln in scene_lines if not ln.startswith(" ")]
    assert starts == [*ids, "(planner)"], lines
    # every value still there, in order
    joined = " ".join(" ".join(ln.split()) for ln in scene_lines)
    assert "image done, clip -, tries 1, est. $0.13, billed $0.03, in flight $0.13;" in joined
    assert f"next render: poll job {JOB} (sent before the last run stopped)" in joined


def _error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    """`mindmovie ARGS`' one error line, its exit 2."""
    monkeypatch.setattr("sys.argv", ["mindmovie", *args])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    return line


@pytest.mark.parametrize("command", ["status", "storyboard"])
def test_a_run_folder_that_does_not_exist_is_said_to_be_no_such_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """`status outptus/my-run` (a typo) said "no run here (no run.db). Render a goals.yaml
    first.", as if the folder were there and only the run missing. It says there is no
    such folder; one line, exit 2. A folder that is there keeps "no run here"."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    said = [_error_line(monkeypatch, capsys, command, f) for f in ("outptus/my-run", "empty")]
    assert said[0] == "error: outptus/my-run: no such folder; give a run folder (outputs/<title>)"
    assert said[1].startswith("error: empty: no run here (no "), said


@pytest.mark.parametrize("command", ["status", "storyboard"])
def test_a_run_folder_not_there_names_the_runs_beside_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    """A run's folder is renamed when its goals' title changes: `status outputs/<old
    title>` said only "no such folder", the run it meant beside it. The runs there are
    named, the one rendered last to try; given from the project folder without
    outputs/, the runs in outputs/."""
    from mindmovie.store import Store

    monkeypatch.chdir(tmp_path)
    for name in ("other", "new-title"):  # rendered in this order
        (tmp_path / "outputs" / name).mkdir(parents=True)
        Store(tmp_path / "outputs" / name / "run.db").close()
        os.utime(tmp_path / "outputs" / name / "run.db", (1e9, 1e9 if name == "other" else 2e9))
    for folder in ("outputs/old-title", "old-title"):
        assert _error_line(monkeypatch, capsys, command, folder) == (
            f"error: {folder}: no such folder; give a run folder (outputs/<title>): outputs "
            f"holds the runs outputs/new-title and outputs/other (mindmovie {command} "
            "outputs/new-title; a run's folder is renamed when its title changes)"
        )


def test_a_run_db_of_no_bytes_is_said_to_be_empty_not_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status` of a folder holding a run.db of no bytes (and nothing made) said "no run
    here (no run.db)" of a file that is there; render calls it missing or empty."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "run.db").write_bytes(b"")
    monkeypatch.setattr("sys.argv", ["mindmovie", "status", "run"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == "error: run: no run here (an empty run.db). Render a goals.yaml first.", line


def test_a_long_new_plan_cause_is_said_once_under_the_table_not_in_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`status` of a paid run read with other settings (no --config): every row's "next
    render" repeated the new plan's whole cause, 6-8 lines each at 80 columns, though the
    line under the table says it. The rows now point at that line; a short cause ("plan.yaml
    deleted") stays in the row."""
    cause = (
        "the planner (anthropic/claude-sonnet-5-5 -> local/local-planner-1) and the video "
        "model's clip lengths changed"
    )
    ids = ["01-health-1", "02-wealth-1", "03-relationships-1"]
    info = _info(ids)
    for row in info["scenes"]:
        row["clip"] = "succeeded"
        row["new_plan"] = True
        row["new_plan_cause"] = cause
        row["next"] = f"redo (a new plan: {cause})"
    info["inputs"] = {
        "checked": True,
        "goals": str(tmp_path / "goals.yaml"),
        "new_plan": True,
        "new_plan_why": f"{cause} since plan.yaml was made: the next render makes a new plan",
    }
    text = _status_table(monkeypatch, tmp_path, info, 80)
    flat = " ".join(text.split())
    assert flat.count("anthropic/claude-sonnet-5-5") == 1, text
    assert flat.count("redo (a new plan: see below)") == len(ids), text
    assert "the next render makes a new plan" in flat
    short = _info(ids)
    for row in short["scenes"]:
        row["new_plan_cause"] = "plan.yaml deleted"
        row["next"] = "reuse (a new plan: plan.yaml deleted)"
    short["inputs"] = {**info["inputs"], "new_plan_why": "plan.yaml deleted: a new plan"}
    flat = " ".join(_status_table(monkeypatch, tmp_path, short, 80).split())
    assert flat.count("reuse (a new plan: plan.yaml deleted)") == len(ids), flat


@pytest.mark.parametrize("live", [False, True])
def test_an_offline_clip_stopped_or_being_made_is_not_in_a_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live: bool
) -> None:
    """An offline clip's step is "submitted" while it is rendered here (its id
    `local:<scene>`): the clip cell said "in job" of a clip whose render was stopped.
    It is "stopped", or "rendering" while a render runs; a paid clip's is "in job"."""
    info = _info(["01-health-1", "02-career-1"])
    info["scenes"][0].update(clip="submitted", remote_id="local:01-health-1", local_clip=True)
    info["scenes"][1].update(clip="submitted", remote_id="cgt-1")
    info["rendering"] = 4242 if live else None
    rows = {
        ln.split()[0]: ln.split()
        for ln in _status_table(monkeypatch, tmp_path, info, 120).splitlines()
        if ln.strip()
    }
    assert rows["01-health-1"][2] == ("rendering" if live else "stopped"), rows
    assert rows["02-career-1"][2:4] == ["in", "job"], rows


@pytest.mark.parametrize("paid", [False, True])
def test_kept_is_said_paid_only_of_a_run_with_paid_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paid: bool
) -> None:
    """kept/ of an offline run (every provider local) holds pictures and clips made here,
    free: its line said "paid pictures and clips, ... taken back without paying"."""
    info = _info(["01-health-1"])
    info["held"] = {"kept": {"bytes": 2_000_000, "files": 3}}
    if paid:
        info["ledger"] = [{}]
        info["scenes"][0]["spend"] = {"estimated": 0.13, "billed": 0.13, "in_flight": 0.0}
    shown = " ".join(_status_table(monkeypatch, tmp_path, info, 200).split())
    if paid:  # (as before)
        assert (
            "replaced (paid pictures and clips, plans with your edits), taken back without "
            "paying when those inputs come back; deleting kept/ frees that disk, and what it "
            "held is made (or paid for) again if they come back"
        ) in shown, shown
    else:
        assert (
            "kept/: 2.0 MB, 3 files an edit replaced (pictures and clips, plans with your "
            "edits), taken back when those inputs come back; deleting kept/ frees that disk, "
            "and what it held is made again if they come back"
        ) in shown, shown
        kept = shown[shown.index("kept/:") :].split("come back")[0]
        assert "paid" not in kept, kept


@pytest.mark.parametrize(
    ("n", "said"),
    [(0, "0 bytes"), (1, "1 byte"), (412, "412 bytes"), (999, "999 bytes"), (1000, "1 KB"),
     (52_000, "52 KB"), (999_499, "999 KB"), (6_400_000, "6.4 MB")],
)  # fmt: skip
def test_disk_sizes_status_says_are_never_0_kb_for_bytes_held(n: int, said: str) -> None:
    """What previous/ and kept/ hold, as `status` says it: a folder of a few bytes (a
    run set aside with nothing in it but a small file) was "0 KB", as if it held
    nothing and deleting it freed nothing."""
    from mindmovie.cli import _disk_size

    assert _disk_size(n) == said


@pytest.mark.parametrize(
    "name",
    [
        "models/veo-3.1-generate-preview/operations/op0123abcdef4567",
        "projects/my-project-123456/locations/us-central1/publishers/google/models/"
        "veo-3.1-generate-preview/operations/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    ],
)
def test_a_veo_job_in_flight_is_shown_by_its_operation_id_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A Veo clip job in flight, `status` in a pipe: its whole operation name in "next
    render" (13 columns beside the money) took about 13 lines a scene. The table gives
    the operation's id; the error line and --json keep the whole name."""
    ids = ["01-health-1", "02-wealth-1"]
    info = _info(ids)
    op_id = name.rsplit("/", 1)[1]
    for row in info["scenes"]:
        row["clip"] = "submitted"
        row["next"] = f"poll job {name} and download it (no new job)"
        row["spend"] = {"estimated": 0.8, "billed": 0.0, "in_flight": 0.8}
    info["ledger"] = [{}]
    info["planner_spend"] = {"estimated": 0.02, "billed": 0.0187, "in_flight": 0.0}
    info["money"] = {"billed": 0.02, "in_flight": 1.6, "estimated": 1.62}
    lines = _status_table(monkeypatch, tmp_path, info, 80).splitlines()
    assert all(len(ln.rstrip()) <= 80 for ln in lines)
    (header,) = [ln for ln in lines if "next render" in ln]
    col = header.index("next render")
    body = lines[lines.index(header) + 2 :]
    starts = [i for i, ln in enumerate(body) if ln.split()[:1] in (["02-wealth-1"], ["(planner)"])]
    first_row = body[: starts[0]]
    assert len([ln for ln in first_row if ln.strip()]) <= 6, "\n".join(lines)
    assert op_id in "".join(ln[col:].strip() for ln in first_row), "\n".join(lines)
    assert "models/" not in "\n".join(lines)
