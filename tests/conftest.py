"""Shared fixtures: a small knowledge base in a temporary folder, built from the repo's data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
BASE_CARD = "confident-wrong-dosage-advice"


BASE_MODELS = ("llama-guard-3-8b", "omni-moderation-latest", "llama-3.1-8b-instruct")
BASE_SCENARIOS = ("medical-question-answering", "customer-support-bot")


def make_kb(
    dest: Path,
    cards: tuple[str, ...] = (BASE_CARD,),
    models: tuple[str, ...] | None = None,
    scenarios: tuple[str, ...] | None = None,
) -> Path:
    """A knowledge-base root in ``dest`` with the repo's taxonomies, vocabulary and schemas, the named
    repo cards, and the named model and scenario records (default: all of them)."""
    for sub in ("taxonomies", "vocab", "schema"):
        shutil.copytree(REPO / sub, dest / sub)
    for sub, names in (("models", models), ("scenarios", scenarios)):
        if names is None:
            shutil.copytree(REPO / sub, dest / sub)
        else:
            (dest / sub).mkdir()
            for name in names:
                shutil.copy(REPO / sub / f"{name}.yaml", dest / sub / f"{name}.yaml")
    (dest / "cards").mkdir()
    for card in cards:
        shutil.copy(REPO / "cards" / f"{card}.yaml", dest / "cards" / f"{card}.yaml")
    shutil.copytree(REPO / "incidents", dest / "incidents")
    trim_links(dest)
    return dest


def trim_links(root: Path) -> None:
    """In a knowledge base made of some of the repo's cards, drop the 'related' entries (and 'incidents'
    links) that name cards (incidents) not copied, so that the subset validates as the whole repo does."""
    import re

    cards = {p.stem for p in (root / "cards").glob("*.yaml")}
    incidents = {p.stem for p in (root / "incidents").glob("*.yaml")} if (root / "incidents").is_dir() else set()
    for path in (root / "cards").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")

        def keep(block: re.Match, known: set[str], key: str) -> str:
            items = re.findall(rf"  - {key}: (\S+)\n(?:    .*\n)*", block.group(0))
            entries = re.findall(rf"(  - {key}: \S+\n(?:    .*\n)*)", block.group(0))
            kept = [e for e, target in zip(entries, items, strict=True) if target in known]
            return (block.group(1) + "".join(kept)) if kept else "\n"

        new = re.sub(r"(\nrelated:\n)(?:  .*\n)+", lambda m: keep(m, cards, "card"), text)
        new = re.sub(r"(\nincidents:\n)(?:  .*\n)+", lambda m: keep(m, incidents, "incident"), new)
        if new != text:
            path.write_text(new, encoding="utf-8")


@pytest.fixture
def kb_root(tmp_path: Path) -> Path:
    return make_kb(tmp_path / "kb")
