"""A run folder damaged by hand (a run.db value edited, a file where a folder belongs, a
link that leads back to itself): `status` and `render` say what is wrong in one line
naming the path, never a traceback, and lose nothing."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from mindmovie.fsutil import sha256_file
from mindmovie.pipeline import WORK_FOLDERS
from tests import mindmovie_fork
from tests.e2e.project import status_json


def _cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m mindmovie ARGS` in its own process (a fork of one with the libraries
    imported: tests/mindmovie_fork.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    return mindmovie_fork.run(list(args), env=env, cwd=cwd, timeout=timeout)


def _render(project: Path) -> subprocess.CompletedProcess[str]:
    return _cli(
        "render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q", cwd=project
    )


def _status_error(project: Path) -> str:
    """`mindmovie status run` in `project`, which must stop with exit 2 and no
    exception: its stderr, on one line."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MINDMOVIE_")}
    env["COLUMNS"] = "200"
    here = Path.cwd()
    os.chdir(project)
    try:
        r = CliRunner().invoke(app, ["status", "run"], env=env)
    finally:
        os.chdir(here)
    assert isinstance(r.exception, SystemExit), (r.exception, r.stderr)
    assert r.exit_code == 2, (r.exit_code, r.stdout, r.stderr)
    return " ".join(r.stderr.split())


def _sql(db: Path, query: str, *args: object) -> list[tuple[object, ...]]:
    con = sqlite3.connect(db)
    try:
        with con:
            return list(con.execute(query, args).fetchall())
    finally:
        con.close()


#: every meta key a render writes (scene keys: one scene's), and those other renders do
META_KEYS = (
    "run_no",
    "goals_path",
    "settings",
    "outputs_before",
    "folder",
    "rendered_scene:01-health-1",
    "composed_plan",
    "storyboard_costs",
    "storyboard_clips",
    "storyboard_keyframes",
    "storyboard_inputs",
    "fresh_pending",
    "aside_pending",
    "plan_unrepaired",
    "goals_from_run",
    "goals_seen",
    # a run.db's mark, from its creation, that it records the content-filter fallbacks it
    # asks (`fallback:<key>`, written by paid clips only: none here)
    "fallbacks_marked",
    # the person's photo's look, recorded under its bytes' sha256 (examples/photos/me.jpg)
    "photo_look:" + sha256_file(Path(__file__).parents[2] / "examples" / "photos" / "me.jpg"),
    # the plan as its planner made it, under the plan's input key (looked up in the run)
    "planned_plan:",
    # what the compositor knows of a clip, under its sha256 (looked up in the run)
    "clip_facts:",
)


def test_the_damaged_meta_tests_cover_every_key_a_render_writes(finished: Path) -> None:
    """A key added to run.db's meta later is damaged by the test below too."""
    keys = {str(k) for (k,) in _sql(finished / "run" / "run.db", "SELECT key FROM meta")}
    scene_keys = {k.split(":")[0] + ":" for k in keys if ":" in k}
    assert {k for k in keys if ":" not in k} | scene_keys <= {
        k.split(":")[0] + (":" if ":" in k else "") for k in META_KEYS
    }


#: the keys whose value is JSON: damaged also as JSON of the wrong shape
_JSON_KEYS = {"settings", "outputs_before", "rendered_scene:01-health-1", "composed_plan"}
_JSON_KEYS |= {"fresh_pending", "plan_unrepaired", "planned_plan:", "goals_seen", "clip_facts:"}
_JSON_KEYS |= {k for k in META_KEYS if k.startswith("storyboard_") and k != "storyboard_inputs"}


@pytest.mark.parametrize(
    ("key", "value"),
    [(k, "x") for k in META_KEYS] + [(k, "[1]") for k in META_KEYS if k in _JSON_KEYS],
)
def test_a_meta_value_damaged_by_hand_is_no_traceback(finished: Path, key: str, value: str) -> None:
    """`UPDATE meta SET value='x' WHERE key='run_no'` made `status` and every render a
    ValueError traceback. Every meta value is read tolerantly (each is a record that can
    be made again; run_no is taken up from the steps' own run numbers): status shows the
    run, the render reuses everything, and the ledger and files are as they were."""
    db = finished / "run" / "run.db"
    if key.endswith(":"):  # a key of the run's own: the one it wrote
        ((key,),) = _sql(
            db, "SELECT key FROM meta WHERE key LIKE ? ORDER BY key LIMIT 1", key + "%"
        )
    _sql(db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", key, value)
    steps = _sql(db, "SELECT scene_id, stage, sha256 FROM steps WHERE stage IN ('keyframe','clip')")
    st, _ = status_json(finished, "run")
    assert st["run_no"] == 1
    r = _render(finished)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    st, _ = status_json(finished, "run")
    assert st["run_no"] == 2
    made = [s for s in st["steps"] if s["stage"] in ("keyframe", "clip") and s["run_no"] == 2]
    assert not made, made
    after = _sql(db, "SELECT scene_id, stage, sha256 FROM steps WHERE stage IN ('keyframe','clip')")
    assert sorted(after) == sorted(steps)


@pytest.mark.parametrize("column", ["attempts", "run_no", "created_at", "updated_at", "paid"])
def test_a_step_number_damaged_by_hand_is_no_traceback(finished: Path, column: str) -> None:
    """`UPDATE steps SET attempts='x'` made `status` a TypeError traceback, and a render
    that made the scene's clip again failed it with "can only concatenate str (not
    "int") to str", every time. A step's numbers are read tolerantly, as the meta
    values are: status shows the run, and the render makes only what is missing."""
    db = finished / "run" / "run.db"
    _sql(db, f"UPDATE steps SET {column}='x' WHERE scene_id='01-health-1'")
    st, _ = status_json(finished, "run")
    (clip,) = [s for s in st["steps"] if (s["scene_id"], s["stage"]) == ("01-health-1", "clip")]
    assert isinstance(clip[column], int | float | None), clip
    (finished / "run" / "scenes" / "01-health-1" / "clip.mp4").unlink()
    r = _render(finished)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    st, _ = status_json(finished, "run")
    made = {(s["scene_id"], s["stage"]) for s in st["steps"] if s["run_no"] == 2}
    assert made & {("01-health-1", "keyframe"), ("01-health-1", "clip")} == {
        ("01-health-1", "clip")
    }, made
    (clip,) = [s for s in st["steps"] if (s["scene_id"], s["stage"]) == ("01-health-1", "clip")]
    assert clip["status"] == "succeeded" and clip["attempts"] >= 1, clip


@pytest.mark.parametrize("sent_at", ["x", None, -1, True])
def test_a_lost_requests_time_damaged_by_hand_is_no_traceback(
    finished: Path, sent_at: object
) -> None:
    """A lost video create's note (`usage.lost.sent_at`: when it was sent, from which
    the wait for its late job is counted) edited by hand to no time: `status` was a
    ValueError traceback ("could not convert string to float"), as was every render's
    look for late jobs. The row's own time stands in for it, and the row is left as it
    was (it is money: committed, counted). (The row's provider and model are the ones
    status's settings name, --preset byteplus, so it is in flight and its wait counted:
    a create to another provider than the settings' is outcome unknown, as the render
    marks it.)"""
    db = finished / "run" / "run.db"
    note = json.dumps({"lost": {"input_key": "k", "sent_at": sent_at}})
    _sql(
        db,
        "INSERT INTO ledger(scene_id, stage, provider, model, remote_id, state,"
        " estimated_usd, billed_usd, usage, created_at, updated_at)"
        " VALUES('01-health-1', 'clip', 'byteplus', 'seedance-1-5-pro-251215', NULL,"
        " 'committed', 0.5, NULL, ?, strftime('%s','now'), strftime('%s','now'))",
        note,
    )
    before = _sql(db, "SELECT * FROM ledger")
    st, _ = status_json(finished, "run", "--preset", "byteplus")
    assert st["money"]["in_flight"] == 0.5, st["money"]
    (wait,) = st["late_wait"]
    assert wait["scenes"] == ["01-health-1"] and 0 < wait["seconds"] <= 300, wait
    assert _sql(db, "SELECT * FROM ledger") == before


@pytest.mark.parametrize("where", ["../notes.txt", "absolute"])
def test_a_step_file_path_leading_out_of_the_run_is_named_and_nothing_moved(
    finished: Path, where: str
) -> None:
    """A clip step's artifact edited to `../notes.txt`: the render moved that file, the
    person's, beside the run folder, into previous/ ("not the file this run made"); an
    absolute path failed the scene with a ValueError's words at every render. status
    and render stop (exit 2) on one line naming the row, the path it should hold and how
    to remove the step, and nothing is moved."""
    notes = finished / "notes.txt"
    notes.write_text("mine\n")
    art = str(notes) if where == "absolute" else where
    db = finished / "run" / "run.db"
    _sql(db, "UPDATE steps SET artifact=? WHERE scene_id='01-health-1' AND stage='clip'", art)
    steps = _sql(db, "SELECT * FROM steps ORDER BY scene_id, stage")
    said = (
        f"run/run.db: the clip step of 01-health-1 names its file {art!r}, which is not a "
        "path inside the run folder. It was not changed. Put back the path it had "
        '(scenes/01-health-1/clip.mp4), or remove the step (sqlite3 run/run.db "DELETE '
        "FROM steps WHERE scene_id='01-health-1' AND stage='clip'\"): it is then made "
        "again (on a paid preset, paid for again)."
    )
    assert said in _status_error(finished)
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()) == f"error: {said}", r.stderr
    assert notes.read_text() == "mine\n"
    assert not (finished / "run" / "previous").exists()
    assert _sql(db, "SELECT * FROM steps ORDER BY scene_id, stage") == steps


@pytest.mark.parametrize("usage", ["x", "[1]", "5"])
def test_a_ledger_usage_damaged_by_hand_is_named_and_kept(finished: Path, usage: str) -> None:
    """A paid call's `usage` edited to no JSON object was a JSONDecodeError (or
    AttributeError) traceback from `status` and every render. It holds what a render
    acts on instead of paying again, so both stop (exit 2) on one line naming run.db,
    the row and what to do, and the row is left as it was."""
    db = finished / "run" / "run.db"
    row = (
        "INSERT INTO ledger(scene_id, stage, provider, model, remote_id, state,"
        " estimated_usd, billed_usd, usage, created_at, updated_at)"
        " VALUES('01-health-1', 'clip', 'byteplus', 'seedance', 'job-1', 'billed',"
        " 0.5, 0.5, ?, 1, 1)"
    )
    _sql(db, row, usage)
    before = _sql(db, "SELECT * FROM ledger")
    said = (
        f"run/run.db: ledger row 1 has a damaged usage ({usage!r} is not a JSON object). "
        "It was not changed. Put back the value it had, or clear it (sqlite3 run/run.db "
        '"UPDATE ledger SET usage=NULL WHERE id=1")'
    )
    assert said in _status_error(finished)
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert said in " ".join(r.stderr.split()), r.stderr
    assert _sql(db, "SELECT * FROM ledger") == before
    assert (finished / "run" / "movie.mp4").is_file()


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("billed_usd", "x", "'x' is not an amount of dollars"),
        ("estimated_usd", "x", "'x' is not an amount of dollars"),
        ("state", "paid", "'paid' is not committed, billed or refunded"),
    ],
)
def test_a_ledger_amount_damaged_by_hand_is_named_and_kept(
    finished: Path, column: str, value: str, said: str
) -> None:
    """A paid call's billed_usd edited to 'x' was a TypeError traceback from `status`,
    and the budget gate (SQLite's SUM reads text as 0) counted the call as free. status
    and render stop (exit 2) on one line naming run.db, the row and the column, and the
    row is left as it was."""
    db = finished / "run" / "run.db"
    _sql(
        db,
        "INSERT INTO ledger(scene_id, stage, provider, model, remote_id, state,"
        " estimated_usd, billed_usd, usage, created_at, updated_at)"
        " VALUES('01-health-1', 'clip', 'byteplus', 'seedance', 'job-1', 'billed',"
        " 0.5, 0.5, NULL, 1, 1)",
    )
    _sql(db, f"UPDATE ledger SET {column}=? WHERE id=1", value)
    before = _sql(db, "SELECT * FROM ledger")
    said = (
        f"run/run.db: ledger row 1 has a damaged {column} ({said}). It was not changed. "
        'Put back the value it had (sqlite3 run/run.db "SELECT * FROM ledger WHERE id=1" '
        "shows the row): it is money the budget counts, so it is not guessed."
    )
    assert said in _status_error(finished)
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()) == f"error: {said}", r.stderr
    assert _sql(db, "SELECT * FROM ledger") == before
    assert (finished / "run" / "movie.mp4").is_file()


def _all_refuse_alike(finished: Path, said: str) -> None:
    """status, render and storyboard of the run each refuse it with `said` (exit 2, no
    traceback), and nothing in the run folder is moved or made."""
    run = finished / "run"
    before = sorted(p.name for p in run.iterdir())
    assert said in _status_error(finished)
    for args in (
        ("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"),
        ("storyboard", "run"),
    ):
        r = _cli(*args, cwd=finished)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert " ".join(r.stderr.split()) == f"error: {said}"
    assert sorted(p.name for p in run.iterdir()) == before


@pytest.mark.parametrize("links", [["run.db"], ["b", "run.db"]], ids=["self", "a-b-a"])
def test_run_db_as_a_link_loop_is_said_alike_by_status_render_and_storyboard(
    finished: Path, links: list[str]
) -> None:
    """`ln -s run.db run.db` (or run.db -> b -> run.db) in a run folder: status said
    "no run.db", render "cannot be written ... read-only" (with --out: "not empty (b)"),
    storyboard drew the run as one with no journal. All say it in the same line, naming
    the link and that it leads back to itself (exit 2), and nothing is moved."""
    run = finished / "run"
    (run / "run.db").rename(run / "run.db.real")
    (run / "run.db").symlink_to(links[0])
    if len(links) > 1:
        (run / links[0]).symlink_to(links[1])
    chain = " -> ".join(["run.db", *links])
    said = (
        f"run/run.db is a symbolic link that leads back to itself ({chain}), so there is no "
        "journal to read. It was not changed: put the run's run.db in its place, or remove "
        "the link (the next render then starts a new journal, first moving the files made "
        "here to previous/<time>/)."
    )
    _all_refuse_alike(finished, said)
    assert (run / "run.db").is_symlink()


@pytest.mark.parametrize("target", ["elsewhere/run.db", "missing/run.db"])
def test_run_db_as_a_link_to_nothing_is_said_alike_by_status_render_and_storyboard(
    finished: Path, target: str
) -> None:
    """run.db a symbolic link to a journal that is not there (kept on a disk not mounted
    now, or moved): status said "no run.db, so the scenes, movie.mp4 here cannot be
    checked: the next render moves them to previous/<time>/", storyboard drew the run
    as one with no journal, and render said "run/run.db cannot be written (unable to open
    database file): its folder is read-only ..." (with the link's folder there, it made
    a new journal through the link and moved every file aside). All say the link leads
    to nothing, naming where (exit 2), and nothing is moved or made."""
    run = finished / "run"
    (finished / "elsewhere").mkdir()
    (run / "run.db").rename(finished / "run.db.real")
    for side in ("-wal", "-shm"):
        (run / f"run.db{side}").unlink(missing_ok=True)
    dest = finished / target
    (run / "run.db").symlink_to(dest)
    said = (
        f"run/run.db is a symbolic link to {dest}, which is not there (a disk not mounted, "
        "a file moved?), so there is no journal to read. It was not changed: put the run's "
        "run.db there, or remove the link (the next render then starts a new journal, "
        "first moving the files made here to previous/<time>/)."
    )
    _all_refuse_alike(finished, said)
    assert not dest.exists()


@pytest.mark.parametrize("how", ["absolute", "relative"])
def test_run_db_as_a_link_to_another_run_s_journal_is_said_alike_by_status_render_and_storyboard(
    finished: Path, how: str
) -> None:
    """run/run.db a symbolic link to another run folder's run.db (`ln -s ../other/run.db
    run/run.db`): `render --out run` took that run's journal for this one's (its run
    number went on, its steps said what was made here), status showed the other run's
    steps as this one's, and two renders, one in each folder, would write the same
    journal, each under its own lock. All refuse it in one line naming both (exit 2),
    and nothing in either folder is changed."""
    run, other = finished / "run", finished / "other"
    shutil.copytree(run, other, symlinks=True)
    (run / "run.db").unlink()
    for side in ("-wal", "-shm"):
        (run / f"run.db{side}").unlink(missing_ok=True)
    (run / "run.db").symlink_to(other / "run.db" if how == "absolute" else "../other/run.db")
    journal = (other / "run.db").read_bytes()
    dest = Path(os.path.realpath(other / "run.db"))
    said = (
        f"run/run.db is a symbolic link to {dest}, the journal of another run folder "
        f"({dest.parent}): this run would be taken for that one. It was not changed: "
        "remove the link (the next render then starts a new journal here, first moving "
        "the files made here to previous/<time>/), or render that run with --out "
        f"{dest.parent}."
    )
    _all_refuse_alike(finished, said)
    assert (other / "run.db").read_bytes() == journal
    assert (run / "run.db").is_symlink()


def test_run_db_as_a_hard_link_is_said_alike_by_status_render_and_storyboard(
    finished: Path,
) -> None:
    """run/run.db a hard link to another run folder's run.db (`ln other/run.db run/`, or
    a copy of the run folder made with `cp -al`): `render --out run` took that run's
    journal for this one's, as through a symbolic link, and a render in each folder
    wrote the one file, each with its own -wal beside its own name (SQLite's log of
    what is not yet in the file: two of them for one file). All refuse it in one line
    naming the file and how to give it a journal of its own (exit 2), changing nothing."""
    run, other = finished / "run", finished / "other"
    shutil.copytree(run, other, symlinks=True)
    (run / "run.db").unlink()
    for side in ("-wal", "-shm"):
        (run / f"run.db{side}").unlink(missing_ok=True)
    os.link(other / "run.db", run / "run.db")
    journal = (other / "run.db").read_bytes()
    said = (
        "run/run.db is a hard link: the same file has 2 names (another run folder's "
        "run.db, or a copy made with `cp -al` or a snapshot tool?), so a render here would "
        "write that journal too, and take that run for this one. It was not changed: give "
        "this run a journal of its own (cp run/run.db run/run.db.own && mv run/run.db.own "
        "run/run.db), or remove the other name."
    )
    _all_refuse_alike(finished, said)
    assert (other / "run.db").read_bytes() == journal
    assert os.stat(run / "run.db").st_nlink == 2


def test_run_db_as_a_link_inside_its_own_run_folder_is_used(finished: Path) -> None:
    """run.db a symbolic link to a file inside its own run folder (`ln -s journal.db
    run.db`): the same journal, so it is used as it was: the render reuses every step."""
    run = finished / "run"
    (run / "run.db").rename(run / "journal.db")
    (run / "run.db").symlink_to("journal.db")
    st, _ = status_json(finished, "run")
    assert st["run_no"] == 1
    r = _render(finished)
    assert r.returncode == 0, r.stderr
    st, _ = status_json(finished, "run")
    assert st["run_no"] == 2
    assert not [s for s in st["steps"] if s["run_no"] == 2 and s["attempts"] > 0], st["steps"]
    assert (run / "run.db").is_symlink()


@pytest.mark.parametrize("where", ["scenes/02-wealth-1", "scenes", "link", "pipe"])
def test_a_file_where_a_scene_folder_belongs_is_named_before_any_step(
    finished: Path, where: str
) -> None:
    """scenes/<scene id> (or scenes/ itself) replaced by a file, or by a link to nothing:
    the scene failed at its mkdir with "[Errno 17] File exists: ..." (exit 1, after the
    spend question), and status said "redo: clip.mp4 missing". status, estimate and
    render now refuse it (exit 2) on one line naming the path and what to do, and
    nothing is changed."""
    run = finished / "run"
    folder = run / ("scenes/02-wealth-1" if where in ("link", "pipe") else where)
    folder.rename(run / "moved")
    if where == "link":
        folder.symlink_to("nowhere")
        said = (
            "run/scenes/02-wealth-1: is a link to nowhere, which is missing or leads back "
            "to it, where the folder for scene 02-wealth-1's keyframe.png and clip.mp4 "
            "belongs. It was not changed: remove the link (or point it at a folder) and "
            "render again"
        )
    elif where == "pipe":  # was "is a file" too
        os.mkfifo(folder)
        said = (
            "run/scenes/02-wealth-1: is a named pipe (FIFO), not the folder for scene "
            "02-wealth-1's keyframe.png and clip.mp4. It was not changed: move it away (e.g. "
            "to 02-wealth-1.bad beside it) and render again"
        )
    else:
        folder.write_text("not a folder\n")
        holds = "every scene's" if where == "scenes" else "scene 02-wealth-1's"
        said = (
            f"run/{where}: is a file, not the folder for {holds} keyframe.png and "
            f"clip.mp4. It was not changed: move it away (e.g. to {folder.name}.bad "
            "beside it) and render again"
        )
    db = run / "run.db"
    steps = _sql(db, "SELECT * FROM steps ORDER BY scene_id, stage")
    assert said in _status_error(finished)
    for args in (
        ("estimate", "examples/goals.yaml", "-c", "small.yaml", "--out", "run"),
        ("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"),
    ):
        r = _cli(*args, cwd=finished)
        assert r.returncode == 2 and "Errno" not in r.stderr, r.stderr
        assert " ".join(r.stderr.split()).endswith(f"error: {said}"), r.stderr
    assert _sql(db, "SELECT * FROM steps ORDER BY scene_id, stage") == steps
    if where == "pipe":
        assert folder.is_fifo()
    else:
        assert folder.is_symlink() if where == "link" else folder.read_text() == "not a folder\n"


@pytest.mark.parametrize("where", ["scenes", "scenes/01-health-1"])
def test_a_scene_folder_linked_into_another_run_is_named_before_any_step(
    finished: Path, where: str
) -> None:
    """run/scenes (or scenes/<id>) a symbolic link into another run folder (`ln -s
    ../other/scenes run/scenes`, to share its pictures): a render of run with a scene's
    seconds edited wrote its new clip over other's, whose next render said "clip.mp4
    changed", moved it to previous/ and made it again (paid again, with a paid model).
    status and render refuse it (exit 2) naming both, and nothing is changed."""
    run, other = finished / "run", finished / "other"
    shutil.copytree(run, other, symlinks=True)
    shutil.rmtree(run / where)
    target = other / where
    (run / where).symlink_to(os.path.relpath(target, (run / where).parent))
    dest = Path(os.path.realpath(target))
    home = dest.parents[where.count("/")]  # other, resolved
    said = (
        f"run/{where} is a symbolic link to {dest}, in another run folder ({home}): a "
        "render here would write over that run's keyframes and clips, and its next "
        "render would make them again. It was not changed: remove the link (this run then "
        f"makes its own), or render that run with --out {home}"
    )
    plan = run / "plan.yaml"
    plan.write_text(plan.read_text().replace("seconds: 2.0", "seconds: 3.0", 1))
    clip = (other / "scenes" / "01-health-1" / "clip.mp4").read_bytes()
    assert said in _status_error(finished)
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()).endswith(f"error: {said}"), r.stderr
    assert (other / "scenes" / "01-health-1" / "clip.mp4").read_bytes() == clip
    assert (run / where).is_symlink()


def test_movie_mp4_as_a_folder_is_named_before_anything_is_composed(finished: Path) -> None:
    """A folder named movie.mp4 in the run folder: the render composed the whole movie,
    then its rename failed with an IsADirectoryError traceback. status and render
    refuse it first (exit 2) naming it, and what it holds is left as it was."""
    run = finished / "run"
    movie = run / "movie.mp4"
    movie.rename(run / "old.mp4")
    movie.mkdir()
    (movie / "notes.txt").write_text("mine\n")
    said = (
        "run/movie.mp4: is a folder, not the movie (a file). It was not changed: move it "
        "away (e.g. to movie.mp4.bad beside it) and render again"
    )
    assert said in _status_error(finished)
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()).endswith(f"error: {said}"), r.stderr
    assert [p.name for p in movie.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [(name, "file") for name in WORK_FOLDERS] + [("compose/segments", "loop")],
)
def test_a_file_where_a_work_folder_belongs_is_named_before_any_step(
    finished: Path, name: str, kind: str
) -> None:
    """compose/, its segments/ cache (cards/, overlays/, audio/) or kept/ replaced by a
    file or a link leading back to itself: with an affirmation edited (the movie is
    composed again) the render made it to the compose and stopped there on a
    FileExistsError or NotADirectoryError traceback (kept/: raw Errno text when a paid
    artifact was kept). status and render refuse it first (exit 2), naming the path."""
    run = finished / "run"
    plan = run / "plan.yaml"
    plan.write_text(plan.read_text().replace("I am strong, healthy", "I am strong, well"))
    folder = run / name
    if folder.exists():
        folder.rename(run / "moved")
    folder.parent.mkdir(parents=True, exist_ok=True)
    holds = WORK_FOLDERS[name]
    if kind == "loop":
        folder.symlink_to(folder.name)
        said = (
            f"run/{name}: is a link to {folder.name}, which is missing or leads back to it, "
            f"where the folder for {holds} belongs. It was not changed: remove the link (or "
            "point it at a folder) and render again"
        )
    else:
        folder.write_text("not a folder\n")
        said = (
            f"run/{name}: is a file, not the folder for {holds}. It was not changed: move "
            f"it away (e.g. to {folder.name}.bad beside it) and render again"
        )
    steps = _sql(run / "run.db", "SELECT * FROM steps ORDER BY scene_id, stage")
    assert said in _status_error(finished)
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()).endswith(f"error: {said}"), r.stderr
    assert _sql(run / "run.db", "SELECT * FROM steps ORDER BY scene_id, stage") == steps
    assert folder.is_symlink() if kind == "loop" else folder.read_text() == "not a folder\n"


@pytest.mark.parametrize(("name", "what"), [("keyframe.png", "keyframe"), ("clip.mp4", "clip")])
def test_a_folder_where_a_keyframe_or_clip_belongs_is_named_before_any_step(
    finished: Path, name: str, what: str
) -> None:
    """scenes/<scene id>/keyframe.png (or clip.mp4) replaced by a folder: the scene's
    picture or clip was made again (with a paid model, paid for) and lost at its rename,
    the scene failing with raw "[Errno 21] Is a directory" text (exit 1). status and
    render refuse it first (exit 2), naming the path and what to do."""
    run = finished / "run"
    path = run / "scenes" / "01-health-1" / name
    path.rename(run / "moved")
    path.mkdir()
    said = (
        f"run/scenes/01-health-1/{name}: is a folder, not scene 01-health-1's {what} (a "
        f"file). It was not changed: move it away (e.g. to {name}.bad beside it) and "
        "render again"
    )
    steps = _sql(run / "run.db", "SELECT * FROM steps ORDER BY scene_id, stage")
    assert said in _status_error(finished)
    r = _render(finished)
    assert r.returncode == 2 and "Errno" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()).endswith(f"error: {said}"), r.stderr
    assert _sql(run / "run.db", "SELECT * FROM steps ORDER BY scene_id, stage") == steps
    assert path.is_dir()


@pytest.mark.parametrize(
    ("kind", "said"), [("folder", "a folder"), ("fifo", "a named pipe (FIFO)")]
)
def test_plan_yaml_that_is_no_file_is_said_alike_by_status_storyboard_and_render(
    finished: Path, kind: str, said: str
) -> None:
    """plan.yaml replaced by a named pipe: `status` and `storyboard` waited forever to
    read it and the render called it "a folder"; a folder was "is a directory, not a
    file" from storyboard. All three say what it is in the render's words (exit 2), and
    it is left as it was."""
    run = finished / "run"
    plan = run / "plan.yaml"
    plan.rename(run / "moved.yaml")
    if kind == "folder":
        plan.mkdir()
    else:
        os.mkfifo(plan)
    line = (
        f"error: run/plan.yaml: is {said}, not the run's plan (a file). It was not changed: "
        "move it away (e.g. to plan.yaml.bad) and render again"
    )
    for args in (
        ("status", "run", "-c", "small.yaml"),
        ("storyboard", "run"),
        ("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"),
    ):
        r = _cli(*args, cwd=finished, timeout=60)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert " ".join(r.stderr.split()).endswith(line), r.stderr
    assert plan.is_dir() if kind == "folder" else plan.is_fifo()


@pytest.mark.parametrize("end", ["-wal", "-shm", "-journal"])
@pytest.mark.parametrize("kind", ["folder", "loop"])
def test_a_folder_or_loop_where_run_db_side_files_go_is_named(
    finished: Path, end: str, kind: str
) -> None:
    """A folder (or a link leading back to itself) named run.db-wal, run.db-shm or
    run.db-journal: the render said "run.db cannot be written ... its folder is read-only
    or belongs to another user", sending the person to the permissions. It names the
    file and what it is (exit 2), and leaves run.db and it as they were."""
    from mindmovie.store import SIDE_FILES

    run = finished / "run"
    side = run / f"run.db{end}"
    what = SIDE_FILES[end]
    if kind == "folder":
        side.mkdir()
        said = (
            f"run/run.db{end}: is a folder, not {what} (a file SQLite makes). It was not "
            f"changed: move it away (e.g. to run.db{end}.bad beside it) and render again"
        )
    else:
        side.symlink_to(side.name)
        said = (
            f"run/run.db{end} is a symbolic link that leads back to itself (run.db{end} -> "
            f"run.db{end}), where {what} (a file SQLite makes) belongs. It was not changed: "
            "remove the link and render again"
        )
    before = (run / "run.db").read_bytes()
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()) == f"error: {said}", r.stderr
    assert (run / "run.db").read_bytes() == before
    assert side.is_dir() if kind == "folder" else side.is_symlink()


@pytest.mark.parametrize("kind", ["folder", "loop"])
def test_a_folder_or_loop_named_lock_is_named_not_a_permissions_problem(
    finished: Path, kind: str
) -> None:
    """A folder (or a link leading back to itself) named .lock in the run folder: the
    render said "run: cannot write in the run folder (Is a directory); check its
    permissions". It names .lock and what to do (exit 2), and leaves it as it was."""
    run = finished / "run"
    lock = run / ".lock"
    lock.unlink(missing_ok=True)
    if kind == "folder":
        lock.mkdir()
        said = (
            "run/.lock: is a folder, not the run's lock (a file). It was not changed: move "
            "it away (e.g. to .lock.bad beside it) and render again"
        )
    else:
        lock.symlink_to(".lock")
        said = (
            "run/.lock is a symbolic link that leads back to itself (.lock -> .lock), where "
            "the run's lock file belongs. It was not changed: remove the link and render again"
        )
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()) == f"error: {said}", r.stderr
    assert lock.is_dir() if kind == "folder" else lock.is_symlink()


@pytest.mark.parametrize(
    ("name", "what"), [("storyboard.png", "picture"), ("storyboard.html", "page")]
)
def test_a_folder_where_the_storyboard_goes_is_named(finished: Path, name: str, what: str) -> None:
    """A folder named storyboard.png (or .html): the render warned "storyboard not
    written: [Errno 21] Is a directory: 'run/.storyboard.png.123.tmp.png' -> ...", and
    `storyboard` said "cannot write in run (Is a directory)" (exit 1), as if the folder
    were read-only. Both name it and what to do (the render still makes the movie;
    storyboard exits 2), and it is left as it was."""
    run = finished / "run"
    path = run / name
    path.unlink()
    path.mkdir()
    plan = run / "plan.yaml"  # an edit: the board is drawn again
    plan.write_text(plan.read_text().replace("I am strong, healthy", "I am strong, well"))
    said = (
        f"run/{name}: is a folder, not the storyboard's {what} (a file). It was not "
        f"changed: move it away (e.g. to {name}.bad beside it) and run "
        "`mindmovie storyboard run` (or render again)"
    )
    r = _render(finished)
    assert r.returncode == 0, r.stderr
    assert f"warning: storyboard not written: {said}" in " ".join(r.stderr.split())
    r = _cli("storyboard", "run", cwd=finished)
    assert r.returncode == 2 and " ".join(r.stderr.split()) == f"error: {said}", r.stderr
    assert path.is_dir() and (run / "movie.mp4").is_file()


@pytest.mark.parametrize("kind", ["file", "loop"])
def test_render_fresh_with_previous_that_is_no_folder_moves_nothing(
    finished: Path, kind: str
) -> None:
    """previous/ replaced by a file (or a link leading back to itself): `render --fresh`
    stopped on a NotADirectoryError (or "Too many levels of symbolic links") traceback
    making previous/<time>. It refuses first (exit 2), naming previous, and the run
    is left where it is."""
    run = finished / "run"
    previous = run / "previous"
    if kind == "file":
        previous.write_text("mine\n")
    else:
        previous.symlink_to("previous")
    before = sorted(p.name for p in run.iterdir())
    r = _cli(
        "render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q", "--fresh",
        "--yes", cwd=finished,
    )  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()).startswith("error: run/previous: is a "), r.stderr
    assert sorted(p.name for p in run.iterdir()) == before


@pytest.mark.parametrize("folder", ["segments", "cards", "audio", "mine.mp4"])
def test_a_folder_inside_a_compose_cache_folder_is_named_before_any_step(
    finished: Path, folder: str
) -> None:
    """A cached segment, card or sound file of the movie replaced by a folder (or any
    folder named *.mp4 in compose/segments/, which the render prunes): with an edit, the
    render stopped at the compose (or once the movie was made) on an IsADirectoryError
    traceback, or ffmpeg's "Is a directory". It refuses first (exit 2), naming it."""
    run = finished / "run"
    plan = run / "plan.yaml"
    plan.write_text(plan.read_text().replace("I am strong, healthy", "I am strong, well"))
    if folder == "mine.mp4":
        name, path = "compose/segments", run / "compose" / "segments" / "mine.mp4"
    else:
        name = f"compose/{folder}"
        path = sorted((run / name).iterdir())[0]
        path.unlink()
    path.mkdir()
    said = (
        f"run/{name}/{path.name}: is a folder inside {name}/, the folder for "
        f"{WORK_FOLDERS[name]}, which holds only files mindmovie makes again when they are "
        "missing. It was not changed: move it out of there and render again"
    )
    r = _render(finished)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert " ".join(r.stderr.split()) == f"error: {said}", r.stderr
    assert path.is_dir()


@pytest.mark.parametrize(
    ("kind", "said"), [("folder", "a folder"), ("fifo", "a named pipe (FIFO)")]
)
def test_plan_previous_yaml_that_is_no_file_is_named_before_planning_again(
    finished: Path, kind: str, said: str
) -> None:
    """plan.previous.yaml replaced by a folder (or a named pipe), then goals.yaml edited:
    planning again, the render compared plan.yaml with it and stopped on an
    IsADirectoryError traceback (a pipe: it waited forever, and SIGTERM did not stop
    it). It refuses first (exit 2) naming it, and plan.yaml is left as it was."""
    run = finished / "run"
    goals = finished / "examples" / "goals.yaml"
    goals.write_text(goals.read_text().replace("the coastal trail", "the mountain trail"))
    previous = run / "plan.previous.yaml"
    if kind == "folder":
        previous.mkdir()
    else:
        os.mkfifo(previous)
    plan = (run / "plan.yaml").read_bytes()
    line = (
        f"error: run/plan.previous.yaml: is {said}, not the copy of plan.yaml kept when "
        "planning again (a file). It was not changed: move it away (e.g. to "
        "plan.previous.yaml.bad) and render again"
    )
    argv = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"]
    code, stderr = _ends(argv, finished)  # killed after 60 s: the pipe held it past SIGTERM
    assert code == 2 and "Traceback" not in stderr, stderr
    assert " ".join(stderr.split()) == line, stderr
    assert (run / "plan.yaml").read_bytes() == plan
    assert previous.is_dir() if kind == "folder" else previous.is_fifo()


def _ends(argv: list[str], cwd: Path) -> tuple[int, str]:
    """(exit code, stderr) of `mindmovie ARGV`, killed after 60 s: a named pipe read
    waits for a writer forever, and SIGTERM does not end that wait."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    # a fork of the preloaded CLI process (tests/mindmovie_fork.py): past the timeout it
    # is killed (SIGKILL) and TimeoutExpired raised, failing the test
    proc = mindmovie_fork.run(argv, env=env, cwd=cwd, timeout=60)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    ("name", "what"),
    [
        (".lock", "the run's lock"),
        ("run.db-wal", "run.db's write-ahead log (a file SQLite makes)"),
        ("run.db-shm", "run.db's shared-memory index (a file SQLite makes)"),
    ],
)
def test_a_named_pipe_where_the_lock_or_a_side_file_goes_is_named(
    finished: Path, name: str, what: str
) -> None:
    """A named pipe named .lock: `status` waited forever to read the pid in it, and the
    render stopped on an OSError traceback ("[Errno 22] Invalid argument"). Named
    run.db-wal (or -shm): the render said "the disk reported an error ... check the
    disk". status shows the run, and the render names the pipe (exit 2)."""
    run = finished / "run"
    path = run / name
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    code, stderr = _ends(["status", "run"], finished)
    assert code == 0 and "Traceback" not in stderr, stderr
    code, stderr = _ends(
        ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"], finished
    )
    assert code == 2 and "Traceback" not in stderr, stderr
    if name == ".lock":
        what += " (a file)"
    said = (
        f"error: run/{name}: is a named pipe (FIFO), not {what}. It was not changed: move it away "
        f"(e.g. to {name}.bad beside it) and render again"
    )
    assert " ".join(stderr.split()) == said, stderr
    assert path.is_fifo()


def test_status_of_a_named_pipe_says_it_is_no_run_folder_as_storyboard_does(
    tmp_path: Path,
) -> None:
    """`status PIPE` said "no run here (no run.db). Render a goals.yaml first.", while
    storyboard and render said it is a file, not a folder. status says it as storyboard
    does (exit 2)."""
    os.mkfifo(tmp_path / "ff")
    for cmd in ("status", "storyboard"):
        code, stderr = _ends([cmd, "ff"], tmp_path)
        assert code == 2, stderr
        assert " ".join(stderr.split()) == (
            "error: ff: is a file, not a run folder (outputs/<title>)"
        ), stderr


def test_a_run_db_moved_aside_says_where_the_plan_s_hand_edits_are(finished: Path) -> None:
    """run.db moved aside (as the damaged-run.db error says to): the render plans again,
    the old plan.yaml kept as plan.previous.yaml, and said only that; a hand edit in it
    was in neither the new plan nor any line (a helper's audit). It says where the edits
    are and how to bring them back."""
    run = finished / "run"
    plan = run / "plan.yaml"
    plan.write_text(plan.read_text().replace("affirmation: ", "affirmation: My own words. ", 1))
    (run / "run.db").rename(run / "run.db.bad")
    r = _render(finished)
    assert r.returncode == 0, r.stderr
    said = " ".join(r.stderr.split())
    assert "hand edits of it are in plan.previous.yaml only" in said, said
    assert "My own words." in (run / "plan.previous.yaml").read_text()
