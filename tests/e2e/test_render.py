"""End to end, offline: the README's `mindmovie render examples/goals.yaml`, small and fast.

These run the real CLI in a subprocess (as a person would), then probe the MP4 with the
ffmpeg that imageio-ffmpeg ships and read `status --json`. Tests that start from a
finished render take `finished` (conftest.py): that render, made once per test process.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mindmovie.media import probe, run_ffmpeg
from mindmovie.pipeline import QUIT_AT_ONCE_FREE
from tests import mindmovie_fork
from tests.e2e.project import FPS, SMALL, new_project, status_json
from tests.media import ffmpeg_children, pcm, spectral_peaks


def _cli(
    *args: str, cwd: Path, check: bool = True, timeout: float = 300, fork: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m mindmovie ARGS` in its own process: a fork of one with the libraries
    imported (tests/mindmovie_fork.py), or with `fork=False` a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    if fork:
        proc = mindmovie_fork.run(list(args), env=env, cwd=cwd, timeout=timeout)
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "mindmovie", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    if check and proc.returncode != 0:
        raise AssertionError(f"mindmovie {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return new_project(tmp_path)


def _status(cwd: Path, run: Path) -> dict[str, Any]:
    return status_json(cwd, str(run))[0]


def _ran_last(st: dict[str, Any]) -> set[tuple[str, str]]:
    """(scene, stage) of every step the last render ran (from `status --json`)."""
    return {
        (s["scene_id"], s["stage"])
        for s in st["steps"]
        if s["run_no"] == st["run_no"] and s["attempts"] > 0
    }


def _frame(video: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    png = video.with_name(f"frame-{t:.3f}.png")
    run_ffmpeg(["-ss", f"{t:.4f}", "-i", str(video), "-frames:v", "1", str(png)])
    from PIL import Image

    img = Image.open(png).convert("RGB")
    assert img.size == size
    return np.asarray(img, dtype=np.float32)


def test_render_example_offline(finished: Path) -> None:
    # `finished` is that render: `render examples/goals.yaml -c small.yaml --out run -q`
    # in a fresh interpreter, as the README's command starts it (conftest.py), checked
    # to exit 0 there; this reads what it made
    workdir, run = finished, finished / "run"
    movie = run / "movie.mp4"
    info = probe(movie, count_frames=True)
    assert [s.kind for s in info.streams].count("video") == 1
    assert [s.kind for s in info.streams].count("audio") == 1
    assert info.video is not None and info.video.codec == "h264"
    assert info.audio is not None and info.audio.codec == "aac"
    assert (info.video.width, info.video.height) == (320, 180)
    assert info.video.pix_fmt.startswith("yuv420p")

    st = _status(workdir, run)
    scenes = st["scenes"]
    assert len(scenes) >= 6 and all(s["clip"] == "succeeded" for s in scenes)
    # timeline arithmetic, to the frame: cards + scenes - crossfades
    n_items = len(scenes) + 2
    cf = round(0.5 * FPS)
    expected = round(1.5 * FPS) * 2 + round(2 * FPS) * len(scenes) - (n_items - 1) * cf
    assert info.video_frames == expected
    assert abs(info.duration - expected / FPS) <= 1 / FPS + 0.05

    # mid-crossfade between title card and scene 1: differs from black and from both sides
    t_mid = (round(1.5 * FPS) - cf / 2) / FPS
    before = _frame(movie, t_mid - cf / FPS, (320, 180))
    mid = _frame(movie, t_mid, (320, 180))
    after = _frame(movie, t_mid + cf / FPS + 1 / FPS, (320, 180))
    assert mid.mean() > 20, "mid-crossfade frame is (near) black"
    assert np.abs(mid - before).mean() > 3
    assert np.abs(mid - after).mean() > 3

    # a second render reuses everything and redoes nothing (not even the storyboard)
    board = (run / "storyboard.png").stat().st_mtime_ns
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q", cwd=workdir)
    assert (run / "storyboard.png").stat().st_mtime_ns == board
    st2 = _status(workdir, run)
    last = st2["run_no"]
    assert not [s for s in st2["steps"] if s["run_no"] == last and s["stage"] != "plan"]

    # the status table of a free run: every scene id in full, no job or money columns
    text = _cli("status", str(run), cwd=workdir).stdout
    assert all(s["scene_id"] in text for s in scenes)
    assert "billed" not in text.split("spend:")[0] and " job " not in text


def _succeeded_clips(db: Path) -> int:
    """Clips the store has recorded as done (read-only peek while the render runs)."""
    if not db.exists():
        return 0
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute(
                "SELECT count(*) FROM steps WHERE stage='clip' AND status='succeeded'"
            ).fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return 0
    return int(row[0])


def test_kill_then_resume_keeps_finished_steps(workdir: Path) -> None:
    run = workdir / "run"
    (workdir / "big.yaml").write_text(
        SMALL.replace("320x180", "640x360").replace("scene_seconds: 2", "scene_seconds: 3")
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    # a fork of the process with the libraries imported (a real process: its own pid,
    # killed by a real SIGKILL, -9 as a subprocess's), as the other killed renders are
    proc = mindmovie_fork.start(
        ["render", "examples/goals.yaml", "-c", "big.yaml", "--out", str(run), "-q"],
        env=env,
        cwd=workdir,
        out=workdir / "render.out",
        err=workdir / "render.err",
    )
    try:
        t_end = time.monotonic() + 120
        while time.monotonic() < t_end and _succeeded_clips(run / "run.db") < 1:
            assert proc.poll() is None, "render finished before it could be killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed = _status(workdir, run)
    done_before = {
        (s["scene_id"], s["stage"])
        for s in killed["steps"]
        if s["status"] == "succeeded" and s["stage"] in ("keyframe", "clip")
    }
    assert any(stage == "clip" for _, stage in done_before)
    assert not (run / "movie.mp4").exists()

    _cli("render", "examples/goals.yaml", "-c", "big.yaml", "--out", str(run), "-q", cwd=workdir)
    after = _status(workdir, run)
    by_key = {(s["scene_id"], s["stage"]): s for s in after["steps"]}
    for k in done_before:
        assert by_key[k]["attempts"] == 1, f"{k} was redone"
        assert by_key[k]["run_no"] == killed["run_no"], f"{k} ran again"
    assert (run / "movie.mp4").is_file()
    assert probe(run / "movie.mp4").video is not None
    assert not list(run.rglob(".*.tmp*")), "temp files left behind"
    assert not list(run.rglob(".chunk-*")), "compose chunk folders left behind"


def test_edits_do_not_pile_up_the_compositors_cache(finished: Path) -> None:
    """Only segments were pruned after a compose: each edited affirmation left its
    overlay, each closing or title its card (6 MB at 1080p) and each change of a
    scene's length the whole movie's audio track in compose/, for good (10 edits of
    one affirmation of a 36-scene run left 10 overlays more). What the movie does not
    use is removed, as unused segments are."""
    import yaml

    workdir, run = finished, finished / "run"

    def cached() -> dict[str, int]:
        return {
            d.name: sum(1 for f in d.iterdir() if not f.name.startswith("."))
            for d in (run / "compose").iterdir()
            if d.is_dir()
        }

    first = cached()
    assert first["cards"] == 2 and first["overlays"] > 0 and first["audio"] > 0, first
    plan_path = run / "plan.yaml"
    for take in (1, 2):
        plan = yaml.safe_load(plan_path.read_text())
        plan["scenes"][2]["affirmation"] = f"I am calm and clear, take {take}"
        plan["closing"] = f"Thank you, take {take}"
        plan["scenes"][0]["seconds"] = 2 + take  # a new length: a new audio track
        plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
        _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
             cwd=workdir)  # fmt: skip
        assert cached() == first, take
    assert f"take {take}" in (run / "storyboard.html").read_text()


def test_texts_cut_short_in_many_scenes_are_one_warning(finished: Path) -> None:
    """A text too long for the frame was a warning line per scene, on every render and
    under -q too: 36 lines for 36 scenes with long affirmations (180 at most). It is one
    line naming a few of them and how many more."""
    import yaml

    workdir, run = finished, finished / "run"
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    for i, scene in enumerate(plan["scenes"]):
        scene["affirmation"] = f"I am calm, strong and grateful for today {i} " * 12
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    n = len(plan["scenes"])
    assert n > 4
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir)  # fmt: skip
    said = [ln for ln in proc.stderr.splitlines() if "too long for a 320x180 frame" in ln]
    assert len(said) == 1, proc.stderr
    first = plan["scenes"][0]["id"]
    assert said[0].startswith(f"warning: {first}, "), said
    assert f" and {n - 3} more: their texts are too long" in said[0], said


def test_edit_one_affirmation_redoes_only_that_scene(finished: Path) -> None:
    workdir, run = finished, finished / "run"
    import yaml

    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    target = plan["scenes"][2]["id"]
    plan["scenes"][2]["affirmation"] = "I am calm, clear and completely free"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))

    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q", cwd=workdir)
    assert "I am calm, clear and completely free" in (run / "storyboard.html").read_text()
    st = _status(workdir, run)
    ran = _ran_last(st)
    # no keyframe or clip was redone: an affirmation is an overlay
    assert not [k for k in ran if k[1] in ("keyframe", "clip")]
    segs = sorted(sid for sid, stage in ran if stage == "segment")
    assert segs and all(target in sid for sid in segs), segs
    assert len(segs) <= 3  # its body and its two transitions
    # the replaced versions of those segments are not kept piling up
    in_movie = [s for s in st["steps"] if s["stage"] == "segment"]
    assert len(list((run / "compose" / "segments").glob("*.mp4"))) == len(in_movie)

    # a prompt edit redoes that scene's keyframe and clip, nothing else
    plan = yaml.safe_load(plan_path.read_text())
    other = plan["scenes"][4]["id"]
    plan["scenes"][4]["image_prompt"] += ", golden hour"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q", cwd=workdir)
    st = _status(workdir, run)
    ran = _ran_last(st)
    assert {k for k in ran if k[1] in ("keyframe", "clip")} == {
        (other, "keyframe"),
        (other, "clip"),
    }


def test_a_hashtag_in_a_hand_edited_affirmation_is_said(finished: Path) -> None:
    """`affirmation: I am the #1 coach` typed into plan.yaml is "I am the" to YAML (` #`
    starts a comment): the card showed it with no word of the rest of the line."""
    run = finished / "run"
    plan_path = run / "plan.yaml"
    lines = plan_path.read_text().splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith("  affirmation: ")][1]
    lines[at] = "  affirmation: I am the #1 coach\n"
    plan_path.write_text("".join(lines))
    args = ("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q")
    proc = _cli(*args, cwd=finished)
    assert (
        f"warning: {plan_path}:{at + 1}: scenes[2].affirmation: YAML reads '#1 coach' as a "
        "comment, so this is only 'I am the'; to keep the whole line, quote it: "
        '"I am the #1 coach"\n'
    ) in proc.stderr, proc.stderr


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
def test_an_ffmpeg_that_fails_in_the_compose_is_one_line_exit_1(
    finished: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ffmpeg that failed while composing (here a crossfade's, as one stopped by a run
    folder removed under it) was a traceback ending in the last 15 lines of its log,
    x264's closing statistics: `FFmpegError: ffmpeg failed (1): [libx264 @ 0x...] mb I
    I16..4: ...`. Now one line naming ffmpeg's own reason, exit 1, the clips kept."""
    import imageio_ffmpeg
    import yaml

    workdir, run = finished, finished / "run"
    real = imageio_ffmpeg.get_ffmpeg_exe()
    exe = workdir / "ffmpeg-fails-xfade"
    exe.write_text(
        "#!/bin/sh\n"
        'case "$*" in *xfade*)\n'
        "  echo '[fc#0 @ 0x1] Error while filtering: Cannot allocate memory' >&2\n"
        "  echo '[libx264 @ 0x2] frame I:1     Avg QP:20.00  size: 28443' >&2\n"
        "  echo '[libx264 @ 0x2] mb I  I16..4: 10.9% 50.1% 39.0%' >&2\n"
        "  echo '[libx264 @ 0x2] kb/s:1896.79' >&2\n"
        "  echo 'Conversion failed!' >&2; exit 1;;\n"
        "esac\n"
        f'exec "{real}" "$@"\n'
    )
    exe.chmod(0o755)
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][1]["affirmation"] = "I am calm and free"  # its crossfades are made again
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    clips = {c: c.stat().st_mtime_ns for c in run.glob("scenes/*/clip.mp4")}
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))
    args = ("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q")
    proc = _cli(*args, cwd=workdir, check=False, fork=False)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "libx264" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: the compose failed; every keyframe and clip is kept"), lines
    assert "checks ffmpeg): ffmpeg failed (1): [fc#0 @ 0x1] Error while" in lines[0], lines
    assert "Error while filtering: Cannot allocate memory; Conversion failed!" in lines[0]
    assert clips and {c: c.stat().st_mtime_ns for c in clips} == clips  # kept as they were
    st = _status(workdir, run)
    assert st["movie"]["status"] != "succeeded", st["movie"]
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE")
    _cli(*args, cwd=workdir)  # and the next render composes it
    assert _status(workdir, run)["movie"]["status"] == "succeeded"


def test_bad_goals_is_one_line_exit_2(workdir: Path) -> None:
    bad = workdir / "bad.yaml"
    bad.write_text("title: T\ngoals:\n  - category: health\n    visoin: x\n")
    proc = _cli("render", "bad.yaml", "-c", "small.yaml", cwd=workdir, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad.yaml:4" in proc.stderr and "visoin" in proc.stderr


def test_bad_setting_names_allowed_values(workdir: Path) -> None:
    proc = _cli("render", "examples/goals.yaml", "--aspect", "4:3", cwd=workdir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "16:9" in proc.stderr and "9:16" in proc.stderr
    # a flag, not a file, was wrong: named as it was typed
    assert "command line (--aspect): output.aspect" in proc.stderr
    # a falsy value is still a given value: checked, not dropped
    proc = _cli("render", "examples/goals.yaml", "--fps", "0", cwd=workdir, check=False)
    assert proc.returncode == 2 and "command line (--fps): output.fps" in proc.stderr, proc.stderr
    # contradictory flags are refused before anything runs (no run folder made)
    proc = _cli("render", "examples/goals.yaml", "-q", "-v", cwd=workdir, check=False)
    assert proc.returncode == 2 and "--quiet and --verbose" in proc.stderr, proc.stderr
    assert not (workdir / "outputs").exists()


def test_python_dash_m_and_help(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for cmd, arg in (("render", "GOALS"), ("plan", "GOALS"), ("status", "RUN_DIR")):
        out = _cli(cmd, "--help", cwd=workdir).stdout
        # the argument as the docstrings name it (typer showed the parameter: {goals})
        assert f"mindmovie {cmd} [OPTIONS] {{{arg}}}" in out, out[:300]
        if cmd == "render":  # paragraphs flow: the source's line breaks are not kept
            assert "asked to confirm (every run), unless --yes" in out


@pytest.mark.parametrize("linked", ["scenes", "scenes/02-wealth-1"])
def test_a_scene_folder_linked_to_another_disk_is_rendered_into(
    finished: Path, tmp_path: Path, linked: str
) -> None:
    """scenes/ (or one scene's folder) moved to another disk and left as a symbolic link
    to it: the run was reused, but every keyframe or clip made into it failed its scene
    with "... is not in the subpath of ... OR one path is relative and the other is
    absolute" (the journal's path was taken after resolving the link), at every render.
    The file is made there, journaled under its name in the run, and reused after."""
    run = finished / "run"
    away = tmp_path / "other-disk" / "scenes"
    away.parent.mkdir()
    (run / linked).rename(away)
    (run / linked).symlink_to(away)
    clip = run / "scenes" / "02-wealth-1" / "clip.mp4"
    clip.unlink()
    r = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q",
             cwd=finished, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert clip.is_file() and (run / linked).is_symlink()
    st = _status(finished, run)
    assert _ran_last(st) & {("02-wealth-1", "clip"), ("02-wealth-1", "keyframe")} == {
        ("02-wealth-1", "clip")
    }
    (step,) = [s for s in st["steps"] if (s["scene_id"], s["stage"]) == ("02-wealth-1", "clip")]
    assert step["artifact"] == "scenes/02-wealth-1/clip.mp4"
    r = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run",
             cwd=finished)  # fmt: skip
    assert "steps run: 0, reused: 14" in r.stdout, r.stdout


def test_reference_engine_renders_the_same_timeline(finished: Path) -> None:
    """compose.engine: moviepy (the oracle) is selectable and gives the same frame count."""
    workdir = finished
    cfg = SMALL.replace("quality: draft}", "quality: draft, engine: moviepy}")
    (workdir / "mp.yaml").write_text(cfg)
    run_a, run_b = workdir / "run", workdir / "b"  # run: rendered with small.yaml
    _cli("render", "examples/goals.yaml", "-c", "mp.yaml", "--out", str(run_b), "-q", cwd=workdir)
    a = probe(run_a / "movie.mp4", count_frames=True)
    b = probe(run_b / "movie.mp4", count_frames=True)
    assert a.video_frames == b.video_frames and b.audio is not None
    # and it is the engine that drew it: moviepy makes the movie in one piece, the
    # ffmpeg engine one segment per body and transition
    pieces = {
        run: [s["scene_id"] for s in _status(workdir, run)["steps"] if s["stage"] == "segment"]
        for run in (run_a, run_b)
    }
    assert pieces[run_b] == ["movie"] and not (run_b / "compose" / "segments").exists()
    assert len(pieces[run_a]) > 10 and "movie" not in pieces[run_a]


def _scene_costs(html: Path) -> list[str]:
    import re

    return re.findall(r'<span class="cost">([^<]*)</span>', html.read_text(encoding="utf-8"))


def test_storyboard_command_shows_the_estimates_of_the_render(workdir: Path) -> None:
    """`mindmovie storyboard RUN_DIR` redraws the board with the costs the render showed
    (it has no settings to price with), and "unknown" for a scene edited since."""
    run = workdir / "run"
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         "--until", "keyframes", cwd=workdir)  # fmt: skip
    html = run / "storyboard.html"
    scenes = _status(workdir, run)["scenes"]
    assert _scene_costs(html) == ["free"] * len(scenes)  # the local providers cost nothing
    (run / "storyboard.png").unlink()

    _cli("storyboard", str(run), cwd=workdir)
    assert (run / "storyboard.png").is_file()
    assert _scene_costs(html) == ["free"] * len(scenes)

    import yaml

    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][1]["seconds"] = 3
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    _cli("storyboard", str(run), cwd=workdir)
    costs = _scene_costs(html)
    assert costs[1] == "—" and costs[:1] + costs[2:] == ["free"] * (len(scenes) - 1)


def test_until_keyframes_into_out_says_to_render_again_with_that_out(workdir: Path) -> None:
    """`render --out DIR --until keyframes` said "`render` again to continue": a render
    without --out goes to output_dir/<title>, a new run there (a walkthrough's find:
    planned and painted again, with a paid preset bought again). It names the --out;
    without one, plain `render` again continues."""
    run = workdir / "my review"  # (quoted as a shell takes it)
    argv = ["render", "examples/goals.yaml", "-c", "small.yaml", "--until", "keyframes"]
    said = " ".join(_cli(*argv, "--out", str(run), cwd=workdir).stderr.split())
    assert f"`render` again with --out '{run}' to continue" in said, said
    done = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir)  # fmt: skip
    assert (run / "movie.mp4").is_file(), done.stderr
    assert not {(s, st) for s, st in _ran_last(_status(workdir, run)) if st == "keyframe"}
    said = " ".join(_cli(*argv, cwd=workdir).stderr.split())
    assert "`render` again to continue" in said and "--out" not in said, said


def _players(html: Path) -> dict[str, str]:
    """Each card's clip line: "play <src>" when it plays a clip, else what it says."""
    out: dict[str, str] = {}
    for card in html.read_text(encoding="utf-8").split("<article")[1:]:
        sid = re.search(r'id="scene-([^"]+)"', card)
        video = re.search(r'<video [^>]*src="([^"]+)"', card)
        note = re.search(r'<p class="noclip">([^<]*)</p>', card)
        assert sid is not None and (video or note)
        out[sid.group(1)] = f"play {video.group(1)}" if video else note.group(1)  # type: ignore[union-attr]
    return out


def test_storyboard_does_not_play_a_clip_made_before_an_edit(finished: Path) -> None:
    """`render --until keyframes` after an image prompt was edited makes a new keyframe
    and leaves the old clip on disk: the board played that clip (of the old picture)
    beside the new keyframe, as if it were its clip; `status` said "redo clip". The
    same for `mindmovie storyboard` after a motion prompt was edited."""
    import yaml

    from mindmovie.storyboard import OLD_CLIP

    workdir, run = finished, finished / "run"
    html = run / "storyboard.html"
    ids = [s["scene_id"] for s in _status(workdir, run)["scenes"]]
    every = {sid: f"play scenes/{sid}/clip.mp4" for sid in ids}
    assert _players(html) == every

    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    edited = next(s for s in plan["scenes"] if s["category"] == "wealth")  # painted
    edited["image_prompt"] = "a red balloon over a dark forest at night"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         "--until", "keyframes", cwd=workdir)  # fmt: skip
    assert (run / "scenes" / edited["id"] / "clip.mp4").is_file()  # the old one, still there
    assert _players(html) == {**every, edited["id"]: OLD_CLIP}
    _cli("storyboard", str(run), cwd=workdir)
    assert _players(html) == {**every, edited["id"]: OLD_CLIP}

    plan["scenes"][0]["motion_prompt"] = "a slow pan to the left"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    _cli("storyboard", str(run), cwd=workdir)
    assert _players(html) == {**every, edited["id"]: OLD_CLIP, ids[0]: OLD_CLIP}

    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         cwd=workdir)  # fmt: skip
    assert _players(html) == every


def test_storyboard_with_settings_marks_what_a_render_with_them_makes_again(
    finished: Path,
) -> None:
    """`mindmovie storyboard` compared the files only with what the last render recorded:
    with other settings (another fps: every clip is made again; another size: every
    keyframe and clip) it played every old clip as current. Given the settings
    (--config or an option), it now marks what a render with them makes again, as
    `status` says it; without them it shows the run as it stands."""
    from mindmovie.storyboard import OLD_CLIP, OLD_KEYFRAME

    workdir, run = finished, finished / "run"
    html = run / "storyboard.html"
    ids = [s["scene_id"] for s in _status(workdir, run)["scenes"]]
    every = {sid: f"play scenes/{sid}/clip.mp4" for sid in ids}

    def old_keyframes() -> int:
        cards = html.read_text(encoding="utf-8").split("<article")[1:]
        return len([card for card in cards if OLD_KEYFRAME in card])

    for args in ([], ["-c", "small.yaml"]):  # as it stands; with the render's settings
        _cli("storyboard", str(run), *args, cwd=workdir)
        assert _players(html) == every and old_keyframes() == 0, args
    _cli("storyboard", str(run), "-c", "small.yaml", "--fps", "10", cwd=workdir)
    assert _players(html) == dict.fromkeys(ids, OLD_CLIP) and old_keyframes() == 0
    (workdir / "other.yaml").write_text(SMALL.replace("320x180", "256x144"))
    _cli("storyboard", str(run), "-c", "other.yaml", cwd=workdir)
    # every keyframe is made again at the new size (a goal's photo is cut to the new
    # frame too), and with it every clip: the card says so instead of playing it
    assert _players(html) == dict.fromkeys(ids, OLD_KEYFRAME) and old_keyframes() == len(ids)
    _cli("storyboard", str(run), cwd=workdir)
    assert _players(html) == every and old_keyframes() == 0


def test_storyboard_marks_a_keyframe_made_before_its_prompt_was_edited(finished: Path) -> None:
    """`mindmovie storyboard` after an image prompt was edited showed the old keyframe
    beside the new prompt as if the prompt had made it. The card now says the keyframe
    is out of date, made before an edit (the page, and a band across the sheet's picture); an edit
    that redoes no keyframe (an affirmation, the prompt of a scene shown as its goal's
    photo) says nothing, nor does the board once `render --until keyframes` made it."""
    import yaml
    from PIL import Image

    from mindmovie.storyboard import BACKGROUND, OLD_KEYFRAME, thumb_size, tile_boxes

    workdir, run = finished, finished / "run"
    html = run / "storyboard.html"
    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    edited = next(i for i, s in enumerate(plan["scenes"]) if s["category"] == "wealth")
    plan["scenes"][edited]["image_prompt"] = "a red balloon over a dark forest at night"
    plan["scenes"][0]["image_prompt"] = "a new prompt"  # the goal's photo: not used
    plan["scenes"][-1]["affirmation"] = "I live by the sea"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))

    def flagged() -> list[str]:
        cards = html.read_text(encoding="utf-8").split("<article")[1:]
        return [s["id"] for s, card in zip(plan["scenes"], cards, strict=True)
                if OLD_KEYFRAME in card]  # fmt: skip

    def banded() -> list[str]:
        sheet = Image.open(run / "storyboard.png").convert("RGB")
        with Image.open(run / "scenes" / plan["scenes"][0]["id"] / "keyframe.png") as kf:
            thumb = thumb_size(kf.width / kf.height)
        boxes = tile_boxes(len(plan["scenes"]), thumb)
        return [s["id"] for s, b in zip(plan["scenes"], boxes, strict=True)
                if sheet.getpixel((b.image[0] + 4, b.image[3] - 4)) == BACKGROUND]  # fmt: skip

    _cli("storyboard", str(run), cwd=workdir)
    assert flagged() == banded() == [plan["scenes"][edited]["id"]]
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         "--until", "keyframes", cwd=workdir)  # fmt: skip
    assert flagged() == banded() == []


def test_square_brackets_in_user_text_are_text_not_markup(workdir: Path) -> None:
    """Rich markup in a message or a table cell is the person's text, shown as written:
    '[/bold]' as a key crashed the error printer, '[mine]' vanished from the plan table."""
    bad = workdir / "bad.yaml"
    bad.write_text('title: T\n"[/bold]": x\ngoals:\n  - category: health\n    vision: v\n')
    proc = _cli("render", "bad.yaml", cwd=workdir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "[/bold]" in proc.stderr

    odd = workdir / "odd.yaml"
    odd.write_text(
        "title: Odd [b]title[/b]\ngoals:\n  - category: wealth\n    vision: Saving well\n"
        "    affirmation: I save [mine] every day [/i]\n"
    )
    proc = _cli("plan", "odd.yaml", "--out", str(workdir / "run"), cwd=workdir, check=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "[mine]" in proc.stdout and "[/i]" in proc.stdout and "[b]title[/b]" in proc.stdout


def _disk(folder: Path) -> int:
    """The bytes of the files under `folder`, a file linked twice counted once (du's way)."""
    seen = {(s.st_dev, s.st_ino): s.st_size for p in folder.rglob("*") if p.is_file()
            for s in [p.lstat()]}  # fmt: skip
    return sum(seen.values())


def test_fresh_sets_the_old_run_aside_keeps_no_second_copy_and_status_tells_what_it_holds(
    finished: Path,
) -> None:
    """Three checks of one offline `--fresh` (one render of it, not three):

    It sets the old run aside in previous/<time>/ and never takes other files.

    previous/ keeps no second copy of what the run made again: an offline `--fresh`
    makes the very same keyframes, clips and movie again, and so does an edit undone
    (offline clips are not kept: they are made again): the run set aside held a second
    copy of each, a run's size more on the disk at every --fresh (3.4 MB with
    small.yaml, each time). Each is now the same file as the run's (a hard link), and
    still there, whole, in the old run.

    Status tells what previous/ and kept/ hold: they are never pruned, and status said
    nothing of them (a project rendered for weeks held hundreds of MB there its person
    was never told of). Status says what deleting each frees (the bytes that leaves the
    disk: a file also in scenes/ frees nothing), and a render after previous/ is deleted
    makes nothing again."""
    workdir, run, small = finished, finished / "run", finished / "small.yaml"
    args = ("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q")
    first = (run / "movie.mp4").read_bytes()
    (run / "notes.txt").write_text("mine")
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                "--fresh", cwd=workdir)  # fmt: skip
    (old,) = (run / "previous").iterdir()
    # said with --quiet too: where the old run (its paid work) went
    assert f"the previous run was moved to {old}" in " ".join(proc.stderr.split()), proc.stderr
    assert (old / "movie.mp4").read_bytes() == first and (old / "run.db").is_file()
    assert len(list((old / "scenes").glob("*/clip.mp4"))) >= 6  # paid work is kept
    # the compositor's cache (segments, cards, audio: made again from the kept clips) is
    # not: each --fresh set a third of a run's size aside with it
    assert (run / "compose").is_dir() and not (old / "compose").exists()
    assert (run / "notes.txt").read_text() == "mine" and not (old / "notes.txt").exists()
    st = _status(workdir, run)
    assert st["run_no"] == 1 and all(s["clip"] == "succeeded" for s in st["scenes"])

    # status: what previous/ holds, and what deleting it frees
    held = st["held"]
    shown = " ".join(_cli("status", "run", "-c", "small.yaml", cwd=finished).stdout.split())
    whole = _disk(run)
    # previous/ gone from the run as if deleted: moved out of it (and back below, for the
    # hard-link checks: a move keeps its files' links, as a deletion and a copy do not)
    away = finished / "previous-moved-out"
    (run / "previous").rename(away)
    freed = whole - _disk(run)
    assert held == {"previous": {"bytes": freed, "folders": 1}}
    assert 0 < freed < 1e6  # its run.db, plan, storyboard page: its pictures are the new run's
    assert f"previous/: {freed / 1e3:.0f} KB in 1 folder set aside" in shown, shown
    assert "deleting previous/ frees that disk" in shown
    _cli(*args, cwd=finished)
    st = _status(finished, run)
    assert _ran_last(st) == set() and st["movie"]["file"] == "ok"
    away.rename(run / "previous")

    # no second copy: every clip made again at 3 s, then again at 2 s (the same bytes as
    # those set aside)
    small.write_text(SMALL.replace("scene_seconds: 2", "scene_seconds: 3"))
    _cli(*args, cwd=finished)  # every clip made again, 3 s long
    small.write_text(SMALL)
    _cli(*args, cwd=finished)  # and again at 2 s: the same bytes as those set aside
    (old,) = (run / "previous").iterdir()
    made = [p for p in old.rglob("*") if p.suffix in (".png", ".mp4")]
    assert len(made) >= 14  # 7 keyframes, 7 clips, the movie, the storyboard
    again = [p for p in made if (run / p.relative_to(old)).read_bytes() == p.read_bytes()]
    assert len(again) >= 14
    copies = [p for p in again if not p.samefile(run / p.relative_to(old))]
    assert copies == [], f"{sum(p.stat().st_size for p in copies)} bytes held twice: {copies}"


def test_fresh_with_previous_linked_to_another_disk_sets_the_run_aside_there(
    finished: Path,
) -> None:
    """previous/ a link to a folder on another disk (old runs kept on a bigger one):
    `render --fresh` moved the old run's first entry with os.replace and stopped in a
    traceback, "OSError: [Errno 18] Invalid cross-device link: '.../run/scenes' ->
    '.../run/previous/<time>/scenes'", leaving an empty previous/<time>/ there. The old
    run is moved there (copied, then removed). /dev/shm is the other disk (a tmpfs);
    skipped where there is none, or it is this disk."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(finished).st_dev:
        pytest.skip("no second filesystem (/dev/shm) to link previous/ to")
    away = Path(tempfile.mkdtemp(dir=shm, prefix="mindmovie-test-"))
    try:
        run = finished / "run"
        first = (run / "movie.mp4").read_bytes()
        (run / "previous").symlink_to(away)
        proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q",
                    "--fresh", "--yes", cwd=finished, check=False)  # fmt: skip
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        (old,) = away.iterdir()
        assert (old / "movie.mp4").read_bytes() == first and (old / "run.db").is_file()
        assert len(list((old / "scenes").glob("*/clip.mp4"))) >= 6  # paid work is kept
        assert (run / "previous").is_symlink() and (run / "movie.mp4").is_file()
        assert _status(finished, run)["run_no"] == 1
    finally:
        shutil.rmtree(away, ignore_errors=True)


def test_two_fresh_runs_in_the_same_second_keep_both_old_runs(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """previous/<time>/ has one-second resolution: a second --fresh within that second
    must not put its run.db over the one set aside first (its ledger), nor fail on
    scenes/ already there."""
    from mindmovie.config import load_settings
    from mindmovie.pipeline import Pipeline

    monkeypatch.setattr("mindmovie.pipeline.time.strftime", lambda fmt: "20260101-000000")
    run = workdir / "run"
    pipe = Pipeline(workdir / "examples" / "goals.yaml", load_settings(env={}), out=run)
    for i in range(2):
        (run / "scenes" / "01-x").mkdir(parents=True)
        (run / "scenes" / "01-x" / "clip.mp4").write_text(f"clip {i}")
        (run / "run.db").write_text(f"ledger {i}")
        pipe._set_aside()
        assert not (run / "run.db").exists() and not (run / "scenes").exists()
    kept = sorted((run / "previous").iterdir())
    assert [(d / "run.db").read_text() for d in kept] == ["ledger 0", "ledger 1"]
    assert [(d / "scenes" / "01-x" / "clip.mp4").read_text() for d in kept] == ["clip 0", "clip 1"]


def test_out_must_be_a_run_folder_or_a_new_one(workdir: Path) -> None:
    """`--out .` beside goals.yaml and the photos is refused (a run cleans temp files
    through its folder and --fresh moves its entries): nothing is moved or written."""
    before = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))
    for args in (["--out", "."], ["--out", ".", "--fresh"], ["--out", "examples/goals.yaml"]):
        proc = _cli("plan", "examples/goals.yaml", *args, cwd=workdir, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "--out" in proc.stderr
    # `estimate` refuses them as render does (it priced a render that could not start)
    for out, why in (
        (".", "not a mindmovie run folder"),
        ("examples/goals.yaml", "is a file"),
        ("examples/goals.yaml/run", "cannot create the folder: examples/goals.yaml is a file"),
    ):
        proc = _cli("estimate", "examples/goals.yaml", "--out", out, cwd=workdir, check=False)
        assert proc.returncode == 2 and f"--out {out}: {why}" in proc.stderr, proc.stderr
    assert (
        "not a mindmovie run folder"
        in _cli("plan", "examples/goals.yaml", "--out", ".", cwd=workdir, check=False).stderr
    )
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == before


def test_out_through_a_link_to_nothing_names_the_link(workdir: Path) -> None:
    """`--out` through a symbolic link to a folder that is gone, or to itself, said only
    "cannot create the folder: File exists" (or "Too many levels of symbolic links"),
    and through a file "Not a directory": which link, or file, was not said."""
    (workdir / "gone").symlink_to(workdir / "unmounted")
    (workdir / "loop").symlink_to("loop")
    for out, why in (
        ("gone", f"gone is a link to {workdir / 'unmounted'}, which is missing"),
        ("gone/run", f"gone is a link to {workdir / 'unmounted'}, which is missing"),
        ("loop/run", "loop is a link to loop, which is missing or leads back to it"),
        ("examples/goals.yaml/run", "examples/goals.yaml is a file, not a folder"),
    ):
        proc = _cli("plan", "examples/goals.yaml", "--out", out, cwd=workdir, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert f"--out {out}: cannot create the folder: {why}" in proc.stderr, proc.stderr
    assert not (workdir / "unmounted").exists()


def _error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]


@pytest.mark.parametrize("given", ["output_dir/<title>", "output_dir", "--out"])
def test_estimate_refuses_a_run_folder_that_is_a_link_to_nothing_as_render_does(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """A run folder that is a symbolic link to a folder gone (outputs/<title>, or --out
    DIR), or under one (outputs/): render refuses it ("cannot create the folder: ... is
    a link to X, which is missing or leads back to it", exit 2), and `estimate` (and
    --json) printed the price table of that render with exit 0, and `doctor GOALS` said
    "ready". estimate now says render's line, exit 2, and doctor's goals row fails with
    it; neither creates anything (not the folder the link leads to either)."""
    from mindmovie.config import load_settings
    from mindmovie.doctor import run_checks
    from mindmovie.fsutil import folder_name

    title = "My Year of Becoming"  # examples/goals.yaml's
    assert f"title: {title}\n" in (workdir / "examples" / "goals.yaml").read_text()
    if given == "--out":
        link, out = workdir / "gone", ["--out", "gone"]
    elif given == "output_dir":  # outputs/ itself, the folder on the run folder's way
        link, out = workdir / "outputs", []
    else:
        (workdir / "outputs").mkdir()
        link, out = workdir / "outputs" / folder_name(title), []
    link.symlink_to(workdir / "unmounted")
    before = sorted(p.relative_to(workdir) for p in workdir.rglob("*"))
    said = []
    for flag in ([], ["--json"]):
        proc = _cli("estimate", "examples/goals.yaml", *out, *flag, cwd=workdir, check=False)
        assert proc.returncode == 2 and proc.stdout == "", (proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr, proc.stderr
        said.append(_error_lines(proc))
    assert sorted(p.relative_to(workdir) for p in workdir.rglob("*")) == before
    assert not (workdir / "unmounted").exists() and link.is_symlink()
    render = _cli("render", "examples/goals.yaml", *out, "-y", cwd=workdir, check=False)
    assert render.returncode == 2, render.stderr
    (line,) = _error_lines(render)
    shown = link.relative_to(workdir)
    assert f"cannot create the folder: {shown} is a link to {workdir / 'unmounted'}, " in line
    assert said == [[line], [line]], (said, line)
    monkeypatch.chdir(workdir)
    checks = run_checks(  # (no MINDMOVIE_* variables, as `_cli` runs it)
        load_settings(env={}), goals=Path("examples/goals.yaml"), out=Path(out[1]) if out else None
    )
    (row,) = [c for c in checks if c.name == "goals"]
    assert row.status == "FAIL" and f"error: {row.detail}" == line, row
    assert not (workdir / "unmounted").exists()


def test_hand_edits_survive_any_number_of_replans(workdir: Path) -> None:
    """Each goals change plans again; every replaced plan.yaml is kept (plan.previous.yaml,
    then plan.previous.1.yaml, ...) and the person is told, also by `plan`."""
    run, goals = workdir / "run", workdir / "examples" / "goals.yaml"
    _cli("plan", "examples/goals.yaml", "--out", str(run), cwd=workdir)
    plan_path = run / "plan.yaml"
    plan_path.write_text(plan_path.read_text().replace("affirmation: ", "affirmation: EDITED ", 1))
    edited = plan_path.read_text()
    for i, vision in enumerate(("A brand new vision", "Another new vision")):
        text = goals.read_text()
        first = next(ln for ln in text.splitlines() if "vision:" in ln)
        goals.write_text(text.replace(first, first.split("vision:")[0] + f"vision: {vision}", 1))
        proc = _cli("plan", "examples/goals.yaml", "--out", str(run), cwd=workdir)
        assert "planning again" in proc.stderr and "plan.previous.yaml" in proc.stderr
        if i == 0:
            assert (run / "plan.previous.yaml").read_text() == edited
    assert (run / "plan.previous.1.yaml").read_text() == edited
    assert "EDITED" not in (run / "plan.previous.yaml").read_text()
    assert "EDITED" not in plan_path.read_text()


def test_an_edit_undone_and_done_again_keeps_each_replaced_plan_once(workdir: Path) -> None:
    """A goal's vision edited, undone, edited again (six `plan`s, two plans in turn): each
    new plan moved the last plan.previous.yaml to a new plan.previous.N.yaml, copies of
    the same two plans piling up for as long as the project lives. Each plan is kept once
    as plan.previous.N.yaml (and the one just replaced is still plan.previous.yaml)."""
    run, goals = workdir / "run", workdir / "examples" / "goals.yaml"
    first = goals.read_text()
    line = next(ln for ln in first.splitlines() if "vision:" in ln)
    second = first.replace(line, line.split("vision:")[0] + "vision: A brand new vision", 1)
    for text in (first, second) * 3:
        goals.write_text(text)
        _cli("plan", "examples/goals.yaml", "--out", "run", cwd=workdir)
    kept = sorted(p.name for p in run.glob("plan.previous*.yaml"))
    texts = [(run / name).read_text() for name in kept]
    # .1 (the first plan), .2 (the second), and .yaml: the one just replaced, the first
    assert kept == ["plan.previous.1.yaml", "plan.previous.2.yaml", "plan.previous.yaml"]
    assert len(set(texts)) == 2 and texts[0] == texts[2]
    assert (run / "plan.previous.yaml").read_text() != (run / "plan.yaml").read_text()
    assert "A brand new vision" not in (run / "plan.previous.yaml").read_text()


def test_a_hand_edited_plan_is_kept_when_run_db_is_gone(workdir: Path) -> None:
    """A damaged run.db is moved away as its message says; the next render starts a new
    journal and plans again: the hand-edited plan.yaml must be kept, not written over."""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    plan_path = run / "plan.yaml"
    plan_path.write_text(plan_path.read_text().replace("affirmation: ", "affirmation: EDITED ", 1))
    edited = plan_path.read_text()
    (run / "run.db").unlink()
    proc = _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    assert (run / "plan.previous.yaml").read_text() == edited
    assert "planning again" in proc.stderr and "plan.previous.yaml" in proc.stderr, proc.stderr


def test_a_replan_says_what_changed_goals_or_plan_settings(workdir: Path) -> None:
    """A new plan.yaml sets the person's edits aside: the warning must name the cause. A
    plan setting is not 'goals changed' (goals.yaml was not touched)."""
    run, goals = workdir / "run", workdir / "examples" / "goals.yaml"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    (workdir / "longer.yaml").write_text(SMALL.replace("scene_seconds: 2", "scene_seconds: 3"))
    proc = _cli("plan", "examples/goals.yaml", "-c", "longer.yaml", "--out", str(run),
                cwd=workdir)  # fmt: skip
    # the warnings (the note on painted scenes names goals.yaml's person.photos)
    warned = "\n".join(ln for ln in proc.stderr.splitlines() if ln.startswith("warning:"))
    assert "planning again" in warned and "goals" not in warned, proc.stderr
    assert "plan.scene_seconds changed" in proc.stderr, proc.stderr
    goals.write_text(goals.read_text().replace("money working for me", "money that works"))
    proc = _cli("plan", "examples/goals.yaml", "-c", "longer.yaml", "--out", str(run),
                cwd=workdir)  # fmt: skip
    assert "goals.yaml changed since the last plan: planning again" in proc.stderr, proc.stderr
    # the title is shown, not planned: plan.yaml takes it and keeps its scenes, and the
    # notes the person wrote in it (it used to be dumped again without them)
    plan_path = run / "plan.yaml"
    plan_path.write_text(
        "# my notes\n" + plan_path.read_text().replace("\nscenes:", "\nscenes:  # mine", 1)
    )
    goals.write_text(goals.read_text().replace("title: My Year of Becoming", "title: My Year"))
    proc = _cli("plan", "examples/goals.yaml", "-c", "longer.yaml", "--out", str(run),
                cwd=workdir)  # fmt: skip
    assert "planning again" not in proc.stderr, proc.stderr
    assert "plan.yaml takes goals.yaml's new title" in proc.stderr + proc.stdout
    text = plan_path.read_text()
    assert text.startswith("# my notes\n") and "\nscenes:  # mine\n" in text, text[:400]
    assert "\ntitle: My Year\n" in text


def test_music_edited_into_plan_yaml_is_checked_before_any_scene_is_made(workdir: Path) -> None:
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    plan_path = run / "plan.yaml"
    plan_path.write_text(plan_path.read_text() + "music: /nonexistent/song.mp3\n")
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "plan.yaml:" in proc.stderr and "music" in proc.stderr and "not found" in proc.stderr
    assert not list(run.glob("scenes/*/keyframe.png"))


def test_a_category_edit_repaints_that_scenes_keyframe(finished: Path) -> None:
    """The offline painter's palette follows the scene's category: editing it in plan.yaml
    redoes that keyframe (it was reused, stale) and nothing else."""
    workdir, run = finished, finished / "run"
    import yaml

    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    target = next(sc for sc in plan["scenes"] if sc["category"] == "wealth")  # painted
    before = (run / "scenes" / target["id"] / "keyframe.png").read_bytes()
    target["category"] = "career"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q", cwd=workdir)
    st = _status(workdir, run)
    ran = {k for k in _ran_last(st) if k[1] in ("keyframe", "clip")}
    assert ran == {(target["id"], "keyframe"), (target["id"], "clip")}
    assert (run / "scenes" / target["id"] / "keyframe.png").read_bytes() != before


def test_a_very_short_scene_says_which_crossfades_it_shortens(finished: Path) -> None:
    """Only the two crossfades that touch a 0.5 s scene are shortened (they were all
    clamped for the whole movie), and the warning names them."""
    workdir, run = finished, finished / "run"  # its plan.yaml edited, then rendered
    import yaml

    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][3]["seconds"] = 0.5
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir)  # fmt: skip
    ids = [sc["id"] for sc in plan["scenes"]]  # as plan.yaml names them
    (line,) = [ln for ln in proc.stderr.splitlines() if "shortened" in ln]
    assert f"{ids[3]} lasts only 0.5 s: crossfades {ids[2]}>{ids[3]} and {ids[3]}>{ids[4]}" in line
    assert "from 0.5 s to 0.25 s" in line and "set its seconds in plan.yaml to at least 1 s" in line


def test_an_affirmation_too_long_for_the_frame_says_it_is_cut(finished: Path) -> None:
    """Text that does not fit even at the smallest size ends in an ellipsis on screen;
    an affirmation lengthened in plan.yaml was cut so without a word."""
    workdir, run = finished, finished / "run"  # its plan.yaml edited, then rendered
    import yaml

    plan_path = run / "plan.yaml"
    plan = yaml.safe_load(plan_path.read_text())
    plan["scenes"][2]["affirmation"] = "I run three mornings a week and " * 12 + "rest"
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False))
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir)  # fmt: skip
    cut = [ln for ln in proc.stderr.splitlines() if "shown cut short" in ln]
    assert len(cut) == 1 and f"warning: {plan['scenes'][2]['id']}: " in cut[0], proc.stderr


def _top_level_boxes(path: Path) -> list[str]:
    import struct

    boxes, data, at = [], path.read_bytes(), 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        boxes.append(kind.decode("ascii", "replace"))
        if size < 8:
            break
        at += size
    return boxes


def test_default_output_folder_resume_and_faststart(workdir: Path) -> None:
    """Without --out the movie goes to outputs/<slug of the title>/ and the same command
    resumes there; the file starts with its index (+faststart) so players start at once."""
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "-q", cwd=workdir)
    run = workdir / "outputs" / "my-year-of-becoming"
    boxes = _top_level_boxes(run / "movie.mp4")
    assert boxes.index("moov") < boxes.index("mdat"), boxes
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "-q", cwd=workdir)
    st = _status(workdir, run)
    assert st["run_no"] == 2 and not [
        s for s in st["steps"] if s["run_no"] == 2 and s["attempts"] > 0
    ]


def test_a_goal_number_past_the_goals_is_an_error_naming_its_line(workdir: Path) -> None:
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    plan_path = run / "plan.yaml"
    plan_path.write_text(plan_path.read_text().replace("  goal: 1\n", "  goal: 99\n", 1))
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "scenes[1].goal: goal 99: goals.yaml has 6 goal(s)" in proc.stderr
    line = next(i for i, ln in enumerate(plan_path.read_text().splitlines(), 1) if "goal: 99" in ln)
    assert f"plan.yaml:{line}:" in proc.stderr


def test_reference_photos_that_are_nowhere_are_an_error_not_a_painted_scene(
    workdir: Path,
) -> None:
    """plan.yaml keeps each scene's photos as full paths. One that names no file (edited
    by hand, or its folder moved without goals.yaml) must not silently become a painted
    scene. (A whole project folder moved is found again: test_status.py.)"""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    plan_path = run / "plan.yaml"
    real = str(workdir / "examples" / "photos" / "coastal-run.jpg")
    old = str(workdir / "elsewhere" / "coastal-run-2.jpg")
    plan_path.write_text(plan_path.read_text().replace(real, old))
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    line = next(i for i, ln in enumerate(plan_path.read_text().splitlines(), 1) if old in ln)
    assert f"plan.yaml:{line}: scenes[1].reference_photos[1]: photo not found: {old}" in (
        proc.stderr
    )
    assert not list(run.glob("scenes/*/keyframe.png"))


def test_a_reference_photo_edited_to_a_folder_is_an_error_naming_its_line(workdir: Path) -> None:
    """`reference_photos: ['']` (or a folder's path) in plan.yaml: the render hashed the
    folder while it looked at what it could reuse, before `check_plan`, and ended in an
    IsADirectoryError traceback."""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    plan_path = run / "plan.yaml"
    real = str(workdir / "examples" / "photos" / "coastal-run.jpg")
    folder = str(workdir / "examples" / "photos")
    plan_path.write_text(plan_path.read_text().replace(real, folder, 1))
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
                cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    line = next(
        i
        for i, ln in enumerate(plan_path.read_text().splitlines(), 1)
        if ln.strip() == f"- {folder}"
    )
    assert f"plan.yaml:{line}: scenes[1].reference_photos[1]: photo is not a file: {folder}" in (
        proc.stderr
    )
    assert not list(run.glob("scenes/*/keyframe.png"))


def test_plan_alone_writes_a_storyboard_to_read_before_any_picture(workdir: Path) -> None:
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    page = (run / "storyboard.html").read_text(encoding="utf-8")
    scenes = yaml_scenes(run / "plan.yaml")
    assert all(sc["id"] in page and sc["affirmation"] in page for sc in scenes)
    assert page.count("no keyframe yet") == len(scenes) and (run / "storyboard.png").is_file()


def yaml_scenes(path: Path) -> list[dict[str, Any]]:
    import yaml

    scenes: list[dict[str, Any]] = yaml.safe_load(path.read_text())["scenes"]
    return scenes


def test_a_run_folder_left_by_a_killed_fresh_or_with_dotfiles_is_still_usable(
    workdir: Path,
) -> None:
    """A --fresh killed after run.db moved leaves only the run's own entries; a new folder
    may hold a system's .DS_Store: neither is someone else's folder."""
    run = workdir / "run"
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), cwd=workdir)
    aside = run / "previous" / "x"
    aside.mkdir(parents=True)
    (run / "run.db").rename(aside / "run.db")  # what a kill midway through --fresh leaves
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "--fresh",
         cwd=workdir)  # fmt: skip
    assert (run / "run.db").is_file()
    mac = workdir / "mac"
    mac.mkdir()
    (mac / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    _cli("plan", "examples/goals.yaml", "-c", "small.yaml", "--out", str(mac), cwd=workdir)
    assert (mac / "plan.yaml").is_file()


def test_plan_music_with_a_tilde_is_the_same_file_for_the_check_and_the_compose(
    finished: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`music: ~/song.m4a` in plan.yaml is the person's home's song to the check and to
    the compose alike, and it is the movie's sound (a movie without music has sound too:
    the built-in bed; so the song's own tone is listened for)."""
    workdir, run = finished, finished / "run"  # its plan.yaml edited, then rendered
    home = workdir / "home"
    home.mkdir()
    # 1000 Hz: between B5 and C6, a pitch the bed's equal-tempered chords never play
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=1000:d=2", str(home / "song.m4a")])
    monkeypatch.setenv("HOME", str(home))
    plan_path = run / "plan.yaml"
    plan_path.write_text(plan_path.read_text() + "music: ~/song.m4a\n")
    _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), "-q",
         cwd=workdir)  # fmt: skip
    assert probe(run / "movie.mp4").audio is not None
    peak = spectral_peaks(pcm(run / "movie.mp4")[0], 1)
    assert peak == [pytest.approx(1000, abs=3)], peak


@pytest.mark.parametrize("engine", ["ffmpeg", "moviepy"])
def test_music_that_is_all_silence_is_warned_about_once(workdir: Path, engine: str) -> None:
    """A `music:` file of digital silence (an mp3 of anullsrc) made a silent movie without
    a word. The render still makes the movie, and says once, on stderr in a pipe, that
    its music is silent, naming the file; both engines (their audio pass is shared)."""
    song = workdir / "examples" / "silent.mp3"
    run_ffmpeg(["-f", "lavfi", "-i", "anullsrc=r=44100:cl=stereo", "-t", "5",
                "-c:a", "libmp3lame", str(song)])  # fmt: skip
    goals = workdir / "examples" / "goals.yaml"
    goals.write_text(goals.read_text() + "\nmusic: silent.mp3\n")
    small = SMALL.replace("quality: draft}", f"quality: draft, engine: {engine}}}")
    (workdir / "small.yaml").write_text(small)
    run = workdir / "run"
    proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(run),
                "-q", cwd=workdir)  # fmt: skip
    said = [ln for ln in proc.stderr.splitlines() if "music is silent" in ln]
    assert len(said) == 1 and str(song) in said[0], proc.stderr
    assert said[0].startswith("warning: the movie's music is silent"), said
    assert "no sound where the movie plays it" in said[0], said  # (what is measured)
    assert probe(run / "movie.mp4").audio is not None


def test_a_run_folder_that_cannot_be_written_is_one_line(workdir: Path) -> None:
    """The run lock is the first thing written: a folder it cannot be made in (a read-only
    mount, another user's run; here its name is taken by a folder, which is named as
    such: test_damaged_run.py) is exit 2, no traceback."""
    run = workdir / "run"
    (run / ".lock").mkdir(parents=True)
    proc = _cli("plan", "examples/goals.yaml", "--out", str(run), cwd=workdir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "/.lock: is a folder, not the run's lock (a file)" in proc.stderr


def test_a_run_folder_from_output_dir_is_not_called_out(workdir: Path) -> None:
    """Without --out the run folder is output_dir/<title>: a problem with it must not
    name a --out flag the person never gave."""
    (workdir / "outputs" / "my-year-of-becoming").mkdir(parents=True)
    (workdir / "outputs" / "my-year-of-becoming" / "notes.txt").write_text("mine")
    proc = _cli("plan", "examples/goals.yaml", cwd=workdir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "not a mindmovie run folder" in proc.stderr
    assert "error: --out" not in proc.stderr and "output_dir" in proc.stderr


def test_a_run_folder_whose_name_is_not_utf8(workdir: Path) -> None:
    """Linux folder names are bytes; one saved by a Latin-1 system ("Vid\\xe9os") reaches
    Python with surrogates. The compose wrote its concat list strictly as UTF-8 and died
    with a UnicodeEncodeError after every clip was made."""
    run = workdir / os.fsdecode(b"run-vid\xe9os")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "mindmovie", "render", "examples/goals.yaml", "-c", "small.yaml",
         "--out", str(run), "-q"],
        cwd=workdir, capture_output=True, timeout=300, env=env,
    )  # fmt: skip
    stderr = proc.stderr.decode(errors="replace")  # the name may be printed as its bytes
    assert proc.returncode == 0 and "Traceback" not in stderr, stderr
    assert (run / "movie.mp4").is_file()


def test_a_project_folder_whose_name_is_not_utf8_renders_and_resumes(tmp_path: Path) -> None:
    """goals.yaml and its photos in a folder whose name is not UTF-8 ("vid\\xe9os", from
    an old Windows zip): the render died with a UnicodeEncodeError traceback ("surrogates
    not allowed") writing goals.yaml's path into run.db; and plan.yaml, which holds the
    photos' paths as \\uDCE9 escapes, was refused on the next render as "invalid
    character '\\udce9' (not text)". It renders, and the next render reuses every step."""
    project = new_project(tmp_path / os.fsdecode(b"proj-vid\xe9os"))
    run = project / "outputs" / "my-year-of-becoming"
    for _ in range(2):
        proc = _cli("render", "examples/goals.yaml", "-c", "small.yaml", "-q", cwd=project)
        assert "Traceback" not in proc.stderr, proc.stderr
    st = _status(project, run)
    assert st["run_no"] == 2 and not _ran_last(st), st["steps"]
    assert (run / "movie.mp4").is_file()


def test_two_goals_files_whose_titles_slug_alike_say_they_share_the_folder(
    workdir: Path,
) -> None:
    """`title: Run!` and `title: run?` in two goals files with the same goals (a copy,
    retitled) both slug to outputs/run/: the second render kept the plan, took its
    title and replaced the first's movie.mp4, saying only "plan.yaml takes goals.yaml's
    new title". It says the folder was last rendered from the other goals.yaml, as when
    the goals differ."""
    text = (workdir / "examples" / "goals.yaml").read_text()
    for name, title in (("a.yaml", "Run!"), ("b.yaml", "run?")):
        (workdir / "examples" / name).write_text(
            text.replace("title: My Year of Becoming", f"title: '{title}'")
        )
    _cli("render", "examples/a.yaml", "-c", "small.yaml", "-q", cwd=workdir)
    r = _cli("render", "examples/b.yaml", "-c", "small.yaml", "-q", cwd=workdir)
    said = " ".join(r.stderr.split())
    assert "plan.yaml takes goals.yaml's new title" in said, said
    assert (
        f"outputs/run was last rendered from another goals.yaml "
        f"({(workdir / 'examples' / 'a.yaml').resolve()}); this render replaces its movie.mp4. "
        "To keep both movies, give this one its own folder with --out"
    ) in said, said
    assert "paid" not in said, said  # (a free run: nothing of it is kept in kept/)


def test_a_path_that_is_not_utf8_is_printed_not_a_traceback(workdir: Path) -> None:
    """In a UTF-8 locale (en_US.UTF-8: stdout is strict) printing such a path on stdout
    was a UnicodeEncodeError traceback: the result line of plan/render, status' title."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["PYTHONIOENCODING"] = "utf-8:strict"  # what a desktop UTF-8 locale gives
    run = workdir / os.fsdecode(b"run-\xe9")
    for args in (["plan", "examples/goals.yaml", "--out", str(run)], ["status", str(run)]):
        proc = subprocess.run(
            [sys.executable, "-m", "mindmovie", *args],
            cwd=workdir, capture_output=True, text=True, timeout=300, env=env,
        )  # fmt: skip
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert "run-\\udce9" in proc.stdout


def test_estimate_with_a_model_the_catalog_does_not_know_is_one_line(workdir: Path) -> None:
    """`render` says which models there are; `estimate` died with a traceback."""
    (workdir / "model.yaml").write_text("video:\n  model: seedance-9\n")
    proc = _cli("estimate", "examples/goals.yaml", "-c", "model.yaml", "--preset", "byteplus",
                cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    # where it was set, as every settings error says it (it named no file nor line)
    assert "model.yaml:2: video.model 'seedance-9' is not a known byteplus video model" in (
        proc.stderr
    )
    assert "seedance-1-5-pro" in proc.stderr
    # a stage option a provider refuses: the same (file and line of the option)
    (workdir / "opts.yaml").write_text("keyframes:\n  options:\n    watermark: maybe\n")
    proc = _cli("estimate", "examples/goals.yaml", "-c", "opts.yaml", "--preset", "byteplus",
                cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "error: opts.yaml:3: keyframes.options.watermark: 'maybe' is not allowed" in (
        proc.stderr
    )


def test_options_for_a_local_provider_are_said_to_be_ignored(workdir: Path) -> None:
    """Remote providers refuse options they do not know; the local ones take none, and
    said nothing about them."""
    (workdir / "opts.yaml").write_text(SMALL + "keyframes: {options: {quality: hd}}\n")
    proc = _cli("plan", "examples/goals.yaml", "-c", "opts.yaml", "--out", "run", cwd=workdir)
    assert "keyframes.options (quality): the local keyframes provider takes no options" in (
        proc.stderr
    ), proc.stderr


def test_result_paths_in_a_pipe_are_whole_lines_not_wrapped(workdir: Path) -> None:
    """In a pipe rich wraps at 80 columns: a long run folder's result line was cut in
    the middle of the path ("plan.ya" / "ml"), so a script could not read it back."""
    run = workdir / ("a-rather-long-folder-name-for-this-movie-" * 2) / "run"
    env_cols = {"COLUMNS": "80"}
    proc = subprocess.run(
        [sys.executable, "-m", "mindmovie", "render", "examples/goals.yaml", "-c", "small.yaml",
         "--out", str(run), "--until", "plan"],
        cwd=workdir, capture_output=True, text=True, timeout=300,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")},
             **env_cols},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert f"stopped after plan: {run}" in lines, proc.stdout
    # (not "steps run: 0, reused: 0": no keyframe or clip step is run, and the plan was)
    assert f"plan: {run / 'plan.yaml'}" in lines and "steps run" not in proc.stdout, proc.stdout
    proc = _cli("storyboard", str(run), cwd=workdir)
    assert f"storyboard: {run / 'storyboard.png'}" in proc.stdout.splitlines(), proc.stdout
    # status names the run folder on a line of its own (it was the table's title, which
    # wraps to the table's width: cut in two in a pipe once the table got narrower)
    proc = subprocess.run(
        [sys.executable, "-m", "mindmovie", "status", str(run), "-c", "small.yaml"],
        cwd=workdir, capture_output=True, text=True, timeout=300,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")},
             **env_cols},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert str(run) in proc.stdout.splitlines(), proc.stdout


def test_render_with_a_model_the_catalog_does_not_know_is_a_mistake_exit_2(
    workdir: Path,
) -> None:
    """A setting naming an unknown model is a mistake to fix, found before anything
    runs: `estimate` said so with exit 2, `render` and `plan` with exit 1 (a failure)."""
    (workdir / "model.yaml").write_text("video:\n  model: seedance-9\n")
    for cmd in ("render", "plan"):
        proc = _cli(cmd, "examples/goals.yaml", "-c", "model.yaml", "--preset", "byteplus",
                    cwd=workdir, check=False)  # fmt: skip
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert "error: model.yaml:2: video.model 'seedance-9' is not a known byteplus" in (
            proc.stderr
        )


def test_a_tiny_photo_is_warned_about_in_plan_and_quiet_render(workdir: Path) -> None:
    """The warning reaches the person with --quiet (as other warnings do), once per photo
    per command, and the render still makes the movie with the photo."""
    from PIL import Image

    Image.new("RGB", (64, 48), (200, 120, 60)).save(workdir / "examples/photos/coastal-run.jpg")
    run = workdir / "run"
    said = "warning: photo photos/coastal-run.jpg (01-health-1) is 64x48 pixels"
    for args in (["plan"], ["render", "-q"]):
        proc = _cli(
            args[0], "examples/goals.yaml", "-c", "small.yaml", "--out", str(run), *args[1:],
            cwd=workdir,
        )  # fmt: skip
        assert proc.stderr.count(said) == 1, proc.stderr
        assert "enlarged 5.0x to fill the 320x180 frame: it will look blurry" in proc.stderr
        assert proc.stderr.count("will look blurry") == 1, proc.stderr
    assert (run / "movie.mp4").is_file()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_second_signal_ends_a_render_stuck_in_a_blocking_read(
    workdir: Path, signame: str
) -> None:
    """The render's thread blocked in a read that never returns (a named pipe): the
    first SIGTERM or Ctrl-C asks for the graceful stop, which cannot run while the loop
    is blocked; the second must end the process at once, as the first message
    promises. Both were queued for the loop and never seen: the process waited on for
    good, and only SIGKILL ended it."""
    signum = getattr(signal, signame)
    proc, _ = _held_render(workdir, "plan", "-q")
    try:
        time.sleep(0.3)  # into the blocking open() itself
        proc.send_signal(signum)
        time.sleep(0.5)
        assert proc.poll() is None  # the graceful stop waits for the loop
        assert proc.stderr is not None
        said = proc.stderr.readline() + proc.stderr.readline()  # said within ~2 s
        assert proc.poll() is None
        proc.send_signal(signum)
        rc = proc.wait(timeout=10)
    finally:
        proc.kill()  # a no-op once it ended
    assert rc == 128 + signum
    again = "Press Ctrl-C again" if signame == "SIGINT" else "Send it again"
    assert " ".join(said.split()) == (
        "warning: cannot stop gracefully: the render is blocked in a call that does not "
        f"return. {again} to quit at once."
    )
    assert _cli("status", "run", "--json", cwd=workdir).returncode == 0


def test_plan_and_render_say_once_what_the_offline_painter_leaves_unused(workdir: Path) -> None:
    """examples/goals.yaml has a style and the person's photo, which every scene of a goal
    without photos takes as its reference photos: offline, those scenes are painted
    landscapes that use neither, and nothing said so (a movie "of me" showed no me).
    In a pipe it was one line of ~420 characters; its lines are short (a log's too, after
    the stamp), and say all of it."""
    note = (
        "offline keyframes: 4 scene(s) without a goal photo (02-wealth-1, 04-career-1, "
        "05-growth-1, 06-lifestyle-1) are painted, a landscape in the goal's colours drawn "
        "from words of its image_prompt (the offline planner writes goals.yaml's style into "
        "it). The "
        "painter does not use reference photos (goals.yaml's person.photos, plan.yaml's "
        "reference_photos): only a paid keyframe model uses them (--preset byteplus or "
        "google). To show your own photo in a scene offline, give its goal `photos:`."
    )
    run = workdir / "run"
    args = ("examples/goals.yaml", "-c", "small.yaml", "--out", str(run))
    planned = _cli("plan", *args, cwd=workdir)
    assert "warning" not in planned.stderr, planned.stderr
    rendered = _cli("render", *args, cwd=workdir)
    for said in (planned.stderr, rendered.stderr):
        assert said.count("offline keyframes:") == 1, said
        lines = said.splitlines()
        start = next(i for i, ln in enumerate(lines) if "offline keyframes:" in ln)
        end = next(i for i, ln in enumerate(lines) if "photos:`" in ln)
        shown = lines[start : end + 1]
        assert max(map(len, shown)) <= 100, shown
        assert " ".join(" ".join(shown).split()).endswith(note), said  # after the stamp


#: the small example render the stand-in ffmpeg tests run (and run again once it is fixed)
SMALL_RENDER = ("render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q")


def _render_small_with_ffmpeg(workdir: Path, ffmpeg: Path) -> Any:
    """`render examples/goals.yaml -c small.yaml --out run -q` in `workdir` with
    IMAGEIO_FFMPEG_EXE the stand-in `ffmpeg` (no MINDMOVIE_ setting of this shell)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["IMAGEIO_FFMPEG_EXE"] = str(ffmpeg)
    return mindmovie_fork.run(list(SMALL_RENDER), env=env, cwd=workdir, timeout=300)


def _ffmpeg_whose_encoder(folder: Path, does: str, *, of: str = "segment") -> Path:
    """imageio-ffmpeg's ffmpeg, but a stand-in (a shell script) for the runs given the
    argument `of` (`segment`: the compose's chunk encoders; `rawvideo`: the offline
    clips' encoder), which do `does` (shell) instead."""
    import imageio_ffmpeg

    real = imageio_ffmpeg.get_ffmpeg_exe()
    exe = folder / "ffmpeg-stand-in"
    exe.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do\n'
        f'  [ "$a" = "{of}" ] && {{ {does}; }}\n'
        "done\n"
        f'exec "{real}" "$@"\n'
    )
    exe.chmod(0o755)
    return exe


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
def test_an_ffmpeg_failing_the_compose_is_one_error_line_and_the_next_render_composes(
    workdir: Path,
) -> None:
    """ffmpeg failing in the compose (one without a filter the movie needs, a song that
    no longer decodes, a crash) ended the render with a traceback of ~150 lines and
    exit 1, after every keyframe and clip was made, without saying those are kept. It
    is one error line (exit 1) with ffmpeg's reason; the next render only composes."""
    failing = _ffmpeg_whose_encoder(
        workdir, 'echo "Error initializing filtergraph: no such filter" >&2; exit 1'
    )
    r = _render_small_with_ffmpeg(workdir, failing)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    said = " ".join(r.stderr.split())
    assert said.startswith("error: the compose failed"), said
    assert "Error initializing filtergraph: no such filter" in said, said
    assert "kept" in said, said
    assert not (workdir / "run" / "movie.mp4").exists()
    _cli(*SMALL_RENDER, cwd=workdir)
    st = _status(workdir, workdir / "run")
    assert {stage for _, stage in _ran_last(st)} <= {"segment", "movie"}, _ran_last(st)
    assert (workdir / "run" / "movie.mp4").is_file()


def _cli_limited(
    cwd: Path, limit: int, *args: str, rlimit: str = "RLIMIT_FSIZE"
) -> subprocess.CompletedProcess[str]:
    """`python -m mindmovie ARGS` in a fresh interpreter whose `rlimit` (by default the
    file size limit, `ulimit -f`, in bytes) is `limit`; its ffmpeg processes inherit it."""
    import resource

    which = getattr(resource, rlimit)
    hard = resource.getrlimit(which)[1]

    def limited() -> None:
        resource.setrlimit(which, (limit, hard))

    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    return subprocess.run(
        [sys.executable, "-m", "mindmovie", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        preexec_fn=limited,  # (before any thread of the child: only setrlimit)
    )


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no file size limit here")
@pytest.mark.parametrize("writer", ["ffmpeg", "python", "scenes"])
def test_the_file_size_limit_met_in_the_compose_is_one_line_naming_it(
    finished: Path, writer: str
) -> None:
    """A file that reaches the file size limit (`ulimit -f`, a service's LimitFSIZE)
    kills the ffmpeg writing it with SIGXFSZ, and fails a write of mindmovie's own with
    EFBIG. The first said "the compose failed ... (`mindmovie doctor` checks ffmpeg):
    ffmpeg failed (-25): [mov,mp4,...] Auto-inserting h264_mp4toannexb bitstream
    filter; ...", the last lines its log had, and the second was a traceback ending in
    "OSError: [Errno 27] File too large" (or, met by the scenes' keyframes and clips, a
    line per scene offering `render --skip-failed`, which the limit stops as well).
    Either is one line naming the limit, exit 1, no movie (nor a part of one) left; the
    next render makes the rest, reusing what was made."""
    workdir, run = finished, finished / "run"
    movie = run / "movie.mp4"
    config = "small.yaml"
    if writer == "ffmpeg":
        # every segment, card and track is cached: the final mux writes the one big file
        limit = movie.stat().st_size * 3 // 4
        movie.unlink()
    elif writer == "python":
        # a title card's raw frame (320 x 180 x 3 bytes), drawn by mindmovie, is over it
        limit = 150_000
        shutil.rmtree(run / "compose")
        movie.unlink()
    else:
        # the offline keyframes made again at 480x270: 230-290 kB each, over it (and
        # run.db, ~80 kB, well under it). (640x360 and 300 kB: ~1 s more of CPU, for
        # the next render's clips and compose; 1280x720 and 1 MB: ~5 s more)
        config = "mid.yaml"
        (workdir / config).write_text(SMALL.replace("320x180", "480x270"))
        limit = 150_000
    args = ("render", "examples/goals.yaml", "-c", config, "--out", str(run), "-q")
    before = movie.stat().st_mtime_ns if movie.exists() else None  # (scenes: the last)
    r = _cli_limited(workdir, limit, *args)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "file size limit" in lines[0] and "ulimit -f" in lines[0], lines
    assert (movie.stat().st_mtime_ns if movie.exists() else None) == before
    assert [p.name for p in run.iterdir() if "movie" in p.name and p != movie] == []  # no temp
    _cli(*args, cwd=workdir)
    st = _status(workdir, run)
    redone = {"segment", "movie"} | ({"keyframe", "clip"} if writer == "scenes" else set())
    assert {stage for _, stage in _ran_last(st)} <= redone, _ran_last(st)
    assert movie.is_file()


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux's limits")
def test_the_open_files_limit_met_is_one_line_naming_it(workdir: Path) -> None:
    """A render with few files allowed open (`ulimit -n 16`) failed each scene with
    "[Errno 24] Too many open files" (or "keyframe unreadable: ... Too many open
    files"), offering `render --skip-failed`, which the limit stopped as well, or
    ended in a traceback (the storyboard's module could not be opened). It is one line
    naming the limit, exit 1; the next render, with the limit raised, makes the movie."""
    r = _cli_limited(workdir, 16, *SMALL_RENDER, rlimit="RLIMIT_NOFILE")
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: too many files open"), lines
    assert "may open 16 at once (`ulimit -n`" in lines[0], lines
    _cli(*SMALL_RENDER, cwd=workdir)
    assert (workdir / "run" / "movie.mp4").is_file()


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
def test_the_process_limit_met_by_the_clips_encoder_is_one_line_naming_it(
    workdir: Path,
) -> None:
    """The offline clips' ffmpeg, started under a low process limit (`ulimit -u`, a
    container's pids limit), fails to start its threads; each scene's failure was that
    ffmpeg's log (here its line as seen under `ulimit -u 20`) and the render offered
    `render --skip-failed`, which the limit stopped as well. It is one line naming the
    limit, exit 1; the next render makes the movie."""
    failing = _ffmpeg_whose_encoder(
        workdir,
        "echo '[in#0/rawvideo @ 0x1] pthread_create() failed: Resource temporarily "
        "unavailable' >&2; exit 245",
        of="rawvideo",
    )
    r = _render_small_with_ffmpeg(workdir, failing)
    assert r.returncode == 1, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: no more processes or threads could be started"), lines
    assert ": `ulimit -u`" in lines[0] and "skip-failed" not in lines[0], lines
    _cli(*SMALL_RENDER, cwd=workdir)
    assert (workdir / "run" / "movie.mp4").is_file()


def _sigterm_once_started(
    workdir: Path,
    args: list[str],
    ffmpeg: Path,
    pidfile: Path,
    signals: tuple[signal.Signals, ...] = (signal.SIGTERM,),
) -> tuple[int, float, str]:
    """Render `args` with `ffmpeg` (a stand-in whose slow part writes its pid to
    `pidfile` first), send it `signals` (back to back) once that part runs: (exit code,
    seconds it took to end after the signal, its stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["IMAGEIO_FFMPEG_EXE"] = str(ffmpeg)
    out, err = workdir / "render.out", workdir / "render.err"
    proc = mindmovie_fork.start(args, env=env, cwd=workdir, out=out, err=err)
    try:
        t_end = time.monotonic() + 120
        while not (pidfile.is_file() and pidfile.read_text().strip()):
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < t_end, f"the render never wrote {pidfile.name}"
            time.sleep(0.05)
        time.sleep(0.3)
        t0 = time.monotonic()
        for sig in signals:
            proc.send_signal(sig)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running 20 s after SIGTERM: {err.read_text()}") from None
        took = time.monotonic() - t0
    finally:
        proc.kill()  # a no-op once it ended
    return rc, took, err.read_text()


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
def test_sigterm_to_the_render_alone_stops_the_compose_s_encoders(workdir: Path) -> None:
    """SIGTERM sent to the render alone (`kill PID`, `timeout`, `docker stop`), unlike a
    terminal's Ctrl-C, does not reach the compose's ffmpeg encoders. The render said
    "stopping: ... (up to 5 s)", cancelled its wait for the compose at the grace's end,
    closed run.db under the compose thread and then waited for that thread, that is for
    the encoder in hand to finish its whole chunk (minutes of a long movie; an encoder
    that does not end: for good). The compose now stops at the stop: its encoders are
    killed, the render ends as interrupted (130), and the next render makes the movie
    from the clips already made."""
    encoder = workdir / "encoder.pid"
    # an encoder that takes two minutes (it writes its pid first: checked it was ended)
    slow = _ffmpeg_whose_encoder(workdir, f'echo $$ > "{encoder}"; exec sleep 120')
    args = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"]
    rc, took, said = _sigterm_once_started(workdir, args, slow, encoder)
    assert rc == 130, said
    assert took < 5.0, took  # not the grace's end, nor the encoder's
    assert "interrupted:" in said and "run the same command again" in said, said
    assert "Traceback" not in said, said
    pid = int(encoder.read_text())
    assert not Path(f"/proc/{pid}").exists(), "the compose's encoder was left running"
    st = _status(workdir, workdir / "run")
    clips = [s for s in st["steps"] if s["stage"] == "clip"]
    assert clips and all(s["status"] == "succeeded" for s in clips), clips
    _cli(*args, cwd=workdir)
    st = _status(workdir, workdir / "run")
    assert not {stage for _, stage in _ran_last(st)} & {"keyframe", "clip"}, _ran_last(st)
    assert (workdir / "run" / "movie.mp4").is_file()


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize(
    ("writing", "retitled"),
    [(".{pid}.tmp", False), ("/.chunk-", False), (".{pid}.tmp", True)],
    ids=["a temp file", "a compose chunk", "the title changed"],
)
def test_the_encoders_of_a_render_killed_outright_are_stopped_by_the_next(
    workdir: Path, writing: str, retitled: bool
) -> None:
    """A render killed outright (SIGKILL, the OOM killer: no handler runs) left its
    ffmpeg encoders running as orphans, writing for minutes beside the next render of
    the run, on the cores and (after an OOM kill) the memory it needs, into files its
    clean-up deleted. The next render stops them (known by their output: a temp name of
    the killed render's pid in the run folder, or a compose chunk's folder named with
    it) and says so. Here one encoder is held (SIGSTOP) so that it cannot end on its own
    before the next render starts. The chunk encoders are the compose's long ones (a
    core each, for minutes); their output, `.chunk-*/%03d.mp4`, named no pid, and the
    next render left them running. With the title changed meanwhile (the run folder,
    outputs/<title>, followed to the new title's), the next render's look at the old
    folder wrote its own pid in the lock file before it took the lock, so it knew no
    killed render, and left them running.

    On Linux the chunk encoders now end with the render itself (PR_SET_PDEATHSIG:
    `media.dies_with_this_process`; they ran on for up to a minute when no render came
    next); the next render's stop stays for the encoders that do not (a temp file's
    here) and for other systems."""
    dies_with_it = writing == "/.chunk-" and sys.platform.startswith("linux")
    out, err = workdir / "render.out", workdir / "render.err"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    args = [a for a in SMALL_RENDER if a not in ("--out", "run")] if retitled else SMALL_RENDER
    proc = mindmovie_fork.start(list(args), env=env, cwd=workdir, out=out, err=err)
    held: list[int] = []
    try:
        t_end = time.monotonic() + 120
        while not held:
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < t_end, "the render started no encoder"
            for pid in ffmpeg_children(proc.pid, writing=writing.format(pid=proc.pid)):
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    continue  # it ended between the listing and the signal: the next one
                held.append(pid)
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=20) == -signal.SIGKILL
        if dies_with_it:
            assert all(_ended(pid) for pid in held), f"{held}: left running by the render"
            return
        assert not any(_ended(pid, within=0) for pid in held), "one ended with the render"
        if retitled:
            goals = workdir / "examples" / "goals.yaml"
            text = goals.read_text()
            goals.write_text(text.replace("title: My Year of Becoming", "title: Renamed"))
        r = _cli(*args, cwd=workdir)
        assert all(_ended(pid) for pid in held), f"{held}: left running by the next render"
    finally:
        for pid in held:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    said = " ".join(r.stderr.split())
    # (the held ones at least: another encoder of the killed render may still be left)
    got = re.search(r"stopped (\d+) ffmpeg process(es)? \(pid ([\d, ]+)\)", said)
    assert got is not None and int(got.group(1)) >= len(held), said
    assert {str(p) for p in held} <= set(got.group(3).replace(" ", "").split(",")), said
    assert f"that the killed render of this run (pid {proc.pid}) had left running" in said
    run = workdir / "outputs" / "renamed" if retitled else workdir / "run"
    assert (run / "movie.mp4").is_file(), sorted(map(str, workdir.rglob("movie.mp4")))
    assert not [p.name for p in run.rglob(f"*.{proc.pid}.tmp*")]


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
def test_sigterm_in_the_compose_s_audio_pass_kills_its_ffmpeg(workdir: Path) -> None:
    """The compose's audio pass (the movie's sound, one ffmpeg after the chunks) was
    not stopped as its video encoders are: a SIGTERM (or Ctrl-C) while it ran waited
    for its ffmpeg to finish, minutes for a long movie with a song, for good with one
    that does not end. It is killed at the stop, and the render ends as interrupted."""
    audio = workdir / "audio.pid"
    # the audio pass alone ("-vn": no video) takes two minutes; it writes its pid first
    slow = _ffmpeg_whose_encoder(workdir, f'echo $$ > "{audio}"; exec sleep 120', of="-vn")
    args = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"]
    rc, took, said = _sigterm_once_started(workdir, args, slow, audio)
    assert rc == 130, said
    assert took < 5.0, took
    assert "interrupted:" in said and "Traceback" not in said, said
    pid = int(audio.read_text())
    assert not Path(f"/proc/{pid}").exists(), "the audio pass's ffmpeg was left running"
    assert not (workdir / "run" / "movie.mp4").exists()


def _ended(pid: int, within: float = 5.0) -> bool:
    """Whether process `pid` has ended (gone, or a zombie its new parent has yet to
    reap) within `within` seconds."""
    t_end = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state == "Z":
            return True
        if time.monotonic() > t_end:
            return False
        time.sleep(0.05)


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
@pytest.mark.parametrize(
    "signals",
    [(signal.SIGTERM, signal.SIGHUP), (signal.SIGQUIT,)],
    ids=["a second stop", "SIGQUIT"],
)
def test_a_render_that_quits_at_once_kills_the_compose_s_encoders(
    workdir: Path, signals: tuple[signal.Signals, ...]
) -> None:
    """A render that quits at once (a second stop signal: `kill` sent twice, a
    supervisor's stop sent again; SIGQUIT: Ctrl-\\ or `kill -QUIT`)
    ends with `os._exit`, no cleanup: the compose's encoders ran on as orphans (the
    second stop came before the compose saw the first), and SIGQUIT dumped core with
    no line at all. Both quit at once with their line and exit code (128 + the
    signal), the encoders killed, and the next render makes the movie."""
    encoder = workdir / "encoder.pid"  # every encoder's pid, one a line
    slow = _ffmpeg_whose_encoder(workdir, f'echo $$ >> "{encoder}"; exec sleep 120')
    args = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"]
    try:
        rc, took, said = _sigterm_once_started(workdir, args, slow, encoder, signals)
        pids = [int(line) for line in encoder.read_text().split()]
        assert rc in {128 + s for s in signals}, (rc, said)
        assert took < 5.0, took
        # (QUIT_AT_ONCE_FREE: an offline render sends no paid call to be cut off)
        assert said.rstrip().endswith(QUIT_AT_ONCE_FREE.decode().strip()), said
        assert "paid" not in said, said
        assert "Traceback" not in said, said
        assert [p for p in pids if not _ended(p)] == [], "the compose's encoders ran on"
    except BaseException:
        for pid in map(int, encoder.read_text().split()):  # none left running by a failure
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        raise
    _cli(*args, cwd=workdir)
    st = _status(workdir, workdir / "run")
    assert not {stage for _, stage in _ran_last(st)} & {"keyframe", "clip"}, _ran_last(st)
    assert (workdir / "run" / "movie.mp4").is_file()


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["doctor"], "interrupted; nothing was changed or spent"),
        # before the render's own handlers: its check of ffmpeg, before the run folder
        (
            ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run"],
            "interrupted; run the same command again to resume where it stopped",
        ),
    ],
    ids=["doctor", "render"],
)
def test_a_stop_signal_outside_the_render_s_handlers_is_one_line_exit_130(
    workdir: Path, signame: str, argv: list[str], said: str
) -> None:
    """Ctrl-C in `doctor` (or status, estimate, storyboard) exited 130 with no line at
    all (typer's silent Exit(130)); SIGTERM killed it (-15, no line), and so did SIGTERM
    to a render before its handlers were installed. A Ctrl-C there (the render's check
    of ffmpeg) waited for the check to end and then went on into the plan. Each is one
    line and exit 130 at once, the command's ffmpeg ended, no run folder made."""
    reached = workdir / "ffmpeg.pid"
    slow = workdir / "ffmpeg-stand-in"
    slow.write_text(f'#!/bin/sh\necho $$ > "{reached}"\nexec sleep 120\n')
    slow.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["IMAGEIO_FFMPEG_EXE"] = str(slow)
    out, err = workdir / "cmd.out", workdir / "cmd.err"
    proc = mindmovie_fork.start(argv, env=env, cwd=workdir, out=out, err=err)
    try:
        t_end = time.monotonic() + 60
        while not (reached.is_file() and reached.read_text().strip()):
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < t_end, "ffmpeg never started"
            time.sleep(0.05)
        # into the wait for it: a signal while Popen itself is still starting it (its
        # script already running) leaves it running, as Python's subprocess does
        time.sleep(0.3)
        proc.send_signal(getattr(signal, signame))
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running 10 s after {signame}: {err.read_text()}") from None
    finally:
        proc.kill()  # a no-op once it ended
    lines = err.read_text().splitlines()
    assert (rc, lines[-1:]) == (130, [said]), (rc, lines)
    assert "Traceback" not in err.read_text()
    assert not (workdir / "run").exists()
    stat = Path(f"/proc/{int(reached.read_text())}/stat")
    # killed (a zombie once its parent is gone, till the container's init reaps it)
    t_end = time.monotonic() + 5
    while True:
        try:
            if stat.read_text().rpartition(")")[2].split()[0] == "Z":
                break
        except FileNotFoundError:
            break
        assert time.monotonic() < t_end, "its ffmpeg was left running"
        time.sleep(0.05)


def _pause_hook(when: str) -> str:
    """Code run in the command's process before mindmovie: the first import for which
    `when` (an expression of `name`, the module imported) holds pauses in a read of a
    named pipe nobody writes until the test does, so a signal lands there every time."""
    return f"""
import os, sys

class Pause:
    def find_spec(self, name, path=None, target=None):
        if {when}:
            sys.meta_path.remove(self)
            pipe = os.environ["PAUSE_PIPE"]
            open(pipe + ".reached", "w").close()
            with open(pipe, "rb") as f:
                f.read()
        return None

def parsing():
    f = sys._getframe(2)
    while f is not None and not (
        f.f_code.co_name == "parse_args" and "typer" in f.f_code.co_filename
    ):
        f = f.f_back
    return f is not None

sys.meta_path.insert(0, Pause())
sys.argv = ["mindmovie", *sys.argv[1:]]
"""


#: the import of typer, the first of the libraries the CLI imports (~0.1 s of them)
_PAUSE_AT_TYPER = _pause_hook('name == "typer"')
#: the first import made while typer parses the command line (its own lazy imports: the
#: value converters), after `entry.main` made the stop signals interrupt and before the
#: command's `command` wrapper runs
_PAUSE_WHILE_PARSING = _pause_hook("parsing()")

#: how each way of starting the CLI runs it: `python -m mindmovie`, and the console
#: script as pip writes it (its target as pyproject.toml names it)
_STARTS = {
    "python -m": "import runpy; runpy.run_module('mindmovie', run_name='__main__', alter_sys=True)",
    "console script": (
        "import importlib, tomllib; "
        "target = tomllib.load(open({pyproject!r}, 'rb'))['project']['scripts']['mindmovie']; "
        "module, _, name = target.partition(':'); "
        "sys.exit(getattr(importlib.import_module(module), name)())"
    ),
}


def _paused_at_start(
    workdir: Path,
    start: str,
    pause: str = _PAUSE_AT_TYPER,
    args: tuple[str, ...] = ("--version",),
    kill_env: dict[str, str] | None = None,
    **popen: Any,
) -> tuple[subprocess.Popen[str], Path]:
    """`mindmovie --version` (or `args`) started as `start` starts it, paused where
    `pause` pauses it (at its import of typer); `kill_env`: its MINDMOVIE_KILL_* too."""
    pipe = workdir / "never-written"
    os.mkfifo(pipe)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env |= {**(kill_env or {}), "PAUSE_PIPE": str(pipe)}
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    code = pause + _STARTS[start].format(pyproject=str(pyproject))
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )
    t_end = time.monotonic() + 60
    while not Path(f"{pipe}.reached").exists():
        if proc.poll() is not None or time.monotonic() > t_end:
            proc.kill()
            raise AssertionError(f"never reached the pause: {proc.communicate()}")
        time.sleep(0.01)
    time.sleep(0.1)  # into the blocking open() itself
    return proc, pipe


@pytest.mark.skipif(os.name != "posix", reason="a named pipe")
@pytest.mark.parametrize(
    ("start", "pause", "args"),
    [
        *[(start, _PAUSE_AT_TYPER, ("--version",)) for start in _STARTS],
        ("console script", _PAUSE_WHILE_PARSING, ("status", ".")),
    ],
    ids=[*(f"{start}-importing" for start in _STARTS), "console script-parsing"],
)
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stop_signal_while_the_cli_starts_is_one_line_exit_130(
    workdir: Path, start: str, pause: str, args: tuple[str, ...], signame: str
) -> None:
    """A stop signal in the CLI's first ~0.15 s, while Python imported typer, rich and
    pydantic before `cli.main` made stop signals interrupt: Ctrl-C printed a
    KeyboardInterrupt traceback, SIGTERM and SIGHUP killed it without a word (-15, -1).
    Once they interrupt, while typer parsed the command line (before the command's own
    wrapper took stops up): typer made the KeyboardInterrupt an exit 130 without a word.
    Both are the line and exit 130 every command gives once started."""
    proc, _ = _paused_at_start(workdir, start, pause, args)
    _says_one_stop_line(proc, signame)


def _says_one_stop_line(
    proc: subprocess.Popen[str], signame: str, then: Callable[[], None] | None = None
) -> None:
    """Send `proc` (paused, `_paused_at_start`) `signame` (then do `then`): it ends with
    exit 130 and the one line of a stop that changed nothing, on stderr alone."""
    try:
        proc.send_signal(getattr(signal, signame))
        if then is not None:
            then()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()  # a no-op once it ended
    assert (proc.returncode, err.splitlines(), out) == (
        130,
        ["interrupted; nothing was changed or spent"],
        "",
    ), err


@pytest.mark.skipif(os.name != "posix", reason="a named pipe")
@pytest.mark.parametrize("start", list(_STARTS))
def test_a_second_stop_after_the_command_said_its_line_says_no_other(
    workdir: Path, start: str
) -> None:
    """Ctrl-C twice (or a Ctrl-C, then the terminal closed): the first stopped the
    command, which said its line; the second, as the process went on to exit (once the
    command had returned), was said again by `entry.main`, a second line."""
    returned = workdir / "returned"
    os.mkfifo(returned)
    kill_env = {"MINDMOVIE_KILL_AT": "command_returned", "MINDMOVIE_KILL_HOW": f"block:{returned}"}
    pause = _pause_hook('name == "mindmovie.status"')  # in the command, past its parse
    proc, _ = _paused_at_start(workdir, start, pause, ("status", "."), kill_env)

    def hang_up_once_returned() -> None:
        t_end = time.monotonic() + 30
        while not Path(f"{returned}.reached").exists():
            assert proc.poll() is None and time.monotonic() < t_end, proc.communicate()
            time.sleep(0.01)
        time.sleep(0.1)  # into the blocking open() itself
        proc.send_signal(signal.SIGHUP)

    _says_one_stop_line(proc, "SIGINT", hang_up_once_returned)


@pytest.mark.skipif(os.name != "posix", reason="a named pipe")
@pytest.mark.parametrize("start", list(_STARTS))
def test_a_signal_ignored_from_the_start_stays_ignored_while_the_cli_starts(
    workdir: Path, start: str
) -> None:
    """`nohup mindmovie ...`: the SIGHUP it was started ignoring is ignored at the start
    too (the stop signals are made to interrupt only where they were not ignored)."""

    def nohup() -> None:
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc, pipe = _paused_at_start(workdir, start, preexec_fn=nohup)
    try:
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.1)
        with open(pipe, "wb"):  # the import goes on
            pass
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, out.strip(), err) == (0, "mindmovie 0.1.0", "")


def _signal_at(
    workdir: Path, args: list[str], at: str, signame: str, *, go_on: bool = False
) -> tuple[int, list[str]]:
    """`mindmovie ARGS`, held at kill point `at` (a blocking read of a named pipe), sent
    `signame` there (then let go on past it, `go_on`): its exit code and stderr lines."""
    pipe = workdir / "paused"
    os.mkfifo(pipe)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env |= {"MINDMOVIE_KILL_AT": at, "MINDMOVIE_KILL_HOW": f"block:{pipe}"}
    out, err = workdir / "cmd.out", workdir / "cmd.err"
    proc = mindmovie_fork.start(args, env=env, cwd=workdir, out=out, err=err)
    try:
        t_end = time.monotonic() + 120
        while not Path(f"{pipe}.reached").exists():
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < t_end, f"never reached {at}"
            time.sleep(0.05)
        time.sleep(0.3)  # into the blocking open() itself
        proc.send_signal(getattr(signal, signame))
        if go_on:
            time.sleep(0.3)
            # lets it go on, once it is in its open() of the pipe (again, after the signal):
            # a writer's O_NONBLOCK open with no reader there fails (ENXIO) and let go of
            # nothing; a fixed 0.6 s was not always enough to be sure of a reader
            while True:
                try:
                    os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
                    break
                except OSError as e:
                    assert e.errno == errno.ENXIO and time.monotonic() < t_end, e
                    assert proc.poll() is None, err.read_text()
                time.sleep(0.02)
        rc = proc.wait(timeout=20)
    finally:
        proc.kill()  # a no-op once it ended
    return rc, err.read_text().splitlines()


def test_a_stop_signal_once_the_render_has_ended_says_the_movie_is_made(workdir: Path) -> None:
    """A Ctrl-C or SIGTERM arriving once the render had ended (its graceful stop removed,
    run.db and the providers being closed) said "interrupted; run the same command again
    to resume where it stopped", though the movie was made and nothing was left to
    resume. It is still exit 130 (the signal was sent), and the line says the movie
    is made.

    SIGTERM alone is sent (it was each of SIGINT and SIGTERM, a render each): at this
    point `Pipeline._remove_sigint` has put back the handler `entry.main` set for both,
    `entry.interrupt` (KeyboardInterrupt), so a Ctrl-C takes the very same path."""
    args = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", "-q"]
    rc, lines = _signal_at(workdir, args, "signals_removed", "SIGTERM")
    movie = Path("run") / "movie.mp4"
    made = f"interrupted as the render ended; the movie is made: {movie}"
    assert (rc, lines[-1:]) == (130, [made]), (rc, lines)
    assert (workdir / movie).is_file()
    _cli(*args, cwd=workdir)
    assert not _ran_last(_status(workdir, workdir / "run"))


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_stop_heard_as_the_render_ends_is_an_interrupt_that_says_what_was_made(
    workdir: Path, signame: str
) -> None:
    """A Ctrl-C or SIGTERM while the render's last step held its loop (`plan`: the
    storyboard drawn after the plan) was heard once the render had ended as done: it
    said "stopping: nothing new is sent ...", then printed the plan and exited 0, where
    the same signal a moment later is exit 130. It is 130 too, says nothing of stopping,
    and says the plan is made."""
    args = ["plan", "examples/goals.yaml", "-c", "small.yaml", "--out", "run"]
    rc, lines = _signal_at(workdir, args, "ended", signame, go_on=True)
    made = f"interrupted as the render ended; the plan is made: {Path('run') / 'plan.yaml'}"
    assert (rc, lines[-1:]) == (130, [made]), (rc, lines)
    assert not [ln for ln in lines if "stopping" in ln], lines
    assert (workdir / "run" / "plan.yaml").is_file()


def test_a_stop_after_the_render_returned_says_what_it_made(workdir: Path) -> None:
    """A stop once the command had returned, before the process exited (a stop no
    command takes up, said by `entry.main`): it said 'nothing was changed or spent' of
    a render that had made its plan. It says what was made, exit 130."""
    args = ["plan", "examples/goals.yaml", "-c", "small.yaml", "--out", "run"]
    rc, lines = _signal_at(workdir, args, "command_returned", "SIGTERM")
    made = f"interrupted as the render ended; the plan is made: {Path('run') / 'plan.yaml'}"
    assert (rc, lines[-1:]) == (130, [made]), (rc, lines)
    assert not [ln for ln in lines if "Traceback" in ln], lines


@pytest.mark.parametrize(
    ("args", "written"),
    [
        (
            ["init", "mine"],
            "{} is written",
        ),
        (["storyboard", "run"], "the storyboard is written: {}"),
    ],
    ids=["init", "storyboard"],
)
def test_a_stop_after_a_command_wrote_its_file_does_not_say_nothing_was_written(
    finished: Path, args: list[str], written: str
) -> None:
    """A stop once `init` had written goals.yaml (or `storyboard` its board), before the
    process exited, said "interrupted; nothing was changed or spent": the person was
    told the file they now have was not written. It says what was written, exit 130."""
    rc, lines = _signal_at(finished, args, "command_returned", "SIGTERM")
    made = {"init": Path("mine") / "goals.yaml", "storyboard": Path("run") / "storyboard.png"}
    path = made[args[0]]
    assert (finished / path).is_file()
    assert (rc, lines) == (130, [f"interrupted; {written.format(path)}"]), (rc, lines)


@pytest.mark.parametrize(
    ("argv", "where", "said"),
    [
        (["status", "run"], "collect_status", "interrupted; nothing was changed or spent"),
        (
            ["estimate", "examples/goals.yaml", "-c", "small.yaml", "--out", "run"],
            "estimate_for",
            "interrupted; nothing was changed or spent",
        ),
        (
            ["storyboard", "run"],
            "storyboard_from_run",
            "interrupted; storyboard.png and storyboard.html are each written whole or not "
            "at all: run it again for both",
        ),
    ],
    ids=["status", "estimate", "storyboard"],
)
def test_ctrl_c_in_a_command_that_reads_the_run_is_one_line_exit_130(
    finished: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], where: str, said: str
) -> None:
    """Ctrl-C (the KeyboardInterrupt it raises) while status, estimate or storyboard
    read the run: exit 130 with no line at all. Each says it was interrupted, and what
    that left (the board's files are each written whole: temp name and rename)."""
    from typer.testing import CliRunner

    import mindmovie.pipeline
    import mindmovie.status
    import mindmovie.storyboard
    from mindmovie.cli import app

    def ctrl_c(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    for module in (mindmovie.status, mindmovie.pipeline, mindmovie.storyboard):
        if hasattr(module, where):
            monkeypatch.setattr(module, where, ctrl_c)
    monkeypatch.chdir(finished)
    board = (finished / "run" / "storyboard.png").read_bytes()
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MINDMOVIE_")}
    r = CliRunner().invoke(app, argv, env=env)
    assert isinstance(r.exception, SystemExit), r.exception
    assert (r.exit_code, r.stderr.splitlines()) == (130, [said])
    assert (finished / "run" / "storyboard.png").read_bytes() == board


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
def test_a_full_disk_under_the_offline_clips_names_the_disk(workdir: Path) -> None:
    """The offline preset's clips are encoded on this machine: on a full disk (seen on a
    2 MB tmpfs) their ffmpeg failed with "Error writing trailer: No space left on device",
    which the render took for scenes that failed ("2 scene(s) failed: local scene ...:
    ffmpeg failed (228) ..."), suggesting --skip-failed, which composes onto the same
    full disk. It is said as every other full disk is: which disk, what to do."""
    full = _ffmpeg_whose_encoder(
        workdir,
        'echo "[out#0/mp4 @ 0x1] Error writing trailer: No space left on device" >&2; exit 228',
        of="rawvideo",
    )
    r = _render_small_with_ffmpeg(workdir, full)
    assert r.returncode == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no space left on the disk holding "), r.stderr
    assert "--skip-failed" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert "a paid call" not in last, last  # (an offline render sends none)
    _cli(*SMALL_RENDER, cwd=workdir)  # room again: the render goes on
    assert (workdir / "run" / "movie.mp4").is_file()


def test_text_too_small_to_read_in_a_thin_frame_is_warned(tmp_path: Path) -> None:
    """`output.size: 1024x16` (its short side 16 px) drew the affirmation and the cards
    1 px tall, unreadable, without a word (the font shrinks with the frame's short
    side); it is said once, naming the size and what to change."""
    (tmp_path / "g.yaml").write_text(
        "title: Thin\ngoals:\n  - category: health\n    vision: I run\n"
        "    affirmation: I run every day\n"
    )
    (tmp_path / "c.yaml").write_text(
        'output:\n  size: "1024x16"\nplan:\n  scene_seconds: 1\ncompose:\n'
        "  title_seconds: 0.5\n  closing_seconds: 0.5\n  crossfade: 0\n"
    )
    proc = _cli("render", "g.yaml", "-c", "c.yaml", "--out", "run", "-q", cwd=tmp_path)
    said = [ln for ln in proc.stderr.splitlines() if "too small to read" in ln]
    assert len(said) == 1, proc.stderr
    assert "1024x16" in said[0] and "output.size" in said[0], said


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs Linux's /proc")
def test_ctrl_c_at_a_terminal_while_an_offline_clip_is_made_stops_it_not_fails_it(
    tmp_path: Path,
) -> None:
    """Ctrl-C at a terminal signals the whole process group: the offline clip's ffmpeg
    exits 255 (or dies of SIGINT) as the render stops, and the clip was journaled
    failed: status said "failed ... re-poll job local:01-health-1" and "ffmpeg failed
    (255) rendering clip.mp4: " (nothing after the colon), the storyboard "clip failed".
    It is the stop: the clip is "stopped" and the next render makes it. The render runs
    in a process group of its own, signalled as a terminal signals its foreground job,
    while the real ffmpeg reads its frames at their rate (`-re`: 4 s of 64x36 frames,
    so the signal finds it encoding) and nothing but the clip is made (`--until clips`)."""
    import imageio_ffmpeg

    (tmp_path / "g.yaml").write_text(
        "title: Stop\ngoals:\n  - category: health\n    vision: I run every morning\n"
    )
    (tmp_path / "c.yaml").write_text(
        'preset: local\noutput: {size: "64x36", fps: 12}\nplan: {scene_seconds: 4}\n'
    )
    pidfile = tmp_path / "encoder.pid"
    ffmpeg = tmp_path / "ffmpeg-stand-in"
    ffmpeg.write_text(
        "#!/bin/sh\n"
        f'for a in "$@"; do [ "$a" = rawvideo ] && echo $$ > "{pidfile}"; done\n'
        f'exec "{imageio_ffmpeg.get_ffmpeg_exe()}" -re "$@"\n'
    )
    ffmpeg.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env["IMAGEIO_FFMPEG_EXE"] = str(ffmpeg)
    args = ["render", "g.yaml", "-c", "c.yaml", "--out", "run", "--until", "clips", "--yes"]
    err = tmp_path / "render.err"
    with err.open("w") as e:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mindmovie", *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=e,
            process_group=0,  # (its own: the signal below reaches it and its children only)
        )
    try:
        t_end = time.monotonic() + 60
        while not (pidfile.is_file() and pidfile.read_text().strip()):
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < t_end, "the render started no clip"
            time.sleep(0.02)
        time.sleep(0.3)  # (ffmpeg reading its first frames, its own handlers set)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=20) == 130, err.read_text()
    finally:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)  # a no-op once it ended
        proc.wait(timeout=10)
    said = err.read_text()
    assert "Traceback" not in said and "failed" not in said, said
    assert "clips 01-health-1: stopped - interrupted" in said, said
    st, _ = status_json(tmp_path, "run", "-c", "c.yaml")
    clip = next(s for s in st["steps"] if s["stage"] == "clip")
    assert clip["status"] != "failed", clip
    assert [row["next"] for row in st["scenes"]] == ["make the clip"], st["scenes"]


def _held_render(workdir: Path, held_at: str, *more: str) -> tuple[subprocess.Popen[str], Path]:
    """`render examples/goals.yaml -c small.yaml --out run` (and `more`) started and held
    at killpoint `held_at` by a read of a named pipe (MINDMOVIE_KILL_HOW=block), returned
    once it is held: the process (stderr piped) and the pipe, whose opening for writing
    lets it go on."""
    pipe = workdir / "held"
    os.mkfifo(pipe)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env |= {"MINDMOVIE_KILL_AT": held_at, "MINDMOVIE_KILL_HOW": f"block:{pipe}"}
    argv = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", "run", *more]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mindmovie", *argv],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        t_end = time.monotonic() + 120
        while not Path(f"{pipe}.reached").exists():
            assert proc.poll() is None and time.monotonic() < t_end, f"never held at {held_at}"
            time.sleep(0.02)
    except BaseException:
        proc.kill()
        raise
    return proc, pipe


def _photos_moved_at(workdir: Path, held_at: str) -> tuple[int, str]:
    """`render examples/goals.yaml --until keyframes` held at killpoint `held_at`
    (MINDMOVIE_KILL_HOW=block) while examples/photos is renamed, then let go: its exit
    status and stderr."""
    proc, pipe = _held_render(workdir, held_at, "--until", "keyframes")
    try:
        (workdir / "examples" / "photos").rename(workdir / "examples" / "photos.gone")
        with open(pipe, "w"):  # lets the held read end
            pass
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()  # a no-op once it ended
    return proc.returncode, err


def test_a_photo_moved_away_as_the_render_starts_is_one_line_not_a_traceback(
    workdir: Path,
) -> None:
    """goals.yaml's photos moved (or deleted) after the render checked goals.yaml, before
    its estimate read them (held at its second run.db transaction): a FileNotFoundError
    traceback, exit 1. It is one line naming the photo and what to do, exit 2, as the
    next render says it of goals.yaml."""
    code, err = _photos_moved_at(workdir, "store@2")
    assert code == 2, (code, err)
    assert "Traceback" not in err and "Errno" not in err, err
    last = err.strip().splitlines()[-1]
    assert re.fullmatch(
        r"error: \S+/examples/photos/\S+\.jpg: not found, moved or deleted during the "
        r"render\? Put it back \(or edit goals\.yaml\) and render again",
        last,
    ), last


def test_a_photo_moved_away_during_the_keyframes_is_said_not_as_errno_text(
    workdir: Path,
) -> None:
    """goals.yaml's photos moved away while the keyframes were made (held at the 14th
    run.db transaction): the photo scenes failed "[Errno 2] No such file or directory:
    '.../photos/run.jpg'" and the storyboard "storyboard not written: [Errno 2] ...".
    Each names the photo gone and what to do; exit 1, the scenes failed."""
    code, err = _photos_moved_at(workdir, "store@14")
    assert code == 1, (code, err)
    assert "Traceback" not in err and "Errno" not in err, err
    assert "failed - " in err, err


def test_goal_photos_no_offline_scene_shows_are_named(workdir: Path) -> None:
    """A goal with two photos and one scene: the offline keyframe showed the first and
    nothing said the second was left out, nor how to show it. One warning line names it
    and the `scenes:` that shows each, at plan as at render; none once it has them."""
    goals = workdir / "examples/goals.yaml"
    text = goals.read_text(encoding="utf-8")
    assert text.count("    scenes: 2\n") == 1  # goal 1, health: coastal-run, trail-stretch
    goals.write_text(text.replace("    scenes: 2\n", "    scenes: 1\n"), encoding="utf-8")
    said = (
        "warning: offline keyframes: goal 1 (health): 2 photos and 1 scene, one photo a "
        "scene, so photos/trail-stretch.jpg is not shown (give it `scenes: 2` in goals.yaml "
        "to show each)\n"
    )
    for args in (["plan"], ["render", "-q", "--until", "plan"]):
        proc = _cli(args[0], str(goals), "-c", "small.yaml", "--out", "run", *args[1:], cwd=workdir)
        assert proc.stderr.count(said) == 1, proc.stderr
        assert proc.stderr.count("not shown") == 1, proc.stderr
    goals.write_text(text, encoding="utf-8")
    proc = _cli("plan", str(goals), "-c", "small.yaml", "--out", "run", cwd=workdir)
    assert "not shown" not in proc.stderr, proc.stderr
