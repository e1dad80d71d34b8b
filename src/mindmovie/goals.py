"""goals.yaml schema and loader.

The person's own words. Errors must name the file, the line and the field, because the
person wrote this file by hand and should not have to read a traceback to fix a typo.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

KNOWN_CATEGORIES = ("health", "wealth", "career", "relationships", "growth", "lifestyle")


class Person(BaseModel):
    """Who the movie is about; photos (absolute paths after loading) give likeness."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = None
    photos: list[Path] = Field(default_factory=list)


class Goal(BaseModel):
    """One goal; becomes `scenes` scenes (default from config)."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1)
    vision: str = Field(min_length=1)
    details: str | None = None
    actions: str | None = None
    feelings: str | None = None
    affirmation: str | None = None
    photos: list[Path] = Field(default_factory=list)
    scenes: int | None = Field(default=None, ge=1, le=6)


class Goals(BaseModel):
    """The whole goals.yaml. Paths are resolved against the goals file's directory."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    person: Person | None = None
    style: str | None = None
    goals: list[Goal] = Field(min_length=1)
    closing: str | None = None
    music: Path | None = None
