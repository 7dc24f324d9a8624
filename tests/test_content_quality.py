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
    if not taxonomies & set(HAZARD_TAXONOMIES):
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
            f"{sum(foreign.values())} published non-English examples in {len(foreign)} languages (at least {MIN_NON_ENGLISH} in {MIN_NON_ENGLISH_LANGUAGES})"
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
            "description": "Given a few details about a person, the model writes an email that imitates their bank or employer "
            "and asks them to log in through a link, so that the attacker can take their password.",
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
    return (REPO / "cards" / "confident-wrong-dosage-advice.yaml").read_text(encoding="utf-8")


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

    from riskcards.validate.evidence import POLICY_FILE

    assert yaml.safe_load((REPO / POLICY_FILE).read_text(encoding="utf-8")) == {"evidence_required": True}


def test_self_evidence_rules_apply_only_where_the_knowledge_base_requires_them(kb_root):
    from riskcards.validate.evidence import POLICY_FILE

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
    from riskcards.validate.evidence import POLICY_FILE

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
