"""Assessment logs are append-only: `riskcards validate --changed` compares each log with the git base and
refuses a changed or removed line (or a removed log), in a real git repository."""

from __future__ import annotations

import json

import pytest
from assess_kit import CARDS, kb, write_fixture
from test_lifecycle import Repo, problems

LOG = "assessments/golden/log/capitulating-under-user-pushback.jsonl"


@pytest.fixture
def repo(tmp_path) -> Repo:
    root = kb(tmp_path, (*CARDS, "eating-disorder-promotion"))
    write_fixture(root)
    r = Repo(root)
    r.git("init", "-q", "-b", "main")
    r.commit("knowledge base with an assessment")
    r.git("checkout", "-q", "-b", "contribution")
    return r


def _note(eid: str) -> str:
    return json.dumps(
        {
            "schema": "riskcards.assessment-log/1",
            "id": eid,
            "kind": "note",
            "at": "2026-12-03T09:00:00.000Z",
            "assessor": "ana",
            "card": "capitulating-under-user-pushback",
            "mode": "interactive",
            "note": "a later note",
        }
    )


def test_appending_to_a_log_passes(repo):
    repo.write(LOG, repo.read(LOG) + _note("c00000000001") + "\n")
    proc = repo.changed()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    repo.commit("more probing")
    assert repo.changed().returncode == 0


def test_a_changed_log_line_is_refused(repo):
    repo.edit(LOG, '"output": "Canberra."', '"output": "Canberra, the capital."')
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        f"{LOG}:1:1: log line 1 (entry a00000000001) was changed since main; logs are append-only: "
        "restore the line as it was (add a note entry to correct it)"
    ]


def test_a_removed_log_line_is_refused_even_when_committed(repo):
    lines = repo.read(LOG).splitlines(keepends=True)
    repo.write(LOG, "".join(lines[:1] + lines[2:]))
    repo.commit("tidy the log")
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [
        f"{LOG}:2:1: log line 2 (entry a00000000002) was changed since main; logs are append-only: "
        "restore the line as it was (add a note entry to correct it)"
    ]
    repo.write(LOG, "".join(lines[:3]))  # the tail cut off
    assert f"{LOG}:4:1: log line 4 (entry a00000000004) was removed since main" in repo.changed().stdout


def test_a_removed_log_is_refused(repo):
    (repo.root / LOG).unlink()
    proc = repo.changed()
    assert proc.returncode == 1
    assert problems(proc) == [f"{LOG}:1:1: log {LOG} was removed since main; logs are append-only: restore it"]
