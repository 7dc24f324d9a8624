"""Issue 16: the numbers the README and the site state about the knowledge base are the data's own.

The README's counts are prose, so this test reads them and compares each with the knowledge base: a change
that adds a card, an example, a taxonomy or a crosswalk also updates the sentence (the failure says what to
write; tests/test_taxonomies.py holds the count of reference taxonomies). The CLI and the site compute theirs
from the index (``riskcards stats``), which is tested elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from riskcards.validate import load_kb

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kb():
    return load_kb(REPO).kb


def _numbers(kb) -> dict[str, int]:
    examples = [ex for card in kb.cards.values() for ex in card.examples]
    return {
        r"(\d[\d,]*) cards written": len(kb.cards),
        r"(\d[\d,]*) illustrative examples": sum(1 for ex in examples if ex.provenance.kind == "illustrative"),
        r"examples in\s+(\d[\d,]*)\s+languages": len({ex.language for ex in examples}),
        r"(\d[\d,]*) deployment scenarios": len(kb.scenarios),
        r"(\d[\d,]*) model\s+records": len(kb.models),
        r"\((\d[\d,]*) taxonomies with the offline guard's own\)": len(kb.taxonomies),
        r"(\d[\d,]*) crosswalks\b": len(kb.crosswalks),
    }


def test_readme_counts_are_the_knowledge_base_counts(kb):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    wrong = []
    for pattern, real in _numbers(kb).items():
        found = re.search(pattern, text)
        assert found, f"README.md no longer says /{pattern}/: update this test with the sentence"
        said = int(found.group(1).replace(",", ""))
        if said != real:
            wrong.append(f"README.md says {found.group(0)!r}, the knowledge base has {real}")
    assert not wrong, "\n".join(wrong)
