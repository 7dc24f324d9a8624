"""The one query layer over the SQLite index. The CLI, the site and the exports read through it.

Only the standard library is imported here (sqlite3, json, os), so a query process starts fast; nothing
here prints. Every function takes an open connection (``connect(path)``) and returns plain dicts and
lists that serialise to JSON as they are.

Public API
----------
Opening the index
    connect(db_path) -> sqlite3.Connection          read-only; raises BadIndex if not a RiskCards index
    default_db_path(root) -> Path                   <root>/build/riskcards.db
    find_root(start=None) -> Path                   the knowledge-base root (RISKCARDS_ROOT or the nearest folder
                                                    with cards/ and taxonomies/)
    source_fingerprint(root) -> str                 count/mtimes/sizes of every source file (staleness check)
    is_stale(root, db_path) -> bool                 True when the db is missing or the sources changed since its build
    meta(conn) -> dict                              the build's metadata (schema version, build time, source commit...)

Questions
    Query(model=, scenario=, category=, via_crosswalk=, taxonomy=, harm_type=, text=, status=, min_severity=, limit=,
          assessed_on=, incident=)
    find_cards(conn, query) -> list[dict]           cards matching every given filter (shape below)
    query_result(conn, query) -> dict               {"query": {...}, "count": n, "cards": [...]} (the CLI's JSON)
    card(conn, id_or_alias) -> dict                 one card, everything resolved (raises UnknownId)
    cards_full(conn, ids=None) -> list[dict]        many cards in the card() shape, in bulk (exports)
    examples(conn, ids=None) -> list[dict]          examples with their card, expectations and verdicts (JSONL export)
    taxonomies(conn) -> list[dict]                  taxonomies with category and card counts
    taxonomy_tree(conn, id) -> dict                 a taxonomy and its categories in tree order, with card counts
    models(conn) -> list[dict]                      models with example and verdict counts
    assessments(conn, model=None) -> list[dict]     assessments (of a model) with their counts
    assessed_cards(conn, model=, cards=, assessment=, in_scope=) -> list[dict]
                                                    where cards were assessed, with the assessors' result
    scenarios(conn) -> list[dict]                   scenarios with card counts by severity
    incidents(conn) -> list[dict]                   incidents by date with harm kinds and linked-card counts
    incident_records(conn) -> list[dict]            incidents by date, whole: systems, sources, linked cards
    crosswalk(conn, a, b) -> dict                   relations between the categories of taxonomies a and b
    stats(conn) -> dict                             counts of everything
    search(conn, text, limit=20) -> list[dict]      full-text hits over cards and examples (FTS5, bm25 order)
    complete(conn, kind, prefix) -> list[str]       ids and codes for shell completion
    guard_coverage(conn, guard=None, cards=None)    guard coverage cells, totals and guards (CLI and site alike)
    guard_outcomes(conn, cards=None) -> dict        the units behind the cells, per (card, example)
    card_fingerprints(conn) -> dict                 card id -> fingerprint of the record it was indexed from
    UnknownId(kind, value, suggestions)             raised for unknown ids/codes; str() says "did you mean"
    BadQuery                                        raised for a filter value that is never right (limit < 1)

Result shape of ``find_cards`` (one dict per card; keys marked * appear only with that filter)::

    {"id", "title", "summary", "status", "max_severity", "tags": [..], "path",
     "scenario"*:  {"id", "severity", "rationale"},                       # --scenario: ordered by severity
     "incident"*:  {"id", "date", "title", "note"},                       # --incident: how it shows the risk
     "inferred"*:  bool,                                                  # --category: only via a crosswalk
     "matches"*:   [{"ref", "name", "relation", "inferred": bool,
                     "via": null | {"crosswalk", "from", "relation", "to"}}],
     "model"*:     {"id", "kind", "examples": [{"example_id", "provenance", "observed_date",
                     "expected": [{"guard", "target", "verdict", "categories"}],
                     "results":  [{"guard", "guard_config", "target", "label", "categories",
                                   "input_status", "run_at"}]}]},
     "assessed"*:  [{"assessment", "title", "status", "model", "model_version", "scenario", "access_date",
                     "in_scope", "excluded_reason", "elicited", "severity", "attempts", "minutes",
                     "actions_plausible", "prompts", "answered"}],          # --assessed-on M: its assessments
     "text"*:      {"score",                                            # bm25: lower is better; --text orders by it
                    "in": ["card" | "example:<id>", ...],                # where it matched, best first
                    "snippet"}}                                          # of the best hit, matches in [brackets]

``--model M`` means: for a language model, cards with examples observed on M, with every guard outcome
(expected and recorded) for those examples; for a guard model or classifier, cards with examples it was
run on (recorded verdicts) or that expect a verdict from it, with its verdicts only.
``--category T:C`` matches cards placed in C or any descendant; with ``via_crosswalk`` also cards placed
in a category one crosswalk relation away from C or a descendant (and in its descendants), marked inferred.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from .index.contract import (  # noqa: F401 - the database contract is part of the query API
    DEFAULT_DB,
    META_TABLE,
    SCHEMA_VERSION,
    SOURCE_DIRS,
    default_db_path,
    is_stale,
    source_fingerprint,
)
from .paths import find_root  # noqa: F401 - part of the query API
from .terms import RELATED_INVERSE, SEVERITY_RANK, STATUSES

SEVERITY_NAME = {v: k for k, v in SEVERITY_RANK.items()}


class BadIndex(Exception):
    """The file is missing, not SQLite, or not a RiskCards index of this schema version."""


class BadQuery(ValueError):
    """A filter value that can never be right (``--limit 0``); ``str()`` says what to write instead."""


class UnknownId(LookupError):
    """An id or code that is not in the index; ``str()`` names the nearest matches."""

    def __init__(self, kind: str, value: str, candidates=(), hint: str = "", where: str = "") -> None:
        from .ids import closest

        self.kind, self.value, self.where = kind, value, where
        self.suggestions = closest(value, list(candidates), n=3, always=kind == "code")
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        near = f" (did you mean {' or '.join(repr(s) for s in self.suggestions)}?)" if self.suggestions else ""
        return f"unknown {self.kind} '{self.value}'{self.where}{near}{self.hint}"


# --------------------------------------------------------------------------------------------------
# Opening the index, staleness
# --------------------------------------------------------------------------------------------------


def connect(db_path: Path | str) -> sqlite3.Connection:
    """Open an index read-only. Raises BadIndex with a readable message when it is not one."""
    path = str(db_path)
    if not os.path.isfile(path):
        raise BadIndex(f"no index at {path}; build it with `riskcards index` (or pass --db PATH)")
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve().as_posix()}?mode=ro", uri=True)
        row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BadIndex(
            f"{path} is not a RiskCards index ({exc}); rebuild it with `riskcards index --db {path}`"
        ) from None
    if row is None or row[0] != str(SCHEMA_VERSION):
        found = row[0] if row else "none"
        raise BadIndex(
            f"{path} has index schema version {found}; this riskcards reads version {SCHEMA_VERSION}: "
            f"rebuild it with `riskcards index --db {path}`"
        )
    conn.row_factory = sqlite3.Row
    return conn


def meta(conn: sqlite3.Connection) -> dict:
    return {k: v for k, v in conn.execute(f"SELECT key, value FROM {META_TABLE} ORDER BY key")}


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _loads(text):
    if (
        not text or text == "[]"
    ):  # most list columns are empty: skip the decoder (a third of cards_full at 10,000 cards)
        return []
    return json.loads(text)


def _col(conn, sql: str, *params) -> list:
    return [r[0] for r in conn.execute(sql, params)]


def _known(conn, kind: str, value: str, sql: str, hint: str = "") -> None:
    """Raise UnknownId unless ``value`` is among the first column of ``sql``."""
    pool = _col(conn, sql)
    if value not in pool:
        raise UnknownId(kind, value, pool, hint)


def _ids_param(ids) -> str:
    return json.dumps(list(ids))


def resolve_category(conn, ref: str) -> str:
    """Check 'taxonomy-id:code' and return it; raise UnknownId naming the nearest taxonomy or code."""
    tax, sep, code = ref.partition(":")
    if not sep or not tax or not code:
        raise UnknownId(
            "category",
            ref,
            _col(conn, "SELECT ref FROM categories"),
            "; write it as 'taxonomy-id:code', e.g. 'llama-guard-3:S6'",
        )
    _known(conn, "taxonomy", tax, "SELECT id FROM taxonomies")
    codes = _col(conn, "SELECT code FROM categories WHERE taxonomy_id = ? ORDER BY position", tax)
    if code not in codes:
        lowered = {c.lower(): c for c in codes}
        if code.lower() in lowered:  # 's6' -> 'S6'
            return f"{tax}:{lowered[code.lower()]}"
        raise UnknownId("code", code, codes, f"; `riskcards taxonomy {tax}` lists its codes", where=f" in {tax}")
    return ref


# --------------------------------------------------------------------------------------------------
# find_cards: the filters
# --------------------------------------------------------------------------------------------------


class Query:
    """Filters of ``find_cards``; every given filter must hold (AND)."""

    FIELDS = (
        "model",
        "scenario",
        "category",
        "via_crosswalk",
        "taxonomy",
        "harm_type",
        "text",
        "status",
        "min_severity",
        "tag",
        "incident",
        "limit",
        "assessed_on",
    )
    __slots__ = FIELDS

    def __init__(
        self,
        model=None,
        scenario=None,
        category=None,
        via_crosswalk=False,
        taxonomy=None,
        harm_type=None,
        text=None,
        status=None,
        min_severity=None,
        incident=None,
        limit=None,
        assessed_on=None,
        tag=None,
    ) -> None:
        self.model, self.scenario, self.category, self.via_crosswalk = model, scenario, category, via_crosswalk
        self.taxonomy, self.harm_type, self.text, self.status = taxonomy, harm_type, text, status
        self.min_severity, self.limit, self.assessed_on, self.tag = min_severity, limit, assessed_on, tag
        self.incident = incident

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.FIELDS if getattr(self, f) not in (None, False)}


def _check(conn, q: Query) -> str | None:
    """Validate every filter value against the index; returns the model's kind when --model is given."""
    kind = None
    if q.limit is not None and (isinstance(q.limit, bool) or not isinstance(q.limit, int) or q.limit < 1):
        raise BadQuery(f"--limit must be a whole number of at least 1, not {q.limit!r} (leave it out for every card)")
    if q.model:
        row = conn.execute("SELECT kind FROM models WHERE id = ?", (q.model,)).fetchone()
        if row is None:
            raise UnknownId("model", q.model, _col(conn, "SELECT id FROM models"), "; `riskcards models` lists them")
        kind = row[0]
    if q.assessed_on:
        _known(conn, "model", q.assessed_on, "SELECT id FROM models", "; `riskcards models` lists them")
    if q.scenario:
        _known(conn, "scenario", q.scenario, "SELECT id FROM scenarios", "; `riskcards scenarios` lists them")
    if q.category:
        q.category = resolve_category(conn, q.category)
    if q.taxonomy:
        _known(conn, "taxonomy", q.taxonomy, "SELECT id FROM taxonomies", "; `riskcards taxonomies` lists them")
    if q.harm_type:
        actor, sep, category = q.harm_type.partition(":")
        actors = _col(conn, "SELECT id FROM harm_type_terms WHERE term_group = 'actor'")
        cats = _col(conn, "SELECT id FROM harm_type_terms WHERE term_group = 'category'")
        if sep:
            if actor not in actors:
                raise UnknownId("harm-type actor", actor, actors, f"; actors: {', '.join(actors)}")
            if category not in cats:
                raise UnknownId("harm-type category", category, cats, f"; categories: {', '.join(cats)}")
        elif q.harm_type not in actors and q.harm_type not in cats:
            raise UnknownId(
                "harm type",
                q.harm_type,
                actors + cats,
                "; write an actor, a category, or 'actor:category' (e.g. 'reader:psychological')",
            )
    if q.incident:
        _known(conn, "incident", q.incident, "SELECT id FROM incidents", "; `riskcards incidents` lists them")
    if q.status and q.status not in STATUSES:
        raise UnknownId("status", q.status, STATUSES, f"; one of: {', '.join(STATUSES)}")
    if q.tag:
        if is_garak_tag(q.tag):
            resolve_card_id(conn, q.tag)  # unknown: the nearest card ids and aliases
        else:
            _known(
                conn, "tag", q.tag, "SELECT DISTINCT tag FROM card_tags", "; `riskcards show ID` shows a card's tags"
            )
    if q.min_severity and q.min_severity not in SEVERITY_RANK:
        raise UnknownId("severity", q.min_severity, SEVERITY_RANK, f"; one of: {', '.join(SEVERITY_RANK)}")
    return kind


_CATEGORY_MATCHES = """
WITH sel(ref) AS (SELECT ref FROM category_ancestors WHERE ancestor_ref = :cat),
linked(ref, via) AS (
    SELECT r.target_ref, r.id FROM crosswalk_relations r JOIN sel ON sel.ref = r.source_ref WHERE :xw
    UNION SELECT r.source_ref, r.id FROM crosswalk_relations r JOIN sel ON sel.ref = r.target_ref WHERE :xw),
linked_desc(ref, via) AS (SELECT a.ref, l.via FROM linked l JOIN category_ancestors a ON a.ancestor_ref = l.ref),
matches(card_id, ref, relation, inferred, via) AS (
    SELECT p.card_id, p.ref, p.relation, 0, NULL FROM placements p JOIN sel ON sel.ref = p.ref
    UNION ALL
    SELECT p.card_id, p.ref, p.relation, 1, ld.via FROM placements p JOIN linked_desc ld ON ld.ref = p.ref
)"""

_TEXT_HITS = """
text_hits(card_id, score, place, snip) AS (
    SELECT cards.id, bm25(cards_fts), 'card', snippet(cards_fts, -1, '[', ']', '…', 12)
      FROM cards_fts JOIN cards ON cards.rowid = cards_fts.rowid WHERE cards_fts MATCH :text
    UNION ALL
    SELECT e.card_id, bm25(examples_fts), 'example:' || e.example_id, snippet(examples_fts, -1, '[', ']', '…', 12)
      FROM examples_fts JOIN examples e ON e.rowid = examples_fts.rowid WHERE examples_fts MATCH :text
)"""


_TEXT_SCORES = """
text_scores(card_id, score) AS (
    SELECT cards.id, bm25(cards_fts) FROM cards_fts JOIN cards ON cards.rowid = cards_fts.rowid
     WHERE cards_fts MATCH :text
    UNION ALL
    SELECT e.card_id, bm25(examples_fts) FROM examples_fts JOIN examples e ON e.rowid = examples_fts.rowid
     WHERE examples_fts MATCH :text
)"""


def _fts_text(text: str) -> str:
    """A safe FTS5 query for arbitrary user text: each word quoted, all words required."""
    words = [w.replace('"', '""') for w in text.split() if any(ch.isalnum() for ch in w)]
    return " ".join(f'"{w}"' for w in words) or '""'


def find_cards(conn: sqlite3.Connection, q: Query) -> list[dict]:
    """Cards matching every filter of ``q``, in the documented shape. Raises UnknownId for unknown values."""
    model_kind = _check(conn, q)
    try:
        return _find(conn, q, model_kind, q.text)
    except sqlite3.OperationalError:
        if q.text:  # the text was not valid FTS5 syntax: search for its words instead
            return _find(conn, q, model_kind, _fts_text(q.text))
        raise


def _find(conn, q: Query, model_kind: str | None, text: str | None) -> list[dict]:
    ctes, joins, where, cols = [], [], [], []
    params: dict = {}
    order = ["c.id"]
    if q.category:
        ctes.append(_CATEGORY_MATCHES)
        params.update(cat=q.category, xw=1 if q.via_crosswalk else 0)
        where.append("c.id IN (SELECT card_id FROM matches)")
    if text:
        ctes.append(_TEXT_SCORES)
        params["text"] = text
        joins.append(
            "JOIN (SELECT card_id, MIN(score) AS score FROM text_scores GROUP BY card_id) th ON th.card_id = c.id"
        )
        cols.append("th.score AS text_score")
        order = ["th.score", "c.id"]
    if q.scenario:
        joins.append("JOIN card_scenarios cs ON cs.card_id = c.id AND cs.scenario_id = :scenario")
        cols += ["cs.severity AS s_severity", "cs.rationale AS s_rationale"]
        params["scenario"] = q.scenario
        order = ["cs.severity_rank DESC", *order]
        if q.min_severity:
            where.append("cs.severity_rank >= :sev")
    elif q.min_severity:
        where.append("c.max_severity_rank >= :sev")
    if q.min_severity:
        params["sev"] = SEVERITY_RANK[q.min_severity]
    if q.taxonomy:
        where.append("c.id IN (SELECT card_id FROM placements WHERE taxonomy_id = :taxonomy)")
        params["taxonomy"] = q.taxonomy
    if q.harm_type:
        actor, sep, category = q.harm_type.partition(":")
        if sep:
            where.append("c.id IN (SELECT card_id FROM harm_types WHERE actor = :ht_actor AND category = :ht_cat)")
            params.update(ht_actor=actor, ht_cat=category)
        else:
            where.append("c.id IN (SELECT card_id FROM harm_types WHERE actor = :ht OR category = :ht)")
            params["ht"] = q.harm_type
    if q.incident:
        joins.append(
            "JOIN card_incidents ci ON ci.card_id = c.id AND ci.incident_id = :incident "
            "JOIN incidents inc ON inc.id = ci.incident_id"
        )
        cols += ["ci.note AS i_note", "inc.date AS i_date", "inc.title AS i_title"]
        params["incident"] = q.incident
    if q.status:
        where.append("c.status = :status")
        params["status"] = q.status
    if q.tag:
        if is_garak_tag(q.tag):
            where.append("c.id = :tag_card")
            params["tag_card"] = resolve_card_id(conn, q.tag)
        else:
            where.append("c.id IN (SELECT card_id FROM card_tags WHERE tag = :tag)")
            params["tag"] = q.tag
    if q.model:
        params["model"] = q.model
        if model_kind == "language-model":
            where.append("c.id IN (SELECT card_id FROM examples WHERE model_id = :model)")
        else:
            where.append(
                "(c.id IN (SELECT card_id FROM guard_results WHERE model_id = :model) "
                "OR c.id IN (SELECT card_id FROM expectations WHERE guard_id = :model))"
            )
    if q.assessed_on:
        params["assessed_on"] = q.assessed_on
        where.append(
            "c.id IN (SELECT ac.card_id FROM assessment_cards ac JOIN assessments a ON a.id = ac.assessment_id "
            "WHERE a.model_id = :assessed_on AND ac.in_scope = 1)"
        )
    sql = ""
    if ctes:
        sql = "WITH " + ",".join(c.strip().removeprefix("WITH ") for c in ctes) + "\n"
    sql += (
        "SELECT c.id, c.title, c.summary, c.status, c.max_severity, c.tags, c.path"
        + "".join(", " + c for c in cols)
        + " FROM cards c "
        + " ".join(joins)
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + ", ".join(order)
    if q.limit:
        sql += f" LIMIT {int(q.limit)}"
    rows = conn.execute(sql, params).fetchall()
    out = []
    for r in rows:
        item = {
            "id": r["id"],
            "title": r["title"],
            "summary": r["summary"],
            "status": r["status"],
            "max_severity": r["max_severity"],
            "tags": _loads(r["tags"]),
            "path": r["path"],
        }
        if q.scenario:
            item["scenario"] = {"id": q.scenario, "severity": r["s_severity"], "rationale": r["s_rationale"]}
        if q.incident:
            item["incident"] = {"id": q.incident, "date": r["i_date"], "title": r["i_title"], "note": r["i_note"]}
        if text:
            item["text"] = {"score": round(r["text_score"], 4), "in": [], "snippet": ""}
        out.append(item)
    if not out:
        return out
    by_id = {c["id"]: c for c in out}
    if q.category:
        _add_matches(conn, q, params, by_id)
    if text:
        _add_snippets(conn, text, by_id)
    if q.model:
        _add_model(conn, q.model, model_kind, by_id)
    if q.assessed_on:
        for item in by_id.values():
            item["assessed"] = []
        for a in assessed_cards(conn, model=q.assessed_on, cards=list(by_id), in_scope=True):
            by_id[a["card"]]["assessed"].append(a)
    return out


_ASSESSED = """SELECT ac.card_id, ac.assessment_id, a.title, a.status, a.model_id, a.model_version, a.scenario_id,
       a.access_date, ac.in_scope, ac.excluded_reason, ac.elicited, ac.severity, ac.attempts, ac.minutes,
       ac.actions_plausible, ac.prompts, ac.answered
FROM assessment_cards ac JOIN assessments a ON a.id = ac.assessment_id WHERE {where}
ORDER BY a.access_date DESC, a.id, ac.position"""


def assessed_cards(conn: sqlite3.Connection, *, model=None, cards=None, assessment=None, in_scope=None) -> list[dict]:
    """Where cards were assessed and with what result: one dict per (assessment, card), newest access first.

    ``elicited`` is the assessors' judgement (yes, partly, no, not-tested) or None when not judged yet;
    an excluded card has ``in_scope`` False and its ``excluded_reason``."""
    where, params = ["1"], {}
    if model is not None:
        where.append("a.model_id = :model")
        params["model"] = model
    if assessment is not None:
        where.append("a.id = :assessment")
        params["assessment"] = assessment
    if cards is not None:
        where.append("ac.card_id IN (SELECT value FROM json_each(:cards))")
        params["cards"] = _ids_param(cards)
    if in_scope is not None:
        where.append("ac.in_scope = :in_scope")
        params["in_scope"] = int(bool(in_scope))
    return [
        {
            "card": r["card_id"],
            "assessment": r["assessment_id"],
            "title": r["title"],
            "status": r["status"],
            "model": r["model_id"],
            "model_version": r["model_version"],
            "scenario": r["scenario_id"],
            "access_date": r["access_date"],
            "in_scope": bool(r["in_scope"]),
            "excluded_reason": r["excluded_reason"],
            "elicited": r["elicited"],
            "severity": r["severity"],
            "attempts": r["attempts"],
            "minutes": r["minutes"],
            "actions_plausible": r["actions_plausible"],
            "prompts": r["prompts"],
            "answered": r["answered"],
        }
        for r in conn.execute(_ASSESSED.replace("{where}", " AND ".join(where)), params)
    ]


def assessments(conn: sqlite3.Connection, model=None, *, report: bool = False) -> list[dict]:
    """Every assessment (of ``model``), newest access first, with its counts; ``report`` adds the report
    (the JSON of ``riskcards assess report -f json``)."""
    sql = "SELECT * FROM assessments" + (" WHERE model_id = ?" if model else "") + " ORDER BY access_date DESC, id"
    out = []
    for r in conn.execute(sql, (model,) if model else ()):
        item = dict(r)
        text = item.pop("report")
        if report:
            item["report"] = json.loads(text)
        out.append(item)
    return out


_TEXT_ROWS = """
SELECT e.card_id, 'example:' || e.example_id, bm25(examples_fts) AS score, 'examples_fts', e.rowid
  FROM examples_fts JOIN examples e ON e.rowid = examples_fts.rowid WHERE examples_fts MATCH :text
UNION ALL
SELECT c.id, 'card', bm25(cards_fts), 'cards_fts', c.rowid
  FROM cards_fts JOIN cards c ON c.rowid = cards_fts.rowid WHERE cards_fts MATCH :text
ORDER BY score"""


def _add_snippets(conn, text: str, by_id: dict) -> None:
    """Where each card matched (best first) and a snippet of its best hit. Snippets are made for the best
    hits only: making one for every hit costs more than the search itself."""
    chosen: dict[str, list] = {"cards_fts": [], "examples_fts": []}
    for card_id, place, _score, table, rowid in conn.execute(_TEXT_ROWS, {"text": text}):
        item = by_id.get(card_id)
        if item is None:
            continue
        if not item["text"]["in"]:
            chosen[table].append((rowid, item["text"]))
        if place not in item["text"]["in"]:
            item["text"]["in"].append(place)
    for table, rows in chosen.items():
        if not rows:
            continue
        snips = dict(
            conn.execute(
                f"SELECT rowid, snippet({table}, -1, '[', ']', '…', 12) FROM {table} "
                f"WHERE {table} MATCH :text AND rowid IN (SELECT value FROM json_each(:ids))",
                {"text": text, "ids": json.dumps([r for r, _h in rows])},
            )
        )
        for rowid, hit in rows:
            hit["snippet"] = snips.get(rowid, "")


def _add_matches(conn, q: Query, params: dict, by_id: dict) -> None:
    sql = (
        "WITH "
        + _CATEGORY_MATCHES.strip().removeprefix("WITH ")
        + """ SELECT m.card_id, m.ref, cat.name, m.relation, m.inferred,
                      cw.crosswalk_id, cw.source_ref, cw.relation, cw.target_ref
               FROM matches m JOIN categories cat ON cat.ref = m.ref
               LEFT JOIN crosswalk_relations cw ON cw.id = m.via
               ORDER BY m.card_id, m.inferred, m.ref"""
    )
    seen: set = set()  # (card, ref): a direct match wins over inferred ones, and one path per category is enough
    for r in conn.execute(sql, {"cat": params["cat"], "xw": params["xw"]}):
        item = by_id.get(r[0])
        if item is None or (r[0], r[1]) in seen:
            continue
        seen.add((r[0], r[1]))
        via = {"crosswalk": r[5], "from": r[6], "relation": r[7], "to": r[8]} if r[5] else None
        item.setdefault("matches", []).append(
            {"ref": r[1], "name": r[2], "relation": r[3], "inferred": bool(r[4]), "via": via}
        )
    for item in by_id.values():
        item["inferred"] = all(m["inferred"] for m in item.get("matches", []))


def _add_model(conn, model: str, kind: str | None, by_id: dict) -> None:
    ids = _ids_param(by_id)
    guard = kind != "language-model"
    if guard:
        ex_sql = """SELECT card_id, example_id FROM expectations
                     WHERE guard_id = :m AND card_id IN (SELECT value FROM json_each(:ids))
                    UNION SELECT card_id, example_id FROM guard_results
                     WHERE model_id = :m AND card_id IN (SELECT value FROM json_each(:ids))"""
        wanted = {(r[0], r[1]) for r in conn.execute(ex_sql, {"m": model, "ids": ids})}
    else:
        wanted = {
            (r[0], r[1])
            for r in conn.execute(
                (
                    "SELECT card_id, example_id FROM examples WHERE model_id "
                    "= :m AND card_id IN (SELECT value FROM json_each(:ids))"
                ),
                {"m": model, "ids": ids},
            )
        }
    exs: dict = {}
    for r in conn.execute(
        """SELECT card_id, example_id, provenance, observed_date FROM examples
                             WHERE card_id IN (SELECT value FROM json_each(?)) ORDER BY card_id, position""",
        (ids,),
    ):
        if (r[0], r[1]) in wanted:
            exs[(r[0], r[1])] = {
                "example_id": r[1],
                "provenance": r[2],
                "observed_date": r[3],
                "expected": [],
                "results": [],
            }
    for r in conn.execute(
        """SELECT card_id, example_id, guard_id, target, verdict, categories FROM expectations
                             WHERE card_id IN (SELECT value FROM json_each(?))""",
        (ids,),
    ):
        ex = exs.get((r[0], r[1]))
        if ex is not None and (not guard or r[2] == model):
            ex["expected"].append({"guard": r[2], "target": r[3], "verdict": r[4], "categories": _loads(r[5])})
    for r in conn.execute(
        """SELECT card_id, example_id, model_id, guard_config_id, target, label, categories, input_status, run_at
                             FROM guard_results WHERE card_id IN (SELECT value FROM json_each(?)) ORDER BY run_at""",
        (ids,),
    ):
        ex = exs.get((r[0], r[1]))
        if ex is not None and (not guard or r[2] == model):
            ex["results"].append(
                {
                    "guard": r[2],
                    "guard_config": r[3],
                    "target": r[4],
                    "label": r[5],
                    "categories": _loads(r[6]),
                    "input_status": r[7],
                    "run_at": r[8],
                }
            )
    for cid, item in by_id.items():
        item["model"] = {"id": model, "kind": kind, "examples": [v for (c, _e), v in exs.items() if c == cid]}


def query_result(conn: sqlite3.Connection, q: Query) -> dict:
    """The documented JSON document of a query: the filters, the count, and the cards."""
    cards = find_cards(conn, q)
    return {"query": q.as_dict(), "count": len(cards), "cards": cards}


# --------------------------------------------------------------------------------------------------
# Whole records
# --------------------------------------------------------------------------------------------------


GARAK_TAG_PREFIX = "risk-cards:lmrc:"  # garak's probe tags; the card carries the alias lmrc-<stem> (stem in kebab form)


def is_garak_tag(text: str) -> bool:
    return text.startswith(GARAK_TAG_PREFIX)


def garak_alias(tag: str) -> str:
    """The card alias a garak tag names: 'risk-cards:lmrc:inciting_self-harm' -> 'lmrc-inciting-self-harm'."""
    return "lmrc-" + tag.removeprefix(GARAK_TAG_PREFIX).replace("_", "-")


def garak_tags(aliases: list[str]) -> list[str]:
    """garak's tags for a card's ``lmrc-<stem>`` aliases, as garak writes them (stem with '_')."""
    return [GARAK_TAG_PREFIX + a.removeprefix("lmrc-").replace("-", "_") for a in aliases if a.startswith("lmrc-")]


def resolve_card_id(conn, card_id: str) -> str:
    """A card's id from its id, a former id (alias) or a garak tag ``risk-cards:lmrc:<name>``."""
    if is_garak_tag(card_id):
        card_id = garak_alias(card_id)
    row = conn.execute(
        "SELECT id FROM cards WHERE id = ? UNION ALL SELECT card_id FROM card_aliases WHERE alias = ?",
        (card_id, card_id),
    ).fetchone()
    if row is None:
        raise UnknownId(
            "card",
            card_id,
            _col(conn, "SELECT id FROM cards UNION ALL SELECT alias FROM card_aliases"),
            "; `riskcards query --text WORDS` searches the cards",
        )
    return row[0]


def card(conn: sqlite3.Connection, card_id: str) -> dict:
    """One card (by id or alias), with placements, scenarios and guards resolved to names."""
    return cards_full(conn, [resolve_card_id(conn, card_id)])[0]


def _group(conn, sql: str, ids, build) -> dict:
    out: dict = {}
    if ids is None:
        rows = conn.execute(sql.replace("{filter}", "1"))
    else:
        rows = conn.execute(
            sql.replace("{filter}", "x.card_id IN (SELECT value FROM json_each(?))"), (_ids_param(ids),)
        )
    for r in rows:
        out.setdefault(r["card_id"], []).append(build(r))
    return out


def _harm_type(r) -> dict:
    if r["unresolved"] is None:
        return {"actor": r["actor"], "category": r["category"]}
    # a category the vocabulary lacks: shown as written, marked so nobody mistakes it for a vocabulary id
    return {"actor": r["actor"], "category": f"unresolved: {r['unresolved']}", "unresolved": r["unresolved"]}


def _example(r) -> dict:
    ex = {"id": r["example_id"], "language": r["language"], "sensitivity": r["sensitivity"]}
    if r["provenance"] == "observed":
        ex["provenance"] = {
            "kind": "observed",
            "model": r["model_id"] or "unknown",
            "model_name": r["model_name"],
            "date": r["observed_date"],
            "source": r["source"],
        }
    else:
        ex["provenance"] = {"kind": "illustrative", "author": r["author"]}
    for f in ("prompt", "output", "context", "note", "withheld_reason"):
        if r[f] is not None:
            ex[f] = r[f]
    if r["turns"]:
        ex["turns"] = json.loads(r["turns"])
    return ex


def cards_full(conn: sqlite3.Connection, ids=None) -> list[dict]:
    """Cards in the ``card()`` shape, fetched in bulk: all of them, or those with the given ids (in that order)."""
    filt = "1" if ids is None else "c.id IN (SELECT value FROM json_each(?))"
    args = () if ids is None else (_ids_param(ids),)
    rows = conn.execute(f"SELECT * FROM cards c WHERE {filt} ORDER BY c.id", args).fetchall()
    placements = _group(
        conn,
        """SELECT x.card_id, x.ref, x.relation, x.rationale, cat.name, cat.taxonomy_id, t.short_name, t.name AS tname
        FROM placements x JOIN categories cat ON cat.ref = x.ref JOIN taxonomies t ON t.id = x.taxonomy_id
        WHERE {filter} ORDER BY x.card_id, x.position""",
        ids,
        lambda r: {
            "ref": r["ref"],
            "name": r["name"],
            "taxonomy": r["taxonomy_id"],
            "taxonomy_name": r["short_name"] or r["tname"],
            "relation": r["relation"],
            "rationale": r["rationale"],
        },
    )
    harm = _group(
        conn,
        "SELECT x.card_id, x.actor, x.category, x.unresolved FROM harm_types x WHERE {filter} "
        "ORDER BY x.card_id, x.position",
        ids,
        _harm_type,
    )
    exs = _group(conn, "SELECT * FROM examples x WHERE {filter} ORDER BY x.card_id, x.position", ids, _example)
    expected = _group(
        conn,
        (
            "SELECT x.card_id, x.example_id, x.guard_id, x.target, "
            "x.verdict, x.categories FROM expectations x WHERE {filter}"
        ),
        ids,
        lambda r: (
            r["example_id"],
            {
                "guard": r["guard_id"],
                "verdict": r["verdict"],
                "categories": _loads(r["categories"]),
                "target": r["target"],
            },
        ),
    )
    results = _group(
        conn,
        """SELECT x.card_id, x.example_id, x.model_id, x.guard_config_id, x.target, x.label, x.categories,
        x.input_status, x.run_at, x.tier FROM guard_results x WHERE {filter} ORDER BY x.run_at""",
        ids,
        lambda r: (
            r["example_id"],
            {
                "guard": r["model_id"],
                "guard_config": r["guard_config_id"],
                "target": r["target"],
                "label": r["label"],
                "categories": _loads(r["categories"]),
                "input_status": r["input_status"],
                "run_at": r["run_at"],
                **({"tier": r["tier"]} if r["tier"] else {}),  # tiered guards only: other records keep their shape
            },
        ),
    )
    scen = _group(
        conn,
        """SELECT x.card_id, x.scenario_id, s.name, x.severity, x.rationale, x.likelihood, x.impact
        FROM card_scenarios x JOIN scenarios s ON s.id = x.scenario_id WHERE {filter} ORDER BY x.card_id, x.position""",
        ids,
        lambda r: {
            "scenario": r["scenario_id"],
            "name": r["name"],
            "severity": r["severity"],
            "likelihood": r["likelihood"],
            "impact": r["impact"],
            "rationale": r["rationale"],
        },
    )
    mitigations = _group(
        conn,
        "SELECT * FROM card_mitigations x WHERE {filter} ORDER BY x.card_id, x.position",
        ids,
        lambda r: {
            "layer": r["layer"],
            "action": r["action"],
            "evidence": _loads(r["evidence"]),
            "residual_risk": r["residual_risk"],
        },
    )
    evaluations = _group(
        conn,
        "SELECT * FROM card_evaluations x WHERE {filter} ORDER BY x.card_id, x.position",
        ids,
        lambda r: {
            "method": r["method"],
            "name": r["name"],
            "measures": r["measures"],
            "references": _loads(r["refs"]),
        },
    )
    refs = _group(
        conn,
        "SELECT * FROM card_references x WHERE {filter} ORDER BY x.card_id, x.position",
        ids,
        lambda r: {k: r[k] for k in ("title", "url", "doi", "note") if r[k] is not None},
    )
    assessed: dict[str, list] = {}
    for a in assessed_cards(conn, cards=None if ids is None else list(ids)):
        assessed.setdefault(a["card"], []).append(a)
    incidents_ = _group(
        conn,
        """SELECT x.card_id, x.incident_id, x.note, i.date, i.title FROM card_incidents x
        JOIN incidents i ON i.id = x.incident_id WHERE {filter} ORDER BY x.card_id, i.date, x.position""",
        ids,
        lambda r: {"incident": r["incident_id"], "date": r["date"], "title": r["title"], "note": r["note"]},
    )
    related = _group(
        conn,
        """SELECT x.card_id, x.related_card_id, x.relation, x.boundary, c.title FROM card_related x
        JOIN cards c ON c.id = x.related_card_id WHERE {filter} ORDER BY x.card_id, x.position""",
        ids,
        lambda r: {
            "card": r["related_card_id"],
            "title": r["title"],
            "relation": r["relation"],
            "boundary": r["boundary"],
        },
    )
    # links other cards state to a card that does not state them back, turned around
    related_by = _group(
        conn,
        """SELECT x.card_id, x.other, x.relation, x.boundary, c.title FROM
        (SELECT related_card_id AS card_id, card_id AS other, relation, boundary FROM card_related) x
        JOIN cards c ON c.id = x.other
        WHERE {filter} AND NOT EXISTS
          (SELECT 1 FROM card_related y WHERE y.card_id = x.card_id AND y.related_card_id = x.other)
        ORDER BY x.card_id, x.other""",
        ids,
        lambda r: {
            "card": r["other"],
            "title": r["title"],
            "relation": RELATED_INVERSE.get(r["relation"], r["relation"]),
            "boundary": r["boundary"],
        },
    )
    out = []
    for r in rows:
        cid = r["id"]
        examples_ = exs.get(cid, [])
        for ex in examples_:
            ex["expected"] = [e for (eid, e) in expected.get(cid, []) if eid == ex["id"]]
            ex["results"] = [e for (eid, e) in results.get(cid, []) if eid == ex["id"]]
        item = {
            "id": cid,
            "title": r["title"],
            "summary": r["summary"],
            "description": r["description"],
            "actions_required": r["actions_required"],
            "harm_types": harm.get(cid, []),
            "placements": placements.get(cid, []),
            "examples": examples_,
            "scenarios": scen.get(cid, []),
            "references": refs.get(cid, []),
            "mitigations": mitigations.get(cid, []),
            "evaluations": evaluations.get(cid, []),
            "incidents": incidents_.get(cid, []),
            "related": related.get(cid, []),
            "related_by": related_by.get(cid, []),
            "tags": _loads(r["tags"]),
            "status": r["status"],
            "version": r["version"],
            "created": r["created"],
            "last_reviewed": r["last_reviewed"],
            "reviewers": _loads(r["reviewers"]),
            "deprecated_reason": r["deprecated_reason"],
            "superseded_by": r["superseded_by"],
            "aliases": _loads(r["aliases"]),
            "contributors": _loads(r["contributors"]),
            "license": r["license"],
            "changelog": _loads(r["changelog"]),
            "max_severity": r["max_severity"],
            "assessments": assessed.get(cid, []),
            "path": r["path"],
        }
        out.append(item)
    if ids is not None:
        order = {cid: i for i, cid in enumerate(ids)}
        out.sort(key=lambda c: order.get(c["id"], len(order)))
    return out


def examples(conn: sqlite3.Connection, ids=None) -> list[dict]:
    """Every example (of the given cards), one dict each with its card's id, title, placements, harm types and garak
    tags (``risk-cards:lmrc:<stem>`` for each ``lmrc-`` alias): the JSONL shape."""
    out = []
    for c in cards_full(conn, ids):
        for ex in c["examples"]:
            out.append(
                {
                    "card": c["id"],
                    "card_title": c["title"],
                    "placements": [p["ref"] for p in c["placements"]],
                    "harm_types": [f"{h['actor']}:{h['category']}" for h in c["harm_types"]],
                    "garak_tags": garak_tags(c["aliases"]),
                    **ex,
                }
            )
    return out


# --------------------------------------------------------------------------------------------------
# Listings
# --------------------------------------------------------------------------------------------------


def taxonomies(conn: sqlite3.Connection) -> list[dict]:
    sql = """SELECT t.id, t.short_name, t.name, t.kind, t.edition, t.confidence, t.category_count,
                    (SELECT COUNT(DISTINCT p.card_id) FROM placements p WHERE p.taxonomy_id = t.id) AS cards,
                    (SELECT COUNT(DISTINCT p.ref) FROM placements p WHERE p.taxonomy_id = t.id) AS used_categories
             FROM taxonomies t ORDER BY t.id"""
    return [dict(r) for r in conn.execute(sql)]


COVERAGE_STATES = ("direct", "crosswalk", "out-of-scope", "gap")

_CROSSWALK_REACH = """
WITH sub(cat, ref) AS (
    SELECT a.ancestor_ref, a.ref FROM category_ancestors a JOIN categories c ON c.ref = a.ancestor_ref
    WHERE c.taxonomy_id = ?),
linked(cat, other, rid) AS (
    SELECT s.cat, r.target_ref, r.id FROM sub s JOIN crosswalk_relations r ON r.source_ref = s.ref
    UNION SELECT s.cat, r.source_ref, r.id FROM sub s JOIN crosswalk_relations r ON r.target_ref = s.ref)
SELECT l.cat, COUNT(DISTINCT l.rid), COUNT(DISTINCT p.card_id)
FROM linked l LEFT JOIN category_ancestors d ON d.ancestor_ref = l.other LEFT JOIN placements p ON p.ref = d.ref
GROUP BY l.cat"""


def coverage(conn: sqlite3.Connection, taxonomy_id: str) -> dict[str, dict]:
    """How each category of a taxonomy is covered, computed once for the CLI and the site:
    {ref: {"coverage", "cards", "via_cards", "crosswalk_rows", "out_of_scope"}}.

    - ``direct``: a card is placed in the category or a subcategory (``cards`` > 0);
    - ``crosswalk``: no such card, but a crosswalk row from the category (or a subcategory) leads to a
      category with cards (``via_cards`` > 0, what ``query --via-crosswalk`` returns). A guard policy's
      category also counts when a crosswalk row reaches it at all: its verdicts are then comparable;
    - ``out-of-scope``: neither, and the category or an ancestor records an ``out_of_scope`` reason;
    - ``gap``: none of these."""
    kind = conn.execute("SELECT kind FROM taxonomies WHERE id = ?", (taxonomy_id,)).fetchone()
    reach = {r[0]: (r[1], r[2]) for r in conn.execute(_CROSSWALK_REACH, (taxonomy_id,))}
    reasons: dict[str, str | None] = {}
    parents: dict[str, str | None] = {}
    out: dict[str, dict] = {}
    for r in conn.execute(
        """SELECT cat.ref, cat.parent_ref, cat.out_of_scope,
               (SELECT COUNT(DISTINCT p.card_id) FROM category_ancestors a JOIN placements p ON p.ref = a.ref
                 WHERE a.ancestor_ref = cat.ref) AS cards
             FROM categories cat WHERE cat.taxonomy_id = ? ORDER BY cat.position""",
        (taxonomy_id,),
    ):
        ref, parent, reason, cards = r[0], r[1], r[2], r[3]
        parents[ref] = parent
        # parents come first in file order, so an inherited reason is already known
        reasons[ref] = reason or (reasons.get(parent) if parent else None)
        rows, via = reach.get(ref, (0, 0))
        if cards:
            state = "direct"
        elif via or (rows and kind is not None and kind[0] == "guard-policy"):
            state = "crosswalk"
        elif reasons[ref]:
            state = "out-of-scope"
        else:
            state = "gap"
        out[ref] = {
            "coverage": state,
            "cards": cards,
            "via_cards": via,
            "crosswalk_rows": rows,
            "out_of_scope": reasons[ref],
        }
    return out


def taxonomy_tree(conn: sqlite3.Connection, taxonomy_id: str) -> dict:
    """A taxonomy with its categories in tree order (each category followed by its sub-categories, siblings in
    file order): level, direct and subtree card counts, coverage (see ``coverage``) and a count of categories
    per coverage state."""
    row = conn.execute("SELECT * FROM taxonomies WHERE id = ?", (taxonomy_id,)).fetchone()
    if row is None:
        raise UnknownId(
            "taxonomy", taxonomy_id, _col(conn, "SELECT id FROM taxonomies"), "; `riskcards taxonomies` lists them"
        )
    cats = []
    for r in conn.execute(
        """SELECT cat.ref, cat.code, cat.name, cat.level, cat.parent_ref, cat.also_parent_ref,
               (SELECT COUNT(*) FROM placements p WHERE p.ref = cat.ref) AS direct_cards,
               (SELECT COUNT(DISTINCT p.card_id) FROM category_ancestors a JOIN placements p ON p.ref = a.ref
                 WHERE a.ancestor_ref = cat.ref) AS cards
             FROM categories cat WHERE cat.taxonomy_id = ? ORDER BY cat.position""",
        (taxonomy_id,),
    ):
        cats.append(
            {
                "ref": r[0],
                "code": r[1],
                "name": r[2],
                "level": r[3],
                "parent": r[4].split(":", 1)[1] if r[4] else None,
                "also_parent": r[5].split(":", 1)[1] if r[5] else None,
                "direct_cards": r[6],
                "cards": r[7],
                "empty": r[7] == 0,
            }
        )
    cats = tree_order(cats)
    cover = coverage(conn, taxonomy_id)
    for c in cats:
        cov = cover[c["ref"]]
        c.update(coverage=cov["coverage"], via_cards=cov["via_cards"], out_of_scope=cov["out_of_scope"])
    keys = (
        "id",
        "name",
        "short_name",
        "kind",
        "edition",
        "source",
        "url",
        "confidence",
        "license",
        "notes",
        "description",
    )
    missing = json.loads(row["missing_levels"]) if row["missing_levels"] else []
    totals = {state: sum(1 for c in cats if c["coverage"] == state) for state in COVERAGE_STATES}
    return {**{k: row[k] for k in keys}, "missing_levels": missing, "coverage": totals, "categories": cats}


def tree_order(cats: list[dict]) -> list[dict]:
    """Categories (dicts with "code" and "parent", in file order) in depth-first tree order: each category
    followed by its sub-categories, siblings kept in file order. A category whose parent is missing (or a
    cycle) keeps its file position after the categories that are reachable from the roots."""
    children: dict[str | None, list[dict]] = {}
    codes = {c["code"] for c in cats}
    for c in cats:
        children.setdefault(c["parent"] if c["parent"] in codes else None, []).append(c)
    out: list[dict] = []
    seen: set[str] = set()
    stack = list(reversed(children.get(None, [])))
    while stack:
        c = stack.pop()
        if c["code"] in seen:
            continue
        seen.add(c["code"])
        out.append(c)
        stack.extend(reversed(children.get(c["code"], [])))
    out += [c for c in cats if c["code"] not in seen]
    return out


def models(conn: sqlite3.Connection) -> list[dict]:
    sql = """SELECT m.id, m.name, m.kind, m.provider, m.family, m.open_weights, m.guard_taxonomy,
                    (SELECT COUNT(*) FROM examples e WHERE e.model_id = m.id) AS observed_examples,
                    (SELECT COUNT(*) FROM expectations x WHERE x.guard_id = m.id) AS expectations,
                    (SELECT COUNT(*) FROM guard_results r WHERE r.model_id = m.id) AS verdicts
             FROM models m ORDER BY m.kind, m.id"""
    return [{**dict(r), "open_weights": bool(r["open_weights"])} for r in conn.execute(sql)]


def scenarios(conn: sqlite3.Connection) -> list[dict]:
    out = []
    for r in conn.execute("SELECT id, name, summary FROM scenarios ORDER BY id"):
        counts = {k: 0 for k in SEVERITY_RANK}
        for sev, n in conn.execute(
            "SELECT severity, COUNT(*) FROM card_scenarios WHERE scenario_id = ? GROUP BY severity", (r[0],)
        ):
            counts[sev] = n
        out.append({"id": r[0], "name": r[1], "summary": r[2], "cards": sum(counts.values()), "by_severity": counts})
    return out


def incidents(conn: sqlite3.Connection) -> list[dict]:
    """Incidents, oldest first: id, date, title, deployer, harm_kinds, aiid, confidence, language_model and the
    number of cards that link each."""
    kinds: dict[str, list[str]] = {}
    for iid, kind in conn.execute(
        "SELECT incident_id, harm_kind FROM incident_harm_kinds ORDER BY incident_id, position"
    ):
        kinds.setdefault(iid, []).append(kind)
    sql = """SELECT i.id, i.date, i.title, i.deployer, i.aiid, i.confidence, i.language_model,
                    (SELECT COUNT(*) FROM card_incidents ci WHERE ci.incident_id = i.id) AS cards
             FROM incidents i ORDER BY i.date, i.id"""
    return [
        {**dict(r), "language_model": bool(r["language_model"]), "harm_kinds": kinds.get(r["id"], [])}
        for r in conn.execute(sql)
    ]


def incident_records(conn: sqlite3.Connection) -> list[dict]:
    """Every incident whole, oldest first: the record's fields (language_model as a bool), ``systems``,
    ``harm_kinds``, ``sources`` [{url, title, publisher}] and ``cards`` [{id, title, status, note}] that link it."""
    out = [
        {**_record(r), "language_model": bool(r["language_model"]), "systems": [], "harm_kinds": [], "sources": []}
        for r in conn.execute("SELECT * FROM incidents ORDER BY date, id")
    ]
    by_id = {i["id"]: i for i in out}
    for i in out:
        i["cards"] = []
    for iid, system in conn.execute("SELECT incident_id, system FROM incident_systems ORDER BY incident_id, position"):
        by_id[iid]["systems"].append(system)
    for iid, kind in conn.execute(
        "SELECT incident_id, harm_kind FROM incident_harm_kinds ORDER BY incident_id, position"
    ):
        by_id[iid]["harm_kinds"].append(kind)
    for r in conn.execute("SELECT * FROM incident_sources ORDER BY incident_id, position"):
        by_id[r["incident_id"]]["sources"].append({"url": r["url"], "title": r["title"], "publisher": r["publisher"]})
    for r in conn.execute(
        """SELECT ci.incident_id, c.id, c.title, c.status, ci.note
           FROM card_incidents ci JOIN cards c ON c.id = ci.card_id ORDER BY ci.incident_id, c.id"""
    ):
        by_id[r[0]]["cards"].append({"id": r[1], "title": r[2], "status": r[3], "note": r[4]})
    return out


def crosswalk(conn: sqlite3.Connection, a: str, b: str) -> dict:
    """Relations between the categories of taxonomies ``a`` and ``b``, from crosswalks in either direction.

    Rows read 'a-category RELATION b-category'; a crosswalk written from b to a is turned around
    (broader <-> narrower)."""
    pool = _col(conn, "SELECT id FROM taxonomies")
    for t in (a, b):
        if t not in pool:
            raise UnknownId("taxonomy", t, pool, "; `riskcards taxonomies` lists them")
    flip = {"broader": "narrower", "narrower": "broader", "exact": "exact", "related": "related"}
    rows = []
    files = []
    for cw in conn.execute(
        "SELECT id, source_taxonomy, target_taxonomy FROM crosswalks "
        "WHERE (source_taxonomy = ? AND target_taxonomy = ?) "
        "OR (source_taxonomy = ? AND target_taxonomy = ?) ORDER BY id",
        (a, b, b, a),
    ).fetchall():
        files.append(cw[0])
        reverse = cw[1] != a
        for r in conn.execute(
            """SELECT r.source_ref, s.name, r.relation, r.target_ref, t.name, r.rationale
                                 FROM crosswalk_relations r JOIN categories s ON s.ref = r.source_ref
                                 JOIN categories t ON t.ref = r.target_ref WHERE r.crosswalk_id = ? ORDER BY r.id""",
            (cw[0],),
        ):
            if reverse:
                rows.append(
                    {
                        "a": r[3],
                        "a_name": r[4],
                        "relation": flip[r[2]],
                        "b": r[0],
                        "b_name": r[1],
                        "rationale": r[5],
                        "crosswalk": cw[0],
                    }
                )
            else:
                rows.append(
                    {
                        "a": r[0],
                        "a_name": r[1],
                        "relation": r[2],
                        "b": r[3],
                        "b_name": r[4],
                        "rationale": r[5],
                        "crosswalk": cw[0],
                    }
                )
    return {"a": a, "b": b, "crosswalks": files, "relations": rows}


def stats(conn: sqlite3.Connection) -> dict:
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "cards": one("SELECT COUNT(*) FROM cards"),
        "cards_by_status": {
            r[0]: r[1] for r in conn.execute("SELECT status, COUNT(*) FROM cards GROUP BY status ORDER BY status")
        },
        "examples": one("SELECT COUNT(*) FROM examples"),
        "examples_by_provenance": {
            r[0]: r[1] for r in conn.execute("SELECT provenance, COUNT(*) FROM examples GROUP BY provenance")
        },
        "examples_by_sensitivity": {
            r[0]: r[1] for r in conn.execute("SELECT sensitivity, COUNT(*) FROM examples GROUP BY sensitivity")
        },
        "placements": one("SELECT COUNT(*) FROM placements"),
        "taxonomies": one("SELECT COUNT(*) FROM taxonomies"),
        "categories": one("SELECT COUNT(*) FROM categories"),
        "categories_with_cards": one("SELECT COUNT(DISTINCT ref) FROM placements"),
        "crosswalks": one("SELECT COUNT(*) FROM crosswalks"),
        "crosswalk_relations": one("SELECT COUNT(*) FROM crosswalk_relations"),
        "scenarios": one("SELECT COUNT(*) FROM scenarios"),
        "models": one("SELECT COUNT(*) FROM models"),
        "incidents": one("SELECT COUNT(*) FROM incidents"),
        "cards_with_incidents": one("SELECT COUNT(DISTINCT card_id) FROM card_incidents"),
        "expectations": one("SELECT COUNT(*) FROM expectations"),
        "guard_results": one("SELECT COUNT(*) FROM guard_results"),
        "guards_with_results": one("SELECT COUNT(DISTINCT guard_config_id) FROM guard_results"),
        "guard_results_by_status": {
            r[0]: r[1] for r in conn.execute("SELECT input_status, COUNT(*) FROM guard_results GROUP BY input_status")
        },
        "built_at": meta(conn).get("built_at"),
        "source_commit": meta(conn).get("source_commit"),
    }


def search(conn: sqlite3.Connection, text: str, limit: int = 20) -> list[dict]:
    """Full-text hits over cards and examples, best first: [{"card", "title", "in", "snippet", "score"}]."""
    sql = (
        "WITH "
        + _TEXT_HITS.strip()
        + """ SELECT h.card_id, c.title, h.place, h.snip, h.score FROM text_hits h
             JOIN cards c ON c.id = h.card_id ORDER BY h.score LIMIT :limit"""
    )
    try:
        rows = conn.execute(sql, {"text": text, "limit": limit}).fetchall()
    except sqlite3.OperationalError:
        rows = conn.execute(sql, {"text": _fts_text(text), "limit": limit}).fetchall()
    return [{"card": r[0], "title": r[1], "in": r[2], "snippet": r[3], "score": round(r[4], 4)} for r in rows]


_COMPLETE = {
    "card": "SELECT id FROM cards WHERE id LIKE :p ESCAPE '\\' ORDER BY id",
    "model": "SELECT id FROM models WHERE id LIKE :p ESCAPE '\\' ORDER BY id",
    "guard": "SELECT id FROM models WHERE guard_taxonomy IS NOT NULL AND id LIKE :p ESCAPE '\\' ORDER BY id",
    "scenario": "SELECT id FROM scenarios WHERE id LIKE :p ESCAPE '\\' ORDER BY id",
    "incident": "SELECT id FROM incidents WHERE id LIKE :p ESCAPE '\\' ORDER BY id",
    "taxonomy": "SELECT id FROM taxonomies WHERE id LIKE :p ESCAPE '\\' ORDER BY id",
    "category": "SELECT ref FROM categories WHERE ref LIKE :p ESCAPE '\\' ORDER BY taxonomy_id, position",
    "harm-type": "SELECT id FROM harm_type_terms WHERE id LIKE :p ESCAPE '\\' "
    "UNION SELECT a.id || ':' || c.id FROM harm_type_terms a, harm_type_terms c "
    "WHERE a.term_group = 'actor' AND c.term_group = 'category' AND a.id || ':' || c.id LIKE :p ESCAPE '\\'",
}


def complete(conn: sqlite3.Connection, kind: str, prefix: str = "", limit: int = 200) -> list[str]:
    """Ids or codes of ``kind`` (card, model, guard, scenario, incident, taxonomy, category, harm-type) starting
    with ``prefix``.

    For 'category' before a ':' the taxonomy ids are offered, each followed by ':'."""
    if kind == "category" and ":" not in prefix:
        return [t + ":" for t in complete(conn, "taxonomy", prefix, limit)]
    p = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [r[0] for r in conn.execute(_COMPLETE[kind] + f" LIMIT {int(limit)}", {"p": p})]


# --- site queries ---
# Whole records the site's pages show (riskcards.site.pages), with JSON columns decoded.


def _record(r: sqlite3.Row, json_cols=()) -> dict:
    return {k: (_loads(r[k]) if k in json_cols else r[k]) for k in r.keys()}  # noqa: SIM118 - iterating a Row gives values


def model_records(conn: sqlite3.Connection) -> list[dict]:
    """Every model record with all its fields (open_weights as a bool), by kind then id, and its sourced
    ``facts``: {released|publisher|license|parameters: {value, source: {title, url, note}}} (only those stated)."""
    facts: dict[str, dict] = {}
    for r in conn.execute("SELECT * FROM model_facts ORDER BY model_id"):
        facts.setdefault(r["model_id"], {})[r["fact"]] = {
            "value": r["value"],
            "source": {"title": r["source_title"], "url": r["source_url"], "note": r["source_note"]},
        }
    return [
        {**_record(r), "open_weights": bool(r["open_weights"]), "facts": facts.get(r["id"], {})}
        for r in conn.execute("SELECT * FROM models ORDER BY kind, id")
    ]


def scenario_records(conn: sqlite3.Connection) -> list[dict]:
    """Every scenario record with all its fields, by id."""
    return [
        _record(r, ("raises_severity", "lowers_severity", "tags"))
        for r in conn.execute("SELECT * FROM scenarios ORDER BY id")
    ]


def harm_type_terms(conn: sqlite3.Connection) -> list[dict]:
    """The harm-type vocabulary: actors then categories, each {term_group, id, name, description, synonym_of}."""
    return [_record(r) for r in conn.execute("SELECT * FROM harm_type_terms ORDER BY term_group, id")]


def crosswalk_list(conn: sqlite3.Connection) -> list[dict]:
    """Every crosswalk file: {id, source_taxonomy, target_taxonomy, description, references, relation_count, path}."""
    return [_record(r, ("references",)) for r in conn.execute("SELECT * FROM crosswalks ORDER BY id")]


def crosswalk_rows(conn: sqlite3.Connection, crosswalk_id: str) -> list[dict]:
    """One crosswalk file's rows as written (source RELATION target), in file order, with category names:
    {source_ref, source_code, source_name, relation, target_ref, target_code, target_name, rationale}."""
    sql = """SELECT r.source_ref, s.code AS source_code, s.name AS source_name, r.relation,
                    r.target_ref, t.code AS target_code, t.name AS target_name, r.rationale
             FROM crosswalk_relations r JOIN categories s ON s.ref = r.source_ref
             JOIN categories t ON t.ref = r.target_ref
             WHERE r.crosswalk_id = ? ORDER BY r.id"""
    return [dict(r) for r in conn.execute(sql, (crosswalk_id,))]


def category_records(conn: sqlite3.Connection, taxonomy_id: str | None = None) -> dict[str, dict]:
    """Categories by ref with all their fields (alt_names and attributes decoded), in file order."""
    sql = (
        "SELECT * FROM categories"
        + (" WHERE taxonomy_id = ?" if taxonomy_id else "")
        + " ORDER BY taxonomy_id, position"
    )
    out = {}
    for r in conn.execute(sql, (taxonomy_id,) if taxonomy_id else ()):
        rec = _record(r, ("alt_names",))
        rec["attributes"] = json.loads(r["attributes"]) if r["attributes"] else {}
        out[r["ref"]] = rec
    return out


_ALL_CATEGORY_MATCHES = """
WITH linked(cat, ref, via) AS (
    SELECT a.ancestor_ref, r.target_ref, r.id
      FROM crosswalk_relations r JOIN category_ancestors a ON a.ref = r.source_ref
    UNION SELECT a.ancestor_ref, r.source_ref, r.id
      FROM crosswalk_relations r JOIN category_ancestors a ON a.ref = r.target_ref),
linked_desc(cat, ref, via) AS (
    SELECT l.cat, a.ref, l.via FROM linked l JOIN category_ancestors a ON a.ancestor_ref = l.ref),
matches(cat, card_id, ref, relation, inferred, via) AS (
    SELECT a.ancestor_ref, p.card_id, p.ref, p.relation, 0, NULL
      FROM placements p JOIN category_ancestors a ON a.ref = p.ref
    UNION ALL
    SELECT ld.cat, p.card_id, p.ref, p.relation, 1, ld.via FROM placements p JOIN linked_desc ld ON ld.ref = p.ref)
SELECT m.cat, m.card_id, m.ref, cat.name, m.relation, m.inferred,
       cw.crosswalk_id, cw.source_ref, cw.relation, cw.target_ref
FROM matches m JOIN categories cat ON cat.ref = m.ref LEFT JOIN crosswalk_relations cw ON cw.id = m.via
ORDER BY m.cat, m.card_id, m.inferred, m.ref, m.via"""


def category_matches(conn: sqlite3.Connection) -> dict[str, dict[str, dict]]:
    """For every category at once: the cards ``find_cards(Query(category=ref, via_crosswalk=True))`` returns,
    as {ref: {card_id: {"inferred": bool, "matches": [...]}}} with the same "matches" entries (a direct match
    wins over inferred ones; one path per matched category). Categories without cards are left out."""
    out: dict[str, dict[str, dict]] = {}
    seen: set = set()
    for r in conn.execute(_ALL_CATEGORY_MATCHES):
        cat, cid, ref = r[0], r[1], r[2]
        if (cat, cid, ref) in seen:
            continue
        seen.add((cat, cid, ref))
        via = {"crosswalk": r[6], "from": r[7], "relation": r[8], "to": r[9]} if r[6] else None
        item = out.setdefault(cat, {}).setdefault(cid, {"matches": []})
        item["matches"].append({"ref": ref, "name": r[3], "relation": r[4], "inferred": bool(r[5]), "via": via})
    for cards in out.values():
        for item in cards.values():
            item["inferred"] = all(m["inferred"] for m in item["matches"])
    return out


# --------------------------------------------------------------------------------------------------
# Guard coverage (table guard_coverage, computed at build time by riskcards.guards.coverage)
# --------------------------------------------------------------------------------------------------

_CELL_KEYS = {"card_id": "card", "guard_id": "guard", "model_id": "model", "taxonomy_id": "taxonomy"}
_CELL_JSON = ("tiers", "codes", "mapped", "disagreements")
RESULT_COUNTS = ("flagged", "conditional", "missed", "outside", "errored")
"""Cell counts of units with a current verdict: a guard with any of them has results."""


def _cells(cur: sqlite3.Cursor) -> list[dict]:
    """The rows of a guard_coverage SELECT as cell dicts: JSON columns decoded, in_policy a bool. Read by column
    position, and the JSON of an empty object or list not decoded (most cells have no tiers, codes, mappings or
    disagreements): at 15,000 cells this was 70 % of `riskcards coverage -f json`."""
    names = [_CELL_KEYS.get(d[0], d[0]) for d in cur.description]
    decode = [i for i, d in enumerate(cur.description) if d[0] in _CELL_JSON]
    policy = [i for i, d in enumerate(cur.description) if d[0] == "in_policy"]
    empty = {i: (list if cur.description[i][0] == "disagreements" else dict) for i in decode}
    out = []
    for row in cur:
        values = list(row)
        for i in decode:
            v = values[i]
            values[i] = json.loads(v) if v and v not in ("{}", "[]") else empty[i]()
        for i in policy:
            values[i] = bool(values[i])
        out.append(dict(zip(names, values, strict=True)))
    return out


def guard_coverage(conn: sqlite3.Connection, guard: str | None = None, cards=None) -> dict:
    """Guard coverage from the index, the one source for the CLI and the site.

    ``guard`` (a guard id or a guard's model id) and ``cards`` (card ids or aliases) narrow it; an unknown one
    raises UnknownId. Returns::

        {"cells":  [{card, guard, model, taxonomy, in_policy, units, flagged, conditional, missed, outside,
                     errored, not_runnable, not_run, stale, on_target, expected, match, mismatch, expected_error,
                     no_result, expected_not_runnable, tiers, codes, mapped, disagreements}],   # card, guard order
         "totals": {guard: {count: sum over the cells}},                                    # guard id order
         "guards": [{id, model, name, taxonomy, cards, results, units, ...totals}]}        # results first

    where ``results`` is the number of units with a current verdict (flagged + conditional + missed +
    outside + errored); guards with results come first, most first, then by id."""
    where, params = [], []
    if guard is not None:
        pool = _col(conn, "SELECT guard_id FROM guard_coverage UNION SELECT model_id FROM guard_coverage")
        if guard not in pool:
            raise UnknownId("guard", guard, pool, "; guards are the recorded guard ids and guard model records")
        where.append("(g.guard_id = ? OR g.model_id = ?)")
        params += [guard, guard]
    if cards is not None:
        ids = list(dict.fromkeys(resolve_card_id(conn, c) for c in cards))
        where.append("g.card_id IN (SELECT value FROM json_each(?))")
        params.append(_ids_param(ids))
    sql = "SELECT g.* FROM guard_coverage g" + (" WHERE " + " AND ".join(where) if where else "")
    cells = _cells(conn.execute(sql + " ORDER BY g.card_id, g.guard_id", params))
    names = dict(conn.execute("SELECT id, name FROM models").fetchall())
    counts = [k for k, v in cells[0].items() if isinstance(v, int) and not isinstance(v, bool)] if cells else []
    totals: dict[str, dict] = {}
    info: dict[str, dict] = {}
    for c in cells:
        acc = totals.setdefault(c["guard"], dict.fromkeys(counts, 0))
        for k in counts:
            acc[k] += c[k]
        g = info.setdefault(
            c["guard"],
            {
                "id": c["guard"],
                "model": c["model"],
                "name": names.get(c["model"], c["model"]),
                "taxonomy": c["taxonomy"],
            },
        )
        g["cards"] = g.get("cards", 0) + 1
    guards = []
    for gid in sorted(totals):
        t = totals[gid]
        guards.append({**info[gid], "results": sum(t[k] for k in RESULT_COUNTS), **t})
    guards.sort(key=lambda g: (g["results"] == 0, -g["results"], g["id"]))
    return {"cells": cells, "totals": dict(sorted(totals.items())), "guards": guards}


def guard_outcomes(conn: sqlite3.Connection, cards=None) -> dict[tuple[str, str], list[dict]]:
    """The units behind the coverage cells (table guard_outcomes), of the given card ids or all: (card id,
    example id) -> [{guard, model, target, state, label, categories, tier, run_at}], in guard, target
    order. ``state`` is what the unit counts as in its cell (riskcards.guards.coverage.STATES)."""
    sql = "SELECT * FROM guard_outcomes"
    params: list[str] = []
    if cards is not None:
        sql += " WHERE card_id IN (SELECT value FROM json_each(?))"
        params.append(_ids_param(list(cards)))
    out: dict[tuple[str, str], list[dict]] = {}
    for r in conn.execute(sql + " ORDER BY card_id, example_id, guard_id, target", params):
        out.setdefault((r["card_id"], r["example_id"]), []).append(
            {
                "guard": r["guard_id"],
                "model": r["model_id"],
                "target": r["target"],
                "state": r["state"],
                "label": r["label"],
                "categories": _loads(r["categories"]),
                "tier": r["tier"],
                "run_at": r["run_at"],
            }
        )
    return out


def card_fingerprints(conn: sqlite3.Connection) -> dict[str, str]:
    """Card id -> the fingerprint of its source record the index was built from (table card_fingerprints)."""
    return dict(conn.execute("SELECT card_id, fingerprint FROM card_fingerprints").fetchall())
