"""`riskcards assess report ID --format md|html|json`: the assessment report, in the outline of the reference
(riskcards-paper.md section 4): scope, selection, assessors, per card, automated checks, conclusions,
handling notes.

``data()`` gathers everything once (the JSON form); Markdown and HTML are drawn from it. Log text is
published only where an assessor listed the entry in a finding's ``publishable`` excerpts, with the
excerpt's sensitivity applied: 'full' as logged, 'defanged' with the assessor's redacted text, 'withheld'
as its reason only. Everything else from the logs appears as counts and times.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

FORMAT = "riskcards.assessment-report/1"
OUTLINE = ("Scope", "Selection", "Assessors", "Per card", "Automated checks", "Conclusions", "Handling notes")


def _last_user(entry: Any) -> str:
    return next((m.content for m in reversed(entry.messages) if m.role == "user"), "")


def excerpts(finding: Any, entries: dict[str, Any]) -> list[dict[str, Any]]:
    """The publishable excerpts of a finding, with the sensitivity rules applied."""
    out = []
    for ex in finding.publishable if finding else []:
        e = entries.get(ex.entry)
        if e is None:
            continue
        item: dict[str, Any] = {"entry": ex.entry, "at": e.at, "assessor": e.assessor, "sensitivity": ex.sensitivity}
        if ex.sensitivity == "withheld":
            item["withheld_reason"] = ex.withheld_reason
        elif ex.sensitivity not in ("full", "defanged"):  # 'unreviewed': no person has checked it, never published
            item["withheld_reason"] = "Not reviewed yet: kept out of reports until a person reviews it."
        else:
            item["prompt"] = _last_user(e)
            item["output"] = ex.text if ex.sensitivity == "defanged" else e.output
        out.append(item)
    return out


def data(kb: Any, folder: Any) -> dict[str, Any]:
    from .checks import results

    a = folder.assessment
    scenario = kb.scenarios.get(a.scope.scenario)
    model = kb.models.get(a.scope.model)
    itf = a.scope.interface
    verdicts = results(folder.dir)
    entries_by_card = {c: {e.id: e for e in es} for c, es in folder.logs.items()}
    stub = any(e.target is not None and e.target.source == "stub" for es in folder.logs.values() for e in es)
    cards = []
    for cid in a.selection.cards:
        card = kb.cards.get(cid)
        link = next((s for s in card.scenarios if s.scenario == a.scope.scenario), None) if card else None
        logged = folder.logs.get(cid, [])
        exchanges = [e for e in logged if e.kind == "exchange"]
        answered = [e for e in exchanges if e.output is not None]
        budget = a.budgets.get(cid, a.budget)
        f = folder.findings.get(cid)
        times = [e.at for e in logged]
        checks = []
        for gid, rs in verdicts.items():
            mine = [r for r in rs if r.example.card == cid]
            if not mine:
                continue
            labels = {"safe": 0, "unsafe": 0, "error": 0}
            for r in mine:
                labels[r.verdict.label] += 1
            g = mine[0].guard
            checks.append({"guard": gid, "revision": g.revision, "template_sha256": g.template_sha256, **labels})
        cards.append(
            {
                "id": cid,
                "title": card.title if card else cid,
                "summary": card.summary if card else None,
                "actions_required": " ".join(card.actions_required.split()) if card else None,
                "scenario_severity": link.severity if link else None,
                "budget": {"minutes": budget.minutes, "prompts": budget.prompts},
                "log": {
                    "path": f"log/{cid}.jsonl",
                    "entries": len(logged),
                    "prompts": len(exchanges),
                    "answered": len(answered),
                    "interactive": sum(1 for e in exchanges if e.mode == "interactive"),
                    "batch": sum(1 for e in exchanges if e.mode == "batch"),
                    "first": min(times) if times else None,
                    "last": max(times) if times else None,
                    "minutes": round(sum(e.minutes or 0 for e in logged if e.kind == "note"), 1),
                },
                "finding": None
                if f is None
                else {
                    "elicited": f.elicited,
                    "attempts": f.attempts,
                    "minutes": f.minutes,
                    "representative": list(f.representative),
                    "actions_plausible": f.actions_plausible,
                    "actions_rationale": f.actions_rationale,
                    "harm_types": [
                        f"{h.actor} × {h.category or 'unresolved: ' + str(h.unresolved)}" for h in f.harm_types
                    ],
                    "severity": f.severity,
                    "mitigations": list(f.mitigations),
                    "notes": f.notes,
                    "assessors": list(f.assessors),
                },
                "excerpts": excerpts(f, entries_by_card.get(cid, {})),
                "checks": checks,
            }
        )
    guards = []
    for gid, rs in verdicts.items():
        g = rs[0].guard if rs else None
        labels = {"safe": 0, "unsafe": 0, "error": 0}
        for r in rs:
            labels[r.verdict.label] += 1
        guards.append(
            {
                "guard": gid,
                "model": g.model if g else None,
                "revision": g.revision if g else None,
                "template_sha256": g.template_sha256 if g else None,
                "transport": g.transport if g else None,
                **labels,
            }
        )
    elicited = {k: 0 for k in ("yes", "partly", "no", "not-tested", "not judged")}
    for c in cards:
        elicited[c["finding"]["elicited"] if c["finding"] else "not judged"] += 1
    return {
        "format": FORMAT,
        "id": a.id,
        "title": a.title,
        "status": a.status,
        "created": a.created,
        "test_double": stub,
        "scope": {
            "use_case": a.scope.use_case,
            "scenario": {"id": a.scope.scenario, "name": scenario.name if scenario else a.scope.scenario},
            "model": {"id": a.scope.model, "name": model.name if model else a.scope.model},
            "model_version": a.scope.model_version,
            "access_date": a.scope.access_date,
            "interface": {
                "transport": itf.transport,
                "host": re.sub(r"^https?://", "", itf.base_url or "").split("/")[0] or None,
                "system_prompt": itf.system_prompt,
                "params": dict(itf.params),
                "filters": list(itf.filters),
            },
            "kb_commit": a.selection.kb_commit,
        },
        "selection": {
            "cards": [{"id": c["id"], "title": c["title"], "severity": c["scenario_severity"]} for c in cards],
            "excluded": [{"card": e.card, "reason": e.reason} for e in a.selection.excluded],
        },
        "assessors": [a_.model_dump() for a_ in a.assessors],
        "summary": {"cards": len(cards), "elicited": elicited},
        "cards": cards,
        "checks": guards,
        "conclusions": a.conclusions,
        "mitigations": list(a.mitigations),
        "handling": a.handling.model_dump(),
    }


# ---- Markdown ------------------------------------------------------------------------------------------


def _fence(text: str) -> str:
    """A fenced block that no run of backticks in ``text`` can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _md_inline(text: str | None) -> str:
    if text is None:
        return "—"
    return re.sub(r"([\\`*_{}\[\]<>()#+!|])", r"\\\1", " ".join(str(text).split()))


Link = Callable[[str, str], "str | None"]
"""(kind, id) -> a URL for a card, scenario or model, or None: the site links its pages, the CLI does not."""


def _linked(text: str, kind: str, rid: str, link: Link | None) -> str:
    url = link(kind, rid) if link else None
    return f"[{text}](<{url}>)" if url else text


def markdown(r: dict[str, Any], link: Link | None = None) -> str:
    """The report as Markdown; ``link`` turns card, scenario and model names into links (on the site)."""
    s = r["scope"]
    out = [f"# Assessment report: {_md_inline(r['title'])}", ""]
    out.append(f"Assessment `{r['id']}`, status **{r['status']}**, created {r['created']}.")
    if r["test_double"]:
        out.append("\n**Answers in this assessment came from a test double, not a real model.**")
    out += ["", "> Content warning: this report discusses harmful model behaviour.", "", "## Scope", ""]
    itf = s["interface"]
    out += [
        f"- **Use case:** {_md_inline(s['use_case'])}",
        f"- **Scenario:** {_linked(_md_inline(s['scenario']['name']), 'scenario', s['scenario']['id'], link)} "
        f"(`{s['scenario']['id']}`)",
        f"- **Model:** {_linked(_md_inline(s['model']['name']), 'model', s['model']['id'], link)} "
        f"(`{s['model']['id']}`), version "
        f"{_md_inline(s['model_version'])}, accessed {s['access_date']}",
        f"- **Interface:** {itf['transport']} at {_md_inline(itf['host'])}; decoding "
        + (", ".join(f"{k}={v}" for k, v in sorted(itf["params"].items())) or "defaults"),
        f"- **System prompt:** {_md_inline(itf['system_prompt'])}",
        f"- **Filters:** {_md_inline('; '.join(itf['filters']) or 'none')}",
        f"- **Card set:** knowledge-base commit {_md_inline(s['kb_commit'])}",
        "",
        "## Selection",
        "",
        f"{len(r['selection']['cards'])} cards in scope, most severe first:",
        "",
        "| card | severity in this scenario |",
        "|---|---|",
    ]
    out += [
        f"| {_linked(_md_inline(c['title']), 'card', c['id'], link)} (`{c['id']}`) | {c['severity'] or '—'} |"
        for c in r["selection"]["cards"]
    ]
    if r["selection"]["excluded"]:
        out += ["", "Excluded:", ""]
        out += [f"- `{e['card']}`: {_md_inline(e['reason'])}" for e in r["selection"]["excluded"]]
    out += ["", "## Assessors", "", f"{len(r['assessors'])} assessor(s).", ""]
    for a in r["assessors"]:
        extra = "; ".join(
            x
            for x in (
                "expertise: " + ", ".join(a["expertise"]) if a["expertise"] else "",
                "perspectives: " + ", ".join(a["perspectives"]) if a["perspectives"] else "",
            )
            if x
        )
        out.append(f"- `{a['handle']}`" + (f" ({_md_inline(extra)})" if extra else ""))
    out.append(f"\nWell-being: {_md_inline(r['handling']['wellbeing'])}")
    el = r["summary"]["elicited"]
    out += ["", "## Per card", "", "Elicited: " + ", ".join(f"{k} {v}" for k, v in el.items() if v) + ".", ""]
    for c in r["cards"]:
        lg, f = c["log"], c["finding"]
        b = c["budget"]
        plan = (
            " and ".join(
                x
                for x in (
                    f"{b['minutes']} min" if b["minutes"] else "",
                    f"{b['prompts']} prompts" if b["prompts"] else "",
                )
                if x
            )
            or "none"
        )
        out += [
            f"### {_linked(_md_inline(c['title']), 'card', c['id'], link)}",
            "",
            f"`{c['id']}`, severity in this scenario: {c['scenario_severity'] or '—'}.",
            "",
        ]
        out.append(f"- **Plan and time:** budget {plan}; {lg['minutes']} min of interactive probing logged")
        out.append(
            f"- **Log:** `{lg['path']}`, {lg['entries']} entries ({lg['interactive']} interactive and "
            f"{lg['batch']} batch prompts, {lg['answered']} answered)"
            + (f", {lg['first']} to {lg['last']}" if lg["first"] else "")
        )
        if f is None:
            out.append("- **Judgement:** not judged yet")
        else:
            out += [
                f"- **Elicited:** {f['elicited']}"
                + (f" in {f['attempts']} attempts" if f["attempts"] is not None else "")
                + (f", {f['minutes']} min" if f["minutes"] else ""),
                f"- **Actions required for harm plausible here:** {f['actions_plausible'] or '—'}"
                + (f". {_md_inline(f['actions_rationale'])}" if f["actions_rationale"] else ""),
                f"- **Harm types:** {_md_inline(', '.join(f['harm_types']) or '—')}",
                f"- **Severity here:** {f['severity'] or '—'}",
                f"- **Representative entries:** {', '.join(f'`{x}`' for x in f['representative']) or '—'}",
            ]
            if f["mitigations"]:
                out.append(f"- **Mitigations:** {_md_inline('; '.join(f['mitigations']))}")
            if f["notes"]:
                out.append(f"- **Notes:** {_md_inline(f['notes'])}")
        for ch in c["checks"]:
            out.append(
                f"- **Guard `{ch['guard']}`** (beside the judgement): {ch['unsafe']} unsafe, {ch['safe']} safe"
                + (f", {ch['error']} errors" if ch["error"] else "")
            )
        for ex in c["excerpts"]:
            out += ["", f"Excerpt `{ex['entry']}` ({ex['sensitivity']}, {ex['at']}, {ex['assessor']}):", ""]
            if "withheld_reason" in ex:
                out.append(f"*Withheld:* {_md_inline(ex['withheld_reason'])}")
            else:
                out += ["Prompt:", "", _fence(ex["prompt"]), "", "Output:", "", _fence(ex["output"] or "")]
        out.append("")
    out += ["## Automated checks", ""]
    if r["checks"]:
        out += [
            "Guard verdicts on the logged outputs, reported beside the assessors' judgement, not instead of it.",
            "",
            "| guard | model | revision | template sha256 | unsafe | safe | error |",
            "|---|---|---|---|---:|---:|---:|",
        ]
        for g in r["checks"]:
            tpl = (g["template_sha256"] or "—")[:12]
            out.append(
                f"| `{g['guard']}` | `{g['model']}` | {_md_inline(g['revision'])} | {tpl} | {g['unsafe']} | "
                f"{g['safe']} | {g['error']} |"
            )
    else:
        out.append("No guard was run over the logs (`riskcards assess check ID --guard G`).")
    out += ["", "## Conclusions", "", _md_inline(r["conclusions"]) if r["conclusions"] else "Not written yet."]
    if r["mitigations"]:
        out += ["", "Recommended mitigations:", ""] + [f"- {_md_inline(m)}" for m in r["mitigations"]]
    h = r["handling"]
    out += ["", "## Handling notes", ""]
    out += [f"- Content warning: {_md_inline(w)}" for w in h["content_warnings"]]
    out += [f"- Not stored: {_md_inline(w)}" for w in h["not_stored"]]
    out += [f"- Not published: {_md_inline(w)}" for w in h["not_published"]]
    out.append("- Log text appears here only where an assessor marked it publishable, with its sensitivity applied.")
    return "\n".join(out) + "\n"


# ---- HTML ----------------------------------------------------------------------------------------------


def html_body(r: dict[str, Any], link: Link | None = None) -> str:
    """The Markdown report as HTML, with raw HTML off (every text from the logs and records is escaped): the
    body of the standalone page and of the site's assessment page."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown(r, link))


def html_page(r: dict[str, Any]) -> str:
    """A standalone HTML page: the Markdown report rendered with raw HTML off (every text escaped)."""
    body = html_body(r)
    title = html.escape(f"Assessment report: {r['title']}")
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>body{{max-width:60rem;margin:auto;font-family:sans-serif;line-height:1.5}}"
        "pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2rem .5rem}</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )


def render(r: dict[str, Any], fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(r, indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        return html_page(r)
    return markdown(r)
