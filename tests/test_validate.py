"""`riskcards validate`: located messages for every failure class, output formats, exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from broken_kb import BROKEN, build
from conftest import REPO

from riskcards.validate import validate

MARK = re.compile(r"#\s*<--\s*([a-z-]+)")


@pytest.fixture(scope="module")
def broken_root(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("broken") / "kb")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "riskcards", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_repo_knowledge_base_is_valid():
    result = validate(REPO)
    assert result.problems == [], "\n".join(p.text() for p in result.problems)
    assert result.kb.cards and result.kb.taxonomies and result.kb.scenarios and result.kb.models


def test_broken_records_give_exactly_the_expected_messages(broken_root):
    result = validate(broken_root)
    got = [p.text() for p in result.problems]
    expected = (BROKEN / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert got == expected


def test_every_planted_problem_is_reported_on_its_line(broken_root):
    result = validate(broken_root)
    reported = {(p.path, p.line, p.check) for p in result.problems}
    missing = []
    for path in BROKEN.rglob("*.yaml"):
        shown = path.relative_to(BROKEN).as_posix()
        text = path.read_bytes().decode("utf-8", errors="replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            m = MARK.search(line)
            if m and (shown, lineno, m.group(1)) not in reported:
                missing.append(f"{shown}:{lineno}: expected a '{m.group(1)}' problem")
    assert not missing, "\n".join(missing)


def test_every_broken_file_gets_at_least_one_problem(broken_root):
    result = validate(broken_root)
    files = {p.path for p in result.problems}
    for path in BROKEN.rglob("*.yaml"):
        assert path.relative_to(BROKEN).as_posix() in files
    for extra in ("cards/fifty-megabytes.yaml", "cards/a-directory.yaml", "cards/broken-link.yaml"):
        assert extra in files


def test_valid_records_next_to_broken_ones_are_still_loaded(broken_root):
    result = validate(broken_root)
    assert "confident-wrong-dosage-advice" in result.kb.cards
    assert "llama-guard-3" in result.kb.taxonomies


def test_cli_exit_codes_and_no_traceback(broken_root, kb_root):
    bad = run_cli("validate", cwd=broken_root)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stdout + bad.stderr
    assert bad.stdout.splitlines()[-1].startswith("66 problems in 25 files")
    good = run_cli("validate", cwd=kb_root)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.startswith("ok: ")
    usage = run_cli("validate", "--format", "xml", cwd=kb_root)
    assert usage.returncode == 2
    nowhere = run_cli("validate", cwd=kb_root / "cards" / "..")
    assert nowhere.returncode == 0


def test_cli_outside_a_knowledge_base_is_a_usage_error(tmp_path):
    out = run_cli("validate", cwd=tmp_path)
    assert out.returncode == 2
    assert "not a knowledge base" in out.stderr


def test_json_format(broken_root):
    out = run_cli("validate", "--format", "json", cwd=broken_root)
    data = json.loads(out.stdout)
    assert data["problem_count"] == 66
    first = data["problems"][0]
    assert set(first) == {"path", "line", "col", "message", "check"}


def test_github_format_is_workflow_annotation_syntax(broken_root):
    out = run_cli("validate", "--format", "github", cwd=broken_root)
    lines = out.stdout.splitlines()
    assert len(lines) == 66
    pattern = re.compile(r"^::error file=[^,:]+,line=\d+,col=\d+,title=[^,:]+::.+$")
    for line in lines:
        assert pattern.match(line), line
        assert "\n" not in line


def test_paths_argument_reports_only_those_files(broken_root):
    out = run_cli("validate", "cards/bad-enums.yaml", cwd=broken_root)
    assert out.returncode == 1
    lines = out.stdout.splitlines()[:-1]
    assert lines and all(line.startswith("cards/bad-enums.yaml:") for line in lines)


def test_a_single_file_outside_the_root_is_checked(tmp_path, kb_root):
    stray = tmp_path / "elsewhere" / "cards"
    stray.mkdir(parents=True)
    shutil.copy(BROKEN / "cards" / "bad-enums.yaml", stray / "bad-enums.yaml")
    out = run_cli("validate", "--root", str(kb_root), str(stray / "bad-enums.yaml"), cwd=tmp_path)
    assert out.returncode == 1
    assert "'reviwed' is not allowed for 'status'" in out.stdout


def test_loading_policy_keeps_dates_and_yes_as_strings(kb_root):
    card = (kb_root / "cards" / "confident-wrong-dosage-advice.yaml").read_text(encoding="utf-8")
    card = card.replace('created: "2026-11-28"', "created: 2026-11-28").replace(
        "tags: [health, misinformation]", "tags: [yes, no, on]"
    )
    (kb_root / "cards" / "confident-wrong-dosage-advice.yaml").write_text(card, encoding="utf-8")
    result = validate(kb_root)
    assert result.problems == []
    loaded = result.kb.cards["confident-wrong-dosage-advice"]
    assert loaded.created == "2026-11-28"
    assert loaded.tags == ["yes", "no", "on"]


def test_crlf_bom_and_missing_final_newline_are_read(kb_root):
    path = kb_root / "cards" / "confident-wrong-dosage-advice.yaml"
    text = path.read_text(encoding="utf-8").rstrip("\n").replace("\n", "\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert validate(kb_root).problems == []


def test_problem_in_a_crlf_file_is_located(kb_root):
    path = kb_root / "cards" / "confident-wrong-dosage-advice.yaml"
    text = path.read_text(encoding="utf-8").replace("status: draft", "status: drafty").replace("\n", "\r\n")
    path.write_bytes(text.encode("utf-8"))
    problems = validate(kb_root).problems
    line = next(i for i, ln in enumerate(text.split("\r\n"), 1) if ln.startswith("status:"))
    assert [(p.line, p.col) for p in problems] == [(line, 9)]


def test_parallel_loading_gives_the_same_result(broken_root, monkeypatch):
    from riskcards import load

    serial = validate(broken_root)
    monkeypatch.setattr(load, "PARALLEL_MIN_FILES", 1)
    parallel = validate(broken_root)
    assert [p.text() for p in parallel.problems] == [p.text() for p in serial.problems]
    assert parallel.kb.cards.keys() == serial.kb.cards.keys()


def test_list_items_are_named_by_what_they_are_not_by_index(tmp_path):
    """A message about a list item says which item: a string by its value, a mapping by its id, else list[i]
    (it used to say "'0' is longer than 80 characters")."""
    from index_kb import make_index_kb

    root = make_index_kb(tmp_path / "kb", cards={}, results=False)
    text = (REPO / "cards" / "confident-wrong-dosage-advice.yaml").read_text(encoding="utf-8")
    text = text.replace("\ntitle:", "\naliases:\n  - " + "x" * 90 + "\n  - Bad_Alias\n  - 7\ntitle:", 1)
    (root / "cards" / "confident-wrong-dosage-advice.yaml").write_text(text, encoding="utf-8")
    msgs = {p.line: p.message for p in validate(root).problems if p.check == "schema"}
    lines = text.splitlines()
    by_text = {lines[n - 1].strip(): m for n, m in msgs.items()}
    assert by_text["- " + "x" * 90] == f"aliases item '{'x' * 57}...' is longer than 80 characters; shorten it"
    assert by_text["- Bad_Alias"].startswith("'Bad_Alias' is not valid for an item of 'aliases': write a lower-case")
    assert by_text["- 7"].startswith("aliases[2] must be a string")
    assert not [m for m in msgs.values() if re.match(r"'\d+'", m)]  # no item named by a bare index
