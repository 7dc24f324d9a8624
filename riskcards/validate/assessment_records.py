"""Reading an assessment folder and checking it: every problem located, never a traceback.

    assessments/<id>/assessment.yaml        the Assessment record
    assessments/<id>/findings/<card>.yaml   one Finding per judged card
    assessments/<id>/log/<card>.jsonl       LogEntry lines, append-only

``load(root, folder, kb)`` returns the folder's valid records and every problem: schema problems at
``path:line:col`` (the same messages as for cards), then the checks across records, which live with the
other checks in ``riskcards.validate.assessments``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..load import load_file
from ..locate import Locator
from ..models import Assessment, Finding, LogEntry
from ..paths import ASSESSMENT_RECORD as RECORD
from ..paths import assessments_root
from ..problems import Problem, display_path
from .assessments import check
from .common import located
from .messages import _data_path, schema_message


@dataclass
class Folder:
    """One assessment as read: its records (valid ones only) and where they came from."""

    dir: Path
    shown: str
    """Shown path of assessment.yaml."""
    assessment: Assessment | None = None
    findings: dict[str, Finding] = field(default_factory=dict)
    finding_paths: dict[str, str] = field(default_factory=dict)
    logs: dict[str, list[LogEntry]] = field(default_factory=dict)
    log_lines: dict[str, dict[str, int]] = field(default_factory=dict)
    """card -> entry id -> line number, for locating problems."""
    problems: list[Problem] = field(default_factory=list)
    """Every problem found when it was read (with the checks against the knowledge base it was read with)."""

    @property
    def id(self) -> str:
        return self.dir.name

    def entries(self) -> dict[str, LogEntry]:
        return {e.id: e for entries in self.logs.values() for e in entries}


def folders(root: Path) -> list[Path]:
    base = assessments_root(root)
    if not base.is_dir():
        return []
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


def _schema(shown: str, text: str, data: Any, model: type[BaseModel], exc: ValidationError) -> list[Problem]:
    loc = Locator(text)
    out = []
    for err in exc.errors(include_url=False):
        path = _data_path(data, err["loc"])
        message, at_key = schema_message(err, model, data, path)
        line, col = loc.key_of_parent(path[:-1]) if err["type"] == "missing" else loc.find(path, key=at_key)
        out.append(Problem(shown, line, col, message, "schema"))
    return out


def _yaml_record(path: Path, root: Path, model: type[BaseModel], kind: str):
    """(record or None, text, problems) for one YAML record file."""
    rec = load_file(path, root, kind=kind)
    if rec.payload is None:
        return None, rec.text or "", rec.problems
    try:
        return model.model_validate_json(rec.payload), rec.text or "", rec.problems
    except ValidationError as exc:
        return None, rec.text or "", rec.problems + _schema(rec.shown, rec.text or "", rec.data, model, exc)


def read_log(path: Path, shown: str) -> tuple[list[tuple[int, LogEntry]], list[Problem]]:
    """Every valid entry of one log file with its line number, and a located problem for each bad line.

    A last line without a newline is the remains of a write that was cut off (a killed process): it is
    ignored, and the next writer cuts it away."""
    entries: list = []
    problems: list[Problem] = []
    if not path.is_file():
        return entries, problems
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:  # the common case in one step (parsing and validating together: ~2x faster over 10,000 lines)
            entries.append((lineno, LogEntry.model_validate_json(line)))
            continue
        except ValueError:
            pass  # read it again below for a located message
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(shown, lineno, exc.colno, f"not a JSON line: {exc.msg}", "assessment-log"))
            continue
        try:
            entries.append((lineno, LogEntry.model_validate(data)))
        except ValidationError as exc:
            for err in exc.errors(include_url=False)[:5]:
                where = ".".join(str(p) for p in err["loc"]) or "entry"
                problems.append(Problem(shown, lineno, 1, f"'{where}': {err['msg']}", "assessment-log"))
    return entries, problems


def load(root: Path, folder: Path, kb: Any = None, *, logs: bool = True) -> tuple[Folder, list[Problem]]:
    """The assessment in ``folder`` and every problem in it (the checks across records need ``kb``)."""
    root = Path(root)
    folder = Path(folder)
    rec_path = folder / RECORD
    out = Folder(dir=folder, shown=display_path(rec_path, root))
    problems: list[Problem] = []
    if not rec_path.is_file():
        problems.append(Problem(out.shown, 1, 1, "no assessment record; start one with `riskcards assess new`", "file"))
        out.problems = problems
        return out, problems
    out.assessment, text, own = _yaml_record(rec_path, root, Assessment, "assessment")
    problems += own
    texts = {out.shown: text}
    fdir = folder / "findings"
    if fdir.is_dir():
        for p in sorted(fdir.glob("*.y*ml")):
            finding, ftext, own = _yaml_record(p, root, Finding, "finding")
            shown = display_path(p, root)
            texts[shown] = ftext
            problems += own
            if finding is not None:
                if finding.card != p.stem:
                    problems.append(
                        located(
                            shown,
                            ftext,
                            ("card",),
                            f"card '{finding.card}' differs from the file name "
                            f"'{p.name}'; a finding lives in findings/<card-id>.yaml",
                            "file-name",
                        )
                    )
                out.findings[finding.card] = finding
                out.finding_paths[finding.card] = shown
    ldir = folder / "log"
    if logs and ldir.is_dir():
        for p in sorted(ldir.glob("*.jsonl")):
            shown = display_path(p, root)
            entries, own = read_log(p, shown)
            problems += own
            card = p.stem
            out.logs[card] = [e for _, e in entries]
            out.log_lines[card] = {e.id: n for n, e in entries}
            for n, e in entries:
                if e.card != card:
                    problems.append(
                        Problem(
                            shown,
                            n,
                            1,
                            f"entry {e.id} is about card '{e.card}' but sits in {p.name}; each card has its own log",
                            "assessment-log",
                        )
                    )
    problems += check(root, out, kb, texts)
    out.problems = sorted(set(problems))
    return out, out.problems


def load_all(root: Path, kb: Any = None, *, logs: bool = True) -> tuple[list[Folder], list[Problem]]:
    """Every assessment of the knowledge base, and every problem in them."""
    out, problems = [], []
    for d in folders(root):
        f, own = load(root, d, kb, logs=logs)
        out.append(f)
        problems += own
    return out, problems
