"""``sssom``: the crosswalks as SSSOM mapping sets (SSSOM/TSV with the metadata as embedded YAML): one set per
crosswalk file, ``<crosswalk-id>.sssom.tsv``, and one merged set of every crosswalk, ``riskcards.sssom.tsv``.
The download is one zip of them; the site also publishes each file at its ``mapping_set_id``
(``<site>/sssom/<name>``).

Identifiers. A category is the CURIE ``<taxonomy-id>:<code>`` (a placement ref as cards write it); each
taxonomy edition is a prefix of the ``curie_map`` whose expansion is the folder of its category pages on the
site, so the CURIE expands to the category's page with the code's case kept
(``riskcards.ids.taxonomy_iri_prefix``; ``llama-guard-3:S10`` ->
``https://riskcards.github.io/riskcards/taxonomies/llama-guard-3/S10``).

Direction. A crosswalk row reads "source RELATION target", where ``broader`` means the source category covers
more than the target. SKOS says ``A skos:broadMatch B`` when B is the broader concept. So, with the subject
the row's source and the object its target:

=========== ==================== ==============================================================
ours        SSSOM predicate      reads
=========== ==================== ==============================================================
exact       ``skos:exactMatch``  the two categories are the same
broader     ``skos:narrowMatch`` the object is narrower than the subject (the source covers more)
narrower    ``skos:broadMatch``  the object is broader than the subject (the source covers part)
related     ``skos:relatedMatch`` they overlap
=========== ==================== ==============================================================

e.g. ``weidinger-2021:W1.3 broader llama-guard-3:S10`` (toxic language covers hate speech and more) is
``weidinger-2021:W1.3 skos:narrowMatch llama-guard-3:S10``.

Every row is ``semapv:ManualMappingCuration`` (a person judged it); its rationale is the ``comment``. The sets
are published under CC-BY-4.0, the licence of the knowledge base's own text (the crosswalks are RiskCards'
judgement; the category codes and names keep their sources' terms, as the taxonomy files say).
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3

from .. import ids
from .. import query as Q
from . import Rendered, register

PREDICATES = {
    "exact": "skos:exactMatch",
    "broader": "skos:narrowMatch",
    "narrower": "skos:broadMatch",
    "related": "skos:relatedMatch",
}
JUSTIFICATION = "semapv:ManualMappingCuration"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
STANDARD_PREFIXES = {
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "semapv": "https://w3id.org/semapv/vocab/",
}
COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "comment",
)
MERGED = "riskcards.sssom.tsv"
PUBLISH_DIR = "sssom"


def mapping_set_id(name: str) -> str:
    """The set's identifier: the URL at which the site publishes the file."""
    return f"{ids.SITE_URL}{PUBLISH_DIR}/{name}"


def _one_line(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def mapping_rows(rows: list[dict]) -> list[dict]:
    """Crosswalk rows (``query.crosswalk_rows``) as SSSOM mappings."""
    return [
        {
            "subject_id": r["source_ref"],
            "subject_label": _one_line(r["source_name"]),
            "predicate_id": PREDICATES[r["relation"]],
            "object_id": r["target_ref"],
            "object_label": _one_line(r["target_name"]),
            "mapping_justification": JUSTIFICATION,
            "comment": _one_line(r["rationale"]),
        }
        for r in rows
    ]


def mapping_set(metadata: dict, mappings: list[dict]) -> str:
    """SSSOM/TSV text: the metadata as YAML in '#' lines, then a tab-separated table (quoted where a value holds
    a quote, as pandas, which the sssom tools read with, expects)."""
    import yaml

    head = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=100_000, default_flow_style=False)
    buf = io.StringIO()
    buf.write("".join(f"#{line}\n" for line in head.splitlines()))
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(COLUMNS)
    for m in mappings:
        w.writerow([m[c] for c in COLUMNS])
    return buf.getvalue()


def _curie_map(taxonomy_ids) -> dict[str, str]:
    return {**{t: ids.taxonomy_iri_prefix(t) for t in sorted(taxonomy_ids)}, **STANDARD_PREFIXES}


def _tax_name(t: dict) -> str:
    return t["short_name"] or t["name"]


def mapping_sets(conn: sqlite3.Connection) -> dict[str, str]:
    """{file name: SSSOM/TSV text}: one set per crosswalk and the merged set."""
    tax = {t["id"]: t for t in Q.taxonomies(conn)}
    files: dict[str, str] = {}
    merged: list[dict] = []
    used: set[str] = set()
    for cw in Q.crosswalk_list(conn):
        a, b = cw["source_taxonomy"], cw["target_taxonomy"]
        mappings = mapping_rows(Q.crosswalk_rows(conn, cw["id"]))
        merged += mappings
        used |= {a, b}
        name = f"{cw['id']}.sssom.tsv"
        meta = {
            "curie_map": _curie_map({a, b}),
            "mapping_set_id": mapping_set_id(name),
            "mapping_set_title": f"RiskCards crosswalk: {_tax_name(tax[a])} to {_tax_name(tax[b])}",
            "mapping_set_description": _one_line(cw["description"]),
            "license": LICENSE,
            "mapping_provider": ids.SITE_URL,
            "subject_type": "skos concept",
            "object_type": "skos concept",
            "see_also": [f"{ids.SITE_URL}crosswalks/{'--'.join(sorted((a, b)))}/"],
        }
        files[name] = mapping_set(meta, mappings)
    meta = {
        "curie_map": _curie_map(used),
        "mapping_set_id": mapping_set_id(MERGED),
        "mapping_set_title": "RiskCards crosswalks: every crosswalk between harm taxonomies",
        "mapping_set_description": f"The {len(files)} crosswalks of the RiskCards knowledge base in one set: typed "
        "relations between the categories of two harm taxonomies, each judged by a person, with the reason.",
        "license": LICENSE,
        "mapping_provider": ids.SITE_URL,
        "subject_type": "skos concept",
        "object_type": "skos concept",
        "see_also": [f"{ids.SITE_URL}crosswalks/"],
    }
    files[MERGED] = mapping_set(meta, merged)
    return files


@register(
    "sssom",
    help="SSSOM mapping sets of the crosswalks (SSSOM/TSV; one per crosswalk and one merged; needs --out)",
    description="The crosswalks as SSSOM mapping sets (SSSOM/TSV with embedded metadata): one per crosswalk and "
    f"one merged set ({MERGED}); categories as CURIEs that expand to their pages on this site.",
    unit="mapping sets",
    download="riskcards-sssom.zip",
    order=40,
    multi_file=True,
    publish=PUBLISH_DIR,
)
def render(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    if ids is not None or query:
        raise ValueError("the sssom format exports the crosswalks, not cards: give no card filters")
    files = mapping_sets(conn)
    return Rendered(len(files), files=files)
