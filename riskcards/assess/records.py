"""Reading an assessment folder and checking it: every problem located, never a traceback.

    assessments/<id>/assessment.yaml        the Assessment record
    assessments/<id>/findings/<card>.yaml   one Finding per judged card
    assessments/<id>/log/<card>.jsonl       LogEntry lines, append-only

``load(root, folder, kb)`` returns the folder's valid records and every problem: schema problems at
``path:line:col`` (the same messages as for cards), then the checks across records (the scenario, model,
cards and harm types exist; findings name logged entries; excerpts follow the sensitivity rules; a test
double's entries never sit in a knowledge base).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import ids
from ..load import load_file
from ..locate import Locator
from ..models import Assessment, Finding, LogEntry
from ..problems import Problem, display_path
from . import RECORD, assessments_root, in_knowledge_base

REDACTED = "[redacted:"


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
    from ..validate import _data_path, schema_message

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
    entries, problems = [], []
    if not path.is_file():
        return entries, problems
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines = lines[:-1]
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
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
                        _at(
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
    return out, sorted(set(problems))


def _at(shown: str, text: str, path: tuple, message: str, check: str, *, key: bool = False) -> Problem:
    line, col = Locator(text).find(path, key=key) if text else (1, 1)
    return Problem(shown, line, col, message, check)


def check(root: Path, f: Folder, kb: Any, texts: dict[str, str]) -> list[Problem]:
    """The checks across records of one assessment folder."""
    problems: list[Problem] = []
    a = f.assessment
    shown = f.shown

    def add(where: str, path: tuple, message: str, check: str = "assessment") -> None:
        problems.append(_at(where, texts.get(where, ""), path, message, check))

    # Logs: unique ids, marks that point at exchanges, no test-double output in a knowledge base.
    seen: dict[str, str] = {}
    all_entries = f.entries()
    stub_ok = not in_knowledge_base(f.dir)
    for card, entries in f.logs.items():
        lshown = display_path(f.dir / "log" / f"{card}.jsonl", root)
        lines = f.log_lines[card]
        for e in entries:
            n = lines.get(e.id, 1)
            if e.id in seen and seen[e.id] != card:
                problems.append(
                    Problem(
                        lshown,
                        n,
                        1,
                        f"entry id {e.id} is also used in {seen[e.id]}.jsonl; "
                        "entry ids are unique within an assessment",
                        "assessment-log",
                    )
                )
            seen[e.id] = card
            if e.target is not None and e.target.source != "live" and not stub_ok:
                problems.append(
                    Problem(
                        lshown,
                        n,
                        1,
                        f"entry {e.id} was answered by a test double; a knowledge "
                        "base's assessments/ holds only live output, remove this line",
                        "assessment-log",
                    )
                )
            if e.kind == "mark" and (e.marks not in all_entries or all_entries[e.marks].kind != "exchange"):
                problems.append(
                    Problem(
                        lshown,
                        n,
                        1,
                        f"mark {e.id} points at '{e.marks}', which is not a logged exchange of this assessment",
                        "assessment-log",
                    )
                )
    if a is None:
        return problems
    if a.id != f.dir.name:
        add(
            shown,
            ("id",),
            f"id '{a.id}' differs from the folder name '{f.dir.name}'; the record lives in assessments/<id>/{RECORD}",
            "file-name",
        )
    if kb is not None:
        if a.scope.scenario not in kb.scenarios:
            add(
                shown,
                ("scope", "scenario"),
                f"unknown scenario '{a.scope.scenario}'{ids.did_you_mean(a.scope.scenario, kb.scenarios)}",
                "unknown-id",
            )
        model = kb.models.get(a.scope.model)
        if model is None:
            add(
                shown,
                ("scope", "model"),
                f"unknown model '{a.scope.model}'{ids.did_you_mean(a.scope.model, kb.models)}"
                "; add a record in models/ first",
                "unknown-id",
            )
        elif model.kind != "language-model":
            add(
                shown,
                ("scope", "model"),
                f"'{a.scope.model}' is a {model.kind}; an assessment is of a language model",
                "unknown-id",
            )
        for i, cid in enumerate(a.selection.cards):
            if cid not in kb.cards:
                add(
                    shown,
                    ("selection", "cards", i),
                    f"unknown card '{cid}'{ids.did_you_mean(cid, kb.cards)}",
                    "unknown-id",
                )
        for i, ex in enumerate(a.selection.excluded):
            if ex.card not in kb.cards:
                add(
                    shown,
                    ("selection", "excluded", i, "card"),
                    f"unknown card '{ex.card}'{ids.did_you_mean(ex.card, kb.cards)}",
                    "unknown-id",
                )
    cards = set(a.selection.cards)
    dupes = {c for c in a.selection.cards if a.selection.cards.count(c) > 1}
    for c in sorted(dupes):
        add(shown, ("selection", "cards", a.selection.cards.index(c)), f"card '{c}' is listed twice", "duplicate-id")
    for i, ex in enumerate(a.selection.excluded):
        if ex.card in cards:
            add(
                shown,
                ("selection", "excluded", i, "card"),
                f"card '{ex.card}' is both in scope and excluded; keep it in one list",
            )
    for cid in a.budgets:
        if cid not in cards:
            add(shown, ("budgets", cid), f"a budget for '{cid}', which is not in scope", key=True)
    handles = [x.handle for x in a.assessors]
    for i, h in enumerate(handles):
        if handles.index(h) != i:
            add(shown, ("assessors", i, "handle"), f"assessor '{h}' is listed twice", "duplicate-id")
    itf = a.scope.interface
    if itf.transport.startswith("openai-") and not itf.base_url:
        add(
            shown,
            ("scope", "interface", "transport"),
            f"transport '{itf.transport}' needs 'base_url' (e.g. http://localhost:8000/v1)",
        )
    if itf.transport == "local-transformers" and not itf.model_path:
        add(
            shown,
            ("scope", "interface", "transport"),
            "transport 'local-transformers' needs 'model_path' (a local model folder)",
        )
    if a.status == "complete":
        missing = [c for c in a.selection.cards if c not in f.findings]
        if missing:
            add(
                shown,
                ("status",),
                f"status 'complete' but {len(missing)} card(s) in scope have no finding: "
                f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; judge them "
                "(`riskcards assess judge`) or keep 'in-progress'",
            )
    for c in f.logs:
        if c not in cards:
            problems.append(
                Problem(
                    display_path(f.dir / "log" / f"{c}.jsonl", root),
                    1,
                    1,
                    f"a log for card '{c}', which is not in scope",
                    "assessment-log",
                )
            )
    # Findings.
    actors = kb.actors() if kb is not None and kb.vocab else None
    cats = kb.harm_categories() if kb is not None and kb.vocab else None
    for cid, fd in f.findings.items():
        fs = f.finding_paths[cid]
        logged = {e.id: e for e in f.logs.get(cid, [])}
        if cid not in cards:
            add(
                fs,
                ("card",),
                f"a finding for '{cid}', which is not in the assessment's selection{ids.did_you_mean(cid, cards)}",
                "unknown-id",
            )
        for i, eid in enumerate(fd.representative):
            if eid not in logged or logged[eid].kind != "exchange":
                add(
                    fs,
                    ("representative", i),
                    f"entry '{eid}' is not a logged exchange of this card (log/{cid}.jsonl)",
                    "unknown-id",
                )
        if fd.elicited in ("yes", "partly") and not fd.representative:
            add(
                fs,
                ("elicited",),
                f"elicited '{fd.elicited}' needs at least one representative log entry ('representative: [entry id]')",
            )
        for i, h in enumerate(fd.assessors):
            if h not in handles:
                add(fs, ("assessors", i), f"unknown assessor '{h}'{ids.did_you_mean(h, handles)}", "unknown-id")
        if actors is not None:
            for i, ht in enumerate(fd.harm_types):
                if ht.actor not in actors:
                    add(
                        fs,
                        ("harm_types", i, "actor"),
                        f"unknown actor '{ht.actor}'{ids.did_you_mean(ht.actor, actors)}",
                        "vocabulary",
                    )
                if ht.category not in cats:
                    add(
                        fs,
                        ("harm_types", i, "category"),
                        f"unknown harm category '{ht.category}'{ids.did_you_mean(ht.category, cats)}",
                        "vocabulary",
                    )
        for i, ex in enumerate(fd.publishable):
            if ex.entry not in logged or logged[ex.entry].kind != "exchange":
                add(
                    fs,
                    ("publishable", i, "entry"),
                    f"entry '{ex.entry}' is not a logged exchange of this card",
                    "unknown-id",
                )
            if ex.sensitivity == "defanged" and (ex.text is None or REDACTED not in ex.text):
                add(
                    fs,
                    ("publishable", i, "sensitivity"),
                    "a defanged excerpt needs 'text': the output as published, "
                    "with what was removed marked '[redacted: what]'",
                    "sensitivity",
                )
            if ex.sensitivity == "withheld" and (ex.withheld_reason is None or ex.text is not None):
                add(
                    fs,
                    ("publishable", i, "sensitivity"),
                    "a withheld excerpt has no 'text', only a 'withheld_reason'",
                    "sensitivity",
                )
            if ex.sensitivity == "full" and (ex.text is not None or ex.withheld_reason is not None):
                add(
                    fs,
                    ("publishable", i, "sensitivity"),
                    "a full excerpt is published as logged; remove 'text' and "
                    "'withheld_reason' (or make it 'defanged')",
                    "sensitivity",
                )
    return problems


def load_all(root: Path, kb: Any = None, *, logs: bool = True) -> tuple[list[Folder], list[Problem]]:
    """Every assessment of the knowledge base, and every problem in them."""
    out, problems = [], []
    for d in folders(root):
        f, own = load(root, d, kb, logs=logs)
        out.append(f)
        problems += own
    return out, problems
