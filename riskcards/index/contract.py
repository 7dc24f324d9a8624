"""The database contract: what every RiskCards index holds about itself, and how to tell it is current.

The index writes it (``riskcards.index.write``), the query layer reads it (``riskcards.query.connect``
refuses another schema version; ``is_stale`` decides a rebuild). Standard library only, so that a query
process that imports it stays fast.

    SCHEMA_VERSION        the version of the tables and views (``riskcards.index.schema``); bumped on any change
    META_TABLE            the key/value table of facts about the build; its keys:
                            schema_version, built_at, source_commit, source_root, riskcards_version,
                            source_fingerprint (below), reference_fingerprint (everything that is not one card,
                            and the indexer's code), count_<table> (the row count each table was written with)
    CARD_FINGERPRINTS     the table of one fingerprint per card (path + sha1 of its data as read)
    DEFAULT_DB            <root>/build/riskcards.db
    SOURCE_DIRS           the folders whose files the index is built from (and assessments/<id>/{., findings, log})
    source_fingerprint()  a cheap summary (count, mtimes, sizes) of those files: stored at build time
    is_stale()            True when the index is missing, unreadable, of another schema version, or built from
                          other source files
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..paths import ASSESSMENTS

SCHEMA_VERSION = 7
META_TABLE = "meta"
CARD_FINGERPRINTS = "card_fingerprints"
SOURCE_DIRS = ("cards", "taxonomies", "taxonomies/crosswalks", "scenarios", "models", "vocab", "checks", "incidents")
ASSESSMENT_SUBDIRS = ("", "findings", "log")
"""assessments/<id>/{assessment.yaml, findings/*.yaml, log/*.jsonl}: one level deeper than SOURCE_DIRS."""
SOURCE_SUFFIXES = (".yaml", ".yml", ".jsonl")
DEFAULT_DB = ("build", "riskcards.db")


def default_db_path(root: Path | str) -> Path:
    return Path(root).joinpath(*DEFAULT_DB)


def source_fingerprint(root: Path | str) -> str:
    """A cheap summary of every source file: count, newest mtime, and sums of mtimes and sizes.

    Any added, removed, renamed or edited file (and any change of a folder) changes it."""
    count = newest = total = size = 0
    folders = list(SOURCE_DIRS)
    try:
        with os.scandir(os.path.join(root, ASSESSMENTS)) as it:
            ids = sorted(e.name for e in it if e.is_dir() and not e.name.startswith("."))
        folders.append(ASSESSMENTS)
        folders += [os.path.join(ASSESSMENTS, i, sub) for i in ids for sub in ASSESSMENT_SUBDIRS]
    except OSError:
        pass
    for sub in folders:
        folder = os.path.join(root, sub)
        try:
            st = os.stat(folder)
        except OSError:
            continue
        newest = max(newest, st.st_mtime_ns)
        total += st.st_mtime_ns
        with os.scandir(folder) as it:
            for entry in it:
                if not entry.name.endswith(SOURCE_SUFFIXES):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                count += 1
                newest = max(newest, st.st_mtime_ns)
                total += st.st_mtime_ns
                size += st.st_size
    return f"{count}:{newest}:{total}:{size}"


def stored_meta(db_path: Path | str, key: str) -> str | None:
    """One value of the index's meta table, or None when the file is missing or not an index."""
    if not os.path.exists(db_path):
        return None
    try:
        conn = sqlite3.connect(f"file:{Path(db_path).resolve().as_posix()}?mode=ro", uri=True)
        try:
            row = conn.execute(f"SELECT value FROM {META_TABLE} WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def is_stale(root: Path | str, db_path: Path | str) -> bool:
    """True when the index at ``db_path`` is missing, unreadable, was built by a riskcards with another
    schema version, or was built from other source files."""
    if stored_meta(db_path, "schema_version") != str(SCHEMA_VERSION):
        return True
    stored = stored_meta(db_path, "source_fingerprint")
    return stored is None or stored != source_fingerprint(root)
