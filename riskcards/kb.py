"""The knowledge base in memory: typed records, each with the file it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .models import Card, Category, Crosswalk, HarmTypeVocabulary, Incident, Model, Scenario, Taxonomy


@dataclass
class KnowledgeBase:
    """Every valid record, by id. Built by ``riskcards.validate.load_kb``; read by the index and exports."""

    root: Path
    cards: dict[str, Card] = field(default_factory=dict)
    taxonomies: dict[str, Taxonomy] = field(default_factory=dict)
    crosswalks: dict[str, Crosswalk] = field(default_factory=dict)
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    vocab: HarmTypeVocabulary | None = None
    incidents: dict[str, Incident] = field(default_factory=dict)
    assessments: list = field(default_factory=list)
    """The assessments (``riskcards.validate.assessment_records.Folder``, one per assessments/<id>/), as read
    and checked."""
    paths: dict[tuple[str, str], str] = field(default_factory=dict)
    """(kind, id) -> the record's path relative to the root, as shown in messages and edit links."""
    digests: dict[str, str] = field(default_factory=dict)
    """Shown path -> sha1 of the record's data as read (compact JSON): the index tells changed records
    from unchanged ones by it."""

    _codes: dict[str, dict[str, Category]] = field(default_factory=dict, repr=False)
    _derived: dict = field(default_factory=dict, repr=False)

    def codes(self, taxonomy_id: str) -> dict[str, Category]:
        """Categories of a taxonomy by code (empty for an unknown taxonomy)."""
        if taxonomy_id not in self._codes:
            tax = self.taxonomies.get(taxonomy_id)
            self._codes[taxonomy_id] = {c.code: c for c in tax.categories or [] if c is not None} if tax else {}
        return self._codes[taxonomy_id]

    def category(self, ref: str) -> Category | None:
        taxonomy_id, _, code = ref.partition(":")
        return self.codes(taxonomy_id).get(code)

    def actors(self) -> set[str]:
        return self._memo("actors", lambda: {t.id for t in self.vocab.actors} if self.vocab else set())

    def harm_categories(self) -> set[str]:
        return self._memo("harm_categories", lambda: {t.id for t in self.vocab.categories} if self.vocab else set())

    def guards(self) -> dict[str, Model]:
        """Guard models and classifiers by id."""
        return self._memo("guards", lambda: {m.id: m for m in self.models.values() if m.guard is not None})

    def guard_codes(self) -> dict[str, dict[str, Category]]:
        """Guard id -> the categories of its taxonomy by code."""
        return self._memo(
            "guard_codes",
            lambda: {gid: self.codes(m.guard.taxonomy) for gid, m in self.guards().items() if m.guard is not None},
        )

    def _memo(self, name: str, make):
        """Derived lookups, computed once: the knowledge base does not change after it is built."""
        if name not in self._derived:
            self._derived[name] = make()
        return self._derived[name]

    def resolve_card(self, card_id: str) -> Card | None:
        """A card by id or by one of its aliases."""
        if card_id in self.cards:
            return self.cards[card_id]
        for card in self.cards.values():
            if card_id in card.aliases:
                return card
        return None
