"""The built site in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
loads pages of a site built from the repo's data plus a card full of hostile text, served over HTTP on
127.0.0.1. Screenshots of key pages go to test-artifacts/site/ (git-ignored)."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from sitekit import (
    HOSTILE_ID,
    HOSTILE_INCIDENT_ID,
    REPO,
    SEARCH_WORD,
    add_verdict,
    make_site_kb,
    riskcards_build,
)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts" / "site"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"headless Chromium is not installed at {CHROMIUM} (Debian package 'chromium'; CI installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright; no browser download needed)"
)

KEY_PAGES = {
    "home": "",
    "card-hostile": f"cards/{HOSTILE_ID}/",
    "card-dosage": "cards/confident-wrong-dosage-advice/",
    "cards": "cards/",
    "taxonomies": "taxonomies/",
    "taxonomy-llama-guard-3": "taxonomies/llama-guard-3/",
    "category-s6": "taxonomies/llama-guard-3/S6/",
    "crosswalks": "crosswalks/",
    "scenario": "scenarios/customer-support-bot/",
    "model-guard": "models/llama-guard-3-8b/",
    "model-lm": "models/llama-3.1-8b-instruct/",
    "coverage": "coverage/",
    "downloads": "downloads/",
    "tags": "tags/",
    "incidents": "incidents/",
    "incident-hostile": f"incidents/{HOSTILE_INCIDENT_ID}/",
}


COVERAGE_GUARDS = (
    "aegis-ai-content-safety-llamaguard-defensive-1.0",
    "llama-3.1-nemoguard-8b-content-safety",
    "omni-moderation-latest",
    "shieldgemma-27b",
    "wildguard",
    "meta-llama-guard-2-8b",
)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    root = make_site_kb(tmp_path_factory.mktemp("browser") / "kb")
    add_verdict(root, "confident-wrong-dosage-advice", "doubled-dose", "llama-guard-3-8b", "unsafe", ["S6"])
    # verdicts of six guards with long names on runnable prompts, for the coverage page's layout
    for guard in COVERAGE_GUARDS:
        for card, example in (("confident-wrong-dosage-advice", "doubled-dose"), (HOSTILE_ID, "script-prompt")):
            add_verdict(root, card, example, guard, "safe", target="prompt")
    proc = riskcards_build(root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root / "public"))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Watch:
    """A browser page with everything that must not happen recorded: dialogs, console errors, page errors,
    requests to any other host."""

    def __init__(self, browser, base: str, **context) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
        self.page = self.context.new_page()
        self.base = base
        self.events: list[str] = []
        host = urlsplit(base).netloc
        self.page.on("dialog", lambda d: (self.events.append(f"dialog {d.type}: {d.message}"), d.dismiss()))
        self.page.on(
            "console",
            lambda m: self.events.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
        self.page.on("pageerror", lambda e: self.events.append(f"page error: {e}"))
        self.page.on(
            "request",
            lambda r: (
                self.events.append(f"request to another host: {r.url}")
                if urlsplit(r.url).scheme in ("http", "https") and urlsplit(r.url).netloc != host
                else None
            ),
        )
        self.page.on("requestfailed", lambda r: self.events.append(f"request failed: {r.url} {r.failure}"))

    def goto(self, path: str):
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
        self.page.wait_for_timeout(150)  # let the theme's scripts run
        return self.page

    def clean(self) -> None:
        pwned = self.page.evaluate("typeof window.__pwned === 'undefined' ? null : String(window.__pwned)")
        assert pwned is None, f"script from card text ran: window.__pwned = {pwned}"
        assert not self.events, "\n".join(self.events)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser, site_url):
    w = Watch(browser, site_url)
    yield w
    w.close()


INJECTED = """() => {
  const art = document.querySelector('article');
  const out = [];
  for (const el of art.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) out.push(el.tagName + ' ' + a.name);
      if (['href', 'src', 'action', 'formaction'].includes(a.name) && /^\\s*(javascript|data|vbscript):/i.test(a.value))
        out.push(el.tagName + ' ' + a.name + '=' + a.value);
    }
  }
  for (const sel of ['script', 'iframe', 'img', 'style', 'object', 'embed', 'marquee', 'blink', 'textarea', 'circle']) {
    for (const el of art.querySelectorAll(sel)) out.push('element ' + sel);
  }
  return out;
}"""


@pytest.mark.parametrize("name", list(KEY_PAGES))
def test_key_pages_load_cleanly(watch, name):
    page = watch.goto(KEY_PAGES[name])
    assert page.locator("article h1").count() >= 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
    assert page.evaluate(INJECTED) == []
    watch.clean()


def test_hostile_card_runs_nothing_and_shows_its_text(watch):
    page = watch.goto(f"cards/{HOSTILE_ID}/")
    title = page.locator("article h1").first.inner_text()
    assert title.startswith("<script>window.__pwned='title'") and title.endswith("</title><h1>")
    assert "<script>" in page.title()  # the window title shows the text, it does not run it
    assert '<img src="x" onerror=' in page.locator("article").inner_text()
    # hover and click through everything a reader touches; handlers from card text would fire here
    for summary in page.locator("article summary").all():
        summary.click()
    for sel in ("article p", "article td", "article pre", "article li"):
        for el in page.locator(sel).all()[:60]:
            if el.is_visible():
                el.hover(timeout=2000)
    assert page.evaluate(INJECTED) == []
    watch.clean()


def test_examples_are_collapsed_until_opened_and_prompts_have_a_copy_button(watch):
    page = watch.goto(f"cards/{HOSTILE_ID}/")
    details = page.locator("article details.rc-example")
    assert details.count() == 4
    assert page.evaluate("[...document.querySelectorAll('article details.rc-example')].every(d => !d.open)")
    prompt = page.locator("#example-script-prompt pre.rc-prompt")
    assert not prompt.is_visible()
    details.first.locator("summary").click()
    assert details.first.evaluate("d => d.open") and prompt.is_visible()
    # Material's copy button on the prompt (not on the output), copying that prompt and nothing else
    button = page.locator(
        "article pre.rc-prompt button[data-md-type=copy], article pre.rc-prompt button.md-clipboard"
    ).first
    assert button.is_visible()
    target = button.get_attribute("data-clipboard-target")
    assert page.evaluate("t => document.querySelector(t).textContent", target) == prompt.locator("code").inner_text()
    assert page.locator("article pre.rc-output button[data-md-type=copy]").count() == 0
    ids = page.evaluate("[...document.querySelectorAll('article pre')].map(p => p.id)")
    assert len(ids) == len(set(ids)), ids
    withheld = page.locator("#example-withheld-example")
    withheld.locator("summary").click()
    assert "withheld" in withheld.inner_text() and withheld.locator("pre").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "card-hostile-example-open.png"), full_page=False)
    watch.clean()


def test_incident_timeline_in_the_browser(watch):
    """The timeline as a reader sees it: reached from the navigation, years in order, every entry dated and in
    date order within its year, hostile titles shown as text, and an entry leads to its incident page, which
    links back to the cards that cite it."""
    from riskcards.validate import load_kb

    incidents = load_kb(REPO).kb.incidents  # the site holds the repo's incidents plus the hostile one
    page = watch.goto("")
    page.locator(".md-tabs a[href$='incidents/']").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/incidents/")
    years = page.evaluate("[...document.querySelectorAll('article h2[id^=year-]')].map(h => h.textContent.trim())")
    assert years == sorted(years) and len(years) >= 3
    entries = page.evaluate(
        """[...document.querySelectorAll('article ol.rc-timeline')].map(ol => ({
             year: ol.previousElementSibling.textContent.trim(),
             dates: [...ol.querySelectorAll('li.rc-incident time')].map(t => t.getAttribute('datetime')),
             ids: [...ol.querySelectorAll('li.rc-incident')].map(li => li.id.replace('incident-', ''))}))"""
    )
    seen = [i for e in entries for i in e["ids"]]
    assert sorted(seen) == sorted([*incidents, HOSTILE_INCIDENT_ID])
    for e in entries:
        assert e["dates"] == sorted(e["dates"]) and all(d.startswith(e["year"]) for d in e["dates"])
    visible = page.locator(f"#incident-{HOSTILE_INCIDENT_ID} a").first.inner_text()
    assert visible.startswith("<script>window.__pwned='incident-title'")  # shown as text, not run
    assert page.evaluate(INJECTED) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "incidents-timeline.png"), full_page=False)
    page.locator(f"#incident-{HOSTILE_INCIDENT_ID} a").first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(f"/incidents/{HOSTILE_INCIDENT_ID}/")
    assert page.locator("article h1").inner_text().startswith("<script>")
    page.locator(f"article a[href$='cards/{HOSTILE_ID}/']").first.click()
    page.wait_for_load_state("load")
    seen_here = page.locator("article table.rc-incidents")
    assert seen_here.locator("time").first.get_attribute("datetime") == "2025-06-30"
    assert page.evaluate(INJECTED) == []
    watch.clean()


def _search(page, text: str):
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    box.fill("")
    box.type(text, delay=20)
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    return page.locator(".md-search-result__item")


def test_search_finds_a_card_by_a_word_from_its_description(watch):
    page = watch.goto("")
    results = _search(page, SEARCH_WORD)
    hrefs = [a.get_attribute("href") for a in results.locator("a").all()]
    assert any(f"cards/{HOSTILE_ID}/" in (h or "") for h in hrefs), hrefs
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=False)
    results = _search(page, "medication")
    hrefs = [a.get_attribute("href") for a in results.locator("a").all()]
    assert any("cards/confident-wrong-dosage-advice/" in (h or "") for h in hrefs), hrefs
    # results that quote hostile text render it as text
    _search(page, "hostile")
    page.wait_for_timeout(300)
    assert (
        page.evaluate(
            "document.querySelectorAll('.md-search-result img, "
            ".md-search-result script, .md-search-result iframe').length"
        )
        == 0
    )
    watch.clean()


def test_dark_mode_toggle(watch):
    page = watch.goto("")
    seen = {page.evaluate("document.body.getAttribute('data-md-color-scheme')")}
    for _ in range(3):
        page.locator("form[data-md-component=palette] label:visible").first.click()
        page.wait_for_timeout(100)
        seen.add(page.evaluate("document.body.getAttribute('data-md-color-scheme')"))
    assert {"default", "slate"} <= seen
    watch.clean()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("canonical", "alternate")):
                self.links.append(a[key])


def _fetch(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, b"", ""


def test_every_internal_link_resolves(site_url):
    """Crawl the whole site from the home page over HTTP: every internal link and asset answers 200, and
    every '#anchor' into a page exists there."""
    host = urlsplit(site_url).netloc
    pages: dict[str, _Links] = {}
    queue = [site_url]
    checked: dict[str, int] = {}
    anchors: list[tuple[str, str, str]] = []
    while queue:
        url = queue.pop()
        if url in checked:
            continue
        status, body, ctype = _fetch(url)
        checked[url] = status
        if status != 200 or "text/html" not in ctype:
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8"))
        pages[url] = parser
        for link in parser.links:
            absolute = urljoin(url, link)
            if urlsplit(absolute).netloc != host or urlsplit(absolute).scheme not in ("http", "https"):
                continue
            target, frag = urldefrag(absolute)
            if frag:
                anchors.append((url, target, frag))
            if target not in checked:
                queue.append(target)
    broken = sorted(u for u, s in checked.items() if s != 200)
    assert not broken, f"{len(broken)} broken links, e.g. {broken[:10]}"
    assert len(pages) > 60 and any(f"cards/{HOSTILE_ID}/" in u for u in pages)
    missing = [
        (src, target, frag)
        for src, target, frag in anchors
        if target in pages and frag not in pages[target].ids and not re.match(r"^(__|fn)", frag)
    ]
    assert not missing, f"{len(missing)} links to missing anchors, e.g. {missing[:10]}"
    assert checked.get(site_url + "riskcards.db") == 200 and checked.get(site_url + "feed.xml") == 200
    assert checked.get(site_url + "schema/card.schema.json") == 200


# Issue 16: the coverage page at common desktop widths. Measured in the page: the matrix and the guard table
# end inside the viewport (the page never scrolls sideways), no word of a column title is split over two lines,
# and the guards with verdicts come first, the others collapsed.
LAYOUT = r"""() => {
  const vw = document.documentElement.clientWidth;
  const out = {vw, scroll: document.documentElement.scrollWidth, tables: [], broken: [], heads: [], details: []};
  for (const t of document.querySelectorAll('article table.rc-matrix, article table.rc-cov-guards')) {
    const r = t.getBoundingClientRect();
    out.tables.push([t.className, r.left, r.right]);
  }
  for (const th of document.querySelectorAll('article table.rc-matrix th, article table.rc-cov-guards th')) {
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const re = /[^\s-]+-?/g;  // a word, or its part up to a hyphen (a line may break after a hyphen)
      let m;
      while ((m = re.exec(n.data))) {
        const range = document.createRange();
        range.setStart(n, m.index);
        range.setEnd(n, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map(q => Math.round(q.top)));
        if (lines.size > 1) out.broken.push(m[0]);
      }
    }
  }
  for (const th of document.querySelectorAll('article table.rc-matrix thead th[title]')) out.heads.push(th.title);
  for (const d of document.querySelectorAll('article details#guards-without-verdicts')) out.details.push(d.open);
  return out;
}"""


@pytest.mark.parametrize("width", [1280, 1920])
def test_coverage_page_fits_and_shows_guards_with_verdicts_first(browser, site_url, width):
    w = Watch(browser, site_url)
    try:
        w.page.set_viewport_size({"width": width, "height": 1000})
        page = w.goto("coverage/")
        got = page.evaluate(LAYOUT)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"coverage-{width}.png"), full_page=False)
        assert got["scroll"] <= got["vw"], got
        assert len(got["tables"]) == 2 and all(left >= 0 and right <= got["vw"] for _, left, right in got["tables"]), (
            got
        )
        assert got["broken"] == [], got["broken"]
        # llama-guard-3-8b-test has its one verdict on a redacted response (not runnable, so no result): the six
        # guards with two verdicts each are the columns, in id order; the rest is one closed <details>
        assert got["heads"] == sorted(f"{g}-test" for g in COVERAGE_GUARDS), got["heads"]
        assert got["details"] == [False]
        w.clean()
    finally:
        w.close()
