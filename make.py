#!/usr/bin/env python3
"""The two commands of the quick start, with nothing but Python 3.11+ needed to run them.

    python3 make.py build   # set up .venv, then validate, index and build the site (public/)
    python3 make.py test    # set up .venv with the test tools, then run the style gates and the test suite
    python3 make.py lint    # only the style gates

Each sets up (or refreshes) the virtual environment in .venv when pyproject.toml has changed since
the last install, then runs the `riskcards` command or the gates and pytest inside it. The gates are
`ruff check .`, `ruff format --check .` and `mypy` (the configuration is in pyproject.toml); `test` runs
pytest only when every gate passes, so CI (.ci/run runs `python3 make.py test`) fails on a lint, format or
type error.
Extra arguments are passed on to pytest or riskcards: `python3 make.py test -k validate`,
`python3 make.py build --no-site`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
EXTRAS = {"build": "[datasette,avid]", "test": "[test,profanity]", "lint": "[test,profanity]"}
# The style gates, each a command run from the repository root (tools from the `test` extra).
GATES = [
    ["ruff", "check", "."],
    ["ruff", "format", "--check", "."],
    ["mypy"],  # over riskcards/, configured in pyproject.toml ([tool.mypy], exceptions listed per module)
]


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - make.py may be started by an older python3
        sys.exit(f"RiskCards needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed{extras or '[]'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing riskcards{extras} into .venv ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f".{extras}"], cwd=ROOT, check=True)
    stamp.write_text(digest)


def lint() -> int:
    """Run every gate (all of them, so one run reports every kind of problem); 0 when all pass."""
    failed = []
    for gate in GATES:
        print(f"$ {' '.join(gate)}", flush=True)
        if subprocess.run([str(BIN / gate[0]), *gate[1:]], cwd=ROOT).returncode != 0:
            failed.append(" ".join(gate))
    if failed:
        print(f"style gates failed: {'; '.join(failed)}", file=sys.stderr, flush=True)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in EXTRAS:
        print(__doc__.strip())
        return 2
    task, rest = argv[0], argv[1:]
    ensure_venv(EXTRAS[task])
    if task == "build":
        cmd = [str(BIN / "riskcards"), "build", *rest]
    elif task == "lint":
        return lint()
    else:
        if lint() != 0:
            return 1
        workers = ["-n", "2"] if not any(a.startswith("-n") for a in rest) else []
        cmd = [str(BIN / "python"), "-m", "pytest", *workers, *rest]
    return subprocess.run(cmd, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
