"""riskcards/changelog.py directly, on a real git repository: what a section lists between two refs, its
Markdown, one section per tag, and merging a section into an existing CHANGELOG.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_gitbase import git, write

from riskcards import changelog
from riskcards.changelog import GitError


def card(cid: str, version: str = "1.0.0", **extra: str) -> str:
    lines = [f"id: {cid}", f"title: Title of {cid}", f"version: {version}", "status: draft"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def commit(root: Path, message: str, tag: str | None = None) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    if tag:
        git(root, "tag", tag)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch):
    import os

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def history(tmp_path):
    """v1: cards a, b, c, d and a taxonomy; v2: every kind of change."""
    root = tmp_path / "kb"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for cid in "abcd":
        write(root, f"cards/{cid}.yaml", card(cid))
    write(root, "taxonomies/t.yaml", "id: t\nname: T\ncategories:\n  - {code: X1}\n  - {code: X2}\n")
    commit(root, "one", tag="v1")
    write(root, "cards/new.yaml", card("new"))  # added
    (root / "cards/b.yaml").unlink()
    write(root, "cards/b2.yaml", card("b2", aliases="[b]"))  # renamed, keeping the old id as an alias
    notes = 'changelog:\n  - {version: 1.1.0, date: "2026-01-01", note: "More examples."}'
    write(root, "cards/c.yaml", card("c", "1.1.0") + notes + "\n")  # changed with a bump and a note
    write(root, "cards/a.yaml", card("a", status_note="x"))  # changed without a bump
    text = card("d").replace("status: draft", "status: deprecated")
    write(root, "cards/d.yaml", text + "deprecated_reason: Folded into\n  another card.\nsuperseded_by: c\n")
    write(root, "taxonomies/t.yaml", "id: t\nname: T\ncategories:\n  - {code: X1}\n  - {code: X3}\n")
    write(root, "scenarios/s.yaml", "id: s\nname: A scenario\n")
    commit(root, "two", tag="v2")
    return root


def test_a_section_lists_every_kind_of_change(history):
    sec = changelog.section(history, "v1", "v2")
    assert sec.heading.startswith("v2 (") and sec.since == "v1" and sec.until == "v2"
    assert [e.id for e in sec.added] == ["new"]
    assert [(e.old_id, e.id) for e in sec.renamed] == [("b", "b2")]
    assert [(e.id, e.reason, e.superseded_by) for e in sec.deprecated] == [("d", "Folded into another card.", "c")]
    assert [(e.id, e.old_version, e.version, e.notes) for e in sec.changed] == [
        ("a", "1.0.0", "1.0.0", []),
        ("c", "1.0.0", "1.1.0", ["1.1.0: More examples."]),
    ]
    assert sec.removed == []
    assert sec.other == {
        "Scenarios": ["Added `s`: A scenario"],
        "Taxonomies": ["Changed `t` (added codes `X3`; removed codes `X2`)"],
    }


def test_the_markdown_of_a_section(history):
    text = changelog.render(changelog.section(history, "v1", "v2"))
    assert text.splitlines()[2] == "Changes to the records since `v1`."
    assert "### Added\n\n- `new` 1.0.0: Title of new\n" in text
    assert "### Renamed\n\n- `b` is now `b2`: Title of b2\n" in text
    assert "- `d`: Title of d. Folded into another card. Superseded by `c`." in text
    assert "- `a` 1.0.0 (changed without a version bump): Title of a" in text
    assert "- `c` 1.0.0 → 1.1.0: Title of c\n  - 1.1.0: More examples." in text
    assert "### Removed" not in text


def test_defaults_the_previous_tag_and_the_empty_tree_before_the_first(history):
    assert changelog.section(history, until="v2").since == "v1"  # a tagged until: the tag before it
    unreleased = changelog.section(history)  # HEAD (at v2, but not named as a tag): since the newest tag
    assert unreleased.since == "v2" and unreleased.empty
    first = changelog.section(history, until="v1")
    assert first.since is None and [e.id for e in first.added] == ["a", "b", "c", "d"]
    assert changelog.render(first).splitlines()[2] == "First release: every record is new."


def test_a_removed_card_is_listed_and_nothing_changed_says_so(history):
    (history / "cards/new.yaml").unlink()
    commit(history, "three")
    sec = changelog.section(history, "v2")
    assert sec.heading.startswith("Unreleased (")
    assert [e.id for e in sec.removed] == ["new"]
    same = changelog.section(history, "v2", "v2")
    assert same.empty and "No changes to the records." in changelog.render(same)


def test_the_work_tree_is_never_read(history):
    write(history, "cards/uncommitted.yaml", card("uncommitted"))
    assert changelog.section(history, "v2").empty


def test_render_all_has_one_section_per_tag_newest_first(history):
    text = changelog.render_all(history)
    headings = [ln for ln in text.splitlines() if ln.startswith("## ")]
    assert [h.split(" ")[1] for h in headings] == ["v2", "v1"]
    write(history, "cards/later.yaml", card("later"))
    commit(history, "later")
    headings = [ln for ln in changelog.render_all(history).splitlines() if ln.startswith("## ")]
    assert headings[0].startswith("## Unreleased") and len(headings) == 3


def test_unknown_refs_are_git_errors(history):
    with pytest.raises(GitError, match="'nope' is not a commit"):
        changelog.section(history, "nope")
    with pytest.raises(GitError, match="'nope' is not a commit"):
        changelog.section(history, "v1", "nope")


def test_merge_section_replaces_the_same_heading_and_goes_first():
    existing = "# Changelog\n\nIntro.\n\n## v1 (2026-01-01)\n\nold v1\n\n## v0 (2025-01-01)\n\nv0\n"
    merged = changelog.merge_section(existing, "## v2 (2026-02-01)\n\nnew\n")
    assert merged == (
        "# Changelog\n\nIntro.\n\n## v2 (2026-02-01)\n\nnew\n\n"
        "## v1 (2026-01-01)\n\nold v1\n\n## v0 (2025-01-01)\n\nv0\n"
    )
    again = changelog.merge_section(merged, "## v1 (2026-01-01)\n\nnew v1\n")
    assert again.count("## v1") == 1 and "old v1" not in again
    assert again.index("## v1") < again.index("## v2")
    assert changelog.merge_section("", "## v1 (x)\n\nbody\n") == "# Changelog\n\n## v1 (x)\n\nbody\n"


def test_write_section_creates_or_updates_the_file(history, tmp_path):
    out = tmp_path / "CHANGELOG.md"
    changelog.write_section(out, changelog.section(history, "v1", "v2"))
    changelog.write_section(out, changelog.section(history, "v1", "v2"))
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n") and text.count("## v2") == 1
