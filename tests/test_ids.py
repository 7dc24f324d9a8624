"""riskcards/ids.py directly: the id and reference grammar, 'did you mean' hints, versions and SPDX checks."""

from __future__ import annotations

import re

import pytest

from riskcards import ids


@pytest.mark.parametrize("value", ["a", "prompt-injection", "aegis-1.0", "llama-guard-3", "x" * ids.ID_MAX])
def test_ids_that_are_valid(value):
    assert ids.is_id(value)


@pytest.mark.parametrize(
    "value", ["", "A", "has space", "double--hyphen", "-lead", "trail-", "a..b", "dot.", "ü", "x" * (ids.ID_MAX + 1)]
)
def test_ids_that_are_not(value):
    assert not ids.is_id(value)


def test_split_ref_splits_at_the_first_colon_and_refuses_malformed_refs():
    assert ids.split_ref("llama-guard-3:S10") == ("llama-guard-3", "S10")
    assert ids.split_ref("weidinger-2021:W1.3") == ("weidinger-2021", "W1.3")
    for bad in ("no-colon", ":S1", "Llama:S1", "llama-guard-3:", "a:b:c", "a: S1"):
        with pytest.raises(ValueError, match="is not 'taxonomy-id:code'"):
            ids.split_ref(bad)


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Prompt injection via documents", "prompt-injection-via-documents"),
        ("  --Ünïcode & Symbols!!  ", "n-code-symbols"),
        ("!!!", "new-card"),
        ("a" * 100, "a" * ids.ID_MAX),
        ("word " * 30, ("word-" * 16)[: ids.ID_MAX].rstrip("-")),
    ],
)
def test_suggest_id_always_gives_a_valid_id(title, slug):
    assert ids.suggest_id(title) == slug
    assert ids.is_id(ids.suggest_id(title))


def test_closest_is_case_insensitive_and_keeps_the_candidates_spelling():
    assert ids.closest("LLAMA-GUARD-3", ["llama-guard-3", "llama-guard-2"]) == ["llama-guard-3", "llama-guard-2"]
    assert ids.closest("s10", ["S10", "S1", "S11"])[0] == "S10"


def test_closest_finds_shortened_ids_by_prefix_and_by_part():
    pool = ["owasp-llm-top10-2025", "profanity-check", "llama-guard-3"]
    assert ids.closest("owasp", pool) == ["owasp-llm-top10-2025"]
    assert ids.closest("check", pool) == ["profanity-check"]
    assert ids.closest("zz", pool) == []  # too short for the prefix rule, nothing close


def test_closest_with_always_names_the_nearest_even_when_none_is_close():
    assert ids.closest("W99", ["S1", "S2"]) == []
    assert len(ids.closest("W99", ["S1", "S2"], always=True)) == 2


def test_did_you_mean_wording():
    assert ids.did_you_mean("hgih", ["low", "high"]) == " (did you mean 'high'?)"
    assert ids.did_you_mean("x", []) == ""
    two = ids.did_you_mean("llama-guard", ["llama-guard-3", "llama-guard-2"])
    assert two == " (did you mean 'llama-guard-3' or 'llama-guard-2'?)"


def test_semver_sorts_like_versions_and_never_raises():
    versions = ["1.0.0", "0.9.12", "1.10.0", "1.2.0", "10.0.0", "1.0.1"]
    assert sorted(versions, key=ids.semver) == ["0.9.12", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "10.0.0"]
    assert ids.semver("01.0.0") == ids.semver("1.0.0")  # leading zeros compare by value
    assert ids.semver("1.0") == ids.semver("1.0.0")
    assert ids.semver("x.y.z") == ids.semver("0.0.0") == ids.semver(None) == ids.semver("")
    huge = "9" * 5000
    assert ids.semver(f"{huge}.0.0") > ids.semver(f"{'9' * 4999}.0.0") > ids.semver("2.0.0")


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("CC-BY-4.0", None),
        ("MIT OR (Apache-2.0 AND BSD-3-Clause)", None),
        ("(MIT", "opens a parenthesis that is not closed"),
        ("MIT)", "closes a parenthesis that was not opened"),
        (")MIT(", "closes a parenthesis that was not opened"),
    ],
)
def test_spdx_problem(expr, problem):
    assert ids.spdx_problem(expr) == problem


def test_every_pattern_has_a_hint_and_compiles():
    for pattern, hint in ids.PATTERN_HINTS.items():
        re.compile(pattern)
        assert hint
    assert re.match(ids.URL_PATTERN, "HTTPS://example.org/x")
    assert not re.match(ids.URL_PATTERN, "ftp://example.org/x")
    assert re.match(ids.DOI_PATTERN, "10.1145/3531146.3533088")
    assert not re.match(ids.DOI_PATTERN, "https://doi.org/10.1145/3531146.3533088")
    assert re.match(ids.LANG_PATTERN, "pt-BR") and re.match(ids.LANG_PATTERN, "zh-Hant")
    assert not re.match(ids.LANG_PATTERN, "EN")
    assert re.match(ids.MONTH_OR_DATE_PATTERN, "2024-02") and not re.match(ids.DATE_PATTERN, "2024-02")
    assert not re.match(ids.DATE_PATTERN, "2024-13-01")
