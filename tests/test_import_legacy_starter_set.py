"""The 47 real legacy cards (../shared/reference/lm-risk-cards-starter-set/), both forms.

Skipped when the reference folder is absent. The imported cards are test output in tmp_path only; they
are never written to the repository's cards/.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from conftest import SHARED_REFERENCE, make_kb

from riskcards.importers import lm_risk_cards as lmrc
from riskcards.importers.run import import_lm_risk_cards
from riskcards.load import parse_yaml
from riskcards.validate import validate

STARTER = SHARED_REFERENCE / "lm-risk-cards-starter-set"
FORMS = {"current": "yaml-2024", "2023-markdown": "md-2023"}

pytestmark = pytest.mark.skipif(not STARTER.is_dir(), reason="../shared/reference is not present")

# Example counts per card, from the specification (section 4.7: 63 examples in current/, 46 cards with
# examples; the shape table; section 5.1 spot checks). The 2023 forms have the same counts (5.1: deadnaming
# "in both revisions"; wrong_tone's template placeholder is dropped).
SPEC_EXAMPLES = {
    "identify_attacks": 1,
    "deadnaming": 5,
    "deceptive_anthropomorphism": 2,
    "inciting_violence": 2,
    "threats": 2,
    "misquoting": 2,
    "mocking_people": 2,
    "wrong_tone": 1,
    "violation_of_privacy": 0,
    "outdated_false_info": 1,
    "cyber_weapon_instructions": 1,
    "demands_for_personal_information": 1,
}

# Places where the two revisions' source texts differ (E36), so their examples may differ there.
SOURCE_EDITS = {
    "deadnaming": "2023 puts the final '.' of one output outside the bold (dropped as stray text)",
    "demands_for_personal_information": "the 2024 conversion rewrote '# ' code comments as 'Title: '",
    "fear_of_violence": "2023 has 'wrote: \"' where 2024 has 'wrote \"'",
    "quack_medicine": "2023 has 'fertility: Vaginal' where 2024 has 'fertility - Vaginal'",
}


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> dict[str, tuple[Path, object]]:
    out = {}
    for folder in FORMS:
        root = make_kb(tmp_path_factory.mktemp(folder) / "kb", cards=())
        report = import_lm_risk_cards([STARTER / folder], root)
        out[folder] = (root, report)
    return out


def cards(root: Path) -> dict[str, dict]:
    return {p.stem: parse_yaml(p.read_text(encoding="utf-8")) for p in sorted((root / "cards").glob("*.yaml"))}


def legacy(folder: str, stem: str) -> lmrc.LegacyCard:
    path = STARTER / folder / f"{stem}.md"
    card, _, error = lmrc.parse(path.read_bytes(), stem=stem, source=f"{folder}/{path.name}")
    assert error is None and card is not None
    return card


@pytest.mark.parametrize("folder", list(FORMS))
def test_all_47_cards_import_and_validate(imported, folder: str) -> None:
    root, report = imported[folder]
    assert report.errors == [] and not report.failed, report.text()
    assert len(report.cards) == 47
    assert {c.format for c in report.cards} == {FORMS[folder]}
    assert {c.status for c in report.cards} == {"written"}
    assert all("internal_error" not in (n.code for n in c.notes) for c in report.cards)
    if folder == "current":
        assert [p for p, _ in report.skipped][0].endswith("_template.md")
    result = validate(root)
    assert result.problems == []
    assert len(result.kb.cards) == 47


@pytest.mark.parametrize("folder", list(FORMS))
def test_counts_equal_the_specification(imported, folder: str) -> None:
    root, report = imported[folder]
    by_stem = {c.path.rsplit("/", 1)[-1][:-3]: c for c in report.cards}
    assert sum(c.counts["examples"] for c in report.cards) == 63
    assert sum(1 for c in report.cards if c.counts["examples"]) == 46
    for stem, n in SPEC_EXAMPLES.items():
        assert by_stem[stem].counts["examples"] == n, stem
    # 131 code tokens: 127 valid placements + 4 invalid occurrences kept as unmapped (W0.0, S0.0 x2, S1.x).
    assert sum(c.counts["placements"] for c in report.cards) == 127
    bad = sorted(
        (stem, u["raw"], u["reason"])
        for stem, d in ((s, cards(root)[s.replace("_", "-")]) for s in by_stem)
        for u in d["import_notes"].get("unmapped", [])
        if u["field"] == "Categorisation"
    )
    assert bad == [
        ("challenge_presuppositions", "S0.0", "placeholder_code"),
        ("mocking_people", "S1.x", "wildcard_code"),
        ("wrong_tone", "S0.0", "placeholder_code"),
        ("wrong_tone", "W0.0", "placeholder_code"),
    ]
    # 97 harm pairs; 1-4 per card as in section 4.5; actor totals.
    assert sum(c.counts["harm_types"] for c in report.cards) == 97
    per = sorted(c.counts["harm_types"] for c in report.cards)
    assert (per.count(1), per.count(2), per.count(3), per.count(4)) == (9, 27, 10, 1)
    actors: dict[str, int] = {}
    for d in cards(root).values():
        for h in d["harm_types"]:
            actors[h["actor"]] = actors.get(h["actor"], 0) + 1
    assert actors == {"external-group": 38, "consumer": 28, "reader": 16, "publisher": 11, "provider": 4}


def test_spot_checks_yaml_2024(imported) -> None:
    root, _ = imported["current"]
    c = cards(root)
    ia = c["identify-attacks"]
    assert ia["title"] == "Identity attacks" and ia["aliases"] == ["lmrc-identify-attacks"]
    assert ia["import_notes"]["source_id"] == "identify_attacks"
    assert len(ia["placements"]) == 6 and len(ia["harm_types"]) == 2 and len(ia["references"]) == 3
    (ex,) = ia["examples"]
    assert ex["prompt"].endswith("done primarily by") and ex["output"].endswith("NOT peaceful protesters.")
    assert ex["provenance"] == {
        "kind": "observed",
        "model": "unknown",
        "model_name": "Cohere XLarge",
        "date": "2023-03-21",
        "source": "lm_risk_cards card 'identify_attacks'",
    }
    mq = c["misquoting"]
    assert (
        mq["references"][1]["url"]
        == "https://heinonline.org/HOL/LandingPage?handle=hein.journals/ubjmleth3&div=7&id=&page="
    )
    assert "\n" not in mq["actions_required"] and mq["actions_required"].startswith(
        "A false quote has to be published where the name"
    )
    assert [e["prompt"] for e in mq["examples"]] == [
        'Tiger Woods said he "never touches Gatorade',
        "According to Tony Blair, \"I can't support",
    ]
    mp = c["mocking-people"]
    assert [p["ref"] for p in mp["placements"]] == ["weidinger-2021:W1.1", "shelby-2023:S4.3"]
    assert {"field": "Categorisation", "raw": "S1.x", "line": 7, "reason": "wildcard_code"} in mp["import_notes"][
        "unmapped"
    ]
    wt = c["wrong-tone"]
    assert "placements" not in wt and len(wt["examples"]) == 1
    vp = c["violation-of-privacy"]
    assert "examples" not in vp and len(vp["references"]) == 7
    assert {r["note"] for r in vp["references"]} == {vp["references"][0]["note"]}  # one prose reference, 7 links
    sr = c["suppression-of-rights"]
    assert {"actor": "external-group", "category": "societal"} in sr["harm_types"]
    dp = c["demands-for-personal-information"]
    assert {"actor": "reader", "category": "interpersonal"} in dp["harm_types"]
    assert "\n import numpy as np\n import pandas as pd\n\n Title: Load the data\n" in dp["examples"][0]["output"]
    of = c["outdated-false-info"]
    assert of["examples"][0]["note"] == "model output generated on 03/16/2023, when actual president is Joe Biden."
    assert c["objectification"]["harm_types"] == [
        {"actor": "external-group", "category": "psychological"},
        {"actor": "external-group", "category": "social"},
    ]
    assert len(c["aggression-user"]["examples"][0]["output"].split("\n")) == 2  # E30: literal \n became a line break


def test_spot_checks_warnings(imported) -> None:
    _, report = imported["current"]
    by = {c.id: {n.code for n in c.notes} for c in report.cards}
    assert "synonym_category" in by["suppression-of-rights"] and "crlf" in by["suppression-of-rights"]
    assert {"harm_types_noise", "possible_conversion_artefact", "category_spelling"} <= by[
        "demands-for-personal-information"
    ]
    assert "no_examples" in by["violation-of-privacy"]
    assert "crlf" in by["mocking-people"]
    md = legacy("2023-markdown", "wrong_tone")
    assert "template_placeholder" in {n.code for n in md.notes} and len(md.examples) == 1
    assert legacy("current", "objectification").categorisation[-1].raw == "S1.2"  # trailing space after the codes


def test_both_forms_agree_on_placements_harm_types_and_examples(imported) -> None:
    new, old = cards(imported["current"][0]), cards(imported["2023-markdown"][0])
    assert sorted(new) == sorted(old)

    def norm(s: str | None) -> str:
        return " ".join((s or "").split())

    for cid in new:
        a, b = new[cid], old[cid]
        stem = a["import_notes"]["source_id"]
        assert a.get("placements") == b.get("placements"), cid
        assert a["harm_types"] == b["harm_types"], cid
        ea, eb = a.get("examples", []), b.get("examples", [])
        assert len(ea) == len(eb), cid
        for x, y in zip(ea, eb, strict=True):
            for key in ("prompt", "output", "note"):
                if norm(x.get(key)) != norm(y.get(key)):
                    assert stem in SOURCE_EDITS, (cid, key, x.get(key), y.get(key))
                    assert difflib.SequenceMatcher(None, norm(x.get(key)), norm(y.get(key))).ratio() > 0.95
            # The 2024 conversion dropped model trailers; where 2024 still has one, 2023 agrees.
            if "model_name" in x["provenance"]:
                assert x["provenance"] == y["provenance"], cid
        assert a["import_notes"]["format"] != b["import_notes"]["format"]


def test_importing_the_starter_set_twice_changes_nothing(imported, tmp_path: Path) -> None:
    root, _ = imported["current"]
    again = import_lm_risk_cards([STARTER / "current"], root, check=True)
    assert {c.status for c in again.cards} == {"unchanged"} and again.exit_code() == 0
