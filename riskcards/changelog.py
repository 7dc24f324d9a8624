"""`riskcards changelog`: a CHANGELOG section from the git history of the records.

A section compares the records at two refs: ``since`` (default: the newest tag before ``until``, or the
empty tree when there is no tag, so the first release lists every card as added) and ``until`` (default:
``HEAD``; committed records only, the work tree is never read). Cards are listed as

* **Added**: new ids;
* **Renamed**: a new id that keeps the old one in ``aliases``;
* **Deprecated**: cards whose status became ``deprecated``, with the reason and replacement;
* **Changed**: cards whose version went up, with the card's own changelog notes for the new versions
  (cards changed without a version bump are listed too, marked as such);
* **Removed**: cards that disappeared (``validate --changed`` forbids this; listed so it is never hidden);

followed by taxonomies, crosswalks, scenarios, models and the harm-type vocabulary that were added,
changed or removed. ``--all`` writes one section per tag, newest first, as a whole CHANGELOG.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import gitbase
from .gitbase import GitError
from .paths import write_atomic

__all__ = ["GitError", "Section", "section", "render", "render_all", "write_section", "write_all"]

_KIND_TITLES = {
    "taxonomy": "Taxonomies",
    "crosswalk": "Crosswalks",
    "scenario": "Scenarios",
    "model": "Models",
    "harm-types": "Harm-type vocabulary",
}


@dataclass
class CardEntry:
    id: str
    title: str
    version: str | None = None
    old_version: str | None = None
    old_id: str | None = None
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    superseded_by: str | None = None


@dataclass
class Section:
    """What changed in the records between two refs."""

    heading: str
    since: str | None
    until: str
    date: str
    added: list[CardEntry] = field(default_factory=list)
    renamed: list[CardEntry] = field(default_factory=list)
    deprecated: list[CardEntry] = field(default_factory=list)
    changed: list[CardEntry] = field(default_factory=list)
    removed: list[CardEntry] = field(default_factory=list)
    other: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.renamed or self.deprecated or self.changed or self.removed or self.other)


def _s(data: dict | None, key: str) -> str | None:
    value = (data or {}).get(key)
    return value if isinstance(value, str) else None


def _list(data: dict | None, key: str) -> list:
    value = (data or {}).get(key)
    return value if isinstance(value, list) else []


def _content(data: dict | None) -> dict:
    return {k: v for k, v in (data or {}).items() if k not in ("version", "changelog")}


def _new_notes(before: dict | None, after: dict) -> list[str]:
    seen = {(e.get("version"), e.get("note")) for e in _list(before, "changelog") if isinstance(e, dict)}
    out = []
    for e in _list(after, "changelog"):
        if isinstance(e, dict) and (e.get("version"), e.get("note")) not in seen and isinstance(e.get("note"), str):
            out.append(f"{e.get('version')}: {e['note'].strip()}")
    return out


def section(root: Path, since: str | None = None, until: str = "HEAD", heading: str | None = None) -> Section:
    """The changes to the records between ``since`` and ``until``. Raises GitError."""
    root = Path(root)
    gitbase.repo_prefix(root)
    until_commit = gitbase.commit_of(root, until)
    if until_commit is None:
        raise GitError(f"{until!r} is not a commit in this repository")
    if since is None:
        since = _previous_tag(root, until)
    if since is None:
        since_commit = gitbase.empty_tree(root)
    else:
        found = gitbase.commit_of(root, since)
        if found is None:
            raise GitError(f"{since!r} is not a commit in this repository")
        since_commit = found
    date = gitbase.commit_date(root, until_commit)
    if heading is None:
        heading = f"{until} ({date})" if until in gitbase.tags(root) else f"Unreleased ({date})"
    out = Section(heading=heading, since=since, until=until, date=date)

    # Renames are paired by the cards' own aliases, not by git's similarity of file contents.
    changes = gitbase.changed_files(root, since_commit, until_commit, renames=False)
    before_texts = gitbase.read_at(root, since_commit, [c.old_path for c in changes if c.old_path])
    after_texts = gitbase.read_at(root, until_commit, [c.path for c in changes if c.status != "D"])

    deleted_cards: dict[str, dict] = {}
    added_cards: list[dict] = []
    for c in changes:
        before = gitbase.parse_record(before_texts.get(c.old_path)) if c.old_path else None
        after = gitbase.parse_record(after_texts.get(c.path)) if c.status != "D" else None
        kind = gitbase.record_kind(c.path)
        if kind == "card":
            if after is None and before is not None:
                deleted_cards[_s(before, "id") or Path(c.path).stem] = before
            elif after is not None and before is None:
                added_cards.append(after)
            elif after is not None and before is not None:
                _card_change(out, before, after)
        elif kind is not None:
            _other_change(out, kind, c, before, after)

    for after in added_cards:
        cid = _s(after, "id") or "?"
        old = next((a for a in _list(after, "aliases") if a in deleted_cards), None)
        if old is not None:
            _card_change(out, deleted_cards.pop(old), after)
        else:
            out.added.append(CardEntry(cid, _s(after, "title") or cid, _s(after, "version")))
    for cid, before in deleted_cards.items():
        out.removed.append(CardEntry(cid, _s(before, "title") or cid, old_version=_s(before, "version")))
    for group in (out.added, out.renamed, out.deprecated, out.changed, out.removed):
        group.sort(key=lambda e: e.id)
    for items in out.other.values():
        items.sort()
    return out


def _card_change(out: Section, before: dict, after: dict) -> None:
    cid = _s(after, "id") or "?"
    old_id = _s(before, "id")
    entry = CardEntry(
        cid, _s(after, "title") or cid, _s(after, "version"), _s(before, "version"), notes=_new_notes(before, after)
    )
    if old_id and old_id != cid:
        entry.old_id = old_id
        out.renamed.append(entry)
    if _s(after, "status") == "deprecated" and _s(before, "status") != "deprecated":
        entry.reason = (_s(after, "deprecated_reason") or "").strip() or None
        entry.superseded_by = _s(after, "superseded_by")
        out.deprecated.append(entry)
    elif entry.old_id is None and (_content(before) != _content(after) or entry.version != entry.old_version):
        out.changed.append(entry)


def _other_change(out: Section, kind: str, c: gitbase.Change, before: dict | None, after: dict | None) -> None:
    rid = _s(after, "id") or _s(before, "id") or Path(c.path).stem
    items = out.other.setdefault(_KIND_TITLES[kind], [])
    if before is None and after is not None:
        items.append(f"Added `{rid}`" + (f": {_s(after, 'name')}" if _s(after, "name") else ""))
    elif after is None:
        items.append(f"Removed `{rid}`")
    elif before != after:
        detail = ""
        if kind == "taxonomy":
            old = {x.get("code") for x in _list(before, "categories") if isinstance(x, dict)}
            new = {x.get("code") for x in _list(after, "categories") if isinstance(x, dict)}
            parts = []
            if new - old:
                parts.append("added codes " + ", ".join(f"`{x}`" for x in sorted(map(str, new - old))))
            if old - new:
                parts.append("removed codes " + ", ".join(f"`{x}`" for x in sorted(map(str, old - new))))
            detail = f" ({'; '.join(parts)})" if parts else ""
        items.append(f"Changed `{rid}`{detail}")
    if not items:
        del out.other[_KIND_TITLES[kind]]


def _previous_tag(root: Path, until: str) -> str | None:
    """The newest tag before ``until`` (when ``until`` is itself tagged, the one before that)."""
    if until in gitbase.tags(root):
        return gitbase.last_tag(root, f"{until}^") if gitbase.commit_of(root, f"{until}^") else None
    return gitbase.last_tag(root, until)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render(sec: Section) -> str:
    """The section as Markdown, starting with a '## ' heading."""
    lines = [f"## {sec.heading}", ""]
    lines.append(f"Changes to the records since `{sec.since}`." if sec.since else "First release: every record is new.")
    lines.append("")
    if sec.empty:
        lines += ["No changes to the records.", ""]
        return "\n".join(lines)

    def group(title: str, entries: list[CardEntry], fmt) -> None:
        if entries:
            lines.append(f"### {title}")
            lines.append("")
            lines.extend(fmt(e) for e in entries)
            lines.append("")

    group(
        "Added", sec.added, lambda e: f"- `{e.id}`" + (f" {e.version}" if e.version else "") + f": {_one_line(e.title)}"
    )
    group(
        "Renamed",
        sec.renamed,
        lambda e: "\n".join(
            [f"- `{e.old_id}` is now `{e.id}`: {_one_line(e.title)}", *(f"  - {_one_line(n)}" for n in e.notes)]
        ),
    )
    group(
        "Deprecated",
        sec.deprecated,
        lambda e: (
            f"- `{e.id}`: {_one_line(e.title)}"
            + (f". {_one_line(e.reason)}" if e.reason else "")
            + (f" Superseded by `{e.superseded_by}`." if e.superseded_by else "")
        ),
    )

    def changed(e: CardEntry) -> str:
        if e.version != e.old_version:
            head = f"- `{e.id}` {e.old_version} → {e.version}: {_one_line(e.title)}"
        else:
            head = f"- `{e.id}` {e.version} (changed without a version bump): {_one_line(e.title)}"
        return "\n".join([head, *(f"  - {_one_line(n)}" for n in e.notes)])

    group("Changed", sec.changed, changed)
    group("Removed", sec.removed, lambda e: f"- `{e.id}`: {_one_line(e.title)}")
    for title in sorted(sec.other):
        lines.append(f"### {title}")
        lines.append("")
        lines.extend(f"- {item}" for item in sec.other[title])
        lines.append("")
    return "\n".join(lines)


def render_all(root: Path, until: str = "HEAD") -> str:
    """A whole CHANGELOG.md: unreleased changes (if any), then one section per tag, newest first."""
    root = Path(root)
    tag_list = gitbase.tags(root)
    parts = ["# Changelog", "", "Changes to the RiskCards records, written by `riskcards changelog --all`.", ""]
    unreleased = None
    if not tag_list or gitbase.commit_of(root, tag_list[-1]) != gitbase.commit_of(root, until):
        unreleased = section(root, tag_list[-1] if tag_list else None, until)
        if not unreleased.empty or not tag_list:
            parts.append(render(unreleased))
    for i in range(len(tag_list) - 1, -1, -1):
        since = tag_list[i - 1] if i > 0 else None
        parts.append(render(section(root, since, tag_list[i])))
    return "\n".join(parts).rstrip("\n") + "\n"


def merge_section(existing: str, sec_text: str) -> str:
    """``existing`` CHANGELOG text with ``sec_text`` put first (replacing a section with the same heading)."""
    heading = sec_text.splitlines()[0]
    lines = existing.splitlines()
    # Drop an old section with the same heading.
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = lines[:start] + lines[end:]
    # Insert before the first section, after the title and intro.
    at = next((i for i, ln in enumerate(lines) if ln.startswith("## ")), len(lines))
    head = lines[:at] if lines else ["# Changelog", ""]
    if head and head[-1].strip():
        head.append("")
    body = [*head, *sec_text.rstrip("\n").splitlines(), "", *lines[at:]]
    return "\n".join(body).rstrip("\n") + "\n"


def write_section(path: Path, sec: Section) -> None:
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    write_atomic(path, merge_section(existing, render(sec)))


def write_all(path: Path, text: str) -> None:
    write_atomic(path, text)
