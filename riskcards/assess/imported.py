"""Other tools' results into an assessment's logs (``riskcards assess import ID FILE --from TOOL``).

A ``Run`` read by ``riskcards.importers.results`` becomes one ``exchange`` entry per result, ``mode:
imported``, in ``log/<card>.jsonl``, with its provenance in ``imported`` (tool, version, run, file, date,
the tool's sample id and its own scores) and the target as the tool named it. The card of a result is, in
this order: ``--card``; the RiskCards metadata the tool carried (a card id, an alias, or garak's
``risk-cards:lmrc:<name>`` tag); the card example whose prompt is the prompt sent. Results for cards outside
the assessment's selection, and results with no card, are counted and left out. Entry ids are derived from
(tool, run, sample), so importing a file twice adds nothing. A test double's results are refused for a
knowledge base's assessments/, as for ``assess run``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..models import LogImport, LogTarget
from ..problems import Problem
from .log import LogWriter, make_entry
from .target import RefusedError

ROLES = {"system", "user", "assistant", "tool"}
ROLE_ALIASES = {"developer": "system", "human": "user", "ai": "assistant", "model": "assistant"}


@dataclass
class Summary:
    tool: str
    tool_version: str
    model_name: str
    test_double: bool
    imported: dict[str, int] = field(default_factory=dict)
    """card -> entries written."""
    already: int = 0
    out_of_scope: dict[str, int] = field(default_factory=dict)
    no_card: int = 0
    problems: list[Problem] = field(default_factory=list)
    """Problems of the assessment after the import (``riskcards validate`` would report them)."""

    @property
    def written(self) -> int:
        return sum(self.imported.values())


def entry_id(tool: str, run: str | None, sample: str) -> str:
    return hashlib.sha256(f"{tool}\0{run or ''}\0{sample}".encode()).hexdigest()[:12]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _prompt_index(kb: Any, cards: list[str]) -> dict[str, tuple[str, str]]:
    """The last user message of each example of the cards in scope -> (card, example)."""
    out: dict[str, tuple[str, str]] = {}
    for cid in cards:
        card = kb.cards.get(cid)
        for ex in card.examples if card else []:
            prompt = ex.prompt
            if prompt is None and ex.turns:
                users = [t.content for t in ex.turns if t.role == "user"]
                prompt = users[-1] if users else None
            if prompt:
                out.setdefault(_norm(prompt), (cid, ex.id))
    return out


def _resolve(kb: Any, ref: str | None) -> str | None:
    if not ref:
        return None
    from ..query import GARAK_TAG_PREFIX

    if ref.startswith(GARAK_TAG_PREFIX):
        ref = "lmrc-" + ref.removeprefix(GARAK_TAG_PREFIX).replace("_", "-")
    card = kb.resolve_card(ref)
    return card.id if card is not None else None


def _messages(msgs: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for m in msgs:
        role = ROLE_ALIASES.get(m["role"], m["role"])
        out.append({"role": role if role in ROLES else "user", "content": m["content"]})
    return out


def import_run(
    folder: Any,
    kb: Any,
    run: Any,
    file_name: str,
    *,
    card: str | None = None,
    assessor: str = "import",
    dry_run: bool = False,
) -> Summary:
    """Write ``run``'s results into the logs of ``folder`` (an ``assessment_records.Folder``). Raises RefusedError for a
    test double's results headed for a knowledge base, ValueError for an unknown ``card``."""
    from . import in_knowledge_base

    a = folder.assessment
    scope = list(a.selection.cards)
    if card is not None:
        resolved = _resolve(kb, card)
        if resolved is None:
            raise ValueError(f"unknown card '{card}'")
        card = resolved
    doubles = [r for r in run.results if (r.test_double if r.test_double is not None else run.test_double)]
    if doubles and in_knowledge_base(folder.dir):
        raise RefusedError(
            f"{run.tool}'s model '{doubles[0].model_name or run.model_name}' is a test double; its output never goes "
            f"into {folder.dir}. Import into an assessment folder outside a knowledge base to try it out"
        )
    summary = Summary(run.tool, run.tool_version, run.model_name, bool(doubles))
    by_prompt = _prompt_index(kb, scope)
    known = set(folder.entries())
    entries = []
    for r in run.results:
        cid = card or _resolve(kb, r.card)
        example = r.example if cid and not card and r.card else None
        msgs = _messages(r.messages)
        if cid is None:
            users = [m["content"] for m in msgs if m["role"] == "user"]
            hit = by_prompt.get(_norm(users[-1])) if users else None
            if hit is not None:
                cid, example = hit
        if cid is None:
            summary.no_card += 1
            continue
        if cid not in scope:
            summary.out_of_scope[cid] = summary.out_of_scope.get(cid, 0) + 1
            continue
        eid = entry_id(run.tool, run.run, r.sample)
        if eid in known:
            summary.already += 1
            continue
        known.add(eid)
        double = r.test_double if r.test_double is not None else run.test_double
        entry = make_entry(
            id=eid,
            kind="exchange",
            at=r.at or run.date,
            assessor=assessor,
            card=cid,
            mode="imported",
            conversation=run.run,
            example=example if example and any(x.id == example for x in kb.cards[cid].examples) else None,
            target=LogTarget(
                transport=run.tool,
                model=a.scope.model,
                model_name=r.model_name or run.model_name,
                runtime=f"{run.tool} {run.tool_version}",
                source="stub" if double else "live",
            ),
            params=dict(run.params),
            messages=msgs,
            output=r.output,
            finish_reason=r.finish_reason,
            latency_ms=r.latency_ms,
            error=r.error if r.output is None else None,
            imported=LogImport(
                tool=run.tool,
                tool_version=run.tool_version,
                run=run.run,
                file=file_name,
                date=r.at or run.date,
                sample=r.sample,
                scores=r.scores,
            ),
        )
        entries.append(entry)
        summary.imported[cid] = summary.imported.get(cid, 0) + 1
    if not dry_run and entries:
        with LogWriter(folder.dir) as w:
            for e in entries:
                w.write(e, flush=False)
    return summary
