"""Site pages from the index: data -> HTML page bodies through Jinja2 templates.

Everything here reads the knowledge base through ``riskcards.query`` (the query layer the CLI uses) and
knows nothing about MkDocs: ``build_site(conn, ...)`` returns ``GeneratedPage`` objects (a source path such
as ``cards/<id>.md``, a plain-text title, tags and a safe HTML body) plus the home-page fragments and the
Atom feed. ``riskcards.site.plugin`` hands them to MkDocs; a move to another generator that reads Markdown
with HTML bodies (Zensical) only needs a new thin adapter.

Safety: card text is untrusted. Templates run with autoescape on; card markdown goes through
``riskcards.site.safe.markdown`` (no raw HTML, http/https/mailto links only); every other value is
escaped by Jinja. External URLs from records pass ``safe.safe_url``.

Links: templates name link targets by source path (``u('cards/x.md')``, ``u('taxonomies/t/index.md#cat-s1')``)
and ``u`` turns them into URLs relative to the page being rendered. Every target is recorded, so
``Site.broken_links(known)`` can fail the build on a link to a page or anchor that does not exist.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from html import escape as html_escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from .. import ids
from .. import query as q
from ..guards.tiers import TIERS
from ..terms import RELATED_INVERSE
from . import safe
from .feed import FeedEntry, atom

SEVERITIES = ("critical", "high", "medium", "low")
CONTENT_WARNING_TAG = "content-warning"


@dataclass
class GeneratedPage:
    path: str
    """Source path relative to the docs folder, e.g. 'cards/<id>.md'."""
    title: str
    """Plain text (unescaped): whoever prints it must escape it."""
    html: str
    """The page body: safe HTML."""
    tags: list[str] = field(default_factory=list)
    description: str | None = None
    """Plain text for <meta name=description> (unescaped)."""
    edit_path: str | None = None
    """The record's file relative to the knowledge-base root, for the edit link."""
    toc: list[tuple[int, str, str]] = field(default_factory=list)
    """(level, anchor id, plain title) of the page's sections."""
    hide: list[str] = field(default_factory=list)
    """Parts of the theme the page hides ('navigation', 'toc'), e.g. to give a wide table the page's width."""


@dataclass
class Site:
    pages: dict[str, GeneratedPage]
    fragments: dict[str, str]
    """Home-page fragments by marker name ('stats', 'recent'): safe HTML."""
    feed: str
    """feed.xml"""
    links: dict[str, set[str]]
    """Source path of a page -> link targets (source paths with optional '#anchor') it contains."""
    anchors: dict[str, set[str]]
    """Source path of a generated page -> element ids on it."""
    statics: set[str] = field(default_factory=set)
    """Non-page targets linked from pages (downloads), checked by the plugin against the built files."""
    deps: dict[str, frozenset[str] | None] = field(default_factory=dict)
    """Source path -> ids of the cards whose data the page shows (None: it depends on every card)."""
    card_hashes: dict[str, str] = field(default_factory=dict)
    base_key: str = ""
    """Hash of everything but the cards (taxonomies, crosswalks, scenarios, models, vocabulary, which
    categories have a page, options): when it changes, every page is generated again."""
    reused: int = 0
    """Pages taken over unchanged from the previous build (incremental builds)."""
    row_cache: dict = field(default_factory=dict)
    """(page, card id, card hash) -> (table rows, link targets) of long listings, for the next incremental build."""
    outcomes: dict = field(default_factory=dict)
    """(card id, example id) -> expected and recorded guard outcomes, for the next incremental build."""
    cards: list[dict] = field(default_factory=list)
    """Every card as the query layer gave it, for the next incremental build."""
    redirects: dict[str, str] = field(default_factory=dict)
    """Source path of a redirect page (not a generated page) -> the link target it sends to (``redirect_html``)."""

    def broken_links(self, known: set[str]) -> list[tuple[str, str]]:
        """(page, target) for every link whose page is neither generated nor in ``known``, or whose anchor is
        missing."""
        bad = []
        for page, targets in sorted(self.links.items()):
            for target in sorted(targets):
                path, _, anchor = target.partition("#")
                path = path or page
                missing_page = path not in self.pages and path not in known
                missing_anchor = bool(anchor) and path in self.anchors and anchor not in self.anchors[path]
                if missing_page or missing_anchor:
                    bad.append((page, target))
        return bad


# --------------------------------------------------------------------------------------------------
# Paths and URLs
# --------------------------------------------------------------------------------------------------


def page_url(path: str, directory_urls: bool = True) -> str:
    """The URL (relative to the site root) of a source path, as MkDocs writes it."""
    if not path.endswith(".md"):
        return path
    stem = path[:-3]
    if stem == "index" or stem.endswith("/index"):
        return stem[:-5]
    return stem + "/" if directory_urls else stem + ".html"


def relative_url(target: str, base: str) -> str:
    """``target`` (a site-root URL, possibly with '#anchor') as seen from the page at site-root URL ``base``.

    Plain string work on '/'-separated segments (no os.path: this runs for every link of every page)."""
    path, sep, anchor = target.partition("#")
    base_dirs = base.split("/")[:-1]  # 'cards/x/' -> ['cards', 'x']; '' -> []; 'cards/x.html' -> ['cards']
    parts = path.split("/")
    i = 0
    while i < len(base_dirs) and i < len(parts) - 1 and base_dirs[i] == parts[i]:
        i += 1
    out = "../" * (len(base_dirs) - i) + "/".join(parts[i:])
    return (out or "./") + (sep + anchor if sep else "")


def slug(code: str) -> str:
    """A URL- and file-safe slug of a category code: 'S10' -> 's10', 'self-harm/intent' -> 'self-harm--intent'."""
    s = code.lower().replace("/", "--")
    s = re.sub(r"[^a-z0-9._-]+", "-", s).strip("-.")
    return s or "x"


def category_slugs(codes: list[str]) -> dict[str, str]:
    """Slugs for the codes of one taxonomy, unique even where two codes differ only in case."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for code in codes:
        base = s = slug(code)
        n = 2
        while s in used:
            s = f"{base}-{n}"
            n += 1
        used.add(s)
        out[code] = s
    return out


def category_paths(codes: list[str]) -> dict[str, str]:
    """Page paths (below the taxonomy's folder) for the codes of one taxonomy: the code itself, case kept
    (``riskcards.ids.category_path``: 'S10' -> 'S10', 'self-harm/intent' -> 'self-harm/intent'), so that the
    category's CURIE expands to its page. A code that cannot be a path, or that differs from an earlier code
    only in case (the two would share a folder on a case-insensitive file system), gets a slug instead."""
    out: dict[str, str] = {}
    used: set[str] = {"index"}  # the taxonomy's own page
    for code in codes:
        path = ids.category_path(code)
        if path is None or path.lower() in used:
            base = path = slug(code)
            n = 2
            while path.lower() in used:
                path = f"{base}-{n}"
                n += 1
        used.add(path.lower())
        out[code] = path
    return out


REDIRECT_MARK = "<!-- riskcards:redirect -->"


def redirect_html(target_url: str) -> str:
    """A page that sends the browser on to ``target_url`` (relative), for moved and card-less category URLs."""
    u = html_escape(target_url, quote=True)
    return (
        f'<!doctype html>\n{REDIRECT_MARK}\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={u}"><meta name="robots" content="noindex">'
        f'<title>Redirecting</title></head><body><p>This category is at <a href="{u}">{u}</a>.</p></body></html>\n'
    )


def _anchor(code_slug: str) -> str:
    return f"cat-{code_slug}"


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


_IDS = re.compile(r'id="([^"]+)"')  # a literal prefix: 30x faster over long pages than a leading \b


def _code_key() -> str:
    """Names, sizes and modification times of the page templates and of this module: a template edited
    under ``mkdocs serve`` makes the next build generate every page again."""
    here = Path(__file__).parent
    paths = [Path(__file__), *sorted((here / "templates").glob("*"))]
    return "|".join(f"{p.name}:{st.st_size}:{st.st_mtime_ns}" for p in paths if (st := p.stat()))


def _ids(html: str) -> set[str]:
    """Element ids in ``html`` (an ``id="..."`` attribute that is not the end of a longer word)."""
    return {
        m.group(1)
        for m in _IDS.finditer(html)
        if m.start() == 0 or not (html[m.start() - 1].isalnum() or html[m.start() - 1] == "_")
    }


_LISTING = re.compile(r"<!-- rc:listing -->(.*?)<!-- /rc:listing -->", re.S)
LISTING_PLACEHOLDER = '<div class="rc-listing" data-rc-listing="{}"></div>'


def split_listings(html: str) -> tuple[str, list[str]]:
    """Take the long listings (tables of cards, the coverage matrix) out of a page body: the body with a
    placeholder for each, and the listings. The site's search indexes the body only (listings repeat text
    that card pages hold, and parsing them dominated rebuilds); the full page gets them back after rendering."""
    listings: list[str] = []

    def keep(m: re.Match) -> str:
        listings.append(m.group(1))
        return LISTING_PLACEHOLDER.format(len(listings) - 1)

    return _LISTING.sub(keep, html), listings


def join_listings(html: str, listings: list[str]) -> str:
    for i, listing in enumerate(listings):
        html = html.replace(LISTING_PLACEHOLDER.format(i), listing, 1)
    return html


@cache
def _environment():
    """One Jinja2 environment per process: templates compile once, also across `mkdocs serve` rebuilds."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("riskcards.site", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        auto_reload=True,
    )


class Renderer:
    """Jinja2 environment with autoescape, and the ``u`` link function that records every target."""

    def __init__(self, directory_urls: bool = True) -> None:
        self.env = _environment()
        self.directory_urls = directory_urls
        self.links: dict[str, set[str]] = defaultdict(set)
        self.anchors: dict[str, set[str]] = {}
        self._templates: dict[str, Any] = {}

    def link(self, page: str, target: str) -> str:
        """``u`` outside templates: record the link and return the URL relative to ``page``."""
        self.links[page].add(target)
        path, sep, anchor = target.partition("#")
        return relative_url(page_url(path, self.directory_urls) + sep + anchor, page_url(page, self.directory_urls))

    def render(self, template: str, page: str, **ctx: Any) -> str:
        base = page_url(page, self.directory_urls)
        targets = self.links[page]

        def u(target: str) -> str:
            targets.add(target)
            path, sep, anchor = target.partition("#")
            if not path:
                return "#" + anchor
            return relative_url(page_url(path, self.directory_urls) + sep + anchor, base)

        tpl = self._templates.get(template)
        if tpl is None:
            tpl = self._templates[template] = self.env.get_template(template)
        html = tpl.render(u=u, **ctx)
        self.anchors[page] = _ids(html)
        return html


# --------------------------------------------------------------------------------------------------
# The site
# --------------------------------------------------------------------------------------------------


@dataclass
class Options:
    edit_base: str | None = None
    """URL prefix that a record's path (e.g. 'cards/x.yaml') is appended to for its edit link."""
    site_url: str = ""
    """Absolute URL of the site root (for the feed), ending in '/'."""
    directory_urls: bool = True
    downloads: dict[str, str] = field(default_factory=dict)
    """Download name -> description, for files the plugin publishes (e.g. 'riskcards.db')."""
    extra_known: set[str] = field(default_factory=set)


def _card_tags(card: dict) -> list[str]:
    tags: list[str] = []
    for h in card["harm_types"]:
        tags += [f"harm-type: {h['category']}", f"actor: {h['actor']}"]
    tags += [f"taxonomy: {p['taxonomy']}" for p in card["placements"]]
    tags += list(card["tags"])
    return list(dict.fromkeys(tags))


def _changed(card: dict) -> tuple[str, str]:
    """(date of the newest change, what changed), from the card's own dates: created, changelog, last_reviewed."""
    best, what = card["created"], "New card."
    for entry in card["changelog"]:  # oldest first; a later entry on the same day wins
        if entry["date"] > card["created"] and entry["date"] >= best:
            best, what = entry["date"], entry["note"]
    if card.get("last_reviewed") and card["last_reviewed"] > best:
        best, what = card["last_reviewed"], "Reviewed."
    return best, what


class SiteBuilder:
    """Generates every page from one open index connection."""

    def __init__(self, conn: sqlite3.Connection, options: Options | None = None, previous: Site | None = None) -> None:
        self.conn = conn
        self.o = options or Options()
        self.r = Renderer(self.o.directory_urls)
        self.pages: dict[str, GeneratedPage] = {}
        self.deps: dict[str, frozenset[str] | None] = {}
        self.reused = 0
        self.previous = previous
        self.row_cache: dict[tuple[str, str, str, str], tuple[str, frozenset[str]]] = {}
        self._outcome_cache: dict[tuple[str, str], list[dict]] = {}

    # -- data shared by several pages ---------------------------------------------------------------

    @cached_property
    def cards(self) -> list[dict]:
        """Every card in the ``card()`` shape, by id. In an incremental build only the changed cards are read
        from the index; the others are the previous build's (same fingerprint, same reference data: the same
        rows, so the same dicts; nothing here modifies them)."""
        prev = self.previous
        if prev is None or not prev.cards or self._index_fingerprints is None or self.changed is None:
            return q.cards_full(self.conn)
        fresh = {c["id"]: c for c in q.cards_full(self.conn, sorted(self.changed))} if self.changed else {}
        kept = {c["id"]: c for c in prev.cards if c["id"] not in self.changed}
        return [fresh.get(cid) or kept[cid] for cid in sorted(fresh.keys() | kept.keys())]

    @cached_property
    def card_by_id(self) -> dict[str, dict]:
        return {c["id"]: c for c in self.cards}

    @cached_property
    def taxonomies(self) -> list[dict]:
        return q.taxonomies(self.conn)

    @cached_property
    def tax_by_id(self) -> dict[str, dict]:
        return {t["id"]: t for t in self.taxonomies}

    @cached_property
    def trees(self) -> dict[str, dict]:
        return {t["id"]: q.taxonomy_tree(self.conn, t["id"]) for t in self.taxonomies}

    @cached_property
    def slugs(self) -> dict[str, dict[str, str]]:
        """Lower-case slugs of the codes: the anchors of the taxonomy tree, and the category URLs before they kept
        the code's case (kept working by redirects)."""
        return {tid: category_slugs([c["code"] for c in tree["categories"]]) for tid, tree in self.trees.items()}

    @cached_property
    def paths(self) -> dict[str, dict[str, str]]:
        """The category pages' paths below their taxonomy's folder, case kept (``category_paths``)."""
        return {tid: category_paths([c["code"] for c in tree["categories"]]) for tid, tree in self.trees.items()}

    def redirects(self) -> dict[str, str]:
        """Source path of a redirect page -> the link target it sends to: each category's own URL (its code,
        case kept) leads to its row in the taxonomy tree when it has no page of its own, so every category's CURIE
        resolves; the old lower-case URL of a category page leads to the page."""
        out: dict[str, str] = {}
        for tid, tree in self.trees.items():
            for cat in tree["categories"]:
                ref, code = cat["ref"], cat["code"]
                page = self.category_page(ref)
                own = f"taxonomies/{tid}/{self.paths[tid][code]}.md"
                old = f"taxonomies/{tid}/{self.slugs[tid][code]}.md"
                if page is None and own not in self.pages:
                    out[own] = self.category_target(ref)
                elif page is not None and old != page and old not in self.pages:
                    out[old] = page
        return out

    @cached_property
    def category_cards(self) -> dict[str, dict[str, dict]]:
        """Category ref -> {card id: how it matches}, for cards placed in it or below it, and (marked inferred)
        via one crosswalk relation: what ``find_cards(Query(category=ref, via_crosswalk=True))`` returns, for
        every category in one query. Cards are by id; a page that lists them joins in ``card_by_id``."""
        return {ref: dict(sorted(found.items())) for ref, found in q.category_matches(self.conn).items()}

    @cached_property
    def models(self) -> list[dict]:
        return q.models(self.conn)

    @cached_property
    def model_by_id(self) -> dict[str, dict]:
        return {m["id"]: m for m in q.model_records(self.conn)}

    @cached_property
    def scenario_by_id(self) -> dict[str, dict]:
        return {s["id"]: s for s in q.scenario_records(self.conn)}

    @cached_property
    def terms(self) -> dict[tuple[str, str], dict]:
        return {(t["term_group"], t["id"]): t for t in q.harm_type_terms(self.conn)}

    def category_page(self, ref: str) -> str | None:
        """Source path of a category's page (only categories with cards have one)."""
        return self._category_path(ref) if ref in self.category_cards else None

    def _category_path(self, ref: str) -> str:
        tid, _, code = ref.partition(":")
        return f"taxonomies/{tid}/{self.paths[tid][code]}.md"

    def category_target(self, ref: str) -> str:
        """Where a link to a category goes: its page, or its row in the taxonomy tree."""
        page = self.category_page(ref)
        if page:
            return page
        tid, _, code = ref.partition(":")
        return f"taxonomies/{tid}/index.md#{_anchor(self.slugs[tid][code])}"

    def edit_url(self, path: str | None) -> str | None:
        if not path or not self.o.edit_base:
            return None
        return self.o.edit_base + quote(path)

    # -- pages ----------------------------------------------------------------------------------------

    # -- incremental builds ------------------------------------------------------------------------

    @cached_property
    def card_hashes(self) -> dict[str, str]:
        """Card id -> a fingerprint of its record: the index's own (``card_fingerprints``), or, for an index
        without one, a hash of the card as the query layer returns it."""
        import hashlib

        if self._index_fingerprints is not None:
            return self._index_fingerprints
        # cards_full builds every card dict in the same key order, so repr() is a stable fingerprint
        return {c["id"]: hashlib.sha1(repr(c).encode()).hexdigest() for c in self.cards}

    @cached_property
    def _index_fingerprints(self) -> dict[str, str] | None:
        try:
            return q.card_fingerprints(self.conn)
        except sqlite3.Error:  # an index from before card fingerprints
            return None

    @cached_property
    def guard_coverage(self) -> dict:
        """The coverage cells of the index (table guard_coverage), as `riskcards coverage` reads them."""
        return q.guard_coverage(self.conn)

    @cached_property
    def base_key(self) -> str:
        """A fingerprint of everything but the cards that pages show: the index's reference fingerprint
        (reference records, recorded verdicts, the indexer's code) or, for an index without one, the records
        themselves; which categories have a page; the options; the page templates and this module."""
        import hashlib

        ref = q.meta(self.conn).get("reference_fingerprint")
        if ref:
            parts = [ref]
        else:
            parts = [
                q.crosswalk_list(self.conn),
                q.scenario_records(self.conn),
                q.model_records(self.conn),
                q.harm_type_terms(self.conn),
                q.category_records(self.conn),
                [{k: v for k, v in t.items() if k not in ("cards", "used_categories")} for t in self.taxonomies],
            ]
        parts += [sorted(self.category_cards), repr(self.o), _code_key()]
        return hashlib.sha1(repr(parts).encode()).hexdigest()  # the query layer returns rows in a fixed order

    @cached_property
    def changed(self) -> set[str] | None:
        """Ids of cards added, removed or edited since the previous build; None when everything must be generated."""
        prev = self.previous
        if prev is None or prev.base_key != self.base_key:
            return None
        ids = set(self.card_hashes) | set(prev.card_hashes)
        return {cid for cid in ids if self.card_hashes.get(cid) != prev.card_hashes.get(cid)}

    def reuse(self, path: str, deps: frozenset[str] | None) -> bool:
        """Take the page over from the previous build when neither its old nor its new cards changed."""
        prev, changed = self.previous, self.changed
        if changed is None or deps is None or prev is None or path not in prev.pages:
            return False
        old = prev.deps.get(path)
        if old is None or old & changed or deps & changed:
            return False
        self.pages[path] = prev.pages[path]
        self.r.links[path] = prev.links.get(path, set())
        self.r.anchors[path] = prev.anchors.get(path, set())
        self.deps[path] = deps
        self.reused += 1
        return True

    def add(
        self,
        path: str,
        template: str,
        title: str,
        *,
        deps: frozenset[str] | None = None,
        tags=(),
        description=None,
        edit_path=None,
        toc=(),
        hide=(),
        **ctx,
    ) -> None:
        if self.reuse(path, deps):
            return
        html = self.r.render(template, path, title=title, **ctx)
        self.pages[path] = GeneratedPage(path, title, html, list(tags), description, edit_path, list(toc), list(hide))
        self.deps[path] = deps

    @cached_property
    def incidents(self) -> list[dict]:
        """Every incident whole, oldest first, with the cards that link it."""
        return q.incident_records(self.conn)

    @cached_property
    def related_by(self) -> dict[str, list[str]]:
        """Card id -> ids of the cards that state a relation to it (their pages show this card's title)."""
        out: dict[str, list[str]] = defaultdict(list)
        for c in self.cards:
            for r in c.get("related", []):
                out[r["card"]].append(c["id"])
        return out

    def build(self) -> Site:
        if self.previous is not None and self.changed is not None:
            # rows of cards that did not change stay at hand, also those of pages taken over whole this time
            hashes = self.card_hashes
            self.row_cache = {k: v for k, v in self.previous.row_cache.items() if hashes.get(k[2]) == k[3]}
        self.card_pages()
        self.incident_pages()
        self.cards_index()
        self.taxonomy_pages()
        self.crosswalk_pages()
        self.scenario_pages()
        self.model_pages()
        self.assessment_pages()
        self.coverage_page()
        self.downloads_page()
        fragments = self.home_fragments()
        return Site(
            self.pages,
            fragments,
            self.feed(),
            dict(self.r.links),
            self.r.anchors,
            statics={t for ts in self.r.links.values() for t in ts if not t.partition("#")[0].endswith(".md")},
            deps=self.deps,
            card_hashes=self.card_hashes,
            base_key=self.base_key,
            reused=self.reused,
            cards=self.cards,
            row_cache=self.row_cache,
            outcomes=self._outcome_cache,
            redirects=self.redirects(),
        )

    def card_pages(self) -> None:
        for c in self.cards:
            self.card_page(c)

    def card_page(self, c: dict) -> None:
        shown = (c["id"], c.get("superseded_by"), *(r["card"] for r in c.get("related", [])), *self.related_by[c["id"]])
        path, deps = f"cards/{c['id']}.md", frozenset(filter(None, shown))
        if self.reuse(path, deps):
            return
        edit = self.edit_url(c["path"])
        card = {
            **c,
            "description_html": safe.markdown(c["description"]),
            "actions_html": safe.markdown(c["actions_required"]),
            "deprecated_reason_html": safe.markdown(c.get("deprecated_reason")),
            "superseded_by_title": self.card_by_id[c["superseded_by"]]["title"]
            if c.get("superseded_by") in self.card_by_id
            else c.get("superseded_by"),
            "edit_url": edit,
        }
        harm_types = []
        for h in c["harm_types"]:
            a = self.terms.get(("actor", h["actor"]), {})
            k = self.terms.get(("category", h["category"]), {})
            harm_types.append(
                {
                    **h,
                    "actor_name": a.get("name", h["actor"]),
                    "actor_description": a.get("description", ""),
                    "category_name": k.get("name", h["category"]),
                    "category_description": k.get("description", ""),
                }
            )
        placements = [
            {
                "ref": p["ref"],
                "name": p["name"],
                "taxonomy_id": p["taxonomy"],
                "taxonomy_name": p["taxonomy_name"],
                "relation": p["relation"],
                "rationale_html": safe.markdown(p.get("rationale")),
                "url": self.category_target(p["ref"]),
            }
            for p in c["placements"]
        ]
        scenarios = [
            {
                "scenario_id": s["scenario"],
                "scenario_name": s["name"],
                "severity": s["severity"],
                "likelihood": s.get("likelihood"),
                "impact": s.get("impact"),
                "rationale_html": safe.markdown(s["rationale"]),
            }
            for s in c["scenarios"]
        ]
        mitigations = [
            {
                "layer": mi["layer"],
                "action_html": safe.markdown(mi["action"]),
                "residual_html": safe.markdown(mi["residual_risk"]),
                "evidence": [_citation(w) for w in mi["evidence"]],
            }
            for mi in c.get("mitigations", [])
        ]
        evaluations = [
            {
                "method": ev["method"],
                "name": ev["name"],
                "measures_html": safe.markdown(ev["measures"]),
                "references": [_citation(w) for w in ev["references"]],
            }
            for ev in c.get("evaluations", [])
        ]
        references = [
            {
                "title": r["title"],
                "url": safe.safe_url(r.get("url")),
                "doi": r.get("doi"),
                "doi_url": "https://doi.org/" + quote(r["doi"], safe="/") if r.get("doi") else None,
                "note_html": safe.inline_markdown(r.get("note")),
            }
            for r in c["references"]
        ]
        examples = [self._example(c, ex) for ex in c["examples"]]
        incidents = [{**i, "note_html": safe.inline_markdown(i["note"])} for i in c.get("incidents", [])]
        related = self._related(c)
        toc = [
            (2, "description", "Description"),
            (2, "how-harm-happens", "How it turns into harm"),
            (2, "harm-types", "Harm types"),
            (2, "placements", "Taxonomy placements"),
            (2, "scenarios", "Scenarios and severity"),
            (2, "examples", "Examples"),
            (2, "assessments", "Assessments"),
            (2, "seen-in-deployment", "Seen in deployment"),
            (2, "mitigations", "Mitigations"),
            (2, "evaluation", "How to measure it"),
            (2, "related-cards", "Related cards"),
            (2, "references", "References"),
            (2, "lifecycle", "Lifecycle"),
        ]
        self.add(
            path,
            "card.html.j2",
            c["title"],
            deps=deps,
            tags=_card_tags(c),
            description=c["summary"],
            edit_path=c["path"],
            toc=toc,
            card=card,
            harm_types=harm_types,
            placements=placements,
            scenarios=scenarios,
            references=references,
            examples=examples,
            mitigations=mitigations,
            evaluations=evaluations,
            assessed=c.get("assessments", []),
            incidents=incidents,
            related=related,
        )

    def _related(self, c: dict) -> list[dict]:
        """The card's related cards as it states them, then the relations other cards state to it (turned around),
        each with the other card's current title. Built from ``self.cards``, not the card's own "related_by":
        in an incremental build an unchanged card's dict is the previous build's, and another card may have changed."""
        out = [
            {**r, "title": self.card_by_id[r["card"]]["title"], "stated_here": True}
            for r in c.get("related", [])
            if r["card"] in self.card_by_id
        ]
        stated = {r["card"] for r in out}
        for other_id in sorted(self.related_by[c["id"]]):
            if other_id in stated:
                continue
            for r in self.card_by_id[other_id].get("related", []):
                if r["card"] == c["id"]:
                    out.append(
                        {
                            "card": other_id,
                            "title": self.card_by_id[other_id]["title"],
                            "relation": RELATED_INVERSE.get(r["relation"], r["relation"]),
                            "boundary": r["boundary"],
                            "stated_here": False,
                        }
                    )
        return [{**r, "boundary_html": safe.inline_markdown(r["boundary"])} for r in out]

    def incident_pages(self) -> None:
        """A page per incident, and the timeline: every incident by date, grouped by year."""
        by_year: dict[int, list[dict]] = defaultdict(list)
        for inc in self.incidents:
            by_year[inc["year"]].append(inc)
        deps = frozenset(card["id"] for inc in self.incidents for card in inc["cards"])
        self.add(
            "incidents/index.md",
            "incidents_index.html.j2",
            "Incidents",
            deps=deps,
            years=sorted(by_year.items()),
            count=len(self.incidents),
            linked_cards=len(deps),
            toc=[(2, f"year-{year}", str(year)) for year in sorted(by_year)],
        )
        for inc in self.incidents:
            aiid_url = f"https://incidentdatabase.ai/cite/{int(inc['aiid'])}/" if inc.get("aiid") else None
            self.add(
                f"incidents/{inc['id']}.md",
                "incident.html.j2",
                inc["title"],
                deps=frozenset(card["id"] for card in inc["cards"]),
                description=inc["summary"],
                edit_path=inc.get("path"),
                inc=inc,
                summary_html=safe.text_block(inc["summary"]),
                sources=[{**src, "url": safe.safe_url(src["url"])} for src in inc["sources"]],
                cards=[{**card, "note_html": safe.inline_markdown(card["note"])} for card in inc["cards"]],
                aiid_url=aiid_url,
                edit_url=self.edit_url(inc.get("path")),
                toc=[(2, "what-happened", "What happened"), (2, "sources", "Sources"), (2, "cards", "Cards")],
            )

    def _example(self, c: dict, ex: dict) -> dict:
        prov = ex["provenance"]
        model_id = prov.get("model") if prov["kind"] == "observed" else None
        model = self.model_by_id.get(model_id) if model_id else None
        out = {
            "example_id": ex["id"],
            "language": ex["language"],
            "sensitivity": ex["sensitivity"],
            "provenance": prov["kind"],
            "model_label": (model["name"] if model else prov.get("model_name") or model_id or "unknown model"),
            "model_url": f"models/{model_id}.md" if model else None,
            "observed_date": prov.get("date"),
            "source": prov.get("source"),
            "author": prov.get("author"),
            "prompt": ex.get("prompt"),
            "output": ex.get("output"),
            "turns": ex.get("turns"),
            "context": ex.get("context"),
            "note_html": safe.markdown(ex.get("note")),
            "withheld_reason": ex.get("withheld_reason"),
        }
        if ex["sensitivity"] in ("withheld", "unreviewed"):  # never print their text, whatever the record holds
            out.update(prompt=None, output=None, turns=None, context=None)
        out["outcomes"] = self.outcomes(c, ex)
        return out

    def outcomes(self, card: dict, ex: dict) -> list[dict]:
        """``_outcomes`` of an example, computed once (card pages, model pages and the matrix all use them)."""
        key = (card["id"], ex["id"])
        hit = self._outcome_cache.get(key)
        if hit is None:
            if self.previous is not None and self.changed is not None and card["id"] not in self.changed:
                hit = self.previous.outcomes.get(key)  # same card, same models: the same outcomes
            self._outcome_cache[key] = hit = hit if hit is not None else self._outcomes(card["id"], ex)
        return hit

    @cached_property
    def unit_outcomes(self) -> dict[tuple[str, str], list[dict]]:
        """The units behind the coverage cells (table guard_outcomes), per (card, example)."""
        return q.guard_outcomes(self.conn)

    def _outcomes(self, card_id: str, ex: dict) -> list[dict]:
        """Expected and recorded guard verdicts of an example, one row per (guard model, target): the
        expectations, and the units of the coverage cells with what each counts as there. Where several guard
        configurations of one model ran, the newest verdict is shown."""
        rows: dict[tuple[str, str], dict] = {}

        def row(guard: str, target: str) -> dict:
            return rows.setdefault(
                (guard, target),
                {
                    "guard_id": guard,
                    "target": target,
                    "expected_verdict": None,
                    "expected_categories": [],
                    "recorded_verdict": None,
                    "recorded_categories": [],
                    "input_status": None,
                    "run_at": None,
                    "outcome": STATE_LABELS["not_run"],
                },
            )

        for e in ex.get("expected", []):
            row(e["guard"], e["target"]).update(expected_verdict=e["verdict"], expected_categories=e["categories"])
        for u in sorted(self.unit_outcomes.get((card_id, ex["id"]), []), key=lambda u: u["run_at"] or ""):
            r = row(u["model"], u["target"])
            if u["label"] is not None:
                r.update(
                    recorded_verdict=u["label"],
                    recorded_categories=u["categories"],
                    input_status="current",
                    run_at=u["run_at"],
                    outcome=STATE_LABELS[u["state"]],
                )
            elif r["recorded_verdict"] is None:  # not run on the example as it is today, only on an older version
                r.update(input_status="changed" if u["state"] == "not_run" else None, outcome=STATE_LABELS[u["state"]])
        for r in rows.values():
            m = self.model_by_id.get(r["guard_id"])
            r["guard_name"] = m["name"] if m else r["guard_id"]
        return sorted(rows.values(), key=lambda r: (r["guard_id"], r["target"]))

    def cards_index(self) -> None:
        st = q.stats(self.conn)
        self.add(
            "cards/index.md",
            "cards_index.html.j2",
            "All cards",
            cards=sorted(self.cards, key=lambda c: (c["title"].casefold(), c["id"])),  # by what it shows
            stats=st,
            toc=[(2, s, s.capitalize()) for s in ("reviewed", "draft", "deprecated") if st["cards_by_status"].get(s)],
        )

    def taxonomy_pages(self) -> None:
        self.add(
            "taxonomies/index.md",
            "taxonomies_index.html.j2",
            "Taxonomies",
            taxonomies=self.taxonomies,
            crosswalks=q.crosswalk_list(self.conn),
            coverage={tid: tree["coverage"] for tid, tree in self.trees.items()},
        )
        for tid, tree in self.trees.items():
            info = self.tax_by_id[tid]
            slugs = self.slugs[tid]
            cats = []
            for cat in tree["categories"]:
                cats.append(
                    {
                        **cat,
                        "anchor": _anchor(slugs[cat["code"]]),
                        "page": self.category_page(cat["ref"]),
                        "inferred": sum(
                            1 for m in self.category_cards.get(cat["ref"], {}).values() if m.get("inferred")
                        ),
                    }
                )
            deps = frozenset(cid for cat in tree["categories"] for cid in self.category_cards.get(cat["ref"], ()))
            self.add(
                f"taxonomies/{tid}/index.md",
                "taxonomy.html.j2",
                info["short_name"] or info["name"],
                deps=deps,
                tree=tree,
                info=info,
                cats=cats,
                notes_html=safe.markdown(tree.get("notes")),
                description_html=safe.markdown(tree.get("description")),
                url=safe.safe_url(tree.get("url")),
                tags=[f"taxonomy: {tid}"],
                toc=[(2, "categories", "Categories")],
            )
        records = q.category_records(self.conn)
        for ref, matches in self.category_cards.items():
            deps = frozenset(matches)
            path = self._category_path(ref)
            if self.reuse(path, deps):
                continue
            found = [{**self.card_by_id[cid], **m} for cid, m in matches.items()]
            tid, _, code = ref.partition(":")
            info = self.tax_by_id[tid]
            rec = records[ref]
            direct, below, via = [], [], []
            for c in found:
                matches = c.get("matches", [])
                if any(not m["inferred"] and m["ref"] == ref for m in matches):
                    direct.append({**c, "match": next(m for m in matches if not m["inferred"] and m["ref"] == ref)})
                elif not c.get("inferred"):
                    below.append({**c, "sub": [m for m in matches if not m["inferred"]]})
                else:
                    via.append({**c, "via": [m for m in matches if m["inferred"]]})
            parent = rec.get("parent_ref")
            self.add(
                path,
                "category.html.j2",
                f"{code} {rec['name']}",
                deps=deps,
                info=info,
                cat=rec,
                description_html=safe.markdown(rec.get("description")),
                direct=self._category_rows(path, "direct", direct),
                below=self._category_rows(path, "below", below),
                via=self._category_rows(path, "via", via),
                parent=(
                    {"ref": parent, "name": records[parent]["name"], "target": self.category_target(parent)}
                    if parent
                    else None
                ),
                target=self.category_target,
                tags=[f"taxonomy: {tid}"],
                toc=[
                    (2, "placed-here", "Placed here"),
                    (2, "placed-below", "Placed in subcategories"),
                    (2, "via-crosswalks", "Via crosswalks"),
                ],
            )

    def crosswalk_pages(self) -> None:
        pairs: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for cw in q.crosswalk_list(self.conn):
            a, b = sorted((cw["source_taxonomy"], cw["target_taxonomy"]))
            pairs[(a, b)].append(cw)
        listing = []
        for (a, b), files in sorted(pairs.items()):
            data = q.crosswalk(self.conn, a, b)
            path = f"crosswalks/{a}--{b}.md"
            rows = [
                {
                    **r,
                    "a_target": self.category_target(r["a"]),
                    "b_target": self.category_target(r["b"]),
                    "rationale_html": safe.inline_markdown(r.get("rationale")),
                }
                for r in data["relations"]
            ]
            ta, tb = self.tax_by_id[a], self.tax_by_id[b]
            title = f"{ta['short_name'] or ta['name']} ↔ {tb['short_name'] or tb['name']}"
            self.add(
                path,
                "crosswalk.html.j2",
                title,
                deps=frozenset(),
                a=ta,
                b=tb,
                files=[{**f, "description_html": safe.markdown(f["description"])} for f in files],
                rows=rows,
                tags=[f"taxonomy: {a}", f"taxonomy: {b}"],
            )
            listing.append({"path": path, "title": title, "a": ta, "b": tb, "relations": len(rows), "files": files})
        self.add("crosswalks/index.md", "crosswalks_index.html.j2", "Crosswalks", deps=frozenset(), pairs=listing)

    def scenario_pages(self) -> None:
        listing = q.scenarios(self.conn)
        self.add("scenarios/index.md", "scenarios_index.html.j2", "Scenarios", scenarios=listing, severities=SEVERITIES)
        for s in listing:
            rec = self.scenario_by_id[s["id"]]
            found = q.find_cards(self.conn, q.Query(scenario=s["id"]))
            deps = frozenset(c["id"] for c in found)
            if self.reuse(f"scenarios/{s['id']}.md", deps):
                continue
            by_sev: dict[str, list[dict]] = {sev: [] for sev in SEVERITIES}
            for c in found:
                by_sev[c["scenario"]["severity"]].append(
                    {**c, "rationale_html": safe.inline_markdown(c["scenario"]["rationale"])}
                )
            self.add(
                f"scenarios/{s['id']}.md",
                "scenario.html.j2",
                rec["name"],
                deps=deps,
                s=rec,
                counts=s,
                by_sev=by_sev,
                severities=SEVERITIES,
                description_html=safe.markdown(rec["description"]),
                users_html=safe.markdown(rec["users"]),
                edit_path=rec.get("path"),
                toc=[(2, sev, sev.capitalize()) for sev in SEVERITIES if by_sev[sev]],
            )

    def model_pages(self) -> None:
        """Per model: for a language model, the cards with examples observed on it, with every guard outcome on
        those examples; for a guard, the examples it is expected to judge or was run on, with its verdicts only
        (the meaning of ``find_cards(Query(model=M))``, gathered for every model in one pass over the cards)."""
        self.add("models/index.md", "models_index.html.j2", "Models", models=self.models)
        kinds = {m["id"]: m["kind"] for m in self.models}
        found: dict[str, dict[str, list[dict]]] = defaultdict(dict)
        for c in self.cards:
            for ex in c["examples"]:
                outcomes = self.outcomes(c, ex)
                entry = {
                    "example_id": ex["id"],
                    "provenance": ex["provenance"]["kind"],
                    "observed_date": ex["provenance"].get("date"),
                    "sensitivity": ex["sensitivity"],
                }
                observed_on = ex["provenance"].get("model") if ex["provenance"]["kind"] == "observed" else None
                if observed_on is not None and observed_on in kinds:
                    found[observed_on].setdefault(c["id"], []).append({**entry, "outcomes": outcomes})
                by_guard: dict[str, list[dict]] = {}
                for o in outcomes:
                    by_guard.setdefault(o["guard_id"], []).append(o)
                for g, own in by_guard.items():
                    if kinds.get(g, "language-model") != "language-model":
                        found[g].setdefault(c["id"], []).append({**entry, "outcomes": own})
        for m in self.models:
            rec = self.model_by_id[m["id"]]
            path, deps = f"models/{m['id']}.md", frozenset(found[m["id"]])
            if self.reuse(path, deps):
                continue
            rows = [
                {"id": cid, "title": self.card_by_id[cid]["title"], "entries": entries}
                for cid, entries in sorted(found[m["id"]].items())
            ]
            facts = [
                {
                    "name": name,
                    "label": label,
                    "value": rec["facts"][name]["value"],
                    "source": {
                        **rec["facts"][name]["source"],
                        "url": safe.safe_url(rec["facts"][name]["source"]["url"]),
                    },
                }
                for name, label in (
                    ("released", "Released"),
                    ("publisher", "Publisher"),
                    ("license", "Licence"),
                    ("parameters", "Parameters"),
                )
                if name in rec.get("facts", {})
            ]
            self.add(
                path,
                "model.html.j2",
                rec["name"],
                deps=deps,
                facts=facts,
                m=rec,
                counts=m,
                rows=rows,
                rows_html=self._model_rows(path, rows),
                url=safe.safe_url(rec.get("url")),
                notes_html=safe.markdown(rec.get("notes")),
                edit_path=rec.get("path"),
                assessed=self.assessed_on.get(m["id"], []),
            )

    @cached_property
    def assessed_on(self) -> dict[str, list[dict]]:
        """Model id -> where cards were assessed on it and with what result (the card's title joined in)."""
        out: dict[str, list[dict]] = defaultdict(list)
        for a in q.assessed_cards(self.conn):
            card = self.card_by_id.get(a["card"])
            out[a["model"]].append({**a, "card_title": card["title"] if card else a["card"]})
        return out

    def assessment_pages(self) -> None:
        """The assessments section: an index, and a page per assessment that is its report, drawn by the report
        builder (``riskcards.assess.report``) from the report stored in the index, with names linked to pages."""
        from ..assess import report

        items = q.assessments(self.conn, report=True)
        self.add("assessments/index.md", "assessments_index.html.j2", "Assessments", assessments=items)
        folders = {"card": "cards", "scenario": "scenarios", "model": "models"}
        for a in items:
            path = f"assessments/{a['id']}.md"

            def link(kind: str, rid: str, path: str = path) -> str | None:
                known = {"card": self.card_by_id, "scenario": self.scenario_by_id, "model": self.model_by_id}[kind]
                return self.r.link(path, f"{folders[kind]}/{rid}.md") if rid in known else None

            body = Markup(report.html_body(a["report"], link))
            self.add(
                path,
                "assessment.html.j2",
                f"Assessment report: {a['title']}",
                description=a["use_case"],
                edit_path=a["path"],
                body=body,
            )

    def _model_rows(self, path: str, rows: list[dict]) -> Markup:
        """The rows of a model page's table, built as strings: a guard's page can list thousands of examples."""
        return Markup("\n".join(self._cached_rows(path, "model", rows, lambda c: self._model_card_rows(path, c))))

    def _cached_rows(self, path: str, kind: str, cards: list[dict], draw: Callable[[dict], str]) -> list[str]:
        """Each card's rows of a listing on page ``path``, drawn by ``draw`` or taken over from the previous
        incremental build when the card did not change (keyed by page, listing and the card's content; anything
        else a row shows changes the reference fingerprint, and then nothing is taken over). The links of each
        card's rows are kept with them, so the page's link check sees the same links either way. ``build``
        starts ``row_cache`` from the previous build's rows of unchanged cards."""
        out = []
        for c in cards:
            key = (path, kind, c["id"], self.card_hashes[c["id"]])
            hit = self.row_cache.get(key)
            if hit is None:
                page_links, self.r.links[path] = self.r.links[path], set()  # collect this card's links on their own
                try:
                    html = draw(c)
                    own = frozenset(self.r.links[path]) | {f"cards/{c['id']}.md"}
                finally:
                    self.r.links[path] = page_links
                page_links.update(own)
                hit = self.row_cache[key] = (html, own)
            else:
                self.r.links[path].update(hit[1])
            out.append(hit[0])
        return out

    def _card_link(self, path: str, c: dict) -> str:
        """A link to card ``c`` from page ``path``, with the card's title: the card_link macro of the templates,
        for the rows drawn in Python."""
        href = escape(self.r.link(path, "cards/" + c["id"] + ".md"))
        return f'<a href="{href}">{escape(c["title"])}</a>'

    def _category_rows(self, path: str, kind: str, cards: list[dict]) -> list[Markup]:
        """The rows of a category page's listings (``direct``, ``below`` or ``via``), as strings: a category
        high in a taxonomy lists most cards, and one edited card would otherwise draw every such page again."""
        link = self.r.link

        def card(c: dict) -> str:
            return self._card_link(path, c)

        def status(c: dict) -> str:
            s = escape(c["status"])
            return f'<span class="rc-badge rc-status-{s}" title="lifecycle status">{s}</span>'

        def draw(c: dict) -> str:
            if kind == "direct":
                return (
                    f"<tr><td>{card(c)}</td><td>{escape(c['summary'])}</td><td>{escape(c['match']['relation'])}</td>"
                    f"<td>{status(c)}</td></tr>"
                )
            if kind == "below":
                subs = "; ".join(
                    f'<a href="{escape(link(path, self.category_target(s["ref"])))}"><code>'
                    f"{escape(s['ref'].split(':', 1)[1])}</code> {escape(s['name'])}</a> ({escape(s['relation'])})"
                    for s in c["sub"]
                )
                return f"<tr><td>{card(c)}</td><td>{escape(c['summary'])}</td><td>{subs}</td><td>{status(c)}</td></tr>"
            where = "; ".join(
                f'<a href="{escape(link(path, self.category_target(v["ref"])))}"><code>{escape(v["ref"])}</code> '
                f"{escape(v['name'])}</a>"
                for v in c["via"]
            )
            how = "; ".join(
                f"<code>{escape(v['via']['from'])}</code> {escape(v['via']['relation'])} "
                f"<code>{escape(v['via']['to'])}</code>"
                if v.get("via")
                else ""
                for v in c["via"]
            )
            return (
                f'<tr class="rc-via"><td>{card(c)} <span class="rc-badge">via crosswalk</span></td>\n'
                f"<td>{where}</td>\n<td>{how}</td></tr>"
            )

        return [Markup(r) for r in self._cached_rows(path, kind, cards, draw)]

    def _model_card_rows(self, path: str, c: dict) -> str:
        out = []
        card = f"<td>{self._card_link(path, c)}</td>"
        for e in c["entries"]:
            href = self.r.link(path, "cards/" + c["id"] + ".md#example-" + e["example_id"])
            ex = (
                f'<td><a href="{href}"><code>{escape(e["example_id"])}</code></a>'
                f' <span class="rc-badge rc-sens-{e["sensitivity"]}" title="sensitivity">{e["sensitivity"]}</span></td>'
            )
            if not e["outcomes"]:
                out.append(
                    f'<tr>{card}{ex}<td colspan="3">no guard expectation or verdict</td>{_badge("not run")}</tr>'
                )
            for o in e["outcomes"]:
                exp = escape(o["expected_verdict"] or "—") + (
                    escape(f" ({', '.join(o['expected_categories'])})") if o["expected_categories"] else ""
                )
                rec = escape(o["recorded_verdict"] or "not run") + (
                    escape(f" ({', '.join(o['recorded_categories'])})") if o["recorded_categories"] else ""
                )
                out.append(
                    f"<tr>{card}{ex}<td>{escape(o['guard_name'])} "
                    f"({o['target']})</td><td>{exp}</td><td>{rec}</td>{_badge(o['outcome'])}</tr>"
                )
        return "\n".join(out)

    def coverage_page(self) -> None:
        """Cards x guards, from the index's coverage cells (the ones `riskcards coverage` prints). Columns are
        only the guards with recorded verdicts, most first; the others are listed once, collapsed. Cells are
        plain HTML strings built here: the matrix has (cards x guards) cells, too many for template macros at
        10,000 cards."""
        cov = self.guard_coverage
        guards = [
            {**g, "url": f"models/{g['model']}.md" if g["model"] in self.model_by_id else None} for g in cov["guards"]
        ]
        shown = [g for g in guards if g["results"]]
        for g in shown:  # a model run under two guard ids: its columns also name the guard id
            g["twin"] = sum(1 for o in shown if o["model"] == g["model"]) > 1
        cells = {(c["card"], c["guard"]): c for c in cov["cells"]}
        base = page_url("coverage.md", self.o.directory_urls)
        rows = []
        for c in self.cards:
            href = relative_url(page_url("cards/" + c["id"] + ".md", self.o.directory_urls), base)
            parts = [f'<tr><td><a href="{href}">{escape(c["title"])}</a></td>']
            for g in shown:
                parts.append(f"<td>{coverage_cell(cells.get((c['id'], g['id'])))}</td>")
            parts.append("</tr>")
            rows.append("".join(parts))
            self.r.links["coverage.md"].add(f"cards/{c['id']}.md")
        self.add(
            "coverage.md",
            "coverage.html.j2",
            "Guard coverage",
            hide=("navigation", "toc"),  # the matrix gets the page's whole width
            shown=shown,
            rest=[g for g in guards if not g["results"]],
            tiered=any(g["conditional"] or g["taxonomy"] in TIERS for g in guards),
            states=CELL_STATES,
            rows=Markup("\n".join(rows)),
            recorded=q.stats(self.conn)["guard_results"],
        )

    def downloads_page(self) -> None:
        self.add(
            "downloads.md",
            "downloads.html.j2",
            "Downloads",
            downloads=self.o.downloads,
            stats=q.stats(self.conn),
            schemas=sorted(k for k in self.o.downloads if k.startswith("schema/")),
        )

    def home_fragments(self) -> dict[str, str]:
        st = q.stats(self.conn)
        recent = sorted(self.cards, key=lambda c: (_changed(c)[0], c["id"]), reverse=True)[:10]
        recent = [{**c, "changed": _changed(c)[0], "change": _changed(c)[1]} for c in recent]
        return {
            "stats": self.r.render("home_stats.html.j2", "index.md", stats=st),
            "recent": self.r.render("home_recent.html.j2", "index.md", recent=recent),
        }

    def feed(self) -> str:
        base = self.o.site_url or "/"
        entries = []
        for c in self.cards:
            day, what = _changed(c)
            entries.append(
                FeedEntry(
                    id=c["id"],
                    title=c["title"],
                    url=base + page_url(f"cards/{c['id']}.md", self.o.directory_urls),
                    updated=day,
                    published=c["created"],
                    summary=c["summary"],
                    change=what,
                    version=c["version"],
                )
            )
        return atom(entries, site_url=base, feed_url=base + "feed.xml")


def _badge(label: str) -> str:
    return f'<td><span class="rc-badge rc-out-{label.replace(" ", "-")}">{label}</span></td>'


CELL_STATES = (
    ("flagged", "flagged", "said unsafe"),
    ("conditional", "conditional", "a tiered guard's conditional tier: flagged with a condition"),
    ("missed", "missed", "said safe, and the guard's policy covers this risk"),
    ("outside", "outside policy", "said safe, but the guard's policy does not cover this risk"),
    ("errored", "errored", "its output could not be read; never counted as safe"),
    ("not_run", "not run", "no verdict on the example as it is today"),
    ("not_runnable", "not runnable", "redacted text: never sent to a guard"),
)
"""(cell count, label, meaning) in the order a coverage cell shows them."""
STATE_LABELS = {state: label for state, label, _ in CELL_STATES}
"""A unit's state (riskcards.guards.coverage.STATES) as the site names it."""


def coverage_cell(cell: dict | None) -> str:
    """One card x guard cell of the coverage page: a badge with the count of each state that occurs, and the
    native tiers of a tiered guard; a dash when the card has nothing for the guard to judge."""
    if not cell:
        return "—"
    out = []
    for key, label, meaning in CELL_STATES:
        if cell[key]:
            cls = label.replace(" ", "-")
            out.append(f'<span class="rc-badge rc-out-{cls}" title="{label}: {meaning}">{cell[key]} {label}</span>')
    if cell["tiers"]:
        tiers = " ".join(f"{t}×{n}" for t, n in sorted(cell["tiers"].items()))
        out.append(f'<small class="rc-tiers" title="native tiers of the verdicts">{tiers}</small>')
    return " ".join(out) or "—"


def build_site(conn: sqlite3.Connection, options: Options | None = None, previous: Site | None = None) -> Site:
    """Every generated page. With ``previous`` (the site of the last build with the same options), pages whose
    cards did not change are taken over as they are (see ``Site.deps``); the result is the same either way."""
    return SiteBuilder(conn, options, previous).build()


def stub_markdown(page: GeneratedPage) -> str:
    """The Markdown source MkDocs reads for a generated page: front matter with the tags, no body (the
    plugin puts the HTML body in after rendering, so Python-Markdown never sees card text)."""
    import json

    lines = ["---"]
    if page.tags:
        lines.append("tags: " + json.dumps(page.tags))
    if page.hide:
        lines.append("hide: " + json.dumps(page.hide))
    lines += ["---", ""]
    return "\n".join(lines)


__all__ = [
    "GeneratedPage",
    "Markup",
    "Options",
    "Site",
    "SiteBuilder",
    "build_site",
    "page_url",
    "relative_url",
    "stub_markdown",
]


def _citation(w: dict) -> dict:
    """A cited work of the verified bibliography, as the card page shows it."""
    return {
        "work": w["work"],
        "title": w.get("title") or w["work"],
        "url": safe.safe_url(w.get("url")),
        "note_html": safe.inline_markdown(w.get("note")),
    }
