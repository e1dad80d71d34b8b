"""Clips a video model tags HDR (PQ, HLG), through a whole render with the simulator:
tone mapped when this ffmpeg has zscale and tonemap (imageio-ffmpeg's does), and when it
has not (a system ffmpeg, `IMAGEIO_FFMPEG_EXE`), composed unconverted with a warning
naming the scene and clip instead of a failed render (`media.hdr_filters_missing`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import imageio_ffmpeg
import pytest

from mindmovie import media
from mindmovie.pipeline import Pipeline
from mindmovie.progress import NullReporter
from tests.integration.support import KEYS, goals_file, settings_for
from tests.sim.server import SimServer


class _Warnings(NullReporter):
    def __init__(self) -> None:
        self.warned: list[str] = []

    def warn(self, text: str) -> None:
        self.warned.append(text)


def _without_zscale(folder: Path) -> Path:
    """An ffmpeg that is imageio-ffmpeg's but has no zscale filter, as one built without
    zimg: not listed, and a graph using it refused as ffmpeg refuses an unknown filter
    (everything else passed through to the real binary)."""
    real = imageio_ffmpeg.get_ffmpeg_exe()
    exe = folder / "ffmpeg-no-zimg"
    exe.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do\n'
        f'  [ "$a" = "-filters" ] && {{ "{real}" "$@" | grep -v " zscale "; exit 0; }}\n'
        '  case "$a" in *zscale*) echo "No such filter: \'zscale\'" >&2; exit 8;; esac\n'
        "done\n"
        f'exec "{real}" "$@"\n'
    )
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


async def _render(sim: SimServer, tmp_path: Path) -> tuple[Path | None, list[str]]:
    sim.video_transfer = "smpte2084"
    sim.media_scale = 0.25
    goals = goals_file(tmp_path, sim)
    rep = _Warnings()
    res = await Pipeline(
        goals, settings_for("byteplus", sim), out=tmp_path / "run", keys=KEYS, reporter=rep
    ).run()
    clips = sorted((tmp_path / "run" / "scenes").glob("*/clip.mp4"))
    videos = [media.probe(c).video for c in clips]
    assert clips and all(v is not None and media.clip_hdr(v) == "smpte2084" for v in videos)
    return res.movie, rep.warned


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ffmpeg is a shell script")
async def test_an_hdr_clip_with_an_ffmpeg_that_cannot_convert_it_is_warned_of_not_failed(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(_without_zscale(tmp_path)))
    media.ffmpeg_exe.cache_clear()  # (the binary is looked up once a process)
    try:
        assert media.hdr_filters_missing() == ("zscale",)
        await _check_warned(sim, tmp_path)
    finally:
        monkeypatch.undo()
        media.ffmpeg_exe.cache_clear()


async def _check_warned(sim: SimServer, tmp_path: Path) -> None:
    movie, warned = await _render(sim, tmp_path)
    assert movie is not None and movie.is_file()
    told = [w for w in warned if "is HDR (smpte2084)" in w]
    assert told and all("has no zscale to convert it to SDR" in w for w in told), warned
    assert len(told) == len({w.split(":")[0] for w in told})  # once a scene, named


async def test_an_hdr_clip_is_converted_without_a_word(sim: SimServer, tmp_path: Path) -> None:
    assert media.hdr_filters_missing() == ()
    movie, warned = await _render(sim, tmp_path)
    assert movie is not None and movie.is_file()
    assert not [w for w in warned if "HDR" in w], warned
