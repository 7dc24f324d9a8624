"""Recorded guard verdicts: checks/<guard-id>.jsonl, one GuardResult per line, append-only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from ..models import GuardResult
from ..problems import Problem, display_path


def result_files(root: Path) -> list[Path]:
    folder = root / "checks"
    return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []


def iter_results(root: Path) -> Iterator[tuple[str, int, GuardResult | None, Problem | None]]:
    """Every recorded result with its file and line; a bad line yields a located problem instead."""
    for path in result_files(root):
        shown = display_path(path, root)
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield shown, lineno, GuardResult.model_validate(json.loads(line)), None
                except (json.JSONDecodeError, ValidationError) as exc:
                    msg = str(exc).splitlines()[0]
                    yield shown, lineno, None, Problem(shown, lineno, 1, f"not a guard result record: {msg}", "guard-result")


def read_results(root: Path) -> tuple[list[GuardResult], list[Problem]]:
    """All recorded results (the index stores them) and the problems found reading them."""
    results, problems = [], []
    for _shown, _line, result, problem in iter_results(root):
        if result is not None:
            results.append(result)
        if problem is not None:
            problems.append(problem)
    return results, problems
