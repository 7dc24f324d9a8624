"""Benchmark: index build time and query latency, on 1,000 and 10,000 generated cards.

    python bench/index_query.py                      # 1,000 and 10,000 cards
    python bench/index_query.py --cards 1000 --runs 20

For each size it generates a knowledge base with bench/generate.py (deterministic) and measures:
  * `riskcards index --full` as a whole process (validate + index written anew), best and median of --builds
    runs, and `riskcards index` after one card was edited (the index updated in place);
  * `riskcards query --category ...` as a whole process (what a user waits for), next to a bare
    `python -c "import sqlite3; ..."` that runs the very same SQL statements (captured from the query layer
    with a trace callback), for --format ids/json/table, with --db (no staleness check) and with the
    default index (staleness check over every source file);
  * full-text queries inside one process (riskcards.query.search and find_cards(text=...)), in ms.
Prints markdown tables. Numbers are wall-clock; no assertion is made on them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
RISKCARDS = str(BIN / "riskcards")
CATEGORY = "weidinger-2021:W3"  # a top-level category: its descendants are included
FTS_WORDS = ["evidence", "medication doses", "policy AND account", "redacted", "travel visas"]

BARE = r"""
import sqlite3, sys
conn = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for stmt in open(sys.argv[2]).read().split("\n;;\n"):
    if stmt.strip():
        rows = conn.execute(stmt).fetchall()
sys.stdout.write("".join(str(r[0]) + "\n" for r in rows))
"""


CPU: dict[tuple, float] = {}
# Processes run as a user's would: with byte-code caching (this workplace sets PYTHONDONTWRITEBYTECODE,
# which makes every riskcards process compile its modules again, while the standard library that the bare
# script imports is precompiled).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], runs: int, env: dict | None = None) -> tuple[float, float]:
    """Best and median wall time (s) of ``runs`` runs of a process (one warm-up run first).

    The median CPU time (user + sys of the child) is kept in CPU[tuple(cmd)]: on a busy machine it is
    the steadier figure."""
    env = {**ENV, **(env or {})}
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    times, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU[tuple(cmd)] = statistics.median(cpus)
    return min(times), statistics.median(times)


def cpu(cmd: list[str]) -> float:
    return CPU[tuple(cmd)]


def captured_sql(db: Path, category: str) -> list[str]:
    """Every SQL statement the query layer runs for `query --category` (bound values expanded)."""
    from riskcards import query as Q

    conn = Q.connect(db)
    stmts: list[str] = []
    conn.set_trace_callback(stmts.append)
    Q.find_cards(conn, Q.Query(category=category))
    conn.close()
    return stmts


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def bench(n: int, runs: int, builds: int, tmp: Path) -> list[str]:
    root = tmp / f"kb{n}"
    subprocess.run(
        [sys.executable, str(HERE / "generate.py"), str(n), str(root)], check=True, stdout=subprocess.DEVNULL
    )
    env = {**ENV, "RISKCARDS_ROOT": str(root)}
    out = [f"### {n:,} cards", ""]

    cmd = [RISKCARDS, "index", "--full", "--root", str(root)]
    best, med = timed(cmd, builds)
    db = root / "build" / "riskcards.db"
    out += [
        "| step | best wall | median wall | median CPU |",
        "|---|---|---|---|",
        (
            "| `riskcards index --full` (validate + index written anew, "
            f"whole process) | {best:.2f} s | {med:.2f} s | {cpu(cmd):.2f} s |"
        ),
    ]
    cmd = [RISKCARDS, "index", "--root", str(root)]
    card = sorted((root / "cards").glob("*.yaml"))[n // 2]
    times, cpus = [], []
    for k in range(builds):  # one card edited before each run: the index is updated in place
        text = card.read_text(encoding="utf-8")
        card.write_text(text.replace("description: |\n", f"description: |\n  Edit {k}.\n", 1), encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=ENV)
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        assert "1 changed cards replaced" in proc.stdout, proc.stdout
    out.append(
        "| `riskcards index` after one card changed (updated in place) "
        f"| {min(times):.2f} s | {statistics.median(times):.2f} s | "
        f"{statistics.median(cpus):.2f} s |"
    )
    cmd = [RISKCARDS, "validate", "--root", str(root)]
    best, med = timed(cmd, builds)
    out += [
        f"| `riskcards validate` alone (for reference) | {best:.2f} s | {med:.2f} s | {cpu(cmd):.2f} s |",
        f"| database size | {db.stat().st_size / 1e6:.1f} MB | | |",
        "",
    ]

    sql_file = tmp / f"q{n}.sql"
    sql_file.write_text("\n;;\n".join(captured_sql(db, CATEGORY)))
    bare = [sys.executable, "-c", BARE, str(db), str(sql_file)]
    b_best, b_med = timed(bare, runs)
    count = subprocess.run(
        [RISKCARDS, "query", "--category", CATEGORY, "--db", str(db), "-f", "ids"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.count("\n")
    out += [
        f"`riskcards query --category {CATEGORY}` ({count} cards) "
        'vs bare `python -c "import sqlite3; ..."` running the '
        f"same {len(sql_file.read_text().split(';;'))} statements:",
        "",
        "| command | best wall | median wall | median / bare | median CPU | CPU / bare |",
        "|---|---|---|---|---|---|",
        f"| bare python + sqlite3 | {ms(b_best)} | {ms(b_med)} | 1.00 | {ms(cpu(bare))} | 1.00 |",
    ]
    for label, extra in (
        ("--db DB -f ids", ["--db", str(db), "-f", "ids"]),
        ("--db DB -f json", ["--db", str(db), "-f", "json"]),
        ("--db DB -f table (piped: plain columns)", ["--db", str(db), "-f", "table"]),
        ("default index -f ids (staleness check)", ["-f", "ids"]),
    ):
        cmd = [RISKCARDS, "query", "--category", CATEGORY, *extra]
        best, med = timed(cmd, runs, env=env)
        out.append(
            f"| `riskcards query {label}` | {ms(best)} | {ms(med)} | "
            f"{med / b_med:.2f} | {ms(cpu(cmd))} | {cpu(cmd) / cpu(bare):.2f} |"
        )
    # On a terminal the table is drawn with rich: run both under `script` (a pseudo-terminal).
    import shlex

    def pty(cmd: list[str]) -> list[str]:
        return ["script", "-qec", " ".join(shlex.quote(c) for c in cmd), "/dev/null"]

    pb_best, pb_med = timed(pty(bare), runs)
    cmd = pty([RISKCARDS, "query", "--category", CATEGORY, "--db", str(db)])
    best, med = timed(cmd, runs, env=env)
    out += [
        (
            f"| on a terminal (both under `script`): bare | {ms(pb_best)} "
            f"| {ms(pb_med)} | 1.00 | {ms(cpu(pty(bare)))} | 1.00 |"
        ),
        "| on a terminal: `riskcards query --db DB` (rich table) | "
        f"{ms(best)} | {ms(med)} | {med / pb_med:.2f} | {ms(cpu(cmd))} | "
        f"{cpu(cmd) / cpu(pty(bare)):.2f} |",
        "",
    ]

    from riskcards import query as Q

    conn = Q.connect(db)
    out += [
        "Full-text queries inside one process (median of 50):",
        "",
        "| query | hits | search() | find_cards(text=) |",
        "|---|---|---|---|",
    ]
    for words in FTS_WORDS:
        t_search, t_find = [], []
        hits = 0
        for _ in range(50):
            t = time.perf_counter()
            Q.search(conn, words, limit=20)
            t_search.append(time.perf_counter() - t)
            t = time.perf_counter()
            hits = len(Q.find_cards(conn, Q.Query(text=words)))
            t_find.append(time.perf_counter() - t)
        out.append(
            f"| `{words}` | {hits} cards | {ms(statistics.median(t_search))} | {ms(statistics.median(t_find))} |"
        )
    out.append("")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, action="append", help="Sizes (repeatable; default 1000 and 10000).")
    ap.add_argument("--runs", type=int, default=20, help="Query process runs per command.")
    ap.add_argument("--builds", type=int, default=3, help="Index builds per size.")
    args = ap.parse_args()
    probe = "import sqlite3, json; print(json.dumps(sqlite3.sqlite_version))"
    sqlite_version = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout)
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{sqlite_version} "
        "SQLite; "
        f"load average {os.getloadavg()[0]:.1f} at start.",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.cards or [1000, 10000]:
            lines += bench(n, args.runs, args.builds, Path(tmp))
            print("\n".join(lines), flush=True)
            lines = []
    return 0


if __name__ == "__main__":
    sys.exit(main())
