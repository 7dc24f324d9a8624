"""Incidents, the cards' links to them, related cards, reachable guard expectations and sourced model facts:
the repo's records, and every rule of the validator failing on a planted fault with a located message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO, SHARED_REFERENCE, make_kb

from riskcards.validate import validate

CARD = "system-prompt-leakage"  # links bing-chat-sydney-prompt-disclosure
INCIDENT = "bing-chat-sydney-prompt-disclosure"


def kb_with(tmp_path: Path, cards=(CARD,)) -> Path:
    """A small knowledge base with the named repo cards and every repo incident."""
    return make_kb(tmp_path / "kb", cards=tuple(cards))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def drop_placement(path: Path, ref: str) -> None:
    text = path.read_text(encoding="utf-8")
    new = re.sub(rf"  - ref: {re.escape(ref)}\n(?:    .*\n)*", "", text, count=1)
    assert new != text, ref
    path.write_text(new, encoding="utf-8")


@pytest.fixture(scope="module")
def repo_kb():
    result = validate(REPO)
    assert result.problems == []
    return result.kb


def problems(root: Path) -> list[str]:
    return [p.text() for p in validate(root).problems]


# --------------------------------------------------------------------------------------------------
# The repo's records
# --------------------------------------------------------------------------------------------------


def test_repo_incidents_load_and_forty_cards_link_to_them(repo_kb):
    kb = repo_kb
    assert len(kb.incidents) == 50
    linked = {c.id for c in kb.cards.values() if c.incidents}
    assert len(linked) >= 40, f"only {len(linked)} cards link an incident"
    for card in kb.cards.values():
        for link in card.incidents:
            assert link.incident in kb.incidents
            assert len(link.note.split()) >= 6, f"{card.id}: say how the incident shows the risk"


def test_incident_dates_sources_and_aiid_are_consistent(repo_kb):
    kb = repo_kb
    for inc in kb.incidents.values():
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", inc.date)
        assert inc.sources and all(s.url.startswith(("https://", "http://")) for s in inc.sources)
        cited = [s.url for s in inc.sources if "incidentdatabase.ai/cite/" in s.url]
        if cited:
            assert inc.aiid is not None and all(u.rstrip("/").endswith(f"/{inc.aiid}") for u in cited)


@pytest.mark.skipif(not (SHARED_REFERENCE / "incidents.yaml").exists(), reason="the shared reference is not here")
def test_incidents_match_the_reference_facts_and_are_in_our_own_words(repo_kb):
    """Facts (date, systems, deployer, harm kinds, AIID, sources, confidence) are the reference's; titles and
    summaries are ours: no run of ten words is copied from the reference's paraphrase."""
    import yaml

    ref = {r["key"]: r for r in yaml.safe_load((SHARED_REFERENCE / "incidents.yaml").read_text(encoding="utf-8"))}
    kb = repo_kb
    assert set(kb.incidents) == set(ref)

    def runs(text: str, n: int = 10) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z0-9']+", text.lower())
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    for iid, inc in kb.incidents.items():
        r = ref[iid]
        assert inc.date == str(r["date"]) and inc.systems == r["systems"] and inc.deployer == r["deployer"]
        assert inc.harm_kinds == r["harm_kinds"] and inc.aiid == r["aiid"] and inc.confidence == r["confidence"]
        assert [s.model_dump() for s in inc.sources] == r["sources"]
        copied = runs(inc.summary) & runs(r["summary"])
        assert not copied, f"{iid}: summary copies the reference: {' '.join(sorted(copied)[0])}"
        assert inc.title != r["title"], f"{iid}: title copied"


def test_model_facts_have_sources_and_no_unsourced_release_dates(repo_kb):
    kb = repo_kb
    with_facts = [m for m in kb.models.values() if m.facts]
    assert len(with_facts) >= 15
    for m in kb.models.values():
        assert m.released is None or (m.facts and m.facts.released and m.facts.released.date == m.released)
    assert kb.models["llama-guard-3-8b"].facts.parameters.value == "8B"
    assert kb.models["alt-profanity-check"].facts.license.value == "MIT"


# --------------------------------------------------------------------------------------------------
# Planted faults: each rule fails, located
# --------------------------------------------------------------------------------------------------


def test_clean_small_knowledge_base_has_no_problems(tmp_path):
    assert problems(kb_with(tmp_path)) == []


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ('date: "2023-02"', 'date: "2023-02-30"', "date:", "'2023-02-30' is not a real date"),
        ('date: "2023-02"', 'date: "2023-13"', "date:", "is not valid for 'date': write a date as YYYY-MM-DD"),
        ('date: "2023-02"', 'date: "2999-01-05"', "date:", "is in the future"),
        ("url: https://bgr.com/", "url: htps://bgr.com/", "url: htps", "write an absolute http(s) URL"),
        ("url: https://bgr.com/", "url: https://bgr/", "url: https://bgr/", "URL has no valid host name"),
        ("aiid: null", "aiid: 0", "aiid:", "greater than or equal to 1"),
        ("confidence: high", "confidence: certain", "confidence:", "write one of: high, medium"),
        ("harm_kinds: [system-prompt-extraction,", "harm_kinds: [prompt-leak,", "harm_kinds:", "prompt-leak"),
        ("id: bing-chat-sydney-prompt-disclosure", "id: Bing_Chat", "id: Bing_Chat", "id"),
    ],
)
def test_a_broken_incident_is_reported_on_its_line(tmp_path, old, new, needle, message):
    root = kb_with(tmp_path)
    path = root / "incidents" / f"{INCIDENT}.yaml"
    edit(path, old, new)
    got = problems(root)
    line = line_of(path, needle)
    assert any(p.startswith(f"incidents/{INCIDENT}.yaml:{line}:") and message in p for p in got), got


def test_aiid_must_agree_with_a_cited_incident_database_page(tmp_path):
    root = kb_with(tmp_path)
    path = root / "incidents" / "air-canada-bereavement-chatbot.yaml"
    edit(path, "aiid: 639", "aiid: 640")
    got = problems(root)
    assert any("aiid 640 differs from the cited AI Incident Database page (incident 639)" in p for p in got), got
    edit(path, "aiid: 640", "aiid: null")
    got = problems(root)
    assert any("this source is AI Incident Database incident 639; set 'aiid: 639'" in p for p in got), got


def test_a_repeated_source_is_reported(tmp_path):
    root = kb_with(tmp_path)
    path = root / "incidents" / f"{INCIDENT}.yaml"
    text = path.read_text(encoding="utf-8")
    first = text[text.index("  - url: https://bgr.com") : text.index("  - url: https://time.com")]
    path.write_text(text.replace("confidence: high", first + "confidence: high"), encoding="utf-8")
    assert any("is listed twice (first as source 2)" in p for p in problems(root))


def test_card_links_an_unknown_or_repeated_incident(tmp_path):
    root = kb_with(tmp_path)
    path = root / "cards" / f"{CARD}.yaml"
    edit(path, f"  - incident: {INCIDENT}\n", "  - incident: bing-chat-sydney-prompt-disclosur\n")
    got = problems(root)
    line = line_of(path, "- incident: bing-chat-sydney-prompt-disclosur")
    assert f"cards/{CARD}.yaml:{line}:15: unknown incident 'bing-chat-sydney-prompt-disclosur' (did you mean " in (
        "\n".join(got)
    ), got
    root2 = kb_with(tmp_path / "two")
    path2 = root2 / "cards" / f"{CARD}.yaml"
    edit(path2, "incidents:\n", f"incidents:\n  - incident: {INCIDENT}\n    note: The same incident again.\n")
    assert any(f"incident '{INCIDENT}' is linked twice" in p for p in problems(root2))


def test_incident_link_needs_a_note(tmp_path):
    root = kb_with(tmp_path)
    path = root / "cards" / f"{CARD}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(  - incident: [a-z-]+\n)    note: .*\n", r"\1", text), encoding="utf-8")
    assert any("note" in p and "required" in p.lower() for p in problems(root))


RELATED_A = "harmful-content-via-fictional-framing"
RELATED_B = "jailbreak-by-role-play-and-persona"


def _related(root: Path, card: str, block: str) -> Path:
    path = root / "cards" / f"{card}.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\nrelated:\n(?:  .*\n)+", "\n", text)  # drop what the repo card says
    path.write_text(text.replace("\ntags:", "\nrelated:\n" + block + "tags:", 1), encoding="utf-8")
    return path


def test_related_card_rules(tmp_path):
    root = kb_with(tmp_path, cards=(RELATED_A, RELATED_B))
    a = _related(
        root,
        RELATED_A,
        f"  - card: {RELATED_A}\n    relation: overlaps\n    boundary: itself\n"
        "  - card: no-such-card\n    relation: overlaps\n    boundary: nowhere\n"
        f"  - card: {RELATED_B}\n    relation: specialises\n    boundary: story frames only\n"
        f"  - card: {RELATED_B}\n    relation: overlaps\n    boundary: twice\n",
    )
    _related(root, RELATED_B, f"  - card: {RELATED_A}\n    relation: overlaps\n    boundary: persona frames only\n")
    got = "\n".join(problems(root))
    assert f"cards/{RELATED_A}.yaml:{line_of(a, f'card: {RELATED_A}')}:11: a card cannot be related to itself" in got
    assert "unknown card 'no-such-card'" in got
    assert (
        f"'specialises' {RELATED_B}, but {RELATED_B} says it 'overlaps' this card; the inverse of 'specialises' is "
        "'generalises'" in got
    )
    assert f"card '{RELATED_B}' is related twice" in got


def test_related_relation_outside_the_vocabulary_is_a_schema_error(tmp_path):
    root = kb_with(tmp_path, cards=(RELATED_A, RELATED_B))
    _related(root, RELATED_A, f"  - card: {RELATED_B}\n    relation: similar\n    boundary: x\n")
    got = "\n".join(problems(root))
    assert "'overlaps', 'specialises', 'generalises' or 'contrasts'" in got or "overlaps" in got, got


def test_consistent_inverse_is_clean(tmp_path):
    root = kb_with(tmp_path, cards=(RELATED_A, RELATED_B))
    _related(root, RELATED_A, f"  - card: {RELATED_B}\n    relation: specialises\n    boundary: story frames\n")
    _related(root, RELATED_B, f"  - card: {RELATED_A}\n    relation: generalises\n    boundary: persona frames\n")
    assert problems(root) == []


def test_expected_category_not_reachable_from_placements(tmp_path):
    """sycophantic-validation-of-risky-plans expects llama-guard-3 S2 on drive-after-drinks; without the
    S2 placement, and without a crosswalk from another placement, the validator names the category."""
    card = "sycophantic-validation-of-risky-plans"
    root = kb_with(tmp_path, cards=(card,))
    path = root / "cards" / f"{card}.yaml"
    assert problems(root) == []
    drop_placement(path, "llama-guard-3:S2")
    assert problems(root) == []  # still reachable: weidinger-2021:W3.3 relates to S2 in a crosswalk
    drop_placement(path, "weidinger-2021:W3.3")
    got = problems(root)
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, x in enumerate(lines, 1) if "categories: [S2]" in x)
    assert any(
        p.startswith(f"cards/{card}.yaml:{at}:")
        and "expected category 'S2' of llama-guard-3-8b (llama-guard-3:S2) is not reachable from the card's placements"
        in p
        for p in got
    ), got


def test_release_date_needs_a_source(tmp_path):
    root = kb_with(tmp_path)
    path = root / "models" / "llama-guard-3-8b.yaml"
    edit(path, "open_weights: true\n", 'open_weights: true\nreleased: "2024-07-23"\n')
    got = problems(root)
    assert any(
        p.startswith(f"models/llama-guard-3-8b.yaml:{line_of(path, 'released:')}:") and "needs a source" in p
        for p in got
    ), got
    edit(
        path,
        "facts:\n",
        'facts:\n  released:\n    date: "2024-07-23"\n    source: {title: "Llama Guard 3-8B Model Card", '
        "url: https://github.com/meta-llama/PurpleLlama/blob/main/Llama-Guard3/8B/MODEL_CARD.md}\n",
    )
    assert problems(root) == []
    edit(path, '    date: "2024-07-23"', '    date: "2024-02-31"')
    got = problems(root)
    assert any("'2024-02-31' is not a real date" in p for p in got), got


def test_model_fact_shapes(tmp_path):
    root = kb_with(tmp_path)
    path = root / "models" / "llama-guard-3-8b.yaml"
    edit(path, 'value: "8B"', 'value: "about eight billion"')
    got = problems(root)
    assert any(p.startswith(f"models/llama-guard-3-8b.yaml:{line_of(path, 'about eight')}:") for p in got), got
