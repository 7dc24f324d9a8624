"""Safe rendering of untrusted card text.

Card text arrives in pull requests, so it is untrusted: nothing in a card may put HTML or script into
the site. Two ways out, and nothing else:

- ``text(value)`` escapes plain text (titles, ids, prompts, outputs);
- ``markdown(value)`` renders card markdown with markdown-it-py, with raw HTML off (``<script>`` comes
  out as text), links limited to http, https and mailto (no ``javascript:``, ``data:``, ``vbscript:``,
  no relative paths that would break on the site), images shown as plain links (no remote pixels) and
  headings pushed below the page's own.

Both return ``markupsafe.Markup``, which the templates (autoescape on) insert as is; any other string a
template prints is escaped by Jinja.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

ALLOWED_SCHEMES = ("http://", "https://", "mailto:")
LINK_REL = "nofollow noopener noreferrer ugc"
HEADING_SHIFT = 2
"""Card markdown '# Heading' becomes <h3>: the page owns <h1> and its <h2> sections."""

_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) or mailto URL, else None (never a script or data URL)."""
    if not url:
        return None
    probe = _CONTROL.sub("", url).lower()
    if not probe.startswith(ALLOWED_SCHEMES):
        return None
    if probe.startswith(("http://", "https://")) and len(probe.split("//", 1)[1]) == 0:
        return None
    return url.strip()


def text(value: Any) -> Markup:
    """Plain text, escaped."""
    return Markup("") if value is None else escape(str(value))


def text_block(value: str | None) -> Markup:
    """Plain multi-line text as escaped paragraphs (blank line = new paragraph, newline = <br>)."""
    if not value:
        return Markup("")
    paras = [p for p in re.split(r"\n\s*\n", value.strip()) if p.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in p.splitlines())) for p in paras
    )


@lru_cache(maxsize=1)
def _renderer():
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable(["image"])  # '![alt](url)' renders as '!' and a plain link: no remote images, no pixels

    def validate_link(url: str) -> bool:
        return safe_url(url) is not None

    md.validateLink = validate_link

    def link_open(self, tokens, idx, options, env):
        token = tokens[idx]
        token.attrSet("rel", LINK_REL)
        token.attrSet("class", "rc-external")
        return self.renderToken(tokens, idx, options, env)

    def heading(self, tokens, idx, options, env):
        token = tokens[idx]
        level = min(6, int(token.tag[1]) + HEADING_SHIFT)
        token.tag = f"h{level}"
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("heading_open", heading)
    md.add_render_rule("heading_close", heading)
    return md


def markdown(value: str | None) -> Markup:
    """Card markdown as HTML: no raw HTML, safe links only, no images. The result is safe to insert."""
    if not value:
        return Markup("")
    return Markup(_renderer().render(value))


def inline_markdown(value: str | None) -> Markup:
    """A single line of card markdown (emphasis, code, links) without the surrounding <p>."""
    if not value:
        return Markup("")
    return Markup(_renderer().renderInline(value))
