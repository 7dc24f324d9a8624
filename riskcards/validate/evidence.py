"""Checks on what a card says as evidence: mitigations, evaluations, severity, placement hygiene.

These rules make a card useful to a safety team rather than only valid. They run inside
``riskcards.validate`` on every card, with the same located messages as the other checks:

* citations in ``mitigations`` and ``evaluations`` name works of the verified bibliography;
* a scenario link's ``severity`` is the one the rubric derives from its ``likelihood`` and ``impact``;
* no card sits in a guard policy's catch-all category ("Other"): what guards miss is said by expectations;
* a card has at most one code of each factor of the MIT causal taxonomy, and codes a level, not a factor.

A knowledge base that declares ``evidence_required: true`` in ``knowledge-base.yaml`` (this repository does)
also holds every live card to: a ``rationale`` on every placement that is not ``exact``; at least two
mitigations and one evaluation; likelihood and impact on every scenario link; one code of each causal factor
(entity, intent, timing). Without the file (a new knowledge base, a legacy import, a test fixture) these are
not required, so cards can be drafted and imported before their evidence is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import bibliography, ids
from ..kb import KnowledgeBase
from ..models import SEVERITY_RUBRIC, Card
from ..policy import read_policy

CAUSAL_TAXONOMY = "mit-ai-risk-causal-taxonomy"
CAUSAL_FACTORS = ("entity", "intent", "timing")
CATCH_ALL_NAMES = frozenset({"other", "others"})
MIN_MITIGATIONS = 2
MIN_EVALUATIONS = 1

At = Callable[[tuple, str, str], Any]
"""at(path, message, check) -> a located problem in the card being checked."""


"""A knowledge base declares in this file at its root which of the evidence rules it holds every card to."""


def evidence_required(kb: KnowledgeBase) -> bool:
    """Whether the knowledge base requires the evidence rules of every live card: ``evidence_required: true``
    in ``knowledge-base.yaml`` at its root. This repository does; a knowledge base without the file (a new
    one, a test fixture, a legacy import) gets only the rules on what a card does say."""
    return kb._memo("evidence_required", lambda: read_policy(kb.root).get("evidence_required") is True)


def check_card(kb: KnowledgeBase, card: Card, at: At, add: Callable[[Any], None]) -> None:
    """Every rule of this module on one card (possibly a partial card salvaged from schema errors)."""
    _citations(card, at, add)
    _severity(card, at, add)
    required = evidence_required(kb)
    _placements(kb, card, at, add, rationale_required=required)
    _causal_duplicates(card, at, add)
    if required and card.status != "deprecated":
        _complete(kb, card, at, add)


def _citations(card: Card, at: At, add) -> None:
    known = bibliography.works()
    for field in ("mitigations", "evaluations"):
        for i, item in enumerate(getattr(card, field, None) or []):
            if item is None:
                continue
            cites = item.evidence if field == "mitigations" else item.references
            sub = "evidence" if field == "mitigations" else "references"
            seen: set[str] = set()
            for j, c in enumerate(cites or []):
                if c is None:
                    continue
                if c.work not in known:
                    add(
                        at(
                            (field, i, sub, j, "work"),
                            f"'{c.work}' is not a work of the verified bibliography{ids.did_you_mean(c.work, known)}; "
                            "cite works by their key in riskcards/data/bibliography.yaml",
                            "citation",
                        )
                    )
                elif c.work in seen:
                    add(at((field, i, sub, j, "work"), f"'{c.work}' is cited twice here; keep one", "citation"))
                seen.add(c.work)


def _severity(card: Card, at: At, add) -> None:
    for i, link in enumerate(card.scenarios or []):
        if link is None:
            continue
        if (link.likelihood is None) != (link.impact is None):
            missing = "likelihood" if link.likelihood is None else "impact"
            add(
                at(
                    ("scenarios", i),
                    f"'{missing}' is missing: severity is derived from likelihood and impact",
                    "severity",
                )
            )
            continue
        if link.likelihood is None or link.impact is None:
            continue
        derived = SEVERITY_RUBRIC[(link.likelihood, link.impact)]
        if link.severity is not None and link.severity != derived:
            add(
                at(
                    ("scenarios", i, "severity"),
                    f"severity '{link.severity}' does not follow from likelihood '{link.likelihood}' and impact "
                    f"'{link.impact}': the rubric gives '{derived}' "
                    "(CONTRIBUTING.md, 'Severity: likelihood x impact'); "
                    "change the severity, or the likelihood or impact with a reason in 'rationale'",
                    "severity",
                )
            )


def _placements(kb: KnowledgeBase, card: Card, at: At, add, rationale_required: bool) -> None:
    for i, pl in enumerate(card.placements or []):
        if pl is None:
            continue
        if rationale_required and pl.relation != "exact" and not pl.rationale:
            add(
                at(
                    ("placements", i, "relation"),
                    f"placement '{pl.ref}' is '{pl.relation}', not 'exact': add a 'rationale' saying how the "
                    "category and the card's risk differ",
                    "placement-rationale",
                )
            )
        taxonomy_id = pl.ref.partition(":")[0]
        tax = kb.taxonomies.get(taxonomy_id)
        cat = kb.category(pl.ref)
        if tax is not None and cat is not None and tax.kind == "guard-policy" and _catch_all(cat.name):
            add(
                at(
                    ("placements", i, "ref"),
                    f"'{pl.ref}' is the catch-all '{cat.name}' of {taxonomy_id}: it says nothing about the risk. "
                    "Place the card where the risk itself fits; say what guards miss with 'expected' verdicts",
                    "catch-all",
                )
            )


def _catch_all(name: str | None) -> bool:
    return (name or "").strip().lower() in CATCH_ALL_NAMES


def _complete(kb: KnowledgeBase, card: Card, at: At, add) -> None:
    mitigations = [m for m in card.mitigations or [] if m is not None]
    if len(mitigations) < MIN_MITIGATIONS and card.mitigations is not None:
        add(
            at(
                ("mitigations",) if card.mitigations else ("id",),
                f"the card has {len(mitigations)} mitigation{'s' * (len(mitigations) != 1)}; a live card needs at "
                f"least {MIN_MITIGATIONS} (layer, action, evidence, residual_risk)",
                "mitigations",
            )
        )
    evaluations = [e for e in card.evaluations or [] if e is not None]
    if len(evaluations) < MIN_EVALUATIONS and card.evaluations is not None:
        add(
            at(
                ("evaluations",) if card.evaluations else ("id",),
                "the card has no evaluation; a live card needs at least one way to measure the risk "
                "(method, name, measures, references)",
                "evaluations",
            )
        )
    for i, link in enumerate(card.scenarios or []):
        if link is not None and link.likelihood is None and link.impact is None:
            add(
                at(
                    ("scenarios", i),
                    f"scenario '{link.scenario}' needs 'likelihood' and 'impact'; its severity is derived from them",
                    "severity",
                )
            )
    if CAUSAL_TAXONOMY not in kb.taxonomies or card.placements is None:
        return
    found = _causal_codes(card)
    for factor, where in found.items():
        if not where:
            add(
                at(
                    ("placements",) if card.placements else ("id",),
                    f"the card is not coded for '{factor}' in the MIT causal taxonomy: add a placement "
                    f"'{CAUSAL_TAXONOMY}:{factor}.N' (N = 1, 2 or 3; `riskcards taxonomy {CAUSAL_TAXONOMY}`)",
                    "causal-coding",
                )
            )


def _causal_codes(card: Card, at: At | None = None, add: Callable[[Any], None] | None = None) -> dict[str, list[int]]:
    """Positions of the card's MIT causal placements by factor; reports codes that are a factor, not a level."""
    found: dict[str, list[int]] = {f: [] for f in CAUSAL_FACTORS}
    for i, pl in enumerate(card.placements or []):
        if pl is None:
            continue
        taxonomy_id, _, code = pl.ref.partition(":")
        if taxonomy_id == CAUSAL_TAXONOMY:
            factor = code.partition(".")[0]
            if factor in found and "." in code:
                found[factor].append(i)
            elif add is not None and at is not None:
                add(
                    at(
                        ("placements", i, "ref"),
                        f"'{pl.ref}' is a factor, not a level: code the card with one level of it, e.g. "
                        f"'{CAUSAL_TAXONOMY}:{factor}.1'",
                        "causal-coding",
                    )
                )
    return found


def _causal_duplicates(card: Card, at: At, add) -> None:
    for factor, where in _causal_codes(card, at, add).items():
        for i in where[1:]:
            add(
                at(
                    ("placements", i, "ref"),
                    f"the card is coded twice for '{factor}' in the MIT causal taxonomy; keep one level",
                    "causal-coding",
                )
            )
