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
