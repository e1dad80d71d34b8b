"""`fsutil.make_dirs`: a render's writes never make its run folder, or the folders above
it, again once it holds it (`HeldFolder`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mindmovie.fsutil import HeldFolder, atomic_write_bytes, make_dirs


def test_outside_a_held_folder_it_makes_every_missing_parent(tmp_path: Path) -> None:
    make_dirs(tmp_path / "a" / "b" / "c")
    assert (tmp_path / "a" / "b" / "c").is_dir()
    make_dirs(tmp_path / "a" / "b" / "c")  # (already there: no error)


def test_inside_a_held_folder_only_the_folders_below_it_are_made(tmp_path: Path) -> None:
    run = tmp_path / "outs" / "run"
    run.mkdir(parents=True)
    with HeldFolder(run):
        make_dirs(run / "scenes" / "01-health-1")
        assert (run / "scenes" / "01-health-1").is_dir()
        os.rename(tmp_path / "outs", tmp_path / "outs-old")
        (tmp_path / "outs").mkdir()  # the person's new folder, where the old one was
        with pytest.raises(FileNotFoundError) as gone:
            make_dirs(run / "scenes" / "02-career-1")
        assert gone.value.filename == str(run)
        with pytest.raises(FileNotFoundError):
            atomic_write_bytes(run / "scenes" / "02-career-1" / "keyframe.png", b"png")
        with pytest.raises(FileNotFoundError):
            make_dirs(run)
        assert not any((tmp_path / "outs").iterdir())
    make_dirs(run / "scenes")  # let go of: as `mkdir -p` again
    assert (run / "scenes").is_dir()


def test_a_held_folder_deleted_is_not_made_again(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    with HeldFolder(run):
        run.rmdir()
        with pytest.raises(FileNotFoundError):
            make_dirs(run / "compose" / "segments")
    assert not run.exists()


def test_a_held_folder_renamed_by_its_render_is_followed(tmp_path: Path) -> None:
    old, new = tmp_path / "old-title", tmp_path / "new-title"
    old.mkdir()
    with HeldFolder(old) as held:
        os.rename(old, new)
        held.move(new)
        make_dirs(new / "scenes" / "01-health-1")
        assert (new / "scenes" / "01-health-1").is_dir()
        new.rename(tmp_path / "moved")
        with pytest.raises(FileNotFoundError):
            make_dirs(new / "scenes")
    assert not new.exists()


def test_a_file_in_the_way_is_refused_as_mkdir_refuses_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "scenes").write_text("not a folder\n")
    with HeldFolder(run):
        with pytest.raises(FileExistsError):
            make_dirs(run / "scenes")
        with pytest.raises(NotADirectoryError):
            make_dirs(run / "scenes" / "01-health-1")


def test_a_relative_held_folder_is_not_made_again_where_a_new_cwd_puts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out outs/run` (relative), and the process's working folder changed during the
    render (a program rendering with mindmovie as a library): the hold keeps the absolute
    path, so a write's relative path, now naming another place, was not held and
    `mkdir -p` made `outs/run/scenes/<id>/` under the new working folder. That is not the
    folder held: nothing is made there."""
    (tmp_path / "a" / "outs" / "run").mkdir(parents=True)
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    run = Path("outs") / "run"
    with HeldFolder(run):
        make_dirs(run / "scenes" / "01-health-1")
        assert (tmp_path / "a" / run / "scenes" / "01-health-1").is_dir()
        os.chdir(tmp_path / "b")
        with pytest.raises(FileNotFoundError):
            make_dirs(run / "scenes" / "02-career-1")
        with pytest.raises(FileNotFoundError):
            make_dirs(Path("./outs/run/compose"))
        assert not any((tmp_path / "b").iterdir())


def test_a_hold_outliving_its_render_goes_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render's hold kept past its end (its folder went away under it) that no one lets
    go of (a render run without the CLI) lasts `OUTLIVE_SECONDS`, not for the process's
    life: a later write at that path in the same process was refused."""
    from mindmovie import fsutil

    run = tmp_path / "run"
    run.mkdir()
    with HeldFolder(run) as held:
        held.outlast()
    run.rmdir()
    with pytest.raises(FileNotFoundError):
        make_dirs(run / "scenes")  # (its threads may still write: held)
    monkeypatch.setattr(held, "until", 0.0)  # OUTLIVE_SECONDS since
    make_dirs(run / "scenes")
    assert (run / "scenes").is_dir()
    assert held not in fsutil._HELD
