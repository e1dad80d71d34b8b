"""Chaos soak: the chaos test's kill loop (tests/integration/test_chaos.py), for longer.

Each schedule renders a fresh run directory against the in-process provider simulator
(byteplus preset: Claude planner, Seedream keyframes, Seedance video; 4 scenes of 4 s at
320x180/12 fps), SIGKILLs the `mindmovie render` subprocess at random instants until a
render outlives its kill, then renders to the end and checks the promise: a valid movie,
exactly one video job per scene, each paid step billed exactly once, every other paid
call left committed (unknown outcome) and reported. Every schedule's seed is printed;
replay one with `CHAOS_SEED=<seed> pytest tests/integration/test_chaos.py`.

--keyless: after each schedule's finished render, more kill cycles follow on the same run
with no key set and one scene's affirmation edited in plan.yaml before each render (the
keyless path: nothing to buy, the movie composed again); the last render must make the
movie with the last text, send nothing to the simulator and change no paid step. Its
kills are counted as "keyless <phase>"; replay a seed with `--seed <seed> --cycles 1 --keyless`.

    python bench/chaos_soak.py --cycles 200 --seed 1000
    python bench/chaos_soak.py --cycles 100 --seed 1000 --keyless
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's tests package

import yaml

from mindmovie.config import KEY_VARIABLES
from tests.integration.test_chaos import (
    Cycle,
    Schedule,
    _wait_for_stage,
    phase_of,
    run_schedule,
)
from tests.integration.test_crashproof import (
    SCENES,
    Rig,
    assert_movie,
    check_money_invariants,
    no_temp_litter,
)
from tests.sim.server import SimServer

#: every variable a provider's key is read from
KEY_VARS = tuple(v for names in KEY_VARIABLES.values() for v in names)


#: a keyless render only recomposes the edited scene's segments (~0.4 s after its first
#: event, under a second in all): delays after its start or the compose's first event
KEYLESS_DELAY = {"startup": (0.0, 0.8), "compose": (0.0, 0.3)}
#: keyless renders killed per schedule before one runs to the end (most are killed)
KEYLESS_KILLS = 5


class KeylessRig(Rig):
    """The schedule's run, rendered with no key set: a render that needs none must not ask."""

    def env(self, kill_at: str | None = None) -> dict[str, str]:
        return {k: v for k, v in super().env(kill_at).items() if k not in KEY_VARS}


def _paid_steps(st: dict[str, object]) -> list[tuple[object, ...]]:
    steps = st["steps"]
    assert isinstance(steps, list)
    return sorted(
        (s["scene_id"], s["stage"], s["status"], s["attempts"], s["run_no"])
        for s in steps
        if s["stage"] in ("plan", "keyframe", "clip")
    )


def keyless_rounds(sim: SimServer, workdir: Path, sched: Schedule) -> None:
    """Kill renders of the schedule's finished run with no key set, each after an
    affirmation edit in plan.yaml, then render to the end: nothing may be sent or billed,
    and the movie must carry the last edit. Adds its cycles to `sched`; AssertionError
    (with the seeds) on a broken promise. A run whose next render does call a provider
    (`status --json`'s missing_keys `needed`) must instead be refused naming the key,
    with nothing sent or changed."""
    tmp = workdir / "keyless"
    tmp.mkdir()
    rig = KeylessRig(
        sim=sim,
        tmp=tmp,
        goals=workdir / "goals.yaml",
        cfg=workdir / "sim.yaml",
        out=workdir / "run",
    )
    sent, totals, steps = len(sim.requests()), rig.totals(), _paid_steps(rig.status())
    needed = [
        str(k["variable"])
        for k in rig.status(with_config=True).get("missing_keys") or []
        if k.get("needed")
    ]
    if needed:
        # the next render calls a provider (a lost clip create refunded less than a day
        # ago: its late job is still looked for in the job list), as status says: then
        # the promise is the key named before anything is sent or changed
        p = rig.start(quiet=False)
        rc = p.wait(timeout=120)
        said = rig.output(p)[1]
        msg = f"{sched.describe()}\n{rig.history()}\n{said[-3000:]}"
        assert rc == 2 and needed[0] in said, f"keyless render exited {rc}\n{msg}"
        assert len(sim.requests()) == sent and rig.totals() == totals, msg
        assert _paid_steps(rig.status()) == steps, msg
        sched.cycles.append(Cycle(f"{sched.seed}/keyless", 0.0, 0, False, "key needed", ""))
        return
    text = ""
    for i in range(KEYLESS_KILLS + 1):
        rng = random.Random(f"{sched.seed}/keyless/{i}")
        text = f"I am calm and brave, take {i}"
        plan = rig.out / "plan.yaml"
        data = yaml.safe_load(plan.read_text())
        data["scenes"][rng.randrange(len(data["scenes"]))]["affirmation"] = text
        plan.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        anchor = rng.choice(sorted(KEYLESS_DELAY))
        delay = rng.uniform(*KEYLESS_DELAY[anchor])
        p = rig.start(quiet=False)
        try:
            if anchor == "compose":
                _wait_for_stage(rig, p, "compose", work=False)
            rc = p.wait(timeout=delay if i < KEYLESS_KILLS else 120)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):  # it may have just exited
                os.kill(p.pid, signal.SIGKILL)
            rc = p.wait(timeout=30)
        if rc == -signal.SIGKILL:
            phase = f"keyless {phase_of(rig.output(p)[1])}"
            sched.cycles.append(Cycle(f"{sched.seed}/keyless/{i}", delay, 0, True, phase, anchor))
            continue
        sched.cycles.append(Cycle(f"{sched.seed}/keyless/{i}", delay, 0, False, "done", anchor))
        msg = f"{sched.describe()}\n{rig.history()}\n{rig.output(p)[1][-3000:]}"
        assert rc == 0, f"keyless render exited {rc}\n{msg}"
        assert "API_KEY" not in rig.output(p)[1], msg
        break
    else:
        raise AssertionError(f"no keyless render finished\n{sched.describe()}\n{rig.history()}")
    assert len(sim.requests()) == sent, f"keyless renders sent requests\n{msg}"
    assert rig.totals() == totals, msg
    assert_movie(rig.out / "movie.mp4")
    assert no_temp_litter(rig.out) == [], msg
    st = rig.status()
    assert _paid_steps(st) == steps, msg
    check_money_invariants(st, rig.totals(), SCENES)
    assert text in (rig.out / "storyboard.html").read_text(), msg


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=100, help="kills to make in total")
    ap.add_argument("--seed", type=int, default=1000, help="first schedule seed")
    ap.add_argument("--keep", action="store_true", help="keep the run directories")
    ap.add_argument(
        "--keyless",
        action="store_true",
        help="after each schedule, kill renders with no key set and plan.yaml edited",
    )
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
                if args.keyless:
                    keyless_rounds(sim, work / f"s{seed}", sched)
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
    if args.keyless:
        refused = sum(c.phase == "key needed" for s in done for c in s.cycles)
        print(f"keyless: {refused} run(s) whose next render needs a key, refused as it should")
    for s, msg in failed:
        again = f"--seed {s} --cycles 1 --keyless" if args.keyless else f"CHAOS_SEED={s}"
        print(f"FAILED seed {s}: replay with {again}\n{msg}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"run directories kept in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
