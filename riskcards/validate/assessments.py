"""Checks across the records of an assessment (assessments/<id>/): the assessment record against the
knowledge base (scenario, model, cards), its own consistency (selection, budgets, assessors, interface,
status), the findings (logged entries, harm types, excerpt sensitivity rules) and the logs (unique ids, marks,
no test-double output in a knowledge base). Reading the folder is ``riskcards.validate.assessment_records``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import ids
from ..paths import ASSESSMENT_RECORD as RECORD
from ..paths import in_knowledge_base
from ..problems import Problem, display_path
from .common import endpoint_problem, harm_type_problems, located

REDACTED = "[redacted:"


def check(root: Path, f: Any, kb: Any, texts: dict[str, str]) -> list[Problem]:
    """The checks across records of one assessment folder."""
    problems: list[Problem] = []
    a = f.assessment
    shown = f.shown

    def add(where: str, path: tuple, message: str, check: str = "assessment", *, key: bool = False) -> None:
        problems.append(located(where, texts.get(where, ""), path, message, check, key=key))

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
    if isinstance(itf.base_url, str) and (why := endpoint_problem(itf.base_url)):
        add(shown, ("scope", "interface", "base_url"), f"base_url {why}", "url")
    if itf.transport == "local-transformers" and not itf.model_path:
        add(
            shown,
            ("scope", "interface", "transport"),
            "transport 'local-transformers' needs 'model_path' (a local model folder)",
        )
    if itf.transport == "python" and not itf.entry:
        add(
            shown,
            ("scope", "interface", "transport"),
            "transport 'python' needs 'entry' ('module:function', a function taking the conversation)",
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
        for i, ht in enumerate(fd.harm_types):
            for sub, message, check_name in harm_type_problems(ht, actors, cats):
                add(fs, ("harm_types", i, *sub), message, check_name)
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
