"""Formats out: the whole knowledge base, or a query's cards, read through ``riskcards.query``.

Shapes (documented; a test round-trips each):

``json``   one document::

    {"format": "riskcards.export/1", "schema_version": 1, "built_at": ..., "source_commit": ...,
     "query": null | {filters},            # the filters when the export is a query's result
     "cards": [card, ...],                 # riskcards.query.card() shape: placements, examples (with expected
                                           #   and recorded guard verdicts), scenarios, references resolved
     "taxonomies": [...], "scenarios": [...], "models": [...], "crosswalks": [...]}   # whole-KB export only

``jsonl``  one example per line, the shape red-teaming tools ingest (withheld examples have no text and
           are left out)::

    {"card", "card_title", "placements": ["tax:code"], "harm_types": ["actor:category"], "id", "language",
     "sensitivity", "provenance": {...}, "messages": [{"role", "content"}], "prompt"?, "output"?, "turns"?,
     "context"?, "note"?, "expected": [...], "results": [...]}

``csv``    one card per row: id, title, summary, status, version, max_severity, harm_types, placements,
           scenarios (scenario=severity), tags, examples, path; list cells joined with '; '.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from pathlib import Path

from .. import query as Q
from ..paths import write_atomic

FORMAT_VERSION = "riskcards.export/1"
CSV_COLUMNS = [
    "id",
    "title",
    "summary",
    "status",
    "version",
    "max_severity",
    "harm_types",
    "placements",
    "scenarios",
    "tags",
    "examples",
    "path",
]


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
        doc["scenarios"] = [
            dict(r)
            for r in conn.execute(
                "SELECT id, name, summary, description, users, raises_severity, lowers_severity, tags FROM scenarios ORDER BY id"
            )
        ]
        for s in doc["scenarios"]:
            for k in ("raises_severity", "lowers_severity", "tags"):
                s[k] = json.loads(s[k])
        doc["models"] = [dict(r) for r in conn.execute("SELECT * FROM models ORDER BY id")]
        for m in doc["models"]:
            m["open_weights"] = bool(m["open_weights"])
        doc["crosswalks"] = []
        for cw in conn.execute("SELECT id, source_taxonomy, target_taxonomy FROM crosswalks ORDER BY id").fetchall():
            doc["crosswalks"].append(Q.crosswalk(conn, cw[1], cw[2]) | {"id": cw[0]})
    return doc


def messages(example: dict) -> list[dict]:
    """The example as chat messages: prompt/output become user/assistant turns."""
    if example.get("turns"):
        return example["turns"]
    out = []
    if example.get("prompt") is not None:
        out.append({"role": "user", "content": example["prompt"]})
    if example.get("output") is not None:
        out.append({"role": "assistant", "content": example["output"]})
    return out


def jsonl_records(conn: sqlite3.Connection, ids=None) -> list[dict]:
    return [{**ex, "messages": messages(ex)} for ex in Q.examples(conn, ids) if ex["sensitivity"] != "withheld"]


def csv_rows(conn: sqlite3.Connection, ids=None) -> list[list]:
    rows = []
    for c in Q.cards_full(conn, ids):
        rows.append(
            [
                c["id"],
                c["title"],
                c["summary"],
                c["status"],
                c["version"],
                c["max_severity"] or "",
                "; ".join(f"{h['actor']}:{h['category']}" for h in c["harm_types"]),
                "; ".join(p["ref"] for p in c["placements"]),
                "; ".join(f"{s['scenario']}={s['severity']}" for s in c["scenarios"]),
                "; ".join(c["tags"]),
                len(c["examples"]),
                c["path"],
            ]
        )
    return rows


def render(conn: sqlite3.Connection, fmt: str, ids=None, query: dict | None = None) -> tuple[str, int]:
    """The export as text, and how many records it holds."""
    if fmt == "json":
        import orjson  # the same text as json.dumps(doc, indent=2, ensure_ascii=False) (tested), 20x faster

        doc = json_document(conn, ids, query)
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode() + "\n", len(doc["cards"])
    if fmt == "jsonl":
        recs = jsonl_records(conn, ids)
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), len(recs)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        rows = csv_rows(conn, ids)
        w.writerows(rows)
        return buf.getvalue(), len(rows)
    raise ValueError(f"unknown export format '{fmt}'; one of: json, jsonl, csv")


def export(
    conn: sqlite3.Connection, fmt: str, out: Path | str | None = None, ids=None, query: dict | None = None
) -> int:
    """Write the export to ``out`` atomically (temp file + rename), or to standard output; returns the record count."""
    text, n = render(conn, fmt, ids, query)
    if out is None:
        sys.stdout.write(text)
        return n
    write_atomic(Path(out), text)
    return n
