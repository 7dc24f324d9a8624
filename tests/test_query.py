"""The query layer and the query CLI: every filter, combinations, descendants, crosswalk inference,
full-text search, unknown ids, staleness, output formats, listings and completion."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from index_kb import make_index_kb, run

from riskcards import index
from riskcards import query as Q


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> Path:
    root = make_index_kb(tmp_path_factory.mktemp("query") / "kb")
    index.build(root)
    return root


@pytest.fixture(scope="module")
def conn(kb):
    c = Q.connect(kb / "build" / "riskcards.db")
    yield c
    c.close()


def ids(conn, **filters) -> list[str]:
    return [c["id"] for c in Q.find_cards(conn, Q.Query(**filters))]


# --------------------------------------------------------------------------------------------------
# Filters, one by one
# --------------------------------------------------------------------------------------------------


def test_no_filter_returns_every_card_by_id(conn):
    assert ids(conn) == ["hate-against-groups", "retired-misinformation", "toxic-insults", "wrong-dosage"]


def test_category_includes_descendants(conn):
    assert ids(conn, category="weidinger-2021:W1") == ["toxic-insults"]
    assert ids(conn, category="weidinger-2021:W1.3") == ["toxic-insults"]
    assert ids(conn, category="weidinger-2021:W3") == ["wrong-dosage"]
    assert ids(conn, category="weidinger-2021:W1.1") == []  # a sibling, not an ancestor
    cards = Q.find_cards(conn, Q.Query(category="weidinger-2021:W1"))
    assert cards[0]["matches"] == [
        {"ref": "weidinger-2021:W1.3", "name": "Toxic language", "relation": "exact", "inferred": False, "via": None}
    ]
    assert cards[0]["inferred"] is False


def test_category_via_crosswalk_marks_inferred_results(conn):
    assert ids(conn, category="weidinger-2021:W1", via_crosswalk=True) == ["hate-against-groups", "toxic-insults"]
    cards = {c["id"]: c for c in Q.find_cards(conn, Q.Query(category="weidinger-2021:W1", via_crosswalk=True))}
    hate = cards["hate-against-groups"]
    assert hate["inferred"] is True
    assert hate["matches"] == [
        {
            "ref": "llama-guard-3:S10",
            "name": "Hate",
            "relation": "exact",
            "inferred": True,
            "via": {
                "crosswalk": "weidinger-2021--llama-guard-3",
                "from": "weidinger-2021:W1.3",
                "relation": "broader",
                "to": "llama-guard-3:S10",
            },
        }
    ]
    assert cards["toxic-insults"]["inferred"] is False
    # and from the other side of the crosswalk
    assert ids(conn, category="llama-guard-3:S10", via_crosswalk=True) == ["hate-against-groups", "toxic-insults"]
    assert ids(conn, category="llama-guard-3:S10") == ["hate-against-groups"]


def test_crosswalk_does_not_add_a_direct_match_twice(conn):
    cards = Q.find_cards(conn, Q.Query(category="weidinger-2021:W3", via_crosswalk=True))
    assert [c["id"] for c in cards] == ["wrong-dosage"]
    refs = [(m["ref"], m["inferred"]) for m in cards[0]["matches"]]
    assert refs == [("weidinger-2021:W3.2", False), ("llama-guard-3:S6", True)]
    assert cards[0]["inferred"] is False


def test_category_code_case_is_forgiven(conn):
    assert ids(conn, category="llama-guard-3:s10") == ["hate-against-groups"]


def test_scenario_orders_by_severity_with_rationale(conn):
    cards = Q.find_cards(conn, Q.Query(scenario="customer-support-bot"))
    assert [(c["id"], c["scenario"]["severity"]) for c in cards] == [
        ("toxic-insults", "high"),
        ("hate-against-groups", "medium"),
        ("wrong-dosage", "low"),
    ]
    assert cards[0]["scenario"]["rationale"] == "The company's bot insulting its customers."


def test_min_severity_in_scenario_and_overall(conn):
    assert ids(conn, scenario="customer-support-bot", min_severity="medium") == ["toxic-insults", "hate-against-groups"]
    assert ids(conn, min_severity="critical") == ["wrong-dosage"]  # the card's highest severity
    assert ids(conn, min_severity="high") == ["toxic-insults", "wrong-dosage"]


def test_language_model_cards_with_guard_outcomes(conn):
    cards = Q.find_cards(conn, Q.Query(model="llama-3.1-8b-instruct"))
    assert [c["id"] for c in cards] == ["toxic-insults"]
    m = cards[0]["model"]
    assert m["kind"] == "language-model"
    assert [e["example_id"] for e in m["examples"]] == ["observed-insult"]  # only examples observed on it
    ex = m["examples"][0]
    assert ex["observed_date"] == "2025-03-01"
    assert ex["expected"] == [
        {"guard": "llama-guard-3-8b", "target": "response", "verdict": "unsafe", "categories": ["S10"]}
    ]
    assert [(r["label"], r["input_status"]) for r in ex["results"]] == [("unsafe", "current")]


def test_guard_model_cards_with_its_verdicts(conn):
    cards = {c["id"]: c for c in Q.find_cards(conn, Q.Query(model="llama-guard-3-8b"))}
    assert sorted(cards) == ["hate-against-groups", "toxic-insults"]
    tox = {e["example_id"]: e for e in cards["toxic-insults"]["model"]["examples"]}
    assert sorted(tox) == ["observed-insult", "second-insult"]  # run on both; expected on one
    assert tox["second-insult"]["expected"] == []
    assert tox["second-insult"]["results"][0]["label"] == "safe"
    assert tox["second-insult"]["results"][0]["input_status"] == "changed"
    hate = cards["hate-against-groups"]["model"]["examples"]
    assert hate[0]["results"] == [] and hate[0]["expected"][0]["verdict"] == "unsafe"
    # another guard's verdicts are not mixed in
    omni = Q.find_cards(conn, Q.Query(model="omni-moderation-latest"))
    assert [c["id"] for c in omni] == ["wrong-dosage"]
    assert omni[0]["model"]["examples"][0]["expected"] == [
        {"guard": "omni-moderation-latest", "target": "response", "verdict": "safe", "categories": []}
    ]


def test_taxonomy_harm_type_status(conn):
    assert ids(conn, taxonomy="llama-guard-3") == ["hate-against-groups", "wrong-dosage"]
    assert ids(conn, taxonomy="owasp-llm-top10-2025") == ["retired-misinformation"]
    assert ids(conn, harm_type="reader") == ["retired-misinformation", "toxic-insults"]
    assert ids(conn, harm_type="physical") == ["wrong-dosage"]
    assert ids(conn, harm_type="provider:legal") == ["wrong-dosage"]
    assert ids(conn, harm_type="reader:legal") == []
    assert ids(conn, status="deprecated") == ["retired-misinformation"]
    assert ids(conn, status="reviewed") == ["toxic-insults"]


def test_full_text_over_cards_and_examples(conn):
    assert ids(conn, text="zebra") == ["hate-against-groups"]  # card description
    assert ids(conn, text="neighbours") == ["hate-against-groups"]  # a conversation turn
    assert ids(conn, text="painkiller") == ["wrong-dosage"]  # card and example text
    cards = Q.find_cards(conn, Q.Query(text="painkiller"))
    assert sorted(cards[0]["text"]["in"]) == ["card", "example:doubled-dose"]
    assert "[painkiller]" in cards[0]["text"]["snippet"]
    assert cards[0]["text"]["score"] < 0
    assert ids(conn, text="insulting") == ["toxic-insults"]  # stemming
    assert ids(conn, text="painkiller OR zebra") == ["hate-against-groups", "wrong-dosage"] or sorted(
        ids(conn, text="painkiller OR zebra")
    ) == ["hate-against-groups", "wrong-dosage"]
    assert ids(conn, text="nothingmatchesthis") == []


def test_text_that_is_not_fts_syntax_still_works(conn):
    assert ids(conn, text='painkiller "') == ["wrong-dosage"]
    assert ids(conn, text="at once?") == ["wrong-dosage"]
    hits = Q.search(conn, "(unbalanced", limit=5)
    assert hits == []


def test_search_function(conn):
    hits = Q.search(conn, "painkiller")
    assert {h["card"] for h in hits} == {"wrong-dosage"}
    assert hits[0]["score"] <= hits[-1]["score"]


# --------------------------------------------------------------------------------------------------
# Combinations
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"scenario": "customer-support-bot", "category": "weidinger-2021:W1", "via_crosswalk": True},
            ["toxic-insults", "hate-against-groups"],
        ),
        ({"scenario": "customer-support-bot", "taxonomy": "llama-guard-3"}, ["hate-against-groups", "wrong-dosage"]),
        (
            {"scenario": "medical-question-answering", "harm_type": "consumer", "min_severity": "critical"},
            ["wrong-dosage"],
        ),
        ({"model": "llama-guard-3-8b", "status": "draft"}, ["hate-against-groups"]),
        ({"model": "llama-guard-3-8b", "text": "zebra", "category": "llama-guard-3:S10"}, ["hate-against-groups"]),
        ({"text": "model", "status": "reviewed"}, ["toxic-insults"]),
        (
            {"category": "weidinger-2021:W1", "via_crosswalk": True, "harm_type": "external-group"},
            ["hate-against-groups"],
        ),
        ({"taxonomy": "weidinger-2021", "min_severity": "high", "scenario": "customer-support-bot"}, ["toxic-insults"]),
        ({"taxonomy": "weidinger-2021", "status": "deprecated"}, []),
    ],
)
def test_filters_combine(conn, filters, expected):
    assert ids(conn, **filters) == expected


def test_combined_result_carries_every_detail(conn):
    cards = Q.find_cards(
        conn,
        Q.Query(
            scenario="customer-support-bot",
            category="weidinger-2021:W1",
            via_crosswalk=True,
            model="llama-guard-3-8b",
            text="abusive OR zebra",
        ),
    )
    assert [c["id"] for c in cards] == ["toxic-insults", "hate-against-groups"]
    for c in cards:
        assert {"scenario", "matches", "inferred", "model", "text"} <= set(c)


def test_limit(conn):
    assert ids(conn, limit=2) == ["hate-against-groups", "retired-misinformation"]


# --------------------------------------------------------------------------------------------------
# Unknown ids and codes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"scenario": "customer-support"}, "unknown scenario 'customer-support' (did you mean 'customer-support-bot'"),
        ({"model": "llama-guard-3"}, "unknown model 'llama-guard-3' (did you mean 'llama-guard-3-8b'"),
        ({"category": "weidinger-2021:W1.9"}, "unknown code 'W1.9' in weidinger-2021 (did you mean"),
        (
            {"category": "weidinger-2012:W1"},
            "unknown taxonomy 'weidinger-2012' (did you mean 'weidinger-2022' or 'weidinger-2021'",
        ),
        ({"category": "W1"}, "write it as 'taxonomy-id:code'"),
        ({"taxonomy": "llama-gaurd-3"}, "unknown taxonomy 'llama-gaurd-3' (did you mean 'llama-guard-3'"),
        ({"harm_type": "readers"}, "unknown harm type 'readers' (did you mean 'reader'"),
        ({"harm_type": "reader:psycho"}, "unknown harm-type category 'psycho' (did you mean 'psychological'"),
        ({"status": "reviewd"}, "unknown status 'reviewd' (did you mean 'reviewed'"),
        ({"min_severity": "severe"}, "unknown severity 'severe'"),
    ],
)
def test_unknown_values_name_the_nearest(conn, filters, message):
    with pytest.raises(Q.UnknownId) as exc:
        Q.find_cards(conn, Q.Query(**filters))
    assert message in str(exc.value)


def test_unknown_card_and_taxonomy_lookups(conn):
    with pytest.raises(Q.UnknownId, match="did you mean 'wrong-dosage'"):
        Q.card(conn, "wrong-dosag")
    with pytest.raises(Q.UnknownId, match="unknown taxonomy"):
        Q.taxonomy_tree(conn, "nope-2021")
    with pytest.raises(Q.UnknownId, match="did you mean 'llama-guard-3'"):
        Q.crosswalk(conn, "weidinger-2021", "llama-guard3")


# --------------------------------------------------------------------------------------------------
# Records and listings
# --------------------------------------------------------------------------------------------------


def test_card_resolves_names_and_aliases(conn):
    c = Q.card(conn, "old-dosage-card")
    assert c["id"] == "wrong-dosage"
    assert c["placements"][0] == {
        "ref": "weidinger-2021:W3.2",
        "name": Q.taxonomy_tree(conn, "weidinger-2021")["categories"][
            [x["code"] for x in Q.taxonomy_tree(conn, "weidinger-2021")["categories"]].index("W3.2")
        ]["name"],
        "taxonomy": "weidinger-2021",
        "taxonomy_name": "Weidinger 2021",
        "relation": "exact",
        "rationale": "Material harm from poor medical information.",
    }
    assert [s["scenario"] for s in c["scenarios"]] == ["medical-question-answering", "customer-support-bot"]
    assert c["scenarios"][0]["name"] == "Medical question answering"
    assert c["examples"][0]["expected"] == [
        {"guard": "omni-moderation-latest", "verdict": "safe", "categories": [], "target": "response"}
    ]
    assert c["references"] == [
        {"title": "Ethical and social risks of harm from Language Models", "url": "https://arxiv.org/abs/2112.04359"}
    ]


def test_taxonomy_tree_counts_and_marks_empty(conn):
    tree = Q.taxonomy_tree(conn, "weidinger-2021")
    cats = {c["code"]: c for c in tree["categories"]}
    assert cats["W1"]["cards"] == 1 and cats["W1"]["direct_cards"] == 0 and not cats["W1"]["empty"]
    assert cats["W1.3"]["cards"] == 1 and cats["W1.3"]["direct_cards"] == 1
    assert cats["W1.1"]["empty"] and cats["W1.1"]["cards"] == 0
    assert cats["W1.3"]["parent"] == "W1"


def test_listings(conn):
    taxes = {t["id"]: t for t in Q.taxonomies(conn)}
    assert taxes["llama-guard-3"]["cards"] == 2 and taxes["llama-guard-3"]["used_categories"] == 2
    models = {m["id"]: m for m in Q.models(conn)}
    assert models["llama-guard-3-8b"]["verdicts"] == 3 and models["llama-guard-3-8b"]["expectations"] == 2
    assert models["llama-3.1-8b-instruct"]["observed_examples"] == 1
    scen = {s["id"]: s for s in Q.scenarios(conn)}
    assert scen["customer-support-bot"]["by_severity"] == {"low": 1, "medium": 1, "high": 1, "critical": 0}
    cw = Q.crosswalk(conn, "llama-guard-3", "weidinger-2021")  # written the other way round: turned around
    assert [(r["a"], r["relation"], r["b"]) for r in cw["relations"]] == [
        ("llama-guard-3:S10", "narrower", "weidinger-2021:W1.3"),
        ("llama-guard-3:S6", "broader", "weidinger-2021:W3.2"),
    ]
    st = Q.stats(conn)
    assert (st["cards"], st["examples"], st["guard_results"]) == (4, 5, 3)


def test_completion_candidates(conn):
    assert Q.complete(conn, "scenario", "med") == ["medical-question-answering"]
    assert "weidinger-2021:" in Q.complete(conn, "category", "weid")
    assert Q.complete(conn, "category", "weidinger-2021:W1.")[:2] == ["weidinger-2021:W1.1", "weidinger-2021:W1.2"]
    assert Q.complete(conn, "card", "wro") == ["wrong-dosage"]
    assert "reader:psychological" in Q.complete(conn, "harm-type", "reader:ps")
    assert Q.complete(conn, "guard", "") == ["llama-guard-3-8b", "omni-moderation-latest"] or set(
        Q.complete(conn, "guard", "")
    ) >= {"llama-guard-3-8b", "omni-moderation-latest"}


def test_connect_rejects_what_is_not_an_index(tmp_path):
    with pytest.raises(Q.BadIndex, match="no index at"):
        Q.connect(tmp_path / "missing.db")
    (tmp_path / "junk.db").write_text("not sqlite at all")
    with pytest.raises(Q.BadIndex, match="not a RiskCards index"):
        Q.connect(tmp_path / "junk.db")


# --------------------------------------------------------------------------------------------------
# The CLI
# --------------------------------------------------------------------------------------------------


def test_cli_query_formats(kb):
    res = run("query", "--scenario", "customer-support-bot", "-f", "ids", root=kb)
    assert res.returncode == 0 and res.stdout.split() == ["toxic-insults", "hate-against-groups", "wrong-dosage"]
    res = run("query", "--category", "weidinger-2021:W1", "--via-crosswalk", "-f", "json", root=kb)
    doc = json.loads(res.stdout)
    assert doc["query"] == {"category": "weidinger-2021:W1", "via_crosswalk": True} and doc["count"] == 2
    assert [c["inferred"] for c in doc["cards"]] == [True, False]
    res = run("query", "--category=weidinger-2021:W1", "--via-crosswalk", "-f", "csv", root=kb)
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert [(r["id"], r["inferred"]) for r in rows] == [("hate-against-groups", "yes"), ("toxic-insults", "no")]
    assert "~llama-guard-3:S10 (via weidinger-2021--llama-guard-3)" in rows[0]["matched categories"]
    res = run("query", "-s", "customer-support-bot", "-m", "llama-guard-3-8b", root=kb)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0].split()[:4] == ["id", "title", "severity", "status"]
    assert (
        "toxic-insults" in lines[2]
        and "observed-insult: expected llama-guard-3-8b unsafe S10; recorded llama-guard-3-8b unsafe S10" in lines[2]
    )
    assert "[changed]" in lines[2]
    assert lines[-1] == "2 cards"


def test_cli_unknown_values_exit_2_with_nearest(kb):
    res = run("query", "--scenario", "medical-qa", root=kb)
    assert res.returncode == 2 and res.stdout == ""
    assert "unknown scenario 'medical-qa' (did you mean 'medical-question-answering'?)" in res.stderr
    res = run("show", "wrong-dosag", root=kb)
    assert res.returncode == 2 and "did you mean 'wrong-dosage'" in res.stderr
    res = run("taxonomy", "llama-guard3", root=kb)
    assert res.returncode == 2 and "did you mean 'llama-guard-3'" in res.stderr
    res = run("query", "--status", "reviewd", root=kb)  # typer path not taken: same message style
    assert res.returncode == 2 and "did you mean 'reviewed'" in res.stderr
    res = run("query", "--no-such-option", root=kb)
    assert res.returncode == 2 and "No such option" in res.stderr


def test_cli_empty_result_is_said(kb):
    res = run("query", "--text", "nothingmatchesthis", root=kb)
    assert res.returncode == 0 and res.stdout == "" and "no cards match" in res.stderr


def test_cli_help_still_works(kb):
    res = run("query", "--help", root=kb)
    assert res.returncode == 0 and "--via-crosswalk" in res.stdout and "--min-severity" in res.stdout
    res = run("--help", root=kb)
    for cmd in (
        "validate",
        "index",
        "query",
        "show",
        "taxonomies",
        "taxonomy",
        "models",
        "scenarios",
        "crosswalk",
        "stats",
        "export",
    ):
        assert cmd in res.stdout


def test_cli_show(kb):
    res = run("show", "wrong-dosage", root=kb)
    assert res.returncode == 0
    out = res.stdout
    assert out.startswith("Confident wrong medication doses  (wrong-dosage)")
    assert "weidinger-2021:W3.2  Weidinger 2021:" in out
    assert "llama-guard-3:S6  Llama Guard 3: Specialized Advice [broader]" in out
    assert "critical Medical question answering (medical-question-answering)" in out
    assert "content warning" in out
    assert "expected omni-moderation-latest on response: safe" in out
    res = run("show", "retired-misinformation", "-f", "json", root=kb)
    doc = json.loads(res.stdout)
    assert (
        doc["status"] == "deprecated"
        and doc["examples"][0]["sensitivity"] == "withheld"
        and "prompt" not in doc["examples"][0]
    )
    assert "withheld: The text would be harmful" in run("show", "retired-misinformation", root=kb).stdout


def test_cli_listings(kb):
    res = run("taxonomy", "weidinger-2021", root=kb)
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    w1 = next(ln for ln in lines if ln.startswith("W1 "))
    assert "1 card" in w1
    w11 = next(ln for ln in lines if ln.strip().startswith("W1.1 "))
    assert "no card" in w11 and w11.startswith("  W1.1")
    assert lines[-1].endswith("with no card")
    res = run("taxonomies", "-f", "csv", root=kb)
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(res.stdout))}
    assert rows["llama-guard-3"]["cards"] == "2"
    res = run("models", "-f", "json", root=kb)
    assert {m["id"] for m in json.loads(res.stdout)} >= {"llama-guard-3-8b", "llama-3.1-8b-instruct"}
    res = run("scenarios", root=kb)
    assert res.returncode == 0 and "customer-support-bot" in res.stdout
    res = run("crosswalk", "weidinger-2021", "llama-guard-3", "-f", "json", root=kb)
    assert len(json.loads(res.stdout)["relations"]) == 2
    res = run("crosswalk", "weidinger-2021", "aegis-1.0", root=kb)
    assert res.returncode == 1 and "no crosswalk" in res.stderr
    res = run("stats", "-f", "json", root=kb)
    assert json.loads(res.stdout)["cards"] == 4


def test_cli_completion_offers_ids(kb):
    env = {
        "_RISKCARDS_COMPLETE": "complete_bash",
        "COMP_WORDS": "riskcards query --scenario medical",
        "COMP_CWORD": "3",
    }
    res = run(root=kb, env=env)
    assert "medical-question-answering" in res.stdout
    env = {"_RISKCARDS_COMPLETE": "complete_bash", "COMP_WORDS": "riskcards show wrong", "COMP_CWORD": "2"}
    assert "wrong-dosage" in run(root=kb, env=env).stdout
    env = {
        "_RISKCARDS_COMPLETE": "complete_bash",
        "COMP_WORDS": "riskcards query --category llama-guard-3:S1",
        "COMP_CWORD": "3",
    }
    out = run(root=kb, env=env).stdout
    assert "llama-guard-3:S10" in out and "llama-guard-3:S14" in out


# --------------------------------------------------------------------------------------------------
# Staleness and --db
# --------------------------------------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))
    later = time.time() + 5
    os.utime(path, (later, later))


def test_default_index_is_built_and_rebuilt_when_sources_change(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    db = root / "build" / "riskcards.db"
    assert not db.exists()
    res = run("query", "--text", "painkiller", "-f", "json", root=root)
    assert res.returncode == 0 and db.exists()  # built on first use
    assert json.loads(res.stdout)["cards"][0]["title"] == "Confident wrong medication doses"
    res = run("query", "--text", "painkiller", "-f", "ids", root=root)
    assert "rebuilding" not in res.stderr  # fresh: not rebuilt

    _edit(root / "cards" / "wrong-dosage.yaml", "title: Confident wrong medication doses", "title: Edited dosage title")
    res = run("query", "--text", "painkiller", "-f", "json", root=root)
    assert res.returncode == 0 and "rebuilding" in res.stderr
    assert json.loads(res.stdout)["cards"][0]["title"] == "Edited dosage title"

    (root / "cards" / "retired-misinformation.yaml").unlink()  # a removed file counts too
    res = run("query", "-f", "ids", root=root)
    assert "retired-misinformation" not in res.stdout.split()
    (root / "checks" / "llama-guard-3-8b-test.jsonl").unlink()  # and recorded verdicts
    assert json.loads(run("stats", "-f", "json", root=root).stdout)["guard_results"] == 0


def test_explicit_db_is_used_as_it_is(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    assert run("index", root=root).returncode == 0
    elsewhere = tmp_path / "downloaded" / "riskcards.db"
    elsewhere.parent.mkdir()
    shutil.copy(root / "build" / "riskcards.db", elsewhere)
    _edit(root / "cards" / "wrong-dosage.yaml", "title: Confident wrong medication doses", "title: Edited dosage title")
    res = run("show", "wrong-dosage", "--db", str(elsewhere), "-f", "json", root=root)
    assert res.returncode == 0 and json.loads(res.stdout)["title"] == "Confident wrong medication doses"
    assert "rebuilding" not in res.stderr
    # from a folder with no knowledge base at all
    empty = tmp_path / "empty"
    empty.mkdir()
    res = run("query", "--db", str(elsewhere), "--scenario", "customer-support-bot", "-f", "ids", cwd=empty)
    assert res.returncode == 0 and res.stdout.split() == ["toxic-insults", "hate-against-groups", "wrong-dosage"]
    res = run("query", "--db", str(empty / "nope.db"), cwd=empty)
    assert res.returncode == 2 and "no index at" in res.stderr
    res = run("query", cwd=empty)
    assert res.returncode == 2 and "not a knowledge base" in res.stderr


def test_old_schema_version_is_refused_with_advice(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    index.build(root, tmp_path / "x.db")
    import sqlite3

    c = sqlite3.connect(tmp_path / "x.db")
    c.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    c.commit()
    c.close()
    res = run("query", "--db", str(tmp_path / "x.db"), root=root)
    assert res.returncode == 2 and "schema version 0" in res.stderr and "riskcards index --db" in res.stderr


def test_default_index_of_another_schema_version_is_rebuilt_not_refused(tmp_path):
    """An explicit --db is read as it is (above); the default index built by another riskcards is stale."""
    import sqlite3

    root = make_index_kb(tmp_path / "kb")
    db = index.default_db_path(root)
    index.build(root, db)
    assert not index.is_stale(root, db)
    c = sqlite3.connect(db)
    c.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    c.commit()
    c.close()
    assert index.is_stale(root, db)
    res = run("query", "-f", "ids", root=root)
    assert res.returncode == 0, res.stderr
    assert index.contract.stored_meta(db, "schema_version") == str(index.SCHEMA_VERSION)


def test_fast_path_imports_neither_typer_nor_pydantic_nor_rich(kb):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.argv = ['riskcards', 'query', '--category', 'weidinger-2021:W1', '-f', 'ids']\n"
        "from riskcards.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = sorted(m for m in ('typer', 'click', 'pydantic', 'rich', "
        "'sqlite_utils', 'yaml', 'argparse') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    env = {**os.environ, "RISKCARDS_ROOT": str(kb)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=kb, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["toxic-insults", "HEAVY []"]


def test_typer_path_gives_the_same_answer_as_the_fast_path(kb, monkeypatch):
    from typer.testing import CliRunner

    from riskcards.cli import app

    monkeypatch.setenv("RISKCARDS_ROOT", str(kb))
    args = [
        "query",
        "--scenario",
        "customer-support-bot",
        "--category",
        "weidinger-2021:W1",
        "--via-crosswalk",
        "-f",
        "json",
    ]
    typer_out = CliRunner().invoke(app, args)
    assert typer_out.exit_code == 0, typer_out.output
    assert json.loads(typer_out.stdout) == json.loads(run(*args, root=kb).stdout)
    bad = CliRunner().invoke(app, ["query", "--scenario", "nope"])
    assert bad.exit_code == 2


# --------------------------------------------------------------------------------------------------
# Issue 16: what a new user trips over
# --------------------------------------------------------------------------------------------------


def _assert_tree_order(cats: list[dict]) -> None:
    """Each category comes right after its parent's subtree began: a parent before its children, and the
    descendants of a category are contiguous right after it."""
    seen: list[str] = []
    stack: list[str] = []  # the path from a root to the previous category
    for c in cats:
        while stack and stack[-1] != c["parent"]:
            stack.pop()
        assert (c["parent"] is None and not stack) or (stack and stack[-1] == c["parent"]), (c["code"], seen[-3:])
        stack.append(c["code"])
        seen.append(c["code"])


def test_every_taxonomy_tree_comes_in_tree_order(conn):
    trees = {t["id"]: Q.taxonomy_tree(conn, t["id"]) for t in Q.taxonomies(conn)}
    assert len(trees) > 20
    for tree in trees.values():
        _assert_tree_order(tree["categories"])
    codes = [c["code"] for c in trees["weidinger-2021"]["categories"]]
    assert codes[:6] == ["W1", "W1.1", "W1.2", "W1.3", "W1.4", "W2"]


def test_tree_order_keeps_siblings_in_file_order_and_orphans_last():
    cats = [
        {"code": "B", "parent": None},
        {"code": "A", "parent": None},
        {"code": "A2", "parent": "A"},
        {"code": "B1", "parent": "B"},
        {"code": "A1", "parent": "A"},
        {"code": "X1", "parent": "X"},  # parent missing: kept, at the end
    ]
    assert [c["code"] for c in Q.tree_order(cats)] == ["B", "B1", "A", "A2", "A1", "X1"]


def test_cli_taxonomy_prints_the_tree_nested(kb):
    res = run("taxonomy", "weidinger-2021", root=kb)
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()[:2] in ("W1", "W2")]
    assert [ln.split()[0] for ln in lines[:6]] == ["W1", "W1.1", "W1.2", "W1.3", "W1.4", "W2"]
    assert lines[1].startswith("  W1.1")  # indented under W1


def test_explicit_db_is_read_as_it_is_while_a_card_is_invalid(tmp_path):
    root = make_index_kb(tmp_path / "kb")
    assert run("index", root=root).returncode == 0
    _edit(root / "cards" / "wrong-dosage.yaml", "title: Confident wrong medication doses", "title: [broken")
    blocked = run("query", "-f", "ids", root=root)
    assert blocked.returncode == 1 and "wrong-dosage.yaml:" in blocked.stderr
    for db in ("build/riskcards.db", str(root / "build" / "riskcards.db")):
        res = run("query", "-f", "ids", "--db", db, root=root, cwd=root)
        assert res.returncode == 0, res.stderr
        assert "wrong-dosage" in res.stdout.split() and "rebuilding" not in res.stderr
        res = run("stats", "-f", "json", "--db", db, root=root, cwd=root)
        assert res.returncode == 0 and json.loads(res.stdout)["cards"] == 4


@pytest.mark.parametrize("limit", ["0", "-1", "-5"])
def test_limit_below_one_is_refused(kb, conn, limit):
    res = run("query", "--limit", limit, "-f", "ids", root=kb)
    assert res.returncode == 2 and res.stdout == ""
    assert "--limit must be a whole number of at least 1" in res.stderr and "Traceback" not in res.stderr
    with pytest.raises(Q.BadQuery):
        Q.find_cards(conn, Q.Query(limit=int(limit)))
    assert run("query", "--limit", "1", "-f", "ids", root=kb).stdout.split() == ["hate-against-groups"]


def test_a_shortened_taxonomy_id_gets_a_did_you_mean(kb):
    res = run("query", "-t", "owasp", root=kb)
    assert res.returncode == 2 and "did you mean 'owasp-llm-top10-2023-v1.1' or 'owasp-llm-top10-2025'" in res.stderr
