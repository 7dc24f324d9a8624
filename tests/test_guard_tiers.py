"""Tiered verdicts (issue 17 item 3): a guard that answers in tiers (DeepKnown-Guard: T1 Safe, T2 Unsafe,
T3 Conditionally Safe, T4 Focused Attention) keeps its native tier beside the binary label, and coverage counts
it by the rule of riskcards/guards/tiers.py. No adapter exists (no published output format): the records are
made by hand and enter through `riskcards guard import`, as verdicts recorded elsewhere do."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest
from guard_kit import make_kb
from sitekit import verdict_record
from typer.testing import CliRunner

from riskcards import index, query
from riskcards.cli import app
from riskcards.guards import store, tiers
from riskcards.site import pages
from riskcards.validate import load_kb

GUARD = "deepknown-guard-test"
MODEL = """id: deepknown-guard
name: DeepKnown-Guard
kind: guard-model
provider: Test provider (a record for the tests only)
family: DeepKnown-Guard
open_weights: false
url: https://arxiv.org/abs/2511.03138
guard:
  taxonomy: deepknown-guard-2025
notes: A test record for tiered verdicts.
"""
CARD = "guard-test-card"


@pytest.fixture
def kb_root(tmp_path):
    root = make_kb(tmp_path)
    (root / "models" / "deepknown-guard.yaml").write_text(MODEL, encoding="utf-8")
    return root


def record(root, example: str, label: str, tier: str | None, *, model="deepknown-guard", target="prompt"):
    """A hand-made live record for the example as it is now, in the GuardResult shape."""
    rec = verdict_record(root, CARD, example, model, label, target=target, tier=tier)
    if label == "error":
        rec["verdict"]["parse_error"] = "unreadable"
    return rec


def write(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


GOOD = [
    ("hate-output", "unsafe", "T2"),
    ("benign", "unsafe", "T3"),
    ("two-codes", "safe", "T1"),
    ("prompt-only", "unsafe", "T4"),
]


def test_the_rule(kb_root):
    assert tiers.tier_class("deepknown-guard-2025", "T1") == "safe"
    assert tiers.tier_class("deepknown-guard-2025", "T2") == "flagged"
    assert tiers.tier_class("deepknown-guard-2025", "T3") == "conditional"
    assert tiers.tier_class("deepknown-guard-2025", "T4") == "flagged"
    assert tiers.tier_class("llama-guard-3", "T1") is None and tiers.tier_class("deepknown-guard-2025", None) is None
    # the rule names only tiers the taxonomy file has, with those names
    kb = load_kb(kb_root).kb
    for tid, rule in tiers.TIERS.items():
        assert set(rule) == {c.code for c in kb.taxonomies[tid].categories}
    names = {c.code: c.name for c in kb.taxonomies["deepknown-guard-2025"].categories}
    assert names == {"T1": "Safe", "T2": "Unsafe", "T3": "Conditionally Safe", "T4": "Focused Attention"}


def test_import_index_cli_and_site_keep_and_count_tiers(kb_root, tmp_path):
    src = tmp_path / "elsewhere.jsonl"
    write(src, [record(kb_root, ex, label, tier) for ex, label, tier in GOOD])
    cli = CliRunner()
    res = cli.invoke(app, ["guard", "import", str(src), "--root", str(kb_root)])
    assert res.exit_code == 0 and "imported 4" in res.output, res.output
    lines = (kb_root / "checks" / f"{GUARD}.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["verdict"]["tier"] for x in lines] == ["T2", "T3", "T1", "T4"]  # kept as they are
    assert cli.invoke(app, ["validate", "--root", str(kb_root)]).exit_code == 0

    js = cli.invoke(app, ["coverage", "--root", str(kb_root), "--guard", GUARD, "-f", "json"])
    assert js.exit_code == 0, js.output
    cell = next(c for c in json.loads(js.stdout)["cells"] if c["card"] == CARD)
    assert cell["tiers"] == {"T1": 1, "T2": 1, "T3": 1, "T4": 1}
    # T2 and T4 flagged, T3 conditional (apart), T1 safe: outside, as the card is not placed in the policy
    assert (cell["flagged"], cell["conditional"], cell["missed"], cell["outside"]) == (2, 1, 0, 1)
    assert not cell["in_policy"] and cell["model"] == "deepknown-guard"
    # the model id selects the same column
    by_model = cli.invoke(app, ["coverage", "--root", str(kb_root), "--guard", "deepknown-guard", "-f", "json"])
    assert json.loads(by_model.stdout)["cells"] == json.loads(js.stdout)["cells"]

    text = cli.invoke(app, ["coverage", "--root", str(kb_root), "--guard", GUARD, "--card", CARD])
    assert text.exit_code == 0 and "conditional" in text.output and "T1×1 T2×1 T3×1 T4×1" in text.output

    db = index.default_db_path(kb_root)
    raw = sqlite3.connect(db)
    assert sorted(r[0] for r in raw.execute("SELECT tier FROM guard_results WHERE guard_config_id = ?", (GUARD,))) == [
        "T1",
        "T2",
        "T3",
        "T4",
    ]
    conn = query.connect(db)
    site = pages.build_site(conn)
    html = site.pages["coverage.md"].html
    assert "1 conditional" in html and "2 flagged" in html and "1 outside policy" in html
    assert "T1×1 T2×1 T3×1 T4×1" in html and "T3 Conditionally Safe as conditional" in html
    card_page = site.pages[f"cards/{CARD}.md"].html
    assert "rc-out-conditional" in card_page  # the example's own outcome says it too


def test_a_safe_tier_inside_the_policy_is_a_miss(kb_root, tmp_path):
    card = kb_root / "cards" / f"{CARD}.yaml"
    text = card.read_text(encoding="utf-8")
    assert "placements:\n" in text
    card.write_text(
        text.replace(
            "placements:\n",
            "placements:\n  - ref: deepknown-guard-2025:T2\n    relation: related\n"
            "    rationale: A test placement in the tier policy.\n",
            1,
        ),
        encoding="utf-8",
    )
    write(kb_root / "checks" / f"{GUARD}.jsonl", [record(kb_root, "two-codes", "safe", "T1")])
    res = CliRunner().invoke(app, ["coverage", "--root", str(kb_root), "--guard", GUARD, "-f", "json"])
    assert res.exit_code == 0, res.output
    cell = next(c for c in json.loads(res.stdout)["cells"] if c["card"] == CARD)
    assert cell["in_policy"] and (cell["missed"], cell["outside"], cell["tiers"]) == (1, 0, {"T1": 1})


@pytest.mark.parametrize(
    ("label", "tier", "model", "message"),
    [
        ("safe", "T2", "deepknown-guard", "tier T2 counts as flagged, whose label is 'unsafe', not 'safe'"),
        ("unsafe", "T1", "deepknown-guard", "tier T1 counts as safe, whose label is 'safe', not 'unsafe'"),
        ("unsafe", None, "deepknown-guard", "needs its native 'tier' (T1, T2, T3, T4)"),
        ("unsafe", "T9", "deepknown-guard", "'tier' 'T9' is not a tier of deepknown-guard-2025"),
        ("error", "T2", "deepknown-guard", "an error verdict carries no tier"),
        ("safe", "T1", "llama-guard-3-8b", "llama-guard-3 is not a tiered guard policy"),
    ],
)
def test_bad_tiers_are_refused_by_import_validate_and_the_build(kb_root, tmp_path, label, tier, model, message):
    rec = record(kb_root, "hate-output", label, tier, model=model)
    guard = rec["guard"]["id"]
    src = tmp_path / "bad.jsonl"
    write(src, [rec])
    cli = CliRunner()
    res = cli.invoke(app, ["guard", "import", str(src), "--root", str(kb_root)])
    assert res.exit_code == 1 and re.search(r"bad\.jsonl:1:1: [^\n]*" + re.escape(message), res.output), res.output
    assert not (kb_root / "checks" / f"{guard}.jsonl").exists()
    # written by hand into checks/: validate locates it, the build refuses it, nothing crashes
    write(kb_root / "checks" / f"{guard}.jsonl", [rec])
    val = cli.invoke(app, ["validate", "--root", str(kb_root)])
    assert val.exit_code == 1 and re.search(f"checks/{guard}\\.jsonl:1:1: [^\n]*" + re.escape(message), val.output), (
        val.output
    )
    with pytest.raises(index.IndexProblems) as exc:
        index.build(kb_root)
    assert any(message in p.message for p in exc.value.problems)


def test_records_of_untiered_guards_are_written_as_before(kb_root):
    rec = record(kb_root, "hate-output", "unsafe", None, model="llama-guard-3-8b")
    rec["verdict"]["categories"] = ["S10"]
    from riskcards.models import GuardResult

    line = store.dump_line(GuardResult.model_validate(rec))
    assert '"tier"' not in line  # no new key on the lines every other guard writes
    tiered = store.dump_line(GuardResult.model_validate(record(kb_root, "benign", "unsafe", "T3")))
    assert '"tier":"T3"' in tiered
