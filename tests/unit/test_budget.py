"""The budget gate on its own: holds, waiting for calls in flight, adopted jobs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mindmovie.budget import BudgetExceeded, BudgetGate
from mindmovie.store import Store


async def test_a_call_that_does_not_fit_waits_for_an_adopted_job(tmp_path: Path) -> None:
    """A job an earlier run submitted (resumed now) is in flight at its hold; a new call
    that does not fit beside it waits for it to settle instead of stopping the run."""
    st = Store(tmp_path / "run.db")
    earlier = st.ledger_commit("s1", "clip", "byteplus", "m", 1.0, held_usd=1.2)
    st.ledger_set_remote(earlier, "cgt-1")
    gate = BudgetGate(st, cap=2.0)
    assert gate.adopt("cgt-1") == earlier
    # 1.2 held + 0.9 > 2.0: it must wait ...
    task = asyncio.create_task(gate.reserve("s2", "clip", "byteplus", "m", 0.9))
    await asyncio.sleep(0.05)
    assert not task.done()
    # ... and fits once the adopted job is billed under its hold (1.0 + 0.9 <= 2.0)
    await gate.bill(earlier, 1.0, {"completion_tokens": 1})
    row = await asyncio.wait_for(task, 1.0)
    assert st.ledger_totals() == (pytest.approx(1.0), pytest.approx(0.9)) and row != earlier
    st.close()


async def test_the_gate_counts_holds_and_closes_when_nothing_is_in_flight(
    tmp_path: Path,
) -> None:
    st = Store(tmp_path / "run.db")
    gate = BudgetGate(st, cap=1.0)
    first = await gate.reserve("s1", "clip", "byteplus", "m", 0.5, hold=0.6)
    # 0.6 held + 0.45 > 1.0 although the estimates (0.5 + 0.45) would fit
    task = asyncio.create_task(gate.reserve("s2", "clip", "byteplus", "m", 0.45))
    await asyncio.sleep(0.05)
    assert not task.done()
    await gate.bill(first, 0.6, None)  # billed at its hold: still no room
    with pytest.raises(BudgetExceeded, match=r"the next call \(clip for s2\) needs up to"):
        await asyncio.wait_for(task, 1.0)
    # closed for good: no later call slips through, and each says it is its own scene
    # that was stopped (every stopped scene used to name s2's call)
    with pytest.raises(BudgetExceeded) as e:
        await gate.reserve("s3", "keyframe", "byteplus", "m", 0.01)
    assert str(e.value) == (
        "budget $1.00 reached: billed $0.60, unsettled $0.00; keyframe for s3 not started"
    )
    st.close()


async def test_a_call_that_fills_the_budget_to_the_cent_is_sent(tmp_path: Path) -> None:
    """The cap is spendable to the last cent (float sums like 0.1 + 0.2 included), an
    estimate above a lower hold is still counted, and every change is reported."""
    st = Store(tmp_path / "run.db")
    seen: list[tuple[float, float]] = []
    gate = BudgetGate(st, cap=0.3, on_change=lambda b, c, u: seen.append((b, c + u)))
    first = await gate.reserve("s1", "clip", "byteplus", "m", 0.1)
    await gate.bill(first, 0.1, None)
    await gate.reserve("s2", "clip", "byteplus", "m", 0.2)  # 0.1 + 0.2 == 0.3: fits
    assert [(round(b, 6), round(c, 6)) for b, c in seen] == [(0, 0.1), (0.1, 0), (0.1, 0.2)]
    # a hold below the estimate does not let a call slip past the cap on its hold
    roomy = BudgetGate(Store(tmp_path / "other.db"), cap=1.0)
    with pytest.raises(BudgetExceeded, match=r"needs up to \$1\.50"):
        await roomy.reserve("s1", "clip", "byteplus", "m", 1.5, hold=0.5)
    roomy.store.close()
    st.close()


async def test_adopting_a_settled_or_unknown_job_does_not_make_a_call_wait(
    tmp_path: Path,
) -> None:
    """Only a job still in flight is waited for: an id the ledger does not know is no
    row, and a job already billed cannot free room, so a call that does not fit stops
    the run at once instead of waiting forever."""
    st = Store(tmp_path / "run.db")
    earlier = st.ledger_commit("s1", "clip", "byteplus", "m", 1.0, held_usd=1.0)
    st.ledger_set_remote(earlier, "cgt-1")
    st.ledger_bill(earlier, 1.0, None)
    gate = BudgetGate(st, cap=1.5)
    assert gate.adopt("cgt-unknown") is None
    assert gate.adopt("cgt-1") == earlier
    with pytest.raises(BudgetExceeded):
        await asyncio.wait_for(gate.reserve("s2", "clip", "byteplus", "m", 0.9), 1.0)
    st.close()


async def test_a_call_let_through_keeps_its_origin_and_input_and_ends_its_wait(
    tmp_path: Path,
) -> None:
    """What the gate records is what a later render acts on: where the clip job is made
    (`origin`) and what from (`job_input`: a late job goes to the scene that asked for
    it, not bought again). A call that waited for room says when it stops waiting (the
    live view showed it waiting for the rest of the render)."""
    st = Store(tmp_path / "run.db")
    waits: list[tuple[str, str, bool]] = []
    gate = BudgetGate(st, cap=1.0, on_wait=lambda s, stage, w: waits.append((s, stage, w)))
    first = await gate.reserve("s1", "clip", "byteplus", "m", 0.6)
    key = "ab" * 16
    task = asyncio.create_task(
        gate.reserve(
            "s2",
            "clip",
            "byteplus",
            "m",
            0.5,
            origin={"base_url": "http://127.0.0.1:1/api/v3"},
            job_input={"input_key": key, "seconds": 5},
        )
    )
    await asyncio.sleep(0.05)
    assert waits == [("s2", "clip", True)]
    await gate.bill(first, 0.4, None)
    row = await asyncio.wait_for(task, 1.0)
    assert waits == [("s2", "clip", True), ("s2", "clip", False)]
    assert st.job_origin(row) == {"base_url": "http://127.0.0.1:1/api/v3"}
    assert st.job_input(row) == (key, 5.0)
    st.close()


async def test_a_budget_passed_by_a_job_booked_outside_the_gate_is_told_once(
    tmp_path: Path,
) -> None:
    """A job the provider made unasked is booked without the gate (`ledger_add_job`):
    its bill can take the run past the cap although no call went over its hold. That
    was said nowhere; now once, when the next call settles, and not again."""
    st = Store(tmp_path / "run.db")
    told: list[str] = []
    gate = BudgetGate(st, cap=1.0, on_over=told.append)
    ours = await gate.reserve("s1", "clip", "byteplus", "m", 0.5)
    unasked = st.ledger_commit("s2", "clip", "byteplus", "m", 0.6)
    st.ledger_bill(unasked, 0.6, None)
    await gate.bill(ours, 0.5, None)
    assert told == ["the run has now been billed $1.10, past its budget $1.00: no further "
                    "paid call is made"]  # fmt: skip
    other = st.ledger_commit("s3", "keyframe", "byteplus", "m", 0.03)
    gate._open.add(other)
    await gate.bill(other, 0.03, None)
    assert len(told) == 1
    st.close()


async def test_a_planner_call_the_budget_stops_is_named_the_plan(tmp_path: Path) -> None:
    """The planner's call is the run's, kept under run.db's scene id "_run": a budget
    that stopped it said `the next call (plan for _run)` to the person, an id of the
    journal's own. It is named the plan, as `status` names its row "(planner)"."""
    st = Store(tmp_path / "run.db")
    gate = BudgetGate(st, cap=0.001)
    with pytest.raises(BudgetExceeded) as e:
        await gate.reserve("_run", "plan", "anthropic", "m", 0.0078, hold=0.03)
    assert "the next call (the plan) needs up to $0.03" in str(e.value), str(e.value)
    with pytest.raises(BudgetExceeded) as e:
        await gate.reserve("_run", "plan", "anthropic", "m", 0.0078)
    assert str(e.value).endswith("; the plan not started"), str(e.value)
    st.close()


def test_lines_of_a_render_fresh_under_way_say_to_resume_without_fresh() -> None:
    """`without_fresh`: the lines a stopped or failed `render --fresh` ends with, once
    its new run had begun. Taken at their word ("the same command", "render again"),
    --fresh again set that run aside and bought its plan and keyframes again."""
    from mindmovie.pipeline import STOPPED, without_fresh

    assert without_fresh(STOPPED).endswith("; run the same command again without --fresh to resume")
    budget = "Everything paid for is kept: render again with a bigger --budget to finish."
    assert without_fresh(budget) == (
        "Everything paid for is kept: render again without --fresh with a bigger --budget "
        "to finish."
    )
    assert without_fresh(without_fresh(budget)) == without_fresh(budget)
    other = "the compose failed: the next render makes them again"
    assert without_fresh(other) == (
        f"{other} (to resume, render again without --fresh: with it, a render starts over)"
    )


@pytest.mark.parametrize(
    ("given", "variable", "said"),
    [
        (2.0, "1", "--budget"),
        (None, "1", "budget_usd (set in environment (MINDMOVIE_BUDGET_USD); or give --budget)"),
        (None, None, "--budget"),
    ],
)
def test_a_budget_stop_names_the_cap_as_it_was_set(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    given: float | None,
    variable: str | None,
    said: str,
) -> None:
    """A cap set by MINDMOVIE_BUDGET_USD stopped the render with "Raise --budget", a flag
    the person had not given: the stop names the cap where it was set."""
    from mindmovie.cli import _budget_named

    monkeypatch.chdir(tmp_path)  # no config.yaml, no .env
    monkeypatch.delenv("MINDMOVIE_CONFIG", raising=False)
    if variable is None:
        monkeypatch.delenv("MINDMOVIE_BUDGET_USD", raising=False)
    else:
        monkeypatch.setenv("MINDMOVIE_BUDGET_USD", variable)
    assert _budget_named(given, None) == said


async def test_room_kept_for_a_clip_waits_out_the_closed_gate_and_outlives_a_refund(
    tmp_path: Path,
) -> None:
    """A paid keyframe keeps room for its scene's clip (`earmark`). That room was given up
    at the clip's first try: a try refunded (a 500, a refused variant) left the retry to
    compete, and another scene's keyframe or the closed gate stopped a scene whose
    keyframe was paid for (a 500's try, outcome unknown and then refunded, too). And once
    the gate had closed, a clip with room that did not
    fit beside a try in flight at its hold raised at once, where before the close it
    waited for that try to bill (under its hold)."""
    st = Store(tmp_path / "run.db")
    gate = BudgetGate(st, cap=1.0)
    # s1 and s2: a keyframe 0.1 each, room kept for a 0.3 clip each (0.8 of 1.0)
    k1 = await gate.reserve("s1", "keyframe", "byteplus", "m", 0.1, earmark=0.3)
    k2 = await gate.reserve("s2", "keyframe", "byteplus", "m", 0.1, earmark=0.3)
    for row in (k1, k2):
        await gate.bill(row, 0.1, None)
    # s3's keyframe and clip do not fit beside the room kept: the gate closes
    with pytest.raises(BudgetExceeded, match="kept for clips to come"):
        await gate.reserve("s3", "keyframe", "byteplus", "m", 0.1, earmark=0.3)
    # s1's clip is let through the closed gate; its first try made nothing (refunded)
    c1 = await gate.reserve("s1", "clip", "byteplus", "m", 0.3, hold=0.35)
    await gate.refund(c1, "500, no job")
    # its retry still has its room; so has the next, after a try whose answer was lost
    # (a 500: outcome unknown, refunded once no job is listed for it)
    c1 = await gate.reserve("s1", "clip", "byteplus", "m", 0.3, hold=0.35)
    await gate.unknown(c1)
    await gate.refund(c1, "never reached the provider (no job found)")
    c1 = await gate.reserve("s1", "clip", "byteplus", "m", 0.3, hold=0.35)
    # s2's clip at its hold does not fit beside s1's in flight at its hold (0.2 billed +
    # 0.35 + 0.5 > 1.0): it waits for it, though the gate is closed ...
    task = asyncio.create_task(gate.reserve("s2", "clip", "byteplus", "m", 0.3, hold=0.5))
    await asyncio.sleep(0.05)
    assert not task.done()
    await gate.bill(c1, 0.3, None)  # ... and fits once it bills under its hold
    await asyncio.wait_for(task, 1.0)
    # a clip with no room kept is stopped by the closed gate, and so is one whose
    # room was given up with its scene's end
    gate.release("s2")
    with pytest.raises(BudgetExceeded, match="clip for s3 not started"):
        await gate.reserve("s3", "clip", "byteplus", "m", 0.01)
    st.close()
