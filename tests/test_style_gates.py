"""The style gates: `python3 make.py test` (the README's and CI's test command) runs ruff check, ruff format
--check and mypy before pytest, and stops on a failure. Run for real: make.py in a scratch copy of the repository's
configuration (sharing this checkout's .venv), with a file that breaks each gate."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_line_length_is_enforced():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert cfg["tool"]["ruff"]["line-length"] == 120
    assert "E501" not in cfg["tool"]["ruff"]["lint"].get("ignore", [])
    assert "E" in cfg["tool"]["ruff"]["lint"]["select"]


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory):
    """One mypy cache for every scratch run (the standard library and pydantic are analysed once)."""
    return tmp_path_factory.mktemp("mypy-cache")


@pytest.fixture
def scratch(tmp_path, mypy_cache, monkeypatch):
    monkeypatch.setenv("MYPY_CACHE_DIR", str(mypy_cache))
    if not (REPO / ".venv" / "bin" / "ruff").exists():
        pytest.skip("no .venv with the test extra (python3 make.py test sets it up)")
    stamp = REPO / ".venv" / ".installed[test,profanity]"
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        # make.py would reinstall, and an editable install from the scratch copy would break this .venv
        pytest.skip("the .venv was not set up by make.py from this pyproject.toml (run python3 make.py lint once)")
    for name in ("make.py", "pyproject.toml"):
        (tmp_path / name).write_bytes((REPO / name).read_bytes())
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    (tmp_path / "ok.py").write_text('"""Fine."""\n\nX = 1\n')
    (tmp_path / "riskcards").mkdir()  # what mypy checks ([tool.mypy] packages)
    (tmp_path / "riskcards" / "__init__.py").write_text('"""Fine."""\n\n\ndef f(x: int) -> int:\n    return x + 1\n')
    return tmp_path


def _make(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        [sys.executable, str(root / "make.py"), *args], cwd=root, capture_output=True, text=True, env=env
    )


def test_gates_pass_on_clean_code(scratch):
    r = _make(scratch, "lint")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "$ ruff check ." in r.stdout and "$ ruff format --check ." in r.stdout and "$ mypy" in r.stdout


def test_a_long_line_fails_the_gates_and_stops_the_tests(scratch):
    (scratch / "long.py").write_text(f'X = "{"x" * 130}"\n')
    (scratch / "tests").mkdir()
    (scratch / "tests" / "test_never.py").write_text("def test_never():\n    raise SystemExit(99)\n")
    r = _make(scratch, "test", "-p", "no:cacheprovider")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "E501" in r.stdout
    assert "style gates failed: ruff check ." in r.stderr
    assert "test_never" not in r.stdout  # pytest never ran


def test_unformatted_code_fails_the_format_gate(scratch):
    (scratch / "ugly.py").write_text("X = { 'a' :1 }\n")
    r = _make(scratch, "lint")
    assert r.returncode == 1
    assert "style gates failed: ruff format --check ." in r.stderr
    assert "ruff check ." not in r.stderr.split("failed:")[1].replace("ruff format --check .", "")


def test_a_type_error_fails_the_type_gate(scratch):
    (scratch / "riskcards" / "bad.py").write_text('"""Bad."""\n\nfrom . import f\n\nY: str = f(1)\n')
    r = _make(scratch, "lint")
    assert r.returncode == 1
    assert "style gates failed: mypy" in r.stderr
    assert 'riskcards/bad.py:5: error: Incompatible types in assignment (expression has type "int"' in r.stdout


def test_the_type_exceptions_are_listed_with_a_reason():
    """Every [[tool.mypy.overrides]] block names its modules and has a comment saying why (read from the file)."""
    text = (REPO / "pyproject.toml").read_text()
    blocks = text.split("[[tool.mypy.overrides]]")[1:]
    assert blocks
    for block in blocks:
        first = block.strip().splitlines()[0]
        assert first.startswith("#"), f"an override without a reason: {block.strip()[:80]!r}"
    cfg = tomllib.loads(text)["tool"]["mypy"]
    assert cfg["packages"] == ["riskcards"]
    assert not cfg.get("ignore_errors") and not cfg.get("ignore_missing_imports")
