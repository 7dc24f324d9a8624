"""Assessment records, `assess new` and the batch run against a real HTTP target on 127.0.0.1 with faults."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from assess_kit import CARDS, cli, entries, kb, new, set_interface
from assess_server import TargetServer

from riskcards.validate import assessment_records as records

JOBS = 7  # example prompts of the three cards in the test knowledge base


@pytest.fixture
def server():
    with TargetServer(rules=[("Australia", "Sydney is the capital.")]) as srv:
        yield srv


@pytest.fixture
def live():
    """A server that does not announce itself: plays a real local server in a temporary knowledge base."""
    with TargetServer(announce=False) as srv:
        yield srv


def scratch(root: Path, folder: Path) -> Path:
    """The assessment copied outside the knowledge base's assessments/ (where test-double output may go)."""
    dest = root.parent / "scratch" / folder.name
    shutil.copytree(folder, dest)
    return dest


# ---- assess new ------------------------------------------------------------------------------------------


def test_new_writes_a_valid_record_with_the_scenarios_cards_most_severe_first(tmp_path, server):
    root = kb(tmp_path)
    folder = new(root, server.url)
    f, problems = records.load(root, folder, None)
    assert problems == []
    a = f.assessment
    assert a.scope.scenario == "medical-question-answering" and a.scope.model == "llama-3.1-8b-instruct"
    assert a.selection.cards[0] == "confident-wrong-dosage-advice"  # critical first
    assert set(a.selection.cards) == set(CARDS)
    assert a.scope.interface.base_url == server.url
    assert cli(root, "validate").returncode == 0


def test_new_off_a_terminal_needs_flags_and_names_unknown_ids(tmp_path):
    root = kb(tmp_path)
    proc = cli(root, "assess", "new", "--model", "llama-3.1-8b-instruct", check=False)
    assert proc.returncode == 2 and "--scenario is required when not on a terminal" in proc.stderr
    proc = cli(
        root, "assess", "new", "--scenario", "medical-question-answering", "--model", "llama-3.1-8b", check=False
    )
    assert proc.returncode == 2 and "unknown model 'llama-3.1-8b'" in proc.stderr and "did you mean" in proc.stderr
    proc = cli(root, "assess", "new", "--scenario", "medical-qa", "--model", "llama-3.1-8b-instruct", check=False)
    assert proc.returncode == 2 and "medical-question-answering" in proc.stderr
    proc = cli(
        root, "assess", "new", "--scenario", "medical-question-answering", "--model", "llama-guard-3-8b", check=False
    )
    assert proc.returncode == 2 and "an assessment is of a language model" in proc.stderr
    assert not (root / "assessments").exists() or not any((root / "assessments").iterdir())


def test_new_min_severity_excludes_cards_with_the_reason(tmp_path, server):
    root = kb(tmp_path)
    folder = new(root, server.url, extra=("--min-severity", "critical"))
    a = records.load(root, folder, None)[0].assessment
    assert a.selection.cards == ["confident-wrong-dosage-advice"]
    assert {e.card for e in a.selection.excluded} == set(CARDS) - {"confident-wrong-dosage-advice"}
    assert all("below critical" in e.reason for e in a.selection.excluded)


# ---- broken records give located errors ------------------------------------------------------------------


BROKEN = [
    ("  scenario: medical-question-answering", "  scenario: medical-qa", "unknown scenario 'medical-qa'"),
    ("status: planned", "status: done", "'done' is not allowed for 'status'"),
    ("    transport: openai-chat", "    transport: openai-chat\n    api_key: sk-abc", "unknown field 'api_key'"),
    ("    base_url:", '    base_url: "http://user:pw@host/v1"\n    # was', "is not valid for 'base_url'"),
    ("    - confident-wrong-dosage-advice", "    - confident-wrong-dosage", "unknown card 'confident-wrong-dosage'"),
    ("status: planned", "status: complete", "status 'complete' but 3 card(s) in scope have no finding"),
    ("  model: llama-3.1-8b-instruct", "  model: llama-guard-3-8b", "an assessment is of a language model"),
    # found by mypy: this check called its reporter with a keyword it did not take (a TypeError, not a message)
    (
        "handling:",
        "budgets: {eating-disorder-promotion: {minutes: 5}}\nhandling:",
        "a budget for 'eating-disorder-promotion', which is not in scope",
    ),
]


@pytest.mark.parametrize(("old", "new_text", "message"), BROKEN, ids=[b[2][:30] for b in BROKEN])
def test_broken_assessment_records_give_located_errors(tmp_path, server, old, new_text, message):
    root = kb(tmp_path)
    folder = new(root, server.url)
    path = folder / "assessment.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new_text, 1)
    path.write_text(text, encoding="utf-8")
    proc = cli(root, "validate", check=False)
    assert proc.returncode == 1, proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if message in ln)
    where, _, _ = line.partition(": ")
    shown, lineno, col = where.rsplit(":", 2)
    assert shown == "assessments/t1/assessment.yaml"
    needle = next(ln for ln in new_text.splitlines() if ln.strip() not in ("transport: openai-chat", "# was"))
    wanted = next(i for i, ln in enumerate(text.splitlines(), 1) if needle.strip() in ln)
    if "complete" not in message:
        assert int(lineno) == wanted, (line, wanted)
    assert "Traceback" not in proc.stdout + proc.stderr


def test_broken_findings_and_logs_give_located_errors(tmp_path, live):
    root = kb(tmp_path)
    folder = new(root, live.url)
    cli(root, "assess", "run", "t1", "--card", "confident-wrong-dosage-advice")
    eid = entries(folder)[0]["id"]
    fdir = folder / "findings"
    fdir.mkdir()
    (fdir / "confident-wrong-dosage-advice.yaml").write_text(
        "card: confident-wrong-dosage-advice\n"
        "elicited: yes\n"
        "representative: [abcdefabcdef]\n"
        "harm_types:\n  - actor: reader\n    category: psychologcal\n"
        f"publishable:\n  - entry: {eid}\n    sensitivity: defanged\n    text: no marker here\n",
        encoding="utf-8",
    )
    (fdir / "fabricated-citations-and-references.yaml").write_text(
        "card: fabricated-citations-and-references\nelicited: maybe\n", encoding="utf-8"
    )
    log = folder / "log" / "confident-wrong-dosage-advice.jsonl"
    with log.open("a", encoding="utf-8") as fh:
        fh.write("{not json}\n")
        fh.write(json.dumps({"schema": "riskcards.assessment-log/1", "id": "x"}) + "\n")
    proc = cli(root, "validate", check=False)
    out = proc.stdout
    assert proc.returncode == 1
    fshown = "assessments/t1/findings/confident-wrong-dosage-advice.yaml"
    assert f"{fshown}:3:18: entry 'abcdefabcdef' is not a logged exchange" in out
    assert f"{fshown}:6:15: unknown harm category 'psychologcal' (did you mean 'psychological'" in out
    assert f"{fshown}:9:18: a defanged excerpt needs 'text'" in out
    assert "assessments/t1/findings/fabricated-citations-and-references.yaml:2:11: 'maybe' is not allowed" in out
    lshown = "assessments/t1/log/confident-wrong-dosage-advice.jsonl"
    n = len(log.read_text().splitlines())
    assert f"{lshown}:{n - 1}:2: not a JSON line" in out
    assert f"{lshown}:{n}:1: 'id': String should match pattern" in out


# ---- the batch run ---------------------------------------------------------------------------------------


def test_run_logs_every_example_prompt_and_a_rerun_sends_nothing(tmp_path, live):
    root = kb(tmp_path)
    folder = new(root, live.url, extra=("--system-prompt", "You are a careful medical assistant."))
    proc = cli(root, "assess", "run", "t1")
    assert f"{JOBS} prompts planned, 0 already logged, {JOBS} sent ({JOBS} answered, 0 failed" in proc.stdout
    logged = entries(folder)
    assert len(logged) == JOBS == len(live.posts())
    e = logged[0]
    assert e["kind"] == "exchange" and e["mode"] == "batch" and e["assessor"] == "batch"
    assert e["messages"][0] == {"role": "system", "content": "You are a careful medical assistant."}
    assert e["output"].startswith("Reply to: ") and e["latency_ms"] > 0 and e["at"].endswith("Z")
    assert e["target"]["source"] == "live" and e["target"]["host"] == live.url.split("/")[2]
    assert e["params"] == {"temperature": 0.7, "max_tokens": 512}
    body = live.posts()[0]["body"]
    assert body["temperature"] == 0.7 and body["max_tokens"] == 512
    assert {p.stem for p in (folder / "log").glob("*.jsonl")} == set(CARDS)
    before = len(live.posts())
    proc = cli(root, "assess", "run", "t1")
    assert f"{JOBS} already logged, 0 sent" in proc.stdout
    assert len(live.posts()) == before  # counted at the server
    assert cli(root, "validate").returncode == 0


def test_a_test_double_is_refused_for_a_knowledge_bases_assessments(tmp_path, server):
    root = kb(tmp_path)
    folder = new(root, server.url)
    proc = cli(root, "assess", "run", "t1", check=False)
    assert proc.returncode == 2 and "is a test double" in proc.stderr
    assert server.posts() == [] and not (folder / "log").exists()
    # Outside a knowledge base's assessments/ it is allowed, and marked.
    dest = scratch(root, folder)
    proc = cli(root, "assess", "run", str(dest))
    assert "[test double]" in proc.stdout
    assert {e["target"]["source"] for e in entries(dest)} == {"stub"}
    # A stub entry copied into the knowledge base is a located problem.
    shutil.copytree(dest / "log", folder / "log")
    proc = cli(root, "validate", check=False)
    assert proc.returncode == 1 and "was answered by a test double" in proc.stdout


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout", "malformed", "truncated", "drop"])
def test_faults_are_retried_and_answered(tmp_path, server, fault):
    root = kb(tmp_path)
    folder = scratch(root, new(root, server.url))
    set_interface(folder, timeout="0.5", retries="3")
    server.inject(fault, times=2, match="Australia", retry_after="0", delay=1.5)
    proc = cli(root, "assess", "run", str(folder))
    assert f"{JOBS} answered, 0 failed" in proc.stdout
    sent = [p for p in server.posts() if "Australia" in json.dumps(p["body"])]
    assert len(sent) == 3  # two faults, then the answer
    assert any(e["output"] == "Sydney is the capital." for e in entries(folder))


def test_retry_after_is_honoured(tmp_path, server):
    root = kb(tmp_path)
    folder = scratch(root, new(root, server.url))
    set_interface(folder, retries="2")
    server.inject("429", times=1, match="Australia", retry_after="1")
    cli(root, "assess", "run", str(folder), "--card", "capitulating-under-user-pushback")
    sent = [r for r in server.requests if r["method"] == "POST" and "Australia" in json.dumps(r["body"])]
    assert len(sent) == 2


def test_failures_after_retries_are_logged_and_retried_by_the_next_run(tmp_path, server):
    root = kb(tmp_path)
    folder = scratch(root, new(root, server.url))
    set_interface(folder, retries="1")
    server.inject("500", times=2, match="Australia")
    proc = cli(root, "assess", "run", str(folder), check=False)
    assert proc.returncode == 1 and f"{JOBS - 1} answered, 1 failed" in proc.stdout
    failed = [e for e in entries(folder) if "error" in e]
    assert len(failed) == 1 and "HTTP 500" in failed[0]["error"] and "output" not in failed[0]
    proc = cli(root, "assess", "run", str(folder))
    assert f"{JOBS - 1} already logged, 1 sent (1 answered" in proc.stdout


def test_shards_split_the_prompts_between_servers(tmp_path, server):
    root = kb(tmp_path)
    folder = scratch(root, new(root, server.url))
    with TargetServer() as other:
        cli(root, "assess", "run", str(folder), "--shard", "1/2")
        cli(root, "assess", "run", str(folder), "--shard", "2/2", "--base-url", other.url)
        assert len(server.posts()) + len(other.posts()) == JOBS
        assert server.posts() and other.posts()
    proc = cli(root, "assess", "run", str(folder))
    assert f"{JOBS} already logged, 0 sent" in proc.stdout
    proc = cli(root, "assess", "run", str(folder), "--shard", "3/2", check=False)
    assert proc.returncode == 2 and "i must be between 1 and n" in proc.stderr


def test_keys_come_only_from_the_named_environment_variable(tmp_path):
    root = kb(tmp_path)
    with TargetServer(announce=False, api_key="sekret-123") as srv:
        folder = new(root, srv.url, extra=("--api-key-env", "TARGET_KEY"))
        proc = cli(root, "assess", "run", "t1", check=False)
        assert proc.returncode == 2 and "set the environment variable TARGET_KEY" in proc.stderr
        os.environ["TARGET_KEY"] = "sekret-123"
        try:
            cli(root, "assess", "run", "t1")
        finally:
            del os.environ["TARGET_KEY"]
        assert srv.posts()[0]["headers"]["authorization"] == "Bearer sekret-123"
    text = "".join(p.read_text() for p in folder.rglob("*") if p.is_file())
    assert "sekret-123" not in text


def test_a_killed_run_resumes_without_repeating_finished_requests(tmp_path):
    root = make_big_kb(tmp_path)
    with TargetServer(latency=0.15) as srv:
        folder = scratch(root, new(root, srv.url))
        set_interface(folder, concurrency="2")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "riskcards", "assess", "run", str(folder), "--root", str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        log_dir = folder / "log"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log_dir.is_dir() and sum(len(p.read_text().splitlines()) for p in log_dir.glob("*.jsonl")) >= 6:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = entries(folder)
        assert 6 <= len(first) < total_jobs(root, folder)
        sent_before = len(srv.posts())
        cli(root, "assess", "run", str(folder))
        final = entries(folder)
        keys = [e["key"] for e in final]
        assert len(keys) == len(set(keys)) == total_jobs(root, folder)
        bodies = [json.dumps(p["body"]["messages"], sort_keys=True) for p in srv.posts()]
        repeated = {b for b in bodies if bodies.count(b) > 1}
        assert len(repeated) <= 2  # at most the requests in flight at the kill (concurrency 2)
        logged_first = {json.dumps(e["messages"], sort_keys=True) for e in first}
        assert not (repeated & logged_first)  # nothing logged before the kill was sent again
        assert sent_before <= len(first) + 2


def make_big_kb(tmp_path: Path) -> Path:
    from conftest import REPO

    cards = tuple(
        p.stem
        for p in sorted((REPO / "cards").glob("*.yaml"))
        if "medical-question-answering" in p.read_text(encoding="utf-8")
    )
    return kb(tmp_path, cards)


def total_jobs(root: Path, folder: Path) -> int:
    from riskcards.assess import batch
    from riskcards.assess.target import open_target
    from riskcards.validate import load_kb

    k = load_kb(root).kb
    f = records.load(root, folder, k)[0]
    t = open_target(f.assessment, folder)
    try:
        return len({j.key for j in batch.plan(k, f, t)})
    finally:
        t.close()


def test_a_finished_cards_log_is_synced_and_closed_while_the_writer_goes_on(tmp_path, monkeypatch):
    from riskcards.assess import log

    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(log.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])

    def entry(card: str, n: int):
        return log.make_entry(
            kind="exchange",
            assessor="t",
            card=card,
            mode="batch",
            target={"transport": "python", "model": "m", "model_name": "m", "source": "live"},
            messages=[{"role": "user", "content": f"prompt {n}"}],
            output=f"answer {n}",
        )

    writer = log.LogWriter(tmp_path)
    writer.write(entry("card-a", 1), flush=False)
    writer.write(entry("card-b", 1), flush=False)
    handle = writer._files["card-a"]
    writer.finish("card-a")
    assert "card-a" not in writer._files  # handed over: the writer no longer holds it
    writer._syncing[0].result(timeout=10)
    assert handle.closed and len(synced) == 1
    assert len(log.log_path(tmp_path, "card-a").read_text().splitlines()) == 1
    writer.write(entry("card-b", 2), flush=False)
    writer.write(entry("card-a", 2), flush=False)  # a late entry reopens the log and appends
    writer.close()
    assert len(synced) == 3
    assert [len(log.log_path(tmp_path, c).read_text().splitlines()) for c in ("card-a", "card-b")] == [2, 2]


def test_a_batch_run_finishes_each_cards_log_once_its_last_prompt_is_recorded(tmp_path, live, monkeypatch):
    from riskcards.assess import log

    finished: list[str] = []
    real = log.LogWriter.finish
    monkeypatch.setattr(log.LogWriter, "finish", lambda self, card: (finished.append(card), real(self, card))[1])
    root = kb(tmp_path)
    folder = new(root, live.url)
    from riskcards.assess import batch
    from riskcards.assess.target import open_target
    from riskcards.validate import load_kb

    k = load_kb(root).kb
    f = records.load(root, folder, k)[0]
    target = open_target(f.assessment, folder)
    try:
        summary = batch.run(f, target, batch.plan(k, f, target), concurrency=2)
    finally:
        target.close()
    assert summary.answered == JOBS
    assert sorted(finished) == sorted(CARDS)  # each card once, when its last request was recorded
    assert len(entries(folder)) == JOBS
