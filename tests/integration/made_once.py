"""A folder many tests start from (goals, config, a first render against the simulator),
made once per test module in each test process and copied per test: `once`. Tests of test_kept.py,
test_money.py and test_keyless.py use it; a first render made per test cost each ~1 s
of CPU, the copy a few milliseconds."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sim.server import SimServer

#: (root, name): the simulator's jobs and files once `once`'s make of that name was done
_SIM_MADE: dict[tuple[Path, str], Any] = {}


def once_root(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """What a module-scoped fixture of the tests using `once` returns: the folders `once`
    made for that module's tests in this process (name: its snapshot, never rendered
    into), and "root": where they are."""
    return {"root": tmp_path_factory.mktemp("made-once")}


def once(made: dict[str, Path], sim: SimServer, name: str, make: Callable[[Path], Any]) -> Path:
    """The folder `make` fills (given it empty: goals, config, a render into it against
    the simulator) as the first thing each test of `name` did. Made once per module in
    this process (`made` is the module's `once_root`); each test (the first too) gets a
    fresh copy of it at the very path it was made at (a run.db records its goals.yaml's
    path, a config the simulator's address), with the
    simulator reset to what it held after that render (its jobs and result files; a
    copy of each job, which a test may change) with nothing counted yet (its counters,
    records and faults as new), at the suite's media scale: the test starts as after its
    own first render, its counts taken from there. The caller removes the folder after
    the test and sets the simulated planner's answer again."""
    home = made["root"] / name
    if name not in made:
        sim.media_scale = 0.25
        shutil.rmtree(home, ignore_errors=True)  # (a make that failed in an earlier test)
        home.mkdir()
        make(home)
        # a copy holds no hard link: the folder made must hold none either, so the copy
        # is the folder as made (the kept and set-aside files a test looks at are links)
        linked = [p for p in home.rglob("*") if p.is_file() and p.lstat().st_nlink > 1]
        assert not linked, linked
        home.rename(made["root"] / f"{name}.snapshot")
        made[name] = made["root"] / f"{name}.snapshot"
        _SIM_MADE[made["root"], name] = sim.made()
        sim.reset()
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(made[name], home, symlinks=True)
    sim.media_scale = 0.25
    sim.remake(_SIM_MADE[made["root"], name])  # the jobs and results of that render
    return home
