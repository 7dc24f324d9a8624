"""Checks of the evidence records: incidents, the cards' links to them, related cards, whether a card's
expected guard categories can be reached from its placements, and the sources of model facts.

Every check reports through ``add(files.at(shown, path, message, check))``, like the other checks beyond
the schema.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable

from .. import ids
from ..kb import KnowledgeBase
from ..models import RELATED_INVERSE, Card, Incident, Model
from ..problems import Problem
from .common import Files, url_problem

Add = Callable[[Problem], None]

_AIID_URL = re.compile(r"^https?://(?:www\.)?incidentdatabase\.ai/cite/([0-9]+)/?(?:[?#].*)?$")


def month_or_date(value: str) -> _dt.date | None:
    """The date a 'YYYY-MM-DD' or 'YYYY-MM' value names (the first of the month for the latter), or None
    when it is not a real date."""
    try:
        return _dt.date.fromisoformat(value if len(value) == 10 else value + "-01")
    except ValueError:
        return None


def check_incident(kb: KnowledgeBase, inc: Incident, shown: str, files: Files, add: Add) -> None:
    """One incident record: a real date not in the future, well-formed source URLs, no repeats, and an AI
    Incident Database number that agrees with a cited incidentdatabase.ai page."""
    if inc.date is not None:
        day = month_or_date(inc.date)
        if day is None:
            add(files.at(shown, ("date",), f"'{inc.date}' is not a real date", "date"))
        elif day > _dt.date.today():
            add(files.at(shown, ("date",), f"'{inc.date}' is in the future; an incident has already happened", "date"))
    seen: dict[str, int] = {}
    for i, src in enumerate(inc.sources or []):
        if src is None:
            continue
        if why := url_problem(src.url):
            add(files.at(shown, ("sources", i, "url"), f"URL {why}", "url"))
        if src.url in seen:
            add(
                files.at(
                    shown,
                    ("sources", i, "url"),
                    f"source {src.url} is listed twice (first as source {seen[src.url] + 1}); keep one",
                    "duplicate",
                )
            )
        seen.setdefault(src.url, i)
        m = _AIID_URL.match(src.url)
        if m and inc.aiid is None:
            add(
                files.at(
                    shown,
                    ("sources", i, "url"),
                    f"this source is AI Incident Database incident {m.group(1)}; set 'aiid: {m.group(1)}'",
                    "incident",
                )
            )
        elif m and inc.aiid is not None and int(m.group(1)) != inc.aiid:
            add(
                files.at(
                    shown,
                    ("aiid",),
                    f"aiid {inc.aiid} differs from the cited AI Incident Database page (incident {m.group(1)})",
                    "incident",
                )
            )
    kinds = inc.harm_kinds or []
    for i, kind in enumerate(kinds):
        if kind in kinds[:i]:
            add(files.at(shown, ("harm_kinds", i), f"harm kind '{kind}' is listed twice", "duplicate"))


def check_card_evidence(kb: KnowledgeBase, card: Card, shown: str, files, add: Add) -> None:
    """A card's incident links and related cards."""
    linked: set[str] = set()
    for i, link in enumerate(card.incidents or []):
        if link is None:
            continue
        if link.incident not in kb.incidents:
            add(
                files.at(
                    shown,
                    ("incidents", i, "incident"),
                    f"unknown incident '{link.incident}'{ids.did_you_mean(link.incident, kb.incidents)}; "
                    "incidents are the files in incidents/",
                    "unknown-incident",
                )
            )
        if link.incident in linked:
            add(
                files.at(
                    shown, ("incidents", i, "incident"), f"incident '{link.incident}' is linked twice", "duplicate"
                )
            )
        linked.add(link.incident)

    related: set[str] = set()
    for i, rel in enumerate(card.related or []):
        if rel is None:
            continue
        at = ("related", i, "card")
        if rel.card == card.id or rel.card in card.aliases:
            add(files.at(shown, at, "a card cannot be related to itself", "related"))
            continue
        if rel.card in related:
            add(files.at(shown, at, f"card '{rel.card}' is related twice; keep one entry", "duplicate"))
        related.add(rel.card)
        other = kb.cards.get(rel.card)
        if other is None:
            target = kb.resolve_card(rel.card)
            hint = (
                f"; '{rel.card}' is a former id of '{target.id}': write 'card: {target.id}'"
                if target is not None
                else ids.did_you_mean(rel.card, kb.cards)
            )
            add(files.at(shown, at, f"unknown card '{rel.card}'{hint}", "unknown-card"))
            continue
        back = next((r for r in other.related or [] if r is not None and r.card == card.id), None)
        if back is not None and back.relation != RELATED_INVERSE[rel.relation]:
            add(
                files.at(
                    shown,
                    ("related", i, "relation"),
                    f"'{rel.relation}' {rel.card}, but {rel.card} says it '{back.relation}' this card; the inverse of "
                    f"'{rel.relation}' is '{RELATED_INVERSE[rel.relation]}': make the two agree",
                    "related",
                )
            )


def reachable_codes(kb: KnowledgeBase, card: Card, taxonomy: str) -> set[str]:
    """The codes of ``taxonomy`` a card's placements reach: placements in that taxonomy (with their
    ancestors and descendants), and the codes a crosswalk row relates to any placement (either direction)."""
    return _reach(kb, tuple(p.ref for p in card.placements if p is not None), taxonomy)


def _reach(kb: KnowledgeBase, refs: tuple[str, ...], taxonomy: str) -> set[str]:
    out: set[str] = set()
    for ref in refs:
        out |= _reach_one(kb, ref, taxonomy)
    return out


def _reach_one(kb: KnowledgeBase, ref: str, taxonomy: str) -> frozenset[str]:
    """The codes of ``taxonomy`` one placement reaches (placements repeat across cards: computed once each)."""
    key = ("reach", ref, taxonomy)
    hit = kb._derived.get(key)
    if hit is not None:
        return hit
    tax, _, code = ref.partition(":")
    hits = {code} if tax == taxonomy else set()
    hits.update(c for t, c in _crosswalk_edges(kb).get(ref, ()) if t == taxonomy)
    # a placement reaches its category's parents and children in the same taxonomy too
    codes = kb.codes(taxonomy)
    children = _children(kb, taxonomy)
    closed = set(hits)
    for c in hits:
        cat = codes.get(c)
        while cat is not None and cat.parent and cat.parent not in closed:
            closed.add(cat.parent)
            cat = codes.get(cat.parent)
        closed.update(children.get(c, ()))
    kb._derived[key] = frozen = frozenset(closed)
    return frozen


def _children(kb: KnowledgeBase, taxonomy: str) -> dict[str, list[str]]:
    """code -> the codes whose parent it is, in ``taxonomy`` (once per taxonomy, not once per card)."""

    def make() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for code, cat in kb.codes(taxonomy).items():
            if cat.parent:
                out.setdefault(cat.parent, []).append(code)
        return out

    return kb._memo(f"children:{taxonomy}", make)


def _crosswalk_edges(kb: KnowledgeBase) -> dict[str, set[tuple[str, str]]]:
    """'taxonomy:code' -> {(other taxonomy, code)} over every crosswalk row, both directions."""

    def make() -> dict[str, set[tuple[str, str]]]:
        edges: dict[str, set[tuple[str, str]]] = {}
        for cw in kb.crosswalks.values():
            for row in cw.relations or []:
                if row is None:
                    continue
                edges.setdefault(f"{cw.source}:{row.source}", set()).add((cw.target, row.target))
                edges.setdefault(f"{cw.target}:{row.target}", set()).add((cw.source, row.source))
        return edges

    return kb._memo("crosswalk_edges", make)


def check_expectation_reach(kb: KnowledgeBase, card: Card, shown: str, files, add: Add) -> None:
    """Every expected guard category must follow from the card's placements, directly or through a
    crosswalk: an expectation that no placement supports is a guess the validator names."""
    guards = kb.guards()
    refs = tuple(p.ref for p in card.placements if p is not None)
    reach_in: dict[str, set[str]] = {}  # taxonomy -> the codes the card reaches there, once a card
    for i, ex in enumerate(card.examples or []):
        if ex is None:
            continue
        for j, exp in enumerate(ex.expected or []):
            if exp is None or not exp.categories or exp.guard not in guards:
                continue
            info = guards[exp.guard].guard
            if info is None:  # guards() holds only models with guard info
                continue
            taxonomy = info.taxonomy
            reach = reach_in.get(taxonomy)
            if reach is None:
                reach = reach_in[taxonomy] = _reach(kb, refs, taxonomy)
            known = kb.codes(taxonomy)
            for k, code in enumerate(exp.categories):
                if code in known and code not in reach:
                    add(
                        files.at(
                            shown,
                            ("examples", i, "expected", j, "categories", k),
                            f"expected category '{code}' of {exp.guard} ({taxonomy}:{code}) is not reachable from "
                            f"the card's placements, directly or through a crosswalk; add the placement "
                            f"'{taxonomy}:{code}' with a rationale, or drop the category from the expectation",
                            "expectation-reach",
                        )
                    )


def check_model_facts(kb: KnowledgeBase, model: Model, shown: str, files: Files, add: Add) -> None:
    """A model's facts: real dates, well-formed source URLs, and no release date without a source."""
    facts = model.facts
    if model.released is not None and (facts is None or facts.released is None):
        add(
            files.at(
                shown,
                ("released",),
                "a release date needs a source: write it as 'facts: {released: {date, source: {title, url}}}', "
                "or leave it out rather than guess",
                "model-facts",
            )
        )
    if facts is None:
        return
    if facts.released is not None:
        if month_or_date(facts.released.date) is None:
            add(files.at(shown, ("facts", "released", "date"), f"'{facts.released.date}' is not a real date", "date"))
        elif model.released is not None and model.released != facts.released.date:
            add(
                files.at(
                    shown,
                    ("released",),
                    f"released '{model.released}' differs from facts.released '{facts.released.date}'; keep one date",
                    "model-facts",
                )
            )
    for name in ("released", "publisher", "license", "parameters"):
        fact = getattr(facts, name)
        if fact is not None and fact.source is not None and (why := url_problem(fact.source.url)):
            add(files.at(shown, ("facts", name, "source", "url"), f"URL {why}", "url"))


def check(kb: KnowledgeBase, files: Files, add: Add) -> None:
    """The checks across records: each card's incident links, related cards and reachable expectations, and
    each model's facts."""
    for cid, card in kb.cards.items():
        shown = kb.paths.get(("card", cid))
        if shown is not None:
            check_card_evidence(kb, card, shown, files, add)
            check_expectation_reach(kb, card, shown, files, add)
    for mid, model in kb.models.items():
        shown = kb.paths.get(("model", mid))
        if shown is not None:
            check_model_facts(kb, model, shown, files, add)
