"""Checks of the harm-type vocabulary: unique term ids and synonyms that point at known terms."""

from __future__ import annotations

from .. import ids
from ..kb import KnowledgeBase
from ..models import HarmTypeVocabulary
from .common import Files


def check(kb: KnowledgeBase, vocab: HarmTypeVocabulary, shown: str, files: Files, add) -> None:
    for group in ("actors", "categories"):
        terms = getattr(vocab, group)
        known = {t.id for t in terms}
        seen: set[str] = set()
        for i, term in enumerate(terms):
            if term.id in seen:
                add(files.at(shown, (group, i, "id"), f"'{term.id}' appears twice in {group}", "duplicate-id"))
            seen.add(term.id)
            if term.synonym_of and term.synonym_of not in known:
                add(
                    files.at(
                        shown,
                        (group, i, "synonym_of"),
                        (
                            f"synonym_of '{term.synonym_of}' is not one of the "
                            f"{group}{ids.did_you_mean(term.synonym_of, known)}"
                        ),
                        "unknown-id",
                    )
                )
