"""Scene and Plan models, and plan.yaml read/write.

plan.yaml is the planner's output *and* the person's to edit: re-running uses the edited
plan and only scenes whose inputs changed are redone. So the file is plain, ordered and
commented, and loading it gives the same line-numbered errors as goals.yaml.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mindmovie.fsutil import expanded, special_kind
from mindmovie.goals import MAX_GOALS, MAX_PHOTOS, MAX_SCENES_PER_GOAL, MAX_TEXT
from mindmovie.yamlsrc import (
    NonBlank,
    Problem,
    SourceError,
    YamlDoc,
    control_character,
    decoded,
    format_loc,
    hashtag_notes,
    is_blank,
    load_yaml,
    misspelt,
    require_mapping,
    validate,
)

#: scenes a plan.yaml may hold: as many as the largest goals.yaml asks for
MAX_SCENES = MAX_GOALS * MAX_SCENES_PER_GOAL


def _photo_path(v: str) -> str:
    if not v.strip():
        raise ValueError("photo path is empty")
    return v


#: a reference photo's path: an empty one was anchored to plan.yaml's folder and refused
#: as "photo is not a file: <the run folder>", a path the person never wrote
PhotoPath = Annotated[str, AfterValidator(_photo_path)]


def _no_control(v: str) -> str:
    if (bad := control_character(v)) is not None:
        # as goals.yaml refuses one: no font draws it, and a terminal showing the plan
        # (`mindmovie plan`'s table) obeys it: an ESC from the planner cleared the screen
        raise ValueError(f"invalid character {bad!r} (a control character, which no font draws)")
    return v


def _scene_text(v: str) -> str:
    v = v.strip()
    if is_blank(v):  # a zero-width space alone passed strip() and showed nothing
        raise ValueError("must not be empty")
    return _no_control(v)


#: the most characters of a prompt: the local planner's joins a goal's texts, each up to
#: goals.yaml's MAX_TEXT. Text drawn on screen (an affirmation, the title, the closing, a
#: category) is held to MAX_TEXT, as in goals.yaml. Unbounded, a hand edit of plan.yaml or
#: the planner's answer of a million characters was a traceback from Pillow ("too many
#: characters in string") in `storyboard`, its board dropped by the render, and one of
#: ten million took a render of two scenes 99 s (a 20 MB run.db)
MAX_PROMPT = 10 * MAX_TEXT

#: text with no control character (goals.yaml's rule: `yamlsrc.control_character`)
PlainText = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_no_control)]
#: a scene's affirmation and prompts: one rule for a hand edit of plan.yaml and for the
#: planner's answer (`providers.anthropic`), so neither takes what the other refuses
SceneText = Annotated[str, Field(min_length=1), AfterValidator(_scene_text)]
ShownText = Annotated[SceneText, Field(max_length=MAX_TEXT)]
PromptText = Annotated[SceneText, Field(max_length=MAX_PROMPT)]
#: a scene's length, for plan.yaml and the planner's answer alike (snapped later to the
#: lengths the video model makes)
Seconds = Annotated[float, Field(gt=0, le=60)]


class Scene(BaseModel):
    """One shot of the movie: one keyframe, one clip, one affirmation on screen."""

    model_config = ConfigDict(extra="forbid")

    #: a folder name (scenes/<id>/): at most 100 characters, or a hand-edited long id made
    #: every render fail that scene with "File name too long" (the planners write ~70 at most)
    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        max_length=100,
        description="stable id, e.g. 01-health-1",
    )
    goal: int = Field(ge=1, description="1-based index of the goal in goals.yaml")
    category: PlainText
    affirmation: ShownText
    image_prompt: PromptText
    motion_prompt: PromptText
    seconds: Seconds
    #: the planners give a goal's photos or the person's (`MAX_PHOTOS`); a hand edit both
    reference_photos: list[PhotoPath] = Field(default_factory=list, max_length=2 * MAX_PHOTOS)


#: the closing card's line when goals.yaml gives none (every planner uses it)
DEFAULT_CLOSING = "I am grateful for everything I have and everything I am becoming"


class Plan(BaseModel):
    """The whole movie as planned: title card, scenes in order, closing card, music."""

    model_config = ConfigDict(extra="forbid")

    #: refused blank as goals.yaml's is
    title: Annotated[NonBlank, Field(max_length=MAX_TEXT), AfterValidator(_no_control)]
    #: the closing card is always shown (compose.closing_seconds > 0): a blank one loaded
    #: and closed the movie on an empty card (every planner writes a closing)
    closing: Annotated[NonBlank, Field(max_length=MAX_TEXT), AfterValidator(_no_control)]
    style: PlainText | None = None
    music: str | None = None
    #: what the largest goals.yaml plans: a plan of 14,000 scenes was written that its own
    #: reader refused ("more than 100000 values once aliases are expanded": it had none)
    scenes: list[Scene] = Field(min_length=1, max_length=MAX_SCENES)

    def scene(self, scene_id: str) -> Scene:
        for s in self.scenes:
            if s.id == scene_id:
                return s
        raise KeyError(scene_id)


PLAN_HEADER = (
    "# plan.yaml: the planned scenes of this mind movie. Edit freely: an affirmation, a\n"
    "# prompt, the seconds. The next `mindmovie render` redoes only what your edit touches.\n"
)


class _PlanDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line text as `|` blocks (easy to edit) and text with
    Unicode line separators double-quoted: PyYAML's single-quoted style mangles U+0085."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(ch in value for ch in "\x85\u2028\u2029"):
        style = '"'
    elif "\n" in value:
        style = "|"  # the emitter falls back to quotes when a block can't hold it exactly
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_PlanDumper.add_representer(str, _represent_str)


def dump_plan(plan: Plan) -> str:
    """Serialise a plan as readable YAML (keys in model order, long strings unwrapped).

    ``load_plan(dump_plan(p)) == p`` for every valid plan (tested with hypothesis).
    """
    data = plan.model_dump(mode="json", exclude_none=True)
    for sc in data["scenes"]:
        if not sc.get("reference_photos"):
            sc.pop("reference_photos", None)
    body = yaml.dump(data, Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=1000)
    return PLAN_HEADER + body


def write_plan(plan: Plan, path: Path) -> None:
    """Write plan.yaml atomically so a kill never leaves half a plan."""
    from mindmovie.fsutil import atomic_write_text

    atomic_write_text(path, dump_plan(plan))


def _top_entries(text: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
    """plan.yaml's top-level keys with their key and value nodes (positions in `text`)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    return {k.value: (k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value}


def _spliced(text: str, fields: Mapping[str, str | None]) -> str | None:
    """`text` with each top-level `fields` entry replaced, added before `scenes:`, or
    removed (None), everything else byte for byte; None when the file's shape is not
    one this can edit in place (a flow mapping, a key not at the start of a line)."""
    entries = _top_entries(text)
    if entries is None or "scenes" not in entries:
        return None
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement)

    def line_start(node: yaml.Node) -> int | None:
        at = node.start_mark.index
        return at if at == 0 or text[at - 1] == "\n" else None

    for name, value in fields.items():
        entry = entries.get(name)
        line = (
            ""
            if value is None
            else yaml.dump(
                {name: value}, Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=1000
            )
        )
        if entry is None:
            if value is None:
                continue
            at = line_start(entries["scenes"][0])
            if at is None:
                return None
            edits.append((at, at, line))
            continue
        key, val = entry
        start = line_start(key)
        if start is None:
            return None
        end = val.end_mark.index
        if value is None:  # the entry's lines go, up to and including its line end
            nl = text.find("\n", end - 1 if text[end - 1 : end] == "\n" else end)
            edits.append((start, len(text) if nl < 0 else nl + 1, ""))
        else:  # a block scalar's span already ends with its line break
            edits.append((start, end, line if text[end - 1 : end] == "\n" else line[:-1]))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def update_plan_fields(path: Path, fields: Mapping[str, str | None]) -> None:
    """Set plan.yaml's top-level `fields` (title, closing, music) in place, atomically.

    Only those entries change: the person's comments, hand edits and relative paths
    stay as written (`write_plan` would re-dump the file and lose the comments). If the
    spliced file would not read back as exactly the plan with those fields, the whole
    plan is written instead.
    """
    from mindmovie.fsutil import commit_file, tmp_path_for

    want = load_plan(path, as_written=True).model_copy(update=dict(fields))
    raw = decoded(path.read_bytes())  # (a UTF-16 file written back as UTF-8)
    # a file saved with Windows line endings keeps them: read_text turned them into "\n"
    # and the spliced file was written back with "\n" only
    newline = "\r\n" if "\r\n" in raw else "\n"
    text = _spliced(raw.replace("\r\n", "\n"), fields)
    if text is None:
        write_plan(want, path)
        return
    tmp = tmp_path_for(path)
    try:
        tmp.write_text(text, encoding="utf-8", newline=newline)
        try:
            ok = load_plan(tmp, as_written=True) == want
        except PlanError:
            ok = False
        if ok:
            commit_file(tmp, path)
            return
    finally:
        tmp.unlink(missing_ok=True)
    write_plan(want, path)


class PlanError(SourceError):
    """plan.yaml is wrong; same one-line ``file:line: field: message`` form as
    ``GoalsError`` (``scenes[3]`` is the third scene, 1-based)."""


_PLAN_EXAMPLE = "`title:`, `closing:` and `scenes:`"


def _duplicate_ids(scenes: list[Any], doc: YamlDoc) -> list[Problem]:
    """Scene ids key the render cache, so two scenes must never share one."""
    first: dict[str, int | None] = {}
    problems: list[Problem] = []
    for i, scene in enumerate(scenes):
        if not isinstance(scene, dict) or not isinstance(scene.get("id"), str):
            continue
        sid: str = scene["id"]
        line = doc.line_of(("scenes", i, "id"))
        if sid in first:
            problems.append(
                Problem(
                    line,
                    format_loc(("scenes", i, "id")),
                    f"duplicate scene id {sid!r} (also used at line {first[sid]})",
                )
            )
        else:
            first[sid] = line
    return problems


def plan_not_a_file(path: Path, what: str = "the run's plan") -> str | None:
    """Why (after "`path`: ") the run's plan.yaml at `path` cannot be read or replaced,
    when something other than a file stands there: a folder (the render's copy aside
    was an IsADirectoryError traceback) or a named pipe, socket or device (`status` and
    `storyboard` waited forever to read a pipe, and the render called it a folder).
    None for a file, nothing there, or a path that cannot be looked at (the read says).
    `what`: how the message names the file (plan.previous.yaml is the render's copy)."""
    kind = special_kind(path)
    if kind is None:
        return None
    return (
        f"is {kind}, not {what} (a file). It was not changed: move it away (e.g. "
        f"to {path.name}.bad) and render again"
    )


def load_plan(path: Path, anchor: Path | None = None, *, as_written: bool = False) -> Plan:
    """Load and check plan.yaml (as written by ``write_plan`` and edited by the person).

    Relative paths are read from ``anchor`` (default: the file's own folder; a kept copy
    of a plan.yaml passes the run folder it was edited in); ``as_written``: left relative
    (to write the file back without turning them into absolute ones).

    Raises ``PlanError`` naming file, line and field for: unreadable file, bad YAML,
    duplicate keys, unknown keys (with a did-you-mean), missing or wrongly typed fields
    (e.g. ``seconds``), no scenes, and duplicate scene ids (naming both lines).
    """
    if why := plan_not_a_file(path):
        raise PlanError(path, None, None, why)
    doc = load_yaml(path, PlanError)
    require_mapping(doc, path, PlanError, _PLAN_EXAMPLE)
    data: dict[str, Any] = doc.data
    problems: list[Problem] = []
    scenes = data.get("scenes")
    no_scenes = scenes is None or scenes == []
    if no_scenes and not misspelt(data, Plan.model_fields, "scenes"):
        # (`Scenes:` with the scenes under it: its own unknown key says so)
        problems.append(Problem(doc.line_of(("scenes",)), "scenes", "no scenes"))
    elif isinstance(scenes, list):
        problems += _duplicate_ids(scenes, doc)
    plan, invalid = validate(Plan, doc)
    if no_scenes:
        invalid = [p for p in invalid if p.field != "scenes"]
    problems += invalid
    if problems or plan is None:
        raise PlanError.from_problems(path, problems)
    if as_written:
        return plan
    return _anchor_paths(plan, anchor or path.absolute().parent)


def _anchor_paths(plan: Plan, base: Path) -> Plan:
    """Relative photo and music paths (a hand edit: the planner writes absolute ones) are
    relative to plan.yaml's folder, like goals.yaml's to its own, not to wherever the
    command runs; "~" paths are kept as written (expanded where they are used)."""

    def full(p: str) -> str:
        # (a web address as written: `check_plan` says it is not read; joined to the run
        # folder it was "not found: <run>/https:/x.com/a.jpg", a path never written)
        if p.startswith("~") or Path(p).is_absolute() or _WEB_ADDRESS.match(p):
            return p
        return str(base / p)

    scenes = [
        sc.model_copy(update={"reference_photos": [full(r) for r in sc.reference_photos]})
        for sc in plan.scenes
    ]
    return plan.model_copy(
        update={"scenes": scenes, "music": full(plan.music) if plan.music else plan.music}
    )


def _is_file(path: str) -> bool:
    """`Path(path).is_file()` ("~" expanded, as the render reads it), False (not an
    OSError) for a name too long for the system."""
    try:
        return expanded(path).is_file()
    except OSError:
        return False


def _exists(path: str) -> bool:
    """`Path(path).exists()` ("~" expanded), False (not an OSError) for a name too long
    for the system."""
    try:
        return expanded(path).exists()
    except OSError:
        return False


def _photo_problem(path: str) -> str | None:
    """Why a reference photo is no picture that can be read (None when it is one)."""
    from mindmovie.goals import _image_problem

    return _image_problem(expanded(path))


#: a path that is a link copied from a browser (goals.yaml's photos say so too)
_WEB_ADDRESS = re.compile(r"(?i)\s*(https?|ftp)://")
_WEB_HINT = "; a web address is not read: download the file and give its path"


def check_plan(path: Path, plan: Plan, goal_count: int) -> None:
    """Raise ``PlanError`` (file, line, field) for what plan.yaml alone cannot tell: a
    scene's goal number past the goals in goals.yaml, a reference photo that is not
    there, or music that cannot be used.

    Checked by a render before any paid step: bad music was found only at the compose,
    after every clip was paid for, and a wrong goal number silently lost the goal's
    photos, as did a photo path that no longer exists (plan.yaml keeps full paths, so
    moving the project folder leaves them pointing at the old place). (Not in
    `load_plan`: `status` and `storyboard` must still read such a plan.)
    """
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, sc in enumerate(plan.scenes):
        if sc.goal > goal_count:
            problems.append(
                (("scenes", i, "goal"), f"goal {sc.goal}: goals.yaml has {goal_count} goal(s)")
            )
        for j, ref in enumerate(sc.reference_photos):
            if not _is_file(ref):  # as the render reads it
                msg = f"photo not found: {ref} (a full path: correct it if the photos moved)"
                if _WEB_ADDRESS.match(ref):
                    msg = f"photo not found: {ref}{_WEB_HINT}"
                elif _exists(ref):  # a folder: "not found" sent the person looking for it
                    msg = f"photo is not a file: {ref}"
                problems.append((("scenes", i, "reference_photos", j), msg))
            elif bad := _photo_problem(ref):
                # as goals.yaml's photos are checked: a hand-edited path to a file that is
                # no picture went to a paid image model as one, and the scene failed there
                problems.append((("scenes", i, "reference_photos", j), f"photo {bad}: {ref}"))
    if plan.music:
        from mindmovie.media import music_problem

        if bad := music_problem(expanded(plan.music)):
            web = _WEB_HINT if _WEB_ADDRESS.match(plan.music) else ""
            problems.append((("music",), f"music file {bad}: {plan.music}{web}"))
    if problems:
        doc = load_yaml(path, PlanError)
        raise PlanError.from_problems(
            path, [Problem(doc.line_of(loc), format_loc(loc), msg) for loc, msg in problems]
        )


def plan_notes(path: Path) -> list[str]:
    """What a hand edit of plan.yaml lost to YAML's comments (`affirmation: I am the #1
    coach` is "I am the" on the card), as goals.yaml's notes say it (`hashtag_notes`).
    A plan mindmovie wrote quotes such text; only an edit has it."""
    try:
        return hashtag_notes(path, load_yaml(path, PlanError))
    except PlanError:
        return []  # (said where it is loaded)


#: run.db meta key prefix: per scene, the plan entry its finished clip was made from
RENDERED_PLAN_META = "rendered_scene:"

#: plan.yaml scene fields by what an edit of them redoes (see the keys in pipeline.py);
#: the category only colours the offline painter's keyframes
KEYFRAME_FIELDS = ("image_prompt", "reference_photos", "goal")
CLIP_FIELDS = ("motion_prompt", "seconds")
TEXT_FIELDS = ("affirmation",)


#: fields a keyframe that is the goal's photo alone does not use (see `photo_keyframe`):
#: its key holds the photo's bytes, the frame size and the fit (`pipeline.PHOTO_FIT`)
PHOTO_UNUSED_FIELDS = ("style", "image_prompt", "category", "reference_photos")
#: fields the offline painter does not draw from (see `painted_keyframe`): its key holds
#: the prompt, seed, size and category (`local_media.paint_keyframe`). The plan's style
#: and the reference photos (the person's, for a goal with none of its own) are for a
#: paid keyframe model; an edit of them redoes nothing offline
PAINT_UNUSED_FIELDS = ("style", "reference_photos")


def rendered_scene(
    scene: Scene,
    style: str | None,
    keyframe_provider: str,
    *,
    photo: bool = False,
    painted: bool = False,
) -> str:
    """What a render records when a scene's clip is done (made or reused), for
    `edited_fields` to compare plan.yaml with. Per scene and at that moment, so a render
    stopped halfway never vouches for scenes it did not finish. `photo`: its keyframe is
    the goal's photo fitted to the frame, whose key holds no prompt or style; `painted`:
    the offline painter drew it, from neither the style nor the reference photos."""
    record: dict[str, Any] = {
        "keyframe_provider": keyframe_provider,
        "style": style,
        "scene": scene.model_dump(mode="json"),
    }
    if photo:
        record["keyframe"] = "photo"
    elif painted:
        record["keyframe"] = "painted"
    return json.dumps(record)


def _recorded_keyframe(recorded: str | None) -> object:
    """How `rendered_scene` recorded the scene's keyframe was made (None: not said)."""
    try:
        old = json.loads(recorded or "null")
    except ValueError:
        return None
    return old.get("keyframe") if isinstance(old, dict) else None


def photo_keyframe(recorded: str | None) -> bool:
    """Whether `rendered_scene` recorded a keyframe that is the goal's photo alone: an
    edit of its `PHOTO_UNUSED_FIELDS` redoes nothing."""
    return _recorded_keyframe(recorded) == "photo"


def painted_keyframe(recorded: str | None) -> bool:
    """Whether `rendered_scene` recorded a keyframe the offline painter drew: an edit of
    its `PAINT_UNUSED_FIELDS` redoes nothing (status said a bare "reuse" for it)."""
    return _recorded_keyframe(recorded) == "painted"


#: run.db meta key: what the last compose took from plan.yaml besides the scenes' own
#: fields (those are `RENDERED_PLAN_META`'s)
COMPOSED_PLAN_META = "composed_plan"


def composed_plan(
    plan: Plan,
    clips: Mapping[str, str] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> str:
    """What a render records when it has the movie (composed or reused), for
    `movie_edits` to compare plan.yaml with: the cards' words, the music and the scenes'
    order, which change only the movie. `clips`: scene id -> its clip's sha256 in the
    movie; with them the order is also recorded as the movie's key holds it, by content
    (`_scene_content`), not by id; `settings`: the compose settings the movie was made
    with (`pipeline.movie_settings`), for `movie_settings_changes`."""
    out: dict[str, Any] = {
        "title": plan.title,
        "closing": plan.closing,
        "music": _music_digest(plan.music),
        "scenes": [sc.id for sc in plan.scenes],
    }
    if clips is not None:
        out["content"] = _scene_content(plan, clips)
    if settings is not None:
        out["settings"] = dict(settings)
    return json.dumps(out)


def _recorded_movie(recorded: str | None) -> dict[str, Any] | None:
    """The movie record `composed_plan` holds (None: nothing recorded, or unreadable)."""
    try:
        old = json.loads(recorded or "null")
    except ValueError:
        return None
    return old if isinstance(old, dict) else None


def movie_settings_changes(recorded: str | None, settings: Mapping[str, Any]) -> list[str]:
    """The compose settings that differ from those the last movie was made with (e.g.
    "compose.crossfade"): the render composes the movie again for them ([] when none
    were recorded). `status` said "movie: succeeded" and nothing more for them."""
    old = _recorded_movie(recorded)
    before = old.get("settings") if old is not None else None
    if not isinstance(before, dict):
        return []
    now = json.loads(json.dumps(dict(settings)))  # as recorded (tuples as lists)
    return [k for k in sorted(before.keys() | now.keys()) if before.get(k) != now.get(k)]


def _scene_content(plan: Plan, clips: Mapping[str, str]) -> list[list[Any]]:
    """The scenes in order as the movie's key sees them: each one's clip (sha256; None:
    not known), affirmation and seconds. Not its id: the compose keys segments by what
    is drawn, so two scenes whose ids were swapped, each with its own content, give the
    same movie."""
    return [[clips.get(sc.id), sc.affirmation, sc.seconds] for sc in plan.scenes]


def _music_digest(music: str | None) -> str | None:
    """The music as the compose keys it: its bytes, not its path (a moved project's
    plan.yaml names the same song at another path, and the movie is reused)."""
    from mindmovie.fsutil import sha256_file

    if not music:
        return None
    try:
        return sha256_file(expanded(music))
    except OSError:
        return f"missing: {music}"


def movie_edits(
    recorded: str | None, plan: Plan, clips: Mapping[str, str] | None = None
) -> list[str]:
    """The plan.yaml edits since the last movie that only the compose redoes: the title,
    the closing, the music, the scenes' order or set ([] when nothing was recorded).
    Without it `status` said nothing for them, though the render composed again.

    `clips`: scene id -> the sha256 of the clip the next render would use. When every
    scene's is known and the scenes' content is in the recorded order, ids changed
    (e.g. two swapped, each keeping its content) are no edit: the render reuses the
    movie, whose key holds content, not ids."""
    old = _recorded_movie(recorded)
    if old is None:
        return []
    now = {"title": plan.title, "closing": plan.closing, "music": _music_digest(plan.music)}
    changed = [f for f in ("title", "closing", "music") if old.get(f) != now[f]]
    ids = [sc.id for sc in plan.scenes]
    before = old.get("scenes")
    content = old.get("content")
    if before != ids and clips is not None and isinstance(content, list):
        now_content = _scene_content(plan, clips)
        if all(c[0] is not None for c in now_content) and now_content == content:
            before = ids  # the same scenes in the same order, under other ids
    if before != ids:
        same_set = isinstance(before, list) and sorted(map(str, before)) == sorted(ids)
        changed.append("scene order" if same_set else "scenes")
    return changed


def movie_scene_changes(
    recorded: str | None,
    plan: Plan,
    clips: Mapping[str, str],
    if_same: frozenset[str] = frozenset(),
) -> list[str]:
    """The scenes (ids, in order) whose part of the movie changed since it was composed:
    another clip, affirmation or length at the same place. The render composes the movie
    again for them, but `status` said "movie: succeeded" (only the scene's row told).
    [] when the scenes' order or set changed (`movie_edits` says that) or nothing was
    recorded. A scene whose clip is not known yet counts as changed (it is made again),
    unless it is in `if_same` (reused if its offline keyframe comes out the same)."""
    old = _recorded_movie(recorded)
    if old is None:
        return []
    content = old.get("content")
    ids = [sc.id for sc in plan.scenes]
    if old.get("scenes") != ids or not isinstance(content, list) or len(content) != len(ids):
        return []
    out = []
    for sc, was, now in zip(plan.scenes, content, _scene_content(plan, clips), strict=True):
        if now[0] is None and sc.id in if_same:
            continue  # not known until its keyframe is made again
        if now != was:
            out.append(sc.id)
    return out


def edited_fields(recorded: Mapping[str, str | None], plan: Plan) -> dict[str, list[str]]:
    """Per scene, the plan.yaml fields edited since its clip was made (only those that
    change a keyframe, clip or the scene's text), in stage order. `recorded`: scene id ->
    what `rendered_scene` wrote (None: nothing recorded, nothing said)."""
    out: dict[str, list[str]] = {}
    for sc in plan.scenes:
        try:
            old = json.loads(recorded.get(sc.id) or "null")
        except ValueError:
            old = None
        if not isinstance(old, dict) or not isinstance(old.get("scene"), dict):
            continue
        fields = [*KEYFRAME_FIELDS, *CLIP_FIELDS, *TEXT_FIELDS]
        if old.get("keyframe_provider") == "local":
            fields.insert(1, "category")
        before, now = dict(old["scene"]), sc.model_dump(mode="json")
        for d in (before, now):  # the painter's key takes the category normalised
            d["category"] = str(d.get("category", "")).strip().lower()
        changed = [f for f in fields if before.get(f) != now.get(f)]
        if plan.style != old.get("style"):
            changed.insert(0, "style")
        if changed:
            out[sc.id] = changed
    return out


#: run.db meta key prefix: per plan key, the plan's scenes and style as the planner made
#: them (`planned_record`), before any hand edit: when goals.yaml changes, the person's
#: edits are told apart from the planner's values (`carry_edits`). Before, a new plan left
#: them in plan.previous.yaml without a word
PLANNED_META = "planned_plan:"

#: how many edits a line names before "and N more"
EDITS_NAMED = 3


#: the plan's own fields a `planned_record` holds, in plan.yaml's order
PLAN_FIELDS = ("title", "closing", "style", "music")


def planned_record(plan: Plan, **shown: str | None) -> str:
    """The `PLANNED_META` record of `plan` as its planner made it; `shown`: the title,
    closing or music the render wrote into plan.yaml since (goals.yaml's, not an edit)."""
    scenes = [sc.model_dump(mode="json") for sc in plan.scenes]
    top = {f: shown[f] if f in shown else getattr(plan, f) for f in PLAN_FIELDS}
    # (ASCII: a path of a folder named in no UTF-8 holds surrogates, which SQLite refuses)
    return json.dumps({**top, "scenes": scenes})


def with_shown(raw: str | None, **shown: str | None) -> str | None:
    """A `planned_record` with the title, closing or music the render wrote into
    plan.yaml (`Pipeline._record_shown`): those are goals.yaml's, not hand edits."""
    try:
        data = json.loads(raw or "null")
    except ValueError:
        return None
    return json.dumps({**data, **shown}) if isinstance(data, dict) else None


def _planned(raw: str | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]] | None:
    """(the plan's own fields recorded, scene id -> scene as a dict) of a
    `planned_record`; None: none readable."""
    try:
        data = json.loads(raw or "null")
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("scenes"), list):
        return None
    scenes = {str(sc["id"]): sc for sc in data["scenes"] if isinstance(sc, dict) and "id" in sc}
    return {f: data[f] for f in PLAN_FIELDS if f in data}, scenes


def planned_fields(planned: str | None) -> dict[str, Any] | None:
    """The plan's own fields (title, closing, style, music) a `planned_record` holds;
    None when none is readable."""
    read = _planned(planned)
    return None if read is None else read[0]


def hand_edits(planned: str | None, current: Plan) -> list[tuple[str, str]] | None:
    """The person's edits of plan.yaml (`current`) since its planner made it (`planned`,
    a `planned_record`): (scene id or "", what) in plan order: each field changed
    ("affirmation"), "deleted", "added"; ("", "title"), ("", "style")... and ("", "scene
    order") for the plan's own. None when nothing was recorded (a plan made before the
    record)."""
    read = _planned(planned)
    if read is None:
        return None
    top, before = read
    out: list[tuple[str, str]] = [
        ("", f) for f in PLAN_FIELDS if f in top and getattr(current, f) != top[f]
    ]
    now = {sc.id: sc.model_dump(mode="json") for sc in current.scenes}
    for sid, was in before.items():
        if sid not in now:
            out.append((sid, "deleted"))
            continue
        # one entry a field: "01-career-1 affirmation, 01-career-1 seconds" reads as two
        # edits, where "01-career-1 affirmation, seconds" ran into the next scene's
        out.extend((sid, f) for f in now[sid] if now[sid][f] != was.get(f))
    out.extend((sid, "added") for sid in now if sid not in before)
    kept = [sid for sid in now if sid in before]
    if kept != [sid for sid in before if sid in now]:
        out.append(("", "scene order"))
    return out


def carry_edits(planned: str | None, current: Plan, new: Plan) -> tuple[Plan, list[str], list[str]]:
    """`new` (the plan made for changed goals) with the person's edits of `current`
    (plan.yaml) carried over where the planner made the same again: a scene edited or
    deleted whose id the new plan has with the values `planned` recorded for it (its
    goal did not change), but for its motion prompt (the local planner's first camera
    move of a goal follows the goal before it: an edit of that goal changed the next
    one's, and the person's edits of that next goal's scene were dropped, a deleted scene
    came back); or, its id not so, the one new scene planned as it was but for its id,
    goal number and motion prompt (`_followed`: a goal removed or added above it, the
    goals reordered, renumbered its scenes, and their edits were dropped, a deleted scene
    came back); an edited scene takes the new plan's values but for the fields the person
    edited. And a title, closing, style or music edited when the new
    plan's is the one planned (goals.yaml's did not change). Returns (that plan, the
    edits carried, the edits not carried), each edit as "<scene id> <field>" /
    "<scene id> deleted" / "title", a scene carried under another id with " (now <its
    id>)". A scene added by hand and
    the scenes' order are not carried (where they belong in the new plan is not known).
    Nor is a scene deleted while one of its goal was added (a scene's id renamed by
    hand reads so): carried, the goal's scene would leave the movie, its goal unchanged;
    nor the goal number edited of a scene renumbered (it named the goal's old place).
    With no record (`planned` None), nothing is carried nor named: the caller says so."""
    edits = hand_edits(planned, current)
    read = _planned(planned)
    if not edits or read is None:
        return new, [], []
    top, before = read
    added_goals = {current.scene(sid).goal for sid, what in edits if what == "added"}
    follow = _followed(before, {sc.id: sc.model_dump(mode="json") for sc in new.scenes})
    carried: list[str] = []
    lost: list[str] = []
    deleted: set[str] = set()
    edited: dict[str, dict[str, Any]] = {}
    fields: dict[str, Any] = {}
    for sid, what in edits:
        named = f"{sid} {what}" if sid else what
        if not sid:
            # the title too: a new plan keeps the person's while goals.yaml's is the same
            if what in top and getattr(new, what) == top[what]:
                fields[what] = getattr(current, what)
                carried.append(named)
            else:
                lost.append(named)
            continue
        target = follow.get(sid)
        if (
            what == "added"
            or target is None
            or (what == "goal" and target != sid)
            or (what == "deleted" and before[sid].get("goal") in added_goals)
        ):
            lost.append(named)
            continue
        if what == "deleted":
            deleted.add(target)
        else:
            edited.setdefault(target, {})[what] = getattr(current.scene(sid), what)
        carried.append(named if target == sid else f"{named} (now {target})")
    scenes = [
        sc.model_copy(update=edited[sc.id]) if sc.id in edited else sc
        for sc in new.scenes
        if sc.id not in deleted  # deleted by hand
    ]
    if not scenes:  # every scene deleted: a plan needs one (never the case by hand)
        return new, [], [f"{sid} {what}" if sid else what for sid, what in edits]
    merged = new.model_copy(update={"scenes": scenes, **fields})
    return merged, carried, lost


def _but_the_move(scene: dict[str, Any]) -> dict[str, Any]:
    """A scene's planned values but its motion prompt, which the local planner makes
    from its goal's words (in the image prompt too) and a camera move that follows the
    goal before it (`local._first_moves`)."""
    return {k: v for k, v in scene.items() if k != "motion_prompt"}


def _but_the_place(scene: dict[str, Any]) -> dict[str, Any]:
    """`_but_the_move` but the scene's id and goal number too: what a goal removed or
    added above it, or the goals reordered, leave of its planned values."""
    return {k: v for k, v in _but_the_move(scene).items() if k not in ("id", "goal")}


def _followed(before: dict[str, dict[str, Any]], made: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Scene id in `before` (the scenes a planner made, as `_planned` reads them) -> the
    id of the scene of `made` (another plan's, id -> scene as a dict) planned as it was:
    the same id with the same values but the motion prompt (`_but_the_move`); else the
    one scene left (not so taken) with the same values but its id, goal number and
    motion prompt (`_but_the_place`: renumbered), when no other scene left of `before`
    has them too. A scene planned anew, or two alike, is not in it."""
    out = {
        sid: sid
        for sid, was in before.items()
        if sid in made and _but_the_move(made[sid]) == _but_the_move(was)
    }
    taken = set(out.values())
    theirs = [(nid, _but_the_place(sc)) for nid, sc in made.items() if nid not in taken]
    mine = [(sid, _but_the_place(was)) for sid, was in before.items() if sid not in out]
    for sid, values in mine:
        like = [nid for nid, other in theirs if other == values]
        if len(like) == 1 and sum(values == v for _, v in mine) == 1:
            out[sid] = like[0]
    return out


def edits_not_in(
    planned: str | None, current: Plan, other: Plan, theirs_planned: str | None = None
) -> list[str] | None:
    """The hand edits of `current` (see `hand_edits`) that `other`, a plan put back in
    its place (a kept plan of these goals), does not have as `current` has them, named
    as `carry_edits` names them. `theirs_planned`: what `other`'s planner made (its
    `planned_record`), to find a scene of `current` renumbered in `other` (`_followed`:
    goals added or removed above it) under its id there. None when nothing was recorded."""
    edits = hand_edits(planned, current)
    if edits is None:
        return None
    theirs = {sc.id: sc.model_dump(mode="json") for sc in other.scenes}
    mine = {sc.id: sc.model_dump(mode="json") for sc in current.scenes}
    read, made = _planned(planned), _planned(theirs_planned)
    follow = {} if read is None or made is None else _followed(read[1], made[1])
    out = []
    for sid, what in edits:
        tid = follow.get(sid, sid)
        if not sid:
            common = [i for i in mine if i in theirs]
            same = (
                getattr(other, what) == getattr(current, what)
                if what in PLAN_FIELDS
                else common == [i for i in theirs if i in mine]
            )
        elif what == "deleted":
            same = tid not in theirs
        elif what == "added":
            same = theirs.get(sid) == mine[sid]
        elif what == "goal" and tid != sid:
            same = False  # (its goal's number there is another)
        else:
            same = tid in theirs and theirs[tid].get(what) == mine[sid].get(what)
        if not same:
            out.append(f"{sid} {what}" if sid else what)
    return out


def some_named(items: list[str]) -> str:
    """The first `EDITS_NAMED` of `items`, then "and N more"."""
    shown = ", ".join(items[:EDITS_NAMED])
    rest = len(items) - EDITS_NAMED
    return f"{shown} and {rest} more" if rest > 0 else shown


#: run.db meta key: the keyframes the last render made or reused (current then), with
#: the plan.yaml fields each was made from (written and read by storyboard.py)
KEYFRAMES_META = "storyboard_keyframes"


def keyframe_edits(raw: str | None, plan: Plan) -> dict[str, list[str]]:
    """Per scene, the fields (and "style") that differ from those its keyframe was made
    from, as the `KEYFRAMES_META` record ``raw`` holds them: after `render --until
    keyframes` no clip recorded its scene (`edited_fields`), and `status` said only "its
    inputs changed" for an edited image prompt."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    out: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        return out
    for sc in plan.scenes:
        entry = data.get(sc.id)
        inputs = entry.get("inputs") if isinstance(entry, dict) else None
        if not isinstance(inputs, dict):
            continue
        now = sc.model_dump(mode="json")
        changed = [
            f for f, v in inputs.items() if (plan.style if f == "style" else now.get(f)) != v
        ]
        if changed:
            out[sc.id] = changed
    return out


#: a planned scene id's number within its goal: 01-health-2 is the goal's 2nd scene
_SCENE_NUMBER = re.compile(r"-(\d+)$")


def source_photo(goal_photos: list[Path], scenes: list[Scene], scene: Scene) -> Path | None:
    """The goal's own photo a scene is made from (local keyframes) or that an edit model
    restyles; None when the scene references none of the goal's photos.

    The goal's n-th scene (the number in the id the planners give it, e.g. 01-health-2;
    else its place among the goal's scenes) takes the n-th of the goal's photos it
    references, in goals.yaml's order, wrapping around. So scenes reordered or deleted in
    plan.yaml keep their photos (no keyframe made, or paid for, again), and the order a
    planner lists references in does not matter: Claude's puts the scene's own photo
    first, which the rotation by place (`source_photo_by_place`) turned back, so with two
    photos both scenes were made from the first.
    """
    refs = set(scene.reference_photos)
    mine = [str(p) for p in goal_photos if str(p) in refs]
    if not mine:
        return None
    m = _SCENE_NUMBER.search(scene.id)
    if m and int(m[1]) > 0:
        idx = int(m[1]) - 1
    else:
        siblings = [s.id for s in scenes if s.goal == scene.goal]
        idx = siblings.index(scene.id) if scene.id in siblings else 0
    return Path(mine[idx % len(mine)])


def source_photo_by_place(
    goal_photos: list[Path], scenes: list[Scene], scene: Scene
) -> Path | None:
    """`source_photo` before 2026-12: the scene's references in its own order, rotated by
    its place among the goal's scenes. Keyframes made by it are still reused."""
    own = {str(p) for p in goal_photos}
    refs = [r for r in scene.reference_photos if r in own]
    if not refs:
        return None
    siblings = [s.id for s in scenes if s.goal == scene.goal]
    idx = siblings.index(scene.id) if scene.id in siblings else 0
    return Path(refs[idx % len(refs)])


def rebase_paths(
    plan: Plan,
    files: Iterable[Path],
    base: Path,
    goals_name: str | None = None,
    renamed: Iterable[tuple[str, Path]] = (),
) -> Plan:
    """The plan with each photo or music path that no longer exists pointed at the file
    of `files` (goals.yaml's photos and music, absolute) with the same path relative to
    `base` (goals.yaml's folder).

    plan.yaml holds absolute paths; after the project folder is moved (or opened on
    another machine) they name nothing, and the render would paint the scenes made from
    the person's photos (an edit model: pay again with a text model). The files' bytes
    are in the keys, so the moved photos reuse every finished step. In memory only:
    plan.yaml is the person's file.

    A copied project folder (the old one still there) names files that exist, but in the
    old folder: a path that is not one of `files` and lies in a folder holding a
    `goals_name` file (the old goals.yaml), at the place of one of `files` relative to
    `base`, is pointed at that file too. Also a place above `base` (`../photos/me.jpg`,
    goals.yaml in a subfolder of the project): the old copy's photos, still there, were
    kept, and the copy's scenes made from them (its own photo replaced: the old one in
    its movie) or, with an edit model, bought again from text as photo-less scenes.

    `renamed`: (a photo's path relative to `base` when the plan was written, the file now
    at its place in goals.yaml), for the places whose name changed since: a photo renamed
    or moved into a subfolder, goals.yaml updated to it. Its old path is followed by the
    same rules to the new file (`goals.plan_fingerprint_by_place`: the same plan)."""
    files = list(files)
    current = {str(f) for f in files}
    known: dict[tuple[str, ...], set[str]] = {}
    #: (the place's folders up from `base`, its path from there) -> the file there now
    inside: dict[tuple[int, tuple[str, ...]], str] = {}

    def placed(rel: tuple[str, ...]) -> tuple[int, tuple[str, ...]] | None:
        """`rel` as (leading '..' count, the rest), when the rest holds none and the
        climb stays within `base`'s own folders; else None (not followed)."""
        up = len(rel) - len(tuple(itertools.dropwhile(lambda x: x == "..", rel)))
        tail = rel[up:]
        if not tail or ".." in tail or up >= len(base.parts):
            return None
        return up, tail

    for f in files:
        rel = Path(os.path.relpath(f, base)).parts
        # '../x/me.jpg' and 'x/me.jpg' end the same: both kept, so neither is guessed
        known.setdefault(tuple(x for x in rel if x != ".."), set()).add(str(f))
        if (at := placed(rel)) is not None:
            inside[at] = str(f)
    # a renamed place's old name means the photo now there, even where another place
    # holds that name now (photos swapped): over what `files` alone would say
    by_rel = {Path(os.path.relpath(f, base)).parts: str(f) for f in files}
    moved: dict[tuple[str, ...], set[str]] = {}
    for was, f in renamed:
        moved.setdefault(Path(was).parts, set()).add(str(f))
    to_place: dict[str, str] = {}
    for old_rel, news in moved.items():
        known[tuple(x for x in old_rel if x != "..")] = news  # more than one: not guessed
        if len(news) == 1:
            (new,) = news
            if not Path(*old_rel).is_absolute() and (at := placed(old_rel)) is not None:
                inside[at] = new
            if old_rel in by_rel:
                to_place[by_rel[old_rel]] = new
            elif Path(*old_rel).is_absolute():
                # a photo outside goals.yaml's folder (recorded by its own path) given
                # another at its place: followed though the old file is still there. Only
                # a file gone was followed, and the scene kept the old photo, no longer
                # among its goal's, and was painted offline (or bought from text)
                to_place.setdefault(str(Path(*old_rel)), new)

    def in_old_copy(path: Path) -> str | None:
        if goals_name is None:
            return None
        parts = path.parts
        hits = {
            f
            for (up, rel), f in inside.items()
            if len(parts) > len(rel)
            and parts[-len(rel) :] == rel
            # the old copy's goals.yaml: as far below the place's folder as ours is
            and (
                Path(*parts[: -len(rel)]).joinpath(*base.parts[len(base.parts) - up :]) / goals_name
            ).is_file()
        }
        return hits.pop() if len(hits) == 1 else None

    def fix(old: str) -> str:
        if old in to_place:
            return to_place[old]
        path = expanded(old)
        if not path.is_absolute() or old in current:
            return old
        try:
            exists = path.exists()
        except OSError:  # a name too long for the system: names nothing, as check_plan says
            return old
        if exists:
            return in_old_copy(path) or old
        parts = path.parts
        hits = {f for rel, new in known.items() if rel and parts[-len(rel) :] == rel for f in new}
        return hits.pop() if len(hits) == 1 else old

    scenes = [
        sc.model_copy(update={"reference_photos": [fix(r) for r in sc.reference_photos]})
        for sc in plan.scenes
    ]
    music = fix(plan.music) if plan.music else plan.music
    return plan.model_copy(update={"scenes": scenes, "music": music})
