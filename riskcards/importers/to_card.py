"""Legacy record -> RiskCards card (plain data) -> YAML text, deterministically.

Mapping decisions (documented here once; the report and README repeat them):

* **Id and aliases.** ``id`` is the kebab form of the legacy file stem (``identify_attacks`` ->
  ``identify-attacks``; never derived from the title). ``aliases`` holds ``lmrc-<id>``, the card's name in
  garak's ``risk-cards:lmrc:<stem>`` tags, so the id stays reserved for it; the exact stem is kept as
  ``import_notes.source_id``. (An alias cannot equal the id, and underscores are not allowed in ids.)
* **The clearly marked place.** ``import_notes`` records the source (format, ``<folder>/<file>``, stem,
  sha256 of the normalised text) and every item that could not be mapped (``unmapped``: field, raw text,
  line, reason). Cards also get the tag ``imported-lm-risk-cards``.
* **Placements.** ``W`` codes -> ``weidinger-2021:<code>``, ``S`` codes -> ``shelby-2023:<code>``, in file
  order, relation left at its default: the legacy format says a card belongs to a category, not how.
* **Harm types.** Canonical vocabulary ids (``vocab/harm-types.yaml``). The vocabulary is open: a category
  the importer does not recognise is kept as written in the harm type's ``unresolved`` field (flagged as a
  problem in the report), so the card still validates; ids the knowledge base's vocabulary does not know
  go to ``unmapped``.
* **Examples.** Every legacy example is model output: ``provenance: {kind: observed, model: unknown,
  source: "lm_risk_cards card '<stem>'"}``; a ``- Model: <name> <date>`` trailer adds ``model_name`` and
  ``date`` (``model`` becomes a model record id only when ``models/`` has a record of that name).
  ``sensitivity: unreviewed``: legacy outputs are real model output that may hold harmful detail, so their
  text stays off the site, the index and the exports until a person reviews each example and sets
  ``full``, ``defanged`` or ``withheld``. A withheld-examples statement becomes one example with
  ``sensitivity: withheld`` and the statement as ``withheld_reason``. Context text goes to each example's
  ``context``. A prompt without output becomes a probe (an example with no ``output``, spec E25, with a
  warning); an output without a prompt cannot be an example and is kept in ``unmapped``.
* **References.** One reference per link (``title`` = link text, or the URL for a bare URL); a link inside
  prose gets the prose as ``note``. A reference without any link cannot be a card reference (which needs
  a URL): it is kept in ``unmapped``.
* **Fields the legacy card lacks.** ``summary`` = first sentence of the description; ``status: draft``;
  ``version: 1.0.0``; ``created`` = a fixed date (default 2023-03-31, the RiskCards paper and starter
  set; never today, so imports are idempotent); ``license: NOASSERTION`` (the legacy cards state no
  licence); example ``language`` from the folder (``cards/en/``), else ``en``. A missing description or
  actions text becomes an explicit "not given" sentence, reported as a problem.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .lm_risk_cards import FIELD_LABELS, LegacyCard

IMPORT_TAG = "imported-lm-risk-cards"
ALIAS_PREFIX = "lmrc-"
DEFAULT_CREATED = "2023-03-31"
LICENSE = "NOASSERTION"
HEADER = "# yaml-language-server: $schema=../schema/card.schema.json\n"
_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|al|approx|Dr|Mr|Mrs|Ms|St|No|Fig)\.|\b[A-Z]\.)$")


def card_id(stem: str) -> str:
    """The card id for a legacy file stem: lower-case kebab (``inciting_self-harm`` -> ``inciting-self-harm``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", unicodedata_fold(stem).lower()).strip("-")
    return slug[:72].rstrip("-") or "legacy-card"


def unicodedata_fold(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def first_sentence(text: str) -> str:
    """The first sentence of a text (for ``summary``), at most 300 characters, on one line."""
    text = " ".join(text.split())
    for m in re.finditer(r"[.!?](?=\s+[A-Z0-9\"'(\[])", text):
        if not _ABBREV.search(text[: m.end()]):
            text = text[: m.end()]
            break
    if len(text) > 300:
        text = text[:297].rsplit(" ", 1)[0].rstrip(",;:") + "..."
    return text


def load_models(root: Path | None) -> dict[str, str]:
    """Model names and ids (lower-cased) -> model record id, from ``root/models/*.yaml``."""
    out: dict[str, str] = {}
    if root is None or not (root / "models").is_dir():
        return out
    from ..load import parse_yaml

    for path in sorted((root / "models").glob("*.y*ml")):
        try:
            data = parse_yaml(path.read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - a broken model file is validate's business, not ours
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            out.setdefault(data["id"].lower(), data["id"])
            if isinstance(data.get("name"), str):
                out.setdefault(" ".join(data["name"].lower().split()), data["id"])
    return out


def load_vocab(root: Path | None) -> tuple[set[str], set[str]] | None:
    """(actor ids, category ids) of ``root/vocab/harm-types.yaml``, or None when there is none."""
    if root is None or not (root / "vocab" / "harm-types.yaml").is_file():
        return None
    from ..load import parse_yaml

    try:
        data = parse_yaml((root / "vocab" / "harm-types.yaml").read_text(encoding="utf-8"))
        return ({t["id"] for t in data["actors"]}, {t["id"] for t in data["categories"]})
    except Exception:  # noqa: BLE001
        return None


def to_card_data(
    card: LegacyCard,
    *,
    lang: str = "en",
    created: str = DEFAULT_CREATED,
    models: dict[str, str] | None = None,
    vocab: tuple[set[str], set[str]] | None = None,
) -> dict[str, Any]:
    """The card as plain data in the Card model's field order. Adds notes to ``card`` for what it cannot map."""
    from ..ids import URL_PATTERN
    from ..validate import url_problem

    models = models or {}
    cid = card_id(card.stem)
    title = card.title or card.stem
    if not card.title:
        card.problem("title_from_stem", card.lines.get("title"), f"no title; used the file stem '{card.stem}'")
    if len(title) > 300:
        card.keep(
            "Title",
            title,
            card.lines.get("title"),
            "title_too_long",
            "the title is longer than 300 characters; shortened, full text kept",
        )
        title = title[:297].rsplit(" ", 1)[0] + "..."
    description = card.description or "The legacy card gives no description."
    actions = card.actions_required or "The legacy card does not say what is required for harm to present."
    data: dict[str, Any] = {
        "id": cid,
        "title": title,
        "summary": first_sentence(description),
        "description": description,
        "actions_required": actions,
    }

    harm = []
    for h in card.harm_types:
        if h.category is None:  # a category the vocabulary lacks: kept as written (flagged in the report)
            harm.append({"actor": h.actor, "unresolved": h.unresolved})
            continue
        if vocab is not None and (h.actor not in vocab[0] or h.category not in vocab[1]):
            card.keep(
                "Harm types",
                h.raw,
                h.line,
                "not_in_vocabulary",
                (
                    f"'{h.raw}' maps to {h.actor}/{h.category}, which the "
                    "knowledge base's vocabulary lacks; kept as unmapped"
                ),
            )
            continue
        harm.append({"actor": h.actor, "category": h.category})
    data["harm_types"] = harm
    if not harm:
        card.problem(
            "card_needs_harm_type",
            card.lines.get("harm_types"),
            "the card has no usable harm type, so it will not validate; add one (actor and category) by hand",
        )
    if card.categorisation:
        data["placements"] = [{"ref": f"{c.scheme}:{c.code}"} for c in card.categorisation]

    examples: list[dict] = []
    source = f"lm_risk_cards card '{card.stem}'"
    for ex in card.examples:
        prov: dict[str, Any] = {"kind": "observed", "model": "unknown"}
        if ex.model:
            known = models.get(" ".join(ex.model.lower().split()))
            if known:
                prov["model"] = known
            else:
                prov["model_name"] = ex.model
        if ex.date:
            prov["date"] = ex.date
        prov["source"] = source
        item: dict[str, Any] = {
            "id": f"example-{len(examples) + 1}",
            "language": lang,
            "provenance": prov,
            "sensitivity": "unreviewed",
            "prompt": ex.prompt,
        }
        if ex.output is not None:
            item["output"] = ex.output
        if card.examples_context:
            item["context"] = card.examples_context
        if ex.note:
            item["note"] = ex.note
        examples.append(item)
    if card.withheld_reason:
        examples.append(
            {
                "id": "withheld",
                "language": lang,
                "provenance": {"kind": "observed", "model": "unknown", "source": source},
                "sensitivity": "withheld",
                **({"context": card.examples_context} if card.examples_context else {}),
                "withheld_reason": card.withheld_reason,
            }
        )
    if examples:
        data["examples"] = examples

    refs = []
    for r in card.references:
        why = url_problem(r.url) if re.match(URL_PATTERN, r.url) else "is not an absolute http(s) URL"
        if why:
            card.keep(
                "References",
                r.raw,
                r.line,
                "invalid_url",
                f"URL '{r.url[:80]}' {why}; the reference is kept as unmapped",
            )
            continue
        ref: dict[str, Any] = {"title": r.title, "url": r.url}
        if r.note:
            ref["note"] = r.note
        refs.append(ref)
    if refs:
        data["references"] = refs

    data["tags"] = [IMPORT_TAG]
    data["status"] = "draft"
    data["version"] = "1.0.0"
    data["created"] = created
    data["aliases"] = [ALIAS_PREFIX + cid]
    data["license"] = LICENSE
    notes: dict[str, Any] = {
        "format": f"lm-risk-cards/{card.format}",
        "source": card.source,
        "source_id": card.stem,
        "sha256": card.sha256,
    }
    unmapped = []
    for u in card.unmapped:
        entry: dict[str, Any] = {"field": u.field, "raw": u.raw}
        if u.line is not None:
            entry["line"] = u.line
        entry["reason"] = u.reason
        unmapped.append(entry)
    if unmapped:
        notes["unmapped"] = unmapped
    data["import_notes"] = notes
    return data


# --------------------------------------------------------------------------------------------------
# YAML text
# --------------------------------------------------------------------------------------------------


_SPECIAL = {"", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "=", "<<"}
_PLAIN_BAD_START = set("-?:,[]{}#&*!|>'\"%@`0123456789+. ")


def _plain_ok(s: str) -> bool:
    """Whether a one-line string reads back as the same string, unquoted, in YAML 1.1 and 1.2 alike."""
    return bool(
        s
        and s[0] not in _PLAIN_BAD_START
        and s[-1] not in " :"
        and s.lower() not in _SPECIAL
        and ": " not in s
        and " #" not in s
        and s.isprintable()
        and "\t" not in s
    )


def _quoted(s: str) -> str:
    import json

    text = json.dumps(s, ensure_ascii=False)
    if not text.isprintable():
        text = "".join(
            c if c.isprintable() else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in text
        )
    return text


def _scalar(value: Any, indent: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    s = str(value)
    if "\n" in s:
        lines = s.split("\n")
        if (
            s == s.strip()
            and all(ln.isprintable() and ln == ln.rstrip() and "\t" not in ln for ln in lines)
            and not lines[0].startswith(" ")
        ):
            pad = " " * indent
            return "|-\n" + "\n".join(pad + ln if ln else "" for ln in lines)
        return _quoted(s)
    return s if _plain_ok(s) else _quoted(s)


def _emit_mapping(data: dict, indent: int, out: list[str], first_prefix: str | None = None) -> None:
    pad = " " * indent
    for k, (key, value) in enumerate(data.items()):
        lead = first_prefix if (k == 0 and first_prefix is not None) else pad
        if isinstance(value, dict):
            out.append(f"{lead}{key}:")
            _emit_mapping(value, indent + 2, out)
        elif isinstance(value, list):
            if not value:
                out.append(f"{lead}{key}: []")
                continue
            out.append(f"{lead}{key}:")
            _emit_sequence(value, indent + 2, out)
        else:
            out.append(f"{lead}{key}: {_scalar(value, indent + 2)}")


def _emit_sequence(items: list, indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, dict):
            _emit_mapping(item, indent + 2, out, first_prefix=pad + "- ")
        else:
            out.append(f"{pad}- {_scalar(item, indent + 2)}")


def dump(data: dict[str, Any]) -> str:
    """YAML text of a card: the Card model's key order, block style, sequences indented under their key,
    literal blocks for multi-line text, conservative quoting, and a schema header. The text is read back
    with the project's YAML 1.2 loader; should a value not survive, PyYAML writes it fully quoted instead."""
    from ..load import parse_yaml

    out: list[str] = []
    _emit_mapping(data, 0, out)
    text = "\n".join(out) + "\n"
    try:
        same = parse_yaml(text) == data
    except Exception:  # noqa: BLE001
        same = False
    if not same:  # pragma: no cover - a safety net; the emitter above is conservative
        import yaml

        text = yaml.dump(
            data, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, width=100, default_style='"'
        )
    return HEADER + text


def check_card(text: str) -> list[str]:
    """Why the produced card text would not pass the schema (empty when it does)."""
    from pydantic import ValidationError

    from ..load import parse_yaml
    from ..models import Card

    try:
        Card.model_validate(parse_yaml(text))
    except ValidationError as exc:
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False)]
    except Exception as exc:  # noqa: BLE001
        return [f"cannot read the produced YAML: {exc}"]
    return []


__all__ = ["card_id", "to_card_data", "dump", "check_card", "load_models", "load_vocab", "FIELD_LABELS"]
