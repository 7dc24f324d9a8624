"""What every per-kind check uses: the source files with their locators, dates, URLs, references and duplicates."""

from __future__ import annotations

import datetime as _dt
import functools
import re
from urllib.parse import urlsplit

from .. import ids
from ..kb import KnowledgeBase
from ..load import Loaded, read_text
from ..locate import Locator
from ..problems import Problem


class Files:
    """Source files by shown path, with a lazily built locator each."""

    def __init__(self) -> None:
        self.loaded: dict[str, Loaded] = {}
        self._loc: dict[str, Locator] = {}

    def locator(self, shown: str) -> Locator:
        if shown not in self._loc:
            rec = self.loaded[shown]
            if rec.text is None:  # parsed in a worker process, which keeps only the data
                rec.text, _ = read_text(rec.path, shown)
            self._loc[shown] = Locator(rec.text or "")
        return self._loc[shown]

    def at(self, shown: str, path: tuple, message: str, check: str, *, key: bool = False) -> Problem:
        line, col = self.locator(shown).find(path, key=key)
        return Problem(shown, line, col, message, check)


def located(shown: str, text: str, path: tuple, message: str, check: str, *, key: bool = False) -> Problem:
    """A problem at the data path ``path`` (a key with ``key``) of a file's text; 1:1 when the text is gone."""
    line, col = Locator(text).find(path, key=key) if text else (1, 1)
    return Problem(shown, line, col, message, check)


def harm_type_problems(ht, actors=None, cats=None) -> list[tuple[tuple, str, str]]:
    """A harm type's problems as (path inside the harm type, message, check). A harm type names a category of
    the vocabulary, or, for one the vocabulary lacks, keeps it as written in 'unresolved': exactly one of the
    two. The names are checked against the vocabulary's actors and categories when they are given."""
    out: list[tuple[tuple, str, str]] = []
    if actors is not None and ht.actor not in actors:
        hint = ids.did_you_mean(ht.actor, actors)
        out.append((("actor",), f"unknown actor '{ht.actor}'{hint}; actors: {', '.join(sorted(actors))}", "vocabulary"))
    if (ht.category is None) == (ht.unresolved is None):
        out.append(
            (
                (),
                "a harm type needs 'category' (a vocabulary id) or, for a category the vocabulary lacks, "
                "'unresolved' with the text as written; not both and not neither",
                "harm-type",
            )
        )
    elif cats is not None and ht.category is not None and ht.category not in cats:
        hint = ids.did_you_mean(ht.category, cats)
        out.append(
            (
                ("category",),
                f"unknown harm category '{ht.category}'{hint}; categories: {', '.join(sorted(cats))}",
                "vocabulary",
            )
        )
    return out


def date_of(value: str | None) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_ESCAPED_NUL = re.compile("%00")


@functools.lru_cache(maxsize=4096)
def url_problem(url: str, *, any_host: bool = False) -> str | None:
    """Why a URL is not well formed, or None. Never raises, whatever the text (malformed IPv6 brackets, ports).
    A public URL needs a host name with a dot (or localhost); ``any_host`` also accepts a single-label host or
    an IPv6 address, as a server's base URL may have (a container name, ``http://[::1]:8000/v1``)."""
    if _CONTROL.search(url) or _ESCAPED_NUL.search(url):
        return "contains a control character (or an escaped NUL, %00); remove it"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # e.g. 'http://[' or brackets that are not an IPv6 address
        return "has a malformed host (square brackets hold an IPv6 address, as in http://[2001:db8::1]/)"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not host or (not any_host and "." not in host and host != "localhost"):
        return f"has no valid host name ({host or 'empty'})"
    if any(ch in url for ch in ' <>"{}|\\^`'):
        return "contains characters that must be percent-encoded (space, quotes, angle brackets)"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "has an invalid port"
    return None


def endpoint_problem(url: str) -> str | None:
    """Why a server's base URL (guards.yaml, an assessment's interface) is not well formed, or None."""
    return url_problem(url, any_host=True)


def check_ref(kb: KnowledgeBase, ref: str, shown: str, path: tuple, files: Files, add) -> bool:
    taxonomy_id, _, code = ref.partition(":")
    if taxonomy_id not in kb.taxonomies:
        add(
            files.at(
                shown,
                path,
                (
                    f"unknown taxonomy '{taxonomy_id}'{ids.did_you_mean(taxonomy_id, kb.taxonomies)}; "
                    "taxonomies are the files in taxonomies/"
                ),
                "unknown-taxonomy",
            )
        )
        return False
    codes = kb.codes(taxonomy_id)
    if code not in codes:
        near = ids.closest(code, codes, n=3)
        hint = (
            f"; closest valid codes: {', '.join(near)}"
            if near
            else f"; valid codes start {', '.join(list(codes)[:6])} ..."
        )
        add(files.at(shown, path, f"'{code}' is not a code of {taxonomy_id}{hint}", "unknown-code"))
        return False
    return True


def dupes(items, key, path, what: str, shown: str, files: Files, add) -> None:
    seen: dict = {}
    for i, item in enumerate(items):
        if item is None:
            continue
        k = key(item)
        if k in seen:
            add(
                files.at(
                    shown,
                    path(i),
                    (
                        f"duplicate {what} {k if isinstance(k, str) else '/'.join(k)!r} "
                        f"(also item {seen[k] + 1}); remove one"
                    ),
                    "duplicate",
                )
            )
        else:
            seen[k] = i
