"""The quality gate over the repository's cards: coverage of the main taxonomies, per-card minimums,
example labelling and guard expectations, references, near-duplicates, and the rule that cards about
sexual content involving minors carry only withheld examples.

Each rule is a function that returns the offenders as readable strings; the repo tests assert that
the list is empty (so a failure names every offending card or category), and the self-tests below
run the same functions on a small knowledge base with planted faults, so every rule can fail.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import make_kb

from riskcards.kb import KnowledgeBase
from riskcards.models import Card
from riskcards.validate import url_problem, validate

REPO = Path(__file__).resolve().parents[1]

GUARD_TAXONOMIES = ("llama-guard-3", "aegis-2.0")
HAZARD_TAXONOMIES = ("mlcommons-ailuminate-v1.0", "air-2024")
EXPECTED_GUARDS = ("llama-guard-3-8b", "omni-moderation-latest")
MIN_PLACEMENTS = 5
MIN_EXAMPLES = 2
MIN_REFERENCES = 2
MIN_CARDS, MIN_SCENARIOS, MIN_MODELS = 80, 15, 15
MIN_NON_ENGLISH, MIN_NON_ENGLISH_LANGUAGES, MIN_MULTI_TURN = 3, 2, 3

# Categories meaning sexual content involving minors, in every taxonomy that has one. The issue names
# llama-guard-3:S4 and mlcommons-ailuminate-v1.0:cse; the others are the same category elsewhere.
MINORS_REFS = {
    "llama-guard-3:S4",
    "mlcommons-ailuminate-v1.0:cse",
    "llama-guard-2:S4",
    "llama-guard-4:S4",
    "aegis-1.0:O7",
    "aegis-2.0:S7",
    "openai-moderation-omni:sexual/minors",
    "mlcommons-ai-safety-v0.5:cae",
    "mlcommons-ai-safety-v0.5:cae.1",
    "mlcommons-ai-safety-v0.5:cae.2",
    "mlcommons-ai-safety-v0.5:cae.3",
}
MINORS_GUARD_CODES = {"llama-guard-3-8b": {"S4"}, "omni-moderation-latest": {"sexual/minors"}}

# Near-duplicates. Similarity of two cards = token-set Jaccard of their titles and of their whole text
# (title + summary + description), after lower-casing, dropping stop words and a plural 's'. Measured on
# the repo's cards (83 cards, 2026-11-28), the closest pairs of genuinely different cards reach a title
# Jaccard of 0.40 ('Defamatory claims about real people' / 'Misquoting real people'), a text Jaccard of
# 0.15 and a combined score of 0.27. A card copied and then edited scores far higher (the self-test
# below: 0.65). The thresholds sit at roughly 1.5-2 times the largest similarity seen between
# different cards; a pair above any of them is reported. Token overlap cannot see two cards that say the
# same thing in different words; the closest pairs are printed so that a reviewer can look.
TITLE_THRESHOLD = 0.6
TEXT_THRESHOLD = 0.35
COMBINED_THRESHOLD = 0.4
_STOP = {
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "for",
    "by",
    "with",
    "from",
    "as",
    "at",
    "is",
    "are",
    "be",
    "it",
    "its",
    "that",
    "this",
    "their",
    "they",
    "them",
    "than",
    "into",
    "via",
    "not",
    "no",
    "can",
    "could",
    "may",
    "might",
    "will",
    "would",
    "should",
    "about",
    "when",
    "what",
    "which",
    "who",
    "whom",
    "how",
    "does",
    "do",
    "has",
    "have",
    "had",
    "been",
    "being",
    "was",
    "were",
    "so",
    "if",
    "but",
    "also",
    "only",
    "any",
    "all",
    "some",
    "such",
    "other",
    "more",
    "most",
    "own",
    "same",
    "very",
}


# --------------------------------------------------------------------------------------------------
# Rules: each returns the offenders, named
# --------------------------------------------------------------------------------------------------


def live(kb: KnowledgeBase) -> list[Card]:
    return [c for c in kb.cards.values() if c.status != "deprecated"]


def required_categories(kb: KnowledgeBase) -> list[str]:
    """Every category the issue requires on at least one live card, as 'taxonomy:code'."""
    w = [c.code for c in kb.taxonomies["weidinger-2021"].categories if c.level == 2]
    ail = [c.code for c in kb.taxonomies["mlcommons-ailuminate-v1.0"].categories]
    lg3 = [c.code for c in kb.taxonomies["llama-guard-3"].categories]
    owasp = ["LLM01", "LLM02", "LLM05", "LLM06", "LLM07", "LLM09"]
    assert (len(w), len(ail), len(lg3)) == (21, 12, 14), "the taxonomy files changed; review the coverage rule"
    return (
        [f"weidinger-2021:{c}" for c in w]
        + [f"mlcommons-ailuminate-v1.0:{c}" for c in ail]
        + [f"llama-guard-3:{c}" for c in lg3]
        + [f"owasp-llm-top10-2025:{c}" for c in owasp]
    )


def coverage_gaps(kb: KnowledgeBase) -> list[str]:
    placed = {p.ref for card in live(kb) for p in card.placements}
    out = []
    for ref in required_categories(kb):
        if ref not in placed:
            cat = kb.category(ref)
            out.append(f"{ref} ({cat.name if cat else '?'})")
    return out


# Cards for which review found that no hazard category fits (issue 15, item 9: the AIR security branch is
# about attacking other systems, so backdoors are not placed there).
NO_FITTING_HAZARD = {"backdoor-triggered-behaviour"}


def placement_problems(card: Card) -> list[str]:
    refs = {p.ref for p in card.placements}
    taxonomies = {r.partition(":")[0] for r in refs}
    out = []
    if len(refs) < MIN_PLACEMENTS:
        out.append(f"{len(refs)} placements (at least {MIN_PLACEMENTS})")
    if "weidinger-2021" not in taxonomies:
        out.append("no weidinger-2021 placement")
    if not taxonomies & set(GUARD_TAXONOMIES) and not _guards_blind(card):
        out.append(
            f"no guard taxonomy placement ({' or '.join(GUARD_TAXONOMIES)}), and its examples do not expect every "
            "guard to say 'safe' (a card outside every guard policy says so with its expectations)"
        )
    if not taxonomies & set(HAZARD_TAXONOMIES) and card.id not in NO_FITTING_HAZARD:
        out.append(f"no hazard placement ({' or '.join(HAZARD_TAXONOMIES)})")
    return out


def _guards_blind(card: Card) -> bool:
    """The card's examples say that guards cannot see the risk: every expectation is 'safe'."""
    expectations = [x for e in card.examples for x in e.expected]
    return bool(expectations) and all(x.verdict == "safe" for x in expectations)


def example_problems(card: Card) -> list[str]:
    out = []
    withheld_with_reason = [e for e in card.examples if e.sensitivity == "withheld" and e.withheld_reason]
    if len(card.examples) < MIN_EXAMPLES and not withheld_with_reason:
        out.append(f"{len(card.examples)} example(s) (at least {MIN_EXAMPLES}, unless one is withheld with a reason)")
    for e in card.examples:
        kind = getattr(e.provenance, "kind", None)
        if kind not in ("illustrative", "observed"):
            out.append(f"example {e.id}: provenance is not labelled illustrative or observed")
        if e.sensitivity == "withheld":
            continue
        guards = {x.guard for x in e.expected}
        missing = [g for g in EXPECTED_GUARDS if g not in guards]
        if missing:
            out.append(f"example {e.id}: no expected verdict for {', '.join(missing)}")
    return out


def reference_problems(card: Card) -> list[str]:
    out = []
    if len(card.references) < MIN_REFERENCES:
        out.append(f"{len(card.references)} reference(s) (at least {MIN_REFERENCES})")
    for i, ref in enumerate(card.references, 1):
        if ref.url is not None and (why := url_problem(ref.url)):
            out.append(f"reference {i} URL {ref.url!r} {why}")
        if ref.url is None and ref.doi is None:
            out.append(f"reference {i} has neither url nor doi")
    return out


def scenario_problems(card: Card) -> list[str]:
    return [] if card.scenarios else ["no scenario link"]


def minors_problems(card: Card) -> list[str]:
    """Cards about sexual content involving minors carry only withheld examples; no published example
    anywhere expects a guard to flag sexual content involving minors."""
    out = []
    minors = sorted({p.ref for p in card.placements} & MINORS_REFS)
    if minors:
        shown = [e.id for e in card.examples if e.sensitivity != "withheld"]
        if shown:
            out.append(f"placed on {', '.join(minors)} but examples {', '.join(shown)} are not withheld")
    for e in card.examples:
        for x in e.expected:
            hit = set(x.categories) & MINORS_GUARD_CODES.get(x.guard, set())
            if hit and e.sensitivity != "withheld":
                out.append(f"example {e.id} expects {x.guard} to flag {', '.join(sorted(hit))} but is published")
    return out


def per_card(kb: KnowledgeBase, rule, cards=None) -> list[str]:
    out = []
    for card in sorted(cards if cards is not None else live(kb), key=lambda c: c.id):
        out.extend(f"{card.id}: {msg}" for msg in rule(card))
    return out


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words if w not in _STOP}


def _jaccard(a: int, b: int) -> float:
    """Jaccard similarity of two token sets held as bit sets (Python ints): fast for many pairs."""
    union = (a | b).bit_count()
    return (a & b).bit_count() / union if union else 0.0


def _signatures(cards: list[Card]) -> list[tuple[int, int]]:
    """Per card, the bit sets of its title tokens and of its whole text (title, summary, description)."""
    vocab: dict[str, int] = {}

    def bits(tokens: set[str]) -> int:
        value = 0
        for word in sorted(tokens):
            value |= 1 << vocab.setdefault(word, len(vocab))
        return value

    return [(bits(_tokens(c.title)), bits(_tokens(f"{c.title} {c.summary} {c.description}"))) for c in cards]


def _scored_pairs(cards: list[Card]):
    ordered = sorted(cards, key=lambda c: c.id)
    sigs = _signatures(ordered)
    for i, j in itertools.combinations(range(len(ordered)), 2):
        title, text = _jaccard(sigs[i][0], sigs[j][0]), _jaccard(sigs[i][1], sigs[j][1])
        yield (title + text) / 2, title, text, ordered[i].id, ordered[j].id


def similarity(a: Card, b: Card) -> tuple[float, float, float]:
    """(title Jaccard, text Jaccard, combined) for two cards."""
    s, t, x, _, _ = next(_scored_pairs([a, b]))
    return t, x, s


def closest_pairs(cards: list[Card], n: int = 10) -> list[tuple[float, float, float, str, str]]:
    """The n most similar pairs of cards: (combined, title, text, id, id)."""
    return heapq.nlargest(n, _scored_pairs(cards))


def near_duplicates(cards: list[Card]) -> list[str]:
    hits = [
        p
        for p in _scored_pairs(cards)
        if p[1] >= TITLE_THRESHOLD or p[2] >= TEXT_THRESHOLD or p[0] >= COMBINED_THRESHOLD
    ]
    return [
        f"{a} ~ {b} (title {t:.2f}, text {x:.2f}, combined {s:.2f})" for s, t, x, a, b in sorted(hits, reverse=True)
    ]


def _multi_turn(e) -> bool:
    return e.turns is not None and sum(1 for t in e.turns if t.role == "user") >= 2


def corpus_problems(kb: KnowledgeBase) -> list[str]:
    out = []
    cards = live(kb)
    if len(cards) < MIN_CARDS:
        out.append(f"{len(cards)} live cards (at least {MIN_CARDS})")
    if len(kb.scenarios) < MIN_SCENARIOS:
        out.append(f"{len(kb.scenarios)} scenarios (at least {MIN_SCENARIOS})")
    if len(kb.models) < MIN_MODELS:
        out.append(f"{len(kb.models)} model records (at least {MIN_MODELS})")
    examples = [e for c in cards for e in c.examples if e.sensitivity != "withheld"]
    foreign = Counter(e.language.split("-")[0] for e in examples if e.language.split("-")[0] != "en")
    if sum(foreign.values()) < MIN_NON_ENGLISH or len(foreign) < MIN_NON_ENGLISH_LANGUAGES:
        out.append(
            f"{sum(foreign.values())} published non-English examples in {len(foreign)} "
            f"languages (at least {MIN_NON_ENGLISH} in {MIN_NON_ENGLISH_LANGUAGES})"
        )
    multi = sum(1 for e in examples if _multi_turn(e))
    if multi < MIN_MULTI_TURN:
        out.append(f"{multi} multi-turn examples with two or more user turns (at least {MIN_MULTI_TURN})")
    return out


def _report(what: str, offenders: list[str]) -> str:
    return f"{len(offenders)} {what}:\n  " + "\n  ".join(offenders)


# --------------------------------------------------------------------------------------------------
# The repository's cards
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def repo():
    result = validate(REPO)
    files = sorted(p.stem for p in (REPO / "cards").glob("*.yaml"))
    unloaded = [f for f in files if f not in result.kb.cards]
    return result.kb, unloaded


def test_repo_cards_all_load(repo):
    kb, unloaded = repo
    assert not unloaded, _report(
        "card files fail validation and are left out of every quality check (run `riskcards validate`)", unloaded
    )


def test_every_required_category_is_on_a_live_card(repo):
    kb, _ = repo
    gaps = coverage_gaps(kb)
    assert not gaps, _report("required categories are on no live card", gaps)


def test_every_card_has_enough_placements_in_the_required_taxonomies(repo):
    kb, _ = repo
    bad = per_card(kb, placement_problems)
    assert not bad, _report("placement problems", bad)


def test_every_card_has_labelled_examples_with_guard_expectations(repo):
    kb, _ = repo
    bad = per_card(kb, example_problems)
    assert not bad, _report("example problems", bad)


def test_every_card_has_two_well_formed_references(repo):
    kb, _ = repo
    bad = per_card(kb, reference_problems)
    assert not bad, _report("reference problems", bad)


def test_every_card_links_a_scenario(repo):
    kb, _ = repo
    bad = per_card(kb, scenario_problems)
    assert not bad, _report("cards without a scenario", bad)


def test_sexual_content_involving_minors_is_only_ever_withheld(repo):
    kb, _ = repo
    bad = per_card(kb, minors_problems, cards=list(kb.cards.values()))  # deprecated cards too
    assert not bad, _report("cards publish examples about sexual content involving minors", bad)


def test_no_two_cards_are_near_duplicates(repo):
    kb, _ = repo
    cards = live(kb)
    closest = closest_pairs(cards)
    table = "\n".join(f"  {s:.2f} (title {t:.2f}, text {x:.2f})  {a} ~ {b}" for s, t, x, a, b in closest)
    print(f"\nclosest card pairs (combined similarity; report at >= {COMBINED_THRESHOLD}):\n{table}")
    dupes = near_duplicates(cards)
    assert not dupes, (
        _report(
            "near-duplicate card pairs (merge them, or make the titles and descriptions say how they differ)", dupes
        )
        + f"\nclosest pairs:\n{table}"
    )


def test_knowledge_base_is_big_and_varied_enough(repo):
    kb, _ = repo
    bad = corpus_problems(kb)
    assert not bad, _report("knowledge-base minimums not met", bad)


# --------------------------------------------------------------------------------------------------
# Self-tests: every rule reports planted faults (so none of the tests above can pass vacuously)
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> KnowledgeBase:
    root = make_kb(tmp_path_factory.mktemp("quality") / "kb")
    result = validate(root)
    assert result.problems == [], "\n".join(p.text() for p in result.problems)
    return result.kb


def _base(kb: KnowledgeBase) -> Card:
    return next(iter(kb.cards.values()))


def _with(card: Card, **update) -> Card:
    return card.model_copy(update=update)


def test_self_coverage_names_missing_categories(small):
    gaps = coverage_gaps(small)
    assert len(gaps) == 21 + 12 + 14 + 6 - 4  # the one base card covers W3.2, spc, S6 and LLM09
    assert "weidinger-2021:W1.3 (Toxic language)" in gaps
    assert "llama-guard-3:S4 (Child Sexual Exploitation)" in gaps
    assert "owasp-llm-top10-2025:LLM01 (Prompt Injection)" in gaps
    assert not any(g.startswith("llama-guard-3:S6 ") for g in gaps)
    base = _base(small)
    dead = _with(base, status="deprecated", deprecated_reason="test")
    kb = KnowledgeBase(root=small.root, cards={base.id: dead}, taxonomies=small.taxonomies)
    assert any(g.startswith("llama-guard-3:S6 ") for g in coverage_gaps(kb)), "deprecated cards do not count"


def test_self_placements(small):
    base = _base(small)
    assert placement_problems(base) == []
    few = _with(base, placements=[p for p in base.placements if p.ref.startswith(("weidinger", "owasp"))])
    got = placement_problems(few)
    assert len(got) == 3 and got[0] == "2 placements (at least 5)", got
    assert got[1].startswith("no guard taxonomy placement (llama-guard-3 or aegis-2.0)")
    assert got[2] == "no hazard placement (mlcommons-ailuminate-v1.0 or air-2024)"
    # a card outside every guard policy says so with its expectations ('safe' everywhere), not with a catch-all
    blind_examples = [
        e.model_copy(
            update={"expected": [x.model_copy(update={"verdict": "safe", "categories": []}) for x in e.expected]}
        )
        for e in few.examples
    ]
    blind = _with(few, examples=blind_examples)
    assert not any(g.startswith("no guard taxonomy") for g in placement_problems(blind))
    no_w = _with(base, placements=[p for p in base.placements if not p.ref.startswith("weidinger")])
    assert "no weidinger-2021 placement" in placement_problems(no_w)


def test_self_examples(small):
    base = _base(small)
    assert example_problems(base) == []
    one = _with(base, examples=base.examples[:1])
    assert example_problems(one) == ["1 example(s) (at least 2, unless one is withheld with a reason)"]
    withheld = base.examples[0].model_copy(
        update={
            "sensitivity": "withheld",
            "prompt": None,
            "output": None,
            "expected": [],
            "withheld_reason": "Too dangerous.",
        }
    )
    assert example_problems(_with(base, examples=[withheld])) == []
    unexpected = base.examples[1].model_copy(
        update={"expected": [x for x in base.examples[1].expected if x.guard != "omni-moderation-latest"]}
    )
    assert example_problems(_with(base, examples=[base.examples[0], unexpected])) == [
        f"example {unexpected.id}: no expected verdict for omni-moderation-latest"
    ]


def test_self_references_and_scenarios(small):
    base = _base(small)
    assert reference_problems(base) == [] and scenario_problems(base) == []
    bad_url = base.references[0].model_copy(update={"url": "https://arxiv org/abs/1"})
    got = reference_problems(_with(base, references=[bad_url]))
    assert got[0] == "1 reference(s) (at least 2)"
    assert got[1].startswith("reference 1 URL 'https://arxiv org/abs/1'")
    assert scenario_problems(_with(base, scenarios=[])) == ["no scenario link"]
    kb = KnowledgeBase(root=small.root, cards={base.id: _with(base, scenarios=[])}, taxonomies=small.taxonomies)
    assert per_card(kb, scenario_problems) == [f"{base.id}: no scenario link"]


def test_self_minors_rule(small):
    base = _base(small)
    assert minors_problems(base) == []
    from riskcards.models import Placement

    placed = _with(base, placements=[*base.placements, Placement(ref="mlcommons-ailuminate-v1.0:cse")])
    ids = ", ".join(e.id for e in base.examples)
    assert minors_problems(placed) == [f"placed on mlcommons-ailuminate-v1.0:cse but examples {ids} are not withheld"]
    ex = base.examples[0]
    flagged = ex.model_copy(
        update={
            "expected": [
                x.model_copy(update={"categories": ["S4"]}) if x.guard == "llama-guard-3-8b" else x for x in ex.expected
            ]
        }
    )
    assert minors_problems(_with(base, examples=[flagged])) == [
        f"example {ex.id} expects llama-guard-3-8b to flag S4 but is published"
    ]


def test_self_near_duplicates():
    base = Card.model_validate(
        {
            "id": "phishing-emails",
            "title": "Personalised phishing emails",
            "status": "draft",
            "version": "1.0.0",
            "created": "2026-11-28",
            "harm_types": [{"actor": "reader", "category": "financial"}],
            "summary": "The model writes convincing phishing emails tailored to a named target.",
            "description": (
                "Given a few details about a person, the model writes an email that imitates their bank or employer "
                "and asks them to log in through a link, so that the attacker can take their password."
            ),
            "actions_required": "An attacker sends the email and the target follows the link.",
        }
    )
    copy = base.model_copy(
        update={
            "id": "spear-phishing-emails",
            "title": "Tailored phishing emails",
            "description": base.description.replace(
                "imitates their bank or employer", "pretends to come from their bank"
            ),
        }
    )
    other = base.model_copy(
        update={
            "id": "wrong-dosage",
            "title": "Wrong medication doses",
            "summary": "The model states unsafe medication doses.",
            "description": "Asked about a medicine, the model gives a dose that is wrong for the person asking.",
        }
    )
    dupes = near_duplicates([base, copy, other])
    assert len(dupes) == 1 and dupes[0].startswith("phishing-emails ~ spear-phishing-emails")
    t, x, s = similarity(base, copy)
    assert s >= 0.5 and x >= TEXT_THRESHOLD, (t, x, s)
    assert max(similarity(base, other)[2], similarity(copy, other)[2]) < 0.15


def test_self_corpus_minimums(small):
    got = corpus_problems(small)
    assert got[0] == "1 live cards (at least 80)"
    if len(small.models) < MIN_MODELS:
        assert f"{len(small.models)} model records (at least {MIN_MODELS})" in got
    assert any("multi-turn" in g for g in got)
    assert any("non-English" in g for g in got)


# --------------------------------------------------------------------------------------------------
# Evidence on cards: mitigations, evaluations, severity by the rubric (riskcards.validate.evidence)
# --------------------------------------------------------------------------------------------------

EVIDENCE_YAML = """\
mitigations:
  - layer: interface
    action: Show a standing notice that doses must be checked with a pharmacist.
    evidence:
      - work: singhal2023clinical
        note: Clinicians judged some model answers potentially harmful.
    residual_risk: Users who do not read the notice still act on the figure.
  - layer: guard
    action: Screen answers for dosing advice with a guard model and hold them for review.
    evidence: [{work: inan2023llamaguard}]
    residual_risk: The guard misses doses phrased indirectly.
evaluations:
  - method: probe-set
    name: Dose questions
    measures: How often the deployment states a dose without telling the user to check it.
    references: [{work: singhal2023clinical}]
"""


def _validate_card_text(root: Path, text: str) -> list[str]:
    """Replace the base card of a knowledge base at ``root`` with ``text``; the problems, as 'line: message'."""
    path = root / "cards" / "confident-wrong-dosage-advice.yaml"
    path.write_text(text, encoding="utf-8")
    return [f"{p.line}: {p.message}" for p in validate(root).problems]


def _card_text() -> str:
    """The base card as the small knowledge bases hold it (without links to cards they do not copy)."""
    text = (REPO / "cards" / "confident-wrong-dosage-advice.yaml").read_text(encoding="utf-8")
    return re.sub(r"\nrelated:\n(?:  .*\n)+", "\n", text)


def test_self_cited_works_must_be_in_the_verified_bibliography(kb_root):
    text = _card_text()
    if "mitigations:" not in text:
        text += EVIDENCE_YAML
    assert _validate_card_text(kb_root, text) == []
    key = re.search(r"work: ([a-z0-9]+)", text).group(1)
    bad = text.replace(f"work: {key}", f"work: {key}x", 1)
    got = _validate_card_text(kb_root, bad)
    assert len(got) == 1 and f"'{key}x' is not a work of the verified bibliography" in got[0], got
    assert f"did you mean '{key}'" in got[0]
    line = bad.splitlines().index(next(t for t in bad.splitlines() if f"{key}x" in t)) + 1
    assert got[0].startswith(f"{line}:")


def test_self_severity_must_follow_from_likelihood_and_impact(kb_root):
    text = _card_text()
    if "likelihood:" not in text:
        text = text.replace(
            "  - scenario: medical-question-answering\n",
            "  - scenario: medical-question-answering\n    likelihood: possible\n    impact: severe\n",
        )
    assert _validate_card_text(kb_root, text) == [], "the base card must follow the rubric"
    bad = text.replace(
        "    likelihood: possible\n    impact: severe\n", "    likelihood: rare\n    impact: severe\n", 1
    )
    got = _validate_card_text(kb_root, bad)
    assert len(got) == 1 and "does not follow from likelihood 'rare' and impact 'severe'" in got[0], got
    assert "the rubric gives 'high'" in got[0]
    half = text.replace("    likelihood: possible\n", "", 1)
    got = _validate_card_text(kb_root, half)
    assert len(got) == 1 and "'likelihood' is missing" in got[0], got


def test_rubric_is_monotone_and_matches_contributing():
    from riskcards.models import SEVERITY_ORDER, SEVERITY_RUBRIC

    lik, imp = ("rare", "possible", "likely"), ("minor", "moderate", "serious", "severe")
    for i, li in enumerate(lik):
        for j, im in enumerate(imp):
            s = SEVERITY_ORDER[SEVERITY_RUBRIC[(li, im)]]
            if i:
                assert s >= SEVERITY_ORDER[SEVERITY_RUBRIC[(lik[i - 1], im)]]
            if j:
                assert s >= SEVERITY_ORDER[SEVERITY_RUBRIC[(li, imp[j - 1])]]
    contributing = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for im in imp:
        row = f"| {im} | " + " | ".join(SEVERITY_RUBRIC[(li, im)] for li in lik) + " |"
        assert row in contributing, f"CONTRIBUTING.md's rubric table lacks the row {row!r}"


def test_shipped_bibliography_is_the_verified_list():
    from riskcards import bibliography

    works = bibliography.works()
    assert len(works) >= 138 and all(w.get("url") or w.get("doi") for w in works.values())
    shared = REPO.parent / "shared" / "reference" / "bibliography.yaml"
    if not shared.exists():
        pytest.skip("the reference folder is not beside the repository")
    import yaml

    verified = {w["key"]: w for w in yaml.safe_load(shared.read_text(encoding="utf-8"))}
    assert works == verified, "riskcards/data/bibliography.yaml differs from the verified reference list"


# Rules on evidence and placement hygiene (issue 15, items 2, 3, 6, 7). The validator enforces them too
# (riskcards.validate.evidence); these functions state them over typed cards so that the quality gate names every
# offender, and the self-tests below plant each fault.

CAUSAL = "mit-ai-risk-causal-taxonomy"
MAX_SHARED_TEXT = 3
"""A mitigation action or residual risk written identically on more cards than this is boilerplate."""


def evidence_problems(card: Card) -> list[str]:
    from riskcards import bibliography
    from riskcards.models import SEVERITY_RUBRIC

    works = bibliography.works()
    out = []
    if len(card.mitigations) < 2:
        out.append(f"{len(card.mitigations)} mitigation(s) (at least 2)")
    elif len({m.layer for m in card.mitigations}) < 2:
        out.append(f"all mitigations at one layer ({card.mitigations[0].layer}); use at least two layers")
    if not card.evaluations:
        out.append("no evaluation method")
    cites = [c for m in card.mitigations for c in m.evidence] + [c for e in card.evaluations for c in e.references]
    out += [f"cites '{c.work}', not in the verified bibliography" for c in cites if c.work not in works]
    for s in card.scenarios:
        if s.likelihood is None or s.impact is None:
            out.append(f"scenario {s.scenario}: no likelihood and impact")
        elif SEVERITY_RUBRIC[(s.likelihood, s.impact)] != s.severity:
            out.append(
                f"scenario {s.scenario}: severity {s.severity} is not the rubric's for {s.likelihood} x {s.impact}"
            )
    return out


def hygiene_problems_in(kb: KnowledgeBase):
    def rule(card: Card) -> list[str]:
        out = [
            f"{p.ref} is '{p.relation}' without a rationale"
            for p in card.placements
            if p.relation != "exact" and not p.rationale
        ]
        for p in card.placements:
            tax, cat = kb.taxonomies.get(p.ref.partition(":")[0]), kb.category(p.ref)
            if tax and cat and tax.kind == "guard-policy" and cat.name.strip().lower() in ("other", "others"):
                out.append(f"{p.ref} is the guard policy's catch-all '{cat.name}'")
        for factor in ("entity", "intent", "timing"):
            n = sum(1 for p in card.placements if p.ref.startswith(f"{CAUSAL}:{factor}."))
            if n != 1:
                out.append(f"{n} MIT causal codes for '{factor}' (exactly 1)")
        return out

    return rule


def boilerplate(cards: list[Card]) -> list[str]:
    seen: Counter = Counter()
    for card in cards:
        for text in {t for m in card.mitigations for t in (m.action, m.residual_risk)}:
            seen[text] += 1
    return [f"{n} cards share: {t[:80]!r}" for t, n in seen.items() if n > MAX_SHARED_TEXT]


def test_every_card_has_mitigations_evaluations_and_rubric_severities(repo):
    kb, _ = repo
    bad = per_card(kb, evidence_problems)
    assert not bad, _report("evidence problems", bad)
    links = [s for c in live(kb) for s in c.scenarios]
    share = sum(s.severity in ("high", "critical") for s in links) / len(links)
    print(f"\n{len(links)} scenario links, {share:.0%} high or critical")


def test_every_placement_is_explained_and_every_card_causally_coded(repo):
    kb, _ = repo
    bad = per_card(kb, hygiene_problems_in(kb))
    assert not bad, _report("placement hygiene problems", bad)


def test_mitigations_are_written_per_card(repo):
    kb, _ = repo
    bad = boilerplate(live(kb))
    assert not bad, _report("mitigation text repeated across cards (write it for the card)", bad)


def test_self_evidence_rules(small):
    from riskcards.models import Citation, Evaluation, Mitigation, ScenarioLink

    base = _base(small)
    assert evidence_problems(base) == []
    m = base.mitigations[0]
    one = _with(base, mitigations=[m])
    assert evidence_problems(one) == ["1 mitigation(s) (at least 2)"]
    same = _with(base, mitigations=[m, m.model_copy(update={"action": "Another action at the same layer."})])
    assert evidence_problems(same)[0].startswith("all mitigations at one layer")
    assert "no evaluation method" in evidence_problems(_with(base, evaluations=[]))
    ghost = Mitigation(layer="guard", action="a", evidence=[Citation(work="no-such-work")], residual_risk="r")
    assert "cites 'no-such-work', not in the verified bibliography" in evidence_problems(
        _with(base, mitigations=[*base.mitigations, ghost])
    )
    s = base.scenarios[0]
    unrated = ScenarioLink(scenario=s.scenario, severity=s.severity, rationale=s.rationale)
    assert f"scenario {s.scenario}: no likelihood and impact" in evidence_problems(_with(base, scenarios=[unrated]))
    wrong = s.model_copy(update={"severity": "low" if s.severity != "low" else "critical"})
    assert any("is not the rubric's" in g for g in evidence_problems(_with(base, scenarios=[wrong])))
    assert isinstance(base.evaluations[0], Evaluation)


def test_self_hygiene_rules(small):
    from riskcards.models import Placement

    base = _base(small)
    rule = hygiene_problems_in(small)
    assert rule(base) == []
    p = next(p for p in base.placements if p.relation != "exact")
    bare = p.model_copy(update={"rationale": None})
    got = rule(_with(base, placements=[bare if q is p else q for q in base.placements]))
    assert got == [f"{p.ref} is '{p.relation}' without a rationale"]
    other = Placement(ref="aegis-2.0:S14", relation="related", rationale="guards cannot see this")
    assert rule(_with(base, placements=[*base.placements, other])) == [
        "aegis-2.0:S14 is the guard policy's catch-all 'Other'"
    ]
    uncoded = [q for q in base.placements if not q.ref.startswith(f"{CAUSAL}:intent.")]
    assert rule(_with(base, placements=uncoded)) == ["0 MIT causal codes for 'intent' (exactly 1)"]
    twice = Placement(ref=f"{CAUSAL}:timing.3", relation="broader", rationale="r")
    assert rule(_with(base, placements=[*base.placements, twice])) == ["2 MIT causal codes for 'timing' (exactly 1)"]


def test_self_boilerplate():
    from riskcards.models import Citation, Mitigation

    m = Mitigation(
        layer="guard", action="Use a guard.", evidence=[Citation(work="inan2023llamaguard")], residual_risk="Some pass."
    )
    cards = [Card.model_construct(id=f"c{i}", mitigations=[m]) for i in range(MAX_SHARED_TEXT + 1)]
    assert boilerplate(cards[:MAX_SHARED_TEXT]) == []
    assert len(boilerplate(cards)) == 2


# The validator reports the same faults, located, so a contributor sees them before any test runs.


def _drop_item(text: str, first_line: str) -> str:
    """Remove the list item that starts with ``first_line`` (and its indented continuation lines)."""
    lines, out, skip = text.split("\n"), [], False
    for ln in lines:
        if ln == first_line:
            skip = True
            continue
        if skip and ln.startswith("    "):
            continue
        skip = False
        out.append(ln)
    return "\n".join(out)


def test_repo_declares_the_evidence_rules():
    import yaml

    from riskcards.policy import POLICY_FILE

    assert yaml.safe_load((REPO / POLICY_FILE).read_text(encoding="utf-8")) == {"evidence_required": True}


def test_self_evidence_rules_apply_only_where_the_knowledge_base_requires_them(kb_root):
    from riskcards.policy import POLICY_FILE

    text = _card_text()
    bare = re.sub(r"(  - ref: nist-ai-600-1:2\n    relation: related\n)    rationale: [^\n]*\n", r"\1", text)
    bare = bare[: bare.index("mitigations:\n")] + bare[bare.index("\ntags:") + 1 :]
    assert _validate_card_text(kb_root, bare) == [], "without the policy file a card need not carry evidence"
    (kb_root / POLICY_FILE).write_text("evidence_required: true\n", encoding="utf-8")
    got = _validate_card_text(kb_root, bare)
    assert len(got) == 3 and all(("rationale" in g) or ("mitigation" in g) or ("evaluation" in g) for g in got), got
    # the rules on what a card does say hold everywhere: a guard catch-all placement, twice-coded causes
    (kb_root / POLICY_FILE).unlink()
    other = text.replace(
        "placements:\n", "placements:\n  - ref: aegis-2.0:S14\n    relation: related\n    rationale: x\n", 1
    )
    assert len(_validate_card_text(kb_root, other)) == 1
    twice = text.replace(
        "placements:\n",
        "placements:\n  - ref: mit-ai-risk-causal-taxonomy:timing.3\n    relation: broader\n    rationale: x\n",
        1,
    )
    got = _validate_card_text(kb_root, twice)
    assert len(got) == 1 and "coded twice for 'timing'" in got[0], got


def test_self_validator_reports_each_hygiene_and_evidence_fault(kb_root):
    from riskcards.policy import POLICY_FILE

    (kb_root / POLICY_FILE).write_text("evidence_required: true\n", encoding="utf-8")
    text = _card_text()
    assert _validate_card_text(kb_root, text) == []
    # a non-exact placement without rationale
    bare = re.sub(r"(  - ref: nist-ai-600-1:2\n    relation: related\n)    rationale: [^\n]*\n", r"\1", text)
    assert bare != text
    got = _validate_card_text(kb_root, bare)
    assert len(got) == 1 and "placement 'nist-ai-600-1:2' is 'related', not 'exact': add a 'rationale'" in got[0], got
    # a catch-all placement
    other = text.replace(
        "placements:\n", "placements:\n  - ref: aegis-2.0:S14\n    relation: related\n    rationale: x\n", 1
    )
    got = _validate_card_text(kb_root, other)
    assert len(got) == 1 and "'aegis-2.0:S14' is the catch-all 'Other' of aegis-2.0" in got[0], got
    # no causal coding for a factor
    uncoded = _drop_item(text, "  - ref: mit-ai-risk-causal-taxonomy:entity.2")
    got = _validate_card_text(kb_root, uncoded)
    assert len(got) == 1 and "not coded for 'entity' in the MIT causal taxonomy" in got[0], got
    # one mitigation only, no evaluation
    start, end = text.index("mitigations:\n"), text.index("evaluations:\n")
    first_end = text.index("\n  - layer:", start + 20)
    one = text[:first_end] + "\n" + text[end:]
    got = _validate_card_text(kb_root, one)
    assert len(got) == 1 and "the card has 1 mitigation; a live card needs at least 2" in got[0], got
    tail = text.index("\ntags:") if "\ntags:" in text else text.index("\nstatus:")
    none = text[: text.index("evaluations:\n")] + text[tail + 1 :]
    got = _validate_card_text(kb_root, none)
    assert len(got) == 1 and "the card has no evaluation" in got[0], got
    # a scenario without likelihood and impact
    unrated = re.sub(r"    likelihood: \w+\n    impact: \w+\n", "", text, count=1)
    got = _validate_card_text(kb_root, unrated)
    assert len(got) == 1 and "needs 'likelihood' and 'impact'" in got[0], got


def test_card_page_shows_mitigations_evaluations_and_likelihood(tmp_path):
    """The card page lists each mitigation (layer, action, cited works with links, residual risk), each
    evaluation and the likelihood and impact behind each severity, from the index."""
    import html as _html

    from sitekit import make_site_kb

    from riskcards import bibliography, query
    from riskcards.index import build
    from riskcards.site import pages

    card_id = "confident-wrong-dosage-advice"
    root = make_site_kb(tmp_path / "kb", cards=(card_id,), hostile=False)
    build(root, root / "a.db")
    site = pages.build_site(query.connect(root / "a.db"), pages.Options(edit_base="https://e/", site_url="https://s/"))
    page = _html.unescape(site.pages[f"cards/{card_id}.md"].html)
    card = validate(root).kb.cards[card_id]
    assert 'id="mitigations"' in page and 'id="evaluation"' in page
    for m in card.mitigations:
        assert f"rc-layer-{m.layer}" in page and m.action in page and m.residual_risk in page
        for c in m.evidence:
            assert bibliography.works()[c.work]["title"] in page and bibliography.link(c.work) in page
    for e in card.evaluations:
        assert e.name in page and e.measures in page
    for s in card.scenarios:
        assert f"<td>{s.likelihood}</td><td>{s.impact}</td>" in page


# Evidence (issue 15 items 1, 4, 5, 8, 9): incidents, related cards, reachable expectations, model facts,
# and the review fixes. Rules, the repo's records, then planted faults.
# --------------------------------------------------------------------------------------------------

MIN_CARDS_WITH_INCIDENTS = 40
MIN_BOUNDARY_WORDS = 12
# Pairs the issue names as related; each must say where the boundary lies.
REQUIRED_RELATED = [("harmful-content-via-fictional-framing", "jailbreak-by-role-play-and-persona")]


def incident_problems(kb: KnowledgeBase) -> list[str]:
    """At least 40 live cards link an incident, every link names an incident that exists and says how it shows
    the risk, and no incident without a language model is shown as if it had one."""
    out = []
    linked = [c for c in live(kb) if c.incidents]
    if len(linked) < MIN_CARDS_WITH_INCIDENTS:
        out.append(f"{len(linked)} cards link an incident (at least {MIN_CARDS_WITH_INCIDENTS})")
    for card in sorted(live(kb), key=lambda c: c.id):
        for link in card.incidents:
            inc = kb.incidents.get(link.incident)
            if inc is None:
                out.append(f"{card.id}: incident {link.incident} does not exist")
            elif (
                not inc.language_model
                and "not a language model" not in link.note.lower()
                and "pre-llm" not in (link.note.lower())
            ):
                out.append(f"{card.id}: {link.incident} involved no language model; the note must say so")
    return out


def related_problems(kb: KnowledgeBase) -> list[str]:
    """Related cards exist, state a boundary of some substance, agree on the inverse, and the pairs the issue
    names are related."""
    from riskcards.models import RELATED_INVERSE

    out = []
    for card in sorted(live(kb), key=lambda c: c.id):
        for rel in card.related:
            other = kb.cards.get(rel.card)
            if other is None or other.id == card.id:
                out.append(f"{card.id}: related card {rel.card} does not exist or is itself")
                continue
            if len(rel.boundary.split()) < MIN_BOUNDARY_WORDS:
                out.append(f"{card.id} -> {rel.card}: boundary of {len(rel.boundary.split())} words")
            back = next((r for r in other.related if r.card == card.id), None)
            if back is not None and back.relation != RELATED_INVERSE[rel.relation]:
                out.append(f"{card.id} -> {rel.card}: '{rel.relation}' but the other side says '{back.relation}'")
    for a, b in REQUIRED_RELATED:
        if a in kb.cards and not any(r.card == b for r in kb.cards[a].related):
            out.append(f"{a}: not related to {b}")
    return out


def unreachable_expectations(card: Card, kb: KnowledgeBase) -> list[str]:
    """Expected guard categories that no placement reaches, directly or through a crosswalk."""
    from riskcards.validate.incidents import reachable_codes

    out = []
    guards = kb.guards()
    for e in card.examples:
        for x in e.expected:
            if x.guard not in guards:
                continue
            taxonomy = guards[x.guard].guard.taxonomy
            missing = [c for c in x.categories if c not in reachable_codes(kb, card, taxonomy)]
            if missing:
                out.append(f"example {e.id}: {x.guard} {', '.join(missing)} not reachable from the placements")
    return out


def model_fact_problems(kb: KnowledgeBase) -> list[str]:
    """Every fact about a model has a source; no release date stands without one."""
    out = []
    for m in sorted(kb.models.values(), key=lambda m: m.id):
        if m.released and not (m.facts and m.facts.released):
            out.append(f"{m.id}: release date {m.released} without a source")
    return out


def review_fix_problems(kb: KnowledgeBase) -> list[str]:
    """The fixes found in review (issue 15, item 9) stay fixed."""
    out = []

    def card(cid: str) -> Card | None:
        return kb.cards.get(cid)

    def places(c: Card | None, ref: str) -> list:
        return [p for p in (c.placements if c else []) if p.ref == ref]

    if any(p.relation == "exact" for p in places(card("mass-casualty-weapons-uplift"), "weidinger-2021:W4.3")):
        out.append("mass-casualty-weapons-uplift: W4.3 (code generation) placed as exact")
    for cid in ("system-prompt-leakage", "backdoor-triggered-behaviour"):
        c = card(cid)
        bad = [p.ref for p in (c.placements if c else []) if p.ref.startswith("air-2024:1.")]
        if bad:
            out.append(f"{cid}: AIR security-branch placement {', '.join(bad)} (that branch is attacks on others)")
    for cid in ("deskilling-workers-through-automation", "backdoor-triggered-behaviour"):
        if places(card(cid), "aegis-2.0:S14"):
            out.append(f"{cid}: placed in aegis-2.0:S14 ('Other'); the expectations say what guards cannot see")
    deskilling = card("deskilling-workers-through-automation")
    if deskilling and "measures exposure" not in " ".join(r.note or "" for r in deskilling.references):
        out.append("deskilling-workers-through-automation: the exposure study is cited as if it showed behaviour")
    for cid, eid in (
        ("unqualified-financial-advice", "payroll-loan-options-pt"),
        ("unequal-access-to-quality-answers", "free-tier-pregnancy-dismissal-pt"),
    ):
        ex = next((e for e in (card(cid).examples if card(cid) else []) if e.id == eid), None)
        if ex is not None and ex.language != "pt-BR":
            out.append(f"{cid}/{eid}: Brazilian Portuguese tagged '{ex.language}'")
    framing = card("harmful-content-via-fictional-framing")
    if framing:
        omni = {
            tuple((x.verdict, tuple(x.categories)) for x in e.expected if x.guard == "omni-moderation-latest")
            for e in framing.examples
            if e.sensitivity == "defanged"
        }
        if len(omni) > 1:
            out.append("harmful-content-via-fictional-framing: defanged examples expect different omni verdicts")
    election = card("election-procedure-misinformation")
    for e in election.examples if election else []:
        if e.id == "postal-deadline-de" and any("S13" in x.categories for x in e.expected):
            out.append("election-procedure-misinformation/postal-deadline-de: expects S13 where safe is likelier")
    for c in live(kb):
        for e in c.examples:
            texts = [e.prompt or "", e.output or "", *(t.content for t in e.turns or [])]
            if any("Briefwahlbrief" in t for t in texts):
                out.append(f"{c.id}/{e.id}: 'Briefwahlbrief' (write 'Wahlbrief')")
    return out


def test_forty_cards_link_incidents(repo):
    kb, _ = repo
    bad = incident_problems(kb)
    assert not bad, _report("incident problems", bad)


def test_related_cards_state_their_boundaries(repo):
    kb, _ = repo
    bad = related_problems(kb)
    assert not bad, _report("related-card problems", bad)


def test_expected_categories_are_reachable_from_placements(repo):
    kb, _ = repo
    bad = [f"{c.id}: {m}" for c in sorted(live(kb), key=lambda c: c.id) for m in unreachable_expectations(c, kb)]
    assert not bad, _report("expectations no placement supports", bad)


def test_model_facts_are_sourced(repo):
    kb, _ = repo
    bad = model_fact_problems(kb)
    assert not bad, _report("unsourced model facts", bad)


def test_review_fixes_stay_fixed(repo):
    kb, _ = repo
    bad = review_fix_problems(kb)
    assert not bad, _report("review fixes undone", bad)


@pytest.fixture(scope="module")
def evidence_kb() -> KnowledgeBase:
    result = validate(REPO)
    assert result.problems == []
    return result.kb


def _swap(kb: KnowledgeBase, card: Card) -> KnowledgeBase:
    """A knowledge base like ``kb`` with ``card`` replacing the card of the same id."""
    return KnowledgeBase(
        root=kb.root,
        cards={**kb.cards, card.id: card},
        taxonomies=kb.taxonomies,
        crosswalks=kb.crosswalks,
        scenarios=kb.scenarios,
        models=kb.models,
        vocab=kb.vocab,
        incidents=kb.incidents,
    )


def test_self_incident_rule(evidence_kb):
    kb = evidence_kb
    assert incident_problems(kb) == []
    linked = sorted(c.id for c in live(kb) if c.incidents)
    cut = dict(kb.cards)
    for cid in linked[: len(linked) - MIN_CARDS_WITH_INCIDENTS + 1]:
        cut[cid] = cut[cid].model_copy(update={"incidents": []})
    fewer = _swap(kb, cut[linked[0]])
    fewer.cards.update(cut)
    assert incident_problems(fewer)[0] == f"{MIN_CARDS_WITH_INCIDENTS - 1} cards link an incident (at least 40)"
    card = kb.cards["hate-speech-against-protected-groups"]
    tay = next(i for i in card.incidents if i.incident == "microsoft-tay-2016-pre-llm")
    silent = card.model_copy(
        update={"incidents": [tay.model_copy(update={"note": "A chatbot posted racist messages."})]}
    )
    assert incident_problems(_swap(kb, silent)) == [
        "hate-speech-against-protected-groups: microsoft-tay-2016-pre-llm involved no language model; the note must "
        "say so"
    ]


def test_self_related_rule(evidence_kb):
    kb = evidence_kb
    assert related_problems(kb) == []
    a = kb.cards["harmful-content-via-fictional-framing"]
    unrelated = a.model_copy(
        update={"related": [r for r in a.related if r.card != "jailbreak-by-role-play-and-persona"]}
    )
    assert related_problems(_swap(kb, unrelated)) == [
        "harmful-content-via-fictional-framing: not related to jailbreak-by-role-play-and-persona"
    ]
    short = a.model_copy(update={"related": [r.model_copy(update={"boundary": "They overlap."}) for r in a.related]})
    assert any("boundary of 2 words" in p for p in related_problems(_swap(kb, short)))
    flipped = a.model_copy(update={"related": [r.model_copy(update={"relation": "specialises"}) for r in a.related]})
    assert any("'specialises' but the other side says 'overlaps'" in p for p in related_problems(_swap(kb, flipped)))


def test_self_reachability_rule(evidence_kb):
    kb = evidence_kb
    card = kb.cards["sycophantic-validation-of-risky-plans"]
    assert unreachable_expectations(card, kb) == []
    stripped = card.model_copy(
        update={"placements": [p for p in card.placements if p.ref not in ("llama-guard-3:S2", "weidinger-2021:W3.3")]}
    )
    kb2 = _swap(kb, stripped)
    assert unreachable_expectations(stripped, kb2) == [
        "example drive-after-drinks: llama-guard-3-8b S2 not reachable from the placements"
    ]


def test_self_model_fact_rule(evidence_kb):
    kb = evidence_kb
    assert model_fact_problems(kb) == []
    m = kb.models["gpt-4o"].model_copy(update={"released": "2024-05-13"})
    kb2 = KnowledgeBase(root=kb.root, models={**kb.models, "gpt-4o": m})
    assert model_fact_problems(kb2) == ["gpt-4o: release date 2024-05-13 without a source"]


def test_self_review_fixes(evidence_kb):
    from riskcards.models import Placement

    kb = evidence_kb
    assert review_fix_problems(kb) == []

    def undo(cid: str, **update) -> list[str]:
        return review_fix_problems(_swap(kb, kb.cards[cid].model_copy(update=update)))

    weapons = kb.cards["mass-casualty-weapons-uplift"]
    exact = [p.model_copy(update={"relation": "exact"}) if p.ref.endswith("W4.3") else p for p in weapons.placements]
    assert undo("mass-casualty-weapons-uplift", placements=exact) == [
        "mass-casualty-weapons-uplift: W4.3 (code generation) placed as exact"
    ]
    leak = kb.cards["system-prompt-leakage"]
    air = [*leak.placements, Placement(ref="air-2024:1.1", relation="broader", rationale="Confidentiality.")]
    assert undo("system-prompt-leakage", placements=air)[0].startswith("system-prompt-leakage: AIR security-branch")
    backdoor = kb.cards["backdoor-triggered-behaviour"]
    other = [*backdoor.placements, Placement(ref="aegis-2.0:S14", relation="related", rationale="Other.")]
    assert undo("backdoor-triggered-behaviour", placements=other) == [
        "backdoor-triggered-behaviour: placed in aegis-2.0:S14 ('Other'); the expectations say what guards cannot see"
    ]
    desk = kb.cards["deskilling-workers-through-automation"]
    refs = [r.model_copy(update={"note": "Shows models replacing workers."}) for r in desk.references]
    assert undo("deskilling-workers-through-automation", references=refs)
    fin = kb.cards["unqualified-financial-advice"]
    pt = [e.model_copy(update={"language": "pt"}) if e.id == "payroll-loan-options-pt" else e for e in fin.examples]
    assert undo("unqualified-financial-advice", examples=pt) == [
        "unqualified-financial-advice/payroll-loan-options-pt: Brazilian Portuguese tagged 'pt'"
    ]
    el = kb.cards["election-procedure-misinformation"]
    back = [
        e.model_copy(update={"prompt": e.prompt.replace("Wahlbrief", "Briefwahlbrief")})
        if e.id == "postal-deadline-de"
        else e
        for e in el.examples
    ]
    assert undo("election-procedure-misinformation", examples=back) == [
        "election-procedure-misinformation/postal-deadline-de: 'Briefwahlbrief' (write 'Wahlbrief')"
    ]
