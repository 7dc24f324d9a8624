"""Recorded guard verdicts: checks/<guard-id>.jsonl, one GuardResult per line, append-only."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..models import GuardResult
from ..problems import Problem, display_path
from . import tiers
from .secrets import scrub_data


def result_files(root: Path) -> list[Path]:
    folder = root / "checks"
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


MAX_FILE_BYTES = 256_000_000  # a results file; ~100,000 verdicts are about 100 MB
MAX_LINE_BYTES = 1_000_000  # one record; a verdict with the guard's raw answer is a few kB


def lines(path: Path, shown: str) -> Iterator[tuple[int, str | None, Problem | None]]:
    """(line number, text, None) for every non-empty line of a results file, or (line, None, problem) for a
    line that cannot be read as text: not UTF-8, a NUL, longer than MAX_LINE_BYTES. A file that is not a
    regular file (a FIFO, a device), or is larger than MAX_FILE_BYTES, is one problem on line 1, refused
    without reading it (riskcards.load.read_regular), so nothing hangs or reads without end."""
    from ..load import read_regular

    raw, problem = read_regular(
        path, shown, max_bytes=MAX_FILE_BYTES, what="a results file", plain="a plain .jsonl file"
    )
    if raw is None:
        if problem is not None:
            yield 1, None, problem
        return
    for lineno, chunk in enumerate(raw.split(b"\n"), 1):
        if lineno == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        if not chunk.strip():
            continue
        if len(chunk) > MAX_LINE_BYTES:
            why = f"line is {len(chunk) / 1e6:.1f} MB; a guard result is at most {MAX_LINE_BYTES / 1e6:.0f} MB"
            yield lineno, None, Problem(shown, lineno, 1, why, "guard-result")
            continue
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            why = f"byte 0x{chunk[exc.start]:02x} is not UTF-8; results files are UTF-8"
            yield lineno, None, Problem(shown, lineno, exc.start + 1, why, "encoding")
            continue
        if "\x00" in text:
            yield lineno, None, Problem(shown, lineno, text.index("\x00") + 1, "NUL character in the line", "encoding")
            continue
        yield lineno, text, None


def parse_line(text: str) -> tuple[Any, str | None]:
    """(JSON value, None), or (None, why it is not JSON); never raises, however deep or large the value."""
    try:
        return json.loads(text), None
    except RecursionError:
        return None, "invalid JSON: nested too deeply"
    except ValueError as exc:  # JSONDecodeError, and integers beyond Python's digit limit
        return None, f"invalid JSON: {str(exc).splitlines()[0][:200]}"


def _schema_error(exc: ValidationError) -> str:
    """The first schema error as 'where: what' (the path's keys are scrubbed, the value is never shown)."""
    err = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "the line"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {err['msg']}{more}"


def iter_results(
    root: Path, *, only: Path | None = None
) -> Iterator[tuple[str, int, GuardResult | None, Problem | None]]:
    """Every recorded result with its file and line (of one file with ``only``); a bad line yields a located
    problem instead."""
    for path in [only] if only is not None else result_files(root):
        shown = display_path(path, root)
        for lineno, line, problem in lines(path, shown):
            if line is None:
                yield shown, lineno, None, problem
                continue
            data, why = parse_line(line)
            if why is None:
                try:
                    result = GuardResult.model_validate(scrub_data(data))
                except (ValidationError, RecursionError) as exc:
                    why = _schema_error(exc) if isinstance(exc, ValidationError) else "nested too deeply"
            if why is not None:
                yield (
                    shown,
                    lineno,
                    None,
                    Problem(shown, lineno, 1, f"not a guard result record: {why}", "guard-result"),
                )
                continue
            if result.run.source != "live":
                why = (
                    f"a verdict from a test double (run.source '{result.run.source}'); "
                    "checks/ holds only live verdicts, remove this line"
                )
                yield shown, lineno, None, Problem(shown, lineno, 1, why, "guard-result")
                continue
            why = tiers.problem(result)
            if why:
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
    if data["verdict"].get("tier") is None:  # only tiered guards have one; other records stay as they were
        data["verdict"].pop("tier", None)
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
