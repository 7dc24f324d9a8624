"""`riskcards new`: flags off a terminal, questions on one; the scaffold validates as written."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from riskcards.validate import validate


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "riskcards", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_new_with_flags_writes_a_valid_card(kb_root):
    out = run(
        "new",
        "jailbreak-by-emoji",
        "--title",
        "Jailbreak: by emoji",
        "--summary",
        "The model follows instructions hidden in emoji.",
        "--author",
        "Ada",
        "-p",
        "weidinger-2021:W4.3",
        "-p",
        "owasp-llm-top10-2025:LLM01",
        "-s",
        "customer-support-bot",
        cwd=kb_root,
    )
    assert out.returncode == 0, out.stderr
    path = kb_root / "cards" / "jailbreak-by-emoji.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schema/card.schema.json\n")
    result = validate(kb_root)
    assert result.problems == [], [p.text() for p in result.problems]
    card = result.kb.cards["jailbreak-by-emoji"]
    assert card.title == "Jailbreak: by emoji"
    assert [p.ref for p in card.placements] == ["weidinger-2021:W4.3", "owasp-llm-top10-2025:LLM01"]
    assert card.contributors == ["Ada"] and card.status == "draft"


def test_new_refuses_bad_input(kb_root):
    bad_id = run("new", "Bad Id", "--title", "t", "--summary", "s", cwd=kb_root)
    assert bad_id.returncode == 2 and "not a valid id" in bad_id.stderr
    bad_ref = run("new", "fine-id", "--title", "t", "--summary", "s", "-p", "W1.3", cwd=kb_root)
    assert bad_ref.returncode == 2 and "taxonomy-id:code" in bad_ref.stderr
    missing = run("new", "fine-id", cwd=kb_root)
    assert missing.returncode == 2 and "--title is required" in missing.stderr
    exists = run("new", "confident-wrong-dosage-advice", "--title", "t", "--summary", "s", cwd=kb_root)
    assert exists.returncode == 2 and "exists" in exists.stderr
    assert "Traceback" not in bad_id.stderr + bad_ref.stderr + missing.stderr + exists.stderr


def test_new_asks_on_a_terminal(kb_root):
    """Drive the questions through a real pseudo-terminal, as a person would."""
    pid, fd = pty.fork()
    if pid == 0:  # child: the CLI on a terminal
        os.chdir(kb_root)
        os.execv(sys.executable, [sys.executable, "-m", "riskcards", "new"])
    answers = [
        ("Title", "Model invents court cases"),
        ("Id", ""),
        ("Summary", "The model cites court cases that do not exist."),
        ("name or handle", "Grace"),
    ]
    seen = b""
    deadline = time.time() + 60
    for prompt, answer in answers:
        while prompt.encode() not in seen and time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    seen += os.read(fd, 1024)
                except OSError:
                    break
        assert prompt.encode() in seen, seen.decode(errors="replace")
        seen = b""
        os.write(fd, answer.encode() + b"\r")
    rest = b""
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        rest += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, rest.decode(errors="replace")
    path = kb_root / "cards" / "model-invents-court-cases.yaml"  # the suggested id was accepted
    assert path.exists(), rest.decode(errors="replace")
    assert validate(kb_root).problems == []


def test_new_refuses_unknown_codes_taxonomies_and_scenarios_with_the_nearest(kb_root):
    """Issue 16: `new bad -p weidinger-2021:W99 -s medical-qa` wrote a card that failed validation."""
    code = run("new", "bad", "--title", "x", "--summary", "y", "-p", "weidinger-2021:W99", cwd=kb_root)
    assert code.returncode == 2, code.stdout
    assert "unknown code 'W99' in weidinger-2021" in code.stderr and "did you mean" in code.stderr
    tax = run("new", "bad", "--title", "x", "--summary", "y", "-p", "weidinger-2012:W1", cwd=kb_root)
    assert tax.returncode == 2 and "unknown taxonomy 'weidinger-2012'" in tax.stderr
    assert "'weidinger-2021'" in tax.stderr
    scen = run("new", "bad", "--title", "x", "--summary", "y", "-s", "medical-qa", cwd=kb_root)
    assert scen.returncode == 2 and "unknown scenario 'medical-qa'" in scen.stderr
    assert "'medical-question-answering'" in scen.stderr
    assert not (kb_root / "cards" / "bad.yaml").exists()
