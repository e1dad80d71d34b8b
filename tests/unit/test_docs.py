"""The documents a person reads say what the code does: README.md, config.example.yaml,
docs/architecture.md and .ci/run are checked against the code here, so a renamed
option, setting, module or function fails a test instead of leaving the docs wrong."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_readme_install_and_test_lines_are_what_ci_runs() -> None:
    """The README's install line and test line are run, as written, by .ci/run."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    blocks = re.findall(r"^```\n(.*?)\n```$", readme, flags=re.S | re.M)
    install = next(b for b in blocks if b.startswith("pip install"))
    test = next(b for b in blocks if "pytest" in b)
    assert install in ci and test in ci, (install, test)
