"""The `riskcards` MkDocs plugin: a thin adapter between MkDocs and ``riskcards.site.pages``.

At build time it makes sure the SQLite index is current (rebuilding it when the knowledge base changed,
failing with the validator's located messages when the knowledge base is broken), asks ``pages`` for
every generated page, and gives them to MkDocs as generated ``File`` objects: nothing is written into
``site/docs/``. It also publishes the downloads (the database, a JSON dump, the JSON Schemas, the Atom
feed and the index schema page) and fails the build on any link from a generated page to a page,
anchor or file that does not exist.

A generated page reaches MkDocs as a stub (front matter with its tags, no body), so Python-Markdown
never sees card text; the safe HTML body from ``pages`` replaces the rendered stub in
``on_page_content``. Titles are handed to the theme HTML-escaped, because Material prints
``page.title`` unescaped.

The plugin instance lives as long as ``mkdocs serve``: it keeps what validation learnt about each
unchanged file (``riskcards.validate.RecordCache``), and the index is updated in place when only cards
changed, so a rebuild after one edit re-reads one file.

Previews of a broken knowledge base: under ``mkdocs serve`` (``riskcards site --serve``) a knowledge base with
problems, or generated pages with broken links, does not fail the rebuild (MkDocs' server would then hold
every request until a build succeeds, and the browser hangs). The site becomes one page, served for every
path, that lists the located ``path:line:col: message`` problems; it reloads itself when the next build
succeeds. ``mkdocs build`` and ``riskcards build`` still fail.

Incremental builds: under ``mkdocs serve --dirty`` (or ``mkdocs build --dirty``) a generated page whose
content did not change since the previous build is not rendered again. Never publish a dirty build;
``riskcards build`` always builds clean.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import os
import posixpath
import shutil
from pathlib import Path
from urllib.parse import urljoin

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel

from .pages import Site, join_listings, page_url, split_listings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..validate import RecordCache

log = logging.getLogger("mkdocs.plugins.riskcards")

MARKERS = {"stats": "<!-- riskcards:stats -->", "recent": "<!-- riskcards:recent -->"}
WATCHED = ("cards", "taxonomies", "scenarios", "models", "vocab", "checks", "incidents")
CACHE_NAME = "site-pages.json"


class RiskCardsConfig(base.Config):
    root = c.Type(str, default=".")
    """The knowledge-base root, relative to mkdocs.yml."""
    db = c.Type(str, default="build/riskcards.db")
    """The SQLite index, relative to mkdocs.yml; rebuilt when missing or older than the knowledge base."""
    downloads = c.Type(bool, default=True)
    """Publish the database, the JSON dump, the JSON Schemas and the feed."""
    edit_base = c.Optional(c.Type(str))
    """URL that a record path (cards/x.yaml) is appended to for 'edit this card'.

    Default: from repo_url and edit_uri."""


def _hash(*parts: str) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


class RiskCardsPlugin(BasePlugin[RiskCardsConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.dirty = False
        self.site: Site | None = None
        self._hashes: dict[str, str] = {}
        self._listings: dict[str, list[str]] = {}
        self._bytecode = _MemoryBytecodeCache()
        self._records: RecordCache | None = None  # kept across `mkdocs serve` rebuilds
        self.serving = False
        self.broken: str | None = None  # under serve: why this build shows the problem page instead of the site

    # -- lifecycle -------------------------------------------------------------------------------------

    def on_startup(self, *, command: str, dirty: bool) -> None:
        # Defining on_startup keeps this instance across `mkdocs serve` rebuilds, with its page hashes.
        self.dirty = dirty
        self.serving = command == "serve"

    def on_config(self, config):
        here = Path(config.config_file_path or ".").resolve().parent
        self.root = (here / self.config.root).resolve()
        self.db = (here / self.config.db).resolve()
        self.cache = self.db.parent / CACHE_NAME
        docs = Path(config.docs_dir).resolve()
        self.root_from_docs = Path(os.path.relpath(self.root, docs)).as_posix()
        self.edit_base = self.config.edit_base
        if self.edit_base is None and config.repo_url and config.edit_uri and not config.edit_uri_template:
            rel = posixpath.normpath(posixpath.join(config.edit_uri, self.root_from_docs))
            self.edit_base = urljoin(config.repo_url.rstrip("/") + "/", rel.strip("/") + "/")
        return config

    def on_serve(self, server, *, config, builder):
        for name in WATCHED:
            if (self.root / name).is_dir():
                server.watch(str(self.root / name))
        server.watch(str(Path(__file__).parent / "templates"))
        return server

    # -- pages -----------------------------------------------------------------------------------------

    def _index(self) -> None:
        from .. import index
        from ..problems import render

        if self._records is None:
            from ..validate import RecordCache

            self._records = RecordCache()
        try:
            report = index.ensure_current(self.root, self.db, cache=self._records)
        except index.IndexProblems as exc:
            shown = render(exc.problems[:50], "text", exc.checked)
            raise PluginError(f"the knowledge base at {self.root} has problems; nothing was built:\n{shown}") from None
        if report is None:
            return
        how = "written anew" if report.updated is None else f"{report.updated} changed cards replaced"
        log.info(
            f"riskcards: indexed {report.counts.get('cards', 0)} cards into {self.db} ({how}) in {report.seconds:.2f} s"
        )

    def on_files(self, files: Files, *, config) -> Files:
        self.broken = None
        try:
            return self._files(files, config)
        except PluginError as exc:
            if not self.serving:
                raise
            return self._problem_site(files, config, str(exc))

    def _problem_site(self, files: Files, config, why: str) -> Files:
        """Under serve: no pages, only the problem page written by on_post_build (and every earlier page gone,
        so no stale page is served, and the next good build generates every page again)."""
        log.info(f"riskcards: serving a page that lists the problems instead of the site:\n{why}")
        self.broken = why
        self.site = None
        self._hashes = {}
        with contextlib.suppress(OSError):
            self.cache.unlink()
        config.nav = None  # the configured navigation names pages that are not built now
        return Files([f for f in files if not f.is_documentation_page()])

    def on_post_build(self, *, config) -> None:
        if self.broken is None:
            self._write_redirects(config)
            return
        site_dir = Path(config.site_dir)
        if self.dirty:  # a dirty build keeps the files of earlier builds: none of them may be served now
            for child in site_dir.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        page = problem_page(self.broken).encode("utf-8")
        for name in ("index.html", "404.html"):  # MkDocs' server answers every unknown path with 404.html
            (site_dir / name).write_bytes(page)

    def _files(self, files: Files, config) -> Files:
        from .. import index, query
        from . import pages

        self._index()
        downloads = self._download_files() if self.config.downloads else {}
        conn = query.connect(self.db)
        try:
            options = pages.Options(
                edit_base=self.edit_base,
                site_url=config.site_url or "",
                directory_urls=config.use_directory_urls,
                downloads={
                    **{name: what for name, (what, _f) in downloads.items()},
                    "feed.xml": "Atom feed of new and changed cards.",
                },
            )
            previous_site = (
                self.site if self.dirty else None
            )  # incremental generation only for --dirty (preview) builds
            site = pages.build_site(conn, options, previous_site)
        finally:
            conn.close()
        self.site = site

        previous = self._hashes or self._read_cache(config.site_dir)
        hashes: dict[str, str] = {}
        clash = [p for p in site.pages if files.get_file_from_path(p) is not None]
        if clash:
            raise PluginError(
                "site/docs holds pages that are generated from the "
                f"knowledge base: {', '.join(sorted(clash))}; remove them"
            )
        before: dict[str, pages.GeneratedPage] = previous_site.pages if previous_site is not None else {}
        for path, page in site.pages.items():
            f = File.generated(config, path, content=pages.stub_markdown(page), inclusion=InclusionLevel.NOT_IN_NAV)
            if page.edit_path:
                f.edit_uri = posixpath.join(self.root_from_docs, page.edit_path)
            if before.get(path) is page and path in previous:  # taken over unchanged: same digest as last time
                digest = hashes[path] = previous[path]
            else:
                digest = hashes[path] = _hash(page.title, page.html, json.dumps(page.tags), page.description or "")
            if self.dirty and previous.get(path) == digest and os.path.isfile(f.abs_dest_path):
                # unchanged since the last build: MkDocs skips it under --dirty (MkDocs' own way: replace the method)
                f.is_modified = lambda: False  # type: ignore[method-assign]
            files.append(f)
        home = files.get_file_from_path("index.md")
        hashes["index.md"] = _hash(*site.fragments.values())
        if home is not None and self.dirty and previous.get("index.md") != hashes["index.md"]:
            home.is_modified = lambda: True  # type: ignore[method-assign] # the home shows counts and recent cards
        published: dict[str, Path] = {name: file for name, (_what, file) in downloads.items()}
        if self.config.downloads:
            from ..exporters import published as one_by_one

            published.update(one_by_one(self.db.parent))
        for name, file in published.items():
            old = files.get_file_from_path(name)
            if old is not None:  # a file of site/docs by the same name gives way to the generated one
                files.remove(old)
            files.append(File.generated(config, name, abs_src_path=str(file)))
        files.append(File.generated(config, "feed.xml", content=site.feed))
        files.append(File.generated(config, "downloads/index-schema.md", content=index.schema_markdown()))

        known = {f.src_uri for f in files}
        broken = site.broken_links(known)
        for src, target in site.redirects.items():
            path, _, anchor = target.partition("#")
            if path not in site.pages or (anchor and anchor not in site.anchors.get(path, ())):
                broken.append((src, target))
        if broken:
            lines = "\n".join(f"  {page}: link to '{target}', which does not exist" for page, target in broken[:40])
            raise PluginError(f"{len(broken)} broken internal links in generated pages:\n{lines}")
        self._hashes = hashes
        self._write_cache(config.site_dir, hashes)
        if site.reused:
            log.info(f"riskcards: {len(site.pages) - site.reused} pages generated, {site.reused} unchanged")
        return files

    def _download_files(self) -> dict[str, tuple[str, Path]]:
        """name -> (what it is, the file) for every published download (the feed is added apart)."""
        out: dict[str, tuple[str, Path]] = {
            "riskcards.db": (
                (
                    "The SQLite index: every record, placement, example "
                    "and verdict (opens in Datasette or any SQLite client)."
                ),
                self.db,
            ),
        }
        from ..index import metadata_path

        meta = metadata_path(self.db)
        if meta.is_file():
            out[meta.name] = (
                "Datasette metadata for the database (titles, licence, source, table and column descriptions): "
                f"`datasette riskcards.db -m {meta.name}`.",
                meta,
            )
        out.update(self._dumps())
        for p in sorted((self.root / "schema").glob("*.schema.json")):
            out[f"schema/{p.name}"] = (f"JSON Schema of a {p.name.removesuffix('.schema.json')} record.", p)
        return out

    def _dumps(self) -> dict[str, tuple[str, Path]]:
        """name -> (what it is, path) for every export format's download (riskcards.exporters), written next to
        the database when older than it; a preview (dirty) build keeps the ones it finds."""
        from .. import exporters, query

        described = exporters.downloads()
        folder = self.db.parent
        if self.dirty and all((folder / name).exists() for name in described):
            return {name: (what, folder / name) for name, what in described.items()}
        conn = query.connect(self.db)
        try:
            paths = exporters.write_dumps(conn, folder, newer_than=self.db.stat().st_mtime)
        finally:
            conn.close()
        return {name: (described[name], path) for name, path in paths.items()}

    def on_env(self, env, *, config, files):
        # MkDocs makes a new theme environment for every build; keeping the compiled theme templates across
        # `mkdocs serve` rebuilds saves compiling them again (the cache checks each template's source).
        env.bytecode_cache = self._bytecode
        return env

    def on_page_markdown(self, markdown, *, page, config, files):
        page_ = self.site.pages.get(page.file.src_uri) if self.site else None
        if page_ is not None:
            page.meta["title"] = html.escape(page_.title, quote=True)
            if page_.description:
                page.meta["description"] = html.escape(page_.description, quote=True)
        return markdown

    def on_page_content(self, content, *, page, config, files):
        if self.site is None:
            return content
        page_ = self.site.pages.get(page.file.src_uri)
        if page_ is not None:
            from mkdocs.structure.toc import get_toc

            page.toc = get_toc(
                [
                    {"level": lvl, "id": anchor, "name": html.escape(name), "children": []}
                    for lvl, anchor, name in page_.toc
                    if f'id="{anchor}"' in page_.html
                ]
            )
            content = page_.html
        elif page.file.src_uri == "index.md":
            for name, marker in MARKERS.items():
                content = content.replace(marker, self.site.fragments.get(name, ""))
        else:
            return content
        content, self._listings[page.file.src_uri] = split_listings(content)
        return content

    def on_post_page(self, output, *, page, config):
        listings = self._listings.pop(page.file.src_uri, None)
        return join_listings(output, listings) if listings else output

    def _write_redirects(self, config) -> None:
        """Write the redirect pages (``Site.redirects``): every category's URL with its code's case kept, and the
        old lower-case URLs. A file already there that is not one of them (a real page; on a case-insensitive
        file system, the page whose URL differs only in case) is kept."""
        if self.site is None:
            return
        from ..paths import write_atomic
        from .pages import REDIRECT_MARK, redirect_html, relative_url

        site_dir = Path(config.site_dir)
        urls = config.use_directory_urls
        for src, target in self.site.redirects.items():
            url = page_url(src, urls)
            dest = site_dir / (url + "index.html" if url.endswith("/") or not url else url)
            if dest.exists():
                try:
                    if REDIRECT_MARK not in dest.read_text(encoding="utf-8", errors="replace")[:200]:
                        continue
                except OSError:
                    continue
            path, sep, anchor = target.partition("#")
            write_atomic(dest, redirect_html(relative_url(page_url(path, urls) + sep + anchor, url)))

    # -- the page-hash cache for --dirty builds in separate processes --------------------------------

    def _read_cache(self, site_dir: str) -> dict[str, str]:
        """Page hashes of the last build into ``site_dir`` (only those describe the files that are there)."""
        if not self.dirty:
            return {}
        try:
            data = json.loads(self.cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return (
            data.get("hashes", {})
            if isinstance(data, dict) and data.get("site_dir") == str(Path(site_dir).resolve())
            else {}
        )

    def _write_cache(self, site_dir: str, hashes: dict[str, str]) -> None:
        try:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache.with_name(f".{self.cache.name}.{os.getpid()}.tmp")
            tmp.write_text(
                json.dumps({"site_dir": str(Path(site_dir).resolve()), "hashes": hashes}, sort_keys=True),
                encoding="utf-8",
            )
            os.replace(tmp, self.cache)
        except OSError as exc:  # the cache only speeds up --dirty builds
            log.debug(f"riskcards: could not write {self.cache}: {exc}")


_RELOAD = """
(function () {
  // Ask MkDocs' live-reload endpoint for the current build, then wait for a newer one and reload.
  var epoch = null;
  function poll() {
    fetch("/livereload/" + (epoch === null ? 0 : epoch) + "/0", {cache: "no-store"})
      .then(function (r) { return r.text(); })
      .then(function (t) {
        var e = parseInt(t, 10);
        if (epoch === null) { epoch = e; poll(); } else if (e > epoch) { location.reload(); } else { poll(); }
      })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
"""


def problem_page(why: str) -> str:
    """A self-contained HTML page listing the problems (escaped), reloading itself after the next build."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>RiskCards: the knowledge base has problems</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem;border-left:4px solid #c62828}</style>"
        "</head><body><h1>The knowledge base has problems</h1>\n<p>The site is not built while they remain. "
        "Fix them and save: this page reloads when the site builds again (<code>riskcards validate</code> "
        'lists them too).</p>\n<pre id="riskcards-problems">'
        f"{html.escape(why, quote=True)}</pre>\n<script>{_RELOAD}</script>\n</body></html>\n"
    )


class _MemoryBytecodeCache:
    """A Jinja2 bytecode cache in memory (jinja2.BytecodeCache protocol), kept by the plugin across rebuilds."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def get_bucket(self, environment, name, filename, source):
        from jinja2.bccache import Bucket

        key = hashlib.sha1(f"{name}|{filename}".encode()).hexdigest()
        bucket = Bucket(environment, key, hashlib.sha1(source.encode("utf-8")).hexdigest())
        if key in self.store:
            bucket.bytecode_from_string(self.store[key])
        return bucket

    def set_bucket(self, bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()
