"""The offline guard (alt-profanity-check) end to end, its verdicts in the index, and the repo's recorded checks.

CI recomputes offline guards and fails on any difference; for model guards it validates the stored records.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from guard_kit import load, make_kb, write_config

from riskcards.guards import runner, store
from riskcards.guards.imports import check_record

REPO = Path(__file__).resolve().parents[1]


def test_offline_guard_end_to_end_into_the_index(tmp_path):
    pytest.importorskip("profanity_check")
    root = make_kb(tmp_path)
    write_config(root, "http://127.0.0.1:9/v1")
    card = root / "cards" / "guard-test-card.yaml"
    card.write_text(
        card.read_text().replace('"[[S10]] Platzhalter."', "You are a stupid worthless idiot and everyone hates you.")
    )
    kb, configs = load(root)
    summary = runner.run_guard(kb, configs["profanity-check"], root / "checks")
    assert summary.planned == summary.written == 7 and summary.labels["error"] == 0
    results, problems = store.read_results(root)
    assert problems == [] and len(results) == 7 and {r.run.source for r in results} == {"live"}
    by = {(r.example.card, r.example.example): r for r in results}
    rude, polite = by[("guard-test-card", "conversation")], by[("guard-test-card", "benign")]
    assert (
        rude.verdict.label == "unsafe"
        and rude.verdict.categories == ["profanity"]
        and rude.verdict.scores["profanity"] > 0.9
    )
    assert polite.verdict.label == "safe" and polite.verdict.scores["profanity"] < 0.1
    assert rude.guard.revision.startswith("alt-profanity-check==") and "model.joblib:" in rude.guard.revision
    assert rude.guard.transport == "python" and rude.run.runtime.startswith("scikit-learn ")

    from riskcards.index import build

    db = tmp_path / "idx.db"
    build(root, db, metadata=False)
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT card_id, example_id, label, input_status, guard_config_id FROM guard_results ORDER BY example_id"
    ).fetchall()
    con.close()
    assert len(rows) == 7 and {r[3] for r in rows} == {"current"} and {r[4] for r in rows} == {"profanity-check"}
    assert ("guard-test-card", "conversation", "unsafe", "current", "profanity-check") in rows

    again = runner.run_guard(kb, configs["profanity-check"], root / "checks")
    assert again.cached == 7 and again.classified == 0

    from typer.testing import CliRunner

    from riskcards.cli import app

    dry = CliRunner().invoke(app, ["guard", "run", "profanity-check", "--root", str(root), "--dry-run"])
    assert dry.exit_code == 0 and "7 jobs planned, 7 already recorded, 0 to send" in dry.output


def _repo_results():
    path = REPO / "checks" / "profanity-check.jsonl"
    if not path.is_file():
        pytest.skip("no recorded profanity-check verdicts in checks/")
    return store.read_file(path)


def test_repo_offline_verdicts_recompute_exactly():
    """Every recorded profanity-check verdict for a current example is what the classifier says now."""
    pytest.importorskip("profanity_check")
    from riskcards.guards.adapters.profanity_check import ProfanityCheck
    from riskcards.guards.hashing import current_input_sha256, example_messages
    from riskcards.guards.protocol import GuardInput
    from riskcards.validate import load_kb

    kb = load_kb(REPO).kb
    classify, revision, _ = ProfanityCheck.load()
    adapter = ProfanityCheck()
    checked = 0
    for r in _repo_results():
        card = kb.cards.get(r.example.card)
        ex = next((x for x in card.examples if x.id == r.example.example), None) if card else None
        if ex is None or current_input_sha256(ex, r.example.target) != r.example.input_sha256:
            continue  # stale: shown as 'not run' by coverage, never counted
        assert r.guard.revision == revision
        inp = GuardInput.of(example_messages(ex, r.example.target), r.example.target)
        raw = classify(adapter.requests(inp, None)[0].prompt)
        assert raw == r.raw, (r.example.card, r.example.example)
        checked += 1
    assert checked > 0


def test_repo_recorded_checks_are_valid():
    """Stored records of every guard: schema (read_results), live only, keys recompute, codes of their taxonomy."""
    from riskcards.validate import load_kb

    results, problems = store.read_results(REPO)
    assert problems == []
    kb = load_kb(REPO).kb
    for r in results:
        stale = ("has changed since", "unknown card", "has no example", "has no response", "has no prompt")
        issues = [m for m in check_record(kb, r) if not any(s in m for s in stale)]
        assert issues == [], (r.guard.id, r.example.card, r.example.example, issues)
