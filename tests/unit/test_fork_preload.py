"""The fork server's preloads (tests/mindmovie_fork.py) must be safe to share: a module
imported there is imported once for every forked command, so if importing it read the
environment, the working directory or the clock, or started a thread, each test's
command would run with the server's view of them (or a thread its fork never has)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests import mindmovie_fork
from tests.mindmovie_fork import PRELOAD

_PROBE = r"""
import importlib, json, os, sys, threading, time

mine = [m for m in PRELOAD if m.split(".")[0] == "mindmovie"]
# the test suite's own preloads that use mindmovie (fork_server_ffmpeg) come last, after
# the recording: imported first, they imported mindmovie's modules unrecorded
ours = [m for m in PRELOAD if m.startswith("tests.") and m != "tests.fork_server_env"]
for m in PRELOAD:
    if m not in mine and m not in ours:
        importlib.import_module(m)
mindmovie_before = sorted(m for m in sys.modules if m.split(".")[0] == "mindmovie")

read = []


class Recording(os._Environ):
    def __getitem__(self, key):
        read.append(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        read.append(key)
        return super().__contains__(key)


env = os.environ
os.environ = Recording(env._data, env.encodekey, env.decodekey, env.encodevalue, env.decodevalue)
cwd_calls = []
real_getcwd, real_time = os.getcwd, time.time
os.getcwd = lambda: cwd_calls.append("getcwd") or real_getcwd()
time.time = lambda: cwd_calls.append("time") or real_time()
for m in mine:
    importlib.import_module(m)
os.environ, os.getcwd, time.time = env, real_getcwd, real_time
for m in ours:
    importlib.import_module(m)
print(json.dumps({
    "mine": mine,
    "mindmovie_before": mindmovie_before,
    "env_read": sorted(set(read)),
    "cwd_or_clock": cwd_calls,
    "threads": threading.active_count(),
    # native threads too (a BLAS pool is not a Python thread)
    "tasks": len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1,
    "numpy": "numpy" in sys.modules,
    "cli": "mindmovie.cli" in sys.modules,
}))
"""


def test_the_preloaded_mindmovie_modules_read_nothing_a_test_varies() -> None:
    r = subprocess.run(
        [sys.executable, "-c", f"PRELOAD = {PRELOAD!r}\n{_PROBE}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.splitlines()[-1])
    assert "mindmovie.pipeline" in got["mine"]  # what the preload is for
    assert got["mindmovie_before"] == [], got  # every one of them imported recorded
    # pydantic's own switch, read as each model is built: no test sets it
    assert [k for k in got["env_read"] if k != "PYDANTIC_DISABLE_PLUGINS"] == [], got
    assert got["cwd_or_clock"] == [], got
    assert got["threads"] == 1, got
    assert got["tasks"] == 1, got  # numpy's BLAS pool among them, but for fork_server_env
    assert got["numpy"], got  # what the rest of the preload is for
    assert not got["cli"], got  # its consoles read COLUMNS and the terminal when imported


def _preloaded(q: Any) -> None:
    """In a fork: which of PRELOAD its server imported, the ffmpeg listings it had made
    and the binaries it had run (`-version`), the TLS contexts it had made."""
    from mindmovie import doctor, media
    from mindmovie.providers import base

    listed, ran = doctor._ffmpeg_parts.cache_info(), media._ffmpeg_runs.cache_info()
    tls, exe = base._shared_tls.cache_info(), media.ffmpeg_exe.cache_info()
    q.put(
        (
            [m for m in PRELOAD if m in sys.modules],
            (listed.currsize, ran.currsize, tls.currsize, exe.currsize),
        )
    )


def test_the_fork_server_imported_every_preload() -> None:
    """multiprocessing passes over a preload that fails to import without a word (a
    renamed module, a typo): the forks would import it again each, and the suite only
    grow slower. Every one is in a fork's modules, the ffmpeg listings are made and
    ffmpeg has run once (its path not kept: a test's stand-in must be found), and the
    three TLS contexts are made."""
    ctx = mindmovie_fork._ctx()
    q = ctx.Queue()
    p = ctx.Process(target=_preloaded, args=(q,))
    p.start()
    try:
        modules, (listed, ran, tls, exe) = q.get(timeout=120)
    finally:
        p.join(30)
    assert modules == PRELOAD
    assert listed == 1
    assert ran == 1
    assert tls == 3
    assert exe == 0  # a fork reads its test's IMAGEIO_FFMPEG_EXE
