"""`riskcards index | query | show | taxonomies | taxonomy | models | scenarios | incidents | crosswalk | stats |
export`, and the body of `coverage` (declared with the guard commands).

Thin: options in, ``riskcards.query`` / ``riskcards.index`` / ``riskcards.exporters`` called, results printed.
The module imports only the standard library at the top: ``query``, ``show``, the listings and ``coverage``
are also served by ``fast_main`` (no typer/pydantic import) so a query process starts fast; typer is imported in
``register`` only, and rich only to draw a table.

Exit codes: 0 done, 1 the knowledge base has problems (nothing indexed), 2 usage error or unknown id.
"""

import os
import sys
from pathlib import Path

from ..paths import shown
from ..terms import COVERAGE_FORMATS, SEVERITIES, SHOW_FORMATS, STATUSES
from ..terms import QUERY_FORMATS as FORMATS

TYPE_CHECKING = False  # typing is not imported at run time: this module is on the fast path
if TYPE_CHECKING:
    from typing import Any

LISTINGS = {"taxonomies": 0, "taxonomy": 1, "models": 0, "scenarios": 0, "incidents": 0, "crosswalk": 2, "stats": 0}
"""The read-only listing commands and how many positional arguments each takes."""
FAST_COMMANDS = ("query", "show", *LISTINGS, "coverage")


class Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# Opening the index, rebuilding it when stale
# --------------------------------------------------------------------------------------------------


def _root(root: Path | str | None) -> Path:
    from ..query import find_root

    return Path(root) if root else find_root()


def _is_kb(root: Path) -> bool:
    """cards/ and taxonomies/, or cards/ on the package's base layer (``riskcards.baselayer``)."""
    from ..baselayer import enabled

    return (root / "cards").is_dir() and ((root / "taxonomies").is_dir() or enabled(root))


def run_build(root: Path, db: Path | None, *, quiet: bool = False, full: bool = False, how=None) -> Path | None:
    """Validate and index (``how()`` instead of a build, e.g. ``ensure_current``); on problems print them
    like `riskcards validate` and raise Exit(1)."""
    from ..index import IndexProblems, build

    try:
        report = how() if how else build(root, db, full=full)
    except IndexProblems as exc:
        from ..problems import render

        _err(render(exc.problems, "text", exc.checked))
        _err(f"index not written: fix the problems above; {db or 'the previous index'} is unchanged")
        raise Exit(1) from None
    if report is None:
        return db
    if not quiet:
        c = report.counts
        db_shown = shown(report.db_path)
        how = "written anew" if report.updated is None else f"updated in place, {report.updated} changed cards replaced"
        print(
            f"indexed {c['cards']} cards, {c['examples']} examples, "
            f"{c['placements']} placements, {c['taxonomies']} taxonomies, "
            f"{c['guard_results']} guard verdicts into {db_shown} ({how}) in {report.seconds:.2f} s"
        )
        if report.metadata_path:
            print(f"datasette: datasette {db_shown} -m {shown(report.metadata_path)}")
    return report.db_path


def open_index(db: Path | str | None, root: Path | str | None):
    """The index to read: the default one (rebuilt first when any source changed) or --db as it is."""
    from ..query import BadIndex, connect, default_db_path

    kb_root = _root(root)
    path = Path(db) if db else default_db_path(kb_root)
    if db is None and _is_kb(kb_root):  # an explicit --db is read as it is, even when it is the default path
        from ..index import ensure_current

        def before(p: Path) -> None:
            if p.exists():
                _err(f"riskcards: sources changed since {shown(p)} was built; rebuilding it")

        run_build(kb_root, path, quiet=True, how=lambda: ensure_current(kb_root, path, before=before))
    elif not path.exists():
        if db:
            _err(f"error: no index at {db}; build one with `riskcards index --db {db}`")
        else:
            _err(
                f"error: {kb_root} is not a knowledge base (no cards/) and has no index; "
                "use --root, or --db PATH for a downloaded index"
            )
        raise Exit(2)
    try:
        return connect(path)
    except BadIndex as exc:
        _err(f"error: {exc}")
        raise Exit(2) from None


def _unknown(exc) -> None:
    _err(f"error: {exc}")
    raise Exit(2)


# --------------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------------


def _json(data) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _table(
    columns: list[str],
    rows: list[list],
    title: str | None = None,
    caption: str | None = None,
    styles: "list[str | None] | None" = None,
    ids: int = 1,
) -> None:
    """A rich table on a terminal; plain aligned columns, nothing cut, when the output goes to a pipe or file.
    The first ``ids`` columns hold ids, never cut or wrapped on a terminal either; columns of numbers are aligned
    right there. ``styles`` (one per column, or None) colour a column's cells where they are not 0 or '-'."""
    if not sys.stdout.isatty():
        cells = [[("" if v is None else " ".join(str(v).split())) for v in row] for row in rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(columns)]
        lines = [title] if title else []
        for row in [columns, ["-" * w for w in widths], *cells]:
            lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if caption:
            lines.append(caption)
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, title_justify="left", caption_justify="left")
    for i, head in enumerate(columns):
        if i < ids:  # ids are copied from here: never cut or wrapped
            table.add_column(head, no_wrap=True, min_width=max([len(head)] + [len(str(r[i])) for r in rows]))
        else:
            numbers = bool(rows) and all(isinstance(r[i], int) for r in rows)
            table.add_column(head, justify="right" if numbers else "left")
    styles = styles or [None] * len(columns)
    for row in rows:  # Text cells: card text is never parsed as rich markup (and drawing is quicker)
        texts = ["" if v is None else " ".join(str(v).split()) for v in row]
        table.add_row(
            *[Text(t, style=st if st and t not in ("0", "-") else "") for t, st in zip(texts, styles, strict=True)]
        )
    console.print(table)


def _csv(columns: list[str], rows: list[list]) -> None:
    import csv

    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(columns)
    w.writerows([["" if v is None else v for v in row] for row in rows])


def _cut(text: str | None, n: int = 90) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------------------------------
# Commands (plain functions; both the typer app and the fast path call them)
# --------------------------------------------------------------------------------------------------


def do_query(*, db=None, root=None, fmt="table", limit=None, **filters) -> None:
    from ..query import BadQuery, Query, UnknownId, find_cards

    if fmt not in FORMATS:
        _err(f"error: unknown format '{fmt}'; one of: {', '.join(FORMATS)}")
        raise Exit(2)
    conn = open_index(db, root)
    q = Query(limit=limit, **filters)
    try:
        cards = find_cards(conn, q)
    except (UnknownId, BadQuery) as exc:
        _unknown(exc)
    if fmt == "json":
        _json({"query": q.as_dict(), "count": len(cards), "cards": cards})
        return
    if fmt == "ids":
        sys.stdout.write("".join(c["id"] + "\n" for c in cards))
        return
    columns, rows = _query_rows(q, cards, csv=fmt == "csv")
    if fmt == "csv":
        _csv(columns, rows)
        return
    if not cards:
        _err("no cards match")
        return
    _table(
        columns,
        rows,
        caption=f"{len(cards)} card{'s' * (len(cards) != 1)}"
        + ("; ~ = inferred through a crosswalk" if q.via_crosswalk else ""),
    )


def _query_rows(q, cards: list[dict], csv: bool) -> tuple[list[str], list[list]]:
    columns = ["id", "title", "severity" if q.scenario else "max severity", "status"]
    if q.scenario:
        columns.append("rationale")
    if q.incident:
        columns.append("how the incident shows it")
    if q.category:
        columns += ["inferred", "matched categories"] if csv else ["matched categories"]
    if q.model:
        columns.append("examples and guard outcomes" if not csv else "model examples")
    if q.assessed_on:
        columns.append("assessed (elicited)")
    if q.text:
        columns.append("text match")
    if csv:
        columns[1:1] = []
        columns.insert(2, "summary")
        columns.append("tags")
    rows = []
    for c in cards:
        row = [c["id"], c["title"] if csv else _cut(c["title"], 60)]
        if csv:
            row.append(c["summary"])
        row += [c["scenario"]["severity"] if q.scenario else c["max_severity"], c["status"]]
        if q.scenario:
            row.append(c["scenario"]["rationale"] if csv else _cut(c["scenario"]["rationale"], 70))
        if q.incident:
            row.append(c["incident"]["note"] if csv else _cut(c["incident"]["note"], 70))
        if q.category:
            if csv:
                row.append("yes" if c["inferred"] else "no")
            row.append(
                "; ".join(
                    ("~" if m["inferred"] else "")
                    + m["ref"]
                    + (f" (via {m['via']['crosswalk']})" if m["via"] and csv else "")
                    for m in c["matches"]
                )
            )
        if q.model:
            row.append(_outcomes(c["model"]))
        if q.assessed_on:
            row.append("; ".join(_assessed(a) for a in c["assessed"]))
        if q.text:
            t = c["text"]
            row.append(f"{t['in'][0]}: {t['snippet']}" if t["in"] else "")
        if csv:
            row.append("; ".join(c["tags"]))
        rows.append(row)
    return columns, rows


def _outcomes(m: dict) -> str:
    parts = []
    for ex in m["examples"]:
        exp = ", ".join(
            f"{e['guard']} {e['verdict']}" + (f" {'/'.join(e['categories'])}" if e["categories"] else "")
            for e in ex["expected"]
        )
        got = ", ".join(
            f"{r['guard']} {r['label']}"
            + (f" {'/'.join(r['categories'])}" if r["categories"] else "")
            + ("" if r["input_status"] == "current" else f" [{r['input_status']}]")
            for r in ex["results"]
        )
        parts.append(f"{ex['example_id']}: expected {exp or '-'}; recorded {got or '-'}")
    return " | ".join(parts)


def _assessed(a: dict) -> str:
    """One assessment of a card, in a few words: 'pharmacy-bot 2025-06-01: elicited yes (high here)'."""
    if not a["in_scope"]:
        return f"{a['assessment']}: excluded ({a['excluded_reason']})"
    result = f"elicited {a['elicited']}" if a["elicited"] else "not judged yet"
    if a["severity"]:
        result += f" ({a['severity']} here)"
    return f"{a['assessment']} {a['access_date']}: {result}, {a['answered']}/{a['prompts']} prompts answered"


def do_show(card_id: str, *, db=None, root=None, fmt="text") -> None:
    from ..query import UnknownId, card

    conn = open_index(db, root)
    try:
        c = card(conn, card_id)
    except UnknownId as exc:
        _unknown(exc)
    if fmt == "json":
        _json(c)
        return
    sys.stdout.write(render_card(c))


def render_card(c: dict) -> str:
    """A card as readable text (placements, scenarios and guards resolved to names)."""
    import textwrap

    def para(text: str, indent: str = "  ") -> list[str]:
        out = []
        for block in (text or "").strip().split("\n\n"):
            out += textwrap.wrap(" ".join(block.split()), 96, initial_indent=indent, subsequent_indent=indent) or [""]
        return out

    lines = [
        f"{c['title']}  ({c['id']})",
        f"status {c['status']} · version {c['version']} · created {c['created']}"
        + (f" · reviewed {c['last_reviewed']}" if c["last_reviewed"] else "")
        + (f" · max severity {c['max_severity']}" if c["max_severity"] else ""),
        "",
    ]
    lines += para(c["summary"], "") + [""]
    if c["status"] == "deprecated":
        lines += [
            f"DEPRECATED: {c['deprecated_reason']}"
            + (f" (superseded by {c['superseded_by']})" if c["superseded_by"] else ""),
            "",
        ]
    lines += (
        ["Description"] + para(c["description"]) + ["", "How it turns into harm"] + para(c["actions_required"]) + [""]
    )
    lines += ["Harm types"] + [f"  {h['actor']}: {h['category']}" for h in c["harm_types"]] + [""]
    if c["placements"]:
        lines.append("Placements")
        for p in c["placements"]:
            rel = "" if p["relation"] == "exact" else f" [{p['relation']}]"
            lines.append(f"  {p['ref']}  {p['taxonomy_name']}: {p['name']}{rel}")
            if p["rationale"]:
                lines += para(p["rationale"], "      ")
        lines.append("")
    if c["scenarios"]:
        lines.append("Scenarios")
        for s in sorted(c["scenarios"], key=lambda s: -SEVERITIES.index(s["severity"])):
            lines.append(f"  {s['severity']:<8} {s['name']} ({s['scenario']})")
            lines += para(s["rationale"], "           ")
        lines.append("")
    if c["examples"]:
        lines.append("Examples (content warning: they show harmful model behaviour; dangerous specifics are redacted)")
        for ex in c["examples"]:
            prov = ex["provenance"]
            src = (
                (
                    f"observed on {prov['model']}"
                    + (f" ({prov['model_name']})" if prov.get("model_name") else "")
                    + (f", {prov['date']}" if prov.get("date") else "")
                )
                if prov["kind"] == "observed"
                else "illustrative"
            )
            lines.append(f"  - {ex['id']} [{ex['language']}, {src}, {ex['sensitivity']}]")
            if ex["sensitivity"] == "withheld":
                lines += para(f"withheld: {ex.get('withheld_reason', '')}", "      ")
            elif ex["sensitivity"] == "unreviewed":
                lines += para("unreviewed: recorded output not yet checked by a person; not published", "      ")
            if ex.get("context"):
                lines += para(f"context: {ex['context']}", "      ")
            if ex.get("prompt"):
                lines += para(f"prompt: {ex['prompt']}", "      ") + para(f"output: {ex.get('output', '')}", "      ")
            for t in ex.get("turns") or []:
                lines += para(f"{t['role']}: {t['content']}", "      ")
            if ex.get("note"):
                lines += para(f"note: {ex['note']}", "      ")
            for e in ex["expected"]:
                lines.append(
                    f"      expected {e['guard']} on {e['target']}: {e['verdict']}"
                    + (f" {', '.join(e['categories'])}" if e["categories"] else "")
                )
            for r in ex["results"]:
                lines.append(
                    f"      recorded {r['guard_config']} on {r['target']}: {r['label']}"
                    + (f" {', '.join(r['categories'])}" if r["categories"] else "")
                    + f" ({r['run_at']}, input {r['input_status']})"
                )
        lines.append("")
    if c.get("assessments"):
        lines.append("Assessments (riskcards assess report ID)")
        for a in c["assessments"]:
            lines.append(
                f"  - {_assessed(a)}; model {a['model']}" + (f" {a['model_version']}" if a["model_version"] else "")
            )
        lines.append("")
    if c.get("incidents"):
        lines.append("Seen in deployment")
        for i in c["incidents"]:
            lines.append(f"  {i['date']:<10}  {i['title']} ({i['incident']})")
            lines += para(i["note"], "              ")
        lines.append("")
    related = [*c.get("related", []), *({**r, "stated_by_other": True} for r in c.get("related_by", []))]
    if related:
        lines.append("Related cards")
        for r in related:
            lines.append(
                f"  {r['relation']:<11} {r['card']}  {r['title']}"
                + (f" (stated on {r['card']})" if r.get("stated_by_other") else "")
            )
            lines += para(f"boundary: {r['boundary']}", "              ")
        lines.append("")
    if c["references"]:
        lines.append("References")
        for r in c["references"]:
            lines.append(
                f"  - {r['title']}"
                + (f" <{r['url']}>" if r.get("url") else "")
                + (f" doi:{r['doi']}" if r.get("doi") else "")
            )
        lines.append("")
    if c["tags"]:
        lines += [f"Tags: {', '.join(c['tags'])}"]
    lines.append(f"Source: {c['path']}")
    return "\n".join(lines) + "\n"


def do_listing(what: str, *, db=None, root=None, fmt="table", arg=None, arg2=None) -> None:
    from .. import query as Q

    conn = open_index(db, root)
    data: Any  # a list of rows, or a mapping for the taxonomy tree, a crosswalk and the stats
    try:
        if what == "taxonomies":
            data = Q.taxonomies(conn)
            cols = ["id", "short_name", "kind", "category_count", "cards", "used_categories"]
            heads = ["id", "name", "kind", "categories", "cards", "categories used"]
        elif what == "models":
            data = Q.models(conn)
            cols = ["id", "name", "kind", "provider", "guard_taxonomy", "observed_examples", "expectations", "verdicts"]
            heads = [
                "id",
                "name",
                "kind",
                "provider",
                "guard taxonomy",
                "observed examples",
                "expected verdicts",
                "recorded verdicts",
            ]
        elif what == "scenarios":
            data = Q.scenarios(conn)
            for d in data:
                d.update({k: v for k, v in d["by_severity"].items()})
            cols = ["id", "name", "cards", "critical", "high", "medium", "low"]
            heads = cols
        elif what == "incidents":
            data = Q.incidents(conn)
            for d in data:
                d["kinds"] = ", ".join(d["harm_kinds"])
            cols = ["id", "date", "title", "deployer", "kinds", "aiid", "confidence", "cards"]
            heads = ["id", "date", "title", "deployer", "harm kinds", "AIID", "confidence", "cards"]
        elif what == "taxonomy":
            data = Q.taxonomy_tree(conn, arg)
            cols = heads = []
        elif what == "crosswalk":
            data = Q.crosswalk(conn, arg, arg2)
            cols = ["a", "a_name", "relation", "b", "b_name", "crosswalk"]
            heads = [arg, "name", "relation", arg2, "name", "crosswalk"]
        elif what == "stats":
            data = Q.stats(conn)
            cols = heads = []
        else:  # pragma: no cover
            raise ValueError(what)
    except Q.UnknownId as exc:
        _unknown(exc)
    if fmt == "json":
        _json(data)
        return
    if what == "taxonomy":
        _print_tree(data, fmt)
        return
    if what == "stats":
        flat = [
            [k, ", ".join(f"{a}: {b}" for a, b in v.items()) if isinstance(v, dict) else v] for k, v in data.items()
        ]
        _csv(["what", "count"], flat) if fmt == "csv" else _table(["what", "count"], flat)
        return
    rows = data["relations"] if what == "crosswalk" else data
    if what == "crosswalk" and not rows:
        _err(f"no crosswalk between {arg} and {arg2} (crosswalks: `riskcards stats`, files in taxonomies/crosswalks/)")
        raise Exit(1)
    table = [[r[c] for c in cols] for r in rows]
    if fmt == "csv":
        _csv(heads, table)
    elif fmt == "ids":
        sys.stdout.write("".join(f"{r[cols[0]]}\n" for r in rows))
    else:
        _table(heads, table)


def _print_tree(data: dict, fmt: str) -> None:
    cats = data["categories"]
    if fmt == "csv":
        cols = [
            "ref",
            "code",
            "name",
            "level",
            "parent",
            "cards",
            "direct_cards",
            "coverage",
            "via_cards",
            "out_of_scope",
        ]
        _csv(cols, [[c[k] for k in cols] for c in cats])
        return
    if fmt == "ids":
        sys.stdout.write("".join(c["ref"] + "\n" for c in cats))
        return
    out = [f"{data['short_name'] or data['name']} ({data['id']}, {data['edition']})", ""]
    width = max((len(c["code"]) + 2 * (c["level"] - 1) for c in cats), default=0)
    marks = {"direct": "", "crosswalk": "  [via crosswalk{}]", "out-of-scope": "  [out of scope]", "gap": "  [gap]"}
    for c in cats:
        label = "  " * (c["level"] - 1) + c["code"]
        count = f"{c['cards']:>4} card{'s' * (c['cards'] != 1)}" if c["cards"] else "   - no card"
        via = f": {c['via_cards']} card{'s' * (c['via_cards'] != 1)}" if c["via_cards"] else ""
        out.append(f"{label:<{width}}  {count:<12}  {c['name']}{marks[c['coverage']].format(via)}")
    if data.get("missing_levels"):
        out.append("")
    for m in data.get("missing_levels", []):
        published = f" ({m['published_count']} categories published)" if m.get("published_count") is not None else ""
        out.append(f"missing level {m['level']}{published}: {m['note']}")
    reasons = [c for c in cats if c["coverage"] == "out-of-scope" and c["out_of_scope"]]
    if reasons:
        out += ["", "Out of scope:"] + [f"  {c['code']}: {c['out_of_scope']}" for c in reasons]
    empty = sum(1 for c in cats if c["empty"])
    cov = data["coverage"]
    out += [
        "",
        f"coverage: {cov['direct']} with cards, {cov['crosswalk']} through crosswalks only, "
        f"{cov['out-of-scope']} out of scope, {cov['gap']} gaps",
        f"{len(cats)} categories, {len(cats) - empty} with cards (counts include descendants), {empty} with no card",
    ]
    sys.stdout.write("\n".join(out) + "\n")


def do_coverage(*, guard=None, card=None, fmt="text", config=None, db=None, root=None) -> None:
    """`riskcards coverage`: the coverage cells of the index (table guard_coverage), per card and guard, with
    totals per guard and the expectations the verdicts disagree with."""
    from ..query import UnknownId, guard_coverage

    conn = open_index(db, root)
    try:
        try:
            data = guard_coverage(conn, guard, card)
        except UnknownId as exc:
            model = _configured_model(guard, root, config) if exc.kind == "guard" else None
            if model is None:
                raise
            data = guard_coverage(conn, model, card)  # a configured guard with no verdicts yet: its model's column
    except UnknownId as exc:
        if exc.kind != "guard":
            _unknown(exc)
        near = f" (did you mean {' or '.join(repr(x) for x in exc.suggestions)}?)" if exc.suggestions else ""
        _err(f"error: no guard '{guard}' in the recorded verdicts or the guard model records{near}")
        raise Exit(2) from None
    cells, totals = data["cells"], data["totals"]
    if fmt == "json":
        # orjson writes the same text as json.dumps(indent=2, ensure_ascii=False), 20x faster on the ~70 MB of
        # 10,000 cards
        import orjson

        sys.stdout.flush()
        sys.stdout.buffer.write(orjson.dumps({"cells": cells, "totals": totals}, option=orjson.OPT_INDENT_2) + b"\n")
        sys.stdout.flush()
        return
    # Guards with no verdict and no expectation would add a row of 'not run' per card: listed once instead
    quiet = [] if guard else [g["id"] for g in data["guards"] if not g["results"] and not g["expected"]]
    cells = [c for c in cells if c["guard"] not in set(quiet)]
    tiered = any(c["conditional"] or c["tiers"] for c in cells)

    def expected(c: dict) -> str:
        return f"{c['match']}/{c['expected']}" if c["expected"] else "-"

    head = ["card", "guard", "units", "flagged", *(["conditional", "tiers"] if tiered else []), "missed"]
    tail = ["outside policy", "errored", "not run", "not runnable", "on target", "expected ✓", "disagree"]
    red = ["red", *(["dark_orange", None] if tiered else []), "yellow"]
    rows = [
        [
            c["card"],
            c["guard"],
            c["units"],
            c["flagged"],
            *([c["conditional"], _tiers(c["tiers"])] if tiered else []),
            c["missed"],
            c["outside"],
            c["errored"],
            f"{c['not_run']} ({c['stale']} stale)" if c["stale"] else c["not_run"],
            c["not_runnable"],
            c["on_target"],
            expected(c),
            c["mismatch"] + c["expected_error"],
        ]
        for c in cells
    ]
    styles = [None, None, None, *red, None, "magenta", *[None] * 4, "bold red"]
    _table([*head, *tail], rows, "Guard coverage per card", styles=styles, ids=2)
    tot = []
    for g in data["guards"]:
        t = totals[g["id"]]
        tot.append(
            [
                g["id"],
                t["units"],
                t["flagged"],
                *([t["conditional"]] if tiered else []),
                t["missed"],
                t["outside"],
                t["errored"],
                t["not_run"],
                t["not_runnable"],
                t["on_target"],
                expected(t),
                t["mismatch"] + t["expected_error"],
            ]
        )
    cols = ["guard", "units", "flagged", *(["conditional"] if tiered else []), "missed", *tail]
    print()
    _table(cols, tot, "Totals per guard")
    if quiet:
        print(
            f"\n{len(quiet)} guard(s) with no verdicts and no expectations, not run on any card (left out of the "
            f"first table; --guard ID shows one): {', '.join(quiet)}"
        )
    dis = [(c, d) for c in cells for d in c["disagreements"]]
    if dis:
        print("\nExpected vs observed disagreements")
        for c, d in dis:
            exp = d["expected"] + (f" {d['expected_categories']}" if d["expected_categories"] else "")
            obs = d["observed"] + (f" {d['observed_categories']}" if d.get("observed_categories") else "")
            print(f"  {c['card']}/{d['example']} ({d['target']}) {c['guard']}: expected {exp}, observed {obs}")


def _tiers(tiers: dict[str, int]) -> str:
    return " ".join(f"{t}×{n}" for t, n in sorted(tiers.items())) or "-"


def _configured_model(guard: str | None, root: "Path | str | None", config: "Path | None") -> str | None:
    """The model of guard ``guard`` in the guard config, or None (no config, a broken one, no such guard)."""
    if guard is None:
        return None
    from ..guards.config import ConfigError, config_path, load_config

    found = _root(root)
    path = config_path(found, config)
    try:
        configs = load_config(path, found) if path.is_file() else {}
    except ConfigError:
        return None
    return configs[guard].entry.model if guard in configs else None


def do_export(*, fmt="json", out=None, db=None, root=None, **filters) -> None:
    from ..exporters import export, get
    from ..query import Query, UnknownId, find_cards

    conn = open_index(db, root)
    q = Query(**filters)
    ids = None
    if q.as_dict():
        try:
            ids = [c["id"] for c in find_cards(conn, q)]
        except UnknownId as exc:
            _unknown(exc)
    try:
        n = export(conn, fmt, out, ids=ids, query=q.as_dict() or None)
    except ValueError as exc:
        _err(f"error: {exc}")
        raise Exit(2) from None
    if out:
        _err(f"wrote {n} {get(fmt).unit} to {out}")


def do_index(*, db=None, root=None, metadata=False, schema_doc=False, full=False) -> None:
    if metadata or schema_doc:
        from ..index import datasette_metadata, schema_markdown

        if metadata:
            _json(datasette_metadata(Path(db).stem if db else "riskcards"))
        else:
            sys.stdout.write(schema_markdown())
        return
    kb_root = _root(root)
    if not _is_kb(kb_root):
        _err(f"error: {kb_root} is not a knowledge base (no cards/); use --root")
        raise Exit(2)
    run_build(kb_root, Path(db) if db else None, full=full)


# --------------------------------------------------------------------------------------------------
# Fast path: `query` and `show` without importing typer, rich (unless drawing on a terminal) or pydantic
# --------------------------------------------------------------------------------------------------


_LISTING_OPTIONS = {"--format": "fmt", "-f": "fmt", "--db": "db", "--root": "root"}
_VALUE_OPTIONS = {
    **{name: _LISTING_OPTIONS for name in LISTINGS},
    "query": {
        "--model": "model",
        "-m": "model",
        "--scenario": "scenario",
        "-s": "scenario",
        "--category": "category",
        "-c": "category",
        "--taxonomy": "taxonomy",
        "-t": "taxonomy",
        "--harm-type": "harm_type",
        "--text": "text",
        "-q": "text",
        "--status": "status",
        "--min-severity": "min_severity",
        "--assessed-on": "assessed_on",
        "--tag": "tag",
        "--incident": "incident",
        "--format": "fmt",
        "-f": "fmt",
        "--limit": "limit",
        "--db": "db",
        "--root": "root",
    },
    "show": {"--format": "fmt", "-f": "fmt", "--db": "db", "--root": "root"},
    "coverage": {"--guard": "guard", "-g": "guard", "--config": "config", **_LISTING_OPTIONS},
}
_MULTI_OPTIONS = {"coverage": {"--card": "card", "-c": "card"}}
"""Options that may be given more than once (a list of values)."""
_FLAG_OPTIONS = {
    "query": {"--via-crosswalk": "via_crosswalk"},
    "show": {},
    "coverage": {},
    **{name: {} for name in LISTINGS},
}


def _parse(command: str, args: list[str]) -> dict | None:
    """The options of a fast command as the typer commands declare them, or None for anything unusual
    (then typer parses, and reports usage errors its own way). argparse is not used: it imports shutil,
    bz2 and lzma, which costs more than the whole query."""
    values, flags, multi = _VALUE_OPTIONS[command], _FLAG_OPTIONS[command], _MULTI_OPTIONS.get(command, {})
    opts: dict = {"fmt": "text" if command in ("show", "coverage") else "table", "db": None, "root": None}
    if command in ("query", "coverage"):
        opts.update({v: None for v in (*values.values(), *multi.values()) if v not in opts})
    if command == "query":
        opts["via_crosswalk"] = False
    positional: list[str] = []

    def give(option: str, value: str) -> None:
        if option in multi:  # repeatable: the values in order
            opts[multi[option]] = [*(opts[multi[option]] or []), value]
        else:
            opts[values[option]] = value

    i = 0
    while i < len(args):
        a = args[i]
        name, eq, value = a.partition("=")
        if a.startswith("--") and eq and (name in values or name in multi):
            give(name, value)
        elif a in flags:
            opts[flags[a]] = True
        elif a in values or a in multi:
            if i + 1 >= len(args):
                return None
            give(a, args[i + 1])
            i += 1
        elif a.startswith("-") and a != "-":
            return None
        else:
            positional.append(a)
        i += 1
    if command in ("query", "coverage"):
        if positional:
            return None
        if opts.get("limit") is not None:
            try:
                opts["limit"] = int(opts["limit"])
            except ValueError:
                return None
    elif command == "show":
        if len(positional) != 1:
            return None
        opts["card_id"] = positional[0]
    else:
        if len(positional) != LISTINGS[command]:
            return None
        opts.update(zip(("arg", "arg2"), positional, strict=False))
    return opts


def fast_main(argv: list[str]) -> int | None:
    """Run `query`, `show` and the listings without typer. None means: not handled here (help, odd options),
    use the typer app."""
    command, rest = argv[0], argv[1:]
    if command not in FAST_COMMANDS or any(
        a in ("-h", "--help") or a.startswith("--show-completion") or a.startswith("--install-completion") for a in rest
    ):
        return None
    opts = _parse(command, rest)
    if opts is None:
        return None
    try:
        if command == "query":
            if opts["fmt"] not in FORMATS:
                return None
            do_query(**opts)
        elif command == "show":
            if opts["fmt"] not in SHOW_FORMATS:
                return None
            do_show(opts.pop("card_id"), **opts)
        elif command == "coverage":
            if opts["fmt"] not in COVERAGE_FORMATS:
                return None
            do_coverage(**opts)
        else:
            if opts["fmt"] not in FORMATS:
                return None
            do_listing(command, **opts)
    except Exit as exc:
        return exc.code
    except BrokenPipeError:
        return 0
    return 0


# --------------------------------------------------------------------------------------------------
# typer commands
# --------------------------------------------------------------------------------------------------


def _completer(kind: str):
    def complete(incomplete: str) -> list[str]:
        from ..query import BadIndex, connect, default_db_path
        from ..query import complete as comp

        path = Path(os.environ.get("RISKCARDS_DB") or default_db_path(_root(None)))
        try:
            conn = connect(path)
        except BadIndex:
            return []
        return comp(conn, kind, incomplete or "")

    return complete


def register(app) -> None:  # noqa: C901 - one block of declarations
    from enum import Enum
    from typing import Annotated

    import typer

    Fmt = Enum("Fmt", {f: f for f in FORMATS}, type=str)  # noqa: N806
    ShowFmt = Enum("ShowFmt", {f: f for f in SHOW_FORMATS}, type=str)  # noqa: N806
    from ..exporters import formats as export_formats

    ExportFmt = Enum("ExportFmt", {e.name: e.name for e in export_formats()}, type=str)  # noqa: N806
    export_help = ", ".join(e.help for e in export_formats())
    Sev = Enum("Sev", {s: s for s in SEVERITIES}, type=str)  # noqa: N806
    Status = Enum("Status", {s: s for s in STATUSES}, type=str)  # noqa: N806

    Db = Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="The index to read (default: <root>/build/riskcards.db, rebuilt when "
            "sources changed). Any index works, e.g. a downloaded one.",
        ),
    ]
    Root = Annotated[
        Path | None, typer.Option("--root", help="Knowledge-base root (default: found from the current folder).")
    ]
    Model = Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="Cards with examples observed on this model (with guard outcomes); "
            "for a guard model, cards whose examples it was run on or is expected to judge.",
            autocompletion=_completer("model"),
        ),
    ]
    Scenario = Annotated[
        str | None,
        typer.Option(
            "--scenario",
            "-s",
            help="Cards that apply to this scenario, most severe first, with the rationale.",
            autocompletion=_completer("scenario"),
        ),
    ]
    Category = Annotated[
        str | None,
        typer.Option(
            "--category",
            "-c",
            help="taxonomy-id:code; includes the category's descendants.",
            autocompletion=_completer("category"),
        ),
    ]
    Via = Annotated[
        bool,
        typer.Option(
            "--via-crosswalk", help="With --category: also follow crosswalk relations (results marked inferred)."
        ),
    ]
    Tax = Annotated[
        str | None,
        typer.Option(
            "--taxonomy", "-t", help="Cards placed anywhere in this taxonomy.", autocompletion=_completer("taxonomy")
        ),
    ]
    Harm = Annotated[
        str | None,
        typer.Option(
            "--harm-type", help="An actor, a harm category, or actor:category.", autocompletion=_completer("harm-type")
        ),
    ]
    Text = Annotated[
        str | None,
        typer.Option("--text", "-q", help="Full-text search over card and example text (FTS5 syntax allowed)."),
    ]
    St = Annotated[Status | None, typer.Option("--status", help="draft, reviewed or deprecated.")]
    AssessedOn = Annotated[
        str | None,
        typer.Option(
            "--assessed-on",
            help="Cards assessed on this model (assessments/), with the assessors' result.",
            autocompletion=_completer("model"),
        ),
    ]
    Tag = Annotated[
        str | None,
        typer.Option(
            "--tag",
            help="Cards with this keyword, or the card a garak tag names (risk-cards:lmrc:<name>, '_' or '-').",
        ),
    ]
    MinSev = Annotated[
        Sev | None,
        typer.Option("--min-severity", help="At least this severity (in --scenario, else the card's highest)."),
    ]
    Incident = Annotated[
        str | None,
        typer.Option(
            "--incident",
            help="Cards that link this incident (incidents/<id>.yaml), with how it shows their risk.",
            autocompletion=_completer("incident"),
        ),
    ]

    def _run(fn, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except Exit as exc:
            raise typer.Exit(exc.code) from None

    def _v(e):
        """An option's value: an Enum member's value, a default given as a plain string, or None."""
        return e.value if isinstance(e, Enum) else e

    filter_names = (
        *("model", "scenario", "category", "via_crosswalk", "taxonomy"),
        *("harm_type", "text", "status", "min_severity", "tag", "incident"),
    )

    def _filters(options: dict) -> dict:
        """The query filters among a command's options (`query` and `export` share them)."""
        return {name: _v(options[name]) for name in filter_names}

    @app.command("index")
    def index_cmd(
        db: Db = None,
        root: Root = None,
        metadata: Annotated[
            bool, typer.Option("--metadata", help="Print the Datasette metadata (JSON) instead of building.")
        ] = False,
        schema_doc: Annotated[
            bool, typer.Option("--schema-doc", help="Print the schema documentation (markdown) instead of building.")
        ] = False,
        full: Annotated[
            bool, typer.Option("--full", help="Write the index anew instead of replacing only the changed cards' rows.")
        ] = False,
    ) -> None:
        """Validate the knowledge base and build the SQLite index (atomically; an invalid knowledge base writes
        nothing).

        When only cards changed since the existing index was built, a copy of it gets the changed cards' rows
        replaced and is renamed over it; the result holds the same rows as a fresh build (--full)."""
        _run(do_index, db=db, root=root, metadata=metadata, schema_doc=schema_doc, full=full)

    @app.command("query")
    def query_cmd(
        model: Model = None,
        scenario: Scenario = None,
        category: Category = None,
        via_crosswalk: Via = False,
        taxonomy: Tax = None,
        harm_type: Harm = None,
        text: Text = None,
        status: St = None,
        min_severity: MinSev = None,
        assessed_on: AssessedOn = None,
        tag: Tag = None,
        incident: Incident = None,
        fmt: Annotated[Fmt, typer.Option("--format", "-f", help="table, json, csv or ids.")] = "table",
        limit: Annotated[int | None, typer.Option("--limit", help="At most this many cards.")] = None,
        db: Db = None,
        root: Root = None,
    ) -> None:
        """Find cards: every given filter must hold. Unknown ids and codes are errors with the nearest matches."""
        filters = _filters(locals())
        _run(do_query, db=db, root=root, fmt=_v(fmt), limit=limit, assessed_on=assessed_on, **filters)

    @app.command("show")
    def show_cmd(
        card_id: Annotated[str, typer.Argument(help="Card id (or a former id).", autocompletion=_completer("card"))],
        fmt: Annotated[ShowFmt, typer.Option("--format", "-f", help="text or json.")] = "text",
        db: Db = None,
        root: Root = None,
    ) -> None:
        """Show one card: placements, scenarios, guard outcomes, incidents and related cards resolved to names."""
        _run(do_show, card_id, db=db, root=root, fmt=_v(fmt))

    ListFmt = Annotated[Fmt, typer.Option("--format", "-f", help="table, json, csv or ids.")]  # noqa: N806

    @app.command("taxonomies")
    def taxonomies_cmd(fmt: ListFmt = "table", db: Db = None, root: Root = None) -> None:
        """List the taxonomies with their category and card counts."""
        _run(do_listing, "taxonomies", db=db, root=root, fmt=_v(fmt))

    @app.command("taxonomy")
    def taxonomy_cmd(
        taxonomy_id: Annotated[str, typer.Argument(help="Taxonomy id.", autocompletion=_completer("taxonomy"))],
        fmt: ListFmt = "table",
        db: Db = None,
        root: Root = None,
    ) -> None:
        """Show a taxonomy's category tree with card counts; categories with no card are marked."""
        _run(do_listing, "taxonomy", db=db, root=root, fmt=_v(fmt), arg=taxonomy_id)

    @app.command("models")
    def models_cmd(fmt: ListFmt = "table", db: Db = None, root: Root = None) -> None:
        """List language models and guard models with example and verdict counts."""
        _run(do_listing, "models", db=db, root=root, fmt=_v(fmt))

    @app.command("scenarios")
    def scenarios_cmd(fmt: ListFmt = "table", db: Db = None, root: Root = None) -> None:
        """List deployment scenarios with card counts by severity."""
        _run(do_listing, "scenarios", db=db, root=root, fmt=_v(fmt))

    @app.command("incidents")
    def incidents_cmd(fmt: ListFmt = "table", db: Db = None, root: Root = None) -> None:
        """List real incidents, oldest first, with harm kinds, AI Incident Database numbers and linked-card counts."""
        _run(do_listing, "incidents", db=db, root=root, fmt=_v(fmt))

    @app.command("crosswalk")
    def crosswalk_cmd(
        a: Annotated[str, typer.Argument(help="A taxonomy id.", autocompletion=_completer("taxonomy"))],
        b: Annotated[str, typer.Argument(help="Another taxonomy id.", autocompletion=_completer("taxonomy"))],
        fmt: ListFmt = "table",
        db: Db = None,
        root: Root = None,
    ) -> None:
        """Show how the categories of taxonomies A and B relate (from crosswalks in either direction)."""
        _run(do_listing, "crosswalk", db=db, root=root, fmt=_v(fmt), arg=a, arg2=b)

    @app.command("stats")
    def stats_cmd(fmt: ListFmt = "table", db: Db = None, root: Root = None) -> None:
        """Counts of cards, examples, placements, verdicts and more."""
        _run(do_listing, "stats", db=db, root=root, fmt=_v(fmt))

    @app.command("export")
    def export_cmd(
        fmt: Annotated[
            ExportFmt,
            typer.Option(
                "--format",
                "-f",
                help=f"One of: {export_help}. A format that writes several files needs --out (a folder or a .zip).",
            ),
        ] = "json",
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="File to write (atomically); default: standard output.")
        ] = None,
        model: Model = None,
        scenario: Scenario = None,
        category: Category = None,
        via_crosswalk: Via = False,
        taxonomy: Tax = None,
        harm_type: Harm = None,
        text: Text = None,
        status: St = None,
        min_severity: MinSev = None,
        tag: Tag = None,
        incident: Incident = None,
        db: Db = None,
        root: Root = None,
    ) -> None:
        """Export the whole knowledge base, or the cards a query finds (same filters as `query`)."""
        _run(do_export, fmt=_v(fmt), out=out, db=db, root=root, **_filters(locals()))
