"""Recorded guard verdicts: checks/<guard-id>.jsonl, one GuardResult per line, append-only."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from ..models import GuardResult
from ..problems import Problem, display_path
from .secrets import scrub_data


def result_files(root: Path) -> list[Path]:
    folder = root / "checks"
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def iter_results(
    root: Path, *, only: Path | None = None
) -> Iterator[tuple[str, int, GuardResult | None, Problem | None]]:
    """Every recorded result with its file and line (of one file with ``only``); a bad line yields a located
    problem instead."""
    for path in [only] if only is not None else result_files(root):
        shown = display_path(path, root)
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    result = GuardResult.model_validate(scrub_data(json.loads(line)))
                except (json.JSONDecodeError, ValidationError) as exc:
                    msg = str(exc).splitlines()[0]
                    yield (
                        shown,
                        lineno,
                        None,
                        Problem(shown, lineno, 1, f"not a guard result record: {msg}", "guard-result"),
                    )
                    continue
                if result.run.source != "live":
                    why = (
                        f"a verdict from a test double (run.source '{result.run.source}'); "
                        "checks/ holds only live verdicts, remove this line"
                    )
                    yield shown, lineno, None, Problem(shown, lineno, 1, why, "guard-result")
                    continue
                yield shown, lineno, result, None


def read_results(root: Path) -> tuple[list[GuardResult], list[Problem]]:
    """All recorded results (the index stores them) and the problems found reading them."""
    results, problems = [], []
    for _shown, _line, result, problem in iter_results(root):
        if result is not None:
            results.append(result)
        if problem is not None:
            problems.append(problem)
    return results, problems


# --------------------------------------------------------------------------------------------------
# Writing (used by the guard runner and `riskcards guard import`)
# --------------------------------------------------------------------------------------------------


def result_path(folder: Path, guard_id: str) -> Path:
    """Where a guard's verdicts live: <folder>/<guard-id>.jsonl."""
    return folder / f"{guard_id}.jsonl"


def is_checks_folder(folder: Path) -> bool:
    """Whether ``folder`` is a knowledge base's checks/ (only live verdicts may be written there)."""
    folder = Path(folder).resolve()
    return folder.name == "checks" and (folder.parent / "cards").is_dir()


def read_file(path: Path) -> list[GuardResult]:
    """Every valid record of one results file, in file order (stub records included; bad lines skipped).

    A last line without a newline is the remains of an interrupted write and is ignored."""
    if not path.is_file():
        return []
    out: list[GuardResult] = []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]
    for line in lines:
        if not line.strip():
            continue
        try:
            out.append(GuardResult.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError):
            continue
    return out


def dump_line(result: GuardResult, secrets: tuple[str, ...] = ()) -> str:
    """One record as a JSONL line (keys in model order, UTF-8 kept), with every secret scrubbed from it
    (riskcards.guards.secrets: the ``secrets`` given, key-like environment values, token-shaped strings)."""
    data = scrub_data(result.model_dump(mode="json", by_alias=True), secrets)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"


class Appender:
    """Append-only writer for one results file that survives interruption.

    Opening cuts off a partial last line left by a killed writer (it can never be a complete record).
    Each record is one line; ``write`` flushes it at once unless the caller batches (``flush=False`` then
    ``flush()``), so a record is either fully on disk or absent."""

    def __init__(self, path: Path, *, secrets: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.secrets = tuple(secrets)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair()
        self._fh = self.path.open("a", encoding="utf-8")

    def _repair(self) -> None:
        if not self.path.is_file():
            return
        with self.path.open("rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)

    def write(self, result: GuardResult, *, flush: bool = True) -> None:
        self._fh.write(dump_line(result, self.secrets))
        if flush:
            self._fh.flush()

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> Appender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
