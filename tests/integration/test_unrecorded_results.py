"""A paid result run.db could not record (the file size limit, `ulimit -f`, met by
run.db or its write-ahead log just after the call answered) is not bought again by the
next render: what was recorded before the call (the ledger row, the step's inputs) and
a receipt written beside the result are enough to take it up (real SDKs, simulator)."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mindmovie import store as store_mod
from mindmovie.config import Keys
from mindmovie.pipeline import DiskFull, Pipeline, estimate_for
from mindmovie.progress import NullReporter
from mindmovie.store import Store
from tests.integration.support import (
    KEYS,
    AgreeingAsked,
    claude_answer_for,
    ledger_rows,
    no_retry_waits,
    seedream_by_url,
    settings_for,
)
from tests.sim.server import SimServer

#: SQLite's IOERR_WRITE: what it says of a write the file size limit refused (EFBIG)
_IOERR_WRITE = 10 | (3 << 8)


class _Limit:
    """run.db at the file size limit from a chosen moment on: every write of the store
    fails as SQLite fails it then (an OperationalError, IOERR_WRITE, "disk I/O error")
    and the limit is seen as met (`store.size_limit_met`), so the store raises the
    EFBIG that a real `ulimit -f` gives (`Store._tx`)."""

    def __init__(self) -> None:
        self.met = False
        self.armed = True  # (met once: the rerun's calls, if any, are recorded)
        self.failed = 0

    def check(self) -> None:
        if self.met:
            self.failed += 1
            e = sqlite3.OperationalError("disk I/O error")
            e.sqlite_errorcode = _IOERR_WRITE  # type: ignore[attr-defined]
            raise e


@pytest.fixture
def limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Limit]:
    lim = _Limit()
    real_tx = Store._tx

    @contextlib.contextmanager
    def tx(self: Store) -> Iterator[sqlite3.Connection]:
        with real_tx(self) as db:
            if self.path.name == "run.db":
                lim.check()  # (inside the transaction: rolled back as a real failure is)
            yield db

    real_met = store_mod.size_limit_met
    monkeypatch.setattr(Store, "_tx", tx)
    monkeypatch.setattr(
        store_mod, "size_limit_met", lambda db: 1_000_000 if lim.met else real_met(db)
    )
    yield lim


def _met_after_answer(monkeypatch: pytest.MonkeyPatch, lim: _Limit, stage: str) -> None:
    """The limit is met just after the first paid call of `stage` ("plan": Claude's
    plan, "repaired plan": its repair too; "keyframe": an image generated; "clip": a
    job created; "finished clip": a job seen finished) has answered, before anything of
    its answer is recorded."""
    real = Pipeline._settle_errors

    async def settle(self: Pipeline, row: int | None, call: Any, *a: Any, **kw: Any) -> Any:
        out = await real(self, row, call, *a, **kw)
        if row is not None and lim.armed and self.gate.store.ledger_row(row)["stage"] == stage:
            lim.met, lim.armed = True, False
        return out

    from mindmovie.providers.anthropic import ClaudePlanner

    real_plan = ClaudePlanner.plan

    async def planned(self: ClaudePlanner, *a: Any, **kw: Any) -> Any:
        out = await real_plan(self, *a, **kw)
        if lim.armed:
            lim.met, lim.armed = True, False
        return out

    real_settle_job = Pipeline._settle_job

    async def job_done(self: Pipeline, row: int | None, *a: Any) -> Any:
        if row is not None and lim.armed:
            lim.met, lim.armed = True, False
        return await real_settle_job(self, row, *a)

    if stage.endswith("plan"):
        monkeypatch.setattr(ClaudePlanner, "plan", planned)
    elif stage == "finished clip":
        monkeypatch.setattr(Pipeline, "_settle_job", job_done)
    else:
        monkeypatch.setattr(Pipeline, "_settle_errors", settle)


def _one_scene(sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-scene goals.yaml, the simulated Claude answering a plan for it, small media
    and quick jobs, no waits between retries."""
    no_retry_waits(monkeypatch)
    sim.media_scale = 0.25
    sim.job_seconds = 0.3
    goals = tmp_path / "goals.yaml"
    goals.write_text("title: One\ngoals:\n  - category: health\n    vision: I run\n")
    claude_answer_for(sim, goals)
    return goals


class _Told(NullReporter):
    def __init__(self) -> None:
        self.told: list[str] = []

    def info(self, text: str) -> None:
        self.told.append(text)


@pytest.mark.parametrize(
    ("preset", "stage"),
    [
        ("byteplus", "plan"),  # Claude's plan
        ("byteplus", "repaired plan"),  # its first answer and the repair, both paid
        ("byteplus", "keyframe"),  # a Seedream image
        ("byteplus", "clip"),  # a Seedance task (its list finds it too)
        ("google", "keyframe"),  # a Gemini image
        ("google", "clip"),  # a Veo operation: no list finds it
        ("google", "finished clip"),  # its bill and clip.mp4: its job polled again
    ],
)
async def test_a_paid_answer_run_db_could_not_record_is_not_bought_again(
    sim: SimServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: _Limit,
    preset: str,
    stage: str,
) -> None:
    """run.db (or its -wal) reached the file size limit just after a paid call answered:
    the render stopped with the limit's one line, as it should, but the answer was not
    recorded (the image or plan saved in its place, a clip job's id in memory only),
    and the next render, the limit raised, bought it again: a second image, plan or
    Veo operation for the same scene. The answer is described in a receipt beside
    run.db (kept/receipts/) that the next render takes up: one paid call per stage,
    its ledger row billed once, and the movie made."""
    goals = _one_scene(sim, tmp_path, monkeypatch)
    # (Claude plans only where the plan is the answer tested: the rest plan offline)
    planned = 2 if stage == "repaired plan" else int(stage == "plan")
    if planned == 2:
        sim.add_fault("invalid", path="/v1/messages", field="image_prompt")  # (once)
    local = {"planner": {"provider": "local"}}
    s = settings_for(preset, sim, **({} if planned else local))
    run = tmp_path / "run"
    _met_after_answer(monkeypatch, limit, stage)
    with pytest.raises(DiskFull) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert limit.failed, "the limit was never met"
    assert "file size limit" in str(e.value) and "ulimit -f" in str(e.value), e.value
    limit.met = False  # the limit raised
    # `estimate` (and `status`, of the same read-only journal) count what the render
    # then asks about: the answer taken up, not bought
    priced = estimate_for(goals, s, out=run).total
    told, asked = _Told(), AgreeingAsked()
    res = await Pipeline(goals, s, out=run, keys=KEYS, reporter=told, confirm=asked).run()
    assert res.movie is not None and res.movie.is_file()
    assert asked == ([pytest.approx(priced)] if priced else []), (asked, priced)
    totals = sim.stats()["totals"]
    assert (totals["messages"], totals["images"], totals["jobs_created"]) == (planned, 1, 1), totals
    for st in ("plan", "keyframe", "clip")[int(not planned) :]:  # (each call billed once)
        rows = ledger_rows(run, st)
        assert [r["state"] for r in rows] == ["billed"] * max(1, planned * (st == "plan")), rows
    # (of a finished clip, its bill's receipt: the job was journaled, and is polled)
    assert [t for t in told.told if "not bought again" in t], told.told
    assert not list((run / "kept").glob("receipts/*"))


@contextlib.contextmanager
def _real_limit_after_answer(
    monkeypatch: pytest.MonkeyPatch, stage: str, run: Path
) -> Iterator[list[int]]:
    """This process's file size limit (`ulimit -f`, RLIMIT_FSIZE) set, just after the
    first paid call of `stage` answered, to the size run.db's biggest file has then
    (its next write fails with EFBIG, which SQLite says as IOERR_WRITE): the limit met
    for real, not said by a stand-in. Put back at the end. Yields the limit set."""
    import resource
    import signal

    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    was = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # (Python's own default)
    set_to: list[int] = []
    real = Pipeline._settle_errors

    async def settle(self: Pipeline, row: int | None, call: Any, *a: Any, **kw: Any) -> Any:
        out = await real(self, row, call, *a, **kw)
        if row is not None and not set_to and self.gate.store.ledger_row(row)["stage"] == stage:
            biggest = max(p.stat().st_size for p in run.glob("run.db*"))
            set_to.append(biggest)
            resource.setrlimit(resource.RLIMIT_FSIZE, (biggest, hard))
        return out

    monkeypatch.setattr(Pipeline, "_settle_errors", settle)
    try:
        yield set_to
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, was)
        monkeypatch.setattr(Pipeline, "_settle_errors", real)


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="RLIMIT_FSIZE as Linux has it")
@pytest.mark.parametrize(("preset", "stage"), [("byteplus", "keyframe"), ("google", "clip")])
async def test_the_real_file_size_limit_met_by_run_db_after_an_answer_is_taken_up_next_render(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preset: str, stage: str
) -> None:
    """As `test_a_paid_answer_run_db_could_not_record_is_not_bought_again`, under a real
    `ulimit -f`: SQLite's write of run.db's -wal fails with EFBIG where the stand-in
    raised its error, and the keyframe (a few kB, under the limit) and the receipt are
    written all the same."""
    goals = _one_scene(sim, tmp_path, monkeypatch)
    s = settings_for(preset, sim, planner={"provider": "local"})
    run = tmp_path / "run"
    with (
        _real_limit_after_answer(monkeypatch, stage, run) as set_to,
        pytest.raises(DiskFull) as e,
    ):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert set_to, "no paid answer"
    assert "file size limit" in str(e.value), e.value
    told = _Told()
    res = await Pipeline(goals, s, out=run, keys=KEYS, reporter=told).run()
    assert res.movie is not None and res.movie.is_file()
    totals = sim.stats()["totals"]
    assert (totals["images"], totals["jobs_created"]) == (1, 1), totals
    assert {r["state"] for r in ledger_rows(run, stage)} == {"billed"}
    # the write the limit refused was the answer's record, as with the stand-in
    assert [t for t in told.told if f"'s {stage}" in t and "not bought again" in t], told.told


async def test_a_keyframe_larger_than_the_limit_is_said_paid_for_and_not_kept(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file size limit below the picture's size: the image, answered and billed,
    can be written nowhere (not in its place, nor under kept/; run.db is not what is
    full, so its bill is recorded). The render's one line said "finished work is kept"
    all the same, and the next render bought the image again unannounced: the line
    says which paid answer was not kept and that the next render buys it again."""
    from mindmovie import pipeline

    goals = _one_scene(sim, tmp_path, monkeypatch)
    s = settings_for("google", sim, planner={"provider": "local"})
    run = tmp_path / "run"
    real_write = pipeline.atomic_write_bytes

    def too_large(path: Path, data: bytes) -> None:
        if path.name == "keyframe.png":
            raise OSError(errno.EFBIG, os.strerror(errno.EFBIG), str(path))
        real_write(path, data)

    def kept_too_large(self: Store, *a: Any) -> None:
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

    with monkeypatch.context() as m:
        m.setattr(pipeline, "atomic_write_bytes", too_large)
        m.setattr(Store, "keep_result", kept_too_large)
        with pytest.raises(DiskFull) as e:
            await Pipeline(goals, s, out=run, keys=KEYS).run()
    said = str(e.value)
    assert "file size limit" in said, said
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed", row  # (what it cost is counted)
    lost = f"{row['scene_id']}'s keyframe"
    assert f"Paid for and not kept, as it could be written nowhere: {lost}" in said, said
    assert "the next render buys it again" in said, said


async def test_a_seedream_url_kept_with_a_bill_run_db_could_not_record_is_downloaded_not_bought(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: _Limit
) -> None:
    """A Seedream image (response_format url) whose download kept failing is billed and
    its URL kept on its row, for the next render to download. run.db at the limit just
    then: the bill and the URL were lost with it, the row left committed, and the next
    render bought a second image. The bill's receipt keeps both."""
    goals = _one_scene(sim, tmp_path, monkeypatch)
    s = seedream_by_url(sim)
    run = tmp_path / "run"
    sim.add_fault("http", path="/_sim/files/", method="GET", status=500, count=None)
    real_bill = Store.ledger_bill

    def bill(self: Store, row_id: int, usd: float, usage: dict[str, Any] | None) -> None:
        if (usage or {}).get("result_url") and limit.armed:
            limit.met, limit.armed = True, False
        real_bill(self, row_id, usd, usage)

    monkeypatch.setattr(Store, "ledger_bill", bill)
    with pytest.raises(DiskFull):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert limit.failed and sim.stats()["totals"]["images"] == 1
    limit.met = False
    sim.clear_faults()
    told = _Told()
    res = await Pipeline(goals, s, out=run, keys=KEYS, reporter=told).run()
    assert res.movie is not None and res.movie.is_file()
    assert sim.stats()["totals"]["images"] == 1  # downloaded from its URL, not bought
    (row,) = ledger_rows(run, "keyframe")
    assert row["state"] == "billed", row
    assert [t for t in told.told if "downloaded from the URL kept" in t], told.told


async def test_render_fresh_carries_a_veo_job_only_a_receipt_holds(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: _Limit
) -> None:
    """A Veo job whose id run.db could not record (its receipt holds it), then `render
    --fresh`: its spend question counted the job as held for the jobs "this run takes
    over" (the read-only copy takes receipts up), but the carry opened the set-aside
    run.db for writing and never took them: the job was not carried, the fresh run
    bought a second one, and the receipt stayed in previous/ for no render to take."""
    goals = _one_scene(sim, tmp_path, monkeypatch)
    s = settings_for("google", sim, planner={"provider": "local"})
    run = tmp_path / "run"
    _met_after_answer(monkeypatch, limit, "clip")
    with pytest.raises(DiskFull):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    assert list(run.glob("kept/receipts/clip-*.json")), "no receipt"
    limit.met = False
    asked = AgreeingAsked()
    # (--until clips: the clip, not the movie's compose, is what is looked at)
    await Pipeline(goals, s, out=run, keys=KEYS, confirm=asked).run(fresh=True, until="clips")
    assert sim.stats()["totals"]["jobs_created"] == 1, sim.stats()["totals"]
    (row,) = ledger_rows(run, "clip")
    assert row["state"] == "billed" and row["usage"].get("carried_from"), row
    assert not list(run.glob("previous/*/kept/receipts/*.json"))


async def test_a_veo_job_no_receipt_could_take_is_named_in_the_last_line(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: _Limit
) -> None:
    """run.db at the limit just after a Veo job was made, and its receipt not written
    either (the disk full): the line said "finished work is kept" and named only plans
    and keyframes lost so, while the next render buys the job again (Veo lists none).
    It names the job: its scene, its id, about what it cost, and what comes of it."""
    goals = _one_scene(sim, tmp_path, monkeypatch)
    s = settings_for("google", sim, planner={"provider": "local"})
    run = tmp_path / "run"
    real_commit = store_mod.commit_file

    def disk_full(tmp: Path, dest: Path, *a: Any, **kw: Any) -> Any:
        if dest.parent.name == "receipts":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest))
        return real_commit(tmp, dest, *a, **kw)

    monkeypatch.setattr(store_mod, "commit_file", disk_full)
    _met_after_answer(monkeypatch, limit, "clip")
    with pytest.raises(DiskFull) as e:
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    said, limit.met = str(e.value), False  # (the ledger read in a copy, as status does)
    (job,) = sim.jobs()
    (row,) = ledger_rows(run, "clip")
    assert not list(run.glob("kept/receipts/*")) and not row["remote_id"], row
    assert "file size limit" in said, said
    assert f"{row['scene_id']}'s, {job.name} (about $" in said, said
    assert "the next render buys it again, as google lists no jobs" in said, said


async def test_a_keyframe_only_a_receipt_holds_needs_no_key_to_finish_the_run(
    sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: _Limit
) -> None:
    """The Seedream image was answered and saved, its record left to a receipt; then
    the run is rendered again without ARK_API_KEY (another machine), its plan and clip
    local. The key check before the lock read run.db with the receipt taken up (no
    image to buy: the key spared), but the check under the lock read it before the
    receipt was taken (its row in flight: the key needed) and refused the render for
    a key nothing is sent with. Both read it with the receipts taken up."""
    goals = _one_scene(sim, tmp_path, monkeypatch)
    s = settings_for("byteplus", sim, planner={"provider": "local"}, video={"provider": "local"})
    run = tmp_path / "run"
    _met_after_answer(monkeypatch, limit, "keyframe")
    with pytest.raises(DiskFull):
        await Pipeline(goals, s, out=run, keys=KEYS).run()
    limit.met = False
    res = await Pipeline(goals, s, out=run, keys=Keys()).run(until="keyframes")
    assert res.failed == {}, res.failed
    assert sim.stats()["totals"]["images"] == 1
    assert [r["state"] for r in ledger_rows(run, "keyframe")] == ["billed"]
