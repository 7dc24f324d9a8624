"""The base layer: the taxonomies, crosswalks, harm-type vocabulary, models and scenarios that ship with the
package (``riskcards/data/base/``, package data: links to this repository's own folders, copied into the wheel).

A repository that keeps only its own cards (and perhaps a few records of its own) validates, indexes and
publishes against that layer: its own record files add to it, and one with the same folder and file name as
a base record (so the same id) overrides it; its own ``vocab/harm-types.yaml`` replaces the base vocabulary.

Whether the layer is used: ``base: true`` or ``base: false`` in ``knowledge-base.yaml`` at the root says so;
without that setting, it is used when the root has no ``vocab/`` folder (no harm-type vocabulary) of its own:
a knowledge base that brings its own vocabulary, like this repository or its test fixtures, is complete by
itself. Base records are
shown as ``<riskcards>/<folder>/<file>`` in messages; they are valid as shipped.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent / "data" / "base"
KINDS = {
    "taxonomies": "taxonomy",
    "taxonomies/crosswalks": "crosswalk",
    "scenarios": "scenario",
    "models": "model",
    "vocab": "harm-types",
}
SHOWN_PREFIX = "<riskcards>/"
SUFFIXES = (".yaml", ".yml")


def enabled(root: Path) -> bool:
    """Whether the knowledge base at ``root`` is read on top of the base layer."""
    from .policy import read_policy

    setting = read_policy(Path(root)).get("base")
    if isinstance(setting, bool):
        return setting
    return not (Path(root) / "vocab").is_dir()


def is_base(shown: str) -> bool:
    return shown.startswith(SHOWN_PREFIX)


def items(root: Path, own: set[str]) -> list[tuple[Path, str, str]]:
    """The base records the knowledge base at ``root`` does not override, as (path, shown path, kind).
    ``own`` holds the root-relative shown paths of the knowledge base's own record files."""
    if not enabled(root) or not BASE_DIR.is_dir():
        return []
    own_stems = {shown.rsplit(".", 1)[0] for shown in own}
    own_vocab = any(s.startswith("vocab/") for s in own)
    out: list[tuple[Path, str, str]] = []
    for sub, kind in KINDS.items():
        folder = BASE_DIR / sub
        if not folder.is_dir() or (kind == "harm-types" and own_vocab):
            continue
        for name in sorted(e.name for e in os.scandir(folder) if e.name.endswith(SUFFIXES) and e.is_file()):
            rel = f"{sub}/{name}"
            if rel.rsplit(".", 1)[0] in own_stems:
                continue
            out.append((folder / name, SHOWN_PREFIX + rel, kind))
    return out


def record_files(root: Path, folder: str) -> dict[str, Path]:
    """id -> file of every record in one record folder (``taxonomies``, ``scenarios``, ...): the knowledge
    base's own, and the base layer's where it is used and not overridden."""
    root = Path(root)
    out: dict[str, Path] = {}
    if folder in KINDS and enabled(root) and (BASE_DIR / folder).is_dir():
        out |= {p.stem: p for p in (BASE_DIR / folder).iterdir() if p.suffix in SUFFIXES and p.is_file()}
    if (root / folder).is_dir():
        out |= {p.stem: p for p in (root / folder).iterdir() if p.suffix in SUFFIXES and p.is_file()}
    return out
