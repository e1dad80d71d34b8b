"""Run store: reuse only on matching key + hash, attempts, foreign/corrupt db, schema."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mindmovie.fsutil import sha256_file
from mindmovie.status import collect_status
from mindmovie.store import SCHEMA_VERSION, Store, StoreError


def _done(store: Store, root: Path, scene: str, key: str, data: bytes) -> Path:
    p = root / f"{scene}.bin"
    p.write_bytes(data)
    store.begin(scene, "keyframe", key)
    store.succeed(scene, "keyframe", p, sha256_file(p))
    return p


def test_reuse_needs_same_key_and_intact_artifact(tmp_path: Path) -> None:
    st = Store(tmp_path / "run.db")
    st.next_run_no()
    p = _done(st, tmp_path, "a", "k1", b"one")
    assert st.reusable("a", "keyframe", "k1") is not None
    assert st.reusable("a", "keyframe", "k2") is None  # inputs changed
    p.write_bytes(b"tampered")
    assert st.reusable("a", "keyframe", "k1") is None  # hash mismatch -> redo
    p.unlink()
    assert st.reusable("a", "keyframe", "k1") is None  # missing -> redo
    # a step left "running" by a crash is redone, never taken as done, even with its file
    # of an earlier try still in place (lessons: a scene left "generating" never retried)
    _done(st, tmp_path, "b", "k1", b"two")
    st.begin("b", "keyframe", "k1")
    assert st.reusable("b", "keyframe", "k1") is None
    for status in ("running", "submitted", "failed"):
        st._update("b", "keyframe", status=status)
        assert st.reusable("b", "keyframe", "k1") is None, status


def test_attempts_count_per_input_key(tmp_path: Path) -> None:
    st = Store(tmp_path / "run.db")
    st.begin("a", "clip", "k")
    st.fail("a", "clip", "transient", "boom")
    st.begin("a", "clip", "k")
    step = st.get("a", "clip")
    assert step is not None and step.attempts == 2 and step.status == "running"
    assert step.error is None
    st.begin("a", "clip", "other")
    step = st.get("a", "clip")
    assert step is not None and step.attempts == 1
    # the content-filter fallback (another key for the same request) is the next try
    st.fail("a", "clip", "content_rejected", "filtered")
    step = st.begin("a", "clip", "softened", same_request=("other", "softened"))
    assert step.attempts == 2 and step.input_key == "softened"
    step = st.begin("a", "clip", "new-inputs", same_request=("unrelated",))
    assert step.attempts == 1


def test_submitted_remote_id_survives_reopen(tmp_path: Path) -> None:
    st = Store(tmp_path / "run.db")
    st.begin("a", "clip", "k")
    st.mark_submitted("a", "clip", "cgt-123")
    st.close()
    step = Store(tmp_path / "run.db").get("a", "clip")
    assert step is not None and step.status == "submitted" and step.remote_id == "cgt-123"


def test_corrupt_and_foreign_databases_are_refused_untouched(tmp_path: Path) -> None:
    bad = tmp_path / "run.db"
    bad.write_bytes(b"not sqlite at all" * 200)
    before = bad.read_bytes()
    with pytest.raises(StoreError, match="damaged"):
        Store(bad)
    assert bad.read_bytes() == before
    foreign = tmp_path / "other.db"
    con = sqlite3.connect(foreign)
    con.execute("create table t(x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a mindmovie run store"):
        Store(foreign)


def _open_files_under(folder: Path) -> list[str]:
    """The files under `folder` this process holds open (Linux's /proc/self/fd)."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(folder)):
                out.append(target)
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd (Linux)")
@pytest.mark.parametrize("fails", ["migrate", "foreign"])
def test_a_store_that_fails_to_open_leaves_no_connection_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: str
) -> None:
    """A Store whose opening failed after its connection was made (a disk I/O error as
    the journal is set up, a foreign database) left that connection to the garbage
    collector: run.db (and its -wal, which the close then removes) stayed open in the
    process, and a test's folder removed after it lost the -wal from under rmtree
    ("No such file or directory: 'run.db-wal'", seen in CI)."""
    import gc

    db = tmp_path / "run.db"
    if fails == "migrate":
        Store(db).close()  # a healthy journal, opened again on a full disk

        def full(self: Store, *args: object) -> None:
            e = sqlite3.OperationalError("disk I/O error")
            e.sqlite_errorcode = 4874  # type: ignore[attr-defined]
            raise e

        monkeypatch.setattr(Store, "_migrate", full)
    else:
        con = sqlite3.connect(db)
        con.execute("create table t(x)")
        con.commit()
        con.close()
    gc.disable()  # the leak is what a collection would have hidden
    try:
        with pytest.raises(StoreError):
            Store(db)
        assert _open_files_under(tmp_path) == []
    finally:
        gc.enable()


def test_schema_version_recorded_and_newer_refused(tmp_path: Path) -> None:
    st = Store(tmp_path / "run.db")
    st.close()
    con = sqlite3.connect(tmp_path / "run.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer mindmovie"):
        Store(tmp_path / "run.db")


def test_a_v1_run_db_is_migrated_and_keeps_its_ledger(tmp_path: Path) -> None:
    """A run.db from before `held_usd` (schema 1) opens: the column is added, old
    committed rows count at their estimate, new ones at their hold."""
    st = Store(tmp_path / "run.db")
    old = st.ledger_commit("s1", "clip", "byteplus", "m", 0.10)
    st.close()
    con = sqlite3.connect(tmp_path / "run.db")
    con.execute("ALTER TABLE ledger DROP COLUMN held_usd")  # as schema 1 made it
    con.execute("ALTER TABLE steps DROP COLUMN paid")
    con.execute("DROP TABLE kept")
    con.execute("PRAGMA user_version=1")
    con.commit()
    con.close()
    st = Store(tmp_path / "run.db")
    assert st.ledger_totals() == (0.0, pytest.approx(0.10))
    st.ledger_commit("s2", "clip", "byteplus", "m", 0.10, held_usd=0.25)
    assert st.ledger_totals() == (0.0, pytest.approx(0.35))
    st.ledger_bill(old, 0.09, None)
    assert st.ledger_totals() == (pytest.approx(0.09), pytest.approx(0.25))
    st.close()
    con = sqlite3.connect(tmp_path / "run.db")
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3


def test_a_run_db_that_cannot_be_written_is_not_called_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only folder (or a run made with sudo) is not corruption: the message must
    not tell the person to move their run journal away."""
    path = tmp_path / "run.db"
    Store(path).close()
    real = sqlite3.connect

    def read_only(db: Path, **kw: object) -> sqlite3.Connection:  # as on a read-only mount
        return real(f"file:{db}?mode=ro", uri=True, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", read_only)
    with pytest.raises(StoreError) as e:
        Store(path)
    msg = str(e.value)
    assert "cannot be written" in msg and "permissions" in msg
    assert "damaged" not in msg and "Move it away" not in msg


def _paid_done(store: Store, scene: str, key: str, data: bytes, *, paid: bool | None) -> Path:
    p = store.root / "scenes" / scene / "clip.mp4"
    p.parent.mkdir(parents=True, exist_ok=True)
    store.begin(scene, "clip", key)
    tmp = p.with_name(".new")
    tmp.write_bytes(data)
    tmp.replace(p)  # as the pipeline commits: a new file, not the old one rewritten
    store.succeed(scene, "clip", p, sha256_file(p), paid=paid)
    return p


def test_a_paid_artifact_replaced_is_kept_and_restored_by_copy_without_hard_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the filesystem has no hard links (FAT, some shares), kept files are copies."""

    def no_links(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr("mindmovie.store.os.link", no_links)
    st = Store(tmp_path / "run.db")
    p = _paid_done(st, "s1", "k1", b"first clip", paid=True)
    _paid_done(st, "s1", "k2", b"second clip", paid=True)
    assert p.read_bytes() == b"second clip"
    assert (tmp_path / "kept" / "clip" / "k1.mp4").read_bytes() == b"first clip"
    assert st.restore("s1", "clip", "k1", p)
    assert p.read_bytes() == b"first clip"
    step = st.get("s1", "clip")
    assert step is not None and step.input_key == "k1" and st.artifact_problem(step) is None
    # and the one it replaced is kept in turn
    assert (tmp_path / "kept" / "clip" / "k2.mp4").read_bytes() == b"second clip"
    st.close()


def test_a_restored_step_keeps_the_run_and_tries_that_made_it(tmp_path: Path) -> None:
    """A kept clip put back said it was made by the render that put it back (its run
    number, one try). A kept file from before that was recorded still comes back, as
    this render's."""
    st = Store(tmp_path / "run.db")
    st.next_run_no()  # run 1: made in two tries
    st.begin("s1", "clip", "k1")
    st.fail("s1", "clip", "transient", "boom")
    p = _paid_done(st, "s1", "k1", b"first clip", paid=True)
    st.next_run_no()  # run 2: an edit
    _paid_done(st, "s1", "k2", b"second clip", paid=True)
    st.next_run_no()  # run 3: the edit undone
    assert st.restore("s1", "clip", "k1", p)
    step = st.get("s1", "clip")
    assert step is not None and (step.run_no, step.attempts) == (1, 2)
    st.next_run_no()  # run 4: the edit again (restored from kept/, recorded in run 3)
    assert st.restore("s1", "clip", "k2", p)
    step = st.get("s1", "clip")
    assert step is not None and (step.run_no, step.attempts) == (2, 1)
    # not recorded (kept before this was): the render that puts it back, as before
    st.set_meta("kept_made:clip:k1", "")
    st.next_run_no()  # run 5
    assert st.restore("s1", "clip", "k1", p)
    step = st.get("s1", "clip")
    assert step is not None and step.run_no == 5 and p.read_bytes() == b"first clip"
    st.close()


def test_a_damaged_kept_file_is_not_restored(tmp_path: Path) -> None:
    st = Store(tmp_path / "run.db")
    p = _paid_done(st, "s1", "k1", b"first clip", paid=True)
    _paid_done(st, "s1", "k2", b"second clip", paid=True)
    kept = tmp_path / "kept" / "clip" / "k1.mp4"
    kept.unlink()
    kept.write_bytes(b"first clip, damaged")  # a new file: the live one is not touched
    assert st.find_kept("clip", "k1") is None
    assert not st.restore("s1", "clip", "k1", p)
    assert p.read_bytes() == b"second clip"  # nothing replaced
    st.close()


def test_a_step_from_before_the_paid_column_is_kept_when_the_ledger_billed_it(
    tmp_path: Path,
) -> None:
    """Rows a v2 run.db recorded have paid = NULL: the ledger tells if a call made them."""
    st = Store(tmp_path / "run.db")
    _paid_done(st, "paid", "k1", b"bought", paid=None)
    row = st.ledger_commit("paid", "clip", "byteplus", "m", 0.1)
    st.ledger_bill(row, 0.1, None)
    _paid_done(st, "free", "k1b", b"local", paid=None)
    _paid_done(st, "paid", "k2", b"bought again", paid=None)
    _paid_done(st, "free", "k2b", b"local again", paid=None)
    assert (tmp_path / "kept" / "clip" / "k1.mp4").read_bytes() == b"bought"
    assert not (tmp_path / "kept" / "clip" / "k1b.mp4").exists()
    # a call whose outcome is unknown (committed) may have been billed: kept too; a
    # refunded one was not
    _paid_done(st, "unknown", "u1", b"maybe bought", paid=None)
    st.ledger_commit("unknown", "clip", "byteplus", "m", 0.1)
    _paid_done(st, "refunded", "r1", b"never billed", paid=None)
    st.ledger_refund(st.ledger_commit("refunded", "clip", "byteplus", "m", 0.1), "filtered")
    _paid_done(st, "unknown", "u2", b"next", paid=None)
    _paid_done(st, "refunded", "r2", b"next", paid=None)
    assert (tmp_path / "kept" / "clip" / "u1.mp4").read_bytes() == b"maybe bought"
    assert not (tmp_path / "kept" / "clip" / "r1.mp4").exists()
    st.close()


def test_read_only_reads_an_older_run_db_without_upgrading_it(tmp_path: Path) -> None:
    """status, estimate and storyboard open run.db read-only: a v2 file is read (its
    steps, a kept lookup finding nothing) and left byte for byte as it was, so the older
    mindmovie that made it can still continue the run. Before, status upgraded it to v3."""
    db = tmp_path / "run.db"
    st = Store(db)
    _paid_done(st, "s1", "k1", b"clip", paid=True)
    st.set_meta("run_no", "4")
    st.close()
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE steps DROP COLUMN paid")  # as schema 2 made it
    con.execute("DROP TABLE kept")
    con.execute("PRAGMA user_version=2")
    con.commit()
    con.close()
    before = db.read_bytes()
    ro = Store(db, read_only=True)
    try:
        [step] = ro.steps()
        assert (step.scene_id, step.input_key, step.paid) == ("s1", "k1", None)
        assert ro.get_meta("run_no") == "4"
        assert ro.find_kept("clip", "k1") is None
        assert ro.artifact_problem(step) is None
    finally:
        ro.close()
    assert db.read_bytes() == before
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2


def test_read_only_sees_what_a_running_render_has_journaled(tmp_path: Path) -> None:
    """`status` beside a render: steps the render committed (still in the WAL file, not
    yet checkpointed into run.db) are in the read-only copy."""
    db = tmp_path / "run.db"
    writer = Store(db)
    try:
        _paid_done(writer, "s1", "k1", b"clip", paid=False)
        assert (tmp_path / "run.db-wal").stat().st_size > 0
        ro = Store(db, read_only=True)
        try:
            assert [(s.scene_id, s.status) for s in ro.steps()] == [("s1", "succeeded")]
        finally:
            ro.close()
        writer.begin("s2", "clip", "k2")  # the writer is not held up by the reader
    finally:
        writer.close()


def test_read_only_in_a_folder_it_cannot_write_sees_what_the_wal_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render killed before SQLite moved its steps from run.db-wal into run.db, its
    run then made read-only or copied where this user cannot write (no run.db-shm, and
    none can be made): a read-only connection cannot open it ("unable to open database
    file", as SQLite says there), and run.db was read as it is, the WAL left out:
    `status` showed an older run, here no steps at all (a damaged run.db). run.db and
    its -wal are read from a private copy; the run folder is left as it was."""
    (tmp_path / "a").mkdir()
    writer = Store(tmp_path / "a" / "run.db")
    _paid_done(writer, "s1", "k1", b"clip", paid=True)
    copied = tmp_path / "b"
    copied.mkdir()
    for name in ("run.db", "run.db-wal"):  # what a kill leaves, copied without -shm
        (copied / name).write_bytes((tmp_path / "a" / name).read_bytes())
    writer.close()
    assert (copied / "run.db-wal").stat().st_size > 0
    before = {p.name: p.read_bytes() for p in copied.iterdir()}
    real = sqlite3.connect

    class NoShm(sqlite3.Connection):  # SQLite's answer where no -shm can be made
        def execute(self, *args: Any, **kwargs: Any) -> sqlite3.Cursor:
            raise sqlite3.OperationalError("unable to open database file")

    def connect(db: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
        if "mode=ro" in str(db) and str(copied) in str(db):
            kwargs["factory"] = NoShm
        return real(db, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    ro = Store(copied / "run.db", read_only=True)
    try:
        assert [(s.scene_id, s.status, s.paid) for s in ro.steps()] == [("s1", "succeeded", 1)]
    finally:
        ro.close()
    assert {p.name: p.read_bytes() for p in copied.iterdir()} == before


def test_read_only_leaves_no_wal_files_in_a_run_no_render_has_open(tmp_path: Path) -> None:
    """`status`, `estimate` and `storyboard` change nothing: a run.db no render has open
    (no run.db-wal beside it) is read without leaving the WAL's run.db-wal and
    run.db-shm in the run folder, and run.db stays byte for byte as it was. Before, the
    read-only connection made both and, not allowed to remove them, left them there."""
    db = tmp_path / "run.db"

    def db_files() -> list[str]:
        return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("run.db"))

    st = Store(db)
    _paid_done(st, "s1", "k1", b"clip", paid=False)
    st.close()
    assert db_files() == ["run.db"]
    before = db.read_bytes()
    ro = Store(db, read_only=True)
    try:
        assert [(s.scene_id, s.status) for s in ro.steps()] == [("s1", "succeeded")]
    finally:
        ro.close()
    assert db_files() == ["run.db"]
    assert db.read_bytes() == before


def test_a_run_folder_named_like_a_uri_is_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out file:run`: SQLite (built with SQLITE_USE_URI, as Python's is) read the
    relative name "file:run/run.db" as a URI for run/run.db, and the render stopped:
    "file:run/run.db cannot be written (unable to open database file): its folder is
    read-only ...". The journal is the file in the folder named so."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file:run").mkdir()
    st = Store(Path("file:run") / "run.db")
    st.set_meta("k", "v")
    st.close()
    assert (tmp_path / "file:run" / "run.db").is_file()
    assert not (tmp_path / "run").exists()
    assert Store(Path("file:run") / "run.db", read_only=True).get_meta("k") == "v"


@pytest.mark.parametrize("read_only", [False, True])
def test_a_run_db_at_a_path_too_long_for_sqlite_says_so(tmp_path: Path, read_only: bool) -> None:
    """SQLite opens no database whose full path is over ~500 bytes (far under the
    system's 4096): a render into such a run folder stopped saying "run.db cannot be
    written (unable to open database file): its folder is read-only or belongs to
    another user", of a folder this user could write; `status` said it "may not open"
    it. The message says the path is too long, and how long it is."""
    short = tmp_path / "run"
    short.mkdir()
    Store(short / "run.db").close()
    deep = tmp_path
    while len(os.fsencode(deep / "run.db")) <= 520:  # (SQLite 3.40 opens up to 504)
        deep = deep / ("d" * 100)
    deep.mkdir(parents=True)
    db = deep / "run.db"
    if read_only:  # (a run made at a short path, moved under a long one)
        os.replace(short / "run.db", db)
    with pytest.raises(StoreError) as e:
        Store(db, read_only=read_only)
    n = len(os.fsencode(db))
    assert f"its full path is {n} bytes long" in str(e.value), str(e.value)
    assert "read-only" not in str(e.value) and "may not open" not in str(e.value)
    assert (deep / "run.db").exists() == read_only


def test_a_run_db_that_cannot_be_opened_for_reading_says_read_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`status`/`estimate`/`storyboard` on a run.db this user may not open (chmod 000,
    another user's 0600 file) said "cannot be written", though they only read it."""
    from mindmovie import store as store_mod

    db = tmp_path / "run.db"
    Store(db).close()

    def refused(path: Path, **kwargs: Any) -> sqlite3.Connection:
        e = sqlite3.OperationalError("unable to open database file")
        e.sqlite_errorcode = 14  # SQLITE_CANTOPEN, what a chmod 000 file gives
        raise e

    monkeypatch.setattr(store_mod, "_snapshot", refused)
    with pytest.raises(StoreError, match="cannot be read") as e:
        Store(db, read_only=True)
    assert "cannot be written" not in str(e.value)


def test_a_disk_error_opening_run_db_does_not_say_move_it_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An I/O error is the disk's, not a damaged file's: the advice to move run.db away
    (a new journal, every step redone and paid again) is for a file that is not SQLite."""
    db = tmp_path / "run.db"
    Store(db).close()

    def io_error(self: Store, *args: object) -> None:
        e = sqlite3.OperationalError("disk I/O error")
        e.sqlite_errorcode = 10 | (3 << 8)  # SQLITE_IOERR_WRITE
        raise e

    monkeypatch.setattr(Store, "_migrate", io_error)
    with pytest.raises(StoreError, match="disk reported an error") as e:
        Store(db)
    assert "move it away" not in str(e.value).lower() and "damaged" not in str(e.value)


def test_a_failed_atomic_write_leaves_no_half_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write cut short (a full disk: a keyframe, plan.yaml, the storyboard) left its
    half-written `.<name>.<pid>.tmp` beside the target, holding the space the person must
    free until the next render's clean-up."""

    from mindmovie import fsutil

    def commit_refused(tmp: Path, final: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fsutil, "commit_file", commit_refused)
    with pytest.raises(OSError):
        fsutil.atomic_write_bytes(tmp_path / "keyframe.png", b"x" * 4096)
    assert list(tmp_path.iterdir()) == []


def test_a_kept_result_url_counts_as_paid_only_within_its_validity(tmp_path: Path) -> None:
    """`refetchable_result`: a billed image's kept URL is what a render downloads (not a
    new image) while it is within the validity recorded with it, or 24 h for a row that
    records none (kept before it was recorded); a URL found gone is not kept at all."""
    import time

    st = Store(tmp_path / "run.db")
    row = st.ledger_commit("s1", "keyframe", "byteplus", "seedream", 0.03)
    st.ledger_bill(row, 0.03, {"generated_images": 1})
    st.ledger_keep_result(row, "http://x/a.png", "k1", 3600.0)
    now = time.time()
    assert st.refetchable_result("s1", "keyframe", "k1", now=now) is not None
    assert st.refetchable_result("s1", "keyframe", "k2", now=now) is None  # other inputs
    assert st.refetchable_result("s1", "keyframe", "k1", now=now + 3601) is None
    old = st.ledger_commit("s2", "keyframe", "byteplus", "seedream", 0.03)
    st.ledger_bill(old, 0.03, {"generated_images": 1})
    st.ledger_keep_result(old, "http://x/b.png", "k3")  # no validity recorded: 24 h
    assert st.refetchable_result("s2", "keyframe", "k3", now=now + 23 * 3600) is not None
    assert st.refetchable_result("s2", "keyframe", "k3", now=now + 25 * 3600) is None
    st.ledger_drop_result(row, "gone: HTTP 404")
    assert st.refetchable_result("s1", "keyframe", "k1", now=now) is None
    st.close()


def test_an_answer_noted_on_a_committed_row_is_taken_up_billed_with_its_url(
    tmp_path: Path,
) -> None:
    """`ledger_note_answered`, then the render gone before the download: the next store
    to take the receipts bills the row at its estimate with the URL kept (what a render
    downloads); a note damaged by hand is left (the row stays committed, an outcome
    unknown), and the note survives the row being marked unknown."""
    import sqlite3

    st = Store(tmp_path / "run.db")
    row = st.ledger_commit("s1", "keyframe", "byteplus", "seedream", 0.03, held_usd=0.05)
    st.ledger_note_answered(row, "http://x/a.png", "k1", 3600.0)
    st.ledger_mark_unknown(row)  # (a render told of it before it ended)
    bad = st.ledger_commit("s2", "keyframe", "byteplus", "seedream", 0.03)
    st.ledger_note_answered(bad, "http://x/b.png", "k2")
    st.close()
    with sqlite3.connect(tmp_path / "run.db") as db:
        db.execute(
            "UPDATE ledger SET usage=? WHERE id=?",
            ('{"answered": {"result_url": 7, "input_key": "k2", "result_at": 1}}', bad),
        )
    st = Store(tmp_path / "run.db")
    assert st.take_receipts() == [("s1", "keyframe", "answered", "http://x/a.png")]
    got = st.refetchable_result("s1", "keyframe", "k1")
    assert got is not None and got["id"] == row and got["billed_usd"] == pytest.approx(0.03)
    assert got["usage"]["result_valid_for"] == 3600.0
    assert st.ledger_row(bad)["state"] == "committed"  # type: ignore[index]
    assert st.take_receipts() == []  # once
    # a bill (the image saved) replaces the note: nothing left to take
    third = st.ledger_commit("s3", "keyframe", "byteplus", "seedream", 0.03)
    st.ledger_note_answered(third, "http://x/c.png", "k3")
    st.ledger_bill(third, 0.03, {"generated_images": 1})
    assert st.take_receipts() == []
    st.close()


def test_a_clip_job_is_picked_up_again_unless_its_provider_already_said_no(
    tmp_path: Path,
) -> None:
    """`resumable_job`: a job in flight, or one whose download or poll failed, is polled
    again instead of buying a new one; not one the content filter refused, nor one the
    ledger has the provider's word on (refunded, or billed for a failed job)."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "clip", "k")
    st.mark_submitted("s1", "clip", "cgt-1")
    step = st.get("s1", "clip")
    assert step is not None and st.resumable_job(step) == "cgt-1"  # in flight
    st.fail("s1", "clip", "transient", "download cut short")
    step = st.get("s1", "clip")
    assert step is not None and st.resumable_job(step) == "cgt-1"
    st.fail("s1", "clip", "content_rejected", "OutputVideoSensitiveContentDetected")
    step = st.get("s1", "clip")
    assert step is not None and st.resumable_job(step) is None
    for state in ("refunded", "failed job billed"):
        st.begin(f"s-{state}", "clip", "k")
        row = st.ledger_commit(f"s-{state}", "clip", "byteplus", "m", 0.1)
        st.mark_submitted(f"s-{state}", "clip", f"cgt-{state}", ledger_row=row)
        st.fail(f"s-{state}", "clip", "job_failed", "failed")
        if state == "refunded":
            st.ledger_refund(row, "the provider says not charged")
        else:
            st.ledger_bill(row, 0.1, {"status": "failed"})
        step = st.get(f"s-{state}", "clip")
        assert step is not None and st.resumable_job(step) is None, state
    st.close()


def test_a_damaged_file_already_in_kept_is_replaced_when_the_same_clip_is_set_aside(
    tmp_path: Path,
) -> None:
    """kept/ holds the file under its input key; one there with other bytes (damaged, or
    left half-written) is not taken as the copy: the artifact's own bytes go there."""
    st = Store(tmp_path / "run.db")
    kept = tmp_path / "kept" / "clip" / "k1.mp4"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"damaged")
    _paid_done(st, "s1", "k1", b"first clip", paid=True)
    _paid_done(st, "s1", "k2", b"second clip", paid=True)
    assert kept.read_bytes() == b"first clip"
    found = st.find_kept("clip", "k1")
    assert found is not None and found[0].read_bytes() == b"first clip"
    st.close()


def test_reopen_after_a_rename_keeps_the_journal_and_names_a_failure(tmp_path: Path) -> None:
    """A new title renames the run folder with run.db closed, then reopens it: the steps
    are there at the new path, and a reopen that fails is a StoreError (a one-line
    message) naming the file, not sqlite3's traceback."""
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    st = Store(old / "run.db")
    st.next_run_no()
    _done(st, old, "a", "k1", b"one")
    st.close()
    old.rename(new)
    st.reopen(new / "run.db")
    assert st.root == new
    assert st.reusable("a", "keyframe", "k1") is not None
    st.set_meta("after", "yes")  # writable at the new path
    st.close()
    (new / "run.db").unlink()
    (new / "run.db").mkdir()  # what is there now cannot be opened as a database
    with pytest.raises(StoreError, match=r"run\.db could not be opened again"):
        st.reopen(new / "run.db")


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("DROP TABLE steps", "its table 'steps' is missing"),
        ("ALTER TABLE ledger DROP COLUMN usage", "its table 'ledger' has no column 'usage'"),
    ],
)
@pytest.mark.parametrize("read_only", [False, True])
def test_a_run_db_missing_a_table_or_column_is_called_damaged_not_a_traceback(
    tmp_path: Path, damage: str, said: str, read_only: bool
) -> None:
    """A run.db marked ours and current but without a table or column the journal is
    read with (dropped by hand) was an OperationalError traceback in status, render and
    plan; now the damaged-run.db line, and the file is left as it was."""
    db = tmp_path / "run.db"
    Store(db).close()
    con = sqlite3.connect(db)
    con.execute(damage)
    con.commit()
    con.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match=f"damaged \\({said}\\)"):
        Store(db, read_only=read_only)
    assert db.read_bytes() == before


def test_a_folder_named_run_db_is_said_so_not_called_read_only(tmp_path: Path) -> None:
    """It said "cannot be written ...: its folder is read-only or belongs to another user",
    which sent the person to the permissions."""
    (tmp_path / "run.db").mkdir()
    for read_only in (False, True):
        with pytest.raises(StoreError) as e:
            Store(tmp_path / "run.db", read_only=read_only)
        assert str(e.value).startswith(f"{tmp_path / 'run.db'} is a folder, not the run's journal")


def _cli_goals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-goal goals.yaml in tmp_path, the working folder, with no MINDMOVIE_ setting
    (and no ./config.yaml) to reach the CLI."""
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("MINDMOVIE_")]:
        monkeypatch.delenv(name)
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: T\ngoals:\n  - category: a\n    vision: b\n")
    return goals


def test_an_empty_run_db_is_no_journal_the_files_it_cannot_vouch_for_are_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run.db cut to 0 bytes was taken for a journal (the store fills it afresh), so the
    render wrote its new keyframes, clips and movie over the ones the folder held (paid
    ones lost), where a missing run.db has them moved to previous/<time>/ first. It is
    now treated as missing: status says so, and `plan` moves them aside."""
    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.store import journal_missing

    goals = _cli_goals(tmp_path, monkeypatch)
    run = tmp_path / "run"
    (run / "scenes" / "01-a-1").mkdir(parents=True)
    (run / "scenes" / "01-a-1" / "keyframe.png").write_bytes(b"paid keyframe")
    (run / "movie.mp4").write_bytes(b"the movie")
    (run / "run.db").write_bytes(b"")
    assert journal_missing(run / "run.db") and not journal_missing(run)
    r = CliRunner().invoke(app, ["status", str(run)])
    assert r.exit_code == 2 and "an empty run.db, so the scenes, movie.mp4 here" in r.output
    r = CliRunner().invoke(app, ["plan", str(goals), "--out", str(run)])
    assert r.exit_code == 0, r.output
    (old,) = (run / "previous").iterdir()
    assert (old / "scenes" / "01-a-1" / "keyframe.png").read_bytes() == b"paid keyframe"
    assert (old / "movie.mp4").read_bytes() == b"the movie"


def test_a_run_db_whose_write_ahead_log_was_deleted_is_no_journal_its_files_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A render killed before SQLite copied its log into run.db (everything it journaled
    was in run.db-wal; run.db its 4096-byte header, no table), then run.db-wal and
    run.db-shm deleted as leftovers: status said every scene "not started" though their
    keyframes and clips were there, and the render wrote its new ones over them (paid
    ones lost), as with a 0-byte run.db before. A run.db with no table and no log
    beside it is no journal: status says so, and `plan` moves the files aside."""
    import sqlite3

    from typer.testing import CliRunner

    from mindmovie.cli import app
    from mindmovie.store import journal_missing

    goals = _cli_goals(tmp_path, monkeypatch)
    run = tmp_path / "run"
    (run / "scenes" / "01-a-1").mkdir(parents=True)
    (run / "scenes" / "01-a-1" / "keyframe.png").write_bytes(b"paid keyframe")
    con = sqlite3.connect(run / "run.db")
    con.execute("PRAGMA journal_mode=WAL")  # the header only, as the kill left it
    con.close()
    assert (run / "run.db").stat().st_size > 0 and not (run / "run.db-wal").exists()
    assert journal_missing(run / "run.db")
    r = CliRunner().invoke(app, ["status", str(run)])
    assert r.exit_code == 2 and "an empty run.db, so the scenes here" in r.output, r.output
    r = CliRunner().invoke(app, ["plan", str(goals), "--out", str(run)])
    assert r.exit_code == 0, r.output
    (old,) = (run / "previous").iterdir()
    assert (old / "scenes" / "01-a-1" / "keyframe.png").read_bytes() == b"paid keyframe"
    Store(run / "run.db").close()  # a journal with its tables is one
    assert not journal_missing(run / "run.db")


def test_a_folder_named_plan_yaml_is_refused_by_render_and_status_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The render, copying plan.yaml aside to plan again, died with an IsADirectoryError
    traceback (exit 1), and `status` said "there is no plan.yaml: the next render makes
    one". Both now name the folder, exit 2, and leave it as it was."""
    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = _cli_goals(tmp_path, monkeypatch)
    run = tmp_path / "run"
    run.mkdir()
    Store(run / "run.db").close()
    (run / "plan.yaml").mkdir()
    said = f"{run / 'plan.yaml'}: is a folder, not the run's plan (a file)"
    for args in (
        ["plan", str(goals), "--out", str(run)],
        ["status", str(run), "--goals", str(goals)],
    ):
        r = CliRunner().invoke(app, args)
        assert r.exit_code == 2 and said in " ".join(r.output.split()), r.output
    assert (run / "plan.yaml").is_dir() and not any((run / "plan.yaml").iterdir())


def test_a_named_pipe_as_plan_yaml_is_named_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A named pipe at plan.yaml was called "a folder"; `status` waited on it for ever."""
    import os

    from typer.testing import CliRunner

    from mindmovie.cli import app

    goals = _cli_goals(tmp_path, monkeypatch)
    run = tmp_path / "run"
    run.mkdir()
    Store(run / "run.db").close()
    os.mkfifo(run / "plan.yaml")
    r = CliRunner().invoke(app, ["plan", str(goals), "--out", str(run)])
    said = f"{run / 'plan.yaml'}: is a named pipe (FIFO), not the run's plan (a file)"
    assert r.exit_code == 2 and said in " ".join(r.output.split()), r.output


def test_an_empty_run_db_with_commits_in_its_write_ahead_log_is_a_journal(
    tmp_path: Path,
) -> None:
    """run.db of 0 bytes is no journal only when no write-ahead log beside it holds
    commits: with a non-empty run.db-wal the run's steps are there to be read."""
    from mindmovie.store import journal_missing

    db = tmp_path / "run.db"
    db.write_bytes(b"")
    assert journal_missing(db)
    wal = tmp_path / "run.db-wal"
    wal.write_bytes(b"")
    assert journal_missing(db)
    wal.write_bytes(b"\0" * 32)
    assert not journal_missing(db)


def test_run_numbers_count_up_and_steps_are_listed_by_stage(tmp_path: Path) -> None:
    st = Store(tmp_path / "run.db")
    assert (st.next_run_no(), st.next_run_no()) == (1, 2) and st.run_no == 2
    _done(st, tmp_path, "a", "k1", b"one")
    st.begin("a", "clip", "c1")
    assert [(s.scene_id, s.stage) for s in st.steps("clip")] == [("a", "clip")]
    assert [s.stage for s in st.steps()] == ["keyframe", "clip"]
    clip = st.get("a", "clip")
    assert clip is not None and st.artifact_path(clip) is None  # not made yet
    keyframe = st.get("a", "keyframe")
    assert keyframe is not None and st.artifact_path(keyframe) == tmp_path / "a.bin"
    st.close()


def test_a_disk_with_no_room_left_is_told_from_one_that_cannot_be_measured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typing import NamedTuple

    from mindmovie import store

    class Usage(NamedTuple):  # shutil.disk_usage's fields, without its private type
        total: int
        used: int
        free: int

    def usage(free: int) -> object:
        return lambda _p: Usage(10**12, 10**12 - free, free)

    monkeypatch.setattr(store.shutil, "disk_usage", usage(4096))
    assert store._disk_is_full(tmp_path)
    monkeypatch.setattr(store.shutil, "disk_usage", usage(100 << 20))
    assert not store._disk_is_full(tmp_path)

    def broken(_p: object) -> object:
        raise OSError("not measured")

    monkeypatch.setattr(store.shutil, "disk_usage", broken)
    assert not store._disk_is_full(tmp_path)


def test_a_kept_copy_of_plan_yaml_comes_back_with_the_run_that_made_it(tmp_path: Path) -> None:
    """A plan.yaml with hand edits, replaced by a new plan, is kept as it was and put
    back, edits and all, when its goals come back; the step says the run and tries that
    made it, not the render that put it back. Nothing is kept of a file not there."""
    st = Store(tmp_path / "run.db")
    st.next_run_no()
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: Mine  # edited by hand\n")
    st.begin("_run", "plan", "goals-1")
    st.succeed("_run", "plan", plan, sha256_file(plan))
    st.keep_copy("_run", "plan", "goals-1", plan)
    st.keep_copy("_run", "plan", "goals-9", tmp_path / "gone.yaml")
    assert st.find_kept("plan", "goals-9") is None
    st.next_run_no()
    plan.write_text("title: Another plan\n")
    st.begin("_run", "plan", "goals-2")
    st.succeed("_run", "plan", plan, sha256_file(plan))
    st.next_run_no()
    assert st.restore("_run", "plan", "goals-1", plan)
    assert plan.read_text() == "title: Mine  # edited by hand\n"
    back = st.get("_run", "plan")
    assert back is not None and (back.input_key, back.status) == ("goals-1", "succeeded")
    assert (back.run_no, back.attempts) == (1, 1)
    st.close()


def test_a_run_db_is_marked_mmv1_as_every_mindmovie_reads_it(tmp_path: Path) -> None:
    """Every version of mindmovie recognises its run.db by application_id "MMV1": a
    different mark would turn every existing run into "not a mindmovie run store"."""
    Store(tmp_path / "run.db").close()
    db = sqlite3.connect(tmp_path / "run.db")
    assert db.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"MMV1", "big")
    db.close()


def test_forget_stage_drops_only_the_rows_not_kept_and_a_hold_is_never_below_its_estimate(
    tmp_path: Path,
) -> None:
    st = Store(tmp_path / "run.db")
    for seg in ("a", "b", "c"):
        st.begin(seg, "segment", f"k-{seg}")
    st.begin("a", "clip", "k")
    st.forget_stage("segment", keep={"b"})
    assert sorted((s.scene_id, s.stage) for s in st.steps()) == [("a", "clip"), ("b", "segment")]
    st.ledger_commit("a", "clip", "byteplus", "m", 1.0, held_usd=0.5)
    assert st.ledger_totals() == (0.0, pytest.approx(1.0))
    st.close()


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("billed_usd", "x", "'x' is not an amount of dollars"),
        ("billed_usd", "-1", "-1.0 is not an amount of dollars"),
        ("estimated_usd", "", "'' is not an amount of dollars"),
        ("state", "paid", "'paid' is not committed, billed or refunded"),
        # an infinite hold closed the gate for good; one in billed_usd summed to inf
        ("held_usd", "1e999", "inf is not an amount of dollars"),
    ],
)
def test_a_ledger_amount_damaged_by_hand_is_refused_not_counted_as_free(
    tmp_path: Path, column: str, value: str, said: str
) -> None:
    """`UPDATE ledger SET billed_usd='x'`: SQLite's SUM reads the text as 0, so the
    budget gate counted a billed call as free (a paid render could spend past --budget),
    and `status` was a TypeError traceback; a state other than the three counted the
    call nowhere. The ledger's money is read strictly, as its usage is: every read of it
    (the gate's totals, the rows status shows) names run.db, the row and the column."""
    st = Store(tmp_path / "run.db")
    st.next_run_no()
    row = st.ledger_commit("s1", "clip", "byteplus", "m", 0.10)
    st.ledger_bill(row, 0.09, None)
    assert st.ledger_totals() == pytest.approx((0.09, 0.0))
    con = sqlite3.connect(tmp_path / "run.db")
    with con:
        con.execute(f"UPDATE ledger SET {column}=? WHERE id=?", (value, row))
    con.close()
    st = Store(tmp_path / "run.db")
    for read in (st.ledger_totals, st.ledger_rows):
        with pytest.raises(StoreError) as e:
            read()
        assert str(e.value).startswith(
            f"{tmp_path / 'run.db'}: ledger row {row} has a damaged {column} ({said}). "
            "It was not changed."
        ), e.value


def test_a_clip_rows_job_input_round_trips_and_hand_edits_read_as_none(tmp_path: Path) -> None:
    """What a clip job was made from is kept with its row (in one transaction) and read
    back; anything else (not recorded, edited into junk, a key that is not a hash and so
    could name another file under kept/) reads as not recorded."""
    from mindmovie.store import JOB_INPUT_META

    st = Store(tmp_path / "run.db")
    try:
        key = "ab" * 32
        row = st.ledger_commit(
            "s1", "clip", "byteplus", "m", 0.1, job_input={"input_key": key, "seconds": 5}
        )
        assert st.job_input(row) == (key, 5.0)
        assert st.job_input(st.ledger_commit("s2", "clip", "byteplus", "m", 0.1)) is None
        for junk in (
            "not json",
            "[1]",
            '{"input_key": "../../movie", "seconds": 5}',
            f'{{"input_key": "{key}", "seconds": true}}',
            f'{{"input_key": "{key}", "seconds": -1}}',
        ):
            st.set_meta(f"{JOB_INPUT_META}{row}", junk)
            assert st.job_input(row) is None, junk
    finally:
        st.close()


def test_a_carried_job_keeps_what_its_row_said_in_the_set_aside_run(tmp_path: Path) -> None:
    """`render --fresh` carries a clip job still in flight into the new run's ledger
    (`ledger_carry`). Its row there began with a blank usage: a job the person had let
    go of (`render --let-go`: `let_go`, `unused`) lost those marks, so the new run took
    it for a job no one had let go of (`Pipeline._unwanted_job` and `_settle_stale_jobs`
    read them). Now the marks go with it, beside where it came from."""
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir()
    new_dir.mkdir()
    old = Store(old_dir / "run.db")
    old.begin("s1", "clip", "k1")
    row = old.ledger_commit("s1", "clip", "byteplus", "m", 0.10, held_usd=0.2)
    old.ledger_set_remote(row, "cgt-1")
    old.mark_submitted("s1", "clip", "cgt-1")
    old.let_go_job("s1", "cgt-1", "let go of", "the base URL changed")
    (r,) = old.ledger_rows()
    assert r["state"] == "committed" and r["usage"]["let_go"], r
    new = Store(new_dir / "run.db")
    carried = new.ledger_carry(r, origin=None, job_input=None, carried_from=str(old_dir))
    (c,) = new.ledger_rows()
    assert c["id"] == carried and c["remote_id"] == "cgt-1" and c["state"] == "committed"
    assert c["usage"]["let_go"] == r["usage"]["let_go"], c
    assert c["usage"]["unused"] is True, c
    assert c["usage"]["carried_from"] == str(old_dir) and c["usage"]["carried_row"] == row, c
    old.close()
    new.close()


def _a_job_to_carry(old_dir: Path, new_dir: Path, held: float) -> tuple[Store, Store, int, Any]:
    """A set-aside run's clip job in flight (cgt-1, estimated $0.10, held at `held`) and a
    new run to carry it into: (old store, new store, the old row's id, the old row)."""
    old_dir.mkdir()
    new_dir.mkdir()
    old = Store(old_dir / "run.db")
    row = old.ledger_commit("s1", "clip", "byteplus", "m", 0.10, held_usd=held)
    old.ledger_set_remote(row, "cgt-1")
    (r,) = old.ledger_rows()
    return old, Store(new_dir / "run.db"), row, r


def test_a_carried_job_says_where_from_once_billed_and_is_marked_away_once(
    tmp_path: Path,
) -> None:
    """A job `render --fresh` carried: its bill replaced the row's usage, so the run's
    ledger (and `status`) no longer said where the billed job came from; `carried_in`
    (meta) keeps the way back for the next `--fresh`. The set-aside row is marked carried
    away only while it is still committed with that job (a render finishing a killed
    --fresh marks it again: a no-op), and its `carried_to` is pointed on only from the
    run it names."""
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old, new, row, r = _a_job_to_carry(old_dir, new_dir, held=0.2)
    src = str(old_dir / "run.db")
    carried = new.ledger_carry(r, origin=None, job_input=None, carried_from=src)
    assert new.carried_in() == [(carried, src, row)]
    new.ledger_bill(carried, 0.1, {"duration": 4})
    (c,) = new.ledger_rows()
    assert c["usage"] == {"duration": 4, "carried_from": src}, c
    here = str(new_dir / "run.db")
    assert not old.ledger_carried_away(row, here, carried, "cgt-other")
    assert old.ledger_carried_away(row, here, carried, "cgt-1")
    assert not old.ledger_carried_away(row, here, carried, "cgt-1")  # marked already
    (o,) = old.ledger_rows()
    assert (o["state"], o["usage"]["carried_to"]) == ("refunded", here), o
    moved = str(tmp_path / "aside" / "run.db")
    assert not old.ledger_carried_moved(row, str(tmp_path / "elsewhere" / "run.db"), moved)
    assert old.ledger_carried_moved(row, here, moved)
    (o,) = old.ledger_rows()
    assert o["usage"]["carried_to"] == moved and moved in o["usage"]["reason"], o
    old.close()
    new.close()


# ---------------------------------------------------------------- mutation audit
def test_a_rekeyed_step_is_reused_under_its_new_key(tmp_path: Path) -> None:
    """`rekey`: a step made under an older key formula is recorded under today's key, so
    the next render reuses it instead of paying for it again."""
    st = Store(tmp_path / "run.db")
    _done(st, tmp_path, "a", "old-formula", b"one")
    st.rekey("a", "keyframe", "new-formula")
    assert st.reusable("a", "keyframe", "new-formula") is not None
    assert st.reusable("a", "keyframe", "old-formula") is None
    st.close()


def test_a_clip_begun_with_new_inputs_does_not_pick_up_the_old_inputs_job(
    tmp_path: Path,
) -> None:
    """A new try forgets the job of the one before: killed before its own create, the
    step would otherwise be resumed by polling a job made from the old inputs, and the
    scene given a clip of its old image."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "clip", "k1")
    st.mark_submitted("s1", "clip", "cgt-1")
    step = st.begin("s1", "clip", "k2")
    assert step.remote_id is None and st.resumable_job(step) is None
    st.close()


def test_a_step_saved_with_several_calls_bills_every_one(tmp_path: Path) -> None:
    """`succeed(bill=, bills=)`: a plan and its repair call are both settled with the
    plan; a call left committed was held against the budget for good."""
    st = Store(tmp_path / "run.db")
    first = st.ledger_commit("plan", "planner", "anthropic", "m", 0.05, held_usd=0.2)
    repair = st.ledger_commit("plan", "planner", "anthropic", "m", 0.05, held_usd=0.2)
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: T\n")
    st.begin("plan", "plan", "k")
    st.succeed(
        "plan",
        "plan",
        plan,
        sha256_file(plan),
        bills=[(first, 0.03, None)],
        bill=(repair, 0.04, None),
    )
    assert [r["state"] for r in st.ledger_rows()] == ["billed", "billed"]
    assert st.ledger_totals() == (pytest.approx(0.07), 0.0)
    st.close()


def test_new_inputs_are_not_given_the_file_their_step_made_from_the_old_ones(
    tmp_path: Path,
) -> None:
    """A step begun with new inputs still names the file of the old ones (kept under
    their key by `begin`): `find_kept`/`restore` must not hand that file out as the new
    inputs' result (a scene would show the picture it had before its edit)."""
    st = Store(tmp_path / "run.db")
    p = tmp_path / "a.png"
    p.write_bytes(b"old picture")
    st.begin("a", "keyframe", "k1")
    st.succeed("a", "keyframe", p, sha256_file(p), paid=True)
    st.begin("a", "keyframe", "k2")
    assert st.find_kept("keyframe", "k2") is None
    assert st.find_kept("keyframe", "k1") is not None  # kept under its own inputs
    assert not st.restore("a", "keyframe", "k2", tmp_path / "b.png")
    st.close()


def test_a_call_whose_outcome_is_unknown_stays_counted_by_the_budget(tmp_path: Path) -> None:
    """A call marked of unknown outcome may still bill: the gate's totals keep its hold
    (said apart only for the person, by `ledger_split`)."""
    st = Store(tmp_path / "run.db")
    row = st.ledger_commit("s1", "keyframe", "byteplus", "m", 0.03, held_usd=0.05)
    st.ledger_mark_unknown(row)
    assert st.ledger_split() == (0.0, 0.0, pytest.approx(0.05))
    assert st.ledger_totals() == (0.0, pytest.approx(0.05))
    st.close()


def test_letting_go_of_a_job_leaves_a_step_that_moved_on_to_another_alone(
    tmp_path: Path,
) -> None:
    """`let_go_job` fails the step only while it still holds that job: one that holds a
    newer job keeps it (dropped, that job would be bought again)."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "clip", "k")
    st.mark_submitted("s1", "clip", "cgt-2")
    st.let_go_job("s1", "cgt-1", "let go of", "the base URL changed")
    step = st.get("s1", "clip")
    assert step is not None and (step.status, step.remote_id) == ("submitted", "cgt-2")
    st.close()


def test_a_late_job_reopened_for_its_scene_is_polled_not_bought(tmp_path: Path) -> None:
    """`ledger_reopen(scene_id=)`: the late job becomes the scene's clip step's job in
    the same transaction, so the next render polls it rather than paying again."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "clip", "k")
    row = st.ledger_commit("s1", "clip", "byteplus", "m", 0.1)
    st.ledger_refund(row, "no job listed", lost={"input_key": "k", "sent_at": 1.0})
    st.fail("s1", "clip", "transient", "create answer lost")
    st.ledger_reopen(row, "cgt-late", scene_id="s1")
    step = st.get("s1", "clip")
    assert step is not None and (step.status, step.remote_id) == ("submitted", "cgt-late")
    assert st.resumable_job(step) == "cgt-late"
    (r,) = st.ledger_rows()
    assert (r["state"], r["remote_id"]) == ("committed", "cgt-late")
    st.close()


def test_a_carried_job_keeps_its_hold(tmp_path: Path) -> None:
    """`ledger_carry` counts the job at its hold in the new run (what it can bill), not
    at its lower estimate: the gate would let the new run past --budget."""
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old, new, _, r = _a_job_to_carry(old_dir, new_dir, held=0.25)
    new.ledger_carry(r, origin=None, job_input=None, carried_from=str(old_dir))
    assert new.ledger_totals() == (0.0, pytest.approx(0.25))
    old.close()
    new.close()


def test_the_newest_kept_result_url_is_the_one_downloaded(tmp_path: Path) -> None:
    """Two billed calls kept a URL for the same inputs: the newest is the one a render
    downloads; the oldest, past its validity, made it buy the image again."""
    import time

    st = Store(tmp_path / "run.db")
    for url, valid in (("http://x/old.png", 60.0), ("http://x/new.png", 3600.0)):
        row = st.ledger_commit("s1", "keyframe", "byteplus", "seedream", 0.03)
        st.ledger_bill(row, 0.03, {"generated_images": 1})
        st.ledger_keep_result(row, url, "k1", valid)
    found = st.refetchable_result("s1", "keyframe", "k1", now=time.time() + 120)
    assert found is not None and found["usage"]["result_url"] == "http://x/new.png"
    st.close()


def test_a_try_the_gate_refused_is_not_counted_and_a_finished_clip_is_not_resumed(
    tmp_path: Path,
) -> None:
    """`fail(sent=False)`: a try that sent nothing is not a try (status said 'tries 2'
    for calls never sent); and a finished clip, which keeps its job's id, is never
    taken for a job to poll again."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "clip", "k")
    st.fail("s1", "clip", "budget", "budget reached", sent=False)
    step = st.get("s1", "clip")
    assert step is not None and (step.status, step.attempts) == ("failed", 0)
    st.begin("s1", "clip", "k")
    st.mark_submitted("s1", "clip", "cgt-1")
    clip = tmp_path / "s1.mp4"
    clip.write_bytes(b"clip")
    st.succeed("s1", "clip", clip, sha256_file(clip))
    step = st.get("s1", "clip")
    assert step is not None and step.remote_id == "cgt-1" and st.resumable_job(step) is None
    st.close()


def test_a_paid_try_a_killed_render_left_before_the_gate_is_not_counted(
    tmp_path: Path,
) -> None:
    """A paid step left "running" by a killed render with no ledger row made since it
    began sent nothing: the next render's try takes its place (attempts stay 1). One
    whose call was let through (a row made after it began) was a try; so is a local
    step's (its work), and a running step of this very render is not a killed one."""

    def killed_try(scene: str, *, row: bool, paid: bool = True) -> int:
        st = Store(tmp_path / "run.db")
        st.next_run_no()
        st.begin(scene, "clip", "k", paid=paid)
        if row:
            st.ledger_commit(scene, "clip", "byteplus", "seedance", 0.5)
        st.close()  # (SIGKILLed: nothing marks the step)
        st = Store(tmp_path / "run.db")
        st.next_run_no()
        attempts = st.begin(scene, "clip", "k", paid=paid).attempts
        st.close()
        return attempts

    assert killed_try("unsent", row=False) == 1
    assert killed_try("sent", row=True) == 2
    assert killed_try("local", row=False, paid=False) == 2
    st = Store(tmp_path / "run.db")
    st.next_run_no()
    st.begin("same-run", "clip", "k", paid=True)
    assert st.begin("same-run", "clip", "k", paid=True).attempts == 2
    # a row made before the try began (an earlier try's) does not make this one sent
    st.ledger_commit("older", "clip", "byteplus", "seedance", 0.5)
    st.begin("older", "clip", "k", paid=True)
    st.close()
    st = Store(tmp_path / "run.db")
    st.next_run_no()
    assert st.begin("older", "clip", "k", paid=True).attempts == 1
    st.close()


def test_a_job_let_go_of_says_so_once_billed(tmp_path: Path) -> None:
    """A row let go of by the person (`render --let-go`) keeps its `let_go` mark when its
    bill comes in: it is read to tell the job is no scene's to take."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "clip", "k")
    row = st.ledger_commit("s1", "clip", "byteplus", "m", 0.1)
    st.mark_submitted("s1", "clip", "cgt-1", ledger_row=row)
    st.let_go_job("s1", "cgt-1", "let go of", "the base URL changed")
    st.ledger_bill(row, 0.1, {"completion_tokens": 1})
    (r,) = st.ledger_rows()
    assert r["usage"]["let_go"] == "let go of by the person: the base URL changed", r
    st.close()


def test_a_kept_clip_taken_marks_only_its_own_jobs_used(tmp_path: Path) -> None:
    """`ledger_kept_used(input_key)`: the billed-unused jobs kept under that key lose
    their mark; a kept job of other inputs stays marked unused."""
    st = Store(tmp_path / "run.db")
    rows = {}
    for key in ("a" * 16, "b" * 16):
        row = st.ledger_commit(
            "s1", "clip", "byteplus", "m", 0.1, job_input={"input_key": key, "seconds": 5}
        )
        st.ledger_bill(row, 0.1, {"unused": True, "kept": True})
        rows[key] = row
    st.ledger_kept_used("a" * 16)
    usage = {r["id"]: r["usage"] for r in st.ledger_rows()}
    assert usage[rows["a" * 16]] == {}
    assert usage[rows["b" * 16]] == {"unused": True, "kept": True}
    st.close()


def test_a_step_recorded_reused_again_takes_the_new_files_hash(tmp_path: Path) -> None:
    """`record_reused` over a step already recorded (a compose segment made again) keeps
    the new file's sha256: with the old one the file read as changed, and was redone at
    every render."""
    st = Store(tmp_path / "run.db")
    seg = tmp_path / "seg.mp4"
    seg.write_bytes(b"one")
    st.record_reused("body:a", "segment", "k1", seg, sha256_file(seg))
    seg.write_bytes(b"two")
    st.record_reused("body:a", "segment", "k2", seg, sha256_file(seg))
    assert st.reusable("body:a", "segment", "k2") is not None
    st.close()


def test_an_extra_job_is_held_at_its_hold_and_a_lost_creates_note_is_kept(
    tmp_path: Path,
) -> None:
    """`ledger_add_job` counts a job no request took at the most it can bill (at its
    lower estimate the gate let the run past --budget); a lost create refunded after its
    grace keeps what it asked for and when (`ledger_refund(lost=)`, `ledger_note_lost`'s
    grace), so a job the provider makes later is put back on its row, not billed on none."""
    st = Store(tmp_path / "run.db")
    st.ledger_add_job("s1", "byteplus", "m", "cgt-extra", 0.10, held_usd=0.25)
    assert st.ledger_totals() == (0.0, pytest.approx(0.25))
    row = st.ledger_commit("s2", "clip", "byteplus", "m", 0.1)
    st.ledger_note_lost(row, "k2", 100.0, grace=30.0)
    assert st.ledger_rows()[-1]["usage"] == {
        "lost": {"input_key": "k2", "sent_at": 100.0, "grace": 30.0}
    }
    lost = {"input_key": "k2", "sent_at": 100.0}
    st.ledger_refund(row, "no job listed within the grace", lost=lost)
    assert st.ledger_rows()[-1]["usage"]["lost"] == lost
    st.close()


def test_a_plan_put_back_is_a_copy_so_editing_it_leaves_the_kept_one_whole(
    tmp_path: Path,
) -> None:
    """`restore` copies a plan (the person edits plan.yaml in place); a hard link made
    each edit an edit of the kept plan too, whose hash then no longer matched: the plan
    kept for those goals was lost."""
    st = Store(tmp_path / "run.db")
    plan = tmp_path / "plan.yaml"
    plan.write_text("title: Mine\n")
    st.begin("_run", "plan", "goals-1")
    st.succeed("_run", "plan", plan, sha256_file(plan))
    st.keep_copy("_run", "plan", "goals-1", plan)
    plan.unlink()
    plan.write_text("title: Another\n")
    st.begin("_run", "plan", "goals-2")
    st.succeed("_run", "plan", plan, sha256_file(plan))
    assert st.restore("_run", "plan", "goals-1", plan)
    with plan.open("a") as f:
        f.write("# edited in place\n")
    assert st.find_kept("plan", "goals-1") is not None
    st.close()


def test_new_inputs_begin_though_the_old_paid_file_is_gone_or_changed(tmp_path: Path) -> None:
    """`begin` keeps the paid file new inputs replace only while it is intact: one deleted
    (or edited) by hand is not kept (a changed file under the old key would be taken
    for what those inputs made), and its absence must not stop the new try."""
    st = Store(tmp_path / "run.db")
    p = _paid_done(st, "s1", "k1", b"first clip", paid=True)
    p.unlink()
    step = st.begin("s1", "clip", "k2")
    assert step.input_key == "k2" and step.status == "running"
    assert st.find_kept("clip", "k1") is None
    p = _paid_done(st, "s2", "k3", b"second clip", paid=True)
    p.write_bytes(b"edited by hand")
    st.begin("s2", "clip", "k4")
    assert not (tmp_path / "kept" / "clip" / "k3.mp4").exists()
    st.close()


@contextlib.contextmanager
def _file_size_limit(limit: int) -> Iterator[None]:
    """This process's file size limit (`ulimit -f`) lowered to `limit` bytes, SIGXFSZ
    ignored (Python's own default: a write over it fails with EFBIG), both put back."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    was = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, was)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="no file size limit here")
def test_run_db_at_the_file_size_limit_is_the_limit_and_keeps_what_was_paid(
    tmp_path: Path,
) -> None:
    """A file size limit (`ulimit -f`) so small run.db (or its write-ahead log) cannot
    grow ended the render in a traceback, "sqlite3.OperationalError: disk I/O error"
    (SQLite's IOERR_WRITE of the EFBIG), and one met opening a new run.db said "the disk
    reported an error ... check the disk". Both are the limit (EFBIG: the render's one
    line naming it and `ulimit -f`); the failed write is rolled back, the journal goes
    on, and the paid call committed before is kept."""
    from mindmovie.pipeline import limit_message

    db = tmp_path / "run.db"
    st = Store(db)
    row = st.ledger_commit("s1", "keyframe", "byteplus", "seedream", 0.03)
    st.ledger_bill(row, 0.03, {"images": 1})
    biggest = max(p.stat().st_size for p in tmp_path.glob("run.db*"))
    with _file_size_limit(biggest + 3 * 4096):
        with pytest.raises(OSError) as grown:
            for i in range(100):
                st.set_meta(f"filler:{i}", "x" * 4000)
        assert not st._db.in_transaction
    (tmp_path / "new").mkdir()
    with _file_size_limit(2048), pytest.raises(OSError) as opened:
        Store(tmp_path / "new" / "run.db")
    for e in (grown.value, opened.value):
        assert e.errno == errno.EFBIG, e
        line = limit_message(e, tmp_path)
        assert line is not None and "file size limit" in line and "ulimit -f" in line
    st.set_meta("after", "the limit raised")
    st.close()
    again = Store(db)
    paid = again.ledger_row(row)
    assert paid is not None and paid["state"] == "billed" and paid["billed_usd"] == 0.03
    assert again.get_meta("after") == "the limit raised"
    again.close()


def _unrecordable(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, every write of run.db fails as under a met `ulimit -f` (EFBIG)."""

    def refused(self: Store, *a: Any, **kw: Any) -> None:
        raise OSError(errno.EFBIG, "File too large (SQLite: disk I/O error)", str(self.path))

    monkeypatch.setattr(Store, "_succeed", refused)
    monkeypatch.setattr(Store, "_mark_submitted", refused)


def _keyframe_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, key: str = "k1"
) -> tuple[Store, int, Path]:
    """A paid keyframe of s1 answered and saved in its place, which run.db could not
    record: (the store, as reopened by the next render, the ledger row, the file)."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "keyframe", key)
    row = st.ledger_commit("s1", "keyframe", "byteplus", "seedream", 0.03)
    dest = tmp_path / "scenes" / "s1" / "keyframe.png"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"the image answered")
    with monkeypatch.context() as m:
        _unrecordable(m)
        with pytest.raises(OSError):
            st.succeed(
                "s1", "keyframe", dest, sha256_file(dest), bill=(row, 0.03, {"n": 1}), paid=True
            )
    assert st.receipted == {row}
    st.close()
    return Store(tmp_path / "run.db"), row, dest


def test_a_paid_keyframe_run_db_could_not_record_is_taken_up_from_its_receipt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next render records it as made (the step succeeded with that file, its row
    billed at the answer's usage), where it bought the image again; and once only.
    A read-only look (status, estimate) sees it so in its copy, writing nothing."""
    st, row, dest = _keyframe_answered(tmp_path, monkeypatch)
    # status and the estimate see it taken up, in their copy, and leave the receipt
    look = Store(tmp_path / "run.db", read_only=True)
    assert look.reusable("s1", "keyframe", "k1") is not None
    look.close()
    assert st.get("s1", "keyframe").status == "running"  # type: ignore[union-attr]
    assert st.take_receipts() == [("s1", "keyframe", "succeeded", "scenes/s1/keyframe.png")]
    step = st.reusable("s1", "keyframe", "k1")
    assert step is not None and step.paid and st.artifact_path(step) == dest
    billed = st.ledger_row(row)
    assert billed is not None and billed["state"] == "billed" and billed["billed_usd"] == 0.03
    assert st.take_receipts() == [] and not list(tmp_path.glob("kept/receipts/*"))
    st.close()


@pytest.mark.parametrize("change", ["bytes", "inputs", "settled", "another run.db"])
def test_a_receipt_that_no_longer_fits_takes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """Never a wrong artifact: not a file whose bytes are not the ones answered (put
    there since), not for a step that asks other inputs now, not for a row settled
    since, nor a receipt of another run.db (its rows numbered alike). The receipt goes;
    the row stays as it was."""
    st, row, dest = _keyframe_answered(tmp_path, monkeypatch)
    if change == "bytes":
        dest.write_bytes(b"another picture")
    elif change == "inputs":
        st.begin("s1", "keyframe", "k2")
    elif change == "settled":
        st.ledger_refund(row, "settled since")
    else:
        receipt = next(tmp_path.glob("kept/receipts/*.json"))
        st.close()
        (tmp_path / "run.db").unlink()
        st = Store(tmp_path / "run.db")  # a new journal: row 1 is another call's
        st.begin("s1", "keyframe", "k1")
        assert st.ledger_commit("s1", "keyframe", "byteplus", "seedream", 0.03) == row
        assert receipt.is_file()
    state = (st.ledger_row(row) or {}).get("state")
    assert st.take_receipts() == []
    assert st.reusable("s1", "keyframe", "k1") is None
    assert (st.ledger_row(row) or {}).get("state") == state
    assert not list(tmp_path.glob("kept/receipts/*"))
    st.close()


def test_a_receipt_the_limit_still_refuses_stays_for_the_next_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken up under the limit still met, the record fails again (the render stops with
    the limit's line) and the receipt is kept: it is not spent on a failed write."""
    st, _, _ = _keyframe_answered(tmp_path, monkeypatch)
    with monkeypatch.context() as m:
        _unrecordable(m)
        with pytest.raises(OSError):
            st.take_receipts()
    assert list(tmp_path.glob("kept/receipts/*.json"))
    assert st.take_receipts() == [("s1", "keyframe", "succeeded", "scenes/s1/keyframe.png")]
    st.close()


@pytest.mark.parametrize("asks", [True, False])
def test_a_clip_job_whose_id_run_db_could_not_record_is_polled_not_bought_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asks: bool
) -> None:
    """A job made whose id run.db could not take: the next render finds it on the step
    (polled, its clip downloaded) and on its ledger row. A step that asks other inputs
    by then does not take it; the job goes on its row only (a job no step holds)."""
    st = Store(tmp_path / "run.db")
    st.begin("s1", "clip", "c1")
    row = st.ledger_commit("s1", "clip", "google", "veo", 1.2)
    with monkeypatch.context() as m:
        _unrecordable(m)
        with pytest.raises(OSError):
            st.mark_submitted("s1", "clip", "models/veo/operations/x1", ledger_row=row)
    if not asks:
        st.begin("s1", "clip", "c2")
    assert st.take_receipts() == [("s1", "clip", "submitted", "models/veo/operations/x1")]
    step = st.get("s1", "clip")
    assert step is not None
    assert (step.status, step.remote_id) == (
        ("submitted", "models/veo/operations/x1") if asks else ("running", None)
    )
    assert (st.ledger_row(row) or {})["remote_id"] == "models/veo/operations/x1"
    st.close()


def test_a_malformed_receipt_is_dropped_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receipt edited or damaged by hand: its bills not a list, a row number SQLite
    cannot hold, a price that is no number of dollars. It raised TypeError or
    OverflowError (neither a sqlite3.Error) out of `status`, `estimate` and every
    render. Each such receipt is dropped; the others are still taken up."""
    st, row, _ = _keyframe_answered(tmp_path, monkeypatch)
    folder = tmp_path / "kept" / "receipts"
    good = json.loads((folder / f"keyframe-{row}.json").read_text())
    made = good["bills"][0][3]
    huge = 2**70
    bad = {
        # (each sorts before the good receipt, whose take they must not stop)
        "keyframe-0a.json": {**good, "bills": 1},
        "keyframe-0b.json": {**good, "bills": [[huge, 0.03, None, made]]},
        "clip-0.json": {
            "kind": "submitted", "scene_id": "s1", "stage": "clip", "input_key": "k",
            "remote_id": "op-1", "row": huge, "row_made": made,
        },
        "bill-0.json": {
            "kind": "billed", "scene_id": "s1", "stage": "keyframe", "row": huge,
            "row_made": made, "usd": 0.03, "usage": None,
        },
    }  # fmt: skip
    for name, rec in bad.items():
        (folder / name).write_text(json.dumps(rec))
    # a bill of no number of dollars (JSON's 1e999 is read as infinity)
    other = st.ledger_commit("s2", "keyframe", "byteplus", "seedream", 0.03)
    endless = {"kind": "billed", "scene_id": "s2", "stage": "keyframe", "row": other,
               "row_made": st.ledger_row(other)["created_at"], "usd": 1.5}  # type: ignore[index]  # fmt: skip
    (folder / "bill-1.json").write_text(json.dumps(endless).replace("1.5", "1e999"))
    look = Store(tmp_path / "run.db", read_only=True)  # (status, estimate)
    assert look.reusable("s1", "keyframe", "k1") is not None
    look.close()
    assert collect_status(tmp_path)["ledger"]  # (status itself)
    assert st.take_receipts() == [("s1", "keyframe", "succeeded", "scenes/s1/keyframe.png")]
    billed = st.ledger_row(row)
    assert billed is not None and billed["billed_usd"] == 0.03, billed
    assert (st.ledger_row(other) or {}).get("state") == "committed"
    assert not list(folder.glob("*"))
    st.close()


#: running as root, the permissions are ignored: the check runs without its powers
_NO_ROOT_POWERS = (
    ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
)
_POWERLESS = pytest.mark.skipif(
    os.geteuid() == 0 and not __import__("shutil").which("setpriv"),
    reason="as root, permissions are ignored (and no setpriv to drop that)",
)


def _run_db_with_x(tmp_path: Path) -> Path:
    """A run folder's run.db whose meta x is "1"."""
    (tmp_path / "run").mkdir()
    db = tmp_path / "run" / "run.db"
    st = Store(db)
    st.set_meta("x", "1")
    st.close()
    return db


def _python(script: str, db: Path, *, powerless: bool = True) -> str:
    """`script` run by Python with `db` as its argument (without root's powers); its
    stdout, once it exited 0."""
    import subprocess
    import sys

    src = Path(__file__).resolve().parents[2] / "src"
    r = subprocess.run(
        [*(_NO_ROOT_POWERS if powerless else []), sys.executable, "-c", script, str(db)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


@_POWERLESS
def test_a_read_only_run_db_is_named_and_leaves_no_side_file(tmp_path: Path) -> None:
    """`chmod 444 run.db`: the render's look at the run (`_snapshot`, opened "rw") made
    run.db-shm with run.db's mode and could not remove it, the render said "its folder
    is read-only" (it was not), and once run.db was made writable again every render
    failed on the -shm left. run.db is named, and no side file is left."""
    db = _run_db_with_x(tmp_path)
    os.chmod(db, 0o444)
    first, said = _python(
        "import sys; from pathlib import Path\n"
        "from mindmovie.store import Store, StoreError, _snapshot\n"
        "db = Path(sys.argv[1]); con = _snapshot(db)\n"
        "print(con.execute('SELECT value FROM meta WHERE key=?', ('x',)).fetchone()[0])\n"
        "con.close()\n"
        "try:\n    Store(db)\nexcept StoreError as e:\n    print(e)\n",
        db,
    ).splitlines()
    assert first == "1"
    assert "cannot be written" in said and ": run.db is read-only" in said, said
    assert f"chmod u+w {db}" in said
    assert sorted(os.listdir(db.parent)) == ["run.db"]


@_POWERLESS
def test_a_run_db_wal_this_user_cannot_read_is_said_not_read_past(tmp_path: Path) -> None:
    """A render killed with its last steps in run.db-wal, the -wal then unreadable (made
    with sudo): status read run.db without it and showed an older run ("not started" of
    scenes done, "run.db is new" in estimate). The -wal is named as what to fix by a
    look at that run (`Store`, read-only); a look for a run among others reads it as it
    is, as before (another project's run did not stop this render)."""
    db = _run_db_with_x(tmp_path)
    _python(  # a render killed: its last write in the -wal, never checkpointed
        "import os, sys; from pathlib import Path; from mindmovie.store import Store\n"
        "st = Store(Path(sys.argv[1])); st.set_meta('x', '2'); os._exit(0)\n",
        db,
        powerless=False,
    )
    wal = db.parent / "run.db-wal"
    assert wal.stat().st_size > 0
    os.chmod(wal, 0)
    try:
        out = _python(
            "import sys; from pathlib import Path\n"
            "from mindmovie.store import StoreError, _snapshot\n"
            "print(_snapshot(Path(sys.argv[1])).execute('SELECT count(*) FROM meta')"
            ".fetchone()[0])\n"
            "try:\n    con = _snapshot(Path(sys.argv[1]), strict=True)\n"
            "    print(con.execute('SELECT value FROM meta WHERE key=?', ('x',)).fetchone()[0])\n"
            "except StoreError as e:\n    print(e)\n",
            db,
        )
    finally:
        os.chmod(wal, 0o644)
    looked, said = out.split("\n", 1)
    assert int(looked) > 0  # a look among runs reads it as it is, as before
    assert said.startswith(f"{wal} cannot be read (Permission denied)"), out


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="Linux's /proc")
def test_a_run_db_not_opened_for_the_open_files_limit_is_not_said_a_permissions_problem(
    tmp_path: Path,
) -> None:
    """SQLite says a file it could not open for the open files limit (`ulimit -n`)
    "unable to open database file", as for a folder this user may not write: a render
    so limited warned to fix folder permissions. It is the limit (EMFILE), which the
    render says in one line."""
    import resource

    Store(tmp_path / "run.db").close()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    from mindmovie.store import out_of_files

    def at_the_limit(room: int) -> list[int]:
        """Every file this process may open taken but `room` (the limit counts the
        numbers of the files open, and freed ones below it are taken first)."""
        highest = max(int(n) for n in os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 9, hard))
        taken: list[int] = []
        with contextlib.suppress(OSError):
            while True:
                taken.append(os.open(os.devnull, os.O_RDONLY))
        for _ in range(room):
            os.close(taken.pop())
        return taken

    for room, out in ((0, True), (2, True), (4, False)):
        taken = at_the_limit(room)
        try:
            said = out_of_files()
            if room == 0:
                with pytest.raises(OSError) as caught:
                    Store(tmp_path / "run.db")
        finally:
            for fd in taken:
                os.close(fd)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        # a few files short of the limit is not out of them (a read-only folder there
        # was said to be the limit): SQLite's three can still be opened
        assert said is out, room
    assert caught.value.errno == errno.EMFILE, caught.value
    assert "permissions" not in str(caught.value)
    Store(tmp_path / "run.db").close()  # the limit raised: it opens


def test_a_receipt_not_read_for_the_open_files_limit_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receipt (a paid answer run.db could not record, written at a limit met) whose
    read failed was dropped unread: at the open files limit, the paid answer it
    records was lost. It stays for the next render; the limit is raised."""
    from mindmovie.store import KEPT_DIR, RECEIPTS_DIR

    store = Store(tmp_path / "run.db")
    folder = tmp_path / KEPT_DIR / RECEIPTS_DIR
    folder.mkdir(parents=True)
    receipt = folder / "r1.json"
    receipt.write_text("{}", encoding="utf-8")
    real = Path.read_text

    def limited(self: Path, *args: Any, **kw: Any) -> str:
        if self == receipt:
            raise OSError(errno.EMFILE, "Too many open files")
        return real(self, *args, **kw)

    monkeypatch.setattr(Path, "read_text", limited)
    with pytest.raises(OSError) as caught:
        store.take_receipts()
    assert caught.value.errno == errno.EMFILE
    assert receipt.is_file()

    # one this user may not read: kept and named (`Pipeline._take_receipts` says it),
    # not dropped unread, nor kept unsaid
    def denied(self: Path, *args: Any, **kw: Any) -> str:
        if self == receipt:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(self, *args, **kw)

    monkeypatch.setattr(Path, "read_text", denied)
    assert store.take_receipts() == []
    assert receipt.is_file() and store.unread_receipts == [(receipt, "Permission denied")]
    monkeypatch.undo()
    store.take_receipts()  # read: one that no longer fits is dropped, as before
    assert not receipt.exists() and store.unread_receipts == []
    store.close()
