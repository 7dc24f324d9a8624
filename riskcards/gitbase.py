"""Reading the knowledge base at a git ref, and what changed since then. Only `git` subprocesses, no network.

All paths here are POSIX paths relative to the knowledge-base root (which may be a subfolder of the git
work tree). Git runs with the root as its working directory, so ``--relative`` diffs and ``./`` paths line up.

The default base (``resolve_base(root, None)``) is the first that exists of: the commit pre-commit names in a
pre-push hook (``PRE_COMMIT_FROM_REF``: what the remote already has, or the parent of the first commit it does
not have, so a branch that has no remote counterpart yet is compared with where it left the pushed history);
the local branch this branch tracks (``git switch -c topic --track trunk``: a repository with no remote);
``origin/main``, ``main``, ``origin/master``, ``master``; the remote's default branch (``origin/HEAD``, e.g.
``origin/trunk``); when none does, ``HEAD`` (so only uncommitted changes count). Changes are
measured from the merge base of that ref and ``HEAD`` -- what a pull request adds, as GitHub shows it -- to
the work tree, including staged, unstaged and untracked (not ignored) files.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .load import KIND_DIRS, parse_yaml

DEFAULT_BASES = ("origin/main", "main", "origin/master", "master")


class GitError(Exception):
    """Git is missing, the root is not in a repository, or a ref does not exist: a usage error (exit 2)."""


@dataclass(frozen=True)
class Change:
    """One changed record file. ``status`` is A (added), M (modified), D (deleted) or R (renamed)."""

    status: str
    path: str
    """The path at head (for D: the path at base)."""
    old_path: str | None = None
    """The path at base, for M, D and R."""


def _git(root: Path, *args: str, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed; --changed compares the records with a git base") from None
    if check and proc.returncode != 0:
        raise GitError(proc.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return proc


def record_kind(rel: str) -> str | None:
    """The record kind of a root-relative path by its folder ('card' for cards/x.yaml), or None."""
    return KIND_DIRS.get(rel.rpartition("/")[0])


def parse_record(text: str | None) -> dict | None:
    """A record's text at a ref as a mapping; None when it is absent, unreadable or not a mapping. (A broken
    file is reported by validate; the rules and the changelog that compare refs skip it.)"""
    if text is None:
        return None
    try:
        data = parse_yaml(text)
    except Exception:  # noqa: BLE001 - any parse failure means "no record here"
        return None
    return data if isinstance(data, dict) else None


def is_record_path(rel: str) -> bool:
    """Whether a root-relative path is a record file (a .yaml/.yml directly in a record folder)."""
    folder, _, name = rel.rpartition("/")
    return folder in KIND_DIRS and name.endswith((".yaml", ".yml"))


def repo_prefix(root: Path) -> str:
    """The root's path inside the git work tree ('' at the top, else 'sub/dir/'). Raises GitError."""
    root = Path(root)
    if not root.is_dir():
        raise GitError(f"{root} is not a folder")
    proc = _git(root, "rev-parse", "--show-prefix", check=False)
    if proc.returncode != 0:
        raise GitError(
            f"{root} is not inside a git repository; --changed and --base compare with a git base. "
            "Run `riskcards validate` without them to check the whole knowledge base"
        )
    return proc.stdout.decode().strip()


def commit_of(root: Path, ref: str) -> str | None:
    """The commit a ref names, or None."""
    proc = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False)
    return (proc.stdout.decode().strip() or None) if proc.returncode == 0 else None


def default_bases(root: Path) -> list[str]:
    """The refs tried, in order, when no base is given (see the module's docstring)."""
    out = []
    pushed = os.environ.get("PRE_COMMIT_FROM_REF") or os.environ.get("PRE_COMMIT_SOURCE")  # older pre-commit
    if pushed and not pushed.startswith("-") and pushed.strip("0"):
        out.append(pushed)
    proc = _git(root, "rev-parse", "--symbolic-full-name", "@{upstream}", check=False)
    upstream = proc.stdout.decode().strip() if proc.returncode == 0 else ""
    if upstream.startswith("refs/heads/"):  # a local branch this one was started from (git switch -c x --track y)
        out.append(upstream.removeprefix("refs/heads/"))
    proc = _git(root, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", check=False)
    remote_default = proc.stdout.decode().strip() if proc.returncode == 0 else ""
    tail = [remote_default] if remote_default and remote_default not in DEFAULT_BASES else []
    return out + list(DEFAULT_BASES) + tail


def resolve_base(root: Path, base: str | None) -> tuple[str, str]:
    """(the ref as named, the commit changes are measured from). Raises GitError when the ref is unknown."""
    repo_prefix(root)
    if base is not None:
        if base.startswith("-") or not base.strip():
            raise GitError(f"{base!r} is not a git ref")
        commit = commit_of(root, base)
        if commit is None:
            hint = ""
            if base.startswith("origin/"):
                hint = (
                    f"; fetch it first (git fetch origin {base.removeprefix('origin/')}), "
                    "or with actions/checkout set fetch-depth: 0"
                )
            raise GitError(f"base {base!r} is not a commit in this repository{hint}")
        named = base
    else:
        for candidate in default_bases(root):
            commit = commit_of(root, candidate)
            if commit:
                named = candidate
                break
        else:
            commit = commit_of(root, "HEAD")
            if commit is None:
                raise GitError(
                    "the repository has no commits yet, so there is no "
                    "base to compare with; commit first or drop --changed"
                )
            named = "HEAD"
    head = commit_of(root, "HEAD")
    if head and head != commit:
        proc = _git(root, "merge-base", commit, head, check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            commit = proc.stdout.decode().strip()
    return named, commit


def is_log_path(rel: str) -> bool:
    """Whether a root-relative path is an assessment log (assessments/<id>/log/<card-id>.jsonl): append-only."""
    parts = rel.split("/")
    return len(parts) == 4 and parts[0] == "assessments" and parts[2] == "log" and parts[3].endswith(".jsonl")


def changed_files(
    root: Path, base: str, head: str | None = None, *, renames: bool = True, keep=is_record_path
) -> list[Change]:
    """Record files (or the files ``keep`` accepts) changed between ``base`` and ``head`` (default: the work
    tree, untracked files included). With ``renames=False`` a renamed file is a deletion and an addition (git
    pairs near-identical files)."""
    rng = [base] if head is None else [base, head]
    proc = _git(
        root, "diff", "--name-status", "-z", "--find-renames" if renames else "--no-renames", "--relative", *rng, "--"
    )
    fields = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    out: list[Change] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i][0]
        if status in ("R", "C"):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            if status == "C":
                out.append(Change("A", new))
            elif keep(old) and keep(new):
                out.append(Change("R", new, old))
            elif keep(new):
                out.append(Change("A", new))
            elif keep(old):
                out.append(Change("D", old, old))
            continue
        path = fields[i + 1]
        i += 2
        if not keep(path):
            continue
        if status == "A":
            out.append(Change("A", path))
        elif status == "D":
            out.append(Change("D", path, path))
        else:  # M, T (type change), U (unmerged)
            out.append(Change("M", path, path))
    if head is None:
        proc = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ".")
        for path in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
            if path and keep(path):
                out.append(Change("A", path))
    return sorted(set(out), key=lambda c: (c.path, c.status))


def read_at(root: Path, ref: str, paths: list[str]) -> dict[str, str | None]:
    """The text of each root-relative path at ``ref`` (None where it does not exist there), in one git call."""
    if not paths:
        return {}
    prefix = repo_prefix(root)
    request = "".join(f"{ref}:{prefix}{p}\n" for p in paths).encode("utf-8", "surrogateescape")
    proc = _git(root, "cat-file", "--batch", input=request)
    data = proc.stdout
    out: dict[str, str | None] = {}
    pos = 0
    for p in paths:
        nl = data.index(b"\n", pos)
        header = data[pos:nl].decode("utf-8", "replace").split()
        pos = nl + 1
        if len(header) == 3:  # "<sha> <type> <size>", then the object and a newline
            size = int(header[2])
            blob = header[1] == "blob"
            out[p] = data[pos : pos + size].decode("utf-8", "replace") if blob else None  # a folder is no file
            pos += size + 1
        else:  # "<ref:path> missing"
            out[p] = None
    return out


def list_records_at(root: Path, ref: str) -> list[str]:
    """Every record file at ``ref``, root-relative."""
    prefix = repo_prefix(root)
    proc = _git(root, "ls-tree", "-r", "-z", "--name-only", "--full-tree", ref, "--", prefix or ".")
    out = []
    for path in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if path and path.startswith(prefix):
            rel = path[len(prefix) :]
            if is_record_path(rel):
                out.append(rel)
    return sorted(out)


def tags(root: Path) -> list[str]:
    """Tags that name commits, oldest first (by the tagged commit's date)."""
    proc = _git(root, "tag", "--list", "--sort=creatordate", "--format=%(refname:short)", check=False)
    return [t for t in proc.stdout.decode().splitlines() if t and commit_of(root, t)]


def last_tag(root: Path, ref: str = "HEAD") -> str | None:
    """The nearest tag reachable from ``ref``, or None."""
    proc = _git(root, "describe", "--tags", "--abbrev=0", ref, check=False)
    return (proc.stdout.decode().strip() or None) if proc.returncode == 0 else None


def commit_date(root: Path, ref: str) -> str:
    """The committer date of ``ref`` as YYYY-MM-DD."""
    proc = _git(root, "log", "-1", "--format=%cs", ref)
    return proc.stdout.decode().strip()


def root_commit_of(root: Path, ref: str = "HEAD") -> str | None:
    proc = _git(root, "rev-list", "--max-parents=0", ref, check=False)
    lines = proc.stdout.decode().split()
    return lines[-1] if lines else None


def empty_tree(root: Path) -> str:
    """Git's empty tree (the base for 'everything was added'), for this repository's hash function."""
    return _git(root, "hash-object", "-t", "tree", "/dev/null").stdout.decode().strip()
