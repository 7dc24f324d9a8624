"""The SQLite index: its schema (described once, in ``TABLES``) and its atomic build.

    KnowledgeBase (validated) + recorded guard verdicts -> SQLite file (sqlite-utils) -> riskcards.query

``build(root, db_path)`` validates the knowledge base, and only when it is clean writes a new database
to a temporary file in the same folder, in one transaction, then renames it over ``db_path``. A failed,
invalid or interrupted build never leaves a half-written database and never touches the previous one.

The schema is described once, in ``TABLES`` and ``VIEWS``; from it come the tables, the indexes, the
Datasette metadata (``datasette_metadata()``) and the schema documentation page (``schema_markdown()``).

Public API:
    build(root, db_path=None, *, metadata=True, full=False, cache=None) -> BuildReport
                                                                   raises IndexProblems on a bad KB
    default_db_path(root) -> Path                                  <root>/build/riskcards.db
    datasette_metadata() -> dict                                   Datasette metadata.json content
    metadata_path(db_path) -> Path                                 where build() writes it
    schema_markdown() -> str                                       the generated schema page
    SCHEMA_VERSION, TABLES, VIEWS
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .paths import write_atomic
from .query import META_TABLE, SCHEMA_VERSION, SEVERITY_RANK, default_db_path, source_fingerprint

if TYPE_CHECKING:
    from .kb import KnowledgeBase
    from .models import GuardResult
    from .problems import Problem
    from .validate import RecordCache

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "VIEWS",
    "BuildReport",
    "IndexProblems",
    "build",
    "datasette_metadata",
    "default_db_path",
    "metadata_path",
    "schema_markdown",
]


# --------------------------------------------------------------------------------------------------
# Schema, described once
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # "text", "int", "float"
    description: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[Column, ...]
    pk: str | tuple[str, ...]
    foreign_keys: tuple[tuple, ...] = ()
    """(column or columns, other table, other column or columns)."""
    indexes: tuple[tuple[str, ...], ...] = ()
    fts: tuple[str, ...] = ()
    """Columns indexed for full-text search (FTS5 table '<name>_fts', porter stemming)."""
    not_null: tuple[str, ...] = ()
    card_key: str | None = None
    """The column naming the card a row belongs to, for tables whose rows each belong to one card (an index
    is updated in place by replacing the rows of the cards that changed)."""


def _cols(*items: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*i) for i in items)


_JSON = " (JSON list)"

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        META_TABLE,
        "Facts about this build: schema version, build time, source commit, source fingerprint, counts.",
        _cols(("key", "text", "Name of the fact."), ("value", "text", "Its value, as text.")),
        pk="key",
    ),
    TableSpec(
        "taxonomies",
        "One row per taxonomy edition (taxonomies/<id>.yaml): harm taxonomies, guard policies, security lists.",
        _cols(
            ("id", "text", "Taxonomy edition id, e.g. 'llama-guard-3'."),
            ("name", "text", "Full name."),
            ("short_name", "text", "Short display name."),
            ("kind", "text", "harm-taxonomy, guard-policy, security, benchmark or risk-repository."),
            ("edition", "text", "Which edition or version the file describes."),
            ("source", "text", "Primary source of the codes and names."),
            ("url", "text", "Where to read the taxonomy."),
            ("confidence", "text", "'exact' (primary source) or 'partial'."),
            ("license", "text", "Licence and reuse notes for codes and names."),
            ("code_convention", "text", "Where codes are a convention rather than the publisher's own."),
            ("notes", "text", "Caveats about the list."),
            ("description", "text", "What the taxonomy is for."),
            ("category_count", "int", "Number of categories."),
            ("path", "text", "Source file, relative to the knowledge-base root."),
        ),
        pk="id",
        not_null=("name", "kind"),
    ),
    TableSpec(
        "categories",
        "Every category of every taxonomy, keyed by its reference 'taxonomy-id:code'.",
        _cols(
            ("ref", "text", "'taxonomy-id:code', e.g. 'weidinger-2021:W1.3'."),
            ("taxonomy_id", "text", "The taxonomy."),
            ("code", "text", "The code, unique within the taxonomy."),
            ("name", "text", "Name exactly as the source gives it."),
            ("short_name", "text", "A short label the source also uses."),
            ("parent_ref", "text", "Reference of the parent category, or null at level 1."),
            ("also_parent_ref", "text", "A second parent, where the source gives two."),
            ("level", "int", "Depth in the hierarchy; top level is 1."),
            ("official_id", "text", "The publisher's own identifier, where it differs from the code."),
            ("alt_names", "text", "Other wordings of the name" + _JSON + "."),
            ("description", "text", "What the category covers."),
            ("attributes", "text", "Taxonomy-specific facts (JSON object)."),
            ("position", "int", "Order within the taxonomy file."),
        ),
        pk="ref",
        foreign_keys=(("taxonomy_id", "taxonomies", "id"), ("parent_ref", "categories", "ref"), ("also_parent_ref", "categories", "ref")),
        indexes=(("taxonomy_id", "position"), ("parent_ref",), ("code",)),
        not_null=("taxonomy_id", "code", "name"),
    ),
    TableSpec(
        "category_ancestors",
        "Closure of the category hierarchy: one row per (category, ancestor), including the category itself at depth 0. "
        "Descendants of X: SELECT ref FROM category_ancestors WHERE ancestor_ref = X.",
        _cols(
            ("ref", "text", "A category."),
            ("ancestor_ref", "text", "The category itself or one of its ancestors (through parent or also_parent)."),
            ("depth", "int", "Steps from the category up to the ancestor (0 = itself)."),
        ),
        pk=("ref", "ancestor_ref"),
        foreign_keys=(("ref", "categories", "ref"), ("ancestor_ref", "categories", "ref")),
        indexes=(("ancestor_ref",),),
    ),
    TableSpec(
        "crosswalks",
        "Crosswalk files (taxonomies/crosswalks/<id>.yaml): typed relations between two taxonomies.",
        _cols(
            ("id", "text", "Crosswalk id."),
            ("source_taxonomy", "text", "Source taxonomy id."),
            ("target_taxonomy", "text", "Target taxonomy id."),
            ("description", "text", "What the crosswalk is for and how it was made."),
            ("references", "text", "Works the mapping relies on (JSON list of {title, url, doi, note})."),
            ("relation_count", "int", "Number of relations."),
            ("path", "text", "Source file."),
        ),
        pk="id",
        foreign_keys=(("source_taxonomy", "taxonomies", "id"), ("target_taxonomy", "taxonomies", "id")),
        indexes=(("source_taxonomy", "target_taxonomy"), ("target_taxonomy",)),
    ),
    TableSpec(
        "crosswalk_relations",
        "One row per crosswalk relation: source category RELATION target category.",
        _cols(
            ("id", "int", "Row id."),
            ("crosswalk_id", "text", "The crosswalk."),
            ("source_ref", "text", "Category of the source taxonomy."),
            ("target_ref", "text", "Category of the target taxonomy."),
            ("relation", "text", "exact, broader (source covers more), narrower, related."),
            ("rationale", "text", "Why the categories relate this way."),
        ),
        pk="id",
        foreign_keys=(("crosswalk_id", "crosswalks", "id"), ("source_ref", "categories", "ref"), ("target_ref", "categories", "ref")),
        indexes=(("crosswalk_id",), ("source_ref",), ("target_ref",)),
    ),
    TableSpec(
        "scenarios",
        "Deployment scenarios (scenarios/<id>.yaml) in which risks are assessed.",
        _cols(
            ("id", "text", "Scenario id."),
            ("name", "text", "Display name."),
            ("summary", "text", "One sentence describing the deployment."),
            ("description", "text", "What the deployment does."),
            ("users", "text", "Who uses it and who else is affected."),
            ("raises_severity", "text", "Conditions that make risks more severe" + _JSON + "."),
            ("lowers_severity", "text", "Conditions that make risks less severe" + _JSON + "."),
            ("tags", "text", "Keywords" + _JSON + "."),
            ("path", "text", "Source file."),
        ),
        pk="id",
    ),
    TableSpec(
        "models",
        "Language models, guard models and classifiers (models/<id>.yaml) that examples and checks name.",
        _cols(
            ("id", "text", "Model id."),
            ("name", "text", "Name as the provider writes it."),
            ("kind", "text", "language-model, guard-model or classifier."),
            ("provider", "text", "Who makes the model."),
            ("family", "text", "Model family."),
            ("open_weights", "int", "1 when the weights are published."),
            ("released", "text", "Release date, YYYY-MM-DD."),
            ("url", "text", "Model card or documentation."),
            ("hf_repo", "text", "Hugging Face repository id."),
            ("guard_taxonomy", "text", "For guards: the taxonomy of its category codes."),
            ("guard_adapter", "text", "For guards: the adapter that runs it."),
            ("notes", "text", "Anything else a user should know."),
            ("path", "text", "Source file."),
        ),
        pk="id",
        foreign_keys=(("guard_taxonomy", "taxonomies", "id"),),
        indexes=(("kind",),),
    ),
    TableSpec(
        "harm_type_terms",
        "The harm-type vocabulary (vocab/harm-types.yaml): actors (who is harmed) and categories (how).",
        _cols(
            ("term_group", "text", "'actor' or 'category'."),
            ("id", "text", "The term as cards write it."),
            ("name", "text", "Display name."),
            ("description", "text", "What the term means."),
            ("synonym_of", "text", "A term this one is probably a synonym of."),
        ),
        pk=("term_group", "id"),
    ),
    TableSpec(
        "cards",
        "RiskCards (cards/<id>.yaml): one risk of a language model's output or behaviour.",
        _cols(
            ("id", "text", "Card id."),
            ("title", "text", "Short name of the risk."),
            ("summary", "text", "One sentence: what the model does."),
            ("description", "text", "What the risk is (markdown)."),
            ("actions_required", "text", "How the risk turns into harm."),
            ("status", "text", "draft, reviewed or deprecated."),
            ("version", "text", "Card version, MAJOR.MINOR.PATCH."),
            ("created", "text", "When first written, YYYY-MM-DD."),
            ("last_reviewed", "text", "When last reviewed, YYYY-MM-DD."),
            ("deprecated_reason", "text", "Why deprecated."),
            ("superseded_by", "text", "The card that replaces this one."),
            ("license", "text", "SPDX licence of the card text."),
            ("tags", "text", "Keywords" + _JSON + "."),
            ("reviewers", "text", "Who reviewed it" + _JSON + "."),
            ("contributors", "text", "Who wrote or edited it" + _JSON + "."),
            ("aliases", "text", "Former ids" + _JSON + "."),
            ("changelog", "text", "History (JSON list of {version, date, note})."),
            ("max_severity", "text", "Highest severity over the card's scenarios (null when it names none)."),
            ("max_severity_rank", "int", "max_severity as a number: low 1, medium 2, high 3, critical 4 (0 when none)."),
            ("example_count", "int", "Number of examples."),
            ("placement_count", "int", "Number of taxonomy placements."),
            ("path", "text", "Source file."),
        ),
        pk="id",
        foreign_keys=(("superseded_by", "cards", "id"),),
        indexes=(("status",), ("max_severity_rank",)),
        fts=("title", "summary", "description", "actions_required"),
        not_null=("title", "status"),
        card_key="id",
    ),
    TableSpec(
        "card_aliases",
        "Former ids of cards; they resolve to the card.",
        _cols(("alias", "text", "The former id."), ("card_id", "text", "The card it now names.")),
        pk="alias",
        foreign_keys=(("card_id", "cards", "id"),),
        indexes=(("card_id",),),
        card_key="card_id",
    ),
    TableSpec(
        "card_tags",
        "Card keywords, one row per (card, tag).",
        _cols(("card_id", "text", "The card."), ("tag", "text", "The keyword.")),
        pk=("card_id", "tag"),
        foreign_keys=(("card_id", "cards", "id"),),
        indexes=(("tag",),),
        card_key="card_id",
    ),
    TableSpec(
        "placements",
        "Where each card sits in each taxonomy (a card's 'placements').",
        _cols(
            ("card_id", "text", "The card."),
            ("position", "int", "Order on the card."),
            ("ref", "text", "The category, 'taxonomy-id:code'."),
            ("taxonomy_id", "text", "The taxonomy."),
            ("code", "text", "The category code."),
            ("relation", "text", "exact, broader (category covers more), narrower, related."),
            ("rationale", "text", "Why the card belongs here."),
        ),
        pk=("card_id", "ref"),
        foreign_keys=(("card_id", "cards", "id"), ("ref", "categories", "ref"), ("taxonomy_id", "taxonomies", "id")),
        indexes=(("ref",), ("taxonomy_id",)),
        card_key="card_id",
    ),
    TableSpec(
        "harm_types",
        "Who is harmed (actor) and how (category), per card.",
        _cols(
            ("card_id", "text", "The card."),
            ("position", "int", "Order on the card."),
            ("actor", "text", "Actor id from the harm-type vocabulary."),
            ("category", "text", "Harm category id from the vocabulary."),
        ),
        pk=("card_id", "actor", "category"),
        foreign_keys=(("card_id", "cards", "id"),),
        indexes=(("actor",), ("category",)),
        card_key="card_id",
    ),
    TableSpec(
        "examples",
        "Example prompts and outputs (or conversations) that show a card's risk.",
        _cols(
            ("card_id", "text", "The card."),
            ("example_id", "text", "Example id, unique within the card."),
            ("position", "int", "Order on the card."),
            ("language", "text", "BCP 47 language tag."),
            ("provenance", "text", "'observed' (real model output) or 'illustrative' (written by a contributor)."),
            ("model_id", "text", "For observed examples: the model that produced the output (null when unknown)."),
            ("model_name", "text", "The model's name as the source gives it."),
            ("observed_date", "text", "When the output was produced, YYYY-MM-DD."),
            ("source", "text", "Where an observed output was recorded."),
            ("author", "text", "Who wrote an illustrative example."),
            ("sensitivity", "text", "full, defanged ('[redacted: ...]' markers) or withheld (no text)."),
            ("prompt", "text", "The prompt (single-turn examples)."),
            ("output", "text", "The output (single-turn examples)."),
            ("turns", "text", "A conversation (JSON list of {role, content})."),
            ("turns_text", "text", "The conversation as plain text 'role: content' lines (for search)."),
            ("context", "text", "Setting needed to read the example."),
            ("note", "text", "Why the output is harmful."),
            ("withheld_reason", "text", "Why the text is withheld."),
        ),
        pk=("card_id", "example_id"),
        foreign_keys=(("card_id", "cards", "id"), ("model_id", "models", "id")),
        indexes=(("model_id",),),
        fts=("prompt", "output", "turns_text", "context", "note"),
        card_key="card_id",
    ),
    TableSpec(
        "expectations",
        "Expected guard outcomes: what a card's authors expect a guard model to say about an example.",
        _cols(
            ("card_id", "text", "The card."),
            ("example_id", "text", "The example."),
            ("guard_id", "text", "The guard model."),
            ("target", "text", "'prompt' or 'response'."),
            ("verdict", "text", "Expected verdict: safe or unsafe."),
            ("categories", "text", "Expected native category codes" + _JSON + "."),
        ),
        pk=("card_id", "example_id", "guard_id", "target"),
        foreign_keys=((("card_id", "example_id"), "examples", ("card_id", "example_id")), ("guard_id", "models", "id")),
        indexes=(("guard_id",),),
        card_key="card_id",
    ),
    TableSpec(
        "card_scenarios",
        "Scenario applicability: which scenarios a card applies to, how severe, and why.",
        _cols(
            ("card_id", "text", "The card."),
            ("scenario_id", "text", "The scenario."),
            ("position", "int", "Order on the card."),
            ("severity", "text", "low, medium, high or critical."),
            ("severity_rank", "int", "Severity as a number: low 1 ... critical 4."),
            ("rationale", "text", "Why the risk has this severity here."),
        ),
        pk=("card_id", "scenario_id"),
        foreign_keys=(("card_id", "cards", "id"), ("scenario_id", "scenarios", "id")),
        indexes=(("scenario_id", "severity_rank"),),
        card_key="card_id",
    ),
    TableSpec(
        "card_references",
        "Works that document each card's risk.",
        _cols(
            ("card_id", "text", "The card."),
            ("position", "int", "Order on the card."),
            ("title", "text", "Title of the work."),
            ("url", "text", "Where to read it."),
            ("doi", "text", "Its DOI."),
            ("note", "text", "What the work shows about this risk."),
        ),
        pk=("card_id", "position"),
        foreign_keys=(("card_id", "cards", "id"),),
        card_key="card_id",
    ),
    TableSpec(
        "guard_results",
        "Recorded guard verdicts (checks/*.jsonl) with their provenance. Historical records: they may name "
        "examples that changed or no longer exist, which 'input_status' says.",
        _cols(
            ("id", "int", "Row id."),
            ("key", "text", "Cache key: hash of everything that determines the verdict."),
            ("card_id", "text", "The card classified."),
            ("example_id", "text", "The example classified."),
            ("target", "text", "'prompt' or 'response'."),
            ("input_sha256", "text", "sha256 of the exact input sent."),
            ("input_status", "text", "'current' (input matches the example today), 'changed' (the example was edited since), "
             "'missing' (the example, or its prompt/response, no longer exists) or 'unchecked' (no hashing available)."),
            ("guard_config_id", "text", "The guard configuration id."),
            ("adapter", "text", "The adapter name."),
            ("model_id", "text", "The guard's model record id."),
            ("model_name", "text", "The model name the server was asked for."),
            ("revision", "text", "Model revision, or null when unknown."),
            ("taxonomy_id", "text", "Taxonomy of the native category codes."),
            ("transport", "text", "How the guard was reached."),
            ("template_sha256", "text", "sha256 of the prompt template."),
            ("params", "text", "Sampling and policy parameters (JSON object)."),
            ("label", "text", "safe, unsafe or error."),
            ("categories", "text", "Native category codes" + _JSON + "."),
            ("scores", "text", "Scores by name (JSON object)."),
            ("parse_error", "text", "Why the output could not be parsed."),
            ("extra", "text", "Further findings the guard reports beside the categories (JSON object)."),
            ("raw", "text", "The guard's raw output."),
            ("run_at", "text", "When, ISO 8601 UTC."),
            ("host", "text", "Where it ran."),
            ("runtime", "text", "Runtime versions."),
            ("latency_ms", "float", "Request time in milliseconds."),
        ),
        pk="id",
        indexes=(("card_id", "example_id"), ("model_id",), ("key",)),
        card_key="card_id",
    ),
    TableSpec(
        "card_fingerprints",
        "Build bookkeeping: a fingerprint of each card's source record, so that a rebuild replaces only the rows "
        "of cards that changed.",
        _cols(("card_id", "text", "The card (or a card id that recorded guard verdicts name)."),
              ("fingerprint", "text", "sha1 of the card's path and data as read.")),
        pk="card_id",
        card_key="card_id",
    ),
)

VIEWS: dict[str, tuple[str, str]] = {
    "placements_named": (
        "Placements with category and taxonomy names resolved.",
        """SELECT p.card_id, c.title AS card_title, p.ref, p.taxonomy_id, t.short_name AS taxonomy_name,
       p.code, cat.name AS category_name, p.relation, p.rationale
FROM placements p JOIN cards c ON c.id = p.card_id
JOIN categories cat ON cat.ref = p.ref JOIN taxonomies t ON t.id = p.taxonomy_id""",
    ),
    "scenario_risks": (
        "Cards per scenario with severity and rationale, most severe first.",
        """SELECT cs.scenario_id, s.name AS scenario_name, cs.card_id, c.title AS card_title, c.status,
       cs.severity, cs.severity_rank, cs.rationale
FROM card_scenarios cs JOIN cards c ON c.id = cs.card_id JOIN scenarios s ON s.id = cs.scenario_id
ORDER BY cs.scenario_id, cs.severity_rank DESC, cs.card_id""",
    ),
    "example_guard_outcomes": (
        "Expected guard verdicts next to the recorded ones (null when the guard was not run on the example).",
        """SELECT e.card_id, e.example_id, e.guard_id, e.target, e.verdict AS expected_verdict,
       e.categories AS expected_categories, r.label AS recorded_verdict, r.categories AS recorded_categories,
       r.input_status, r.run_at, r.guard_config_id
FROM expectations e LEFT JOIN guard_results r
  ON r.card_id = e.card_id AND r.example_id = e.example_id AND r.model_id = e.guard_id AND r.target = e.target""",
    ),
    "category_card_counts": (
        "Cards placed in each category directly, and in it or any descendant.",
        """SELECT cat.ref, cat.taxonomy_id, cat.code, cat.name, cat.level,
       (SELECT COUNT(*) FROM placements p WHERE p.ref = cat.ref) AS direct_cards,
       (SELECT COUNT(DISTINCT p.card_id) FROM category_ancestors a JOIN placements p ON p.ref = a.ref
         WHERE a.ancestor_ref = cat.ref) AS cards_with_descendants
FROM categories cat""",
    ),
}


# --------------------------------------------------------------------------------------------------
# Datasette metadata and the schema page
# --------------------------------------------------------------------------------------------------


def datasette_metadata(db_name: str = "riskcards") -> dict[str, Any]:
    """Datasette metadata (``datasette DB -m metadata.json``): title, description, tables and columns.

    Datasette names a database after its file stem: ``db_name`` must be that stem."""
    tables: dict[str, Any] = {}
    for spec in TABLES:
        entry: dict[str, Any] = {"description": spec.description, "columns": {c.name: c.description for c in spec.columns}}
        if spec.name == "cards":
            entry["label_column"] = "title"
            entry["sort"] = "id"
        if spec.name in ("categories", "taxonomies", "scenarios", "models"):
            entry["label_column"] = "name"
        if spec.fts:
            entry["fts_table"] = f"{spec.name}_fts"
            entry["fts_pk"] = "rowid"
        tables[spec.name] = entry
    for name, (desc, _sql) in VIEWS.items():
        tables[name] = {"description": desc}
    return {
        "title": "RiskCards",
        "description": "An open knowledge base of language-model risks: cards, their placements in harm taxonomies, "
        "examples, deployment scenarios with severities, and guard-model verdicts.",
        "license": "CC-BY-4.0 (card text); taxonomy codes and names keep their sources' terms",
        "source": "RiskCards knowledge base",
        "databases": {db_name: {"tables": tables}},
    }


def metadata_path(db_path: Path) -> Path:
    """Where ``build()`` writes the Datasette metadata: beside the database, '<stem>.metadata.json'."""
    return db_path.with_name(db_path.stem + ".metadata.json")


def schema_markdown() -> str:
    """The schema documentation page (markdown), generated from ``TABLES`` and ``VIEWS``."""
    out = [
        "# Index schema",
        "",
        f"`riskcards index` writes a SQLite database (schema version {SCHEMA_VERSION}, default path `build/riskcards.db`). "
        "It is rebuilt from the YAML sources in one transaction and replaced atomically. It opens in "
        "[Datasette](https://datasette.io/) as it is: `datasette build/riskcards.db -m build/riskcards.metadata.json`.",
        "",
        "Lists and mappings are stored as JSON text. Full-text search uses FTS5 tables "
        + ", ".join(f"`{t.name}_fts` (over {', '.join(t.fts)})" for t in TABLES if t.fts)
        + ", with porter stemming.",
        "",
    ]
    for spec in TABLES:
        pk = spec.pk if isinstance(spec.pk, str) else ", ".join(spec.pk)
        out += [f"## `{spec.name}`", "", spec.description, "", f"Primary key: `{pk}`.", ""]
        if spec.foreign_keys:
            fks = []
            for cols, other, other_cols in spec.foreign_keys:
                a = cols if isinstance(cols, str) else ", ".join(cols)
                b = other_cols if isinstance(other_cols, str) else ", ".join(other_cols)
                fks.append(f"`{a}` → `{other}.{b}`")
            out += ["Foreign keys: " + "; ".join(fks) + ".", ""]
        out += ["| column | type | meaning |", "|---|---|---|"]
        out += [f"| `{c.name}` | {c.type} | {c.description.replace('|', '/')} |" for c in spec.columns]
        out.append("")
    out += ["## Views", ""]
    for name, (desc, sql) in VIEWS.items():
        out += [f"### `{name}`", "", desc, "", "```sql", sql, "```", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------------


class IndexProblems(Exception):
    """The knowledge base has problems; no database was written. ``problems`` are located."""

    def __init__(self, problems: list[Problem], checked: int) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems
        self.checked = checked


@dataclass
class BuildReport:
    db_path: Path
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    metadata_path: Path | None = None
    updated: int | None = None
    """Cards whose rows were replaced in an existing index; None when the index was written anew."""


_TYPES = {"text": str, "int": int, "float": float}


def _create_tables(db) -> None:
    for spec in TABLES:
        db[spec.name].create(
            {c.name: _TYPES[c.type] for c in spec.columns},
            pk=spec.pk,
            foreign_keys=list(spec.foreign_keys) or None,
            not_null=set(spec.not_null) or None,
        )


def _create_indexes(db) -> None:
    """Secondary indexes, made after the rows are in (faster than keeping them up to date row by row)."""
    for spec in TABLES:
        for cols in spec.indexes:
            db[spec.name].create_index(list(cols), index_name=f"idx_{spec.name}_{'_'.join(cols)}")


def _j(value: Any) -> str:
    """Compact JSON for a column (the same text as json.dumps with separators=(",", ":") and
    ensure_ascii=False; orjson is 5x faster over the ~200,000 values of a 10,000-card build)."""
    if not value:
        return "[]" if isinstance(value, list) else "{}" if isinstance(value, dict) else orjson.dumps(value).decode()
    return orjson.dumps(value).decode()


def _empty_rows() -> dict[str, list[tuple]]:
    return {spec.name: [] for spec in TABLES}


def _reference_rows(kb: KnowledgeBase, rows: dict[str, list[tuple]]) -> None:
    """Rows of every table that does not belong to one card: taxonomies, categories, crosswalks, scenarios,
    models, the harm-type vocabulary."""
    for tax in kb.taxonomies.values():
        rows["taxonomies"].append((tax.id, tax.name, tax.short_name, tax.kind, tax.edition, tax.source, tax.url, tax.confidence,
                                   tax.license, tax.code_convention, tax.notes, tax.description, len(tax.categories),
                                   kb.paths.get(("taxonomy", tax.id))))
        parents: dict[str, list[str]] = {}
        for pos, cat in enumerate(tax.categories):
            ref = f"{tax.id}:{cat.code}"
            rows["categories"].append((ref, tax.id, cat.code, cat.name, cat.short_name,
                                       f"{tax.id}:{cat.parent}" if cat.parent else None,
                                       f"{tax.id}:{cat.also_parent}" if cat.also_parent else None,
                                       cat.level, cat.official_id, _j(cat.alt_names), cat.description, _j(cat.attributes), pos))
            parents[cat.code] = [p for p in (cat.parent, cat.also_parent) if p]
        # closure: every (category, ancestor) with the shortest depth
        for code in parents:
            best: dict[str, int] = {code: 0}
            frontier = [code]
            depth = 0
            while frontier and depth < 16:
                depth += 1
                nxt = []
                for c in frontier:
                    for p in parents.get(c, ()):
                        if p not in best:
                            best[p] = depth
                            nxt.append(p)
                frontier = nxt
            for anc, d in best.items():
                rows["category_ancestors"].append((f"{tax.id}:{code}", f"{tax.id}:{anc}", d))
    rel_id = 0
    for cw in kb.crosswalks.values():
        rows["crosswalks"].append((cw.id, cw.source, cw.target, cw.description,
                                   _j([r.model_dump(exclude_none=True) for r in cw.references]), len(cw.relations),
                                   kb.paths.get(("crosswalk", cw.id))))
        for row in cw.relations:
            rel_id += 1
            rows["crosswalk_relations"].append((rel_id, cw.id, f"{cw.source}:{row.source}", f"{cw.target}:{row.target}",
                                                row.relation, row.rationale))
    for sc in kb.scenarios.values():
        rows["scenarios"].append((sc.id, sc.name, sc.summary, sc.description, sc.users, _j(sc.raises_severity),
                                  _j(sc.lowers_severity), _j(sc.tags), kb.paths.get(("scenario", sc.id))))
    for m in kb.models.values():
        rows["models"].append((m.id, m.name, m.kind, m.provider, m.family, int(m.open_weights), m.released, m.url, m.hf_repo,
                               m.guard.taxonomy if m.guard else None, m.guard.adapter if m.guard else None, m.notes,
                               kb.paths.get(("model", m.id))))
    if kb.vocab is not None:
        for group, terms in (("actor", kb.vocab.actors), ("category", kb.vocab.categories)):
            for t in terms:
                rows["harm_type_terms"].append((group, t.id, t.name, t.description, t.synonym_of))


_SEVERITY_NAME = {v: k for k, v in SEVERITY_RANK.items()}


def _card_rows(kb: KnowledgeBase, cards, rows: dict[str, list[tuple]]) -> None:
    """Rows of ``cards`` in every card table but guard_results."""
    for card in cards:
        cid = card.id
        ranks = [SEVERITY_RANK[s.severity] for s in card.scenarios]
        top = max(ranks, default=0)
        rows["cards"].append((cid, card.title, card.summary, card.description, card.actions_required, card.status, card.version,
                              card.created, card.last_reviewed, card.deprecated_reason, card.superseded_by, card.license,
                              _j(card.tags), _j(card.reviewers), _j(card.contributors), _j(card.aliases),
                              _j([e.model_dump() for e in card.changelog]),
                              _SEVERITY_NAME.get(top), top, len(card.examples), len(card.placements),
                              kb.paths.get(("card", cid))))
        for alias in card.aliases:
            rows["card_aliases"].append((alias, cid))
        for tag in dict.fromkeys(card.tags):
            rows["card_tags"].append((cid, tag))
        for pos, pl in enumerate(card.placements):
            tid, _, code = pl.ref.partition(":")
            rows["placements"].append((cid, pos, pl.ref, tid, code, pl.relation, pl.rationale))
        for pos, ht in enumerate(card.harm_types):
            rows["harm_types"].append((cid, pos, ht.actor, ht.category))
        for pos, ex in enumerate(card.examples):
            prov = ex.provenance
            observed = prov.kind == "observed"
            turns = [t.model_dump() for t in ex.turns] if ex.turns else None
            rows["examples"].append((
                cid, ex.id, pos, ex.language, prov.kind,
                prov.model if observed and prov.model != "unknown" else None,
                prov.model_name if observed else None, prov.date if observed else None, prov.source if observed else None,
                None if observed else prov.author, ex.sensitivity, ex.prompt, ex.output,
                _j(turns) if turns else None,
                "\n".join(f"{t['role']}: {t['content']}" for t in turns) if turns else None,
                ex.context, ex.note, ex.withheld_reason,
            ))
            for exp in ex.expected:
                rows["expectations"].append((cid, ex.id, exp.guard, exp.target, exp.verdict, _j(exp.categories)))
        for pos, link in enumerate(card.scenarios):
            rows["card_scenarios"].append((cid, link.scenario, pos, link.severity, SEVERITY_RANK[link.severity], link.rationale))
        for pos, ref in enumerate(card.references):
            rows["card_references"].append((cid, pos, ref.title, ref.url, ref.doi, ref.note))


def _result_rows(kb: KnowledgeBase, results: list[GuardResult], rows: dict[str, list[tuple]], only: set[str] | None = None) -> None:
    """guard_results rows (of the cards in ``only``, or all), with whether each verdict's input is still the
    example as it is today. A row's id is its position in ``results``."""
    hasher = _hasher()
    examples = {(c.id, e.id): e for c in kb.cards.values() if only is None or c.id in only for e in c.examples}
    for i, r in enumerate(results, 1):
        if only is not None and r.example.card not in only:
            continue
        ex = examples.get((r.example.card, r.example.example))
        if ex is None:
            status = "missing"
        elif hasher is None:
            status = "unchecked"
        else:
            try:
                now = hasher(ex, r.example.target)
            except Exception:  # a hook failure must not fail the index; the record stays, unchecked
                now = ""
            status = "unchecked" if now == "" else "missing" if now is None else "current" if now == r.example.input_sha256 else "changed"
        g, v = r.guard, r.verdict
        rows["guard_results"].append((
            i, r.key, r.example.card, r.example.example, r.example.target, r.example.input_sha256, status,
            g.id, g.adapter, g.model, g.model_name, g.revision, g.taxonomy, g.transport, g.template_sha256, _j(g.params),
            v.label, _j(v.categories), _j(v.scores), v.parse_error, _j(getattr(v, "extra", None) or {}), r.raw, r.run.at, r.run.host, r.run.runtime, r.run.latency_ms,
        ))


def _hasher():
    """The guard helper's input hash (riskcards.guards.hashing.current_input_sha256), or None if not there."""
    try:
        from .guards.hashing import current_input_sha256
    except ImportError:
        return None
    return current_input_sha256


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clean_leftovers(db_path: Path) -> None:
    """Remove temporary files of builds that were killed (another process's live build is left alone)."""
    for p in db_path.parent.glob(f".{db_path.name}.*.tmp"):
        try:
            pid = int(p.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_CODE_FILES = ("index.py", "models.py", "guards/hashing.py")


def _code_fingerprint() -> str:
    """The indexer's own fingerprint: an index written by other code (another version, an edited row
    builder or record model) is never updated in place, only written anew."""
    h = hashlib.sha1(f"schema {SCHEMA_VERSION}\n".encode())
    here = Path(__file__).parent
    for name in _CODE_FILES:
        try:
            h.update((here / name).read_bytes())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def fingerprints(kb: KnowledgeBase, results: list[GuardResult]) -> tuple[str, dict[str, str]]:
    """(fingerprint of everything in the index that does not belong to one card, fingerprint per card id).

    A card's rows are a function of its record and its path (and of the code), and its guard_results rows of
    those and the recorded verdicts, which are part of the first fingerprint. Card ids that only recorded
    verdicts name get a fingerprint too, so that adding the card later replaces their rows."""
    ref = hashlib.sha1(_code_fingerprint().encode())
    cards: dict[str, str] = {}
    for (kind, rid), shown in sorted(kb.paths.items()):
        line = f"{kind}\0{rid}\0{shown}\0{kb.digests.get(shown, '')}"
        if kind == "card":
            cards[rid] = hashlib.sha1(line.encode()).hexdigest()
        else:
            ref.update(line.encode() + b"\n")
    for r in results:
        ref.update(orjson.dumps(r.model_dump(mode="json")) + b"\n")
        cards.setdefault(r.example.card, "verdicts only")
    return ref.hexdigest(), cards


def _changed_cards(db_path: Path, ref_fp: str, card_fps: dict[str, str]) -> set[str] | None:
    """Ids of the cards whose rows differ from those in the index at ``db_path``; None when the index must be
    written anew: there is none, it is unreadable, it comes from other code or from other reference records
    or verdicts, or so many cards changed that a fresh write is quicker."""
    if not db_path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            row = conn.execute(f"SELECT value FROM [{META_TABLE}] WHERE key = 'reference_fingerprint'").fetchone()
            if row is None or row[0] != ref_fp:
                return None
            old = dict(conn.execute("SELECT card_id, fingerprint FROM card_fingerprints"))
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    changed = {cid for cid in old.keys() | card_fps.keys() if old.get(cid) != card_fps.get(cid)}
    return changed if len(changed) <= max(100, len(card_fps) // 4) else None


def _insert(conn, rows: dict[str, list[tuple]]) -> None:
    for spec in TABLES:
        if rows.get(spec.name):
            marks = ",".join("?" * len(spec.columns))
            conn.executemany(f"INSERT INTO [{spec.name}] VALUES ({marks})", rows[spec.name])


def _meta_rows(meta: dict[str, Any], counts: dict[str, int]) -> list[tuple]:
    everything = {**meta, "schema_version": SCHEMA_VERSION, **{f"count_{k}": v for k, v in counts.items() if k != META_TABLE}}
    return [(k, None if v is None else str(v)) for k, v in everything.items()]


def _check_consistency(conn) -> None:
    bad = conn.execute("PRAGMA foreign_key_check").fetchall()
    if bad:
        raise RuntimeError(f"index consistency: {len(bad)} foreign-key violations, first {bad[0]}")


def _write_all(tmp: Path, kb: KnowledgeBase, results: list[GuardResult], card_fps: dict[str, str], meta: dict[str, Any]) -> dict[str, int]:
    """A new index in the empty file ``tmp``."""
    import sqlite_utils

    rows = _empty_rows()
    _reference_rows(kb, rows)
    _card_rows(kb, kb.cards.values(), rows)
    _result_rows(kb, results, rows)
    rows["card_fingerprints"] = list(card_fps.items())
    db = sqlite_utils.Database(tmp)
    conn = db.conn
    conn.execute("PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: the whole build stays in memory until the commit
    conn.execute("PRAGMA temp_store=MEMORY")
    _create_tables(db)
    counts = {name: len(r) for name, r in rows.items() if name != META_TABLE}
    rows[META_TABLE] = _meta_rows(meta, counts)
    conn.execute("BEGIN")
    _insert(conn, rows)
    conn.execute("COMMIT")
    _create_indexes(db)
    for spec in TABLES:
        if spec.fts:
            db[spec.name].enable_fts(list(spec.fts), fts_version="FTS5", tokenize="porter unicode61", create_triggers=False)
    for name, (_desc, sql) in VIEWS.items():
        db.create_view(name, sql)
    _check_consistency(conn)
    conn.execute("PRAGMA analysis_limit=1000")  # statistics from samples of each index: 50x quicker, same plans here
    conn.execute("ANALYZE")
    conn.close()
    return counts


def _update(tmp: Path, kb: KnowledgeBase, results: list[GuardResult], card_fps: dict[str, str], changed: set[str],
            meta: dict[str, Any]) -> dict[str, int]:
    """Bring the copy ``tmp`` of an index up to date by replacing the rows of the ``changed`` cards (and their
    full-text entries) in one transaction; the result holds the same rows as a fresh write."""
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=MEMORY")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")
        conn.execute("CREATE TEMP TABLE changed (id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO temp.changed VALUES (?)", [(c,) for c in changed])
        owned = [spec for spec in TABLES if spec.card_key]
        for spec in owned:
            if spec.fts:
                cols = ", ".join(f"[{c}]" for c in spec.fts)
                conn.execute(f"INSERT INTO [{spec.name}_fts] ([{spec.name}_fts], rowid, {cols}) SELECT 'delete', rowid, {cols} "
                             f"FROM [{spec.name}] WHERE [{spec.card_key}] IN (SELECT id FROM temp.changed)")
            conn.execute(f"DELETE FROM [{spec.name}] WHERE [{spec.card_key}] IN (SELECT id FROM temp.changed)")
        rows = _empty_rows()
        _card_rows(kb, [c for c in kb.cards.values() if c.id in changed], rows)
        _result_rows(kb, results, rows, only=changed)
        rows["card_fingerprints"] = [(cid, card_fps[cid]) for cid in sorted(changed) if cid in card_fps]
        _insert(conn, rows)
        for spec in owned:
            if spec.fts:
                cols = ", ".join(f"[{c}]" for c in spec.fts)
                conn.execute(f"INSERT INTO [{spec.name}_fts] (rowid, {cols}) SELECT rowid, {cols} "
                             f"FROM [{spec.name}] WHERE [{spec.card_key}] IN (SELECT id FROM temp.changed)")
        counts = {spec.name: conn.execute(f"SELECT count(*) FROM [{spec.name}]").fetchone()[0] for spec in TABLES if spec.name != META_TABLE}
        conn.execute(f"DELETE FROM [{META_TABLE}]")
        _insert(conn, {META_TABLE: _meta_rows(meta, counts)})
        conn.execute("COMMIT")
        _check_consistency(conn)
    finally:
        conn.close()
    return counts


def write_database(kb: KnowledgeBase, results: list[GuardResult], db_path: Path, meta: dict[str, Any], *,
                   full: bool = False) -> tuple[dict[str, int], int | None]:
    """Write the index of a valid knowledge base to ``db_path`` atomically: (row counts per table, number of
    cards replaced in place, or None when the index was written anew).

    When ``db_path`` holds an index from the same code with the same reference records and verdicts, a copy
    of it is brought up to date (only the changed cards' rows are replaced) and renamed over it; otherwise,
    or with ``full``, a new one is written. Either way the result holds the same rows."""
    ref_fp, card_fps = fingerprints(kb, results)
    meta = {**meta, "reference_fingerprint": ref_fp}
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(db_path)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        changed = None
        if not full and db_path.is_file():
            # Compare with the copy, not the original: another build may replace the original meanwhile.
            shutil.copyfile(db_path, tmp)
            changed = _changed_cards(tmp, ref_fp, card_fps)
            if changed is None:
                tmp.unlink()
        if changed is None:
            counts = _write_all(tmp, kb, results, card_fps, meta)
        else:
            counts = _update(tmp, kb, results, card_fps, changed, meta)
        _fsync(tmp)
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts, None if changed is None else len(changed)


def build(root: Path, db_path: Path | None = None, *, metadata: bool = True, full: bool = False,
          cache: RecordCache | None = None) -> BuildReport:
    """Validate the knowledge base at ``root`` and index it into ``db_path`` (default: build/riskcards.db).

    Raises ``IndexProblems`` (and writes nothing) when any record or recorded guard verdict has a problem.
    An existing index is updated in place when only cards changed (``full`` writes it anew); ``cache`` is a
    ``riskcards.validate.RecordCache`` kept by a long-running caller, so unchanged files are not parsed again.
    """
    from .guards.store import read_results
    from .validate import validate

    t0 = time.perf_counter()
    root = Path(root)
    db_path = Path(db_path) if db_path else default_db_path(root)
    fingerprint = source_fingerprint(root)  # before reading, so an edit during the build counts as newer
    result = validate(root, cache=cache)
    results, result_problems = read_results(root)
    problems = [*result.problems, *result_problems]
    if problems:
        raise IndexProblems(sorted(problems), result.checked)
    from . import __version__

    meta = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source_commit": _git_commit(root),
        "source_root": str(root.resolve()),
        "source_fingerprint": fingerprint,
        "riskcards_version": __version__,
    }
    counts, updated = write_database(result.kb, results, db_path, meta, full=full)
    mpath = None
    if metadata:
        mpath = metadata_path(db_path)
        write_atomic(mpath, json.dumps(datasette_metadata(db_path.stem), indent=2, ensure_ascii=False) + "\n")
    return BuildReport(db_path=db_path, seconds=time.perf_counter() - t0, counts=counts, metadata_path=mpath, updated=updated)
