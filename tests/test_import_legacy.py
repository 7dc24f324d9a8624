"""The legacy lm_risk_cards importer on our own fixtures (tests/data/legacy/, written for these tests).

Every edge case E1-E36 of the specification (legacy-starter-set.md section 5) appears in at least one
fixture; ``EDGE_CASES`` names where and asserts it. The produced cards are compared byte for byte with
the golden files in tests/data/legacy/expected/<folder>/ (reviewed by hand when they were made).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import REPO, make_kb
from typer.testing import CliRunner

from riskcards.cli import app
from riskcards.importers import lm_risk_cards as lmrc
from riskcards.importers.run import import_lm_risk_cards
from riskcards.importers.to_card import card_id, dump, first_sentence, to_card_data
from riskcards.validate import validate

DATA = REPO / "tests" / "data" / "legacy"
FOLDERS = ["md-2023", "yaml-2024", "de", "pair-2023", "pair-2024"]


def parse_fixture(rel: str) -> lmrc.LegacyCard:
    path = DATA / rel
    card, _, error = lmrc.parse(path.read_bytes(), stem=path.stem, source=f"{path.parent.name}/{path.name}")
    assert error is None and card is not None
    assert not [n for n in card.notes if n.code == "internal_error"]
    return card


def codes(card: lmrc.LegacyCard, kind: str | None = None) -> list[str]:
    return [n.code for n in card.notes if kind is None or n.kind == kind]


def unmapped(card: lmrc.LegacyCard) -> list[tuple[str, str, str]]:
    return [(u.field, u.raw, u.reason) for u in card.unmapped]


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


# --------------------------------------------------------------------------------------------------
# Golden cards
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS)
def test_fixture_folders_give_exactly_the_golden_cards(tmp_path: Path, folder: str) -> None:
    out = tmp_path / "out"
    report = import_lm_risk_cards([DATA / folder], out, root=REPO)
    assert not report.failed, report.text()
    produced = {p.name: p.read_bytes() for p in (out / "cards").iterdir()}
    expected = {p.name: p.read_bytes() for p in (DATA / "expected" / folder).iterdir()}
    assert sorted(produced) == sorted(expected)
    for name in expected:
        assert produced[name].decode() == expected[name].decode(), name


def test_fixture_cards_pass_riskcards_validate(tmp_path: Path) -> None:
    root = make_kb(tmp_path / "kb", cards=())
    report = import_lm_risk_cards([DATA / f for f in ("md-2023", "yaml-2024", "de", "pair-2024")], root)
    assert not report.failed, report.text()
    result = validate(root)
    assert result.problems == []
    assert len(result.kb.cards) == 15


# --------------------------------------------------------------------------------------------------
# Every edge case, at least once
# --------------------------------------------------------------------------------------------------


def e01(_):
    assert lmrc.detect((DATA / "md-2023/overconfident_trivia.md").read_text()) == lmrc.MD
    assert lmrc.detect((DATA / "yaml-2024/rude_register.md").read_text()) == lmrc.YAML
    assert lmrc.detect((DATA / "md-2023/shuffled_fields.md").read_text()) == lmrc.MD  # no title first, bold labels
    assert lmrc.detect((DATA / "md-2023/README.md").read_text()) is None
    report = import_lm_risk_cards([DATA / "md-2023"], Path("/nonexistent-not-written"), check=True)
    assert ("tests/data/legacy/md-2023/_template.md", "a template ('_' prefix), not a card") in [
        (p.split("tests/data/legacy/", 1)[-1] and "tests/data/legacy/" + p.split("tests/data/legacy/", 1)[-1], r)
        for p, r in report.skipped
    ]


def e02(_):
    card = parse_fixture("md-2023/crlf_bom.md")
    assert {"bom", "crlf", "nfc", "final_newline"} <= set(codes(card, "normalised"))
    assert card.title == "Café menu mix-ups" and card.title.encode() == "Caf\u00e9 menu mix-ups".encode()


def e03(_):
    card = parse_fixture("yaml-2024/tab_context.md")
    assert "document_marker" in codes(card)
    assert [e.prompt for e in card.examples] == ["When does the museum open?", "Is the pool open today?"]
    assert [e.output is None for e in card.examples] == [False, True]  # the second is a probe (E25)


def e04(_):
    flat = parse_fixture("md-2023/flattery_loop.md")  # '**Harm types** :' with a space before the colon
    assert [(h.actor, h.category) for h in flat.harm_types] == [
        ("consumer", "psychological"),
        ("provider", "reputational"),
    ]
    bold = parse_fixture("yaml-2024/bold_lines.md")  # 'Actions required for harm to present :'
    assert bold.actions_required == "A consumer follows the shortcut."
    shuffled = parse_fixture("md-2023/shuffled_fields.md")  # 'Harm Types', unknown 'Severity'
    assert ("Severity", "Severity: medium", "unknown_key") in unmapped(shuffled)
    tab = parse_fixture("yaml-2024/tab_context.md")
    assert ("Author", "Author: someone", "unknown_key") in unmapped(tab)


def e05(_):
    card = parse_fixture("md-2023/shuffled_fields.md")
    assert card.title == "Gendered job descriptions"
    assert [c.code for c in card.categorisation] == ["W1.1", "S1.3"]
    assert len(card.examples) == 1 and card.references[0].url == "https://arxiv.org/abs/1901.09451"


def e06(_):
    md = parse_fixture("md-2023/overconfident_trivia.md")  # ' : Language Model Risk Card   '
    assert md.title == "Overconfident trivia answers"
    yml = parse_fixture("yaml-2024/invented_citations.md")  # suffix inside a yaml-2024 Title
    assert yml.title == "Invented citations"
    assert card_id(md.stem) == "overconfident-trivia"  # id from the stem, never from the title
    assert card_id("inciting_self-harm") == "inciting-self-harm"


def e07(_):
    card = parse_fixture("yaml-2024/rude_register.md")
    assert card.description == (
        "Answering formal requests in a rude or mocking register, which embarrasses the person who forwards the text."
    )
    assert (
        card.actions_required == "The person sends the text on without reading it, or a system posts it automatically."
    )
    listed = parse_fixture("yaml-2024/empty_everything.md")
    assert listed.description == "Repeating a user's private note back to them in a shared channel."


def e08(_):
    card = parse_fixture("yaml-2024/invented_citations.md")  # 'W3.1 S5.1 W3.1 W3.2 ' (repeat, trailing space)
    assert [c.code for c in card.categorisation] == ["W3.1", "S5.1", "W3.2"]
    assert "duplicate_code" in codes(card)
    commas = parse_fixture("md-2023/overconfident_trivia.md")  # 'W3.1, S5.1,W3.2'
    assert [(c.scheme, c.code) for c in commas.categorisation] == [
        ("weidinger-2021", "W3.1"),
        ("shelby-2023", "S5.1"),
        ("weidinger-2021", "W3.2"),
    ]


def e09(_):
    card = parse_fixture("md-2023/template_leftovers.md")
    assert [c.code for c in card.categorisation] == ["W4.4"]  # valid although unused by the starter set
    assert [(r, reason) for f, r, reason in unmapped(card) if f == "Categorisation"] == [
        ("W0.0", "placeholder_code"),
        ("S0.0", "placeholder_code"),
        ("W7.1", "unknown_code"),
        ("S2.3", "unknown_code"),
        ("S1.x", "wildcard_code"),
    ]
    empty = parse_fixture("yaml-2024/empty_everything.md")  # 'Categorisation: null'
    assert empty.categorisation == [] and "empty_categorisation" in codes(empty)


def e10(_):
    card = parse_fixture("md-2023/shuffled_fields.md")  # space-separated, two-word actors
    assert [h.raw for h in card.harm_types] == [
        "Group-Representational",
        "External-Social",
        "Consumers-Legal",
        "External Groups-Societal",
        "Reader-Spiritual",  # an unknown category, kept as written (E13)
    ]
    bold = parse_fixture("yaml-2024/bold_lines.md")  # a category with spaces, no comma between pairs
    assert [(h.actor, h.category, h.raw) for h in bold.harm_types] == [
        ("consumer", "physical", "Consumer-Physical"),
        ("reader", "interpersonal", "Reader-Inter or Intra Personal"),
    ]


def e11(_):
    card = parse_fixture("md-2023/shuffled_fields.md")  # leading 'Visitor-Physical,' and a trailing '.'
    assert ("Harm types", "Visitor-Physical", "unknown_actor") in unmapped(card)
    assert [n.message for n in card.notes if n.code == "harm_types_noise"] == ["dropped stray '.' in Harm types"]
    bold = parse_fixture("yaml-2024/bold_lines.md")  # trailing ','
    assert [n.message for n in bold.notes if n.code == "harm_types_noise"] == ["dropped stray ',' in Harm types"]


def e12(_):
    card = parse_fixture("md-2023/shuffled_fields.md")
    assert [h.actor for h in card.harm_types] == [
        "external-group",
        "external-group",
        "consumer",
        "external-group",
        "reader",
    ]
    assert sum(1 for n in card.notes if n.code == "actor_spelling") == 4
    flat = parse_fixture("md-2023/flattery_loop.md")
    assert [h.actor for h in flat.harm_types] == ["consumer", "provider"]  # Reader and Consumer never merged
    assert [h.actor for h in parse_fixture("yaml-2024/invented_citations.md").harm_types] == ["reader", "publisher"]


def e13(_):
    card = parse_fixture("md-2023/shuffled_fields.md")
    assert ("external-group", "societal") in [(h.actor, h.category) for h in card.harm_types]
    assert "synonym_category" in codes(card, "problem")
    # the vocabulary is open: an unknown category is kept as written (flagged), not dropped
    assert ("reader", None, "Spiritual") in [(h.actor, h.category, h.unresolved) for h in card.harm_types]
    assert "unknown_category" in codes(card, "problem")
    assert not [u for u in card.unmapped if u.reason == "unknown_category" and u.raw == "Reader-Spiritual"]


def e14(_):
    card = parse_fixture("yaml-2024/invented_citations.md")
    assert [(r.title, r.url) for r in card.references[:2]] == [
        ("Hallucination survey", "https://dl.acm.org/doi/abs/10.1145/3571730"),
        ("https://example.org/fake-citations", "https://example.org/fake-citations"),
    ]
    md = parse_fixture("md-2023/overconfident_trivia.md")  # bracketed bare URL
    assert md.references[-1].url == "https://example.org/trivia-errors"


def e15(_):
    md = parse_fixture("md-2023/overconfident_trivia.md")  # link titles with commas: never split on commas
    assert [r.title for r in md.references] == [
        "Truthful answers, measured",
        "Hallucination, a survey, 2023",
        "https://example.org/trivia-errors",
    ]
    assert all(r.note is None for r in md.references)
    prose = parse_fixture("md-2023/flattery_loop.md")
    assert [r.title for r in prose.references] == [
        "Discovering language model behaviors",
        "Towards understanding sycophancy",
    ]
    assert prose.references[0].note.startswith("Sycophancy in assistants is discussed in")


def e16(_):
    card = parse_fixture("yaml-2024/invented_citations.md")
    urls = [r.url for r in card.references]
    assert "https://example.com/overview" in urls  # reversed (text)[url]
    assert "https://example.net/report" in urls  # doubled parentheses
    assert "https://example.com/nested" in urls  # unbalanced nested brackets
    assert "https://example.org/wrapped-link" in urls  # link spanning two lines
    assert "https://en.wikipedia.org/wiki/Mata_v._Avianca,_Inc." in urls
    assert codes(card).count("malformed_link") == 5


def e17(_):
    card = parse_fixture("yaml-2024/rude_register.md")
    assert card.references[0].url == "https://aclanthology.org/P13-1025/"
    assert card.references[1].url == "https://en.wikipedia.org/wiki/Register_(sociolinguistics)"


def e18(_):
    empty = parse_fixture("yaml-2024/empty_everything.md")
    assert empty.references == [] and "no_references" in codes(empty)
    tmpl = parse_fixture("md-2023/template_leftovers.md")
    assert tmpl.references == [] and "placeholder_reference" in codes(tmpl)


def e19(_):
    card = parse_fixture("pair-2024/echo_chamber.md")
    assert [(e.prompt, e.output) for e in card.examples] == [
        (
            "As a cyclist, I think cars should be banned downtown, right?",
            "Absolutely, banning cars is the only sensible choice.",
        ),
        ("As a driver, I think bike lanes waste space, right?", "Yes, bike lanes mostly waste space."),
    ]


def e20(_):
    card = parse_fixture("md-2023/flattery_loop.md")
    assert [(e.prompt, e.output) for e in card.examples] == [
        (
            "My plan is to sell ice to penguins. Thoughts?",
            "What a wonderful plan!\n\nPenguins will love it, and you will be rich.",
        ),
        ("Rate my poem: roses are red, the sky is too", "# A perfect poem\nTen out of ten, no notes."),
        ("Is my essay ready to submit?", "Absolutely, it is flawless and needs no changes"),
    ]
    yml = parse_fixture("yaml-2024/bold_lines.md")
    assert len(yml.examples) == 3 and yml.examples[0].output == "Sure, that works fine in any season."


def e21(_):
    card = parse_fixture("yaml-2024/invented_citations.md")
    assert card.examples[0].prompt == "Give me a source for the claim that cats sleep 20 hours a day:"
    assert card.examples[1].prompt == "Reference format: APA. Topic: bees"
    bold = parse_fixture("yaml-2024/bold_lines.md")
    assert bold.examples[1].prompt == "Quick tip: how do I peel garlic fast?"


def e22(_):
    card = parse_fixture("yaml-2024/rude_register.md")
    assert [e.output for e in card.examples] == [
        (
            "Look, refunds are for quitters. Read the terms like everyone "
            "else.\n\n  Title: Refund policy\n  Step 1: do not ask again\n\nRegards"
        ),
        "thx boss, whatever",
        "sorry not sorry, traffic happens",
        '"No."\n  That is all.',
    ]


def e23(_):
    md = parse_fixture("md-2023/withheld_statement.md")
    assert md.examples == [] and md.examples_status == "withheld"
    assert md.withheld_reason.startswith("Examples are deliberately withheld")
    yml = parse_fixture("yaml-2024/withheld_comment.md")
    assert (
        yml.examples_status == "withheld"
        and yml.withheld_reason == "examples withheld: they would give working instructions"
    )
    assert "no_examples" not in codes(yml)


def e24(_):
    card = parse_fixture("yaml-2024/empty_everything.md")
    assert card.examples == [] and card.examples_status == "none" and "no_examples" in codes(card)


def e25(_):
    md = parse_fixture("md-2023/context_then_examples.md")
    assert (
        md.examples_context
        == "All outputs below were collected from a public demo in spring 2023, without a system prompt."
    )
    # a prompt with no output becomes an example with no output (a probe), with a warning
    assert ("Is the town library open on public holidays?", None) in [(e.prompt, e.output) for e in md.examples]
    assert "example_without_output" in codes(md, "problem")
    assert not [u for u in md.unmapped if u.reason == "example_without_output"]
    yml = parse_fixture("yaml-2024/tab_context.md")
    assert yml.examples_context == "Collected with a public demo, no system prompt."
    assert ("Is the pool open today?", None) in [(e.prompt, e.output) for e in yml.examples]
    assert "example_without_output" in codes(yml, "problem")


def e26(_):
    md = parse_fixture("md-2023/overconfident_trivia.md")
    ex = md.examples[0]
    assert (ex.output, ex.model, ex.date) == ("The Thames flows through Canberra.", "Example Chat 7B", "2023-02-14")
    yml = parse_fixture("yaml-2024/bold_lines.md")
    assert (yml.examples[1].model, yml.examples[1].date) == ("Example Chat 7B", "2023-03-21")


def e27(_):
    card = parse_fixture("md-2023/overconfident_trivia.md")
    assert card.examples[1].note == "generated on 03/01/2023; Mars has two moons."
    assert card.examples[2].output == "It was painted by Claude Monet" and "stray_text" in codes(card)


def e28(_):
    card = parse_fixture("md-2023/overconfident_trivia.md")
    assert (card.examples[3].prompt, card.examples[3].output) == (
        "Complete the sentence: the tallest mountain in Africa is",
        "Mount Kenya, at over nine thousand metres.",
    )
    assert (card.examples[4].prompt, card.examples[4].output) == (
        "The first person to walk on the moon was",
        "buzz Aldrin, in 1968.",
    )


def e29(_):
    card = parse_fixture("yaml-2024/invented_citations.md")
    assert card.examples[3].output == "Driver v. Meter Authority, 512 U.S. 1 (1994)."  # balanced outer pair
    assert card.examples[4].output == "Leaf, T. (2001). The Infinite Cup. Brew Press."  # unmatched '**'
    assert "unbalanced_bold" in codes(card, "problem")
    md = parse_fixture("md-2023/flattery_loop.md")  # bold never closed
    assert "unbalanced_bold" in codes(md, "problem")


def e30(_):
    card = parse_fixture("yaml-2024/invented_citations.md")  # literal backslash-n in plain scalars
    assert card.examples[2].prompt == "Write one line of a reference list\nfor a paper on owls"
    rude = parse_fixture("yaml-2024/rude_register.md")  # \" and \n in a double-quoted scalar
    assert rude.examples[1].prompt == 'Write a formal "thank you" note\nto my manager'
    bold = parse_fixture("yaml-2024/bold_lines.md")  # markdown escapes and LaTeX quotes kept
    assert bold.examples[2].output == "Write \\[Date\\] and ``use soon''."


def e31(_):
    card = parse_fixture("yaml-2024/invented_citations.md")
    assert card.examples[2].output == "Hoot, O. (2018). Nocturnal Wisdom.\n        Owl Review, 7, 22-30."


def e32(_):
    card = parse_fixture("yaml-2024/rude_register.md")
    assert "possible_conversion_artefact" in codes(card, "problem")
    assert "  Title: Refund policy" in card.examples[0].output


def e33(_):
    card = parse_fixture("md-2023/template_leftovers.md")
    assert [(e.prompt, e.output) for e in card.examples] == [
        ("Write a note to my landlord about the broken heater", "yo dude, fix the heater asap lol")
    ]
    assert "template_placeholder" in codes(card)
    assert ("Harm types", "Actor-Category", "template_placeholder") in unmapped(card)
    assert card.description == "xx yy" and card.actions_required == "a b c"  # placeholder words kept verbatim


def e34(_):
    card = parse_fixture("yaml-2024/empty_everything.md")
    assert card.title == "yes" and card.actions_required == "1.0"
    assert ("Actions required for harm to present", "2024-05-01", "duplicate_key") in unmapped(card)


def e35(_):
    card = parse_fixture("md-2023/shuffled_fields.md")
    assert card.actions_required is None and "missing_field:actions_required" in codes(card, "problem")
    data = to_card_data(card)
    assert data["actions_required"] == "The legacy card does not say what is required for harm to present."


def e36(_):
    old, new = parse_fixture("pair-2023/echo_chamber.md"), parse_fixture("pair-2024/echo_chamber.md")
    assert (old.title, new.title) == ("Echo chamber answers", "Echo-chamber answers")
    assert [c.code for c in old.categorisation] == [c.code for c in new.categorisation]
    assert [e.prompt for e in old.examples] == [e.prompt for e in new.examples]
    # The sources differ: 2023 has a model trailer, a stray '.' after the bold and a link-less prose reference.
    assert old.examples[0].model == "Example Chat 7B" and new.examples[0].model is None
    assert (old.examples[1].output, new.examples[1].output) == (
        "Yes, bike lanes mostly waste space",
        "Yes, bike lanes mostly waste space.",
    )
    assert [r.url for r in old.references] == [r.url for r in new.references]


EDGE_CASES = {f"E{n}": globals()[f"e{n:02d}"] for n in range(1, 37)}


@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_edge_case(case: str) -> None:
    EDGE_CASES[case](case)


# --------------------------------------------------------------------------------------------------
# Normalisation, determinism, idempotence, --check
# --------------------------------------------------------------------------------------------------


def _lf_variant(raw: bytes) -> bytes:
    return raw.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n") + b"\n"


@pytest.mark.parametrize("variant", ["lf", "mixed", "cr"])
def test_line_endings_and_bom_give_the_same_card(tmp_path: Path, variant: str) -> None:
    raw = (DATA / "md-2023/crlf_bom.md").read_bytes()
    lf = _lf_variant(raw)
    if variant == "mixed":
        lines = lf.split(b"\n")
        other = b"\n".join(ln + (b"\r" if i % 2 else b"") for i, ln in enumerate(lines))
    elif variant == "cr":
        other = lf.replace(b"\n", b"\r")
    else:
        other = lf
    texts = []
    for name, content in (("a", raw), ("b", other)):
        folder = tmp_path / name / "md-2023"
        folder.mkdir(parents=True)
        (folder / "crlf_bom.md").write_bytes(content)
        import_lm_risk_cards([folder], tmp_path / f"out-{name}")
        texts.append((tmp_path / f"out-{name}" / "cards" / "crlf-bom.yaml").read_bytes())
    assert texts[0] == texts[1]


def test_importing_twice_gives_identical_files_and_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = import_lm_risk_cards([DATA / "md-2023", DATA / "yaml-2024"], out)
    assert {c.status for c in first.cards} == {"written"}
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "cards").iterdir()}
    second = import_lm_risk_cards([DATA / "yaml-2024", DATA / "md-2023"], out)
    assert {c.status for c in second.cards} == {"unchanged"}
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / "cards").iterdir()}
    assert after == before
    assert not [p for p in (out / "cards").iterdir() if p.name.startswith(".")]  # no temp files left


def test_check_reports_without_writing(tmp_path: Path) -> None:
    out = tmp_path / "kb"
    src = str(DATA / "yaml-2024")
    res = run_cli("import", "lm-risk-cards", src, "--out", str(out), "--check")
    assert res.exit_code == 1
    assert "-> cards/rude-register.yaml: would create" in res.output
    assert not (out / "cards").exists()
    assert run_cli("import", "lm-risk-cards", src, "--out", str(out)).exit_code == 0
    res = run_cli("import", "lm-risk-cards", src, "--out", str(out), "--check")
    assert res.exit_code == 0 and "(6 unchanged)" in res.output
    target = out / "cards" / "rude-register.yaml"
    edited = target.read_text().replace("title: Rude register", "title: Rude register (edited)")
    target.write_text(edited)
    res = run_cli("import", "lm-risk-cards", src, "--out", str(out), "--check")
    assert res.exit_code == 1
    assert "-> cards/rude-register.yaml: would change" in res.output
    assert "    -title: Rude register (edited)\n    +title: Rude register\n" in res.output
    assert target.read_text() == edited  # --check never writes


def test_dump_is_stable_and_reads_back() -> None:
    card = parse_fixture("yaml-2024/rude_register.md")
    data = to_card_data(card)
    assert dump(data) == dump(to_card_data(parse_fixture("yaml-2024/rude_register.md")))
    from riskcards.load import parse_yaml

    assert parse_yaml(dump(data)) == data


def test_first_sentence() -> None:
    assert first_sentence("Giving advice, e.g. Doses. Then more.") == "Giving advice, e.g. Doses."
    assert first_sentence("No full stop here") == "No full stop here"
    assert len(first_sentence("word " * 100)) <= 300


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def test_report_text_and_json(tmp_path: Path) -> None:
    out = tmp_path / "kb"
    rep = tmp_path / "report.json"
    res = run_cli("import", "lm-risk-cards", str(DATA / "md-2023"), "--out", str(out), "--report", str(rep))
    assert res.exit_code == 0, res.output
    text = res.output
    assert "md-2023/template_leftovers.md (md-2023) -> cards/template-leftovers.yaml: written" in text
    assert "  1 example, 1 placement, 1 harm type, 0 references, 6 unmapped" in text
    assert (
        "md-2023/template_leftovers.md:5: 'W0.0' is a template "
        "placeholder, not a code; kept as unmapped [placeholder_code]"
    ) in text
    assert "normalised " in text and "skipped " in text
    assert text.rstrip().splitlines()[-1].startswith("imported 7 cards into ")
    data = json.loads(rep.read_text())
    assert data["totals"]["cards"] == 7 and data["totals"]["errors"] == 0
    by_id = {c["id"]: c for c in data["cards"]}
    assert by_id["overconfident-trivia"]["counts"] == {
        "examples": 5,
        "withheld": 0,
        "placements": 3,
        "harm_types": 2,
        "references": 3,
        "unmapped": 0,
    }
    assert by_id["withheld-statement"]["counts"]["withheld"] == 1
    probs = by_id["template-leftovers"]["problems"]
    assert {
        "code": "wildcard_code",
        "line": 5,
        "message": "'S1.x' names no single code (a wildcard for some sub-type of S1); kept as unmapped",
    } in probs
    assert any(n["code"] == "title_suffix" for n in by_id["template-leftovers"]["normalisations"])
    text_report = tmp_path / "report.txt"
    run_cli("import", "lm-risk-cards", str(DATA / "md-2023"), "--out", str(out), "--report", str(text_report), "-q")
    assert text_report.read_text().count("(md-2023) -> cards/") == 7


def test_every_problem_and_unmapped_item_is_in_the_report(tmp_path: Path) -> None:
    report = import_lm_risk_cards([DATA / "md-2023", DATA / "yaml-2024"], tmp_path / "out")
    for res in report.cards:
        written = (tmp_path / "out" / res.out).read_text()
        from riskcards.load import parse_yaml

        data = parse_yaml(written)
        items = data["import_notes"].get("unmapped", [])
        assert res.counts["unmapped"] == len(items)
        problems = [(n.code, n.line) for n in res.notes if n.kind == "problem"]
        for item in items:
            assert (item["reason"], item.get("line")) in problems, (res.id, item)


# --------------------------------------------------------------------------------------------------
# Bad input: clear messages, never a traceback
# --------------------------------------------------------------------------------------------------


def test_bad_files_are_reported_and_the_rest_imported(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DATA / "pair-2024/echo_chamber.md", src / "echo_chamber.md")
    (src / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (src / "empty.md").write_bytes(b"")
    (src / "blank.md").write_bytes(b"  \n\n")
    (src / "latin1.md").write_bytes("# Caf\xe9: Language Model Risk Card\n".encode("latin-1"))
    (src / "utf16.md").write_bytes("---\nTitle: x\n".encode("utf-16"))
    (src / "notes.md").write_text("Just some notes, not a card.\n")
    (src / "empty-dir").mkdir()
    res = run_cli(
        "import",
        "lm-risk-cards",
        str(src),
        str(src / "empty-dir"),
        str(tmp_path / "missing.md"),
        str(src / "notes.md"),
        "--out",
        str(tmp_path / "kb"),
    )
    assert res.exit_code == 1
    out = res.output
    assert "Traceback" not in out
    assert "binary.md: binary file (it contains NUL bytes); legacy cards are UTF-8 text" in out
    assert "empty.md: empty file: no legacy card here" in out
    assert "blank.md: empty file: no legacy card here" in out
    assert "latin1.md: line 1: byte 0xe9 is not UTF-8; save the file as UTF-8" in out
    assert "utf16.md: the file is UTF-16; save it as UTF-8" in out
    assert "empty-dir: no legacy cards here" in out
    assert "missing.md: no such file or folder" in out
    assert "error   " in out and "notes.md: not a legacy lm_risk_cards card" in out  # named explicitly: an error
    assert (tmp_path / "kb" / "cards" / "echo-chamber.yaml").exists()


@pytest.mark.skipif(
    os.name != "posix" or (hasattr(os, "geteuid") and os.geteuid() == 0), reason="needs a non-root POSIX user"
)
def test_unreadable_file(tmp_path: Path) -> None:
    f = tmp_path / "locked.md"
    f.write_text("---\nTitle: x\n")
    f.chmod(0)
    try:
        report = import_lm_risk_cards([f], tmp_path / "kb")
    finally:
        f.chmod(0o644)
    assert report.errors and report.errors[0][1] == "cannot read the file: Permission denied"


def test_folder_without_cards(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "_template.md").write_text("# TITLE: Language Model Risk Card\n")
    (tmp_path / "cards" / "notes.txt").write_text("x")
    res = run_cli("import", "lm-risk-cards", str(tmp_path / "cards"), "--out", str(tmp_path / "kb"))
    assert res.exit_code == 1
    assert "no legacy cards here (no *.md files other than templates)" in res.output


def test_the_same_id_twice_is_an_error_not_an_overwrite(tmp_path: Path) -> None:
    report = import_lm_risk_cards([DATA / "pair-2023", DATA / "pair-2024"], tmp_path / "kb")
    assert [c.status for c in report.cards] == ["written", "not written"]
    assert "already produced from" in report.cards[1].errors[0]
    assert report.exit_code() == 1


def test_hand_written_cards_are_not_replaced_without_force(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    (kb / "cards").mkdir(parents=True)
    mine = kb / "cards" / "echo-chamber.yaml"
    mine.write_text("id: echo-chamber\n")
    report = import_lm_risk_cards([DATA / "pair-2024"], kb)
    assert report.cards[0].status == "not written" and "use --force" in report.cards[0].errors[0]
    assert mine.read_text() == "id: echo-chamber\n"
    report = import_lm_risk_cards([DATA / "pair-2024"], kb, force=True)
    assert report.cards[0].status == "written" and mine.read_text().startswith("# yaml-language-server")


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert (
        run_cli("import", "lm-risk-cards", str(DATA / "de"), "--out", str(tmp_path), "--created", "yesterday").exit_code
        == 2
    )
    assert (
        run_cli("import", "lm-risk-cards", str(DATA / "de"), "--out", str(tmp_path), "--lang", "English").exit_code == 2
    )
    (tmp_path / "f").write_text("x")
    assert run_cli("import", "lm-risk-cards", str(DATA / "de"), "--out", str(tmp_path / "f")).exit_code == 2


def test_language_from_folder_or_option(tmp_path: Path) -> None:
    import_lm_risk_cards([DATA / "de"], tmp_path / "a")
    assert "    language: de\n" in (tmp_path / "a/cards/wrong-umlaut-names.yaml").read_text()
    import_lm_risk_cards([DATA / "de"], tmp_path / "b", lang="de-AT")
    assert "    language: de-AT\n" in (tmp_path / "b/cards/wrong-umlaut-names.yaml").read_text()
    import_lm_risk_cards([DATA / "pair-2024"], tmp_path / "c")
    assert "    language: en\n" in (tmp_path / "c/cards/echo-chamber.yaml").read_text()


def test_model_record_is_used_when_one_fits(tmp_path: Path) -> None:
    root = make_kb(tmp_path / "kb", cards=())
    src = tmp_path / "src"
    src.mkdir()
    text = (DATA / "pair-2023/echo_chamber.md").read_text().replace("Example Chat 7B", "Llama-3.1-8B-Instruct")
    (src / "echo_chamber.md").write_text(text)
    import_lm_risk_cards([src], root)
    card = (root / "cards" / "echo-chamber.yaml").read_text()
    assert '      model: llama-3.1-8b-instruct\n      date: "2023-03-21"\n' in card and "model_name" not in card
    assert validate(root).problems == []


@pytest.mark.parametrize("rel", sorted(str(p.relative_to(DATA)) for p in DATA.glob("*/*.md")))
def test_parser_never_raises_on_truncated_or_damaged_input(rel: str) -> None:
    raw = (DATA / rel).read_bytes()
    lines = raw.split(b"\n")
    variants = [b"\n".join(lines[:k]) for k in range(len(lines) + 1)]
    variants += [
        raw.replace(b"**", b"*"),
        raw.replace(b"- ", b""),
        raw.replace(b":", b""),
        raw[::-1],
        raw.replace(b"\n", b"\n\t"),
    ]
    for v in variants:
        card, _, error = lmrc.parse(v, stem="x", source="x/x.md")
        assert (card is None) == (error is not None)
        if card is not None:
            assert "internal_error" not in codes(card)
            dump(to_card_data(card))


def test_broken_symbolic_link_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    link = tmp_path / "gone.md"
    link.symlink_to(tmp_path / "nowhere.md")
    report = import_lm_risk_cards([link], tmp_path / "kb")
    assert report.errors == [(report.errors[0][0], "cannot read the file: No such file or directory")]
    assert report.exit_code() == 1


TRICKY = [
    "yes",
    "No",
    "on",
    "null",
    "~",
    "1:20",
    "0o14",
    "1e3",
    "2024-05-01",
    ".inf",
    "a: b",
    "x #y",
    "- item",
    "* star",
    "[x]",
    "{x}",
    "'q'",
    '"q"',
    "ends:",
    "trailing ",
    " leading",
    "tab\there",
    "line\u2028sep",
    "nel\x85",
    "emoji 🦜",
    "two\nlines",
    "first\n  indented\n\nafter blank",
    " lead\nx",
    "trail \nx",
    "end\n",
    "back\\slash",
    "=",
    "<<",
    "@at",
    "`tick`",
    "%pct",
    "!bang",
    "&amp",
    "|pipe",
    ">gt",
    "?q",
    "\U0001f600",
    "\x7f",
    "ok plain text, with commas (and parens)",
]


@pytest.mark.parametrize("value", TRICKY)
def test_dump_keeps_every_string_exactly(value: str) -> None:
    from riskcards.load import parse_yaml

    data = {"id": "x", "title": value, "examples": [{"id": "e", "prompt": value, "output": [value]}]}
    text = dump(data)
    assert parse_yaml(text) == data
    import yaml

    assert yaml.safe_load(text) == data  # YAML 1.1 readers (PyYAML) agree


def test_harm_pairs_joined_with_and() -> None:
    card, _, _ = lmrc.parse(
        b"---\nTitle: t\nHarm Types:\n - Reader-Psychological and Publisher-Legal & Provider-Legal\n",
        stem="t",
        source="x/t.md",
    )
    assert [(h.actor, h.category) for h in card.harm_types] == [
        ("reader", "psychological"),
        ("publisher", "legal"),
        ("provider", "legal"),
    ]
    assert not card.unmapped and "harm_types_noise" not in codes(card)


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    big.write_bytes(b"---\nTitle: big\nDescription: " + b"x" * 1_200_000 + b"\n")
    report = import_lm_risk_cards([big], tmp_path / "kb")
    assert report.errors[0][1].startswith("file is 1.2 MB; a legacy card is a few KB")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"---\nTitle: t\nPrompts and output:\n- A long prompt that\n  wraps on\n  - output one\n    continues\n",
            [("A long prompt that wraps on", "output one continues")],
        ),
        (
            b"---\nTitle: t\nPrompts and output: |\n  Why? **Because.**\n  How? **Like this.**\n",
            [("Why?", "Because."), ("How?", "Like this.")],
        ),
        (
            b"# T: Language Model Risk Card\n**Prompts and output**:\n1. First **one**\n2. Second **two**\n",
            [("First", "one"), ("Second", "two")],
        ),
    ],
)
def test_other_combinations_of_the_same_defects(raw: bytes, expected: list) -> None:
    card, _, _ = lmrc.parse(raw, stem="t", source="x/t.md")
    assert [(e.prompt, e.output) for e in card.examples] == expected


def test_check_jsonschema_accepts_the_imported_cards(tmp_path: Path) -> None:
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "check-jsonschema"
    if not exe.exists():
        pytest.skip("check-jsonschema is not installed")
    import_lm_risk_cards([DATA / "md-2023", DATA / "yaml-2024"], tmp_path)
    files = sorted(str(p) for p in (tmp_path / "cards").glob("*.yaml"))
    res = subprocess.run(
        [str(exe), "--schemafile", str(REPO / "schema" / "card.schema.json"), *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
