"""CPU time of the test suite, per test, per file, and in all: where the suite's time goes.

Why: on the 2-core CI machine the suite keeps both cores busy from start to end (idle
under 5 % but for its last seconds, sampled from /proc/stat), so its wall time follows
the CPU its tests take, not their waits. A test's `--durations` time counts its waits
and the other processes' work on the shared cores; this counts its own CPU: the pytest
process's (the simulator's threads and in-process renders), its child processes' (the
commands and ffmpeg it started, once reaped), and the fork server's children's (the
renders tests/mindmovie_fork.py forks, and their ffmpeg), each read before and after the
test. The fork server's own start (its preload: the provider SDKs, ~5 s) counts to the
first test of each process that forks a render; the rest of the CPU outside any test
(start-up, collection) is not in the figures: compare the total with wall time x cores.

    python bench/suite_cpu.py                       # the whole suite, as .ci/run runs it
    python bench/suite_cpu.py --top 40 --tests tests/e2e   # one folder, the 40 dearest

As a plugin alone (its per-test records, one JSON line each, in --out):

    python -m pytest -p bench.suite_cpu
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: where the plugin writes its records (a folder: one file per test process)
#: (not MINDMOVIE_...: mindmovie reads every such variable as a setting, and refused
#: this one as unknown, failing every test that loads settings from the environment)
OUT_VAR = "BENCH_SUITE_CPU_OUT"
_TICK = os.sysconf("SC_CLK_TCK")


def _fork_server_cpu() -> float:
    """CPU seconds of the fork server's reaped children (each forked render, with its
    ffmpeg) and its own, 0 when this process started none."""
    try:
        from multiprocessing import forkserver

        pid = forkserver._forkserver._forkserver_pid
        if not pid:
            return 0.0
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / _TICK  # utime stime cutime cstime
    except (OSError, ImportError, AttributeError, ValueError, IndexError):
        return 0.0


def _own_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


_last_fork_server = [0.0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Record the CPU the test took (setup, call and teardown) in OUT_VAR's folder."""
    own, forked = _own_cpu(), max(_fork_server_cpu(), _last_fork_server[0])
    yield
    own_after, forked_after = _own_cpu(), _fork_server_cpu()
    _last_fork_server[0] = forked_after
    folder = Path(os.environ.get(OUT_VAR) or tempfile.gettempdir())
    with open(folder / f"suite-cpu-{os.getpid()}.jsonl", "a") as f:
        row = [item.nodeid, round(own_after - own, 3), round(max(0.0, forked_after - forked), 3)]
        f.write(json.dumps(row) + "\n")


def summary(folder: Path, top: int) -> str:
    """The records in `folder` added up: in all, by file, and the `top` dearest tests
    (parametrized cases together)."""
    rows: list[tuple[str, float, float]] = []
    for path in folder.glob("suite-cpu-*.jsonl"):
        for line in path.read_text().splitlines():
            nodeid, own, forked = json.loads(line)
            rows.append((nodeid, own, forked))
    total = sum(a + b for _, a, b in rows)
    lines = [
        f"{len(rows)} tests: {total:.1f} s of CPU ({sum(a for _, a, _ in rows):.1f} in the "
        f"test processes and what they started, {sum(b for _, _, b in rows):.1f} in forked "
        "renders)",
        "",
        "by file:",
    ]
    by_file: collections.Counter[str] = collections.Counter()
    count: collections.Counter[str] = collections.Counter()
    by_test: collections.Counter[str] = collections.Counter()
    for nodeid, a, b in rows:
        by_file[nodeid.split("::")[0]] += a + b
        count[nodeid.split("::")[0]] += 1
        by_test[nodeid.split("[")[0]] += a + b
    lines += [f"  {cpu:7.1f} s {count[f]:5d} tests  {f}" for f, cpu in by_file.most_common(top)]
    lines += ["", "dearest tests (parametrized cases together):"]
    lines += [f"  {cpu:6.1f} s  {t}" for t, cpu in by_test.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=25, help="files and tests listed")
    ap.add_argument("--tests", nargs="*", default=[], help="what pytest is given to run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mindmovie-suite-cpu-") as tmp:
        path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
        # (the test processes import this plugin before pytest puts the repo on sys.path)
        env = {**os.environ, OUT_VAR: tmp, "CI": os.environ.get("CI", "true"), "PYTHONPATH": path}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "bench.suite_cpu", *args.tests]
        t0 = time.perf_counter()
        code = subprocess.run(cmd, cwd=REPO, env=env).returncode
        wall = time.perf_counter() - t0
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        print(f"\npytest exit {code}; wall {wall:.1f} s on {cores} cores\n")
        print(summary(Path(tmp), args.top))
    sys.exit(code)


if __name__ == "__main__":
    main()
