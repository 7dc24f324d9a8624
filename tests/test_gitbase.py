"""riskcards/gitbase.py directly, on real git repositories in temporary folders: bases on a branch with no
remote, a detached head, a shallow clone and a knowledge base in a sub-folder; changed files of every kind;
reading files at a ref."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from riskcards import gitbase
from riskcards.gitbase import Change, GitError

ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch):
    for k in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
        monkeypatch.setenv(k, ENV[k])


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def repo(tmp_path: Path, branch: str = "main") -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", branch)
    write(root, "cards/a.yaml", "id: a\n")
    write(root, "cards/b.yaml", "id: b\n")
    write(root, "README.md", "not a record\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "one")
    return root


def test_a_branch_with_no_remote_compares_with_local_main_from_the_merge_base(tmp_path):
    root = repo(tmp_path)
    base = git(root, "rev-parse", "HEAD")
    git(root, "switch", "-q", "-c", "topic")
    write(root, "cards/c.yaml", "id: c\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "two")
    git(root, "switch", "-q", "main")
    write(root, "cards/d.yaml", "id: d\n")  # main moves on after the branch point
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "three")
    git(root, "switch", "-q", "topic")
    assert gitbase.resolve_base(root, None) == ("main", base)  # no origin/main: main, at the merge base
    assert gitbase.changed_files(root, base) == [Change("A", "cards/c.yaml")]


def test_a_repository_without_any_default_branch_compares_with_head(tmp_path):
    root = repo(tmp_path, branch="trunk")
    head = git(root, "rev-parse", "HEAD")
    assert gitbase.resolve_base(root, None) == ("HEAD", head)
    assert gitbase.changed_files(root, head) == []
    write(root, "cards/a.yaml", "id: a\ntitle: edited\n")
    write(root, "cards/new.yml", "id: new\n")  # untracked counts
    write(root, "cards/notes.txt", "not a record\n")
    write(root, "cards/sub/deep.yaml", "id: deep\n")  # not directly in a record folder
    (root / "cards" / "b.yaml").unlink()
    assert gitbase.changed_files(root, head) == [
        Change("M", "cards/a.yaml", "cards/a.yaml"),
        Change("D", "cards/b.yaml", "cards/b.yaml"),
        Change("A", "cards/new.yml"),
    ]


def test_a_detached_head_still_resolves_and_measures_from_the_merge_base(tmp_path):
    root = repo(tmp_path)
    first = git(root, "rev-parse", "HEAD")
    write(root, "cards/c.yaml", "id: c\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "two")
    git(root, "checkout", "-q", "--detach", first)
    assert gitbase.resolve_base(root, None) == ("main", first)  # main is ahead: the merge base is HEAD
    assert gitbase.resolve_base(root, "main") == ("main", first)
    assert gitbase.commit_of(root, "HEAD") == first


def test_a_shallow_clone_knows_only_what_it_fetched(tmp_path):
    origin = repo(tmp_path)
    write(origin, "cards/c.yaml", "id: c\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "two")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-local", "-b", "main", str(origin), str(clone))
    head = git(clone, "rev-parse", "HEAD")
    assert gitbase.resolve_base(clone, None) == ("origin/main", head)
    with pytest.raises(GitError, match=r"base 'HEAD~1' is not a commit in this repository$"):
        gitbase.resolve_base(clone, "HEAD~1")
    with pytest.raises(GitError, match=r"fetch it first \(git fetch origin feature\), or with actions/checkout"):
        gitbase.resolve_base(clone, "origin/feature")
    # the one commit there is compared with the empty tree: every record is added
    changes = gitbase.changed_files(clone, gitbase.empty_tree(clone), head, renames=False)
    assert [c.path for c in changes] == ["cards/a.yaml", "cards/b.yaml", "cards/c.yaml"]
    assert {c.status for c in changes} == {"A"}


def test_a_knowledge_base_in_a_sub_folder_uses_root_relative_paths(tmp_path):
    top = tmp_path / "repo"
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    kb = top / "kb"
    write(kb, "cards/a.yaml", "id: a\n")
    write(top, "cards/outside.yaml", "id: outside\n")  # a record folder outside the knowledge base
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "one")
    assert gitbase.repo_prefix(kb) == "kb/"
    assert gitbase.list_records_at(kb, "HEAD") == ["cards/a.yaml"]
    assert gitbase.read_at(kb, "HEAD", ["cards/a.yaml", "cards/none.yaml"]) == {
        "cards/a.yaml": "id: a\n",
        "cards/none.yaml": None,
    }
    write(kb, "cards/a.yaml", "id: a\nx: 1\n")
    write(top, "cards/outside.yaml", "id: outside\nx: 1\n")
    assert gitbase.changed_files(kb, "HEAD") == [Change("M", "cards/a.yaml", "cards/a.yaml")]


def test_renames_are_paired_or_split_on_request(tmp_path):
    root = repo(tmp_path)
    base = git(root, "rev-parse", "HEAD")
    write(root, "cards/a.yaml", "id: a\ntitle: a long enough text for git to pair the two files\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "grow")
    base = git(root, "rev-parse", "HEAD")
    git(root, "mv", "cards/a.yaml", "cards/renamed.yaml")
    git(root, "mv", "cards/b.yaml", "b-moved-out.yaml")  # leaves the record folders: a deletion
    git(root, "commit", "-q", "-m", "move")
    head = git(root, "rev-parse", "HEAD")
    assert gitbase.changed_files(root, base, head) == [
        Change("D", "cards/b.yaml", "cards/b.yaml"),
        Change("R", "cards/renamed.yaml", "cards/a.yaml"),
    ]
    assert gitbase.changed_files(root, base, head, renames=False) == [
        Change("D", "cards/a.yaml", "cards/a.yaml"),
        Change("D", "cards/b.yaml", "cards/b.yaml"),
        Change("A", "cards/renamed.yaml"),
    ]


def test_read_at_returns_texts_of_any_size_and_none_for_folders(tmp_path):
    root = repo(tmp_path)
    big = "x: " + "y" * 200_000 + "\nlast: line\n"
    write(root, "cards/big.yaml", big)
    write(root, "cards/ünï.yaml", "id: u\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "big")
    got = gitbase.read_at(root, "HEAD", ["cards/big.yaml", "cards", "cards/a.yaml", "cards/ünï.yaml"])
    assert got == {"cards/big.yaml": big, "cards": None, "cards/a.yaml": "id: a\n", "cards/ünï.yaml": "id: u\n"}
    assert gitbase.read_at(root, "HEAD", []) == {}


def test_tags_dates_and_root_commit(tmp_path):
    root = repo(tmp_path)
    first = git(root, "rev-parse", "HEAD")
    git(root, "tag", "v1")
    write(root, "cards/c.yaml", "id: c\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "two")
    git(root, "tag", "-a", "v2", "-m", "annotated")
    assert gitbase.tags(root) == ["v1", "v2"]
    assert gitbase.last_tag(root) == "v2"
    assert gitbase.last_tag(root, "HEAD^") == "v1"
    assert gitbase.root_commit_of(root) == first
    assert len(gitbase.commit_date(root, "HEAD")) == 10
    assert gitbase.commit_of(root, "v2") == git(root, "rev-parse", "HEAD")  # the commit, not the tag object
    assert gitbase.commit_of(root, "no-such-ref") is None
    assert gitbase.empty_tree(root) == "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def test_usage_errors_are_git_errors_with_a_message(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="is not inside a git repository"):
        gitbase.resolve_base(plain, None)
    with pytest.raises(GitError, match="is not a folder"):
        gitbase.repo_prefix(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    with pytest.raises(GitError, match="no commits yet"):
        gitbase.resolve_base(empty, None)
    root = repo(tmp_path)
    for bad in ("--output=/tmp/x", "-p", " ", ""):
        with pytest.raises(GitError, match="is not a git ref"):
            gitbase.resolve_base(root, bad)


def test_is_record_path():
    assert gitbase.is_record_path("cards/a.yaml") and gitbase.is_record_path("taxonomies/crosswalks/x.yml")
    assert not gitbase.is_record_path("cards/sub/a.yaml")
    assert not gitbase.is_record_path("cards/a.json")
    assert not gitbase.is_record_path("a.yaml")
