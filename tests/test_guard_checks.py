"""`riskcards validate` reads checks/*.jsonl and reports what the build reports, plus stale verdicts;
`riskcards guard prune` removes them; the project's own checks file is clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import trim_links
from guard_kit import make_kb
from typer.testing import CliRunner

from riskcards.cli import app

REPO = Path(__file__).resolve().parents[1]


def _kb_with_repo_verdicts(tmp_path: Path) -> Path:
    root = make_kb(tmp_path)
    src = REPO / "checks" / "profanity-check.jsonl"
    lines = [json.loads(x) for x in src.read_text().splitlines() if x.strip()]
    keep = [x for x in lines if x["example"]["card"] == "confident-wrong-dosage-advice"]
    (root / "checks" / "profanity-check.jsonl").write_text("".join(json.dumps(x) + "\n" for x in keep))
    shutil.copy(
        REPO / "cards" / "confident-wrong-dosage-advice.yaml", root / "cards" / "confident-wrong-dosage-advice.yaml"
    )
    trim_links(root)
    return root


def test_validate_reports_build_problems_and_stale_verdicts_and_prune_removes_them(tmp_path):
    root = _kb_with_repo_verdicts(tmp_path)
    cli = CliRunner()
    assert cli.invoke(app, ["validate", "--root", str(root)]).exit_code == 0
    f = root / "checks" / "profanity-check.jsonl"
    good = f.read_text().splitlines()
    gone = json.loads(good[0])
    gone["example"]["example"] = "no-such-example"
    stub = json.loads(good[0])
    stub["run"]["source"] = "stub"
    secret = json.loads(good[0])
    secret["run"]["runtime"] = "Authorization: Bearer abcdefghijklmnopqrstu"
    f.write_text("\n".join([*good, json.dumps(gone), "{not json", json.dumps(stub), json.dumps(secret)]) + "\n")
    n = len(good)
    out = cli.invoke(app, ["validate", "--root", str(root)])
    assert out.exit_code != 0
    text = out.output
    assert f"checks/profanity-check.jsonl:{n + 1}:1: stale: a verdict for example" in text
    assert f"checks/profanity-check.jsonl:{n + 2}:1: not a guard result record" in text
    assert f"checks/profanity-check.jsonl:{n + 3}:1: a verdict from a test double" in text
    assert f"checks/profanity-check.jsonl:{n + 4}:1: a secret-shaped string at run.runtime" in text
    assert "abcdefghijklmnopqrstu" not in text
    build = cli.invoke(app, ["build", "--root", str(root), "--db", str(tmp_path / "x.db")])
    assert build.exit_code != 0
    pruned = cli.invoke(app, ["guard", "prune", "--root", str(root)])
    assert pruned.exit_code == 0 and "removed 3 stale verdict(s), scrubbed 1" in pruned.output
    assert cli.invoke(app, ["validate", "--root", str(root)]).exit_code == 0
    assert "abcdefghijklmnopqrstu" not in f.read_text()


def test_a_changed_example_makes_its_verdicts_stale(tmp_path):
    root = _kb_with_repo_verdicts(tmp_path)
    card = root / "cards" / "confident-wrong-dosage-advice.yaml"
    card.write_text(card.read_text().replace("For a bad headache", "For a bad migraine"))
    out = CliRunner().invoke(app, ["validate", "--root", str(root)])
    assert "stale: a verdict for 'confident-wrong-dosage-advice/doubled-dose' as it was before it changed" in out.output


def test_the_projects_own_checks_are_clean():
    """A clean clone: validate finds nothing in checks/, and importing the project's own file exits 0."""
    from riskcards.guards.checks import problems
    from riskcards.validate import load_kb

    kb = load_kb(REPO).kb
    assert [p.text() for p in problems(REPO, kb)] == []
