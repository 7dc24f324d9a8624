"""Parse legacy ``lm_risk_cards`` cards (text -> ``LegacyCard``), both generations, from the raw text.

The legacy starter set (leondz/lm_risk_cards, the public companion of the RiskCards paper) comes in two
forms, detected per file (specification: ``legacy-starter-set.md``, edge cases E1-E36):

* ``md-2023``: bold-markdown, ``# Title: Language Model Risk Card`` then ``**Label**: value`` lines and a
  ``**Prompts and output**:`` block whose outputs are the **bold** parts;
* ``yaml-2024``: "YAML-ish" text starting with ``---``. It loads with a YAML loader, but wrongly (nested
  prompt/output lists fuse into one string, ``: `` turns examples into mapping keys, comments vanish), so
  it is **never** given to a YAML loader as a whole. Single scalars (double-quoted, single-quoted, block)
  are decoded with the project's YAML 1.2 parser one at a time, so escapes and folding follow YAML rules.

Everything here is pure: text in, a ``LegacyCard`` out, with every change recorded as a ``Note`` that
carries the line number. Nothing raises on bad input. Decisions (all general rules, no card-specific code):

* Text is normalised first: BOM removed, CRLF/CR -> LF, Unicode NFC, leading tabs expanded (E2).
* Field labels/keys go through one case-insensitive alias table (E4); unknown keys are kept as unmapped.
* Codes: ``W<a>.<r>`` = Weidinger et al. 2021 and ``S<t>.<s>`` = Shelby et al. 2023, checked against the
  valid sets of the convention; placeholders, wildcards and unknown codes are kept as unmapped (E8, E9).
* Harm types: longest-match actor alternation, never a plain split (E10-E13); ``Societal`` is kept
  apart from ``Social`` with a warning; unknown actors/categories are kept as unmapped.
* Examples: prompt = text before the bold, output = the bold text, trailer = the text after it
  (E20); nested lists pair parent and child (E19); ``output:`` keys pair with the preceding prompt (E22).
  Trailers ``- Model: <name> <MM/DD/YYYY>`` become model and ISO date (E26), ``(...)`` a note (E27).
* A literal backslash-n in a *plain* YAML scalar becomes a line break (these were real line breaks in
  md-2023); every other character is kept verbatim (E30). Lines are right-trimmed, outer whitespace
  removed, interior text unchanged (E31).
* A ``#`` comment or bold-less statement in the examples block is a withheld-examples statement when it
  says so (withheld, excluded, omitted, not included, ...), otherwise context for the examples (E23, E25).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

MD = "md-2023"
YAML = "yaml-2024"

# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass
class Note:
    """A normalisation (``kind='normalised'``) or a problem (``kind='problem'``) found while parsing."""

    kind: str
    code: str
    line: int | None
    message: str


@dataclass
class Unmapped:
    """Source text that could not be mapped to a card field; kept verbatim."""

    field: str
    raw: str
    line: int | None
    reason: str


@dataclass
class CodeRef:
    scheme: str  # "weidinger-2021" | "shelby-2023"
    code: str
    raw: str
    line: int | None


@dataclass
class HarmPair:
    actor: str  # vocabulary id
    category: str | None  # vocabulary id; None when the source's category is unknown (see unresolved)
    raw: str
    line: int | None
    unresolved: str | None = None  # the unknown category, as the source wrote it


@dataclass
class LegacyRef:
    title: str
    url: str
    note: str | None
    raw: str
    line: int | None


@dataclass
class LegacyExample:
    prompt: str | None
    output: str | None
    line: int | None
    raw: str = ""
    note: str | None = None
    model: str | None = None
    date: str | None = None


@dataclass
class LegacyCard:
    stem: str
    source: str
    format: str | None
    sha256: str = ""
    title: str | None = None
    description: str | None = None
    actions_required: str | None = None
    categorisation: list[CodeRef] = field(default_factory=list)
    harm_types: list[HarmPair] = field(default_factory=list)
    references: list[LegacyRef] = field(default_factory=list)
    examples: list[LegacyExample] = field(default_factory=list)
    examples_status: str = "none"  # present | withheld | none
    withheld_reason: str | None = None
    examples_context: str | None = None
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    def norm(self, code: str, line: int | None, message: str) -> None:
        self.notes.append(Note("normalised", code, line, message))

    def problem(self, code: str, line: int | None, message: str) -> None:
        self.notes.append(Note("problem", code, line, message))

    def keep(self, fld: str, raw: str, line: int | None, reason: str, message: str) -> None:
        """Keep unmappable text (never silently): an unmapped item plus a problem note."""
        raw = raw.strip()
        if raw:
            self.unmapped.append(Unmapped(fld, raw, line, reason))
        self.problem(reason, line, message)


# --------------------------------------------------------------------------------------------------
# Vocabulary of the legacy format
# --------------------------------------------------------------------------------------------------

FIELD_ALIASES: dict[str, str] = {
    "title": "title",
    "description": "description",
    "categorisation": "categorisation",
    "categorization": "categorisation",
    "categorisations": "categorisation",
    "categorizations": "categorisation",
    "harm types": "harm_types",
    "harm type": "harm_types",
    "harm-types": "harm_types",
    "harmtypes": "harm_types",
    "references": "references",
    "reference(s)": "references",
    "reference": "references",
    "actions required for harm to present": "actions_required",
    "action required for harm to present": "actions_required",
    "actions required": "actions_required",
    "prompts and output": "examples",
    "prompts and outputs": "examples",
    "prompt and output": "examples",
    "prompts & output": "examples",
    "examples": "examples",
}
FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "categorisation": "Categorisation",
    "harm_types": "Harm types",
    "references": "References",
    "actions_required": "Actions required for harm to present",
    "examples": "Prompts and output",
}
FIELDS = list(FIELD_LABELS)

# Valid codes of the starter-set convention (legacy-starter-set.md 4.4; taxonomies/weidinger-2021.yaml and
# taxonomies/shelby-2023.yaml hold the same codes).
W_SIZES = {1: 4, 2: 3, 3: 3, 4: 4, 5: 3, 6: 4}
S_SIZES = {1: 6, 2: 2, 3: 3, 4: 4, 5: 5}
SCHEMES = {"W": ("weidinger-2021", W_SIZES), "S": ("shelby-2023", S_SIZES)}

# Actor spellings (case-insensitive; plurals handled) -> vocabulary id. Longest first when matching.
ACTORS: dict[str, str] = {
    "external groups": "external-group",
    "external group": "external-group",
    "external": "external-group",
    "groups": "external-group",
    "group": "external-group",
    "consumers": "consumer",
    "consumer": "consumer",
    "readers": "reader",
    "reader": "reader",
    "publishers": "publisher",
    "publisher": "publisher",
    "providers": "provider",
    "provider": "provider",
}
ACTOR_NAMES = {
    "external-group": "External group",
    "consumer": "Consumer",
    "reader": "Reader",
    "publisher": "Publisher",
    "provider": "Provider",
}
CATEGORIES: dict[str, str] = {
    "psychological": "psychological",
    "physical": "physical",
    "social": "social",
    "societal": "societal",
    "legal": "legal",
    "representational": "representational",
    "interpersonal": "interpersonal",
    "inter personal": "interpersonal",
    "reputational": "reputational",
    "allocative": "allocative",
    "financial": "financial",
    "quality of service": "quality-of-service",
}
CATEGORY_NAMES = {v: v.replace("-", " ").capitalize() for v in CATEGORIES.values()}
CATEGORY_NAMES["quality-of-service"] = "Quality of service"

PLACEHOLDER_URLS = {"https://aclanthology.org/x00-0000/", "https://aclanthology.org/x00-0000"}
PLACEHOLDER_EXAMPLES = {("here's an input prompt", "and the output"), ("second example input", "second example output")}
PLACEHOLDER_HARM = {"actor-category"}

_WITHHELD_RE = re.compile(
    r"\b(withheld|withhold(?:ing)?|excluded?|exclud(?:ing|es)|omitted|omit(?:ting)?|redacted|removed|"
    r"not\s+(?:been\s+)?(?:included|shown|published|provided|reproduced|shared|given|listed)|"
    r"illegal\s+to\s+(?:publish|share|distribute|show)|deliberately)\b",
    re.IGNORECASE,
)
_MODEL_RE = re.compile(
    r"\s*[-\u2013\u2014]?\s*\bModel\s*:\s*(?P<name>.*?)\s*(?:\(?\s*(?P<date>\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})\s*\)?)?\s*$",
    re.IGNORECASE,
)
_STRAY_RE = re.compile(r"^[\s.,;:!?'\"`)\]*_~-]+$")
_BULLET_RE = re.compile(r"^\s*(?:\*(?!\*)\s*|[-+\u2022]\s+|[-+\u2022]$|\d{1,2}[.)]\s+)")
_TITLE_SUFFIX_RE = re.compile(r"\s*:\s*language\s+model\s+risk\s+card\s*$", re.IGNORECASE)
_MD_LABEL_RE = re.compile(r"^\s*\*\*\s*(?P<label>[^*\n]{1,60}?)\s*(?P<c1>:?)\s*\*\*\s*(?P<c2>:?)[ \t]?(?P<rest>.*)$")
_YAML_KEY_RE = re.compile(r"^(?:\*\*)?(?P<key>[A-Za-z][^:#\n]{0,60}?)\s*(?:\*\*)?\s*:(?:[ \t]+(?P<rest>.*)|[ \t]*$)")
_OUTPUT_KEY_RE = re.compile(r"^outputs?\s*:(?:\s+(?P<rest>.*)|\s*$)", re.IGNORECASE)
_PROMPT_KEY_RE = re.compile(r"^(?:prompt|input)\s*:\s+(?P<rest>.*)$", re.IGNORECASE)
_BLOCK_IND_RE = re.compile(r"^[>|][-+0-9]*\s*(?:#.*)?$")
_NULLS = {"", "~", "null", "Null", "NULL"}


# --------------------------------------------------------------------------------------------------
# Reading and normalising
# --------------------------------------------------------------------------------------------------


def decode(raw: bytes) -> tuple[str | None, list[Note], str | None]:
    """Bytes -> normalised text, the normalisations applied, or an error message (binary, not UTF-8, empty)."""
    notes: list[Note] = []
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        notes.append(Note("normalised", "bom", 1, "removed the UTF-8 byte-order mark"))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, notes, "the file is UTF-16; save it as UTF-8"
    if b"\x00" in raw:
        return None, notes, "binary file (it contains NUL bytes); legacy cards are UTF-8 text"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return None, notes, f"line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8"
    if not text.strip():
        return None, notes, "empty file: no legacy card here"
    return normalise_text(text, notes), notes, None


def normalise_text(text: str, notes: list[Note]) -> str:
    if "\r\n" in text:
        notes.append(Note("normalised", "crlf", None, "converted CRLF line endings to LF"))
        text = text.replace("\r\n", "\n")
    if "\r" in text:
        notes.append(Note("normalised", "cr", None, "converted CR line endings to LF"))
        text = text.replace("\r", "\n")
    nfc = unicodedata.normalize("NFC", text)
    if nfc != text:
        notes.append(Note("normalised", "nfc", None, "normalised Unicode to NFC"))
        text = nfc
    if not text.endswith("\n"):
        notes.append(Note("normalised", "final_newline", None, "the file has no final newline"))
    text = text.rstrip("\n") + "\n"  # exactly one final newline, so the source hash ignores trailing blank lines
    out = []
    for i, line in enumerate(text.split("\n"), 1):
        lead = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:lead]:
            notes.append(
                Note("normalised", "tab_indentation", i, "expanded tabs in the indentation (tab stops every 8 columns)")
            )
            line = line[:lead].expandtabs(8) + line[lead:]
        out.append(line)
    return "\n".join(out)


def detect(text: str) -> str | None:
    """The legacy form of a normalised text (E1): 'md-2023', 'yaml-2024', or None for 'not a legacy card'."""
    lines = text.split("\n")
    first = next((ln.strip() for ln in lines if ln.strip()), "")
    if first == "---":
        return YAML
    if re.match(r"^#+\s", first) and "language model risk card" in first.lower():
        return MD
    for ln in lines:
        m = _MD_LABEL_RE.match(ln)
        if m and (m.group("c1") or m.group("c2")) and _alias(m.group("label")):
            return MD
    for ln in lines:
        m = _YAML_KEY_RE.match(ln)
        if m and _alias(m.group("key")) and not ln.startswith("**"):
            return YAML
    if re.match(r"^#+\s", first):
        return MD
    return None


def _alias(label: str) -> str | None:
    return FIELD_ALIASES.get(re.sub(r"\s+", " ", label.strip().lower()))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------------


def parse(raw: bytes | str, *, stem: str, source: str) -> tuple[LegacyCard | None, list[Note], str | None]:
    """Parse one legacy card. Returns (card, notes from decoding, error). Never raises on bad input:
    an unreadable or unrecognised file gives ``(None, notes, message)``."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    text, notes, error = decode(raw)
    if error:
        return None, notes, error
    assert text is not None
    fmt = detect(text)
    if fmt is None:
        return (
            None,
            notes,
            (
                "not a legacy lm_risk_cards card: no '---' first line, no '# "
                "...: Language Model Risk Card' title and no known field label"
            ),
        )
    card = LegacyCard(stem=stem, source=source, format=fmt, sha256=sha256_text(text))
    card.notes.extend(notes)
    try:
        if fmt == MD:
            _parse_md(card, text)
        else:
            _parse_yaml(card, text)
        _finish(card)
    except Exception as exc:  # pragma: no cover - a parser bug must not become a traceback for the user
        card.problem(
            "internal_error", None, f"the importer failed on this card ({type(exc).__name__}: {exc}); please report it"
        )
    return card, [], None


# --------------------------------------------------------------------------------------------------
# md-2023
# --------------------------------------------------------------------------------------------------


def _parse_md(card: LegacyCard, text: str) -> None:
    lines = text.split("\n")
    sections: dict[str, tuple[int, list[tuple[int, str]]]] = {}
    current: str | None = None
    cur_lines: list[tuple[int, str]] = []
    preamble: list[tuple[int, str]] = []
    start = 0

    def close() -> None:
        if current is None:
            return
        if current in sections:
            raw = "\n".join(t for _, t in cur_lines).strip()
            card.keep(
                FIELD_LABELS.get(current, current),
                raw or "(empty)",
                start,
                "duplicate_key",
                (
                    f"'{FIELD_LABELS.get(current, current)}' appears twice; "
                    "the first is used and this one is kept as unmapped"
                ),
            )
        else:
            sections[current] = (start, list(cur_lines))

    title_seen = False
    for i, line in enumerate(lines, 1):
        m = _MD_LABEL_RE.match(line)
        fld = _alias(m.group("label")) if m and (m.group("c1") or m.group("c2")) else None
        is_title = (
            re.match(r"^#+\s", line) is not None
            and not title_seen
            and ((current is None and not any(t.strip() for _, t in preamble)) or bool(_TITLE_SUFFIX_RE.search(line)))
        )
        if is_title:
            title_seen = True
            close()
            current, cur_lines, start = None, [], i
            sections.setdefault("title", (i, [(i, re.sub(r"^#+\s*", "", line))]))
            continue
        if fld and m:
            close()
            current, start = fld, i
            cur_lines = [(i, m.group("rest"))]
            continue
        words = len(m.group("label").split()) if m else 0
        if m and (
            (m.group("c2") and words <= 4 and not m.group("c1") and line.startswith("**"))
            or ((m.group("c1") or m.group("c2")) and current != "examples" and words <= 6)
        ):
            # An unknown label ('**Label**:' anywhere, other bold-colon forms outside the examples): keep it.
            close()
            current, start = "extra:" + m.group("label").strip(), i
            cur_lines = [(i, m.group("rest"))]
            continue
        if current is None:
            preamble.append((i, line))
        else:
            cur_lines.append((i, line))
    close()
    pre = "\n".join(t for _, t in preamble).strip()
    if pre:
        ln = next(n for n, t in preamble if t.strip())
        card.keep(
            "(before the first field)", pre, ln, "unknown_text", "text before the first field label is kept as unmapped"
        )

    for key, (ln, body) in sections.items():
        if key.startswith("extra:"):
            label = key[6:]
            raw = "\n".join(t for _, t in body).strip()
            card.keep(
                label,
                f"{label}: {raw}" if raw else label,
                ln,
                "unknown_key",
                f"unknown field '{label}' (known: {', '.join(FIELD_LABELS.values())}); kept as unmapped",
            )
            continue
        card.lines[key] = ln
        if key == "examples":
            _examples_from_text(card, body, yaml_plain=False)
            continue
        joined = _join_words(t for _, t in body)
        if key == "title":
            _set_title(card, joined, ln)
        elif key in ("description", "actions_required"):
            _set_text(card, key, joined, ln)
        elif key == "categorisation":
            _parse_codes(card, [(ln, joined)] if joined else [])
        elif key == "harm_types":
            _parse_harm(card, [(ln, joined)] if joined else [])
        elif key == "references":
            _parse_refs(card, [(ln, joined)] if joined else [])


def _join_words(parts) -> str:
    return " ".join(" ".join(parts).split())


# --------------------------------------------------------------------------------------------------
# yaml-2024 (raw text; one scalar at a time through a YAML 1.2 parser)
# --------------------------------------------------------------------------------------------------


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _parse_yaml(card: LegacyCard, text: str) -> None:
    lines = text.split("\n")
    sections: dict[str, tuple[int, str, list[tuple[int, str]]]] = {}
    order: list[tuple[str, int, str, list[tuple[int, str]]]] = []
    current: list | None = None
    stray: list[tuple[int, str]] = []
    seen_doc_start = False
    for i, line in enumerate(lines, 1):
        if line.rstrip() in ("---", "...") and _indent(line) == 0:
            if seen_doc_start or line.rstrip() == "...":
                card.norm(
                    "document_marker",
                    i,
                    f"ignored the YAML document marker '{line.rstrip()}' (the whole file is one card)",
                )
            seen_doc_start = True
            continue
        m = _YAML_KEY_RE.match(line) if line[:1] not in (" ", "-", "#", "") else None
        if m:
            fld = _alias(m.group("key"))
            in_examples = current is not None and current[0] == "examples"
            if fld or not in_examples:
                current = [fld or "extra:" + m.group("key").strip(), i, m.group("rest") or "", []]
                order.append(current)  # type: ignore[arg-type]
                continue
        if current is None:
            if line.strip():
                stray.append((i, line))
            continue
        current[3].append((i, line))
    if stray:
        raw = "\n".join(t for _, t in stray)
        card.keep(
            "(before the first field)",
            raw,
            stray[0][0],
            "unknown_text",
            "text before the first field is kept as unmapped",
        )
    if not seen_doc_start:
        card.norm("document_start", 1, "no '---' first line; read as the 2024 YAML-ish form by its keys")

    for key, ln, rest, body in order:
        if key.startswith("extra:"):
            label = key[6:]
            raw = "\n".join([f"{label}: {rest}".rstrip(), *(t for _, t in body)]).strip()
            card.keep(
                label,
                raw,
                ln,
                "unknown_key",
                f"unknown field '{label}' (known: {', '.join(FIELD_LABELS.values())}); kept as unmapped",
            )
            continue
        if key in sections:
            raw = "\n".join([rest, *(t for _, t in body)]).strip()
            card.keep(
                FIELD_LABELS[key],
                raw or "(empty)",
                ln,
                "duplicate_key",
                (
                    f"'{FIELD_LABELS[key]}' appears twice; the first is used "
                    "and this one is kept as unmapped (never a silent overwrite)"
                ),
            )
            continue
        sections[key] = (ln, rest, body)

    for key, (ln, rest, body) in sections.items():
        card.lines[key] = ln
        if key == "examples":
            _yaml_examples(card, ln, rest, body)
            continue
        items, comments = _yaml_value(card, ln, rest, body, FIELD_LABELS[key])
        for cl, ctext in comments:
            card.keep(
                FIELD_LABELS[key],
                "# " + ctext,
                cl,
                "yaml_comment",
                f"a comment in '{FIELD_LABELS[key]}' is kept as unmapped",
            )
        if key in ("title", "description", "actions_required"):
            texts = [t for _, t in items if t]
            if len(items) > 1:
                card.norm("joined_list", ln, f"'{FIELD_LABELS[key]}' is a list; joined its items with a space")
            joined = _join_words(texts)
            if key == "title":
                _set_title(card, joined, ln)
            else:
                if any("\n" in t.strip() or t != " ".join(t.split()) for t in texts):
                    card.norm("joined_lines", ln, f"joined the lines of '{FIELD_LABELS[key]}' with single spaces")
                _set_text(card, key, joined, ln)
        elif key == "categorisation":
            _parse_codes(card, items)
        elif key == "harm_types":
            _parse_harm(card, items)
        elif key == "references":
            _parse_refs(card, items)


def _yaml_value(card: LegacyCard, ln: int, rest: str, body: list[tuple[int, str]], label: str):
    """A field value as a list of (line, text-or-None) items: a scalar gives one item, a sequence one per item.
    Comments outside scalars are returned separately."""
    comments: list[tuple[int, str]] = []
    rest_s = rest.strip()
    if rest_s.startswith("#"):
        comments.append((ln, rest_s.lstrip("#").strip()))
        rest_s = ""
    if rest_s.startswith("[") and rest_s.endswith("]"):
        inner = rest_s[1:-1]
        return [(ln, t.strip().strip("'\"")) for t in inner.split(",") if t.strip()], comments
    if rest_s:
        if rest_s[:1] not in ('"', "'", ">", "|"):
            # A comment line ends a plain scalar; keep it apart.
            comments.extend((n, t.strip().lstrip("#").strip()) for n, t in body if t.strip().startswith("#"))
            body = [(n, t) for n, t in body if not t.strip().startswith("#")]
        return [(ln, _scalar(card, rest_s, body, ln))], comments
    content = [(n, t) for n, t in body if t.strip()]
    if not content:
        return [(ln, None)], comments
    first = next(((n, t) for n, t in content if not t.strip().startswith("#")), None)
    if first is None:
        comments.extend((n, t.strip().lstrip("#").strip()) for n, t in content)
        return [(ln, None)], comments
    if re.match(r"^\s*-(\s|$)", first[1]):
        dash = _indent(first[1])
        items: list[tuple[int, str | None]] = []
        cur: list | None = None
        for n, t in body:
            if re.match(r"^\s*-(\s|$)", t) and _indent(t) == dash:
                if cur:
                    items.append((cur[0], _scalar(card, cur[1], cur[2], cur[0])))
                cur = [n, t.strip()[1:].strip(), []]
            elif t.strip().startswith("#") and (cur is None or not _opens_quote(cur[1])):
                comments.append((n, t.strip().lstrip("#").strip()))
            elif cur is not None:
                cur[2].append((n, t))
            elif t.strip():
                comments.append((n, t.strip()))
        if cur:
            items.append((cur[0], _scalar(card, cur[1], cur[2], cur[0])))
        return items, comments
    return [(first[0], _scalar(card, "", body, first[0]))], comments


def _opens_quote(s: str) -> bool:
    return s.startswith(('"', "'"))


def _scalar(card: LegacyCard, first: str, cont: list[tuple[int, str]], ln: int) -> str | None:
    """Decode one YAML scalar written as ``first`` (the text after ``key:`` or ``- ``) plus continuation
    lines, following its style: double- or single-quoted, block (``>`` / ``|``) or plain."""
    first = first.strip()
    if first[:1] in ('"', "'"):
        body = [t.strip() for _, t in cont]
        while body and not body[-1]:
            body.pop()
        doc = "v: " + first + "".join("\n  " + t if t else "\n" for t in body)
        try:
            from ..load import parse_yaml

            value = parse_yaml(doc)
            if isinstance(value, dict) and isinstance(value.get("v"), str) and len(value) == 1:
                return value["v"]
        except Exception:  # noqa: BLE001 - any YAML error: fall back to the plain text
            pass
        card.norm(
            "quoted_fallback",
            ln,
            "a quoted value does not end with its closing quote; kept the text as written, quotes included",
        )
    elif _BLOCK_IND_RE.match(first):
        return _block(card, first, cont, ln)
    lines = [first, *(t.strip() for _, t in cont)] if first else [t.strip() for _, t in cont]
    text = _fold_plain(lines)
    if text in _NULLS:
        return None
    if "\\n" in text:
        card.norm("escaped_newline", ln, "converted a literal backslash-n in a plain YAML value to a line break")
        text = text.replace("\\n", "\n")
    return text


def _fold_plain(lines: list[str]) -> str:
    """YAML plain-scalar folding: a single line break becomes a space, each empty line a newline."""
    while lines and not lines[0]:
        lines = lines[1:]
    while lines and not lines[-1]:
        lines = lines[:-1]
    out = ""
    pending_empty = 0
    for i, line in enumerate(lines):
        if not line:
            pending_empty += 1
            continue
        if i and out:
            out += "\n" * pending_empty if pending_empty else " "
        out += line
        pending_empty = 0
    return out


def _block(card: LegacyCard, header: str, cont: list[tuple[int, str]], ln: int) -> str | None:
    body = [t for _, t in cont]
    while body and not body[-1].strip():
        body.pop()
    if not body:
        return None
    ind = header.split("#")[0].strip()
    doc = (
        "v: "
        + ind
        + "\n"
        + "\n".join(" " * max(1, _indent(t)) + t.lstrip(" ") if t.strip() else "" for t in body)
        + "\n"
    )
    try:
        from ..load import parse_yaml

        value = parse_yaml(doc)
        if isinstance(value, dict) and isinstance(value.get("v"), str):
            return value["v"]
    except Exception:  # noqa: BLE001
        pass
    card.norm("block_fallback", ln, "a block value could not be read with YAML rules; kept its lines as written")
    base = min(_indent(t) for t in body if t.strip())
    return "\n".join(t[base:] if t.strip() else "" for t in body)


# --------------------------------------------------------------------------------------------------
# Fields
# --------------------------------------------------------------------------------------------------


def _set_title(card: LegacyCard, text: str, ln: int) -> None:
    if not text:
        return
    stripped = _TITLE_SUFFIX_RE.sub("", text)
    if stripped != text:
        card.norm("title_suffix", ln, "removed ': Language Model Risk Card' from the title")
    card.title = stripped.strip() or None


def _set_text(card: LegacyCard, key: str, text: str, ln: int) -> None:
    if text and text not in _NULLS:
        setattr(card, key, text)


def _parse_codes(card: LegacyCard, items: list[tuple[int, str | None]]) -> None:
    seen: set[str] = set()
    tokens: list[tuple[int, str]] = []
    for ln, text in items:
        if text is None or text.strip() in _NULLS:
            card.problem("empty_categorisation", ln, "an empty Categorisation value")
            continue
        tokens.extend((ln, t) for t in re.split(r"[\s,;]+", text) if t)
    if not tokens and not any(code == "empty_categorisation" for code in (n.code for n in card.notes)):
        card.problem("empty_categorisation", card.lines.get("categorisation"), "the card gives no taxonomy codes")
    for ln, tok in tokens:
        raw = tok
        tok = tok.rstrip(".:")
        m = re.fullmatch(r"([WwSs])(\d+)\.(\d+)", tok)
        if m:
            letter = m.group(1).upper()
            code = f"{letter}{int(m.group(2))}.{int(m.group(3))}"
            scheme, sizes = SCHEMES[letter]
            area, item = int(m.group(2)), int(m.group(3))
            if area == 0 or item == 0:
                card.keep(
                    "Categorisation",
                    raw,
                    ln,
                    "placeholder_code",
                    f"'{raw}' is a template placeholder, not a code; kept as unmapped",
                )
                continue
            if area not in sizes:
                card.keep(
                    "Categorisation",
                    raw,
                    ln,
                    "unknown_code",
                    (
                        f"'{raw}' is not a code of {scheme}: there is no area "
                        f"{letter}{area} ({letter}1-{letter}{max(sizes)}); kept as unmapped"
                    ),
                )
                continue
            if item > sizes[area]:
                card.keep(
                    "Categorisation",
                    raw,
                    ln,
                    "unknown_code",
                    (
                        f"'{raw}' is not a code of {scheme}: {letter}{area} has "
                        f"{letter}{area}.1-{letter}{area}.{sizes[area]}; kept as unmapped"
                    ),
                )
                continue
            if code != raw:
                card.norm("code_spelling", ln, f"code '{raw}' read as '{code}'")
            if code in seen:
                card.norm("duplicate_code", ln, f"code '{code}' repeats; kept once")
                continue
            seen.add(code)
            card.categorisation.append(CodeRef(scheme, code, raw, ln))
        elif re.fullmatch(r"[WwSs]\d+\.(?:[xX*?]|\.\.\.)", tok):
            card.keep(
                "Categorisation",
                raw,
                ln,
                "wildcard_code",
                f"'{raw}' names no single code (a wildcard for some sub-type of {tok[:2].upper()}); kept as unmapped",
            )
        elif tok in _NULLS:
            card.problem("empty_categorisation", ln, "an empty Categorisation value")
        else:
            card.keep(
                "Categorisation",
                raw,
                ln,
                "unknown_code",
                f"'{raw}' is not a W (Weidinger 2021) or S (Shelby 2023) code; kept as unmapped",
            )


_ACTOR_ALT = "|".join(re.escape(a) for a in sorted(ACTORS, key=len, reverse=True))
_PAIR_RE = re.compile(rf"(?<![A-Za-z])(?P<actor>{_ACTOR_ALT})\s*-\s*", re.IGNORECASE)


def _category_id(raw: str) -> str | None:
    key = re.sub(r"[\s_-]+", " ", raw.strip().lower())
    if key in CATEGORIES:
        return CATEGORIES[key]
    if key.endswith("s") and key[:-1] in CATEGORIES:
        return CATEGORIES[key[:-1]]
    if re.fullmatch(r"(?:inter|intra)\s*(?:or|and|/)?\s*(?:inter|intra)?\s*personal", key):
        return "interpersonal"
    return None


def _parse_harm(card: LegacyCard, items: list[tuple[int, str | None]]) -> None:
    seen: set[tuple[str, str]] = set()
    for ln, text in items:
        if text is None or not text.strip():
            continue
        if text.strip().lower() in PLACEHOLDER_HARM:
            card.keep(
                "Harm types",
                text,
                ln,
                "template_placeholder",
                f"'{text.strip()}' is the template's placeholder; kept as unmapped",
            )
            continue
        matches = list(_PAIR_RE.finditer(text))
        pos = 0
        for k, m in enumerate(matches):
            _harm_noise(card, text[pos : m.start()], ln, leading=(k == 0))
            end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
            chunk = text[m.end() : end]
            cat_raw = chunk.strip()
            trail = re.search(r"(?:[\s,;.&]|\band\b)+$", cat_raw)
            noise_tail = ""
            if trail:
                noise_tail, cat_raw = cat_raw[trail.start() :], cat_raw[: trail.start()]
            raw = text[m.start() : m.end()] + cat_raw
            actor_raw = m.group("actor")
            actor = ACTORS[actor_raw.lower()]
            cat = _category_id(cat_raw)
            if not cat_raw:
                card.keep(
                    "Harm types",
                    raw,
                    ln,
                    "unknown_category",
                    f"harm type '{raw.strip()}' has no category; kept as unmapped",
                )
            elif cat is None:
                # the vocabulary is open: keep the category as written, flagged, and the card stays valid
                card.problem(
                    "unknown_category",
                    ln,
                    f"unknown harm category '{cat_raw}' in '{raw.strip()}' (known: "
                    f"{', '.join(sorted(set(CATEGORIES.values())))}); kept as written in 'unresolved'",
                )
                if (actor, "?" + cat_raw) not in seen:
                    seen.add((actor, "?" + cat_raw))
                    card.harm_types.append(HarmPair(actor, None, raw.strip(), ln, unresolved=cat_raw))
            else:
                if actor_raw != ACTOR_NAMES[actor]:
                    card.norm(
                        "actor_spelling",
                        ln,
                        f"actor '{actor_raw}' in '{raw.strip()}' read as '{ACTOR_NAMES[actor]}' ({actor})",
                    )
                if cat_raw != CATEGORY_NAMES[cat]:
                    card.norm(
                        "category_spelling",
                        ln,
                        f"category '{cat_raw}' in '{raw.strip()}' read as '{CATEGORY_NAMES[cat]}' ({cat})",
                    )
                if cat == "societal":
                    card.problem(
                        "synonym_category",
                        ln,
                        (
                            f"'{raw.strip()}': category 'Societal' is kept "
                            "apart from 'Social' (probably a synonym); check it"
                        ),
                    )
                if (actor, cat) in seen:
                    card.norm("duplicate_harm_type", ln, f"harm type '{raw.strip()}' repeats; kept once")
                else:
                    seen.add((actor, cat))
                    card.harm_types.append(HarmPair(actor, cat, raw.strip(), ln))
            if noise_tail.strip(" "):
                _harm_noise(card, noise_tail, ln, leading=False, tail=True, last=(k + 1 == len(matches)))
            pos = end
        if not matches:
            _harm_noise(card, text, ln, leading=True)


def _harm_noise(
    card: LegacyCard, noise: str, ln: int, *, leading: bool, tail: bool = False, last: bool = False
) -> None:
    s = noise.strip()
    if not s:
        return
    if re.fullmatch(r"[\s,;.&]+|and", s, re.IGNORECASE):
        if tail and not last and s.lower() in (",", ";", "&", "and", ", and"):
            return  # an ordinary separator between pairs
        if not leading and not tail and s in (",", ";", "&", "and"):
            return
        card.problem("harm_types_noise", ln, f"dropped stray '{s}' in Harm types")
        return
    s = s.strip(" ,;")
    if s.lower() in PLACEHOLDER_HARM:
        card.keep("Harm types", s, ln, "template_placeholder", f"'{s}' is the template's placeholder; kept as unmapped")
        return
    if re.fullmatch(r"[A-Za-z][A-Za-z ]*-\s*[A-Za-z][A-Za-z -]*", s):
        card.keep(
            "Harm types",
            s,
            ln,
            "unknown_actor",
            f"unknown actor in '{s}' (known: {', '.join(ACTOR_NAMES.values())}); kept as unmapped",
        )
    else:
        card.keep(
            "Harm types",
            s,
            ln,
            "harm_types_noise",
            f"text '{s}' in Harm types is not an Actor-Category pair; kept as unmapped",
        )


# References ---------------------------------------------------------------------------------------

_URL_CHARS = r"[^\s()<>\[\]]+(?:\([^\s()<>]*\)[^\s()<>\[\]]*)*"
_LINK_RE = re.compile(
    r"\[(?P<text>[^\[\]]*)\]\((?P<dbl>\()?\s*(?P<url>[^()\s][^()]*?(?:\([^()]*\)[^()]*?)*)\s*(?(dbl)\))\)"
    r"|\((?P<rtext>[^()\[\]]+)\)\[(?P<rurl>https?://[^\]\s]+)\]"
    r"|\[(?P<burl>https?://[^\]\s]+)\](?!\()"
    rf"|(?P<bare>https?://{_URL_CHARS})"
)


def _parse_refs(card: LegacyCard, items: list[tuple[int, str | None]]) -> None:
    for ln, text in items:
        if text is None or not text.strip():
            continue
        _parse_ref_item(card, text.strip(), ln)
    if (
        not card.references
        and not any(u.field == "References" for u in card.unmapped)
        and not any(n.code == "placeholder_reference" for n in card.notes)
    ):
        card.problem("no_references", card.lines.get("references"), "the card gives no references")


def _parse_ref_item(card: LegacyCard, text: str, ln: int) -> None:
    links: list[tuple[str | None, str]] = []
    leftover = []
    pos = 0
    for m in _LINK_RE.finditer(text):
        leftover.append(text[pos : m.start()])
        pos = m.end()
        if m.group("url") is not None:
            url, title = m.group("url"), m.group("text").strip()
            if m.group("dbl"):
                card.problem(
                    "malformed_link",
                    ln,
                    f"link '[{title}]' has doubled parentheses around its URL; removed the extra pair",
                )
        elif m.group("rurl"):
            url, title = m.group("rurl"), m.group("rtext").strip()
            card.problem("malformed_link", ln, f"link '({title})[...]' is written the wrong way round; read as a link")
        elif m.group("burl"):
            url, title = m.group("burl"), None
        else:
            url, title = m.group("bare"), None
            stripped = url.rstrip(".,;:'\"")
            if stripped.endswith(")") and stripped.count("(") < stripped.count(")"):
                stripped = stripped[:-1]
            if stripped != url:
                leftover.append(url[len(stripped) :])
                card.problem(
                    "malformed_link", ln, f"removed '{url[len(stripped) :]}' from the end of the URL {stripped[:60]}"
                )
                url = stripped
        if re.search(r"\s", url):
            card.problem("malformed_link", ln, "a link URL is broken across lines; removed the whitespace inside it")
            url = re.sub(r"\s+", "", url)
        links.append((title or None, url))
    leftover.append(text[pos:])
    rest = "".join(leftover)
    if re.search(r"[\[\]]", rest):
        card.problem(
            "malformed_link",
            ln,
            "unbalanced '[' or ']' around a link in References; the link was read, the text kept as a note",
        )
    real = [
        (t, u)
        for t, u in links
        if u.lower().rstrip("/") + "/" not in PLACEHOLDER_URLS and u.lower() not in PLACEHOLDER_URLS
    ]
    if len(real) < len(links):
        card.problem(
            "placeholder_reference", ln, "dropped the template's placeholder URL https://aclanthology.org/X00-0000/"
        )
    prose = re.sub(r"[\s,;.\"'\[\]]+", "", rest) != ""
    if not links:
        card.keep(
            "References",
            text,
            ln,
            "reference_without_link",
            "a reference with no link is kept as unmapped (a card reference needs a URL)",
        )
        return
    note = " ".join(text.split()) if prose else None
    for title, url in real:
        card.references.append(LegacyRef(title=title or url, url=url, note=note, raw=text, line=ln))


# --------------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------------


@dataclass
class _Cand:
    line: int
    bullet: bool
    prompt: str = ""
    output: str | None = None
    trailer: str = ""
    closed: bool = False
    raw: list[str] = field(default_factory=list)
    unbalanced: bool = False
    comment: bool = False


def _clean(text: str | None) -> str | None:
    """E31: right-trim every line, drop outer whitespace, keep the interior verbatim."""
    if text is None:
        return None
    out = "\n".join(ln.rstrip() for ln in text.split("\n")).strip()
    return out or None


def _scan_bold(lines: list[tuple[int, str]]) -> list[_Cand]:
    """Split bold-inline text (md-2023 and yaml-2024 'BI') into candidate examples (E20)."""
    cands: list[_Cand] = []
    cur: _Cand | None = None
    inside = False
    prev_blank = False
    for ln, line in lines:
        if cur is not None and (inside or line.strip()):
            cur.raw.append(line)
        if not inside:
            if not line.strip():
                prev_blank = True
                continue
            text = line
            m = _BULLET_RE.match(text)
            bullet = bool(m)
            if m:
                text = text[m.end() :]
            starts_bold = text.lstrip().startswith("**")
            if cur is not None and cur.output is None and not bullet and (starts_bold or not prev_blank):
                if not starts_bold:
                    cur.prompt += "\n"
            else:
                cur = _Cand(line=ln, bullet=bullet, raw=[line])
                cands.append(cur)
            prev_blank = False
        else:
            text = line
        assert cur is not None
        pos = 0
        while True:
            i = text.find("**", pos)
            if i < 0:
                chunk = text[pos:]
                if inside:
                    cur.output = (cur.output or "") + chunk + "\n"
                elif cur.closed:
                    cur.trailer += chunk
                else:
                    cur.prompt += chunk
                break
            chunk = text[pos:i]
            if inside:
                cur.output = (cur.output or "") + chunk
                inside = False
                cur.closed = True
            else:
                if cur.closed:
                    # A second bold span for the same example: its output continues.
                    cur.output = (cur.output or "") + cur.trailer + chunk
                    cur.trailer = ""
                    cur.closed = False
                else:
                    cur.prompt += chunk
                    cur.output = cur.output or ""
                inside = True
            pos = i + 2
    if inside and cur is not None:
        cur.unbalanced = True
    return cands


def _trailer(card: LegacyCard, ex: LegacyExample, trailer: str, ln: int) -> None:
    t = trailer.strip()
    if not t:
        return
    m = _MODEL_RE.search(t)
    if m and m.group("name"):
        _set_model(card, ex, m.group("name"), m.group("date"), ln)
        t = t[: m.start()].strip()
        if not t:
            return
    pm = re.fullmatch(r"\((?P<note>.*)\)\s*[.,;]?", t, re.DOTALL)
    if pm:
        ex.note = pm.group("note").strip() or None
        card.norm("parenthetical_note", ln, "kept the parenthetical text after the output as the example's note")
    elif _STRAY_RE.match(t):
        card.problem("stray_text", ln, f"dropped stray '{t}' after the bold output")
    else:
        ex.note = t
        card.problem("trailer_text", ln, f"text after the bold output ('{t[:60]}') is kept as the example's note")


def _set_model(card: LegacyCard, ex: LegacyExample, name: str, date: str | None, ln: int) -> None:
    ex.model = " ".join(name.split()) or None
    if date:
        iso = _iso_date(date)
        if iso:
            ex.date = iso
            card.norm(
                "model_trailer", ln, f"trailer read as model '{ex.model}', date {iso} (from '{date}', month/day/year)"
            )
        else:
            card.keep(
                "Prompts and output",
                f"Model: {name} {date}",
                ln,
                "invalid_date",
                f"'{date}' in a model trailer is not a real date; kept as unmapped",
            )
    else:
        card.norm("model_trailer", ln, f"trailer read as model '{ex.model}' (no date)")


def _iso_date(s: str) -> str | None:
    try:
        if "/" in s:
            mm, dd, yyyy = (int(x) for x in s.split("/"))
            return _dt.date(yyyy, mm, dd).isoformat()
        return _dt.date.fromisoformat(s).isoformat()
    except ValueError:
        return None


def _strip_model_suffix(card: LegacyCard, ex: LegacyExample, text: str | None, ln: int) -> str | None:
    """A ' - Model: <name> <date>' trailer at the end of an unbolded output (list forms)."""
    if not text:
        return text
    m = re.search(
        r"\s[-\u2013\u2014]\s*Model\s*:\s*(?P<name>[^\n]*?)\s+(?P<date>\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})\s*$",
        text,
    )
    if m:
        _set_model(card, ex, m.group("name"), m.group("date"), ln)
        return text[: m.start()]
    return text


def _unbold(card: LegacyCard, text: str | None, ln: int) -> str | None:
    """E29: strip one balanced outer '**' pair from a list-item output; drop an unmatched one at either end."""
    if text is None:
        return None
    s = text.strip()
    n = s.count("**")
    if s.startswith("**") and s.endswith("**") and len(s) >= 4 and n == 2:
        card.norm("outer_bold", ln, "removed the bold markers around an output")
        return s[2:-2]
    if n % 2 == 1 and s.endswith("**"):
        card.problem("unbalanced_bold", ln, "dropped an unmatched '**' at the end of an output")
        return s[:-2]
    if n % 2 == 1 and s.startswith("**"):
        card.problem("unbalanced_bold", ln, "dropped an unmatched '**' at the start of an output")
        return s[2:]
    return text


def _add_example(
    card: LegacyCard,
    prompt: str | None,
    output: str | None,
    ln: int,
    raw: str,
    model: tuple | None = None,
    trailer: str = "",
) -> LegacyExample | None:
    ex = LegacyExample(prompt=_clean(prompt), output=None, line=ln, raw=raw.strip())
    out = _strip_model_suffix(card, ex, output, ln) if not trailer else output
    ex.output = _clean(out)
    if trailer:
        _trailer(card, ex, trailer, ln)
    key = (" ".join((ex.prompt or "").lower().split()), " ".join((ex.output or "").lower().split()))
    if key in PLACEHOLDER_EXAMPLES:
        card.problem("template_placeholder", ln, "dropped the template's placeholder example")
        return None
    if ex.output and re.search(r"^\s*Title: ", ex.output, re.MULTILINE) and card.format == YAML:
        card.problem(
            "possible_conversion_artefact",
            ln,
            (
                "'Title:' lines inside an output are probably '# ' lines "
                "rewritten by the 2023->2024 conversion; kept verbatim"
            ),
        )
    card.examples.append(ex)
    return ex


def _probe(card: LegacyCard, prompt: str, ln: int, raw: str) -> None:
    """E25: a prompt with no output becomes an example with no output (a probe), with a warning."""
    if _add_example(card, prompt, None, ln, raw) is not None:
        card.problem(
            "example_without_output",
            ln,
            "a prompt with no output: imported as a probe (an example with 'prompt' and no 'output'); add the "
            "output if the source recorded one",
        )


def _examples_from_text(
    card: LegacyCard, lines: list[tuple[int, str]], *, yaml_plain: bool, comments: list[tuple[int, str]] | None = None
) -> None:
    """md-2023 examples block, or the bold-inline lines of a yaml-2024 block."""
    if yaml_plain:
        conv = []
        for ln, t in lines:
            if "\\n" in t:
                card.norm(
                    "escaped_newline", ln, "converted a literal backslash-n in a plain YAML value to a line break"
                )
                t = t.replace("\\n", "\n")
            conv.append((ln, t))
        lines = conv
    cands = _scan_bold(lines)
    have_output = [c for c in cands if c.output is not None]
    statements: list[tuple[int, str]] = []
    first_out = next((k for k, c in enumerate(cands) if c.output is not None), len(cands))
    for k, c in enumerate(cands):
        raw = "\n".join(c.raw)
        if c.output is None:
            text = " ".join(c.prompt.split())
            if _WITHHELD_RE.search(text) or (not c.bullet and (k < first_out and have_output or not have_output)):
                statements.append((c.line, text))
                continue
            _probe(card, text, c.line, raw)
            continue
        if c.unbalanced:
            card.problem(
                "unbalanced_bold",
                c.line,
                "the bold output that starts here is never closed; it runs to the end of the examples",
            )
        prompt = c.prompt
        if not prompt.strip():
            card.keep(
                "Prompts and output",
                (c.output or "").strip() or raw,
                c.line,
                "example_without_prompt",
                "an output with no prompt is kept as unmapped",
            )
            continue
        _add_example(card, prompt, c.output, c.line, raw, trailer=c.trailer)
    _statements(card, statements + list(comments or []))


def _statements(card: LegacyCard, statements: list[tuple[int, str]]) -> None:
    """Withheld-example statements and context sentences/comments of the examples block (E23, E25)."""
    context = []
    for ln, text in sorted(statements):
        if not text:
            continue
        if _WITHHELD_RE.search(text):
            card.withheld_reason = f"{card.withheld_reason} {text}" if card.withheld_reason else text
            card.norm(
                "withheld_statement",
                ln,
                "kept the statement that examples are withheld as a withheld example with its reason",
            )
        else:
            context.append((ln, text))
    if context:
        card.examples_context = " ".join(t for _, t in context)
        if card.examples:
            card.norm("examples_context", context[0][0], "kept the text before the examples as each example's context")
        else:
            card.keep(
                "Prompts and output",
                card.examples_context,
                context[0][0],
                "context_without_examples",
                "a context statement with no examples is kept as unmapped",
            )


# yaml-2024 examples -------------------------------------------------------------------------------


@dataclass
class _Node:
    indent: int
    line: int
    first: str
    cont: list[tuple[int, str]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    block: bool = False
    raw: list[str] = field(default_factory=list)


def _yaml_examples(card: LegacyCard, ln: int, rest: str, body: list[tuple[int, str]]) -> None:
    comments: list[tuple[int, str]] = []
    rest = rest.strip()
    top: list = []  # _Node or list of (line, text) runs
    if _BLOCK_IND_RE.match(rest):
        card.norm("examples_block", ln, f"read the examples after '{rest}' as raw text")
        rest = ""
    if rest.startswith("#"):
        comments.append((ln, rest.lstrip("#").strip()))
    elif rest:
        top.append([(ln, rest)])
    stack: list[_Node] = []
    block_owner: _Node | None = None
    for n, line in body:
        if block_owner is not None:
            if not line.strip() or _indent(line) > block_owner.indent:
                block_owner.cont.append((n, line))
                block_owner.raw.append(line)
                continue
            block_owner = None
        if not line.strip():
            if stack:
                stack[-1].cont.append((n, ""))
            elif top and isinstance(top[-1], list):
                top[-1].append((n, ""))
            continue
        ind = _indent(line)
        content = line.strip()
        if content.startswith("#"):
            comments.append((n, content.lstrip("#").strip()))
            continue
        m = re.match(r"^-(?:\s+(.*)|$)", content)
        if m:
            while stack and stack[-1].indent >= ind:
                stack.pop()
            node = _Node(indent=ind, line=n, first=(m.group(1) or "").strip(), raw=[line])
            om = _OUTPUT_KEY_RE.match(node.first)
            if (
                om
                and _BLOCK_IND_RE.match((om.group("rest") or "").strip() or "-")
                and (om.group("rest") or "").strip()[:1] in (">", "|")
            ):
                node.block = True
                block_owner = node
            if stack:
                stack[-1].children.append(node)
            else:
                top.append(node)
            stack.append(node)
            continue
        while stack and stack[-1].indent >= ind:
            stack.pop()
        if stack:
            stack[-1].cont.append((n, line))
            stack[-1].raw.append(line)
        elif top and isinstance(top[-1], list):
            top[-1].append((n, line))
        else:
            top.append([(n, line)])

    pending: LegacyExample | None = None
    pending_prompt: tuple[str, int, str] | None = None

    def flush_pending() -> None:
        nonlocal pending_prompt
        if pending_prompt is not None:
            text, pl, raw = pending_prompt
            _probe(card, text, pl, raw)
            pending_prompt = None

    for item in top:
        if isinstance(item, list):
            flush_pending()
            _examples_from_text(card, item, yaml_plain=True)
            continue
        node = item
        om = _OUTPUT_KEY_RE.match(node.first)
        if om:
            out = _output_value(card, node, om.group("rest") or "")
            if pending_prompt is None:
                card.keep(
                    "Prompts and output",
                    out or node.first,
                    node.line,
                    "example_without_prompt",
                    "an output with no prompt is kept as unmapped",
                )
                continue
            text, pl, raw = pending_prompt
            pending_prompt = None
            _add_example(card, text, out, pl, raw + "\n" + "\n".join(node.raw))
            continue
        flush_pending()
        first = node.first
        pm = _PROMPT_KEY_RE.match(first)
        if pm:
            first = pm.group("rest")
        cont, inline_out = _split_output_cont(node.cont)
        prompt = _scalar(card, first, cont, node.line)
        raw = "\n".join(node.raw)
        out_children = [c for c in node.children if _OUTPUT_KEY_RE.match(c.first)]
        plain_children = [c for c in node.children if not _OUTPUT_KEY_RE.match(c.first)]
        outputs: list[str | None] = []
        if inline_out is not None:
            outputs.append(_scalar(card, inline_out[1], inline_out[2], inline_out[0]))
        for c in out_children:
            key = _OUTPUT_KEY_RE.match(c.first)
            outputs.append(_output_value(card, c, (key.group("rest") if key else "") or ""))
        for c in plain_children:
            outputs.append(_unbold(card, _node_text(card, c), c.line))
        if not outputs and prompt and "**" in prompt:
            _examples_from_text(card, [(node.line, prompt)], yaml_plain=False)
            continue
        if not outputs:
            if prompt is None:
                continue
            pending_prompt = (prompt, node.line, raw)
            continue
        texts = [o for o in outputs if o]
        if len(texts) > 1:
            card.problem(
                "multiple_texts", node.line, f"{len(texts)} texts for one prompt; joined them with blank lines"
            )
        if prompt is None:
            card.keep(
                "Prompts and output",
                "\n\n".join(texts),
                node.line,
                "example_without_prompt",
                "an output with no prompt is kept as unmapped",
            )
            continue
        if not texts:
            pending_prompt = (prompt, node.line, raw)
            continue
        _add_example(card, prompt, "\n\n".join(texts), node.line, raw)
    flush_pending()
    del pending
    _statements(card, comments)


def _split_output_cont(cont: list[tuple[int, str]]):
    """A prompt item's continuation lines may hold an ``output:`` key (mapping-style items)."""
    for k, (n, t) in enumerate(cont):
        m = _OUTPUT_KEY_RE.match(t.strip())
        if m:
            return cont[:k], (n, m.group("rest") or "", cont[k + 1 :])
    return cont, None


def _node_text(card: LegacyCard, node: _Node) -> str | None:
    text = _scalar(card, node.first, node.cont, node.line)
    for c in node.children:
        sub = _node_text(card, c)
        if sub:
            text = f"{text}\n{sub}" if text else sub
    return text


def _output_value(card: LegacyCard, node: _Node, rest: str) -> str | None:
    rest = rest.strip()
    if rest:
        return _unbold(card, _scalar(card, rest, node.cont, node.line), node.line)
    if node.children:
        found = [_unbold(card, _node_text(card, c), c.line) for c in node.children]
        texts = [t for t in found if t]
        if len(texts) > 1:
            card.problem(
                "multiple_outputs", node.line, f"an output list with {len(texts)} items; joined them with blank lines"
            )
        elif texts:
            card.norm("output_list", node.line, "read a one-item output list as the output text")
        return "\n\n".join(texts) or None
    return _unbold(card, _scalar(card, "", node.cont, node.line), node.line)


# --------------------------------------------------------------------------------------------------
# After parsing
# --------------------------------------------------------------------------------------------------


def _finish(card: LegacyCard) -> None:
    for key in FIELDS:
        if key not in card.lines:
            card.problem(f"missing_field:{key}", None, f"the card has no '{FIELD_LABELS[key]}' field")
    for key in ("title", "description", "actions_required"):
        if key in card.lines and getattr(card, key) is None:
            card.problem(f"empty_field:{key}", card.lines[key], f"'{FIELD_LABELS[key]}' is empty")
    if "harm_types" in card.lines and not card.harm_types:
        card.problem(
            "no_harm_types",
            card.lines["harm_types"],
            "no harm type could be read; the card needs at least one (Actor-Category)",
        )
    if card.examples:
        card.examples_status = "present"
    if card.withheld_reason:
        card.examples_status = "withheld" if not card.examples else "present"
    if not card.examples and not card.withheld_reason:
        card.examples_status = "none"
        if "examples" in card.lines:
            card.problem("no_examples", card.lines["examples"], "the card has no examples and gives no reason")
