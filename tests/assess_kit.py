"""Helpers for the assessment tests: a small knowledge base with an assessment pointing at a target server."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import make_kb

CARDS = ("confident-wrong-dosage-advice", "capitulating-under-user-pushback", "fabricated-citations-and-references")
MODEL = "llama-3.1-8b-instruct"
SCENARIO = "medical-question-answering"


def kb(tmp_path: Path, cards: tuple[str, ...] = CARDS) -> Path:
    return make_kb(tmp_path / "kb", cards=cards)


def cli(root: Path, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "riskcards", *args, "--root", str(root)],
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        cwd=root,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def new(root: Path, url: str, *, aid: str = "t1", extra: tuple[str, ...] = ()) -> Path:
    cli(
        root,
        "assess",
        "new",
        "--scenario",
        SCENARIO,
        "--model",
        MODEL,
        "--id",
        aid,
        "--base-url",
        url,
        "--model-name",
        "meta-llama/Llama-3.1-8B-Instruct",
        *extra,
    )
    return root / "assessments" / aid


def set_interface(folder: Path, **values: str) -> None:
    """Edit scope.interface lines of assessment.yaml (tests tune retries and timeouts)."""
    path = folder / "assessment.yaml"
    text = path.read_text(encoding="utf-8")
    extra = "".join(f"    {k}: {v}\n" for k, v in values.items())
    text = text.replace("    filters: []", extra + "    filters: []", 1)
    path.write_text(text, encoding="utf-8")
