"""Scene and Plan models, and plan.yaml read/write.

plan.yaml is the planner's output *and* the person's to edit: re-running uses the edited
plan and only scenes whose inputs changed are redone. So the file is plain, ordered and
commented, and loading it gives the same line-numbered errors as goals.yaml.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Scene(BaseModel):
    """One shot of the movie: one keyframe, one clip, one affirmation on screen."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="stable id, e.g. 01-health-1")
    goal: int = Field(ge=1, description="1-based index of the goal in goals.yaml")
    category: str
    affirmation: str = Field(min_length=1)
    image_prompt: str = Field(min_length=1)
    motion_prompt: str = Field(min_length=1)
    seconds: float = Field(gt=0, le=60)
    reference_photos: list[str] = Field(default_factory=list)

    @field_validator("affirmation", "image_prompt", "motion_prompt")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must not be empty")
        return v


class Plan(BaseModel):
    """The whole movie as planned: title card, scenes in order, closing card, music."""

    model_config = ConfigDict(extra="forbid")

    title: str
    closing: str
    style: str | None = None
    music: str | None = None
    scenes: list[Scene] = Field(min_length=1)

    def scene(self, scene_id: str) -> Scene:
        for s in self.scenes:
            if s.id == scene_id:
                return s
        raise KeyError(scene_id)


PLAN_HEADER = (
    "# plan.yaml: the planned scenes of this mind movie. Edit freely: an affirmation, a\n"
    "# prompt, the seconds. The next `mindmovie render` redoes only what your edit touches.\n"
)


def dump_plan(plan: Plan) -> str:
    """Serialise a plan as readable YAML (keys in model order, long strings unwrapped)."""
    import yaml

    data = plan.model_dump(mode="json", exclude_none=True)
    for sc in data["scenes"]:
        if not sc.get("reference_photos"):
            sc.pop("reference_photos", None)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return PLAN_HEADER + body


def write_plan(plan: Plan, path: Path) -> None:
    """Write plan.yaml atomically so a kill never leaves half a plan."""
    from mindmovie.fsutil import atomic_write_text

    atomic_write_text(path, dump_plan(plan))
