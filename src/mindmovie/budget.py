"""The budget gate: the one place that decides whether a paid call may be sent.

Before every paid call (first tries, retries and re-submissions alike) the gate checks
`billed + committed + this call's estimate <= budget` and, in the same step, records the
call as committed in the ledger. "Estimate" here is the call's hold: the most it can bill
(the estimate plus what a bill can come in above it: Seedance's extra frame, Gemini's
input tokens, the planner's max_tokens), so the cap holds for real bills, not just for
estimates. The pipeline runs on one asyncio loop and nothing here
awaits between the check and the write, so concurrent scenes cannot race past the cap.
When the cap would be crossed, the call waits for this run's in-flight calls to settle
(their real bill is often below the estimate); if it still does not fit, the gate closes
for good and the run stops cleanly, keeping everything already paid for.
A call that waits is checked for the stop (Ctrl-C) again when it wakes (`check`): it
had passed the check before it waited, and was sent after the person had said stop.
A bill above its call's hold (the provider counted more than the catalog's price says
it can) is told (`on_over`), and so is the cap it took the run past: the gate can only
hold back calls, not bills, and the render had ended "done" past its --budget unsaid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from mindmovie.costs import format_usd
from mindmovie.store import Store


class BudgetExceeded(Exception):
    """The next paid call would cross the budget. The run stops; nothing is lost."""


def _call(stage: str, scene_id: str) -> str:
    """A call as the person reads it: the planner's is the run's, under run.db's scene id
    "_run" (an id of the journal's, said as "plan for _run" before), not a scene's."""
    return "the plan" if scene_id == "_run" else f"{stage} for {scene_id}"


class BudgetGate:
    """Reserve, then settle (bill or refund) every paid call of one run."""

    def __init__(
        self,
        store: Store,
        cap: float | None,
        on_change: Callable[[float, float, float], None] | None = None,
        check: Callable[[], None] | None = None,
        on_wait: Callable[[str, str, bool], None] | None = None,
        on_over: Callable[[str], None] | None = None,
    ) -> None:
        """`check` raises when no new call may be sent any more (the pipeline's stop):
        called before each call is let through, after any wait. `on_wait(scene_id,
        stage, waiting)`: a call begins (True) or ends (False) waiting for room, which
        can be minutes (a clip job in flight); the live view said it was being sent.
        `on_over(text)`: a call was billed above its hold (a warning for the person)."""
        self.store = store
        self.cap = cap
        self.on_change = on_change
        self.check = check
        self.on_wait = on_wait
        self.on_over = on_over
        self._cond = asyncio.Condition()
        #: ledger rows this run reserved and has not settled yet
        self._open: set[int] = set()
        self.closed_reason: str | None = None
        self._closed_at = ""  # the totals when it closed, for the calls stopped after
        self._told_past = False  # the cap passed (by bills, not calls) was said
        #: room kept for a scene's clip since its paid keyframe was let through (`reserve`'s
        #: `earmark`): counted by every other call while no try of the clip is in flight
        #: or of unknown outcome (its row counts then), given up once a try of it is
        #: billed; a try refunded (a retry, a refused variant) leaves it for the next
        self._earmarks: dict[str, float] = {}
        #: the open rows of clips with room kept: row -> scene
        self._earmark_rows: dict[int, str] = {}

    def totals(self) -> tuple[float, float]:
        return self.store.ledger_totals()

    async def reserve(
        self,
        scene_id: str,
        stage: str,
        provider: str,
        model: str,
        estimate: float,
        hold: float | None = None,
        *,
        origin: dict[str, str] | None = None,
        job_input: dict[str, Any] | None = None,
        earmark: float = 0.0,
    ) -> int:
        """Record the call as committed and return its ledger id, or raise BudgetExceeded.

        `hold` (>= estimate) is the most the call can bill (`costs.*_hold`): the gate
        counts that, so a bill that comes in above its estimate still stays under the cap.
        `origin`: where a video job is made, `job_input` what from (`Store.ledger_commit`).
        `earmark`: room kept, once this call is let through, for the scene's clip to come
        (a paid keyframe's, with a paid video model): the call is let through only if
        both fit. Without it every scene's keyframe was bought before the clips (the
        keyframes' slots are free sooner), and a budget for four of ten scenes bought
        ten keyframes and two clips. A scene's clip takes its earmark (let through with
        it even once the gate has closed); `release` drops one never taken.
        """
        need = max(estimate, hold if hold is not None else estimate)
        waited = False
        async with self._cond:
            while True:
                if self.check is not None:
                    self.check()  # (again after a wait: the stop may have come meanwhile)
                billed, committed = self.totals()
                mine = self._earmarks.get(scene_id, 0.0)
                kept = self._kept(scene_id)  # (the other scenes' clips)
                ask = need + (earmark if stage != "clip" else 0.0)
                fits = self.cap is None or billed + committed + kept + ask <= self.cap + 1e-9
                earmarked = stage == "clip" and mine > 0
                if self.closed_reason is not None and not earmarked:
                    # this call's own scene and stage: each stopped scene says why it
                    # stopped, not which call first hit the cap
                    raise BudgetExceeded(f"{self._closed_at}; {_call(stage, scene_id)} not started")
                if fits:
                    if stage != "clip" and earmark > 0:
                        self._earmarks[scene_id] = earmark
                    row = self.store.ledger_commit(
                        scene_id,
                        stage,
                        provider,
                        model,
                        estimate,
                        held_usd=need,
                        origin=origin,
                        job_input=job_input,
                    )
                    self._open.add(row)
                    if earmarked:
                        self._earmark_rows[row] = scene_id
                    self._changed()
                    if waited and self.on_wait is not None:
                        self.on_wait(scene_id, stage, False)
                    return row
                if self._open:
                    # (a clip with room kept, the gate closed, too: a try of another in
                    # flight at its hold may bill less, as before the gate closed)
                    if not waited and self.on_wait is not None:
                        self.on_wait(scene_id, stage, True)
                    waited = True
                    await self._cond.wait()  # an in-flight call may come in under its estimate
                    continue
                if self.closed_reason is not None:  # (with room kept, nothing to wait for)
                    raise BudgetExceeded(f"{self._closed_at}; {_call(stage, scene_id)} not started")
                assert self.cap is not None  # (no cap: every call fits)
                # in cents a call just over the cap read as if it fit ("budget $0.67
                # reached: billed $0.56, ... needs up to $0.10"): then to a hundredth of one
                cents = round(billed, 2) + round(committed + kept, 2) + round(ask, 2)
                exact = cents <= round(self.cap, 2) + 1e-9
                self._closed_at = (
                    f"budget {format_usd(self.cap, exact=exact)} reached: billed "
                    f"{format_usd(billed, exact=exact)}, unsettled "
                    f"{format_usd(committed, exact=exact)}"
                ) + (f", kept for clips to come {format_usd(kept, exact=exact)}" if kept else "")
                clip = f" and its clip {format_usd(ask - need, exact=exact)}" * (ask > need)
                self.closed_reason = (
                    f"{self._closed_at}; the next call ({_call(stage, scene_id)}) "
                    f"needs up to {format_usd(need, exact=exact)}{clip}"
                )
                raise BudgetExceeded(self.closed_reason)

    def _kept(self, scene_id: str) -> float:
        """The room kept for the other scenes' clips that no try of theirs in flight
        counts already."""
        trying = set(self._earmark_rows.values())
        return sum(
            usd for sid, usd in self._earmarks.items() if sid != scene_id and sid not in trying
        )

    def release(self, scene_id: str) -> None:
        """Drop the room kept for `scene_id`'s clip (`reserve`'s `earmark`): its scene
        ended (failed, stopped, the clip kept from before, or made). A call waiting for
        room waits for an in-flight call, whose settling wakes it."""
        self._earmarks.pop(scene_id, None)
        for row in [r for r, sid in self._earmark_rows.items() if sid == scene_id]:
            del self._earmark_rows[row]

    def _try_ended(self, row_id: int, *, refunded: bool) -> None:
        """A clip try with room kept ended: billed, the room is its row's (given up);
        refunded, made nothing, the room stays for the next try (a retry after a 500, a
        refused variant): taken by another scene's keyframe, it stopped a scene whose
        keyframe was paid for. (One of unknown outcome has not ended: `unknown`.)"""
        scene_id = self._earmark_rows.pop(row_id, None)
        if scene_id is not None and not refunded:
            self._earmarks.pop(scene_id, None)

    def close(self, reason: str) -> None:
        """Let no call through in this render: its budget was used up before it began
        (`reason`, what each stopped call says), and it only collects what is paid for."""
        self._closed_at = self.closed_reason = reason

    async def wake(self) -> None:
        """Wake the calls waiting for room (the stop: each raises at its `check`, and
        does not wait for in-flight calls to settle, which a stopped render may not)."""
        async with self._cond:
            self._cond.notify_all()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(*self.store.ledger_split())

    async def _settled(self, row_id: int) -> None:
        async with self._cond:
            self._open.discard(row_id)
            self._cond.notify_all()
        self._changed()
        self._tell_over(row_id)

    def _tell_over(self, row_id: int) -> None:
        """Say a bill above what was held for its call, and the cap the run went past
        (once: by such a bill, or a job the provider made unasked, `Store.ledger_add_job`)."""
        if self.on_over is None:
            return
        said: list[str] = []
        row = self.store.ledger_row(row_id)
        if row is not None and row["state"] == "billed":
            billed = float(row["billed_usd"] or 0.0)
            held = float(row["held_usd"] if row["held_usd"] is not None else row["estimated_usd"])
            if billed > held + 1e-9:
                said.append(
                    f"{row['stage']} for {row['scene_id']} was billed {format_usd(billed)} by "
                    f"{row['provider']}, more than the {format_usd(held)} it was thought it "
                    "could cost (the catalog's price may be out of date)"
                )
        if (
            self.cap is not None
            and not self._told_past
            and (spent := self.totals()[0]) > (self.cap + 1e-9)
        ):
            self._told_past = True
            said.append(
                f"the run has now been billed {format_usd(spent)}, past its budget "
                f"{format_usd(self.cap)}: no further paid call is made"
            )
        if said:
            self.on_over("; ".join(said))

    async def bill(self, row_id: int, usd: float, usage: dict[str, Any] | None) -> None:
        self.store.ledger_bill(row_id, usd, usage)
        self._try_ended(row_id, refunded=False)
        await self._settled(row_id)

    async def settled(self, row_id: int) -> None:
        """The row was billed by the store together with its step (Store.succeed(bill=))."""
        self._try_ended(row_id, refunded=False)
        await self._settled(row_id)

    async def refund(self, row_id: int, reason: str, *, lost: dict[str, Any] | None = None) -> None:
        self.store.ledger_refund(row_id, reason, lost=lost)
        self._try_ended(row_id, refunded=True)
        await self._settled(row_id)

    async def unknown(self, row_id: int) -> None:
        """This run stops waiting on the call; its outcome is unknown, so it stays committed.
        A clip try's room stays its row's (counted by the row): a create whose answer was
        lost (a 500, a dropped connection) is refunded once no job is listed for it, and
        its retry then has its room again; the room given up here stopped a scene whose
        keyframe was paid for."""
        await self._settled(row_id)

    def adopt(self, remote_id: str) -> int | None:
        """The ledger row of a job submitted by an earlier run (resume), if any.

        A still-committed row becomes this run's to settle: a call that does not fit
        waits for it (its bill may come in under the hold) instead of stopping early.
        """
        row = self.store.ledger_by_remote(remote_id)
        if row is None:
            return None
        if row["state"] == "committed":
            self._open.add(int(row["id"]))
        return int(row["id"])
