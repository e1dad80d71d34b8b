"""Emoji no font here can draw are left out of the movie's text, and `plan` says so,
naming the item, before anything is paid for: the movie showed them as boxes, and the
warning came only at compose, after the keyframes and clips were bought."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from mindmovie.config import load_settings
from mindmovie.pipeline import Pipeline
from mindmovie.plan import load_plan, write_plan
from mindmovie.progress import NullReporter
from tests.conftest import clear_text_caches


class _Warnings(NullReporter):
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        self.warnings.append(text)


def test_plan_warns_which_emoji_are_left_out_of_which_item(
    tmp_path: Path, no_emoji_font: None
) -> None:
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "examples", tmp_path / "ex")
    goals = tmp_path / "ex" / "goals.yaml"
    goals.write_text(
        goals.read_text().replace("title: My Year of Becoming", "title: My Best Year ✨")
    )
    overrides: dict[str, object] = {
        "output_dir": str(tmp_path / "outputs"),
        "output": {"size": "160x90", "fps": 8},
        "plan": {"scene_seconds": 2},
    }
    settings = load_settings(overrides=overrides, env={})
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
    plan = load_plan(run / "plan.yaml")
    first = plan.scenes[0]
    scenes = [first.model_copy(update={"affirmation": "🙏"}), *plan.scenes[1:]]
    write_plan(
        plan.model_copy(update={"scenes": scenes, "closing": "Thank you 💛"}), run / "plan.yaml"
    )
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run(until="plan"))
    told = [w for w in rep.warnings if "left out" in w]
    assert told == [
        "title: no font on this machine can draw '✨': left out of the movie's text, which "
        "shows 'My Best Year' (install a font that has them to show them, or remove them)",
        f"{first.id}: no font on this machine can draw '🙏': left out of the movie, so it "
        "shows no text (install a font that has them to show them, or remove them)",
        "closing: no font on this machine can draw '💛': left out of the movie's text, which "
        "shows 'Thank you' (install a font that has them to show them, or remove them)",
    ], rep.warnings


def test_plan_warns_which_letters_no_font_has_before_anything_is_paid_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Letters no font here has (Chinese on a machine without a CJK font) stay in the text
    and are drawn as boxes: `plan` says so per item, as it does for emoji it leaves out,
    before any keyframe or clip is paid for; the warning came only at compose, after."""
    from mindmovie.compose import cards

    real = cards._has_glyph
    monkeypatch.setattr(
        cards, "_has_glyph", lambda face, ch: ch not in "我很健康" and real(face, ch)
    )
    clear_text_caches()
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "examples", tmp_path / "ex")
    goals = tmp_path / "ex" / "goals.yaml"
    goals.write_text(
        goals.read_text().replace("I am strong, healthy and full of energy", "我很健康")
    )
    settings = load_settings(
        overrides={"output": {"size": "160x90", "fps": 8}, "plan": {"scene_seconds": 2}},
        env={},
    )
    rep = _Warnings()
    try:
        asyncio.run(Pipeline(goals, settings, out=tmp_path / "run", reporter=rep).run(until="plan"))
    finally:
        clear_text_caches()
    told = [w for w in rep.warnings if "no font" in w]
    assert told == [
        "01-health-1: no font on this machine has '我很健康': shown as boxes in the movie "
        "(install a font that has them, then render again)"
    ], rep.warnings


def test_a_long_text_s_letters_no_font_has_are_said_in_a_short_line() -> None:
    """A 1,990-letter Chinese affirmation on a machine without a CJK font was warned of in
    one line of 5,840 characters, each letter listed (the text audit): the first ones,
    then how many more."""
    from mindmovie.pipeline import LETTERS_SAID, _letters

    chars = "".join(chr(0x4E00 + i) for i in range(1990))
    said = _letters(chars)
    assert len(said) < 100 and said.endswith(f"and {1990 - LETTERS_SAID} other letters"), said
    assert _letters("我很健康") == "'我很健康'"


def test_many_items_missing_the_same_characters_are_one_warning_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_emoji_font: None
) -> None:
    """The same emoji or letters missing in many items were a warning line per item and
    kind, on every render: 74 lines for 36 scenes each ending in '🙏✨ 日本' on a machine
    without those fonts. Items missing the same characters are one line, naming a few
    and how many more; a render says each once, at plan and compose alike."""
    from mindmovie.compose import cards

    real = cards._has_glyph
    monkeypatch.setattr(cards, "_has_glyph", lambda face, ch: ch not in "日本" and real(face, ch))
    clear_text_caches()
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "examples", tmp_path / "ex")
    goals = tmp_path / "ex" / "goals.yaml"
    overrides: dict[str, object] = {
        "output": {"size": "160x90", "fps": 8},
        "plan": {"scene_seconds": 2},
        "compose": {"quality": "draft"},
    }
    settings = load_settings(overrides=overrides, env={})
    run = tmp_path / "run"
    try:
        asyncio.run(Pipeline(goals, settings, out=run).run(until="plan"))
        plan = load_plan(run / "plan.yaml")
        scenes = [
            s.model_copy(update={"affirmation": f"{s.affirmation} 🙏 日本"}) for s in plan.scenes
        ]
        write_plan(plan.model_copy(update={"scenes": scenes}), run / "plan.yaml")
        rep = _Warnings()
        asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run())
    finally:
        clear_text_caches()
    assert (run / "movie.mp4").is_file()  # composed: its own check said nothing more
    told = [w for w in rep.warnings if "no font" in w]
    ids = [s.id for s in scenes]
    assert len(ids) > 4
    named = f"{', '.join(ids[:3])} and {len(ids) - 3} more"
    assert told == [
        f"{named}: no font on this machine has '日本': shown as boxes in the movie "
        "(install a font that has them, then render again)",
        f"{named}: no font on this machine can draw '🙏': left out of their texts "
        "(install a font that has them to show them, or remove them)",
    ], rep.warnings


def test_plan_says_a_text_too_long_for_the_frame_is_cut_before_anything_is_paid_for(
    tmp_path: Path,
) -> None:
    """A 600-letter affirmation in goals.yaml is kept as written, and at 480x480 it is cut
    short with an ellipsis even at the smallest size: the render said so only at
    compose, after every keyframe and clip was paid for. `plan` says it, naming the scene."""
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "examples", tmp_path / "ex")
    goals = tmp_path / "ex" / "goals.yaml"
    long = ("I am calm, strong and grateful for every single day " * 12)[:600].strip()
    goals.write_text(goals.read_text().replace("I am strong, healthy and full of energy", long))
    settings = load_settings(
        overrides={"output": {"size": "480x480", "fps": 8}, "plan": {"scene_seconds": 2}},
        env={},
    )
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=tmp_path / "run", reporter=rep).run(until="plan"))
    assert load_plan(tmp_path / "run" / "plan.yaml").scenes[0].affirmation == long
    told = [w for w in rep.warnings if "too long" in w]
    assert told == [
        "01-health-1: its text is too long for a 480x480 frame: shown cut short, ending in "
        "'…' (shorten it in plan.yaml)"
    ], rep.warnings


@pytest.mark.parametrize("scene_id", ["title", "closing"])
def test_a_scene_named_as_the_title_or_the_closing_does_not_stop_the_plan(
    tmp_path: Path, scene_id: str
) -> None:
    """A scene id may be any lower-case name, "closing" (a last scene added by hand in
    plan.yaml) as well: the plan's text warnings keyed each text by its name, the scene
    and the closing shared one, and the check of the texts' fit paired the names left
    with the texts' kinds strictly: a ValueError traceback from every render (and
    `plan`) once plan.yaml was edited so. Each text is checked, the scene's too."""
    repo = Path(__file__).resolve().parents[2]
    shutil.copytree(repo / "examples", tmp_path / "ex")
    goals = tmp_path / "ex" / "goals.yaml"
    settings = load_settings(
        overrides={"output": {"size": "480x480", "fps": 8}, "plan": {"scene_seconds": 2}},
        env={},
    )
    run = tmp_path / "run"
    asyncio.run(Pipeline(goals, settings, out=run, reporter=NullReporter()).run(until="plan"))
    plan = load_plan(run / "plan.yaml")
    long = ("I am calm, strong and grateful for every single day " * 12)[:600].strip()
    first = plan.scenes[0].model_copy(update={"id": scene_id, "affirmation": long})
    write_plan(plan.model_copy(update={"scenes": [first, *plan.scenes[1:]]}), run / "plan.yaml")
    rep = _Warnings()
    asyncio.run(Pipeline(goals, settings, out=run, reporter=rep).run(until="plan"))
    told = [w for w in rep.warnings if "too long" in w]
    assert told == [
        f"{scene_id}: its text is too long for a 480x480 frame: shown cut short, ending in "
        "'…' (shorten it in plan.yaml)"
    ], rep.warnings


def test_a_scene_named_title_or_closing_is_warned_about_with_its_own_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_emoji_font: None
) -> None:
    """The plan's text warnings looked each item's drawn text up by its name, and a
    scene named "title" or "closing" shares its name with that card: the title's line
    quoted the scene's text, and the scene's letters drawn as boxes were never said,
    its text replaced by the closing card's. Each item is now told with its own text
    (in-process, on a plan made here: no render)."""
    from mindmovie.compose import cards
    from mindmovie.plan import Plan, Scene
    from tests.integration.support import goals_file

    real = cards._has_glyph
    monkeypatch.setattr(cards, "_has_glyph", lambda face, ch: ch not in "日本" and real(face, ch))
    clear_text_caches()

    def scene(scene_id: str, affirmation: str) -> Scene:
        return Scene(id=scene_id, goal=1, category="health", affirmation=affirmation,
                     image_prompt="a beach", motion_prompt="slow pan", seconds=2)  # fmt: skip

    plan = Plan(
        title="My Year ✨",
        closing="Thank you",
        scenes=[scene("title", "I am calm 🙏"), scene("closing", "I am free 日本")],
    )
    settings = load_settings(overrides={"output": {"size": "480x270"}}, env={})
    rep = _Warnings()
    pipeline = Pipeline(goals_file(tmp_path), settings, out=tmp_path / "run", reporter=rep)
    try:
        pipeline._warn_left_out(plan)
    finally:
        clear_text_caches()
    fix = "(install a font that has them to show them, or remove them)"
    assert rep.warnings == [
        "closing: no font on this machine has '日本': shown as boxes in the movie "
        "(install a font that has them, then render again)",
        f"title: no font on this machine can draw '✨': left out of the movie's text, which "
        f"shows 'My Year' {fix}",
        f"title: no font on this machine can draw '🙏': left out of the movie's text, which "
        f"shows 'I am calm' {fix}",
    ], rep.warnings


def _armenian_font_without_km(
    monkeypatch: pytest.MonkeyPatch, font_folder: Callable[[str], str]
) -> str:
    """An "Armenian" font (a copy of DejaVu Sans, told so) that lacks "k" and "m", as
    fonts-noto-core's per-script fonts lack Latin letters: its path."""
    from mindmovie.compose import cards

    armenian = font_folder("NotoSansArmenian-Regular.ttf")
    real = cards._has_glyph
    monkeypatch.setattr(
        cards,
        "_has_glyph",
        lambda face, ch: real(face, ch) and (face != armenian or ch not in "km"),
    )
    return armenian


def test_letters_another_font_has_are_not_said_to_be_in_no_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, font_folder: Callable[[str], str]
) -> None:
    """A text is drawn in one font: a Hindi affirmation with "10 km" drawn with
    fonts-noto-core's Devanagari font (no Latin letters) has "km" as boxes, which the
    render said as "no font on this machine has 'km'", of letters even Pillow's own font
    draws. Here an Armenian font without "k" and "m" (a copy of DejaVu Sans, told so)."""
    from mindmovie.compose import cards

    armenian = _armenian_font_without_km(monkeypatch, font_folder)
    clear_text_caches()
    repo = Path(__file__).resolve().parents[2]
    rep = _Warnings()
    pipeline = Pipeline(repo / "examples" / "goals.yaml", load_settings(env={}), reporter=rep)
    pipeline._warn_boxes([("01-run-1", "Ես վազում եմ 10 km"), ("02-calm-1", "Ես հանգիստ եմ")])
    assert rep.warnings == [
        "01-run-1: 'km' shown as boxes in the movie: a text is drawn in one font, and the one "
        "with its other letters (NotoSansArmenian-Regular.ttf) lacks these (install a font "
        "that has all of them, e.g. GNU FreeFont's FreeSerif, or leave them out, then render "
        "again)"
    ]
    assert cards.face_for("Ես վազում եմ 10 km") == armenian


def test_boxes_in_pillow_s_own_font_name_it_not_an_empty_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, font_folder: Callable[[str], str]
) -> None:
    """A text drawn in Pillow's built-in font, whose letters of another script only a
    font without Latin letters has ("I feel at home in Երևան", fonts-noto-core's Armenian
    font), was said as "the one with its other letters () lacks these": an empty name."""
    import string

    from mindmovie.compose import cards

    armenian = font_folder("NotoSansArmenian-Regular.ttf")
    real = cards._has_glyph
    monkeypatch.setattr(
        cards,
        "_has_glyph",
        lambda face, ch: real(face, ch) and (face != armenian or ch not in string.ascii_letters),
    )
    clear_text_caches()
    text = "I feel at home in Երևան"
    repo = Path(__file__).resolve().parents[2]
    rep = _Warnings()
    pipeline = Pipeline(repo / "examples" / "goals.yaml", load_settings(env={}), reporter=rep)
    pipeline._warn_boxes([("01-home-1", text)])
    assert cards.face_for(text) == ""
    assert rep.warnings == [
        "01-home-1: 'Երևան' shown as boxes in the movie: a text is drawn in one font, and "
        "the one with its other letters is Pillow's built-in font, which lacks these "
        "(install a font that has all of them, e.g. GNU FreeFont's FreeSerif, or leave them "
        "out, then render again)"
    ]


def test_letters_no_font_has_cost_a_search_per_font_not_per_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, font_folder: Callable[[str], str]
) -> None:
    """Which of a text's boxes some other font draws was asked letter by letter, each
    a search of up to 400 font files: seconds for a Chinese goal on a machine with many
    fonts and no CJK one. Now a search per font that helps and one that finds none; the
    warnings are the same: 'km' in the text's font, the CJK letters in no font."""
    from mindmovie import fonts

    _armenian_font_without_km(monkeypatch, font_folder)
    searches: list[str] = []
    candidates = fonts._candidates
    monkeypatch.setattr(fonts, "_candidates", lambda s: searches.append(s) or candidates(s))
    clear_text_caches()
    repo = Path(__file__).resolve().parents[2]
    rep = _Warnings()
    pipeline = Pipeline(repo / "examples" / "goals.yaml", load_settings(env={}), reporter=rep)
    cjk = "我每天都很健康快乐平安"
    pipeline._warn_boxes([("01-run-1", f"Ես վազում եմ 10 km {cjk}")])
    assert len(searches) <= 3, searches
    assert rep.warnings == [
        f"01-run-1: no font on this machine has {cjk!r}: shown as boxes in the movie "
        "(install a font that has them, then render again)",
        "01-run-1: 'km' shown as boxes in the movie: a text is drawn in one font, and the one "
        "with its other letters (NotoSansArmenian-Regular.ttf) lacks these (install a font "
        "that has all of them, e.g. GNU FreeFont's FreeSerif, or leave them out, then render "
        "again)",
    ]
