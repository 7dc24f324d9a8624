"""The Atom feed of new and changed cards (feed.xml).

Entries come from dates in the cards themselves (``created``, ``last_reviewed`` and changelog dates), so
the feed is the same for the same knowledge base: no clock and no git history is read. Card text is
untrusted: every value goes through ElementTree, which escapes it, and entry content is plain text.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class FeedEntry:
    id: str
    """The card id."""
    title: str
    url: str
    """Absolute URL of the card page."""
    updated: str
    """YYYY-MM-DD of the newest change."""
    published: str
    """YYYY-MM-DD the card was created."""
    summary: str
    change: str
    """What changed, as plain text ('New card.' or the changelog note)."""
    version: str


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: str) -> str:
    """Text without the control characters XML 1.0 cannot carry (a YAML string can hold them)."""
    return _NOT_XML.sub("\ufffd", value)


def _stamp(day: str) -> str:
    return f"{day}T00:00:00Z"


def atom(
    entries: list[FeedEntry],
    *,
    site_url: str,
    feed_url: str,
    title: str = "RiskCards: new and changed cards",
    limit: int = 50,
) -> str:
    """The feed as an XML string: the ``limit`` most recently changed cards, newest first."""
    ET.register_namespace("", ATOM)
    chosen = sorted(entries, key=lambda e: (e.updated, e.id), reverse=True)[:limit]
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_url
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(chosen[0].updated) if chosen else "1970-01-01T00:00:00Z"
    ET.SubElement(feed, f"{{{ATOM}}}link", href=feed_url, rel="self", type="application/atom+xml")
    ET.SubElement(feed, f"{{{ATOM}}}link", href=site_url, rel="alternate", type="text/html")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "RiskCards contributors"
    ET.SubElement(feed, f"{{{ATOM}}}generator").text = "riskcards"
    for e in chosen:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        # The entry id changes with the version, so readers see a changed card as a new item.
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{e.url}#v{e.version}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = _clean(e.title)
        ET.SubElement(entry, f"{{{ATOM}}}link", href=e.url, rel="alternate", type="text/html")
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _stamp(e.published)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(e.updated)
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = _clean(e.summary)
        ET.SubElement(entry, f"{{{ATOM}}}content", type="text").text = _clean(
            f"{e.change}\n\n{e.summary}\n\nVersion {e.version}."
        )
        ET.SubElement(entry, f"{{{ATOM}}}category", term=e.id)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
