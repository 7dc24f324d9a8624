"""Checks of a crosswalk against the taxonomies it relates."""

from __future__ import annotations

from .. import ids
from ..kb import KnowledgeBase
from ..models import Crosswalk
from .common import Files, check_ref, dupes, url_problem


def check(kb: KnowledgeBase, cw: Crosswalk, shown: str, files: Files, add) -> None:
    ok = True
    for end in ("source", "target"):
        tid = getattr(cw, end)
        if tid is None:  # not a valid id; its schema problem is reported
            ok = False
        elif tid not in kb.taxonomies:
            add(
                files.at(
                    shown, (end,), f"unknown taxonomy '{tid}'{ids.did_you_mean(tid, kb.taxonomies)}", "unknown-taxonomy"
                )
            )
            ok = False
    if cw.source == cw.target:
        add(files.at(shown, ("target",), "a crosswalk relates two different taxonomies", "crosswalk"))
    if not ok:
        return
    for i, row in enumerate(cw.relations or []):
        if row is None:
            continue
        check_ref(kb, f"{cw.source}:{row.source}", shown, ("relations", i, "source"), files, add)
        check_ref(kb, f"{cw.target}:{row.target}", shown, ("relations", i, "target"), files, add)
    dupes(
        cw.relations or [],
        lambda r: (r.source, r.target),
        lambda i: ("relations", i, "source"),
        "relation",
        shown,
        files,
        add,
    )
    for i, ref in enumerate(cw.references):
        if ref is not None and ref.url is not None and (why := url_problem(ref.url)):
            add(files.at(shown, ("references", i, "url"), f"URL {why}", "url"))
