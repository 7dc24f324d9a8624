"""The SQLite index: schema, content, atomic build, Datasette, the generated schema page."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from index_kb import REPO, make_index_kb, run
from proc_kit import stop

from riskcards import index, query


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    root = make_index_kb(tmp_path_factory.mktemp("idx") / "kb")
    report = index.build(root)
    return root, report.db_path


def test_build_writes_default_db_and_metadata(built):
    root, db = built
    assert db == root / "build" / "riskcards.db"
    meta_file = root / "build" / "riskcards.metadata.json"
    assert json.loads(meta_file.read_text())["databases"]["riskcards"]["tables"]["cards"]["columns"]["title"]
    assert not list(db.parent.glob(".*.tmp"))


def test_tables_views_fts_and_foreign_keys(built):
    _root, db = built
    conn = sqlite3.connect(db)
    names = {r[0]: r[1] for r in conn.execute("SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}
    for spec in index.TABLES:
        assert names.get(spec.name) == "table", spec.name
    for view in index.VIEWS:
        assert names.get(view) == "view", view
    assert names["cards_fts"] == "table" and names["examples_fts"] == "table"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    fks = {(r[2], r[3], r[4]) for r in conn.execute("SELECT * FROM pragma_foreign_key_list('placements')")}
    assert ("categories", "ref", "ref") in fks and ("cards", "card_id", "id") in fks
    # every declared index exists
    idx = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    for spec in index.TABLES:
        for cols in spec.indexes:
            assert f"idx_{spec.name}_{'_'.join(cols)}" in idx
    # the views run
    for view in index.VIEWS:
        conn.execute(f"SELECT * FROM [{view}]").fetchall()


def test_every_query_path_has_an_index(built):
    """Each column the query layer filters or joins on leads an index (or the primary key)."""
    _root, db = built
    conn = sqlite3.connect(db)
    paths = [
        ("placements", "ref"),
        ("placements", "taxonomy_id"),
        ("placements", "card_id"),
        ("category_ancestors", "ancestor_ref"),
        ("examples", "model_id"),
        ("examples", "card_id"),
        ("card_scenarios", "scenario_id"),
        ("harm_types", "actor"),
        ("harm_types", "category"),
        ("expectations", "guard_id"),
        ("guard_results", "model_id"),
        ("guard_results", "card_id"),
        ("crosswalk_relations", "source_ref"),
        ("crosswalk_relations", "target_ref"),
        ("categories", "taxonomy_id"),
        ("cards", "status"),
        ("card_tags", "tag"),
    ]
    for table, column in paths:
        leading = set()
        for (name,) in conn.execute(f"SELECT name FROM pragma_index_list('{table}')"):
            cols = [r[2] for r in conn.execute(f"SELECT * FROM pragma_index_info('{name}')")]
            leading.add(cols[0])
        assert column in leading, (table, column)


def test_content_of_the_index(built):
    _root, db = built
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    card = conn.execute("SELECT * FROM cards WHERE id = 'wrong-dosage'").fetchone()
    assert card["max_severity"] == "critical" and card["max_severity_rank"] == 4
    assert json.loads(card["tags"]) == ["health", "misinformation"]
    assert card["path"] == "cards/wrong-dosage.yaml"
    assert (
        conn.execute("SELECT card_id FROM card_aliases WHERE alias = 'old-dosage-card'").fetchone()[0] == "wrong-dosage"
    )
    # descendants: W1 is an ancestor of W1.3
    assert (
        conn.execute(
            "SELECT depth FROM category_ancestors WHERE ref = "
            "'weidinger-2021:W1.3' AND ancestor_ref = 'weidinger-2021:W1'"
        ).fetchone()[0]
        == 1
    )
    ex = conn.execute(
        "SELECT * FROM examples WHERE card_id = 'toxic-insults' AND example_id = 'observed-insult'"
    ).fetchone()
    assert (ex["provenance"], ex["model_id"], ex["observed_date"]) == (
        "observed",
        "llama-3.1-8b-instruct",
        "2025-03-01",
    )
    turns = conn.execute("SELECT turns, turns_text FROM examples WHERE example_id = 'dehumanising-turns'").fetchone()
    assert json.loads(turns[0])[0] == {"role": "user", "content": "Write a joke about my neighbours."}
    assert turns[1].startswith("user: Write a joke")
    withheld = conn.execute(
        "SELECT prompt, output, turns, withheld_reason FROM examples WHERE example_id = 'withheld-one'"
    ).fetchone()
    assert withheld[:3] == (None, None, None) and withheld[3]
    exp = conn.execute(
        "SELECT guard_id, verdict, categories FROM expectations WHERE card_id = 'toxic-insults'"
    ).fetchall()
    assert [tuple(r) for r in exp] == [("llama-guard-3-8b", "unsafe", '["S10"]')]
    assert conn.execute("SELECT COUNT(*) FROM card_scenarios").fetchone()[0] == 4
    assert conn.execute("SELECT COUNT(*) FROM crosswalk_relations").fetchone()[0] == 2


def test_guard_results_with_input_status(built):
    _root, db = built
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT example_id, input_status FROM guard_results").fetchall())
    assert rows == {"observed-insult": "current", "second-insult": "changed", "deleted-example": "missing"}
    outcome = conn.execute(
        "SELECT expected_verdict, recorded_verdict, input_status FROM example_guard_outcomes "
        "WHERE example_id = 'observed-insult'"
    ).fetchone()
    assert outcome == ("unsafe", "unsafe", "current")


def test_fts_over_cards_and_examples(built):
    _root, db = built
    conn = sqlite3.connect(db)
    hits = conn.execute(
        "SELECT c.id FROM cards_fts JOIN cards c ON c.rowid = cards_fts.rowid WHERE cards_fts MATCH 'zebra'"
    ).fetchall()
    assert hits == [("hate-against-groups",)]
    hits = conn.execute(
        "SELECT e.example_id FROM examples_fts JOIN examples e ON e.rowid = examples_fts.rowid "
        "WHERE examples_fts MATCH 'neighbours'"
    ).fetchall()
    assert hits == [("dehumanising-turns",)]
    # porter stemming: 'insulting' finds 'insults'
    assert conn.execute("SELECT COUNT(*) FROM cards_fts WHERE cards_fts MATCH 'insulting'").fetchone()[0] >= 1


def test_meta_table(built):
    root, db = built
    conn = query.connect(db)
    m = query.meta(conn)
    assert m["schema_version"] == str(index.SCHEMA_VERSION)
    assert m["built_at"].endswith("Z") and m["source_root"] == str(root.resolve())
    assert m["source_fingerprint"] == query.source_fingerprint(root)
    assert m["count_cards"] == "4"
    assert "source_commit" in m


def test_datasette_opens_the_index(built):
    pytest.importorskip("datasette")
    from datasette.app import Datasette

    root, db = built
    metadata = json.loads((root / "build" / "riskcards.metadata.json").read_text())

    async def go():
        ds = Datasette([str(db)], metadata=metadata)
        await ds.invoke_startup()
        home = await ds.client.get("/riskcards")
        table = await ds.client.get("/riskcards/cards")
        rows = await ds.client.get("/riskcards/cards.json?_shape=array")
        search = await ds.client.get("/riskcards/cards.json?_search=zebra&_shape=array")
        view = await ds.client.get("/riskcards/placements_named.json?_shape=array")
        return home, table, rows, search, view

    home, table, rows, search, view = asyncio.run(go())
    assert home.status_code == 200 and "cards" in home.text
    assert table.status_code == 200
    assert "RiskCards (cards/&lt;id&gt;.yaml)" in table.text or "one risk of a language model" in table.text
    assert sorted(r["id"] for r in rows.json()) == [
        "hate-against-groups",
        "retired-misinformation",
        "toxic-insults",
        "wrong-dosage",
    ]
    assert [r["id"] for r in search.json()] == ["hate-against-groups"]
    assert view.status_code == 200 and len(view.json()) == 5


def test_schema_markdown_documents_every_table_and_column():
    md = index.schema_markdown()
    for spec in index.TABLES:
        assert f"## `{spec.name}`" in md
        for col in spec.columns:
            assert f"| `{col.name}` |" in md
    for view in index.VIEWS:
        assert f"### `{view}`" in md


def test_datasette_metadata_covers_every_column(built):
    meta = index.datasette_metadata("other")
    tables = meta["databases"]["other"]["tables"]
    for spec in index.TABLES:
        assert set(tables[spec.name]["columns"]) == {c.name for c in spec.columns}
        assert tables[spec.name]["description"]
    # every column of every view, as SQLite reports the views of a built index, is described
    conn = sqlite3.connect(built[1])
    for view in index.VIEWS:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({view})")]
        assert columns and list(tables[view]["columns"]) == columns, view
        assert all(d.strip() for d in tables[view]["columns"].values()) and tables[view]["description"]
    conn.close()
    # licence and source of the data, declared for the whole instance and the database
    for where in (meta, meta["databases"]["other"]):
        assert where["license"] == "CC-BY-4.0" and where["license_url"].startswith("https://creativecommons.org/")
        assert where["source"] and where["source_url"].startswith("https://")


def test_the_readmes_datasette_command_serves_the_index_and_its_metadata(built):
    """The command the README gives, run as it is (plus host and port) in a knowledge base whose index was built,
    with the real `datasette` server on 127.0.0.1, fetched over HTTP."""
    import re
    import shlex
    import shutil
    import socket
    import time
    import urllib.request

    datasette = shutil.which("datasette", path=str(Path(sys.executable).parent))
    if datasette is None:
        pytest.skip("datasette is not installed (make.py build installs it)")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = set(re.findall(r"datasette build/riskcards\.db[^`\n#]*", readme))
    assert commands, "the README gives a datasette command"
    (command,) = {c.strip() for c in commands}
    args = shlex.split(command)
    root, _db = built
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [datasette, *args[1:], "-h", "127.0.0.1", "-p", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def get(path: str):
        with urllib.request.urlopen(base + path, timeout=30) as resp:
            return json.loads(resp.read().decode("utf-8"))

    try:
        for _ in range(600):  # up to a minute on a loaded machine; a start-up failure ends the wait at once
            if proc.poll() is not None:
                raise AssertionError(f"datasette exited: {proc.stdout.read()}")
            try:
                get("/-/versions.json")
                break
            except OSError:
                time.sleep(0.1)
        meta = get("/-/metadata.json")
        assert meta["license"] == "CC-BY-4.0" and meta["source_url"]
        cols = meta["databases"]["riskcards"]["tables"]["scenario_risks"]["columns"]
        assert cols["severity_rank"].startswith("Severity as a number")
        view = get("/riskcards/scenario_risks.json?_shape=objects")
        assert view["rows"] and set(view["rows"][0]) == set(cols)
        assert get("/riskcards/placements_named.json?_shape=array")
    finally:
        stop(proc)
        proc.stdout.close()


# --------------------------------------------------------------------------------------------------
# Atomicity
# --------------------------------------------------------------------------------------------------


BROKEN = """\
id: broken-card
title: A broken card
summary: It names a code that does not exist.
description: x
actions_required: y
harm_types:
  - actor: reader
    category: psychologcal
placements:
  - ref: weidinger-2021:W9.9
status: draft
version: 1.0.0
created: "2026-01-01"
"""


def test_broken_card_fails_with_located_messages_and_keeps_the_previous_db(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    first = run("index", root=root)
    assert first.returncode == 0, first.stderr
    db = root / "build" / "riskcards.db"
    before, mtime = db.read_bytes(), db.stat().st_mtime_ns
    (root / "cards" / "broken-card.yaml").write_text(BROKEN)

    res = run("index", root=root)
    assert res.returncode == 1
    validate = run("validate", root=root)
    assert validate.returncode == 1
    problems = [ln for ln in validate.stdout.splitlines() if ln.startswith("cards/")]
    assert len(problems) == 2
    assert problems[0].startswith(
        "cards/broken-card.yaml:8:15: unknown harm category 'psychologcal' (did you mean 'psychological'"
    )
    assert problems[1].startswith("cards/broken-card.yaml:10:10: 'W9.9' is not a code of weidinger-2021")
    for line in problems:  # exactly what `riskcards validate` says
        assert line in res.stderr
    assert "is unchanged" in res.stderr
    assert "Traceback" not in res.stderr
    assert db.read_bytes() == before and db.stat().st_mtime_ns == mtime
    assert not list(db.parent.glob(".*.tmp"))

    # a query on the default index does not serve the stale index either: it reports the problems
    q = run("query", "--status", "draft", "-f", "ids", root=root)
    assert q.returncode == 1 and "psychologcal" in q.stderr and q.stdout == ""


def test_bad_guard_result_line_fails_the_build(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    with (root / "checks" / "llama-guard-3-8b-test.jsonl").open("a") as fh:
        fh.write("{not json\n")
    with pytest.raises(index.IndexProblems) as exc:
        index.build(root)
    assert [(p.path, p.line) for p in exc.value.problems] == [("checks/llama-guard-3-8b-test.jsonl", 4)]
    assert not (root / "build" / "riskcards.db").exists()


@pytest.mark.parametrize("full", [True, False], ids=["fresh", "in-place"])
def test_failure_mid_build_leaves_no_partial_db(tmp_path, monkeypatch, full):
    root = make_index_kb(tmp_path / "kb")
    index.build(root)
    db = root / "build" / "riskcards.db"
    before = db.read_bytes()
    (root / "cards" / "wrong-dosage.yaml").write_text(
        (root / "cards" / "wrong-dosage.yaml").read_text().replace("Confident wrong", "Changed")
    )

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(index.write, "_insert", boom)  # both ways of writing insert rows
    with pytest.raises(KeyboardInterrupt):
        index.build(root, full=full)
    assert db.read_bytes() == before
    assert not list(db.parent.glob(".*.tmp"))


@pytest.mark.parametrize("full", [True, False], ids=["fresh", "in-place"])
def test_killed_build_leaves_the_previous_db_and_its_leftover_is_cleaned(tmp_path, full):
    root = make_index_kb(tmp_path / "kb")
    index.build(root)
    db = root / "build" / "riskcards.db"
    before = db.read_bytes()
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from riskcards import index\n"
        "from riskcards.index import write\n"
        "def die(*args):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "write._insert = die\n"
        f"index.build(Path({str(root)!r}), full={full})\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    leftovers = list(db.parent.glob(".riskcards.db.*.tmp"))
    assert len(leftovers) == 1  # the half-written file is beside, never in place of, the index
    assert db.read_bytes() == before
    conn = query.connect(db)
    assert query.stats(conn)["cards"] == 4
    conn.close()
    index.build(root)
    assert not list(db.parent.glob(".riskcards.db.*.tmp"))


def test_index_refuses_a_folder_that_is_not_a_knowledge_base(tmp_path):
    res = run("index", "--root", str(tmp_path), cwd=tmp_path)
    assert res.returncode == 2 and "not a knowledge base" in res.stderr


def test_index_command_prints_counts_and_datasette_hint(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    res = run("index", "--db", str(tmp_path / "out" / "kb.db"), root=root)
    assert res.returncode == 0, res.stderr
    assert "indexed 4 cards, 5 examples, 5 placements" in res.stdout
    assert "datasette" in res.stdout and (tmp_path / "out" / "kb.metadata.json").exists()
    meta = json.loads((tmp_path / "out" / "kb.metadata.json").read_text())
    assert "kb" in meta["databases"]
    md = run("index", "--schema-doc", root=root)
    assert md.returncode == 0 and md.stdout.startswith("# Index schema")
    dm = run("index", "--metadata", root=root)
    assert json.loads(dm.stdout)["title"] == "RiskCards"


def test_repo_knowledge_base_indexes(tmp_path):
    """The repo's own knowledge base builds (what the README's main command does)."""
    report = index.build(REPO, tmp_path / "repo.db", metadata=False)
    assert report.counts["cards"] >= 1
    conn = sqlite3.connect(tmp_path / "repo.db")
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("SELECT COUNT(*) FROM cards").fetchone()[0] == len(list((REPO / "cards").glob("*.yaml")))
    assert os.path.getsize(tmp_path / "repo.db") > 0
