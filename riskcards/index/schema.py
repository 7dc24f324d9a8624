"""The index schema, described once: tables, columns, keys, indexes, full-text columns and views, and
what is made from that description (the Datasette metadata and the generated schema page)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .contract import META_TABLE, SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "VIEWS",
    "VIEW_COLUMNS",
    "Column",
    "TableSpec",
    "datasette_metadata",
    "metadata_path",
    "schema_markdown",
]


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
            (
                "missing_levels",
                "text",
                "Levels the publisher describes that the file lists in part or not at all, as {level, "
                "published_count, note}" + _JSON + ".",
            ),
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
            ("out_of_scope", "text", "Why no card is placed in the category (out of scope), or null."),
        ),
        pk="ref",
        foreign_keys=(
            ("taxonomy_id", "taxonomies", "id"),
            ("parent_ref", "categories", "ref"),
            ("also_parent_ref", "categories", "ref"),
        ),
        indexes=(("taxonomy_id", "position"), ("parent_ref",), ("code",)),
        not_null=("taxonomy_id", "code", "name"),
    ),
    TableSpec(
        "category_ancestors",
        "Closure of the category hierarchy: one row per (category, "
        "ancestor), including the category itself at depth 0. "
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
        foreign_keys=(
            ("crosswalk_id", "crosswalks", "id"),
            ("source_ref", "categories", "ref"),
            ("target_ref", "categories", "ref"),
        ),
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
        "model_facts",
        "Sourced facts about models (models/<id>.yaml 'facts'): release date, publisher, licence and parameter "
        "count, each with the source that states it. A fact no source states has no row.",
        _cols(
            ("model_id", "text", "The model."),
            ("fact", "text", "released, publisher, license or parameters."),
            ("value", "text", "The value as the source states it (a date YYYY-MM-DD or YYYY-MM for 'released')."),
            ("source_title", "text", "Title of the source."),
            ("source_url", "text", "Where to read it."),
            ("source_note", "text", "Where in the source the value is stated, if not obvious."),
        ),
        pk=("model_id", "fact"),
        foreign_keys=(("model_id", "models", "id"),),
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
        "incidents",
        "Real, dated, sourced incidents (incidents/<id>.yaml) in which a deployed language-model product caused "
        "or nearly caused harm; cards link them as evidence.",
        _cols(
            ("id", "text", "Incident id."),
            ("title", "text", "A short, neutral title."),
            ("date", "text", "When it happened: YYYY-MM-DD, or YYYY-MM when the day is not confirmed."),
            ("year", "int", "The year of 'date'."),
            ("summary", "text", "What happened, in RiskCards' own words."),
            ("deployer", "text", "Who deployed the system (null when there is no single deployer)."),
            ("language_model", "int", "0 for incidents kept for context that involved no language model, else 1."),
            ("aiid", "int", "AI Incident Database incident number, where confirmed."),
            ("confidence", "text", "'high' (independent sources or a primary document) or 'medium'."),
            ("path", "text", "Source file."),
        ),
        pk="id",
        indexes=(("date",), ("aiid",)),
        not_null=("title", "date"),
    ),
    TableSpec(
        "incident_systems",
        "The products or models involved in each incident, as reported.",
        _cols(
            ("incident_id", "text", "The incident."),
            ("position", "int", "Order in the record."),
            ("system", "text", "A product or model, as reported."),
        ),
        pk=("incident_id", "position"),
        foreign_keys=(("incident_id", "incidents", "id"),),
    ),
    TableSpec(
        "incident_harm_kinds",
        "The kinds of harm each incident involved.",
        _cols(
            ("incident_id", "text", "The incident."),
            ("position", "int", "Order in the record."),
            ("harm_kind", "text", "A harm kind, e.g. 'defamation', 'prompt-injection'."),
        ),
        pk=("incident_id", "position"),
        foreign_keys=(("incident_id", "incidents", "id"),),
        indexes=(("harm_kind",),),
    ),
    TableSpec(
        "incident_sources",
        "Pages that report each incident and were read when the record was written.",
        _cols(
            ("incident_id", "text", "The incident."),
            ("position", "int", "Order in the record."),
            ("url", "text", "Where to read it."),
            ("title", "text", "The title as the page shows it."),
            ("publisher", "text", "Who published the page."),
        ),
        pk=("incident_id", "position"),
        foreign_keys=(("incident_id", "incidents", "id"),),
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
            (
                "max_severity_rank",
                "int",
                "max_severity as a number: low 1, medium 2, high 3, critical 4 (0 when none).",
            ),
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
            ("category", "text", "Harm category id from the vocabulary (null when 'unresolved' is set)."),
            (
                "unresolved",
                "text",
                "A harm category the vocabulary lacks, exactly as the source wrote it (imported legacy cards).",
            ),
        ),
        pk=("card_id", "position"),
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
            (
                "sensitivity",
                "text",
                "full, defanged ('[redacted: ...]' markers), withheld (no text) or unreviewed (text not reviewed "
                "yet: prompt, output, turns and context are null here).",
            ),
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
            ("likelihood", "text", "How likely harm is here: rare, possible or likely (null if not given)."),
            ("impact", "text", "How bad the harm is: minor, moderate, serious or severe (null if not given)."),
        ),
        pk=("card_id", "scenario_id"),
        foreign_keys=(("card_id", "cards", "id"), ("scenario_id", "scenarios", "id")),
        indexes=(("scenario_id", "severity_rank"),),
        card_key="card_id",
    ),
    TableSpec(
        "card_mitigations",
        "Ways to reduce each card's risk: the layer, what to do, the evidence and the risk that remains.",
        _cols(
            ("card_id", "text", "The card."),
            ("position", "int", "Order on the card."),
            ("layer", "text", "training, model, guard, application, interface or organisation."),
            ("action", "text", "What to do."),
            (
                "evidence",
                "text",
                "Cited works" + _JSON + " of {work, title, url, note}, from the verified bibliography.",
            ),
            ("residual_risk", "text", "The risk that remains with the mitigation in place."),
        ),
        pk=("card_id", "position"),
        foreign_keys=(("card_id", "cards", "id"),),
        indexes=(("layer",),),
        card_key="card_id",
    ),
    TableSpec(
        "card_evaluations",
        "Ways to measure each card's risk: the method, what it measures and the works that describe it.",
        _cols(
            ("card_id", "text", "The card."),
            ("position", "int", "Order on the card."),
            ("method", "text", "benchmark, probe-set, guard, paired-audit or red-teaming."),
            ("name", "text", "Short name of the evaluation."),
            ("measures", "text", "What it measures about the risk, and what it does not."),
            ("refs", "text", "Cited works" + _JSON + " of {work, title, url, note}, from the verified bibliography."),
        ),
        pk=("card_id", "position"),
        foreign_keys=(("card_id", "cards", "id"),),
        indexes=(("method",),),
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
        "card_incidents",
        "Real incidents in which each card's risk showed in deployment, with how the incident shows it.",
        _cols(
            ("card_id", "text", "The card."),
            ("incident_id", "text", "The incident."),
            ("position", "int", "Order on the card."),
            ("note", "text", "How the incident shows this card's risk."),
        ),
        pk=("card_id", "incident_id"),
        foreign_keys=(("card_id", "cards", "id"), ("incident_id", "incidents", "id")),
        indexes=(("incident_id",),),
        card_key="card_id",
    ),
    TableSpec(
        "card_related",
        "Related cards as each card states them: the relation and where the boundary between the two lies.",
        _cols(
            ("card_id", "text", "The card that states the relation."),
            ("related_card_id", "text", "The related card."),
            ("position", "int", "Order on the card."),
            (
                "relation",
                "text",
                "overlaps, specialises (card_id is a narrower case of the other), generalises or contrasts.",
            ),
            ("boundary", "text", "Which cases belong to which card."),
        ),
        pk=("card_id", "related_card_id"),
        foreign_keys=(("card_id", "cards", "id"), ("related_card_id", "cards", "id")),
        indexes=(("related_card_id",),),
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
            (
                "input_status",
                "text",
                "'current' (input matches the example today), 'changed' (the example was edited since), "
                "'missing' (the example, or its prompt/response, no "
                "longer exists) or 'unchecked' (the input could not be hashed).",
            ),
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
            (
                "tier",
                "text",
                "A tiered guard's native tier code (e.g. DeepKnown-Guard 'T3'), beside the label; null for others.",
            ),
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
        "assessments",
        "Deployment assessments (assessments/<id>/assessment.yaml): a model probed card by card in a scenario.",
        _cols(
            ("id", "text", "Assessment id."),
            ("title", "text", "Short name of the assessment."),
            ("status", "text", "planned, in-progress or complete."),
            ("created", "text", "When it was set up, YYYY-MM-DD."),
            ("use_case", "text", "The deployment's use case."),
            ("scenario_id", "text", "The scenario the deployment is an instance of."),
            ("model_id", "text", "The model under assessment."),
            ("model_version", "text", "The model's version or revision, where given."),
            ("access_date", "text", "When the model was accessed, YYYY-MM-DD."),
            ("transport", "text", "How the model was reached, e.g. 'openai-chat'."),
            ("host", "text", "The server's host and port, or 'local' (never a secret)."),
            ("kb_commit", "text", "The knowledge-base commit the cards were taken from."),
            ("card_count", "int", "Cards in scope."),
            ("judged_count", "int", "Cards in scope with a finding."),
            ("elicited_count", "int", "Cards whose behaviour was elicited ('yes' or 'partly')."),
            ("log_entries", "int", "Lines in the assessment's logs."),
            ("conclusions", "text", "Overall conclusions."),
            (
                "report",
                "text",
                "The assessment report (JSON, format riskcards.assessment-report/1): what `riskcards assess report` "
                "and the site show, with log text only where an assessor marked it publishable.",
            ),
            ("path", "text", "Source file (assessment.yaml)."),
        ),
        pk="id",
        foreign_keys=(("scenario_id", "scenarios", "id"), ("model_id", "models", "id")),
        indexes=(("model_id",), ("scenario_id",)),
    ),
    TableSpec(
        "assessment_cards",
        "Each card an assessment selected or excluded, with the assessors' judgement (findings/<card>.yaml) "
        "and what the log holds for it.",
        _cols(
            ("assessment_id", "text", "The assessment."),
            ("card_id", "text", "The card."),
            ("position", "int", "Order in the selection (most severe first); excluded cards follow."),
            ("in_scope", "int", "1 when assessed, 0 when excluded."),
            ("excluded_reason", "text", "Why an excluded card was left out."),
            ("elicited", "text", "yes, partly, no or not-tested; null when not judged yet."),
            ("attempts", "int", "Prompts it took (or were tried), as judged."),
            ("minutes", "float", "Minutes spent probing the card, as judged."),
            ("severity", "text", "Severity of the risk in this deployment, as judged."),
            ("actions_plausible", "text", "Whether the card's actions required for harm are plausible here."),
            ("prompts", "int", "Prompts logged for the card (exchanges)."),
            ("answered", "int", "Logged prompts with an answer."),
            ("publishable", "int", "Log excerpts the assessors marked publishable."),
            ("finding_path", "text", "The finding's file, where judged."),
        ),
        pk=("assessment_id", "card_id"),
        foreign_keys=(("assessment_id", "assessments", "id"), ("card_id", "cards", "id")),
        indexes=(("card_id",),),
    ),
    TableSpec(
        "guard_coverage",
        "Guard coverage, one row per card x guard, computed once at build time (riskcards/guards/coverage.py) and "
        "read by `riskcards coverage` and the site alike. A unit is one example and target (prompt or response) "
        "the guard should see; the latest current verdict per unit counts. Guards: every guard id with recorded "
        "verdicts, then every guard model record no recorded guard runs (under its model id).",
        _cols(
            ("card_id", "text", "The card."),
            ("guard_id", "text", "The guard: a guard id of recorded verdicts, or a guard model record's id."),
            ("model_id", "text", "The guard's model record."),
            ("taxonomy_id", "text", "The taxonomy of the guard's native codes (its policy)."),
            (
                "in_policy",
                "int",
                "1 when the guard's taxonomy covers the card's risk: the card is placed in it, or an exact, "
                "broader or narrower crosswalk row maps one of its codes to one of the card's placements.",
            ),
            ("units", "int", "Runnable units: examples x targets the guard should see, without redacted text."),
            ("flagged", "int", "Units with an unsafe verdict (a tiered guard: a tier that counts as flagged)."),
            (
                "conditional",
                "int",
                "Units a tiered guard put in a conditional tier (e.g. DeepKnown-Guard T3 Conditionally Safe): "
                "flagged with a condition, apart from flagged.",
            ),
            ("missed", "int", "Units with a safe verdict where the guard's policy covers the risk (in_policy)."),
            ("outside", "int", "Units with a safe verdict where the guard's policy does not cover the risk."),
            ("errored", "int", "Units whose verdict is an error (never counted as safe)."),
            (
                "not_runnable",
                "int",
                "Units whose judged text holds a '[redacted: ...]' marker: never sent, never flagged or missed.",
            ),
            ("not_run", "int", "Runnable units with no current verdict."),
            ("stale", "int", "Of not_run: units with verdicts only for an older version of the example."),
            ("on_target", "int", "Flagged units whose codes map to one of the card's placements."),
            ("expected", "int", "Expectations naming this guard on runnable units."),
            ("match", "int", "Expectations the current verdict agrees with."),
            ("mismatch", "int", "Expectations the current verdict disagrees with (label, or categories missing)."),
            ("expected_error", "int", "Expectations whose unit's verdict is an error."),
            ("no_result", "int", "Expectations whose unit has no current verdict."),
            ("expected_not_runnable", "int", "Expectations on units that are not runnable (documentation only)."),
            ("tiers", "text", "A tiered guard's native tier codes of the current verdicts, with counts (JSON object)."),
            ("codes", "text", "Native category codes of flagged units, with counts (JSON object)."),
            (
                "mapped",
                "text",
                "Flagged units' codes mapped into the card's taxonomies ('taxonomy:code' -> count; JSON object).",
            ),
            (
                "disagreements",
                "text",
                "Expectations that disagree (JSON list of {example, target, expected, expected_categories, "
                "observed, observed_categories, status, parse_error}).",
            ),
        ),
        pk=("card_id", "guard_id"),
        foreign_keys=(("card_id", "cards", "id"),),
        indexes=(("guard_id",),),
        card_key="card_id",
    ),
    TableSpec(
        "guard_outcomes",
        "The units behind the guard_coverage counts, one row per card x example x guard x target, for every unit "
        "with a verdict (current, or only for an older version of the example) and every not-runnable unit an "
        "expectation names: what it counts as and the verdict that decides it. Any other unit is not run. "
        "Computed with the cells (riskcards/guards/coverage.py); the site's card and model pages show them.",
        _cols(
            ("card_id", "text", "The card."),
            ("example_id", "text", "The example, unique within the card."),
            ("guard_id", "text", "The guard, as in guard_coverage."),
            ("model_id", "text", "The guard's model record."),
            ("target", "text", "What the guard judges: 'prompt' or 'response'."),
            (
                "state",
                "text",
                "What the unit counts as, the guard_coverage count of the same name: flagged, conditional, missed, "
                "outside, errored, not_run (verdicts only for an older version of the example: stale) or "
                "not_runnable.",
            ),
            ("label", "text", "The current verdict: safe, unsafe or error; null when not run."),
            ("categories", "text", "The current verdict's native category codes" + _JSON + "."),
            ("tier", "text", "A tiered guard's native tier code of the current verdict; null otherwise."),
            ("run_at", "text", "When the current verdict was made, ISO 8601 UTC; null when not run."),
        ),
        pk=("card_id", "example_id", "guard_id", "target"),
        foreign_keys=(("card_id", "cards", "id"),),
        card_key="card_id",
    ),
    TableSpec(
        "card_fingerprints",
        "Build bookkeeping: a fingerprint of each card's source record, so that a rebuild replaces only the rows "
        "of cards that changed.",
        _cols(
            ("card_id", "text", "The card (or a card id that recorded guard verdicts name)."),
            ("fingerprint", "text", "sha1 of the card's path and data as read."),
        ),
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
    "incident_cards": (
        "Incidents by date with the cards that link them and how each incident shows the card's risk "
        "(an incident no card links has one row with a null card).",
        """SELECT i.date, i.id AS incident_id, i.title AS incident_title, i.deployer, i.aiid, i.confidence,
       ci.card_id, c.title AS card_title, ci.note
FROM incidents i LEFT JOIN card_incidents ci ON ci.incident_id = i.id LEFT JOIN cards c ON c.id = ci.card_id
ORDER BY i.date, i.id, ci.card_id""",
    ),
    "related_cards_named": (
        "Related cards with both titles, the relation as stated and the boundary note.",
        """SELECT r.card_id, a.title AS card_title, r.relation, r.related_card_id, b.title AS related_card_title,
       r.boundary
FROM card_related r JOIN cards a ON a.id = r.card_id JOIN cards b ON b.id = r.related_card_id""",
    ),
}


VIEW_COLUMNS: dict[str, dict[str, str]] = {
    "placements_named": {
        "card_id": "The card.",
        "card_title": "The card's title.",
        "ref": "The category placed in, 'taxonomy-id:code'.",
        "taxonomy_id": "The taxonomy.",
        "taxonomy_name": "The taxonomy's short name.",
        "code": "The category code within the taxonomy.",
        "category_name": "The category's name.",
        "relation": "exact, broader (category covers more), narrower, related.",
        "rationale": "Why the card sits in this category this way.",
    },
    "scenario_risks": {
        "scenario_id": "The scenario.",
        "scenario_name": "The scenario's name.",
        "card_id": "The card.",
        "card_title": "The card's title.",
        "status": "The card's status: draft, reviewed or deprecated.",
        "severity": "Severity of the card's risk in this scenario: low, medium, high or critical.",
        "severity_rank": "Severity as a number: low 1 ... critical 4.",
        "rationale": "Why the risk has this likelihood, impact and severity here.",
    },
    "example_guard_outcomes": {
        "card_id": "The card.",
        "example_id": "The example, unique within the card.",
        "guard_id": "The guard model the expectation is about.",
        "target": "What the guard judges: 'prompt' or 'response'.",
        "expected_verdict": "The verdict the card expects: safe or unsafe.",
        "expected_categories": "The guard's category codes the card expects" + _JSON + ".",
        "recorded_verdict": "The recorded verdict: safe, unsafe or error; null when the guard was not run on it.",
        "recorded_categories": "The category codes the guard returned" + _JSON + "; null when not run.",
        "input_status": "Whether the recorded verdict's input is the example as it is today: 'current' or 'changed'.",
        "run_at": "When the recorded verdict was made, ISO 8601 UTC.",
        "guard_config_id": "The guard configuration that made the recorded verdict.",
    },
    "category_card_counts": {
        "ref": "The category, 'taxonomy-id:code'.",
        "taxonomy_id": "The taxonomy.",
        "code": "The category code.",
        "name": "The category's name.",
        "level": "Depth in the hierarchy; top level is 1.",
        "direct_cards": "Placements of cards in exactly this category.",
        "cards_with_descendants": "Distinct cards placed in this category or any category below it.",
    },
    "incident_cards": {
        "date": "When the incident happened: YYYY-MM-DD, or YYYY-MM.",
        "incident_id": "The incident.",
        "incident_title": "The incident's title.",
        "deployer": "Who deployed the system (null when there is no single deployer).",
        "aiid": "AI Incident Database incident number, where confirmed.",
        "confidence": "'high' or 'medium'.",
        "card_id": "A card that links the incident (null when none does).",
        "card_title": "That card's title.",
        "note": "How the incident shows the card's risk.",
    },
    "related_cards_named": {
        "card_id": "The card that states the relation.",
        "card_title": "Its title.",
        "relation": "overlaps, specialises (card_id is a narrower case), generalises or contrasts.",
        "related_card_id": "The related card.",
        "related_card_title": "Its title.",
        "boundary": "Which cases belong to which card.",
    },
}
"""Every view column's meaning, for the Datasette metadata and the schema page (a test holds it to the views)."""

LICENSE = "CC-BY-4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
SOURCE = "RiskCards knowledge base (cards, taxonomies, crosswalks, scenarios, models and guard verdicts)"
SOURCE_URL = "https://github.com/riskcards/riskcards"

# --------------------------------------------------------------------------------------------------
# Datasette metadata and the schema page
# --------------------------------------------------------------------------------------------------


def datasette_metadata(db_name: str = "riskcards") -> dict[str, Any]:
    """Datasette metadata (``datasette DB -m metadata.json``): title, description, tables and columns.

    Datasette names a database after its file stem: ``db_name`` must be that stem."""
    tables: dict[str, Any] = {}
    for spec in TABLES:
        entry: dict[str, Any] = {
            "description": spec.description,
            "columns": {c.name: c.description for c in spec.columns},
        }
        if spec.name in ("cards", "incidents"):
            entry["label_column"] = "title"
            entry["sort"] = "id" if spec.name == "cards" else "date"
        if spec.name in ("categories", "taxonomies", "scenarios", "models"):
            entry["label_column"] = "name"
        if spec.fts:
            entry["fts_table"] = f"{spec.name}_fts"
            entry["fts_pk"] = "rowid"
        tables[spec.name] = entry
    for name, (desc, _sql) in VIEWS.items():
        tables[name] = {"description": desc, "columns": dict(VIEW_COLUMNS[name])}
    return {
        "title": "RiskCards",
        "description": "An open knowledge base of language-model risks: cards, their placements in harm taxonomies, "
        "examples, deployment scenarios with severities, and guard-model verdicts. The card text, crosswalks and "
        "descriptions are CC-BY-4.0 (a card may name another licence in its 'license' column); taxonomy codes and "
        "category names are reproduced from their sources for reference and keep their sources' terms.",
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "source": SOURCE,
        "source_url": SOURCE_URL,
        "databases": {
            db_name: {
                "tables": tables,
                "license": LICENSE,
                "license_url": LICENSE_URL,
                "source": SOURCE,
                "source_url": SOURCE_URL,
            }
        },
    }


def metadata_path(db_path: Path) -> Path:
    """Where ``build()`` writes the Datasette metadata: beside the database, '<stem>.metadata.json'."""
    return db_path.with_name(db_path.stem + ".metadata.json")


def schema_markdown() -> str:
    """The schema documentation page (markdown), generated from ``TABLES`` and ``VIEWS``."""
    out = [
        "# Index schema",
        "",
        "`riskcards index` writes a SQLite database (schema version "
        f"{SCHEMA_VERSION}, default path `build/riskcards.db`). "
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
        out += [f"### `{name}`", "", desc, "", "| column | meaning |", "|---|---|"]
        out += [f"| `{c}` | {d.replace('|', '/')} |" for c, d in VIEW_COLUMNS[name].items()]
        out += ["", "```sql", sql, "```", ""]
    return "\n".join(out)
