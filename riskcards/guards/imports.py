"""`riskcards guard import`: verdicts recorded elsewhere (e.g. on a GPU machine), in the GuardResult shape.

Each line is checked before it is appended to checks/<guard-id>.jsonl:

* it is a GuardResult record (schema), from a live guard (``run.source: live``);
* its cache key recomputes from its own fields;
* it names a current card and example, and its input hash equals the example's current input hash (an
  edited example makes old verdicts stale: rerun the guard instead);
* it names a model record, and its categories are codes of its taxonomy;
* a tiered guard's verdict carries its native tier, consistent with its label (riskcards/guards/tiers.py);
* where the adapter is known and the raw output is a single call's, the raw output parses to the recorded
  label and categories.

Lines already recorded (same key, card, example and target) are skipped. Every problem is reported as
``file:line:col: message``; valid lines are imported even when others are not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..problems import Problem, display_path
from . import store, tiers
from .hashing import current_input_sha256, result_key


@dataclass
class ImportSummary:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)
    by_guard: dict[str, int] = field(default_factory=dict)


def reparse(result: Any) -> tuple[str, tuple[str, ...]] | None:
    """(label, categories) from re-parsing ``result.raw`` with its adapter, or None when that is not possible."""
    from . import adapters
    from .adapters.base import Settings
    from .protocol import Exchange, Request

    g = result.guard
    if result.verdict.extra.get("error_kind"):
        return None
    try:
        adapter = adapters.get(g.adapter)
    except KeyError:
        return None
    if not adapter.single_call:
        return None
    cats = g.params.get("categories")
    settings = Settings(
        mode=adapter.modes[0], params=dict(g.params), categories=tuple(str(cats).split(",")) if cats else None
    )
    v = adapter.parse(Exchange(raw=result.raw), Request(adapter.modes[0], target=result.example.target), settings)
    return v.label, tuple(v.categories)


def check_record(kb: Any, result: Any) -> list[str]:
    """What is wrong with one record against the knowledge base (empty when it can be imported)."""
    out = []
    if result.run.source != "live":
        return [f"run.source is '{result.run.source}': only verdicts from a live guard are recorded"]
    if result_key(result) != result.key:
        out.append(
            "'key' does not match the record's guard, parameters and "
            "input hash; the record was edited or made by another tool"
        )
    e = result.example
    card = kb.cards.get(e.card)
    if card is None:
        from ..ids import did_you_mean

        out.append(f"unknown card '{e.card}'{did_you_mean(e.card, kb.cards)}")
    else:
        ex = next((x for x in card.examples if x.id == e.example), None)
        if ex is None:
            out.append(
                f"card '{e.card}' has no example '{e.example}'; it has: "
                f"{', '.join(x.id for x in card.examples) or 'none'}"
            )
        else:
            current = current_input_sha256(ex, e.target)
            if current is None:
                out.append(f"example '{e.card}/{e.example}' has no {e.target} to classify (withheld, or no output)")
            elif current != e.input_sha256:
                out.append(
                    f"example '{e.card}/{e.example}' has changed since this "
                    "verdict (input hash differs); rerun the guard on it"
                )
    g = result.guard
    if g.model not in kb.models:
        out.append(f"unknown model '{g.model}'; add models/{g.model}.yaml or fix guard.model")
    codes = {c.code for c in kb.taxonomies[g.taxonomy].categories} if g.taxonomy in kb.taxonomies else None
    if codes is None:
        from . import adapters

        try:
            codes = set(adapters.get(g.adapter).codes)
        except KeyError:
            codes = None
    if codes is None:
        out.append(f"unknown taxonomy '{g.taxonomy}' and adapter '{g.adapter}': cannot check the category codes")
    else:
        bad = [c for c in result.verdict.categories if c not in codes]
        if bad:
            out.append(f"categories {bad} are not codes of {g.taxonomy}")
    v = result.verdict
    if (v.label == "error") != (v.parse_error is not None):
        out.append("an 'error' verdict needs a parse_error, and only an error verdict has one")
    why = tiers.problem(result)
    if why:
        out.append(why)
    if not out:
        again = reparse(result)
        if again is not None and (again[0] != v.label or (v.label == "unsafe" and set(again[1]) != set(v.categories))):
            out.append(
                f"the raw output parses as {again[0]} {list(again[1])}, "
                f"but the record says {v.label} {list(v.categories)}"
            )
    return out


def import_files(kb: Any, paths: list[Path], out_dir: Path, *, dry_run: bool = False) -> ImportSummary:
    from ..models import GuardResult

    summary = ImportSummary()
    accepted: dict[str, list[Any]] = {}
    seen: dict[str, set] = {}

    def known(guard_id: str) -> set:
        if guard_id not in seen:
            seen[guard_id] = {
                (r.key, r.example.card, r.example.example, r.example.target)
                for r in store.read_file(store.result_path(out_dir, guard_id))
            }
        return seen[guard_id]

    for path in paths:
        shown = display_path(path)
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            summary.problems.append(Problem(shown, 1, 1, f"cannot read the file: {exc}", "guard-import"))
            continue
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            summary.read += 1
            try:
                result = GuardResult.model_validate(json.loads(line))
            except json.JSONDecodeError as exc:
                summary.problems.append(Problem(shown, lineno, exc.colno, f"not JSON: {exc.msg}", "guard-import"))
                continue
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                where = ".".join(str(x) for x in err["loc"])
                summary.problems.append(
                    Problem(shown, lineno, 1, f"not a guard result record: {where}: {err['msg']}", "guard-import")
                )
                continue
            problems = check_record(kb, result)
            if problems:
                summary.problems.extend(Problem(shown, lineno, 1, msg, "guard-import") for msg in problems)
                continue
            ident = (result.key, result.example.card, result.example.example, result.example.target)
            if ident in known(result.guard.id):
                summary.duplicates += 1
                continue
            known(result.guard.id).add(ident)
            accepted.setdefault(result.guard.id, []).append(result)
    for guard_id, results in accepted.items():
        summary.by_guard[guard_id] = len(results)
        summary.imported += len(results)
        if not dry_run:
            with store.Appender(store.result_path(out_dir, guard_id)) as out:
                for r in results:
                    out.write(r)
    return summary
