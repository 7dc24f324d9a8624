"""The committed JSON Schemas: generated from the record models, and agreeing with a third-party validator."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from broken_kb import build
from conftest import REPO

from riskcards import schema
from riskcards.load import discover, kind_of, load_file
from riskcards.models import KINDS
from riskcards.validate import validate


def test_committed_schemas_match_the_models():
    stale = schema.drift(REPO / "schema")
    assert stale == [], f"run `riskcards schema`: {stale} differ from the record models"


def test_drift_is_detected(tmp_path):
    folder = tmp_path / "schema"
    shutil.copytree(REPO / "schema", folder)
    card = json.loads((folder / "card.schema.json").read_text())
    card["properties"]["title"]["description"] = "edited by hand"
    (folder / "card.schema.json").write_text(json.dumps(card, indent=2) + "\n")
    assert schema.drift(folder) == ["card.schema.json"]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_schema_is_draft_2020_12_with_id_title_and_descriptions(kind):
    doc = json.loads((REPO / "schema" / f"{kind}.schema.json").read_text())
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"].endswith(f"/schema/{kind}.schema.json")
    assert doc["title"] and doc["description"]
    jsonschema.Draft202012Validator.check_schema(doc)
    missing = []
    for owner, body in [("(root)", doc), *doc.get("$defs", {}).items()]:
        for name, prop in body.get("properties", {}).items():
            if not prop.get("description"):
                missing.append(f"{owner}.{name}")
        if body.get("type") == "object":
            assert body.get("additionalProperties") is False, f"{owner} allows unknown fields"
    assert missing == []


def _schema_verdicts(root: Path) -> dict[str, bool]:
    """Per parsable record file: does `riskcards validate` find it schema-valid?"""
    result = validate(root)
    schema_bad = {p.path for p in result.problems if p.check == "schema"}
    verdicts = {}
    for path, shown, kind in discover(root):
        rec = load_file(path, root, shown, kind)
        if rec.problems or rec.payload is None:
            continue  # unreadable YAML is not a schema question
        verdicts[shown] = shown not in schema_bad
    return verdicts


def test_python_jsonschema_agrees_with_riskcards_validate(tmp_path):
    root = build(tmp_path / "kb")
    verdicts = _schema_verdicts(root)
    assert False in verdicts.values() and True in verdicts.values()
    for shown, ours in verdicts.items():
        kind = kind_of(root / shown, root)
        doc = json.loads((REPO / "schema" / f"{kind}.schema.json").read_text())
        data = load_file(root / shown, root, shown, kind).data
        theirs = jsonschema.Draft202012Validator(doc).is_valid(data)
        assert theirs == ours, f"{shown}: jsonschema says {theirs}, riskcards validate says {ours}"


@pytest.mark.skipif(
    shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) is None,
    reason="check-jsonschema not installed",
)
def test_check_jsonschema_agrees_on_the_same_files(tmp_path):
    """check-jsonschema reads YAML with its own parser (ruamel); dates and 'yes' must mean the same."""
    root = build(tmp_path / "kb")
    card = (root / "cards" / "confident-wrong-dosage-advice.yaml").read_text(encoding="utf-8")
    (root / "cards" / "unquoted-date.yaml").write_text(
        card.replace("id: confident-wrong-dosage-advice", "id: unquoted-date").replace(
            'created: "2026-11-28"', "created: 2026-11-28"
        ),
        encoding="utf-8",
    )
    verdicts = _schema_verdicts(root)
    assert verdicts["cards/unquoted-date.yaml"] is True
    exe = str(Path(sys.executable).parent / "check-jsonschema")
    for folder, kind in (("cards", "card"), ("models", "model"), ("scenarios", "scenario"), ("taxonomies", "taxonomy")):
        files = sorted(s for s in verdicts if s.startswith(folder + "/") and s.count("/") == 1)
        out = subprocess.run(
            [exe, "--schemafile", str(REPO / "schema" / f"{kind}.schema.json"), *files],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        rejected = {line.strip().split("::", 1)[0] for line in out.stdout.splitlines() if "::$" in line}
        if folder == "cards":
            assert rejected, "the broken cards must give check-jsonschema something to reject"
        for shown in files:
            assert (shown not in rejected) == verdicts[shown], (
                f"{shown}: check-jsonschema and riskcards disagree\n{out.stdout}"
            )
