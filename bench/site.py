"""Site build benchmark: full builds at 100, 1,000 and 10,000 generated cards, and a rebuild after one card changes.

    python bench/site.py [N ...] [--out bench/out/site] [--repeat R]

For each N, bench/generate.py writes a knowledge base with N cards (deterministic), the repo's mkdocs.yml,
site/ and schema/ are copied next to it, and:

* full build: ``python -m riskcards build --root KB`` in a fresh process (validate -> index -> dumps -> clean
  MkDocs build into public/), the way CI and the README run it. Wall time and CPU time of the process, plus
  the step times it prints, and the number of pages written.
* one-card rebuild: the live-reload path of ``riskcards site --serve --dirty`` (MkDocs' own serve builder:
  a fresh config per rebuild, plugins kept, ``build(dirty=True)``). After a first build, one card's
  description and title are edited and the rebuild is timed: the plugin re-indexes the knowledge base,
  generates only the pages whose cards changed (the rest are taken over from the previous build), and
  MkDocs renders only pages whose content changed. That is a preview build; ``riskcards build`` never
  publishes a dirty one. For comparison the same edit is also timed with a plain (non-dirty) rebuild,
  which renders every page, as ``mkdocs serve`` does by default.

CPU time is reported beside wall time because the figures are often taken on shared machines.
Results go to OUT/results.json and a table on standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def _generate(n: int, out: Path) -> Path:
    kb = out / f"kb-{n}"
    shutil.rmtree(kb, ignore_errors=True)  # always from scratch: the rebuild benchmark edits a card
    subprocess.run([PY, str(REPO / "bench" / "generate.py"), str(n), str(kb)], check=True, stdout=subprocess.DEVNULL)
    for sub in ("site", "schema"):
        shutil.rmtree(kb / sub, ignore_errors=True)
        shutil.copytree(REPO / sub, kb / sub)
    shutil.copy(REPO / "mkdocs.yml", kb / "mkdocs.yml")
    for sub in ("build", "public"):
        shutil.rmtree(kb / sub, ignore_errors=True)
    return kb


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def full_build(kb: Path) -> dict:
    shutil.rmtree(kb / "build", ignore_errors=True)
    shutil.rmtree(kb / "public", ignore_errors=True)
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [PY, "-m", "riskcards", "build", "--root", str(kb)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"build of {kb} failed:\n{proc.stdout}\n{proc.stderr}")
    steps = [float(x) for x in re.findall(r"\(([\d.]+) s\)", proc.stdout)]
    pages = sum(1 for _ in (kb / "public").rglob("index.html"))
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "index_s": steps[0],
        "dumps_s": steps[1],
        "site_s": steps[2],
        "pages": pages,
        "search_index_mb": round((kb / "public" / "search" / "search_index.json").stat().st_size / 1e6, 1),
    }


def _edit_one_card(kb: Path, round_: int) -> Path:
    card = sorted((kb / "cards").glob("*.yaml"))[len(list((kb / "cards").glob("*.yaml"))) // 2]
    text = card.read_text(encoding="utf-8")
    title = re.search(r'(?m)^title: "(.*)"$', text)
    text = text.replace(title.group(0), f'title: "{title.group(1)} (edit {round_})"', 1)
    text = text.replace("description: |\n", f"description: |\n  Edited in benchmark round {round_}.\n", 1)
    card.write_text(text, encoding="utf-8")
    return card


def serve_rebuild(kb: Path, dirty: bool) -> dict:
    """MkDocs' serve builder, without the HTTP server: first build, then one edited card, rebuilt."""
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    site_dir = tempfile.mkdtemp(prefix="rc-serve-")
    serve_url = "http://127.0.0.1:8000/"

    def get_config():
        # MkDocs logs a warning on every dirty build, which strict mode turns into a failure: a dirty preview
        # runs with strict off (as `riskcards site --serve --dirty` does); the plugin's own link check still fails it.
        cfg = load_config(config_file=str(kb / "mkdocs.yml"), site_dir=site_dir, **({"strict": False} if dirty else {}))
        cfg.site_url = serve_url
        return cfg

    def builder():
        build(get_config(), serve_url=serve_url, dirty=dirty)

    try:
        cfg = get_config()
        cfg.plugins.on_startup(command="serve", dirty=dirty)
        t0, c0 = time.perf_counter(), time.process_time()
        build(cfg, serve_url=serve_url, dirty=dirty)
        first = (time.perf_counter() - t0, time.process_time() - c0)
        card = _edit_one_card(kb, 1)
        t0, c0 = time.perf_counter(), time.process_time()
        builder()
        again = (time.perf_counter() - t0, time.process_time() - c0)
        page = Path(site_dir) / "cards" / card.stem / "index.html"
        assert "(edit 1)" in page.read_text(encoding="utf-8"), "the rebuilt page does not show the edit"
        cfg.plugins.on_shutdown()
    finally:
        shutil.rmtree(site_dir, ignore_errors=True)
    return {
        "first_wall_s": round(first[0], 2),
        "first_cpu_s": round(first[1], 2),
        "rebuild_wall_s": round(again[0], 2),
        "rebuild_cpu_s": round(again[1], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 10000])
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "site")
    ap.add_argument("--no-plain-rebuild", action="store_true", help="Skip the non-dirty rebuild comparison.")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    path = args.out / "results.json"
    if path.exists():
        results = json.loads(path.read_text())
    for n in args.sizes:
        kb = _generate(n, args.out)
        row = {"cards": n, "full": full_build(kb)}
        print(f"{n:>6} cards: full build {row['full']}", flush=True)
        _generate(n, args.out)  # the same knowledge base again for the rebuild
        row["dirty_rebuild"] = serve_rebuild(kb, dirty=True)
        print(f"{n:>6} cards: one-card rebuild (serve --dirty) {row['dirty_rebuild']}", flush=True)
        if not args.no_plain_rebuild:
            _generate(n, args.out)
            row["plain_rebuild"] = serve_rebuild(kb, dirty=False)
            print(f"{n:>6} cards: one-card rebuild (plain serve) {row['plain_rebuild']}", flush=True)
        row["rebuild_share"] = round(row["dirty_rebuild"]["rebuild_wall_s"] / row["full"]["wall_s"], 3)
        row["rebuild_share_cpu"] = round(row["dirty_rebuild"]["rebuild_cpu_s"] / row["full"]["cpu_s"], 3)
        results[str(n)] = row
        path.write_text(json.dumps(results, indent=2) + "\n")
    print(
        "\n| cards | pages | full build wall (cpu) | index | site step | per "
        "page | one-card rebuild, dirty wall (cpu) | share | plain rebuild |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, r in sorted(results.items(), key=lambda kv: int(kv[0])):
        f, d, p = r["full"], r["dirty_rebuild"], r.get("plain_rebuild")
        print(
            f"| {n} | {f['pages']} | {f['wall_s']} s ({f['cpu_s']} s) | {f['index_s']} s | {f['site_s']} s | "
            f"{1000 * f['site_s'] / f['pages']:.1f} ms | {d['rebuild_wall_s']} s ({d['rebuild_cpu_s']} s) | "
            f"{100 * r['rebuild_share']:.1f}% ({100 * r['rebuild_share_cpu']:.1f}% "
            f"cpu) | {p['rebuild_wall_s'] if p else '-'} s |"
        )


if __name__ == "__main__":
    main()
