"""Benchmark of the content-quality gate (tests/test_content_quality.py) on generated knowledge bases.

    python bench/content_quality.py [N ...]        (default: 100 1000 3000)

For each N it writes a knowledge base with bench/generate.py, loads it once with riskcards.validate, and
times each rule of the gate separately: taxonomy coverage, the per-card rules, and the near-duplicate
pass, which compares every pair of cards (N*(N-1)/2 pairs) and so grows quadratically. Figures are
wall-clock seconds, best of three runs; loading is reported once.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import test_content_quality as q  # noqa: E402
from timing import best  # noqa: E402

from riskcards.validate import validate  # noqa: E402

RULES = (q.placement_problems, q.example_problems, q.reference_problems, q.scenario_problems, q.minors_problems)


def main(sizes: list[int]) -> None:
    print(f"{'cards':>6} {'load':>8} {'coverage':>9} {'per-card':>9} {'pairs':>10} {'near-dup':>9} {'closest10':>9}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "kb"
            subprocess.run(
                [sys.executable, str(REPO / "bench" / "generate.py"), str(n), str(root)],
                check=True,
                capture_output=True,
            )
            t0 = time.perf_counter()
            kb = validate(root).kb
            load = time.perf_counter() - t0
            cards = q.live(kb)
            cov, _ = best(lambda kb=kb: q.coverage_gaps(kb))
            per, _ = best(lambda kb=kb: [q.per_card(kb, r) for r in RULES])
            dup, _ = best(lambda cards=cards: q.near_duplicates(cards), runs=1 if n > 2000 else 3)
            top, _ = best(lambda cards=cards: q.closest_pairs(cards), runs=1 if n > 2000 else 3)
            pairs = len(cards) * (len(cards) - 1) // 2
            print(
                f"{len(kb.cards):>6} {load:>7.2f}s {cov * 1000:>7.1f}ms "
                f"{per * 1000:>7.1f}ms {pairs:>10} {dup:>8.2f}s {top:>8.2f}s"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 3000])
