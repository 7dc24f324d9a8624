"""``csv``: one card per row: id, title, summary, status, version, max_severity, harm_types, placements,
scenarios (scenario=severity), tags, examples, path; list cells joined with '; '."""

from __future__ import annotations

import csv
import io
import sqlite3

from .. import query as Q
from . import Rendered, register

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


def table(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


@register(
    "csv",
    help="csv (one card per row)",
    description="One card per row: id, title, summary, status, severity, harm types, placements, scenarios.",
    download="riskcards.csv",
    order=3,
)
def render(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    rows = csv_rows(conn, ids)
    return Rendered(len(rows), text=table(CSV_COLUMNS, rows))
