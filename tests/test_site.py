"""The static site: real builds (`riskcards build`, plain `mkdocs build`) of a knowledge base in a temporary
folder, checked page by page; the safe renderer, URLs, feed and link checker on their own."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from markupsafe import escape
from sitekit import (
    CARDS,
    HOSTILE_ID,
    REPO,
    SEARCH_WORD,
    add_verdict,
    make_site_kb,
    markup_problems,
    riskcards_build,
    run,
)

from riskcards import query
from riskcards.site import pages, safe
from riskcards.site.feed import FeedEntry, atom

DOSAGE = "confident-wrong-dosage-advice"
SELF_HARM = "encouraging-suicide-or-self-harm"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = make_site_kb(tmp_path_factory.mktemp("site") / "kb")
    add_verdict(root, DOSAGE, "doubled-dose", "llama-guard-3-8b", "unsafe", ["S6"])
    add_verdict(root, DOSAGE, "doubled-dose", "omni-moderation-latest", "safe")
    add_verdict(root, DOSAGE, "child-dose-de", "llama-guard-3-8b", "error")
    # the responses above are redacted (never sent: 'not runnable' in coverage); the prompts are runnable
    add_verdict(root, DOSAGE, "doubled-dose", "llama-guard-3-8b", "unsafe", ["S6"], target="prompt")
    add_verdict(root, DOSAGE, "child-dose-de", "llama-guard-3-8b", "safe", target="prompt")
    add_verdict(root, DOSAGE, "doubled-dose", "omni-moderation-latest", "safe", target="prompt")
    proc = riskcards_build(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def page(root: Path, url: str) -> str:
    return (root / "public" / url / "index.html").read_text(encoding="utf-8")


def article(html: str) -> str:
    """The page's own content, without the theme's header, navigation and footer."""
    start = html.index('<article class="md-content__inner')
    return html[start : html.index("</article>", start)]


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def resolves(root: Path, page_url: str, href: str) -> bool:
    """Whether a relative link from the page at ``page_url`` points at a file of the built site."""
    target = href.split("#", 1)[0]
    if not target:
        return True
    path = (root / "public" / page_url / target).resolve()
    return path.is_file() or (path / "index.html").is_file()


# --------------------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------------------


def test_build_reports_its_steps_and_publishes_every_card(built):
    for card in (*CARDS, HOSTILE_ID):
        assert (built / "public" / "cards" / card / "index.html").is_file()
    assert not (built / "site" / "docs" / "cards").exists(), "generated pages must not be written into site/"
    home = page(built, "")
    body = article(home)
    chrome = home.replace(body, "")  # header, tabs, sidebars, footer
    assert "cards/confident-wrong-dosage-advice" not in chrome, "card pages stay out of the navigation"
    assert 'href="cards/"' in chrome and 'href="taxonomies/"' in chrome and 'href="coverage/"' in chrome


def test_card_page_shows_every_field(built):
    html = article(page(built, f"cards/{DOSAGE}"))
    card = query.card(query.connect(built / "build" / "riskcards.db"), DOSAGE)
    warning = html.index("Content warning")
    assert warning < html.index('id="description"') < html.index('id="examples"')
    for text in (
        "Harm types",
        "Consumer",
        "Physical",
        "Taxonomy placements",
        "Scenarios and severity",
        "References",
        "Lifecycle",
        card["version"],
        card["created"],
        "Large language models encode clinical knowledge",
    ):
        assert text in html, text
    for s in card["scenarios"]:
        assert f"rc-sev-{s['severity']}" in html
    # placements link to the category pages, and every link on the page resolves
    assert 'href="../../taxonomies/llama-guard-3/S6/"' in html
    for href in hrefs(html):
        if not href.startswith(("http:", "https:", "mailto:")):
            assert resolves(built, f"cards/{DOSAGE}", href), href
    assert f'href="https://github.com/riskcards/riskcards/edit/main/cards/{DOSAGE}.yaml"' in html
    # examples are collapsed, marked by sensitivity, with prompts in code blocks (copy button)
    details = re.findall(r"<details[^>]*>", html)
    assert len(details) == len(card["examples"]) and not any(" open" in d for d in details)
    assert "rc-sens-defanged" in html
    assert '<pre class="rc-text rc-prompt"><code>My headache is really bad.' in html
    # expected and observed guard outcomes, each counted as its coverage cell counts it: the verdicts the
    # fixture records on redacted responses never count (not runnable), on the card page as in the matrix
    assert "rc-out-flagged" in html and "rc-out-missed" in html and "rc-out-not-runnable" in html
    conn = query.connect(built / "build" / "riskcards.db")
    units = [u for (cid, _), us in query.guard_outcomes(conn, [DOSAGE]).items() for u in us if cid == DOSAGE]
    shown = Counter(re.findall(r'class="rc-badge rc-out-([a-z-]+)"', html))
    from riskcards.site.pages import STATE_LABELS

    assert shown == Counter(STATE_LABELS[u["state"]].replace(" ", "-") for u in units)
    cells = {c["guard"]: c for c in query.guard_coverage(conn, cards=[DOSAGE])["cells"]}
    for u in units:
        assert cells[u["guard"]][u["state"]] >= 1
    assert sum(u["state"] == "errored" for u in units) == sum(c["errored"] for c in cells.values())
    # the theme's edit button points at the card's YAML file too
    full = page(built, f"cards/{DOSAGE}")
    assert f'href="https://github.com/riskcards/riskcards/edit/main/cards/{DOSAGE}.yaml" title="Edit this page"' in full


def test_withheld_example_shows_the_reason_and_no_text(built):
    conn = query.connect(built / "build" / "riskcards.db")
    card = query.card(conn, SELF_HARM)
    withheld = [e for e in card["examples"] if e["sensitivity"] == "withheld"]
    assert withheld, "the test needs a card with a withheld example"
    html = article(page(built, f"cards/{SELF_HARM}"))
    for ex in withheld:
        block = html[html.index(f'id="example-{ex["id"]}"') :]
        block = block[: block.index("</details>")]
        assert "withheld" in block and ex["withheld_reason"].split()[0] in block
        assert "rc-prompt" not in block and "rc-output" not in block and "rc-turn" not in block


def test_taxonomy_page_counts_cards_and_marks_gaps(built):
    html = article(page(built, "taxonomies/llama-guard-3"))
    s6 = re.search(r'<li id="cat-s6"[^>]*>(.*?)</li>', html, re.S).group(1)
    assert 'href="S6/"' in s6 and 'class="rc-count"' in s6
    # A guard-policy category with no card, reached by a crosswalk, is covered via crosswalks, not a gap.
    s1 = re.search(r'<li id="cat-s1"[^>]*>(.*?)</li>', html, re.S)
    assert 'data-coverage="crosswalk"' in s1.group(0) and "via crosswalks" in s1.group(1)


def test_gap_view_shows_the_coverage_the_query_layer_computes(built):
    """Every category row on every taxonomy page carries the state query.coverage gives it; gaps are
    marked, out-of-scope categories show their reason."""
    conn = query.connect(built / "build" / "riskcards.db")
    seen = set()
    for t in query.taxonomies(conn):
        html = article(page(built, f"taxonomies/{t['id']}"))
        rows = dict(re.findall(r'<li id="(cat-[^"]+)"[^>]*data-coverage="([^"]+)"', html))
        tree = query.taxonomy_tree(conn, t["id"])
        slugs = pages.category_slugs([c["code"] for c in tree["categories"]])
        for cat in tree["categories"]:
            anchor = pages._anchor(slugs[cat["code"]])
            assert rows[anchor] == cat["coverage"], (t["id"], cat["code"])
            seen.add(cat["coverage"])
            if cat["coverage"] == "out-of-scope":
                li = re.search(rf'<li id="{anchor}".*?</li>', html, re.S).group(0)
                assert "out of scope" in li and str(escape(cat["out_of_scope"]))[:30] in li
            if cat["coverage"] == "gap":
                assert re.search(rf'<li id="{anchor}"[^>]*class="[^"]*rc-gap', html)
        summary = re.search(r'id="coverage-summary">(.*?)</td>', html, re.S).group(1)
        assert f"{tree['coverage']['gap']} gap" in summary
    assert seen == set(query.COVERAGE_STATES), f"the site kb should show every state, saw {sorted(seen)}"
    index = article(page(built, "taxonomies"))
    assert "Out of scope" in index and "Via crosswalks only" in index


def test_taxonomy_page_says_which_levels_of_an_incomplete_taxonomy_are_missing(built):
    html = article(page(built, "taxonomies/s-eval-2024"))
    box = html[html.index('id="missing-levels"') :]
    box = box[: box.index("</div>")]
    assert "Level 3" in box and "56 categories published" in box and "none listed here" in box
    assert "Level 4" in box and "52 categories published" in box
    assert not re.search(r'<li id="cat-[^"]*"[^>]*style="margin-left: 2.4em"', html), "no level-3 entry is invented"
    t2i = article(page(built, "taxonomies/t2isafety-2025"))
    assert "44 categories published, 12 listed here" in t2i
    assert 'id="missing-levels"' not in article(page(built, "taxonomies/llama-guard-3"))


def test_category_pages_list_direct_and_crosswalk_cards(built):
    conn = query.connect(built / "build" / "riskcards.db")
    html = article(page(built, "taxonomies/llama-guard-3/S6"))
    direct = html[html.index('id="placed-here"') : html.index('id="placed-below"')]
    assert f"cards/{DOSAGE}/" in direct
    inferred = None  # a category reached only through a crosswalk
    for t in query.taxonomies(conn):
        for cat in query.taxonomy_tree(conn, t["id"])["categories"]:
            for c in query.find_cards(conn, query.Query(category=cat["ref"], via_crosswalk=True)):
                if c["inferred"]:
                    inferred = (t["id"], cat["code"], c["id"])
                    break
            if inferred:
                break
        if inferred:
            break
    assert inferred, "the repo's crosswalks should relate at least one category to a placed card"
    tid, code, cid = inferred
    html = article(page(built, f"taxonomies/{tid}/{code}"))
    via = html[html.index('id="via-crosswalks"') :]
    assert f"cards/{cid}/" in via and "via crosswalk" in via


def test_scenario_page_lists_cards_by_severity(built):
    html = article(page(built, "scenarios/customer-support-bot"))
    order = [m for m in re.findall(r'<h2 id="(critical|high|medium|low)"', html)]
    assert order == sorted(order, key=["critical", "high", "medium", "low"].index) and order
    assert f"cards/{HOSTILE_ID}/" in html and f"cards/{DOSAGE}/" in html


def test_model_pages_show_examples_and_verdicts(built):
    guard = article(page(built, "models/llama-guard-3-8b"))
    assert f"cards/{DOSAGE}/" in guard and "rc-out-flagged" in guard and "S6" in guard
    lm = article(page(built, "models/llama-3.1-8b-instruct"))
    assert f"cards/{HOSTILE_ID}/#example-observed-example" in lm


def _badges(cell_html: str) -> dict[str, int]:
    return {
        label: int(n)
        for n, label in re.findall(r'class="rc-badge rc-out-[a-z-]+"[^>]*>(\d+) ([a-z ]+)</span>', cell_html)
    }


def test_coverage_page_and_cli_read_the_same_cells(built):
    """Issue 12: one computation. The page's badges and `riskcards coverage -f json` give the same counts,
    both from the index's guard_coverage table; guards with verdicts are the columns, most first."""
    html = article(page(built, "coverage"))
    cov = query.guard_coverage(query.connect(built / "build" / "riskcards.db"))
    proc = run(["-m", "riskcards", "coverage", "--root", str(built), "-f", "json"], cwd=built)
    assert proc.returncode == 0, proc.stderr
    cli = json.loads(proc.stdout)
    assert cli["cells"] == cov["cells"] and cli["totals"] == cov["totals"]
    shown = [g["id"] for g in cov["guards"] if g["results"]]
    assert shown == ["llama-guard-3-8b-test", "omni-moderation-latest-test"]  # 2 verdicts, then 1
    heads = re.findall(r'<th title="([^"]+)">', html[html.index('class="rc-matrix"') :])
    assert heads == shown
    states = {label: key for key, label, _ in pages.CELL_STATES}
    cells = {(c["card"], c["guard"]): c for c in cli["cells"]}
    rows = re.findall(r'<tr><td><a href="../cards/([^/]+)/">.*?</td>(.*?)</tr>', html, re.S)
    assert len(rows) == len(CARDS) + 1
    for card_id, tds in rows:
        for guard, td in zip(shown, re.findall(r"<td>(.*?)</td>", tds, re.S), strict=True):
            want = {
                label: cells[(card_id, guard)][key] for label, key in states.items() if cells[(card_id, guard)][key]
            }
            assert _badges(td) == want, (card_id, guard)
    dosage = dict(zip(shown, re.findall(r"<td>(.*?)</td>", dict(rows)[DOSAGE], re.S), strict=True))
    lg3, omni = (cells[(DOSAGE, g)] for g in shown)
    assert _badges(dosage[shown[0]])["flagged"] == 1 and _badges(dosage[shown[0]])["not runnable"] == 2
    assert lg3["missed" if lg3["in_policy"] else "outside"] == 1  # the safe prompt verdict
    assert _badges(dosage[shown[1]]) == {("missed" if omni["in_policy"] else "outside policy"): 1, "not runnable": 2}
    # the rest: collapsed, listed once, no column of 'not run'
    details = re.search(r'<details class="rc-no-verdicts" id="guards-without-verdicts">\n<summary>(\d+) guards', html)
    assert details and int(details.group(1)) == len(cov["guards"]) - 2  # closed: no 'open' attribute
    rest = html[details.start() :]
    assert 'href="../models/wildguard/"' in rest and "wildguard" not in "".join(heads)
    assert "outside policy" in html[: html.index("guards-with-verdicts")]


def test_crosswalk_pages(built):
    html = article(page(built, "crosswalks"))
    links = re.findall(r'href="([^"]+--[^"]+/)"', html)
    assert links
    one = article(page(built, "crosswalks/" + links[0]))
    assert one.count("<tr>") > 2


def test_downloads(built):
    pub = built / "public"
    conn = query.connect(pub / "riskcards.db")
    assert query.stats(conn)["cards"] == len(CARDS) + 1
    doc = json.loads((pub / "riskcards.json").read_text(encoding="utf-8"))
    assert {c["id"] for c in doc["cards"]} == {*CARDS, HOSTILE_ID}
    assert (pub / "riskcards.jsonl").read_text(encoding="utf-8").count("\n") >= 3
    for schema in (REPO / "schema").glob("*.schema.json"):
        assert (pub / "schema" / schema.name).read_bytes() == schema.read_bytes()
    # the schemas are published at the path their $id promises
    card_schema = json.loads((pub / "schema" / "card.schema.json").read_text())
    assert card_schema.get("$id", "").endswith("/schema/card.schema.json")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse(pub / "feed.xml").getroot()
    entries = feed.findall("a:entry", ns)
    assert len(entries) == len(CARDS) + 1
    titles = {e.find("a:title", ns).text for e in entries}
    hostile_title = query.card(conn, HOSTILE_ID)["title"]
    assert hostile_title in titles  # escaped in XML, read back exactly
    assert (
        "riskcards.db" in article(page(built, "downloads"))
        and (pub / "downloads" / "index-schema" / "index.html").is_file()
    )
    # the Datasette metadata (licence, source, column descriptions) is offered beside the database
    downloads = article(page(built, "downloads"))
    assert 'href="../riskcards.metadata.json"' in downloads
    meta = json.loads((pub / "riskcards.metadata.json").read_text(encoding="utf-8"))
    assert meta["license"] == "CC-BY-4.0" and meta["databases"]["riskcards"]["tables"]["scenario_risks"]["columns"]
    # the SSSOM sets are published one by one at their mapping_set_id, and as a zip on the downloads page
    assert 'href="../riskcards-sssom.zip"' in downloads
    merged = (pub / "sssom" / "riskcards.sssom.tsv").read_text(encoding="utf-8")
    assert "#mapping_set_id: https://riskcards.github.io/riskcards/sssom/riskcards.sssom.tsv\n" in merged


def test_home_page_counts_and_recent_cards(built):
    html = article(page(built, ""))
    assert "<!-- riskcards:" not in html
    assert f"<b>{len(CARDS) + 1}</b>cards" in html
    recent = html[html.index("Recently changed cards") :]
    assert f"cards/{HOSTILE_ID}/" in recent and "feed.xml" in recent


# --------------------------------------------------------------------------------------------------
# Safety: nothing in a card becomes markup
# --------------------------------------------------------------------------------------------------


def test_no_card_markup_anywhere_in_the_built_site(built):
    checked = 0
    for path in (built / "public").rglob("*.html"):
        problems = markup_problems(path.read_text(encoding="utf-8"))
        assert not problems, f"{path.relative_to(built)}: {problems}"
        checked += 1
    assert checked > 30


def test_hostile_text_is_shown_as_text(built):
    html = page(built, f"cards/{HOSTILE_ID}")
    body = article(html)
    assert "&lt;script&gt;window.__pwned" in body and SEARCH_WORD in body
    assert "<title>&lt;script&gt;window.__pwned=" in html  # the theme's <title> gets the escaped title
    assert 'href="https://tracker.invalid/pixel.png"' in body and "<img" not in body  # images become plain links
    assert 'href="https://arxiv.org/abs/2303.18190" rel="nofollow noopener noreferrer ugc"' in body
    assert "{{ config.repo_url }}" in body and "/etc/passwd" in body  # no template or snippet expansion
    index = json.loads((built / "public" / "search" / "search_index.json").read_text(encoding="utf-8"))
    for doc in index["docs"]:
        if doc["location"].startswith(f"cards/{HOSTILE_ID}/"):
            for field in ("title", "text"):
                assert not re.search(r"<(script|img|svg|iframe|b |a )", doc[field], re.I), doc[field][:200]


# --------------------------------------------------------------------------------------------------
# Failures a person can act on
# --------------------------------------------------------------------------------------------------


def test_broken_knowledge_base_fails_with_located_messages(tmp_path):
    root = make_site_kb(tmp_path / "kb", cards=(DOSAGE,), hostile=False)
    card = root / "cards" / f"{DOSAGE}.yaml"
    card.write_text(card.read_text().replace("scenario: medical-question-answering", "scenario: medical-qa"))
    proc = riskcards_build(root)
    assert proc.returncode == 1
    assert re.search(rf"cards/{DOSAGE}.yaml:\d+:\d+: unknown scenario 'medical-qa'", proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (root / "public").exists() and not (root / "build" / "riskcards.db").exists()


def test_broken_link_in_a_handwritten_page_fails_the_build(tmp_path):
    root = make_site_kb(tmp_path / "kb", cards=(DOSAGE,), hostile=False)
    about = root / "site" / "docs" / "about.md"
    about.write_text(about.read_text() + "\nSee [the missing page](missing.md).\n")
    proc = riskcards_build(root)
    assert proc.returncode == 1
    assert "missing.md" in proc.stderr and "Traceback" not in proc.stderr
    assert not (root / "public").exists()


def test_a_generated_page_in_site_docs_is_refused(tmp_path):
    root = make_site_kb(tmp_path / "kb", cards=(DOSAGE,), hostile=False)
    (root / "site" / "docs" / "cards").mkdir()
    (root / "site" / "docs" / "cards" / f"{DOSAGE}.md").write_text("# mine\n")
    proc = riskcards_build(root)
    assert proc.returncode == 1 and f"cards/{DOSAGE}.md" in proc.stderr and "generated" in proc.stderr


def test_failed_build_keeps_the_previous_site(tmp_path):
    root = make_site_kb(tmp_path / "kb", cards=(DOSAGE,), hostile=False)
    assert riskcards_build(root).returncode == 0
    before = (root / "public" / "index.html").read_bytes()
    about = root / "site" / "docs" / "about.md"
    about.write_text(about.read_text() + "\n[broken](nowhere.md)\n")
    assert riskcards_build(root).returncode == 1
    assert (root / "public" / "index.html").read_bytes() == before
    assert not list(root.glob(".public.*"))


def test_plain_mkdocs_build_indexes_and_builds(tmp_path):
    """From a clean tree, a plain `mkdocs build` builds the index itself and the whole site."""
    root = make_site_kb(tmp_path / "kb", cards=(DOSAGE,), hostile=False)
    proc = run(["-m", "mkdocs", "build", "-q", "-f", str(root / "mkdocs.yml")], cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert (root / "build" / "riskcards.db").is_file()
    assert (root / "public" / "cards" / DOSAGE / "index.html").is_file()


def test_dirty_rebuild_renders_only_changed_pages(tmp_path):
    root = make_site_kb(tmp_path / "kb")
    cfg = str(root / "mkdocs.yml")
    assert run(["-m", "mkdocs", "build", "-q", "-f", cfg], cwd=root).returncode == 0
    other = root / "public" / "cards" / SELF_HARM / "index.html"
    changed = root / "public" / "cards" / DOSAGE / "index.html"
    other_before, changed_before = other.stat().st_mtime_ns, changed.read_text()
    card = root / "cards" / f"{DOSAGE}.yaml"
    card.write_text(
        card.read_text().replace("Confident but wrong medication dosage advice", "Confident wrong dose advice")
    )
    proc = run(["-m", "mkdocs", "build", "-q", "--dirty", "-f", cfg], cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert "Confident wrong dose advice" in changed.read_text() and changed.read_text() != changed_before
    assert other.stat().st_mtime_ns == other_before, "an unchanged card page was rendered again"


def test_serve_rebuild_rereads_only_the_edited_card_and_updates_the_index_in_place(tmp_path, monkeypatch):
    """The way `mkdocs serve` rebuilds: one plugin instance, a fresh config per build. After one card is
    edited, validation parses only that file and the index gets that card's rows replaced."""
    import logging

    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    from riskcards import index

    monkeypatch.setenv("NO_MKDOCS_2_WARNING", "1")
    logging.getLogger("mkdocs").setLevel(logging.ERROR)
    root = make_site_kb(tmp_path / "kb")
    site_dir = tmp_path / "served"
    reports = []
    real_build = index.build
    monkeypatch.setattr(index, "build", lambda *a, **k: reports.append(real_build(*a, **k)) or reports[-1])

    def config():
        cfg = load_config(config_file=str(root / "mkdocs.yml"), site_dir=str(site_dir), strict=False)
        cfg.site_url = "http://127.0.0.1:8000/"
        return cfg

    first = config()
    first.plugins.on_startup(command="serve", dirty=True)
    build(first, serve_url=first.site_url, dirty=True)
    plugin = first.plugins["riskcards"]
    assert reports[-1].updated is None and plugin._records.reused == 0
    card = root / "cards" / f"{DOSAGE}.yaml"
    card.write_text(
        card.read_text().replace("Confident but wrong medication dosage advice", "Confident wrong dose advice")
    )
    again = config()
    again.plugins = first.plugins  # mkdocs serve keeps the plugin instances that define on_startup
    build(again, serve_url=again.site_url, dirty=True)
    assert reports[-1].updated == 1
    assert plugin._records.reused == len(plugin._records.entries) - 1
    assert "Confident wrong dose advice" in (site_dir / "cards" / DOSAGE / "index.html").read_text()


# --------------------------------------------------------------------------------------------------
# Pieces on their own
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVa\tScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
        '![x](x" onerror="alert(1))',
        "<a href='javascript:alert(1)'>a</a>",
        "<svg onload=alert(1)>",
        "</p></div><script>alert(1)</script>",
    ],
)
def test_markdown_never_makes_markup(text):
    html = str(safe.markdown(text)) + str(safe.inline_markdown(text))
    assert not markup_problems(html), html
    assert "<script" not in html and "<img" not in html and "<svg" not in html


def test_markdown_keeps_safe_formatting():
    html = str(safe.markdown("# Title\n\n*em* and [paper](https://arxiv.org/abs/2303.18190) and `code`\n\n- a\n- b"))
    assert "<h3>Title</h3>" in html and "<em>em</em>" in html and "<code>code</code>" in html and "<li>a</li>" in html
    assert '<a href="https://arxiv.org/abs/2303.18190" rel="nofollow noopener noreferrer ugc"' in html
    assert safe.safe_url("https://x.org/a") == "https://x.org/a"
    assert safe.safe_url("mailto:a@b.org") == "mailto:a@b.org"
    for bad in (
        "javascript:alert(1)",
        " javascript:alert(1)",
        "data:x",
        "/relative",
        "//evil.org",
        "https://",
        None,
        "",
    ):
        assert safe.safe_url(bad) is None, bad


def test_urls():
    assert pages.page_url("index.md") == ""
    assert pages.page_url("cards/index.md") == "cards/"
    assert pages.page_url("cards/x.md") == "cards/x/"
    assert pages.page_url("cards/x.md", directory_urls=False) == "cards/x.html"
    assert pages.page_url("riskcards.db") == "riskcards.db"
    assert pages.relative_url("taxonomies/t/s1/", "cards/x/") == "../../taxonomies/t/s1/"
    assert pages.relative_url("cards/x/", "") == "cards/x/"
    assert pages.relative_url("", "cards/x/") == "../../"
    assert pages.relative_url("riskcards.db", "downloads/") == "../riskcards.db"
    assert pages.relative_url("cards/x/#example-a", "cards/x/") == "./#example-a"
    assert pages.relative_url("taxonomies/t/#cat-s1", "taxonomies/t/s1/") == "../#cat-s1"
    assert pages.category_paths(["S1", "s1", "self-harm/intent", "W1.3", "index", "a/../b", "x//y"]) == {
        "S1": "S1",  # the code's case kept: the CURIE llama-guard-3:S1 expands to this page
        "s1": "s1-2",  # would share S1's folder on a case-insensitive file system
        "self-harm/intent": "self-harm/intent",
        "W1.3": "W1.3",
        "index": "index-2",  # not a path: the taxonomy's own page is index
        "a/../b": "a--..--b",
        "x//y": "x----y",
    }
    assert pages.category_slugs(["S1", "s1", "self-harm/intent", "W1.3"]) == {
        "S1": "s1",
        "s1": "s1-2",
        "self-harm/intent": "self-harm--intent",
        "W1.3": "w1.3",
    }


def test_link_checker_reports_missing_pages_and_anchors():
    site = pages.Site(
        pages={"a.md": pages.GeneratedPage("a.md", "A", '<h2 id="x">x</h2>')},
        fragments={},
        feed="",
        links={"a.md": {"a.md#x", "a.md#nope", "b.md", "known.md", "#x"}},
        anchors={"a.md": {"x"}},
    )
    assert site.broken_links({"known.md"}) == [("a.md", "a.md#nope"), ("a.md", "b.md")]


def test_feed_is_escaped_valid_and_deterministic():
    entries = [
        FeedEntry(
            "a",
            "<b>A</b> & </title>",
            "https://s/cards/a/",
            "2026-02-01",
            "2026-01-01",
            "sum\x01mary <i>",
            "Changed.",
            "1.1.0",
        ),
        FeedEntry("b", "B", "https://s/cards/b/", "2026-03-01", "2026-03-01", "s", "New card.", "1.0.0"),
    ]
    xml = atom(entries, site_url="https://s/", feed_url="https://s/feed.xml")
    assert xml == atom(list(reversed(entries)), site_url="https://s/", feed_url="https://s/feed.xml")
    root = ET.fromstring(xml.encode())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    got = root.findall("a:entry", ns)
    assert [e.find("a:title", ns).text for e in got] == ["B", "<b>A</b> & </title>"]
    assert root.find("a:updated", ns).text == "2026-03-01T00:00:00Z"
    assert "\x01" not in xml


def test_site_generation_needs_no_mkdocs(tmp_path):
    """pages.py is independent of MkDocs: it runs on the index alone (the seam for another generator)."""
    from riskcards.index import build

    root = make_site_kb(tmp_path / "kb", cards=(DOSAGE,), hostile=False)
    build(root, root / "x.db")
    conn = query.connect(root / "x.db")
    site = pages.build_site(conn, pages.Options(edit_base="https://e/", site_url="https://s/"))
    assert f"cards/{DOSAGE}.md" in site.pages and "coverage.md" in site.pages
    assert site.broken_links({"index.md", "feed.xml", "downloads/index-schema.md"} | site.statics) == []
    sqlite3.connect(root / "x.db").close()
    shutil.rmtree(root)


def test_incremental_generation_equals_a_full_one(tmp_path):
    """A rebuild that takes unchanged pages over from the previous build gives exactly the pages of a full build."""
    from riskcards.index import build

    root = make_site_kb(tmp_path / "kb")
    build(root, root / "a.db")
    options = pages.Options(edit_base="https://e/", site_url="https://s/")
    first = pages.build_site(query.connect(root / "a.db"), options)
    card = root / "cards" / f"{DOSAGE}.yaml"
    card.write_text(
        card.read_text()
        .replace("Confident but wrong medication dosage advice", "Confident wrong doses")
        .replace(
            "likelihood: rare\n    impact: serious\n    severity: medium",
            "likelihood: possible\n    impact: serious\n    severity: high",
        )
    )
    build(root, root / "b.db")
    again = pages.build_site(query.connect(root / "b.db"), options, first)
    full = pages.build_site(query.connect(root / "b.db"), options)
    assert again.reused > 0 and set(again.pages) == set(full.pages)
    assert {p: g.html for p, g in again.pages.items()} == {p: g.html for p, g in full.pages.items()}
    assert again.links == full.links and again.fragments == full.fragments and again.feed == full.feed
    assert "Confident wrong doses" in full.pages["scenarios/customer-support-bot.md"].html
    # the category pages that list the edited card were drawn again from the other cards' rows as they were
    taken = {k for k, v in again.row_cache.items() if first.row_cache.get(k) is v and k[1] in ("direct", "below")}
    assert taken and all(k[2] != DOSAGE for k in taken)
    assert {k for k in first.row_cache if k[2] != DOSAGE} <= set(again.row_cache)  # kept for the next rebuild


def test_a_changed_template_or_reference_record_regenerates_every_page(tmp_path, monkeypatch):
    from riskcards.index import build

    root = make_site_kb(tmp_path / "kb")
    build(root, root / "a.db")
    options = pages.Options(edit_base="https://e/", site_url="https://s/")
    first = pages.build_site(query.connect(root / "a.db"), options)
    reusable = sum(1 for d in first.deps.values() if d is not None)  # pages that list everything are always generated
    assert reusable > 100 and pages.build_site(query.connect(root / "a.db"), options, first).reused == reusable
    monkeypatch.setattr(pages, "_code_key", lambda: "a template was edited")
    assert pages.build_site(query.connect(root / "a.db"), options, first).reused == 0
    monkeypatch.undo()
    scenario = root / "scenarios" / "customer-support-bot.yaml"
    scenario.write_text(scenario.read_text().replace("summary: ", "summary: Edited. ", 1))
    build(root, root / "b.db")
    again = pages.build_site(query.connect(root / "b.db"), options, first)
    assert again.reused == 0
    assert "Edited." in again.pages["scenarios/customer-support-bot.md"].html


def test_bulk_category_matches_agree_with_find_cards(built):
    conn = query.connect(built / "build" / "riskcards.db")
    bulk = query.category_matches(conn)
    for t in query.taxonomies(conn):
        for cat in query.taxonomy_tree(conn, t["id"])["categories"]:
            one = query.find_cards(conn, query.Query(category=cat["ref"], via_crosswalk=True))
            expect = {c["id"]: (c["inferred"], sorted((m["ref"], m["inferred"]) for m in c["matches"])) for c in one}
            got = {
                cid: (v["inferred"], sorted((m["ref"], m["inferred"]) for m in v["matches"]))
                for cid, v in bulk.get(cat["ref"], {}).items()
            }
            assert got == expect, cat["ref"]


def test_listings_are_left_out_of_search_but_shown(built):
    index = json.loads((built / "public" / "search" / "search_index.json").read_text(encoding="utf-8"))
    coverage = [d for d in index["docs"] if d["location"].startswith("coverage/")]
    assert coverage and not any(DOSAGE in d["text"] or "Confident but wrong" in d["text"] for d in coverage)
    cards = [d for d in index["docs"] if d["location"].startswith(f"cards/{DOSAGE}/")]
    assert any("pharmacist" in d["text"] for d in cards)
    assert "rc-listing" not in page(built, "coverage") and "Confident but wrong" in page(built, "coverage")


def test_example_text_stays_out_of_search(built):
    """Search result previews are not collapsed, so example prompts and outputs are not indexed."""
    index = json.loads((built / "public" / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = [d for d in index["docs"] if d["location"].startswith(f"cards/{DOSAGE}/")]
    assert docs and not any("headache" in d["text"] or "Fiebersaft" in d["text"] for d in docs)
    assert "My headache is really bad" in page(built, f"cards/{DOSAGE}")
    assert "data-search-exclude" not in page(built, f"cards/{DOSAGE}")  # the theme strips the marker


def test_every_category_curie_expands_to_its_page_over_http(built):
    """A category's CURIE (taxonomy-id:code, the SSSOM export's identifiers) expands to <site>/taxonomies/<id>/<code>
    with the code's case kept: a real HTTP server over the built site answers it with the category's page, or
    for a category without cards with a redirect to its row in the taxonomy tree. The old lower-case URLs of
    category pages lead to the new ones."""
    import http.server
    import threading
    import urllib.request
    from functools import partial

    from riskcards import ids
    from riskcards.exporters.sssom import mapping_sets

    conn = query.connect(built / "build" / "riskcards.db")
    public = built / "public"
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(public))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        with_page = without = 0
        for t in query.taxonomies(conn):
            for cat in query.taxonomy_tree(conn, t["id"])["categories"]:
                iri = ids.taxonomy_iri_prefix(t["id"]) + cat["code"]
                assert iri.startswith(ids.SITE_URL)
                url = base + iri.removeprefix(ids.SITE_URL)  # the site's folder, served here
                with urllib.request.urlopen(url, timeout=30) as resp:  # follows the slash redirect
                    body = resp.read().decode("utf-8")
                    assert resp.status == 200 and resp.url.rstrip("/").endswith("/" + cat["code"]), url
                if "riskcards:redirect" in body:
                    without += 1
                    target = re.search(r'url=([^"]+)"', body).group(1)
                    assert target.startswith("../") and f"#cat-{pages.slug(cat['code'])}" in target, target
                    tree = (public / "taxonomies" / t["id"] / "index.html").read_text(encoding="utf-8")
                    assert f'id="cat-{pages.slug(cat["code"])}"' in tree
                else:
                    with_page += 1
                    assert escape(cat["name"]) in body
        assert with_page and without
        old = (public / "taxonomies" / "llama-guard-3" / "s6" / "index.html").read_text(encoding="utf-8")
        assert "riskcards:redirect" in old and 'url=../S6/"' in old
    finally:
        httpd.shutdown()
    # the SSSOM export's curie_map is the same prefix, so its identifiers resolve the same way
    merged = mapping_sets(conn)["riskcards.sssom.tsv"]
    assert "#  llama-guard-3: https://riskcards.github.io/riskcards/taxonomies/llama-guard-3/\n" in merged
