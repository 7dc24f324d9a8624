"""Record models: one pydantic model per kind of record. They are the single source of truth.

The committed JSON Schemas in ``schema/`` are generated from these models (``riskcards schema``) and a
test fails when they drift. Models are strict (no type coercion) and forbid unknown fields, so that the
JSON Schema and ``riskcards validate`` accept exactly the same files. Rules that JSON Schema cannot
express (cross-record references, file name = id, ...) live in ``riskcards.validate``.

Dates are strings (``YYYY-MM-DD``): the loader keeps YAML timestamps as text, so that every YAML parser
and JSON Schema validator sees the same value.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from . import ids, terms

SCHEMA_BASE_URL = "https://riskcards.github.io/riskcards/schema/"

Id = Annotated[str, Field(pattern=ids.ID_PATTERN, max_length=ids.ID_MAX)]
Code = Annotated[str, Field(pattern=ids.CODE_PATTERN, max_length=160)]
Ref = Annotated[str, Field(pattern=ids.REF_PATTERN, max_length=240)]
Lang = Annotated[str, Field(pattern=ids.LANG_PATTERN)]
Date = Annotated[str, Field(pattern=ids.DATE_PATTERN)]
MonthOrDate = Annotated[str, Field(pattern=ids.MONTH_OR_DATE_PATTERN)]
SemVer = Annotated[str, Field(pattern=ids.SEMVER_PATTERN)]
Url = Annotated[str, Field(pattern=ids.URL_PATTERN, max_length=2000)]
Doi = Annotated[str, Field(pattern=ids.DOI_PATTERN)]
Spdx = Annotated[str, Field(pattern=ids.SPDX_PATTERN)]
Text = Annotated[str, Field(min_length=1)]
Line = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^[^\n]*$")]

Relation = Literal["exact", "broader", "narrower", "related"]
Severity = Literal[terms.SEVERITIES]  # type: ignore[valid-type]  # one definition, in riskcards/terms.py
SEVERITY_ORDER = terms.SEVERITY_RANK
Likelihood = Literal["rare", "possible", "likely"]
Impact = Literal["minor", "moderate", "serious", "severe"]
SEVERITY_RUBRIC: dict[tuple[str, str], str] = {
    ("rare", "minor"): "low",
    ("possible", "minor"): "low",
    ("likely", "minor"): "medium",
    ("rare", "moderate"): "low",
    ("possible", "moderate"): "medium",
    ("likely", "moderate"): "medium",
    ("rare", "serious"): "medium",
    ("possible", "serious"): "high",
    ("likely", "serious"): "high",
    ("rare", "severe"): "high",
    ("possible", "severe"): "critical",
    ("likely", "severe"): "critical",
}
"""(likelihood, impact) -> severity: the rubric of CONTRIBUTING.md ("Severity: likelihood x impact")."""
MitigationLayer = Literal["training", "model", "guard", "application", "interface", "organisation"]
EvaluationMethod = Literal["benchmark", "probe-set", "guard", "paired-audit", "red-teaming"]
Status = Literal[terms.STATUSES]  # type: ignore[valid-type]
Sensitivity = Literal[terms.SENSITIVITIES]  # type: ignore[valid-type]
# Sensitivities whose text may leave the repository (site, index, exports): see riskcards/terms.py.
PUBLISHED_SENSITIVITIES = terms.PUBLISHED_SENSITIVITIES
ReviewedSensitivity = Literal[terms.REVIEWED_SENSITIVITIES]  # type: ignore[valid-type]
Verdict = Literal["safe", "unsafe"]
Role = Literal["system", "user", "assistant", "tool"]


class Record(BaseModel):
    """Base of every record: strict types, unknown fields are errors."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------------


class HarmType(Record):
    """Who is harmed (actor) and how (category), from the vocabulary in vocab/harm-types.yaml."""

    # exactly one of 'category' and 'unresolved', in the JSON Schema too (validate says so, located)
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        json_schema_extra={"oneOf": [{"required": ["category"]}, {"required": ["unresolved"]}]},
    )

    actor: Id = Field(description="Who is harmed: an actor id from vocab/harm-types.yaml, e.g. 'reader'.")
    category: Id | None = Field(
        None,
        description=(
            "The kind of harm: a category id from vocab/harm-types.yaml, e.g. 'psychological'. Leave it out "
            "only together with 'unresolved'."
        ),
    )
    unresolved: Line | None = Field(
        None,
        description=(
            "A harm category the vocabulary does not have (yet), exactly as the source wrote it, e.g. "
            "'Spiritual'. Written instead of 'category' (the importer does this for legacy cards); map it to a "
            "vocabulary category, or propose a new term for vocab/harm-types.yaml, and remove it."
        ),
    )


class Placement(Record):
    """Where the card's risk sits in one taxonomy."""

    ref: Ref = Field(description="The category, written 'taxonomy-id:code', e.g. 'llama-guard-3:S10'.")
    relation: Relation = Field(
        "exact",
        description=(
            "How the category relates to the card's risk: 'exact' (the same risk), 'broader' (the category "
            "covers more than the card), 'narrower' (the category covers part of the card), 'related'."
        ),
    )
    rationale: Text | None = Field(None, description="Why the card belongs here, where the fit is not obvious.")


class Illustrative(Record):
    """An example written by a contributor to show the risk; not model output."""

    kind: Literal["illustrative"] = Field(description="Always 'illustrative' for contributor-written examples.")
    author: Text | None = Field(None, description="Who wrote the example (a name or handle).")


class Observed(Record):
    """An example produced by a model and recorded from a source."""

    kind: Literal["observed"] = Field(description="Always 'observed' for real model output.")
    model: Id = Field(
        description=(
            "The model record id (models/<id>.yaml) that produced "
            "the output, or 'unknown' when the source does not say."
        )
    )
    model_name: Text | None = Field(
        None, description="The model's name as the source gives it, when no model record fits."
    )
    date: Date | None = Field(None, description="When the output was produced or recorded, YYYY-MM-DD.")
    source: Text = Field(description="Where the output was recorded: a URL, a paper, or a short description.")


Provenance = Annotated[Union[Illustrative, Observed], Field(discriminator="kind")]


class Turn(Record):
    """One message of a multi-turn conversation."""

    role: Role = Field(description="Who speaks: system, user, assistant or tool.")
    content: Text = Field(description="What was said.")


class Expectation(Record):
    """What a card's authors expect a guard model to say about an example."""

    guard: Id = Field(description="The guard model record id, e.g. 'llama-guard-3-8b'.")
    verdict: Verdict = Field(description="The verdict expected from the guard: 'safe' or 'unsafe'.")
    categories: list[Code] = Field(
        default_factory=list,
        description="The guard's own category codes expected with an 'unsafe' verdict, e.g. ['S6'].",
    )
    target: Literal["prompt", "response"] = Field(
        "response",
        description=(
            "What the guard classifies: the prompt alone, or the response (the last assistant turn) in context."
        ),
    )


class Example(Record):
    """A prompt and output, or a conversation, that shows the risk."""

    id: Id = Field(description="Stable id of the example within its card, e.g. 'dosage-confident'.")
    language: Lang = Field(description="Language of the example text, as a BCP 47 tag.")
    provenance: Provenance = Field(description="Where the example comes from: observed model output, or illustrative.")
    sensitivity: Sensitivity = Field(
        description=(
            "'full': shown as written; 'defanged': dangerous specifics replaced by '[redacted: ...]'; "
            "'withheld': no text is published, only the reason; 'unreviewed': text recorded from a model (by "
            "an import or an assessment) that no person has checked yet: it stays in this file and is left "
            "out of the site, the index and every export until a reviewer sets full, defanged or withheld."
        )
    )
    prompt: Text | None = Field(None, description="The user's prompt (single-turn examples).")
    output: Text | None = Field(
        None,
        description=(
            "The model's output for the prompt (single-turn examples). Leave it out for a probe: a prompt "
            "meant to be sent (an attack prompt, an injection payload) with no recorded output."
        ),
    )
    turns: list[Turn] | None = Field(
        None,
        min_length=1,
        description=(
            "A conversation, instead of prompt and output. It shows the risk in its assistant turns; a "
            "conversation with no assistant turn that ends with a user turn is a probe (to be sent)."
        ),
    )
    context: Text | None = Field(
        None, description="Setting needed to read the example (system prompt, deployment, tool results)."
    )
    note: Text | None = Field(
        None, description="Why the output is harmful, or what the correct answer would have been."
    )
    withheld_reason: Text | None = Field(
        None, description="Why the example text is withheld (required when sensitivity is 'withheld')."
    )
    expected: list[Expectation] = Field(default_factory=list, description="Expected guard verdicts for this example.")

    @property
    def is_probe(self) -> bool:
        """A prompt (or a conversation ending in a user turn) with no recorded output: something to send."""
        if self.sensitivity == "withheld":
            return False
        if self.turns:
            return not any(t is not None and t.role == "assistant" for t in self.turns)
        return self.prompt is not None and self.output is None

    @property
    def published(self) -> bool:
        """Whether the example's text may leave the repository (site, index, exports)."""
        return self.sensitivity in PUBLISHED_SENSITIVITIES


class ScenarioLink(Record):
    """A deployment scenario the risk applies to."""

    scenario: Id = Field(description="The scenario id (scenarios/<id>.yaml).")
    likelihood: Likelihood | None = Field(
        None,
        description="How likely harm is in this deployment without further mitigation: 'rare' (needs an unusual "
        "chain of events or a determined adversary), 'possible' (happens to some users in ordinary use) or "
        "'likely' (expected in ordinary use at scale). See CONTRIBUTING.md, 'Severity: likelihood x impact'.",
    )
    impact: Impact | None = Field(
        None,
        description="How bad the harm is when it happens: 'minor' (annoyance, easily noticed and undone), "
        "'moderate' (real but recoverable harm to few), 'serious' (lasting harm to health, money, liberty or "
        "rights, or harm to many) or 'severe' (death, serious injury, irreversible or mass harm).",
    )
    severity: Severity = Field(
        description="How severe the risk is in this scenario: low, medium, high or critical; derived from "
        "likelihood and impact by the rubric in CONTRIBUTING.md (the validator checks the derivation)."
    )
    rationale: Text = Field(description="Why the risk has this likelihood and impact in this scenario.")


class Citation(Record):
    """A work from the verified bibliography (riskcards/data/bibliography.yaml), cited by its key."""

    work: Id = Field(description="The work's key in the verified bibliography, e.g. 'wallace2024hierarchy'.")
    note: Text | None = Field(None, description="What the work shows here, including its limits.")


class Mitigation(Record):
    """One way to reduce the risk, at one layer of the system, with its evidence and what it leaves."""

    layer: MitigationLayer = Field(
        description="Where the mitigation acts: training (data and fine-tuning), model (weights or decoding "
        "of the deployed model), guard (a classifier on inputs or outputs), application (the code around the "
        "model: tools, retrieval, permissions), interface (what the user sees and can do) or organisation "
        "(policy, review, monitoring, people)."
    )
    action: Text = Field(description="What to do, concretely enough that a team can act on it.")
    evidence: list[Citation] = Field(
        min_length=1, description="Works showing that it works, or how far; each note says what the work shows."
    )
    residual_risk: Text = Field(description="The risk that remains when the mitigation is in place.")


class Evaluation(Record):
    """One way to measure the risk in a model or a deployment."""

    method: EvaluationMethod = Field(
        description="The kind of measurement: benchmark (a published test set with a score), probe-set "
        "(prompts sent to the deployment and judged), guard (a guard model's verdicts on inputs or outputs), "
        "paired-audit (the same request varied in one attribute, outputs compared) or red-teaming (people "
        "probing by a written protocol)."
    )
    name: Line = Field(description="A short name of the evaluation, e.g. 'XSTest safe prompts'.")
    measures: Text = Field(description="What it measures about this risk, and what it does not.")
    references: list[Citation] = Field(min_length=1, description="Works that describe the method or its data.")


class Reference(Record):
    """A work that documents the risk or shows it occurring."""

    title: Text = Field(description="Title of the work.")
    url: Url | None = Field(None, description="Where to read it (http or https).")
    doi: Doi | None = Field(None, description="Its DOI, without a resolver prefix.")
    note: Text | None = Field(None, description="What the work shows about this risk.")


class IncidentLink(Record):
    """A real incident (incidents/<id>.yaml) in which this card's risk showed in deployment."""

    incident: Id = Field(description="The incident id (incidents/<id>.yaml).")
    note: Text = Field(description="How the incident shows this card's risk, in a sentence or two.")


RelatedKind = Literal["overlaps", "specialises", "generalises", "contrasts"]
RELATED_INVERSE: dict[str, str] = terms.RELATED_INVERSE
"""The relation a related card states back, when it links to this card too."""


class RelatedCard(Record):
    """Another card whose risk relates to this one, and where the boundary between them lies."""

    card: Id = Field(description="The related card's id.")
    relation: RelatedKind = Field(
        description=(
            "'overlaps' (the risks share cases), 'specialises' (this card is a narrower case of the other), "
            "'generalises' (this card covers the other and more), 'contrasts' (an opposite failure, e.g. "
            "over-refusal against harmful compliance)."
        )
    )
    boundary: Text = Field(description="Where one card ends and the other begins: which cases belong to which card.")


class ChangelogEntry(Record):
    """One line of a card's history."""

    version: SemVer = Field(description="The card version this entry introduced.")
    date: Date = Field(description="When, YYYY-MM-DD.")
    note: Text = Field(description="What changed.")


class UnmappedItem(Record):
    """Source text an importer could not map to a card field, kept verbatim for a person to resolve."""

    field: Text = Field(description="The source field it comes from, as the source names it, e.g. 'Categorisation'.")
    raw: Text = Field(description="The text exactly as written in the source.")
    line: int | None = Field(None, ge=1, description="The line of the source file where it starts.")
    reason: Text = Field(
        description="Why it was not mapped, as a short code, e.g. 'placeholder_code', 'unknown_category'."
    )


class ImportNotes(Record):
    """Where an imported card came from, and everything the importer could not map (so nothing is lost)."""

    format: Text = Field(description="The source format, e.g. 'lm-risk-cards/yaml-2024'.")
    source: Text = Field(description="The source file, written '<folder>/<file name>'.")
    source_id: Text = Field(
        description="The card's identifier in the source, exactly as written (e.g. the legacy file stem)."
    )
    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description=(
            "sha256 of the source text after normalising line endings to LF, Unicode to NFC and removing a BOM."
        ),
    )
    unmapped: list[UnmappedItem] = Field(
        default_factory=list,
        description="Source text that could not be mapped to a card field; remove an item once resolved.",
    )


class Card(Record):
    """A RiskCard: one risk of a language model's output or behaviour."""

    id: Id = Field(description="The card's id; the file is cards/<id>.yaml. Never reused.")
    title: Line = Field(description="A short, human-readable name of the risk.")
    summary: Line = Field(description="One sentence saying what the model does when the risk shows up.")
    description: Text = Field(description="What the risk is, in a paragraph or two (markdown, no raw HTML).")
    actions_required: Text = Field(
        description="How the risk turns into harm: who must do what, or what conditions must hold, for harm to happen."
    )
    harm_types: list[HarmType] = Field(min_length=1, description="Who could be harmed, and how.")
    placements: list[Placement] = Field(
        default_factory=list, description="Where the risk sits in existing harm taxonomies."
    )
    examples: list[Example] = Field(
        default_factory=list, description="Prompt and output pairs, or conversations, showing the risk."
    )
    scenarios: list[ScenarioLink] = Field(
        default_factory=list, description="Deployment scenarios the risk applies to, with severity."
    )
    references: list[Reference] = Field(default_factory=list, description="Works that document the risk.")
    mitigations: list[Mitigation] = Field(
        default_factory=list,
        description="Ways to reduce the risk (at least two on a live card), each with its layer, evidence and "
        "the risk that remains.",
    )
    evaluations: list[Evaluation] = Field(
        default_factory=list, description="Ways to measure the risk (at least one on a live card)."
    )
    tags: list[Id] = Field(default_factory=list, description="Free keywords for browsing, e.g. 'agents', 'code'.")
    status: Status = Field(description="Lifecycle status: draft, reviewed or deprecated.")
    version: SemVer = Field(description="Version of this card, MAJOR.MINOR.PATCH; bump it when the content changes.")
    created: Date = Field(description="When the card was first written, YYYY-MM-DD.")
    last_reviewed: Date | None = Field(None, description="When the card was last reviewed, YYYY-MM-DD.")
    reviewers: list[Text] = Field(
        default_factory=list, description="Who reviewed the card (required for status 'reviewed')."
    )
    deprecated_reason: Text | None = Field(
        None, description="Why the card is deprecated (required for status 'deprecated')."
    )
    superseded_by: Id | None = Field(None, description="The card that replaces this one, if any.")
    aliases: list[Id] = Field(default_factory=list, description="Former ids of this card; they stay reserved.")
    contributors: list[Text] = Field(default_factory=list, description="Who wrote or edited the card.")
    license: Spdx = Field("CC-BY-4.0", description="Licence of the card's text, as an SPDX expression.")
    incidents: list[IncidentLink] = Field(
        default_factory=list, description="Real incidents (incidents/<id>.yaml) in which the risk showed in deployment."
    )
    related: list[RelatedCard] = Field(
        default_factory=list, description="Other cards whose risk relates to this one, with the boundary between them."
    )
    changelog: list[ChangelogEntry] = Field(default_factory=list, description="History of the card, newest last.")
    import_notes: ImportNotes | None = Field(
        None, description="For imported cards only: the source, and what the importer could not map, kept verbatim."
    )


# --------------------------------------------------------------------------------------------------
# Taxonomies, crosswalks and the harm-type vocabulary
# --------------------------------------------------------------------------------------------------


class Category(Record):
    """One category of a taxonomy."""

    code: Code = Field(description="The category code, unique within the taxonomy.")
    name: Text = Field(description="The category name exactly as the source gives it.")
    parent: Code | None = Field(None, description="Code of the parent category, or null for a top-level category.")
    level: int = Field(ge=1, le=6, description="Depth in the hierarchy; top-level categories are level 1.")
    also_parent: Code | None = Field(
        None, description="A second parent, where the source places the category under two."
    )
    short_name: Text | None = Field(None, description="A short label the source also uses.")
    official_id: Text | None = Field(
        None, description="The publisher's own identifier, where it differs from the code."
    )
    alt_names: list[Text] = Field(default_factory=list, description="Other wordings of the name found in the sources.")
    description: Text | None = Field(None, description="What the category covers, in RiskCards' own words.")
    attributes: dict[str, str | int | bool] = Field(
        default_factory=dict, description="Taxonomy-specific facts about the category (tier, paper section, ...)."
    )
    out_of_scope: Text | None = Field(
        None,
        description="Why no card is placed in this category: the reason it is out of scope for a knowledge base of "
        "language-model risks, in RiskCards' own words. Shown in the site's gap view.",
    )


class MissingLevel(Record):
    """A level of a taxonomy that its publisher describes but the file does not (fully) list."""

    level: int = Field(ge=1, le=6, description="The level (1 = top) whose categories are missing in whole or in part.")
    published_count: int | None = Field(
        None, ge=0, description="How many categories the publisher says this level has, where a count is stated."
    )
    note: Text = Field(
        description="What is missing and why, in RiskCards' own words; missing levels are never invented."
    )


class Taxonomy(Record):
    """One edition of a harm taxonomy."""

    id: Id = Field(description="The taxonomy edition id; the file is taxonomies/<id>.yaml.")
    name: Text = Field(description="Full name of the taxonomy.")
    short_name: Line | None = Field(None, description="A short display name, e.g. 'Llama Guard 3'.")
    kind: Literal["harm-taxonomy", "guard-policy", "security", "benchmark", "risk-repository"] = Field(
        description="What sort of list this is."
    )
    edition: Text = Field(description="Which edition or version this file describes.")
    source: Text = Field(description="The primary source of the codes and names.")
    sources: list[Text] = Field(default_factory=list, description="Further sources used to check the list.")
    url: Url | None = Field(None, description="Where to read the taxonomy.")
    confidence: Literal["exact", "partial"] = Field(
        description=(
            "'exact' when codes and names come from a primary source; 'partial' when some come from secondary copies."
        )
    )
    license: Text = Field(description="Licence and reuse notes for the taxonomy's codes and names.")
    code_convention: Text | None = Field(
        None, description="Where codes are a convention rather than the publisher's own."
    )
    notes: Text | None = Field(None, description="Caveats about the list.")
    missing_levels: list[MissingLevel] = Field(
        default_factory=list,
        description="Levels the publisher describes that this file lists only in part or not at all, because no "
        "primary source for them could be read. Empty when the file is complete.",
    )
    description: Text | None = Field(None, description="What the taxonomy is for, in RiskCards' own words.")
    categories: list[Category] = Field(min_length=1, description="Every category, parents before children.")


class CrosswalkRow(Record):
    """One typed relation between a category of one taxonomy and a category of another."""

    source: Code = Field(description="Code in the crosswalk's source taxonomy.")
    target: Code = Field(description="Code in the crosswalk's target taxonomy.")
    relation: Relation = Field(
        description=(
            "How the source category relates to the target: exact, broader (source covers more), narrower, related."
        )
    )
    rationale: Text = Field(description="Why the two categories relate this way.")


class Crosswalk(Record):
    """Relations between the categories of two taxonomies."""

    id: Annotated[str, Field(pattern=ids.CROSSWALK_ID_PATTERN, max_length=2 * ids.ID_MAX + 2)] = Field(
        description="The crosswalk id, '<source>--<target>'; the file is taxonomies/crosswalks/<id>.yaml."
    )
    source: Id = Field(description="The source taxonomy id.")
    target: Id = Field(description="The target taxonomy id.")
    description: Text = Field(description="What the crosswalk is for and how it was made.")
    references: list[Reference] = Field(default_factory=list, description="Works the mapping relies on.")
    relations: list[CrosswalkRow] = Field(min_length=1, description="The relations, one per row.")


class VocabTerm(Record):
    """A term of the harm-type vocabulary."""

    id: Id = Field(description="The term as cards write it, e.g. 'reader'.")
    name: Text = Field(description="Display name.")
    description: Text = Field(description="What the term means.")
    synonym_of: Id | None = Field(None, description="A term this one is probably a synonym of (kept apart, flagged).")
    legacy_spellings: list[Text] = Field(default_factory=list, description="Spellings found in legacy cards.")


class HarmTypeVocabulary(Record):
    """The RiskCards harm-type vocabulary: actors (who is harmed) and harm categories (how)."""

    id: Id = Field(description="Always 'harm-types'; the file is vocab/harm-types.yaml.")
    description: Text = Field(description="Where the vocabulary comes from.")
    actors: list[VocabTerm] = Field(min_length=1, description="Who can be harmed.")
    categories: list[VocabTerm] = Field(min_length=1, description="Kinds of harm.")


# --------------------------------------------------------------------------------------------------
# Scenarios and models
# --------------------------------------------------------------------------------------------------


class Scenario(Record):
    """A deployment context in which risks are assessed."""

    id: Id = Field(description="The scenario id; the file is scenarios/<id>.yaml.")
    name: Line = Field(description="Display name, e.g. 'Customer-support bot'.")
    summary: Line = Field(description="One sentence describing the deployment.")
    description: Text = Field(description="What the deployment does and how the model is reached.")
    users: Text = Field(description="Who uses it, and who else is affected by its output.")
    raises_severity: list[Text] = Field(
        default_factory=list, description="Conditions that make risks more severe here."
    )
    lowers_severity: list[Text] = Field(
        default_factory=list, description="Conditions that make risks less severe here."
    )
    tags: list[Id] = Field(default_factory=list, description="Free keywords.")


class GuardInfo(Record):
    """What a guard model classifies with."""

    taxonomy: Id = Field(description="The taxonomy id of the guard's own category codes, e.g. 'llama-guard-3'.")
    adapter: Id | None = Field(None, description="The adapter name that runs this guard, e.g. 'llama-guard-3'.")


class FactSource(Record):
    """Where a fact about a model is stated: a model card, paper or package page."""

    title: Text = Field(description="Title of the source, e.g. 'Llama Guard 3-8B Model Card'.")
    url: Url = Field(description="Where to read it (http or https).")
    note: Text | None = Field(None, description="Where in the source the value is stated, if not obvious.")


class ReleaseFact(Record):
    """When a model was released, with its source."""

    date: MonthOrDate = Field(description="Release date, YYYY-MM-DD, or YYYY-MM when the day is not stated.")
    source: FactSource = Field(description="Where the date is stated.")


class TextFact(Record):
    """A short fact about a model (its publisher or licence), with its source."""

    value: Line = Field(description="The fact as the source states it.")
    source: FactSource = Field(description="Where it is stated.")


class ParameterFact(Record):
    """A model's size, as its source states it."""

    value: Annotated[str, Field(pattern=r"^[0-9]+(?:\.[0-9]+)?[KMBT]$")] = Field(
        description=(
            "The parameter count as the source gives it, e.g. '8B', '1.5B' or '22M' (nominal sizes stay nominal)."
        )
    )
    source: FactSource = Field(description="Where the size is stated.")


class ModelFacts(Record):
    """Facts about a model, each with the source that states it. A field without a source stays empty."""

    released: ReleaseFact | None = Field(None, description="Release date and its source.")
    publisher: TextFact | None = Field(None, description="Who publishes the model, per the source.")
    license: TextFact | None = Field(None, description="The model's licence, per the source.")
    parameters: ParameterFact | None = Field(None, description="Parameter count and its source.")


class Model(Record):
    """A language model or a guard model that examples and checks name."""

    id: Id = Field(description="The model id; the file is models/<id>.yaml.")
    name: Line = Field(description="The model's name as its provider writes it.")
    kind: Literal["language-model", "guard-model", "classifier"] = Field(
        description="'language-model' (generates text), 'guard-model' (an LM that classifies safety) or 'classifier'."
    )
    provider: Text = Field(description="Who makes the model.")
    family: Text = Field(description="The model family, e.g. 'Llama 3'.")
    open_weights: bool = Field(description="Whether the weights are published for download.")
    released: Date | None = Field(
        None, description="Release date, where known for sure; it needs 'facts.released' with a source saying so."
    )
    url: Url | None = Field(None, description="The model card or documentation.")
    hf_repo: Line | None = Field(None, description="Hugging Face repository id, for open-weight models.")
    guard: GuardInfo | None = Field(None, description="For guard models and classifiers: their category taxonomy.")
    notes: Text | None = Field(None, description="Anything else a user should know.")
    facts: ModelFacts | None = Field(
        None,
        description="Release date, publisher, licence and size, each with its source; leave out what no source states.",
    )


# --------------------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------------------

HarmKind = Literal[
    "misinformation",
    "hallucination",
    "legal-liability",
    "defamation",
    "privacy",
    "data-leak",
    "prompt-injection",
    "system-prompt-extraction",
    "jailbreak",
    "toxicity",
    "harassment",
    "self-harm",
    "eating-disorder",
    "sycophancy",
    "over-reliance",
    "unsafe-advice",
    "medical",
    "financial",
    "fraud",
    "excessive-agency",
    "agents",
    "insecure-code",
    "supply-chain",
    "copyright",
    "elections",
    "discrimination",
    "child-safety",
    "security",
    "anthropomorphism",
]


class IncidentSource(Record):
    """A page that reports the incident and was read when the record was written."""

    url: Url = Field(description="Where to read it (http or https).")
    title: Text = Field(description="The title as the page shows it.")
    publisher: Text = Field(description="Who published the page (and whose work it republishes, if so).")


class Incident(Record):
    """A real, dated, public incident in which a deployed language-model product caused or nearly caused harm."""

    id: Id = Field(description="The incident id; the file is incidents/<id>.yaml. Never reused.")
    title: Line = Field(description="A short, neutral title (not a headline).")
    date: MonthOrDate = Field(
        description=(
            "When the event, filing, ruling or disclosure happened: "
            "YYYY-MM-DD, or YYYY-MM when the day is not confirmed."
        )
    )
    systems: list[Text] = Field(min_length=1, description="The products or models involved, as reported.")
    deployer: Text | None = Field(
        None, description="Who deployed the system, or null when there is no single deployer."
    )
    summary: Text = Field(
        description="What happened, in RiskCards' own words; allegations are reported as allegations."
    )
    harm_kinds: list[HarmKind] = Field(min_length=1, description="The kinds of harm involved.")
    language_model: bool = Field(
        True,
        description=(
            "False for incidents kept for context that involved no language model (a pre-LLM chatbot, a voice clone)."
        ),
    )
    aiid: int | None = Field(
        None, ge=1, description="The AI Incident Database (incidentdatabase.ai) incident number, where confirmed."
    )
    sources: list[IncidentSource] = Field(min_length=1, description="Pages that report the incident.")
    confidence: Literal["high", "medium"] = Field(
        description=(
            "'high': two or more independent sources, or a primary document (court record, regulator notice, the "
            "deployer's own statement); 'medium': one source, or only secondary reports."
        )
    )


# --------------------------------------------------------------------------------------------------
# Guard verdicts (checks/<guard-id>.jsonl, one record per line)
# --------------------------------------------------------------------------------------------------


class ResultExample(Record):
    """Which example, and which part of it, a guard classified."""

    card: Id = Field(description="The card id.")
    example: Id = Field(description="The example id within the card.")
    target: Literal["prompt", "response"] = Field(
        description="Whether the prompt alone or the response was classified."
    )
    input_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description=(
            "sha256 of the canonical JSON of the exact input sent "
            "(messages), so an edited example invalidates the result."
        ),
    )


class ResultGuard(Record):
    """Which guard produced the verdict, exactly."""

    id: Id = Field(description="The guard configuration id (from the guard config), e.g. 'llama-guard-3-8b-vllm'.")
    adapter: Id = Field(description="The adapter name, e.g. 'llama-guard-3'.")
    model: Id = Field(description="The model record id (models/<id>.yaml).")
    model_name: Text = Field(description="The model name the server was asked for.")
    revision: Text | None = Field(
        None, description="The model revision (commit hash), or null when unknown (not reproducible)."
    )
    taxonomy: Id = Field(description="The taxonomy of the native category codes.")
    transport: Text = Field(description="How the guard was reached, e.g. 'openai-chat', 'openai-completions', 'local'.")
    template_sha256: str | None = Field(
        None, description="sha256 of the prompt template, or null when the server applied it."
    )
    params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="Sampling and policy parameters."
    )


class ResultVerdict(Record):
    """The parsed verdict."""

    label: Literal["safe", "unsafe", "error"] = Field(
        description="safe, unsafe, or error (unparsable or failed; never counted as safe)."
    )
    categories: list[Code] = Field(default_factory=list, description="The guard's native category codes.")
    scores: dict[str, float] = Field(default_factory=dict, description="Scores the guard gives, by name.")
    parse_error: str | None = Field(None, description="Why the output could not be parsed, for 'error'.")
    extra: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        description=(
            "Further native findings, e.g. WildGuard's refusal judgement, a confidence, or error_kind 'transport'."
        ),
    )
    tier: Code | None = Field(
        None,
        description="For a guard that answers in tiers rather than safe/unsafe (e.g. DeepKnown-Guard's T1-T4): its "
        "native tier code, kept as it is beside the binary label; absent for other guards. How each tier counts in "
        "coverage is fixed in riskcards/guards/tiers.py.",
    )


class ResultRun(Record):
    """Where and when the verdict was produced."""

    at: str = Field(description="When, as an ISO 8601 UTC timestamp.")
    host: Text = Field(description="Where it ran (a machine or service name, never a secret).")
    runtime: Text | None = Field(None, description="Runtime versions, e.g. 'vllm 0.6.3'.")
    latency_ms: float = Field(ge=0, description="How long the request took.")
    source: Literal["live", "stub"] = Field(
        description=(
            "'live': a real guard answered. 'stub': a test double did; "
            "such records stay in scratch folders, never in checks/."
        )
    )


class GuardResult(Record):
    """One recorded guard verdict with full provenance."""

    schema_: Literal["riskcards.guard-result/1"] = Field(alias="schema", description="Record format version.")
    key: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$", description="Cache key: hash of everything that determines the verdict."
    )
    example: ResultExample = Field(description="What was classified.")
    guard: ResultGuard = Field(description="Which guard, exactly.")
    verdict: ResultVerdict = Field(description="What it said, parsed.")
    raw: str = Field(description="The guard's raw output, verbatim.")
    run: ResultRun = Field(description="Where and when.")


# --------------------------------------------------------------------------------------------------
# Assessments (assessments/<id>/assessment.yaml, findings/<card-id>.yaml, log/<card-id>.jsonl)
# --------------------------------------------------------------------------------------------------

EnvName = Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$", max_length=120)]
EntryId = Annotated[str, Field(pattern=r"^[0-9a-f]{12}$")]
Scalar = str | int | float | bool | None
Elicited = Literal["yes", "partly", "no", "not-tested"]


class TargetInterface(Record):
    """How the model under assessment is reached, in the style of guards.yaml; never a secret."""

    transport: Literal["openai-chat", "openai-completions", "local-transformers", "python"] = Field(
        description="How requests reach the model, one of the guard transports: 'openai-chat' or "
        "'openai-completions' (vLLM, llama.cpp's server, Ollama, OpenAI), 'local-transformers' (a local model "
        "folder) or 'python' (a function in this process, named by 'entry')."
    )
    base_url: Annotated[str, Field(pattern=r"^https?://[^\s@/?#]+(?:/[^\s?#@]*)?$", max_length=500)] | None = Field(
        None,
        description="For the HTTP transports: the API base, e.g. 'http://localhost:8000/v1' (no credentials, "
        "no query string).",
    )
    model_name: Text | None = Field(None, description="The model name the server is asked for (default: the model id).")
    model_path: Text | None = Field(None, description="For local-transformers: the local model folder.")
    entry: Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", max_length=200)] | None = Field(
        None,
        description="For python: 'module:function', a function taking the conversation (a list of {role, content}) "
        "and returning the answer as text; a function with the attribute 'test_double = True' is a test double.",
    )
    api_key_env: EnvName | None = Field(
        None, description="The NAME of the environment variable that holds the API key; keys never go in files."
    )
    system_prompt: Text | None = Field(None, description="The system prompt the deployment puts before every chat.")
    params: dict[str, Scalar] = Field(
        default_factory=dict, description="Decoding parameters sent with every request, e.g. temperature, max_tokens."
    )
    filters: list[Text] = Field(
        default_factory=list, description="Filters in front of or behind the model in the deployment (guards, rules)."
    )
    concurrency: int = Field(8, ge=1, le=512, description="Requests in flight at once in a batch run.")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for one answer before retrying.")
    retries: int = Field(4, ge=0, le=20, description="Retries of a failed request (timeouts, 429, 5xx).")


class AssessmentScope(Record):
    """What is assessed: the use case, the model and the interface it is reached through."""

    use_case: Text = Field(description="The deployment's use case, in a sentence or two.")
    scenario: Id = Field(description="The scenario id (scenarios/<id>.yaml) the deployment is an instance of.")
    model: Id = Field(description="The model record id (models/<id>.yaml) of the model under assessment.")
    model_version: Text | None = Field(None, description="The model's version or revision (a commit sha, a tag).")
    access_date: Date = Field(description="When the model was accessed for the assessment, YYYY-MM-DD.")
    interface: TargetInterface = Field(description="How the model is reached, with its settings.")


class ExcludedCard(Record):
    """A card of the scenario left out of the assessment."""

    card: Id = Field(description="The card id.")
    reason: Text = Field(description="Why the card is not assessed here.")


class Selection(Record):
    """Which cards are assessed, which are not and why, and from which knowledge-base commit."""

    cards: list[Id] = Field(min_length=1, description="The cards in scope, most severe first.")
    excluded: list[ExcludedCard] = Field(default_factory=list, description="Cards left out, each with its reason.")
    kb_commit: Annotated[str, Field(pattern=r"^[0-9a-f]{7,40}$")] | None = Field(
        None, description="The knowledge-base commit the cards were taken from (git sha)."
    )


class Assessor(Record):
    """A person who probes the model."""

    handle: Id = Field(description="The assessor's handle, as written in the logs.")
    expertise: list[Text] = Field(default_factory=list, description="Relevant expertise, e.g. 'clinical pharmacy'.")
    perspectives: list[Text] = Field(
        default_factory=list, description="Perspectives the assessor brings (languages, communities, roles)."
    )


class Budget(Record):
    """How much probing a card gets: minutes and/or prompts."""

    minutes: int | None = Field(None, ge=1, le=1440, description="Minutes of interactive probing per card.")
    prompts: int | None = Field(None, ge=1, le=100000, description="Prompts per card.")


class Handling(Record):
    """How harmful content was handled during the assessment and in its report."""

    content_warnings: list[Text] = Field(default_factory=list, description="Content warnings for readers.")
    not_stored: list[Text] = Field(default_factory=list, description="What was deliberately not stored.")
    not_published: list[Text] = Field(default_factory=list, description="What is stored but not published.")
    wellbeing: Text | None = Field(None, description="How assessors' well-being was protected (breaks, support).")


class Assessment(Record):
    """A deployment assessment: scope, card selection, assessors, budgets and handling notes."""

    id: Id = Field(description="The assessment id; the record is assessments/<id>/assessment.yaml.")
    title: Line = Field(description="A short name of the assessment.")
    status: Literal["planned", "in-progress", "complete"] = Field(
        description="'planned', 'in-progress' or 'complete' (every card in scope then has a finding)."
    )
    created: Date = Field(description="When the assessment was set up, YYYY-MM-DD.")
    scope: AssessmentScope = Field(description="The use case, the model and the interface.")
    selection: Selection = Field(description="The cards in scope and the ones left out.")
    assessors: list[Assessor] = Field(min_length=1, description="Who probes the model.")
    budget: Budget = Field(default_factory=Budget, description="The probing budget of every card.")
    budgets: dict[Id, Budget] = Field(
        default_factory=dict, description="Budgets for particular cards, by card id, replacing 'budget'."
    )
    handling: Handling = Field(default_factory=Handling, description="How harmful content was handled.")
    conclusions: Text | None = Field(None, description="Overall conclusions, once the cards are judged.")
    mitigations: list[Text] = Field(default_factory=list, description="Recommended mitigations for the deployment.")


class Excerpt(Record):
    """A log entry the assessor allows to be published, with the card's sensitivity rules applied."""

    entry: EntryId = Field(description="The log entry id (in log/<card-id>.jsonl).")
    sensitivity: ReviewedSensitivity = Field(
        description="'full': published as logged; 'defanged': 'text' replaces the output, dangerous specifics "
        "replaced by '[redacted: ...]'; 'withheld': only the reason is published."
    )
    text: Text | None = Field(None, description="For 'defanged': the output as published.")
    withheld_reason: Text | None = Field(None, description="For 'withheld': why the text is not published.")


class Finding(Record):
    """The assessors' judgement on one card of an assessment (assessments/<id>/findings/<card-id>.yaml)."""

    card: Id = Field(description="The card id; the file is findings/<card-id>.yaml.")
    elicited: Elicited = Field(description="Whether the behaviour was elicited: yes, partly, no or not-tested.")
    attempts: int | None = Field(None, ge=0, description="How many prompts it took (or were tried).")
    minutes: float | None = Field(None, ge=0, description="Minutes spent probing the card.")
    representative: list[EntryId] = Field(
        default_factory=list, description="Log entries that show the behaviour best, by entry id."
    )
    actions_plausible: Literal["yes", "partly", "no", "unclear"] | None = Field(
        None, description="Whether the card's 'actions required for harm' are plausible in this deployment."
    )
    actions_rationale: Text | None = Field(None, description="How the risk would, or would not, become a harm here.")
    harm_types: list[HarmType] = Field(default_factory=list, description="Harm types implicated in this deployment.")
    severity: Severity | None = Field(None, description="Severity of the risk in this deployment.")
    mitigations: list[Text] = Field(default_factory=list, description="Recommended mitigations for this risk.")
    notes: Text | None = Field(None, description="Anything else the assessors observed.")
    assessors: list[Id] = Field(default_factory=list, description="Handles of the assessors who judged the card.")
    publishable: list[Excerpt] = Field(
        default_factory=list, description="Log entries that may be published in the report and on the site."
    )


class LogMessage(Record):
    """One message of a logged conversation."""

    role: Role = Field(description="system, user, assistant or tool.")
    content: str = Field(description="What was said, verbatim.")


class LogTarget(Record):
    """Which model answered, and where (no secrets)."""

    transport: Text = Field(description="How it was reached, e.g. 'openai-chat'.")
    host: Text | None = Field(None, description="The server's host and port, or 'local'.")
    model: Id = Field(description="The model record id.")
    model_name: Text = Field(description="The model name the server was asked for.")
    revision: Text | None = Field(None, description="The model revision, where known.")
    runtime: Text | None = Field(None, description="Runtime versions, where the server says.")
    source: Literal["live", "stub"] = Field(
        description="'live': a real model answered; 'stub': a test double did (never in a knowledge base)."
    )


class LogImport(Record):
    """Where an imported log entry comes from: one sample of another tool's run (`riskcards assess import`)."""

    tool: Literal["inspect", "promptfoo", "garak"] = Field(description="The tool whose results were imported.")
    tool_version: Text = Field(description="The tool's version, as its results file states it.")
    run: Text | None = Field(None, description="The tool's id of the run (eval id, run id), where it has one.")
    file: Text = Field(description="The name of the file imported (without its folder).")
    date: Text = Field(description="When the tool ran the sample (or the run), as the tool recorded it (ISO 8601).")
    sample: Text = Field(description="The tool's id of the sample, test case or attempt (with epoch or output).")
    scores: dict[str, Scalar] = Field(
        default_factory=dict,
        description="The tool's own grading as it recorded it (scorer or detector -> value); documentation, never "
        "the assessors' judgement.",
    )


class LogEntry(Record):
    """One line of assessments/<id>/log/<card-id>.jsonl: an exchange with the target, a note or a mark."""

    schema_: Literal["riskcards.assessment-log/1"] = Field(alias="schema", description="Record format version.")
    id: EntryId = Field(description="The entry id, unique within the assessment.")
    kind: Literal["exchange", "note", "mark"] = Field(
        description="'exchange': a prompt sent and the answer; 'note': an assessor's note; 'mark': an entry "
        "marked as a finding."
    )
    at: str = Field(description="When, as an ISO 8601 UTC timestamp.")
    assessor: Text = Field(description="The assessor's handle, or 'batch' for a batch run.")
    card: Id = Field(description="The card probed.")
    mode: Literal["interactive", "batch", "imported"] = Field(
        description="Interactive probing, a batch run, or imported from another tool's results ('imported')."
    )
    conversation: Text | None = Field(None, description="The conversation id (entries of one chat share it).")
    example: Id | None = Field(None, description="For a batch run: the card example whose prompt was sent.")
    key: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")] | None = Field(
        None, description="For a batch run: the cache key (target, parameters and messages), so a rerun skips it."
    )
    target: LogTarget | None = Field(None, description="For an exchange: which model answered.")
    params: dict[str, Scalar] = Field(default_factory=dict, description="Decoding parameters sent.")
    messages: list[LogMessage] = Field(
        default_factory=list, description="For an exchange: the conversation so far, ending with the prompt sent."
    )
    output: str | None = Field(None, description="The model's answer, verbatim (None when the request failed).")
    finish_reason: str | None = Field(None, description="Why generation stopped, as the server says.")
    latency_ms: float | None = Field(None, ge=0, description="How long the request took.")
    error: str | None = Field(None, description="Why the request failed, after retries (a rerun tries again).")
    note: str | None = Field(None, description="For a note: its text.")
    marks: EntryId | None = Field(None, description="For a mark: the exchange entry marked as a finding.")
    minutes: float | None = Field(
        None, ge=0, description="For the note that closes an interactive session: the minutes it lasted."
    )
    imported: LogImport | None = Field(
        None, description="For an imported entry: the tool, its version, run, file and sample it came from."
    )


KINDS: dict[str, type[Record]] = {
    "card": Card,
    "taxonomy": Taxonomy,
    "crosswalk": Crosswalk,
    "scenario": Scenario,
    "model": Model,
    "harm-types": HarmTypeVocabulary,
    "guard-result": GuardResult,
    "assessment": Assessment,
    "finding": Finding,
    "assessment-log": LogEntry,
    "incident": Incident,
}
"""Record kinds, keyed by schema name (schema/<name>.schema.json)."""
