"""Issue 16, guard runs: no secret stored, permanent errors final, 200s that are not answers treated alike,
redacted text never sent."""

from __future__ import annotations

import json
import sqlite3
from types import SimpleNamespace

from guard_kit import RULES, load, make_kb, write_config
from guard_server import GuardServer

from riskcards.guards import runner, store
from riskcards.guards.secrets import MARK, find, scrub

KEY = "Zq7fK2mXw9LpR4tV8yB3nC6d"  # shaped like no known key prefix: only its value identifies it


def run(root, guard, out, **kw):
    kb, configs = load(root)
    kw.setdefault("backoff", 0.01)
    return runner.run_guard(kb, configs[guard], out, **kw)


def test_a_key_echoed_by_the_server_is_never_stored_indexed_or_published(tmp_path, monkeypatch):
    root = make_kb(tmp_path)
    monkeypatch.setenv("RISKCARDS_TEST_MODERATION_KEY", KEY)
    out = tmp_path / "out"
    with GuardServer(rules=[("[[S10]]", "hate")]) as srv:
        srv.inject("401-echo", times=1000)
        write_config(root, srv.url, retries=0)
        summary = run(root, "moderation", out)
        assert summary.written and summary.labels["error"] == summary.written
        assert any(KEY in json.dumps(p["headers"]) for p in srv.posts()), "the server did see the key"
    text = (out / "moderation.jsonl").read_text()
    assert KEY not in text and "Authorization" in text and MARK in text
    # A file written before scrubbing existed (the key in clear) is scrubbed on its way into the index.
    rec = json.loads(text.splitlines()[0])
    rec["verdict"]["parse_error"] = f"transport: HTTP 401: Invalid header Authorization: Bearer {KEY}"
    rec["run"]["source"] = "live"
    (root / "checks" / "moderation.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    monkeypatch.delenv("RISKCARDS_TEST_MODERATION_KEY")  # shape alone is enough
    import pytest

    from riskcards.guards.checks import prune
    from riskcards.index import IndexProblems, build

    db = tmp_path / "riskcards.db"
    with pytest.raises(IndexProblems) as err:  # validate and the build report it (never echoing it)
        build(root, db, metadata=False)
    shown = [p.text() for p in err.value.problems]
    assert any("secret-shaped string at verdict.parse_error" in t for t in shown) and KEY not in "".join(shown)
    from riskcards.validate import load_kb

    assert prune(root, load_kb(root).kb).scrubbed == 1 and KEY not in (root / "checks" / "moderation.jsonl").read_text()
    build(root, db, metadata=False)
    assert KEY.encode() not in db.read_bytes()
    con = sqlite3.connect(db)
    assert [MARK in row[0] for row in con.execute("SELECT parse_error FROM guard_results")] == [True]
    con.close()


def test_a_committed_or_imported_token_is_scrubbed_on_read_and_on_import(tmp_path, monkeypatch):
    root = make_kb(tmp_path)
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        run(root, "lg3-chat", tmp_path / "out")
    lines = (tmp_path / "out" / "lg3-chat.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    rec["run"]["runtime"] = "vllm; Authorization: Bearer abcdefghijklmnop1234"
    rec["run"]["source"] = "live"  # as if recorded on a GPU machine
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    (root / "checks" / "x.jsonl").write_text(bad.read_text(), encoding="utf-8")
    results, problems = store.read_results(root)
    assert results and all("abcdefghijklmnop1234" not in (r.run.runtime or "") for r in results)
    (root / "checks" / "x.jsonl").unlink()
    from riskcards.guards.imports import import_files

    kb, _ = load(root)
    summary = import_files(kb, [bad], root / "checks")
    assert summary.imported == 1, [p.text() for p in summary.problems]
    assert "abcdefghijklmnop1234" not in (root / "checks" / "lg3-chat.jsonl").read_text()


def test_scrub_shapes_and_idempotence():
    for text in (
        "Bearer abcdefghijk123",
        '{"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}',
        "api_key=abcdef123456",
        "sk-proj-abcdefghijklmnopqrstu",
        "hf_abcdefghijklmnopqrstuvwx",
    ):
        once = scrub(text)
        assert MARK in once and scrub(once) == once, text
        assert find({"a": [text]}) == ["a[0]"]
    for text in ("unsafe\nS1,S10", "sha256:" + "a" * 64, "the token of esteem", "\n\nsafe"):
        assert scrub(text) == text and find(text) == []


def test_a_permanent_4xx_is_final_and_only_retried_on_request(tmp_path):
    root = make_kb(tmp_path)
    out = tmp_path / "out"
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        srv.inject("400", times=1, match="capital of France")
        first = run(root, "lg3-chat", out)
        errors = [r for r in store.read_file(store.result_path(out, "lg3-chat")) if r.verdict.label == "error"]
        assert len(errors) == 1 and errors[0].verdict.extra["error_kind"] == "rejected"
        assert errors[0].verdict.extra["status"] == 400 and first.transport_errors == 0
        sent = len(srv.posts())
        again = run(root, "lg3-chat", out)
        assert again.classified == 0 and len(srv.posts()) == sent, "a final error is not sent again"
        lines = len(store.read_file(store.result_path(out, "lg3-chat")))
        retried = run(root, "lg3-chat", out, retry_errors=True)
        assert retried.classified == 1 and retried.labels["safe"] == 1
        assert len(store.read_file(store.result_path(out, "lg3-chat"))) == lines + 1


def test_a_200_without_choices_and_without_results_are_alike(tmp_path, monkeypatch):
    root = make_kb(tmp_path)
    monkeypatch.setenv("RISKCARDS_TEST_MODERATION_KEY", "k" * 12)
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        srv.inject("no-choices", times=1, match="capital of France")
        srv.inject("no-results", times=1, match="capital of France")
        run(root, "lg3-chat", tmp_path / "a")
        run(root, "moderation", tmp_path / "b")
    kinds = []
    for folder, gid in ((tmp_path / "a", "lg3-chat"), (tmp_path / "b", "moderation")):
        err = [r for r in store.read_file(store.result_path(folder, gid)) if r.verdict.label == "error"]
        assert len(err) == 1
        kinds.append((err[0].verdict.extra["error_kind"], runner.is_final(err[0])))
    assert kinds == [("response", True), ("response", True)]


def test_redacted_text_is_never_sent(tmp_path):
    root = make_kb(tmp_path)
    card = root / "cards" / "guard-test-card.yaml"
    card.write_text(
        card.read_text()
        .replace(
            "    output: Paris is the capital of France.",
            '    output: "Paris is the capital of [redacted: a country]."',
        )
        .replace(
            "id: benign\n    language: en\n    provenance:\n      kind: illustrative\n    sensitivity: full",
            "id: benign\n    language: en\n    provenance:\n      kind: illustrative\n    sensitivity: defanged",
        ),
        encoding="utf-8",
    )
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        run(root, "lg3-chat", tmp_path / "out", targets="both")
        assert not [p for p in srv.posts() if "[redacted" in json.dumps(p["body"])]
    got = {(r.example.example, r.example.target) for r in store.read_file(tmp_path / "out" / "lg3-chat.jsonl")}
    assert ("benign", "prompt") in got and ("benign", "response") not in got


def test_coverage_counts_redacted_pairs_as_not_runnable_never_flagged_or_missed(tmp_path):
    from riskcards import index, query

    def coverage_for_root(root):  # the CLI's and the site's source: the index's guard_coverage table
        index.build(root, full=True)
        return [SimpleNamespace(**c) for c in query.guard_coverage(query.connect(index.default_db_path(root)))["cells"]]

    root = make_kb(tmp_path)
    with GuardServer(rules=RULES) as srv:
        write_config(root, srv.url)
        run(root, "lg3-chat", tmp_path / "out")
    # the verdicts recorded before the text was defanged stay in checks/, as a committed file would
    lines = (tmp_path / "out" / "lg3-chat.jsonl").read_text().splitlines()
    live = [json.loads(x) for x in lines]
    for rec in live:
        rec["run"]["source"] = "live"
    (root / "checks" / "lg3-chat.jsonl").write_text("".join(json.dumps(x) + "\n" for x in live))
    before = next(c for c in coverage_for_root(root) if c.card == "guard-test-card" and c.guard == "lg3-chat")
    card = root / "cards" / "guard-test-card.yaml"
    card.write_text(
        card.read_text().replace(
            "    sensitivity: full\n    prompt: Tell me a story.\n"
            '    output: "[[S1S10]] placeholder story with violence."',
            "    sensitivity: defanged\n    prompt: Tell me a story.\n"
            '    output: "[[S1S10]] placeholder story with [redacted: violence]."',
        ),
        encoding="utf-8",
    )
    after = next(c for c in coverage_for_root(root) if c.card == "guard-test-card" and c.guard == "lg3-chat")
    assert after.not_runnable == before.not_runnable + 1 and after.units == before.units - 1
    assert after.flagged == before.flagged - 1 and after.missed == before.missed
    assert after.expected_not_runnable == before.expected_not_runnable + 1
    assert after.expected == before.expected - 1
