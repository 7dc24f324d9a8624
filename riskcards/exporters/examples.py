"""``jsonl``: one example per line, the shape red-teaming tools ingest (only examples whose text is published:
withheld examples have none, unreviewed ones have text no person has checked yet; a probe has no
``output``, its messages end with the user turn to send)::

    {"card", "card_title", "placements": ["tax:code"], "harm_types": ["actor:category"],
     "garak_tags": ["risk-cards:lmrc:<stem>"], "id", "language",
     "sensitivity", "provenance": {...}, "messages": [{"role", "content"}], "prompt"?, "output"?, "turns"?,
     "context"?, "note"?, "expected": [...], "results": [...]}
"""

from __future__ import annotations

import json
import sqlite3

from .. import query as Q
from .. import terms
from . import Rendered, register


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


def exportable(conn: sqlite3.Connection, ids=None) -> list[dict]:
    """The examples an export may carry text of (riskcards.query.examples shape): full or defanged, never
    withheld or unreviewed (the index keeps no unreviewed text either; this is the exporters' one filter)."""
    return [ex for ex in Q.examples(conn, ids) if ex["sensitivity"] in terms.PUBLISHED_SENSITIVITIES]


def jsonl_records(conn: sqlite3.Connection, ids=None) -> list[dict]:
    return [{**ex, "messages": messages(ex)} for ex in exportable(conn, ids)]


@register(
    "jsonl",
    help="jsonl (one example per line, for red-teaming tools)",
    description="One example per line, as chat messages with the card's placements and harm types "
    "(for red-teaming tools; withheld and unreviewed examples are left out).",
    unit="examples",
    download="riskcards.jsonl",
    order=2,
)
def render(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    recs = jsonl_records(conn, ids)
    return Rendered(len(recs), text="".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs))
