"""The compositor: a pure timeline (what is on screen when) and its ffmpeg renderer."""

from mindmovie.compose.timeline import (
    MovieInput,
    OutputSpec,
    SceneInput,
    Timeline,
    build_timeline,
    output_size,
)

__all__ = [
    "MovieInput",
    "OutputSpec",
    "SceneInput",
    "Timeline",
    "build_timeline",
    "output_size",
]
