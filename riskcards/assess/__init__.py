"""Assessing a deployment, the RiskCards paper's second job (section 4 of the reference).

    scenario + model --new--> assessments/<id>/assessment.yaml (scope, selection, assessors, budgets)
    cards --run (batch) / probe (interactive)--> target transport --> log/<card-id>.jsonl (append-only)
    logs --check--> guard verdicts (beside the human judgement)    logs --judge--> findings/<card-id>.yaml
    all of it --report--> md | html | json                         a logged output --promote--> observed example

Reading and checking an assessment folder is validation (``riskcards.validate.assessment_records``, with the
checks across records in ``riskcards.validate.assessments``); the folder layout is in ``riskcards.paths``.
One role a module here: ``plan`` (``assess new``),
``target`` (the seam to the guard transports), ``log`` (the append-only logs), ``batch``, ``probe``,
``findings``, ``checks`` (guards over the logs), ``report``, ``promote``.
"""

from __future__ import annotations

from ..paths import ASSESSMENT_RECORD as RECORD
from ..paths import ASSESSMENTS as FOLDER
from ..paths import assessments_root, folder_of, in_knowledge_base

__all__ = ["FOLDER", "RECORD", "assessments_root", "folder_of", "in_knowledge_base"]
