"""The runner against a real HTTP server on 127.0.0.1 that answers as vLLM and OpenAI do, with injected faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from guard_kit import RULES, load, make_kb, write_config
from guard_server import GuardServer

from riskcards.guards import runner, store
from riskcards.guards.protocol import TransportError

EXPECTED_JOBS = {
    ("confident-wrong-dosage-advice", "doubled-dose", "response"): ("safe", []),
    ("confident-wrong-dosage-advice", "child-dose-de", "response"): ("safe", []),
    ("guard-test-card", "hate-output", "response"): ("unsafe", ["S10"]),
    ("guard-test-card", "hate-output", "prompt"): ("safe", []),
    ("guard-test-card", "two-codes", "response"): ("unsafe", ["S1", "S10"]),
    ("guard-test-card", "benign", "response"): ("safe", []),
    ("guard-test-card", "conversation", "response"): ("unsafe", ["S10"]),
    ("guard-test-card", "prompt-only", "response"): ("unsafe", ["S1"]),
    ("guard-test-card", "prompt-only", "prompt"): ("unsafe", ["S1"]),
}


@pytest.fixture
def server():
    with GuardServer(rules=RULES) as srv:
        yield srv


@pytest.fixture
def kb_root(tmp_path, server):
    root = make_kb(tmp_path)
    write_config(root, server.url)
    return root


def run(root, guard, out, **kw):
    kb, configs = load(root)
    kw.setdefault("backoff", 0.01)
    return runner.run_guard(kb, configs[guard], out, **kw)


def outcome(out: Path, guard: str) -> dict:
    return {
        (r.example.card, r.example.example, r.example.target): (r.verdict.label, r.verdict.categories)
        for r in store.read_file(store.result_path(out, guard))
    }


def test_chat_mode_end_to_end(kb_root, server, tmp_path):
    out = tmp_path / "out"
    summary = run(kb_root, "lg3-chat", out)
    assert summary.planned == len(EXPECTED_JOBS) == summary.classified == summary.written
    assert outcome(out, "lg3-chat") == EXPECTED_JOBS
    posts = server.posts("/v1/chat/completions")
    assert len(posts) == len(EXPECTED_JOBS)
    for p in posts:
        body = p["body"]
        assert body["model"] == "meta-llama/Llama-Guard-3-8B"
        assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0, 1, 20)
        assert body["logprobs"] is True and body["top_logprobs"] == 5
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"] * (len(roles) % 2)
        assert all(isinstance(m["content"], str) for m in body["messages"])
    results = store.read_file(store.result_path(out, "lg3-chat"))
    r = next(r for r in results if r.example.example == "hate-output" and r.example.target == "response")
    assert r.raw == "\n\nunsafe\nS10"  # exactly as the server sent it, leading newlines included
    assert r.verdict.scores["unsafe"] == pytest.approx(0.97, abs=1e-4)
    assert r.run.source == "stub"  # the server said it is a test double
    assert r.guard.transport == "openai-chat" and r.guard.template_sha256 is None
    assert r.guard.params == {"temperature": 0, "top_p": 1, "max_tokens": 20, "top_logprobs": 5}
    assert r.run.runtime == "vllm 0.0.0+test-double"


def test_rerun_sends_nothing_and_an_edit_invalidates_one(kb_root, server, tmp_path):
    out = tmp_path / "out"
    run(kb_root, "lg3-chat", out)
    before, before_all = len(server.posts()), server.count
    again = run(kb_root, "lg3-chat", out)
    assert server.count == before_all  # not even GET /v1/models
    assert again.cached == len(EXPECTED_JOBS) and again.classified == 0
    card = kb_root / "cards" / "guard-test-card.yaml"
    card.write_text(card.read_text().replace("Paris is the capital of France.", "Paris is the capital of France!"))
    third = run(kb_root, "lg3-chat", out)
    assert third.classified == 1 and len(server.posts()) == before + 1
    assert server.posts()[-1]["body"]["messages"][1]["content"] == "Paris is the capital of France!"


def test_identical_inputs_are_sent_once(kb_root, server, tmp_path):
    card = kb_root / "cards" / "guard-test-card.yaml"
    text = card.read_text()
    card.write_text(
        text.replace("What is the capital of France?", "Write something about my neighbours.").replace(
            "Paris is the capital of France.", '"[[S10]] placeholder for a hateful reply about a group."'
        )
    )
    out = tmp_path / "out"
    summary = run(kb_root, "lg3-chat", out)
    assert summary.classified == len(EXPECTED_JOBS) - 1 and summary.written == len(EXPECTED_JOBS)
    assert outcome(out, "lg3-chat")[("guard-test-card", "benign", "response")] == ("unsafe", ["S10"])


def test_completions_mode_sends_the_rendered_prompt(kb_root, server, tmp_path):
    out = tmp_path / "out"
    run(kb_root, "lg3-completions", out)
    posts = server.posts("/v1/completions")
    assert len(posts) == len(EXPECTED_JOBS)
    prompts = [p["body"]["prompt"] for p in posts]
    assert all(p.startswith("<|start_header_id|>user<|end_header_id|> Task: Check") for p in prompts)
    assert all("<|begin_of_text|>" not in p for p in prompts)
    assert all(p["body"]["max_tokens"] == 20 and p["body"]["temperature"] == 0 for p in posts)
    results = store.read_file(store.result_path(out, "lg3-completions"))
    assert {r.guard.template_sha256 for r in results} != {None} and len({r.guard.template_sha256 for r in results}) == 1
    got = outcome(out, "lg3-completions")
    assert got == EXPECTED_JOBS  # no leading newlines in completions mode, same verdicts


def test_moderation_key_from_env_and_never_recorded(kb_root, tmp_path, monkeypatch):
    key = "sk-test-0123456789abcdef"
    monkeypatch.setenv("RISKCARDS_TEST_MODERATION_KEY", key)
    rules = [("[[S10]]", "hate")]
    with GuardServer(rules=rules, api_key=key) as srv:
        write_config(kb_root, srv.url)
        out = tmp_path / "out"
        run(kb_root, "moderation", out)
        posts = srv.posts("/v1/moderations")
        assert posts and all(p["headers"]["authorization"] == f"Bearer {key}" for p in posts)
        assert all(
            p["body"]["model"] == "omni-moderation-latest" and isinstance(p["body"]["input"], str) for p in posts
        )
        got = outcome(out, "moderation")
        assert got[("guard-test-card", "hate-output", "response")] == ("unsafe", ["hate"])
        assert got[("guard-test-card", "benign", "response")] == ("safe", [])
        text = store.result_path(out, "moderation").read_text()
        assert key not in text
        rec = store.read_file(store.result_path(out, "moderation"))[0]
        assert rec.verdict.extra["model"] == "omni-moderation-2024-09-26" and len(rec.verdict.scores) == 13
    monkeypatch.setenv("RISKCARDS_TEST_MODERATION_KEY", "sk-wrong")
    with GuardServer(rules=rules, api_key=key) as srv:
        write_config(kb_root, srv.url)
        s = run(kb_root, "moderation", tmp_path / "out2")
        assert s.transport_errors == s.planned
        rec = store.read_file(store.result_path(tmp_path / "out2", "moderation"))[0]
        assert rec.verdict.label == "error" and "HTTP 401" in rec.verdict.parse_error
        assert "$RISKCARDS_TEST_MODERATION_KEY" in rec.verdict.parse_error and "sk-wrong" not in rec.verdict.parse_error
    monkeypatch.delenv("RISKCARDS_TEST_MODERATION_KEY")
    with pytest.raises(TransportError, match="set the environment variable RISKCARDS_TEST_MODERATION_KEY"):
        run(kb_root, "moderation", tmp_path / "out3")


# ---- faults -----------------------------------------------------------------------------------------------

BENIGN = "Paris is the capital of France."


@pytest.mark.parametrize("kind", ["500", "503", "malformed", "drop", "timeout"])
def test_transient_faults_are_retried_to_success(kb_root, server, tmp_path, kind):
    server.inject(kind, times=1, match=BENIGN, delay=2.0)
    out = tmp_path / "out"
    summary = run(kb_root, "lg3-chat", out, timeout=0.5)
    assert outcome(out, "lg3-chat") == EXPECTED_JOBS
    assert summary.transport_errors == 0
    sent = [p for p in server.posts() if BENIGN in json.dumps(p["body"])]
    assert len(sent) == 2  # the failed try and the retry


def test_429_honours_retry_after(kb_root, server, tmp_path):
    server.inject("429", times=1, match=BENIGN, retry_after="1")
    out = tmp_path / "out"
    run(kb_root, "lg3-chat", out)
    sent = [p for p in server.posts() if BENIGN in json.dumps(p["body"])]
    assert len(sent) == 2
    assert sent[1]["t"] - sent[0]["t"] >= 0.9  # waited as told, not the 10 ms backoff
    assert outcome(out, "lg3-chat") == EXPECTED_JOBS


def test_persistent_failure_is_an_error_verdict_then_retried_on_rerun(kb_root, server, tmp_path):
    server.inject("503", times=100, match=BENIGN)
    out = tmp_path / "out"
    summary = run(kb_root, "lg3-chat", out, retries=2)
    assert summary.transport_errors == 1
    got = outcome(out, "lg3-chat")
    assert got[("guard-test-card", "benign", "response")] == ("error", [])
    rec = next(r for r in store.read_file(store.result_path(out, "lg3-chat")) if r.example.example == "benign")
    assert "HTTP 503" in rec.verdict.parse_error and "after 3 attempts" in rec.verdict.parse_error
    assert rec.verdict.extra["error_kind"] == "transport"
    server.faults.clear()
    before = len(server.posts())
    again = run(kb_root, "lg3-chat", out)
    assert again.classified == 1 and len(server.posts()) == before + 1  # only the failed one is sent again
    assert outcome(out, "lg3-chat") == EXPECTED_JOBS  # the latest record wins


@pytest.mark.parametrize(
    "kind, why",
    [
        ("truncated", "truncated"),
        ("chatty", "expected 'safe' or 'unsafe'"),
        ("400", "HTTP 400: This model's maximum context length"),
    ],
)
def test_bad_answers_end_as_error_verdicts(kb_root, server, tmp_path, kind, why):
    server.inject(kind, times=1, match=BENIGN)
    out = tmp_path / "out"
    run(kb_root, "lg3-chat", out)
    rec = next(r for r in store.read_file(store.result_path(out, "lg3-chat")) if r.example.example == "benign")
    assert rec.verdict.label == "error" and why in rec.verdict.parse_error
    assert len([p for p in server.posts() if BENIGN in json.dumps(p["body"])]) == 1  # not retried


def test_parse_errors_are_final_on_rerun(kb_root, server, tmp_path):
    server.inject("chatty", times=1, match=BENIGN)
    out = tmp_path / "out"
    run(kb_root, "lg3-chat", out)
    before = len(server.posts())
    assert run(kb_root, "lg3-chat", out).classified == 0 and len(server.posts()) == before


def test_unknown_model_and_unreachable_server(kb_root, tmp_path):
    with GuardServer(model="someone/Other-Model") as srv:
        write_config(kb_root, srv.url)
        with pytest.raises(
            TransportError, match="does not serve 'meta-llama/Llama-Guard-3-8B'; it serves: someone/Other-Model"
        ):
            run(kb_root, "lg3-chat", tmp_path / "out")
    write_config(kb_root, "http://127.0.0.1:9/v1")
    with pytest.raises(TransportError, match="cannot reach"):
        run(kb_root, "lg3-chat", tmp_path / "out")


# ---- test doubles never enter checks/ ----------------------------------------------------------------------


def test_refuses_to_write_test_double_verdicts_into_checks(kb_root, server):
    with pytest.raises(runner.RefusedError, match="test double"):
        run(kb_root, "lg3-chat", kb_root / "checks")
    assert list((kb_root / "checks").iterdir()) == []
    assert server.posts() == []  # refused before sending anything


def test_refuses_at_write_time_when_the_probe_did_not_tell(kb_root, server, monkeypatch):
    from riskcards.guards.transports.openai_http import HTTPTransport

    monkeypatch.setattr(HTTPTransport, "probe", lambda self: {"served": [], "test_double": False})
    with pytest.raises(runner.RefusedError, match="test double"):
        run(kb_root, "lg3-chat", kb_root / "checks", concurrency=1)
    assert store.read_file(store.result_path(kb_root / "checks", "lg3-chat")) == []


def test_stub_records_in_checks_are_problems_not_results(kb_root, server, tmp_path):
    out = tmp_path / "out"
    run(kb_root, "lg3-chat", out)
    line = store.result_path(out, "lg3-chat").read_text().splitlines()[0]
    (kb_root / "checks" / "lg3-chat.jsonl").write_text(line + "\n")
    results, problems = store.read_results(kb_root)
    assert results == [] and len(problems) == 1
    assert problems[0].text().startswith("checks/lg3-chat.jsonl:1:1: a verdict from a test double")


# ---- sharding and interruption -----------------------------------------------------------------------------


def test_shards_partition_the_jobs(kb_root, server, tmp_path):
    kb, configs = load(kb_root)
    _guard, meta = runner.open_guard(configs["lg3-chat"], kb)
    every = {j.key for j in runner.plan(kb, meta)}
    parts = [{j.key for j in runner.plan(kb, meta, shard=(i, 3))} for i in (1, 2, 3)]
    assert set().union(*parts) == every and sum(len(p) for p in parts) == len(every)
    out = tmp_path / "out"
    for i in (1, 2, 3):
        run(kb_root, "lg3-chat", out, shard=(i, 3))
    assert outcome(out, "lg3-chat") == EXPECTED_JOBS and len(server.posts()) == len(EXPECTED_JOBS)
    for bad in ("0/3", "4/3", "1-3", "a/b"):
        with pytest.raises(ValueError, match="--shard"):
            runner.parse_shard(bad)


def _sent_keys(server, start=0):
    return [json.dumps(p["body"]["messages"], sort_keys=True) for p in server.posts("/v1/chat/completions")[start:]]


def test_interrupted_run_resumes_without_repeating_finished_requests(kb_root, server, tmp_path):
    out = tmp_path / "out"
    seen = []

    def interrupt_after_three(n, result):
        seen.append(result)
        if len(seen) == 3:
            raise KeyboardInterrupt

    first = run(kb_root, "lg3-chat", out, concurrency=1, progress=interrupt_after_three)
    assert first.interrupted
    recorded = store.read_file(store.result_path(out, "lg3-chat"))
    assert 3 <= len(recorded) < len(EXPECTED_JOBS)
    done_inputs = {
        json.dumps([{"role": m.role, "content": m.content} for m in j.input.messages], sort_keys=True)
        for j in runner.plan(*_kb_meta(kb_root))
        if j.key in {r.key for r in recorded}
    }
    start = len(server.posts("/v1/chat/completions"))
    second = run(kb_root, "lg3-chat", out, concurrency=1)
    assert not second.interrupted and second.cached == len(recorded)
    assert not done_inputs & set(_sent_keys(server, start))
    assert outcome(out, "lg3-chat") == EXPECTED_JOBS


def _kb_meta(root):
    kb, configs = load(root)
    return kb, runner.open_guard(configs["lg3-chat"], kb)[1]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_cli_run_resumes(tmp_path, sig):
    """A `riskcards guard run` process killed mid-run (SIGKILL, possibly mid-line) or interrupted (Ctrl-C)
    resumes on the next run without repeating what it recorded."""
    root = make_kb(tmp_path)
    with GuardServer(rules=RULES, latency=0.3) as srv:
        write_config(root, srv.url, concurrency=1)
        out = tmp_path / "out"
        cmd = [
            str(Path(sys.executable).parent / "riskcards"),
            "guard",
            "run",
            "lg3-chat",
            "--root",
            str(root),
            "--out",
            str(out),
            "--no-progress",
            "-j",
            "1",
        ]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"}
        )
        path = store.result_path(out, "lg3-chat")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not path.exists() or path.read_text().count("\n") < 3):
            time.sleep(0.05)
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and b"run the same command again to resume" in err
        recorded = store.read_file(path)
        assert 3 <= len(recorded) < len(EXPECTED_JOBS)
        start = len(srv.posts("/v1/chat/completions"))
        done = {r.key for r in recorded}
        kb, meta = _kb_meta(root)
        done_inputs = {
            json.dumps([{"role": m.role, "content": m.content} for m in j.input.messages], sort_keys=True)
            for j in runner.plan(kb, meta)
            if j.key in done
        }
        res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        assert res.returncode == 0, res.stderr
        assert f"{len(recorded)} already recorded" in res.stdout
        assert not done_inputs & set(_sent_keys(srv, start))
        assert outcome(out, "lg3-chat") == EXPECTED_JOBS


def test_retry_after_and_error_bodies():
    from riskcards.guards.transports.openai_http import error_message, retry_after_seconds

    assert retry_after_seconds("3") == 3.0 and retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    vllm = (
        b'{"object": "error", "message": "The model `x` does not exist.", "type": "NotFoundError", '
        b'"param": null, "code": 404}'
    )
    openai = (
        b'{"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error", '
        b'"param": null, "code": "invalid_api_key"}}'
    )
    assert error_message(404, "Not Found", vllm) == "The model `x` does not exist."
    assert error_message(401, "Unauthorized", openai) == "Incorrect API key provided."
    assert error_message(502, "Bad Gateway", b"<html>bad gateway</html>") == "<html>bad gateway</html>"
    assert error_message(502, "Bad Gateway", b"") == "Bad Gateway"


def test_ollama_style_answers_without_leading_newlines(kb_root, tmp_path):
    with GuardServer(rules=RULES, style="ollama") as srv:
        write_config(kb_root, srv.url)
        out = tmp_path / "out"
        run(kb_root, "lg3-chat", out)
    assert outcome(out, "lg3-chat") == EXPECTED_JOBS
    assert {r.raw for r in store.read_file(store.result_path(out, "lg3-chat"))} == {
        "safe",
        "unsafe\nS10",
        "unsafe\nS1",
        "unsafe\nS1,S10",
    }


def test_local_transformers_transport_without_the_extra(tmp_path):
    from riskcards.guards.transports.transformers_local import TransformersTransport, folder_revision

    with pytest.raises(TransportError, match="is not a folder"):
        TransformersTransport(tmp_path / "missing")
    snap = tmp_path / "models--meta-llama--Llama-Guard-3-1B" / "snapshots" / ("a" * 40)
    snap.mkdir(parents=True)
    assert folder_revision(snap) == "a" * 40
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "config.json").write_text('{"model_type": "llama"}')
    first = folder_revision(plain)
    (plain / "config.json").write_text('{"model_type": "llama", "vocab_size": 5}')
    assert first.startswith("sha256:") and folder_revision(plain) != first
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        with pytest.raises(TransportError, match=r"pip install -e .*\[transformers\]'"):
            TransformersTransport(plain)


OTHER_GUARDS = """  wildguard:
    adapter: wildguard
    model: wildguard
    model_name: meta-llama/Llama-Guard-3-8B
    transport: openai-completions
    base_url: {url}
  aegis2:
    adapter: aegis-2.0
    model: nemoguard-8b
    model_name: meta-llama/Llama-Guard-3-8B
    transport: openai-chat
    base_url: {url}
  shieldgemma:
    adapter: shieldgemma
    model: shieldgemma-2b
    model_name: meta-llama/Llama-Guard-3-8B
    transport: openai-completions
    base_url: {url}
    policies: [hate_speech, harassment]
  granite:
    adapter: granite-guardian
    model: granite-guardian-3.1-2b
    model_name: meta-llama/Llama-Guard-3-8B
    transport: openai-chat
    base_url: {url}
    policies: [harm, social_bias]
"""


@pytest.mark.parametrize(
    "guard, rule, calls, flagged",
    [
        ("wildguard", "Harmful request: no\nResponse refusal: no\nHarmful response: yes", 1, ("unsafe", [])),
        (
            "aegis2",
            '{"User Safety": "safe", "Response Safety": "unsafe", "Safety Categories": "Hate/Identity Hate"}',
            1,
            ("unsafe", ["S8"]),
        ),
        ("shieldgemma", "Yes", 2, ("unsafe", ["hate_speech", "harassment"])),
        ("granite", "Yes\n<confidence> High </confidence>", 2, ("unsafe", ["harm", "social_bias"])),
    ],
)
def test_other_families_end_to_end(tmp_path, guard, rule, calls, flagged):
    root = make_kb(tmp_path, cards=("guard-test-card",))
    safe = {
        "wildguard": "Harmful request: no\nResponse refusal: no\nHarmful response: no",
        "aegis2": '{"User Safety": "safe", "Response Safety": "safe"}',
        "shieldgemma": "No",
        "granite": "No",
    }[guard]
    with GuardServer(rules=[("[[S10]]", rule), ("", safe)]) as srv:
        write_config(root, srv.url, extra=OTHER_GUARDS.format(url=srv.url))
        out = tmp_path / "out"
        s = run(root, guard, out)
        assert s.requests == s.classified * calls and s.labels["error"] == 0
    got = outcome(out, guard)
    assert got[("guard-test-card", "hate-output", "response")] == flagged
    assert got[("guard-test-card", "benign", "response")] == ("safe", [])
