"""The documents a person reads say what the code does: README.md, config.example.yaml,
.env.example, docs/architecture.md, bench/README.md's run lines and .ci/run are checked
against the code here, so a renamed option, setting, variable, module, function, file or
test fails a test instead of leaving the docs wrong."""

from __future__ import annotations

import importlib
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


def _readme_blocks() -> list[str]:
    """The README's plain fenced blocks (its commands), each as written."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```\n(.*?)\n```$", readme, flags=re.S | re.M)


def test_readme_install_and_test_lines_are_what_ci_runs() -> None:
    """The README's install line and test line are run, as written, by .ci/run."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    blocks = _readme_blocks()
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


def _code_names() -> tuple[dict[str, Any], dict[str, type]]:
    """Module short names (`pipeline`, `ffmpeg`) and the classes they define."""
    modules: dict[str, Any] = {}
    for path in SRC.rglob("*.py"):
        if path.stem in ("__init__", "__main__"):
            continue
        dotted = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
        modules[path.stem] = importlib.import_module(dotted)
    for pkg in ("compose", "providers"):
        modules[pkg] = importlib.import_module(f"mindmovie.{pkg}")
    classes: dict[str, type] = {}
    for mod in modules.values():
        for name, value in vars(mod).items():
            if isinstance(value, type) and value.__module__ == mod.__name__:
                classes.setdefault(name, value)
    return modules, classes


def _has(obj: Any, name: str) -> tuple[bool, Any]:
    if hasattr(obj, name):
        return True, getattr(obj, name)
    fields = getattr(obj, "model_fields", None) or getattr(obj, "__dataclass_fields__", {})
    return name in fields, None


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md"])
def test_the_code_the_docs_name_exists(doc: str) -> None:
    """Every `module.name`, `Class.method` and `module.py` a document names is in the
    code, and every `section.setting` it names is a setting."""
    text = (REPO / doc).read_text(encoding="utf-8")
    modules, classes = _code_names()
    settings = {".".join(p) for p in _fields(Settings)}
    sections = {p[0] for p in _fields(Settings) if len(p) > 1}
    files = {p.name for d in (SRC, REPO / "tests") for p in d.rglob("*") if p.is_file()}
    files |= {p.name for p in REPO.iterdir()}
    wrong, checked = [], 0
    for token in sorted(set(re.findall(r"`([^`\s]+)`", text))):
        name = token.split("(")[0].split("[")[0].rstrip(".,:")
        if re.fullmatch(r"\w+\.(py|toml)", name):
            checked += 1
            if name not in files:
                wrong.append(token)
            continue
        parts = name.split(".")
        if len(parts) < 2 or not all(p.isidentifier() for p in parts):
            continue
        if parts[-1] in ("yaml", "md", "html", "png", "db", "mp4", "env", "example"):
            continue  # a file name
        as_setting = parts[0] in sections
        if as_setting and (name in settings or any(s.startswith(name + ".") for s in settings)):
            checked += 1
            continue
        if parts[0] in ("compose", "providers") and parts[1] in modules:
            parts = parts[1:]
        obj = modules.get(parts[0]) or classes.get(parts[0])
        if obj is None:
            if as_setting:
                checked += 1
                wrong.append(token)
            continue
        checked += 1
        for part in parts[1:]:
            found, obj = _has(obj, part)
            if not found:
                wrong.append(token)
                break
            if obj is None:
                break
    assert checked > (50 if doc.startswith("docs") else 5)
    assert not wrong, f"{doc} names what the code does not have: {wrong}"


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md"])
def test_a_module_name_the_docs_give_is_defined_in_that_module(doc: str) -> None:
    """`module.name` sends the reader to that module: the name is defined there, not
    only imported (`cards.FALLBACK_FONTS` named fonts.py's list by a module that imports
    it)."""
    import inspect

    text = (REPO / doc).read_text(encoding="utf-8")
    modules, _ = _code_names()
    wrong = []
    for token in sorted(set(re.findall(r"`([^`\s]+)`", text))):
        parts = token.split("(")[0].split("[")[0].rstrip(".,:").split(".")
        if len(parts) < 2 or not all(p.isidentifier() for p in parts):
            continue
        if parts[0] in ("compose", "providers") and len(parts) > 2 and parts[1] in modules:
            parts = parts[1:]
        mod = modules.get(parts[0])
        if mod is None or parts[0] in ("compose", "providers") or not hasattr(mod, parts[1]):
            continue
        obj = inspect.unwrap(getattr(mod, parts[1]))  # (a functools.cache'd function)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            home = obj.__module__
        elif inspect.ismodule(obj):
            continue
        else:  # a constant: assigned in the module's own text
            assigned = re.search(rf"^\s*{parts[1]}\s*[:=]", inspect.getsource(mod), re.M)
            home = mod.__name__ if assigned else "elsewhere"
        if home != mod.__name__:
            wrong.append(f"{token} (defined in {home})")
    assert not wrong, f"{doc} names these under a module that only imports them: {wrong}"


def test_the_architecture_modules_table_covers_every_module() -> None:
    """docs/architecture.md's module table names every module of the package."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text[text.index("## Modules") : text.index("## Steps")]
    named = set(re.findall(r"(\w+)\.py", table)) | set(re.findall(r"`(\w+)\.py`", text))
    have = {p.stem for p in SRC.rglob("*.py")} - {"__init__", "__main__"}
    assert have <= named, f"not in the modules table: {sorted(have - named)}"


def test_the_readme_goals_example_shows_every_goals_field() -> None:
    """The README's goals.yaml example uses only keys goals.yaml takes, and all of them."""
    from mindmovie.goals import Goal, Goals, Person

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = yaml.safe_load(re.findall(r"^```yaml\n(.*?)\n```$", readme, flags=re.S | re.M)[0])
    for shown, model in ((example, Goals), (example["person"], Person)):
        assert set(shown) == set(model.model_fields), model.__name__
    assert set().union(*example["goals"]) == set(Goal.model_fields)


def test_the_architecture_run_db_schema_is_the_stores(tmp_path: Path) -> None:
    """docs/architecture.md lists each table of run.db with all of its columns."""
    import sqlite3

    from mindmovie.store import SCHEMA_VERSION, Store

    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text[text.index("## Run folder and run store") : text.index("## Steps")]
    assert f"`store.SCHEMA_VERSION` {SCHEMA_VERSION}" in section
    Store(tmp_path / "run.db").close()
    db = sqlite3.connect(tmp_path / "run.db")
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    tables = [t for t in tables if not t.startswith("sqlite_")]
    for table in tables:
        bullet = re.search(rf"^- `{table}` .*?(?=^- |^\n)", section, flags=re.S | re.M)
        assert bullet, f"table {table} not listed"
        columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        named = set(re.findall(r"`(\w+)`", bullet[0]))
        assert columns <= named, f"{table}: columns not listed: {sorted(columns - named)}"
    db.close()


def test_env_example_names_every_key_variable_and_reads_cleanly() -> None:
    """.env.example, copied to .env, is read without a warning, sets each provider's key
    variable (empty) and names its other spelling."""
    from mindmovie.config import KEY_VARIABLES, dotenv_problems, read_dotenv

    example = REPO / ".env.example"
    assert dotenv_problems(example) == []
    assert set(read_dotenv(example)) == {names[0] for names in KEY_VARIABLES.values()}
    text = example.read_text(encoding="utf-8")
    assert all(name in text for names in KEY_VARIABLES.values() for name in names)


def test_env_example_and_the_presets_table_say_who_each_key_is_for() -> None:
    """.env.example's line for each key names the presets that use its provider and the
    models it pays for, and the README's presets table names the same models: those are
    the presets' (`PRESETS`) and each provider stage's default model (`catalog`), by
    family ("Seedream", "Veo"). Only the variables were checked, so a preset given
    another provider, or a default model of another family, left both naming the old."""
    from mindmovie import catalog
    from mindmovie.config import KEY_VARIABLES, PRESETS

    def family(provider: str, stage: str) -> str:
        return catalog.default_model(provider, stage).key.split("-")[0].capitalize()

    stages = ("planner", "keyframes", "video")
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    wrong = []
    for provider, names in KEY_VARIABLES.items():
        (line,) = [x for x in lines if x.startswith(f"{names[0]}=")]
        comment = line.partition("#")[2]
        users = [p for p, chosen in PRESETS.items() if provider in chosen]
        said = "preset " + users[0] if len(users) == 1 else "presets " + " and ".join(users)
        if f"({said})" not in comment:
            wrong.append(f"{names[0]}: not ({said})")
        for stage in stages:
            if catalog.models(provider, stage) and family(provider, stage) not in comment:
                wrong.append(f"{names[0]}: not {family(provider, stage)} ({stage})")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| preset | planner") :].split("\n\n")[0]
    for name, chosen in PRESETS.items():
        (row,) = re.findall(rf"^\| `{name}`.*$", table, flags=re.M)
        cells = [c.strip() for c in row.strip("|").split("|")][1:4]
        for stage, provider, cell in zip(stages, chosen, cells, strict=True):
            if provider != "local" and family(provider, stage) not in cell:
                wrong.append(f"README {name} {stage}: {cell!r}, not {family(provider, stage)}")
    assert not wrong, f"who each key is for, as the docs say it: {wrong}"


def test_the_prices_the_architecture_gives_are_the_catalogs() -> None:
    """The one model price docs/architecture.md works through (a Gemini image: its
    output tokens, what they bill, the rounded figure it was counted at before, and what
    a 12 MP photo adds at the input price) is catalog.toml's, by `costs`' own tile count:
    a price changed in the catalog left the page's figures."""
    from mindmovie import catalog, costs

    spec = catalog.find("gemini-2-5-flash-image")
    assert spec is not None
    rates = spec.price.rates
    image = rates["tokens_per_image"] * rates["output_per_mtok"] / 1e6
    photo = costs.gemini_image_tokens((4000, 3000))  # a 12 MP photo
    billed = image + photo * rates["input_per_mtok"] / 1e6
    text = _prose("docs/architecture.md")
    figures = [
        f"a 12 MP photo may count {photo:,}, not {rates['tokens_per_image']:,.0f}",
        f"(${image:.3f} against ~${billed:.4f} billed with a 12 MP photo)",
        f"its {rates['tokens_per_image']:,.0f} output tokens bill (${rates['image']:.4f};",
        f"not the rounded ${image:.3f}.",
    ]
    assert rates["image"] == pytest.approx(image)
    missing = [f for f in figures if f not in text]
    assert not missing, f"docs/architecture.md prices that are not the catalog's: {missing}"


def _def_in(path: Path, name: str) -> bool:
    source = path.read_text(encoding="utf-8")
    return re.search(rf"^\s*(async\s+)?def {name}\(", source, re.M) is not None


#: a path's first folder, for the paths the documents name that are the repository's
_REPO_DIRS = ("src", "tests", "bench", "docs", "examples", ".ci", "compose", "providers")


def test_no_message_sends_the_person_to_a_file_only_a_clone_has() -> None:
    """`pip install mindmovie` installs no config.example.yaml nor .env.example: a
    message saying "(see config.example.yaml)" or "(see .env.example)" sent the person
    to a file they do not have. Every text in the code that is not a docstring (a
    message, or part of one) is checked; comments and docstrings may name them."""
    import ast

    clone_only = ("config.example.yaml", ".env.example")
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and any(name in node.value for name in clone_only)
            ):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value.strip()}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md", "bench/README.md"])
def test_the_repository_paths_the_docs_name_exist(doc: str) -> None:
    """Every repository file a document names by its path (`tests/unit/test_polling.py`,
    `providers/base.py`, `bench/schedule.py`), every `module/path.name` it names
    (`compose/timeline.build_timeline`) and every `file.py::test_name` is there."""
    text = (REPO / doc).read_text(encoding="utf-8")
    roots = (REPO, SRC)  # `compose/audio.py` and `providers/...` are the package's
    tests = {p.name: p for p in (REPO / "tests").rglob("*.py")}
    wrong, checked = [], 0
    for token in sorted(set(re.findall(r"`([^`\s]+)`", text))):
        if found := re.fullmatch(r"(\w+\.py)::(\w+)", token):
            checked += 1
            path = tests.get(found[1])
            if path is None or not _def_in(path, found[2]):
                wrong.append(token)
            continue
        if "/" not in token or "<" in token or token.startswith(("/", "$", "..", "http")):
            continue
        if token.split("/")[0] not in _REPO_DIRS:
            continue
        if found := re.fullmatch(r"([\w/]+)\.(\w+)", token):
            module, attr = found[1], found[2]
            if attr not in ("py", "md", "toml", "yaml", "txt") and any(
                (r / f"{module}.py").is_file() for r in roots
            ):
                checked += 1
                dotted = "mindmovie." + module.removeprefix("src/mindmovie/").replace("/", ".")
                if not hasattr(importlib.import_module(dotted), attr):
                    wrong.append(token)
                continue
        if not re.search(r"\.\w+$", token):
            continue  # a folder (`compose/` is also the run folder's cache): not checked
        checked += 1
        if not any((r / token).exists() for r in roots):
            wrong.append(token)
    assert checked >= 3
    assert not wrong, f"{doc} names files or tests that are not there: {wrong}"


def test_the_bench_run_lines_use_each_scripts_own_options() -> None:
    """bench/README's command lines (its indented blocks: how to run) give each bench
    script only options it defines, run by `python` (the virtual environment's, as the
    README installs it), never one machine's own path: `/work/venv/bin/python` is not
    there in anyone's clone. The scripts' own usage lines too."""
    text = (REPO / "bench" / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^    \S*python (bench/\w+\.py)(.*)$", text, flags=re.M)
    assert len(lines) >= 5
    for doc in [REPO / "bench" / "README.md", *sorted((REPO / "bench").glob("*.py"))]:
        shown = re.findall(r"^    (\S*python) bench/", doc.read_text(encoding="utf-8"), flags=re.M)
        assert set(shown) <= {"python"}, f"{doc.name} runs the bench with {set(shown)}"
    wrong = []
    for script, args in lines:
        source = (REPO / script).read_text(encoding="utf-8")
        for option in re.findall(r"(?<!\S)(--[\w-]+)", args.split("#")[0]):
            if f'"{option}"' not in source:
                wrong.append(f"{script} {option}")
    assert not wrong, f"options the bench scripts do not have: {wrong}"


def test_the_architecture_meta_keys_are_the_codes() -> None:
    """docs/architecture.md's `meta` bullet names every run.db meta key the code writes
    (each module's `*_META` constant; `storyboard_*` covers the storyboard's)."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    bullet = re.search(r"^- `meta` .*?(?=^\S|^\n)", text, flags=re.S | re.M)
    assert bullet
    named = re.findall(r"`([\w:*<>]+)`", bullet[0])
    modules, _ = _code_names()
    keys = {
        value
        for mod in modules.values()
        for name, value in vars(mod).items()
        if name.endswith("_META") and isinstance(value, str)
    }
    assert len(keys) >= 10
    prefixes = [p for n in named if (p := n.split("<")[0].rstrip("*"))]
    missing = [k for k in sorted(keys) if not any(k.startswith(p) for p in prefixes)]
    assert not missing, f"meta keys not in the architecture's meta bullet: {missing}"


def test_the_readme_live_view_states_are_the_pipelines() -> None:
    """The README's list of a scene row's states is every state the pipeline reports for
    a scene's keyframe or clip (and no other)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    found = re.search(r"a row per scene: (.*?); totals", readme, flags=re.S)
    assert found
    listed = set(re.findall(r"[a-z]+", re.sub(r"\(.*?\)", "", found[1], flags=re.S)))
    listed -= {"or"}
    source = (SRC / "pipeline.py").read_text(encoding="utf-8")
    states = set(
        re.findall(r'reporter\.step\(\s*"(?:keyframes|clips|scenes)",[^,]+,\s*"(\w+)"', source)
    )
    assert {"queued", "done", "failed"} <= states
    resumed = re.search(r"\((or \w+)", found[1])
    shown = listed | ({resumed[1].split()[1]} if resumed else set())
    assert shown == states, f"README {sorted(shown)} != pipeline {sorted(states)}"


def test_the_readme_quality_table_and_frame_sizes_are_the_compositors() -> None:
    """The README's quality table gives each quality's x264 preset and CRF and its
    sound's AAC options, and the README and config.example.yaml give each aspect's frame
    sizes, as the code has them."""
    from mindmovie.compose.timeline import AAC_BY_QUALITY, ASPECTS, QUALITY, output_size

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    for quality, (preset, crf) in QUALITY.items():
        aac = dict(zip(AAC_BY_QUALITY[quality][::2], AAC_BY_QUALITY[quality][1::2], strict=True))
        sound = aac.pop("-b:a").replace("k", " kb/s")
        if aac.pop("-aac_coder", None) == "fast":
            sound += ", fast coder"
        assert not aac, aac  # (an option the table does not say)
        row = rf"^\| `{quality}`.*?\| {preset} / {crf} \| {sound} \|"
        assert re.search(row, readme, re.M), quality
    for aspect in ASPECTS:
        sizes = " / ".join(
            "{}x{}".format(*output_size(aspect, r)) for r in ("480p", "720p", "1080p")
        )
        assert f"{sizes} ({aspect})" in readme, aspect
        assert ", ".join(sizes.split(" / ")) in example, aspect


def test_the_mindmovie_variables_the_docs_name_are_read() -> None:
    """Every MINDMOVIE_* variable a document names is a setting (MINDMOVIE_A__B) or one
    the process reads itself (the config file, the crash tests' knobs)."""
    from mindmovie.config import _NOT_SETTINGS

    settings = {"MINDMOVIE_" + "__".join(p).upper() for p in _fields(Settings)}
    sections = {"MINDMOVIE_" + p[0].upper() for p in _fields(Settings) if len(p) > 1}
    wrong = []
    for doc in ("README.md", "docs/architecture.md", "config.example.yaml", ".env.example"):
        text = (REPO / doc).read_text(encoding="utf-8")
        for name in set(re.findall(r"MINDMOVIE_\w+", text)):
            if name == "MINDMOVIE_" or name.upper() in settings | sections | _NOT_SETTINGS:
                continue
            if re.fullmatch(r"MINDMOVIE_(PLANNER|KEYFRAMES|VIDEO)__OPTIONS__\w+", name):
                continue  # a stage option: its names are the provider's (test_config)
            wrong.append(f"{doc}: {name}")
    assert not wrong, f"variables mindmovie does not read: {wrong}"


def test_the_architecture_flow_names_code_that_exists() -> None:
    """The names in docs/architecture.md's flow diagram (`load_goals`, `Planner.plan`,
    `compose/ffmpeg.render`) are the code's."""
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    flow = text[text.index("## Flow") :].split("```")[1]
    modules, classes = _code_names()
    wrong, checked = [], 0
    for name in sorted(set(re.findall(r"[A-Za-z_][\w/]*(?:\.\w+)?", flow))):
        if re.search(r"\.(yaml|png|mp4)$", name) or name in ("id", "scenes", "goals"):
            continue
        head, _, attr = name.partition(".")
        if "/" in head and head.split("/")[0] not in ("compose", "providers"):
            continue  # a run folder's path
        if "/" in head:
            obj: Any = importlib.import_module("mindmovie." + head.replace("/", "."))
        elif head in classes:
            obj = classes[head]
        elif "_" in head:  # a function (`load_goals`)
            found = [m for m in modules.values() if hasattr(m, head)]
            checked += 1
            if not found:
                wrong.append(name)
            continue
        else:
            continue
        checked += 1
        if attr and not hasattr(obj, attr):
            wrong.append(name)
    assert checked >= 5
    assert not wrong, f"the flow diagram names what the code does not have: {wrong}"


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md"])
def test_the_bare_code_names_the_docs_give_are_in_the_code(doc: str) -> None:
    """A snake_case name a document gives alone (`_recover_orphans`, `soften_prompt`,
    `sim_session`) is a word of the package's, the tests' or the bench's source."""
    text = (REPO / doc).read_text(encoding="utf-8")
    source = "\n".join(
        p.read_text(encoding="utf-8")
        for d in ("src", "tests", "bench")
        for p in (REPO / d).rglob("*")
        if p.suffix in (".py", ".toml") and p.name != "test_docs.py"  # not its own examples
    )
    # the source's words, once: a search of the whole source for each name took 5 s
    words = set(re.findall(r"\w+", source))
    wrong, checked = [], 0
    for token in sorted(set(re.findall(r"`([^`\s]+)`", text))):
        name = token.split("(")[0].rstrip(".,:")
        if re.fullmatch(r"_?[a-z][a-z0-9]*(_[a-z0-9]+)+|_[a-z][a-z0-9]*", name):
            checked += 1
            if name not in words:
                wrong.append(token)
    assert checked >= 3
    assert not wrong, f"{doc} names what the code does not have: {wrong}"


def test_the_readme_option_values_short_forms_and_presets_are_the_clis() -> None:
    """The README's `--until` stages and default, its short forms (`-c` (`--config`))
    and its presets table are what the CLI and the settings take."""
    import typing

    import typer.main

    from mindmovie.cli import app
    from mindmovie.config import PRESETS
    from mindmovie.pipeline import Until

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    group: Any = typer.main.get_command(app)
    render = {p.name: p for p in group.commands["render"].params}
    found = re.search(r"`--until ([\w|]+)` \(default `(\w+)`\)", readme)
    assert found, "no `--until a|b` (default `x`) in the README"
    assert found[1].split("|") == list(typing.get_args(Until))
    assert found[2] == render["until"].default
    shorts = {
        s: long
        for cmd in group.commands.values()
        for p in cmd.params
        for long in p.opts
        if long.startswith("--")
        for s in (*p.opts, *p.secondary_opts)
        if re.fullmatch(r"-\w", s)
    }
    said = dict(re.findall(r"`(-\w)`\s+\(`(--[\w-]+)`\)", readme))
    assert said == shorts, f"README {said} != CLI {shorts}"
    table = readme[readme.index("| preset | planner") :].split("\n\n")[0]
    assert re.findall(r"^\| `(\w+)`", table, flags=re.M) == list(PRESETS)


def test_the_readme_preset_keys_and_which_key_name_wins_are_the_codes() -> None:
    """The README's presets table names the key variables each preset's providers need,
    and the README and .env.example say which of a key's two names is used (`ARK_API_KEY`
    over `BYTEPLUS_API_KEY`): as `PRESETS` and `KEY_VARIABLES` have them. Only the
    presets' names were checked, so a preset given another provider, or a key name
    added or put first in the code, left the docs naming the old variables."""
    from mindmovie.config import KEY_VARIABLES, PRESETS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| preset | planner") :].split("\n\n")[0]
    rows = re.findall(r"^\| `(\w+)`.*\| ([^|]*) \|$", table, flags=re.M)
    assert [name for name, _ in rows] == list(PRESETS)
    for name, keys in rows:
        needed = dict.fromkeys(KEY_VARIABLES[p][0] for p in PRESETS[name] if p in KEY_VARIABLES)
        said = re.findall(r"`(\w+)`", keys) if keys != "none" else []
        assert said == list(needed), f"{name}: README keys {said}, the code's {list(needed)}"
    two = [names for names in KEY_VARIABLES.values() if len(names) > 1]
    pairs = [f"`{names[0]}` over `{other}`" for names in two for other in names[1:]]
    prose = _prose("README.md")
    assert all(p in prose for p in pairs), f"README: not {pairs}"
    env_example = " ".join((REPO / ".env.example").read_text(encoding="utf-8").split())
    firsts = f"the first is used ({', '.join(names[0] for names in two)})"
    assert firsts in env_example, f".env.example: not {firsts!r}"


def test_the_categories_with_their_own_colours_are_the_painters() -> None:
    """The goal categories the README, examples/goals.yaml and `mindmovie init`'s
    template and questions (`KNOWN_CATEGORIES`) list as getting their own colours are
    the offline painter's palettes (`PALETTES`), in its order: a palette added or
    renamed left four lists naming the old ones, and nothing compared them."""
    from mindmovie.goals import KNOWN_CATEGORIES
    from mindmovie.init_goals import TEMPLATE
    from mindmovie.providers.local_media import PALETTES

    assert tuple(PALETTES) == KNOWN_CATEGORIES

    said = {
        "README.md": (REPO / "README.md").read_text(encoding="utf-8"),
        "examples/goals.yaml": " ".join(
            (REPO / "examples" / "goals.yaml").read_text(encoding="utf-8").split()
        ),
        "init template": " ".join(TEMPLATE.split()),
    }
    listed = {
        "README.md": "/".join(PALETTES) + " get their own palettes",
        "examples/goals.yaml": "# " + ", ".join(PALETTES) + ", # or your own word",
        "init template": "# " + ", ".join(PALETTES) + ", # or your own word",
    }
    wrong = [doc for doc, text in said.items() if listed[doc] not in text]
    assert not wrong, f"not the palettes {list(PALETTES)}: {wrong}"


def test_the_readme_exit_codes_are_the_clis() -> None:
    """The README's exit codes of `render`, and `render --help`'s, are the CLI's own
    constants."""
    import inspect

    import typer.main

    from mindmovie import cli

    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    said = readme[readme.index("`render`'s exit codes") :].split("`doctor` exits")[0]
    group: Any = typer.main.get_command(cli.app)
    helped = " ".join(group.commands["render"].help.split())
    for code, what in (
        (cli.EXIT_USAGE, "a mistake to fix"),
        (cli.EXIT_FAILED, "a failure"),
        (cli.EXIT_BUDGET, "stopped at the budget"),
        (130, "interrupted"),
    ):
        assert f"{code} {what}" in said, (code, what)
        assert f"{code} {what}" in helped, (code, what, helped)
    # the causes the help once left out, though the CLI exits with them
    for cause in ("a damaged run folder or run.db", "a full disk"):
        assert cause in said.replace("`", "") and cause in helped, (cause, helped)
    assert "typer.Exit(130)" in inspect.getsource(cli)


def _bounds_of(path: tuple[str, ...]) -> tuple[float | None, float | None]:
    """(lowest, highest) a setting allows, from its field's ge/gt and le/lt."""
    model: Any = Settings
    for part in path[:-1]:
        model = model.model_fields[part].annotation
    lo = hi = None
    for m in model.model_fields[path[-1]].metadata:
        lo = getattr(m, "ge", None) if getattr(m, "ge", None) is not None else lo
        lo = getattr(m, "gt", None) if getattr(m, "gt", None) is not None else lo
        hi = getattr(m, "le", None) if getattr(m, "le", None) is not None else hi
    return lo, hi


def test_config_example_ranges_are_the_settings_bounds() -> None:
    """A range config.example.yaml gives on a setting's line, `(8-60)`, `over 0 and at
    most 30` or `-1 to 2147483647`, is the setting's own bounds."""
    lines = (REPO / "config.example.yaml").read_text(encoding="utf-8").splitlines()
    at: list[str] = []
    checked, wrong = 0, []
    for line in lines:
        found = re.match(r"^( *)(\w+):(.*)$", line)
        if not found:
            continue
        depth = len(found[1]) // 2
        at = [*at[:depth], found[2]]
        comment = found[3].partition("#")[2]
        ranges = re.findall(r"\((\d+)-(\d+)[;)]", comment)
        ranges += [("0", n) for n in re.findall(r"over 0 and at most (\d+)", comment)]
        ranges += re.findall(r"(-?\d+) to (\d+)", comment)  # the seeds' "-1 to 2147483647"
        for lo, hi in ranges:
            checked += 1
            if _bounds_of(tuple(at)) != (float(lo), float(hi)):
                wrong.append(f"{'.'.join(at)}: ({lo}-{hi}) but {_bounds_of(tuple(at))}")
    assert checked >= 6
    assert not wrong, f"config.example.yaml ranges that are not the settings': {wrong}"


def _choices(path: tuple[str, ...]) -> list[str]:
    """The values a choice setting (a `Literal`, maybe `| None`) takes, in the code's order;
    [] for any other setting."""
    import typing

    model: Any = Settings
    for part in path[:-1]:
        model = model.model_fields[part].annotation
    kinds = [model.model_fields[path[-1]].annotation]
    kinds += list(typing.get_args(kinds[0])) if typing.get_origin(kinds[0]) is not None else []
    return next(
        (list(typing.get_args(k)) for k in kinds if typing.get_origin(k) is typing.Literal), []
    )


def test_config_example_lists_each_choice_settings_values() -> None:
    """The values config.example.yaml lists for a choice setting (`# 16:9, 9:16 or 1:1`,
    the presets' `#   local - ...` lines, each stage's `provider:`) are the ones the code
    takes, in its order: the ranges above were checked, these lists were not, so a value
    added or dropped in the code left the file a person copies naming the old ones."""
    import typing

    from mindmovie.config import PresetName

    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    at: list[str] = []
    wrong, checked = [], 0
    for line in text.splitlines():
        found = re.match(r"^( *)(\w+):(.*)$", line)
        if not found:
            continue
        at = [*at[: len(found[1]) // 2], found[2]]
        values = _choices(tuple(at))
        comment = re.sub(r"\s*\([^)]*\)", "", found[3].partition("#")[2])
        listed = re.search(r"((?:[\w:]+, )*[\w:]+ or [\w:]*\w)", comment)
        if not values or not listed:
            continue
        checked += 1
        if re.split(r", | or ", listed[1]) != values:
            wrong.append(f"{'.'.join(at)}: {listed[1]!r}, the code: {values}")
    presets = re.findall(r"^#\s+(\w+)\s+- ", text, flags=re.M)
    if presets != list(typing.get_args(PresetName)):
        wrong.append(f"preset: {presets}, the code: {typing.get_args(PresetName)}")
    found = re.search(r"# provider: planner (.*?); keyframes and video (.*?)\.\n", text)
    assert found, "no '# provider: planner ...; keyframes and video ...' line"
    for stage, said in (("planner", found[1]), ("keyframes", found[2]), ("video", found[2])):
        if re.split(r", | or ", said) != _choices((stage, "provider")):
            wrong.append(f"{stage}.provider: {said!r}, the code: {_choices((stage, 'provider'))}")
    assert checked >= 4
    assert not wrong, f"config.example.yaml lists values the code does not take: {wrong}"


def test_the_readme_doctor_exit_codes_are_the_doctors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README: `doctor` exits 0 when the preset can run, 1 when it cannot, 2 when the
    settings cannot be read."""
    import os

    from typer.testing import CliRunner

    from mindmovie.cli import app

    readme = _readme_quotes()
    assert "`doctor` exits 1 when the preset cannot run, and 2" in readme
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith(("MINDMOVIE_", "ANTHROPIC_"))]:
        monkeypatch.delenv(name)
    (tmp_path / "bad.yaml").write_text("output:\n  fps: 7\n")
    r = CliRunner().invoke(app, ["doctor", "-c", "bad.yaml"])
    assert r.exit_code == 2 and "bad.yaml:2: output.fps" in r.stderr, r.stderr
    r = CliRunner().invoke(app, ["doctor", "--preset", "byteplus"])
    assert r.exit_code == 1, r.output


def test_the_readme_storyboard_labels_are_the_boards() -> None:
    """The README quotes the storyboard's labels for out-of-date keyframes and clips."""
    from mindmovie.storyboard import OLD_CLIP, OLD_KEYFRAME

    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    for label in (OLD_KEYFRAME, OLD_CLIP):
        shown = label.split(";")[0]
        assert f"`{shown}`" in readme, shown


def test_config_example_names_every_stage_option_each_provider_reads() -> None:
    """config.example.yaml lists, per stage and provider, the `options` that provider
    reads (and refuses any other): the same names as the code's sets."""
    from mindmovie.providers import anthropic, byteplus, google

    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    block = text[text.index("# options:") : text.index("# The local provider")]
    listed: dict[tuple[str, str], set[str]] = {}
    stage = ""
    for line in block.splitlines()[1:]:
        body = line.lstrip("#").strip()
        if found := re.match(r"(planner|keyframes|video)\s+(.*)", body):
            stage, body = found[1], found[2]
        if found := re.match(r"(\w+): (.*)", body):
            provider, body = found[1], found[2]
        listed.setdefault((stage, provider), set()).update(
            n for n in re.split(r"[,\s]+", body) if n
        )
    assert listed == {
        ("planner", "anthropic"): set(anthropic.PLANNER_OPTIONS),
        ("keyframes", "byteplus"): set(byteplus.SEEDREAM_OPTIONS),
        ("keyframes", "google"): set(google.KEYFRAME_OPTIONS),
        ("video", "byteplus"): set(byteplus.SEEDANCE_OPTIONS),
        ("video", "google"): set(google.VIDEO_OPTIONS),
    }


def _readme_quotes() -> str:
    """The README with each run of white space as one space (a quoted message is
    wrapped across lines there): `_prose`."""
    return _prose("README.md")


def test_the_readme_goals_errors_are_the_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's quoted goals.yaml errors (a misspelt key, too many goals) are what
    load_goals says for such a file."""
    from mindmovie.goals import GoalsError, load_goals

    readme = _readme_quotes()
    monkeypatch.chdir(tmp_path)
    goals = Path("goals.yaml")
    goals.write_text("title: T\ngoals:\n  - category: health\n    visoin: x\n")
    with pytest.raises(GoalsError) as e:
        load_goals(goals)
    assert f"`{e.value}`" in readme, str(e.value)
    many = [{"category": "c", "vision": "v"}] * 31
    goals.write_text("#\n" * 6 + yaml.safe_dump({"title": "T", "goals": many}))
    with pytest.raises(GoalsError) as e:
        load_goals(goals)
    assert f"`{e.value}`" in readme, str(e.value)


def test_the_readme_key_and_dotenv_messages_are_the_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's quoted missing-key error and .env warning are the code's."""
    from mindmovie.config import ConfigError, Keys, dotenv_problems
    from mindmovie.pipeline import Pipeline

    readme = _readme_quotes()
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    byteplus = load_settings(None, {"preset": "byteplus"}, env={})
    keys = Keys.from_env({"ANTHROPIC_API_KEY": "sk-ant-x"})
    goals = REPO / "examples" / "goals.yaml"
    pipeline = Pipeline(goals, byteplus, out=tmp_path / "run", keys=keys)
    with pytest.raises(ConfigError) as error:
        pipeline._build_providers()
    assert f"`{error.value}`" in readme, str(error.value)
    env = Path(".env")
    env.write_text('A=1\nB=2\nC=3\nARK_API_KEY="abc\n')
    (problem,) = dotenv_problems(env)
    assert f"`{problem}`" in readme, problem


def test_render_help_explains_let_go() -> None:
    """`render --help` says what `--let-go` does: for the jobs kept because the provider
    settings changed, counted as spent, the clips bought again after the question."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    r = CliRunner().invoke(app, ["render", "--help"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "--let-go" in text, text
    assert "provider settings changed" in text and "counted as spent" in text, text
    assert "asked first" in text, text


def test_storyboard_help_says_when_it_compares_with_goals_yaml() -> None:
    """`storyboard --help` said --goals defaults to "the one the last render used", but
    a board asked for with no option is drawn from the run alone (goals.yaml's edits not
    marked, as `status` marks them): it says so."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    r = CliRunner().invoke(app, ["storyboard", "--help"], env={"COLUMNS": "300"})
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert "Without it, --config or a settings flag, the board shows the run as it is" in text
    assert "default: the one the last render used" not in text, text


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md", "bench/README.md"])
def test_the_tests_the_docs_name_are_tests(doc: str) -> None:
    """Each `test_file.py::test_name` a document names (the lessons table names the test
    that proves each trap designed out) is a test function of that file in tests/: a
    renamed or removed test would leave the table vouching for nothing."""
    text = (REPO / doc).read_text(encoding="utf-8")
    files: dict[str, list[Path]] = {}
    for p in (REPO / "tests").rglob("test_*.py"):
        files.setdefault(p.name, []).append(p)
    named = set(re.findall(r"`(test_\w+\.py)::(test_\w+)`", text))
    wrong = []
    for name, test in sorted(named):
        paths = files.get(name, [])
        pattern = rf"^(async )?def {test}\("
        if not any(re.search(pattern, p.read_text(encoding="utf-8"), re.M) for p in paths):
            wrong.append(f"{name}::{test}" + ("" if paths else " (no such file)"))
    if doc == "docs/architecture.md":
        assert len(named) > 50, len(named)
    assert not wrong, f"{doc} names tests that are not there: {wrong}"


COMMANDS = ["render", "plan", "estimate", "status", "storyboard", "init", "doctor", "providers"]


def _help(monkeypatch: pytest.MonkeyPatch, capsys: Any, args: list[str], columns: int) -> str:
    """What `mindmovie ARGS --help` prints (the console script's `main`) at `columns`."""
    import sys

    from mindmovie import cli

    monkeypatch.setattr(cli.app, "rich_markup_mode", "rich")  # main sets it: put back
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setattr(sys, "argv", ["mindmovie", *args, "--help"])
    with pytest.raises(SystemExit) as e:
        cli.main()
    assert e.value.code == 0
    text: str = capsys.readouterr().out
    return text


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_at_40_columns_cuts_no_option_nor_its_help(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, command: str
) -> None:
    """At 40 columns (COLUMNS=40) typer's boxed help cut the options' names and help
    with an ellipsis: '--resolu…', '$MINDMO…', '(defaul…', 'byteplu…'. Under 60 columns
    the help is click's plain text, wrapped to the terminal: nothing cut, no line over
    40 columns, each option named whole."""
    text = _help(monkeypatch, capsys, [command] if command else [], 40)
    assert "…" not in text, text
    assert all(len(line) <= 40 for line in text.splitlines()), text
    if command in ("render", "status"):
        for option in ("--config", "--preset", "--resolution", "--quality", "--fps"):
            assert f"  {option}" in text or f", {option}" in text, text
        assert "local (default), byteplus, google." in " ".join(text.split()), text


@pytest.mark.parametrize("args", [[], ["render"], ["init"]])
def test_help_under_python_oo_is_the_same_help(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, args: list[str]
) -> None:
    """`python -OO` (PYTHONOPTIMIZE=2, as some installs and images run Python) strips
    docstrings, which were the commands' help: `mindmovie --help` listed the commands
    with no word of what each does, and `render --help` had no description, nor its exit
    codes. The help is the same with docstrings stripped."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "80", "TERM": "dumb"}
    r = subprocess.run(
        [sys.executable, "-OO", "-m", "mindmovie", *args, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == _help(monkeypatch, capsys, args, 80)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_says_each_default_once(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, command: str
) -> None:
    """A default the help text gives in words was said again by typer: `init`'s DIR
    "Where to write goals.yaml (default: here). [default: .]", `render --until`'s
    "... or movie (default). ... [default: movie]"."""
    text = " ".join(_help(monkeypatch, capsys, [command], 80).split())
    assert "[default:" not in text, text


def test_help_at_80_columns_is_as_it_was(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """The boxed rich help from 60 columns up (the narrow help does not leak into it)."""
    text = _help(monkeypatch, capsys, ["render"], 80)
    assert "╭─ Options" in text and "--resolution" in text, text


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_type_for_a_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: Any, command: str
) -> None:
    """typer 0.29 gave a flag a value's type in the boxed help (`--yes -y <bool>`, even
    `--help <bool>`), and `--yes true` was then refused as an extra argument. A flag
    shows none; an option that takes a value keeps its type."""
    text = _help(monkeypatch, capsys, [command], 120)
    assert "<bool>" not in text, text
    assert "--help" in text, text
    if command == "render":
        assert "<int>" in text, text  # --fps


def _prose(doc: str) -> str:
    """A document without its fenced blocks (their three backticks would pair each later
    span's closing backtick with the next one's opening), each run of white space one
    space (a code span or a figure may be wrapped across lines)."""
    text = (REPO / doc).read_text(encoding="utf-8")
    return " ".join(re.sub(r"^```.*?^```", "", text, flags=re.S | re.M).split())


def _spans(doc: str) -> list[str]:
    """Every `code span` of a document, spaces and all."""
    return re.findall(r"`([^`]+)`", _prose(doc))


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md"])
def test_the_calls_the_docs_write_name_the_functions_parameters(doc: str) -> None:
    """A call a document writes out, `Store.begin(same_request=)`, `Planner.plan(goals,
    options, *, before_repair=)`, `Store.succeed(..., bill=)`, names parameters that
    function has: a renamed keyword would leave the page sending the reader to none (the
    checks above stop at the `(`, and skip a span with a space in it)."""
    import inspect

    modules, classes = _code_names()
    wrong, checked = [], 0
    for span in sorted(set(_spans(doc))):
        found = re.fullmatch(r"([A-Za-z_]\w*(?:\.\w+)*)\((.+)\)(?:\s*->.*)?", span)
        if not found:
            continue
        head, *attrs = found[1].split(".")
        obj: Any = classes.get(head) or modules.get(head)
        if obj is None and not attrs:  # a function named alone (`assemble_plan`)
            obj = next((getattr(m, head) for m in modules.values() if hasattr(m, head)), None)
        if obj is None:
            continue  # `os._exit(...)`, `Cls.from_settings(...)`: not one of ours
        for attr in attrs:
            obj = getattr(obj, attr, None)
        if not callable(obj):
            wrong.append(f"{span}: no such function")
            continue
        params = inspect.signature(obj).parameters
        for arg in found[2].split(","):
            name = arg.split("=")[0].strip()
            if name in ("", "...", "*"):
                continue
            checked += 1
            if name not in params:
                wrong.append(f"{span}: {name}")
    assert checked >= (15 if doc.startswith("docs") else 0)
    assert not wrong, f"{doc} names parameters the code does not have: {wrong}"


#: a document's units for a constant's value, in the constant's own (seconds, bytes)
_UNITS = {"": 1, "s": 1, "min": 60, "h": 3600, "MB": 1_000_000}


def _value_of(name: str, modules: dict[str, Any], classes: dict[str, type]) -> Any:
    """The value of `NAME`, `module.NAME` or `Class.NAME`; None if it is none of ours."""
    head, _, attr = name.rpartition(".")
    if head:
        owner = classes.get(head) or modules.get(head)
        return getattr(owner, attr, None)
    return next((getattr(m, attr) for m in modules.values() if hasattr(m, attr)), None)


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md"])
def test_the_constant_values_the_docs_give_are_the_codes(doc: str) -> None:
    """A constant a document gives with its value, `LATE_JOB_GRACE` (300 s), `up to 5 s
    (`Pipeline.GRACE_SECONDS`)`, `MIN_FREE_BYTES` (100 MB), has that value in the code:
    the names are checked above, their figures were not."""
    modules, classes = _code_names()
    text = _prose(doc)
    name = r"`((?:\w+\.)?(?:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[a-z]+(?:_[a-z]+)*_seconds))`"
    number = r"(\d+(?:,\d{3})*(?:\.\d+)?)(?: (s|min|h|MB)\b)?"
    said = [(m[1], m[2], m[3]) for m in re.finditer(rf"{name}(?: \(|, | ){number}", text)]
    said += [(m[3], m[1], m[2]) for m in re.finditer(rf"{number} \({name}", text)]
    wrong, checked = [], 0
    for const, figure, unit in said:
        value = _value_of(const, modules, classes)
        if not isinstance(value, int | float):
            continue
        checked += 1
        if float(figure.replace(",", "")) * _UNITS[unit or ""] != value:
            wrong.append(f"`{const}` {figure} {unit or ''}: the code has {value}")
    assert checked >= (10 if doc.startswith("docs") else 0)
    assert not wrong, f"{doc} gives constants values the code does not: {wrong}"


@pytest.mark.parametrize("doc", ["docs/architecture.md", "README.md", "bench/README.md"])
def test_the_options_the_docs_give_a_command_are_that_commands(doc: str) -> None:
    """An option a document gives a command, in a command line (`render --until
    keyframes`, `mindmovie estimate --let-go`) or in the README's "`plan` flags: ..."
    sentence, is that command's: the check above only asks that each option be in the
    README somewhere, so a flag removed or moved to another command stayed documented."""
    commands = {n: set(opts) for n, opts in _commands().items()}
    text = _prose(doc)
    lines = [
        (m[1], m[2])
        for span in _spans(doc)
        if (m := re.match(rf"(?:mindmovie )?({'|'.join(commands)})\b(.*)", span))
    ]
    for name in commands:
        at = text.find(f"`{name}` flags:")
        if at >= 0:
            lines.append((name, re.split(r"\.\s", text[at:], maxsplit=1)[0]))
    wrong, checked = [], 0
    for name, rest in lines:
        for option in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", rest):
            checked += 1
            if option not in commands[name] | {"--help"}:
                wrong.append(f"{name} {option}")
    assert checked >= (10 if doc != "bench/README.md" else 0)
    assert not wrong, f"{doc} gives commands options they do not have: {wrong}"


def test_the_help_names_each_options_values_and_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command's `--preset`, `--aspect`, `--resolution`, `--quality`, `--until` and
    `--fps` help lists the values the code takes and marks the code's default ("16:9
    (default), 9:16 or 1:1", "8 to 60 (default 24)"): the help is the one place a person
    reads them, and nothing compared it with the settings."""
    import typing

    import typer.main

    from mindmovie.cli import app
    from mindmovie.config import Aspect, PresetName, Resolution
    from mindmovie.pipeline import Until

    monkeypatch.chdir(tmp_path)  # no ./config.yaml: the defaults alone
    defaults = load_settings(None, env={})
    quality = Settings.model_fields["compose"].annotation
    assert quality is not None
    want = {
        "--preset": (typing.get_args(PresetName), defaults.preset),
        "--aspect": (typing.get_args(Aspect), defaults.output.aspect),
        "--resolution": (typing.get_args(Resolution), defaults.output.resolution),
        "--quality": (
            typing.get_args(quality.model_fields["quality"].annotation),
            defaults.compose.quality,
        ),
        "--until": (typing.get_args(Until), "movie"),
    }
    lo, hi = _bounds_of(("output", "fps"))
    group: Any = typer.main.get_command(app)
    wrong, checked = [], 0
    for name, cmd in group.commands.items():
        for p in cmd.params:
            option = next((o for o in p.opts if o in want or o == "--fps"), None)
            if option is None:
                continue
            checked += 1
            said = " ".join(p.help.split())
            if option == "--fps":
                found = re.search(r"(\d+) to (\d+) \(default (\d+)\)", said)
                shown = found and tuple(float(n) for n in found.groups())
                if shown != (lo, hi, defaults.output.fps):
                    wrong.append(f"{name} --fps: {said!r}")
                continue
            listing = said.split(": ", 1)[-1].split(". ")[0].rstrip(".")
            items = re.split(r", | or ", listing)
            values, default = want[option]
            listed = [i.removesuffix(" (default)") for i in items]
            marked = [i for i, item in zip(listed, items, strict=True) if item != i]
            if listed != list(values) or marked != [default]:
                wrong.append(f"{name} {option}: {said!r}, the code: {values}, {default!r}")
    assert checked >= 20
    assert not wrong, f"help that is not the code's values or default: {wrong}"


def test_the_readme_figures_are_the_codes() -> None:
    """The figures the README gives without naming their constant (the goals.yaml and
    plan.yaml limits, the 5 s grace, the 5-minute wait for a lost job, 100 MB free, how
    long a result is kept, the reference photos a model takes, the photo warnings, the
    largest photo sent as stored, the frame limits, the loudness) are the code's: a
    changed limit left the README's."""
    from mindmovie import catalog, goals, pipeline
    from mindmovie.compose import audio
    from mindmovie.config import MAX_SIDE, MIN_SIDE
    from mindmovie.plan import MAX_SCENES, Scene
    from mindmovie.providers import google, local_media
    from mindmovie.providers.byteplus import SeedanceVideo
    from mindmovie.providers.google import VeoVideo

    def refs(key: str) -> int:
        spec = catalog.find(key)
        assert spec is not None, key
        return spec.capabilities.max_references

    (photos_a_scene,) = [
        m.max_length
        for m in Scene.model_fields["reference_photos"].metadata
        if hasattr(m, "max_length")
    ]
    fps = _bounds_of(("output", "fps"))
    loudness = re.search(r"I=(-\d+)", audio.LOUDNORM)
    assert loudness
    readme = _prose("README.md")
    figures = [
        f"at most {goals.MAX_GOALS} goals of at most {goals.MAX_SCENES_PER_GOAL} `scenes:` each"
        f" ({goals.MAX_GOALS * goals.MAX_SCENES_PER_GOAL} scenes), {goals.MAX_PHOTOS} photos"
        f" per goal and for the person, and {goals.MAX_TEXT} characters in each text",
        f"plan.yaml: at most {MAX_SCENES} scenes, {photos_a_scene} photos a scene",
        f"({pipeline.Pipeline.GRACE_SECONDS:g} s for calls in flight)",
        f"waiting up to {pipeline.LATE_JOB_GRACE / 60:g} minutes",
        f"a paid render needs {pipeline.MIN_FREE_BYTES / 1e6:g} MB",
        f"sent only with {pipeline.MIN_FREE_BYTES / 1e6:g} MB free",
        f"{SeedanceVideo.result_url_seconds / 3600:g} h Seedance,"
        f" {VeoVideo.result_url_seconds / 3600:g} h Veo",
        f"(Gemini 2.5 Flash Image {refs('gemini-2-5-flash-image')},"
        f" Seedream 4.x {refs('seedream-4-0')})",
        f"enlarged more than {pipeline.SMALL_PHOTO_UPSCALE:g}x",
        f"keeps under {pipeline.CROP_KEPT_MIN:.0%} of it",
        f"one over {local_media.SEND_MAX_BYTES / 1e6:g} MB (to Gemini, over its share of"
        f" {google.GEMINI_INLINE_PHOTO_BYTES / 1e6:g} MB when a scene sends several)",
        f"(even, {MIN_SIDE} to {MAX_SIDE} a side)",
        f"`output.fps` is a whole number, {fps[0]:g} to {fps[1]:g}",
        f"about −{loudness[1].lstrip('-')} LUFS",
    ]
    assert refs("seedream-4-5") == refs("seedream-4-0")  # "Seedream 4.x"
    missing = [f for f in figures if f not in readme]
    assert not missing, f"README figures that are not the code's: {missing}"


def test_config_example_comment_figures_are_the_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figures config.example.yaml's comments give apart from a setting's own line
    (byteplus's calls at a time and max_concurrent's range, the planner's 10 tokens a
    second, output.size's sides) are the code's."""
    from mindmovie.config import MAX_SIDE, MIN_SIDE
    from mindmovie.providers.anthropic import ANSWER_TOKENS_PER_SECOND

    monkeypatch.chdir(tmp_path)  # no ./config.yaml: the defaults alone
    byteplus = load_settings(None, env={}).providers.byteplus.max_concurrent
    lo, hi = _bounds_of(("providers", "byteplus", "max_concurrent"))
    text = (REPO / "config.example.yaml").read_text(encoding="utf-8")
    comments = " ".join(" ".join(line.partition("#")[2] for line in text.splitlines()).split())
    figures = [
        f"(byteplus: {byteplus} keyframes and {byteplus} videos at once), {lo:g} to {hi:g}",
        f"max_tokens at {ANSWER_TOKENS_PER_SECOND:g} tokens a second",
        f"even numbers, {MIN_SIDE}-{MAX_SIDE} pixels per side",
    ]
    missing = [f for f in figures if f not in comments]
    assert not missing, f"config.example.yaml figures that are not the code's: {missing}"


def test_the_readmes_example_render_is_what_the_e2e_tests_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's `mindmovie render examples/goals.yaml` is the command the e2e tests
    run (`python -m mindmovie`, which the console script `mindmovie` is too), lands where
    the README says, and is the movie it describes: so many scenes, so long, at the
    default resolution (the e2e tests render it smaller, so those figures are the
    settings')."""
    import tomllib

    from mindmovie.fsutil import folder_name
    from mindmovie.goals import load_goals

    render = next(b for b in _readme_blocks() if b.startswith("mindmovie render"))
    assert render == "mindmovie render examples/goals.yaml", render
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"] == {"mindmovie": "mindmovie.entry:main"}
    main = (SRC / "__main__.py").read_text(encoding="utf-8")
    assert "from mindmovie.entry import main\n\nmain()" in main, main
    # the render test_render_example_offline checks is the `finished` fixture's, made
    # in a fresh interpreter (tests/e2e/conftest.py)
    e2e = (REPO / "tests" / "e2e" / "test_render.py").read_text(encoding="utf-8")
    assert "def test_render_example_offline(finished: Path)" in e2e
    conftest = (REPO / "tests" / "e2e" / "conftest.py").read_text(encoding="utf-8")
    made = conftest[conftest.index("def _finished_template(") :].split("\ndef ")[0]
    assert '["render", "examples/goals.yaml",' in made, made
    assert '[sys.executable, "-m", "mindmovie", *argv' in made, made

    monkeypatch.chdir(tmp_path)  # no ./config.yaml: the defaults alone
    s = load_settings(None, env={})
    goals = load_goals(REPO / "examples" / "goals.yaml")
    n = sum(g.scenes or s.plan.scenes_per_goal for g in goals.goals)
    c = s.compose
    seconds = c.title_seconds + n * s.plan.scene_seconds + c.closing_seconds - (n + 1) * c.crossfade
    readme = _prose("README.md")
    lands = f"lands in `{s.output_dir}/{folder_name(goals.title)}/movie.mp4`"
    said = f"the example ({n} scenes, {seconds:g} s at {s.output.resolution})"
    missing = [f for f in (lands, said) if f not in readme]
    assert not missing, f"the README does not say {missing}"


def test_the_bench_run_lines_parse() -> None:
    """Each bench/README run line is taken by its script's own parser, values and all
    (`--parts engnes` has only option names the script has): run with `--help` last,
    which argparse reaches only once every option before it was read, so the bench
    itself is not run."""
    import os
    import subprocess
    import sys

    text = (REPO / "bench" / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^    python (bench/\w+\.py[^#\n]*)", text, flags=re.M)
    assert len(lines) >= 5
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    wrong = []
    for line in sorted({line.strip() for line in lines}):
        r = subprocess.run(
            [sys.executable, *line.split(), "--help"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            wrong.append(f"{line}: {r.stderr.strip().splitlines()[-1:]}")
    assert not wrong, f"bench/README run lines their scripts refuse: {wrong}"


def test_the_readme_s_rate_limit_patience_is_the_code_s() -> None:
    """The README tells how long a call turned away with 429s is waited out: the
    figure is `retry.RATE_LIMIT_PATIENCE`'s, not a number written once."""
    from mindmovie.retry import RATE_LIMIT_PATIENCE

    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert f"for up to {RATE_LIMIT_PATIENCE / 60:g} minutes from its first 429" in readme


def test_dash_h_shows_the_help_as_dash_dash_help_does() -> None:
    """`mindmovie -h` and `mindmovie render -h` said "No such option: -h" (options audit)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    for args in ([], ["render"], ["status"]):
        short = CliRunner().invoke(app, [*args, "-h"], env={"COLUMNS": "200"})
        long = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert short.exit_code == 0 and short.output == long.output, short.output
