"""``avid``: cards as AVID vulnerability records, built with avidtools' own pydantic models
(``avidtools.datamodels.vulnerability.Vulnerability``; ``pip install avidtools``), one JSON file per card,
``vulnerabilities/<card-id>.json``, and ``skipped.json``, which lists every card left out with the reason. The
download is one zip of them.

What a record holds, from the card:

- ``data_type`` ``RiskCards`` (avidtools: "change this only if you're adopting these datamodels to stand up your
  own vulnerability database": these are RiskCards' records, not AVID's) and ``metadata.vuln_id`` the card id;
  no AVID id is invented. ``data_version`` is the card's version;
- ``impact.avid``: the card's placements in the AVID effect (SEP) view (``avid-sep-view``) and lifecycle view
  (``avid-lifecycle-view``) as avidtools' enum values, the risk domains (Security, Ethics, Performance) their
  codes belong to, and as ``taxonomy_version`` the edition of RiskCards' AVID taxonomy files;
- ``problemtype``: class ``Undefined`` (a card is neither an AIID incident, an ATLAS case study, a CVE nor an LLM
  evaluation), type ``Advisory``, the summary; ``description`` the card's description;
- ``affects.artifacts``: the models of the card's observed examples (none for illustrative ones);
- ``references``: the card's page on the site and its references; ``credit``: its contributors;
- ``published_date`` / ``last_modified_date``: the card's ``created`` and newest changelog date.

A card without placements in either AVID view is skipped ("no AVID placement"), as is a deprecated card: nothing
is mapped to AVID that the card does not say.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from typing import Any

from .. import ids
from .. import query as Q
from . import Rendered, register

SEP = "avid-sep-view"
LIFECYCLE = "avid-lifecycle-view"
DOMAINS = {"S": "Security", "E": "Ethics", "P": "Performance"}
LANG = "eng"  # the language code AVID's own records use


def _avidtools():
    try:
        with warnings.catch_warnings():  # avidtools' models are written for pydantic 1 (class-based Config)
            warnings.simplefilter("ignore")
            from avidtools.datamodels import components, enums, vulnerability
    except ImportError:
        raise ValueError("the avid format needs avidtools: pip install avidtools") from None
    return components, enums, vulnerability


def vulnerability(card: dict, taxonomy_version: str):
    """The card as an avidtools ``Vulnerability``, or the reason it has none (a string)."""
    components, enums, vuln = _avidtools()
    if card["status"] == "deprecated":
        return "deprecated" + (f"; superseded by {card['superseded_by']}" if card.get("superseded_by") else "")
    sep_codes = [p["ref"].partition(":")[2] for p in card["placements"] if p["taxonomy"] == SEP]
    life_codes = [p["ref"].partition(":")[2] for p in card["placements"] if p["taxonomy"] == LIFECYCLE]
    if not sep_codes and not life_codes:
        return "no AVID placement (neither avid-sep-view nor avid-lifecycle-view)"
    sep = [enums.SepEnum[c] for c in sep_codes if c in enums.SepEnum.__members__]
    life = [enums.LifecycleEnum[c] for c in life_codes if c in enums.LifecycleEnum.__members__]
    domains = list(dict.fromkeys(DOMAINS[c[0]] for c in sep_codes if c[:1] in DOMAINS))
    models: dict[str, None] = {}
    for ex in card["examples"]:
        prov = ex.get("provenance") or {}
        if prov.get("kind") == "observed" and ex.get("sensitivity") != "unreviewed":
            name = prov.get("model_name") or prov.get("model")
            if name and name != "unknown":
                models[name] = None
    refs = [
        components.Reference(
            type="source", label=f"RiskCards: {card['title']}", url=f"{ids.SITE_URL}cards/{card['id']}/"
        )
    ]
    for r in card["references"]:
        url = r.get("url") or (f"https://doi.org/{r['doi']}" if r.get("doi") else None)
        if url:
            refs.append(components.Reference(type="source", label=r["title"], url=url))
    dates = [card["created"], *(e["date"] for e in card["changelog"])]
    return vuln.Vulnerability(
        data_type="RiskCards",
        data_version=card["version"],
        metadata=vuln.VulnMetadata(vuln_id=card["id"]),
        affects=components.Affects(
            developer=[],
            deployer=[],
            artifacts=[components.Artifact(type=enums.ArtifactTypeEnum.model, name=m) for m in models],
        ),
        problemtype=components.Problemtype(
            classof=enums.ClassEnum.na,
            type=enums.TypeEnum.advisory,
            description=components.LangValue(lang=LANG, value=card["summary"]),
        ),
        references=refs,
        description=components.LangValue(lang=LANG, value=card["description"]),
        reports=[],
        impact=components.Impact(
            avid=components.AvidTaxonomy(
                vuln_id=None,
                risk_domain=domains,
                sep_view=sep,
                lifecycle_view=life,
                taxonomy_version=taxonomy_version,
            )
        ),
        credit=[components.LangValue(lang=LANG, value=who) for who in card.get("contributors") or []],
        published_date=card["created"],
        last_modified_date=max(dates),
    )


def records(conn: sqlite3.Connection, ids_=None) -> tuple[dict[str, Any], list[dict]]:
    """({card id: Vulnerability}, [{card, reason}] for the cards left out)."""
    version = next((t["edition"] for t in Q.taxonomies(conn) if t["id"] == SEP), None) or SEP
    out: dict[str, Any] = {}
    skipped: list[dict] = []
    for card in Q.cards_full(conn, ids_):
        v = vulnerability(card, version)
        if isinstance(v, str):
            skipped.append({"card": card["id"], "reason": v})
        else:
            out[card["id"]] = v
    return out, skipped


@register(
    "avid",
    help="AVID vulnerability records (avidtools' models), one per card with AVID placements; needs --out",
    description="Cards as AVID vulnerability records (JSON by avidtools' own models), one per card placed in the "
    "AVID effect or lifecycle view; skipped.json lists the other cards and why.",
    unit="vulnerability records",
    download="riskcards-avid.zip",
    order=50,
    multi_file=True,
    requires="avidtools",
)
def render(conn: sqlite3.Connection, ids=None, query: dict | None = None) -> Rendered:
    vulns, skipped = records(conn, ids)
    files = {f"vulnerabilities/{cid}.json": v.model_dump_json(indent=2) + "\n" for cid, v in vulns.items()}
    files["skipped.json"] = json.dumps(skipped, indent=2) + "\n"
    return Rendered(len(vulns), files=files)
