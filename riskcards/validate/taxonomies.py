"""Checks of one taxonomy on its own: unique codes and a consistent hierarchy of levels and parents."""

from __future__ import annotations

from .. import ids
from ..kb import KnowledgeBase
from ..models import Taxonomy
from .common import Files, url_problem


def check(kb: KnowledgeBase, tax: Taxonomy, shown: str, files: Files, add) -> None:
    if isinstance(tax.url, str) and (why := url_problem(tax.url)):
        add(files.at(shown, ("url",), f"URL {why}", "url"))
    seen: dict[str, int] = {}
    cats = [c for c in tax.categories or [] if c is not None]
    for i, cat in enumerate(tax.categories or []):
        if cat is None:
            continue
        if cat.code in seen:
            add(
                files.at(
                    shown,
                    ("categories", i, "code"),
                    (
                        f"code '{cat.code}' appears twice (first at category "
                        f"{seen[cat.code] + 1}); codes are unique within a taxonomy"
                    ),
                    "duplicate-code",
                )
            )
        seen.setdefault(cat.code, i)
    levels = {c.code: c.level for c in cats}
    for i, cat in enumerate(tax.categories or []):
        if cat is None:
            continue
        for fld in ("parent", "also_parent"):
            parent = getattr(cat, fld)
            if parent is None:
                continue
            if parent not in levels:
                add(
                    files.at(
                        shown,
                        ("categories", i, fld),
                        f"{fld} '{parent}' is not a code of this taxonomy{ids.did_you_mean(parent, levels)}",
                        "unknown-code",
                    )
                )
            elif fld == "parent" and levels[parent] != cat.level - 1:
                add(
                    files.at(
                        shown,
                        ("categories", i, "level"),
                        (
                            f"level {cat.level} does not follow its parent '{parent}' "
                            f"(level {levels[parent]}); write level: {levels[parent] + 1}"
                        ),
                        "hierarchy",
                    )
                )
        if cat.parent is None and cat.level != 1:
            add(
                files.at(
                    shown,
                    ("categories", i, "level"),
                    f"a category without a parent is level 1, not {cat.level}",
                    "hierarchy",
                )
            )
    _check_missing_levels(tax, cats, shown, files, add)


def _check_missing_levels(tax: Taxonomy, cats: list, shown: str, files: Files, add) -> None:
    """A missing level is deeper than level 1 and at most one below the levels listed or declared missing; a
    published count is not smaller than the categories listed at that level; a level is declared once."""
    listed = {c.level for c in cats}
    counts = {lvl: sum(1 for c in cats if c.level == lvl) for lvl in listed}
    declared: set[int] = set()
    for i, ml in enumerate(tax.missing_levels or []):
        if ml is None:
            continue
        here = ("missing_levels", i, "level")
        if ml.level in declared:
            add(files.at(shown, here, f"level {ml.level} is declared missing twice", "missing-level"))
        elif ml.level not in listed and ml.level - 1 not in listed | declared:
            add(
                files.at(
                    shown,
                    here,
                    f"level {ml.level} cannot be missing when level {ml.level - 1} is neither listed nor declared "
                    "missing",
                    "missing-level",
                )
            )
        elif ml.published_count is not None and ml.published_count < counts.get(ml.level, 0):
            add(
                files.at(
                    shown,
                    ("missing_levels", i, "published_count"),
                    f"published_count {ml.published_count} is smaller than the {counts[ml.level]} categories "
                    f"listed at level {ml.level}",
                    "missing-level",
                )
            )
        declared.add(ml.level)
