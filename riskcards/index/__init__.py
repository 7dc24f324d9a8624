"""The SQLite index: validated knowledge base -> SQLite file (sqlite-utils) -> riskcards.query.

    KnowledgeBase (validated) + recorded guard verdicts -> rows (rows.py) -> atomic write (write.py)

``build(root, db_path)`` validates the knowledge base and, only when it is clean, writes the index: anew,
or, when only cards changed since the existing index was built, by replacing those cards' rows in a copy
of it. The schema is described once (``schema.py``: ``TABLES`` and ``VIEWS``); the tables, indexes, the
Datasette metadata and the schema documentation page all come from that description.

Public API:
    build(root, db_path=None, *, metadata=True, full=False, cache=None) -> BuildReport
                                                                   raises IndexProblems on a bad KB
    ensure_current(root, db_path=None, *, cache=None) -> BuildReport | None
                                                                   rebuild only when stale (the one rule)
    contract (module): SCHEMA_VERSION, META_TABLE, source_fingerprint, is_stale - what the query layer reads
    write_database(kb, results, db_path, meta, *, full=False)      the atomic write of a valid KB
    fingerprints(kb, results)                                      what tells changed cards apart
    default_db_path(root) -> Path                                  <root>/build/riskcards.db
    datasette_metadata() -> dict, metadata_path(db_path), schema_markdown()
    SCHEMA_VERSION, TABLES, VIEWS
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..paths import write_atomic
from .contract import SCHEMA_VERSION, default_db_path, is_stale, source_fingerprint

if TYPE_CHECKING:
    from ..problems import Problem
    from ..validate import RecordCache
    from .rows import fingerprints
    from .schema import TABLES, VIEWS, datasette_metadata, metadata_path, schema_markdown
    from .write import write_database

_LAZY = {
    "fingerprints": "rows",
    "TABLES": "schema",
    "VIEWS": "schema",
    "datasette_metadata": "schema",
    "metadata_path": "schema",
    "schema_markdown": "schema",
    "write_database": "write",
}


def __getattr__(name: str):
    """The writing side (rows, schema, write) is imported on first use: reading the contract
    (``riskcards.index.contract``) from a query process must not pay for it."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "VIEWS",
    "BuildReport",
    "IndexProblems",
    "build",
    "datasette_metadata",
    "default_db_path",
    "ensure_current",
    "fingerprints",
    "is_stale",
    "metadata_path",
    "schema_markdown",
    "write_database",
]


class IndexProblems(Exception):
    """The knowledge base has problems; no database was written. ``problems`` are located."""

    def __init__(self, problems: list[Problem], checked: int) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems
        self.checked = checked


@dataclass
class BuildReport:
    db_path: Path
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    metadata_path: Path | None = None
    updated: int | None = None
    """Cards whose rows were replaced in an existing index; None when the index was written anew."""


def _git_commit(root: Path) -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def build(
    root: Path,
    db_path: Path | None = None,
    *,
    metadata: bool = True,
    full: bool = False,
    cache: RecordCache | None = None,
) -> BuildReport:
    """Validate the knowledge base at ``root`` and index it into ``db_path`` (default: build/riskcards.db).

    Raises ``IndexProblems`` (and writes nothing) when any record or recorded guard verdict has a problem.
    An existing index is updated in place when only cards changed (``full`` writes it anew); ``cache`` is a
    ``riskcards.validate.RecordCache`` kept by a long-running caller, so unchanged files are not parsed again.
    """
    from ..guards.store import read_results
    from ..validate import validate

    t0 = time.perf_counter()
    root = Path(root)
    db_path = Path(db_path) if db_path else default_db_path(root)
    fingerprint = source_fingerprint(root)  # before reading, so an edit during the build counts as newer
    result = validate(root, cache=cache)
    results, result_problems = read_results(root)
    # validate reports the checks/ problems too; stale verdicts are historical records the index keeps (with
    # their input_status), so validate reports them and `riskcards guard prune` removes them, the build does not fail
    problems = sorted({p for p in (*result.problems, *result_problems) if p.check != "guard-stale"})
    if problems:
        raise IndexProblems(sorted(problems), result.checked)
    from .. import __version__

    meta = {
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source_commit": _git_commit(root),
        "source_root": str(root.resolve()),
        "source_fingerprint": fingerprint,
        "riskcards_version": __version__,
    }
    from .schema import datasette_metadata, metadata_path
    from .write import write_database

    counts, updated = write_database(result.kb, results, db_path, meta, full=full)
    mpath = None
    if metadata:
        mpath = metadata_path(db_path)
        write_atomic(mpath, json.dumps(datasette_metadata(db_path.stem), indent=2, ensure_ascii=False) + "\n")
    return BuildReport(
        db_path=db_path, seconds=time.perf_counter() - t0, counts=counts, metadata_path=mpath, updated=updated
    )


def ensure_current(
    root: Path, db_path: Path | None = None, *, cache: RecordCache | None = None, before=None
) -> BuildReport | None:
    """The one rebuild-when-stale rule: build the index at ``db_path`` (default: build/riskcards.db) when it
    is missing or was built from other source files, else leave it. Returns the report of a rebuild, or
    None when the index was current; ``before(db_path)`` is called before a rebuild. Raises
    ``IndexProblems`` (and keeps the old index) on a broken
    knowledge base. The CLI's default index and the site plugin both go through here; an index named
    explicitly (``--db``) is read as it is and never passes through here."""
    db_path = Path(db_path) if db_path else default_db_path(root)
    if not is_stale(root, db_path):
        return None
    if before is not None:
        before(db_path)  # e.g. the CLI says why a query waits
    return build(root, db_path, cache=cache)
