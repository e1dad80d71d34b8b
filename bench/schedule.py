"""Benchmark the keyframe -> video schedule against the ideal schedule for the same limits.

Each scene is a keyframe job (Seedream, latency K) followed by a video job (Seedance,
latency V). The pipeline gives each remote provider's *stage* its own limit
(`Pipeline._sem(provider, stage)`: `providers.byteplus.max_concurrent` = C keyframe slots
and C video slots), and a video slot is given back when the job is done, before the
download. Identical jobs on two stages of C slots each: first-come first-served on both
stages is optimal, so the ideal makespan is `split` below. For reference the table also
shows the ideal for one limit shared by both stages (how the pipeline worked before:
`optimal`, found by search, and the FIFO policy it used, `fifo`).

The real pipeline (`Pipeline.run(until="clips")`, byteplus preset, simulated Claude
planner) runs against an in-process SimServer: image requests are delayed K s by a
"delay" fault on /images/generations (count=None), video jobs take V s (job_seconds).
Measured = wall time from the start of the keyframe stage to the last clip on disk.

    python bench/schedule.py                       # the default scenarios
    python bench/schedule.py --n 10 --c 3 --k 0.5 --v 2 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import heapq
import math
import multiprocessing
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.sim / tests.integration.support

from mindmovie.pipeline import Pipeline  # noqa: E402
from mindmovie.progress import NullReporter  # noqa: E402
from tests.integration.support import KEYS, claude_answer_for, settings_for  # noqa: E402
from tests.sim.server import SimServer  # noqa: E402

DEFAULT_SCENARIOS: list[tuple[int, int, float, float]] = [
    (9, 3, 0.5, 2.0),
    (12, 4, 0.3, 1.5),
    (6, 2, 1.0, 1.0),
    (10, 3, 0.5, 2.0),  # N not a multiple of C: FIFO is no longer optimal
    (7, 3, 1.0, 1.0),
]
TARGET = 1.10


# ---------------------------------------------------------------- the ideal schedule
def simple_bounds(n: int, c: int, k: float, v: float) -> tuple[float, float]:
    """(lower, upper): max(K+V, N(K+V)/C) <= optimum <= ceil(N/C)(K+V)."""
    return max(k + v, n * (k + v) / c), math.ceil(n / c) * (k + v)


def optimal(n: int, c: int, k: float, v: float) -> float:
    """Exact optimal makespan of N chains (K then V) on C shared slots, no preemption.

    Some optimal schedule starts every job at time 0 or when another job ends (shift each
    job left until its own keyframe or a slot blocks it), and jobs of one kind are
    interchangeable, so a state is (keyframes not started, videos ready, remaining times
    of the running jobs). At each such instant try every (a keyframes, b videos) to start,
    including none, then jump to the next completion; memoised depth-first search.
    """
    eps = 1e-9

    @cache
    def best(kf_left: int, ready: int, running: tuple[tuple[float, str], ...]) -> float:
        if kf_left == 0 and ready == 0 and not running:
            return 0.0
        free = c - len(running)
        result = math.inf
        for a in range(min(free, kf_left) + 1):
            for b in range(min(free - a, ready) + 1):
                run = list(running) + [(k, "k")] * a + [(v, "v")] * b
                if not run:
                    continue  # idling with nothing running never ends
                step = min(r for r, _ in run)
                done_k = sum(1 for r, t in run if t == "k" and r - step <= eps)
                rest = tuple(sorted((round(r - step, 9), t) for r, t in run if r - step > eps))
                result = min(result, step + best(kf_left - a, ready - b + done_k, rest))
        return result

    return best(n, 0, ())


def fifo(n: int, c: int, k: float, v: float) -> float:
    """Makespan of the pipeline's policy: one FIFO semaphore of C slots; all N keyframes
    queue at t=0 and each finished keyframe queues its video at the tail, behind them."""
    queue: list[str] = ["k"] * n
    ends: list[tuple[float, str]] = []  # heap of (end time, kind)
    now = 0.0
    while queue or ends:
        while queue and len(ends) < c:
            kind = queue.pop(0)
            heapq.heappush(ends, (now + (k if kind == "k" else v), kind))
        now, kind = heapq.heappop(ends)
        if kind == "k":
            queue.append("v")
    return now


def split(n: int, c: int, k: float, v: float) -> float:
    """The ideal for the pipeline's limits: C keyframe slots and C video slots.
    Identical jobs, so first-come first-served on both stages is optimal."""
    kf_slots = [0.0] * c
    v_slots = [0.0] * c
    end = 0.0
    for _ in range(n):
        i = min(range(c), key=kf_slots.__getitem__)
        kf_slots[i] += k
        j = min(range(c), key=v_slots.__getitem__)
        v_slots[j] = max(v_slots[j], kf_slots[i]) + v
        end = max(end, v_slots[j])
    return end


# ---------------------------------------------------------------- the measurement
@dataclass
class Timeline(NullReporter):
    """Reporter that timestamps step events: keyframe and clip slot holds per scene (the
    rest of a reporter's calls from NullReporter: its own copies of them fell behind
    the reporter's `money`, and the benchmark raised TypeError)."""

    t0: float = 0.0
    kf: dict[str, list[float]] = field(default_factory=dict)
    clip: dict[str, list[float]] = field(default_factory=dict)
    clip_done: dict[str, float] = field(default_factory=dict)
    clip_detect: dict[str, float] = field(default_factory=dict)

    def stage(self, stage: str, total: int) -> None:
        if stage == "keyframes":
            self.t0 = time.monotonic()

    def step(self, stage: str, scene_id: str, state: str, note: str = "") -> None:
        t = time.monotonic() - self.t0
        if stage == "keyframes" and state in ("running", "done"):
            self.kf.setdefault(scene_id, []).append(t)
        elif stage == "clips" and state in ("submitting", "done"):
            self.clip.setdefault(scene_id, []).append(t)
            if state == "done":
                self.clip_done[scene_id] = t
        elif stage == "clips" and state == "downloading":
            self.clip_detect[scene_id] = t

    def holds(self) -> list[tuple[float, float, str]]:
        """(start, end, kind) of every keyframe and clip slot hold."""
        out = [(t[0], t[-1], "k") for t in self.kf.values() if len(t) >= 2]
        return out + [(t[0], t[-1], "v") for t in self.clip.values() if len(t) >= 2]

    def max_concurrent(self) -> int:
        """Most keyframe+clip holds at one instant (should be <= C)."""
        ev = sorted([(s, 1) for s, _, _ in self.holds()] + [(e, -1) for _, e, _ in self.holds()])
        cur = top = 0
        for _, d in ev:
            cur += d
            top = max(top, cur)
        return top


@dataclass
class Run:
    """One measured run."""

    wall: float
    mean_k: float
    mean_v: float
    slots_max: int
    jobs_in_flight_max: int
    submit: float
    poll_late: float
    fetch: float
    last_kf_end: float
    first_clip: float


def goals_text(n: int) -> str:
    """N goals of one scene each."""
    body = "".join(f"  - category: growth\n    vision: Vision number {i}\n" for i in range(n))
    return f"title: Schedule bench\ngoals:\n{body}"


def _run_pipeline(goals: str, settings: object, out: str) -> dict[str, object]:
    """In the child process: run the pipeline until clips, return the step timestamps."""
    tl = Timeline()

    async def go() -> Any:
        pipe = Pipeline(Path(goals), settings, out=Path(out), keys=KEYS, reporter=tl)  # type: ignore[arg-type]
        res = await pipe.run(until="clips")
        del pipe
        gc.collect()  # the SDK clients close on this loop, not after it is gone
        await asyncio.sleep(0.05)
        return res

    res = asyncio.run(go())
    return {
        "failed": [str(f) for f in res.failed],
        "t0": tl.t0,
        "kf": tl.kf,
        "clip": tl.clip,
        "clip_done": tl.clip_done,
        "clip_detect": tl.clip_detect,
    }


def measure(
    pool: ProcessPoolExecutor, n: int, c: int, k: float, v: float, poll: float, poll_max: float
) -> Run:
    """Render N scenes until clips against a fresh SimServer; time the two stages.

    The simulator serves from this process and the pipeline runs in a child process, as
    with a real provider: otherwise the two share one interpreter lock, and every HTTP
    round trip of the client waits for the server's Python threads (and the other way).
    """
    with (
        tempfile.TemporaryDirectory(prefix="mm-sched-") as tmp,
        SimServer(job_seconds=v, media_scale=0.25) as sim,
    ):
        g = Path(tmp) / "goals.yaml"
        g.write_text(goals_text(n))
        claude_answer_for(sim, g)
        if k > 0:
            sim.add_fault("delay", path="/images/generations", seconds=k, count=None)
        settings = settings_for(
            "byteplus",
            sim,
            providers={
                "byteplus": {
                    "base_url": sim.ark_base_url,
                    "max_concurrent": c,
                    "poll_interval": poll,
                    "poll_max_interval": poll_max,
                    "job_deadline": 600,
                }
            },
        )
        data = pool.submit(_run_pipeline, str(g), settings, str(Path(tmp) / "run")).result()
        tl = Timeline(
            t0=float(data["t0"]),  # type: ignore[arg-type]
            kf=data["kf"],  # type: ignore[arg-type]
            clip=data["clip"],  # type: ignore[arg-type]
            clip_done=data["clip_done"],  # type: ignore[arg-type]
            clip_detect=data["clip_detect"],  # type: ignore[arg-type]
        )
        if data["failed"] or len(tl.clip_done) != n:
            raise RuntimeError(f"run failed: {data['failed']}")
        holds = tl.holds()
        jobs = sim.jobs()
        ks = [e - s for s, e, kind in holds if kind == "k"]
        vs = [e - s for s, e, kind in holds if kind == "v"]
        # time.monotonic is CLOCK_MONOTONIC, one clock for both processes
        return Run(
            wall=max(tl.clip_done.values()),
            mean_k=statistics.fmean(ks),
            mean_v=statistics.fmean(vs),
            slots_max=tl.max_concurrent(),
            jobs_in_flight_max=int(sim.stats()["in_flight_max"]),
            # means are order-free, so jobs need not be matched to scenes
            submit=statistics.fmean(j.created - tl.t0 for j in jobs)
            - statistics.fmean(tl.clip[s][0] for s in tl.clip),
            poll_late=statistics.fmean(tl.clip_detect.values())
            - statistics.fmean(j.finish_at() - tl.t0 for j in jobs),
            fetch=statistics.fmean(tl.clip_done[s] - tl.clip_detect[s] for s in tl.clip_detect),
            first_clip=min(s for s, _, kind in holds if kind == "v"),
            last_kf_end=max(e for _, e, kind in holds if kind == "k"),
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, help="scenes (custom scenario: give all four)")
    ap.add_argument("--c", type=int, help="providers.byteplus.max_concurrent")
    ap.add_argument("--k", type=float, help="keyframe latency, s")
    ap.add_argument("--v", type=float, help="video job latency, s")
    ap.add_argument("--repeat", type=int, default=3, help="runs per scenario (median kept)")
    ap.add_argument("--poll", type=float, default=0.05, help="poll_interval, s")
    ap.add_argument("--poll-max", type=float, default=0.2, help="poll_max_interval, s")
    ap.add_argument("--ideal-only", action="store_true", help="no pipeline runs")
    a = ap.parse_args(argv)
    custom = [a.n, a.c, a.k, a.v]
    if any(x is not None for x in custom) and None in custom:
        ap.error("a custom scenario needs --n, --c, --k and --v")
    scenarios = [(a.n, a.c, a.k, a.v)] if a.n is not None else DEFAULT_SCENARIOS

    print(
        "Ideal makespans (s). `split` = C keyframe + C video slots (the pipeline's limits, "
        "the target's ideal); the rest for one shared limit C, for reference:"
    )
    head = "| N | C | K | V | lower bound | batch | optimal | FIFO | split |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for n, c, k, v in scenarios:
        lo, batch = simple_bounds(n, c, k, v)
        print(
            f"| {n} | {c} | {k:g} | {v:g} | {lo:.2f} | {batch:.2f} | {optimal(n, c, k, v):.2f} "
            f"| {fifo(n, c, k, v):.2f} | {split(n, c, k, v):.2f} |"
        )
    if a.ideal_only:
        return 0
    # one long-lived child (spawned: a fork would copy the simulator's threads' locks)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return measured_table(pool, scenarios, a.repeat, a.poll, a.poll_max)


def measured_table(
    pool: ProcessPoolExecutor,
    scenarios: list[tuple[int, int, float, float]],
    repeat: int,
    poll: float,
    poll_max: float,
) -> int:
    """Run and print every scenario; 0 if all meet the target."""
    measure(pool, 1, 1, 0.0, 0.0, poll, poll_max)  # warm-up: sim media caches, imports
    print(
        f"\nMeasured (poll_interval {poll} s, poll_max_interval {poll_max} s; "
        f"median of {repeat} run(s)):"
    )
    head = (
        "| N | C | K | V | measured s (runs) | / ideal (split) | / shared optimal | hold K' / V' | "
        "FIFO(K',V') | video: submit / poll late / fetch | 1st clip / all kf done | "
        "slots max | target |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    met_all = True
    for n, c, k, v in scenarios:
        ideal = split(n, c, k, v)
        runs = [measure(pool, n, c, k, v, poll, poll_max) for _ in range(repeat)]
        med = sorted(runs, key=lambda r: r.wall)[len(runs) // 2]
        ratio = med.wall / ideal
        met = ratio <= TARGET
        met_all &= met
        walls = ", ".join(f"{r.wall:.2f}" for r in runs)
        print(
            f"| {n} | {c} | {k:g} | {v:g} | {med.wall:.2f} ({walls}) | {ratio:.3f} | "
            f"{med.wall / optimal(n, c, k, v):.3f} | {med.mean_k:.2f} / {med.mean_v:.2f} | "
            f"{fifo(n, c, med.mean_k, med.mean_v):.2f} | "
            f"{med.submit:.2f} / {med.poll_late:.2f} / {med.fetch:.2f} | "
            f"{med.first_clip:.2f} / {med.last_kf_end:.2f} | "
            f"{max(r.slots_max for r in runs)} (jobs {max(r.jobs_in_flight_max for r in runs)}) "
            f"| {'met' if met else 'MISSED'} |"
        )
        sys.stdout.flush()
    return 0 if met_all else 1


if __name__ == "__main__":
    raise SystemExit(main())
