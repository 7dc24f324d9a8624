"""The taxonomy data files: they validate, their structure is sound, they match the reference lists
exactly (when ../shared/reference is present), and their descriptions are our own words."""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from riskcards.load import parse_yaml
from riskcards.models import Taxonomy
from riskcards.validate import validate

REPO = Path(__file__).resolve().parents[1]
TAXONOMIES = REPO / "taxonomies"
# ../shared/reference/taxonomies next to the repository; RISKCARDS_REFERENCE_TAXONOMIES points elsewhere (a worktree).
REFERENCE = Path(
    os.environ.get(
        "RISKCARDS_REFERENCE_TAXONOMIES", Path(__file__).resolve().parents[2] / "shared" / "reference" / "taxonomies"
    )
)

# Counts per level, from the reference README (and the papers: AIR 2024's risk_mapping.json has 312
# level-4 categories, the papers say 314).
EXPECTED_COUNTS: dict[str, dict[int, int]] = {
    "aegis-1.0": {1: 13},
    "aegis-2.0": {1: 23},
    "air-2024": {1: 4, 2: 16, 3: 45, 4: 312},
    "avid-lifecycle-view": {1: 6},
    "avid-sep-view": {1: 3, 2: 14, 3: 34},
    "llama-guard-1": {1: 6},
    "llama-guard-2": {1: 11},
    "llama-guard-3": {1: 14},
    "llama-guard-4": {1: 14},
    "mit-ai-risk-causal-taxonomy": {1: 3, 2: 9},
    "mit-ai-risk-domain-taxonomy": {1: 7, 2: 24},
    "mlcommons-ai-safety-v0.5": {1: 13, 2: 34},
    "mlcommons-ailuminate-v1.0": {1: 12},
    "nist-ai-600-1": {1: 12},
    "openai-moderation-omni": {1: 6, 2: 7},
    "owasp-llm-top10-2023-v1.1": {1: 10},
    "owasp-llm-top10-2025": {1: 10},
    "shelby-2023": {1: 5, 2: 20},
    "shieldgemma-v1": {1: 4},
    "sorry-bench-2024-45": {1: 4, 2: 45},
    "sorry-bench-2025-44": {1: 4, 2: 44},
    "weidinger-2021": {1: 6, 2: 21},
    "weidinger-2022": {1: 6, 2: 20},
    "wildguardmix-subcategories": {1: 15},
    # The ten taxonomies of issue 17 (reference README, "Ten more taxonomies from the seed papers").
    "s-eval-2024": {1: 8, 2: 25},
    "hendrycks-catastrophic-2023": {1: 4, 2: 13},
    "t2isafety-2025": {1: 3, 2: 12, 3: 12},
    "usb-2025": {1: 3, 2: 16, 3: 61},
    "sosbench-2025": {1: 6},
    "safe-ai-2025": {1: 4},
    "agentfail-2025": {1: 3},
    "riosworld-2025": {1: 2, 2: 13, 3: 33},
    "deepknown-guard-2025": {1: 4},
    "mitre-atlas-tactics": {1: 16},
}

# Levels the publisher describes that the reference lists leave out (never invented): {taxonomy: {level: count}},
# None where no count is published.
MISSING_LEVELS: dict[str, dict[int, int | None]] = {
    "s-eval-2024": {3: 56, 4: 52},
    "t2isafety-2025": {3: 44},
    "agentfail-2025": {2: None},
    "air-2024": {4: 314},
}

# Taxonomies whose every category carries a description in RiskCards' own words.
DESCRIBED = (
    "weidinger-2021",
    "llama-guard-3",
    "mlcommons-ailuminate-v1.0",
    "owasp-llm-top10-2025",
    "aegis-2.0",
    "openai-moderation-omni",
    "shelby-2023",
    "nist-ai-600-1",
    "s-eval-2024",
    "hendrycks-catastrophic-2023",
    "sosbench-2025",
    "safe-ai-2025",
    "agentfail-2025",
    "deepknown-guard-2025",
    "mitre-atlas-tactics",
)

# Fields the importer copies verbatim from the reference lists; they must agree exactly.
STRUCTURE = ("code", "name", "parent", "level", "also_parent")
COPIED = (*STRUCTURE, "short_name", "official_id", "alt_names")


def _load(path: Path) -> dict:
    return parse_yaml(path.read_text(encoding="utf-8"))


def _taxonomy_files() -> list[Path]:
    return sorted(TAXONOMIES.glob("*.yaml"))


def _ours() -> dict[str, Taxonomy]:
    return {p.stem: Taxonomy.model_validate(_load(p)) for p in _taxonomy_files()}


OURS = _ours()


def _need_reference() -> None:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference taxonomies not present at {REFERENCE}")


def _importer():
    spec = importlib.util.spec_from_file_location(
        "import_reference_taxonomies", REPO / "tools" / "import_reference_taxonomies.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(cat: dict, fields=STRUCTURE) -> tuple:
    out = []
    for f in fields:
        value = cat.get(f)
        if f == "alt_names":
            value = [str(v) for v in value or []]
        elif value is not None and f != "level":
            value = str(value)
        out.append(value)
    return tuple(out)


def structure_differences(reference: dict, ours: dict, fields=STRUCTURE) -> list[str]:
    """Every difference between the reference list and our file in code, name, parent, level and
    also_parent (and the order of categories), each naming the codes involved."""
    ref_rows = [_row(c, fields) for c in reference["categories"]]
    our_rows = [_row(c, fields) for c in ours["categories"]]
    ref_codes = [r[0] for r in ref_rows]
    our_codes = [r[0] for r in our_rows]
    out = []
    missing = [c for c in ref_codes if c not in our_codes]
    extra = [c for c in our_codes if c not in ref_codes]
    if missing:
        out.append(f"missing categories: {', '.join(missing)}")
    if extra:
        out.append(f"categories not in the reference list: {', '.join(extra)}")
    ours_by_code = dict(zip(our_codes, our_rows, strict=True)) if len(set(our_codes)) == len(our_codes) else {}
    for row in ref_rows:
        mine = ours_by_code.get(row[0])
        if mine is None:
            continue
        for f, want, got in zip(fields, row, mine, strict=True):
            if want != got:
                out.append(f"{row[0]}: {f} is {got!r}, the reference says {want!r}")
    common_ref = [c for c in ref_codes if c in our_codes]
    common_ours = [c for c in our_codes if c in ref_codes]
    if common_ref != common_ours:
        first = next(i for i, (a, b) in enumerate(zip(common_ref, common_ours, strict=True)) if a != b)
        out.append(
            f"order differs from position {first + 1}: reference has {common_ref[first]}, ours has {common_ours[first]}"
        )
    if len(set(our_codes)) != len(our_codes):
        dupes = sorted(c for c, n in Counter(our_codes).items() if n > 1)
        out.append(f"duplicate codes: {', '.join(dupes)}")
    return out


# --------------------------------------------------------------------------------------------------
# (b) Always: the files validate and their structure is sound
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def taxonomy_result(tmp_path_factory):
    root = tmp_path_factory.mktemp("tax") / "kb"
    shutil.copytree(TAXONOMIES, root / "taxonomies", ignore=shutil.ignore_patterns("crosswalks"))
    (root / "cards").mkdir()
    return validate(root)


def test_the_34_reference_taxonomies_are_present_each_named_by_its_id():
    assert len(EXPECTED_COUNTS) == 34
    missing = sorted(set(EXPECTED_COUNTS) - set(OURS))
    assert not missing, f"taxonomy files missing: {', '.join(missing)}"
    for path in _taxonomy_files():
        assert _load(path)["id"] == path.stem, f"{path.name}: id differs from the file name"


def test_project_taxonomies_beyond_the_reference_lists_are_described():
    """Taxonomies RiskCards defines itself (e.g. the label of an offline classifier) are allowed next to
    the 34 reference lists; they must say what they are and why they exist."""
    for tid in sorted(set(OURS) - set(EXPECTED_COUNTS)):
        tax = OURS[tid]
        assert tax.description and (tax.notes or tax.code_convention), (
            f"{tid}: a project taxonomy needs a description and notes"
        )


def test_every_taxonomy_file_validates(taxonomy_result):
    assert taxonomy_result.problems == [], "\n".join(p.text() for p in taxonomy_result.problems)
    assert sorted(taxonomy_result.kb.taxonomies) == sorted(OURS)


@pytest.mark.parametrize("tid", sorted(EXPECTED_COUNTS))
def test_counts_per_level(tid):
    got = dict(sorted(Counter(c.level for c in OURS[tid].categories).items()))
    assert got == EXPECTED_COUNTS[tid], f"{tid}: categories per level {got}, expected {EXPECTED_COUNTS[tid]}"
    # Levels are contiguous from 1: no level n without level n - 1.
    assert sorted(got) == list(range(1, len(got) + 1)), f"{tid}: levels {sorted(got)} have a gap"


@pytest.mark.parametrize("tid", sorted(EXPECTED_COUNTS))
def test_parent_chains_terminate_and_parents_come_first(tid):
    cats = {c.code: c for c in OURS[tid].categories}
    seen: set[str] = set()
    for cat in OURS[tid].categories:
        chain = [cat.code]
        node = cat
        while node.parent is not None:
            assert node.parent in cats, f"{tid}:{node.code}: parent {node.parent} is not a code"
            assert node.parent not in chain, f"{tid}: parent cycle {' -> '.join([*chain, node.parent])}"
            chain.append(node.parent)
            node = cats[node.parent]
        assert len(chain) == cat.level, (
            f"{tid}:{cat.code}: level {cat.level} but the parent chain has {len(chain)} steps ({' -> '.join(chain)})"
        )
        for other in (cat.parent, cat.also_parent):
            if other is not None:
                assert other in seen, f"{tid}:{cat.code}: parent {other} comes after its child"
        if cat.also_parent is not None:
            assert cats[cat.also_parent].level == cat.level - 1, (
                f"{tid}:{cat.code}: also_parent {cat.also_parent} is not one level up"
            )
            assert cat.also_parent != cat.parent, f"{tid}:{cat.code}: also_parent repeats parent"
        seen.add(cat.code)


def test_spot_checks():
    w = {c.code: c for c in OURS["weidinger-2021"].categories}
    assert [c for c in w if w[c].level == 1] == ["W1", "W2", "W3", "W4", "W5", "W6"]
    assert len([c for c in w.values() if c.level == 2]) == 21
    assert w["W1.3"].name == "Toxic language"
    assert w["W1.3"].parent == "W1"
    assert w["W3.2"].name.startswith("Causing material harm")
    lg3 = {c.code: c.name for c in OURS["llama-guard-3"].categories}
    lg2 = {c.code: c.name for c in OURS["llama-guard-2"].categories}
    assert lg3["S5"] == "Defamation"
    assert lg2["S5"] == "Specialized Advice"
    assert lg3["S14"] == "Code Interpreter Abuse"
    assert "S12" not in lg2
    air = OURS["air-2024"].categories
    assert sum(1 for c in air if c.level == 4) == 312
    ail = [c.code for c in OURS["mlcommons-ailuminate-v1.0"].categories]
    assert ail == ["vcr", "ncr", "src", "cse", "dfm", "spc", "prv", "ipv", "iwp", "hte", "ssh", "sxc"]
    owasp = {c.code: c for c in OURS["owasp-llm-top10-2025"].categories}
    assert owasp["LLM01"].name == "Prompt Injection" and owasp["LLM01"].official_id == "LLM01:2025"
    nist = [c.code for c in OURS["nist-ai-600-1"].categories]
    assert nist == [str(i) for i in range(1, 13)], "NIST codes are the strings '1'..'12'"
    omni = {c.code: c for c in OURS["openai-moderation-omni"].categories}
    assert omni["sexual/minors"].parent == "sexual"


# --------------------------------------------------------------------------------------------------
# (c) Descriptions: present and in our own words
# --------------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _copied(ours: str, theirs: str) -> bool:
    """A description counts as copied when, after normalising case, punctuation and spacing, it equals
    the reference text, contains it, or is nearly the same (difflib ratio >= 0.85)."""
    a, b = _norm(ours), _norm(theirs)
    if not a or not b:
        return False
    return a == b or b in a or difflib.SequenceMatcher(None, a, b).ratio() >= 0.85


def test_copy_detector_catches_copies_and_passes_own_words():
    ref = "LM output perpetuates stereotypes / unfair discrimination against social groups"
    assert _copied("LM output perpetuates stereotypes, unfair discrimination against social groups.", ref)
    assert _copied("The model output perpetuates stereotypes / unfair discrimination against social groups!", ref)
    assert not _copied(
        (
            "The model repeats or reinforces stereotypes about social "
            "groups, or its output leads to people being treated unfairly."
        ),
        ref,
    )


@pytest.mark.parametrize("tid", sorted(EXPECTED_COUNTS))
def test_every_taxonomy_has_a_description_of_its_own(tid):
    tax = OURS[tid]
    text = tax.description or ""
    assert 80 <= len(text) <= 800, f"{tid}: taxonomy description missing or not 2-3 sentences ({len(text)} characters)"
    assert text.rstrip().endswith("."), f"{tid}: taxonomy description should end with a full stop"
    assert not _copied(text, tax.notes or ""), f"{tid}: taxonomy description copies the notes"


@pytest.mark.parametrize("tid", DESCRIBED)
def test_every_category_of_the_main_taxonomies_is_described(tid):
    missing = [c.code for c in OURS[tid].categories if not c.description]
    assert not missing, f"{tid}: categories without a description: {', '.join(missing)}"
    bad = []
    for c in OURS[tid].categories:
        d = c.description.strip()
        if "\n" in d or not d.endswith(".") or not 30 <= len(d) <= 320:
            bad.append(f"{c.code} (one clear sentence of 30-320 characters, ending with '.')")
        elif _norm(d) == _norm(c.name):
            bad.append(f"{c.code} (repeats the name)")
    assert not bad, f"{tid}: descriptions to fix: {'; '.join(bad)}"
    texts = [_norm(c.description) for c in OURS[tid].categories]
    dupes = sorted({t for t in texts if texts.count(t) > 1})
    assert not dupes, f"{tid}: the same description is used for several categories: {dupes}"


@pytest.mark.parametrize("tid", DESCRIBED)
def test_category_descriptions_are_not_copied_from_the_reference(tid):
    _need_reference()
    ref = _load(REFERENCE / f"{tid}.yaml")
    ours = {c.code: c for c in OURS[tid].categories}
    copied = []
    for cat in ref["categories"]:
        theirs = cat.get("description")
        mine = ours.get(str(cat["code"]))
        if theirs and mine is not None and mine.description and _copied(mine.description, theirs):
            copied.append(str(cat["code"]))
    assert not copied, f"{tid}: descriptions copied from the reference list: {', '.join(copied)}"


# --------------------------------------------------------------------------------------------------
# (a) With ../shared/reference: our files match the reference lists exactly
# --------------------------------------------------------------------------------------------------


def test_structure_comparison_reports_every_kind_of_difference():
    ref = {
        "categories": [
            {"code": "A", "name": "Alpha", "parent": None, "level": 1},
            {"code": "A.1", "name": "Alpha one", "parent": "A", "level": 2},
            {"code": "B", "name": "Beta", "parent": None, "level": 1},
        ]
    }
    assert structure_differences(ref, ref) == []
    renamed = {"categories": [dict(c) for c in ref["categories"]]}
    renamed["categories"][1]["name"] = "Alpha 1"
    assert structure_differences(ref, renamed) == ["A.1: name is 'Alpha 1', the reference says 'Alpha one'"]
    extra = {"categories": [*ref["categories"], {"code": "C", "name": "Gamma", "parent": None, "level": 1}]}
    assert structure_differences(ref, extra) == ["categories not in the reference list: C"]
    missing = {"categories": ref["categories"][:2]}
    assert structure_differences(ref, missing) == ["missing categories: B"]
    reordered = {"categories": [ref["categories"][2], *ref["categories"][:2]]}
    assert structure_differences(ref, reordered) == ["order differs from position 1: reference has A, ours has B"]
    moved = {"categories": [dict(c) for c in ref["categories"]]}
    moved["categories"][1].update(parent="B")
    assert structure_differences(ref, moved) == ["A.1: parent is 'B', the reference says 'A'"]
    also = {"categories": [dict(c) for c in ref["categories"]]}
    also["categories"][1]["also_parent"] = "B"
    assert structure_differences(ref, also) == ["A.1: also_parent is 'B', the reference says None"]


def test_every_reference_list_has_a_taxonomy_file_with_the_same_id():
    _need_reference()
    ref_ids = {}
    for path in sorted(REFERENCE.glob("*.yaml")):
        ref_ids[_load(path)["id"]] = path.name
    assert len(ref_ids) == 34, f"expected 34 reference taxonomies, found {len(ref_ids)}"
    assert sorted(ref_ids) == sorted(EXPECTED_COUNTS), (
        f"reference lists changed: {sorted(set(ref_ids) ^ set(EXPECTED_COUNTS))}"
    )
    missing = sorted(set(ref_ids) - set(OURS))
    assert not missing, f"reference lists without a taxonomy file: {', '.join(ref_ids[m] for m in missing)}"


@pytest.mark.parametrize("tid", sorted(EXPECTED_COUNTS))
def test_codes_names_parents_levels_and_order_match_the_reference(tid):
    _need_reference()
    ref = _load(REFERENCE / f"{tid}.yaml")
    ours = _load(TAXONOMIES / f"{tid}.yaml")
    assert ref["id"] == ours["id"] == tid
    diffs = structure_differences(ref, ours, COPIED)
    assert not diffs, f"{tid} differs from {REFERENCE / (tid + '.yaml')}:\n  " + "\n  ".join(diffs)
    if "counts" in ref:
        got = Counter(c["level"] for c in ours["categories"])
        assert {f"level_{k}": v for k, v in sorted(got.items())} == dict(ref["counts"]), (
            f"{tid}: counts differ from the reference 'counts'"
        )


@pytest.mark.parametrize("tid", sorted(EXPECTED_COUNTS))
def test_regenerating_from_the_reference_changes_nothing(tid):
    """tools/import_reference_taxonomies.py reproduces each file byte for byte, keeping our descriptions."""
    _need_reference()
    importer = _importer()
    ref = importer.yaml.safe_load((REFERENCE / f"{tid}.yaml").read_text(encoding="utf-8"))
    path = TAXONOMIES / f"{tid}.yaml"
    existing = importer.yaml.safe_load(path.read_text(encoding="utf-8"))
    assert importer.lost_descriptions(ref, existing) == []
    assert importer.render(ref, existing) == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from what the importer writes; run "
        "`python tools/import_reference_taxonomies.py ../shared/reference/taxonomies taxonomies` and review the diff"
    )


def test_importer_keeps_our_descriptions_and_drops_the_references():
    importer = _importer()
    ref = {
        "id": "llama-guard-3",
        "name": "Example",
        "version": 3,
        "source": "somewhere",
        "confidence": "exact",
        "categories": [
            {"code": "S1", "name": "One", "parent": None, "level": 1, "description": "quoted from the source"},
            {"code": "S2", "name": "Two", "parent": None, "level": 1, "tier": "core", "alt_names": ["2"]},
        ],
    }
    existing = {
        "description": "Our taxonomy text.",
        "categories": [{"code": "S2", "description": "Our words."}, {"code": "S9", "description": "Gone."}],
    }
    out = importer.convert(ref, existing)
    assert out["description"] == "Our taxonomy text."
    assert out["edition"] == "3"
    one, two = out["categories"]
    assert "description" not in one, "reference descriptions (often quotations) must not be copied"
    assert two["description"] == "Our words."
    assert two["alt_names"] == ["2"] and two["attributes"] == {"tier": "core"}
    assert importer.lost_descriptions(ref, existing) == ["S9"]
    Taxonomy.model_validate(importer.yaml.safe_load(importer.render(ref, existing)))


def test_importer_writes_atomically_and_warns_about_lost_descriptions(tmp_path, capsys):
    importer = _importer()
    src, dst = tmp_path / "ref", tmp_path / "tax"
    src.mkdir()
    dst.mkdir()
    (src / "llama-guard-1.yaml").write_text(
        "id: llama-guard-1\nname: LG1\nversion: 1\nsource: x\nconfidence: exact\n"
        "categories:\n- {code: O1, name: One, parent: null, level: 1}\n",
        encoding="utf-8",
    )
    (dst / "llama-guard-1.yaml").write_text(
        "id: llama-guard-1\ncategories:\n- {code: O1, description: Kept.}\n- {code: O7, description: Lost.}\n",
        encoding="utf-8",
    )
    importer.main(str(src), str(dst))
    err = capsys.readouterr().err
    assert "O7" in err and "dropped" in err
    assert sorted(p.name for p in dst.iterdir()) == ["llama-guard-1.yaml"], "no temporary files left behind"
    written = Taxonomy.model_validate(_load(dst / "llama-guard-1.yaml"))
    assert written.categories[0].description == "Kept."


# --------------------------------------------------------------------------------------------------
# (d) Incomplete lists: the missing levels are recorded, never invented
# --------------------------------------------------------------------------------------------------


def test_incomplete_taxonomies_record_their_missing_levels_and_no_others_do():
    got = {
        tid: {m.level: m.published_count for m in tax.missing_levels} for tid, tax in OURS.items() if tax.missing_levels
    }
    assert got == MISSING_LEVELS
    for tid in MISSING_LEVELS:
        listed = Counter(c.level for c in OURS[tid].categories)
        for m in OURS[tid].missing_levels:
            assert m.note.rstrip().endswith("."), f"{tid}: level {m.level} note should be a sentence"
            # Nothing was invented: a level missing entirely has no categories; a partial one has fewer than published.
            assert listed[m.level] < (m.published_count or 1) or listed[m.level] == 0, (tid, m.level)


def test_every_reference_list_marked_incomplete_has_missing_levels():
    """The reference notes say 'INCOMPLETE' (or 'top level only' while naming finer published categories)."""
    _need_reference()
    for path in sorted(REFERENCE.glob("*.yaml")):
        ref = _load(path)
        if "INCOMPLETE" in (ref.get("notes") or ""):
            assert OURS[ref["id"]].missing_levels, f"{ref['id']}: reference is incomplete, missing_levels is empty"


def test_new_taxonomy_ids_resolve_in_the_kb_with_exact_spot_checks():
    atlas = [c.code for c in OURS["mitre-atlas-tactics"].categories]
    assert atlas[0] == "AML.TA0002" and atlas[3] == "AML.TA0000" and atlas[-1] == "AML.TA0011"
    seval = {c.code: c for c in OURS["s-eval-2024"].categories}
    assert seval["HS.2"].name == "Cyberbullying" and seval["HS.2"].alt_names
    usb = {c.code: c for c in OURS["usb-2025"].categories}
    assert usb["FDS"].name == "Religious Discrimination" and usb["FDS"].parent == "BD"
    assert [c.code for c in OURS["sosbench-2025"].categories] == [
        "chemistry",
        "biology",
        "medicine",
        "pharmacology",
        "physics",
        "psychology",
    ]


def _kb_with(tmp_path, text: str):
    root = tmp_path / "kb"
    (root / "taxonomies").mkdir(parents=True)
    (root / "cards").mkdir()
    (root / "taxonomies" / "t.yaml").write_text(text, encoding="utf-8")
    return validate(root)


_TAX = (
    "id: t\nname: T\nkind: benchmark\nedition: '1'\nsource: s\nconfidence: partial\nlicense: l\n"
    "{missing}categories:\n- {{code: A, name: A, level: 1}}\n- {{code: A.1, name: A one, parent: A, level: 2}}\n"
)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("missing_levels:\n- {level: 3, published_count: 5, note: Level three unread.}\n", None),
        (
            "missing_levels:\n- {level: 3, note: x.}\n- {level: 4, published_count: 2, note: y.}\n",
            None,
        ),
        ("missing_levels:\n- {level: 4, note: Skips level three.}\n", "level 4 cannot be missing when level 3"),
        ("missing_levels:\n- {level: 2, published_count: 0, note: Too few.}\n", "published_count 0 is smaller than"),
        ("missing_levels:\n- {level: 3, note: a.}\n- {level: 3, note: b.}\n", "level 3 is declared missing twice"),
        ("missing_levels:\n- {level: 0, note: a.}\n", "greater than or equal to 1"),
        ("missing_levels:\n- {level: 3}\n", "note"),
    ],
)
def test_missing_levels_are_validated_with_a_located_message(tmp_path, missing, message):
    result = _kb_with(tmp_path, _TAX.format(missing=missing))
    texts = [p.text() for p in result.problems]
    if message is None:
        assert texts == []
    else:
        assert len(texts) == 1 and message in texts[0], texts
        assert texts[0].startswith("taxonomies/t.yaml:"), texts[0]


def test_importer_keeps_missing_levels_and_out_of_scope_reasons():
    importer = _importer()
    ref = {
        "id": "s-eval-2024",
        "name": "Example",
        "version": 1,
        "source": "somewhere",
        "confidence": "partial",
        "categories": [{"code": "CI", "name": "Crimes", "parent": None, "level": 1}],
    }
    existing = {
        "missing_levels": [{"level": 2, "published_count": 3, "note": "Unread."}],
        "categories": [{"code": "CI", "out_of_scope": "Our reason."}, {"code": "XX", "out_of_scope": "Gone."}],
    }
    out = importer.convert(ref, existing)
    assert out["missing_levels"] == existing["missing_levels"]
    assert out["categories"][0]["out_of_scope"] == "Our reason."
    assert importer.lost_descriptions(ref, existing) == ["XX"]
    assert "missing_levels" not in importer.convert(ref, None)
    Taxonomy.model_validate(importer.yaml.safe_load(importer.render(ref, existing)))


def test_readme_counts_of_taxonomies_and_crosswalks_are_true():
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    m = re.search(r"the (\d+) reference taxonomies with (\d+) crosswalks", text)
    assert m, "README should say 'the N reference taxonomies with M crosswalks'"
    reference = sum(1 for tid in OURS if tid in EXPECTED_COUNTS)
    crosswalks = len(list((TAXONOMIES / "crosswalks").glob("*.yaml")))
    assert (int(m.group(1)), int(m.group(2))) == (reference, crosswalks)
    assert f"({reference} reference taxonomies)" in text
