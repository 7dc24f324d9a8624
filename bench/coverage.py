"""Benchmark: guard coverage, computed at index time (table guard_coverage) and read by `riskcards coverage`.

    python bench/coverage.py                 # 10,000 cards
    python bench/coverage.py --cards 1000 --runs 3

Generates a knowledge base with bench/generate.py (deterministic) and measures, as whole processes, best and
median of --runs: `riskcards index --full` (validate + index, coverage cells included) and
`riskcards coverage -f json` (read from the index); and inside one process the cells alone
(riskcards.index.rows.coverage_rows over every card and guard). Wall-clock; no assertion is made on them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
RISKCARDS = str(Path(sys.executable).parent / "riskcards")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def cells_in_process(root: Path, runs: int) -> tuple[float, float, int]:
    from riskcards.guards.store import read_results
    from riskcards.index.rows import coverage_rows, empty_rows
    from riskcards.validate import load_kb

    kb = load_kb(root).kb
    results, _ = read_results(root)
    times, n = [], 0
    for _ in range(runs):
        rows = empty_rows()
        t = time.perf_counter()
        coverage_rows(kb, results, rows)
        times.append(time.perf_counter() - t)
        n = len(rows["guard_coverage"])
    return min(times), statistics.median(times), n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cards", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.cards), str(root)], check=True)
        idx = timed([RISKCARDS, "index", "--full", "--root", str(root)], args.runs)
        cov = timed([RISKCARDS, "coverage", "-f", "json", "--root", str(root)], args.runs)
        best, median, n = cells_in_process(root, args.runs)
    print(f"| {args.cards:,} cards, load {os.getloadavg()[0]:.1f} | best | median |")
    print("|---|---:|---:|")
    print(f"| `riskcards index --full` | {idx[0]:.2f} s | {idx[1]:.2f} s |")
    print(f"| `riskcards coverage -f json` | {cov[0]:.2f} s | {cov[1]:.2f} s |")
    print(f"| coverage cells in process ({n:,}) | {best:.2f} s | {median:.2f} s |")


if __name__ == "__main__":
    main()
