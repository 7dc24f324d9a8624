"""Crosswalks between taxonomies: they validate, the required pairs exist, every row is argued, and
the guard taxonomies reach the AILuminate hazards."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from riskcards.load import parse_yaml
from riskcards.models import Crosswalk, Taxonomy
from riskcards.validate import validate

REPO = Path(__file__).resolve().parents[1]
CROSSWALKS = REPO / "taxonomies" / "crosswalks"
AILUMINATE = "mlcommons-ailuminate-v1.0"
REQUIRED_SOURCES = ("llama-guard-3", "llama-guard-2", "aegis-2.0", "openai-moderation-omni")
# Sources whose every category must reach at least one AILuminate hazard (any relation).
FULLY_MAPPED = (
    "llama-guard-3",
    "llama-guard-2",
    "llama-guard-4",
    "llama-guard-1",
    "openai-moderation-omni",
    "shieldgemma-v1",
    "mlcommons-ai-safety-v0.5",
)


def _load(path: Path) -> dict:
    return parse_yaml(path.read_text(encoding="utf-8"))


def _files() -> list[Path]:
    return sorted(CROSSWALKS.glob("*.yaml"))


CW = {p.stem: Crosswalk.model_validate(_load(p)) for p in _files()}
TAX = {p.stem: Taxonomy.model_validate(_load(p)) for p in sorted((REPO / "taxonomies").glob("*.yaml"))}


def _cw(source: str, target: str) -> Crosswalk:
    cid = f"{source}--{target}"
    assert cid in CW, f"missing crosswalk taxonomies/crosswalks/{cid}.yaml"
    return CW[cid]


def _leaves(tid: str) -> list[str]:
    cats = TAX[tid].categories
    parents = {c.parent for c in cats} | {c.also_parent for c in cats}
    return [c.code for c in cats if c.code not in parents]


def _named(code: str, text: str) -> bool:
    return re.search(rf"(?<![\w/.]){re.escape(code)}(?![\w/]|\.\d)", text) is not None


def unmapped_not_explained(cw: Crosswalk) -> list[str]:
    """Leaf categories of the source with no row whose code the description does not name."""
    mapped = {r.source for r in cw.relations}
    return [c for c in _leaves(cw.source) if c not in mapped and not _named(c, cw.description)]


def build_root(dest: Path, extra: dict[str, str] | None = None) -> Path:
    shutil.copytree(REPO / "taxonomies", dest / "taxonomies")
    (dest / "cards").mkdir()
    for name, text in (extra or {}).items():
        (dest / "taxonomies" / "crosswalks" / name).write_text(text, encoding="utf-8")
    return dest


# --------------------------------------------------------------------------------------------------
# The repo's crosswalks
# --------------------------------------------------------------------------------------------------


def test_every_crosswalk_validates(tmp_path):
    result = validate(build_root(tmp_path / "kb"))
    assert result.problems == [], "\n".join(p.text() for p in result.problems)
    assert sorted(result.kb.crosswalks) == sorted(CW)
    assert len(CW) >= 4


@pytest.mark.parametrize("source", REQUIRED_SOURCES)
def test_required_crosswalks_to_ailuminate_exist(source):
    cw = _cw(source, AILUMINATE)
    assert cw.source == source and cw.target == AILUMINATE


def test_weidinger_and_llama_guard_3_are_linked():
    cw = _cw("weidinger-2021", "llama-guard-3")
    assert {r.source for r in cw.relations} >= {"W1.3", "W2.1", "W3.2", "W4.2"}


@pytest.mark.parametrize("cid", sorted(CW))
def test_id_names_source_and_target(cid):
    cw = CW[cid]
    assert cw.id == cid == f"{cw.source}--{cw.target}", f"{cid}: name the file '<source>--<target>.yaml'"


@pytest.mark.parametrize("cid", sorted(CW))
def test_every_row_has_a_rationale(cid):
    weak = [
        f"{r.source}->{r.target}"
        for r in CW[cid].relations
        if len(r.rationale.split()) < 6
        or r.rationale.strip().lower() in ("exact", "broader", "narrower", "related", "same")
    ]
    assert not weak, f"{cid}: rows whose rationale does not say why: {', '.join(weak)}"


@pytest.mark.parametrize("cid", sorted(CW))
def test_description_says_how_it_was_made_and_whose_judgement_it_is(cid):
    text = " ".join(CW[cid].description.split())
    assert "How it was made" in text, f"{cid}: the description should say how the mapping was made"
    assert "RiskCards' own judgement" in text, (
        f"{cid}: the description should say the mapping is RiskCards' own judgement"
    )
    assert CW[cid].references, f"{cid}: cite the works the mapping relies on"


@pytest.mark.parametrize("cid", sorted(CW))
def test_unmapped_source_categories_are_named_in_the_description(cid):
    missing = unmapped_not_explained(CW[cid])
    assert not missing, (
        f"{cid}: source categories without a row and not explained in the description: {', '.join(missing)}"
    )


@pytest.mark.parametrize("source", FULLY_MAPPED)
def test_every_guard_category_reaches_an_ailuminate_hazard(source):
    cw = _cw(source, AILUMINATE)
    unmapped = [c.code for c in TAX[source].categories if c.code not in {r.source for r in cw.relations}]
    assert not unmapped, f"{source}: categories with no AILuminate hazard: {', '.join(unmapped)}"


def test_aegis_2_categories_without_a_hazard_are_explained():
    cw = _cw("aegis-2.0", AILUMINATE)
    unmapped = [c.code for c in TAX["aegis-2.0"].categories if c.code not in {r.source for r in cw.relations}]
    # Labels and harms that AILuminate v1.0 has no hazard for; each is named with a reason.
    assert unmapped == ["S12", "S13", "S14", "S15", "S18", "S23"]
    for code in unmapped:
        assert _named(code, cw.description), f"aegis-2.0 {code} is unmapped but not named in the description"


def test_llama_guard_3_reaches_every_ailuminate_hazard_with_a_predictive_row():
    cw = _cw("llama-guard-3", AILUMINATE)
    hazards = [c.code for c in TAX[AILUMINATE].categories]
    reached = {r.target for r in cw.relations if r.relation != "related"}
    assert [h for h in hazards if h not in reached] == []


def test_known_judgements():
    """Rows whose meaning is easy to get wrong: the LG2/LG3 S5 difference and the split of spc."""

    def rel(cw, s, t):
        return next((r.relation for r in cw.relations if r.source == s and r.target == t), None)

    lg3, lg2 = _cw("llama-guard-3", AILUMINATE), _cw("llama-guard-2", AILUMINATE)
    assert rel(lg3, "S5", "dfm") == "exact"
    assert rel(lg2, "S5", "spc") == "narrower"
    assert rel(lg2, "S5", "dfm") is None
    assert rel(lg3, "S6", "spc") == rel(lg3, "S13", "spc") == "narrower"
    assert rel(lg3, "S14", "ncr") == "related"
    omni = _cw("openai-moderation-omni", AILUMINATE)
    assert rel(omni, "violence", "vcr") == "related"
    assert rel(omni, "hate", "hte") == "exact"


def test_every_owasp_2023_entry_has_a_2025_counterpart():
    cw = _cw("owasp-llm-top10-2023-v1.1", "owasp-llm-top10-2025")
    unmapped = [
        c.code for c in TAX["owasp-llm-top10-2023-v1.1"].categories if c.code not in {r.source for r in cw.relations}
    ]
    assert not unmapped, f"OWASP 2023 entries with no 2025 row: {', '.join(unmapped)}"
    # The codes are reused for different entries; the table must not pretend they line up.
    assert ("LLM06", "LLM02", "exact") in [(r.source, r.target, r.relation) for r in cw.relations]


def test_llama_guard_4_rows_equal_llama_guard_3_rows():
    """The Llama Guard 4 file says it judges every row as for Llama Guard 3 (same codes and names)."""

    def rows(cw):
        return [(r.source, r.target, r.relation) for r in cw.relations]

    assert rows(_cw("llama-guard-4", AILUMINATE)) == rows(_cw("llama-guard-3", AILUMINATE))
    assert [c.name for c in TAX["llama-guard-4"].categories] == [c.name for c in TAX["llama-guard-3"].categories]


def test_aegis_1_rows_equal_aegis_2_core_rows():
    """Aegis 1.0 O1-O13 have the names of Aegis 2.0 S1-S13; their rows must agree."""
    a1 = [(r.source[1:], r.target, r.relation) for r in _cw("aegis-1.0", AILUMINATE).relations]
    a2 = [
        (r.source[1:], r.target, r.relation) for r in _cw("aegis-2.0", AILUMINATE).relations if int(r.source[1:]) <= 13
    ]
    assert a1 == a2
    names1 = [c.name for c in TAX["aegis-1.0"].categories]
    names2 = [c.name for c in TAX["aegis-2.0"].categories][:13]
    assert names1 == names2


# --------------------------------------------------------------------------------------------------
# Bad crosswalks are reported, located, with what to write instead
# --------------------------------------------------------------------------------------------------

BAD = """\
id: llama-guard-3--mlcommons-ailuminate-v1.0-copy
source: llama-guard-3
target: mlcommons-ailuminate-v1.0
description: A broken crosswalk. How it was made; RiskCards' own judgement.
relations:
  - source: S1
    target: vcr
    relation: exact
    rationale: Both cover violent crimes in the same way.
  - source: S15
    target: vcr
    relation: exact
    rationale: There is no S15 in Llama Guard 3.
  - source: S2
    target: nvc
    relation: exact
    rationale: nvc is the v0.5 key, not the v1.0 one.
  - source: S3
    target: src
    relation: same
    rationale: Not a relation type.
  - source: S1
    target: vcr
    relation: exact
    rationale: The same row twice.
  - source: S4
    target: cse
    relation: exact
"""


def test_bad_crosswalk_problems_are_located_and_actionable(tmp_path):
    name = "llama-guard-3--mlcommons-ailuminate-v1.0-copy.yaml"
    root = build_root(tmp_path / "kb", {name: BAD})
    result = validate(root)
    shown = f"taxonomies/crosswalks/{name}"
    got = [(p.line, p.check, p.message) for p in result.problems if p.path == shown]
    assert got, "the broken crosswalk must be reported"
    schema = sorted((line, m) for line, c, m in got if c == "schema")
    assert [line for line, _ in schema] == [20, 26], f"schema problems should point at the offending rows: {got}"
    assert (
        "'same' is not allowed for 'relation'" in schema[0][1] and "exact, broader, narrower, related" in schema[0][1]
    )
    assert "missing required field 'rationale'" in schema[1][1]


def test_bad_crosswalk_codes_are_reported_with_suggestions(tmp_path):
    fixed = (
        BAD.replace("relation: same", "relation: exact").rstrip()
        + "\n    rationale: Both cover child sexual abuse material.\n"
    )
    name = "llama-guard-3--mlcommons-ailuminate-v1.0-copy.yaml"
    result = validate(build_root(tmp_path / "kb", {name: fixed}))
    shown = f"taxonomies/crosswalks/{name}"
    got = sorted((p.line, p.check, p.message) for p in result.problems if p.path == shown)
    messages = [m for _, _, m in got]
    assert not any("file name" in m for m in messages), "the id matches the file name"
    assert [(line, c) for line, c, _ in got] == [(10, "unknown-code"), (15, "unknown-code"), (22, "duplicate")], got
    assert any("'S15' is not a code of llama-guard-3" in m for m in messages)
    assert any("'nvc' is not a code of mlcommons-ailuminate-v1.0" in m and "ncr" in m for m in messages)
    assert any("duplicate relation" in m and "S1/vcr" in m for m in messages)


def test_bad_crosswalk_id_and_unknown_taxonomy(tmp_path):
    row = "relations:\n  - {source: S1, target: vcr, relation: exact, rationale: Both cover violent crimes alike.}\n"
    head = "source: llama-guard-3\ntarget: {target}\ndescription: Test.\n"
    files = {
        "lg3---ail.yaml": "id: lg3---ail\n" + head.format(target=AILUMINATE) + row,
        "llama-guard-3--mlcommons-ailuminate-v2.yaml": "id: llama-guard-3--mlcommons-ailuminate-v2\n"
        + head.format(target="mlcommons-ailuminate-v2")
        + row,
    }
    result = validate(build_root(tmp_path / "kb", files))
    by_file: dict[str, list[str]] = {}
    for p in result.problems:
        by_file.setdefault(Path(p.path).name, []).append(f"{p.line}:{p.message}")
    assert any(m.startswith("1:") and "<source-taxonomy>--<target-taxonomy>" in m for m in by_file["lg3---ail.yaml"]), (
        by_file
    )
    unknown = by_file["llama-guard-3--mlcommons-ailuminate-v2.yaml"]
    assert any(
        m.startswith("3:") and "unknown taxonomy 'mlcommons-ailuminate-v2'" in m and AILUMINATE in m for m in unknown
    ), unknown


def test_unmapped_detector_fails_when_a_category_is_silently_dropped():
    cw = _cw("llama-guard-2", AILUMINATE)
    dropped = cw.model_copy(update={"relations": [r for r in cw.relations if r.source != "S10"]})
    assert unmapped_not_explained(dropped) == ["S10"]
    # Naming S1 must not count as naming S10 or S11.
    assert not _named("S1", "see S10 and S11")
    assert _named("S10", "S10 Suicide & Self-Harm has no row")
    assert not _named("W1.1", "W1.12")


# --------------------------------------------------------------------------------------------------
# Issue 17: the ten new taxonomies, coverage of every category the rule names (real index of the repo)
# --------------------------------------------------------------------------------------------------

NEW = (
    "s-eval-2024",
    "hendrycks-catastrophic-2023",
    "t2isafety-2025",
    "usb-2025",
    "sosbench-2025",
    "safe-ai-2025",
    "agentfail-2025",
    "riosworld-2025",
    "deepknown-guard-2025",
    "mitre-atlas-tactics",
)
# taxonomy -> deepest level whose every category must be covered (card, crosswalk) or out of scope.
COVERAGE_RULE = {
    **{t: 1 for t in NEW if t not in ("safe-ai-2025", "agentfail-2025", "deepknown-guard-2025")},
    "safe-ai-2025": 1,
    "sorry-bench-2025-44": 2,
    "sorry-bench-2024-45": 2,
    "avid-sep-view": 3,
    "mit-ai-risk-domain-taxonomy": 3,
    "air-2024": 3,
    "shelby-2023": 3,
    "weidinger-2022": 3,
    "llama-guard-1": 3,
    "llama-guard-2": 3,
    "llama-guard-4": 3,
    "aegis-1.0": 3,
    "shieldgemma-v1": 3,
    "wildguardmix-subcategories": 3,
    "openai-moderation-omni": 3,
}


def _cli(*args: str, cwd: Path = REPO):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "RISKCARDS_ROOT"}
    return subprocess.run(
        [sys.executable, "-m", "riskcards", *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def repo_index(tmp_path_factory):
    from riskcards import query

    db = tmp_path_factory.mktemp("idx") / "repo.db"
    proc = _cli("index", "--root", str(REPO), "--db", str(db))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return db, query.connect(db)


@pytest.mark.parametrize("tid", NEW)
def test_each_new_taxonomy_has_a_crosswalk_and_a_placed_card(tid, repo_index):
    from riskcards import query

    assert any(tid in (cw.source, cw.target) for cw in CW.values()), f"{tid}: no crosswalk"
    assert any(t["id"] == tid and t["cards"] > 0 for t in query.taxonomies(repo_index[1])), f"{tid}: no card placed"


@pytest.mark.parametrize("tid", sorted(COVERAGE_RULE))
def test_every_category_the_rule_names_is_covered_or_out_of_scope(tid, repo_index):
    from riskcards import query

    tree = query.taxonomy_tree(repo_index[1], tid)
    gaps = [
        f"{c['code']} {c['name']}"
        for c in tree["categories"]
        if c["level"] <= COVERAGE_RULE[tid] and c["coverage"] == "gap"
    ]
    assert not gaps, f"{tid}: categories down to level {COVERAGE_RULE[tid]} without card, crosswalk or reason: {gaps}"


def test_coverage_states_follow_their_definitions(repo_index):
    from riskcards import query

    conn = repo_index[1]
    counted = {s: 0 for s in query.COVERAGE_STATES}
    for t in query.taxonomies(conn):
        tree = query.taxonomy_tree(conn, t["id"])
        assert sum(tree["coverage"].values()) == len(tree["categories"])
        for c in tree["categories"]:
            counted[c["coverage"]] += 1
            via = query.find_cards(conn, query.Query(category=c["ref"], via_crosswalk=True))
            if c["coverage"] == "direct":
                assert c["cards"] > 0
            else:
                assert c["cards"] == 0 and not [x for x in via if not x["inferred"]]
            if c["coverage"] == "crosswalk" and t["kind"] != "guard-policy":
                assert via and len(via) == c["via_cards"], (t["id"], c["code"])
            if c["coverage"] == "out-of-scope":
                assert c["out_of_scope"] and not via
    assert all(counted.values()), counted


def test_out_of_scope_reasons_are_not_given_to_categories_with_cards(repo_index):
    from riskcards import query

    for t in query.taxonomies(repo_index[1]):
        for c in query.taxonomy_tree(repo_index[1], t["id"])["categories"]:
            own = next(x for x in TAX[t["id"]].categories if x.code == c["code"]).out_of_scope
            assert not (own and c["cards"]), f"{t['id']}:{c['code']} has cards and an out-of-scope reason"


@pytest.mark.parametrize("tid", NEW)
def test_taxonomy_command_shows_tree_counts_and_coverage(tid, repo_index):
    proc = _cli("taxonomy", tid, "--db", str(repo_index[0]))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.splitlines()[-2].startswith("coverage: ") and "gaps" in out.splitlines()[-2]
    first = TAX[tid].categories[0]
    assert any(ln.startswith(first.code + " ") and first.name in ln for ln in out.splitlines())
    for m in TAX[tid].missing_levels:
        assert f"missing level {m.level}" in out
    for c in TAX[tid].categories:
        if c.out_of_scope:
            assert f"  {c.code}: {c.out_of_scope}" in out


@pytest.mark.parametrize("tid", NEW)
def test_query_via_crosswalk_works_for_each_new_taxonomy(tid, repo_index):
    """For some category reached through a crosswalk, `query --category --via-crosswalk` returns more cards
    than the plain query, marked inferred."""
    import json

    db = str(repo_index[0])
    for c in TAX[tid].categories:
        ref = f"{tid}:{c.code}"
        plain = _cli("query", "--category", ref, "--db", db, "-f", "json")
        via = _cli("query", "--category", ref, "--via-crosswalk", "--db", db, "-f", "json")
        assert via.returncode == 0, via.stderr
        a, b = json.loads(plain.stdout or "[]"), json.loads(via.stdout)
        a = a if isinstance(a, list) else a.get("cards", [])
        b = b if isinstance(b, list) else b.get("cards", [])
        if len(b) > len(a):
            assert any(x.get("inferred") for x in b)
            return
    pytest.fail(f"{tid}: no category where --via-crosswalk adds a card")
