"""The documents a person reads say what the code does: README.md, config.example.yaml,
docs/architecture.md and .ci/run are checked against the code here, so a renamed
option, setting, module or function fails a test instead of leaving the docs wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from mindmovie.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "mindmovie"


def _commands() -> dict[str, list[str]]:
    """Each command's long option names, as the CLI parses them."""
    import typer.main

    from mindmovie.cli import app

    group: Any = typer.main.get_command(app)
    return {
        name: [o for p in cmd.params for o in p.opts if o.startswith("--")]
        for name, cmd in group.commands.items()
    }


def test_every_command_and_option_is_in_the_readme() -> None:
    """The README names each command in its table and each command's options after
    "`<command>` flags:" (up to the end of that sentence)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, options in _commands().items():
        assert f"| `mindmovie {name}" in readme, f"{name}: no row in the commands table"
        if not options:
            continue
        at = readme.find(f"`{name}` flags:")
        assert at >= 0, f"{name}: no '`{name}` flags:' sentence"
        sentence = re.split(r"\.\s", readme[at:], maxsplit=1)[0]
        missing = [o for o in options if not re.search(rf"`{o}[` ]", sentence)]
        assert not missing, f"{name}: options not in the README: {missing}"
    assert "--version" in readme


def test_readme_install_and_test_lines_are_what_ci_runs() -> None:
    """The README's install line and test line are run, as written, by .ci/run."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    blocks = re.findall(r"^```\n(.*?)\n```$", readme, flags=re.S | re.M)
    install = next(b for b in blocks if b.startswith("pip install"))
    test = next(b for b in blocks if "pytest" in b)
    assert install in ci and test in ci, (install, test)


def _fields(model: type[BaseModel], at: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            out += _fields(sub, (*at, name))
        else:
            out.append((*at, name))
    return out


def test_config_example_shows_every_setting_with_the_code_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.example.yaml 'documents every setting with its default' (README): it loads
    to exactly the built-in defaults, and every setting is written in it (the provider
    blocks show the connection settings each provider reads)."""
    example = REPO / "config.example.yaml"
    monkeypatch.chdir(tmp_path)  # no ./config.yaml: the defaults alone
    assert load_settings(example, env={}) == load_settings(None, env={})
    data = yaml.safe_load(example.read_text(encoding="utf-8"))
    # settings a provider never reads need not be shown under it
    unread = {
        "local": {"base_url", "timeout", "download_timeout", "job_deadline", "poll_interval",
                  "poll_max_interval", "vertexai", "project", "location"},
        "anthropic": {"download_timeout", "job_deadline", "poll_interval",
                      "poll_max_interval", "vertexai", "project", "location"},
        "byteplus": {"vertexai", "project", "location"},
        "google": set(),
    }  # fmt: skip
    missing = []
    for path in _fields(Settings):
        if path[0] == "providers" and path[2] in unread[path[1]]:
            continue
        node: Any = data
        for part in path:
            if not isinstance(node, dict) or part not in node:
                missing.append(".".join(path))
                break
            node = node[part]
    assert not missing, f"settings not in config.example.yaml: {missing}"
