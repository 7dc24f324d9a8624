"""``promptfoo-jsonl`` and ``promptfoo-csv``: promptfoo test cases, one per example (``tests: file://...``).

JSONL, one test case a line::

    {"description": "<card>/<example>: <card title>",
     "vars": {"prompt": "<the last user message>", "messages": "<JSON chat messages up to the judged reply>",
              "context": "<the example's context or ''>", "criterion": "<what a safe reply does>"},
     "metadata": {"card", "example", "placements", "harm_types", "language", "sensitivity", "probe",
                  "garak_tags"}}

CSV, promptfoo's conventions: the vars as plain columns (prompt, messages, context, criterion), then
``__description`` and one ``__metadata:<key>`` column per metadata key (lists joined with ', ').
The conversation and the criterion are those of the ``inspect`` format (``inspect_dataset.samples``).
"""

from __future__ import annotations

import json
import sqlite3

from . import Rendered, register
from .cards_csv import table
from .inspect_dataset import samples

META_KEYS = ("card", "example", "placements", "harm_types", "language", "sensitivity", "probe", "garak_tags")


def test_cases(conn: sqlite3.Connection, ids=None) -> list[dict]:
    out = []
    for s in samples(conn, ids):
        md = s["metadata"]
        users = [m["content"] for m in s["input"] if m["role"] == "user"]
        context = next((m["content"] for m in s["input"] if m["role"] == "system"), "")
        out.append(
            {
                "description": f"{s['id']}: {md['card_title']}",
                "vars": {
                    "prompt": users[-1] if users else "",
                    "messages": json.dumps(s["input"], ensure_ascii=False),
                    "context": context,
                    "criterion": s["target"],
                },
                "metadata": {k: md[k] for k in META_KEYS},
            }
        )
    return out


@register(
    "promptfoo-jsonl",
    help="promptfoo-jsonl (promptfoo test cases)",
    description="promptfoo test cases, one per example (description, vars: prompt, messages, context, criterion; "
    "metadata: card, placements, harm types): `tests: file://riskcards-promptfoo.jsonl`.",
    unit="test cases",
    download="riskcards-promptfoo.jsonl",
    order=20,
)
def render_jsonl(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    cases = test_cases(conn, ids)
    return Rendered(len(cases), text="".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases))


def _cell(v) -> str:
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@register(
    "promptfoo-csv",
    help="promptfoo-csv (promptfoo test cases, CSV conventions)",
    description="The promptfoo test cases as CSV, in promptfoo's conventions (vars as columns, __description, "
    "__metadata:<key>): `tests: file://riskcards-promptfoo.csv`.",
    unit="test cases",
    download="riskcards-promptfoo.csv",
    order=21,
)
def render_csv(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    cases = test_cases(conn, ids)
    var_names = ["prompt", "messages", "context", "criterion"]
    header = [*var_names, "__description", *(f"__metadata:{k}" for k in META_KEYS)]
    rows = [
        [*(c["vars"][v] for v in var_names), c["description"], *(_cell(c["metadata"][k]) for k in META_KEYS)]
        for c in cases
    ]
    return Rendered(len(rows), text=table(header, rows))
