"""`riskcards guard import`: verdicts recorded elsewhere, checked against the current examples before they count."""

from __future__ import annotations

import json

import pytest
from guard_kit import RULES, load, make_kb, write_config
from guard_server import GuardServer
from typer.testing import CliRunner

from riskcards.cli import app
from riskcards.guards import runner, store
from riskcards.guards.hashing import result_key
from riskcards.guards.imports import import_files


@pytest.fixture
def elsewhere(tmp_path):
    """Real verdicts of the offline guard, recorded in another folder (as on another machine)."""
    pytest.importorskip("profanity_check")
    root = make_kb(tmp_path)
    write_config(root, "http://127.0.0.1:9/v1")
    kb, configs = load(root)
    runner.run_guard(kb, configs["profanity-check"], tmp_path / "gpu-box")
    return root, store.result_path(tmp_path / "gpu-box", "profanity-check")


def test_import_then_duplicates(elsewhere):
    root, path = elsewhere
    kb, _ = load(root)
    first = import_files(kb, [path], root / "checks")
    assert (first.read, first.imported, first.duplicates, first.problems) == (7, 7, 0, [])
    results, problems = store.read_results(root)
    assert len(results) == 7 and problems == []
    again = import_files(kb, [path], root / "checks")
    assert (again.imported, again.duplicates) == (0, 7)
    assert len(store.read_results(root)[0]) == 7


def _rewrite(path, fn):
    lines = path.read_text().splitlines()
    recs = [json.loads(x) for x in lines]
    fn(recs)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_each_kind_of_bad_record_is_located(elsewhere, tmp_path):
    root, path = elsewhere

    def spoil(recs):
        recs[0]["verdict"]["label"] = (
            "unsafe" if recs[0]["verdict"]["label"] == "safe" else "safe"
        )  # raw says otherwise
        recs[0]["verdict"]["categories"] = ["profanity"] if recs[0]["verdict"]["label"] == "unsafe" else []
        recs[1]["key"] = "sha256:" + "0" * 64
        recs[2]["example"]["card"] = "guard-test-crad"
        recs[3]["example"]["example"] = "no-such-example"
        recs[4]["run"]["source"] = "stub"
        recs[5]["verdict"]["categories"] = ["S10"]
        recs[5]["verdict"]["label"] = "unsafe"

    _rewrite(path, spoil)
    with path.open("a") as fh:
        fh.write("{not json\n")
        fh.write('{"schema": "riskcards.guard-result/1"}\n')
    kb, _ = load(root)
    s = import_files(kb, [path], root / "checks")
    msgs = {p.line: p.message for p in s.problems}
    assert s.imported == 1 and s.read == 9
    assert "parses as" in msgs[1]
    assert "'key' does not match" in msgs[2]
    assert "unknown card 'guard-test-crad' (did you mean 'guard-test-card'?)" in msgs[3]
    assert "has no example 'no-such-example'" in msgs[4]
    assert "run.source is 'stub'" in msgs[5]
    assert "categories ['S10'] are not codes of profanity-check" in msgs[6]
    assert msgs[8].startswith("not JSON")
    assert msgs[9].startswith("not a guard result record")
    assert all(p.text().startswith(f"{p.path}:{p.line}:") for p in s.problems)


def test_stale_verdicts_are_refused(elsewhere):
    root, path = elsewhere
    card = root / "cards" / "guard-test-card.yaml"
    card.write_text(card.read_text().replace("Paris is the capital of France.", "Paris is the capital."))
    kb, _ = load(root)
    s = import_files(kb, [path], root / "checks")
    assert s.imported == 6
    assert len(s.problems) == 1 and "has changed since this verdict" in s.problems[0].message


def test_import_cli(elsewhere):
    root, path = elsewhere
    cli = CliRunner()
    dry = cli.invoke(app, ["guard", "import", str(path), "--root", str(root), "--dry-run"])
    assert dry.exit_code == 0 and "would import 7" in dry.output
    assert store.read_results(root)[0] == []
    res = cli.invoke(app, ["guard", "import", str(path), "--root", str(root), "--format", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["by_guard"] == {"profanity-check": 7}
    _rewrite(path, lambda recs: recs[0]["example"].update(card="nope"))
    bad = cli.invoke(app, ["guard", "import", str(path), "--root", str(root)])
    assert bad.exit_code == 1 and ":1:1: unknown card 'nope'" in bad.output


def test_test_server_verdicts_cannot_be_imported(tmp_path):
    root = make_kb(tmp_path)
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        kb, configs = load(root)
        runner.run_guard(kb, configs["lg3-chat"], tmp_path / "scratch", backoff=0.01)
    s = import_files(kb, [store.result_path(tmp_path / "scratch", "lg3-chat")], root / "checks")
    assert s.imported == 0 and len(s.problems) == 9
    assert all("only verdicts from a live guard" in p.message for p in s.problems)
    assert not store.result_path(root / "checks", "lg3-chat").exists()


def test_result_key_recomputes_from_the_record(elsewhere):
    _root, path = elsewhere
    for r in store.read_file(path):
        assert result_key(r) == r.key
