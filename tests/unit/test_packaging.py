"""What the package promises about itself (lessons.md: undeclared SDK dependencies, keys
in tracebacks)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = REPO / "pyproject.toml"


def _requirement_names() -> set[str]:
    deps = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    return {re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0].lower() for d in deps}


def test_byteplus_sdks_undeclared_dependencies_are_declared_here() -> None:
    """byteplus-python-sdk-v2 imports httpx and sniffio without declaring them."""
    names = _requirement_names()
    assert {"byteplus-python-sdk-v2", "httpx", "sniffio"} <= names
    # and every provider SDK and the media stack the finished tool needs
    assert {"anthropic", "google-genai", "moviepy", "imageio-ffmpeg", "pillow"} <= names


def test_tracebacks_never_show_locals() -> None:
    """A key held in a local variable must not be printed by typer's pretty traceback."""
    from mindmovie.cli import app

    assert app.pretty_exceptions_show_locals is False


def _requirements() -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def test_every_dependency_is_capped_and_installed_within_its_range() -> None:
    """A fresh install on a later day took whatever major version was newest: a new
    anthropic, google-genai, typer or ffmpeg (imageio-ffmpeg) that changed what this code
    calls would break `pip install -e '.[dev]'` plus `mindmovie render` with no change
    here. Each requirement has an upper bound, and the versions installed (the ones the
    suite runs with) are within every range."""
    from importlib.metadata import version

    from packaging.requirements import Requirement

    for line in _requirements():
        req = Requirement(line)
        assert any(s.operator in ("<", "<=", "==", "~=") for s in req.specifier), line
        installed = version(req.name)
        assert req.specifier.contains(installed, prereleases=True), (line, installed)


def test_the_version_said_is_the_version_installed() -> None:
    """The version is written twice, pyproject.toml's (what pip installs and lists) and
    `mindmovie.__version__` (what `--version` says and a run records): one bumped
    without the other would have a render say a version it is not."""
    import mindmovie

    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert mindmovie.__version__ == project["version"]


@pytest.mark.parametrize("args", [["render", "examples/goals.yaml"], ["doctor"], ["--help"]])
def test_a_python_without_posix_file_locks_is_told_so_in_one_line(args: list[str]) -> None:
    """Windows' Python has no `fcntl` (the run's lock is a POSIX file lock): every
    command ended in a ModuleNotFoundError traceback from deep in the render's imports.
    Now one line naming what is missing and WSL, exit 2, before anything is read or
    written. (Here `fcntl` is made unimportable, as it is there.)"""
    from mindmovie.entry import NOT_POSIX

    code = (
        "import sys; sys.modules['fcntl'] = None; "
        f"sys.argv = ['mindmovie', *{args!r}]; "
        "from mindmovie.entry import main; main()"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert (r.returncode, r.stdout, r.stderr) == (2, "", NOT_POSIX + "\n")
