"""`finished`: a project folder holding a finished offline render, for tests that start
from one.

Many e2e tests begin with the same render (examples/goals.yaml, small.yaml, `--out run`)
and then test what status or the next render says of it; that render was ~20 of the
suite's subprocess renders. It is made once per test process and copied back for each
test, to the SAME absolute path: plan.yaml and run.db hold absolute paths (the photos,
goals.yaml, the run folder), so a copy anywhere else would be a moved project, which is
another test (test_status.py). Files are copied with their modification times, so the
copy is, to every check mindmovie makes (sha256, size, mtime), the folder the render
left. The render is made in a fresh interpreter, as the README's command starts it:
test_render.py::test_render_example_offline checks what it made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.project import new_project


@pytest.fixture(scope="session")
def _finished_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the pristine copy, the path every test gets it at), rendered once per process."""
    root = tmp_path_factory.mktemp("finished")
    project = new_project(root / "project")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    argv = ["render", "examples/goals.yaml", "-c", "small.yaml", "--out", str(project / "run")]
    proc = subprocess.run(
        [sys.executable, "-m", "mindmovie", *argv, "-q"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    template = root / "template"
    shutil.move(str(project), str(template))
    return template, project


@pytest.fixture
def finished(_finished_template: tuple[Path, Path]) -> Iterator[Path]:
    """A project folder (examples/, small.yaml) whose `run` folder holds a finished
    render with small.yaml, as `mindmovie render examples/goals.yaml -c small.yaml
    --out run -q` leaves it, at the path that render was made at."""
    template, project = _finished_template
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(template, project, symlinks=True)
    yield project
