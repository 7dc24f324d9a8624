"""The recorded verdicts (checks/*.jsonl) as validation sees them: every problem located, the same ones the
build reports, and the stale verdicts that ``riskcards guard prune`` removes.

* a line that is not a guard result record, or a verdict from a test double (``run.source`` not live);
* a string shaped like an API key or a bearer token (riskcards.guards.secrets; never stored, so a line that
  holds one was written by hand or by an old version: prune rewrites it scrubbed);
* a **stale** verdict: for a card or example that no longer exists, a target the example no longer has, or
  an example that changed since (its input hash differs). Stale verdicts never count in coverage; prune
  removes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..problems import Problem, display_path
from . import store
from .hashing import current_input_sha256
from .secrets import find, scrub

if TYPE_CHECKING:
    from ..kb import KnowledgeBase
    from ..models import GuardResult


def stale_reason(kb: KnowledgeBase, result: GuardResult) -> str | None:
    """Why a recorded verdict no longer applies to the knowledge base, or None when it is current."""
    e = result.example
    card = kb.cards.get(e.card)
    if card is None:
        return f"a verdict for card '{e.card}', which no longer exists"
    ex = next((x for x in card.examples if x.id == e.example), None)
    if ex is None:
        return f"a verdict for example '{e.card}/{e.example}', which no longer exists"
    now = current_input_sha256(ex, e.target)
    if now is None:
        return f"a verdict for the {e.target} of '{e.card}/{e.example}', which has none now (withheld or removed)"
    if now != e.input_sha256:
        return f"a verdict for '{e.card}/{e.example}' as it was before it changed (input hash differs)"
    return None


def problems(root: Path, kb: KnowledgeBase) -> list[Problem]:
    """Every problem of checks/*.jsonl under ``root``, located; what `riskcards validate` and the build report."""
    out: list[Problem] = []
    hint = "; run `riskcards guard prune` to remove stale verdicts"
    for path in store.result_files(Path(root)):
        shown = display_path(path, root)
        for lineno, line, _problem in store.lines(path, shown):  # unreadable lines: reported by iter_results
            if line is None:
                continue
            data, bad = store.parse_line(line)
            if bad is None:
                try:
                    paths = find(data)
                except RecursionError:
                    paths = ["(too deep to search)"] if scrub(line) != line else []
            else:
                paths = ["(a line that is not JSON)"] if scrub(line) != line else []
            if paths:
                where = scrub(", ".join(paths[:3]))  # a key can be secret-shaped too: never echoed
                why = f"a secret-shaped string at {where}; run `riskcards guard prune` to rewrite the line scrubbed"
                out.append(Problem(shown, lineno, 1, why, "guard-secret"))
        for shown_, lineno, result, problem in store.iter_results(Path(root), only=path):
            if problem is not None:
                out.append(problem)
            elif result is not None and kb.cards:
                stale = stale_reason(kb, result)
                if stale:
                    out.append(Problem(shown_, lineno, 1, f"stale: {stale}{hint}", "guard-stale"))
    return out


@dataclass
class PruneSummary:
    files: int = 0
    kept: int = 0
    removed: int = 0
    scrubbed: int = 0


def prune(root: Path, kb: KnowledgeBase, *, dry_run: bool = False) -> PruneSummary:
    """Remove stale verdicts, test-double lines and unreadable lines from checks/*.jsonl (and rewrite lines
    holding a secret-shaped string, scrubbed). Files are replaced atomically; a file left empty is deleted."""
    from ..models import GuardResult
    from .secrets import scrub_data

    summary = PruneSummary()
    for path in store.result_files(Path(root)):
        keep: list[str] = []
        changed = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                changed = True
                continue
            try:
                data = json.loads(line)
                result = GuardResult.model_validate(scrub_data(data))
            except ValueError:
                summary.removed += 1
                changed = True
                continue
            if result.run.source != "live" or stale_reason(kb, result):
                summary.removed += 1
                changed = True
                continue
            if find(data):
                summary.scrubbed += 1
                changed = True
                line = store.dump_line(result).rstrip("\n")
            keep.append(line)
        summary.kept += len(keep)
        if changed:
            summary.files += 1
            if not dry_run:
                if keep:
                    tmp = path.with_suffix(".jsonl.tmp")
                    tmp.write_text("".join(x + "\n" for x in keep), encoding="utf-8")
                    tmp.replace(path)
                else:
                    path.unlink()
    return summary
