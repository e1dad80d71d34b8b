"""Imported first by the fork server (tests/mindmovie_fork.py), before numpy: one BLAS
thread, so importing numpy there starts no thread a fork would lack.

numpy's OpenBLAS starts a pool of threads when imported (one per core); a forked child
has only the thread that forked, and a BLAS call there could wait on a pool that does not
exist. With OPENBLAS_NUM_THREADS=1 (read once, at numpy's import) it starts none, and
mindmovie makes no BLAS call where a second thread would help. Only the server's own
environment is set: each fork's is replaced by its test's.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
