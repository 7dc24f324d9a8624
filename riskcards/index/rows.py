"""Validated records -> table rows, and the fingerprints that tell which rows an update must replace.

Rows are built in parts: the reference records (everything that does not belong to one card), each card's
rows, and the recorded guard verdicts (whose status depends on the card as it is today).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .. import bibliography
from ..terms import SEVERITY_RANK
from .contract import SCHEMA_VERSION
from .schema import TABLES

if TYPE_CHECKING:
    from ..kb import KnowledgeBase
    from ..models import GuardResult


def _j(value: Any) -> str:
    """Compact JSON for a column (the same text as json.dumps with separators=(",", ":") and
    ensure_ascii=False; orjson is 5x faster over the ~200,000 values of a 10,000-card build)."""
    if not value:
        return "[]" if isinstance(value, list) else "{}" if isinstance(value, dict) else orjson.dumps(value).decode()
    return orjson.dumps(value).decode()


def _cites(citations) -> list[dict]:
    """Citations with the cited work's title and link from the verified bibliography."""
    works = bibliography.works()
    out = []
    for c in citations:
        w = works.get(c.work, {})
        out.append({"work": c.work, "title": w.get("title"), "url": bibliography.link(c.work), "note": c.note})
    return out


def empty_rows() -> dict[str, list[tuple]]:
    return {spec.name: [] for spec in TABLES}


def reference_rows(kb: KnowledgeBase, rows: dict[str, list[tuple]]) -> None:
    """Rows of every table that does not belong to one card: taxonomies, categories, crosswalks, scenarios,
    models and their facts, incidents, the harm-type vocabulary."""
    for tax in kb.taxonomies.values():
        rows["taxonomies"].append(
            (
                tax.id,
                tax.name,
                tax.short_name,
                tax.kind,
                tax.edition,
                tax.source,
                tax.url,
                tax.confidence,
                tax.license,
                tax.code_convention,
                tax.notes,
                tax.description,
                len(tax.categories),
                kb.paths.get(("taxonomy", tax.id)),
                _j([m.model_dump() for m in tax.missing_levels]),
            )
        )
        parents: dict[str, list[str]] = {}
        for pos, cat in enumerate(tax.categories):
            ref = f"{tax.id}:{cat.code}"
            rows["categories"].append(
                (
                    ref,
                    tax.id,
                    cat.code,
                    cat.name,
                    cat.short_name,
                    f"{tax.id}:{cat.parent}" if cat.parent else None,
                    f"{tax.id}:{cat.also_parent}" if cat.also_parent else None,
                    cat.level,
                    cat.official_id,
                    _j(cat.alt_names),
                    cat.description,
                    _j(cat.attributes),
                    pos,
                    cat.out_of_scope,
                )
            )
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
        rows["crosswalks"].append(
            (
                cw.id,
                cw.source,
                cw.target,
                cw.description,
                _j([r.model_dump(exclude_none=True) for r in cw.references]),
                len(cw.relations),
                kb.paths.get(("crosswalk", cw.id)),
            )
        )
        for row in cw.relations:
            rel_id += 1
            rows["crosswalk_relations"].append(
                (rel_id, cw.id, f"{cw.source}:{row.source}", f"{cw.target}:{row.target}", row.relation, row.rationale)
            )
    for sc in kb.scenarios.values():
        rows["scenarios"].append(
            (
                sc.id,
                sc.name,
                sc.summary,
                sc.description,
                sc.users,
                _j(sc.raises_severity),
                _j(sc.lowers_severity),
                _j(sc.tags),
                kb.paths.get(("scenario", sc.id)),
            )
        )
    for m in kb.models.values():
        rows["models"].append(
            (
                m.id,
                m.name,
                m.kind,
                m.provider,
                m.family,
                int(m.open_weights),
                m.released,
                m.url,
                m.hf_repo,
                m.guard.taxonomy if m.guard else None,
                m.guard.adapter if m.guard else None,
                m.notes,
                kb.paths.get(("model", m.id)),
            )
        )
        for fact in ("released", "publisher", "license", "parameters"):
            f = getattr(m.facts, fact, None) if m.facts else None
            if f is not None:
                value = f.date if fact == "released" else f.value
                rows["model_facts"].append((m.id, fact, value, f.source.title, f.source.url, f.source.note))
    for inc in kb.incidents.values():
        rows["incidents"].append(
            (
                inc.id,
                inc.title,
                inc.date,
                int(inc.date[:4]),
                inc.summary,
                inc.deployer,
                int(inc.language_model),
                inc.aiid,
                inc.confidence,
                kb.paths.get(("incident", inc.id)),
            )
        )
        for pos, system in enumerate(inc.systems):
            rows["incident_systems"].append((inc.id, pos, system))
        for pos, kind in enumerate(inc.harm_kinds):
            rows["incident_harm_kinds"].append((inc.id, pos, kind))
        for pos, src in enumerate(inc.sources):
            rows["incident_sources"].append((inc.id, pos, src.url, src.title, src.publisher))
    if kb.vocab is not None:
        for group, terms in (("actor", kb.vocab.actors), ("category", kb.vocab.categories)):
            for t in terms:
                rows["harm_type_terms"].append((group, t.id, t.name, t.description, t.synonym_of))


def assessment_rows(kb: KnowledgeBase, rows: dict[str, list[tuple]]) -> None:
    """Rows of the assessments (kb.assessments, read and checked by validation) and their cards, with each
    assessment's report (``riskcards.assess.report.data``: the one source of report content)."""
    from ..assess import report

    for f in getattr(kb, "assessments", ()):
        a = f.assessment
        if a is None:
            continue
        itf = a.scope.interface
        host = "local" if itf.transport == "local-transformers" else None
        if itf.base_url:
            host = itf.base_url.split("://", 1)[-1].split("/", 1)[0]
        judged = [c for c in a.selection.cards if c in f.findings]
        elicited = [c for c in judged if f.findings[c].elicited in ("yes", "partly")]
        rows["assessments"].append(
            (
                a.id,
                a.title,
                a.status,
                a.created,
                a.scope.use_case,
                a.scope.scenario,
                a.scope.model,
                a.scope.model_version,
                a.scope.access_date,
                itf.transport,
                host,
                a.selection.kb_commit,
                len(a.selection.cards),
                len(judged),
                len(elicited),
                sum(len(es) for es in f.logs.values()),
                a.conclusions,
                _j(report.data(kb, f)),
                f.shown,
            )
        )
        for pos, cid in enumerate(a.selection.cards):
            fd = f.findings.get(cid)
            exchanges = [e for e in f.logs.get(cid, ()) if e.kind == "exchange"]
            rows["assessment_cards"].append(
                (
                    a.id,
                    cid,
                    pos,
                    1,
                    None,
                    fd.elicited if fd else None,
                    fd.attempts if fd else None,
                    fd.minutes if fd else None,
                    fd.severity if fd else None,
                    fd.actions_plausible if fd else None,
                    len(exchanges),
                    sum(1 for e in exchanges if e.output is not None),
                    len(fd.publishable) if fd else 0,
                    f.finding_paths.get(cid),
                )
            )
        for pos, ex in enumerate(a.selection.excluded, len(a.selection.cards)):
            rows["assessment_cards"].append(
                (a.id, ex.card, pos, 0, ex.reason, None, None, None, None, None, 0, 0, 0, None)
            )


_SEVERITY_NAME = {v: k for k, v in SEVERITY_RANK.items()}


def card_rows(kb: KnowledgeBase, cards, rows: dict[str, list[tuple]]) -> None:
    """Rows of ``cards`` in every card table but guard_results."""
    for card in cards:
        cid = card.id
        ranks = [SEVERITY_RANK[s.severity] for s in card.scenarios]
        top = max(ranks, default=0)
        rows["cards"].append(
            (
                cid,
                card.title,
                card.summary,
                card.description,
                card.actions_required,
                card.status,
                card.version,
                card.created,
                card.last_reviewed,
                card.deprecated_reason,
                card.superseded_by,
                card.license,
                _j(card.tags),
                _j(card.reviewers),
                _j(card.contributors),
                _j(card.aliases),
                _j([e.model_dump() for e in card.changelog]),
                _SEVERITY_NAME.get(top),
                top,
                len(card.examples),
                len(card.placements),
                kb.paths.get(("card", cid)),
            )
        )
        for alias in card.aliases:
            rows["card_aliases"].append((alias, cid))
        for tag in dict.fromkeys(card.tags):
            rows["card_tags"].append((cid, tag))
        for pos, pl in enumerate(card.placements):
            tid, _, code = pl.ref.partition(":")
            rows["placements"].append((cid, pos, pl.ref, tid, code, pl.relation, pl.rationale))
        for pos, ht in enumerate(card.harm_types):
            rows["harm_types"].append((cid, pos, ht.actor, ht.category, ht.unresolved))
        for pos, ex in enumerate(card.examples):
            prov = ex.provenance
            observed = prov.kind == "observed"
            published = ex.published  # unreviewed text stays in the YAML: the index is published
            turns = [t.model_dump() for t in ex.turns] if ex.turns and published else None
            rows["examples"].append(
                (
                    cid,
                    ex.id,
                    pos,
                    ex.language,
                    prov.kind,
                    prov.model if observed and prov.model != "unknown" else None,
                    prov.model_name if observed else None,
                    prov.date if observed else None,
                    prov.source if observed else None,
                    None if observed else prov.author,
                    ex.sensitivity,
                    ex.prompt if published else None,
                    ex.output if published else None,
                    _j(turns) if turns else None,
                    "\n".join(f"{t['role']}: {t['content']}" for t in turns) if turns else None,
                    ex.context if published else None,
                    ex.note,
                    ex.withheld_reason,
                )
            )
            for exp in ex.expected:
                rows["expectations"].append((cid, ex.id, exp.guard, exp.target, exp.verdict, _j(exp.categories)))
        for pos, link in enumerate(card.scenarios):
            rows["card_scenarios"].append(
                (
                    cid,
                    link.scenario,
                    pos,
                    link.severity,
                    SEVERITY_RANK[link.severity],
                    link.rationale,
                    link.likelihood,
                    link.impact,
                )
            )
        for pos, mit in enumerate(card.mitigations):
            rows["card_mitigations"].append(
                (cid, pos, mit.layer, mit.action, _j(_cites(mit.evidence)), mit.residual_risk)
            )
        for pos, ev in enumerate(card.evaluations):
            rows["card_evaluations"].append((cid, pos, ev.method, ev.name, ev.measures, _j(_cites(ev.references))))
        for pos, ref in enumerate(card.references):
            rows["card_references"].append((cid, pos, ref.title, ref.url, ref.doi, ref.note))
        for pos, link in enumerate(card.incidents):
            rows["card_incidents"].append((cid, link.incident, pos, link.note))
        for pos, rel in enumerate(card.related):
            rows["card_related"].append((cid, rel.card, pos, rel.relation, rel.boundary))


def result_rows(
    kb: KnowledgeBase, results: list[GuardResult], rows: dict[str, list[tuple]], only: set[str] | None = None
) -> None:
    """guard_results rows (of the cards in ``only``, or all), with whether each verdict's input is still the
    example as it is today. A row's id is its position in ``results``."""
    from ..guards.hashing import current_input_sha256

    examples = {(c.id, e.id): e for c in kb.cards.values() if only is None or c.id in only for e in c.examples}
    for i, r in enumerate(results, 1):
        if only is not None and r.example.card not in only:
            continue
        ex = examples.get((r.example.card, r.example.example))
        if ex is None:
            status = "missing"
        else:
            try:
                now = current_input_sha256(ex, r.example.target)
            except Exception:  # a hook failure must not fail the index; the record stays, unchecked
                now = ""
            status = (
                "unchecked"
                if now == ""
                else "missing"
                if now is None
                else "current"
                if now == r.example.input_sha256
                else "changed"
            )
        g, v = r.guard, r.verdict
        rows["guard_results"].append(
            (
                i,
                r.key,
                r.example.card,
                r.example.example,
                r.example.target,
                r.example.input_sha256,
                status,
                g.id,
                g.adapter,
                g.model,
                g.model_name,
                g.revision,
                g.taxonomy,
                g.transport,
                g.template_sha256,
                _j(g.params),
                v.label,
                v.tier,
                _j(v.categories),
                _j(v.scores),
                v.parse_error,
                _j(getattr(v, "extra", None) or {}),
                r.raw,
                r.run.at,
                r.run.host,
                r.run.runtime,
                r.run.latency_ms,
            )
        )


def coverage_rows(
    kb: KnowledgeBase, results: list[GuardResult], rows: dict[str, list[tuple]], only: set[str] | None = None
) -> None:
    """guard_coverage and guard_outcomes rows (of the cards in ``only``, or all): the cells
    riskcards.guards.coverage computes, and the units behind them.
    The guards (columns) depend only on the recorded verdicts and the model records, never on one card."""
    from ..guards.coverage import COUNTS, compute, guards_from

    cards = sorted(kb.cards) if only is None else sorted(c for c in only if c in kb.cards)
    for c in compute(kb, results, guards_from(kb, results), cards=cards):
        rows["guard_coverage"].append(
            (
                c.card,
                c.guard,
                c.model,
                c.taxonomy,
                int(c.in_policy),
                *(getattr(c, k) for k in COUNTS),
                _j(c.tiers),
                _j(c.codes),
                _j(c.mapped),
                _j(c.disagreements),
            )
        )
        for o in c.outcomes:
            rows["guard_outcomes"].append(
                (
                    c.card,
                    o.example,
                    c.guard,
                    c.model,
                    o.target,
                    o.state,
                    o.label,
                    _j(list(o.categories)),
                    o.tier,
                    o.run_at,
                )
            )


def _code_fingerprint() -> str:
    """The indexer's own fingerprint (this package, the record models, the guard input hash and coverage): an index
    written by other code is never updated in place, only written anew."""
    h = hashlib.sha1(f"schema {SCHEMA_VERSION}\n".encode())
    package = Path(__file__).parent
    guards = package.parent / "guards"
    code = [package.parent / "models.py", *(guards / f"{m}.py" for m in ("hashing", "coverage", "tiers", "runner"))]
    for path in [*sorted(package.glob("*.py")), *code]:
        h.update(path.name.encode() + b"\0" + path.read_bytes())
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
    assessed = empty_rows()
    assessment_rows(kb, assessed)
    ref.update(orjson.dumps([assessed["assessments"], assessed["assessment_cards"]]))
    return ref.hexdigest(), cards
