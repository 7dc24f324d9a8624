"""Writing an index atomically: a new one into a temporary file, or a copy of the existing one with only
the changed cards' rows replaced; either is fsynced and renamed over the index, so a failed, invalid or
interrupted build never leaves a half-written database and never touches the previous one."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .contract import META_TABLE, SCHEMA_VERSION
from .rows import assessment_rows, card_rows, coverage_rows, empty_rows, fingerprints, reference_rows, result_rows
from .schema import TABLES, VIEWS

if TYPE_CHECKING:
    from ..kb import KnowledgeBase
    from ..models import GuardResult


_TYPES = {"text": str, "int": int, "float": float}


def _create_tables(db) -> None:
    for spec in TABLES:
        db[spec.name].create(
            {c.name: _TYPES[c.type] for c in spec.columns},
            pk=spec.pk,
            foreign_keys=list(spec.foreign_keys) or None,
            not_null=set(spec.not_null) or None,
        )


def _create_indexes(db) -> None:
    """Secondary indexes, made after the rows are in (faster than keeping them up to date row by row)."""
    for spec in TABLES:
        for cols in spec.indexes:
            db[spec.name].create_index(list(cols), index_name=f"idx_{spec.name}_{'_'.join(cols)}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _clean_leftovers(db_path: Path) -> None:
    """Remove temporary files of builds that were killed (another process's live build is left alone)."""
    for p in db_path.parent.glob(f".{db_path.name}.*.tmp"):
        try:
            pid = int(p.name.rsplit(".", 2)[-2])
        except ValueError:
            continue
        if pid != os.getpid() and not _alive(pid):
            p.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _changed_cards(db_path: Path, ref_fp: str, card_fps: dict[str, str]) -> set[str] | None:
    """Ids of the cards whose rows differ from those in the index at ``db_path``; None when the index must be
    written anew: there is none, it is unreadable, it comes from other code or from other reference records
    or verdicts, its row counts are not the ones it was written with (someone changed it), or so many cards
    changed that a fresh write is quicker."""
    if not db_path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            meta = dict(conn.execute(f"SELECT key, value FROM [{META_TABLE}]"))
            if meta.get("reference_fingerprint") != ref_fp:
                return None
            for spec in TABLES:
                if spec.name != META_TABLE and meta.get(f"count_{spec.name}") != str(
                    conn.execute(f"SELECT count(*) FROM [{spec.name}]").fetchone()[0]
                ):
                    return None
            old = dict(conn.execute("SELECT card_id, fingerprint FROM card_fingerprints"))
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    changed = {cid for cid in old.keys() | card_fps.keys() if old.get(cid) != card_fps.get(cid)}
    return changed if len(changed) <= max(100, len(card_fps) // 4) else None


def _insert(conn, rows: dict[str, list[tuple]]) -> None:
    for spec in TABLES:
        if rows.get(spec.name):
            marks = ",".join("?" * len(spec.columns))
            conn.executemany(f"INSERT INTO [{spec.name}] VALUES ({marks})", rows[spec.name])


def _meta_rows(meta: dict[str, Any], counts: dict[str, int]) -> list[tuple]:
    everything = {
        **meta,
        "schema_version": SCHEMA_VERSION,
        **{f"count_{k}": v for k, v in counts.items() if k != META_TABLE},
    }
    return [(k, None if v is None else str(v)) for k, v in everything.items()]


def _check_consistency(conn) -> None:
    bad = conn.execute("PRAGMA foreign_key_check").fetchall()
    if bad:
        raise RuntimeError(f"index consistency: {len(bad)} foreign-key violations, first {bad[0]}")


def _unjournalled(conn) -> None:
    """A temporary file that is renamed into place only when complete needs no journal and no syncs."""
    conn.execute("PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA temp_store=MEMORY")


def _changed_fts(conn, spec, *, delete: bool) -> None:
    """Remove from (``delete``) or add to a table's FTS5 index the rows of the cards in temp.changed. The
    index keeps no copy of the text, so a removal must name the rows' current values."""
    if not spec.fts:
        return
    cols = ", ".join(f"[{c}]" for c in spec.fts)
    into, what = (
        (f"[{spec.name}_fts], rowid, {cols}", f"'delete', rowid, {cols}")
        if delete
        else (f"rowid, {cols}", f"rowid, {cols}")
    )
    conn.execute(
        f"INSERT INTO [{spec.name}_fts] ({into}) SELECT {what} FROM [{spec.name}] "
        f"WHERE [{spec.card_key}] IN (SELECT id FROM temp.changed)"
    )


def _write_all(
    tmp: Path, kb: KnowledgeBase, results: list[GuardResult], card_fps: dict[str, str], meta: dict[str, Any]
) -> dict[str, int]:
    """A new index in the empty file ``tmp``."""
    import sqlite_utils

    rows = empty_rows()
    reference_rows(kb, rows)
    card_rows(kb, kb.cards.values(), rows)
    assessment_rows(kb, rows)
    result_rows(kb, results, rows)
    coverage_rows(kb, results, rows)
    rows["card_fingerprints"] = list(card_fps.items())
    db = sqlite_utils.Database(tmp)
    conn = db.conn
    _unjournalled(conn)
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: the whole build stays in memory until the commit
    _create_tables(db)
    counts = {name: len(r) for name, r in rows.items() if name != META_TABLE}
    rows[META_TABLE] = _meta_rows(meta, counts)
    conn.execute("BEGIN")
    _insert(conn, rows)
    conn.execute("COMMIT")
    _create_indexes(db)
    for spec in TABLES:
        if spec.fts:
            db[spec.name].enable_fts(
                list(spec.fts), fts_version="FTS5", tokenize="porter unicode61", create_triggers=False
            )
    for name, (_desc, sql) in VIEWS.items():
        db.create_view(name, sql)
    _check_consistency(conn)
    conn.execute("PRAGMA analysis_limit=1000")  # statistics from samples of each index: 50x quicker, same plans here
    conn.execute("ANALYZE")
    conn.close()
    return counts


def _update(
    tmp: Path,
    kb: KnowledgeBase,
    results: list[GuardResult],
    card_fps: dict[str, str],
    changed: set[str],
    meta: dict[str, Any],
) -> dict[str, int]:
    """Bring the copy ``tmp`` of an index up to date by replacing the rows of the ``changed`` cards (and their
    full-text entries) in one transaction; the result holds the same rows as a fresh write."""
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        _unjournalled(conn)
        conn.execute("BEGIN")
        conn.execute("CREATE TEMP TABLE changed (id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO temp.changed VALUES (?)", [(c,) for c in changed])
        owned = [spec for spec in TABLES if spec.card_key]
        for spec in owned:
            _changed_fts(conn, spec, delete=True)
            conn.execute(f"DELETE FROM [{spec.name}] WHERE [{spec.card_key}] IN (SELECT id FROM temp.changed)")
        rows = empty_rows()
        card_rows(kb, [c for c in kb.cards.values() if c.id in changed], rows)
        result_rows(kb, results, rows, only=changed)
        coverage_rows(kb, results, rows, only=changed)
        rows["card_fingerprints"] = [(cid, card_fps[cid]) for cid in sorted(changed) if cid in card_fps]
        _insert(conn, rows)
        for spec in owned:
            _changed_fts(conn, spec, delete=False)
        counts = {
            spec.name: conn.execute(f"SELECT count(*) FROM [{spec.name}]").fetchone()[0]
            for spec in TABLES
            if spec.name != META_TABLE
        }
        conn.execute(f"DELETE FROM [{META_TABLE}]")
        _insert(conn, {META_TABLE: _meta_rows(meta, counts)})
        conn.execute("COMMIT")
        _check_consistency(conn)
    finally:
        conn.close()
    return counts


def write_database(
    kb: KnowledgeBase, results: list[GuardResult], db_path: Path, meta: dict[str, Any], *, full: bool = False
) -> tuple[dict[str, int], int | None]:
    """Write the index of a valid knowledge base to ``db_path`` atomically: (row counts per table, number of
    cards replaced in place, or None when the index was written anew).

    When ``db_path`` holds an index from the same code with the same reference records and verdicts, a copy
    of it is brought up to date (only the changed cards' rows are replaced) and renamed over it; otherwise,
    or with ``full``, a new one is written. Either way the result holds the same rows."""
    ref_fp, card_fps = fingerprints(kb, results)
    meta = {**meta, "reference_fingerprint": ref_fp}
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(db_path)
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        changed = None
        if not full and db_path.is_file():
            # Compare with the copy, not the original: another build may replace the original meanwhile.
            shutil.copyfile(db_path, tmp)
            changed = _changed_cards(tmp, ref_fp, card_fps)
            if changed is None:
                tmp.unlink()
        if changed is None:
            counts = _write_all(tmp, kb, results, card_fps, meta)
        else:
            counts = _update(tmp, kb, results, card_fps, changed, meta)
        _fsync(tmp)
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts, None if changed is None else len(changed)
