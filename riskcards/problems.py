"""Located problems and how they are printed (text, JSON, GitHub workflow annotations)."""

from __future__ import annotations

import json
import re
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

    def __post_init__(self) -> None:
        # Paths, messages and check names echo file names, keys and values. Control characters and line
        # breaks in them are written as visible escapes here, once, so no output format (text, JSON,
        # GitHub annotations) can print a raw escape sequence or forge a second problem line.
        for name in ("path", "message", "check"):
            value = getattr(self, name)
            if _UNSAFE.search(value):
                object.__setattr__(self, name, escape_controls(value))

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"

    def github(self) -> str:
        # https://docs.github.com/actions/reference/workflow-commands-for-github-actions#setting-an-error-message
        msg = _gh_escape_data(self.message)
        return (
            "::error "
            f"file={_gh_escape_prop(self.path)},line={self.line},col={self.col},title={_gh_escape_prop(self.check)}::{msg}"
        )


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1) and line or paragraph separator written as a
    visible escape such as ``\\n`` or ``\\x1b``, so it prints on one line and changes no terminal state."""
    return _UNSAFE.sub(_escape_one, text)


def _escape_one(m: re.Match) -> str:
    ch = m.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


PER_FILE = 100
"""At most this many problems are shown for one file; the rest are counted in one last line."""
MORE = "more-problems"
_LAST_LINE = 2**31


def more_problems(path: str, count: int) -> Problem:
    """The line that stands for ``count`` problems of a file that are not shown (sorted after the others)."""
    return Problem(
        path,
        _LAST_LINE,
        1,
        f"and {count} more problem{'s' * (count != 1)} in this file, not shown; fix the ones above first",
        MORE,
    )


def cap_per_file(problems: list[Problem], limit: int = PER_FILE) -> list[Problem]:
    """Sorted problems with at most ``limit`` shown per file, the rest counted in one line per file."""
    shown: dict[str, list[Problem]] = {}
    hidden: dict[str, int] = {}
    for p in sorted(problems):
        if p.check == MORE:
            hidden[p.path] = hidden.get(p.path, 0) + hidden_count(p)
            continue
        kept = shown.setdefault(p.path, [])
        if len(kept) < limit:
            kept.append(p)
        else:
            hidden[p.path] = hidden.get(p.path, 0) + 1
    for path, count in hidden.items():
        kept = shown.setdefault(path, [])
        last = kept[-1] if kept else Problem(path, 1, 0, "")
        kept.append(Problem(path, last.line, last.col + 1, more_problems(path, count).message, MORE))
    return sorted(p for kept in shown.values() for p in kept)


def hidden_count(problem: Problem) -> int:
    """How many problems a 'more problems' line stands for (0 for any other problem)."""
    return int(problem.message.split()[1]) if problem.check == MORE else 0


def display_path(path: Path | str, root: Path | None = None) -> str:
    """A path as the user should see it: relative to the root (or cwd) when it lies below it. A symbolic link
    is shown where it is, not where it points (a link to /dev/zero in checks/ is checks/x.jsonl)."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    here = p.parent.resolve() / p.name  # resolve the folders, not the file itself
    for base in (root, Path.cwd()):
        if base is None:
            continue
        try:
            return here.relative_to(base.resolve()).as_posix()
        except ValueError:
            continue
    return p.as_posix()


def render(problems: list[Problem], fmt: str, checked: int) -> str:
    problems = sorted(problems)
    if fmt == "json":
        return json.dumps(
            {
                "files_checked": checked,
                "problem_count": sum(hidden_count(p) or 1 for p in problems),
                "problems": [asdict(p) for p in problems],
            },
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "github":
        return "\n".join(p.github() for p in problems)
    lines = [p.text() for p in problems]
    files = len({p.path for p in problems})
    total = sum(hidden_count(p) or 1 for p in problems)
    if problems:
        lines.append(f"{total} problem{'s' * (total != 1)} in {files} file{'s' * (files != 1)} ({checked} checked)")
    else:
        lines.append(f"ok: {checked} files checked, no problems")
    return "\n".join(lines)
