"""`riskcards assess new`: an assessment record for a scenario and a model, ready to edit.

The cards come from the one query layer (``query.find_cards`` with the scenario filter), most severe
first; each card's severity and rationale in the scenario is written beside it as a comment. The record
validates as written; the TODO lines say what a person fills in.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import ids
from . import RECORD, assessments_root

SCHEMA_LINE = "# yaml-language-server: $schema=../../schema/assessment.schema.json"
TRANSPORTS = ("openai-chat", "openai-completions", "local-transformers", "python")


class PlanError(Exception):
    pass


@dataclass
class Plan:
    """What `assess new` needs; everything but scenario and model has a default."""

    scenario: str
    model: str
    id: str | None = None
    title: str | None = None
    use_case: str | None = None
    assessors: list[str] = field(default_factory=lambda: ["assessor-1"])
    transport: str = "openai-chat"
    base_url: str | None = "http://localhost:8000/v1"
    model_name: str | None = None
    model_path: str | None = None
    entry: str | None = None
    api_key_env: str | None = None
    system_prompt: str | None = None
    model_version: str | None = None
    min_severity: str | None = None
    minutes: int | None = 30
    prompts: int | None = None


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def kb_commit(root: Path) -> str | None:
    """The knowledge base's git commit, or None outside a repository."""
    from ..gitbase import GitError, commit_of

    try:
        return commit_of(root, "HEAD")
    except GitError:
        return None


def selected_cards(conn, scenario: str, min_severity: str | None = None) -> tuple[list[dict], list[dict]]:
    """(in scope, below the severity floor) cards of a scenario, most severe first, from the query layer."""
    from ..query import Query, find_cards

    cards = find_cards(conn, Query(scenario=scenario))
    if not min_severity:
        return cards, []
    from ..models import SEVERITY_ORDER

    floor = SEVERITY_ORDER[min_severity]
    keep = [c for c in cards if SEVERITY_ORDER[c["scenario"]["severity"]] >= floor]
    return keep, [c for c in cards if SEVERITY_ORDER[c["scenario"]["severity"]] < floor]


def record_text(plan: Plan, cards: list[dict], below: list[dict], *, today: str, commit: str | None) -> str:
    aid = plan.id or ids.suggest_id(f"{plan.model}-{plan.scenario}")
    lines = [
        SCHEMA_LINE,
        "# An assessment (RiskCards paper, section 4). Replace every TODO, then run `riskcards validate`.",
        f"id: {aid}",
        f"title: {_q(plan.title or f'{plan.model} as {plan.scenario}')}",
        "status: planned  # planned -> in-progress -> complete (every card in scope then has a finding)",
        f'created: "{today}"',
        "scope:",
        f"  use_case: {_q(plan.use_case or 'TODO: what the deployment does, for whom')}",
        f"  scenario: {plan.scenario}",
        f"  model: {plan.model}",
    ]
    if plan.model_version:
        lines.append(f"  model_version: {_q(plan.model_version)}")
    else:
        lines.append("  # model_version: the revision or version tag of the model")
    lines += [f'  access_date: "{today}"', "  interface:", f"    transport: {plan.transport}"]
    if plan.transport.startswith("openai-"):
        lines.append(f"    base_url: {_q(plan.base_url or 'http://localhost:8000/v1')}")
    if plan.model_path:
        lines.append(f"    model_path: {_q(plan.model_path)}")
    if plan.entry:
        lines.append(f"    entry: {_q(plan.entry)}")
    if plan.model_name:
        lines.append(f"    model_name: {_q(plan.model_name)}")
    if plan.api_key_env:
        lines.append(f"    api_key_env: {plan.api_key_env}  # the NAME of the variable; never the key")
    if plan.system_prompt:
        lines.append(f"    system_prompt: {_q(plan.system_prompt)}")
    lines += [
        "    params: {temperature: 0.7, max_tokens: 512}  # decoding parameters sent with every request",
        "    filters: []  # guards or rules in front of the model in the deployment",
        "selection:",
        f"  # {len(cards)} cards of scenario '{plan.scenario}', most severe first (from the query layer)",
        "  cards:",
    ]
    for c in cards:
        s = c["scenario"]
        lines.append(f"    - {c['id']}  # {s['severity']}: {_cut(s['rationale'])}")
    if below:
        lines.append("  excluded:")
        for c in below:
            lines += [
                f"    - card: {c['id']}",
                f"      reason: {_q('severity ' + c['scenario']['severity'] + ' is below ' + str(plan.min_severity))}",
            ]
    else:
        lines.append("  excluded: []  # - {card: ..., reason: why it does not apply here}")
    if commit:
        lines.append(f"  kb_commit: {commit}")
    lines.append("assessors:")
    for h in plan.assessors:
        lines += [f"  - handle: {h}", "    expertise: []  # e.g. clinical pharmacy", "    perspectives: []"]
    lines.append("budget:  # per card; override in 'budgets: {card-id: {minutes: ...}}'")
    if plan.minutes:
        lines.append(f"  minutes: {plan.minutes}")
    if plan.prompts:
        lines.append(f"  prompts: {plan.prompts}")
    if not plan.minutes and not plan.prompts:
        lines[-1] = "budget: {}"
    lines += [
        "handling:",
        '  content_warnings: ["Outputs may contain harmful content."]',
        "  not_stored: []  # e.g. illegal content is not stored",
        "  not_published: []  # e.g. outputs are published only where an assessor marked them",
        '  wellbeing: "Assessors take a break at least every 30 minutes and may stop at any time."',
        "",
    ]
    return "\n".join(lines)


def _cut(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def write(root: Path, conn, plan: Plan, *, force: bool = False, today: str | None = None) -> Path:
    """Write assessments/<id>/assessment.yaml; raises PlanError with what to do instead."""
    from ..query import UnknownId, models

    if plan.transport not in TRANSPORTS:
        raise PlanError(f"transport {plan.transport!r} is not known; write one of: {', '.join(TRANSPORTS)}")
    if plan.transport == "python" and not plan.entry:
        raise PlanError("transport 'python' needs --entry module:function (a function taking the conversation)")
    if plan.transport == "local-transformers" and not plan.model_path:
        raise PlanError("transport 'local-transformers' needs --model-path (a local model folder)")
    known = {m["id"]: m for m in models(conn)}
    if plan.model not in known:
        raise PlanError(f"unknown model '{plan.model}'{ids.did_you_mean(plan.model, known)}; see `riskcards models`")
    if known[plan.model]["kind"] != "language-model":
        raise PlanError(f"'{plan.model}' is a {known[plan.model]['kind']}; an assessment is of a language model")
    for h in plan.assessors:
        if not ids.is_id(h):
            raise PlanError(f"assessor handle {h!r} is not valid: write {ids.ID_HINT}")
    aid = plan.id or ids.suggest_id(f"{plan.model}-{plan.scenario}")
    if not ids.is_id(aid):
        raise PlanError(f"{aid!r} is not a valid id: write {ids.ID_HINT}")
    plan.id = aid
    try:
        cards, below = selected_cards(conn, plan.scenario, plan.min_severity)
    except UnknownId as exc:
        raise PlanError(str(exc)) from None
    if not cards:
        raise PlanError(f"no card applies to scenario '{plan.scenario}' at this severity; nothing to assess")
    path = assessments_root(root) / aid / RECORD
    if path.exists() and not force:
        raise PlanError(f"{path} exists; choose another --id or pass --force")
    today = today or _dt.date.today().isoformat()
    text = record_text(plan, cards, below, today=today, commit=kb_commit(root))
    from ..paths import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return path
