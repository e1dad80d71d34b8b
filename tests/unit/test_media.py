"""Parsing `ffmpeg -i` stream lines: the colour matrix tag, and how an untagged clip is read."""

from __future__ import annotations

import pytest

from mindmovie.media import StreamInfo, _matrix_tag, clip_matrix


@pytest.mark.parametrize(
    ("props", "tag"),
    [
        ("tv, bt709, progressive", "bt709"),
        ("tv, bt709/bt709/bt709", "bt709"),
        ("pc, smpte170m/unknown/unknown, progressive", "smpte170m"),
        ("tv, bt470bg/bt709/bt709", "bt470bg"),
        ("tv, unknown/bt709/bt709, progressive", ""),  # primaries only: no matrix tag
        ("progressive", ""),
        ("", ""),
    ],
)
def test_matrix_tag_is_read_from_the_stream_properties(props: str, tag: str) -> None:
    assert _matrix_tag(props) == tag


@pytest.mark.parametrize(
    ("w", "h", "tag", "read_as"),
    [
        (1280, 720, "", "bt709"),  # HD untagged: what players assume
        (720, 1280, "", "bt709"),  # portrait HD
        (1920, 1080, "", "bt709"),
        (854, 480, "", "smpte170m"),  # SD untagged: BT.601
        (720, 576, "", "smpte170m"),
        (1280, 720, "smpte170m", "smpte170m"),  # a tag always wins
        (640, 360, "bt709", "bt709"),
    ],
)
def test_an_untagged_clip_is_read_as_players_read_it(
    w: int, h: int, tag: str, read_as: str
) -> None:
    info = StreamInfo(kind="video", codec="h264", width=w, height=h, color_matrix=tag)
    assert clip_matrix(info) == read_as
