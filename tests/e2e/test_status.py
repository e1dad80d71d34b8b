"""`mindmovie status RUN_DIR` says what the next render does, and only what it can know.

Run dirs are made by the real CLI, offline (the local providers), as in test_render.py.
Each test then changes the run the way a person would (deletes a file, edits plan.yaml)
and checks `status` against what the next render actually does. Most start from
`finished` (conftest.py): the run folder `_render` leaves, rendered once per test process
and copied back to the same path for each test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mindmovie.doctor import NOT_ONE_WORD
from tests import mindmovie_fork
from tests.e2e.project import SMALL, new_project, status_json


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m mindmovie ARGS` in its own process (a fork of one with the libraries
    imported: tests/mindmovie_fork.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["COLUMNS"] = "200"  # the status table on one line per scene
    return mindmovie_fork.run(list(args), env=env, cwd=cwd, timeout=300)


def _cli(*args: str, cwd: Path) -> str:
    proc = _run(*args, cwd=cwd)
    if proc.returncode != 0:
        raise AssertionError(f"mindmovie {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc.stdout


def _refused(*args: str, cwd: Path) -> tuple[str, str]:
    """(stdout, stderr) of a command that must exit 2 with one error line, no traceback."""
    proc = _run(*args, cwd=cwd)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: "), proc.stderr
    return proc.stdout, proc.stderr


def _status_refused(cwd: Path, run: Path, *opts: str) -> tuple[dict[str, Any], str]:
    """status --json of a run the render refuses: (its JSON, its error line)."""
    args = opts or ("-c", "small.yaml")
    st, err = status_json(cwd, str(run), *args, code=2)
    assert "Traceback" not in err and err.startswith("error: "), err
    assert st["refused"] and st["refused"] in err, (st["refused"], err)
    return st, err


def _render(cwd: Path, run: Path) -> None:
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q", cwd=cwd)


def _status(cwd: Path, run: Path, *opts: str) -> dict[str, Any]:
    """status --json with the render's settings (or `opts` instead)."""
    args = opts or ("-c", "small.yaml")
    return status_json(cwd, str(run), *args)[0]


def _line(text: str, scene_id: str) -> str:
    """The scene's row of the table (the movie line may name the scene too)."""
    (line,) = [ln for ln in text.splitlines() if ln.split()[:1] == [scene_id]]
    return line


def _edit_plan(run: Path, edit: Any) -> None:
    path = run / "plan.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return new_project(tmp_path)


def test_status_of_a_file_says_it_is_not_a_run_folder(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mindmovie status examples/goals.yaml` (the goals, not the run) said "no run here
    (no run.db). Render a goals.yaml first.", which sent the person to render; storyboard
    says what is wrong."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(workdir)
    r = CliRunner().invoke(app, ["status", "examples/goals.yaml"])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
    assert "examples/goals.yaml: is a file, not a run folder (outputs/<title>)" in r.output


@pytest.mark.parametrize("command", ["status", "storyboard"])
def test_a_link_to_a_deleted_run_folder_is_named_as_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """`mindmovie status latest`, `latest` a link to a run folder since deleted (or a link
    leading back to itself), said "no run here (no run.db). Render a goals.yaml first.",
    as if a folder were there; it names the link and where it leads, as `init` does."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    os.symlink("outputs/gone", "latest")
    os.symlink("loop-b", "loop-a")
    os.symlink("loop-a", "loop-b")
    for link, target in (("latest", "outputs/gone"), ("loop-a", "loop-b")):
        r = CliRunner().invoke(app, [command, link])
        assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
        assert r.output.startswith(
            f"error: {link}: is a link to {target}, which is missing or leads back to it; "
        ), r.output
        assert "no run here" not in r.output, r.output
    assert sorted(os.listdir(tmp_path)) == ["latest", "loop-a", "loop-b"]  # made nothing


@pytest.mark.parametrize("command", ["status", "storyboard"])
def test_a_folder_inside_a_run_names_the_run(
    finished: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """`mindmovie status run/scenes` (or a scene's folder, compose/segments: the names a
    person tab-completes into) said "no run here (no run.db). Render a goals.yaml first.",
    sending them to render a run they have; it names the run to give."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(finished)
    for inner in ("run/scenes", "run/scenes/01-health-1", "run/compose/segments"):
        assert (finished / inner).is_dir(), inner
        r = CliRunner().invoke(app, [command, inner])
        assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
        assert r.output == (
            f"error: {inner}: no run here; it is in the run run (mindmovie {command} run)\n"
        ), r.output
    monkeypatch.chdir(finished / "run" / "scenes")
    r = CliRunner().invoke(app, [command, "."])
    assert r.output == f"error: .: no run here; it is in the run .. (mindmovie {command} ..)\n"


@pytest.mark.parametrize("name", ["storyboard.png", "storyboard.html"])
def test_storyboard_blocked_by_a_folder_says_to_run_storyboard_again(
    finished: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """`mindmovie storyboard run` with a folder where storyboard.png (or .html) goes said
    "move it away (...) and render again": on a paid run stopped after its keyframes to
    review them, a render goes on to buy the clips. It says to run storyboard again."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(finished)
    (finished / "run" / name).unlink()
    (finished / "run" / name).mkdir()
    r = CliRunner().invoke(app, ["storyboard", "run"])
    assert r.exit_code == 2 and isinstance(r.exception, SystemExit), r.output
    assert r.output.startswith(f"error: run/{name}: is a folder, not the storyboard's "), r.output
    assert r.output.endswith(
        f"move it away (e.g. to {name}.bad beside it) and run `mindmovie storyboard run` "
        "(or render again)\n"
    ), r.output
    assert (finished / "run" / name).is_dir()  # not changed


def test_status_checks_each_file_and_names_plan_edits(finished: Path) -> None:
    """A deleted clip and a replaced keyframe are 'redo' (their sha256 no longer match the
    store); a prompt edited in plan.yaml since the last render is named (the render
    records the plan it worked from); settings it cannot see, so no scene is said to be
    reused unconditionally. The next render does what status said."""
    workdir, run = finished, finished / "run"
    ids = [s["scene_id"] for s in _status(workdir, run)["scenes"]]
    # ids[3] is a photo scene, whose keyframe takes no prompt: ids[4] is painted
    gone, swapped, edited = ids[1], ids[2], ids[4]
    (run / "scenes" / gone / "clip.mp4").unlink()
    kf = run / "scenes" / swapped / "keyframe.png"
    kf.write_bytes(kf.read_bytes() + b"\0")  # e.g. an image editor saved over it

    def edit(plan: dict[str, Any]) -> None:
        sc = next(s for s in plan["scenes"] if s["id"] == edited)
        sc["image_prompt"] += " A red kite in the sky."

    _edit_plan(run, edit)

    st = _status(workdir, run)
    nxt = {s["scene_id"]: s["next"] for s in st["scenes"]}
    assert nxt[gone].startswith("redo") and "clip.mp4 missing" in nxt[gone]
    # offline: painted again from the same inputs, and its clip kept if it is the same
    assert nxt[swapped].startswith("make the keyframe again (keyframe.png changed")
    files = {s["scene_id"]: s["files"] for s in st["scenes"]}
    assert files[gone] == {"keyframe": "ok", "clip": "missing"}
    assert files[swapped] == {"keyframe": "changed", "clip": "ok"}
    # the edited prompt is named; the others are reused (checked with the render's settings)
    assert nxt[edited] == "redo: image_prompt edited"
    assert {s["scene_id"]: s.get("edited") for s in st["scenes"]}[edited] == ["image_prompt"]
    for sid in ids:
        if sid not in (gone, swapped, edited):
            assert nxt[sid] == "reuse", (sid, nxt[sid])
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "clip.mp4 missing" in _line(text, gone)
    assert "keyframe.png changed" in _line(text, swapped)
    # the image and clip columns say the file's state, not "done"
    assert _line(text, gone).split()[1:3] == ["done", "missing"], _line(text, gone)
    assert _line(text, swapped).split()[1:3] == ["changed", "done"], _line(text, swapped)
    assert "hash checked" not in text

    # what the next render redoes: the two files status named (and the edited scene)
    _render(workdir, run)
    after = _status(workdir, run)
    redone = {
        (s["scene_id"], s["stage"])
        for s in after["steps"]
        if s["run_no"] == after["run_no"] and s["stage"] in ("keyframe", "clip")
    }
    assert (gone, "clip") in redone and (gone, "keyframe") not in redone
    assert (swapped, "keyframe") in redone and (swapped, "clip") not in redone
    assert (edited, "keyframe") in redone
    assert {sid for sid, _ in redone} == {gone, swapped, edited}
    nxt = {s["scene_id"]: s["next"] for s in after["scenes"]}
    assert all(n == "reuse" for n in nxt.values()), nxt


def test_status_says_a_deleted_offline_keyframe_is_made_again_and_its_clip_kept_if_same(
    finished: Path,
) -> None:
    """A deleted local keyframe: the render paints it again from the same inputs and,
    the image being the same (the clip's key holds its sha256), reuses the clip. Status
    said "redo: keyframe.png missing; the clip too unless ...", and its JSON that the
    clip is not reused. It says now what the render does, and what that hinges on; with
    the motion prompt edited too, the clip is made again whatever the image."""
    workdir, run = finished, finished / "run"
    ids = [s["scene_id"] for s in _status(workdir, run)["scenes"]]
    gone, moved = ids[1], ids[2]
    (run / "scenes" / gone / "keyframe.png").unlink()
    (run / "scenes" / moved / "keyframe.png").unlink()

    def edit(plan: dict[str, Any]) -> None:
        sc = next(s for s in plan["scenes"] if s["id"] == moved)
        sc["motion_prompt"] += " Slowly."

    _edit_plan(run, edit)
    rows = {s["scene_id"]: s for s in _status(workdir, run)["scenes"]}
    assert rows[gone]["next"] == (
        "make the keyframe again (keyframe.png missing; offline, free); the clip is reused "
        "if the new image is identical, else made again"
    )
    assert rows[gone]["reuse_if_same_keyframe"] is True
    assert rows[gone]["reuse"] == {"keyframe": False, "clip": False}  # not known before
    assert "reuse_if_same_keyframe" not in rows[moved]
    assert rows[moved]["next"].startswith("redo: keyframe.png missing")
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "the clip is reused if the new image is identical" in _line(text, gone)

    _render(workdir, run)
    after = _status(workdir, run)
    redone = {
        (s["scene_id"], s["stage"])
        for s in after["steps"]
        if s["run_no"] == after["run_no"] and s["stage"] in ("keyframe", "clip")
    }
    assert redone == {(gone, "keyframe"), (moved, "keyframe"), (moved, "clip")}, redone
    assert all(s["next"] == "reuse" for s in after["scenes"])


def test_status_marks_a_scene_removed_from_plan_yaml(finished: Path) -> None:
    workdir, run = finished, finished / "run"
    removed: list[str] = []

    def edit(plan: dict[str, Any]) -> None:
        removed.append(plan["scenes"].pop()["id"])

    _edit_plan(run, edit)
    _render(workdir, run)
    st = _status(workdir, run)
    plan_ids = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]
    (gone,) = removed
    # the plan's scenes first, in its order; the removed one after them, flagged
    assert [s["scene_id"] for s in st["scenes"]] == [*plan_ids, gone]
    row = st["scenes"][-1]
    assert row["in_plan"] is False and row["next"] == "none: not in plan.yaml"
    assert all(s["in_plan"] is True for s in st["scenes"][:-1])
    # --json keeps every step, flagged
    flagged = {(s["scene_id"], s["stage"]) for s in st["steps"] if s["in_plan"] is False}
    assert flagged == {(gone, "keyframe"), (gone, "clip")}
    assert st["plan"]["scenes"] == plan_ids and st["plan_error"] is None
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "not in plan.yaml" in _line(text, gone)
    assert all("not in plan" not in _line(text, sid) for sid in plan_ids)


def test_status_after_plan_alone_lists_the_scenes_not_started(workdir: Path) -> None:
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    plan_ids = [s["id"] for s in yaml.safe_load((run / "plan.yaml").read_text())["scenes"]]
    assert len(plan_ids) >= 6
    st = _status(workdir, run)
    assert [s["scene_id"] for s in st["scenes"]] == plan_ids
    for row in st["scenes"]:
        assert row["keyframe"] is None and row["clip"] is None and row["in_plan"] is True
        assert row["next"] == "not started: keyframe, then clip"
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    for sid in plan_ids:
        assert "not started" in _line(text, sid)


def test_status_of_a_run_with_a_broken_plan_yaml_still_shows_its_steps(finished: Path) -> None:
    """plan.yaml mid-edit (invalid): status says why and shows the steps as recorded."""
    workdir, run = finished, finished / "run"
    n = len(_status(workdir, run)["scenes"])
    (run / "plan.yaml").write_text("title: x\nscenes: [\n")
    st, _ = _status_refused(workdir, run)  # the render refuses it too (exit 2)
    assert st["plan"] is None and "plan.yaml" in st["plan_error"]
    assert len(st["scenes"]) == n and all(s["in_plan"] is None for s in st["scenes"])
    # without a readable plan.yaml there is nothing to compare its scenes with
    assert all(s["next"] == "reuse if inputs unchanged" for s in st["scenes"])


def test_status_refuses_a_plan_yaml_the_render_refuses(finished: Path) -> None:
    """A goal number past the goals, a reference photo or music that is not there: the
    render stops on them (exit 2) before any step. status said "reuse" for every scene
    and gave no error, so it promised a render that then refused to start."""
    workdir, run = finished, finished / "run"

    def edit(plan: dict[str, Any]) -> None:
        plan["scenes"][1]["goal"] = 99
        plan["scenes"][2]["reference_photos"] = [str(workdir / "examples" / "nope.jpg")]
        plan["music"] = str(workdir / "nope.mp3")

    _edit_plan(run, edit)
    st, json_err = _status_refused(workdir, run)
    err = st["plan_error"] or ""
    # the first problem in full (scenes are counted from 1), then how many more
    assert "plan.yaml:" in err and "scenes[2].goal: goal 99" in err
    assert "(and 2 more problems: line " in err and "scenes[3].reference_photos" in err
    assert st["inputs"]["checked"] is False and st["refused"] == err
    # the table still shows the run; the error is said once, on stderr, as render says it
    text, text_err = _refused("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert _line(text, st["scenes"][0]["scene_id"]) and "goal 99" not in text
    assert "inputs not checked: the render refuses them" in text
    # ... and the render (and `plan`) refuse it so: the same exit code, the same words
    render_args = ("-c", "small.yaml", "--out", str(run))
    _, render_err = _refused("render", "examples/goals.yaml", *render_args, "-q", cwd=workdir)
    _, plan_err = _refused("plan", "examples/goals.yaml", *render_args, cwd=workdir)
    # `estimate` priced it (exit 0) as if the render would run
    _, est_err = _refused("estimate", "examples/goals.yaml", *render_args, cwd=workdir)
    assert text_err == json_err == render_err == plan_err == est_err == f"error: {err}\n"


def test_status_exits_2_for_seconds_a_setting_or_goals_the_render_refuses(
    finished: Path,
) -> None:
    """`seconds: abc` in plan.yaml, a setting render refuses, --goals naming no file: the
    render stops with exit 2; status showed the run and exited 0, so a script checking
    `mindmovie status RUN && mindmovie render ...` went on to a render that refused."""
    workdir, run = finished, finished / "run"
    good = (run / "plan.yaml").read_text()

    def edit(plan: dict[str, Any]) -> None:
        plan["scenes"][1]["seconds"] = "abc"

    _edit_plan(run, edit)
    st, err = _status_refused(workdir, run)
    assert "scenes[2].seconds: must be a number, got 'abc'" in st["refused"]
    assert len(st["scenes"]) > 1 and st["run_no"] == 1  # the run is still shown
    _, render_err = _refused(
        "render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir
    )
    assert render_err == err
    (run / "plan.yaml").write_text(good)
    assert _status(workdir, run)["refused"] is None  # and 0 again once it is fixed

    (workdir / "bad.yaml").write_text("output: {fps: abc}\n")
    st, err = _status_refused(workdir, run, "-c", "bad.yaml")
    assert "bad.yaml:1: output.fps" in err and st["inputs"]["checked"] is False
    text, _ = _refused("status", str(run), "-c", "bad.yaml", cwd=workdir)
    assert "inputs not checked: the render refuses them" in text

    st, err = _status_refused(workdir, run, "-c", "small.yaml", "--goals", "nope.yaml")
    assert err == "error: nope.yaml: file not found\n"  # as render says it


def test_status_says_the_movie_is_composed_again_for_a_title_or_order_edit(
    finished: Path,
) -> None:
    """The title, closing and music, and the scenes' order, change only the movie: the
    render composes it again, but status said "movie: succeeded" and "reuse" for every
    scene, as if the render would do nothing."""
    workdir, run = finished, finished / "run"
    assert _status(workdir, run)["movie"]["edited"] == []

    def edit(plan: dict[str, Any]) -> None:
        plan["title"] = "A Year Rewritten"
        plan["scenes"][1], plan["scenes"][2] = plan["scenes"][2], plan["scenes"][1]

    _edit_plan(run, edit)
    st = _status(workdir, run)
    assert st["movie"]["edited"] == ["title", "scene order"]
    assert all(s["next"] == "reuse" for s in st["scenes"])
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "the next render composes it again (title, scene order edited)" in text
    _render(workdir, run)
    after = _status(workdir, run)
    assert after["movie"]["status"] == "succeeded" and after["movie"]["edited"] == []
    # the movie was composed again (and nothing else made)
    (movie,) = [s for s in after["steps"] if s["stage"] == "movie"]
    assert movie["run_no"] == after["run_no"] == 2
    assert not [
        s for s in after["steps"] if s["stage"] in ("keyframe", "clip") and s["run_no"] == 2
    ]
    # plan.yaml deleted: a new plan, for that reason (it said "goals.yaml or plan settings
    # changed", neither of which had)
    (run / "plan.yaml").unlink()
    nxt = {s["next"] for s in _status(workdir, run)["scenes"]}
    assert nxt == {"reuse (a new plan: plan.yaml deleted)"}, nxt


def test_status_says_the_movie_is_composed_again_for_changed_compose_settings(
    finished: Path,
) -> None:
    """compose.crossfade (or the quality, the cards' lengths) changed: the render composes
    the movie again, and only that, but status said "movie: succeeded" and nothing more."""
    workdir, run = finished, finished / "run"
    (workdir / "soft.yaml").write_text(SMALL.replace("crossfade: 0.5", "crossfade: 0.25"))
    st = _status(workdir, run, "-c", "soft.yaml")
    assert st["movie"]["settings_changed"] == ["compose.crossfade"]
    assert all(s["next"] == "reuse" for s in st["scenes"])
    text = _cli("status", str(run), "-c", "soft.yaml", cwd=workdir)
    assert "the next render composes it again (compose.crossfade changed)" in text
    assert _status(workdir, run)["movie"]["settings_changed"] == []  # the render's own
    _cli("render", "examples/goals.yaml", "-c", "soft.yaml", "--out", str(run), "-q", cwd=workdir)
    after = _status(workdir, run, "-c", "soft.yaml")
    (movie,) = [s for s in after["steps"] if s["stage"] == "movie"]
    assert movie["run_no"] == 2 and after["movie"]["settings_changed"] == []


def test_status_table_says_a_deleted_movie_and_a_broken_plan(finished: Path) -> None:
    workdir, run = finished, finished / "run"
    (run / "movie.mp4").unlink()
    (run / "plan.yaml").write_text("title: x\nscenes: [\n")
    text, err = _refused("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "movie.mp4 is missing: the next render composes it again" in text
    assert "plan.yaml" in err and "invalid YAML" in err


def test_status_names_what_each_plan_edit_redoes(finished: Path) -> None:
    """seconds -> the clip; an affirmation -> only the text on screen; the category ->
    the offline painter's keyframe. Then the render does exactly that."""
    workdir, run = finished, finished / "run"
    first = _status(workdir, run)
    assert first["movie"]["scenes_changed"] == []
    ids = [s["scene_id"] for s in first["scenes"]]
    timed, worded, painted = ids[1], ids[2], ids[4]  # ids[3] is a photo scene

    def edit(plan: dict[str, Any]) -> None:
        by_id = {s["id"]: s for s in plan["scenes"]}
        by_id[timed]["seconds"] = 3
        by_id[worded]["affirmation"] = "I am wholly at ease"
        by_id[painted]["category"] = (
            "growth" if by_id[painted]["category"] != "growth" else "health"
        )

    _edit_plan(run, edit)
    nxt = {s["scene_id"]: s["next"] for s in _status(workdir, run)["scenes"]}
    assert nxt[timed] == "redo clip: seconds edited"
    assert nxt[worded] == "reuse; new text (affirmation edited)"
    assert nxt[painted] == "redo: category edited"
    # and the movie, composed again for them: its line said "movie: succeeded"
    assert _status(workdir, run)["movie"]["scenes_changed"] == [timed, worded, painted]
    table = " ".join(_cli("status", str(run), "-c", "small.yaml", cwd=workdir).split())
    said = f"movie: succeeded; the next render composes it again (scenes {timed}, {worded}, "
    assert said + f"{painted} changed)" in table, table
    _render(workdir, run)
    after = _status(workdir, run)
    assert after["movie"]["scenes_changed"] == []
    (movie,) = [s for s in after["steps"] if s["stage"] == "movie"]
    assert movie["run_no"] == after["run_no"]  # composed again, as status said
    redone = {
        (s["scene_id"], s["stage"])
        for s in after["steps"]
        if s["run_no"] == after["run_no"]
        and s["stage"] in ("keyframe", "clip")
        and s["attempts"] > 0
    }
    assert (timed, "clip") in redone and (timed, "keyframe") not in redone
    assert not {k for k in redone if k[0] == worded}
    assert (painted, "keyframe") in redone


def test_a_render_stopped_early_does_not_vouch_for_scenes_it_did_not_finish(
    finished: Path,
) -> None:
    """`--until keyframes` after a prompt edit remakes the keyframe, not the clip: status
    still says the clip is to be redone, and why (the plan is recorded per finished clip,
    not at the start of a render)."""
    workdir, run = finished, finished / "run"
    target = _status(workdir, run)["scenes"][2]["scene_id"]

    def edit(plan: dict[str, Any]) -> None:
        sc = next(s for s in plan["scenes"] if s["id"] == target)
        sc["image_prompt"] += " A lantern glows."

    _edit_plan(run, edit)
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         "--until", "keyframes", cwd=workdir)  # fmt: skip
    nxt = {s["scene_id"]: s["next"] for s in _status(workdir, run)["scenes"]}
    assert nxt[target] == "redo clip: image_prompt edited", nxt
    # without the render's check (no settings) it is said from plan.yaml alone
    (workdir / "examples" / "goals.yaml").rename(workdir / "examples" / "moved.yaml")
    nxt = {s["scene_id"]: s["next"] for s in _status(workdir, run)["scenes"]}
    assert nxt[target] == "redo: image_prompt edited", nxt


def test_status_edits_that_do_not_change_a_key_are_not_called_redo(finished: Path) -> None:
    """The painter takes the category trimmed and lower-cased; a clip finished before
    scenes were recorded (an older run) is not vouched for."""
    workdir, run = finished, finished / "run"
    ids = [s["scene_id"] for s in _status(workdir, run)["scenes"]]

    def edit(plan: dict[str, Any]) -> None:
        sc = next(s for s in plan["scenes"] if s["id"] == ids[3])
        sc["category"] = " " + sc["category"].upper() + " "
        other = next(s for s in plan["scenes"] if s["id"] == ids[4])
        other["image_prompt"] += " Soft rain."

    _edit_plan(run, edit)
    import sqlite3

    con = sqlite3.connect(run / "run.db")
    con.execute("DELETE FROM meta WHERE key = ?", (f"rendered_scene:{ids[4]}",))
    con.commit()
    con.close()
    nxt = {s["scene_id"]: s["next"] for s in _status(workdir, run)["scenes"]}
    assert nxt[ids[3]] == "reuse", nxt
    # its edit is not recorded, so not named; the render's own check says it is redone
    assert nxt[ids[4]] == "redo: its inputs changed", nxt


def _ran_last(st: dict[str, Any]) -> set[str]:
    """Scenes whose keyframe or clip the last render made (not reused)."""
    return {
        s["scene_id"]
        for s in st["steps"]
        if s["run_no"] == st["run_no"] and s["stage"] in ("keyframe", "clip") and s["attempts"]
    }


def _redo(st: dict[str, Any]) -> set[str]:
    return {s["scene_id"] for s in st["scenes"] if s["next"].startswith("redo")}


def test_status_checks_settings_photos_and_goals_as_the_render_does(finished: Path) -> None:
    """With the settings a render would read, status makes the render's own reuse check:
    a changed setting, a replaced photo and an edited goal are found and named, and the
    next render redoes exactly the scenes status said."""
    from tests.media import write_photo

    workdir, run = finished, finished / "run"
    st = _status(workdir, run)
    assert st["inputs"]["checked"] is True and st["inputs"]["settings_changed"] == []
    assert st["inputs"]["goals"] == str((workdir / "examples" / "goals.yaml").resolve())
    ids = [s["scene_id"] for s in st["scenes"]]
    assert all(s["next"] == "reuse" for s in st["scenes"])

    # another frame size: every keyframe is made again, and the setting is named
    (workdir / "other.yaml").write_text(SMALL.replace("320x180", "256x144"))
    other = _status(workdir, run, "-c", "other.yaml")
    assert other["inputs"]["settings_changed"] == ['output.size: "320x180" -> "256x144"']
    assert {s["next"] for s in other["scenes"]} == {"redo: settings changed (output.size)"}
    text = _cli("status", str(run), "-c", "other.yaml", cwd=workdir)
    assert 'setting changed since the last render: output.size: "320x180" -> "256x144"' in text

    # another keyframe seed (the painter draws another picture): every keyframe again;
    # another clip seed or video option: every clip, on the same keyframes
    (workdir / "seed.yaml").write_text(SMALL + "keyframes: {seed: 8}\n")
    seed = _status(workdir, run, "-c", "seed.yaml")
    painted = {s["scene_id"] for s in st["scenes"] if not s.get("photo_keyframe")}
    assert painted and painted != set(ids)  # a goal photo fitted to the frame has no seed
    assert {s["scene_id"]: s["next"] for s in seed["scenes"]} == {
        sid: "redo: settings changed (keyframes.seed)" if sid in painted else "reuse" for sid in ids
    }
    (workdir / "vseed.yaml").write_text(SMALL + "video: {seed: 12}\n")
    vseed = _status(workdir, run, "-c", "vseed.yaml")
    assert {s["next"] for s in vseed["scenes"]} == {"redo clip: settings changed (video.seed)"}

    # a photo replaced under the same name: only the scene made from it
    plan = yaml.safe_load((run / "plan.yaml").read_text())
    garden = [s["id"] for s in plan["scenes"] if any("garden" in p for p in s["reference_photos"])]
    assert len(garden) == 1
    write_photo(workdir / "examples" / "photos" / "garden-dinner.jpg", (20, 90, 200))
    st = _status(workdir, run)
    nxt = {s["scene_id"]: s["next"] for s in st["scenes"]}
    assert nxt[garden[0]] == "redo: the goal's photos changed", nxt
    assert _redo(st) == set(garden)
    _render(workdir, run)
    assert _ran_last(_status(workdir, run)) == set(garden)

    # an edited goal: a new plan; the scenes of the other goals are reused
    goals = workdir / "examples" / "goals.yaml"
    goals.write_text(goals.read_text().replace("Debt-free, with six", "Debt-free, with nine"))
    st = _status(workdir, run)
    assert st["inputs"]["new_plan"] is True
    predicted = _redo(st)
    assert predicted and predicted != set(ids), st["scenes"]
    assert all("a new plan" in s["next"] for s in st["scenes"] if s["scene_id"] in predicted)
    assert "the next render makes a new plan" in _cli(
        "status", str(run), "-c", "small.yaml", cwd=workdir
    )
    _render(workdir, run)
    assert _ran_last(_status(workdir, run)) == predicted

    # the goals.yaml moved: said, and --goals points at it
    goals.rename(workdir / "examples" / "mine.yaml")
    st = _status(workdir, run)
    assert st["inputs"]["checked"] is False and "goals.yaml not found" in st["inputs"]["why"]
    assert all(s["next"] == "reuse if settings unchanged" for s in st["scenes"])
    # a --goals that is not there, or a folder: said as render says it ("give --goals"
    # to the person who gave it was no help, and "not found" was wrong for a folder)
    # and, being the person's mistake, exit 2 as the render would
    for given, why in (("nothere.yaml", "file not found"), ("examples", "is a folder, not a file")):
        st, _ = _status_refused(workdir, run, "--goals", given)
        assert st["inputs"]["why"] == f"{given}: {why}"
    st = _status(workdir, run, "-c", "small.yaml", "--goals", "examples/mine.yaml")
    assert st["inputs"]["checked"] is True
    assert all(s["next"] == "reuse" for s in st["scenes"])


def test_a_moved_project_folder_reuses_everything_and_keeps_its_photos(
    workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """plan.yaml holds absolute photo and music paths: after the folder moves they are
    found again by their place beside goals.yaml, so nothing is redone (before, the photo
    scenes were painted instead, and a song in plan.yaml failed the render), and status
    names no edit."""
    from tests.media import write_music

    goals = workdir / "examples" / "goals.yaml"
    write_music(workdir / "examples" / "song.mp3")
    goals.write_text(goals.read_text() + "\nmusic: song.mp3\n")
    _render(workdir, workdir / "run")
    before = {p.name: p.read_bytes() for p in (workdir / "run" / "scenes").glob("*/keyframe.png")}
    moved = tmp_path_factory.mktemp("moved") / "project"
    shutil.move(str(workdir), str(moved))
    run = moved / "run"
    assert str(workdir) in (run / "plan.yaml").read_text()  # plan.yaml is left as written
    _render(moved, run)
    st = _status(moved, run, "-c", "small.yaml", "--goals", "examples/goals.yaml")
    assert _ran_last(st) == set()
    assert {p.name: p.read_bytes() for p in (run / "scenes").glob("*/keyframe.png")} == before
    assert all(s["next"] == "reuse" and "edited" not in s for s in st["scenes"]), st["scenes"]


def test_after_until_keyframes_an_edited_prompt_says_the_keyframe_is_made_again(
    workdir: Path,
) -> None:
    run = workdir / "run"
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         "--until", "keyframes", cwd=workdir)  # fmt: skip
    ids = [s["scene_id"] for s in _status(workdir, run)["scenes"]]

    def edit(plan: dict[str, Any]) -> None:
        plan["scenes"][2]["image_prompt"] += " A kite."  # painted (ids[1] is a photo)

    _edit_plan(run, edit)
    nxt = {s["scene_id"]: s["next"] for s in _status(workdir, run)["scenes"]}
    # the field named, as after a whole render ("its inputs changed" before 2026-12-04)
    assert nxt[ids[2]] == "redo the keyframe (image_prompt edited), then make the clip", nxt
    assert all(nxt[sid] == "make the clip" for sid in ids if sid != ids[2]), nxt


def test_status_says_why_a_new_plan_is_made(workdir: Path) -> None:
    """A deleted plan.yaml or a changed plan setting is said as such, as the render's
    warning does; status said 'goals.yaml or the plan settings changed ... the old one is
    kept as plan.previous.yaml' for both (nothing is kept when plan.yaml is gone)."""
    run = workdir / "run"
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         "--until", "plan", cwd=workdir)  # fmt: skip
    (workdir / "longer.yaml").write_text(SMALL.replace("scene_seconds: 2", "scene_seconds: 4"))
    text = _cli("status", str(run), "-c", "longer.yaml", cwd=workdir)
    assert "plan.scene_seconds changed since plan.yaml was made" in text, text
    (run / "plan.yaml").unlink()
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "there is no plan.yaml" in text and "plan.previous.yaml" not in text, text
    assert not (run / "plan.yaml").exists()


def test_a_copied_project_folder_keeps_its_photos(
    finished: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A copy of the project folder (the original still there) holds a plan.yaml naming
    the original's photos: they exist, but are not the copy's goals' photos, so the
    photo scenes were painted instead (with an edit model: paid again with the text
    model), and a photo replaced in the copy was never used. They are the copy's own."""
    workdir = finished
    copy = tmp_path_factory.mktemp("copy") / "project"
    shutil.copytree(workdir, copy)
    run = copy / "run"
    before = {p.parent.name: p.read_bytes() for p in run.glob("scenes/*/keyframe.png")}
    st = _status(copy, run, "-c", "small.yaml", "--goals", "examples/goals.yaml")
    assert all(s["next"] == "reuse" for s in st["scenes"]), st["scenes"]
    _render(copy, run)
    assert (
        _ran_last(_status(copy, run, "-c", "small.yaml", "--goals", "examples/goals.yaml")) == set()
    )
    assert {p.parent.name: p.read_bytes() for p in run.glob("scenes/*/keyframe.png")} == before


def test_status_with_a_model_the_catalog_does_not_know_is_not_a_traceback(
    workdir: Path,
) -> None:
    """`render` and `estimate` name the unknown model in one line; `status` given the
    same settings died with an InvalidRequest traceback instead of showing the run."""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    (workdir / "model.yaml").write_text(SMALL + "preset: byteplus\nvideo: {model: seedance-9}\n")
    text, err = _refused("status", str(run), "-c", "model.yaml", cwd=workdir)
    assert "inputs not checked: the render refuses them" in text
    # (where it was set in front, as render says it)
    assert err.startswith("error: model.yaml:6: video.model 'seedance-9' is not a known"), err
    st, _ = _status_refused(workdir, run, "-c", "model.yaml")
    assert st["plan"] is not None and not st["inputs"]["checked"]
    assert "video.model 'seedance-9'" in st["inputs"]["why"]


def test_status_names_a_key_the_next_render_needs_and_is_not_set(workdir: Path) -> None:
    """A run whose settings use a paid provider whose key is not set: the next render
    refuses to start (exit 2, naming the variable), and `status`, whose job is to say
    what the next render does, exited 0 with no word of it. It names each such key
    (one line; `missing_keys` in --json), never a key's value, and exits 0 still."""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    keys = ("ANTHROPIC_API_KEY", "ARK_API_KEY", "BYTEPLUS_API_KEY", "GOOGLE_API_KEY")
    base = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_") and k not in keys}

    def mindmovie(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        # a fork of the preloaded CLI process (tests/mindmovie_fork.py), with exactly
        # this environment, as `python -m mindmovie` is run
        return mindmovie_fork.run(
            list(args), env={**base, "COLUMNS": "200", **env}, cwd=workdir, timeout=300
        )

    paid = ("-c", "small.yaml", "--preset", "byteplus")
    proc = mindmovie("status", str(run), *paid)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("key: ")]
    assert lines == [
        "key: ANTHROPIC_API_KEY is not set: anthropic's key, which preset byteplus uses for "
        "planner; the next render refuses to start until it is set",
        "key: ARK_API_KEY (or BYTEPLUS_API_KEY) is not set: byteplus's key, which preset "
        "byteplus uses for keyframes and video; the next render refuses to start until it "
        "is set",
    ], proc.stdout
    proc = mindmovie("status", str(run), *paid, "--json")
    assert proc.returncode == 0, proc.stderr
    missing = json.loads(proc.stdout)["missing_keys"]
    assert [(k["provider"], k["variable"], k["stages"]) for k in missing] == [
        ("anthropic", "ANTHROPIC_API_KEY", ["planner"]),
        ("byteplus", "ARK_API_KEY", ["keyframes", "video"]),
    ]
    # the render it speaks of refuses, naming both variables status named at once (it
    # named the first only: set it, render again, and only then learn of the second)
    proc = mindmovie("render", "examples/goals.yaml", *paid, "--out", str(run), "-q")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("error: 2 keys are not set: ANTHROPIC_API_KEY ("), proc.stderr
    both = (
        "; ARK_API_KEY (or BYTEPLUS_API_KEY) (byteplus's key, needed by preset byteplus for "
        "keyframes and video)"
    )
    assert both in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
    # one not set: named with every stage it is needed for (the first provider made
    # said "needs it for keyframes (Seedream)" of the key video needs too)
    proc = mindmovie(
        "render", "examples/goals.yaml", *paid, "--out", str(run), "-q", ANTHROPIC_API_KEY="x"
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "error: ARK_API_KEY (or BYTEPLUS_API_KEY) is not set; the byteplus preset needs it "
        "for keyframes (Seedream) and video (Seedance)\n"
    ), proc.stderr
    # one key set: only the other is named, and no value is shown
    secret = "sk-ant-do-not-print-0123456789"
    proc = mindmovie("status", str(run), *paid, ANTHROPIC_API_KEY=secret)
    assert proc.returncode == 0, proc.stderr
    assert "ANTHROPIC_API_KEY" not in proc.stdout and "ARK_API_KEY (or" in proc.stdout
    assert secret not in proc.stdout + proc.stderr
    proc = mindmovie("status", str(run), *paid, "--json", ANTHROPIC_API_KEY=secret, ARK_API_KEY="a")
    assert json.loads(proc.stdout)["missing_keys"] == [] and secret not in proc.stdout
    proc = mindmovie("status", str(run), "-c", "small.yaml")  # the local preset: no key
    assert proc.returncode == 0 and "key: " not in proc.stdout, proc.stdout


def test_status_and_providers_say_a_key_with_a_space_inside_is_unusable(
    workdir: Path,
) -> None:
    """A key with a space inside (doctor.key_flaw) is refused by the render before any
    call, but `status` had no word of it (missing_keys empty, no key line) and
    `providers` listed it as "ANTHROPIC_API_KEY set". Both say it is set but unusable,
    and why, never printing the key."""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    keys = ("ANTHROPIC_API_KEY", "ARK_API_KEY", "BYTEPLUS_API_KEY", "GOOGLE_API_KEY")
    base = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_") and k not in keys}
    secret = "sk-ant-do-not-print 0123456789"
    env = {**base, "COLUMNS": "200", "ANTHROPIC_API_KEY": secret, "ARK_API_KEY": "ark-fine"}

    def mindmovie(*args: str) -> subprocess.CompletedProcess[str]:
        # a fork of the preloaded CLI process (tests/mindmovie_fork.py), with this env
        proc = mindmovie_fork.run(list(args), env=env, cwd=workdir, timeout=300)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert "do-not-print" not in proc.stdout + proc.stderr
        return proc

    paid = ("-c", "small.yaml", "--preset", "byteplus")
    text = mindmovie("status", str(run), *paid).stdout
    lines = [ln for ln in text.splitlines() if ln.startswith("key")]
    assert lines == [
        "key: ANTHROPIC_API_KEY is set but unusable (anthropic's key, which preset byteplus "
        f"uses for planner): it {NOT_ONE_WORD} The next render refuses to start until it is "
        "set again"
    ], lines
    missing = json.loads(mindmovie("status", str(run), *paid, "--json").stdout)["missing_keys"]
    assert [(k["variable"], k["state"], k["why"]) for k in missing] == [
        ("ANTHROPIC_API_KEY", "unusable", NOT_ONE_WORD)
    ], missing
    rows = json.loads(mindmovie("providers", "--json").stdout)
    said = {r["provider"]: r["key"] for r in rows}
    assert said["anthropic"] == f"ANTHROPIC_API_KEY set but unusable: it {NOT_ONE_WORD}", said
    assert said["byteplus"] == "ARK_API_KEY or BYTEPLUS_API_KEY set", said
    text = mindmovie("providers").stdout
    assert f"key (anthropic): ANTHROPIC_API_KEY set but unusable: it {NOT_ONE_WORD}" in text


def test_status_after_a_kill_says_stopped_not_running(finished: Path) -> None:
    """A render killed mid-compose leaves its steps "running" in run.db: status said
    "movie: running" though nothing was. It tells a live render (the lock file's pid, a
    mindmovie process) from a dead one."""
    from mindmovie.store import Store

    workdir, run = finished, finished / "run"
    store = Store(run / "run.db")
    try:
        movie = store.get("_movie", "movie")
        assert movie is not None
        store.begin("_movie", "movie", movie.input_key)  # as a kill mid-compose leaves it
    finally:
        store.close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    (run / ".lock").write_text(dead.stdout.strip())
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "movie: stopped before it was finished" in text, text
    # (a recompose stopped: the movie.mp4 there is whole, but not the edited movie)
    said = "the movie.mp4 there is the last one finished, from before the stop"
    assert said in " ".join(text.split()), text
    assert _status(workdir, run)["rendering"] is None
    # the pid of the killed render, taken since by a live process that is no mindmovie
    # (its command line, in /proc, names no mindmovie): still stopped, not running
    other = subprocess.Popen(["sleep", "60"])
    try:
        (run / ".lock").write_text(str(other.pid))
        assert b"mindmovie" not in Path(f"/proc/{other.pid}/cmdline").read_bytes()
        text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
        assert "movie: stopped before it was finished" in text, text
        assert _status(workdir, run)["rendering"] is None
    finally:
        other.kill()
        other.wait()
    # a live render (here a process whose command line names mindmovie, holding the
    # lock file's lock as a render does: a pid alone is not enough, a copied folder's
    # lock names the render of the folder it was copied from) is told apart
    holds = (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
        "print('locked', flush=True); time.sleep(60)"
    )
    live = subprocess.Popen(
        [sys.executable, "-c", holds, str(run / ".lock"), "mindmovie"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert live.stdout is not None and live.stdout.readline().strip() == "locked"
        # a mindmovie process that does not hold this lock (a folder copied while it
        # rendered names it): no render of this run
        named = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "mindmovie"])
        try:
            (run / ".lock").write_text(str(named.pid))
            assert _status(workdir, run)["rendering"] is None
        finally:
            named.kill()
            named.wait()
        (run / ".lock").write_text(str(live.pid))
        text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
        assert "movie: running" in text and f"(pid {live.pid})" in text, text
        assert _status(workdir, run)["rendering"] == live.pid
    finally:
        live.kill()
        live.wait()


#: runs `mindmovie ARGS...` in this interpreter and says, last on stderr, whether numpy
#: was imported
_WHO_IMPORTED = """
import runpy, sys
sys.argv = sys.argv[1:]
code = 0
try:
    runpy.run_module("mindmovie", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(f"exit={code} numpy={'numpy' in sys.modules}", file=sys.stderr)
"""


def test_status_estimate_and_doctor_start_without_numpy(workdir: Path) -> None:
    """Commands that only read and report do not import numpy (the painter's and
    compositor's): ~0.2 s of every such command's start, measured 0.9 -> 0.78 s for a
    status. `plan` draws the storyboard, so it may."""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    for args in (
        ("status", str(run), "-c", "small.yaml"),
        ("estimate", "examples/goals.yaml", "-c", "small.yaml"),
        ("doctor",),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", _WHO_IMPORTED, "mindmovie", *args],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        last = proc.stderr.splitlines()[-1]
        # doctor may fail a check on a bare machine; the import is what is tested
        want = "numpy=False" if args[0] == "doctor" else "exit=0 numpy=False"
        assert last.endswith(want), (args, proc.stderr[-2000:])


def test_an_image_prompt_edit_of_a_photo_scene_redoes_nothing(finished: Path) -> None:
    """A local keyframe made from the goal's photo is that photo fitted to the frame: the
    prompt does not reach a pixel. Its key held the prompt, so after an edited image_prompt
    status said "redo: image_prompt edited" and the render made the same image again (its
    clip and segments were reused only because the bytes came out identical). Now status
    says reuse, and the render leaves the scene's steps as they were. A painted scene's
    edit still redoes its keyframe."""
    workdir, run = finished, finished / "run"
    st = _status(workdir, run)
    rows = {s["scene_id"]: s for s in st["scenes"]}
    photo, painted = "01-health-1", "02-wealth-1"  # examples/goals.yaml: a goal photo, none
    assert rows[photo].get("photo_keyframe") is True and "photo_keyframe" not in rows[painted]
    before = {(s["scene_id"], s["stage"]): s for s in st["steps"]}
    image = (run / "scenes" / photo / "keyframe.png").read_bytes()

    def edit(plan: dict[str, Any]) -> None:
        by_id = {s["id"]: s for s in plan["scenes"]}
        by_id[photo]["image_prompt"] += " A red kite in the sky."
        by_id[painted]["image_prompt"] += " A red kite in the sky."

    _edit_plan(run, edit)
    st = _status(workdir, run)
    rows = {s["scene_id"]: s for s in st["scenes"]}
    assert rows[photo]["next"] == "reuse (image_prompt edited, not used by a photo keyframe)"
    assert rows[photo]["reuse"] == {"keyframe": True, "clip": True}
    assert rows[painted]["next"] == "redo: image_prompt edited"
    text = _cli("status", str(run), "-c", "small.yaml", cwd=workdir)
    assert "redo" not in _line(text, photo) and "redo" in _line(text, painted)

    _render(workdir, run)
    after = _status(workdir, run)
    steps = {(s["scene_id"], s["stage"]): s for s in after["steps"]}
    for stage in ("keyframe", "clip"):
        was, now = before[(photo, stage)], steps[(photo, stage)]
        assert (now["attempts"], now["run_no"]) == (was["attempts"], was["run_no"]), stage
        assert now["input_key"] == was["input_key"]
    assert steps[(painted, "keyframe")]["run_no"] == after["run_no"]
    segments = {
        s["scene_id"]
        for s in after["steps"]
        if s["stage"] == "segment" and s["run_no"] == after["run_no"]
    }
    assert segments and not [sid for sid in segments if photo in sid], segments
    assert (run / "scenes" / photo / "keyframe.png").read_bytes() == image
    nxt = {s["scene_id"]: s["next"] for s in after["scenes"]}
    assert all(n == "reuse" for n in nxt.values()), nxt


def test_a_style_or_reference_photo_edit_of_a_painted_scene_redoes_nothing(
    finished: Path,
) -> None:
    """The offline painter draws from the prompt, seed, size and category alone. Its key
    also held the plan's style, the reference photos and the keyframe options, so a style
    edit in plan.yaml painted every painted keyframe again, byte for byte (their clips
    reused only because the bytes came out the same), status said "redo: style edited"
    for each, and the storyboard marked each keyframe out of date. Now nothing is redone,
    and status and the board say so."""
    workdir, run = finished, finished / "run"
    painted = "02-wealth-1"  # examples/goals.yaml: a goal with no photos of its own
    st = _status(workdir, run)
    before = {(s["scene_id"], s["stage"]): s for s in st["steps"]}
    other = str((workdir / "examples" / "photos" / "garden-dinner.jpg").resolve())

    _edit_plan(run, lambda plan: plan.update(style="oil painting, thick brush strokes"))
    _cli("storyboard", str(run), cwd=workdir)
    assert "keyframe out of date" not in (run / "storyboard.html").read_text()

    def edit(plan: dict[str, Any]) -> None:
        by_id = {s["id"]: s for s in plan["scenes"]}
        by_id[painted]["reference_photos"] = [*by_id[painted].get("reference_photos", []), other]

    _edit_plan(run, edit)
    st = _status(workdir, run)
    rows = {s["scene_id"]: s for s in st["scenes"]}
    assert rows[painted]["reuse"] == {"keyframe": True, "clip": True}, rows[painted]
    assert rows[painted]["next"] == (
        "reuse (style, reference_photos edited, not used by the offline painter)"
    ), rows[painted]

    _render(workdir, run)
    after = _status(workdir, run)
    steps = {(s["scene_id"], s["stage"]): s for s in after["steps"]}
    redone = [
        k
        for k, v in steps.items()
        if k[1] in ("keyframe", "clip") and v["run_no"] == after["run_no"]
    ]
    assert not redone, redone
    for stage in ("keyframe", "clip"):
        was, now = before[(painted, stage)], steps[(painted, stage)]
        assert (now["attempts"], now["run_no"]) == (was["attempts"], was["run_no"]), stage


def test_a_reference_photos_edit_leaves_the_board_current_and_status_says_why(
    finished: Path,
) -> None:
    """A painted keyframe is drawn from its prompt, seed, size and category, a goal-photo
    keyframe from the photo alone: neither from the scene's reference_photos. After an
    edit of them the render rightly redid nothing, but `storyboard` (the record the
    render left) marked the painted scene's keyframe and both scenes' clips "out of
    date; the next render makes it again", and status said a bare "reuse" for both."""
    workdir, run = finished, finished / "run"
    painted, photo = "02-wealth-1", "03-relationships-1"  # examples/goals.yaml
    extra = str((workdir / "examples" / "photos" / "me.jpg").resolve())

    def edit(plan: dict[str, Any]) -> None:
        for sc in plan["scenes"]:
            if sc["id"] in (painted, photo):
                sc["reference_photos"] = [*sc.get("reference_photos", []), extra]

    _edit_plan(run, edit)
    _cli("storyboard", str(run), cwd=workdir)
    page = (run / "storyboard.html").read_text()
    assert "out of date" not in page, [ln for ln in page.splitlines() if "out of date" in ln]
    rows = {s["scene_id"]: s for s in _status(workdir, run)["scenes"]}
    assert rows[painted]["next"] == (
        "reuse (reference_photos edited, not used by the offline painter)"
    ), rows[painted]
    assert rows[photo]["next"] == (
        "reuse (reference_photos edited, not used by a photo keyframe)"
    ), rows[photo]
    # what the painter does use still marks it: the board is not blind to edits
    _edit_plan(run, lambda plan: plan["scenes"][2].update(image_prompt="A red barn."))
    _cli("storyboard", str(run), cwd=workdir)
    assert "keyframe out of date" in (run / "storyboard.html").read_text()


def test_the_board_says_the_movie_s_length_as_the_movie_has_it(finished: Path) -> None:
    """The board's header said '7 scenes · 14 s of scenes': the scenes' seconds, not the
    movie's length (the cards add, the crossfades overlap). It says the length of the
    movie the render made (the compose's timeline), on the render's board and on one
    `storyboard` draws from the run's record; after an edit of a scene's seconds the
    record is not the movie's: the scenes' seconds, or with settings given their movie."""
    from mindmovie.media import probe

    workdir, run = finished, finished / "run"

    def header() -> str:
        page = (run / "storyboard.html").read_text()
        return page.split('<p class="totals">', 1)[1].split(" · estimated", 1)[0]

    seconds = probe(run / "movie.mp4").duration  # 13 s: 1.5 + 7 x 2 + 1.5 - 8 x 0.5
    assert header() == f"7 scenes · movie {seconds:g} s", seconds
    (run / "storyboard.html").unlink()
    _cli("storyboard", str(run), cwd=workdir)
    assert header() == f"7 scenes · movie {seconds:g} s"
    _edit_plan(run, lambda plan: plan["scenes"][0].update(seconds=4))
    _cli("storyboard", str(run), cwd=workdir)
    assert header() == "7 scenes · 16 s of scenes"
    _cli("storyboard", str(run), "-c", "small.yaml", cwd=workdir)
    assert header() == f"7 scenes · movie {seconds + 2:g} s"


def test_the_board_of_an_offline_render_says_which_scenes_are_painted(finished: Path) -> None:
    """The board showed the plan's style above landscapes that do not follow it, and the
    person's photos nowhere, with no word of why; it now says which scenes the painter
    drew and that it uses neither (the render's board and `storyboard`'s alike)."""
    workdir, run = finished, finished / "run"
    line = (
        "offline keyframes: 4 scene(s) without a goal photo (02-wealth-1, 04-career-1, "
        "05-growth-1, 06-lifestyle-1) are painted, a landscape in the goal&#x27;s "
        "colours drawn from words of its image_prompt (the offline planner writes "
        "goals.yaml&#x27;s style into it). The painter does not use reference photos"
    )

    def said() -> str:  # the note's lines, as the page shows them: one paragraph
        return " ".join((run / "storyboard.html").read_text().split())

    assert said().count(line) == 1
    (run / "storyboard.html").unlink()
    _cli("storyboard", str(run), cwd=workdir)
    assert said().count(line) == 1
    # with no style and no reference photos there is nothing unused to speak of

    def bare(plan: dict[str, Any]) -> None:
        plan["style"] = None
        for sc in plan["scenes"]:
            sc["reference_photos"] = []

    _edit_plan(run, bare)
    _cli("storyboard", str(run), cwd=workdir)
    assert "offline keyframes" not in (run / "storyboard.html").read_text()


def test_a_new_plan_row_names_what_changed_as_the_line_under_the_table_does(
    finished: Path,
) -> None:
    """`status RUN` without the render's config (scene_seconds 5, not 2): the line under
    the table said "plan.scene_seconds changed since plan.yaml was made", and each row
    "redo (a new plan: goals.yaml or plan settings changed)", as if it were unknown."""
    workdir, run = finished, finished / "run"
    st = _status(workdir, run, "--preset", "local")
    nxt = {s["next"] for s in st["scenes"]}
    assert nxt == {"redo (a new plan: plan.scene_seconds changed)"}, nxt
    assert st["inputs"]["new_plan_why"].startswith("plan.scene_seconds changed since"), st


def test_status_of_a_run_whose_offline_fresh_was_killed_before_it_went_on(finished: Path) -> None:
    """`render --fresh` offline (no spend question) SIGKILLed once its new run.db is made
    (found by a chaos test: a kill ~0.1 s after its "moved to previous/" line): the run is
    in previous/<time>/ and the new run.db says so (FRESH_META); the next render puts it
    back and reuses every step. status said "error: ... a render --fresh was stopped at
    its spend question ..." and exited 2 with no JSON for --json, as if the next render
    refused the run (exit 2's meaning); offline there is no question."""
    workdir, run = finished, finished / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["MINDMOVIE_KILL_AT"] = "store_opened"
    killed = mindmovie_fork.run(
        ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "--fresh"],
        env=env,
        cwd=workdir,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr
    assert (run / "previous").is_dir() and not (run / "scenes").exists()
    st, _ = status_json(workdir, str(run), "-c", "small.yaml")  # exit 0: not refused
    assert st["refused"] is None, st["refused"]
    said = " ".join(_cli("status", str(run), "-c", "small.yaml", cwd=workdir).split())
    assert "the next render puts it back" in said, said
    assert "spend question" not in said, said  # offline: none was asked
    out = _run("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    assert out.returncode == 0 and "steps run: 0," in out.stdout + out.stderr, out.stderr


_KILLED_IN_FRESH = """
import os, signal, sys
import mindmovie.pipeline as pipeline
from mindmovie.cli import app

at, move, moved = sys.argv[1], pipeline.shutil.move, []


class KillingStore(pipeline.Store):
    def __init__(self, path, *args, **kwargs):
        if at == "store" and not os.path.exists(path):  # the new journal, after the move
            os.kill(os.getpid(), signal.SIGKILL)
        super().__init__(path, *args, **kwargs)


def killing_move(src, dst, *args, **kwargs):
    moved.append(src)
    if at == "move" and len(moved) == 2:  # the run half moved, run.db not yet
        os.kill(os.getpid(), signal.SIGKILL)
    return move(src, dst, *args, **kwargs)


pipeline.Store, pipeline.shutil.move = KillingStore, killing_move
sys.argv = ["mindmovie", *sys.argv[2:]]
app()
"""


@pytest.mark.parametrize("at", ["store", "move"])
def test_a_fresh_killed_as_its_new_run_db_is_made_is_put_back_by_the_next_render(
    finished: Path, at: str
) -> None:
    """`render --fresh` moves the run into previous/<time>/ (run.db last), then makes a new
    run.db holding where it went (FRESH_META, written with the new journal): killed before
    the spend is agreed to, the next render puts the run back (docs/architecture.md). A
    chaos test SIGKILLed it ~0.1 s after its "moved to previous/" line, as that run.db was
    being made (run.db of 0 bytes and a run.db-journal left): no mark, so the next render
    (without --fresh) started a new run and made every keyframe and clip again, the run
    that had them left in previous/ (a paid run's bought again, unasked with --yes), and
    status said "no run here". So too killed midway through the move (`move`: the scenes
    moved, run.db, moved last, not yet), status saying every step is redone. previous/
    <time>/ now holds a mark (FRESH_MOVING) from before the move until the new run.db
    holds FRESH_META."""
    workdir, run = finished, finished / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    args = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q"]
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_IN_FRESH, at, *args, "--fresh"],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -9, killed.stderr
    (aside,) = (run / "previous").iterdir()
    assert any(p.name != ".fresh-moving.json" for p in aside.iterdir()), killed.stderr
    said = " ".join(_run("status", str(run), cwd=workdir).stderr.split())
    assert "the next render puts it back" in said, said  # not "no run here"
    again = _run(*args[:-1], cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert "steps run: 0," in again.stdout + again.stderr, again.stdout + again.stderr
    assert not (run / "previous").exists()


@pytest.mark.parametrize("old_db", ["there", "deleted"])
def test_a_fresh_moving_mark_left_once_the_new_run_began_moves_nothing_back(
    finished: Path, old_db: str
) -> None:
    """The FRESH_MOVING mark of a `render --fresh` is removed once its new run.db holds
    FRESH_META; one left behind (its removal failed) while the new run went on is no move
    under way (`pipeline.moving_fresh`): the next render put the old run's files back into
    the new run wherever the new one had none (its plan.yaml deleted: the old one's taken
    in its place), and `status` refused the run as one to put back. So too for an old run
    whose run.db had been deleted (`deleted`: a damaged one's way out, then --fresh): the
    mark names no run.db, so `previous/<time>/run.db` never exists, and the mark counted
    as a move under way whatever the new run.db held."""
    workdir, run = finished, finished / "run"
    args = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q"]
    if old_db == "deleted":
        (run / "run.db").unlink()
    fresh = _run(*args, "--fresh", cwd=workdir)
    assert fresh.returncode == 0, fresh.stderr
    (aside,) = (run / "previous").iterdir()
    names = sorted(p.name for p in aside.iterdir())
    assert "plan.yaml" in names and ("run.db" in names) == (old_db == "there"), names
    (aside / ".fresh-moving.json").write_text(json.dumps(names), encoding="utf-8")
    old_plan = (aside / "plan.yaml").read_bytes()
    (run / "plan.yaml").unlink()
    said = _run("status", str(run), cwd=workdir)
    assert said.returncode == 0 and "puts it back" not in said.stderr, said.stderr
    again = _run(*args, cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert (aside / "plan.yaml").read_bytes() == old_plan  # still where --fresh put it
