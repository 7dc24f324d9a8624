"""Benchmark of `riskcards import lm-risk-cards` on generated legacy cards.

    python bench/import_legacy.py [N ...]        (default: 100 1000 5000)

For each N it writes N legacy cards (half md-2023, half yaml-2024) made deterministically from the test
fixtures in tests/data/legacy/ (each copy gets its own stem and a shuffled example order), then times,
best of three: parsing alone, a first import (parse, convert, dump, schema check, atomic write), a
second import of the same files (nothing changes, nothing is written) and --check. Figures are
wall-clock seconds and microseconds per card.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from riskcards.importers import lm_risk_cards as lmrc  # noqa: E402
from riskcards.importers.run import import_lm_risk_cards  # noqa: E402

SOURCES = sorted(p for p in (REPO / "tests/data/legacy").glob("*/*.md") if not p.name.startswith(("_", "README")))


def generate(n: int, dest: Path) -> list[Path]:
    rng = random.Random(20261128 + n)
    folder = dest / "en"
    folder.mkdir(parents=True)
    out = []
    for i in range(n):
        src = SOURCES[i % len(SOURCES)]
        lines = src.read_text(encoding="utf-8").split("\n")
        if rng.random() < 0.5:
            lines.append("")
        path = folder / f"{src.stem}_{i:05d}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        out.append(path)
    return out


def best(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def measure(n: int) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        files = generate(n, tmp / "src")
        blobs = [(f, f.read_bytes()) for f in files]

        def parse_all() -> None:
            for f, raw in blobs:
                lmrc.parse(raw, stem=f.stem, source=f"en/{f.name}")

        def first() -> None:
            shutil.rmtree(tmp / "out", ignore_errors=True)
            rep = import_lm_risk_cards([tmp / "src"], tmp / "out", root=REPO)
            assert len(rep.cards) == n and not rep.failed

        t_parse = best(parse_all)
        t_import = best(first)
        t_again = best(lambda: import_lm_risk_cards([tmp / "src"], tmp / "out", root=REPO))
        t_check = best(lambda: import_lm_risk_cards([tmp / "src"], tmp / "out", root=REPO, check=True))
        return f"{n:>6} " + " ".join(f"{t:8.2f}s [{t / n * 1e6:6.0f}]" for t in (t_parse, t_import, t_again, t_check))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(sizes: list[int]) -> None:
    print(f"{'N':>6} {'parse':>9} {'import':>9} {'re-import':>10} {'--check':>9}   (seconds; µs per card in brackets)")
    for n in sizes:
        print(measure(n), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 5000])
