"""The libyaml fast path reads what the pure-Python loader reads, the same way."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from mindmovie import yamlsrc
from mindmovie.yamlsrc import SourceError, YamlDoc, parse_yaml

REPO = Path(__file__).parents[2]
#: characters a hand edit (or a slip) puts into a YAML file
_EDITS = list("abc: -\n\t#'\"[]{},&*!|>%@`?~\\é☕0123456789.")


def _mutated(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(chars))
        op = rng.random()
        if op < 0.4:
            chars.insert(i, rng.choice(_EDITS))
        elif op < 0.8:
            chars.pop(i)
        else:
            chars[i] = rng.choice(_EDITS)
    return "".join(chars)


def _read(text: str) -> YamlDoc | str:
    try:
        return parse_yaml(text, Path("x.yaml"))
    except SourceError as e:
        return f"error: {e}"


def test_slips_in_hand_edits_read_alike_with_and_without_libyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Edits of the example goals.yaml and config.example.yaml (seeded): wherever both
    parsers take the text they give the same data and lines, and an error is the same
    message (the pure-Python loader words it either way). The one difference found: a
    tab inside a plain value ("run<TAB>ning"), valid YAML that libyaml reads and the
    pure-Python scanner refused."""
    assert yamlsrc._FAST_LOADER is not None  # PyYAML's wheels carry libyaml
    rng = random.Random(20261201)
    bases = [
        (REPO / "examples" / "goals.yaml").read_text(encoding="utf-8"),
        (REPO / "config.example.yaml").read_text(encoding="utf-8"),
    ]
    outcomes = {"same": 0, "tab": 0}
    for _ in range(200):
        text = _mutated(rng.choice(bases), rng)
        fast = _read(text)
        with monkeypatch.context() as m:
            m.setattr(yamlsrc, "_FAST_LOADER", None)
            slow = _read(text)
        if isinstance(fast, YamlDoc) and isinstance(slow, str):
            assert "\t" in text, (slow, text)
            tabless = _read(text.replace("\t", " "))
            assert isinstance(tabless, YamlDoc), (slow, text)
            outcomes["tab"] += 1
            continue
        if isinstance(fast, YamlDoc) and isinstance(slow, YamlDoc):
            assert (fast.data, fast.lines) == (slow.data, slow.lines), text
        else:
            assert fast == slow, text
        outcomes["same"] += 1
    assert outcomes["same"] > 180, outcomes


def test_a_tab_in_a_plain_value_is_read_and_a_tab_indent_is_still_refused() -> None:
    doc = parse_yaml("title: run\tning\n", Path("x.yaml"))
    assert doc.data == {"title": "run\tning"}
    with pytest.raises(SourceError) as err:
        parse_yaml("goals:\n\t- vision: a\n", Path("x.yaml"))
    assert "indent with spaces, not tabs" in str(err.value)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        # an unquoted ': ' in a value, and a key indented deeper than its neighbours
        ("goals:\n  - category: c\n    vision: Run: every day\n", "must be quoted"),
        ("goals:\n  - category: c\n      vision: v\n", "line up"),
        ("title: T\n goals:\n  - category: c\n", "line up"),
        # a key indented less than the item it belongs to
        ("goals:\n  - category: c\n  vision: v\n", "line up"),
        # a quote inside a quoted value, which ends it (said "line up" the keys)
        ("goals:\n  - category: c\n    vision: 'I'm strong'\n", "write it twice ('I''m"),
        ("title: 'It' s'\n", "write it twice"),
        ("goals:\n  - 'I'm'\n", "write it twice"),
        ("photos: ['a'b.jpg']\n", "write it twice"),
        ('title: "say "yes" now"\n', 'write it as \\" ("say'),
    ],
)
def test_the_yaml_errors_of_hand_written_mistakes_say_what_to_do(text: str, hint: str) -> None:
    """PyYAML's "mapping values are not allowed here" and "expected <block end>, but
    found '?'" name no mistake a person made: a colon in a value that is not quoted,
    a key indented unlike its neighbours. The message says what to do, as for a tab."""
    with pytest.raises(SourceError) as err:
        parse_yaml(text, Path("x.yaml"))
    assert hint in str(err.value), str(err.value)
    assert str(err.value).count("; ") == 1, str(err.value)  # one hint, not two


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("[Draft] I am rich", "starts with '[' is read as YAML's own syntax"),
        ("{Name} is free", "starts with '{'"),
        ("@work every day", "starts with '@'"),
        ("`code` daily", "starts with '`'"),
        ("%100 sure", "starts with '%'"),
        ("|pipe dream", "starts with '|'"),
        (",comma", "starts with ','"),
        ("*alias text", "starts with '*'"),
        ("[a.jpg, b.jpg", "is a YAML list, closed with ']'"),
    ],
)
def test_a_value_starting_with_a_yaml_mark_is_said_to_need_quotes(value: str, said: str) -> None:
    """A value starting with one of YAML's own marks (the text audit): PyYAML's words named
    a syntax never meant ("found character '@' that cannot start any token"), and
    "expected <block end>" got the hint to line up keys that were lined up."""
    text = f"title: T\ngoals:\n  - category: c\n    affirmation: {value}\n"
    with pytest.raises(SourceError) as err:
        parse_yaml(text, Path("x.yaml"))
    msg = err.value.message
    assert said in msg and f"quote it (affirmation: {value!r}".replace("'", '"') in msg, msg
    assert "line up" not in msg and msg.count("; a ") == 1, msg


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        ("title: T\ngoals:\n  - category: c\n    vision:Strong\n", 4, "write vision: Strong"),
        ("title: T\ngoals:\n  - category: c\n    vision:Strong\n    scenes: 2\n", 4, "vision: "),
        ("title:T\ngoals:\n  - category: c\n", 1, "write title: T"),
        ("title: T\ngoals:\n  - category:c\n    vision: v\n", 3, "write - category: c"),
        ("title: T\ngoals:\n  -category: c\n    vision: v\n", 3, "space after its dash"),
    ],
)
def test_a_key_or_dash_without_its_space_is_named_on_its_own_line(
    text: str, line: int, said: str
) -> None:
    """`vision:Strong` is the text "vision:Strong" to YAML, not a key: PyYAML said "could
    not find expected ':'" (of a line with one) or "mapping values are not allowed here"
    with the hint to quote a value's ': ', and on the line after the mistake."""
    with pytest.raises(SourceError) as err:
        parse_yaml(text, Path("x.yaml"))
    assert (err.value.line, said in err.value.message) == (line, True), str(err.value)


NBSP_SAID = (
    "invalid YAML: a no-break space (U+00A0) where YAML needs a plain space (pasted from a "
    "web page or a document, or typed by mistake): type a space instead"
)
GOALS_2 = "title: T\ngoals:\n  - category: c\n    vision: v\n  - category: d\n    vision: w\n"


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("title: T", "title:\u00a0T", 1),  # after a key's colon
        ("    vision: v", "\u00a0   vision: v", 4),  # in the indentation
        ("  - category: d", "\u00a0 - category: d", 5),
        ("  - category: d", "  -\u00a0category: d", 5),  # after a list dash
        ("    vision: v", "    vision:\u00a0v", 4),
    ],
)
def test_a_no_break_space_where_yaml_needs_a_space_is_named_on_its_own_line(
    old: str, new: str, line: int
) -> None:
    """A no-break space (pasted from a web page, or Option+Space on a Mac) looks like a
    space and is not one to YAML: PyYAML said "mapping values are not allowed here" (or
    "could not find expected ':'") of the line after, with the hint to quote a value's
    ': ', of lines that looked right."""
    with pytest.raises(SourceError) as err:
        parse_yaml(GOALS_2.replace(old, new, 1), Path("x.yaml"))
    assert (err.value.line, err.value.message) == (line, NBSP_SAID), str(err.value)


def test_a_no_break_space_is_blamed_only_where_it_is_the_mistake() -> None:
    """One inside a value is text; one on a line before the mistake is not blamed for it."""
    assert parse_yaml(GOALS_2.replace("vision: v", "vision: v\u00a0w"), Path("x.yaml")).data
    text = GOALS_2.replace("vision: w", "vision: w\n  - category:\u00a0e\n    vision: y: z")
    with pytest.raises(SourceError) as err:
        parse_yaml(text, Path("x.yaml"))
    assert err.value.line == 8 and "no-break" not in err.value.message, str(err.value)


def test_many_no_break_space_lines_before_a_mistake_are_not_each_read_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each line with a no-break space where a space goes was tried by reading the whole
    file again with it fixed: 2000 such lines that YAML reads (`-\u00a0x` is text) before
    an unrelated mistake took 39 s to say the mistake (0.04 s before the hint). Only the
    lines nearest the error are tried; the error is still said where it is."""
    reads = 0
    compose = yamlsrc.compose_yaml

    def counted(text: str) -> object:
        nonlocal reads
        reads += 1
        return compose(text)

    monkeypatch.setattr(yamlsrc, "compose_yaml", counted)
    lines = "".join(f"      -\u00a0line {i}\n" for i in range(300))
    text = GOALS_2 + "    details:\n" + lines + "bad: [\n"
    with pytest.raises(SourceError) as err:
        parse_yaml(text, Path("x.yaml"))
    assert err.value.line == 308 and "no-break" not in err.value.message, str(err.value)
    assert reads <= 11, reads  # the file, and the 10 lines nearest the error fixed


def test_a_long_line_of_many_values_reads_as_fast_as_the_same_values_a_line_each() -> None:
    """The look for a hashtag after each plain value copied the rest of its line: a list
    written on one line (`details: [a, b, ...]`, 5 MB) took 5.6 s to load, 0.3 s written
    a value a line. Timed against the same values a line each (this machine's speed)."""
    import time

    items = ["x" * 100 + str(i) for i in range(40_000)]
    one_line = "details: [" + ", ".join(items) + "]\n"
    a_line_each = "details:\n" + "".join(f"  - {item}\n" for item in items)
    took = []
    for text in (a_line_each, one_line):
        start = time.perf_counter()
        assert len(parse_yaml(text, Path("x.yaml")).data["details"]) == 40_000
        took.append(time.perf_counter() - start)
    assert took[1] < 4 * took[0] + 0.5, took


def test_a_config_no_break_space_is_named_on_its_own_line(tmp_path: Path) -> None:
    from mindmovie.config import ConfigError, load_settings

    cfg = tmp_path / "c.yaml"
    cfg.write_text("output:\n  fps: 30\ncompose:\n  quality:\u00a0draft\n  crossfade: 0\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cfg, env={})
    assert str(e.value) == f"{cfg}:4: not valid YAML ({NBSP_SAID.removeprefix('invalid YAML: ')})"


def test_a_file_too_large_to_be_hand_written_is_refused_without_reading_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """goals.yaml, plan.yaml and the config were read whole before anything else: a video
    given by mistake took its size in memory, and /dev/zero read until the system killed
    the command (exit 137). Now at most MAX_SOURCE_BYTES are read, and one line says so."""
    from mindmovie.config import ConfigError, load_settings
    from mindmovie.goals import GoalsError, load_goals
    from mindmovie.plan import PlanError, load_plan

    monkeypatch.setattr(yamlsrc, "MAX_SOURCE_BYTES", 1 << 20)
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    big = tmp_path / "big.yaml"
    big.write_text("title: T\n" + "# x\n" * (1 << 18))
    said = "file is larger than 1 MB, which no hand-written YAML file is: is it the right file?"
    for load, error in ((load_goals, GoalsError), (load_plan, PlanError)):
        with pytest.raises(error) as e:
            load(big)
        assert str(e.value) == f"{big}: {said}"
    with pytest.raises(ConfigError) as c:
        load_settings(big, env={})
    assert str(c.value) == f"{big}: {said}"


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail (instead of hanging the suite) when a read waits for ever: 5 s, then an
    exception in the main thread."""
    import signal

    def stop(signum: int, frame: object) -> None:
        # not TimeoutError: an OSError, which the code under test may catch and go on
        raise AssertionError("the read blocked for 5 s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, 5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _special_files(tmp_path: Path) -> list[tuple[Path, str]]:
    import os
    import socket

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock.yaml"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()
    return [
        (fifo, "is a named pipe (FIFO), not a file"),
        (sock_path, "is a socket, not a file"),
        (Path("/dev/zero"), "is a device, not a file"),
    ]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes here")
def test_a_pipe_socket_or_device_is_refused_without_waiting_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_hang: None
) -> None:
    """`mkfifo goals.yaml` (or config.yaml, plan.yaml): the command waited for a writer
    for ever, with no word; a socket said "No such device or address"."""
    from mindmovie.config import ConfigError, load_settings
    from mindmovie.goals import GoalsError, load_goals
    from mindmovie.plan import PlanError, load_plan

    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    for path, said in _special_files(tmp_path):
        with pytest.raises(GoalsError) as g:
            load_goals(path)
        assert str(g.value) == f"{path}: {said}"
        with pytest.raises(PlanError) as p:  # in the run's words (plan.plan_not_a_file)
            load_plan(path)
        kind = said.removesuffix(", not a file")
        assert str(p.value) == (
            f"{path}: {kind}, not the run's plan (a file). It was not changed: move it "
            f"away (e.g. to {path.name}.bad) and render again"
        )
        with pytest.raises(ConfigError) as c:
            load_settings(path, env={})
        assert str(c.value) == f"{path}: config file {said}"


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes here")
def test_a_dotenv_that_is_a_pipe_is_a_warning_not_a_hang(tmp_path: Path, no_hang: None) -> None:
    import os

    from mindmovie.config import dotenv_problems, read_dotenv

    env = tmp_path / ".env"
    os.mkfifo(env)
    assert read_dotenv(env) == {}
    assert dotenv_problems(env) == [
        f"{env}: is a named pipe (FIFO), not a file; no variable is set from it"
    ]


def test_the_null_device_is_an_empty_settings_file() -> None:
    """`--config /dev/null` (no settings file) keeps working: it reads as empty."""
    import os

    from mindmovie.config import Settings, load_settings

    assert load_settings(Path(os.devnull), env={}) == Settings()
