"""Guard runner benchmark: throughput against a local server with fixed latency, and the cost of a rerun.

    python bench/guards.py [--cards 1500] [--latency 0.05] [--concurrency 32] [--out bench/out/guards]

1. Generates a knowledge base with ``bench/generate.py`` (deterministic) and plans the Llama Guard 3 chat
   jobs over all its examples.
2. Starts the test double ``tests/guard_server.py`` in its own process (so the server does not share the
   runner's interpreter), answering every request after ``--latency`` seconds, and runs the guard at
   ``--concurrency``. Throughput = classified jobs / wall time of the run; the ideal is
   concurrency / latency (640 req/s for 32 and 50 ms). The target is at least 80 % of it.
3. Runs again: every job is already recorded, so the second run must send zero requests (counted by the
   server, GET included).

Results are written to a scratch folder (test-double verdicts never go into checks/).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), or NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def bare_loop(base: str, n: int, concurrency: int) -> float:
    """Requests/s of a bare http.client loop (no runner) against the same server: the ceiling of this machine now."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(base)
    body = json.dumps(
        {"model": "meta-llama/Llama-Guard-3-8B", "messages": [{"role": "user", "content": "hi"}]}
    ).encode()
    left = iter(range(n))
    lock = threading.Lock()

    def work() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        while True:
            with lock:
                if next(left, None) is None:
                    return
            conn.request(
                "POST", parts.path + "/chat/completions", body=body, headers={"Content-Type": "application/json"}
            )
            conn.getresponse().read()

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n / (time.perf_counter() - t0)


def stats(base: str) -> dict:
    with urllib.request.urlopen(base.removesuffix("/v1") + "/_stats", timeout=10) as resp:
        return json.loads(resp.read())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, default=1500)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "guards")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO))
    from riskcards.guards import runner
    from riskcards.guards.config import load_config
    from riskcards.validate import load_kb

    kb_dir = args.out / "kb"
    if kb_dir.exists():
        shutil.rmtree(kb_dir)
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "generate.py"), str(args.cards), str(kb_dir)],
        check=True,
        capture_output=True,
    )
    results_dir = args.out / "results"
    if results_dir.exists():
        shutil.rmtree(results_dir)

    server = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "tests" / "guard_server.py"),
            "--latency",
            str(args.latency),
            "--rule",
            "[redacted=unsafe\\nS2",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = server.stdout.readline().strip()
        (kb_dir / "guards.yaml").write_text(
            f"""guards:
  lg3-bench:
    adapter: llama-guard-3
    model: llama-guard-3-8b
    model_name: meta-llama/Llama-Guard-3-8B
    transport: openai-chat
    base_url: {base}
    concurrency: {args.concurrency}
    timeout: 30
""",
            encoding="utf-8",
        )
        t0 = time.perf_counter()
        res = load_kb(kb_dir)
        kb = res.kb
        cfg = load_config(kb_dir / "guards.yaml", kb_dir)["lg3-bench"]
        load_s = time.perf_counter() - t0

        before = stats(base)["requests"]
        server_cpu0, client_cpu0 = cpu_seconds(server.pid), time.process_time()
        t0 = time.perf_counter()
        planned_at = []
        first = runner.run_guard(kb, cfg, results_dir, on_plan=lambda jobs: planned_at.append(time.perf_counter()))
        first_s = time.perf_counter() - t0
        send_s = time.perf_counter() - planned_at[0]
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu0, time.process_time() - client_cpu0
        after_first = stats(base)["requests"]

        t0 = time.perf_counter()
        second = runner.run_guard(kb, cfg, results_dir)
        second_s = time.perf_counter() - t0
        after_second = stats(base)["requests"]
        ceiling = bare_loop(base, first.classified, args.concurrency)
    finally:
        server.terminate()
        server.wait()

    ideal = args.concurrency / args.latency
    rate = first.classified / first_s
    print(f"knowledge base: {args.cards} cards, {len(kb.cards)} valid, {first.planned} jobs (loaded in {load_s:.2f} s)")
    print(
        f"first run : {first.classified} classified in {first_s:.2f} "
        f"s = {rate:.0f} req/s at concurrency {args.concurrency}, "
        f"latency {args.latency * 1000:.0f} ms; ideal {ideal:.0f} req/s -> {100 * rate / ideal:.1f} % (target >= 80 %)"
    )
    print(
        f"           of which planning {first_s - send_s:.2f} s; sending "
        f"and recording alone: {first.classified / send_s:.0f} req/s "
        f"({100 * first.classified / send_s / ideal:.1f} % of ideal)"
    )
    print(
        f"           server saw {after_first - before} requests (1 "
        f"GET /v1/models, 1 GET /version, {first.requests} POST); "
        f"labels {first.labels}; transport errors {first.transport_errors}"
    )
    lat = sorted(
        r.run.latency_ms for r in __import__("riskcards.guards.store", fromlist=["x"]).read_file(first.out_path)
    )
    print(
        f"           latency per request: median {lat[len(lat) // 2]:.1f} ms, p95 {lat[int(len(lat) * 0.95)]:.1f} ms; "
        f"CPU per request: runner {1000 * client_cpu / first.classified:.2f} "
        f"ms, server {1000 * server_cpu / first.classified:.2f} ms; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"second run: {second.cached} cached, {second.classified} classified in {second_s:.3f} s; "
        f"server saw {after_second - after_first} requests"
    )
    print(
        f"reference : a bare http.client loop (no runner) against the same server now reaches {ceiling:.0f} req/s "
        f"({100 * ceiling / ideal:.1f} % of ideal): the ceiling of this machine under its current load"
    )
    ok = rate >= 0.8 * ideal and after_second == after_first
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
