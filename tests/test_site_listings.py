"""Issue 16, on the site: category trees nested, the home page's counts true, the cards index in the order
of what it shows, and the home page's command line the README's. Pages are generated from a real index
(``riskcards.site.pages``, no MkDocs), which is what the plugin hands to MkDocs."""

from __future__ import annotations

import re

import pytest
from sitekit import REPO, add_verdict, make_site_kb

from riskcards import query
from riskcards.index import build
from riskcards.site import pages

DOSAGE = "confident-wrong-dosage-advice"
SELF_HARM = "encouraging-suicide-or-self-harm"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = make_site_kb(tmp_path_factory.mktemp("listings") / "kb", hostile=False)
    text = (root / "cards" / f"{DOSAGE}.yaml").read_text(encoding="utf-8")  # first by id, last by title
    text = text.replace(f"id: {DOSAGE}", "id: aaa-first-by-id").replace(
        "title: Confident but wrong medication dosage advice", "title: Zzz last by title"
    )
    (root / "cards" / "aaa-first-by-id.yaml").write_text(text, encoding="utf-8")
    add_verdict(root, DOSAGE, "doubled-dose", "llama-guard-3-8b", "unsafe", ["S6"])
    add_verdict(root, DOSAGE, "child-dose-de", "llama-guard-3-8b", "safe")
    build(root, root / "x.db")
    conn = query.connect(root / "x.db")
    yield pages.build_site(conn, pages.Options())
    conn.close()


def _tree(html: str) -> list[tuple[str, float]]:
    """(code, indentation) of each category of a taxonomy page, in page order."""
    return [
        (code, float(margin))
        for margin, code in re.findall(
            r'<li id="cat-[^"]*" style="margin-left: ([\d.]+)em"[^>]*>\s*<code>([^<]+)</code>', html
        )
    ]


def test_taxonomy_pages_nest_each_category_under_its_parent(site):
    tree = _tree(site.pages["taxonomies/weidinger-2021/index.md"].html)
    assert [code for code, _ in tree[:6]] == ["W1", "W1.1", "W1.2", "W1.3", "W1.4", "W2"]
    assert tree[0][1] == 0 and tree[1][1] > 0 and tree[5][1] == 0
    for path, page in site.pages.items():
        if re.fullmatch(r"taxonomies/[^/]+/index\.md", path):
            depth = [m for _, m in _tree(page.html)]
            # a category one level deeper than the one before it is that one's child: never a jump of two
            assert all(b - a <= 1.21 for a, b in zip(depth, depth[1:], strict=False)), path


def test_home_page_counts_verdicts_from_the_guards_that_gave_them(site):
    stats = site.fragments["stats"]
    assert re.search(r"<b>2</b>guard verdicts from 1 guard<", stats), stats


def test_cards_index_is_sorted_by_the_titles_it_shows(site):
    html = site.pages["cards/index.md"].html
    titles = re.findall(r'<tr><td><a href="[^"]*"[^>]*>([^<]+)</a>', html)
    assert len(titles) == 3
    assert titles == sorted(titles, key=str.casefold) and titles[-1] == "Zzz last by title"


def test_site_home_page_gives_the_readme_build_command():
    home = (REPO / "site" / "docs" / "index.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install -e ." not in home
    assert "python3 make.py build" in home and "python3 make.py build" in readme
