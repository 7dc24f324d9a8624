"""Updating an index in place: only the changed cards' rows are replaced, and the result is the same as a
fresh build (every table, full-text search, counts), whatever changed; anything else is written anew."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from index_kb import make_index_kb, run

from riskcards import index, query
from riskcards.validate import RecordCache, validate


def table_rows(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table but meta, in primary-key order (row ids of rowid tables left out: they are
    an internal detail that full-text search keys on, and differ between an update and a fresh write)."""
    conn = sqlite3.connect(db)
    try:
        out = {}
        for spec in index.TABLES:
            if spec.name == query.META_TABLE:
                continue
            order = spec.pk if isinstance(spec.pk, str) else ", ".join(spec.pk)
            out[spec.name] = conn.execute(f"SELECT * FROM [{spec.name}] ORDER BY {order}").fetchall()
        out["counts"] = sorted(conn.execute(f"SELECT key, value FROM [{query.META_TABLE}] WHERE key LIKE 'count_%'"))
        return out
    finally:
        conn.close()


def searches(db: Path, words=("insult", "dosage", "redacted", "fabrication", "brand-new", "useless")) -> dict:
    check = sqlite3.connect(db)
    for fts in ("cards_fts", "examples_fts"):  # raises when a full-text index and its content disagree
        check.execute(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")
    check.rollback()
    check.close()
    conn = query.connect(db)
    try:
        return {w: sorted((h["card"], h["in"]) for h in query.search(conn, w, limit=100)) for w in words}
    finally:
        conn.close()


def assert_same_as_fresh(root: Path, db: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    fresh.unlink(missing_ok=True)
    index.build(root, fresh, full=True, metadata=False)
    assert table_rows(db) == table_rows(fresh)
    assert searches(db) == searches(fresh)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def kb(tmp_path) -> Path:
    root = make_index_kb(tmp_path / "kb")
    assert index.build(root).updated is None
    return root


def test_each_kind_of_card_change_is_applied_in_place_and_matches_a_fresh_build(kb, tmp_path):
    db = kb / "build" / "riskcards.db"
    cards = kb / "cards"

    # a title and a description: the card's row and its full-text entry
    edit(cards / "wrong-dosage.yaml", "title: ", "title: Changed dosage title, ")
    assert index.build(kb).updated == 1
    assert_same_as_fresh(kb, db, tmp_path)

    # an example's text: its recorded verdict no longer matches the example (input_status 'changed')
    edit(cards / "toxic-insults.yaml", "You are useless, answer me properly.", "You are useless, answer me now.")
    assert index.build(kb).updated == 1
    assert_same_as_fresh(kb, db, tmp_path)
    conn = sqlite3.connect(db)
    statuses = dict(conn.execute("SELECT example_id, input_status FROM guard_results WHERE card_id = 'toxic-insults'"))
    conn.close()
    assert statuses["observed-insult"] == "changed"

    # a new card, and a card removed
    (cards / "brand-new.yaml").write_text(
        (cards / "wrong-dosage.yaml")
        .read_text()
        .replace("id: wrong-dosage", "id: brand-new")
        .replace("aliases: [old-dosage-card]", "aliases: []")
        .replace("title: ", "title: Brand-new card, ")
    )
    (cards / "hate-against-groups.yaml").unlink()
    assert index.build(kb).updated == 2
    assert_same_as_fresh(kb, db, tmp_path)
    conn = query.connect(db)
    assert {h["card"] for h in query.search(conn, "brand-new")} == {"brand-new"}
    assert not any(h["card"] == "hate-against-groups" for h in query.search(conn, "hate", limit=100))
    assert query.stats(conn)["cards"] == 4
    conn.close()

    # an alias moves from one card to another
    edit(cards / "wrong-dosage.yaml", "aliases: [old-dosage-card]", "aliases: []")
    edit(cards / "brand-new.yaml", "aliases: []", "aliases: [old-dosage-card]")
    assert index.build(kb).updated == 2
    assert_same_as_fresh(kb, db, tmp_path)

    # nothing changed: only the build facts are rewritten
    report = index.build(kb)
    assert report.updated == 0
    assert_same_as_fresh(kb, db, tmp_path)


def test_the_card_that_verdicts_name_is_added_later(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    toxic = (root / "cards" / "toxic-insults.yaml").read_text()
    (root / "cards" / "toxic-insults.yaml").unlink()
    assert index.build(root).updated is None
    conn = sqlite3.connect(root / "build" / "riskcards.db")
    assert {r[0] for r in conn.execute("SELECT input_status FROM guard_results")} == {"missing"}
    conn.close()
    (root / "cards" / "toxic-insults.yaml").write_text(toxic)
    assert index.build(root).updated == 1
    assert_same_as_fresh(root, root / "build" / "riskcards.db", tmp_path)


@pytest.mark.parametrize("change", ["scenario", "taxonomy", "verdicts", "vocabulary"])
def test_anything_but_cards_changing_writes_the_index_anew(kb, tmp_path, change):
    if change == "scenario":
        edit(kb / "scenarios" / "customer-support-bot.yaml", "summary: ", "summary: Edited. ")
    elif change == "taxonomy":
        edit(kb / "taxonomies" / "weidinger-2021.yaml", "description: 'A report", "description: 'Edited. A report")
    elif change == "verdicts":
        path = kb / "checks" / "llama-guard-3-8b-test.jsonl"
        lines = path.read_text().splitlines()
        path.write_text("\n".join(lines[:2]) + "\n")
    else:
        edit(
            kb / "vocab" / "harm-types.yaml",
            "description: The person who reads",
            "description: Edited. The person who reads",
        )
    assert index.build(kb).updated is None
    assert_same_as_fresh(kb, kb / "build" / "riskcards.db", tmp_path)


def test_a_comment_or_layout_change_changes_nothing_in_the_index(kb):
    path = kb / "cards" / "wrong-dosage.yaml"
    path.write_text("# a comment a contributor added\n" + path.read_text())
    (kb / "taxonomies" / "weidinger-2021.yaml").write_text(
        "# another\n" + (kb / "taxonomies" / "weidinger-2021.yaml").read_text()
    )
    assert index.build(kb).updated == 0


def test_an_index_written_by_other_code_or_unreadable_is_written_anew(kb, monkeypatch):
    db = kb / "build" / "riskcards.db"
    monkeypatch.setattr(index.rows, "_code_fingerprint", lambda: "another version of the indexer")
    assert index.build(kb).updated is None
    monkeypatch.undo()
    assert index.build(kb).updated is None  # back to this code's fingerprint
    assert index.build(kb).updated == 0
    db.write_bytes(b"not a database at all")
    assert index.build(kb).updated is None
    assert query.stats(query.connect(db))["cards"] == 4


def test_an_index_changed_by_hand_is_written_anew(kb):
    db = kb / "build" / "riskcards.db"
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM placements WHERE card_id = 'wrong-dosage'")
    conn.commit()
    conn.close()
    edit(kb / "cards" / "toxic-insults.yaml", "title: ", "title: Changed, ")
    assert index.build(kb).updated is None
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM placements WHERE card_id = 'wrong-dosage'").fetchone()[0] > 0
    conn.close()


def test_which_cards_changed_and_when_a_fresh_write_is_quicker(kb):
    from riskcards.guards.store import read_results

    db = kb / "build" / "riskcards.db"
    ref, fps = index.fingerprints(validate(kb).kb, read_results(kb)[0])
    assert index.write._changed_cards(db, ref, fps) == set()
    assert index.write._changed_cards(db, ref, {**fps, "a-new-card": "x"}) == {"a-new-card"}
    assert index.write._changed_cards(db, ref, {k: v for k, v in fps.items() if k != "wrong-dosage"}) == {
        "wrong-dosage"
    }
    assert (
        index.write._changed_cards(db, ref, {**fps, **{f"new-{i}": "x" for i in range(101)}}) is None
    )  # more than 100 and a quarter
    assert index.write._changed_cards(db, "other reference records", fps) is None


def test_the_cli_says_how_the_index_was_written(kb):
    edit(kb / "cards" / "wrong-dosage.yaml", "title: ", "title: Changed, ")
    res = run("index", root=kb)
    assert res.returncode == 0, res.stderr
    assert "updated in place, 1 changed cards replaced" in res.stdout
    res = run("index", "--full", root=kb)
    assert res.returncode == 0, res.stderr
    assert "written anew" in res.stdout


def test_a_broken_card_leaves_the_index_as_it_was_on_the_in_place_path(kb):
    db = kb / "build" / "riskcards.db"
    before = db.read_bytes()
    edit(kb / "cards" / "wrong-dosage.yaml", "status: draft", "status: finished")
    with pytest.raises(index.IndexProblems) as exc:
        index.build(kb)
    assert any("status" in p.message for p in exc.value.problems)
    assert db.read_bytes() == before


def test_a_record_cache_gives_the_same_result_as_a_fresh_validation(kb):
    cache = RecordCache()

    def same() -> None:
        cached, plain = validate(kb, cache=cache), validate(kb)
        assert cached.problems == plain.problems
        assert {k: v.model_dump() for k, v in cached.kb.cards.items()} == {
            k: v.model_dump() for k, v in plain.kb.cards.items()
        }
        assert cached.kb.digests == plain.kb.digests

    same()
    assert cache.reused == 0
    same()
    total = cache.reused
    assert total > 4  # every file came from the cache
    # a problem appears in one file, and one across files (a duplicate alias), then both go away
    edit(kb / "cards" / "wrong-dosage.yaml", "status: draft", "status: finished")
    (kb / "cards" / "copy.yaml").write_text(
        (kb / "cards" / "wrong-dosage.yaml").read_text().replace("id: wrong-dosage", "id: copy")
    )
    same()
    assert cache.reused == total - 1
    # (the test knowledge base keeps stale guard verdicts on purpose, as historical records: not counted here)
    found = {p.path for p in validate(kb, cache=cache).problems if p.check != "guard-stale"}
    assert found == {"cards/wrong-dosage.yaml", "cards/copy.yaml"}
    (kb / "cards" / "copy.yaml").unlink()
    edit(kb / "cards" / "wrong-dosage.yaml", "status: finished", "status: draft")
    same()
    assert [p for p in validate(kb, cache=cache).problems if p.check != "guard-stale"] == []
    assert json.dumps(sorted(cache.entries)) == json.dumps(sorted(validate(kb).kb.digests))
