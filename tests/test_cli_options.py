"""Issue 16, the command line as a new user meets it: --version, --root before the command, help without
Python type names, and `validate --changed PATH` honouring PATH."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from index_kb import make_index_kb, run
from test_lifecycle import CARD_PATH, make_repo, problems

from riskcards import __version__


def test_version():
    res = run("--version")
    assert res.returncode == 0 and res.stdout == f"riskcards {__version__}\n"
    res = subprocess.run([sys.executable, "-m", "riskcards", "--version"], capture_output=True, text=True, timeout=60)
    assert res.stdout == f"riskcards {__version__}\n"


@pytest.fixture(scope="module")
def kb(tmp_path_factory) -> Path:
    root = make_index_kb(tmp_path_factory.mktemp("opts") / "kb")
    assert run("index", root=root).returncode == 0
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["query", "--scenario", "customer-support-bot", "-f", "ids"],  # the fast path
        ["query", "--scenario", "customer-support-bot", "-f", "ids", "--via-crosswalk", "--status", "draft"],
        ["stats", "-f", "json"],  # typer
        ["taxonomy", "weidinger-2021", "-f", "ids"],
    ],
)
def test_root_before_the_command_name(kb, tmp_path, args):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    after = run(*args, "--root", str(kb), cwd=elsewhere)
    for before in (run("--root", str(kb), *args, cwd=elsewhere), run(f"--root={kb}", *args, cwd=elsewhere)):
        assert before.returncode == 0, before.stderr
        assert before.stdout == after.stdout and before.stdout


def _commands(command, prefix=()):
    if hasattr(command, "commands"):  # a group (typer vendors its own click)
        for name, sub in command.commands.items():
            yield from _commands(sub, (*prefix, name))
    else:
        yield list(prefix)


def test_help_names_no_python_types_and_nothing_after_flags():
    import typer.main
    from typer.testing import CliRunner

    from riskcards.cli import app

    commands = list(_commands(typer.main.get_command(app)))
    assert ["validate"] in commands and ["query"] in commands and len(commands) > 15
    for cmd in [[], *commands]:
        out = CliRunner().invoke(app, [*cmd, "--help"], terminal_width=160)
        assert out.exit_code == 0, (cmd, out.output)
        bad = re.findall(r"<(?:bool|str|int|path|Path|list\[[^\]]*\])>", out.output)
        assert not bad, (cmd, bad)
    help_text = CliRunner().invoke(app, ["validate", "--help"], terminal_width=160).output
    assert re.search(r"--changed\s+Check only", help_text)  # a flag: no type shown
    assert re.search(r"--base\s+TEXT\s", help_text) and re.search(r"--root\s+PATH\s", help_text)
    assert "PATH..." in help_text and "[text|json|github]" in help_text
    top = CliRunner().invoke(app, ["--help"], terminal_width=160).output
    assert "--version" in top and "--root" in top


def test_validate_changed_honours_paths(tmp_path):
    repo = make_repo(tmp_path / "kb")
    repo.edit(CARD_PATH, "severity: medium", "severity: high")  # a change that needs a version bump
    everything = repo.changed()
    assert everything.returncode == 1 and "its version is still 1.0.0" in everything.stdout
    only = repo.changed(CARD_PATH)
    assert only.returncode == 1, only.stdout
    assert problems(only) == problems(everything)
    assert "1 checked" in only.stdout
    # a path that the change does not touch: it is validated (clean), the other card's problem is not shown
    other = repo.root / "cards" / "second-card.yaml"
    other.write_text(repo.read(CARD_PATH).replace("id: invented-legal-citations", "id: second-card"))
    repo.git("add", "-A")
    repo.commit("second card")
    repo.edit(CARD_PATH, "severity: high", "severity: low")
    res = repo.changed("cards/second-card.yaml")
    assert "invented-legal-citations" not in res.stdout


# --------------------------------------------------------------------------------------------------
# Issue 12: the fast path's parser is the typer declarations' twin, and every read-only command is on it
# --------------------------------------------------------------------------------------------------


def test_fast_parser_knows_exactly_the_options_typer_declares():
    import typer.main
    from typer.core import TyperArgument

    from riskcards.cli import app
    from riskcards.cli import query as cq

    group = typer.main.get_command(app)
    for name in cq.FAST_COMMANDS:
        cmd = group.commands[name]
        values, flags, multi, positional = {}, {}, {}, 0
        for p in cmd.params:
            if isinstance(p, TyperArgument):
                positional += 1
            elif "--help" not in p.opts:
                for opt in p.opts:
                    (flags if p.is_flag else multi if p.multiple else values)[opt] = p.name
        assert cq._VALUE_OPTIONS[name] == values, name
        assert cq._FLAG_OPTIONS[name] == flags, name
        assert cq._MULTI_OPTIONS.get(name, {}) == multi, name
        assert positional == {"query": 0, "show": 1, "coverage": 0, **cq.LISTINGS}[name], name


LISTING_ARGS = [
    ["taxonomies"],
    ["taxonomy", "weidinger-2021"],
    ["models"],
    ["scenarios"],
    ["incidents"],
    ["crosswalk", "weidinger-2021", "llama-guard-3"],
    ["stats"],
    ["coverage"],
]


@pytest.mark.parametrize("args", LISTING_ARGS)
def test_listings_run_on_the_fast_path_and_answer_as_typer_does(kb, args, monkeypatch):
    import os

    from typer.testing import CliRunner

    from riskcards.cli import app

    code = (
        "import sys\n"
        f"sys.argv = ['riskcards', *{args!r}, '-f', 'json']\n"
        "from riskcards.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "heavy = sorted(m for m in ('typer', 'click', 'pydantic', 'rich', 'sqlite_utils', 'yaml')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    env = {**os.environ, "RISKCARDS_ROOT": str(kb)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=kb, timeout=60)
    assert res.returncode == 0, res.stderr
    out, heavy = res.stdout.rsplit("HEAVY ", 1)
    assert heavy.strip() == "[]"
    monkeypatch.setenv("RISKCARDS_ROOT", str(kb))
    typer_out = CliRunner().invoke(app, [*args, "-f", "json"])
    assert typer_out.exit_code == 0, typer_out.output
    import json

    drop = ("built_at",)
    a, b = json.loads(out), json.loads(typer_out.stdout)
    if isinstance(a, dict):
        a = {k: v for k, v in a.items() if k not in drop}
        b = {k: v for k, v in b.items() if k not in drop}
    assert a == b


def test_coverage_runs_on_the_fast_path_with_every_option(kb):
    cards = run("query", "-f", "ids", root=kb).stdout.split()[:2]
    args = ["coverage", "--card", cards[0], f"--card={cards[1]}", "-f", "json"]
    fast = run(*args, root=kb)
    assert fast.returncode == 0, fast.stderr
    got = json.loads(fast.stdout)
    assert {c["card"] for c in got["cells"]} == set(cards) and got["cells"]
    guard = got["cells"][0]["guard"]
    one = json.loads(run("coverage", "-g", guard, "-c", cards[0], "-f", "json", root=kb).stdout)
    assert {(c["card"], c["guard"]) for c in one["cells"]} == {(cards[0], guard)}
    text = run("coverage", "-c", cards[0], root=kb)  # piped: plain columns, no box
    assert text.returncode == 0 and text.stdout.startswith("Guard coverage per card\ncard  guard")
    assert "Totals per guard" in text.stdout and not re.search(r"[┏┃━│─╭╮╰╯┡┩└┘┌┐]", text.stdout)
    bad = run("coverage", "-c", "no-such-card", root=kb)
    assert bad.returncode == 2 and "unknown card 'no-such-card'" in bad.stderr
    odd = run("coverage", "-f", "csv", root=kb)  # not a coverage format: typer's usage error
    assert odd.returncode == 2 and "Traceback" not in odd.stderr


def test_fast_listings_refuse_what_typer_refuses(kb):
    bad = run("taxonomy", "nope-2021", root=kb)
    assert bad.returncode == 2 and "unknown taxonomy 'nope-2021'" in bad.stderr
    odd = run("stats", "-f", "text", root=kb)  # not a listing format: typer's usage error
    assert odd.returncode == 2 and "Traceback" not in odd.stderr
    missing = run("taxonomy", root=kb)
    assert missing.returncode == 2 and "Missing argument" in missing.stderr


def test_install_hints_are_commands_that_work_in_this_checkout():
    import shlex

    from riskcards.paths import install_hint

    repo = Path(__file__).resolve().parents[1]
    hint = shlex.split(install_hint("profanity"))
    assert hint == [sys.executable, "-m", "pip", "install", "-e", f"{repo}[profanity]"]
    for path in (repo / "riskcards").rglob("*.py"):  # no message names the package index's 'riskcards[...]'
        text = path.read_text(encoding="utf-8")
        assert "pip install 'riskcards[" not in text, path


def test_guard_list_draws_no_box_when_piped():
    repo = Path(__file__).resolve().parents[1]
    res = run("guard", "list", root=repo)
    assert res.returncode == 0, res.stderr
    assert not re.search(r"[┏┃━│─╭╮╰╯┡┩└┘┌┐]", res.stdout), res.stdout
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["guard", "adapter", "model"] and set(lines[1]) <= {"-", " "}
    assert any(ln.startswith("profanity-check ") for ln in lines)


def test_coverage_of_a_shortened_guard_id_gets_a_did_you_mean():
    repo = Path(__file__).resolve().parents[1]
    res = run("coverage", "--guard", "profanity", root=repo)
    assert res.returncode == 2 and "did you mean 'profanity-check'" in res.stderr, res.stderr


def test_the_coverage_format_choices_are_the_vocabularys():
    from riskcards.cli.guard import Fmt
    from riskcards.terms import COVERAGE_FORMATS

    assert tuple(f.value for f in Fmt) == COVERAGE_FORMATS
