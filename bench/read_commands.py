"""Benchmark: every read-only command as a whole process, against `riskcards query` (issue 12, item 7).

    python bench/read_commands.py                 # 1,000 generated cards, 15 runs each
    python bench/read_commands.py --cards 100 --runs 30

It generates a knowledge base with bench/generate.py (deterministic), indexes it, and times each command
piped to /dev/null with the default (current) index, as a script would run it: best and median wall time
of --runs runs after one warm-up, and the ratio of medians to `query --category ... -f ids`. The target
is at most 1.5x. Help runs with the user's help cache (its warm-up run fills it); the last rows time help drawn
by typer with the cache off, as a first run pays. Prints a markdown table; nothing is asserted.
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
RISKCARDS = str(Path(sys.executable).parent / "riskcards")
# Processes run as a user's would: with byte-code caching.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

COMMANDS = [
    ["query", "--category", "weidinger-2021:W3", "-f", "ids"],
    ["query", "--category", "weidinger-2021:W3", "-f", "json"],
    ["show", "{card}"],
    ["taxonomies"],
    ["taxonomy", "weidinger-2021"],
    ["stats"],
    ["models"],
    ["scenarios"],
    ["incidents"],
    ["crosswalk", "llama-guard-2", "mlcommons-ailuminate-v1.0"],
    ["taxonomies", "-f", "json"],
    ["coverage", "--guard", "llama-guard-3-8b"],
    ["coverage", "--guard", "llama-guard-3-8b", "-f", "json"],
    ["coverage"],  # every card x guard cell: ~15,000 rows at 1,000 cards, bound by the size of the output
    ["coverage", "-f", "json"],
    ["--help"],
    ["query", "--help"],
    ["assess", "run", "--help"],
]
# Help is drawn by typer once and then printed from the help cache (riskcards.cli.helpcache); these rows show
# what drawing costs, as on the first run after an install or an edit (not held to the target).
UNCACHED = [["--help"], ["query", "--help"]]


def timed(cmd: list[str], runs: int, env: dict) -> tuple[float, float]:
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cards", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "kb"
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(args.cards), str(root)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        for card in (root / "cards").glob("*.yaml"):  # the generator predates the rule against catch-all codes
            text = card.read_text(encoding="utf-8")
            if "aegis-2.0:S14" in text:
                card.write_text(text.replace("aegis-2.0:S14", "aegis-2.0:S1"), encoding="utf-8")
        env = {**ENV, "RISKCARDS_ROOT": str(root)}
        subprocess.run([RISKCARDS, "index"], check=True, stdout=subprocess.DEVNULL, env=env)
        card = sorted(p.stem for p in (root / "cards").glob("*.yaml"))[0]
        rows, base = [], None
        for cmd in COMMANDS:
            cmd = [c.replace("{card}", card) for c in cmd]
            best, med = timed([RISKCARDS, *cmd], args.runs, env)
            base = base or med
            rows.append(
                f"| `riskcards {' '.join(cmd)}` | {best * 1000:.1f} ms | {med * 1000:.1f} ms | {med / base:.2f} |"
            )
        for cmd in UNCACHED:
            best, med = timed([RISKCARDS, *cmd], args.runs, {**env, "RISKCARDS_HELP_CACHE": "0"})
            rows.append(
                f"| `riskcards {' '.join(cmd)}`, drawn by typer (first run; help cache off) "
                f"| {best * 1000:.1f} ms | {med * 1000:.1f} ms | {med / base:.2f} |"
            )
    print(f"{args.cards:,} cards, {args.runs} runs each, output to /dev/null\n")
    print("| command | best | median | median / query |")
    print("|---|---:|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
