"""`riskcards new`: a card skeleton that validates as written, with guidance in comments."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from . import ids

SCHEMA_LINE = "# yaml-language-server: $schema=../schema/card.schema.json"


class ScaffoldError(Exception):
    pass


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def card_text(
    card_id: str,
    *,
    title: str,
    summary: str,
    author: str,
    placements: list[str],
    scenarios: list[str],
    today: str | None = None,
) -> str:
    today = today or _dt.date.today().isoformat()
    lines = [
        SCHEMA_LINE,
        "# A new RiskCard. Replace every TODO, then run `riskcards validate`. See CONTRIBUTING.md.",
        f"id: {card_id}",
        f"title: {_q(title)}",
        f"summary: {_q(summary)}",
        "description: |",
        "  TODO: what the model does when this risk shows up, in a paragraph or two.",
        "actions_required: |",
        "  TODO: how the risk turns into harm: who must do what, or what must hold, for harm to happen.",
        "harm_types:  # actor x category, from vocab/harm-types.yaml",
        "  - actor: reader",
        "    category: psychological",
    ]
    if placements:
        lines.append("placements:  # taxonomy-id:code; see `riskcards taxonomies`")
        for ref in placements:
            lines += [f"  - ref: {_q(ref)}", "    relation: exact"]
    else:
        lines.append("placements: []  # e.g. - ref: weidinger-2021:W1.3")
    lines += [
        "examples:",
        "  - id: example-1",
        "    language: en",
        "    provenance:",
        "      kind: illustrative  # or: kind: observed, with model, date and source",
        f"      author: {_q(author)}",
        "    sensitivity: full  # defanged: mark removed detail as [redacted: what]; withheld: give withheld_reason",
        '    prompt: "TODO: the prompt"',
        '    output: "TODO: the output that shows the risk"',
    ]
    if scenarios:
        lines.append("scenarios:")
        for sid in scenarios:
            lines += [f"  - scenario: {sid}", "    severity: medium", '    rationale: "TODO: why this severity here"']
    else:
        lines.append("scenarios: []  # e.g. - {scenario: customer-support-bot, severity: medium, rationale: ...}")
    lines += [
        "references: []  # - title: ...  url: https://...",
        "status: draft",
        "version: 0.1.0",
        f'created: "{today}"',
        f"contributors: [{_q(author)}]",
        "license: CC-BY-4.0",
        "",
    ]
    return "\n".join(lines)


def _record_ids(root: Path, folder: str) -> list[str]:
    from .baselayer import record_files

    return sorted(record_files(root, folder))


def check_placement(root: Path, ref: str) -> None:
    """Raise ScaffoldError unless ``ref`` names a category of a taxonomy in the knowledge base, with the
    nearest taxonomy ids or codes (the same words as ``riskcards query --category``)."""
    from .load import load_file

    tax, code = ids.split_ref(ref)
    taxonomies = _record_ids(root, "taxonomies")
    if tax not in taxonomies:
        raise ScaffoldError(
            f"unknown taxonomy '{tax}' in placement '{ref}'{ids.did_you_mean(tax, taxonomies)}; "
            "`riskcards taxonomies` lists them"
        )
    from .baselayer import record_files

    data = load_file(record_files(root, "taxonomies")[tax], root).data
    cats = data.get("categories") if isinstance(data, dict) else None
    codes = [c["code"] for c in cats or [] if isinstance(c, dict) and isinstance(c.get("code"), str)]
    if code not in codes:
        raise ScaffoldError(
            f"unknown code '{code}' in {tax}{ids.did_you_mean(code, codes, always=True)}; "
            f"`riskcards taxonomy {tax}` lists its codes"
        )


def check_scenario(root: Path, sid: str) -> None:
    """Raise ScaffoldError unless ``sid`` is a scenario of the knowledge base, with the nearest ids."""
    known = _record_ids(root, "scenarios")
    if sid not in known:
        raise ScaffoldError(f"unknown scenario '{sid}'{ids.did_you_mean(sid, known)}; `riskcards scenarios` lists them")


def write_card(
    root: Path,
    card_id: str,
    *,
    title: str,
    summary: str,
    author: str,
    placements: list[str],
    scenarios: list[str],
    force: bool = False,
) -> Path:
    if not ids.is_id(card_id):
        raise ScaffoldError(f"{card_id!r} is not a valid id: write {ids.ID_HINT}")
    if "\n" in title or "\n" in summary:
        raise ScaffoldError("title and summary are one line each")
    for ref in placements:
        try:
            ids.split_ref(ref)
        except ValueError as exc:
            raise ScaffoldError(str(exc)) from None
        check_placement(root, ref)
    for sid in scenarios:
        if not ids.is_id(sid):
            raise ScaffoldError(f"scenario {sid!r} is not a valid id")
        check_scenario(root, sid)
    path = root / "cards" / f"{card_id}.yaml"
    if path.exists() and not force:
        raise ScaffoldError(f"{path} exists; choose another id or pass --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        card_text(card_id, title=title, summary=summary, author=author, placements=placements, scenarios=scenarios),
        encoding="utf-8",
    )
    return path
