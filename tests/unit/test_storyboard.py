"""Storyboard: the contact sheet has one tile per scene in scene order (keyframe or grey
placeholder), and the HTML page is self-contained, escaped, and links only existing clips."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from mindmovie.plan import Plan, Scene, write_plan
from mindmovie.storyboard import (
    ACCENT,
    BACKGROUND,
    CARD,
    PLACEHOLDER,
    _pill,
    format_cost,
    format_total,
    sheet_size,
    storyboard_from_run,
    thumb_size,
    tile_boxes,
    write_storyboard,
)

#: Keyframe colours of scenes 1-5; scene 4 has no keyframe (placeholder).
COLOURS: list[tuple[int, int, int] | None] = [
    (220, 40, 40),
    (40, 200, 60),
    (40, 80, 220),
    None,
    (230, 200, 30),
]
CLIPS = {1, 3}  # scenes (1-based) that have a clip
COSTS = {"01-health-1": 0.42, "02-wealth-1": 0.0, "03-career-1": 1.2}


def _plan() -> Plan:
    cats = ["health", "wealth", "career", "relationships", "my <own> & more"]
    scenes = [
        Scene(
            id=f"0{i}-{'own' if i == 5 else cat}-1",
            goal=i,
            category=cat,
            affirmation=f'I am <b>whole</b> & "free" {i}' if i != 2 else "I earn with ease",
            image_prompt=f"A sunlit trail <scene {i}>",
            motion_prompt=f"slow push-in & drift {i}",
            seconds=5 + i,
        )
        for i, cat in enumerate(cats, 1)
    ]
    return Plan(title="My <Dream> Life", closing="Thank you & more", scenes=scenes)


def _one_scene_sheet(affirmation: str) -> Image.Image:
    """storyboard.png of `_plan`'s first scene alone, showing `affirmation`."""
    from mindmovie.storyboard import render_sheet

    plan = _plan()
    scenes = [plan.scenes[0].model_copy(update={"affirmation": affirmation})]
    return render_sheet(plan.model_copy(update={"scenes": scenes}))


def _make_run(run: Path) -> Plan:
    """A run directory as the pipeline leaves it: plan.yaml, 4 keyframes, 2 clips, and a
    run.db (with no storyboard records: as drawn before they were kept)."""
    from mindmovie.store import Store

    plan = _plan()
    write_plan(plan, run / "plan.yaml")
    Store(run / "run.db").close()
    for i, (scene, colour) in enumerate(zip(plan.scenes, COLOURS, strict=True), 1):
        folder = run / "scenes" / scene.id
        folder.mkdir(parents=True)
        if colour is not None:
            Image.new("RGB", (640, 360), colour).save(folder / "keyframe.png")
        if i in CLIPS:
            (folder / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    return plan


def _artifacts(run: Path, plan: Plan) -> tuple[dict[str, Path], dict[str, Path]]:
    kf = {s.id: run / "scenes" / s.id / "keyframe.png" for s in plan.scenes}
    clips = {s.id: run / "scenes" / s.id / "clip.mp4" for s in plan.scenes}
    return (
        {k: p for k, p in kf.items() if p.exists()},
        {k: p for k, p in clips.items() if p.exists()},
    )


@pytest.fixture
def board(tmp_path: Path) -> tuple[Path, Plan, Path, Path]:
    run = tmp_path / "run"
    plan = _make_run(run)
    keyframes, clips = _artifacts(run, plan)
    png, html = write_storyboard(run, plan, costs=COSTS, clips=clips, keyframes=keyframes)
    return run, plan, png, html


def _close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 3) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_paths_and_no_temp_files(board: tuple[Path, Plan, Path, Path]) -> None:
    run, _, png, html = board
    assert png == run / "storyboard.png" and html == run / "storyboard.html"
    assert png.is_file() and html.is_file()
    assert not [p for p in run.iterdir() if ".tmp" in p.name]


def test_png_has_one_tile_per_scene_in_order(board: tuple[Path, Plan, Path, Path]) -> None:
    _run, plan, png, _html = board
    thumb = thumb_size(640 / 360)
    boxes = tile_boxes(len(plan.scenes), thumb)
    with Image.open(png) as im:
        sheet = im.convert("RGB")
    assert sheet.size == sheet_size(len(plan.scenes), thumb)
    for box, colour in zip(boxes, COLOURS, strict=True):
        x0, y0, x1, y1 = box.image
        # sample a 5x5 grid inside the picture, clear of the rounded corners and the label
        points = [
            (x0 + 16 + (x1 - x0 - 32) * i // 4, y0 + 16 + (y1 - y0 - 32) * j // 4)
            for i in range(5)
            for j in range(5)
        ]
        if colour is None:  # placeholder: soft grey, and greyish everywhere off the label
            px = sheet.getpixel((x0 + 16, y0 + 16))
            assert isinstance(px, tuple)
            assert px == PLACEHOLDER
            assert max(px) - min(px) <= 12 and 60 <= px[0] <= 220
        else:
            for p in points:
                px = sheet.getpixel(p)
                assert isinstance(px, tuple)
                assert _close(px, colour), (box, p, px, colour)
        # the card continues under the picture (text area), unlike the background
        _cx0, _cy0, cx1, cy1 = box.card
        under = sheet.getpixel((cx1 - 6, cy1 - 40))
        assert under != BACKGROUND
    # the slot after the last tile (row 2, column 3) is empty background
    last = boxes[-1].card
    empty = (last[2] + 24 + 100, last[1] + 100)
    assert sheet.getpixel(empty) == BACKGROUND


def test_png_keyframe_colours_only_in_their_tiles(board: tuple[Path, Plan, Path, Path]) -> None:
    """No tile shows another scene's keyframe (order, not just presence)."""
    _run, plan, png, _html = board
    boxes = tile_boxes(len(plan.scenes), thumb_size(640 / 360))
    with Image.open(png) as im:
        sheet = im.convert("RGB")
    for k, box in enumerate(boxes):
        tile = sheet.crop(box.image)
        colours = {c for _n, c in tile.getcolors(maxcolors=1 << 20) or []}
        for j, colour in enumerate(COLOURS):
            if colour is not None and j != k:
                assert colour not in colours, (k, j)


def test_html_is_self_contained_and_escaped(board: tuple[Path, Plan, Path, Path]) -> None:
    _run, plan, _png, html_path = board
    page = html_path.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    for scene in plan.scenes:
        assert scene.id in page
        escaped = scene.affirmation.replace("&", "&amp;").replace("<", "&lt;")
        escaped = escaped.replace(">", "&gt;").replace('"', "&quot;")
        assert escaped in page
        assert (
            scene.image_prompt.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            in page
        )
        assert scene.motion_prompt.replace("&", "&amp;") in page
    assert "<b>whole</b>" not in page and "My <Dream>" not in page
    assert "My &lt;Dream&gt; Life" in page
    assert "my &lt;own&gt; &amp; more" in page
    # no external resources, no scripts
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_html_inlines_the_four_keyframes_in_order(board: tuple[Path, Plan, Path, Path]) -> None:
    _run, _, _png, html_path = board
    page = html_path.read_text(encoding="utf-8")
    uris = re.findall(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", page)
    assert len(uris) == 4
    shown = []
    for uri in uris:
        with Image.open(io.BytesIO(base64.b64decode(uri))) as im:
            px = im.convert("RGB").getpixel((im.width // 2, im.height // 2))
            shown.append(px)
    want = [c for c in COLOURS if c is not None]
    assert len(shown) == len(want)
    for got, c in zip(shown, want, strict=True):  # JPEG: within a few levels
        assert max(abs(a - b) for a, b in zip(got, c, strict=True)) <= 4, (got, c)
    assert page.count("no keyframe yet") == 1


def test_html_links_existing_clips_only(board: tuple[Path, Plan, Path, Path]) -> None:
    _run, plan, _png, html_path = board
    page = html_path.read_text(encoding="utf-8")
    srcs = re.findall(r'<video[^>]*\ssrc="([^"]+)"', page)
    expected = [f"scenes/{plan.scenes[i - 1].id}/clip.mp4" for i in sorted(CLIPS)]
    assert srcs == expected
    assert "controls" in page
    for i, scene in enumerate(plan.scenes, 1):
        if i not in CLIPS:
            assert f"scenes/{scene.id}/clip.mp4" not in page
    assert ".mp4" not in page.replace("clip.mp4", "")  # nothing else looks like a clip
    assert "base64" not in "".join(srcs)  # clips are linked, never inlined


def test_html_costs_and_totals(board: tuple[Path, Plan, Path, Path]) -> None:
    _run, _, _png, html_path = board
    page = html_path.read_text(encoding="utf-8")
    assert "$0.42" in page and "$1.20" in page and "free" in page
    assert page.count('<span class="cost">—</span>') == 2  # scenes 4 and 5: unknown
    # the scenes' seconds, said as theirs: "40 s" read as the movie's length, which the
    # crossfades shorten and the title and closing cards lengthen
    assert "5 scenes · 40 s of scenes · estimated <b>≥ $1.62</b>" in page


def test_cost_formatting() -> None:
    assert format_cost(0.42) == "$0.42"
    assert format_cost(0) == "free"
    assert format_cost(None) == "—"
    assert format_cost(0.004) == "<$0.01"
    assert format_cost(1234.5) == "$1,234.50"
    assert format_total([0.5, 0.25]) == "$0.75"
    assert format_total([0.0, 0.0]) == "free"
    assert format_total([None, None]) == "—"
    assert format_total([0.5, None]) == "≥ $0.50"
    # a cost that is not a number (nan, inf) is unknown, never "$nan"
    assert format_cost(float("nan")) == "—" and format_cost(float("inf")) == "—"
    assert format_total([0.5, float("nan")]) == "≥ $0.50"
    from mindmovie.storyboard import _totals_prefix, plan_suffix

    assert plan_suffix(0.02) == " (+ plan $0.02)"
    assert plan_suffix(None) == plan_suffix(0.0) == plan_suffix(float("nan")) == ""
    one = _plan().model_copy(update={"scenes": _plan().scenes[:1]})
    assert _totals_prefix(one) == "1 scene · 6 s of scenes · estimated "
    assert _totals_prefix(_plan()) == "5 scenes · 40 s of scenes · estimated "


def test_from_run_finds_artifacts_on_disk(tmp_path: Path) -> None:
    run = tmp_path / "run"
    plan = _make_run(run)
    png, html_path = storyboard_from_run(run)
    page = html_path.read_text(encoding="utf-8")
    assert len(re.findall(r"data:image/jpeg;base64,", page)) == 4
    assert re.findall(r'<video[^>]*\ssrc="([^"]+)"', page) == [
        f"scenes/{plan.scenes[0].id}/clip.mp4",
        f"scenes/{plan.scenes[2].id}/clip.mp4",
    ]
    assert page.count('<span class="cost">—</span>') == 5  # no costs given
    with Image.open(png) as im:
        sheet = im.convert("RGB")
    box = tile_boxes(5, thumb_size(640 / 360))[0].image
    assert sheet.getpixel(((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)) == COLOURS[0]


def test_work_a_render_with_other_settings_makes_again_is_not_said_to_be_edited(
    tmp_path: Path,
) -> None:
    """`storyboard --preset google` (or --aspect, --config...) marks the keyframes and
    clips such a render makes again; they were labelled "made before an edit" (the page
    and the sheet), though nothing was edited: they are "out of date"."""
    run = tmp_path / "run"
    _make_run(run)
    _png, html_path = storyboard_from_run(run, current_keyframes={}, current_clips={})
    page = html_path.read_text(encoding="utf-8")
    assert "made before an edit" not in page
    assert page.count("keyframe out of date; the next render makes it again") == 4, page
    assert page.count("clip out of date; the next render makes it again") == 2, page


def test_a_run_whose_run_db_is_gone_shows_its_work_as_made_again(tmp_path: Path) -> None:
    """run.db deleted (or moved away when damaged): the next render moves the keyframes
    and clips aside and makes them again, as `status` says, but `storyboard` drew every
    keyframe as current and played every clip. They are marked out of date now."""
    run = tmp_path / "run"
    _make_run(run)
    (run / "run.db").unlink()
    png, html_path = storyboard_from_run(run)
    page = html_path.read_text(encoding="utf-8")
    assert "<video" not in page
    assert page.count("keyframe out of date; the next render makes it again") == 4, page
    assert page.count("clip out of date; the next render makes it again") == 2, page
    assert png.is_file()


def test_a_failed_keyframe_or_clip_says_it_failed_and_why(tmp_path: Path) -> None:
    """A clip the content filter refused (twice: the scene failed) was "no clip yet" on
    the board, and a keyframe that failed "no keyframe yet", as if the next render would
    simply make them: the page says the step failed, with its error (escaped), and the
    sheet's placeholder says "keyframe failed"."""
    from mindmovie.store import Store

    run = tmp_path / "run"
    plan = _make_run(run)
    boxes = tile_boxes(5, thumb_size(640 / 360))
    png, _html = storyboard_from_run(run)
    with Image.open(png) as im:
        before = im.convert("RGB").crop(boxes[3].image).tobytes()
    store = Store(run / "run.db")
    store.begin(plan.scenes[1].id, "clip", "k1")
    store.fail(plan.scenes[1].id, "clip", "content_rejected", "refused <by> the filter")
    store.begin(plan.scenes[3].id, "keyframe", "k2")
    store.fail(plan.scenes[3].id, "keyframe", "provider", "HTTP 500 & more")
    store.close()
    png, html_path = storyboard_from_run(run)
    page = html_path.read_text(encoding="utf-8")
    assert "clip failed: refused &lt;by&gt; the filter" in page, page
    assert "keyframe failed: HTTP 500 &amp; more" in page, page
    assert '<div class="thumb missing"><span>keyframe failed</span></div>' in page
    assert page.count("no clip yet") == 1  # scene 5's; scene 4's keyframe failed
    with Image.open(png) as im:
        after = im.convert("RGB").crop(boxes[3].image).tobytes()
    assert after != before
    # stopped by Ctrl-C or the budget: "keyframe failed: stopped by Ctrl-C" read as a
    # refusal, where status says stopped (and the next render makes it)
    store = Store(run / "run.db")
    store.begin(plan.scenes[4].id, "keyframe", "k3")  # (no clip)
    store.fail(plan.scenes[4].id, "keyframe", "interrupted", "stopped by Ctrl-C")
    store.begin(plan.scenes[1].id, "clip", "k4")  # (a keyframe, no clip)
    store.fail(plan.scenes[1].id, "clip", "budget", "the budget $1.00 is reached")
    store.close()
    png, html_path = storyboard_from_run(run)
    page = html_path.read_text(encoding="utf-8")
    assert "keyframe stopped by Ctrl-C" in page and "failed: stopped" not in page, page
    assert "clip stopped: the budget $1.00 is reached" in page, page
    from mindmovie.storyboard import _missing_text  # (the sheet's placeholder of one)

    assert _missing_text(None, "keyframe stopped by Ctrl-C") == "keyframe stopped"


def test_unreadable_keyframe_is_a_placeholder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    plan = _make_run(run)
    broken = run / "scenes" / plan.scenes[0].id / "keyframe.png"
    broken.write_bytes(b"not a png")
    png, html_path = storyboard_from_run(run)
    page = html_path.read_text(encoding="utf-8")
    assert len(re.findall(r"data:image/jpeg;base64,", page)) == 3
    # a file that is no picture is not "no keyframe yet" (scene 4 has none at all)
    assert page.count("no keyframe yet") == 1 and page.count("keyframe unreadable") == 1
    assert page.index("keyframe unreadable") < page.index("no keyframe yet")
    with Image.open(png) as im:
        sheet = im.convert("RGB")
    boxes = tile_boxes(5, thumb_size(640 / 360))
    x0, y0, _x1, _y1 = boxes[0].image
    assert sheet.getpixel((x0 + 16, y0 + 16)) == PLACEHOLDER
    # the sheet says so too: its placeholder text differs from the missing one's
    unreadable, missing = (sheet.crop(boxes[i].image).tobytes() for i in (0, 3))
    assert unreadable != missing


def test_portrait_keyframes_and_single_scene(tmp_path: Path) -> None:
    """9:16 keyframes get portrait thumbnails; one scene still makes a whole sheet."""
    plan = Plan(
        title="One",
        closing="Thanks",
        scenes=[
            Scene(
                id="01-growth-1",
                goal=1,
                category="growth",
                affirmation="I grow",
                image_prompt="a tree",
                motion_prompt="still",
                seconds=4,
            )
        ],
    )
    kf = tmp_path / "k.png"
    Image.new("RGB", (360, 640), (10, 120, 200)).save(kf)
    png, _html = write_storyboard(tmp_path, plan, keyframes={"01-growth-1": kf})
    thumb = thumb_size(360 / 640)
    assert thumb[1] > thumb[0]
    with Image.open(png) as im:
        sheet = im.convert("RGB")
    assert sheet.size == sheet_size(1, thumb)
    x0, y0, x1, y1 = tile_boxes(1, thumb)[0].image
    assert sheet.getpixel(((x0 + x1) // 2, (y0 + y1) // 2)) == (10, 120, 200)


@pytest.mark.parametrize("radius", [13, 10])
def test_pill_is_whole_at_every_width(radius: int) -> None:
    """Pillow 11.3's rounded_rectangle leaves a column empty at width 2*radius+2; the pill
    fills every column between its round ends, top to bottom, and its outline's straight
    edges have no gap either."""
    height = 26
    for w in range(20, 61):
        im = Image.new("L", (80, 40), 0)
        _pill(ImageDraw.Draw(im), (5, 5, 5 + w, 5 + height), radius, fill=255)
        empty = [
            x
            for x in range(5 + radius, 5 + w - radius + 1)
            if any(im.getpixel((x, y)) != 255 for y in range(5, 5 + height + 1))
        ]
        assert not empty, (w, empty)
        # nothing drawn outside the box
        assert im.getbbox() == (5, 5, 5 + w + 1, 5 + height + 1), w
        ring = Image.new("L", (80, 40), 0)
        _pill(ImageDraw.Draw(ring), (5, 5, 5 + w, 5 + height), radius, outline=255, width=2)
        for x in range(5 + radius, 5 + w - radius + 1):
            edges = [ring.getpixel((x, y)) for y in (5, 6, 4 + height, 5 + height)]
            assert edges == [255] * 4, (w, x, edges)
            assert ring.getpixel((x, 5 + height // 2)) == 0, (w, x)  # hollow inside


def test_a_title_or_category_with_line_breaks_stays_on_its_one_line() -> None:
    """A quoted title with "\\n" in goals.yaml (or plan.yaml) was drawn as three lines:
    the second over the totals line and the third over the first row of keyframes; a
    category with one spilled out of its chip. They are drawn on one line, as the page
    shows them (the breaks as spaces)."""
    from mindmovie.storyboard import render_sheet

    def sheet(title: str, category: str) -> bytes:
        scene = Scene(id="01-own-1", goal=1, category=category, affirmation="I am",
                      image_prompt="p", motion_prompt="m", seconds=5)  # fmt: skip
        plan = Plan(title=title, closing="c", scenes=[scene])
        return render_sheet(plan).tobytes()

    assert sheet("Line one\nLine two\nLine three", "my\nown") == sheet(
        "Line one Line two Line three", "my own"
    )


def test_png_badges_have_no_gap(board: tuple[Path, Plan, Path, Path]) -> None:
    """Each scene-number badge is one solid pill: no column of it is left card-coloured
    (Pillow drew a one-digit badge with a vertical line through the number)."""
    _run, plan, png, _html = board
    with Image.open(png) as im:
        sheet = im.convert("RGB")
    for box in tile_boxes(len(plan.scenes), thumb_size(640 / 360)):
        x, y = box.card[0] + 14, box.image[3] + 12  # where _draw_card puts the badge
        assert sheet.getpixel((x + 3, y + 13)) == ACCENT  # found it
        assert sheet.getpixel((x - 2, y + 13)) == CARD
        for col in range(x + 2, x + 27):
            column = [sheet.getpixel((col, row)) for row in range(y, y + 27)]
            assert ACCENT in column, (box.card, col)
        # above and below the number the badge is solid across its straight middle
        for col in range(x + 10, x + 19):
            for row in (y + 1, y + 2, y + 24, y + 25):
                assert sheet.getpixel((col, row)) == ACCENT, (box.card, col, row)


def test_an_affirmation_without_spaces_is_broken_across_its_lines_not_cut_to_one() -> None:
    """A word wider than the tile (a long unspaced word; Chinese or Japanese, written
    without spaces) was cut to one line with an ellipsis, the tile's other two lines left
    empty: it fills them, broken where the line ends, and only what is left is cut."""
    from mindmovie.storyboard import _font, _width, _wrap

    f, max_w = _font(18), 300.0
    word = "abcdefghij" * 20  # about four lines' worth
    lines = _wrap(word, f, max_w, 3)
    assert len(lines) == 3 and all(_width(f, ln) <= max_w for ln in lines), lines
    assert not lines[0].endswith("…") and lines[-1].endswith("…"), lines
    assert word.startswith(lines[0] + lines[1]), lines
    short = _wrap("I am " + "x" * 40, f, max_w, 3)  # a shorter one: whole, no ellipsis
    assert "".join(short).replace(" ", "") == "Iam" + "x" * 40, short


def test_a_very_long_title_and_affirmation_are_cut_in_few_measurements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text is cut to its box by bisection: one character at a time, a title pasted as a
    paragraph kept `plan` busy for minutes (each try measured the whole text again).
    Counted in letters measured, not timed: bisection measures each text at plan.yaml's
    longest (2,000 letters, MAX_TEXT) ~11 times; one letter at a time measured ~10^6."""
    from mindmovie import storyboard

    measured = 0
    width = storyboard._width

    def counted(f: storyboard.Font, s: str) -> float:
        nonlocal measured
        measured += len(s)
        assert measured < 300_000, "the long texts were cut one letter at a time"
        return width(f, s)

    monkeypatch.setattr(storyboard, "_width", counted)
    run = tmp_path / "run"
    plan = _make_run(run)
    plan = plan.model_copy(
        update={
            "title": "My year " * 250,
            "scenes": [
                plan.scenes[0].model_copy(update={"affirmation": "I" + "a" * 1999}),
                *plan.scenes[1:],
            ],
        }
    )
    write_plan(plan, run / "plan.yaml")
    png, _html = storyboard_from_run(run)
    assert png.is_file() and measured > 4_000, measured  # both long texts were measured


def test_html_breaks_long_unspaced_text_inside_its_card(
    board: tuple[Path, Plan, Path, Path],
) -> None:
    """A 300-letter affirmation, id, prompt or title has no space to wrap at: without
    `overflow-wrap: anywhere` it ran past its card, which (overflow hidden) cut it off,
    and the title ran off the page."""
    html_path = board[3]
    text = html_path.read_text()
    css = text[text.index("<style>") : text.index("</style>")]
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", css)
    wrapped = {
        sel.strip()
        for sels, body in rules
        if "overflow-wrap: anywhere" in body
        for sel in sels.split(",")
    }
    for element in ("h1", ".style", ".aff", ".id", "dd", "footer"):
        assert element in wrapped, element


def test_a_long_scene_id_keeps_its_scene_number_on_the_sheet() -> None:
    """Cut at its end, the ids of a goal with a 60+ letter category all read
    '01-aaaa…': the scene number that tells them apart was the part cut."""
    from mindmovie.storyboard import COLUMN_WIDTH, _fit_id, _font

    f = _font(13)
    inner = COLUMN_WIDTH - 28
    cut = [_fit_id(f"01-{'a' * 60}-{n}", f, inner) for n in (1, 2, 3)]
    assert len(set(cut)) == 3, cut
    for n, text in enumerate(cut, 1):
        assert text.startswith("01-a") and text.endswith(f"a-{n}") and "…" in text
        assert f.getlength(text) <= inner
    assert _fit_id("02-health-1", f, inner) == "02-health-1"


def test_text_the_built_in_font_lacks_is_drawn_with_the_movies_fallback_font(
    tmp_path: Path,
) -> None:
    """A Cyrillic affirmation (or Chinese, Arabic, a German ß) was a row of boxes on the
    sheet, while the movie's cards draw it with a system font: the board now uses it too."""
    from mindmovie.compose import cards

    words = "Я сильная и здоровая"
    if cards.undrawable(words):
        pytest.skip("no system font here has Cyrillic")

    def sheet(affirmation: str) -> Image.Image:
        return _one_scene_sheet(affirmation)

    box = tile_boxes(1)[0]
    area = (box.card[0], box.image[3] + 40, box.card[2], box.image[3] + 70)
    drawn = sheet(words).crop(area).tobytes()
    boxes = sheet("\ue000" * len(words.replace(" ", "")))  # what a lacking glyph looks like
    assert drawn != sheet(words.replace("Я", "\ue000")).crop(area).tobytes()
    assert drawn != boxes.crop(area).tobytes()


def test_accented_letters_are_drawn_as_the_movie_draws_them_not_stripped() -> None:
    """The built-in font lacks é: the sheet wrote "Cafe" (an accent stripped) while the
    movie's cards draw "Café" with their fallback font. Text drawn with that font keeps
    its letters; a label drawn with the built-in font only is still stripped."""
    from mindmovie.compose import cards
    from mindmovie.storyboard import _drawable, _text_font

    if cards.undrawable("Café à Noël"):
        pytest.skip("no system font here has é")
    assert _drawable("Café à Noël", 18, system=True) == "Café à Noël"
    assert _text_font("Café à Noël", 18) is cards.font(18, cards.face_for("Café à Noël"))
    assert _drawable("Café", 18) == "Cafe"
    assert _drawable("\u2014 x", 18, system=True) == "\u2014 x"  # as the cards draw it
    assert _drawable("plain", 18, system=True) == "plain"


def test_html_a_long_category_chip_shows_it_is_cut_and_keeps_the_whole_name(
    board: tuple[Path, Plan, Path, Path],
) -> None:
    """The chip cut a 300-letter category at its edge with no ellipsis (text-overflow does
    nothing in a flex box) and the whole name was nowhere on the page."""
    page = board[3].read_text()
    css = page[page.index("<style>") : page.index("</style>")]
    (cat,) = re.findall(r"\.cat \{([^}]*)\}", css)
    assert "text-overflow: ellipsis" in cat and "display: block" in cat and "flex" not in cat
    assert 'title="my &lt;own&gt; &amp; more">my &lt;own&gt; &amp; more</span>' in page


def test_a_folder_that_is_no_run_is_said_so_not_a_missing_plan(tmp_path: Path) -> None:
    """`storyboard` of a folder that is no run said "x/plan.yaml: file not found" (or
    "cannot read file (Not a directory)" for a file), as if a run had lost its plan: it
    says there is no run, as `status` does. Nothing is written."""
    from mindmovie.store import StoreError
    from mindmovie.storyboard import storyboard_from_run

    (tmp_path / "notes.txt").write_text("x")
    for folder, said in (
        (tmp_path / "missing", "no such folder; give a run folder (outputs/<title>)"),
        (tmp_path, "no run here (no plan.yaml). Plan or render a goals.yaml first."),
        (tmp_path / "notes.txt", "is a file, not a run folder (outputs/<title>)"),
    ):
        with pytest.raises(StoreError) as e:
            storyboard_from_run(folder)
        assert str(e.value) == f"{folder}: {said}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_runs_own_file_given_for_the_run_names_its_folder(tmp_path: Path) -> None:
    """`status run/plan.yaml` (or run.db, the names a person sees and tab-completes) said
    only "is a file, not a run folder": it names the run folder to give instead, for
    `status` and `storyboard` alike."""
    from mindmovie.status import collect_status
    from mindmovie.store import Store, StoreError
    from mindmovie.storyboard import storyboard_from_run

    run = tmp_path / "run"
    run.mkdir()
    Store(run / "run.db").close()
    (run / "plan.yaml").write_text("x")
    for given in (run / "plan.yaml", run / "run.db"):
        for call, command in ((collect_status, "status"), (storyboard_from_run, "storyboard")):
            with pytest.raises(StoreError) as e:
                call(given)
            assert str(e.value) == (
                f"{given}: is a file, not a run folder (outputs/<title>); it is in the run "
                f"{run}: mindmovie {command} {run}"
            )


def test_a_run_whose_plan_was_moved_away_says_what_makes_one(tmp_path: Path) -> None:
    """A run folder (run.db there) whose plan.yaml was moved away: `storyboard` said only
    "run/plan.yaml: file not found", where `status` says the next render makes one."""
    from mindmovie.store import Store, StoreError
    from mindmovie.storyboard import storyboard_from_run

    run = tmp_path / "run"
    run.mkdir()
    Store(run / "run.db").close()
    with pytest.raises(StoreError) as e:
        storyboard_from_run(run)
    assert str(e.value) == (
        f"{run / 'plan.yaml'}: not there, so there is no plan to draw; the next `plan` or "
        "`render` of its goals.yaml makes one (`status` says which goals.yaml)"
    )
    assert sorted(p.name for p in run.iterdir()) == ["run.db"]


def test_the_outputs_folder_given_for_a_run_names_the_runs_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mindmovie status outputs` (the folder of runs, not a run: a first user's guess)
    said "no run here (no run.db). Render a goals.yaml first." beside the runs it holds;
    `status` and `storyboard` now name them, and the command to give."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.store import Store

    monkeypatch.chdir(tmp_path)
    for name in ("my-year", "другой"):
        (tmp_path / "outputs" / name).mkdir(parents=True)
        Store(tmp_path / "outputs" / name / "run.db").close()
    (tmp_path / "outputs" / "notes").mkdir()  # no run: not named
    # (".": the project folder holding outputs/, given after moving or copying it, said
    # "no run here (no run.db). Render a goals.yaml first.")
    for command in ("status", "storyboard"):
        for given in ("outputs", "."):
            r = CliRunner().invoke(app, [command, given])
            assert r.exit_code == 2, r.output
            assert (
                f"{given}: no run here; it holds the runs outputs/my-year and outputs/другой "
                f"(mindmovie {command} outputs/my-year)"
            ) in " ".join(r.stderr.split()), r.stderr


def test_html_right_to_left_text_takes_its_own_direction(tmp_path: Path) -> None:
    """A Hebrew or Arabic affirmation, title, prompt or closing in the page (whose
    language is English, left to right) showed its closing full stop at the wrong end
    ("אני לומד עברית כל יום." ending on the right): every text of the user's now has
    `dir="auto"` (or sits in a <bdi> after an English label)."""
    from mindmovie.storyboard import render_html

    he, ar = "אני לומד עברית כל יום.", "أنا محبوب ومحاط بعائلتي."
    scene = Scene(
        id="01-growth-1",
        goal=1,
        category="צמיחה",
        affirmation=he,
        image_prompt=ar,
        motion_prompt=he,
        seconds=5,
    )
    plan = Plan(title=ar, closing=he, style=ar, scenes=[scene])
    page = render_html(tmp_path, plan)
    assert f'<h1 dir="auto">{ar}</h1>' in page
    assert f'<p class="aff" dir="auto">{he}</p>' in page
    assert f'<dd dir="auto">{ar}</dd>' in page and f'<dd dir="auto">{he}</dd>' in page
    assert re.search(r'<span class="cat" dir="auto"[^>]*>צמיחה</span>', page)
    assert f"Style: <bdi>{ar}</bdi>" in page and f"Closing card: <bdi>{he}</bdi>" in page


def test_an_emoji_no_font_has_is_left_out_of_the_sheet_as_of_the_movie(
    no_emoji_font: None,
) -> None:
    """The movie leaves out an emoji no font here can draw (`cards.drawn_text`); the sheet
    drew it as a box, so the review picture showed what the movie does not."""

    def sheet(affirmation: str) -> bytes:
        return _one_scene_sheet(affirmation).tobytes()

    assert sheet("I am grateful 🙏") == sheet("I am grateful")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (None, "file not found"),
        ("title: T\ngoals:\n  - category: a\n    visoin: b\n", "4: goals[1].visoin: unknown key"),
    ],
)
def test_a_goals_file_given_that_cannot_be_read_is_said_not_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str | None, said: str
) -> None:
    """`storyboard RUN --goals nope.yaml` (or a goals.yaml with a mistake) wrote the
    board, exit 0, as if --goals had not been given; `status` says what is wrong with
    it (exit 2), and so does `storyboard`, before writing anything."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    for name in [k for k in os.environ if k.startswith("MINDMOVIE_")]:
        monkeypatch.delenv(name)
    run = tmp_path / "run"
    _make_run(run)
    goals = tmp_path / "goals.yaml"
    if text is not None:
        goals.write_text(text)
    r = CliRunner().invoke(app, ["storyboard", str(run), "--goals", str(goals)])
    assert r.exit_code == 2, r.output
    assert f"error: {goals}:{' ' if text is None else ''}{said}" in " ".join(r.output.split())
    assert not (run / "storyboard.png").exists()


def test_a_board_drawn_with_other_settings_is_priced_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`storyboard RUN --preset byteplus` of a run planned offline said "estimated free"
    for every scene: it showed the costs the last render recorded. Priced with the
    settings given now; without any, as recorded."""
    import os

    from typer.testing import CliRunner

    from mindmovie import costs
    from mindmovie.cli import app
    from mindmovie.config import load_settings
    from mindmovie.goals import load_goals
    from mindmovie.plan import load_plan
    from mindmovie.storyboard import format_cost

    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("MINDMOVIE_")]:
        monkeypatch.delenv(name)
    text = "title: T\ngoals:\n  - category: health\n    vision: Strong\n    scenes: 2\n"
    (tmp_path / "goals.yaml").write_text(text)
    r = CliRunner().invoke(app, ["plan", "goals.yaml", "--out", "run"])
    assert r.exit_code == 0, r.output
    page = tmp_path / "run" / "storyboard.html"

    def shown() -> list[str]:
        return re.findall(r'class="cost">([^<]*)<', page.read_text())

    r = CliRunner().invoke(app, ["storyboard", "run", "--preset", "byteplus"])
    assert r.exit_code == 0, r.output
    est = costs.estimate_run(
        load_settings(overrides={"preset": "byteplus"}, env={}),
        load_goals(tmp_path / "goals.yaml"),
        load_plan(tmp_path / "run" / "plan.yaml"),
    )
    assert shown() == [format_cost(s.total) for s in est.scenes]
    assert all(c != "free" for c in shown()), shown()
    r = CliRunner().invoke(app, ["storyboard", "run"])
    assert r.exit_code == 0, r.output
    assert shown() == ["free", "free"]


def test_decoded_keyframes_are_not_all_held_while_the_board_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every scene's keyframe was decoded (640 px wide) and held until both files were
    written: the storyboard's memory grew ~1.1 MB a scene (376 MB peak for 180 scenes at
    1080p). Each decoded picture is dropped once its page JPEG and sheet picture are
    made; the board is the same."""
    import gc
    import weakref

    from mindmovie import storyboard

    run = tmp_path / "run"
    plan = _make_run(run)
    keyframes, clips = _artifacts(run, plan)
    before = write_storyboard(run, plan, keyframes=keyframes, clips=clips)
    expected = [p.read_bytes() for p in before]
    decoded: list[weakref.ref[Image.Image]] = []
    alive: list[int] = []
    real_open, real_png = storyboard._open_rgb, storyboard._png_bytes

    def open_rgb(path: Path | None) -> Image.Image | None:
        img = real_open(path)
        if img is not None:
            decoded.append(weakref.ref(img))
        return img

    def png_bytes(img: Image.Image, digest: str | None = None) -> bytes:
        gc.collect()
        alive.append(sum(r() is not None for r in decoded))
        return real_png(img, digest)

    monkeypatch.setattr(storyboard, "_open_rgb", open_rgb)
    monkeypatch.setattr(storyboard, "_png_bytes", png_bytes)
    before[0].unlink()  # (else the sheet of the same inputs is kept as drawn)
    after = write_storyboard(run, plan, keyframes=keyframes, clips=clips)
    assert len(decoded) == 4  # the scenes with a keyframe
    assert alive == [0], alive
    assert [p.read_bytes() for p in after] == expected


def test_a_right_to_left_affirmation_is_drawn_in_its_direction_against_the_right_edge() -> None:
    """The sheet drew each wrapped line of a Hebrew affirmation in the direction of the
    line's own first letter ("Nike Air החדשות שלי" left to right, "Nike Air" first from
    the left), and against the tile's left edge. Its lines now take the paragraph's
    direction (drawn as with an invisible RIGHT-TO-LEFT MARK before "Nike") and end at
    the right edge, as the page (`dir="auto"`) shows them."""
    from mindmovie.compose import cards
    from mindmovie.storyboard import COLUMN_WIDTH
    from tests.unit.test_cards import raqm_draws

    text = "אני רצה כל בוקר לאורך החוף הארוך והיפה Nike Air החדשות שלי"
    if cards.undrawable(text) or not raqm_draws(text):
        pytest.skip("no font with Hebrew laid out by libraqm here")

    def sheet(affirmation: str) -> Image.Image:
        return _one_scene_sheet(affirmation)

    box = tile_boxes(1)[0]
    area = (box.card[0], box.image[3] + 44, box.card[2], box.image[3] + 44 + 3 * 23)
    drawn = sheet(text).crop(area)
    assert drawn.tobytes() == sheet(text.replace("Nike", "\u200fNike")).crop(area).tobytes()
    ink = Image.eval(drawn.convert("L"), lambda v: 255 if v > 128 else 0).getbbox()
    assert ink is not None
    right = 14 + COLUMN_WIDTH - 28  # the text's box: 14 px in from the card's edges
    assert right - 4 <= ink[2] <= right + 1 and ink[0] > 14 + 4, ink


@pytest.mark.parametrize("title", ["שלום עולם", "مرحبا بالعالم"], ids=["hebrew", "arabic"])
def test_a_right_to_left_title_ends_at_the_sheet_s_right_margin(title: str) -> None:
    """The sheet drew a Hebrew or Arabic title from its left margin, where the page
    (`<h1 dir="auto">`) and the cards' right-to-left lines start it at the right: it now
    ends at the right margin. The totals line below it stays at the left, as on the page."""
    from mindmovie.compose import cards
    from mindmovie.storyboard import MARGIN, render_sheet

    if cards.undrawable(title):
        pytest.skip("no font with Hebrew and Arabic here")
    plan = _plan()
    plan = plan.model_copy(update={"title": title, "scenes": plan.scenes[:1]})
    sheet = render_sheet(plan)

    def ink(area: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        box = Image.eval(sheet.crop(area).convert("L"), lambda v: 255 if v > 128 else 0).getbbox()
        assert box is not None
        return box

    title_ink = ink((0, 0, sheet.width, 66))
    assert sheet.width - MARGIN - 4 <= title_ink[2] <= sheet.width - MARGIN + 1, title_ink
    assert title_ink[0] > sheet.width / 2, title_ink
    assert MARGIN - 1 <= ink((0, 66, sheet.width, 100))[0] <= MARGIN + 4  # the totals


def test_a_right_to_left_title_and_category_are_not_drawn_backwards_with_libraqm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sheet's title and a scene's category chip are one line each, laid out in
    their own direction (`fonts.laid_out(..., None)`). Where libraqm lays the font out
    (Linux with FriBiDi), that put a Hebrew title in display order for the basic layout,
    and libraqm reversed it again: drawn backwards. Drawn with libraqm, they are now as
    the basic layout draws them (compared blurred, as test_cards compares cards)."""
    import numpy as np
    from PIL import ImageFilter

    from mindmovie.compose import cards
    from mindmovie.storyboard import render_sheet, tile_boxes
    from tests.conftest import clear_text_caches, without_raqm
    from tests.unit.test_cards import raqm_draws

    title, category = "שלום עולם", "בריאות וכושר"
    if cards.undrawable(title + category) or not raqm_draws(title):
        pytest.skip("no font with Hebrew laid out by libraqm here")
    plan = _plan()
    scenes = [plan.scenes[0].model_copy(update={"category": category})]
    plan = plan.model_copy(update={"title": title, "scenes": scenes})
    box = tile_boxes(1)[0]
    areas = {
        "title": (0, 0, sheet_size(1)[0], 66),  # (a right-to-left one ends at the right)
        "category": (box.card[0], box.image[3] + 10, box.card[2] - 100, box.image[3] + 40),
    }

    def drawn() -> dict[str, np.ndarray]:
        sheet = render_sheet(plan)
        return {
            name: np.asarray(
                sheet.crop(area).convert("L").filter(ImageFilter.GaussianBlur(3)),
                dtype=np.float32,
            )
            for name, area in areas.items()
        }

    by_raqm = drawn()
    without_raqm(monkeypatch)
    try:
        basic = drawn()
    finally:
        monkeypatch.undo()
        clear_text_caches()
    differ = {n: float(np.abs(by_raqm[n] - basic[n]).mean()) for n in areas}
    assert max(differ.values()) < 0.5, differ


def test_invisible_characters_are_not_drawn_as_boxes_on_the_sheet() -> None:
    """Soft hyphens, a zero-width space and a word joiner in an ASCII affirmation or
    title were boxes on the sheet, as in the movie (`cards.drawn_text` leaves them out)."""
    from mindmovie.storyboard import render_sheet
    from tests.unit.test_cards import SEEN, UNSEEN

    plan = _plan()

    def sheet(text: str) -> bytes:
        scenes = [plan.scenes[0].model_copy(update={"affirmation": text})]
        return render_sheet(plan.model_copy(update={"title": text, "scenes": scenes})).tobytes()

    assert sheet(UNSEEN) == sheet(SEEN)


def _sheets_drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every sheet drawn from now on (its plan's title)."""
    from mindmovie import storyboard

    drawn: list[str] = []
    real = storyboard.render_sheet

    def counting(plan: Plan, *args: object, **kwargs: object) -> Image.Image:
        drawn.append(plan.title)
        return real(plan, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(storyboard, "render_sheet", counting)
    return drawn


@pytest.mark.parametrize("cached", [True, False], ids=["same process", "another process"])
def test_a_sheet_of_the_same_inputs_is_not_drawn_again_and_the_page_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    """A render draws the board after its keyframes and again at its end, where only its
    clips are new: the sheet shows no clips, so it is kept as drawn (it was drawn and
    encoded again, the same picture, half that board's time). The page is made again,
    each keyframe inlined as a page made from nothing inlines it."""
    from mindmovie import storyboard

    run = tmp_path / "run"
    plan = _make_run(run)
    keyframes, clips = _artifacts(run, plan)
    png, html = write_storyboard(run, plan, costs=COSTS, keyframes=keyframes)
    sheet = png.read_bytes()
    assert "<video" not in html.read_text()
    if not cached and hasattr(storyboard, "_PAGE_PARTS"):  # (fails on its asserts without)
        storyboard._PAGE_PARTS.clear()  # `mindmovie storyboard RUN` after: another process
    drawn = _sheets_drawn(monkeypatch)
    write_storyboard(run, plan, costs=COSTS, clips=clips, keyframes=keyframes)
    assert drawn == [] and png.read_bytes() == sheet
    if hasattr(storyboard, "_PAGE_PARTS"):
        storyboard._PAGE_PARTS.clear()
    page = storyboard.render_html(run, plan, costs=COSTS, clips=clips, keyframes=keyframes)
    assert html.read_text() == page and page.count("<video") == len(CLIPS)
    assert page.count('src="data:image/jpeg;base64,') == len(keyframes)


def _replace_keyframe(run: Path, plan: Plan) -> None:
    path = run / "scenes" / plan.scenes[0].id / "keyframe.png"
    Image.new("RGB", (640, 360), (20, 20, 20)).save(path)


@pytest.mark.parametrize(
    "change",
    [
        "a cost",
        "a keyframe made again",
        "a scene failed",
        "sheet replaced by hand",
        "sheet cut short",
        "sheet removed",
        "a title the built-in font lacks",
    ],
)
def test_a_sheet_is_drawn_again_when_what_it_shows_changed_or_it_is_not_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    run = tmp_path / "run"
    plan = _make_run(run)
    keyframes, clips = _artifacts(run, plan)
    costs, failed = dict(COSTS), {}
    png, _ = write_storyboard(run, plan, costs=costs, keyframes=keyframes)
    sheet = png.read_bytes()
    if change == "a cost":
        costs["02-wealth-1"] = 0.5
    elif change == "a keyframe made again":
        _replace_keyframe(run, plan)
    elif change == "a scene failed":
        failed = {plan.scenes[3].id: "keyframe failed: refused"}  # (it has none)
    elif change == "sheet replaced by hand":
        Image.new("RGB", (64, 64), (1, 2, 3)).save(png)
    elif change == "sheet cut short":
        png.write_bytes(sheet[: len(sheet) // 2])
    elif change == "sheet removed":
        png.unlink()
    else:
        plan = plan.model_copy(update={"title": "Моя жизнь"})
        write_storyboard(run, plan, costs=costs, keyframes=keyframes)
        sheet = png.read_bytes()
    drawn = _sheets_drawn(monkeypatch)
    write_storyboard(run, plan, costs=costs, clips=clips, keyframes=keyframes, failed=failed)
    assert drawn == [plan.title]
    with Image.open(png) as im:
        im.load()
        assert im.size == sheet_size(len(plan.scenes), thumb_size(16 / 9))
    if change.startswith("sheet") or change.startswith("a title"):  # the same picture
        assert png.read_bytes() == sheet
    else:
        assert png.read_bytes() != sheet


def test_a_sheet_drawn_again_from_the_same_pictures_is_the_same_file(tmp_path: Path) -> None:
    """The digest a sheet carries is of its keyframes' bytes, not their files: a run set
    aside by `--fresh` keeps one copy of a sheet the new run draws the same (hard-linked
    by `_share_unchanged`, which goes by the bytes), and a sheet holding the keyframes'
    file stamps differed in them and was a second copy (0.9 MB for the example)."""
    import shutil

    run = tmp_path / "run"
    plan = _make_run(run)
    keyframes, _ = _artifacts(run, plan)
    png, _ = write_storyboard(run, plan, costs=COSTS, keyframes=keyframes)
    again = tmp_path / "again"
    shutil.copytree(run, again)  # other files (inodes), the same bytes
    for p in (again / "scenes").glob("*/keyframe.png"):
        os.utime(p, ns=(1, 1))  # and other times
    (again / "storyboard.png").unlink()
    moved, _ = _artifacts(again, plan)
    png_again, _ = write_storyboard(again, plan, costs=COSTS, keyframes=moved)
    assert png_again.read_bytes() == png.read_bytes()


def test_a_keyframe_that_cannot_be_read_for_the_sheet_s_digest_still_gets_a_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sheet's digest reads every keyframe; one that cannot be read (another user's
    file) does not stop the board: the sheet is drawn, without a digest, each time."""
    from mindmovie import storyboard

    run = tmp_path / "run"
    plan = _make_run(run)
    keyframes, clips = _artifacts(run, plan)

    def refused(path: Path) -> str:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(storyboard, "sha256_file", refused)
    drawn = _sheets_drawn(monkeypatch)
    for _ in range(2):
        png, html = write_storyboard(run, plan, costs=COSTS, clips=clips, keyframes=keyframes)
    assert drawn == [plan.title] * 2 and png.is_file() and html.is_file()
    assert storyboard._drawn_from(png) is None
