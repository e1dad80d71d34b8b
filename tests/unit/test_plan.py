"""plan.yaml: what write_plan writes, load_plan reads back exactly; a person's edits that
break it are reported as `file:line: field: message`."""

from __future__ import annotations

import sqlite3
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mindmovie.goals import MAX_TEXT
from mindmovie.plan import (
    MAX_PROMPT,
    PLAN_HEADER,
    Plan,
    PlanError,
    Scene,
    check_plan,
    composed_plan,
    dump_plan,
    edited_fields,
    load_plan,
    movie_edits,
    movie_settings_changes,
    photo_keyframe,
    rendered_scene,
    source_photo,
    source_photo_by_place,
    update_plan_fields,
    write_plan,
)
from mindmovie.yamlsrc import is_blank


def scene(n: int, **kw: object) -> Scene:
    base: dict[str, object] = dict(
        id=f"{n:02d}-health-1",
        goal=1,
        category="health",
        affirmation="I am radiantly healthy",
        image_prompt="A man running on a coastal trail at sunrise, warm light",
        motion_prompt="Slow dolly forward as he runs",
        seconds=5.0,
    )
    base.update(kw)
    return Scene.model_validate(base)


PLAN = Plan(
    title="My Dream Life",
    closing="I am grateful for my beautiful life",
    style="warm cinematic light",
    music="/music/calm.mp3",
    scenes=[
        scene(1, reference_photos=["/photos/me.jpg", "/photos/run1.jpg"]),
        scene(
            2,
            id="02-wealth-1",
            goal=2,
            category="wealth",
            seconds=4.5,
            affirmation='Money flows to me: easily, "always" # really',
        ),
    ],
)

VALID = """\
title: My Dream Life
closing: Thank you
scenes:
- id: 01-health-1
  goal: 1
  category: health
  affirmation: I am strong
  image_prompt: A runner at dawn
  motion_prompt: Slow push in
  seconds: 5
- id: 02-wealth-1
  goal: 2
  category: wealth
  affirmation: I am free
  image_prompt: A house by the sea
  motion_prompt: Pan right
  seconds: 4.5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(path: Path) -> PlanError:
    with pytest.raises(PlanError) as info:
        load_plan(path)
    return info.value


def line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth - 1]


# --- round trip ---------------------------------------------------------------------------


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "out" / "plan.yaml"
    write_plan(PLAN, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(PLAN_HEADER)
    assert load_plan(path) == PLAN
    assert dump_plan(load_plan(path)) == text


def test_valid_hand_written_plan_loads(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, VALID))
    assert [s.id for s in plan.scenes] == ["01-health-1", "02-wealth-1"]
    assert plan.scenes[0].seconds == 5.0 and plan.scenes[1].seconds == 4.5
    assert plan.scenes[1].goal == 2
    assert plan.style is None and plan.music is None
    assert plan.scene("02-wealth-1").image_prompt == "A house by the sea"


#: text plan.yaml takes: no control character but tab and newline (goals.yaml's rule)
_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc",), include_characters="\t\n"),
    max_size=40,
)
# paths as the planner writes them: absolute (relative ones are anchored to plan.yaml's
# folder on load: test_relative_paths_in_plan_yaml_are_relative_to_its_folder)
_path = _text.map(lambda t: "/" + t.replace("\x00", ""))
_words = _text.map(str.strip).filter(lambda t: not is_blank(t))  # a soft hyphen is blank
_scenes = st.builds(
    Scene,
    id=st.from_regex(r"[a-z0-9][a-z0-9-]{0,15}", fullmatch=True),
    goal=st.integers(1, 10_000),
    category=_text,
    affirmation=_words,
    image_prompt=_words,
    motion_prompt=_words,
    seconds=st.floats(min_value=0, max_value=60, exclude_min=True, allow_nan=False),
    reference_photos=st.lists(_path, max_size=3),
)
_plans = st.builds(
    Plan,
    title=_text.filter(lambda t: not is_blank(t)),
    closing=_text.filter(lambda t: not is_blank(t)),
    style=st.none() | _text,
    music=st.none() | _path,
    scenes=st.lists(_scenes, min_size=1, max_size=4, unique_by=lambda s: s.id),
)


@settings(max_examples=150, deadline=None)
@given(_plans)
def test_dump_load_round_trips_any_plan(plan: Plan) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "plan.yaml"
        write_plan(plan, path)
        loaded = load_plan(path)
    assert loaded == plan
    assert dump_plan(loaded) == dump_plan(plan)


# --- title, closing and music written in place ----------------------------------------

COMMENTED = """\
# my notes: keep the sea scenes calm
title: My Dream Life  # the old title
closing: |-
  Thank you
  for everything
music: music/calm.mp3  # relative: next to plan.yaml
style: warm light
scenes:
# the first one is my favourite
- id: 01-health-1
  goal: 1
  category: health
  affirmation: I am strong  # shortened by hand
  image_prompt: A runner at dawn
  motion_prompt: Slow push in
  seconds: 5
"""


def _comments(text: str) -> list[str]:
    return [line[line.index("#") :] for line in text.splitlines() if "#" in line]


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "A New Title: Mine"},
        {"closing": "Grateful, today"},
        {"closing": "two\nlines"},
        {"title": "T", "closing": "C", "music": "/abs/song.mp3"},
        {"music": None},
    ],
)
def test_update_plan_fields_keeps_the_persons_comments_and_edits(
    tmp_path: Path, fields: dict[str, str | None]
) -> None:
    # a new title, closing or song from goals.yaml is written into plan.yaml; before,
    # the whole file was dumped again and every comment the person wrote was lost
    path = write(tmp_path, COMMENTED)
    before = load_plan(path, as_written=True)
    update_plan_fields(path, fields)
    text = path.read_text(encoding="utf-8")
    assert load_plan(path, as_written=True) == before.model_copy(update=fields)
    kept = [c for c in _comments(COMMENTED) if not (fields.get("title") and "old title" in c)]
    if "music" in fields:
        kept = [c for c in kept if "relative" not in c]
    for comment in kept:
        assert comment in _comments(text), comment
    assert "  affirmation: I am strong  # shortened by hand\n" in text


def test_a_plan_saved_as_utf16_is_read_and_takes_a_new_title(tmp_path: Path) -> None:
    """plan.yaml edited in Notepad and saved as "Unicode" (UTF-16 with a byte order
    mark) was refused as "not UTF-8 text". It is read, and goals.yaml's new title is
    written into it (as UTF-8), the edits and comments kept."""
    path = tmp_path / "plan.yaml"
    path.write_bytes(textwrap.dedent(COMMENTED).encode("utf-16"))
    before = load_plan(path, as_written=True)
    update_plan_fields(path, {"title": "Ich bin glücklich"})
    assert load_plan(path, as_written=True) == before.model_copy(
        update={"title": "Ich bin glücklich"}
    )
    assert "  affirmation: I am strong  # shortened by hand\n" in path.read_text("utf-8")


def test_update_plan_fields_changes_only_the_lines_of_its_fields(tmp_path: Path) -> None:
    """Byte for byte: the song's line goes whole (no blank line left, also as the last
    line with no line end), a title is written as typed (not \\u escapes), a file that
    starts with its first key is edited in place, and "\\n" files stay "\\n"."""
    path = write(tmp_path, COMMENTED)
    update_plan_fields(path, {"music": None})
    assert path.read_bytes() == COMMENTED.replace(
        "music: music/calm.mp3  # relative: next to plan.yaml\n", ""
    ).encode("utf-8")
    bare = COMMENTED.split("\n", 1)[1]  # no comment before `title:`
    path = write(tmp_path, bare)
    update_plan_fields(path, {"title": "Ich bin glücklich"})
    assert path.read_bytes() == bare.replace(
        "title: My Dream Life", "title: Ich bin glücklich"
    ).encode("utf-8")
    last = VALID + "music: /songs/calm.mp3"  # after the scenes, no line end
    path = write(tmp_path, last)
    update_plan_fields(path, {"music": None})
    assert path.read_text(encoding="utf-8") == VALID


def test_a_plan_yaml_is_written_for_a_person_to_edit() -> None:
    """Keys in the model's order (title first, each scene's id first), text as typed,
    several lines as a `|` block, nothing empty or null written out."""
    plan = PLAN.model_copy(
        update={
            "style": None,
            "closing": "Thank you\nfor everything",
            "scenes": [scene(1, affirmation="Ich bin glücklich")],
        }
    )
    text = dump_plan(plan)
    body = text.removeprefix(PLAN_HEADER)
    assert body.startswith("title: My Dream Life\nclosing: |-\n  Thank you\n  for everything\n")
    assert "\n- id: 01-health-1\n  goal: 1\n" in body
    assert "affirmation: Ich bin glücklich\n" in body
    assert "null" not in body and "style" not in body and "reference_photos" not in body


def test_a_scene_of_goal_0_or_a_plan_without_scenes_is_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        scene(1, goal=0)
    with pytest.raises(ValidationError, match="at least 1 item"):
        PLAN.model_validate({**PLAN.model_dump(), "scenes": []})


def test_update_plan_fields_keeps_windows_line_endings(tmp_path: Path) -> None:
    # plan.yaml saved by a Windows editor (CRLF): a new title from goals.yaml changed
    # every line ending of the file to "\n"
    path = tmp_path / "plan.yaml"
    path.write_bytes(COMMENTED.replace("\n", "\r\n").encode())
    update_plan_fields(path, {"title": "New"})
    data = path.read_bytes()
    assert data.count(b"\r\n") == COMMENTED.count("\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r\ntitle: New  # the old title\r\n" in data and b"# shortened by hand\r\n" in data
    assert load_plan(path).title == "New"


def test_update_plan_fields_adds_music_before_the_scenes(tmp_path: Path) -> None:
    path = write(
        tmp_path, VALID.replace("title: My Dream Life\n", "# mine\ntitle: My Dream Life\n")
    )
    update_plan_fields(path, {"music": "/songs/new.mp3"})
    text = path.read_text(encoding="utf-8")
    assert text.startswith(
        "# mine\ntitle: My Dream Life\nclosing: Thank you\nmusic: /songs/new.mp3\n"
    )
    assert load_plan(path).music == "/songs/new.mp3"


def test_update_plan_fields_rewrites_a_file_it_cannot_edit_in_place(tmp_path: Path) -> None:
    # a flow-style file: no line to replace, so the plan is written whole (still right)
    flow = (
        "{title: Old, closing: Bye, scenes: [{id: a-1, goal: 1, category: x, "
        "affirmation: I am, image_prompt: p, motion_prompt: m, seconds: 2}]}\n"
    )
    path = write(tmp_path, flow)
    update_plan_fields(path, {"title": "New"})
    assert load_plan(path).title == "New"
    assert path.read_text(encoding="utf-8").startswith(PLAN_HEADER)


@settings(max_examples=100, deadline=None)
@given(
    title=_text.filter(lambda t: not is_blank(t)),
    closing=_text.filter(lambda t: not is_blank(t)),
    music=st.none() | _path,
)
def test_update_plan_fields_reads_back_exactly_any_text(
    title: str, closing: str, music: str | None
) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "plan.yaml"
        path.write_text(COMMENTED, encoding="utf-8")
        before = load_plan(path, as_written=True)
        fields = {"title": title, "closing": closing, "music": music}
        update_plan_fields(path, fields)
        assert load_plan(path, as_written=True) == before.model_copy(update=fields)


# --- errors ---------------------------------------------------------------------------


def test_plan_file_not_found(tmp_path: Path) -> None:
    err = load_error(tmp_path / "plan.yaml")
    assert str(err) == f"{tmp_path / 'plan.yaml'}: file not found"


def test_plan_bad_yaml(tmp_path: Path) -> None:
    text = VALID.replace("  seconds: 4.5", "  seconds: [4.5")
    err = load_error(write(tmp_path, text))
    assert err.line is not None and err.line >= line_of(text, "seconds: [4.5")
    assert f"plan.yaml:{err.line}: invalid YAML" in str(err)


def test_plan_unknown_key(tmp_path: Path) -> None:
    text = VALID.replace("  motion_prompt: Pan right", "  motion_promt: Pan right")
    err = load_error(write(tmp_path, text))
    line = line_of(text, "motion_promt")
    assert str(err) == (
        f"{tmp_path / 'plan.yaml'}:{line}: scenes[2].motion_promt: "
        "unknown key 'motion_promt' (did you mean 'motion_prompt'?)"
    )


def test_plan_missing_field(tmp_path: Path) -> None:
    text = VALID.replace("  image_prompt: A runner at dawn\n", "")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field, err.message) == (
        line_of(text, "id: 01-health-1"),
        "scenes[1].image_prompt",
        "field required",
    )
    assert "plan.yaml" in str(err)


def test_plan_missing_closing(tmp_path: Path) -> None:
    text = VALID.replace("closing: Thank you\n", "")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field, err.message) == (1, "closing", "field required")


def test_plan_bad_seconds_text(tmp_path: Path) -> None:
    text = VALID.replace("seconds: 4.5", "seconds: soon")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, "seconds: soon"), "scenes[2].seconds")
    assert "must be a number, got 'soon'" in str(err)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("0", "greater than 0"),
        ("61", "at most 60"),
        # was "must be at most 60.0, got 'nan'", as if nan were a number too large
        ("nan", "must be a number, got 'nan' (allowed: more than 0, at most 60)"),
        ("-NaN", "must be a number, got '-NaN'"),
    ],
)
def test_plan_seconds_out_of_range(tmp_path: Path, value: str, words: str) -> None:
    text = VALID.replace("seconds: 5", f"seconds: {value}")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, f"seconds: {value}"), "scenes[1].seconds")
    assert words in err.message and "plan.yaml" in str(err)


def test_plan_empty_affirmation(tmp_path: Path) -> None:
    text = VALID.replace("affirmation: I am free", "affirmation: '   '")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, "affirmation: '"), "scenes[2].affirmation")
    assert "must not be empty" in err.message


def test_plan_affirmation_yaml_reads_as_a_comment_says_so(tmp_path: Path) -> None:
    """`affirmation: #1 dad` is a comment to YAML: "write one after the colon" was wrong."""
    text = VALID.replace("affirmation: I am free", "affirmation: #1 dad")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, "#1 dad"), "scenes[2].affirmation")
    assert err.message.startswith("has no value: YAML reads '#1 dad' as a comment")


@pytest.mark.parametrize("invisible", ["\\u200b", "\\u2060\\ufeff", " \\u200d "])
def test_plan_invisible_affirmation_is_empty(tmp_path: Path, invisible: str) -> None:
    """A zero-width space alone passed `strip()`: a scene showed no affirmation at all."""
    text = VALID.replace("affirmation: I am free", f'affirmation: "{invisible}"')
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, 'affirmation: "'), "scenes[2].affirmation")
    assert err.message == "must not be empty"


@pytest.mark.parametrize("written", ['""', "' '"])
def test_plan_empty_reference_photo_path_is_named_as_empty(tmp_path: Path, written: str) -> None:
    """An emptied `reference_photos` item was read as plan.yaml's own folder and refused
    by check_plan as "photo is not a file: <the run folder>", a path never written."""
    text = VALID.replace(
        "affirmation: I am free", f"affirmation: I am free\n  reference_photos: [{written}]"
    )
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (
        line_of(text, "reference_photos"),
        "scenes[2].reference_photos[1]",
    )
    assert err.message == "photo path is empty"


def test_plan_bad_scene_id(tmp_path: Path) -> None:
    text = VALID.replace("id: 02-wealth-1", "id: Wealth One")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, "Wealth One"), "scenes[2].id")
    # was "'Wealth One' does not match the pattern ^[a-z0-9][a-z0-9-]*$"
    assert err.message == (
        "must be lower-case letters, digits and dashes, first a letter or digit (a folder"
        " name, e.g. 01-health-1), got 'Wealth One'"
    )


def test_plan_duplicate_scene_id_names_both_lines(tmp_path: Path) -> None:
    text = VALID.replace("id: 02-wealth-1", "id: 01-health-1")
    err = load_error(write(tmp_path, text))
    first, second = line_of(text, "01-health-1"), line_of(text, "01-health-1", 2)
    assert str(err) == (
        f"{tmp_path / 'plan.yaml'}:{second}: scenes[2].id: "
        f"duplicate scene id '01-health-1' (also used at line {first})"
    )


def test_a_scene_that_is_not_a_mapping_is_named_with_its_line(tmp_path: Path) -> None:
    text = VALID + "- just a line of text\n"
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, "just a line"), "scenes[3]")


def test_scenes_that_are_not_a_list_are_named(tmp_path: Path) -> None:
    text = "title: T\nclosing: C\nscenes: run every day\n"
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (3, "scenes")


def test_a_plan_read_as_written_keeps_its_relative_paths(tmp_path: Path) -> None:
    path = write(tmp_path, COMMENTED)
    assert load_plan(path, as_written=True).music == "music/calm.mp3"
    assert load_plan(path).music == str(tmp_path / "music" / "calm.mp3")


def test_plan_duplicate_key(tmp_path: Path) -> None:
    text = VALID.replace("  seconds: 5\n", "  seconds: 5\n  seconds: 6\n")
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, "seconds: 6"), "scenes[1].seconds")
    assert f"duplicate key 'seconds' (first at line {line_of(text, 'seconds: 5')})" in str(err)


def test_plan_no_scenes(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, "title: T\nclosing: C\nscenes: []\n"))
    assert str(err) == f"{tmp_path / 'plan.yaml'}:3: scenes: no scenes"


@pytest.mark.parametrize("typo", ["Scenes", "scene"])
def test_plan_a_misspelt_scenes_key_is_named_not_told_there_are_no_scenes(
    tmp_path: Path, typo: str
) -> None:
    """`scenes:` misspelt in a hand edit (`Scenes:`): the error was "plan.yaml:1: scenes:
    no scenes" at the title's line, the scenes written under the typo, and the typo only
    as "(and 1 more problem: line 3 Scenes)". It is named at its own line, as goals.yaml's
    misspelt `goals:` is."""
    text = VALID.replace("scenes:\n", f"{typo}:\n", 1)
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, f"{typo}:"), typo), str(err)
    case = " keys are lower case" if typo.lower() == "scenes" else ""
    assert err.message == f"unknown key {typo!r} (did you mean 'scenes'?{case})", str(err)
    assert err.others == 0, str(err)


@pytest.mark.parametrize("closing", ["''", "'   '", '"\\u200b"'])
def test_plan_blank_closing_is_refused_as_a_blank_title_is(tmp_path: Path, closing: str) -> None:
    """`closing: ''` in plan.yaml loaded, and the movie ended on an empty closing card
    (the card is always shown; `closing:` with no value was refused)."""
    text = VALID.replace("closing: Thank you", f"closing: {closing}")
    err = load_error(write(tmp_path, text))
    assert str(err) == f"{tmp_path / 'plan.yaml'}:2: closing: must not be blank"


@pytest.mark.parametrize("title", ["''", "'   '", '"\\u200b"'])
def test_plan_empty_title_is_refused_as_goals_yaml_refuses_it(tmp_path: Path, title: str) -> None:
    """goals.yaml refused `title: ''` (file, line, field) while plan.yaml took it, and the
    movie opened on an empty title card."""
    from mindmovie.goals import GoalsError, load_goals

    text = VALID.replace("title: My Dream Life", f"title: {title}")
    err = load_error(write(tmp_path, text))
    assert str(err) == f"{tmp_path / 'plan.yaml'}:1: title: must not be blank"
    goals = tmp_path / "goals.yaml"
    goals.write_text(f"title: {title}\ngoals:\n- category: health\n  vision: Fit\n")
    with pytest.raises(GoalsError) as info:
        load_goals(goals)
    assert str(info.value).removeprefix(str(goals)) == str(err).removeprefix(str(err.path))


def test_plan_top_level_list(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, "- id: 01-a\n"))
    assert "plan.yaml:1:" in str(err) and "top level must be a mapping" in str(err)


def test_plan_several_problems_counted(tmp_path: Path) -> None:
    text = VALID.replace("seconds: 5", "seconds: x").replace("goal: 2", "goal: two")
    err = load_error(write(tmp_path, text))
    assert err.field == "scenes[1].seconds" and err.others == 1
    # where the other one is, so one edit mends both (it said only "(and 1 more problem)")
    assert str(err).endswith("(and 1 more problem: line 12 scenes[2].goal)")


def test_rebase_paths_finds_moved_files_by_their_place_beside_goals_yaml(tmp_path: Path) -> None:
    from mindmovie.plan import Plan, Scene, rebase_paths

    new = tmp_path / "new"
    (new / "photos").mkdir(parents=True)
    me, other, song = new / "photos" / "me.jpg", tmp_path / "elsewhere.jpg", new / "song.mp3"
    for f in (me, other, song):
        f.write_bytes(b"x")
    kept = str(other)  # exists: left alone
    scene = Scene(
        id="01-a-1", goal=1, category="a", affirmation="I am", image_prompt="p",
        motion_prompt="m", seconds=2,
        reference_photos=["/old/place/photos/me.jpg", kept, "/old/place/photos/gone.jpg"],
    )  # fmt: skip
    plan = Plan(title="t", closing="c", music="/old/place/song.mp3", scenes=[scene])
    out = rebase_paths(plan, [me, other, song], new)
    assert out.scenes[0].reference_photos == [str(me), kept, "/old/place/photos/gone.jpg"]
    assert out.music == str(song)
    assert plan.scenes[0].reference_photos[0] == "/old/place/photos/me.jpg"  # a copy
    # two files the old path could be (one outside the folder, "../me.jpg"): no guess
    twin = tmp_path / "me.jpg"
    twin.write_bytes(b"y")
    alone = Plan(title="t", closing="c", scenes=[scene.model_copy(
        update={"reference_photos": ["/old/photos/me.jpg"]})])  # fmt: skip
    assert rebase_paths(alone, [me], new).scenes[0].reference_photos == [str(me)]
    assert rebase_paths(alone, [me, twin], new).scenes[0].reference_photos == ["/old/photos/me.jpg"]


def test_rebase_paths_leaves_an_old_copy_of_the_project_for_the_new_one(tmp_path: Path) -> None:
    """A project folder copied (the old one still there): plan.yaml's paths name the
    old copy's files, which exist; they are pointed at the new copy's, by their place
    beside its goals.yaml, only when the old folder holds a goals.yaml of that name."""
    from mindmovie.plan import rebase_paths

    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        (folder / "photos").mkdir(parents=True)
        (folder / "photos" / "me.jpg").write_bytes(b"x")
        (folder / "goals.yaml").write_text("title: t\n")
    (tmp_path / "loose").mkdir()
    (tmp_path / "loose" / "me.jpg").write_bytes(b"x")  # no goals.yaml beside it
    mine = new / "photos" / "me.jpg"
    refs = [str(old / "photos" / "me.jpg"), str(tmp_path / "loose" / "me.jpg"), str(mine)]
    plan = Plan(title="t", closing="c", scenes=[scene(1, reference_photos=refs)])
    out = rebase_paths(plan, [mine], new, "goals.yaml")
    assert out.scenes[0].reference_photos == [str(mine), refs[1], str(mine)]
    assert rebase_paths(plan, [mine], new).scenes[0].reference_photos == refs  # no name
    assert rebase_paths(plan, [mine], new, "other.yaml").scenes[0].reference_photos == refs


def test_rebase_paths_leaves_an_old_copy_whose_photos_are_above_goals_yaml(
    tmp_path: Path,
) -> None:
    """goals.yaml in a subfolder of the project naming `../photos/me.jpg`: a copy of the
    project kept the old copy's photos (only a place inside goals.yaml's folder was
    followed), so a photo replaced in the copy was never used, and with an edit model
    the copy's photo scenes were bought again from text. The old copy's is followed to
    the new one's by its place, when the old copy holds the goals.yaml as far below."""
    from mindmovie.plan import rebase_paths

    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        (folder / "photos").mkdir(parents=True)
        (folder / "photos" / "me.jpg").write_bytes(b"x")
        (folder / "goals").mkdir()
        (folder / "goals" / "goals.yaml").write_text("title: t\n")
    (tmp_path / "loose" / "photos").mkdir(parents=True)
    (tmp_path / "loose" / "photos" / "me.jpg").write_bytes(b"x")
    (tmp_path / "loose" / "goals.yaml").write_text("title: t\n")  # not as far below
    mine = new / "photos" / "me.jpg"
    refs = [str(old / "photos" / "me.jpg"), str(tmp_path / "loose" / "photos" / "me.jpg")]
    plan = Plan(title="t", closing="c", scenes=[scene(1, reference_photos=refs)])
    out = rebase_paths(plan, [mine], new / "goals", "goals.yaml")
    assert out.scenes[0].reference_photos == [str(mine), refs[1]]
    # no more folders above goals.yaml than it has: not followed
    top = rebase_paths(plan, [mine], Path("/goals"), "goals.yaml")
    assert top.scenes[0].reference_photos == refs


def test_relative_paths_in_plan_yaml_are_relative_to_its_folder(tmp_path: Path) -> None:
    """A hand-edited 'music: song.mp3' names the file beside plan.yaml, not one in
    whatever folder the command happens to run from."""
    from mindmovie.plan import Plan, Scene, load_plan, write_plan

    run = tmp_path / "run"
    run.mkdir()
    scene = Scene(
        id="01-a-1", goal=1, category="a", affirmation="I am", image_prompt="p",
        motion_prompt="m", seconds=2, reference_photos=["photos/me.jpg", "/abs/x.jpg", "~/y.jpg"],
    )  # fmt: skip
    write_plan(Plan(title="t", closing="c", music="song.mp3", scenes=[scene]), run / "plan.yaml")
    plan = load_plan(run / "plan.yaml")
    assert plan.music == str(run / "song.mp3")
    assert plan.scenes[0].reference_photos == [str(run / "photos/me.jpg"), "/abs/x.jpg", "~/y.jpg"]


def test_rebase_paths_does_not_guess_between_two_photos_of_the_same_place(
    tmp_path: Path,
) -> None:
    """'../shots/me.jpg' and 'shots/me.jpg' beside goals.yaml both end in shots/me.jpg:
    a moved plan path ending so could be either. One of them was picked silently (the
    last one listed), so a scene could be made from the other photo."""
    from mindmovie.plan import Plan, Scene, rebase_paths

    new = tmp_path / "new"
    inner, outer = new / "shots" / "me.jpg", tmp_path / "shots" / "me.jpg"
    for f in (inner, outer):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    scene = Scene(
        id="01-a-1", goal=1, category="a", affirmation="I am", image_prompt="p",
        motion_prompt="m", seconds=2, reference_photos=["/old/place/shots/me.jpg"],
    )  # fmt: skip
    plan = Plan(title="t", closing="c", scenes=[scene])
    for files in ([inner, outer], [outer, inner]):
        out = rebase_paths(plan, files, new)
        assert out.scenes[0].reference_photos == ["/old/place/shots/me.jpg"], files


# --- which goal photo a scene is made from ------------------------------------------------


def test_source_photo_follows_the_scene_number_not_its_place_or_reference_order() -> None:
    photos = [Path("/p/a.jpg"), Path("/p/b.jpg"), Path("/p/c.jpg")]
    refs = [str(p) for p in photos]
    # as Claude's planner lists them: the scene's own photo first
    scenes = [
        scene(n, id=f"01-health-{n}", reference_photos=refs[n - 1 :] + refs[: n - 1])
        for n in (1, 2, 3)
    ]
    got = [source_photo(photos, scenes, sc) for sc in scenes]
    assert got == photos  # each its own (by place, two of them were the same photo)
    reordered = scenes[::-1]
    assert [source_photo(photos, reordered, sc) for sc in scenes] == photos
    assert source_photo(photos, scenes[1:], scenes[2]) == photos[2]  # scene 1 deleted
    # the person narrowed a scene to one photo; a scene with none of the goal's: None
    one = scene(1, id="01-health-1", reference_photos=[refs[2]])
    assert source_photo(photos, [one], one) == photos[2]
    assert source_photo(photos, [scene(1, reference_photos=["/x.jpg"])], scene(1)) is None
    # an id without a number (written by hand): its place among the goal's scenes
    odd = [scene(1, id="intro", reference_photos=refs), scene(2, id="outro", reference_photos=refs)]
    assert [source_photo(photos, odd, sc) for sc in odd] == photos[:2]
    assert (
        source_photo(photos, scenes, scene(4, id="01-health-4", reference_photos=refs))
        == (
            photos[0]  # wraps around
        )
    )
    # the rule before 2026-12 (still used to find keyframes made by it): the scene's
    # references in their own order, rotated by its place: scenes 2 and 3 swapped photos
    by_place = [source_photo_by_place(photos, scenes, sc) for sc in scenes]
    assert by_place == [photos[0], photos[2], photos[1]]
    assert source_photo_by_place(photos, scenes, scene(1, reference_photos=["/x.jpg"])) is None
    # a hand-written id numbered 0 is not a number the planners give: its place counts
    zero = scene(1, id="01-health-0", reference_photos=[str(p) for p in photos])
    assert source_photo(photos, [zero], zero) == photos[0]


def test_a_plan_nested_thousands_deep_is_one_line_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(dump_plan(Plan(title="T", closing="C", scenes=[scene(1)])))
    with path.open("a") as f:
        f.write("style: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(PlanError) as e:
        load_plan(path)
    line = len(path.read_text().splitlines())
    assert str(e.value) == f"{path}:{line}: lists or mappings nested more than 100 levels deep"


def test_a_plan_whose_aliases_expand_to_millions_of_values_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(dump_plan(Plan(title="T", closing="C", scenes=[scene(1)])))
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 8)]
    with path.open("a") as f:
        f.write("\n".join(lines) + "\n")
    with pytest.raises(PlanError, match=r"plan\.yaml:\d+: more than 100000 values"):
        load_plan(path)


def test_a_plan_of_more_scenes_than_goals_yaml_makes_names_the_limit(tmp_path: Path) -> None:
    """A plan of 14,000 scenes was refused as "more than 100000 values once aliases are
    expanded": it had no aliases. More scenes than goals.yaml can ask for (180) are
    refused naming the field; a file of more values, as too large."""
    from mindmovie.plan import MAX_SCENES

    path = tmp_path / "plan.yaml"
    one = dump_plan(Plan(title="T", closing="C", scenes=[scene(1)]))
    head, body = one.split("scenes:\n")
    for n in (MAX_SCENES + 1, 14_000):
        ids = [f"{i}-health-1" for i in range(n)]
        path.write_text(head + "scenes:\n" + "".join(body.replace("01-health-1", i) for i in ids))
        with pytest.raises(PlanError) as e:
            load_plan(path)
        if n == MAX_SCENES + 1:
            line = head.count("\n") + 1
            assert str(e.value) == f"{path}:{line}: scenes: must have at most 180 scenes, got 181"
        else:
            assert e.value.field is None and e.value.message == (
                "file is too large: more than 100000 values, which no hand-written YAML file "
                "holds: is it the right file?"
            )


def test_a_huge_plan_with_a_few_aliases_is_too_large_not_an_alias_bomb(tmp_path: Path) -> None:
    """A plan of 14,000 scenes written by a script with PyYAML, each scene's photo list
    the same list (dumped once as `&id001` and then `*id001`), was refused as "more than
    100000 values once aliases (*name) are expanded": most of its values are written in
    the file, so it is the file's size that is refused, as for one with no aliases."""
    path = tmp_path / "plan.yaml"
    one = dump_plan(Plan(title="T", closing="C", scenes=[scene(1)]))
    head, body = one.split("scenes:\n")
    first = body.replace("01-health-1", "0-x-1") + "  reference_photos: &id001 [/p/a.jpg]\n"
    rest = "".join(
        body.replace("01-health-1", f"{i}-x-1") + "  reference_photos: *id001\n"
        for i in range(1, 14_000)
    )
    path.write_text(head + "scenes:\n" + first + rest)
    with pytest.raises(PlanError) as e:
        load_plan(path)
    assert e.value.message == (
        "file is too large: more than 100000 values, which no hand-written YAML file "
        "holds: is it the right file?"
    )


def test_a_scene_of_more_reference_photos_than_two_photo_lists_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    refs = [f"/p/{i}.jpg" for i in range(21)]
    text = dump_plan(Plan(title="T", closing="C", scenes=[scene(1)]))
    path.write_text(text + f"  reference_photos: [{', '.join(refs)}]\n")
    with pytest.raises(PlanError) as e:
        load_plan(path)
    assert e.value.field == "scenes[1].reference_photos"
    assert e.value.message == "must have at most 20 reference photos, got 21"


def test_check_plan_names_a_reference_photo_too_long_for_the_system(tmp_path: Path) -> None:
    # Path.is_file() raised OSError (File name too long): a traceback before any render
    path = tmp_path / "plan.yaml"
    write_plan(
        Plan(title="T", closing="C", scenes=[scene(1, reference_photos=["/" + "a" * 5000])]), path
    )
    plan = load_plan(path)
    with pytest.raises(PlanError) as e:
        check_plan(path, plan, 1)
    assert str(e.value).startswith(f"{path}:")
    assert "scenes[1].reference_photos[1]: photo not found: /aaa" in str(e.value)


@pytest.mark.parametrize(
    ("field", "most"),
    [("affirmation", MAX_TEXT), ("image_prompt", MAX_PROMPT), ("title", MAX_TEXT)],
)
def test_a_text_past_its_length_is_refused_with_its_line(
    tmp_path: Path, field: str, most: int
) -> None:
    """A hand edit (or a planner's answer) of a million characters loaded: `storyboard`
    ended in a traceback from Pillow ("too many characters in string"), the render
    dropped its board, and ten million characters took a render of two scenes 99 s.
    Text shown on screen is held to goals.yaml's MAX_TEXT, a prompt to MAX_PROMPT."""
    path = tmp_path / "plan.yaml"
    write_plan(Plan(title="T", closing="C", scenes=[scene(1)]), path)
    text = path.read_text()
    start = f"{field}: "
    was = next(t for t in text.splitlines() if t.lstrip().startswith(start))
    lead = was[: was.index(start)]
    line = text.splitlines().index(was) + 1
    path.write_text(text.replace(was, f"{lead}{start}{'a' * (most + 1)}"))
    with pytest.raises(PlanError) as e:
        load_plan(path)
    where = "title" if field == "title" else f"scenes[1].{field}"
    said = f"{path}:{line}: {where}: must be at most {most} characters, got {most + 1}"
    assert str(e.value) == said
    path.write_text(text.replace(was, f"{lead}{start}{'a' * most}"))
    plan = load_plan(path)
    assert len(plan.title if field == "title" else getattr(plan.scenes[0], field)) == most


def test_a_scene_id_too_long_for_a_folder_name_is_refused_with_its_line(tmp_path: Path) -> None:
    # scenes/<id>/ is a folder: a hand-edited 300-character id loaded, then every render
    # failed that scene with "File name too long" and said `render` again retries it
    path = tmp_path / "plan.yaml"
    write_plan(Plan(title="T", closing="C", scenes=[scene(1)]), path)
    text = path.read_text()
    path.write_text(text.replace("id: 01-health-1", "id: " + "a" * 300))
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "id: aaa" in t)
    with pytest.raises(PlanError) as e:
        load_plan(path)
    assert str(e.value) == f"{path}:{line}: scenes[1].id: must be at most 100 characters, got 300"
    path.write_text(text.replace("id: 01-health-1", "id: " + "a" * 100))
    assert load_plan(path).scenes[0].id == "a" * 100


def test_check_plan_names_a_reference_photo_that_is_no_picture(tmp_path: Path) -> None:
    # goals.yaml's photos must be pictures; a plan.yaml edit pointing at another file
    # passed and went to a paid image model as a picture
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n")
    path = tmp_path / "plan.yaml"
    write_plan(Plan(title="T", closing="C", scenes=[scene(1, reference_photos=[str(notes)])]), path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "notes.txt" in t)
    with pytest.raises(PlanError) as e:
        check_plan(path, load_plan(path), 1)
    assert str(e.value) == (
        f"{path}:{line}: scenes[1].reference_photos[1]: photo is not a picture that can be"
        f" read (JPEG, PNG, WebP, ...): {notes}"
    )


def test_check_plan_reads_a_reference_photo_under_home_as_the_render_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`reference_photos: ['~/me.jpg']` is kept as written (see `_anchor_paths`), as
    plan.yaml's music is, but check_plan looked for a file named "~" and refused the photo
    as "photo not found: ~/me.jpg" while it was there; a folder was "not found" too."""
    from tests.media import write_photo

    home = tmp_path / "home"
    home.mkdir()
    write_photo(home / "me.jpg")
    (home / "pics").mkdir()
    monkeypatch.setenv("HOME", str(home))
    path = tmp_path / "plan.yaml"
    write_plan(Plan(title="T", closing="C", scenes=[scene(1, reference_photos=["~/me.jpg"])]), path)
    check_plan(path, load_plan(path), 1)
    write_plan(Plan(title="T", closing="C", scenes=[scene(1, reference_photos=["~/pics"])]), path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "~/pics" in t)
    with pytest.raises(PlanError) as e:
        check_plan(path, load_plan(path), 1)
    assert (
        str(e.value) == f"{path}:{line}: scenes[1].reference_photos[1]: photo is not a file: ~/pics"
    )


def test_check_plan_names_music_a_few_milliseconds_long(tmp_path: Path) -> None:
    # plan.yaml's music goes through goals.yaml's check: a hand-edited 5 ms sound is
    # valid audio, but the compose looped it thousands of times (minutes of audio pass)
    from tests.media import write_wav

    song = write_wav(tmp_path / "blip.wav", frames=40, rate=8000)  # 5 ms
    path = tmp_path / "plan.yaml"
    write_plan(Plan(title="T", closing="C", music=str(song), scenes=[scene(1)]), path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "blip.wav" in t)
    with pytest.raises(PlanError) as e:
        check_plan(path, load_plan(path), 1)
    assert str(e.value) == (
        f"{path}:{line}: music: music file has only 5 ms of sound; music must be at least 1 s"
        f" long (it is looped for the whole movie): pick a longer song: {song}"
    )


def test_check_plan_names_music_that_is_a_named_pipe_or_a_folder(tmp_path: Path) -> None:
    """A hand-edited music path to a named pipe (or a folder) was "not a sound file
    ffmpeg can read", which sent the person checking the song."""
    import os

    pipe = tmp_path / "song.mp3"
    os.mkfifo(pipe)
    for music, kind in ((pipe, "a named pipe (FIFO)"), (tmp_path, "a directory")):
        path = tmp_path / "plan.yaml"
        write_plan(Plan(title="T", closing="C", music=str(music), scenes=[scene(1)]), path)
        with pytest.raises(PlanError) as e:
            check_plan(path, load_plan(path), 1)
        assert str(e.value).endswith(f"music: music file is {kind}, not a file: {music}")


def test_check_plan_names_a_web_address_as_written_not_as_a_path_in_the_run_folder(
    tmp_path: Path,
) -> None:
    """A link pasted into plan.yaml as the music or a reference photo was "music file
    not found: <run folder>/https:/x.com/song.mp3 ": a path the person never wrote (its
    // made one /), where goals.yaml says the web address is not read. It is named as
    written, with what to do."""
    path = tmp_path / "plan.yaml"
    song, photo = "https://example.com/song.mp3", "https://example.com/me.jpg"
    plan = Plan(title="T", closing="C", music=song, scenes=[scene(1, reference_photos=[photo])])
    write_plan(plan, path)
    with pytest.raises(PlanError) as e:
        check_plan(path, load_plan(path), 1)
    said = [p.message for p in e.value.problems]
    hint = "a web address is not read: download the file and give its path"
    assert said == [f"music file not found: {song}; {hint}", f"photo not found: {photo}; {hint}"]


def test_plan_music_under_a_user_this_system_does_not_know_is_named_not_a_traceback(
    tmp_path: Path,
) -> None:
    """plan.yaml's `music: ~name/calm.mp3` for a user this system does not know made
    Path.expanduser raise RuntimeError: render and status ended in a traceback."""
    path = tmp_path / "plan.yaml"
    music = "~no-such-user-mm/calm.mp3"
    write_plan(Plan(title="T", closing="C", music=music, scenes=[scene(1)]), path)
    plan = load_plan(path)
    with pytest.raises(PlanError, match=r"music: music file not found: ~no-such-user-mm/calm"):
        check_plan(path, plan, 1)
    assert movie_edits(composed_plan(plan), plan) == []  # its digest: "missing", no error


def test_movie_edits_names_the_title_music_and_order_and_takes_music_by_its_bytes(
    tmp_path: Path,
) -> None:
    # what `status` says has the movie composed again; a moved project's plan names the
    # same song at another path, and the compose (keyed by the song's bytes) reuses it
    song = tmp_path / "a" / "song.mp3"
    song.parent.mkdir()
    song.write_bytes(b"la la")
    plan = Plan(title="T", closing="C", music=str(song), scenes=[scene(1), scene(2)])
    made = composed_plan(plan)
    assert movie_edits(made, plan) == []
    moved = tmp_path / "b" / "song.mp3"
    moved.parent.mkdir()
    moved.write_bytes(b"la la")
    assert movie_edits(made, plan.model_copy(update={"music": str(moved)})) == []
    moved.write_bytes(b"another song")
    assert movie_edits(made, plan.model_copy(update={"music": str(moved)})) == ["music"]
    swapped = plan.model_copy(update={"title": "New", "scenes": plan.scenes[::-1]})
    assert movie_edits(made, swapped) == ["title", "scene order"]
    assert movie_edits(made, plan.model_copy(update={"scenes": plan.scenes[:1]})) == ["scenes"]
    assert movie_edits(None, swapped) == []  # a movie from before it was recorded
    # a movie made with no song, then one named; a song whose file is gone, then none
    silent = plan.model_copy(update={"music": None})
    assert movie_edits(composed_plan(silent), silent) == []
    assert movie_edits(composed_plan(silent), plan) == ["music"]
    gone = plan.model_copy(update={"music": str(tmp_path / "gone.mp3")})
    assert movie_edits(composed_plan(gone), silent) == ["music"]
    # the movie's key holds what is drawn, not ids: two scenes' ids swapped, each with its
    # own clip and words, is the same movie (the order compares ids only without clips)
    one, two = plan.scenes
    shas = {one.id: "c1", two.id: "c2"}
    made = composed_plan(plan, shas)
    renamed = plan.model_copy(
        update={
            "scenes": [one.model_copy(update={"id": two.id}), two.model_copy(update={"id": one.id})]
        }
    )
    assert movie_edits(made, renamed, {two.id: "c1", one.id: "c2"}) == []
    assert movie_edits(made, renamed) == ["scene order"]  # the clips not known
    assert movie_edits(made, renamed, {two.id: "c1"}) == ["scene order"]
    # content with a clip not known, then and now, is no proof of the same movie
    unknown = composed_plan(plan, {one.id: "c1"})
    assert movie_edits(unknown, renamed, {two.id: "c1"}) == ["scene order"]
    assert movie_edits(made, swapped, {one.id: "c1", two.id: "c2"}) == ["title", "scene order"]


def test_check_plan_takes_a_goal_number_up_to_the_goals_count_and_not_one_past(
    tmp_path: Path,
) -> None:
    """A scene's goal is 1-based: goal 2 of two goals is fine, goal 2 of one is refused
    (the e2e test uses goal 99, which an off-by-one check also refuses)."""
    path = tmp_path / "plan.yaml"
    plan = Plan(title="T", closing="C", scenes=[scene(1), scene(2, id="02-wealth-1", goal=2)])
    write_plan(plan, path)
    check_plan(path, load_plan(path), 2)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "goal: 2" in t)
    with pytest.raises(PlanError) as e:
        check_plan(path, load_plan(path), 1)
    assert str(e.value) == f"{path}:{line}: scenes[2].goal: goal 2: goals.yaml has 1 goal(s)"


def test_edited_fields_compares_plan_yaml_with_what_each_scene_was_made_from() -> None:
    """`rendered_scene` records a finished scene; `edited_fields` names the fields edited
    since, in stage order: the style first, the category only for the offline painter
    (normalised as its key takes it), and `photo_keyframe` reads the photo mark back."""
    sc = PLAN.scenes[0]
    painted = rendered_scene(sc, PLAN.style, "local")
    paid = rendered_scene(sc, PLAN.style, "byteplus")
    photo = rendered_scene(sc, PLAN.style, "local", photo=True)
    assert photo_keyframe(photo) is True
    assert photo_keyframe(painted) is False and photo_keyframe(paid) is False
    assert photo_keyframe(None) is False and photo_keyframe("{not json") is False

    def plan_with(style: str | None = PLAN.style, **edits: object) -> Plan:
        return PLAN.model_copy(
            update={"style": style, "scenes": [sc.model_copy(update=edits), PLAN.scenes[1]]}
        )

    assert edited_fields({sc.id: painted}, PLAN) == {}
    # the painter's key takes the category stripped and lower-cased: no edit
    assert edited_fields({sc.id: painted}, plan_with(category=" Health ")) == {}
    edited = plan_with(category="wealth", seconds=6.0, image_prompt="a new picture")
    assert edited_fields({sc.id: painted}, edited) == {
        sc.id: ["image_prompt", "category", "seconds"]
    }
    # a paid model's keyframe does not read the category
    assert edited_fields({sc.id: paid}, edited) == {sc.id: ["image_prompt", "seconds"]}
    restyled = plan_with(style="film noir", affirmation="I run every morning")
    assert edited_fields({sc.id: paid}, restyled) == {sc.id: ["style", "affirmation"]}
    # nothing recorded (or not readable): nothing said
    assert edited_fields({sc.id: None}, edited) == {} and edited_fields({}, edited) == {}
    assert edited_fields({sc.id: "{broken"}, edited) == {}


def test_movie_scene_changes_names_the_scenes_whose_part_of_the_movie_changed() -> None:
    """Another clip or affirmation at the same place is that scene's change; a scene
    whose clip is not known yet counts as changed unless it may come out the same; a
    new order, or nothing recorded, is movie_edits' to say."""
    from mindmovie.plan import movie_scene_changes

    plan = Plan(title="T", closing="C", scenes=[scene(1), scene(2), scene(3)])
    clips = {sc.id: f"sha-{sc.id}" for sc in plan.scenes}
    made = composed_plan(plan, clips)
    assert movie_scene_changes(made, plan, clips) == []
    assert movie_scene_changes(made, plan, {**clips, "02-health-1": "new"}) == ["02-health-1"]
    worded = plan.model_copy(
        update={"scenes": [plan.scenes[0], plan.scenes[1], scene(3, affirmation="I am new")]}
    )
    assert movie_scene_changes(made, worded, clips) == ["03-health-1"]
    unknown = {k: v for k, v in clips.items() if k != "01-health-1"}
    assert movie_scene_changes(made, plan, unknown) == ["01-health-1"]
    assert movie_scene_changes(made, plan, unknown, frozenset({"01-health-1"})) == []
    reordered = plan.model_copy(update={"scenes": plan.scenes[::-1]})
    assert movie_scene_changes(made, reordered, clips) == []
    assert movie_scene_changes(None, plan, {}) == []
    assert movie_scene_changes(composed_plan(plan), plan, clips) == []  # no content kept


def test_movie_settings_changes_names_settings_changed_added_or_gone() -> None:
    """The compose settings that differ from the last movie's: changed, new (a setting
    the last movie's record does not have) or gone; tuples compare as recorded."""
    made = composed_plan(PLAN, settings={"compose.crossfade": 1.0, "output.size": (320, 180)})
    assert movie_settings_changes(made, {"compose.crossfade": 1.0, "output.size": (320, 180)}) == []
    now = {"compose.crossfade": 0.5, "output.size": (320, 180), "compose.engine": "ffmpeg"}
    assert movie_settings_changes(made, now) == ["compose.crossfade", "compose.engine"]
    assert movie_settings_changes(made, {"compose.crossfade": 1.0}) == ["output.size"]
    # nothing recorded, or no settings in the record: nothing said
    assert movie_settings_changes(None, now) == []
    assert movie_settings_changes(composed_plan(PLAN), now) == []
    assert movie_settings_changes("{broken", now) == []
    for not_a_record in ("[1, 2]", "5", '"text"'):  # JSON, but no record
        assert movie_settings_changes(not_a_record, now) == []
        assert movie_edits(not_a_record, PLAN) == []


def test_a_replan_names_the_goals_file_by_its_own_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Goals in `pg.yaml`, edited: the new plan was said to come because "goals.yaml
    changed", a file the person does not have."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)
    goals = tmp_path / "pg.yaml"
    goals.write_text("title: T\ngoals:\n  - category: health\n    vision: I run\n")
    argv = ["plan", "pg.yaml", "--out", "run"]
    assert CliRunner().invoke(app, argv).exit_code == 0
    goals.write_text(goals.read_text().replace("I run", "I swim"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "pg.yaml changed since the last plan: planning again" in said, said
    assert "goals.yaml" not in said


@pytest.mark.parametrize("columns", [30, 40, 60])
def test_plan_s_table_in_a_narrow_terminal_cuts_no_id_nor_affirmation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """`mindmovie plan` at 30 columns cut every scene id to "01-hea…" (its rows could not
    be told apart), and at 40 and 60 a Chinese affirmation, one word to the table (no
    spaces), to "我每天都在海…": what the person checks before paying for pictures. A
    line per scene below the table's width, each id and word whole; the table folds."""
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    from mindmovie import cli
    from mindmovie.plan import load_plan

    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()  # the terminal (cli.out's width is read once, when it is made)
    monkeypatch.setattr(cli, "out", Console(file=buf, width=columns, color_system=None))
    long_cjk = "我每天都在海边跑步并且感到非常自由和快乐"
    (tmp_path / "goals.yaml").write_text(
        "title: T\ngoals:\n"
        f"  - {{category: health, vision: I run, affirmation: {long_cjk}, scenes: 2}}\n"
        "  - {category: relationships, vision: A warm home}\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(cli.app, ["plan", "goals.yaml", "--out", "run"], env={})
    said = buf.getvalue()
    assert r.exit_code == 0, r.output
    assert "…" not in said, said
    if columns < 60:
        shown = set(said.split())
        for sc in load_plan(tmp_path / "run" / "plan.yaml").scenes:
            assert sc.id in shown and set(sc.affirmation.split()) <= shown, said


@pytest.mark.parametrize("columns", [30, 80])
def test_plan_s_table_heading_is_one_line_for_a_title_written_as_a_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    """goals.yaml's title is kept as written, and a YAML block (`title: |`, a blank line,
    the title) holds line breaks: `mindmovie plan` printed the title, then ": 1 scene"
    alone on the next line. The heading is the title on one line."""
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    from mindmovie import cli

    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()  # the terminal (cli.out's width is read once, when it is made)
    monkeypatch.setattr(cli, "out", Console(file=buf, width=columns, color_system=None))
    (tmp_path / "goals.yaml").write_text(
        "title: |\n\n  My Year\n  of Joy\ngoals:\n  - {category: health, vision: I run}\n"
    )
    r = CliRunner().invoke(cli.app, ["plan", "goals.yaml", "--out", "run"], env={})
    assert r.exit_code == 0, r.output
    lines = [ln.strip() for ln in buf.getvalue().splitlines() if ln.strip()]
    assert lines[0] == "My Year of Joy: 1 scene", lines


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("affirmation: I am free", 'affirmation: "I am \\e[2J free"', "scenes[2].affirmation"),
        ("image_prompt: A runner at dawn", 'image_prompt: "A runner\\0"', "scenes[1].image_prompt"),
        ("closing: Thank you", 'closing: "Thank \\a you"', "closing"),
    ],
)
def test_a_control_character_in_plan_yaml_is_refused_as_goals_yaml_refuses_it(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    """goals.yaml refuses a control character (no font draws one); plan.yaml took one,
    and `mindmovie plan` wrote an ESC [2J from it to the terminal, which cleared it."""
    text = VALID.replace(old, new)
    err = load_error(write(tmp_path, text))
    assert (err.line, err.field) == (line_of(text, new), field)
    assert "invalid character" in err.message and "control character" in err.message


def _replan_after_edits(tmp_path: Path, edit: Callable[[str], str]) -> tuple[str, Plan]:
    """`mindmovie plan` of three goals, plan.yaml edited by `edit`, then goals.yaml's
    health vision changed and planned again: (the second run's stderr, one line, and the
    new plan.yaml)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.plan import load_plan

    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: T\ngoals:\n  - category: career\n    vision: I lead a design team\n"
        "  - category: health\n    vision: Run a marathon\n"
        "  - category: family\n    vision: Dinner with my family\n"
    )
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    assert CliRunner().invoke(app, argv).exit_code == 0
    plan_path = tmp_path / "run" / "plan.yaml"
    plan_path.write_text(edit(plan_path.read_text()))
    goals.write_text(goals.read_text().replace("Run a marathon", "Run a full marathon"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    return " ".join(r.stderr.split()), load_plan(plan_path)


def _edit_three(text: str) -> str:
    """The walkthrough's edits: career's affirmation, health's seconds (its goal is the one
    goals.yaml changes next), family's scene deleted."""
    text = text.replace(
        "affirmation: I lead a design team", "affirmation: I lead the best design team in town"
    )
    head, health = text.split("- id: 02-health-1", 1)
    health, _family = health.split("- id: 03-family-1", 1)
    return head + "- id: 02-health-1" + health.replace("seconds: 5.0", "seconds: 7.0")


def test_a_replan_names_the_hand_edits_it_does_not_carry_over(tmp_path: Path) -> None:
    """goals.yaml edited after plan.yaml was: the new plan left the person's edits out
    with no word but "old plan kept as plan.previous.yaml". The edits not carried (the
    scene of the goal changed) are named, scene and field, and where they are."""
    said, _ = _replan_after_edits(tmp_path, _edit_three)
    assert "goals.yaml changed since the last plan: planning again" in said, said
    assert "not in the new plan: 02-health-1 seconds" in said, said
    assert "they are in plan.previous.yaml" in said, said


def test_a_replan_carries_the_hand_edits_of_scenes_whose_goal_did_not_change(
    tmp_path: Path,
) -> None:
    """The scenes the planner made again as before keep the person's edits (an
    affirmation) and deletions, and the render says so in one line; the changed goal's
    scene is the planner's new one."""
    said, plan = _replan_after_edits(tmp_path, _edit_three)
    assert [s.id for s in plan.scenes] == ["01-career-1", "02-health-1"]
    assert plan.scenes[0].affirmation == "I lead the best design team in town"
    assert plan.scenes[1].seconds == 5.0 and "full marathon" in plan.scenes[1].image_prompt
    assert (
        "carried into the new plan (their part of goals.yaml did not change): "
        "01-career-1 affirmation, 03-family-1 deleted" in said
    ), said


def test_a_replan_over_a_plan_yaml_broken_by_hand_says_its_edits_are_not_carried(
    tmp_path: Path,
) -> None:
    """plan.yaml edited by hand into YAML that does not load (a quote never closed in an
    affirmation of a goal that did not change), then goals.yaml edited: the new plan was
    made with only "old plan kept as plan.previous.yaml", the person's edit gone from
    the movie with no word, where the same plan.yaml with goals.yaml as it was stops the
    render at its line. The warning says plan.yaml could not be read, where, and that
    none of its edits is in the new plan (they are in plan.previous.yaml)."""

    def broken(text: str) -> str:
        return text.replace(
            "affirmation: I lead a design team", 'affirmation: "I lead the best design team'
        )

    said, plan = _replan_after_edits(tmp_path, broken)
    assert "goals.yaml changed since the last plan: planning again" in said, said
    assert "plan.previous.yaml:" in said and "could not be read" in said, said
    assert "none of its edits is in the new plan; they are in plan.previous.yaml" in said
    assert '"I lead the best' in (tmp_path / "run" / "plan.previous.yaml").read_text()
    assert plan.scenes[0].affirmation == "I lead a design team"


def test_a_replan_over_a_plan_yaml_broken_by_hand_names_the_line_in_the_copy_that_holds_it(
    tmp_path: Path,
) -> None:
    """The warning of a new plan over a plan.yaml broken by hand named "plan.yaml:N", a
    line of the new plan.yaml by the time it is read (the broken text is in
    plan.previous.yaml only): it names plan.previous.yaml's line."""

    def broken(text: str) -> str:
        return text.replace(
            "affirmation: I lead a design team", 'affirmation: "I lead the best design team'
        )

    said, _ = _replan_after_edits(tmp_path, broken)
    assert "could not be read (" in said, said
    named = said.split("could not be read (", 1)[1]
    assert named.startswith(str(tmp_path / "run" / "plan.previous.yaml") + ":"), said


def test_carry_edits_carries_only_scenes_planned_as_before_and_names_the_rest() -> None:
    """Pure: the style edited (the new plan's style is the planned one: carried), a scene
    added by hand and the scenes' order (not carried), a scene whose new values differ
    (its goal changed: named), and the names cut at three with "and N more"."""
    from mindmovie.plan import carry_edits, hand_edits, planned_record, some_named

    made = Plan(title="T", closing="C", style="warm", scenes=[scene(1), scene(2), scene(3)])
    a, b, c = made.scenes
    mine = made.model_copy(
        update={
            "title": "My year",
            "closing": "Thanks",
            "style": "cold",
            "scenes": [
                c.model_copy(update={"seconds": 8.0}),
                a.model_copy(update={"affirmation": "I swim"}),
                scene(9, goal=2),  # of another goal: see the renamed test
            ],
        }
    )
    planned = planned_record(made)
    assert hand_edits(None, mine) is None  # nothing recorded: not known
    assert hand_edits(planned, mine) == [
        ("", "title"),
        ("", "closing"),
        ("", "style"),
        ("01-health-1", "affirmation"),
        ("02-health-1", "deleted"),
        ("03-health-1", "seconds"),
        ("09-health-1", "added"),
        ("", "scene order"),
    ]
    new = made.model_copy(  # goals.yaml's closing changed, and the third goal
        update={
            "closing": "C2",
            "scenes": [a, b, c.model_copy(update={"image_prompt": "A new goal"})],
        }
    )
    merged, carried, lost = carry_edits(planned, mine, new)
    assert carried == ["title", "style", "01-health-1 affirmation", "02-health-1 deleted"]
    assert lost == ["closing", "03-health-1 seconds", "09-health-1 added", "scene order"]
    assert (merged.title, merged.closing, merged.style) == ("My year", "C2", "cold")
    assert [(s.id, s.affirmation, s.seconds) for s in merged.scenes] == [
        ("01-health-1", "I swim", 5.0),
        ("03-health-1", "I am radiantly healthy", 5.0),
    ]
    assert some_named(lost) == "closing, 03-health-1 seconds, 09-health-1 added and 1 more"
    assert some_named(lost[:3]) == "closing, 03-health-1 seconds, 09-health-1 added"


def test_edits_of_a_scene_whose_camera_move_alone_changed_are_carried() -> None:
    """Pure: the local planner's first camera move of a goal follows the goal before it,
    so an edit of that goal changes the next goal's first motion prompt. The person's
    edits of that scene were dropped ("not in the new plan"), and a scene they deleted
    came back. They are carried onto the new scene (its new move kept, but where the
    person edited the motion prompt themselves); a scene whose goal changed still is not."""
    from mindmovie.plan import carry_edits, planned_record

    made = Plan(title="T", closing="C", scenes=[scene(1), scene(2, goal=2), scene(3, goal=3)])
    a, b, c = made.scenes
    mine = made.model_copy(
        update={
            "scenes": [
                a.model_copy(update={"affirmation": "I swim", "motion_prompt": "My own move"}),
                b.model_copy(update={"affirmation": "I rest"}),
            ]
        }
    )
    moved = {"motion_prompt": "Gentle drift up. Natural, gentle movement."}
    new = made.model_copy(
        update={
            "scenes": [
                a.model_copy(update=moved),
                b.model_copy(update={**moved, "image_prompt": "Another goal"}),
                c.model_copy(update=moved),
            ]
        }
    )
    merged, carried, lost = carry_edits(planned_record(made), mine, new)
    assert carried == [
        "01-health-1 affirmation",
        "01-health-1 motion_prompt",
        "03-health-1 deleted",
    ]
    assert lost == ["02-health-1 affirmation"]
    assert [(s.id, s.affirmation, s.motion_prompt) for s in merged.scenes] == [
        ("01-health-1", "I swim", "My own move"),
        ("02-health-1", b.affirmation, moved["motion_prompt"]),
    ]


def test_a_replan_keeps_the_edits_of_the_next_goal_s_scene_whose_move_alone_changed(
    tmp_path: Path,
) -> None:
    """A walkthrough's: the example's wealth goal edited, the relationships scene after
    it, whose affirmation the person had edited, lost the edit (its camera move follows
    the wealth goal's, so its motion prompt changed): "your edits not in the new plan:
    03-relationships-1 affirmation". It is carried, with the new move."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.plan import load_plan

    goals = tmp_path / "goals.yaml"
    wealth = "Debt-free, with savings that let me say yes to what matters"
    goals.write_text(
        "title: Carry Test\ngoals:\n  - category: health\n    vision: Run a marathon\n"
        f"  - category: wealth\n    vision: {wealth}\n"
        "  - category: relationships\n"
        "    vision: Long dinners in the garden with the people I love\n"
    )
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    assert CliRunner().invoke(app, argv).exit_code == 0
    plan_path = tmp_path / "run" / "plan.yaml"
    before = load_plan(plan_path)
    mine = "My family gathers at my table"
    text = plan_path.read_text()
    assert text.count(before.scenes[-1].affirmation) == 1
    plan_path.write_text(text.replace(before.scenes[-1].affirmation, mine))
    goals.write_text(goals.read_text().replace(wealth, "Financially free and generous"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    after = load_plan(plan_path)
    last = after.scenes[-1]
    # (the case: the move alone changed)
    assert last.motion_prompt != before.scenes[-1].motion_prompt
    assert last.image_prompt == before.scenes[-1].image_prompt
    assert last.affirmation == mine
    said = " ".join(r.stderr.split())
    assert "carried into the new plan" in said and "03-relationships-1 affirmation" in said
    assert "not in the new plan" not in said, said


def test_a_scene_renamed_by_hand_is_not_dropped_by_a_new_plan() -> None:
    """A scene's id renamed in plan.yaml reads as the old id deleted and a new one added:
    the deletion was carried and the addition not, so a goal that did not change left the
    movie. A deletion is not carried while a scene of its goal was added: both are named,
    and the planner's scene stays."""
    from mindmovie.plan import carry_edits, planned_record

    made = Plan(title="T", closing="C", scenes=[scene(1), scene(2, id="02-wealth-1", goal=2)])
    a, b = made.scenes
    mine = made.model_copy(update={"scenes": [a, b.model_copy(update={"id": "02-wealth-run"})]})
    new = made.model_copy(update={"scenes": [a.model_copy(update={"seconds": 6.0}), b]})
    merged, carried, lost = carry_edits(planned_record(made), mine, new)
    assert [s.id for s in merged.scenes] == ["01-health-1", "02-wealth-1"]
    assert carried == []
    assert lost == ["02-wealth-1 deleted", "02-wealth-run added"]
    # a deletion with no scene of its goal added is still carried
    gone = made.model_copy(update={"scenes": [a]})
    merged, carried, _ = carry_edits(planned_record(made), gone, new)
    assert [s.id for s in merged.scenes] == ["01-health-1"] and carried == ["02-wealth-1 deleted"]


def _plan(*scenes: Scene) -> Plan:
    """A plan of `scenes` titled "T", closing "C" (the renumbering tests' plans)."""
    return Plan(title="T", closing="C", scenes=list(scenes))


def _goal_scene(goal: int, category: str, vision: str, n: int = 1, **kw: object) -> Scene:
    """A scene as the local planner makes one: id and goal from the goal's place, the
    rest from its words (`vision`), and a camera move that follows the goal before it."""
    return scene(
        goal,
        **{
            "id": f"{goal:02d}-{category}-{n}",
            "goal": goal,
            "category": category,
            "affirmation": f"I {vision.lower()}",
            "image_prompt": f"Shot {n} of a person. Scene: {vision}.",
            "motion_prompt": f"Move {goal}-{n}: {vision.lower()}",
            **kw,
        },
    )


def test_carry_edits_follows_scenes_renumbered_by_a_goal_removed_above() -> None:
    """Pure: the first goal removed from goals.yaml renumbers every scene after it
    ("02-wealth-1" is "01-wealth-1" now), planned as before but for its id, goal number
    and camera move. The person's edited affirmation and deleted scene were matched by id
    only: "not in the new plan", the affirmation reset and the deleted scene back (bought
    again). They follow the scene to its new id, and the line names both."""
    from mindmovie.plan import carry_edits, planned_record

    made = _plan(
        _goal_scene(1, "health", "Run the coastal trail"),
        _goal_scene(2, "wealth", "Debt-free with savings"),
        _goal_scene(3, "growth", "Finish my novel"),
        _goal_scene(3, "growth", "Finish my novel", 2),
    )
    _, w, g1, _ = made.scenes
    mine = made.model_copy(
        update={"scenes": [made.scenes[0], w.model_copy(update={"affirmation": "Money flows"}), g1]}
    )
    new = _plan(
        _goal_scene(1, "wealth", "Debt-free with savings"),
        _goal_scene(2, "growth", "Finish my novel"),
        _goal_scene(2, "growth", "Finish my novel", 2),
    )
    merged, carried, lost = carry_edits(planned_record(made), mine, new)
    assert [(s.id, s.goal, s.affirmation) for s in merged.scenes] == [
        ("01-wealth-1", 1, "Money flows"),
        ("02-growth-1", 2, g1.affirmation),
    ]
    assert merged.scenes[0].motion_prompt == new.scenes[0].motion_prompt  # the new move
    assert carried == [
        "02-wealth-1 affirmation (now 01-wealth-1)",
        "03-growth-2 deleted (now 02-growth-2)",
    ]
    assert lost == []


def test_carry_edits_follows_scenes_renumbered_by_a_goal_added_above() -> None:
    """Pure: a goal inserted first in goals.yaml: each scene after it takes the next
    number; its edits (seconds) and its deletion follow it, and the new goal's scene is
    the planner's."""
    from mindmovie.plan import carry_edits, planned_record

    made = _plan(
        _goal_scene(1, "wealth", "Debt-free with savings"),
        _goal_scene(2, "growth", "Finish my novel"),
        _goal_scene(2, "growth", "Finish my novel", 2),
    )
    w, g1, _ = made.scenes
    mine = made.model_copy(update={"scenes": [w.model_copy(update={"seconds": 8.0}), g1]})
    new = _plan(
        _goal_scene(1, "health", "Run the coastal trail"),
        _goal_scene(2, "wealth", "Debt-free with savings"),
        _goal_scene(3, "growth", "Finish my novel"),
        _goal_scene(3, "growth", "Finish my novel", 2),
    )
    merged, carried, lost = carry_edits(planned_record(made), mine, new)
    assert [(s.id, s.seconds) for s in merged.scenes] == [
        ("01-health-1", 5.0),
        ("02-wealth-1", 8.0),
        ("03-growth-1", 5.0),
    ]
    assert carried == [
        "01-wealth-1 seconds (now 02-wealth-1)",
        "02-growth-2 deleted (now 03-growth-2)",
    ]
    assert lost == []


def test_carry_edits_follows_scenes_of_two_goals_swapped() -> None:
    """Pure: two goals swapped in goals.yaml, of other categories (new ids) and of one
    category (each id now the other goal's scene): every edit follows its scene, not its
    old id, whose scene is the other goal's now."""
    from mindmovie.plan import carry_edits, planned_record

    made = _plan(
        _goal_scene(1, "health", "Run the coastal trail"),
        _goal_scene(2, "wealth", "Debt-free with savings"),
        _goal_scene(3, "growth", "Finish my novel"),
        _goal_scene(4, "growth", "Learn the cello"),
    )
    h, w, novel, cello = made.scenes
    mine = _plan(
        h.model_copy(update={"affirmation": "I run free"}),
        w.model_copy(update={"seconds": 7.0}),
        novel.model_copy(update={"affirmation": "My novel is done"}),
        cello,
    )
    new = _plan(
        _goal_scene(1, "wealth", "Debt-free with savings"),
        _goal_scene(2, "health", "Run the coastal trail"),
        _goal_scene(3, "growth", "Learn the cello"),
        _goal_scene(4, "growth", "Finish my novel"),
    )
    merged, carried, lost = carry_edits(planned_record(made), mine, new)
    assert [(s.id, s.affirmation, s.seconds) for s in merged.scenes] == [
        ("01-wealth-1", w.affirmation, 7.0),
        ("02-health-1", "I run free", 5.0),
        ("03-growth-1", cello.affirmation, 5.0),
        ("04-growth-1", "My novel is done", 5.0),
    ]
    assert carried == [
        "01-health-1 affirmation (now 02-health-1)",
        "02-wealth-1 seconds (now 01-wealth-1)",
        "03-growth-1 affirmation (now 04-growth-1)",
    ]
    assert lost == []


def test_carry_edits_does_not_follow_a_scene_two_new_scenes_match() -> None:
    """Pure: the scene's goal removed above it, and a goal of the same words added after
    it: two new scenes are planned as it was (but for their place), so which one the
    person edited is not known. Neither takes the edit nor the deletion; both are named
    as not carried, and the new plan is the planner's. Nor does one new scene take the
    edits of two old scenes alike."""
    from mindmovie.plan import carry_edits, planned_record

    made = _plan(
        _goal_scene(1, "health", "Run the coastal trail"),
        _goal_scene(2, "wealth", "Debt-free with savings"),
        _goal_scene(3, "growth", "Finish my novel"),
    )
    h, w, _ = made.scenes
    mine = made.model_copy(update={"scenes": [h, w.model_copy(update={"affirmation": "Rich"})]})
    new = _plan(
        _goal_scene(1, "wealth", "Debt-free with savings"),
        _goal_scene(2, "growth", "Finish my novel"),
        _goal_scene(3, "wealth", "Debt-free with savings"),
        _goal_scene(4, "growth", "Finish my novel"),
    )
    # (one of each alone: followed)
    single = new.model_copy(update={"scenes": new.scenes[:2]})
    merged, carried, lost = carry_edits(planned_record(made), mine, single)
    assert [(s.id, s.affirmation) for s in merged.scenes] == [("01-wealth-1", "Rich")]
    assert (len(carried), lost) == (2, [])
    merged, carried, lost = carry_edits(planned_record(made), mine, new)
    assert merged == new
    assert carried == []
    assert lost == ["02-wealth-1 affirmation", "03-growth-1 deleted"]
    # two old scenes alike (the same goal twice), one new scene like both: neither
    twice = _plan(w, _goal_scene(3, "wealth", "Debt-free with savings"))
    edited = twice.model_copy(
        update={"scenes": [twice.scenes[0].model_copy(update={"seconds": 9.0}), twice.scenes[1]]}
    )
    one = _plan(_goal_scene(1, "wealth", "Debt-free with savings"))
    merged, carried, lost = carry_edits(planned_record(twice), edited, one)
    assert merged == one and carried == [] and lost == ["02-wealth-1 seconds"]


def test_edits_not_in_finds_an_edit_of_a_scene_renumbered_in_the_plan_put_back() -> None:
    """Pure: plan.yaml's edit carried to a renumbered scene ("01-wealth-1"), then the
    removed goal restored, which puts back the plan these goals had, whose "02-wealth-1"
    has that edit too: matched by id, the edit was named as not in the plan put back. With
    what that plan's planner made, the scene is found under its id there; an edit it does
    not have is still named, and so is a scene deleted here that it has."""
    from mindmovie.plan import edits_not_in, planned_record

    three = _plan(
        _goal_scene(1, "health", "Run the coastal trail"),
        _goal_scene(2, "wealth", "Debt-free with savings"),
        _goal_scene(3, "growth", "Finish my novel"),
    )
    two = _plan(
        _goal_scene(1, "wealth", "Debt-free with savings"),
        _goal_scene(2, "growth", "Finish my novel"),
    )
    w, _ = two.scenes
    mine = two.model_copy(
        update={"scenes": [w.model_copy(update={"affirmation": "Money flows", "seconds": 9.0})]}
    )
    h, w3, g3 = three.scenes
    back = three.model_copy(
        update={"scenes": [h, w3.model_copy(update={"affirmation": "Money flows"}), g3]}
    )
    planned = planned_record(two)
    assert edits_not_in(planned, mine, back, planned_record(three)) == [
        "01-wealth-1 seconds",
        "02-growth-1 deleted",
    ]


def test_a_replan_of_a_plan_made_before_its_record_says_its_changes_are_not_carried(
    tmp_path: Path,
) -> None:
    """A run planned before the planner's values were recorded: plan.yaml edited since
    (its bytes not the planner's) is said to have changes the new plan does not have,
    and where they are, rather than nothing."""
    import sqlite3

    def forget(text: str) -> str:  # as a run.db from before the record has it
        con = sqlite3.connect(tmp_path / "run" / "run.db")
        with con:
            con.execute("DELETE FROM meta WHERE key LIKE 'planned_plan:%'")
        con.close()
        return _edit_three(text)

    said, plan = _replan_after_edits(tmp_path, forget)
    assert "plan.yaml was changed since it was planned" in said, said
    assert "those changes are not in the new plan; they are in plan.previous.yaml" in said
    assert [s.id for s in plan.scenes] == ["01-career-1", "02-health-1", "03-family-1"]


def _planned_two_goals(tmp_path: Path) -> tuple[Path, list[str]]:
    """goals.yaml of two goals (career, health) planned into tmp_path/run by `plan`: its
    path and the `plan` command line, to plan it again."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: T\ngoals:\n  - category: career\n    vision: I lead a design team\n"
        "  - category: health\n    vision: Run a marathon\n"
    )
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    assert CliRunner().invoke(app, argv).exit_code == 0
    return goals, argv


def test_a_plan_made_before_its_record_given_a_new_title_is_not_told_hand_edited(
    tmp_path: Path,
) -> None:
    """A run planned before the planner's values were recorded, plan.yaml never edited:
    goals.yaml's new title written into it changed its bytes, and the next new plan
    said "plan.yaml was changed since it was planned" of edits never made."""
    import sqlite3

    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals, argv = _planned_two_goals(tmp_path)
    con = sqlite3.connect(tmp_path / "run" / "run.db")
    with con:  # as a run.db from before the record has it
        con.execute("DELETE FROM meta WHERE key LIKE 'planned_plan:%'")
    con.close()
    goals.write_text(goals.read_text().replace("title: T", "title: My year"))
    r = CliRunner().invoke(app, argv)
    assert "plan.yaml takes goals.yaml's new title" in " ".join(r.stderr.split()), r.output
    goals.write_text(goals.read_text().replace("Run a marathon", "Run a full marathon"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "planning again" in said, said
    assert "was changed since it was planned" not in said, said


def test_a_new_plan_that_failed_leaves_the_hand_edits_to_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new plan for an edited goals.yaml that failed (here a full disk as plan.yaml was
    written; Claude's 529, the budget stop and Ctrl-C leave the step so too) overwrote
    the last good plan step: the next plan said only "planning again" and dropped the
    hand edits of plan.yaml, still that plan, without a word."""
    from typer.testing import CliRunner

    import mindmovie.pipeline
    from mindmovie.cli import app
    from mindmovie.plan import load_plan

    goals, argv = _planned_two_goals(tmp_path)
    plan_path = tmp_path / "run" / "plan.yaml"
    plan_path.write_text(
        plan_path.read_text().replace("affirmation: I lead a design team", "affirmation: I win")
    )
    goals.write_text(goals.read_text().replace("Run a marathon", "Run a full marathon"))

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(mindmovie.pipeline, "write_plan", full)
        assert CliRunner().invoke(app, argv).exit_code != 0
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "your edits carried into the new plan" in said, said
    assert "01-career-1 affirmation" in said, said
    assert load_plan(plan_path).scenes[0].affirmation == "I win"


def test_a_plan_killed_right_after_it_was_recorded_keeps_what_its_planner_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the planner made (`planned_plan:`) was written after the plan step succeeded,
    its failure suppressed: a kill in between left no record, and the next goals.yaml
    edit dropped plan.yaml's hand edits, carrying none. It is written in succeed's own
    transaction."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.plan import load_plan
    from mindmovie.store import Store

    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: T\ngoals:\n  - category: career\n    vision: I lead a design team\n"
        "  - category: health\n    vision: Run a marathon\n"
    )
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    succeed = Store.succeed

    def killed_after(self: Store, scene_id: str, stage: str, *a: object, **kw: object) -> None:
        succeed(self, scene_id, stage, *a, **kw)  # type: ignore[arg-type]
        if stage == "plan":
            raise KeyboardInterrupt  # as a kill: nothing after the transaction runs

    with monkeypatch.context() as m:
        m.setattr(Store, "succeed", killed_after)
        CliRunner().invoke(app, argv)
    plan_path = tmp_path / "run" / "plan.yaml"
    plan_path.write_text(
        plan_path.read_text().replace("affirmation: I lead a design team", "affirmation: I win")
    )
    goals.write_text(goals.read_text().replace("Run a marathon", "Run a full marathon"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "your edits carried into the new plan: 01-career-1 affirmation" in said.replace(
        " (their part of goals.yaml did not change)", ""
    ), said
    assert load_plan(plan_path).scenes[0].affirmation == "I win"


def _project_with_photos(folder: Path) -> None:
    """A project in `folder`: goals.yaml of two goals, the person's photo and the health
    goal's own, copied from the examples."""
    import shutil

    (folder / "photos").mkdir(parents=True)
    for name in ("me.jpg", "coastal-run.jpg"):
        shutil.copyfile(
            Path(__file__).parents[2] / "examples" / "photos" / name, folder / "photos" / name
        )
    (folder / "goals.yaml").write_text(
        "title: T\nperson:\n  photos: [photos/me.jpg]\ngoals:\n"
        "  - category: health\n    vision: Run a marathon\n    photos: [photos/coastal-run.jpg]\n"
        "  - category: career\n    vision: I lead a design team\n"
    )


def test_a_copied_project_carries_the_hand_edits_of_scenes_with_photos(tmp_path: Path) -> None:
    """The project folder copied (or moved): plan.yaml and the planner's record name the
    photos in the old folder, the new plan those in the new one, so every unchanged
    scene with a photo read as planned anew and its hand edits were dropped. Both sides
    go through the same rebase as the render's paths."""
    import shutil

    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.plan import load_plan

    old = tmp_path / "old"
    _project_with_photos(old)
    argv = ["plan", str(old / "goals.yaml"), "--out", str(old / "run")]
    assert CliRunner().invoke(app, argv).exit_code == 0
    new = tmp_path / "new"
    shutil.copytree(old, new)
    goals, plan_path = new / "goals.yaml", new / "run" / "plan.yaml"
    text = plan_path.read_text()
    head, health = text.split("- id: 01-health-1", 1)
    edited = health.replace("affirmation: ", "affirmation: I fly. ", 1)
    plan_path.write_text(head + "- id: 01-health-1" + edited)
    goals.write_text(goals.read_text().replace("I lead a design team", "I lead a studio"))
    r = CliRunner().invoke(app, ["plan", str(goals), "--out", str(new / "run")])
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "not in the new plan" not in said, said
    assert "carried into the new plan" in said and "01-health-1 affirmation" in said, said
    health_scene = load_plan(plan_path).scene("01-health-1")
    assert health_scene.affirmation.startswith("I fly. "), health_scene
    assert all(str(new) in p for p in health_scene.reference_photos), health_scene


def test_goals_edited_back_name_only_the_edits_the_plan_put_back_lacks(tmp_path: Path) -> None:
    """goals.yaml edited and then back: the plan these goals had comes back from kept/
    (with its own edits). The edits of the plan.yaml it replaces are named when it lacks
    them (career's affirmation, edited again after the first goals edit), not those it
    has (family's scene deleted, carried into the plan in between)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.plan import load_plan

    _replan_after_edits(tmp_path, _edit_three)
    plan_path = tmp_path / "run" / "plan.yaml"
    text = plan_path.read_text()
    plan_path.write_text(text.replace("I lead the best design", "I lead the finest design"))
    goals = tmp_path / "goals.yaml"
    goals.write_text(goals.read_text().replace("Run a full marathon", "Run a marathon"))
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "going back to the plan these goals had before" in said, said
    assert (
        "your edits not in the plan put back: 01-career-1 affirmation; they are in "
        "plan.previous.yaml" in said
    ), said
    back = load_plan(plan_path)
    assert back.scenes[0].affirmation == "I lead the best design team in town"


def test_a_title_edited_in_plan_yaml_stays_through_a_new_plan_until_goals_yaml_s_changes(
    tmp_path: Path,
) -> None:
    """A title edited in plan.yaml was reset by the next goals.yaml edit with no word.
    It is carried while goals.yaml's title is the same; a new title in goals.yaml is
    written into plan.yaml (goals.yaml's, no hand edit) and a later new plan keeps it
    without naming it as an edit of the person's."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.plan import load_plan

    def title(text: str) -> str:
        return text.replace("title: T\n", "title: My Big Year\n", 1)

    said, plan = _replan_after_edits(tmp_path, title)
    assert plan.title == "My Big Year"
    assert "did not change): title" in said, said
    goals = tmp_path / "goals.yaml"
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    for old, new in (("title: T", "title: New T"), ("full marathon", "marathon a year")):
        goals.write_text(goals.read_text().replace(old, new))
        r = CliRunner().invoke(app, argv)
        assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert "planning again" in said and "your edits" not in said, said
    assert load_plan(tmp_path / "run" / "plan.yaml").title == "New T"


#: goals.yaml texts a run goes through (a review's): two goals, one, the first changed
_TWO = (
    "title: T\ngoals:\n  - category: career\n    vision: I lead a design team\n"
    "  - category: health\n    vision: Run a marathon\n"
)
_ONE = "title: T\ngoals:\n  - category: career\n    vision: I lead a design team\n"
_BIG = _TWO.replace("I lead a design team", "I lead a big team")


@pytest.mark.parametrize("how", ["kill", "disk full"])
def test_a_new_plan_written_but_not_journaled_brings_no_old_scene_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """A new plan written to plan.yaml whose step was then not journaled (killed, the
    disk full) left `plan_before` naming the plan before it: the next new plan took the
    one-goal plan now on disk for hand edits of that one, carried "02-health-1 deleted",
    and a goal was gone from the movie. `plan_before` is read only while plan.yaml is
    still the file it was."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.store import Store

    goals = tmp_path / "goals.yaml"
    goals.write_text(_TWO)
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    assert CliRunner().invoke(app, argv).exit_code == 0
    goals.write_text(_ONE)
    succeed = Store.succeed

    def unjournaled(self: Store, scene_id: str, stage: str, *a: Any, **kw: Any) -> None:
        if stage == "plan":
            if how == "kill":
                raise KeyboardInterrupt
            raise sqlite3.OperationalError("database or disk is full")
        succeed(self, scene_id, stage, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(Store, "succeed", unjournaled)
        CliRunner().invoke(app, argv)
    goals.write_text(_BIG)
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    ids = [s.id for s in load_plan(tmp_path / "run" / "plan.yaml").scenes]
    assert ids == ["01-career-1", "02-health-1"], (ids, r.stderr)


def test_a_plan_put_back_but_not_journaled_lends_no_edits_to_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kept plan put back (goals.yaml edited back) and killed before its step was
    journaled: the next new plan took it for hand edits of the plan before, carried its
    "design team" affirmation and prompts into a plan of goals that say "big team" (paid
    inputs not what goals.yaml says)."""
    from typer.testing import CliRunner

    import mindmovie.store
    from mindmovie.cli import app

    goals = tmp_path / "goals.yaml"
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    for text in (_TWO, _BIG, _ONE):
        goals.write_text(text)
        assert CliRunner().invoke(app, argv).exit_code == 0
    goals.write_text(_TWO)

    def killed(name: str) -> None:
        if name == "restore":
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(mindmovie.store, "killpoint", killed)
        CliRunner().invoke(app, argv)
    goals.write_text(_BIG.replace("Run a marathon", "Run a full marathon"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    career = load_plan(tmp_path / "run" / "plan.yaml").scene("01-career-1")
    assert "design team" not in career.affirmation, (career, r.stderr)


def test_a_hand_edited_plan_put_back_with_a_new_title_still_names_its_edits(
    tmp_path: Path,
) -> None:
    """A plan from before the planner's record, hand edited, put back with goals.yaml's
    new title: its step's hash is the kept copy's (edits and all), which the title's
    rewrite took for the planner's own; the next new plan dropped the edits without a
    word."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = tmp_path / "goals.yaml"
    goals.write_text(_TWO)
    argv = ["plan", str(goals), "--out", str(tmp_path / "run")]
    assert CliRunner().invoke(app, argv).exit_code == 0
    con = sqlite3.connect(tmp_path / "run" / "run.db")
    with con:  # as a run.db from before the record has it
        con.execute("DELETE FROM meta WHERE key LIKE 'planned_plan:%'")
    con.close()
    plan_path = tmp_path / "run" / "plan.yaml"
    plan_path.write_text(
        plan_path.read_text().replace("affirmation: I lead a design team", "affirmation: I win")
    )
    goals.write_text(_BIG)
    assert CliRunner().invoke(app, argv).exit_code == 0
    goals.write_text(_TWO.replace("title: T", "title: My year"))
    assert CliRunner().invoke(app, argv).exit_code == 0
    assert "affirmation: I win" in plan_path.read_text()
    goals.write_text(_BIG.replace("title: T", "title: My year"))
    r = CliRunner().invoke(app, argv)
    said = " ".join(r.stderr.split())
    assert "changed since it was planned" in said or "not in the new plan" in said, said


@pytest.mark.parametrize("value", ["x", "[1]", '{"scenes": 1}', '{"scenes": [1], "title": 2}'])
def test_a_damaged_planner_record_is_read_as_none_when_goals_change(
    tmp_path: Path, value: str
) -> None:
    """The planner's record (`planned_plan:`) is read only when goals.yaml changes: a
    render of the same goals never reads it, so the damaged-meta tests that render again
    could not fail for it. Damaged, a new plan is made without a traceback."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals, argv = _planned_two_goals(tmp_path)
    con = sqlite3.connect(tmp_path / "run" / "run.db")
    with con:
        cur = con.execute("UPDATE meta SET value=? WHERE key LIKE 'planned_plan:%'", (value,))
    con.close()
    assert cur.rowcount == 1
    goals.write_text(goals.read_text().replace("Run a marathon", "Run a full marathon"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0 and r.exception is None, r.output
    assert "planning again" in r.stderr, r.stderr


def test_a_copied_project_named_in_no_utf8_carries_the_hand_edits_of_scenes_with_photos(
    tmp_path: Path,
) -> None:
    """As above, the folders named in no UTF-8 (their paths hold surrogates): the record,
    ASCII JSON, was read with pydantic's JSON parser, which refuses them; left as it was,
    every scene with a photo read as changed and its edits were dropped. In-process (the
    CLI's console under CliRunner keeps what it could not print)."""
    import asyncio
    import os
    import shutil

    from mindmovie.config import load_settings
    from mindmovie.pipeline import Pipeline
    from mindmovie.progress import NullReporter

    class Warnings(NullReporter):
        def __init__(self) -> None:
            self.said: list[str] = []

        def warn(self, text: str) -> None:
            self.said.append(text)

    def plan(goals: Path, out: Path) -> list[str]:
        rep = Warnings()
        pipeline = Pipeline(goals, load_settings(env={}), out=out, reporter=rep)
        asyncio.run(pipeline.run(until="plan"))
        return rep.said

    old = tmp_path / os.fsdecode(b"old\xfe")
    _project_with_photos(old)
    plan(old / "goals.yaml", old / "run")
    new = tmp_path / os.fsdecode(b"new\xff")
    shutil.copytree(old, new)
    goals, plan_path = new / "goals.yaml", new / "run" / "plan.yaml"
    text = plan_path.read_text(errors="surrogateescape")
    head, health = text.split("- id: 01-health-1", 1)
    edited = health.replace("affirmation: ", "affirmation: I fly. ", 1)
    plan_path.write_text(head + "- id: 01-health-1" + edited, errors="surrogateescape")
    goals.write_text(goals.read_text().replace("I lead a design team", "I lead a studio"))
    said = " ".join(plan(goals, new / "run"))
    assert "not in the new plan" not in said, said
    assert "carried into the new plan" in said and "01-health-1 affirmation" in said, said
    assert load_plan(plan_path).scene("01-health-1").affirmation.startswith("I fly. ")


def test_a_scene_longer_than_any_clip_the_video_model_makes_is_said(tmp_path: Path) -> None:
    """plan.yaml's `seconds: 60` (allowed there: up to 60) with Seedance, whose clips are
    at most 12 s: the clip was made 12 s long and the movie held its last frame still for
    the other 48 s, with no word (the estimate's seconds column said 12). `plan` and
    `render` say so before any keyframe or clip is paid for; nothing is sent here (the
    local planner, stopped after the plan)."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = tmp_path / "goals.yaml"
    goals.write_text(
        "title: T\ngoals:\n  - category: health\n    vision: Run a marathon\n"
        "  - category: wealth\n    vision: Be free\n"
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: byteplus\nplanner:\n  provider: local\n")
    argv = ["plan", str(goals), "--config", str(cfg), "--out", str(tmp_path / "run")]
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    assert "longer than" not in r.stderr, r.stderr  # the planner makes clip lengths
    plan_path = tmp_path / "run" / "plan.yaml"
    plan_path.write_text(plan_path.read_text().replace("seconds: 5.0", "seconds: 60", 1))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    told = (
        "01-health-1 (60 s) is longer than any clip seedance-1-5-pro makes (at most 12 s): "
        "its clip is 12 s long and the movie holds its last frame still for the rest"
    )
    assert told in said, said
    assert "02-wealth-1" not in said, said
    # estimate too: its seconds column said 12 and nothing why (the scale audit)
    est = ["estimate", str(goals), "--config", str(cfg), "--out", str(tmp_path / "run")]
    r = CliRunner().invoke(app, est)
    assert r.exit_code == 0, r.output
    assert told in " ".join(r.stderr.split()), r.stderr


def test_another_goals_file_planned_in_the_folder_is_not_said_to_have_changed(
    tmp_path: Path,
) -> None:
    """Two goals files whose titles slug alike share outputs/<title>/ (the text audit):
    the second one's plan was said "b.yaml changed since the last plan", of a file never
    planned there. It says the folder's last goals.yaml was another, naming it."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    for name, vision in (("a.yaml", "Run a marathon"), ("b.yaml", "Swim a mile")):
        (tmp_path / name).write_text(
            f"title: Joy\ngoals:\n  - category: health\n    vision: {vision}\n"
        )
    run = str(tmp_path / "run")
    assert CliRunner().invoke(app, ["plan", str(tmp_path / "a.yaml"), "--out", run]).exit_code == 0
    r = CliRunner().invoke(app, ["plan", str(tmp_path / "b.yaml"), "--out", run])
    said = " ".join(r.stderr.split())
    assert r.exit_code == 0 and "b.yaml is not the goals.yaml last planned here (" in said, said
    assert "a.yaml)" in said and "changed since the last plan" not in said, said


def test_a_hand_edited_title_replaced_by_goals_yaml_s_new_one_is_kept_and_said(
    tmp_path: Path,
) -> None:
    """plan.yaml's title edited by hand, then goals.yaml's title changed: the new title
    was written over the person's with only "plan.yaml takes goals.yaml's new title",
    their own title lost. It is said, with where the plan.yaml before is kept; a title
    the planner made, replaced the same way, is no edit and is not said."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals, argv = _planned_two_goals(tmp_path)
    plan = tmp_path / "run" / "plan.yaml"
    goals.write_text(goals.read_text().replace("title: T", "title: My year"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    assert "your edited" not in r.stderr, r.stderr  # the planner's title: no edit
    plan.write_text(plan.read_text().replace("title: My year", "title: My own words"))
    goals.write_text(goals.read_text().replace("title: My year", "title: My good year"))
    r = CliRunner().invoke(app, argv)
    assert r.exit_code == 0, r.output
    said = " ".join(r.stderr.split())
    assert 'your edited title "My own words" replaced by goals.yaml\'s new title' in said, said
    assert "plan.previous.yaml" in said, said
    assert "title: My own words" in plan.with_name("plan.previous.yaml").read_text()
    assert "title: My good year" in plan.read_text()


def test_a_planner_answer_past_the_lengths_is_a_scene_problem() -> None:
    """The planner's scenes are held to plan.yaml's lengths (a text it took that plan.yaml
    refuses would fail the next render): an affirmation past MAX_TEXT, a prompt past
    MAX_PROMPT, each a problem of its scene (a repair is asked)."""
    from mindmovie.providers.anthropic import check_scenes

    ok = {"goal": 1, "affirmation": "I am", "image_prompt": "p", "motion_prompt": "m", "seconds": 4}
    long_say = {**ok, "affirmation": "a" * (MAX_TEXT + 1)}
    long_prompt = {**ok, "image_prompt": "p" * (MAX_PROMPT + 1)}
    _, problems, _ = check_scenes({"scenes": [ok, long_say, long_prompt]}, [3])
    found = [(p.index, p.field) for p in problems]
    assert found[:2] == [(2, "affirmation"), (3, "image_prompt")], found  # (then: too few)


def test_a_planner_closing_past_the_length_is_the_default_closing() -> None:
    """Claude's closing past plan.yaml's length made the plan a ValidationError traceback
    after the paid answer, at every render (each bought it again): like a closing that
    is no text, it is not worth a repair, and the default closing is shown."""
    from mindmovie.providers.anthropic import _their_closing

    assert _their_closing({"closing": "a" * MAX_TEXT}) == "a" * MAX_TEXT
    assert _their_closing({"closing": "a" * (MAX_TEXT + 1)}) is None
