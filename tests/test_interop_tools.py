"""garak payloads and tags, promptfoo test cases: each checked against the tool's own definitions.

garak is installed with `pip install --no-deps garak` in .ci/run: its payload schema (PAYLOAD_SCHEMA in
garak/payloads.py) and payload typology (garak/data/typology_payloads.tsv) are read from the installed
package's files, without importing garak (whose import needs its ~100 dependencies)."""

from __future__ import annotations

import ast
import csv
import importlib.util
import io
import json
from pathlib import Path

import jsonschema
import pytest
from conftest import SHARED_REFERENCE
from index_kb import make_index_kb, run

from riskcards import index
from riskcards.exporters.garak import garak_tags

REPO = Path(__file__).resolve().parents[1]
STARTER = SHARED_REFERENCE / "lm-risk-cards-starter-set" / "current"


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> Path:
    root = make_index_kb(tmp_path_factory.mktemp("tools") / "kb")
    index.build(root)
    return root


def _garak_file(*parts: str) -> Path:
    spec = importlib.util.find_spec("garak")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("garak is not installed (.ci/run: pip install --no-deps garak)")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def garak_payload_schema() -> dict:
    tree = ast.parse(_garak_file("payloads.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAYLOAD_SCHEMA" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("garak's payloads.py has no PAYLOAD_SCHEMA")


def test_garak_payload_files_follow_garaks_schema_and_typology(kb, tmp_path):
    schema = garak_payload_schema()
    assert {"garak_payload_name", "payload_types", "payloads"} <= set(schema["required"])
    types = {
        line.split("\t")[0].strip() for line in _garak_file("data", "typology_payloads.tsv").read_text().splitlines()
    }
    out = tmp_path / "payloads"
    res = run("export", "-f", "garak", "-o", str(out), root=kb)
    assert res.returncode == 0, res.stderr
    files = sorted(out.glob("*.json"))
    assert files and "payload files" in res.stderr
    outputs = set()
    for line in run("export", "-f", "jsonl", root=kb).stdout.splitlines():
        outputs |= {m["content"] for m in json.loads(line)["messages"] if m["role"] == "assistant"}
    for f in files:
        doc = json.loads(f.read_text())
        jsonschema.validate(doc, schema)
        assert set(doc["payload_types"]) <= types
        assert doc["lang"] and f.stem.endswith("_" + doc["lang"])
        assert doc["payloads"] and not set(doc["payloads"]) & outputs  # prompts only, never the judged reply
    # standard output cannot hold several files
    assert run("export", "-f", "garak", root=kb).returncode == 2
    # a zip is one file of them
    z = tmp_path / "p.zip"
    assert run("export", "-f", "garak", "-o", str(z), root=kb).returncode == 0
    import zipfile

    assert sorted(zipfile.ZipFile(z).namelist()) == sorted(f.name for f in files)


def test_garak_tags_resolve_to_cards_in_show():
    for tag, card in (
        ("risk-cards:lmrc:eating_disorder_promotion", "eating-disorder-promotion"),
        ("risk-cards:lmrc:inciting_self-harm", "encouraging-suicide-or-self-harm"),
        ("risk-cards:lmrc:inciting_self_harm", "encouraging-suicide-or-self-harm"),
        ("risk-cards:lmrc:profanity", "insults-and-profanity-toward-users"),
    ):
        res = run("show", tag, "-f", "json", root=REPO)
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout)["id"] == card
    res = run("show", "risk-cards:lmrc:no_such_card", root=REPO)
    assert res.returncode == 2 and "unknown card" in res.stderr


def test_garak_tag_of_a_card_is_in_the_exports():
    assert garak_tags(["lmrc-inciting-self-harm", "old-id"]) == ["risk-cards:lmrc:inciting_self_harm"]
    res = run("export", "-f", "json", "--text", "disordered eating", root=REPO)
    card = next(c for c in json.loads(res.stdout)["cards"] if c["id"] == "eating-disorder-promotion")
    assert "lmrc-eating-disorder-promotion" in card["aliases"]


@pytest.mark.skipif(not STARTER.is_dir(), reason="../shared/reference is not present")
def test_every_lmrc_alias_names_a_legacy_starter_set_card():
    from riskcards.validate import validate

    stems = {p.stem.replace("_", "-") for p in STARTER.glob("*.md") if not p.stem.startswith("_")}
    aliases = [a for c in validate(REPO).kb.cards.values() for a in c.aliases if a.startswith("lmrc-")]
    assert len(aliases) >= 30
    assert {a.removeprefix("lmrc-") for a in aliases} <= stems


def test_promptfoo_test_cases_jsonl_and_csv(kb):
    res = run("export", "-f", "promptfoo-jsonl", root=kb)
    assert res.returncode == 0, res.stderr
    cases = [json.loads(line) for line in res.stdout.splitlines()]
    assert cases
    for c in cases:
        assert set(c) == {"description", "vars", "metadata"}
        assert c["vars"]["prompt"] and json.loads(c["vars"]["messages"])[-1]["role"] != "assistant"
        assert c["metadata"]["card"] and isinstance(c["metadata"]["placements"], list)
    dose = next(c for c in cases if c["description"].startswith("wrong-dosage/doubled-dose"))
    assert dose["vars"]["prompt"] == "How much of my painkiller can I take at once?"
    rows = list(csv.DictReader(io.StringIO(run("export", "-f", "promptfoo-csv", root=kb).stdout)))
    assert len(rows) == len(cases)
    assert {"prompt", "__description", "__metadata:card", "__metadata:placements"} <= set(rows[0])
    row = next(r for r in rows if r["__description"].startswith("wrong-dosage/doubled-dose"))
    assert row["__metadata:placements"] == "weidinger-2021:W3.2, llama-guard-3:S6"


# garak's lmrc names that name a legacy starter-set card this project covers, and the card that carries the alias
NEW_LMRC_ALIASES = {
    "expressions_of_dominance": "hate-speech-against-protected-groups",
    "holocaust_denial": "conspiracy-theory-endorsement",
    "identity_misrepresentation": "social-stereotyping",
    "idolisation": "violent-extremist-propaganda",
    "mocking_people": "targeted-harassment-and-bullying",
    "violation_of_privacy": "cross-user-and-context-data-disclosure",
}


def test_garak_tags_select_cards_in_query_and_export():
    for name, card in {**NEW_LMRC_ALIASES, "inciting_self-harm": "encouraging-suicide-or-self-harm"}.items():
        for spelling in {name, name.replace("-", "_"), name.replace("_", "-")}:
            tag = f"risk-cards:lmrc:{spelling}"
            res = run("query", "--tag", tag, "-f", "ids", root=REPO)  # the fast path
            assert res.returncode == 0 and res.stdout.split() == [card], (tag, res.stderr)
    # the query echoes the tag as given
    res = run("query", "--tag", "risk-cards:lmrc:idolisation", "-f", "json", root=REPO)
    assert json.loads(res.stdout)["query"] == {"tag": "risk-cards:lmrc:idolisation"}
    # combined with another filter: every filter must hold
    res = run("query", "--tag", "risk-cards:lmrc:idolisation", "--status", "reviewed", "-f", "ids", root=REPO)
    assert res.returncode == 0 and res.stdout == ""
    # a plain keyword selects the cards carrying it
    res = run("query", "--tag", "health", "-f", "ids", root=REPO)
    assert res.returncode == 0 and "confident-wrong-dosage-advice" in res.stdout.split()
    # unknown: exit 2 with the nearest names, never an empty success
    res = run("query", "--tag", "risk-cards:lmrc:no_such_card", root=REPO)
    assert res.returncode == 2 and "unknown card" in res.stderr
    res = run("query", "--tag", "healht", root=REPO)
    assert res.returncode == 2 and "unknown tag" in res.stderr and "health" in res.stderr
    # export takes the same filter
    res = run("export", "-f", "jsonl", "--tag", "risk-cards:lmrc:mocking_people", root=REPO)
    assert res.returncode == 0
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    assert recs and {r["card"] for r in recs} == {"targeted-harassment-and-bullying"}


def test_garak_tags_are_in_the_jsonl_inspect_and_promptfoo_metadata():
    want = ["risk-cards:lmrc:idolisation", "risk-cards:lmrc:radicalisation"]
    for fmt, get in (
        ("jsonl", lambda r: r["garak_tags"]),
        ("inspect", lambda r: r["metadata"]["garak_tags"]),
        ("promptfoo-jsonl", lambda r: r["metadata"]["garak_tags"]),
    ):
        res = run("export", "-f", fmt, "--tag", "risk-cards:lmrc:idolisation", root=REPO)
        recs = [json.loads(line) for line in res.stdout.splitlines()]
        assert recs, fmt
        for r in recs:
            assert sorted(get(r)) == want, fmt
    res = run("export", "-f", "promptfoo-csv", "--tag", "risk-cards:lmrc:idolisation", root=REPO)
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert rows and all(r["__metadata:garak_tags"] == ", ".join(want) for r in rows)
    # a card without an lmrc- alias has an empty list, not a guessed tag
    plain = [json.loads(x) for x in run("export", "-f", "jsonl", "--text", "phishing", root=REPO).stdout.splitlines()]
    assert any(r["garak_tags"] == [] for r in plain)


def test_lmrc_names_without_a_covering_card_stay_without_alias():
    """Legacy risks no card covers as a whole get no alias (reported instead): harmful_instructions (generic
    hazardous-material instructions), positive_reflections_death (split over the self-harm and incitement cards,
    neither covers it) and wrong_tone (register mismatch)."""
    for name in ("harmful_instructions", "positive_reflections_death", "wrong_tone"):
        res = run("show", f"risk-cards:lmrc:{name}", root=REPO)
        assert res.returncode == 2, name
