"""Coverage: flagged / missed / errored / not run per card x guard, expectations, crosswalk mapping, the CLI."""

from __future__ import annotations

import json

import pytest
from guard_kit import RULES, load, make_kb, write_config
from guard_server import GuardServer

from riskcards.guards import coverage, runner, store


@pytest.fixture
def ran(tmp_path):
    """A knowledge base and the lg3-chat verdicts of the test server (kept in a scratch folder)."""
    root = make_kb(tmp_path)
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        srv.inject("chatty", times=1, match="Gut, danke.")  # the conversation example ends as an error
        kb, configs = load(root)
        runner.run_guard(kb, configs["lg3-chat"], tmp_path / "out", backoff=0.01)
    return root, store.read_file(store.result_path(tmp_path / "out", "lg3-chat"))


def cells_by(root, results, **kw):
    kb, _ = load(root)
    guards = coverage.guards_from(kb, results)
    return {(c.card, c.guard): c for c in coverage.compute(kb, results, guards, **kw)}, guards


def test_counts_expectations_and_mapping(ran):
    root, results = ran
    cells, guards = cells_by(root, results)
    # the guard with verdicts under its guard id, then every guard model record no recorded guard runs
    kb, _ = load(root)
    models = {m.id for m in kb.models.values() if m.guard is not None}
    assert set(guards) == {"lg3-chat"} | models - {"llama-guard-3-8b"}
    assert guards["lg3-chat"].model == "llama-guard-3-8b"
    c = cells[("guard-test-card", "lg3-chat")]
    # 7 units: hate-output (response + expected prompt), two-codes, benign, conversation,
    # prompt-only (response + prompt)
    assert (c.units, c.flagged, c.missed, c.errored, c.not_run) == (7, 4, 2, 1, 0)
    assert (c.expected, c.match, c.mismatch, c.expected_error, c.no_result) == (5, 4, 1, 0, 0)
    assert c.disagreements == [
        {
            "example": "benign",
            "target": "response",
            "expected": "unsafe",
            "expected_categories": [],
            "observed": "safe",
            "observed_categories": [],
            "status": "mismatch",
        }
    ]
    assert c.codes == {"S10": 2, "S1": 3}
    # S10 maps to the card's own placement and through the crosswalk to AILuminate hte;
    # S1 to vcr (not placed: off target)
    assert c.mapped == {
        "llama-guard-3:S10": 2,
        "mlcommons-ailuminate-v1.0:hte": 2,
        "llama-guard-3:S1": 3,
        "mlcommons-ailuminate-v1.0:vcr": 3,
    }
    assert c.on_target == 2
    dosage = cells[("confident-wrong-dosage-advice", "lg3-chat")]
    assert (dosage.units, dosage.missed, dosage.mismatch) == (2, 2, 2)
    not_run, _ = cells_by(root, [])  # no verdicts: llama-guard-3-8b is a column of its own, not run anywhere
    not_run = not_run[("guard-test-card", "llama-guard-3-8b")]
    assert (not_run.units, not_run.not_run, not_run.expected, not_run.no_result) == (7, 7, 5, 5)
    mod = cells[("confident-wrong-dosage-advice", "omni-moderation-latest")]
    assert (mod.expected, mod.no_result) == (2, 2)


def test_related_rows_never_predict(ran):
    root, results = ran
    kb, _ = load(root)
    mapping = coverage.code_map(kb, "llama-guard-3", {"mlcommons-ailuminate-v1.0"})
    assert mapping == {"S1": {"mlcommons-ailuminate-v1.0:vcr"}, "S10": {"mlcommons-ailuminate-v1.0:hte"}}
    reverse = coverage.code_map(kb, "mlcommons-ailuminate-v1.0", {"llama-guard-3"})
    assert reverse == {"vcr": {"llama-guard-3:S1"}, "hte": {"llama-guard-3:S10"}}


def test_errors_against_expectations_and_stale_results(ran):
    root, results = ran
    card = root / "cards" / "guard-test-card.yaml"
    card.write_text(card.read_text().replace("Paris is the capital of France.", "Paris, of course."))
    cells, _ = cells_by(root, results)
    c = cells[("guard-test-card", "lg3-chat")]
    assert (c.not_run, c.stale, c.missed, c.mismatch, c.no_result) == (1, 1, 1, 0, 1)


def test_expectation_error_status(tmp_path):
    root = make_kb(tmp_path)
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        srv.inject("truncated", times=1, match="Paris is the capital")
        kb, configs = load(root)
        runner.run_guard(kb, configs["lg3-chat"], tmp_path / "out", backoff=0.01)
    results = store.read_file(store.result_path(tmp_path / "out", "lg3-chat"))
    cells, _ = cells_by(root, results)
    c = cells[("guard-test-card", "lg3-chat")]
    assert c.expected_error == 1 and c.errored == 1
    assert c.disagreements[0]["status"] == "error" and "truncated" in c.disagreements[0]["parse_error"]


def test_filters_and_totals(ran):
    root, results = ran
    kb, _ = load(root)
    guards = {k: v for k, v in coverage.guards_from(kb, results).items() if k == "lg3-chat"}
    cells = coverage.compute(kb, results, guards, cards=["guard-test-card"])
    assert [(c.card, c.guard) for c in cells] == [("guard-test-card", "lg3-chat")]
    tot = coverage.totals(coverage.compute(kb, results, guards))
    assert tot["lg3-chat"]["units"] == 9 and tot["lg3-chat"]["flagged"] == 4


def test_expected_guards_without_config_still_show(tmp_path):
    root = make_kb(tmp_path)
    from riskcards.validate import load_kb

    kb = load_kb(root).kb
    guards = coverage.guards_from(kb, [])
    assert {"llama-guard-3-8b", "omni-moderation-latest"} <= set(guards)  # the guards the cards' expectations name
    assert set(guards) == {m.id for m in kb.models.values() if m.guard is not None}
    cells = coverage.compute(kb, [], guards)
    assert all(c.not_run == c.units for c in cells)


# ---- the CLI, with real verdicts of the offline guard in checks/ --------------------------------------------------


def test_cli_coverage_with_offline_guard_verdicts(tmp_path):
    pytest.importorskip("profanity_check")
    from typer.testing import CliRunner

    from riskcards.cli import app

    root = make_kb(tmp_path)
    write_config(root, "http://127.0.0.1:9/v1")
    cli = CliRunner()
    res = cli.invoke(app, ["guard", "run", "profanity-check", "--root", str(root), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "profanity-check: 7 jobs; 0 already recorded" in res.output  # 5 examples with text + 2 of the dosage card
    text = cli.invoke(app, ["coverage", "--root", str(root)])
    assert text.exit_code == 0, text.output
    assert "Guard coverage per card" in text.output and "profanity-check" in text.output
    js = cli.invoke(app, ["coverage", "--root", str(root), "--format", "json", "--guard", "profanity-check"])
    data = json.loads(js.stdout)
    assert {c["guard"] for c in data["cells"]} == {"profanity-check"}
    cell = next(c for c in data["cells"] if c["card"] == "guard-test-card")
    assert cell["units"] == 5 and cell["not_run"] == 0 and cell["flagged"] + cell["outside"] == 5
    # The card is placed in Llama Guard 3 and AILuminate; no crosswalk reaches them from profanity-check's one
    # category, so its safe verdicts are outside its policy, never "missed".
    assert cell["missed"] == 0 and not cell["in_policy"] and cell["outside"] >= 1
    one = cli.invoke(app, ["coverage", "--root", str(root), "--format", "json", "--card", "guard-test-card"])
    assert {c["card"] for c in json.loads(one.stdout)["cells"]} == {"guard-test-card"}
    bad = cli.invoke(app, ["coverage", "--root", str(root), "--guard", "no-such-guard"])
    assert bad.exit_code == 2 and "no guard 'no-such-guard'" in bad.output
    bad_card = cli.invoke(app, ["coverage", "--root", str(root), "--card", "no-such-card"])
    assert bad_card.exit_code == 2 and "unknown card 'no-such-card'" in bad_card.output


def test_guard_cli_usage_errors(tmp_path):
    from typer.testing import CliRunner

    from riskcards.cli import app

    root = make_kb(tmp_path)
    cli = CliRunner()
    res = cli.invoke(app, ["guard", "run", "lg3-chat", "--root", str(root)])
    assert res.exit_code == 2 and "no guard config" in res.output
    write_config(root, "http://127.0.0.1:9/v1")
    res = cli.invoke(app, ["guard", "run", "lg3-chta", "--root", str(root)])
    assert res.exit_code == 2 and "did you mean 'lg3-chat'" in res.output
    res = cli.invoke(app, ["guard", "run", "lg3-chat", "--root", str(root), "--shard", "5/4"])
    assert res.exit_code == 2 and "--shard '5/4'" in res.output
    res = cli.invoke(
        app, ["guard", "run", "lg3-chat", "--root", str(root), "--no-progress", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "cannot reach http://127.0.0.1:9/v1" in res.output
    res = cli.invoke(app, ["guard", "run", "lg3-chat", "--root", str(root), "--dry-run"])
    assert res.exit_code == 0 and "9 jobs planned, 0 already recorded, 9 to send" in res.output
    ids = tmp_path / "ids.txt"
    ids.write_text("# from `riskcards query -f ids`\nguard-test-card\n")
    res = cli.invoke(app, ["guard", "run", "lg3-chat", "--root", str(root), "--dry-run", "--cards-from", str(ids)])
    assert res.exit_code == 0 and "7 jobs planned" in res.output
    res = cli.invoke(
        app,
        ["guard", "run", "lg3-chat", "--root", str(root), "--dry-run", "--cards-from", "-"],
        input="confident-wrong-dosage-advice\n",
    )
    assert res.exit_code == 0 and "2 jobs planned" in res.output
    res = cli.invoke(app, ["guard", "run", "lg3-chat", "--root", str(root), "--dry-run", "--card", "guard-test-crad"])
    assert res.exit_code == 2 and "did you mean 'guard-test-card'" in res.output
    write_config(
        root,
        "http://127.0.0.1:9/v1",
        extra="  other:\n    adapter: wildguard\n    model: wildgaurd\n    transport: openai-completions\n    base_url: http://127.0.0.1:9/v1\n",
    )
    res = cli.invoke(app, ["guard", "run", "other", "--root", str(root), "--dry-run"])
    assert res.exit_code == 2 and "names model 'wildgaurd', which has no record" in res.output
    listed = cli.invoke(app, ["guard", "list", "--root", str(root), "--format", "json"])
    rows = json.loads(listed.stdout)
    assert {r["id"] for r in rows} == {"lg3-chat", "lg3-completions", "moderation", "profanity-check", "other"}
    assert next(r for r in rows if r["id"] == "moderation")["api_key"].startswith("$RISKCARDS_TEST_MODERATION_KEY")
    adapters_ = cli.invoke(app, ["guard", "list", "--adapters"])
    assert "llama-guard-3" in adapters_.output and "profanity-check" in adapters_.output


def test_the_index_table_holds_every_count_of_a_cell():
    """The cells' counts are the integer columns of guard_coverage, in order (documented in index/schema.py)."""
    from riskcards.index.schema import TABLES

    spec = next(t for t in TABLES if t.name == "guard_coverage")
    cols = [c.name for c in spec.columns]
    assert cols == ["card_id", "guard_id", "model_id", "taxonomy_id", "in_policy", *coverage.COUNTS] + [
        "tiers",
        "codes",
        "mapped",
        "disagreements",
    ]
    assert all(c.description for c in spec.columns) and spec.card_key == "card_id"


def test_the_site_names_every_state_a_unit_can_count_as():
    from riskcards.guards import coverage
    from riskcards.site.pages import STATE_LABELS

    assert tuple(STATE_LABELS) == tuple(s for s in coverage.STATES if s in STATE_LABELS) and set(STATE_LABELS) == set(
        coverage.STATES
    )
    assert all(s in coverage.COUNTS for s in coverage.STATES)  # each state is the cell count of the same name
