"""`riskcards validate --changed [--base REF]`: what a change may do to the knowledge base.

The whole knowledge base at the work tree is validated (cross-record checks need all of it), and the
problems reported are:

* every problem in a record file changed since the base (added, modified, renamed; staged, unstaged or
  untracked);
* cross-record problems in unchanged files that depend on a changed record (a card placed in a taxonomy
  whose file changed, a card superseded by a card that changed, an alias shared with a changed card ...);
* the change rules, which compare each changed record with its text at the base:

  - a card whose content changed (anything but ``version`` and ``changelog``) has a higher ``version``
    than at the base, and a ``changelog`` entry for that version; the changelog is append-only;
  - a card id never disappears: a card present at the base is still a card, or an alias of one
    (a rename keeps the old id in ``aliases``; a retired card stays, with ``status: deprecated``);
    aliases are never dropped;
  - an id is never reused: a new card cannot take an id that is an alias of another card, and a
    deprecated card is not brought back to life;
  - a taxonomy code, taxonomy, scenario, model or harm-type term is not removed while records use it.

The base is the merge base of ``--base`` (default: ``origin/main``, else ``main``, else ``HEAD``) and
``HEAD``; see ``riskcards.gitbase``. Outside a git repository ``GitError`` is raised (the CLI exits 2).
"""

from __future__ import annotations

import datetime as _dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import gitbase, ids
from .gitbase import Change, GitError
from .kb import KnowledgeBase
from .locate import Locator
from .problems import Problem, display_path
from .validate import Result, validate

__all__ = ["GitError", "validate_changed", "CROSS_CHECKS"]

CROSS_CHECKS = frozenset(
    {
        "unknown-code",
        "unknown-taxonomy",
        "unknown-model",
        "unknown-guard",
        "unknown-scenario",
        "unknown-card",
        "alias",
        "vocabulary",
        "lifecycle",
        "duplicate-id",
        "removed-in-use",
    }
)
"""Checks whose outcome in one file depends on other records; kept for unchanged files the change touches."""

_NOT_CONTENT = ("version", "changelog")
_MAX_LISTED = 5


@dataclass
class _Side:
    """One record file at the base or at head."""

    rel: str
    kind: str | None
    text: str | None = None
    data: dict | None = None
    record: Any = None  # the typed record, when it validates

    @property
    def id(self) -> str | None:
        value = self.data.get("id") if self.data else None
        return value if isinstance(value, str) else None

    def names(self) -> list[str]:
        """The card ids this file holds: its id and its aliases (from the raw data, valid or not)."""
        if not self.data:
            return []
        out = [self.id] if self.id else []
        aliases = self.data.get("aliases")
        if isinstance(aliases, list):
            out += [a for a in aliases if isinstance(a, str)]
        return out


@dataclass
class _Run:
    root: Path
    kb: KnowledgeBase
    named: str
    changes: list[Change]
    base: dict[str, _Side] = field(default_factory=dict)  # by base path
    head: dict[str, _Side] = field(default_factory=dict)  # by head path
    problems: list[Problem] = field(default_factory=list)
    _locators: dict[str, Locator] = field(default_factory=dict)
    _shown_to_record: dict[str, tuple[str, str]] | None = None

    def shown(self, rel: str) -> str:
        return display_path(self.root / rel, self.root)

    def locator(self, shown: str) -> Locator:
        if shown not in self._locators:
            try:
                text = (
                    (self.root / shown).read_text(encoding="utf-8")
                    if not Path(shown).is_absolute()
                    else Path(shown).read_text(encoding="utf-8")
                )
            except OSError:
                text = ""
            self._locators[shown] = Locator(text)
        return self._locators[shown]

    def at(self, rel: str, path: tuple, message: str, check: str, *, key: bool = False) -> None:
        shown = self.shown(rel)
        line, col = self.locator(shown).find(path, key=key)
        self.problems.append(Problem(shown, line, col, message, check))

    def at_deleted(self, rel: str, message: str, check: str) -> None:
        self.problems.append(Problem(self.shown(rel), 1, 1, message, check))

    def where(self, shown: str, path: tuple) -> str:
        line, col = self.locator(shown).find(path)
        return f"{shown}:{line}:{col}"

    def record_of(self, shown: str) -> tuple[str, str] | None:
        if self._shown_to_record is None:
            self._shown_to_record = {v: k for k, v in self.kb.paths.items()}
        return self._shown_to_record.get(shown)


def validate_changed(root: Path, base: str | None = None) -> Result:
    """Validate the records changed since ``base`` (and what the change breaks elsewhere). Raises GitError."""
    root = Path(root)
    named, commit = gitbase.resolve_base(root, base)
    changes = gitbase.changed_files(root, commit)
    result = validate(root)
    logs = _check_logs(root, named, commit)
    if not changes:
        return Result(kb=result.kb, problems=logs, checked=len(logs))
    run = _Run(root=root, kb=result.kb, named=named, changes=changes)
    _read_sides(run, commit)

    _check_cards(run)
    _check_placeholders(run)
    _check_removed_in_use(run)

    changed_shown = {run.shown(c.path) for c in changes}
    elsewhere: dict[tuple[str, str], list[Problem]] = {}
    for p in result.problems:
        if p.path in changed_shown:
            run.problems.append(p)
        elif p.check in CROSS_CHECKS and (rec := run.record_of(p.path)) is not None:
            elsewhere.setdefault(rec, []).append(p)
    if elsewhere:  # keep those the change can have caused
        touched = _touched(run)
        deps = _dependencies(run.kb, set(elsewhere))
        for rec, found in elsewhere.items():
            if deps.get(rec, set()) & touched:
                run.problems.extend(found)
    return Result(kb=result.kb, problems=sorted(set(run.problems + logs)), checked=len(changes))


def _check_logs(root: Path, named: str, commit: str) -> list[Problem]:
    """Assessment logs are append-only: every complete line a log had at the base is still there, unchanged
    and in its place (a last line without a newline is a cut-off write that the next writer removes)."""
    import json

    changes = gitbase.changed_files(root, commit, keep=gitbase.is_log_path, renames=False)
    olds = gitbase.read_at(root, commit, [c.old_path for c in changes if c.old_path])
    out: list[Problem] = []
    for c in changes:
        old = olds.get(c.old_path or "")
        if old is None:
            continue  # a new log
        shown = display_path(root / c.path, root)
        if c.status == "D":
            out.append(
                Problem(
                    shown, 1, 1, f"log {shown} was removed since {named}; logs are append-only: restore it", "lifecycle"
                )
            )
            continue
        try:
            new = (root / c.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            new = ""
        before = old.split("\n")[:-1]  # complete lines only
        after = new.split("\n")
        for i, line in enumerate(before):
            if i < len(after) and after[i] == line and (i < len(after) - 1):
                continue
            try:
                eid = json.loads(line).get("id")
            except (ValueError, AttributeError):
                eid = None
            what = f"log line {i + 1}" + (f" (entry {eid})" if isinstance(eid, str) else "")
            if i < len(after) - 1 or (i < len(after) and after[i]):
                msg = (
                    f"{what} was changed since {named}; logs are append-only: "
                    "restore the line as it was (add a note entry to correct it)"
                )
            else:
                msg = f"{what} was removed since {named}; logs are append-only: restore it"
            out.append(Problem(shown, i + 1, 1, msg, "lifecycle"))
            break
    return out


# --------------------------------------------------------------------------------------------------
# Reading both sides
# --------------------------------------------------------------------------------------------------


def _typed(kind: str | None, data: dict | None) -> Any:
    from pydantic import ValidationError

    from .models import KINDS

    if kind is None or data is None:
        return None
    try:
        return KINDS[kind].model_validate(data)
    except ValidationError:
        return None


def _read_sides(run: _Run, commit: str) -> None:
    base_paths = [c.old_path for c in run.changes if c.old_path]
    texts = gitbase.read_at(run.root, commit, base_paths)
    for rel in base_paths:
        data, kind = gitbase.parse_record(texts.get(rel)), gitbase.record_kind(rel)
        run.base[rel] = _Side(rel, kind, texts.get(rel), data, _typed(kind, data))
    for c in run.changes:
        if c.status == "D":
            continue
        try:
            text = (run.root / c.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        data, kind = gitbase.parse_record(text), gitbase.record_kind(c.path)
        run.head[c.path] = _Side(c.path, kind, text, data, _typed(kind, data))


# --------------------------------------------------------------------------------------------------
# Cards: ids never disappear nor get reused; content changes bump the version with a changelog entry
# --------------------------------------------------------------------------------------------------


def _enum(items) -> list[tuple[int, Any]]:
    """Index and item of a list that may be None or hold None (partial records of files with schema errors)."""
    return [(i, x) for i, x in enumerate(items or []) if x is not None]


def _items(items) -> list[Any]:
    return [x for x in items or [] if x is not None]


def _bumps(v: str) -> str:
    parts = v.split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) < 100 for p in parts):
        return "to a higher MAJOR.MINOR.PATCH"
    major, minor, patch = (int(p) for p in parts)
    return (
        f"{major}.{minor}.{patch + 1} for a correction, {major}.{minor + 1}.0 for new "
        f"examples, placements or scenarios, {major + 1}.0.0 when the risk's scope changes"
    )


def _content(side: _Side) -> Any:
    if side.record is not None:
        return side.record.model_dump(mode="json", exclude=set(_NOT_CONTENT))
    return {k: v for k, v in (side.data or {}).items() if k not in _NOT_CONTENT}


def _check_cards(run: _Run) -> None:
    kb = run.kb
    # Every card id and alias at head, by name -> owning card id, from the raw files (valid or not), so
    # that a card with a schema error is not mistaken for a removed one.
    head_owner: dict[str, str] = {}
    alias_owner: dict[str, str] = {}
    for cid, card in kb.cards.items():
        head_owner.setdefault(cid, cid)
        for a in _items(card.aliases):
            head_owner.setdefault(a, cid)
            alias_owner.setdefault(a, cid)
    for side in run.head.values():
        if side.kind == "card" and side.id:
            for name in side.names():
                head_owner.setdefault(name, side.id)

    added = [c for c in run.changes if c.status == "A" and run.head[c.path].kind == "card"]
    paired: set[str] = set()

    for c in run.changes:
        if c.old_path is None:
            continue
        before = run.base[c.old_path]
        if before.kind != "card" or before.data is None:
            continue
        after = run.head.get(c.path) if c.status != "D" else None
        old_id = before.id
        # 1. The card's own id.
        if old_id and old_id not in head_owner:
            if after is not None and after.id and after.id != old_id:
                how = "renamed" if c.status == "R" else "changed its id"
                hint = (
                    f"add 'aliases: [{old_id}]'"
                    if c.status == "R"
                    else (
                        f"keep 'id: {old_id}', or rename properly: move the file "
                        f"to cards/{after.id}.yaml and add 'aliases: [{old_id}]'"
                    )
                )
                run.at(
                    c.path,
                    ("id",),
                    f"card '{old_id}' {how} to '{after.id}' without keeping the old id; ids never disappear: {hint}",
                    "renamed-id",
                )
            elif after is None:
                target = _find_rename(run, before, added, paired)
                if target is not None:
                    paired.add(target.path)
                    new_id = run.head[target.path].id
                    run.at(
                        target.path,
                        ("id",),
                        (
                            f"card '{old_id}' ({c.old_path}) seems renamed to '{new_id}' without "
                            f"keeping the old id; ids never disappear: add 'aliases: [{old_id}]'"
                        ),
                        "renamed-id",
                    )
                else:
                    run.at_deleted(
                        c.old_path,
                        (
                            f"card '{old_id}' was removed; ids never disappear: restore {c.old_path} with status: "
                            "deprecated and a deprecated_reason (and superseded_by, if another card replaces it)"
                        ),
                        "removed-id",
                    )
        # 2. Former ids (aliases) stay reserved.
        if after is not None:
            for alias in before.names()[1:]:
                if alias not in head_owner:
                    run.at(
                        c.path,
                        ("aliases",),
                        f"alias '{alias}' was dropped; former ids stay reserved: keep it in 'aliases'",
                        "removed-id",
                        key="aliases" in (after.data or {}),
                    )
        if after is None or after.record is None or before.record is None:
            continue
        old, new = before.record, after.record
        # 3. A deprecated card stays deprecated.
        if old.status == "deprecated" and new.status != "deprecated":
            run.at(
                c.path,
                ("status",),
                (
                    f"card '{old.id}' is deprecated at {run.named}; a deprecated card stays deprecated and "
                    "its id is never reused: write a new card with a new id (and set superseded_by here to it)"
                ),
                "reused-id",
            )
        # 4. Versions and the changelog.
        _check_version(run, c.path, old, new, after)

    # 5. A new card does not take a former id of another card.
    for c in added:
        side = run.head[c.path]
        new_id = side.id
        if new_id and alias_owner.get(new_id, new_id) != new_id:
            run.at(
                c.path,
                ("id",),
                (
                    f"id '{new_id}' is a former id of card '{alias_owner[new_id]}' "
                    "(in its aliases); ids are never reused: choose another id"
                ),
                "reused-id",
            )


def _check_placeholders(run: _Run) -> None:
    """A changed card keeps none of the `riskcards new` template's 'TODO' placeholders."""
    for rel, side in run.head.items():
        if side.kind != "card" or not side.data:
            continue
        stack: list[tuple[tuple, Any]] = [((), side.data)]
        found: list[tuple] = []
        while stack:
            path, node = stack.pop()
            if isinstance(node, dict):
                stack.extend(((*path, k), v) for k, v in node.items() if isinstance(k, str))
            elif isinstance(node, list):
                stack.extend(((*path, i), v) for i, v in enumerate(node))
            elif isinstance(node, str) and node.lstrip().startswith("TODO"):
                found.append(path)
        for path in sorted(found, key=lambda p: run.locator(run.shown(rel)).find(p)):
            name = next((str(x) for x in reversed(path) if isinstance(x, str)), "value")
            run.at(
                rel,
                path,
                f"'{name}' still holds the template's TODO placeholder; write the real text (see CONTRIBUTING.md)",
                "placeholder",
            )


def _check_version(run: _Run, rel: str, old, new, after: _Side) -> None:
    before_side = _Side(rel, "card", data=None, record=old)
    changed = _content(before_side) != _content(after)
    old_v, new_v = ids.semver(old.version), ids.semver(new.version)
    if new_v < old_v:
        run.at(
            rel,
            ("version",),
            f"version {new.version} is lower than {old.version} at {run.named}; versions only go up",
            "version",
        )
        return
    if changed and new_v == old_v:
        run.at(
            rel,
            ("version",),
            (
                f"the card's content changed since {run.named} but its version is still {old.version}; "
                f"bump it ({_bumps(old.version)}) and add a changelog entry for the new version"
            ),
            "version",
        )
    elif new_v > old_v and not any(e.version == new.version for e in new.changelog):
        today = _dt.date.today().isoformat()
        has_key = "changelog" in (after.data or {})
        run.at(
            rel,
            ("changelog",) if has_key else ("version",),
            (
                f"version {new.version} needs a changelog entry saying what changed: add '- "
                f"{{version: {new.version}, date: \"{today}\", note: ...}}' under 'changelog'"
            ),
            "changelog",
            key=has_key,
        )
    for i, entry in enumerate(old.changelog):
        if i >= len(new.changelog) or new.changelog[i] != entry:
            path = ("changelog", i) if i < len(new.changelog) else ("changelog",)
            run.at(
                rel,
                path,
                (
                    f"changelog entry {i + 1} ({entry.version}, {entry.date}) was changed or removed since "
                    f"{run.named}; the changelog is append-only: restore it and add a new entry at the end"
                ),
                "changelog",
                key=path == ("changelog",),
            )
            break


def _find_rename(run: _Run, before: _Side, added: list[Change], paired: set[str]) -> Change | None:
    """A card added in the same change that looks like the removed one (git cannot pair untracked files)."""
    best, best_ratio = None, 0.0
    for c in added:
        if c.path in paired:
            continue
        after = run.head[c.path]
        if after.text is None or before.text is None:
            continue
        if after.data and before.data and after.data.get("title") == before.data.get("title"):
            return c
        m = difflib.SequenceMatcher(None, before.text, after.text, autojunk=False)
        if m.real_quick_ratio() < 0.6 or m.quick_ratio() < 0.6:
            continue
        ratio = m.ratio()
        if ratio >= 0.6 and ratio > best_ratio:
            best, best_ratio = c, ratio
    return best


# --------------------------------------------------------------------------------------------------
# Nothing is removed while it is in use
# --------------------------------------------------------------------------------------------------


def _provided(kind: str | None, record: Any) -> set[tuple]:
    """The names other records can refer to, that a record provides."""
    if record is None:
        return set()
    if kind == "taxonomy":
        return {("taxonomy", record.id)} | {("code", record.id, c.code) for c in _items(record.categories)}
    if kind in ("scenario", "model"):
        return {(kind, record.id)}
    if kind == "harm-types":
        return {("actor", t.id) for t in _items(record.actors)} | {
            ("harm-category", t.id) for t in _items(record.categories)
        }
    return set()


def _describe(name: tuple) -> str:
    what = {
        "taxonomy": "taxonomy",
        "scenario": "scenario",
        "model": "model",
        "actor": "harm-type actor",
        "harm-category": "harm category",
    }
    if name[0] == "code":
        return f"code '{name[2]}' of {name[1]}"
    return f"{what[name[0]]} '{name[1]}'"


def _uses(kb: KnowledgeBase, wanted: set[tuple]) -> dict[tuple, list[tuple[str, tuple]]]:
    """Where each wanted name is used at head: name -> [(shown path, path in the file)]."""
    uses: dict[tuple, list[tuple[str, tuple]]] = {}

    def add(name: tuple, shown: str, path: tuple) -> None:
        if name in wanted:
            uses.setdefault(name, []).append((shown, path))

    for cid, card in kb.cards.items():
        shown = kb.paths[("card", cid)]
        for i, ht in _enum(card.harm_types):
            add(("actor", ht.actor), shown, ("harm_types", i, "actor"))
            add(("harm-category", ht.category), shown, ("harm_types", i, "category"))
        for i, pl in _enum(card.placements):
            tax, _, code = (pl.ref or "").partition(":")
            add(("taxonomy", tax), shown, ("placements", i, "ref"))
            add(("code", tax, code), shown, ("placements", i, "ref"))
        for i, link in _enum(card.scenarios):
            add(("scenario", link.scenario), shown, ("scenarios", i, "scenario"))
        for i, ex in _enum(card.examples):
            prov = ex.provenance
            if prov is not None and prov.kind == "observed" and prov.model != "unknown":
                add(("model", prov.model), shown, ("examples", i, "provenance", "model"))
            for j, exp in _enum(ex.expected):
                add(("model", exp.guard), shown, ("examples", i, "expected", j, "guard"))
                guard = kb.models.get(exp.guard)
                if guard is not None and guard.guard is not None:
                    for k, code in _enum(exp.categories):
                        add(
                            ("code", guard.guard.taxonomy, code), shown, ("examples", i, "expected", j, "categories", k)
                        )
    for cwid, cw in kb.crosswalks.items():
        shown = kb.paths[("crosswalk", cwid)]
        add(("taxonomy", cw.source), shown, ("source",))
        add(("taxonomy", cw.target), shown, ("target",))
        for i, row in _enum(cw.relations):
            add(("code", cw.source, row.source), shown, ("relations", i, "source"))
            add(("code", cw.target, row.target), shown, ("relations", i, "target"))
    for mid, model in kb.models.items():
        if model.guard is not None:
            add(("taxonomy", model.guard.taxonomy), kb.paths[("model", mid)], ("guard", "taxonomy"))
    return uses


def _check_removed_in_use(run: _Run) -> None:
    candidates = [c for c in run.changes if c.old_path and run.base[c.old_path].kind not in (None, "card", "crosswalk")]
    if not candidates:
        return
    kb = run.kb
    head_names: set[tuple] = set()
    for tax in kb.taxonomies.values():
        head_names |= _provided("taxonomy", tax)
    for sid in kb.scenarios:
        head_names.add(("scenario", sid))
    for mid in kb.models:
        head_names.add(("model", mid))
    if kb.vocab is not None:
        head_names |= _provided("harm-types", kb.vocab)
    gone_by_change = []
    for c in candidates:
        if c.old_path is None:  # not a candidate (narrows the type)
            continue
        before = run.base[c.old_path]
        gone = _provided(before.kind, before.record) - head_names
        gone_taxonomies = {n[1] for n in gone if n[0] == "taxonomy"}
        gone_by_change.append((c, c.old_path, {n for n in gone if not (n[0] == "code" and n[1] in gone_taxonomies)}))
    wanted = set().union(*(g for _, _, g in gone_by_change))
    if not wanted:
        return
    uses = _uses(kb, wanted)
    for c, old_path, gone in gone_by_change:
        after = run.head.get(c.path) if c.status != "D" else None
        for name in sorted(gone):
            places = [(s, p) for s, p in uses.get(name, []) if s != run.shown(c.path)]
            if not places:
                continue
            listed = ", ".join(run.where(s, p) for s, p in places[:_MAX_LISTED])
            more = f" and {len(places) - _MAX_LISTED} more" if len(places) > _MAX_LISTED else ""
            message = (
                f"{_describe(name)} was removed but is still used at {listed}{more}; "
                "keep it, or change those records in the same change"
            )
            if after is None or after.data is None:
                run.at_deleted(old_path, message, "removed-in-use")
            else:
                key = {"code": "categories", "actor": "actors", "harm-category": "categories"}.get(name[0], "id")
                run.at(c.path, (key,), message, "removed-in-use", key=True)


# --------------------------------------------------------------------------------------------------
# Which unchanged records a change can break
# --------------------------------------------------------------------------------------------------


def _touched(run: _Run) -> set[str]:
    """Names (kind:id) of every record the change added, changed, renamed or removed."""
    out: set[str] = set()
    for side in [*run.base.values(), *run.head.values()]:
        if side.kind is None:
            continue
        if side.kind == "harm-types":
            out.add("vocab")
        elif side.kind == "card":
            out.update(f"card:{n}" for n in side.names())
        elif side.id:
            out.add(f"{side.kind}:{side.id}")
    return out


def _dependencies(kb: KnowledgeBase, records: set[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    """For records at head, (kind, id) -> the names whose change can break their cross-record checks."""
    deps: dict[tuple[str, str], set[str]] = {}
    for cid, card in kb.cards.items():
        if ("card", cid) not in records:
            continue
        d = {"vocab", f"card:{cid}"}
        d.update(f"card:{a}" for a in _items(card.aliases))
        if card.superseded_by:
            d.add(f"card:{card.superseded_by}")
        d.update(f"taxonomy:{(pl.ref or '').partition(':')[0]}" for pl in _items(card.placements))
        d.update(f"scenario:{s.scenario}" for s in _items(card.scenarios))
        for ex in _items(card.examples):
            if ex.provenance is not None and ex.provenance.kind == "observed":
                d.add(f"model:{ex.provenance.model}")
            for exp in _items(ex.expected):
                d.add(f"model:{exp.guard}")
                guard = kb.models.get(exp.guard)
                if guard is not None and guard.guard is not None:
                    d.add(f"taxonomy:{guard.guard.taxonomy}")
        deps[("card", cid)] = d
    for cwid, cw in kb.crosswalks.items():
        deps[("crosswalk", cwid)] = {f"crosswalk:{cwid}", f"taxonomy:{cw.source}", f"taxonomy:{cw.target}"}
    for mid, model in kb.models.items():
        deps[("model", mid)] = {f"model:{mid}"} | ({f"taxonomy:{model.guard.taxonomy}"} if model.guard else set())
    for tid in kb.taxonomies:
        deps[("taxonomy", tid)] = {f"taxonomy:{tid}"}
    for sid in kb.scenarios:
        deps[("scenario", sid)] = {f"scenario:{sid}"}
    return deps
