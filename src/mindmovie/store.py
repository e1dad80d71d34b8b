"""The run store (`run.db`): a journal of steps and a ledger of paid calls, in SQLite.

Every state change is one transaction, so a process killed at any instant leaves the
journal at the last committed state. A finished step is reused only when its input key
and its artifact's sha256 both still match: a stale, missing or corrupted artifact is
redone rather than trusted.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeGuard

from mindmovie.fsutil import (
    commit_file,
    make_dirs,
    sha256_file,
    special_kind,
    tmp_path_for,
)
from mindmovie.killpoints import killpoint

SCHEMA_VERSION = 3
APP_ID = 0x4D4D5631  # "MMV1": marks a run.db as ours, so a foreign file is never used
_UPSERT_META_SQL = (
    "INSERT INTO meta(key,value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    scene_id   TEXT NOT NULL,
    stage      TEXT NOT NULL,
    input_key  TEXT NOT NULL,
    status     TEXT NOT NULL,
    remote_id  TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    artifact   TEXT,
    sha256     TEXT,
    error_kind TEXT,
    error      TEXT,
    run_no     INTEGER NOT NULL DEFAULT 0,
    detail     TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    paid       INTEGER,
    PRIMARY KEY (scene_id, stage)
);
CREATE TABLE IF NOT EXISTS ledger (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    scene_id      TEXT NOT NULL,
    stage         TEXT NOT NULL,
    provider      TEXT NOT NULL,
    model         TEXT NOT NULL,
    remote_id     TEXT,
    state         TEXT NOT NULL,
    estimated_usd REAL NOT NULL DEFAULT 0,
    held_usd      REAL,
    billed_usd    REAL,
    usage         TEXT,
    created_at    REAL NOT NULL,
    updated_at    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS kept (
    stage      TEXT NOT NULL,
    input_key  TEXT NOT NULL,
    artifact   TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    scene_id   TEXT NOT NULL,
    kept_at    REAL NOT NULL,
    PRIMARY KEY (stage, input_key)
);
"""


@functools.cache
def _schema_columns() -> dict[str, frozenset[str]]:
    """Each table's columns as `_SCHEMA` makes them (what `Store._check_schema` looks
    for), read from the schema made in memory."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(_SCHEMA)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: frozenset(r[1] for r in db.execute(f"PRAGMA table_info({t})"))
            for t in tables
            if not t.startswith("sqlite_")
        }
    finally:
        db.close()


#: a paid artifact replaced by new inputs is kept here (kept/<stage>/<input key>.<ext>), so
#: going back to those inputs (an edit undone, a preset switched back, another goals.yaml
#: rendered into the same folder, scenes renumbered) reuses it instead of paying again
KEPT_DIR = "kept"
#: meta key prefix (+ "<stage>:<input key>"): {"run_no", "attempts"} of the step that
#: made a kept artifact, so a restored step keeps them (see `Store._record_kept`)
KEPT_MADE_META = "kept_made:"
#: meta `painted:<input key>`: the sha256 of the free (local) keyframe a step made from
#: that key before new inputs replaced it (`Store.begin`, `Store.painted`)
PAINTED_META = "painted:"

#: meta key prefix (+ ledger row id): where the row's video job is made (`job_origin`:
#: base URL, Google mode/project/location, a salted fingerprint of the key), as JSON; in
#: meta, not on the row, so that `status` (which lists rows) never shows a fingerprint
JOB_ORIGIN_META = "job_origin:"
#: meta key: the run's own random salt of key fingerprints (`base.key_fingerprint`)
ORIGIN_SALT_META = "origin_salt"
#: meta key prefix (+ ledger row id): what a clip job was made from ({"input_key",
#: "seconds"}), so that a job its scene no longer wants (edited, renamed, deleted while
#: it ran) can still be kept under those inputs when it finishes (`job_input`)
JOB_INPUT_META = "job_input:"
#: meta key prefix (+ ledger row id): the set-aside run.db and row a clip job was
#: carried from by `render --fresh` ({"db", "row"}; `Store.ledger_carry`). Kept apart
#: from the row's usage, which its bill replaces, so that when this run is set aside
#: in turn the row it came from can be pointed at where this run went
#: (`Store.carried_in`, `Store.ledger_carried_moved`)
CARRIED_FROM_META = "carried_from:"
#: meta key: "1" in a run.db made since 2026-12-06, which records each content-filter
#: fallback it asks (`mark_fallback`). A run.db made before records none, so any of its
#: fallback variants' results counts as one (`counts_as_fallback`), as it did then
FALLBACKS_MARKED_META = "fallbacks_marked"
#: meta key prefix (+ input key): a clip's (or keyframe's) content-filter fallback asked
#: after its planned request was refused (`Store.mark_fallback`). The audio-off
#: fallback's key is that of the same request planned with audio off, so a silent clip
#: made so was taken for the fallback once `video.audio` was turned on, and kept silent
FALLBACK_META = "fallback:"
#: meta key: "1" once the set-aside rows this run's carried jobs came from are all
#: marked carried away (`Pipeline._settle_carry_notes`; a kill before leaves it unset)
CARRY_MARKED_META = "carry_marked"
#: a paid call's answer run.db could not record (its write failed: the file size limit,
#: `ulimit -f`, met by run.db or its -wal, a disk error) is described in a receipt here,
#: kept/receipts/<stage>-<ledger row>.json, a small new file the limit met by run.db
#: spares; the next render takes it up (`Store.take_receipts`) instead of paying again
RECEIPTS_DIR = "receipts"

STATUSES = ("pending", "running", "submitted", "succeeded", "failed")

#: SQLite primary result codes of a run.db that is fine but cannot be opened for writing
#: (read-only mount, another user's files): SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN
_NOT_WRITABLE = frozenset({3, 8, 14})

#: the longest full path (in bytes, links resolved) SQLite opens a database at: its unix
#: VFS builds each file's full path in 512 bytes, room left for the journal's name beside
#: it (measured with SQLite 3.40: a run.db path of 504 bytes opens, 505 is SQLITE_CANTOPEN)
SQLITE_MAX_PATH = 504


def _not_a_uri(path: Path) -> str:
    """`path` as SQLite opens it as a file: absolute. This SQLite (Python's, built with
    SQLITE_USE_URI) reads a name starting with "file:" as a URI, so a run folder given
    as `--out file:run` (or `output_dir: file:movies`) opened "run/run.db", and the
    render stopped saying its folder was read-only."""
    return os.path.abspath(path)


def path_too_long(path: Path) -> int | None:
    """The length in bytes of `path`'s full path when SQLite cannot open a database
    there for it (`SQLITE_MAX_PATH`); None otherwise."""
    try:
        n = len(os.fsencode(os.path.realpath(path)))
    except (OSError, ValueError):
        return None
    return n if n > SQLITE_MAX_PATH else None


def out_of_files(needed: int = 3) -> bool:
    """Whether this process cannot open `needed` more files (a run.db, its -wal and
    -shm) for its open files limit (`ulimit -n`) or the system's. SQLite says a file it
    could not open for that "unable to open database file", as for a folder it may not
    write: under `ulimit -n 16` a render warned three times to fix folder permissions (a
    --fresh run's clip jobs in flight "could not be carried"), then stopped on the
    limit. Tried, not counted against the limit: a read-only folder a few files short of
    it is still a read-only folder."""
    opened: list[int] = []
    try:
        for _ in range(needed):
            opened.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as e:
        return e.errno in (errno.EMFILE, errno.ENFILE)
    finally:
        for fd in opened:
            os.close(fd)
    return False


#: SQLITE_IOERR and SQLITE_FULL: the disk, not the file (a full disk gives either, e.g.
#: IOERR_SHMSIZE when WAL's -shm cannot grow)
_IOERR, _FULL = 10, 13


#: the most one write of SQLite's adds to a file: a write-ahead log's frame, a page of
#: the largest size (65536) and its 24-byte header
_MOST_ONE_WRITE = 65536 + 24


def size_limit_met(db: Path) -> int | None:
    """This process's file size limit (`ulimit -f`, RLIMIT_FSIZE) when `db` or one of its
    side files is too near it to take SQLite's next write, else None. SQLite reports a
    write refused by it (EFBIG, Python ignoring SIGXFSZ) as IOERR_WRITE, "disk I/O
    error", without the errno: which sent a person to the disk's health, or was a
    traceback."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    except (ImportError, OSError, ValueError):  # (not on Windows)
        return None
    if limit == resource.RLIM_INFINITY:
        return None
    for side in ("", "-wal", "-shm", "-journal"):
        try:
            size = os.stat(f"{db}{side}").st_size
        except (OSError, ValueError):
            continue
        if size + _MOST_ONE_WRITE > limit:
            return int(limit)
    return None


def _over_size_limit(db: Path, e: sqlite3.Error) -> OSError | None:
    """`e`, SQLite's error writing `db`, as the EFBIG it was when `db` met the file size
    limit (the render says that in one line: `pipeline.limit_message`)."""
    code = getattr(e, "sqlite_errorcode", 0) & 0xFF
    if code not in (_IOERR, _FULL) or size_limit_met(db) is None:
        return None
    return OSError(errno.EFBIG, f"{os.strerror(errno.EFBIG)} (SQLite: {e})", str(db))


def _disk_is_full(folder: Path) -> bool:
    """Is there (next to) no room left where run.db lives?"""
    try:
        return shutil.disk_usage(folder).free < (1 << 20)
    except OSError:
        return False


#: stages whose paid artifacts are kept when new inputs replace them
KEPT_STAGES = ("keyframe", "clip")
#: how long a result URL kept on a ledger row (`Store.ledger_keep_result`) is taken to
#: be valid when its row does not say: Seedream's 24 h (provider-wire.md), the only
#: provider whose results are kept so
RESULT_URL_SECONDS = 24 * 3600.0
#: a clip ledger row's usage: when the provider says its job was made (epoch s), kept
#: with its bill (`Pipeline._settle_job`)
JOB_CREATED_USAGE = "job_created_at"


def _link_or_copy(src: Path, dest: Path, *, commit: bool = True, link: bool = True) -> None:
    """`dest` gets `src`'s bytes: a hard link where the filesystem allows (and `link`),
    else a copy. With `commit`, through a temp name and an atomic rename."""
    make_dirs(dest.parent)
    tmp = tmp_path_for(dest) if commit else dest
    tmp.unlink(missing_ok=True)
    try:
        if not link:
            raise OSError("copy asked for")
        os.link(src, tmp)
    except OSError:  # FAT/exFAT, some network shares: no hard links
        shutil.copyfile(src, tmp)
    if commit:
        commit_file(tmp, dest)


#: a ledger row's states (DESIGN.md §2): sent, outcome unknown; billed; not charged
LEDGER_STATES = ("committed", "billed", "refunded")


class StoreError(Exception):
    """run.db is unusable (corrupt, foreign, or from a newer mindmovie); says what to do."""


def _broken_link(path: Path) -> int | None:
    """The errno of following `path` when it is a symbolic link that reaches no file (a
    loop: ELOOP; nothing there: ENOENT, ENOTDIR); None for a link to something, or no
    link."""
    try:
        if not path.is_symlink():
            return None
        path.stat()
        return None
    except OSError as e:
        return e.errno


def link_loop(path: Path) -> str | None:
    """`path`'s links as they lead back to themselves ("run.db -> b -> run.db") when it
    is a symbolic link that never reaches a file; None otherwise (a link to something,
    a link to nothing, no link)."""
    if _broken_link(path) != errno.ELOOP:
        return None
    hops, cur, seen = [path.name], path, {os.path.abspath(path)}
    try:
        for _ in range(40):  # the most links the system follows
            target = os.readlink(cur)
            hops.append(target)
            cur = cur.parent / target
            if os.path.abspath(cur) in seen or not cur.is_symlink():
                break
            seen.add(os.path.abspath(cur))
    except OSError:
        pass
    return " -> ".join(hops)


#: the files SQLite keeps beside run.db, by suffix
SIDE_FILES = {
    "-wal": "run.db's write-ahead log",
    "-shm": "run.db's shared-memory index",
    "-journal": "run.db's rollback journal",
}


def check_side_files(db: Path) -> None:
    """Refuse a folder, a named pipe (or socket, device), or a link leading back to
    itself, where SQLite keeps one of run.db's side files (`SIDE_FILES`): the render
    said "run.db cannot be written ... its folder is read-only or belongs to another
    user" (a pipe: "the disk reported an error ... check the disk"), which named
    neither the file nor what it is. (Neither holds a journal
    that a render would need: SQLite could not have written one there.)"""
    for end, what in SIDE_FILES.items():
        side = db.with_name(db.name + end)
        try:
            chain = link_loop(side)
            kind = None if chain is not None else special_kind(side)
        except OSError:
            continue
        if chain is not None:
            raise StoreError(
                f"{side} is a symbolic link that leads back to itself ({chain}), where "
                f"{what} (a file SQLite makes) belongs. It was not changed: remove the link "
                "and render again"
            )
        if kind is not None:
            raise StoreError(
                f"{side}: is {kind}, not {what} (a file SQLite makes). It was not "
                f"changed: move it away (e.g. to {side.name}.bad beside it) and render again"
            )


def runs_inside(folder: Path, command: str) -> str | None:
    """'it holds the runs outputs/a and outputs/b (mindmovie status outputs/a)' when
    `folder`, given for a run, is a folder of runs (`outputs/`: a first user's guess),
    or a project folder whose outputs/ holds runs (`status ~/proj`, the folder a person
    moved or copied: "no run here ... Render a goals.yaml first" sent them to render);
    or None: what to say after "no run here". At most four are named."""

    runs = _runs_in_or_its_outputs(folder)
    if not runs:
        return None
    return f"it holds {_listed(runs)} (mindmovie {command} {runs[0]})"


def runs_beside(run_dir: Path, command: str) -> str | None:
    """'outputs holds the run outputs/b (mindmovie status outputs/b) ...' for a RUN_DIR
    that is not there, when its folder (or that folder's outputs/) holds runs; or None.
    A run folder is renamed when its goals' title changes: `status outputs/<old title>`
    said only "no such folder", the run it meant beside it. The run named to try is the
    one rendered last."""
    runs = _runs_in_or_its_outputs(run_dir.parent)
    if not runs:
        return None
    try:
        last = max(runs, key=lambda p: (p / "run.db").stat().st_mtime)
    except OSError:
        last = runs[0]
    where = runs[0].parent
    return (
        f"{where} holds {_listed(runs)} (mindmovie {command} {last}; a run's folder is "
        "renamed when its title changes)"
    )


def _runs_in_or_its_outputs(folder: Path) -> list[Path]:
    """The run folders (those holding run.db) in `folder`, else in its outputs/."""

    def runs_in(where: Path) -> list[Path]:
        return sorted(p for p in where.iterdir() if p.is_dir() and (p / "run.db").is_file())

    try:
        runs = runs_in(folder)
        if not runs and (folder / "outputs").is_dir():
            runs = runs_in(folder / "outputs")
    except OSError:
        return []
    return runs


def _listed(runs: list[Path]) -> str:
    """'the run a' / 'the runs a, b and c' / '... and 2 more': at most four named."""
    names = [str(p) for p in runs[:4]]
    if len(runs) > 4:
        names.append(f"{len(runs) - 4} more")
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{'the run' if len(runs) == 1 else 'the runs'} {listed}"


def run_above(folder: Path, command: str) -> str | None:
    """'it is in the run outputs/a (mindmovie status outputs/a)' when `folder`, given for a
    run, is a folder inside one (its scenes/, a scene's folder, compose/segments/: the
    names a person tab-completes into); or None. "no run here (no run.db). Render a
    goals.yaml first." of them sent the person to render a run they have."""
    try:
        where = Path(os.path.abspath(folder))
        for up, parent in enumerate(where.parents, start=1):
            if up > 3:  # scenes/<id>/ and compose/<part>/ are the deepest a run holds
                break
            # (run.db alone: a plan.yaml copied beside goals.yaml to edit made the
            # project folder look like a run)
            if (parent / "run.db").is_file():
                run = Path(os.path.normpath(os.path.join(folder, *[".."] * up)))
                return f"it is in the run {run} (mindmovie {command} {run})"
    except OSError:
        return None
    return None


def not_a_run_folder(path: Path, command: str) -> str:
    """What to say of a file given for a run folder; when it is a run's own file (its
    plan.yaml, run.db or movie.mp4: the name a person sees and tab-completes), the run
    folder to give instead."""
    said = f"{path}: is a file, not a run folder (outputs/<title>)"
    folder = path.parent
    try:
        is_run = (folder / "run.db").is_file() or (folder / "plan.yaml").is_file()
    except OSError:
        is_run = False
    if is_run:
        said += f"; it is in the run {folder}: mindmovie {command} {folder}"
    return said


def check_journal_link(db: Path) -> None:
    """Refuse a run.db that is a symbolic link leading back to itself (`ln -s run.db
    run.db`, or a -> b -> a), in the same words from `status`, `render`, `estimate` and
    `storyboard`: status said "no run.db", render "cannot be written ... read-only",
    or with --out "not empty (b)", none of them naming the link."""
    chain = link_loop(db)
    if chain is not None:
        raise StoreError(
            f"{db} is a symbolic link that leads back to itself ({chain}), so there is no "
            "journal to read. It was not changed: put the run's run.db in its place, or "
            "remove the link (the next render then starts a new journal, first moving the "
            "files made here to previous/<time>/)."
        )
    if (dest := _link_to_nothing(db)) is not None:
        # the journal kept elsewhere, not there now: status said "no run.db" and that the
        # render moves the files aside, which it did (making a new journal through the
        # link) when the link's folder was there; else "cannot be written ... read-only"
        raise StoreError(
            f"{db} is a symbolic link to {dest}, which is not there (a disk not mounted, "
            "a file moved?), so there is no journal to read. It was not changed: put the "
            "run's run.db there, or remove the link (the next render then starts a new "
            "journal, first moving the files made here to previous/<time>/)."
        )
    if (other := _other_runs_journal(db)) is not None:
        # taken for this run's journal: a render here went on with that run's number and
        # steps, and one in each folder wrote the same journal, each under its own lock
        raise StoreError(
            f"{db} is a symbolic link to {other}, the journal of another run folder "
            f"({other.parent}): this run would be taken for that one. It was not changed: "
            "remove the link (the next render then starts a new journal here, first moving "
            "the files made here to previous/<time>/), or render that run with --out "
            f"{other.parent}."
        )
    if (names := _hard_linked(db)) > 1:
        # a second name for the journal (`ln`, `cp -al`): taken for this run's as through
        # a symbolic link, and a render at each name wrote the one file with its own -wal
        # beside its own name (two logs of what is not yet in the file)
        own = db.with_name(db.name + ".own")
        raise StoreError(
            f"{db} is a hard link: the same file has {names} names (another run folder's "
            "run.db, or a copy made with `cp -al` or a snapshot tool?), so a render here "
            "would write that journal too, and take that run for this one. It was not "
            f"changed: give this run a journal of its own (cp {db} {own} && mv {own} {db}), "
            "or remove the other name."
        )


def _hard_linked(db: Path) -> int:
    """How many names the file at `db` has (itself, not a symbolic link's file): more
    than one is a file mindmovie never makes (it links keyframes and clips, never
    run.db). 1 when there is none to look at."""
    try:
        st = os.lstat(db)
    except OSError:
        return 1
    return st.st_nlink if stat.S_ISREG(st.st_mode) else 1


#: what a run folder holds besides run.db: a journal beside them is another run's
_RUN_FOLDER_MARKS = ("plan.yaml", "scenes", ".lock", "movie.mp4")


def _other_runs_journal(db: Path) -> Path | None:
    """Where `db` leads when it is a symbolic link to a file in another run folder (one
    holding a plan, scenes, a lock or a movie); None otherwise. A link to a file inside
    its own run folder, or to a journal kept alone on another disk, is this run's."""
    try:
        # (os.lstat: Path.is_symlink raised "File name too long" for a name past 255 bytes)
        if not stat.S_ISLNK(os.lstat(db).st_mode):
            return None
        dest = db.resolve(strict=True)
        own = db.parent.resolve(strict=True)
        if own == dest.parent or own in dest.parents:
            return None
        return dest if any((dest.parent / n).exists() for n in _RUN_FOLDER_MARKS) else None
    except (OSError, RuntimeError):
        return None  # not there, a name too long, a loop or nothing at its end: said elsewhere


def _link_to_nothing(path: Path) -> str | None:
    """Where `path` leads when it is a symbolic link to nothing (the file it names, or a
    folder on its way, is not there); None otherwise."""
    if _broken_link(path) not in (errno.ENOENT, errno.ENOTDIR):
        return None
    try:
        return os.readlink(path)
    except OSError:
        return None


def journal_missing(db: Path) -> bool:
    """Whether there is no journal at `db` to go by: no file, or an empty one (0 bytes,
    cut short by hand or by a copy that failed; or SQLite's header and no table, all it
    held being in a write-ahead log deleted after a kill), with no write-ahead log
    beside it holding commits, which `Store` makes afresh. Not for a folder or a file
    that cannot be looked at: `Store` says what is wrong with those."""
    try:
        st = db.stat()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    try:
        if db.with_name(db.name + "-wal").stat().st_size:
            return False
    except OSError:
        pass
    return st.st_size == 0 or _no_table(db)


def _no_table(db: Path) -> bool:
    """Does the SQLite file `db` (with no write-ahead log beside it) hold no table? Read
    as immutable: no lock taken, no -shm made. A file that is no database is not said to
    hold none (`Store` names it)."""
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            (tables,) = con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return int(tables) == 0
        finally:
            con.close()
    except (sqlite3.Error, OSError):
        return False


@dataclass
class Step:
    """One row of the journal: a (scene, stage) with what produced it and where it is."""

    scene_id: str
    stage: str
    input_key: str
    status: str
    remote_id: str | None
    attempts: int
    artifact: str | None
    sha256: str | None
    error_kind: str | None
    error: str | None
    run_no: int
    detail: str | None
    created_at: float
    updated_at: float
    #: 1 = made by a paid call (kept when replaced); 0 = local; None = recorded before
    #: run.db had the column (the ledger tells)
    paid: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _count(value: object) -> int:
    """A journal's whole-number column as read: one edited by hand to anything else
    ('x', 1.5) reads as 0 (see `_step`)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


#: where each stage's file is, in the run folder (a step's `artifact` as written)
_ARTIFACT_OF = {
    "keyframe": "scenes/{}/keyframe.png",
    "clip": "scenes/{}/clip.mp4",
    "plan": "plan.yaml",
    "movie": "movie.mp4",
}


def _step(row: sqlite3.Row, journal: Path) -> Step:
    """A steps row of ``journal`` as a `Step`, its number columns read tolerantly, as
    run.db's meta values are: `UPDATE steps SET attempts='x'` made `status` a TypeError
    traceback and every render of the scene fail with "can only concatenate str (not
    "int") to str". A damaged count (tries, run number) reads as 0 and a time as 0.0:
    they are records for the person, and the next try writes them again. A damaged
    `paid` reads as not recorded (None): the ledger then tells whether a paid call made
    it.

    Its `artifact`, strictly: a path leading out of the run folder (`../notes.txt`, an
    absolute one) had the render move that file, the person's, into previous/ as "not
    the file this run made" (an absolute one failed the scene with a ValueError's words,
    every render). Read as no file, a paid step would be bought again, so it is an
    error naming the row and what to do (`StoreError`)."""
    d = dict(row)
    art = d["artifact"]
    if art is not None and (
        not isinstance(art, str) or not art or Path(art).is_absolute() or ".." in Path(art).parts
    ):
        sid, stage = str(d["scene_id"]), str(d["stage"])
        usual = _ARTIFACT_OF.get(stage, "").format(sid)
        raise StoreError(
            f"{journal}: the {stage} step of {sid} names its file {art!r}, which is not a "
            "path inside the run folder. It was not changed. Put back the path it had"
            + (f" ({usual})" if usual else "")
            + f', or remove the step (sqlite3 {journal} "DELETE FROM steps WHERE '
            f"scene_id='{sid.replace(chr(39), chr(39) * 2)}' AND stage='{stage}'\"): it "
            "is then made again (on a paid preset, paid for again)."
        )
    d["attempts"] = _count(d["attempts"])
    d["run_no"] = _count(d["run_no"])
    for name in ("created_at", "updated_at"):
        value = d[name]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        d[name] = float(value) if ok else 0.0
    if d.get("paid") not in (None, 0, 1):
        d["paid"] = None
    return Step(**d)


def _snapshot(path: Path, *, strict: bool = False) -> sqlite3.Connection:
    """An in-memory copy of run.db as it is now (a render may be writing it: the copy
    is one consistent read, WAL included), opened without writing anything on disk."""
    uri = path.resolve().as_uri()
    # A read-only connection makes the WAL's run.db-wal and run.db-shm and, as it may
    # not remove them, leaves them in the run folder. With neither there (no render has
    # the run open: its connection keeps them), a plain connection that only reads does
    # as a render's does on close: the last one out removes them (it writes nothing:
    # the WAL is empty). Else the files are a render's, or a killed one's: kept as they are.
    idle = not any(os.path.lexists(f"{path}{end}") for end in ("-wal", "-shm"))
    if idle and not os.access(path, os.W_OK):
        # a run.db made read-only (chmod 444): opened "rw", SQLite fell back to reading,
        # made run.db-shm with run.db's mode and could not remove it, and every render
        # after failed on that file. Idle, no render has it open: read as it is
        src = sqlite3.connect(f"{uri}?immutable=1", uri=True)
        try:
            return _in_memory(src)
        finally:
            src.close()
    src = sqlite3.connect(f"{uri}?mode={'rw' if idle else 'ro'}", uri=True, timeout=5.0)
    try:
        try:
            src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:
            # WAL needs its -shm file beside the db, and a folder this user cannot write
            # has none: no render is running there (a killed one's or a copied run)
            src.close()
            if (mem := _snapshot_of_a_copy(path, strict=strict)) is not None:
                return mem
            src = sqlite3.connect(f"{uri}?immutable=1", uri=True)
        return _in_memory(src)
    finally:
        src.close()


def _in_memory(src: sqlite3.Connection) -> sqlite3.Connection:
    mem = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    src.backup(mem)
    return mem


def _snapshot_of_a_copy(path: Path, *, strict: bool = False) -> sqlite3.Connection | None:
    """`_snapshot` of run.db in a folder this user cannot write: run.db and its -wal
    copied to a private folder and read there. Read as it is (immutable), the file left
    out what the WAL held: a run killed before SQLite moved its last steps into run.db,
    then copied or made read-only, showed an older state (steps done shown as to do, a
    clip paid shown unpaid), or none at all. None when the copy cannot be made (no room
    in the temporary folder): read as it is, as before. The -wal is copied first: a
    checkpoint between the copies leaves run.db holding what it held, no older."""
    wal = Path(f"{path}-wal")
    try:
        with tempfile.TemporaryDirectory(prefix="mindmovie-run-") as tmp:
            copy = Path(tmp) / "run.db"
            if wal.is_file():
                try:
                    shutil.copyfile(wal, f"{copy}-wal")
                except PermissionError as e:
                    # read without it, the journal was an older one: every step done
                    # since its last checkpoint shown as to do, the plan as "not made".
                    # `strict`: the run looked at (a Store); a look for a run among
                    # others (`pipeline.earlier_run`) reads it as it is, as before
                    if not strict:
                        raise
                    raise StoreError(
                        f"{wal} cannot be read ({e.strerror}): it holds the run's latest "
                        "steps, and without it run.db says an older state. It was not "
                        "changed: fix its permissions (made by another user, or with "
                        "sudo?) and run this again"
                    ) from None
            shutil.copyfile(path, copy)
            src = sqlite3.connect(copy)
            try:
                return _in_memory(src)
            finally:
                src.close()
    except (OSError, sqlite3.OperationalError):
        return None


def _dollars(usd: object) -> TypeGuard[int | float]:
    """Is `usd`, read from a receipt, a price a bill can record (a finite number, not
    below 0)? JSON's 1e999 is read as infinity, which no ledger total survives."""
    return (
        isinstance(usd, (int, float))
        and not isinstance(usd, bool)
        and math.isfinite(usd)
        and usd >= 0
    )


class Store:
    """Thread-safe access to one run's run.db. Artifact paths are stored relative to the run."""

    def __init__(
        self, path: Path, *, read_only: bool = False, meta: Mapping[str, str] | None = None
    ) -> None:
        """Open (or create) the run's journal.

        `read_only` (status, estimate, storyboard): the file is read into memory and
        never written: an older run.db is upgraded in the copy only (an upgrade on disk
        would lock out the older mindmovie that made it), and a run folder this user
        cannot write can still be looked at.
        `meta`: values written in the transaction that opens it (that creates it, for a
        new journal): a mark a new run.db must never be without (the files found beside
        it go aside, the run --fresh moved), which a kill between its creation and a
        later write took away.
        """
        self.path = path
        self.root = path.parent
        self._lock = threading.RLock()
        #: ledger rows of paid answers this store could not record, each described in
        #: a receipt instead (`_write_receipt`): their caller leaves them committed
        self.receipted: set[int] = set()
        self._read_only = read_only
        #: receipts `take_receipts` could not read (path, why): kept, for the render to say
        self.unread_receipts: list[tuple[Path, str]] = []
        check_journal_link(path)
        if not read_only:  # a read-only copy is read without them (see `_snapshot`)
            check_side_files(path)
        if path.is_dir():
            # said "cannot be written ... its folder is read-only or belongs to another
            # user", which sent the person to the permissions
            raise StoreError(
                f"{path} is a folder, not the run's journal (a file). It was not changed: "
                f"move it away (e.g. to {path.name}.bad) and render again."
            )
        existed = path.exists() and path.stat().st_size > 0
        # the side files this open may make: a failed one left run.db-shm made with
        # run.db's mode (0444 of a read-only run.db), and every later open failed on it
        sides = [Path(f"{path}{side}") for side in ("-wal", "-shm")]
        sides_before = {p for p in sides if p.exists()}
        try:
            if read_only:
                self._db = _snapshot(path, strict=True)
            else:
                self._db = sqlite3.connect(
                    _not_a_uri(path), check_same_thread=False, isolation_level=None
                )
            self._db.row_factory = sqlite3.Row
            app_id = self._db.execute("PRAGMA application_id").fetchone()[0]
            if existed and app_id != APP_ID and self._has_tables():
                raise StoreError(
                    f"{path} is not a mindmovie run store. Move it away, or render with --fresh "
                    "into a new directory."
                )
            if not read_only:
                self._set_pragmas()
            self._migrate(existed, meta or {})
        except sqlite3.DatabaseError as e:
            self._close_opened()
            code = getattr(e, "sqlite_errorcode", 0) & 0xFF
            if not read_only and (over := _over_size_limit(path, e)) is not None:
                raise over from None
            if not read_only and (code == _FULL or (code == _IOERR and _disk_is_full(self.root))):
                # a full disk is not a damaged run.db: "move it away" would throw away
                # the journal of everything paid for (the render names the disk)
                raise OSError(errno.ENOSPC, f"no space left to open {path} ({e})") from None
            if code == _IOERR:
                raise StoreError(
                    f"{path} could not be opened: the disk reported an error ({e}). It was "
                    "not changed, and it holds the run's journal: keep it, check the disk "
                    "(free space, its health), and render again."
                ) from None
            if code in _NOT_WRITABLE and out_of_files():
                # not the folder's permissions: the process's open files limit (the
                # render says it in one line, `pipeline.limit_message`)
                raise OSError(errno.EMFILE, f"too many open files to open {path} ({e})") from None
            if code in _NOT_WRITABLE and (n := path_too_long(path)) is not None:
                # said "cannot be written ... read-only or belongs to another user", of a
                # folder this user can write: the permissions were not the problem
                raise StoreError(
                    f"{path} cannot be opened: its full path is {n} bytes long, and SQLite, "
                    f"which keeps the run's journal, opens no file whose path is longer than "
                    f"{SQLITE_MAX_PATH} bytes. "
                    + (
                        "Move or copy the run folder to a shorter path to look at it."
                        if read_only
                        else "Move the run folder (or the project folder holding it) to a "
                        "shorter path, or render with --out at one."
                    )
                ) from None
            if read_only and (getattr(e, "sqlite_errorcode", 0) & 0xFF) in _NOT_WRITABLE:
                # status/estimate/storyboard only read: "cannot be written" misled there
                raise StoreError(
                    f"{path} cannot be read ({e}): this user may not open it (a run "
                    "rendered with sudo belongs to root). It was not changed: fix its "
                    "permissions, or copy the run folder somewhere this user can read."
                ) from None
            if (getattr(e, "sqlite_errorcode", 0) & 0xFF) in _NOT_WRITABLE:
                for made in set(sides) - sides_before:
                    with suppress(OSError):
                        made.unlink()
                # the file this user cannot write, when it is one of the journal's (a
                # run.db made read-only): "its folder is read-only" of a writable folder
                # sent the person to the folder's permissions, which did not help
                denied = next(
                    (f for f in (path, *sides) if f.exists() and not os.access(f, os.W_OK)), None
                )
                if denied is not None and os.access(path.parent, os.W_OK | os.X_OK):
                    raise StoreError(
                        f"{path} cannot be written ({e}): {denied.name} is read-only or "
                        "belongs to another user (a run rendered with sudo belongs to root). "
                        f"It was not changed: fix {denied.name}'s permissions (e.g. `chmod "
                        f"u+w {denied}`), or copy the run folder somewhere writable."
                    ) from None
                raise StoreError(
                    f"{path} cannot be written ({e}): its folder is read-only or belongs to "
                    "another user (a run rendered with sudo belongs to root). It was not "
                    "changed: fix the folder's permissions, or copy the run folder somewhere "
                    "writable."
                ) from None
            raise StoreError(
                f"{path} is damaged ({e}). It was not changed. Move it away (e.g. to "
                f"{path.name}.bad) and render again: the run starts a new journal and redoes "
                "its steps (the files made so far are moved to previous/ first)."
            ) from None
        except BaseException:
            self._close_opened()
            raise
        if read_only:
            # the paid answers the next render records first (`take_receipts`), in the
            # copy only: status and the estimate say what that render does (they said
            # it buys a keyframe, a plan or a clip it then takes up at no cost)
            with suppress(OSError, sqlite3.Error, StoreError, ValueError):
                self.take_receipts()

    def _close_opened(self) -> None:
        """Close the connection an `__init__` that fails opened: left to the garbage
        collector, it held run.db (and its -wal, which its close removes) open in a
        process that goes on (a test's in-process render, the pipeline), and the file
        went away under whatever came next."""
        db = self.__dict__.pop("_db", None)
        if db is not None:
            with suppress(sqlite3.Error):
                db.close()

    @classmethod
    def scratch(cls) -> Store:
        """A new, empty journal in memory, nothing on disk: for a look at what a render
        of a plan would do from nothing (`Pipeline.whole_estimate`, the storyboard's
        figures). It was a run.db in a temp folder, so a TMPDIR too deep for SQLite
        (`SQLITE_MAX_PATH`) left every render's storyboard unwritten."""
        self = cls.__new__(cls)
        self.path = Path(":memory:")
        self.root = self.path.parent
        self._lock = threading.RLock()
        self.receipted = set()
        self._read_only = False
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._migrate(False, {})
        return self

    def receipts_taken(self) -> Store:
        """A read-only copy of this journal in memory as it is now, the receipts taken up
        in it (as `Store(path, read_only=True)` reads run.db): what the render holding
        this store finds once it takes them (`Pipeline._check_keyless`, which must read
        what the key check before the lock read, `Pipeline._providers_needed`). The
        caller closes it."""
        copy = Store.__new__(Store)
        copy.path, copy.root = self.path, self.root
        copy._lock = threading.RLock()
        copy.receipted = set()
        copy._read_only = True
        copy._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.backup(copy._db)
        copy._db.row_factory = sqlite3.Row
        with suppress(OSError, sqlite3.Error, StoreError, ValueError):
            copy.take_receipts()
        return copy

    # ------------------------------------------------------------------ schema
    def _has_tables(self) -> bool:
        """False for a run.db whose creation was killed before its first COMMIT (a file with
        a header but no schema): it is ours to create, not a foreign database."""
        return bool(self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])

    def _check_schema(self) -> None:
        """Every table and column the journal is read with is there: a run.db marked ours
        and current but missing one (a table dropped by hand, a file pieced together) was
        an OperationalError traceback at the first query, not a line saying so."""
        for table, columns in _schema_columns().items():
            have = {r[1] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if not have:
                raise sqlite3.DatabaseError(f"its table {table!r} is missing")
            if missing := sorted(columns - have):
                raise sqlite3.DatabaseError(
                    f"its table {table!r} has no column {', '.join(map(repr, missing))}"
                )

    def _migrate(self, existed: bool, meta: Mapping[str, str]) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer mindmovie (schema {version}, this one "
                f"knows {SCHEMA_VERSION}). Upgrade mindmovie to continue this run."
            )
        was = version
        if was == SCHEMA_VERSION:
            self._check_schema()  # before the transaction below writes to it
        with self._tx():
            # read again under the write lock: another process may have migrated it
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                self._db.execute(_UPSERT_META_SQL, (FALLBACKS_MARKED_META, "1"))
            else:
                if version < 2:
                    # v2: what the budget gate holds for a call in flight (>= its estimate)
                    self._db.execute("ALTER TABLE ledger ADD COLUMN held_usd REAL")
                if version < 3:
                    # v3: paid artifacts replaced by new inputs are kept (see KEPT_DIR)
                    self._db.execute("ALTER TABLE steps ADD COLUMN paid INTEGER")
                    for stmt in _SCHEMA.split(";"):
                        if "CREATE TABLE IF NOT EXISTS kept" in stmt:
                            self._db.execute(stmt)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._db.execute(f"PRAGMA application_id={APP_ID}")
            for key, value in meta.items():
                self._db.execute(_UPSERT_META_SQL, (key, value))
        if was != SCHEMA_VERSION:
            self._check_schema()  # a new or older run.db, made or upgraded

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. A write SQLite could not make (the file size limit
        met, a full disk) is rolled back: a COMMIT that failed so left the connection in
        its transaction, and every later write of the render failed "cannot start a
        transaction within a transaction"."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                    killpoint("store")  # mid-transaction: SQLite must roll this back on restart
                    self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # (SQLite may have rolled it back itself)
                        self._db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                if (over := _over_size_limit(self.path, e)) is not None:
                    raise over from e
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def reopen(self, path: Path) -> None:
        """Open the journal again at `path` after `close`: its folder was renamed (a new
        title). SQLite refuses to write a database file moved while it is open
        (SQLITE_READONLY_DBMOVED), so the render closes it, renames, and reopens."""
        with self._lock:
            try:
                self._db = sqlite3.connect(
                    _not_a_uri(path), check_same_thread=False, isolation_level=None
                )
                self._db.row_factory = sqlite3.Row
                self._set_pragmas()
            except sqlite3.Error as e:
                # the journal is closed and whole on disk: say where it is, not a traceback
                raise StoreError(
                    f"{path} could not be opened again after its folder was renamed ({e}). "
                    "It was closed cleanly and nothing made is lost: render again."
                ) from None
            self.path, self.root = path, path.parent

    def _set_pragmas(self) -> None:
        """A writer's settings: WAL (readers never block the render), and a wait on a
        busy file instead of an immediate error."""
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(_UPSERT_META_SQL, (key, value))

    def meta_with_prefix(self, prefix: str) -> dict[str, str]:
        """Every meta value whose key starts with `prefix`, by the rest of its key."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
            ).fetchall()
        return {str(k)[len(prefix) :]: str(v) for k, v in rows}

    def set_metas(self, values: Mapping[str, str]) -> None:
        """Several meta values in one transaction: records that go together (a goals.yaml's
        relative path and the list it joins) are never half written."""
        with self._tx() as db:
            db.executemany(_UPSERT_META_SQL, list(values.items()))

    def delete_meta(self, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM meta WHERE key=?", (key,))

    def last_run_no(self) -> int:
        """The number of the last render (0: none yet).

        A tolerant read: a `run_no` that is not a whole number (edited by hand) was a
        ValueError traceback from `status` and every render. It is only a counter (which
        steps ran in the last render), and each step records its own run number, so the
        highest of those stands in for it and nothing is lost."""
        with self._lock:
            return self._run_no_in(self._db)

    @staticmethod
    def _run_no_in(db: sqlite3.Connection) -> int:
        """`last_run_no`, read through `db` (inside a transaction, or not)."""
        row = db.execute("SELECT value FROM meta WHERE key='run_no'").fetchone()
        if row is None:
            return 0
        try:
            return int(row[0])
        except (TypeError, ValueError):
            got = db.execute(
                "SELECT MAX(run_no) FROM steps WHERE typeof(run_no)='integer'"
            ).fetchone()
            return int(got[0] or 0)

    def next_run_no(self) -> int:
        """Count render invocations, so `status` can tell which steps ran in the last one
        (a damaged count is taken up from the steps': see `last_run_no`)."""
        with self._tx() as db:
            n = self._run_no_in(db) + 1
            db.execute(
                "INSERT INTO meta(key,value) VALUES('run_no',?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (str(n),),
            )
        self.run_no = n
        return n

    run_no: int = 0

    # ------------------------------------------------------------------ steps
    def get(self, scene_id: str, stage: str) -> Step | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM steps WHERE scene_id=? AND stage=?", (scene_id, stage)
            ).fetchone()
        return None if row is None else _step(row, self.path)

    def steps(self, stage: str | None = None) -> list[Step]:
        q = "SELECT * FROM steps" + (" WHERE stage=?" if stage else "") + " ORDER BY rowid"
        with self._lock:
            rows = self._db.execute(q, (stage,) if stage else ()).fetchall()
        return [_step(r, self.path) for r in rows]

    def _inside(self, path: Path) -> str:
        """``path``'s place in the run folder, as the journal records it: by its names
        under the run folder, so a scenes/ (or scenes/<id>) that is a link to a folder
        on another disk stays scenes/...; else as both resolve (the run folder given
        through a link). Resolving first failed every keyframe and clip made into such
        a linked folder with "... is not in the subpath of ...", at every render."""
        try:
            return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(self.root)))
        except ValueError:
            return str(path.resolve().relative_to(self.root.resolve()))

    def artifact_path(self, step: Step) -> Path | None:
        return None if step.artifact is None else self.root / step.artifact

    def artifact_problem(self, step: Step) -> str | None:
        """Why a finished step's artifact cannot be reused: "missing" (no file) or
        "changed" (its sha256 is not the one recorded); None when it is intact."""
        path = self.artifact_path(step)
        try:
            if path is None or not path.is_file():
                return "missing"
            digest = sha256_file(path)
        except OSError as e:
            if e.errno not in (errno.EACCES, errno.EPERM):
                raise
            # (a scene folder a `sudo` render left with umask 077): status and estimate
            # ended in a PermissionError traceback, render said "cannot write it"; made
            # again, a paid clip would be bought twice
            raise StoreError(
                f"{path}: cannot be read ({e.strerror}): fix its permissions (and its "
                "folder's: made by another user, or with sudo?), then run this again. "
                "Nothing was changed"
            ) from None
        if digest != step.sha256:
            return "changed"
        return None

    def reusable(self, scene_id: str, stage: str, input_key: str) -> Step | None:
        """The finished step for these inputs, if its artifact is still there and intact."""
        step = self.get(scene_id, stage)
        if step is None or step.status != "succeeded" or step.input_key != input_key:
            return None
        if self.artifact_problem(step) is not None:
            return None
        return step

    def begin(
        self,
        scene_id: str,
        stage: str,
        input_key: str,
        *,
        same_request: Collection[str] = (),
        paid: bool = False,
    ) -> Step:
        """Mark a step running (a new attempt). Attempts restart at 1 when the inputs changed,
        except from one of `same_request`: the keys of the other ways of asking for the same
        thing (a content-filter fallback after the planned request was refused is its
        second try, not a first).

        `paid`: the step's model is a paid one. A try of it that an earlier render left
        running (killed: a render that ends marks its steps) with no call let through the
        budget gate since (no ledger row of the step made after it began) sent nothing,
        and is not counted: the new try takes its place, as `fail(sent=False)` does for
        a try a Ctrl-C or the budget stopped. Before, status said "tries 2" and "retry
        the clip (attempt 2)" for a clip whose one request was never sent.

        A paid artifact the new inputs will replace is kept first (see `set_aside`).
        """
        prev = self.get(scene_id, stage)
        if prev is not None and prev.input_key != input_key:
            self.set_aside(prev)
            if (
                prev.stage == "keyframe"
                and prev.status == "succeeded"
                and prev.sha256
                and not self.was_paid(prev)
            ):
                # a free keyframe is not kept (painted again at no cost), but what it
                # painted is: its paid clip, kept, is reused if those inputs come back,
                # which the estimate can then tell (`painted`)
                self.set_meta(f"{PAINTED_META}{prev.input_key}", prev.sha256)
        # (a render holds the run's lock: no other writes between this read and the tx)
        unsent = (
            paid and prev is not None and prev.run_no < self.run_no and self.killed_unsent(prev)
        )
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "SELECT input_key, attempts FROM steps WHERE scene_id=? AND stage=?",
                (scene_id, stage),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO steps(scene_id,stage,input_key,status,attempts,run_no,"
                    "created_at,updated_at) VALUES(?,?,?,?,1,?,?,?)",
                    (scene_id, stage, input_key, "running", self.run_no, now, now),
                )
            else:
                same = row["input_key"] == input_key or row["input_key"] in same_request
                attempts = _count(row["attempts"]) + 1 if same else 1
                if same and unsent:
                    attempts = max(attempts - 1, 1)
                db.execute(
                    "UPDATE steps SET input_key=?, status='running', attempts=?, remote_id=NULL,"
                    " error_kind=NULL, error=NULL, run_no=?, updated_at=? "
                    "WHERE scene_id=? AND stage=?",
                    (input_key, attempts, self.run_no, now, scene_id, stage),
                )
        step = self.get(scene_id, stage)
        assert step is not None
        return step

    def killed_unsent(self, step: Step) -> bool:
        """Is `step` a paid step's try that a killed render left "running" before any
        call of it was let through the budget gate? No ledger row of the step was made
        from the time it began (its `updated_at`: nothing updates a running paid step
        before its row is made). The caller knows the step is a killed render's (`begin`:
        from an earlier run; `status`: no render works on the run) and its model paid.
        A time edited by hand reads as 0 (`_step`): any row of the step is then taken
        as sent, and the try stays counted."""
        began = step.updated_at
        if step.status != "running" or not isinstance(began, int | float):
            return False
        made = self._db.execute(
            "SELECT COUNT(*) FROM ledger WHERE scene_id=? AND stage=?"
            " AND NOT (typeof(created_at) IN ('integer','real') AND created_at < ?)",
            (step.scene_id, step.stage, began),
        ).fetchone()[0]
        return int(made) == 0

    def mark_fallback(self, input_key: str, of: str | None = None) -> None:
        """Record that the request `input_key` is asked as a content-filter fallback (its
        scene's planned request, `of`, was refused), before it is sent."""
        self.set_meta(f"{FALLBACK_META}{input_key}", of or "1")

    def fallback_of(self, input_key: str) -> str | None:
        """The planned request whose refusal `input_key` was last asked as the fallback
        of (`mark_fallback(of=)`); None when not recorded (marked before 2026-12-07, "1"),
        or not a fallback. Two planned requests can share one fallback (a softened prompt
        drops the words they differ by): the refusal of one's says nothing of the other."""
        value = self.get_meta(f"{FALLBACK_META}{input_key}")
        return None if value in (None, "1") else value

    def marked_fallback(self, input_key: str) -> bool:
        """Was the request `input_key` asked as a content-filter fallback (`mark_fallback`)?"""
        return self.get_meta(f"{FALLBACK_META}{input_key}") is not None

    def counts_as_fallback(self, input_key: str) -> bool:
        """May a result made from `input_key`, a fallback variant of a scene's request,
        stand for the scene's clip? Only if it was asked as the fallback (`mark_fallback`):
        the same request planned so (the audio-off one, made while `video.audio` was off)
        is not what a render with audio on asks. A run.db made before fallbacks were
        recorded cannot tell, and counts it, as renders then did (never bought twice)."""
        if self.get_meta(FALLBACKS_MARKED_META) is None:
            return True
        return self.marked_fallback(input_key)

    def set_detail(self, scene_id: str, stage: str, detail: str) -> None:
        """Replace a step's recorded detail (e.g. the plan's basis after a rekey)."""
        self._update(scene_id, stage, detail=detail)

    def set_sha256(self, scene_id: str, stage: str, sha256: str) -> None:
        """Record a step's artifact as rewritten by the program itself (plan.yaml given
        goals.yaml's new title): not an edit of the person's, as a changed hash would say."""
        self._update(scene_id, stage, sha256=sha256)

    def rekey(self, scene_id: str, stage: str, input_key: str) -> None:
        """Record a finished step's inputs under a new key formula (same inputs)."""
        self._update(scene_id, stage, input_key=input_key)

    def _update(self, scene_id: str, stage: str, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        cols = ", ".join(f"{k}=?" for k in fields)
        with self._tx() as db:
            db.execute(
                f"UPDATE steps SET {cols} WHERE scene_id=? AND stage=?",
                (*fields.values(), scene_id, stage),
            )

    def mark_submitted(
        self, scene_id: str, stage: str, remote_id: str, *, ledger_row: int | None = None
    ) -> None:
        """Journal the remote job id before the first poll: a crash then re-polls it.

        With `ledger_row`, the id goes on that ledger row in the same transaction: a kill
        can never leave the id on the ledger only (the next run would not poll the job and
        would pay for a second one) or on the step only."""
        try:
            self._mark_submitted(scene_id, stage, remote_id, ledger_row)
        except (OSError, sqlite3.Error):
            if ledger_row is not None:
                # a job made and paid for whose id run.db could not record: the next
                # render polls it (`take_receipts`), where it bought a second one
                self._write_receipt(
                    stage,
                    ledger_row,
                    {
                        "kind": "submitted",
                        "scene_id": scene_id,
                        "stage": stage,
                        "input_key": self._step_key(scene_id, stage),
                        "remote_id": remote_id,
                        "row": ledger_row,
                        "row_made": self._row_made(ledger_row),
                    },
                )
            raise

    def _mark_submitted(
        self, scene_id: str, stage: str, remote_id: str, ledger_row: int | None
    ) -> None:
        """`mark_submitted`'s one transaction."""
        now = time.time()
        with self._tx() as db:
            if ledger_row is not None:
                db.execute(
                    "UPDATE ledger SET remote_id=?, updated_at=? WHERE id=?",
                    (remote_id, now, ledger_row),
                )
            db.execute(
                "UPDATE steps SET status='submitted', remote_id=?, updated_at=? "
                "WHERE scene_id=? AND stage=?",
                (remote_id, now, scene_id, stage),
            )

    def succeed(
        self,
        scene_id: str,
        stage: str,
        artifact: Path,
        sha256: str,
        detail: dict[str, Any] | None = None,
        *,
        bill: tuple[int, float, dict[str, Any] | None] | None = None,
        bills: Sequence[tuple[int, float, dict[str, Any] | None]] = (),
        paid: bool | None = None,
        meta: Mapping[str, str] | None = None,
    ) -> None:
        """Mark a step done with its artifact. `bill` = (ledger row, usd, usage) settles the
        paid call that made the artifact in the same transaction (`bills`: several calls,
        e.g. a plan and its repair): a call is billed exactly when its result is kept, so a
        kill in between leaves it committed (unknown), which the next run reports, rather
        than billed for an artifact that was lost. `meta`: meta entries that belong to
        the artifact (the plan's `planned_plan:` record), written in that transaction too:
        a step done without them would be told apart from its hand edits by nothing."""
        rel = self._inside(artifact)
        paid_bills = [*bills, *([bill] if bill is not None else [])]
        try:
            self._succeed(scene_id, stage, rel, sha256, detail, paid_bills, paid, meta)
        except (OSError, sqlite3.Error):
            if paid_bills:
                # answered and paid, not recorded: described outside run.db, for the
                # next render to take up (`take_receipts`) rather than buy again
                self._write_receipt(
                    stage,
                    paid_bills[0][0],
                    {
                        "kind": "succeeded",
                        "scene_id": scene_id,
                        "stage": stage,
                        "input_key": self._step_key(scene_id, stage),
                        "artifact": str(rel),
                        "sha256": sha256,
                        "detail": detail,
                        "paid": paid,
                        "meta": dict(meta or {}),
                        "bills": [
                            [row_id, usd, usage, self._row_made(row_id)]
                            for row_id, usd, usage in paid_bills
                        ],
                    },
                )
            raise

    def _succeed(
        self,
        scene_id: str,
        stage: str,
        rel: str,
        sha256: str,
        detail: dict[str, Any] | None,
        paid_bills: Sequence[tuple[int, float, dict[str, Any] | None]],
        paid: bool | None,
        meta: Mapping[str, str] | None = None,
    ) -> None:
        """`succeed`'s one transaction."""
        now = time.time()
        with self._tx() as db:
            for key, value in (meta or {}).items():
                db.execute(_UPSERT_META_SQL, (key, value))
            for row_id, usd, usage in paid_bills:
                db.execute(
                    "UPDATE ledger SET state='billed', billed_usd=?, usage=?, updated_at=? "
                    "WHERE id=?",
                    (usd, json.dumps(usage or {}), now, row_id),
                )
            db.execute(
                "UPDATE steps SET status='succeeded', artifact=?, sha256=?, error_kind=NULL,"
                " error=NULL, detail=?, paid=?, updated_at=? WHERE scene_id=? AND stage=?",
                (
                    str(rel),
                    sha256,
                    json.dumps(detail) if detail else None,
                    None if paid is None else int(paid),
                    now,
                    scene_id,
                    stage,
                ),
            )

    def record_reused(
        self, scene_id: str, stage: str, input_key: str, artifact: Path, sha256: str
    ) -> None:
        """Upsert a succeeded step without counting an attempt (e.g. a cached segment)."""
        now = time.time()
        rel = self._inside(artifact)
        with self._tx() as db:
            db.execute(
                "INSERT INTO steps(scene_id,stage,input_key,status,attempts,artifact,sha256,"
                "run_no,created_at,updated_at) VALUES(?,?,?,'succeeded',0,?,?,?,?,?) "
                "ON CONFLICT(scene_id,stage) DO UPDATE SET input_key=excluded.input_key,"
                " status='succeeded', artifact=excluded.artifact, sha256=excluded.sha256,"
                " error_kind=NULL, error=NULL, updated_at=excluded.updated_at",
                (scene_id, stage, input_key, rel, sha256, self.run_no, now, now),
            )

    # ------------------------------------------------------------------ receipts
    def _step_key(self, scene_id: str, stage: str) -> str | None:
        """The input key of a step's try as begun (read: a read needs no room)."""
        with suppress(sqlite3.Error):
            step = self.get(scene_id, stage)
            return None if step is None else step.input_key
        return None

    def _row_made(self, row_id: int) -> float | None:
        """When ledger row `row_id` was made: with its id, it tells this run.db's row
        from a row of the same id in another (a receipt is only ever this one's)."""
        with suppress(sqlite3.Error), self._lock:
            row = self._db.execute("SELECT created_at FROM ledger WHERE id=?", (row_id,)).fetchone()
            return None if row is None else float(row[0])
        return None

    def _write_receipt(self, stage: str, row_id: int, record: dict[str, Any]) -> None:
        """Write a receipt (`RECEIPTS_DIR`) for a paid answer the journal could not take.
        A receipt that cannot be written either (a full disk) is not: the row stays
        committed, its outcome unknown, as before receipts."""
        if self.path.name == ":memory:" or self._read_only:
            return  # (a scratch journal, a read-only copy: nothing of it is written)
        dest = self.root / KEPT_DIR / RECEIPTS_DIR / f"{stage}-{row_id}.json"
        tmp: Path | None = None
        try:
            make_dirs(dest.parent)
            tmp = tmp_path_for(dest)
            tmp.write_text(json.dumps(record), encoding="utf-8")
            commit_file(tmp, dest)
        except (OSError, TypeError, ValueError):
            return
        finally:
            if tmp is not None:
                with suppress(OSError):
                    tmp.unlink(missing_ok=True)
        self.receipted.add(row_id)

    def _row_fits(
        self, row_id: object, made: object, scene_id: str, stage: str, *, no_job: bool = False
    ) -> bool:
        """Is `row_id` this run.db's row (made at `made`) of a call of `scene_id`'s
        `stage` still committed (its answer recorded nowhere else), and with `no_job`
        holding no job id?"""
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            return False
        if not -(2**63) <= row_id < 2**63:
            return False  # (no row of SQLite's: binding it raised OverflowError)
        if not isinstance(made, (int, float)) or isinstance(made, bool):
            return False
        with self._lock:
            row = self._db.execute(
                "SELECT scene_id, stage, state, remote_id, created_at FROM ledger WHERE id=?",
                (row_id,),
            ).fetchone()
        return (
            row is not None
            and row["scene_id"] == scene_id
            and row["stage"] == stage
            and row["state"] == "committed"
            and not (no_job and row["remote_id"])
            and isinstance(row["created_at"], (int, float))
            and float(row["created_at"]) == float(made)
        )

    def take_receipts(self) -> list[tuple[str, str, str, str]]:
        """Record the paid answers an earlier render could not (their receipts, see
        `RECEIPTS_DIR`): (scene id, stage, kind, what) of each taken: "succeeded" and
        the file's path in the run, "submitted" and the job's id, "billed" and its
        result URL kept ("" for none); bills last (a result's own bill is in its
        record). Only a receipt that still fits is taken: its ledger rows this run.db's
        and still committed, the step still asking the inputs it was made for, and (a
        result) the file at its place holding the very bytes it did; else it is dropped
        and nothing is taken (its rows stay as they were: an outcome unknown). A write
        that fails again (the limit still met) raises, and its receipt stays for the
        next render. A read-only store takes them up in its copy (status, the
        estimate), leaving them."""
        folder = self.root / KEPT_DIR / RECEIPTS_DIR
        self.unread_receipts = []
        try:
            paths = sorted(
                (p for p in folder.glob("*.json") if p.is_file()),
                key=lambda p: (p.name.startswith("bill-"), p.name),
            )
        except OSError:
            paths = []
        taken: list[tuple[str, str, str, str]] = []
        for path in paths:
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                rec = None
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    # the open files limit (which receipts are written at): it stays for
                    # the next render; dropped, the paid answer it records was lost
                    raise
                # not read (its permissions): kept, not dropped unread, and said
                self.unread_receipts.append((path, e.strerror or str(e)))
                continue
            try:
                what = self._take_receipt(rec) if isinstance(rec, dict) else None
            except (TypeError, OverflowError, ValueError):
                # one damaged or edited by hand (a number SQLite cannot hold, a field
                # of another type): dropped as one that no longer fits; it raised out
                # of status, the estimate and every render
                what = None
            if what is not None:
                taken.append(what)
            if not self._read_only:  # (a read-only copy takes them up in memory only)
                with suppress(OSError):
                    path.unlink()
        return taken + self._take_answered()

    def _take_answered(self) -> list[tuple[str, str, str, str]]:
        """The paid calls still committed whose answer had come, its result waiting at a
        URL, when their render ended before downloading it (`ledger_note_answered`): billed
        at their estimate (a Seedream image's flat price) with the URL kept, which the
        next render downloads instead of paying again (`kept_result`). (scene id,
        stage, "answered", the URL) of each."""
        taken: list[tuple[str, str, str, str]] = []
        for row in self.ledger_rows():
            usage = row["usage"]
            note = usage.get("answered") if isinstance(usage, dict) else None
            if row["state"] != "committed" or not isinstance(note, dict):
                continue
            url, key, at = note.get("result_url"), note.get("input_key"), note.get("result_at")
            valid_for = note.get("result_valid_for")
            if not (isinstance(url, str) and url and isinstance(key, str) and _dollars(at)):
                continue  # (damaged by hand: the row stays an outcome unknown)
            kept: dict[str, Any] = {
                "answered_before_stop": True,
                "result_url": url,
                "input_key": key,
                "result_at": float(at),
            }
            if _dollars(valid_for):
                kept["result_valid_for"] = float(valid_for)
            self.ledger_bill(int(row["id"]), float(row["estimated_usd"]), kept)
            taken.append((str(row["scene_id"]), str(row["stage"]), "answered", url))
        return taken

    def ledger_note_answered(
        self, row_id: int, url: str, input_key: str, valid_for: float | None = None
    ) -> None:
        """A paid call still committed was answered, its result waiting at `url` (made
        from `input_key`), downloaded next: noted on its row, so that a render ended
        before the download is done (a kill, a second Ctrl-C) leaves the URL for the next
        one (`_take_answered`) instead of an outcome unknown and an image bought again.
        The row's bill, once the result is saved, replaces the note."""
        with self._tx() as db:
            row = db.execute("SELECT state, usage FROM ledger WHERE id=?", (row_id,)).fetchone()
            if row is None or row["state"] != "committed":
                return
            usage = self._usage(row_id, row["usage"]) or {}
            note: dict[str, Any] = {"result_url": url, "input_key": input_key}
            note["result_at"] = time.time()
            if valid_for is not None:
                note["result_valid_for"] = valid_for
            db.execute(
                "UPDATE ledger SET usage=?, updated_at=? WHERE id=?",
                (json.dumps({**usage, "answered": note}), time.time(), row_id),
            )

    def _take_receipt(self, rec: dict[str, Any]) -> tuple[str, str, str, str] | None:
        """`take_receipts` of one receipt: what it took, or None (it no longer fits)."""
        scene_id, stage, key = rec.get("scene_id"), rec.get("stage"), rec.get("input_key")
        if rec.get("kind") == "billed" and isinstance(scene_id, str) and isinstance(stage, str):
            row, usd, usage = rec.get("row"), rec.get("usd"), rec.get("usage")
            if not self._row_fits(row, rec.get("row_made"), scene_id, stage):
                return None
            if not _dollars(usd) or not isinstance(usage, (dict, type(None))):
                return None
            assert isinstance(row, int)
            self.ledger_bill(row, float(usd), usage)
            return scene_id, stage, "billed", str((usage or {}).get("result_url") or "")
        if not (isinstance(scene_id, str) and isinstance(stage, str) and isinstance(key, str)):
            return None
        step = self.get(scene_id, stage)
        asks = step is not None and step.status != "succeeded" and step.input_key == key
        if rec.get("kind") == "submitted":
            row, rid = rec.get("row"), rec.get("remote_id")
            if not isinstance(rid, str) or not rid:
                return None
            if not self._row_fits(row, rec.get("row_made"), scene_id, stage, no_job=True):
                return None
            assert isinstance(row, int)
            if asks and step is not None and not step.remote_id:
                self.mark_submitted(scene_id, stage, rid, ledger_row=row)
            else:
                # its step asks for other inputs now: the job is on its row, settled as
                # one no step holds (kept under its inputs, or billed unused)
                self.ledger_set_remote(row, rid)
            return scene_id, stage, "submitted", rid
        if rec.get("kind") != "succeeded" or not asks:
            return None
        bills: list[tuple[int, float, dict[str, Any] | None]] = []
        listed = rec.get("bills")
        if not isinstance(listed, list):
            return None  # ("bills": 1 raised TypeError out of status and every render)
        for b in listed:
            if not (isinstance(b, list) and len(b) == 4):
                return None
            row_id, usd, usage, made = b
            if not self._row_fits(row_id, made, scene_id, stage):
                return None
            if not _dollars(usd) or not isinstance(usage, (dict, type(None))):
                return None
            bills.append((row_id, float(usd), usage))
        rel, sha = rec.get("artifact"), rec.get("sha256")
        if not bills or not isinstance(rel, str) or not isinstance(sha, str):
            return None
        path = self.root / rel
        if Path(rel).is_absolute() or ".." in Path(rel).parts or not path.is_file():
            return None
        if sha256_file(path) != sha:
            return None  # not the bytes answered (replaced since): nothing is taken for them
        detail, paid = rec.get("detail"), rec.get("paid")
        meta = rec.get("meta")
        if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
            meta = {}
        self.succeed(
            scene_id,
            stage,
            path,
            sha,
            detail if isinstance(detail, dict) else None,
            bills=bills,
            paid=paid if isinstance(paid, bool) else None,
            meta={str(k): v for k, v in meta.items()},
        )
        return scene_id, stage, "succeeded", rel

    # ------------------------------------------------------------------ kept artifacts
    def was_paid(self, step: Step) -> bool:
        """Did a paid call make this step's artifact? Rows from before the `paid` column
        go by the ledger: any call billed (or possibly billed) for the scene and stage."""
        if step.paid is not None:
            return bool(step.paid)
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM ledger WHERE scene_id=? AND stage=? "
                "AND state IN ('billed', 'committed') LIMIT 1",
                (step.scene_id, step.stage),
            ).fetchone()
        return row is not None

    def set_aside(self, step: Step) -> None:
        """Keep a paid, intact artifact that new inputs are about to replace.

        It goes to kept/<stage>/<input key>.<ext> as a hard link (no copy while the live
        file is there; a copy where links are not supported) and is recorded before the
        live file can be replaced, so a kill at any point loses neither.
        Free (local) artifacts are not kept: making them again costs nothing.
        """
        if (
            step.stage not in KEPT_STAGES
            or step.status != "succeeded"
            or step.sha256 is None
            or not self.was_paid(step)
            or self.artifact_problem(step) is not None
        ):
            return
        src = self.artifact_path(step)
        assert src is not None
        dest = self.root / KEPT_DIR / step.stage / f"{step.input_key}{src.suffix}"
        if not (dest.is_file() and sha256_file(dest) == step.sha256):
            _link_or_copy(src, dest)
        self._record_kept(step.scene_id, step.stage, step.input_key, dest, step.sha256, step)

    def keep_copy(self, scene_id: str, stage: str, input_key: str, path: Path) -> None:
        """Keep a copy of `path` as it is now (e.g. a plan.yaml with hand edits, which a
        new plan replaces) under kept/, for `restore` when these inputs come back."""
        if not path.is_file():
            return
        dest = self.root / KEPT_DIR / stage / f"{input_key}{path.suffix}"
        _link_or_copy(path, dest, link=False)
        step = self.get(scene_id, stage)
        made = step if step is not None and step.input_key == input_key else None
        self._record_kept(scene_id, stage, input_key, dest, sha256_file(dest), made)

    def keep_result(
        self, scene_id: str, stage: str, input_key: str, data: bytes, suffix: str
    ) -> None:
        """Keep a paid result that could not be put in its place (a folder put where the
        keyframe goes, or scenes/ made a file, during the render) under kept/, for
        `restore`: the image was paid for and lost, and the next render bought it again."""
        dest = self.root / KEPT_DIR / stage / f"{input_key}{suffix}"
        make_dirs(dest.parent)
        tmp = tmp_path_for(dest)
        try:
            tmp.write_bytes(data)
            commit_file(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        self._record_kept(scene_id, stage, input_key, dest, sha256_file(dest), None)

    def keep_result_at(
        self, dir_fd: int, scene_id: str, stage: str, input_key: str, data: bytes, suffix: str
    ) -> bool:
        """`keep_result` into the run folder open as `dir_fd`, wherever it is now: the run
        folder moved during the render, a paid result written at its old path was lost
        to the render into the moved folder (it bought the image again), and what was
        written there is removed (`pipeline.remove_remade`). False when it cannot be
        written there (the folder deleted: nothing to resume)."""
        kept = f"{KEPT_DIR}/{stage}"
        rel = f"{kept}/{input_key}{suffix}"
        tmp = f"{rel}.{os.getpid()}.tmp"
        try:
            for d in (KEPT_DIR, kept):
                with suppress(FileExistsError):
                    os.mkdir(d, dir_fd=dir_fd)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=dir_fd)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, rel, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError:
            with suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            return False
        sha = hashlib.sha256(data).hexdigest()
        self._record_kept(scene_id, stage, input_key, self.root / rel, sha, None)
        return True

    def _record_kept(
        self,
        scene_id: str,
        stage: str,
        input_key: str,
        dest: Path,
        sha256: str,
        made: Step | None = None,
    ) -> None:
        """Journal a file under kept/ (already in place) as made from these inputs; with
        the run and tries of the step that `made` it, for `restore` to put back (meta
        `KEPT_MADE_META`: no schema change, and a run.db stays readable by an older
        mindmovie)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO kept(stage,input_key,artifact,sha256,scene_id,kept_at)"
                " VALUES(?,?,?,?,?,?)",
                (stage, input_key, str(dest.relative_to(self.root)), sha256, scene_id, time.time()),
            )
            name = f"{KEPT_MADE_META}{stage}:{input_key}"
            if made is None:
                db.execute("DELETE FROM meta WHERE key=?", (name,))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO meta(key,value) VALUES(?,?)",
                    (name, json.dumps({"run_no": made.run_no, "attempts": made.attempts})),
                )

    def _kept_made(self, stage: str, input_key: str) -> tuple[int, int] | None:
        """(run number, tries) of the step that made the kept artifact for these inputs,
        or None when not recorded (kept before it was)."""
        raw = self.get_meta(f"{KEPT_MADE_META}{stage}:{input_key}")
        try:
            made = json.loads(raw) if raw else None
            return None if made is None else (int(made["run_no"]), int(made["attempts"]))
        except (ValueError, TypeError, KeyError):
            return None

    def find_kept(self, stage: str, input_key: str) -> tuple[Path, str] | None:
        """An intact artifact made from exactly these inputs, and its sha256: one kept
        under kept/, or another scene's live one (scenes renumbered: the same request).
        Only paid work: a free (local) one is made again, as a new render would make it
        (e.g. a local clip's move follows its scene id, which its key does not hold)."""
        found = self._find_kept(stage, input_key)
        return None if found is None else (found[0], found[1])

    def _find_kept(
        self, stage: str, input_key: str
    ) -> tuple[Path, str, tuple[int, int] | None] | None:
        """`find_kept`, with the (run number, tries) that made it (None: not recorded)."""
        with self._lock:
            rows = [
                (r[0], r[1])
                for r in self._db.execute(
                    "SELECT artifact, sha256 FROM kept WHERE stage=? AND input_key=?",
                    (stage, input_key),
                ).fetchall()
            ]
            live = [
                _step(r, self.path)
                for r in self._db.execute(
                    "SELECT * FROM steps WHERE stage=? AND input_key=? AND status='succeeded'"
                    " AND artifact IS NOT NULL AND sha256 IS NOT NULL",
                    (stage, input_key),
                ).fetchall()
            ]
        made: dict[tuple[str, str], tuple[int, int] | None] = {
            (art, sha): self._kept_made(stage, input_key) for art, sha in rows
        }
        for st in live:
            if stage == "plan" or self.was_paid(st):
                assert st.artifact is not None and st.sha256 is not None
                rows.append((st.artifact, st.sha256))
                made.setdefault((st.artifact, st.sha256), (st.run_no, st.attempts))
        for art, sha in rows:
            path = self.root / art
            if path.is_file() and sha256_file(path) == sha:
                return path, str(sha), made[(art, sha)]
        return None

    def restore(
        self, scene_id: str, stage: str, input_key: str, dest: Path, detail: str | None = None
    ) -> bool:
        """Put the kept artifact for these inputs (see `find_kept`) in place as this step's
        finished result, without a call. False when there is none. A plan is copied (it
        is the person's to edit in place); keyframes and clips are hard-linked."""
        found = self._find_kept(stage, input_key)
        if found is None:
            return False
        src, sha, made = found
        prev = self.get(scene_id, stage)
        if prev is None or prev.input_key != input_key:
            # journaled before the live file is replaced (its paid artifact kept first,
            # see begin): killed once the file is in place, the step must not say the
            # old inputs made it (a plan.yaml would be kept as the other goals' plan)
            self.begin(scene_id, stage, input_key)
        make_dirs(dest.parent)
        tmp = tmp_path_for(dest)
        try:
            _link_or_copy(src, tmp, commit=False, link=stage in KEPT_STAGES)
            if sha256_file(tmp) != sha:  # replaced meanwhile (another scene's live file)
                return False
            commit_file(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        killpoint("restore")  # in place, not yet journaled
        now = time.time()
        rel = self._inside(dest)
        with self._tx() as db:
            db.execute(
                "INSERT INTO steps(scene_id,stage,input_key,status,attempts,artifact,sha256,"
                "run_no,detail,created_at,updated_at,paid) "
                "VALUES(?,?,?,'succeeded',0,?,?,?,?,?,?,1) "
                "ON CONFLICT(scene_id,stage) DO UPDATE SET input_key=excluded.input_key,"
                " status='succeeded', artifact=excluded.artifact, sha256=excluded.sha256,"
                " remote_id=NULL, error_kind=NULL, error=NULL, detail=excluded.detail,"
                " paid=1, run_no=excluded.run_no, updated_at=excluded.updated_at",
                (scene_id, stage, input_key, rel, sha, self.run_no, detail, now, now),
            )
            if made is not None:
                # the run and tries that made it: status showed a restored step as made
                # by this render (its run number, and begin's new try)
                db.execute(
                    "UPDATE steps SET run_no=?, attempts=? WHERE scene_id=? AND stage=?",
                    (made[0], made[1], scene_id, stage),
                )
        return True

    def fail(
        self, scene_id: str, stage: str, error_kind: str, error: str, *, sent: bool = True
    ) -> None:
        """Mark a step failed. `sent=False`: its try (`begin`) ended before any call was
        sent (stopped at the budget gate, by a refusal earlier in the run, a key not set,
        a Ctrl-C while it waited: `Pipeline._tried`), so it is not counted in `attempts`:
        status said 'tries 2' and 'retry the clip (attempt 3)' for calls never sent."""
        if sent:
            self._update(
                scene_id, stage, status="failed", error_kind=error_kind, error=error[:2000]
            )
            return
        with self._tx() as db:
            db.execute(
                "UPDATE steps SET status='failed', error_kind=?, error=?, updated_at=?,"
                " attempts=MAX(attempts-1, 0) WHERE scene_id=? AND stage=?",
                (error_kind, error[:2000], time.time(), scene_id, stage),
            )

    def result_gone(
        self,
        scene_id: str,
        stage: str,
        remote_id: str,
        error: str,
        *,
        estimated_usd: float,
        billed: bool = True,
    ) -> None:
        """A job whose result can no longer be had: finished and billed but gone at its
        URL (404/410, or past its validity: `providers.base.ResultGone`), or unknown to
        the provider or failed (`Pipeline._let_go_of_job`). In one transaction: the
        step fails (`result_gone`) and loses the job id, so no render polls that job
        again (it failed the scene the same way at every render) and the estimate
        counts a new clip for it (`resumable_job`: no job), bought only with consent;
        the job's ledger row stays billed (or in flight), marked unused with why.
        `detail` keeps the job, whether it was `billed` and `estimated_usd` (a new clip)
        for `status`."""
        gone = {"job": remote_id, "estimated_usd": estimated_usd, "billed": billed}
        self._drop_job(
            scene_id, stage, remote_id, "result_gone", error, gone, result_gone=error[:300]
        )

    def release_job(self, scene_id: str, stage: str, remote_id: str, *, taken_by: str) -> None:
        """The step lets go of its job `remote_id`, which scene `taken_by`'s step has
        taken (`Pipeline._take_job_of`, `_unwanted_job`): it fails (`taken`, saying so)
        and loses the job id, only while it still holds that job. The ledger row is left
        as it is: the job is the other step's now, polled, fetched and billed there."""
        error = (
            f"its {stage}'s job {remote_id} was taken by {taken_by}, which asks the very "
            f"same {stage}"
        )
        with self._tx() as db:
            db.execute(
                "UPDATE steps SET status='failed', error_kind='taken', error=?, remote_id=NULL,"
                " updated_at=? WHERE scene_id=? AND stage=? AND remote_id=?",
                (error, time.time(), scene_id, stage, remote_id),
            )

    def let_go_job(self, scene_id: str, remote_id: str, error: str, note: str) -> None:
        """`render --let-go`: the clip step's journaled job, kept only because the provider
        settings changed since it was made (`Pipeline._find_let_go`), is let go of by the
        person. In one transaction, before the new job's create is journaled: the step
        fails (`let_go`) and loses the job id, so the clip is bought again (once); the
        job's ledger row stays as it is (committed or billed: never refunded), marked
        unused and `let_go` (`note`: why it was kept). A kill after it: the next render
        counts the new clip in its estimate and asks, as for any clip."""
        self._drop_job(
            scene_id,
            "clip",
            remote_id,
            "let_go",
            error,
            {"job": remote_id, "why": note[:300]},
            only_that_job=True,
            let_go=f"let go of by the person: {note}"[:400],
        )

    def _drop_job(
        self,
        scene_id: str,
        stage: str,
        remote_id: str,
        kind: str,
        error: str,
        record: dict[str, Any],
        *,
        only_that_job: bool = False,
        **marks: Any,
    ) -> None:
        """`result_gone` and `let_go_job`, in one transaction: the step fails (`kind`,
        its detail `{kind: record}`) and loses its job id (`only_that_job`: only while
        the step still holds `remote_id`), and the job's ledger row (the latest not
        refunded) is marked unused and with `marks`."""
        now = time.time()
        sql = (
            "UPDATE steps SET status='failed', error_kind=?, error=?, remote_id=NULL,"
            " detail=?, updated_at=? WHERE scene_id=? AND stage=?"
        )
        args: tuple[Any, ...] = (
            kind,
            error[:2000],
            json.dumps({kind: record}),
            now,
            scene_id,
            stage,
        )
        if only_that_job:
            sql, args = sql + " AND remote_id=?", (*args, remote_id)
        with self._tx() as db:
            db.execute(sql, args)
            row = db.execute(
                "SELECT id, usage FROM ledger WHERE remote_id=? AND state!='refunded'"
                " ORDER BY id DESC LIMIT 1",
                (remote_id,),
            ).fetchone()
            if row is not None:
                usage = self._usage(row[0], row[1]) or {}
                usage.update(unused=True, **marks)
                db.execute(
                    "UPDATE ledger SET usage=?, updated_at=? WHERE id=?",
                    (json.dumps(usage), now, row[0]),
                )

    def let_go_row(self, row_id: int, note: str) -> None:
        """`render --let-go`: a create with no job id (its answer lost, or in flight at a
        kill) sent with other provider settings than now (`Pipeline._keep_lost_elsewhere`)
        is let go of by the person: its row stays committed (it may have made a job where
        it was sent, which bills), its outcome unknown (never looked for again, nor its
        job taken for any scene's), marked `let_go`."""
        with self._tx() as db:
            row = db.execute("SELECT usage FROM ledger WHERE id=?", (row_id,)).fetchone()
            usage = (self._usage(row_id, row[0]) if row is not None else None) or {}
            usage.update(
                unused=True,
                unknown_outcome=True,
                let_go=f"let go of by the person: {note}"[:400],
            )
            db.execute(
                "UPDATE ledger SET usage=?, updated_at=? WHERE id=?",
                (json.dumps(usage), time.time(), row_id),
            )

    def forget_stage(self, stage: str, keep: set[str]) -> None:
        """Drop rows of `stage` whose scene is not in `keep` (e.g. segments no longer used)."""
        with self._tx() as db:
            rows = db.execute("SELECT scene_id FROM steps WHERE stage=?", (stage,)).fetchall()
            for r in rows:
                if r[0] not in keep:
                    db.execute("DELETE FROM steps WHERE scene_id=? AND stage=?", (r[0], stage))

    # ------------------------------------------------------------------ ledger
    def _usage(self, row_id: object, raw: object) -> dict[str, Any] | None:
        """A ledger row's `usage` (a JSON object, or nothing recorded: None).

        Strict, not tolerant: it holds what a later render acts on instead of paying
        again (a result URL to download, a lost job to look for), so a value damaged by
        hand read as "nothing noted" could pay twice, and the writers that add to it
        would overwrite it. It was a JSONDecodeError traceback (or an AttributeError for
        JSON that is no object) from `status` and every render."""
        if raw is None or raw == "":
            return None
        try:
            usage = json.loads(str(raw))
        except ValueError:
            usage = raw
        if usage is None or isinstance(usage, dict):
            return usage
        shown = str(raw) if len(str(raw)) <= 60 else str(raw)[:57] + "..."
        raise StoreError(
            f"{self.path}: ledger row {row_id} has a damaged usage ({shown!r} is not a "
            "JSON object). It was not changed. Put back the value it had, or clear it "
            f'(sqlite3 {self.path} "UPDATE ledger SET usage=NULL WHERE id={row_id}"): the '
            "money it records stays counted, only its notes (a result to download again, "
            "a lost job to look for) are forgotten."
        )

    def _money(self, row: dict[str, Any]) -> dict[str, Any]:
        """``row`` (a ledger row), after checking what the budget counts: its state and
        its dollar amounts.

        Strict, as `_usage` is: `UPDATE ledger SET billed_usd='x'` made `status` a
        TypeError traceback, and the budget gate's sum (SQLite's, which reads text as 0)
        counted that call as free, so a paid render could spend past --budget. A state
        other than the three (the call counted nowhere) the same. Neither can be guessed:
        the person puts back the value it had."""
        row_id = row["id"]
        state = row["state"]
        if state not in LEDGER_STATES:
            raise self._damaged(row_id, "state", state, "committed, billed or refunded")
        for column in ("estimated_usd", "held_usd", "billed_usd"):
            usd = row[column]
            if usd is None and column != "estimated_usd":
                continue
            number = isinstance(usd, int | float) and not isinstance(usd, bool)
            if not number or not math.isfinite(usd) or usd < 0:
                raise self._damaged(row_id, column, usd, "an amount of dollars")
        return row

    def _damaged(self, row_id: object, column: str, raw: object, what: str) -> StoreError:
        shown = repr(raw) if len(repr(raw)) <= 60 else repr(raw)[:57] + "..."
        return StoreError(
            f"{self.path}: ledger row {row_id} has a damaged {column} ({shown} is not "
            f"{what}). It was not changed. Put back the value it had (sqlite3 {self.path} "
            f'"SELECT * FROM ledger WHERE id={row_id}" shows the row): it is money the '
            "budget counts, so it is not guessed."
        )

    def ledger_commit(
        self,
        scene_id: str,
        stage: str,
        provider: str,
        model: str,
        estimated_usd: float,
        held_usd: float | None = None,
        *,
        origin: dict[str, str] | None = None,
        job_input: dict[str, Any] | None = None,
    ) -> int:
        """A paid call is about to be sent: record it as committed (outcome unknown), with
        what the budget holds for it until it settles (the most it can bill). `origin`:
        where a video job is made (`job_origin`), and `job_input`: what it is made from
        (`job_input`), kept with the row in one transaction."""
        now = time.time()
        held = max(estimated_usd, held_usd if held_usd is not None else estimated_usd)
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO ledger(scene_id,stage,provider,model,state,estimated_usd,"
                "held_usd,created_at,updated_at) VALUES(?,?,?,?,'committed',?,?,?,?)",
                (scene_id, stage, provider, model, estimated_usd, held, now, now),
            )
            row = int(cur.lastrowid or 0)
            if origin is not None:
                self._set_origin(db, row, origin)
            if job_input is not None:
                self._set_row_meta(db, f"{JOB_INPUT_META}{row}", job_input)
            return row

    def job_input(self, row_id: int) -> tuple[str, float] | None:
        """(input key, seconds) the clip job of ledger row `row_id` was made from
        (`ledger_commit(job_input=)`), or None: not recorded (a row made before mindmovie
        recorded it) or unreadable."""
        raw = self.get_meta(f"{JOB_INPUT_META}{row_id}")
        try:
            data = json.loads(raw) if raw is not None else None
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        key, seconds = data.get("input_key"), data.get("seconds")
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{16,128}", key):
            return None  # it names a file under kept/: nothing else
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds <= 0:
            return None
        return key, float(seconds)

    @staticmethod
    def _set_origin(db: sqlite3.Connection, row_id: int, origin: dict[str, str]) -> None:
        Store._set_row_meta(db, f"{JOB_ORIGIN_META}{row_id}", origin)

    @staticmethod
    def _set_row_meta(db: sqlite3.Connection, key: str, value: Mapping[str, Any]) -> None:
        """A ledger row's note in meta (its origin, its job input), as JSON, within the
        caller's transaction: one writer for `ledger_commit` and `ledger_carry`."""
        db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, json.dumps(value, sort_keys=True)),
        )

    def job_origin(self, row_id: int) -> dict[str, str] | None:
        """Where the video job of ledger row `row_id` was made (`ledger_commit(origin=)`),
        or None: not recorded (a row made before mindmovie recorded it), or unreadable
        (edited by hand: not JSON, not an object of strings, or without the base URL
        every origin records; `{}` or `{"base_url": null}` was compared as a base URL
        "(not set)" or "None", a change that no setting put back could end)."""
        raw = self.get_meta(f"{JOB_ORIGIN_META}{row_id}")
        if raw is None:
            return None
        try:
            origin = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(origin, dict) or not isinstance(origin.get("base_url"), str):
            return None
        if not all(isinstance(v, str) for v in origin.values()):
            return None
        return {str(k): v for k, v in origin.items()}

    def origin_salt(self) -> bytes:
        """The run's random salt of key fingerprints, made at its first use."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (ORIGIN_SALT_META,)).fetchone()
            if row is not None:
                try:
                    return bytes.fromhex(str(row[0]))
                except ValueError:
                    pass  # edited by hand: a new one (fingerprints made with it differ)
            salt = os.urandom(16)
            db.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (ORIGIN_SALT_META, salt.hex()),
            )
            return salt

    def _ledger_update(self, row_id: int, **fields: Any) -> None:
        fields["updated_at"] = time.time()
        with self._tx() as db:
            if "usage" in fields:
                # a row let go of (`let_go`) says so for good, whatever settles it later;
                # one `render --fresh` carried in says where from (`ledger_carry`) once
                # billed or carried on too: its bill replaced that, and `status` of the
                # run showed a billed job no render of it had made
                row = db.execute("SELECT usage FROM ledger WHERE id=?", (row_id,)).fetchone()
                was = (self._usage(row_id, row[0]) if row is not None else None) or {}
                for mark in ("let_go", "carried_from"):
                    if mark in was:
                        usage = json.loads(fields["usage"] or "{}")
                        if isinstance(usage, dict) and mark not in usage:
                            fields["usage"] = json.dumps({**usage, mark: was[mark]})
            cols = ", ".join(f"{k}=?" for k in fields)
            db.execute(f"UPDATE ledger SET {cols} WHERE id=?", (*fields.values(), row_id))

    def ledger_set_remote(self, row_id: int, remote_id: str) -> None:
        self._ledger_update(row_id, remote_id=remote_id)

    def ledger_bill(self, row_id: int, billed_usd: float, usage: dict[str, Any] | None) -> None:
        """Bill a call. A bill run.db cannot record goes in a receipt (`take_receipts`):
        above all a paid image's result URL, kept with its bill (`Pipeline._settle_failed`)
        for the next render to download, where it bought the image again."""
        try:
            self._ledger_update(
                row_id, state="billed", billed_usd=billed_usd, usage=json.dumps(usage or {})
            )
        except (OSError, sqlite3.Error):
            row = self.ledger_row(row_id) if self._row_made(row_id) is not None else None
            if row is not None:
                self._write_receipt(
                    "bill",
                    row_id,
                    {
                        "kind": "billed",
                        "scene_id": row["scene_id"],
                        "stage": row["stage"],
                        "row": row_id,
                        "row_made": self._row_made(row_id),
                        "usd": billed_usd,
                        "usage": usage,
                    },
                )
            raise

    def ledger_refund(
        self, row_id: int, reason: str, *, lost: dict[str, Any] | None = None
    ) -> None:
        """The provider says this call is not charged (error before acceptance, filter).
        `lost`: a video create whose answer was lost and whose job was not listed within
        the grace (`Pipeline._look_for_late_jobs`): its note (the inputs it asked for,
        when it was sent) is kept, so that a job the provider makes even later is put
        back on this row (`ledger_reopen`) instead of billing on none."""
        usage: dict[str, Any] = {"reason": reason}
        if lost is not None:
            usage["lost"] = lost
        self._ledger_update(row_id, state="refunded", billed_usd=0.0, usage=json.dumps(usage))

    def ledger_reopen(self, row_id: int, remote_id: str, *, scene_id: str | None = None) -> None:
        """A refunded lost create's job appeared after all (`ledger_refund(lost=)`): the
        row is committed again, with that job's id (it bills). With `scene_id`, the job is
        also that scene's clip step's (polled, not paid again), in the same transaction:
        a kill never leaves the job on the row only (billed unused, the clip paid again)."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT usage FROM ledger WHERE id=?", (row_id,)).fetchone()
            was = (self._usage(row_id, row[0]) if row is not None else None) or {}
            usage = {"late_after_refund": True, "refund_reason": was.get("reason")}
            db.execute(
                "UPDATE ledger SET state='committed', billed_usd=NULL, remote_id=?, usage=?, "
                "updated_at=? WHERE id=?",
                (remote_id, json.dumps(usage), now, row_id),
            )
            if scene_id is not None:
                db.execute(
                    "UPDATE steps SET status='submitted', remote_id=?, updated_at=? "
                    "WHERE scene_id=? AND stage='clip'",
                    (remote_id, now, scene_id),
                )

    def ledger_add_job(
        self,
        scene_id: str,
        provider: str,
        model: str,
        remote_id: str,
        estimated_usd: float,
        held_usd: float | None = None,
        *,
        origin: dict[str, str] | None = None,
    ) -> int:
        """A clip job the provider made (and bills) that no request row can take: more
        jobs listed for a lost request than it asked for (`Pipeline._book_extra_jobs`).
        A row of its own, committed with the job's id and marked unused, in one
        transaction; billed from its usage once it ends (`Pipeline._settle_stale_jobs`).
        The money is spent already, so no budget check: the gate's totals include it."""
        now = time.time()
        held = max(estimated_usd, held_usd if held_usd is not None else estimated_usd)
        usage = json.dumps({"unused": True, "extra_job": True})
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO ledger(scene_id,stage,provider,model,remote_id,state,"
                "estimated_usd,held_usd,usage,created_at,updated_at) "
                "VALUES(?,'clip',?,?,?,'committed',?,?,?,?,?)",
                (scene_id, provider, model, remote_id, estimated_usd, held, usage, now, now),
            )
            row = int(cur.lastrowid or 0)
            if origin is not None:
                self._set_origin(db, row, origin)
            return row

    def ledger_carry(
        self,
        row: Mapping[str, Any],
        *,
        origin: dict[str, str] | None,
        job_input: tuple[str, float] | None,
        carried_from: str,
    ) -> int:
        """A clip job still in flight in the run `render --fresh` set aside (`row`, of that
        run's ledger), carried into this run's: committed with its job id, its estimate,
        hold and time, where it was made (`origin`, with the salt it was fingerprinted
        with) and what from (`job_input`), in one transaction. No step holds it: a scene
        asking for those inputs takes it (`Pipeline._unwanted_job`), else it is billed
        unused and its clip kept (`Pipeline._settle_stale_jobs`). Left in the set-aside
        run.db, it was polled by no render: its paid clip never downloaded, its bill never
        recorded. The money is spent already, so no budget check."""
        now = time.time()
        # what its row said there goes with it (a job let go of by `render --let-go`
        # stays let go of: its marks were dropped, and the new run took it for another)
        was = row.get("usage")
        usage = json.dumps(
            {
                **(was if isinstance(was, dict) else {}),
                "carried_from": carried_from,
                "carried_row": int(row["id"]),
            }
        )
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO ledger(scene_id,stage,provider,model,remote_id,state,"
                "estimated_usd,held_usd,usage,created_at,updated_at) "
                "VALUES(?,'clip',?,?,?,'committed',?,?,?,?,?)",
                (
                    str(row["scene_id"]),
                    str(row["provider"]),
                    str(row["model"]),
                    str(row["remote_id"]),
                    float(row["estimated_usd"]),
                    row.get("held_usd"),
                    usage,
                    float(row["created_at"]),
                    now,
                ),
            )
            new = int(cur.lastrowid or 0)
            if origin is not None:
                self._set_origin(db, new, origin)
            if job_input is not None:
                made = {"input_key": job_input[0], "seconds": job_input[1]}
                self._set_row_meta(db, f"{JOB_INPUT_META}{new}", made)
            came = {"db": carried_from, "row": int(row["id"])}
            self._set_row_meta(db, f"{CARRIED_FROM_META}{new}", came)
            return new

    def carried_in(self) -> list[tuple[int, str, int]]:
        """(row here, set-aside run.db, its row there) of each clip job `render --fresh`
        carried into this run (`ledger_carry`), whatever became of it here since;
        unreadable notes (edited by hand) are left out: they only point the way back."""
        with self._lock:
            raw = self._db.execute(
                "SELECT key, value FROM meta WHERE key LIKE ?", (f"{CARRIED_FROM_META}%",)
            ).fetchall()
        out: list[tuple[int, str, int]] = []
        for key, value in raw:
            try:
                here = int(str(key).removeprefix(CARRIED_FROM_META))
                data = json.loads(value)
            except ValueError:
                continue
            if not isinstance(data, dict):
                continue
            src, row = data.get("db"), data.get("row")
            if isinstance(src, str) and isinstance(row, int) and not isinstance(row, bool):
                out.append((here, src, row))
        return sorted(out)

    def ledger_carried_moved(self, row_id: int, was: str | tuple[str, ...], now: str) -> bool:
        """The run this row's job was carried to (`ledger_carried_away`, at `was`) was
        itself set aside, to `now`: the row says so. Its `carried_to` named the live
        run.db, which the next fresh run then is. Only a row still naming `was` (one of
        them: the run folder's run.db where it is now, and where it was when the row was
        marked, before the folder was moved or renamed) changes; True when it did."""
        names = {os.path.abspath(w) for w in ((was,) if isinstance(was, str) else was)}
        with self._tx() as db:
            got = db.execute("SELECT usage FROM ledger WHERE id=?", (row_id,)).fetchone()
            usage = (self._usage(row_id, got[0]) if got is not None else None) or {}
            to = usage.get("carried_to")
            if not isinstance(to, str) or os.path.abspath(to) not in names:
                return False
            usage = {
                **usage,
                "carried_to": now,
                "reason": str(usage.get("reason", "")).replace(to, now),
            }
            db.execute(
                "UPDATE ledger SET usage=?, updated_at=? WHERE id=?",
                (json.dumps(usage), time.time(), row_id),
            )
            return True

    def ledger_carried_away(self, row_id: int, to: str, new_row: int, job: str) -> bool:
        """This (set-aside) run's in-flight clip job `job` was carried into the run at
        `to`, as its row `new_row` (`ledger_carry`): that ledger counts and settles it
        now, so this one counts nothing for it (refunded here, saying where it went:
        `carried_row` is the row at `carried_to`; a `carried_from` it had is kept,
        `_ledger_update`). Only a row still committed with that job changes (marked
        already, the call is a no-op); True when it did."""
        with self._lock:
            got = self._db.execute(
                "SELECT state, remote_id FROM ledger WHERE id=?", (row_id,)
            ).fetchone()
        if got is None or (got[0], got[1]) != ("committed", job):
            return False
        usage = {
            "reason": f"carried to the fresh run's ledger ({to}, row {new_row}), which bills it",
            "carried_to": to,
            "carried_row": new_row,
        }
        self._ledger_update(row_id, state="refunded", billed_usd=0.0, usage=json.dumps(usage))
        return True

    def ledger_note_lost(
        self, row_id: int, input_key: str, sent_at: float, *, grace: float | None = None
    ) -> None:
        """A video create whose answer was lost (its job may appear late): keep, on its
        still-committed row, the inputs it asked for and when it was sent, so that a
        later render can give a late job to the scene that asked for it; and `grace`, when
        its job is waited for less than the whole grace (a create the service answered)."""
        lost: dict[str, Any] = {"input_key": input_key, "sent_at": sent_at}
        if grace is not None:
            lost["grace"] = grace
        self._ledger_update(row_id, usage=json.dumps({"lost": lost}))

    def ledger_used(self, row_id: int) -> None:
        """A billed job marked unused (and kept) whose clip a scene uses after all (its
        scene put back, an edit undone): the mark is dropped, so the ledger does not say
        a clip in the movie was paid for nothing."""
        with self._lock:
            raw = self._db.execute("SELECT usage FROM ledger WHERE id=?", (row_id,)).fetchone()
        usage = (self._usage(row_id, raw[0]) if raw is not None else None) or {}
        if usage.get("unused") or usage.get("kept"):
            left = {k: v for k, v in usage.items() if k not in ("unused", "kept")}
            self._ledger_update(row_id, usage=json.dumps(left))

    def ledger_kept_used(self, input_key: str) -> None:
        """`ledger_used` for the clip jobs kept under `input_key` (billed unused when no
        scene wanted them: `Pipeline._keep_stale_result`) now that a scene takes it."""
        for row in self.ledger_rows():
            usage = row["usage"]
            if (
                row["stage"] == "clip"
                and row["state"] == "billed"
                and isinstance(usage, dict)
                and usage.get("kept")
                and (made := self.job_input(int(row["id"]))) is not None
                and made[0] == input_key
            ):
                self.ledger_used(int(row["id"]))

    def ledger_mark_unknown(self, row_id: int) -> None:
        """Keep the row committed but remember the person was told its outcome is unknown
        (and the URL of its answer, if one came: `ledger_note_answered`)."""
        usage: dict[str, Any] = {"unknown_outcome": True}
        was: object = None
        with suppress(StoreError):  # (a usage damaged by hand: replaced, as before)
            row = self.ledger_row(row_id)
            was = row.get("usage") if row is not None else None
        if isinstance(was, dict) and isinstance(was.get("answered"), dict):
            usage["answered"] = was["answered"]
        self._ledger_update(row_id, usage=json.dumps(usage))

    def ledger_keep_result(
        self, row_id: int, url: str, input_key: str, valid_for: float | None = None
    ) -> None:
        """A billed call's result could not be downloaded but still waits at `url`: keep
        the URL on its ledger row, with the inputs it was made from and how long the
        provider keeps it (`valid_for` seconds; unknown: RESULT_URL_SECONDS), so that the
        next render of those inputs downloads it from there instead of paying again."""
        with self._tx() as db:
            row = db.execute("SELECT usage FROM ledger WHERE id=?", (row_id,)).fetchone()
            usage = (self._usage(row_id, row[0]) if row is not None else None) or {}
            usage.update(result_url=url, input_key=input_key, result_at=time.time())
            if valid_for is not None:
                usage["result_valid_for"] = valid_for
            db.execute(
                "UPDATE ledger SET usage=?, updated_at=? WHERE id=?",
                (json.dumps(usage), time.time(), row_id),
            )

    def painted(self) -> dict[str, str]:
        """Input key -> sha256 of each free keyframe a step painted from it before new
        inputs replaced it (`begin`): the same key paints it again. The estimate prices
        the paid clip made from it as one a render may reuse, not only buy."""
        return {key: sha for key, sha in self.meta_with_prefix(PAINTED_META).items() if sha}

    def kept_result(
        self, scene_id: str, stage: str, input_key: str, *, any_scene: bool = False
    ) -> dict[str, Any] | None:
        """The newest billed call of this scene and stage whose result, made from exactly
        these inputs, still waits at a URL (see `ledger_keep_result`): its ledger row,
        with `usage` parsed. None when there is none. `any_scene`: else another scene's
        (a scene asking the very same image, which that scene bought: downloaded for
        either, it is not bought twice)."""
        found = [
            dict(row)
            for row in reversed(self.ledger_rows())
            if row["stage"] == stage
            and row["state"] == "billed"
            and isinstance(row.get("usage"), dict)
            and row["usage"].get("result_url")
            and row["usage"].get("input_key") == input_key
            and (any_scene or row["scene_id"] == scene_id)
        ]
        return next((r for r in found if r["scene_id"] == scene_id), None) or next(
            iter(found), None
        )

    def refetchable_result(
        self,
        scene_id: str,
        stage: str,
        input_key: str,
        now: float | None = None,
        *,
        any_scene: bool = False,
    ) -> dict[str, Any] | None:
        """`kept_result`, if a render would still download it rather than buy a new one
        (`Pipeline._refetch_kept`): its URL within the validity recorded with it. Whether
        the URL answers 403/404/410 only a download tells; such a row loses its URL then
        (`ledger_drop_result`). The estimate counts such a step as paid
        (`Pipeline._reused_steps`)."""
        row = self.kept_result(scene_id, stage, input_key, any_scene=any_scene)
        if row is None:
            return None
        usage = row["usage"]
        try:
            valid_for = float(usage.get("result_valid_for") or RESULT_URL_SECONDS)
            age = (time.time() if now is None else now) - float(usage.get("result_at") or 0)
        except (TypeError, ValueError):
            return None
        return row if age < valid_for else None

    def ledger_drop_result(self, row_id: int, outcome: str) -> None:
        """The URL kept on a billed row is no use any more (`outcome` says why): the
        row stays billed, and no render tries that URL again."""
        with self._tx() as db:
            row = db.execute("SELECT usage FROM ledger WHERE id=?", (row_id,)).fetchone()
            usage = (self._usage(row_id, row[0]) if row is not None else None) or {}
            usage.pop("result_url", None)
            usage["result_url_outcome"] = outcome[:300]
            db.execute(
                "UPDATE ledger SET usage=?, updated_at=? WHERE id=?",
                (json.dumps(usage), time.time(), row_id),
            )

    def ledger_row(self, row_id: int) -> dict[str, Any] | None:
        """One ledger row by its id, as `ledger_rows` gives it."""
        with self._lock:
            row = self._db.execute("SELECT * FROM ledger WHERE id=?", (row_id,)).fetchone()
        if row is None:
            return None
        return {**self._money(dict(row)), "usage": self._usage(row["id"], row["usage"])}

    def ledger_by_remote(self, remote_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM ledger WHERE remote_id=? ORDER BY id DESC LIMIT 1", (remote_id,)
            ).fetchone()
        if row is None:
            return None
        return {**self._money(dict(row)), "usage": self._usage(row["id"], row["usage"])}

    def resumable_job(self, step: Step) -> str | None:
        """The paid job a render picks up for this clip step instead of buying a new one
        (`Pipeline._clip_once`), or None. A job in flight (`submitted`) is polled as it
        is; a step that failed after its job was made (the download, a poll, the
        deadline) has its job polled again and downloaded. If the provider then says it
        failed (or no longer knows it, or its result is gone) the step lets go of it
        (`result_gone`) and the NEXT render, whose estimate counts it, buys the clip:
        not that one, whose estimate counted none. Not when the content filter refused it (the
        render goes on to the fallback request), nor when the ledger already has the
        provider's word that the job ended failed (its row refunded, or billed for a
        failed job): polled again, it is failed again. `status` and the estimate both ask
        this, so neither tells of a clip to buy that the render would not pay for."""
        if step.stage != "clip" or not step.remote_id or step.status == "succeeded":
            return None
        if step.status == "submitted":
            return step.remote_id
        if step.error_kind == "content_rejected":
            return None
        row = self.ledger_by_remote(step.remote_id)
        if row is not None:
            usage = row["usage"]
            if row["state"] == "refunded" or (
                row["state"] == "billed" and isinstance(usage, dict) and "status" in usage
            ):
                return None
        return step.remote_id

    def refetchable_clip(self, step: Step, now: float | None = None) -> str | None:
        """The job of a finished clip, if a render that finds its clip.mp4 missing or
        not the one recorded (the caller's check: `artifact_problem`) would download its
        result again (`Pipeline._clip_once` polls the step's job and fetches it, paying
        nothing) rather than buy the clip: the job asked for less than RESULT_URL_SECONDS
        ago, its result still kept (the finish is no earlier than the ask). The estimate
        counts such a clip as paid and `status` says it is downloaded again; both had
        counted it as bought, and the render then paid nothing. If the provider no longer
        has it, that render lets go of the job (`Pipeline._let_go_of_job`) and the next,
        whose estimate counts it, buys the clip."""
        if step.stage != "clip" or step.status != "succeeded" or not step.remote_id:
            return None
        row = self.ledger_by_remote(step.remote_id)
        if row is None or row["state"] != "billed" or row["provider"] == "local":
            return None
        usage = row["usage"] if isinstance(row["usage"], dict) else {}
        try:
            # from the earliest of the ask, the bill and the job's making as the provider
            # tells it: the result is no older than the ask, and a job that finished
            # before a resume billed it was kept from its finish, not the bill (counted
            # from the bill, it was estimated free after the provider had let it go). A
            # row can be younger than its job: a lost request's job is taken when the
            # provider lists it as made up to a minute before the request (clocks
            # differ), and counted from the row, its clip was estimated free for up to
            # that minute after the provider had let its result go
            times = [float(row["created_at"]), float(row["updated_at"])]
            if usage.get(JOB_CREATED_USAGE) is not None:
                times.append(float(usage[JOB_CREATED_USAGE]))
            age = (time.time() if now is None else now) - min(times)
        except (TypeError, ValueError):  # a time edited by hand: not known to be kept
            return None
        return step.remote_id if age < RESULT_URL_SECONDS else None

    def ledger_rows(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM ledger ORDER BY id").fetchall()
        out = []
        for r in rows:
            d = self._money(dict(r))
            d["usage"] = self._usage(d["id"], d.get("usage"))
            out.append(d)
        return out

    def ledger_totals(self) -> tuple[float, float]:
        """(billed, committed): money spent, and money held for calls sent whose outcome is
        not known yet (at the most each can bill: see `ledger_commit`). What the budget
        counts."""
        billed, in_flight, unknown = self.ledger_split()
        return billed, in_flight + unknown

    def ledger_split(self) -> tuple[float, float, float]:
        """(billed, in flight, outcome unknown): `ledger_totals` with its held money told
        apart, for the person. A committed row whose answer was lost and which nothing
        can settle (``usage.unknown_outcome``: a Seedream image's 5xx, a Veo create's) is
        not in flight: the live view said so of it for the whole render, `status` did not.
        Nor is a job let go of by the person (``usage.let_go``, `let_go_job`): no render
        polls it while the provider settings differ from those it was made with, and
        `status` showed it "in flight" for good."""
        with self._lock:
            rows = [self._money(dict(r)) for r in self._db.execute("SELECT * FROM ledger")]
        billed = sum(float(r["billed_usd"] or 0.0) for r in rows if r["state"] == "billed")
        in_flight = unknown = 0.0
        for r in rows:
            if r["state"] != "committed":
                continue
            held = float(r["held_usd"] if r["held_usd"] is not None else r["estimated_usd"])
            usage = self._usage(r["id"], r.get("usage")) or {}
            if usage.get("unknown_outcome") or usage.get("let_go"):
                unknown += held
            else:
                in_flight += held
        return billed, in_flight, unknown
