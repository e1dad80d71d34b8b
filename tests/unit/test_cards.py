"""Where the cards' and overlays' text lands, measured on the drawn pixels."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from mindmovie.compose import cards
from mindmovie.compose.timeline import ASPECTS, output_size

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
