"""The verified bibliography: the works that mitigations and evaluations on cards may cite, by key.

``riskcards/data/bibliography.yaml`` is a copy of the project's verified reference list (every work checked
to exist with the identifier given). It ships with the package, so validation reads it without network
access and without the reference folder beside the repository. A citation names a work by its ``key``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

PATH = Path(__file__).parent / "data" / "bibliography.yaml"


@functools.cache
def works() -> dict[str, dict]:
    """Every verified work by key: title, authors, year, venue, url, doi, topics."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with PATH.open(encoding="utf-8") as f:
        items = yaml.load(f, Loader=loader) or []
    return {w["key"]: w for w in items}


def link(key: str) -> str | None:
    """Where to read a work: its url, else its DOI resolved; None for an unknown key."""
    w = works().get(key)
    if w is None:
        return None
    return w.get("url") or (f"https://doi.org/{w['doi']}" if w.get("doi") else None)
