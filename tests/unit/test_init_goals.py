"""init_goals: the template loads as written and is never written over by accident; the
guided questions, answered by a script, give a goals.yaml that loads and says what was
answered."""

from __future__ import annotations

import errno
import io
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from mindmovie.goals import KNOWN_CATEGORIES, load_goals
from mindmovie.init_goals import TEMPLATE, InitPathError, guided, template_for, write_template
from tests.media import write_photo


class Script:
    """A scripted person: answers in order, records each question; "" takes the default."""

    def __init__(self, answers: Iterable[str]) -> None:
        self.answers = list(answers)
        self.questions: list[str] = []

    def __call__(self, question: str, *, default: str | None = None) -> str:
        self.questions.append(question)
        assert self.answers, f"unexpected question: {question!r}"
        answer = self.answers.pop(0)
        return default if answer == "" and default is not None else answer


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=100, force_terminal=False, color_system=None), out


def test_template_loads_with_every_field(tmp_path: Path) -> None:
    path = write_template(tmp_path)
    assert path == tmp_path / "goals.yaml"
    assert path.read_text(encoding="utf-8") == template_for(path)
    goals = load_goals(path)
    assert goals.title and goals.style
    # the person is there to read, commented out: an unedited template described a
    # stranger ("Tall man, ...") in every picture a paid model made
    assert goals.person is None
    assert "#person:\n#  description: " in TEMPLATE
    assert 2 <= len(goals.goals) <= 3
    first = goals.goals[0]
    for field in ("details", "actions", "feelings", "affirmation", "scenes"):
        assert getattr(first, field), field
    assert goals.closing
    # photos and music are there to read, commented out (their files would not exist)
    for key in ("photos:", "music:"):
        assert f"#{key}" in TEMPLATE
    raw = yaml.safe_load(TEMPLATE)
    assert list(raw) == ["title", "style", "goals", "closing"]
    assert {g["category"] for g in raw["goals"]} <= set(KNOWN_CATEGORIES)


def test_the_template_s_commented_fields_load_once_their_hash_is_taken_off(
    tmp_path: Path,
) -> None:
    """The template says "Take the #s off"; done as written ("# person:" less its "#"),
    that left a space before each key: "invalid YAML: expected <block end>" (first-user
    audit). With the #s taken off the person, the goal's photos and the music, the file
    loads."""
    import re

    for name in ("me.jpg", "run1.jpg", "run2.jpg"):
        write_photo(tmp_path / name)
    text = re.sub(
        r"(?m)^(\s*)#(person:|  description:|  photos:|photos:|music:)", r"\1\2", TEMPLATE
    )
    raw = yaml.safe_load(text)
    assert raw["music"] == "calm.mp3" and raw["person"]["photos"] == ["me.jpg"], raw
    (tmp_path / "goals.yaml").write_text(text.replace("music: calm.mp3\n", ""), encoding="utf-8")
    goals = load_goals(tmp_path / "goals.yaml")
    assert goals.person is not None and len(goals.person.photos) == 1
    assert [p.name for p in goals.goals[0].photos] == ["run1.jpg", "run2.jpg"]


def test_template_refuses_to_overwrite(tmp_path: Path) -> None:
    mine = tmp_path / "goals.yaml"
    mine.write_text("title: mine\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"goals\.yaml already exists.*--force"):
        write_template(tmp_path)
    assert mine.read_text(encoding="utf-8") == "title: mine\n"
    write_template(tmp_path, force=True)
    assert mine.read_text(encoding="utf-8") == template_for(mine)
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_template_refuses_a_link_to_nothing(tmp_path: Path) -> None:
    # exists() is False for a link whose file is gone: the template replaced the link
    link = tmp_path / "goals.yaml"
    link.symlink_to(tmp_path / "elsewhere" / "goals.yaml")
    with pytest.raises(
        FileExistsError,
        match=r"goals\.yaml already exists \(a link to .*elsewhere.*which is missing\).*--force",
    ):
        write_template(tmp_path)
    assert link.is_symlink()
    write_template(tmp_path, force=True)
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == template_for(link)


def test_template_creates_missing_folder(tmp_path: Path) -> None:
    path = write_template(tmp_path / "new" / "project")
    load_goals(path)


def test_guided_writes_goals_that_load(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    write_photo(tmp_path / "photos" / "run.jpg")
    write_photo(tmp_path / "me.jpg")
    script = Script(
        [
            "My Brave Year",  # title
            "Health",  # goal 1 category (normalised to health)
            "",  # vision is required: asked again
            "Running the coast at sunrise",  # vision
            "alive, free",  # feelings
            "I am strong & light",  # affirmation
            "missing.jpg, photos/run.jpg",  # photos: one missing -> asked again
            "photos/run.jpg, me.jpg",  # photos
            "woodworking",  # goal 2: their own category
            "A workshop full of things I made",  # vision
            "",  # feelings: skipped
            "",  # affirmation: skipped
            "",  # photos: none
            "",  # no more goals
            "Thank you: for all of it",  # closing (a colon: must be quoted in YAML)
        ]
    )
    console, out = _console()
    path = guided(console, tmp_path, ask=script)
    assert path == tmp_path / "goals.yaml"
    assert not script.answers
    goals = load_goals(path)
    assert goals.title == "My Brave Year"
    assert [g.category for g in goals.goals] == ["health", "woodworking"]
    health, wood = goals.goals
    assert health.vision == "Running the coast at sunrise"
    assert health.feelings == "alive, free"
    assert health.affirmation == "I am strong & light"
    assert health.photos == [
        (tmp_path / "photos" / "run.jpg").resolve(),
        (tmp_path / "me.jpg").resolve(),
    ]
    assert wood.vision == "A workshop full of things I made"
    assert wood.feelings is None and wood.affirmation is None and wood.photos == []
    assert goals.closing == "Thank you: for all of it"
    # photos are stored as written, relative to the goals folder
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["goals"][0]["photos"] == ["photos/run.jpg", "me.jpg"]
    assert list(raw) == ["title", "goals", "closing"]
    assert "missing.jpg" in out.getvalue()  # said what was not found
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_guided_asks_again_for_a_photo_that_is_not_a_picture(tmp_path: Path) -> None:
    """notes.txt (or a HEIC, or `~nobody/me.jpg`) given as a photo was taken; after the
    last question goals.yaml did not load, init said so naming a temp file, and every
    answer was lost. Each is now said at the photo question, which is asked again."""
    (tmp_path / "notes.txt").write_text("not a picture")
    (tmp_path / "pics").mkdir()
    write_photo(tmp_path / "me.jpg")
    script = Script(
        [
            "T",  # title
            "health",  # category
            "Strong",  # vision
            "",  # feelings
            "",  # affirmation
            "notes.txt, me.jpg",  # not a picture: asked again
            "~no-such-user-mm/me.jpg",  # a user this system does not know: asked again
            "pics",  # a folder: asked again
            "me.jpg",  # photos
            "",  # no more goals
            "",  # closing
        ]
    )
    console, out = _console()
    path = guided(console, tmp_path, ask=script)
    assert not script.answers
    assert load_goals(path).goals[0].photos == [(tmp_path / "me.jpg").resolve()]
    said = out.getvalue()
    assert "notes.txt is not a picture that can be read" in said
    assert "~no-such-user-mm/me.jpg" in said
    assert "me.jpg is not" not in said
    # a folder is said to be one, not "not found"
    assert "pics: photo is not a file" in said and "): pics." not in said


def test_guided_takes_a_photo_with_a_comma_in_its_name(tmp_path: Path) -> None:
    """The photo answer was cut at every comma: "Beach, 2019.jpg" became "Beach" and
    "2019.jpg", neither found, and the photo could not be given at all."""
    write_photo(tmp_path / "Beach, 2019.jpg")
    write_photo(tmp_path / "me.jpg")
    script = Script(["T", "lifestyle", "By the sea", "", "", "me.jpg, Beach, 2019.jpg", "", ""])
    console, out = _console()
    path = guided(console, tmp_path, ask=script)
    assert not script.answers, out.getvalue()
    assert load_goals(path).goals[0].photos == [
        (tmp_path / "me.jpg").resolve(),
        (tmp_path / "Beach, 2019.jpg").resolve(),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        "'{d}/my photo.jpg'",  # dragged into a Linux terminal (and Windows': "...")
        '"{d}/my photo.jpg"',
        "{d}/my\\ photo.jpg ",  # dragged into macOS Terminal: spaces escaped, one after
        "'{d}/my photo.jpg' '{d}/Beach, 2019.jpg'",  # two dragged at once
    ],
)
def test_guided_takes_a_photo_dragged_into_the_terminal(tmp_path: Path, answer: str) -> None:
    """A file dragged into a terminal arrives quoted or with its spaces escaped, as the
    shell would take it: the answer was "Not found" with the photo's path right there,
    asked again until the person typed the path out by hand or gave up the photo."""
    write_photo(tmp_path / "my photo.jpg")
    write_photo(tmp_path / "Beach, 2019.jpg")
    typed = answer.format(d=tmp_path)
    script = Script(["T", "lifestyle", "By the sea", "", "", typed, "", ""])
    console, out = _console()
    path = guided(console, tmp_path, ask=script)
    assert not script.answers, out.getvalue()
    assert "Not found" not in out.getvalue()
    photos = [tmp_path / "my photo.jpg", tmp_path / "Beach, 2019.jpg"][: typed.count(".jpg")]
    assert load_goals(path).goals[0].photos == [p.resolve() for p in photos]


def test_guided_takes_defaults_and_needs_one_goal(tmp_path: Path) -> None:
    script = Script(
        [
            "",  # title: default
            "",  # first category is required: asked again
            "growth",
            "Finish my novel",
            "",
            "",
            "",  # feelings, affirmation, photos
            "",  # done
            "",  # no closing
        ]
    )
    console, _out = _console()
    path = guided(console, tmp_path, ask=script)
    goals = load_goals(path)
    assert goals.title == "My Dream Life"
    assert [(g.category, g.vision) for g in goals.goals] == [("growth", "Finish my novel")]
    assert goals.closing is None


def test_guided_asks_before_replacing(tmp_path: Path) -> None:
    mine = tmp_path / "goals.yaml"
    mine.write_text("title: mine\n", encoding="utf-8")
    console, _out = _console()
    with pytest.raises(FileExistsError):
        guided(console, tmp_path, ask=Script(["n"]))
    assert mine.read_text(encoding="utf-8") == "title: mine\n"

    script = Script(["y", "New", "career", "Lead a kind team", "", "", "", "", ""])
    guided(console, tmp_path, ask=script)
    assert "Replace" in script.questions[0]
    assert load_goals(mine).title == "New"


def _type_into_rich_prompts(
    monkeypatch: pytest.MonkeyPatch, typed: list[str], *, echo: bool = False
) -> None:
    """rich's prompts read the next of `typed` (taken off the list) as the typed line;
    `echo` also prints the question, as a terminal would show it."""
    import rich.prompt

    def get_input(
        cls: object, console: Console, prompt: object, password: bool, stream: object = None
    ) -> str:
        if echo:
            console.print(prompt, end="")
        return typed.pop(0)

    monkeypatch.setattr(rich.prompt.PromptBase, "get_input", classmethod(get_input))


def test_guided_with_rich_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default asker (rich Prompt.ask on the console) reads typed lines."""

    typed = ["Rich Title", "wealth", "Debt-free", "calm", "", "", "", ""]

    _type_into_rich_prompts(monkeypatch, typed, echo=True)
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    path = guided(console, tmp_path)
    assert not typed
    goals = load_goals(path)
    assert goals.title == "Rich Title"
    assert goals.goals[0].category == "wealth" and goals.goals[0].feelings == "calm"
    shown = out.getvalue()
    assert "[wealth] Your vision" in shown  # square brackets shown, not eaten as markup
    assert "(optional) ()" not in shown  # no empty default shown


def test_guided_with_force_replaces_without_asking(tmp_path: Path) -> None:
    mine = tmp_path / "goals.yaml"
    mine.write_text("title: mine\n", encoding="utf-8")
    console, _out = _console()
    script = Script(["New", "career", "Lead a kind team", "", "", "", "", ""])
    guided(console, tmp_path, ask=script, force=True)
    assert not any("Replace" in q for q in script.questions)
    assert load_goals(mine).title == "New"


def test_guided_asks_before_replacing_a_link_to_nothing(tmp_path: Path) -> None:
    link = tmp_path / "goals.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    console, _out = _console()
    script = Script(["n"])
    with pytest.raises(FileExistsError, match=r"a link to .*gone\.yaml, which is missing"):
        guided(console, tmp_path, ask=script)
    assert script.questions and "gone.yaml, which is missing). Replace it?" in script.questions[0]
    assert link.is_symlink()


def test_a_file_given_as_the_folder_is_named_as_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("notes\n", encoding="utf-8")
    with pytest.raises(InitPathError, match=r"afile is a file, not a folder"):
        write_template(afile)
    # asked nothing (Script([]) fails on any question): the problem comes first
    with pytest.raises(InitPathError, match=r"afile is a file, not a folder"):
        guided(_console()[0], afile, ask=Script([]))
    with pytest.raises(InitPathError, match=r"cannot create folder .*afile/sub: .*afile is a file"):
        write_template(afile / "sub")
    assert afile.read_text(encoding="utf-8") == "notes\n"


def test_a_goals_file_name_given_as_the_folder_is_refused_and_makes_nothing(
    tmp_path: Path,
) -> None:
    """`mindmovie init proj/goals.yaml` made a folder named goals.yaml and wrote
    proj/goals.yaml/goals.yaml. A name ending in .yaml or .yml that is not there yet is
    now refused in one line naming the folder to give; an existing folder so named is
    still used."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    r = CliRunner().invoke(app, ["init", str(tmp_path / "my proj" / "goals.yaml")])
    assert r.exit_code == 2, r.output
    assert "goals.yaml names a file; give the folder" in r.output
    assert f"(mindmovie init '{tmp_path / 'my proj'}')" in r.output
    # a folder starting with "-" is given as ./-x, not read as an option
    with pytest.raises(InitPathError, match=r"\(mindmovie init \./-x\)$"):
        write_template(Path("-x") / "goals.yaml")
    with pytest.raises(InitPathError, match=r"Goals\.YML names a file"):
        guided(_console()[0], tmp_path / "Goals.YML", ask=Script([]))
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "odd.yaml").mkdir()
    assert write_template(tmp_path / "odd.yaml") == tmp_path / "odd.yaml" / "goals.yaml"


def test_a_folder_that_cannot_be_made_or_written_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mindmovie.init_goals as ig

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    with monkeypatch.context() as m:
        m.setattr(Path, "mkdir", denied)
        with pytest.raises(InitPathError, match=r"cannot create folder .*new: permission denied"):
            write_template(tmp_path / "new")

    def no_write(path: Path, text: str) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(ig, "atomic_write_text", no_write)
    with pytest.raises(InitPathError, match=r"cannot write .*goals\.yaml: permission denied"):
        write_template(tmp_path)
    if sys.platform == "linux":  # a real one: /proc takes no new folders, even from root
        with pytest.raises(InitPathError, match=r"cannot create folder /proc/nope: "):
            write_template(Path("/proc/nope"))


def test_a_link_to_nothing_given_as_the_folder_is_named(tmp_path: Path) -> None:
    """`init DIR` where DIR (or a folder on its way) is a link to a folder gone, or to
    itself, said "cannot create folder DIR: file exists", naming no link."""
    (tmp_path / "gone").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for folder, link in (
        (tmp_path / "gone", "gone"),
        (tmp_path / "gone" / "sub", "gone"),
        (tmp_path / "loop", "loop"),
    ):
        for make in (write_template, lambda d: guided(_console()[0], d, ask=Script([]))):
            with pytest.raises(
                InitPathError, match=rf"{link} is a link to .*, which is missing or leads back"
            ):
                make(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gone", "loop"]


def test_cli_init_path_problems_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("x", encoding="utf-8")
    r = CliRunner().invoke(app, ["init", "afile"])
    assert r.exit_code == 2, r.output
    assert "afile is a file, not a folder" in r.output and "Errno" not in r.output
    if sys.platform == "linux":
        r = CliRunner().invoke(app, ["init", "/proc/nope"])
        assert r.exit_code == 2, r.output  # not 1 from an uncaught traceback
        assert "cannot create folder /proc/nope" in r.output, r.output


def test_guided_leaves_the_summary_to_the_caller(tmp_path: Path) -> None:
    """`init --guided` said where the file went twice: once here, once from the CLI."""
    console, out = _console()
    script = Script(["New", "career", "Lead a kind team", "", "", "", "", ""])
    path = guided(console, tmp_path, ask=script)
    assert str(path) not in out.getvalue() and "mindmovie render" not in out.getvalue()

    from typer.testing import CliRunner

    from mindmovie.cli import app

    typed = "\n".join(["Title", "career", "Lead a kind team", "", "", "", "", ""]) + "\n"
    r = CliRunner().invoke(app, ["init", "--guided", str(tmp_path / "g")], input=typed)
    assert r.exit_code == 0, r.output
    assert r.output.count("mindmovie render") == 1, r.output
    assert load_goals(tmp_path / "g" / "goals.yaml").title == "Title"


def test_guided_answers_saved_with_a_byte_order_mark_do_not_keep_it(tmp_path: Path) -> None:
    """Answers saved by Windows Notepad begin with a byte order mark: the title was
    written `title: "\ufeffBOM title"`, a character the person never typed."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    typed = "\ufeff" + "\n".join(["BOM title", "health", "run", "", "", "", "", ""]) + "\n"
    r = CliRunner().invoke(app, ["init", "--guided", str(tmp_path / "g")], input=typed)
    assert r.exit_code == 0, r.output
    assert load_goals(tmp_path / "g" / "goals.yaml").title == "BOM title"
    assert "FEFF" not in (tmp_path / "g" / "goals.yaml").read_text().upper()


def test_cli_init_ctrl_c_is_130_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import mindmovie.init_goals as init_goals
    from mindmovie.cli import app

    def interrupted(*args: object, **kwargs: object) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(init_goals, "guided", interrupted)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["init", "--guided"])
    assert r.exit_code == 130, r.output
    assert "nothing was written" in r.output and not (tmp_path / "goals.yaml").exists()


@pytest.mark.parametrize("stop", [EOFError, KeyboardInterrupt])
def test_guided_stopped_mid_questions_leaves_no_folder_it_made(
    tmp_path: Path, stop: type[BaseException]
) -> None:
    """stdin closed (or Ctrl-C) halfway through `init --guided new/dir` left `new/dir`
    behind, empty: the folders were made before the first question."""

    class Stops(Script):
        def __call__(self, question: str, *, default: str | None = None) -> str:
            if not self.answers:
                raise stop
            return super().__call__(question, default=default)

    console, _ = _console()
    with pytest.raises(stop):
        guided(console, tmp_path / "new" / "dir", ask=Stops(["Title", "career"]))
    assert list(tmp_path.iterdir()) == []
    # a folder that was there stays, as it was
    (tmp_path / "mine").mkdir()
    with pytest.raises(stop):
        guided(console, tmp_path / "mine" / "dir", ask=Stops(["Title"]))
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]
    assert list((tmp_path / "mine").iterdir()) == []


def test_cli_init_guided_at_the_end_of_its_input_leaves_nothing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mindmovie.cli import app

    r = CliRunner().invoke(app, ["init", "--guided", str(tmp_path / "g")], input="Title\ncareer\n")
    assert r.exit_code == 2, r.output
    assert r.output.rstrip().endswith("stopped before the last answer; nothing was written")
    # on a line of its own in a pipe too (the output and the error in one log)
    assert "[career] Your vision, in one line: \nerror: stopped" in r.output, r.output
    assert r.output.count("error") == 1, r.output
    assert list(tmp_path.iterdir()) == []


def test_cli_init_guided_from_a_pipe_shows_each_answer_on_its_question_s_line(
    tmp_path: Path,
) -> None:
    """Answers read from a pipe or a file (`init --guided < answers.txt`) are not echoed
    by a terminal: every question ran into the next on one line, and no answer was
    shown. Each is now printed after its question, which ends the line."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    answers = ["Tilte\x1b[D\x1b[D", "Title", "career", "Lead a kind team", "", "", "", "", "Thanks"]
    typed = "\n".join(answers) + "\n"
    r = CliRunner().invoke(app, ["init", "--guided", str(tmp_path / "g")], input=typed)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert "\x1b" not in r.output  # an answer's escape code is shown, not sent to a terminal
    for line in (
        "Title of your movie (My Dream Life): Tilte\ufffd[D\ufffd[D",
        "Title of your movie (My Dream Life): Title",
        "Goal 1: category (a word from the list, or your own): career",
        "[career] Your vision, in one line: Lead a kind team",
        "[career] How does it feel? (optional): ",
        "Goal 2: category (a word from the list, or your own); Enter when done: ",
        "Closing line (optional): Thanks",
    ):
        assert line in lines, r.output
    assert load_goals(tmp_path / "g" / "goals.yaml").closing == "Thanks"


def test_cli_init_guided_ends_the_question_line_when_input_ends_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-D at a question on a terminal left the cursor after it, and the error went on
    the question's line: "[career] Your vision, in one line: error: stopped ..."."""
    from typer.testing import CliRunner

    from mindmovie import cli

    buf = io.StringIO()
    term = Console(file=buf, width=200, force_terminal=True, color_system=None)
    monkeypatch.setattr(cli, "out", term)
    r = CliRunner().invoke(
        cli.app, ["init", "--guided", str(tmp_path / "g")], input="Title\ncareer\n"
    )
    assert r.exit_code == 2, r.output
    assert buf.getvalue().endswith("[career] Your vision, in one line: \n"), buf.getvalue()[-200:]


def test_guided_asks_again_for_an_answer_that_is_not_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A byte a non-UTF-8 terminal sends arrives as a lone surrogate; it was written to
    goals.yaml as "\\uDCFF", which made the render die with a traceback."""

    typed = ["T\udcff", "Title", "wealth", "Debt-free", "", "", "", "", ""]

    _type_into_rich_prompts(monkeypatch, typed)
    out = io.StringIO()
    path = guided(Console(file=out, width=200, color_system=None), tmp_path)
    assert load_goals(path).title == "Title"
    assert "type that again" in out.getvalue()


def test_guided_asks_again_for_an_answer_with_an_editing_key_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without line editing, the arrow keys pressed to correct a typo came in as escape
    codes: goals.yaml got `title: "My Tilte\\e[D\\e[D..."`, drawn on the title card. A
    control character (ESC, a raw backspace, NEL) is asked again, as a non-UTF-8 byte is."""

    typed = ["My Tilte\x1b[D\x1b[D", "My Title", "wealth", "Debt\x7f-free", "Debt-free"]
    typed += ["ca\x85lm", "calm\tand sure", "", "", "", ""]

    _type_into_rich_prompts(monkeypatch, typed)
    out = io.StringIO()
    path = guided(Console(file=out, width=200, color_system=None), tmp_path)
    assert not typed
    goals = load_goals(path)
    assert goals.title == "My Title"
    assert goals.goals[0].vision == "Debt-free"
    assert goals.goals[0].feelings == "calm\tand sure"  # a tab is text
    assert out.getvalue().count("please type that again") == 3


def test_the_next_command_can_be_pasted_into_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init "my movie"` printed `next: mindmovie render my movie/goals.yaml`: pasted
    into a shell that is two arguments, and render says 'my' is not found."""
    import shlex

    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, ["init", "my movie"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    (line,) = [ln for ln in r.stdout.splitlines() if ln.startswith("next: ")]
    assert shlex.split(line.removeprefix("next: ")) == [
        "mindmovie", "render", str(Path("my movie") / "goals.yaml")
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["init"], "mindmovie render goals.yaml"),
        (["init", "."], "mindmovie render goals.yaml"),
        (["init", "proj"], "mindmovie render proj/goals.yaml"),
        (["init", "./a/b/"], "mindmovie render a/b/goals.yaml"),
        (["init", "my movie"], "mindmovie render 'my movie/goals.yaml'"),
        (["init", "line\nbreak"], "mindmovie render goals.yaml"),
        (["init", "--", "-x"], "mindmovie render ./-x/goals.yaml"),
    ],
)
def test_the_template_names_the_goals_file_as_the_person_types_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], command: str
) -> None:
    """`mindmovie init proj` wrote a proj/goals.yaml whose header said `mindmovie render
    goals.yaml`: typed where init was run, that file is not there. The header names the
    file as the `next:` line does; a path that cannot stand in one comment line (a
    newline in it) keeps the plain name, and every template loads as written."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    (path,) = tmp_path.rglob("goals.yaml")
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[2] == f"#   {command}", text.splitlines()[:4]
    assert text.replace(text.splitlines()[2], "#   mindmovie render goals.yaml", 1) == TEMPLATE
    assert load_goals(path).title == "My Dream Life"
    if "\n" not in args[-1]:  # the line init prints says the same
        assert f"next: {command}" in r.stdout.splitlines()


def test_a_folder_name_too_long_for_the_system_is_an_init_path_error(tmp_path: Path) -> None:
    # Path.exists() raised OSError (File name too long) in _file_in_the_way: a traceback
    folder = tmp_path / ("z" * 300)
    with pytest.raises(InitPathError) as e:
        write_template(folder)
    assert str(e.value) == f"cannot create folder {folder}: file name too long"


def _deep_folder(base: Path, length: int) -> Path:
    """A folder path of exactly `length` characters under `base` (parts of 200)."""
    folder = base
    while (room := length - len(str(folder)) - 1) > 255:
        folder = folder / ("d" * 200)
    folder = folder / ("d" * room)
    assert len(str(folder)) == length
    return folder


def test_template_that_cannot_be_written_leaves_no_folder_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain `init new/dir` made the folders, then failed to write goals.yaml and left
    them behind, empty (`init --guided` already removed them)."""
    import mindmovie.init_goals as ig

    (tmp_path / "mine").mkdir()

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with monkeypatch.context() as m:
        m.setattr(ig, "atomic_write_text", full)
        with pytest.raises(InitPathError, match=r"cannot write .*goals\.yaml: no space left"):
            write_template(tmp_path / "new" / "dir")
        # only the folders it made go: one that was there stays
        with pytest.raises(InitPathError):
            write_template(tmp_path / "mine" / "dir")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert list((tmp_path / "mine").iterdir()) == []
    # the last folder's name too long for the system: `new` was made before mkdir said so
    for make in (write_template, lambda d: guided(_console()[0], d, ask=Script([]))):
        with pytest.raises(InitPathError, match=r"cannot create folder .*: file name too long"):
            make(tmp_path / "new" / ("z" * 300))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_cli_init_that_cannot_write_is_one_line_and_leaves_no_folder(tmp_path: Path) -> None:
    """A failure root gets too (tests run as root, so a read-only folder would not fail):
    a folder path so long that goals.yaml's temp name beside it passes PATH_MAX, while the
    folders themselves can be made."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    base = tmp_path / "base"
    base.mkdir()
    folder = _deep_folder(base, 4080)  # goals.yaml fits under 4096; its temp name does not
    r = CliRunner().invoke(app, ["init", str(folder)], env={"COLUMNS": "10000"})
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write "), r.output
    assert lines[0].endswith("goals.yaml: file name too long"), r.output
    assert "Traceback" not in r.output and "Errno" not in r.output
    assert list(base.iterdir()) == []


def test_guided_says_a_folder_it_cannot_write_before_the_first_question(tmp_path: Path) -> None:
    """`init --guided` into a folder that takes no file (read-only, another user's) asked
    every question, then failed to write goals.yaml: every answer typed was lost. It is
    said before the first question (as root, a path whose temp name passes PATH_MAX)."""
    base = tmp_path / "base"
    base.mkdir()
    folder = _deep_folder(base, 4080)  # goals.yaml fits under 4096; its temp name does not
    script = Script([])
    with pytest.raises(InitPathError, match=r"cannot write .*goals\.yaml: file name too long"):
        guided(_console()[0], folder, ask=script)
    assert script.questions == []
    assert list(base.iterdir()) == []


def test_a_yes_no_question_takes_the_words_and_asks_again_on_anything_else() -> None:
    from mindmovie.init_goals import _yes

    for answers, want in (
        (["YES"], True),
        (["No"], False),
        (["maybe", " y "], True),
        (["sure", "n"], False),
        ([""], True),  # Enter: the default
    ):
        script = Script(answers)
        assert _yes(script, "Replace it?", default=True) is want, answers
        assert not script.answers and len(script.questions) == len(answers)


def test_guided_asks_again_for_what_goals_yaml_would_refuse(tmp_path: Path) -> None:
    """A zero-width space as the title, a vision longer than goals.yaml takes, or more
    photos than a goal takes were written, and the file then did not load: every answer
    was lost at the last question."""
    from mindmovie.goals import MAX_PHOTOS, MAX_TEXT

    write_photo(tmp_path / "me.jpg")
    script = Script(
        [
            "\u200b",  # title: nothing visible, asked again
            "T",
            "health",
            "v" * (MAX_TEXT + 1),  # vision: too long, asked again
            "Fit",
            "\u200b\u2060",  # feelings: nothing visible, left out
            "a" * (MAX_TEXT + 1),  # affirmation: too long, asked again
            "",
            ", ".join(["me.jpg"] * (MAX_PHOTOS + 1)),  # photos: too many, asked again
            "me.jpg",
            "\ufeff",  # no more goals
            "\u200b",  # closing: nothing visible, left out
        ]
    )
    console, out = _console()
    goals = load_goals(guided(console, tmp_path, ask=script))
    assert not script.answers
    assert (goals.title, goals.goals[0].vision, goals.closing) == ("T", "Fit", None)
    assert goals.goals[0].feelings is None and goals.goals[0].affirmation is None
    said = " ".join(out.getvalue().split())
    assert f"{MAX_TEXT + 1} characters; goals.yaml takes at most {MAX_TEXT}" in said
    assert f"{MAX_PHOTOS + 1} photos; a goal takes at most {MAX_PHOTOS}" in said


def test_guided_stops_asking_for_goals_at_the_most_a_movie_takes(tmp_path: Path) -> None:
    from mindmovie.goals import MAX_GOALS

    answers = ["T"]
    for n in range(MAX_GOALS):
        answers += [f"goal{n}", "vision", "", "", ""]
    script = Script([*answers, ""])  # then the closing: no "next goal" question
    console, out = _console()
    goals = load_goals(guided(console, tmp_path, ask=script))
    assert len(goals.goals) == MAX_GOALS and not script.answers
    assert f"That is {MAX_GOALS} goals, the most one movie takes." in out.getvalue()


def test_guided_here_names_the_folder_photos_are_relative_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mindmovie init --guided` in the folder itself (DIR "."): it said "Photo paths are
    relative to ." and "Not found (relative to .)"; now the folder in full."""
    monkeypatch.chdir(tmp_path)
    script = Script(["", "health", "Run daily", "", "", "nope.jpg", "", "", ""])
    out = io.StringIO()  # wide: a long tmp_path is folded at 100 columns
    console = Console(file=out, width=1000, force_terminal=False, color_system=None)
    guided(console, Path("."), ask=script)
    text = " ".join(out.getvalue().split())
    assert f"Photo paths are relative to {tmp_path}." in text, text
    assert f"Not found (relative to {tmp_path}): nope.jpg." in text, text
    assert "relative to ." not in text


def test_init_guided_on_a_terminal_shows_each_answer_once_and_ends_each_line(
    tmp_path: Path,
) -> None:
    """On a terminal (a pty: stdin and stdout), each answer is shown once, by the
    terminal (the program's own echo is for answers from a pipe), and each question is
    on a line of its own. Enter on an optional question left the cursor after it: rich
    printed the question and readline read with no prompt of its own, and for an empty
    line readline wrote no newline: '[career] How does it feel? (optional): [career]
    Your own affirmation (optional): ...' on one line."""
    import os
    import pty
    import select
    import subprocess
    import time

    answers = ["Zebra Movie", "career", "Lead a kind team", "", "", "", "", "Thanks Zed"]
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDMOVIE_")}
    env.update(TERM="xterm", NO_COLOR="1", COLUMNS="200")
    p = subprocess.Popen(
        [sys.executable, "-m", "mindmovie", "init", "--guided", str(tmp_path / "g")],
        stdin=secondary, stdout=secondary, stderr=secondary, env=env, start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    out = b""

    def read_until(done: bytes, seconds: float = 20) -> None:
        """Read until the output ends with `done` and nothing more comes for a while (a
        question waits for its answer; 'Goal 1: ' alone is a question being written)."""
        nonlocal out
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([primary], [], [], 0.5)[0]:
                try:
                    out += os.read(primary, 65536)
                except OSError:  # the program ended: the pty is closed
                    return
            elif out.endswith(done):
                return

    try:
        for n, answer in enumerate(answers):
            read_until(b": ", 20)  # its question is asked
            asked, out = out, b""
            assert asked.rstrip().endswith(b":"), (n, asked)
            os.write(primary, answer.encode() + b"\r")
            if n:  # the answer before it, shown once, and the end of its line
                said = asked.decode().replace("\r\n", "\n")
                assert "\n" in said and said.split("\n")[0] == answers[n - 1], (n, said)
        read_until(b"goals.yaml\r\n")
        assert p.wait(timeout=20) == 0, out
    finally:
        if p.poll() is None:
            p.kill()
        os.close(primary)
    assert load_goals(tmp_path / "g" / "goals.yaml").closing == "Thanks Zed"


def test_cli_init_force_keeps_the_goals_it_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init fz --force` wrote the template over an edited goals.yaml, kept no copy and
    said only `goals: fz/goals.yaml`. The old file is kept as goals.previous.yaml (as a
    run keeps plan.previous.yaml), an older different copy moved to goals.previous.1.yaml
    rather than overwritten, and each is said; a goals.yaml that is the template already
    loses nothing, and nothing is kept or said."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    folder = Path("fz")

    def init_force(edit: str | None) -> str:
        if edit is not None:
            (folder / "goals.yaml").write_text(edit, encoding="utf-8")
        r = CliRunner().invoke(app, ["init", "fz", "--force"])
        assert r.exit_code == 0, r.output
        return r.output

    assert "kept" not in init_force(None)  # nothing there to keep
    said = init_force("title: first edit\n")
    assert "kept: the goals.yaml it replaced is fz/goals.previous.yaml\n" in said, said
    assert (folder / "goals.previous.yaml").read_text(encoding="utf-8") == "title: first edit\n"
    said = init_force("title: second edit\n")
    assert (
        "kept: the goals.yaml it replaced is fz/goals.previous.yaml (the earlier copy moved "
        "to fz/goals.previous.1.yaml)"
    ) in said, said
    assert (folder / "goals.previous.yaml").read_text(encoding="utf-8") == "title: second edit\n"
    assert (folder / "goals.previous.1.yaml").read_text(encoding="utf-8") == "title: first edit\n"
    assert "kept" not in init_force(None)  # the template over the template
    assert sorted(p.name for p in folder.iterdir()) == [
        "goals.previous.1.yaml",
        "goals.previous.yaml",
        "goals.yaml",
    ]


def test_cli_init_guided_keeps_the_goals_it_replaces(tmp_path: Path) -> None:
    """A "Replace it?" answered yes keeps the replaced goals.yaml too, and says so; it is
    kept once the answers are in, when goals.yaml is replaced (the "Replace it?" alone
    touched nothing, and `kept` is given where)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    mine = tmp_path / "goals.yaml"
    mine.write_text("title: mine\n", encoding="utf-8")
    typed = "\n".join(["y", "New", "career", "Lead a kind team", "", "", "", "", ""]) + "\n"
    r = CliRunner().invoke(app, ["init", "--guided", str(tmp_path)], input=typed)
    assert r.exit_code == 0, r.output
    backup = tmp_path / "goals.previous.yaml"
    assert f"kept: the goals.yaml it replaced is {backup}\n" in r.output, r.output
    assert backup.read_text(encoding="utf-8") == "title: mine\n"
    assert load_goals(mine).title == "New"


def test_init_in_a_folder_since_removed_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init` run in a folder removed since the shell entered it said "cannot write
    goals.yaml: no such file or directory", and `init sub` ". does not accept new
    folders": it says the current folder no longer exists, as render does."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    for args, what in ((["init"], "write goals.yaml"), (["init", "sub"], "create folder sub")):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 2, r.output
        assert f"error: cannot {what}: the current folder no longer exists" in r.output, r.output


def test_guided_gives_a_goal_of_several_photos_a_scene_for_each(tmp_path: Path) -> None:
    """A goal given three photos had the default one scene, so the offline movie showed
    the first only, said only by the render's warning; a photo given twice was kept
    twice (first-user audit). Each photo once, and one scene for each, said so."""
    for name in ("a.jpg", "b.jpg"):
        write_photo(tmp_path / name)
    script = Script(["T", "lifestyle", "By the sea", "", "", "a.jpg, b.jpg, a.jpg", "", ""])
    console, out = _console()
    path = guided(console, tmp_path, ask=script)
    (goal,) = load_goals(path).goals
    assert [p.name for p in goal.photos] == ["a.jpg", "b.jpg"]
    assert goal.scenes == 2, path.read_text()
    assert "2 scenes, one for each photo" in out.getvalue(), out.getvalue()
    assert "a photo given twice is kept once" in out.getvalue(), out.getvalue()


def test_a_yes_no_question_answered_otherwise_says_what_it_takes() -> None:
    """ "Replace it? [y/n]" answered "maybe" was asked again, word for word, with no hint
    of what it takes (first-user audit)."""
    from mindmovie.init_goals import _yes

    script = Script(["maybe", "n"])
    assert _yes(script, "goals.yaml exists. Replace it?", default=False) is False
    assert script.questions[1].startswith("Please answer y or n."), script.questions
