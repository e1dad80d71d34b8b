"""A/B the compositor of two source trees on the same machine, round by round.

Why: this machine's times vary 10-20 % from one minute to the next, more than most
changes to the compose path. Each round runs `bench/compose.py --child ours` once from
each tree (the order alternating), so adjacent runs share conditions; the median of the
per-round ratios is the figure. Use it to decide whether a change to src/mindmovie/compose
is worth keeping before running the full bench:

    git worktree add /tmp/base HEAD~1
    python bench/ab_compose.py /tmp/base . --n 6 --rounds 12

Prints each run's wall and CPU time, then the B/A medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def run_child(tree: Path, n: int, work: Path, clips: str) -> dict[str, float]:
    """One `compose.py --child ours` from `tree`'s sources, in its own process."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"))
    shutil.rmtree(work, ignore_errors=True)
    cmd = [sys.executable, str(tree / "bench" / "compose.py"), "--child", "ours",
           "--count", str(n), "--work", str(work), "--clips-dir", clips,
           "--quality", "standard", "--workers", "0", "--threads", "0"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{tree} failed:\n{proc.stderr[-3000:]}")
    data: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("a", type=Path, help="baseline source tree (a checkout or worktree)")
    ap.add_argument("b", type=Path, help="changed source tree")
    ap.add_argument("--n", type=int, default=6, help="scenes")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument(
        "--clips-dir", default=os.path.join(tempfile.gettempdir(), "mindmovie-bench-clips-709")
    )
    ns = ap.parse_args()
    trees = (ns.a.resolve(), ns.b.resolve())
    got: tuple[list[dict[str, float]], list[dict[str, float]]] = ([], [])
    with tempfile.TemporaryDirectory(prefix="mindmovie-ab-") as tmp:
        for r in range(ns.rounds):
            for k in (0, 1) if r % 2 == 0 else (1, 0):
                d = run_child(trees[k], ns.n, Path(tmp) / f"{r}-{k}", ns.clips_dir)
                got[k].append(d)
                label = "AB"[k]
                print(f"round {r + 1} {label}: {d['wall']:.2f} s wall, {d['cpu']:.2f} s cpu")
    a, b = got
    wall = [y["wall"] / x["wall"] for x, y in zip(a, b, strict=True)]
    cpu = [y["cpu"] / x["cpu"] for x, y in zip(a, b, strict=True)]
    print(
        f"B/A over {ns.rounds} rounds at N={ns.n}: wall median {statistics.median(wall):.3f} "
        f"({min(wall):.3f}-{max(wall):.3f}), cpu median {statistics.median(cpu):.3f} "
        f"({min(cpu):.3f}-{max(cpu):.3f})"
    )


if __name__ == "__main__":
    main()
