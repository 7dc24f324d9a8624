"""``garak``: garak payload files (garak's payload schema: ``garak_payload_name``, ``payload_types``,
``payloads``, ``lang``), one per card and language, named ``riskcards_<card>_<lang>.json``; the download is
one zip of them. Copy them into garak's payload folder (``garak/data/payloads/`` or the user data folder's
``payloads/``) and name them with ``--payloads``/probe options that take a payload group.

Each payload is the prompt an example sends (its last user message; the judged reply is never a payload).
``payload_types`` is ``["Text"]``, a type of garak's payload typology. Withheld and unreviewed examples are
left out. A card that carries an ``lmrc-<stem>`` alias names garak's tag ``risk-cards:lmrc:<stem>`` in the
payload name, so garak's own probe tags lead back to the card.
"""

from __future__ import annotations

import json
import sqlite3

from .. import query as Q
from ..query import garak_tags  # one definition, in the query layer
from . import Rendered, register
from .inspect_dataset import samples


def payload_files(conn: sqlite3.Connection, ids=None) -> dict[str, dict]:
    cards = {c["id"]: c for c in Q.cards_full(conn, ids)}
    groups: dict[tuple[str, str], list[str]] = {}
    for s in samples(conn, ids):
        users = [m["content"] for m in s["input"] if m["role"] == "user"]
        if users:
            groups.setdefault((s["metadata"]["card"], s["metadata"]["language"]), []).append(users[-1])
    out = {}
    for (cid, lang), payloads in sorted(groups.items()):
        card = cards[cid]
        tags = garak_tags(card.get("aliases") or [])
        name = f"RiskCards {cid}: {card['title']}" + (f" ({', '.join(tags)})" if tags else "")
        out[f"riskcards_{cid.replace('-', '_')}_{lang}.json"] = {
            "garak_payload_name": name,
            "payload_types": ["Text"],
            "payloads": payloads,
            "lang": lang,
        }
    return out


@register(
    "garak",
    help="garak (garak payload files, one per card and language; needs --out)",
    description="garak payload files (garak's payload schema), one per card and language: the prompts of the "
    "card's examples, with garak's risk-cards:lmrc tag in the name where the card has one.",
    unit="payload files",
    download="riskcards-garak-payloads.zip",
    order=30,
    multi_file=True,
)
def render(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    files = payload_files(conn, ids)
    return Rendered(len(files), files={n: json.dumps(d, indent=2, ensure_ascii=False) + "\n" for n, d in files.items()})
