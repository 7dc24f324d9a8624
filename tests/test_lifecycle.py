"""`riskcards validate --changed [--base REF]`, driven through the CLI in real temporary git repositories.

Each test builds a knowledge base, commits it on `main`, branches, changes something the way a
contributor would, and checks the exact located messages (or a clean pass).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

DATA = REPO / "tests" / "data" / "lifecycle"
CARD = "invented-legal-citations"
CARD_PATH = f"cards/{CARD}.yaml"

GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "RISKCARDS_"))},
    "GIT_AUTHOR_NAME": "Test Contributor",
    "GIT_AUTHOR_EMAIL": "contributor@example.org",
    "GIT_COMMITTER_NAME": "Test Contributor",
    "GIT_COMMITTER_EMAIL": "contributor@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


class Repo:
    """A knowledge base in a git repository, committed on main, with a feature branch checked out."""

    def __init__(self, root: Path):
        self.root = root

    def git(self, *args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=self.root, env=GIT_ENV, capture_output=True, text=True, check=True)
        return proc.stdout

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str) -> None:
        text = self.read(rel)
        assert text.count(old) == 1, f"{old!r} is not once in {rel}"
        self.write(rel, text.replace(old, new))

    def commit(self, message: str = "change") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def riskcards(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "riskcards", *args],
            cwd=cwd or self.root,
            env=GIT_ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def changed(self, *extra: str) -> subprocess.CompletedProcess:
        return self.riskcards("validate", "--changed", "--base", "main", *extra)

    def pos(self, rel: str, needle: str, offset: int = 0) -> tuple[int, int]:
        """1-based line and column of the first ``needle`` in the file, plus ``offset`` columns."""
        text = self.read(rel)
        i = text.index(needle)
        line = text.count("\n", 0, i) + 1
        return line, i - (text.rfind("\n", 0, i) + 1) + 1 + offset

    def at(self, rel: str, needle: str, offset: int, message: str) -> str:
        line, col = self.pos(rel, needle, offset)
        return f"{rel}:{line}:{col}: {message}"


def card_text(card_id: str = CARD, title: str | None = None) -> str:
    text = (DATA / f"{CARD}.yaml").read_text(encoding="utf-8")
    text = text.replace(f"id: {CARD}\n", f"id: {card_id}\n")
    if title:
        text = re.sub(r"(?m)^title: .*$", f"title: {title}", text)
    return text


def make_repo(dest: Path, cards: dict[str, str] | None = None) -> Repo:
    dest.mkdir(parents=True)
    for sub in ("taxonomies", "vocab", "models", "scenarios", "schema"):
        shutil.copytree(REPO / sub, dest / sub)
    repo = Repo(dest)
    for card_id, text in (cards or {CARD: card_text()}).items():
        repo.write(f"cards/{card_id}.yaml", text)
    repo.git("init", "-q", "-b", "main")
    repo.commit("knowledge base")
    repo.git("checkout", "-q", "-b", "contribution")
    return repo


def lines(proc: subprocess.CompletedProcess) -> list[str]:
    return proc.stdout.strip().splitlines()


def problems(proc: subprocess.CompletedProcess) -> list[str]:
    """The problem lines of a text report (without the closing count line)."""
    return [ln for ln in lines(proc) if not re.match(r"^\d+ problems? in \d+ files?|^ok: ", ln)]


def bump(repo: Repo, rel: str, version: str, note: str = "Clarified the description.") -> None:
    repo.edit(rel, "version: 1.0.0\n", f"version: {version}\n")
    repo.write(rel, repo.read(rel) + f'changelog:\n  - version: {version}\n    date: "2026-11-29"\n    note: {note}\n')


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path / "kb")


# --------------------------------------------------------------------------------------------------
# Passing changes
# --------------------------------------------------------------------------------------------------


def test_nothing_changed_passes(repo):
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines(proc) == ["ok: 0 files checked, no problems"]


def test_branch_adding_a_good_card_passes(repo):
    repo.write(
        "cards/fabricated-statistics.yaml", card_text("fabricated-statistics", "Fabricated statistics quoted as fact")
    )
    repo.commit("add a card")
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines(proc) == ["ok: 1 files checked, no problems"]


def test_untracked_new_card_counts_as_changed(repo):
    repo.write(
        "cards/fabricated-statistics.yaml",
        card_text("fabricated-statistics").replace("status: draft", "status: reviewd"),
    )
    proc = repo.changed()
    assert proc.returncode == 1
    rel = "cards/fabricated-statistics.yaml"
    assert problems(proc) == [
        repo.at(
            rel,
            "status: reviewd",
            8,
            (
                "'reviewd' is not allowed for 'status' (did you mean "
                "'reviewed'?); write one of: draft, reviewed, deprecated"
            ),
        )
    ]


def test_content_change_with_version_bump_and_changelog_passes(repo):
    repo.edit(
        CARD_PATH,
        "title: Invented court cases cited as legal authority",
        "title: Invented court decisions cited as legal authority",
    )
    bump(repo, CARD_PATH, "1.0.1", "Clarified the title.")
    repo.commit()
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert lines(proc) == ["ok: 1 files checked, no problems"]


def test_formatting_only_change_needs_no_bump(repo):
    # Comments, quoting and key order are not content.
    repo.edit(CARD_PATH, "status: draft\n", 'status: "draft"  # still a draft\n')
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rename_with_alias_passes(repo):
    repo.git("mv", CARD_PATH, "cards/invented-case-law.yaml")
    rel = "cards/invented-case-law.yaml"
    repo.edit(rel, f"id: {CARD}\n", f"id: invented-case-law\naliases: [{CARD}]\n")
    bump(repo, rel, "1.1.0", "Renamed from invented-legal-citations.")
    repo.commit("rename")
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_deprecation_done_right_passes(tmp_path):
    repo = make_repo(
        tmp_path / "kb", {CARD: card_text(), "invented-case-law": card_text("invented-case-law", "Invented case law")}
    )
    repo.edit(
        CARD_PATH,
        "status: draft\n",
        "status: deprecated\ndeprecated_reason: Merged into invented-case-law.\nsuperseded_by: invented-case-law\n",
    )
    bump(repo, CARD_PATH, "1.0.1", "Deprecated in favour of invented-case-law.")
    repo.commit()
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------------------------------
# Each rule, broken
# --------------------------------------------------------------------------------------------------


def test_content_changed_without_version_bump(repo):
    repo.edit(CARD_PATH, "severity: medium", "severity: high")
    repo.commit()
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "version: 1.0.0",
            9,
            (
                "the card's content changed since main but its version is still 1.0.0; bump it "
                "(1.0.1 for a correction, 1.1.0 for new examples, placements or scenarios, 2.0.0 "
                "when the risk's scope changes) and add a changelog entry for the new version"
            ),
        ),
    ]
    assert lines(proc)[-1] == "1 problem in 1 file (1 checked)"


def test_uncommitted_change_is_checked_too(repo):
    repo.edit(CARD_PATH, "severity: medium", "severity: high")  # not committed
    proc = repo.changed()
    assert proc.returncode == 1
    assert "its version is still 1.0.0" in proc.stdout


def test_version_bumped_without_changelog_line(repo):
    repo.edit(CARD_PATH, "severity: medium", "severity: high")
    repo.edit(CARD_PATH, "version: 1.0.0\n", "version: 1.0.1\n")
    repo.commit()
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "version: 1.0.1",
            9,
            (
                f"version 1.0.1 needs a changelog entry saying what changed: add '- {{version: "
                f"1.0.1, date: \"{dt.date.today().isoformat()}\", note: ...}}' under 'changelog'"
            ),
        ),
    ]


def test_version_going_down(tmp_path):
    repo = make_repo(tmp_path / "kb", {CARD: card_text().replace("version: 1.0.0", "version: 1.2.0")})
    repo.edit(CARD_PATH, "version: 1.2.0", "version: 1.1.9")
    proc = repo.changed()
    assert problems(proc) == [
        repo.at(CARD_PATH, "version: 1.1.9", 9, "version 1.1.9 is lower than 1.2.0 at main; versions only go up")
    ]


def test_changelog_is_append_only(repo):
    bump(repo, CARD_PATH, "1.0.1", "First fix.")
    repo.commit("main-like history")
    repo.git("branch", "-f", "main", "HEAD")
    repo.edit(CARD_PATH, "note: First fix.", "note: The first fix.")
    repo.edit(CARD_PATH, "\nversion: 1.0.1\n", "\nversion: 1.0.2\n")
    repo.write(CARD_PATH, repo.read(CARD_PATH) + '  - version: 1.0.2\n    date: "2026-11-30"\n    note: Reworded.\n')
    proc = repo.changed()
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "- version: 1.0.1",
            2,
            (
                "changelog entry 1 (1.0.1, 2026-11-29) was changed or removed since main; "
                "the changelog is append-only: restore it and add a new entry at the end"
            ),
        ),
    ]


def test_deprecated_without_reason(repo):
    repo.edit(CARD_PATH, "status: draft\n", "status: deprecated\n")
    bump(repo, CARD_PATH, "1.0.1", "Deprecated.")
    repo.commit()
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        repo.at(
            CARD_PATH, "status: deprecated", 8, "status 'deprecated' needs 'deprecated_reason' (why it was retired)"
        ),
    ]


def test_reviewed_without_reviewer_and_date(repo):
    repo.edit(CARD_PATH, "status: draft\n", "status: reviewed\n")
    bump(repo, CARD_PATH, "1.0.1", "Reviewed.")
    proc = repo.changed()
    assert problems(proc) == [
        repo.at(CARD_PATH, "status: reviewed", 8, "status 'reviewed' needs 'last_reviewed' (when, YYYY-MM-DD)"),
        repo.at(CARD_PATH, "status: reviewed", 8, "status 'reviewed' needs 'reviewers' (who reviewed it)"),
    ]


def test_superseded_by_a_deprecated_card(tmp_path):
    old = card_text("invented-case-law", "Invented case law").replace(
        "status: draft\n", "status: deprecated\ndeprecated_reason: Too narrow.\n"
    )
    repo = make_repo(tmp_path / "kb", {CARD: card_text(), "invented-case-law": old})
    repo.edit(
        CARD_PATH,
        "status: draft\n",
        "status: deprecated\ndeprecated_reason: Duplicate.\nsuperseded_by: invented-case-law\n",
    )
    bump(repo, CARD_PATH, "1.0.1", "Deprecated.")
    repo.commit()
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "superseded_by: invented-case-law",
            15,
            "superseded_by 'invented-case-law' is itself deprecated; point at a live card",
        ),
    ]


def test_deprecating_a_card_breaks_the_unchanged_card_it_supersedes(tmp_path):
    # The cross-record problem lands in a file the branch did not touch, and is still reported.
    older = card_text("invented-case-law", "Invented case law").replace(
        "status: draft\n", f"status: deprecated\ndeprecated_reason: Merged.\nsuperseded_by: {CARD}\n"
    )
    repo = make_repo(tmp_path / "kb", {CARD: card_text(), "invented-case-law": older})
    repo.edit(CARD_PATH, "status: draft\n", "status: deprecated\ndeprecated_reason: Out of scope.\n")
    bump(repo, CARD_PATH, "1.0.1", "Deprecated.")
    repo.commit()
    proc = repo.changed()
    other = "cards/invented-case-law.yaml"
    assert problems(proc) == [
        repo.at(
            other, f"superseded_by: {CARD}", 15, f"superseded_by '{CARD}' is itself deprecated; point at a live card"
        )
    ]


def test_deprecated_card_cannot_come_back(tmp_path):
    dep = card_text().replace("status: draft\n", "status: deprecated\ndeprecated_reason: Out of scope.\n")
    repo = make_repo(tmp_path / "kb", {CARD: dep})
    repo.edit(CARD_PATH, "status: deprecated\ndeprecated_reason: Out of scope.\n", "status: draft\n")
    bump(repo, CARD_PATH, "2.0.0", "A different risk now.")
    proc = repo.changed()
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "status: draft",
            8,
            (
                f"card '{CARD}' is deprecated at main; a deprecated card stays deprecated and its id "
                "is never reused: write a new card with a new id (and set superseded_by here to it)"
            ),
        ),
    ]


def test_id_removed(tmp_path):
    repo = make_repo(
        tmp_path / "kb", {CARD: card_text(), "invented-case-law": card_text("invented-case-law", "Invented case law")}
    )
    repo.git("rm", "-q", CARD_PATH)
    repo.commit("remove")
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        (
            f"{CARD_PATH}:1:1: card '{CARD}' was removed; ids never disappear: restore {CARD_PATH} with "
            "status: deprecated and a deprecated_reason (and superseded_by, if another card replaces it)"
        ),
    ]


def test_renamed_id_without_alias(repo):
    repo.git("mv", CARD_PATH, "cards/invented-case-law.yaml")
    rel = "cards/invented-case-law.yaml"
    repo.edit(rel, f"id: {CARD}\n", "id: invented-case-law\n")
    bump(repo, rel, "1.1.0", "Renamed.")
    repo.commit("rename")
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        repo.at(
            rel,
            "id: invented-case-law",
            4,
            (
                f"card '{CARD}' renamed to 'invented-case-law' without keeping "
                f"the old id; ids never disappear: add 'aliases: [{CARD}]'"
            ),
        ),
    ]


def test_renamed_id_without_alias_in_untracked_files(repo):
    # Not committed, and the new file untracked: git cannot pair them, the check still does.
    rel = "cards/invented-case-law.yaml"
    repo.write(rel, repo.read(CARD_PATH).replace(f"id: {CARD}\n", "id: invented-case-law\n"))
    (repo.root / CARD_PATH).unlink()
    proc = repo.changed()
    assert problems(proc) == [
        repo.at(
            rel,
            "id: invented-case-law",
            4,
            (
                f"card '{CARD}' ({CARD_PATH}) seems renamed to 'invented-case-law' "
                f"without keeping the old id; ids never disappear: add 'aliases: [{CARD}]'"
            ),
        ),
    ]


def test_id_changed_in_place(repo):
    repo.edit(CARD_PATH, f"id: {CARD}\n", "id: invented-case-law\n")
    bump(repo, CARD_PATH, "1.0.1", "New id.")
    proc = repo.changed()
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "id: invented-case-law",
            4,
            (
                f"card '{CARD}' changed its id to 'invented-case-law' without keeping the "
                f"old id; ids never disappear: keep 'id: {CARD}', or rename properly: "
                f"move the file to cards/invented-case-law.yaml and add 'aliases: [{CARD}]'"
            ),
        ),
        repo.at(
            CARD_PATH,
            "id: invented-case-law",
            4,
            (
                f"id 'invented-case-law' differs from the file name '{CARD}.yaml'; "
                f"rename the file to 'invented-case-law.yaml' or set 'id: {CARD}'"
            ),
        ),
    ]


def test_alias_dropped(tmp_path):
    repo = make_repo(
        tmp_path / "kb", {CARD: card_text().replace(f"id: {CARD}\n", f"id: {CARD}\naliases: [invented-case-law]\n")}
    )
    repo.edit(CARD_PATH, "aliases: [invented-case-law]\n", "aliases: []\n")
    bump(repo, CARD_PATH, "1.0.1", "Dropped the alias.")
    proc = repo.changed()
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "aliases: []",
            0,
            "alias 'invented-case-law' was dropped; former ids stay reserved: keep it in 'aliases'",
        ),
    ]


def test_alias_collision(tmp_path):
    repo = make_repo(
        tmp_path / "kb", {CARD: card_text(), "invented-case-law": card_text("invented-case-law", "Invented case law")}
    )
    repo.edit(CARD_PATH, f"id: {CARD}\n", f"id: {CARD}\naliases: [invented-case-law]\n")
    bump(repo, CARD_PATH, "1.0.1", "Alias.")
    repo.commit()
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        repo.at(
            CARD_PATH,
            "aliases: [invented-case-law]",
            10,
            (
                "alias 'invented-case-law' is the id of card 'invented-case-law'; "
                "ids and aliases are unique across the knowledge base"
            ),
        ),
    ]


def test_new_card_cannot_reuse_a_former_id(tmp_path):
    repo = make_repo(
        tmp_path / "kb", {CARD: card_text().replace(f"id: {CARD}\n", f"id: {CARD}\naliases: [invented-case-law]\n")}
    )
    rel = "cards/invented-case-law.yaml"
    repo.write(rel, card_text("invented-case-law", "Invented case law"))
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        # the new card is told why ...
        repo.at(
            rel,
            "id: invented-case-law",
            4,
            (
                f"id 'invented-case-law' is a former id of card '{CARD}' "
                "(in its aliases); ids are never reused: choose another id"
            ),
        ),
        # ... and the unchanged card's alias now collides (reported there, because the change caused it)
        repo.at(
            CARD_PATH,
            "aliases: [invented-case-law]",
            10,
            (
                "alias 'invented-case-law' is the id of card 'invented-case-law'; "
                "ids and aliases are unique across the knowledge base"
            ),
        ),
    ]


def _drop_category(repo: Repo, rel: str, code: str) -> None:
    text = repo.read(rel)
    start = text.index(f"- code: {code}\n")
    end = text.index("- code: ", start + 1)
    repo.write(rel, text[:start] + text[end:])


def test_code_removed_while_in_use(repo):
    tax = "taxonomies/llama-guard-3.yaml"
    _drop_category(repo, tax, "S6")
    repo.commit("drop S6")
    proc = repo.changed()
    assert proc.returncode == 1
    got = problems(proc)
    placement = "{}:{}:{}".format(CARD_PATH, *repo.pos(CARD_PATH, "llama-guard-3:S6", 0))
    category = "{}:{}:{}".format(CARD_PATH, *repo.pos(CARD_PATH, "categories: [S6]", 13))
    removed = [p for p in got if p.startswith(tax)]
    assert len(removed) == 1
    assert removed[0].startswith(
        repo.at(tax, "categories:", 0, "code 'S6' of llama-guard-3 was removed but is still used at ")
    )
    assert placement in removed[0] and category in removed[0]
    assert removed[0].endswith("; keep it, or change those records in the same change")
    # the cards that use it are unchanged, but the change breaks them: reported too
    assert repo.at(
        CARD_PATH, "llama-guard-3:S6", 0, "'S6' is not a code of llama-guard-3; closest valid codes: S5, S7, S1"
    ) in got or any(p.startswith(placement + ": 'S6' is not a code of llama-guard-3") for p in got)
    assert any(p.startswith(category + ": 'S6' is not a category of llama-guard-3") for p in got)


def test_unused_code_may_be_removed(repo):
    tax = "taxonomies/llama-guard-3.yaml"
    repo.edit(tax, "\n- code: S1\n", "\n- code: X-test-only\n  name: Test only\n  level: 1\n- code: S1\n")
    repo.commit("a code nobody uses")
    repo.git("branch", "-f", "main", "HEAD")
    _drop_category(repo, tax, "X-test-only")
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout


def test_taxonomy_removed_while_in_use(repo):
    repo.git("rm", "-q", "taxonomies/nist-ai-600-1.yaml")
    proc = repo.changed()
    got = problems(proc)
    use = "{}:{}:{}".format(CARD_PATH, *repo.pos(CARD_PATH, "nist-ai-600-1:2", 0))
    assert (
        "taxonomies/nist-ai-600-1.yaml:1:1: taxonomy 'nist-ai-600-1' was removed but "
        f"is still used at {use}; keep it, or change those records in the same change"
    ) in got
    assert any(p.startswith(use + ": unknown taxonomy 'nist-ai-600-1'") for p in got)


def test_template_placeholders_left_in_a_changed_card(repo):
    rel = "cards/wrong-filing-deadlines.yaml"
    proc = repo.riskcards(
        "new",
        "wrong-filing-deadlines",
        "--title",
        "Wrong court filing deadlines",
        "--summary",
        "The model states deadlines that are wrong for the jurisdiction.",
        "--scenario",
        "legal-assistant",
    )
    assert proc.returncode == 0, proc.stderr
    assert repo.riskcards("validate", rel).returncode == 0  # the skeleton is a valid card ...
    proc = repo.changed()  # ... but not a finished one
    msg = "still holds the template's TODO placeholder; write the real text (see CONTRIBUTING.md)"
    assert problems(proc) == [
        repo.at(rel, "description: |", 13, f"'description' {msg}"),
        repo.at(rel, "actions_required: |", 18, f"'actions_required' {msg}"),
        repo.at(rel, '"TODO: the prompt"', 0, f"'prompt' {msg}"),
        repo.at(rel, '"TODO: the output', 0, f"'output' {msg}"),
        repo.at(rel, '"TODO: why this severity', 0, f"'rationale' {msg}"),
    ]


def test_problems_in_unchanged_files_are_not_reported(tmp_path):
    broken = card_text("invented-case-law", "Invented case law").replace("severity: medium", "severity: huge")
    repo = make_repo(tmp_path / "kb", {CARD: card_text(), "invented-case-law": broken})
    repo.write("cards/fabricated-statistics.yaml", card_text("fabricated-statistics", "Fabricated statistics"))
    assert repo.changed().returncode == 0
    whole = repo.riskcards("validate")
    assert whole.returncode == 1 and "cards/invented-case-law.yaml" in whole.stdout


# --------------------------------------------------------------------------------------------------
# Output, bases and usage errors
# --------------------------------------------------------------------------------------------------

GITHUB_LINE = re.compile(
    r"^::error file=(?P<file>[^,:]+),line=(?P<line>[1-9]\d*),col=(?P<col>[1-9]\d*),"
    r"title=(?P<title>[^,:]+)::(?P<msg>[^\r\n]*)$"
)


def test_github_format_matches_the_annotation_syntax(repo):
    repo.edit(CARD_PATH, "severity: medium", "severity: high")
    repo.edit(CARD_PATH, "status: draft\n", "status: deprecated\n")
    repo.write(
        "cards/fifty-percent.yaml",
        card_text("fifty-percent", "Fifty percent")
        .replace('created: "2026-11-28"', 'created: "2026-02-30"')
        .replace("scenario: customer-support-bot", "scenario: 50%-of-support-bots"),
    )
    proc = repo.changed("--format", "github")
    assert proc.returncode == 1
    out = lines(proc)
    assert out and all(GITHUB_LINE.match(ln) for ln in out), out
    line, col = repo.pos("cards/fifty-percent.yaml", "50%-of", 0)
    assert any(
        ln.startswith(
            f"::error file=cards/fifty-percent.yaml,line={line},col={col},title=schema::'50%25-of-support-bots' "
            "is not valid for 'scenario'"
        )
        for ln in out
    ), out
    line, col = repo.pos(CARD_PATH, "version: 1.0.0", 9)
    assert (
        f"::error file={CARD_PATH},line={line},col={col},title=version::the card's content changed since main "
        "but its version is still 1.0.0; bump it (1.0.1 for a correction, 1.1.0 for new examples, placements "
        "or scenarios, 2.0.0 when the risk's scope changes) and add a changelog entry for the new version"
    ) in out
    line, col = repo.pos("cards/fifty-percent.yaml", "created:", 9)
    assert (
        f"::error file=cards/fifty-percent.yaml,line={line},col={col},title=date::'2026-02-30' is not a real date"
        in out
    )


def test_github_format_escapes_percent_and_newlines():
    from riskcards.problems import Problem

    # A line break in a message is an echoed value: it stays visible on the one line (never %0A, which
    # GitHub would show as a second line of the annotation).
    p = Problem("cards/a,b:c.yaml", 3, 7, "50% off\nnext line", "check:x")
    assert p.github() == "::error file=cards/a%2Cb%3Ac.yaml,line=3,col=7,title=check%3Ax::50%25 off\\nnext line"
    assert GITHUB_LINE.match(p.github())


def test_json_format(repo):
    repo.edit(CARD_PATH, "severity: medium", "severity: high")
    proc = repo.changed("--format", "json")
    data = json.loads(proc.stdout)
    assert data["problem_count"] == 1 and data["files_checked"] == 1
    assert data["problems"][0]["check"] == "version" and data["problems"][0]["path"] == CARD_PATH


def test_default_base_is_main(repo):
    repo.edit(CARD_PATH, "severity: medium", "severity: high")
    repo.commit()
    proc = repo.riskcards("validate", "--changed")
    assert proc.returncode == 1 and "changed since main" in proc.stdout


def test_default_base_prefers_origin_main(repo, tmp_path):
    # a clone: origin/main exists, and the local main is absent
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(repo.root), str(clone)], env=GIT_ENV, check=True)
    c = Repo(clone)
    c.git("checkout", "-q", "-b", "feature")
    c.git("branch", "-D", "main")
    c.edit(CARD_PATH, "severity: medium", "severity: high")
    proc = c.riskcards("validate", "--changed")
    assert proc.returncode == 1 and "changed since origin/main" in proc.stdout


def test_base_is_the_merge_base(repo):
    # main moves on after the branch was made; the branch is judged on its own changes only.
    repo.git("checkout", "-q", "main")
    repo.edit(CARD_PATH, "severity: medium", "severity: high")
    bump(repo, CARD_PATH, "1.0.1", "Raised severity.")
    repo.commit("on main")
    repo.git("checkout", "-q", "contribution")
    repo.write("cards/fabricated-statistics.yaml", card_text("fabricated-statistics", "Fabricated statistics"))
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout
    assert lines(proc) == ["ok: 1 files checked, no problems"]


def test_kb_in_a_subfolder_of_the_repository(tmp_path):
    top = tmp_path / "top"
    make_repo(tmp_path / "src")  # build the files, then move them under a subfolder of another repo
    top.mkdir()
    shutil.move(str(tmp_path / "src"), str(top / "kb"))
    shutil.rmtree(top / "kb" / ".git")
    outer = Repo(top)
    outer.git("init", "-q", "-b", "main")
    outer.commit("kb in a subfolder")
    kb = Repo(top / "kb")
    kb.edit(CARD_PATH, "severity: medium", "severity: high")
    proc = kb.changed()
    assert problems(proc) == [
        kb.at(
            CARD_PATH,
            "version: 1.0.0",
            9,
            (
                "the card's content changed since main but its version is still 1.0.0; bump it "
                "(1.0.1 for a correction, 1.1.0 for new examples, placements or scenarios, 2.0.0 "
                "when the risk's scope changes) and add a changelog entry for the new version"
            ),
        )
    ]


def test_unknown_base_is_a_usage_error(repo):
    proc = repo.riskcards("validate", "--changed", "--base", "origin/nope")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        "error: base 'origin/nope' is not a commit in this repository; fetch it "
        "first (git fetch origin nope), or with actions/checkout set fetch-depth: 0"
    )


def test_outside_git_is_a_usage_error(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    for sub in ("taxonomies", "vocab", "models", "scenarios"):
        shutil.copytree(REPO / sub, root / sub)
    (root / "cards").mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "riskcards", "validate", "--changed"],
        cwd=root,
        env={**GIT_ENV, "GIT_CEILING_DIRECTORIES": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"error: {root} is not inside a git repository; --changed and --base compare with a "
        "git base. Run `riskcards validate` without them to check the whole knowledge base"
    )
