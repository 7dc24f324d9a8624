"""Issue 15 on the site: a page per incident, the incidents timeline, "Seen in deployment" and "Related cards"
on card pages, sourced facts on model pages. One real build (`riskcards build`, MkDocs) of repo cards, every
repo incident, and a card and an incident full of hostile markup; expectations are computed from the records."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest
from markupsafe import escape
from sitekit import (
    HOSTILE_ID,
    HOSTILE_INCIDENT_ID,
    make_site_kb,
    markup_problems,
    riskcards_build,
)

from riskcards import query
from riskcards.site import pages
from riskcards.validate import load_kb

DOSAGE = "confident-wrong-dosage-advice"
GENERAL = "confabulated-facts-presented-as-knowledge"
SPECIAL = "fabricated-citations-and-references"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = make_site_kb(tmp_path_factory.mktemp("evsite") / "kb", cards=(DOSAGE, GENERAL, SPECIAL))
    proc = riskcards_build(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture(scope="module")
def kb(built):
    return load_kb(built).kb


def page(root: Path, url: str) -> str:
    return (root / "public" / url / "index.html").read_text(encoding="utf-8")


def article(html: str) -> str:
    start = html.index('<article class="md-content__inner')
    return html[start : html.index("</article>", start)]


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    end = html.find("<h2 ", start)
    return html[start : end if end > 0 else len(html)]


def esc(text: str) -> str:
    """Text as Jinja's autoescape writes it."""
    return str(escape(text))


def resolves(root: Path, page_url: str, href: str) -> bool:
    target = href.split("#", 1)[0]
    if not target:
        return True
    path = (root / "public" / page_url / target).resolve()
    return path.is_file() or (path / "index.html").is_file()


def linked_cards(kb, incident_id: str) -> dict[str, str]:
    return {c.id: link.note for c in kb.cards.values() for link in c.incidents if link.incident == incident_id}


# --------------------------------------------------------------------------------------------------
# Incident pages and the timeline
# --------------------------------------------------------------------------------------------------


def test_a_page_per_incident_with_every_fact(built, kb):
    assert len(kb.incidents) > 40
    for inc in kb.incidents.values():
        url = f"incidents/{inc.id}"
        body = article(page(built, url))
        assert f'<h1 id="incident">{esc(inc.title)}</h1>' in body, inc.id
        facts = body[: body.index('id="what-happened"')]
        assert f"<tr><th>Date</th><td>{inc.date}</td></tr>" in facts
        for system in inc.systems:
            assert esc(system) in facts, (inc.id, system)
        assert esc(inc.deployer) in facts if inc.deployer else "no single deployer" in facts
        for kind in inc.harm_kinds:
            assert f"<code>{kind}</code>" in facts
        if inc.aiid:
            assert f'href="https://incidentdatabase.ai/cite/{inc.aiid}/"' in facts and f"incident {inc.aiid}" in facts
        else:
            assert "no number confirmed" in facts
        assert f"<td>{inc.confidence} (" in facts
        sources = section(body, "sources")
        for src in inc.sources:
            assert f'href="{esc(src.url)}"' in sources and esc(src.title) in sources and esc(src.publisher) in sources
        cards = section(body, "cards")
        expected = linked_cards(kb, inc.id)
        assert sorted(re.findall(r'href="\.\./\.\./cards/([^/"]+)/"', cards)) == sorted(expected), inc.id
        for href in re.findall(r'href="([^"]*)"', body):
            if not href.startswith(("http:", "https:", "mailto:")):
                assert resolves(built, url, href), (url, href)


def test_timeline_lists_every_incident_by_date_grouped_by_year(built, kb):
    body = article(page(built, "incidents"))
    years = [int(y) for y in re.findall(r'<h2 id="year-(\d{4})"', body)]
    assert years == sorted({int(i.date[:4]) for i in kb.incidents.values()})
    ids = re.findall(r'<li class="rc-incident" id="incident-([^"]+)">', body)
    assert sorted(ids) == sorted(kb.incidents)
    dates = re.findall(r'<time datetime="([^"]+)">', body)
    assert dates == [kb.incidents[i].date for i in ids] and dates == sorted(dates)
    for year in years:  # each entry sits under its own year
        block = section(body, f"year-{year}")
        assert all(d.startswith(str(year)) for d in re.findall(r'<time datetime="([^"]+)">', block))
    n_linked = len({c.id for c in kb.cards.values() if c.incidents})
    assert f"{len(kb.incidents)} incidents, linked from {n_linked}" in " ".join(body.split())


def test_incidents_are_in_the_navigation_and_counted_on_the_home_page(built, kb):
    home = page(built, "")
    assert 'href="incidents/" class="md-tabs__link"' in home
    n_linked = len({c.id for c in kb.cards.values() if c.incidents})
    assert f"<b>{len(kb.incidents)}</b>incidents, seen on {n_linked} card" in article(home)


# --------------------------------------------------------------------------------------------------
# Card pages and model pages
# --------------------------------------------------------------------------------------------------


def test_card_page_shows_incidents_with_dates_linking_to_incident_pages(built, kb):
    for card in (kb.cards[GENERAL], kb.cards[SPECIAL], kb.cards[HOSTILE_ID]):
        url = f"cards/{card.id}"
        seen = section(article(page(built, url)), "seen-in-deployment")
        rows = re.findall(r'<tr><td><time datetime="([^"]+)">[^<]*</time></td><td><a href="([^"]+)">', seen)
        assert len(rows) == len(card.incidents) > 0
        want = sorted(
            (kb.incidents[link.incident].date, f"../../incidents/{link.incident}/") for link in card.incidents
        )
        assert sorted(rows) == want and [d for d, _ in rows] == sorted(d for d, _ in rows)
        assert all(resolves(built, url, href) for _d, href in rows)
    none = section(article(page(built, f"cards/{DOSAGE}")), "seen-in-deployment")
    assert ("No incident linked yet." in none) == (not kb.cards[DOSAGE].incidents)


def test_card_page_shows_related_cards_with_relation_and_boundary(built, kb):
    special = section(article(page(built, f"cards/{SPECIAL}")), "related-cards")
    stated = [r for r in kb.cards[SPECIAL].related]
    assert stated
    for r in stated:
        row = re.search(rf'<tr><td>{r.relation}</td><td><a href="\.\./{r.card}/">.*?</tr>', special, re.S)
        assert row, r.card
        assert r.boundary[:40] in htmllib.unescape(row.group(0))
    # the dosage card states nothing; the hostile card's 'contrasts' shows there, marked as stated on that card
    dosage = section(article(page(built, f"cards/{DOSAGE}")), "related-cards")
    assert f'href="../{HOSTILE_ID}/"' in dosage and "(stated on that card)" in dosage and "<td>contrasts</td>" in dosage


def test_model_pages_show_facts_with_their_sources(built, kb):
    with_facts = [m for m in kb.models.values() if m.facts]
    assert with_facts
    for m in with_facts:
        body = article(page(built, f"models/{m.id}"))
        facts = section(body, "facts")
        for name, label in (("released", "Released"), ("publisher", "Publisher"), ("license", "Licence")):
            f = getattr(m.facts, name)
            assert (f"<th>{label}</th>" in facts) == (f is not None), (m.id, name)
            if f is not None:
                value = f.date if name == "released" else f.value
                assert f"<th>{label}</th><td>{esc(value)}</td>" in facts
                assert f'href="{esc(f.source.url)}"' in facts and esc(f.source.title) in facts
    plain = next((m for m in kb.models.values() if not m.facts), None)
    if plain is not None:
        assert 'id="facts"' not in article(page(built, f"models/{plain.id}"))


# --------------------------------------------------------------------------------------------------
# Markup in incident data stays text
# --------------------------------------------------------------------------------------------------


def test_hostile_incident_is_shown_as_text_everywhere(built):
    for url in (f"incidents/{HOSTILE_INCIDENT_ID}", "incidents", f"cards/{HOSTILE_ID}", f"cards/{DOSAGE}"):
        full = page(built, url)
        assert not markup_problems(full), (url, markup_problems(full))
        assert "<script>" not in article(full)
    inc = page(built, f"incidents/{HOSTILE_INCIDENT_ID}")
    assert "<title>&lt;script&gt;window.__pwned=&#x27;incident-title&#x27;" in inc
    body = article(inc)
    assert "&lt;script&gt;window.__pwned=&#39;incident-title&#39;" in body
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;" in body  # the deployer
    assert "&lt;svg onload=" in body and "&lt;img src=x onerror=alert(&#39;publisher&#39;)&gt;" in body
    assert "javascript:" not in re.sub(r">[^<]*<", "><", body)  # only in text, never in an attribute
    assert 'href="https://example.org/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"' in body
    card = article(page(built, f"cards/{HOSTILE_ID}"))
    seen = section(card, "seen-in-deployment")
    assert f'href="../../incidents/{HOSTILE_INCIDENT_ID}/"' in seen and "&lt;script&gt;window.__pwned" in seen
    related = section(card, "related-cards")
    assert "&lt;img src=x onerror=" in related and "<img" not in related


# --------------------------------------------------------------------------------------------------
# Incremental page generation knows what incident and related-card pages show
# --------------------------------------------------------------------------------------------------


def test_incremental_generation_follows_incident_links_and_related_cards(built, tmp_path):
    import shutil

    from riskcards.index import build

    root = tmp_path / "kb"
    shutil.copytree(built, root, ignore=shutil.ignore_patterns("public", "build"))
    build(root, root / "a.db")
    options = pages.Options(edit_base="https://e/", site_url="https://s/")
    first = pages.build_site(query.connect(root / "a.db"), options)
    card = root / "cards" / f"{SPECIAL}.yaml"
    text = card.read_text(encoding="utf-8")
    new = re.sub(r"(?m)^title: .*$", "title: Invented sources", text, count=1)
    new = new.replace(
        "  - incident: mata-v-avianca-fabricated-citations\n    note: ",
        "  - incident: mata-v-avianca-fabricated-citations\n    note: Edited note. ",
        1,
    )
    assert new.count("Edited note.") == 1
    card.write_text(new, encoding="utf-8")
    build(root, root / "b.db")
    again = pages.build_site(query.connect(root / "b.db"), options, first)
    full = pages.build_site(query.connect(root / "b.db"), options)
    assert again.reused > 0
    assert {p: g.html for p, g in again.pages.items()} == {p: g.html for p, g in full.pages.items()}
    assert "Edited note." in full.pages["incidents/mata-v-avianca-fabricated-citations.md"].html
    assert "Invented sources" in full.pages[f"cards/{GENERAL}.md"].html  # the related card shows the new title
    assert "Invented sources" in full.pages["incidents/index.md"].html
