"""Issue 12, item 7: `--help` on the fast path. The first run draws the help with typer and keeps the text;
later runs print the kept text without importing typer. What they print is typer's text, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskcards.cli import helpcache

HELPS = [
    ["--help"],
    ["-h"],
    ["query", "--help"],
    ["show", "-h"],
    ["taxonomy", "--help"],
    ["crosswalk", "--help"],
    ["stats", "--help"],
    ["assess", "run", "--help"],
]


SCRIPT = str(Path(sys.executable).parent / "riskcards")  # the installed command, as a user starts it


def riskcards(args: list[str], cache: Path, *, start: tuple[str, ...] = (SCRIPT,), **env: str):
    full = {**os.environ, "RISKCARDS_CACHE": str(cache), "COLUMNS": "100", **env}
    return subprocess.run([*start, *args], capture_output=True, text=True, env=full, timeout=120)


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "help").glob("*.txt")) if (cache / "help").is_dir() else []


@pytest.mark.parametrize("args", HELPS, ids=" ".join)
def test_kept_help_is_typers_text_and_is_printed_without_typer(tmp_path, args):
    cache = tmp_path / "cache"
    drawn = riskcards(args, cache, RISKCARDS_HELP_CACHE="0")  # typer only
    assert drawn.returncode == 0 and "Usage: riskcards" in drawn.stdout and not entries(cache)
    first = riskcards(args, cache)
    assert first.returncode == 0 and first.stdout == drawn.stdout
    assert len(entries(cache)) == 1
    kept = riskcards(args, cache, start=(sys.executable, "-X", "importtime", SCRIPT))  # same key, imports listed
    assert kept.returncode == 0 and kept.stdout == drawn.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in kept.stderr.splitlines() if line.startswith("import time")}
    assert "typer" not in imported and "rich" not in imported and "riskcards.cli.helpcache" in imported


def test_the_program_name_is_part_of_the_key(tmp_path):
    cache = tmp_path / "cache"
    script = riskcards(["query", "--help"], cache)
    module = riskcards(["query", "--help"], cache, start=(sys.executable, "-m", "riskcards"))
    assert "Usage: riskcards query" in script.stdout and "Usage: python -m riskcards query" in module.stdout
    assert len(entries(cache)) == 2
    assert riskcards(["query", "--help"], cache).stdout == script.stdout


def test_a_different_terminal_width_is_drawn_anew(tmp_path):
    cache = tmp_path / "cache"
    narrow = riskcards(["query", "--help"], cache, COLUMNS="70")
    wide = riskcards(["query", "--help"], cache, COLUMNS="140")
    assert len(entries(cache)) == 2
    assert max(map(len, narrow.stdout.splitlines())) == 70 and max(map(len, wide.stdout.splitlines())) == 140
    assert riskcards(["query", "--help"], cache, COLUMNS="70").stdout == narrow.stdout


def test_a_damaged_entry_is_drawn_again_and_replaced(tmp_path):
    cache = tmp_path / "cache"
    good = riskcards(["query", "--help"], cache).stdout
    (entry,) = entries(cache)
    entry.write_text(entry.read_text(encoding="utf-8")[:200], encoding="utf-8")  # cut short
    again = riskcards(["query", "--help"], cache)
    assert again.returncode == 0 and again.stdout == good
    assert entry.read_text(encoding="utf-8") == f"riskcards-help {len(good)}\n{good}"
    entry.write_bytes(b"\xff\xfe not text")
    assert riskcards(["query", "--help"], cache).stdout == good


def test_an_unwritable_cache_still_prints_the_help(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    res = riskcards(["query", "--help"], blocker)
    assert res.returncode == 0 and "Usage: riskcards query" in res.stdout and not res.stderr


def test_failed_help_and_other_commands_keep_nothing(tmp_path):
    cache = tmp_path / "cache"
    res = riskcards(["no-such-command", "--help"], cache)
    assert res.returncode == 2 and "No such command" in res.stderr
    assert riskcards(["--version"], cache).returncode == 0
    assert not entries(cache)


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        (["--help"], True),
        (["-h"], True),
        (["query", "--help"], True),
        (["assess", "run", "-h"], True),
        (["query", "--model", "x", "--help"], False),  # options before the help: typer decides
        (["query", "--help", "--model"], False),
        (["query"], False),
        ([], False),
        (["../x", "--help"], False),
    ],
)
def test_which_argument_lists_are_help(argv, wanted, monkeypatch):
    monkeypatch.delenv("RISKCARDS_HELP_CACHE", raising=False)
    assert helpcache.wants_help(argv) is wanted
    monkeypatch.setenv("RISKCARDS_HELP_CACHE", "0")
    assert helpcache.wants_help(argv) is False


def test_the_key_follows_the_sources_and_the_environment_but_not_the_folder(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n", encoding="utf-8")
    monkeypatch.setattr(helpcache, "_PACKAGE", str(pkg))
    monkeypatch.delenv("NO_COLOR", raising=False)
    keys = [helpcache.key(["query", "--help"])]
    monkeypatch.setenv("PWD", "/somewhere/else")
    monkeypatch.setenv("OLDPWD", "/and/before")
    assert helpcache.key(["query", "--help"]) == keys[0]  # changing folder keeps the entry
    assert helpcache.key(["show", "--help"]) != keys[0]
    (pkg / "a.py").write_text("x = 10\n", encoding="utf-8")  # an edit
    keys.append(helpcache.key(["query", "--help"]))
    (pkg / "sub").mkdir()
    (pkg / "sub" / "new_exporter.py").write_text("", encoding="utf-8")  # a new module
    keys.append(helpcache.key(["query", "--help"]))
    monkeypatch.setenv("NO_COLOR", "1")  # anything in the environment rich might read
    keys.append(helpcache.key(["query", "--help"]))
    assert len(set(keys)) == len(keys)


def test_stale_entries_do_not_pile_up(tmp_path, monkeypatch):
    folder = tmp_path / "help"
    folder.mkdir()
    for i in range(helpcache.KEEP):
        entry = folder / f"{i:064x}.txt"
        entry.write_text("riskcards-help 1\nx", encoding="utf-8")
        os.utime(entry, ns=(i * 10**9, i * 10**9))
    monkeypatch.setenv("RISKCARDS_CACHE", str(tmp_path))
    helpcache._store("f" * 64, "new help\n")  # one more than KEEP: the oldest go, the newest stay
    left = sorted(p.name for p in folder.glob("*.txt"))
    assert len(left) == helpcache.KEEP // 2 and "f" * 64 + ".txt" in left
    assert f"{helpcache.KEEP - 1:064x}.txt" in left and f"{0:064x}.txt" not in left
