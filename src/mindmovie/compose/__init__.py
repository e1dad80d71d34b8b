"""The compositor: a pure timeline (what is on screen when) and its two renderers.

`ffmpeg` (the default) encodes segments in parallel and caches them; `moviepy` is the
slow frame-by-frame reference the ffmpeg renderer is tested against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mindmovie.compose.timeline import (
    MovieInput,
    OutputSpec,
    SceneInput,
    Timeline,
    build_timeline,
    output_size,
)

if TYPE_CHECKING:
    from mindmovie.compose.ffmpeg import RenderReport

ENGINES = ("ffmpeg", "moviepy")


def renderer(engine: str) -> Callable[..., RenderReport]:
    """The `render(timeline, work_dir, out, *, workers=None, on_segment=None, stopped=None)`
    of an engine (`stopped`: asked while composing; True ends it with `ComposeStopped`).

    Imported lazily so that choosing ffmpeg never imports moviepy (slow to import).
    """
    if engine == "ffmpeg":
        from mindmovie.compose.ffmpeg import render as ffmpeg_render

        return ffmpeg_render
    if engine == "moviepy":
        from mindmovie.compose.moviepy import render as moviepy_render

        return moviepy_render
    raise ValueError(f"compose engine {engine!r}: expected one of {', '.join(ENGINES)}")


__all__ = [
    "ENGINES",
    "MovieInput",
    "OutputSpec",
    "SceneInput",
    "Timeline",
    "build_timeline",
    "output_size",
    "renderer",
]
