"""Id and reference grammar, in one place.

Every id in the knowledge base (cards, taxonomies, scenarios, models, crosswalks, examples) follows
ID_PATTERN: lower-case letters and digits in words joined by single hyphens or dots (dots allow edition
numbers such as ``aegis-1.0``). A placement of a card in a taxonomy is written ``taxonomy-id:code``.
"""

from __future__ import annotations

import difflib
import re

ID_PATTERN = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$"
ID_MAX = 80
ID_HINT = "a lower-case slug of letters and digits joined by '-' (e.g. 'prompt-injection-via-documents')"

CROSSWALK_ID_PATTERN = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*(?:--[a-z0-9]+(?:[.-][a-z0-9]+)*)?$"
CROSSWALK_ID_HINT = "'<source-taxonomy>--<target-taxonomy>' (e.g. 'llama-guard-3--mlcommons-ailuminate-v1.0')"

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]*$"
CODE_HINT = "a category code as the taxonomy writes it (e.g. 'W1.3', 'S10', 'LLM01', 'spc_hlt')"

REF_PATTERN = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*:[A-Za-z0-9][A-Za-z0-9_./-]*$"
REF_HINT = "'taxonomy-id:code' (e.g. 'llama-guard-3:S10' or 'weidinger-2021:W1.3')"

# Stable identifiers of categories. Each taxonomy edition is a CURIE prefix whose expansion is the folder of its
# category pages on the site: 'llama-guard-3:S10' -> <SITE_URL>taxonomies/llama-guard-3/S10 (the page, with the
# code's case kept). A placement ref is such a CURIE already.
SITE_URL = "https://riskcards.github.io/riskcards/"


def taxonomy_iri_prefix(taxonomy_id: str) -> str:
    """The expansion of the CURIE prefix ``taxonomy_id``: the folder of its category pages on the site."""
    return f"{SITE_URL}taxonomies/{taxonomy_id}/"


def category_path(code: str) -> str | None:
    """The path of a category's page below its taxonomy's folder: the code itself, case kept ('S10',
    'self-harm/intent'); None when the code cannot be a path (a segment '.', '..' or 'index', or an empty
    segment), and the site then uses a slug (``riskcards.site.pages.slug``)."""
    parts = code.split("/")
    if any(p in ("", ".", "..", "index") for p in parts):
        return None
    return code


# BCP 47 language tag, the common subset: language, optional script, region, variants.
LANG_PATTERN = r"^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|[0-9]{3}))?(?:-[A-Za-z0-9]{5,8})*$"
LANG_HINT = "a BCP 47 language tag such as 'en', 'de', 'pt-BR' or 'zh-Hant'"

DATE_PATTERN = r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"
DATE_HINT = "a date as YYYY-MM-DD, e.g. '2024-05-01'"

MONTH_OR_DATE_PATTERN = r"^[0-9]{4}-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?$"
MONTH_OR_DATE_HINT = "a date as YYYY-MM-DD, or YYYY-MM when the day is not confirmed, e.g. '2024-02-14'"

SEMVER_PATTERN = r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$"
SEMVER_HINT = "a version MAJOR.MINOR.PATCH such as '1.0.0'"

URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/$.?#][^\s]*$"  # schemes are case-insensitive
URL_HINT = "an absolute http(s) URL such as 'https://arxiv.org/abs/2303.18190'"

DOI_PATTERN = r"^10\.[0-9]{4,9}/\S+$"
DOI_HINT = "a bare DOI such as '10.1145/3531146.3533088' (no 'https://doi.org/' prefix)"

# An SPDX licence expression: identifiers joined by AND, OR or WITH, with parentheses for grouping (a regular
# expression cannot check that they balance; `spdx_problem` does).
SPDX_PATTERN = r"^\(*[A-Za-z0-9.+-]+\)*(?: (?:AND|OR|WITH) \(*[A-Za-z0-9.+-]+\)*)*$"
SPDX_HINT = "an SPDX licence expression such as 'CC-BY-4.0' or 'MIT OR (Apache-2.0 AND BSD-3-Clause)'"

PATTERN_HINTS = {
    ID_PATTERN: ID_HINT,
    CROSSWALK_ID_PATTERN: CROSSWALK_ID_HINT,
    CODE_PATTERN: CODE_HINT,
    REF_PATTERN: REF_HINT,
    LANG_PATTERN: LANG_HINT,
    MONTH_OR_DATE_PATTERN: MONTH_OR_DATE_HINT,
    DATE_PATTERN: DATE_HINT,
    SEMVER_PATTERN: SEMVER_HINT,
    URL_PATTERN: URL_HINT,
    DOI_PATTERN: DOI_HINT,
    SPDX_PATTERN: SPDX_HINT,
}

_ID_RE = re.compile(ID_PATTERN)
_REF_RE = re.compile(REF_PATTERN)


def is_id(value: str) -> bool:
    return len(value) <= ID_MAX and _ID_RE.match(value) is not None


def split_ref(ref: str) -> tuple[str, str]:
    """Split 'taxonomy-id:code' into its two parts. Raises ValueError on a malformed reference."""
    if not _REF_RE.match(ref):
        raise ValueError(f"{ref!r} is not {REF_HINT}")
    taxonomy, code = ref.split(":", 1)
    return taxonomy, code


def suggest_id(text: str) -> str:
    """A slug proposal for a title: 'Prompt injection via documents' -> 'prompt-injection-via-documents'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:ID_MAX].rstrip("-") or "new-card"


def closest(value: str, candidates, n: int = 3, *, always: bool = False) -> list[str]:
    """The nearest valid values, for 'did you mean' hints. Case-insensitive, order preserved. With ``always``
    (category codes, which are short: 'W99'), the nearest ``n`` are named even when none is close."""
    pool = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in pool}
    low = value.lower()
    hits = difflib.get_close_matches(low, list(lowered), n=n, cutoff=0.5)
    if not hits and len(low) >= 3:
        # a shortened id ('owasp' for 'owasp-llm-top10-2025', 'profanity' for 'profanity-check'): the
        # candidates that start with it, then those with a '-', '_', ':' or '.' separated part that does
        hits = [c for c in lowered if c.startswith(low)]
        hits += [c for c in lowered if c not in hits and low in re.split(r"[-_:.]", c)]
        hits = hits[:n]
    if not hits and always:
        hits = difflib.get_close_matches(low, list(lowered), n=n, cutoff=0.0)
    return [lowered[h] for h in hits]


def did_you_mean(value: str, candidates, n: int = 3, *, always: bool = False) -> str:
    hits = closest(value, candidates, n, always=always)
    if not hits:
        return ""
    return " (did you mean " + " or ".join(repr(h) for h in hits) + "?)"


def semver(version: str | None) -> tuple:
    """A MAJOR.MINOR.PATCH version as a tuple that sorts like the versions do. Never raises: parts that are
    not numbers count as 0, and a part of any length compares by its number of digits first (so a
    4,301-digit part is compared without converting it to an int)."""
    out: list = []
    for part in str(version).split(".")[:3]:
        digits = part.lstrip("0") if part.isdigit() else ""
        out.append((len(digits), digits))
    while len(out) < 3:
        out.append((0, ""))
    return tuple(out)


def spdx_problem(expression: str) -> str | None:
    """Why an SPDX expression that matches SPDX_PATTERN is still malformed (unbalanced parentheses), or None."""
    depth = 0
    for ch in expression:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return "closes a parenthesis that was not opened"
    return "opens a parenthesis that is not closed" if depth else None
