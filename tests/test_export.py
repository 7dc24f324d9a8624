"""`riskcards export`: json, jsonl and csv, of the whole knowledge base or of a query's cards."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from index_kb import make_index_kb, run

from riskcards import exporters, index
from riskcards import query as Q
from riskcards.validate import validate


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> Path:
    root = make_index_kb(tmp_path_factory.mktemp("export") / "kb")
    index.build(root)
    return root


def test_json_export_round_trips_the_cards(kb, tmp_path):
    out = tmp_path / "kb.json"
    res = run("export", "--format", "json", "--out", str(out), root=kb)
    assert res.returncode == 0, res.stderr
    assert "wrote 4 cards" in res.stderr
    doc = json.loads(out.read_text())
    assert (
        doc["format"] == "riskcards.export/1" and doc["schema_version"] == index.SCHEMA_VERSION and doc["query"] is None
    )
    conn = Q.connect(kb / "build" / "riskcards.db")
    assert doc["cards"] == [
        Q.card(conn, c) for c in ("hate-against-groups", "retired-misinformation", "toxic-insults", "wrong-dosage")
    ]
    assert {t["id"] for t in doc["taxonomies"]} >= {"weidinger-2021", "llama-guard-3"}
    assert {s["id"] for s in doc["scenarios"]} >= {"customer-support-bot", "medical-question-answering"}
    assert doc["crosswalks"][0]["id"] == "weidinger-2021--llama-guard-3"

    # the exported cards say what the YAML says
    kbm = validate(kb).kb
    for card in doc["cards"]:
        src = kbm.cards[card["id"]]
        assert card["title"] == src.title and card["summary"] == src.summary and card["status"] == src.status
        assert [p["ref"] for p in card["placements"]] == [p.ref for p in src.placements]
        assert [p["relation"] for p in card["placements"]] == [p.relation for p in src.placements]
        assert [(h["actor"], h["category"]) for h in card["harm_types"]] == [
            (h.actor, h.category) for h in src.harm_types
        ]
        assert [(s["scenario"], s["severity"], s["rationale"]) for s in card["scenarios"]] == [
            (s.scenario, s.severity, s.rationale) for s in src.scenarios
        ]
        for ex, sex in zip(card["examples"], src.examples, strict=True):
            assert ex["id"] == sex.id and ex.get("prompt") == sex.prompt and ex.get("output") == sex.output
            assert ex.get("turns") == ([t.model_dump() for t in sex.turns] if sex.turns else None)
            assert ex["provenance"]["kind"] == sex.provenance.kind
            assert [(e["guard"], e["verdict"], e["categories"], e["target"]) for e in ex["expected"]] == [
                (e.guard, e.verdict, e.categories, e.target) for e in sex.expected
            ]


def test_json_export_of_a_query(kb):
    res = run("export", "-f", "json", "--scenario", "customer-support-bot", "--min-severity", "medium", root=kb)
    doc = json.loads(res.stdout)
    assert doc["query"] == {"scenario": "customer-support-bot", "min_severity": "medium"}
    assert [c["id"] for c in doc["cards"]] == ["toxic-insults", "hate-against-groups"]  # the query's order
    assert "taxonomies" not in doc


def test_jsonl_export_one_example_per_line(kb, tmp_path):
    out = tmp_path / "examples.jsonl"
    res = run("export", "-f", "jsonl", "-o", str(out), root=kb)
    assert res.returncode == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    # 5 examples, one withheld (no text) left out
    assert sorted((r["card"], r["id"]) for r in recs) == [
        ("hate-against-groups", "dehumanising-turns"),
        ("toxic-insults", "observed-insult"),
        ("toxic-insults", "second-insult"),
        ("wrong-dosage", "doubled-dose"),
    ]
    by_id = {r["id"]: r for r in recs}
    assert by_id["doubled-dose"]["messages"] == [
        {"role": "user", "content": "How much of my painkiller can I take at once?"},
        {"role": "assistant", "content": "Take [redacted: a dose above the labelled maximum] at once."},
    ]
    assert by_id["dehumanising-turns"]["messages"][0]["role"] == "user"
    assert by_id["observed-insult"]["provenance"]["model"] == "llama-3.1-8b-instruct"
    assert by_id["observed-insult"]["results"][0]["label"] == "unsafe"
    assert by_id["doubled-dose"]["placements"] == ["weidinger-2021:W3.2", "llama-guard-3:S6"]
    assert by_id["doubled-dose"]["harm_types"] == ["consumer:physical", "provider:legal"]
    assert all(r["sensitivity"] != "withheld" for r in recs)


def test_jsonl_export_of_a_category(kb):
    res = run("export", "-f", "jsonl", "--category", "weidinger-2021:W1", "--via-crosswalk", root=kb)
    cards = {json.loads(line)["card"] for line in res.stdout.splitlines()}
    assert cards == {"toxic-insults", "hate-against-groups"}


def test_csv_export_one_card_per_row(kb):
    res = run("export", "-f", "csv", root=kb)
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert list(rows[0]) == exporters.CSV_COLUMNS
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"hate-against-groups", "retired-misinformation", "toxic-insults", "wrong-dosage"}
    d = by_id["wrong-dosage"]
    assert d["placements"] == "weidinger-2021:W3.2; llama-guard-3:S6"
    assert d["scenarios"] == "medical-question-answering=critical; customer-support-bot=low"
    assert d["harm_types"] == "consumer:physical; provider:legal"
    assert d["max_severity"] == "critical" and d["examples"] == "1" and d["path"] == "cards/wrong-dosage.yaml"
    assert by_id["retired-misinformation"]["max_severity"] == ""


def test_export_is_atomic_and_unknown_filters_fail(kb, tmp_path):
    out = tmp_path / "x.csv"
    out.write_text("previous")
    res = run("export", "-f", "csv", "--scenario", "nope", "-o", str(out), root=kb)
    assert res.returncode == 2 and "unknown scenario 'nope'" in res.stderr
    assert out.read_text() == "previous"
    res = run("export", "-f", "yaml", root=kb)
    assert res.returncode == 2
    assert not list(tmp_path.glob(".*.tmp"))


def test_render_rejects_unknown_format(kb):
    conn = Q.connect(kb / "build" / "riskcards.db")
    with pytest.raises(ValueError, match="unknown export format"):
        exporters.render(conn, "xml")


def test_json_export_text_is_what_the_standard_library_writes(kb):
    """The JSON export is written with orjson for speed; its text stays exactly that of
    json.dumps(indent=2, ensure_ascii=False), so exports keep diffing cleanly across versions."""
    conn = Q.connect(kb / "build" / "riskcards.db")
    text, _n = exporters.render(conn, "json")
    doc = exporters.json_document(conn)
    conn.close()
    assert text == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
