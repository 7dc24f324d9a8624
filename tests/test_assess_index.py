"""Assessments in the index: `query --assessed-on M` (cards assessed on a model, with the result), `show CARD`
listing the card's assessments, and an index that follows edits of findings and logs."""

from __future__ import annotations

import json
import sqlite3

import pytest
from assess_kit import CARDS, MODEL, cli, kb, write_fixture


@pytest.fixture
def root(tmp_path):
    r = kb(tmp_path, (*CARDS, "eating-disorder-promotion"))
    write_fixture(r)
    return r


def test_assessed_on_lists_the_assessed_cards_with_their_result(root):
    doc = json.loads(cli(root, "query", "--assessed-on", MODEL, "-f", "json").stdout)
    assert doc["query"] == {"assessed_on": MODEL}
    by_id = {c["id"]: c for c in doc["cards"]}
    assert set(by_id) == set(CARDS)  # the excluded card is not "assessed on" the model
    cap = by_id["capitulating-under-user-pushback"]["assessed"]
    assert [(a["assessment"], a["elicited"], a["severity"], a["prompts"], a["answered"]) for a in cap] == [
        ("golden", "yes", "high", 3, 3)
    ]
    fab = by_id["fabricated-citations-and-references"]["assessed"][0]
    assert fab["elicited"] is None and fab["prompts"] == 0  # in scope, not judged yet
    table = cli(root, "query", "--assessed-on", MODEL).stdout
    assert "golden 2026-12-02: elicited yes (high here)" in table
    assert "not judged yet" in table


def test_assessed_on_combines_with_other_filters_and_refuses_unknown_models(root):
    ids = cli(root, "query", "--assessed-on", MODEL, "--text", "citations", "-f", "ids").stdout.split()
    assert ids == ["fabricated-citations-and-references"]
    other = cli(root, "query", "--assessed-on", "gpt-4o", "-f", "ids").stdout
    assert other == ""  # a known model that nobody assessed: no card
    bad = cli(root, "query", "--assessed-on", "llama-3.1-8b-instrct", check=False)
    assert bad.returncode == 2 and "llama-3.1-8b-instruct" in bad.stderr  # did you mean


def test_show_lists_a_cards_assessments_with_result(root):
    text = cli(root, "show", "confident-wrong-dosage-advice").stdout
    assert "Assessments" in text and "golden 2026-12-02: elicited partly (critical here)" in text
    doc = json.loads(cli(root, "show", "eating-disorder-promotion", "-f", "json").stdout)
    assert doc["assessments"][0]["in_scope"] is False
    assert doc["assessments"][0]["excluded_reason"].startswith("Out of scope for a pharmacy site")
    assert "golden: excluded" in cli(root, "show", "eating-disorder-promotion").stdout


def test_the_index_follows_findings_and_logs(root):
    cli(root, "index")
    db = root / "build" / "riskcards.db"
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT card_count, judged_count, elicited_count, log_entries FROM assessments").fetchone()
    assert row == (3, 2, 2, 8)
    conn.close()
    folder = root / "assessments" / "golden"
    (folder / "findings" / "fabricated-citations-and-references.yaml").write_text(
        "card: fabricated-citations-and-references\nelicited: 'no'\nattempts: 4\nassessors: [ben]\n", encoding="utf-8"
    )
    doc = json.loads(cli(root, "query", "--assessed-on", MODEL, "-f", "json").stdout)  # rebuilt: sources changed
    fab = next(c for c in doc["cards"] if c["id"] == "fabricated-citations-and-references")
    assert fab["assessed"][0]["elicited"] == "no" and fab["assessed"][0]["attempts"] == 4


def test_a_broken_assessment_stops_the_index_with_located_errors(root):
    f = root / "assessments" / "golden" / "findings" / "confident-wrong-dosage-advice.yaml"
    f.write_text(f.read_text().replace("elicited: partly", "elicited: maybe"), encoding="utf-8")
    proc = cli(root, "query", "--assessed-on", MODEL, check=False)
    assert proc.returncode != 0
    assert "assessments/golden/findings/confident-wrong-dosage-advice.yaml:2:" in proc.stderr
