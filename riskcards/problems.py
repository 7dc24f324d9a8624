"""Located problems and how they are printed (text, JSON, GitHub workflow annotations)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one file: ``path:line:col: message``. Lines and columns count from 1."""

    path: str
    line: int
    col: int
    message: str
    check: str = "error"
    """A short name of the failed check (e.g. 'yaml-syntax', 'schema', 'unknown-code'), for filtering."""

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"

    def github(self) -> str:
        # https://docs.github.com/actions/reference/workflow-commands-for-github-actions#setting-an-error-message
        msg = _gh_escape_data(self.message)
        return f"::error file={_gh_escape_prop(self.path)},line={self.line},col={self.col},title={_gh_escape_prop(self.check)}::{msg}"


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


def display_path(path: Path | str, root: Path | None = None) -> str:
    """A path as the user should see it: relative to the root (or cwd) when it lies below it."""
    p = Path(path)
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return p.resolve().relative_to(base.resolve()).as_posix() if p.is_absolute() else p.as_posix()
        except ValueError:
            continue
    return p.as_posix()


def render(problems: list[Problem], fmt: str, checked: int) -> str:
    problems = sorted(problems)
    if fmt == "json":
        return json.dumps(
            {"files_checked": checked, "problem_count": len(problems), "problems": [asdict(p) for p in problems]},
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "github":
        return "\n".join(p.github() for p in problems)
    lines = [p.text() for p in problems]
    files = len({p.path for p in problems})
    if problems:
        lines.append(
            f"{len(problems)} problem{'s' * (len(problems) != 1)} in {files} file{'s' * (files != 1)} ({checked} checked)"
        )
    else:
        lines.append(f"ok: {checked} files checked, no problems")
    return "\n".join(lines)
