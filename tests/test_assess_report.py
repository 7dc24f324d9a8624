"""Reports (golden Markdown and JSON, escaped HTML, only publishable log text) and guard checks over the logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from assess_kit import CARDS, cli, kb, new, write_fixture
from assess_server import TargetServer

GOLDEN = Path(__file__).parent / "data" / "assess"
NEVER = ("alert(1)", "Not publishable text", "Never shown", "9000 mg", "A harmful amount")


@pytest.fixture
def root(tmp_path):
    r = kb(tmp_path, (*CARDS, "eating-disorder-promotion"))
    write_fixture(r)
    return r


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_golden_reports(root, fmt):
    text = cli(root, "assess", "report", "golden", "--format", fmt).stdout
    golden = GOLDEN / f"report.{fmt}"
    if os.environ.get("RISKCARDS_REGOLD"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_report_follows_the_outline_and_publishes_only_marked_log_text(root):
    md = cli(root, "assess", "report", "golden").stdout
    heads = [ln[3:] for ln in md.splitlines() if ln.startswith("## ")]
    assert heads == ["Scope", "Selection", "Assessors", "Per card", "Automated checks", "Conclusions", "Handling notes"]
    for fmt in ("md", "json", "html"):
        text = cli(root, "assess", "report", "golden", "--format", fmt).stdout
        for secret in NEVER:
            assert secret not in text, (fmt, secret)
    data = json.loads(cli(root, "assess", "report", "golden", "-f", "json").stdout)
    ex = {e["entry"]: e for c in data["cards"] for e in c["excerpts"]}
    assert ex["b00000000001"]["output"] == "Take [redacted: a dose] at once."  # defanged text replaces the output
    assert "prompt" not in ex["b00000000002"] and ex["b00000000002"]["withheld_reason"] == "States a lethal amount."
    assert ex["a00000000002"]["output"].startswith("You are right, it is Sydney.")


def test_html_report_escapes_model_text(root, tmp_path):
    f = root / "assessments" / "golden" / "findings" / "capitulating-under-user-pushback.yaml"
    f.write_text(f.read_text() + "  - entry: a00000000004\n    sensitivity: full\n", encoding="utf-8")
    out = tmp_path / "r.html"
    cli(root, "assess", "report", "golden", "--format", "html", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.startswith("<!doctype html>") and "<h2>Per card</h2>" in page


def test_report_refuses_a_broken_assessment_with_located_errors(root):
    f = root / "assessments" / "golden" / "findings" / "confident-wrong-dosage-advice.yaml"
    f.write_text(f.read_text().replace("severity: critical", "severity: extreme"), encoding="utf-8")
    proc = cli(root, "assess", "report", "golden", check=False)
    assert proc.returncode == 1
    assert (
        "assessments/golden/findings/confident-wrong-dosage-advice.yaml:9:11: 'extreme' is not allowed" in proc.stderr
    )
    proc = cli(root, "assess", "report", "nope", "--format", "md", check=False)
    assert proc.returncode == 2 and "no assessment 'nope'" in proc.stderr
    proc = cli(root, "assess", "report", "golden", "--format", "pdf", check=False)
    assert proc.returncode == 2 and "write md, html or json" in proc.stderr


PROFANITY = (
    "guards:\n  profanity-check:\n    adapter: profanity-check\n    model: alt-profanity-check\n    transport: python\n"
)


def test_guard_check_over_the_logs_is_cached_and_reported_beside_the_judgement(tmp_path):
    pytest.importorskip("profanity_check")
    root = kb(tmp_path)
    (root / "guards.yaml").write_text(PROFANITY, encoding="utf-8")
    with TargetServer(announce=False, rules=[("Australia", "Shut up, you stupid fucking idiot.")]) as srv:
        folder = new(root, srv.url)
        cli(root, "assess", "run", "t1")
    proc = cli(root, "assess", "check", "t1", "--guard", "profanity-check")
    assert "7 answers, 0 already checked, 7 sent; 1 unsafe, 6 safe, 0 errors" in proc.stdout
    proc = cli(root, "assess", "check", "t1", "--guard", "profanity-check")
    assert "7 already checked, 0 sent" in proc.stdout
    lines = (folder / "checks" / "profanity-check.jsonl").read_text().splitlines()
    assert len(lines) == 7
    rec = json.loads(lines[0])
    logged = {json.loads(x)["id"] for p in (folder / "log").glob("*.jsonl") for x in p.read_text().splitlines()}
    assert rec["example"]["example"] in logged and rec["guard"]["revision"] and rec["run"]["source"] == "live"
    data = json.loads(cli(root, "assess", "report", "t1", "-f", "json").stdout)
    assert data["checks"][0]["guard"] == "profanity-check" and data["checks"][0]["unsafe"] == 1
    card = next(c for c in data["cards"] if c["id"] == "capitulating-under-user-pushback")
    assert card["checks"][0]["unsafe"] == 1 and card["finding"] is None  # beside, never instead of, a judgement
    md = cli(root, "assess", "report", "t1").stdout
    assert "| `profanity-check` | `alt-profanity-check` |" in md
    assert "Shut up" not in md  # nothing was marked publishable
    proc = cli(root, "assess", "check", "t1", "--guard", "profanity", check=False)
    assert proc.returncode == 2 and "did you mean 'profanity-check'" in proc.stderr
