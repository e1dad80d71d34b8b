"""mindmovie's tests (a package so that `tests.sim` is importable)."""
