"""Issue 15, the display side: incidents, incident links, related cards and model facts in the index, the
query layer (`query --incident`, `incidents`, `show`) and the JSON export. Expected numbers are computed from
the records (``load_kb``), never written down."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, make_kb
from index_kb import run

from riskcards import index
from riskcards import query as Q
from riskcards.terms import RELATED_INVERSE
from riskcards.validate import load_kb

GENERAL = "confabulated-facts-presented-as-knowledge"
SPECIAL = "fabricated-citations-and-references"  # states 'specialises' GENERAL


@pytest.fixture(scope="module")
def repo_db(tmp_path_factory) -> tuple[object, Path]:
    """The repo's own knowledge base, validated and indexed into a temporary file."""
    db = tmp_path_factory.mktemp("repo") / "repo.db"
    index.build(REPO, db, metadata=False)
    return load_kb(REPO).kb, db


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """Two related repo cards and every incident; GENERAL's own entry for SPECIAL removed, so that the link is
    stated on one side only."""
    root = make_kb(tmp_path_factory.mktemp("ev") / "kb", cards=(GENERAL, SPECIAL))
    path = root / "cards" / f"{GENERAL}.yaml"
    text = path.read_text(encoding="utf-8")
    new = re.sub(rf"  - card: {SPECIAL}\n(?:    .*\n)*", "", text, count=1)
    assert new != text
    new = re.sub(r"\nrelated:\n(?!  )", "\n", new)  # no entry left
    path.write_text(new, encoding="utf-8")
    index.build(root)
    return root


@pytest.fixture(scope="module")
def conn(small):
    c = Q.connect(small / "build" / "riskcards.db")
    yield c
    c.close()


# --------------------------------------------------------------------------------------------------
# The index holds exactly what the records say
# --------------------------------------------------------------------------------------------------


def test_index_rows_are_the_records(repo_db):
    kb, db = repo_db
    conn = sqlite3.connect(db)
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    incidents = list(kb.incidents.values())
    assert one("SELECT COUNT(*) FROM incidents") == len(incidents)
    assert one("SELECT COUNT(*) FROM incident_systems") == sum(len(i.systems) for i in incidents)
    assert one("SELECT COUNT(*) FROM incident_harm_kinds") == sum(len(i.harm_kinds) for i in incidents)
    assert one("SELECT COUNT(*) FROM incident_sources") == sum(len(i.sources) for i in incidents)
    links = {(c.id, link.incident, link.note) for c in kb.cards.values() for link in c.incidents}
    assert set(conn.execute("SELECT card_id, incident_id, note FROM card_incidents")) == links
    related = {(c.id, r.card, r.relation, r.boundary) for c in kb.cards.values() for r in c.related}
    assert set(conn.execute("SELECT card_id, related_card_id, relation, boundary FROM card_related")) == related
    facts = {
        (m.id, name, f.date if name == "released" else f.value, f.source.url)
        for m in kb.models.values()
        if m.facts
        for name in ("released", "publisher", "license", "parameters")
        if (f := getattr(m.facts, name)) is not None
    }
    assert facts and set(conn.execute("SELECT model_id, fact, value, source_url FROM model_facts")) == facts
    for inc in incidents:  # every field of every incident
        row = conn.execute(
            "SELECT title, date, year, summary, deployer, language_model, aiid, confidence, path FROM incidents "
            "WHERE id = ?",
            (inc.id,),
        ).fetchone()
        assert row == (
            inc.title,
            inc.date,
            int(inc.date[:4]),
            inc.summary,
            inc.deployer,
            int(inc.language_model),
            inc.aiid,
            inc.confidence,
            f"incidents/{inc.id}.yaml",
        )
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    counts = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'count_%'"))
    assert counts["count_card_incidents"] == str(len(links)) and counts["count_incidents"] == str(len(incidents))


def test_views_join_incidents_and_related_cards(repo_db):
    kb, db = repo_db
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT date, incident_id, card_id FROM incident_cards").fetchall()
    dates = [r[0] for r in rows]
    assert dates == sorted(dates)
    unlinked = {
        i for i in kb.incidents if not any(link.incident == i for c in kb.cards.values() for link in c.incidents)
    }
    links = sum(len(c.incidents) for c in kb.cards.values())
    assert len(rows) == links + len(unlinked)
    named = conn.execute("SELECT card_id, card_title, related_card_id, related_card_title FROM related_cards_named")
    for a, a_title, b, b_title in named:
        assert (a_title, b_title) == (kb.cards[a].title, kb.cards[b].title)


def test_stats_count_incidents_from_the_index(repo_db):
    kb, db = repo_db
    st = Q.stats(Q.connect(db))
    assert st["incidents"] == len(kb.incidents)
    assert st["cards_with_incidents"] == sum(1 for c in kb.cards.values() if c.incidents)


def test_an_incident_edit_makes_the_index_stale_and_rebuilds_it(small, tmp_path):
    """incidents/ is a source folder of the index: editing an incident is seen by the next query."""
    import shutil

    root = tmp_path / "kb"
    shutil.copytree(small, root)
    db = root / "build" / "riskcards.db"
    assert not index.is_stale(root, db)
    path = root / "incidents" / "mata-v-avianca-fabricated-citations.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^title: .*$", 'title: "A retitled incident"', text, count=1), encoding="utf-8")
    assert index.is_stale(root, db)
    res = run("incidents", "-f", "json", root=root)
    assert res.returncode == 0, res.stderr
    titles = {i["id"]: i["title"] for i in json.loads(res.stdout)}
    assert titles["mata-v-avianca-fabricated-citations"] == "A retitled incident"


# --------------------------------------------------------------------------------------------------
# query --incident
# --------------------------------------------------------------------------------------------------


def test_query_by_incident_returns_the_cards_that_link_it(repo_db):
    kb, db = repo_db
    conn = Q.connect(db)
    linked: dict[str, set[str]] = {}
    for c in kb.cards.values():
        for link in c.incidents:
            linked.setdefault(link.incident, set()).add(c.id)
    for iid, inc in kb.incidents.items():
        found = Q.find_cards(conn, Q.Query(incident=iid))
        assert {c["id"] for c in found} == linked.get(iid, set()), iid
        for c in found:
            note = next(link.note for link in kb.cards[c["id"]].incidents if link.incident == iid)
            assert c["incident"] == {"id": iid, "date": inc.date, "title": inc.title, "note": note}


def test_query_by_incident_combines_with_other_filters(conn):
    everything = [c["id"] for c in Q.find_cards(conn, Q.Query(incident="mata-v-avianca-fabricated-citations"))]
    assert SPECIAL in everything
    none = Q.find_cards(conn, Q.Query(incident="mata-v-avianca-fabricated-citations", status="deprecated"))
    assert none == []


def test_unknown_incident_is_an_error_with_the_nearest_ids(conn, small):
    with pytest.raises(Q.UnknownId) as exc:
        Q.find_cards(conn, Q.Query(incident="mata-v-avianca"))
    assert "mata-v-avianca-fabricated-citations" in exc.value.suggestions
    res = run("query", "--incident", "mata-v-avianca", root=small)
    assert res.returncode == 2 and res.stdout == ""
    assert "unknown incident 'mata-v-avianca'" in res.stderr and "mata-v-avianca-fabricated-citations" in res.stderr
    assert "`riskcards incidents` lists them" in res.stderr


def test_query_incident_cli_formats(small):
    res = run("query", "--incident", "mata-v-avianca-fabricated-citations", "-f", "json", root=small)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["query"] == {"incident": "mata-v-avianca-fabricated-citations"}
    assert {c["id"] for c in doc["cards"]} <= {GENERAL, SPECIAL} and doc["count"] == len(doc["cards"]) >= 1
    assert all(c["incident"]["note"] for c in doc["cards"])
    table = run("query", "--incident", "mata-v-avianca-fabricated-citations", root=small)
    assert "how the incident shows it" in table.stdout.splitlines()[0]
    csv_out = run("query", "--incident", "mata-v-avianca-fabricated-citations", "-f", "csv", root=small)
    assert "how the incident shows it" in csv_out.stdout.splitlines()[0]


# --------------------------------------------------------------------------------------------------
# riskcards incidents, show, export
# --------------------------------------------------------------------------------------------------


def test_incidents_listing_oldest_first_with_counts(small):
    kb = load_kb(small).kb
    res = run("incidents", "-f", "json", root=small)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [i["id"] for i in got] == [i.id for i in sorted(kb.incidents.values(), key=lambda i: (i.date, i.id))]
    per = Counter(link.incident for c in kb.cards.values() for link in c.incidents)
    for i in got:
        inc = kb.incidents[i["id"]]
        assert (i["cards"], i["harm_kinds"], i["aiid"], i["language_model"]) == (
            per[i["id"]],
            list(inc.harm_kinds),
            inc.aiid,
            inc.language_model,
        )
    ids = run("incidents", "-f", "ids", root=small)
    assert ids.stdout.split() == [i["id"] for i in got]
    table = run("incidents", root=small)
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:3] == ["id", "date", "title"]


def test_show_lists_incidents_with_dates_and_related_cards_both_ways(small):
    kb = load_kb(small).kb
    res = run("show", SPECIAL, root=small)
    assert res.returncode == 0, res.stderr
    text = res.stdout
    seen = text.split("Seen in deployment\n", 1)[1].split("\n\n", 1)[0]
    for link in kb.cards[SPECIAL].incidents:
        inc = kb.incidents[link.incident]
        assert re.search(rf"(?m)^  {re.escape(inc.date)}\s+.*\({link.incident}\)$", seen), link.incident
    dates = re.findall(r"(?m)^  (\d{4}-\d{2}(?:-\d{2})?) ", seen)
    assert dates == sorted(dates)
    rel = text.split("Related cards\n", 1)[1].split("\n\n", 1)[0]
    assert re.search(rf"(?m)^  specialises\s+{GENERAL}\s", rel)
    assert "boundary: Fabricated citations are confabulation" in rel
    # GENERAL does not state the link: it shows the inverse, marked as stated on the other card
    other = run("show", GENERAL, root=small).stdout.split("Related cards\n", 1)[1].split("\n\n", 1)[0]
    assert re.search(rf"(?m)^  {RELATED_INVERSE['specialises']}\s+{SPECIAL}\s.*\(stated on {SPECIAL}\)$", other)
    data = json.loads(run("show", GENERAL, "-f", "json", root=small).stdout)
    assert data["related_by"] == [
        {
            "card": SPECIAL,
            "title": kb.cards[SPECIAL].title,
            "relation": "generalises",
            "boundary": next(r.boundary for r in kb.cards[SPECIAL].related if r.card == GENERAL),
        }
    ]
    assert {i["incident"] for i in data["incidents"]} == {link.incident for link in kb.cards[GENERAL].incidents}


def test_show_without_incidents_or_related_prints_no_empty_section(tmp_path):
    root = make_kb(tmp_path / "kb")  # the base card, alone: no related card survives the copy
    card = load_kb(root).kb.cards["confident-wrong-dosage-advice"]
    res = run("show", card.id, root=root)
    assert res.returncode == 0, res.stderr
    assert ("Seen in deployment" in res.stdout) == bool(card.incidents)
    assert "Related cards" not in res.stdout


def test_json_export_carries_incidents_related_cards_and_model_facts(conn):
    from riskcards.exporters.document import json_document

    doc = json_document(conn)
    cards = {c["id"]: c for c in doc["cards"]}
    assert cards[SPECIAL]["related"][0]["card"] in (GENERAL, "misquoting-real-people")
    assert cards[SPECIAL]["incidents"]
    facts = {m["id"]: m["facts"] for m in doc["models"]}
    assert facts["llama-guard-3-8b"]["parameters"]["value"] == "8B"
    assert facts["llama-guard-3-8b"]["parameters"]["source"]["url"].startswith("https://")


def test_incident_ids_complete(conn):
    assert Q.complete(conn, "incident", "mata-") == ["mata-v-avianca-fabricated-citations"]
