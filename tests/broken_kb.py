"""Builds a knowledge base holding every broken record of tests/data/broken, plus the cases that cannot
be committed as files (a 50 MB file, a directory named like a record, a broken symbolic link)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import BASE_MODELS, BASE_SCENARIOS, REPO, make_kb

BROKEN = REPO / "tests" / "data" / "broken"


def build(dest: Path) -> Path:
    root = make_kb(dest, models=BASE_MODELS, scenarios=BASE_SCENARIOS)  # fixed, so the messages are too
    for path in BROKEN.rglob("*.yaml"):
        target = root / path.relative_to(BROKEN)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    with (root / "cards" / "fifty-megabytes.yaml").open("wb") as fh:
        fh.write(b"id: fifty-megabytes\ndescription: |\n")
        line = b"  " + b"x" * 98 + b"\n"
        fh.write(line * 500_000)
    (root / "cards" / "a-directory.yaml").mkdir()
    (root / "cards" / "broken-link.yaml").symlink_to("nowhere.yaml")
    return root
