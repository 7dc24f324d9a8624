"""The append-only logs: assessments/<id>/log/<card-id>.jsonl, one LogEntry a line.

Every line is written whole and flushed before the next request is counted as done, so a killed process
loses at most the requests in flight. A writer opening a file cuts off a partial last line (the remains of
a write that was cut off); nothing else is ever rewritten.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import random
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..guards.hashing import canonical_json, sha256_text
from ..models import LogEntry

SCHEMA = "riskcards.assessment-log/1"


_ids = random.Random(secrets.randbits(128))


def new_id() -> str:
    """A 12-hex-digit entry id: unique, not secret (os.urandom per entry cost 6 % of a batch run's main thread)."""
    return f"{_ids.getrandbits(48):012x}"


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_path(folder: Path, card: str) -> Path:
    return Path(folder) / "log" / f"{card}.jsonl"


def batch_key(target: dict[str, Any], params: dict[str, Any], messages: list[dict[str, str]]) -> str:
    """What decides an answer, and nothing about the run: the model (name, revision, transport), the
    parameters and the messages. The server's address is left out, so shards on several servers share it."""
    body = {
        "model": target["model_name"],
        "revision": target.get("revision"),
        "transport": target["transport"],
        "params": params,
        "messages": messages,
    }
    return "sha256:" + sha256_text(canonical_json(body))


def make_entry(**fields: Any) -> LogEntry:
    fields.setdefault("id", new_id())
    fields.setdefault("at", now())
    return LogEntry.model_validate({"schema": SCHEMA, **fields})


def dump_line(entry: LogEntry) -> str:
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


def _sync_close(fh: Any) -> None:
    try:
        os.fsync(fh.fileno())
    finally:
        fh.close()


class LogWriter:
    """Appends entries to the per-card logs of one assessment folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._files: dict[str, Any] = {}
        self._dirty: set[str] = set()
        self._made = False
        self._pool: ThreadPoolExecutor | None = None
        self._syncing: list[Future[None]] = []

    def _file(self, card: str):
        fh = self._files.get(card)
        if fh is None:
            path = log_path(self.folder, card)
            if not self._made:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._made = True
            if path.is_file():
                with path.open("rb+") as raw:
                    data = raw.read()
                    if data and not data.endswith(b"\n"):
                        raw.truncate(data.rfind(b"\n") + 1)
            fh = self._files[card] = path.open("a", encoding="utf-8")
        return fh

    def write(self, entry: LogEntry, *, flush: bool = True) -> None:
        fh = self._file(entry.card)
        fh.write(dump_line(entry))
        if flush:
            fh.flush()
        else:
            self._dirty.add(entry.card)

    def flush(self) -> None:
        """Hand every line written since the last flush to the operating system (a killed process keeps them)."""
        for card in self._dirty:
            self._files[card].flush()
        self._dirty.clear()

    def finish(self, card: str) -> None:
        """A card's last entry is written: flush its log now, then fsync and close it in the background while
        the other cards' requests go on (a batch run otherwise waited for every card's fsync at the end)."""
        fh = self._files.pop(card, None)
        self._dirty.discard(card)
        if fh is None or fh.closed:
            return
        fh.flush()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="log-sync")
        self._syncing.append(self._pool.submit(_sync_close, fh))

    def close(self) -> None:
        """Flush, then fsync every file written (concurrently: the file system commits them together; one after
        the other, 300 logs took 1.4 s), and close. Waits for the cards already handed to finish()."""
        open_files = [fh for fh in self._files.values() if not fh.closed]
        for fh in open_files:
            fh.flush()
        try:
            if len(open_files) > 1:
                with ThreadPoolExecutor(max_workers=min(16, len(open_files))) as pool:
                    list(pool.map(_sync_close, open_files))
            elif open_files:
                _sync_close(open_files[0])
        finally:
            for done in self._syncing:
                done.result()
            if self._pool is not None:
                self._pool.shutdown()
            self._pool, self._syncing = None, []
            self._files.clear()
            self._dirty.clear()

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
