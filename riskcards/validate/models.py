"""Checks of a model record: guard sections, their taxonomy, URL and release date."""

from __future__ import annotations

from .. import ids
from ..kb import KnowledgeBase
from ..models import Model
from .common import Files, date_of, url_problem


def check(kb: KnowledgeBase, model: Model, shown: str, files: Files, add) -> None:
    if model.kind in ("guard-model", "classifier") and model.guard is None:
        add(
            files.at(
                shown,
                ("kind",),
                f"a {model.kind} needs a 'guard' section naming the taxonomy of its categories",
                "model",
            )
        )
    if model.kind == "language-model" and model.guard is not None:
        add(
            files.at(
                shown,
                ("guard",),
                "only guard models and classifiers have a 'guard' section; set kind: guard-model",
                "model",
            )
        )
    if model.guard is not None and model.guard.taxonomy not in kb.taxonomies:
        add(
            files.at(
                shown,
                ("guard", "taxonomy"),
                f"unknown taxonomy '{model.guard.taxonomy}'{ids.did_you_mean(model.guard.taxonomy, kb.taxonomies)}",
                "unknown-taxonomy",
            )
        )
    if model.url is not None and (why := url_problem(model.url)):
        add(files.at(shown, ("url",), f"URL {why}", "url"))
    if model.released is not None and date_of(model.released) is None:
        add(files.at(shown, ("released",), f"'{model.released}' is not a real date", "date"))
