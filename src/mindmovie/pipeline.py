"""The orchestrator: plan -> keyframes -> clips -> compose, journaled step by step.

Each scene flows on its own (its clip starts as soon as its keyframe exists), bounded per
provider. Every step has an input key (a hash of everything that decides its output); a
step is skipped when the store holds a succeeded row with the same key and an intact
artifact, which is what makes resume, edits and kills cheap and safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import fcntl
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import sqlite3
import stat
import threading
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field, replace
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast

from mindmovie import catalog, costs
from mindmovie.budget import BudgetExceeded, BudgetGate
from mindmovie.catalog import ModelSpec, references_sent
from mindmovie.catalog import resolve as catalog_resolve
from mindmovie.catalog import snap_seconds as catalog_snap
from mindmovie.config import (
    ConfigError,
    Keys,
    OutputSettings,
    Settings,
    hide_url_secrets,
    recorded_settings,
)
from mindmovie.fsutil import (
    CWD_GONE,
    HeldFolder,
    atomic_write_bytes,
    atomic_write_text,
    cwd_gone,
    expanded,
    file_stamp,
    folder_id,
    folder_name,
    folder_names_before,
    make_dirs,
    path_of_record,
    path_record,
    sha256_file,
    special_kind,
    temp_folder_problem,
    tmp_path_for,
)
from mindmovie.goals import (
    Goals,
    cover_kept,
    goals_sha256,
    load_goals,
    photo_colours_tagged,
    photo_fit_never_changed,
    photo_has_transparency,
    photo_look,
    photo_pixels,
    photo_places,
    plan_fingerprint,
    plan_fingerprint_by_place,
    plan_fingerprint_v1,
    plan_parts,
    plan_photos,
    presentation,
)
from mindmovie.killpoints import killpoint
from mindmovie.plan import (
    COMPOSED_PLAN_META,
    KEYFRAME_FIELDS,
    PAINT_UNUSED_FIELDS,
    PHOTO_UNUSED_FIELDS,
    PLANNED_META,
    RENDERED_PLAN_META,
    Plan,
    PlanError,
    Scene,
    carry_edits,
    check_plan,
    composed_plan,
    edits_not_in,
    hand_edits,
    load_plan,
    plan_not_a_file,
    plan_notes,
    planned_fields,
    planned_record,
    rebase_paths,
    rendered_scene,
    some_named,
    update_plan_fields,
    with_shown,
    write_plan,
)
from mindmovie.progress import NullReporter, Reporter
from mindmovie.providers import registry
from mindmovie.providers.base import (
    AnswerLost,
    AuthError,
    ConnectionLost,
    ContentRejected,
    DeadlineExceeded,
    EncoderEnded,
    ImageResult,
    InvalidRequest,
    JobFailed,
    JobNotFound,
    JobState,
    KeyframeModel,
    KeyframeRequest,
    Planner,
    PlanOptions,
    ProviderChanged,
    ProviderError,
    RefetchesResults,
    ResultGone,
    Transient,
    VideoModel,
    VideoRequest,
    http_setup_problem,
    is_local_job,
    on_result_answered,
    prompt_for_aspect,
    raised_in,
)
from mindmovie.retry import (
    RATE_LIMIT_PATIENCE,
    RateLimits,
    hours_minutes,
    rate_limits,
    with_retry,
)
from mindmovie.status import settings_changes
from mindmovie.store import (
    CARRY_MARKED_META,
    JOB_CREATED_USAGE,
    KEPT_DIR,
    ORIGIN_SALT_META,
    RECEIPTS_DIR,
    Step,
    Store,
    StoreError,
    _snapshot,
    check_journal_link,
    journal_missing,
    link_loop,
)
from mindmovie.yamlsrc import given_text, plural

if TYPE_CHECKING:
    from mindmovie.compose.timeline import OutputSpec

Until = Literal["plan", "keyframes", "clips", "movie"]
#: the stages whose provider a render may call (`Pipeline._providers_needed`)
_Stage = Literal["planner", "keyframes", "video"]
_STAGES: tuple[_Stage, ...] = ("planner", "keyframes", "video")
T = TypeVar("T")
#: a paid call's (ledger row, billed usd, usage), settled together with its step's success
Bill = tuple[int, float, dict[str, Any] | None]

#: bump when a stage's output would change for the same inputs (e.g. a renderer fix)
STAGE_VERSION = {"plan": 1, "keyframe": 1, "clip": 1, "movie": 1}

#: a goal photo the offline keyframe enlarges more than this to cover the frame (its
#: covered width or height under half the frame's) is warned about: at 2x a 640x360
#: photo in a 1280x720 frame is soft but fair (SD shown on HD); past it each pixel of
#: the photo is a visible blur of 2x2 or more. It is still used: it is the person's
SMALL_PHOTO_UPSCALE = 2.0

#: a goal photo whose centred cover-crop to the frame keeps less than this share of its
#: area (`goals.cover_kept`) is warned about. 0.6 lets through the everyday near misses,
#: which keep 75% or more and lose at most an eighth at each cut edge: a 4:3 or 3:2
#: landscape photo in 16:9, a 3:4 portrait one in 9:16, either in 1:1. Under 60% more
#: than a fifth goes at each cut edge, where heads and horizons are: a 3:4 portrait
#: photo in 16:9 keeps 42%, a 16:9 one in 9:16 32%, a square one in 16:9 56%, a 10:1
#: panorama 18%. Still used as it is: the person may have framed it for just that
CROP_KEPT_MIN = 0.6

#: how `local_media.fit_photo` fits a photo to the frame (cover-crop, centred, LANCZOS,
#: EXIF orientation, ICC to sRGB): in a photo keyframe's key (transparent parts or not);
#: change it with the fit. -2: palette, tRNS, grey+alpha and 16-bit grey photos are
#: converted by their ICC profile too (they kept their numbers)
PHOTO_FIT = "cover-centre-lanczos-srgb-2"
#: the fit in the key of a photo whose colours a tag other than an ICC profile names
#: (`goals.photo_colours_tagged`): since 2026-12-06 an AVIF tagged Display P3, BT.2020 or
#: HDR by its `nclx` box and a camera's Adobe RGB JPEG said so by its EXIF are converted
#: (`pillow.tagged_colours`). Only theirs: every other photo's pixels are as they were,
#: and a new key for each (this fit was first made PHOTO_FIT) made the estimate price
#: every paid clip animating a local photo keyframe as one to buy again
PHOTO_FIT_TAGGED = "cover-centre-lanczos-srgb-3"


def photo_fit(photo: Path | None) -> str:
    """The fit in the key of a local keyframe made from `photo` (`PHOTO_FIT`, or
    `PHOTO_FIT_TAGGED` for a photo whose tagged colours the fit converts)."""
    return PHOTO_FIT_TAGGED if photo is not None and photo_colours_tagged(photo) else PHOTO_FIT


class RunLocked(Exception):
    """Another mindmovie process holds this run directory."""


class RunDirError(Exception):
    """The run directory (--out) cannot be used: a file, not creatable, or someone's folder."""


#: the run journal's files: run.db and SQLite's beside it
JOURNAL_FILES = ("run.db", "run.db-wal", "run.db-shm", "run.db-journal")
#: what a run writes in its folder; --fresh moves exactly these (and temp files) aside
RUN_ENTRIES = frozenset(
    {*JOURNAL_FILES, "plan.yaml", "plan.previous.yaml",
     "scenes", "kept", "compose", "movie.mp4", "storyboard.png", "storyboard.html"}
)  # fmt: skip


def _readable_file(path: Path) -> bool:
    """A file whose bytes can be read: not a folder (a render's look at what it reuses
    hashed one, a traceback before `check_plan` could say so), a pipe or a file this user
    may not open."""
    try:
        if not path.is_file():
            return False
        with path.open("rb"):
            return True
    except OSError:
        return False


def _shown_unknown(detail: str | None, *, missing: bool = False) -> bool:
    """Does the plan step's basis say its shown fields are unknown (`"shown": null`: a
    kept plan put back)? With `missing`, also true when the basis has no such entry."""
    try:
        was = json.loads(detail or "null")
    except ValueError:
        return missing
    if not isinstance(was, dict) or "shown" not in was:
        return missing
    return was["shown"] is None


def _basis_field(detail: str | None, name: str) -> Any:
    """Field `name` of a plan step's recorded basis (`Pipeline._plan_basis`), or None."""
    try:
        was = json.loads(detail or "null")
    except ValueError:
        return None
    return was.get(name) if isinstance(was, dict) else None


def _photo_places(value: Any) -> bool:
    """Is `value` the photos by place a basis records (`plan.plan_photos`)?"""
    return isinstance(value, list) and all(
        isinstance(slot, list) and all(isinstance(p, str) for p in slot) for slot in value
    )


def _recorded_shown(detail: str | None) -> dict[str, Any] | None:
    """The shown fields (title, closing, music) a plan step's basis recorded, if any."""
    try:
        was = json.loads(detail or "null")
    except ValueError:
        return None
    shown = was.get("shown") if isinstance(was, dict) else None
    return shown if isinstance(shown, dict) else None


def _noted_set_aside_jobs(noted: str | None) -> set[str]:
    """The job ids a run.db's SET_ASIDE_JOBS_META holds (none when unset or unreadable)."""
    try:
        ids = json.loads(noted) if noted else []
    except ValueError:
        return set()
    return {str(i) for i in ids} if isinstance(ids, list) else set()


def _journaled_jobs(db: Path) -> set[str]:
    """Every job id `db` knows: its steps' and ledger rows', and those of the runs it set
    aside (`SET_ASIDE_JOBS_META`), so they stay known once previous/ is deleted. Read
    from a snapshot: nothing is written there. Raises sqlite3.Error, OSError."""
    con = _snapshot(db)
    try:
        ids: set[str] = set()
        for table in ("ledger", "steps"):
            ids |= {
                str(r[0])
                for r in con.execute(f"SELECT remote_id FROM {table} WHERE remote_id IS NOT NULL")
            }
        with contextlib.suppress(sqlite3.Error):
            row = con.execute(
                "SELECT value FROM meta WHERE key=?", (SET_ASIDE_JOBS_META,)
            ).fetchone()
            ids |= _noted_set_aside_jobs(row[0] if row else None)
        return ids
    finally:
        con.close()


def _keep_previous_plan(plan_path: Path) -> Path:
    """Copy plan.yaml to plan.previous.yaml before planning again, first moving an older
    different copy to plan.previous.N.yaml: hand edits are never overwritten. One that a
    plan.previous.N.yaml already holds byte for byte is not kept twice: an edit undone and
    done again (a goal added, removed, added) put one more copy of the same two plans
    there at every render."""
    backup = plan_path.with_name("plan.previous.yaml")
    if backup.exists() and (held := backup.read_bytes()) != plan_path.read_bytes():
        n = 1
        while (older := plan_path.with_name(f"plan.previous.{n}.yaml")).exists():
            if older.is_file() and older.read_bytes() == held:
                break
            n += 1
        else:
            os.replace(backup, older)
    shutil.copyfile(plan_path, backup)
    return backup


def _plan_unreadable(plan_path: Path) -> str | None:
    """Why plan.yaml cannot be read (its `PlanError`, file and line), None when it can."""
    try:
        load_plan(plan_path)
    except PlanError as e:
        return str(e)
    return None


def _rekey_plan(store: Store, old: str, key: str) -> None:
    """Record the plan step under `key` (the current formula, same inputs), and what its
    planner made (`PLANNED_META`) with it."""
    store.rekey("_run", "plan", key)
    planned = store.get_meta(PLANNED_META + old)
    if planned is not None and old != key:
        store.set_meta(PLANNED_META + key, planned)


#: run.db meta: {"key", "sha256"} of the last plan step that succeeded, written as a new
#: plan begins (which overwrites the step): a new plan that failed or was cut short left
#: plan.yaml as that plan, whose hand edits the next one carries (`_edits_before`)
PLAN_BEFORE_META = "plan_before"


#: `_edit_names` of a plan.yaml whose planner's values were not recorded (made before
#: `PLANNED_META`) but whose bytes are not the ones it wrote
UNKNOWN_EDITS = "?"


def _edit_names(edits: tuple[str | None, Plan]) -> list[str]:
    """The hand edits of `edits` (see `Pipeline._edits_before`) as `carry_edits` names
    them; [UNKNOWN_EDITS] when what the planner made was not recorded."""
    found = hand_edits(*edits)
    if found is None:
        return [UNKNOWN_EDITS]
    return [f"{sid} {what}" if sid else what for sid, what in found]


#: the compositor cache's folders (under compose/) and the files in each it prunes
_CACHE_FILES = (("segments", "*.mp4"), ("cards", "*.rgb"), ("overlays", "*.box.rgba"),
                ("audio", "*.m4a"), ("audio", "*.wav"))  # fmt: skip


def _prune_compose_cache(work_dir: Path, keep: set[Path]) -> None:
    """Remove the compositor's cached files the finished movie does not use (segments,
    cards, overlays, audio tracks: free to make again), so a run edited many times does
    not pile up every earlier version of them. A hidden temp file is left to
    `_clean_temp_files`."""
    keep = {p.resolve() for p in keep}
    for folder, pattern in _CACHE_FILES:
        if not (work_dir / folder).is_dir():
            continue
        for f in (work_dir / folder).glob(pattern):
            if not f.name.startswith(".") and f.resolve() not in keep:
                f.unlink(missing_ok=True)


#: the files a run set aside shares with the run when their bytes are the same
#: (`_share_unchanged`): its pictures, clips and movie, never a text a person edits
_SHARED_SUFFIXES = (".png", ".mp4")


def _free_files(aside: Path) -> set[Path] | None:
    """The pictures and clips (paths relative to `aside`) that the run set aside there
    made without a paid call, as its run.db says; None when it has no run.db or that
    cannot be read (files moved there unjournaled, or changed by hand: not known)."""
    db = aside / "run.db"
    if not db.is_file():
        return None
    try:
        store = Store(db, read_only=True)
    except (StoreError, sqlite3.Error, OSError):
        return None
    try:
        return {Path(st.artifact) for st in store.steps() if st.artifact and not store.was_paid(st)}
    except (StoreError, sqlite3.Error):
        return None
    finally:
        store.close()


def _share_unchanged(run_dir: Path) -> None:
    """Make each picture or clip in previous/<time>/ (a run `--fresh` set aside) whose
    bytes the run has again at the same place one file with it (a hard link): an offline
    `--fresh` makes the very same keyframes, clips and movie, and an offline clip made
    again after an edit undone (nothing free is kept) is the same file too, and previous/
    kept a second copy of each, a whole run's size more at every --fresh. The run writes
    by renaming a new file into place, never into the old one, but a person may write
    in place (`cp`, an editor saving over it), which changes every name of the file: so
    only what the set-aside run made free is linked (`_free_files`; its movie and
    storyboard are). Its paid keyframes and clips and kept/ (paid ones only) keep their
    own copy, as does all of a folder with no readable run.db (files a render could not
    vouch for, or changed by hand): a provider can make the same bytes again, and the
    set-aside run's paid keyframe, changed with the run's, was bought again when that
    run was rendered. Where no link can be made (another disk, no hard links) the copy
    stays. Only files of the same size are read, once: linked, they are one file."""
    try:
        asides = [d for d in (run_dir / "previous").iterdir() if d.is_dir()]
    except OSError:  # none (or previous/ is no folder: a render refuses that elsewhere)
        return
    free: dict[Path, set[Path] | None] = {}  # read when a file there is first found alike
    for aside, old in ((d, f) for d in asides for f in d.rglob("*")):
        if old.suffix not in _SHARED_SUFFIXES or old.name.startswith("."):
            continue
        rel = old.relative_to(aside)
        new = run_dir / rel
        try:
            was, now = old.lstat(), new.lstat()
            if not (stat.S_ISREG(was.st_mode) and stat.S_ISREG(now.st_mode)):
                continue
            if was.st_ino == now.st_ino or was.st_size != now.st_size:
                continue
            if aside not in free:
                free[aside] = _free_files(aside)
            made_free = free[aside]
            if made_free is None:
                continue  # which were paid is not known: each keeps its own copy
            if rel.parts[0] in ("scenes", KEPT_DIR) and rel not in made_free:
                continue  # paid: its own copy
            if was.st_dev != now.st_dev or sha256_file(old) != sha256_file(new):
                continue
            tmp = tmp_path_for(old)
            tmp.unlink(missing_ok=True)
            os.link(new, tmp)
            os.replace(tmp, old)
        except OSError:
            continue


def _drop_damaged_segments(store: Store) -> None:
    """Remove cached segment files whose bytes are not the ones recorded (damaged since):
    the renderer reuses a segment file by its content key alone, so a damaged one would
    be joined into the movie as it is; removed, it is encoded again."""
    for step in store.steps("segment"):
        if step.status == "succeeded" and store.artifact_problem(step) == "changed":
            path = store.artifact_path(step)
            if path is not None:
                path.unlink(missing_ok=True)


def _db_signature(db: Path) -> tuple[object, ...]:
    """What changes whenever a transaction is written to `db` (SQLite): each of run.db and
    its -wal, their inode, size and time changed, and the headers SQLite changes on every
    write the size may not show: run.db's change counter (rollback journal: a page
    rewritten in place), the -wal's salts (a WAL begun again from its start after a
    checkpoint). In WAL mode a commit appends to the -wal (its size grows)."""
    sig: list[object] = []
    for path, head in ((db, 100), (db.with_name(db.name + "-wal"), 32)):
        try:
            with path.open("rb") as f:
                st = os.fstat(f.fileno())
                sig += [st.st_ino, st.st_size, st.st_mtime_ns, f.read(head)]
        except FileNotFoundError:
            sig.append(None)
    return tuple(sig)


def _run_entry(name: str) -> bool:
    """Something a run wrote in its folder: what --fresh sets aside."""
    return (
        name in RUN_ENTRIES
        or name.startswith("plan.previous.")
        or (name.startswith(".") and ".tmp" in name)  # temp files
    )


#: the hidden files a file manager or the system leaves in any folder it shows (macOS's
#: .DS_Store, its AppleDouble `._name` files and a volume's own, KDE's .directory): a
#: folder holding only these is still a new one
SYSTEM_DOTFILES = frozenset(
    {".DS_Store", ".localized", ".directory", ".Spotlight-V100", ".Trashes", ".fseventsd",
     ".TemporaryItems", ".apdisk", ".VolumeIcon.icns", ".hidden"}
)  # fmt: skip

#: hidden names that the system (an open file removed on NFS, or on a FUSE mount) or a
#: run itself (doctor's probe of the folder) makes
_SYSTEM_DOT_PREFIXES = ("._", ".nfs", ".fuse_hidden", ".doctor-")


def _run_owned(name: str) -> bool:
    """An entry a run folder may hold without being someone else's folder. Not every
    hidden name, as it was: `--out ~` in a home holding only dot-files (.bashrc,
    .profile) was taken for an empty folder, and the run's files were written into it."""
    return (
        _run_entry(name)
        or name in (".lock", "previous", "Thumbs.db", "desktop.ini")
        or name in SYSTEM_DOTFILES
        or name.startswith(_SYSTEM_DOT_PREFIXES)
        or name.startswith("run.db.")  # a damaged run.db moved aside as its message says
    )


def _prepare_run_dir(run_dir: Path, given: bool = True) -> None:
    """Create the run folder, refusing one that is not a run's own. `given`: the person
    named it with --out (else it is output_dir/<slug of the title>, and is called so).

    A run cleans temp-file patterns through its whole folder and `--fresh` moves its
    entries aside, so a folder holding other files (e.g. `--out .` where goals.yaml and
    the photos are) must not become one.
    """
    what = _usable_run_dir(run_dir, given)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        hint = ""
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            # (goals.yaml on a read-only card or share, rendered from its folder: the
            # default outputs/ is the working folder's, and nothing said where else)
            hint = "; give a folder this user can write with --out"
            hint += "" if given else " (or set output_dir)"
        raise RunDirError(
            f"{what}: cannot create the folder: {_why_not_made(run_dir, e)}{hint}"
        ) from None


def _missing_folders(run_dir: Path) -> list[Path]:
    """`run_dir` and those of its parents that do not exist, nearest first: the folders
    `_prepare_run_dir` is about to make (removed again by a render that made nothing)."""
    missing: list[Path] = []
    for p in (run_dir, *run_dir.absolute().parents):
        if os.path.lexists(p):
            break
        missing.append(p)
    return missing


def _open_folder(path: Path) -> int | None:
    """The run folder opened, to write into it wherever it is moved during the render
    (`Store.keep_result_at`); None where a folder cannot be opened so (Windows)."""
    if os.open not in os.supports_dir_fd:
        return None
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return None


def _why_not_made(run_dir: Path, e: OSError) -> str:
    """Why `run_dir` could not be made: `_not_creatable`'s words, as "File exists", "Too
    many levels of symbolic links" or "Not a directory" did not say which link or file;
    else the system's words."""
    return _not_creatable(run_dir) or str(e.strerror or e)


def _not_creatable(run_dir: Path) -> str | None:
    """Why `run_dir`, not there, surely cannot be made, found without making anything: a
    symbolic link on its way that leads nowhere (to a folder gone, or back to itself; a
    mkdir never follows one), named with where it leads, or a file where a folder on its
    way would be. None when neither is (the mkdir may still fail: a read-only disk, a
    folder this user cannot write, known only by trying). Said by render when its mkdir
    failed (`_why_not_made`) and by `estimate` before pricing (`_check_creatable`), in
    the same words."""
    for p in (run_dir, *run_dir.parents):
        try:
            if p.is_symlink() and not p.exists():
                return f"{p} is a link to {os.readlink(p)}, which is missing or leads back to it"
            if p != run_dir and p.exists() and not p.is_dir():
                return f"{p} is a file, not a folder"
        except OSError:
            break
    return None


def _not_same_path(a: Path, b: Path) -> bool:
    """Are `a` and `b` not one folder (as resolved, or as the same file when both are
    there)?"""
    try:
        if a.exists() and b.exists():
            return not os.path.samefile(a, b)
        return a.resolve() != b.resolve()
    except OSError:
        return True


async def _within_a_second(gone: Callable[[], bool]) -> bool:
    """Does `gone()` come true within a second (looked at every 50 ms)? `rm -rf` of the
    run folder takes its files first and the folder a moment later."""
    for _ in range(int(1.0 / 0.05)):
        if gone():
            return True
        await asyncio.sleep(0.05)
    return gone()


def _usable_run_dir(run_dir: Path, given: bool) -> str:
    """Refuse a run folder `render` cannot use (a file, someone else's folder) without
    creating anything; return how messages name it."""
    what = f"--out {run_dir}" if given else f"run folder {run_dir} (output_dir/<title>)"
    try:
        _check_run_dir(run_dir, what)
    except OSError as e:
        # a name longer than the filesystem allows (255 bytes: ~127 accented letters),
        # a folder this user cannot list: Path.exists()/iterdir() raise these
        raise RunDirError(f"{what}: cannot use the folder: {e.strerror or e}") from None
    return what


def _check_creatable(run_dir: Path, what: str) -> None:
    """Refuse, creating nothing, a run folder that render surely cannot make
    (`_not_creatable`: a file where one of its parent folders would be, `--out
    afile/run`; a link to nothing as the folder or on its way, `outputs/<title> ->
    /mnt/gone`), with render's own line for it: estimate priced a render that stopped at
    once (exit 2). What only a mkdir can tell (a read-only disk) is left to render."""
    if why := _not_creatable(run_dir):
        raise RunDirError(f"{what}: cannot create the folder: {why}")


def _not_a_folder(path: Path, holds: str) -> str | None:
    """Why `path`, where the render keeps a folder that `holds` these files, cannot be
    one (a file, or a link leading nowhere: the render's mkdir said only "[Errno 17] File
    exists" or "Not a directory", and the scene failed); None when it is a folder or not
    there yet."""
    try:
        if path.is_symlink() and not path.exists():
            return (
                f"{path}: is a link to {os.readlink(path)}, which is missing or leads back "
                f"to it, where the folder for {holds} belongs. It was not changed: remove "
                "the link (or point it at a folder) and render again"
            )
        if path.exists() and not path.is_dir():
            # a named pipe there was "a file" too
            kind = special_kind(path) or "a file"
            return (
                f"{path}: is {kind}, not the folder for {holds}. It was not changed: move "
                f"it away (e.g. to {path.name}.bad beside it) and render again"
            )
    except OSError:
        return None  # a name too long and the like: the render says what it can
    return None


def folder_where_file_goes(path: Path, what: str, again: str = "render again") -> str | None:
    """Why `path`, where the render writes `what` (a file, put in place by a rename),
    cannot take it: a folder there (not a link to one: the rename replaces a link) made
    the rename fail with raw "[Errno 21] Is a directory" text, after the work was done.
    None when it can. `again`: what to do once it is moved away."""
    try:
        if path.is_dir() and not path.is_symlink():
            return (
                f"{path}: is a folder, not {what} (a file). It was not changed: move it "
                f"away (e.g. to {path.name}.bad beside it) and {again}"
            )
    except OSError:
        return None  # a name too long and the like: the render says what it can
    return None


#: the folders a render makes in a run folder besides scenes/, with what each holds:
#: one replaced by a file or a link to nothing was a FileExistsError (or "Not a
#: directory") traceback at the compose, after every clip was made, or raw Errno text
#: when a paid artifact was kept (previous/: a traceback from `render --fresh`)
WORK_FOLDERS = {
    "kept": "the paid keyframes and clips kept for going back to",
    "previous": "the earlier runs set aside (render --fresh)",
    "compose": "the movie's work files",
    "compose/segments": "the movie's finished pieces",
    "compose/cards": "the movie's text cards",
    "compose/overlays": "the movie's text overlays",
    "compose/audio": "the movie's sound",
}


#: the compose cache folders (of `WORK_FOLDERS`): only files that mindmovie makes again
#: when they are missing
CACHE_FOLDERS = ("compose/segments", "compose/cards", "compose/overlays", "compose/audio")


def _folder_in_cache(run_dir: Path) -> str | None:
    """Why a folder inside a compose cache folder stops the render: one where a cached
    file goes (or any *.mp4 one in segments/, which the render prunes) was an
    IsADirectoryError traceback at the compose, or once the movie was made. None when
    there is none."""
    for name in CACHE_FOLDERS:
        folder = run_dir / name
        try:
            found = next(
                (
                    p
                    for p in sorted(folder.iterdir())
                    # a compose chunk's working folder a kill left: the render removes it
                    if not p.name.startswith(".chunk-") and p.is_dir() and not p.is_symlink()
                ),
                None,
            )
        except OSError:  # not there (yet), or not a folder: `_check_run_dir` says so
            continue
        if found is not None:
            return (
                f"{found}: is a folder inside {name}/, the folder for {WORK_FOLDERS[name]}, "
                "which holds only files mindmovie makes again when they are missing. It "
                "was not changed: move it out of there and render again"
            )
    return None


def _another_runs_folder(path: Path, run_dir: Path) -> str | None:
    """Why `path` (scenes/ or scenes/<id>), a symbolic link into another run folder (one
    holding a run.db), cannot be this run's: a render here wrote its keyframes and clips
    over that run's, whose next render took them for changed, moved them aside and made
    them again (paid again). A link to a folder in no run (another disk) is used."""
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            return None
        dest = path.resolve(strict=True)
        own = run_dir.resolve(strict=True)
        if dest == own or own in dest.parents:
            return None
        other = next((p for p in dest.parents if (p / "run.db").is_file()), None)
    except (OSError, RuntimeError):
        return None  # not there, a loop, nothing at its end: `_not_a_folder` says so
    if other is None:
        return None
    return (
        f"{path} is a symbolic link to {dest}, in another run folder ({other}): a render "
        "here would write over that run's keyframes and clips, and its next render would "
        "make them again. It was not changed: remove the link (this run then makes its "
        f"own), or render that run with --out {other}"
    )


#: what a clip refused whole (`refused_whole`) says after its refusal's words
_REFUSED_BEFORE = " (at an earlier render; the same requests are not sent again)"


def _refused_whole_step(
    store: Store, scene_id: str, stage: str, variants: Sequence[tuple[str, str, Any]]
) -> Step | None:
    """The step refused whole (`refused_whole`) whose requests the scene's `stage` asks:
    the scene's own, else another scene's asking the very same (a scene copied in
    plan.yaml, which takes its turn after it, `_one_buyer`, and sent both requests
    again, each refused: the review found it); None when there is none."""
    own = store.get(scene_id, stage)
    if refused_whole(store, own, variants):
        return own
    last = variants[-1][1] if variants else None
    if last is None or not store.marked_fallback(last):
        return None  # (never asked as a fallback: no step refused it; no scan of the journal)
    return next(
        (
            st
            for st in store.steps()
            if st.stage == stage
            and st.scene_id != scene_id
            and st.input_key == last
            and refused_whole(store, st, variants)
        ),
        None,
    )


def _plan_hand_edited(run: Path) -> list[str]:
    """The person's edits of the plan.yaml of the run in `run` since its planner made it
    (`hand_edits` against the plan's `PLANNED_META` record, named as `carry_edits` names
    them; ["plan.yaml"] where nothing was recorded and the file differs from the one its
    render wrote); [] when none, or when it cannot be told. Not the hash alone: a kept
    plan put back, given goals.yaml's new title, differs from its recorded hash with no
    hand edit (the review found). No run.db there: none is made, the run kept as it was."""
    if not (run / "run.db").is_file() or not (run / "plan.yaml").is_file():
        return []
    try:
        store = Store(run / "run.db", read_only=True)
    except (StoreError, sqlite3.Error, OSError):
        return []
    try:
        step = store.get("_run", "plan")
        if step is None:
            return []
        current = load_plan(run / "plan.yaml", anchor=run.absolute())
        edits = hand_edits(store.get_meta(PLANNED_META + step.input_key), current)
        if edits is None:  # (a plan made before the record)
            same = not step.sha256 or sha256_file(run / "plan.yaml") == step.sha256
            return [] if same else ["plan.yaml"]
        return [f"{sid} {what}" if sid else what for sid, what in edits]
    except (StoreError, sqlite3.Error, OSError, PlanError):
        return []
    finally:
        store.close()


def _said_before(step: Step, provider: str, scene_id: str) -> str:
    """A step refused whole's error (`refused_whole`), said again at a later render with
    `_REFUSED_BEFORE`: the error as journaled is that text at a render before, whose
    "byteplus scene X: " and note were said once more each render. Another scene's
    (a copy's) is said as its."""
    said = step.error or "refused by the content filter"
    while said.endswith(_REFUSED_BEFORE):  # (one a render, in older runs)
        said = said.removesuffix(_REFUSED_BEFORE)
    while said.startswith(head := f"{provider} scene {step.scene_id}: "):
        said = said[len(head) :]
    if step.scene_id != scene_id:
        said = f"the very request of scene {step.scene_id}, {said}"
    return said + _REFUSED_BEFORE


#: the photos `Pipeline._photo_id` hashed while it is set (path -> sha256 read), for
#: `_photos_read`: a context variable, each scene's task its own
_PHOTOS_READ: contextvars.ContextVar[dict[Path, str | None] | None] = contextvars.ContextVar(
    "photos_read", default=None
)


def _photos_read(
    variants: Sequence[tuple[str, str, KeyframeRequest]], read: dict[Path, str | None]
) -> dict[Path, str | None]:
    """Each photo a scene's keyframe requests send, with its sha256 as their keys were
    made from it (`read`: those the keys hashed; a photo sent that no key holds is of
    none of them, and is not looked at again)."""
    sent = {
        photo
        for _, _, req in variants
        for photo in (*req.reference_photos, *([req.source_photo] if req.source_photo else []))
    }
    return {photo: sha for photo, sha in read.items() if photo in sent}


def _sha_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path) if path.is_file() else None
    except OSError:
        return None


#: photos of at most this many bytes in all are hashed on the loop (`_looked_at`)
HASHED_ON_THE_LOOP = 8 << 20


async def _looked_at(read: dict[Path, str | None]) -> str | None:
    """`_photo_moved(read)`, in a thread only when its photos are big (`HASHED_ON_THE_LOOP`:
    ~10 ms of hashing): a thread's await lets the other scenes' tasks run first, and the
    order of a render's requests (which tests that stop it at a request rely on) moved
    for a look of a few milliseconds."""
    size = 0
    for photo in read:
        with contextlib.suppress(OSError):
            size += photo.stat().st_size
    if size <= HASHED_ON_THE_LOOP:
        return _photo_moved(read)
    return await asyncio.to_thread(_photo_moved, read)


def _photo_moved(read: dict[Path, str | None]) -> str | None:
    """Why a keyframe cannot be made now from the photos its key was made from
    (`_photos_read`): one replaced or deleted during the render, after the key was made
    and before the request was sent (the waits for a turn, the budget). The photo put
    there was sent (or fitted offline) under the key of the one read, so a later render
    said "reuse" of a keyframe made from another photo (the concurrent-use audit). None
    when each is as read."""
    for photo, sha in read.items():
        if sha is None:
            continue
        now = _sha_or_none(photo)
        if now != sha:
            how = "went away" if now is None else "changed"
            return (
                f"the photo {photo} {how} during the render, after it was read for this "
                "keyframe: render again, which makes the keyframe from the photo as it is "
                "then; nothing was sent for it"
            )
    return None


def _name_some(ids: list[str]) -> str:
    """`timeline.name_some`: a stop after 36 of 180 scenes named the 144 left, and a plan
    Claude gave too few scenes for the 54 filled in, each in one line (the scale audit)."""
    from mindmovie.compose.timeline import name_some

    return name_some(ids)


def _movie_texts(plan: Plan) -> list[str]:
    """The texts a movie of `plan` shows: its title, each scene's affirmation, its
    closing (`cards.movie_face` draws them in one font)."""
    return [plan.title, *(sc.affirmation for sc in plan.scenes), plan.closing]


#: photos whose crop is told of one line each; more are one line (`_crops_warning`)
CROPS_TOLD_EACH = 3
#: the most letters a warning of letters no font has lists (`_letters`)
LETTERS_SAID = 24


def _letters(chars: str) -> str:
    """The letters a warning says no font has, quoted: the first `LETTERS_SAID`, then how
    many more. A 1,990-letter Chinese affirmation gave one line of 5,840 characters
    listing each (the text audit)."""
    if len(chars) <= LETTERS_SAID:
        return repr(chars)
    return f"{chars[:LETTERS_SAID]!r} and {len(chars) - LETTERS_SAID} other letters"


def _is_picture(path: Path) -> bool:
    """Does `path` hold a picture Pillow reads (its structure checked, `verify`)?"""
    import warnings

    from PIL import UnidentifiedImageError

    from mindmovie.pillow import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.verify()
    except Image.DecompressionBombError:
        return True  # a picture, of more pixels than Pillow opens unasked: the model's to take
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return False
    return True


def refused_whole(
    store: Store, step: Step | None, variants: Sequence[tuple[str, str, Any]]
) -> bool:
    """Was the keyframe or clip `step` last asked for refused by the content filter in
    every way `variants` (`Pipeline._keyframe_variants`, `_clip_variants`: as planned,
    then its one fallback) asks it: its fallback, asked as one (`Store.mark_fallback`,
    after the planned request was refused), refused? Then the same requests are refused
    again: none is sent."""
    return (
        step is not None
        and step.error_kind == "content_rejected"
        and step.status == "failed"
        and len(variants) > 1
        and step.input_key == variants[-1][1]
        and step.input_key != variants[0][1]
        and store.marked_fallback(step.input_key)
        # the fallback of THIS planned request: one reworded (or another scene's) whose
        # softened form is the same was refused unsent, its planned request never asked
        # (the review); one marked before the planned request was recorded: as then
        and store.fallback_of(step.input_key) in (None, variants[0][1])
    )


def check_scene_folders(run_dir: Path, scene_ids: Collection[str]) -> None:
    """Refuse (before any keyframe or clip is paid for, or priced) a run folder whose
    scenes/ or scenes/<scene id> is a file or a link to nothing (each scene's render
    failed at its mkdir with raw Errno text, after the spend question), or whose
    scenes/<scene id>/keyframe.png or clip.mp4 is a folder."""
    scenes = run_dir / "scenes"
    if why := _not_a_folder(scenes, "every scene's keyframe.png and clip.mp4"):
        raise RunDirError(why)
    if why := _another_runs_folder(scenes, run_dir):
        raise RunDirError(why)
    for sid in scene_ids:
        if why := _not_a_folder(scenes / sid, f"scene {sid}'s keyframe.png and clip.mp4"):
            raise RunDirError(why)
        if why := _another_runs_folder(scenes / sid, run_dir):
            raise RunDirError(why)
        # a folder where the keyframe or clip goes: the picture or clip was made (paid
        # for, with a paid model) and then lost at its rename, the scene failed with raw
        # "[Errno 21] Is a directory" text
        for name, what in (("keyframe.png", "keyframe"), ("clip.mp4", "clip")):
            if why := folder_where_file_goes(scenes / sid / name, f"scene {sid}'s {what}"):
                raise RunDirError(why)
        if (scenes / sid).is_dir() and not os.access(scenes / sid, os.W_OK | os.X_OK):
            # (made by another user, with sudo, or mode 555): the scene failed at its
            # keyframe's save with raw "[Errno 13]" text, "render again retries them",
            # its step left running, and a paid picture was lost there
            raise RunDirError(
                f"{scenes / sid}: cannot write in it (scene {sid}'s keyframe.png and "
                "clip.mp4 go there); check its permissions (what a render with sudo made "
                "belongs to root), or render into another folder with --out"
            )


def _check_run_dir(run_dir: Path, what: str) -> None:
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"{what}: is a file, not a folder")
    check_journal_link(run_dir / "run.db")  # "not empty" or "cannot be written" said
    check_scene_folders(run_dir, ())  # scenes/ itself: known before any plan
    for name, holds in WORK_FOLDERS.items():
        if why := _not_a_folder(run_dir / name, holds):
            raise RunDirError(why)
    if why := _folder_in_cache(run_dir):
        raise RunDirError(why)
    # the render copies plan.yaml aside before planning again: an IsADirectoryError
    # traceback, and `status` said "there is no plan.yaml"
    if why := plan_not_a_file(run_dir / "plan.yaml"):
        raise RunDirError(f"{run_dir / 'plan.yaml'}: {why}")
    # planning again copies plan.yaml there, after comparing the two: a folder was an
    # IsADirectoryError traceback, a named pipe a render that waited forever
    previous = run_dir / "plan.previous.yaml"
    if why := plan_not_a_file(previous, "the copy of plan.yaml kept when planning again"):
        raise RunDirError(f"{previous}: {why}")
    # the movie was composed in full, then its rename failed: an IsADirectoryError traceback
    if why := folder_where_file_goes(run_dir / "movie.mp4", "the movie"):
        raise RunDirError(why)
    if run_dir.is_dir() and not (run_dir / "run.db").exists():
        # what a run wrote (a --fresh killed after moving run.db), a system's dotfiles
        # (.DS_Store) and the run's own leftovers do not make it someone else's folder
        other = sorted(p.name for p in run_dir.iterdir() if not _run_owned(p.name))
        if other:
            shown = ", ".join(other[:5]) + (", ..." if len(other) > 5 else "")
            # (a home's dot-files are what is listed, of a folder `ls` shows empty)
            home = "your home folder, " if _is_home(run_dir) else ""
            raise RunDirError(
                f"{what}: {home}not a mindmovie run folder (no run.db) and not empty "
                f"({shown}); give a new or empty folder, e.g. --out {run_dir / 'run'}"
            )


def _is_home(path: Path) -> bool:
    """Is `path` this user's home folder (`--out ~`)?"""
    try:
        return path.resolve() == Path.home().resolve()
    except (OSError, RuntimeError):  # no home known, a loop: not the home folder
        return False


#: signals that stop a render the way the first Ctrl-C does (a second one exits at once)
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


#: signals that quit a render at once, as a second stop signal does: SIGQUIT (Ctrl-\,
#: `kill -QUIT`), whose default dumped core and left the compose's encoders running
QUIT_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGQUIT",) if hasattr(signal, name)
)


#: said by a second stop signal, which quits at once (`Pipeline._install_sigint`)
QUIT_AT_ONCE = (
    b"\ninterrupted at once; run the same command again to resume (a paid call cut off in "
    b"flight stays counted as spent, outcome unknown: the next render says which)\n"
)
#: `QUIT_AT_ONCE` of a render whose providers are all local: it sends no paid call
QUIT_AT_ONCE_FREE = b"\ninterrupted at once; run the same command again to resume\n"

#: the first stop's warning (`Pipeline._install_sigint`), of a render that calls a paid
#: provider and of one whose providers are all local (free: no calls, jobs or payment)
STOPPING = "stopping: nothing new is sent; in-flight calls are journaled (up to {grace} s)."
STOPPING_FREE = "stopping: nothing new is started; the work in hand has up to {grace} s to finish."
#: the resume line of a render stopped with nothing lost, paid and free
STOPPED = (
    "stopped. Jobs already sent are journaled and nothing paid for is lost; run the same "
    "command again to resume"
)
STOPPED_FREE = "stopped. Every keyframe and clip made is kept; run the same command again to resume"
#: what the resume lines say of a `render --fresh` that set the old run aside for good
SAME_COMMAND = "run the same command again"
WITHOUT_FRESH = "run the same command again without --fresh"


def without_fresh(text: str) -> str:
    """`text`, a stop's or failure's line of a `render --fresh` whose new run had begun
    (the old one set aside for good: `Pipeline.fresh_set_aside`), saying to resume it
    without --fresh. "Run the same command again to resume" was taken at its word: the
    next `render --fresh` set that run aside too and bought its plan and keyframes again
    (a fuzz of stops: 4 keyframes and the plan paid twice). A line that names no command
    is told so at its end."""
    if "without --fresh" in text:
        return text
    said = text.replace(SAME_COMMAND, WITHOUT_FRESH)
    said = re.sub(r"\brender again\b", "render again without --fresh", said)
    if said == text:
        said += " (to resume, render again without --fresh: with it, a render starts over)"
    return said


class Interrupted(Exception):
    """Ctrl-C: stop sending new work; what is in flight is journaled for the next run.
    `said`: the message already says what the stop kept, and is shown as it is (not
    replaced by the run's general resume line)."""

    def __init__(self, message: str, *, said: bool = False) -> None:
        super().__init__(message)
        self.said = said


class Declined(Exception):
    """The person said no to the estimate; nothing was spent."""


#: a plan made in the render that costs more than the spend question priced (Claude's
#: clip lengths) is asked about again above this much more (USD), and this share more
PLAN_ASK_AGAIN_USD = 0.01
PLAN_ASK_AGAIN_SHARE = 0.05


class BudgetStopped(Exception):
    """The budget cap stopped the run cleanly; the message says what is left.
    `nothing_sent`: stopped before the spend question, as a decline is (its folder made
    for nothing goes, as a declined one's does)."""

    def __init__(self, message: str, *, nothing_sent: bool = False) -> None:
        super().__init__(message)
        self.nothing_sent = nothing_sent


class RenderFailed(Exception):
    """Some scenes failed; the message lists them. Finished work is kept for the next run."""


#: free space on the run's disk below which no paid call is sent (see _check_free_space):
#: a clip is up to tens of MB, and the compose needs room after it
MIN_FREE_BYTES = 100_000_000

#: seconds after a video create whose answer was lost (or which was in flight when a
#: run was killed) during which the provider may still make its job (a slow provider
#: finishing a request the client gave up on): a look at its job list within them that
#: finds nothing does not refund the call. `MINDMOVIE_LATE_JOB_GRACE` replaces it (the
#: crash tests shorten it)
LATE_JOB_GRACE = 300.0

#: the grace for a create the service itself answered 500 (`ConnectionLost.answered`):
#: no part of the request is still in flight, so a job it made is listed at once; the
#: few seconds cover a list a moment behind. With the whole grace, a provider answering
#: 500 to every create held each one 300 s before it failed (6 scenes, 3 tries: 90 min)
ANSWERED_GRACE = 30.0
#: the grace for such a create once one of the same provider in this render listed no
#: job within `ANSWERED_GRACE`: the service answers so without making jobs (an outage),
#: and waiting 30 s at each try held a render of 4 scenes 450 s before it failed. The
#: looks still happen (a job listed is taken), and a later one is put back on its row
#: (`_find_jobs_made_after_refund`)
ANSWERED_AGAIN_GRACE = 0.0


#: seconds after a lost create during which a job the provider lists that no row knows
#: is still put back on its row, refunded once the grace was over (`ledger_refund(lost=)`,
#: `Pipeline._find_jobs_made_after_refund`): the job bills, so the row must say so
LATE_JOB_HORIZON = 24 * 3600.0
#: a job made this recently is surely still known where it was made (Seedance keeps a
#: task's result 24 h, Veo 2 days): a 404 on it, while the run's other jobs of that age
#: answer 404 too, is taken for the settings changed (`Pipeline._none_known`), for jobs
#: made by an older mindmovie, which did not record where it made them
KNOWN_JOB_SECONDS = 24 * 3600.0
#: how many other jobs `Pipeline._none_known` polls, at most, to tell
_PROBES = 3
#: `Pipeline._none_known`'s answer for a job with no other of the run to ask
_NONE_TO_ASK = "(no other job to ask)"


def _note_grace(lost: Mapping[str, Any]) -> float | None:
    """A lost note's own grace (`ANSWERED_GRACE`, for a create the service answered),
    None for the whole grace; a damaged value is the whole grace (the safe side)."""
    raw = lost.get("grace")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None
    return max(0.0, float(raw))


def _late_job_grace() -> float:
    raw = os.environ.get("MINDMOVIE_LATE_JOB_GRACE")
    try:
        return max(0.0, float(raw)) if raw else LATE_JOB_GRACE
    except ValueError:
        return LATE_JOB_GRACE


#: what a provider's key is needed for, by stage, as the "not set" error names it
_STAGE_MODELS = {
    ("anthropic", "planner"): "Claude",
    ("byteplus", "keyframes"): "Seedream",
    ("byteplus", "video"): "Seedance",
    ("google", "keyframes"): "Gemini or Imagen",
    ("google", "video"): "Veo",
}


def _not_known_yet(store: Store, remote_id: str, e: JobNotFound) -> bool:
    """Is a journaled job the provider answered 404 for (`e`) too young to be taken for
    forgotten? Made within the late-job grace (a resume right after a kill) and never
    seen to finish (its row still in flight), the 404 is the provider not knowing its
    new job yet where the poll landed: let go of, the job ran on and billed, and the
    next render bought the clip again, paid twice. Then the job stays journaled (`e`
    says so) and the next render polls it again."""
    row = store.ledger_by_remote(remote_id)
    if row is None or row["state"] != "committed":
        return False
    made = _a_time(row["created_at"])
    if made is None or time.time() - made >= _late_job_grace():
        return False
    e.message += (
        f"; it was made {max(0.0, time.time() - made):.0f} s ago, so it is kept: the next "
        "render polls it again"
    )
    return True


class RunDirGone(Exception):
    """The run folder went away during the render (deleted, moved or renamed): the
    render stopped, for nothing it made could be kept there. The message names it.
    `run_dir`, `since`, `parents`: the path, when the render took the folder there and
    its parent folders' ids then, for `remove_remade` once every writer of the render
    has ended; `held`: its hold on the folder, kept past the render's end for those
    writers (`HeldFolder.outlive`) until `let_go`."""

    def __init__(
        self,
        message: str,
        run_dir: Path | None = None,
        since: float | None = None,
        parents: Sequence[tuple[Path, tuple[int, int] | None]] = (),
        held: HeldFolder | None = None,
    ):
        super().__init__(message)
        self.run_dir, self.since, self.parents = run_dir, since, tuple(parents)
        self.held = held

    def remove_remade(self) -> None:
        """`remove_remade` of this render's run folder path."""
        if self.run_dir is not None and self.since is not None:
            remove_remade(self.run_dir, self.since, self.parents)

    def let_go(self) -> None:
        """Every writer of the render has ended: its hold on the run folder goes."""
        if self.held is not None:
            self.held.let_go()


def remove_remade(
    path: Path, since: float, parents: Sequence[tuple[Path, tuple[int, int] | None]] = ()
) -> None:
    """The run folder gone, remove what the render's writers made again at its path
    before the watcher's look (each write's mkdir made the folder again: a new `run`
    holding scenes/<id>/, compose/ files, the storyboard): the person found a run folder
    they had deleted, or beside the one they moved a second one, holding pieces of a
    run with no journal. Only a folder holding nothing but a run's own entries, all
    written since the render took its folder (`since`), and no run.db, is taken for
    that: one put there by the person (another run's, moved back) is left as it is, and
    so is one whose `.lock` a render holds (`_lock_held`: a render started at the path
    meanwhile, before it made its run.db). Then, that folder removed,
    `_remove_remade_parents`: the writers' mkdirs made them again with it, and only
    then (a parent made again by the person, the run folder not, is theirs)."""
    if _remove_remade(path, since):
        _remove_remade_parents(parents)


def _remove_remade_parents(parents: Sequence[tuple[Path, tuple[int, int] | None]]) -> None:
    """The parent folders of a run folder gone (`parents`: each, nearest first, with its
    `folder_id` when the render took the folder) that the writers' mkdirs made again,
    left empty: `output_dir` deleted during a render was found again after it, an empty
    folder the person had deleted. Only a folder not the one that was there (another
    id) and empty is removed (`os.rmdir`); the first that is the same ends it."""
    for parent, was in parents:
        now = folder_id(parent)
        if now is None:
            continue  # not made again (its own parent may have been, by another path)
        if now == was:
            return
        try:
            os.rmdir(parent)
        except OSError:
            return  # not empty (another render's folder is in it), or not ours to remove


#: how much earlier than the moment it was written a file's modification time may say:
#: FAT and exFAT-formatted drives record it to 2 s, rounded down (a file written 0.1 s
#: after `since` can read 1.9 s before it), and the system's clock reads finer than its
#: file times
MTIME_SLACK = 2.0


def _remove_remade(path: Path, since: float) -> bool:
    """`remove_remade` of the run folder path itself; True when it removed it."""
    if path.is_symlink() or not path.is_dir():
        return False
    try:
        top = [p.name for p in path.iterdir()]
        if any(n.startswith("run.db") for n in top) or not all(_run_owned(n) for n in top):
            return False
        if _lock_held(path / ".lock"):
            return False
        for root, dirs, files in os.walk(path):
            for name in [*dirs, *files]:
                st = os.lstat(os.path.join(root, name))
                # (a link, or a file older than the render: not one it wrote)
                if stat.S_ISLNK(st.st_mode) or st.st_mtime < since - MTIME_SLACK:
                    return False
        shutil.rmtree(path)
    except OSError:
        return False  # written to meanwhile, or not this user's: left as it is
    return True


def _lock_held(lock: Path) -> bool:
    """Does a render hold the run lock file `lock` now (`RunLock`)? Asked of the file's
    flock, not of the pid it names: a render that has let go of its own lock (as at
    `remove_remade`) is told from another's holding one. A lock file that cannot be
    opened (none, another kind) is held by none."""
    try:
        fd = os.open(lock, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # (a lock taken here goes with it)
    return False


#: seconds between two looks at the run folder during a render (`_watch_run_dir`)
RUN_DIR_LOOK_SECONDS = 0.25


class DiskFull(Exception):
    """The disk holding the run filled up: the message names it. Finished work is kept
    (every artifact is committed atomically, run.db rolls back), so the run resumes."""


def is_disk_full(e: BaseException) -> bool:
    """Is `e` a write refused for lack of space (ENOSPC, a quota, SQLite's SQLITE_FULL)?"""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(e, sqlite3.Error):
        return getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or (
            "disk is full" in str(e)
        )
    from mindmovie.media import FFmpegError

    # ffmpeg's own writes (segments, the final mux) end in its log's strerror text; so do
    # the offline clips' (made here, not by a service: `local` clip failures carry it)
    here = isinstance(e, FFmpegError) or (isinstance(e, ProviderError) and e.provider == "local")
    return here and any(why in str(e) for why in ("No space left on device", "Disk quota exceeded"))


def over_file_size_limit(e: BaseException) -> bool:
    """Is `e` a write refused by the file size limit (`ulimit -f`, RLIMIT_FSIZE)? Python's
    own writes fail with EFBIG; an ffmpeg's (segments, the final mux, an offline clip)
    kill it with SIGXFSZ. It was a traceback ("OSError: [Errno 27] File too large"), or
    "the compose failed ... ffmpeg failed (-25): Auto-inserting h264_mp4toannexb ...",
    or a line per scene offering `--skip-failed`, which the limit stopped as well."""
    import signal as signals

    from mindmovie.media import FFmpegError

    if isinstance(e, OSError) and e.errno == errno.EFBIG:
        return True
    xfsz = getattr(signals, "SIGXFSZ", None)
    if isinstance(e, FFmpegError):
        return xfsz is not None and e.returncode == -xfsz
    return (
        isinstance(e, ProviderError)
        and e.provider == "local"
        and xfsz is not None
        and f"ffmpeg failed ({-xfsz})" in str(e)
    )


def file_size_limit_message(run_dir: Path) -> str:
    """One line for a file that reached the file size limit: which limit, what to do."""
    from mindmovie.media import file_size_limit

    limit = file_size_limit()
    # (a limit under 0.1 MB, which only run.db meets, was "(0.0 MB)")
    size = (
        ""
        if limit is None
        else f" ({limit / 1e6:.1f} MB)"
        if limit >= 100_000
        else f" ({limit:,} bytes)"
    )
    return (
        f"a file in {run_dir} reached this process's file size limit{size}, set by "
        "`ulimit -f` (or the service's LimitFSIZE); finished work is kept: raise it "
        "(`ulimit -f unlimited`) and run the same command again to resume"
    )


def _soft_limit(name: str) -> str:
    """This process's soft limit `name` (a `resource.RLIMIT_*`), as the person reads it."""
    try:
        import resource

        soft = resource.getrlimit(getattr(resource, name))[0]
    except (ImportError, AttributeError, OSError, ValueError):
        return "unknown"
    return "unlimited" if soft == resource.RLIM_INFINITY else str(soft)


def _says(e: BaseException, *texts: str) -> bool:
    """Does an ffmpeg's error (the compose's, an offline clip's) or a scene's (an OS error
    met reading a keyframe or a downloaded clip, in its words) say one of `texts`? A
    provider's error counts only for this machine's work: the local provider's, or an
    OS error quoted as Python says it ("[Errno 24] Too many open files"). A job the
    provider failed in those words (its own server's limit) stopped the whole render,
    `--skip-failed` too, saying to raise `ulimit -n` here."""
    from mindmovie.media import FFmpegError

    said = str(e)
    if isinstance(e, FFmpegError) or (isinstance(e, ProviderError) and e.provider == "local"):
        return any(text in said for text in texts)
    return isinstance(e, ProviderError) and any(
        re.search(r"\[Errno \d+\] " + re.escape(text), said) for text in texts
    )


#: the functions a process is started in (subprocess's, os's): an EAGAIN out of one of
#: them is the process limit met; out of anything else (a read or write of a
#: non-blocking file, a lock taken elsewhere) it is not
_STARTS_A_PROCESS = frozenset({"_execute_child", "fork", "posix_spawn", "_fork_exec"})


def limit_message(e: BaseException, run_dir: Path) -> str | None:
    """One line for `e` when it is a limit of this process met, not a fault of the step
    that met it: the file size limit, the open files limit, the processes (and threads)
    limit. Each was a traceback (the storyboard's module not opened: "OSError: [Errno
    24] Too many open files"; "RuntimeError: can't start new thread") or a line per
    scene of ffmpeg's words ("pthread_create() failed: Resource temporarily
    unavailable") offering `--skip-failed`, which the limit stopped as well."""
    if over_file_size_limit(e):
        return file_size_limit_message(run_dir)
    kept = "finished work is kept: raise it and run the same command again to resume"
    if (isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE)) or _says(
        e, "Too many open files"
    ):
        return (
            "too many files open: this process may open "
            f"{_soft_limit('RLIMIT_NOFILE')} at once (`ulimit -n`; the system's own "
            f"limit when that is high); {kept} (e.g. `ulimit -n 4096`)"
        )
    memory = _soft_limit("RLIMIT_AS")
    # (a thread's stack is memory too: under `ulimit -v` a thread fails to start as
    # under `ulimit -u`, and the limit named first is the one set)
    mapped = "" if memory in ("unlimited", "unknown") else f"{int(memory) / 1e6:.0f} MB"
    threads = isinstance(e, RuntimeError) and "can't start new thread" in str(e)
    forks = isinstance(e, OSError) and e.errno == errno.EAGAIN and raised_in(e, _STARTS_A_PROCESS)
    if threads or forks or _says(e, "pthread_create() failed"):
        limits = [
            f"the processes this user may run ({_soft_limit('RLIMIT_NPROC')}: `ulimit -u`, "
            "counting every program's threads), or a container's pids limit"
        ]
        if mapped:
            limits.insert(0, f"the memory this process may map ({mapped}: `ulimit -v`)")
        return (
            f"no more processes or threads could be started: a limit was reached, "
            f"{'; or '.join(limits)}; finished work is kept: raise it, or lower "
            "compose.workers and the providers' max_concurrent, and run the same command "
            "again to resume"
        )
    if isinstance(e, MemoryError):
        # (the MemoryError of a picture too big to draw at this size: a traceback)
        where = (
            f"the memory this process may map ({mapped}: `ulimit -v`)"
            if mapped
            else ("the machine's memory")
        )
        return (
            f"out of memory: {where} was used up; finished work is kept: raise it, or "
            "render at a smaller output.size or with fewer compose.workers, and run the "
            "same command again to resume"
        )
    return None


def _no_room(e: BaseException) -> bool:
    """A full disk or a limit of this process (`limit_message`): said as such."""
    return is_disk_full(e) or limit_message(e, Path(".")) is not None


def _mount_point(path: Path) -> Path:
    """The mount point of the filesystem holding `path` (the folder walked up to it)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        dev = path.stat().st_dev
        while path != path.parent and path.parent.stat().st_dev == dev:
            path = path.parent
    except OSError:
        pass
    return path


#: files (inodes) a paid call waits for on the run's disk, as it waits for MIN_FREE_BYTES:
#: a result and its temporary file, a kept copy, the compose's segments
MIN_FREE_FILES = 64


def _inodes_left(path: Path) -> int | None:
    """The files (inodes) this user may still make on `path`'s filesystem; None where the
    filesystem does not count them (statvfs gives 0 files in all: btrfs, some FUSE)."""
    st = os.statvfs(path)
    return None if st.f_files == 0 else st.f_favail


#: why a plan is made again when its last try did not finish (stopped, failed, or
#: written where run.db could not record it) and nothing else changed
_UNFINISHED_PLAN = "the last plan did not finish"


def disk_full_message(run_dir: Path, paid: bool = True, *, out: bool = True) -> str:
    """One line for a full disk: which filesystem, how much is free, what to do. `paid`:
    the render calls a paid provider, whose calls wait for MIN_FREE_BYTES (said to an
    offline render, that rule was of no use to it). A disk out of files (inodes) with
    room to spare is said so: "no space left ..., 32.0 MB free" sent the person to free
    megabytes. `out`: the command takes --out (`storyboard`, which writes into the run
    folder, does not: it was told to use it)."""
    elsewhere = (
        "render into another disk with --out"
        if out
        else "copy the run folder to another disk and run it there"
    )
    mount = _mount_point(run_dir)
    try:
        free = f", {shutil.disk_usage(mount).free / 1e6:.1f} MB free"
        files = _inodes_left(mount)
    except OSError:
        free, files = "", None
    if files is not None and files < MIN_FREE_FILES:
        return (
            f"no files left to make on the disk holding {run_dir} (the filesystem mounted "
            f"at {mount}{free}, but {files} more files, inodes, may be made there); "
            f"finished work is kept: delete some files on that disk, or {elsewhere}, and "
            "run the same command again to resume"
        )
    rule = f" (a paid call is sent only with {MIN_FREE_BYTES / 1e6:.0f} MB free)" if paid else ""
    return (
        f"no space left on the disk holding {run_dir} (the filesystem mounted at "
        f"{mount}{free}); finished work is kept: free some space{rule}, or {elsewhere}, "
        "and run the same command again to resume"
    )


class _ModelId(Protocol):
    """What a step's input key needs of a model: its provider and model id."""

    @property
    def name(self) -> str: ...

    @property
    def model(self) -> str: ...


@dataclass(frozen=True)
class _Identity:
    """A model's identity without its client (no key needed): for estimates, which must
    tell exactly which finished steps a render would reuse."""

    name: str
    model: str
    spec: ModelSpec | None


def _identity(settings: Settings, stage: Literal["keyframes", "video"]) -> _Identity:
    provider = settings.stage_provider(stage)
    spec = costs.stage_spec(settings, stage)
    if spec is None:
        from mindmovie.providers import local

        model = local.KEYFRAMES_MODEL if stage == "keyframes" else local.MOTION_MODEL
        return _Identity("local", model, None)
    return _Identity(provider, spec.id, spec)


def _reports_charge(state: JobState) -> bool:
    """Did a job that did not succeed still report billed usage? Some providers charge
    for generation their output filter then refused (lessons: "some providers do not
    charge for them, some do"); the task's own usage is the evidence, never a guess."""
    try:
        return int(state.usage.get("completion_tokens") or 0) > 0
    except (TypeError, ValueError):
        return False


def input_key(**parts: Any) -> str:
    """sha256 of every input that decides a step's output, in a canonical JSON form."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


_RISKY = re.compile(
    r"\b(blood\w*|gun\w*|weapon\w*|fight\w*|violen\w*|naked|nude|sexy|kiss\w*|bikini|"
    r"drunk|alcohol|wine|beer|cigar\w*|smok\w*|child(?:ren)?|kids?|baby|celebrit\w*)\b",
    re.IGNORECASE,
)


def _sized_adaptive(model: Any) -> bool:
    """A keyframe model sent size "adaptive" (SeedEdit: the picture takes the photo's
    shape), never output.aspect: its key holds no aspect (`_keyframe_variants`)."""
    spec = getattr(model, "spec", None)
    return isinstance(spec, ModelSpec) and spec.capabilities.size_mode == "adaptive"


def soften_prompt(prompt: str, category: str) -> str:
    """A neutral rewrite after a content-filter refusal: drop words filters often trip on
    and frame the shot as calm and wholesome. Used whatever the planner (Claude is not
    asked to rewrite it: docs/architecture.md, "Failure handling")."""
    kept = _RISKY.sub("", prompt)
    kept = re.sub(r"\s+,", ",", re.sub(r"\s{2,}", " ", kept)).strip(" ,.")
    mood = f"{category} " if category else ""
    return (
        f"A calm, wholesome, uplifting {mood}scene, softly lit, family friendly, "
        f"no people in close-up: {kept}"
    )


@dataclass(frozen=True)
class SameMovie:
    """What tells a run of this goals.yaml's movie from another movie made from it once
    (a goals.yaml rewritten since): the plan keys these goals give (`keys`: the plan as
    it would be made now), and each goal's own part of them (`goals`: `plan_parts`).

    A run whose plan has one of the keys is this movie; so is one whose plan was made
    from goals of which at least half of these are unchanged: a new title and one goal
    edited in the same save (an affirmation, a vision) changed the plan key, and the
    render took the run for another movie's, started a new one in outputs/<new title>/
    and bought every keyframe and clip again. A goals.yaml rewritten for another movie
    (most goals new) still gets its own folder, and the earlier movie stays as it is."""

    keys: tuple[str, ...]
    goals: tuple[str, ...] = ()

    def holds(self, con: sqlite3.Connection) -> bool:
        """Is the run whose run.db `con` reads this movie?"""
        if _plan_key_of(con) in self.keys:
            return True
        if not self.goals:
            return False
        row = con.execute(
            "SELECT detail FROM steps WHERE scene_id='_run' AND stage='plan'"
        ).fetchone()
        parts = _basis_field(row[0] if row is not None else None, "parts")
        old = parts.get("goals") if isinstance(parts, dict) else None
        if not isinstance(old, list):
            return False
        left = list(old)
        same = 0
        for part in self.goals:
            if part in left:
                left.remove(part)
                same += 1
        return same > 0 and 2 * same >= len(self.goals)


def run_dir_for(
    goals: Goals,
    settings: Settings,
    out: Path | None = None,
    goals_path: Path | None = None,
    plan_keys: SameMovie | None = None,
) -> Path:
    """The run's home: --out if given, else <output_dir>/<slug of the title>; or, when
    no run of these goals is there (none, or another goals.yaml's of the same title),
    the earlier run of this same goals.yaml under another title (`earlier_run`, of the
    same movie: `plan_keys`, `SameMovie`): a new title must not start the movie, and its
    payments, over. (A folder holding another goals.yaml's run was taken as home: the
    render replaced that run's movie and bought this movie's plan and scenes again,
    its own run under the old title left unused.)"""
    if out is not None:
        return _not_an_option(out)
    home = _not_an_option(settings.output_dir / folder_name(goals.title))
    try:
        has_run = (home / "run.db").is_file()
    except OSError:  # a name too long for the system: _prepare_run_dir says so
        return home
    if goals_path is not None and has_run and _run_of(home, goals_path) is False:
        has_run = False  # another goals.yaml's run: theirs, unless these have none
    if goals_path is not None and not has_run:
        earlier = earlier_run(settings.output_dir, goals_path, plan_keys)
        return home if earlier is None else _not_an_option(earlier)
    return home


def run_beside(
    goals: Goals, settings: Settings, goals_path: Path, plan_keys: SameMovie, chosen: Path
) -> tuple[Path, Path] | None:
    """The run of goals_path in an output folder not the working folder's, when `chosen`
    (the run folder run_dir_for gave, under a relative output_dir: the working folder's)
    has no run of it: (that run folder, the folder whose output_dir holds it). Looked
    for beside goals.yaml first, then under each folder above it, nearest first: the
    same goals.yaml rendered from another working folder started a new run here, and
    paid for the whole movie again. `mindmovie init pp` says `render pp/goals.yaml`,
    which from pp's parent makes ./outputs/<title> there; `cd pp` and a render started
    pp/outputs/<title>, buying the plan and keyframes again without a word. In each
    folder: its title's folder, if last rendered from it, else the run of it under an
    earlier title (`earlier_run`).

    Also when `chosen` holds the run of another goals.yaml of the same title (the
    example's title, kept by two projects): the render went into that run, replacing
    its movie, and bought this one's scenes again beside its finished run."""
    if settings.output_dir.is_absolute():
        return None
    try:
        here = settings.output_dir.resolve()
        if (chosen / "run.db").is_file() and _run_of(chosen, goals_path) is not False:
            return None
    except (OSError, RuntimeError):
        return None
    home = Path(os.path.abspath(goals_path)).parent
    for folder in (home, *home.parents):
        out = folder / settings.output_dir
        try:
            if not out.is_dir() or out.resolve() == here:
                continue
            mine = out / folder_name(goals.title)
            if (mine / "run.db").is_file() and rendered_into(mine, goals_path, plan_keys):
                return mine, folder
        except (OSError, RuntimeError):
            continue
        if (earlier := earlier_run(out, goals_path, plan_keys)) is not None:
            return earlier, folder
    return None


def _run_of(folder: Path, goals_path: Path) -> bool | None:
    """Was run folder `folder` last rendered from `goals_path` (`same_goals`)? None when
    its run.db cannot tell (not ours, damaged, locked, or no goals.yaml recorded: a run
    made before the record, 2026-11-30, or stopped before its render recorded it, was
    taken for another goals.yaml's, and a render went on in another run of these
    goals, leaving that one)."""
    try:
        con = _snapshot(folder / "run.db")
        try:
            recorded = _recorded_goals(con, folder)
        finally:
            con.close()
        if recorded == (None, None):
            return None
        return same_goals(folder, *recorded, goals_path)
    except (sqlite3.Error, OSError, ValueError):
        return None


def rendered_into(folder: Path, goals_path: Path, plan_keys: SameMovie) -> bool:
    """Was run folder `folder` last rendered from goals_path (as `_run_of` says), or
    rendered from it once (`GOALS_SEEN_META`) and still these goals' movie
    (`SameMovie.holds`)? A copy of a project rendered
    from the working folder holding the project's run goes on in that run, recording
    the copy's goals.yaml as the last; the project rendered from anywhere else then
    found no run of it and bought every keyframe and clip again. `holds` keeps out a
    goals.yaml rendered there once but since rewritten (or a run that has since made
    another movie). A run the copy has since edited (at least half the goals as these)
    is found too: rendering there costs the changed goals' scenes at most, and the
    render says it replaces the copy's movie (`_warn_other_goals`); elsewhere, a new
    run bought every scene again."""
    try:
        con = _snapshot(folder / "run.db")  # (one copy read for both: `_run_of`'s and this)
        try:
            if same_goals(folder, *_recorded_goals(con, folder), goals_path):
                return True  # last rendered from it (`_run_of`)
            row = con.execute("SELECT value FROM meta WHERE key=?", (GOALS_SEEN_META,)).fetchone()
            seen = json.loads(row[0]) if row is not None else []
            if not isinstance(seen, list):
                return False
            for entry in seen:
                if not (isinstance(entry, list) and len(entry) == 2):
                    continue
                recorded, rel = (path_of_record(e) if isinstance(e, str) else None for e in entry)
                if same_goals(folder, recorded, rel, goals_path):
                    return plan_keys.holds(con)
            return False
        finally:
            con.close()
    except (sqlite3.Error, OSError, ValueError):
        return False


def _goals_seen_with(
    store: Store, entry: list[str | None], last: tuple[str | None, str | None]
) -> str:
    """The run's `GOALS_SEEN_META` with this render's goals.yaml ([absolute, relative], as
    `path_record` keeps them) added, newest last: `rendered_into` reads it. A run recorded
    before the list starts it with its last render's goals.yaml (`last`, as
    `goals_record` read it), so a project rendered then is known once its copy renders."""
    try:
        seen = json.loads(store.get_meta(GOALS_SEEN_META) or "null")
    except ValueError:
        seen = None
    if not isinstance(seen, list):
        seen = [[None if p is None else path_record(p) for p in last]] if last[0] else []
    seen = [e for e in seen if e != entry] + [entry]
    return json.dumps(seen[-GOALS_SEEN_KEEP:])


def _recorded_goals(con: sqlite3.Connection, folder: Path) -> tuple[str | None, str | None]:
    """`goals_record` of run folder `folder` from a connection to its run.db."""
    keys = (GOALS_META, GOALS_REL_META, SETTINGS_META)
    got = dict(con.execute("SELECT key, value FROM meta WHERE key IN (?, ?, ?)", keys).fetchall())
    return goals_record(folder, got.get)


def goals_record(folder: Path, meta: Callable[[str], str | None]) -> tuple[str | None, str | None]:
    """The goals.yaml run folder `folder`'s run.db (its `meta` values) records: (its
    absolute path, its path relative to the run folder). For a run from before
    `GOALS_REL_META`, the relative path it had if rendered from goals.yaml's folder into
    the relative output_dir its settings record (outputs/<title> beside goals.yaml, the
    default), so a project moved or copied before then is known too."""
    recorded, rel = path_of_record(meta(GOALS_META)), path_of_record(meta(GOALS_REL_META))
    if rel is None and recorded:
        try:
            out = json.loads(meta(SETTINGS_META) or "null").get("output_dir")
        except (ValueError, AttributeError):
            out = None
        if isinstance(out, str) and out and not Path(out).is_absolute():
            with contextlib.suppress(ValueError, OSError):
                guess = os.path.relpath(recorded, Path(recorded).parent / out / folder.name)
                # (a guess: only where it finds a goals.yaml. A run rendered with --out
                # elsewhere, its goals.yaml where it was, was said by status to be "moved
                # or copied" and its inputs not checked; the upgrade audit)
                if (folder / guess).is_file() or not Path(recorded).is_file():
                    rel = guess
    return recorded, rel


def _check_temp_folder() -> None:
    """A temp folder this user can write is there (TMPDIR, else /tmp, /var/tmp, /usr/tmp
    or the working folder: `tempfile.gettempdir`), or ConfigError. Every ffmpeg run
    writes its log in one: with none, each scene failed "No usable temporary directory
    found in [...]" (with a paid preset, after its keyframe and clip were bought) and the
    compose ended in that FileNotFoundError's traceback."""
    if (problem := temp_folder_problem()) is not None:
        raise ConfigError(f"{problem} (ffmpeg writes its logs there while it runs)")


def _not_an_option(run_dir: Path) -> Path:
    """`run_dir`, made absolute when it is relative and starts with a dash (`--out
    -weird`): every path of the run is passed to ffmpeg, which took `-weird/scenes/...`
    for an option ("Unrecognized option"), and every scene failed of it."""
    if not run_dir.is_absolute() and run_dir.parts and run_dir.parts[0].startswith("-"):
        return Path(os.path.abspath(run_dir))
    return run_dir


def earlier_run(
    output_dir: Path, goals_path: Path, plan_keys: SameMovie | None = None
) -> Path | None:
    """The run folder in output_dir last rendered from goals_path (the newest, if more
    than one), read without writing anything; None when there is none.

    With `plan_keys`, only a run of the same movie (`SameMovie.holds`), under a new
    title. A goals.yaml rewritten for another movie (most goals new) gets its own
    folder, and the earlier movie stays where it is.
    """
    found: list[tuple[float, str]] = []
    try:
        folders = [p for p in output_dir.iterdir() if (p / "run.db").is_file()]
    except OSError:
        return None
    for folder in folders:
        db = folder / "run.db"
        try:
            # read as `status` reads: a read-only connection left run.db-wal and
            # run.db-shm in every other run folder under output_dir it looked at
            con = _snapshot(db)
            try:
                recorded, rel = _recorded_goals(con, folder)
                if recorded is None or not same_goals(folder, recorded, rel, goals_path):
                    continue
                how = con.execute("SELECT value FROM meta WHERE key=?", (FOLDER_META,)).fetchone()
                if how is not None and how[0] != "title":
                    continue
                if how is None and not _titled_folder(folder, con):
                    continue  # recorded before FOLDER_META: named for its title?
                if plan_keys is not None and not plan_keys.holds(con):
                    continue  # another movie made from a rewritten goals.yaml
            finally:
                con.close()
        except (sqlite3.Error, OSError, ValueError):
            continue  # not ours, damaged, locked: not a match
        found.append((db.stat().st_mtime, str(folder)))
    return Path(max(found)[1]) if found else None


def same_goals(folder: Path, recorded: str | None, rel: str | None, goals_path: Path) -> bool:
    """Was run folder `folder` last rendered from `goals_path`: its recorded goals.yaml
    (`GOALS_META`, absolute), or the one at the recorded place relative to the folder
    (`GOALS_REL_META`)? A project folder moved or copied with its outputs/ records the
    old absolute path: a new title then started the movie, and its payments, over, and
    an edit in a copy was said to replace another goals.yaml's movie."""
    want = str(goals_path.resolve())
    if recorded == want:
        return True
    if not rel:
        return False
    try:
        return str((folder / rel).resolve()) == want
    except (OSError, RuntimeError):  # a loop of links, a name too long
        return False


def last_goals(folder: Path, recorded: str | None, rel: str | None) -> str | None:
    """The goals.yaml run folder `folder` was last rendered from, for `status` and
    `storyboard`: the one at its recorded place relative to the folder when there is one
    (a project folder moved or copied with its outputs/), else the recorded one. The
    absolute path alone named the old place: "goals.yaml not found" after a move, and in
    a copy the original's goals.yaml, not the one the copy is rendered from. None when
    the run folder is not where it was (the relative place is not the recorded one) and
    nothing is at the relative place: the recorded one is the old place's, in a copy
    another project's, which `status` and `storyboard` checked the copy against (its
    edits said to be redone) and a render said its movie would replace."""
    if rel:
        with contextlib.suppress(OSError, RuntimeError):
            there = (folder / rel).resolve()
            if there.is_file():
                return str(there)
            if recorded is not None and str(there) != recorded:
                return None
    return recorded


def _plan_key_of(con: sqlite3.Connection) -> str | None:
    """The plan key of the run whose run.db `con` reads; for the new run.db of a `render
    --fresh` killed at its spend question (FRESH_META: the next render puts the old run
    back), the key of the run it set aside, which has the plan."""
    plan = con.execute("SELECT input_key FROM steps WHERE scene_id='_run' AND stage='plan'")
    row = plan.fetchone()
    if row is not None:
        return str(row[0])
    pending = con.execute("SELECT value FROM meta WHERE key=?", (FRESH_META,)).fetchone()
    if pending is None or not pending[0]:
        return None
    try:
        # read as `status` reads (a read-only connection would leave run.db-wal and
        # run.db-shm in previous/<time>/, and the put-back could not remove it then)
        aside = _snapshot(Path(json.loads(pending[0])["dest"]) / "run.db")
    except (ValueError, KeyError, TypeError, OSError, sqlite3.Error):
        return None
    try:
        row = aside.execute(
            "SELECT input_key FROM steps WHERE scene_id='_run' AND stage='plan'"
        ).fetchone()
    finally:
        aside.close()
    return None if row is None else str(row[0])


def renamed_by_hand(folder: Path) -> bool:
    """Is run folder `folder`, named for its title when made (FOLDER_META "title"), no
    longer named for the title its run records (`_titled_folder`): renamed by the person
    (`mv outputs/my-movie outputs/keep-v1`)? Its run then goes on in a copy at the
    title's folder (`Pipeline._carry_run`), and the folder is left as the person keeps it."""
    try:
        con = _snapshot(folder / "run.db")
        try:
            how = con.execute("SELECT value FROM meta WHERE key=?", (FOLDER_META,)).fetchone()
            # (a run with no title recorded, a --fresh one stopped before its plan: not
            # known to be renamed, so not copied)
            titled = _titled_folder(folder, con, unknown=True)
            return how is not None and how[0] == "title" and not titled
        finally:
            con.close()
    except (sqlite3.Error, OSError, ValueError):
        return False


def _titled_folder(folder: Path, con: sqlite3.Connection, unknown: bool = False) -> bool:
    """Is `folder` (its run.db older than `FOLDER_META`) named for its run's title
    (output_dir/<slug of the title>), not one the person named with --out (`--out
    outputs/draft`), which is theirs and never renamed? The title as the plan step
    recorded it (goals.yaml's), else as plan.yaml has it. `unknown`: what a run with no
    title recorded is taken for."""
    titles: list[object] = []
    try:
        row = con.execute(
            "SELECT detail FROM steps WHERE scene_id='_run' AND stage='plan'"
        ).fetchone()
        shown = json.loads(row[0]).get("shown") if row and row[0] else None
        if isinstance(shown, dict):
            titles.append(shown.get("title"))
    except (sqlite3.Error, ValueError, AttributeError):
        pass  # an older run.db: plan.yaml says
    try:
        import yaml

        from mindmovie.yamlsrc import read_source, safe_load_yaml, utf16_text

        # read_source: a named pipe there waited for a writer for ever
        raw = read_source(folder / "plan.yaml")
        data = safe_load_yaml(utf16_text(raw) or raw.decode("utf-8"))
        if isinstance(data, dict):
            titles.append(data.get("title"))
    except (OSError, ValueError, yaml.YAMLError):
        pass
    # how folders were named before (`folder_names_before`): slugify's, before titles in
    # other scripts got their own words, and their words split at every mark
    return any(
        isinstance(t, str) and folder.name in (folder_name(t), *folder_names_before(t))
        for t in titles
    ) or (unknown and not any(isinstance(t, str) for t in titles))


def keyframe_size(settings: Settings) -> tuple[int, int]:
    """Keyframes a little larger than the frame: Ken Burns zooms in without upscaling blur."""
    w, h = settings.output.frame()
    return (round(w * 1.25 / 2) * 2, round(h * 1.25 / 2) * 2)


#: run.db meta: the goals.yaml (absolute path) and the settings (JSON; settings hold no
#: keys) of the last render or plan, so `status` can compare the next render with them
GOALS_META = "goals_path"
SETTINGS_META = "settings"
#: run.db meta: that goals.yaml relative to the run folder (both resolved), so a project
#: folder moved or copied with its outputs/ still knows its goals.yaml (`same_goals`)
GOALS_REL_META = "goals_from_run"
#: run.db meta: every goals.yaml rendered into the run (JSON list of [absolute, relative
#: to the run folder], newest last, `GOALS_SEEN_KEEP` at most): GOALS_META is the last
#: one only, and a project whose copy rendered into its run found it no more
#: (`rendered_into`)
GOALS_SEEN_META = "goals_seen"
GOALS_SEEN_KEEP = 50
#: run.db meta key prefix: per sha256 of a goals.yaml photo a render was given, its look
#: (`goals.photo_look`): one re-saved since with other bytes and the same look is keyed
#: as the one recorded (`Pipeline._photo_id`)
PHOTO_LOOK_META = "photo_look:"
#: run.db meta key prefix: per sha256 of a clip composed, what the compositor needs to
#: know of it (`media.clip_facts`, JSON with `CLIP_FACTS_VERSION`): a render with nothing
#: to redo ran ffmpeg on every clip to learn them again (~3.3 s of ~4.9 s at 180 scenes)
CLIP_FACTS_META = "clip_facts:"
#: the version of `media.clip_facts`' reading: a record of another is read again
CLIP_FACTS_VERSION = 1
#: the plan key's forms a run may have recorded (`Pipeline._plan_key`'s `legacy` 0-2)
_PLAN_KEY_FORMS = 3
#: per planner provider, its default models of before, newest first: a plan one of them
#: made while no planner.model was set is still the goals' plan (`_planners_before`)
PLANNER_DEFAULTS_BEFORE: dict[str, tuple[str, ...]] = {
    "anthropic": ("claude-sonnet-4-6",),  # until 2026-11-30 (d30567c)
}
#: run.db meta: "out" when the last render was given its folder with --out, else
#: "title" (output_dir/<slug of the title>): only such a folder follows a new title
FOLDER_META = "folder"
#: run.db meta key prefix: per kept plan's key, the shown fields it was kept with (JSON)
KEPT_SHOWN_META = "kept_plan_shown:"
#: run.db meta: "1" while the files a run.db-less folder held wait to be moved aside
#: (`Pipeline._set_aside_unjournaled`): a render killed at the spend question left its
#: new run.db, and the next one took those unchecked files for its own
ASIDE_META = "aside_pending"
#: run.db meta (the new run.db of `render --fresh`): where the old run was moved and what,
#: as JSON, until the spend is agreed to. A render killed at the question left the old
#: run in previous/, and the next render (without --fresh) started a new run and bought
#: every keyframe and clip again; it now puts the old run back first
FRESH_META = "fresh_pending"
#: the file `render --fresh` writes in its previous/<time>/ before it moves the run there
#: (the names it moves, as JSON), removed once the new run.db holds FRESH_META: killed in
#: between (the run moved, the new run.db not yet committed), the next render found no
#: mark, started a new run and made every step again, the run left in previous/
FRESH_MOVING = ".fresh-moving.json"
#: run.db meta (the new run.db of `render --fresh`): the ids of the jobs the run it set
#: aside knew (its own, and those it noted in turn), as a JSON list. A job no row knows
#: is told from another run's by the run.db that journaled it (`_jobs_other_runs_know`);
#: with previous/ deleted (status says no render needs it), a set-aside run's jobs were
#: taken for a lost request of this one: another version's clip used, billed twice
SET_ASIDE_JOBS_META = "jobs_set_aside"
#: run.db meta: the `output`s (frame size, fps: JSON list) the run's paid keyframes and
#: clips can have been keyed by, written once, by the first render that keys them as now:
#: `SETTINGS_META`'s as it found it (the last render before; none for a run started
#: since), plus a set-aside run's whose jobs `render --fresh` carried. Until 2026-12-04 a
#: paid keyframe's key held the frame size and a paid clip's the fps too
#: (`Pipeline._outputs_before`): a run made then is found at another --resolution or
#: --fps. Not added to after: a render since (even one stopped at its keyframes) made
#: nothing keyed so, and a clip looked up at its output was taken for one never made there
OUTPUTS_META = "outputs_before"
#: run.db meta: the planner's first answer held for its repair (JSON, the planner's
#: `unrepaired`), journaled as it is held and gone once the plan is made: a render
#: stopped or killed before the repair was answered lost that paid answer, and the next
#: render bought a new one before its repair
UNREPAIRED_META = "plan_unrepaired"


def _renumbered(scene: dict[str, Any] | Scene, was: int, now: int) -> Scene:
    """A scene of goal number `was` as goal number `now`: its id's "NN-" too (the ids
    planners write, `anthropic.assemble_plan`: "NN-category-k")."""
    sc = scene if isinstance(scene, Scene) else Scene.model_validate(scene)
    old = f"{was:02d}-"
    sid = f"{now:02d}-{sc.id[len(old) :]}" if sc.id.startswith(old) else sc.id
    return sc.model_copy(update={"id": sid, "goal": now})


def _lengths_still_fit(was: object, now: dict[str, Any], scenes: list[dict[str, Any]]) -> bool:
    """Whether a plan made with the plan options `was` (its basis's) can stand with those
    of `now` for the goals that did not change: the same options, or only the video
    model's clip lengths changed (another model) and every length the planner gave
    (`scenes`, as made) is one the model makes now. A new video model re-planned the
    whole plan: Claude's new prompts bought every keyframe and clip again, each clip
    length fitting both models (found by a paid-flows audit against the simulator)."""
    if not isinstance(was, dict):
        return False
    lengths = "allowed_seconds"
    if {k: v for k, v in was.items() if k != lengths} != {
        k: v for k, v in now.items() if k != lengths
    }:
        return False
    allowed = now.get(lengths)
    if was.get(lengths) == allowed or allowed is None:
        return True
    try:
        given = [float(sc["seconds"]) for sc in scenes]
        return all(any(abs(g - float(a)) < 1e-6 for a in allowed) for g in given)
    except (KeyError, TypeError, ValueError):
        return False


@dataclass(frozen=True)
class _Partial:
    """A paid planner's plan made again only for the goals that changed
    (`Pipeline._partial_replan`): goal numbers are goals.yaml's now, 1-based."""

    #: the goals changed or new, which the planner is asked for (in goals.yaml's order)
    changed: tuple[int, ...]
    #: goal -> its scenes as the last plan's planner made them (`PLANNED_META`),
    #: renumbered to the goal's place now (a goal that did not change)
    kept: Mapping[int, tuple[Scene, ...]]
    #: the closing the last plan's planner wrote, when goals.yaml gave none then nor now
    closing: str | None

    def sent(self, goals: Goals) -> Goals:
        """The goals the planner is asked for: the changed ones, with everything else
        goals.yaml gives (title, person, style, ...) as it is."""
        return goals.model_copy(update={"goals": [goals.goals[i - 1] for i in self.changed]})

    def merge(self, goals: Goals, made: Plan | None) -> Plan:
        """The whole plan: the kept goals' scenes, and `made` (the planner's plan of
        `sent`, its goals numbered 1..) renumbered into the changed goals' places."""
        from mindmovie.providers.local import closing_for

        scenes: list[Scene] = []
        ours = {} if made is None else {n: i for n, i in enumerate(self.changed, 1)}
        for i in range(1, len(goals.goals) + 1):
            if i in self.kept:
                scenes.extend(self.kept[i])
            elif made is not None:
                j = next(n for n, g in ours.items() if g == i)
                scenes.extend(_renumbered(sc, j, i) for sc in made.scenes if sc.goal == j)
        closing = (
            given_text(goals.closing)
            or self.closing
            or (made.closing if made is not None else None)
            or closing_for(goals)
        )
        return Plan(
            title=goals.title,
            closing=closing,
            style=goals.style,
            music=str(goals.music) if goals.music else None,
            scenes=scenes,
        )

    def ids(self, made: Plan) -> dict[str, str]:
        """`made`'s scene ids -> theirs in the whole plan."""
        return {
            sc.id: _renumbered(sc, sc.goal, self.changed[sc.goal - 1]).id
            for sc in made.scenes
            if 0 < sc.goal <= len(self.changed)
        }


@dataclass(frozen=True)
class Outlook:
    """What a render would do with a run's finished work (see `Pipeline.outlook`)."""

    #: the run's plan.yaml when the render would work from it; None = a new plan is made
    plan: Plan | None
    #: the plan the render would work from (the new one when the planner is local and
    #: deterministic); None when a remote planner would make it
    basis: Plan | None
    #: (scene id, "keyframe" | "clip") steps it would reuse
    reused: frozenset[tuple[str, str]]
    #: why a new plan is made (plan is None), in the render's words
    new_plan_why: str = ""
    #: the part of `reused` that is put back from kept/ (paid before with these inputs)
    restored: frozenset[tuple[str, str]] = frozenset()
    #: `plan` is the one kept for these goals (kept/plan), which replaces plan.yaml
    plan_kept: bool = False
    #: scene id -> the sha256 of the clip it would reuse (live or put back from kept/):
    #: what the movie's key holds, not the scene's id (`plan.movie_edits`)
    clips: Mapping[str, str] = field(default_factory=dict)
    #: scenes whose free local keyframe is painted again (its file gone or changed) and
    #: whose clip is reused if the new image comes out as the one it was made from
    if_same: frozenset[str] = frozenset()
    #: what changed since plan.yaml was made ("plan.scene_seconds changed"), when that is
    #: why a new plan is made: `status` names it on each scene's row
    new_plan_cause: str = ""
    #: scene id -> a paid clip job in flight that no step holds and that the render takes
    #: for the scene (`Pipeline._unheld_job`: an edit undone while it ran, a job
    #: `render --fresh` carried): its clip counts as paid, and `status` names that job
    jobs: Mapping[str, str] = field(default_factory=dict)
    #: scenes whose keyframe counts as paid because it is downloaded again from the
    #: result URL it was bought at (`Pipeline._refetch_kept`): free, but its provider's
    #: client downloads it (`Pipeline._providers_needed`)
    refetched: frozenset[str] = frozenset()
    #: (scene id, "keyframe" | "clip") -> the earlier scene that buys the very same
    #: request in the render, whose result it takes (`Pipeline._one_buyer`): costs nothing
    shared: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: scene id -> why the render may not buy the clip it is counted as buying, which
    #: only the render can tell (a lost request's job it may find; a clip made before it
    #: reuses if the free keyframe painted again comes out the same): `costs._as_maybe`
    maybe: Mapping[str, str] = field(default_factory=dict)
    #: the part of `reused` paid for and not yet here: a keyframe downloaded again from
    #: its kept result URL, a clip whose job the render polls or downloads again. The
    #: estimate's table said "done" of them, as of a file in the run (`costs._as_done`)
    paid: frozenset[tuple[str, str]] = frozenset()
    #: a paid planner's new plan made only for the goals that changed
    #: (`Pipeline._partial_replan`): the plan priced, the goals that did not change with
    #: their scenes, the changed ones' stand-ins (priced as new); None otherwise
    partial: Plan | None = None
    #: with `partial`: the goals its planner call is asked for (None: no call)
    planner_goals: Goals | None = None
    #: with `plan_kept`: the hand edits of plan.yaml the plan put back does not have (as
    #: `carry_edits` names them; ["?"] when they cannot be told): the render names them
    #: as it puts the plan back, and `status` said nothing of them before it
    kept_lacks: tuple[str, ...] = ()
    #: (scene id, "keyframe" | "clip") the render does not send: refused by the content
    #: filter as planned and as its fallback (`refused_whole`; a keyframe's clip with
    #: it): priced at nothing (`costs._as_refused`)
    refused: frozenset[tuple[str, str]] = frozenset()


@dataclass
class RenderResult:
    run_dir: Path
    movie: Path | None
    plan: Plan
    failed: dict[str, str] = field(default_factory=dict)
    #: the failed scenes whose paid result is gone (`ResultGone`): another render does
    #: not retry them, it buys them again (with the spend question)
    gone: set[str] = field(default_factory=set)
    #: the failed scenes whose request the provider refused as sent (`InvalidRequest`,
    #: `ContentRejected`): another render sends the same and is refused again, so their
    #: lines say what to change, not that a render retries them
    refused: set[str] = field(default_factory=set)
    ran: list[tuple[str, str]] = field(default_factory=list)
    reused: list[tuple[str, str]] = field(default_factory=list)
    #: what the reporter was told as information (`Pipeline._note_painted`): `plan`
    #: runs quiet, and prints them under its table
    notes: list[str] = field(default_factory=list)


class _Slot:
    """A semaphore slot that can be given back early, and is given back once at most."""

    def __init__(self, sem: asyncio.Semaphore) -> None:
        self.sem = sem
        self.held = False

    async def __aenter__(self) -> _Slot:
        await self.sem.acquire()
        self.held = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        if self.held:
            self.held = False
            self.sem.release()


def no_locks_message(folder: Path, e: OSError) -> str:
    """Why a render cannot run in `folder`, whose filesystem refused a lock (`e`): said
    by the render (`RunLock`) and by doctor's output dir row (`lock_problem`)."""
    return (
        f"{folder}: this filesystem cannot lock the run folder ({e.strerror}), which "
        "keeps two renders out of one run; render into a folder on a local disk with --out"
    )


def lock_problem(fd: int, folder: Path) -> str | None:
    """`no_locks_message` when the file open at `fd` (in `folder`, the run folder or
    the folder it is made in) cannot take the lock a render takes; None when it can
    (or another process holds it: the file is its own then). Released at once."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return None
    except OSError as e:
        return no_locks_message(folder, e)
    fcntl.flock(fd, fcntl.LOCK_UN)
    return None


class RunLock:
    """An OS file lock on the run directory, released by the kernel when the process dies."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / ".lock"
        self.fd: int | None = None
        #: the pid the lock file named when taken: the render before this one, ended
        #: (`media.kill_orphans` stops the encoders it left if it was killed)
        self.last_pid = 0

    def __enter__(self) -> RunLock:
        if self.path.is_symlink() and not link_loop(self.path):
            # opened through the link, the lock's truncate and pid emptied the file it
            # leads to (a person's notes.txt read "22454")
            raise RunDirError(
                f"{self.path}: is a symbolic link, not the run's lock (a file). Neither it "
                "nor what it leads to was changed: remove the link and render again"
            )
        if kind := special_kind(self.path):
            # a folder: "cannot write in the run folder (Is a directory); check its
            # permissions"; a named pipe: an OSError traceback (EINVAL) at its truncate
            raise RunDirError(
                f"{self.path}: is {kind}, not the run's lock (a file). It was not changed: "
                f"move it away (e.g. to {self.path.name}.bad beside it) and render again"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # (O_NOFOLLOW: a link made there since the look above is not followed)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as e:  # a read-only mount, another user's folder
            if chain := link_loop(self.path):
                # said "cannot write in the run folder (Too many levels of symbolic
                # links); check its permissions"
                raise RunDirError(
                    f"{self.path} is a symbolic link that leads back to itself ({chain}), "
                    "where the run's lock file belongs. It was not changed: remove the link "
                    "and render again"
                ) from None
            raise RunDirError(
                f"{self.path.parent}: cannot write in the run folder ({e.strerror}); "
                "check its permissions, or give another with --out"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            since = _held_since(os.fstat(fd).st_mtime)
            os.close(fd)
            raise RunLocked(_rendering_there(other, since, self.path.parent)) from None
        except OSError as e:
            # a filesystem without locks (NFS without lockd, some FUSE mounts: ENOLCK,
            # EOPNOTSUPP): going on unlocked could let two renders pay for the same work
            os.close(fd)
            raise RunDirError(no_locks_message(self.path.parent, e)) from None
        with contextlib.suppress(OSError, ValueError):
            self.last_pid = int(os.read(fd, 64).decode(errors="replace").strip() or 0)
        os.ftruncate(fd, 0)
        # at the start: the read moved the offset, and a write there left NUL bytes
        # before the pid, which no reader of the lock file (status, a render turned
        # away, the next render's `last_pid`) could read
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self.fd = fd
        return self

    def kept(self, run_dir: Path) -> str | None:
        """Is the lock still the file at `run_dir`/.lock (deleted by hand, a cleaner of
        dotfiles)? Taken again when it is not: a second render took the file made in its
        place, and two renders paid for the same work. None when held; else who holds
        the new one."""
        if self.fd is None:
            return None
        path = run_dir / ".lock"
        try:
            held, there = os.fstat(self.fd), os.stat(path)
            if (held.st_dev, held.st_ino) == (there.st_dev, there.st_ino):
                return None
        except OSError:
            pass
        try:
            # no mkdir: the folder is there; a link there is not followed (`__enter__`)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError:
            return None  # the folder gone: `Pipeline._run_dir_gone` says so
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            return other
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        os.close(self.fd)
        self.fd = fd
        return None

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _held_since(taken: float) -> str:
    """When a render took the run's lock (its pid written then, at `taken`), as
    `, since 09:12, 2 h 5 min ago`, for the message of a second render turned away: a
    render started hours after the first was told only its pid, not whether that one
    had just started or had run for hours. Under half a minute (which rounds to none) is
    "under a minute ago": it said "0 min ago"."""
    now = time.time()
    if taken > now + 60:
        # a lock file's time ahead of this clock (the clock set back, or no real-time
        # clock): it said "since 12:00, under a minute ago" of a time to come
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(taken))
        return f", its lock file dated {when}, ahead of this machine's clock"
    day = "%Y-%m-%d %H:%M" if now - taken >= 20 * 3600 else "%H:%M"
    ago = "under a minute" if now - taken < 30 else hours_minutes(now - taken)
    return f", since {time.strftime(day, time.localtime(taken))}, {ago} ago"


def _rendering_there(pid: str, since: str, run_dir: Path) -> str:
    """Why a render of `run_dir` cannot start while process `pid` renders it."""
    return (
        f"another mindmovie process (pid {pid}{since}) is rendering {run_dir}; wait for it "
        "to finish or stop it first"
    )


def rendering_message(run_dir: Path) -> str | None:
    """What `render` would say of `run_dir` (`RunLock`'s refusal) while another mindmovie
    process renders it (`rendering_pid`), else None; read-only, as `doctor` must not take
    the lock to find out (a render starting that instant would be refused)."""
    pid = rendering_pid(run_dir)
    if pid is None:
        return None
    try:
        since = _held_since(os.stat(run_dir / ".lock").st_mtime)
    except OSError:
        since = ""
    return _rendering_there(str(pid), since, run_dir)


def rendering_pid(run_dir: Path) -> int | None:
    """The pid of the mindmovie process rendering `run_dir` now, else None. Read-only
    (`status` must not take the lock: a render starting that instant would be refused):
    the pid the lock file names, if that process is alive and (where /proc tells) a
    mindmovie process, not an unrelated one that got the pid of a render since killed."""
    lock = run_dir / ".lock"
    if special_kind(lock) is not None:  # a named pipe: `status` waited forever to read it
        return None
    try:
        pid = int(lock.read_text(encoding="ascii", errors="replace").strip())
    except (OSError, ValueError):
        return None
    if pid <= 0 or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # alive, another user's
    except OSError:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return pid  # no /proc here: alive is all we can tell
    if b"mindmovie" not in cmdline:
        return None
    # the lock file of a project folder copied (`cp -r`) while it rendered names that
    # render too: status and doctor of the copy said a render was working on it, and
    # the copy's render ran all the same (the concurrent-use audit)
    return None if _holds_lock(pid, lock) is False else pid


def _holds_lock(pid: int, lock: Path) -> bool | None:
    """Whether process `pid` holds the lock (`flock`) on the file `lock`, as /proc/locks
    lists it ("1: FLOCK  ADVISORY  WRITE 8546 fe:00:2146869 0 EOF": its device, as
    hexadecimal major:minor, and inode); None where it cannot be told."""
    try:
        st = os.stat(lock)
        text = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in text.splitlines():
        fields = line.split()
        if "->" in fields:  # a process waiting for a lock, not holding it
            continue
        if len(fields) >= 6 and fields[4] == str(pid) and fields[5] == where:
            return True
    return False


def _same_picture(path: Path, data: bytes) -> bool:
    """Whether the picture file `path` holds the very pixels of the image `data` (a
    keyframe made again): size, mode and every pixel; False when it cannot be read."""
    import io
    import warnings

    from mindmovie.pillow import Image

    try:
        if not path.is_file():
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as old, Image.open(io.BytesIO(data)) as new:
                same = old.size == new.size and old.mode == new.mode
                return same and bytes(old.tobytes()) == bytes(new.tobytes())
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        return False


def _clean_temp_files(run_dir: Path) -> None:
    """Remove temp files a killed process left behind (they are never referenced)."""
    for pattern in (".*.tmp*", ".*.part"):  # atomic-write temps, partial downloads
        for p in run_dir.rglob(pattern):
            if p.is_file():
                p.unlink(missing_ok=True)
    # a compose chunk's working folder (its finished segments were already moved out)
    for d in run_dir.glob("compose/segments/.chunk-*"):
        if d.is_dir():
            shutil.rmtree(d, ignore_errors=True)


def _asked_key(store: Store, r: dict[str, Any]) -> str:
    """The input key a clip ledger row's request asked for: noted on the row when its
    answer was lost (`Store.ledger_note_lost`), else (a create in flight at a kill) its
    scene's clip step's, begun for that request and given no job id since ("" when the
    step tells nothing: the row's job, if any, is then given to no scene)."""
    lost = (r.get("usage") or {}).get("lost")
    if isinstance(lost, dict):
        return str(lost.get("input_key") or "")
    step = store.get(str(r["scene_id"]), "clip")
    if step is None or step.remote_id or step.status == "succeeded":
        return ""
    return step.input_key


def _still_asks(store: Store, r: dict[str, Any]) -> bool:
    """Does the scene's clip step still want what this clip ledger row's request asked
    for (no clip, no job journaled, the same inputs)? Then the row's job is its clip."""
    step = store.get(str(r["scene_id"]), "clip")
    if step is None or step.remote_id or step.status == "succeeded":
        return False
    return _asked_key(store, r) == step.input_key


def _a_time(raw: object) -> float | None:
    """A time read from run.db (a lost note's `sent_at`, a row's `created_at`), None when
    missing or not a time (edited by hand: a ValueError traceback from status and from
    every render before)."""
    if isinstance(raw, bool):
        return None
    try:
        t = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return t if math.isfinite(t) and t > 0 else None


#: how long a render waits for a job whose status the provider gives in a word the
#: client does not know (`JobState.unknown_status`: Ark adding one, "preprocessing" or
#: one that ends the task): taken for failed, the job was refunded at $0 while Ark made
#: and billed it; taken for running, a status that never changes held every render for
#: the job's whole deadline (15 min). Its row stays committed; the next render looks again
UNKNOWN_STATUS_PATIENCE = 120.0


def _still_running(provider: str) -> str:
    """What a scene's message adds when a render stops waiting for its job (its deadline,
    or its polls failing until then): the job keeps running (and bills) at the provider,
    and the next render costs nothing more. "`render` again retries them" alone read as
    a new try, paid again. '' for local clips."""
    if provider == "local":
        return ""
    return (
        f"; it is still running at {provider} and bills: the next render waits for this "
        f"same job, paying nothing more (a new job only if {provider} says it failed; "
        f"providers.{provider}.job_deadline is how long a render waits)"
    )


def _row_made_at(r: Mapping[str, Any]) -> float:
    """When a ledger row was made, to look for its job from (the list from then on): its
    `created_at`, else its `updated_at`, else LATE_JOB_HORIZON back (a job made for it
    is no later than that: listed, not missed). A time edited by hand was a ValueError
    traceback from every render's look for a create in flight at a kill."""
    made = _a_time(r.get("created_at")) or _a_time(r.get("updated_at"))
    return made or time.time() - LATE_JOB_HORIZON


def _recent(r: Mapping[str, Any], now: float) -> bool:
    """Was ledger row `r` made within KNOWN_JOB_SECONDS? A time edited by hand to no time
    is taken as recent: its job's age unknown, a 404 is not taken for it forgotten (it
    was a ValueError traceback from the render that polled it)."""
    made_at = _a_time(r.get("created_at"))
    return made_at is None or now - made_at <= KNOWN_JOB_SECONDS


def _nearest_first(jobs: Iterable[Any], sent_at: float) -> list[Any]:
    """Jobs no row knows listed for ONE lost request (sent at `sent_at`), the one it
    takes first: the one made nearest the time it was sent, its own. The list shows
    every job of the account since a minute before (`_unjournaled_jobs`, the clocks'
    leeway): another client's made just before (another project's render, its run
    folder out of `_jobs_other_runs_know`'s sight) or after (one rendered before a
    killed render's resume), a refunded request's very late one (`_book_extra_jobs`
    puts it back on its row). The earliest was taken: a render just after another
    project's took that project's job for its scene's clip (another movie's picture in
    this one) and left its own paid job unused. Nearest is a guess too: it holds while
    this machine's clock and the provider's agree to within a few seconds (both kept by
    NTP); a clock s seconds ahead takes another client's job made within about 2s after
    its own (the list cannot tell them apart: it shows no prompts). A listed time is
    whole seconds (Ark's `created_at`, the second the job was made in): its distance is
    to that whole second, [c, c + 1). Measured to c, a request sent at 17.9 s whose job
    was made in second 17 was 0.9 s from it and 0.1 s from another client's job of
    second 18, which it took (a crash test failed so, now and then)."""

    def distance(t: Any) -> float:
        made = float(t.created_at)
        return max(0.0, made - sent_at, sent_at - (made + 1))

    return sorted(jobs, key=lambda t: (distance(t), str(t.remote_id)))


def _lost_sent_at(r: Mapping[str, Any]) -> float:
    """When a clip row's request was sent: its lost note's time, else the row's, else
    now (a damaged time: its job is then waited for the whole grace, the safe side)."""
    lost = (r.get("usage") or {}).get("lost")
    sent = _a_time(lost.get("sent_at")) if isinstance(lost, dict) else None
    return sent or _a_time(r.get("created_at")) or time.time()


def origin_changes(
    then: Mapping[str, str], now: Mapping[str, str], names: Mapping[str, str]
) -> list[str]:
    """What differs between where a video job was made (`then`, run.db's `job_origin`)
    and where it would be asked now (`now`), each said by its setting's name (`names`):
    a base URL, mode, project or location with its values; a key only as "not the one it
    was made with" (never the key, nor its fingerprint; a mode that uses none, Vertex
    project mode, is said by the mode). [] when nothing does. An origin recorded before
    base URLs were recorded without their credentials is compared (and said) without
    them (`hide_url_secrets`), as `now` has them."""
    changed = []
    for field_name in sorted(set(then) | set(now)):
        was, is_ = then.get(field_name, ""), now.get(field_name, "")
        if field_name != "key":
            was, is_ = hide_url_secrets(was), hide_url_secrets(is_)
        if was == is_:
            continue
        name = names.get(field_name, field_name)
        if field_name == "key":
            if field_name in then and field_name in now:
                changed.append(f"the key ({name}) is not the one it was made with")
        else:
            changed.append(f"{name} was {was or '(not set)'!r}, now {is_ or '(not set)'!r}")
    return changed


def recorded_origin_changes(
    then: Mapping[str, str],
    origin_for: Callable[[str | None], tuple[dict[str, str], dict[str, str]] | None],
) -> list[str]:
    """`origin_changes` of a recorded origin (`then`, run.db's `job_origin`) and where a
    job is asked now, made by `origin_for(salt)`: with the salt `then`'s key fingerprint
    was made with (None: the run's). A salt not readable (edited by hand) leaves the key
    out: not known to differ. The render and `status` both: `status` compared the
    recorded salt itself as a setting, and said a request made with the very settings
    it was given was made with others."""
    then = dict(then)
    salt = then.pop("salt", None)
    if salt is not None:
        try:
            bytes.fromhex(salt)
        except ValueError:
            salt = None
            then.pop("key", None)
    made = origin_for(salt)
    if made is None:
        return []
    now = {k: v for k, v in made[0].items() if k != "salt"}
    return origin_changes(then, now, made[1])


def _looked_for_after_refund(r: Mapping[str, Any], provider: str, now: float) -> bool:
    """A clip create of `provider` whose answer was lost, refunded with no job listed,
    whose job the render still looks for in the provider's job list
    (`Pipeline._find_jobs_made_after_refund`, within LATE_JOB_HORIZON): a call to the
    provider, so its key is needed (`Pipeline._needed_in`)."""
    return (
        r["stage"] == "clip"
        and r["provider"] == provider
        and r["state"] == "refunded"
        and not r["remote_id"]
        and isinstance((r.get("usage") or {}).get("lost"), dict)
        and now - _lost_sent_at(r) < LATE_JOB_HORIZON
    )


def fresh_carried(db: Path) -> list[tuple[dict[str, Any], tuple[str, float] | None]]:
    """The ledger rows of run.db `db` (a run `render --fresh` sets aside) that the fresh
    run carries (`_carried_on`), each with its recorded job input; [] when there is no
    run.db or it cannot be read (then nothing is carried either). Read-only."""
    if not db.is_file():
        return []
    try:
        old = Store(db, read_only=True)
    except (StoreError, sqlite3.Error, OSError):
        return []
    try:
        return [(r, old.job_input(int(r["id"]))) for r in _carried_rows(old)]
    except (StoreError, sqlite3.Error, OSError):  # (a ledger damaged by hand: none)
        return []
    finally:
        old.close()


def _carried_rows(old: Store) -> list[dict[str, Any]]:
    """The ledger rows of `old` (the run.db `render --fresh` sets aside) that the fresh
    run carries: read by its spend question (`fresh_carried`, a read-only copy) and by
    the carry itself (`Pipeline._carry_fresh_jobs`), both with the receipts taken up
    first (`Store.take_receipts`), so the jobs counted are the jobs carried: a Veo job
    whose id only a receipt held was counted as held there and not carried here, and
    the fresh run bought it again."""
    return [r for r in old.ledger_rows() if _carried_on(r)]


def _carried_on(r: Mapping[str, Any]) -> bool:
    """Is ledger row `r`, of the run `render --fresh` sets aside, a clip job still in
    flight that the new run carries (`Pipeline._carry_fresh_jobs`) and whose hold it
    counts from then on (`Pipeline._fresh_carry_held`)?"""
    return (
        r["stage"] == "clip"
        and r["state"] == "committed"
        and bool(r["remote_id"])
        and r["provider"] != "local"
    )


#: the error_kind a step stopped by each of these is failed with (a provider's error
#: has its own `kind`; anything else met at the gate is a key not set: "auth")
_STOP_KINDS: dict[type[Exception], str] = {BudgetExceeded: "budget", Interrupted: "interrupted"}


def recorded_outputs(store: Store, *more: OutputSettings) -> tuple[OutputSettings, ...]:
    """The `output`s a run's paid keyframes and clips can have been keyed by (with the
    frame size and fps, until 2026-12-04), as far as recorded: `OUTPUTS_META` once a
    render wrote it, else the last render's (`SETTINGS_META`: a run no render has opened
    since), then `more`; each once. Reads only `store` (`status`, `estimate`: read-only)."""
    found: list[Any] = []
    frozen = store.get_meta(OUTPUTS_META)
    try:
        value = json.loads(
            frozen if frozen is not None else store.get_meta(SETTINGS_META) or "null"
        )
    except ValueError:
        value = None  # edited by hand: not known
    if isinstance(value, list):
        found += value
    elif isinstance(value, dict):
        found.append(value.get("output"))
    out: dict[tuple[Any, ...], OutputSettings] = {}
    for raw in [*found, *more]:
        try:
            o = OutputSettings.model_validate(raw)
            out.setdefault((o.aspect, o.resolution, o.frame(), o.fps), o)
        except (ValueError, TypeError):  # (pydantic's ValidationError is a ValueError)
            continue
    return tuple(out.values())


def standing_clip_keys(store: Store, keys: Sequence[str]) -> list[str]:
    """Of a clip's requests' keys (`Pipeline._clip_variants`, as planned first), those
    whose result stands for the scene's clip: the planned one's, and a content-filter
    fallback's only when it was asked as one (`Store.counts_as_fallback`). The render,
    the estimate, `status` and the storyboard all ask this: the audio-off fallback is
    the request planned with audio off, and a silent clip made so was reused as the
    fallback once `video.audio` was turned on ($0.00, "reuse", the movie silent)."""
    return [k for i, k in enumerate(keys) if i == 0 or store.counts_as_fallback(k)]


def moving_fresh(run_dir: Path) -> tuple[Path, list[str]] | None:
    """The previous/<time>/ a `render --fresh` was killed moving the run into, and the
    names it moves (its FRESH_MOVING), before the new run.db holding FRESH_META was
    committed: the move under way (run.db, moved last, still in the run folder) or no
    journal in the run folder (none, or the new one left empty); for an old run with no
    run.db (deleted by hand), a committed run.db here is the new run's. The next render
    puts it back (`Pipeline._put_back_moving_fresh`), `status` says so. None otherwise: a mark
    left behind once that run.db was committed (its removal failed) is no move under
    way, and putting the old run's files back into the new run mixed two runs."""
    try:
        marked = sorted((run_dir / "previous").glob(f"*/{FRESH_MOVING}"))
        if not marked:
            return None
        dest = marked[-1].parent
        names = [str(n) for n in json.loads(marked[-1].read_text(encoding="utf-8"))]
        db = run_dir / "run.db"
        # the old run's run.db moved (or it had none: a run.db deleted by hand, then
        # --fresh), and a committed one here: the new run's
        moved = (dest / "run.db").exists() or "run.db" not in names
        if moved and db.is_file() and not journal_missing(db):
            return None
    except (OSError, ValueError, TypeError):
        return None
    return dest, names


def first_try(step: Step | None, variants: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """The (input key, seconds) a render's `_clip` asks first: the planned request, or
    its fallback when the planned one was refused by the content filter last time. An
    unheld job counts as paid (`Pipeline._reused_steps`) only for that request: one for
    another variant is not taken before a new job is bought."""
    if step is not None and step.error_kind == "content_rejected":
        rest = [v for v in variants if v[0] != step.input_key]
        return (rest or list(variants))[0]
    return variants[0]


def _recorded_clip_facts(value: str | None) -> tuple[bool, str, str] | None:
    """A clip's facts as run.db records them (`CLIP_FACTS_META`); None for none, one of
    another version, or one damaged by hand (the clip is probed again: nothing lost)."""
    if value is None:
        return None
    try:
        rec = json.loads(value)
        has_audio, matrix, hdr = rec["facts"]
        if rec.get("v") != CLIP_FACTS_VERSION:
            return None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    from mindmovie.media import HDR_TRANSFERS, MATRICES

    # only what `clip_facts` gives: the matrix goes into the compose's filters, and one
    # edited to another word failed every compose as ffmpeg's ("Unable to parse")
    if (
        isinstance(has_audio, bool)
        and isinstance(matrix, str)
        and isinstance(hdr, str)
        and matrix in ("", *MATRICES)
        and hdr in ("", *HDR_TRANSFERS)
    ):
        return has_audio, matrix, hdr
    return None


class Pipeline:
    """One render of one goals file into one run directory."""

    def __init__(
        self,
        goals_path: Path,
        settings: Settings,
        *,
        out: Path | None = None,
        reporter: Reporter | None = None,
        keys: Keys | None = None,
        budget: float | None = None,
        confirm: Callable[[costs.RunEstimate], bool] | None = None,
        budget_named: str = "--budget",
    ) -> None:
        """`budget` (USD) overrides settings.budget_usd. `confirm` is asked, with the
        estimate, before the first paid call of this run; None means go ahead.
        `budget_named`: the cap a budget stop says to raise, as the person set it (the
        CLI's `_budget_named`): "Raise --budget" of a cap set by MINDMOVIE_BUDGET_USD
        or config.yaml's budget_usd sent them to a flag they had not given."""
        self.goals_path = goals_path
        self.budget = budget if budget is not None else settings.budget_usd
        self.budget_named = budget_named
        self.confirm = confirm
        self.goals = load_goals(goals_path)
        self.settings = settings
        self.keys = keys
        self._plan_keys_memo: dict[tuple[str, str], tuple[str, ...]] = {}
        #: `_warn_left_out`'s warnings given: once each, at plan and again at compose not
        self._left_out_told: set[tuple[str, str, str]] = set()
        keys_now = SameMovie(
            self._plan_keys(_planner_identity(settings)),
            tuple(plan_parts(self.goals, goals_path.absolute().parent.resolve())["goals"]),
        )
        self.run_dir = run_dir_for(self.goals, settings, out, goals_path, keys_now)
        self._out_given = out is not None
        #: outputs/<slug of the title>: where the run goes when run_dir is an earlier run
        #: of these goals under their old title (it is renamed there, see `_follow_title`)
        self._home = _not_an_option(settings.output_dir / folder_name(self.goals.title))
        #: the working folder's run folder, when the run goes on beside goals.yaml instead
        self._not_here: Path | None = None
        where = "beside it"
        if out is None and (
            found := run_beside(self.goals, settings, goals_path, keys_now, self.run_dir)
        ):
            beside, source = found
            self._not_here, self.run_dir = self.run_dir, _not_an_option(beside)
            self._home = _not_an_option(beside.parent / folder_name(self.goals.title))
            if source != Path(os.path.abspath(goals_path)).parent:
                where = f"rendered from {source}"
        #: the run folder is renamed to this (`_home`) once the spend is agreed to
        #: (`_rename_to_title`), not before: declined, the folders stay as they were
        self._rename_to: Path | None = None
        self.reporter: Reporter = reporter or NullReporter()
        for note in self.goals.notes:  # loaded, but maybe not as meant (`#blessed`)
            self.reporter.warn(note)
        if self._not_here is not None:
            self.reporter.warn(
                f"{goals_path.name} was rendered before in {self.run_dir} ({where}), not "
                f"in {self._not_here} under the working folder: going on there, so nothing "
                f"made is bought again (--out {self._not_here} starts a new run here)"
            )
        self.result: RenderResult | None = None
        #: the render's result once it has ended as done (`run` returns it): a stop signal
        #: after that, its graceful stop removed, stops nothing of it (the CLI says so)
        self.finished: RenderResult | None = None
        self._sems: dict[str, asyncio.Semaphore] = {}
        #: (stage, input key) -> the turn of the scenes asking those very inputs: `_one_buyer`
        self._buyers: dict[tuple[str, str], asyncio.Lock] = {}
        #: scene id -> set when the scene's flow in this render has ended: `_job_holder`
        self._flows_done: dict[str, asyncio.Event] = {}
        #: each scene flow's error, once it ended with one (`_check_held_by_another`)
        self._flow_errors: dict[str, BaseException] = {}
        #: scene id -> the clip requests (keys) it asked in this render (`_clip`)
        self._asked_clip: dict[str, set[str]] = {}
        #: input key -> the scene whose paid result of it was found gone in this render
        #: (a clip job's, an image's URL): a scene asking the same is not sold it unasked
        self._gone_keys: dict[str, str] = {}
        #: scene id -> the scene whose flow it waits for (`_clip`): never in a circle
        self._waiting_for: dict[str, str] = {}
        self._video_model: VideoModel | None = None
        #: (provider, salt) -> (where it makes a video job now, its fields' names): `_origin`
        self._origins: dict[tuple[str, str], tuple[dict[str, str], dict[str, str]] | None] = {}
        self._salt: str | None = None  # the run's `origin_salt`, hex
        #: `estimate --let-go`: price what `render --let-go` buys, asking no provider
        #: (`_may_let_go`)
        self._let_go_guess = False
        #: journaled jobs polled by `_none_known` this render: known (True) or a 404
        self._known: dict[str, bool] = {}
        #: jobs no step uses kept as made with other settings, told of (once a render)
        self._told_elsewhere: set[str] = set()
        #: creates with no job id (answer lost, or in flight at a kill) made with other
        #: settings than now, kept: scene -> [(row, what changed)] (`_keep_lost_elsewhere`)
        self._lost_elsewhere: dict[str, list[tuple[int, str]]] = {}
        #: `render --let-go`: this render lets go of the jobs and lost creates kept only
        #: because the provider settings changed since they were made (never remembered)
        self._let_go = False
        #: those jobs, found before the estimate (`_find_let_go`): job id -> why kept
        self._letting_go: dict[str, str] = {}
        self._keyframe_provider = ""  # the keyframe model's provider in this render
        self._submit_locks: dict[str, asyncio.Lock] = {}
        #: the clips queued behind one waiting at the budget gate for their turn to send
        #: (said "waiting for the budget"), until let through (`_budget_wait`)
        self._behind_gate: set[str] = set()
        #: the scenes whose call waits at the budget gate now (`_budget_wait`)
        self._at_gate: set[str] = set()
        #: per provider: the scene whose turn it is to send, the scenes waiting for it
        self._turn_holder: dict[str, str] = {}
        self._turn_waiters: dict[str, set[str]] = {}
        #: ledger rows of submissions whose answer was lost and whose job the provider
        #: did not list yet (row -> time sent): settled after the clips stage
        self._lost_rows: dict[int, float] = {}
        #: those rows' waits (`_waited`): row -> (time.monotonic(), seconds since it was
        #: sent by the wall clock), when noted
        self._lost_since: dict[int, tuple[float, float]] = {}
        #: those rows' requests: (scene id, input key)
        self._lost_requests: dict[int, tuple[str, str]] = {}
        #: lost rows waited for less than the grace: answered by the service (a 500)
        self._lost_grace: dict[int, float] = {}
        #: providers a create answered 500/503 of which, in this render, listed no job
        #: within `ANSWERED_GRACE`: their such answers made no job here, so later ones
        #: are refunded at the next look, not waited for again (`ANSWERED_AGAIN_GRACE`)
        self._answered_empty: set[str] = set()
        #: those of the rows that an earlier run sent (carried over by _recover_orphans):
        #: their scene waits for the late job before paying again (`_await_late_job`)
        self._carried: set[int] = set()
        #: scenes in `_await_late_job` -> the input keys (variants) they take a late job of
        self._asking: dict[str, Collection[str]] = {}
        #: scenes held in `_wait_for_late_jobs`: the one that looks updates every one's
        #: note (the seconds left), not only its own
        self._held: set[str] = set()
        #: lost rows the person was told the provider's submissions wait for
        self._told_waiting: set[int] = set()
        #: per provider: one scene at a time looks at the job list for late jobs
        self._watch_locks: dict[str, asyncio.Lock] = {}
        #: see LATE_JOB_GRACE (tests shorten it)
        self.late_job_grace = _late_job_grace()
        #: shortest observed job duration per model in this run (for polling near the end)
        self._job_seconds: dict[str, float] = {}
        #: text-to-image model for scenes an edit keyframe model has no photo for
        self._kf_text: tuple[KeyframeModel, Settings] | None = None
        #: built by run() before the run folder is touched (`_build_providers`)
        self._providers: tuple[Planner, KeyframeModel, VideoModel] | None = None
        #: provider -> the placeholder built in its place: its key is not set, and this
        #: render calls it for nothing (`_keyless_spare`, `registry.Keyless`)
        self._keyless: dict[str, registry.Keyless] = {}
        #: the stages this render calls whose provider's key is not set (`_keyless_spare`)
        self._stages_needed: set[str] | None = None
        #: run()'s `until` and `fresh`, which `_providers_needed` goes by
        self._until: Until = "movie"
        self._fresh = False
        self._kf_text_told = False
        self._stopping = False
        #: the stop signal heard (`on_sigint`): what "stopped by ..." names
        self._stop_signal: int = signal.SIGINT
        #: why the render stopped when no signal stopped it (`_watch_run_dir`: the run
        #: folder or its journal gone, or taken by another render)
        self._stop_cause: str | None = None
        #: Ctrl-C at the spend question: nothing was sent, as for a "no" (`_run_locked`)
        self._stopped_at_question = False
        #: a stop signal was heard (set by the handler itself, before the loop takes the
        #: stop up as `_stopping`): an offline clip's ffmpeg ended by the same Ctrl-C
        #: is the stop whichever of the two is seen first (`_ended_by_the_stop`)
        self._signalled = False
        #: (provider, model) whose key or access the provider refused in this run
        self._refused: dict[tuple[str, str], AuthError] = {}
        #: (provider, model) a call of which the provider refused for the person's own
        #: setting in this run (a model id not found or not activated, an option it
        #: refuses: `InvalidRequest.setting`): every other call would be refused alike
        self._refused_setting: dict[tuple[str, str], InvalidRequest] = {}
        #: (provider, model) that answered a paid call in this run; until one has, its
        #: calls go one at a time (`_first_call`), so a setting it refuses is told once
        #: with one request sent, not by every scene's call sent at once
        self._answered: set[tuple[str, str]] = set()
        self._first_locks: dict[tuple[str, str], asyncio.Lock] = {}
        #: ledger row -> the first-call lock its call holds until answered
        self._first_held: dict[int, asyncio.Lock] = {}
        self._stop_event = asyncio.Event()
        #: (device, inode) of the run folder this render locked (`_run_dir_gone`)
        self._run_dir_id: tuple[int, int] | None = None
        #: the run folder open while `_run` runs (`_open_folder`)
        self._run_dir_fd: int | None = None
        #: when it locked it: what is written at the path since may be its own (`remove_remade`)
        self._locked_at: float | None = None
        #: the run folder's parents' `folder_id`s then (`_remove_remade_parents`)
        self._parent_ids: list[tuple[Path, tuple[int, int] | None]] = []
        #: run.db's (device, inode) once the render opened it (`_journal_went`), and the
        #: line said when the watcher found it gone (deleted or moved during the render)
        self._journal_id: tuple[int, int] | None = None
        self._journal_gone = ""
        #: the run folder's lock this render holds, and why it stopped when another
        #: render took the folder (its .lock deleted: `_watch_run_dir`)
        self._run_lock: RunLock | None = None
        self._pid_before = 0  # (`_follow_title`, `_stop_orphan_encoders`)
        self._lock_taken = ""
        #: the run folder held for `make_dirs` while locked: no write makes it again
        self._held_dir: HeldFolder | None = None
        #: paid calls whose answer is the result (an image, a plan: no task to poll later) in
        #: flight: ledger row -> (what, the loop time by which it is answered or has
        #: failed: `_answer_seconds`). The stop's grace waits for them (`_grace_over`)
        self._paid_in_flight: dict[int, tuple[str, float]] = {}
        #: paid answers this render could keep nowhere (not in their place, nor under
        #: kept/, nor in a receipt: the file size limit below the picture's size, a
        #: full disk): said in the render's last line, which says finished work is kept
        self._paid_not_kept: list[str] = []
        #: the lines naming clip jobs made and paid for that nothing could record
        #: (`_job_not_kept`), said with `_paid_not_kept`'s
        self._jobs_not_kept: list[str] = []
        self._told_paid_wait = False
        #: the stop's pending grace timer (`_grace_over`), cancelled when the render ends
        self._grace_timer: asyncio.TimerHandle | None = None
        #: plan.yaml's scenes as written, when the plan in use has rebased paths
        self._plan_yaml_scenes: dict[str, Scene] = {}
        #: previous/<time>/ of this render, where files changed by hand are moved
        self._changed_dir: Path | None = None
        #: no run.db, and the folder holds a run's keyframes, clips or movie: they are
        #: moved aside (`_set_aside_unjournaled`) once the spend is agreed to, not before
        self._aside_pending = False
        #: --fresh: previous/<time>/ and the entries moved there, until the spend is
        #: agreed to (`_undo_fresh` puts them back if it is not)
        self._fresh_moved: tuple[Path, list[str]] | None = None
        #: plan.yaml as the render read it to make its scenes (`_warn_plan_edited_during`)
        self._plan_read: tuple[object, ...] | None = None
        #: --fresh agreed to: the old run is set aside for good, and this render's run is
        #: resumed by a render without --fresh (`without_fresh`)
        self.fresh_set_aside = False
        #: the goals.yaml the run folder's last render was made from (None: not known)
        self._last_goals: str | None = None
        self._last_goals_rel: str | None = None
        #: `_outputs_before` as this render found it, before it recorded its own settings
        self._outputs_then: tuple[OutputSettings, ...] | None = None
        #: plan.yaml as read, with goals.yaml's changed title/closing/music (`_with_shown`)
        self._plan_raw: Plan | None = None
        self._shown_changed: list[str] = []
        #: sha256 of a photo re-saved with the same look -> the sha256 this run keys that
        #: look by (`_learn_photos`); None until looked up
        self._photo_ids: dict[str, str] | None = None
        #: the photos plan.yaml names, by place (`plan_photos`): as recorded when it was
        #: written, which a photo renamed since is followed from (`_reusable_plan`)
        self._plan_photos: list[list[str]] | None = None
        #: other runs' run.db -> (what it was when read, `_db_signature`; the job ids it
        #: journals): `_jobs_other_runs_know` reads each again only once it changed
        self._other_runs: dict[Path, tuple[tuple[object, ...], frozenset[str]]] = {}
        #: when this render's estimate (and spend question) was made: a kept result
        #: URL it counted as paid is taken as such for the whole render (`_refetch_kept`)
        self._estimated_at: float | None = None

    # ------------------------------------------------------------------ helpers
    def _submit_lock(self, provider: str) -> asyncio.Lock:
        if provider not in self._submit_locks:
            self._submit_locks[provider] = asyncio.Lock()
        return self._submit_locks[provider]

    @contextlib.asynccontextmanager
    async def _turn_to_send(self, provider: str, scene_id: str) -> AsyncIterator[None]:
        """A clip's turn to send (`_submit_lock`), kept track of: while the scene whose
        turn it is waits at the budget gate (minutes, for clip jobs in flight), the scenes
        waiting for the turn wait for the budget too. They said 'clips submitting'."""
        waiters = self._turn_waiters.setdefault(provider, set())
        waiters.add(scene_id)
        if self._turn_holder.get(provider) in self._at_gate:
            self._queued_behind_gate(scene_id)
        try:
            async with self._submit_lock(provider):
                waiters.discard(scene_id)
                self._turn_holder[provider] = scene_id
                try:
                    yield
                finally:
                    del self._turn_holder[provider]
        finally:
            waiters.discard(scene_id)

    def _queued_behind_gate(self, scene_id: str) -> None:
        """Say a clip waits for its turn behind one waiting at the budget gate."""
        if scene_id not in self._behind_gate:
            self._behind_gate.add(scene_id)
            self.reporter.step("clips", scene_id, "queued", "waiting for the budget")

    def _watch_lock(self, provider: str) -> asyncio.Lock:
        if provider not in self._watch_locks:
            self._watch_locks[provider] = asyncio.Lock()
        return self._watch_locks[provider]

    @contextlib.asynccontextmanager
    async def _one_buyer(self, stage: str, key: str, scene_id: str) -> AsyncIterator[None]:
        """Scenes asking a paid model for the very same inputs (a scene copied in
        plan.yaml, a planner repeating itself) take turns: the first buys, the others then
        find its result (`Store.find_kept` takes another scene's live result of the same
        key) and pay nothing. Before, each bought its own at once, and the render after
        used one for both: the other was paid for and thrown away. Free (local) work is
        made by each scene, as `find_kept` wants it (the callers do not ask for local)."""
        turn = self._buyers.setdefault((stage, key), asyncio.Lock())
        if turn.locked():
            self.reporter.step(f"{stage}s", scene_id, "queued")  # the same request's turn
        async with turn:
            yield

    def _sem(self, provider: str, stage: str) -> asyncio.Semaphore:
        """The concurrency limit for a provider's stage.

        Remote providers limit running tasks per model, so keyframes and videos get a
        limit each (a video can start while other scenes' keyframes are still being
        made). Local work is CPU-bound: one limit for all local stages.
        """
        key = provider if provider == "local" else f"{provider}:{stage}"
        if key not in self._sems:
            n = self.settings.provider_settings(provider).max_concurrent
            self._sems[key] = asyncio.Semaphore(max(1, n))
        return self._sems[key]

    def _plan_options(self) -> PlanOptions:
        """Planner inputs; scene seconds snap to what the chosen video model can make."""
        return costs.plan_options(self.settings)

    def _chains_frames(self, spec: ModelSpec | None = None) -> bool:
        """video.chain_frames is on and the video model (`spec`, else this run's) takes a
        last frame."""
        spec = spec or getattr(self._video_model, "spec", None)
        return bool(
            self.settings.video.chain_frames and spec is not None and spec.capabilities.last_frame
        )

    def _mark(self, res: RenderResult, ran: bool, scene_id: str, stage: str) -> None:
        (res.ran if ran else res.reused).append((scene_id, stage))

    def _budget_wait(self, scene_id: str, stage: str, waiting: bool) -> None:
        """A scene's paid call waits at the budget gate for calls in flight to settle
        (minutes, for a clip job): it is queued, not being sent ('clips submitting'
        for as long, as the live view said), and is sent once let through."""
        step = _VIEW_STAGE.get(stage)
        if step is None:  # the plan: nothing is in flight before it
            return
        if waiting:
            self._at_gate.add(scene_id)
            self.reporter.step(step, scene_id, "queued", "waiting for the budget")
            for provider, holder in self._turn_holder.items():
                if holder == scene_id:  # those waiting for its turn wait for the budget too
                    for waiter in sorted(self._turn_waiters.get(provider, ())):
                        self._queued_behind_gate(waiter)
        else:
            self._at_gate.discard(scene_id)
            self._behind_gate.discard(scene_id)
            self.reporter.step(step, scene_id, _SENDING[step])

    @property
    def stopped(self) -> bool:
        """A stop signal came during the render, which may have ended as done all the
        same (its last step finished in the stop's grace, or before the stop was heard)."""
        return self._stopping

    def _stopped_by(self) -> str:
        """What stopped the render, as its steps' errors say it: "Ctrl-C", or the signal's
        name (a `kill` sends SIGTERM: `status` said "stopped by Ctrl-C" of it)."""
        if self._stop_signal == signal.SIGINT:
            return "Ctrl-C"
        try:
            return signal.Signals(self._stop_signal).name
        except ValueError:
            return f"signal {self._stop_signal}"

    def _stop_said(self) -> str:
        """The error a step stopped is journaled with: "stopped by SIGTERM", or what
        stopped it when no signal did ("stopped: another render took ...")."""
        if self._stop_cause is not None:
            return f"stopped: {self._stop_cause}"
        return f"stopped by {self._stopped_by()}"

    def _check_stop(self) -> None:
        """After Ctrl-C nothing new starts; raising here unwinds the scene's flow."""
        if self._stopping:
            raise Interrupted(self._stop_said())

    # ------------------------------------------------------------------ money
    async def _reserve(
        self,
        scene_id: str,
        stage: str,
        model: Planner | KeyframeModel | VideoModel,
        usd: float,
        hold: float | None = None,
        job_input: dict[str, Any] | None = None,
    ) -> int | None:
        """Pass the budget gate before a paid call (local calls are free and skip it).
        `hold`: the most the call can bill (see costs.*_hold), what the gate counts;
        `job_input`: what a clip job is made from (`Store.job_input`)."""
        self._check_stop()
        if model.name == "local":
            return None
        if isinstance(model, registry.Keyless):
            model.refuse()  # before any ledger row: nothing sent, nothing to settle
        self._check_free_space()
        self._check_refused_key(model)
        if stage == "plan":
            self._check_refused_setting(model)
            return await self.gate.reserve(
                scene_id, stage, model.name, model.model, usd, hold, job_input=job_input
            )
        # (waited for before the row is made: a call never sent has no ledger row)
        step = _VIEW_STAGE.get(stage)
        lock = self._first_locks.get((model.name, model.model))
        waits = step is not None and lock is not None and lock.locked()
        if waits and step is not None:
            # held back while the model's first call goes alone: queued, not being sent
            # ("keyframes running" of three scenes, one request sent, as the view said)
            self.reporter.step(
                step, scene_id, "queued", f"waiting for {model.model}'s first answer"
            )
        first = await self._first_call(model)
        try:
            # (again: Ctrl-C, or the first call's refusal of the key, may have come while
            # this call waited for it; those waiting were each sent after a 401)
            self._check_stop()
            self._check_refused_key(model)
            self._check_refused_setting(model)
            if waits and step is not None:
                self.reporter.step(step, scene_id, _SENDING[step])
            # a clip's job can be polled only where it was made: keep where that is
            origin = self._origin(model.name) if stage == "clip" else None
            row = await self.gate.reserve(
                scene_id,
                stage,
                model.name,
                model.model,
                usd,
                hold,
                origin=origin,
                job_input=job_input,
                earmark=self._clip_earmark(scene_id) if stage == "keyframe" else 0.0,
            )
        except BaseException:
            if first is not None:
                first.release()
            raise
        if first is not None:
            if row is None:
                first.release()
            else:
                self._first_held[row] = first  # released once answered: `_settle_errors`
        return row

    def _clip_earmark(self, scene_id: str) -> float:
        """The room a paid keyframe keeps in the budget for its scene's clip, to come
        (`BudgetGate.reserve`), with a budget, a paid video model and the render going on
        to clips; else 0. The clip's hold, what the gate will count it at: at its
        estimate, a budget in the "may stop" zone still bought a keyframe whose clip
        then did not fit (each clip billing its extra frame). Within the least budget
        that surely finishes (`RunEstimate.most_held`: the estimate and what each scene
        call is held above it), as doctor and the spend question say."""
        video = self._video_model
        plan = self.result.plan if self.result is not None else None
        if self.gate.cap is None or self._until in ("plan", "keyframes") or plan is None:
            return 0.0
        if video is None or video.name == "local":
            return 0.0
        try:
            scene = plan.scene(scene_id)
        except KeyError:
            return 0.0
        return costs.video_hold(self.settings, self._clip_seconds(scene))

    def _ended_by_the_stop(self, e: BaseException) -> bool:
        """Is `e` an offline clip's ffmpeg ended by the stop signal this render is
        stopping for? A terminal's Ctrl-C reaches the whole process group, ffmpeg too,
        which exits 255 (or dies of it); a signal sent to the render alone ends none."""
        stopping = self._stopping or self._signalled
        return stopping and isinstance(e, EncoderEnded) and e.by_a_stop

    @staticmethod
    def _tried(model: Planner | KeyframeModel | VideoModel, let_through: bool) -> bool:
        """Whether a step's failed try counts in its `attempts` (`Store.fail(sent=)`): a
        local model's try is its work, always; a paid model's only once a call of it was
        let through the budget gate (`let_through`: a ledger row made for it, or a job
        taken up). A try stopped before that (at the budget, by a key or setting refused
        earlier in this run, a key not set, a Ctrl-C while it waited at the gate) sent
        nothing, and status said 'tries 2' and 'attempt 3' for calls never sent."""
        return model.name == "local" or let_through

    def _answer_seconds(self, provider: str) -> float:
        """The longest one paid call of `provider` may take before it fails by itself:
        the wait for its answer's first byte (`timeout`, httpx's per read) plus the whole
        answer's deadline (`timeout` plus `download_timeout`, or max(timeout, 120): an
        inline image coming slowly), as the providers' clients set them."""
        ps = self.settings.provider_settings(provider)
        return ps.timeout + ps.timeout + (ps.download_timeout or max(ps.timeout, 120.0))

    def _paid_call(self, row: int, what: str, provider: str) -> None:
        """Note a paid call whose answer is its result as in flight (see
        `_paid_in_flight`); the caller removes it once the result is saved."""
        end = asyncio.get_running_loop().time() + self._answer_seconds(provider)
        self._paid_in_flight[row] = (what, end)

    def _grace_over(self, main: asyncio.Task[Any], again: str) -> None:
        """The stop's grace is over: cancel the render, unless a paid call whose answer
        is its result (an image) is still in flight. Cancelled, it was paid for and lost,
        and the next render bought it again; it is waited for (up to its own deadline,
        `_answer_seconds`) and saved, and then the render is cancelled. A second Ctrl-C
        still quits at once (the signal handler's `os._exit`)."""
        if main.done():
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        left = [(what, end) for what, end in self._paid_in_flight.values() if end > now]
        if not left:
            main.cancel()
            return
        if not self._told_paid_wait:
            self._told_paid_wait = True
            n = len(left)
            kinds = sorted({what for what, _ in left})
            what = kinds[0] if len(kinds) == 1 else "result"
            press = again[0].lower() + again[1:]
            self.reporter.warn(
                f"waiting up to {max(end for _, end in left) - now:.0f} s for {n} "
                f"{what}{'s' * (n != 1)} already paid for; {press} to quit at once and "
                f"lose {'it' if n == 1 else 'them'}"
            )
        self._grace_timer = loop.call_later(0.1, self._grace_over, main, again)

    def _check_refused_key(self, model: Planner | KeyframeModel | VideoModel) -> None:
        """Raise, without sending, the refusal of this key or model (`AuthError`) that a
        call of `model` got in this run: every other scene's call would be refused the
        same way (one error, not one per scene)."""
        refused = self._refused.get((model.name, model.model))
        if refused is not None:
            raise AuthError(f"{refused.message}{NOT_SENT_REFUSED}", provider=refused.provider)

    def _check_refused_setting(self, model: Planner | KeyframeModel | VideoModel) -> None:
        """Raise, without sending, the refusal of the person's setting that a call of
        `model` got in this run (`InvalidRequest.setting`): six scenes told six times
        that keyframes.model does not exist, each after a request of its own."""
        refused = self._refused_setting.get((model.name, model.model))
        if refused is not None:
            raise InvalidRequest(
                refused.message, setting=refused.setting, provider=refused.provider
            )

    async def _first_call(self, model: Planner | KeyframeModel | VideoModel) -> asyncio.Lock | None:
        """The lock the first paid calls of `model` in this run take one at a time (held:
        `_reserve` takes it, `_settle_errors` releases it when the call is answered),
        None once the model has answered one. Scenes start at once, so a model id the
        provider does not know was sent by every scene in flight before the first
        refusal came back (6 requests for one typo)."""
        key = (model.name, model.model)
        if key in self._answered:
            return None
        lock = self._first_locks.setdefault(key, asyncio.Lock())
        await lock.acquire()
        if key in self._answered:
            lock.release()
            return None
        return lock

    def _origin(self, provider: str, salt: str | None = None) -> dict[str, str] | None:
        """Where `provider` makes a video job with this render's settings and keys
        (`registry.job_origin`: base URL, Google mode/project/location, a salted
        fingerprint of the key, never the key); None for local. Made once a render.
        `salt` (hex): another salt than the run's (`origin_salt`), as an origin recorded
        with its own salt compares. An origin with a key fingerprint records the salt it
        was made with (`salt`): the run's salt edited by hand (or made anew, unreadable)
        made the same key's fingerprint differ, and a job the provider forgot was then
        kept for ever as "the key is not the one it was made with"."""
        made = self._origin_made(provider, salt)
        return None if made is None else made[0]

    def _origin_made(
        self, provider: str, salt: str | None = None
    ) -> tuple[dict[str, str], dict[str, str]] | None:
        """`_origin` and its fields' names (`registry.job_origin`), made once a render.
        Not for a provider whose key is not set (`_keyless`): its origin without the key
        would differ from every job's ("the key is not the one it was made with"), and
        such a job was kept aside, its clip bought again."""
        if provider in self._keyless:
            self._keyless[provider].refuse()
        if salt is None:
            if self._salt is None:
                self._salt = self.gate.store.origin_salt().hex()
            salt = self._salt
        if (provider, salt) not in self._origins:
            from mindmovie.config import Keys

            keys = self.keys if self.keys is not None else Keys.from_env()
            made = registry.job_origin(provider, self.settings, keys, bytes.fromhex(salt))
            if made is not None and "key" in made[0]:
                made = ({**made[0], "salt": salt}, made[1])
            self._origins[(provider, salt)] = made
        return self._origins[(provider, salt)]

    def _origin_change(self, rid: str, provider: str) -> list[str]:
        """What differs between where job `rid` was made and where this render asks
        (the settings' names, never a key or its fingerprint); [] when nothing does, or
        when it is not known where the job was made (not recorded: an older run). The
        key's fingerprints are compared under the salt the job's was made with; a salt
        not readable (edited by hand) leaves the key out: not known to differ."""
        row = self.gate.store.ledger_by_remote(rid)
        if row is None:
            return []
        return self._row_origin_change(row, provider)

    def _row_origin_change(self, row: Mapping[str, Any], provider: str) -> list[str]:
        """`_origin_change` for ledger row `row` (a lost or killed create has no job id
        to find it by)."""
        if row["provider"] != provider:
            return []
        then = self.gate.store.job_origin(int(row["id"]))
        if then is None:
            return []  # not recorded (an older run), or unreadable: `_none_known`
        return recorded_origin_changes(then, partial(self._origin_made, provider))

    async def _elsewhere(self, rid: str, model: VideoModel) -> str | None:
        """Why a poll's 404 on journaled job `rid` may say nothing of the job, or None
        (the provider's word that it no longer knows it). The job was made with other
        settings than now (another base URL or region, key, Google mode, project or
        location: `_origin_change`), where it may well be running or done, and bill. Or,
        for a job an older mindmovie made (where is not recorded), made within the time
        every provider keeps a job (`KNOWN_JOB_SECONDS`): the other such jobs of the run
        answer 404 as well and none answers otherwise (`_none_known`), which is what
        every job answers when the settings changed."""
        if changed := self._origin_change(rid, model.name):
            return f"the job was made with other settings: {'; '.join(changed)}"
        if others := await self._none_known(rid, model):
            if others == [_NONE_TO_ASK]:
                return (
                    f"where it was made is not recorded (an older mindmovie made it), and "
                    f"it was made in the last {KNOWN_JOB_SECONDS / 3600:.0f} h, while the "
                    "provider that made it "
                    f"still keeps it, and no other job of the run can tell: were "
                    f"providers.{model.name}.base_url, the key"
                    + (", the mode, project or location" if model.name == "google" else "")
                    + " changed since it was made? (Once it is older, a 404 is taken for "
                    "the job forgotten)"
                )
            if all(o.endswith(": could not be asked") for o in others):
                asked = ", ".join(o.removesuffix(": could not be asked") for o in others)
                return (
                    f"it may have been made with other settings (providers.{model.name}"
                    ".base_url, the key changed since), which the run's other jobs of the "
                    f"last {KNOWN_JOB_SECONDS / 3600:.0f} h would tell, and they could not "
                    f"be asked now ({asked}): the next render asks again"
                )
            return (
                f"nor does it know any other job of this run it made in the last "
                f"{KNOWN_JOB_SECONDS / 3600:.0f} h ({', '.join(others)}), which the "
                f"provider that made them still keeps: were providers.{model.name}.base_url, "
                "the key"
                + (", the mode, project or location" if model.name == "google" else "")
                + " changed since they were made?"
            )
        return None

    async def _none_known(self, rid: str, model: VideoModel) -> list[str]:
        """For job `rid` (a poll's 404) made by an older mindmovie (no `job_origin`)
        within KNOWN_JOB_SECONDS: the other jobs of the run made as it was (by an older
        mindmovie, within that time), each polled once a render (at most
        `_PROBES`), when none of them is known now either; [] when one is (the provider
        asked sees the run's jobs: the 404 is its word); [_NONE_TO_ASK] when there are
        none to ask (kept: it was let go of, and paid twice if the settings changed). One
        whose poll fails for another reason (a 5xx) tells nothing: listed as not asked,
        so the job is kept this render, not let go of."""
        store = self.gate.store
        now = time.time()
        row = store.ledger_by_remote(rid)
        if row is None or store.job_origin(int(row["id"])) is not None:
            return []
        if not _recent(row, now):
            return []
        self._known[rid] = False
        others = [
            str(r["remote_id"])
            for r in reversed(store.ledger_rows())
            if r["stage"] == "clip"
            and r["provider"] == model.name
            and r["remote_id"]
            and str(r["remote_id"]) != rid
            and r["state"] != "refunded"
            and not (r["usage"] or {}).get("not_found")
            and _recent(r, now)
            and store.job_origin(int(r["id"])) is None
        ][:_PROBES]
        if not others:
            # a lone job: a 404 within the time every provider keeps it is the settings
            # changed as likely as the job deleted; let go of, it was paid twice when they
            # had changed (kept, it is let go of once older than KNOWN_JOB_SECONDS)
            return [_NONE_TO_ASK]
        untold: list[str] = []
        for other in others:
            if other not in self._known:
                try:
                    await with_retry(partial(model.poll, other))
                    self._known[other] = True
                except JobNotFound:
                    self._known[other] = False
                except ProviderError:
                    # cannot tell: not taken for known (it was, and the job was let go
                    # of, its clip bought again); asked again by the next render
                    untold.append(other)
                    continue
            if self._known[other]:
                return []
        return [
            o if self._known.get(o) is False else f"{o}: could not be asked"
            for o in others
            if self._known.get(o) is False or o in untold
        ]

    def _kept_elsewhere(
        self, rid: str, provider: str, e: JobNotFound, why: str, scene_id: str | None = None
    ) -> ProviderChanged:
        """The scene's error for journaled job `rid`, not known where this render asks
        (`why`: `_elsewhere`): the job is kept, nothing is bought."""
        return ProviderChanged(
            f"{provider} does not know job {rid} ({e.message}), but {why}. If you changed "
            "them since, put them back and render again: the job is kept (it may be "
            "running or done, and it bills), and nothing was bought in its place. If they "
            "cannot be put back, `render --let-go` lets go of the job (it stays counted "
            "as spent) and buys this scene's clip again, asking first",
            provider=provider,
            scene_id=scene_id,
        )

    async def _find_let_go(self, store: Store, video: VideoModel) -> None:
        """`render --let-go`, before the estimate: the clip steps' journaled jobs that a
        render keeps only because the provider settings changed since they were made (a
        poll's 404 here, and `_elsewhere` says why it says nothing of the job). The
        estimate counts their scenes' clips as bought again (`_reused_steps`), and
        `_clip_once` lets go of each (`Store.let_go_job`) just before its new create, once
        the spend is agreed to. A job known here, or whose poll fails otherwise, is not
        touched; nor is any other scene's or job."""
        if video.name == "local":
            return
        for st in store.steps():
            rid = store.resumable_job(st)
            if rid is None:
                continue
            row = store.ledger_by_remote(rid)
            if row is None or row["provider"] != video.name:
                continue
            try:
                await with_retry(partial(video.poll, rid))
            except JobNotFound:
                if why := await self._elsewhere(rid, video):
                    self._letting_go[rid] = why
            except ProviderError:
                continue  # not known to be gone: the render polls it as before

    def _may_let_go(self, store: Store, rid: str, provider: str) -> bool:
        """`estimate --let-go`, which polls nothing: could `_find_let_go` let go of
        journaled job `rid`? It does when a poll's 404 is explained by `_elsewhere`: the
        job made with other settings than now (its recorded origin), or made by an older
        mindmovie (none recorded) within KNOWN_JOB_SECONDS. Those are counted as bought
        again: over, never under, what `render --let-go` buys (a job still known where
        this render asks is kept by it, and its clip costs nothing). Before, `estimate`
        had no --let-go and counted every kept job's clip as paid."""
        if provider == "local":
            return False
        row = store.ledger_by_remote(rid)
        if row is None or row["provider"] != provider:
            return False
        then = store.job_origin(int(row["id"]))
        if then is None:
            return _recent(row, time.time())
        return bool(self._origin_changes_in(store, then, provider))

    def _let_go_of_kept(self, store: Store, scene_id: str, rid: str, provider: str) -> None:
        """`render --let-go`: job `rid`, found by `_find_let_go`, is let go of (committed
        before the new job's create is sent: `Store.let_go_job`)."""
        why = self._letting_go.pop(rid)
        said = (
            f"job {rid} was let go of (render --let-go): {provider} does not know it where "
            f"this render asks, and {why}. It stays counted as spent (it may have run and "
            "billed where it was made); the clip is bought again"
        )
        store.let_go_job(scene_id, rid, said, why)
        killpoint("let_go")
        self.reporter.warn(f"{scene_id}: {said}")

    def _check_free_space(self) -> None:
        """Before a paid call: room on the run's disk for what it returns. A picture or
        clip paid for that cannot be saved is lost, and paid for again on resume."""
        try:
            free = shutil.disk_usage(self.run_dir).free
            files = _inodes_left(self.run_dir)
        except OSError:
            return  # cannot tell: the write itself will say
        # (files: a disk out of inodes refused the paid clips' saves, with 300 MB free)
        if free < MIN_FREE_BYTES or (files is not None and files < MIN_FREE_FILES):
            raise OSError(errno.ENOSPC, "too little space for a paid result", str(self.run_dir))

    async def _settle_errors(
        self,
        row: int | None,
        call: Awaitable[T],
        model: KeyframeModel | VideoModel | None = None,
        *,
        keep_key: str | None = None,
    ) -> T:
        """Run a paid call; on failure settle its ledger row by what the error means.

        On success the row stays open: the caller bills it (at once for images and plans,
        when the job ends for video, which keeps it counted as in flight until then).
        An auth refusal of `model` stops its later calls in this run (see `_reserve`).
        `keep_key`: the inputs a charged result still at its URL was made from (see
        `_settle_failed`).
        """
        first = self._first_held.pop(row, None) if row is not None else None
        try:
            result = await call
        except BaseException as e:
            if isinstance(e, AuthError) and model is not None:
                self._refused.setdefault((model.name, model.model), e)
            if isinstance(e, InvalidRequest) and e.setting and model is not None:
                self._refused_setting.setdefault((model.name, model.model), e)
            elif model is not None:
                self._answered.add((model.name, model.model))
            if row is not None:
                valid_for = getattr(model, "result_url_seconds", None)
                await self._settle_failed(row, e, keep_key=keep_key, valid_for=valid_for)
            raise
        finally:
            if first is not None:
                first.release()
        if model is not None:
            self._answered.add((model.name, model.model))
        return result

    async def _settle_failed(
        self,
        row: int,
        error: BaseException,
        *,
        keep_key: str | None = None,
        valid_for: float | None = None,
    ) -> None:
        """Settle a paid call that raised instead of answering, by what the error means.

        A charged result still at its URL (`ProviderError.result_url`) made from
        `keep_key` is kept on the row as `Store.ledger_keep_result` keeps it, in the
        same write as its bill: billed in one transaction and kept in the next, a kill
        between them lost the URL, and the next render bought the result again."""
        answered = self._answered_note(row)
        if answered is not None and not (isinstance(error, ProviderError) and error.charged):
            # answered, its result at a URL (`Store.ledger_note_answered`), and the render
            # stopped (a second Ctrl-C) or broke during the download: billed, the URL
            # kept for the next render, as a download that failed (below)
            kept = {"failed_after": type(error).__name__, **answered}
            await self.gate.bill(row, self.store_row_estimate(row), kept)
        elif isinstance(error, ProviderError) and error.charged:
            # answered (and charged) before it failed here, e.g. its download: owed
            usage: dict[str, Any] = {"failed_after": error.kind}
            if error.result_url and keep_key is not None:
                usage.update(result_url=error.result_url, input_key=keep_key)
                usage["result_at"] = time.time()
                if valid_for is not None:
                    usage["result_valid_for"] = valid_for
            await self.gate.bill(row, self.store_row_estimate(row), usage)
        elif isinstance(error, ContentRejected):
            if (usd := self._refused_usd(row, error.usage)) is not None:
                # the answer says what it counted (a Gemini image blocked for safety:
                # its input tokens), which is what the provider bills: refunded, the
                # ledger said $0 under Google's bill
                usage = {"rejected": True, **(error.usage or {})}
                await self.gate.bill(row, usd, usage)
                counted = usage.get("input_tokens")
                made = usage.get("output_tokens")
                tokens = (
                    f"its {counted:,} input tokens"
                    if isinstance(counted, int) and counted > 0
                    else "the tokens it counted"
                )
                if isinstance(made, int) and made > 0:
                    # (an answer with output and no image: "its 36 input tokens" of a
                    # bill that is its 1,120 output tokens' for the most part)
                    tokens += f" and {made:,} output tokens"
                error.message += f" (billed {costs.format_usd(usd)}: {tokens}, no image)"
            elif error.billed:
                await self.gate.bill(row, self.store_row_estimate(row), {"rejected": True})
            else:
                await self.gate.refund(row, f"content filter: {error.message}"[:300])
        elif isinstance(error, ProviderError) and error.made:
            # answered without the id of the job it made (it bills): refunded as "not
            # accepted", it was counted nowhere (ledger, --budget, status). Committed,
            # outcome unknown, as a create whose answer was lost and no look can settle
            self.gate.store.ledger_mark_unknown(row)
            self.reporter.warn(
                f"{error.scene_id or 'a scene'}: {error.provider} made a job but did not say "
                f"which ({error.message}); it bills (about "
                f"{costs.format_usd(self.store_row_estimate(row))}) and stays counted as "
                "committed"
            )
            await self.gate.unknown(row)
        elif isinstance(error, ConnectionLost) and not error.sent:
            await self.gate.refund(row, "never reached the provider (could not connect)")
        elif isinstance(error, ConnectionLost):
            # may have been accepted: stays committed. A plan or keyframe call is told
            # now and marked so (a video create's lost answer has its own look:
            # `_lost_submission`): else the next render called it a call "in flight when
            # the last run stopped", of scene "_run", though this run went on
            r = next((x for x in self.gate.store.ledger_rows() if x["id"] == row), None)
            if r is not None and r["stage"] != "clip":
                self.gate.store.ledger_mark_unknown(row)
                who = "plan" if r["stage"] == "plan" else r["scene_id"]
                about = costs.format_usd(float(r["estimated_usd"]))
                # counted at its hold (the most it can bill), as the totals line and
                # `status` count it: a lost plan call "about $0.01" was $0.04 there
                held = costs.format_usd(float(r.get("held_usd") or r["estimated_usd"]))
                counted = f"; the budget counts it at {held}, the most it can cost" * (
                    held != about
                )
                # (without the error's "render again": said while this render asks
                # again by itself, and finishes; the error, if it is its last, says it)
                said = re.sub(r"; render again(?=$|,)", "", error.message)
                said = said.replace(", or set a longer timeout", "; a longer timeout may help")
                self.reporter.warn(
                    f"{who}: the answer of the {r['stage']} call to {r['provider']} was "
                    f"lost ({said}); it may have been billed (about {about}"
                    f"{counted}) and stays counted as committed"
                )
            await self.gate.unknown(row)
        elif not isinstance(error, ProviderError):
            await self.gate.unknown(row)  # may have been accepted: stays committed
        else:
            await self.gate.refund(row, f"{error.kind}: not accepted")

    def _answered_note(self, row: int) -> dict[str, Any] | None:
        """The result URL noted on ledger row `row` as its answer came
        (`Store.ledger_note_answered`), as `_settle_failed` keeps a URL; None when none."""
        with contextlib.suppress(StoreError, sqlite3.Error):
            r = self.gate.store.ledger_row(row)
            note = (r.get("usage") or {}).get("answered") if r is not None else None
            if r is not None and r["state"] == "committed" and isinstance(note, dict):
                return {
                    k: note[k]
                    for k in ("result_url", "input_key", "result_at", "result_valid_for")
                    if k in note
                }
        return None

    def _planner_usd(self, usage: dict[str, Any]) -> float:
        """What one answered planner call cost, from its reported usage."""
        usd, _ = costs.billed_usd(
            "planner",
            costs.stage_spec(self.settings, "planner"),
            usage,
            seconds=0,
            resolution="",
            ratio="",
            audio=False,
        )
        return usd

    def _refused_usd(self, row: int, usage: dict[str, Any] | None) -> float | None:
        """What ledger row `row`'s call, refused by the content filter with `usage` in
        its answer, bills (`costs.refused_usd`), priced at the row's own model; None
        when its answer counted nothing, or the catalog no longer knows the model."""
        if not usage:
            return None
        r = self.gate.store.ledger_row(row)
        stage = {"keyframe": "keyframes", "clip": "video", "plan": "planner"}.get(
            str(r["stage"]) if r else ""
        )
        if r is None or stage is None:
            return None
        try:
            spec = catalog_resolve(str(r["provider"]), stage, str(r["model"]))
        except InvalidRequest:
            return None
        return costs.refused_usd(spec, usage)

    def store_row_estimate(self, row: int) -> float:
        for r in self.gate.store.ledger_rows():
            if r["id"] == row:
                return float(r["estimated_usd"])
        return 0.0

    async def _settle_planner_failure(
        self,
        rows: list[int],
        planner: Planner,
        error: BaseException,
        *,
        skip: Collection[int] = (),
    ) -> None:
        """A plan that failed still costs every call Claude answered (e.g. an answer still
        invalid after the repair): those rows are billed from their usage. A call with no
        answer is settled by what the error means (`_settle_failed`)."""
        calls: list[dict[str, Any]] = list(getattr(planner, "last_calls", []) or [])
        for i, row in enumerate(rows):
            if row in skip:
                continue  # billed already (before a repair)
            if i < len(calls):
                await self.gate.bill(row, self._planner_usd(calls[i]), {**calls[i], "failed": True})
            else:
                await self._settle_failed(row, error)

    async def _settle_job(
        self, row: int | None, state: JobState, req: VideoRequest, model: VideoModel
    ) -> None:
        """A video job ended: bill it from its usage, or refund a job the provider voids."""
        if row is None or model.name == "local":
            return
        if state.status == "succeeded" or _reports_charge(state):
            usd = self._video_usd(state, req.seconds, req.resolution, req.aspect, req.audio)
            extra: dict[str, Any] = {} if state.status == "succeeded" else {"status": state.status}
            if state.created_at is not None:
                # the provider's word of when the job was made: its row may be younger
                # (a lost request's job listed as made before it: `Store.refetchable_clip`)
                extra[JOB_CREATED_USAGE] = state.created_at
            await self.gate.bill(row, usd, {**state.usage, **extra})
        else:
            await self.gate.refund(row, f"job {state.status}: {state.error or ''}"[:300])

    def _video_usd(
        self,
        state: JobState,
        seconds: float,
        resolution: str,
        ratio: str,
        audio: bool,
        model: str | None = None,
    ) -> float:
        """What a finished video job cost: its reported usage, else the formula. `model`:
        the model id the job was made with, when it may not be the settings' (a job of an
        earlier version of a scene): priced at the settings' model, a Seedance 1.5 pro
        job was billed at 1.0 pro's rate once video.model changed. 0.0 when the catalog
        no longer knows that model (the caller takes the row's estimate)."""
        spec = costs.stage_spec(self.settings, "video")
        if model is not None and spec is not None and model not in (spec.id, spec.key):
            try:
                spec = catalog_resolve(spec.provider, "video", model)
            except InvalidRequest:
                return 0.0
        usd, _ = costs.billed_usd(
            "video",
            spec,
            state.usage,
            seconds=seconds,
            resolution=resolution,
            ratio=ratio,
            audio=audio,
            service_tier=self.settings.video.options.get("service_tier"),
        )
        return usd

    async def _adoptable(
        self, model: VideoModel, remote_id: str, status: str
    ) -> str | JobState | ProviderError | None:
        """Can an earlier job be picked up? Its id if so; else what the provider said:
        the job's state (it ended failed, cancelled, expired, refused) or the error of
        the look (the job not found: deleted at the provider); None for local clips.

        A look that fails for a passing reason (5xx, 429, a dropped connection), or is
        refused for the key (`AuthError`), raises: the job is not known to have failed,
        and guessing so would pay for a second one; the scene fails for this run and the
        journal keeps the job for the next."""
        if model.name == "local":
            return None
        if status == "submitted":
            return remote_id
        try:
            state = await with_retry(lambda: model.poll(remote_id))
        except JobFailed as e:  # the job not found (deleted at the provider)
            return e
        except ProviderError:
            # a passing failure, or a look refused for the key (a 401/403: a key revoked,
            # or of another account) that says nothing of the job: it stays journaled,
            # and was let go of (its paid result lost, the clip bought again) before
            raise
        return remote_id if state.status in ("queued", "running", "succeeded") else state

    async def _let_go_of_job(
        self, store: Store, model: VideoModel, req: VideoRequest, prev: Step, said: Any
    ) -> ResultGone:
        """The scene's journaled job, which the estimate (and the spend question) of this
        render counted as picked up at no cost (`Store.resumable_job`), cannot be: the
        provider says it ended failed, or no longer knows it (`said`: its state, or the
        look's error). Buying the clip here would spend past what was agreed to, so the
        step lets go of the job (`Store.result_gone`; its row, when still in flight, is
        settled by what the provider said) and the scene fails saying the next render
        buys the clip again, counted in its estimate. Before, it was bought at once."""
        rid = str(prev.remote_id)
        before = store.ledger_by_remote(rid)
        if isinstance(said, JobState):
            if before is not None and before["state"] == "committed":
                # in flight until now: refunded, or billed from what it reports
                await self._settle_job(self.gate.adopt(rid), said, req, model)
            why = f"it ended {said.status}: {said.error or 'no reason given'}"
        else:
            why = said.message if isinstance(said, ProviderError) else str(said)
        row = store.ledger_by_remote(rid)
        billed = row is not None and row["state"] == "billed"
        again = costs.estimate_video(self.settings, req.seconds).usd
        gone = ResultGone(
            f"job {rid} can no longer be picked up at {model.name} ({why})"
            + ("; it was billed" if billed else "")
            + f". The next render buys the clip again (about {costs.format_usd(again)}), "
            "counted in its estimate and spend question",
            provider=model.name,
            scene_id=req.scene_id,
        )
        store.result_gone(req.scene_id, "clip", rid, str(gone), estimated_usd=again, billed=billed)
        self._note_gone(req.scene_id, prev.input_key)
        return gone

    # ------------------------------------------------------------------ plan
    def _plan_key(
        self, planner: Planner | tuple[str, str], *, legacy: int = 0, by_place: bool = False
    ) -> str:
        """The plan's input key: the goals as the planner reads them (`plan_fingerprint`),
        the planner and the plan options. `legacy`: the keys older runs recorded, still
        accepted: 1 = with the title, closing and music (`plan_fingerprint_v1`), 2 = the
        goals with every photo's and the song's bytes (before 2026-12). `by_place`: with
        the photos as places, not paths (`plan_fingerprint_by_place`; recorded in the
        plan step's basis, not its key: `_reusable_plan`)."""
        name, model = planner if isinstance(planner, tuple) else (planner.name, planner.model)
        base = self.goals_path.absolute().parent.resolve()
        if by_place:
            goals = plan_fingerprint_by_place(self.goals)
        elif legacy == 2:
            goals = goals_sha256(self.goals)
        else:
            goals = (plan_fingerprint, plan_fingerprint_v1)[legacy](self.goals, base)
        return input_key(
            v=STAGE_VERSION["plan"],
            goals=goals,
            provider=name,
            model=model,
            options=self._plan_options().__dict__,
        )

    def _plan_keys(self, planner: Planner | tuple[str, str]) -> tuple[str, ...]:
        """The current plan key and the legacy ones a run may have recorded, with those of
        the default planner of before (`_planners_before`). Computed once per planner:
        the oldest formula hashes every photo's and the song's bytes, and a render asks
        several times (run folder, plan reuse, kept plans, the outlook)."""
        ident = planner if isinstance(planner, tuple) else (planner.name, planner.model)
        if ident not in self._plan_keys_memo:
            self._plan_keys_memo[ident] = tuple(
                self._plan_key(who, legacy=n)
                for who in self._same_planners(ident)
                for n in range(_PLAN_KEY_FORMS)
            )
        return self._plan_keys_memo[ident]

    def _same_planners(self, ident: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        """`ident` and the planners whose plans count as its (`_planners_before`)."""
        return (ident, *self._planners_before(ident))

    def _planners_before(self, ident: tuple[str, str]) -> tuple[tuple[str, str], ...]:
        """The planners whose plan is still these goals' plan when `ident` is the default
        one, no planner.model set: the defaults of before (`PLANNER_DEFAULTS_BEFORE`).
        The default changed under a run (claude-sonnet-4-6 to 5-5 on 2026-11-30): its
        next render planned again, paying the planner, dropping the plan.yaml edits, and
        bought every scene whose prompts the new plan worded otherwise."""
        name, model = ident
        if (
            self.settings.planner.model is not None
            or self.settings.stage_provider("planner") != name
        ):
            return ()
        try:
            if catalog.default_model(name, "planner").id != model:
                return ()
        except catalog.CatalogError:
            return ()
        return tuple((name, m) for m in PLANNER_DEFAULTS_BEFORE.get(name, ()) if m != model)

    def _plan_basis(
        self, planner: Planner | tuple[str, str], photos: list[list[str]] | None = None
    ) -> dict[str, Any]:
        """What the plan is made from (the parts of its key, readable): recorded on the
        plan step, so a new plan can say which of them changed. With the key of the goals'
        photos as places (`by_place`) and the photos plan.yaml names (`photos`: goals.yaml's
        now, or as recorded when the plan was written), by place: a photo renamed keeps
        the plan (`_reusable_plan`)."""
        name, model = planner if isinstance(planner, tuple) else (planner.name, planner.model)
        base = self.goals_path.absolute().parent.resolve()
        basis = {
            "goals": plan_fingerprint(self.goals, base),
            "planner": f"{name}/{model}",
            "options": self._plan_options().__dict__,
            # not in the key: a change is carried into the plan (`_with_shown`)
            "shown": presentation(self.goals, base),
            "by_place": self._plan_key(planner, by_place=True),
            "photos": plan_photos(self.goals, base) if photos is None else photos,
            # each goal's own part, and the rest: only goals changed, a paid planner is
            # asked for those alone (`_partial_replan`)
            "parts": plan_parts(self.goals, base),
        }
        return dict(json.loads(json.dumps(basis)))

    def _with_shown(self, raw: Plan, detail: str | None, *, direct: bool = False) -> Plan:
        """`raw` with the title, closing and music goals.yaml changed since the plan was
        made (the basis recorded in `detail`) taken from goals.yaml; a field not changed
        there keeps plan.yaml's value, hand edits included. `direct` (a kept plan put
        back, whose basis is unknown): every field that differs from goals.yaml's.
        Sets `self._shown_changed` to the fields taken."""
        from mindmovie.providers.local import closing_for  # (no numpy: a light import)

        g = self.goals
        want: dict[str, str | None] = {
            "title": g.title,
            # the closing every planner writes when goals.yaml has none (in the goals'
            # language where the local planner has one)
            "closing": given_text(g.closing) or (None if direct else closing_for(g)),
            "music": str(g.music) if g.music is not None else None,
        }
        if direct:
            changed = [f for f, v in want.items() if v is not None and getattr(raw, f) != v]
            if g.music is None and raw.music is not None:
                changed.append("music")
        else:
            try:
                was = json.loads(detail or "null")
            except ValueError:
                was = None
            shown = was.get("shown") if isinstance(was, dict) else None
            if not isinstance(shown, dict):
                # recorded before: only an identical key (nothing changed) gets here
                self._shown_changed = []
                return raw
            now = presentation(g, self.goals_path.absolute().parent.resolve())
            changed = [f for f in now if now[f] != shown.get(f)]
        self._shown_changed = sorted(changed)
        return raw.model_copy(update={f: want[f] for f in changed}) if changed else raw

    def _replan_reason(
        self, recorded: str | None, now: dict[str, Any], *, unfinished: bool = False
    ) -> str:
        """Why the plan is made again, from the plan step's recorded basis. The goals file
        by its own name (a person's `pg.yaml` was said to be "goals.yaml"). `unfinished`:
        the step's last try did not finish (its basis, if any, is the last finished
        plan's): where no change is found, that is the reason (`_UNFINISHED_PLAN`). A
        first plan written where run.db could not record it (a full disk) was said to be
        "goals.yaml or the plan settings changed", of goals no one had touched."""
        name = self.goals_path.name
        try:
            was = json.loads(recorded or "null")
        except ValueError:
            was = None
        if not isinstance(was, dict) or "goals" not in was:
            return _UNFINISHED_PLAN if unfinished else f"{name} or the plan settings changed"
        why = []
        if was.get("goals") != now["goals"]:
            why.append(name)
        name_now, _, model_now = str(now["planner"]).partition("/")
        same = {f"{n}/{m}" for n, m in self._same_planners((name_now, model_now))}
        if was.get("planner") not in same:
            why.append(f"the planner ({was.get('planner')} -> {now['planner']})")
        opts = was.get("options")
        old_opts: dict[str, Any] = opts if isinstance(opts, dict) else {}
        for name in ("scene_seconds", "scenes_per_goal"):
            if old_opts.get(name) != now["options"].get(name):
                why.append(f"plan.{name}")
        if old_opts.get("allowed_seconds") != now["options"].get("allowed_seconds"):
            why.append("the video model's clip lengths")
        if not why and unfinished:
            return _UNFINISHED_PLAN
        return " and ".join(why or ["the plan settings"]) + " changed"

    def _other_goals_file(self) -> str | None:
        """The other goals.yaml the run folder was last rendered from, when it is still
        there (`_warn_other_goals`), else None."""
        other = last_goals(self.run_dir, self._last_goals, self._last_goals_rel)
        same = same_goals(self.run_dir, other, self._last_goals_rel, self.goals_path)
        return str(other) if other and not same and Path(other).is_file() else None

    def _warn_other_goals(self, store: Store) -> None:
        """Say so when the run folder was last rendered from another goals.yaml that is
        still there: e.g. two goals.yaml with the same title (or titles that slug alike)
        share outputs/<title>/, and this render replaces the other's movie.mp4. Its paid
        work is said to be kept only when it has some (a free run's was "paid" too)."""
        if (other := self._other_goals_file()) is not None:
            paid = any(
                r["stage"] in ("keyframe", "clip") and r["state"] == "billed"
                for r in store.ledger_rows()
            )  # (a call refunded, not accepted, made nothing kept)
            kept = (
                "Its paid keyframes and clips are kept and come back when it is rendered "
                "here again; to"
                if paid
                else "To"
            )
            self.reporter.warn(
                f"{self.run_dir} was last rendered from another goals.yaml ({other}); "
                f"this render replaces its movie.mp4. {kept} keep both movies, give this "
                "one its own folder with --out"
            )

    async def _plan(self, store: Store, planner: Planner) -> Plan:
        plan_path = self.run_dir / "plan.yaml"
        key = self._plan_keys(planner)[0]
        existing = self._reusable_plan(store, planner)
        if existing is not None:
            # same goals, same planner: plan.yaml (perhaps hand-edited since) is the truth.
            # Its hash is not checked here on purpose; edits show up in each scene's keys.
            for note in plan_notes(plan_path):  # edited, but maybe not as meant (`#1`)
                self.reporter.warn(note)
            step = store.get("_run", "plan")
            of_before = self._plan_keys(planner)[_PLAN_KEY_FORMS:]  # (the planners of before's)
            if step is not None and step.input_key in of_before:
                ident = (planner.name, planner.model)
                made_by = _basis_field(step.detail, "planner")
                # (a run that did not record it: "made by the default planner then, the
                # default planner when it was planned" said it twice; the upgrade audit)
                by = (
                    f"{made_by}, the default planner when it was planned"
                    if made_by
                    else "the default planner of when it was planned"
                )
                # kept unsaid, a person who had pinned that model and then removed the
                # setting for today's default was not told they kept its plan
                self.reporter.info(
                    f"plan.yaml was made by {by}; it is kept (set planner.model to "
                    f"{ident[1]} to plan again with today's default)"
                )
            if step is not None and step.input_key != key:
                _rekey_plan(store, step.input_key, key)  # a legacy key becomes the current one
            if self._shown_changed:
                # another goals.yaml whose title slugs alike (`Run!`, `run?`) with the same
                # goals: its plan is kept, only the title taken, and its movie replaced
                # with no word of the other file
                self._warn_other_goals(store)
            self._record_shown(store, planner, plan_path, step)
            return existing
        basis = self._plan_basis(planner)
        prev = store.get("_run", "plan")
        # one that no longer loads (a broken hand edit) is not put back: as outlook says
        kept = self._kept_plan_key(store, planner)
        edits: tuple[str | None, Plan] | None = None
        backup = plan_path.with_name("plan.previous.yaml")
        read: bytes | None = None  # plan.yaml as kept before the planner is asked
        if plan_path.exists():
            # perhaps hand-edited: never written over. No plan step (run.db was moved
            # away or lost) means it cannot be told whether it fits these goals
            edits = self._edits_before(store, prev, plan_path)
            backup = _keep_previous_plan(plan_path)
            with contextlib.suppress(OSError):
                read = backup.read_bytes()
            # named at its copy's line: plan.yaml is the new plan by the time it is read
            unread = _plan_unreadable(backup) if edits is None else None
            if prev is not None and prev.status == "succeeded":
                # as it is now, edits and all: these goals may come back (see below)
                other = _plan_put_back_by_hand(store, kept, plan_path, prev)
                shown = _recorded_shown(prev.detail)
                if _keep_last_plan(store, prev, plan_path, other=other) and shown is not None:
                    # with the title, closing and music its plan.yaml was last matched to
                    # (goals.yaml's): put back, it takes only those goals.yaml changed since
                    store.set_meta(KEPT_SHOWN_META + prev.input_key, json.dumps(shown))
            if prev is None:
                why = "plan.yaml is not in this run's journal (run.db is new)"
            elif (elsewhere := self._other_goals_file()) is not None:
                # (not "b.yaml changed since the last plan" of a file never planned here:
                # the title of another goals.yaml slugs alike, the text audit)
                why = (
                    f"{self.goals_path.name} is not the goals.yaml last planned here ({elsewhere})"
                )
            else:
                unfinished = prev.status != "succeeded"
                why = self._replan_reason(prev.detail, basis, unfinished=unfinished)
                why += "" if why == _UNFINISHED_PLAN else " since the last plan"
            then = (
                "going back to the plan these goals had before"
                if kept is not None
                else "planning again"
            )
            # with no journal, the planner's own plan is not known, so edits cannot be
            # told from it and none is carried: said, with where they are
            only = (
                f"; hand edits of it are in {backup.name} only: copy any you want into "
                "plan.yaml and render again"
                if prev is None and kept is None
                else ""
            )
            self.reporter.warn(f"{why}: {then} (old plan kept as {backup.name}{only})")
            if unread is not None:
                # a hand edit that broke it: nothing of it can be carried, and nothing
                # else would say so (the same file with goals.yaml unchanged is an error)
                into = "the plan put back" if kept is not None else "the new plan"
                self.reporter.warn(
                    f"plan.yaml could not be read ({unread}), so none of its edits is in "
                    f"{into}; they are in {backup.name}"
                )
            self._warn_other_goals(store)
        # these goals were planned in this folder before (an edit undone, another
        # goals.yaml rendered here meanwhile): their plan, with its edits, comes back
        # instead of a new paid plan with new prompts that would redo every scene
        back = None if kept is None else json.dumps(self._kept_basis(store, kept[0], planner))
        if kept is not None and store.restore("_run", "plan", kept[0], plan_path, detail=back):
            restored = self._reusable_plan(store, planner)
            if restored is not None:
                if kept[0] != key:
                    _rekey_plan(store, kept[0], key)  # a legacy key becomes the current one
                put_back = store.get("_run", "plan")
                self._record_shown(store, planner, plan_path, put_back, restored=True)
                self.reporter.step("plan", "plan", "reused", "kept plan")
                if edits is not None:  # the plan that came back has its own edits
                    raw = self._plan_raw or restored
                    # (with what its planner made: a scene renumbered is found there)
                    made = store.get_meta(PLANNED_META + key)
                    missing = edits_not_in(*edits, raw, made)
                    lost = [UNKNOWN_EDITS] if missing is None else missing
                    self._say_edits([], lost, backup, into="the plan put back")
                return restored
        # only goals changed: a paid planner is asked for those alone, the others keep
        # their scenes (and the keyframes and clips bought for them)
        partial = self._partial_replan(store, planner, prev, edits, basis)
        sent = self.goals if partial is None else partial.sent(self.goals)
        asks = partial is None or bool(partial.changed)
        if partial is not None:
            same = [i for i in range(1, len(self.goals.goals) + 1) if i in partial.kept]
            if partial.changed:
                again = f"{plural(len(partial.changed), 'goal')} changed or new " + (
                    f"({', '.join(map(str, partial.changed))})"
                )
                ask = f"{planner.name} is asked for the {again} only"
            else:
                ask = "no goal is new or changed, so none is asked"
            one = len(same) == 1
            self.reporter.warn(
                f"plan: {ask}; {'goal' if one else 'goals'} {', '.join(map(str, same))} "
                f"{'keeps its' if one else 'keep their'} scenes"
            )
        self.reporter.step("plan", "plan", "running", planner.name)
        if prev is not None and prev.status == "succeeded":
            # (with plan.yaml's bytes now, hand edits and all: the plan before is only
            # read while plan.yaml is still this file, not one a new plan or a plan put
            # back wrote before it could be journaled)
            with contextlib.suppress(OSError):
                before = {
                    "key": prev.input_key,
                    "sha256": prev.sha256,
                    "file": sha256_file(plan_path),
                }
                store.set_meta(PLAN_BEFORE_META, json.dumps(before))
        store.begin("_run", "plan", key, paid=planner.name != "local" and asks)
        estimate = costs.estimate_planner(self.settings, sent).usd

        hold = costs.planner_hold(self.settings, sent)
        call_usd = self._planner_usd
        held = getattr(planner, "hold_unrepaired", None)
        if held is not None and (saved := store.get_meta(UNREPAIRED_META)):
            with contextlib.suppress(ValueError):
                held(json.loads(saved))
        # the plan's paid calls: in flight until plan.yaml is written, as a keyframe
        # image is (`_paid_in_flight`). The answer is the plan, with no task to poll later:
        # cancelled at the grace's end, it was paid for and the next render asked again.
        # (Waited for up to `_answer_seconds`, not Claude's own longer deadline for a big
        # max_tokens: a plan still being written then is cancelled, as before)
        paid: list[int] = []
        renamed: dict[str, str] = {}  # (a partial plan's: its scene ids in the whole)

        def in_flight(row: int) -> None:
            paid.append(row)
            self._paid_call(row, "plan", planner.name)

        async def attempt() -> tuple[Plan, list[Bill]]:
            if partial is not None and not partial.changed:
                return partial.merge(self.goals, None), []  # (nothing to ask)
            # one ledger row per paid call: the first, and the repair if one is needed
            rows: list[int] = []
            row = await self._reserve("_run", "plan", planner, estimate, hold)
            if row is not None:
                rows.append(row)
                in_flight(row)

            billed_early: dict[int, float] = {}

            async def before_repair() -> None:
                self._journal_unrepaired(store, planner)
                # the answers so far are in hand and billed by the provider: settle them
                # now, or an over-budget gate would wait for them before the repair
                # (they would only settle after it: a deadlock)
                calls = list(getattr(planner, "last_calls", []) or [])
                for r, c in zip(rows, calls, strict=False):
                    if r not in billed_early:
                        await self.gate.bill(r, call_usd(c), c)
                        billed_early[r] = call_usd(c)
                extra = await self._reserve("_run", "plan", planner, estimate, hold)
                if extra is not None:
                    rows.append(extra)
                    in_flight(extra)

            try:
                result = await planner.plan(sent, self._plan_options(), before_repair=before_repair)
            except BaseException as e:
                for r in rows:  # settled (or lost): nothing to wait for, nor save
                    self._paid_in_flight.pop(r, None)
                if not self._journal_unrepaired(store, planner) and billed_early:
                    # the first answer, held for its repair and billed, could be written
                    # nowhere (a full disk: the repair's room check stopped the render):
                    # "finished work is kept" was said of it, and the next render bought
                    # it again
                    self._paid_not_kept.append(
                        "the plan's first answer, held for its repair (about "
                        f"{costs.format_usd(sum(billed_early.values()))})"
                    )
                await self._settle_planner_failure(rows, planner, e, skip=set(billed_early))
                raise
            self._journal_unrepaired(store, planner)
            calls: list[dict[str, Any]] = list(getattr(planner, "last_calls", []) or [])
            if not calls and rows:  # a planner that reports only a total
                calls = [dict(getattr(planner, "last_usage", {}) or {})]
            if partial is not None:
                renamed.update(partial.ids(result))
                result = partial.merge(self.goals, result)
            return result, [
                (r, call_usd(c), c)
                for r, c in zip(rows, calls, strict=False)
                if r not in billed_early
            ]

        try:
            plan, carried, lost = await self._plan_paid(
                store, attempt, plan_path, basis, planner, paid, edits, read
            )
        finally:
            for r in paid:
                self._paid_in_flight.pop(r, None)
        self.reporter.step("plan", "plan", "done", plural(len(plan.scenes), "scene"))
        if edits is not None:
            self._say_edits(carried, lost, backup)
        filled = [renamed.get(f, f) for f in getattr(planner, "last_filled", []) or []]
        if filled and asks:
            # Claude gave too few scenes even after its repair: the local planner's
            # template scenes kept the person's counts, and were paid for as Claude's
            # without a word
            # (per goal: it gave two scenes, both for goal 1, "too few" read as false)
            self.reporter.warn(
                f"plan: {planner.name} gave too few scenes for some goals, so "
                f"{plural(len(filled), 'scene')} "
                f"({_name_some(filled)}) came from the local planner's templates; edit their "
                f"prompts in {plan_path} to make them your own (an edit redoes only what it "
                "touches)"
            )
        return plan

    @staticmethod
    def _journal_unrepaired(store: Store, planner: Planner) -> bool:
        """Journal the planner's first answer held for its repair (`UNREPAIRED_META`),
        or forget it once none is held (the plan made, or asked anew). False when an
        answer is held and could not be journaled."""
        unrepaired = getattr(planner, "unrepaired", None)
        saved = unrepaired() if unrepaired is not None else None
        # (a best-effort note: run.db at the file size limit, EFBIG, raised out of the
        # plan's answer, paid, and lost it before plan.yaml or its receipt was written)
        try:
            if saved is None:
                if store.get_meta(UNREPAIRED_META) is not None:
                    store.delete_meta(UNREPAIRED_META)
            else:
                store.set_meta(UNREPAIRED_META, json.dumps(saved, ensure_ascii=False))
        except (sqlite3.Error, OSError):
            return saved is None
        return True

    async def _plan_paid(
        self,
        store: Store,
        attempt: Callable[[], Awaitable[tuple[Plan, list[Bill]]]],
        plan_path: Path,
        basis: dict[str, Any],
        planner: Planner,
        paid: Sequence[int],
        edits: tuple[str | None, Plan] | None = None,
        read: bytes | None = None,
    ) -> tuple[Plan, list[str], list[str]]:
        """`_plan`'s paid calls (`attempt`, with retries) and the writing of their plan,
        while the calls count as in flight (`_paid_in_flight`); `paid`: the ledger rows
        of the calls `attempt` has let through the gate so far. `edits`: the plan.yaml
        this plan replaces and what its planner made (`_edits_before`), whose hand edits
        are carried where the new plan made the same scene again (`carry_edits`).
        `read`: plan.yaml's bytes when it was kept as plan.previous.yaml before the
        planner was asked (None: there was none), to keep an edit made since
        (`_keep_edited_meanwhile`). Returns (the plan written, the edits carried, those
        not carried)."""
        try:
            plan, bills = await with_retry(attempt)
        except (ProviderError, BudgetExceeded, Interrupted, registry.KeyNotSet) as e:
            # (a stop, or a key not set, between its calls left the step `running` once
            # the render had ended, as a keyframe's or clip's is not)
            if isinstance(e, ProviderError):
                e.message += _plan_calls_billed(store, paid, planner.name)
            kind = getattr(e, "kind", None) or _STOP_KINDS.get(type(e), "auth")
            sent = self._tried(planner, bool(paid))
            store.fail("_run", "plan", kind, str(e), sent=sent)
            raise
        made = plan
        carried: list[str] = []
        lost: list[str] = []
        if edits is not None and edits[0] is not None:
            plan, carried, lost = carry_edits(edits[0], edits[1], made)
        elif edits is not None:
            lost = _edit_names(edits)
        try:
            killpoint("plan")
            try:
                self._keep_edited_meanwhile(plan_path, read)
            except OSError as e:
                # (the paid plan comes first: kept, a failed copy of the edit is said)
                self.reporter.warn(
                    f"{plan_path} was edited while the plan was being made, and the file "
                    f"as edited could not be kept ({e.strerror or e}): the new plan is "
                    "written in its place"
                )
            write_plan(plan, plan_path)
        except BaseException as e:
            for b in bills:
                await self.gate.unknown(b[0])  # paid, result lost: stays committed
            if bills and isinstance(e, (OSError, sqlite3.Error)):
                self._paid_not_kept.append(
                    f"the plan (about {costs.format_usd(sum(b[1] for b in bills))})"
                )
            raise
        # the plan step's artifact hash is of what the planner wrote; later hand edits are
        # detected per scene by their own input keys, not by this hash. The planner calls
        # are billed in the same transaction: killed before it, they stay committed
        # (outcome unknown) and the next run says so, instead of a bill for a lost answer.
        # what the planner made, in succeed's transaction: a kill between the two, or a
        # failed write of it alone, left a plan whose hand edits a goals edit drops unsaid
        step = store.get("_run", "plan")
        record = {} if step is None else {PLANNED_META + step.input_key: planned_record(made)}
        try:
            store.succeed(
                "_run",
                "plan",
                plan_path,
                sha256_file(plan_path),
                detail=basis,
                bills=bills,
                meta=record,
            )
        except (OSError, sqlite3.Error):
            if bills and not any(b[0] in store.receipted for b in bills):
                self._paid_not_kept.append(
                    f"the plan (about {costs.format_usd(sum(b[1] for b in bills))})"
                )
            raise
        for b in bills:
            await self.gate.settled(b[0])
        return plan, carried, lost

    def _keep_edited_meanwhile(self, plan_path: Path, read: bytes | None) -> None:
        """Keep plan.yaml as plan.previous.yaml again (`_keep_previous_plan`) when it
        was edited (or made) while the planner was asked: the new plan was written over
        the edit, lost (the concurrent-use audit). It is not carried into the new plan
        (the edits carried are those read before the call): said, with where it is."""
        try:
            now = plan_path.read_bytes()
        except OSError:
            return  # (none there: nothing to keep)
        if now == read:
            return
        kept = _keep_previous_plan(plan_path)
        self.reporter.warn(
            f"{plan_path} was edited while the plan was being made: the new plan is "
            f"written in its place, and the file as edited is kept as {kept} (copy back "
            "what you want of it)"
        )

    def _edits_before(
        self, store: Store, prev: Step | None, plan_path: Path
    ) -> tuple[str | None, Plan] | None:
        """Before plan.yaml is planned again: (what its planner made, `PLANNED_META`,
        or None when not recorded; plan.yaml as it is now), for its hand edits to be
        carried or named. None when there is nothing to tell: no finished plan step, or
        plan.yaml unreadable (a broken edit: `_plan` says so, `_plan_unreadable`), or, with no
        record, the file as its planner wrote it (its recorded hash). A new plan that
        failed or was cut short (the step not succeeded) left plan.yaml as the plan
        before it: that one's (`PLAN_BEFORE_META`)."""
        if prev is None:
            return None
        key, sha = prev.input_key, prev.sha256
        if prev.status != "succeeded":
            try:
                before = json.loads(store.get_meta(PLAN_BEFORE_META) or "null")
                key, sha = str(before["key"]), before["sha256"]
                if before["file"] != sha256_file(plan_path):
                    return None  # plan.yaml is another plan's now (written, not journaled)
            except (ValueError, TypeError, KeyError, OSError):
                return None
        try:
            current = load_plan(plan_path)
        except PlanError:
            return None
        planned = store.get_meta(PLANNED_META + key)
        if planned is None and sha == sha256_file(plan_path):
            return None
        # a moved or copied project: the photos and music both name, as the new plan
        # does, through the same mapping; or every scene with a photo read as changed
        # and none of its edits was carried
        was = _basis_field(prev.detail, "photos")
        was = was if _photo_places(was) else None
        current = self._rebased(current, was)
        if planned is not None:
            with contextlib.suppress(ValueError):  # (pydantic's too) unreadable: as it is
                # (json.loads: the record's paths may hold surrogates, a folder named in
                # no UTF-8, which pydantic's own JSON parser refuses)
                made = self._rebased(Plan.model_validate(json.loads(planned)), was)
                planned = planned_record(made)
        return planned, current

    def _partial_replan(
        self,
        store: Store,
        planner: Planner | tuple[str, str],
        prev: Step | None,
        edits: tuple[str | None, Plan] | None,
        now: dict[str, Any] | None = None,
    ) -> _Partial | None:
        """When plan.yaml is planned again only because goals changed (edited, added,
        removed, reordered: the rest of goals.yaml, the planner and the plan options as
        the last plan's basis recorded them) and the planner is paid: the goals to ask it
        for, and the scenes the others keep (`_Partial`). A paid planner asked for every
        goal wrote new prompts for each, and every keyframe and clip of the goals that
        did not change was bought again. None (the whole plan made again) for the local
        planner (deterministic: it makes the same scenes again, for free), or when the
        kept goals' scenes cannot be told: no record of what the last plan's planner made
        (`PLANNED_META`, `edits`), a basis from before its parts were recorded. `now`:
        the plan's basis now (`_plan_basis`), when the caller has it."""
        name = planner[0] if isinstance(planner, tuple) else planner.name
        if name == "local" or prev is None or prev.status != "succeeded":
            return None
        if edits is None or edits[0] is None:
            return None
        try:
            was = json.loads(prev.detail or "null")
            made = json.loads(edits[0])
        except ValueError:
            return None
        now = self._plan_basis(planner) if now is None else now
        if not isinstance(was, dict) or not isinstance(made, dict):
            return None
        parts, now_parts = was.get("parts"), now["parts"]
        if not isinstance(parts, dict) or not isinstance(parts.get("goals"), list):
            return None
        ident = planner if isinstance(planner, tuple) else (planner.name, planner.model)
        # (a plan the default planner of before made: the same planner, `_planners_before`)
        same = {f"{n}/{m}" for n, m in self._same_planners(ident)}
        if parts.get("rest") != now_parts["rest"] or was.get("planner") not in same:
            return None
        scenes = made.get("scenes")
        if not isinstance(scenes, list) or not all(isinstance(sc, dict) for sc in scenes):
            return None
        if not _lengths_still_fit(was.get("options"), now["options"], scenes):
            return None
        old: list[str] = list(parts["goals"])
        taken: set[int] = set()
        kept: dict[int, tuple[Scene, ...]] = {}
        changed: list[int] = []
        per_goal = max(1, self._plan_options().scenes_per_goal)
        counts = [g.scenes or per_goal for g in self.goals.goals]
        for i, part in enumerate(now_parts["goals"], 1):
            j = next((n for n, p in enumerate(old, 1) if p == part and n not in taken), None)
            if j is None:
                changed.append(i)
                continue
            taken.add(j)
            theirs = [sc for sc in scenes if sc.get("goal") == j]
            if len(theirs) != counts[i - 1] or not all(
                str(sc.get("id", "")).startswith(f"{j:02d}-") for sc in theirs
            ):
                return None  # its scenes cannot be told apart: planned again, all of it
            try:
                kept[i] = tuple(_renumbered(sc, j, i) for sc in theirs)
            except ValueError:
                return None
        if not kept:
            return None  # every goal changed: the whole plan, as before
        shown = was.get("shown")
        before = shown.get("closing") if isinstance(shown, dict) else "?"
        closing = made.get("closing")
        if before is not None or given_text(self.goals.closing) or not isinstance(closing, str):
            closing = None
        return _Partial(tuple(changed), kept, closing)

    def _say_edits(
        self, carried: list[str], lost: list[str], backup: Path, *, into: str = "the new plan"
    ) -> None:
        """One line for the hand edits a new plan carried over, one for those it did not
        (a warning: shown with --quiet, as the new plan's own line is). `into`: how the
        plan now in plan.yaml is named (a kept plan put back is no new plan)."""
        if carried:
            self.reporter.warn(
                "plan.yaml: your edits carried into the new plan (their part of "
                f"{self.goals_path.name} did not change): {some_named(carried)}"
            )
        if lost == [UNKNOWN_EDITS]:
            self.reporter.warn(
                "plan.yaml was changed since it was planned (what changed was not recorded "
                f"then): those changes are not in {into}; they are in {backup.name}"
            )
        elif lost:
            self.reporter.warn(
                f"plan.yaml: your edits not in {into}: {some_named(lost)}; "
                f"they are in {backup.name}"
            )

    # ------------------------------------------------------------------ keyframes
    def _source_photo(self, scene: Scene, plan: Plan) -> Path | None:
        """For local keyframes and edit models: the goal's own photo for this scene."""
        return costs.scene_source_photo(self.goals, list(plan.scenes), scene)

    def _keyframe_model_for(
        self, model: KeyframeModel, scene: Scene, plan: Plan
    ) -> tuple[KeyframeModel, Settings]:
        """The model (and the settings it is priced with) that makes this scene's keyframe.

        An edit model needs a photo to restyle; a scene without one of its own is made by
        the same provider's text-to-image model (`costs.text_keyframe_settings`).
        """
        if self._kf_text is None or self._source_photo(scene, plan) is not None:
            return model, self.settings
        text_model, text_settings = self._kf_text
        if not self._kf_text_told:
            self._kf_text_told = True
            bare = [s.id for s in plan.scenes if self._source_photo(s, plan) is None]
            self.reporter.info(
                f"{model.model} edits a goal's own photo; {len(bare)} scene(s) without one "
                f"({', '.join(bare)}) get their keyframe from {text_model.model} instead"
            )
        return text_model, text_settings

    def _outputs_recorded(self, store: Store) -> tuple[OutputSettings, ...]:
        """Every `output` this run's renders were made at, as far as recorded
        (`recorded_outputs`); in a render, as found before it recorded its own, with the
        run's that `render --fresh` set aside (`_carry_fresh_jobs`)."""
        if self._outputs_then is not None:
            return self._outputs_then
        return recorded_outputs(store)

    def _outputs_before(self, store: Store | None, stage: str) -> list[OutputSettings]:
        """The outputs of this run's renders (`_outputs_recorded`) other than now's at
        which a paid `stage` ("keyframe", "clip") made then is the one asked now. Until
        2026-12-04 a paid keyframe's key held the frame size (now the aspect) and a paid
        clip's the frame size and fps (now the aspect and resolution): looked up at now's
        frame size and fps only, a run made then was bought again by its first render at
        another --resolution or --fps. A key that matches is the very request (every
        other input is in it), so each is safe to look up; one of another aspect (or,
        for a clip, resolution) is not made as asked now, and is left out."""
        if store is None:
            return []
        now = self.settings.output
        seen = {(now.frame(), now.fps if stage == "clip" else 0)}
        out = []
        for o in self._outputs_recorded(store):
            same = o.aspect == now.aspect and (stage != "clip" or o.resolution == now.resolution)
            if same and (k := (o.frame(), o.fps if stage == "clip" else 0)) not in seen:
                seen.add(k)
                out.append(o)
        return out

    def _clips_before_at_now(self, store: Store | None) -> bool:
        """Whether a paid clip keyed as until 2026-12-04 at now's frame size and fps
        (`_clip_key`'s `legacy` with no `at`) can have been made at now's resolution. That
        key held no resolution: with output.size set, a run made at 720p and rendered at
        1080p matched it, and its 720p clips were reused (and priced at nothing) as the
        1080p ones. Not when the run's recorded outputs (`_outputs_recorded`) show none at
        now's aspect, resolution and frame size, as `_outputs_before` leaves out those of
        another; with none recorded it is not known, and looked up as before."""
        if store is None:
            return True
        now = self.settings.output
        recorded = self._outputs_recorded(store)
        return not recorded or any(
            (o.aspect, o.resolution, o.frame()) == (now.aspect, now.resolution, now.frame())
            for o in recorded
        )

    def _keyframe_reuse_keys(
        self,
        model: _ModelId,
        scene: Scene,
        plan: Plan,
        variants: list[tuple[str, str, KeyframeRequest]],
        store: Store | None = None,
    ) -> list[str]:
        """The input keys a finished or kept keyframe of this scene is reused under: its
        `variants`', and those with the goal photo the rule before 2026-12 gave it
        (`plan.source_photo_by_place`), so a keyframe made then is not made (or paid
        for) again because the rule changed; for local keyframes also the keys photo
        keyframes had before their key left out the prompt (`_keyframe_variants`), only
        for a photo the fit has made the same pixels of since (`photo_fit_never_changed`,
        no transparent parts): for others the old key would bring back the pixels of an
        older fit (a transparent photo's old key is the one it had until it took the fit,
        `PHOTO_FIT`); for paid keyframes also the keys with the frame size they had
        until 2026-12-04 (`_keyframe_variants`), at now's frame size and at those of the
        run's renders before (`_outputs_before`, with `store`), so a run made then is not
        paid again."""
        keys = [key for _, key, _ in variants]
        photos: list[Path | None] = [None]
        old = costs.scene_source_photo(self.goals, list(plan.scenes), scene, by_place=True)
        if old is not None and old != self._source_photo(scene, plan):
            photos.append(old)
            keys += [key for _, key, _ in self._keyframe_variants(model, scene, plan, old)]
        if model.name != "local":
            # keyed with every reference photo, sent or not, until 2026-12-07
            for photo in photos:
                every = self._keyframe_variants(model, scene, plan, photo, all_refs=True)
                keys += [key for _, key, _ in every if key not in keys]
        for photo in photos:
            # SeedEdit keyed by the aspect, sent or not, until 2026-12-07: at each one
            for by in self._aspect_keyed_variants(model, scene, plan, photo):
                keys += [key for _, key, _ in by if key not in keys]
        if model.name != "local" and self._keyframe_options_written(model):
            # keyed with the options as written, until 2026-12-06: reused under that key
            for photo in photos:
                written = self._keyframe_variants(model, scene, plan, photo, written=True)
                keys += [key for _, key, _ in written if key not in keys]
        if model.name != "local":
            # a paid keyframe keyed by the frame size, before 2026-12-04: reused at that size
            for at in [None, *self._outputs_before(store, "keyframe")]:
                for photo in photos:
                    legacy = self._keyframe_variants(model, scene, plan, photo, legacy=True, at=at)
                    keys += [key for _, key, _ in legacy if key not in keys]
        if model.name == "local":
            # a photo keyframe keyed before 2026-12-01 (with the prompt, seed, style and
            # references, which do not change it): reused while its prompt is unchanged
            for photo in photos:
                source = photo or self._source_photo(scene, plan)
                if source is not None and photo_has_transparency(source):
                    # its key until 2026-12-06, with the style, references and options
                    # (`_keyframe_variants`): the same pixels while they are unchanged
                    before = self._keyframe_variants(model, scene, plan, photo, before_dec06=True)
                    keys += [key for _, key, _ in before if key not in keys]
                if source is not None and (
                    photo_has_transparency(source) or not photo_fit_never_changed(source)
                ):
                    # a photo with transparent parts: its legacy key is the key it had
                    # until the fit joined it; a photo whose pixels a fix of the fit has
                    # changed (an ICC profile, 16-bit or float grey): reused, either
                    # would bring back the pixels of an older fit
                    continue
                legacy = self._keyframe_variants(model, scene, plan, photo, legacy=True)
                keys += [key for _, key, _ in legacy if key not in keys]
        return keys

    def _keyframe_keys_before(
        self,
        model: _ModelId,
        scene: Scene,
        plan: Plan,
        variants: list[tuple[str, str, KeyframeRequest]],
        store: Store | None = None,
    ) -> dict[str, tuple[str, ...]]:
        """A paid keyframe request's key -> the keys the same request had before (with the
        options as written until 2026-12-06, `_keyframe_variants`' `written`; with the
        frame size until 2026-12-04, its `legacy`: now's, then those of the run's renders
        before, `_outputs_before`, with `store`). A result URL kept on a
        ledger row (`_refetch_kept`) is found by its key: one kept in a run made then was
        not found, and the render bought the image again. For a local keyframe of a photo
        with transparent parts: its key until 2026-12-06 (`before_dec06`), so that one
        reused under it takes its key of now, and a later style edit paints nothing."""
        if model.name == "local":
            source = self._source_photo(scene, plan)
            if source is None or not photo_has_transparency(source):
                return {}
            dec06 = self._keyframe_variants(model, scene, plan, before_dec06=True)
            return {key: (o,) for (_, key, _), (_, o, _) in zip(variants, dec06, strict=True)}
        before: dict[str, tuple[str, ...]] = {key: () for _, key, _ in variants}
        # keyed with every reference photo, sent or not, until 2026-12-07
        every = self._keyframe_variants(model, scene, plan, all_refs=True)
        for (_, key, _), (_, old, _) in zip(variants, every, strict=True):
            if old != key:
                before[key] += (old,)
        if self._keyframe_options_written(model):
            # keyed with the options as written, until 2026-12-06
            written = self._keyframe_variants(model, scene, plan, written=True)
            for (_, key, _), (_, old, _) in zip(variants, written, strict=True):
                before[key] += (old,)
        for at in [None, *self._outputs_before(store, "keyframe")]:
            legacy = self._keyframe_variants(model, scene, plan, legacy=True, at=at)
            for (_, key, _), (_, old, _) in zip(variants, legacy, strict=True):
                if old not in before[key]:
                    before[key] += (old,)
        for by in self._aspect_keyed_variants(model, scene, plan):
            for (_, key, _), (_, old, _) in zip(variants, by, strict=True):
                if old not in before[key]:
                    before[key] += (old,)
        return before

    def _aspect_keyed_variants(
        self, model: _ModelId, scene: Scene, plan: Plan, photo: Path | None = None
    ) -> Iterator[list[tuple[str, str, KeyframeRequest]]]:
        """For a model sent size "adaptive" (`_sized_adaptive`), its `_keyframe_variants`
        as keyed until 2026-12-07, by the aspect (with the reference photos sent, and with
        all of them, as before that day): at every aspect output.aspect takes (a key that
        matches is the very request: the aspect was never sent; the run records only its
        last render's); none for any other model."""
        from mindmovie.compose.timeline import ASPECTS

        if not _sized_adaptive(model):
            return
        for aspect in ASPECTS:
            for refs in (False, True):
                yield self._keyframe_variants(
                    model, scene, plan, photo, all_refs=refs, aspect_at=aspect
                )

    @staticmethod
    def _refs_keyed(
        model: _ModelId, refs: Sequence[Path], source: Path | None, all_refs: bool
    ) -> list[Path]:
        """The reference photos a keyframe's key holds (`_keyframe_variants`): those the
        model is sent, or (`all_refs`, a local model, or one the catalog does not know)
        every readable one."""
        readable = [p for p in refs if _readable_file(p)]
        spec = getattr(model, "spec", None)
        if all_refs or model.name == "local" or not isinstance(spec, ModelSpec):
            return readable
        sent, _ = references_sent(spec, readable, source_photo=source is not None)
        return sent

    def _keyframe_options_written(self, model: _ModelId) -> bool:
        """Whether a paid keyframe's key of now leaves out keyframe options set (those
        that do not change the image): its key until 2026-12-06 is then another."""
        return self._options_written("keyframes", model)

    def _options_written(self, stage: Literal["keyframes", "video"], model: _ModelId) -> bool:
        """Whether `stage`'s key of now leaves out options set (`registry.key_options`):
        its key until 2026-12-06, with them as written, is then another."""
        options = getattr(self.settings, stage).options
        return registry.key_options(stage, model.name, options, model.model) != dict(options)

    def _photo_id(self, path: Path) -> str:
        """A photo's sha256 as keyframe keys hold it: the one this run recorded for the
        same look (`_learn_photos`) when the file was re-saved since with other bytes."""
        sha = sha256_file(path)
        if (read := _PHOTOS_READ.get()) is not None:
            read.setdefault(path, sha)  # (the bytes the key is made of: `_photos_read`)
        return (self._photo_ids or {}).get(sha, sha)

    def _learn_photos(self, store: Store, *, record: bool) -> None:
        """Find goals.yaml's photos whose bytes this run has not recorded but whose look
        it has (`PHOTO_LOOK_META`): re-saved with other metadata, keyed as the recorded
        bytes (`_photo_id`). With `record` (a render), record the look of each photo
        whose look is not recorded yet: the bytes keys hold from now on. Only bytes not
        recorded are decoded, once per render or status.

        Only looks recorded before are matched: two photos of one look first seen
        together (a run from before the looks: each keyed by its own bytes) keep their
        own bytes, where the second was keyed as the first and its scenes bought again
        (status and estimate, which record nothing, had said they were made). Of several
        recorded bytes of a look, those goals.yaml no longer holds are the ones re-saved."""
        looks = store.meta_with_prefix(PHOTO_LOOK_META)
        if not looks and not record:
            # nothing recorded to match: `status` and `estimate` of a run made before
            # the looks were recorded decoded every photo, each time, for nothing
            self._photo_ids = {}
            return
        by_look: dict[str, list[str]] = {}
        for known, seen in sorted(looks.items()):
            by_look.setdefault(seen, []).append(known)
        photos = {str(p): p for slot in photo_places(self.goals) for p in slot}
        # (goals.yaml's check says why a photo is no readable file)
        shas = {path: sha256_file(path) for path in photos.values() if _readable_file(path)}
        ids: dict[str, str] = {}
        for path, sha in shas.items():
            look = None if sha in looks else photo_look(path)
            if look is None:
                continue
            if was := by_look.get(look):
                gone = [k for k in was if k not in shas.values()]
                ids[sha] = (gone or was)[0]
            elif record:
                store.set_meta(PHOTO_LOOK_META + sha, look)
                looks[sha] = look
        self._photo_ids = ids

    def _keyframe_variants(
        self,
        model: _ModelId,
        scene: Scene,
        plan: Plan,
        photo: Path | None = None,
        *,
        legacy: bool = False,
        at: OutputSettings | None = None,
        before_dec06: bool = False,
        written: bool = False,
        all_refs: bool = False,
        aspect_at: str | None = None,
    ) -> list[tuple[str, str, KeyframeRequest]]:
        """(label, input key, request): the request as planned, then the content-filter
        fallback (a softened prompt), each with its own key so either result is reusable.
        `photo`: the goal photo to make it from, instead of `_source_photo`'s.

        A local keyframe made from a goal photo with transparent parts is the photo over
        the painter's scene: its key holds what the two take (the photo, the fit, the
        frame size, and the painter's prompt, seed and category), not the plan's style,
        the reference photos or the options. Until 2026-12-06 it held those too, so their
        edit painted the same image again and `status` called it a redo
        (`before_dec06`: that key, for reuse only).

        A paid keyframe's key holds the options that change the image
        (`registry.key_options`); until 2026-12-06 all of them as written (`written`, and
        `legacy`), and `watermark: false` bought every finished keyframe again.

        A local keyframe made from the goal's photo (with no transparent part for the
        painted scene to show through) is that photo fitted to the frame: its key holds
        only the photo's bytes, the frame size and the fit. Before 2026-12-01 it held the
        prompt too, so an edited image_prompt made the same image again (its clip was
        reused only as the bytes came out identical). `legacy`: the key as it was then
        (for reuse only); for a paid model, the key with the frame size, as it was until
        2026-12-04 (now the aspect, which is what is sent), of output `at` (else now's).

        A paid keyframe's key holds the reference photos the model is sent
        (`catalog.references_sent`: none for a model that takes none, the first ones up to
        its limit); until 2026-12-07 every one, so an edit of one never sent bought the
        very same image again (`all_refs`: that key, for reuse only).

        A model sent size "adaptive" (SeedEdit: the photo's own shape) is sent no aspect,
        and its key holds none; until 2026-12-07 it held output.aspect, so a new aspect
        bought the very same image again (`aspect_at`: that key with that aspect, for
        reuse only)."""
        w, h = keyframe_size(self.settings)
        refs = tuple(expanded(p) for p in scene.reference_photos)  # "~/me.jpg" as check_plan
        # the goal's own photo becomes the picture for local keyframes, and is the image
        # an edit model (SeedEdit: image_required) restyles; others get it as a reference
        spec = getattr(model, "spec", None)
        edits = spec is not None and spec.capabilities.image_required
        source = None
        if model.name == "local" or edits:
            source = photo or self._source_photo(scene, plan)
        req = KeyframeRequest(
            scene_id=scene.id,
            prompt=scene.image_prompt,
            width=w,
            height=h,
            seed=self.settings.keyframes.seed,
            category=scene.category,
            style=plan.style,
            aspect=self.settings.output.aspect,
            reference_photos=refs,
            source_photo=source,
        )
        # a remote model is sent the aspect (and its `size` option), never the frame size,
        # and its image is kept as made: keyed by the frame size (`legacy`: as until
        # 2026-12-04, still looked up), a new resolution bought every keyframe again
        frame: dict[str, Any] = (
            {"size": [w, h]}
            if model.name == "local" or legacy
            else {"aspect": self.settings.output.aspect}
        )
        if legacy and at is not None and model.name != "local":
            frame = {"size": list(keyframe_size(self.settings.model_copy(update={"output": at})))}
        elif not legacy and _sized_adaptive(model):
            frame = {"aspect": aspect_at} if aspect_at is not None else {"size": "adaptive"}
        common = dict(
            v=STAGE_VERSION["keyframe"],
            provider=model.name,
            model=model.model,
            style=plan.style,
            **frame,
            seed=self.settings.keyframes.seed,
            options=(
                self.settings.keyframes.options
                if legacy or written or before_dec06
                else registry.key_options(
                    "keyframes", model.name, self.settings.keyframes.options, model.model
                )
            ),
            # a path that is no readable file (a folder, edited into plan.yaml) is left
            # out as a missing one is: `check_plan` refuses both before any step is made
            # (every one in the keys of before: `legacy`, `written`, `before_dec06`)
            refs=[
                self._photo_id(p)
                for p in self._refs_keyed(
                    model, refs, source, all_refs or legacy or written or before_dec06
                )
            ],
            source=self._photo_id(source) if source else None,
        )
        fitted = model.name == "local" and source is not None and not legacy
        clear = fitted and source is not None and not photo_has_transparency(source)
        if clear or (fitted and not before_dec06):
            # `local_media.fit_photo`: the photo alone decides the pixels, or with parts
            # transparent, over `paint_keyframe`'s scene, the photo and the painter's inputs
            painter: dict[str, Any] = (
                {}
                if clear
                else {
                    "prompt": req.prompt,
                    "seed": self.settings.keyframes.seed,
                    "category": scene.category.strip().lower(),
                }
            )
            key = input_key(
                v=STAGE_VERSION["keyframe"],
                provider=model.name,
                model=model.model,
                made="photo" if clear else "photo over painted",
                fit=photo_fit(source),
                size=[w, h],
                source=common["source"],
                **painter,
            )
            return [("as planned", key, req)]
        if model.name == "local" and source is None and not legacy:
            # `local_media.paint_keyframe`: the prompt, seed, size and category alone
            # decide the pixels. With the plan's style, the reference photos and the
            # options in its key too (`legacy`: still looked up), an edit of them painted
            # every keyframe again, byte for byte, and `status` called it a redo.
            key = input_key(
                v=STAGE_VERSION["keyframe"],
                provider=model.name,
                model=model.model,
                made="painted",
                prompt=req.prompt,
                size=[w, h],
                seed=self.settings.keyframes.seed,
                category=scene.category.strip().lower(),
            )
            return [("as planned", key, req)]
        if model.name == "local":  # the painter's palette follows the category
            common["category"] = scene.category.strip().lower()
            if fitted:  # a photo over the painted scene: what the fit makes of it too
                common["fit"] = photo_fit(source)
        out = [("as planned", input_key(prompt=req.prompt, **common), req)]
        if model.name != "local":
            soft = replace(req, prompt=soften_prompt(req.prompt, scene.category))
            out.append(("softened prompt", input_key(prompt=soft.prompt, **common), soft))
        return out

    def _keep_changed(self, store: Store, scene_id: str, stage: str) -> None:
        """A finished keyframe or clip whose file is not the one this run made (replaced by
        hand, e.g. with a picture of the person's own) is about to be made again: move the
        file into previous/<time>/ first, as --fresh does, instead of writing over it."""
        step = store.get(scene_id, stage)
        if step is None or step.status != "succeeded" or store.artifact_problem(step) != "changed":
            return
        path = store.artifact_path(step)
        assert path is not None
        if self._changed_dir is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            dest = self.run_dir / "previous" / stamp
            n = 1
            while dest.exists():  # never mix this render's files with another's
                n += 1
                dest = dest.with_name(f"{stamp}-{n}")
            self._changed_dir = dest
        rel = path.relative_to(self.run_dir)
        moved = self._changed_dir / rel
        make_dirs(moved.parent)
        # (scenes/ may be a link to another disk: os.replace failed the scene there,
        # "Invalid cross-device link", at every render; shutil.move copies then)
        shutil.move(path, moved)
        self.reporter.warn(
            f"{rel} is not the file this run made (changed since): it was moved to "
            f"{moved} and {scene_id}'s {stage} is made again"
        )

    async def _keyframe(
        self, store: Store, model: KeyframeModel, scene: Scene, plan: Plan, res: RenderResult
    ) -> Path:
        """The scene's keyframe: reused, put back, or made (`_one_buyer`: once for all
        the scenes that ask the same image)."""
        try:
            asked, priced = self._keyframe_model_for(model, scene, plan)
            # the photos' bytes as the keys read them, in the same breath: read after an
            # await, a photo replaced meanwhile was read new, and sent under the old
            # photo's key unseen (CI caught it)
            read: dict[Path, str | None] = {}
            token = _PHOTOS_READ.set(read)
            try:
                variants = self._keyframe_variants(asked, scene, plan)
            finally:
                _PHOTOS_READ.reset(token)
            photos = _photos_read(variants, read)
            if asked.name == "local":
                return await self._keyframe_step(
                    store, asked, priced, variants, scene, plan, res, photos
                )
            async with self._one_buyer("keyframe", variants[0][1], scene.id):
                return await self._keyframe_step(
                    store, asked, priced, variants, scene, plan, res, photos
                )
        except FileNotFoundError as e:
            if why := input_gone(e, self.run_dir):
                raise InputGone(why) from None
            raise

    async def _keyframe_step(
        self,
        store: Store,
        model: KeyframeModel,
        priced: Settings | None,
        variants: list[tuple[str, str, KeyframeRequest]],
        scene: Scene,
        plan: Plan,
        res: RenderResult,
        photos: dict[Path, str | None] | None = None,
    ) -> Path:
        """`_keyframe` once it is the scene's turn: `model` and `priced` as
        `_keyframe_model_for` gives them, `variants` its requests, `photos` the photos
        they send as their keys read them (`_photos_read`)."""
        dest = self.run_dir / "scenes" / scene.id / "keyframe.png"
        keys = self._keyframe_reuse_keys(model, scene, plan, variants, store)
        reused = any(store.reusable(scene.id, "keyframe", key) for key in keys)
        before = self._keyframe_keys_before(model, scene, plan, variants, store)
        # a paid keyframe keyed by the frame size (until 2026-12-04), reused or put back
        # from kept/, takes its key of now, as a clip does (`_clip`): else a later
        # --resolution bought it again
        now_of = {old: now for now, olds in before.items() for old in olds}
        if not reused:
            self._keep_changed(store, scene.id, "keyframe")
        back = (
            None
            if reused
            else next((key for key in keys if store.restore(scene.id, "keyframe", key, dest)), None)
        )
        step = store.get(scene.id, "keyframe")
        if step is not None and step.input_key in now_of and (reused or back is not None):
            store.rekey(scene.id, "keyframe", now_of[step.input_key])
        if reused or back is not None:
            self.reporter.step("keyframes", scene.id, "reused")
            self._mark(res, False, scene.id, "keyframe")
            return dest
        if model.name != "local" and (
            refused := _refused_whole_step(store, scene.id, "keyframe", variants)
        ):
            # its fallback, asked after the planned request was refused, was refused too:
            # sent again, each render bought both in turn, each refused (Gemini bills a
            # refusal's input), while the render said the same would be refused again
            raise ContentRejected(
                _said_before(refused, model.name, scene.id), provider=model.name, scene_id=scene.id
            )
        sem = self._sem(model.name, "keyframes")
        if sem.locked():
            self.reporter.step("keyframes", scene.id, "queued")  # waiting for a slot
        every = {key for _, key, _ in variants}  # a fallback is the same scene's next try
        async with sem:
            for i, (_, key, req) in enumerate(variants):
                try:
                    await self._keyframe_once(
                        store,
                        model,
                        req,
                        key,
                        dest,
                        priced,
                        same_request=every,
                        keys_before=before.get(key, ()),
                        photos=photos,
                    )
                    break
                except InvalidRequest as e:
                    # (a setting's refusal is said once, by the render)
                    if e.answered and not e.setting:
                        e.message += refused_request_fix(
                            self.run_dir / "plan.yaml", scene.id, "keyframe", e.param
                        )
                    raise
                except ContentRejected as e:
                    if i + 1 == len(variants):
                        e.message += self._refused_fix(scene.id, [label for label, *_ in variants])
                        raise
                    self.reporter.warn(
                        f"{scene.id}: keyframe refused by the content filter ({e.message}); "
                        f"trying once more with a {variants[i + 1][0]}"
                    )
                    # asked as the fallback: refused too, it is not sent again (`refused_whole`)
                    store.mark_fallback(variants[i + 1][1], of=variants[0][1])
        self.reporter.step("keyframes", scene.id, "done")
        self._mark(res, True, scene.id, "keyframe")
        return dest

    def _refused_fix(self, scene_id: str, tried: Sequence[str], field: str = "image_prompt") -> str:
        """What a scene whose every keyframe (or clip) request the content filter refused
        must change, for its failure line: it said only "blocked by the content filter
        (finish reason IMAGE_SAFETY)" under "`render` again retries them", and the same
        prompt is refused again (and Gemini bills each refusal's input tokens). A clip's
        filter also judges the picture it starts from: its keyframe's prompt may be it."""
        were = "was" if len(tried) == 2 else "were"
        also = f"its {' and '.join(tried[1:])} {were} refused too: " if len(tried) > 1 else ""
        what = (
            "(or change its `reference_photos`)"
            if field == "image_prompt"
            else "(the picture it starts from may be what is refused: then its `image_prompt`)"
        )
        return (
            f"; {also}reword scene {scene_id}'s `{field}` in "
            f"{self.run_dir / 'plan.yaml'} {what} and render again"
        )

    async def _keyframe_once(
        self,
        store: Store,
        model: KeyframeModel,
        req: KeyframeRequest,
        key: str,
        dest: Path,
        priced: Settings | None = None,
        *,
        same_request: Collection[str] = (),
        keys_before: Sequence[str] = (),
        photos: dict[Path, str | None] | None = None,
    ) -> None:
        """One keyframe call (with retries); `priced`: the settings that price `model`;
        `same_request`: the keys of the scene's other variants (see `Store.begin`);
        `keys_before`: this request's keys until 2026-12-04 (`_keyframe_keys_before`);
        `photos`: the photos it sends as its key read them, looked at again just before
        it is sent (`_photo_moved`)."""
        scene_id = req.scene_id
        priced = priced or self.settings
        self._check_stop()
        self.reporter.step("keyframes", scene_id, "running")
        store.begin(
            scene_id, "keyframe", key, same_request=same_request, paid=model.name != "local"
        )
        try:
            again = costs.estimate_keyframe(priced).usd
            if await self._refetch_kept(store, model, req, key, dest, again, keys_before):
                return
        except ProviderError as e:
            e.scene_id = e.scene_id or scene_id
            store.fail(scene_id, "keyframe", e.kind, str(e))
            raise
        # with the prompt's and photos' input tokens where the model bills them (Gemini)
        estimate = costs.request_keyframe_estimate(
            priced, req.prompt, req.style, req.reference_photos, req.source_photo
        ).usd
        sent = [*req.reference_photos, *([req.source_photo] if req.source_photo else [])]
        # each image's pixels: a token-priced model counts a big photo's tiles
        sizes = [size for p in sent if (size := photo_pixels(p)) is not None]
        # (a prompt past the hold's generous 2,000 tokens: never held below its estimate)
        hold = max(estimate, costs.keyframe_hold(priced, len(sent), sizes))

        rows: list[int] = []  # this keyframe's paid calls (one a try)

        async def attempt() -> tuple[ImageResult, Bill | None]:
            row = await self._reserve(scene_id, "keyframe", model, estimate, hold)
            if row is not None:
                # in flight until saved (below): the stop's grace waits for it
                rows.append(row)
                self._paid_call(row, "image", model.name)

            def answered(url: str) -> None:
                # (best effort, as `_journal_unrepaired`: run.db at its size limit
                # raised out of the answer, paid, before its download)
                assert row is not None
                with contextlib.suppress(sqlite3.Error, OSError, StoreError):
                    store.ledger_note_answered(
                        row, url, key, getattr(model, "result_url_seconds", None)
                    )

            # (the plan's default style names 16:9 whatever the aspect: said as the
            # movie's own to a paid model; the key stays the plan's prompt's)
            sent = req
            if model.name != "local":
                sent = replace(req, prompt=prompt_for_aspect(req.prompt, req.aspect))

            async def checked_generate() -> ImageResult:
                # (the waits for a turn and the budget came since the key read the photos:
                # one replaced meanwhile is not sent under it, the row refunded)
                if photos and (moved := await _looked_at(photos)):
                    raise InvalidRequest(moved, provider=model.name, scene_id=scene_id)
                return await model.generate(sent)

            try:
                with on_result_answered(answered if row is not None else None):
                    img = await self._settle_errors(row, checked_generate(), model, keep_key=key)
            except BaseException:
                if row is not None:  # settled (or lost): nothing to wait for, nor save
                    self._paid_in_flight.pop(row, None)
                raise
            if row is None:
                return img, None
            usd, _ = costs.billed_usd(
                "keyframe",
                costs.stage_spec(priced, "keyframes"),
                img.usage,
                seconds=0,
                resolution="",
                ratio=req.aspect,
                audio=False,
            )
            return img, (row, usd, img.usage)

        try:
            await self._keyframe_paid(store, model, req, key, dest, attempt, estimate, rows)
        finally:
            for row in rows:
                self._paid_in_flight.pop(row, None)

    async def _keyframe_paid(
        self,
        store: Store,
        model: KeyframeModel,
        req: KeyframeRequest,
        key: str,
        dest: Path,
        attempt: Callable[[], Awaitable[tuple[ImageResult, Bill | None]]],
        estimate: float,
        rows: Sequence[int],
    ) -> None:
        """`_keyframe_once`'s paid call (`attempt`, with retries) and the saving of its
        image, while the call counts as in flight (`_paid_in_flight`); `rows`: the
        ledger rows of the calls `attempt` has let through the gate so far."""
        scene_id = req.scene_id
        try:
            img, bill = await with_retry(attempt)
        except (BudgetExceeded, Interrupted) as e:
            kind = "budget" if isinstance(e, BudgetExceeded) else "interrupted"
            store.fail(scene_id, "keyframe", kind, str(e), sent=self._tried(model, bool(rows)))
            raise
        except registry.KeyNotSet as e:
            # a key not set, met at the gate (`registry.Keyless`): the step was left
            # running, this try counted, though nothing was sent
            store.fail(scene_id, "keyframe", "auth", str(e), sent=self._tried(model, bool(rows)))
            raise
        except ProviderError as e:
            e.scene_id = e.scene_id or scene_id
            sent = self._tried(model, bool(rows))  # (a key refused earlier: not sent)
            # (paid, and still at its URL: kept on its row with its bill, `_settle_failed`;
            # the next render downloads it from there)
            if isinstance(e, ResultGone) and e.charged:
                # made and billed, but its URL answered that it is gone: said as such, with
                # what the next render does (buys a new one, counted in its estimate)
                gone = ResultGone(
                    f"the image made for this scene is gone at {model.name} before it could "
                    f"be downloaded ({e.message}); it was billed. The next render buys a new "
                    f"one (about {costs.format_usd(estimate)}), counted in its estimate and "
                    "spend question",
                    provider=e.provider or model.name,
                    scene_id=scene_id,
                )
                gone.charged = True
                store.fail(scene_id, "keyframe", gone.kind, str(gone), sent=sent)
                self._gone_keys[key] = scene_id  # (a scene asking the same: not sold it)
                raise gone from None
            store.fail(scene_id, "keyframe", e.kind, str(e), sent=sent)
            raise
        # the run folder moved: written at its old path, the paid image was journaled as
        # made in the moved run.db with no file there, and bought again by the render
        # into it (what was written at the old path is removed): kept in the moved
        # folder instead, which that render puts back (`Store.restore`)
        fd = self._run_dir_fd
        if (
            bill is not None
            and fd is not None
            and self._run_dir_gone()
            and store.keep_result_at(fd, scene_id, "keyframe", key, img.data, dest.suffix)
        ):
            try:
                await self.gate.bill(*bill)
            except Exception:
                await self.gate.unknown(bill[0])
            raise RunDirGone(self._gone_message())
        try:
            if not (model.name == "local" and _same_picture(dest, img.data)):
                # else the file there stays, byte for byte: the same pixels made again
                # for a new key (a fit's version) keep the key of its clip, the file's
                # sha256, and a paid video model does not animate it again
                atomic_write_bytes(dest, img.data)
            # billed with the step's success, in one transaction (see _plan)
            store.succeed(
                scene_id,
                "keyframe",
                dest,
                sha256_file(dest),
                detail=img.usage or None,
                bill=bill,
                paid=model.name != "local",
            )
        except BaseException as e:
            if bill is not None and bill[0] in store.receipted:
                # saved, but run.db could not record it (the file size limit met): its
                # receipt says what was answered, and the next render takes it up
                await self.gate.unknown(bill[0])
            elif bill is not None:
                kept = False
                if isinstance(e, OSError):
                    if not is_disk_full(e):
                        # not saved where it goes (a folder put there, scenes/ made a file
                        # during the render): kept for the next render, not bought again;
                        # the run folder moved since the look above: kept in the moved one
                        fd = self._run_dir_fd
                        with contextlib.suppress(OSError, sqlite3.Error):
                            if not (
                                fd is not None
                                and self._run_dir_gone()
                                and store.keep_result_at(
                                    fd, scene_id, "keyframe", key, img.data, dest.suffix
                                )
                            ):
                                store.keep_result(scene_id, "keyframe", key, img.data, dest.suffix)
                            kept = True
                    # answered and charged, but not saved (a full disk): billed, so the
                    # ledger does not show it in flight for ever
                    try:
                        await self.gate.bill(*bill)
                    except Exception:
                        await self.gate.unknown(bill[0])
                else:
                    await self.gate.unknown(bill[0])  # paid, result lost: stays committed
                if not kept:
                    self._paid_not_kept.append(
                        f"{scene_id}'s keyframe (about {costs.format_usd(bill[1])})"
                    )
            raise
        if bill is not None:
            await self.gate.settled(bill[0])

    async def _refetch_kept(
        self,
        store: Store,
        model: KeyframeModel,
        req: KeyframeRequest,
        key: str,
        dest: Path,
        again: float,
        keys_before: Sequence[str] = (),
    ) -> bool:
        """A keyframe paid for in an earlier render whose download failed: downloaded
        from the result URL kept on its ledger row (`Store.ledger_keep_result`) instead
        of bought again (kept under `key`, or one of `keys_before`: the keys as until
        2026-12-04; the step takes `key`). False when there is none, or when its URL is
        past its validity and fails: the estimate counted a new image then
        (`Store.refetchable_result`), which is bought, and the person is told why.
        Within its validity the estimate counted it as paid, so a new one is not bought
        behind the spend question's back: a URL gone for good (`ResultGone`: 404/410, a
        403 past its own expiry, no image again) loses its URL and fails the scene
        saying the next render buys a new one (about `again`); one that still fails for
        a passing reason (a 403 within its expiry too) fails the scene again, buying
        nothing."""
        kept = None
        for k in (key, *keys_before):
            # (another scene's too, asking the very same image: its row is used up here,
            # and that scene then takes this one's file; it was bought a second time)
            if kept := store.kept_result(req.scene_id, "keyframe", k, any_scene=True):
                break
        if kept is None and (
            gone := next((b for k in (key, *keys_before) if (b := self._gone_keys.get(k))), None)
        ):
            # the very image another scene's kept URL (or first download) found gone in
            # this render: the estimate counted it as paid, so it is not bought unasked
            raise ResultGone(
                f"the keyframe {gone} paid for (the very same image) is gone at {model.name}; "
                f"it was billed. The next render buys a new one once for both scenes (about "
                f"{costs.format_usd(again)}), counted in its estimate and spend question",
                provider=model.name,
                scene_id=req.scene_id,
            )
        if kept is None or not isinstance(model, RefetchesResults):
            return False
        row, usage = int(kept["id"]), dict(kept["usage"])
        # (another scene's row: the very same image that scene bought)
        paid = (
            "paid for in an earlier run"
            if kept["scene_id"] == req.scene_id
            else f"{kept['scene_id']} paid for (the very same image)"
        )
        url = str(usage["result_url"])
        try:
            # its age when the estimate counted it (paid, or a new image): a URL that
            # turned 24 h old since, failing, was bought again at once, unasked
            now = self._estimated_at or time.time()
            age = now - float(usage.get("result_at") or 0)
            valid_for = float(usage.get("result_valid_for") or model.result_url_seconds)
        except (TypeError, ValueError):
            # a time edited by hand: past its validity, as the estimate takes it
            # (`Store.refetchable_result`); it failed the scene at every render
            age, valid_for = math.inf, model.result_url_seconds
        valid = age < valid_for
        self.reporter.step("keyframes", req.scene_id, "downloading", "paid in an earlier run")
        try:
            data = await model.refetch(url, req)
        except ResultGone as e:
            why = e.message
            if valid:
                store.ledger_drop_result(row, f"gone: {why}")
                self._gone_keys[str(usage.get("input_key") or key)] = str(kept["scene_id"])
                raise ResultGone(
                    f"the keyframe {paid} is gone at {model.name} ({why}); "
                    f"it was billed. The next render buys a new one (about "
                    f"{costs.format_usd(again)}), counted in its estimate and spend question",
                    provider=e.provider or model.name,
                    scene_id=req.scene_id,
                ) from None
        except (Transient, JobFailed) as e:
            if valid:
                left = (valid_for - age) / 3600
                raise Transient(
                    f"the keyframe {paid} still could not be downloaded "
                    f"from its result URL ({e.message}); nothing new was bought. Render again "
                    f"later: the URL is valid for about {left:.0f} h more, and only after "
                    "that is a new image bought",
                    provider=e.provider,
                ) from None
            why = (
                f"{e.message}, and the URL is {age / 3600:.0f} h old (valid for "
                f"{valid_for / 3600:.0f} h)"
                if math.isfinite(age)
                else f"{e.message}, and the time it was kept is not recorded"
            )
        else:
            atomic_write_bytes(dest, data)
            usage.pop("result_url", None)
            usage["result_url_outcome"] = "downloaded in a later run"
            store.succeed(
                req.scene_id,
                "keyframe",
                dest,
                sha256_file(dest),
                detail={"downloaded_from_ledger_row": row},
                # the row stays billed as it was; its URL is used up (same transaction)
                bill=(row, float(kept["billed_usd"] or 0.0), usage),
                paid=True,
            )
            return True
        store.ledger_drop_result(row, f"gone: {why}")
        self.reporter.warn(
            f"{req.scene_id}: the keyframe {paid} cannot be downloaded "
            f"any more ({why}); buying a new one"
        )
        return False

    # ------------------------------------------------------------------ clips
    def _video_request(
        self, scene: Scene, keyframe: Path, last_frame: Path | None = None
    ) -> VideoRequest:
        w, h = self.settings.output.frame()
        prompt = scene.motion_prompt
        if self.settings.stage_provider("video") == "byteplus":
            # as Seedance is sent it (`byteplus.sent_prompt`: its inline "--dur 10" taken
            # out): keyed on the raw text, such an edit bought the very same clip again
            from mindmovie.providers.byteplus import sent_prompt

            prompt = sent_prompt(prompt)
        return VideoRequest(
            scene_id=scene.id,
            prompt=prompt,
            keyframe=keyframe,
            seconds=self._clip_seconds(scene),
            width=w,
            height=h,
            fps=self.settings.output.fps,
            seed=self.settings.video.seed,
            aspect=self.settings.output.aspect,
            resolution=self.settings.output.resolution,
            audio=self.settings.video.audio,
            last_frame=last_frame,
        )

    def _clip_seconds(self, scene: Scene) -> float:
        """The clip length asked of the video model: the scene's seconds snapped to the
        durations the model makes, as the planner and the estimate do ("scene asks 3.3 s;
        seedance-1-5-pro makes 4 s"). A hand-edited plan.yaml `seconds` the model cannot
        make was sent as it was and refused, failing the scene on every render. The
        compose still shows the scene for its own seconds (a longer clip is cut, a
        shorter one holds its last frame). Unchanged for a duration the model makes."""
        spec = costs.stage_spec(self.settings, "video")
        if spec is None:
            return scene.seconds
        return float(catalog_snap(spec, scene.seconds))

    def _size_shape_warning(self) -> str | None:
        """An `output.size` of another shape than `output.aspect`, with a paid keyframe or
        video model: the models are asked for pictures of `output.aspect` (the shapes
        they make), cropped to the frame, so much of what is paid for is cut off (a
        360x640 frame keeps 32% of a 16:9 picture) without a word. Said before any call,
        with the aspect that fits (the frame itself is as set)."""
        out = self.settings.output
        paid = {self.settings.stage_provider(s) for s in ("keyframes", "video")} - {"local"}
        if not out.size or not paid:
            return None
        fw, fh = out.frame()

        def kept_of(aspect: str) -> float:
            a, b = aspect.split(":")
            return cover_kept((int(a), int(b)), (fw, fh))

        kept = kept_of(out.aspect)
        if kept > 0.9:
            return None
        best = max(("16:9", "9:16", "1:1"), key=kept_of)
        if kept_of(best) > kept + 1e-9:
            fix = f"set output.aspect to {best} for this frame"
        else:
            # no aspect fits it better (320x240 is nearest 16:9 of the three): "set
            # output.aspect to 16:9" of a 16:9 aspect changed nothing
            a, b = (int(n) for n in out.aspect.split(":"))
            w = fw - fw % 2
            h = max(16, round(w * b / a / 2) * 2)
            fix = (
                f"no aspect the models make is nearer its shape ({out.aspect} is the "
                f"nearest): set output.size to one of {out.aspect}'s shape (e.g. {w}x{h}) "
                "to keep the whole picture"
            )
        return (
            f"output.size {out.size} is not of output.aspect {out.aspect}'s shape: the "
            f"{' and '.join(sorted(paid))} models make {out.aspect} pictures, cropped to "
            f"the frame, which keeps only {round(100 * kept)}% of each; {fix}"
        )

    def _build_providers(self) -> tuple[Planner, KeyframeModel, VideoModel]:
        """Every provider of the render, and ffmpeg checked: what must be there before any
        work (a missing key, an option a provider refuses, clip settings no clip can have,
        no ffmpeg). Raises ConfigError / FFmpegError; touches no file. A provider whose
        key is not set and which this render does not call is a placeholder
        (`_keyless_spare`); none is left from an earlier run() of this Pipeline, whose
        keys or run folder may have been other than now."""
        self._keyless, self._stages_needed = {}, None
        spare = self._keyless_spare()
        self._check_keys(spare)
        self._check_http_setup(spare)
        for stage in _STAGES:
            if stage in (self._stages_needed or ()):
                # a key not set that this render needs for a later stage only (a clip
                # job's late creation still looked for): named by that stage's provider,
                # which says what for; the first stage's said "for keyframes (Seedream)".
                # (Its key not set: the build raises, nothing is made.)
                self._make(stage, self.settings, spare)
        planner = cast(Planner, self._make("planner", self.settings, spare))
        kf_model = cast(KeyframeModel, self._make("keyframes", self.settings, spare))
        self._keyframe_provider = kf_model.name
        for said in ignored_settings(self.settings):
            self.reporter.warn(said)
        if (shape := self._size_shape_warning()) is not None:
            self.reporter.warn(shape)
        text_settings = costs.text_keyframe_settings(self.settings)
        if text_settings is not None:
            text_model = cast(KeyframeModel, self._make("keyframes", text_settings, spare))
            self._kf_text = (text_model, text_settings)
        video_model = cast(VideoModel, self._make("video", self.settings, spare))
        self._video_model = video_model
        self._check_clip_settings()
        from mindmovie.doctor import ffmpeg_lacks
        from mindmovie.media import FFmpegError, check_ffmpeg

        try:
            check_ffmpeg()
            lacks = ffmpeg_lacks()  # doctor's ffmpeg rows, FAIL
        except FFmpegError:
            raise
        except OSError as e:  # not there, not executable; out of files (`ulimit -n`)
            raise FFmpegError(f"{e.strerror or e}: {e.filename}") from None
        except RuntimeError as e:  # imageio-ffmpeg: "No ffmpeg exe could be found"
            raise FFmpegError(str(e)) from None
        if lacks is not None:
            raise ConfigError(f"{lacks}. Nothing was made or spent")
        from mindmovie.fonts import freetype_problem

        if (no_text := freetype_problem()) is not None:  # doctor's fonts row, FAIL
            raise ConfigError(f"{no_text}. Nothing was made or spent")
        _check_temp_folder()
        return planner, kf_model, video_model

    def _check_http_setup(self, spare: Collection[str]) -> None:
        """Refuse, before any work, an environment in which no provider's HTTP client can
        be made (`http_setup_problem`: SSL_CERT_FILE, a proxy variable), as doctor does.
        Claude's and Ark's clients are made at their first call: the plan call was
        committed (counted as spent, its outcome unknown) with nothing sent, or the
        render ended in a traceback; Google's is made with the provider: a traceback. A
        render that calls none of them (its steps all reused) and makes no Google client
        goes on, as it does without their keys."""
        built = self.settings.remote_providers() - set(spare)
        if not built or (problem := http_setup_problem()) is None:
            return
        if "google" not in built and not (self._fresh or self._let_go):
            needed = self._providers_needed()
            if not any(self.settings.stage_provider(s) in built for s in _STAGES if s in needed):
                return
        raise ConfigError(f"{problem}. Nothing was made or spent")

    def _make(self, stage: _Stage, settings: Settings, spare: set[str]) -> object:
        """`stage`'s model built with `settings` (`registry.make_*`); for a provider in
        `spare` whose building fails (its key is not set), a `registry.Keyless` that
        raises that very error when it is called."""
        makers = {
            "planner": registry.make_planner,
            "keyframes": registry.make_keyframes,
            "video": registry.make_video,
        }
        try:
            return makers[stage](settings, self.keys)
        except ConfigError as e:
            provider = settings.stage_provider(stage)
            if provider not in spare:
                raise
            if stage == "planner":
                model, spec = _planner_identity(settings)[1], costs.stage_spec(settings, stage)
            else:
                ident = _identity(settings, stage)
                model, spec = ident.model, ident.spec
            made = registry.keyless(stage, settings, model, spec, e)
            self._keyless.setdefault(provider, made)
            return made

    def _keyless_spare(self) -> set[str]:
        """The providers whose key is not set that this render may do without: none of
        their stages is called (`_providers_needed`), so a render that only recomposes
        (an affirmation edited, output settings changed, the run folder moved to a
        machine without the keys) is not refused for a key it never sends. A key that
        is set is used as before; a key set with a flaw is refused as before. Never with
        --fresh or --let-go, which set work aside or let it go."""
        from mindmovie.doctor import missing_keys

        keys = self.keys or Keys.from_env()
        lacking = [k for k in missing_keys(self.settings, keys) if k["state"] == "not set"]
        if not lacking or self._fresh or self._let_go:
            return set()
        needed = self._providers_needed()
        self._stages_needed = {
            s for k in lacking if not needed.isdisjoint(k["stages"]) for s in k["stages"]
        } & needed
        return {k["provider"] for k in lacking if needed.isdisjoint(k["stages"])}

    def _providers_needed(self) -> set[str]:
        """The stages ("planner", "keyframes", "video") whose provider this render would
        call, read from run.db READ-ONLY and plan.yaml, before the lock: a stage all of
        whose steps are reused (the estimate's own checks: `outlook`) is not. Whatever is
        not certain counts as needed: no run.db, one that cannot be read, a plan to make,
        a step open or failed, a call whose outcome is unknown (a job to poll or settle),
        a keyframe to download from its kept result URL, a refunded lost create whose
        late job is still looked for (`_looked_for_after_refund`). Checked again under the lock
        (`_check_keyless`)."""
        db = self.run_dir / "run.db"
        try:
            if journal_missing(db):
                # a new run: what it goes through (`plan` needed the keyframe and video
                # keys of the preset, though it calls only the planner)
                return self._stages_upto()
            store = Store(db, read_only=True)
        except Exception:
            return set(_STAGES)
        try:
            return self._needed_in(store)
        except Exception:  # a row, plan.yaml or file that cannot be read: not certain
            return set(_STAGES)
        finally:
            store.close()

    def _needed_in(self, store: Store, look: Outlook | None = None) -> set[str]:
        """`_providers_needed`, from `store` (and `look`, its outlook when made already)."""
        needed: set[str] = set()
        of = {"plan": "planner", "keyframe": "keyframes", "clip": "video"}
        video, now = self.settings.stage_provider("video"), time.time()
        settled: set[str] = set()  # the jobs billed or refunded: nothing to ask of them
        for r in store.ledger_rows():
            if r["remote_id"] and r["state"] in ("billed", "refunded"):
                settled.add(str(r["remote_id"]))
            if (
                r["state"] == "committed"
                and r["stage"] in ("plan", "keyframe")
                and (r["usage"] or {}).get("unknown_outcome")
            ):
                # a planner or image call reported as of unknown outcome: nothing settles
                # it and no render asks the provider about it again (_recover_orphans)
                continue
            if (
                r["state"] == "committed"
                and r["stage"] == "clip"
                and not r["remote_id"]
                and (r["usage"] or {}).get("unknown_outcome")
                and not registry.lists_jobs(str(r["provider"]))
            ):
                # a create of unknown outcome at a provider that lists no jobs (Veo): no
                # render looks for its job either. Counted as needed, a keyless render
                # that only recomposed was refused for the video key after a kill
                continue
            if r["state"] not in ("billed", "refunded"):  # in flight, outcome unknown
                stage = of.get(str(r["stage"]))
                needed.update(_STAGES if stage is None else (stage,))
            elif _looked_for_after_refund(r, video, now):
                needed.add("video")  # a lost create's late job, looked for in the job list
        if look is None:
            look = self.outlook(store, _planner_identity(self.settings))
        if look.plan is None:
            # a new plan: every scene made anew, as far as the render goes (`--until`)
            return needed | self._stages_upto()
        ids = [sc.id for sc in look.plan.scenes]
        # the stages whose steps this render goes through (`--until`): a step of a later
        # one is not touched (a job it holds, in flight, is the ledger rule's above)
        upto = len(self._stages_upto())
        for st in store.steps():
            # open, in flight, failed: made again or polled (the movie's own steps,
            # "movie" and "segment", are the compose's: no provider); not one with no
            # job that is put back from kept/ (a render killed while it put it back:
            # `Store.restore` begins the step before the file is in place), nor one with
            # no job of a scene no longer in the plan (a failed scene taken out of it), nor
            # one whose job is settled of such a scene (deleted from plan.yaml while its
            # job ran: `_settle_stale_jobs` billed the job and kept its clip, and every
            # later render was refused for the video key it never sends)
            if st.status != "succeeded" and st.stage in of and _STAGES.index(of[st.stage]) < upto:
                if st.stage != "plan" and st.scene_id not in ids and st.remote_id in settled:
                    continue
                if st.remote_id is None and (
                    (st.scene_id, st.stage) in look.restored
                    or (st.stage == "plan" and look.plan_kept)
                    or (st.stage != "plan" and st.scene_id not in ids)
                ):
                    continue
                needed.add(of[st.stage])
        if self._until != "plan" and (
            look.refetched or any((sid, "keyframe") not in look.reused for sid in ids)
        ):
            needed.add("keyframes")
        if self._until not in ("plan", "keyframes") and (
            look.jobs or any(sid not in look.clips for sid in ids)
        ):
            needed.add("video")  # a clip to buy, or a job to poll (not in `clips`)
        return needed

    def _stages_upto(self) -> set[str]:
        """The stages this render goes through (`--until`; `plan` is `--until plan`)."""
        return set(_STAGES[: {"plan": 1, "keyframes": 2}.get(self._until, 3)])

    def _check_keyless(self, store: Store) -> None:
        """Under the lock, before anything is sent or written: a provider left without
        its key (`_keyless_spare`) that the render needs after all (plan.yaml or run.db
        changed since they were read) stops it with the message the key check gives,
        once for the render, not once a scene."""
        if not self._keyless:
            return
        try:
            # read as `_providers_needed` read it, the receipts taken up (`_run` takes
            # them later): a keyframe only a receipt held was an image in flight here,
            # and the render was refused for a key nothing is sent with
            view = store.receipts_taken()
            try:
                needed = self._needed_in(view)
            finally:
                view.close()
        except Exception:
            needed = set(_STAGES)
        wanted = {
            p: m
            for p, m in self._keyless.items()
            if any(self.settings.stage_provider(s) == p for s in _STAGES if s in needed)
        }
        if not wanted:
            return
        self._check_keys({p for p in self._keyless if p not in wanted})
        next(iter(wanted.values())).refuse()

    def _paid(self) -> bool:
        """Does this render's settings call a paid provider (any stage not local)?"""
        return any(self.settings.stage_provider(s) != "local" for s in _STAGES)

    def _check_keys(self, spare: Collection[str] = ()) -> None:
        """A key that cannot be sent (not ASCII), or cannot be a key (a space or control
        character inside: `key_flaw`), is refused before any call, with any key not set
        named in the same message. Two or more keys not set are named in one message:
        each provider named only its own, so a person with none set (the byteplus
        preset) learnt ANTHROPIC_API_KEY, set it, rendered again and only then learnt
        ARK_API_KEY. One key not set is named by
        its provider, as before (its message says what it is needed for)."""
        from mindmovie.config import KEY_VARIABLES, key_variable
        from mindmovie.doctor import key_flaw, missing_keys

        keys = self.keys or Keys.from_env()
        flawed: list[str] = []
        for provider in sorted(self.settings.key_providers()):
            key = getattr(keys, provider, None)
            flaw = key_flaw(key.get_secret_value(), provider) if key is not None else None
            if flaw and key is not None:
                # an HTTP header holds ASCII only: every call failed in the client before
                # it was sent, each taken for a lost answer that "may have been billed"
                # (the plan call three times), and named by a UnicodeEncodeError whose
                # position told where in the key the stray character was; a space inside
                # went to the provider, whose 401 came after the plan was paid for
                var, *also = KEY_VARIABLES[provider]
                names = var + (f" (or {', '.join(also)})" if also else "")
                # the variable that holds it, when one does: GEMINI_API_KEY's key was
                # named "GOOGLE_API_KEY (or GEMINI_API_KEY)", one not set
                names = key_variable(provider, key.get_secret_value()) or names
                flawed.append(f"{names}: {provider}'s key {flaw} Set it again")
        lacking = [k for k in missing_keys(self.settings, keys) if k["provider"] not in spare]
        parts = []
        for key in lacking:
            if key["state"] != "not set":
                continue  # (set with a flaw: in `flawed`)
            var, *also = key["variables"]
            names = var + (f" (or {', '.join(also)})" if also else "")
            parts.append(
                f"{names} ({key['provider']}'s key, needed by {key['needed_by']} for "
                f"{' and '.join(key['stages'])})"
            )
        if flawed:
            # a key not set beside it was named only once this one was set again: one
            # more render to learn of it
            also_unset = f"; and not set: {'; '.join(parts)}" if parts else ""
            raise ConfigError("; ".join(flawed) + also_unset)
        if not lacking:
            return
        if len(lacking) == 1:
            # one key: named with every stage it is needed for. Left to the first
            # provider made, it said "the byteplus preset needs it for keyframes
            # (Seedream)" of the key video needs too
            key = lacking[0]
            var, *also = key["variables"]
            names = var + (f" (or {', '.join(also)})" if also else "")
            who = re.sub(r"^preset (\S+)", r"the \1 preset", key["needed_by"])
            # (the stages this render calls, when some are all reused: a late clip job
            # looked for needs the key for video only)
            needed = self._stages_needed or set(key["stages"])
            stages = [
                f"{st} ({_STAGE_MODELS.get((key['provider'], st), st)})"
                for st in key["stages"]
                if st in needed
            ]
            raise ConfigError(
                f"{names} is not set; {who} needs it for {' and '.join(stages)}"
                + self._dotenv_not_read(lacking)
            )
        # a stage's own provider outlasts the preset: with `video.provider: byteplus`,
        # "choose the local preset, which needs none" sent the person to --preset local,
        # which still needed ARK_API_KEY
        chosen = [
            f"{stage}.provider"
            for stage in ("planner", "keyframes", "video")
            if getattr(self.settings, stage).provider not in (None, "local")
        ]
        local = (
            f"choose the local preset (--preset local) and set {' and '.join(chosen)} to "
            "local or null"
            if chosen
            else "choose the local preset (--preset local), which needs none"
        )
        # (".env.example", named here before, is a clone's: pip does not install it)
        raise ConfigError(
            f"{len(lacking)} keys are not set: {'; '.join(parts)}. Set them in the "
            "environment, or as NAME=value lines in a .env file in the folder you run "
            f"mindmovie from, or {local}" + self._dotenv_not_read(lacking)
        )

    def _dotenv_not_read(self, lacking: Sequence[Mapping[str, Any]]) -> str:
        """'; <goals folder>/.env sets X, but is not read: ...' when goals.yaml's folder
        (not the one the command runs in, whose .env is read) has a .env that sets a
        key `lacking` names: the person kept the keys beside the goals and ran from
        elsewhere, and was told only that the key "is not set". '' otherwise."""
        from mindmovie.config import read_dotenv

        here = Path(".env")
        there = self.goals_path.absolute().parent / ".env"
        try:
            if not there.is_file() or (here.exists() and here.samefile(there)):
                return ""
            sets = read_dotenv(there)
        except OSError:
            return ""
        names = [
            v for k in lacking if k["state"] == "not set" for v in k["variables"] if sets.get(v)
        ]
        if not names:
            return ""
        return (
            f"; {there} sets {' and '.join(names)}, but is not read: a .env is read from "
            f"the folder you run mindmovie from ({Path.cwd()}); run mindmovie from "
            f"{there.parent}, or export {'them' if len(names) > 1 else 'it'}"
        )

    def _check_clip_settings(self) -> None:
        """Refuse, before anything is paid for, settings no clip of the video model can
        have (`costs.clip_settings_problem`). They were found at each clip's submit,
        after the plan and every keyframe were paid for, and failed every scene on every
        render (`--aspect 1:1` with Veo)."""
        if problem := costs.clip_settings_problem(self.settings):
            fix = costs.clip_settings_fix(self.settings)
            raise ConfigError(f"{problem}; {fix}. Nothing was spent")

    def _clip_key(
        self,
        model: _ModelId,
        req: VideoRequest,
        made_as: Mapping[Path, str] | None = None,
        *,
        legacy: bool = False,
        at: OutputSettings | None = None,
        written: bool = False,
    ) -> str:
        """`made_as`: keyframe path -> the sha256 to key it with instead of its file's (a
        keyframe to be made again, as `_reused_steps` expects it).

        A remote model is sent the aspect and resolution, never the fps or the frame
        size, and its clip is kept as made (the compose fits it to the frame): its key
        holds those. Until 2026-12-04 it held the fps and frame size (`legacy`: of output
        `at`, else the request's), and `render --fps 30` bought every paid clip again.
        It holds the options that change the clip (`registry.key_options`); until
        2026-12-06 all of them as written (`written`, and `legacy`), and
        `service_tier: flex` or `watermark: false` bought every finished clip again."""
        shas = made_as or {}

        def sha(p: Path) -> str:
            return shas.get(p) or sha256_file(p)

        frame: dict[str, Any] = (
            {"size": [req.width, req.height], "fps": req.fps}
            if model.name == "local" or legacy
            else {"aspect": req.aspect, "resolution": req.resolution}
        )
        if legacy and at is not None and model.name != "local":
            frame = {"size": list(at.frame()), "fps": at.fps}
        return input_key(
            v=STAGE_VERSION["clip"],
            provider=model.name,
            model=model.model,
            prompt=req.prompt,
            seconds=req.seconds,
            **frame,
            seed=req.seed,
            # the local motion makes no sound (said as ignored): video.audio turned on
            # or off made every free clip again, the same bytes
            audio=req.audio and model.name != "local",
            options=(
                self.settings.video.options
                if legacy or written
                else registry.key_options("video", model.name, self.settings.video.options)
            ),
            keyframe=sha(req.keyframe),
            last_frame=sha(req.last_frame) if req.last_frame else None,
        )

    def _clip_variants(
        self,
        model: _ModelId,
        scene: Scene,
        req: VideoRequest,
        made_as: Mapping[Path, str] | None = None,
        store: Store | None = None,
    ) -> list[tuple[str, str, VideoRequest]]:
        """As planned, then one content-filter fallback: audio off (an audio refusal is the
        usual cause when audio is on), else a softened prompt. `made_as`: see `_clip_key`.
        `store`: a variant whose step (done, in flight, failed) holds its key as it was
        until 2026-12-04 (`_clip_key`'s `legacy`, at now's fps and frame size or at
        those of the run's renders before: `_outputs_before`) is given that key, so
        every check of the step, its job and its ledger rows finds it as before."""
        out = [("as planned", self._clip_key(model, req, made_as), req)]
        if model.name != "local":
            if req.audio:
                alt = replace(req, audio=False)
                out.append(("audio off", self._clip_key(model, alt, made_as), alt))
            else:
                alt = replace(req, prompt=soften_prompt(req.prompt, scene.category))
                out.append(("softened prompt", self._clip_key(model, alt, made_as), alt))
            step = store.get(scene.id, "clip") if store is not None else None
            # (a step that lost its job, its result gone, holds nothing under the old key:
            # kept, its scene never found the clip a copy of it bought under the key of
            # now, and bought it a second time)
            holds = step is not None and (step.remote_id or step.status == "succeeded")
            if step is not None and holds and step.input_key not in {k for _, k, _ in out}:
                olds = self._clip_keys_before(model, out, made_as, store)
                for i, (label, key, r) in enumerate(out):
                    if step.input_key in olds[key]:
                        out[i] = (label, step.input_key, r)
        return out

    def _clip_keys_before(
        self,
        model: _ModelId,
        variants: list[tuple[str, str, VideoRequest]],
        made_as: Mapping[Path, str] | None = None,
        store: Store | None = None,
    ) -> dict[str, tuple[str, ...]]:
        """Each variant's key -> the keys its request had before (`_clip_key`'s `written`:
        with the video options as written, until 2026-12-06; `legacy`, until 2026-12-04:
        at now's fps and frame size, then at those of the run's renders before,
        `_outputs_before`, with `store`; none for a local model). A clip kept under such
        a key (kept/clip/: an edit of a run made then) is looked up under it, and a job
        made then that no step holds is taken (`_unheld_job`): only a step's own key was
        (`_clip_variants`), and an edit undone after the upgrade bought the clip again."""
        if model.name == "local":
            return {key: () for _, key, _ in variants}
        now: list[OutputSettings | None] = [None] if self._clips_before_at_now(store) else []
        ats = [*now, *self._outputs_before(store, "clip")]
        # the key with the options as written, as until 2026-12-06 (`_clip_key`)
        written = self._options_written("video", model)
        return {
            key: tuple(
                dict.fromkeys(
                    [
                        *([self._clip_key(model, r, made_as, written=True)] if written else []),
                        *(self._clip_key(model, r, made_as, legacy=True, at=at) for at in ats),
                    ]
                )
            )
            for _, key, r in variants
        }

    async def _clip(
        self,
        store: Store,
        model: VideoModel,
        scene: Scene,
        keyframe: Path,
        res: RenderResult,
        last_frame: Path | None = None,
    ) -> Path:
        """The scene's clip: reused, put back, or made (`_one_buyer`: once for all the
        scenes that ask the same clip)."""
        planned = self._video_request(scene, keyframe, last_frame)
        variants = self._clip_variants(model, scene, planned, store=store)
        if model.name == "local":
            return await self._clip_step(store, model, scene, planned, variants, res)
        key = self._clip_key(model, planned)
        # its planned request, as now and as its step holds it (a key until 2026-12-04)
        self._asked_clip[scene.id] = {key, variants[0][1]}
        # (with the keys its requests had until 2026-12-04: a scene whose step holds its
        # job under one is that job's holder too; not found, this one bought it again)
        asked = {k for _, k, _ in variants}
        before = self._clip_keys_before(model, variants, store=store)
        holder = self._job_holder(store, scene, asked.union(*(before.get(k, ()) for k in asked)))
        ahead = holder
        while ahead is not None and ahead != scene.id:
            ahead = self._waiting_for.get(ahead)
        if holder is not None and ahead is None:
            # the very clip another scene's job in flight makes: its scene goes first,
            # whatever the order the turns are asked in (else this one bought it again).
            # Not when that scene waits, or one it waits for, for this one (two scenes'
            # prompts swapped, each the other's job's request): they waited for good
            self.reporter.step("clips", scene.id, "queued")
            self._waiting_for[scene.id] = holder
            try:
                await self._flows_done[holder].wait()
            finally:
                self._waiting_for.pop(scene.id, None)
        async with self._one_buyer("clip", key, scene.id):
            return await self._clip_step(store, model, scene, planned, variants, res, before)

    def _job_holder(self, store: Store, scene: Scene, keys: Collection[str]) -> str | None:
        """Another scene of this render whose clip step holds a paid job in flight
        (`Store.resumable_job`) made from one of this scene's requests (a render stopped
        while it ran, plan.yaml then edited to copy that scene), when this scene holds
        none for them (`keys`: its requests'): it is polled, and this scene takes its clip,
        paying nothing."""
        mine = store.get(scene.id, "clip")
        if mine is not None and mine.input_key in keys and store.resumable_job(mine):
            return None
        return next(
            (
                st.scene_id
                for st in store.steps("clip")
                if st.scene_id != scene.id
                and st.scene_id in self._flows_done
                and st.input_key in keys
                and store.resumable_job(st) is not None
            ),
            None,
        )

    async def _clip_step(
        self,
        store: Store,
        model: VideoModel,
        scene: Scene,
        planned: VideoRequest,
        variants: list[tuple[str, str, VideoRequest]],
        res: RenderResult,
        keys_before: dict[str, tuple[str, ...]] | None = None,
    ) -> Path:
        """`_clip` once it is the scene's turn: `planned`, its request as planned,
        `variants` as `_clip_variants` gives them; `keys_before`: their
        `_clip_keys_before`, when `_clip` has them (each reads the keyframe's bytes)."""
        if planned.prompt != scene.motion_prompt and model.name == "byteplus":
            from mindmovie.providers.byteplus import inline_flags

            # taken out of the text sent (`_video_request`), said (its clip reused or
            # not): the edit does nothing
            flags = ", ".join(inline_flags(scene.motion_prompt))
            self.reporter.warn(
                f"{scene.id}: its motion_prompt's inline parameters ({flags}) are not sent "
                f"to {model.model}: set the scene's seconds in plan.yaml, or the output "
                "settings, instead"
            )
        dest = self.run_dir / "scenes" / scene.id / "clip.mp4"
        every = {key for _, key, _ in variants}  # a fallback is the same scene's next try
        planned_key = variants[0][1]
        # the results that stand for the scene's clip: a fallback's only if made as one
        counted = standing_clip_keys(store, [key for _, key, _ in variants])
        reused = any(store.reusable(scene.id, "clip", key) for key in counted)
        if reused and model.name != "local":
            # a clip keyed as until 2026-12-04 takes its key of now: reused at another fps
            for (_, key, _), (_, now, _) in zip(
                variants, self._clip_variants(model, scene, planned), strict=True
            ):
                if key != now and key in counted and store.reusable(scene.id, "clip", key):
                    store.rekey(scene.id, "clip", now)
        if not reused:
            self._keep_changed(store, scene.id, "clip")
        # each request's key until 2026-12-04: a kept clip or an unheld job made then
        if reused:
            before: dict[str, tuple[str, ...]] = {}
        elif keys_before is not None:
            before = keys_before
        else:
            before = self._clip_keys_before(model, variants, store=store)
        if reused or self._restore_clip(store, scene.id, counted, before, dest):
            return self._clip_reused(store, scene, res, dest)
        if model.name != "local":
            # the very request another scene's job makes, which that scene could not
            # take: not bought again; or which that scene did not get to: taken here
            self._check_held_by_another(store, model, scene, variants[0][1], every, before)
            # a request of an earlier run with other settings: not bought again
            self._check_lost_elsewhere(store, scene.id, every)
            # a request of an earlier run for these inputs may still become a job
            await self._await_late_job(store, model, scene.id, [k for _, k, _ in variants])
        prev = store.get(scene.id, "clip")
        if (
            prev is not None
            and prev.input_key in every
            and prev.input_key not in counted
            and store.resumable_job(prev) is not None
        ):
            # a job of a fallback variant's request not asked as one (the request planned
            # with audio off, made while video.audio was off) whose clip is paid and not
            # downloaded (its download failed, or a kill mid-download): the step, asking
            # another request, lets go of it, and its billed row is no stale job
            # (`_settle_stale_jobs`). Kept first: a refusal's fallback, or audio off
            # again, puts it back. Before, it was bought again
            await self._keep_unasked_job(store, model, prev)
            prev = store.get(scene.id, "clip")
        if refused := _refused_whole_step(store, scene.id, "clip", variants):
            # its fallback, asked after the planned request was refused, was refused too:
            # sent again, each render bought the planned request, then the fallback, in
            # turn, each refused (and billed where refusals bill)
            raise ContentRejected(
                _said_before(refused, model.name, scene.id), provider=model.name, scene_id=scene.id
            )
        if prev is not None and prev.error_kind == "content_rejected":
            # the planned request was refused last time: go straight to the fallback
            variants = [v for v in variants if v[1] != prev.input_key] or variants
        elif prev is not None and prev.remote_id and prev.input_key in counted:
            # a job of a later variant (e.g. the fallback, after a refusal) is journaled:
            # resume THAT job; starting from the planned request again would pay twice.
            # (One of the same request planned so, the audio-off one while video.audio
            # was off, is not the scene's: it is kept when it finishes, `_settle_stale_jobs`)
            keys = [v[1] for v in variants]
            variants = variants[keys.index(prev.input_key) :]
        # the provider slot is held across the fallback (a refused scene keeps its place)
        # and given back once the job is done, before the download (not a provider task)
        if planned.seconds != scene.seconds:
            self.reporter.warn(
                f"{scene.id}: plan.yaml asks {scene.seconds:g} s; {model.model} makes "
                f"{planned.seconds:g} s clips, so it is asked for {planned.seconds:g} s"
                + (" (the scene holds its last frame)" if planned.seconds < scene.seconds else "")
            )
        sem = self._sem(model.name, "video")
        if sem.locked():
            self.reporter.step("clips", scene.id, "queued")  # waiting for a provider slot
        async with _Slot(sem) as slot:
            for i, (_, key, req) in enumerate(variants):
                if key != planned_key:
                    # asked as the fallback: recorded before it is sent (it then stands
                    # for the clip), and one kept from before (that request made while
                    # audio was off) is put back, not bought again
                    store.mark_fallback(key, of=planned_key)
                    if key not in counted and self._restore_clip(
                        store, scene.id, [key], before, dest
                    ):
                        return self._clip_reused(store, scene, res, dest)
                try:
                    await self._clip_once(
                        store,
                        model,
                        req,
                        key,
                        dest,
                        slot,
                        same_request=every,
                        keys_before=before[key],
                    )
                    break
                except InvalidRequest as e:
                    if e.answered and not e.setting:
                        e.message += refused_request_fix(
                            self.run_dir / "plan.yaml", scene.id, "clip", e.param
                        )
                    raise
                except ContentRejected as e:
                    if i + 1 == len(variants):
                        tried = [label for label, *_ in variants]
                        e.message += self._refused_fix(scene.id, tried, "motion_prompt")
                        raise
                    self.reporter.warn(
                        f"{scene.id}: clip refused by the content filter ({e.message}); "
                        f"trying once more with {variants[i + 1][0]}"
                    )
        self.reporter.step("clips", scene.id, "done")
        self._mark(res, True, scene.id, "clip")
        self._record_scene(store, scene)
        return dest

    @staticmethod
    def _restore_clip(
        store: Store,
        scene_id: str,
        keys: Sequence[str],
        before: Mapping[str, Sequence[str]],
        dest: Path,
    ) -> bool:
        """Put back the first clip kept (kept/, or another scene's live one) for one of
        `keys`, each also under its keys until 2026-12-04 (`before`), as the scene's
        clip under the key of now: True when one was."""
        for now in keys:
            for k in dict.fromkeys((now, *before.get(now, ()))):
                if store.restore(scene_id, "clip", k, dest):
                    store.ledger_kept_used(k)  # a job kept when no scene wanted it: used now
                    if k != now:  # kept under its key until 2026-12-04: the key of now
                        store.rekey(scene_id, "clip", now)
                    return True
        return False

    def _clip_reused(self, store: Store, scene: Scene, res: RenderResult, dest: Path) -> Path:
        """The scene's clip is one made before (reused or put back): said and recorded."""
        self.reporter.step("clips", scene.id, "reused")
        self._mark(res, False, scene.id, "clip")
        self._record_scene(store, scene)
        return dest

    async def _await_late_job(
        self, store: Store, model: VideoModel, scene_id: str, keys: Collection[str]
    ) -> None:
        """This scene's create sent by an earlier run (killed before its answer was
        journaled, or whose answer was lost) is carried over with no job listed yet and
        still within LATE_JOB_GRACE (`_no_job_found`): its job may still appear. Wait for
        it instead of paying for another one (`_wait_for_late_jobs`). Waiting here, before
        the clip's request is chosen, lets a late job of any of the scene's `keys` (the
        content-filter fallback's too) become the clip step's job: the caller then polls
        it and pays nothing more. A scene whose own job is journaled polls that at once."""
        if not any(sid == scene_id and k in keys for sid, k in self._lost_requests.values()):
            return
        step = store.get(scene_id, "clip")
        if step is not None and step.input_key in keys and store.resumable_job(step):
            return  # its own job is journaled: polled; the rows are settled after the clips

        def has_job() -> bool:
            st = store.get(scene_id, "clip")
            return st is not None and st.input_key in keys and st.status == "submitted"

        self._asking[scene_id] = keys
        try:
            await self._wait_for_late_jobs(store, model, scene_id, done=has_job)
        finally:
            self._asking.pop(scene_id, None)

    def _lost_note(self, row: int) -> dict[str, Any]:
        """What a lost request asked for and when it was sent (`Store.ledger_note_lost`)."""
        note = {"input_key": self._lost_requests[row][1], "sent_at": self._lost_rows[row]}
        if row in self._lost_grace:
            note["grace"] = self._lost_grace[row]
        return note

    def _grace(self, row: int) -> float:
        """How long a lost row's job is waited for: the grace, or less for a create the
        service answered (`ANSWERED_GRACE`)."""
        return min(self.late_job_grace, self._lost_grace.get(row, self.late_job_grace))

    def _note_lost(self, row: int, sent_at: float) -> None:
        """Wait for lost request `row`'s job (sent at `sent_at`, by the wall clock)."""
        self._lost_rows[row] = sent_at
        self._lost_since[row] = (time.monotonic(), max(0.0, time.time() - sent_at))

    def _waited(self, row: int) -> float:
        """Seconds since lost request `row` was sent: by the wall clock up to when this
        render noted it (it may have been sent by a render before), by the monotonic
        clock since. By the wall clock alone, a clock set ahead during the wait (an NTP
        correction) ended the grace at once: the row refunded, the clip bought again and
        its late job billed as well."""
        noted, before = self._lost_since[row]
        return before + time.monotonic() - noted

    def _forget_lost(self, row: int) -> None:
        """A lost request's row is settled: nothing waits for it any more."""
        self._lost_rows.pop(row, None)
        self._lost_since.pop(row, None)
        self._lost_requests.pop(row, None)
        self._lost_grace.pop(row, None)
        self._carried.discard(row)

    def _takes_late_job(self, store: Store, scene_id: str, key: str) -> bool:
        """Does the scene's clip step still want a job made from `key` (no clip, no job
        journaled; those inputs, or a variant the scene waits for in `_await_late_job`)?"""
        step = store.get(scene_id, "clip")
        if step is None:
            return key in self._asking.get(scene_id, ())
        if step.remote_id or step.status == "succeeded":
            return False
        return step.input_key == key or key in self._asking.get(scene_id, ())

    async def _wait_for_late_jobs(
        self,
        store: Store,
        model: VideoModel,
        scene_id: str,
        *,
        done: Callable[[], bool] = lambda: False,
    ) -> bool:
        """Hold `scene_id`'s create until no lost request of this provider is unsettled
        (or `done()`, e.g. the scene's step has been given its late job). True if it
        waited.

        The provider's job list shows no prompts: a job that appears while requests of
        two scenes (or two inputs) are unsettled cannot be given to either, and was paid
        twice (billed unused, the clip made again). So at every moment all unsettled
        requests are of one scene and inputs, and a job listed is theirs. A request
        settles when its job is listed (`_look_for_late_jobs`) or when LATE_JOB_GRACE
        has passed since it was sent (refunded). The cost is latency: a lost answer can
        hold the provider's submissions for up to the grace. One waiter looks at the
        list (`_watch_lock`), under the submit lock, backing off from `poll_interval`."""
        if not self._lost_rows or done():
            return False
        self.reporter.step("clips", scene_id, "queued", self._wait_note(scene_id))
        self._held.add(scene_id)
        try:
            return await self._hold_for_late_jobs(store, model, scene_id, done)
        finally:
            self._held.discard(scene_id)

    async def _hold_for_late_jobs(
        self, store: Store, model: VideoModel, scene_id: str, done: Callable[[], bool]
    ) -> bool:
        """`_wait_for_late_jobs`' wait: look, tell, sleep, until nothing is unsettled."""
        ps = self.settings.provider_settings(model.name)
        delay = ps.poll_interval
        async with self._watch_lock(model.name):
            while True:
                self._check_stop()
                async with self._submit_lock(model.name):
                    if not self._lost_rows or done():
                        return True
                    await self._look_for_late_jobs(store, model)
                    if not self._lost_rows or done():
                        return True
                    now = time.time()
                    for r, at in self._lost_rows.items():
                        # the clock set back meanwhile: sent no later than now (the job
                        # list is searched from it; the grace is `_waited`'s)
                        self._lost_rows[r] = min(at, now)
                    left = {r: self._grace(r) - self._waited(r) for r in self._lost_rows}
                for r in sorted(set(left) - self._told_waiting):
                    self._told_waiting.add(r)
                    sid = self._lost_requests.get(r, ("?", ""))[0]
                    sent = (
                        "sent before the last run stopped"
                        if r in self._carried
                        else "whose answer was lost"
                    )
                    self.reporter.warn(
                        f"{sid}: a job request to {model.name} {sent} may still become a "
                        f"job; waiting for it (up to {max(0.0, left[r]):.0f} s) instead of "
                        f"paying again. No other clip is sent to {model.name} meanwhile "
                        "(which scene a new job is for could not be told)"
                    )
                killpoint("late_job_wait")
                for sid in sorted(self._held):
                    self.reporter.step("clips", sid, "queued", self._wait_note(sid))
                wait = max(0.01, min(delay, min(left.values())))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), timeout=wait)
                delay = min(ps.poll_max_interval, delay * 1.5)

    def _wait_note(self, scene_id: str) -> str:
        """What a scene held by `_wait_for_late_jobs` waits for, for the live view: a
        scene held for another scene's lost request looked stuck for up to the grace."""
        left = max((self._grace(r) - self._waited(r) for r in self._lost_rows), default=0.0)
        scenes = sorted({sid for sid, _ in self._lost_requests.values()})
        if scenes == [scene_id]:
            whose = "its lost request"
        else:
            whose = f"a lost request of scene{'s' if len(scenes) > 1 else ''} {', '.join(scenes)}"
        return f"waiting for {whose} to show up (up to {max(0.0, left):.0f} s)"

    async def _look_for_late_jobs(self, store: Store, model: VideoModel) -> None:
        """One look at the job list for the unsettled lost requests (the caller holds the
        submit lock, so no create of this run is in flight unjournaled). A job listed is
        theirs (`_wait_for_late_jobs`): the first becomes the clip step's job when the
        scene still asks for those inputs (it is polled, nothing more is paid), else it
        is tied to its row and billed unused; further ones are tied to further rows. None
        listed: a row whose grace is over is refunded. Rows of several requests (carried
        from a run of an older version) or more jobs than rows: which is whose cannot be
        told; the jobs are tied to the rows (billed unused), rows left over stay
        committed with an unknown outcome, jobs left over are booked unused
        (`_book_extra_jobs`), and the clips are made."""
        rows = sorted(self._lost_rows)
        if not rows:
            return
        jobs = await self._unjournaled_jobs(store, model, min(self._lost_rows.values()) - 60)
        if jobs is None:  # cannot list (never noted so): the outcome stays unknown
            for r in rows:
                store.ledger_mark_unknown(r)
                self._forget_lost(r)
            return
        if not jobs:
            for r in rows:
                if self._waited(r) >= self._grace(r):
                    if r in self._lost_grace:  # an answered create: its service said so
                        self._answered_empty.add(model.name)
                    await self.gate.refund(
                        r, "never reached the provider (no job found)", lost=self._lost_note(r)
                    )
                    self._forget_lost(r)
            return
        jobs.sort(key=lambda t: (t.created_at, str(t.remote_id)))
        requests = {self._lost_requests[r] for r in rows}
        if len(requests) > 1:
            # more jobs than rows: the rows take the earliest, the others are booked as
            # made, unused, first (`_book_extra_jobs`). Before, no row took any: the rows
            # stayed unknown for good and the jobs billed on no row
            tied = rows[-len(jobs) :] if len(jobs) <= len(rows) else rows
            like = next(r for r in store.ledger_rows() if r["id"] == rows[-1])
            self._book_extra_jobs(store, model, like, jobs[len(tied) :])
            for r, job in zip(tied, jobs, strict=False):
                store.ledger_set_remote(r, str(job.remote_id))
            for r in rows[: len(rows) - len(tied)]:
                store.ledger_mark_unknown(r)
            for r in rows:
                self._forget_lost(r)
            self.reporter.warn(
                f"{model.name} shows {len(jobs)} job(s) no scene knows "
                f"({', '.join(str(t.remote_id) for t in jobs)}; they bill) for job requests of "
                f"{', '.join(sorted({sid for sid, _ in requests}))} whose answers were lost. "
                "Which request each is for cannot be told, so those clips are made again"
            )
            return
        ((scene_id, key),) = requests
        # more jobs than rows (a second job made for a request, a refunded request's
        # very late one): the earliest go to the rows, the rest are booked as made,
        # unused. Before, every row was left unknown and the clip made again
        like = next(r for r in store.ledger_rows() if r["id"] == rows[0])
        # booked before the rows take theirs (`_book_extra_jobs`: a kill between)
        self._book_extra_jobs(store, model, like, jobs[len(rows) :])
        for i, (r, job) in enumerate(zip(rows, jobs, strict=False)):
            rid = str(job.remote_id)
            if i == 0 and self._takes_late_job(store, scene_id, key):
                step = store.get(scene_id, "clip")
                if step is None or step.input_key != key:
                    store.begin(scene_id, "clip", key, same_request=self._asking[scene_id])
                store.mark_submitted(scene_id, "clip", rid, ledger_row=r)
                self.reporter.info(
                    f"{scene_id}: job {rid} was made late from a request whose answer was "
                    "lost (or sent before the last run stopped); picking it up instead of "
                    "paying again"
                )
            else:
                store.ledger_set_remote(r, rid)
                self.reporter.warn(
                    f"{scene_id}: job {rid}, made late from a request whose answer was lost, "
                    f"was made at {model.name} (and bills); the scene no longer asks for it, "
                    "so its result is not used"
                )
            self._forget_lost(r)

    def _record_scene(self, store: Store, scene: Scene) -> None:
        """The plan entry this scene's finished clip came from, for `status` to name the
        plan.yaml edits made since (see plan.edited_fields)."""
        plan = self.result.plan if self.result is not None else None
        style = plan.style if plan is not None else None
        kf_name = self._keyframe_provider
        photo = plan is not None and self._photo_keyframe(scene, plan)
        painted = plan is not None and (
            self._painted_keyframe(scene, plan) or self._photo_over_painted(scene, plan)
        )
        # as plan.yaml has it (a moved folder's paths are rebased only in memory)
        scene = self._plan_yaml_scenes.get(scene.id, scene)
        # (a note, written again by the next render that reuses the clip: a full disk
        # refusing it failed the scene whose clip was just said done, and journaled)
        with contextlib.suppress(sqlite3.Error, OSError):
            store.set_meta(
                RENDERED_PLAN_META + scene.id,
                rendered_scene(scene, style, kf_name, photo=photo, painted=painted),
            )

    def _not_told(self, what: str, chars: str, names: list[str]) -> list[str]:
        """The items of `names` not yet warned in this Pipeline that `chars` are `what`
        ("boxes", "left out"), now marked told: said with the plan and again at compose,
        not twice in one render; the caller says them in one line (it was a line per
        item: 72 for 36 scenes each with an emoji and a letter no font here has)."""
        fresh = [n for n in names if (n, what, chars) not in self._left_out_told]
        self._left_out_told.update((n, what, chars) for n in fresh)
        return fresh

    def _warn_boxes(self, items: Sequence[tuple[str, str]]) -> None:
        """Warn, once per item, about the letters of its drawn text no font here has (CJK
        on a machine without a CJK font): they stay, drawn as boxes. One line for the
        items that lack the same letters (`_not_told`). Letters another font here has,
        which the text's own font lacks (a text is drawn in one font: "10 km" in a Hindi
        affirmation drawn with fonts-noto-core's Devanagari font, which has no Latin), are
        said as that: "no font on this machine has 'km'" was untrue."""
        from mindmovie.compose.cards import face_for, undrawable
        from mindmovie.compose.timeline import name_some

        lacking: list[tuple[str, str, str]] = []  # (item, letters no font has, its font's)
        for name, shown in items:
            if lacks := undrawable(shown):
                elsewhere = _drawn_elsewhere(lacks)
                nowhere = "".join(c for c in lacks if c not in elsewhere)
                lacking.append((name, nowhere, elsewhere))
        for lacks in dict.fromkeys(chars for _, chars, _ in lacking if chars):
            names = [n for n, c, _ in lacking if c == lacks]
            if names := self._not_told("boxes", lacks, names):
                self.reporter.warn(
                    f"{name_some(names)}: no font on this machine has {_letters(lacks)}: "
                    "shown as boxes in the movie (install a font that has them, then "
                    "render again)"
                )
        faces = {name: face_for(shown) for name, shown in items}
        for lacks, face in dict.fromkeys((c, faces[n]) for n, _, c in lacking if c):
            names = [n for n, _, c in lacking if c == lacks and faces[n] == face]
            # (face "": Pillow's own font draws more of the text than any font file here,
            # "I feel at home in Երևան" where the only Armenian font has no Latin letters)
            its = f"({os.path.basename(face)})" if face else "is Pillow's built-in font, which"
            if names := self._not_told("boxes in its font", f"{lacks} {face}", names):
                self.reporter.warn(
                    f"{name_some(names)}: {_letters(lacks)} shown as boxes in the movie: a "
                    "text is "
                    f"drawn in one font, and the one with its other letters {its} lacks "
                    "these (install a font that has all of them, e.g. GNU FreeFont's "
                    "FreeSerif, or leave them out, then render again)"
                )

    def _warn_fit(self, items: Sequence[tuple[str, str, str]]) -> None:
        """Warn, once per item, about a drawn text (name, text, kind: "title", "scene" or
        "closing") too long for the frame even at the smallest size, cut short with an
        ellipsis (`cards.text_cut`), and about text drawn under `cards.READABLE_PX` (a
        thin `output.size`): one line each, however many items. Given with the plan,
        before any keyframe or clip is paid for: a 600-letter affirmation in goals.yaml
        was said to be cut only at compose, after the spending."""
        from mindmovie.compose.cards import READABLE_PX, text_fit
        from mindmovie.compose.timeline import name_some

        w, h = self.settings.output.frame()
        cut: list[str] = []
        small: dict[str, int] = {}  # items drawn under READABLE_PX: their font size
        for name, text, kind in items:
            px, was_cut = text_fit(text, (w, h), kind)
            if was_cut:  # e.g. a long affirmation
                cut.append(name)
            if 0 < px < READABLE_PX:  # e.g. output.size 1024x16
                small[name] = px
        cut = self._not_told("cut", f"{w}x{h}", cut)
        if len(cut) == 1:
            self.reporter.warn(
                f"{cut[0]}: its text is too long for a {w}x{h} frame: shown cut short, "
                "ending in '…' (shorten it in plan.yaml)"
            )
        elif cut:  # one line, however many: it was a line per scene, on every render
            self.reporter.warn(
                f"{name_some(cut)}: their texts are too long for a {w}x{h} frame: shown cut "
                "short, each ending in '…' (shorten them in plan.yaml)"
            )
        if tiny := self._not_told("small", f"{w}x{h}", list(small)):
            # one line: a thin frame makes every text tiny alike
            self.reporter.warn(
                f"{name_some(tiny)}: text drawn {min(small[n] for n in tiny)} px tall in a "
                f"{w}x{h} frame, too small to read (the text's size follows the frame's "
                "short side: choose a larger output.size)"
            )

    def _warn_left_out(self, plan: Plan) -> None:
        """Warn, once per item, about emoji and symbols no font here can draw: they are
        left out of the drawn text (`cards.drawn_text`); and about letters no font has,
        which stay as boxes (`_warn_boxes`). Given with the plan, before any keyframe or
        clip is paid for: before, the movie showed them as boxes and said so only at
        compose, after the spending. Items that lose the same characters are one line
        (what one of them then shows is not said)."""
        from mindmovie.compose.cards import movie_face

        with movie_face(_movie_texts(plan)):  # (as the movie draws them: `_compose`)
            self._warn_left_out_of(plan)

    def _warn_left_out_of(self, plan: Plan) -> None:
        """`_warn_left_out`, in the movie's font."""
        from mindmovie.compose.cards import drawn_text, left_out
        from mindmovie.compose.timeline import name_some

        items = [("title", plan.title), *((sc.id, sc.affirmation) for sc in plan.scenes)]
        items.append(("closing", plan.closing))
        drawn = [drawn_text(text) for _, text in items]
        # each item apart, by its place in the list, never looked up by its name: a scene
        # may be named "title" or "closing", as the cards are; keyed by name, the title's
        # line quoted that scene's text, and the scene's boxes were never said
        self._warn_boxes([(n, d) for (n, _), d in zip(items, drawn, strict=True)])
        kinds = ["title", *(["scene"] * len(plan.scenes)), "closing"]
        self._warn_fit([(n, d, k) for (n, _), d, k in zip(items, drawn, kinds, strict=True)])
        gone = [(i, g) for i, (_, text) in enumerate(items) if (g := left_out(text))]
        for chars in dict.fromkeys(g for _, g in gone):
            at = [i for i, g in gone if g == chars]
            names = self._not_told("left out", chars, [items[i][0] for i in at])
            if not names:
                continue
            # one name left: one item of `at` (two of one name lose the same characters
            # and are told together, both new or neither)
            one = next(i for i in at if items[i][0] == names[0])
            if len(names) > 1:
                where = "left out of their texts"
            elif (text := drawn[one].replace("\u00ad", "")).strip():  # (soft hyphens)
                where = f"left out of the movie's text, which shows {text!r}"
            else:
                where = "left out of the movie, so it shows no text"
            self.reporter.warn(
                f"{name_some(names)}: no font on this machine can draw {chars!r}: "
                f"{where} (install a font that has them to show them, or remove them)"
            )

    def _warn_extra_goal_photos(self) -> None:
        """Before the spend question, when a paid planner is still to make the plan:
        `goal_photo_warnings`. The plan's scenes (`_warn_extra_references`) come only
        after the planner is paid; this lets the person give a goal fewer photos before
        anything is spent."""
        for text in goal_photo_warnings(self.settings, self.goals):
            self.reporter.warn(text)

    def _warn_extra_references(self, plan: Plan) -> None:
        """`reference_photo_warnings` for the plan, before any keyframe is paid for."""
        base = self.goals_path.absolute().parent
        for text in reference_photo_warnings(self.settings, self.goals, plan, base):
            self.reporter.warn(text)

    def _warn_unused_photos(self, plan: Plan) -> None:
        """`unused_photo_warning` for the offline keyframes, before any keyframe is made:
        a goal with 3 photos and 1 scene showed the first only, without a word."""
        if self._keyframe_provider != "local":
            return
        base = self.goals_path.absolute().parent
        if text := unused_photo_warning(self.goals, plan, base):
            self.reporter.warn(text)

    def _warn_scenes_past_clips(self, plan: Plan) -> None:
        """Say which scenes are longer than any clip the video model makes
        (`scenes_past_clips_warning`), before any keyframe or clip is paid for."""
        if text := scenes_past_clips_warning(self.settings, plan):
            self.reporter.warn(text)

    def _note_painted(self, plan: Plan) -> None:
        """Say once, at plan and render, that the offline painter follows neither the
        style nor the reference photos (the person's photos, for a goal with none of its
        own): the plan.yaml had both, `status` said a bare "reuse" after an edit of them,
        and nothing said why a movie "of me" showed landscapes."""
        painted = [sc for sc in plan.scenes if self._painted_keyframe(sc, plan)]
        if note := painted_note(plan, painted):
            self.reporter.info(note)
            if self.result is not None:
                self.result.notes.append(note)

    def _warn_small_photos(self, plan: Plan) -> None:
        """Warn, once per photo, about a goal photo the keyframe shows enlarged past
        `SMALL_PHOTO_UPSCALE`: an 8x8 or 64x48 photo was blown up to the frame without a
        word, and the movie showed a blurry smear. Not refused: it is the person's photo,
        and a soft picture may be what they have. For the offline keyframe (the photo,
        fitted) and for an edit model (SeedEdit restyles the photo itself, at a size of
        its own table: an 8x8 photo gives it next to nothing of the person to keep); a
        model that takes photos as references only draws its own picture.

        For the offline keyframe also a photo its crop to the frame keeps less than
        `CROP_KEPT_MIN` of (`_crop_warning`): a portrait photo in a 16:9 movie lost its
        top and bottom, heads included, without a word. (SeedEdit is sent the photo
        whole, so its crop is not ours to tell.)"""
        edit_model = ""
        if self._keyframe_provider != "local":
            spec = costs.stage_spec(self.settings, "keyframes")
            if spec is None or not spec.capabilities.image_required:
                return
            edit_model = spec.key
        fw, fh = self.settings.output.frame()
        scenes: dict[Path, list[str]] = {}
        for sc in plan.scenes:
            photo = self._source_photo(sc, plan)
            if photo is not None:
                scenes.setdefault(photo, []).append(sc.id)
        base = self.goals_path.absolute().parent
        crops: list[tuple[str, str, tuple[int, int]]] = []  # (photo, its line, size)
        for photo, ids in scenes.items():
            size = photo_pixels(photo)
            if size is None or min(size) < 1:
                continue  # not readable: check_plan says so
            pw, ph = size
            shown = os.path.relpath(photo, base) if photo.is_relative_to(base) else str(photo)
            upscale = max(fw / pw, fh / ph)
            if upscale > SMALL_PHOTO_UPSCALE:
                self._warn_small_photo(shown, ids, size, upscale, edit_model)
            if not edit_model:
                crop = self._crop_warning(shown, ids, size)
                if crop is not None:
                    crops.append((shown, crop, size))
        if len(crops) <= CROPS_TOLD_EACH:
            for _, line, _ in crops:
                self.reporter.warn(line)
        else:
            self.reporter.warn(self._crops_warning(crops))

    def _crops_warning(self, crops: Sequence[tuple[str, str, tuple[int, int]]]) -> str:
        """One line for many photos the crop keeps little of (`_crop_warning`'s, each):
        a photo-mode movie of 92 portrait photos said 92 lines at every render, under -q
        too (the scale audit)."""
        fw, fh = self.settings.output.frame()
        kept = sorted(round(100 * cover_kept(size, (fw, fh))) for _, _, size in crops)
        names = ", ".join(shown for shown, _, _ in crops[:3])
        aspect = self._frame_aspect()
        turned = "landscape" if fw > fh else "portrait" if fw < fh else "square"
        share = f"{kept[0]}%" if kept[0] == kept[-1] else f"{kept[0]}-{kept[-1]}%"
        return (
            f"{len(crops)} photos ({names} and {len(crops) - 3} more) are cropped to fill the "
            f"{aspect} frame, each keeping only its middle {share}. Crop them to {aspect} "
            f"yourself to choose what shows, or use {turned} photos"
        )

    def _warn_small_photo(
        self, shown: str, ids: list[str], size: tuple[int, int], upscale: float, edit_model: str
    ) -> None:
        """The warning of `_warn_small_photos` for one photo enlarged `upscale` times."""
        fw, fh = self.settings.output.frame()
        pw, ph = size
        need = (math.ceil(fw / SMALL_PHOTO_UPSCALE), math.ceil(fh / SMALL_PHOTO_UPSCALE))
        effect = (
            f"{edit_model} restyles it, and has little of the photo to keep"
            if edit_model
            else "it will look blurry"
        )
        self.reporter.warn(
            f"photo {shown} ({', '.join(ids)}) is {pw}x{ph} pixels and is enlarged "
            f"{upscale:.1f}x to fill the {fw}x{fh} frame: {effect}. Use a "
            f"photo of at least {need[0]}x{need[1]} pixels ({fw}x{fh} or more is sharp)"
        )

    def _frame_aspect(self) -> str:
        """The frame's shape as the crop warnings name it: output.aspect, unless
        output.size gives it another ("16:5")."""
        fw, fh = self.settings.output.frame()
        aspect: str = self.settings.output.aspect
        a, b = (int(n) for n in aspect.split(":"))
        if abs((fw / fh) / (a / b) - 1) > 0.01:  # an output.size of another shape
            g = math.gcd(fw, fh)
            aspect = f"{fw // g}:{fh // g}"
        return aspect

    def _crop_warning(self, shown: str, ids: list[str], size: tuple[int, int]) -> str | None:
        """What to tell of a photo (`size` as shown) whose centred crop to the frame keeps
        less than `CROP_KEPT_MIN` of it, or None. The frame's shape is named as configured
        (`output.aspect`) unless `output.size` gives it another; what to do is to crop it
        to that shape (choosing what shows) or to use a photo turned the frame's way."""
        fw, fh = self.settings.output.frame()
        kept = round(100 * cover_kept(size, (fw, fh)))  # in whole percent, as told
        if kept >= 100 * CROP_KEPT_MIN:  # so never "keeps only its middle 60%"
            return None
        pw, ph = size
        aspect = self._frame_aspect()
        cut = "left and right sides" if pw * fh > fw * ph else "top and bottom"
        turned = "landscape" if fw > fh else "portrait" if fw < fh else "square"
        return (
            f"photo {shown} ({', '.join(ids)}) is {pw}x{ph} pixels and is cropped to fill "
            f"the {aspect} frame, which keeps only its middle {kept}% (its {cut} are cut "
            f"off). Crop it to {aspect} yourself to choose what shows, or use a {turned} photo"
        )

    def _photo_keyframe(self, scene: Scene, plan: Plan) -> bool:
        """Whether this scene's keyframe is the goal's photo alone, keyed without its
        prompt (`_keyframe_variants`): `status` then does not call a prompt edit a redo."""
        source = self._local_photo(scene, plan)
        return source is not None and not photo_has_transparency(source)

    def _unused_fields(self, plan: Plan) -> dict[str, tuple[str, ...]]:
        """By scene id, the plan.yaml fields its keyframe is made without (a photo
        keyframe's, a painted one's): the storyboard does not mark it out of date
        for their edit, as the render redoes nothing."""
        out: dict[str, tuple[str, ...]] = {}
        for sc in plan.scenes:
            if self._photo_keyframe(sc, plan):
                out[sc.id] = PHOTO_UNUSED_FIELDS
            elif self._painted_keyframe(sc, plan) or self._photo_over_painted(sc, plan):
                out[sc.id] = PAINT_UNUSED_FIELDS
        return out

    def _photo_over_painted(self, scene: Scene, plan: Plan) -> bool:
        """Whether this scene's keyframe is a goal photo with transparent parts over the
        offline painter's scene, keyed without the plan's style, the reference photos and
        the options (`_keyframe_variants`): `status` does not call their edit a redo."""
        source = self._local_photo(scene, plan)
        return source is not None and photo_has_transparency(source)

    def _local_photo(self, scene: Scene, plan: Plan) -> Path | None:
        """The goal photo this scene's offline keyframe is made from (None: painted, or
        a paid keyframe model)."""
        return self._source_photo(scene, plan) if self._keyframe_provider == "local" else None

    def _painted_keyframe(self, scene: Scene, plan: Plan) -> bool:
        """Whether the offline painter draws this scene's keyframe (no goal photo), keyed
        without the plan's style and the reference photos (`_keyframe_variants`)."""
        return self._keyframe_provider == "local" and self._source_photo(scene, plan) is None

    def _keyframe_moved(self, store: Store, req: VideoRequest) -> str | None:
        """Why the scene's keyframe.png (or the next scene's, its last frame with
        video.chain_frames) cannot be sent for its clip now: gone, or not the picture its
        keyframe step made (replaced during the render). The clip's key holds each
        keyframe's sha256 as it was when the scene's turn came; the file is read again
        when the clip is made, and a picture put there meanwhile was sent (or animated
        offline) and kept as the clip of the keyframe made, a wrong movie no later render
        mended (the concurrent-use audit). Asked before the step begins and again just
        before the request is sent (the waits for a turn, a late job, the budget come
        between). None when each is the picture made."""
        scenes = self.run_dir / "scenes"
        for path, whose in (
            (req.keyframe, "its keyframe"),
            (req.last_frame, "the next scene's keyframe (its last frame)"),
        ):
            if path is None:
                continue
            # (its folder gone, or a file put in its way: said where it is read, as such)
            if not path.exists() and path.parent.is_dir():
                return (
                    f"{whose} {path} went away during the render (deleted or moved): "
                    "render again, which makes it again; nothing was sent for the clip"
                )
            if path.name != "keyframe.png" or path.parent.parent != scenes:
                continue  # (another clip's last frame, chained: not a keyframe step's)
            step = store.get(path.parent.name, "keyframe")
            if step is None or step.status != "succeeded" or not step.sha256:
                continue  # (a keyframe not journaled)
            try:
                same = sha256_file(path) == step.sha256
            except OSError:
                continue  # (said where it is read)
            if not same:
                return (
                    f"{whose} {path} changed since it was made (replaced during the "
                    "render?): render again, which makes it again as planned; nothing was "
                    "sent for the clip"
                )
        return None

    async def _clip_once(
        self,
        store: Store,
        model: VideoModel,
        req: VideoRequest,
        key: str,
        dest: Path,
        slot: _Slot | None = None,
        *,
        same_request: Collection[str] = (),
        keys_before: Sequence[str] = (),
    ) -> None:
        """One clip: its journaled job polled, a job no step holds taken, or a new one
        bought. `keys_before`: this request's keys until 2026-12-04 (`_clip_keys_before`)."""
        scene_id = req.scene_id
        ps = self.settings.provider_settings(model.name)
        self._check_stop()
        prev = store.get(scene_id, "clip")
        if (
            prev is not None
            and prev.input_key == key
            and prev.remote_id is not None
            and prev.remote_id in self._letting_go
        ):
            # render --let-go: the job kept for the settings changed is let go of, and
            # this step buys the clip again (counted in the estimate and spend question)
            self._let_go_of_kept(store, scene_id, prev.remote_id, model.name)
            prev = store.get(scene_id, "clip")
        remote_id: str | None = None
        counted = False  # the journaled job is counted as picked up by this render's estimate
        if prev is not None and prev.input_key == key and prev.remote_id:
            # a job already paid for (in flight, or finished but not downloaded):
            # poll it again and fetch it; never create a second one for the same inputs
            # (a finished job's result as kept when the estimate was made: one it counted
            # as free is not bought unasked if its time runs out during the render)
            refetch = store.refetchable_clip(prev, self._estimated_at or time.time())
            counted = store.resumable_job(prev) is not None or refetch is not None
            try:
                found = await self._adoptable(model, prev.remote_id, prev.status)
            except ProviderError as e:  # could not tell: keep the job journaled, pay nothing
                e.scene_id = e.scene_id or scene_id
                store.fail(scene_id, "clip", e.kind, str(e))
                raise
            if isinstance(found, JobNotFound) and counted:
                # not known where this render asks: kept when it was made elsewhere
                why = await self._elsewhere(prev.remote_id, model)
                if why is not None:
                    kept = self._kept_elsewhere(prev.remote_id, model.name, found, why, scene_id)
                    store.fail(scene_id, "clip", kept.kind, str(kept))
                    raise kept
            if isinstance(found, str):
                remote_id = found
            elif isinstance(found, JobNotFound) and _not_known_yet(store, prev.remote_id, found):
                found.scene_id = found.scene_id or scene_id
                store.fail(scene_id, "clip", found.kind, str(found))
                raise found
            elif found is not None and counted:
                # counted as costing nothing: a new clip waits for the next estimate
                raise await self._let_go_of_job(store, model, req, prev, found)
        if remote_id is None and (
            unwanted := self._unwanted_job(store, model, key, req.seconds, keys_before)
        ):
            # a job of exactly these inputs that no scene holds any more (an edit undone,
            # an id renamed, while it ran): polled and taken, not bought again
            store.begin(scene_id, "clip", key, same_request=same_request)
            remote_id = unwanted
            # (a scene that left the plan, its step still holding the job: a render
            # bringing it back polled it again) held here first, then let go of there
            left = [st.scene_id for st in store.steps("clip") if st.remote_id == unwanted]
            if left:
                store.mark_submitted(scene_id, "clip", unwanted)
            for other in left:
                store.release_job(other, "clip", unwanted, taken_by=scene_id)
        if remote_id is not None:
            store.mark_submitted(scene_id, "clip", remote_id)
            if not is_local_job(remote_id):  # (an offline clip has no job: it is rendered)
                self.reporter.step("clips", scene_id, "resumed", remote_id)
        else:
            if (changed := await asyncio.to_thread(self._keyframe_moved, store, req)) is not None:
                raise InvalidRequest(changed, provider=model.name, scene_id=scene_id)
            if model.name != "local" and not await asyncio.to_thread(_is_picture, req.keyframe):
                # a keyframe.png that is no picture (a download cut short that a version
                # before 2026-12-03 saved as it came): sent as the first frame, a paid
                # clip was bought from it at every render
                raise InvalidRequest(
                    f"its keyframe {req.keyframe} is not a picture (a download cut short "
                    "that an older mindmovie saved, or a file replaced by hand): delete it "
                    "and render again, which makes it again; nothing was sent for the clip",
                    provider=model.name,
                    scene_id=scene_id,
                )
            self._check_stop()  # (a stop heard during the checks: the step is not begun)
            store.begin(
                scene_id, "clip", key, same_request=same_request, paid=model.name != "local"
            )
            killpoint("clip_begun")  # a try begun, no call let through the gate yet
        estimate = costs.estimate_video(self.settings, req.seconds).usd
        hold = costs.video_hold(self.settings, req.seconds)
        row: int | None = None

        async def checked_submit() -> str:
            """The request sent, its keyframes looked at once more first (the waits for
            a turn, a late job or the budget came since the step began): a picture put
            there meanwhile is not sent (`_keyframe_moved`), the row refunded."""
            if (moved := await asyncio.to_thread(self._keyframe_moved, store, req)) is not None:
                raise InvalidRequest(moved, provider=model.name, scene_id=scene_id)
            return await model.submit(req)

        async def submit() -> str:
            # One unjournaled submission per provider at a time: if the process dies
            # between "sent" and "id stored", exactly one job is unaccounted for, and
            # the next run can adopt it without guessing (see _recover_orphans). And none
            # while a lost request is unsettled (`_wait_for_late_jobs`): every job that
            # appears in the list is then that one request's.
            nonlocal row
            while True:
                if await self._wait_for_late_jobs(
                    store, model, scene_id, done=lambda: adopted() is not None
                ):
                    self.reporter.step("clips", scene_id, "submitting")
                async with self._turn_to_send(model.name, scene_id):
                    late = adopted()
                    if late is not None:
                        # this scene's lost request became a job after all: that job is
                        # the clip (its row is the lost request's); nothing is sent
                        rid, row = late
                        return rid
                    if self._lost_rows:
                        continue  # (a look by another scene has not settled it yet)
                    row = await self._reserve(
                        scene_id,
                        "clip",
                        model,
                        estimate,
                        hold,
                        job_input={"input_key": key, "seconds": req.seconds},
                    )
                    if scene_id in self._behind_gate:  # let through without a wait of its own
                        self._budget_wait(scene_id, "clip", False)
                    sent_at = time.time()
                    try:
                        rid = await self._settle_errors(row, checked_submit(), model)
                    except ConnectionLost as e:
                        if not e.sent:
                            raise  # never connected: no job, the row is refunded; send again
                        # the answer was lost, not necessarily the request: find the job
                        # before sending another. None listed yet: the row is noted lost,
                        # and the retry waits for its late job (or its grace) first
                        found = await self._lost_submission(
                            store,
                            model,
                            row,
                            scene_id,
                            sent_at,
                            key,
                            answered=e.answered,
                            status=e.status,
                        )
                        if found is None:
                            raise
                        rid = found
                    killpoint("submit")
                    # the id goes on the ledger row and the step in ONE transaction
                    try:
                        store.mark_submitted(scene_id, "clip", rid, ledger_row=row)
                    except (OSError, sqlite3.Error):
                        if row is not None and row not in store.receipted:
                            self._job_not_kept(scene_id, rid, model.name, estimate)
                        raise
                return rid

        def adopted() -> tuple[str, int | None] | None:
            """The job (and its ledger row) a late-job look gave this step meanwhile."""
            st = store.get(scene_id, "clip")
            if st is None or st.input_key != key or st.status != "submitted" or not st.remote_id:
                return None
            return st.remote_id, self.gate.adopt(st.remote_id)

        submitted_here = remote_id is None
        # when an earlier render billed this job (read before this one bills it again)
        booked = None if remote_id is None else store.ledger_by_remote(remote_id)
        billed = booked is not None and booked["state"] == "billed"
        # a job `render --fresh` carried away from this (set-aside) run: the fresh run's
        # ledger bills it. A render of this run (the person finishing the old version)
        # downloads its clip, free, and billed it here too: one job in two ledgers
        carried_away = (
            booked is not None
            and booked["state"] == "refunded"
            and bool((booked["usage"] or {}).get("carried_to"))
        )
        # (a time edited by hand: not known, so its result is not taken for gone; it
        # failed the scene with "could not convert string to float", every render)
        billed_at = _a_time(booked["updated_at"]) if booked is not None and billed else None
        # an offline clip is made here, free, when it is "downloaded" (`LocalMotion.fetch`):
        # its row said "submitting", then "downloading" for the whole render of it
        made_here = model.name == "local"
        said_rendering = False  # (said once: --verbose printed "rendering" twice a clip)
        try:
            if remote_id is None:
                self.reporter.step("clips", scene_id, "rendering" if made_here else "submitting")
                said_rendering = made_here
                remote_id = await with_retry(submit)
            elif model.name != "local" and not billed and not carried_away:
                # (a job an earlier render billed keeps its bill, and the time of it)
                row = self.gate.adopt(remote_id)
            state = await self._poll(
                model,
                remote_id,
                ps.job_deadline,
                ps.poll_interval,
                ps.poll_max_interval,
                scene_id,
                fresh=submitted_here,
            )
            await self._settle_job(row, state, req, model)
            if state.status == "rejected":
                # a provider that bills the filtered job: the try after it is paid again,
                # past the estimate agreed to, and the warning said only "refused"
                refused = store.ledger_row(row) if row is not None else None
                paid = float(refused["billed_usd"] or 0.0) if refused is not None else 0.0
                raise ContentRejected(
                    f"job {remote_id} refused by the content filter: {state.error or ''}"
                    + (f" (billed {costs.format_usd(paid)} all the same)" if paid > 0 else ""),
                    provider=model.name,
                    scene_id=scene_id,
                )
            if state.status != "succeeded":
                raise JobFailed(
                    f"job {remote_id} ended {state.status}: {state.error or 'no reason given'}",
                    provider=model.name,
                    scene_id=scene_id,
                )
            if slot is not None and model.name != "local":
                slot.release()  # the job is finished; local "fetch" is the work itself
            if state.finished_at is None:
                # the provider does not say when it finished (Veo; a Seedance task
                # without updated_at): no later than an earlier render billed the job,
                # or, for one this render created, than now (it finished during this
                # render). Either is a lower bound of the result's age: a result is
                # never taken for gone too early, and a 404 soon after the finish is
                # tried again by the next render, not bought again (`ResultGone` vs
                # `JobFailed`: SeedanceVideo._gone, VeoVideo._bytes). A job an earlier
                # render journaled and none billed (it stopped first) may have finished
                # at any time, days ago: its finish stays unknown, and a 404 on it stays
                # the result gone, as nothing bounds how long ago it was made
                if billed_at is not None:
                    state.finished_at = billed_at
                elif submitted_here:
                    state.finished_at = time.time()
            if not said_rendering:
                self.reporter.step("clips", scene_id, "rendering" if made_here else "downloading")
            done_state = state
            await with_retry(lambda: model.fetch(done_state, req, dest))
        except (BudgetExceeded, Interrupted) as e:
            kind = "budget" if isinstance(e, BudgetExceeded) else "interrupted"
            if kind == "interrupted" and remote_id is not None:
                raise  # the job id stays journaled (submitted): the next run polls it
            sent = self._tried(model, remote_id is not None or row is not None)
            store.fail(scene_id, "clip", kind, str(e), sent=sent)
            raise
        except registry.KeyNotSet as e:
            if remote_id is None and row is None:
                # a key not set, met at the gate (`registry.Keyless`): the step was left
                # running, this try counted, though nothing was sent
                store.fail(scene_id, "clip", "auth", str(e), sent=self._tried(model, False))
            elif row is not None:
                await self.gate.unknown(row)  # (as for anything else, below)
            raise
        except ResultGone as e:
            # the job finished and was billed (`_settle_job`), but what it made can no
            # longer be downloaded: polling it again gave the same answer at every
            # render, for ever. The step lets go of it (the row stays billed, unused),
            # and the clip is bought again only by a render whose estimate counts it
            # (the spend question, --yes, --budget), never here behind the person's back
            assert remote_id is not None  # gone is a download's answer: there is a job
            again = costs.estimate_video(self.settings, req.seconds).usd
            gone = ResultGone(
                f"the result of job {remote_id} is gone at {model.name} ({e.message}); "
                f"it was billed. The next render buys the clip again (about "
                f"{costs.format_usd(again)}), counted in its estimate and spend question",
                provider=e.provider or model.name,
                scene_id=scene_id,
            )
            store.result_gone(scene_id, "clip", remote_id, str(gone), estimated_usd=again)
            self._note_gone(scene_id, key)
            raise gone from None
        except ProviderError as e:
            if self._ended_by_the_stop(e):
                # the step stays as a stop leaves it (its row "stopped", the next render
                # makes the clip): journaled failed, status said "re-poll job local:…"
                # and the storyboard "clip failed: ffmpeg failed (255)"
                raise Interrupted(self._stop_said()) from None
            e.scene_id = e.scene_id or scene_id
            elsewhere: ProviderChanged | None = None
            if isinstance(e, JobNotFound) and not submitted_here and remote_id is not None:
                # a journaled job not known where this render asks: was it made elsewhere?
                why = await self._elsewhere(remote_id, model)
                if why is not None:
                    elsewhere = self._kept_elsewhere(remote_id, model.name, e, why, scene_id)
            # (a key refused earlier in this run: no request of this try let through)
            sent = self._tried(model, remote_id is not None or row is not None)
            store.fail(scene_id, "clip", (elsewhere or e).kind, str(elsewhere or e), sent=sent)
            if row is not None:
                await self.gate.unknown(row)  # e.g. deadline: the job may still bill
            if elsewhere is not None:
                raise elsewhere from None
            if (
                isinstance(e, JobNotFound)
                and counted
                and prev is not None
                and not submitted_here
                and prev.remote_id == remote_id
            ):
                if remote_id is not None and _not_known_yet(store, remote_id, e):
                    raise
                # the job a killed render left in flight (polled without a first look,
                # `_adoptable`) is forgotten at the provider: let go of, as one a failed
                # step left. Kept, this render said "`render` again retries them", and
                # only the next let go of it: a third render bought the clip
                raise await self._let_go_of_job(store, model, req, prev, e) from None
            if isinstance(e, JobNotFound) and submitted_here and remote_id is not None:
                # a job this render made, then not found: said only "operation ... not
                # found (404)", and the next render kept it (young), which nothing said
                _not_known_yet(store, remote_id, e)
            raise
        except BaseException:
            # anything else (a full disk, a bug): the job may bill; this run stops
            # waiting on it, so a call that does not fit is not held up for ever
            if row is not None:
                await self.gate.unknown(row)
            raise
        store.succeed(
            scene_id,
            "clip",
            dest,
            sha256_file(dest),
            detail=state.usage or None,
            paid=model.name != "local",
        )
        if booked is not None and billed:
            # a job billed unused (its scene left the plan meanwhile) is used after all
            store.ledger_used(int(booked["id"]))

    async def _poll(
        self,
        model: VideoModel,
        remote_id: str,
        deadline_s: float,
        interval: float,
        max_interval: float,
        scene_id: str,
        *,
        fresh: bool = False,
    ) -> Any:
        """Poll until done or the job's deadline.

        Backs off from `interval` to `max_interval` (and to no more than a sixth of the
        job's age), with jitter so many jobs do not poll in lockstep. Once a job of this
        model has finished in this run, the others (also those already polling) sleep
        until about its duration and then poll at `interval`: the finish is seen within
        a short interval instead of up to a whole backed-off one, with no more requests.
        The duration learnt is a lower bound (the last poll that still saw the job
        running), so the dense polling starts before the finish, not after it.
        `fresh`: the job was just created here, so its duration teaches the next ones.
        """
        import random

        started = time.monotonic()
        t_end = started + deadline_s
        delay = interval
        running_at = started  # when a poll last found the job still running
        unknown_since: float | None = None  # since when its status is one not known
        while True:
            self._check_stop()
            sent = time.monotonic()
            try:
                # 429s are waited out no longer than the job's deadline (it was up to
                # RATE_LIMIT_PATIENCE past it)
                left = max(0.0, t_end - time.monotonic())
                state = await with_retry(lambda: model.poll(remote_id), patience=left)
            except Transient as e:
                # a poll costs nothing and the job is paid and running: polls that failed
                # the policy's tries (a burst of 503s, a dropped link) are asked again
                # after the next gap, until the job's deadline. Four 503s on Veo polls
                # failed the scene, its job left running, and the render exited 1
                if time.monotonic() + delay > t_end:
                    e.message += _still_running(model.name)
                    raise
                self.reporter.step("clips", scene_id, "polling", "poll failed, asking again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_event.wait(), timeout=delay)
                delay = min(max_interval, delay * 1.5)
                continue
            now = time.monotonic()
            if state.done:
                if fresh and state.status == "succeeded" and running_at > started:
                    took = running_at - started  # it finished after this, before `now`
                    prev = self._job_seconds.get(model.model)
                    self._job_seconds[model.model] = took if prev is None else min(prev, took)
                return state
            running_at = sent
            killpoint("poll")
            # read each time: a job of this model that finished meanwhile teaches this one
            expected = self._job_seconds.get(model.model) if fresh else None
            if expected is not None and now - started < 1.5 * expected:
                remaining = expected - (now - started)
                # sleep to just before the expected finish, then poll densely
                sleep = min(max_interval, max(interval, remaining - interval))
                sleep *= 0.9 + 0.2 * random.random() if remaining > interval else 1.0
            else:
                sleep = delay * (0.8 + 0.4 * random.random())
                # the gap also grows with the job's age (at most a sixth of it): a finish
                # is seen at most ~17% late, also for the first jobs, which have no
                # duration to go by yet
                delay = min(max_interval, delay * 1.5, max(interval, (now - started) / 6))
            odd = state.unknown_status
            unknown_since = (unknown_since or now) if odd else None
            odd_for = now - unknown_since if unknown_since is not None else 0.0
            if odd and (now + sleep > t_end or odd_for >= UNKNOWN_STATUS_PATIENCE):
                raise DeadlineExceeded(
                    f"job {remote_id}: {model.name} gives its status as {odd!r}, which "
                    "mindmovie does not know"
                    + (f" ({state.error})" if state.error else "")
                    + f", for {odd_for:.0f} s: whether it ends made, and bills, "
                    "is not known. The next render looks at this same job again, paying "
                    f"nothing more; see the task in the {model.name} console",
                    provider=model.name,
                    scene_id=scene_id,
                )
            if now + sleep > t_end:
                raise DeadlineExceeded(
                    f"job {remote_id} not finished after {deadline_s:.0f} s "
                    f"(status {state.status}"
                    + (f": {state.error}" if state.error else "")
                    + f"){_still_running(model.name)}",
                    provider=model.name,
                    scene_id=scene_id,
                )
            self.reporter.step("clips", scene_id, "polling", odd or state.status)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), timeout=sleep)

    # ------------------------------------------------------------------ compose
    def _compose(self, store: Store, plan: Plan, clips: dict[str, Path], res: RenderResult) -> Path:
        """The movie, its texts in one font where one draws them all (`cards.movie_face`)."""
        from mindmovie.compose.cards import movie_face

        with movie_face(_movie_texts(plan)):
            return self._compose_in(store, plan, clips, res)

    def _compose_in(
        self, store: Store, plan: Plan, clips: dict[str, Path], res: RenderResult
    ) -> Path:
        from mindmovie.compose import renderer
        from mindmovie.compose.cards import drawn_text, face_for
        from mindmovie.compose.timeline import MovieInput, SceneInput, build_timeline
        from mindmovie.media import clip_facts, hdr_filters_missing

        cs = self.settings.compose
        spec = output_spec(self.settings)
        scenes = []
        learnt: dict[str, str] = {}
        for sc in plan.scenes:
            if sc.id not in clips:
                continue
            clip = clips[sc.id]
            sha = sha256_file(clip)
            facts = _recorded_clip_facts(store.get_meta(CLIP_FACTS_META + sha))
            if facts is None:
                facts = clip_facts(clip, sha)
                learnt[CLIP_FACTS_META + sha] = json.dumps(
                    {"v": CLIP_FACTS_VERSION, "facts": list(facts)}
                )
            has_audio, matrix, hdr = facts
            if hdr and (missing := hdr_filters_missing()):
                # composed as before (read as BT.709) rather than failing the render
                self.reporter.warn(
                    f"scene {sc.id}: its clip {clip.name} is HDR ({hdr}), and this ffmpeg "
                    f"has no {' or '.join(missing)} to convert it to SDR: its colours will "
                    "look washed out (use imageio-ffmpeg's ffmpeg, or one built with zimg)"
                )
                hdr = ""
            scenes.append(
                SceneInput(
                    id=sc.id,
                    affirmation=sc.affirmation,
                    seconds=sc.seconds,
                    clip=clip,
                    clip_sha256=sha,
                    has_audio=has_audio,
                    clip_matrix=matrix,
                    clip_hdr=hdr,
                )
            )
        if learnt:
            store.set_metas(learnt)
        music = expanded(plan.music) if plan.music else None  # as check_plan
        movie = MovieInput(
            title=plan.title,
            closing=plan.closing,
            scenes=tuple(scenes),
            music=music,
            music_sha256=sha256_file(music) if music and music.exists() else None,
        )
        self._warn_left_out(plan)  # said at the plan already: not again
        timeline = build_timeline(movie, spec, face_for, drawn_text)
        # e.g. a very short scene shortens its two crossfades (notes); 2 s scenes between
        # 1 s crossfades never show their affirmations whole (text_notes)
        for note in (*timeline.notes, *timeline.text_notes):
            self.reporter.warn(note)
        # e.g. CJK on a machine without a CJK font; a text too long for the frame
        items = [(it.id.removeprefix("scene:"), it.text, it.kind) for it in timeline.items]
        self._warn_boxes([(name, text) for name, text, _ in items])
        self._warn_fit(items)
        out = self.run_dir / "movie.mp4"
        shas = {s.id: s.clip_sha256 for s in scenes}
        key = input_key(
            v=STAGE_VERSION["movie"],
            engine=cs.engine,
            segments=[s.key for s in timeline.segments],
            audio=repr(timeline.audio),
        )
        composed = composed_plan(plan, shas, movie_settings(self.settings))
        if store.reusable("_movie", "movie", key):
            store.set_meta(COMPOSED_PLAN_META, composed)
            self.reporter.stage("compose", 1)
            self.reporter.step("compose", "movie", "reused")
            self._mark(res, False, "_movie", "movie")
            return out
        before = store.get("_movie", "movie")
        if (
            before is not None
            and before.status == "succeeded"
            and before.input_key != key  # (not movie.mp4 itself changed or damaged)
            and store.get_meta(COMPOSED_PLAN_META) == composed
            and out.is_file()
        ):
            # the same plan, clips and settings as the movie there: what changed is how
            # this mindmovie composes (an upgrade). It was made again without a word
            # (the upgrade audit)
            self.reporter.info(
                "compose: the movie is made again: this version of mindmovie composes it "
                "otherwise, or the fonts here changed (none of its scenes, texts or "
                "settings did; it costs nothing)"
            )
        # the moviepy engine makes the movie in one piece and reports it as one
        self.reporter.stage("compose", len(timeline.segments) if cs.engine == "ffmpeg" else 1)
        store.begin("_movie", "movie", key)

        def on_segment(seg: Any) -> None:
            killpoint("compose")
            if seg.reused:
                store.record_reused(seg.id, "segment", seg.key, seg.path, sha256_file(seg.path))
                self._mark(res, False, seg.id, "segment")
                self.reporter.step("compose", seg.id, "reused")
            else:
                store.begin(seg.id, "segment", seg.key)
                store.succeed(seg.id, "segment", seg.path, sha256_file(seg.path))
                self._mark(res, True, seg.id, "segment")
                self.reporter.step("compose", seg.id, "done")
            made.append(seg.id)  # (called in this thread: `compose.ffmpeg.render`)
            if len(made) == len(timeline.segments) > 1:
                # the join and the music take a while on a long movie (31 s of a 9-minute
                # one), with every segment said done and nothing else (the scale audit)
                self.reporter.info(
                    f"compose: joining the {len(made)} segments and the sound into {out.name}"
                )

        made: list[str] = []

        _drop_damaged_segments(store)
        workers = cs.workers or None
        report = renderer(cs.engine)(
            timeline,
            self.run_dir / "compose",
            out,
            workers=workers,
            on_segment=on_segment,
            stopped=lambda: self._stopping,  # the compose is free: stopped at once
        )
        for note in report.notes:  # e.g. the music is silent
            self.reporter.warn(note)
        store.forget_stage("segment", {s.id for s in report.segments})
        store.succeed(
            "_movie", "movie", out, sha256_file(out), detail={"duration": report.duration}
        )
        store.set_meta(COMPOSED_PLAN_META, composed)  # for `status`
        if cs.engine == "ffmpeg":
            from mindmovie.compose.ffmpeg import cache_files

            work_dir = self.run_dir / "compose"
            used = {s.path for s in report.segments} | cache_files(timeline, work_dir)
            _prune_compose_cache(work_dir, used)
        self._mark(res, True, "_movie", "movie")
        return out

    # ------------------------------------------------------------------ the run
    async def run(
        self,
        *,
        fresh: bool = False,
        until: Until = "movie",
        skip_failed: bool = False,
        let_go: bool = False,
    ) -> RenderResult:
        """`let_go` (`render --let-go`): see `_find_let_go`; for this render only."""
        from mindmovie.media import FFmpegError as MediaError

        self._let_go = let_go
        self._until = until
        self._fresh = fresh

        try:
            # every provider is built, and ffmpeg found, before the run folder is touched:
            # a missing key made (or renamed) the folder and its run.db before it was
            # refused, and a broken ffmpeg was met at the first free step, or with a paid
            # preset only at the compose, after every keyframe and clip was paid for
            self._providers = self._build_providers()
        except MediaError as e:
            if (limit := limit_message(e, self.run_dir)) is not None:
                # not a broken ffmpeg: "reinstall" was said for `ulimit -n 12`
                said = limit.replace("finished work is kept: ", "").replace(" to resume", "")
                raise DiskFull(f"{said}. Nothing was made or spent") from None
            raise ConfigError(
                f"ffmpeg cannot be run ({e}); mindmovie uses the ffmpeg imageio-ffmpeg ships "
                "(or the one IMAGEIO_FFMPEG_EXE names): reinstall with the README's install "
                "line, or fix IMAGEIO_FFMPEG_EXE. `mindmovie doctor` checks it. Nothing was "
                "made or spent"
            ) from None
        self._rate_limited: set[str] = set()  # providers whose 429s were said (`_told_429`)
        limits = rate_limits.set(RateLimits(self._told_429))
        try:
            return await self._run_built(fresh=fresh, until=until, skip_failed=skip_failed)
        finally:
            rate_limits.reset(limits)
            await self._close_providers()

    def _told_429(self, e: Transient) -> None:
        """Once per provider: its calls wait out 429s (mindmovie.retry), so the render
        goes quiet for up to RATE_LIMIT_PATIENCE; it says why, and that none is billed."""
        who = e.provider or "a provider"
        if who in self._rate_limited:
            return
        self._rate_limited.add(who)
        self.reporter.warn(
            f"{who} is turning requests away (429, rate limited): "
            f"each call waits and tries again for up to {RATE_LIMIT_PATIENCE:.0f} s "
            "before its scene fails (once one has, the others try four times). A request "
            "turned away is not billed"
        )

    async def _run_built(self, *, fresh: bool, until: Until, skip_failed: bool) -> RenderResult:
        """run(), its providers built: the run folder's errors made a person's."""
        self._run_dir_id = None  # not locked yet (`_run_dir_gone`)
        self._made_dirs: list[Path] = []  # folders this render made (`_lock_run_dir`)
        self._journal_id, self._journal_gone = None, ""
        self._run_lock, self._lock_taken, self._held_dir = None, "", None
        # this render's own previous/<time>/ (`_keep_changed`): the last run()'s, used
        # again, had its kept picture written over by this one's
        self._changed_dir = None
        self._pid_before = 0  # the render before this one, as `_follow_title` found it
        if not self._out_given and self.run_dir != self._home:
            self._follow_title()
        try:
            return await self._run_locked(fresh=fresh, until=until, skip_failed=skip_failed)
        except Exception as e:
            if self._journal_gone:
                # `rm -rf` of the folder takes run.db first and the folder a moment
                # later: said as the journal gone, with "what is left in run is moved
                # aside", of a folder no longer there
                for _ in range(int(1.0 / 0.05)):
                    if self._run_dir_gone():
                        break
                    await asyncio.sleep(0.05)
            if self._run_dir_gone():
                # what failed of it (a compose chunk, a keyframe not found, ffmpeg's
                # output) was a traceback or "N scenes failed; finished work is kept"
                gone = RunDirGone(
                    self._gone_message(),
                    self.run_dir,
                    self._locked_at,
                    self._parent_ids,
                    self._held_dir,
                )
                # (again by the CLI once its loop's threads have ended: one still
                # painting a keyframe wrote it after this)
                gone.remove_remade()
                raise gone from None
            if self._journal_gone:  # (a scene or the compose it stopped: "failed")
                raise RunDirGone(self._journal_gone) from None
            if self._lock_taken:  # (a compose it stopped: "failed")
                raise RunLocked(self._lock_taken) from None
            if is_disk_full(e):
                raise DiskFull(
                    self._with_not_kept(disk_full_message(self.run_dir, self._paid()))
                ) from None
            if (limit := limit_message(e, self.run_dir)) is not None:
                raise DiskFull(self._with_not_kept(limit)) from None
            if isinstance(e, OSError) and e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                # a part of the run folder this user cannot write (made by another user,
                # or with sudo; a read-only mount): the folder's problem, not a crash.
                # A rename refused names the file it would replace, not its temp file
                # (movie.mp4 made immutable was said as ".movie.mp4.24700.tmp.mp4")
                name = str(e.filename2 or e.filename or self.run_dir)
                run = os.path.abspath(self.run_dir)
                if os.path.commonpath([run, os.path.abspath(name)]) != run:
                    raise RunDirError(f"{name}: {e.strerror}") from None  # not the run's
                raise RunDirError(
                    f"{name}: cannot write it ({e.strerror}); check the run folder's "
                    "permissions (what a render with sudo made belongs to root), or "
                    "render into another folder with --out"
                ) from None
            raise

    async def _close_providers(self) -> None:
        """Close the providers' HTTP clients, on the loop they were used in. Left to the
        garbage collector, their keep-alive connections stayed open after the render, in
        a process that goes on (a test's, a program's that renders twice) until a full
        collection: the simulator counted them. A close that fails changes nothing of
        the render's outcome."""
        built: list[object] = [*(self._providers or ())]
        if self._kf_text is not None:
            built.append(self._kf_text[0])
        self._providers = None  # closed: a later run() builds its own
        for provider in built:
            close = getattr(provider, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def _run_locked(self, *, fresh: bool, until: Until, skip_failed: bool) -> RenderResult:
        with contextlib.ExitStack() as held:
            self._lock_run_dir(held)
            self._stop_orphan_encoders()
            self._put_back_killed_fresh()
            if fresh:
                self._set_aside()
            # no run.db: the files in the folder are moved aside only after the spend
            # question (`_run`); they were moved before it, and a person who declined
            # found the folder rearranged for nothing
            # an empty run.db (0 bytes) is no journal either: taken for one, the render
            # wrote its new keyframes, clips and movie over the ones the folder held
            new_db = journal_missing(self.run_dir / "run.db")
            aside = new_db and bool(self._unjournaled_entries())
            _clean_temp_files(self.run_dir)
            # the marks a new run.db must never be without (a kill between its creation
            # and their own write left a journal that took the files found for its own,
            # or forgot where --fresh moved the run): written as it is made
            marks: dict[str, str] = {}
            if self._fresh_moved is not None:
                dest, names = self._fresh_moved
                marks[FRESH_META] = json.dumps({"dest": str(dest), "names": names})
                with contextlib.suppress(sqlite3.Error, OSError, ValueError):
                    if (dest / "run.db").is_file():
                        aside_jobs = sorted(_journaled_jobs(dest / "run.db"))
                        marks[SET_ASIDE_JOBS_META] = json.dumps(aside_jobs)
            if aside:
                marks[ASIDE_META] = "1"
            try:
                store = Store(self.run_dir / "run.db", meta=marks)
            except StoreError:
                # (a path too long for SQLite, a full disk): the folders this render
                # made for the run go, as a declined render's do; left, outputs/<title>/
                # held only the lock, for a run that never started
                if self._made_dirs:
                    for name in JOURNAL_FILES:
                        with contextlib.suppress(OSError):
                            (self.run_dir / name).unlink()
                    self._remove_made_folders()
                raise
            if self._fresh_moved is not None:  # the mark is in run.db now
                with contextlib.suppress(OSError):
                    (self._fresh_moved[0] / FRESH_MOVING).unlink()
            killpoint("store_opened")
            self._install_sigint()
            rows_before = 0  # the ledger's rows before this render's (said at a stop)
            declined = False  # the spend refused at its question (`Declined`)
            try:
                rows_before = max((r["id"] for r in store.ledger_rows()), default=0)
                self._aside_pending = store.get_meta(ASIDE_META) == "1"
                waker = asyncio.ensure_future(self._wake_gate_on_stop())
                self._run_dir_id = folder_id(self.run_dir)
                self._journal_id = folder_id(self.run_dir / "run.db")
                self._parent_ids = [(p, folder_id(p)) for p in self.run_dir.absolute().parents]
                self._run_dir_fd = _open_folder(self.run_dir)
                self._locked_at = time.time()
                looker = asyncio.ensure_future(self._watch_run_dir(asyncio.current_task()))
                try:
                    res = await self._run(store, until, skip_failed)
                finally:
                    waker.cancel()
                    looker.cancel()
                    fd, self._run_dir_fd = self._run_dir_fd, None
                    if fd is not None:
                        os.close(fd)
                if (gone := self._gone()) is not None:  # in its last moments: no movie there
                    raise gone
                await asyncio.to_thread(_share_unchanged, self.run_dir)
                killpoint("ended")  # its work done, its stop handlers still in place
                self.finished = res
                return res
            except Declined:
                declined = True
                raise
            except BudgetStopped as e:
                # the budget used up before the question (`--budget 0` in a new folder):
                # nothing sent, as declined; `--out new` kept new/run.db and its lock
                declined = e.nothing_sent
                raise
            except (asyncio.CancelledError, Interrupted) as e:
                declined = self._stopped_at_question
                if not self._stopping:
                    raise
                if (gone := self._gone()) is not None:
                    raise gone from None
                if self._lock_taken:
                    raise RunLocked(self._lock_taken) from None
                if isinstance(e, Interrupted) and e.said:
                    raise
                # a plan or image sent, whose answer (its result: no job to pick up later)
                # did not come by the stop's wait for it: paid and not kept, which "nothing
                # paid for is lost" said it was not
                # so is a clip's create of a provider that lists no jobs (Veo): its job,
                # if made, is never found, and "nothing paid for is lost" was said of it
                # while the next render's estimate said it may be paid twice
                cut = [
                    r
                    for r in store.ledger_rows()
                    if r["id"] > rows_before
                    and r["state"] == "committed"
                    and (
                        r["stage"] in ("plan", "keyframe")
                        or (
                            r["stage"] == "clip"
                            and not r["remote_id"]
                            and not registry.lists_jobs(str(r["provider"]))
                        )
                    )
                ]
                if cut:
                    called = {"plan": "plan", "keyframe": "image", "clip": "clip"}
                    what = ", ".join(sorted({called[str(r["stage"])] for r in cut}))
                    twice = (
                        " (a clip's job cannot be looked for: it may be paid twice)"
                        if any(r["stage"] == "clip" for r in cut)
                        else ""
                    )
                    raise Interrupted(
                        f"stopped. {len(cut)} paid call(s) ({what}) had not answered when "
                        "the render stopped: counted as spent, outcome unknown (`mindmovie "
                        "status` shows them), and the next render asks again for what they "
                        f"were to make{twice}. Jobs already sent are journaled; run the same "
                        "command again to resume"
                    ) from None
                raise Interrupted(STOPPED if self._paid() else STOPPED_FREE) from None
            finally:
                self._remove_sigint()
                killpoint("signals_removed")  # a stop signal once the render has ended
                # a folder this render made, holding only its new run.db (no paid call
                # journaled) and lock: a render refused at the spend question (no
                # terminal, no --yes) left `--out new` with new/run.db for nothing
                unmade = (
                    declined and new_db and bool(self._made_dirs) and self._nothing_journaled(store)
                )
                store.close()
                if self._run_dir_gone():
                    # its threads may still write (`asyncio.to_thread` work is not
                    # cancelled): held until they have ended (`RunDirGone.let_go`)
                    if self._held_dir is not None:
                        self._held_dir.outlast()
                    # the folder at the path is not this render's (swapped for another
                    # run's at the spend question): undoing the new run.db there deleted
                    # that run's journal, and --fresh put entries back into it
                    self._fresh_moved = None
                    self._aside_pending = False
                    unmade = False
                if (self._aside_pending and new_db) or unmade:
                    # stopped before the files were moved (declined, Ctrl-C at the
                    # question, an error before it): nothing was spent, and the run.db
                    # made meanwhile goes, so the folder is as it was. Left there, it
                    # made the next render take the unchecked files for its own and
                    # write over them
                    for name in JOURNAL_FILES:
                        (self.run_dir / name).unlink(missing_ok=True)
                if unmade:  # and the folders it made go, as a declined run.db does
                    self._remove_made_folders()
                    self._run_dir_id = None  # removed here, not gone under the render
                self._undo_fresh()

    def _remove_made_folders(self) -> None:
        """The lock and the folders this render made for a run that did not start (the
        spend declined, a run.db that cannot be opened), so the folder is as it was."""
        with contextlib.suppress(OSError):
            (self.run_dir / ".lock").unlink()
        _remove_remade_parents([(d, None) for d in self._made_dirs])

    def _ask_again_for_the_plan(
        self,
        store: Store,
        planner: Planner,
        agreed: costs.RunEstimate,
        until: str,
        *,
        edited: bool = False,
    ) -> None:
        """The plan just made costs more than the question priced: ask again, before any
        keyframe or clip is bought. The question, asked before the plan, priced each
        scene at plan.scene_seconds; Claude picks each clip's length among those the video
        model allows, and 10 s clips for 4 s ones bought $1.16 after "Spend about $0.55?"
        without another word. A little more (a longer prompt: a Gemini image's input
        tokens) is not asked about again. `edited`: no plan was bought, the plan.yaml the
        question priced is the one read after it, unless the person edited it meanwhile."""
        before = agreed.total - (agreed.planner.usd if agreed.planner is not None else 0.0)
        now = self.estimate(store, planner).upto(until)
        if now.total <= before + max(PLAN_ASK_AGAIN_USD, before * PLAN_ASK_AGAIN_SHARE):
            return
        if edited:
            self.reporter.warn(
                f"plan: {self.run_dir / 'plan.yaml'} changed while the question was asked: "
                f"its keyframes and clips now cost about {costs.format_usd(now.total)}, "
                f"not {costs.format_usd(before)}"
            )
        else:
            self.reporter.warn(
                f"plan: the plan {planner.name} made costs more than estimated before it: "
                f"its keyframes and clips about {costs.format_usd(now.total)}, not "
                f"{costs.format_usd(before)} (longer clips than plan.scene_seconds, or more "
                "scenes)"
            )  # ("; asked again" said so under --yes too, where nothing is: `confirm` says it)
        billed, committed = store.ledger_totals()
        kept = (
            f"the plan is kept ({self.run_dir / 'plan.yaml'}; paid for) and nothing else was spent"
            if not edited
            else f"nothing was spent ({self.run_dir / 'plan.yaml'} is kept as edited)"
        )
        try:
            again = replace(now, spent=billed + committed, again=True)
            ok = self.confirm is None or self._ask(again)
        except Interrupted:
            # (Ctrl-C at the question: the first question's "nothing was spent", said
            # here, denied the plan's bill)
            raise Interrupted(f"{kept}; render again when you are ready") from None
        if not ok:
            raise Declined(f"{kept}: edit its scenes' seconds, or render again when you are ready")

    @staticmethod
    def _paid_jobs(store: Store) -> list[str]:
        """The journaled clip jobs a render polls and downloads at no cost (in flight, or
        made and not yet fetched: `Store.resumable_job`)."""
        return [rid for st in store.steps() if (rid := store.resumable_job(st)) is not None]

    def _nothing_journaled(self, store: Store) -> bool:
        """Does the run folder hold only `store`'s run.db (no paid call in its ledger)
        and the lock? Then nothing of the render is lost with the folder."""
        try:
            if store.ledger_rows():
                return False
            names = {p.name for p in self.run_dir.iterdir()}
        except Exception:  # (a damaged folder or journal: kept, as it is)
            return False
        return names <= {*JOURNAL_FILES, ".lock"}

    def _run_dir_gone(self) -> bool:
        """Is the run folder this render locked no longer at its path (deleted, moved,
        renamed, or another folder put there)? False before it was locked."""
        was = self._run_dir_id
        return was is not None and folder_id(self.run_dir) != was

    async def _gone_under(self, e: BaseException) -> bool:
        """Did `e` come of the run folder going away? A file of the run not found (`rm -rf`
        of the folder: its files go first, the folder itself last) is waited on for up to
        a second for the folder to be gone: the compose's failure was told ("movie
        failed") a moment before the folder went, above the line saying it went."""
        if self._run_dir_gone():
            return True
        if not _may_be_gone(e) or self._run_dir_id is None:
            return False
        return await _within_a_second(self._run_dir_gone)

    async def _going_away(self) -> bool:
        """Is the run folder, or its run.db, going away, looked at for up to a second?
        `rm -rf` of the folder takes its files first and the folder a moment later; a
        scene's mkdir racing it fails "File exists" (pathlib's exist_ok looks again and
        finds nothing), which was said on the scene's row as a folder or file put in its
        way, above the line saying the folder went away."""
        return await _within_a_second(lambda: self._run_dir_gone() or self._journal_went())

    async def _gone_under_any(self, failures: Sequence[BaseException]) -> bool:
        """`_gone_under` of the first of the scenes' failures that may be the folder
        going: `rm -rf` takes the files first and the folder a moment later, and the flows
        that failed of it ended in between (each said "failed - keyframe not found", or
        ffmpeg's "Unable to re-open ... output file", above the line saying it went)."""
        if self._run_dir_gone():
            return True
        first = next((e for e in failures if _may_be_gone(e)), None)
        return first is not None and await self._gone_under(first)

    def _journal_went(self) -> bool:
        """Is the run.db this render opened no longer at its path, its folder still there?
        A `rm -rf` of the run folder that fails ("Directory not empty": the render wrote
        a file into it meanwhile) deletes run.db and leaves the folder, whose inode is
        unchanged: the render went on making, and paying for, what its journal (open,
        deleted) could never tell the next render of."""
        was = self._journal_id
        return was is not None and folder_id(self.run_dir / "run.db") != was

    def _gone(self) -> RunDirGone | None:
        """Why the render stops when its run folder, or the run.db in it, went away
        during it (`_run_dir_gone`, `_journal_went`); None while both are there."""
        if self._run_dir_gone():
            return RunDirGone(self._gone_message())
        return RunDirGone(self._journal_gone) if self._journal_gone else None

    def _gone_message(self) -> str:
        return (
            f"the run folder {self.run_dir} went away during the render (deleted, moved or "
            "renamed), so the render stopped: nothing more is made or paid for. If it was "
            "moved, render again with --out at its new place to resume there; if it was "
            "deleted, render again to start anew"
        )

    async def _watch_run_dir(self, main: asyncio.Task[Any] | None) -> None:
        """Stop the render, as a Ctrl-C does, once its run folder is gone. It went on
        without it: every keyframe, clip and movie written into a folder its mkdirs made
        again at the path, journaled nowhere (the run.db deleted) or in a run.db
        elsewhere (moved), and every paid call sent meanwhile bought for nothing."""
        while not self._stopping:
            await asyncio.sleep(RUN_DIR_LOOK_SECONDS)
            if self._run_dir_gone():
                what = f"the run folder {self.run_dir} went away"
            elif self._journal_went():
                db = self.run_dir / "run.db"
                self._journal_gone = (
                    f"{db}, the run's journal, went away during the render (deleted or "
                    "moved), so the render stopped: nothing more is made or paid for. What "
                    "it made is not journaled there any more: render again to start anew "
                    f"(what is left in {self.run_dir} is moved aside first, nothing is "
                    "deleted)"
                )
                what = f"{db} went away"
            elif (lock := self._run_lock) is not None and (other := lock.kept(self.run_dir)):
                self._lock_taken = (
                    f"another mindmovie process (pid {other}) took {self.run_dir} during this "
                    "render, its .lock deleted meanwhile: this render stopped so that two do "
                    "not pay for the same work; what it made is journaled. Wait for that one "
                    "to finish, then render again"
                )
                what = f"another render took {self.run_dir}"
            else:
                continue
            self._stopping = True
            self._stop_cause = what
            self._stop_event.set()
            self.reporter.warn(f"{what}: stopping")
            if main is not None:
                # (the paid images still in flight are waited for, as at a Ctrl-C)
                self._grace_over(main, "Press Ctrl-C")
            return

    async def _wake_gate_on_stop(self) -> None:
        """At the stop, the scenes waiting in the budget gate for room stop waiting
        (`BudgetGate.wake`: they raise at its check); a stopped render's clip jobs are
        not settled, so they waited for the grace's end, after everything else had
        stopped."""
        await self._stop_event.wait()
        gate: BudgetGate | None = getattr(self, "gate", None)
        if gate is not None:
            await gate.wake()

    def _lock_run_dir(self, held: contextlib.ExitStack) -> None:
        """Take the run folder's lock (`RunLock`, held by `held`). With a rename to the new
        title pending: another render may have renamed the folder since `_follow_title`
        looked, before or even while this one took the lock (the lock made the old folder
        again, empty): the run is followed there, not started from nothing in it."""
        if not self.run_dir.is_absolute() and cwd_gone():
            # `outputs/<title>` in a working folder removed since: a FileNotFoundError
            # traceback (os.getcwd) where doctor's output dir row says why
            raise RunDirError(f"{self.run_dir}: cannot be used ({CWD_GONE})")
        while True:
            if self._rename_to is not None and not (self.run_dir / "run.db").is_file():
                self.run_dir, self._rename_to = self._rename_to, None
            self._made_dirs = _missing_folders(self.run_dir)
            _prepare_run_dir(self.run_dir, given=self._out_given)
            self._run_lock = held.enter_context(RunLock(self.run_dir))
            self._held_dir = held.enter_context(HeldFolder(self.run_dir))
            if self._rename_to is None or (self.run_dir / "run.db").is_file():
                return
            held.pop_all().close()  # renamed meanwhile: let go of the old folder's lock
            with contextlib.suppress(OSError):
                (self.run_dir / ".lock").unlink()
                self.run_dir.rmdir()

    def _stop_orphan_encoders(self) -> None:
        """Stop the ffmpeg encoders a render of this run killed outright left running
        (`media.kill_orphans`), before this one cleans up their files and composes again
        beside them, and say so: they had run on for minutes."""
        from mindmovie.media import kill_orphans

        assert self._run_lock is not None
        dead = self._run_lock.last_pid
        if dead == os.getpid():
            dead = self._pid_before  # the lock file was this render's look (`_follow_title`)
        killed = kill_orphans(self.run_dir, dead)
        if killed:
            n = len(killed)
            self.reporter.warn(
                f"stopped {n} ffmpeg process{'es' if n > 1 else ''} (pid "
                f"{', '.join(map(str, killed))}) that the killed render of this run "
                f"(pid {dead}) had left running"
            )

    def _follow_title(self) -> None:
        """The title changed since the last render: its run folder is to be renamed to the
        new title's, so the run (plan, keyframes, clips: everything paid for) goes on
        there. Only checked here; the rename waits for the spend question
        (`_rename_to_title`): renamed before it, a person who declined found the folder
        renamed for a render that never happened. If it cannot be renamed (another render
        in it, a folder of that name exists), the render goes on in the old folder and
        says so."""
        old, new = self.run_dir, self._home
        why, gone, carried = "", False, False
        try:
            with RunLock(old) as looked:
                # (this look writes this render's pid in the lock file: the lock taken
                # next reads it, not the render before, whose encoders it stops)
                self._pid_before = looked.last_pid
                if not (old / "run.db").is_file():
                    # another render renamed it meanwhile (this lock made the folder again,
                    # empty): the run is in `new` now, and goes on there, not from nothing
                    gone = True
                elif new.exists():
                    why = f"{new} exists"
                elif renamed_by_hand(old):
                    carried = self._carry_run(old, new)
        except RunLocked:
            raise
        except (OSError, RunDirError) as e:
            why = getattr(e, "strerror", None) or str(e)
        if carried:
            self.run_dir = new
            return
        if gone:
            with contextlib.suppress(OSError):
                (old / ".lock").unlink()
                old.rmdir()
            self.run_dir = new
            return
        if why:
            self._title_not_followed(new, why)
            return
        self._rename_to = new

    def _carry_run(self, old: Path, new: Path) -> bool:
        """`old`, a run folder the person renamed (`renamed_by_hand`: `mv outputs/my-movie
        outputs/keep-v1`, the title unchanged), copied to `new`, the title's folder, where
        the render goes on: it was renamed back to the title's and its movie composed
        over, said as "the title changed" (it had not). Copied whole but previous/ (old
        runs no render needs), run.db by SQLite's backup (its journal in it), into a
        hidden folder renamed `new` once complete. False, nothing left behind, when it
        cannot be (a full disk): the render goes on in `old`, saying so."""
        part = new.parent / f".{new.name}.carrying-{os.getpid()}"
        skip = {".lock", "run.db", "run.db-wal", "run.db-shm", "previous"}
        try:
            shutil.copytree(
                old, part, ignore=lambda d, names: skip & set(names) if d == str(old) else set()
            )
            src = sqlite3.connect(f"file:{old / 'run.db'}?mode=ro", uri=True)
            try:
                dst = sqlite3.connect(part / "run.db")
                try:
                    src.backup(dst)
                finally:
                    dst.close()
            finally:
                src.close()
            os.rename(part, new)
        except (OSError, sqlite3.Error) as e:
            shutil.rmtree(part, ignore_errors=True)
            self.reporter.warn(
                f"{old.name} is a run folder renamed by hand (its title's folder is "
                f"{new.name}); it could not be copied there ({getattr(e, 'strerror', None) or e}), "
                f"so this render goes on in {old}, and replaces its movie.mp4"
            )
            return False
        self.reporter.warn(
            f"{old.name} is a run folder renamed by hand (the title's folder is {new.name}): "
            f"left as it is, its movie.mp4 too; its run is copied into {new}, where this "
            "render goes on, so nothing made is made or bought again"
        )
        return True

    def _rename_to_title(self, store: Store, fresh_aside: Path | None = None) -> None:
        """The spend is agreed to (or nothing is paid): rename the run folder to the new
        title's (`_follow_title` checked it could be). Under this render's lock, whose
        file moves with the folder, so a render of the new title meets the same lock.
        `fresh_aside`: the previous/<time>/ this render's --fresh set the old run aside
        in, named in the old folder by `_set_aside`'s warning: said where it is now (it
        moved with the folder), and nothing is said reused of a run made again."""
        new, self._rename_to = self._rename_to, None
        if new is None:
            return
        old = self.run_dir
        if new.exists():  # made since the check (os.rename would take an empty one)
            self._title_not_followed(new, f"{new} exists")
            return
        store.close()
        why = ""
        try:
            os.rename(old, new)
        except OSError as e:
            why = e.strerror or str(e)
        else:
            self.run_dir = new
            if self._held_dir is not None:
                self._held_dir.move(new)
        store.reopen(self.run_dir / "run.db")
        if why:
            self._title_not_followed(new, why)
            return
        if fresh_aside is not None:
            with contextlib.suppress(ValueError):
                fresh_aside = new / fresh_aside.relative_to(old)
            self.reporter.warn(
                f"the title changed since the last render: its run folder {old.name} is "
                f"now {new.name}; the previous run --fresh set aside is in {fresh_aside}"
            )
            return
        self.reporter.warn(
            f"the title changed since the last render: its run folder {old.name} is now "
            f"{new.name}, and everything made for it is reused"
        )

    def _title_not_followed(self, new: Path, why: str) -> None:
        self.reporter.warn(
            f"the title changed since the last render; going on in {self.run_dir} "
            f"(could not rename it to {new.name}: {why})"
        )

    def _set_aside(self) -> None:
        """--fresh: move the old run into previous/<time>/ (paid work is never deleted).

        Only what a run writes moves: anything else a person put in the folder stays.
        """
        names = [p for p in self.run_dir.iterdir() if _run_entry(p.name)]
        # run.db last: a kill midway leaves a folder that is still recognisably a run's
        names.sort(key=lambda p: p.name.startswith("run.db"))
        dest = self._move_aside(names, mark=True)
        if dest is not None:
            self._fresh_moved = (dest, [p.name for p in names])
            # a warning, shown with --quiet too: where the old run's (paid) work went
            self.reporter.warn(f"--fresh: the previous run was moved to {dest}")
            if edits := _plan_hand_edited(dest):
                # a new plan is made from goals.yaml alone: the edits went without a word
                # (a goals.yaml edit carries them, or names those it cannot: first-user audit)
                self.reporter.warn(
                    f"--fresh: your edits to plan.yaml ({some_named(edits)}) are not in the "
                    "new plan, which is made from goals.yaml alone; they are in "
                    f"{dest / 'plan.yaml'} (copy what you want into the new plan.yaml, then "
                    "render again)"
                )

    def _carry_fresh_jobs(self, store: Store, dest: Path) -> list[tuple[int, int]]:
        """`render --fresh` agreed to: the clip jobs still in flight in the run it set
        aside in `dest` (committed rows with a job id; a run killed mid-job) go on this
        run's ledger (`Store.ledger_carry`), with where and what from they were made. In
        the set-aside run.db no render polled them again: their clips, paid for, were
        never downloaded nor their bills recorded, and the fresh run bought the same
        clips again. Here a scene asking for the same inputs takes its job
        (`_unwanted_job`), and any other is billed unused with its clip kept
        (`_settle_stale_jobs`); `_settle_carry_notes` marks the set-aside rows. Returns
        (set-aside row, new row) pairs; [] when the set-aside run.db cannot be read (as before): all
        of it is read before anything is carried, and a ledger damaged by hand (which
        every render of that run refuses: `Store._usage`, `Store._money`) stopped the
        fresh run too, at every try, so a person could not leave the damaged run."""
        db = dest / "run.db"
        if not db.is_file():
            return []
        found: list[tuple[dict[str, Any], dict[str, str] | None, tuple[str, float] | None]]
        try:
            old = Store(db)
            try:
                self._take_aside_receipts(old)
                found = [
                    (r, old.job_origin(int(r["id"])), old.job_input(int(r["id"])))
                    for r in _carried_rows(old)
                ]
                outputs = recorded_outputs(old) if found else ()
            finally:
                old.close()
        except (StoreError, sqlite3.Error, OSError) as e:
            if isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE):
                # a limit met, not a run.db that cannot be read: stopped before --fresh
                # is agreed to for good, the next render puts the old run back and its
                # jobs are polled (carried over nothing, they were left unpolled)
                raise
            self.reporter.warn(
                f"--fresh: the clip jobs still in flight in {db} (if any) could not be "
                f"carried into this run ({e}); that ledger still counts them"
            )
            return []
        carried: list[tuple[int, int]] = []
        for r, origin, job_input in found:
            new = store.ledger_carry(
                r, origin=origin, job_input=job_input, carried_from=str(db.absolute())
            )
            carried.append((int(r["id"]), new))
        if outputs:
            # a job's recorded inputs may hold the fps and frame size of the old run's
            # renders (its key until 2026-12-04): looked up at those too (`_outputs_before`)
            self._outputs_then = recorded_outputs(store, *self._outputs_recorded(store), *outputs)
            dumped = [o.model_dump(mode="json") for o in self._outputs_then]
            store.set_meta(OUTPUTS_META, json.dumps(dumped))
        if carried:
            self.reporter.warn(
                f"--fresh: {len(carried)} clip job(s) of the previous run still in flight "
                "(paid for) are carried into this run: a scene asking for the same inputs "
                "takes its job, any other is billed unused and its clip kept"
            )
        return carried

    async def _find_aside_orphan_job(self, video: VideoModel, dest: Path) -> None:
        """`render --fresh`, before its spend question: a clip create in flight when the
        run it set aside in `dest` stopped (a committed row with no job id: a Seedance
        create answered, its task id not journaled, or one whose answer was lost) is
        looked for in the provider's job list, as a resume of that run does
        (`_recover_orphans`), and the job found goes on its row there (and on its step,
        when that still asks for it: what a resume writes, so a run put back, the fresh
        render declined, keeps it). The row is
        then carried with the other jobs in flight (`_carry_fresh_jobs`) and the scene
        asking for the same inputs takes it. Before, only jobs with an id were carried:
        the row was marked of unknown outcome (`_report_aside_orphans`) and the fresh
        run paid a second job for the clip. Only one such row of this provider and model
        made where this render asks: several cannot be told apart (the list shows no
        prompts), and those, or one whose job is not listed, are left as before."""
        db = dest / "run.db"
        if not registry.lists_jobs(video.name) or not db.is_file():
            return
        try:
            old = Store(db)
        except (StoreError, sqlite3.Error, OSError):
            return  # (`_carry_fresh_jobs` says it cannot be read)
        try:
            rows = [
                r
                for r in old.ledger_rows()
                if r["stage"] == "clip"
                and r["state"] == "committed"
                and not r["remote_id"]
                and r["provider"] == video.name
                and r["model"] == video.model
                and not (r["usage"] or {}).get("unknown_outcome")
            ]
            if len(rows) != 1:
                return
            (r,) = rows
            then = old.job_origin(int(r["id"]))
            if then is not None and self._origin_changes_in(old, then, video.name):
                return  # made elsewhere: its job is not listed where this render asks
            # a list that cannot be read (its retries given up) is not caught: the
            # render stops before its question and `_undo_fresh` puts the old run back,
            # as a resume stops (`_recover_orphans`); going on would buy the clip anew
            # while this create's task may bill
            jobs = await self._unjournaled_jobs(old, video, _row_made_at(r) - 60)
            if not jobs:
                return
            rid = str(_nearest_first(jobs, _lost_sent_at(r))[0].remote_id)
            if _still_asks(old, r):
                old.mark_submitted(str(r["scene_id"]), "clip", rid, ledger_row=int(r["id"]))
            else:
                old.ledger_set_remote(int(r["id"]), rid)
        except (StoreError, sqlite3.Error, OSError):
            return  # (damaged by hand: nothing is carried from it either)
        finally:
            old.close()
        self.reporter.info(
            f"{r['scene_id']}: found job {rid}, sent just before the previous run stopped; "
            "it is carried into this run instead of paying again"
        )

    def _report_aside_orphans(self, dest: Path) -> None:
        """The paid calls in flight when the run `render --fresh` set aside in `dest`
        stopped (committed rows with no job id: a Veo create killed before its name was
        journaled, an image or plan call killed mid-answer) are marked there as of
        unknown outcome, and said, as a resume of that run says them
        (`_recover_orphans`). Set aside for good, that run is rendered no more: they were
        left committed without a word, the operation made and billed at the provider in
        no ledger's word, and `status` of the set-aside run counted them in flight."""
        db = dest / "run.db"
        if not db.is_file():
            return
        try:
            old = Store(db)
            try:
                for r in old.ledger_rows():
                    if (
                        r["state"] != "committed"
                        or r["remote_id"]
                        or (r["usage"] or {}).get("unknown_outcome")
                    ):
                        continue
                    old.ledger_mark_unknown(int(r["id"]))
                    self.reporter.warn(
                        _unknown_outcome_line(r, "previous")
                        + f" It stays counted as committed in that run's ledger ({db})"
                    )
            finally:
                old.close()
        except (StoreError, sqlite3.Error, OSError) as e:
            self.reporter.warn(
                f"--fresh: the calls in flight when the previous run stopped (if any) could "
                f"not be looked at in {db} ({e}); that ledger still counts them"
            )

    def _take_aside_receipts(self, old: Store) -> None:
        """The receipts of the run `render --fresh` set aside (`old`, opened for writing)
        taken up in its run.db before its jobs are carried (`_carried_rows`), as the
        spend question's read-only copy took them: a clip job whose id only a receipt
        held is carried. One that cannot be (its run.db still at the limit) stays in
        its receipt, said, for a render of that run; the other jobs are carried."""
        try:
            old.take_receipts()
        except (StoreError, sqlite3.Error, OSError) as e:
            if isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE):
                raise  # the limit: the render stops, the old run put back (as the carry)
            self.reporter.warn(
                f"--fresh: a paid answer {old.path} could not record, described under "
                f"{old.root / KEPT_DIR / RECEIPTS_DIR}, could not be taken up there ({e}); "
                "a clip job it holds is not carried into this run"
            )

    def _fresh_carry_held(self) -> float:
        """`render --fresh`, before its spend question: what the clip jobs
        `_carry_fresh_jobs` will carry into this run hold (`Store.ledger_totals` counts
        them here once carried, the budget gate with them). The question said nothing of
        them ("budget $X", none spent) and the budget check left them out: a render let
        through stopped at its first paid call, the old run set aside. 0.0 when no run
        was set aside or its run.db cannot be read (then nothing is carried either)."""
        return sum(float(r.get("held_usd") or r["estimated_usd"]) for r, _ in self._fresh_carried())

    def _fresh_carried(self) -> list[tuple[dict[str, Any], tuple[str, float] | None]]:
        """The rows (and recorded job inputs) `_carry_fresh_jobs` will carry from the run
        this `render --fresh` set aside, read before its spend question; [] when none
        was set aside or its run.db cannot be read (then nothing is carried either)."""
        if self._fresh_moved is None:
            return []
        return fresh_carried(self._fresh_moved[0] / "run.db")

    def _fresh_carry_covers(
        self,
        est: costs.RunEstimate,
        rows: list[tuple[dict[str, Any], tuple[str, float] | None]] | None = None,
    ) -> float:
        """The most the clip jobs this `render --fresh` carries may save of `est`
        (`RunEstimate.carried_may_cover`): each job, of this video provider and made
        for a clip of its length, may be taken by one scene whose clip is to be bought
        (its own scene first), if that scene's new inputs come out as the job's. The
        question counted those clips bought, and said nothing of the jobs: after a
        second `render --fresh` killed mid-job the person was asked to pay for clips
        that the render then took from the jobs already paid. `rows`: the carried rows
        (`fresh_carried`) when no run was set aside yet (doctor's `estimate_for(fresh=)`)."""
        video = self.settings.stage_provider("video")
        spec = costs.stage_spec(self.settings, "video")
        open_ = {s.scene_id: s for s in est.scenes if s.video.payable}
        # a plan still to be made by a paid planner: each scene is priced at
        # plan.scene_seconds, and the clip lengths the planner picks are not known, so
        # a job fits any scene and may save a clip of its own length. A job of 4 s was
        # counted as saving nothing against scenes priced at 5 s, and was taken
        unplanned = est.planner is not None and est.planner.payable
        covered = 0.0
        for r, made in self._fresh_carried() if rows is None else rows:
            if r["provider"] != video or made is None:
                continue
            if spec is not None and r["model"] != spec.id:
                # made by another video model: no clip of this render is keyed as it
                # (the model is in the clip's input key), so it is never taken here
                continue
            if (r["usage"] or {}).get("let_go"):
                continue  # let go of by the person: `_unheld_job` never takes it
            fits = [s for s in open_.values() if unplanned or abs(s.seconds - made[1]) < 1e-6]
            fits.sort(key=lambda s: (s.scene_id != r["scene_id"], -s.video.usd))
            if fits:
                own = costs.estimate_video(self.settings, made[1]).usd if unplanned else 0.0
                covered += own or fits[0].video.usd
                del open_[fits[0].scene_id]
        return covered

    def _unheld_paid_clips(
        self,
        store: Store,
        plan_ids: Collection[str],
        taken: Collection[str] = (),
        used_shas: Collection[str] = (),
    ) -> list[tuple[dict[str, Any], tuple[str, float]]]:
        """The clips already paid for in this run that no scene of `plan_ids` holds, with
        the (input key, seconds) each was made for: a job in flight (as `_unheld_job`
        would take it: committed, of this video provider, made where this render asks,
        not let go of, not in `taken`) or one finished and kept in kept/ (billed, its clip
        there, not the clip a scene uses now, nor one of `used_shas`). A scene whose
        keyframe, not made yet, comes out asking for the very clip takes it. Reads only
        `store`."""
        video = self.settings.stage_provider("video")
        spec = costs.stage_spec(self.settings, "video")
        if video == "local" or spec is None:
            return []
        steps = store.steps()
        held = {st.remote_id for st in steps if st.remote_id and st.scene_id in plan_ids}
        used = {
            *(st.sha256 for st in steps if st.stage == "clip" and st.status == "succeeded"),
            *used_shas,
        }
        kept_keys: set[str] = set()
        rows: list[tuple[dict[str, Any], tuple[str, float]]] = []
        for r in store.ledger_rows():
            if r["stage"] != "clip" or r["provider"] != video or not r["remote_id"]:
                continue
            if r["model"] != spec.id:
                # another video model's: no clip of this render is keyed as it (the model
                # is in the clip's key), so it is never taken here
                continue
            if r["state"] == "committed":
                made = self._free_job(store, r, video, {*held, *taken})
            elif r["state"] == "billed" and not (r["usage"] or {}).get("let_go"):
                made = store.job_input(int(r["id"]))
                found = None if made is None else store.find_kept("clip", made[0])
                if (
                    made is None
                    or made[0] in kept_keys
                    or found is None
                    or found[1] in used
                    or KEPT_DIR not in found[0].parts
                ):
                    continue
                kept_keys.add(made[0])
            else:
                continue
            if made is not None:
                rows.append((r, made))
        return rows

    def _unheld_clips_note(
        self, store: Store, est: costs.RunEstimate, look: Outlook
    ) -> tuple[str, ...]:
        """A note of what `est` may not spend: the clips `_unheld_paid_clips` finds made
        for a scene whose clip `est` buys, of its length: that scene takes it if its
        keyframe, not made yet, comes out as the one the clip was made from (its own
        scene only: another's asks for a clip of another keyframe). Not taken off the
        total (never under), and the budget gate keeps room for the clip all the same
        (`_clip_earmark`: the keyframe may come out otherwise). After a `render --fresh`
        the budget stopped before its keyframes, the next render's estimate counted the
        carried job's clip bought again and said nothing: the render took the job and
        spent that much less. Reads only `store`."""
        open_ = {s.scene_id: s for s in est.scenes if s.video.payable}
        if not open_:
            return ()
        plan_ids = {s.scene_id for s in est.scenes}
        covered: dict[str, float] = {}
        for r, (_, seconds) in self._unheld_paid_clips(
            # (and not a kept clip a scene's clip is put back from)
            store,
            plan_ids,
            taken=set(look.jobs.values()),
            used_shas=set(look.clips.values()),
        ):
            sid = str(r["scene_id"])
            if sid not in open_ or sid in covered or abs(open_[sid].seconds - seconds) > 1e-6:
                continue
            covered[sid] = open_[sid].video.usd
        if not covered:
            return ()
        return (
            f"up to {costs.format_usd(sum(covered.values()))} of the total may not be spent: "
            f"{plural(len(covered), 'clip')} already paid for in this run (a job in flight "
            "or a clip kept, of the run `render --fresh` set aside or an earlier render) "
            f"that no scene holds yet, made for {some_named(sorted(covered))}: such a scene "
            "whose keyframe comes out as the one the clip was made from takes it instead of "
            "buying one (known once its keyframe is made)",
        )

    def _settle_carry_notes(self, store: Store, dest: Path | None) -> None:
        """The set-aside rows the clip jobs `_carry_fresh_jobs` carried into this run came
        from say where they went and count nothing there (`Store.ledger_carried_away`):
        one job, one ledger's count. Done once the fresh run is agreed to for good
        (FRESH_META cleared), and by the next render when one was killed in between
        (`CARRY_MARKED_META` unset): the rows stayed committed there for good, counted
        in both ledgers. `dest`: the run this `render --fresh` set aside; the rows it
        had itself been carried from now name where it went (`_repoint_carried`)."""
        if not store.get_meta(CARRY_MARKED_META):
            came = store.carried_in()
            done = self._mark_came(store, self.run_dir / "run.db", came)
            # the runs those jobs came from, and the one this --fresh set aside: one
            # killed before it marked its own notes (`fresh_kept`) and set aside then
            # (the same `render --fresh` run again) is rendered no more, and the rows its
            # jobs came from stayed committed for good, each job billed here too
            asides = {self._set_aside_db(src) for _, src, _ in came}
            if dest is not None:
                asides.add(dest / "run.db")
            for db in sorted(asides):
                done = self._settle_aside_notes(db) and done
            if done and (came or dest is not None):
                store.set_meta(CARRY_MARKED_META, "1")
        if dest is None or not (dest / "run.db").is_file():
            return
        killpoint("fresh_marked")  # the rows it came from not yet pointed on
        try:
            aside = Store(dest / "run.db", read_only=True)
            try:
                before = aside.carried_in()
            finally:
                aside.close()
        except (StoreError, sqlite3.Error, OSError):
            return  # (its jobs were not carried either: `_carry_fresh_jobs`)
        self._repoint_carried(
            [(src, srow) for _, src, srow in before],
            str((self.run_dir / "run.db").absolute()),
            str((dest / "run.db").absolute()),
        )

    def _mark_came(self, store: Store, here: Path, came: list[tuple[int, str, int]]) -> bool:
        """Marks the set-aside rows `came` (`store.carried_in()`) carried into `store`, the
        run at `here` (`Store.ledger_carried_away`); False when one could not be."""
        if not came:
            return True
        jobs = {int(r["id"]): r["remote_id"] for r in store.ledger_rows()}
        done = True
        for row, src, srow in came:
            job, db = jobs.get(row), self._set_aside_db(src)
            if not job or not db.is_file():
                continue  # (deleted by hand: nothing to mark)
            try:
                old = Store(db)
                try:
                    old.ledger_carried_away(srow, str(here.absolute()), row, str(job))
                finally:
                    old.close()
            except (StoreError, sqlite3.Error, OSError) as e:
                done = False
                # (counted in both ledgers: over, never under; this run settles it)
                self.reporter.warn(
                    f"--fresh: could not note in {db} that its job {job} was carried "
                    f"here ({e}); its ledger still counts it"
                )
        return done

    def _settle_aside_notes(self, db: Path) -> bool:
        """`_settle_carry_notes` for the set-aside run at `db`, when it had not done its
        own (killed between its carry and its marks): False when it could not."""
        if not db.is_file():
            return True
        try:
            aside = Store(db)
            try:
                if aside.get_meta(CARRY_MARKED_META):
                    return True
                if self._mark_came(aside, db, aside.carried_in()):
                    aside.set_meta(CARRY_MARKED_META, "1")
                    return True
                return False
            finally:
                aside.close()
        except (StoreError, sqlite3.Error, OSError) as e:
            self.reporter.warn(f"--fresh: could not read the carry notes of {db} ({e})")
            return False

    def _set_aside_db(self, noted: str) -> Path:
        """The set-aside run.db a carry note names (`Store.carried_in`: the absolute path
        it had when written), or, when the run folder was moved or renamed since (by
        hand, or to a new title: `_rename_to_title`), the same previous/<time>/run.db
        of this run folder: a note not found was taken for a run deleted, and a row
        there never marked stayed committed for good, its job billed here too."""
        db = Path(noted)
        if db.is_file() or len(db.parts) < 3 or db.parts[-3] != "previous":
            return db
        top = self.run_dir
        if top.parent.name == "previous":  # (this run is itself a set-aside one)
            top = top.parent.parent
        return top / "previous" / db.parts[-2] / db.name

    def _repoint_carried(self, came: list[tuple[str, int]], was: str, now: str) -> None:
        """Run B, which took clip jobs an earlier `render --fresh` carried from run A, is
        set aside in turn (from `was`, this run folder's run.db, to `now`): A's rows said
        `carried_to` `was`, which is this fresh run from here on, not B, that took them
        (and a row number of B's, which here holds another job or none). They now name
        B where it went. Only a pointer: no money moves, and one not fixed (a kill
        before, A unreadable) stays as it was, with a warning for the latter. With the
        run folder moved or renamed since A's rows were marked, they name its run.db
        where it was then, next to the previous/ A was noted in."""
        for src, row in came:
            db = self._set_aside_db(src)
            if not db.is_file():
                continue  # (deleted by hand: nothing to point)
            names = (was, str(Path(src).parents[2] / "run.db")) if db != Path(src) else was
            try:
                prior = Store(db)
                try:
                    prior.ledger_carried_moved(row, names, now)
                finally:
                    prior.close()
            except (StoreError, sqlite3.Error, OSError) as e:
                self.reporter.warn(
                    f"--fresh: could not note in {db} that the run its job (row {row}) "
                    f"was carried to is now at {now} ({e})"
                )

    def _undo_fresh(self) -> None:
        """--fresh, and the render stopped before the spend was agreed to (declined,
        Ctrl-C at the question, an error before it): nothing was spent, so the old run
        goes back where it was (its run.db last, as it left), replacing the new empty
        run.db. Left in previous/, the next render without --fresh started a new run and
        bought its keyframes and clips again. An entry whose place was taken meanwhile
        stays in previous/ (nothing is written over)."""
        if self._fresh_moved is None:
            return
        dest, names = self._fresh_moved
        self._fresh_moved = None
        if self._put_back(dest, names):
            self.reporter.warn("--fresh: nothing was spent, so the previous run was put back")

    def _put_back_killed_fresh(self) -> None:
        """A `render --fresh` killed at its spend question (or before it) left the old run
        in previous/ and a new run.db that says so (FRESH_META): nothing was agreed to or
        spent, so the old run goes back first, as if that render had been declined."""
        db = self.run_dir / "run.db"
        pending = None
        if db.is_file() and not journal_missing(db):  # opening an empty one fills it
            try:
                store = Store(db)
            except StoreError:
                return  # the render's own open says what is wrong with it
            try:
                pending = store.get_meta(FRESH_META)
            finally:
                store.close()
        if not pending:
            self._put_back_moving_fresh(db)
            return
        try:
            data = json.loads(pending)
            dest, names = Path(data["dest"]), [str(n) for n in data["names"]]
        except (ValueError, KeyError, TypeError):
            return
        if dest.is_dir() and self._put_back(dest, names):
            self.reporter.warn(
                f"a render --fresh was stopped at its spend question, after moving the "
                f"previous run to {dest}; nothing was spent, so it was put back"
            )

    def _put_back_moving_fresh(self, db: Path) -> None:
        """A `render --fresh` killed after it began moving the run aside and before its
        new run.db (with FRESH_META) was committed (`moving_fresh`): the run goes back,
        as if declined; a new run.db left empty goes."""
        found = moving_fresh(self.run_dir)
        if found is None:
            return
        dest, names = found
        if journal_missing(db):
            for name in JOURNAL_FILES:
                (self.run_dir / name).unlink(missing_ok=True)
        if self._put_back(dest, names, journal=False):
            self.reporter.warn(
                f"a render --fresh was stopped as it moved the previous run to {dest}; "
                "nothing was spent, so it was put back"
            )

    def _put_back(self, dest: Path, names: list[str], *, journal: bool = True) -> bool:
        """Move `names` from `dest` back into the run folder in place of its new run.db
        (`journal`: removed first); True when `dest` is then gone (everything went back)."""
        if journal:
            for name in JOURNAL_FILES:
                (self.run_dir / name).unlink(missing_ok=True)
        for name in names:
            if (dest / name).exists() and not (self.run_dir / name).exists():
                shutil.move(dest / name, self.run_dir / name)  # (`_move_aside`)
        (dest / FRESH_MOVING).unlink(missing_ok=True)  # all of it back: no longer moving
        with contextlib.suppress(OSError):  # not empty: something stays there
            dest.rmdir()
            dest.parent.rmdir()
        return not dest.exists()

    def _unjournaled_entries(self) -> list[Path]:
        """No run.db (moved away when damaged, as its message says, or deleted) in a folder
        that holds a run's keyframes, clips or movie: the entries `_set_aside_unjournaled`
        moves ([] when there is nothing made to lose, e.g. after `plan`). Not plan.yaml
        (`_plan` keeps it as plan.previous.yaml when it plans again) nor its earlier
        copies, nor the new run.db this render journals in."""
        names = [
            p
            for p in self.run_dir.iterdir()
            if _run_entry(p.name)
            and p.name != "plan.yaml"
            and not p.name.startswith("plan.previous.")
            and not p.name.startswith("run.db")
            and not (p.name.startswith(".") and ".tmp" in p.name)
        ]
        if not any(p.name in ("scenes", "kept", "movie.mp4") for p in names):
            return []
        return names

    def _set_aside_unjournaled(self, store: Store) -> None:
        """The new journal cannot vouch for the files `_unjournaled_entries` names, and the
        render would write its new files over them (paid ones lost): they move into
        previous/<time>/ as with --fresh. Called once the spend is agreed to: a person
        who declines finds the folder as it was."""
        dest = self._move_aside(self._unjournaled_entries())
        self._aside_pending = False
        store.set_meta(ASIDE_META, "")
        if dest is not None:
            self.reporter.warn(
                "run.db is missing or empty, so the keyframes, clips and movie in this folder "
                f"cannot be checked: they were moved to {dest} (nothing is deleted) and this "
                "render makes them again"
            )

    def _move_aside(self, names: list[Path], *, mark: bool = False) -> Path | None:
        """Move `names` (in this order) into a new previous/<time>/; return it. `mark`
        (--fresh): FRESH_MOVING is written there first, naming them."""
        if not names:
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = self.run_dir / "previous" / stamp
        n = 1
        while dest.exists():  # a --fresh within the same second: never mix two runs
            n += 1
            dest = dest.with_name(f"{stamp}-{n}")
        make_dirs(dest.parent)
        dest.mkdir()
        if mark:
            atomic_write_text(dest / FRESH_MOVING, json.dumps([p.name for p in names]))
        for p in names:
            # (previous/ may be a link to another disk: os.replace failed there, "Invalid
            # cross-device link", a traceback; shutil.move copies then, as `_keep_changed`)
            shutil.move(p, dest / p.name)
        return dest

    GRACE_SECONDS = 5.0
    #: a stop signal the loop has not taken up after this long is said to be unheard
    UNHEARD_SECONDS = 2.0

    def _install_sigint(self) -> None:
        """First Ctrl-C: stop new work, let in-flight calls land for a few seconds, exit.
        Second Ctrl-C: exit at once (the store is transactional, so that is safe too).

        A Python-level handler (`signal.signal`), not the loop's `add_signal_handler`:
        the loop's runs only when the loop does, so while the loop's thread was blocked
        in a synchronous call (a read that never returns) every Ctrl-C and SIGTERM was
        queued unseen, and even the second did not end the process. This one runs in
        the main thread at the interrupted call, counts the signal, and hands the
        graceful stop to the loop (`call_soon_threadsafe`); the second exits there.

        The handler starts no thread and takes no lock: it runs between two bytecodes of
        the main thread, which may hold a lock at that moment (threading's own, taken to
        start a thread: `asyncio.to_thread`'s workers), and a handler waiting on it never
        returned. The "cannot stop gracefully" warning, a `threading.Timer` it started,
        is said by a watcher thread started here, which the handler wakes by writing the
        signal's number to a pipe (`os.write`, safe in a signal handler)."""
        loop = asyncio.get_running_loop()
        main = asyncio.current_task()
        seen = [0]
        # a render whose providers are all local (the default) sends nothing paid: its
        # stop talked of calls, jobs and payment all the same
        paid = self._paid()
        quit_line = QUIT_AT_ONCE if paid else QUIT_AT_ONCE_FREE
        fresh_quit_line = quit_line.replace(SAME_COMMAND.encode(), WITHOUT_FRESH.encode())

        def on_sigint(signum: int) -> None:
            if self._stopping:
                return
            self._stopping = True
            self._stop_signal = signum
            if self.finished is not None:
                # heard once the render had ended as done (the signal came while its last
                # step held the loop: the plan's storyboard): nothing is left to stop, and
                # "stopping: nothing new is sent" was followed by the result and exit 0
                return
            self._stop_event.set()
            again = "Press Ctrl-C again" if signum == signal.SIGINT else "Send it again"
            stopping = STOPPING if paid else STOPPING_FREE
            self.reporter.warn(
                f"{stopping.format(grace=f'{self.GRACE_SECONDS:.0f}')} {again} to quit at once."
            )
            if main is not None:
                # (then the paid images still in flight are waited for: `_grace_over`)
                self._grace_timer = loop.call_later(
                    self.GRACE_SECONDS, self._grace_over, main, again
                )

        def unheard(signum: int) -> None:
            if not self._stopping:  # the loop has not run since: it is blocked
                again = "Press Ctrl-C again" if signum == signal.SIGINT else "Send it again"
                with contextlib.suppress(OSError):
                    os.write(
                        2,
                        f"\nwarning: cannot stop gracefully: the render is blocked in a "
                        f"call that does not return. {again} to quit at once.\n".encode(),
                    )

        if threading.current_thread() is not threading.main_thread():
            self._sigint_installed = False  # (tests): signals go to the main thread only
            return
        read_fd, write_fd = os.pipe()
        done = threading.Event()

        def watch() -> None:
            try:
                while True:
                    got = os.read(read_fd, 16)
                    if not got or done.wait(self.UNHEARD_SECONDS):
                        return  # the handlers were removed
                    unheard(got[-1])
            finally:
                os.close(read_fd)

        from mindmovie.media import kill_running  # (not imported in the handler)

        def quit_at_once(signum: int, frame: object = None) -> None:
            # the last line: the stop's warning was, and a log ended there as if the
            # render had hung or been killed from outside
            with contextlib.suppress(OSError):
                os.write(2, fresh_quit_line if self.fresh_set_aside else quit_line)
            # os._exit runs no cleanup: the compose's encoders (and the audio pass's
            # ffmpeg) ran on as orphans, writing for minutes after the render ended
            kill_running()
            os._exit(128 + signum)

        def handler(signum: int, frame: object) -> None:
            self._signalled = True
            seen[0] += 1
            if seen[0] > 1:
                quit_at_once(signum)
            loop.call_soon_threadsafe(on_sigint, signum)
            with contextlib.suppress(OSError):
                os.write(write_fd, bytes([signum]))

        watcher = threading.Thread(target=watch, name="mindmovie-unheard", daemon=True)
        watcher.start()
        self._watcher = (watcher, done, write_fd)
        # SIGTERM (kill, timeout, systemd, docker stop) and SIGHUP (the terminal or ssh
        # session closed) stop the same way: they killed the process at once, with no
        # resume line, and left the compose's ffmpeg encoders running on as orphans.
        # Not a signal the render was started ignoring (`nohup`: SIGHUP; a script's
        # background job: SIGINT): it was told to go on through it, and stopped there
        self._before_signals = {
            sig: signal.signal(sig, handler)
            for sig in STOP_SIGNALS
            if signal.getsignal(sig) != signal.SIG_IGN
        }
        # SIGQUIT (Ctrl-\, `kill -QUIT`): quits at once, as a second stop does; its
        # default dumped core with the compose's encoders left running on
        self._before_signals |= {
            sig: signal.signal(sig, quit_at_once)
            for sig in QUIT_SIGNALS
            if signal.getsignal(sig) != signal.SIG_IGN
        }
        self._sigint_installed = True

    def _ask(self, est: costs.RunEstimate) -> bool:
        """`confirm`, with Ctrl-C interrupting it: the question blocks the event loop, so
        the loop's SIGINT handler never ran while it waited and Ctrl-C (pressed twice,
        too) did nothing at "Spend about $X? [y/N]". Python's own handler is in place
        while it is asked (the prompt turns Ctrl-C into its Abort), and SIGTERM and SIGHUP
        are taken as Ctrl-C too: with their defaults they killed the render at the
        question, without a word, and `--fresh` left the old run aside until the next
        render put it back."""
        assert self.confirm is not None
        killpoint("ask")  # a person closing the terminal at the question
        ours: dict[signal.Signals, Any] = {}
        if getattr(self, "_sigint_installed", False):
            for sig in self._before_signals:
                ours[sig] = signal.signal(sig, signal.default_int_handler)  # KeyboardInterrupt
        # a live view, started by then when the plan is asked about again, is taken off
        # the screen while the question is asked (`RichReporter.held`)
        held = getattr(self.reporter, "held", None)
        try:
            with held() if held is not None else contextlib.nullcontext():
                return self.confirm(est)
        finally:
            for sig, handler in ours.items():
                signal.signal(sig, handler)

    def _remove_sigint(self) -> None:
        if self._grace_timer is not None:
            # the render is over: left set, the timer cancelled the task that had awaited
            # the render (`main`) when it was not done, whatever that task did by then
            # (a program's next step; under Python 3.12 a caller's `wait_for`)
            self._grace_timer.cancel()
            self._grace_timer = None
        if getattr(self, "_sigint_installed", False):
            for sig, before in self._before_signals.items():
                # (None: set from outside Python; the default is the nearest to it)
                signal.signal(sig, signal.SIG_DFL if before is None else before)
            # the handler is no longer called (Python calls the one set now), so the
            # pipe it wrote to can close: the watcher reads its end and returns
            watcher, done, write_fd = self._watcher
            done.set()
            os.close(write_fd)
            watcher.join(timeout=5)
            self._sigint_installed = False

    async def _unjournaled_jobs(
        self, store: Store, video: VideoModel, since: float, model: str | None = None
    ) -> list[Any] | None:
        """Jobs of `model` (default: the run's) the provider lists as created since `since`
        (epoch s) that no step or ledger row knows; None when the provider cannot list its
        jobs."""
        finder = getattr(video, "find_pending", None)
        if finder is None:
            return None
        if model is not None and model != video.model:
            tasks = await with_retry(partial(finder, created_after=since, model=model))
        else:
            tasks = await with_retry(partial(finder, created_after=since))
        known = {x["remote_id"] for x in store.ledger_rows() if x["remote_id"]}
        known |= {st.remote_id for st in store.steps() if st.remote_id}
        known |= _noted_set_aside_jobs(store.get_meta(SET_ASIDE_JOBS_META))
        unknown = [t for t in tasks if str(t.remote_id) not in known]
        if unknown:
            others = await asyncio.to_thread(self._jobs_other_runs_know)
            unknown = [t for t in unknown if str(t.remote_id) not in others]
        return unknown

    def _jobs_other_runs_know(self) -> set[str]:
        """Job ids journaled by the other runs on this disk: those under output_dir and
        beside this run folder, and the runs `--fresh` set aside in their previous/.
        The provider's list shows every job of the account: another movie rendered the
        same day was "a job no row knows", taken for this run's lost request (put on
        its refunded row, billed unused here, or even made its scene's clip). Read as
        `status` reads, without writing anything there.

        Called off the event loop (`asyncio.to_thread`): it was run on it at every look
        at the job list of a late-job wait, with every scene's polls held meanwhile. A
        run.db is read again only when `_db_signature` says it changed since this
        render read it (another render journaling a job there, meanwhile)."""
        this = (self.run_dir / "run.db").absolute()
        folders: set[Path] = set()
        for parent in {Path(self.settings.output_dir), self.run_dir.absolute().parent}:
            try:
                folders |= {p for p in parent.iterdir() if p.is_dir() and not p.is_symlink()}
            except OSError:
                continue
        dbs: list[Path] = []
        for folder in folders:
            dbs.append(folder / "run.db")
            with contextlib.suppress(OSError):
                dbs += [p / "run.db" for p in (folder / "previous").iterdir()]
        known: set[str] = set()
        for db in dbs:
            try:
                if db.absolute() == this or not db.is_file() or db.is_symlink():
                    continue
                sig = _db_signature(db)
                seen = self._other_runs.get(db)
                if seen is not None and seen[0] == sig:
                    known |= seen[1]
                    continue
                ids = _journaled_jobs(db)
                self._other_runs[db] = (sig, frozenset(ids))
                known |= ids
            except (sqlite3.Error, OSError, ValueError):
                continue  # not a run, damaged, locked: it knows nothing we can read
        return known

    async def _lost_submission(
        self,
        store: Store,
        video: VideoModel,
        row: int | None,
        scene_id: str,
        sent_at: float,
        key: str,
        *,
        answered: bool = False,
        status: int | None = None,
    ) -> str | None:
        """The job a submit whose answer was lost created, if the provider shows it.
        `answered`: the service answered (HTTP `status`: a 500, or Ark's 503).

        Submissions are serialised per provider, and none is sent while a lost one is
        unsettled (`_wait_for_late_jobs`), so at most one job is unaccounted for: this
        request's. None means "not found": none listed yet (the row is noted lost, and
        the retry waits for its late job, up to LATE_JOB_GRACE, before sending again).
        A provider that cannot tell (lists no jobs: Veo) raises `AnswerLost`: the row
        stays committed with an unknown outcome and the scene fails, not sent again.
        """
        if row is None:
            return None
        try:
            jobs = await self._unjournaled_jobs(store, video, sent_at - 60)
        except Transient:
            # the look failed (its retries too), not the request: it is no less likely
            # to become a job. Forgotten here, the retry sent it again at once, and every
            # other scene's create went out, while its late job was still to come (paid
            # twice). Noted lost, the retry waits for it and looks again
            jobs = []
        if jobs:
            # one job: this request's. More (a second job made for it, a refunded
            # request's very late one, another client's): the one made nearest its
            # send is taken (`_nearest_first`), and the others are booked as made,
            # unused (`_book_extra_jobs`); before, the row was left unknown and the
            # request sent again, a third job paid
            jobs = _nearest_first(jobs, sent_at)
            took = str(jobs[0].remote_id)
            like = next(r for r in store.ledger_rows() if r["id"] == row)
            self._book_extra_jobs(store, video, like, jobs[1:])
            said = (
                "the answer to the job request carried no job id"
                if answered and status == 200
                else f"the service answered HTTP {status or 500} to the job request"
                if answered
                else "the answer to the job request was lost"
            )
            self.reporter.info(
                f"{scene_id}: {said}, but the job {took} exists; using it instead of paying again"
            )
            return took
        if jobs == []:
            # not refunded yet: a request that timed out may still be turned into a job
            # after this look (the provider was slow, not absent). It stays committed;
            # the retry waits for it (`_wait_for_late_jobs`), and so do the other scenes'
            # creates. If this run dies first, the next run's _recover_orphans looks.
            self._note_lost(row, sent_at)
            self._lost_requests[row] = (scene_id, key)
            if answered:  # a 500 (503): a job it made is listed at once, waited for briefly
                again = video.name in self._answered_empty
                self._lost_grace[row] = ANSWERED_AGAIN_GRACE if again else ANSWERED_GRACE
            store.ledger_note_lost(row, key, sent_at, grace=self._lost_grace.get(row))
            return None
        store.ledger_mark_unknown(row)
        # a 500 is the service's own answer, not a broken connection (Veo's create); so
        # is any HTTP status a lost answer came with (a 504 from a gateway was "the
        # connection broke")
        what = (
            "the service answered HTTP 200 to the job request with no job in the answer"
            if status == 200
            else f"the service answered HTTP {status or 500} to the job request"
            if answered or status
            else "the connection broke after the job request was sent"
        )
        # Not sent again by this render: a provider that lists no jobs (Veo) cannot show
        # the job this request may have made, and the retry sent it again at once, up to
        # 4 creates (4 jobs that bill) for one clip without a word to the person. The
        # scene fails; the next render's spend question says the request may bill and
        # that the clip would be bought again (`unfindable_notes`), before it is
        raise AnswerLost(
            f"{what}; {video.name} may have made (and will bill) that job, about "
            f"{costs.format_usd(self.store_row_estimate(row))}, and lists no jobs, so it "
            "cannot be found. Not sent again by this render, which could pay for it "
            "twice: it stays counted as spent, and `render` again asks again (its spend "
            "question says so first)",
            provider=video.name,
            scene_id=scene_id,
        )

    def _book_extra_jobs(
        self,
        store: Store,
        video: VideoModel,
        like: Mapping[str, Any],
        jobs: Collection[Any],
    ) -> None:
        """Jobs no row knows listed for ONE lost request (or one scene's rows) beyond
        the ones its rows take: a second job the provider made for the request, a
        refunded request's very late one, another client's. Which is which the list
        cannot tell (it shows no prompts), and each bills: each is put back on a
        refunded lost request's row it can be (made after that request was sent, the
        oldest first: `Store.ledger_reopen`, as `_find_jobs_made_after_refund` does),
        else on a row of its own for `like`'s scene (`Store.ledger_add_job`), unused;
        `_settle_stale_jobs` bills it. Before, the request's row was left with an
        unknown outcome, the clip was made again (a third job paid), and these jobs
        billed on no row.

        Called BEFORE the request's row takes its own job: each is its own transaction,
        and a kill after the row had its job left these on no row for good (no look
        was made again: nothing was left unsettled). Killed before, the row is still
        lost, and the next look sees every job again."""
        if not jobs:
            return
        now = time.time()
        model = str(like["model"])
        refunded = sorted(
            (
                r
                for r in store.ledger_rows()
                if r["stage"] == "clip"
                and r["provider"] == video.name
                and r["model"] == model
                and r["state"] == "refunded"
                and not r["remote_id"]
                and isinstance((r.get("usage") or {}).get("lost"), dict)
                and now - _lost_sent_at(r) < LATE_JOB_HORIZON
            ),
            key=lambda r: (_lost_sent_at(r), r["id"]),
        )
        for job in jobs:
            rid = str(job.remote_id)
            r = next((r for r in refunded if _lost_sent_at(r) - 60 <= job.created_at), None)
            if r is not None:
                refunded.remove(r)
                store.ledger_reopen(int(r["id"]), rid)
            else:
                store.ledger_add_job(
                    str(like["scene_id"]),
                    video.name,
                    model,
                    rid,
                    float(like["estimated_usd"]),
                    like.get("held_usd"),
                    origin=self._origin(video.name),  # listed here: made where we ask
                )
        ids = ", ".join(str(t.remote_id) for t in jobs)
        self.reporter.warn(
            f"{like['scene_id']}: {video.name} also lists job(s) {ids}, which no row knows, "
            "made after a job request of this scene whose answer was lost (a second job "
            "made for it, or another request's late one: the list cannot tell). They bill "
            f"(about {costs.format_usd(len(jobs) * float(like['estimated_usd']))}) and are "
            "counted, unused; no clip is bought again for them"
        )
        self.reporter.money(*store.ledger_split())

    async def _settle_lost_submissions(self, store: Store, video: VideoModel) -> None:
        """Submissions whose answer was lost and whose job was not listed at the time: look
        again now. A job that arrived late is tied to its row (and billed, unused, by
        _settle_stale_jobs); none is refunded. Rows of several requests take the late jobs
        in order when there are at least as many; one request's row takes the earliest of
        its jobs. Jobs beyond the rows are booked as made, unused (`_book_extra_jobs`),
        before any row takes its own, so a kill between leaves none on no row."""
        one_request = len(set(self._lost_requests.values())) == 1
        if len(self._lost_rows) > 1:
            first = min(self._lost_rows.values())
            try:
                late = await self._unjournaled_jobs(store, video, first - 60)
            except ProviderError:
                late = None
            n = len(self._lost_rows)
            if late is not None and (len(late) == n or (len(late) > n and not one_request)):
                late.sort(key=lambda t: (t.created_at, str(t.remote_id)))
                # more jobs than the rows of several requests: the others are booked as
                # made, unused, first (`_book_extra_jobs`). Before, each row was left
                # unknown for good (the look below cannot tell whose is whose) and the
                # jobs billed on no row. (One request's rows: the look below)
                lost = sorted(self._lost_rows)
                like = next(r for r in store.ledger_rows() if r["id"] == lost[-1])
                self._book_extra_jobs(store, video, like, late[len(lost) :])
                for row_id, job in zip(lost, late, strict=False):
                    store.ledger_set_remote(row_id, str(job.remote_id))
                self.reporter.warn(
                    f"{len(late)} job requests whose answers were lost did reach "
                    f"{video.name} after all: jobs "
                    f"{', '.join(str(t.remote_id) for t in late)} were made (and bill); "
                    "their results are not used"
                )
        # the rows are of one request (as `_wait_for_late_jobs` keeps them): more jobs
        # than it can take are booked as made, unused (`_book_extra_jobs`)
        for row_id, sent_at in sorted(self._lost_rows.items()):
            row = next((r for r in store.ledger_rows() if r["id"] == row_id), None)
            if row is None or row["state"] != "committed" or row["remote_id"]:
                continue
            try:
                jobs = await self._unjournaled_jobs(store, video, sent_at - 60)
            except ProviderError:
                continue  # left committed without an id: the next run's _recover_orphans
            if jobs and (len(jobs) == 1 or one_request):
                jobs = _nearest_first(jobs, sent_at)
                rid = str(jobs[0].remote_id)
                # booked before the row takes its job (`_book_extra_jobs`: a kill between)
                self._book_extra_jobs(store, video, row, jobs[1:])
                if _still_asks(store, row):
                    # the scene has no clip and no job yet (it failed, or this run
                    # stopped before its clip): the late job is its clip, not a bill for
                    # nothing; the next render polls it instead of paying again
                    store.mark_submitted(str(row["scene_id"]), "clip", rid, ledger_row=row_id)
                    self.reporter.warn(
                        f"{row['scene_id']}: a job request sent earlier did reach "
                        f"{video.name} after all: job {rid} was made (and bills); the next "
                        "render picks it up instead of paying again"
                    )
                    continue
                store.ledger_set_remote(row_id, rid)
                self.reporter.warn(
                    f"{row['scene_id']}: the job request whose answer was lost did reach "
                    f"{video.name} after all: job {rid} was made (and bills); its result is "
                    "not used"
                )
            elif jobs == [] and self._waited(row_id) >= self._grace(row_id):
                await self.gate.refund(
                    row_id,
                    "connection lost before the provider made a job",
                    lost=self._lost_note(row_id),
                )
            elif jobs == []:
                # too soon to tell: a short run looks before a slow provider makes the
                # job, and a refunded row's late job was then on no row at all. It stays
                # committed; the next render looks again (_recover_orphans) and gives a
                # late job to its scene, or refunds the row once the grace is over
                self.reporter.warn(
                    f"{row['scene_id']}: a job request whose answer was lost may still "
                    f"become a job at {video.name} (about "
                    f"{costs.format_usd(float(row['estimated_usd']))}); it stays counted as "
                    "committed, and the next render looks for it again"
                )
            else:
                store.ledger_mark_unknown(row_id)
        self._lost_rows.clear()
        self._lost_since.clear()
        self._lost_requests.clear()
        await self._find_jobs_made_after_refund(store, video)

    async def _settle_stale_jobs(
        self,
        store: Store,
        video: VideoModel,
        *,
        last: bool,
        plan_ids: Collection[str] | None = None,
    ) -> None:
        """Jobs paid for that no step uses any more (the scene's inputs were edited, or it
        left the plan): look at each once, so the ledger shows what it cost instead of
        counting it as in flight for ever. `last`: the run's final sweep (says so when a
        job is still running: it will bill, and the next render settles it).

        A job the provider says ended failed (cancelled, expired, refused, not charged)
        is refunded with its reason. One it no longer knows (a poll's 404: deleted, or
        past the time it keeps a task's record; `JobNotFound`) was never seen to finish
        (a finish seen bills the row at once), so whether it billed cannot be told:
        it is booked at its hold, the most it could have cost, marked `unknown_outcome`
        (`_book_forgotten_job`), and told once. Before, every such poll's error left the
        row committed: counted as in flight at every render and in `status`, for ever.
        A poll that fails for any other reason is tried again by the next render.

        `plan_ids`: the scenes of the plan rendered; the step of a scene not among them (a
        scene deleted from plan.yaml, or its id edited, while its job ran) no longer
        uses its job. Before, that step held the job for ever: its row stayed committed,
        in flight at every render and in `status`, and its bill never recorded."""
        if video.name == "local":
            return
        held = {
            st.remote_id
            for st in store.steps()
            if st.remote_id and (plan_ids is None or st.scene_id in plan_ids)
        }
        stale = [
            r
            for r in store.ledger_rows()
            if r["stage"] == "clip"
            and r["state"] == "committed"
            and r["remote_id"]
            and r["remote_id"] not in held
            and r["provider"] == video.name
        ]
        for r in stale:
            rid = str(r["remote_id"])
            try:
                state = await with_retry(partial(video.poll, rid))
            except JobNotFound as e:
                if why := await self._elsewhere(rid, video):
                    # made with other settings: its provider is not the one asked now
                    if rid not in self._told_elsewhere and not (r["usage"] or {}).get("let_go"):
                        self._told_elsewhere.add(rid)
                        self.reporter.warn(
                            f"{r['scene_id']}: job {rid} (no longer used by the scene) is "
                            f"not known at {video.name} as now set, but {why}. It is "
                            "kept, counted as "
                            "in flight (it may be running or done, and bill), until a render "
                            "with those settings put back records what it cost"
                        )
                    continue
                await self._book_forgotten_job(r, e)
                continue
            except ProviderError:
                continue  # not now; the next render tries again
            if not state.done:
                if last and (odd := state.unknown_status):
                    # (not "still running": a word the client does not know, `_poll`)
                    self.reporter.warn(
                        f"{r['scene_id']}: job {rid} (for an earlier version of the scene): "
                        f"{video.name} gives its status as {odd!r}, which mindmovie does not "
                        "know; whether it ends made, and bills, is not known. Its result is "
                        "not used; the next render looks at it again"
                    )
                elif last:
                    self.reporter.warn(
                        f"{r['scene_id']}: job {rid} (for an earlier version of the scene) is "
                        "still running at the provider and will be billed; its result is not "
                        "used. The next render records what it cost."
                    )
                continue
            if state.status != "succeeded" and not _reports_charge(state):
                await self.gate.refund(r["id"], f"job {state.status}: {state.error or ''}"[:300])
                continue
            usage = state.usage
            usd = self._video_usd(
                state,
                float(usage.get("duration") or 0),
                str(usage.get("resolution") or self.settings.output.resolution),
                str(usage.get("ratio") or self.settings.output.aspect),
                bool(usage.get("generate_audio") or False),
                model=str(r["model"] or "") or None,
            )
            usd = usd if usd > 0 else float(r["estimated_usd"])
            kept = await self._keep_stale_result(store, video, r, state)
            usage = {**state.usage, "unused": True, **({"kept": True} if kept else {})}
            await self.gate.bill(r["id"], usd, usage)
            self.reporter.info(
                f"{r['scene_id']}: job {rid} (for an earlier version of the scene) finished "
                f"and was billed {costs.format_usd(usd)}; "
                + (
                    "its clip is kept: that version of the scene, if it comes back (an edit "
                    "undone, an id renamed back), takes it without paying again"
                    if kept
                    else "its result is not used"
                )
            )

    def _unwanted_job(
        self,
        store: Store,
        model: VideoModel,
        key: str,
        seconds: float,
        keys_before: Sequence[str] = (),
    ) -> str | None:
        """A clip job still in flight that was made from exactly the inputs `key` (and
        `seconds`) and that no step holds (its scene edited, renamed or deleted while it
        ran: see `_settle_stale_jobs`; or carried by `render --fresh`), made where this
        render asks (its origin unchanged), or None. Taken by the scene that wants those
        inputs again: a new job for them was the same clip paid twice. The estimate and
        `status` count such a scene's clip as paid by the same test (`_unheld_job`)."""
        if model.name == "local":
            return None
        return self._unheld_job(
            store, model.name, key, seconds, keys_before=keys_before, plan_ids=self._flows_done
        )

    def _unheld_job(
        self,
        store: Store,
        provider: str,
        key: str,
        seconds: float,
        taken: Collection[str] = (),
        *,
        keys_before: Sequence[str] = (),
        plan_ids: Collection[str] | None = None,
    ) -> str | None:
        """The job `_unwanted_job` takes for inputs `key`/`seconds` with video provider
        `provider`, the one test shared by the render and what it is said to cost
        (`_reused_steps`: the estimate, the spend question, `status`); those counted a new
        clip for such a scene, and after `render --fresh` carried a job in flight the
        spend question asked to pay again for a clip already paid. Reads only `store`
        (`status` and `estimate` open it read-only, with no budget gate). `taken`: jobs
        already counted for another scene (one job, one scene). `keys_before`: the same
        request's keys until 2026-12-04 (`_clip_keys_before`): a job made then (carried
        by `render --fresh`, or an edit undone while it ran) records its inputs under
        one, and matched by the key of now only it was bought again. `plan_ids`: the
        scenes of the plan rendered: the step of a scene not among them (its id renamed
        in plan.yaml, or the scene deleted, while its job ran) holds its job no more (as
        `_settle_stale_jobs` has it): the renamed scene bought its clip again."""
        if provider == "local":
            return None
        keys = {key, *keys_before}
        held = {
            st.remote_id
            for st in store.steps()
            if st.remote_id and (plan_ids is None or st.scene_id in plan_ids)
        }
        for r in reversed(store.ledger_rows()):
            if self._free_job(
                store,
                r,
                provider,
                {*held, *taken},
                lambda made: made[0] in keys and abs(made[1] - seconds) <= 1e-6,
            ):
                return str(r["remote_id"])
        return None

    def _free_job(
        self,
        store: Store,
        r: Mapping[str, Any],
        provider: str,
        held: Collection[str],
        wanted: Callable[[tuple[str, float]], bool] = lambda made: True,
    ) -> tuple[str, float] | None:
        """The (input key, seconds) ledger row `r`'s clip job was made for, when it is a
        paid job in flight a scene of this render may take (`_unheld_job`,
        `_unheld_paid_clips`: one test for both): committed, of `provider`, held by no
        step (`held`), not being or let go of, its inputs recorded and `wanted`, made
        where this render asks; else None."""
        rid = r["remote_id"]
        if (
            r["stage"] != "clip"
            or r["state"] != "committed"
            or not rid
            or rid in held
            or rid in self._letting_go
            or r["provider"] != provider
            or (r["usage"] or {}).get("let_go")
        ):
            return None
        made = store.job_input(int(r["id"]))
        if made is None or not wanted(made):
            return None
        then = store.job_origin(int(r["id"]))
        if then is None or self._origin_changes_in(store, then, provider):
            return None  # made elsewhere: not known where this render asks
        return made

    def _origin_changes_in(self, store: Store, then: Mapping[str, str], provider: str) -> list[str]:
        """`_row_origin_change` read from `store` alone: no budget gate, no write (the
        run's salt read, not made: a row recorded without its own salt and a run with
        none compares its key under no salt, so it differs: counted as made elsewhere)."""
        run_salt = store.get_meta(ORIGIN_SALT_META) or ""
        try:
            bytes.fromhex(run_salt)
        except ValueError:
            run_salt = ""
        return recorded_origin_changes(
            then, lambda salt: self._origin_made(provider, salt or run_salt or "00")
        )

    async def _keep_unasked_job(self, store: Store, video: VideoModel, step: Step) -> None:
        """The clip step's journaled job, of a request the render does not take it for
        (`_clip_step`), kept in kept/ when it finished and was billed (a job in flight
        is kept when it finishes, `_settle_stale_jobs`). A look or download that fails
        for a passing reason fails the scene, nothing bought: the step keeps the job,
        and the next render tries again. One gone at the provider (or its result) is not
        kept: it would fail the scene at every render."""
        rid = str(step.remote_id)
        row = store.ledger_by_remote(rid)
        if row is None or row["state"] != "billed":
            return
        try:
            state = await with_retry(partial(video.poll, rid))
            if state.status == "succeeded":
                await self._keep_stale_result(store, video, row, state, strict=True)
        except JobFailed:
            return  # gone at the provider, or its result: nothing to keep
        except ProviderError as e:
            e.scene_id = e.scene_id or step.scene_id
            raise

    async def _keep_stale_result(
        self,
        store: Store,
        video: VideoModel,
        r: dict[str, Any],
        state: JobState,
        *,
        strict: bool = False,
    ) -> bool:
        """Download a finished job no step wants any more into kept/, under the inputs it
        was made from (`Store.job_input`), as a clip replaced once made is kept: an edit
        undone or an id renamed while the job ran then takes it, not a new job. It was
        billed and thrown away, and the inputs coming back paid a second time. False
        when its inputs were not recorded or the download fails (billed as unused);
        `strict`: a download that fails for a passing reason (not `JobFailed`) raises."""
        made = store.job_input(int(r["id"]))
        if made is None:
            return False
        key, seconds = made
        if store.find_kept("clip", key) is not None:
            return True  # kept already (by a render stopped before it billed the row)
        w, h = self.settings.output.frame()
        req = VideoRequest(
            scene_id=str(r["scene_id"]),
            prompt="",
            keyframe=Path(),
            seconds=seconds,
            width=w,
            height=h,
            fps=self.settings.output.fps,
            seed=0,
        )
        dest = self.run_dir / KEPT_DIR / "clip" / f".fetch-{r['id']}.mp4"
        make_dirs(dest.parent)
        try:
            await with_retry(lambda: video.fetch(state, req, dest))
            store.keep_copy(str(r["scene_id"]), "clip", key, dest)
        except ProviderError as e:
            if strict and not isinstance(e, JobFailed):
                raise
            return False
        finally:
            dest.unlink(missing_ok=True)
        return store.find_kept("clip", key) is not None

    async def _book_forgotten_job(self, r: dict[str, Any], e: JobNotFound) -> None:
        """A job no step uses whose row is still committed, and which the provider no
        longer knows (`_settle_stale_jobs`). Refunded, a job that finished and billed
        would be spend the ledger does not show; left committed, it is in flight at
        every render for ever. So it is billed at its hold (the most it could have
        cost: never under the real bill), its usage saying the outcome is unknown and
        why, and the person is told once (a billed row is not looked at again)."""
        rid = str(r["remote_id"])
        held = r.get("held_usd")
        usd = float(held if held is not None else r["estimated_usd"])
        usage = {
            **(r.get("usage") or {}),
            "unused": True,
            "unknown_outcome": True,
            "not_found": e.message[:300],
            "booked_at_hold": True,
        }
        await self.gate.bill(r["id"], usd, usage)
        self.reporter.warn(
            f"{r['scene_id']}: job {rid} (no longer used by the scene) is no longer known at "
            f"{r['provider']} ({e.message}) and was never seen to finish, so whether it was "
            f"billed cannot be told: the ledger books it at the most it could cost, "
            f"{costs.format_usd(usd)}, and no longer counts it as in flight"
        )

    async def _recover_orphans(self, store: Store, video: VideoModel) -> None:
        """Paid calls a killed run sent but never journaled an id for.

        A video job whose provider can list jobs is found and adopted (submissions are
        serialised per provider, so at most one such job exists) when its scene's clip
        step still asks for it, else billed unused; one not listed is refunded once
        LATE_JOB_GRACE has passed since it was sent, and before that stays committed
        while its scene waits for it (`_no_job_found`, `_await_late_job`). Other calls
        stay `committed` (outcome unknown) and the person is told.
        """
        orphans = [
            r
            for r in store.ledger_rows()
            if r["state"] == "committed"
            and not r["remote_id"]
            and not (r["usage"] or {}).get("unknown_outcome")
        ]
        # a create made with other settings (base URL, key, ...): its job is not listed
        # here, so not finding it says nothing. Kept, not looked for (`_keep_lost_elsewhere`)
        elsewhere = [r for r in orphans if self._keep_lost_elsewhere(store, r, video)]
        orphans = [r for r in orphans if r not in elsewhere]
        # the job list is read per model: a row of another model (video.model changed
        # since) is looked for with its own, one by one; its job is no other row's
        clip_orphans = [
            r
            for r in orphans
            if r["stage"] == "clip" and r["provider"] == video.name and r["model"] == video.model
        ]
        if len({r["scene_id"] for r in clip_orphans}) > 1:
            if await self._settle_mixed_orphans(store, video, clip_orphans):
                orphans = [r for r in orphans if r not in clip_orphans]
        elif len(clip_orphans) > 1 and await self._settle_scene_orphans(store, video, clip_orphans):
            orphans = [r for r in orphans if r not in clip_orphans]
        # a clip row alone for its model is one request: more jobs listed than it asked
        # for (a second job made for it, a refunded request's late one) are booked as
        # made, unused (`_book_extra_jobs`); before, the row was left unknown and the
        # clip made again, a third job paid
        alone = [(r["provider"], r["model"]) for r in orphans if r["stage"] == "clip"]
        for r in orphans:
            unknown = None
            if r["stage"] == "clip" and r["provider"] == video.name:
                unknown = await self._unjournaled_jobs(
                    store, video, _row_made_at(r) - 60, model=str(r["model"])
                )
            if unknown is not None:
                if unknown and (len(unknown) == 1 or alone.count((r["provider"], r["model"])) == 1):
                    unknown = _nearest_first(unknown, _lost_sent_at(r))
                    rid = str(unknown[0].remote_id)
                    # booked before the row takes its job (`_book_extra_jobs`: a kill
                    # between the two writes)
                    self._book_extra_jobs(store, video, r, unknown[1:])
                    if _still_asks(store, r):
                        store.mark_submitted(r["scene_id"], "clip", rid, ledger_row=r["id"])
                        self.reporter.info(
                            f"{r['scene_id']}: found job {rid}, sent just before the last run "
                            "stopped; picking it up instead of paying again"
                        )
                    else:
                        # the scene has its clip, or asks for other inputs now: the job
                        # bills (settled by _settle_stale_jobs) and is not used
                        store.ledger_set_remote(r["id"], rid)
                        self.reporter.warn(
                            f"{r['scene_id']}: job {rid}, sent just before the last run "
                            f"stopped, was made at {video.name} (and bills); the scene "
                            "no longer asks for it, so its result is not used"
                        )
                    continue
                if not unknown:
                    self._no_job_found(store, r, video)
                    continue
            store.ledger_mark_unknown(r["id"])
            self.reporter.warn(_unknown_outcome_line(r, "last") + " It is counted as committed.")
        await self._find_jobs_made_after_refund(store, video)

    def _keep_lost_elsewhere(self, store: Store, r: dict[str, Any], video: VideoModel) -> bool:
        """An orphan clip row (a create whose answer was lost, or in flight at a kill: no
        job id) of `video`'s provider made with other settings than now (another base
        URL or region, key, Google mode, project or location: `_row_origin_change`). Its
        job, if made, is at the place it was sent to: not listed here, so no job found
        says nothing of it. Before, it was refunded once the grace was over ("no job
        found") while the job may bill there, and the scene's clip was bought again
        here: paid twice. It stays committed (counted against the budget), is not looked
        for, and its scene's clip is not bought while it asks for what the row asked
        (`_check_lost_elsewhere`: the scene fails, ProviderChanged); with the settings
        put back, the next render looks for it as for any other. True when kept."""
        if r["stage"] != "clip" or r["provider"] != video.name:
            return False
        if not registry.lists_jobs(video.name):
            return False  # (Veo) never looked for: its outcome unknown, as before
        changed = self._row_origin_change(r, video.name)
        if not changed:
            return False
        why = "; ".join(changed)
        sid = str(r["scene_id"])
        self._lost_elsewhere.setdefault(sid, []).append((int(r["id"]), why))
        what = (
            "whose answer was lost"
            if isinstance((r.get("usage") or {}).get("lost"), dict)
            else "in flight when a render stopped"
        )
        self.reporter.warn(
            f"{sid}: a job request to {video.name} {what} was made with other settings "
            f"({why}); its job, if made, is not listed where this render asks, so it "
            "cannot be looked for. It is kept, counted as committed (about "
            f"{costs.format_usd(float(r['estimated_usd']))}), and not refunded. "
            + (
                "With --let-go, it is let go of when its scene's clip is bought again"
                if self._let_go
                else "Put them back and render again so the job can be looked for, or, if "
                "they cannot be put back, `render --let-go` to let go of it and buy the "
                "clip again"
            )
        )
        return True

    def _check_held_by_another(
        self,
        store: Store,
        model: VideoModel,
        scene: Scene,
        planned: str,
        every: Collection[str],
        before: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Fail the scene rather than buy its clip when its planned request (as now, and
        as its step holds it: `_asked_clip`) is the very request of a paid job another
        scene of this render asked, holds, and could not take the clip of (its download
        failed, the provider settings changed since it was made...), or whose result that
        scene found gone. This scene waited for it (`_clip`, `_one_buyer`) and then bought
        the very clip again: one request paid twice, or bought unasked, though the
        estimate had counted it once ("as" that scene). The next render takes it from
        that job once its scene has it, or buys it, counted. Not for a scene whose own
        job makes it (it polls that), nor by a content-filter fallback's key alone (its
        planned request is its own, counted by the estimate). The failure is journaled on
        the scene's clip step (`planned`: its key; `every`: its requests'), as any
        failed try that sent nothing: `status` and the storyboard said "no clip yet".

        A job whose scene ended before it asked that request (its keyframe, edited, was
        refused; the budget stopped it) is taken by this scene instead (`_take_job_of`):
        failed without buying, the copy waited at every render for a scene that might
        never get there, the paid job's clip unused (and lost once the provider drops it);
        and bought, it was paid twice. `before`: the keys until 2026-12-04 of this
        scene's requests (`_clip_keys_before`): a job whose step keeps such a key is the
        same request's (a copy bought it again)."""

        def failed(error: ProviderError) -> ProviderError:
            store.begin(scene.id, "clip", planned, same_request=every)
            store.fail(scene.id, "clip", error.kind, str(error), sent=False)
            return error

        mine = self._asked_clip.get(scene.id, set())
        old = {k for key in mine for k in (before or {}).get(key, ())}
        own = store.get(scene.id, "clip")
        if own is not None and own.input_key in mine and store.resumable_job(own):
            return
        gone = next(
            (by for k in mine if (by := self._gone_keys.get(k)) not in (None, scene.id)), None
        )
        if gone is not None:
            # the very clip whose paid result was found gone in this render: counted as
            # that scene's by the estimate, it would be bought unasked
            self._check_stop()
            again = costs.estimate_video(self.settings, self._clip_seconds(scene)).usd
            raise failed(
                ResultGone(
                    f"its clip is the very request whose job, {gone}'s, can no longer be "
                    f"picked up in this render (its error says why): the next render buys "
                    f"it once for both scenes (about {costs.format_usd(again)}), counted "
                    "in its estimate and spend question",
                    provider=model.name,
                    scene_id=scene.id,
                )
            )
        for holder, ended in self._flows_done.items():
            if holder == scene.id or not ended.is_set():
                continue
            step = store.get(holder, "clip")
            if step is None or (rid := store.resumable_job(step)) is None:
                continue
            # that scene asked its job's request in this render (under its own keys: a
            # step keyed as until 2026-12-04) and could not take its clip, or it failed
            # before it got to its clip (its keyframe, edited, was refused): the job is
            # this very request's all the same, and the copy bought it again
            asked = self._asked_clip.get(holder, set())
            took = step.input_key in asked and bool(asked & mine)
            if not took and step.input_key not in mine and step.input_key not in old:
                continue
            self._check_stop()
            if not took and rid not in self._letting_go:
                self._take_job_of(store, holder, scene.id, planned, every, rid)
                return
            cause = self._flow_errors.get(holder)
            error = ProviderChanged if isinstance(cause, ProviderChanged) and took else Transient
            why = "could not take" if took else "did not get to"
            raise failed(
                error(
                    f"its clip is the very request {holder}'s job {rid} makes, which "
                    f"{holder} {why} in this render (its error says why): the job is "
                    "kept, and this clip is not bought again (it would be paid twice). "
                    f"Once {holder} has its clip, the next render takes it for this scene too",
                    provider=model.name,
                    scene_id=scene.id,
                )
            )

    def _take_job_of(
        self,
        store: Store,
        holder: str,
        scene_id: str,
        planned: str,
        every: Collection[str],
        rid: str,
    ) -> None:
        """Scene `scene_id` takes the paid clip job `rid` that `holder`'s step holds for
        the very request `planned` (`_check_held_by_another`): journaled on its step
        first, then let go of by `holder`'s (killed between the two, both hold it: it is
        polled, never bought again). Its clip step then polls and fetches it, as its own
        job in flight, paying nothing."""
        store.begin(scene_id, "clip", planned, same_request=every)
        store.mark_submitted(scene_id, "clip", rid)
        store.release_job(holder, "clip", rid, taken_by=scene_id)
        self.reporter.step("clips", scene_id, "resumed", f"{rid} ({holder}'s job)")

    def _note_gone(self, scene_id: str, key: str) -> None:
        """Scene `scene_id`'s paid clip of request `key` was found gone in this render
        (`_gone_keys`): under the planned request's every key when it is that one (a
        step holding its key until 2026-12-04: a copy asks it under the key of now)."""
        asked = self._asked_clip.get(scene_id, set())
        for k in asked if key in asked else {key}:
            self._gone_keys[k] = scene_id

    def _check_lost_elsewhere(self, store: Store, scene_id: str, keys: Collection[str]) -> None:
        """Fail the scene (ProviderChanged) rather than buy its clip while a create of it
        made with other settings, asking for these inputs (`keys`), may have made a job
        there (`_keep_lost_elsewhere`): the job would be paid twice. A row that asked
        for other inputs (the scene edited since) does not hold the clip: its job would
        not be used either way."""
        kept = self._lost_elsewhere.get(scene_id)
        if not kept:
            return
        step = store.get(scene_id, "clip")
        if step is not None and (step.remote_id or step.status == "succeeded"):
            return  # its own job is journaled (polled), or its clip is made
        rows = {int(r["id"]): r for r in store.ledger_rows()}
        for row_id, why in kept:
            r = rows.get(row_id)
            if r is None or r["state"] != "committed" or r["remote_id"]:
                continue
            if _asked_key(store, r) not in keys:
                continue
            if self._let_go:
                # render --let-go: committed (the spend agreed to) before the new create
                # is sent; the row stays counted, its outcome unknown, never looked for
                store.let_go_row(row_id, why)
                killpoint("let_go")
                self.reporter.warn(
                    f"{scene_id}: a job request for this clip sent to {r['provider']} with "
                    f"other settings than now ({why}) was let go of (render --let-go): it "
                    "stays counted as committed (it may have made a job there, which "
                    "bills); the clip is bought again"
                )
                continue
            raise ProviderChanged(
                f"a job request for this clip was sent to {r['provider']} with other "
                f"settings than now ({why}), and its answer never came: a job it made "
                "is not listed where this render asks, so it cannot be looked for. It is "
                "kept, counted as committed, and the clip is not bought again (it would "
                "be paid twice). Put them back and render again so the job can be looked "
                "for, or, if they cannot be put back, `render --let-go` to let go of it "
                "(it stays counted) and buy the clip again, asking first",
                provider=str(r["provider"]),
                scene_id=scene_id,
            )

    async def _find_jobs_made_after_refund(self, store: Store, video: VideoModel) -> None:
        """Lost creates refunded once their grace was over with no job listed
        (`Store.ledger_refund(lost=)`) whose job the provider made even later: the job
        bills, and it billed on no row (the ledger's spend below the provider's bill, and
        the job, unknown to every row, was taken for the next lost request's). Each job
        listed that no row knows, made after such a request was sent (within
        LATE_JOB_HORIZON), is put back on its row (`Store.ledger_reopen`), the oldest job
        to the oldest request: committed again, billed unused by `_settle_stale_jobs`,
        or, when every such row asked for the inputs its scene's clip step still asks
        for with no job (e.g. it failed, or the run stopped), the step's job: polled,
        not paid again. Looked at when the run starts and after its clips stage, when no
        lost request of this run is unsettled (a job listed is then no other's)."""
        if video.name == "local" or self._lost_rows:
            return
        now = time.time()
        sent = _lost_sent_at
        every = [r for r in store.ledger_rows() if r["stage"] == "clip"]
        if any(
            r["state"] == "committed"
            and r["provider"] == video.name
            and not r["remote_id"]
            and not (r.get("usage") or {}).get("unknown_outcome")
            for r in every
        ):
            return  # a lost request still unsettled (looked for by the next render)
        rows = [r for r in every if _looked_for_after_refund(r, video.name, now)]
        for model in sorted({str(r["model"]) for r in rows}):
            group = sorted(
                (r for r in rows if r["model"] == model), key=lambda r: (sent(r), r["id"])
            )
            try:
                jobs = await self._unjournaled_jobs(
                    store, video, min(sent(r) for r in group) - 60, model=model
                )
            except ProviderError:
                continue  # not now: the next look (the next render) tries again
            if not jobs:
                continue
            jobs.sort(key=lambda t: (t.created_at, str(t.remote_id)))
            one = len({(r["scene_id"], _asked_key(store, r)) for r in group}) == 1
            for job in jobs:
                # made after its request was sent (a minute's leeway for the clocks)
                r = next((r for r in group if sent(r) - 60 <= job.created_at), None)
                if r is None:
                    continue
                group.remove(r)
                rid, sid = str(job.remote_id), str(r["scene_id"])
                if one and _still_asks(store, r):
                    store.ledger_reopen(int(r["id"]), rid, scene_id=sid)
                    one = False  # one job per step
                    self.reporter.warn(
                        f"{sid}: a job request whose answer was lost, refunded when no job "
                        f"came for it, did reach {video.name} after all: job {rid} was made "
                        "(and bills); it is the scene's clip, not paid again"
                    )
                else:
                    store.ledger_reopen(int(r["id"]), rid)
                    self.reporter.warn(
                        f"{sid}: a job request whose answer was lost, refunded when no job "
                        f"came for it, did reach {video.name} after all: job {rid} was made "
                        "(and bills, about "
                        f"{costs.format_usd(float(r['estimated_usd']))}); its result is not used"
                    )
                self.reporter.money(*store.ledger_split())

    async def _settle_mixed_orphans(
        self, store: Store, video: VideoModel, rows: list[dict[str, Any]]
    ) -> bool:
        """Orphan clip rows of several scenes (a request whose answer was lost stays
        committed until its run's clips stage ends, so a killed run can leave more than
        one). The provider's list shows no prompts, so a job found cannot be given to a
        scene: it may be another scene's clip. None found: all are refunded. Else each job
        is tied to a row (the latest sent first: the request in flight at the kill), to
        bill unused; rows left over stay committed with an unknown outcome; jobs left over
        are booked unused (`_book_extra_jobs`); the scenes' clips are made again. False
        when the provider cannot list its jobs."""
        since = min(_row_made_at(r) for r in rows) - 60
        unknown = await self._unjournaled_jobs(store, video, since)
        if unknown is None:
            return False
        if not unknown:
            for r in rows:
                self._no_job_found(store, r, video)
            return True
        ordered = sorted(rows, key=lambda r: int(r["id"]))
        unknown.sort(key=lambda t: (t.created_at, str(t.remote_id)))
        # more jobs than rows: the rows take the earliest, and the others are booked as
        # made, unused, first (`_book_extra_jobs`, as for one scene's request). Before,
        # no row took any: the rows stayed unknown for good, the jobs on no row
        tied = ordered[-len(unknown) :] if len(unknown) <= len(rows) else ordered
        self._book_extra_jobs(store, video, ordered[-1], unknown[len(tied) :])
        for r, job in zip(tied, unknown, strict=False):
            store.ledger_set_remote(r["id"], str(job.remote_id))
        for r in ordered[: len(ordered) - len(tied)]:
            store.ledger_mark_unknown(r["id"])
        scenes = ", ".join(sorted({str(r["scene_id"]) for r in rows}))
        self.reporter.warn(
            f"video job requests of scenes {scenes} were in flight when the last run "
            f"stopped, and {video.name} shows {len(unknown)} job(s) no scene knows "
            f"({', '.join(str(t.remote_id) for t in unknown)}; they bill). Which scene "
            "each is for cannot be told, so those clips are made again"
            + (
                f"; {len(rows) - len(tied)} request(s) stay counted as committed"
                if len(tied) < len(rows)
                else ""
            )
        )
        return True

    def _no_job_found(self, store: Store, r: dict[str, Any], video: VideoModel) -> None:
        """An orphan clip row with no job in the provider's list: refunded, unless it was
        sent too recently to tell (LATE_JOB_GRACE): a create whose answer was lost
        (`Store.ledger_note_lost`), or one in flight when the last run was killed (sent
        when its row was made: `created_at`), may still become a job. That one stays
        committed, with the inputs it asked for noted on it; its scene waits for the job
        before paying again (`_await_late_job`), and it is looked at again after this
        run's clips stage, as this run's own lost requests are. Before, a killed create
        was refunded at once, and its late job billed on no row while the scene paid
        for another. A row of another model (video.model changed since) is refunded at
        once: the job list is read per model, so its job cannot be taken for this
        model's, and nothing waits for it; a job of it listed later is put back on it
        (`_find_jobs_made_after_refund`). Refunded, the row keeps its note for that."""
        lost = (r.get("usage") or {}).get("lost")
        row_id = int(r["id"])
        if isinstance(lost, dict):
            sent_at = _lost_sent_at(r)
            key = str(lost.get("input_key") or "")
            short = _note_grace(lost)
            if short is not None:  # a create the service answered (a 500)
                self._lost_grace[row_id] = short
        else:
            sent_at = _lost_sent_at(r)  # (a damaged time: now, the whole grace)
            key = _asked_key(store, r)
        # noted by the clock of the run that sent it: one set ahead then (corrected
        # since, or the folder moved to another machine) made the wait for its job
        # last that much more than the grace, holding every create meanwhile
        sent_at = min(sent_at, time.time())
        if time.time() - sent_at < self._grace(row_id) and r["model"] == video.model:
            if not isinstance(lost, dict):
                store.ledger_note_lost(row_id, key, sent_at)
                self.reporter.warn(
                    f"{r['scene_id']}: a job request to {r['provider']} was in flight when "
                    f"the last run stopped, {time.time() - sent_at:.0f} s ago; no job for it "
                    "is listed yet, but one may still be made (about "
                    f"{costs.format_usd(float(r['estimated_usd']))}). It stays counted as "
                    "committed and is looked for again"
                )
            self._note_lost(row_id, sent_at)
            self._lost_requests[row_id] = (str(r["scene_id"]), key)
            self._carried.add(row_id)
            return
        self._lost_grace.pop(row_id, None)
        store.ledger_refund(
            row_id,
            "never reached the provider (no job found)",
            lost={"input_key": key, "sent_at": sent_at},
        )

    async def _settle_scene_orphans(
        self, store: Store, video: VideoModel, rows: list[dict[str, Any]]
    ) -> bool:
        """Several orphan clip rows of ONE scene: its create was lost more than once (or
        lost, then the run killed during the next). Their jobs may have appeared since
        (late), all in the provider's list at once: the one-row look would see several
        and leave them all unknown, and the scene would pay for another job. Every such job was
        asked for by this scene: when the rows asked for the inputs its clip step has now,
        the first job goes to the step (polled, not paid again); the others are tied to
        their rows (billed, unused, by _settle_stale_jobs). Rows with no job: see
        `_no_job_found`. Jobs beyond the rows are booked as made, unused
        (`_book_extra_jobs`). False (the rows are looked at one by one) when the
        provider cannot list its jobs."""
        since = min(_row_made_at(r) for r in rows) - 60
        unknown = await self._unjournaled_jobs(store, video, since)
        if unknown is None:
            return False
        scene_id = str(rows[0]["scene_id"])
        ordered = sorted(rows, key=lambda r: int(r["id"]))
        unknown.sort(key=lambda t: (t.created_at, str(t.remote_id)))
        step = store.get(scene_id, "clip")
        asked = {
            (r.get("usage") or {}).get("lost", {}).get("input_key")
            or (step.input_key if step is not None else None)
            for r in ordered
        }
        adopt = (
            step is not None
            and not step.remote_id
            and step.status != "succeeded"
            and asked == {step.input_key}
        )
        # more jobs than rows: the rest are booked as made, unused (before, every row
        # was left unknown and the clip made again); before the rows take theirs
        # (`_book_extra_jobs`: a kill between)
        self._book_extra_jobs(store, video, ordered[0], unknown[len(ordered) :])
        for i, (r, job) in enumerate(zip(ordered, unknown, strict=False)):
            rid = str(job.remote_id)
            if i == 0 and adopt:
                store.mark_submitted(scene_id, "clip", rid, ledger_row=r["id"])
                self.reporter.info(
                    f"{scene_id}: found job {rid}, made late from a request whose answer "
                    "was lost; picking it up instead of paying again"
                )
            else:
                store.ledger_set_remote(r["id"], rid)
        unused = [str(t.remote_id) for t in unknown[1 if adopt else 0 : len(ordered)]]
        if unused:
            self.reporter.warn(
                f"{scene_id}: job request(s) whose answers were lost did reach {video.name} "
                f"after all: job(s) {', '.join(unused)} were made (and bill); their results "
                "are not used"
            )
        for r in ordered[len(unknown) :]:
            self._no_job_found(store, r, video)
        return True

    def _reusable_plan(self, store: Store, planner: Planner | tuple[str, str]) -> Plan | None:
        """The existing (perhaps edited) plan.yaml when it still belongs to these goals,
        with goals.yaml's new title, closing or music, if changed since (`_with_shown`)."""
        step = store.get("_run", "plan")
        path = self.run_dir / "plan.yaml"
        if step is None or step.status != "succeeded" or not path.is_file():
            return None
        recorded = _basis_field(step.detail, "by_place")
        ident = planner if isinstance(planner, tuple) else (planner.name, planner.model)
        by_place = {self._plan_key(who, by_place=True) for who in self._same_planners(ident)}
        if step.input_key not in self._plan_keys(planner) and (
            recorded is None or recorded not in by_place
        ):
            return None  # (the same goals with photos renamed: `plan_fingerprint_by_place`)
        raw = load_plan(path)
        self._plan_yaml_scenes = {sc.id: sc for sc in raw.scenes}
        direct = _shown_unknown(step.detail)
        self._plan_raw = self._with_shown(raw, step.detail, direct=direct)
        # the photos plan.yaml names, by place: renamed since, they are followed
        was = _basis_field(step.detail, "photos")
        self._plan_photos = was if _photo_places(was) else None
        # a moved project folder: plan.yaml's absolute paths are found again
        return self._rebased(self._plan_raw, self._plan_photos)

    def _record_shown(
        self,
        store: Store,
        planner: Planner,
        plan_path: Path,
        step: Step | None,
        *,
        restored: bool = False,
    ) -> None:
        """Write the title, closing or music goals.yaml changed into plan.yaml, and record
        the plan's basis as it is now (also for a legacy key: a later change is then told).
        `restored`: a kept plan just put back, whose hash is the kept copy's, hand edits
        and all, not known to be its planner's."""
        if self._shown_changed and self._plan_raw is not None:
            # the file as written with the new fields: a relative path (a hand edit) stays
            # relative, not absolute under this run folder, which a new title renames
            shown = {f: getattr(self._plan_raw, f) for f in self._shown_changed}
            now = store.get("_run", "plan")
            # as its planner wrote it: still so with goals.yaml's fields, or a plan made
            # before `PLANNED_META` was told hand-edited by the next new plan (`_edits_before`)
            as_made = not restored and now is not None and now.sha256 == sha256_file(plan_path)
            self._keep_edited_shown(store, now, plan_path, shown)
            update_plan_fields(plan_path, shown)
            if now is not None and as_made:
                store.set_sha256("_run", "plan", sha256_file(plan_path))
            # goals.yaml's, not the person's: a later new plan does not name them as edits
            planned = None if now is None else store.get_meta(PLANNED_META + now.input_key)
            if now is not None and (record := with_shown(planned, **shown)) is not None:
                store.set_meta(PLANNED_META + now.input_key, record)
            # a warning: plan.yaml, the person's file, was rewritten (shown with --quiet)
            self.reporter.warn(
                f"plan.yaml takes goals.yaml's new {' and '.join(self._shown_changed)}; "
                "its scenes are kept"
            )
        basis = self._plan_basis(planner, self._plan_photos)
        if (
            self._shown_changed
            or step is None
            or _shown_unknown(step.detail, missing=True)
            or any(_basis_field(step.detail, f) != basis[f] for f in ("goals", "by_place", "parts"))
        ):
            # (also once photos were renamed, and for a basis from before `by_place`)
            store.set_detail("_run", "plan", json.dumps(basis))

    def _keep_edited_shown(
        self, store: Store, step: Step | None, plan_path: Path, shown: dict[str, str | None]
    ) -> None:
        """Before goals.yaml's new title or closing is written into plan.yaml:
        where plan.yaml's value was the person's hand edit (neither what its planner made,
        `PLANNED_META`, nor the new value), copy plan.yaml to plan.previous.yaml and say
        which edit is replaced and where it is. It was written over with only "plan.yaml
        takes goals.yaml's new title": the person's own title lost without a word."""
        if step is None:
            return
        planned = planned_fields(store.get_meta(PLANNED_META + step.input_key))
        if planned is None:
            return  # (a plan made before the record: its edits cannot be told)
        try:
            written = load_plan(plan_path, as_written=True)
        except PlanError:
            return
        edited = [
            f
            for f, new in shown.items()
            # (not music: a path, as written, relative or moved, is not the planner's)
            if f in ("title", "closing")
            and f in planned
            and getattr(written, f) not in (planned[f], new)
        ]
        if not edited:
            return
        backup = _keep_previous_plan(plan_path)
        said = " and ".join(
            f"{f} {json.dumps(getattr(written, f), ensure_ascii=False)}" for f in edited
        )
        self.reporter.warn(
            f"plan.yaml: your edited {said} replaced by {self.goals_path.name}'s new "
            f"{' and '.join(edited)} (set it in {self.goals_path.name} to keep it); the "
            f"plan.yaml before is in {backup.name}"
        )

    def _rebased(self, raw: Plan, was: list[list[str]] | None = None) -> Plan:
        """`raw` with its paths into a moved or copied project found again (rebase_paths),
        and with `was` (the photos plan.yaml names, by place, as its basis recorded them)
        the photos renamed since, each scene by the person's places and its own goal's
        first: a photo in two goals given another in one is then followed in that goal."""
        g = self.goals
        files = [*(g.person.photos if g.person else []), *(p for x in g.goals for p in x.photos)]
        if g.music is not None:
            files.append(g.music)
        base = self.goals_path.absolute().parent.resolve()
        now = plan_photos(g, base)
        if was is None or [len(x) for x in was] != [len(x) for x in now]:
            return rebase_paths(raw, files, base, self.goals_path.name)
        slots = [
            list(zip(olds, news, paths, strict=True))
            for olds, news, paths in zip(was, now, photo_places(g), strict=True)
        ]

        def renames(places: list[tuple[str, str, Path]]) -> list[tuple[str, Path]]:
            # a name still at a place it had (one photo in two goals, one of them given
            # another): which of its places was meant cannot be told from these, so it stays
            stays = {o for o, n, _ in places if o == n}
            return [(o, p) for o, n, p in places if o != n and o not in stays]

        every = renames([x for slot in slots for x in slot])
        rebased = rebase_paths(raw, files, base, self.goals_path.name, every)
        scenes = list(rebased.scenes)
        for goal in {sc.goal for sc in raw.scenes if 0 < sc.goal < len(slots)}:
            # a scene means the person's photos and its own goal's: among those places
            # alone, a name that stays elsewhere (one photo in two goals, one of them
            # given another) is told, and the scene takes its goal's photo now. The
            # goal's places first: the person's photo that was also the goal's own, the
            # goal given another, stayed at the person's place and the scenes kept it
            at_goal = {o for o, _, _ in slots[goal]}
            own = [*slots[goal], *(x for x in slots[0] if x[0] not in at_goal)]
            names = {o for o, _, _ in own}
            renamed = [*renames(own), *((o, p) for o, p in every if o not in names)]
            if renamed == every:
                continue
            mine = raw.model_copy(update={"scenes": [s for s in raw.scenes if s.goal == goal]})
            again = rebase_paths(mine, files, base, self.goals_path.name, renamed)
            by_id = {s.id: s for s in again.scenes}
            scenes = [by_id.get(s.id, s) if s.goal == goal else s for s in scenes]
        return rebased.model_copy(update={"scenes": scenes})

    def _kept_plan_key(
        self, store: Store, planner: Planner | tuple[str, str]
    ) -> tuple[str, Plan] | None:
        """The plan kept for these goals (see `_plan`), which a render would put back, and
        the key it is kept under: the current one, or the legacy one a run made before
        2026-12 recorded (its first goals edit kept the plan under that key).

        Only in place of another plan.yaml: one deleted by the person asks for a new plan,
        not for an older one of the same goals they may have set aside on purpose.
        """
        if not (self.run_dir / "plan.yaml").is_file():
            return None
        for key in self._plan_keys(planner):
            found = store.find_kept("plan", key)
            if found is None:
                continue
            try:
                # read as the render reads it once it is back in place as plan.yaml, with
                # the title, closing and music goals.yaml changed since it was kept
                raw = load_plan(found[0], anchor=self.run_dir.absolute())
                detail = json.dumps(self._kept_basis(store, key, planner))
                shown = self._with_shown(raw, detail, direct=_shown_unknown(detail))
                plan = self._rebased(shown)
                # nor one these goals cannot render (a scene of a goal past goals.yaml's):
                # plan.yaml kept under the goals last rendered, when it was put back by
                # hand with the goals it belongs to. Put back, the render stopped on it
                # (`check_plan`; its photos and music are still said there, not skipped)
                if any(sc.goal > len(self.goals.goals) for sc in plan.scenes):
                    continue
                return key, plan
            except PlanError:
                continue
        return None

    def _kept_basis(
        self, store: Store, key: str, planner: Planner | tuple[str, str]
    ) -> dict[str, Any]:
        """The basis recorded when the plan kept under `key` is put back: the shown fields
        it was kept with (`KEPT_SHOWN_META`), or None (unknown: `_with_shown` direct)."""
        basis = self._plan_basis(planner)
        try:
            shown = json.loads(store.get_meta(KEPT_SHOWN_META + key) or "null")
        except ValueError:
            shown = None
        return {**basis, "shown": shown if isinstance(shown, dict) else None}

    def outlook(self, store: Store, planner: Planner | tuple[str, str]) -> Outlook:
        """What this render would reuse, read-only: the same checks as the render makes."""
        if self._photo_ids is None:
            self._learn_photos(store, record=False)
        plan = self._reusable_plan(store, planner)
        plan_kept = False
        kept_lacks: tuple[str, ...] = ()
        if plan is None:
            kept = self._kept_plan_key(store, planner)
            plan = None if kept is None else kept[1]
            plan_kept = plan is not None
            path = self.run_dir / "plan.yaml"
            edits = self._edits_before(store, store.get("_run", "plan"), path)
            if kept is not None and edits is not None:
                # as the render names them when it puts the plan back (`_plan`)
                planned_then = store.get_meta(PLANNED_META + kept[0])
                missing = edits_not_in(*edits, kept[1], planned_then)
                kept_lacks = (UNKNOWN_EDITS,) if missing is None else tuple(missing)
        basis = plan
        if basis is None and self.settings.stage_provider("planner") == "local":
            from mindmovie.providers.local import build_plan

            # the local planner is deterministic: its plan is the one the render makes,
            # with the hand edits it carries over (`carry_edits`: a scene deleted is not
            # bought, an edited one is priced as edited)
            basis = build_plan(self.goals, costs.plan_options(self.settings))
            prev = store.get("_run", "plan")
            path = self.run_dir / "plan.yaml"
            edits = self._edits_before(store, prev, path) if path.is_file() else None
            if edits is not None and edits[0] is not None:
                basis = carry_edits(edits[0], edits[1], basis)[0]
        partial: Plan | None = None
        sent: Goals | None = None
        again: set[str] = set()
        if basis is None and (self.run_dir / "plan.yaml").is_file():
            # only goals changed (`_partial_replan`): the others keep their scenes, with
            # the hand edits the render carries; the changed goals' are priced as new
            # (the local planner's scenes for their ids and seconds) and the plan call
            # for those goals alone
            prev = store.get("_run", "plan")
            edits = self._edits_before(store, prev, self.run_dir / "plan.yaml")
            part = self._partial_replan(store, planner, prev, edits)
            if part is not None and edits is not None:
                from mindmovie.providers.local import build_plan

                made = None
                if part.changed:
                    sent = part.sent(self.goals)
                    made = build_plan(sent, costs.plan_options(self.settings))
                    again = set(part.ids(made).values())
                whole = part.merge(self.goals, made)
                partial = carry_edits(edits[0], edits[1], whole)[0]
        # a new remote plan has new prompts: nothing made before it is reused
        restored: set[tuple[str, str]] = set()
        clips: dict[str, str] = {}
        same: set[str] = set()
        jobs: dict[str, str] = {}
        refetched: set[str] = set()
        shared: dict[tuple[str, str], str] = {}
        maybe: dict[str, str] = {}
        paid: set[tuple[str, str]] = set()
        refused: set[tuple[str, str]] = set()
        priced = basis if basis is not None else partial
        done = (
            self._reused_steps(
                store, priced, restored, clips, same, jobs, refetched, shared, maybe, paid, refused
            )
            if priced is not None
            else set()
        )
        if again:
            # the changed goals' scenes are Claude's new prompts: never counted as made
            # (their stand-ins, the local planner's, might have been)
            done = {d for d in done if d[0] not in again}
            restored = {d for d in restored if d[0] not in again}
            paid = {d for d in paid if d[0] not in again}
            shared = {k: v for k, v in shared.items() if k[0] not in again and v not in again}
            for sid in again:
                clips.pop(sid, None)
                jobs.pop(sid, None)
                maybe.pop(sid, None)
            same -= again
            refetched -= again
        why, cause = ("", "") if plan is not None else self._new_plan_why(store, planner)
        if partial is not None and why:
            # (said of a whole new plan: the goals that did not change keep their scenes)
            asked = (
                "no planner (every goal keeps its scenes)"
                if sent is None
                else f"the planner for {plural(len(sent.goals), 'new or changed goal')} only "
                "(the other goals keep their scenes)"
            )
            why = why.replace("makes a new plan", f"makes a new plan, asking {asked}")
        return Outlook(
            plan,
            basis,
            frozenset(done),
            why,
            frozenset(restored),
            plan_kept,
            clips,
            frozenset(same),
            cause,
            jobs,
            frozenset(refetched),
            shared,
            maybe,
            frozenset(paid),
            partial,
            sent,
            kept_lacks,
            frozenset(r for r in refused if r[0] not in again),
        )

    def _new_plan_why(self, store: Store, planner: Planner | tuple[str, str]) -> tuple[str, str]:
        """Why the render would not reuse plan.yaml (the same tests as `_reusable_plan`),
        and what changed ("plan.scene_seconds changed") when that is the cause."""
        step = store.get("_run", "plan")
        if not (self.run_dir / "plan.yaml").is_file():
            return "there is no plan.yaml: the next render makes one", ""
        if step is None:
            return (
                "plan.yaml is not in this run's journal (run.db is new): the next render "
                "makes a new plan (the old one is kept as plan.previous.yaml)"
            ), ""
        if step.status != "succeeded":
            return "the last plan did not finish: the next render makes a new plan", ""
        cause = self._replan_reason(step.detail, self._plan_basis(planner))
        return (
            f"{cause} since plan.yaml was made: the next render makes a new plan (the old "
            "one is kept as plan.previous.yaml)"
        ), cause

    def estimate(
        self, store: Store, planner: Planner | tuple[str, str], *, check: bool = False
    ) -> costs.RunEstimate:
        """What this render will still cost: steps it would reuse, and jobs in flight for
        the same inputs, are excluded; a step made with another model, prompt or keyframe
        (a changed preset, an edited plan.yaml) is counted, because it will be paid again.

        `check`: first refuse a plan.yaml the render would reuse and then refuse
        (`check_plan`: a reference photo that is not there or not a picture), as
        `estimate` and `status` do: the render asked its spend question, "Spend about
        $0.13?", and only then stopped on it, exit 2."""
        look = self.outlook(store, planner)
        if check and look.plan is not None and not look.plan_kept:
            check_plan(self.run_dir / "plan.yaml", look.plan, len(self.goals.goals))
        est = look_priced(self.settings, self.goals, look)
        notes = replan_notes(self.run_dir, look, est, asking=True)
        return replace(
            est,
            notes=(
                *notes,
                *unfindable_notes(store, est),
                *self._unheld_clips_note(store, est, look),
                *costs.maybe_notes(est),
            ),
        )

    def whole_estimate(self, plan: Plan) -> costs.RunEstimate:
        """What `plan`'s scenes cost bought from nothing (the storyboard's figures: the
        whole, not what is left), each request once: a scene asking the very same image
        or clip as an earlier one takes it (`_one_buyer`), and was priced again there.
        The sharing is `_reused_steps`' over an empty journal: the render's outlook
        leaves out the steps already made, and with them the copies that take them."""
        shared: dict[tuple[str, str], str] = {}
        store = Store.scratch()
        try:
            self._reused_steps(store, plan, shared=shared)
        finally:
            store.close()
        return costs.estimate_run(self.settings, self.goals, plan, shared=shared)

    def _reused_steps(
        self,
        store: Store,
        plan: Plan,
        restored: set[tuple[str, str]] | None = None,
        clips: dict[str, str] | None = None,
        if_same: set[str] | None = None,
        jobs: dict[str, str] | None = None,
        refetched: set[str] | None = None,
        shared: dict[tuple[str, str], str] | None = None,
        maybe: dict[str, str] | None = None,
        paid: set[tuple[str, str]] | None = None,
        refused: set[tuple[str, str]] | None = None,
    ) -> set[tuple[str, str]]:
        """(scene, stage) steps a render of `plan` would not pay for: the same input-key
        checks as `_keyframe` and `_clip` (a clip's key holds its keyframe's hash, so a
        keyframe made again means its clip is made again). Those it would put back from
        kept/ are also added to `restored`; the sha256 of each clip reused, to `clips`; the
        scenes whose clip is reused if a free local keyframe, made again, comes out as
        the image it was made from, to `if_same` (not in the set returned: not known); the
        job in flight no step holds that a scene's clip takes (`_unheld_job`), to `jobs`;
        the scenes whose keyframe is downloaded from a kept result URL, to `refetched`;
        the steps to buy that an earlier scene of the plan buys too (the very same request,
        `_one_buyer`: bought once, taken by the later) or whose job in flight it polls,
        to `shared`, with that scene; the scenes whose clip is counted though the render
        may not buy it, to `maybe`, with why (`Outlook.maybe`); the steps paid for whose
        result is still to download or poll, to `paid` (`Outlook.paid`); the keyframes
        and clips the render does not send (refused whole, `refused_whole`: a keyframe's
        clip with it), to `refused`."""
        restored = set() if restored is None else restored
        paid = set() if paid is None else paid
        shared = {} if shared is None else shared
        #: (stage, key asked first) -> the scenes that would buy it, in the plan's order,
        #: and the scene whose job in flight makes it; scene -> its keyframe's key when
        #: the render buys it (its clip's key holds the image's hash, not known yet)
        buyers: dict[tuple[str, str], list[str]] = {}
        holders: dict[tuple[str, str], str] = {}
        unmade: dict[str, str] = {}

        def share(stage: str, key: str, scene_id: str) -> None:
            buyers.setdefault((stage, key), []).append(scene_id)

        def claim(stage: str, key: str, scene_id: str) -> None:
            # a step that pays nothing more (a job in flight to poll): the scenes asking
            # its key take its result, wherever they are in the plan (`_job_holder`)
            holders.setdefault((stage, key), scene_id)

        clips = {} if clips is None else clips
        remade: dict[str, tuple[Path, str]] = {}
        kf_id: _ModelId = _identity(self.settings, "keyframes")
        text = costs.text_keyframe_settings(self.settings)
        text_id = _identity(text, "keyframes") if text is not None else None
        video_id = _identity(self.settings, "video")
        done: set[tuple[str, str]] = set()
        kept: dict[str, Path] = {}
        adopted: set[str] = set()  # unheld jobs counted for a scene: one job, one scene
        # what each keyframe key made, by any scene, now or before an edit replaced it:
        # a local one of the same key paints the same pixels (`_keyframe_reuse_keys` hold
        # every input of the picture)
        # the ledger, read when a scene first needs it (`_lost_request`), once: it was
        # read whole for each scene
        ledger = cache(store.ledger_rows)
        painted = store.painted()
        painted.update(
            (t.input_key, t.sha256)
            for t in store.steps()
            if t.stage == "keyframe" and t.status == "succeeded" and t.sha256
        )
        for sc in plan.scenes:
            model = kf_id
            if text_id is not None and self._source_photo(sc, plan) is None:
                model = text_id
            keys = self._keyframe_reuse_keys(
                model, sc, plan, self._keyframe_variants(model, sc, plan), store
            )
            if any(store.reusable(sc.id, "keyframe", key) for key in keys):
                done.add((sc.id, "keyframe"))
                kept[sc.id] = self.run_dir / "scenes" / sc.id / "keyframe.png"
                continue
            for key in keys:
                # a kept copy (an edit undone, scenes renumbered) is put back, not paid for;
                # its clip's key is made from that file, the one the render puts in place
                found = store.find_kept("keyframe", key)
                if found is not None:
                    done.add((sc.id, "keyframe"))
                    restored.add((sc.id, "keyframe"))
                    kept[sc.id] = found[0]
                    break
            else:
                # paid in an earlier render, its download failed, and its result URL is
                # kept: the render downloads it from there (`_refetch_kept`), paying
                # nothing, unless the URL is past its validity (or answers that it is
                # gone, which only the download tells). Its clip is still to make: the
                # clip's key holds the image's hash, not known before the download
                asked = self._keyframe_variants(model, sc, plan)
                before = self._keyframe_keys_before(model, sc, plan, asked, store)
                if any(
                    store.refetchable_result(sc.id, "keyframe", k, any_scene=True) is not None
                    for _, key, _ in asked
                    for k in (key, *before.get(key, ()))
                ):
                    done.add((sc.id, "keyframe"))
                    paid.add((sc.id, "keyframe"))
                    if refetched is not None:
                        refetched.add(sc.id)
                    continue
                # a local keyframe of these very inputs whose file is gone or changed, or
                # one another scene made (a scene copied): painted again (free), and its
                # clip reused only if the new image's sha256 is the recorded one (the
                # clip's key holds it), which the render learns once it is made: `if_same`
                # tells the clips of the scene's own that hinge on it, `maybe` the paid
                # clips the render may reuse so
                sha = next((painted[k] for k in keys if k in painted), None)
                if model.name != "local" and _refused_whole_step(store, sc.id, "keyframe", asked):
                    # the render sends neither request again (`_keyframe`), nor so the clip
                    if refused is not None:
                        refused.update({(sc.id, "keyframe"), (sc.id, "clip")})
                    continue
                if model.name == "local" and sha:
                    remade[sc.id] = (self.run_dir / "scenes" / sc.id / "keyframe.png", sha)
                elif model.name != "local":
                    unmade[sc.id] = keys[0]
                    share("keyframe", keys[0], sc.id)
                else:
                    # painted (free) by each scene; the same key paints the same pixels,
                    # so their clips are the very same request, bought once (`_one_buyer`)
                    unmade[sc.id] = keys[0]
        chain = self._chains_frames(video_id.spec)
        scenes = list(plan.scenes)
        plan_ids = {sc.id for sc in scenes}
        made_as = {path: sha for path, sha in remade.values()}
        for i, sc in enumerate(scenes):
            frames = [sc.id]
            if chain and i + 1 < len(scenes):
                frames.append(scenes[i + 1].id)  # the next keyframe is this clip's last frame
            if any(f not in kept and f not in remade for f in frames):
                # a keyframe made again (new inputs): so is this clip; bought once for
                # the scenes asking the same, their keyframes bought once too
                if video_id.name != "local" and all(f in kept or f in unmade for f in frames):
                    at = {f: self.run_dir / "scenes" / f / "keyframe.png" for f in unmade}
                    paths = {f: kept.get(f) or at[f] for f in frames}
                    last = paths[frames[1]] if len(frames) > 1 else None
                    unknown = {at[f]: f"unmade:{unmade[f]}" for f in frames if f in unmade}
                    req = self._video_request(sc, paths[sc.id], last)
                    share("clip", self._clip_key(video_id, req, unknown), sc.id)
                continue
            path = {f: kept[f] if f in kept else remade[f][0] for f in frames}
            last = path[frames[1]] if len(frames) > 1 else None
            req = self._video_request(sc, path[sc.id], last)
            requests = self._clip_variants(video_id, sc, req, made_as, store)
            variants = [(key, float(r.seconds)) for _, key, r in requests]
            ordered = [key for key, _ in variants]
            # as the render has it: a fallback's result stands for the clip only if made
            # as one (`standing_clip_keys`), or when the planned request was refused (a
            # render killed before it recorded the fallback: the next asks it, putting
            # back one kept, `_clip_step`)
            step = store.get(sc.id, "clip")
            if step and step.error_kind == "content_rejected" and step.input_key == ordered[0]:
                standing = ordered
            else:
                standing = standing_clip_keys(store, ordered)
            before = self._clip_keys_before(video_id, requests, made_as, store)
            kept_as = [k for key in standing for k in dict.fromkeys((key, *before[key]))]
            if any(f in remade for f in frames):
                own = any(store.reusable(sc.id, "clip", k) for k in standing)
                if if_same is not None and own:
                    if_same.add(sc.id)
                if video_id.name == "local":
                    continue
                if maybe is not None and (own or any(store.find_kept("clip", k) for k in kept_as)):
                    # the render paints the keyframe, then finds the clip made before from
                    # that image (its own, a copied scene's, one kept) and pays nothing;
                    # counted at its price all the same: a painter that now paints other
                    # pixels (another Pillow) makes a clip to buy
                    maybe[sc.id] = (
                        "a clip made before from this keyframe is reused if the keyframe, "
                        "painted again (free), comes out as the image it was made from, "
                        "known once it is painted"
                    )
                share("clip", self._clip_key(video_id, req, made_as), sc.id)
                continue
            clip_keys = set(ordered)
            # a job in flight, or one whose download (poll, deadline) failed: the render
            # polls it again and pays nothing (what `status` says: Store.resumable_job)
            job = None if step is None else store.resumable_job(step)
            if job is not None and (
                job in self._letting_go
                or (self._let_go_guess and self._may_let_go(store, job, video_id.name))
            ):
                job = None  # `render --let-go`: let go of, the clip bought again
            # in the render's order: a kept clip is put back before a job is picked up,
            # its variants in the render's order (`_clip`)
            live = next((st for k in standing if (st := store.reusable(sc.id, "clip", k))), None)
            found = (
                None
                if live is not None
                else next((f for k in kept_as if (f := store.find_kept("clip", k))), None)
            )
            if live is not None:
                done.add((sc.id, "clip"))
                if live.sha256:
                    clips[sc.id] = live.sha256
            elif found is not None:
                done.add((sc.id, "clip"))
                restored.add((sc.id, "clip"))
                clips[sc.id] = found[1]
            elif (
                step is not None
                and step.input_key in standing
                # (or a finished clip whose file is gone: its job's result downloaded again)
                and (job is not None or store.refetchable_clip(step) is not None)
            ):
                done.add((sc.id, "clip"))
                paid.add((sc.id, "clip"))
                claim("clip", self._clip_key(video_id, req, made_as), sc.id)
            elif (
                unheld := self._unheld_job(
                    store,
                    video_id.name,
                    *(first := first_try(step, variants)),
                    taken=adopted,
                    keys_before=before[first[0]],
                    plan_ids=plan_ids,
                )
            ) is not None:
                # a paid job in flight that no step holds, made from the very inputs the
                # render asks first (an edit undone while it ran; one `render --fresh`
                # carried): the render takes it (`_unwanted_job`), pays nothing
                adopted.add(unheld)
                done.add((sc.id, "clip"))
                paid.add((sc.id, "clip"))
                claim("clip", self._clip_key(video_id, req, made_as), sc.id)
                if jobs is not None:
                    jobs[sc.id] = unheld
            elif video_id.name != "local":
                if _refused_whole_step(store, sc.id, "clip", requests):
                    # the render sends neither request again (`_clip_step`): priced at
                    # nothing, "refused", said under the table (it was counted, the
                    # spend question asked to pay for it, and the render sent nothing)
                    if refused is not None:
                        refused.add((sc.id, "clip"))
                    continue
                lost = self._lost_request(store, ledger, step, clip_keys, video_id.name)
                if maybe is not None and lost is not None:
                    maybe[sc.id] = lost
                share("clip", self._clip_key(video_id, req, made_as), sc.id)
        for (stage, key), ids in buyers.items():
            by = holders.get((stage, key), ids[0])
            shared.update({(sid, stage): by for sid in ids if sid != by})
        return done

    def _lost_request(
        self,
        store: Store,
        ledger: Callable[[], list[dict[str, Any]]],
        step: Step | None,
        keys: Collection[str],
        provider: str,
    ) -> str | None:
        """Why the clip of `step` (to be bought, asking one of `keys`) may not be bought:
        an earlier request of it, at a provider that lists its jobs, got no answer (in
        flight when a render was killed, or its answer lost) and is not settled. The
        render looks for its job (`_recover_orphans`, `_await_late_job`) and takes it if
        listed, paying nothing more; if none is made, it buys the clip. Which, only the
        provider's list tells, which the estimate does not read: the estimate priced the
        clip as a plain purchase. None when there is no such request. `ledger`: the
        ledger's rows, read once for every scene of the outlook (`_reused_steps`)."""
        if step is None or step.remote_id or step.status == "succeeded":
            return None
        if step.input_key not in keys or not registry.lists_jobs(provider):
            return None
        for r in ledger():
            usage = r["usage"] or {}
            if (
                r["stage"] != "clip"
                or r["state"] != "committed"
                or r["remote_id"]
                or r["scene_id"] != step.scene_id
                or r["provider"] != provider
                or usage.get("unknown_outcome")
                or usage.get("let_go")
                or _asked_key(store, r) != step.input_key
            ):
                continue
            then = store.job_origin(int(r["id"]))
            if then is not None and self._origin_changes_in(store, then, provider):
                continue  # sent elsewhere: not looked for (`_keep_lost_elsewhere`)
            return (
                f"a job for it asked of {provider} before a render stopped (its answer never "
                "came) may be found and taken, paying nothing more; if it was never made, "
                "the clip is bought"
            )
        return None

    def _with_not_kept(self, message: str) -> str:
        """`message` (a full disk's, a limit's: "finished work is kept") with the paid
        answers this render could keep nowhere (`_paid_not_kept`), which the next render
        buys again, and the clip jobs it could record nowhere (`_jobs_not_kept`): the
        line said everything paid for was kept."""
        said = [message]
        if self._paid_not_kept:
            them = "it" if len(self._paid_not_kept) == 1 else "them"
            said.append(
                "Paid for and not kept, as it could be written nowhere: "
                f"{', '.join(self._paid_not_kept)}; the next render buys {them} again"
            )
        return ". ".join([*said, *self._jobs_not_kept])

    def _job_not_kept(self, scene_id: str, job: str, provider: str, usd: float) -> None:
        """A clip job made and paid for whose id neither run.db nor a receipt could take
        (run.db at the limit, the disk full): named in the render's last line with what
        the next render does of it. A Veo operation no list shows is bought again; the
        line said "finished work is kept" and named only plans and keyframes."""
        head = (
            f"A clip job paid for could be recorded nowhere (not in run.db, nor in a "
            f"receipt): {scene_id}'s, {job} (about {costs.format_usd(usd)}); the next render "
        )
        if registry.lists_jobs(provider):
            tail = f"looks for it in {provider}'s job list and polls it, not buying it again"
        else:
            tail = (
                f"buys it again, as {provider} lists no jobs to find it by "
                "(its result is with the provider under that id)"
            )
        self._jobs_not_kept.append(head + tail)

    def _take_receipts(self, store: Store) -> None:
        """Record what an earlier render was answered for its money but could not record
        in run.db (`Store.take_receipts`): a keyframe or plan saved in its place, a
        clip job's id. Before the orphans are looked at and the estimate is made: the
        job is polled and the result kept, neither bought again (a Veo operation, which
        no list shows, was bought again, and so was every image and plan)."""
        taken = store.take_receipts()
        for path, why in store.unread_receipts:
            # the paid answer it records is not taken up (its row stays an outcome
            # unknown): it stays, and the person is told, not left to find it
            self.reporter.warn(
                f"{path}, the record of a paid answer an earlier render could not journal, "
                f"cannot be read ({why}): fix its permissions and render again to take it up"
            )
        for scene_id, stage, kind, what in taken:
            whose = "the plan" if scene_id == "_run" else f"{scene_id}'s {stage}"
            if kind == "succeeded":
                said = f"{whose}, paid for and saved as {what} by an earlier render, is taken up"
            elif kind == "answered":
                # (the render ended during the download: a kill, a second Ctrl-C)
                self.reporter.info(
                    f"{whose}, paid for by an earlier render that stopped as it was being "
                    "downloaded, is recorded as billed with its URL, where this render "
                    "downloads it (while the URL is valid) instead of buying it again"
                )
                continue
            elif kind == "submitted":
                said = f"{whose} job {what}, paid for by an earlier render, is polled"
            else:
                said = f"the bill of {whose}, paid for by an earlier render, is recorded" + (
                    "; its result is downloaded from the URL kept with it" if what else ""
                )
            self.reporter.info(f"{said}, not bought again (run.db could not record it then)")

    async def _run(self, store: Store, until: Until, skip_failed: bool) -> RenderResult:
        self._check_keyless(store)
        store.next_run_no()
        self._last_goals, self._last_goals_rel = goals_record(self.run_dir, store.get_meta)
        self._learn_photos(store, record=True)
        # (read before SETTINGS_META below is this render's; written once, by the first
        # render that keys as now: `OUTPUTS_META`)
        self._outputs_then = None  # (this run's store, not one a run before it read)
        self._outputs_then = self._outputs_recorded(store)
        if store.get_meta(OUTPUTS_META) is None:
            outputs = [o.model_dump(mode="json") for o in self._outputs_then]
            store.set_meta(OUTPUTS_META, json.dumps(outputs))
        # for `status`: which goals.yaml and settings the next render is compared with
        store.set_meta(GOALS_META, path_record(str(self.goals_path.resolve())))
        seen: list[str | None] = [path_record(str(self.goals_path.resolve())), None]
        with contextlib.suppress(ValueError, OSError):  # (another drive: no relative path)
            rel = os.path.relpath(self.goals_path.resolve(), self.run_dir.resolve())
            seen[1] = path_record(rel)
        listed = _goals_seen_with(store, seen, (self._last_goals, self._last_goals_rel))
        store.set_metas(
            {GOALS_SEEN_META: listed} | ({GOALS_REL_META: seen[1]} if seen[1] is not None else {})
        )
        # the last render's, said below before the estimate when these differ; this
        # render's are recorded once its spend is agreed to (or free): written before the
        # question, a render declined (or not asked, no terminal) made the next one, and
        # `status`, compare with settings nothing was made with, and say no change
        settings_before = store.get_meta(SETTINGS_META)
        store.set_meta(FOLDER_META, "out" if self._out_given else "title")
        planner, kf_model, video_model = self._providers or self._build_providers()
        self.gate = BudgetGate(
            store,
            self.budget,
            on_change=self.reporter.money,
            check=self._check_stop,
            on_wait=self._budget_wait,
            on_over=self.reporter.warn,
        )
        if any(spent := store.ledger_split()):
            # a resumed run: the view's spend is the run's (the ledger's), from the start;
            # it said $0.00 until this render paid again, then jumped to the run's total
            self.reporter.money(*spent)
        self._take_receipts(store)
        await self._recover_orphans(store, video_model)
        if self._fresh_moved is not None:  # --fresh: the set-aside run's lost create too
            await self._find_aside_orphan_job(video_model, self._fresh_moved[0])
        await self._settle_stale_jobs(store, video_model, last=False)
        if self._let_go and until in ("clips", "movie"):
            await self._find_let_go(store, video_model)
        # what THIS run would spend: `render --until keyframes` or `plan` stop early
        self._estimated_at = time.time()
        shown = file_stamp(self.run_dir / "plan.yaml")  # (the plan.yaml the question prices)
        est = self.estimate(store, planner, check=True).upto(until)
        changed, rebuys = setting_change_lines(settings_before, self.settings, store, est)
        for line in changed:  # why work made before is done (or bought) again
            (self.reporter.warn if rebuys else self.reporter.info)(line)
        if est.planner is not None and est.planner.payable:
            self._warn_extra_goal_photos()  # the plan's own warnings: once it is paid for
        # a stop while the earlier jobs were looked at: not asked "Spend about $X?" (the
        # question the person just said stop to), nor anything agreed to
        self._check_stop()
        agreed: costs.RunEstimate | None = None  # the estimate the person said yes to
        edited_at_question = False  # plan.yaml changed while the question was asked
        if est.paid:
            billed, committed = store.ledger_totals()
            carry = self._fresh_carry_held()  # --fresh: counted here once carried
            committed += carry
            if self.budget is not None and billed + committed >= self.budget - 1e-9:
                # what the budget counts, all of it: "already used (billed $0.96)" of a
                # $1.00 budget left out the $0.32 a lost call of an earlier render holds,
                # and `--budget 0` was "already used (billed $0.00)"
                held = ""
                if (unsettled := committed - carry) > 1e-9:
                    held += (
                        f", {costs.format_usd(unsettled)} held for calls of earlier renders "
                        "not settled (in flight, or of unknown outcome: `mindmovie status`)"
                    )
                if carry:
                    held += (
                        f", {costs.format_usd(carry)} held for clip jobs of the previous run "
                        "still in flight, which this run takes over"
                    )
                used = (
                    f"is already used (billed {costs.format_usd(billed)}{held})"
                    if billed + committed > 1e-9
                    else "lets no paid call through, and nothing was sent"
                )
                # (`--until keyframes` or `plan` collects no clip, and a plan to be made
                # again is a paid call the closed gate refuses, before any job is
                # collected: stopped here as before, plan.yaml not moved aside)
                replan = est.planner is not None and est.planner.payable
                jobs = self._paid_jobs(store) if until in ("clips", "movie") and not replan else []
                if not jobs or carry or self._fresh_moved is not None or self._aside_pending:
                    raise BudgetStopped(
                        f"the budget {costs.format_usd(self.budget)} {used}; render again "
                        f"with a bigger {self.budget_named} to finish (about "
                        f"{costs.format_usd(est.total)} left to do)",
                        nothing_sent=True,
                    )
                # clip jobs paid for already (most of what holds the budget): collected,
                # free, and no paid call made (not asked: nothing is to be spent). Stopped
                # here, they were left at the provider, their results valid for a day
                self.gate.close(f"budget {costs.format_usd(self.budget)} {used}")
                self.reporter.warn(
                    f"the budget {costs.format_usd(self.budget)} {used}: no paid call is "
                    f"made; the {plural(len(jobs), 'clip job')} already paid for are "
                    "collected"
                )
            else:
                est = replace(est, spent=billed + committed)
                if carry:
                    est = replace(est, carried_may_cover=self._fresh_carry_covers(est))
                try:
                    if self.confirm is not None and not self._ask(est):
                        raise Declined("nothing was spent; render again when you are ready")
                except Interrupted:
                    # Ctrl-C at the question: as a "no", the folder it made for a new
                    # run.db goes (it was left, an empty run `status` showed)
                    self._stopped_at_question = True
                    raise
                agreed = est
                edited_at_question = file_stamp(self.run_dir / "plan.yaml") != shown
        store.set_meta(SETTINGS_META, json.dumps(recorded_settings(self.settings)))
        if self._aside_pending:
            self._set_aside_unjournaled(store)  # agreed to (or free): before anything is made
        fresh_aside: Path | None = None  # (`_rename_to_title` says where it is now)
        if self._fresh_moved is not None:  # --fresh agreed to: the old run stays aside
            dest = fresh_aside = self._fresh_moved[0]
            # its clip jobs still in flight are carried here first: killed before the
            # meta is cleared, the next render puts the old run back (this run.db, and
            # what it carried, gone with it); after, before the old rows say so, both
            # ledgers count a job (over, never under) until a render marks them
            self._carry_fresh_jobs(store, dest)
            killpoint("fresh_carried")  # carried, not agreed to for good: put back
            self._fresh_moved = None
            self.fresh_set_aside = True
            store.set_meta(FRESH_META, "")
            self._report_aside_orphans(dest)  # set aside for good: no render looks again
            # the old run's compositor cache goes: nothing paid, made again from its kept
            # clips should it ever be put back by hand, and a third of a run's size set
            # aside again at every --fresh (kept until now: declined, it goes back whole)
            shutil.rmtree(dest / "compose", ignore_errors=True)
            killpoint("fresh_kept")  # counted in both ledgers until marked
            self._settle_carry_notes(store, dest)
        else:
            self._settle_carry_notes(store, None)  # (a --fresh killed before it marked)
        self._rename_to_title(store, fresh_aside)  # a new title: agreed to (or free), so now
        try:
            plan = await self._plan(store, planner)
        except BudgetExceeded as e:
            raise BudgetStopped(
                f"{e}; nothing else was sent. Raise {self.budget_named} and render again"
            ) from None
        if self._stopping:
            # the planner's answer landed in the stop's grace (or, paid, was waited for
            # past it) and plan.yaml was written: a stop all the same, not a finished
            # `render --until plan` (or `plan`), which exited 0 as if nothing was stopped
            raise Interrupted(
                f"stopped after the plan: {self.run_dir / 'plan.yaml'} is kept and the next "
                "render reuses it (not asked for again); run the same command again to go on",
                said=True,
            )
        # the plan.yaml this render makes: an edit after this is the next render's
        self._plan_read = file_stamp(self.run_dir / "plan.yaml")
        # before any keyframe or clip is paid for
        check_plan(self.run_dir / "plan.yaml", plan, len(self.goals.goals))
        res = RenderResult(run_dir=self.run_dir, movie=None, plan=plan)
        self.result = res
        self._warn_small_photos(plan)
        self._warn_extra_references(plan)
        self._warn_unused_photos(plan)
        self._note_painted(plan)
        self._warn_left_out(plan)
        self._warn_scenes_past_clips(plan)
        if until == "plan":
            self._storyboard(store)  # scenes, affirmations and costs, before any picture
            return res
        if agreed is not None and agreed.planner is not None and agreed.planner.payable:
            self._ask_again_for_the_plan(store, planner, agreed, until)
        elif agreed is not None and edited_at_question:
            # plan.yaml edited while the question waited for its answer, and read after
            # it: 10 s clips for 4 s ones spent $0.87 after "Spend about $0.40?" without
            # another word (the concurrent-use audit)
            self._ask_again_for_the_plan(store, planner, agreed, until, edited=True)
        check_scene_folders(self.run_dir, [sc.id for sc in plan.scenes])
        n = len(plan.scenes)
        self.reporter.stage("keyframes", n)
        if until != "keyframes":
            self.reporter.stage("clips", n)

        loop = asyncio.get_running_loop()
        keyframes: dict[str, asyncio.Future[Path]] = {
            sc.id: loop.create_future() for sc in plan.scenes
        }
        following = {a.id: b.id for a, b in zip(plan.scenes, plan.scenes[1:], strict=False)}
        chain = self._chains_frames()

        async def scene_flow(sc: Scene) -> tuple[str, Path | None]:
            try:
                kf = await self._keyframe(store, kf_model, sc, plan, res)
            except BaseException as e:
                keyframes[sc.id].set_exception(e)
                keyframes[sc.id].exception()  # consumed here; the flow reports it
                raise
            keyframes[sc.id].set_result(kf)
            if until == "keyframes":
                return sc.id, None
            last: Path | None = None
            if chain and sc.id in following:
                # the next scene's keyframe as this clip's last frame, for seamless joins
                try:
                    last = await asyncio.shield(keyframes[following[sc.id]])
                except BudgetExceeded as e:
                    # not sent without it: made unchained, the clip was made again (paid
                    # twice) once the next render made that keyframe ("the next scene's
                    # keyframe is new"); the room kept for it let it through the closed
                    # gate. Stopped by the budget as that keyframe was
                    raise BudgetExceeded(
                        f"{e}; the clip for {sc.id} waits for it (video.chain_frames)"
                    ) from None
                except Exception as e:
                    # made unchained, the clip was made again once the next render made
                    # that keyframe (paid twice): only for the movie --skip-failed makes
                    # without that scene (not `--until clips`, which makes none)
                    nxt = following[sc.id]
                    if self._stopping or isinstance(e, Interrupted):
                        last = None  # (a stop: nothing more is sent)
                    elif not isinstance(e, ProviderError):
                        raise  # what stopped it (a full disk, a key not set) stops this too
                    elif skip_failed and until != "clips":
                        last = None
                    else:
                        hint = (
                            ""
                            if until == "clips"
                            else f" (`render --skip-failed` makes it without, for the movie "
                            f"without {nxt})"
                        )
                        raise JobFailed(
                            f"not sent: its last frame is scene {nxt}'s keyframe "
                            "(video.chain_frames), which failed; made without it, the clip "
                            f"would be bought again once that keyframe is made{hint}",
                            provider=video_model.name,
                            scene_id=sc.id,
                        ) from e
            return sc.id, await self._clip(store, video_model, sc, kf, res, last)

        async def board_once_keyframes_are_done() -> None:
            # with a paid video model the clips take minutes: the storyboard shows every
            # keyframe as soon as they are all made, not only after the last clip
            await asyncio.gather(*keyframes.values(), return_exceptions=True)
            if not self._stopping:
                await asyncio.to_thread(self._storyboard, store)

        told: set[str] = set()  # the scenes whose failure the reporter has been told

        def ended_under(scene_id: str) -> str:
            """The stage a scene's end is said under: its clip's once its keyframe is
            made (and the render goes on to clips), else the stage it was last in."""
            made = keyframes[scene_id]
            kf_done = made.done() and not made.cancelled() and made.exception() is None
            return "clips" if kf_done and until != "keyframes" else "scenes"

        async def reported_flow(sc: Scene) -> tuple[str, Path | None]:
            # a failed scene is said when its flow ends: said after every flow had
            # ended, its row read "clips polling running" (seconds counting on) for a
            # job that had ended long before. So is a scene stopped by the budget (its
            # row said "waiting for the budget" while the last clip in flight was polled
            # and downloaded). Not Ctrl-C or a key not set: said once, for the render
            try:
                return await scene_flow(sc)
            except Exception as e:
                self._flow_errors[sc.id] = e
                if isinstance(e, BudgetExceeded) and not self._stopping:
                    told.add(sc.id)
                    # under its clip's stage once its keyframe is made: a chained clip
                    # waiting for the next keyframe was said "keyframes X: stopped" just
                    # after "keyframes X: done" (the scene's last stage said)
                    self.reporter.step(
                        ended_under(sc.id), sc.id, "stopped", "budget reached, not sent"
                    )
                elif (
                    # a provider's answer (a refusal, a failed job): a file of the run
                    # not found, or the offline provider's ffmpeg failing on one, may be
                    # the run folder going away (`rm -rf` midway), said once as
                    # RunDirGone after the flows end, not as each scene's failure
                    isinstance(e, ProviderError)
                    and (e.provider or "local") != "local"
                    and not self._stopping
                    and not self._run_dir_gone()
                    # (a file of the run of the wrong kind: said once, below)
                    and not _wrong_kind(e)
                ):
                    told.add(sc.id)
                    # under the stage that failed: a clip failing before its first event
                    # (a journaled job found gone or made elsewhere) was said under
                    # "keyframes", the scene's last stage said
                    self.reporter.step(ended_under(sc.id), sc.id, "failed", str(e))
                elif _wrong_kind(e) and not self._stopping and not await self._going_away():
                    # on its row, which said "keyframes running" to the end; the path
                    # and what to do are said once, after the flows
                    told.add(sc.id)
                    self.reporter.step("scenes", sc.id, "failed", _IN_ITS_WAY)
                raise
            finally:
                self.gate.release(sc.id)  # (room kept for a clip it did not ask for)
                self._flows_done[sc.id].set()

        self._flows_done = {sc.id: asyncio.Event() for sc in plan.scenes}
        self._flow_errors, self._asked_clip, self._gone_keys = {}, {}, {}
        board = None
        if until != "keyframes" and video_model.name != "local":
            board = asyncio.ensure_future(board_once_keyframes_are_done())

        def say_stopped(scene_ids: Iterable[str]) -> None:
            # their rows, left on the screen above "interrupted: ...", said the state the
            # stop found them in ("clips polling queued"); a scene whose keyframe was done
            # (waited for in the grace: paid) and whose clip never began was said
            # "keyframes ...: done", then "keyframes ...: stopped", as if the image were lost
            for scene_id in scene_ids:
                if scene_id not in told:
                    self.reporter.step(ended_under(scene_id), scene_id, "stopped", "interrupted")

        flows = {sc.id: asyncio.ensure_future(reported_flow(sc)) for sc in plan.scenes}
        try:
            results = await _gather_scenes(list(flows.values()), list(flows))
        except asyncio.CancelledError:
            if self._stopping:
                # the stop's grace ended (or the image it waited for came) before every
                # flow had ended, and the render was cancelled: said as when they all
                # ended (gather returns once every flow has ended, cancelled or not)
                say_stopped(
                    sid
                    for sid, flow in flows.items()
                    if not flow.done() or flow.cancelled() or flow.exception() is not None
                )
            raise
        if board is not None:
            if all(f.done() for f in keyframes.values()):
                await board  # drawn in a thread: never two at once
            else:
                board.cancel()  # a flow ended before its keyframe (Ctrl-C)
        if self._stopping:
            say_stopped(
                sid for sid, outcome in results.items() if isinstance(outcome, BaseException)
            )
            raise Interrupted(self._stop_said())
        keyless = [o for o in results.values() if isinstance(o, registry.KeyNotSet)]
        if keyless:
            # a provider left without its key was needed after all (`registry.Keyless`):
            # the key check's message, once for the render, not once a scene
            raise keyless[0]
        stopped = {k: v for k, v in results.items() if isinstance(v, BudgetExceeded)}
        if stopped:
            for scene_id in [s for s in stopped if s not in told]:
                # as status says them: their rows kept the state they waited at the
                # gate in ("clips submitting", for a clip never sent)
                self.reporter.step("scenes", scene_id, "stopped", "budget reached, not sent")
            self._storyboard(store)
            billed, committed = store.ledger_totals()
            # what this render (`--until`) has left: `--until keyframes` quoted the clips too
            left = self.estimate(store, planner).upto(until)
            room = max(0.0, (self.budget or 0) - billed - committed)
            # "budget left $0.10, about $0.10 still to do" of a clip that did not fit: in
            # cents the figures read as if it did. Said to the hundredth of a cent, with
            # the hold the cap counts (the most the calls may bill), which is what failed
            exact = round(room, 2) >= round(left.total, 2)
            shown_room = costs.format_usd(room, exact=exact)
            most = costs.format_usd(left.most_held, exact=True)
            if exact and shown_room == most and room < left.most_held - 1e-12:
                # even so "budget left $0.3200, ... up to $0.3200" ($0.3199847 of $0.32)
                shown_room, most = costs.format_usd_short(room, left.most_held)
            held = (
                f" (the cap counts up to {most}: each call at the most it may bill)"
                if exact
                else ""
            )
            raise BudgetStopped(
                f"{next(iter(stopped.values()))}.\nStopped cleanly: {len(stopped)} scene(s) "
                f"left ({_name_some(sorted(stopped))}); billed so far "
                f"{costs.format_usd(billed, exact=exact)}, budget left "
                f"{shown_room}, about "
                f"{costs.format_usd(left.total, exact=exact)} still to do{held}. Everything "
                f"paid for is kept: render again with a bigger {self.budget_named} to finish."
            )
        # jobs this run replaced (a scene's inputs were edited), or made from a request
        # whose answer was lost, have had the clips stage to finish: record what they cost
        await self._settle_lost_submissions(store, video_model)
        await self._settle_stale_jobs(
            store, video_model, last=True, plan_ids={sc.id for sc in plan.scenes}
        )
        failures = [o for o in results.values() if isinstance(o, BaseException)]
        if failures and await self._gone_under_any(failures):
            # each scene's "keyframe not found" or ffmpeg's log of a folder that is gone,
            # said as its failure, before the watcher's next look said why
            raise RunDirGone(self._gone_message())
        if any(_wrong_kind(o) for o in results.values() if isinstance(o, BaseException)):
            # a folder put where a keyframe or clip goes, or scenes/ made a file, during
            # the render: each scene failed with raw "[Errno 21] Is a directory" (or
            # "Not a directory") text; the next render refuses it before any step
            try:
                check_scene_folders(self.run_dir, [sc.id for sc in plan.scenes])
            except RunDirError as e:
                for scene_id, outcome in results.items():
                    if isinstance(outcome, BaseException) and scene_id not in told:
                        # (a scene failed of another cause) its row was never told: the
                        # live view ended with "clips running" for it, a log had no line
                        # and its totals no "failed"
                        why = str(outcome) if not _wrong_kind(outcome) else _IN_ITS_WAY
                        self.reporter.step("scenes", scene_id, "failed", why)
                raise RenderFailed(f"{e}{_PUT_DURING_THE_RENDER}") from None
        # a stop while they were settled (within the grace): an interrupt, not a render
        # that ended as done after `--until keyframes` or `clips`
        self._check_stop()
        clips: dict[str, Path] = {}
        for scene_id, outcome in results.items():
            if isinstance(outcome, BaseException):
                msg = str(outcome)
                res.failed[scene_id] = msg
                if isinstance(outcome, ResultGone):
                    res.gone.add(scene_id)
                elif isinstance(outcome, ContentRejected) or (
                    isinstance(outcome, InvalidRequest) and outcome.answered
                ):
                    res.refused.add(scene_id)
                if scene_id not in told:
                    if is_disk_full(outcome):
                        # the render's stop, said once below: each scene said "failed -
                        # database or disk is full" (SQLite's words), one whose keyframe
                        # was just said done too
                        self.reporter.step("scenes", scene_id, "stopped", "the disk is full")
                    else:
                        self.reporter.step("scenes", scene_id, "failed", msg)
            elif outcome is not None:
                clips[scene_id] = outcome
        if any(isinstance(o, BaseException) and is_disk_full(o) for o in results.values()):
            # not a scene's fault: every scene left is stopped by it, and so would the
            # compose be (--skip-failed included); say which disk, not "N scenes failed"
            raise DiskFull(self._with_not_kept(disk_full_message(self.run_dir, self._paid())))
        denied = [
            o
            for o in results.values()
            if isinstance(o, OSError) and o.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
        ]
        if denied:  # (as a full disk: the folder's, said once by `_run_built`, exit 2)
            raise denied[0]
        limits = [
            limit_message(o, self.run_dir) for o in results.values() if isinstance(o, BaseException)
        ]
        if any(limits):  # (as a full disk: not the scenes' fault, and stops them all)
            raise DiskFull(self._with_not_kept(next(m for m in limits if m)))
        refused = [o for o in results.values() if isinstance(o, InvalidRequest) and o.setting]
        if refused:
            # the person's setting, refused by the provider: not a scene's fault, and
            # every scene would fail of it (--skip-failed included): said once, with
            # its setting first (the CLI puts where it was written in front)
            raise InvalidRequest(
                f"{refused[0].message}. {len(refused)} scene(s) not made for it; finished "
                "work is kept: change the setting and render again",
                setting=refused[0].setting,
                provider=refused[0].provider,
            )
        composing = until not in ("keyframes", "clips") and bool(clips)
        composing = composing and (not res.failed or skip_failed)
        board_done: asyncio.Future[bool] | None = None
        if composing:
            # drawn beside the compose: ~1.5 s of Python for 7 scenes that sat between
            # the last clip and the compose's first encoder (the example's render took
            # longer than its movie on a 2-core machine without AVX-512)
            # (with --skip-failed its length is the movie's: the scenes `_compose` leaves
            # out, those without a clip, are not in it)
            left_out = {sc.id for sc in plan.scenes if sc.id not in clips}
            board_done = asyncio.ensure_future(asyncio.to_thread(self._storyboard, store, left_out))
            board_written = True
        else:
            board_written = self._storyboard(store)
        if until == "keyframes":
            if res.failed:
                self._warn_plan_edited_during()  # (its failed scenes may be the edit's)
                raise RenderFailed(_failed_message(res.failed, res.gone, res.refused))
            # the board's page when it was written; else (its warning is above) the
            # keyframes themselves: the page named here did not exist
            where = self.run_dir / ("storyboard.html" if board_written else "scenes")
            # a render without --out goes to output_dir/<title>: told "`render` again",
            # the person started a new run there, planning and buying the keyframes again
            again = "`render` again"
            if self._out_given and _not_same_path(self.run_dir, self._home):
                again = f"`render` again with --out {shlex.quote(str(self.run_dir))}"
            self._warn_plan_edited_during()
            self.reporter.info(f"keyframes ready for review: {where}; {again} to continue")
            return res
        if res.failed and (not skip_failed or until == "clips"):
            # (--skip-failed is the movie's: `--until clips` makes none, and said it was
            # "composing without" the failed scenes, then ended as done)
            # --skip-failed offered only where it makes a movie: of the scenes that have
            # a clip (every scene failed of a refused key: it ended "no scene has a clip")
            offer = clips and until != "clips"
            self._warn_plan_edited_during()  # (its failed scenes may be the edit's)
            raise RenderFailed(
                _failed_message(res.failed, res.gone, res.refused)
                + ("\n(or `render --skip-failed` to make the movie without them)" if offer else "")
            )
        if res.failed:
            self.reporter.warn(
                f"--skip-failed: composing without {len(res.failed)} scene(s): "
                + ", ".join(sorted(res.failed))
            )
        if not clips:
            raise RenderFailed("no scene has a clip; nothing to compose")
        if until == "clips":
            self._warn_plan_edited_during()
            return res
        try:
            res.movie = await asyncio.to_thread(self._compose, store, plan, clips, res)
            self._warn_plan_edited_during()
            if board_done is not None:
                await board_done
        except Exception as e:
            # Ctrl-C at a terminal reaches the whole process group: the compose's ffmpeg
            # processes die of it too, and their failure is the interrupt, not an error
            # (it was a traceback and exit 1 instead of the resume line and 130)
            if self._stopping:
                # (its row, left on the screen, said "encoding 16/63")
                self.reporter.step("compose", "movie", "stopped", "interrupted")
                if board_done is not None:
                    # drawn beside the compose: ended first (with the run folder gone it
                    # wrote a storyboard into a folder made again after it was removed)
                    await asyncio.gather(board_done, return_exceptions=True)
                raise Interrupted(f"{self._stop_said()} during the compose") from None
            if await self._gone_under(e):
                # not the compose's failure: the folder it wrote in went away (said once)
                self.reporter.step("compose", "movie", "stopped", "the run folder went away")
                if board_done is not None:
                    await asyncio.gather(board_done, return_exceptions=True)  # (as above)
                raise RunDirGone(self._gone_message()) from None
            # (the error line says why; the row said "encoding 3/9", or "done 9/9"
            # when the final join failed)
            self.reporter.step("compose", "movie", "failed")
            if board_done is not None:
                # the board drawn beside the compose is finished while the run's store
                # is open: cut short, it warned "storyboard not written: Cannot operate
                # on a closed database" above the compose's error (3 runs in 4)
                await board_done
            from mindmovie.media import FFmpegError, failure_line

            gone = [str(c) for _, c in sorted(clips.items()) if not c.is_file()]
            if gone and not _no_room(e):
                # deleted or made a folder after its step was done: "every keyframe and
                # clip is kept and the next render only composes" was not so, and sent
                # the person to `mindmovie doctor`
                them = "it" if len(gone) == 1 else "them"
                raise RenderFailed(
                    f"the compose failed: {', '.join(gone)} went away during the render "
                    f"(deleted, moved or replaced); the next render makes {them} again, "
                    "and reuses everything else"
                ) from None
            song = expanded(plan.music) if plan.music else None
            if song is not None and not song.is_file() and not _no_room(e):
                # checked when goals.yaml was read, gone since (a drive unplugged, a
                # synced file made online-only): a FileNotFoundError traceback, exit 1
                raise RenderFailed(
                    f"the compose failed: the music {song} went away during the render "
                    "(deleted or moved); put it back, or name another file as music: in "
                    "goals.yaml (or plan.yaml), and render again: every keyframe and clip "
                    "is kept and the next render only composes"
                ) from None
            if _wrong_kind(e):
                # a work folder made a file (or a folder put where a file goes) during
                # the compose: raw "[Errno 17] File exists: '.../compose/segments'" text;
                # said as the next render's refusal says it
                try:
                    _check_run_dir(self.run_dir, str(self.run_dir))
                except RunDirError as bad:
                    raise RenderFailed(f"{bad}{_PUT_DURING_THE_RENDER}") from None
            if isinstance(e, FFmpegError) and not _no_room(e):
                # (a full disk is said as such by `_run_built`). It was a traceback,
                # after every paid keyframe and clip was made, saying nothing of them
                raise RenderFailed(
                    f"the compose failed; every keyframe and clip is kept and the next "
                    f"render only composes (`mindmovie doctor` checks ffmpeg): "
                    f"{failure_line(e)}"
                ) from None
            raise
        return res

    def _warn_plan_edited_during(self) -> None:
        """Say that plan.yaml was edited while this render made the plan it had read: it
        bought and composed the scenes as they were, a scene deleted meanwhile too, and
        ended saying nothing of the edit (the concurrent-use audit); the next render
        makes what the edit asks (`status` tells which scenes)."""
        read = self._plan_read
        if read is None or file_stamp(self.run_dir / "plan.yaml") == read:
            return
        self.reporter.warn(
            f"{self.run_dir / 'plan.yaml'} changed during this render, which made the plan "
            "as it was when the render read it: render again to make what the edit asks "
            "(`mindmovie status` says which scenes)"
        )

    def _current_clips(self, store: Store, plan: Plan) -> dict[str, str]:
        """The clips on disk made from the scene's keyframe and inputs as they are now
        (the ones the next render reuses), by scene id, with their sha256. A clip left
        from before an edit (`render --until keyframes` after a prompt was changed made a
        new keyframe, not a new clip) is not one: the storyboard played it beside the
        new keyframe as if it were that keyframe's clip."""
        model = self._video_model
        if model is None:
            return {}
        chain = self._chains_frames()
        scenes = list(plan.scenes)
        out: dict[str, str] = {}
        for i, sc in enumerate(scenes):
            folder = self.run_dir / "scenes" / sc.id
            kf = folder / "keyframe.png"
            if not (folder / "clip.mp4").is_file() or not kf.is_file():
                continue
            last: Path | None = None
            if chain and i + 1 < len(scenes):
                nxt = self.run_dir / "scenes" / scenes[i + 1].id / "keyframe.png"
                last = nxt if nxt.is_file() else None
            req = self._video_request(sc, kf, last)
            keys = [key for _, key, _ in self._clip_variants(model, sc, req, store=store)]
            for key in standing_clip_keys(store, keys):
                step = store.reusable(sc.id, "clip", key)
                if step is not None and step.sha256:
                    out[sc.id] = step.sha256
                    break
        return out

    def _current_keyframes(
        self, store: Store, plan: Plan
    ) -> dict[str, tuple[str, dict[str, object]]]:
        """The keyframes on disk that are this plan.yaml's (sha256 and the fields each was
        made from, by scene id): the ones this run made or reused, and those an earlier
        run recorded for fields unchanged since. `mindmovie storyboard` after an edit of
        an image prompt showed the old picture beside the new prompt as if it were its."""
        from mindmovie.plan import KEYFRAMES_META
        from mindmovie.storyboard import keyframe_inputs, recorded_keyframes

        res = self.result
        made = (
            {sid for sid, stage in (*res.ran, *res.reused) if stage == "keyframe"} if res else set()
        )
        raw = store.get_meta(KEYFRAMES_META)
        before = recorded_keyframes(self.run_dir, plan, raw=raw) if raw is not None else None
        out: dict[str, tuple[str, dict[str, object]]] = {}
        unused = self._unused_fields(plan)
        for sc in plan.scenes:
            kf = self.run_dir / "scenes" / sc.id / "keyframe.png"
            if not kf.is_file():
                continue
            sha = sha256_file(kf)
            if sc.id in made or before is None:  # no record yet: nothing to say it is old
                fields = [*KEYFRAME_FIELDS, "style"]  # what plan.edited_fields watches
                if self._keyframe_provider == "local":
                    fields.append("category")
                # not what it is made from (`_keyframe_variants`): the board marked a
                # painted keyframe out of date after a reference_photos edit status
                # called reuse
                fields = [f for f in fields if f not in unused.get(sc.id, ())]
                out[sc.id] = (sha, keyframe_inputs(sc, plan.style, fields))
            elif sc.id in before and before[sc.id][0] == sha:
                out[sc.id] = before[sc.id]
        return out

    def _storyboard(self, store: Store, left_out: Collection[str] = ()) -> bool:
        """Refresh the contact sheet; a storyboard problem never fails a render.

        The estimates are recorded in the run, for `mindmovie storyboard RUN_DIR` (which
        has no settings to price with) to show the same. Says whether the board is there
        and current (False after the warning of a problem). `left_out`: the scenes the
        movie is composed without (`--skip-failed`), not in the length its header says.
        """
        from mindmovie.plan import KEYFRAMES_META
        from mindmovie.storyboard import (
            CLIPS_META,
            COSTS_META,
            HTML_NAME,
            PNG_NAME,
            board_inputs,
            clips_record,
            costs_record,
            failed_notes,
            keyframes_record,
            movie_seconds,
            storyboard_from_run,
        )

        try:
            plan = load_plan(self.run_dir / "plan.yaml")
            est = self.whole_estimate(plan)  # full, not what is left
            per_scene = {s.scene_id: s.total for s in est.scenes}
            same = {s.scene_id: by for s in est.scenes if (by := s.same_as)}
            # the plan's call too, beside the scenes' total: as `estimate` counts it
            planner = costs.estimate_planner(self.settings, self.goals).usd
            movie = movie_seconds(plan, self.settings, left_out)  # (its header's length)
            store.set_meta(COSTS_META, costs_record(plan, per_scene, planner, movie, same))
            current = self._current_clips(store, plan)
            store.set_meta(CLIPS_META, clips_record(plan, current, self._unused_fields(plan)))
            made = self._current_keyframes(store, plan)
            store.set_meta(KEYFRAMES_META, made_record := keyframes_record(made))
            kf_current = {sid: sha for sid, (sha, _) in made.items()}
            failed = failed_notes(store.steps(), plan)
            # drawing it takes ~0.7 s for 7 scenes: not again when nothing it shows changed
            digest = board_inputs(
                self.run_dir, plan, per_scene, current, planner, kf_current, failed, movie, same
            )

            def as_drawn() -> str:
                """The digest with the board files as they are (size, mtime): a `storyboard`
                a render overtook wrote its older board after the render's, and later
                renders, seeing the digest unchanged, kept it ("no clip yet" of clips)."""
                files = []
                for name in (PNG_NAME, HTML_NAME):
                    st = os.stat(self.run_dir / name)
                    files.append(f"{st.st_size}:{st.st_mtime_ns}")
                return f"{digest} {' '.join(files)}"

            drawn = all((self.run_dir / name).is_file() for name in (PNG_NAME, HTML_NAME))
            if drawn and store.get_meta("storyboard_inputs") == as_drawn():
                return True
            storyboard_from_run(
                self.run_dir,
                costs=per_scene,
                current_clips=current,
                planner_cost=planner,
                current_keyframes=kf_current,
                failed=failed,
                movie=movie,
                same_as=same,
                plan=plan,
                keyframes_raw=made_record,
            )
            store.set_meta("storyboard_inputs", as_drawn())
        except Exception as e:  # cosmetic output: report and go on
            self.reporter.warn(f"storyboard not written: {input_gone(e, self.run_dir) or e}")
            return False
        return True


async def _gather_scenes(
    flows: list[Awaitable[tuple[str, Path | None]]], ids: list[str]
) -> dict[str, Path | BaseException | None]:
    """Run every scene's flow; a failing scene never cancels the others."""
    outcomes = await asyncio.gather(*flows, return_exceptions=True)
    out: dict[str, Path | BaseException | None] = {}
    for scene_id, o in zip(ids, outcomes, strict=True):
        if isinstance(o, BaseException):
            if not isinstance(o, Exception):
                raise o  # KeyboardInterrupt / CancelledError propagate
            out[scene_id] = o
        else:
            out[o[0]] = o[1]
    return out


#: said after the refusal of a file of the wrong kind met during the render
_PUT_DURING_THE_RENDER = (
    " (it was put there during the render: what was made and paid for is kept, and the "
    "next render reuses it)"
)

#: a scene's failure said of a file of the run of the wrong kind met during the render,
#: on its row: the path and what to do are the error line's (its raw text said nothing)
_IN_ITS_WAY = "a folder or file was put in its way during the render (see the error below)"

#: what a scene's failure says when a file of the run is where a folder goes (or a
#: folder where a file goes)
_WRONG_KIND_ERRNOS = (errno.ENOTDIR, errno.EISDIR, errno.EEXIST)


def _may_be_gone(e: BaseException) -> bool:
    """Might `e` come of the run folder going away: a file of the run not found, or the
    offline provider failing (its ffmpeg and painter read and write in the run folder:
    "keyframe not found", "Unable to re-open ... output file")."""
    if isinstance(e, FileNotFoundError) or "No such file or directory" in str(e):
        return True
    return isinstance(e, ProviderError) and (e.provider or "local") == "local"


class InputGone(Exception):
    """A file of the goals (a photo) that was there when the render began is not there
    now: moved or deleted during the render. The message names it and what to do."""


def input_gone(e: BaseException, run_dir: Path | None) -> str | None:
    """What to say of `e` when it is a file outside the run folder not found (a goal's
    photo moved or deleted while the render ran: its scene said only "[Errno 2] No such
    file or directory: '/home/me/proj/photos/run.jpg'", and the storyboard "storyboard
    not written: [Errno 2] ..."); None for anything else (a file of the run folder gone
    is said as `RunDirGone` or the scene's own step). The render's estimate, before any
    step, read it too: a FileNotFoundError traceback, exit 1 (`cli._run_pipeline`)."""
    if not isinstance(e, FileNotFoundError) or e.filename is None:
        return None
    path = Path(os.fsdecode(e.filename))
    if run_dir is not None:
        try:
            inside = path.resolve().is_relative_to(run_dir.resolve())
        except (OSError, RuntimeError):
            inside = False
        if inside or path.is_relative_to(run_dir):
            return None
    return (
        f"{path}: not found, moved or deleted during the render? Put it back (or edit "
        "goals.yaml) and render again"
    )


def _wrong_kind(e: BaseException) -> bool:
    """Did `e` come of a file of the run being of the wrong kind (a folder where a file
    goes, a file where a folder goes)? Raised, or in a provider's or ffmpeg's words."""
    if isinstance(e, OSError) and e.errno in _WRONG_KIND_ERRNOS:
        return True
    return any(os.strerror(n) in str(e) for n in _WRONG_KIND_ERRNOS)


#: the live view's stage of a paid call's step, and its state once the call is let go
_VIEW_STAGE = {"clip": "clips", "keyframe": "keyframes"}
_SENDING = {"clips": "submitting", "keyframes": "running"}


#: how a call not sent, for the key or account its model's first call got refused in
#: the same run, ends its error (`Pipeline._check_refused_key`)
NOT_SENT_REFUSED = " (not sent: refused earlier in this run)"


def _failed_message(
    failed: dict[str, str], gone: Collection[str] = (), refused: Collection[str] = ()
) -> str:
    """The render's last word on its failed scenes. `gone`: those whose paid result can
    no longer be downloaded (`ResultGone`): rendering again does not retry them, it buys
    them again, which their own lines say (with the spend question first); the line
    "`render` again retries them" was said of them too, and was not true. `refused`:
    those whose request the provider refused as sent (a 400 on a prompt or a parameter,
    the content filter): rendering again sends the same request, refused again, so they
    are said apart, each line saying what to change (`refused_request_fix`)."""
    retried = {s: m for s, m in failed.items() if s not in gone and s not in refused}
    turned = {s: m for s, m in failed.items() if s in refused and s not in gone}
    lost = {s: m for s, m in failed.items() if s in gone}
    lines = [f"{len(failed)} scene(s) failed; finished work is kept"]
    if retried:
        lines[0] += ", `render` again retries " + ("them:" if not (turned or lost) else "these:")
        # the scenes a refusal of the key stopped unsent are named on one line: each
        # said the refusal above again ("... (not sent: refused earlier in this run)")
        unsent = sorted(sid for sid, msg in retried.items() if msg.endswith(NOT_SENT_REFUSED))
        told = [(sid, msg) for sid, msg in sorted(retried.items()) if sid not in unsent]
        lines += [f"  {sid}: {msg}" for sid, msg in told]
        if unsent:
            lines.append(
                f"  {', '.join(unsent)}: not sent, {'as' if told else 'for'} the key or "
                "account was refused earlier in this run"
            )
    if turned:
        said = "(the same request is refused again): change what each says, then render again:"
        if retried:
            lines.append(f"and these, which the provider refused as sent {said}")
        else:
            lines[0] += f"; the provider refused {'them' if not lost else 'these'} as sent {said}"
        lines += [f"  {sid}: {msg}" for sid, msg in sorted(turned.items())]
    if lost:
        lines[0] += ":" if not (retried or turned) else ""
        if retried or turned:
            lines.append("and these, which the next render buys again (counted in its estimate):")
        lines += [f"  {sid}: {msg}" for sid, msg in sorted(lost.items())]
    return "\n".join(lines)


#: what a refused request's parameter is in plan.yaml (a scene's field) or the settings,
#: for a keyframe's request and a clip's; the names are Ark's (`InvalidRequest.param`),
#: Google's fields read as them (`google._named_param`)
_SCENE_FIELDS: dict[str, dict[str, str]] = {
    "keyframe": {"prompt": "image_prompt", "image": "reference_photos"},
    "clip": {"prompt": "motion_prompt", "text": "motion_prompt", "duration": "seconds"},
}
_SETTINGS_OF: dict[str, dict[str, str]] = {
    "keyframe": {
        "size": "output.aspect and output.resolution (or keyframes.options.size)",
        "seed": "keyframes.seed",
    },
    "clip": {
        "ratio": "output.aspect",
        "resolution": "output.resolution",
        "seed": "video.seed",
        "generate_audio": "video.audio",
        # (Veo's `lastFrame`: the next scene's keyframe, sent only with chain_frames; it
        # was told as this scene's keyframe or motion_prompt to change)
        "last_frame": "video.chain_frames (the next scene's keyframe goes as the last frame)",
    },
}


def refused_request_fix(plan_yaml: Path, scene_id: str, stage: str, param: str | None) -> str:
    """What a scene whose keyframe or clip request the provider refused as sent (a 400:
    `InvalidRequest` with no `setting`) must change, for its failure line: the plan.yaml
    field or setting the refused parameter is, else the fields the request is made of.
    Its line sat under "`render` again retries them", and the same request is refused
    again."""
    key = (param or "").lower()
    if key in _SCENE_FIELDS[stage]:
        where = f"scene {scene_id}'s `{_SCENE_FIELDS[stage][key]}` in {plan_yaml}"
    elif key in _SETTINGS_OF[stage]:
        where = f"the setting {_SETTINGS_OF[stage][key]}"
    elif stage == "clip" and key in ("content", "image", "image_url", "first_frame"):
        where = (
            f"scene {scene_id}'s keyframe (scenes/{scene_id}/keyframe.png, made from its "
            f"`image_prompt` in {plan_yaml}) or its `motion_prompt` there"
        )
    else:
        fields = "`image_prompt`" if stage == "keyframe" else "`motion_prompt` or `seconds`"
        where = (
            f"what the refusal names: scene {scene_id}'s {fields} in {plan_yaml}, or the "
            f"{'keyframes' if stage == 'keyframe' else 'video'} and output settings"
        )
    return f"; the same request is refused again: change {where}, then render again"


def output_spec(settings: Settings) -> OutputSpec:
    """The movie's frame, rate, timings and quality as the settings give them: what the
    compose lays the timeline out with (and the board's movie length,
    `storyboard.movie_seconds`)."""
    from mindmovie.compose.timeline import OutputSpec

    w, h = settings.output.frame()
    cs = settings.compose
    return OutputSpec(
        width=w,
        height=h,
        fps=settings.output.fps,
        crossfade=cs.crossfade,
        title_seconds=cs.title_seconds,
        closing_seconds=cs.closing_seconds,
        quality=cs.quality,
    )


def movie_settings(settings: Settings) -> dict[str, Any]:
    """The settings the movie's key holds besides its scenes (`Pipeline._compose`): the
    compose engine, quality and timings, the frame and its rate (not `workers`)."""
    cs = settings.compose
    w, h = settings.output.frame()
    return {
        "compose.engine": cs.engine,
        "compose.quality": cs.quality,
        "compose.crossfade": cs.crossfade,
        "compose.title_seconds": cs.title_seconds,
        "compose.closing_seconds": cs.closing_seconds,
        "output.size": f"{w}x{h}",
        "output.fps": settings.output.fps,
    }


def _plan_calls_billed(store: Store, rows: Sequence[int], provider: str) -> str:
    """What a failed plan says of its cost: the calls of `rows` the planner answered,
    billed (a plan still invalid after its repair, cut at max_tokens, refused), and
    that nothing else was bought; "" when none was billed. The failure said only what
    was wrong with the plan, and with --quiet nothing said it had cost anything."""
    ids = set(rows)
    billed = [r for r in store.ledger_rows() if r["id"] in ids and r["state"] == "billed"]
    if not billed:
        return ""
    usd = sum(float(r["billed_usd"] or 0.0) for r in billed)
    were = "was" if len(billed) == 1 else "were"
    return (
        f" (the plan's {plural(len(billed), 'call')} to {provider} {were} billed "
        f"{costs.format_usd(usd)}; no keyframe or clip was bought)"
    )


def _planner_identity(settings: Settings) -> tuple[str, str]:
    """The planner's (provider, model) without building it: estimating needs no key."""
    spec = costs.stage_spec(settings, "planner")
    model = spec.id if spec is not None else "local-planner-1"
    return settings.stage_provider("planner"), model


def _keyframe_spec(settings: Settings, own_photo: bool) -> ModelSpec | None:
    """The catalog entry of the model that makes a scene's keyframe: an edit model's
    text-to-image model for a scene without a photo of its own (as `_keyframe_model_for`
    chooses), None for the offline keyframes."""
    text = None if own_photo else costs.text_keyframe_settings(settings)
    return costs.stage_spec(text or settings, "keyframes")


def reference_photo_warnings(settings: Settings, goals: Goals, plan: Plan, base: Path) -> list[str]:
    """One warning per scene with more reference photos than its keyframe model takes:
    those past its limit are left out (`catalog.references_sent`, as the providers leave
    them out). Before, a person who gave 8 photos to a model that takes 4 got no word of
    it (and Gemini failed the scene). The scene, how many photos, how many the model
    takes, the ones left out (as goals.yaml names them, relative to `base`); a model
    that takes none is one warning naming the scenes. An edit model (SeedEdit) restyles
    the goal's photo: nothing is left out."""
    out: list[str] = []
    unsent: dict[str, list[str]] = {}
    scenes = list(plan.scenes)
    for sc in scenes:
        if not sc.reference_photos:
            continue
        own = costs.scene_source_photo(goals, scenes, sc) is not None
        spec = _keyframe_spec(settings, own)
        if spec is None:
            continue  # the offline keyframe shows the goal's own photo, sends none
        refs = [expanded(p) for p in sc.reference_photos]
        sent, left = references_sent(spec, refs)
        if not left:
            continue
        if not sent:  # the model takes none: said once, below
            unsent.setdefault(spec.key, []).append(sc.id)
            continue
        shown = ", ".join(
            os.path.relpath(p, base) if p.is_relative_to(base) else str(p) for p in left
        )
        k = len(sent)
        out.append(
            f"{sc.id}: {len(refs)} reference photos, and {spec.key} takes at most {k}: "
            f"{shown} left out (the first {k} are sent; to choose them, put them first in "
            "the scene's reference_photos in plan.yaml)"
        )
    for key, ids in unsent.items():
        out.append(
            f"{key} takes no reference photos: those of {', '.join(ids)} are left out "
            "(their keyframes are drawn from the prompts alone; a keyframes.model that "
            "takes reference photos uses them)"
        )
    return out


def ignored_settings(settings: Settings) -> list[str]:
    """What the settings ask of a local provider that it cannot do (stage options, a
    model, sound), one line each: said by the render as it starts and by doctor as
    warnings (doctor said "ready" of them, unsaid)."""
    said = [
        f"{stage}.options ({', '.join(sorted(opts))}): the local {stage} provider takes "
        "no options; they are ignored"
        for stage in ("planner", "keyframes", "video")
        if (opts := getattr(settings, stage).options) and settings.stage_provider(stage) == "local"
    ]
    said += [
        # a model for a local stage (`video.model: nosuch`, a paid model's name left when
        # the stage was set local) passed silently everywhere, doctor too: options audit
        f"{stage}.model ({model}): the local {stage} provider has one model of its own; "
        "it is ignored"
        for stage in ("planner", "keyframes", "video")
        if (model := getattr(settings, stage).model) and settings.stage_provider(stage) == "local"
    ]
    if settings.video.audio and settings.stage_provider("video") == "local":
        # silently ignored before: the person asked for sound and got none, unsaid
        said.append(
            "video.audio: the local video provider makes no sound; it is ignored (the "
            "movie's sound is its music)"
        )
    return said


def unused_photo_warning(goals: Goals, plan: Plan, base: Path) -> str | None:
    """One line naming each goal's photos that no scene's offline keyframe shows (one
    photo a scene, `plan.source_photo`), as goals.yaml names them (relative to `base`),
    with the `scenes:` that would show them; None when every photo is shown. A goal with
    more photos than scenes showed only the first few, and nothing said which, nor how to
    show the rest."""
    from mindmovie.goals import MAX_SCENES_PER_GOAL

    scenes = list(plan.scenes)
    said = []
    for n, goal in enumerate(goals.goals, 1):
        if not goal.photos:
            continue
        mine = [sc for sc in scenes if sc.goal == n]
        shown = {costs.scene_source_photo(goals, scenes, sc) for sc in mine}
        unused = [p for p in goal.photos if p not in shown]
        if not unused:
            continue
        names = ", ".join(
            os.path.relpath(p, base) if p.is_relative_to(base) else str(p) for p in unused
        )
        text = (
            f"goal {n} ({goal.category}): {plural(len(goal.photos), 'photo')} and "
            f"{plural(len(mine), 'scene')}, one photo a scene, so {names} "
            f"{'is' if len(unused) == 1 else 'are'} not shown"
        )
        if len(mine) >= MAX_SCENES_PER_GOAL:
            # (it said "give it `scenes: 6`" of a goal that has them)
            text += (
                f" ({MAX_SCENES_PER_GOAL} scenes are the most a goal takes: move those "
                "photos to a goal of their own, or leave them out)"
            )
        elif len(mine) < len(goal.photos):
            more = min(len(goal.photos), MAX_SCENES_PER_GOAL)
            text += f" (give it `scenes: {more}` in goals.yaml"
            text += " to show each)" if more == len(goal.photos) else ", the most it takes)"
        said.append(text)
    if not said:
        return None
    return "offline keyframes: " + "; ".join(said)


#: the width `painted_note` wraps its lines at: a log's line after its 10-column stamp
#: stays within 100 columns
NOTE_WIDTH = 88


def _drawn_elsewhere(lacks: str) -> str:
    """The characters of `lacks` (those a text's font cannot draw) that some font here
    draws: the best font for those left (`face_for`), again until it draws none of them.
    A search per character read up to `fonts.MAX_FONTS_OPENED` font files for each
    (seconds for a Chinese goal on a machine with hundreds of fonts and no CJK one);
    this is one search per font that helps, and one that finds none."""
    from mindmovie.compose.cards import face_for, missing_glyphs

    left, found = lacks, ""
    while left:
        drawn = "".join(c for c in left if c not in missing_glyphs(left, face_for(left)))
        if not drawn:
            break
        found += drawn
        left = "".join(c for c in left if c not in drawn)
    return "".join(c for c in lacks if c in found)


def painted_note(plan: Plan, painted: list[Scene]) -> str | None:
    """The one note of `Pipeline._note_painted` for the `painted` scenes of `plan` (None:
    no painted scene, or none with a style or reference photos it would leave unused)."""
    styled = bool((plan.style or "").strip())
    refs = any(sc.reference_photos for sc in painted)
    if not painted or not (styled or refs):
        return None
    import textwrap

    ids = [sc.id for sc in painted]
    shown = ", ".join(ids[:4]) + (f" +{len(ids) - 4}" if len(ids) > 4 else "")
    # (it said "The painter does not use the style": the local planner writes goals.yaml's
    # style into each image_prompt, whose words the painter draws from, so a style of
    # "neon night city" painted a skyline: first-user audit)
    sentences: tuple[str, ...] = (
        f"offline keyframes: {len(ids)} scene(s) without a goal photo ({shown}) are painted, "
        "a landscape in the goal's colours drawn from words of its image_prompt"
        + (" (the offline planner writes goals.yaml's style into it)." if styled else "."),
    )
    if refs:
        sentences += (
            "The painter does not use reference photos (goals.yaml's person.photos, "
            "plan.yaml's reference_photos): only a paid keyframe model uses them (--preset "
            "byteplus or google).",
        )
    sentences += ("To show your own photo in a scene offline, give its goal `photos:`.",)
    # short lines, each sentence on its own: one line of ~420 characters in a pipe or a
    # log (where nothing wraps it) was read by scrolling sideways. Words are not broken
    # (a scene id, a path), so a line is longer only for a word that is.
    return "\n".join(
        textwrap.fill(s, NOTE_WIDTH, break_long_words=False, break_on_hyphens=False)
        for s in sentences
    )


def goal_photo_warnings(settings: Settings, goals: Goals) -> list[str]:
    """Before there is a plan: one warning per goal whose scenes will have more reference
    photos than the keyframe model takes (each scene gets the goal's photos, else the
    person's: both planners do so). Which are left out is the plan's to say."""
    out: list[str] = []
    person = list(goals.person.photos) if goals.person else []
    for gi, goal in enumerate(goals.goals, 1):
        photos = list(goal.photos) or person
        spec = _keyframe_spec(settings, bool(goal.photos)) if photos else None
        if spec is None:
            continue
        sent, left = references_sent(spec, photos)
        if not left or not sent:  # none taken: `reference_photo_warnings` says it once
            continue
        whose = "" if goal.photos else "the person's "
        k = len(sent)
        out.append(
            f"goal {gi} ({goal.category}): {whose}{len(photos)} reference photos, and "
            f"{spec.key} takes at most {k}: each of its scenes is sent {k} of them and the "
            f"others are left out (give the goal the {k} that matter most, or choose per "
            "scene in plan.yaml; `plan` names them)"
        )
    return out


def look_priced(settings: Settings, goals: Goals, look: Outlook) -> costs.RunEstimate:
    """What a render with this outlook would still cost (`Pipeline.estimate`, the
    render's own, and `estimate_for`, the `estimate` command's): one pricing for both."""
    # a new plan by the local planner is known (`Outlook.basis`), the hand edits it
    # carries over included: a scene deleted by hand was priced from its plan without them
    partial = look.plan is None and look.basis is None and look.partial is not None
    return costs.estimate_run(
        settings,
        goals,
        look.plan or look.basis or look.partial,
        done=set(look.reused),
        plan_done=look.plan is not None or (partial and look.planner_goals is None),
        planner_goals=look.planner_goals if partial else None,
        shared=look.shared,
        maybe=look.maybe,
        paid=look.paid,
        refused=look.refused,
    )


def estimate_for(
    goals_path: Path,
    settings: Settings,
    *,
    out: Path | None = None,
    warn: Callable[[str], None] | None = None,
    let_go: bool = False,
    fresh: bool = False,
) -> costs.RunEstimate:
    """`mindmovie estimate`: the run's remaining cost, without a lock, a planner call or
    any other spending; an existing run's plan.yaml and finished steps are taken into account.
    Settings `render` refuses to start with (no clip can have them, a stage option it
    refuses) are refused the same. `warn` is told what `render` would warn of before any
    keyframe is paid for: reference photos the keyframe model is not sent (per scene of
    the plan that would be used, else per goal). `let_go`: what `render --let-go` would
    buy, asking no provider (`Pipeline._may_let_go`: over, never under). `fresh`: what
    `render --fresh` would spend, the run there set aside (moving nothing): a whole new
    run, with `spent` the holds of the clip jobs it carries (`fresh_carried`), which its
    budget counts before its question, and what they may save (`carried_may_cover`)."""
    pipe = Pipeline(goals_path, settings, out=out)
    pipe._let_go_guess = let_go
    if warn is not None:
        for note in pipe.goals.notes:  # as `plan` says them (`#blessed`)
            warn(note)
    # a run folder render refuses (--out a file, or a folder of other files): estimate
    # priced a render that would stop at once, with exit 0
    what = _usable_run_dir(pipe.run_dir, pipe._out_given)
    _check_creatable(pipe.run_dir, what)
    pipe._check_clip_settings()  # render refuses them: no price for clips never made
    registry.check_options(settings)
    db = pipe.run_dir / "run.db"
    try:
        there = db.is_file()
    except OSError:  # a folder name longer than the filesystem allows: no run there
        there = False
    if fresh:
        # the old run (plan.yaml, run.db, a damaged one too) goes to previous/ unread
        # but for the jobs carried: a new run of these goals, from its plan on
        carried = fresh_carried(db) if there else []
        if warn is not None:
            for text in goal_photo_warnings(settings, pipe.goals):
                warn(text)
        est = costs.estimate_run(settings, pipe.goals)
        held = sum(float(r.get("held_usd") or r["estimated_usd"]) for r, _ in carried)
        covers = pipe._fresh_carry_covers(est, carried) if carried else 0.0
        return replace(est, spent=held, carried_may_cover=covers)
    if not there:
        if warn is not None:
            for text in goal_photo_warnings(settings, pipe.goals):
                warn(text)
        return costs.estimate_run(settings, pipe.goals)
    store = Store(db, read_only=True)
    try:
        look = pipe.outlook(store, _planner_identity(settings))
    finally:
        store.close()
    if look.plan is not None and not look.plan_kept:
        # a plan.yaml `render` refuses before any step (a goal number past the goals, a
        # photo or music that is not there) is refused here too, as `status` does: it
        # was priced, and the render stopped with exit 2
        check_plan(pipe.run_dir / "plan.yaml", look.plan, len(pipe.goals.goals))
    if (scenes := look.plan or look.basis) is not None:
        check_scene_folders(pipe.run_dir, [sc.id for sc in scenes.scenes])
    if warn is not None:
        base = pipe.goals_path.absolute().parent
        texts = (
            reference_photo_warnings(settings, pipe.goals, look.plan, base)
            if look.plan is not None
            else goal_photo_warnings(settings, pipe.goals)
        )
        for text in texts:
            warn(text)
        if look.plan is not None and (past := scenes_past_clips_warning(settings, look.plan)):
            warn(past)
    est = look_priced(settings, pipe.goals, look)
    store = Store(db, read_only=True)
    try:
        if warn is not None:
            changed, rebuys = setting_change_lines(
                store.get_meta(SETTINGS_META), settings, store, est
            )
            for line in changed if rebuys else ():
                warn(line)
        notes = (
            *replan_notes(pipe.run_dir, look, est),
            *unfindable_notes(store, est),
            *pipe._unheld_clips_note(store, est, look),
        )
        return replace(est, notes=(*notes, *costs.maybe_notes(est)))
    finally:
        store.close()


def scenes_past_clips_warning(settings: Settings, plan: Plan) -> str | None:
    """Which scenes are longer than any clip the video model makes (a hand-edited
    plan.yaml `seconds: 60` with Seedance, 12 s at most: the planner makes lengths the
    model makes), or None. Such a scene's clip is the longest the model makes and the
    compose holds its last frame still for the rest: 48 s of a still picture, with no
    word (the estimate's seconds said 12). Said by render and, since the scale audit,
    by estimate (its seconds column showed 12 for the 60 s scene, and nothing said why)."""
    from mindmovie.catalog import allowed_seconds

    spec = costs.stage_spec(settings, "video")
    allowed = allowed_seconds(spec) if spec is not None else None
    if spec is None or not allowed:
        return None
    longest = max(allowed)
    long = [sc for sc in plan.scenes if sc.seconds > longest + 1e-6]
    if not long:
        return None
    shown = ", ".join(f"{sc.id} ({costs._num(sc.seconds)} s)" for sc in long[:3])
    shown += f" and {len(long) - 3} more" if len(long) > 3 else ""
    most = costs._num(longest)
    return (
        f"{shown} {'is' if len(long) == 1 else 'are'} longer than any clip {spec.key} "
        f"makes (at most {most} s): {'its clip is' if len(long) == 1 else 'their clips are'}"
        f" {most} s long and the movie holds its last frame still for the rest; set "
        f"seconds in plan.yaml to {most} or less (or copy the scene to show more of it)"
    )


def _unknown_outcome_line(r: Mapping[str, Any], which: str) -> str:
    """What a ledger row `r` in flight when the `which` ("last", "previous") run stopped,
    now marked of unknown outcome, is said as (the resume's and `--fresh`'s words). With
    its hold when that differs, as a lost answer's is said: the totals line and `status`
    count it at the hold ("about $0.0079" here, "+$0.03 outcome unknown" there)."""
    about = costs.format_usd(r["estimated_usd"])
    held = costs.format_usd(float(r.get("held_usd") or r["estimated_usd"]))
    counted = f"; the budget counts it at {held}, the most it can cost" * (held != about)
    return (
        f"{r['scene_id']}: a {r['stage']} call to {r['provider']} was in flight when the "
        f"{which} run stopped; its outcome is unknown and it may have been billed "
        f"(about {about}{counted})."
    )


def _keep_last_plan(store: Store, prev: Step, plan_path: Path, *, other: bool) -> bool:
    """Keep plan.yaml as the plan of the goals last rendered (`prev`'s), for when they
    come back; where it is not theirs, the plan as their planner made it (`PLANNED_META`):
    `other` (put back by hand with the goals now in goals.yaml), a plan.yaml that does not
    load (a broken hand edit, said as such), or one naming a goal past theirs (another
    goals' plan pasted in). Kept so, their plan could not be put back and a paid planner
    was paid again for the very request it had answered, and with new prompts every
    keyframe and clip after it. A kept copy of theirs already there stays for `other`.
    True when a plan was kept."""
    record = store.get_meta(PLANNED_META + prev.input_key)
    made: Plan | None = None
    if record is not None:
        with contextlib.suppress(ValueError):  # (pydantic's too) unreadable: as before
            made = Plan.model_validate(json.loads(record))
    if not other:
        try:
            now = load_plan(plan_path)
        except PlanError:
            now = None
        theirs = made is None or (
            now is not None
            and max(sc.goal for sc in now.scenes) <= max(sc.goal for sc in made.scenes)
        )
        if theirs:
            store.keep_copy("_run", "plan", prev.input_key, plan_path)
            return True
    elif made is None or store.find_kept("plan", prev.input_key) is not None:
        return False
    assert made is not None
    tmp = tmp_path_for(plan_path.with_name("plan.made.yaml"))
    try:
        write_plan(made, tmp)
        store.keep_copy("_run", "plan", prev.input_key, tmp)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _plan_put_back_by_hand(
    store: Store, kept: tuple[str, Plan] | None, plan_path: Path, prev: Step
) -> bool:
    """plan.yaml is, byte for byte, the plan kept for the goals now in goals.yaml, and not
    the one the last render left: the person put both files back as they were (a `git
    checkout`). It is not the last render's goals' plan, and is not kept as theirs:
    kept so, those goals came back to another goals' plan (a goal left out of the movie,
    the scenes' goal numbers naming other goals) or to one they cannot render."""
    if kept is None:
        return False
    found = store.find_kept("plan", kept[0])
    try:
        now = sha256_file(plan_path)
    except OSError:
        return False
    return found is not None and found[1] == now and now != prev.sha256


def setting_change_lines(
    recorded: str | None, settings: Settings, store: Store, est: costs.RunEstimate
) -> tuple[list[str], bool]:
    """What render says before its estimate when a scene setting differs from the last
    render's (`SETTINGS_META` as `recorded`): `status`'s "setting changed since the last
    render" lines (`status.settings_changes`), then which paid steps made before `est`
    buys again; and whether it buys any (a warning then, said under --quiet too).
    Rendering again without last time's `--resolution 480p` bought every clip again,
    asked "Spend about $0.49?" (or, under --yes -q, spent it) and never said why."""
    changes = settings_changes(recorded, settings)
    if not changes:
        return [], False
    lines = [f"setting changed since the last render: {change}" for change in changes]
    made = {(s.scene_id, s.stage) for s in store.steps() if s.status == "succeeded"}
    again: list[str] = []
    bought = 0.0
    if est.planner is not None and est.planner.payable and ("_run", "plan") in made:
        again.append("the plan")
        bought += est.planner.usd
    for stage in ("keyframe", "clip"):
        calls = {s.scene_id: s.keyframe if stage == "keyframe" else s.video for s in est.scenes}
        ids = [sid for sid, c in calls.items() if c.payable and (sid, stage) in made]
        if ids:
            again.append(f"{plural(len(ids), stage)} ({', '.join(ids)})")
            bought += sum(calls[sid].usd for sid in ids)
    if not again:
        return lines, False
    lines.append(
        f"made before and bought again with these settings: {', '.join(again)}, about "
        f"{costs.format_usd(bought)} (render with the last render's settings to reuse them)"
    )
    return lines, True


def replan_notes(
    run_dir: Path, look: Outlook, est: costs.RunEstimate, *, asking: bool = False
) -> tuple[str, ...]:
    """Why the plan.yaml there is bought again (`Outlook.new_plan_why`, as `status` says it), when
    `est` buys a plan: a new preset's clip lengths, goals.yaml edited. The spend question
    priced the plan with no word of it, and the render's warning came after the yes,
    when the plan.yaml the person had reviewed and edited was already being replaced.
    `asking`: said at the render's own spend question, of "this render", not the next."""
    if est.planner is None or look.plan is not None or not look.new_plan_why:
        return ()
    try:
        there = (run_dir / "plan.yaml").is_file()
    except OSError:
        there = False
    why = look.new_plan_why
    if asking:
        why = why.replace("the next render makes", "this render makes")
    if not there:
        return ()
    if look.basis is None and look.partial is not None:
        if look.planner_goals is None:
            return (why, "no goal is new or changed: the plan is made without a planner call")
        asked = plural(len(look.planner_goals.goals), "goal")
        return (
            why,
            f"only the new or changed goals are planned again ({asked}), so only their "
            "scenes are priced; the other goals keep their scenes",
        )
    if look.basis is None:
        # a remote planner: its scenes are known once it is paid for, so every one is
        # priced; the render reuses (and `carry_edits` keeps) those it plans as before
        return (
            why,
            "the new plan's prompts are known only once it is made, so every scene is "
            "priced: a scene it plans as before is reused, not bought again",
        )
    return (why,)


def unfindable_notes(store: Store, est: costs.RunEstimate) -> tuple[str, ...]:
    """For each scene whose clip `est` buys: its earlier clip requests, at a provider
    that lists no jobs (Veo: neither the Gemini API nor Vertex lists the operations of
    a model, and google-genai has no such call), whose answer never came (committed with
    no job id: lost, or in flight when a render stopped). Each may have made a job that
    bills, which cannot be found and used, so the clip is bought again and may be paid
    twice. The spend question said only the table and "+$X outcome unknown" before;
    now it says this under the table, before anything is sent."""
    buying = {s.scene_id for s in est.scenes if s.video.payable}
    lost: dict[str, list[dict[str, Any]]] = {}
    for r in store.ledger_rows():
        if r["stage"] != "clip" or r["state"] != "committed" or r["remote_id"]:
            continue
        if str(r["scene_id"]) not in buying or registry.lists_jobs(str(r["provider"])):
            continue
        if (r["usage"] or {}).get("let_go"):
            continue  # the person let go of it (render --let-go), knowing
        lost.setdefault(str(r["scene_id"]), []).append(r)
    notes = []
    for sid, rows in lost.items():
        usd = sum(float(r.get("held_usd") or r["estimated_usd"]) for r in rows)
        who = rows[0]["provider"]
        many = len(rows) > 1
        notes.append(
            f"{sid}: {len(rows)} earlier clip request{'s' * many} to {who} got no answer "
            f"and may have made {'jobs that bill' if many else 'a job that bills'} "
            f"(counted as spent: {costs.format_usd(usd)}); {who} lists no jobs, so "
            f"{'they' if many else 'it'} cannot be found and used: this clip is bought "
            "again and may be paid twice"
        )
    return tuple(notes)


def outlook_for(goals_path: Path, settings: Settings, run_dir: Path) -> tuple[Outlook, set[str]]:
    """`mindmovie status`: what a render of goals_path with these settings into run_dir
    would reuse, and the stages ("planner", "keyframes", "video") whose provider it
    would call (`Pipeline._needed_in`, the render's own test: a key not set for none of
    them is not asked for). Reads only: no lock, no provider, nothing written. Settings
    `render` refuses to start with are a ConfigError, as there."""
    pipe = Pipeline(goals_path, settings, out=run_dir)
    _usable_run_dir(run_dir, True)  # a folder named plan.yaml: render refuses it
    pipe._check_clip_settings()
    registry.check_options(settings)
    store = Store(run_dir / "run.db", read_only=True)
    try:
        look = pipe.outlook(store, _planner_identity(settings))
        try:
            needed = pipe._needed_in(store, look)
        except Exception:  # a row that cannot be read: not certain (`_providers_needed`)
            needed = set(_STAGES)
    finally:
        store.close()
    if look.plan is not None and not look.plan_kept:
        # what `render` refuses before any step (a goal number past the goals, a photo or
        # music that is not there) is refused here too: status said "reuse" for such a
        # plan.yaml, and the render it promised stopped with exit 2
        check_plan(run_dir / "plan.yaml", look.plan, len(pipe.goals.goals))
    if (scenes := look.plan or look.basis) is not None:
        check_scene_folders(run_dir, [sc.id for sc in scenes.scenes])  # as render refuses
    return look, needed
