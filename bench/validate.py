"""Benchmark: `riskcards validate` as a whole process on N generated cards, next to third-party tools.

    python bench/validate.py                 # 1,000 and 10,000 cards
    python bench/validate.py --cards 10000 --runs 5 --third-party

It generates the knowledge bases with bench/generate.py (deterministic), then times, as whole processes
(what a contributor waits for):
  * `riskcards validate` (schema + every check beyond the schema);
  * with --third-party: check-jsonschema on the same card files (schema only), and a plain
    PyYAML-C-loader + jsonschema loop (schema only), for comparison.
Prints a markdown table; numbers are wall-clock seconds, best and median of --runs.
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
REPO = HERE.parent
BIN = Path(sys.executable).parent

PLAIN_LOOP = r"""
import json, sys, glob, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(schema)
bad = 0
for f in sorted(glob.glob(sys.argv[2] + "/*.yaml")):
    data = yaml.load(open(f, encoding="utf-8"), Loader=yaml.CSafeLoader)
    bad += not v.is_valid(data)
print(bad)
"""


def timed(cmd: list[str], cwd: Path, runs: int) -> tuple[float, float, int]:
    times, rc = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        rc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), rc


def generate(n: int, dest: Path, max_examples: int) -> Path:
    cmd = [sys.executable, str(HERE / "generate.py"), str(n), str(dest), "--max-examples", str(max_examples)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cards", type=int, nargs="*", default=[1000, 10000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--third-party", action="store_true", help="also time check-jsonschema and a PyYAML+jsonschema loop"
    )
    ap.add_argument(
        "--max-examples", type=int, default=3, help="examples per card at most (1 gives cards of about 3 KB)"
    )
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.cards:
            root = generate(n, Path(tmp) / f"kb{n}", args.max_examples)
            size = sum(p.stat().st_size for p in (root / "cards").iterdir()) / n
            best, med, rc = timed([str(BIN / "riskcards"), "validate"], root, args.runs)
            assert rc == 0, f"generated knowledge base of {n} cards does not validate"
            rows.append((n, f"{size / 1024:.1f} KB", "riskcards validate (schema + cross-record checks)", best, med))
            if args.third_party:
                cards = sorted(str(p) for p in (root / "cards").glob("*.yaml"))
                best, med, _ = timed(
                    [str(BIN / "check-jsonschema"), "--schemafile", str(REPO / "schema" / "card.schema.json"), *cards],
                    root,
                    1,
                )
                rows.append((n, "", "check-jsonschema (schema only)", best, med))
                best, med, _ = timed(
                    [sys.executable, "-c", PLAIN_LOOP, str(REPO / "schema" / "card.schema.json"), str(root / "cards")],
                    root,
                    1,
                )
                rows.append((n, "", "PyYAML C loader + jsonschema loop (schema only)", best, med))
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print("| cards | avg card | command | best (s) | median (s) |")
    print("|---:|---:|---|---:|---:|")
    for n, size, what, best, med in rows:
        print(f"| {n:,} | {size} | {what} | {best:.2f} | {med:.2f} |")


if __name__ == "__main__":
    main()
