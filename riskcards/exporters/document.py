"""``json``: the whole knowledge base (or a query's cards) as one document::

{"format": "riskcards.export/1", "schema_version": 1, "built_at": ..., "source_commit": ...,
 "query": null | {filters},            # the filters when the export is a query's result
 "cards": [card, ...],                 # riskcards.query.card() shape: placements, examples (with expected
                                       #   and recorded guard verdicts), scenarios, references resolved
 "taxonomies": [...], "scenarios": [...], "models": [...], "crosswalks": [...]}   # whole-KB export only
"""

from __future__ import annotations

import sqlite3

from .. import query as Q
from . import Rendered, register

FORMAT_VERSION = "riskcards.export/1"
SCENARIO_KEYS = ("id", "name", "summary", "description", "users", "raises_severity", "lowers_severity", "tags")


def json_document(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> dict:
    info = Q.meta(conn)
    doc = {
        "format": FORMAT_VERSION,
        "schema_version": int(info.get("schema_version", 0)),
        "built_at": info.get("built_at"),
        "source_commit": info.get("source_commit"),
        "query": query,
        "cards": Q.cards_full(conn, ids),
    }
    if ids is None:
        doc["taxonomies"] = [Q.taxonomy_tree(conn, t["id"]) for t in Q.taxonomies(conn)]
        doc["scenarios"] = [{k: s[k] for k in SCENARIO_KEYS} for s in Q.scenario_records(conn)]
        doc["models"] = sorted(Q.model_records(conn), key=lambda m: m["id"])
        doc["crosswalks"] = [
            Q.crosswalk(conn, cw["source_taxonomy"], cw["target_taxonomy"]) | {"id": cw["id"]}
            for cw in Q.crosswalk_list(conn)
        ]
    return doc


@register(
    "json",
    help="json (cards and reference data)",
    description="Every card with its placements, examples (and their guard verdicts), scenarios and references, "
    "plus taxonomies, scenarios, models and crosswalks, as one JSON document.",
    download="riskcards.json",
    order=1,
)
def render(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    import orjson  # the same text as json.dumps(doc, indent=2, ensure_ascii=False) (tested), 20x faster

    doc = json_document(conn, ids, query)
    return Rendered(len(doc["cards"]), text=orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n")
