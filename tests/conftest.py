"""Shared fixtures: a small knowledge base in a temporary folder, built from the repo's data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
BASE_CARD = "confident-wrong-dosage-advice"


def make_kb(dest: Path, cards: tuple[str, ...] = (BASE_CARD,)) -> Path:
    """A knowledge-base root in ``dest`` with the repo's taxonomies, vocabulary, models, scenarios
    and the named repo cards."""
    for sub in ("taxonomies", "vocab", "models", "scenarios", "schema"):
        shutil.copytree(REPO / sub, dest / sub)
    (dest / "cards").mkdir()
    for card in cards:
        shutil.copy(REPO / "cards" / f"{card}.yaml", dest / "cards" / f"{card}.yaml")
    return dest


@pytest.fixture
def kb_root(tmp_path: Path) -> Path:
    return make_kb(tmp_path / "kb")
