"""Timing helper shared by the benchmarks (they run as `python bench/<name>.py`, so this folder is on sys.path)."""

from __future__ import annotations

import time


def best(fn, runs: int = 3) -> tuple[float, object]:
    """The shortest wall time of ``runs`` calls of ``fn``, and the last call's result."""
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out
