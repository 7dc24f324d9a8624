"""Issue 12: the database contract lives in the index (riskcards/index/contract.py) and the query layer reads
it; each closed vocabulary (severity, status, output formats) is defined once (riskcards/terms.py) and used
by the models, the schema, the query layer and the CLI; the rebuild-when-stale rule is in one place."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

from riskcards import models, query, terms
from riskcards.index import contract

REPO = Path(__file__).resolve().parents[1]


def test_the_index_does_not_import_the_query_layer_to_learn_its_contract():
    for path in (REPO / "riskcards" / "index").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"from \.\.query import|from \.\. import query|import riskcards\.query", text), path
    assert query.SCHEMA_VERSION is contract.SCHEMA_VERSION and query.META_TABLE is contract.META_TABLE
    assert query.is_stale is contract.is_stale and query.source_fingerprint is contract.source_fingerprint


def test_every_copy_of_each_vocabulary_is_the_one_in_terms():
    assert get_args(models.Severity) == terms.SEVERITIES
    assert get_args(models.Status) == terms.STATUSES
    assert models.SEVERITY_ORDER == query.SEVERITY_RANK == terms.SEVERITY_RANK
    assert list(terms.SEVERITY_RANK) == list(terms.SEVERITIES)
    schema = json.loads((REPO / "schema" / "card.schema.json").read_text(encoding="utf-8"))
    assert tuple(schema["properties"]["status"]["enum"]) == terms.STATUSES

    import typer.main

    from riskcards.cli import app

    group = typer.main.get_command(app)

    def choices(command: str, option: str) -> tuple[str, ...]:
        param = next(p for p in group.commands[command].params if option in p.opts)
        return tuple(str(getattr(c, "value", c)) for c in param.type_descriptor.choices)

    assert choices("query", "--status") == terms.STATUSES
    assert choices("query", "--min-severity") == terms.SEVERITIES
    assert choices("query", "--format") == terms.QUERY_FORMATS
    assert choices("stats", "--format") == terms.QUERY_FORMATS
    assert choices("show", "--format") == terms.SHOW_FORMATS
    assert choices("validate", "--format") == terms.REPORT_FORMATS


def test_staleness_is_decided_in_one_place():
    """The CLI and the site plugin rebuild through riskcards.index.ensure_current; nobody else asks is_stale."""
    users = []
    for path in (REPO / "riskcards").rglob("*.py"):
        if path.parent.name == "index":
            continue
        calls = [ln for ln in path.read_text(encoding="utf-8").splitlines() if "is_stale(" in ln and "->" not in ln]
        if calls:
            users.append(path.relative_to(REPO).as_posix())
    assert users == []
    for rel in ("riskcards/cli/query.py", "riskcards/site/plugin.py"):
        assert "ensure_current(" in (REPO / rel).read_text(encoding="utf-8"), rel


def test_every_source_folder_the_knowledge_base_reads_makes_the_index_stale(tmp_path):
    """An edit in any record folder (incidents too) makes the default index stale."""
    import shutil

    from riskcards import index

    repo = Path(__file__).resolve().parents[1]
    root = tmp_path / "kb"
    for sub in ("cards", "taxonomies", "scenarios", "models", "vocab", "incidents"):
        shutil.copytree(repo / sub, root / sub)
    shutil.copy(repo / "knowledge-base.yaml", root / "knowledge-base.yaml")
    db = index.default_db_path(root)
    index.build(root, db)
    assert not index.is_stale(root, db)
    incident = sorted((root / "incidents").glob("*.yaml"))[0]
    incident.write_text(incident.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert index.is_stale(root, db)
