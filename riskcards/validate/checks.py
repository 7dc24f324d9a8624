"""Guard results (``checks/<guard>.jsonl``) in a validation: the hook where ``riskcards validate`` reads them.

The results are written and read by ``riskcards.guards``; checking them against the knowledge base (stale
verdicts, malformed lines) belongs there too. This module calls that check, so
``riskcards validate`` and ``riskcards build`` report the same problems, and answers a ``.jsonl`` file
named on the command line (which is not a YAML record) through it.
"""

from __future__ import annotations

from pathlib import Path

from ..kb import KnowledgeBase
from ..problems import Problem


def guard_results(root: Path, kb: KnowledgeBase) -> list[Problem]:
    """Recorded guard verdicts (checks/*.jsonl): the problems the build reports, and stale verdicts."""
    from ..guards.checks import problems

    return problems(root, kb)
