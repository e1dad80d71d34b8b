"""Chaos soak: the chaos test's kill loop (tests/integration/test_chaos.py), for longer.

Each schedule renders a fresh run directory against the in-process provider simulator
(byteplus preset: Claude planner, Seedream keyframes, Seedance video; 4 scenes of 4 s at
320x180/12 fps), SIGKILLs the `mindmovie render` subprocess at random instants until a
render outlives its kill, then renders to the end and checks the promise: a valid movie,
exactly one video job per scene, each paid step billed exactly once, every other paid
call left committed (unknown outcome) and reported. Every schedule's seed is printed;
replay one with `CHAOS_SEED=<seed> pytest tests/integration/test_chaos.py`.

    python bench/chaos_soak.py --cycles 200 --seed 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's tests package

from tests.integration.test_chaos import Schedule, run_schedule
from tests.sim.server import SimServer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=100, help="kills to make in total")
    ap.add_argument("--seed", type=int, default=1000, help="first schedule seed")
    ap.add_argument("--keep", action="store_true", help="keep the run directories")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mindmovie-chaos-"))
    done: list[Schedule] = []
    failed: list[tuple[int, str]] = []
    t0 = time.monotonic()
    seed = args.seed
    with SimServer() as sim:
        while sum(s.kills for s in done) < args.cycles:
            try:
                sched = run_schedule(sim, work / f"s{seed}", seed)
            except AssertionError as e:
                failed.append((seed, str(e)))
                print(f"seed {seed}: FAILED\n{e}", flush=True)
                seed += 1
                continue
            except Exception:
                failed.append((seed, traceback.format_exc()))
                print(f"seed {seed}: ERROR\n{traceback.format_exc()}", flush=True)
                seed += 1
                continue
            done.append(sched)
            phases = ", ".join(c.phase for c in sched.cycles if c.killed)
            t = sched.totals
            print(
                f"seed {seed}: {sched.kills} kills ({phases}); {sched.seconds:.1f} s; "
                f"jobs {t['jobs_created']}, images {t['images']}, messages {t['messages']}; "
                f"unknown rows: keyframe {sched.unknown_keyframes}, plan {sched.unknown_plans}",
                flush=True,
            )
            seed += 1
    wall = time.monotonic() - t0
    kills = sum(s.kills for s in done)
    hit = Counter(c.phase for s in done for c in s.cycles if c.killed)
    extra_images = sum(s.totals["images"] - 4 for s in done)
    extra_messages = sum(s.totals["messages"] - 1 for s in done)
    print()
    print(f"schedules: {len(done)} passed, {len(failed)} failed (seeds {args.seed}..{seed - 1})")
    print(f"kills: {kills} in {wall:.0f} s ({wall / max(1, kills):.2f} s per kill, all included)")
    print("killed during: " + ", ".join(f"{k} {v}" for k, v in hit.most_common()))
    print(
        f"extra paid calls (each reported as unknown): images {extra_images} "
        f"(unknown keyframe rows {sum(s.unknown_keyframes for s in done)}), planner "
        f"{extra_messages} (unknown plan rows {sum(s.unknown_plans for s in done)}); "
        f"video jobs created twice: {sum(s.totals['jobs_created'] - 4 for s in done)}"
    )
    for s, msg in failed:
        print(f"FAILED seed {s}: replay with CHAOS_SEED={s}\n{msg}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"run directories kept in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
