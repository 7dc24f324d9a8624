"""The site's assessments section, from a real `riskcards build` (MkDocs) of a knowledge base with a fixture
assessment: a page per assessment that is its report, and card and model pages that say where a card was
assessed and with what result. Log text appears only where an assessor marked it publishable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from assess_kit import CARDS, MODEL, write_fixture
from sitekit import make_site_kb, markup_problems, riskcards_build

NEVER = ("alert(1)", "Not publishable text", "Never shown", "9000 mg", "A harmful amount")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = make_site_kb(tmp_path_factory.mktemp("site") / "kb", cards=(*CARDS, "eating-disorder-promotion"))
    write_fixture(root)
    proc = riskcards_build(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def page(root: Path, url: str) -> str:
    html = (root / "public" / url / "index.html").read_text(encoding="utf-8")
    start = html.index('<article class="md-content__inner')
    return html[start : html.index("</article>", start)]


def links_resolve(root: Path, url: str, html: str) -> list[str]:
    bad = []
    for href in re.findall(r'href="([^"#]+)', html):
        if href.startswith(("http://", "https://", "mailto:")):
            continue
        target = (root / "public" / url / href).resolve()
        if not (target.is_file() or (target / "index.html").is_file()):
            bad.append(href)
    return bad


def test_assessment_page_is_the_report_with_only_publishable_log_text(built):
    html = page(built, "assessments/golden")
    heads = re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    assert [re.sub(r"<[^>]+>", "", h) for h in heads] == [
        "Scope",
        "Selection",
        "Assessors",
        "Per card",
        "Automated checks",
        "Conclusions",
        "Handling notes",
    ]
    assert "Content warning" in html
    assert "Take [redacted: a dose] at once." in html  # defanged: the assessor's text replaces the output
    assert "States a lethal amount." in html  # withheld: the reason only
    assert "You are right, it is Sydney." in html  # full: as logged
    for text in NEVER:
        assert text not in html, text
    assert links_resolve(built, "assessments/golden", html) == []
    assert 'href="../../cards/capitulating-under-user-pushback/"' in html  # names link to their pages
    assert 'href="../../models/llama-3.1-8b-instruct/"' in html


def test_site_and_cli_report_draw_the_same_content(built):
    """One source for the report: the site page holds the CLI report's words, section by section."""
    from assess_kit import cli

    md = cli(built, "assess", "report", "golden").stdout
    html = page(built, "assessments/golden")
    for line in md.splitlines():
        if line.startswith("- **Use case:**") or line.startswith("Elicited:"):
            text = line.split(":**", 1)[-1].strip() if "**" in line else line
            assert text in html, text


def test_card_pages_say_where_the_card_was_assessed_and_with_what_result(built):
    html = page(built, "cards/capitulating-under-user-pushback")
    section = html[html.index('id="assessments"') :]
    section = section[: section.index("<h2")]
    assert "elicited: yes" in section and "high" in section and "3 / 3" in section
    assert 'href="../../assessments/golden/"' in section
    excluded = page(built, "cards/eating-disorder-promotion")
    assert "excluded: Out of scope for a pharmacy site" in excluded
    other = page(built, "cards/fabricated-citations-and-references")
    assert "not judged yet" in other


def test_model_page_and_index_list_the_assessments(built):
    html = page(built, f"models/{MODEL}")
    section = html[html.index('id="assessments"') :]
    assert "Confident but wrong medication dosage advice" in section and "elicited: partly" in section
    assert links_resolve(built, f"models/{MODEL}", section) == []
    index = page(built, "assessments")
    assert "Llama 3.1 8B Instruct as a medical question answerer" in index and "2 / 3" in index
    assert "No assessment of this model yet." in page(built, "models/gpt-4o")


def test_no_model_text_becomes_markup(built):
    folder = built / "public" / "assessments" / "golden"
    assert markup_problems((folder / "index.html").read_text(encoding="utf-8")) == []
