"""Where the cards' and overlays' text lands, measured on the drawn pixels."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mindmovie.compose import cards
from mindmovie.compose.timeline import ASPECTS, output_size
from tests.conftest import clear_text_caches

#: every aspect, at the smallest and the largest resolution (the layout scales between)
SIZES = [output_size(a, r) for a in ASPECTS for r in ("480p", "1080p")]
LONG_AFFIRMATION = "I am living my dream, calm, grateful and full of energy " * 4
CLOSINGS = [
    "I am grateful for my beautiful life, for the people I love and for every new day",
    "I am grateful for my beautiful life and for every new day it brings me " * 4,
    "Я благодарна за мою прекрасную жизнь и за каждый новый день " * 3,
]


@functools.lru_cache(maxsize=16)
def _bare_card(size: tuple[int, int]) -> np.ndarray:
    return np.asarray(cards.card_image("", size, "closing"), dtype=np.int16)


def _rows_drawn_by_closing(text: str, size: tuple[int, int]) -> tuple[int, int]:
    """The first and last+1 rows whose pixels the closing text (shadow included) changes."""
    drawn = np.asarray(cards.card_image(text, size, "closing"), dtype=np.int16)
    rows = np.nonzero(np.abs(drawn - _bare_card(size)).max(axis=(1, 2)))[0]
    return int(rows.min()), int(rows.max()) + 1


def _overlay_rows(text: str, size: tuple[int, int]) -> tuple[int, int]:
    """The first and last+1 rows where the affirmation overlay has a visible pixel."""
    placed = cards.overlay_box(text, size)
    assert placed is not None
    box, _x, y = placed
    bbox = box.getchannel("A").getbbox()
    assert bbox is not None
    return y + bbox[1], y + bbox[3]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("closing", CLOSINGS, ids=["medium", "long", "cyrillic"])
def test_the_closing_text_stays_clear_of_the_last_affirmation(
    size: tuple[int, int], closing: str
) -> None:
    """The last scene crossfades into the closing card with its affirmation at full
    opacity, so both texts show mid-dissolve. A long closing filled the middle 60% of
    the frame, down into the overlay's bottom third (9:16 wraps it into many lines):
    the two texts were drawn over each other. Measured on the pixels, every frame size."""
    _top, bottom = _rows_drawn_by_closing(closing, size)
    over_top, _over_bottom = _overlay_rows(LONG_AFFIRMATION, size)
    assert bottom <= over_top, (bottom, over_top)
    assert _overlay_rows("I am calm", size)[0] >= over_top  # the longest reaches highest


def test_a_short_closing_is_still_centred() -> None:
    """Only a closing tall enough to reach the overlay band is raised; a short one stays
    centred in the frame, and the title card is laid out as before."""
    for size in SIZES:
        lay = cards._card_layout("Thank you", size, "closing")
        assert cards._card_centre(lay, size, "closing") == size[1] / 2
        title = cards._card_layout(CLOSINGS[0], size, "title")
        assert cards._card_centre(title, size, "title") == size[1] / 2


@pytest.mark.parametrize(
    ("text", "drawn", "gone"),
    [
        ("I am grateful 🙏", "I am grateful", "🙏"),
        ("✨ My Best Year ✨", "My Best Year", "✨"),
        ("Thank you  💛 so much", "Thank you so much", "💛"),
        ("I love my 👨\u200d👩\u200d👧 family", "I love my family", "👨👩👧"),  # whole, ZWJ too
        ("Paris 🇫🇷 in spring", "Paris in spring", "🇫🇷"),  # a flag: both halves
        ("I am 💪🏽 strong", "I am strong", "💪🏽"),  # with its skin tone
        ("Press 1\ufe0f\u20e3 now", "Press 1 now", "\u20e3"),  # a keycap: its digit stays
        ("I am calm 🙏\n🙏\nand free", "I am calm\nand free", "🙏"),
        ("我很平静 🙏", "我很平静", "🙏"),  # letters stay (boxes, warned), emoji go
        ("I am grateful", "I am grateful", ""),
    ],
)
def test_emoji_no_font_has_are_left_out(
    no_emoji_font: None, text: str, drawn: str, gone: str
) -> None:
    assert cards.drawn_text(text) == drawn
    assert cards.left_out(text) == gone


def test_a_mark_the_font_lacks_is_left_out_not_drawn_as_a_box() -> None:
    """A combining mark the text's font lacks (DejaVu Sans has no U+0354, U+0356,
    U+0367): raqm draws a lone mark on a dotted circle, had or not, so the glyph test
    took it as had; the movie drew a box beside its letter, with no warning (odd-files
    audit). The marks drawn as boxes (the oracle: the letter with the mark drawn as the
    letter with a missing glyph) are the ones told undrawable, and are left out, the
    letter shown bare."""
    text = "Zalgo Z\u0324\u0354\u0367\u0311\u0313a\u0308\u0356\u032d done"
    face = cards.face_for(text)
    f = cards.font(24, face)

    def mask(s: str) -> tuple[bytes, tuple[int, int]]:
        m = f.getmask(s)
        return bytes(m), m.size

    boxed = {
        m
        for m in text
        if unicodedata.category(m)[0] == "M" and mask("Z" + m) == mask("Z\U0010fffd")
    }
    if not boxed:
        pytest.skip("a font here draws every one of these marks")
    assert set(cards.undrawable(text)) == boxed
    assert set(cards.left_out(text)) == boxed
    drawn = cards.drawn_text(text)
    assert not boxed & set(drawn) and drawn.replace("Z", "").startswith("algo ")
    assert unicodedata.normalize("NFC", "Z\u0324\u0311\u0313a\u0308\u032d") in drawn


def test_a_font_under_usr_share_draws_with_xdg_data_dirs_set_without_it(
    xdg_without_usr_share: str,
) -> None:
    """Pillow looks for a font by name only where XDG_DATA_DIRS says once it is set: a
    list without /usr/share (a snap's, flatpak's, Nix shell's) left the fonts installed
    there unfound, and é drawn as a box. They are looked for in the standard folders too."""
    assert cards.face_for("Café").endswith(f"/{xdg_without_usr_share}")
    assert cards.undrawable("Café") == ""


def test_a_drawn_emoji_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A font that has the emoji draws it, as before: nothing is left out."""
    monkeypatch.setattr(cards, "_has_glyph", lambda face, ch: True)
    clear_text_caches()
    try:
        assert cards.drawn_text("I am grateful 🙏") == "I am grateful 🙏"
        assert cards.left_out("I am grateful 🙏") == ""
    finally:
        clear_text_caches()


def test_an_emoji_is_drawn_as_nothing_not_as_a_box(no_emoji_font: None) -> None:
    size = (320, 180)
    for kind in ("title", "closing"):
        with_emoji = np.asarray(cards.card_image("I am grateful 🙏", size, kind))
        assert np.array_equal(with_emoji, np.asarray(cards.card_image("I am grateful", size, kind)))
    plain = cards.overlay_image("I am grateful", size)
    assert np.array_equal(np.asarray(cards.overlay_image("I am grateful 🙏", size)), plain)


@pytest.mark.parametrize(
    ("text", "drawn"),
    [
        ("I feel alive, 🙏, grateful", "I feel alive, grateful"),
        ("🙏🙏, joy", "joy"),
        ("I🙏you", "I you"),
        ("Love🇯🇵Japan", "Love Japan"),
        ("Thanks 🙏.", "Thanks."),
        ("Je suis libre ! 🙏", "Je suis libre !"),
        ("I love you, 🙏", "I love you"),
        ("我爱🙏你", "我爱你"),  # (written without spaces: none put in)
    ],
)
def test_a_text_with_emoji_left_out_reads_as_a_sentence(
    no_emoji_font: None, text: str, drawn: str
) -> None:
    """The text audit: an emoji left out glued the words beside it ("Iyou") and left its
    list item's comma ("I feel alive, , grateful" shown as "alive, and grateful" by
    the offline planner's line). What is left reads as the sentence without it."""
    from mindmovie.providers.local import _feelings_line

    assert cards.drawn_text(text) == drawn
    assert _feelings_line("alive, 🙏, grateful") == "I feel alive and grateful"


def test_an_affirmation_of_emoji_only_has_no_overlay(no_emoji_font: None, tmp_path: Path) -> None:
    assert cards.overlay_box("🙏 ✨", (320, 180)) is None
    assert cards.render_overlay(tmp_path / "o.rgba", "🙏 ✨", (320, 180)) is None
    assert not cards.text_cut("🙏 ✨", (320, 180), "scene")
    assert cards.drawn_text("🙏 ✨") == ""


def test_only_a_text_with_emoji_left_out_changes_its_key(no_emoji_font: None) -> None:
    """The items carry the drawn text: "I am grateful 🙏" is keyed as "I am grateful"
    (the same pixels), a key the boxes' old overlay does not have; other texts keep
    theirs (RENDERER_VERSION unchanged: no movie is re-encoded for this)."""
    from mindmovie.compose.timeline import MovieInput, OutputSpec, SceneInput, build_timeline

    def keys(affirmation: str, drawn: bool) -> dict[str, str]:
        scene = SceneInput("s", affirmation, 2.0, Path("c.mp4"), "0" * 64)
        movie = MovieInput("My Year", "Thanks", (scene,), None, None)
        tl = build_timeline(
            movie, OutputSpec(64, 36, fps=4), cards.face_for, cards.drawn_text if drawn else None
        )
        return {it.id: it.text for it in tl.items} | {
            str(i): s.key for i, s in enumerate(tl.segments)
        }

    assert keys("I am grateful 🙏", True) == keys("I am grateful", True)
    assert keys("I am grateful 🙏", True) != keys("I am grateful 🙏", False)
    assert keys("I am calm", True) == keys("I am calm", False)
    assert keys("🙏", True)["scene:s"] == ""


def test_a_very_long_affirmation_is_laid_out_in_few_measurements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 10,000-letter affirmation was wrapped whole at every font size tried, though a
    dozen lines show: 37 million letters measured, 3 minutes per scene before the render
    said it was cut short (6.5 minutes for a one-scene movie). Now wrapping stops past
    the lines that fit; the lines shown are the ones a whole wrap gives."""
    measured = 0
    width = cards._width

    def counted(f: cards.Font, s: str) -> float:
        nonlocal measured
        measured += len(s)
        return width(f, s)

    monkeypatch.setattr(cards, "_width", counted)
    cards.layout_text.cache_clear()  # measured here, not remembered from another test
    text = "x" * 3_000  # 3.4 million letters measured before
    lay = cards._overlay_layout(text, (854, 480))[0]
    assert measured < 300_000 and lay.cut
    f = cards.font(lay.px, lay.face)
    whole = cards._wrap(text, f, 854 * 0.85)
    assert len(whole) > len(lay.lines) and lay.lines[:-1] == tuple(whole[: len(lay.lines) - 1])
    assert lay.lines[-1].endswith("…") and whole[len(lay.lines) - 1].startswith(lay.lines[-1][:-1])


@pytest.mark.parametrize(
    ("text", "size", "kind"),
    [
        (
            "我每天都变得更加健康和快乐，我的家人也很幸福，我的工作让我充满活力。",
            (480, 854),
            "scene",
        ),
        ("私は毎日健康で幸せになり、家族と一緒に笑顔で過ごしています。", (720, 1280), "scene"),
        ("我感恩我美好的生活，感恩我爱的人，感恩每一个新的日子。", (720, 1280), "title"),
    ],
    ids=["chinese-scene", "japanese-scene", "chinese-title"],
)
def test_chinese_or_japanese_text_wraps_between_its_letters_at_the_largest_size(
    text: str, size: tuple[int, int], kind: str
) -> None:
    """Chinese and Japanese are written without spaces: a sentence was one 'word', which
    since words are kept whole was shrunk to fit one line (an affirmation at 24 px on a
    9:16 480p frame, 36 px the largest) instead of wrapped at the largest size. Lines
    now break between its characters, never before a closing mark (，。、)."""
    if kind == "scene":
        lay = cards._overlay_layout(text, size)[0]
        top = round(min(size) * 0.075)
        assert lay.px == top, (lay.px, lay.lines)
    else:
        lay = cards._card_layout(text, size, "title")
        assert lay.px == cards._card_layout("I am well", size, "title").px, lay.lines
    assert len(lay.lines) > 1 and not lay.cut
    assert "".join(lay.lines) == text
    assert not any(line[0] in "，。、" for line in lay.lines), lay.lines
    f = cards.font(lay.px, lay.face)
    box_w = size[0] * (0.85 if kind == "scene" else 0.8)
    assert all(cards._width(f, line) <= box_w for line in lay.lines)


#: Thai and Lao are written without spaces between words; long enough that the
#: layout splits them where the line is full (no break opportunity is known)
THAI = "ฉันมีความสุขและมีสุขภาพที่แข็งแรงทุกวันฉันได้รับความรักและความเจริญรุ่งเรืองในชีวิตของฉัน" * 3
LAO = "ຂ້ອຍມີຄວາມສຸກແລະມີສຸຂະພາບແຂງແຮງທຸກໆມື້ຂ້ອຍໄດ້ຮັບຄວາມຮັກແລະຄວາມຈະເລີນຮຸ່ງເຮືອງໃນຊີວິດ" * 3


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("text", [THAI, LAO], ids=["thai", "lao"])
def test_thai_and_lao_wrap_inside_the_frame_between_letters_with_their_marks(
    size: tuple[int, int], text: str
) -> None:
    """A long Thai or Lao affirmation stays inside the frame, and each line break falls
    between grapheme clusters: the cut by letters put a vowel or tone mark (the ี and ่
    of ที่) at the start of the next line, apart from its consonant (2 of 5 lines at
    1280x720). Here no Thai font may be installed (DejaVu has Lao, not Thai): the width
    bound is checked with what is drawn, boxes or glyphs."""
    lay = cards._overlay_layout(text, size)[0]
    assert "".join(lay.lines) == text and not lay.cut
    marks = [ln[:2] for ln in lay.lines if unicodedata.category(ln[0]).startswith("M")]
    assert not marks, (marks, lay.lines)
    f = cards.font(lay.px, lay.face)
    assert all(cards._width(f, line) <= size[0] * 0.85 for line in lay.lines)
    placed = cards.overlay_box(text, size)
    assert placed is not None
    box, x, _y = placed
    bbox = box.getchannel("A").getbbox()
    assert bbox is not None and x + bbox[0] >= 0 and x + bbox[2] <= size[0], (x, bbox)


def test_a_line_break_moves_the_letter_before_a_closing_mark_with_it() -> None:
    """A break that falls just before '，' takes the letter before along (kinsoku): a
    line that opens with a comma reads as a typo. Latin words are still kept whole."""
    f = cards.font(20)
    head = "我每天都很快乐"
    max_w = cards._width(f, head) + 0.5  # the greedy break would fall before '，'
    lines = cards._wrap(head + "，我的家人也很幸福。", f, max_w)
    assert lines[0] == head[:-1] and lines[1].startswith("乐，"), lines
    assert cards._units("Donaudampfschiff,") == ["Donaudampfschiff,"]
    assert cards._units("「東京」へ") == ["「東", "京」", "へ"]
    assert cards._units("안녕하세요") == ["안녕하세요"]  # Korean: words, by spaces


def test_a_very_long_chinese_affirmation_is_laid_out_in_few_measurements(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each Chinese character is a unit a line may break after, and every unit was
    measured at every font size tried to see whether one is too wide (94,493
    measurements for this 9,800-letter text, 2.5 s): each distinct unit is measured once."""
    calls = 0
    width = cards._width

    def counted(f: cards.Font, s: str) -> float:
        nonlocal calls
        calls += 1
        return width(f, s)

    monkeypatch.setattr(cards, "_width", counted)
    cards.layout_text.cache_clear()  # measured here, not remembered from another test
    lay = cards._overlay_layout("我每天都变得更加健康和快乐，" * 700, (854, 480))[0]
    assert lay.cut and calls < 10_000, calls


HYPHENATED = "Supercalifragilisticexpialidocious-Antidisestablishmentarianism"
TALL = [output_size("9:16", r) for r in ("480p", "1080p")]


@pytest.mark.parametrize("size", TALL, ids=[f"{w}x{h}" for w, h in TALL])
def test_a_hyphenated_word_too_wide_for_the_card_breaks_after_its_hyphen(
    size: tuple[int, int],
) -> None:
    """A hyphenated word wider than a 9:16 closing card was split by width where the
    line ran out ('Supercalifragilisticex' / 'pialidocious-Antidis' / ...): it breaks
    after its hyphen, which stays at the line's end. Both engines draw `card_image`."""
    lay = cards._card_layout(HYPHENATED, size, "closing")
    want = ("Supercalifragilisticexpialidocious-", "Antidisestablishmentarianism")
    assert lay.lines == want and not lay.cut, (lay.px, lay.lines)
    f = cards.font(lay.px, lay.face)
    assert all(cards._width(f, line) <= size[0] * 0.8 for line in lay.lines)


def test_only_a_hyphenated_part_still_too_wide_is_split_by_width() -> None:
    """Past its hyphens, a part still wider than the box is split by width, the other
    part is not; a hyphenated word that fits its box is kept whole (moved down a line)."""
    f = cards.font(20)
    max_w = cards._width(f, "Antidisestablishmentarianism") + 0.5
    lines = cards._wrap("I am " + HYPHENATED, f, max_w)
    assert "".join(lines[1:]) == HYPHENATED and lines[0] == "I am", lines
    assert lines[-1] == "Antidisestablishmentarianism", lines
    assert lines[-2].endswith("-") and len(lines) == 4, lines
    fits = cards._width(f, "well-being") + 1  # and "I am well-" would fit on line one
    assert cards._wrap("I am well-being", f, fits) == ["I am", "well-being"]
    assert cards._hyphen_parts("self-love") == ["self-", "love"]
    assert cards._hyphen_parts("5-3") == ["5-3"] and cards._hyphen_parts("-5") == ["-5"]


#: a Hebrew affirmation whose second line (at 854x480) begins with Latin words, and an
#: English one whose fourth (at 480x854) begins with Hebrew ones
HEBREW_WITH_LATIN = "אני רצה כל בוקר לאורך החוף עם נעלי הריצה Nike Air החדשות שלי ומרגישה חופשייה"
ENGLISH_WITH_HEBREW = (
    "I spend every summer with my family by the sea in beautiful תל אביב ונהנה מכל רגע of sunshine"
)


def raqm_draws(text: str) -> bool:
    """Whether the font `text` is drawn with is laid out by libraqm (bidi, shaping)."""
    from PIL import ImageFont

    f = cards.font(20, cards.face_for(text))
    return getattr(f, "layout_engine", None) == ImageFont.Layout.RAQM


@pytest.mark.parametrize(
    ("text", "size", "mark", "word"),
    [
        (HEBREW_WITH_LATIN, (854, 480), "\u200f", "Nike"),  # RIGHT-TO-LEFT MARK
        (ENGLISH_WITH_HEBREW, (480, 854), "\u200e", "אביב"),  # LEFT-TO-RIGHT MARK
    ],
    ids=["hebrew-line-starting-latin", "english-line-starting-hebrew"],
)
def test_each_wrapped_line_is_drawn_in_its_paragraph_s_direction(
    text: str, size: tuple[int, int], mark: str, word: str
) -> None:
    """Pillow lays each line it is given out in the direction of that line's first
    letter: a Hebrew affirmation's second line that began with "Nike Air" was drawn
    left to right, "Nike Air" at its left end, where a reader of the right-to-left
    paragraph reads it last. Every line now takes its paragraph's direction: drawn as
    it is with Unicode's invisible direction mark before that word, which sets it."""
    if cards.undrawable(text) or not raqm_draws(text):
        pytest.skip("no font with Hebrew laid out by libraqm here")
    lines = cards._overlay_layout(text, size)[0].lines
    assert any(line.startswith(word) for line in lines[1:]), lines
    plain = cards.overlay_box(text, size)
    marked = cards.overlay_box(text.replace(word, mark + word), size)
    assert plain is not None and marked is not None and plain[1:] == marked[1:]
    differ = int((np.asarray(plain[0]) != np.asarray(marked[0])).any(axis=2).sum())
    assert differ == 0, f"{differ} pixels differ from the line drawn in its direction"


@pytest.mark.parametrize("kind", ["title", "closing"])
def test_blank_lines_around_a_card_s_text_do_not_move_it(kind: cards.CardKind) -> None:
    """goals.yaml's title is taken as written, and a YAML block (`title: |`, a blank
    line, then the title) gives "\\nMy Year\\n": its empty first line was laid out, and
    the title sat half a line below the card's middle. Blank lines at either end are
    not drawn; those between lines are (the person's own)."""
    size = (854, 480)
    plain = np.asarray(cards.card_image("My Year", size, kind))
    for text in ("\nMy Year\n", "\n  \n\nMy Year\n\n", " \t\nMy Year"):
        assert np.array_equal(np.asarray(cards.card_image(text, size, kind)), plain), repr(text)
    assert cards._card_layout("My\n\nYear", size, kind).lines == ("My", "", "Year")


#: soft hyphens, a zero-width space and a word joiner (as a word processor or a web page
#: leaves them in pasted text) in ASCII words, and the same text as it shows
UNSEEN = "I am ex\u00adtra\u00adordinary and\u200bfree\u2060now"
SEEN = "I am extraordinary andfreenow"


def test_invisible_characters_the_font_lacks_are_not_drawn_as_boxes() -> None:
    """Pillow's built-in font, which draws an ASCII text, has no glyph for a soft hyphen,
    a zero-width space or a word joiner: each was drawn as a box ("ex▯tra▯ordinary"),
    and nothing was said (they are not letters). They are left out of what is drawn; a
    font that has them (a fallback font drawing "Kapi\\u00adtän") keeps them."""
    size = (854, 480)
    for kind in ("title", "closing"):
        drawn = np.asarray(cards.card_image(UNSEEN, size, kind))
        assert np.array_equal(drawn, np.asarray(cards.card_image(SEEN, size, kind))), kind
    drawn = np.asarray(cards.overlay_image(UNSEEN, size))
    assert np.array_equal(drawn, np.asarray(cards.overlay_image(SEEN, size)))
    # the soft hyphens stay in the text (where a long word may break), drawn as nothing
    # inside a line (`_shown`): the cards above are the same
    assert cards.drawn_text(UNSEEN) == SEEN.replace("extraordinary", "ex\u00adtra\u00adordinary")
    if cards.face_for("Kapi\u00adtän"):
        assert cards.drawn_text("Kapi\u00adtän") == "Kapi\u00adtän"


def test_a_line_does_not_break_at_a_no_break_space() -> None:
    """French puts a no-break space before "!" (and ":", "?", ";", inside « »), and
    "10 km" is kept together with one: lines broke there as at any space ("Je suis
    libre" / "!"). A no-break space keeps its words on one line, drawn as a space (the
    built-in font has no glyph for it)."""
    f = cards.font(20)
    max_w = cards._width(f, "Je suis libre") + 1  # a break at a space would fall before "!"
    assert cards._wrap("Je suis libre\u00a0!", f, max_w) == ["Je suis", "libre !"]
    assert cards._wrap("Je cours 10\u202fkm", f, cards._width(f, "Je cours 10") + 1) == [
        "Je cours",
        "10 km",
    ]
    from mindmovie import storyboard  # the sheet's tiles wrap so too

    assert storyboard._wrap("Je suis libre\u00a0!", f, max_w, 3) == ["Je suis", "libre !"]
    size = (854, 480)
    plain = np.asarray(cards.card_image("Merci !", size, "title"))
    assert np.array_equal(np.asarray(cards.card_image("Merci\u00a0!", size, "title")), plain)


def test_a_line_breaks_at_a_zero_width_space_before_inside_a_word() -> None:
    """A zero width space marks where a word may break with nothing shown (Thai writes one
    between its words): "...Donaudampf\u200bschifffahrt..." broke mid-letters beside it
    (the text audit). It is a break, and draws as nothing."""
    f = cards.font(20)
    text = "Donaudampf\u200bschifffahrt"
    lines = cards._wrap(text, f, cards._width(f, "Donaudampfsch") + 1)
    assert [line.replace("\u200b", "") for line in lines] == ["Donaudampf", "schifffahrt"]


SOFT = (
    "Ich bin Donau\u00addampf\u00adschiff\u00adfahrts\u00adgesellschafts\u00adkapitän und glücklich"
)


@pytest.mark.parametrize(
    "text",
    [SOFT, SOFT.replace("ä", "ae").replace("ü", "ue")],
    ids=["a fallback font", "the built-in font"],
)
def test_a_long_word_breaks_at_its_soft_hyphens_shown_as_hyphens(text: str) -> None:
    """A German compound written with soft hyphens (where the person lets it break) was
    kept whole, and the 9:16 closing shrunk to 17 px to fit it (41 px without it); its
    soft hyphens were never used. It breaks there, a hyphen drawn at the line's end,
    and none is drawn inside a line. In ASCII (Pillow's built-in font, which has no
    glyph for the soft hyphen) they were taken out before the layout (`drawn_text`:
    not drawn as boxes), so never used either: 43 px where 81 fit on a 1080x1920 card."""
    if text == SOFT and (
        cards.missing_glyphs(SOFT + "\u00ad", cards.face_for(SOFT)) or not cards.face_for(SOFT)
    ):
        pytest.skip("no font here with ä and the soft hyphen")
    short = "Ich bin glücklich" if text == SOFT else "Ich bin gluecklich"
    size = (480, 854)
    lay = cards._card_layout(text, size, "closing")
    assert lay.px == cards._card_layout(short, size, "closing").px, lay
    assert all(ln.endswith("-") or "-" not in ln for ln in lay.lines), lay.lines
    assert not any("\u00ad" in ln for ln in lay.lines), lay.lines
    joined = "".join(ln.removesuffix("-") + " " * (not ln.endswith("-")) for ln in lay.lines)
    assert joined.split() == text.replace("\u00ad", "").split()
    f = cards.font(lay.px, lay.face)
    assert all(cards._width(f, line) <= size[0] * 0.8 for line in lay.lines), lay.lines


@pytest.mark.parametrize(
    ("line", "direction", "shown"),
    [
        ("אני בריא, חזק", "rtl", "קזח ,אירב ינא"),
        ("אני רץ 10 קילומטר עם Nike Air!", "rtl", "!Nike Air םע רטמוליק 10 ץר ינא"),
        ("Nike Air החדשות שלי (2026)", "ltr", "Nike Air (2026) ילש תושדחה"),
        ("I visit תל אביב every summer", "ltr", "I visit ביבא לת every summer"),
        ("שנת 2026 שלי: Best Year!", "rtl", "!Best Year :ילש 2026 תנש"),
        # Arabic: joined forms (initial, medial, final, isolated), lam-alef as one glyph
        ("السلام عليكم", "rtl", "\ufee2\ufedc\ufef4\ufee0\ufecb \ufee1\ufefc\ufeb4\ufedf\ufe8d"),
        ("أنا 100 يوم", "rtl", "\ufee1\ufeee\ufef3 100 \ufe8e\ufee7\ufe83"),
        ("I am calm", "ltr", "I am calm"),  # nothing right-to-left: as it is
    ],
)
def test_a_line_is_put_in_display_order_for_pillow_s_basic_layout(
    line: str, direction: str, shown: str
) -> None:
    """Pillow's basic layout draws characters left to right as given: a Hebrew word came
    out backwards, an Arabic one backwards and unjoined. `fonts.visual_line` gives the
    order (and Arabic forms) libraqm shows; each case was compared with it, drawn."""
    from mindmovie.fonts import visual_line

    assert visual_line(line, direction) == shown


def test_a_font_without_arabic_forms_draws_the_letters_unjoined_not_as_boxes() -> None:
    """A font may have Arabic letters but not their presentation forms, which the basic
    layout is given joined letters as: such a font's forms would each be a box. Those
    it lacks stay the letters (in display order), drawn unjoined; a lam-alef ligature it
    lacks is the lam and the alef, each in its joined form."""
    from mindmovie.fonts import visual_line

    assert visual_line("أنا 100", "rtl", lambda ch: False) == "100 انأ"
    lam_alef = visual_line("سلام", "rtl", lambda ch: ch != "\ufefc")  # no final lam-alef
    assert lam_alef == "\ufee1\ufe8e\ufee0\ufeb3", [hex(ord(c)) for c in lam_alef]


def test_without_libraqm_right_to_left_text_is_drawn_as_libraqm_draws_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where FriBiDi is missing (PyPI's Pillow on Windows and macOS by default) Pillow
    lays text out with its basic layout: Hebrew and Arabic cards and overlays were drawn
    backwards, Arabic letters unjoined. They are now put in order here, and drawn as
    libraqm draws them but for sub-pixel places and kerning (compared blurred: a mean
    difference of 1.4 to 2.9 levels before, under 0.5 now)."""
    from PIL import Image, ImageFilter

    from tests.conftest import clear_text_caches, without_raqm

    texts = ["אני רץ 10 קילומטר עם Nike Air!", "أنا بصحة جيدة وقوي ومليء بالطاقة"]
    if cards.undrawable("".join(texts)) or not all(map(raqm_draws, texts)):
        pytest.skip("no font with Hebrew and Arabic laid out by libraqm here")
    size = (854, 480)

    def blurred(img: Image.Image) -> np.ndarray:
        return np.asarray(img.convert("L").filter(ImageFilter.GaussianBlur(3)), dtype=np.float32)

    def drawn() -> list[np.ndarray]:
        out = [cards.card_image(t, size, "title") for t in texts]
        return [blurred(img) for img in out + [cards.overlay_image(t, size) for t in texts]]

    by_raqm = drawn()
    without_raqm(monkeypatch)
    try:
        assert not any(map(raqm_draws, texts))
        differ = [float(np.abs(a - b).mean()) for a, b in zip(by_raqm, drawn(), strict=True)]
    finally:
        monkeypatch.undo()
        clear_text_caches()
    assert max(differ) < 0.8, differ


#: the line breaks a word processor's or web page's pasted text holds, and the newline
#: each stands for: LINE SEPARATOR breaks a line inside its paragraph, the rest end it
BREAKS = {"\u2028": "\n", "\u2029": "\n", "\x85": "\n", "\r\n": "\n", "\r": "\n"}


def test_unicode_line_and_paragraph_separators_break_lines_as_a_newline_does() -> None:
    """U+2028 and U+2029 (and NEL, CR, CR LF) were drawn as spaces, the person's lines
    run together; each now breaks the line as "\\n" does, on the cards, the overlays
    and in the plan's fit warning (`text_fit`). U+2029 ends a paragraph, so the next
    one takes its own direction; after U+2028 the line stays in its paragraph's."""
    size = (854, 480)
    for sep, newline in BREAKS.items():
        for kind in ("title", "closing"):
            lay = cards._card_layout(f"My Year{sep}of Joy", size, kind)
            assert lay.lines == ("My Year", "of Joy"), (repr(sep), kind, lay.lines)
        lay = cards._overlay_layout(f"I am calm{sep}I am free", size)[0]
        assert lay.lines == ("I am calm", "I am free"), (repr(sep), lay.lines)
        # a text of many short lines is cut at the smallest size, as with "\n"
        many = sep.join(["I am"] * 12)
        assert cards.text_fit(many, size, "scene") == cards.text_fit(
            many.replace(sep, newline), size, "scene"
        ), repr(sep)
    assert np.array_equal(
        np.asarray(cards.card_image("My Year\u2029of Joy", (320, 180), "title")),
        np.asarray(cards.card_image("My Year\nof Joy", (320, 180), "title")),
    )
    hebrew = "אני רגוע"
    for sep, directions in (("\u2029", ("rtl", "ltr")), ("\u2028", ("rtl", "rtl"))):
        lay = cards.layout_text(f"{hebrew}{sep}I am free", 800, 400, 40, 9)
        assert lay.lines == (hebrew, "I am free") and lay.directions == directions, repr(sep)
    from mindmovie import storyboard  # the sheet joins a text's lines, whatever ends them

    f = cards.font(18)
    for sep in BREAKS:
        assert storyboard._wrap(f"I am calm{sep}I am free", f, 400, 3) == ["I am calm I am free"]
        assert storyboard._one_line(f"My Year{sep}of Joy") == "My Year of Joy"
    # an emoji no font has, alone on its line, is left out with its line break
    assert cards._drop_pictographs("Hi\u2029\U0001fa84\u2028There", "\U0001fa84")[0] == (
        "Hi\u2029There"
    )


#: Armenian, which DejaVu Sans has and Pillow's built-in font lacks
ARMENIAN = "Ես հանգիստ եմ"


def test_letters_no_listed_font_has_are_drawn_with_an_installed_font_that_has_them(
    font_folder: Callable[[str], str],
) -> None:
    """A Hindi, Thai or Tamil affirmation was drawn as boxes on a machine that has a font
    for it (fonts-noto-core's NotoSansDevanagari-Regular.ttf, Windows' Nirmala, macOS'
    Kohinoor): no name in FALLBACK_FONTS has those letters. A font file in the system's
    font folders under a name no list has is found, and draws the text whole."""
    assert cards.face_for(ARMENIAN) == ""  # no font file yet: boxes, said
    assert cards.undrawable(ARMENIAN) == cards.missing_glyphs(ARMENIAN)
    path = font_folder("SomeFont-Regular.ttf")
    assert cards.face_for(ARMENIAN) == path
    assert cards.undrawable(ARMENIAN) == ""
    assert cards.missing_glyphs(cards.drawn_text(ARMENIAN), path) == ""


def test_a_movie_s_texts_are_drawn_in_one_font_when_one_draws_them_all() -> None:
    """The text audit: a movie whose texts fit Pillow's built-in font but one ("Café au
    lait" needs DejaVu Sans for its é) changed typeface from text to text. In a movie's
    block (`movie_face`) every text is drawn in that font; outside it, each in its own;
    a text no single font draws with the others leaves each its own."""
    plain, accented = "I am strong and free", "Café au lait at dawn"
    face = cards.natural_face(accented)
    if not face or cards.natural_face(plain):
        pytest.skip("needs a fallback font for é, and Pillow's built-in font for ASCII")
    outside = np.asarray(cards.card_image(plain, (320, 180), "title"))
    with cards.movie_face([plain, accented, "Thank you"]) as chosen:
        assert chosen == face and cards.face_for(plain) == face
        inside = np.asarray(cards.card_image(plain, (320, 180), "title"))
    assert cards.face_for(plain) == "" and not np.array_equal(inside, outside)
    with cards.movie_face([plain, "Thank you"]) as chosen:
        assert chosen is None and cards.face_for(plain) == ""


def test_a_fifo_or_folder_named_as_a_font_is_passed_over_not_waited_on(
    font_folder: Callable[[str], str],
) -> None:
    """A FIFO named Broken.ttf in a font folder (the text audit): opened as a font for
    letters no listed font has, the render waited on it for ever, after its plan was
    made (and paid). Only regular files are font files."""
    import os

    from mindmovie import fonts

    fifo = Path(font_folder("Real-Regular.ttf")).with_name("AAA-Broken.ttf")
    os.mkfifo(fifo)
    (fifo.parent / "AAB-Folder.ttf").mkdir()
    fonts.forget_found()
    assert [Path(p).name for p in fonts.font_files()] == ["Real-Regular.ttf"]
    assert cards.face_for(ARMENIAN).endswith("/Real-Regular.ttf")


def test_a_font_named_for_the_script_is_taken_before_other_files(
    font_folder: Callable[[str], str],
) -> None:
    """Fonts named for the letters' script (`fonts.SCRIPT_FONTS`: "NotoSansArmenian-
    Regular.ttf"), then files with the script in their name, then the rest: a font with
    the letters as an accident of its design does not come before the one made for them,
    and a file's bold face not before its regular one."""
    font_folder("AAA-Sans.ttf")
    assert cards.face_for(ARMENIAN).endswith("/AAA-Sans.ttf")
    font_folder("ZZArmenian-Bold.ttf")
    hinted = font_folder("ZZArmenian-Regular.ttf")
    assert cards.face_for(ARMENIAN) == hinted
    named = font_folder("NotoSansArmenian-Regular.ttf")
    assert cards.face_for(ARMENIAN) == named


def test_text_a_listed_font_draws_looks_at_no_other_font_file(
    font_folder: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The system's font folders are read only for letters no listed font has: ASCII (the
    built-in font), é (a listed font) and emoji no font has (left out, not looked for)
    never list them nor open a file there."""
    from mindmovie import fonts

    monkeypatch.setattr(cards, "FALLBACK_FONTS", ("DejaVuSans.ttf",))

    def unread(*args: object) -> list[str]:
        raise AssertionError("the font folders were read")

    monkeypatch.setattr(fonts, "font_folders", unread, raising=False)
    monkeypatch.setattr(fonts, "_candidates", unread, raising=False)
    for text in ("I am calm", "Café crème", "I am grateful 🙏", ARMENIAN):
        cards.face_for(text)
        cards.drawn_text(text)
    assert cards.face_for("Café crème") == fonts.located("DejaVuSans.ttf")


def test_a_second_cjk_text_opens_no_font_file_known_to_lack_cjk(
    font_folder: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each distinct CJK text opened every font file again (up to 400) to find none has
    a CJK letter: 0.19 s a text with 400 files and no CJK font, tens of seconds at plan
    and again at render for a movie of Chinese affirmations. A file that lacked the
    first letters of a script tried (and its first ones, `fonts._probe`) is opened for
    that script no more; for another script it is, and found."""
    from PIL import ImageFont

    paths = [font_folder("Sans-Regular.ttf"), font_folder("Serif-Regular.ttf")]
    opened: list[str] = []
    real = ImageFont.truetype

    def counted(font: str, *args: Any, **kwargs: Any) -> ImageFont.FreeTypeFont:
        opened.append(font)
        return real(font, *args, **kwargs)

    monkeypatch.setattr(ImageFont, "truetype", counted)
    assert cards.face_for("我每天都很健康快乐。") == ""  # no font has them: boxes
    assert sorted(p for p in opened if p in paths) == paths
    opened.clear()
    assert cards.face_for("我爱我的家人和朋友。") == ""
    assert [p for p in opened if p in paths] == []
    assert cards.face_for(ARMENIAN) == paths[0]


def test_a_font_with_some_letters_of_a_script_is_still_searched_for_them(
    font_folder: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files taken to lack a script (`fonts._ruled_out`) are only those that lack
    it: a Japanese font that lacked every Chinese letter a text had (simplified ones) is
    still searched for kanji, and a Korean font that lacks every Chinese letter is still
    searched for Hangul. (Copies of DejaVu Sans, told which letters they have.)"""
    from mindmovie import fonts

    japanese = font_folder("JP-Regular.ttf")
    korean = font_folder("KR-Regular.ttf")
    kanji = "一人的毎日幸"  # (the first three: `fonts._probe`'s)
    real = fonts._draws

    def draws(face: object, box: bytes | None, ch: str) -> bool:
        path = getattr(face, "path", None)
        if path == japanese:
            return ch in kanji
        if path == korean:
            return "\uac00" <= ch <= "\ud7a3"
        return real(face, box, ch)

    monkeypatch.setattr(fonts, "_draws", draws, raising=False)
    simplified = "这们说话为东乐车"  # none in either font
    assert fonts.font_having(simplified, simplified) is None
    assert fonts.font_having("毎日幸", "毎日幸") == japanese
    assert fonts.font_having("사랑해요", "사랑해요") == korean


def test_a_font_lacking_one_letter_set_of_a_block_is_still_searched_for_another(
    font_folder: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 256-character block holds letter sets fonts have apart: U+1E00-1EFF Sanskrit's
    transliteration (ḍ ṃ ṛ ṣ ṭ ḥ) and Vietnamese's (ạ ả ấ), U+0200-02FF Romanian's ș ț
    and the phonetic alphabet's ə ɪ ʃ. A font with only Vietnamese (Google Fonts'
    "vietnamese" subset: ASCII and U+1EA0-1EF9), after a text of six Sanskrit letters it
    lacks (and the block's first, Ḁ ḁ Ḃ), was passed over for ạ; one with only
    Romanian's, after phonetic letters, for ș (`fonts._ruled_out`: only near a letter
    the file lacked). (Copies of DejaVu Sans, told which letters they have.)"""
    from mindmovie import fonts

    vietnamese = font_folder("VN-Regular.ttf")
    romanian = font_folder("RO-Regular.ttf")
    real = fonts._draws

    def draws(face: object, box: bytes | None, ch: str) -> bool:
        path = getattr(face, "path", None)
        if path == vietnamese:
            return ch.isascii() or "\u1ea0" <= ch <= "\u1ef9"
        if path == romanian:
            return ch.isascii() or ch in "ȘșȚț"
        return real(face, box, ch)

    monkeypatch.setattr(fonts, "_draws", draws, raising=False)
    sanskrit, phonetic = "ḍṃṛṣṭḥ", "əɪʃʊɛɔ"
    assert fonts.font_having(sanskrit, sanskrit) is None
    assert fonts.font_having("ạ", "ạ") == vietnamese
    assert fonts.font_having(phonetic, phonetic) is None
    assert fonts.font_having("ș", "ș") == romanian
    # a letter near those a file lacked opens it no more (the Vietnamese font, which has
    # letters of the block, is searched)
    from PIL import ImageFont

    opened: list[str] = []
    truetype = ImageFont.truetype

    def counted(font: str, *args: Any, **kwargs: Any) -> ImageFont.FreeTypeFont:
        opened.append(font)
        return truetype(font, *args, **kwargs)

    monkeypatch.setattr(ImageFont, "truetype", counted)
    assert fonts.font_having("ṅñ", "ṅ") is None  # (U+1E45, between ṃ and ṇ)
    assert opened == [vietnamese]
