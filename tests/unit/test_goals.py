"""goals.yaml loading: the spec example loads, and every mistake a person makes is reported
as `file:line: field: message` pointing at the right line."""

from __future__ import annotations

import io
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from mindmovie.goals import Goals, GoalsError, goals_sha256, load_goals, plan_fingerprint
from mindmovie.pillow import MAX_PICTURE_PIXELS  # (its limit set before a test lowers it)
from tests.media import write_music, write_photo, write_wav

SPEC_EXAMPLE = """\
title: My Dream Life
person:                      # optional
  description: Tall man, short brown hair, blue eyes
  photos: [me.jpg]           # optional, relative to this file
style: warm cinematic light  # optional
goals:
  - category: health
    vision: Vibrant and energetic every day
    details: Running on a coastal trail at sunrise   # optional
    actions: Running, yoga on a sunlit deck          # optional
    feelings: Powerful, alive, grateful              # optional
    affirmation: I am radiantly healthy              # optional
    photos: [run1.jpg, run2.jpg]                     # optional
    scenes: 2                                        # optional
closing: I am grateful for my beautiful life         # optional
music: calm.mp3                                      # optional
"""

MEDIA = ("me.jpg", "run1.jpg", "run2.jpg", "calm.mp3")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder with the spec's photos and music as tiny files."""
    for name in MEDIA:
        if name.endswith(".mp3"):
            write_music(tmp_path / name)
        else:
            write_photo(tmp_path / name)
    return tmp_path


def write(project: Path, text: str, name: str = "goals.yaml") -> Path:
    path = project / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(path: Path) -> GoalsError:
    with pytest.raises(GoalsError) as info:
        load_goals(path)
    return info.value


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle` (so tests don't hard-code)."""
    for n, line in enumerate(textwrap.dedent(text).splitlines(), start=1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in text")


# --- the happy path -------------------------------------------------------------------


def test_spec_example_loads_with_absolute_existing_paths(project: Path) -> None:
    goals = load_goals(write(project, SPEC_EXAMPLE))
    assert isinstance(goals, Goals)
    assert goals.title == "My Dream Life"
    assert goals.style == "warm cinematic light"
    assert goals.closing == "I am grateful for my beautiful life"
    assert goals.person is not None
    assert goals.person.description == "Tall man, short brown hair, blue eyes"
    assert goals.person.photos == [(project / "me.jpg").resolve()]
    [goal] = goals.goals
    assert goal.category == "health"
    assert goal.vision == "Vibrant and energetic every day"
    assert goal.details == "Running on a coastal trail at sunrise"
    assert goal.affirmation == "I am radiantly healthy"
    assert goal.scenes == 2
    assert goal.photos == [(project / "run1.jpg").resolve(), (project / "run2.jpg").resolve()]
    assert goals.music == (project / "calm.mp3").resolve()
    for p in [*goals.person.photos, *goal.photos, goals.music]:
        assert p.is_absolute() and p.is_file()


def test_minimal_goals_load(project: Path) -> None:
    goals = load_goals(
        write(
            project,
            """\
        title: Me
        goals:
          - category: growth
            vision: I read every day
    """,
        )
    )
    assert goals.person is None and goals.music is None
    assert goals.goals[0].photos == [] and goals.goals[0].scenes is None


def test_relative_path_to_goals_file_resolves_against_its_own_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = project / "movie"
    sub.mkdir()
    for name in MEDIA:
        shutil.copy(project / name, sub / name)
    write(sub, SPEC_EXAMPLE)
    monkeypatch.chdir(project)
    goals = load_goals(Path("movie/goals.yaml"))
    assert goals.music == (sub / "calm.mp3").resolve()


def test_single_photo_string_is_a_one_item_list(project: Path) -> None:
    goals = load_goals(
        write(
            project,
            """\
        title: Me
        person:
          photos: me.jpg
        goals:
          - category: health
            vision: Strong
            photos: run1.jpg
    """,
        )
    )
    assert goals.person is not None
    assert goals.person.photos == [(project / "me.jpg").resolve()]
    assert goals.goals[0].photos == [(project / "run1.jpg").resolve()]


def test_yaml_11_lookalikes_stay_text(project: Path) -> None:
    """`title: 2025` or `category: yes` must not become an int or a bool."""
    goals = load_goals(
        write(
            project,
            """\
        title: 2025
        goals:
          - category: yes
            vision: 2030-01-01
            scenes: 3
    """,
        )
    )
    assert goals.title == "2025"
    assert goals.goals[0].category == "yes"
    assert goals.goals[0].vision == "2030-01-01"
    assert goals.goals[0].scenes == 3


# --- one test per mistake ---------------------------------------------------------------


def test_file_not_found(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(err) and "file not found" in str(err)
    assert err.line is None


def test_a_goals_yaml_that_is_a_link_to_nothing_says_so(tmp_path: Path) -> None:
    """goals.yaml a symbolic link to a file gone (a synced folder not mounted): "file not
    found" alone, of a name `ls` shows."""
    (tmp_path / "goals.yaml").symlink_to(tmp_path / "gone" / "goals.yaml")
    assert str(load_error(tmp_path / "goals.yaml")) == (
        f"{tmp_path / 'goals.yaml'}: file not found (a link to "
        f"{tmp_path / 'gone' / 'goals.yaml'}, which is missing)"
    )


def test_a_goals_yml_not_there_names_the_goals_yaml_that_is(tmp_path: Path) -> None:
    """`render goals.yml` beside a goals.yaml said "file not found" alone."""
    (tmp_path / "goals.yaml").write_text("title: T\ngoals: [{category: health, vision: V}]\n")
    err = load_error(tmp_path / "goals.yml")
    assert (
        str(err) == f"{tmp_path / 'goals.yml'}: file not found; there is {tmp_path / 'goals.yaml'}"
    )
    assert str(load_error(tmp_path / "other.yml")).endswith("other.yml: file not found")


def test_bad_yaml_reports_the_line(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: "unclosed
          - category: wealth
    """
    err = load_error(write(project, text))
    assert err.line is not None and err.line >= line_of(text, "unclosed")
    assert str(err).startswith(f"{project / 'goals.yaml'}:{err.line}: invalid YAML")


def test_bad_yaml_bad_indentation_line(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
           vision: off by one
    """
    err = load_error(write(project, text))
    assert err.line == line_of(text, "off by one")
    assert f"goals.yaml:{err.line}: invalid YAML" in str(err)


def test_tab_indentation_hint(project: Path) -> None:
    path = project / "goals.yaml"
    path.write_text("title: Me\ngoals:\n\t- category: health\n", encoding="utf-8")
    err = load_error(path)
    assert err.line == 3
    assert "tabs" in str(err)


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_quote_never_closed_is_named_on_its_own_line(project: Path, quote: str) -> None:
    """`title: "My year` with no closing quote was said at the file's last line ("found
    unexpected end of stream"), the quote's own line only in passing."""
    text = f"""\
        title: {quote}My year
        goals:
          - category: health
            vision: Run every day
        closing: Thank you
        """
    err = load_error(write(project, text))
    assert err.line == 1, str(err)
    assert str(err) == (
        f"{project / 'goals.yaml'}:1: invalid YAML: the quote opened on this line is never "
        "closed (the file ends inside it)"
    )


def test_top_level_not_a_mapping(project: Path) -> None:
    err = load_error(write(project, "- title: Me\n"))
    assert "goals.yaml:1:" in str(err) and "top level must be a mapping" in str(err)


def test_empty_file(project: Path) -> None:
    """An empty file is said to be one; a file of comments (every line commented out)
    was said to be "empty" too, of lines the person could see."""
    err = load_error(write(project, ""))
    assert "goals.yaml" in str(err) and "file is empty" in str(err)
    err = load_error(write(project, "# nothing yet\n\n#title: Me\n"))
    assert str(err).endswith(
        "goals.yaml: holds no keys, only comments or blank lines; expected keys like "
        "`title:` and `goals:`"
    ), err


def test_unknown_key_suggests_the_closest(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong
          - category: wealth
            visoin: Free
    """
    err = load_error(write(project, text))
    line = line_of(text, "visoin")
    assert (err.line, err.field) == (line, "goals[2].visoin")
    assert str(err) == (
        f"{project / 'goals.yaml'}:{line}: goals[2].visoin: "
        "unknown key 'visoin' (did you mean 'vision'?)"
    )
    assert err.others == 0  # "vision missing" is implied by the typo, not repeated


@pytest.mark.parametrize("typo", ["Goals", "goal", "gaols"])
def test_a_misspelt_goals_key_is_named_not_told_there_are_no_goals(
    project: Path, typo: str
) -> None:
    """`Goals:` (or `goal:`) under the title: the error was "goals.yaml:1: goals: no
    goals: add at least one under `goals:`" (line 1, the title's), the goals written
    under the typo, and the typo itself only as "(and 1 more problem: line 2 Goals)".
    A misspelt `titel:` was named at its own line; so is this one, the "no goals" it
    implies not said (as a goal's misspelt `visoin:` implies no missing vision)."""
    text = f"""\
        title: Me
        {typo}:
          - {{category: health, vision: Strong}}
    """
    err = load_error(write(project, text))
    assert (err.line, err.field) == (2, typo), str(err)
    case = " keys are lower case" if typo.lower() == "goals" else ""
    assert err.message == f"unknown key {typo!r} (did you mean 'goals'?{case})", str(err)
    assert err.others == 0, str(err)


def test_a_key_in_capitals_is_named_as_one_in_lower_case_is_meant(project: Path) -> None:
    """`VISION:` (caps lock on) was "goals.yaml:3: goals[1].vision: field required (and 1
    more problem: line 4 goals[1].VISION)": led by the goal's line, and the key written
    not called unknown (difflib, which tells case apart, found nothing like it), where
    `Vision:` was named with a did-you-mean and config.yaml's `FPS:` says names are
    lower case. It is named at its own line, as `visoin:` is."""
    text = """\
        title: Me
        goals:
          - category: health
            VISION: Strong
    """
    err = load_error(write(project, text))
    assert (err.line, err.field) == (4, "goals[1].VISION"), str(err)
    assert err.message == "unknown key 'VISION' (did you mean 'vision'? keys are lower case)"
    assert err.others == 0, str(err)


def test_unknown_top_level_key_without_close_match_lists_allowed(project: Path) -> None:
    text = """\
        title: Me
        soundtrack: calm.mp3
        goals:
          - {category: health, vision: Strong}
    """
    err = load_error(write(project, text))
    assert err.line == line_of(text, "soundtrack")
    assert "unknown key 'soundtrack'" in err.message
    assert "music" in err.message  # the allowed keys are listed


def test_missing_required_field_points_at_its_parent(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong
          - category: wealth
            details: a house by the sea
    """
    err = load_error(write(project, text))
    line = line_of(text, "category: wealth")
    assert str(err) == f"{project / 'goals.yaml'}:{line}: goals[2].vision: field required"
    assert err.others == 0


def test_missing_title(project: Path) -> None:
    err = load_error(write(project, "goals:\n  - {category: health, vision: Strong}\n"))
    assert (err.line, err.field, err.message) == (1, "title", "field required")


def test_wrong_type(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong
            scenes: many
    """
    err = load_error(write(project, text))
    assert (err.line, err.field) == (line_of(text, "scenes"), "goals[1].scenes")
    assert "must be a whole number, got 'many'" in str(err)
    assert "goals.yaml" in str(err)


def test_wrong_type_list_for_text(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: [fast, strong]
    """
    err = load_error(write(project, text))
    assert (err.line, err.field) == (4, "goals[1].vision")
    assert "must be text" in err.message


def test_a_list_where_text_goes_is_told_how_to_write_it_as_text(project: Path) -> None:
    """`feelings: [alive, proud]` or `actions:` as `- run` lines (a natural way to write a
    few things) said "must be text, got a list", not how to write it; the message now
    shows the line as text (quoted where YAML would not read it so). A list of
    mappings gets no such line: no text is made of it."""
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong
            feelings: [alive, proud]
            actions:
              - run at dawn
              - '#cook'
              - sleep
              - read
    """
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].feelings")
    assert err.message.startswith(
        "must be text, got a list; write it as one text: feelings: alive, proud"
    ), err.message
    assert "line 6 goals[1].actions" in str(err), err
    err = load_error(write(project, text.replace("[alive, proud]", "alive")))
    assert err.message == (
        'must be text, got a list; write it as one text: actions: "run at dawn, #cook, sleep, ..."'
    ), err.message
    err = load_error(write(project, text.replace("[alive, proud]", "[{a: 1}]")))
    assert err.message.startswith("must be text, got a list"), err.message
    assert "write it" not in err.message


def test_scenes_out_of_range(project: Path) -> None:
    text = "title: Me\ngoals:\n  - category: health\n    vision: Strong\n    scenes: 9\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].scenes")
    assert "at most 6" in err.message


def test_photo_not_found_points_at_the_list_item(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong
            photos:
              - run1.jpg
              - run9.jpg
    """
    err = load_error(write(project, text))
    assert (err.line, err.field) == (line_of(text, "run9"), "goals[1].photos[2]")
    assert err.message == f"photo not found: run9.jpg (looked in {project.resolve()})"
    assert "goals.yaml" in str(err)


@pytest.mark.parametrize("written_form", ["NFC", "NFD"])
def test_a_photo_name_composed_otherwise_than_written_is_found(
    project: Path, written_form: str
) -> None:
    """A project copied from a Mac: its file and folder names are NFD ("e" + a combining
    accent), goals.yaml's paths as typed NFC (or the other way round, a Linux project
    whose goals.yaml was edited on a Mac). Linux compares names as bytes: "photo not
    found: Été/café.jpg (looked in ...)" of the very file `ls` shows there. The one
    file whose name is the same text is used; the music too."""
    import unicodedata

    def on_disk(text: str) -> str:
        return unicodedata.normalize("NFC" if written_form == "NFD" else "NFD", text)

    folder = project / on_disk("Été")
    folder.mkdir()
    shutil.copyfile(project / "me.jpg", folder / on_disk("café.jpg"))
    shutil.copyfile(project / "calm.mp3", project / on_disk("musique-été.mp3"))
    text = unicodedata.normalize(
        written_form,
        "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [Été/café.jpg]\n"
        "music: musique-été.mp3\n",
    )
    goals = load_goals(write(project, text))
    assert goals.goals[0].photos == [folder.resolve() / on_disk("café.jpg")]
    assert goals.music == project.resolve() / on_disk("musique-été.mp3")


def test_a_goals_yaml_that_is_a_link_finds_its_photos_where_the_link_leads(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """goals.yaml linked into another folder (`ln -s ~/movie/goals.yaml ~/goals.yaml`):
    its photos, beside the file it leads to, were "not found" in the link's folder,
    though the run is the linked file's (the run store records it resolved). They are
    looked for beside the link first, then where it leads; a photo in neither names
    both folders."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    real = write(project, SPEC_EXAMPLE)
    link = elsewhere / "goals.yaml"
    link.symlink_to(real)
    goals = load_goals(link)
    assert goals.person is not None
    assert goals.person.photos == [project.resolve() / "me.jpg"]
    assert goals.music == project.resolve() / "calm.mp3"
    write(project, SPEC_EXAMPLE.replace("[me.jpg]", "[gone.jpg]"))
    assert load_error(link).message == (
        f"photo not found: gone.jpg (looked in {elsewhere.resolve()}, and in "
        f"{project.resolve()}, where goals.yaml's link leads)"
    )


def test_a_linked_goals_yaml_takes_its_photo_where_it_leads_before_one_in_other_capitals(
    project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """goals.yaml linked into a folder holding a photo of the same name in other capitals
    (`~/ME.JPG` beside the link, the project's `me.jpg` where it leads): the name alike
    beside the link was taken (`twin_path`) before the exact name where the link leads,
    so the movie was made from another person's photo. The exact name wins in both
    folders before a name alike in either."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    real = write(project, SPEC_EXAMPLE)
    (elsewhere / "ME.JPG").write_bytes((project / "me.jpg").read_bytes())
    link = elsewhere / "goals.yaml"
    link.symlink_to(real)
    goals = load_goals(link)
    assert goals.person is not None
    assert goals.person.photos == [project.resolve() / "me.jpg"]


def test_a_photo_path_in_other_capitals_than_its_file_is_found(project: Path) -> None:
    """A project made on a Mac or a PC, whose filesystems ignore case: goals.yaml says
    photos/me.jpg of Photos/Me.JPG, and on Linux the render said "photo not found:
    photos/me.jpg (looked in ...)". The one file named so but for capitals is used; two
    such (me.jpg and ME.jpg: Linux can hold both) are not told apart, and not taken."""
    (project / "Photos").mkdir()
    shutil.copyfile(project / "me.jpg", project / "Photos" / "Me.JPG")
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [photos/me.jpg]\n"
    found = load_goals(write(project, text)).goals[0].photos
    assert found == [project.resolve() / "Photos" / "Me.JPG"]
    shutil.copyfile(project / "me.jpg", project / "Photos" / "ME.jpg")
    assert load_error(write(project, text)).message.startswith("photo not found: photos/me.jpg")


def test_two_photos_named_alike_but_for_capitals_are_named_by_the_not_found_message(
    project: Path,
) -> None:
    """photos/me.jpg written, Photos/Me.JPG taken for it, then Photos/ME.jpg added (or
    a project holding both): neither is taken, and the render said only "photo not
    found: photos/me.jpg (looked in ...)" of files `ls` shows. It names both."""
    (project / "Photos").mkdir()
    shutil.copyfile(project / "me.jpg", project / "Photos" / "Me.JPG")
    shutil.copyfile(project / "me.jpg", project / "Photos" / "ME.jpg")
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [photos/me.jpg]\n"
    msg = load_error(write(project, text)).message
    assert msg.startswith("photo not found: photos/me.jpg"), msg
    assert "; ME.jpg and Me.JPG are both named so but for capitals or accents" in msg, msg


@pytest.mark.parametrize("given", ["-", "/dev/stdin", "/dev/fd/63", "/proc/self/fd/0"])
def test_goals_from_standard_input_are_refused_in_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    """`render -` said "-: file not found"; `render /dev/stdin < goals.yaml` read the
    goals and looked for their photos in /dev ("photo not found: me.jpg (looked in
    /dev)"), and piped, "is a named pipe (FIFO), not a file". Photo paths are relative
    to goals.yaml's folder, which standard input has none of: it is refused, saying so.
    A file named `-` is read as any file."""
    monkeypatch.chdir(project)
    err = load_error(Path(given))
    assert err.line is None
    assert err.message.startswith("goals are read from a file, not from standard input"), err
    write(project, SPEC_EXAMPLE, name="-")
    assert load_goals(Path("-")).title == "My Dream Life"


def test_a_photo_path_written_with_backslashes_is_found(project: Path) -> None:
    r"""`photos: ['pics\me.jpg']`, a goals.yaml written on Windows: a backslash is part of
    a file name on Linux and macOS, and the photo in pics/ was "not found: pics\me.jpg
    (looked in ...)". Read with / when no file has the name as written; one that is
    nowhere says why a \ does not separate folders."""
    (project / "pics").mkdir()
    shutil.copyfile(project / "me.jpg", project / "pics" / "me.jpg")
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: ['pics\\me.jpg']\n"
    assert load_goals(write(project, text)).goals[0].photos == [project.resolve() / "pics/me.jpg"]
    err = load_error(write(project, text.replace("me.jpg", "you.jpg")))
    assert err.message == (
        f"photo not found: pics\\you.jpg (looked in {project.resolve()}); a \\ is not a "
        "folder separator on this system: write the path with /"
    )


def test_an_empty_or_absolute_photo_path_is_said_as_it_is(project: Path) -> None:
    """An empty path is said to be empty (not "not a file: ." for the folder), and a
    missing absolute path is not said to have been looked for in the project folder."""
    missing = project / "gone" / "me.jpg"
    text = f'title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: ["", "{missing}"]\n'
    first, second = load_error(write(project, text)).problems
    assert (first.field, first.message) == ("goals[1].photos[1]", "photo path is empty")
    assert (second.field, second.message) == ("goals[1].photos[2]", f"photo not found: {missing}")


def test_a_photo_path_with_a_space_at_its_end_shows_the_space(project: Path) -> None:
    """`"me.jpg "` said "photo not found: me.jpg  (looked in ...)" beside a me.jpg that is
    there: the space did not show. The path is quoted and the space named."""
    text = 'title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: ["run1.jpg "]\n'
    assert load_error(write(project, text)).message == (
        f"photo not found: 'run1.jpg ' (looked in {project.resolve()}); the path starts or "
        "ends with a space, which is part of a file name"
    )


WINDOWS_PATH_HINT = (
    '; inside " quotes a backslash starts an escape (\\n, \\t, \\U...): write a path '
    "with / (C:/Users/me/me.jpg), or quote it with ' instead"
)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        (
            "C:\\Users\\me\\me.jpg",
            "expected escape sequence of 8 hexadecimal numbers, but found 's'",
        ),
        ("D:\\photos\\me.jpg", "found unknown escape character 'p'"),
    ],
)
def test_a_windows_path_in_double_quotes_names_the_backslash(
    project: Path, path: str, problem: str
) -> None:
    """A Windows path quoted with " (`photos: ["C:\\Users\\me\\me.jpg"]`) was refused
    with PyYAML's words alone, which named no backslash and no way out."""
    text = f'title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: ["{path}"]\n'
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, None)
    assert err.message == (
        f"invalid YAML: {problem} (while scanning a double-quoted scalar){WINDOWS_PATH_HINT}"
    )


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("C:\\temp\\new.jpg", "'C:\\temp\\new.jpg'"),  # a tab and a line break
        ("C:\\Pictures\\Nature.jpg", "'C:\\u2029ictures\\x85ature.jpg'"),  # \P and \N
    ],
)
def test_a_windows_path_read_with_a_tab_and_line_break_is_said_on_one_line(
    project: Path, path: str, shown: str
) -> None:
    """`"C:\\temp\\new.jpg"` is valid YAML: \\t and \\n are a tab and a line break (and
    \\P, \\N in `"C:\\Pictures\\Nature.jpg"` line breaks too). The photo was "not
    found" in a message printed over two lines, its letters gone."""
    text = f'title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: ["{path}"]\n'
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert not re.search("[\n\x85\u2028\u2029]", str(err)), str(err)
    assert err.message == (
        f"photo not found: {shown} (looked in {project.resolve()}); the path holds a tab, "
        f"line break or other control character{WINDOWS_PATH_HINT}"
    )


def test_a_no_break_space_in_an_unquoted_photo_path_is_named(project: Path) -> None:
    """`photos: [my\u00a0photo.jpg]` (a no-break space pasted in, nothing quoted) was
    told of control characters and backslashes inside " quotes."""
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [my\u00a0photo.jpg]\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message == (
        f"photo not found: 'my\\xa0photo.jpg' (looked in {project.resolve()}); the path "
        "holds a no-break space (U+00A0), which looks like a space and is not one"
    )


def test_a_backslash_underscore_in_a_double_quoted_photo_path_is_named(project: Path) -> None:
    """`photos: ["D:/pics\\_old.jpg"]`: inside " quotes YAML reads \\_ as a no-break space,
    and the person, who typed a backslash and an underscore, was told only that the path
    holds a no-break space, "which looks like a space": there is none to see."""
    text = 'title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: ["D:/pics\\_old.jpg"]\n'
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message == (
        f"photo not found: 'D:/pics\\xa0old.jpg' (looked in {project.resolve()}); the path "
        "holds a no-break space (U+00A0), which looks like a space and is not one (inside "
        '" quotes, \\_ is read as one)' + WINDOWS_PATH_HINT
    )


def test_a_windows_folder_in_double_quotes_names_the_backslash_that_kept_it_open(
    project: Path,
) -> None:
    """`music: "D:\\Nature\\"`: \\N is an escape YAML takes and \\" a quote mark, so the
    quote is never closed. "the quote opened on this line is never closed" alone, of a
    line whose quote the person sees closed, named no backslash."""
    text = 'title: Me\nmusic: "D:\\Nature\\"\ngoals:\n  - category: a\n    vision: b\n'
    err = load_error(write(project, text))
    assert (err.line, err.message) == (
        2,
        "invalid YAML: the quote opened on this line is never closed (the file ends inside "
        f"it){WINDOWS_PATH_HINT}",
    )


@pytest.mark.parametrize(
    "value", ['"She said \\"go\\" today', '"Run \\"every\\" day', '"a \\"b\\" \\\\ c']
)
def test_an_unclosed_quote_with_a_quote_mark_in_it_is_given_no_path_advice(
    project: Path, value: str
) -> None:
    """`vision: "She said \\"go\\" today` with no closing quote was told "write a path
    with /": its \\" is a quote mark in the text, and the text no path."""
    text = f"title: Me\ngoals:\n  - category: a\n    vision: {value}\n"
    err = load_error(write(project, text))
    assert (err.line, err.message) == (
        4,
        "invalid YAML: the quote opened on this line is never closed (the file ends inside it)",
    )


@pytest.mark.parametrize("music", ['"D:\\Nature\\"', '"\\\\nas\\Nature\\"', '"..\\Pictures\\"'])
def test_an_unclosed_quote_after_a_path_keeps_the_backslash_advice(
    project: Path, music: str
) -> None:
    """The path advice stays where the \\" ends a Windows path (`"D:\\Nature\\"`)."""
    text = f"title: Me\nmusic: {music}\ngoals:\n  - category: a\n    vision: b\n"
    assert load_error(write(project, text)).message.endswith(WINDOWS_PATH_HINT)


def test_goals_built_in_code_hold_the_same_rules_as_goals_yaml() -> None:
    """`photos: me.jpg` is one photo, and a movie needs at least one goal, whether
    the goals come from goals.yaml or are built by the code (init, tests)."""
    from pydantic import ValidationError

    from mindmovie.goals import Goal, Person

    assert Goal(category="a", vision="b", photos="run.jpg").photos == [Path("run.jpg")]
    assert Person(photos=Path("me.jpg")).photos == [Path("me.jpg")]
    with pytest.raises(ValidationError, match="at least 1 item"):
        Goals(title="t", goals=[])


def test_person_photo_not_found(project: Path) -> None:
    text = "title: Me\nperson:\n  photos: selfie.png\ngoals:\n  - {category: a, vision: b}\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (3, "person.photos[1]")
    assert "photo not found: selfie.png" in err.message


def test_photo_that_is_a_folder(project: Path) -> None:
    (project / "pics").mkdir()
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [pics]\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert "photo is not a file" in err.message


def test_photo_and_music_that_are_symlink_loops(project: Path) -> None:
    """A photo or the music naming a symbolic link that leads back to itself made
    Path.resolve raise RuntimeError (Python 3.11, 3.12): `plan` and `render` ended in a
    traceback instead of naming the line. Python 3.13's resolve() returns the loop as it
    is, and it was said "not found"."""
    (project / "a.jpg").symlink_to("b.jpg")
    (project / "b.jpg").symlink_to("a.jpg")
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [a.jpg]\nmusic: b.jpg\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message.startswith("photo cannot be used: a.jpg (")
    assert [(p.line, p.field) for p in err.problems] == [(5, "goals[1].photos[1]"), (6, "music")]
    assert err.problems[1].message.startswith("music file cannot be used: b.jpg (")


def test_photo_and_music_under_a_user_this_system_does_not_know(project: Path) -> None:
    """`~name/...` with no user `name` made Path.expanduser raise RuntimeError: `plan` and
    `render` ended in a traceback instead of naming the line."""
    text = (
        "title: Me\ngoals:\n  - category: a\n    vision: b\n"
        "    photos: [~no-such-user-mm/me.jpg]\nmusic: ~no-such-user-mm/calm.mp3\n"
    )
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert (
        err.message == "photo not found: ~no-such-user-mm/me.jpg (no user 'no-such-user-mm' here)"
    )
    assert "(and 1 more problem" in str(err)
    music = next(p for p in err.problems if p.field == "music")
    assert music.message.startswith("music file not found: ~no-such-user-mm/calm.mp3")


def test_a_photo_path_with_half_a_character_is_its_line(project: Path) -> None:
    """A lone surrogate written as an escape ("\\ud800", not a file name's byte that
    is not UTF-8, which Python reads as \\udc80-\\udcff) can name no file: resolving
    it was a UnicodeEncodeError traceback out of `plan`, `render` and `status`."""
    text = 'title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: ["\\ud800x.jpg"]\n'
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message == (
        "photo cannot be used: '\\ud800x.jpg' ('\\ud800' is half of a character, which no "
        "file name holds)"
    ), err.message


@pytest.mark.usefixtures("no_home")
def test_a_photo_under_a_home_folder_that_is_not_there(project: Path) -> None:
    """`~/me.jpg` with no home folder (HOME unset, the user id not in the password
    database) was said "photo not found: ~/me.jpg (no user '' here)"."""
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [~/me.jpg]\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message.startswith(
        "photo not found: ~/me.jpg (no home folder: HOME is not set and user id "
    ), err.message


def test_a_path_with_an_environment_variable_says_it_is_not_replaced(project: Path) -> None:
    """`$HOME/me.jpg` said only "not found (looked in <folder>)", as if the file were
    missing; the variable is what was not read."""
    text = (
        "title: Me\ngoals:\n  - category: a\n    vision: b\n"
        "    photos: [$HOME/me.jpg]\nmusic: ${MUSIC}/calm.mp3\n"
    )
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message.endswith(
        "$HOME is not replaced by its value here (only ~ is): write the path out"
    )
    music = next(p for p in err.problems if p.field == "music")
    assert "; $MUSIC is not replaced by its value here" in music.message


@pytest.mark.parametrize(
    "written", ["run1.jpg, run2.jpg", "run1.jpg run2.jpg", "[run1.jpg; run2.jpg]"]
)
def test_several_photos_in_one_path_say_to_write_a_list(project: Path, written: str) -> None:
    """`photos: run1.jpg, run2.jpg` (the list's brackets left off) is one path to YAML:
    "photo not found: run1.jpg, run2.jpg" alone, of two files the person could see."""
    text = f"title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: {written}\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message.endswith(
        "; run1.jpg and run2.jpg are there: for several photos write a list, "
        "photos: [run1.jpg, run2.jpg]"
    ), err.message
    alone = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: run1.jpg, nope.jpg\n"
    assert load_error(write(project, alone)).message == (
        f"photo not found: run1.jpg, nope.jpg (looked in {project.resolve()})"
    )


def test_a_folder_of_photos_says_to_give_its_photos_one_by_one(project: Path) -> None:
    """`photos: [vacation/]` said only "photo is not a file", as if the photos in it
    were meant to be found there; its pictures are named, a folder with none is not."""
    for name in ("b.jpg", "a.png", "c.webp"):
        write_photo(project / "vacation" / name)
    (project / "vacation" / "notes.txt").write_text("x")
    (project / "empty").mkdir()
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [vacation/, empty]\n"
    err = load_error(write(project, text))
    vacation, empty = err.problems
    assert vacation.message == (
        f"photo is not a file: vacation/ ({project.resolve() / 'vacation'}); a folder's "
        "photos are given one by one, e.g. photos: [vacation/a.png, vacation/b.jpg, ...] "
        "(it holds 3)"
    )
    assert empty.message == f"photo is not a file: empty ({project.resolve() / 'empty'})"


@pytest.mark.parametrize("field", ["photos", "music"])
def test_a_folder_written_in_full_is_named_once(project: Path, field: str) -> None:
    """A folder given by its absolute path as a photo or the music was named twice:
    "photo is not a file: /home/me/pics (/home/me/pics)"."""
    folder = (project / "pics").resolve()
    folder.mkdir()
    where = f"music: {folder}\n" if field == "music" else ""
    photos = f"    photos: [{folder}]\n" if field == "photos" else ""
    text = f"title: Me\n{where}goals:\n  - category: a\n    vision: b\n{photos}"
    what = "music file" if field == "music" else "photo"
    assert load_error(write(project, text)).message == f"{what} is not a file: {folder}"


def test_a_web_address_as_a_path_says_to_download_it(project: Path) -> None:
    """A link pasted as a photo or the music said only "not found (looked in
    <folder>)", as if a file of that name were missing there."""
    text = (
        "title: Me\ngoals:\n  - category: a\n    vision: b\n"
        "    photos: ['https://example.com/me.jpg']\nmusic: HTTP://example.com/calm.mp3\n"
    )
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1].photos[1]")
    assert err.message.startswith("photo not found: https://example.com/me.jpg")
    assert err.message.endswith("; a web address is not read: download the file and give its path")
    music = next(p for p in err.problems if p.field == "music")
    assert "a web address is not read" in music.message


def test_no_goals_empty_list(project: Path) -> None:
    text = "title: Me\nstyle: soft\ngoals: []\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (3, "goals")
    assert "no goals" in err.message and "goals.yaml:3: goals: no goals" in str(err)
    assert err.others == 0  # not also "list too short"


def test_no_goals_missing_key(project: Path) -> None:
    err = load_error(write(project, "title: Me\nclosing: Thanks\n"))
    assert err.field == "goals" and "no goals" in err.message
    assert err.line == 1 and "goals.yaml:1:" in str(err)


def test_no_goals_null(project: Path) -> None:
    err = load_error(write(project, "title: Me\ngoals:\n"))
    assert (err.line, err.field) == (2, "goals") and "no goals" in err.message


def test_duplicate_key(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong
            vision: Stronger
    """
    err = load_error(write(project, text))
    assert (err.line, err.field) == (line_of(text, "Stronger"), "goals[1].vision")
    assert "duplicate key 'vision' (first at line 4)" in str(err)
    assert "goals.yaml" in str(err)


def test_music_not_found(project: Path) -> None:
    text = "title: Me\ngoals:\n  - {category: a, vision: b}\nmusic: loud.mp3\n"
    err = load_error(write(project, text))
    assert str(err) == (
        f"{project / 'goals.yaml'}:4: music: "
        f"music file not found: loud.mp3 (looked in {project.resolve()})"
    )


def test_several_problems_reports_first_by_line_and_counts_the_rest(project: Path) -> None:
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong
            scenes: lots
            photos: [nope.jpg]
        music: nope.mp3
        closing: [x]
    """
    err = load_error(write(project, text))
    assert err.line == 5 and err.field == "goals[1].scenes"
    assert err.others == 3
    assert str(err).endswith(
        "(and 3 more problems: line 6 goals[1].photos[1], line 7 music, line 8 closing)"
    )
    assert [p.line for p in err.problems] == [5, 6, 7, 8]


def test_goals_error_is_an_exception_with_fields(project: Path) -> None:
    err = load_error(write(project, "title: Me\ngoals:\n  - category: a\n"))
    assert isinstance(err, Exception)
    assert err.path == project / "goals.yaml"
    assert (err.line, err.field, err.message) == (3, "goals[1].vision", "field required")


# --- goals_sha256 -------------------------------------------------------------------------


def test_sha_is_stable_and_follows_photo_bytes(project: Path) -> None:
    path = write(project, SPEC_EXAMPLE)
    first = goals_sha256(load_goals(path))
    assert len(first) == 64
    assert goals_sha256(load_goals(path)) == first
    write_photo(project / "run2.jpg", (10, 200, 30))  # a different photo
    assert goals_sha256(load_goals(path)) != first


def test_sha_follows_music_and_text(project: Path) -> None:
    path = write(project, SPEC_EXAMPLE)
    first = goals_sha256(load_goals(path))
    write_music(project / "calm.mp3", 660)  # another song
    second = goals_sha256(load_goals(path))
    assert second != first
    write(project, SPEC_EXAMPLE.replace("Vibrant", "Vital"))
    assert goals_sha256(load_goals(path)) not in (first, second)


def test_goals_without_a_person_or_photos_have_fingerprints_too(project: Path) -> None:
    """The smallest goals.yaml (no person, no photos, no music) is fingerprinted like
    any other: its words decide it."""
    path = write(project, "title: Me\ngoals:\n  - category: a\n    vision: b\n")
    first = (goals_sha256(load_goals(path)), plan_fingerprint(load_goals(path), project))
    write(project, "title: Me\ngoals:\n  - category: a\n    vision: c\n")
    second = (goals_sha256(load_goals(path)), plan_fingerprint(load_goals(path), project))
    assert first[0] != second[0] and first[1] != second[1]


def test_plan_fingerprints_are_the_ones_runs_on_disk_were_keyed_with(project: Path) -> None:
    """A run keeps its plan (and the planner call paid for it) while its goals'
    fingerprint matches the one stored with it: a change to how the fingerprint is
    computed is a new plan for every existing run. Digests of the spec example, taken
    with the code that keyed them (paths relative to the folder, so any folder)."""
    from mindmovie.goals import plan_fingerprint_v1

    goals = load_goals(write(project, SPEC_EXAMPLE))
    base = project.resolve()
    assert plan_fingerprint(goals, base) == (
        "f1829e71e3a53e1e77efd0819716f06bea96f7b9dbed5e134269667fc6e15506"
    )
    assert plan_fingerprint_v1(goals, base) == (
        "72b59c06f617dbc964593905334aa9daf0e4834c7e5810ba88252e75109205c6"
    )
    # words beyond ASCII are fingerprinted as written (UTF-8), as they were keyed
    text = "title: Glück\ngoals:\n  - category: a\n    vision: Ich bin glücklich\n"
    assert plan_fingerprint(load_goals(write(project, text, "de.yaml")), base) == (
        "d8fb255173dd31cfdb67b1ba510311befb51358d835abca789f3557f57413187"
    )
    # what the fingerprint leaves out is recorded as written, the song relative
    from mindmovie.goals import presentation

    assert presentation(goals, base) == {
        "title": "My Dream Life",
        "closing": "I am grateful for my beautiful life",
        "music": "calm.mp3",
    }
    bare = load_goals(write(project, "title: Me\ngoals:\n  - category: a\n    vision: b\n"))
    assert presentation(bare, base) == {"title": "Me", "closing": None, "music": None}


def test_goals_that_are_not_a_list_say_so_on_their_line(project: Path) -> None:
    err = load_error(write(project, "title: Me\ngoals: run every day\n"))
    assert (err.line, err.field) == (2, "goals")


def test_sha_ignores_comments_and_folder_location(project: Path, tmp_path: Path) -> None:
    path = write(project, SPEC_EXAMPLE)
    first = goals_sha256(load_goals(path))
    no_comments = re.sub(r"\s*#.*", "", SPEC_EXAMPLE)
    assert "#" not in no_comments
    write(project, "# my goals\n" + no_comments)
    assert goals_sha256(load_goals(path)) == first
    moved = shutil.copytree(project, tmp_path.parent / (tmp_path.name + "-moved"))
    assert goals_sha256(load_goals(moved / "goals.yaml")) == first


def test_plan_fingerprint_follows_what_a_plan_holds_not_the_files_bytes(
    project: Path, tmp_path: Path
) -> None:
    """A plan holds photo and music paths, never their bytes: a photo or song replaced
    under its name keeps the plan; a renamed photo, new words or a moved folder as
    expected (the folder move keeps it: paths are relative to goals.yaml)."""
    path = write(project, SPEC_EXAMPLE)

    def fp(p: Path = path) -> str:
        return plan_fingerprint(load_goals(p), p.parent.resolve())

    first = fp()
    write_photo(project / "run2.jpg", (10, 200, 30))
    write_music(project / "calm.mp3", 660)
    assert fp() == first
    moved = shutil.copytree(project, tmp_path.parent / (tmp_path.name + "-fp-moved"))
    assert fp(moved / "goals.yaml") == first
    # what is shown, not planned (title, closing, music): a new one keeps the plan
    write_music(project / "other.mp3")
    for old, new in (
        ("title: My Dream Life", "title: My Year"),
        ("closing: I am grateful for my beautiful life", "closing: Thank you"),
        ("music: calm.mp3", "music: other.mp3"),
    ):
        write(project, SPEC_EXAMPLE.replace(old, new))
        assert fp() == first, new
    write_photo(project / "run3.jpg")
    write(project, SPEC_EXAMPLE.replace("run2.jpg", "run3.jpg"))
    assert fp() != first
    write(project, SPEC_EXAMPLE.replace("Vibrant", "Vital"))
    assert fp() not in (first,)


def test_goals_path_is_a_folder(project: Path) -> None:
    err = load_error(project)
    assert str(err) == f"{project}: is a folder, not a file"


def test_not_utf8(project: Path) -> None:
    path = project / "goals.yaml"
    path.write_bytes(b"title: Me\nstyle: caf\xe9\n")
    err = load_error(path)
    assert err.line == 2 and "UTF-8" in err.message


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_named(project: Path, encoding: str) -> None:
    """UTF-16 with no byte-order mark decodes as UTF-8 (a NUL beside each letter) and
    was refused as "invalid character '\\x00' in file", with no word of the encoding."""
    path = project / "goals.yaml"
    path.write_bytes("title: Me\ngoals:\n  - category: a\n    vision: b\n".encode(encoding))
    err = load_error(path)
    assert (err.line, err.field) == (1, None)
    assert err.message == (
        "saved as UTF-16 text (a NUL byte beside each letter); save the file as UTF-8"
    )


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read(project: Path, encoding: str) -> None:
    """Notepad's "Unicode" and Windows PowerShell 5's `>` save UTF-16 with a byte order
    mark, which YAML reads (as .env is read): goals.yaml was refused as "not UTF-8 text"."""
    text = "title: Café\r\ngoals:\r\n  - category: a\r\n    vision: b ✨\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = project / "goals.yaml"
    path.write_bytes(data)
    goals = load_goals(path)
    assert (goals.title, goals.goals[0].vision) == ("Café", "b ✨")
    path.write_bytes(data[:-1])  # an odd byte: cut short
    err = load_error(path)
    assert (err.line, err.message) == (
        None,
        "not UTF-16 text, as its byte order mark says (cut short?); save the file as UTF-8",
    )


def test_utf32_is_not_read_as_utf16(project: Path) -> None:
    """UTF-32's byte order mark starts with UTF-16's: such a file was read as UTF-16 with
    a NUL after each letter and refused as "invalid character '\\x00' in file", with no
    word of the encoding; as before UTF-16 was read, it is "not UTF-8 text"."""
    path = project / "goals.yaml"
    path.write_bytes("title: Me\ngoals:\n  - category: a\n    vision: b\n".encode("utf-32"))
    err = load_error(path)
    assert (err.line, err.message) == (1, "not UTF-8 text; save the file as UTF-8")


def test_a_photo_that_is_not_a_picture_names_its_line(project: Path) -> None:
    (project / "run1.jpg").write_text("not a picture")
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]" and e.value.line == 13
    assert "not a picture" in str(e.value) and "run1.jpg" in str(e.value)


@pytest.mark.parametrize("name", ["run1.jpg", "run1.HEIC"])
def test_an_iphone_heic_photo_says_what_it_is_and_how_to_export_it(
    project: Path, name: str
) -> None:
    """An iPhone's default photo format: "not a picture" left the person guessing. It is
    told by its ftyp box (a HEIC saved as .jpg too)."""
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    (project / "run1.jpg").unlink(missing_ok=True)
    (project / name).write_bytes(heic)
    path = write(project, SPEC_EXAMPLE.replace("run1.jpg", name))
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]" and e.value.line == 13
    assert "is a HEIC/HEIF photo" in str(e.value) and "export it as JPEG" in str(e.value)


def test_a_truncated_photo_names_its_line(project: Path) -> None:
    """A JPEG cut short (an interrupted copy) has a header Pillow verifies; it failed only
    at the keyframe stage, after the plan (a paid call with Claude)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(project / "run1.jpg", quality=90)
    data = (project / "run1.jpg").read_bytes()
    (project / "run1.jpg").write_bytes(data[: len(data) // 2])
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]" and e.value.line == 13
    assert "cut short" in str(e.value) and "run1.jpg" in str(e.value)


@pytest.mark.parametrize("fmt", ["PNG", "AVIF"])
def test_a_truncated_png_or_avif_is_called_cut_short(project: Path, fmt: str) -> None:
    """Pillow says 'Truncated File Read' / 'Truncated data' (capital T) for these; the
    person was told 'is not a picture that can be read (JPEG, PNG, ...)' of their PNG."""
    import io

    import numpy as np
    from PIL import Image, features

    if fmt == "AVIF" and not features.check("avif"):
        pytest.skip("this Pillow has no AVIF support")
    rng = np.random.default_rng(1)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(buf, format=fmt)
    cut = {"PNG": 0.5, "AVIF": 0.999}[fmt]
    (project / "run1.jpg").write_bytes(buf.getvalue()[: int(len(buf.getvalue()) * cut)])
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]" and e.value.line == 13
    assert "cut short" in str(e.value) and "run1.jpg" in str(e.value)


def test_an_empty_photo_file_is_called_empty(project: Path) -> None:
    """A zero-byte file (a copy that never started, a sync placeholder) was 'not a
    picture that can be read (JPEG, PNG, WebP, ...)', which sent the person looking at
    its format."""
    (project / "run1.jpg").write_bytes(b"")
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]" and e.value.line == 13
    assert "photo is empty (0 bytes): run1.jpg" in str(e.value)


def test_an_empty_music_file_is_called_empty(project: Path) -> None:
    """A zero-byte song (a download or copy that never started) was "not a sound file
    ffmpeg can read", which sent the person looking at its format; an empty photo is
    said to be empty."""
    (project / "calm.mp3").write_bytes(b"")
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "music" and e.value.line == 16, str(e.value)
    assert "music file is empty (0 bytes): calm.mp3" in str(e.value)


@pytest.mark.parametrize("content", ["text", "picture"])
def test_music_without_sound_names_its_line(project: Path, content: str) -> None:
    """Found at the compose, it failed the render after every clip was paid for. The
    message is a sentence ('music file not a media file ffmpeg can read' lacked its
    verb, and was said of a picture too, which ffmpeg reads)."""
    if content == "text":
        (project / "calm.mp3").write_text("not a song")
    else:
        write_photo(project / "calm.mp3")
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "music" and e.value.line == 16, str(e.value)
    said = {"text": "is not a sound file ffmpeg can read", "picture": "has no audio stream"}
    assert f"music file {said[content]}: calm.mp3" in str(e.value)


def test_music_whose_sound_cannot_be_decoded_names_its_line(project: Path) -> None:
    """A song whose header is intact but whose audio packets are damaged: the compose
    loops the music until the movie's length, gets no sample, and its ffmpeg ran
    forever after every clip was made. Now refused on load, naming the line."""
    from tests.media import write_undecodable_music

    write_undecodable_music(project / "calm.m4a")
    path = write(project, SPEC_EXAMPLE.replace("calm.mp3", "calm.m4a"))
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "music" and e.value.line == 16, str(e.value)
    assert "calm.m4a" in str(e.value) and "cannot be decoded" in str(e.value)


def test_music_a_few_milliseconds_long_is_refused_with_its_line(project: Path) -> None:
    """A 5 ms sound is valid audio, and the compose looped it ~200 times a second of
    movie (`-stream_loop -1`: 1.3 s of audio pass for 30 s; 10 samples took 21 s, one
    sample over 120 s), after every clip was made. Music under 1 s is refused on load."""
    write_wav(project / "calm.wav", frames=220)  # 5 ms at 44.1 kHz
    path = write(project, SPEC_EXAMPLE.replace("calm.mp3", "calm.wav"))
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "music" and e.value.line == 16, str(e.value)
    msg = str(e.value)
    assert "calm.wav" in msg and "only 4.99 ms of sound" in msg and "at least 1 s" in msg
    assert "cannot be decoded" not in msg
    write_wav(project / "calm.wav", frames=44100)  # one second: music
    assert load_goals(path).music == project / "calm.wav"


def test_a_sound_of_a_few_milliseconds_is_found_too_short_not_undecodable(
    tmp_path: Path,
) -> None:
    """The check that the music decodes at all resampled it to 8 kHz: the resampler
    held back the few samples of a 1 ms sound, and it was refused as undecodable. It is
    decoded at its own rate: its samples are counted (and too few for music)."""
    from mindmovie.media import music_problem, run_ffmpeg

    tick = tmp_path / "tick.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=440:d=0.001", str(tick)])
    assert "has only 0.998 ms of sound" in str(music_problem(tick))  # 44 samples


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ('title: "  "\ngoals:\n  - {category: a, vision: b}\n', 1, "title"),
        ('title: T\ngoals:\n  - category: "   "\n    vision: v\n', 3, "goals[1].category"),
        ("title: T\ngoals:\n  - category: a\n    vision: '  '\n", 4, "goals[1].vision"),
    ],
)
def test_blank_text_is_no_answer(project: Path, text: str, line: int, field: str) -> None:
    with pytest.raises(GoalsError) as e:
        load_goals(write(project, text))
    assert (e.value.line, e.value.field) == (line, field) and "blank" in str(e.value)


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ('title: "\\u200b"\ngoals:\n  - {category: a, vision: b}\n', 1, "title"),
        (
            'title: T\ngoals:\n  - category: "\\u200c\\u200d"\n    vision: v\n',
            3,
            "goals[1].category",
        ),
        (
            'title: T\ngoals:\n  - category: a\n    vision: "\\u2060 \\ufeff"\n',
            4,
            "goals[1].vision",
        ),
        ('title: "\\u3164\\u3164"\ngoals:\n  - {category: a, vision: b}\n', 1, "title"),
        ('title: T\ngoals:\n  - {category: "\\u2800", vision: v}\n', 3, "goals[1].category"),
        ('title: T\ngoals:\n  - {category: a, vision: "\\u115f\\ufe0f"}\n', 3, "goals[1].vision"),
    ],
)
def test_invisible_text_is_blank(project: Path, text: str, line: int, field: str) -> None:
    """A zero-width space (or joiner, word joiner, BOM) alone passed `strip()`: the movie
    opened on an empty title card, and a scene was planned from nothing."""
    with pytest.raises(GoalsError) as e:
        load_goals(write(project, text))
    assert (e.value.line, e.value.field) == (line, field)
    assert str(e.value).endswith(f"{field}: must not be blank")


def test_joiners_inside_real_text_are_text(project: Path) -> None:
    """An emoji ZWJ sequence and a Persian word with a ZWNJ are visible: not blank."""
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u2764\ufe0f"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    goals = load_goals(
        write(project, f"title: {family}\ngoals:\n  - category: a\n    vision: {persian}\n")
    )
    assert (goals.title, goals.goals[0].vision) == (family, persian)


@pytest.mark.parametrize(
    ("text", "line", "field", "tag"),
    [
        ("title: !!set {a, b}\ngoals:\n  - {category: a, vision: v}\n", 1, "title", "!!set"),
        ("title: T\ngoals: !!omap\n  - a: 1\n", 2, "goals", "!!omap"),
        (
            "title: !!binary aGVsbG8=\ngoals:\n  - {category: a, vision: v}\n",
            1,
            "title",
            "!!binary",
        ),
        (
            "title: T\ngoals:\n  - category: a\n    vision: !!python/name:os.system\n",
            4,
            "goals[1].vision",
            "!!python/name:os.system",
        ),
    ],
)
def test_an_unsupported_yaml_tag_is_named_as_written(
    project: Path, text: str, line: int, field: str, tag: str
) -> None:
    """The tag was shown as PyYAML spells it inside ('tag:yaml.org,2002:set')."""
    err = load_error(write(project, text))
    assert (err.line, err.field, err.message) == (
        line,
        field,
        f"unsupported YAML tag {tag!r}; remove it",
    )


def _largest_goals(project: Path, goals: int, text: int, photos: int) -> Path:
    """A goals.yaml of `goals` goals of 6 scenes, each text `text` characters of a 4-byte
    emoji, each goal and the person with `photos` photos."""
    names = [f"p{i:02d}.jpg" for i in range(photos)]
    for name in names:
        write_photo(project / name)
    t = "\U0001f600" * text
    shown = f"[{', '.join(names)}]"
    lines = [f"title: {t}", f"person: {{description: {t}, photos: {shown}}}", f"style: {t}"]
    lines += [f"closing: {t}", "goals:"]
    for _ in range(goals):
        lines += [f"  - category: {t}", f"    vision: {t}", f"    details: {t}"]
        lines += [f"    actions: {t}", f"    feelings: {t}", f"    affirmation: {t}"]
        lines += [f"    photos: {shown}", "    scenes: 6"]
    return write(project, "\n".join(lines) + "\n")


def test_the_largest_goals_yaml_plans_a_plan_that_reads_back(project: Path) -> None:
    """Whatever goals.yaml takes can be planned, written and read back: 2,500 goals made a
    plan.yaml its own reader refused."""
    from mindmovie.goals import MAX_GOALS, MAX_PHOTOS, MAX_TEXT
    from mindmovie.plan import MAX_SCENES, load_plan, write_plan
    from mindmovie.providers.base import PlanOptions
    from mindmovie.providers.local import build_plan

    goals = load_goals(_largest_goals(project, MAX_GOALS, MAX_TEXT, MAX_PHOTOS))
    plan = build_plan(goals, PlanOptions())
    assert len(plan.scenes) == MAX_SCENES
    write_plan(plan, project / "plan.yaml")
    assert load_plan(project / "plan.yaml") == plan


@pytest.mark.parametrize(
    ("size", "line", "field", "message"),
    [
        ((31, 1, 1), 5, "goals", "must have at most 30 goals, got 31"),
        ((1, 2001, 1), 1, "title", "must be at most 2000 characters, got 2001"),
        ((1, 1, 11), 2, "person.photos", "must have at most 10 photos, got 11"),
    ],
)
def test_more_goals_photos_or_text_than_a_plan_can_hold_are_refused(
    project: Path, size: tuple[int, int, int], line: int, field: str, message: str
) -> None:
    """No limit: 2,500 goals made a plan of 15,000 scenes that plan.yaml's reader refused,
    and said "once aliases are expanded" (there were none)."""
    err = load_error(_largest_goals(project, *size))
    assert (err.line, err.field, err.message) == (line, field, message)


def test_bad_yaml_at_the_end_names_the_last_line_not_one_past_it(project: Path) -> None:
    path = write(project, 'title: T\ngoals:\n  - category: a\n    vision: "unclosed\n')
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.line == 4 and "invalid YAML" in str(e.value)


def test_a_photo_too_large_to_read_safely_names_its_line(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow refuses pictures over its pixel limit with its own error (not an OSError):
    a traceback before; now the line. The limit is lowered so the test photo is small."""
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # the 32x24 photos are 768 > 2 x 100
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "person.photos[1]" and e.value.line == 4
    assert "too large to read safely" in str(e.value)


def test_a_photo_too_large_says_the_limit_pillow_refuses_it_at(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow refuses a picture over twice MAX_IMAGE_PIXELS: with the limit at 1 MP, a
    2.1 MP photo is "over 2 megapixels", the size a person must go under."""
    from PIL import Image

    Image.new("RGB", (1500, 1400), (90, 120, 150)).save(project / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    text = "title: Me\ngoals:\n  - category: a\n    vision: b\n    photos: [big.png]\n"
    err = load_error(write(project, text))
    assert err.message == (
        "photo is too large to read safely (over 2 megapixels); save a smaller copy: big.png"
    )


def test_a_200_megapixel_phone_photo_is_taken(project: Path) -> None:
    """A Galaxy S23/S24 Ultra's 200 MP photo (16320 x 12240) was refused as "too large to
    read safely (over 178 megapixels)", Pillow's default limit: it is a photo a person
    has. It loads, and the offline keyframe is made from it (a JPEG decoded at a reduced
    scale: little memory). A picture over MAX_PICTURE_PIXELS is still refused."""
    from PIL import Image

    from mindmovie.providers.local_media import fit_photo

    size = (16320, 12240)
    assert size[0] * size[1] < MAX_PICTURE_PIXELS
    Image.new("L", size, 128).save(project / "big.jpg", quality=30)
    goals = load_goals(write(project, "title: Me\ngoals:\n  - category: a\n    vision: b\n"
                                      "    photos: [big.jpg]\n"))  # fmt: skip
    assert goals.goals[0].photos == [project / "big.jpg"]
    with Image.open(io.BytesIO(fit_photo(project / "big.jpg", 64, 36))) as kf:
        assert kf.size == (64, 36) and kf.getpixel((32, 18)) == (128, 128, 128)


@pytest.mark.parametrize("escape", ["\\uDCFF", "\\a", "\\e[31m", "\\0", "\\x7f", "\\N"])
def test_an_escaped_surrogate_or_control_character_is_refused_with_its_line(
    project: Path, escape: str
) -> None:
    """`"T\\uDCFF"` is what `init --guided` wrote for a byte a non-UTF-8 terminal sent;
    it loaded, then the render died with a UnicodeEncodeError traceback. A control
    character written as an escape (the file may not hold one raw) loaded and showed as
    a box on the card; tab and newline are text."""
    path = write(project, f'title: "T{escape}"\ngoals:\n  - category: a\n    vision: "b"\n')
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert (e.value.line, e.value.field, e.value.others) == (1, "title", 0)
    assert "invalid character" in str(e.value)
    if escape != "\\uDCFF":
        # the file shows no such character: its escape is what to change ("remove it"
        # sent the person looking for one)
        assert e.value.message.endswith(
            'written by a backslash escape inside " quotes (\\a, \\b, \\e...): write a '
            "backslash as \\\\, or quote the text with ' instead"
        ), e.value.message
    write(project, 'title: "T\\tU"\ngoals:\n  - category: a\n    vision: "b\\nc"\n')
    assert load_goals(path).goals[0].vision == "b\nc"


def test_an_emoji_written_as_its_json_escape_pair_is_one_character(project: Path) -> None:
    """A goals.yaml json.dumps wrote (valid YAML 1.2) gives an emoji as its two UTF-16
    escapes: `"Mon ann\\u00e9e \\ud83c\\udf1f"` was refused, "invalid character
    '\\ud83c' (not text)". The pair is the one character; a half alone is refused still."""
    text = 'title: "Mon ann\\u00e9e \\ud83c\\udf1f"\ngoals:\n  - category: a\n    vision: "b"\n'
    assert load_goals(write(project, text)).title == "Mon année \N{GLOWING STAR}"
    with pytest.raises(GoalsError) as e:
        load_goals(write(project, text.replace("\\udf1f", "")))
    assert (e.value.line, e.value.field) == (1, "title") and "'\\ud83c'" in str(e.value)


def test_an_empty_required_field_is_not_offered_removal(project: Path) -> None:
    """`title:` with nothing after it said '(or remove the line)'; removing it only
    trades the message for 'field required'. An optional field may still go."""
    with pytest.raises(GoalsError) as e:
        load_goals(write(project, "title:\ngoals:\n  - category: a\n    vision: b\n"))
    assert str(e.value).endswith("title: has no value; write one after the colon")
    text = "title: T\ngoals:\n  - category: a\n    vision: b\n    photos: [~]\n"
    with pytest.raises(GoalsError) as e:  # a list item may simply go
        load_goals(write(project, text))
    assert str(e.value).endswith(
        "photos[1]: has no value (an empty item: nothing, ~ or null); write it (or remove the item)"
    )


def test_a_value_yaml_reads_as_a_comment_is_named_as_one(project: Path) -> None:
    """`vision: #1 in my field` is a comment to YAML, so the vision is empty: the error
    said "write one after the colon", where one was written. It names the comment and
    says to quote it; a value left empty with no comment keeps the plain message."""
    text = "title: T\ngoals:\n  - category: career\n    vision: #1 in my field\n"
    assert str(load_error(write(project, text))).endswith(
        "goals.yaml:4: goals[1].vision: has no value: YAML reads '#1 in my field' as a "
        'comment; to make it the text, quote it: "#1 in my field"'
    )
    text = "title: T\ngoals:\n  - category: a\n    vision: b\n    photos:\n      - #1.jpg\n"
    assert "YAML reads '#1.jpg' as a comment" in str(load_error(write(project, text)))
    text = "title:\n# a comment line\ngoals:\n  - category: a\n    vision: b\n"
    assert str(load_error(write(project, text))).endswith(
        "title: has no value; write one after the colon"
    )


def test_an_optional_field_written_as_a_hashtag_loads_empty_and_says_so(project: Path) -> None:
    """`affirmation: #blessed` is a YAML comment, so the goal loads with no affirmation
    and the planner writes its own: silently, until now. A comment as meant (`# ...`, a
    space after the mark) says nothing, and the notes change no fingerprint."""
    text = (
        "title: T\ngoals:\n  - category: a\n    vision: b\n    affirmation: #blessed\n"
        "    details: # to do\n    feelings: ## later\nstyle: #1 in my field\n"
    )
    path = write(project, text)
    goals = load_goals(path)
    assert goals.goals[0].affirmation is None and goals.style is None
    assert goals.notes == [
        f"{path}:5: goals[1].affirmation: YAML reads '#blessed' as a comment, so this is "
        'left empty; to make it the text, quote it: "#blessed"',
        f"{path}:8: style: YAML reads '#1 in my field' as a comment, so this is left "
        'empty; to make it the text, quote it: "#1 in my field"',
    ]
    quiet = load_goals(write(project, text.replace("#blessed", "").replace("#1 in my field", "")))
    assert quiet.notes == []
    assert plan_fingerprint(goals, project) == plan_fingerprint(quiet, project)


def test_an_anchored_hashtag_value_says_so_too(project: Path) -> None:
    """`affirmation: &c #blessed` (an anchor, to use it again as `*c`) is as empty as
    `affirmation: #blessed`, and said nothing: the look for the comment began at the
    anchor. Said once, on the anchor's line."""
    text = (
        "title: T\ngoals:\n  - category: a\n    vision: b\n    affirmation: &c #blessed\n"
        "  - category: c\n    vision: d\n    affirmation: *c\n"
    )
    path = write(project, text)
    goals = load_goals(path)
    assert goals.goals[0].affirmation is None and goals.goals[1].affirmation is None
    assert goals.notes == [
        f"{path}:5: goals[1].affirmation: YAML reads '#blessed' as a comment, so this is "
        'left empty; to make it the text, quote it: "#blessed"',
    ]


def test_a_hashtag_after_words_cuts_the_text_and_says_so(project: Path) -> None:
    """`vision: Be #1 in my field` is "Be" to YAML (` #...` starts a comment): the rest
    of the line was dropped with no word, the planner and the card given "Be", "I am".
    Said as the hashtag in place of a value is; quoted text, a number and a comment as
    meant (`# ...`) say nothing."""
    text = (
        "title: T\ngoals:\n  - category: a\n    vision: Be #1 in my field\n"
        "    affirmation: I am #blessed\n    details: Running # to do\n"
        '    feelings: "calm #1"\n    scenes: 2 #2 is enough\n'
    )
    path = write(project, text)
    goals = load_goals(path)
    assert (goals.goals[0].vision, goals.goals[0].affirmation) == ("Be", "I am")
    assert goals.notes == [
        f"{path}:4: goals[1].vision: YAML reads '#1 in my field' as a comment, so this is "
        "only 'Be'; to keep the whole line, quote it: \"Be #1 in my field\"",
        f"{path}:5: goals[1].affirmation: YAML reads '#blessed' as a comment, so this is "
        "only 'I am'; to keep the whole line, quote it: \"I am #blessed\"",
    ]


def test_an_anchored_value_cut_by_a_hashtag_is_said_once_at_the_anchor(project: Path) -> None:
    """`category: &c health #tag` used again as `*c` was said once per use, each at the
    alias's line, where no hashtag is written."""
    text = (
        "title: T\ngoals:\n  - category: &c health #tag\n    vision: a\n"
        "  - category: *c\n    vision: b\n  - category: *c\n    vision: c\n"
    )
    path = write(project, text)
    goals = load_goals(path)
    assert [g.category for g in goals.goals] == ["health"] * 3
    assert goals.notes == [
        f"{path}:3: goals[1].category: YAML reads '#tag' as a comment, so this is only "
        "'health'; to keep the whole line, quote it: \"health #tag\"",
    ]


def test_the_quoted_text_a_hashtag_note_gives_reads_back_whole(project: Path) -> None:
    """The note's fix is copied into goals.yaml: `vision: I "love" it #1` was told to be
    written "I "love" it #1" (a quote closed after `I `: invalid YAML), and `\\o/` in
    " quotes is an escape. Each fix given, written in, reads as the whole line."""
    lines = {
        "vision": 'I "love" it #1',
        "affirmation": "I am \\o/ #blessed",
        "details": '#1 "best" coach',  # a comment in place of a value
    }
    head = "title: T\ngoals:\n  - category: a\n"
    text = head + "".join(f"    {k}: {v}\n" for k, v in lines.items())
    notes = load_goals(write(project, text)).notes
    assert len(notes) == 3, notes
    # "<path>:4: goals[1].vision: YAML reads ... quote it: <the fix>"
    fix = {n.split(": ")[1].removeprefix("goals[1]."): n.split("quote it: ")[1] for n in notes}
    fixed = head + "".join(f"    {key}: {fix[key]}\n" for key in lines)
    goal = load_goals(write(project, fixed)).goals[0]
    assert (goal.vision, goal.affirmation, goal.details) == tuple(lines.values()), fixed
    # a required field left empty so says it in its error
    error = str(load_error(write(project, head + '    vision: #1 "best" coach\n')))
    suggested = error.split("quote it: ", 1)[1]
    goal = load_goals(write(project, head + f"    vision: {suggested}\n")).goals[0]
    assert goal.vision == '#1 "best" coach', error


def test_plan_fingerprint_keeps_a_photo_outside_the_folder_when_the_folder_moves(
    project: Path, tmp_path: Path
) -> None:
    """A photo kept outside the project ('~/Pictures/me.jpg', an absolute path) does not
    move with it: moving the project folder must not make a new (paid) plan. It did: the
    photo's path relative to goals.yaml ('../../Pictures/me.jpg') changed with the move."""
    outside = tmp_path.parent / (tmp_path.name + "-pictures")
    outside.mkdir()
    write_photo(outside / "face.jpg")
    path = write(project, SPEC_EXAMPLE.replace("[me.jpg]", f"[{outside / 'face.jpg'}]"))
    first = plan_fingerprint(load_goals(path), path.parent.resolve())
    moved = shutil.copytree(project, tmp_path.parent / (tmp_path.name + "-deep") / "a" / "b")
    goals = moved / "goals.yaml"
    assert plan_fingerprint(load_goals(goals), goals.parent.resolve()) == first


def test_lists_nested_thousands_deep_are_one_line_not_a_recursion_error(project: Path) -> None:
    # PyYAML's composer recurses once per level: 5000 "[" was a RecursionError traceback
    deep = "[" * 5000 + "]" * 5000
    path = write(project, f"title: T\ngoals:\n  - category: {deep}\n    vision: v\n")
    assert str(load_error(path)) == (
        f"{path}:3: lists or mappings nested more than 100 levels deep"
    )
    # so do aliases, each one a level deeper than the one before
    chain = "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 500))
    path = write(project, f"title: T\ngoals:\n  - {{category: a, vision: v}}\na0: &a0 [x]\n{chain}")
    err = load_error(path)
    assert "nested more than 100 levels deep" in str(err)
    assert "\n" not in str(err)


def test_aliases_that_expand_to_millions_of_values_are_refused_quickly(project: Path) -> None:
    # "billion laughs": each list names the one before nine times; 8 lines expanded to 43
    # million values (two minutes of CPU, gigabytes) before any error was reported
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    path = write(project, "title: T\ngoals:\n  - {category: a, vision: v}\n" + "\n".join(lines))
    err = load_error(path)
    assert "more than 100000 values once aliases (*name) are expanded" in str(err)
    assert err.line is not None and "\n" not in str(err)


def test_a_photo_or_music_path_with_a_nul_or_too_long_is_one_line(project: Path) -> None:
    # "\0" made Path raise ValueError (embedded null byte) and a 5000-character name
    # OSError (File name too long): both tracebacks
    goal = "  - {category: a, vision: v, photos: [%s]}\n"
    path = write(project, "title: T\ngoals:\n" + goal % '"me\\0.jpg"')
    assert str(load_error(path)) == (
        f"{path}:3: goals[1].photos[1]: photo path contains a NUL character (\\0): 'me\\x00.jpg'"
    )
    path = write(project, 'title: T\nmusic: "calm\\0.mp3"\ngoals:\n' + goal % "me.jpg")
    assert "music: music file path contains a NUL character" in str(load_error(path))
    long = "a" * 5000 + ".jpg"
    path = write(project, "title: T\ngoals:\n" + goal % long)
    err = str(load_error(path))
    assert err.startswith(f"{path}:3: goals[1].photos[1]: photo cannot be used: aaa")
    assert err.endswith("(File name too long)")


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("two", "must be a whole number, got 'two'"),
        ("0", "must be at least 1, got '0'"),
        ("9", "must be at most 6, got '9'"),
        ("1" + "0" * 5000, "must be a whole number, got '1000"),
    ],
)
def test_a_bad_scenes_number_names_the_allowed_range(project: Path, value: str, said: str) -> None:
    # "must be a whole number" alone did not say which; 5000 digits read "unable to
    # parse input string as an integer, exceeded maximum size"
    path = write(project, f"title: T\ngoals:\n  - {{category: a, vision: v, scenes: {value}}}\n")
    err = str(load_error(path))
    assert err.startswith(f"{path}:3: goals[1].scenes: {said}")
    assert err.endswith(" (allowed: at least 1, at most 6)")


@pytest.mark.parametrize(
    "text",
    [
        (Path(__file__).parents[2] / "examples" / "goals.yaml").read_text(encoding="utf-8"),
        (Path(__file__).parents[2] / "config.example.yaml").read_text(encoding="utf-8"),
        "title: Café ☕\n# a comment\ngoals:\n  - {category: 'x: y', vision: \"a\\tb\"}\n"
        "  - category: |\n      two\n      lines\n    vision: >-\n      folded\n      text\n"
        "anchors: &a [1, 2]\nagain: *a\nempty:\nnull_word: ~\n",
    ],
)
def test_libyaml_gives_the_same_data_and_lines_as_the_python_loader(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path (libyaml) must read a document exactly as the pure-Python loader,
    which was the only one before and still words every error."""
    from mindmovie import yamlsrc

    assert yamlsrc._FAST_LOADER is not None  # PyYAML's wheels carry libyaml
    fast = yamlsrc.parse_yaml(text, Path("x.yaml"))
    monkeypatch.setattr(yamlsrc, "_FAST_LOADER", None)
    slow = yamlsrc.parse_yaml(text, Path("x.yaml"))
    assert fast.data == slow.data and fast.lines == slow.lines
    assert fast.data is not None


def test_bad_yaml_is_still_worded_by_the_python_loader(tmp_path: Path) -> None:
    """libyaml's own message for this is "did not find expected '-' indicator"; the
    person reads the pure-Python loader's, with its line."""
    bad = tmp_path / "goals.yaml"
    bad.write_text("title: x\ngoals:\n  - vision: a\n   category: b\n")
    with pytest.raises(GoalsError) as err:
        load_goals(bad)
    assert f"{bad}:4: invalid YAML: expected <block end>, but found" in str(err.value)


def test_a_settings_file_given_as_goals_says_so(tmp_path: Path) -> None:
    """`render config.yaml` (the settings file where goals.yaml goes) said "goals: no goals:
    add at least one ... (and 2 more problems)": it says which file it is instead."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text("# settings\npreset: local\noutput: {fps: 30}\n")
    with pytest.raises(GoalsError) as e:
        load_goals(cfg)
    assert str(e.value) == (
        f"{cfg}:2: preset: this is a settings file, not goals; give it with --config and "
        "your goals.yaml as GOALS (mindmovie init writes one)"
    )
    # goals.yaml with a setting written into it (and no title) is still goals.yaml: its
    # own mistakes are named, not the other file
    mixed = tmp_path / "goals.yaml"
    mixed.write_text("goals:\n  - category: a\n    vision: b\noutput: {fps: 30}\n")
    with pytest.raises(GoalsError) as e:
        load_goals(mixed)
    assert "settings file" not in str(e.value)
    assert {p.field for p in e.value.problems} == {"title", "output"}


def test_a_plan_yaml_given_as_goals_says_so(tmp_path: Path) -> None:
    """`render outputs/x/plan.yaml` said "goals: no goals: add at least one ... (and 1
    more problem)", not that it was the run's plan."""
    from mindmovie.plan import Plan, Scene, write_plan

    scene = Scene(
        id="01-a-1", goal=1, category="a", affirmation="I am", image_prompt="p",
        motion_prompt="m", seconds=5,
    )  # fmt: skip
    path = tmp_path / "plan.yaml"
    write_plan(Plan(title="T", closing="C", scenes=[scene]), path)
    line = path.read_text().splitlines().index("scenes:") + 1
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert str(e.value) == (
        f"{path}:{line}: scenes: this is a run's plan.yaml, not goals; give your goals.yaml "
        "as GOALS (the render reads the plan.yaml in its run folder, edits and all)"
    )


def test_photo_has_transparency_reads_the_alpha_channel_and_a_transparent_colour(
    tmp_path: Path,
) -> None:
    """What decides whether a photo keyframe shows the painted scene through it: an alpha
    channel with a pixel not opaque, or a palette/grey value marked transparent; an
    all-opaque alpha channel is not transparency; a file that cannot be read says True
    (the key keeps the prompt)."""
    from PIL import Image

    from mindmovie.goals import photo_has_transparency

    def saved(name: str, im: Image.Image, **kw: object) -> Path:
        im.save(tmp_path / name, **kw)  # type: ignore[arg-type]
        return tmp_path / name

    holed = Image.new("RGBA", (8, 8), (1, 2, 3, 255))
    holed.putpixel((3, 3), (1, 2, 3, 0))
    almost = Image.new("RGBA", (8, 8), (1, 2, 3, 255))
    almost.putpixel((3, 3), (1, 2, 3, 254))  # one pixel a shade from opaque
    assert photo_has_transparency(saved("almost.png", almost))
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 200, 10, 10])
    assert not photo_has_transparency(saved("rgb.png", Image.new("RGB", (8, 8), (9, 9, 9))))
    assert not photo_has_transparency(saved("opaque.png", Image.new("RGBA", (8, 8), "red")))
    assert photo_has_transparency(saved("holed.png", holed))
    assert photo_has_transparency(saved("keyed.png", palette, transparency=1))
    assert not photo_has_transparency(saved("plain-palette.png", palette))
    assert photo_has_transparency(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not a picture")
    assert photo_has_transparency(tmp_path / "notes.png")


def test_photo_fit_never_changed_only_for_an_opaque_8_bit_photo_without_a_profile(
    tmp_path: Path,
) -> None:
    """Keyframes keyed before the fit joined their key are reused only for photos the
    fit has always made the same pixels of: 8-bit, no ICC profile. A profile or 16-bit
    greyscale changed what the fit makes; an unreadable file is never vouched for."""
    from PIL import Image, ImageCms

    from mindmovie.goals import photo_fit_never_changed

    plain, profiled, deep = tmp_path / "plain.png", tmp_path / "icc.png", tmp_path / "16.png"
    Image.new("RGB", (8, 8), (9, 9, 9)).save(plain)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(profiled, icc_profile=srgb)
    Image.new("I;16", (8, 8), 3000).save(deep)
    (tmp_path / "notes.png").write_text("not a picture")
    assert photo_fit_never_changed(plain)
    assert not photo_fit_never_changed(profiled)
    assert not photo_fit_never_changed(deep)
    assert not photo_fit_never_changed(tmp_path / "notes.png")
    assert not photo_fit_never_changed(tmp_path / "missing.png")


def test_a_photo_this_user_may_not_read_says_so(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo copied from another account (mode 600, another owner) was 'not a picture
    that can be read (JPEG, PNG, WebP, ...)': the person checked its format, not its
    permissions. (Pillow's open is made to fail as it does then: the tests may run as
    root, whom no permission stops.)"""
    from PIL import Image

    real_open = Image.open

    def refuse(fp: object, *a: object, **k: object) -> Image.Image:
        if str(fp).endswith("run1.jpg"):
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "open", refuse)
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]" and e.value.line == 13
    assert "photo cannot be read (permission denied): run1.jpg" in str(e.value)


def test_a_photo_is_decoded_once_per_command_until_it_changes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_goals and then check_plan (render, status, estimate) each decoded every photo
    whole (a PNG has no reduced decode): six 12 MP PNGs were 7 s of a `status` whose
    every step was done. A photo is checked again once its file changes."""
    import os

    from PIL import Image

    from mindmovie.goals import _image_problem

    opened: list[str] = []
    real_open = Image.open

    def spy(fp: object, *a: object, **k: object) -> Image.Image:
        opened.append(str(fp))
        return real_open(fp, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Image, "open", spy)
    photo = project / "run1.jpg"
    assert _image_problem(photo) is None
    first = len(opened)
    assert first > 0 and _image_problem(photo) is None and len(opened) == first
    photo.write_text("not a picture any more")
    os.utime(photo, ns=(1, 1))
    assert "not a picture" in (_image_problem(photo) or "")


def test_photo_pixels_reads_a_png_header_without_decoding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow's getexif() decodes a whole PNG to look for an EXIF chunk after the
    pixels: measuring a photo for the small-photo warning was ~0.5 s of a render for a
    12 MP PNG, every render. Its EXIF comes before the pixels (as Pillow writes it and
    the PNG spec asks), and is still read there."""
    from PIL import Image, PngImagePlugin

    from mindmovie.goals import photo_pixels

    plain, turned = tmp_path / "plain.png", tmp_path / "turned.png"
    Image.new("RGB", (30, 20)).save(plain)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (30, 20)).save(turned, exif=exif)

    def no_decode(self: object) -> None:
        raise AssertionError("decoded the picture to measure it")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decode)
    assert photo_pixels(plain) == (30, 20)
    assert photo_pixels(turned) == (20, 30)
    # a JPEG is turned only by an orientation that turns it a quarter (5-8; 2-4 mirror
    # it or turn it upside down, which keeps its width and height)
    for orientation in (None, *range(1, 9)):
        shown = (20, 30) if orientation and orientation >= 5 else (30, 20)
        jpeg = tmp_path / f"o{orientation}.jpg"
        tags = Image.Exif()
        if orientation:
            tags[0x0112] = orientation
        Image.new("RGB", (30, 20)).save(jpeg, exif=tags)
        assert photo_pixels(jpeg) == shown


@pytest.mark.parametrize("readable", [True, False])
@pytest.mark.parametrize("major", [b"avif", b"mif1"])
def test_an_avif_photo_that_cannot_be_read_says_what_it_is(
    project: Path, monkeypatch: pytest.MonkeyPatch, readable: bool, major: bytes
) -> None:
    """pyproject allows Pillow 10.3, which reads no AVIF (11.2 does): a good AVIF photo
    was 'not a picture that can be read (JPEG, PNG, WebP, ...)', as was a damaged one
    with a Pillow that reads AVIF. Told by its ftyp box, as a HEIC is: by any of its
    brands (one whose major brand is the generic mif1, AVIF listed after, was a HEIC)."""
    from PIL import features

    real_check = features.check
    monkeypatch.setattr(features, "check", lambda f: readable if f == "avif" else real_check(f))
    avif = b"\x00\x00\x00\x1cftyp" + major + b"\x00\x00\x00\x00mif1avifmiaf" + b"\x00" * 64
    (project / "run1.jpg").write_bytes(avif)
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]" and e.value.line == 13
    if readable:
        assert "photo is an AVIF picture that is damaged or cut short: run1.jpg" in str(e.value)
    else:
        assert "photo is an AVIF picture, which cannot be read here" in str(e.value)
        assert "export it as JPEG" in str(e.value)


@pytest.mark.parametrize(
    ("aspect", "photo", "kept"),
    [
        ("16:9", (1600, 900), 1.0),  # the frame's own shape: all of it
        ("16:9", (4000, 400), 0.178),  # a 10:1 panorama: its middle 18%
        ("16:9", (300, 400), 0.422),  # a 3:4 portrait photo: its top and bottom go
        ("16:9", (960, 640), 0.844),  # a 3:2 camera photo: a near miss
        ("9:16", (1920, 1080), 0.316),  # a landscape video still in a portrait movie
        ("9:16", (300, 400), 0.75),  # a 3:4 portrait photo: a near miss
        ("1:1", (1920, 1080), 0.5625),
        ("1:1", (640, 480), 0.75),
        ("1:1", (480, 640), 0.75),
    ],
)
def test_cover_kept_is_the_share_of_the_photo_the_crop_keeps(
    aspect: str, photo: tuple[int, int], kept: float
) -> None:
    """The share of a photo's area a centred cover-crop to each output frame keeps (the
    crop-loss warning's measure), checked against the crop itself: the frame's shape cut
    from the photo at full width or full height, whichever fits."""
    from mindmovie.compose.timeline import output_size
    from mindmovie.goals import cover_kept

    for resolution in ("480p", "720p", "1080p"):
        frame = output_size(aspect, resolution)
        share = cover_kept(photo, frame)
        assert share == pytest.approx(kept, abs=0.002), (aspect, resolution)
        pw, ph = photo
        scale = min(pw / frame[0], ph / frame[1])  # the largest frame-shaped cut
        assert share == pytest.approx(frame[0] * scale * frame[1] * scale / (pw * ph))


def test_cover_kept_measures_a_photo_turned_by_exif_as_shown(tmp_path: Path) -> None:
    """A phone's portrait photo is stored landscape with EXIF orientation 6 and shown
    (and cropped) portrait: in a 16:9 movie it keeps 42%, not all of it; in 9:16, 75%.
    Stored portrait and turned landscape, the other way round."""
    from PIL import Image

    from mindmovie.goals import cover_kept, photo_pixels

    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (400, 300)).save(tmp_path / "portrait.jpg", exif=exif)
    Image.new("RGB", (300, 400)).save(tmp_path / "landscape.jpg", exif=exif)
    portrait = photo_pixels(tmp_path / "portrait.jpg")
    landscape = photo_pixels(tmp_path / "landscape.jpg")
    assert portrait == (300, 400) and landscape == (400, 300)
    assert cover_kept(portrait, (1280, 720)) == pytest.approx(0.4219, abs=1e-4)
    assert cover_kept(portrait, (720, 1280)) == pytest.approx(0.75)
    assert cover_kept(landscape, (1280, 720)) == pytest.approx(0.75)
    assert cover_kept(landscape, (720, 1280)) == pytest.approx(0.4219, abs=1e-4)


def test_a_folder_given_as_goals_names_its_goals_file_or_says_it_is_a_run(
    tmp_path: Path,
) -> None:
    """`render proj` after `init proj`, or `render outputs/<title>` to resume a run, said
    only "is a directory, not a file": the folder's goals.yaml is named, and a run folder
    is said to be one, with what to give instead."""
    from mindmovie.init_goals import write_template
    from mindmovie.store import Store

    proj = tmp_path / "proj"
    write_template(proj)
    with pytest.raises(GoalsError) as e:
        load_goals(proj)
    assert str(e.value) == (
        f"{proj}: is a folder, not a file; give the goals.yaml in it: {proj / 'goals.yaml'}"
    )
    run = tmp_path / "outputs" / "my-dream-life"
    run.mkdir(parents=True)
    Store(run / "run.db").close()
    with pytest.raises(GoalsError) as e:
        load_goals(run)
    assert str(e.value) == (
        f"{run}: is a run folder, not goals; give the goals.yaml it was made from (the "
        "same command resumes it)"
    )
    with pytest.raises(GoalsError) as e:
        load_goals(tmp_path)
    assert str(e.value) == f"{tmp_path}: is a folder, not a file"


def test_more_than_five_other_problems_name_five_places_then_dots(project: Path) -> None:
    """The places of the problems after the first are named (five at most), so one edit
    can mend them all; the line stays one line."""
    goals = "".join(f"  - category: c{i}\n    vision: v\n    scenes: x\n" for i in range(8))
    err = load_error(write(project, f"title: T\ngoals:\n{goals}"))
    assert err.others == 7
    assert str(err).endswith(
        "(and 7 more problems: line 8 goals[2].scenes, line 11 goals[3].scenes, line 14 "
        "goals[4].scenes, line 17 goals[5].scenes, line 20 goals[6].scenes, ...)"
    )
    assert "\n" not in str(err)


def test_a_photo_s_look_is_its_pixels_as_shown_not_its_metadata(tmp_path: Path) -> None:
    """`photo_look` keys a re-saved photo as the same one: a comment or other metadata
    changes the bytes and not the look; the pixels, an EXIF turn or a colour profile
    change what a model is shown, and so the look."""
    from PIL import Image

    from mindmovie.goals import photo_look

    src = tmp_path / "a.jpg"
    Image.effect_noise((64, 48), 40).convert("RGB").save(src, quality=90)
    data = src.read_bytes()
    commented = tmp_path / "b.jpg"
    commented.write_bytes(data[:2] + b"\xff\xfe\x00\x07tags" + data[2:])
    assert photo_look(commented) == photo_look(src) is not None
    with Image.open(src) as im:  # each but "plain" differs from it in one way only
        im.save(tmp_path / "plain.jpg", quality=90)
        exif = im.getexif()
        exif[0x0112] = 6  # shown turned a quarter
        im.save(tmp_path / "turned.jpg", quality=90, exif=exif)
        im.save(tmp_path / "profiled.jpg", quality=90, icc_profile=b"not sRGB")
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "flipped.jpg", quality=90)
    looks = {
        n: photo_look(tmp_path / f"{n}.jpg") for n in ("plain", "turned", "profiled", "flipped")
    }
    assert len(set(looks.values())) == 4, looks


def test_a_palette_photo_s_look_holds_its_colours_and_transparency(tmp_path: Path) -> None:
    """A palette picture (a GIF, an 8-bit PNG such as an optimiser writes) stores an index
    per pixel and the colours apart: one recoloured (an editor's curves or levels on an
    indexed picture change only its palette) or given a transparent colour had the very
    same indices, so `photo_look` took it for the photo made before, and its keyframes
    and clips, made from other colours, were reused."""
    from PIL import Image

    from mindmovie.goals import photo_look

    im = Image.effect_noise((64, 48), 40).convert("RGB").quantize(16)
    im.save(tmp_path / "plain.png")
    palette = im.getpalette() or []
    im.putpalette([255 - v for v in palette])  # the same indices, other colours
    im.save(tmp_path / "recoloured.png")
    im.putpalette(palette)
    im.save(tmp_path / "cut-out.png", transparency=0)  # colour 0 shown as transparent
    im.save(tmp_path / "again.png", optimize=True)  # other bytes, the same picture
    looks = {n: photo_look(tmp_path / f"{n}.png") for n in ("plain", "recoloured", "cut-out")}
    assert len(set(looks.values())) == 3, looks
    assert photo_look(tmp_path / "again.png") == looks["plain"] is not None


def test_a_picture_sound_or_run_db_given_as_a_yaml_file_is_named_for_what_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mindmovie render photos/me.jpg` (a photo tab-completed for goals.yaml), a WAV or
    MP3 for the music, a run's run.db, or `--config me.jpg`, said "me.jpg:1: not UTF-8
    text; save the file as UTF-8", advice no picture can take. Each is named for what it
    is, exit 2; a file that is only text in another encoding keeps its line and advice."""
    import sqlite3

    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    write_photo(tmp_path / "me.jpg")
    write_photo(tmp_path / "board.png")
    write_wav(tmp_path / "calm.wav", 4410)
    write_music(tmp_path / "calm.mp3")
    with sqlite3.connect(tmp_path / "run.db") as db:
        db.execute("create table t (a)")
    (tmp_path / "goals.yaml").write_text("title: Me\ngoals:\n  - category: a\n    vision: b\n")
    (tmp_path / "latin1.yaml").write_bytes("title: Café\n".encode("latin-1"))
    said = {
        "me.jpg": "a JPEG picture",
        "board.png": "a PNG picture",
        "calm.wav": "a sound file (WAV)",
        "calm.mp3": "a sound file (MP3)",
        "run.db": "an SQLite database",
    }
    for name, kind in said.items():
        for args in (["render", name], ["estimate", name], ["render", "goals.yaml", "-c", name]):
            r = CliRunner().invoke(app, args)
            assert r.exit_code == 2 and isinstance(r.exception, SystemExit), (args, r.output)
            assert r.output == (
                f"error: {name}: is {kind}, not a YAML text file; give the .yaml file "
                "(plain text, UTF-8)\n"
            ), (args, r.output)
    for args in (["render", "latin1.yaml"], ["render", "goals.yaml", "-c", "latin1.yaml"]):
        r = CliRunner().invoke(app, args)
        assert r.output == "error: latin1.yaml:1: not UTF-8 text; save the file as UTF-8\n"
    assert not (tmp_path / "outputs").exists()  # nothing made


def test_a_goal_written_twice_is_said(project: Path) -> None:
    """A goal pasted twice (the same category and vision, but for case and blanks) made
    its scenes twice, the movie showing the one dream two times, without a word. It is
    a note (said as a warning by plan, render and estimate): it may be meant."""
    text = """\
        title: Me
        goals:
          - category: health
            vision: Strong and rested
          - category: career
            vision: I lead a team
          - category: Health
            vision: Strong  and rested
    """
    path = write(project, text)
    assert load_goals(path).notes == [
        f"{path}:7: goals[3] is goals[1] again (line 3: the same category and vision), so "
        "the movie shows that goal twice; remove one (to give it more time, set its "
        "`scenes:`)"
    ]
    path = write(project, text.replace("Strong  and rested", "Strong and calm"))
    assert load_goals(path).notes == []


def test_a_dotenv_given_as_goals_is_told_so(project: Path) -> None:
    """`render .env` said "top level must be a mapping of keys like `title:` and
    `goals:`, got 'ANTHROPIC_API_KEY=<the key ..., not shown>'": it now says what the
    file is, as `--config .env` does; no value of it is shown."""
    path = write(project, "# keys\nANTHROPIC_API_KEY=sk-ant-secret\nexport X=1\n", ".env")
    err = load_error(path)
    assert str(err) == (
        f"{path}: this is a .env file (NAME=value lines), not goals; give your goals.yaml "
        "as GOALS (a .env is read by itself from the folder you run mindmovie from)"
    ), err


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("preset: byteplus", "unknown key 'preset': preset is a setting: write it in "
         "config.yaml, not in goals.yaml"),
        ("fps: 30", "unknown key 'fps': output.fps is a setting: write it in config.yaml, "
         "indented under `output:`, not in goals.yaml"),
        ("titel: x", "unknown key 'titel' (did you mean 'title'?)"),
    ],
)  # fmt: skip
def test_a_setting_written_in_goals_yaml_is_told_to_go_in_the_config(
    line: str, said: str, project: Path
) -> None:
    """`preset: byteplus` in goals.yaml said "unknown key 'preset' (allowed here: title,
    person, style, ...)", as if it were misspelt; it now says it is a setting, written
    in config.yaml (a misspelt goals key is still offered the right one)."""
    path = write(project, f"title: T\n{line}\ngoals:\n  - category: health\n    vision: run\n")
    err = load_error(path)
    assert (err.line, err.field, err.message) == (2, line.split(":")[0], said), err


def test_keys_written_with_equals_are_told_to_use_a_colon(project: Path) -> None:
    """`title=My film` (keys written as in a .ini or .env) said "top level must be a
    mapping of keys like `title:` and `goals:`, got 'title=My film'", not what to write.
    The config file says it too, without the value (it may be a key pasted)."""
    from mindmovie.config import ConfigError, load_settings

    err = load_error(write(project, "title=My film\ngoals=x\n"))
    assert err.message.endswith(
        "got 'title=My film goals=x'; write a key and its value with a colon and a space "
        "(`title: My film`), not with ="
    ), err
    path = write(project, "preset=byteplus\n", "c.yaml")
    with pytest.raises(ConfigError) as e:
        load_settings(path, env={})
    assert str(e.value).endswith(
        "got a single value; write a key and its value with a colon and a space "
        "(`preset: ...`), not with ="
    ), e.value


def test_an_empty_list_item_is_not_told_of_a_colon(project: Path) -> None:
    """A `-` with nothing after it (a goal or a photo begun and not written) said "has no
    value; write one after the colon", of a line with no colon."""
    text = "title: T\ngoals:\n  -\n  - category: a\n    vision: b\n"
    err = load_error(write(project, text))
    assert (err.line, err.field, err.message) == (
        3,
        "goals[1]",
        "has no value (an empty item: nothing, ~ or null); write it (or remove the item)",
    ), err


def test_a_very_long_unknown_key_is_named_cut_short(project: Path) -> None:
    """An unknown key of 900,000 characters was quoted whole twice (the field, and the
    key): a "one-line" error of 1.8 MB. A key is named by its first characters."""
    key = "v" * 100_000 + "ision"
    text = f"title: Me\ngoals:\n  - category: a\n    vision: b\n    ? {key}\n    : x\n"
    err = load_error(write(project, text))
    assert (err.line, err.field) == (5, "goals[1]." + "v" * 57 + "...")
    assert err.message.startswith("unknown key '" + "v" * 57 + "...' (allowed here: "), err.message
    assert len(str(err)) < 500


def test_a_photo_garbled_midway_is_said_to_be_damaged_not_no_picture(project: Path) -> None:
    """A JPEG whose bytes are garbled midway (a bad copy, a failing disk) passes Pillow's
    header check and fails to decode: it was "not a picture that can be read (JPEG, PNG,
    WebP, ...)", of a file the person knows is a JPEG (odd-files audit)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(1)
    Image.fromarray((rng.random((600, 800, 3)) * 255).astype("uint8")).save(
        project / "run1.jpg", quality=90
    )
    data = bytearray((project / "run1.jpg").read_bytes())
    data[len(data) // 3 : len(data) // 3 + 3000] = b"\xff\xc0" * 1500  # markers mid-scan
    (project / "run1.jpg").write_bytes(bytes(data))
    path = write(project, SPEC_EXAMPLE)
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert e.value.field == "goals[1].photos[1]", e.value
    assert "is a damaged JPEG picture" in str(e.value) and "not a picture" not in str(e.value)
    # a PNG so: its CRC check failed first, before its format was noted (the review)
    Image.fromarray((rng.random((300, 400, 3)) * 255).astype("uint8")).save(project / "p.png")
    data = bytearray((project / "p.png").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 500] = b"\xff" * 500
    (project / "run1.jpg").write_bytes(bytes(data))
    with pytest.raises(GoalsError) as e:
        load_goals(path)
    assert "is a damaged PNG picture" in str(e.value), e.value
