"""Benchmark of `riskcards validate --changed` against plain `riskcards validate`.

    python bench/lifecycle.py [N ...]        # default: 1000 10000

For each N: generate a knowledge base (bench/generate.py, deterministic) in bench/out/lifecycle-N, commit it
on main in a fresh git repository, branch, then change 10 cards (a content change with a version bump and
changelog entry) and one taxonomy (an unused code added). Times, best of 3 runs, in-process:

* `validate(root)`               the whole knowledge base, for comparison;
* `validate_changed(root, main)` the same plus git (merge base, diff, untracked files, cat-file of the
                                 base texts) and the lifecycle rules;
* the git part alone             `resolve_base` + `changed_files` + `read_at`.

Prints one line per N. Nothing is asserted: figures go in the report, never in tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from timing import best  # noqa: E402

from riskcards import gitbase  # noqa: E402
from riskcards.change_rules import validate_changed  # noqa: E402
from riskcards.validate import validate  # noqa: E402

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=ENV, check=True, capture_output=True)


def prepare(n: int) -> Path:
    root = BENCH / "out" / f"lifecycle-{n}"
    if root.exists():
        shutil.rmtree(root)
    subprocess.run([sys.executable, str(BENCH / "generate.py"), str(n), str(root)], check=True, capture_output=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    for path in sorted((root / "cards").glob("*.yaml"))[:10]:
        text = path.read_text(encoding="utf-8")
        version = re.search(r"(?m)^version: (\S+)$", text).group(1)
        major, minor, patch = (int(x) for x in version.split("."))
        new = f"{major}.{minor}.{patch + 1}"
        text = re.sub(r"(?m)^version: \S+$", f"version: {new}", text)
        text = re.sub(r"(?m)^tags: \[", "tags: [revised, ", text, count=1)
        assert not re.search(r"(?m)^changelog:", text), "generated cards carry no changelog"
        text += f'changelog:\n  - version: {new}\n    date: "2026-11-28"\n    note: Revised.\n'
        path.write_text(text, encoding="utf-8")
    tax = root / "taxonomies" / "llama-guard-3.yaml"
    tax.write_text(
        tax.read_text(encoding="utf-8").replace(
            "\n- code: S1\n", "\n- code: X-bench\n  name: Bench only\n  level: 1\n- code: S1\n", 1
        ),
        encoding="utf-8",
    )
    git(root, "commit", "-q", "-am", "change")
    return root


def main(argv: list[str]) -> None:
    for n in [int(a) for a in argv] or [1000, 10000]:
        root = prepare(n)
        t_all, full = best(lambda root=root: validate(root))
        t_changed, res = best(lambda root=root: validate_changed(root, "main"))

        def git_part(root=root):
            _, commit = gitbase.resolve_base(root, "main")
            changes = gitbase.changed_files(root, commit)
            gitbase.read_at(root, commit, [c.old_path for c in changes if c.old_path])
            return changes

        t_git, changes = best(git_part)
        print(
            f"N={n}: validate {t_all:.2f} s ({len(full.problems)} problems); validate --changed {t_changed:.2f} s "
            f"({res.checked} changed files, {len(res.problems)} problems); git part {t_git * 1000:.0f} ms "
            f"({len(changes)} changes)",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
