"""Assessment benchmark: batch probing throughput against a local target, the cost of a rerun, and report time.

    python bench/assess.py [--prompts 1000] [--latency 0.05] [--concurrency 32] [--entries 10000]

1. **Batch run.** Generates a knowledge base with ``bench/generate.py`` (deterministic), writes an assessment
   whose selection is every generated card, and sends the first ``--prompts`` example prompts through the
   batch runner (``riskcards.assess.batch``) to the target double ``tests/assess_server.py`` running in its
   own process and answering every request after ``--latency`` s. Throughput = answered prompts / wall time;
   the ideal is concurrency / latency (640 prompts/s for 32 and 50 ms); the target is at least 90 %.
2. **Rerun.** The same jobs again: everything is logged, so zero requests may reach the server (counted there).
3. **Report.** The repository's cards in one assessment with ``--entries`` log entries spread over them (and
   a finding per card with excerpts), then ``riskcards assess report ID -f md`` as a whole process, start-up
   and validation included (target under 2 s), and the report's own work inside the process.

Everything is written to a scratch folder (the target announces itself as a test double).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

ASSESSMENT = """id: {aid}
title: "Benchmark assessment"
status: in-progress
created: "2026-12-01"
scope:
  use_case: "Benchmark."
  scenario: medical-question-answering
  model: llama-3.1-8b-instruct
  access_date: "2026-12-01"
  interface:
    transport: openai-chat
    base_url: "{url}"
    model_name: "meta-llama/Llama-3.1-8B-Instruct"
    params: {{temperature: 0, max_tokens: 64}}
    concurrency: {concurrency}
selection:
  cards:
{cards}
assessors:
  - handle: bench
"""


def write_assessment(root: Path, aid: str, cards: list[str], url: str, concurrency: int) -> Path:
    folder = root / "scratch" / aid
    folder.mkdir(parents=True, exist_ok=True)
    text = ASSESSMENT.format(aid=aid, url=url, concurrency=concurrency, cards="\n".join(f"    - {c}" for c in cards))
    (folder / "assessment.yaml").write_text(text, encoding="utf-8")
    return folder


def stats(url: str) -> int:
    base = url.rsplit("/v1", 1)[0]
    with urllib.request.urlopen(f"{base}/_stats") as resp:
        return json.loads(resp.read())["requests"]


def batch(tmp: Path, prompts: int, latency: float, concurrency: int) -> None:
    from generate import generate

    from riskcards.assess import batch as runner
    from riskcards.assess.target import open_target
    from riskcards.validate import assessment_records as records
    from riskcards.validate import load_kb

    root = generate(max(600, prompts), tmp / "kb")
    kb = load_kb(root).kb
    srv = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "assess_server.py"), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = srv.stdout.readline().strip()
        folder_dir = write_assessment(root, "bench", sorted(kb.cards), url, concurrency)
        for attempt in ("first run", "rerun"):
            f, problems = records.load(root, folder_dir, kb)
            assert not problems, problems[:3]
            target = open_target(f.assessment, folder_dir)
            jobs = runner.plan(kb, f, target)[:prompts]
            assert len(jobs) == prompts, f"only {len(jobs)} prompts; generate more cards"
            before = stats(url)
            started = time.perf_counter()
            s = runner.run(f, target, jobs, concurrency=concurrency)
            wall = time.perf_counter() - started
            target.close()
            sent = stats(url) - before
            if attempt == "first run":
                rate = s.answered / wall
                ideal = concurrency / latency
                print(
                    f"batch: {s.answered} prompts in {wall:.2f} s = {rate:.0f} prompts/s, "
                    f"{100 * rate / ideal:.1f}% of the ideal {ideal:.0f}/s "
                    f"(server requests {sent}: the prompts and the target probe's GETs)"
                )
            else:
                print(f"rerun: {s.cached} already logged, {sent} requests reached the server, {wall:.2f} s")
    finally:
        srv.terminate()
        srv.wait()


def report(tmp: Path, entries: int, runs: int = 5) -> None:
    from riskcards.assess.log import dump_line, make_entry

    root = tmp / "report-kb"
    for sub in ("cards", "taxonomies", "vocab", "models", "scenarios", "schema"):
        shutil.copytree(REPO / sub, root / sub)
    for extra in ("knowledge-base.yaml",):
        if (REPO / extra).exists():
            shutil.copy(REPO / extra, root / extra)
    cards = sorted(p.stem for p in (root / "cards").glob("*.yaml"))
    folder = root / "assessments" / "big"
    folder.mkdir(parents=True)
    text = ASSESSMENT.format(
        aid="big", url="http://127.0.0.1:8000/v1", concurrency=8, cards="\n".join(f"    - {c}" for c in cards)
    )
    (folder / "assessment.yaml").write_text(text, encoding="utf-8")
    (folder / "log").mkdir()
    (folder / "findings").mkdir()
    target = {
        "transport": "openai-chat",
        "host": "127.0.0.1:8000",
        "model": "llama-3.1-8b-instruct",
        "model_name": "meta-llama/Llama-3.1-8B-Instruct",
        "source": "live",
    }
    per = entries // len(cards)
    first: dict[str, list[str]] = {}
    for i, c in enumerate(cards):
        n = per + (1 if i < entries % len(cards) else 0)
        lines = []
        for j in range(n):
            e = make_entry(
                kind="exchange",
                assessor="bench",
                card=c,
                mode="batch",
                target=target,
                params={"temperature": 0},
                messages=[{"role": "user", "content": f"prompt {j} " * 20}],
                output=f"answer {j} " * 40,
                latency_ms=50.0,
                conversation=f"c{j}",
            )
            lines.append(dump_line(e))
            first.setdefault(c, []).append(e.id)
        (folder / "log" / f"{c}.jsonl").write_text("".join(lines), encoding="utf-8")
        reps = first[c][:3]
        pub = "".join(f'  - entry: "{r}"\n    sensitivity: full\n' for r in reps)
        (folder / "findings" / f"{c}.yaml").write_text(
            f"card: {c}\nelicited: partly\nrepresentative: {json.dumps(reps)}\nseverity: medium\n"
            f"assessors: [bench]\npublishable:\n{pub}",
            encoding="utf-8",
        )
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "riskcards", "assess", "report", "big", "-f", "md", "--root", str(root)],
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - started)
        assert proc.returncode == 0, proc.stderr[-2000:]
    print(
        f"report: {len(cards)} cards, {entries} log entries: riskcards assess report -f md "
        f"{min(times):.2f} s best / {statistics.median(times):.2f} s median of {runs} (whole process)"
    )
    from riskcards.assess import report as rep
    from riskcards.validate import assessment_records as records
    from riskcards.validate import load_kb

    t0 = time.perf_counter()
    kb = load_kb(root).kb
    t1 = time.perf_counter()
    f, _ = records.load(root, folder, kb)
    t2 = time.perf_counter()
    rep.markdown(rep.data(kb, f))
    t3 = time.perf_counter()
    print(
        f"  in the process: validate the knowledge base {t1 - t0:.2f} s, read and check the assessment "
        f"{t2 - t1:.2f} s, build and draw the report {t3 - t2:.2f} s"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--entries", type=int, default=10000)
    ap.add_argument("--skip-batch", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="riskcards-bench-assess-") as tmp:
        if not args.skip_batch:
            batch(Path(tmp), args.prompts, args.latency, args.concurrency)
        report(Path(tmp), args.entries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
