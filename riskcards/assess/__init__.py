"""Assessing a deployment, the RiskCards paper's second job (section 4 of the reference).

    scenario + model --new--> assessments/<id>/assessment.yaml (scope, selection, assessors, budgets)
    cards --run (batch) / probe (interactive)--> target transport --> log/<card-id>.jsonl (append-only)
    logs --check--> guard verdicts (beside the human judgement)    logs --judge--> findings/<card-id>.yaml
    all of it --report--> md | html | json                         a logged output --promote--> observed example

One role a module: ``records`` (reading and checking an assessment folder), ``plan`` (``assess new``),
``target`` (the seam to the guard transports), ``log`` (the append-only logs), ``batch``, ``probe``,
``findings``, ``checks`` (guards over the logs), ``report``, ``promote``.
"""

from __future__ import annotations

from pathlib import Path

FOLDER = "assessments"
RECORD = "assessment.yaml"


def assessments_root(root: Path) -> Path:
    return Path(root) / FOLDER


def folder_of(root: Path, ref: str | Path) -> Path:
    """The folder of an assessment given its id (assessments/<id>) or a path to its folder or record."""
    p = Path(ref)
    if p.name == RECORD:
        return p.parent
    if p.is_dir() and (p / RECORD).exists():
        return p
    return assessments_root(root) / str(ref)


def in_knowledge_base(folder: Path) -> bool:
    """Whether an assessment folder lies in a knowledge base's assessments/ (no test-double output there)."""
    folder = Path(folder).resolve()
    return folder.parent.name == FOLDER and (folder.parent.parent / "cards").is_dir()
