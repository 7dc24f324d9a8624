"""Targets are opened through the transport registry (riskcards.guards.transports): an in-process python target
(a `module:function` in the interface) runs end to end, and a target announcing itself as a test double is
refused for a knowledge base's assessments/ (python and HTTP alike)."""

from __future__ import annotations

import json
import shutil

import pytest
from assess_kit import cli, kb, new_assessment
from assess_server import TargetServer

from riskcards.assess.target import open_target
from riskcards.guards import transports

CARD = "capitulating-under-user-pushback"
TARGETS = '''
def pharmacy_bot(messages):
    """A deployment's own code in front of a model: here, a rule-based stand-in."""
    last = messages[-1]["content"]
    if any(m["role"] == "system" for m in messages) and "No," in last:
        return "You are right, I was wrong."
    return "I can only answer questions about your prescription."


def double(messages):
    return "stub answer"


double.test_double = True
'''


@pytest.fixture
def root(tmp_path):
    r = kb(tmp_path)
    (r / "deployment_targets.py").write_text(TARGETS, encoding="utf-8")  # a module of the user's own, at the root
    return r


def new_python(root, aid: str, entry: str):
    return new_assessment(
        root, aid, "--transport", "python", "--entry", entry, "--system-prompt", "You are a pharmacy assistant."
    )


def test_an_in_process_python_target_runs_end_to_end(root):
    folder = new_python(root, "inproc", "deployment_targets:pharmacy_bot")
    text = (folder / "assessment.yaml").read_text(encoding="utf-8")
    assert "transport: python" in text and 'entry: "deployment_targets:pharmacy_bot"' in text
    proc = cli(root, "assess", "run", "inproc", "--card", CARD)
    assert "sent (" in proc.stdout and "0 failed" in proc.stdout and "test double" not in proc.stdout
    entries = [json.loads(x) for x in (folder / "log" / f"{CARD}.jsonl").read_text().splitlines()]
    assert entries and all(e["target"]["transport"] == "python" and e["target"]["host"] == "local" for e in entries)
    assert all(e["target"]["source"] == "live" for e in entries)
    assert {e["output"] for e in entries} <= {
        "You are right, I was wrong.",
        "I can only answer questions about your prescription.",
    }
    assert "0 sent" in cli(root, "assess", "run", "inproc", "--card", CARD).stdout  # the cache works here too
    assert cli(root, "validate").returncode == 0


def test_a_python_target_needs_an_importable_entry(root):
    new_python(root, "broken", "deployment_targets:nowhere")
    proc = cli(root, "assess", "run", "broken", check=False)
    assert proc.returncode == 2 and "cannot import it" in proc.stderr and "Traceback" not in proc.stderr
    bad = root / "assessments" / "broken" / "assessment.yaml"
    bad.write_text(bad.read_text().replace('    entry: "deployment_targets:nowhere"\n', ""), encoding="utf-8")
    proc = cli(root, "assess", "validate", "broken", check=False)
    assert proc.returncode == 1 and "transport 'python' needs 'entry'" in proc.stdout


def test_a_python_test_double_is_refused_for_assessments_and_allowed_outside(root, tmp_path):
    folder = new_python(root, "stub", "deployment_targets:double")
    proc = cli(root, "assess", "run", "stub", "--card", CARD, check=False)
    assert proc.returncode == 2 and "is a test double" in proc.stderr
    assert not (folder / "log").exists()  # nothing written
    scratch = tmp_path / "scratch" / "stub"
    shutil.copytree(folder, scratch)
    proc = cli(root, "assess", "run", str(scratch), "--card", CARD)
    assert "[test double]" in proc.stdout
    entries = [json.loads(x) for x in (scratch / "log" / f"{CARD}.jsonl").read_text().splitlines()]
    assert entries and all(e["target"]["source"] == "stub" for e in entries)


def test_targets_are_opened_through_the_transport_registry(root, monkeypatch):
    """A transport plugged into the registry is what an assessment's target uses: no transport is called directly."""
    from riskcards.validate import assessment_records as records

    opened = []
    real = transports.open_transport

    def spy(config, **kw):
        opened.append(config)
        return real(config, **kw)

    monkeypatch.setattr(transports, "open_transport", spy)
    with TargetServer(announce=True) as server:
        new_assessment(root, "http", "--base-url", server.url, "--model-name", server.model)
        f, problems = records.load(root, root / "assessments" / "http")
        assert problems == []
        target = open_target(f.assessment, f.dir)
        try:
            assert target.send([{"role": "user", "content": "hi"}]).raw == "Reply to: hi"
        finally:
            target.close()
    assert [c.transport for c in opened] == ["openai-chat"] and opened[0].base_url == server.url
    assert opened[0].api_key_env is None and opened[0].test_double is False
