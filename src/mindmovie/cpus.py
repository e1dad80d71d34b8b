"""How many CPUs this process may use.

`os.cpu_count()` counts the whole machine: in a container given 2 CPUs of a 64-CPU host
(a cpuset, or `taskset`), the compositor started 64 encoders of ~150-300 MB each and the
local providers 64 workers. The affinity mask says what the process may really use.
"""

from __future__ import annotations

import contextlib
import os


def usable_cpu_count() -> int:
    """CPUs this process may run on (at least 1): its affinity mask where the OS has
    one (Linux), else the machine's count."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        with contextlib.suppress(OSError):
            n = len(getaffinity(0))
            if n:
                return n
    return os.cpu_count() or 1
