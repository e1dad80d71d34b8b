"""Run store: reuse only on matching key + hash, attempts, foreign/corrupt db, schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mindmovie.fsutil import sha256_file
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
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2


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
